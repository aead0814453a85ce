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

/// FLUSHDB/FLUSHALL's optional ASYNC|SYNC. Ok(true) = async.
fn flush_mode(ctx: &mut Ctx<'_>, argv: &Argv<'_>) -> Result<bool, ()> {
    match argv.len() {
        1 => Ok(false),
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
    // SAVE / NOSAVE override the `save` schedule; NOW is accepted (there are no replicas to
    // wait for); FORCE exits even when the final save fails.
    let mut abort = false;
    let mut save: Option<bool> = None;
    let mut force = false;
    for i in 1..argv.len() {
        let a = argv.get(i);
        if eq(a, "NOSAVE") {
            save = Some(false);
        } else if eq(a, "SAVE") {
            save = Some(true);
        } else if eq(a, "NOW") {
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
    if !ctx.srv.prepare_shutdown(save, force) {
        ctx.err("ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    ctx.srv.shutdown_requested = true;
    // Redis answers nothing on success: the connection just closes.
    let slot = ctx.slot;
    ctx.srv.close_after_reply(slot);
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
    if c.monitor {
        flags.push('O');
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
    if c.is_blocked() {
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
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem={} rbs={} rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}",
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
        qbuf,
        c.inbuf.as_ref().map_or(0, |b| b.capacity() - b.len()),
        multi_mem,
        c.inbuf.as_ref().map_or(0, |b| b.capacity()),
        c.out.capacity(),
        c.memory_bytes(extra_out),
        c.last_cmd,
        String::from_utf8_lossy(srv.acl.user_name(c.user)),
        c.tracking.as_deref().map_or(-1, |t| t.redirect_id() as i64),
        if c.resp3 { 3 } else { 2 },
    );
}

/// `client_info_line` for a client of this command's listing: the caller's own output
/// buffer is the one the reply is being written to.
fn client_line(ctx: &Ctx<'_>, slot: usize, out: &mut String) {
    let extra_out = if slot == ctx.slot {
        ctx.reply.buf.capacity()
    } else {
        0
    };
    client_info_line(ctx.srv, slot, extra_out, out);
}

pub fn cmd_client_info(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let mut s = String::new();
    client_line(ctx, ctx.slot, &mut s);
    ctx.reply.verbatim(s.as_bytes());
}

/// A client's class as CLIENT LIST / KILL TYPE name it (Redis's `getClientType`). ringkv
/// has no replication links yet, so no client is of the master or replica class.
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
        if c.subs.is_some() {
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
        client_line(ctx, slot, &mut s);
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

// ---- INFO ------------------------------------------------------------------------------

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", b / (1024.0 * 1024.0 * 1024.0))
    }
}

fn cpu_times() -> (f64, f64) {
    match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF) {
        Ok(u) => {
            let s = u.system_time();
            let us = u.user_time();
            (
                s.tv_sec() as f64 + s.tv_usec() as f64 / 1e6,
                us.tv_sec() as f64 + us.tv_usec() as f64 / 1e6,
            )
        }
        Err(_) => (0.0, 0.0),
    }
}

const SECTIONS_DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const SECTIONS_ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

fn info_section(ctx: &Ctx<'_>, name: &str, s: &mut String) {
    let srv = &*ctx.srv;
    let now = ctx.now_ms;
    match name {
        "server" => {
            let uptime = srv.start_instant.elapsed().as_secs();
            let uname = nix::sys::utsname::uname().ok();
            let os = uname
                .map(|u| {
                    format!(
                        "{} {} {}",
                        u.sysname().to_string_lossy(),
                        u.release().to_string_lossy(),
                        u.machine().to_string_lossy()
                    )
                })
                .unwrap_or_default();
            let port = srv.config.port;
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let _ = write!(
                s,
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nringkv_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{os}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:io_uring\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{port}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{exe}\r\nconfig_file:\r\nio_threads_active:0\r\n",
                env!("CARGO_PKG_VERSION"),
                std::process::id(),
                srv.run_id,
                now * 1000,
                uptime / 86400,
                srv.hz,
                srv.config.hz,
                (now / 1000) & 0xff_ffff,
            );
        }
        "clients" => {
            let _ = write!(
                s,
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
                srv.connected_clients(),
                srv.config.clients_max,
                srv.blocking.blocked_count(),
                srv.tracking.clients(),
                srv.blocking.timeout_count(),
            );
        }
        "memory" => {
            let used = srv.used_memory();
            let rss = crate::alloc::rss();
            let peak = crate::alloc::peak() as u64;
            let frag = if used > 0 {
                rss as f64 / used as f64
            } else {
                0.0
            };
            let total = nix::sys::sysinfo::sysinfo()
                .map(|i| i.ram_total())
                .unwrap_or(0);
            // The Lua interpreter of EVAL scripts (counted in used_memory too: it allocates
            // through the server's allocator).
            let lua = srv.scripts.vm_memory() as u64;
            // Functions have their own interpreter; Redis sums both into the `_total` and
            // `used_memory_scripts` fields.
            let fns = &srv.scripts.functions;
            let vm_functions = fns.vm_memory() as u64;
            let scripts_eval = srv.scripts.cache_memory() as u64;
            let functions_mem = fns.overhead_memory() as u64;
            let _ = write!(
                s,
                "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\ntotal_system_memory:{total}\r\ntotal_system_memory_human:{}\r\nused_memory_lua:{lua}\r\nused_memory_vm_eval:{lua}\r\nused_memory_lua_human:{}\r\nused_memory_scripts_eval:{scripts_eval}\r\nnumber_of_cached_scripts:{}\r\nnumber_of_functions:{}\r\nused_memory_vm_functions:{vm_functions}\r\nused_memory_vm_total:{}\r\nused_memory_vm_total_human:{}\r\nused_memory_functions:{functions_mem}\r\nused_memory_scripts:{}\r\nused_memory_scripts_human:{}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nmem_fragmentation_ratio:{frag:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:{}\r\nmem_clients_slaves:0\r\nmem_clients_normal:{}\r\nmem_aof_buffer:{}\r\nmem_allocator:libc\r\nlazyfree_pending_objects:{}\r\nlazyfreed_objects:{}\r\n",
                human(used),
                human(rss),
                human(peak),
                if peak > 0 { used as f64 * 100.0 / peak as f64 } else { 0.0 },
                human(total),
                human(lua),
                srv.scripts.cached(),
                fns.function_count(),
                lua + vm_functions,
                human(lua + vm_functions),
                scripts_eval + functions_mem,
                human(scripts_eval + functions_mem),
                srv.config.maxmemory_bytes,
                human(srv.config.maxmemory_bytes),
                srv.config.maxmemory_policy.name(),
                rss as i64 - used as i64,
                crate::evict::not_counted_bytes(srv),
                srv.clients_memory_bytes(),
                srv.aof.buffer_bytes(),
                srv.lazyfree.pending(),
                srv.lazyfree.freed(),
            );
        }
        "persistence" => s.push_str(&srv.info_persistence()),
        "stats" => {
            let st = &srv.stats;
            let (exceeded_total_ms, exceeded_current_ms) = srv.evict.exceeded_ms();
            let _ = write!(
                s,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nexpired_keys_active:{}\r\nevicted_keys:{}\r\nevicted_clients:{}\r\ntotal_eviction_exceeded_time:{}\r\ncurrent_eviction_exceeded_time:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\ntotal_forks:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:{}\r\ntotal_error_replies:{}\r\nauth_failures:{}\r\nbusy_poll_hits:{}\r\n",
                st.connections_received,
                st.commands_processed,
                srv.instantaneous_ops(),
                st.net_input_bytes,
                st.net_output_bytes,
                st.rejected_connections,
                srv.expired_keys(),
                st.expired_keys_active,
                srv.evict.evicted_keys,
                st.evicted_clients,
                exceeded_total_ms,
                exceeded_current_ms,
                st.keyspace_hits,
                st.keyspace_misses,
                srv.pubsub.len(crate::pubsub::Kind::Channel),
                srv.pubsub.len(crate::pubsub::Kind::Pattern),
                srv.pubsub.len(crate::pubsub::Kind::Shard),
                srv.tracking.total_keys(),
                srv.tracking.total_items(),
                srv.tracking.total_prefixes(),
                st.unexpected_error_replies,
                st.total_error_replies,
                st.auth_failures,
                st.busy_poll_hits,
            );
        }
        "replication" => {
            let _ = write!(
                s,
                "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n",
                srv.run_id
            );
        }
        "cpu" => {
            let (sys, user) = cpu_times();
            let _ = write!(
                s,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n"
            );
        }
        "modules" => s.push_str("# Modules\r\n"),
        "cluster" => s.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
        "errorstats" => {
            s.push_str("# Errorstats\r\n");
        }
        "commandstats" => {
            s.push_str("# Commandstats\r\n");
            for (i, c) in srv.all_commands.iter().enumerate() {
                let st = &srv.cmd_stats[i];
                if st.calls == 0 && st.rejected_calls == 0 && st.failed_calls == 0 {
                    continue;
                }
                let per = if st.calls > 0 {
                    st.usec as f64 / st.calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    s,
                    "cmdstat_{}:calls={},usec={},usec_per_call={per:.2},rejected_calls={},failed_calls={}\r\n",
                    c.name, st.calls, st.usec, st.rejected_calls, st.failed_calls
                );
            }
        }
        "latencystats" => {
            s.push_str("# Latencystats\r\n");
            if srv.config.latency_tracking {
                super::latency::info_latencystats(srv, s);
            }
        }
        "keyspace" => {
            s.push_str("# Keyspace\r\n");
            for (i, db) in srv.dbs.iter().enumerate() {
                if db.is_empty() {
                    continue;
                }
                let _ = write!(
                    s,
                    "db{i}:keys={},expires={},avg_ttl={}\r\n",
                    db.len(),
                    db.expires_len(),
                    db.avg_ttl_ms(now)
                );
            }
        }
        _ => {}
    }
}

pub fn cmd_info(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut wanted: Vec<&str> = Vec::new();
    if argv.len() == 1 {
        wanted.extend_from_slice(SECTIONS_DEFAULT);
    }
    for i in 1..argv.len() {
        let a = String::from_utf8_lossy(argv.get(i)).to_ascii_lowercase();
        match a.as_str() {
            "default" => wanted.extend_from_slice(SECTIONS_DEFAULT),
            "all" | "everything" => wanted.extend_from_slice(SECTIONS_ALL),
            other => {
                if let Some(n) = SECTIONS_ALL.iter().find(|s| **s == other) {
                    wanted.push(n);
                }
            }
        }
    }
    let mut s = String::new();
    for name in SECTIONS_ALL {
        if wanted.contains(name) {
            if !s.is_empty() {
                s.push_str("\r\n");
            }
            info_section(ctx, name, &mut s);
        }
    }
    ctx.reply.verbatim(s.as_bytes());
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
        "HELP",
        "    Print this help.",
    ]);
}

pub fn cmd_config_get(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut found: Vec<(&'static str, String)> = Vec::new();
    for i in 2..argv.len() {
        let pat = argv.get(i);
        for p in crate::config::PARAMS {
            if found.iter().any(|(n, _)| *n == p.name) {
                continue;
            }
            if crate::util::glob::glob_match(pat, p.name.as_bytes(), true) {
                found.push((p.name, (p.get)(&ctx.srv.config)));
            }
        }
    }
    ctx.reply.map(found.len());
    for (n, v) in found {
        ctx.reply.bulk(n.as_bytes());
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
        let Some(p) = crate::config::find_param(name) else {
            let n = String::from_utf8_lossy(name).into_owned();
            ctx.err(&format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{n}'"
            ));
            return;
        };
        if seen.contains(&p.name) {
            ctx.err(&format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - duplicate parameter",
                p.name
            ));
            return;
        }
        seen.push(p.name);
        if !p.mutable {
            ctx.err(&format!("ERR CONFIG SET failed (possibly related to argument '{}') - can't set immutable config", p.name));
            return;
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
                "ERR CONFIG SET failed (possibly related to argument '{}') - {e}",
                p.name
            ));
            return;
        }
        i += 2;
    }
    // Effects of the new values.
    if next.loglevel != ctx.srv.config.loglevel {
        log::set_max_level(crate::logging::filter_for(next.loglevel));
    }
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
    ctx.srv.config = next;
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
    let dirty = ctx.srv.stats.dirty;
    ctx.srv.stats = Default::default();
    ctx.srv.stats.dirty = dirty;
    for s in &mut ctx.srv.cmd_stats {
        *s = Default::default();
    }
    // Redis drops the latency histograms with the command stats.
    for h in &mut ctx.srv.cmd_latency {
        *h = None;
    }
    ctx.reply.ok();
}
