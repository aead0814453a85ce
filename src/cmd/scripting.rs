//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH /
//! HELP (Redis 7.0's eval.c and script.c), and the bridge that runs a script's
//! `redis.call` through `cmd::call`.
//!
//! A run, in order: numkeys, the script (cached by SHA1; EVAL compiles and caches a new one,
//! EVALSHA answers NOSCRIPT), the checks a script with a shebang gets up front (over
//! maxmemory without `allow-oom`, AOF write errors or EVAL_RO when it may write), then the
//! script itself with KEYS and ARGV, and its result or error as the reply. The script runs
//! inside the EVAL's journal unit, so its commands' effects are published together (wrapped
//! in MULTI/EXEC when there are several) once the EVAL ends, and blocked clients are served
//! only then; EVAL itself is never journaled (Redis 7.0 replicates effects, not scripts).
//!
//! The script's commands run on the caller's connection, with its database switched to the
//! script's for the run (SELECT inside a script changes only the script's database) and
//! their reply written in the protocol the script chose. They write into the caller's own
//! reply buffer, after anything already there; the bridge converts the reply to Lua and
//! removes it, leaving in place what the command sent the caller out of band (a RESP3
//! caller's own Pub/Sub messages and keyspace events), which thus reaches the client before
//! the EVAL's reply, as in Redis.
//!
//! Stats as Redis 7.0 keeps them: the script's commands count in commandstats (a refused
//! one as `rejected_calls`), EVAL counts once; an error of a script's command counts where
//! it arose, and the EVAL's reply repeating it (pcall's error returned, call's error raised)
//! only as EVAL's `failed_calls`.
//!
//! A script that runs past busy-reply-threshold is timed out (Redis's script timeout):
//! its instruction hook (`interrupt`) runs loop turns from inside it, in which other
//! clients get -BUSY except for the `allow_busy` commands, SCRIPT KILL stops a script that
//! has not written, and SHUTDOWN NOSAVE exits (`event_loop::busy_turn`); FUNCTION KILL stops a busy function the same way.
//!
//! FCALL (`cmd::functions`) runs its function through the same `run_prepared`.
//!
//! Not here: SCRIPT DEBUG (no Lua debugger).

use super::call::{self, ReplyError, Source};
use super::{flags, Command, Ctx};
use crate::resp::{Argv, Span};
use crate::script::convert::{self, error_table, Errors};
use crate::script::engine::Running;
use crate::script::{sha_key, shebang, Run, Sha};
use crate::server::Server;
use mlua::{Lua, MultiValue, Value};

const ERR_NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

pub fn cmd_eval(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    eval(ctx, argv, false, false);
}

pub fn cmd_evalsha(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    eval(ctx, argv, true, false);
}

pub fn cmd_eval_ro(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    eval(ctx, argv, false, true);
}

pub fn cmd_evalsha_ro(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    eval(ctx, argv, true, true);
}

/// The flags an EVAL-family command line counts as for the checks before it runs (Redis's
/// `evalGetCommandFlags`): a script with a shebang declares whether it writes, may run over
/// maxmemory or on a stale replica; a legacy script (or one not known yet by SHA) counts as
/// the command's own flags.
pub(crate) fn declared_flags(srv: &Server, c: &Command, argv: &Argv<'_>) -> u32 {
    if argv.len() < 2 {
        return c.flags;
    }
    if c.name.starts_with("fcall") {
        // Redis's `fcallGetCommandFlags`: what the function declares, if it exists.
        return match srv.scripts.functions.find(argv.get(1)) {
            Some(f) => script_flags_to_cmd_flags(c.flags, f.flags),
            None => c.flags,
        };
    }
    let by_sha = c.name.starts_with("evalsha");
    let arg = argv.get(1);
    let script_flags = if by_sha {
        match sha_key(arg).and_then(|sha| srv.scripts.get(&sha)) {
            Some(s) => s.flags,
            None => return c.flags,
        }
    } else {
        match srv.scripts.get(&crate::script::sha1_hex(arg)) {
            Some(s) => s.flags,
            None => match shebang::parse(arg) {
                Ok((f, _)) => f,
                Err(_) => return c.flags,
            },
        }
    };
    script_flags_to_cmd_flags(c.flags, script_flags)
}

/// Redis's `scriptFlagsToCmdFlags`: the flags a command that runs a script with
/// `script_flags` counts as.
fn script_flags_to_cmd_flags(cmd_flags: u32, script_flags: u32) -> u32 {
    if script_flags & shebang::COMPAT != 0 {
        return cmd_flags;
    }
    let mut f = cmd_flags & !(flags::STALE | flags::DENYOOM | flags::WRITE);
    // `no-writes` implies `allow-oom`.
    if script_flags & (shebang::ALLOW_OOM | shebang::NO_WRITES) == 0 {
        f |= flags::DENYOOM;
    }
    if script_flags & shebang::NO_WRITES == 0 {
        f |= flags::WRITE;
    }
    if script_flags & shebang::ALLOW_STALE != 0 {
        f |= flags::STALE;
    }
    f & !flags::MAY_REPLICATE
}

/// The checks Redis's `scriptPrepareForRun` makes of a script with a shebang before it runs.
pub(crate) fn refuse_before_run(srv: &Server, script_flags: u32, ro: bool) -> Option<String> {
    // A replica whose link is down with replica-serve-stale-data no, unless the primary
    // itself runs the script.
    let replica = srv.replica.state != crate::repl::replica::LinkState::None
        && !crate::repl::replica::is_master_slot(srv, srv.current_slot);
    let running_stale = replica
        && srv.replica.state != crate::repl::replica::LinkState::Connected
        && !srv.config.replica.serve_stale_data;
    if script_flags & shebang::COMPAT != 0 {
        return running_stale.then(|| {
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
                .into()
        });
    }
    if running_stale && script_flags & shebang::ALLOW_STALE == 0 {
        return Some(
            "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set"
                .into(),
        );
    }
    // `no-writes` implies `allow-oom`.
    if script_flags & (shebang::ALLOW_OOM | shebang::NO_WRITES) == 0
        && srv.config.maxmemory_bytes > 0
        && srv.oom_at_command_start
        && !srv.loading
    {
        return Some(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
                .into(),
        );
    }
    if script_flags & shebang::NO_WRITES == 0 {
        if srv.rdb_write_denied() {
            return Some("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".into());
        }
        if let (Some(errno), Some(_)) = (srv.aof.write_errno, srv.aof.misconf_error()) {
            return Some(format!(
                "MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {}",
                nix::errno::Errno::from_raw(errno).desc()
            ));
        }
        if ro {
            return Some("ERR Can not execute a script with write flag using *_ro command.".into());
        }
        if !crate::repl::primary::enough_good_replicas(srv) {
            return Some("NOREPLICAS Not enough good replicas to write.".into());
        }
        if replica && srv.config.replica.read_only {
            return Some("READONLY Can not run script with write flag on readonly replica".into());
        }
    }
    None
}

/// The refusal Redis's `processCommand` makes of a client's EVAL for what its script
/// declares (a shebang script that may write is `denyoom` unless `allow-oom`, and a write),
/// which `cmd::call` leaves to this file to keep its own path short: over maxmemory, while
/// the AOF cannot be written, or without enough good replicas (`min-replicas-to-write`).
pub(crate) fn refuse_declared(srv: &Server, argv: &Argv<'_>) -> Option<String> {
    if srv.frame.in_exec() || srv.loading {
        // EXEC was checked against what its queued scripts declare.
        return None;
    }
    let oom = srv.config.maxmemory_bytes > 0 && srv.oom_at_command_start;
    let aof_failing = srv.disk_error();
    let few_replicas = srv.config.repl.min_replicas_to_write > 0
        && !crate::repl::primary::enough_good_replicas(srv);
    // A replica refuses what the script declares (READONLY, MASTERDOWN), unless its
    // primary sent it.
    let replica = srv.replica.state != crate::repl::replica::LinkState::None
        && !crate::repl::replica::is_master_slot(srv, srv.current_slot);
    if !oom && !aof_failing && !few_replicas && !replica {
        return None;
    }
    let c = srv.all_commands[srv.current_cmd];
    let declared = declared_flags(srv, c, argv);
    if oom && declared & flags::DENYOOM != 0 {
        return Some("OOM command not allowed when used memory > 'maxmemory'.".into());
    }
    if aof_failing && declared & flags::WRITE != 0 {
        if let Some(e) = srv.misconf_error() {
            return Some(e);
        }
    }
    if few_replicas && declared & flags::WRITE != 0 {
        return Some("NOREPLICAS Not enough good replicas to write.".into());
    }
    if replica {
        return crate::repl::replica::refusal(srv, declared).map(String::from);
    }
    None
}

fn eval(ctx: &mut Ctx<'_>, argv: &Argv<'_>, by_sha: bool, ro: bool) {
    // Where this command's reply starts (`cmd::call` reads its first byte).
    let cmd_start = ctx.reply.buf.len();
    if let Some(e) = refuse_declared(ctx.srv, argv) {
        ctx.srv.reply_error = ReplyError::Rejected;
        return ctx.err(&e);
    }
    let arg = argv.get(1);
    if by_sha && arg.len() != 40 {
        return ctx.err(ERR_NOSCRIPT);
    }
    let Some(numkeys) = crate::util::num::parse_i64_strict(argv.get(2)) else {
        return ctx.err(super::error::ERR_NOT_INT);
    };
    if numkeys > argv.len() as i64 - 3 {
        return ctx.err(super::error::ERR_NUMKEYS_ARGS);
    }
    if numkeys < 0 {
        return ctx.err("ERR Number of keys can't be negative");
    }
    let sha = if by_sha {
        match sha_key(arg) {
            Some(s) => s,
            None => return ctx.err(ERR_NOSCRIPT),
        }
    } else {
        crate::script::sha1_hex(arg)
    };
    let script_flags = match ctx.srv.scripts.flags(&sha) {
        Some(f) => f,
        None if by_sha => return ctx.err(ERR_NOSCRIPT),
        None => match ctx.srv.scripts.create(arg) {
            Ok((_, f)) => f,
            Err(e) => return ctx.err(&e),
        },
    };
    if let Some(e) = refuse_before_run(ctx.srv, script_flags, ro) {
        return ctx.err(&e);
    }
    run(
        ctx,
        argv,
        &sha,
        script_flags,
        ro,
        numkeys as usize,
        cmd_start,
    );
}

/// Runs the cached script `sha` and writes its reply.
fn run(
    ctx: &mut Ctx<'_>,
    argv: &Argv<'_>,
    sha: &Sha,
    script_flags: u32,
    ro: bool,
    numkeys: usize,
    cmd_start: usize,
) {
    let srv = &mut *ctx.srv;
    let engine = srv.scripts.engine();
    let chunk = srv.scripts.chunk(sha);
    let run = Invocation {
        engine,
        runner: None,
        chunk,
        name: sha,
        script_flags,
        ro,
        numkeys,
        cmd_start,
    };
    run_prepared(ctx, argv, run);
}

/// One script run to make: EVAL's cached chunk on the EVAL engine, or FCALL's function
/// (its callback) on the function engine with that engine's runner.
pub(crate) struct Invocation<'a> {
    pub engine: std::rc::Rc<crate::script::engine::Engine>,
    /// The runner (None: the engine's own, EVAL's).
    pub runner: Option<mlua::Function>,
    /// The code to run (None: it could not be found, an out-of-memory error).
    pub chunk: Option<mlua::Function>,
    /// The script's SHA or the function's name, as errors name it.
    pub name: &'a [u8],
    pub script_flags: u32,
    pub ro: bool,
    pub numkeys: usize,
    /// Where this command's reply starts.
    pub cmd_start: usize,
}

/// Runs a script or a function with the KEYS and ARGV of `argv` (after numkeys) inside the
/// command's journal unit, and writes its reply.
pub(crate) fn run_prepared(ctx: &mut Ctx<'_>, argv: &Argv<'_>, inv: Invocation<'_>) {
    let Invocation {
        engine,
        runner,
        chunk,
        name,
        script_flags,
        ro,
        numkeys,
        cmd_start,
    } = inv;
    // A function runs under its engine's own runner; EVAL's under the engine's.
    let eval_mode = runner.is_none();
    let srv = &mut *ctx.srv;
    // This EVAL's row in commandstats (its commands' calls move `current_cmd`).
    let eval_idx = srv.current_cmd;
    // EVAL's effects and modified keys are those its commands state, each in its own call.
    srv.frame.set_propagated();
    srv.frame.set_signalled();
    let Some(f) = chunk else {
        return ctx.err("ERR Error running script: out of memory");
    };
    let compat = script_flags & shebang::COMPAT != 0;
    let slot = ctx.slot;
    let caller_db = srv.conns[slot].db;
    // EVAL's own time in commandstats runs from here to its end, its commands included.
    let clock_at_start_ns = srv.cmd_clock_ns;
    srv.scripts.run = Run {
        active: true,
        slot,
        resp3: false,
        read_only: ro || (!compat && script_flags & shebang::NO_WRITES != 0),
        allow_oom: !compat && script_flags & shebang::ALLOW_OOM != 0,
        write_dirty: false,
        propagate_aof: true,
        tracked_caller: None,
        eval_mode,
        timed_out: false,
        killed: false,
    };
    if srv.conns[slot].tracking.is_some() {
        // The script's read-only commands make the caller remember the EVAL's keys.
        let (bytes, spans) = &mut srv.scripts.caller_argv;
        bytes.clear();
        spans.clear();
        for arg in argv.iter() {
            let start = bytes.len();
            bytes.extend_from_slice(arg);
            spans.push(Span {
                start,
                end: bytes.len(),
            });
        }
        srv.scripts.run.tracked_caller = Some(eval_idx);
    }
    let running = Running {
        srv: &mut *ctx.srv as *mut Server,
        out: &mut *ctx.reply.buf as *mut Vec<u8>,
    };
    // SAFETY: `ctx.srv` and `ctx.reply.buf` are not used again until `run` returns; the
    // engine and the chunk were taken out of the server beforehand.
    let result = unsafe {
        match &runner {
            None => engine.run(running, &f, numkeys, argv.iter().skip(3)),
            Some(r) => engine.run_with(running, r, f, numkeys, argv.iter().skip(3)),
        }
    };
    let srv = &mut *ctx.srv;
    let script_resp3 = srv.scripts.run.resp3;
    srv.scripts.run = Run::default();
    // SELECT inside the script changed only the script's database.
    if let Some(conn) = srv.conns.get_mut(slot) {
        conn.db = caller_db;
    }
    let mut errors = Errors::default();
    let start = ctx.reply.buf.len();
    let written = match result {
        Ok((true, v)) => convert::lua_to_reply(&mut ctx.reply, &v, script_resp3, &mut errors),
        Ok((false, e)) => {
            script_error(&mut ctx.reply, name, &e, &mut errors);
            Ok(())
        }
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        ctx.reply.buf.truncate(start);
        errors = Errors::default();
        let name = String::from_utf8_lossy(name);
        ctx.reply
            .error(&format!("ERR Error running script {name}, {e}"));
        errors.counted += 1;
    }
    drop(engine);
    let srv = &mut *ctx.srv;
    if runner.is_some() {
        srv.scripts.functions.ran();
    } else {
        srv.scripts.ran();
    }
    // Errors as Redis counts them: new ones once; each one repeating a command's error
    // makes the EVAL failed without counting again.
    if ctx.reply.buf.get(cmd_start) == Some(&b'-') {
        srv.reply_error = ReplyError::Counted;
    }
    srv.stats.total_error_replies += errors.counted;
    srv.cmd_stats[eval_idx].failed_calls += errors.ignored + u64::from(errors.counted > 0);
    srv.cmd_clock_ns = clock_at_start_ns;
}

/// The instruction hook's look at the running script (Redis's `scriptInterrupt`): under
/// busy-reply-threshold nothing; past it, the script is timed out (logged once), other
/// clients are served by one loop turn (`event_loop::busy_turn`) at every look, and a
/// script SCRIPT KILL stopped gets Redis's error raised where it is (again at every look,
/// should it catch it with pcall).
pub(crate) fn interrupt(
    srv: &mut Server,
    started: std::time::Instant,
) -> mlua::Result<mlua::VmState> {
    if !srv.scripts.run.timed_out {
        let ms = started.elapsed().as_millis();
        if ms < u128::from(srv.config.busy_reply_threshold_ms) {
            return Ok(mlua::VmState::Continue);
        }
        let kill = if srv.scripts.run.eval_mode {
            "SCRIPT KILL"
        } else {
            "FUNCTION KILL"
        };
        log::warn!(
            "Slow script detected: still in execution after {ms} milliseconds. You can try killing the script using the {kill} command."
        );
        srv.scripts.run.timed_out = true;
    }
    crate::event_loop::busy_turn(srv);
    if srv.scripts.run.killed {
        log::warn!("Lua script killed by user with SCRIPT KILL.");
        return Err(killed_error());
    }
    Ok(mlua::VmState::Continue)
}

/// The error a killed script gets raised.
pub(crate) fn killed_error() -> mlua::Error {
    mlua::Error::RuntimeError("Script killed by user with SCRIPT KILL...".into())
}

/// The reply to a script that raised `e` (Redis's `luaCallFunction` error path): the error
/// table's message with where it was raised, or Redis's text for any other value.
fn script_error(
    reply: &mut crate::resp::reply::Reply<'_>,
    sha: &[u8],
    e: &Value,
    errors: &mut Errors,
) {
    let sha_text = String::from_utf8_lossy(sha);
    let Value::Table(t) = e else {
        let msg = match e {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(i) => convert::lua_number_text(*i as f64),
            Value::Number(n) => convert::lua_number_text(*n),
            _ => "execution failure".into(),
        };
        let msg: String = msg.chars().take(100).collect();
        reply.error(&format!("ERR Error running script {sha_text}, {msg}\n"));
        errors.counted += 1;
        return;
    };
    let text = |v: Value| -> Option<Vec<u8>> {
        match v {
            Value::String(s) => Some(convert::c_str(&s.as_bytes()).to_vec()),
            Value::Integer(i) => Some(convert::lua_number_text(i as f64).into_bytes()),
            Value::Number(n) => Some(convert::lua_number_text(n).into_bytes()),
            _ => None,
        }
    };
    // Redis 7.0.15 crashes on an error table without `err`; here it reads as unknown.
    let mut msg = convert::error_message(t)
        .ok()
        .flatten()
        .unwrap_or_else(|| b"ERR unknown error".to_vec());
    let source = t.raw_get::<Value>("source").ok().and_then(text);
    let line = t.raw_get::<Value>("line").ok().and_then(text);
    if let (Some(source), Some(line)) = (source, line) {
        msg.extend_from_slice(b" script: ");
        msg.extend_from_slice(sha);
        msg.extend_from_slice(b", on ");
        msg.extend_from_slice(&source);
        msg.push(b':');
        msg.extend_from_slice(&line);
        msg.push(b'.');
    }
    reply.error_bytes(&msg);
    if t.raw_get::<Value>("ignore_error_stats_update").ok() == Some(Value::Boolean(true)) {
        errors.ignored += 1;
    } else {
        errors.counted += 1;
    }
}

/// The arguments of a `redis.call` (or `acl_check_cmd`) as a command line in the reused
/// buffers: strings as they are, numbers as `%.17g`; anything else is Redis's error.
fn script_argv(srv: &mut Server, args: &MultiValue) -> Result<(), &'static [u8]> {
    if args.is_empty() {
        return Err(b"Please specify at least one argument for this redis lib call");
    }
    let bytes = &mut srv.scripts.arg_bytes;
    let spans = &mut srv.scripts.arg_spans;
    bytes.clear();
    spans.clear();
    for v in args.iter() {
        let start = bytes.len();
        match v {
            Value::String(s) => bytes.extend_from_slice(&s.as_bytes()),
            Value::Integer(i) => crate::util::num::format_double(*i as f64, bytes),
            Value::Number(n) => crate::util::num::format_double(*n, bytes),
            _ => return Err(b"Lua redis lib command arguments must be strings or integers"),
        }
        spans.push(Span {
            start,
            end: bytes.len(),
        });
    }
    Ok(())
}

/// `redis.call` / `redis.pcall`: runs the command and converts its reply. Returns 0 and the
/// value, or 1 and an error table (`redis.call` raises it, `redis.pcall` returns it).
pub(crate) fn script_call(
    srv: &mut Server,
    out: &mut Vec<u8>,
    lua: &Lua,
    args: &MultiValue,
) -> mlua::Result<(i32, Value)> {
    if let Err(msg) = script_argv(srv, args) {
        return Ok((1, Value::Table(error_table(lua, msg)?)));
    }
    let bytes = std::mem::take(&mut srv.scripts.arg_bytes);
    let spans = std::mem::take(&mut srv.scripts.arg_spans);
    let argv = Argv::new(&bytes, &spans);
    let slot = srv.scripts.run.slot;
    srv.cmd_clock_ns = crate::util::mono_ns();
    let start = out.len();
    call::call(srv, slot, &argv, out, Source::Script);
    srv.scripts.arg_bytes = bytes;
    srv.scripts.arg_spans = spans;
    // The reply is the first frame that is not a push to the caller (which stays).
    let mut at = start;
    while out.get(at) == Some(&b'>') {
        at = convert::skip(out, at)?;
    }
    let failed = matches!(out.get(at), Some(b'-' | b'!'));
    let (v, end) = convert::reply_to_lua(lua, out, at)?;
    out.drain(at..end);
    Ok((i32::from(failed), v))
}

/// `redis.acl_check_cmd`: whether the script's user (its caller's) may run the command line,
/// by the same check `cmd::call` makes (no arity check, as in Redis).
pub(crate) fn acl_check_cmd(
    srv: &mut Server,
    lua: &Lua,
    args: &MultiValue,
) -> mlua::Result<(i32, Value)> {
    if let Err(msg) = script_argv(srv, args) {
        return Ok((2, Value::Table(error_table(lua, msg)?)));
    }
    let argv = Argv::new(&srv.scripts.arg_bytes, &srv.scripts.arg_spans);
    let found = srv.find_command(argv.get(0)).and_then(|idx| {
        let c = srv.all_commands[idx];
        if c.subcommands.is_empty() || argv.len() < 2 {
            return Some(idx);
        }
        c.subcommands
            .iter()
            .position(|s| s.short_name().as_bytes().eq_ignore_ascii_case(argv.get(1)))
            .map(|i| idx + 1 + i)
    });
    let Some(idx) = found else {
        let t = error_table(lua, b"Invalid command passed to redis.acl_check_cmd()")?;
        return Ok((2, Value::Table(t)));
    };
    let user = srv.conns.get(srv.current_slot).map_or(0, |c| c.user);
    let allowed = srv.acl.unrestricted(user)
        || srv
            .acl
            .check(user, idx, srv.all_commands[idx], &argv)
            .is_ok();
    Ok((0, Value::Boolean(allowed)))
}

// ---------------------------------------------------------------------------------------------
// SCRIPT

pub fn cmd_script_load(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    match ctx.srv.scripts.create(argv.get(2)) {
        Ok((sha, _)) => ctx.reply.bulk(&sha),
        Err(e) => ctx.err(&e),
    }
}

pub fn cmd_script_exists(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    ctx.reply.array(argv.len() - 2);
    for arg in argv.iter().skip(2) {
        let known = sha_key(arg).is_some_and(|sha| ctx.srv.scripts.get(&sha).is_some());
        ctx.reply.int(i64::from(known));
    }
}

pub fn cmd_script_flush(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    // ASYNC and SYNC both drop the interpreter here: there is nothing to free in the
    // background that the allocator would not free as fast.
    let ok = match argv.len() {
        2 => true,
        3 => {
            let mode = argv.get(2);
            mode.eq_ignore_ascii_case(b"sync") || mode.eq_ignore_ascii_case(b"async")
        }
        _ => false,
    };
    if !ok {
        return ctx.err("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    }
    ctx.srv.scripts.flush();
    ctx.reply.ok();
}

pub fn cmd_script_kill(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    kill(ctx, true);
}

/// SCRIPT KILL (`eval`) and FUNCTION KILL: stop the busy script, if it has not written
/// (Redis's `scriptKill`). Only a busy script's hook runs these while a script runs.
pub(crate) fn kill(ctx: &mut Ctx<'_>, eval: bool) {
    let run = &mut ctx.srv.scripts.run;
    if !run.active {
        return ctx.err("NOTBUSY No scripts in execution right now.");
    }
    if run.write_dirty {
        return ctx.err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
    }
    if eval != run.eval_mode {
        // SCRIPT KILL does not stop a function, nor FUNCTION KILL an EVAL.
        let e = run.busy_error();
        return ctx.err(e);
    }
    run.killed = true;
    ctx.reply.ok();
}

pub fn cmd_script_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    const LINES: &[&str] = &[
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ];
    ctx.help(LINES);
}
