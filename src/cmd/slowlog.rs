//! SLOWLOG GET / LEN / RESET / HELP, and `log`, which `cmd::call::observe` calls for a
//! command that ran at least `slowlog-log-slower-than` microseconds (the log itself, with its
//! bound and trimming, is `crate::slowlog`).
//!
//! What is logged is what Redis 7.0.15 logs: every command that ran through `call()` (a
//! command EXEC runs, and each command a script calls, under the address `?:0` and no name,
//! as Redis's script client), except those flagged `skip_slowlog` (EXEC itself) and the
//! AOF loader's; a blocked command when it is served (not when it times out). Secrets are
//! redacted as Redis 7.0 redacts them (`redacted`).

use super::args::arg_i64;
use super::Ctx;
use crate::resp::Argv;
use crate::server::Server;
use crate::slowlog::{trimmed_argv, Entry};

/// Adds the command `argv` of the client in `slot`, which ran `us` µs, to the slow log.
/// `from_script`: a script called it.
#[cold]
pub(crate) fn log(srv: &mut Server, slot: usize, argv: &Argv<'_>, us: u64, from_script: bool) {
    let (peer, name) = match srv.conns.get(slot) {
        Some(c) if !from_script => (c.addr.clone(), c.name.clone().unwrap_or_default()),
        _ => ("?:0".to_string(), Box::default()),
    };
    let hidden = redacted(argv);
    let args = argv
        .iter()
        .enumerate()
        .map(|(i, a)| if hidden.contains(&i) { REDACTED } else { a });
    let argv = trimmed_argv(argv.len(), args);
    push(srv, argv, us, peer, name);
}

/// What a secret argument shows as in the slow log and to MONITOR.
pub(crate) const REDACTED: &[u8] = b"(redacted)";

/// The positions of the arguments of `argv` that hold secrets, which Redis 7.0 redacts
/// (`redactClientCommandArgument`): AUTH's arguments, HELLO's AUTH user and password,
/// MIGRATE's AUTH and AUTH2 credentials, and
/// the value CONFIG SET gives `requirepass`, and everything after ACL SETUSER (its user name
/// and rules, which may hold passwords).
pub(crate) fn redacted(argv: &Argv<'_>) -> Vec<usize> {
    let name = argv.get(0);
    let mut out = Vec::new();
    if name.eq_ignore_ascii_case(b"auth") {
        out.extend(1..argv.len());
    } else if name.eq_ignore_ascii_case(b"acl")
        && argv.len() >= 3
        && argv.get(1).eq_ignore_ascii_case(b"setuser")
    {
        out.extend(2..argv.len());
    } else if name.eq_ignore_ascii_case(b"hello") {
        let mut j = 2;
        while j < argv.len() {
            let more = argv.len() - j - 1;
            let opt = argv.get(j);
            if opt.eq_ignore_ascii_case(b"auth") && more >= 2 {
                out.extend([j + 1, j + 2]);
                j += 3;
            } else if opt.eq_ignore_ascii_case(b"setname") && more >= 1 {
                j += 2;
            } else {
                break;
            }
        }
    } else if name.eq_ignore_ascii_case(b"migrate") {
        // MIGRATE's AUTH password and AUTH2 user and password, as its parser meets them.
        let mut j = 6;
        while j < argv.len() {
            let more = argv.len() - j - 1;
            let opt = argv.get(j);
            if opt.eq_ignore_ascii_case(b"auth") && more >= 1 {
                out.push(j + 1);
                j += 2;
            } else if opt.eq_ignore_ascii_case(b"auth2") && more >= 2 {
                out.extend([j + 1, j + 2]);
                j += 3;
            } else if opt.eq_ignore_ascii_case(b"copy") || opt.eq_ignore_ascii_case(b"replace") {
                j += 1;
            } else {
                break;
            }
        }
    } else if name.eq_ignore_ascii_case(b"config")
        && argv.len() > 2
        && argv.get(1).eq_ignore_ascii_case(b"set")
    {
        let mut j = 2;
        while j + 1 < argv.len() {
            if argv.get(j).eq_ignore_ascii_case(b"requirepass") {
                out.push(j + 1);
            }
            j += 2;
        }
    }
    out
}

/// Keeps the command line of the command that just blocked the client in `slot` (it ran
/// `us` µs so far) for the slow log, which takes it if it is served (`completed`).
#[cold]
pub(crate) fn keep_blocked(srv: &mut Server, slot: usize, argv: &Argv<'_>, us: u64) {
    let hidden = redacted(argv);
    let args = argv
        .iter()
        .enumerate()
        .map(|(i, a)| if hidden.contains(&i) { REDACTED } else { a });
    let kept = trimmed_argv(argv.len(), args);
    if let Some(b) = srv.blocking.blocked_mut(slot) {
        b.slow = Some(Box::new((kept, us)));
    }
}

/// A blocked command was served: logged if it took long enough, as Redis's
/// `updateStatsOnUnblock` (the time it waited is not its run time). Redis 7.0 logs no
/// command that timed out or that CLIENT UNBLOCK ended.
pub(crate) fn completed(srv: &mut Server, slot: usize, slow: Option<crate::slowlog::Pending>) {
    let Some(slow) = slow else {
        return;
    };
    let (argv, us) = *slow;
    let threshold = srv.config.slowlog_log_slower_than_us;
    if threshold < 0 || us < threshold as u64 {
        return;
    }
    let (peer, name) = match srv.conns.get(slot) {
        Some(c) => (c.addr.clone(), c.name.clone().unwrap_or_default()),
        None => return,
    };
    push(srv, argv, us, peer, name);
}

/// Adds an already trimmed command line (a blocked command's, kept while it waited).
pub(crate) fn push(srv: &mut Server, argv: Vec<Box<[u8]>>, us: u64, peer: String, name: Box<[u8]>) {
    let max_len = usize::try_from(srv.config.slowlog_max_len).unwrap_or(usize::MAX);
    let e = Entry {
        id: 0,
        time_s: srv.now_ms / 1000,
        duration_us: us,
        argv,
        peer,
        name,
    };
    srv.slowlog.push(e, max_len);
}

pub fn cmd_slowlog_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.help(&[
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    ]);
}

/// SLOWLOG GET [count]: the newest `count` entries (10 by default, -1 for all).
pub fn cmd_slowlog_get(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let count = if argv.len() == 3 {
        match arg_i64(argv.get(2)) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return ctx.err("ERR count should be greater than or equal to -1"),
        }
    } else if argv.len() > 3 {
        // Redis echoes the subcommand as typed.
        let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
        msg.extend_from_slice(argv.get(1));
        msg.extend_from_slice(b"'. Try SLOWLOG HELP.");
        return ctx.reply.error_bytes(&msg);
    } else {
        10
    };
    let n = ctx.srv.slowlog.len().min(count);
    ctx.reply.array(n);
    for e in ctx.srv.slowlog.newest(n) {
        ctx.reply.array(6);
        ctx.reply.int(e.id as i64);
        ctx.reply.int(e.time_s as i64);
        ctx.reply.int(e.duration_us as i64);
        ctx.reply.array(e.argv.len());
        for a in &e.argv {
            ctx.reply.bulk(a);
        }
        ctx.reply.bulk(e.peer.as_bytes());
        ctx.reply.bulk(&e.name);
    }
}

pub fn cmd_slowlog_len(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let n = ctx.srv.slowlog.len();
    ctx.reply.int(n as i64);
}

pub fn cmd_slowlog_reset(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.srv.slowlog.reset();
    ctx.reply.ok();
}
