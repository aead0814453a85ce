//! Blocking pops: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP (Redis 7.0's `t_list.c`) and
//! BZPOPMIN BZPOPMAX BZMPOP (`t_zset.c`), and the blocking of XREAD / XREADGROUP (their
//! serve function is `streams::serve_blocked`; a waiter in XREADGROUP is also served, with
//! an error, when its stream is deleted or replaced).
//!
//! Each handler parses its arguments in Redis's order, then tries the non-blocking form on
//! the list ops of `lists.rs` (`op_pop`, `op_mpop`, `op_move`): if a key has data the reply
//! is exactly that command's. Otherwise the client blocks through [`crate::blocking::block`]
//! with a serve function from this file, which the framework calls when a waited key becomes
//! a list. Serve functions run in the blocked client's context (its db, its reply).
//!
//! Redis 7.0 facts kept here (checked against redis-server 7.0.15):
//! - Every timeout, BLMOVE and BRPOPLPUSH included, answers a null array (`*-1`, RESP3 `_`).
//! - BLPOP/BRPOP and BLMPOP check keys in argument order: a key of another type before the
//!   first non-empty list is WRONGTYPE; keys after it are not looked at.
//! - BLMOVE/BRPOPLPUSH block when the source is missing without looking at the destination;
//!   if the destination is not a list when they are served, the waiter gets WRONGTYPE and
//!   the element stays where it was.
//! - BLMPOP parses numkeys, the direction and COUNT before the timeout; so does BZMPOP.
//! - BZPOPMIN/BZPOPMAX answer a flat [key, member, score] (score a double in RESP3); BZMPOP
//!   answers ZMPOP's [key, [[member, score], ...]].
//!
//! Blocking, serving and timing out (the registry itself is `crate::blocking`):
//! - [`block`] records the client with a `Request` (keys, wanted type, how to serve it,
//!   deadline) and sets its mode to `Blocked`: no command of it runs (its input stays
//!   buffered) until it is served, times out, is unblocked by CLIENT UNBLOCK, or goes away.
//!   Inside EXEC nothing blocks (Redis's CLIENT_DENY_BLOCKING): BLMOVE and BRPOPLPUSH answer
//!   a null bulk at once, the others their timeout reply.
//! - Keys become ready when a command names them modified (`Server::signal_modified`, from
//!   `cmd::call`, only while some client is blocked or watching): [`signal_if_exists`] queues
//!   a key that exists and has waiters; SWAPDB re-checks every waited key ([`signal_all`]).
//!   Blocked clients only wait on keys that did not hold data of their type when they
//!   blocked, and every ready key is served before the next command runs, so "exists now"
//!   means "was created since" (a key of another type is signalled too, and serves nobody).
//! - [`serve_ready`] runs when the outermost execution unit ends (never in the middle of an
//!   EXEC): ready keys in order, each key's waiters first-come-first-served while it holds
//!   the type they want. A serve is an execution unit of its own: the serve function writes
//!   the waiter's reply, states its effects (a served BLPOP is LPOP, BLMOVE is LMOVE) and the
//!   keys it modified (so a chain of BLMOVEs proceeds); the served client's command is
//!   counted and its buffered input runs next. Each serve unblocks one client and signals at
//!   most two keys, so one call does at most (ready keys + 3 × blocked clients) steps.
//! - [`expire_due`] runs once per loop turn and answers every client past its deadline.
//! - Keyspace events are those of the non-blocking forms (`lists::notify_popped`,
//!   `lists::reply_moved`, `zsets::reply_popped`), fired when the command pops at once or,
//!   for a served client, by its serve function in its database, after the events of the
//!   command that made the key ready.

use super::args::{parse_end, parse_mpop};
use super::Ctx;
use crate::blocking::{Request, Serve, Unblock};
use crate::cmd::lists::{notify_popped, op_move, op_mpop, op_pop, propagate_pop, reply_moved};
use crate::cmd::zsets;
use crate::keyspace::value::ValueType;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::server::Server;
use crate::types::list::{End, Shape};

/// The shape of a list a push creates now (`list-max-listpack-size`, `list-compress-depth`).
fn shape(ctx: &Ctx<'_>) -> Shape {
    Shape {
        fill: ctx.srv.config.list_max_listpack_size,
        compress_depth: ctx.srv.config.list_compress_depth,
    }
}

fn list_request(from: End, to: End, count: Option<usize>, deadline_ms: u64) -> Request {
    Request {
        keys: Vec::new(),
        wants: ValueType::List,
        from,
        to,
        count,
        target: None,
        deadline_ms,
        serve: Serve::Pop,
        stream: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Serve functions

/// BLPOP/BRPOP (count None) and BLMPOP (count Some).
fn serve_pop(ctx: &mut Ctx<'_>, key: &[u8], req: &Request) -> bool {
    let now_ms = ctx.now_ms;
    let popped = match op_pop(ctx.db(), key, req.from, req.count.unwrap_or(1), now_ms) {
        Ok(Some(elems)) if !elems.is_empty() => elems,
        // Not a non-empty list: the framework checked, so this is not reached.
        _ => return false,
    };
    let r = &mut ctx.reply;
    r.array(2);
    r.bulk(key);
    if req.count.is_some() {
        r.array(popped.len());
        for e in &popped {
            r.bulk(e);
        }
    } else {
        r.bulk(&popped[0]);
    }
    notify_popped(ctx, key, req.from);
    ctx.dirty(popped.len() as u64);
    propagate_pop(ctx, key, req.from, req.count.map(|_| popped.len()));
    true
}

/// BLMOVE/BRPOPLPUSH: moves one element from `key` to the waiter's destination.
fn serve_move(ctx: &mut Ctx<'_>, key: &[u8], req: &Request) -> bool {
    let Some(dst) = req.target.as_deref() else {
        return false;
    };
    let (now_ms, shape) = (ctx.now_ms, shape(ctx));
    let mark = ctx.new_mark();
    match op_move(ctx.db(), key, dst, req.from, req.to, shape, now_ms) {
        Ok(Some(v)) => {
            reply_moved(ctx, key, dst, (req.from, req.to), mark, &v);
            ctx.dirty(1);
            propagate_move(ctx, key, dst, req.from, req.to);
            true
        }
        Ok(None) => false,
        // The destination holds another type: the waiter gets the error and is unblocked.
        Err(e) => {
            ctx.reply.error(e.message());
            true
        }
    }
}

/// States a move as LMOVE (the served or immediate BLMOVE and BRPOPLPUSH), naming both keys
/// as modified (a chain of BLMOVEs goes on from the destination).
fn propagate_move(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) {
    let word = |e: End| -> &'static [u8] {
        match e {
            End::Left => b"LEFT",
            End::Right => b"RIGHT",
        }
    };
    ctx.propagate(&[b"LMOVE", src, dst, word(from), word(to)]);
    ctx.modified(src);
    ctx.modified(dst);
}

// ---------------------------------------------------------------------------------------------
// Commands

/// BLPOP/BRPOP key [key ...] timeout.
fn bpop_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, end: End) {
    let last = argv.len() - 1;
    let deadline_ms = match parse_timeout(argv.get(last), ctx.now_ms) {
        Ok(d) => d,
        Err(msg) => return ctx.err(msg),
    };
    let now_ms = ctx.now_ms;
    for j in 1..last {
        let key = argv.get(j);
        match op_pop(ctx.db(), key, end, 1, now_ms) {
            Err(e) => return ctx.err(e.message()),
            Ok(Some(elems)) if !elems.is_empty() => {
                ctx.reply.array(2);
                ctx.reply.bulk(key);
                ctx.reply.bulk(&elems[0]);
                notify_popped(ctx, key, end);
                ctx.dirty(1);
                propagate_pop(ctx, key, end, None);
                return;
            }
            Ok(_) => {}
        }
    }
    let req = list_request(end, end, None, deadline_ms);
    block(ctx, (1..last).map(|j| argv.get(j)), req);
}

pub fn cmd_blpop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    bpop_generic(ctx, argv, End::Left);
}

pub fn cmd_brpop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    bpop_generic(ctx, argv, End::Right);
}

/// BLMOVE and BRPOPLPUSH once their arguments are parsed.
fn bmove_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, from: End, to: End, deadline_ms: u64) {
    let (now_ms, shape) = (ctx.now_ms, shape(ctx));
    let (src, dst) = (argv.get(1), argv.get(2));
    // Redis looks a list source up here and again in the move it runs: two touches.
    if ctx.db().peek(src, now_ms).map(|v| v.value_type()) == Some(ValueType::List) {
        ctx.db().get(src, now_ms);
    }
    let mark = ctx.new_mark();
    match op_move(ctx.db(), src, dst, from, to, shape, now_ms) {
        Ok(Some(v)) => {
            reply_moved(ctx, src, dst, (from, to), mark, &v);
            ctx.dirty(1);
            propagate_move(ctx, src, dst, from, to);
        }
        Err(e) => ctx.err(e.message()),
        Ok(None) => {
            let mut req = list_request(from, to, None, deadline_ms);
            req.serve = Serve::Move;
            req.target = Some(dst.into());
            block(ctx, [src], req);
        }
    }
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
pub fn cmd_blmove(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (Some(from), Some(to)) = (parse_end(argv.get(3)), parse_end(argv.get(4))) else {
        return ctx.syntax_error();
    };
    match parse_timeout(argv.get(5), ctx.now_ms) {
        Ok(d) => bmove_generic(ctx, argv, from, to, d),
        Err(msg) => ctx.err(msg),
    }
}

/// BRPOPLPUSH source destination timeout.
pub fn cmd_brpoplpush(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    match parse_timeout(argv.get(3), ctx.now_ms) {
        Ok(d) => bmove_generic(ctx, argv, End::Right, End::Left, d),
        Err(msg) => ctx.err(msg),
    }
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count], parsed as Redis's
/// `lmpopGenericCommand`: numkeys, the direction and COUNT first, then the timeout.
pub fn cmd_blmpop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (where_idx, left, count) = match parse_mpop(argv, 2, (b"LEFT", b"RIGHT")) {
        Ok(p) => p,
        Err(msg) => return ctx.err(msg),
    };
    let end = if left { End::Left } else { End::Right };
    let deadline_ms = match parse_timeout(argv.get(1), ctx.now_ms) {
        Ok(d) => d,
        Err(msg) => return ctx.err(msg),
    };
    let keys: Vec<&[u8]> = (3..where_idx).map(|i| argv.get(i)).collect();
    let now_ms = ctx.now_ms;
    match op_mpop(ctx.db(), &keys, end, count, now_ms) {
        Err(e) => ctx.err(e.message()),
        Ok(Some((k, elems))) => {
            let r = &mut ctx.reply;
            r.array(2);
            r.bulk(keys[k]);
            r.array(elems.len());
            for e in &elems {
                r.bulk(e);
            }
            notify_popped(ctx, keys[k], end);
            ctx.dirty(elems.len() as u64);
            propagate_pop(ctx, keys[k], end, Some(elems.len()));
        }
        Ok(None) => {
            let req = list_request(end, end, Some(count), deadline_ms);
            block(ctx, keys, req);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sorted sets: BZPOPMIN BZPOPMAX BZMPOP

/// Writes a popped batch with its events: BZPOPMIN/BZPOPMAX's flat [key, member, score]
/// (count None), or BZMPOP's [key, [[member, score], ...]].
fn reply_zpop(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    min: bool,
    items: &[(Box<[u8]>, f64)],
    count: Option<usize>,
) {
    let layout = match count {
        None => zsets::PopReply::KeyedFlat,
        Some(_) => zsets::PopReply::Keyed,
    };
    zsets::reply_popped(ctx, key, min, items, layout);
}

/// Serves a BZPOPMIN/BZPOPMAX (count None) or BZMPOP waiter from the zset at `key`.
fn serve_zpop(ctx: &mut Ctx<'_>, key: &[u8], req: &Request) -> bool {
    let now_ms = ctx.now_ms;
    let min = req.from == End::Left;
    let items = match zsets::op_pop(ctx.db(), key, min, req.count.unwrap_or(1), now_ms) {
        Ok(Some(items)) if !items.is_empty() => items,
        // Not a non-empty zset: the framework checked, so this is not reached.
        _ => return false,
    };
    reply_zpop(ctx, key, min, &items, req.count);
    ctx.dirty(items.len() as u64);
    zsets::propagate_pop(ctx, key, min, req.count.map(|_| items.len()));
    true
}

/// Tries `keys` in order: pops from the first non-empty zset (WRONGTYPE for a key of another
/// type met before it), or blocks on all of them.
fn bzpop_keys(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    min: bool,
    count: Option<usize>,
    deadline_ms: u64,
) {
    let now_ms = ctx.now_ms;
    for key in keys {
        // Redis looks each key up here and, for a non-empty zset, again in the pop it runs:
        // a key served at once is touched twice, as there.
        match ctx.db().get(key, now_ms).map(|v| v.value_type()) {
            None => continue,
            Some(ValueType::ZSet) => {}
            Some(_) => return ctx.err(crate::cmd::error::OpError::WrongType.message()),
        }
        match zsets::op_pop(ctx.db(), key, min, count.unwrap_or(1), now_ms) {
            Err(e) => return ctx.err(e.message()),
            Ok(Some(items)) if !items.is_empty() => {
                reply_zpop(ctx, key, min, &items, count);
                ctx.dirty(items.len() as u64);
                zsets::propagate_pop(ctx, key, min, count.map(|_| items.len()));
                return;
            }
            Ok(_) => {}
        }
    }
    let end = if min { End::Left } else { End::Right };
    let req = Request {
        keys: Vec::new(),
        wants: ValueType::ZSet,
        from: end,
        to: end,
        count,
        target: None,
        deadline_ms,
        serve: Serve::ZPop,
        stream: None,
    };
    block(ctx, keys.iter().copied(), req);
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout.
fn bzpop_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, min: bool) {
    let last = argv.len() - 1;
    let deadline_ms = match parse_timeout(argv.get(last), ctx.now_ms) {
        Ok(d) => d,
        Err(msg) => return ctx.err(msg),
    };
    let keys: Vec<&[u8]> = (1..last).map(|j| argv.get(j)).collect();
    bzpop_keys(ctx, &keys, min, None, deadline_ms);
}

pub fn cmd_bzpopmin(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    bzpop_generic(ctx, argv, true);
}

pub fn cmd_bzpopmax(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    bzpop_generic(ctx, argv, false);
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: numkeys, the direction and
/// COUNT are checked before the timeout, as Redis's `zmpopGenericCommand`.
pub fn cmd_bzmpop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (where_idx, min, count) = match parse_mpop(argv, 2, (b"MIN", b"MAX")) {
        Ok(p) => p,
        Err(msg) => return ctx.err(msg),
    };
    let deadline_ms = match parse_timeout(argv.get(1), ctx.now_ms) {
        Ok(d) => d,
        Err(msg) => return ctx.err(msg),
    };
    let keys: Vec<&[u8]> = (3..where_idx).map(|i| argv.get(i)).collect();
    bzpop_keys(ctx, &keys, min, Some(count), deadline_ms);
}

// ---------------------------------------------------------------------------------------------
// Timeout argument

/// Parses a blocking command's timeout in seconds as Redis 7.0.15 does
/// (`getTimeoutFromObjectOrReply` with UNIT_SECONDS): a long double, times 1000, rounded up
/// to whole milliseconds, converted to a 64-bit integer as x86 does (out of range or infinite
/// becomes i64::MIN, hence "negative"). Returns the deadline in unix ms, 0 for "forever".
///
/// Computed in f64 rather than long double: the milliseconds can differ by one from Redis's
/// for some decimal inputs, which no client can observe. A value too small for f64 but not
/// for long double (1e-400) still rounds up to 1 ms when positive, as in Redis.
pub fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<u64, &'static str> {
    const NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
    const NEGATIVE: &str = "ERR timeout is negative";
    let v = crate::util::num::parse_f64(arg).ok_or(NOT_FLOAT)?;
    let ms_f = if v == 0.0 && mantissa_nonzero(arg) {
        if arg.first() == Some(&b'-') {
            0.0
        } else {
            1.0
        }
    } else {
        (v * 1000.0).ceil()
    };
    // x86's cvttsd2si: anything outside i64 (or NaN) becomes i64::MIN. 2^63 is exact in f64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let ms: i64 = if (-TWO_63..TWO_63).contains(&ms_f) {
        ms_f as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(NEGATIVE);
    }
    if ms == 0 {
        return Ok(0);
    }
    // Redis adds in signed arithmetic and then orders deadlines as unsigned; a sum past
    // i64::MAX therefore never fires. As u64 the sum cannot wrap (ms <= i64::MAX).
    Ok(now_ms.saturating_add(ms as u64))
}

/// True when the digits of a float argument (before its exponent) are not all zero.
fn mantissa_nonzero(arg: &[u8]) -> bool {
    let body = match arg.first() {
        Some(b'+' | b'-') => &arg[1..],
        _ => arg,
    };
    if body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        body[2..]
            .iter()
            .take_while(|c| !matches!(c, b'p' | b'P'))
            .any(|c| c.is_ascii_hexdigit() && *c != b'0')
    } else {
        body.iter()
            .take_while(|c| !matches!(c, b'e' | b'E'))
            .any(|c| (b'1'..=b'9').contains(c))
    }
}

// ---------------------------------------------------------------------------------------------
// Blocking, serving, unblocking

/// Blocks the calling client on `keys` (duplicates are waited on once). The handler writes
/// no reply: the serve function, the timeout or CLIENT UNBLOCK will.
pub fn block<'k>(ctx: &mut Ctx<'_>, keys: impl IntoIterator<Item = &'k [u8]>, mut req: Request) {
    let mut ks: Vec<Box<[u8]>> = keys.into_iter().map(Box::from).collect();
    ks.sort_unstable();
    ks.dedup();
    req.keys = ks;
    if ctx.srv.frame.in_exec() {
        // Inside a transaction nothing blocks (Redis's CLIENT_DENY_BLOCKING): the moves
        // answer a null bulk, the pops their timeout reply.
        if req.target.is_some() {
            ctx.reply.null();
        } else {
            timeout_reply(&mut ctx.reply);
        }
        return;
    }
    let slot = ctx.slot;
    let srv = &mut *ctx.srv;
    let conn = &mut srv.conns[slot];
    debug_assert!(!conn.is_blocked(), "a blocked client ran a command");
    conn.mode = crate::net::conn::Mode::Blocked;
    let (generation, db) = (conn.generation, conn.db);
    let cmd_idx = srv.current_cmd;
    srv.blocking.add(slot, generation, db, cmd_idx, req);
}

/// Signals `key` of `db` if it exists and has waiters.
pub fn signal_if_exists(srv: &mut Server, db: usize, key: &[u8]) {
    if !srv.blocking.has_waiters(db, key) {
        return;
    }
    let now_ms = srv.now_ms;
    // XREADGROUP waiters hear of their stream's deletion too.
    if srv.dbs[db].peek(key, now_ms).is_some() || srv.blocking.has_group_readers(db, key) {
        srv.blocking.signal(db, key);
    }
}

/// Signals every waited key that exists, in every database (Redis's
/// `scanDatabaseForReadyKeys`). Allocates only when it finds a ready key.
pub fn signal_all(srv: &mut Server) {
    let now_ms = srv.now_ms;
    let Server { blocking, dbs, .. } = srv;
    let mut found: Vec<(usize, Box<[u8]>)> = Vec::new();
    for (db, k) in blocking.waited_keys() {
        if dbs[db].peek(k, now_ms).is_some() {
            found.push((db, k.into()));
        }
    }
    for (db, k) in found {
        blocking.signal(db, &k);
    }
}

/// Serves the ready keys in order, including keys made ready while serving.
pub fn serve_ready(srv: &mut Server) {
    // Each step consumes a ready key; new ones come only from serves, each of which unblocks
    // a client, so this bound is never reached while the invariants hold.
    // A serve signals at most two keys (the one it popped, BLMOVE's destination).
    let steps_max = srv.blocking.ready_len() + 3 * srv.blocking.blocked_count() + 1;
    for _ in 0..steps_max {
        let Some((db, key)) = srv.blocking.pop_ready() else {
            break;
        };
        serve_key(srv, db, &key);
    }
    debug_assert!(
        srv.blocking.ready_len() == 0,
        "serve_ready left keys behind"
    );
    #[cfg(debug_assertions)]
    srv.blocking.check_invariants(&srv.conns);
}

/// Serves the waiters of one key in FIFO order while it holds a value of the type they want.
fn serve_key(srv: &mut Server, db: usize, key: &[u8]) {
    let mut i = 0;
    loop {
        let Some(w) = srv.blocking.waiter(db, key, i) else {
            return;
        };
        let now_ms = srv.now_ms;
        let vt = srv.dbs[db].peek(key, now_ms).map(|v| v.value_type());
        let wants = srv.blocking.blocked(w.slot).map(|b| b.req.wants);
        // An XREADGROUP waiter whose stream went away is answered with an error.
        let group_reader = srv
            .blocking
            .blocked(w.slot)
            .is_some_and(|b| b.req.stream.as_ref().is_some_and(|s| s.group.is_some()));
        if vt.is_none() && !group_reader {
            return;
        }
        if wants != vt && !group_reader {
            i += 1;
            continue;
        }
        if !serve_one(srv, w.slot, key) {
            i += 1;
        }
        // A served waiter left the queue, so index i is now the next one.
    }
}

/// Runs one waiter's serve function against `key`. Returns true if it was served (and is
/// now unblocked).
fn serve_one(srv: &mut Server, slot: usize, key: &[u8]) -> bool {
    let Some(b) = srv.blocking.take(slot) else {
        return false;
    };
    let resp3 = srv.conns[slot].resp3;
    let mut out = std::mem::take(&mut srv.conns[slot].out);
    let start = out.len();
    let now_ms = srv.now_ms;
    // The serve is an execution unit of its own: the serve function states its effects
    // (a served BLPOP as LPOP, …) and the keys it modified, as a command does.
    let outer = std::mem::take(&mut srv.frame);
    srv.journal.begin_unit();
    let served = {
        let mut ctx = Ctx {
            srv: &mut *srv,
            slot,
            now_ms,
            reply: Reply::new(&mut out, resp3),
        };
        match b.req.serve {
            Serve::Pop => serve_pop(&mut ctx, key, &b.req),
            Serve::Move => serve_move(&mut ctx, key, &b.req),
            Serve::ZPop => serve_zpop(&mut ctx, key, &b.req),
            Serve::XRead => super::streams::serve_blocked(&mut ctx, key, &b.req),
        }
    };
    srv.frame = outer;
    srv.journal.end_unit();
    let failed = out.get(start) == Some(&b'-');
    // The error's first bytes, for INFO errorstats (`Stats::count_error`).
    let error_head: Option<Vec<u8>> =
        failed.then(|| out[start..out.len().min(start + 32)].to_vec());
    srv.conns[slot].out = out;
    if srv.journal.idle() && srv.journal.has_published() {
        srv.publish_effects(Some(slot));
    }
    if !served {
        srv.blocking.put_back(slot, b);
        return false;
    }
    srv.blocking.detach(slot, &b);
    count_call(srv, b.cmd_idx, error_head.as_deref(), b.run_us);
    super::slowlog::completed(srv, slot, b.slow);
    srv.conns[slot].mode = crate::net::conn::Mode::Normal;
    srv.resume_client(slot);
    true
}

/// The blocked command's stats, counted when it completes (as Redis's
/// `updateStatsOnUnblock`).
fn count_call(srv: &mut Server, cmd_idx: usize, error: Option<&[u8]>, run_us: u64) {
    let failed = error.is_some();
    // Its latency is the time it ran before blocking (the wait is not run time).
    if srv.config.latency_tracking {
        super::call::record_latency(srv, cmd_idx, run_us);
    }
    if let Some(st) = srv.cmd_stats.get_mut(cmd_idx) {
        st.calls += 1;
        if failed {
            st.failed_calls += 1;
        }
    }
    if let Some(e) = error {
        srv.stats.count_error(e);
    }
    srv.stats.commands_processed += 1;
}

/// Unblocks `slot` without serving it: a timeout reply, the CLIENT UNBLOCK error, or
/// nothing for a closing connection. Returns false if it was not blocked.
pub fn unblock(srv: &mut Server, slot: usize, why: Unblock) -> bool {
    let Some(b) = srv.blocking.remove(slot) else {
        return false;
    };
    let Some(conn) = srv.conns.get_mut(slot) else {
        return true;
    };
    conn.mode = crate::net::conn::Mode::Normal;
    if why == Unblock::Disconnect {
        return true;
    }
    let mut reply = Reply::new(&mut conn.out, conn.resp3);
    if why == Unblock::ClientError {
        reply.error(ERR_UNBLOCKED);
        srv.stats.count_error(b"-UNBLOCKED ");
    } else {
        timeout_reply(&mut reply);
    }
    // Redis 7.0 puts a command CLIENT UNBLOCK ended, in either mode, in its latency
    // histogram, and not one that timed out.
    if why != Unblock::Timeout && srv.config.latency_tracking {
        super::call::record_latency(srv, b.cmd_idx, b.run_us);
    }
    // Redis counts CLIENT UNBLOCK, in either mode, as a failed call of the blocked command.
    if let Some(st) = srv.cmd_stats.get_mut(b.cmd_idx) {
        st.calls += 1;
        if why != Unblock::Timeout {
            st.failed_calls += 1;
        }
    }
    srv.stats.commands_processed += 1;
    // Redis's slow log does not take a command that timed out or was unblocked.
    srv.resume_client(slot);
    #[cfg(debug_assertions)]
    srv.blocking.check_invariants(&srv.conns);
    true
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: true if a blocked client with that id was unblocked.
pub fn unblock_by_id(srv: &mut Server, id: u64, error: bool) -> bool {
    let slot = srv
        .blocking
        .slots()
        .find(|&s| srv.conns.get(s).is_some_and(|c| c.id == id && !c.closed));
    match slot {
        Some(s) => unblock(
            srv,
            s,
            if error {
                Unblock::ClientError
            } else {
                Unblock::ClientTimeout
            },
        ),
        // WAIT's clients are kept by the replication code.
        None => crate::repl::primary::unblock_waiter(srv, id, error),
    }
}

/// Times out every client whose deadline is at or before `srv.now_ms`. Returns how many.
pub fn expire_due(srv: &mut Server) -> usize {
    let now_ms = srv.now_ms;
    let mut n = 0;
    // Each step removes one deadline entry, so this ends within the table's size.
    while let Some((deadline, slot)) = srv.blocking.first_deadline() {
        if deadline > now_ms {
            break;
        }
        if !unblock(srv, slot, Unblock::Timeout) {
            // Not reachable while the invariants hold; drop the orphan entry.
            srv.blocking.drop_first_deadline();
        }
        n += 1;
    }
    #[cfg(debug_assertions)]
    if n > 0 {
        srv.blocking.check_invariants(&srv.conns);
    }
    n
}

/// Redis 7.0 answers every list (and zset) timeout with a null array (`*-1`, RESP3 `_`),
/// BLMOVE and BRPOPLPUSH included.
fn timeout_reply(r: &mut Reply<'_>) {
    r.null_array();
}

/// The reply CLIENT UNBLOCK ... ERROR sends to the blocked client.
pub const ERR_UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_parsing_matches_redis() {
        let now = 1_000_000;
        assert_eq!(parse_timeout(b"0", now), Ok(0));
        assert_eq!(parse_timeout(b"-0", now), Ok(0));
        assert_eq!(parse_timeout(b"-0.0001", now), Ok(0));
        assert_eq!(parse_timeout(b"0.0001", now), Ok(now + 1));
        assert_eq!(parse_timeout(b"1e-400", now), Ok(now + 1));
        assert_eq!(parse_timeout(b"-1e-400", now), Ok(0));
        assert_eq!(parse_timeout(b"0.5", now), Ok(now + 500));
        assert_eq!(parse_timeout(b"0x10", now), Ok(now + 16_000));
        assert_eq!(parse_timeout(b"1.0005", now), Ok(now + 1001));
        for neg in [&b"-1"[..], b"inf", b"-inf", b"1e300", b"1e400"] {
            assert_eq!(
                parse_timeout(neg, now),
                Err("ERR timeout is negative"),
                "{neg:?}"
            );
        }
        for bad in [&b"x"[..], b"", b" 1", b"1 ", b"nan", b"1e3x"] {
            assert_eq!(
                parse_timeout(bad, now),
                Err("ERR timeout is not a float or out of range"),
                "{bad:?}"
            );
        }
        // Past i64::MAX ms after now: accepted, never fires.
        assert!(parse_timeout(b"9223372036854774", now).unwrap() > i64::MAX as u64);
    }
}
