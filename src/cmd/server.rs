//! Connection and server commands: PING ECHO QUIT HELLO AUTH SELECT, CLIENT, SWAPDB DBSIZE
//! FLUSHDB FLUSHALL TIME INFO, CONFIG, SHUTDOWN (COMMAND is in `cmd::command`; the rows of
//! all of them, subcommands included, are in `cmd::table`).
//!
//! These read and change server-wide state (clients, config, statistics) rather than keys, so
//! most have no separate `op_*` layer; the database-level operations they need (swap, flush)
//! are plain moves of whole `Db` values.

use super::args::{arg_eq as eq, arg_i64, c_str_max};
use super::error::{ERR_DB_RANGE, ERR_NOT_INT};
use super::Ctx;
use crate::keyspace::Db;
use crate::resp::Argv;
use std::fmt::Write as _;

/// A container command (CLIENT, CONFIG, ...) reached with a subcommand the table lacks is
/// answered by dispatch; this runs only when the container is called alone, which arity
/// already rejects. It answers like Redis's generic container handler would.
pub fn cmd_container_without_sub(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let name = String::from_utf8_lossy(argv.get(0)).to_ascii_uppercase();
    ctx.err(&format!("ERR unknown subcommand. Try {name} HELP."));
}

pub fn cmd_ping(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    // A RESP2 connection in the Pub/Sub context gets `pong` as an array, as a message would
    // come, so that a client reading only arrays can use PING as a keep-alive.
    let conn = &ctx.srv.conns[ctx.slot];
    if conn.subs.is_some() && !conn.resp3 && argv.len() <= 2 {
        ctx.reply.array(2);
        ctx.reply.bulk(b"pong");
        ctx.reply
            .bulk(if argv.len() == 2 { argv.get(1) } else { b"" });
        return;
    }
    match argv.len() {
        1 => ctx.reply.simple("PONG"),
        2 => ctx.reply.bulk(argv.get(1)),
        _ => ctx.err("ERR wrong number of arguments for 'ping' command"),
    }
}

pub fn cmd_echo(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    ctx.reply.bulk(argv.get(1));
}

pub fn cmd_quit(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.reply.ok();
    let slot = ctx.slot;
    ctx.srv.close_after_reply(slot);
}

/// Authenticates the connection as `user` (`default` when None), as Redis's
/// `ACLAuthenticateUser`; a failure is counted and logged in ACL LOG.
fn check_password(
    ctx: &mut Ctx<'_>,
    argv: &Argv<'_>,
    user: Option<&[u8]>,
    pass: &[u8],
) -> Result<(), &'static str> {
    let name = user.unwrap_or(b"default");
    match ctx.srv.acl.authenticate(name, pass) {
        Some(id) => {
            let conn = ctx.conn();
            conn.authenticated = true;
            conn.user = id;
            Ok(())
        }
        None => {
            ctx.srv.stats.auth_failures += 1;
            // Inside EXEC the client is still in its transaction for Redis.
            let context = if ctx.srv.conns[ctx.slot].in_multi() || ctx.srv.frame.in_exec() {
                crate::acl::LogContext::Multi
            } else {
                crate::acl::LogContext::TopLevel
            };
            let slot = ctx.slot;
            super::call::log_acl_event(
                ctx.srv,
                slot,
                crate::acl::Denied::Auth,
                context,
                argv.get(0),
                Some(name),
            );
            Err("WRONGPASS invalid username-password pair or user is disabled.")
        }
    }
}

pub fn cmd_auth(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    match argv.len() {
        2 => {
            if ctx.srv.acl.user(crate::acl::DEFAULT_USER).nopass() {
                ctx.err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
                return;
            }
            match check_password(ctx, argv, None, argv.get(1)) {
                Ok(()) => ctx.reply.ok(),
                Err(e) => ctx.err(e),
            }
        }
        3 => match check_password(ctx, argv, Some(argv.get(1)), argv.get(2)) {
            Ok(()) => ctx.reply.ok(),
            Err(e) => ctx.err(e),
        },
        _ => ctx.syntax_error(),
    }
}

pub fn cmd_hello(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut proto = None;
    let mut i = 1;
    if argv.len() >= 2 {
        match arg_i64(argv.get(1)) {
            Some(v) if v == 2 || v == 3 => proto = Some(v),
            Some(_) => {
                ctx.err("NOPROTO unsupported protocol version");
                return;
            }
            None => {
                ctx.err("ERR Protocol version is not an integer or out of range");
                return;
            }
        }
        i = 2;
    }
    let mut auth: Option<(usize, usize)> = None;
    let mut setname: Option<usize> = None;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        if eq(argv.get(i), "AUTH") && more >= 2 {
            auth = Some((i + 1, i + 2));
            i += 3;
        } else if eq(argv.get(i), "SETNAME") && more >= 1 {
            setname = Some(i + 1);
            i += 2;
        } else {
            let opt = String::from_utf8_lossy(argv.get(i)).into_owned();
            ctx.err(&format!("ERR Syntax error in HELLO option '{opt}'"));
            return;
        }
    }
    if let Some((u, p)) = auth {
        if let Err(e) = check_password(ctx, argv, Some(argv.get(u)), argv.get(p)) {
            ctx.err(e);
            return;
        }
    }
    if !ctx.srv.acl.default_open() && !ctx.conn().authenticated {
        ctx.err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(n) = setname {
        if let Err(e) = validate_name(argv.get(n)) {
            ctx.err(e);
            return;
        }
        let name = argv.get(n);
        ctx.conn().name = if name.is_empty() {
            None
        } else {
            Some(name.into())
        };
    }
    if let Some(p) = proto {
        ctx.conn().resp3 = p == 3;
        ctx.reply.resp3 = p == 3;
    }
    let id = ctx.conn().id as i64;
    let resp = if ctx.conn().resp3 { 3 } else { 2 };
    let r = &mut ctx.reply;
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(resp);
    r.bulk(b"id");
    r.int(id);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array(0);
}

/// The Redis version we answer as (clients adapt their handshakes to it).
pub const REDIS_VERSION: &str = "7.0.15";

pub fn cmd_select(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(n) = arg_i64(argv.get(1)) else {
        ctx.err(ERR_NOT_INT);
        return;
    };
    if n < 0 || n as usize >= ctx.srv.dbs.len() {
        ctx.err(ERR_DB_RANGE);
        return;
    }
    ctx.conn().db = n as usize;
    ctx.reply.ok();
}

pub fn cmd_swapdb(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(a) = arg_i64(argv.get(1)) else {
        ctx.err("ERR invalid first DB index");
        return;
    };
    let Some(b) = arg_i64(argv.get(2)) else {
        ctx.err("ERR invalid second DB index");
        return;
    };
    let n = ctx.srv.dbs.len() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        ctx.err(ERR_DB_RANGE);
        return;
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        crate::cmd::multi::touch_all_in_db(ctx.srv, a, Some(b));
        crate::cmd::multi::touch_all_in_db(ctx.srv, b, Some(a));
        ctx.srv.dbs.swap(a, b);
        // Clients blocked in either database may find their keys now.
        ctx.srv.signal_db_replaced();
    }
    ctx.dirty(1);
    ctx.reply.ok();
}

pub fn cmd_dbsize(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let n = ctx.db().len() as i64;
    ctx.reply.int(n);
}

/// FLUSHDB/FLUSHALL's optional ASYNC|SYNC (none: `lazyfree-lazy-user-flush`). Ok(true) =
/// async.
fn flush_mode(ctx: &mut Ctx<'_>, argv: &Argv<'_>) -> Result<bool, ()> {
    match argv.len() {
        1 => Ok(ctx.srv.config.lazyfree_lazy_user_flush),
        2 if eq(argv.get(1), "ASYNC") => Ok(true),
        2 if eq(argv.get(1), "SYNC") => Ok(false),
        _ => {
            ctx.syntax_error();
            Err(())
        }
    }
}

/// Empties one database. Large ones are dropped on the lazy-free thread when asked (ASYNC);
/// SYNC frees here, as Redis does.
fn op_flush(ctx: &mut Ctx<'_>, index: usize, lazy: bool) -> u64 {
    // Counted before: during a BGSAVE the old table stays with the snapshot and `old` is
    // empty (keyspace::cow).
    let n = ctx.srv.dbs[index].len() as u64;
    crate::cmd::multi::touch_all_in_db(ctx.srv, index, None);
    let old: Db = ctx.srv.dbs[index].take_all();
    if lazy && old.len() > crate::lazyfree::LAZYFREE_THRESHOLD {
        ctx.srv.lazyfree.free(old);
    } else {
        drop(old);
    }
    n
}

pub fn cmd_flushdb(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Ok(lazy) = flush_mode(ctx, argv) else {
        return;
    };
    let i = ctx.db_index();
    let n = op_flush(ctx, i, lazy);
    // Client-side caching is not per database: every tracking client hears of it.
    if ctx.srv.tracking.on() {
        crate::cmd::tracking::flushed(ctx.srv);
    }
    ctx.dirty(n);
    // Stated even when the database was already empty, as Redis forces it.
    let args: Vec<&[u8]> = argv.iter().collect();
    ctx.propagate(&args);
    ctx.reply.ok();
}

pub fn cmd_flushall(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Ok(lazy) = flush_mode(ctx, argv) else {
        return;
    };
    let mut n = 0;
    for i in 0..ctx.srv.dbs.len() {
        n += op_flush(ctx, i, lazy);
    }
    // One message per tracking client for the whole flush, as Redis's signalFlushedDb.
    if ctx.srv.tracking.on() {
        crate::cmd::tracking::flushed(ctx.srv);
    }
    // Redis counts a FLUSHALL as one change more than the keys it removed.
    ctx.dirty(n + 1);
    ctx.reply.ok();
}

pub fn cmd_time(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.reply.array(2);
    ctx.reply.bulk_int(d.as_secs() as i64);
    ctx.reply.bulk_int(d.subsec_micros() as i64);
}

pub fn cmd_shutdown(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    // SAVE / NOSAVE override the `save` schedule; NOW skips the wait for lagging replicas
    // (`server::shutdown`); FORCE exits even when the final save fails.
    let mut abort = false;
    let mut save: Option<bool> = None;
    let mut force = false;
    let mut now = false;
    for i in 1..argv.len() {
        let a = argv.get(i);
        if eq(a, "NOSAVE") {
            save = Some(false);
        } else if eq(a, "SAVE") {
            save = Some(true);
        } else if eq(a, "NOW") {
            now = true;
        } else if eq(a, "FORCE") {
            force = true;
        } else if eq(a, "ABORT") {
            abort = true;
        } else {
            ctx.syntax_error();
            return;
        }
    }
    if abort {
        if argv.len() > 2 {
            ctx.syntax_error();
        } else if ctx.srv.abort_shutdown() {
            ctx.reply.ok();
        } else {
            ctx.err("ERR No shutdown in progress.");
        }
        return;
    }
    let has = |w: &str| (1..argv.len()).any(|i| eq(argv.get(i), w));
    if has("SAVE") && has("NOSAVE") {
        ctx.syntax_error();
        return;
    }
    if ctx.srv.scripts.run.timed_out && save != Some(false) {
        // A busy script: only SHUTDOWN NOSAVE stops the server (its writes are lost).
        let e = ctx.srv.scripts.run.busy_error();
        return ctx.err(e);
    }
    log::warn!("User requested shutdown...");
    // A client that cannot block (in MULTI, in a script) does not wait for replicas.
    let slot = ctx.slot;
    let cannot_block = ctx.srv.frame.in_exec() || ctx.srv.scripts.run.active;
    let caller = (!cannot_block)
        .then(|| ctx.srv.conns.get(slot).map(|c| (slot, c.generation)))
        .flatten();
    match ctx
        .srv
        .begin_shutdown(save, force, now || cannot_block, caller)
    {
        crate::server::shutdown::Started::Failed => {
            ctx.err("ERR Errors trying to SHUTDOWN. Check logs.")
        }
        // Redis answers nothing on success: the connection just closes.
        crate::server::shutdown::Started::Exiting => ctx.srv.close_after_reply(slot),
        crate::server::shutdown::Started::Waiting => {}
    }
}

// ---- CLIENT ----------------------------------------------------------------------------

pub fn cmd_client_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.help(&[
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Prints this help.",
    ]);
}

pub fn cmd_client_id(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let id = ctx.conn().id as i64;
    ctx.reply.int(id);
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 if that client was blocked and is now unblocked
/// (with the timeout reply, or the UNBLOCKED error), else 0. The reason is checked before the
/// id, as in Redis.
pub fn cmd_client_unblock(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() > 4 {
        // Redis echoes the subcommand as typed.
        let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
        msg.extend_from_slice(c_str_max(argv.get(1), 128));
        msg.extend_from_slice(b"'. Try CLIENT HELP.");
        ctx.reply.error_bytes(&msg);
        return;
    }
    let mut error = false;
    if argv.len() == 4 {
        if eq(argv.get(3), "TIMEOUT") {
        } else if eq(argv.get(3), "ERROR") {
            error = true;
        } else {
            ctx.err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    let Some(id) = arg_i64(argv.get(2)) else {
        ctx.err(ERR_NOT_INT);
        return;
    };
    let done =
        u64::try_from(id).is_ok_and(|id| crate::cmd::blocking::unblock_by_id(ctx.srv, id, error));
    ctx.reply.int(i64::from(done));
}

/// CLIENT NO-EVICT ON|OFF: whether client eviction may close this connection. Its memory
/// counts toward `maxmemory-clients` either way (`server::client_eviction`).
pub fn cmd_client_no_evict(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let on = match argv.get(2) {
        a if eq(a, "on") => true,
        a if eq(a, "off") => false,
        _ => return ctx.syntax_error(),
    };
    let slot = ctx.slot;
    ctx.srv.set_no_evict(slot, on);
    ctx.reply.ok();
}

fn validate_name(name: &[u8]) -> Result<(), &'static str> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    Ok(())
}

pub fn cmd_client_setname(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let name = argv.get(2);
    if let Err(e) = validate_name(name) {
        ctx.err(e);
        return;
    }
    ctx.conn().name = if name.is_empty() {
        None
    } else {
        Some(name.into())
    };
    ctx.reply.ok();
}

pub fn cmd_client_getname(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    match ctx.conn().name.clone() {
        Some(n) => ctx.reply.bulk(&n),
        None => ctx.reply.null(),
    }
}

/// One CLIENT LIST line, with Redis's fields (the ones with no meaning here are constant).
/// `extra_out` is the capacity of the client's output buffer while the command running for
/// it holds that buffer (the caller's own line), else 0. Also the line client eviction logs.
pub(crate) fn client_info_line(
    srv: &crate::server::Server,
    slot: usize,
    extra_out: usize,
    out: &mut String,
) {
    client_info_line_argv(srv, slot, extra_out, 0, out);
}

/// `client_info_line` with `argv_bytes`, the bytes of the arguments of the command the
/// client is running (Redis's `argv-mem`; only the caller runs one).
fn client_info_line_argv(
    srv: &crate::server::Server,
    slot: usize,
    extra_out: usize,
    argv_bytes: usize,
    out: &mut String,
) {
    let c = &srv.conns[slot];
    let now = srv.now_ms;
    let qbuf = c.query_len();
    let name = c
        .name
        .as_deref()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    // Redis's letters, in its order; N when none applies.
    let mut flags = String::new();
    let (sub, psub, ssub) = c.subs.as_deref().map_or((0, 0, 0), |s| {
        (s.channels.len(), s.patterns.len(), s.shard.len())
    });
    if c.is_replica() {
        flags.push('S');
    }
    if c.monitor {
        flags.push('O');
    }
    if c.master {
        flags.push('M');
    }
    if c.subs.is_some() {
        flags.push('P');
    }
    let (queued, multi_mem) = match c.multi.as_ref().filter(|_| c.in_multi()) {
        Some(m) => {
            flags.push('x');
            (m.commands.len() as i64, m.bytes.capacity())
        }
        None => (-1, 0),
    };
    if c.is_blocked() || c.repl_waiting {
        flags.push('b');
    }
    if let Some(t) = c.tracking.as_deref() {
        flags.push('t');
        if t.has(crate::tracking::flag::BROKEN_REDIRECT) {
            flags.push('R');
        }
        if t.has(crate::tracking::flag::BCAST) {
            flags.push('B');
        }
    }
    if c.watch_dirty {
        flags.push('d');
    }
    if c.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let _ = writeln!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={argv_bytes} multi-mem={} rbs={} rbp={} obl={} oll=0 omem={} tot-mem={} events={} cmd={} user={} redir={} resp={}",
        c.id,
        c.addr,
        c.laddr,
        std::os::fd::AsRawFd::as_raw_fd(&c.fd),
        name,
        now.saturating_sub(c.created_ms) / 1000,
        now.saturating_sub(c.last_interaction_ms) / 1000,
        flags,
        c.db,
        sub,
        psub,
        ssub,
        queued,
        // The running client's buffer is away while its commands run: its batch counts.
        qbuf.max(c.inbuf_running_len),
        c.inbuf.as_ref().map_or(
            c.inbuf_away_bytes.saturating_sub(c.inbuf_running_len),
            |b| b.capacity() - b.len()
        ),
        multi_mem,
        // The reply buffer (Redis's rbs), and its use (rbp: it grew to its peak use).
        c.out.capacity().max(extra_out),
        c.out.capacity().max(extra_out),
        // Replies waiting for the socket (one buffer: no reply list, so oll is 0).
        c.out.len(),
        c.out.capacity(),
        c.memory_bytes(extra_out),
        // Writable interest while output waits to be sent, as Redis's `events`.
        if c.out.is_empty() && !c.send_inflight {
            "r"
        } else {
            "rw"
        },
        c.last_cmd,
        String::from_utf8_lossy(srv.acl.user_name(c.user)),
        c.tracking.as_deref().map_or(-1, |t| t.redirect_id() as i64),
        if c.resp3 { 3 } else { 2 },
    );
}

/// `client_info_line` for a client of this command's listing: the caller's own output
/// buffer is the one the reply is being written to.
fn client_line(ctx: &Ctx<'_>, argv: &Argv<'_>, slot: usize, out: &mut String) {
    let (extra_out, argv_bytes) = if slot == ctx.slot {
        (ctx.reply.buf.capacity(), argv.iter().map(<[u8]>::len).sum())
    } else {
        (0, 0)
    };
    client_info_line_argv(ctx.srv, slot, extra_out, argv_bytes, out);
}

pub fn cmd_client_info(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut s = String::new();
    client_line(ctx, argv, ctx.slot, &mut s);
    ctx.reply.verbatim(s.as_bytes());
}

/// A client's class as CLIENT LIST / KILL TYPE name it (Redis's `getClientType`): an
/// attached replica is of the replica class, the master client of a replica of the master
/// class.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientClass {
    Normal,
    Master,
    Replica,
    PubSub,
}

impl ClientClass {
    fn parse(name: &[u8]) -> Result<ClientClass, String> {
        if eq(name, "normal") {
            Ok(ClientClass::Normal)
        } else if eq(name, "master") {
            Ok(ClientClass::Master)
        } else if eq(name, "replica") || eq(name, "slave") {
            Ok(ClientClass::Replica)
        } else if eq(name, "pubsub") {
            Ok(ClientClass::PubSub)
        } else {
            let t = String::from_utf8_lossy(name);
            Err(format!("ERR Unknown client type '{t}'"))
        }
    }

    fn of(c: &crate::net::conn::Conn) -> ClientClass {
        if c.master {
            ClientClass::Master
        } else if c.is_replica() {
            ClientClass::Replica
        } else if c.subs.is_some() {
            ClientClass::PubSub
        } else {
            ClientClass::Normal
        }
    }
}

pub fn cmd_client_list(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut ids: Option<Vec<u64>> = None;
    let mut class: Option<ClientClass> = None;
    let mut i = 2;
    while i < argv.len() {
        if eq(argv.get(i), "TYPE") && i + 1 < argv.len() {
            match ClientClass::parse(argv.get(i + 1)) {
                Ok(k) => class = Some(k),
                Err(e) => return ctx.err(&e),
            }
            i += 2;
        } else if eq(argv.get(i), "ID") && i + 1 < argv.len() {
            let mut v = Vec::new();
            for j in i + 1..argv.len() {
                // Redis takes any integer (ids start at 1, so 0 or less matches nobody).
                match arg_i64(argv.get(j)) {
                    Some(n) => v.push(u64::try_from(n).unwrap_or(0)),
                    None => {
                        ctx.err("ERR Invalid client ID");
                        return;
                    }
                }
            }
            ids = Some(v);
            i = argv.len();
        } else {
            ctx.syntax_error();
            return;
        }
    }
    let mut s = String::new();
    let slots: Vec<usize> = ctx
        .srv
        .conns
        .iter()
        .filter(|(_, c)| {
            !c.closed
                && ids.as_ref().is_none_or(|v| v.contains(&c.id))
                && class.is_none_or(|k| k == ClientClass::of(c))
        })
        .map(|(s, _)| s)
        .collect();
    for slot in slots {
        client_line(ctx, argv, slot, &mut s);
    }
    ctx.reply.verbatim(s.as_bytes());
}

pub fn cmd_client_kill(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    // Old form: CLIENT KILL addr:port → OK or "No such client".
    if argv.len() == 3 {
        let addr = argv.get(2);
        let found = ctx
            .srv
            .conns
            .iter()
            .find(|(_, c)| !c.closed && c.addr.as_bytes() == addr)
            .map(|(s, _)| s);
        match found {
            Some(s) => {
                ctx.srv.close_after_reply(s);
                ctx.reply.ok();
            }
            None => ctx.err("ERR No such client"),
        }
        return;
    }
    let mut id: Option<u64> = None;
    let mut addr: Option<Vec<u8>> = None;
    let mut laddr: Option<Vec<u8>> = None;
    let mut user: Option<Vec<u8>> = None;
    let mut class: Option<ClientClass> = None;
    let mut skipme = true;
    let mut i = 2;
    while i < argv.len() {
        if i + 1 >= argv.len() {
            ctx.syntax_error();
            return;
        }
        let (opt, val) = (argv.get(i), argv.get(i + 1));
        if eq(opt, "ID") {
            match arg_i64(val) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => {
                    ctx.err("ERR client-id should be greater than 0");
                    return;
                }
            }
        } else if eq(opt, "ADDR") {
            addr = Some(val.to_vec());
        } else if eq(opt, "LADDR") {
            laddr = Some(val.to_vec());
        } else if eq(opt, "USER") {
            user = Some(val.to_vec());
        } else if eq(opt, "TYPE") {
            match ClientClass::parse(val) {
                Ok(k) => class = Some(k),
                Err(e) => return ctx.err(&e),
            }
        } else if eq(opt, "SKIPME") {
            if eq(val, "yes") {
                skipme = true;
            } else if eq(val, "no") {
                skipme = false;
            } else {
                ctx.syntax_error();
                return;
            }
        } else {
            ctx.syntax_error();
            return;
        }
        i += 2;
    }
    let user_id = match &user {
        Some(u) => match ctx.srv.acl.find(u) {
            Some(id) => Some(id),
            None => {
                let u = String::from_utf8_lossy(u).into_owned();
                ctx.err(&format!("ERR No such user '{u}'"));
                return;
            }
        },
        None => None,
    };
    let me = ctx.slot;
    let victims: Vec<usize> = ctx
        .srv
        .conns
        .iter()
        .filter(|(s, c)| {
            !(c.closed || skipme && *s == me)
                && id.is_none_or(|v| c.id == v)
                && addr
                    .as_ref()
                    .is_none_or(|a| c.addr.as_bytes() == a.as_slice())
                && laddr
                    .as_ref()
                    .is_none_or(|a| c.laddr.as_bytes() == a.as_slice())
                && class.is_none_or(|k| k == ClientClass::of(c))
                && user_id.is_none_or(|u| c.user == u)
        })
        .map(|(s, _)| s)
        .collect();
    for s in &victims {
        ctx.srv.close_after_reply(*s);
    }
    ctx.reply.int(victims.len() as i64);
}

// ---- CONFIG ----------------------------------------------------------------------------

pub fn cmd_config_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.help(&[
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ]);
}

pub fn cmd_config_get(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    // Names are unique without regard to case; a plain name (no glob character) is answered
    // under the name as given, as Redis's direct lookup does.
    let mut found: Vec<(Vec<u8>, String)> = Vec::new();
    let seen = |found: &[(Vec<u8>, String)], n: &[u8]| {
        found.iter().any(|(f, _)| f.eq_ignore_ascii_case(n))
    };
    for i in 2..argv.len() {
        let pat = argv.get(i);
        if !pat.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            if let Some(p) = crate::config::find_param(pat) {
                if !seen(&found, pat) {
                    found.push((pat.to_vec(), (p.get)(&ctx.srv.config)));
                }
            }
            continue;
        }
        for (name, p) in crate::config::all_names() {
            if seen(&found, name.as_bytes()) {
                continue;
            }
            if crate::util::glob::glob_match(pat, name.as_bytes(), true) {
                found.push((name.as_bytes().to_vec(), (p.get)(&ctx.srv.config)));
            }
        }
    }
    ctx.reply.map(found.len());
    for (n, v) in found {
        ctx.reply.bulk(&n);
        ctx.reply.bulk(v.as_bytes());
    }
}

pub fn cmd_config_set(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if !argv.len().is_multiple_of(2) {
        ctx.syntax_error();
        return;
    }
    // Validate everything on a copy, then swap it in: CONFIG SET is all-or-nothing.
    let mut next = ctx.srv.config.clone();
    let mut seen: Vec<&'static str> = Vec::new();
    let mut i = 2;
    while i < argv.len() {
        let name = argv.get(i);
        // An old name and the current one count as two names, as in Redis.
        let Some((matched, p)) = crate::config::find_named(name) else {
            let n = String::from_utf8_lossy(name).into_owned();
            ctx.err(&format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{n}'"
            ));
            return;
        };
        if seen.contains(&matched) {
            ctx.err(&format!(
                "ERR CONFIG SET failed (possibly related to argument '{matched}') - duplicate parameter"
            ));
            return;
        }
        seen.push(matched);
        // These two name the setting as the client wrote it, as Redis does.
        let given = String::from_utf8_lossy(name).into_owned();
        if !p.mutable {
            ctx.err(&format!("ERR CONFIG SET failed (possibly related to argument '{given}') - can't set immutable config"));
            return;
        }
        if crate::config::PROTECTED_PARAMS.contains(&p.name) {
            let setting = ctx.srv.config.enable_protected_configs;
            if !super::debug::protected_action_allowed(ctx, setting) {
                ctx.err(&format!("ERR CONFIG SET failed (possibly related to argument '{given}') - can't set protected config"));
                return;
            }
        }
        let v = argv.get(i + 1);
        let vals: Vec<&[u8]> = if p.values < 0 {
            v.split(|c| *c == b' ').filter(|s| !s.is_empty()).collect()
        } else {
            vec![v]
        };
        let vals = if vals.is_empty() {
            vec![&b""[..]]
        } else {
            vals
        };
        if let Err(e) = (p.set)(&mut next, &vals) {
            ctx.err(&format!(
                "ERR CONFIG SET failed (possibly related to argument '{matched}') - {e}"
            ));
            return;
        }
        i += 2;
    }
    // Effects of the new values. The OOM score first: writing it may fail, which fails
    // the whole CONFIG SET (the old score is put back), as in Redis.
    let values_changed = next.oom_score_adj_values != ctx.srv.config.oom_score_adj_values;
    if values_changed || next.oom_score_adj != ctx.srv.config.oom_score_adj {
        let cfg = &mut ctx.srv.config;
        let old = (cfg.oom_score_adj, cfg.oom_score_adj_values);
        (cfg.oom_score_adj, cfg.oom_score_adj_values) =
            (next.oom_score_adj, next.oom_score_adj_values);
        if ctx.srv.apply_oom_score_adj().is_err() {
            let cfg = &mut ctx.srv.config;
            (cfg.oom_score_adj, cfg.oom_score_adj_values) = old;
            let _ = ctx.srv.apply_oom_score_adj();
            let name = if values_changed {
                "oom-score-adj-values"
            } else {
                "oom-score-adj"
            };
            return ctx.err(&format!("ERR CONFIG SET failed (possibly related to argument '{name}') - Failed to set current oom_score_adj. Check server logs."));
        }
    }
    if next.proc_title_template != ctx.srv.config.proc_title_template {
        if let Err(e) = crate::proctitle::apply(&next, &next.exec_argv0) {
            log::warn!("Failed to set the process title: {e}");
            return ctx.err("ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - failed to set process title");
        }
    }
    if next.loglevel != ctx.srv.config.loglevel {
        log::set_max_level(crate::logging::filter_for(next.loglevel));
    }
    crate::logging::set_crash_log(next.crash_log_enabled);
    if next.requirepass != ctx.srv.config.requirepass {
        // requirepass is the default user's password (Redis's ACLUpdateDefaultUserPassword;
        // as in Redis, setting the value it already has changes nothing).
        ctx.srv
            .acl
            .set_default_password(next.requirepass.as_deref());
    }
    ctx.srv.hz = next.hz;
    if next.maxmemory_policy != ctx.srv.config.maxmemory_policy {
        ctx.srv.evict.clear_pool();
    }
    crate::alloc::set_maxmemory(next.maxmemory_bytes);
    if next.maxmemory_bytes != ctx.srv.config.maxmemory_bytes && next.maxmemory_bytes > 0 {
        // A lower limit is enforced at once, in time-limited passes on the following turns
        // (Redis's CONFIG SET maxmemory starts its eviction timer).
        ctx.srv.evict.running = true;
    }
    let aof_was = ctx.srv.config.appendonly;
    let gc_resumes = ctx.srv.config.aof_disable_auto_gc && !next.aof_disable_auto_gc;
    ctx.srv.config = next;
    if gc_resumes {
        ctx.srv.aof_gc_history();
    }
    ctx.srv.apply_clients_memory_limit();
    ctx.srv.apply_access_params();
    ctx.srv.apply_observe_params();
    ctx.srv.update_expiry_logging();
    if ctx.srv.config.appendonly != aof_was {
        let on = ctx.srv.config.appendonly;
        if let Err(e) = ctx.srv.aof_set_enabled(on) {
            ctx.srv.config.appendonly = aof_was;
            ctx.err(&format!(
                "ERR CONFIG SET failed (possibly related to argument 'appendonly') - {e}"
            ));
            return;
        }
    }
    ctx.reply.ok();
}

pub fn cmd_config_resetstat(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    // The dirty counter is not a statistic (Redis's resetServerStats keeps server.dirty):
    // rdb_changes_since_last_save and the save schedule are measured against it.
    let srv = &mut *ctx.srv;
    let dirty = srv.stats.dirty;
    srv.stats = Default::default();
    srv.stats.dirty = dirty;
    // Counters kept outside `stats`, as Redis's resetServerStats clears them: expired and
    // evicted keys, delayed fsyncs; lazily freed objects and the time over maxmemory are
    // shown from here on.
    for db in &mut srv.dbs {
        db.expired_keys = 0;
    }
    srv.evict.evicted_keys = 0;
    srv.aof.delayed_fsync = 0;
    srv.stats.lazyfreed_base = srv.lazyfree.freed();
    srv.stats.eviction_exceeded_base_ms = srv.evict.exceeded_ms().0;
    // Not statistics, and kept as Redis keeps them: the slow log and the latency monitor's
    // events (each has its own RESET).
    for s in &mut ctx.srv.cmd_stats {
        *s = Default::default();
    }
    // Redis drops the latency histograms with the command stats.
    for h in &mut ctx.srv.cmd_latency {
        *h = None;
    }
    ctx.reply.ok();
}

/// CONFIG REWRITE: the running configuration written back into the file the server was
/// started with (`config::rewrite`).
pub fn cmd_config_rewrite(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let Some(path) = ctx.srv.config.config_file.clone() else {
        return ctx.err("ERR The server is running without a config file");
    };
    let users = crate::acl::config_user_lines(ctx.srv);
    match crate::config::rewrite::rewrite_file(&path, &ctx.srv.config, &users, false) {
        Ok(()) => {
            log::info!("CONFIG REWRITE executed with success.");
            ctx.reply.ok();
        }
        Err(e) => {
            log::warn!("CONFIG REWRITE failed: {e}");
            // strerror's text, as Redis's reply has it.
            let why = e.raw_os_error().map_or_else(
                || e.to_string(),
                |n| nix::errno::Errno::from_raw(n).desc().to_string(),
            );
            ctx.err(&format!("ERR Rewriting config file: {why}"));
        }
    }
}
