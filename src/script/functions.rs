//! Redis 7.0 functions: the libraries FUNCTION LOAD creates, the Lua state they live in, and
//! the function payload codec's users (FUNCTION DUMP / RESTORE, RDB, AOF).
//!
//! One Lua state holds every library (Redis's function engine "LUA"), apart from EVAL's. It
//! is an EVAL sandbox ([`Engine`]) with `function_sandbox.lua` over it: library code and the
//! functions it registers see one read-only globals table that reads the load API while a
//! library's code runs and the sandbox's globals while a function runs (see that file).
//! FUNCTION FLUSH replaces the state.
//!
//! A library is its code (the `#!lua name=<lib>` line included, as Redis keeps and persists
//! it), its name and its functions. [`Libs`] is a set of libraries with the index of function
//! names across them; creating a library follows Redis's `functionsCreateWithLibraryCtx`
//! step for step, so every error comes in Redis's order with Redis's text. RESTORE builds a
//! separate `Libs` in the same state and joins it (Redis's `libraryJoin`).
//!
//! Invariants ([`Functions::check_invariants`]): every function of every library is in the
//! index under its lower-cased name, pointing at its library, and the index holds nothing
//! else; no library is empty.
//!
//! Order: libraries and functions are kept sorted by name. Redis iterates hash tables whose
//! seed is random, so its FUNCTION LIST and DUMP orders change from run to run anyway.

use super::engine::Engine;
use super::rand48::Rand48;
use super::shebang;
use mlua::{Function, Lua, Table, Value};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Redis's text for a bad library (and function) name.
const ERR_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// One registered function.
pub struct Func {
    pub name: Vec<u8>,
    pub description: Option<Vec<u8>>,
    /// `shebang::*` flags (never `COMPAT`).
    pub flags: u32,
    callback: Function,
}

/// One library.
pub struct Library {
    pub name: Vec<u8>,
    /// The whole code FUNCTION LOAD got, shebang line included.
    pub code: Vec<u8>,
    /// By name (case-sensitive within a library, as Redis's).
    pub functions: BTreeMap<Vec<u8>, Func>,
}

/// A set of libraries and the index of their functions.
#[derive(Default)]
pub struct Libs {
    libraries: BTreeMap<Vec<u8>, Library>,
    /// Lower-cased function name → its library's name (FCALL finds functions regardless of
    /// case, as Redis's function dictionary does).
    index: HashMap<Vec<u8>, Vec<u8>>,
}

impl Libs {
    fn link(&mut self, lib: Library) {
        for name in lib.functions.keys() {
            self.index
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| lib.name.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &[u8]) -> Option<Library> {
        let lib = self.libraries.remove(name)?;
        for f in lib.functions.keys() {
            let key = f.to_ascii_lowercase();
            if self.index.get(&key).is_some_and(|l| *l == lib.name) {
                self.index.remove(&key);
            }
        }
        Some(lib)
    }

    fn has_function(&self, name: &[u8]) -> bool {
        self.index.contains_key(&name.to_ascii_lowercase())
    }

    /// Moves every library of `src` in (Redis's `libraryJoin`): on a library name collision
    /// the old one is replaced when `replace`, else nothing changes; a function name that
    /// another library has also leaves everything unchanged.
    fn join(&mut self, src: Libs, replace: bool) -> Result<(), String> {
        let mut replaced = Vec::new();
        for name in src.libraries.keys() {
            if self.libraries.contains_key(name) {
                if !replace {
                    self.relink(replaced);
                    return Err(format!(
                        "Library {} already exists",
                        String::from_utf8_lossy(name)
                    ));
                }
                replaced.extend(self.unlink(name));
            }
        }
        for lib in src.libraries.values() {
            for f in lib.functions.keys() {
                if self.has_function(f) {
                    self.relink(replaced);
                    return Err(format!(
                        "Function {} already exists",
                        String::from_utf8_lossy(f)
                    ));
                }
            }
        }
        for (_, lib) in src.libraries {
            self.link(lib);
        }
        Ok(())
    }

    fn relink(&mut self, libs: Vec<Library>) {
        for lib in libs {
            self.link(lib);
        }
    }

    pub fn len(&self) -> usize {
        self.libraries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.libraries.is_empty()
    }
}

/// The function Lua state: the sandbox, the globals of library code, the loader and the
/// runner of function_sandbox.lua.
struct LuaEngine {
    engine: Rc<Engine>,
    globals: Table,
    loader: Function,
    runner: Function,
}

impl LuaEngine {
    fn new(rand: Rc<Cell<Rand48>>) -> LuaEngine {
        LuaEngine::build(rand).expect("the function sandbox is built from fixed code")
    }

    fn build(rand: Rc<Cell<Rand48>>) -> mlua::Result<LuaEngine> {
        let engine = Rc::new(Engine::new(rand));
        let lua = engine.lua();
        let pg = lua.globals();
        let handler: Function = pg.get("__redis__err__handler")?;
        let xpcall: Function = lua.named_registry_value(super::engine::RAW_XPCALL)?;
        let err = lua.create_function(|lua, s: mlua::LuaString| {
            super::convert::error_table(lua, &s.as_bytes())
        })?;
        let bits = lua.create_table()?;
        for (name, bit) in shebang::NAMES {
            bits.raw_set(lua.create_string(name)?, bit)?;
        }
        let (globals, loader, runner): (Table, Function, Function) = lua
            .load(include_str!("function_sandbox.lua"))
            .set_name("@sandbox")
            .call((pg, handler, err, bits, xpcall))?;
        Ok(LuaEngine {
            engine,
            globals,
            loader,
            runner,
        })
    }

    fn lua(&self) -> &Lua {
        self.engine.lua()
    }

    /// Compiles and runs a library's code (after its shebang line): its functions, or
    /// Redis's error.
    fn load(&self, code: &[u8]) -> Result<Vec<Func>, String> {
        let chunk = self
            .lua()
            .load(code)
            .set_name("@user_function")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(self.globals.clone())
            .into_function()
            .map_err(|e| format!("Error compiling function: {}", lua_message(&e)))?;
        let (ok, v): (bool, Value) = self
            .engine
            .with_load_timeout(|| self.loader.call(chunk))
            .map_err(|e| format!("Error registering functions: ERR {}", lua_message(&e)))?;
        if !ok {
            let text = match v {
                Value::String(s) => s.to_string_lossy(),
                _ => "ERR unknown error".into(),
            };
            return Err(format!("Error registering functions: {text}"));
        }
        let Value::Table(list) = v else {
            return Err("Error registering functions: ERR unknown error".into());
        };
        let mut funcs = Vec::new();
        for entry in list.sequence_values::<Table>() {
            let read = |entry: Table| -> mlua::Result<Func> {
                let name: mlua::LuaString = entry.get("name")?;
                let description: Option<mlua::LuaString> = entry.get("description")?;
                Ok(Func {
                    name: name.as_bytes().to_vec(),
                    description: description.map(|d| d.as_bytes().to_vec()),
                    flags: entry.get("flags")?,
                    callback: entry.get("callback")?,
                })
            };
            funcs.push(
                entry
                    .and_then(read)
                    .map_err(|e| format!("Error registering functions: ERR {e}"))?,
            );
        }
        Ok(funcs)
    }
}

/// A Lua error's message as Lua wrote it.
fn lua_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) | mlua::Error::MemoryError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// A library's shebang line: engine, name, and where the code after it starts (at its line
/// feed, so that line numbers are the user's).
struct Meta {
    engine: Vec<u8>,
    name: Vec<u8>,
    code_start: usize,
}

/// Redis's `functionExtractLibMetaData`.
fn parse_meta(code: &[u8]) -> Result<Meta, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    // Redis reads the code as a C string up to its line feed.
    let text = code.split(|&b| b == 0).next().unwrap_or_default();
    let Some(end) = text.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let mut line = text[..end].to_vec();
    let mut spans = Vec::new();
    let n = line.len();
    if !crate::resp::parse::split_inline(&mut line, 0, n, &mut spans) || spans.is_empty() {
        return Err("Invalid library metadata".into());
    }
    let word = |i: usize| &line[spans[i].start..spans[i].end];
    let engine = word(0).get(2..).unwrap_or_default().to_vec();
    let mut name = None;
    for i in 1..spans.len() {
        let part = word(i);
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(crate::cmd::args::c_str_max(part, usize::MAX))
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok(Meta {
        engine,
        name,
        code_start: end,
    })
}

/// Redis's `functionsVerifyName`: `[a-zA-Z0-9_]+`.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// What FUNCTION STATS shows of the function running now.
#[derive(Clone, Debug)]
pub struct RunningFunction {
    pub name: Vec<u8>,
    /// The FCALL command line.
    pub argv: Vec<Vec<u8>>,
    pub started: std::time::Instant,
}

/// The server's functions: the Lua state and the libraries.
pub struct Functions {
    lua: LuaEngine,
    libs: Libs,
    rand: Rc<Cell<Rand48>>,
    runs_since_gc: u32,
    /// The function running now (FCALL), for FUNCTION STATS.
    pub running: Option<RunningFunction>,
}

/// Redis runs a collection step every this many scripts.
const GC_PERIOD_RUNS: u32 = 50;

impl Functions {
    pub fn new(rand: Rc<Cell<Rand48>>) -> Functions {
        Functions {
            lua: LuaEngine::new(Rc::clone(&rand)),
            libs: Libs::default(),
            rand,
            runs_since_gc: 0,
            running: None,
        }
    }

    /// Creates the library in `code` into `libs` (Redis's `functionsCreateWithLibraryCtx`):
    /// its name, or Redis's error text (without the `ERR ` code).
    fn create(&self, libs: &mut Libs, code: &[u8], replace: bool) -> Result<Vec<u8>, String> {
        let meta = parse_meta(code)?;
        if !valid_name(&meta.name) {
            return Err(ERR_NAME.into());
        }
        if !meta.engine.eq_ignore_ascii_case(b"lua") {
            return Err(format!(
                "Engine '{}' not found",
                String::from_utf8_lossy(&meta.engine)
            ));
        }
        if libs.libraries.contains_key(&meta.name) && !replace {
            return Err(format!(
                "Library '{}' already exists",
                String::from_utf8_lossy(&meta.name)
            ));
        }
        let old = libs.unlink(&meta.name);
        let result = self.lua.load(&code[meta.code_start..]).and_then(|funcs| {
            if funcs.is_empty() {
                return Err("No functions registered".to_string());
            }
            if let Some(f) = funcs.iter().find(|f| libs.has_function(&f.name)) {
                return Err(format!(
                    "Function {} already exists",
                    String::from_utf8_lossy(&f.name)
                ));
            }
            Ok(funcs)
        });
        match result {
            Ok(funcs) => {
                libs.link(Library {
                    name: meta.name.clone(),
                    code: code.to_vec(),
                    functions: funcs.into_iter().map(|f| (f.name.clone(), f)).collect(),
                });
                Ok(meta.name)
            }
            Err(e) => {
                if let Some(old) = old {
                    libs.link(old);
                }
                Err(e)
            }
        }
    }

    /// FUNCTION LOAD: the library's name, or Redis's error text.
    pub fn load(&mut self, code: &[u8], replace: bool) -> Result<Vec<u8>, String> {
        let mut libs = std::mem::take(&mut self.libs);
        let r = self.create(&mut libs, code, replace);
        self.libs = libs;
        r
    }

    /// FUNCTION DELETE: false when there is no such library.
    pub fn delete(&mut self, name: &[u8]) -> bool {
        self.libs.unlink(name).is_some()
    }

    /// FUNCTION FLUSH: no libraries, a new Lua state.
    pub fn flush(&mut self) {
        debug_assert!(
            self.running.is_none(),
            "FUNCTION FLUSH while a function runs"
        );
        self.libs = Libs::default();
        self.lua = LuaEngine::new(Rc::clone(&self.rand));
        self.runs_since_gc = 0;
    }

    /// Creates the libraries of `codes` (from a payload, an RDB file or an AOF base) into a
    /// separate set, each as FUNCTION LOAD without REPLACE (`replace_dups`: with REPLACE):
    /// the set, or the first error with the index of the code that caused it.
    pub fn create_all<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a [u8]>,
        replace_dups: bool,
    ) -> Result<Libs, (usize, String)> {
        let mut libs = Libs::default();
        for (i, code) in codes.into_iter().enumerate() {
            self.create(&mut libs, code, replace_dups)
                .map_err(|e| (i, e))?;
        }
        Ok(libs)
    }

    /// Puts `libs` in place of every library (RESTORE FLUSH, loading a snapshot).
    pub fn replace_all(&mut self, libs: Libs) {
        self.libs = libs;
    }

    /// Adds `libs` (RESTORE APPEND / REPLACE): Redis's error when names collide.
    pub fn join(&mut self, libs: Libs, replace: bool) -> Result<(), String> {
        self.libs.join(libs, replace)
    }

    /// The function FCALL names (any case).
    pub fn find(&self, name: &[u8]) -> Option<&Func> {
        let lib = self.libs.index.get(&name.to_ascii_lowercase())?;
        let lib = self.libs.libraries.get(lib)?;
        lib.functions
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| f)
    }

    /// The Lua state, the runner and the callback of `f`, for one FCALL.
    pub fn prepare(&self, f: &Func) -> (Rc<Engine>, Function, Function) {
        (
            Rc::clone(&self.lua.engine),
            self.lua.runner.clone(),
            f.callback.clone(),
        )
    }

    /// Counts a finished run; every `GC_PERIOD_RUNS` a collection step runs.
    pub fn ran(&mut self) {
        self.runs_since_gc += 1;
        if self.runs_since_gc >= GC_PERIOD_RUNS {
            self.runs_since_gc = 0;
            self.lua.engine.gc_step();
        }
    }

    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libs.libraries.values()
    }

    /// Every library's code, in order (what RDB files, DUMP payloads and AOF bases hold).
    pub fn codes(&self) -> impl Iterator<Item = &[u8]> {
        self.libs.libraries.values().map(|l| l.code.as_slice())
    }

    /// INFO's `number_of_functions`.
    pub fn function_count(&self) -> usize {
        self.libs.index.len()
    }

    pub fn library_count(&self) -> usize {
        self.libs.libraries.len()
    }

    /// FUNCTION STATS's functions_count: the functions of every library.
    pub fn functions_in_libraries(&self) -> usize {
        self.libs
            .libraries
            .values()
            .map(|l| l.functions.len())
            .sum()
    }

    /// INFO's `used_memory_vm_functions`: the Lua state's memory.
    pub fn vm_memory(&self) -> usize {
        self.lua.engine.used_memory()
    }

    /// The Lua state's memory in bytes, exactly (`Scripts::note_vm_memory`).
    pub fn vm_memory_exact(&self) -> usize {
        self.lua.engine.lua().used_memory()
    }

    /// INFO's `used_memory_functions`: the libraries' and functions' own memory (names,
    /// codes, descriptions, entries) and the index.
    pub fn overhead_memory(&self) -> usize {
        let mut n = std::mem::size_of::<Functions>();
        for lib in self.libs.libraries.values() {
            n += std::mem::size_of::<Library>() + 2 * lib.name.len() + lib.code.len();
            for f in lib.functions.values() {
                n += std::mem::size_of::<Func>()
                    + 2 * f.name.len()
                    + f.description.as_ref().map_or(0, Vec::len);
            }
        }
        n + self.libs.index.capacity() * (2 * std::mem::size_of::<Vec<u8>>() + 8)
    }

    /// Checks the index against the libraries.
    pub fn check_invariants(&self) {
        let mut count = 0;
        for lib in self.libs.libraries.values() {
            assert!(!lib.functions.is_empty(), "an empty library");
            for f in lib.functions.keys() {
                if self.libs.index.get(&f.to_ascii_lowercase()) == Some(&lib.name) {
                    count += 1;
                }
            }
        }
        assert_eq!(count, self.libs.index.len(), "function index");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn functions() -> Functions {
        Functions::new(Rc::default())
    }

    /// Each case was checked against redis-server 7.0.15 (FUNCTION LOAD's reply).
    #[test]
    fn load_errors_as_redis_words_them() {
        let mut f = functions();
        let ok = "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)";
        assert_eq!(f.load(ok.as_bytes(), false), Ok(b"lib1".to_vec()));
        let err = |f: &mut Functions, code: &str| f.load(code.as_bytes(), false).unwrap_err();
        assert_eq!(err(&mut f, ok), "Library 'lib1' already exists");
        assert_eq!(
            err(
                &mut f,
                "#!lua name=lib2\nredis.register_function('f1', function() end)"
            ),
            "Function f1 already exists"
        );
        assert_eq!(
            err(&mut f, "#!lua name=l\nredis.call('ping')"),
            "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"
        );
        assert_eq!(
            err(&mut f, "#!lua name=l\na = 1"),
            "Error registering functions: ERR user_function:2: Attempt to modify a readonly table"
        );
        assert_eq!(
            err(&mut f, "#!lua name=l\nreturn 1"),
            "No functions registered"
        );
        assert_eq!(
            err(&mut f, "#!lua name=l x=y\n"),
            "Invalid metadata value given: x=y"
        );
        assert_eq!(err(&mut f, "#!lua\n"), "Library name was not given");
        assert_eq!(err(&mut f, "#!lua name=a-b\n"), ERR_NAME);
        assert_eq!(err(&mut f, "#!luax name=ab\n"), "Engine 'luax' not found");
        assert_eq!(err(&mut f, "#!lua name=ab"), "Invalid library metadata");
        assert_eq!(err(&mut f, "lua name=ab"), "Missing library metadata");
        assert_eq!(
            err(
                &mut f,
                "#!lua name=ab\nredis.register_function('a', function() end)\nredis.register_function('a', function() end)"
            ),
            "Error registering functions: ERR Function already exists in the library"
        );
        assert_eq!(
            err(
                &mut f,
                "#!lua name=ab\nredis.register_function{function_name='a', callback=function() end, flags={'bogus'}}"
            ),
            "Error registering functions: ERR unknown flag given"
        );
        assert_eq!(
            err(&mut f, "#!lua name=ab\nredis.register_function('x'"),
            "Error compiling function: user_function:2: ')' expected near '<eof>'"
        );
        f.check_invariants();
        assert_eq!(f.library_count(), 1);
        let named = "#!LUA name=lib3\nredis.register_function{function_name='G', callback=function() end, flags={'No-Writes', 'allow-oom'}, description='d'}";
        f.load(named.as_bytes(), false).unwrap();
        let g = f.find(b"g").expect("found regardless of case");
        assert_eq!(g.flags, shebang::NO_WRITES | shebang::ALLOW_OOM);
        assert_eq!(g.description.as_deref(), Some(&b"d"[..]));
        f.check_invariants();
        assert!(f.delete(b"lib3"));
        assert!(f.find(b"g").is_none());
        f.check_invariants();
    }
}
