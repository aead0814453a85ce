//! The Lua 5.1 interpreter EVAL scripts run in: its creation (libraries, the sandbox of
//! `sandbox.lua`, the Rust primitives behind the `redis` table), script compilation, and
//! running one script.
//!
//! The primitives that need the server (`redis.call`, `redis.pcall`, `redis.setresp`,
//! `redis.set_repl`, `redis.acl_check_cmd`) find it through a [`Link`] that holds raw
//! pointers to the server and to the calling client's reply buffer for exactly the length of
//! [`Engine::run`]: the command handler that runs the script lends them, and touches neither
//! until the script has returned. A primitive takes the pointers out of the link while it
//! runs, so that a nested call (impossible today: no command a script may call runs a
//! script) would find no server rather than a second mutable borrow.
//!
//! `redis.call` and `redis.pcall` are Rust functions themselves (C functions to Lua, as in
//! Redis); `redis.call` raises a command's error table as a `CallError`, which the
//! sandbox's `error_value` makes the table again where scripts can see it (one Lua frame
//! and one conversion fewer per call than a Lua wrapper that raised the table: callgrind,
//! an EVALSHA of one GET, 11,544 instructions per call with the wrapper, 10,759 without).
//!
//! Every function scripts can call that the sandbox writes in Lua is shown to them through a
//! C trampoline ([`trampoline`]): Lua turns `return f(...)` into a tail call that replaces
//! the caller's frame when `f` is a Lua function, which would lose the script line an error
//! is reported at; through a C function the script's frame stays, as with Redis's C
//! functions.
//!
//! A count hook runs every [`HOOK_INSTRUCTIONS`] Lua instructions (Redis's period) and hands
//! the lent server to `cmd::scripting::interrupt`, which, once the run is past
//! busy-reply-threshold, serves other clients from inside the script and stops it when
//! SCRIPT KILL asked (the hook's error).

use super::convert::error_table;
use super::rand48::Rand48;
use crate::server::Server;
use mlua::{Function, Lua, LuaOptions, MultiValue, RegistryKey, StdLib, Table, Value};
use std::cell::Cell;
use std::rc::Rc;

/// The chunk name of the sandbox's own code: the message handler skips its frames.
const SANDBOX_SOURCE: &str = "@sandbox";
/// The registry name of Lua's own `xpcall`.
pub(crate) const RAW_XPCALL: &str = "ringkv.xpcall";
/// Lua instructions between two looks at the clock (Redis's).
const HOOK_INSTRUCTIONS: u32 = 100_000;
/// The interpreter's memory bound: a script past it gets a "not enough memory" error at
/// the hook's next look instead of taking the server's memory (Redis leaves Lua unbounded).
/// Checked by the hook rather than set as mlua's allocator limit: with a limit set, mlua
/// runs every allocating call (tables, strings) in a protected call of its own, which
/// doubled the cost of building KEYS and ARGV (perf: 23% of an EVALSHA's CPU).
const SCRIPT_MEMORY_MAX_BYTES: usize = 1 << 30;

/// Installs the hook that runs every [`HOOK_INSTRUCTIONS`] instructions of a script
/// (`cmd::scripting::interrupt`). When it stops a killed script, the hook is replaced by one
/// that raises the same error at every line (as Redis does, so that a script catching it
/// with pcall cannot go on), until `Engine::run` puts this one back.
fn install_count_hook(lua: &Lua, clock: &Rc<Clock>, link: &Rc<Link>) -> mlua::Result<()> {
    let c = Rc::clone(clock);
    let l = Rc::clone(link);
    lua.set_hook(
        mlua::HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
        move |lua, _| {
            if lua.used_memory() > c.memory_max.get() {
                return Err(mlua::Error::RuntimeError("not enough memory".into()));
            }
            if let Some(t) = c.load_started.get() {
                if t.elapsed() >= LOAD_TIMEOUT {
                    return Err(mlua::Error::RuntimeError("FUNCTION LOAD timeout".into()));
                }
            }
            let Some(started) = c.started.get() else {
                return Ok(mlua::VmState::Continue);
            };
            // Inside a primitive (the link is taken) the script is not running Lua.
            let r = l.with(
                || Ok(mlua::VmState::Continue),
                |srv, _| crate::cmd::scripting::interrupt(srv, started),
            );
            if r.is_err() {
                // Raised by the line hook, in the script's own code: the sandbox's Lua
                // stands for Redis's C functions, which have no lines.
                c.killed.set(true);
                lua.set_hook(mlua::HookTriggers::new().every_line(), |_, debug| {
                    if debug.source().source.as_deref() == Some(SANDBOX_SOURCE) {
                        return Ok(mlua::VmState::Continue);
                    }
                    Err(crate::cmd::scripting::killed_error())
                })?;
                return Ok(mlua::VmState::Continue);
            }
            r
        },
    )
}

/// The server and the calling client's reply buffer, lent to the primitives for one run.
#[derive(Clone, Copy)]
pub(crate) struct Running {
    pub srv: *mut Server,
    pub out: *mut Vec<u8>,
}

/// Where the primitives find the running script's server (`None` between runs).
#[derive(Default)]
pub(crate) struct Link(Cell<Option<Running>>);

/// The hook's view of the run: when the running script started, whether it was killed
/// (the every-line hook is on), and the memory bound.
struct Clock {
    started: Cell<Option<std::time::Instant>>,
    killed: Cell<bool>,
    memory_max: Cell<usize>,
    /// A library's load-time code runs (FUNCTION LOAD): since when.
    load_started: Cell<Option<std::time::Instant>>,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock {
            started: Cell::new(None),
            killed: Cell::new(false),
            memory_max: Cell::new(SCRIPT_MEMORY_MAX_BYTES),
            load_started: Cell::new(None),
        }
    }
}

/// How long a library's load-time code may run (Redis 7.0's `LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

impl Link {
    /// Runs `f` with the lent server and buffer, or answers `missing` when no script runs.
    fn with<R>(
        &self,
        missing: impl FnOnce() -> mlua::Result<R>,
        f: impl FnOnce(&mut Server, &mut Vec<u8>) -> mlua::Result<R>,
    ) -> mlua::Result<R> {
        let Some(r) = self.0.take() else {
            return missing();
        };
        // SAFETY: `Engine::run` put these pointers here from a live `&mut Server` and
        // `&mut Vec<u8>` that its caller does not use until `run` returns, and removes them
        // before returning; taking them out of the link for the length of `f` means no
        // other reference is made from them meanwhile.
        let result = unsafe { f(&mut *r.srv, &mut *r.out) };
        self.0.set(Some(r));
        result
    }
}

/// One Lua state with its sandbox. Rebuilt by SCRIPT FLUSH.
pub struct Engine {
    lua: Lua,
    link: Rc<Link>,
    clock: Rc<Clock>,
    /// Lua's own `xpcall` and the message handler: an EVAL script runs as
    /// `xpcall(f, handler)`, called from here without a Lua frame of ours in between.
    xpcall: Function,
    handler: Function,
    /// The real globals table (scripts see it through its proxy), where KEYS and ARGV live.
    g0: Table,
    /// The KEYS and ARGV tables of EVAL scripts, emptied and refilled for each run; made
    /// at the first [`Engine::run`] (the function engine, which never makes one, has no
    /// such globals).
    args: std::cell::RefCell<Option<ArgTables>>,
}

/// KEYS and ARGV, reused across runs: a script cannot keep a table past its run (every
/// table it could store one in is read-only), so the next run may have them back, emptied
/// (its own keys, metatable and elements gone) and refilled. A run therefore makes no
/// tables (and the collector has none to free), where Redis makes two. Replaced by fresh
/// ones at each collection step, so that a table a script grew (say to a million slots,
/// which emptying then visits) is dropped after at most [`GC_PERIOD`] runs.
///
/// [`GC_PERIOD`]: super::GC_PERIOD_RUNS
struct ArgTables {
    keys: Table,
    argv: Table,
}

/// A C function standing for the Lua function in its upvalue: calls it with its arguments
/// and returns all its results; errors propagate.
///
/// # Safety
/// Called by Lua only, as a C closure with one upvalue holding a function.
unsafe extern "C-unwind" fn trampoline(state: *mut mlua::lua_State) -> std::ffi::c_int {
    use mlua::ffi;
    // SAFETY: Lua calls this with a valid state, its arguments on the stack and, as made by
    // `make_trampoline`, the function in upvalue 1. An error raised by the function unwinds
    // through this frame with Lua's longjmp: the frame owns nothing to drop.
    unsafe {
        let nargs = ffi::lua_gettop(state);
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
        ffi::lua_insert(state, 1);
        ffi::lua_call(state, nargs, ffi::LUA_MULTRET);
        ffi::lua_gettop(state)
    }
}

/// `f` behind a [`trampoline`].
fn make_trampoline(lua: &Lua, f: Function) -> mlua::Result<Function> {
    // SAFETY: pushes one C closure over `f` (the one argument on the stack), which is the
    // result; `trampoline` is sound for a closure made so.
    unsafe {
        lua.exec_raw(f, |state| {
            mlua::ffi::lua_pushcclosure(state, trampoline, 1);
        })
    }
}

/// Redis's version as `REDIS_VERSION_NUM` writes it: 0x00MMmmpp.
fn version_num() -> u32 {
    let mut parts = crate::cmd::server::REDIS_VERSION
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (a << 16) | (b << 8) | c
}

/// Logs a script's `redis.log` line at its Redis level (0 debug .. 3 warning).
fn log_line(level: i32, msg: &[u8]) {
    let text = String::from_utf8_lossy(msg);
    match level {
        0 => log::trace!("{text}"),
        1 => log::debug!("{text}"),
        2 => log::info!("{text}"),
        _ => log::warn!("{text}"),
    }
}

impl Engine {
    /// A fresh interpreter. `rand` is the process-wide generator of `math.random`, shared
    /// with the interpreters SCRIPT FLUSH makes later.
    pub fn new(rand: Rc<Cell<Rand48>>) -> Engine {
        Engine::build(rand, super::register_libs)
            .expect("the script sandbox is built from fixed code")
    }

    /// An interpreter whose libraries `libs` registers (tests register stand-ins).
    pub(crate) fn build(
        rand: Rc<Cell<Rand48>>,
        libs: fn(&Lua) -> mlua::Result<()>,
    ) -> mlua::Result<Engine> {
        // SAFETY: `debug` is loaded only so that the message handler can keep
        // `debug.getinfo`; the sandbox removes `debug` from the globals before any script
        // runs. `package` is not loaded, so no C module can be.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::default(),
            )
        };
        libs(&lua)?;
        let g0 = lua.globals();
        let getinfo: Function = g0.get::<Table>("debug")?.get("getinfo")?;
        // Lua's own xpcall, for runners built after the sandbox replaced the global one
        // (`script::functions`).
        lua.set_named_registry_value(RAW_XPCALL, g0.get::<Function>("xpcall")?)?;
        let link = Rc::new(Link::default());
        let rk = primitives(&lua, &link, rand)?;
        let error_value: Function = rk.get("error_value")?;
        let handler: Function = lua
            .load(include_str!("err_handler.lua"))
            .set_name("@err_handler_def")
            .call((getinfo.clone(), SANDBOX_SOURCE, error_value))?;
        let globals: Table = lua
            .load(include_str!("sandbox.lua"))
            .set_name(SANDBOX_SOURCE)
            .call((&g0, rk, &handler, getinfo))?;
        lua.set_globals(globals)?;
        let clock = Rc::new(Clock::default());
        install_count_hook(&lua, &clock, &link)?;
        let xpcall: Function = lua.named_registry_value(RAW_XPCALL)?;
        Ok(Engine {
            lua,
            link,
            clock,
            xpcall,
            handler,
            g0,
            args: std::cell::RefCell::new(None),
        })
    }

    /// Compiles a script body (after its shebang line) as Redis names it, `@user_script`.
    /// The compiled chunk is kept in the Lua registry under the returned key.
    pub fn compile(&self, code: &[u8]) -> Result<RegistryKey, String> {
        // Redis's Lua reads every chunk as text, even one starting with the binary signature
        // (ESC): a space in front gives the parser's error without ever loading bytecode.
        let spaced;
        let code = if code.first() == Some(&0x1b) {
            spaced = [b" ", code].concat();
            &spaced[..]
        } else {
            code
        };
        let f = self
            .lua
            .load(code)
            .set_name("@user_script")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    lua_message(&e)
                )
            })?;
        self.lua
            .create_registry_value(f)
            .map_err(|e| format!("ERR Error compiling script (new function): {e}"))
    }

    /// The compiled chunk kept under `key`.
    pub fn function(&self, key: &RegistryKey) -> mlua::Result<Function> {
        self.lua.registry_value(key)
    }

    /// Runs `f` under the message handler, its KEYS the first `numkeys` of `args` and its
    /// ARGV the rest: `true` and the script's first result, or `false` and the error value.
    /// Lua's `xpcall` is called directly, and KEYS and ARGV are refilled in place
    /// ([`ArgTables`]): a run makes no tables and has no Lua frame of ours (callgrind, an
    /// EVALSHA of one GET: 15,906 instructions per call with a Lua runner making new tables,
    /// 12,452 like this).
    ///
    /// # Safety
    /// `running` must point to a live server and reply buffer that nothing else uses (reads
    /// or writes) until this returns: the primitives make references from them.
    pub(crate) unsafe fn run<'a>(
        &self,
        running: Running,
        f: &Function,
        numkeys: usize,
        args: impl Iterator<Item = &'a [u8]>,
    ) -> mlua::Result<(bool, Value)> {
        {
            let mut tables = self.args.borrow_mut();
            let tables = match &mut *tables {
                Some(t) => t,
                none => none.insert(ArgTables::new(&self.lua, &self.g0)?),
            };
            let mut args = args;
            refill(&tables.keys, args.by_ref().take(numkeys))?;
            refill(&tables.argv, args)?;
        }
        self.link.0.set(Some(running));
        self.clock.started.set(Some(std::time::Instant::now()));
        let result = self.xpcall.call::<(bool, Value)>((f, &self.handler));
        self.after_run()?;
        result
    }

    /// `run` under a runner (the function engine's, which passes KEYS and ARGV to the
    /// function as arguments). The runner gets `f`, `numkeys` and the strings, and makes
    /// KEYS (the first `numkeys`) and ARGV (the rest) itself: a library may keep them, so
    /// they are new tables for each call (made in Lua, which costs a fraction of tables
    /// made through mlua's API).
    ///
    /// # Safety
    /// As for `run`.
    pub(crate) unsafe fn run_with<'a>(
        &self,
        running: Running,
        runner: &Function,
        f: Function,
        numkeys: usize,
        args: impl Iterator<Item = &'a [u8]>,
    ) -> mlua::Result<(bool, Value)> {
        let args: mlua::Variadic<&bstr::BStr> = args.map(bstr::BStr::new).collect();
        self.link.0.set(Some(running));
        self.clock.started.set(Some(std::time::Instant::now()));
        let result = runner.call::<(bool, Value)>((f, numkeys, args));
        self.after_run()?;
        result
    }

    /// Ends a run: the primitives find no server, and the count hook is back if a kill
    /// replaced it.
    fn after_run(&self) -> mlua::Result<()> {
        self.clock.started.set(None);
        self.link.0.set(None);
        if self.clock.killed.replace(false) {
            install_count_hook(&self.lua, &self.clock, &self.link)?;
        }
        Ok(())
    }

    /// Runs `f` (a library's load-time code) under the load timeout: past it, the hook
    /// raises `FUNCTION LOAD timeout` in the code.
    pub fn with_load_timeout<R>(&self, f: impl FnOnce() -> R) -> R {
        self.clock.load_started.set(Some(std::time::Instant::now()));
        let r = f();
        self.clock.load_started.set(None);
        r
    }

    /// Sets the memory bound the hook enforces (tests use a small one).
    #[cfg(test)]
    fn set_memory_bound(&self, bytes: usize) {
        self.clock.memory_max.set(bytes);
    }

    /// One incremental collection step (Redis runs one every 50 scripts so that Lua's own
    /// collector never needs a long full cycle).
    pub fn gc_step(&self) {
        let _ = self.lua.gc_step();
        let mut tables = self.args.borrow_mut();
        if tables.is_some() {
            *tables = ArgTables::new(&self.lua, &self.g0).ok();
        }
    }

    /// The interpreter's memory, in bytes, as Redis reports it (whole kilobytes).
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory() / 1024 * 1024
    }

    pub fn lua(&self) -> &Lua {
        &self.lua
    }
}

impl ArgTables {
    /// Two empty tables, set as the globals KEYS and ARGV.
    fn new(lua: &Lua, g0: &Table) -> mlua::Result<ArgTables> {
        let keys = lua.create_table()?;
        let argv = lua.create_table()?;
        g0.raw_set("KEYS", &keys)?;
        g0.raw_set("ARGV", &argv)?;
        Ok(ArgTables { keys, argv })
    }
}

/// Empties `t` (what the last run put and anything its script added, metatable included)
/// and sets `items` as its elements 1, 2, ...
fn refill<'a>(t: &Table, items: impl Iterator<Item = &'a [u8]>) -> mlua::Result<()> {
    // `is_empty` is one look at the table; `clear` sets up a walk (ARGV is often empty).
    if !t.is_empty() {
        t.clear()?;
    }
    if t.has_metatable() {
        t.set_metatable(None)?;
    }
    for (i, item) in items.enumerate() {
        // The same Lua string either way; mlua pushes a `&str` straight onto the stack, where
        // other bytes become a registry-held string first (~700 instructions more a key).
        match std::str::from_utf8(item) {
            Ok(text) => t.raw_seti(i + 1, text)?,
            Err(_) => t.raw_seti(i + 1, bstr::BStr::new(item))?,
        }
    }
    Ok(())
}

/// A Lua error's message as Lua wrote it (no mlua decoration).
fn lua_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) | mlua::Error::MemoryError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// The text of an error a Rust library function raised (mlua hands Lua a userdata holding
/// it, where Redis's C libraries raise a string): the innermost runtime error's message,
/// which the library wrote as `luaL_error` would (position included).
fn rust_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(text) => text.clone(),
        mlua::Error::CallbackError { cause, .. } => rust_error_text(cause),
        mlua::Error::WithContext { cause, .. } => rust_error_text(cause),
        other => other.to_string(),
    }
}

/// The error table `redis.call` raises, carried through Lua as mlua's error value (a
/// userdata) and made again by `error_value` where a script's `pcall`, `xpcall` handler or
/// `coroutine.resume`, or the message handler, would see it: `{err = ...}`, with
/// `ignore_error_stats_update = true` for a command's own error (counted already), as
/// `convert::error_table` and `convert::reply_to_lua` make it.
#[derive(Debug)]
struct CallError {
    err: Vec<u8>,
    counted: bool,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.err))
    }
}

impl std::error::Error for CallError {}

impl CallError {
    /// The error to raise for the error table `v`.
    fn raise(v: &Value) -> mlua::Error {
        let (err, counted) = match v {
            Value::Table(t) => (
                t.raw_get::<mlua::BString>("err")
                    .map(Vec::from)
                    .unwrap_or_default(),
                t.raw_get::<bool>("ignore_error_stats_update")
                    .unwrap_or(false),
            ),
            _ => (Vec::new(), false),
        };
        mlua::Error::external(CallError { err, counted })
    }

    /// The `CallError` under mlua's wrapping of a callback's error, if that is one.
    fn of(e: &mlua::Error) -> Option<&CallError> {
        match e {
            mlua::Error::ExternalError(inner) => inner.downcast_ref::<CallError>(),
            mlua::Error::CallbackError { cause, .. } => CallError::of(cause),
            mlua::Error::WithContext { cause, .. } => CallError::of(cause),
            _ => None,
        }
    }

    /// The error table again.
    fn table(&self, lua: &Lua) -> mlua::Result<Table> {
        let t = lua.create_table()?;
        t.raw_set("err", lua.create_string(&self.err)?)?;
        if self.counted {
            t.raw_set("ignore_error_stats_update", true)?;
        }
        Ok(t)
    }
}

/// The table of Rust functions sandbox.lua builds the `redis` API on.
fn primitives(lua: &Lua, link: &Rc<Link>, rand: Rc<Cell<Rand48>>) -> mlua::Result<Table> {
    let rk = lua.create_table()?;
    let not_running = |lua: &Lua| -> mlua::Result<(i32, Value)> {
        let t = error_table(
            lua,
            b"redis.call/pcall can only be called inside a script invocation",
        )?;
        Ok((2, Value::Table(t)))
    };
    // `redis.call` and `redis.pcall` themselves: Rust functions, which Lua sees as C
    // functions, like Redis's (a script's `return redis.call(...)` keeps its frame, and
    // its line, for the error). `redis.call` raises a command's error table as a
    // [`CallError`], which `error_value` turns back into the table wherever a script
    // or the message handler can see it.
    // A failed command is raised by `redis.call` (kind 1) and returned by `redis.pcall`;
    // a call outside a running script (kind 2) is raised by both.
    for (name, raised_from) in [("call", 1), ("pcall", 2)] {
        let l = Rc::clone(link);
        rk.raw_set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let (kind, v) = l.with(
                    || not_running(lua),
                    |srv, out| crate::cmd::scripting::script_call(srv, out, lua, &args),
                )?;
                if kind >= raised_from {
                    Err(CallError::raise(&v))
                } else {
                    Ok(v)
                }
            })?,
        )?;
    }
    let l = Rc::clone(link);
    rk.raw_set(
        "acl_check_cmd",
        lua.create_function(move |lua, args: MultiValue| {
            l.with(
                || not_running(lua),
                |srv, _| crate::cmd::scripting::acl_check_cmd(srv, lua, &args),
            )
        })?,
    )?;
    let l = Rc::clone(link);
    rk.raw_set(
        "setresp",
        lua.create_function(move |_, resp: i32| {
            l.with(
                || Ok(()),
                |srv, _| {
                    srv.scripts.run.resp3 = resp == 3;
                    Ok(())
                },
            )
        })?,
    )?;
    let l = Rc::clone(link);
    rk.raw_set(
        "set_repl",
        lua.create_function(move |_, flags: i32| {
            l.with(
                || Ok(()),
                |srv, _| {
                    // REPL_AOF is the bit the journal's only consumer, the AOF, follows;
                    // ringkv has no replicas for REPL_REPLICA to concern.
                    srv.scripts.run.propagate_aof = flags & 1 != 0;
                    Ok(())
                },
            )
        })?,
    )?;
    rk.raw_set(
        "err",
        lua.create_function(|lua, s: mlua::LuaString| error_table(lua, &s.as_bytes()))?,
    )?;
    rk.raw_set(
        "sha1hex",
        lua.create_function(|lua, s: mlua::LuaString| {
            lua.create_string(super::sha1_hex(&s.as_bytes()))
        })?,
    )?;
    rk.raw_set(
        "log",
        lua.create_function(|_, (level, msg): (i32, mlua::LuaString)| {
            log_line(level, &msg.as_bytes());
            Ok(())
        })?,
    )?;
    let r = Rc::clone(&rand);
    rk.raw_set(
        "rand",
        lua.create_function(move |_, ()| {
            let mut g = r.get();
            let v = g.next_unit();
            r.set(g);
            Ok(v)
        })?,
    )?;
    rk.raw_set(
        "srand",
        lua.create_function(move |_, seed: f64| {
            let mut g = rand.get();
            g.seed(seed as i32);
            rand.set(g);
            Ok(())
        })?,
    )?;
    rk.raw_set(
        "error_value",
        lua.create_function(|lua, v: Value| {
            Ok(match v {
                Value::Error(e) => match CallError::of(&e) {
                    Some(c) => Value::Table(c.table(lua)?),
                    None => Value::String(lua.create_string(rust_error_text(&e))?),
                },
                other => other,
            })
        })?,
    )?;
    rk.raw_set(
        "c_function",
        lua.create_function(|lua, f: Function| make_trampoline(lua, f))?,
    )?;
    rk.raw_set("REDIS_VERSION", crate::cmd::server::REDIS_VERSION)?;
    rk.raw_set("REDIS_VERSION_NUM", version_num())?;
    Ok(rk)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for a Rust library (the cjson of the libraries branch): its function raises
    /// an mlua runtime error, which Lua sees as a userdata.
    fn stand_in_libs(lua: &Lua) -> mlua::Result<()> {
        let t = lua.create_table()?;
        t.set(
            "decode",
            lua.create_function(|_, _: MultiValue| -> mlua::Result<()> {
                Err(mlua::Error::RuntimeError(
                    "user_script:1: Expected value".into(),
                ))
            })?,
        )?;
        lua.globals().set("cjson", t)
    }

    /// Runs `code` in `engine` (no `redis.call` in it: the server lent is a stand-in).
    fn run(engine: &Engine, code: &str) -> (bool, Value) {
        let key = engine.compile(code.as_bytes()).expect("compiles");
        let f = engine.function(&key).expect("the chunk");
        let mut srv = Server::new(crate::config::Config::default());
        let mut out = Vec::new();
        let running = Running {
            srv: &mut srv,
            out: &mut out,
        };
        // SAFETY: `srv` and `out` live through the call and nothing else touches them.
        unsafe { engine.run(running, &f, 0, std::iter::empty()) }.expect("runs")
    }

    /// A script that allocates past the interpreter's bound gets Lua's memory error; the
    /// interpreter goes on.
    #[test]
    fn memory_bound_is_an_error_not_a_crash() {
        let engine = Engine::build(Rc::default(), stand_in_libs).expect("engine");
        let used = engine.lua().used_memory();
        engine.set_memory_bound(used + (8 << 20));
        let (ok, e) = run(
            &engine,
            "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
        );
        assert!(!ok);
        let Value::Table(t) = e else {
            panic!("{e:?}");
        };
        let err: String = t.raw_get("err").unwrap();
        assert_eq!(err, "ERR not enough memory");
        assert!(engine.lua().used_memory() < used + (16 << 20));
        // The garbage of the failed run goes at the next collection; the state works on.
        engine.lua().gc_collect().expect("collect");
        let (ok, v) = run(&engine, "return 1 + 1");
        assert!(ok);
        assert_eq!(v, Value::Integer(2));
    }

    /// An error a Rust library raises reads as the string Redis's C library raises: in the
    /// script's error, in Redis's `pcall`, and in an `xpcall` handler.
    #[test]
    fn rust_library_errors_read_as_redis_strings() {
        let engine = Engine::build(Rc::default(), stand_in_libs).expect("engine");
        let (ok, e) = run(&engine, "return cjson.decode('x')");
        let Value::Table(t) = e else {
            panic!("{ok} {e:?}");
        };
        assert!(!ok);
        assert_eq!(
            t.raw_get::<String>("err").unwrap(),
            "ERR user_script:1: Expected value"
        );
        assert_eq!(t.raw_get::<String>("source").unwrap(), "@user_script");
        let (ok, v) = run(
            &engine,
            "local ok, e = pcall(cjson.decode, 'x') return type(e) .. ' ' .. e",
        );
        assert!(ok);
        assert_eq!(
            v.to_string().unwrap(),
            "string user_script:1: Expected value"
        );
        let (ok, v) = run(
            &engine,
            "local ok, e = xpcall(function() return cjson.decode('x') end, \
             function(e) return type(e) end) return e",
        );
        assert!(ok);
        assert_eq!(v.to_string().unwrap(), "string");
        // Read-only like every library table.
        let (ok, e) = run(&engine, "cjson.decode = nil");
        assert!(!ok, "{e:?}");
    }
}
