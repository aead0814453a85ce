//! Client-side caching: CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, and the
//! delivery of invalidation messages (the tracking parts of Redis 7.0's `clientCommand`,
//! `call()` and `tracking.c`). The tables and their rules are in `crate::tracking`.
//!
//! Where invalidations come from: `Server::signal_modified` (a command modified a key),
//! `Server::record_deletion` (a key expired or was evicted), `flushed` (FLUSHDB, FLUSHALL:
//! every tracking client is told that all its keys are invalid, with a null), the table limit
//! (`enforce_limit`) and the broadcast of BCAST prefixes once per loop turn (`end_of_turn`,
//! called by the event loop before its flush). What is remembered comes from
//! `after_command`: the keys of a read-only command run by a tracking client, as its mode and
//! CLIENT CACHING allow.
//!
//! Delivery (`send`, Redis's `sendTrackingMessage`): to the client's redirect target when
//! it has one — a RESP3 target gets an `invalidate` push, a RESP2 target subscribed to
//! anything gets a `message` on `__redis__:invalidate`, any other gets nothing; a target
//! that went away marks the client's redirect broken and, in RESP3, pushes
//! `tracking-redir-broken` to the client — and otherwise to the client itself, in RESP3 only.
//! Every frame goes through `cmd::pubsub::send_to`, the one out-of-band delivery path
//! (output limits included), into the receiver's connection output; for the client whose
//! command is running that output is appended after the command's reply by
//! `Server::process_input`. Invalidations for that client are also held until the command
//! (or its whole EXEC) is over, as Redis 7.0 postpones them, and so are those for a blocked
//! client, whose output a serve may be holding (`Tracking::defer`).
//!
//! Differences from Redis, all in rare interleavings: a message redirected to the client
//! whose command is running lands after that command's reply (Redis writes it where the
//! command was); table-limit invalidations never skip a NOLOOP client (Redis skips the
//! client whose command it is about to run); a blocked client served by another's push
//! counts as modified by the pusher for NOLOOP. The table limit is enforced after each
//! command and at the end of each loop turn, one bounded round at a time (Redis's effort
//! per round); which keys go is random in both servers, so only their number can match.
//! And, as Redis does, a clash between two given BCAST prefixes other than the first
//! answers the error and then OK (`tracking::PrefixClash`).

use super::args::{arg_i64, opt_is};
use super::error::{ERR_NOT_INT, ERR_SYNTAX};
use super::pubsub::send_to;
use super::{flags, Command, Ctx};
use crate::resp::Argv;
use crate::server::Server;
use crate::tracking::{check_prefixes, flag, Payload, Pending, Redirect};

/// What an invalidation carries, before it is framed for its receiver.
enum Msg<'a> {
    /// One key.
    Key(&'a [u8]),
    /// Every key: a null, in the tracking client's own protocol (as Redis writes it, even
    /// when the message goes to a redirect target of the other protocol).
    All,
    /// A ready RESP array of keys (a broadcast).
    Keys(&'a [u8]),
}

/// The redirect target's slot if that client still exists.
fn live_target(srv: &Server, r: Redirect) -> Option<usize> {
    srv.conns
        .get(r.slot)
        .filter(|c| {
            c.generation == r.generation && c.id == r.id && !c.closed && !c.close_after_reply
        })
        .map(|_| r.slot)
}

/// Redis's `sendTrackingMessage`: tells the tracking client in `slot` (or its redirect
/// target) that `msg`'s keys are invalid. Always into the receiver's connection output, the
/// running client's included: `Server::process_input` appends that after the command's
/// reply, where Redis 7.0 puts these messages.
fn send(srv: &mut Server, slot: usize, msg: Msg<'_>) {
    let Some(conn) = srv.conns.get_mut(slot) else {
        return;
    };
    let own_resp3 = conn.resp3;
    let redirect = conn.tracking.as_deref().and_then(|t| t.redirect);
    let mut frame = std::mem::take(&mut srv.tracking_frame);
    frame.clear();
    let mut target = slot;
    if let Some(r) = redirect {
        match live_target(srv, r) {
            Some(s) => target = s,
            None => {
                if let Some(t) = srv.conns[slot].tracking.as_deref_mut() {
                    t.flags |= flag::BROKEN_REDIRECT;
                }
                if own_resp3 {
                    frame.extend_from_slice(b"*2\r\n$21\r\ntracking-redir-broken\r\n:");
                    frame.extend_from_slice(itoa::Buffer::new().format(r.id).as_bytes());
                    frame.extend_from_slice(b"\r\n");
                    send_to(srv, &mut None, slot, &frame);
                }
                srv.tracking_frame = frame;
                return;
            }
        }
    }
    let t = &srv.conns[target];
    if t.resp3 {
        frame.extend_from_slice(b"*2\r\n$10\r\ninvalidate\r\n");
    } else if redirect.is_some() && t.subs.is_some() {
        frame.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n");
    } else {
        // RESP2 has no push frames: nothing can be sent on the client's own connection.
        srv.tracking_frame = frame;
        return;
    }
    match msg {
        Msg::Key(k) => {
            frame.extend_from_slice(b"*1\r\n");
            push_bulk(&mut frame, k);
        }
        Msg::All => frame.extend_from_slice(if own_resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        Msg::Keys(array) => frame.extend_from_slice(array),
    }
    send_to(srv, &mut None, target, &frame);
    srv.tracking_frame = frame;
}

fn push_bulk(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(s.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// Redis's `trackingInvalidateKey` for the key table: every client that may cache `key` is
/// told, and the key is forgotten. `current` is the client whose command is running (None
/// outside commands): a NOLOOP client is not told of its own changes, and while a command
/// runs its own client's message, and a blocked client's, wait for the end of the command.
fn invalidate(srv: &mut Server, key: &[u8], current: Option<usize>) {
    let Some(ids) = srv.tracking.take_key(key) else {
        return;
    };
    for id in ids {
        // An id whose client went away or stopped tracking is skipped (Redis's lazy cleanup).
        let Some(slot) = srv.tracking.slot_of(id) else {
            continue;
        };
        let Some(conn) = srv.conns.get(slot) else {
            continue;
        };
        let Some(st) = conn.tracking.as_deref() else {
            continue;
        };
        // A client that switched to BCAST after reading keys is not told of them.
        if st.has(flag::BCAST) {
            continue;
        }
        let is_current = current == Some(slot);
        if is_current && st.has(flag::NOLOOP) {
            continue;
        }
        if is_current || (current.is_some() && conn.is_blocked()) {
            let generation = conn.generation;
            srv.tracking.defer(Pending {
                slot,
                generation,
                payload: Payload::Key(key.into()),
            });
        } else {
            send(srv, slot, Msg::Key(key));
        }
    }
}

/// Once tracking has no work left (nobody tracks, no key remembered, nothing pending),
/// commands stop paying for it: deletions are no longer logged on its account.
fn settle(srv: &mut Server) {
    if !srv.tracking.on() && srv.log_deletions {
        srv.update_expiry_logging();
    }
}

/// `key` was modified: by the running command when `by_command`, else by the server
/// (expiry, eviction). Noted for the broadcast under the prefixes it starts with, with the
/// client that changed it, and invalidated in the key table.
pub(crate) fn key_modified(srv: &mut Server, key: &[u8], by_command: bool) {
    let current = srv.current_client();
    if srv.tracking.has_prefixes() {
        let modifier = if by_command {
            current.and_then(|s| srv.conns.get(s)).map(|c| c.id)
        } else {
            None
        };
        srv.tracking.note_for_broadcast(key, modifier);
    }
    invalidate(srv, key, current);
    settle(srv);
}

/// The running command fires a keyspace event on `key` (it changed it): the clients that
/// cache it are told now, before the event's messages go out, as Redis's commands signal a
/// key modified before they notify. The broadcast part waits for the signal that follows
/// (`key_modified`), which finds the key table entry already gone.
pub(crate) fn key_event(srv: &mut Server, key: &[u8]) {
    let current = srv.current_client();
    invalidate(srv, key, current);
}

/// FLUSHDB or FLUSHALL ran (Redis's `trackingInvalidateKeysOnFlush`): every tracking client
/// is told all its keys are invalid (NOLOOP or not), and the key table is emptied.
pub(crate) fn flushed(srv: &mut Server) {
    let current = srv.current_client();
    for (_, slot) in srv.tracking.clients_by_id() {
        if Some(slot) == current {
            let generation = srv.conns[slot].generation;
            srv.tracking.defer(Pending {
                slot,
                generation,
                payload: Payload::All,
            });
        } else {
            send(srv, slot, Msg::All);
        }
    }
    srv.tracking.forget_all_keys();
    settle(srv);
}

/// Delivers the invalidations held during the command that just ended. The running
/// client's go to its connection's output, which `Server::process_input` appends after the
/// command's reply.
pub(crate) fn deliver_pending(srv: &mut Server) {
    let pending = srv.tracking.take_pending();
    for p in pending {
        let live = srv
            .conns
            .get(p.slot)
            .is_some_and(|c| c.generation == p.generation && !c.closed);
        if !live {
            continue;
        }
        match &p.payload {
            Payload::Key(k) => send(srv, p.slot, Msg::Key(k)),
            Payload::All => send(srv, p.slot, Msg::All),
        }
    }
    settle(srv);
}

/// Keeps the key table within `tracking-table-max-keys` (Redis's `trackingLimitUsedSlots`):
/// random keys are invalidated, as if modified, until it is, at most the round's effort.
fn enforce_limit(srv: &mut Server) {
    let max_keys = srv.config.tracking_table_max_keys;
    let Some(effort) = srv.tracking.limit_effort(max_keys) else {
        return;
    };
    for _ in 0..effort {
        let Some(key) = srv.tracking.random_key(super::sets::rand_u64) else {
            break;
        };
        invalidate(srv, &key, None);
        if !srv.tracking.over_limit(max_keys) {
            srv.tracking.limit_round_done(true);
            settle(srv);
            return;
        }
    }
    srv.tracking.limit_round_done(false);
}

/// The end of a loop turn (Redis's `beforeSleep`): the BCAST broadcast, and another round
/// of the table limit if the table is still over it.
pub fn end_of_turn(srv: &mut Server) {
    if srv.tracking.broadcast_waiting() {
        broadcast(srv);
    }
    if srv.tracking.over_limit(srv.config.tracking_table_max_keys) {
        enforce_limit(srv);
    }
}

/// Redis's `trackingBroadcastInvalidationMessages`: for each prefix with modified keys, one
/// message with all of them to each follower, without the keys it modified itself when it
/// is in NOLOOP mode (and no message when that leaves none).
fn broadcast(srv: &mut Server) {
    let mut array = Vec::new();
    let mut adhoc = Vec::new();
    for b in srv.tracking.take_broadcasts() {
        array.clear();
        array.push(b'*');
        array.extend_from_slice(itoa::Buffer::new().format(b.keys.len()).as_bytes());
        array.extend_from_slice(b"\r\n");
        for (k, _) in &b.keys {
            push_bulk(&mut array, k);
        }
        for &slot in &b.slots {
            let Some(conn) = srv.conns.get(slot) else {
                continue;
            };
            let noloop = conn
                .tracking
                .as_deref()
                .is_some_and(|t| t.has(flag::NOLOOP));
            if !noloop {
                send(srv, slot, Msg::Keys(&array));
                continue;
            }
            let me = Some(conn.id);
            let n = b.keys.iter().filter(|(_, m)| *m != me).count();
            if n == 0 {
                continue;
            }
            adhoc.clear();
            adhoc.push(b'*');
            adhoc.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            adhoc.extend_from_slice(b"\r\n");
            for (k, _) in b.keys.iter().filter(|(_, m)| *m != me) {
                push_bulk(&mut adhoc, k);
            }
            send(srv, slot, Msg::Keys(&adhoc));
        }
    }
}

/// The tracking work after a command run by the client in `slot` (only called while `Tracking::on`): its keys remembered if it is a read-only command and
/// the client's mode says so (Redis's `call()`); then, for the outermost command only (an
/// EXEC, not the commands it runs), the CLIENT CACHING flag spent, the held invalidations
/// delivered and the table kept within its limit.
#[cold]
#[inline(never)]
pub(crate) fn after_command(
    srv: &mut Server,
    slot: usize,
    c: &Command,
    argv: &Argv<'_>,
    outermost: bool,
) {
    if c.flags & flags::READONLY != 0 && c.flags & flags::PUBSUB == 0 {
        remember_keys(srv, slot, c, argv);
    }
    if !outermost {
        return;
    }
    command_done(srv, slot, Some(c));
    if srv.tracking.has_pending() {
        deliver_pending(srv);
    }
    if srv.tracking.over_limit(srv.config.tracking_table_max_keys) {
        enforce_limit(srv);
    }
}

/// Remembers the keys of `c`'s command line for the client in `slot`, if it tracks them.
/// The keys are Redis's `getKeysFromCommand`'s: the legacy (first, last, step) range, or
/// the command's key finder for movable keys.
fn remember_keys(srv: &mut Server, slot: usize, c: &Command, argv: &Argv<'_>) {
    let Some(conn) = srv.conns.get(slot) else {
        return;
    };
    if !conn.tracking.as_deref().is_some_and(|t| t.remembers()) {
        return;
    }
    let id = conn.id;
    if c.getkeys.is_none() && !c.movablekeys {
        if c.first_key <= 0 {
            return;
        }
        let argc = argv.len() as i64;
        let first = i64::from(c.first_key);
        let last = if c.last_key < 0 {
            argc + i64::from(c.last_key)
        } else {
            i64::from(c.last_key)
        };
        let step = i64::from(c.step.max(1));
        // A key position past the arguments means no keys at all, as in Redis.
        if last >= argc {
            return;
        }
        let mut i = first;
        while i <= last {
            srv.tracking.remember(id, argv.get(i as usize));
            i += step;
        }
        return;
    }
    let line: Vec<&[u8]> = argv.iter().collect();
    for k in c.find_keys(&line) {
        srv.tracking.remember(id, line[k.pos]);
    }
}

/// The end of a client's command as Redis's `resetClient` sees it: CLIENT CACHING applies to
/// the next command only, or to a whole transaction, so the flag is spent unless the client
/// is in MULTI or the command was a CLIENT subcommand (Redis compares the handler, which all
/// CLIENT subcommands share; `None` is a command that does not exist).
pub(crate) fn command_done(srv: &mut Server, slot: usize, c: Option<&Command>) {
    let Some(conn) = srv.conns.get_mut(slot) else {
        return;
    };
    if conn.in_multi() || c.is_some_and(|c| c.name.starts_with("client|")) {
        return;
    }
    if let Some(t) = conn.tracking.as_deref_mut() {
        t.flags &= !flag::CACHING;
    }
}

/// Tracking off for the connection in `slot` (CLIENT TRACKING OFF, RESET, a closed client).
pub(crate) fn disable(srv: &mut Server, slot: usize) {
    let Some(conn) = srv.conns.get_mut(slot) else {
        return;
    };
    if conn.tracking.is_none() {
        return;
    }
    let id = conn.id;
    srv.tracking.disable(&mut conn.tracking, slot, id);
    srv.update_expiry_logging();
}

// ---- Commands --------------------------------------------------------------------------

/// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP],
/// with Redis 7.0's checks in its order.
pub fn cmd_client_tracking(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut redirect: Option<Redirect> = None;
    let mut options = 0u8;
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let a = argv.get(j);
        if opt_is(a, "redirect") && more > 0 {
            j += 1;
            if redirect.is_some() {
                return ctx.err("ERR A client can only redirect to a single other client");
            }
            let Some(id) = arg_i64(argv.get(j)) else {
                return ctx.err(ERR_NOT_INT);
            };
            // The target must exist now, even though it may go away later.
            let found = ctx
                .srv
                .conns
                .iter()
                .find(|(_, c)| id > 0 && c.id == id as u64 && !c.closed)
                .map(|(s, c)| Redirect {
                    id: c.id,
                    slot: s,
                    generation: c.generation,
                });
            match found {
                Some(r) => redirect = Some(r),
                None => {
                    return ctx.err("ERR The client ID you want redirect to does not exist");
                }
            }
        } else if opt_is(a, "bcast") {
            options |= flag::BCAST;
        } else if opt_is(a, "optin") {
            options |= flag::OPTIN;
        } else if opt_is(a, "optout") {
            options |= flag::OPTOUT;
        } else if opt_is(a, "noloop") {
            options |= flag::NOLOOP;
        } else if opt_is(a, "prefix") && more > 0 {
            j += 1;
            prefixes.push(argv.get(j));
        } else {
            return ctx.err(ERR_SYNTAX);
        }
        j += 1;
    }
    let slot = ctx.slot;
    let switch = argv.get(2);
    if opt_is(switch, "off") {
        disable(ctx.srv, slot);
        ctx.reply.ok();
        return;
    }
    if !opt_is(switch, "on") {
        return ctx.err(ERR_SYNTAX);
    }
    let bcast = options & flag::BCAST != 0;
    if !bcast && !prefixes.is_empty() {
        return ctx.err("ERR PREFIX option requires BCAST mode to be enabled");
    }
    let current = ctx.srv.conns[slot].tracking.as_deref().map(|t| t.flags);
    if current.is_some_and(|f| (f & flag::BCAST != 0) != bcast) {
        return ctx.err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    let optin = options & flag::OPTIN != 0;
    let optout = options & flag::OPTOUT != 0;
    if bcast && (optin || optout) {
        return ctx.err("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if optin && optout {
        return ctx.err("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    let f = current.unwrap_or(0);
    if (optin && f & flag::OPTOUT != 0) || (optout && f & flag::OPTIN != 0) {
        return ctx.err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if bcast {
        let existing = ctx.srv.conns[slot].tracking.as_deref().map(|t| &t.prefixes);
        let checked = check_prefixes(existing, &prefixes);
        if let Err(clash) = checked {
            ctx.err(&clash.message);
            if !clash.enabled_anyway {
                return;
            }
            // Redis answers the error and then goes on (see `PrefixClash`).
        }
    }
    let srv = &mut *ctx.srv;
    let conn = &mut srv.conns[slot];
    let id = conn.id;
    srv.tracking
        .enable(&mut conn.tracking, slot, id, redirect, options, &prefixes);
    srv.update_expiry_logging();
    ctx.reply.ok();
}

/// CLIENT CACHING YES|NO: the next command (or transaction) is, or is not, remembered in
/// OPTIN or OPTOUT mode.
pub fn cmd_client_caching(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(f) = ctx.srv.conns[ctx.slot].tracking.as_deref().map(|t| t.flags) else {
        return ctx.err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    };
    let a = argv.get(2);
    if opt_is(a, "yes") {
        if f & flag::OPTIN == 0 {
            return ctx.err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
        }
    } else if opt_is(a, "no") {
        if f & flag::OPTOUT == 0 {
            return ctx.err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
        }
    } else {
        return ctx.err(ERR_SYNTAX);
    }
    if let Some(t) = ctx.srv.conns[ctx.slot].tracking.as_deref_mut() {
        t.flags |= flag::CACHING;
    }
    ctx.reply.ok();
}

/// CLIENT GETREDIR: the redirect target's id, 0 without one, -1 when tracking is off.
pub fn cmd_client_getredir(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let id = ctx.srv.conns[ctx.slot]
        .tracking
        .as_deref()
        .map_or(-1, |t| t.redirect_id() as i64);
    ctx.reply.int(id);
}

/// CLIENT TRACKINGINFO: a map of the flags (a set), the redirect and the prefixes.
pub fn cmd_client_trackinginfo(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let st = ctx.srv.conns[ctx.slot].tracking.as_deref();
    let mut names: Vec<&[u8]> = vec![if st.is_some() { b"on" } else { b"off" }];
    let f = st.map_or(0, |t| t.flags);
    if f & flag::BCAST != 0 {
        names.push(b"bcast");
    }
    if f & flag::OPTIN != 0 {
        names.push(b"optin");
        if f & flag::CACHING != 0 {
            names.push(b"caching-yes");
        }
    }
    if f & flag::OPTOUT != 0 {
        names.push(b"optout");
        if f & flag::CACHING != 0 {
            names.push(b"caching-no");
        }
    }
    if f & flag::NOLOOP != 0 {
        names.push(b"noloop");
    }
    if f & flag::BROKEN_REDIRECT != 0 {
        names.push(b"broken_redirect");
    }
    let redirect = st.map_or(-1, |t| t.redirect_id() as i64);
    let prefixes: Vec<Box<[u8]>> = st
        .map(|t| t.prefixes.iter().cloned().collect())
        .unwrap_or_default();
    let r = &mut ctx.reply;
    r.map(3);
    r.bulk(b"flags");
    r.set(names.len());
    for n in names {
        r.bulk(n);
    }
    r.bulk(b"redirect");
    r.int(redirect);
    r.bulk(b"prefixes");
    r.array(prefixes.len());
    for p in &prefixes {
        r.bulk(p);
    }
}
