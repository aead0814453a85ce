//! The C libraries Redis 7.0 links into its Lua (`cjson`, `cmsgpack`, `struct`, `bit`),
//! re-implemented in Rust on mlua, and what the four share.
//!
//! [`register_all`] is the engine's hook: it creates the four global tables in a Lua state the
//! way redis-server 7.0.15 does at scripting start-up.
//!
//! The rest is the part of Lua's C API (`lauxlib`) whose exact behaviour those libraries show
//! to scripts, so that each library reads like its C original:
//!
//! - Errors. `luaL_error` prefixes the message with the caller's position (`luaL_where(L, 1)`:
//!   `"user_script:1: "`, or nothing when the caller is a C function such as `pcall`), and
//!   `luaL_argerror` names the argument and the function as the caller spelled it
//!   (`bad argument #1 to 'encode' (...)`, `'?'` when unknown, `calling 'f' on bad self` for a
//!   method call). [`error`] and [`arg_error`] build those texts from the live Lua stack and
//!   return them as `mlua::Error::RuntimeError`. A library error therefore reaches the engine
//!   as a `CallbackError` whose root cause is that text ([`error_text`] digs it out); inside a
//!   script, mlua hands `pcall` a userdata wrapping it, so an engine that wants Redis's plain
//!   string there maps such values with [`error_text`] in its `pcall`/`xpcall`.
//! - Argument conversions with C's semantics: `lua_tonumber` (strings convert), the
//!   `double -> integer` casts of x86-64 (`cvttsd2si`: NaN and out-of-range give the
//!   "integer indefinite" `0x8000...`), `luaL_checkinteger` truncating to `int` where the C
//!   stores the result in an `int`.
//! - Lua's C stack limit. A C function may hold at most `LUAI_MAXCSTACK` (8000) values on its
//!   stack frame; the libraries reach that limit with deep nesting or many results, and the
//!   error they then raise is part of their behaviour. The Rust code holds its values in Rust,
//!   not on the Lua stack, and counts the slots the C would have used ([`MAX_C_STACK`]) to
//!   fail at the same point with the same message.
//!
//! Invariants: nothing here panics on any input; no `unsafe`.

use mlua::{Lua, MultiValue, Value};

/// Lua 5.1's `LUAI_MAXCSTACK`: the most values one C function's stack frame may hold
/// (`lua_checkstack` refuses beyond it).
pub(crate) const MAX_C_STACK: usize = 8000;

/// How many slots short of the C's limit mlua may need to push a callback's results.
///
/// The C functions return results from a frame holding only arguments and results, up to
/// 8000 slots. mlua pushes a callback's results while the arguments are still on the stack,
/// checks `nresults + 1`, and may hold a preallocated error slot and a few slots to move
/// tables and strings from its reference thread; measured on mlua 0.12, up to 6 slots. (The
/// very first callback of a Lua state needs about 20 more, to set up its error slot; there
/// mlua's own error, "stack overflow (not enough stack slots available)", comes first.)
const MLUA_RESULT_SLOTS: usize = 8;

/// Checks that `nresults` values can be returned by a function called with `nargs` arguments,
/// failing with the library's own "stack overflow (<what>)" error where mlua could not push
/// them. So within [`MLUA_RESULT_SLOTS`] values of Lua's limit, a result count Redis still
/// returns fails here (with the error Redis gives a few values later).
pub(crate) fn check_results(
    lua: &Lua,
    nargs: usize,
    nresults: usize,
    what: &str,
) -> mlua::Result<()> {
    if nargs + nresults + MLUA_RESULT_SLOTS > MAX_C_STACK {
        Err(error(lua, format!("stack overflow ({what})")))
    } else {
        Ok(())
    }
}

/// Maps mlua's `StackError` (its reference stack, about 8000 live Lua values, or the Lua
/// stack is full) to the library's own error for running out of stack, `f()`.
pub(crate) fn stack_error_as<T>(
    r: mlua::Result<T>,
    f: impl FnOnce() -> mlua::Error,
) -> mlua::Result<T> {
    match r {
        Err(mlua::Error::StackError) => Err(f()),
        r => r,
    }
}

/// Registers `cjson`, `cmsgpack`, `struct` and `bit` as globals, as redis-server 7.0 does.
pub fn register_all(lua: &Lua) -> mlua::Result<()> {
    super::cjson::register(lua)?;
    super::cmsgpack::register(lua)?;
    super::structlib::register(lua)?;
    super::bit::register(lua)?;
    Ok(())
}

/// The message of a library error as the script would see it in Redis: the innermost
/// `RuntimeError` text under mlua's `CallbackError` wrapping (e.g.
/// `"user_script:1: Expected value but found T_END at character 1"`).
pub fn error_text(err: &mlua::Error) -> Option<&str> {
    match err {
        mlua::Error::RuntimeError(text) => Some(text),
        mlua::Error::CallbackError { cause, .. } => error_text(cause),
        mlua::Error::WithContext { cause, .. } => error_text(cause),
        _ => None,
    }
}

/// `luaL_where(L, level)`: `"<short_src>:<line>: "` of the function at `level`, or `""`.
fn where_(lua: &Lua, level: usize) -> String {
    lua.inspect_stack(level, |debug| {
        let line = debug.current_line().unwrap_or(0);
        if line > 0 {
            let src = debug.source().short_src.map(|s| s.into_owned());
            format!("{}:{line}: ", src.unwrap_or_default())
        } else {
            String::new()
        }
    })
    .unwrap_or_default()
}

/// `luaL_error(L, msg)`: the message prefixed with the calling Lua function's position.
pub(crate) fn error(lua: &Lua, msg: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::RuntimeError(format!("{}{msg}", where_(lua, 1)))
}

/// An error raised by Lua itself inside the C function (`luaG_runerror`, e.g. "table index is
/// nil"): no position, since the running function is a C function.
pub(crate) fn raw_error(msg: impl Into<String>) -> mlua::Error {
    mlua::Error::RuntimeError(msg.into())
}

/// `luaL_argerror(L, narg, extramsg)`.
pub(crate) fn arg_error(lua: &Lua, narg: i64, extramsg: impl std::fmt::Display) -> mlua::Error {
    let names = lua.inspect_stack(0, |debug| {
        let names = debug.names();
        (
            names.name.map(|n| n.into_owned()),
            names.name_what == Some("method"),
        )
    });
    let Some((name, is_method)) = names else {
        return error(lua, format!("bad argument #{narg} ({extramsg})"));
    };
    let mut narg = narg;
    if is_method {
        narg -= 1;
        if narg == 0 {
            let name = name.unwrap_or_default();
            return error(lua, format!("calling '{name}' on bad self ({extramsg})"));
        }
    }
    let name = name.unwrap_or_else(|| "?".to_owned());
    error(
        lua,
        format!("bad argument #{narg} to '{name}' ({extramsg})"),
    )
}

/// `luaL_typerror(L, narg, tname)`: `"<tname> expected, got <type of the argument>"`.
pub(crate) fn type_error(
    lua: &Lua,
    narg: usize,
    expected: &str,
    got: Option<&Value>,
) -> mlua::Error {
    arg_error(
        lua,
        narg as i64,
        format!("{expected} expected, got {}", type_name(got)),
    )
}

/// `lua_typename(L, lua_type(L, idx))`, with `None` as a missing argument ("no value").
pub(crate) fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::Integer(_) | Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        // Light and full userdata, and mlua's wrapped errors (a userdata in Lua).
        Some(_) => "userdata",
    }
}

/// The arguments of a library function, 1-based like the Lua stack.
pub(crate) struct Args(Vec<Value>);

impl Args {
    pub(crate) fn new(args: MultiValue) -> Self {
        Args(args.into_vec())
    }

    /// `lua_gettop(L)`.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The argument at `idx` (1-based), `None` past the last ("no value").
    pub(crate) fn get(&self, idx: usize) -> Option<&Value> {
        idx.checked_sub(1).and_then(|i| self.0.get(i))
    }

    /// `lua_isnoneornil`.
    pub(crate) fn is_none_or_nil(&self, idx: usize) -> bool {
        matches!(self.get(idx), None | Some(Value::Nil))
    }
}

/// `lua_tonumber` with `lua_isnumber`: a number, or a string Lua converts to one.
pub(crate) fn to_number(lua: &Lua, v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        s @ Value::String(_) => lua.coerce_number(s.clone()).ok().flatten(),
        _ => None,
    }
}

/// `luaL_checknumber(L, idx)`.
pub(crate) fn check_number(lua: &Lua, args: &Args, idx: usize) -> mlua::Result<f64> {
    to_number(lua, args.get(idx)).ok_or_else(|| type_error(lua, idx, "number", args.get(idx)))
}

/// `luaL_checkinteger(L, idx)`: the number cast to `lua_Integer` as C does.
pub(crate) fn check_integer(lua: &Lua, args: &Args, idx: usize) -> mlua::Result<i64> {
    check_number(lua, args, idx).map(c_f64_to_i64)
}

/// `luaL_optinteger(L, idx, def)`.
pub(crate) fn opt_integer(lua: &Lua, args: &Args, idx: usize, def: i64) -> mlua::Result<i64> {
    if args.is_none_or_nil(idx) {
        Ok(def)
    } else {
        check_integer(lua, args, idx)
    }
}

/// `lua_tolstring`: the bytes of a string, or of a number converted by Lua (`%.14g`).
pub(crate) fn to_bytes(lua: &Lua, v: Option<&Value>) -> Option<Vec<u8>> {
    match v? {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        n @ (Value::Integer(_) | Value::Number(_)) => lua
            .coerce_string(n.clone())
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}

/// `luaL_checklstring(L, idx)`.
pub(crate) fn check_bytes(lua: &Lua, args: &Args, idx: usize) -> mlua::Result<Vec<u8>> {
    to_bytes(lua, args.get(idx)).ok_or_else(|| type_error(lua, idx, "string", args.get(idx)))
}

/// `(int64_t)d` as x86-64 computes it (`cvttsd2si`): truncation, and `i64::MIN` for NaN and
/// for values outside the range.
pub(crate) fn c_f64_to_i64(d: f64) -> i64 {
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&d) {
        // NaN is outside every range.
        i64::MIN
    } else {
        d as i64
    }
}

/// `(int32_t)d` as x86-64 computes it: truncation, and `i32::MIN` for NaN and out of range.
pub(crate) fn c_f64_to_i32(d: f64) -> i32 {
    // In range when truncation fits: -2^31 - 1 < d < 2^31.
    if d.is_nan() || d >= 2_147_483_648.0 || d <= -2_147_483_649.0 {
        i32::MIN
    } else {
        d as i32
    }
}

/// `(uint64_t)d` as GCC compiles it on x86-64: below 2^63 (and for NaN) the signed
/// conversion; from 2^63 up, the signed conversion of `d - 2^63` with the top bit flipped.
/// Negative values wrap (`-1.0` gives `u64::MAX`); huge ones give 0.
pub(crate) fn c_f64_to_u64(d: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if d >= TWO_63 {
        (c_f64_to_i64(d - TWO_63) as u64) ^ (1 << 63)
    } else {
        c_f64_to_i64(d) as u64
    }
}

/// Truncates a C string argument at its first NUL, as the C code sees it.
pub(crate) fn c_str(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Running snippets the way the observations on redis-server 7.0.15 were made: one line,
    //! chunk name `@user_script`, with a prelude that prints values deterministically.

    use mlua::{Lua, MultiValue, Value};

    /// The prelude the observations used (joined onto line 1 so positions read
    /// `user_script:1:`): `hex(s)`, `show(v)` (tables with sorted keys, numbers as `%.17g`,
    /// strings as `%q`, `cjson.null` as `null`) and `all(...)` (shows all its arguments).
    const PRELUDE: &str = "local function hex(s) return (string.gsub(s, '.', function(c) \
        return string.format('%02x', string.byte(c)) end)) end \
        local show \
        show = function(v, d) d = d or 0 local t = type(v) \
         if t == 'number' then return string.format('%.17g', v) \
         elseif t == 'string' then return string.format('%q', v) \
         elseif t == 'table' then if d > 20 then return '{...}' end \
          local keys = {} for k in pairs(v) do keys[#keys+1] = k end \
          table.sort(keys, function(a,b) local ta, tb = type(a), type(b) \
            if ta ~= tb then return ta < tb end \
            if ta=='number' or ta=='string' then return a < b end \
            return tostring(a) < tostring(b) end) \
          local parts = {} for _, k in ipairs(keys) do \
            parts[#parts+1] = '[' .. show(k, d+1) .. ']=' .. show(v[k], d+1) end \
          return '{' .. table.concat(parts, ',') .. '}' \
         elseif t == 'userdata' then if v == cjson.null then return 'null' end \
           return 'userdata' \
         else return tostring(v) end end \
        local function all(...) return show({n=select('#', ...), ...}) end";

    /// A Lua state with the four libraries, like a fresh Redis scripting engine.
    ///
    /// Redis's `pcall` returns a library error as its message string, while mlua hands it a
    /// wrapped error value; `pcall` is wrapped here to map that back (with [`error_text`]), as
    /// the engine has to for scripts to see what Redis shows them.
    ///
    /// [`error_text`]: super::error_text
    pub(crate) fn lua() -> Lua {
        let lua = Lua::new();
        super::register_all(&lua).expect("register the libraries");
        let to_text = lua
            .create_function(|lua, values: MultiValue| {
                values
                    .into_iter()
                    .map(|v| match v {
                        Value::Error(e) => match super::error_text(&e) {
                            Some(text) => lua.create_string(text).map(Value::String),
                            None => Ok(Value::Error(e)),
                        },
                        v => Ok(v),
                    })
                    .collect::<mlua::Result<MultiValue>>()
            })
            .expect("create the pcall filter");
        let pcall: mlua::Function = lua.globals().get("pcall").expect("pcall");
        lua.load("local raw, to_text = ... pcall = function(...) return to_text(raw(...)) end")
            .call::<()>((pcall, to_text))
            .expect("wrap pcall");
        lua
    }

    /// Runs `snippet` (after the prelude) in a fresh state and returns its string result,
    /// or `Err(message)` for an error, as the observations recorded them.
    pub(crate) fn run(snippet: &str) -> Result<String, String> {
        run_in(&lua(), snippet)
    }

    /// Like [`run`], in the given state.
    pub(crate) fn run_in(lua: &Lua, snippet: &str) -> Result<String, String> {
        let code = format!("{PRELUDE} {snippet}");
        match lua
            .load(code.as_str())
            .set_name("@user_script")
            .eval::<mlua::Value>()
        {
            Ok(mlua::Value::String(s)) => Ok(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
            Ok(mlua::Value::Integer(i)) => Ok(i.to_string()),
            // Redis replies with a Lua number truncated to an integer.
            Ok(mlua::Value::Number(n)) => Ok((n as i64).to_string()),
            Ok(other) => Ok(format!("{other:?}")),
            Err(e) => Err(super::error_text(&e)
                .map(str::to_owned)
                .unwrap_or_else(|| e.to_string())),
        }
    }

    /// Deep equality of Lua values: tables by contents (keys compared raw, by Lua equality),
    /// numbers by value, strings by bytes, everything else by Lua equality.
    pub(crate) fn deep_eq(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Table(x), Value::Table(y)) => {
                let mut count = 0usize;
                let mut same = true;
                let walk = x.for_each(|k: Value, v: Value| {
                    count += 1;
                    let w: Value = y.raw_get(k)?;
                    same &= deep_eq(&v, &w);
                    Ok(())
                });
                let mut other = 0usize;
                let walk_other = y.for_each(|_: Value, _: Value| {
                    other += 1;
                    Ok(())
                });
                walk.is_ok() && walk_other.is_ok() && same && count == other
            }
            (Value::Integer(_) | Value::Number(_), Value::Integer(_) | Value::Number(_)) => {
                num(a) == num(b)
            }
            (Value::String(x), Value::String(y)) => x.as_bytes() == y.as_bytes(),
            _ => a.equals(b).unwrap_or(false),
        }
    }

    fn num(v: &Value) -> f64 {
        match v {
            Value::Integer(i) => *i as f64,
            Value::Number(n) => *n,
            _ => f64::NAN,
        }
    }

    /// Checks `(snippet, outcome)` pairs, where `outcome` is `Ok(reply)` or `Err(message)`.
    pub(crate) fn check(cases: &[(&str, Result<&str, &str>)]) {
        let mut failures = Vec::new();
        for (snippet, want) in cases {
            let got = run(snippet);
            let want = want.map(str::to_owned).map_err(str::to_owned);
            if got != want {
                failures.push(format!("{snippet}\n   want {want:?}\n    got {got:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use mlua::{MultiValue, Value};

    use super::testing::lua;

    /// Malformed input of every kind ends in a value or a Lua error, never a panic: random
    /// bytes (biased towards each format's special characters) through every decoder and
    /// format parser.
    #[test]
    fn random_inputs_never_panic() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let lua = lua();
        let get = |path: &str| -> mlua::Function {
            lua.load(format!("return {path}")).eval().expect(path)
        };
        let decode = get("cjson.decode");
        let unpack = get("cmsgpack.unpack");
        let unpack_limit = get("cmsgpack.unpack_limit");
        let spack = get("struct.pack");
        let sunpack = get("struct.unpack");
        let ssize = get("struct.size");
        let mut rng = StdRng::seed_from_u64(7);
        let json_bytes = b"[]{}:,\"\\/ubfnrt0123456789-+.eEx infinityNaN\0\xff";
        let fmt_bytes = b"<>!xbBhHlLTiIcsfd 0123456789\0z";
        for _ in 0..3000 {
            let len = rng.gen_range(0..48);
            let pick = |rng: &mut StdRng, alphabet: &[u8]| -> Vec<u8> {
                (0..len)
                    .map(|_| {
                        if rng.gen_bool(0.8) {
                            alphabet[rng.gen_range(0..alphabet.len())]
                        } else {
                            rng.gen()
                        }
                    })
                    .collect()
            };
            let json = lua.create_string(pick(&mut rng, json_bytes)).expect("s");
            let _ = decode.call::<Value>(json);
            let raw: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let raw = lua.create_string(&raw).expect("s");
            let _ = unpack.call::<MultiValue>(raw.clone());
            let limit = rng.gen_range(-2..4);
            let offset = rng.gen_range(-2..50);
            let _ = unpack_limit.call::<MultiValue>((raw.clone(), limit, offset));
            let fmt = lua.create_string(pick(&mut rng, fmt_bytes)).expect("s");
            let _ = sunpack.call::<MultiValue>((fmt.clone(), raw.clone(), rng.gen_range(-3..8)));
            let _ = spack.call::<MultiValue>((fmt.clone(), 1.5, raw, -7, "abc", 1e300));
            let _ = ssize.call::<MultiValue>(fmt);
        }
    }
}
