//! Blocking pops: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP (Redis 7.0's `t_list.c`) and
//! BZPOPMIN BZPOPMAX BZMPOP (`t_zset.c`).
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

use super::args::{parse_end, parse_mpop};
use super::Ctx;
use crate::blocking::{block, parse_timeout, timeout_null_array, Request};
use crate::cmd::docs::{arg, Arg, MULTIPLE, OPTIONAL};
use crate::cmd::lists::{op_move, op_mpop, op_pop};
use crate::cmd::zsets;
use crate::keyspace::value::ValueType;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::types::list::End;

fn fill(ctx: &Ctx<'_>) -> i32 {
    ctx.srv.config.list_max_listpack_size
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
        serve: serve_pop,
        on_timeout: timeout_null_array,
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
    ctx.dirty(popped.len() as u64);
    true
}

/// BLMOVE/BRPOPLPUSH: moves one element from `key` to the waiter's destination.
fn serve_move(ctx: &mut Ctx<'_>, key: &[u8], req: &Request) -> bool {
    let Some(dst) = req.target.as_deref() else {
        return false;
    };
    let (now_ms, fill) = (ctx.now_ms, fill(ctx));
    match op_move(ctx.db(), key, dst, req.from, req.to, fill, now_ms) {
        Ok(Some(v)) => {
            ctx.reply.bulk(&v);
            ctx.dirty(1);
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
                ctx.dirty(1);
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
    let (now_ms, fill) = (ctx.now_ms, fill(ctx));
    let (src, dst) = (argv.get(1), argv.get(2));
    match op_move(ctx.db(), src, dst, from, to, fill, now_ms) {
        Ok(Some(v)) => {
            ctx.reply.bulk(&v);
            ctx.dirty(1);
        }
        Err(e) => ctx.err(e.message()),
        Ok(None) => {
            let mut req = list_request(from, to, None, deadline_ms);
            req.serve = serve_move;
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
            ctx.dirty(elems.len() as u64);
        }
        Ok(None) => {
            let req = list_request(end, end, Some(count), deadline_ms);
            block(ctx, keys, req);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sorted sets: BZPOPMIN BZPOPMAX BZMPOP

/// Writes a popped batch: BZPOPMIN/BZPOPMAX's flat [key, member, score] (count None), or
/// BZMPOP's [key, [[member, score], ...]].
fn reply_zpop(r: &mut Reply<'_>, key: &[u8], items: &[(Box<[u8]>, f64)], count: Option<usize>) {
    r.array(if count.is_some() { 2 } else { 3 });
    r.bulk(key);
    match count {
        None => {
            if let Some((m, s)) = items.first() {
                r.bulk(m);
                r.double(*s);
            }
        }
        Some(_) => {
            r.array(items.len());
            for (m, s) in items {
                r.array(2);
                r.bulk(m);
                r.double(*s);
            }
        }
    }
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
    reply_zpop(&mut ctx.reply, key, &items, req.count);
    ctx.dirty(items.len() as u64);
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
        match zsets::op_pop(ctx.db(), key, min, count.unwrap_or(1), now_ms) {
            Err(e) => return ctx.err(e.message()),
            Ok(Some(items)) if !items.is_empty() => {
                reply_zpop(&mut ctx.reply, key, &items, count);
                ctx.dirty(items.len() as u64);
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
        serve: serve_zpop,
        on_timeout: timeout_null_array,
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
// COMMAND DOCS arguments (Redis 7.0.15's COMMAND DOCS), read by docs::args_of.

const LEFT_RIGHT: [Arg; 2] = [
    arg("left", "pure-token", Some("LEFT"), 0, &[]),
    arg("right", "pure-token", Some("RIGHT"), 0, &[]),
];

const MIN_MAX: [Arg; 2] = [
    arg("min", "pure-token", Some("MIN"), 0, &[]),
    arg("max", "pure-token", Some("MAX"), 0, &[]),
];

pub static ARGS: &[(&str, &[Arg])] = &[
    (
        "bzmpop",
        &[
            arg("timeout", "double", None, 0, &[]),
            arg("numkeys", "integer", None, 0, &[]),
            arg("key", "key", None, MULTIPLE, &[]),
            arg("where", "oneof", None, 0, &MIN_MAX),
            arg("count", "integer", Some("COUNT"), OPTIONAL, &[]),
        ],
    ),
    (
        "bzpopmax",
        &[
            arg("key", "key", None, MULTIPLE, &[]),
            arg("timeout", "double", None, 0, &[]),
        ],
    ),
    (
        "bzpopmin",
        &[
            arg("key", "key", None, MULTIPLE, &[]),
            arg("timeout", "double", None, 0, &[]),
        ],
    ),
    (
        "blmove",
        &[
            arg("source", "key", None, 0, &[]),
            arg("destination", "key", None, 0, &[]),
            arg("wherefrom", "oneof", None, 0, &LEFT_RIGHT),
            arg("whereto", "oneof", None, 0, &LEFT_RIGHT),
            arg("timeout", "double", None, 0, &[]),
        ],
    ),
    (
        "blmpop",
        &[
            arg("timeout", "double", None, 0, &[]),
            arg("numkeys", "integer", None, 0, &[]),
            arg("key", "key", None, MULTIPLE, &[]),
            arg("where", "oneof", None, 0, &LEFT_RIGHT),
            arg("count", "integer", Some("COUNT"), OPTIONAL, &[]),
        ],
    ),
    (
        "blpop",
        &[
            arg("key", "key", None, MULTIPLE, &[]),
            arg("timeout", "double", None, 0, &[]),
        ],
    ),
    (
        "brpop",
        &[
            arg("key", "key", None, MULTIPLE, &[]),
            arg("timeout", "double", None, 0, &[]),
        ],
    ),
    (
        "brpoplpush",
        &[
            arg("source", "key", None, 0, &[]),
            arg("destination", "key", None, 0, &[]),
            arg("timeout", "double", None, 0, &[]),
        ],
    ),
];
