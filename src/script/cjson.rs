//! `cjson`: Lua CJSON 2.1.0 as redis-server 7.0.15 embeds it (JSON for Lua 5.1).
//!
//! The table has `encode`, `decode`, the settings `encode_sparse_array`, `encode_max_depth`,
//! `decode_max_depth`, `encode_number_precision`, `encode_keep_buffer`,
//! `encode_invalid_numbers`, `decode_invalid_numbers`, `new` (a fresh table with its own
//! settings), `null` (a light userdata NULL) and `_NAME` = "cjson", `_VERSION` = "2.1.0".
//! The settings belong to the table: they persist across calls (in Redis, across scripts,
//! until the Lua state is reset).
//!
//! Encoding, as the C does it:
//! - Numbers are printed with `%.14g` (precision settable 1..14): `1e+15`, `0.1`, `-0`.
//!   NaN and infinities are errors unless `encode_invalid_numbers` is on (`nan`, `inf`) or
//!   `"null"`.
//! - Strings escape `"`, `\`, `/` (as `\/`), control characters and DEL (as `\u00XX`, or
//!   `\b \t \n \f \r`); other bytes pass through unchecked.
//! - A table is an array when all its keys are integers >= 1 and it is not excessively sparse
//!   (largest index > 2 x count and > 10, by default an error), with holes as `null`; any
//!   other table is an object in `next` order, with number keys printed as strings. An empty
//!   table is `{}`. The C keeps the largest index in an `int`, so an index of 2^31 or more
//!   behaves as `INT_MIN` (observed: `{[2^31]=1}` encodes as an object).
//! - Nesting deeper than `encode_max_depth` (1000) is "Cannot serialise, excessive nesting
//!   (N)", which also ends circular references.
//!
//! Decoding follows the C tokenizer: the input is a C string (a NUL byte ends it), numbers
//! are read by `strtod` (so with `decode_invalid_numbers` on, the default, hex numbers, `inf`,
//! `nan`, a leading `+` or leading zeros are accepted), `null` is `cjson.null`, and errors read
//! "Expected <what> but found <token> at character <n>".
//!
//! Invariants:
//! - Lua's C-stack limit (8000 slots) is counted as the C would have used it, so raising the
//!   depth settings fails where Redis fails ("excessive nesting (7998)" for nested arrays).
//! - Nesting is walked with explicit stacks, never native recursion, and each open level
//!   holds at most two Lua references (mlua's reference stack holds about 8000); a deeper
//!   structure fails with the nesting error of its direction.
//! - Decoding allocates by what the input holds. Encoding output is capped at
//!   [`OUTPUT_MAX`] bytes: sparse arrays (with a relaxed setting) and tables sharing a big
//!   value can expand without bound in the C; here that is an error.

use std::cell::Cell;
use std::rc::Rc;

use mlua::{Function, Lua, LuaString, MultiValue, Table, Value};

use super::libs::{self, Args, MAX_C_STACK};

/// The most bytes `encode` produces (the default `proto-max-bulk-len`, 512 MiB).
pub const OUTPUT_MAX: usize = 512 * 1024 * 1024;

/// One cjson table's settings (`json_config_t`), with the C's defaults.
#[derive(Clone, Copy)]
struct Config {
    encode_sparse_convert: i32,
    encode_sparse_ratio: i32,
    encode_sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0: error, 1: `nan`/`inf`, 2: `null`.
    encode_invalid_numbers: i32,
    encode_number_precision: i32,
    encode_keep_buffer: i32,
    decode_invalid_numbers: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_sparse_convert: 0,
            encode_sparse_ratio: 2,
            encode_sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            encode_number_precision: 14,
            encode_keep_buffer: 1,
            decode_invalid_numbers: 1,
        }
    }
}

type Shared = Rc<Cell<Config>>;

/// Registers the global `cjson` table.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    // Object encoding walks tables with Lua's own `next`, taken now, before any script runs.
    let next: Function = lua.globals().raw_get("next")?;
    let module = new_module(lua, Rc::new(next))?;
    lua.globals().raw_set("cjson", module)
}

/// `lua_cjson_new`: a cjson table with fresh settings.
fn new_module(lua: &Lua, next: Rc<Function>) -> mlua::Result<Table> {
    let cfg: Shared = Rc::new(Cell::new(Config::default()));
    let t = lua.create_table()?;

    let (c, n) = (cfg.clone(), next.clone());
    t.raw_set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            let args = Args::new(args);
            if args.len() != 1 {
                return Err(libs::arg_error(lua, 1, "expected 1 argument"));
            }
            let out = encode(lua, &c.get(), &n, args.get(1).unwrap_or(&Value::Nil))?;
            lua.create_string(&out)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            let args = Args::new(args);
            if args.len() != 1 {
                return Err(libs::arg_error(lua, 1, "expected 1 argument"));
            }
            let data = libs::check_bytes(lua, &args, 1)?;
            decode(lua, &c.get(), &data)
        })?,
    )?;

    let c = cfg.clone();
    t.raw_set(
        "encode_sparse_array",
        lua.create_function(move |lua, args: MultiValue| {
            let args = arg_init(lua, args, 3)?;
            let convert = enum_option(lua, &args, 1, &c, |c| &mut c.encode_sparse_convert, BOOL)?;
            let ratio = integer_option(
                lua,
                &args,
                2,
                &c,
                |c| &mut c.encode_sparse_ratio,
                0,
                i32::MAX,
            )?;
            let safe = integer_option(
                lua,
                &args,
                3,
                &c,
                |c| &mut c.encode_sparse_safe,
                0,
                i32::MAX,
            )?;
            Ok(MultiValue::from_vec(vec![convert, ratio, safe]))
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_max_depth",
        lua.create_function(move |lua, args: MultiValue| {
            let args = arg_init(lua, args, 1)?;
            integer_option(lua, &args, 1, &c, |c| &mut c.encode_max_depth, 1, i32::MAX)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode_max_depth",
        lua.create_function(move |lua, args: MultiValue| {
            let args = arg_init(lua, args, 1)?;
            integer_option(lua, &args, 1, &c, |c| &mut c.decode_max_depth, 1, i32::MAX)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_number_precision",
        lua.create_function(move |lua, args: MultiValue| {
            let args = arg_init(lua, args, 1)?;
            integer_option(lua, &args, 1, &c, |c| &mut c.encode_number_precision, 1, 14)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_keep_buffer",
        lua.create_function(move |lua, args: MultiValue| {
            // Which buffer the C encodes into changes nothing a script can see.
            let args = arg_init(lua, args, 1)?;
            enum_option(lua, &args, 1, &c, |c| &mut c.encode_keep_buffer, BOOL)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(move |lua, args: MultiValue| {
            let args = arg_init(lua, args, 1)?;
            let options = EnumOptions {
                names: &["off", "on", "null"],
                bool_true: 1,
            };
            enum_option(
                lua,
                &args,
                1,
                &c,
                |c| &mut c.encode_invalid_numbers,
                options,
            )
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode_invalid_numbers",
        lua.create_function(move |lua, args: MultiValue| {
            let args = arg_init(lua, args, 1)?;
            enum_option(lua, &args, 1, &c, |c| &mut c.decode_invalid_numbers, BOOL)
        })?,
    )?;
    let n = next.clone();
    t.raw_set(
        "new",
        lua.create_function(move |lua, _: MultiValue| new_module(lua, n.clone()))?,
    )?;
    t.raw_set("null", Value::NULL)?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

// ---------------------------------------------------------------------------------- settings

/// `json_arg_init`: at most `n` arguments (missing ones read as nil).
fn arg_init(lua: &Lua, args: MultiValue, n: usize) -> mlua::Result<Args> {
    let args = Args::new(args);
    if args.len() > n {
        return Err(libs::arg_error(
            lua,
            n as i64 + 1,
            "found too many arguments",
        ));
    }
    Ok(args)
}

/// `json_integer_option`: sets the integer from argument `idx` when given (as an `int`, so
/// `2^32 + 5` is 5), and returns the current value. The C reports a range error against
/// argument 1 whichever argument it was.
fn integer_option(
    lua: &Lua,
    args: &Args,
    idx: usize,
    cfg: &Shared,
    field: fn(&mut Config) -> &mut i32,
    min: i32,
    max: i32,
) -> mlua::Result<Value> {
    let mut c = cfg.get();
    if !args.is_none_or_nil(idx) {
        let value = libs::check_integer(lua, args, idx)? as i32;
        if !(min..=max).contains(&value) {
            return Err(libs::arg_error(
                lua,
                1,
                format!("expected integer between {min} and {max}"),
            ));
        }
        *field(&mut c) = value;
        cfg.set(c);
    }
    Ok(Value::Number(f64::from(*field(&mut c))))
}

/// The names of an enumerated setting, and the value `true` stands for (0: booleans not
/// accepted).
#[derive(Clone, Copy)]
struct EnumOptions {
    names: &'static [&'static str],
    bool_true: i32,
}

/// The on/off settings.
const BOOL: EnumOptions = EnumOptions {
    names: &["off", "on"],
    bool_true: 1,
};

/// `json_enum_option`: sets the setting from a boolean or an option name when given, and
/// returns it as a boolean (when it is 0 or the `true` value) or as its name.
fn enum_option(
    lua: &Lua,
    args: &Args,
    idx: usize,
    cfg: &Shared,
    field: fn(&mut Config) -> &mut i32,
    options: EnumOptions,
) -> mlua::Result<Value> {
    let mut c = cfg.get();
    match args.get(idx) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) if options.bool_true != 0 => {
            *field(&mut c) = i32::from(*b) * options.bool_true;
            cfg.set(c);
        }
        _ => {
            let name = libs::check_bytes(lua, args, idx)?;
            let name = libs::c_str(&name);
            let Some(i) = options.names.iter().position(|o| o.as_bytes() == name) else {
                let name = String::from_utf8_lossy(name);
                return Err(libs::arg_error(
                    lua,
                    idx as i64,
                    format!("invalid option '{name}'"),
                ));
            };
            *field(&mut c) = i as i32;
            cfg.set(c);
        }
    }
    let setting = *field(&mut c);
    if options.bool_true != 0 && (setting == 0 || setting == options.bool_true) {
        Ok(Value::Boolean(setting != 0))
    } else {
        let name = options.names.get(setting as usize).copied().unwrap_or("");
        Ok(Value::String(lua.create_string(name)?))
    }
}

// ---------------------------------------------------------------------------------- encoding

/// An open table while encoding, with the slots the C holds for it on the Lua stack while a
/// child is encoded (array: the element; object: key and value).
enum Open {
    Array {
        table: Table,
        len: i32,
        next: i32,
    },
    Object {
        table: Table,
        key: Value,
        first: bool,
    },
}

impl Open {
    fn slots(&self) -> usize {
        match self {
            Open::Array { .. } => 1,
            Open::Object { .. } => 2,
        }
    }
}

/// `json_encode`: `v` as JSON text.
///
/// Running out of mlua's reference stack (about 8000 live values) inside a deep structure
/// reads as the C's nesting error, which Redis gives at a depth somewhat further in.
fn encode(lua: &Lua, cfg: &Config, next: &Function, v: &Value) -> mlua::Result<Vec<u8>> {
    let depth = Cell::new(0);
    encode_walk(lua, cfg, next, v, &depth).map_err(|e| match e {
        mlua::Error::StackError => libs::error(
            lua,
            format!("Cannot serialise, excessive nesting ({})", depth.get() + 1),
        ),
        e => e,
    })
}

/// [`encode`], reporting the number of open tables in `depth` as it goes.
fn encode_walk(
    lua: &Lua,
    cfg: &Config,
    next: &Function,
    v: &Value,
    depth_now: &Cell<usize>,
) -> mlua::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut used = 1; // the argument
    let mut pending = Some(v.clone());
    loop {
        if let Some(v) = pending.take() {
            if let Value::Table(table) = v {
                let depth = open.len() + 1;
                let nesting_error = || {
                    libs::error(
                        lua,
                        format!("Cannot serialise, excessive nesting ({depth})"),
                    )
                };
                if depth > cfg.encode_max_depth as usize || used + 3 > MAX_C_STACK {
                    return Err(nesting_error());
                }
                let len = array_length(lua, cfg, &table)?;
                let frame = if len > 0 {
                    out.push(b'[');
                    Open::Array {
                        table,
                        len,
                        next: 1,
                    }
                } else {
                    out.push(b'{');
                    Open::Object {
                        table,
                        key: Value::Nil,
                        first: true,
                    }
                };
                used += frame.slots();
                open.push(frame);
                depth_now.set(open.len());
            } else {
                append_scalar(lua, cfg, &mut out, &v)?;
            }
        }
        if out.len() > OUTPUT_MAX {
            return Err(libs::error(
                lua,
                format!("Cannot serialise, output exceeds {OUTPUT_MAX} bytes"),
            ));
        }
        let Some(frame) = open.last_mut() else {
            return Ok(out);
        };
        match frame {
            Open::Array { table, len, next } => {
                if *next > *len {
                    out.push(b']');
                } else {
                    if *next > 1 {
                        out.push(b',');
                    }
                    pending = Some(table.raw_get(*next)?);
                    *next += 1;
                    continue;
                }
            }
            Open::Object { table, key, first } => {
                let (k, v): (Value, Value) = next.call((table.clone(), key.clone()))?;
                if k.is_nil() {
                    out.push(b'}');
                } else {
                    if !*first {
                        out.push(b',');
                    }
                    *first = false;
                    match &k {
                        Value::Integer(_) | Value::Number(_) => {
                            out.push(b'"');
                            append_number(lua, cfg, &mut out, number(&k))?;
                            out.extend_from_slice(b"\":");
                        }
                        Value::String(s) => {
                            append_string(&mut out, &s.as_bytes());
                            out.push(b':');
                        }
                        other => {
                            return Err(serialise_error(
                                lua,
                                other,
                                "table key must be a number or string",
                            ))
                        }
                    }
                    *key = k;
                    pending = Some(v);
                    continue;
                }
            }
        }
        if let Some(done) = open.pop() {
            used -= done.slots();
        }
        depth_now.set(open.len());
    }
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        _ => 0.0,
    }
}

/// `json_encode_exception`: "Cannot serialise <type>: <reason>".
fn serialise_error(lua: &Lua, v: &Value, reason: &str) -> mlua::Error {
    libs::error(
        lua,
        format!("Cannot serialise {}: {reason}", libs::type_name(Some(v))),
    )
}

/// Everything but tables.
fn append_scalar(lua: &Lua, cfg: &Config, out: &mut Vec<u8>, v: &Value) -> mlua::Result<()> {
    match v {
        Value::String(s) => append_string(out, &s.as_bytes()),
        Value::Integer(_) | Value::Number(_) => append_number(lua, cfg, out, number(v))?,
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        other => return Err(serialise_error(lua, other, "type not supported")),
    }
    Ok(())
}

/// `json_append_string`.
fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 15)]);
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// `json_append_number`.
fn append_number(lua: &Lua, cfg: &Config, out: &mut Vec<u8>, n: f64) -> mlua::Result<()> {
    match cfg.encode_invalid_numbers {
        0 if !n.is_finite() => {
            return Err(libs::error(
                lua,
                "Cannot serialise number: must not be NaN or Inf",
            ))
        }
        1 if n.is_nan() => {
            // Handled apart because %g may print a negative NaN as "-nan".
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if !n.is_finite() => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    format_g(out, n, cfg.encode_number_precision.clamp(1, 14) as usize);
    Ok(())
}

/// `lua_array_length`: the array length of a table, or -1 for an object. Errors for an
/// excessively sparse array unless conversion to an object is on.
fn array_length(lua: &Lua, cfg: &Config, table: &Table) -> mlua::Result<i32> {
    let mut max: i32 = 0;
    let mut items: i32 = 0;
    let mut object = false;
    table.for_each(|k: Value, _: Value| {
        if object {
            return Ok(());
        }
        // A number key that is not 0 (the C tests the number's truth) and is an integer >= 1.
        let k = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => f64::NAN,
        };
        if k != 0.0 && k.floor() == k && k >= 1.0 {
            if k > f64::from(max) {
                max = libs::c_f64_to_i32(k);
            }
            items = items.wrapping_add(1);
        } else {
            object = true;
        }
        Ok(())
    })?;
    if object {
        return Ok(-1);
    }
    if cfg.encode_sparse_ratio > 0
        && max > items.wrapping_mul(cfg.encode_sparse_ratio)
        && max > cfg.encode_sparse_safe
    {
        if cfg.encode_sparse_convert == 0 {
            return Err(libs::error(
                lua,
                "Cannot serialise table: excessively sparse array",
            ));
        }
        return Ok(-1);
    }
    Ok(max)
}

/// C's `%.<precision>g` (precision 1..=17): shortest of fixed and exponent notation with
/// `precision` significant digits, correctly rounded (ties to even, like glibc), trailing
/// zeros removed, `inf`/`-inf`/`nan`/`-nan` for the special values.
fn format_g(out: &mut Vec<u8>, v: f64, precision: usize) {
    if crate::util::num::write_non_finite(v, out) {
        return;
    }
    if v.is_sign_negative() {
        out.push(b'-');
    }
    if v == 0.0 {
        out.push(b'0');
        return;
    }
    // Rust prints "d.ddde<exp>" exactly rounded; %g decides the style from that exponent.
    let sci = format!("{:.*e}", precision - 1, v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let significant = digits
        .iter()
        .rposition(|&d| d != b'0')
        .map_or(1, |last| last + 1);
    let digits = &digits[..significant];
    if exp < -4 || exp >= precision as i32 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(e.to_string().as_bytes());
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

// ---------------------------------------------------------------------------------- decoding

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    /// A token error, with its description ("invalid token", "invalid number", ...).
    Error(&'static str),
}

impl Kind {
    /// `json_token_type_name`, or the error's description.
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::String => "T_STRING",
            Kind::Number => "T_NUMBER",
            Kind::Boolean => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error(what) => what,
        }
    }
}

struct Token {
    kind: Kind,
    /// Offset of the token (or of the error) in the input, 0-based.
    index: usize,
    number: f64,
    boolean: bool,
}

struct Parser<'a> {
    data: &'a [u8],
    ptr: usize,
    /// The current string token's bytes.
    text: Vec<u8>,
    invalid_numbers: bool,
}

impl Parser<'_> {
    /// The byte at `i`, with the C string's terminating NUL (and anything past it) as 0.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: Kind, index: usize) -> Token {
        Token {
            kind,
            index,
            number: 0.0,
            boolean: false,
        }
    }

    fn error(&self, what: &'static str) -> Token {
        self.token(Kind::Error(what), self.ptr)
    }

    /// `json_next_token`.
    fn next(&mut self) -> Token {
        while matches!(self.at(self.ptr), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let start = self.ptr;
        let ch = self.at(start);
        let single = match ch {
            b'{' => Some(Kind::ObjBegin),
            b'}' => Some(Kind::ObjEnd),
            b'[' => Some(Kind::ArrBegin),
            b']' => Some(Kind::ArrEnd),
            b',' => Some(Kind::Comma),
            b':' => Some(Kind::Colon),
            0 => return self.token(Kind::End, start),
            _ => None,
        };
        if let Some(kind) = single {
            self.ptr += 1;
            return self.token(kind, start);
        }
        match ch {
            b'"' => self.string_token(),
            b'-' | b'0'..=b'9' => {
                if !self.invalid_numbers && self.is_invalid_number() {
                    return self.error("invalid number");
                }
                self.number_token()
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if self.literal(b"true") {
                    let mut t = self.token(Kind::Boolean, start);
                    t.boolean = true;
                    t
                } else if self.literal(b"false") {
                    self.token(Kind::Boolean, start)
                } else if self.literal(b"null") {
                    self.token(Kind::Null, start)
                } else if self.invalid_numbers && self.is_invalid_number() {
                    self.number_token()
                } else {
                    self.error("invalid token")
                }
            }
            _ => self.error("invalid token"),
        }
    }

    /// Consumes `word` if the input continues with it.
    fn literal(&mut self, word: &[u8]) -> bool {
        let matches = word
            .iter()
            .enumerate()
            .all(|(i, &c)| self.at(self.ptr + i) == c);
        if matches {
            self.ptr += word.len();
        }
        matches
    }

    /// `json_is_invalid_number`: a number strict JSON refuses but `strtod` reads (leading
    /// `+`, hex, leading zeros, inf, nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        // `*p <= '9'` on a signed char: bytes from 0x80 up are negative, so "ordinary".
        if c <= b'9' || c >= 0x80 {
            return false;
        }
        self.starts_with_ci(p, b"inf") || self.starts_with_ci(p, b"nan")
    }

    fn starts_with_ci(&self, p: usize, word: &[u8]) -> bool {
        word.iter()
            .enumerate()
            .all(|(i, &c)| self.at(p + i).to_ascii_lowercase() == c)
    }

    /// `json_next_number_token`: `strtod` at the cursor.
    fn number_token(&mut self) -> Token {
        match strtod(self.data, self.ptr) {
            Some((n, end)) => {
                let mut t = self.token(Kind::Number, self.ptr);
                t.number = n;
                self.ptr = end;
                t
            }
            None => self.error("invalid number"),
        }
    }

    /// `json_next_string_token`: the string's bytes go to `self.text`.
    fn string_token(&mut self) -> Token {
        let start = self.ptr;
        self.ptr += 1;
        self.text.clear();
        loop {
            let mut ch = self.at(self.ptr);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error("unexpected end of string");
            }
            if ch == b'\\' {
                ch = match self.at(self.ptr + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                self.ptr += 1;
            }
            self.text.push(ch);
            self.ptr += 1;
        }
        self.ptr += 1;
        self.token(Kind::String, start)
    }

    /// `decode_hex4` at `p`: four hex digits, or `None`.
    fn hex4(&self, p: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |acc, i| {
            let c = self.at(p + i);
            let d = match c {
                b'0'..=b'9' => c - b'0',
                _ if (b'a'..=b'f').contains(&(c | 0x20)) => (c | 0x20) - b'a' + 10,
                _ => return None,
            };
            Some((acc << 4) | u32::from(d))
        })
    }

    /// `json_append_unicode_escape` with the cursor on the backslash of `\uXXXX`: appends
    /// the code point as UTF-8 (a surrogate pair as one code point) and moves past it.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.ptr + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            // A high surrogate, then `\u` and a low one.
            if cp & 0x400 != 0 || self.at(self.ptr + 6) != b'\\' || self.at(self.ptr + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.ptr + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let b = &mut self.text;
        if cp <= 0x7F {
            b.push(cp as u8);
        } else if cp <= 0x7FF {
            b.extend_from_slice(&[(cp >> 6) as u8 | 0xC0, (cp & 0x3F) as u8 | 0x80]);
        } else if cp <= 0xFFFF {
            b.extend_from_slice(&[
                (cp >> 12) as u8 | 0xE0,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        } else {
            b.extend_from_slice(&[
                (cp >> 18) as u8 | 0xF0,
                ((cp >> 12) & 0x3F) as u8 | 0x80,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        }
        self.ptr += len;
        true
    }
}

/// A container being filled while decoding.
enum Filling {
    Array {
        table: Table,
        next: i64,
    },
    Object {
        table: Table,
        key: Option<LuaString>,
    },
}

impl Filling {
    /// Slots the C holds on the Lua stack for it while a child is parsed (object: the key
    /// too).
    fn slots(&self) -> usize {
        match self {
            Filling::Array { .. } => 1,
            Filling::Object { .. } => 2,
        }
    }
}

/// What the parser expects next.
enum Want {
    Value(Token),
    Key(Token),
}

/// `json_decode`.
///
/// Running out of mlua's reference stack (about 8000 live values) inside a deep structure
/// reads as the C's nesting error, which Redis gives at a depth somewhat further in.
fn decode(lua: &Lua, cfg: &Config, data: &[u8]) -> mlua::Result<Value> {
    let last_open = Cell::new((0, 0));
    decode_walk(lua, cfg, data, &last_open).map_err(|e| match e {
        mlua::Error::StackError => {
            let (depth, at) = last_open.get();
            libs::error(
                lua,
                format!("Found too many nested data structures ({depth}) at character {at}"),
            )
        }
        e => e,
    })
}

/// [`decode`], reporting the depth and position of the last container opened in
/// `last_open`.
fn decode_walk(
    lua: &Lua,
    cfg: &Config,
    data: &[u8],
    last_open: &Cell<(usize, usize)>,
) -> mlua::Result<Value> {
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(libs::error(
            lua,
            "JSON parser does not support UTF-16 or UTF-32",
        ));
    }
    let mut p = Parser {
        data,
        ptr: 0,
        text: Vec::new(),
        invalid_numbers: cfg.decode_invalid_numbers != 0,
    };
    let parse_error = |what: &str, t: &Token| {
        libs::error(
            lua,
            format!(
                "Expected {what} but found {} at character {}",
                t.kind.name(),
                t.index + 1
            ),
        )
    };
    let mut open: Vec<Filling> = Vec::new();
    let mut used = 1; // the argument
    let first = p.next();
    let mut want = Want::Value(first);
    loop {
        let mut value = match want {
            Want::Key(t) => {
                if t.kind != Kind::String {
                    return Err(parse_error("object key string", &t));
                }
                let key = lua.create_string(&p.text)?;
                let t = p.next();
                if t.kind != Kind::Colon {
                    return Err(parse_error("colon", &t));
                }
                if let Some(Filling::Object { key: slot, .. }) = open.last_mut() {
                    *slot = Some(key);
                }
                want = Want::Value(p.next());
                continue;
            }
            Want::Value(t) => match t.kind {
                Kind::String => Value::String(lua.create_string(&p.text)?),
                Kind::Number => Value::Number(t.number),
                Kind::Boolean => Value::Boolean(t.boolean),
                Kind::Null => Value::NULL,
                Kind::ObjBegin | Kind::ArrBegin => {
                    let is_object = t.kind == Kind::ObjBegin;
                    let depth = open.len() + 1;
                    let needed = if is_object { 3 } else { 2 };
                    let at = p.ptr;
                    last_open.set((depth, at));
                    let nested_error = || {
                        libs::error(
                            lua,
                            format!(
                                "Found too many nested data structures ({depth}) at character {at}"
                            ),
                        )
                    };
                    if depth > cfg.decode_max_depth as usize || used + needed > MAX_C_STACK {
                        return Err(nested_error());
                    }
                    let table = lua.create_table()?;
                    let t = p.next();
                    let empty = if is_object {
                        Kind::ObjEnd
                    } else {
                        Kind::ArrEnd
                    };
                    if t.kind == empty {
                        Value::Table(table)
                    } else {
                        let filling = if is_object {
                            want = Want::Key(t);
                            Filling::Object { table, key: None }
                        } else {
                            want = Want::Value(t);
                            Filling::Array { table, next: 1 }
                        };
                        used += filling.slots();
                        open.push(filling);
                        continue;
                    }
                }
                _ => return Err(parse_error("value", &t)),
            },
        };
        // Store the finished value in its container; close the containers that end here.
        loop {
            let Some(mut filling) = open.pop() else {
                let t = p.next();
                if t.kind != Kind::End {
                    return Err(parse_error("the end", &t));
                }
                return Ok(value);
            };
            let (close, separator) = match &mut filling {
                Filling::Array { table, next } => {
                    table.raw_set(*next, value)?;
                    *next += 1;
                    (Kind::ArrEnd, "comma or array end")
                }
                Filling::Object { table, key } => {
                    if let Some(key) = key.take() {
                        table.raw_set(key, value)?;
                    }
                    (Kind::ObjEnd, "comma or object end")
                }
            };
            let t = p.next();
            if t.kind == close {
                used -= filling.slots();
                value = match filling {
                    Filling::Array { table, .. } | Filling::Object { table, .. } => {
                        Value::Table(table)
                    }
                };
                continue;
            }
            if t.kind != Kind::Comma {
                return Err(parse_error(separator, &t));
            }
            let next = p.next();
            want = match filling {
                Filling::Array { .. } => Want::Value(next),
                Filling::Object { .. } => Want::Key(next),
            };
            open.push(filling);
            break;
        }
    }
}

/// glibc's `strtod` in the C locale, reading from `start`: the value and the end of the
/// longest prefix that is a number, or `None` when there is none. Decimal numbers,
/// hexadecimal ones (`0x1.8p3`), `inf`/`infinity` and `nan`/`nan(payload)` in any case, with
/// an optional sign; correctly rounded. Bytes past the end read as the C string's NUL.
fn strtod(d: &[u8], start: usize) -> Option<(f64, usize)> {
    let at = |i: usize| d.get(i).copied().unwrap_or(0);
    let ci = |i: usize, word: &[u8]| {
        word.iter()
            .enumerate()
            .all(|(k, &c)| at(i + k).to_ascii_lowercase() == c)
    };
    let mut i = start;
    while matches!(at(i), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = at(i) == b'-';
    if matches!(at(i), b'-' | b'+') {
        i += 1;
    }
    let sign = |v: f64| if neg { -v } else { v };
    if ci(i, b"inf") {
        let end = if ci(i, b"infinity") { i + 8 } else { i + 3 };
        return Some((sign(f64::INFINITY), end));
    }
    if ci(i, b"nan") {
        let mut end = i + 3;
        let mut v = f64::NAN;
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                if let Some(payload) = strtoull_all(&d[end + 1..j]) {
                    // The payload goes below the quiet bit, if it leaves any bit set.
                    let mantissa = payload & 0x7_FFFF_FFFF_FFFF;
                    if mantissa != 0 {
                        v = f64::from_bits(v.to_bits() | mantissa);
                    }
                }
                end = j + 1;
            }
        }
        return Some((sign(v), end));
    }
    let hex_digit = |c: u8| c.is_ascii_hexdigit();
    if at(i) == b'0'
        && at(i + 1) | 0x20 == b'x'
        && (hex_digit(at(i + 2)) || (at(i + 2) == b'.' && hex_digit(at(i + 3))))
    {
        let (v, end) = hex_float(d, i + 2);
        return Some((sign(v), end));
    }
    // Decimal: digits [. digits], at least one digit, then an exponent if it has digits.
    let mut j = i;
    let mut digits = 0;
    while at(j).is_ascii_digit() {
        j += 1;
        digits += 1;
    }
    if at(j) == b'.' {
        j += 1;
        while at(j).is_ascii_digit() {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if at(j) | 0x20 == b'e' {
        let mut k = j + 1;
        if matches!(at(k), b'+' | b'-') {
            k += 1;
        }
        if at(k).is_ascii_digit() {
            while at(k).is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&d[i..j]).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((sign(v), j))
}

/// `strtoull(s, &end, 0)` that must read all of `s` (as glibc requires of a NaN payload):
/// decimal, octal with a leading 0, hex with 0x; saturating at `u64::MAX` like the C.
fn strtoull_all(s: &[u8]) -> Option<u64> {
    let (base, digits) = if s.len() > 2 && s[0] == b'0' && s[1] | 0x20 == b'x' {
        (16, &s[2..])
    } else if s.len() > 1 && s[0] == b'0' {
        (8, &s[1..])
    } else {
        (10, s)
    };
    if digits.is_empty() {
        // "" reads nothing but ends where it started: a zero payload. "0" is a plain zero.
        return Some(0);
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(base)?;
        v = v
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(d)))
            .unwrap_or(u64::MAX);
    }
    Some(v)
}

/// A hexadecimal float's digits from `i` (after "0x"): `h[.h][p[+-]d]`, correctly rounded.
fn hex_float(d: &[u8], mut i: usize) -> (f64, usize) {
    let at = |i: usize| d.get(i).copied().unwrap_or(0);
    let mut mant: u64 = 0;
    let mut sticky = false;
    let mut exp2: i64 = 0;
    let mut seen_point = false;
    loop {
        let c = at(i);
        let digit = match c {
            b'.' if !seen_point => {
                seen_point = true;
                i += 1;
                continue;
            }
            _ => match (c as char).to_digit(16) {
                Some(v) => u64::from(v),
                None => break,
            },
        };
        if mant >> 60 == 0 {
            mant = (mant << 4) | digit;
            if seen_point {
                exp2 -= 4;
            }
        } else {
            sticky |= digit != 0;
            if !seen_point {
                exp2 += 4;
            }
        }
        i += 1;
    }
    if at(i) | 0x20 == b'p' {
        let mut k = i + 1;
        let neg = at(k) == b'-';
        if matches!(at(k), b'+' | b'-') {
            k += 1;
        }
        if at(k).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(k).is_ascii_digit() {
                e = e.saturating_mul(10).saturating_add(i64::from(at(k) - b'0'));
                k += 1;
            }
            exp2 = exp2.saturating_add(if neg { -e } else { e });
            i = k;
        }
    }
    (scale_binary(mant, sticky, exp2), i)
}

/// `mant * 2^exp2` (with `sticky` set when nonzero bits were dropped below `mant`) rounded
/// once to the nearest double, ties to even, subnormals included.
fn scale_binary(mant: u64, sticky: bool, exp2: i64) -> f64 {
    if mant == 0 {
        return 0.0;
    }
    let shift = mant.leading_zeros();
    let m = mant << shift; // top bit set: value = m * 2^(e - 63)
    let e = exp2.saturating_sub(i64::from(shift)).saturating_add(63);
    if e > 1023 {
        return f64::INFINITY;
    }
    // Bits kept: 53 for normal results, fewer below 2^-1022.
    let keep = if e >= -1022 { 53 } else { 53 - (-1022 - e) };
    if keep < 0 {
        return 0.0;
    }
    let drop = 64 - keep as u32; // 11..=64
    let (mut q, rem, half) = if drop == 64 {
        (0u64, m, 1u64 << 63)
    } else {
        (m >> drop, m & ((1u64 << drop) - 1), 1u64 << (drop - 1))
    };
    if rem > half || (rem == half && (sticky || q & 1 == 1)) {
        q += 1;
    }
    // value = q * 2^(e - keep + 1); q <= 2^53, so scaling by powers of two is exact.
    ldexp(q as f64, e - keep + 1)
}

/// `x * 2^k` for an `x` and `k` whose result is representable (or overflows to infinity).
fn ldexp(mut x: f64, mut k: i64) -> f64 {
    let pow2 = |k: i64| f64::from_bits(((k + 1023) as u64) << 52);
    while k > 1000 {
        x *= pow2(1000);
        k -= 1000;
    }
    while k < -1000 {
        x *= pow2(-1000);
        k += 1000;
    }
    x * pow2(k)
}

#[cfg(test)]
mod tests {
    //! Expected values are facts observed on redis-server 7.0.15 (`EVAL` of the same one-line
    //! snippets, error replies reduced to their message). See `libs::testing` for the prelude.

    use mlua::{Function, Lua, Value};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::super::libs::testing::{check, deep_eq, lua, run};

    #[test]
    fn observed_on_redis() {
        check(CASES);
    }

    #[test]
    fn deep_nesting_near_the_lua_stack_limit() {
        // Observed on Redis with both depth settings raised to 100000: a cycle `t[1] = t`
        // fails with "excessive nesting (7998)", `t.a = t` with (4000); 10000 '[' fail to
        // decode with "(7999) at character 7999". Each open level here holds an mlua
        // reference and mlua keeps about 8000, so the same errors come a few levels earlier.
        let raise = "cjson.encode_max_depth(100000) cjson.decode_max_depth(100000) ";
        let cases = [
            (
                "local t = {} t[1] = t return cjson.encode(t)",
                "Cannot serialise, excessive nesting (7992)",
            ),
            (
                "local t = {} t.a = t return cjson.encode(t)",
                "Cannot serialise, excessive nesting (3996)",
            ),
            (
                "return cjson.decode(string.rep('[', 10000))",
                "Found too many nested data structures (7992) at character 7992",
            ),
            (
                "return cjson.decode(string.rep('{\"a\":', 10000))",
                "Found too many nested data structures (3996) at character 19976",
            ),
        ];
        for (snippet, want) in cases {
            let got = run(&format!("{raise}{snippet}"));
            assert_eq!(got, Err(format!("user_script:1: {want}")), "{snippet}");
        }
        // Below both limits, deep structures go through as on Redis.
        let snippet = format!(
            "{raise}return #cjson.encode(cjson.decode(string.rep('[', 7000) .. \
             string.rep(']', 7000))) .. ' ' .. #cjson.encode(cjson.decode(\
             string.rep('{{\"a\":', 3000) .. '1' .. string.rep('}}', 3000)))"
        );
        assert_eq!(run(&snippet), Ok("14000 18001".to_owned()));
    }

    #[test]
    fn settings_belong_to_each_table_and_persist() {
        let lua = lua();
        let run = |code: &str| super::super::libs::testing::run_in(&lua, code);
        assert_eq!(
            run("return tostring(cjson.encode_max_depth(3))"),
            Ok("3".into())
        );
        assert_eq!(
            run("return cjson.encode({{{{1}}}})"),
            Err("user_script:1: Cannot serialise, excessive nesting (4)".into())
        );
        assert_eq!(
            run("return cjson.new().encode({{{{1}}}})"),
            Ok("[[[[1]]]]".into())
        );
    }

    /// A random value that JSON carries unchanged: finite numbers whose `%.14g` text reads
    /// back exactly, byte strings, booleans, `cjson.null`, arrays (1..n) and string-keyed
    /// objects.
    fn json_value(lua: &Lua, null: &Value, rng: &mut StdRng, depth: u32) -> Value {
        match rng.gen_range(0..if depth < 4 { 8 } else { 5 }) {
            0 => Value::Number(f64::from(rng.gen_range(-1_000_000_000i32..1_000_000_000))),
            1 => Value::Number(f64::from(rng.gen_range(-100_000i32..100_000)) / 16.0),
            2 => {
                let len = rng.gen_range(0..40);
                let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
                Value::String(lua.create_string(&bytes).expect("string"))
            }
            3 => Value::Boolean(rng.gen()),
            4 => null.clone(),
            5 | 6 => {
                let t = lua.create_table().expect("table");
                for i in 1..=rng.gen_range(0..6) {
                    t.raw_set(i, json_value(lua, null, rng, depth + 1))
                        .expect("set");
                }
                Value::Table(t)
            }
            _ => {
                let t = lua.create_table().expect("table");
                for _ in 0..rng.gen_range(0..6) {
                    let len = rng.gen_range(0..8);
                    let key: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
                    let key = lua.create_string(&key).expect("key");
                    t.raw_set(key, json_value(lua, null, rng, depth + 1))
                        .expect("set");
                }
                Value::Table(t)
            }
        }
    }

    #[test]
    fn round_trip_random_values() {
        let lua = lua();
        let cjson: mlua::Table = lua.globals().get("cjson").expect("cjson");
        let encode: Function = cjson.get("encode").expect("encode");
        let decode: Function = cjson.get("decode").expect("decode");
        let null: Value = cjson.get("null").expect("null");
        let mut rng = StdRng::seed_from_u64(16);
        for _ in 0..500 {
            let v = json_value(&lua, &null, &mut rng, 0);
            let text: mlua::LuaString = encode.call(v.clone()).expect("encode");
            let back: Value = decode.call(text.clone()).expect("decode");
            assert!(
                deep_eq(&v, &back),
                "round trip of {:?}",
                text.to_string_lossy()
            );
        }
    }

    #[test]
    fn format_g_matches_c() {
        // C's printf("%.14g") / ("%.1g") outputs for these values.
        let cases: &[(f64, usize, &str)] = &[
            (0.1, 14, "0.1"),
            (1.0 / 3.0, 14, "0.33333333333333"),
            (1e15, 14, "1e+15"),
            (123_456_789_012_345.0, 14, "1.2345678901234e+14"),
            (99_999_999_999_999.5, 14, "1e+14"),
            (1e-5, 14, "1e-05"),
            (0.0001, 14, "0.0001"),
            (-0.0, 14, "-0"),
            (5e-324, 14, "4.9406564584125e-324"),
            (2.5, 1, "2"),
            (0.25, 1, "0.2"),
            (35.0, 1, "4e+01"),
            (f64::INFINITY, 14, "inf"),
            (f64::NEG_INFINITY, 14, "-inf"),
        ];
        for &(v, p, want) in cases {
            let mut out = Vec::new();
            super::format_g(&mut out, v, p);
            assert_eq!(
                String::from_utf8_lossy(&out),
                want,
                "{v} with precision {p}"
            );
        }
    }

    const CASES: &[(&str, Result<&str, &str>)] = &[
        // GENERATED: cjson
        ("return cjson.encode({1,2,{a=1}})", Ok("[1,2,{\"a\":1}]")),
        ("return cjson.encode(1) .. ' ' .. cjson.encode(-1) .. ' ' .. cjson.encode(0) .. ' ' .. cjson.encode(-0.0) .. ' ' .. cjson.encode(0.1) .. ' ' .. cjson.encode(1/3)", Ok("1 -1 0 0 0.1 0.33333333333333")),
        ("return cjson.encode(1e15) .. ' ' .. cjson.encode(1e14) .. ' ' .. cjson.encode(123456789012345) .. ' ' .. cjson.encode(12345678901234) .. ' ' .. cjson.encode(2^53) .. ' ' .. cjson.encode(1e-5) .. ' ' .. cjson.encode(1e-4) .. ' ' .. cjson.encode(1e300) .. ' ' .. cjson.encode(-1.5e-300) .. ' ' .. cjson.encode(5e-324)", Ok("1e+15 1e+14 1.2345678901234e+14 12345678901234 9.007199254741e+15 1e-05 0.0001 1e+300 -1.5e-300 4.9406564584125e-324")),
        ("return cjson.encode(0.5) .. ' ' .. cjson.encode(100) .. ' ' .. cjson.encode(3.14159265358979) .. ' ' .. cjson.encode(2^63) .. ' ' .. cjson.encode(0.1+0.2) .. ' ' .. cjson.encode(1e21) .. ' ' .. cjson.encode(99999999999999.5) .. ' ' .. cjson.encode(999999999999995)", Ok("0.5 100 3.1415926535898 9.2233720368548e+18 0.3 1e+21 1e+14 1e+15")),
        ("return cjson.encode(1/0)", Err("user_script:1: Cannot serialise number: must not be NaN or Inf")),
        ("return cjson.encode(-1/0)", Err("user_script:1: Cannot serialise number: must not be NaN or Inf")),
        ("return cjson.encode(0/0)", Err("user_script:1: Cannot serialise number: must not be NaN or Inf")),
        ("return cjson.encode({1/0})", Err("user_script:1: Cannot serialise number: must not be NaN or Inf")),
        ("return cjson.encode({a=0/0})", Err("user_script:1: Cannot serialise number: must not be NaN or Inf")),
        ("return cjson.encode('hello') .. cjson.encode('') .. cjson.encode('a/b') .. cjson.encode('q\"q') .. cjson.encode('b\\\\s')", Ok("\"hello\"\"\"\"a\\/b\"\"q\\\"q\"\"b\\\\s\"")),
        ("return hex(cjson.encode('\\0\\1\\2\\3\\4\\5\\6\\7\\8\\9\\10\\11\\12\\13\\14\\15\\16\\17\\18\\19\\20\\21\\22\\23\\24\\25\\26\\27\\28\\29\\30\\31\\32\\127\\128\\255'))", Ok("225c75303030305c75303030315c75303030325c75303030335c75303030345c75303030355c75303030365c75303030375c625c745c6e5c75303030625c665c725c75303030655c75303030665c75303031305c75303031315c75303031325c75303031335c75303031345c75303031355c75303031365c75303031375c75303031385c75303031395c75303031615c75303031625c75303031635c75303031645c75303031655c7530303166205c753030376680ff22")),
        ("return hex(cjson.encode('\\195\\169 \\240\\159\\152\\128'))", Ok("22c3a920f09f988022")),
        ("return cjson.encode(true) .. cjson.encode(false) .. cjson.encode(nil) .. cjson.encode(cjson.null)", Ok("truefalsenullnull")),
        ("return cjson.encode({})", Ok("{}")),
        ("return cjson.encode({{}, {{}}})", Ok("[{},[{}]]")),
        ("return cjson.encode({1, 2, 3})", Ok("[1,2,3]")),
        ("return cjson.encode({1, nil, 3})", Ok("[1,null,3]")),
        ("return cjson.encode({[1]=1, [3]=3})", Ok("[1,null,3]")),
        ("return cjson.encode({[1]=1, [4]=4})", Ok("[1,null,null,4]")),
        ("return cjson.encode({[1]=1, [10]=10})", Ok("[1,null,null,null,null,null,null,null,null,10]")),
        ("return cjson.encode({[1]=1, [11]=11})", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return cjson.encode({[10]=10})", Ok("[null,null,null,null,null,null,null,null,null,10]")),
        ("return cjson.encode({[11]=11})", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return cjson.encode({[1]=1, [2]=2, [11]=11})", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return cjson.encode({[1]=1, [2]=2, [3]=3, [4]=4, [5]=5, [6]=6, [12]=12})", Ok("[1,2,3,4,5,6,null,null,null,null,null,12]")),
        ("return cjson.encode({[0]=0})", Ok("{\"0\":0}")),
        ("return cjson.encode({[-1]=1})", Ok("{\"-1\":1}")),
        ("return cjson.encode({[1.5]=1})", Ok("{\"1.5\":1}")),
        ("return cjson.encode({[1]=1, [1.5]=1})", Ok("{\"1\":1,\"1.5\":1}")),
        ("return cjson.encode({a=1})", Ok("{\"a\":1}")),
        ("return cjson.encode({a=1, b=2, c=3})", Ok("{\"a\":1,\"c\":3,\"b\":2}")),
        ("return cjson.encode({1, 2, a=3})", Ok("{\"1\":1,\"2\":2,\"a\":3}")),
        ("return cjson.encode({[1]=1, ['2']=2})", Ok("{\"1\":1,\"2\":2}")),
        ("return cjson.encode({[true]=1})", Err("user_script:1: Cannot serialise boolean: table key must be a number or string")),
        ("return cjson.encode({[{}]=1})", Err("user_script:1: Cannot serialise table: table key must be a number or string")),
        ("return cjson.encode({[2^31]=1})", Ok("{\"2147483648\":1}")),
        ("return cjson.encode({[2^31]=1, [1]=2})", Ok("[2]")),
        ("return cjson.encode({[2^32+1]=1})", Ok("{\"4294967297\":1}")),
        ("return cjson.encode({[1/0]=1})", Err("user_script:1: Cannot serialise number: must not be NaN or Inf")),
        ("return cjson.encode({[-1/0]=1})", Err("user_script:1: Cannot serialise number: must not be NaN or Inf")),
        ("return cjson.encode({[1e20]=1})", Ok("{\"1e+20\":1}")),
        ("return cjson.encode(function() end)", Err("user_script:1: Cannot serialise function: type not supported")),
        ("return cjson.encode({function() end})", Err("user_script:1: Cannot serialise function: type not supported")),
        ("return cjson.encode({a=function() end})", Err("user_script:1: Cannot serialise function: type not supported")),
        ("return cjson.encode(coroutine.create(function() end))", Err("user_script:1: Cannot serialise thread: type not supported")),
        ("return cjson.encode()", Err("user_script:1: bad argument #1 to 'encode' (expected 1 argument)")),
        ("return cjson.encode(1, 2)", Err("user_script:1: bad argument #1 to 'encode' (expected 1 argument)")),
        ("return cjson.encode(nil, nil)", Err("user_script:1: bad argument #1 to 'encode' (expected 1 argument)")),
        ("return cjson.encode({a={b={c={1,2,{d='x'}}}}})", Ok("{\"a\":{\"b\":{\"c\":[1,2,{\"d\":\"x\"}]}}}")),
        ("return cjson.encode({'a', {b=true, c=false}, cjson.null})", Ok("[\"a\",{\"c\":false,\"b\":true},null]")),
        ("return cjson.encode({cjson.null, nil, 3})", Ok("[null,null,3]")),
        ("return cjson.encode({key='va\"lue', ['k/e\"y']='v'})", Ok("{\"key\":\"va\\\"lue\",\"k\\/e\\\"y\":\"v\"}")),
        ("return cjson.encode({[1]='a', [2]='b', x={}})", Ok("{\"1\":\"a\",\"2\":\"b\",\"x\":{}}")),
        ("return (function() local t = {} t[1] = t return cjson.encode(t) end)()", Err("user_script:1: Cannot serialise, excessive nesting (1001)")),
        ("return (function() local t = {} t.a = t return cjson.encode(t) end)()", Err("user_script:1: Cannot serialise, excessive nesting (1001)")),
        ("return (function() local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t) end)()", Ok("2000")),
        ("return (function() local t = {} local c = t for i = 1, 1000 do c[1] = {} c = c[1] end return cjson.encode(t) end)()", Err("user_script:1: Cannot serialise, excessive nesting (1001)")),
        ("return all(cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), cjson.encode_keep_buffer(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers(), cjson.encode_sparse_array())", Ok("{[1]=1000,[2]=1000,[3]=14,[4]=true,[5]=false,[6]=true,[7]=false,[8]=2,[9]=10,[\"n\"]=9}")),
        ("return all(cjson.encode_max_depth(3), cjson.encode({{{1}}}))", Ok("{[1]=3,[2]=\"[[[1]]]\",[\"n\"]=2}")),
        ("return all(cjson.encode_max_depth(3), cjson.encode({{{{1}}}}))", Err("user_script:1: Cannot serialise, excessive nesting (4)")),
        ("return all(cjson.encode_max_depth(0))", Err("user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")),
        ("return all(cjson.encode_max_depth(-1))", Err("user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")),
        ("return all(cjson.encode_max_depth('x'))", Err("user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got string)")),
        ("return all(cjson.encode_max_depth('5'))", Ok("{[1]=5,[\"n\"]=1}")),
        ("return all(cjson.encode_max_depth(5.7))", Ok("{[1]=5,[\"n\"]=1}")),
        ("return all(cjson.encode_max_depth(2^31))", Err("user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)")),
        ("return all(cjson.encode_max_depth(2^32 + 5))", Ok("{[1]=5,[\"n\"]=1}")),
        ("return all(cjson.encode_max_depth(1, 2))", Err("user_script:1: bad argument #2 to 'encode_max_depth' (found too many arguments)")),
        ("return all(cjson.encode_max_depth(nil))", Ok("{[1]=1000,[\"n\"]=1}")),
        ("return all(cjson.encode_max_depth(true))", Err("user_script:1: bad argument #1 to 'encode_max_depth' (number expected, got boolean)")),
        ("return all(cjson.decode_max_depth(2), cjson.decode('[[1]]'))", Ok("{[1]=2,[2]={[1]={[1]=1}},[\"n\"]=2}")),
        ("return all(cjson.decode_max_depth(2), cjson.decode('[[[1]]]'))", Err("user_script:1: Found too many nested data structures (3) at character 3")),
        ("return all(cjson.decode_max_depth(2), cjson.decode('{\"a\":{\"b\":{\"c\":1}}}'))", Err("user_script:1: Found too many nested data structures (3) at character 11")),
        ("return all(cjson.decode_max_depth(0))", Err("user_script:1: bad argument #1 to 'decode_max_depth' (expected integer between 1 and 2147483647)")),
        ("return all(cjson.encode_number_precision(3), cjson.encode(1/3), cjson.encode(12345), cjson.encode(0.0001234567))", Ok("{[1]=3,[2]=\"0.333\",[3]=\"1.23e+04\",[4]=\"0.000123\",[\"n\"]=4}")),
        ("return all(cjson.encode_number_precision(1), cjson.encode(2.5), cjson.encode(0.25), cjson.encode(35), cjson.encode(15), cjson.encode(0.15))", Ok("{[1]=1,[2]=\"2\",[3]=\"0.2\",[4]=\"4e+01\",[5]=\"2e+01\",[6]=\"0.1\",[\"n\"]=6}")),
        ("return all(cjson.encode_number_precision(14), cjson.encode(1/3))", Ok("{[1]=14,[2]=\"0.33333333333333\",[\"n\"]=2}")),
        ("return all(cjson.encode_number_precision(15))", Err("user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)")),
        ("return all(cjson.encode_number_precision(0))", Err("user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)")),
        ("return all(cjson.encode_number_precision('x'))", Err("user_script:1: bad argument #1 to 'encode_number_precision' (number expected, got string)")),
        ("return all(cjson.encode_invalid_numbers(true), cjson.encode(1/0), cjson.encode(-1/0), cjson.encode(0/0), cjson.encode({1/0, -(0/0)}))", Ok("{[1]=true,[2]=\"inf\",[3]=\"-inf\",[4]=\"nan\",[5]=\"[inf,nan]\",[\"n\"]=5}")),
        ("return all(cjson.encode_invalid_numbers('null'), cjson.encode(1/0), cjson.encode(-1/0), cjson.encode(0/0), cjson.encode({a=1/0}))", Ok("{[1]=\"null\",[2]=\"null\",[3]=\"null\",[4]=\"null\",[5]=\"{\\\"a\\\":null}\",[\"n\"]=5}")),
        ("return all(cjson.encode_invalid_numbers('on'), cjson.encode_invalid_numbers('off'), cjson.encode_invalid_numbers('null'), cjson.encode_invalid_numbers(false), cjson.encode_invalid_numbers())", Ok("{[1]=true,[2]=false,[3]=\"null\",[4]=false,[5]=false,[\"n\"]=5}")),
        ("return all(cjson.encode_invalid_numbers('maybe'))", Err("user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option 'maybe')")),
        ("return all(cjson.encode_invalid_numbers(1))", Err("user_script:1: bad argument #1 to 'encode_invalid_numbers' (invalid option '1')")),
        ("return all(cjson.encode_invalid_numbers({}))", Err("user_script:1: bad argument #1 to 'encode_invalid_numbers' (string expected, got table)")),
        ("return all(cjson.encode_invalid_numbers(true), cjson.encode({[1/0]=1}))", Ok("{[1]=true,[2]=\"{\\\"inf\\\":1}\",[\"n\"]=2}")),
        ("return all(cjson.encode_invalid_numbers('null'), cjson.encode({[1/0]=1}))", Ok("{[1]=\"null\",[2]=\"{\\\"null\\\":1}\",[\"n\"]=2}")),
        ("return all(cjson.decode_invalid_numbers(false), cjson.decode_invalid_numbers('on'), cjson.decode_invalid_numbers('off'), cjson.decode_invalid_numbers())", Ok("{[1]=false,[2]=true,[3]=false,[4]=false,[\"n\"]=4}")),
        ("return all(cjson.decode_invalid_numbers('null'))", Err("user_script:1: bad argument #1 to 'decode_invalid_numbers' (invalid option 'null')")),
        ("return all(cjson.encode_keep_buffer(false), cjson.encode({1}), cjson.encode_keep_buffer('on'), cjson.encode_keep_buffer())", Ok("{[1]=false,[2]=\"[1]\",[3]=true,[4]=true,[\"n\"]=4}")),
        ("return all(cjson.encode_keep_buffer('x'))", Err("user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option 'x')")),
        ("return all(cjson.encode_sparse_array(true), cjson.encode({[1]=1, [20]=2}))", Ok("{[1]=true,[2]=\"{\\\"1\\\":1,\\\"20\\\":2}\",[\"n\"]=2}")),
        ("return all(cjson.encode_sparse_array(true, 0), cjson.encode({[1]=1, [20]=2}))", Ok("{[1]=true,[2]=\"[1,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,2]\",[\"n\"]=2}")),
        ("return all(cjson.encode_sparse_array(false, 1), cjson.encode({[1]=1, [20]=2}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode_sparse_array(false, 1, 0), cjson.encode({[1]=1, [3]=2}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode_sparse_array(true, 1, 0), cjson.encode({[1]=1, [3]=2}))", Ok("{[1]=true,[2]=\"{\\\"1\\\":1,\\\"3\\\":2}\",[\"n\"]=2}")),
        ("return all(cjson.encode_sparse_array(false, 1, 0), cjson.encode({[1]=1, [2]=2}))", Ok("{[1]=false,[2]=\"[1,2]\",[\"n\"]=2}")),
        ("return all(cjson.encode_sparse_array(false, 3, 2), cjson.encode({[1]=1, [3]=2}))", Ok("{[1]=false,[2]=\"[1,null,2]\",[\"n\"]=2}")),
        ("return all(cjson.encode_sparse_array(nil, nil, 5), cjson.encode_sparse_array())", Ok("{[1]=false,[2]=false,[3]=2,[4]=5,[\"n\"]=4}")),
        ("return all(cjson.encode_sparse_array('on', 7))", Ok("{[1]=true,[2]=7,[3]=10,[\"n\"]=3}")),
        ("return all(cjson.encode_sparse_array('x'))", Err("user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option 'x')")),
        ("return all(cjson.encode_sparse_array(true, -1))", Err("user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)")),
        ("return all(cjson.encode_sparse_array(true, 1, -1))", Err("user_script:1: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)")),
        ("return all(cjson.encode_sparse_array(true, 1, 2, 3))", Err("user_script:1: bad argument #4 to 'encode_sparse_array' (found too many arguments)")),
        ("return all(cjson.encode_sparse_array(1))", Err("user_script:1: bad argument #1 to 'encode_sparse_array' (invalid option '1')")),
        ("return all(cjson.encode_sparse_array(false, 2^31 - 1), cjson.encode({[1]=1, [20]=1}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode_sparse_array(false, 2^30), cjson.encode({[1]=1, [2]=1, [20]=1}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode_sparse_array(false, 3), cjson.encode({[1]=1, [20]=1}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return cjson.decode('[1,2,{\"a\":1}]')[3].a", Ok("1")),
        ("return all(cjson.decode('[1,2,{\"a\":1}]'))", Ok("{[1]={[1]=1,[2]=2,[3]={[\"a\"]=1}},[\"n\"]=1}")),
        ("return all(cjson.decode('{\"a\":1,\"b\":[true,false,null],\"c\":\"s\"}'))", Ok("{[1]={[\"a\"]=1,[\"b\"]={[1]=true,[2]=false,[3]=null},[\"c\"]=\"s\"},[\"n\"]=1}")),
        ("return all(cjson.decode('1'), cjson.decode('-1.5'), cjson.decode('1e3'), cjson.decode('1E-3'), cjson.decode('0'), cjson.decode('-0'), cjson.decode('0.5'))", Ok("{[1]=1,[2]=-1.5,[3]=1000,[4]=0.001,[5]=0,[6]=-0,[7]=0.5,[\"n\"]=7}")),
        ("return all(cjson.decode('\"str\"'), cjson.decode('true'), cjson.decode('false'), cjson.decode('null'))", Ok("{[1]=\"str\",[2]=true,[3]=false,[4]=null,[\"n\"]=4}")),
        ("return all(cjson.decode('0x10'), cjson.decode('0X1A'), cjson.decode('0x1p3'), cjson.decode('+1'), cjson.decode('01'), cjson.decode('1.'), cjson.decode('-0x10'))", Ok("{[1]=16,[2]=26,[3]=8,[4]=1,[5]=1,[6]=1,[7]=-16,[\"n\"]=7}")),
        ("return all(cjson.decode('inf'), cjson.decode('-inf'), cjson.decode('Infinity'), cjson.decode('-Infinity'), cjson.decode('INF'), cjson.decode('+inf'))", Ok("{[1]=inf,[2]=-inf,[3]=inf,[4]=-inf,[5]=inf,[6]=inf,[\"n\"]=6}")),
        ("return all(cjson.decode('nan'), cjson.decode('NaN'), cjson.decode('-nan'), cjson.decode('+nan'), cjson.decode('nan(123)'))", Ok("{[1]=nan,[2]=nan,[3]=-nan,[4]=nan,[5]=nan,[\"n\"]=5}")),
        ("return all(cjson.decode('1e400'), cjson.decode('-1e400'), cjson.decode('1e-400'), cjson.decode('4.9e-324'), cjson.decode('123456789012345678901234567890'))", Ok("{[1]=inf,[2]=-inf,[3]=0,[4]=4.9406564584124654e-324,[5]=1.2345678901234568e+29,[\"n\"]=5}")),
        ("return all(cjson.decode('0.1'), cjson.decode('0.30000000000000004'), cjson.decode('1.7976931348623157e308'), cjson.decode('2.2250738585072011e-308'))", Ok("{[1]=0.10000000000000001,[2]=0.30000000000000004,[3]=1.7976931348623157e+308,[4]=2.2250738585072009e-308,[\"n\"]=4}")),
        ("return all(cjson.decode('.5'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('1e'))", Err("user_script:1: Expected the end but found invalid token at character 2")),
        ("return all(cjson.decode('1e+'))", Err("user_script:1: Expected the end but found invalid token at character 2")),
        ("return all(cjson.decode('-'))", Err("user_script:1: Expected value but found invalid number at character 1")),
        ("return all(cjson.decode('- 1'))", Err("user_script:1: Expected value but found invalid number at character 1")),
        ("return all(cjson.decode('0x'))", Err("user_script:1: Expected the end but found invalid token at character 2")),
        ("return all(cjson.decode('0xg'))", Err("user_script:1: Expected the end but found invalid token at character 2")),
        ("return all(cjson.decode('inferior'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return all(cjson.decode('infinity'))", Ok("{[1]=inf,[\"n\"]=1}")),
        ("return all(cjson.decode('infinit'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return all(cjson.decode('nul'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('n'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('tru'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('truex'))", Err("user_script:1: Expected the end but found invalid token at character 5")),
        ("return all(cjson.decode('True'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('NULL'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('Nan'))", Ok("{[1]=nan,[\"n\"]=1}")),
        ("return all(cjson.decode('nanx'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return all(cjson.decode('1 2'))", Err("user_script:1: Expected the end but found T_NUMBER at character 3")),
        ("return all(cjson.decode(''))", Err("user_script:1: Expected value but found T_END at character 1")),
        ("return all(cjson.decode('   '))", Err("user_script:1: Expected value but found T_END at character 4")),
        ("return all(cjson.decode(' \\t\\r\\n 1 \\t\\r\\n '))", Ok("{[1]=1,[\"n\"]=1}")),
        ("return all(cjson.decode('\\f1'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('[1,]'))", Err("user_script:1: Expected value but found T_ARR_END at character 4")),
        ("return all(cjson.decode('[,1]'))", Err("user_script:1: Expected value but found T_COMMA at character 2")),
        ("return all(cjson.decode('[1 2]'))", Err("user_script:1: Expected comma or array end but found T_NUMBER at character 4")),
        ("return all(cjson.decode('[1'))", Err("user_script:1: Expected comma or array end but found T_END at character 3")),
        ("return all(cjson.decode('['))", Err("user_script:1: Expected value but found T_END at character 2")),
        ("return all(cjson.decode(']'))", Err("user_script:1: Expected value but found T_ARR_END at character 1")),
        ("return all(cjson.decode('[1]]'))", Err("user_script:1: Expected the end but found T_ARR_END at character 4")),
        ("return all(cjson.decode('{\"a\":1,}'))", Err("user_script:1: Expected object key string but found T_OBJ_END at character 8")),
        ("return all(cjson.decode('{1:2}'))", Err("user_script:1: Expected object key string but found T_NUMBER at character 2")),
        ("return all(cjson.decode('{\"a\" 1}'))", Err("user_script:1: Expected colon but found T_NUMBER at character 6")),
        ("return all(cjson.decode('{\"a\":}'))", Err("user_script:1: Expected value but found T_OBJ_END at character 6")),
        ("return all(cjson.decode('{\"a\":1 \"b\":2}'))", Err("user_script:1: Expected comma or object end but found T_STRING at character 8")),
        ("return all(cjson.decode('{\"a\"'))", Err("user_script:1: Expected colon but found T_END at character 5")),
        ("return all(cjson.decode('{'))", Err("user_script:1: Expected object key string but found T_END at character 2")),
        ("return all(cjson.decode('{}'))", Ok("{[1]={},[\"n\"]=1}")),
        ("return all(cjson.decode('[]'))", Ok("{[1]={},[\"n\"]=1}")),
        ("return all(cjson.decode('[[],{},[{}]]'))", Ok("{[1]={[1]={},[2]={},[3]={[1]={}}},[\"n\"]=1}")),
        ("return all(cjson.decode('{\"a\":1,\"a\":2}'))", Ok("{[1]={[\"a\"]=2},[\"n\"]=1}")),
        ("return all(cjson.decode('[null,1,null]'))", Ok("{[1]={[1]=null,[2]=1,[3]=null},[\"n\"]=1}")),
        ("return all(cjson.decode('{\"\":0}'))", Ok("{[1]={[\"\"]=0},[\"n\"]=1}")),
        ("return hex(all(cjson.decode('\"\\\\\"\\\\\\\\\\\\/\\\\b\\\\f\\\\n\\\\r\\\\t\"')))", Ok("7b5b315d3d225c225c5c2f080c5c0a5c7209222c5b226e225d3d317d")),
        ("return hex(cjson.decode('\"\\\\u0041\\\\u00e9\\\\u20ac\\\\ud83d\\\\ude00\\\\u0000\\\\uFFFF\"'))", Ok("41c3a9e282acf09f988000efbfbf")),
        ("return all(cjson.decode('\"\\\\ud83d\"'))", Err("user_script:1: Expected value but found invalid unicode escape code at character 2")),
        ("return all(cjson.decode('\"\\\\ud83dx\"'))", Err("user_script:1: Expected value but found invalid unicode escape code at character 2")),
        ("return all(cjson.decode('\"\\\\ud83d\\\\u0041\"'))", Err("user_script:1: Expected value but found invalid unicode escape code at character 2")),
        ("return all(cjson.decode('\"\\\\ude00\"'))", Err("user_script:1: Expected value but found invalid unicode escape code at character 2")),
        ("return all(cjson.decode('\"\\\\u12\"'))", Err("user_script:1: Expected value but found invalid unicode escape code at character 2")),
        ("return all(cjson.decode('\"\\\\u12g4\"'))", Err("user_script:1: Expected value but found invalid unicode escape code at character 2")),
        ("return all(cjson.decode('\"\\\\x\"'))", Err("user_script:1: Expected value but found invalid escape code at character 2")),
        ("return all(cjson.decode('\"\\\\'))", Err("user_script:1: Expected value but found invalid escape code at character 2")),
        ("return all(cjson.decode('\"abc'))", Err("user_script:1: Expected value but found unexpected end of string at character 5")),
        ("return all(cjson.decode('\"a\\\\u'))", Err("user_script:1: Expected value but found invalid unicode escape code at character 3")),
        ("return all(cjson.decode('[\"ok\", \"\\\\q\"]'))", Err("user_script:1: Expected value but found invalid escape code at character 9")),
        ("return hex(cjson.decode('\"\\1\\2\\31\\127\\128\\255\"'))", Ok("01021f7f80ff")),
        ("return all(cjson.decode('[1]\\0garbage'))", Ok("{[1]={[1]=1},[\"n\"]=1}")),
        ("return all(cjson.decode('\"ab\\0cd\"'))", Err("user_script:1: Expected value but found unexpected end of string at character 4")),
        ("return all(cjson.decode('\\0'))", Err("user_script:1: Expected value but found T_END at character 1")),
        ("return all(cjson.decode('1\\0'))", Err("user_script:1: JSON parser does not support UTF-16 or UTF-32")),
        ("return all(cjson.decode('\\0\\0'))", Err("user_script:1: JSON parser does not support UTF-16 or UTF-32")),
        ("return all(cjson.decode('a'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('@'))", Err("user_script:1: Expected value but found invalid token at character 1")),
        ("return all(cjson.decode('[1, @]'))", Err("user_script:1: Expected value but found invalid token at character 5")),
        ("return all(cjson.decode())", Err("user_script:1: bad argument #1 to 'decode' (expected 1 argument)")),
        ("return all(cjson.decode('1', '2'))", Err("user_script:1: bad argument #1 to 'decode' (expected 1 argument)")),
        ("return all(cjson.decode(nil))", Err("user_script:1: bad argument #1 to 'decode' (string expected, got nil)")),
        ("return all(cjson.decode({}))", Err("user_script:1: bad argument #1 to 'decode' (string expected, got table)")),
        ("return all(cjson.decode(123))", Ok("{[1]=123,[\"n\"]=1}")),
        ("return all(cjson.decode(1.5))", Ok("{[1]=1.5,[\"n\"]=1}")),
        ("return all(cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)) ~= nil)", Ok("{[1]=true,[\"n\"]=1}")),
        ("return all(cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001)))", Err("user_script:1: Found too many nested data structures (1001) at character 1001")),
        ("return all(cjson.decode('  ' .. string.rep('{\"a\":', 1001) .. '1' .. string.rep('}', 1001)))", Err("user_script:1: Found too many nested data structures (1001) at character 5003")),
        ("return all(cjson.decode(string.rep('[', 1001)))", Err("user_script:1: Found too many nested data structures (1001) at character 1001")),
        ("return all(cjson.decode('[' .. string.rep('1,', 3) .. '\"x\"]'))", Ok("{[1]={[1]=1,[2]=1,[3]=1,[4]=\"x\"},[\"n\"]=1}")),
        ("return all(cjson.decode('{\"a\":[1,{\"b\":null}]}'))", Ok("{[1]={[\"a\"]={[1]=1,[2]={[\"b\"]=null}}},[\"n\"]=1}")),
        ("return all(cjson.decode('[1e2, -1E+2, 2.5e-1, 1.0]'))", Ok("{[1]={[1]=100,[2]=-100,[3]=0.25,[4]=1},[\"n\"]=1}")),
        ("return all(cjson.decode('[truefalse]'))", Err("user_script:1: Expected comma or array end but found T_BOOLEAN at character 6")),
        ("return all(cjson.decode('[true,false]'))", Ok("{[1]={[1]=true,[2]=false},[\"n\"]=1}")),
        ("return all(cjson.decode('[1-1]'))", Err("user_script:1: Expected comma or array end but found T_NUMBER at character 3")),
        ("return all(cjson.decode('[1.5.5]'))", Err("user_script:1: Expected comma or array end but found invalid token at character 5")),
        ("return all(cjson.decode('0x1.8p1'))", Ok("{[1]=3,[\"n\"]=1}")),
        ("return all(cjson.decode('00'))", Ok("{[1]=0,[\"n\"]=1}")),
        ("return all(cjson.decode('-01'))", Ok("{[1]=-1,[\"n\"]=1}")),
        ("return all(cjson.decode('1e5x'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return all(cjson.decode('\"\\\\u0000\"'))", Ok("{[1]=\"\\000\",[\"n\"]=1}")),
        ("return all(cjson.decode('\"a\"b'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return all(cjson.decode(' \"a\" '))", Ok("{[1]=\"a\",[\"n\"]=1}")),
        ("return hex(cjson.encode(cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')))", Ok("22c3a9f09f988022")),
        ("return all(cjson.decode('{\"a\":1}').a, cjson.decode('[1]')[1])", Ok("{[1]=1,[2]=1,[\"n\"]=2}")),
        ("return all(cjson.decode('null') == cjson.null)", Ok("{[1]=true,[\"n\"]=1}")),
        ("return all(cjson.null == nil, type(cjson.null), tostring(cjson.null))", Ok("{[1]=false,[2]=\"userdata\",[3]=\"userdata: (nil)\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '0x10'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, 'nan'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid token at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, 'inf'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid token at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '+1'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid token at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '01'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '-01'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '0'))", Ok("{[1]=false,[2]=true,[3]=0,[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '-0'))", Ok("{[1]=false,[2]=true,[3]=-0,[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '-inf'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '-x'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '0.5'))", Ok("{[1]=false,[2]=true,[3]=0.5,[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '-'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '[1,0x1]'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 4\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '-nan'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '-Infinity'))", Ok("{[1]=false,[2]=false,[3]=\"Expected value but found invalid number at character 1\",[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '1.'))", Ok("{[1]=false,[2]=true,[3]=1,[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '0.'))", Ok("{[1]=false,[2]=true,[3]=0,[\"n\"]=3}")),
        ("return all(cjson.decode_invalid_numbers(false), pcall(cjson.decode, '9x'))", Ok("{[1]=false,[2]=false,[3]=\"Expected the end but found invalid token at character 2\",[\"n\"]=3}")),
        ("return all(pcall(cjson.decode, '[1,'))", Ok("{[1]=false,[2]=\"Expected value but found T_END at character 4\",[\"n\"]=2}")),
        ("return all(cjson.encode({1,2,3,nil,5}))", Ok("{[1]=\"[1,2,3,null,5]\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]=1,[2]=2,[3]=3,[5]=5,[6]=6,[7]=7,[8]=8,[9]=9,[10]=10,[11]=11,[12]=12}))", Ok("{[1]=\"[1,2,3,null,5,6,7,8,9,10,11,12]\",[\"n\"]=1}")),
        ("return all(cjson.encode({n=1, 'a', 'b'}))", Ok("{[1]=\"{\\\"1\\\":\\\"a\\\",\\\"2\\\":\\\"b\\\",\\\"n\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({['1']=1, [2]=2}))", Ok("{[1]=\"{\\\"1\\\":1,\\\"2\\\":2}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[0.5]=1, [2]=1}))", Ok("{[1]=\"{\\\"0.5\\\":1,\\\"2\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]=1, [2]=2, [3]=3, [4]=4, [5]=5, [6]=6, [7]=7, [8]=8, [9]=9, [10]=10, [22]=1}))", Ok("{[1]=\"[1,2,3,4,5,6,7,8,9,10,null,null,null,null,null,null,null,null,null,null,null,1]\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]=1, [2]=2, [3]=3, [4]=4, [5]=5, [6]=6, [7]=7, [8]=8, [9]=9, [10]=10, [21]=1}))", Ok("{[1]=\"[1,2,3,4,5,6,7,8,9,10,null,null,null,null,null,null,null,null,null,null,1]\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1e9]=1}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode({[2^31-1]=1}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode_sparse_array(false, 0), #cjson.encode({[1]=1, [100000]=1}))", Ok("{[1]=false,[2]=499995,[\"n\"]=2}")),
        ("return all(cjson.new ~= nil, type(cjson.new()), cjson.new().encode({1}), cjson.new()._NAME, cjson.new().null == cjson.null)", Ok("{[1]=true,[2]=\"table\",[3]=\"[1]\",[4]=\"cjson\",[5]=true,[\"n\"]=5}")),
        ("return all(cjson.encode_max_depth(7), cjson.new().encode_max_depth(), cjson.encode_max_depth())", Ok("{[1]=7,[2]=1000,[3]=7,[\"n\"]=3}")),
        ("return all(cjson.encode(setmetatable({}, {__index=function() return 1 end})))", Ok("{[1]=\"{}\",[\"n\"]=1}")),
        ("return all(cjson.encode(setmetatable({1,2}, {__len=function() return 5 end})))", Ok("{[1]=\"[1,2]\",[\"n\"]=1}")),
        ("return all(cjson.encode({'x', [3]='z'}))", Ok("{[1]=\"[\\\"x\\\",null,\\\"z\\\"]\",[\"n\"]=1}")),
        ("return all(cjson.encode({[2]='y', [3]='z'}))", Ok("{[1]=\"[null,\\\"y\\\",\\\"z\\\"]\",[\"n\"]=1}")),
        ("return all(cjson.encode(string.rep('x', 3)))", Ok("{[1]=\"\\\"xxx\\\"\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]={}, [2]={a={}}}))", Ok("{[1]=\"[{},{\\\"a\\\":{}}]\",[\"n\"]=1}")),
        ("return all(cjson.decode('\"\\\\/\"'))", Ok("{[1]=\"/\",[\"n\"]=1}")),
        ("return all(cjson.decode('[1.5e308, 1e-320]'))", Ok("{[1]={[1]=1.5e+308,[2]=9.9998886718268301e-321},[\"n\"]=1}")),
        ("return cjson.encode(cjson.decode('[1.5e308, 1e-320, 123.456, 1e100]'))", Ok("[1.5e+308,9.9998886718268e-321,123.456,1e+100]")),
        ("return all(cjson.encode(12345678901234567890), cjson.encode(-0.000001), cjson.encode(1e-7), cjson.encode(0.000123), cjson.encode(1e13+0.5))", Ok("{[1]=\"1.2345678901235e+19\",[2]=\"-1e-06\",[3]=\"1e-07\",[4]=\"0.000123\",[5]=\"10000000000000\",[\"n\"]=5}")),
        ("return all(cjson.decode('{\"a\":1}', nil))", Err("user_script:1: bad argument #1 to 'decode' (expected 1 argument)")),
        ("return all(cjson.encode({[1]=1, [2]=2, [3]=3, [4]=4, [5]=5, [6]=6, [7]=7, [8]=8, [9]=9, [10]=10, [22]=1}))", Ok("{[1]=\"[1,2,3,4,5,6,7,8,9,10,null,null,null,null,null,null,null,null,null,null,null,1]\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1e9]=1}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode({[2^31-1]=1}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode_sparse_array(true, 2^31-1), cjson.encode({[1]=1, [20]=1}))", Ok("{[1]=true,[2]=\"{\\\"1\\\":1,\\\"20\\\":1}\",[\"n\"]=2}")),
        ("return all(cjson.encode_sparse_array(false, 2^31-1, 2^31-1), #cjson.encode({[1]=1, [100000]=1}))", Ok("{[1]=false,[2]=499995,[\"n\"]=2}")),
        ("return all(cjson.encode({[2^31]=1, [2^31+1]=2}))", Ok("{[1]=\"{\\\"2147483648\\\":1,\\\"2147483649\\\":2}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[2^32]=1}))", Ok("{[1]=\"{\\\"4294967296\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[2^31]=1, [1]=2, [2]=3}))", Ok("{[1]=\"[2,3]\",[\"n\"]=1}")),
        ("return all(cjson.encode({[3]=1, [2^31]=1, [1]=2, [2]=3}))", Ok("{[1]=\"[2,3]\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]=2, [2^31]=1}))", Ok("{[1]=\"{\\\"1\\\":2,\\\"2147483648\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[2^53]=1}))", Ok("{[1]=\"{\\\"9.007199254741e+15\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[-1]=1, [1]=1}))", Ok("{[1]=\"{\\\"-1\\\":1,\\\"1\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]=1, [-1]=1}))", Ok("{[1]=\"{\\\"1\\\":1,\\\"-1\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]=1, [2]=1, x=1}))", Ok("{[1]=\"{\\\"1\\\":1,\\\"2\\\":1,\\\"x\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({x=1, [1]=1, [2]=1}))", Ok("{[1]=\"{\\\"1\\\":1,\\\"x\\\":1,\\\"2\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]=1, [2]=1, [true]=1}))", Err("user_script:1: Cannot serialise boolean: table key must be a number or string")),
        ("return all(cjson.encode({[true]=1, [1]=1}))", Err("user_script:1: Cannot serialise boolean: table key must be a number or string")),
        ("return all(cjson.encode({1, 2, [false]=3}))", Err("user_script:1: Cannot serialise boolean: table key must be a number or string")),
        ("return all(cjson.encode({a=1, [true]=1}))", Err("user_script:1: Cannot serialise boolean: table key must be a number or string")),
        ("return all(cjson.encode({[true]=function() end}))", Err("user_script:1: Cannot serialise boolean: table key must be a number or string")),
        ("return all(cjson.encode({a=function() end, [true]=1}))", Err("user_script:1: Cannot serialise function: type not supported")),
        ("return all(cjson.encode({1, function() end}))", Err("user_script:1: Cannot serialise function: type not supported")),
        ("return all(cjson.encode({[1]=1, [11]=function() end}))", Err("user_script:1: Cannot serialise table: excessively sparse array")),
        ("return all(cjson.encode({[1]=1, [11]=1, [true]=1}))", Err("user_script:1: Cannot serialise boolean: table key must be a number or string")),
        ("return all(cjson.encode_invalid_numbers('null'), cjson.encode({[0/0 ~= 0/0 and 1 or 2]=1}))", Ok("{[1]=\"null\",[2]=\"[1]\",[\"n\"]=2}")),
        ("return all(cjson.encode({[-0.0]=1}))", Ok("{[1]=\"{\\\"-0\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({[1]=-0.0}))", Ok("{[1]=\"[-0]\",[\"n\"]=1}")),
        ("return all(cjson.encode(-(0)))", Ok("{[1]=\"-0\",[\"n\"]=1}")),
        ("return all(cjson.encode(0 * -1))", Ok("{[1]=\"-0\",[\"n\"]=1}")),
        ("return all(cjson.encode({['a\\0b']=1}))", Ok("{[1]=\"{\\\"a\\\\u0000b\\\":1}\",[\"n\"]=1}")),
        ("return all(cjson.encode({{a=1,b=2},{c=3,d=4}}))", Ok("{[1]=\"[{\\\"a\\\":1,\\\"b\\\":2},{\\\"c\\\":3,\\\"d\\\":4}]\",[\"n\"]=1}")),
        ("return all(cjson.encode({foo='bar', baz={1,2,3}, qux={x=1, y=2, z=3}, n=cjson.null}))", Ok("{[1]=\"{\\\"n\\\":null,\\\"qux\\\":{\\\"y\\\":2,\\\"x\\\":1,\\\"z\\\":3},\\\"baz\\\":[1,2,3],\\\"foo\\\":\\\"bar\\\"}\",[\"n\"]=1}")),
        ("return all(cjson.encode({one=1, two=2, three=3, four=4, five=5, six=6, seven=7, eight=8}))", Ok("{[1]=\"{\\\"six\\\":6,\\\"eight\\\":8,\\\"four\\\":4,\\\"two\\\":2,\\\"one\\\":1,\\\"seven\\\":7,\\\"five\\\":5,\\\"three\\\":3}\",[\"n\"]=1}")),
        ("return all(cjson.encode(cjson.decode('{\"one\":1,\"two\":2,\"three\":3,\"four\":4,\"five\":5,\"six\":6,\"seven\":7,\"eight\":8}')))", Ok("{[1]=\"{\\\"six\\\":6,\\\"eight\\\":8,\\\"one\\\":1,\\\"two\\\":2,\\\"three\\\":3,\\\"seven\\\":7,\\\"five\\\":5,\\\"four\\\":4}\",[\"n\"]=1}")),
        ("return all(cjson.encode(cmsgpack.unpack(cmsgpack.pack({one=1, two=2, three=3, four=4, five=5, six=6, seven=7, eight=8}))))", Ok("{[1]=\"{\\\"six\\\":6,\\\"three\\\":3,\\\"five\\\":5,\\\"two\\\":2,\\\"four\\\":4,\\\"seven\\\":7,\\\"eight\\\":8,\\\"one\\\":1}\",[\"n\"]=1}")),
        ("return all(hex(cmsgpack.pack(cjson.decode('{\"one\":1,\"two\":2,\"three\":3,\"four\":4,\"five\":5,\"six\":6,\"seven\":7,\"eight\":8}'))))", Ok("{[1]=\"88a373697806a5656967687408a36f6e6501a374776f02a5746872656503a5736576656e07a46669766505a4666f757204\",[\"n\"]=1}")),
        ("return hex(struct.pack('>d', cjson.decode('nan')))", Ok("7ff8000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('-nan')))", Ok("fff8000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('nan(123)')))", Ok("7ff800000000007b")),
        ("return hex(struct.pack('>d', cjson.decode('nan(0x10)')))", Ok("7ff8000000000010")),
        ("return hex(struct.pack('>d', cjson.decode('-nan(abc)')))", Ok("fff8000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('nan(0xfffffffffffffffff)')))", Ok("7fffffffffffffff")),
        ("return hex(struct.pack('>d', cjson.decode('nan(9007199254740993)')))", Ok("7ff8000000000001")),
        ("return all(cjson.decode('[nan(1)]'))", Ok("{[1]={[1]=nan},[\"n\"]=1}")),
        ("return all(cjson.decode('[nan(1]'))", Err("user_script:1: Expected comma or array end but found invalid token at character 5")),
        ("return all(cjson.decode('[nan()]'))", Ok("{[1]={[1]=nan},[\"n\"]=1}")),
        ("return all(cjson.decode('[nan(_a-)]'))", Err("user_script:1: Expected comma or array end but found invalid token at character 5")),
        ("return all(cjson.decode('-.5'), cjson.decode('-.5e1'), cjson.decode('0.e1'), cjson.decode('1.e-1'))", Ok("{[1]=-0.5,[2]=-5,[3]=0,[4]=0.10000000000000001,[\"n\"]=4}")),
        ("return all(cjson.decode('-.'))", Err("user_script:1: Expected value but found invalid number at character 1")),
        ("return all(cjson.decode('-.e1'))", Err("user_script:1: Expected value but found invalid number at character 1")),
        ("return all(cjson.decode('0x.8'), cjson.decode('0x1.'), cjson.decode('0x1p'), cjson.decode('-0x1P-2'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return all(cjson.decode('0x.'))", Err("user_script:1: Expected the end but found invalid token at character 2")),
        ("return all(cjson.decode('0x1p+'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return all(cjson.decode('0x1pz'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return hex(struct.pack('>d', cjson.decode('0x1p-1074')))", Ok("0000000000000001")),
        ("return hex(struct.pack('>d', cjson.decode('0x1p-1075')))", Ok("0000000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('0x1.8p-1075')))", Ok("0000000000000001")),
        ("return hex(struct.pack('>d', cjson.decode('0x1.00000000000008p0')))", Ok("3ff0000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('0x1.00000000000018p0')))", Ok("3ff0000000000002")),
        ("return hex(struct.pack('>d', cjson.decode('0x1.000000000000080000001p0')))", Ok("3ff0000000000001")),
        ("return hex(struct.pack('>d', cjson.decode('0x1.fffffffffffff8p1023')))", Ok("7ff0000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('0x0.0000000000001p-1022')))", Ok("0000000000000001")),
        ("return hex(struct.pack('>d', cjson.decode('0x1.ffffffffffffffffffffp-1023')))", Ok("0010000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('0x0p99999999999999999999')))", Ok("0000000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('0x1p99999999999999999999')))", Ok("7ff0000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('1e-99999999999999999999')))", Ok("0000000000000000")),
        ("return hex(struct.pack('>d', cjson.decode('2.4703282292062328e-324')))", Ok("0000000000000001")),
        ("return hex(struct.pack('>d', cjson.decode('2.4703282292062327e-324')))", Ok("0000000000000000")),
        ("return all(cjson.decode('1e+5'), cjson.decode('1E5'), cjson.decode('1e-0'), cjson.decode('00001'), cjson.decode('-00.5'))", Ok("{[1]=100000,[2]=100000,[3]=1,[4]=1,[5]=-0.5,[\"n\"]=5}")),
        ("return all(cjson.decode('infinityx'))", Err("user_script:1: Expected the end but found invalid token at character 9")),
        ("return all(cjson.decode('INFINITY'))", Ok("{[1]=inf,[\"n\"]=1}")),
        ("return all(cjson.decode('iNf'))", Ok("{[1]=inf,[\"n\"]=1}")),
        ("return all(cjson.decode('Infinit'))", Err("user_script:1: Expected the end but found invalid token at character 4")),
        ("return all(cjson.decode('[-inf,-Infinity, -nan]'))", Ok("{[1]={[1]=-inf,[2]=-inf,[3]=-nan},[\"n\"]=1}")),
        ("return all(cjson.decode('[+0x10, +.5]'))", Ok("{[1]={[1]=16,[2]=0.5},[\"n\"]=1}")),
        ("return all(cjson.decode('+'))", Err("user_script:1: Expected value but found invalid number at character 1")),
        ("return all(cjson.decode('+x'))", Err("user_script:1: Expected value but found invalid number at character 1")),
        ("return all(cjson.decode('-\\128'))", Err("user_script:1: Expected value but found invalid number at character 1")),
        ("return all(cjson.decode('\\128'))", Err("user_script:1: Expected value but found invalid token at character 1")),
    ];
}
