//! Lua scripting: EVAL, EVALSHA and their read-only forms run Lua 5.1 scripts the way
//! redis-server 7.0 does.
//!
//! The map of the scripting modules:
//!
//! - `script` (this file): [`Scripts`], the server's scripting state: the interpreter, the
//!   script cache (SHA1 → flags and compiled chunk; never persisted, emptied by SCRIPT
//!   FLUSH), the generator behind `math.random`, and [`Run`], the state of the script
//!   running now, which `cmd::call` reads to check the commands the script calls.
//! - `script::engine`: the Lua state (one for all EVAL scripts), the Rust primitives the
//!   `redis` table is built on, compiling a script and running one.
//! - `sandbox.lua` and `err_handler.lua` (in this directory): the sandbox scripts see —
//!   Redis 7.0's globals, read-only tables emulated with proxies, `redis.*`, Redis's
//!   `pcall`, `math.random` — and the message handler that shapes a script's errors.
//! - `script::functions` and `function_sandbox.lua`: Redis 7.0 functions, their own Lua
//!   state and libraries (FUNCTION, FCALL; `cmd::functions` has the commands).
//! - `script::convert`: command replies to Lua values and script results to replies.
//! - `script::shebang`: the `#!lua flags=...` line.
//! - `script::rand48`: Redis's `redisLrand48`, so `math.random` draws Redis's numbers.
//! - `cjson`, `cmsgpack`, `structlib`, `bit` and `libs` (another branch): the cjson,
//!   cmsgpack, struct and bit libraries, registered by [`register_libs`].
//! - `cmd::scripting`: the commands (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT) and the
//!   bridge from `redis.call` to `cmd::call`.
//!
//! Invariants: `run.active` is true exactly while a script runs; the cache's byte count is
//! the sum of what its entries hold; a cached script's chunk lives in the current
//! interpreter's registry (SCRIPT FLUSH replaces both at once).

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod convert;
pub mod engine;
pub mod functions;
pub mod libs;
pub mod rand48;
pub mod shebang;
pub mod structlib;

use engine::Engine;
use rand48::Rand48;
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

/// Registers the cjson, cmsgpack, struct and bit libraries in `lua`'s globals, before the
/// sandbox is built over them.
pub fn register_libs(lua: &mlua::Lua) -> mlua::Result<()> {
    libs::register_all(lua)
}

/// A script's SHA1 as 40 lower-case hex digits (the cache key, EVALSHA's argument).
pub type Sha = [u8; 40];

/// Redis's `sha1hex`: the SHA1 of `body` as 40 lower-case hex digits.
pub fn sha1_hex(body: &[u8]) -> Sha {
    let digest = sha1_smol::Sha1::from(body).digest().bytes();
    let hex = b"0123456789abcdef";
    let mut out = [0u8; 40];
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = hex[usize::from(b >> 4)];
        out[2 * i + 1] = hex[usize::from(b & 0xf)];
    }
    out
}

/// An EVALSHA argument as a cache key: ASCII letters lowered (Redis compares SHAs without
/// regard to case). None unless 40 bytes long.
pub fn sha_key(arg: &[u8]) -> Option<Sha> {
    let mut out: Sha = arg.try_into().ok()?;
    out.make_ascii_lowercase();
    Some(out)
}

/// One cached script.
pub struct Script {
    /// `shebang::*` flags.
    pub flags: u32,
    /// The compiled chunk in the interpreter's registry.
    chunk: mlua::RegistryKey,
    /// The body's length, for the cache's memory figure.
    body_len: usize,
}

/// The running script's state (Redis's `scriptRunCtx`).
#[derive(Default, Clone, Copy, Debug)]
pub struct Run {
    /// A script runs.
    pub active: bool,
    /// The calling client's connection.
    pub slot: usize,
    /// The script's commands reply in RESP3 (`redis.setresp(3)`).
    pub resp3: bool,
    /// Write commands are refused (EVAL_RO, EVALSHA_RO, `no-writes`).
    pub read_only: bool,
    /// `denyoom` commands run even over maxmemory (`allow-oom`).
    pub allow_oom: bool,
    /// A write command passed the checks: the script can no longer be stopped by OOM.
    pub write_dirty: bool,
    /// The script's effects go to the journal (`redis.set_repl`; on at the start).
    pub propagate_aof: bool,
    /// The caller uses client-side caching: the index of its EVAL command, whose command
    /// line is in `Scripts::caller_argv` (the keys its read-only commands make it remember).
    pub tracked_caller: Option<usize>,
    /// An EVAL-family script (not a function): which KILL stops it, which BUSY text others get.
    pub eval_mode: bool,
    /// It has run past busy-reply-threshold: other clients are served from its hook, with
    /// -BUSY to all but the commands flagged `allow_busy`.
    pub timed_out: bool,
    /// SCRIPT KILL asked it to stop: the hook raises an error at its next look.
    pub killed: bool,
}

impl Run {
    /// The -BUSY error other clients get while this script is timed out.
    pub fn busy_error(&self) -> &'static str {
        if self.eval_mode {
            ERR_BUSY_EVAL
        } else {
            ERR_BUSY_FUNCTION
        }
    }
}

/// Redis's replies to other clients while a script or a function is busy.
pub const ERR_BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const ERR_BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The server's scripting state.
pub struct Scripts {
    engine: Rc<Engine>,
    cache: HashMap<Sha, Script, foldhash::fast::FixedState>,
    /// The script `chunk` gave last: its SHA, flags and chunk (emptied with the cache).
    hot: std::cell::RefCell<Option<(Sha, u32, mlua::Function)>>,
    /// Bytes of the cached bodies and their SHAs.
    cache_bytes: usize,
    /// Redis's one `redisLrand48` state: kept across SCRIPT FLUSH.
    rand: Rc<Cell<Rand48>>,
    /// Scripts run since the last collection step.
    runs_since_gc: u32,
    /// The interpreter's memory as last read (`vm_memory_exact`).
    vm_bytes: usize,
    /// The state of the script running now.
    pub run: Run,
    /// Reused by `cmd::scripting::script_call` for a command's arguments.
    pub(crate) arg_bytes: Vec<u8>,
    pub(crate) arg_spans: Vec<crate::resp::Span>,
    /// A copy of the running EVAL's command line while its caller uses client-side caching.
    pub(crate) caller_argv: (Vec<u8>, Vec<crate::resp::Span>),
    /// The function libraries (persisted, unlike the script cache; SCRIPT FLUSH keeps them).
    pub functions: functions::Functions,
}

/// Redis runs a collection step every this many scripts.
const GC_PERIOD_RUNS: u32 = 50;

impl Default for Scripts {
    fn default() -> Self {
        Scripts::new()
    }
}

impl Scripts {
    pub fn new() -> Scripts {
        let rand = Rc::new(Cell::new(Rand48::default()));
        let mut scripts = Scripts {
            functions: functions::Functions::new(Rc::clone(&rand)),
            engine: Rc::new(Engine::new(Rc::clone(&rand))),
            cache: HashMap::with_hasher(foldhash::fast::FixedState::default()),
            hot: std::cell::RefCell::new(None),
            cache_bytes: 0,
            rand,
            runs_since_gc: 0,
            vm_bytes: 0,
            run: Run::default(),
            arg_bytes: Vec::new(),
            arg_spans: Vec::new(),
            caller_argv: (Vec::new(), Vec::new()),
        };
        scripts.note_vm_memory();
        scripts
    }

    /// The interpreter, held by the caller for a run (the server stays free to lend).
    pub fn engine(&self) -> Rc<Engine> {
        Rc::clone(&self.engine)
    }

    pub fn get(&self, sha: &Sha) -> Option<&Script> {
        self.cache.get(sha)
    }

    /// The script `body` compiled and cached (or found cached): its SHA and flags, or the
    /// error Redis answers (a bad shebang, a compile error).
    pub fn create(&mut self, body: &[u8]) -> Result<(Sha, u32), String> {
        let sha = sha1_hex(body);
        if let Some(s) = self.cache.get(&sha) {
            return Ok((sha, s.flags));
        }
        let (flags, code_start) = shebang::parse(body)?;
        let chunk = self.engine.compile(&body[code_start..]);
        self.note_vm_memory();
        let chunk = chunk?;
        self.cache_bytes += sha.len() + body.len();
        self.cache.insert(
            sha,
            Script {
                flags,
                chunk,
                body_len: body.len(),
            },
        );
        Ok((sha, flags))
    }

    /// The compiled chunk of the cached script `sha` (None when not cached, or when the
    /// interpreter could not give it, out of memory). The last one asked for is kept at
    /// hand: a script run again and again (the common case) skips the registry lookup.
    /// One only: a handle per cached script would hold a slot of mlua's reference stack
    /// each, which has room for a few thousand.
    pub fn chunk(&self, sha: &Sha) -> Option<mlua::Function> {
        if let Some((hot_sha, _, f)) = &*self.hot.borrow() {
            if hot_sha == sha {
                return Some(f.clone());
            }
        }
        let script = self.cache.get(sha)?;
        let f = self.engine.function(&script.chunk).ok()?;
        *self.hot.borrow_mut() = Some((*sha, script.flags, f.clone()));
        Some(f)
    }

    /// The flags of the cached script `sha` (the one run last without a lookup).
    pub fn flags(&self, sha: &Sha) -> Option<u32> {
        if let Some((hot_sha, flags, _)) = &*self.hot.borrow() {
            if hot_sha == sha {
                return Some(*flags);
            }
        }
        self.cache.get(sha).map(|s| s.flags)
    }

    /// SCRIPT FLUSH: a new interpreter and an empty cache (`math.random`'s generator goes
    /// on). Never called while a script runs: SCRIPT is not allowed in scripts.
    pub fn flush(&mut self) {
        debug_assert!(!self.run.active, "SCRIPT FLUSH while a script runs");
        self.cache.clear();
        self.hot.replace(None);
        self.cache_bytes = 0;
        self.engine = Rc::new(Engine::new(Rc::clone(&self.rand)));
        self.runs_since_gc = 0;
        self.note_vm_memory();
    }

    /// Counts a finished run; every `GC_PERIOD_RUNS` a collection step runs.
    pub fn ran(&mut self) {
        self.runs_since_gc += 1;
        if self.runs_since_gc >= GC_PERIOD_RUNS {
            self.runs_since_gc = 0;
            self.engine.gc_step();
        }
        self.note_vm_memory();
    }

    /// INFO's `number_of_cached_scripts`.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// INFO's `used_memory_vm_eval` (and `used_memory_lua`): the interpreter's memory.
    pub fn vm_memory(&self) -> usize {
        self.engine.used_memory()
    }

    /// The interpreters' memory in bytes (what `used_memory` leaves out), as of the end of
    /// the last run: it changes only while scripts run or compile and libraries load.
    pub fn vm_memory_exact(&self) -> usize {
        self.vm_bytes
    }

    /// Re-reads the interpreters' memory, EVAL's and the functions' (after a run, a compile,
    /// a flush, a library change).
    pub(crate) fn note_vm_memory(&mut self) {
        self.vm_bytes = self.engine.lua().used_memory() + self.functions.vm_memory_exact();
    }

    /// INFO's `used_memory_scripts_eval`: the cache's bodies, keys and entries.
    pub fn cache_memory(&self) -> usize {
        let entry = std::mem::size_of::<(Sha, Script)>();
        self.cache_bytes + self.cache.len() * entry + self.cache.capacity() * 8
    }

    /// Checks the cache's byte count against its entries.
    pub fn check_invariants(&self) {
        let sum: usize = self.cache.values().map(|s| 40 + s.body_len).sum();
        assert_eq!(sum, self.cache_bytes, "script cache byte count");
        self.functions.check_invariants();
    }
}
