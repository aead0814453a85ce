//! `call()`: the one path every command takes, whatever sent it: a network client, EXEC
//! replaying its queue, a script's `redis.call`, or the AOF loader.
//!
//! In order, as Redis 7.0's `processCommand` and `call`: look the command (and subcommand) up,
//! check its arity, then the checks its table flags ask for (authentication unless `no_auth`,
//! `no_multi` inside MULTI, `denyoom` above maxmemory, writes while the AOF cannot be written,
//! `loading`), queue it when the client is in MULTI (unless the table marks it as transaction
//! control), else run the handler inside an execution unit of the journal and count it in
//! commandstats. Commands that EXEC runs skip the client-level checks (they were made when the
//! command was queued, and EXEC itself was checked against the queue's flags), as in Redis:
//! [`call_queued`] runs them from the index found when they were queued.
//!
//! After the handler: the command's effects go to the journal — what it stated with
//! [`Ctx::propagate`], or, when it changed data and stated nothing, its own arguments — and
//! the keys it modified are signalled to WATCH and to blocked clients — what it named with
//! [`Ctx::modified`], or, when it changed data and named nothing, the keys in its key
//! positions. When the outermost unit ends its effects are published to the consumers (the
//! AOF, which holds the client's reply until the write is acknowledged) and blocked clients
//! whose keys became ready are served, so nothing is served in the middle of an EXEC.
//!
//! A command a script calls (`Source::Script`, Redis 7.0's `scriptCall`) gets the script
//! checks instead of the client ones: arity and existence with the script texts, `noscript`,
//! writes refused in a read-only script (EVAL_RO, `no-writes`) or while the AOF cannot be
//! written, `denyoom` commands refused when memory was over maxmemory as the script started
//! and it has not written yet (unless `allow-oom`). It runs on the calling client's
//! connection, in the database the script selected (which the script code sets in the
//! connection for the run), replies in the protocol the script chose (`redis.setresp`),
//! never blocks (as inside EXEC), and leaves the connection's CLIENT LIST `cmd` alone.
//! Its effects join the script's journal unit, unless the script turned propagation off
//! (`redis.set_repl`).
//!
//! A command of the replication stream or of the AOF that answers an error is reported by
//! [`propagated_error`], which `propagation-error-behavior` may turn into a panic.
//!
//! Invariants: a rejected command runs nothing and counts as `rejected_calls`; a blocked
//! client's command is counted when it completes; `frame` is saved and restored around every
//! nested call, so an inner command's statements never leak into the outer one's.

use super::{flags, multi, Command, Ctx};
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::server::Server;

/// Who runs the command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// A client's request: every check applies, and MULTI queues it.
    Client,
    /// EXEC running a queued command.
    Exec,
    /// The AOF loader replaying the file.
    Loading,
    /// A running script's `redis.call` / `redis.pcall` (`cmd::scripting`).
    Script,
    /// The replication stream from this server's primary (`repl::replica`): no client
    /// checks (the primary is obeyed), but MULTI queues as for a client.
    Master,
}

/// What the running command has stated so far: one byte of flags, since it is saved and
/// restored around every command.
#[derive(Clone, Copy, Default)]
pub struct Frame(u8);

impl Frame {
    /// It stated its effects itself (or that it has none to state).
    const PROPAGATED: u8 = 1;
    /// It named the keys it modified itself.
    const SIGNALLED: u8 = 2;
    /// It runs inside EXEC or a script: blocking commands answer at once, and it is not the
    /// outermost command of its client.
    const IN_EXEC: u8 = 4;
    /// A script called it.
    const IN_SCRIPT: u8 = 8;
    /// Its effects are not journaled: the script that called it turned propagation off
    /// (`redis.set_repl`).
    const NO_EFFECTS: u8 = 16;

    fn for_source(src: Source) -> Frame {
        Frame(match src {
            Source::Exec => Frame::IN_EXEC,
            Source::Script => Frame::IN_EXEC | Frame::IN_SCRIPT,
            // The primary's commands never block (a blocked master client would stall the
            // stream): they answer at once, as inside EXEC.
            Source::Master => Frame::IN_EXEC,
            Source::Client | Source::Loading => 0,
        })
    }

    pub fn propagated(self) -> bool {
        self.0 & Frame::PROPAGATED != 0
    }

    pub fn signalled(self) -> bool {
        self.0 & Frame::SIGNALLED != 0
    }

    pub fn in_exec(self) -> bool {
        self.0 & Frame::IN_EXEC != 0
    }

    pub fn in_script(self) -> bool {
        self.0 & Frame::IN_SCRIPT != 0
    }

    pub fn no_effects(self) -> bool {
        self.0 & Frame::NO_EFFECTS != 0
    }

    pub fn set_propagated(&mut self) {
        self.0 |= Frame::PROPAGATED;
    }

    pub fn set_signalled(&mut self) {
        self.0 |= Frame::SIGNALLED;
    }
}

/// Looks up `argv[0]` (and the subcommand): the command and its index in `all_commands`, or
/// the error Redis gives.
#[inline(always)]
fn resolve(srv: &Server, argv: &Argv<'_>) -> Result<(usize, &'static Command), Vec<u8>> {
    let Some(idx) = srv.find_command(argv.get(0)) else {
        return Err(super::unknown_command_error(argv));
    };
    let c = srv.all_commands[idx];
    if c.subcommands.is_empty() || argv.len() < 2 {
        return Ok((idx, c));
    }
    let name = argv.get(1);
    match c
        .subcommands
        .iter()
        .position(|s| s.short_name().as_bytes().eq_ignore_ascii_case(name))
    {
        // `all_commands` lists each container followed by its subcommands, in order.
        Some(i) => {
            debug_assert!(std::ptr::eq(
                srv.all_commands[idx + 1 + i],
                &c.subcommands[i]
            ));
            Ok((idx + 1 + i, &c.subcommands[i]))
        }
        None => Err(super::unknown_subcommand_error(c.name, name)),
    }
}

/// Why a command was refused before running.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Refusal {
    Arity,
    NoAuth,
    NoMulti,
    Oom,
    Misconf,
    /// `min-replicas-to-write`: not enough good replicas (`repl::primary`).
    NoReplicas,
    /// A RESP2 connection in the Pub/Sub context sent another command.
    PubSubContext,
    /// A monitor (a replica, for Redis) sent a command that reads or writes keys.
    MonitorKeyspace,
    Loading,
    /// A script is busy (past busy-reply-threshold) and the command is not `allow_busy`.
    Busy,
    /// A script called a `noscript` command.
    NoScript,
    /// A replica refused a client's command (READONLY, MASTERDOWN): the text is
    /// `repl::replica::refusal`'s.
    Replica(&'static str),
    /// A read-only script (EVAL_RO, `no-writes`) called a write command.
    ScriptReadOnly,
    /// The connection's ACL user may not run it (logged where it was found).
    NoPerm(crate::acl::Denied),
}

/// The error text (with its code) of a refusal.
#[cold]
fn refusal_text(srv: &Server, c: &Command, r: Refusal, src: Source) -> String {
    match r {
        Refusal::Arity if src == Source::Script => {
            "ERR Wrong number of args calling Redis command from script".into()
        }
        Refusal::Arity => format!("ERR wrong number of arguments for '{}' command", c.name),
        Refusal::NoAuth => "NOAUTH Authentication required.".into(),
        Refusal::NoMulti => "ERR Command not allowed inside a transaction".into(),
        Refusal::Oom => "OOM command not allowed when used memory > 'maxmemory'.".into(),
        Refusal::Misconf => srv.misconf_error().unwrap_or_default(),
        Refusal::NoReplicas => "NOREPLICAS Not enough good replicas to write.".into(),
        Refusal::PubSubContext => format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            c.name
        ),
        Refusal::MonitorKeyspace => "ERR Replica can't interact with the keyspace".into(),
        Refusal::Loading => "LOADING Redis is loading the dataset in memory".into(),
        Refusal::Busy => srv.scripts.run.busy_error().into(),
        Refusal::NoScript => "ERR This Redis command is not allowed from script".into(),
        Refusal::Replica(text) => text.into(),
        Refusal::ScriptReadOnly => {
            "ERR Write commands are not allowed from read-only scripts.".into()
        }
        Refusal::NoPerm(why) => noperm_text(c, why, src),
    }
}

/// The NOPERM text of a denied command: a client's, or the error a script gets.
#[cold]
fn noperm_text(c: &Command, why: crate::acl::Denied, src: Source) -> String {
    use crate::acl::Denied;
    match (why, src == Source::Script) {
        (Denied::Cmd, false) => format!(
            "NOPERM this user has no permissions to run the '{}' command",
            c.name
        ),
        (Denied::Key, false) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments"
                .into()
        }
        (Denied::Channel, false) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .into()
        }
        (Denied::Cmd, true) => {
            "ERR The user executing the script can't run this command or subcommand".into()
        }
        (Denied::Key, true) => "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments".into(),
        (Denied::Channel, true) => "ERR The user executing the script can't publish to the channel mentioned in the command".into(),
        (Denied::Auth, _) => "NOPERM no permission".into(),
    }
}

/// The ACL check of a restricted user's command (Redis's `ACLCheckAllPerm`), inlined where
/// it is asked (a restricted user runs it on every command); a denial is logged in ACL LOG
/// with the command, key or channel at fault.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn acl_check(
    srv: &mut Server,
    slot: usize,
    user: usize,
    idx: usize,
    c: &Command,
    argv: &Argv<'_>,
    context: crate::acl::LogContext,
) -> Option<crate::acl::Denied> {
    let (why, pos) = srv.acl.check(user, idx, c, argv).err()?;
    acl_denied(srv, slot, c, argv, why, pos, context);
    Some(why)
}

/// Logs a denial: the command's name, or the key or channel at `pos`.
#[cold]
#[inline(never)]
fn acl_denied(
    srv: &mut Server,
    slot: usize,
    c: &Command,
    argv: &Argv<'_>,
    why: crate::acl::Denied,
    pos: usize,
    context: crate::acl::LogContext,
) {
    let object = match why {
        crate::acl::Denied::Cmd => c.name.as_bytes(),
        _ => argv.get(pos),
    };
    log_acl_event(srv, slot, why, context, object, None);
}

/// Adds an event to ACL LOG for the client in `slot` (the user it is authenticated as,
/// unless `username` names the one it tried).
#[cold]
pub(crate) fn log_acl_event(
    srv: &mut Server,
    slot: usize,
    why: crate::acl::Denied,
    context: crate::acl::LogContext,
    object: &[u8],
    username: Option<&[u8]>,
) {
    let mut info = String::new();
    super::server::client_info_line(srv, slot, 0, &mut info);
    if info.ends_with('\n') {
        info.pop();
    }
    let user = srv.conns[slot].user;
    let name = username.unwrap_or(srv.acl.user_name(user)).to_vec();
    let max_len = srv.config.acllog_max_len;
    let now_ms = srv.now_ms;
    srv.acl
        .log_event(why, context, object, &name, now_ms, info, max_len);
}

/// The checks a client's command passes before it runs or is queued, in Redis's order.
/// `queued_flags` is `Some` (the or-ed flags of the queue) while the client is in MULTI;
/// `pubsub_context` is true for a RESP2 connection with subscriptions.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn check(
    srv: &mut Server,
    slot: usize,
    idx: usize,
    c: &Command,
    argv: &Argv<'_>,
    src: Source,
    queued_flags: Option<u32>,
    pubsub_context: bool,
) -> Option<Refusal> {
    if !c.arity_ok(argv.len()) {
        return Some(Refusal::Arity);
    }
    if src == Source::Script {
        return check_script(srv, slot, idx, c, argv);
    }
    if src == Source::Master && srv.disk_error() {
        master_write_despite_disk_error(srv, c, queued_flags);
    }
    if src != Source::Client {
        return None;
    }
    let conn = &srv.conns[slot];
    if !srv.acl.default_open() && !conn.authenticated && c.flags & flags::NO_AUTH == 0 {
        return Some(Refusal::NoAuth);
    }
    let in_multi = queued_flags.is_some();
    if in_multi && c.flags & flags::NO_MULTI != 0 {
        return Some(Refusal::NoMulti);
    }
    // ACL: one test for a user that may run anything (the default user as it starts).
    let user = conn.user;
    if !srv.acl.unrestricted(user) {
        let context = if in_multi {
            crate::acl::LogContext::Multi
        } else {
            crate::acl::LogContext::TopLevel
        };
        if let Some(why) = acl_check(srv, slot, user, idx, c, argv, context) {
            return Some(Refusal::NoPerm(why));
        }
    }
    // EXEC counts as the commands it will run (and an EVAL as what its script declares:
    // `cmd::scripting` makes those two checks itself, off this path).
    let is_exec = c.flags & flags::EXEC != 0;
    let effective = c.flags
        | if is_exec {
            queued_flags.unwrap_or(0)
        } else {
            0
        };
    // A replica ignores maxmemory (`replica-ignore-maxmemory yes`, Redis's default): its
    // primary's DELs are its evictions, so its data never differs.
    if srv.config.maxmemory_bytes > 0
        && !srv.loading
        && (srv.replica.state == crate::repl::replica::LinkState::None
            || !srv.config.replica.ignore_maxmemory)
    {
        // Eviction runs before every command, as Redis's processCommand does; only a pass
        // that found nothing left to evict refuses commands. Inside MULTI every command but
        // the transaction's end is refused then: queueing would grow memory without bound.
        let out_of_memory = crate::evict::perform(srv) == crate::evict::Outcome::Fail;
        // Scripts judge their `denyoom` commands by the state at the start of the command
        // that runs them (Redis's `script_oom`), not by what the script itself allocated.
        srv.oom_at_command_start = out_of_memory;
        let deny = effective & flags::DENYOOM != 0
            || (in_multi && !is_exec && c.flags & flags::TX_END == 0);
        if deny && out_of_memory {
            return Some(Refusal::Oom);
        }
    }
    if srv.disk_error()
        && (effective & flags::WRITE != 0 || c.name == "ping")
        && srv.misconf_error().is_some()
    {
        return Some(Refusal::Misconf);
    }
    if srv.config.repl.min_replicas_to_write > 0
        && effective & flags::WRITE != 0
        && !crate::repl::primary::enough_good_replicas(srv)
    {
        return Some(Refusal::NoReplicas);
    }
    // A replica: one test of the role while this server is a primary.
    if srv.replica.state != crate::repl::replica::LinkState::None {
        if let Some(text) = crate::repl::replica::refusal(srv, effective) {
            return Some(Refusal::Replica(text));
        }
    }
    // A client in MONITOR mode is listed in `monitors`: one length test while there are none.
    if !srv.monitors.is_empty()
        && srv.conns[slot].monitor
        && c.flags & (flags::READONLY | flags::WRITE | flags::MAY_REPLICATE) != 0
    {
        return Some(Refusal::MonitorKeyspace);
    }
    if pubsub_context && c.flags & flags::PUBSUB_CONTEXT == 0 {
        return Some(Refusal::PubSubContext);
    }
    if srv.loading && c.flags & flags::LOADING == 0 {
        return Some(Refusal::Loading);
    }
    if srv.scripts.run.timed_out && c.flags & flags::ALLOW_BUSY == 0 {
        // Another client, served from a busy script's hook (`event_loop::busy_turn`).
        return Some(Refusal::Busy);
    }
    None
}

/// The checks of a command a script calls, in the order of Redis 7.0's `scriptCall` (arity
/// was checked by the caller). A write that passes marks the script as having written, after
/// which no `denyoom` command of it is refused any more: it cannot stop halfway.
#[cold]
fn check_script(
    srv: &mut Server,
    slot: usize,
    idx: usize,
    c: &Command,
    argv: &Argv<'_>,
) -> Option<Refusal> {
    if c.flags & flags::NOSCRIPT != 0 {
        return Some(Refusal::NoScript);
    }
    // The script runs as its caller's user.
    let user = srv.conns[slot].user;
    if !srv.acl.unrestricted(user) {
        if let Some(why) = acl_check(srv, slot, user, idx, c, argv, crate::acl::LogContext::Lua) {
            return Some(Refusal::NoPerm(why));
        }
    }
    let run = &srv.scripts.run;
    let write = c.flags & flags::WRITE != 0;
    if write && run.read_only {
        return Some(Refusal::ScriptReadOnly);
    }
    // Once the script has written it cannot fail on the server's state: it would stop
    // halfway (Redis's SCRIPT_WRITE_DIRTY).
    if write && !run.write_dirty {
        if srv.replica.state != crate::repl::replica::LinkState::None
            && srv.config.replica.read_only
            && !crate::repl::replica::is_master_slot(srv, srv.scripts.run.slot)
        {
            return Some(Refusal::Replica(
                "READONLY You can't write against a read only replica.",
            ));
        }
        if srv.disk_error() && srv.misconf_error().is_some() {
            return Some(Refusal::Misconf);
        }
        // `min-replicas-to-write`: reached only by scripts that declared no flags (a
        // declared write was refused before it ran).
        if !crate::repl::primary::enough_good_replicas(srv) {
            return Some(Refusal::NoReplicas);
        }
    }
    if !run.allow_oom
        && srv.config.maxmemory_bytes > 0
        && !srv.loading
        && !run.write_dirty
        && srv.oom_at_command_start
        && c.flags & flags::DENYOOM != 0
    {
        return Some(Refusal::Oom);
    }
    if write {
        srv.scripts.run.write_dirty = true;
    }
    None
}

/// Answers a refused command (EXEC refused ends its transaction, as Redis's
/// `execCommandAbort`) and counts it.
#[cold]
fn refuse(
    srv: &mut Server,
    slot: usize,
    idx: usize,
    c: &Command,
    r: Refusal,
    reply: &mut Reply<'_>,
    src: Source,
) {
    let e = refusal_text(srv, c, r, src);
    srv.cmd_stats[idx].rejected_calls += 1;
    if src == Source::Script {
        // The script's error, not its client's: no transaction or tracking state to touch.
        srv.stats.count_error(format!("-{e}").as_bytes());
        reply.error(&e);
        return;
    }
    if c.flags & flags::EXEC != 0 {
        multi::discard(srv, slot);
        srv.stats.count_error(b"-EXECABORT ");
        let why = e.strip_prefix("ERR ").unwrap_or(&e);
        reply.error(&format!(
            "EXECABORT Transaction discarded because of: {why}"
        ));
    } else {
        srv.stats.count_error(format!("-{e}").as_bytes());
        multi::flag_error(srv, slot);
        reply.error(&e);
    }
    if srv.conns[slot].tracking.is_some() {
        super::tracking::command_done(srv, slot, Some(c));
    }
}

/// Answers a command that does not exist.
#[cold]
fn unknown(srv: &mut Server, slot: usize, msg: &[u8], reply: &mut Reply<'_>, src: Source) {
    srv.stats.count_error(b"-ERR ");
    if src == Source::Script {
        // A script's unknown command or subcommand: one text for both, as Redis's.
        reply.error("ERR Unknown Redis command called from script");
        return;
    }
    multi::flag_error(srv, slot);
    reply.error_bytes(msg);
    if srv.conns[slot].tracking.is_some() {
        super::tracking::command_done(srv, slot, None);
    }
}

/// Runs one command for the connection in `slot`, writing its reply into `out`.
#[inline(always)]
pub fn call(srv: &mut Server, slot: usize, argv: &Argv<'_>, out: &mut Vec<u8>, src: Source) {
    let resolved = resolve(srv, argv);
    let now_ms = srv.now_ms;
    // A script's commands reply in the protocol it chose, not its client's.
    let script_resp3 = src == Source::Script && srv.scripts.run.resp3;
    // One look at the connection for everything the checks and the run need of it.
    let conn = &mut srv.conns[slot];
    let resp3 = if src == Source::Script {
        script_resp3
    } else {
        conn.resp3
    };
    let mut reply = Reply::new(out, resp3);
    let (idx, c) = match resolved {
        Ok(found) => found,
        Err(msg) => {
            if src != Source::Script {
                conn.last_cmd = "NULL";
            }
            return unknown(srv, slot, &msg, &mut reply, src);
        }
    };
    if src != Source::Script {
        // CLIENT LIST's cmd=: the command looked up last, even if refused or queued (Redis).
        // A script's commands are its own client's, not this one's (which stays EVAL).
        conn.last_cmd = c.name;
        conn.last_interaction_ms = now_ms;
    }
    let db = conn.db;
    let queued_flags = conn.multi_flags();
    let pubsub_context = conn.subs.is_some() && !conn.resp3;
    if let Some(r) = check(srv, slot, idx, c, argv, src, queued_flags, pubsub_context) {
        return refuse(srv, slot, idx, c, r, &mut reply, src);
    }
    // CLIENT PAUSE: one test while nothing is paused.
    if srv.pause.active()
        && src == Source::Client
        && super::pause::postpones(srv, slot, c, argv, queued_flags)
    {
        return super::pause::postpone(srv, slot);
    }
    if queued_flags.is_some()
        && matches!(src, Source::Client | Source::Master)
        && c.flags & flags::TX_CONTROL == 0
    {
        if c.flags & flags::SCRIPT != 0 {
            // EXEC is checked against what the script declares it does (its shebang).
            let declared = Command {
                flags: super::scripting::declared_flags(srv, c, argv),
                ..*c
            };
            multi::queue(srv, slot, idx, &declared, argv);
        } else {
            multi::queue(srv, slot, idx, c, argv);
        }
        reply.simple("QUEUED");
        return;
    }
    run(srv, slot, idx, c, argv, reply, src, db);
}

/// Runs a command EXEC took from its queue: it was looked up and checked when it was queued
/// (`idx` is its index in `all_commands`), so only the run remains.
pub fn call_queued(srv: &mut Server, slot: usize, idx: usize, argv: &Argv<'_>, out: &mut Vec<u8>) {
    let c = srv.all_commands[idx];
    // The user's rules may have changed since the command was queued: checked again.
    let user = srv.conns[slot].user;
    if !srv.acl.unrestricted(user) {
        if let Some(why) = acl_check(srv, slot, user, idx, c, argv, crate::acl::LogContext::Multi) {
            return exec_noperm(srv, slot, why, out);
        }
    }
    // CLIENT LIST's cmd= stays `exec` while EXEC runs its queue, as in Redis (whose
    // `lastcmd` only changes when a client's command is looked up).
    let conn = &srv.conns[slot];
    let db = conn.db;
    let reply = Reply::new(out, conn.resp3);
    run(srv, slot, idx, c, argv, reply, Source::Exec, db);
}

/// A queued command the user may no longer run: EXEC's reply for it, as Redis words it.
#[cold]
fn exec_noperm(srv: &mut Server, slot: usize, why: crate::acl::Denied, out: &mut Vec<u8>) {
    use crate::acl::Denied;
    let reason = match why {
        Denied::Cmd => "no permission to execute the command or subcommand",
        Denied::Key => "no permission to touch the specified keys",
        Denied::Channel => "no permission to access one of the channels used as arguments",
        Denied::Auth => "no permission",
    };
    srv.stats.total_error_replies += 1;
    let mut reply = Reply::new(out, srv.conns[slot].resp3);
    reply.error(&format!("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"));
}

/// Runs the handler of `c` (index `idx`) for a client whose database is `db`, and everything
/// that follows it. Inlined: it is the hot path of every command, and a call with eight
/// arguments costs ~20 instructions.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn run(
    srv: &mut Server,
    slot: usize,
    idx: usize,
    c: &'static Command,
    argv: &Argv<'_>,
    reply: Reply<'_>,
    src: Source,
    db: usize,
) {
    let now_ms = srv.now_ms;
    let start = reply.buf.len();
    let mut frame = Frame::for_source(src);
    if src == Source::Script && !srv.scripts.run.propagate_aof {
        frame.0 |= Frame::NO_EFFECTS;
    }
    let outer = std::mem::replace(&mut srv.frame, frame);
    srv.current_cmd = idx;
    srv.current_slot = slot;
    srv.journal.begin_unit();
    let dirty_before = srv.stats.dirty;
    // Monitors: one test while there are none. A script command is shown before its
    // script runs (the script's commands follow it), any other after it ran.
    if !srv.monitors.is_empty() {
        feed_script_monitors(srv, slot, c, argv, src);
    }
    let mut ctx = Ctx {
        srv,
        slot,
        now_ms,
        reply,
    };
    (c.handler)(&mut ctx, argv);
    let failed = ctx.reply.buf.get(start) == Some(&b'-');
    // The error's code, for INFO errorstats (a failure is rare: no cost otherwise).
    let error_head: Option<[u8; 32]> = if failed {
        Some(error_head(&ctx.reply.buf[start..]))
    } else {
        None
    };
    if !srv.monitors.is_empty() {
        feed_monitors(srv, slot, c, argv, src);
    }
    let frame = std::mem::replace(&mut srv.frame, outer);
    // One test when nobody consumes effects or signals: the usual case costs nothing more.
    // `log_deletions` is on whenever the journal records or client-side caching has work
    // (`update_expiry_logging`), so neither needs a test of its own here.
    debug_assert!(srv.log_deletions || !srv.journal.enabled);
    debug_assert!(srv.log_deletions || !srv.tracking.on());
    if srv.log_deletions || !srv.watches.is_empty() || !srv.blocking.is_empty() {
        after_effects(srv, db, c, argv, frame, srv.stats.dirty != dirty_before);
    }
    // Only the outermost unit publishes, and whatever it published is this client's.
    if srv.journal.end_unit() > 0 {
        srv.publish_effects(Some(slot));
    }
    // One clock read per command: a command's time runs from the end of the previous
    // one (or the start of the loop turn), so it includes its own parsing. Two reads per
    // command cost ~4% of a GET's instructions (callgrind).
    let t1 = crate::util::mono_ns();
    let us = t1.saturating_sub(srv.cmd_clock_ns) / 1000;
    srv.cmd_clock_ns = t1;
    // Slow log, latency monitor: one test while nothing wants this command's time. Before
    // the clients this command made ready are served, so that they are logged after it,
    // as in Redis; a command that blocked its client is logged when it is served.
    if us >= srv.observe_us_min && !srv.blocking.is_blocked(slot) {
        observe(srv, slot, c, argv, us, src);
    }
    // Nobody can be blocked, this client included, while the registry is empty.
    if !srv.blocking.is_empty() {
        if srv.journal.idle() {
            super::blocking::serve_ready(srv);
            // Invalidations held for served clients (their output was in use).
            if srv.tracking.has_pending() {
                super::tracking::deliver_pending(srv);
            }
            // Serving other clients is not this command's time.
            srv.cmd_clock_ns = crate::util::mono_ns();
        }
        if srv.conns.get(slot).is_some_and(|c| c.is_blocked()) {
            // Counted when it completes (served, timed out or unblocked), and logged then.
            if let Some(b) = srv.blocking.blocked_mut(slot) {
                b.run_us = us;
            }
            if srv.config.slowlog_log_slower_than_us >= 0 {
                super::slowlog::keep_blocked(srv, slot, argv, us);
            }
            return;
        }
    }
    let st = &mut srv.cmd_stats[idx];
    st.calls += 1;
    st.usec += us;
    srv.stats.commands_processed += 1;
    let rejected = match &error_head {
        Some(head) => count_error_reply(srv, idx, us, head),
        None => false,
    };
    // Latency tracking, as Redis's `call`: every call that ran (not a refused one, not
    // the AOF loader's, not a WAIT that blocked: Redis records that one only if CLIENT
    // UNBLOCK ends it).
    if srv.config.latency_tracking
        && !rejected
        && src != Source::Loading
        && !srv.conns.get(slot).is_some_and(|c| c.repl_waiting)
    {
        record_latency(srv, idx, us);
    }
}

/// Adds a call of `us` µs to the histogram of command `idx`.
#[inline]
pub(crate) fn record_latency(srv: &mut Server, idx: usize, us: u64) {
    if let Some(slot) = srv.cmd_latency.get_mut(idx) {
        slot.get_or_insert_with(Box::default).record(us);
    }
}

/// MONITOR before a script command runs: the script's command line (its commands follow).
#[cold]
#[inline(never)]
fn feed_script_monitors(srv: &mut Server, slot: usize, c: &Command, argv: &Argv<'_>, src: Source) {
    if c.flags & flags::SCRIPT != 0 && src != Source::Loading {
        super::monitor::feed(srv, slot, argv, false);
    }
}

/// MONITOR after any other command ran (not admin or `skip_monitor` ones, not the AOF's).
#[cold]
#[inline(never)]
fn feed_monitors(srv: &mut Server, slot: usize, c: &Command, argv: &Argv<'_>, src: Source) {
    if c.flags & (flags::ADMIN | flags::SKIP_MONITOR) == 0 && src != Source::Loading {
        super::monitor::feed(srv, slot, argv, src == Source::Script);
    }
}

/// A command that ran `us` µs, at least what some observer wants to see (`observe_us_min`):
/// the latency monitor and the slow log take it, as Redis's `call` does (not while loading
/// the AOF; the slow log not a `skip_slowlog` command, while the latency monitor times EXEC
/// too, as Redis).
#[cold]
#[inline(never)]
fn observe(srv: &mut Server, slot: usize, c: &Command, argv: &Argv<'_>, us: u64, src: Source) {
    if src == Source::Loading {
        return;
    }
    let event = if c.flags & flags::FAST != 0 {
        crate::latency::Event::FastCommand
    } else {
        crate::latency::Event::Command
    };
    srv.latency_sample(event, us);
    let slow = srv.config.slowlog_log_slower_than_us;
    if slow >= 0 && us >= slow as u64 && c.flags & flags::SKIP_SLOWLOG == 0 {
        super::slowlog::log(srv, slot, argv, us, src == Source::Script);
    }
}

/// How the running command's error reply is counted, as its handler said (EVAL: its reply
/// may repeat an error already counted where it arose, or be a refusal the handler made
/// for what the script declares; `cmd::scripting`). Taken by `count_error_reply`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReplyError {
    /// A failure of the command: `failed_calls` and `total_error_replies`.
    #[default]
    Failed,
    /// Already counted by the handler.
    Counted,
    /// A refusal before the command ran: `rejected_calls` and `total_error_replies`, not a
    /// call.
    Rejected,
}

/// Counts an error reply of command `idx` (which `run` counted as a call of `us` µs);
/// true if it was a refusal, not a call.
#[cold]
fn count_error_reply(srv: &mut Server, idx: usize, us: u64, head: &[u8; 32]) -> bool {
    let st = &mut srv.cmd_stats[idx];
    match std::mem::take(&mut srv.reply_error) {
        ReplyError::Failed => {
            st.failed_calls += 1;
            srv.stats.count_error(head);
            false
        }
        ReplyError::Counted => false,
        ReplyError::Rejected => {
            st.calls -= 1;
            st.usec -= us;
            srv.stats.commands_processed -= 1;
            st.rejected_calls += 1;
            srv.stats.count_error(head);
            true
        }
    }
}

/// The first 32 bytes of an error reply (all `Stats::count_error` looks at).
#[cold]
fn error_head(reply: &[u8]) -> [u8; 32] {
    let mut head = [0u8; 32];
    let n = reply.len().min(32);
    head[..n].copy_from_slice(&reply[..n]);
    head
}

/// What follows a command while the journal records, someone watches or is blocked, or
/// client-side caching has work: keys deleted by expiry on the way, the command's own argv
/// as its effect when it `changed` data and stated nothing, its key positions as modified
/// when it named none, then the tracking work (`cmd::tracking::after_command`: the keys it
/// read remembered, invalidations held for its client delivered after its reply).
#[inline(never)]
fn after_effects(
    srv: &mut Server,
    db: usize,
    c: &Command,
    argv: &Argv<'_>,
    frame: Frame,
    changed: bool,
) {
    // Keys deleted by expiry are logged only while someone consumes them.
    if srv.log_deletions {
        srv.drain_expired();
    }
    if srv.journal.enabled && changed && !frame.propagated() && !frame.no_effects() {
        srv.journal.record_iter(db, argv.len(), argv.iter());
    }
    if changed && !frame.signalled() && c.flags & flags::WRITE != 0 && srv.key_signals_wanted() {
        signal_key_positions(srv, db, c, argv);
    }
    if srv.tracking.on() {
        // The running client is `current_slot`; a command EXEC or a script runs is not the
        // outermost.
        let slot = srv.current_slot;
        if c.flags & flags::SCRIPT != 0 || frame.in_script() {
            script_tracking(srv, slot, c, argv, frame);
        } else {
            super::tracking::after_command(srv, slot, c, argv, !frame.in_exec());
        }
    }
}

/// Client-side caching around scripts, as Redis 7.0 does it: EVAL_RO's own key positions
/// are not remembered as reads, but each read-only command a script runs makes its caller
/// remember the keys the script was given (KEYS, the keys of the EVAL command line), not
/// the keys that command read.
#[cold]
fn script_tracking(srv: &mut Server, slot: usize, c: &Command, argv: &Argv<'_>, frame: Frame) {
    let not_a_read = Command {
        flags: c.flags & !flags::READONLY,
        ..*c
    };
    super::tracking::after_command(srv, slot, &not_a_read, argv, !frame.in_exec());
    if frame.in_script() && c.flags & flags::READONLY != 0 {
        let Some(eval_idx) = srv.scripts.run.tracked_caller else {
            return;
        };
        let eval = Command {
            flags: srv.all_commands[eval_idx].flags | flags::READONLY,
            ..*srv.all_commands[eval_idx]
        };
        let (bytes, spans) = std::mem::take(&mut srv.scripts.caller_argv);
        super::tracking::after_command(srv, slot, &eval, &Argv::new(&bytes, &spans), false);
        srv.scripts.caller_argv = (bytes, spans);
    }
}

/// The keys in `c`'s key positions (first, last, step), each signalled as modified.
fn signal_key_positions(srv: &mut Server, db: usize, c: &Command, argv: &Argv<'_>) {
    if c.first_key <= 0 {
        return;
    }
    let argc = argv.len() as i64;
    let last = if c.last_key < 0 {
        argc + i64::from(c.last_key)
    } else {
        i64::from(c.last_key)
    };
    let step = i64::from(c.step.max(1));
    let mut i = i64::from(c.first_key);
    // Bounded by the argument count.
    while i <= last && i < argc {
        srv.signal_modified(db, argv.get(i as usize));
        i += step;
    }
}

/// A write of the primary's stream while this replica cannot persist (the MISCONF state):
/// with `replica-ignore-disk-write-errors no` a panic, as Redis 7.0's processCommand, since
/// applying it would leave the data ahead of the files; with `yes` the write is applied,
/// with a warning at most every 10 seconds. PING is applied either way, as in Redis.
#[cold]
fn master_write_despite_disk_error(srv: &Server, c: &Command, queued_flags: Option<u32>) {
    static LAST_WARNING_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let exec_flags = if c.flags & flags::EXEC != 0 {
        queued_flags.unwrap_or(0)
    } else {
        0
    };
    let write = (c.flags | exec_flags) & flags::WRITE != 0;
    if !(write || c.name == "ping") || srv.misconf_error().is_none() {
        return;
    }
    if !srv.config.replica.ignore_disk_write_errors && c.name != "ping" {
        panic!("Replica was unable to write command to disk.");
    }
    let now_ms = srv.now_ms;
    let last_ms = LAST_WARNING_MS.load(std::sync::atomic::Ordering::Relaxed);
    if now_ms > last_ms + 10_000 {
        LAST_WARNING_MS.store(now_ms, std::sync::atomic::Ordering::Relaxed);
        log::warn!("Replica is applying a command even though it is unable to write to disk.");
    }
}

/// `propagation-error-behavior`, applied to a command of the replication stream
/// (`Source::Master`) or of the AOF being loaded (`Source::Loading`) that answered the error
/// `reply` (RESP, `-` first), as Redis's `afterErrorReply` does: the critical log line and
/// INFO's `unexpected_error_replies`, then a panic (the crash report, then abort) under
/// `panic` for both, or `panic-on-replicas` for the stream only, and only on a read-only
/// replica; otherwise the next command is applied.
///
/// The text is Redis's: an `ERR` error shown without its code (the form most of Redis's
/// errors are written in), any other with its `-CODE`. Redis shows the few `ERR` errors it
/// keeps as shared objects (`-ERR syntax error`) with the code; ringkv cannot tell them apart.
pub fn propagated_error(srv: &mut Server, slot: usize, reply: &[u8], src: Source) {
    use crate::config::PropagationErrorBehavior as B;
    let line = reply.strip_prefix(b"-").unwrap_or(reply);
    let line = line.split(|&b| b == b'\r').next().unwrap_or_default();
    let shown: Vec<u8> = match line.strip_prefix(b"ERR ") {
        Some(rest) => rest.to_vec(),
        None => [b"-".as_slice(), line].concat(),
    };
    let shown = String::from_utf8_lossy(&shown[..shown.len().min(4096)]).into_owned();
    let cmd = srv.conns.get(slot).map_or("<unknown>", |c| c.last_cmd);
    let (from, to) = if src == Source::Loading {
        ("server", "AOF-loading-client")
    } else {
        ("replica", "master")
    };
    log::warn!(
        "== CRITICAL == This {from} is sending an error to its {to}: '{shown}' after processing the command '{cmd}'"
    );
    srv.stats.unexpected_error_replies += 1;
    let behavior = srv.config.propagation_error_behavior;
    let panics = match src {
        Source::Loading => behavior == B::Panic,
        Source::Master => srv.config.replica.read_only && behavior != B::Ignore,
        _ => false,
    };
    if panics {
        panic!("This {from} panicked sending an error to its {to} after processing the command '{cmd}'");
    }
}
