//! Values across the script boundary, by Redis 7.0's rules (script_lua.c).
//!
//! A command's reply (the RESP2 or RESP3 bytes it wrote) becomes a Lua value for
//! `redis.call` ([`reply_to_lua`], Redis's `redisProtocolToLuaType`): integers are numbers,
//! bulk strings strings, a null bulk or null array `false`, arrays tables, a status
//! `{ok=...}`, an error `{err=...}` (marked as already counted); in RESP3 a map is
//! `{map={...}}`, a set `{set={k=true}}`, a double `{double=n}`, a big number
//! `{big_number=s}`, verbatim text `{verbatim_string={string=,format=}}`, null `nil` and a
//! boolean a boolean. Attributes are dropped.
//!
//! A script's result becomes the reply ([`lua_to_reply`], Redis's `luaReplyToRedisReply`):
//! a string a bulk string, a number an integer (truncated as C's `(long long)` does), `true`
//! 1 and `false` null (RESP2 scripts) or booleans (after `redis.setresp(3)`), and a table,
//! by its first field found in this order: `err` (an error), `ok` (a status), `double`,
//! `big_number`, `verbatim_string`, `map`, `set`, else an array of its elements 1, 2, ...
//! up to the first nil. Anything else is null. Nesting deeper than Redis's Lua stack allows
//! (8000 slots, counted as Redis uses them) gives Redis's "reached lua stack limit" error in
//! place of the element.
//!
//! Lua tables are built as Redis builds them (an empty table, then one assignment per
//! element in order), so that iterating one gives Redis's order.

use crate::resp::reply::Reply;
use mlua::{Lua, Table, Value};

/// Redis's LUAI_MAXCSTACK: the Lua stack slots C code may use.
const LUA_STACK_SLOTS: usize = 8000;
/// Stack slots in use when a script's result is converted: the message handler and the
/// result.
const RESULT_STACK_SLOTS: usize = 2;

/// Error replies a conversion wrote: `counted` ones are new errors (Redis counts them in
/// `total_error_replies`), `ignored` ones repeat an error already counted where it arose (a
/// command's error returned by `redis.pcall`, or raised by `redis.call`).
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errors {
    pub counted: u64,
    pub ignored: u64,
}

/// The bytes up to the first NUL: what Redis reads where it takes a Lua string as a C string.
pub fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Redis's `luaPushErrorBuff`: `-CODE message` or `message` (code ERR) as the table
/// `{err="CODE message"}`, the message trimmed of CR and LF at both ends.
pub fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let text = c_str(text);
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&c| c == b' ') {
            Some(sp) => (&rest[..sp], &rest[sp + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let trim = |c: &u8| *c != b'\r' && *c != b'\n';
    let start = msg.iter().position(trim).unwrap_or(msg.len());
    let end = msg.iter().rposition(trim).map_or(start, |i| i + 1);
    let mut e = Vec::with_capacity(code.len() + 1 + end - start);
    e.extend_from_slice(code);
    e.push(b' ');
    e.extend_from_slice(&msg[start..end]);
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&e)?)?;
    Ok(t)
}

/// A malformed reply: cannot come from our own commands.
fn malformed() -> mlua::Error {
    mlua::Error::runtime("malformed command reply")
}

/// The line at `pos` (after its type byte) and the position after its CRLF.
fn line(buf: &[u8], pos: usize) -> mlua::Result<(&[u8], usize)> {
    let rest = buf.get(pos + 1..).ok_or_else(malformed)?;
    let end = memchr::memmem::find(rest, b"\r\n").ok_or_else(malformed)?;
    Ok((&rest[..end], pos + 1 + end + 2))
}

fn number(b: &[u8]) -> mlua::Result<i64> {
    crate::util::num::parse_i64_strict(b).ok_or_else(malformed)
}

/// A blob (`$`, `=`, `!`) of `len` bytes at `pos`, and the position after its CRLF.
fn blob(buf: &[u8], pos: usize, len: i64) -> mlua::Result<(&[u8], usize)> {
    let len = usize::try_from(len).map_err(|_| malformed())?;
    let body = buf.get(pos..pos + len).ok_or_else(malformed)?;
    Ok((body, pos + len + 2))
}

/// The position after the complete reply at `pos` (a push frame a command wrote for its
/// own client, which the script leaves in place).
pub fn skip(buf: &[u8], pos: usize) -> mlua::Result<usize> {
    let kind = *buf.get(pos).ok_or_else(malformed)?;
    let (l, mut next) = line(buf, pos)?;
    match kind {
        b'$' | b'=' | b'!' => {
            let n = number(l)?;
            if n >= 0 {
                next = blob(buf, next, n)?.1;
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = number(l)?;
            let items = if matches!(kind, b'%' | b'|') {
                2 * n
            } else {
                n
            };
            // Bounded by the buffer: each element is at least 3 bytes.
            for _ in 0..items.max(0) {
                next = skip(buf, next)?;
            }
        }
        _ => {}
    }
    Ok(next)
}

/// The reply at `pos` as a Lua value, and the position after it.
pub fn reply_to_lua(lua: &Lua, buf: &[u8], pos: usize) -> mlua::Result<(Value, usize)> {
    let kind = *buf.get(pos).ok_or_else(malformed)?;
    let (l, next) = line(buf, pos)?;
    match kind {
        b':' => Ok((Value::Number(number(l)? as f64), next)),
        b'$' => {
            let n = number(l)?;
            if n < 0 {
                return Ok((Value::Boolean(false), next));
            }
            let (body, next) = blob(buf, next, n)?;
            Ok((Value::String(lua.create_string(body)?), next))
        }
        b'+' => {
            let t = lua.create_table()?;
            t.raw_set("ok", lua.create_string(l)?)?;
            Ok((Value::Table(t), next))
        }
        b'-' | b'!' => {
            let text = if kind == b'!' {
                blob(buf, next, number(l)?)?.0
            } else {
                l
            };
            let next = if kind == b'!' {
                blob(buf, next, number(l)?)?.1
            } else {
                next
            };
            let mut e = Vec::with_capacity(text.len() + 1);
            e.push(b'-');
            e.extend_from_slice(text);
            let t = error_table(lua, &e)?;
            // Already counted when the command failed: the script's reply repeating it is not
            // counted again.
            t.raw_set("ignore_error_stats_update", true)?;
            Ok((Value::Table(t), next))
        }
        b'*' | b'>' => {
            let n = number(l)?;
            if n < 0 {
                return Ok((Value::Boolean(false), next));
            }
            let t = lua.create_table()?;
            let mut at = next;
            for j in 1..=n {
                let (v, after) = reply_to_lua(lua, buf, at)?;
                t.raw_set(j, v)?;
                at = after;
            }
            Ok((Value::Table(t), at))
        }
        b'%' => {
            let n = number(l)?;
            let inner = lua.create_table()?;
            let mut at = next;
            for _ in 0..n.max(0) {
                let (k, after) = reply_to_lua(lua, buf, at)?;
                let (v, after) = reply_to_lua(lua, buf, after)?;
                if !k.is_nil() {
                    inner.raw_set(k, v)?;
                }
                at = after;
            }
            let t = lua.create_table()?;
            t.raw_set("map", inner)?;
            Ok((Value::Table(t), at))
        }
        b'~' => {
            let n = number(l)?;
            let inner = lua.create_table()?;
            let mut at = next;
            for _ in 0..n.max(0) {
                let (k, after) = reply_to_lua(lua, buf, at)?;
                if !k.is_nil() {
                    inner.raw_set(k, true)?;
                }
                at = after;
            }
            let t = lua.create_table()?;
            t.raw_set("set", inner)?;
            Ok((Value::Table(t), at))
        }
        b'_' => Ok((Value::Nil, next)),
        b'#' => Ok((Value::Boolean(l == b"t"), next)),
        b',' => {
            let d = std::str::from_utf8(l)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0);
            let t = lua.create_table()?;
            t.raw_set("double", d)?;
            Ok((Value::Table(t), next))
        }
        b'(' => {
            let t = lua.create_table()?;
            t.raw_set("big_number", lua.create_string(l)?)?;
            Ok((Value::Table(t), next))
        }
        b'=' => {
            let (body, next) = blob(buf, next, number(l)?)?;
            let (format, text) = if body.len() >= 4 {
                (&body[..3], &body[4..])
            } else {
                (&body[..0], body)
            };
            let inner = lua.create_table()?;
            inner.raw_set("string", lua.create_string(text)?)?;
            inner.raw_set("format", lua.create_string(format)?)?;
            let t = lua.create_table()?;
            t.raw_set("verbatim_string", inner)?;
            Ok((Value::Table(t), next))
        }
        b'|' => {
            // Attributes are not shown to scripts: skip them, convert what they annotate.
            let n = number(l)?;
            let mut at = next;
            for _ in 0..2 * n.max(0) {
                at = skip(buf, at)?;
            }
            reply_to_lua(lua, buf, at)
        }
        _ => Err(malformed()),
    }
}

/// C's `(long long)` conversion of a double as x86-64 does it: truncation, and the
/// "integer indefinite" value for NaN and out-of-range values.
pub fn c_long_long(d: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(-LIMIT..LIMIT).contains(&d) {
        // Out of range, or NaN.
        i64::MIN
    } else {
        d as i64
    }
}

/// Writes `b` with CR and LF as spaces (Redis's `sdsmapchars(s, "\r\n", "  ", 2)`).
fn extend_mapped(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend(
        b.iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
    );
}

/// An error table's message (`err`, a string or number) as Redis reads it: a C string.
pub fn error_message(t: &Table) -> mlua::Result<Option<Vec<u8>>> {
    Ok(match t.raw_get::<Value>("err")? {
        Value::String(s) => Some(c_str(&s.as_bytes()).to_vec()),
        Value::Integer(i) => Some(lua_number_text(i as f64).into_bytes()),
        Value::Number(n) => Some(lua_number_text(n).into_bytes()),
        _ => None,
    })
}

/// Lua 5.1's `tostring` of a number (`%.14g`).
pub fn lua_number_text(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf" } else { "-inf" }.into();
    }
    if n == n.trunc() && n.abs() < 1e14 {
        return format!("{}", n as i64);
    }
    // %.14g: 14 significant digits, trailing zeros dropped, exponent form outside
    // [1e-4, 1e14).
    let sci = format!("{n:.13e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..14).contains(&exp) {
        let decimals = (13 - exp).max(0) as usize;
        let s = format!("{n:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        return s;
    }
    let mant = if mant.contains('.') {
        mant.trim_end_matches('0').trim_end_matches('.')
    } else {
        mant
    };
    format!(
        "{mant}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    )
}

/// Writes a script's result `v` as the reply. `resp3_script` is the protocol the script
/// chose (`redis.setresp`), which decides how booleans are written. Iterative: a script can
/// return tables nested thousands deep (even a table containing itself), which Redis's limit
/// cuts at about 8000 levels.
pub fn lua_to_reply(
    reply: &mut Reply<'_>,
    v: &Value,
    resp3_script: bool,
    errors: &mut Errors,
) -> mlua::Result<()> {
    // Values still to write, last first, each with the Lua stack slots Redis would be using
    // when it converts it, so that the depth limit falls where Redis's does.
    // A scalar (most scripts' result) needs neither the queue nor a copy of the value.
    if !matches!(v, Value::Table(_)) {
        write_scalar(reply, v, resp3_script);
        return Ok(());
    }
    let mut pending: Vec<(Value, usize)> = vec![(v.clone(), RESULT_STACK_SLOTS)];
    // Bounded: each value is written once, and a table's elements are pushed only when it
    // is written, at most one per Lua stack slot deep.
    while let Some((v, stack)) = pending.pop() {
        if stack + 4 > LUA_STACK_SLOTS {
            reply.error("ERR reached lua stack limit");
            errors.counted += 1;
            continue;
        }
        match &v {
            Value::Table(t) => write_table(reply, t, errors, stack, &mut pending)?,
            scalar => write_scalar(reply, scalar, resp3_script),
        }
    }
    Ok(())
}

/// Writes a result that is not a table.
fn write_scalar(reply: &mut Reply<'_>, v: &Value, resp3_script: bool) {
    match v {
        Value::String(s) => reply.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if resp3_script {
                reply.bool(*b);
            } else if *b {
                reply.int(1);
            } else {
                reply.null();
            }
        }
        Value::Integer(i) => reply.int(*i),
        Value::Number(n) => reply.int(c_long_long(*n)),
        _ => reply.null(),
    }
}

/// Writes a table's reply, or the header of its aggregate with its elements queued on
/// `pending` (in reverse, so that they are written in order).
fn write_table(
    reply: &mut Reply<'_>,
    t: &Table,
    errors: &mut Errors,
    stack: usize,
    pending: &mut Vec<(Value, usize)>,
) -> mlua::Result<()> {
    if let Value::String(_) = t.raw_get::<Value>("err")? {
        let msg = error_message(t)?.unwrap_or_default();
        reply.error_bytes(&msg);
        if t.raw_get::<Value>("ignore_error_stats_update")? == Value::Boolean(true) {
            errors.ignored += 1;
        } else {
            errors.counted += 1;
        }
        return Ok(());
    }
    if let Value::String(s) = t.raw_get::<Value>("ok")? {
        reply.buf.push(b'+');
        extend_mapped(reply.buf, c_str(&s.as_bytes()));
        reply.buf.extend_from_slice(b"\r\n");
        return Ok(());
    }
    let double = match t.raw_get::<Value>("double")? {
        Value::Number(d) => Some(d),
        Value::Integer(i) => Some(i as f64),
        _ => None,
    };
    if let Some(d) = double {
        reply.double(d);
        return Ok(());
    }
    if let Value::String(s) = t.raw_get::<Value>("big_number")? {
        let mut num = Vec::new();
        extend_mapped(&mut num, &s.as_bytes());
        if reply.resp3 {
            reply.buf.push(b'(');
            reply.buf.extend_from_slice(&num);
            reply.buf.extend_from_slice(b"\r\n");
        } else {
            reply.bulk(&num);
        }
        return Ok(());
    }
    if let Value::Table(vt) = t.raw_get::<Value>("verbatim_string")? {
        if let Value::String(format) = vt.raw_get::<Value>("format")? {
            if let Value::String(text) = vt.raw_get::<Value>("string")? {
                write_verbatim(reply, &text.as_bytes(), c_str(&format.as_bytes()));
                return Ok(());
            }
        }
    }
    if let Value::Table(map) = t.raw_get::<Value>("map")? {
        let mut pairs = Vec::new();
        map.for_each(|k: Value, v: Value| {
            pairs.push((k, v));
            Ok(())
        })?;
        reply.map(pairs.len());
        for (k, v) in pairs.into_iter().rev() {
            // Redis's stack for the key: the map, the key, the value and a copy of the key;
            // for the value: the map, the key and the value.
            pending.push((v, stack + 3));
            pending.push((k, stack + 4));
        }
        return Ok(());
    }
    if let Value::Table(set) = t.raw_get::<Value>("set")? {
        let mut keys = Vec::new();
        set.for_each(|k: Value, _: Value| {
            keys.push(k);
            Ok(())
        })?;
        reply.set(keys.len());
        // The set, the key, and a copy of the key.
        pending.extend(keys.into_iter().rev().map(|k| (k, stack + 3)));
        return Ok(());
    }
    let mut items = Vec::new();
    // Bounded by the table's size: it ends at the first nil.
    for j in 1.. {
        let v: Value = t.raw_get(j)?;
        if v.is_nil() {
            break;
        }
        items.push(v);
    }
    reply.array(items.len());
    pending.extend(items.into_iter().rev().map(|v| (v, stack + 1)));
    Ok(())
}

/// Verbatim text: RESP3 `=` with the format's first three bytes (spaces when shorter, as
/// Redis's `addReplyVerbatim`), RESP2 a bulk string.
fn write_verbatim(reply: &mut Reply<'_>, text: &[u8], format: &[u8]) {
    if !reply.resp3 {
        return reply.bulk(text);
    }
    let mut ext = [b' '; 3];
    for (d, s) in ext.iter_mut().zip(format) {
        *d = *s;
    }
    reply.buf.push(b'=');
    reply
        .buf
        .extend_from_slice(itoa::Buffer::new().format(text.len() + 4).as_bytes());
    reply.buf.extend_from_slice(b"\r\n");
    reply.buf.extend_from_slice(&ext);
    reply.buf.push(b':');
    reply.buf.extend_from_slice(text);
    reply.buf.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_number_text_is_percent_14g() {
        for (n, s) in [
            (1.0, "1"),
            (-3.0, "-3"),
            (0.5, "0.5"),
            (1e20, "1e+20"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.33333333333333"),
            (123456789012345.0, "1.2345678901234e+14"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
        ] {
            assert_eq!(lua_number_text(n), s, "{n}");
        }
    }

    #[test]
    fn c_conversion_of_doubles_as_x86() {
        assert_eq!(c_long_long(1.9), 1);
        assert_eq!(c_long_long(-2.5), -2);
        assert_eq!(c_long_long(1e30), i64::MIN);
        assert_eq!(c_long_long(-1e30), i64::MIN);
        assert_eq!(c_long_long(f64::NAN), i64::MIN);
        assert_eq!(c_long_long(f64::INFINITY), i64::MIN);
    }

    #[test]
    fn error_tables_as_redis_builds_them() {
        let lua = Lua::new();
        let err = |s: &[u8]| -> String {
            let t = error_table(&lua, s).unwrap();
            t.raw_get::<String>("err").unwrap()
        };
        assert_eq!(
            err(b"-WRONGTYPE Operation against"),
            "WRONGTYPE Operation against"
        );
        assert_eq!(
            err(b"wrong number of arguments"),
            "ERR wrong number of arguments"
        );
        assert_eq!(err(b"-x y"), "x y");
        assert_eq!(err(b"-X"), "ERR X");
        assert_eq!(err(b"-"), "ERR ");
        assert_eq!(err(b"- X"), " X");
        assert_eq!(err(b"-a\r\nb"), "ERR a\r\nb");
        assert_eq!(err(b"-OOM msg\r\n"), "OOM msg");
        assert_eq!(err(b"-E a\0b"), "E a");
    }
}
