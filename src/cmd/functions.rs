//! Function commands (Redis 7.0's functions.c): FUNCTION LOAD / DELETE / LIST / DUMP /
//! RESTORE / FLUSH / STATS / HELP, FCALL and FCALL_RO.
//!
//! The libraries and their Lua state are `script::functions`. FCALL runs a function as EVAL
//! runs a script (`cmd::scripting::run_prepared`: the same checks before the run, the same
//! journal unit, the same bridge from `redis.call` to `cmd::call`), with the function's
//! registered flags where a script has its shebang's; errors name the function where EVAL's
//! name the SHA.
//!
//! FUNCTION LOAD, DELETE, FLUSH and RESTORE change persisted state: they move the dirty
//! counter and, stating no effect of their own, are journaled as they were called, so the
//! AOF replays them; the RDB and AOF bases hold the libraries (`persist`).
//!
//! FUNCTION KILL is not here: it belongs with SCRIPT KILL and the busy state.

use super::call::ReplyError;
use super::scripting::{refuse_before_run, refuse_declared, run_prepared, Invocation};
use super::Ctx;
use crate::resp::Argv;
use crate::script::functions::RunningFunction;
use crate::script::shebang;

pub fn cmd_fcall(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    fcall(ctx, argv, false);
}

pub fn cmd_fcall_ro(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    fcall(ctx, argv, true);
}

/// Redis's `fcallCommandGeneric`.
fn fcall(ctx: &mut Ctx<'_>, argv: &Argv<'_>, ro: bool) {
    let cmd_start = ctx.reply.buf.len();
    if let Some(e) = refuse_declared(ctx.srv, argv) {
        ctx.srv.reply_error = ReplyError::Rejected;
        return ctx.err(&e);
    }
    let Some(func) = ctx.srv.scripts.functions.find(argv.get(1)) else {
        return ctx.err("ERR Function not found");
    };
    let flags = func.flags;
    let name = func.name.clone();
    let (engine, runner, callback) = ctx.srv.scripts.functions.prepare(func);
    let Some(numkeys) = crate::util::num::parse_i64_strict(argv.get(2)) else {
        return ctx.err("ERR Bad number of keys provided");
    };
    if numkeys > argv.len() as i64 - 3 {
        return ctx.err(super::error::ERR_NUMKEYS_ARGS);
    }
    if numkeys < 0 {
        return ctx.err("ERR Number of keys can't be negative");
    }
    if let Some(e) = refuse_before_run(ctx.srv, flags & !shebang::COMPAT, ro) {
        return ctx.err(&e);
    }
    ctx.srv.scripts.functions.running = Some(RunningFunction {
        name: name.clone(),
        argv: argv.iter().map(<[u8]>::to_vec).collect(),
        started: std::time::Instant::now(),
    });
    let inv = Invocation {
        engine,
        runner: Some(runner),
        chunk: Some(callback),
        name: &name,
        script_flags: flags & !shebang::COMPAT,
        ro,
        numkeys: numkeys as usize,
        cmd_start,
    };
    run_prepared(ctx, argv, inv);
    ctx.srv.scripts.functions.running = None;
}

/// Redis's reply to a subcommand with the wrong number of arguments it checks itself.
fn subcommand_syntax_error(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let sub = String::from_utf8_lossy(argv.get(1)).into_owned();
    ctx.err(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try FUNCTION HELP."
    ));
}

// FUNCTION LOAD, DELETE, FLUSH and RESTORE change the Lua state: its size is read again.
pub fn cmd_function_load(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    function_load(ctx, argv);
    ctx.srv.scripts.note_vm_memory();
}

pub fn cmd_function_delete(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    function_delete(ctx, argv);
    ctx.srv.scripts.note_vm_memory();
}

pub fn cmd_function_flush(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    function_flush(ctx, argv);
    ctx.srv.scripts.note_vm_memory();
}

pub fn cmd_function_restore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    function_restore(ctx, argv);
    ctx.srv.scripts.note_vm_memory();
}

/// FUNCTION LOAD [REPLACE] <code>
fn function_load(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut replace = false;
    let mut at = 2;
    while at < argv.len() - 1 {
        let arg = argv.get(at);
        at += 1;
        if arg.eq_ignore_ascii_case(b"replace") {
            replace = true;
            continue;
        }
        return ctx.err(&format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(super::args::c_str_max(arg, usize::MAX))
        ));
    }
    match ctx.srv.scripts.functions.load(argv.get(at), replace) {
        Ok(name) => {
            ctx.dirty(1);
            ctx.reply.bulk(&name);
        }
        Err(e) => ctx.err(&format!("ERR {e}")),
    }
}

/// FUNCTION DELETE <library>
fn function_delete(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if !ctx.srv.scripts.functions.delete(argv.get(2)) {
        return ctx.err("ERR Library not found");
    }
    ctx.dirty(1);
    ctx.reply.ok();
}

/// FUNCTION FLUSH [ASYNC|SYNC]: both drop the Lua state at once (nothing in it is worth
/// freeing in the background).
fn function_flush(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() > 3 {
        return subcommand_syntax_error(ctx, argv);
    }
    if argv.len() == 3 {
        let mode = argv.get(2);
        if !mode.eq_ignore_ascii_case(b"sync") && !mode.eq_ignore_ascii_case(b"async") {
            return ctx.err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        }
    }
    ctx.srv.scripts.functions.flush();
    ctx.dirty(1);
    ctx.reply.ok();
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
pub fn cmd_function_list(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let arg = argv.get(i);
        if !with_code && arg.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && arg.eq_ignore_ascii_case(b"libraryname") {
            if i >= argv.len() - 1 {
                return ctx.err("ERR library name argument was not given");
            }
            i += 1;
            pattern = Some(argv.get(i));
        } else {
            return ctx.err(&format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(super::args::c_str_max(arg, usize::MAX))
            ));
        }
        i += 1;
    }
    let functions = &ctx.srv.scripts.functions;
    let libs: Vec<_> = functions
        .libraries()
        .filter(|l| pattern.is_none_or(|p| crate::util::glob::glob_match(p, &l.name, true)))
        .collect();
    let r = &mut ctx.reply;
    r.array(libs.len());
    for lib in libs {
        r.map(if with_code { 4 } else { 3 });
        r.bulk(b"library_name");
        r.bulk(&lib.name);
        r.bulk(b"engine");
        r.bulk(b"LUA");
        r.bulk(b"functions");
        r.array(lib.functions.len());
        for f in lib.functions.values() {
            r.map(3);
            r.bulk(b"name");
            r.bulk(&f.name);
            r.bulk(b"description");
            match &f.description {
                Some(d) => r.bulk(d),
                None => r.null(),
            }
            r.bulk(b"flags");
            let names: Vec<&[u8]> = shebang::NAMES
                .iter()
                .filter(|(_, bit)| f.flags & bit != 0)
                .map(|(n, _)| *n)
                .collect();
            r.set(names.len());
            for n in names {
                r.simple(&String::from_utf8_lossy(n));
            }
        }
        if with_code {
            r.bulk(b"library_code");
            r.bulk(&lib.code);
        }
    }
}

/// FUNCTION DUMP
pub fn cmd_function_dump(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let payload = crate::persist::rdb::function_payload(
        ctx.srv.scripts.functions.codes(),
        ctx.srv.config.rdbcompression,
    );
    ctx.reply.bulk(&payload);
}

/// FUNCTION RESTORE <payload> [FLUSH|APPEND|REPLACE]
fn function_restore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    #[derive(PartialEq)]
    enum Policy {
        Flush,
        Append,
        Replace,
    }
    if argv.len() > 4 {
        return subcommand_syntax_error(ctx, argv);
    }
    let policy = if argv.len() == 4 {
        let p = argv.get(3);
        if p.eq_ignore_ascii_case(b"append") {
            Policy::Append
        } else if p.eq_ignore_ascii_case(b"replace") {
            Policy::Replace
        } else if p.eq_ignore_ascii_case(b"flush") {
            Policy::Flush
        } else {
            return ctx.err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            );
        }
    } else {
        Policy::Append
    };
    let codes = match crate::persist::rdb::parse_function_payload(argv.get(2), true) {
        Ok(c) => c,
        Err(e) => return ctx.err(&format!("ERR {e}")),
    };
    let functions = &mut ctx.srv.scripts.functions;
    let libs = match functions.create_all(codes.iter().map(Vec::as_slice), false) {
        Ok(l) => l,
        Err((_, e)) => return ctx.err(&format!("ERR {e}")),
    };
    if policy == Policy::Flush {
        functions.replace_all(libs);
    } else if let Err(e) = functions.join(libs, policy == Policy::Replace) {
        return ctx.err(&format!("ERR {e}"));
    }
    ctx.dirty(1);
    ctx.reply.ok();
}

/// FUNCTION STATS: the function running now (nil when none; refused while an EVAL script
/// runs, as Redis does) and the libraries and functions of the one engine.
pub fn cmd_function_kill(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    super::scripting::kill(ctx, false);
}

pub fn cmd_function_stats(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let scripts = &ctx.srv.scripts;
    if scripts.run.active && scripts.functions.running.is_none() {
        return ctx.err(
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        );
    }
    let running = scripts.functions.running.clone();
    let libraries = scripts.functions.library_count();
    let functions = scripts.functions.functions_in_libraries();
    let r = &mut ctx.reply;
    r.map(2);
    r.bulk(b"running_script");
    match running {
        None => r.null(),
        Some(run) => {
            r.map(3);
            r.bulk(b"name");
            r.bulk(&run.name);
            r.bulk(b"command");
            r.array(run.argv.len());
            for a in &run.argv {
                r.bulk(a);
            }
            r.bulk(b"duration_ms");
            r.int(run.started.elapsed().as_millis() as i64);
        }
    }
    r.bulk(b"engines");
    r.map(1);
    r.bulk(b"LUA");
    r.map(2);
    r.bulk(b"libraries_count");
    r.int(libraries as i64);
    r.bulk(b"functions_count");
    r.int(functions as i64);
}

pub fn cmd_function_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    const LINES: &[&str] = &[
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ];
    ctx.help(LINES);
}
