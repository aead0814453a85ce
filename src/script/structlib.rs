//! `struct`: Roberto Ierusalimschy's struct library 0.2 (struct.c 1.4) as redis-server 7.0.15
//! embeds it, with Redis's bound fixes: `struct.pack`, `struct.unpack`, `struct.size`.
//!
//! Format options (the format is a C string: it ends at its first NUL byte):
//!
//! | option | meaning |
//! | --- | --- |
//! | `>` `<` | big / little endian (default: the machine's, little on x86-64) |
//! | `!n` | maximum alignment `n` (default 8); `n` must be a power of 2 |
//! | `x` | one byte of padding |
//! | `b B` `h H` `l L` | signed / unsigned 1, 2, 8-byte integers; `T` is `size_t` (8) |
//! | `in In` | signed / unsigned integer of `n` bytes (default 4), `n` at most 32 |
//! | `cn` | `n` bytes of a string (default 1); `c0` packs the whole string, and unpacks as many bytes as the previous result says (that result is then dropped) |
//! | `s` | a zero-terminated string |
//! | `f d` | float, double |
//! | ` ` | ignored |
//!
//! Invariants, as in the C (each one observed on Redis, see the tests):
//! - A number in a format is parsed as an `int`; past `INT_MAX` it is the error "integral size
//!   overflow" (Redis's fix), so sizes and alignments are bounded.
//! - Integers are converted through a 64-bit `unsigned long` with x86-64 cast semantics, so
//!   only the low 8 bytes of a wider integer carry value, and values beyond the 64-bit range
//!   pack as `0x8000000000000000` (negative) or 0 (positive).
//! - `unpack` checks every read against the data length (`data string too short`), its
//!   offset must be at least 1, and like the C it fails with `stack overflow (too many
//!   results)` when its arguments plus results would pass Lua's 8000-slot C stack.
//! - Output size is bounded by the format length and the strings passed in: nothing allocates
//!   by a count read from a format or from data.

use mlua::{Lua, MultiValue, Value};

use super::libs::{self, Args, MAX_C_STACK};

/// The largest integer option (`i32`), Redis's `MAXINTSIZE`.
const MAX_INT_SIZE: usize = 32;
/// Default alignment of `!`: `max(offsetof(struct {char; double}, d), sizeof(int))` on x86-64.
const MAX_ALIGN: usize = 8;

/// Registers the global `struct` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(pack)?)?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args| {
            libs::stack_error_as(unpack(lua, args), || {
                libs::error(lua, "stack overflow (too many results)")
            })
        })?,
    )?;
    t.raw_set("size", lua.create_function(size)?)?;
    lua.globals().raw_set("struct", t)
}

/// Endianness and maximum alignment, changed by `<`, `>` and `!` as the format goes.
struct Header {
    big: bool,
    align: usize,
}

impl Header {
    fn new() -> Self {
        Header {
            big: false,
            align: 1,
        }
    }
}

/// A cursor over the format (already cut at its first NUL).
struct Format<'a> {
    fmt: &'a [u8],
    at: usize,
}

impl Format<'_> {
    fn next_opt(&mut self) -> Option<u8> {
        let opt = *self.fmt.get(self.at)?;
        self.at += 1;
        Some(opt)
    }

    /// `getnum`: the decimal number at the cursor, or `df` when there is none; an `int` that
    /// would overflow is an error, checked digit by digit as Redis does.
    fn num(&mut self, lua: &Lua, df: usize) -> mlua::Result<usize> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(df);
        }
        let mut a: i32 = 0;
        while let Some(&c) = self.fmt.get(self.at).filter(|c| c.is_ascii_digit()) {
            let digit = i32::from(c - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - digit {
                return Err(libs::error(lua, "integral size overflow"));
            }
            a = a * 10 + digit;
            self.at += 1;
        }
        Ok(a as usize)
    }
}

/// `optsize`: how many bytes option `opt` takes (0 for those that take none or whose size is
/// not known from the format).
fn optsize(lua: &Lua, opt: u8, fmt: &mut Format<'_>) -> mlua::Result<usize> {
    Ok(match opt {
        b'B' | b'b' | b'x' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'c' => fmt.num(lua, 1)?,
        b'i' | b'I' => {
            let size = fmt.num(lua, 4)?;
            if size > MAX_INT_SIZE {
                return Err(libs::error(
                    lua,
                    format!("integral size {size} is larger than limit of {MAX_INT_SIZE}"),
                ));
            }
            size
        }
        _ => 0,
    })
}

/// `gettoalign`: padding before an item of `size` bytes at offset `len`. Like the C, this is
/// only meaningful for power-of-2 sizes; other sizes (e.g. `i3`) get the C's arithmetic.
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    size.wrapping_sub(len & (size - 1)) & (size - 1)
}

/// `controloptions`: ` `, `<`, `>`, `!n`; anything else is an invalid option.
fn controloptions(lua: &Lua, opt: u8, fmt: &mut Format<'_>, h: &mut Header) -> mlua::Result<()> {
    match opt {
        b' ' => {}
        b'>' => h.big = true,
        b'<' => h.big = false,
        b'!' => {
            let a = fmt.num(lua, MAX_ALIGN)?;
            if !a.is_power_of_two() {
                return Err(libs::error(
                    lua,
                    format!("alignment {a} is not a power of 2"),
                ));
            }
            h.align = a;
        }
        _ => {
            // The C prints the byte with %c; a byte above 0x7f shows as its Latin-1 character.
            let msg = format!("invalid format option '{}'", char::from(opt));
            return Err(libs::arg_error(lua, 1, msg));
        }
    }
    Ok(())
}

/// The format argument (`luaL_checkstring(L, 1)`), cut at its first NUL.
fn format_arg(lua: &Lua, args: &Args) -> mlua::Result<Vec<u8>> {
    let fmt = libs::check_bytes(lua, args, 1)?;
    Ok(libs::c_str(&fmt).to_vec())
}

/// `struct.pack(fmt, ...)`.
fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::LuaString> {
    let args = Args::new(args);
    let fmt_bytes = format_arg(lua, &args)?;
    let mut fmt = Format {
        fmt: &fmt_bytes,
        at: 0,
    };
    let mut h = Header::new();
    // The C pushes a nil right after the arguments, so the first missing value reads as nil.
    let nil = Value::Nil;
    let value = |i: usize| Some(args.get(i).unwrap_or(&nil));
    let mut arg = 2;
    let mut out = Vec::new();
    while let Some(opt) = fmt.next_opt() {
        let size = optsize(lua, opt, &mut fmt)?;
        let pad = gettoalign(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = libs::to_number(lua, value(arg))
                    .ok_or_else(|| libs::type_error(lua, arg, "number", value(arg)))?;
                arg += 1;
                put_integer(&mut out, n, h.big, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let n = libs::to_number(lua, value(arg))
                    .ok_or_else(|| libs::type_error(lua, arg, "number", value(arg)))?;
                arg += 1;
                let f = n as f32;
                out.extend_from_slice(&if h.big {
                    f.to_be_bytes()
                } else {
                    f.to_le_bytes()
                });
            }
            b'd' => {
                let n = libs::to_number(lua, value(arg))
                    .ok_or_else(|| libs::type_error(lua, arg, "number", value(arg)))?;
                arg += 1;
                out.extend_from_slice(&if h.big {
                    n.to_be_bytes()
                } else {
                    n.to_le_bytes()
                });
            }
            b'c' | b's' => {
                let s = libs::to_bytes(lua, value(arg))
                    .ok_or_else(|| libs::type_error(lua, arg, "string", value(arg)))?;
                arg += 1;
                let size = if size == 0 { s.len() } else { size };
                if s.len() < size {
                    // The C reports the argument after the string (its counter has moved on).
                    return Err(libs::arg_error(lua, arg as i64, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => controloptions(lua, opt, &mut fmt, &mut h)?,
        }
    }
    lua.create_string(&out)
}

/// `putinteger`: `n` as an `unsigned long` (x86-64 casts), `size` bytes in the given order.
/// Past 8 bytes the value has been shifted out and the bytes are zero.
fn put_integer(out: &mut Vec<u8>, n: f64, big: bool, size: usize) {
    let mut value = if n < 0.0 {
        libs::c_f64_to_i64(n) as u64
    } else {
        libs::c_f64_to_u64(n)
    };
    let mut bytes = [0u8; MAX_INT_SIZE];
    for b in bytes[..size].iter_mut() {
        *b = (value & 0xff) as u8;
        value >>= 8;
    }
    let bytes = &mut bytes[..size];
    if big {
        bytes.reverse();
    }
    out.extend_from_slice(bytes);
}

/// `getinteger`: `size` bytes as an integer. Only the 8 bytes read last fit the 64-bit
/// accumulator; the sign mask is shifted by `size * 8 - 1` modulo 64, as x86-64's `shl`
/// computes the C's out-of-range shift.
fn get_integer(bytes: &[u8], big: bool, signed: bool) -> f64 {
    let mut l: u64 = 0;
    if big {
        for &b in bytes {
            l = (l << 8) | u64::from(b);
        }
    } else {
        for &b in bytes.iter().rev() {
            l = (l << 8) | u64::from(b);
        }
    }
    if !signed {
        return l as f64;
    }
    let shift = (bytes.len() as u32).wrapping_mul(8).wrapping_sub(1);
    let mask = u64::MAX.wrapping_shl(shift);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

/// `struct.unpack(fmt, data [, pos])`: the values, then the position after them.
fn unpack(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let args = Args::new(args);
    let fmt_bytes = format_arg(lua, &args)?;
    let data = libs::check_bytes(lua, &args, 2)?;
    let ld = data.len();
    // `size_t pos = luaL_optinteger(L, 3, 1)`: negative offsets wrap to huge ones.
    let mut pos = libs::opt_integer(lua, &args, 3, 1)? as u64 as usize;
    if pos == 0 {
        return Err(libs::arg_error(lua, 3, "offset must be 1 or greater"));
    }
    pos -= 1;
    let mut fmt = Format {
        fmt: &fmt_bytes,
        at: 0,
    };
    let mut h = Header::new();
    let mut results: Vec<Value> = Vec::new();
    let too_short = |lua: &Lua| libs::arg_error(lua, 2, "data string too short");
    while let Some(opt) = fmt.next_opt() {
        let mut size = optsize(lua, opt, &mut fmt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if size > ld || pos > ld - size {
            return Err(too_short(lua));
        }
        // `luaL_checkstack(L, 2, "too many results")` on a frame of args + results.
        if args.len() + results.len() + 2 > MAX_C_STACK {
            return Err(libs::error(lua, "stack overflow (too many results)"));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = get_integer(&data[pos..pos + size], h.big, opt.is_ascii_lowercase());
                results.push(Value::Number(v));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let f = if h.big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                };
                results.push(Value::Number(f64::from(f)));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let d = if h.big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                };
                results.push(Value::Number(d));
            }
            b'c' => {
                if size == 0 {
                    let previous = results.last().and_then(|v| libs::to_number(lua, Some(v)));
                    let Some(n) = previous else {
                        return Err(libs::error(lua, "format 'c0' needs a previous size"));
                    };
                    results.pop();
                    size = libs::c_f64_to_u64(n) as usize;
                    if size > ld || pos > ld - size {
                        return Err(too_short(lua));
                    }
                }
                results.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(len) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(libs::error(lua, "unfinished string in data"));
                };
                results.push(Value::String(lua.create_string(&data[pos..pos + len])?));
                size = len + 1;
            }
            _ => controloptions(lua, opt, &mut fmt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    // `lua_pushinteger(L, pos + 1)` of a size_t.
    results.push(Value::Number(pos.wrapping_add(1) as i64 as f64));
    libs::check_results(lua, args.len(), results.len(), "too many results")?;
    Ok(MultiValue::from_vec(results))
}

/// `struct.size(fmt)`: the packed size of a format without variable-size options.
fn size(lua: &Lua, args: MultiValue) -> mlua::Result<f64> {
    let args = Args::new(args);
    let fmt_bytes = format_arg(lua, &args)?;
    let mut fmt = Format {
        fmt: &fmt_bytes,
        at: 0,
    };
    let mut h = Header::new();
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next_opt() {
        let size = optsize(lua, opt, &mut fmt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            return Err(libs::arg_error(lua, 1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(libs::arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        // Letters and digits are not validated here (`struct.size('z')` is 0), as in the C.
        if !opt.is_ascii_alphanumeric() {
            controloptions(lua, opt, &mut fmt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(pos as i64 as f64)
}

#[cfg(test)]
mod tests {
    //! Expected values are facts observed on redis-server 7.0.15 (`EVAL` of the same one-line
    //! snippets, error replies reduced to their message). See `libs::testing` for the prelude.

    use super::super::libs::testing::{check, run};

    #[test]
    fn observed_on_redis() {
        check(CASES);
    }

    #[test]
    fn huge_sizes_fail_without_allocating() {
        // A format may ask for 2^31 - 1 bytes; the data length check comes first.
        assert_eq!(
            run("return struct.unpack(string.rep('c2147483647', 100), 'x')"),
            Err("user_script:1: bad argument #2 to 'unpack' (data string too short)".into())
        );
        assert_eq!(
            run("return struct.pack(string.rep('c2147483647', 100), 'x')"),
            Err("user_script:1: bad argument #3 to 'pack' (string too short)".into())
        );
    }

    const CASES: &[(&str, Result<&str, &str>)] = &[
        // GENERATED: struct
        ("return hex(struct.pack('>iH', 1, 2))", Ok("000000010002")),
        ("return hex(struct.pack('<iH', 1, 2))", Ok("010000000200")),
        ("return hex(struct.pack('bBhHlLT', -1, 255, -2, 65535, -3, 4, 5))", Ok("fffffefffffffdffffffffffffff04000000000000000500000000000000")),
        ("return hex(struct.pack('>bBhHlLT', -1, 255, -2, 65535, -3, 4, 5))", Ok("fffffffefffffffffffffffffffd00000000000000040000000000000005")),
        ("return hex(struct.pack('i1i2i3i4i5i6i7i8', 1, 2, 3, 4, 5, 6, 7, 8))", Ok("010200030000040000000500000000060000000000070000000000000800000000000000")),
        ("return hex(struct.pack('>i16', -1))", Ok("0000000000000000ffffffffffffffff")),
        ("return hex(struct.pack('<I16', 2^70))", Ok("00000000000000000000000000000000")),
        ("return hex(struct.pack('>i32', 1))", Ok("0000000000000000000000000000000000000000000000000000000000000001")),
        ("return hex(struct.pack('i33', 1))", Err("user_script:1: integral size 33 is larger than limit of 32")),
        ("return hex(struct.pack('i0', 1))", Ok("")),
        ("return hex(struct.pack('>I3', 0x123456))", Ok("123456")),
        ("return hex(struct.pack('>i3', -2))", Ok("fffffe")),
        ("return hex(struct.pack('b', 300))", Ok("2c")),
        ("return hex(struct.pack('B', -1))", Ok("ff")),
        ("return hex(struct.pack('>L', 2^63))", Ok("8000000000000000")),
        ("return hex(struct.pack('>L', 2^64))", Ok("0000000000000000")),
        ("return hex(struct.pack('>l', -2^63))", Ok("8000000000000000")),
        ("return hex(struct.pack('>l', 1e30))", Ok("0000000000000000")),
        ("return hex(struct.pack('>l', -1e30))", Ok("8000000000000000")),
        ("return hex(struct.pack('>l', 0/0))", Ok("8000000000000000")),
        ("return hex(struct.pack('>L', 1/0))", Ok("0000000000000000")),
        ("return hex(struct.pack('>l', -1/0))", Ok("8000000000000000")),
        ("return hex(struct.pack('>L', 2.7))", Ok("0000000000000002")),
        ("return hex(struct.pack('>l', -2.7))", Ok("fffffffffffffffe")),
        ("return hex(struct.pack('>L', 2^63 + 2^11))", Ok("8000000000000800")),
        ("return hex(struct.pack('>f', 1.5))", Ok("3fc00000")),
        ("return hex(struct.pack('<f', 1.5))", Ok("0000c03f")),
        ("return hex(struct.pack('>d', 1.5))", Ok("3ff8000000000000")),
        ("return hex(struct.pack('<d', -0.1))", Ok("9a9999999999b9bf")),
        ("return hex(struct.pack('>f', 1e300))", Ok("7f800000")),
        ("return hex(struct.pack('>f', 0.1))", Ok("3dcccccd")),
        ("return hex(struct.pack('c', 'abc'))", Ok("61")),
        ("return hex(struct.pack('c0', 'abc'))", Ok("616263")),
        ("return hex(struct.pack('c2', 'abc'))", Ok("6162")),
        ("return hex(struct.pack('c5', 'abc'))", Err("user_script:1: bad argument #3 to 'pack' (string too short)")),
        ("return hex(struct.pack('s', 'abc'))", Ok("61626300")),
        ("return hex(struct.pack('s', 'a\\0b'))", Ok("61006200")),
        ("return hex(struct.pack('c3', 123))", Ok("313233")),
        ("return hex(struct.pack('x'))", Ok("00")),
        ("return hex(struct.pack('xxbx', 1))", Ok("00000100")),
        ("return hex(struct.pack(' > i < i', 1, 1))", Ok("0000000101000000")),
        ("return hex(struct.pack('!4bi', 1, 2))", Ok("0100000002000000")),
        ("return hex(struct.pack('!bi', 1, 2))", Ok("0100000002000000")),
        ("return hex(struct.pack('!2bi', 1, 2))", Ok("010002000000")),
        ("return hex(struct.pack('!8bd', 1, 2))", Ok("01000000000000000000000000000040")),
        ("return hex(struct.pack('!bd', 1, 2))", Ok("01000000000000000000000000000040")),
        ("return hex(struct.pack('!16bi8', 1, 2))", Ok("01000000000000000200000000000000")),
        ("return hex(struct.pack('!bi3', 1, 2))", Ok("010000020000")),
        ("return hex(struct.pack('!4bi3', 1, 2))", Ok("010000020000")),
        ("return hex(struct.pack('!8bi6', 1, 2))", Ok("010000000000020000000000")),
        ("return hex(struct.pack('!8bc3i', 1, 'abc', 5))", Ok("0161626305000000")),
        ("return hex(struct.pack('!8bsi', 1, 'ab', 5))", Ok("0161620005000000")),
        ("return hex(struct.pack('!3bi', 1, 2))", Err("user_script:1: alignment 3 is not a power of 2")),
        ("return hex(struct.pack('!0bi', 1, 2))", Err("user_script:1: alignment 0 is not a power of 2")),
        ("return hex(struct.pack('z', 1))", Err("user_script:1: bad argument #1 to 'pack' (invalid format option 'z')")),
        ("return hex(struct.pack('i', 'x'))", Err("user_script:1: bad argument #2 to 'pack' (number expected, got string)")),
        ("return hex(struct.pack('i'))", Err("user_script:1: bad argument #2 to 'pack' (number expected, got nil)")),
        ("return hex(struct.pack('c'))", Err("user_script:1: bad argument #2 to 'pack' (string expected, got nil)")),
        ("return hex(struct.pack('c', 1, 2))", Ok("31")),
        ("return hex(struct.pack('c4', 'ab'))", Err("user_script:1: bad argument #3 to 'pack' (string too short)")),
        ("return hex(struct.pack('s', {}))", Err("user_script:1: bad argument #2 to 'pack' (string expected, got table)")),
        ("return hex(struct.pack())", Err("user_script:1: bad argument #1 to 'pack' (string expected, got no value)")),
        ("return hex(struct.pack({}))", Err("user_script:1: bad argument #1 to 'pack' (string expected, got table)")),
        ("return hex(struct.pack(12, 1))", Err("user_script:1: bad argument #1 to 'pack' (invalid format option '1')")),
        ("return hex(struct.pack('', 1))", Ok("")),
        ("return hex(struct.pack('i99999999999', 1))", Err("user_script:1: integral size overflow")),
        ("return hex(struct.pack('i2147483647', 1))", Err("user_script:1: integral size 2147483647 is larger than limit of 32")),
        ("return hex(struct.pack('i2147483648', 1))", Err("user_script:1: integral size overflow")),
        ("return hex(struct.pack('!99999999999i', 1))", Err("user_script:1: integral size overflow")),
        ("return hex(struct.pack('c99999999999', 'x'))", Err("user_script:1: integral size overflow")),
        ("return hex(struct.pack('c2147483647', 'x'))", Err("user_script:1: bad argument #3 to 'pack' (string too short)")),
        ("return hex(struct.pack('c2147483648', 'x'))", Err("user_script:1: integral size overflow")),
        ("return hex(struct.pack('\\0i', 1))", Ok("")),
        ("return hex(struct.pack('i\\0i', 1, 2))", Ok("01000000")),
        ("return hex(struct.pack('>i', '0x10'))", Ok("00000010")),
        ("return hex(struct.pack('>d', '1.5'))", Ok("3ff8000000000000")),
        ("return all(struct.unpack('>iH', '\\0\\0\\0\\1\\0\\2'))", Ok("{[1]=1,[2]=2,[3]=7,[\"n\"]=3}")),
        ("return all(struct.unpack('<iH', '\\1\\0\\0\\0\\2\\0'))", Ok("{[1]=1,[2]=2,[3]=7,[\"n\"]=3}")),
        ("return all(struct.unpack('bBhHlLT', struct.pack('bBhHlLT', -1, 255, -2, 65535, -3, 4, 5)))", Ok("{[1]=-1,[2]=255,[3]=-2,[4]=65535,[5]=-3,[6]=4,[7]=5,[8]=31,[\"n\"]=8}")),
        ("return all(struct.unpack('>i3', '\\255\\255\\254'))", Ok("{[1]=-2,[2]=4,[\"n\"]=2}")),
        ("return all(struct.unpack('>I3', '\\255\\255\\254'))", Ok("{[1]=16777214,[2]=4,[\"n\"]=2}")),
        ("return all(struct.unpack('>i8', '\\255\\255\\255\\255\\255\\255\\255\\254'))", Ok("{[1]=-2,[2]=9,[\"n\"]=2}")),
        ("return all(struct.unpack('>I8', '\\255\\255\\255\\255\\255\\255\\255\\254'))", Ok("{[1]=1.8446744073709552e+19,[2]=9,[\"n\"]=2}")),
        ("return all(struct.unpack('>I8', '\\128\\0\\0\\0\\0\\0\\0\\0'))", Ok("{[1]=9.2233720368547758e+18,[2]=9,[\"n\"]=2}")),
        ("return all(struct.unpack('>i16', string.rep('\\255', 16)))", Ok("{[1]=-1,[2]=17,[\"n\"]=2}")),
        ("return all(struct.unpack('>I16', string.rep('\\255', 16)))", Ok("{[1]=1.8446744073709552e+19,[2]=17,[\"n\"]=2}")),
        ("return all(struct.unpack('>I16', string.rep('\\1', 16)))", Ok("{[1]=72340172838076672,[2]=17,[\"n\"]=2}")),
        ("return all(struct.unpack('<i9', string.rep('\\255', 9)))", Ok("{[1]=-1,[2]=10,[\"n\"]=2}")),
        ("return all(struct.unpack('<i12', '\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\128'))", Ok("{[1]=1,[2]=13,[\"n\"]=2}")),
        ("return all(struct.unpack('>i0', 'abc'))", Ok("{[1]=0,[2]=1,[\"n\"]=2}")),
        ("return all(struct.unpack('>f', struct.pack('>f', 1.5)))", Ok("{[1]=1.5,[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('<d', struct.pack('<d', -0.1)))", Ok("{[1]=-0.10000000000000001,[2]=9,[\"n\"]=2}")),
        ("return all(struct.unpack('>f', struct.pack('>f', 0.1)))", Ok("{[1]=0.10000000149011612,[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('c3c2', 'abcde'))", Ok("{[1]=\"abc\",[2]=\"de\",[3]=6,[\"n\"]=3}")),
        ("return all(struct.unpack('c0', 'abcde'))", Err("user_script:1: format 'c0' needs a previous size")),
        ("return all(struct.unpack('bc0', '\\3abcde'))", Ok("{[1]=\"abc\",[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('bc0', '\\9abcde'))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('c1c0', '3abcde'))", Ok("{[1]=\"abc\",[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('c1c0', 'xabcde'))", Err("user_script:1: format 'c0' needs a previous size")),
        ("return all(struct.unpack('s', 'abc\\0def'))", Ok("{[1]=\"abc\",[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('ss', 'abc\\0def\\0'))", Ok("{[1]=\"abc\",[2]=\"def\",[3]=9,[\"n\"]=3}")),
        ("return all(struct.unpack('s', 'abc'))", Err("user_script:1: unfinished string in data")),
        ("return all(struct.unpack('x', 'abc'))", Ok("{[1]=2,[\"n\"]=1}")),
        ("return all(struct.unpack('xxb', 'abc'))", Ok("{[1]=99,[2]=4,[\"n\"]=2}")),
        ("return all(struct.unpack('b', 'abc', 2))", Ok("{[1]=98,[2]=3,[\"n\"]=2}")),
        ("return all(struct.unpack('b', 'abc', 3))", Ok("{[1]=99,[2]=4,[\"n\"]=2}")),
        ("return all(struct.unpack('b', 'abc', 4))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('b', 'abc', 5))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('b', 'abc', 0))", Err("user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)")),
        ("return all(struct.unpack('b', 'abc', -1))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('', 'abc', 4))", Ok("{[1]=4,[\"n\"]=1}")),
        ("return all(struct.unpack('', 'abc', 5))", Ok("{[1]=5,[\"n\"]=1}")),
        ("return all(struct.unpack('b', 'abc', 1.9))", Ok("{[1]=97,[2]=2,[\"n\"]=2}")),
        ("return all(struct.unpack('b', 'abc', '2'))", Ok("{[1]=98,[2]=3,[\"n\"]=2}")),
        ("return all(struct.unpack('b', 'abc', 'x'))", Err("user_script:1: bad argument #3 to 'unpack' (number expected, got string)")),
        ("return all(struct.unpack('i', 'abc'))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('z', 'abc'))", Err("user_script:1: bad argument #1 to 'unpack' (invalid format option 'z')")),
        ("return all(struct.unpack('!4bi', '\\1\\0\\0\\0\\2\\0\\0\\0'))", Ok("{[1]=1,[2]=2,[3]=9,[\"n\"]=3}")),
        ("return all(struct.unpack('!4bi', '\\1\\0\\0\\0\\2\\0\\0'))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('!bi3', '\\1\\0\\0\\0\\2\\0\\0'))", Ok("{[1]=1,[2]=512,[3]=7,[\"n\"]=3}")),
        ("return all(struct.unpack('i', 123))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('i'))", Err("user_script:1: bad argument #2 to 'unpack' (string expected, got no value)")),
        ("return all(struct.unpack())", Err("user_script:1: bad argument #1 to 'unpack' (string expected, got no value)")),
        ("return all(struct.unpack('b', {}))", Err("user_script:1: bad argument #2 to 'unpack' (string expected, got table)")),
        ("return all(struct.unpack('c2147483647', 'x'))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('b', 'abc', 2^53))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('b', 'abc', 2^63))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('b', 'abc', -2^63))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('b', 'abc', 1/0))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('bc0', '\\255abc'))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('c0', ''))", Err("user_script:1: format 'c0' needs a previous size")),
        ("return all(struct.unpack('xc0', 'a'))", Err("user_script:1: format 'c0' needs a previous size")),
        ("return all(struct.unpack('>!4i', '\\0\\0\\0\\1'))", Ok("{[1]=1,[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('>s', '\\0'))", Ok("{[1]=\"\",[2]=2,[\"n\"]=2}")),
        ("return all(struct.unpack('f', 'abc'))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('>d', '\\127\\248\\0\\0\\0\\0\\0\\1'))", Ok("{[1]=nan,[2]=9,[\"n\"]=2}")),
        ("return all(struct.size('bBhHlLTfdx'))", Ok("{[1]=43,[\"n\"]=1}")),
        ("return all(struct.size('i3i5'))", Ok("{[1]=8,[\"n\"]=1}")),
        ("return all(struct.size('!4bi'))", Ok("{[1]=8,[\"n\"]=1}")),
        ("return all(struct.size('!8bd'))", Ok("{[1]=16,[\"n\"]=1}")),
        ("return all(struct.size('c10'))", Ok("{[1]=10,[\"n\"]=1}")),
        ("return all(struct.size('c0'))", Err("user_script:1: bad argument #1 to 'size' (option 'c0' has no fixed size)")),
        ("return all(struct.size('s'))", Err("user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)")),
        ("return all(struct.size('z'))", Ok("{[1]=0,[\"n\"]=1}")),
        ("return all(struct.size('i33'))", Err("user_script:1: integral size 33 is larger than limit of 32")),
        ("return all(struct.size(''))", Ok("{[1]=0,[\"n\"]=1}")),
        ("return all(struct.size())", Err("user_script:1: bad argument #1 to 'size' (string expected, got no value)")),
        ("return all(struct.size(' <>'))", Ok("{[1]=0,[\"n\"]=1}")),
        ("return all(struct.size('!3'))", Err("user_script:1: alignment 3 is not a power of 2")),
        ("return all(struct.size('i99999999999'))", Err("user_script:1: integral size overflow")),
        ("return all(struct.size('c2147483647c2147483647'))", Ok("{[1]=4294967294,[\"n\"]=1}")),
        ("return all(struct.size('!8bi3'))", Ok("{[1]=6,[\"n\"]=1}")),
        ("return all(struct.size('i0'))", Ok("{[1]=0,[\"n\"]=1}")),
        ("return all(struct.size(5))", Ok("{[1]=0,[\"n\"]=1}")),
        ("return all(struct.size('b', 'extra'))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(struct.unpack('bbb', 'abc', 1, 'extra'))", Ok("{[1]=97,[2]=98,[3]=99,[4]=4,[\"n\"]=4}")),
        ("return all(struct.unpack('>i', '\\0\\0\\0\\1', 1.5))", Ok("{[1]=1,[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('i', '\\0\\0\\0\\1\\0', 2))", Ok("{[1]=65536,[2]=6,[\"n\"]=2}")),
        ("return hex(struct.pack('>h', 65535))", Ok("ffff")),
        ("return hex(struct.pack('>h', -32769))", Ok("7fff")),
        ("return hex(struct.pack('>I', 4294967296 + 7))", Ok("00000007")),
        ("return hex(struct.pack('>I', -1))", Ok("ffffffff")),
        ("return hex(struct.pack('>I3', 2^40+1))", Ok("000001")),
        ("return all(struct.unpack('<I3', '\\255\\255\\255'))", Ok("{[1]=16777215,[2]=4,[\"n\"]=2}")),
        ("return all(struct.unpack('<i4', '\\255\\255\\255\\127'))", Ok("{[1]=2147483647,[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('<I1', '\\200'))", Ok("{[1]=200,[2]=2,[\"n\"]=2}")),
        ("return all(struct.unpack('<i1', '\\200'))", Ok("{[1]=-56,[2]=2,[\"n\"]=2}")),
        ("return hex(struct.pack('>lL', 9007199254740993, 9007199254740993))", Ok("00200000000000000020000000000000")),
        ("return all(struct.unpack('>l', '\\127\\255\\255\\255\\255\\255\\255\\255'))", Ok("{[1]=9.2233720368547758e+18,[2]=9,[\"n\"]=2}")),
        ("return hex(struct.pack('i2147483647', 1))", Err("user_script:1: integral size 2147483647 is larger than limit of 32")),
        ("return all(struct.unpack('!7i', '\\0\\0\\0\\0'))", Err("user_script:1: alignment 7 is not a power of 2")),
        ("return all(struct.unpack('!-1i', '\\0\\0\\0\\0'))", Err("user_script:1: bad argument #1 to 'unpack' (invalid format option '-')")),
        ("return hex(struct.pack('!', 1))", Ok("")),
        ("return hex(struct.pack('!2', 1))", Ok("")),
        ("return hex(struct.pack('<i', 2^31))", Ok("00000080")),
        ("return hex(struct.pack('<i', -2^31-1))", Ok("ffffff7f")),
        ("return all(struct.unpack('<i9', '\\128' .. string.rep('\\0', 8)))", Ok("{[1]=-128,[2]=10,[\"n\"]=2}")),
        ("return all(struct.unpack('<i12', '\\0\\0\\0\\128' .. string.rep('\\0', 8)))", Ok("{[1]=-2147483648,[2]=13,[\"n\"]=2}")),
        ("return all(struct.unpack('>i12', string.rep('\\0', 8) .. '\\0\\0\\0\\128'))", Ok("{[1]=128,[2]=13,[\"n\"]=2}")),
        ("return all(struct.unpack('<i16', '\\0\\0\\0\\0\\0\\0\\0\\128' .. string.rep('\\0', 8)))", Ok("{[1]=-9.2233720368547758e+18,[2]=17,[\"n\"]=2}")),
        ("return all(struct.unpack('<i10', '\\0\\128' .. string.rep('\\0', 8)))", Ok("{[1]=-32768,[2]=11,[\"n\"]=2}")),
        ("return all(select('#', struct.unpack(string.rep('b', 7998), string.rep('a', 7998))))", Err("user_script:1: stack overflow (too many results)")),
        ("return all(select('#', struct.unpack(string.rep('b', 7997), string.rep('a', 7997), 1)))", Err("user_script:1: stack overflow (too many results)")),
        ("return all(select('#', struct.unpack(string.rep(' ', 7998), 'a')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', struct.unpack(string.rep(' ', 7997), 'a')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(struct.unpack('b', 'abc', -2^63 + 2^11))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('', 'abc', -1))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(struct.unpack('', 'abc', -5))", Ok("{[1]=-5,[\"n\"]=1}")),
        ("return all(struct.unpack('', 'abc', 0/0))", Ok("{[1]=-9.2233720368547758e+18,[\"n\"]=1}")),
        ("return all(struct.unpack('bc0', '\\0abc'))", Ok("{[1]=\"\",[2]=2,[\"n\"]=2}")),
        ("return all(struct.unpack('bc0', '\\0'))", Ok("{[1]=\"\",[2]=2,[\"n\"]=2}")),
        ("return all(struct.unpack('c0', 'abc', 2))", Err("user_script:1: format 'c0' needs a previous size")),
        ("return all(struct.unpack('!8bd', '\\1' .. string.rep('\\0', 15)))", Ok("{[1]=1,[2]=0,[3]=17,[\"n\"]=3}")),
        ("return all(struct.unpack('!8bc0', '\\2xy'))", Ok("{[1]=\"xy\",[2]=4,[\"n\"]=2}")),
        ("return all(struct.unpack('!8hi3', '\\1\\0\\0\\0\\1\\2\\3'))", Ok("{[1]=1,[2]=65536,[3]=6,[\"n\"]=3}")),
        ("return all(struct.unpack('>!2i3h', '\\0\\0\\1\\0\\0\\2'))", Ok("{[1]=1,[2]=2,[3]=7,[\"n\"]=3}")),
        ("return hex(struct.pack('>!2i3h', 1, 2))", Ok("000001000002")),
        ("return hex(struct.pack('>!4i3h', 1, 2))", Ok("0000000001000002")),
        ("return hex(struct.pack('>!4i3i3', 1, 2))", Ok("00000000010000000002")),
        ("return hex(struct.pack('>!4bi3', 1, 2))", Ok("010000000002")),
        ("return hex(struct.pack('>!4bbi3', 1, 1, 2))", Ok("0101000002")),
        ("return hex(struct.pack('>!4bbbi3', 1, 1, 1, 2))", Ok("010101000002")),
        ("return hex(struct.pack('>!4bbbi5', 1, 1, 1, 2))", Ok("010101000000000002")),
        ("return hex(struct.pack('>!8bbbi5', 1, 1, 1, 2))", Ok("010101000000000000000002")),
        ("return hex(struct.pack('>!8bbbi7', 1, 1, 1, 2))", Ok("0101010000000000000000000002")),
        ("return hex(struct.pack('>!16bbbi12', 1, 1, 1, 2))", Ok("010101000000000000000000000000000000000000000002")),
        ("return hex(struct.pack('>!32bi32', 1, 2))", Ok("01000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002")),
        ("return hex(struct.pack('>!64bi32', 1, 2))", Ok("01000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002")),
        ("return hex(struct.pack('>!1073741824bi32', 1, 2))", Ok("01000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002")),
        ("return all(struct.unpack('>!1073741824bi32', '\\1' .. string.rep('\\0', 31) .. string.rep('\\0', 31) .. '\\2'))", Ok("{[1]=1,[2]=2,[3]=65,[\"n\"]=3}")),
        ("return all(struct.unpack('bc0', '\\51abc'))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('hc0', '\\3\\0abc'))", Ok("{[1]=\"abc\",[2]=6,[\"n\"]=2}")),
        ("return all(struct.unpack('fc0', struct.pack('f', 2.5) .. 'abc'))", Ok("{[1]=\"ab\",[2]=7,[\"n\"]=2}")),
        ("return all(struct.unpack('c2c0', ' 2abc'))", Ok("{[1]=\"ab\",[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('c3c0', '0x2abc'))", Ok("{[1]=\"ab\",[2]=6,[\"n\"]=2}")),
        ("return all(struct.unpack('c2c0', '-1abc'))", Err("user_script:1: bad argument #2 to 'unpack' (data string too short)")),
        ("return all(struct.unpack('sc0', '2\\0abc'))", Ok("{[1]=\"ab\",[2]=5,[\"n\"]=2}")),
        ("return all(struct.unpack('c0', 'abc', 1, 'x'))", Err("user_script:1: format 'c0' needs a previous size")),
        ("return all(struct.unpack('bxc0', '\\1abc'))", Ok("{[1]=\"b\",[2]=4,[\"n\"]=2}")),
        ("return all(struct.unpack('b c0', '\\1abc'))", Ok("{[1]=\"a\",[2]=3,[\"n\"]=2}")),
        ("return all(struct.unpack('b>c0', '\\1abc'))", Ok("{[1]=\"a\",[2]=3,[\"n\"]=2}")),
        ("return all(struct.unpack('b!c0', '\\1abc'))", Ok("{[1]=\"a\",[2]=3,[\"n\"]=2}")),
        ("return all(struct.unpack('<I8', '\\255\\255\\255\\255\\255\\255\\255\\255'))", Ok("{[1]=1.8446744073709552e+19,[2]=9,[\"n\"]=2}")),
        ("return all(struct.unpack('<i8', '\\0\\0\\0\\0\\0\\0\\0\\128'))", Ok("{[1]=-9.2233720368547758e+18,[2]=9,[\"n\"]=2}")),
        ("return hex(struct.pack('<d', 0/0))", Ok("000000000000f8ff")),
        ("return hex(struct.pack('<f', 0/0))", Ok("0000c0ff")),
        ("return hex(struct.pack('<f', -0.0))", Ok("00000080")),
        ("return hex(struct.pack('<f', 1e-50))", Ok("00000000")),
        ("return hex(struct.pack('<f', 3.4028235677973366e38))", Ok("0000807f")),
        ("return hex(struct.pack('<f', 3.4028235e38 * 1.0000001))", Ok("0000807f")),
        ("return hex(struct.pack('c', ''))", Err("user_script:1: bad argument #3 to 'pack' (string too short)")),
        ("return hex(struct.pack('c0c0', '', 'ab'))", Ok("6162")),
        ("return hex(struct.pack('s', 1.5))", Ok("312e3500")),
        ("return hex(struct.pack('c0', 1e100))", Ok("31652b313030")),
        ("return hex(struct.pack('c0', -0.0))", Ok("2d30")),
        ("return hex(struct.pack('c0', 0/0))", Ok("2d6e616e")),
        ("return hex(struct.pack('c0', 2^63))", Ok("392e32323333373230333638353438652b3138")),
        ("return hex(struct.pack('i', true))", Err("user_script:1: bad argument #2 to 'pack' (number expected, got boolean)")),
        ("return hex(struct.pack('i', nil, 2))", Err("user_script:1: bad argument #2 to 'pack' (number expected, got nil)")),
        ("return hex(struct.pack('ii', 1))", Err("user_script:1: bad argument #3 to 'pack' (number expected, got nil)")),
        ("return hex(struct.pack('iii', 1))", Err("user_script:1: bad argument #3 to 'pack' (number expected, got nil)")),
        ("return hex(struct.pack('x', 1, 2))", Ok("00")),
        ("return hex(struct.pack('<i', '  0x1F  '))", Ok("1f000000")),
        ("return hex(struct.pack('<i', '1e2'))", Ok("64000000")),
        ("return hex(struct.pack('<i', ''))", Err("user_script:1: bad argument #2 to 'pack' (number expected, got string)")),
    ];
}
