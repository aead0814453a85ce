//! `cmsgpack`: lua-cmsgpack 0.4.0 as redis-server 7.0.15 embeds it (MessagePack for Lua 5.1):
//! `pack(v1, ...)`, `unpack(s)`, `unpack_one(s [, offset])`, `unpack_limit(s, limit [, offset])`,
//! and the fields `_NAME`, `_VERSION`, `_COPYRIGHT`, `_DESCRIPTION`.
//!
//! Encoding, as the C decides it:
//! - A number equal to its `int64_t` cast (x86-64 semantics: NaN and values from 2^63 up are
//!   not) is an integer in the smallest MessagePack form (positive/negative fixnum, uint/int
//!   8..64); any other number is a float32 when converting to float and back gives the same
//!   double (so 0.5 and infinities are float32), else a float64.
//! - A string is fixraw, raw8 (`0xd9`), raw16 or raw32.
//! - A table whose keys are exactly the integers 1..n (n may be 0) is an array; any other
//!   table is a map, in `next` order. Tables nested 16 deep encode as nil, which is what keeps
//!   circular references finite. Other types (functions, userdata, nil, ...) encode as nil.
//!
//! Decoding: a `uint64` at or above 2^63 comes back negative (the C pushes it as a signed
//! `lua_Integer`); a nil map key is the Lua error "table index is nil"; truncated input is
//! "Missing bytes in input."; an unknown type byte (`0xc1`, ext, bin types) is "Bad data
//! format in input.".
//!
//! Invariants:
//! - Lua's C-stack limit (8000 slots) is counted as the C would have used it, so deep nesting
//!   and many results fail where Redis fails, with its message ("stack overflow (...)").
//! - Decoding allocates by what is present, never by a count read from the input: a count
//!   larger than the remaining bytes ends at "Missing bytes in input.". Nesting is walked with
//!   an explicit stack, bounded by the C-stack limit above.
//! - Encoding output is capped at [`OUTPUT_MAX`] bytes: tables sharing a big value can expand
//!   without bound in the C (it would allocate until the allocator fails); here that is an
//!   error instead.

use mlua::{Lua, MultiValue, Table, Value};

use super::libs::{self, Args, MAX_C_STACK};

/// What `unpack` says when its results would overflow the C stack.
const TOO_MANY_VALUES: &str =
    "too many return values at once; use unpack_one or unpack_limit instead.";
/// Tables nested this deep are encoded as nil (`LUACMSGPACK_MAX_NESTING`).
const MAX_NESTING: usize = 16;
/// The most bytes `pack` produces (the default `proto-max-bulk-len`, 512 MiB).
pub const OUTPUT_MAX: usize = 512 * 1024 * 1024;

/// Registers the global `cmsgpack` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(pack)?)?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| {
            let args = Args::new(args);
            let base = args.len();
            unpack_full(lua, &args, 0, 0, base)
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: MultiValue| {
            let args = Args::new(args);
            let offset = libs::opt_integer(lua, &args, 2, 0)?;
            unpack_full(lua, &args, 1, offset, 1)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: MultiValue| {
            let args = Args::new(args);
            let limit = libs::check_integer(lua, &args, 2)?;
            let offset = libs::opt_integer(lua, &args, 3, 0)?;
            unpack_full(lua, &args, limit, offset, 1)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    lua.globals().raw_set("cmsgpack", t)
}

/// `luaL_checkstack(L, n, what)` on a frame holding `used` values.
fn check_stack(lua: &Lua, used: usize, n: usize, what: &str) -> mlua::Result<()> {
    if used + n > MAX_C_STACK {
        Err(libs::error(lua, format!("stack overflow ({what})")))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------- encoding

struct Encoder<'a> {
    lua: &'a Lua,
    out: Vec<u8>,
}

impl Encoder<'_> {
    fn put(&mut self, bytes: &[u8]) -> mlua::Result<()> {
        if self.out.len() + bytes.len() > OUTPUT_MAX {
            return Err(libs::error(
                self.lua,
                format!("MessagePack pack output exceeds {OUTPUT_MAX} bytes"),
            ));
        }
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn bytes(&mut self, s: &[u8]) -> mlua::Result<()> {
        let len = s.len();
        if len < 32 {
            self.put(&[0xa0 | len as u8])?;
        } else if len <= 0xff {
            self.put(&[0xd9, len as u8])?;
        } else if len <= 0xffff {
            self.put(&[0xda, (len >> 8) as u8, len as u8])?;
        } else {
            let mut hdr = [0xdb, 0, 0, 0, 0];
            hdr[1..].copy_from_slice(&(len as u32).to_be_bytes());
            self.put(&hdr)?;
        }
        self.put(s)
    }

    fn double(&mut self, d: f64) -> mlua::Result<()> {
        let f = d as f32;
        if f64::from(f) == d {
            let mut b = [0xca, 0, 0, 0, 0];
            b[1..].copy_from_slice(&f.to_be_bytes());
            self.put(&b)
        } else {
            let mut b = [0xcb, 0, 0, 0, 0, 0, 0, 0, 0];
            b[1..].copy_from_slice(&d.to_be_bytes());
            self.put(&b)
        }
    }

    fn int(&mut self, n: i64) -> mlua::Result<()> {
        let mut b = [0u8; 9];
        let len = if n >= 0 {
            if n <= 127 {
                b[0] = n as u8;
                1
            } else if n <= 0xff {
                b[..2].copy_from_slice(&[0xcc, n as u8]);
                2
            } else if n <= 0xffff {
                b[0] = 0xcd;
                b[1..3].copy_from_slice(&(n as u16).to_be_bytes());
                3
            } else if n <= 0xffff_ffff {
                b[0] = 0xce;
                b[1..5].copy_from_slice(&(n as u32).to_be_bytes());
                5
            } else {
                b[0] = 0xcf;
                b[1..].copy_from_slice(&n.to_be_bytes());
                9
            }
        } else if n >= -32 {
            b[0] = n as u8;
            1
        } else if n >= -128 {
            b[..2].copy_from_slice(&[0xd0, n as u8]);
            2
        } else if n >= -32768 {
            b[0] = 0xd1;
            b[1..3].copy_from_slice(&(n as i16).to_be_bytes());
            3
        } else if n >= -2_147_483_648 {
            b[0] = 0xd2;
            b[1..5].copy_from_slice(&(n as i32).to_be_bytes());
            5
        } else {
            b[0] = 0xd3;
            b[1..].copy_from_slice(&n.to_be_bytes());
            9
        };
        self.put(&b[..len])
    }

    /// An array (`fix`=0x90, 16-bit 0xdc, 32-bit 0xdd) or map (0x80, 0xde, 0xdf) header.
    fn header(&mut self, n: usize, fix: u8, h16: u8, h32: u8) -> mlua::Result<()> {
        if n <= 15 {
            self.put(&[fix | n as u8])
        } else if n <= 0xffff {
            self.put(&[h16, (n >> 8) as u8, n as u8])
        } else {
            let mut b = [h32, 0, 0, 0, 0];
            b[1..].copy_from_slice(&(n as u32).to_be_bytes());
            self.put(&b)
        }
    }

    /// `mp_encode_lua_type`: `v` at nesting `level`, with `used` slots on the C function's
    /// Lua stack (counting `v` itself).
    fn value(&mut self, v: &Value, level: usize, used: usize) -> mlua::Result<()> {
        match v {
            Value::String(s) => self.bytes(&s.as_bytes()),
            Value::Boolean(b) => self.put(&[if *b { 0xc3 } else { 0xc2 }]),
            Value::Integer(i) => self.number(*i as f64),
            Value::Number(n) => self.number(*n),
            Value::Table(t) if level < MAX_NESTING => self.table(t, level, used),
            _ => self.put(&[0xc0]),
        }
    }

    fn number(&mut self, n: f64) -> mlua::Result<()> {
        let i = libs::c_f64_to_i64(n);
        if !n.is_infinite() && i as f64 == n {
            self.int(i)
        } else {
            self.double(n)
        }
    }

    fn table(&mut self, t: &Table, level: usize, used: usize) -> mlua::Result<()> {
        let lua = self.lua;
        check_stack(lua, used, 2, "in function table_is_an_array")?;
        let mut pairs = Vec::new();
        t.for_each(|k: Value, v: Value| {
            pairs.push((k, v));
            Ok(())
        })?;
        if is_array(&pairs) {
            check_stack(lua, used, 1, "in function mp_encode_lua_table_as_array")?;
            // The keys are exactly 1..n, so `next` order is not needed: read them in order.
            let len = pairs.len();
            drop(pairs);
            self.header(len, 0x90, 0xdc, 0xdd)?;
            for j in 1..=len {
                let v: Value = t.raw_get(j)?;
                self.value(&v, level + 1, used + 1)?;
            }
        } else {
            check_stack(lua, used, 3, "in function mp_encode_lua_table_as_map")?;
            self.header(pairs.len(), 0x80, 0xde, 0xdf)?;
            for (k, v) in &pairs {
                // While the key is encoded the C stack holds key, value and a copy of the key.
                self.value(k, level + 1, used + 3)?;
                self.value(v, level + 1, used + 2)?;
            }
        }
        Ok(())
    }
}

/// `table_is_an_array`: every key a number `n > 0` equal to its `int` cast, and the largest
/// equal to the count (so the keys are exactly 1..count).
fn is_array(pairs: &[(Value, Value)]) -> bool {
    let mut count: i32 = 0;
    let mut max: i32 = 0;
    for (k, _) in pairs {
        let n = match k {
            Value::Integer(i) => *i as f64,
            Value::Number(n) => *n,
            _ => return false,
        };
        if n <= 0.0 || n.is_nan() || f64::from(libs::c_f64_to_i32(n)) != n {
            return false;
        }
        if n > f64::from(max) {
            max = n as i32;
        }
        count = count.wrapping_add(1);
    }
    max == count
}

/// `cmsgpack.pack(v1, ...)`: the concatenated encodings of the arguments.
fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::LuaString> {
    let args = Args::new(args);
    let nargs = args.len();
    if nargs == 0 {
        return Err(libs::arg_error(lua, 0, "MessagePack pack needs input."));
    }
    // `lua_checkstack(L, nargs)` on a frame already holding the nargs arguments.
    if nargs > MAX_C_STACK || 2 * nargs > MAX_C_STACK {
        return Err(libs::arg_error(
            lua,
            0,
            "Too many arguments for MessagePack pack.",
        ));
    }
    let mut enc = Encoder {
        lua,
        out: Vec::new(),
    };
    for i in 1..=nargs {
        // The frame holds the arguments, one result string per argument already packed, and
        // the copy of argument i being encoded.
        let used = nargs + (i - 1) + 1;
        if let Some(v) = args.get(i) {
            enc.value(v, 0, used)?;
        }
    }
    lua.create_string(&enc.out)
}

// ---------------------------------------------------------------------------------- decoding

/// Why decoding one value stopped short (the C cursor's error codes).
enum Short {
    Eof,
    BadFormat,
}

/// A container being filled, with the slots it holds on the C function's Lua stack.
enum Frame {
    /// Table and the index of the element being decoded: 2 slots.
    Array {
        table: Table,
        remaining: u64,
        index: i64,
    },
    /// Table (1 slot), plus the key once it is decoded (2 slots).
    Map {
        table: Table,
        remaining: u64,
        key: Option<Value>,
    },
}

impl Frame {
    fn slots(&self) -> usize {
        match self {
            Frame::Array { .. } | Frame::Map { key: Some(_), .. } => 2,
            Frame::Map { key: None, .. } => 1,
        }
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.at
    }

    /// The `n` bytes at the cursor (consumed), or `Eof`.
    fn take(&mut self, n: usize) -> Result<&[u8], Short> {
        if self.left() < n {
            return Err(Short::Eof);
        }
        let bytes = &self.data[self.at..self.at + n];
        self.at += n;
        Ok(bytes)
    }

    fn be(&mut self, n: usize) -> Result<u64, Short> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
}

/// What one type byte starts: a complete scalar, a string of `n` bytes, or a container of `n`
/// entries.
enum Item {
    Value(Value),
    Str(usize),
    Array(u64),
    Map(u64),
}

/// Reads one item's header (and a number's body) at the cursor.
fn header(c: &mut Cursor<'_>) -> Result<Item, Short> {
    let num = |n: f64| Ok(Item::Value(Value::Number(n)));
    let first = c.take(1)?[0];
    match first {
        0xcc => num(c.be(1)? as f64),
        0xd0 => num(f64::from(c.be(1)? as u8 as i8)),
        0xcd => num(c.be(2)? as f64),
        0xd1 => num(f64::from(c.be(2)? as u16 as i16)),
        0xce => num(c.be(4)? as f64),
        0xd2 => num(f64::from(c.be(4)? as u32 as i32)),
        // Pushed as a signed lua_Integer: from 2^63 up a uint64 comes back negative.
        0xcf | 0xd3 => num(c.be(8)? as i64 as f64),
        0xca => num(f64::from(f32::from_bits(c.be(4)? as u32))),
        0xcb => num(f64::from_bits(c.be(8)?)),
        0xc0 => Ok(Item::Value(Value::Nil)),
        0xc3 => Ok(Item::Value(Value::Boolean(true))),
        0xc2 => Ok(Item::Value(Value::Boolean(false))),
        0xd9 => Ok(Item::Str(c.be(1)? as usize)),
        0xda => Ok(Item::Str(c.be(2)? as usize)),
        0xdb => Ok(Item::Str(c.be(4)? as usize)),
        0xdc => Ok(Item::Array(c.be(2)?)),
        0xdd => Ok(Item::Array(c.be(4)?)),
        0xde => Ok(Item::Map(c.be(2)?)),
        0xdf => Ok(Item::Map(c.be(4)?)),
        b if b & 0x80 == 0 => num(f64::from(b)),
        b if b & 0xe0 == 0xe0 => num(f64::from(b as i8)),
        b if b & 0xe0 == 0xa0 => Ok(Item::Str(usize::from(b & 0x1f))),
        b if b & 0xf0 == 0x90 => Ok(Item::Array(u64::from(b & 0x0f))),
        b if b & 0xf0 == 0x80 => Ok(Item::Map(u64::from(b & 0x0f))),
        _ => Err(Short::BadFormat),
    }
}

/// `mp_decode_to_lua_type` for one top-level value, with `base` slots already on the C stack.
fn decode_one(lua: &Lua, c: &mut Cursor<'_>, base: usize) -> mlua::Result<Result<Value, Short>> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut held: usize = 0; // slots held by the frames
    loop {
        // Decode the value at the cursor (top level, or the next child of the top frame).
        if c.left() < 1 {
            return Ok(Err(Short::Eof));
        }
        check_stack(lua, base + held, 1, TOO_MANY_VALUES)?;
        let mut v = match header(c) {
            Err(short) => return Ok(Err(short)),
            Ok(Item::Value(v)) => v,
            Ok(Item::Str(len)) => match c.take(len) {
                Ok(bytes) => Value::String(lua.create_string(bytes)?),
                Err(short) => return Ok(Err(short)),
            },
            Ok(Item::Array(n)) => {
                let table = lua.create_table()?;
                check_stack(
                    lua,
                    base + held + 1,
                    1,
                    "in function mp_decode_to_lua_array",
                )?;
                if n == 0 {
                    Value::Table(table)
                } else {
                    frames.push(Frame::Array {
                        table,
                        remaining: n,
                        index: 1,
                    });
                    held += 2;
                    continue;
                }
            }
            Ok(Item::Map(n)) => {
                let table = lua.create_table()?;
                if n == 0 {
                    Value::Table(table)
                } else {
                    frames.push(Frame::Map {
                        table,
                        remaining: n,
                        key: None,
                    });
                    held += 1;
                    continue;
                }
            }
        };
        // Store the finished value in its container; finish containers that are full.
        loop {
            let Some(frame) = frames.last_mut() else {
                return Ok(Ok(v));
            };
            let before = frame.slots();
            let done = match frame {
                Frame::Array {
                    table,
                    remaining,
                    index,
                } => {
                    table.raw_set(*index, v)?;
                    *index += 1;
                    *remaining -= 1;
                    *remaining == 0
                }
                Frame::Map {
                    table,
                    remaining,
                    key,
                } => match key.take() {
                    None => {
                        *key = Some(v);
                        false
                    }
                    Some(k) => {
                        match &k {
                            Value::Nil => return Err(libs::raw_error("table index is nil")),
                            Value::Number(n) if n.is_nan() => {
                                return Err(libs::raw_error("table index is NaN"))
                            }
                            _ => {}
                        }
                        table.raw_set(k, v)?;
                        *remaining -= 1;
                        *remaining == 0
                    }
                },
            };
            held = held - before + frame.slots();
            if !done {
                break;
            }
            held -= frame.slots();
            v = match frames.pop() {
                Some(Frame::Array { table, .. } | Frame::Map { table, .. }) => Value::Table(table),
                None => Value::Nil,
            };
        }
    }
}

/// `mp_unpack_full`: decodes up to `limit` values from `offset` (all of them when both are 0,
/// and then without the next-offset first result). `base` is how many arguments remain on the
/// C function's stack.
fn unpack_full(
    lua: &Lua,
    args: &Args,
    limit: i64,
    offset: i64,
    base: usize,
) -> mlua::Result<MultiValue> {
    let s = libs::check_bytes(lua, args, 1)?;
    let len = s.len();
    if offset < 0 || limit < 0 {
        return Err(libs::error(
            lua,
            format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as i32, len as i32
            ),
        ));
    } else if offset as u64 > len as u64 {
        return Err(libs::error(
            lua,
            format!(
                "Start offset {} greater than input length {}.",
                offset as i32, len as i32
            ),
        ));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut c = Cursor {
        data: &s,
        at: offset as usize,
    };
    let mut results = Vec::new();
    while c.left() > 0 && (results.len() as i64) < limit {
        let one = libs::stack_error_as(decode_one(lua, &mut c, base + results.len()), || {
            libs::error(lua, format!("stack overflow ({TOO_MANY_VALUES})"))
        })?;
        match one {
            Ok(v) => results.push(v),
            Err(Short::Eof) => return Err(libs::error(lua, "Missing bytes in input.")),
            Err(Short::BadFormat) => return Err(libs::error(lua, "Bad data format in input.")),
        }
    }
    if !decode_all {
        check_stack(lua, base + results.len(), 1, "in function mp_unpack_full")?;
        let next = if c.left() == 0 { -1 } else { c.at as i64 };
        results.insert(0, Value::Number(next as f64));
        libs::check_results(lua, args.len(), results.len(), "in function mp_unpack_full")?;
    } else {
        libs::check_results(lua, args.len(), results.len(), TOO_MANY_VALUES)?;
    }
    Ok(MultiValue::from_vec(results))
}

#[cfg(test)]
mod tests {
    //! Expected values are facts observed on redis-server 7.0.15 (`EVAL` of the same one-line
    //! snippets, error replies reduced to their message). See `libs::testing` for the prelude.

    use mlua::{Function, Lua, MultiValue, Value};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::super::libs::testing::{check, deep_eq, lua, run};

    #[test]
    fn observed_on_redis() {
        check(CASES);
    }

    #[test]
    fn many_results_near_the_lua_stack_limit() {
        // Observed on Redis: `unpack` of 7999 one-byte values returns them all, 8000 fail with
        // "stack overflow (too many return values ...)". mlua needs a few slots of its own to
        // return results, so here the error comes within 8 values of the limit. (The very
        // first callback of a Lua state needs about 20 more: the snippet warms up first.)
        let count = |n: usize| {
            run(&format!(
                "local _ = cmsgpack.pack(1) \
                 return select('#', cmsgpack.unpack(string.rep('\\1', {n})))"
            ))
        };
        assert_eq!(count(7990), Ok("7990".to_owned()));
        let msg = "user_script:1: stack overflow (too many return values at once; \
                   use unpack_one or unpack_limit instead.)";
        assert_eq!(count(7999), Err(msg.to_owned()));
        assert_eq!(count(8000), Err(msg.to_owned()));
    }

    #[test]
    fn huge_counts_read_only_what_is_there() {
        // Array and map headers announce 2^32 - 1 entries over a few bytes.
        for input in [
            "\\221\\255\\255\\255\\255\\1\\2",
            "\\223\\255\\255\\255\\255\\1",
        ] {
            assert_eq!(
                run(&format!("return cmsgpack.unpack('{input}')")),
                Err("user_script:1: Missing bytes in input.".to_owned())
            );
        }
    }

    /// A random value MessagePack carries unchanged: numbers (integers of every width,
    /// float32- and float64-only values, infinities), byte strings crossing the header
    /// boundaries, booleans, arrays (1..n) and maps with string, number and boolean keys.
    fn mp_value(lua: &Lua, rng: &mut StdRng, depth: u32) -> Value {
        match rng.gen_range(0..if depth < 4 { 9 } else { 6 }) {
            0 => Value::Number(rng.gen_range(-(1i64 << 62)..(1i64 << 62)) as f64),
            1 => Value::Number(f64::from(rng.gen_range(-70_000i32..70_000))),
            2 => {
                let special = [0.5, -1.5, 0.1, 1e300, f64::INFINITY, f64::NEG_INFINITY];
                if rng.gen_bool(0.3) {
                    Value::Number(special[rng.gen_range(0..special.len())])
                } else {
                    Value::Number(rng.gen::<f64>() * 1e6 - 5e5)
                }
            }
            3 => {
                let lens = [0, 31, 32, 255, 256, 65535, 65536];
                let len = if rng.gen_bool(0.2) {
                    lens[rng.gen_range(0..lens.len())]
                } else {
                    rng.gen_range(0..40)
                };
                let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
                Value::String(lua.create_string(&bytes).expect("string"))
            }
            4 | 5 => Value::Boolean(rng.gen()),
            6 | 7 => {
                let t = lua.create_table().expect("table");
                for i in 1..=rng.gen_range(0..20) {
                    t.raw_set(i, mp_value(lua, rng, depth + 1)).expect("set");
                }
                Value::Table(t)
            }
            _ => {
                let t = lua.create_table().expect("table");
                for _ in 0..rng.gen_range(0..20) {
                    let key = match rng.gen_range(0..3) {
                        0 => Value::String(
                            lua.create_string(format!("k{}", rng.gen::<u16>()))
                                .expect("key"),
                        ),
                        1 => Value::Number(f64::from(rng.gen_range(-50i32..50)) / 2.0),
                        _ => Value::Boolean(rng.gen()),
                    };
                    t.raw_set(key, mp_value(lua, rng, depth + 1)).expect("set");
                }
                Value::Table(t)
            }
        }
    }

    #[test]
    fn round_trip_random_values() {
        let lua = lua();
        let cmsgpack: mlua::Table = lua.globals().get("cmsgpack").expect("cmsgpack");
        let pack: Function = cmsgpack.get("pack").expect("pack");
        let unpack: Function = cmsgpack.get("unpack").expect("unpack");
        let mut rng = StdRng::seed_from_u64(16);
        for _ in 0..300 {
            let values: Vec<Value> = (0..rng.gen_range(1..4))
                .map(|_| mp_value(&lua, &mut rng, 0))
                .collect();
            let packed: mlua::LuaString = pack
                .call(MultiValue::from_vec(values.clone()))
                .expect("pack");
            let back: MultiValue = unpack.call(packed).expect("unpack");
            assert_eq!(back.len(), values.len());
            for (v, w) in values.iter().zip(back.iter()) {
                assert!(deep_eq(v, w), "round trip of {v:?}");
            }
        }
    }

    const CASES: &[(&str, Result<&str, &str>)] = &[
        // GENERATED: cmsgpack
        ("return hex(cmsgpack.pack(1, 2.5, 'x'))", Ok("01ca40200000a178")),
        ("return hex(cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2^53, 2^63))", Ok("007fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf0020000000000000ca5f000000")),
        ("return hex(cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -2^53, -2^63))", Ok("ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd3ffe0000000000000d38000000000000000")),
        ("return hex(cmsgpack.pack(-2^63 - 2^11, 2^64, 1e300, -1e300))", Ok("cbc3e0000000000001ca5f800000cb7e37e43c8800759ccbfe37e43c8800759c")),
        ("return hex(cmsgpack.pack(0.5, 0.1, -0.0, 1/0, -1/0, 0/0, 1e-320, 3.4028234663852886e38, 2^-149))", Ok("ca3f000000cb3fb999999999999a00caff800000ca7f800000cbfff8000000000000cb00000000000007e8ca7f7fffffca00000001")),
        ("return hex(cmsgpack.pack(true, false, nil))", Ok("c3c2c0")),
        ("return hex(cmsgpack.pack(nil))", Ok("c0")),
        ("return hex(cmsgpack.pack())", Err("user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)")),
        ("return hex(cmsgpack.pack(''))", Ok("a0")),
        ("return hex(cmsgpack.pack(string.rep('a', 31)))", Ok("bf61616161616161616161616161616161616161616161616161616161616161")),
        ("return hex(cmsgpack.pack(string.rep('a', 32)):sub(1, 10))", Ok("d9206161616161616161")),
        ("return hex(cmsgpack.pack(string.rep('a', 255)):sub(1, 10))", Ok("d9ff6161616161616161")),
        ("return hex(cmsgpack.pack(string.rep('a', 256)):sub(1, 10))", Ok("da010061616161616161")),
        ("return hex(cmsgpack.pack(string.rep('a', 65535)):sub(1, 10))", Ok("daffff61616161616161")),
        ("return hex(cmsgpack.pack(string.rep('a', 65536)):sub(1, 14))", Ok("db00010000616161616161616161")),
        ("return hex(cmsgpack.pack({}))", Ok("90")),
        ("return hex(cmsgpack.pack({1, 2, 3}))", Ok("93010203")),
        ("return hex(cmsgpack.pack({1, nil, 3}))", Ok("8201010303")),
        ("return hex(cmsgpack.pack({[1]=1, [2]=2, [4]=4}))", Ok("83010102020404")),
        ("return hex(cmsgpack.pack({a=1}))", Ok("81a16101")),
        ("return hex(cmsgpack.pack({a=1, b=2}))", Ok("82a16101a16202")),
        ("return hex(cmsgpack.pack({1, 2, a=1}))", Ok("8301010202a16101")),
        ("return hex(cmsgpack.pack({[1.5]=1}))", Ok("81ca3fc0000001")),
        ("return hex(cmsgpack.pack({[0]=1}))", Ok("810001")),
        ("return hex(cmsgpack.pack({[-1]=1}))", Ok("81ff01")),
        ("return hex(cmsgpack.pack({[2]=1}))", Ok("810201")),
        ("return hex(cmsgpack.pack({[2^31]=1}))", Ok("81ce8000000001")),
        ("return hex(cmsgpack.pack({[true]='t'}))", Ok("81c3a174")),
        ("return hex(cmsgpack.pack({[{}]='t'}))", Ok("8190a174")),
        ("return hex(cmsgpack.pack({1, {2, {3, {}}}}))", Ok("92019202920390")),
        ("return hex(cmsgpack.pack(function() end, cmsgpack.pack))", Ok("c0c0")),
        ("return hex(cmsgpack.pack(cjson.null))", Ok("c0")),
        ("return hex(cmsgpack.pack({f=function() end}))", Ok("81a166c0")),
        ("return hex(cmsgpack.pack({1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16}):sub(1,10))", Ok("dc001001020304050607")),
        ("return hex(cmsgpack.pack({1,2,3,4,5,6,7,8,9,10,11,12,13,14,15}):sub(1,10))", Ok("9f010203040506070809")),
        ("return hex(cmsgpack.pack({a1=1,a2=1,a3=1,a4=1,a5=1,a6=1,a7=1,a8=1,a9=1,a10=1,a11=1,a12=1,a13=1,a14=1,a15=1,a16=1}):sub(1,10))", Ok("de0010a361313601a361")),
        ("return hex(cmsgpack.pack({{{{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}}}}))", Ok("91919191919191919191919191919191c0")),
        ("return hex(cmsgpack.pack({{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}))", Ok("9191919191919191919191919191919101")),
        ("return hex(cmsgpack.pack({{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}))", Ok("91919191919191919191919191919101")),
        ("return hex(cmsgpack.pack({a={b={c={d={e={f={g={h={i={j={k={l={m={n={o={p={q=1}}}}}}}}}}}}}}}}}))", Ok("81a16181a16281a16381a16481a16581a16681a16781a16881a16981a16a81a16b81a16c81a16d81a16e81a16f81a170c0")),
        ("return hex((function() local t = {} t[1] = t return cmsgpack.pack(t) end)())", Ok("91919191919191919191919191919191c0")),
        ("return hex((function() local t = {} t.a = t return cmsgpack.pack(t) end)())", Ok("81a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a16181a161c0")),
        ("return hex(cmsgpack.pack(1, {2}, 'three', {x=4}))", Ok("019102a5746872656581a17804")),
        ("return hex(cmsgpack.pack(12345678901234))", Ok("cf00000b3a73ce2ff2")),
        ("return hex(cmsgpack.pack(-12345678901234))", Ok("d3fffff4c58c31d00e")),
        ("return hex(cmsgpack.pack(4294967295.5))", Ok("cb41effffffff00000")),
        ("return hex(cmsgpack.pack(1e20))", Ok("cb4415af1d78b58c40")),
        ("return all(cmsgpack.unpack(cmsgpack.pack(1, 2.5, 'x', true, false, {1,2}, {a=1})))", Ok("{[1]=1,[2]=2.5,[3]=\"x\",[4]=true,[5]=false,[6]={[1]=1,[2]=2},[7]={[\"a\"]=1},[\"n\"]=7}")),
        ("return all(cmsgpack.unpack(cmsgpack.pack(nil)))", Ok("{[\"n\"]=1}")),
        ("return all(cmsgpack.unpack(cmsgpack.pack(1, nil, 3)))", Ok("{[1]=1,[3]=3,[\"n\"]=3}")),
        ("return all(cmsgpack.unpack(''))", Ok("{[\"n\"]=0}")),
        ("return all(cmsgpack.unpack())", Err("user_script:1: bad argument #1 to 'unpack' (string expected, got no value)")),
        ("return all(cmsgpack.unpack({}))", Err("user_script:1: bad argument #1 to 'unpack' (string expected, got table)")),
        ("return all(cmsgpack.unpack(5))", Ok("{[1]=53,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\192'))", Ok("{[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\204'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\204\\255'))", Ok("{[1]=255,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\208\\255'))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\205\\255\\254'))", Ok("{[1]=65534,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\209\\255\\254'))", Ok("{[1]=-2,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\206\\255\\255\\255\\254'))", Ok("{[1]=4294967294,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\210\\255\\255\\255\\254'))", Ok("{[1]=-2,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\254'))", Ok("{[1]=-2,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\207\\127\\255\\255\\255\\255\\255\\255\\255'))", Ok("{[1]=9.2233720368547758e+18,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\207\\128\\0\\0\\0\\0\\0\\0\\0'))", Ok("{[1]=-9.2233720368547758e+18,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\207\\0\\32\\0\\0\\0\\0\\0\\1'))", Ok("{[1]=9007199254740992,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\211\\255\\255\\255\\255\\255\\255\\255\\254'))", Ok("{[1]=-2,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\211\\128\\0\\0\\0\\0\\0\\0\\0'))", Ok("{[1]=-9.2233720368547758e+18,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\211\\0\\32\\0\\0\\0\\0\\0\\1'))", Ok("{[1]=9007199254740992,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\202\\63\\192\\0\\0'))", Ok("{[1]=1.5,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\203\\63\\248\\0\\0\\0\\0\\0\\0'))", Ok("{[1]=1.5,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\202\\127\\192\\0\\1'))", Ok("{[1]=nan,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\217\\3abc'))", Ok("{[1]=\"abc\",[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\217\\4abc'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\218\\0\\3abc'))", Ok("{[1]=\"abc\",[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\219\\0\\0\\0\\3abc'))", Ok("{[1]=\"abc\",[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\219\\255\\255\\255\\255abc'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\220\\0\\2\\1\\2'))", Ok("{[1]={[1]=1,[2]=2},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\221\\0\\0\\0\\2\\1\\2'))", Ok("{[1]={[1]=1,[2]=2},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\221\\255\\255\\255\\255\\1\\2'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\222\\0\\1\\1\\2'))", Ok("{[1]={[1]=2},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\223\\0\\0\\0\\1\\1\\2'))", Ok("{[1]={[1]=2},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\223\\255\\255\\255\\255\\1\\2'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\145'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\129\\1'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\129\\192\\1'))", Err("table index is nil")),
        ("return all(cmsgpack.unpack('\\130\\1\\192\\2\\3'))", Ok("{[1]={[2]=3},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\146\\192\\1'))", Ok("{[1]={[2]=1},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\147\\1\\192\\3'))", Ok("{[1]={[1]=1,[3]=3},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\147\\192\\192\\3'))", Ok("{[1]={[3]=3},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\193'))", Err("user_script:1: Bad data format in input.")),
        ("return all(cmsgpack.unpack('\\196\\1a'))", Err("user_script:1: Bad data format in input.")),
        ("return all(cmsgpack.unpack('\\199\\1\\1a'))", Err("user_script:1: Bad data format in input.")),
        ("return all(cmsgpack.unpack('\\212\\1\\1'))", Err("user_script:1: Bad data format in input.")),
        ("return all(cmsgpack.unpack('\\1\\193'))", Err("user_script:1: Bad data format in input.")),
        ("return all(cmsgpack.unpack('\\255\\224\\127\\0'))", Ok("{[1]=-1,[2]=-32,[3]=127,[4]=0,[\"n\"]=4}")),
        ("return all(cmsgpack.unpack('\\163abc\\163de'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\160'))", Ok("{[1]=\"\",[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\144\\128'))", Ok("{[1]={},[2]={},[\"n\"]=2}")),
        ("return all(cmsgpack.unpack('\\129\\145\\1\\2'))", Ok("{[1]={[{[1]=1}]=2},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack('\\129\\129\\1\\2\\3'))", Ok("{[1]={[{[1]=2}]=3},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3)))", Ok("{[1]=1,[2]=1,[\"n\"]=2}")),
        ("return all(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1))", Ok("{[1]=2,[2]=2,[\"n\"]=2}")),
        ("return all(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2))", Ok("{[1]=-1,[2]=3,[\"n\"]=2}")),
        ("return all(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4))", Err("user_script:1: Start offset 4 greater than input length 3.")),
        ("return all(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1))", Err("user_script:1: Invalid request to unpack with offset of -1 and limit of 3.")),
        ("return all(cmsgpack.unpack_one(''))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack_one('', 0))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack_one('\\1', 'x'))", Err("user_script:1: bad argument #2 to 'unpack_one' (number expected, got string)")),
        ("return all(cmsgpack.unpack_one('\\1', nil))", Ok("{[1]=-1,[2]=1,[\"n\"]=2}")),
        ("return all(cmsgpack.unpack_one('\\1', 1.7))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack_one('\\1\\2', '1'))", Ok("{[1]=-1,[2]=2,[\"n\"]=2}")),
        ("return all(cmsgpack.unpack_one())", Err("user_script:1: bad argument #1 to 'unpack_one' (string expected, got no value)")),
        ("return all(cmsgpack.unpack_one('\\204'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack_one('\\193'))", Err("user_script:1: Bad data format in input.")),
        ("return all(cmsgpack.unpack_one('\\1\\2', 0, 'extra'))", Ok("{[1]=1,[2]=1,[\"n\"]=2}")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2))", Ok("{[1]=2,[2]=1,[3]=2,[\"n\"]=3}")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 2))", Ok("{[1]=-1,[2]=3,[\"n\"]=2}")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5))", Ok("{[1]=-1,[2]=1,[3]=2,[4]=3,[\"n\"]=4}")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0))", Ok("{[1]=1,[2]=2,[3]=3,[\"n\"]=3}")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1))", Err("user_script:1: Invalid request to unpack with offset of 0 and limit of 3.")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, -1))", Err("user_script:1: Invalid request to unpack with offset of -1 and limit of 3.")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 4))", Err("user_script:1: Start offset 4 greater than input length 3.")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 3))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3)))", Err("user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 'x'))", Err("user_script:1: bad argument #2 to 'unpack_limit' (number expected, got string)")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2^40))", Ok("{[1]=-1,[2]=1,[3]=2,[4]=3,[\"n\"]=4}")),
        ("return all(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2^32 + 1))", Ok("{[1]=-1,[2]=1,[3]=2,[4]=3,[\"n\"]=4}")),
        ("return all(cmsgpack.unpack_limit('', 1))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(cmsgpack.unpack_limit('\\1\\2\\3', 1, 2^40))", Err("user_script:1: Start offset 0 greater than input length 3.")),
        ("return all(cmsgpack.unpack_limit('\\1\\2\\3', 1, 2^32+1))", Err("user_script:1: Start offset 1 greater than input length 3.")),
        ("return all(cmsgpack.unpack_limit('\\1\\2\\3', -2^32, 0))", Err("user_script:1: Invalid request to unpack with offset of 0 and limit of 3.")),
        ("return all(cmsgpack.unpack_one('\\1\\2\\3', -2^32-3))", Err("user_script:1: Invalid request to unpack with offset of -3 and limit of 3.")),
        ("return all(cmsgpack.unpack('\\1\\2\\3', 1))", Ok("{[1]=1,[2]=2,[3]=3,[\"n\"]=3}")),
        ("return all(cmsgpack.unpack(nil))", Err("user_script:1: bad argument #1 to 'unpack' (string expected, got nil)")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\145', 3999) .. '\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\145', 4000) .. '\\1')))", Err("user_script:1: stack overflow (in function mp_decode_to_lua_array)")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 3999) .. '\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 2700) .. '\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 2670) .. '\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 2666) .. '\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 2667) .. '\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 2668) .. '\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 2665) .. '\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack_one(string.rep('\\1', 9000))))", Ok("{[1]=2,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack_limit(string.rep('\\1', 9000), 7999)))", Err("user_script:1: stack overflow (in function mp_unpack_full)")),
        ("return all(select('#', cmsgpack.unpack_limit(string.rep('\\1', 9000), 7999, 5)))", Err("user_script:1: stack overflow (in function mp_unpack_full)")),
        ("return all(cmsgpack.unpack(cmsgpack.pack({[1.5]=1, [-1]=2, [0]=3})))", Ok("{[1]={[-1]=2,[0]=3,[1.5]=1},[\"n\"]=1}")),
        ("return all(cmsgpack.unpack(cmsgpack.pack({{{{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}}}})))", Ok("{[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={}}}}}}}}}}}}}}}},[\"n\"]=1}")),
        ("return hex(cmsgpack.pack({1, 2, [3.0]=3}))", Ok("93010203")),
        ("return hex(cmsgpack.pack({[1]='a', [2]='b', [3]='c', [2^32+1]='x'}))", Ok("8401a16102a162cf0000000100000001a17803a163")),
        ("return hex(cmsgpack.pack(setmetatable({}, {__index=function(t,k) return k end})))", Ok("90")),
        ("return hex(cmsgpack.pack({[1]=1, [3]=3, [2]=2}))", Ok("93010203")),
        ("return hex(cmsgpack.pack({n=1, 1}))", Ok("820101a16e01")),
        ("return hex(cmsgpack.pack(coroutine.create(function() end)))", Ok("c0")),
        ("return hex(cmsgpack.pack('a\\0b'))", Ok("a3610062")),
        ("return all(cmsgpack.unpack('\\163a\\0b'))", Ok("{[1]=\"a\\000b\",[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\1', 8000))))", Err("user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 4000) .. '\\1')))", Err("user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\129\\1', 4001) .. '\\1')))", Err("user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")),
        ("return all(cmsgpack.unpack('\\129\\202\\127\\192\\0\\1\\1'))", Err("table index is NaN")),
        ("return all(cmsgpack.unpack('\\129\\203\\255\\248\\0\\0\\0\\0\\0\\0\\1'))", Err("table index is NaN")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\145', 3998) .. '\\129\\1\\1')))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\145', 3999) .. '\\129\\1\\1')))", Err("user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\145', 3998) .. '\\129\\145\\1\\1')))", Err("user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)")),
        ("return all(select('#', cmsgpack.unpack(string.rep('\\1', 7990) .. string.rep('\\145', 5) .. '\\1')))", Err("user_script:1: stack overflow (in function mp_decode_to_lua_array)")),
        ("return all(select('#', cmsgpack.unpack_one(string.rep('\\145', 3999) .. '\\1')))", Ok("{[1]=2,[\"n\"]=1}")),
        ("return all(select('#', cmsgpack.unpack_one(string.rep('\\145', 4000) .. '\\1')))", Err("user_script:1: stack overflow (in function mp_decode_to_lua_array)")),
        ("return all(cmsgpack.unpack('\\146\\1'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\146\\1\\204'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\1\\2\\204'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack_limit('\\1\\2\\204', 2))", Ok("{[1]=2,[2]=1,[3]=2,[\"n\"]=3}")),
        ("return all(cmsgpack.unpack_limit('\\1\\2\\204', 3))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\130\\1'))", Err("user_script:1: Missing bytes in input.")),
        ("return all(cmsgpack.unpack('\\130\\1\\2\\1\\3'))", Ok("{[1]={[1]=3},[\"n\"]=1}")),
        ("return hex(cmsgpack.pack(2^63 - 1024))", Ok("cf7ffffffffffffc00")),
        ("return hex(cmsgpack.pack(-2^63 + 1024))", Ok("d38000000000000400")),
        ("return hex(cmsgpack.pack(1.5, {[1]=1.5, [2]={a=-1.5}}))", Ok("ca3fc0000092ca3fc0000081a161cabfc00000")),
        ("return hex(cmsgpack.pack({[1]=1, [2]=2, [3]=nil, [4]=4}))", Ok("83010102020404")),
        ("return hex(cmsgpack.pack({[1]=1, [2]=2, [3]=3, [5]=5}))", Ok("840101020205050303")),
        ("return hex(cmsgpack.pack({[1]=1, [2]=2, [3]=3, [3.5]=5}))", Ok("8401010202ca40600000050303")),
        ("return hex(cmsgpack.pack({[-0.0]=1}))", Ok("810001")),
        ("return hex(cmsgpack.pack({1, [-0.0]=1}))", Ok("8201010001")),
        ("return hex(cmsgpack.pack({['1']=1}))", Ok("81a13101")),
    ];
}
