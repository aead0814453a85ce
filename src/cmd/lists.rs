//! List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM
//! LTRIM LPOS LMOVE RPOPLPUSH LMPOP, as Redis 7.0's `t_list.c` does them. The blocking
//! variants (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) are in `cmd::blocking`, built on the
//! same ops.
//!
//! Each command is split in two: `op_*` works on a `Db` and returns a value or an
//! [`OpError`], knowing nothing of RESP; `cmd_*` parses the arguments, calls the op and writes
//! the one reply. `OpError`s become RESP errors only in [`OpError::message`].
//!
//! The blocking variants use [`op_pop`] (one end, up to `count` elements, deleting the key when
//! it empties), [`op_push`] and [`op_move`] as their whole keyspace side (BLPOP/BRPOP, BLMOVE
//! and BRPOPLPUSH), and [`op_mpop`] for BLMPOP. Every op that returns elements has already removed
//! them. After any op that adds elements to a key (`op_push`, `op_move` to its destination),
//! that key may have become ready for clients blocked on it; the ops do not track waiters.
//!
//! Invariants kept here, all taken from Redis:
//! - A list that becomes empty is deleted at once; no empty list is ever stored.
//! - Only the read commands (LLEN, LINDEX, LRANGE, LPOS) count keyspace hits and misses
//!   (Redis's `lookupKeyRead`); a key of another type counts as a hit. Write lookups count
//!   nothing.
//! - Argument errors are reported in Redis's order: LRANGE, LTRIM, LREM parse their integers
//!   before looking the key up; LINDEX and LSET look the key up (and check its type) first.
//! - A new list takes its node size from `list-max-listpack-size` at creation.
//! - Keyspace events, in `t_list.c`'s places: a push fires `new` (a new list) before its
//!   reply and `lpush`/`rpush` after it; a pop fires `lpop`/`rpop`, then `del` if the list
//!   emptied, after the reply; LMOVE and RPOPLPUSH fire the destination's `new` and push
//!   before the reply and the source's pop (and `del`) after it; LSET fires `lset` after its
//!   reply, LINSERT, LREM (+`del`) and LTRIM (+`del`, even when nothing was trimmed) before.

use super::args::{arg_i64, opt_is, parse_end, parse_mpop, parts};
use super::error::{
    OpError, ERR_COUNT_NEGATIVE, ERR_MAXLEN_NEGATIVE, ERR_NOT_INT, ERR_POSITIVE, ERR_RANK_ZERO,
    ERR_SYNTAX,
};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::types::list::{End, List, Shape};

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// The list at `key`, for reading: Ok(None) if missing, WrongType for another type.
fn list_ref<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Result<Option<&'d List>, OpError> {
    match db.get(key, now_ms) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// The list at `key`, for writing.
fn list_mut<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Result<Option<&'d mut List>, OpError> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// `list_mut` without the touch, for a key the command has already looked up once.
fn list_again<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut List>, OpError> {
    match db.peek_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// Deletes `key` if its list is now empty (the invariant in the module doc).
fn delete_if_empty(db: &mut Db, key: &[u8], now_ms: u64) {
    if matches!(db.peek(key, now_ms), Some(Value::List(l)) if l.is_empty()) {
        drop(db.remove(key, now_ms));
    }
}

/// Redis's LRANGE clamping: the (start, count) of the elements to return.
fn range_bounds(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

// ---------------------------------------------------------------------------------------------
// Keyspace operations

/// LPUSH/RPUSH (`create`) and LPUSHX/RPUSHX (`!create`): pushes each element in turn at
/// `end`, creating the list (with `shape`) when missing and `create` is set. Returns
/// the new length, or 0 when the key is missing and `create` is not set (nothing was done).
pub fn op_push<'e>(
    db: &mut Db,
    key: &[u8],
    elems: impl IntoIterator<Item = &'e [u8]>,
    end: End,
    create: bool,
    shape: Shape,
    now_ms: u64,
) -> Result<usize, OpError> {
    if let Some(l) = list_mut(db, key, now_ms)? {
        for e in elems {
            l.push(end, e);
        }
        return Ok(l.len());
    }
    if !create {
        return Ok(0);
    }
    let mut l = List::with_shape(shape);
    for e in elems {
        l.push(end, e);
    }
    let len = l.len();
    if len > 0 {
        db.set(key, Value::List(Box::new(l)), now_ms, false);
    }
    Ok(len)
}

/// LPOP/RPOP: removes up to `count` elements from `end` (fewer if the list is shorter; none
/// when `count` is 0) and deletes the key if it empties. Ok(None) if the key is missing.
pub fn op_pop(
    db: &mut Db,
    key: &[u8],
    end: End,
    count: usize,
    now_ms: u64,
) -> Result<Option<Vec<Vec<u8>>>, OpError> {
    let Some(l) = list_mut(db, key, now_ms)? else {
        return Ok(None);
    };
    let n = count.min(l.len());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        if let Some(e) = l.pop(end) {
            out.push(e);
        }
    }
    delete_if_empty(db, key, now_ms);
    Ok(Some(out))
}

/// What LMPOP popped: the index of the key in the `keys` given, and the elements.
pub type KeyElems = (usize, Vec<Vec<u8>>);

/// LMPOP: pops up to `count` elements from `end` of the first non-empty list among `keys`.
/// Returns the index of that key in `keys` and the elements; Ok(None) if every key is
/// missing. A key of another type met before a list stops the search with WrongType.
pub fn op_mpop(
    db: &mut Db,
    keys: &[&[u8]],
    end: End,
    count: usize,
    now_ms: u64,
) -> Result<Option<KeyElems>, OpError> {
    for (j, key) in keys.iter().enumerate() {
        match op_pop(db, key, end, count, now_ms)? {
            Some(elems) if !elems.is_empty() => return Ok(Some((j, elems))),
            _ => {}
        }
    }
    Ok(None)
}

/// LMOVE/RPOPLPUSH: pops one element from `from` of `src` and pushes it at `to` of `dst`
/// (created with `shape` if missing). Both types are checked before anything moves.
/// When `src == dst` the list rotates in place and keeps its TTL. Ok(None) if `src` is
/// missing.
pub fn op_move(
    db: &mut Db,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    shape: Shape,
    now_ms: u64,
) -> Result<Option<Vec<u8>>, OpError> {
    if list_mut(db, src, now_ms)?.is_none() {
        return Ok(None);
    }
    // Redis looks the source up, then the destination when it pushes: one touch each (the
    // push below touches a different destination), two when they are the same key.
    let again = if src == dst {
        list_mut(db, src, now_ms)?
    } else {
        if matches!(db.peek(dst, now_ms), Some(v) if !matches!(v, Value::List(_))) {
            return Err(OpError::WrongType);
        }
        list_again(db, src, now_ms)?
    };
    let Some(l) = again else {
        return Ok(None);
    };
    let Some(v) = l.pop(from) else {
        return Ok(None);
    };
    if src == dst {
        l.push(to, &v);
        return Ok(Some(v));
    }
    delete_if_empty(db, src, now_ms);
    op_push(db, dst, [v.as_slice()], to, true, shape, now_ms)?;
    Ok(Some(v))
}

/// LLEN: 0 for a missing key.
pub fn op_llen(db: &mut Db, key: &[u8], now_ms: u64) -> Result<Option<usize>, OpError> {
    Ok(list_ref(db, key, now_ms)?.map(List::len))
}

/// LINDEX: Ok(None) if the key is missing, Ok(Some(None)) if the index is out of range.
/// `index` is None when the argument was not an integer (reported only for an existing list).
pub fn op_lindex<'d>(
    db: &'d mut Db,
    key: &[u8],
    index: Option<i64>,
    now_ms: u64,
) -> Result<Option<Option<std::borrow::Cow<'d, [u8]>>>, OpError> {
    let Some(l) = list_ref(db, key, now_ms)? else {
        return Ok(None);
    };
    let index = index.ok_or(OpError::NotInteger)?;
    Ok(Some(l.resolve_index(index).and_then(|i| l.get(i))))
}

/// LRANGE: the elements of the clamped range; Ok(None) if the key is missing.
pub fn op_lrange<'d>(
    db: &'d mut Db,
    key: &[u8],
    start: i64,
    end: i64,
    now_ms: u64,
) -> Result<Option<std::iter::Take<crate::types::list::Iter<'d>>>, OpError> {
    let Some(l) = list_ref(db, key, now_ms)? else {
        return Ok(None);
    };
    let (from, n) = range_bounds(l.len(), start, end).unwrap_or((l.len(), 0));
    Ok(Some(l.iter_from(from).take(n)))
}

/// LSET. `index` is None when the argument was not an integer (reported after the lookup).
pub fn op_lset(
    db: &mut Db,
    key: &[u8],
    index: Option<i64>,
    value: &[u8],
    now_ms: u64,
) -> Result<(), OpError> {
    let l = list_mut(db, key, now_ms)?.ok_or(OpError::NoSuchKey)?;
    let index = index.ok_or(OpError::NotInteger)?;
    let i = l.resolve_index(index).ok_or(OpError::IndexOutOfRange)?;
    l.set(i, value);
    Ok(())
}

/// What LINSERT did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    NoKey,
    NoPivot,
    /// Inserted; the new length.
    Inserted(usize),
}

/// LINSERT: inserts `value` before (or `after`) the first element equal to `pivot`.
pub fn op_linsert(
    db: &mut Db,
    key: &[u8],
    after: bool,
    pivot: &[u8],
    value: &[u8],
    now_ms: u64,
) -> Result<InsertOutcome, OpError> {
    let Some(l) = list_mut(db, key, now_ms)? else {
        return Ok(InsertOutcome::NoKey);
    };
    let Some(i) = l.position(pivot) else {
        return Ok(InsertOutcome::NoPivot);
    };
    l.insert(if after { i + 1 } else { i }, value);
    Ok(InsertOutcome::Inserted(l.len()))
}

/// LREM: removes up to |count| elements equal to `value` (all if 0), from the tail when
/// `count` is negative. Returns how many were removed (0 for a missing key).
pub fn op_lrem(
    db: &mut Db,
    key: &[u8],
    count: i64,
    value: &[u8],
    now_ms: u64,
) -> Result<usize, OpError> {
    let Some(l) = list_mut(db, key, now_ms)? else {
        return Ok(0);
    };
    // Redis negates a negative count in C; i64::MIN stays negative there and so removes
    // every match from the tail, which unsigned_abs (2^63, more than any list) also does.
    let limit = (count != 0).then(|| usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX));
    let removed = l.remove_matching(value, limit, count < 0);
    delete_if_empty(db, key, now_ms);
    Ok(removed)
}

/// LTRIM: keeps the clamped range [start, end]. Returns how many elements were removed.
pub fn op_ltrim(
    db: &mut Db,
    key: &[u8],
    start: i64,
    end: i64,
    now_ms: u64,
) -> Result<usize, OpError> {
    let Some(l) = list_mut(db, key, now_ms)? else {
        return Ok(0);
    };
    let len = l.len();
    let (ltrim, rtrim) = match range_bounds(len, start, end) {
        None => (len, 0),
        Some((from, n)) => (from, len - from - n),
    };
    l.remove_range(len - rtrim, rtrim);
    l.remove_range(0, ltrim);
    delete_if_empty(db, key, now_ms);
    Ok(ltrim + rtrim)
}

/// LPOS options after parsing.
#[derive(Debug, Clone, Copy)]
pub struct LposOpts {
    /// Non-zero; negative searches from the tail. i64::MIN is accepted, as in Redis.
    pub rank: i64,
    /// None: COUNT not given (answer one index or nil). Some(0): every match.
    pub count: Option<i64>,
    /// Elements to compare at most; 0 is no limit.
    pub maxlen: i64,
}

/// LPOS: the indexes of matches, in search order (at most one without COUNT). Ok(None) if
/// the key is missing. The rank and count arithmetic is Redis's, including C's wrapping
/// negation of i64::MIN (which then matches from the first hit and never stops on COUNT).
pub fn op_lpos(
    db: &mut Db,
    key: &[u8],
    value: &[u8],
    opts: LposOpts,
    now_ms: u64,
) -> Result<Option<Vec<i64>>, OpError> {
    let Some(l) = list_ref(db, key, now_ms)? else {
        return Ok(None);
    };
    let (rank, from_tail) = if opts.rank < 0 {
        (opts.rank.wrapping_neg(), true)
    } else {
        (opts.rank, false)
    };
    let llen = l.len() as i64;
    let mut out = Vec::new();
    let mut matches: i64 = 0;
    let mut scan = |index: i64, e: &[u8]| -> bool {
        if opts.maxlen != 0 && index >= opts.maxlen {
            return false;
        }
        if e == value {
            matches += 1;
            if matches >= rank {
                out.push(if from_tail { llen - index - 1 } else { index });
                match opts.count {
                    None => return false,
                    Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c => {
                        return false
                    }
                    _ => {}
                }
            }
        }
        true
    };
    if from_tail {
        for (i, e) in l.iter().rev().enumerate() {
            if !scan(i as i64, &e) {
                break;
            }
        }
    } else {
        for (i, e) in l.iter().enumerate() {
            if !scan(i as i64, &e) {
                break;
            }
        }
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------------
// Commands

/// The shape of a list a push creates now (`list-max-listpack-size`, `list-compress-depth`).
fn shape(ctx: &Ctx<'_>) -> Shape {
    Shape {
        fill: ctx.srv.config.list_max_listpack_size,
        compress_depth: ctx.srv.config.list_compress_depth,
    }
}

/// The event of a push at `end`.
pub fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

/// The event of a pop from `end`.
pub fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// Fires the events of elements popped from the list at `key` (Redis's
/// `listElementsRemoved`): `lpop`/`rpop`, then `del` if the list emptied and is gone.
pub fn notify_popped(ctx: &mut Ctx<'_>, key: &[u8], end: End) {
    ctx.notify(class::LIST, pop_event(end), key);
    ctx.notify_del_if_gone(key);
}

fn push_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, end: End, create: bool) {
    let (now_ms, shape) = (ctx.now_ms, shape(ctx));
    let key = argv.get(1);
    let mark = ctx.new_mark();
    let elems = argv.iter().skip(2);
    match op_push(ctx.db(), key, elems, end, create, shape, now_ms) {
        Ok(len) => {
            // Redis adds the key (`new`) before its reply and fires the push after it.
            ctx.notify_new_since(mark, key);
            ctx.reply.int(len as i64);
            if len > 0 {
                ctx.notify(class::LIST, push_event(end), key);
                ctx.dirty((argv.len() - 2) as u64);
            }
        }
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_lpush(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    push_generic(ctx, argv, End::Left, true);
}

pub fn cmd_rpush(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    push_generic(ctx, argv, End::Right, true);
}

pub fn cmd_lpushx(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    push_generic(ctx, argv, End::Left, false);
}

pub fn cmd_rpushx(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    push_generic(ctx, argv, End::Right, false);
}

fn reply_elems(reply: &mut Reply<'_>, elems: &[Vec<u8>]) {
    reply.array(elems.len());
    for e in elems {
        reply.bulk(e);
    }
}

/// LPOP/RPOP key [count]: without count a bulk (nil if missing); with count an array (a nil
/// array if missing, an empty one for count 0).
fn pop_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, end: End) {
    if argv.len() > 3 {
        let name = String::from_utf8_lossy(argv.get(0)).to_ascii_lowercase();
        let msg = format!("ERR wrong number of arguments for '{name}' command");
        return ctx.err(&msg);
    }
    let count = if argv.len() == 3 {
        match arg_i64(argv.get(2)).filter(|&c| c >= 0) {
            Some(c) => Some(c as usize),
            None => return ctx.err(ERR_POSITIVE),
        }
    } else {
        None
    };
    let now_ms = ctx.now_ms;
    let (db, reply) = parts(ctx);
    match op_pop(db, argv.get(1), end, count.unwrap_or(1), now_ms) {
        Err(e) => reply.error(e.message()),
        Ok(None) if count.is_some() => reply.null_array(),
        Ok(None) => reply.null(),
        Ok(Some(elems)) => {
            let popped = elems.len() as u64;
            match count {
                Some(_) => reply_elems(reply, &elems),
                None => match elems.first() {
                    Some(e) => reply.bulk(e),
                    None => reply.null(),
                },
            }
            // COUNT 0 pops nothing and fires nothing.
            if popped > 0 {
                notify_popped(ctx, argv.get(1), end);
            }
            ctx.dirty(popped);
        }
    }
}

pub fn cmd_lpop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    pop_generic(ctx, argv, End::Left);
}

pub fn cmd_rpop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    pop_generic(ctx, argv, End::Right);
}

pub fn cmd_llen(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let res = op_llen(ctx.db(), argv.get(1), now_ms);
    ctx.read_lookup(!matches!(res, Ok(None)), argv.get(1));
    match res {
        Ok(len) => ctx.reply.int(len.unwrap_or(0) as i64),
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_lindex(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let index = arg_i64(argv.get(2));
    let key = argv.get(1);
    let (db, reply) = parts(ctx);
    match op_lindex(db, key, index, now_ms) {
        Ok(Some(Some(e))) => reply.bulk(&e),
        Ok(Some(None)) => reply.null(),
        Ok(None) => {
            ctx.miss(key);
            return ctx.reply.null();
        }
        Err(e) => reply.error(e.message()),
    }
    ctx.hit();
}

pub fn cmd_lrange(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (Some(start), Some(end)) = (arg_i64(argv.get(2)), arg_i64(argv.get(3))) else {
        return ctx.err(ERR_NOT_INT);
    };
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    let (db, reply) = parts(ctx);
    match op_lrange(db, key, start, end, now_ms) {
        Ok(Some(elems)) => {
            reply.array(elems.len());
            for e in elems {
                reply.bulk(&e);
            }
        }
        Ok(None) => {
            ctx.miss(key);
            return ctx.reply.array(0);
        }
        Err(e) => reply.error(e.message()),
    }
    ctx.hit();
}

pub fn cmd_lset(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let index = arg_i64(argv.get(2));
    let (db, reply) = parts(ctx);
    match op_lset(db, argv.get(1), index, argv.get(3), now_ms) {
        Ok(()) => {
            reply.ok();
            ctx.notify(class::LIST, "lset", argv.get(1));
            ctx.dirty(1);
        }
        Err(e) => reply.error(e.message()),
    }
}

pub fn cmd_linsert(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let after = if opt_is(argv.get(2), "AFTER") {
        true
    } else if opt_is(argv.get(2), "BEFORE") {
        false
    } else {
        return ctx.syntax_error();
    };
    let now_ms = ctx.now_ms;
    let (db, reply) = parts(ctx);
    match op_linsert(db, argv.get(1), after, argv.get(3), argv.get(4), now_ms) {
        Ok(InsertOutcome::NoKey) => reply.int(0),
        Ok(InsertOutcome::NoPivot) => reply.int(-1),
        Ok(InsertOutcome::Inserted(len)) => {
            ctx.notify(class::LIST, "linsert", argv.get(1));
            ctx.reply.int(len as i64);
            ctx.dirty(1);
        }
        Err(e) => reply.error(e.message()),
    }
}

pub fn cmd_lrem(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(count) = arg_i64(argv.get(2)) else {
        return ctx.err(ERR_NOT_INT);
    };
    let now_ms = ctx.now_ms;
    let (db, reply) = parts(ctx);
    match op_lrem(db, argv.get(1), count, argv.get(3), now_ms) {
        Ok(n) => {
            if n > 0 {
                ctx.notify(class::LIST, "lrem", argv.get(1));
                ctx.notify_del_if_gone(argv.get(1));
            }
            ctx.reply.int(n as i64);
            ctx.dirty(n as u64);
        }
        Err(e) => reply.error(e.message()),
    }
}

pub fn cmd_ltrim(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (Some(start), Some(end)) = (arg_i64(argv.get(2)), arg_i64(argv.get(3))) else {
        return ctx.err(ERR_NOT_INT);
    };
    let now_ms = ctx.now_ms;
    let (db, reply) = parts(ctx);
    match op_ltrim(db, argv.get(1), start, end, now_ms) {
        Ok(n) => {
            // Redis signals an existing list as modified even when nothing was trimmed.
            let existed = n > 0 || db.contains(argv.get(1), now_ms);
            if existed {
                ctx.notify(class::LIST, "ltrim", argv.get(1));
                ctx.notify_del_if_gone(argv.get(1));
            }
            ctx.reply.ok();
            ctx.dirty(n as u64);
            if existed {
                ctx.modified(argv.get(1));
            }
        }
        Err(e) => reply.error(e.message()),
    }
}

/// LPOS's option parsing, in Redis's order: every option is checked before the key.
fn parse_lpos(argv: &Argv<'_>) -> Result<LposOpts, &'static str> {
    let mut opts = LposOpts {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut j = 3;
    while j < argv.len() {
        let opt = argv.get(j);
        let more = j + 1 < argv.len();
        if opt_is(opt, "RANK") && more {
            j += 1;
            let rank = arg_i64(argv.get(j)).ok_or(ERR_NOT_INT)?;
            if rank == 0 {
                return Err(ERR_RANK_ZERO);
            }
            opts.rank = rank;
        } else if opt_is(opt, "COUNT") && more {
            j += 1;
            let c = arg_i64(argv.get(j))
                .filter(|&c| c >= 0)
                .ok_or(ERR_COUNT_NEGATIVE)?;
            opts.count = Some(c);
        } else if opt_is(opt, "MAXLEN") && more {
            j += 1;
            let m = arg_i64(argv.get(j))
                .filter(|&m| m >= 0)
                .ok_or(ERR_MAXLEN_NEGATIVE)?;
            opts.maxlen = m;
        } else {
            return Err(ERR_SYNTAX);
        }
        j += 1;
    }
    Ok(opts)
}

pub fn cmd_lpos(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let opts = match parse_lpos(argv) {
        Ok(o) => o,
        Err(msg) => return ctx.err(msg),
    };
    let now_ms = ctx.now_ms;
    let res = op_lpos(ctx.db(), argv.get(1), argv.get(2), opts, now_ms);
    ctx.read_lookup(!matches!(res, Ok(None)), argv.get(1));
    let reply = &mut ctx.reply;
    match res {
        Err(e) => reply.error(e.message()),
        Ok(found) => {
            let found = found.unwrap_or_default();
            if opts.count.is_some() {
                reply.array(found.len());
                for i in found {
                    reply.int(i);
                }
            } else {
                match found.first() {
                    Some(&i) => reply.int(i),
                    None => reply.null(),
                }
            }
        }
    }
}

fn move_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, from: End, to: End) {
    let (now_ms, shape) = (ctx.now_ms, shape(ctx));
    let (src, dst) = (argv.get(1), argv.get(2));
    let mark = ctx.new_mark();
    match op_move(ctx.db(), src, dst, from, to, shape, now_ms) {
        Ok(Some(v)) => {
            reply_moved(ctx, src, dst, (from, to), mark, &v);
            ctx.dirty(1);
        }
        Ok(None) => ctx.reply.null(),
        Err(e) => ctx.err(e.message()),
    }
}

/// The reply and events of an element `v` moved from `src` to `dst` (LMOVE, RPOPLPUSH and
/// their blocking forms, served or not), in Redis's order: the destination's `new` and push,
/// the reply, then the source's pop and `del` if it emptied. `mark` is `new_mark` before the
/// move.
pub fn reply_moved(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    (from, to): (End, End),
    mark: u64,
    v: &[u8],
) {
    ctx.notify_new_since(mark, dst);
    ctx.notify(class::LIST, push_event(to), dst);
    ctx.reply.bulk(v);
    notify_popped(ctx, src, from);
}

pub fn cmd_lmove(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (Some(from), Some(to)) = (parse_end(argv.get(3)), parse_end(argv.get(4))) else {
        return ctx.syntax_error();
    };
    move_generic(ctx, argv, from, to);
}

pub fn cmd_rpoplpush(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    move_generic(ctx, argv, End::Right, End::Left);
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], parsed as Redis's
/// `lmpopGenericCommand`: numkeys first, then the direction, then COUNT (once).
pub fn cmd_lmpop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (where_idx, left, count) = match parse_mpop(argv, 1, (b"LEFT", b"RIGHT")) {
        Ok(p) => p,
        Err(msg) => return ctx.err(msg),
    };
    let end = if left { End::Left } else { End::Right };
    let keys: Vec<&[u8]> = (2..where_idx).map(|i| argv.get(i)).collect();
    let now_ms = ctx.now_ms;
    let (db, reply) = parts(ctx);
    match op_mpop(db, &keys, end, count, now_ms) {
        Err(e) => reply.error(e.message()),
        Ok(None) => reply.null_array(),
        Ok(Some((k, elems))) => {
            reply.array(2);
            reply.bulk(keys[k]);
            reply_elems(reply, &elems);
            notify_popped(ctx, keys[k], end);
            ctx.dirty(elems.len() as u64);
            propagate_pop(ctx, keys[k], end, Some(elems.len()));
        }
    }
}

/// States a pop from the list at `key` (LMPOP, BLMPOP, BLPOP, BRPOP) as `LPOP|RPOP key
/// [count]`.
pub fn propagate_pop(ctx: &mut Ctx<'_>, key: &[u8], end: End, count: Option<usize>) {
    let name: &[u8] = match end {
        End::Left => b"LPOP",
        End::Right => b"RPOP",
    };
    ctx.propagate_pop(name, key, count);
}
