//! `bit`: LuaBitOp 1.0.2 as redis-server 7.0.15 embeds it (bitwise operations on Lua 5.1
//! numbers).
//!
//! Every operation works on 32-bit integers and returns a signed 32-bit result as a Lua number:
//! `tobit tohex bnot band bor bxor lshift rshift arshift rol ror bswap`.
//!
//! Invariants, as in the C:
//! - An argument becomes 32 bits by adding 2^52 + 2^51 to the double and taking the low 32
//!   bits of its representation: rounding to the nearest integer with ties to even, then
//!   reducing modulo 2^32 (`tobit(2^32 + 5) == 5`, `tobit(2.5) == 2`, `tobit(1/0) == 0`).
//! - An argument that is neither a number nor a string convertible to one is an error
//!   `bad argument #n to 'f' (number expected, got <type>)`.
//! - Shift counts are taken modulo 32. `tohex(x, n)` prints the low `|n|` hex digits (at most
//!   8), upper case for negative `n`; `n` defaults to 8.

use mlua::{Lua, MultiValue, Value};

use super::libs::{self, Args};

/// A named operation on one 32-bit value, or on two.
type Unary = (&'static str, fn(u32) -> u32);
type Binary = (&'static str, fn(u32, u32) -> u32);

/// Registers the global `bit` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let bit = lua.create_table()?;
    let unary: [Unary; 3] = [
        ("tobit", |b| b),
        ("bnot", |b| !b),
        ("bswap", u32::swap_bytes),
    ];
    for (name, op) in unary {
        let f = lua.create_function(move |lua, args: MultiValue| {
            let args = Args::new(args);
            Ok(ret(op(barg(lua, &args, 1)?)))
        })?;
        bit.raw_set(name, f)?;
    }
    let folds: [Binary; 3] = [
        ("band", |a, b| a & b),
        ("bor", |a, b| a | b),
        ("bxor", |a, b| a ^ b),
    ];
    for (name, op) in folds {
        let f = lua.create_function(move |lua, args: MultiValue| {
            let args = Args::new(args);
            let mut b = barg(lua, &args, 1)?;
            // The C folds from the last argument down to the second.
            for i in (2..=args.len()).rev() {
                b = op(b, barg(lua, &args, i)?);
            }
            Ok(ret(b))
        })?;
        bit.raw_set(name, f)?;
    }
    let shifts: [Binary; 5] = [
        ("lshift", |b, n| b << n),
        ("rshift", |b, n| b >> n),
        ("arshift", |b, n| ((b as i32) >> n) as u32),
        ("rol", u32::rotate_left),
        ("ror", u32::rotate_right),
    ];
    for (name, op) in shifts {
        let f = lua.create_function(move |lua, args: MultiValue| {
            let args = Args::new(args);
            let b = barg(lua, &args, 1)?;
            let n = barg(lua, &args, 2)? & 31;
            Ok(ret(op(b, n)))
        })?;
        bit.raw_set(name, f)?;
    }
    let tohex = lua.create_function(|lua, args: MultiValue| {
        let args = Args::new(args);
        let mut b = barg(lua, &args, 1)?;
        let n = if args.get(2).is_none() {
            8
        } else {
            barg(lua, &args, 2)? as i32
        };
        let (digits, n) = if n < 0 {
            // The C negates n in an int; for INT_MIN the build redis-server 7.0.15 ships
            // prints 8 upper-case digits (observed), which is what INT_MIN + 1 gives.
            (b"0123456789ABCDEF", n.checked_neg().unwrap_or(i32::MAX))
        } else {
            (b"0123456789abcdef", n)
        };
        let n = n.min(8) as usize;
        let mut buf = [0u8; 8];
        for slot in buf[..n].iter_mut().rev() {
            *slot = digits[(b & 15) as usize];
            b >>= 4;
        }
        lua.create_string(&buf[..n])
    })?;
    bit.raw_set("tohex", tohex)?;
    lua.globals().raw_set("bit", bit)
}

/// `barg`: argument `idx` reduced to 32 bits (see the module doc).
fn barg(lua: &Lua, args: &Args, idx: usize) -> mlua::Result<u32> {
    let n = libs::to_number(lua, args.get(idx))
        .ok_or_else(|| libs::type_error(lua, idx, "number", args.get(idx)))?;
    Ok(tobit(n))
}

/// The low 32 bits of `n + 2^52 + 2^51`: `n` rounded (ties to even) modulo 2^32.
fn tobit(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

/// `BRET`: the result as a signed 32-bit number.
fn ret(b: u32) -> Value {
    Value::Number(f64::from(b as i32))
}

#[cfg(test)]
mod tests {
    //! Expected values are facts observed on redis-server 7.0.15 (`EVAL` of the same one-line
    //! snippets, error replies reduced to their message). See `libs::testing` for the prelude.

    use super::super::libs::testing::check;

    #[test]
    fn observed_on_redis() {
        check(CASES);
    }

    const CASES: &[(&str, Result<&str, &str>)] = &[
        // GENERATED: bit
        ("return all(bit.tobit(0), bit.tobit(1), bit.tobit(-1), bit.tobit(2^31), bit.tobit(2^32), bit.tobit(2^32+5), bit.tobit(0xffffffff))", Ok("{[1]=0,[2]=1,[3]=-1,[4]=-2147483648,[5]=0,[6]=5,[7]=-1,[\"n\"]=7}")),
        ("return all(bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(0.5), bit.tobit(-0.5), bit.tobit(3.49999), bit.tobit(-2.5))", Ok("{[1]=2,[2]=2,[3]=-2,[4]=0,[5]=0,[6]=3,[7]=-2,[\"n\"]=7}")),
        ("return all(bit.tobit(1e20), bit.tobit(-1e20), bit.tobit(2^52), bit.tobit(2^53+2), bit.tobit(1e300), bit.tobit(2^51+0.25))", Ok("{[1]=2025163840,[2]=2025163840,[3]=0,[4]=1,[5]=-2013235812,[6]=0,[\"n\"]=6}")),
        ("return all(bit.tobit(0/0), bit.tobit(1/0), bit.tobit(-1/0), bit.tobit(-0))", Ok("{[1]=0,[2]=0,[3]=0,[4]=0,[\"n\"]=4}")),
        ("return all(bit.tobit('10'), bit.tobit('0x10'), bit.tobit(' 12 '), bit.tobit('1e3'))", Ok("{[1]=10,[2]=16,[3]=12,[4]=1000,[\"n\"]=4}")),
        ("return all(bit.tobit('abc'))", Err("user_script:1: bad argument #1 to 'tobit' (number expected, got string)")),
        ("return all(bit.tobit())", Err("user_script:1: bad argument #1 to 'tobit' (number expected, got no value)")),
        ("return all(bit.tobit(nil))", Err("user_script:1: bad argument #1 to 'tobit' (number expected, got nil)")),
        ("return all(bit.tobit({}))", Err("user_script:1: bad argument #1 to 'tobit' (number expected, got table)")),
        ("return all(bit.tobit(true))", Err("user_script:1: bad argument #1 to 'tobit' (number expected, got boolean)")),
        ("return all(bit.tobit('0'))", Ok("{[1]=0,[\"n\"]=1}")),
        ("return all(bit.bnot(0), bit.bnot(-1), bit.bnot(0x12345678), bit.bnot(2^31))", Ok("{[1]=-1,[2]=0,[3]=-305419897,[4]=2147483647,[\"n\"]=4}")),
        ("return all(bit.band(0xff, 0x0f), bit.band(-1, 0xffff, 0xff0), bit.band(7), bit.bor(1, 2, 4, 8), bit.bor(-1), bit.bxor(0xff, 0x0f, 1), bit.bxor(5))", Ok("{[1]=15,[2]=4080,[3]=7,[4]=15,[5]=-1,[6]=241,[7]=5,[\"n\"]=7}")),
        ("return all(bit.band())", Err("user_script:1: bad argument #1 to 'band' (number expected, got no value)")),
        ("return all(bit.bor(1, 'x'))", Err("user_script:1: bad argument #2 to 'bor' (number expected, got string)")),
        ("return all(bit.bxor(1, 2, nil))", Err("user_script:1: bad argument #3 to 'bxor' (number expected, got nil)")),
        ("return all(bit.band(1, 2, {}))", Err("user_script:1: bad argument #3 to 'band' (number expected, got table)")),
        ("return all(bit.lshift(1, 0), bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.lshift(1, -1), bit.lshift(0xff, 28))", Ok("{[1]=1,[2]=-2147483648,[3]=1,[4]=2,[5]=-2147483648,[6]=-268435456,[\"n\"]=6}")),
        ("return all(bit.rshift(-256, 4), bit.rshift(1, 32), bit.rshift(0x80000000, 31), bit.rshift(-1, 0))", Ok("{[1]=268435440,[2]=1,[3]=1,[4]=-1,[\"n\"]=4}")),
        ("return all(bit.arshift(-256, 4), bit.arshift(0x80000000, 31), bit.arshift(256, 4), bit.arshift(-1, 31), bit.arshift(-1, 32))", Ok("{[1]=-16,[2]=-1,[3]=16,[4]=-1,[5]=-1,[\"n\"]=5}")),
        ("return all(bit.rol(0x12345678, 12), bit.rol(0x12345678, 0), bit.rol(0x12345678, 32), bit.rol(0x12345678, -4), bit.rol(1, 31))", Ok("{[1]=1164411171,[2]=305419896,[3]=305419896,[4]=-2128394905,[5]=-2147483648,[\"n\"]=5}")),
        ("return all(bit.ror(0x12345678, 12), bit.ror(0x12345678, 0), bit.ror(0x12345678, 36), bit.ror(1, 1))", Ok("{[1]=1736516421,[2]=305419896,[3]=-2128394905,[4]=-2147483648,[\"n\"]=4}")),
        ("return all(bit.bswap(0x12345678), bit.bswap(0x78563412), bit.bswap(-1), bit.bswap(0xff))", Ok("{[1]=2018915346,[2]=305419896,[3]=-1,[4]=-16777216,[\"n\"]=4}")),
        ("return all(bit.lshift(1))", Err("user_script:1: bad argument #2 to 'lshift' (number expected, got no value)")),
        ("return all(bit.lshift())", Err("user_script:1: bad argument #1 to 'lshift' (number expected, got no value)")),
        ("return all(bit.tohex(1), bit.tohex(-1), bit.tohex(0x12345678), bit.tohex(0xabcdef, 4), bit.tohex(0xabcdef, -4), bit.tohex(-1, -4))", Ok("{[1]=\"00000001\",[2]=\"ffffffff\",[3]=\"12345678\",[4]=\"cdef\",[5]=\"CDEF\",[6]=\"FFFF\",[\"n\"]=6}")),
        ("return all(bit.tohex(0x12345678, 0), bit.tohex(0x12345678, 1), bit.tohex(0x12345678, 8), bit.tohex(0x12345678, 9), bit.tohex(0x12345678, 100), bit.tohex(0x12345678, -100))", Ok("{[1]=\"\",[2]=\"8\",[3]=\"12345678\",[4]=\"12345678\",[5]=\"12345678\",[6]=\"12345678\",[\"n\"]=6}")),
        ("return all(bit.tohex(0x12345678, -8), bit.tohex(0x12345678, -9), bit.tohex(0x12345678, 2^32+3), bit.tohex(0x12345678, 2.5))", Ok("{[1]=\"12345678\",[2]=\"12345678\",[3]=\"678\",[4]=\"78\",[\"n\"]=4}")),
        ("return all(bit.tohex(255, nil))", Err("user_script:1: bad argument #2 to 'tohex' (number expected, got nil)")),
        ("return all(bit.tohex(255, 'x'))", Err("user_script:1: bad argument #2 to 'tohex' (number expected, got string)")),
        ("return all(bit.tohex())", Err("user_script:1: bad argument #1 to 'tohex' (number expected, got no value)")),
        ("return all(bit.tohex('ff'))", Err("user_script:1: bad argument #1 to 'tohex' (number expected, got string)")),
        ("return all(bit.tohex(-2147483647, -2147483647), bit.tohex(1, 2147483647))", Ok("{[1]=\"80000001\",[2]=\"00000001\",[\"n\"]=2}")),
        ("return all(bit.band(2^32 + 1, 3), bit.bor(1.7, 0), bit.bxor(-0.6, 0))", Ok("{[1]=1,[2]=2,[3]=-1,[\"n\"]=3}")),
        ("return all(bit.tobit(4294967295.5), bit.tobit(-4294967296.5), bit.tobit(2147483647.5))", Ok("{[1]=0,[2]=0,[3]=-2147483648,[\"n\"]=3}")),
        ("return all(pcall(bit.tobit, 'x'))", Ok("{[1]=false,[2]=\"bad argument #1 to '?' (number expected, got string)\",[\"n\"]=2}")),
        ("return all(bit.lshift(2, 'x'))", Err("user_script:1: bad argument #2 to 'lshift' (number expected, got string)")),
        ("return all(bit.rol('3', '1'))", Ok("{[1]=6,[\"n\"]=1}")),
        ("return all(bit.tobit(1, 2, 3))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(bit.tohex(1, 2, 3))", Ok("{[1]=\"01\",[\"n\"]=1}")),
        ("return all(bit.bnot('x'))", Err("user_script:1: bad argument #1 to 'bnot' (number expected, got string)")),
        ("return all(bit.bswap())", Err("user_script:1: bad argument #1 to 'bswap' (number expected, got no value)")),
        ("return all(bit.arshift(1))", Err("user_script:1: bad argument #2 to 'arshift' (number expected, got no value)")),
        ("return all(bit.tobit(-2^31), bit.tobit(-2^31-1), bit.tobit(-2^32), bit.tobit(2^31-1))", Ok("{[1]=-2147483648,[2]=2147483647,[3]=0,[4]=2147483647,[\"n\"]=4}")),
        ("return all(bit.tobit(9007199254740991), bit.tobit(-9007199254740991), bit.tobit(2^60+2^40+7*2^10))", Ok("{[1]=0,[2]=-4,[3]=28,[\"n\"]=3}")),
        ("return all(bit.bor(bit.lshift(0x7f, 24), 0), bit.rshift(bit.lshift(0x7f, 24), 24))", Ok("{[1]=2130706432,[2]=127,[\"n\"]=2}")),
        ("return all(bit.band(0, 'abc'))", Err("user_script:1: bad argument #2 to 'band' (number expected, got string)")),
        ("return all(bit.tohex(1, -2147483648), bit.tohex(0xabcdef, -2147483648), bit.tohex(0xabcdef, 2147483648))", Ok("{[1]=\"00000001\",[2]=\"00ABCDEF\",[3]=\"00ABCDEF\",[\"n\"]=3}")),
        ("return all(bit.band(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), bit.bor(1, 2, 4, 8, 16, 32, 64, 128, 256), bit.bxor(-1, 1, 2, 4))", Ok("{[1]=0,[2]=511,[3]=-8,[\"n\"]=3}")),
        ("return all(bit.tohex(0x7fffffff, 7), bit.tohex(-1, 3.7), bit.tohex(-1, -3.7), bit.tohex(2^32 - 1))", Ok("{[1]=\"fffffff\",[2]=\"ffff\",[3]=\"FFFF\",[4]=\"ffffffff\",[\"n\"]=4}")),
        ("local c = bit local ok, e = pcall(function() return c:tobit() end) return e", Ok("user_script:1: calling 'tobit' on bad self (number expected, got table)")),
        ("local c = bit local ok, e = pcall(function() return c.lshift(1, {}) end) return e", Ok("user_script:1: bad argument #2 to 'lshift' (number expected, got table)")),
        ("local lshift = bit.lshift local ok, e = pcall(function() return lshift(1, {}) end) return e", Ok("user_script:1: bad argument #2 to 'lshift' (number expected, got table)")),
        ("local t = {f = bit.bnot} local ok, e = pcall(function() return t:f() end) return e", Ok("user_script:1: calling 'f' on bad self (number expected, got table)")),
        ("local t = {f = bit.lshift} local ok, e = pcall(function() return t:f() end) return e", Ok("user_script:1: calling 'f' on bad self (number expected, got table)")),
    ];
}
