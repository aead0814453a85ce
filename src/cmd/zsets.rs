//! Sorted set commands, as Redis 7.0's `t_zset.c` does them: ZADD ZINCRBY ZREM ZCARD ZSCORE
//! ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE
//! ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE
//! ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF ZUNIONSTORE
//! ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN, plus our ZQUERY.
//!
//! Each command is split in two: `op_*` works on a `Db` and returns a value or an [`OpError`]
//! (no RESP); `cmd_*` parses arguments in Redis's order (so the same error wins), calls the op
//! and writes one reply. Errors become texts only in [`OpError::message`].
//!
//! Invariants kept here, from Redis:
//! - A sorted set that becomes empty is deleted; a store whose result is empty deletes the
//!   destination.
//! - Scores are never NaN: arguments use `string2d` rules ([`parse_score`]); a sum that
//!   would be NaN is an error for ZADD INCR/ZINCRBY and 0 for ZUNION/ZINTER aggregation.
//! - Ranges are turned into rank intervals `[start, end)` on the ascending order with the
//!   set's `count_before`, so a range costs O(log n + returned) on the AVL tree.
//! - Read commands count a keyspace hit or miss (a key of another type is a hit).
//! - BYLEX ranges assume equal scores, as Redis does; with mixed scores the result follows our
//!   tree (Redis leaves it unspecified).
//! - Keyspace events, in `t_zset.c`'s places: ZADD and ZINCRBY fire `new` before the reply
//!   and `zadd`/`zincr` after it (only if something was added or updated); ZREM and the
//!   ZREMRANGEBY* commands their event and `del` before it; every pop `zpopmin`/`zpopmax`
//!   inside its reply, before the first element, and `del` after the elements; the STORE
//!   commands and ZRANGESTORE `new`, the reply, their event, or for an empty result the reply
//!   and `del`. Read lookups, the STORE forms' sources included, fire `keymiss` on a miss.

use std::cell::Cell;
use std::collections::HashMap;

use super::args::{arg_i64, c_str, opt_is, parse_mpop, parse_scan_args, parse_scan_cursor};
use super::error::{OpError, ERR_NOT_FLOAT, ERR_NOT_INT, ERR_POSITIVE};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::types::avl::cmp_entry;
use crate::types::zset::{Limits, ZSet};

// ---------------------------------------------------------------------------------------------
// Shared helpers

pub(crate) fn limits(ctx: &Ctx<'_>) -> Limits {
    Limits {
        entries_max: ctx.srv.config.zset_max_listpack_entries,
        value_max: ctx.srv.config.zset_max_listpack_value,
    }
}

/// Decimal float text as C's strtod reads it, whole input: Rust's parser has the same
/// grammar and rounding for decimal input; hex floats go through `util::num::parse_f64`.
pub(crate) fn strtod_whole(s: &[u8]) -> Option<f64> {
    let body = s.strip_prefix(b"-").or_else(|| s.strip_prefix(b"+"));
    let body = body.unwrap_or(s);
    if body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        return crate::util::num::parse_f64(s);
    }
    let text = std::str::from_utf8(s).ok()?;
    if text.bytes().any(|c| c.is_ascii_whitespace() || c == b'_') {
        return None;
    }
    text.parse::<f64>().ok()
}

/// Whether the mantissa of a float text (decimal, or hex after "0x") has a non-zero digit,
/// so that a parsed value of 0 means the number underflowed.
pub(crate) fn mantissa_nonzero(s: &[u8]) -> bool {
    let body = s
        .strip_prefix(b"-")
        .or_else(|| s.strip_prefix(b"+"))
        .unwrap_or(s);
    let (digits, hex) = match body {
        [b'0', x, rest @ ..] if (x | 0x20) == b'x' => (rest, true),
        _ => (body, false),
    };
    let exponent = if hex { b'p' } else { b'e' };
    digits
        .iter()
        .take_while(|&&c| (c | 0x20) != exponent)
        .any(|&c| {
            c != b'0'
                && if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
        })
}

/// A score argument with Redis 7.0's `string2d` rules: the whole text is a strtod number,
/// no leading space, not NaN, no overflow to ±inf (unless written as inf) and no underflow
/// to zero.
pub fn parse_score(a: &[u8]) -> Option<f64> {
    if a.is_empty() || a[0].is_ascii_whitespace() || a[0] == 0x0b {
        return None;
    }
    let v = strtod_whole(a)?;
    if v.is_nan() {
        return None;
    }
    if v.is_infinite() {
        let body = a.strip_prefix(b"-").or_else(|| a.strip_prefix(b"+"));
        let body = body.unwrap_or(a);
        if !body.eq_ignore_ascii_case(b"inf") && !body.eq_ignore_ascii_case(b"infinity") {
            return None;
        }
    }
    if v == 0.0 && mantissa_nonzero(a) {
        return None;
    }
    Some(v)
}

/// A range bound number as `zslParseRange` reads it: C's strtod on the NUL-terminated text,
/// so leading spaces are skipped, an empty text is 0, overflow is ±inf; only NaN and trailing
/// junk fail.
fn parse_range_number(a: &[u8]) -> Option<f64> {
    let a = c_str(a);
    if a.is_empty() {
        return Some(0.0);
    }
    let t = {
        let start = a
            .iter()
            .position(|&c| !(c == b' ' || (b'\t'..=b'\r').contains(&c)))
            .unwrap_or(a.len());
        &a[start..]
    };
    let v = strtod_whole(t)?;
    (!v.is_nan()).then_some(v)
}

/// A score interval: `min`/`max` with exclusivity flags.
#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub min_ex: bool,
    pub max_ex: bool,
}

fn parse_score_bound(a: &[u8]) -> Option<(f64, bool)> {
    match a.first() {
        Some(b'(') => Some((parse_range_number(&a[1..])?, true)),
        _ => Some((parse_range_number(a)?, false)),
    }
}

pub fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, OpError> {
    let (min, min_ex) = parse_score_bound(min).ok_or(OpError::MinMaxNotFloat)?;
    let (max, max_ex) = parse_score_bound(max).ok_or(OpError::MinMaxNotFloat)?;
    Ok(ScoreRange {
        min,
        max,
        min_ex,
        max_ex,
    })
}

/// One end of a lex range.
#[derive(Clone, Debug)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn parse_lex_bound(a: &[u8]) -> Result<LexBound, OpError> {
    let next = a.get(1).copied().unwrap_or(0);
    match a.first() {
        Some(b'+') if next == 0 => Ok(LexBound::Max),
        Some(b'-') if next == 0 => Ok(LexBound::Min),
        Some(b'(') => Ok(LexBound::Excl(a[1..].to_vec())),
        Some(b'[') => Ok(LexBound::Incl(a[1..].to_vec())),
        _ => Err(OpError::MinMaxNotLex),
    }
}

#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

pub fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, OpError> {
    Ok(LexRange {
        min: parse_lex_bound(min)?,
        max: parse_lex_bound(max)?,
    })
}

/// What a range command selects.
#[derive(Clone, Debug)]
pub enum Range {
    /// Inclusive ranks, negative counting from the end (ZRANGE's start stop).
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// The ascending rank interval `[start, end)` a score or lex range covers.
fn rank_interval(z: &ZSet, range: &Range) -> (usize, usize) {
    match range {
        Range::Score(r) => {
            let start = z.count_before(|s, _| if r.min_ex { s <= r.min } else { s < r.min });
            let end = z.count_before(|s, _| if r.max_ex { s < r.max } else { s <= r.max });
            (start, end.max(start))
        }
        Range::Lex(r) => {
            let start = z.count_before(|_, m| match &r.min {
                LexBound::Min => false,
                LexBound::Max => true,
                LexBound::Incl(b) => m < &b[..],
                LexBound::Excl(b) => m <= &b[..],
            });
            let end = z.count_before(|_, m| match &r.max {
                LexBound::Min => false,
                LexBound::Max => true,
                LexBound::Incl(b) => m <= &b[..],
                LexBound::Excl(b) => m < &b[..],
            });
            (start, end.max(start))
        }
        Range::Rank(start, end) => {
            let len = z.len() as i64;
            let mut start = if *start < 0 { len + start } else { *start };
            let mut end = if *end < 0 { len + end } else { *end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= len {
                return (0, 0);
            }
            if end >= len {
                end = len - 1;
            }
            (start as usize, end as usize + 1)
        }
    }
}

/// The zset at `key`, or None; WRONGTYPE for another type. Touches the key.
pub(crate) fn lookup<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'a mut ZSet>, OpError> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// `lookup` without the touch, for a key the command has already looked up once.
pub(crate) fn lookup_again<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'a mut ZSet>, OpError> {
    match db.peek_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// Deletes `key` if it holds an empty sorted set.
fn drop_if_empty(db: &mut Db, key: &[u8], now_ms: u64) {
    if matches!(db.peek(key, now_ms), Some(Value::ZSet(z)) if z.is_empty()) {
        db.remove(key, now_ms);
    }
}

/// An owned (member, score) pair, as ops hand them to replies.
pub type Pair = (Box<[u8]>, f64);

fn copy_pairs<'a>(it: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<Pair> {
    it.map(|(m, s)| (m.into(), s)).collect()
}

/// Writes pairs as Redis's range replies do: members only; or with scores as a flat array
/// (RESP2) or [member, score] pairs (RESP3).
fn reply_pairs(r: &mut Reply<'_>, items: &[Pair], withscores: bool) {
    if !withscores {
        r.array(items.len());
        for (m, _) in items {
            r.bulk(m);
        }
    } else if r.resp3 {
        r.array(items.len());
        for (m, s) in items {
            r.array(2);
            r.bulk(m);
            r.double(*s);
        }
    } else {
        r.array(items.len() * 2);
        for (m, s) in items {
            r.bulk(m);
            r.double(*s);
        }
    }
}

thread_local! {
    /// xorshift64 state for ZRANDMEMBER; never zero.
    static RNG: Cell<u64> = Cell::new({
        use std::hash::BuildHasher;
        foldhash::quality::RandomState::default().hash_one(0x7a_5e7_u64) | 1
    });
}

fn random_below(n: usize) -> usize {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.set(x);
        (x % n.max(1) as u64) as usize
    })
}

// ---------------------------------------------------------------------------------------------
// ZADD / ZINCRBY

pub const ZADD_NX: u32 = 1;
pub const ZADD_XX: u32 = 2;
pub const ZADD_GT: u32 = 4;
pub const ZADD_LT: u32 = 8;
pub const ZADD_INCR: u32 = 16;

#[derive(Debug, Default, Clone, Copy)]
pub struct ZaddOut {
    pub added: usize,
    pub updated: usize,
    pub processed: usize,
    /// The score of the last processed element (INCR's reply).
    pub score: f64,
}

/// ZADD's core (Redis's `zsetAdd` per pair). With XX and no key, nothing is created.
pub fn op_zadd(
    db: &mut Db,
    key: &[u8],
    flags: u32,
    pairs: &[(f64, &[u8])],
    limits: Limits,
    now_ms: u64,
) -> Result<ZaddOut, OpError> {
    let mut out = ZaddOut::default();
    if lookup(db, key, now_ms)?.is_none() {
        if flags & ZADD_XX != 0 {
            return Ok(out);
        }
        db.set(key, Value::ZSet(Box::default()), now_ms, false);
    }
    // The lookup above was this command's one touch (a new key gets none).
    let Some(Value::ZSet(z)) = db.peek_mut(key, now_ms) else {
        return Ok(out);
    };
    let mut result = Ok(());
    for &(score_arg, member) in pairs {
        let mut score = score_arg;
        match z.score(member) {
            Some(cur) => {
                if flags & ZADD_NX != 0 {
                    continue;
                }
                if flags & ZADD_INCR != 0 {
                    score += cur;
                    if score.is_nan() {
                        result = Err(OpError::NanScore);
                        break;
                    }
                }
                if (flags & ZADD_LT != 0 && score >= cur) || (flags & ZADD_GT != 0 && score <= cur)
                {
                    continue;
                }
                out.processed += 1;
                out.score = score;
                if score != cur {
                    z.update_score(member, cur, score);
                    out.updated += 1;
                }
            }
            None => {
                if flags & ZADD_XX != 0 {
                    continue;
                }
                z.insert_new(member, score, limits);
                out.added += 1;
                out.processed += 1;
                out.score = score;
            }
        }
    }
    drop_if_empty(db, key, now_ms);
    result.map(|()| out)
}

pub fn cmd_zadd(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut flags = 0u32;
    let mut ch = false;
    let mut i = 2;
    while i < argv.len() {
        let a = argv.get(i);
        if opt_is(a, "nx") {
            flags |= ZADD_NX;
        } else if opt_is(a, "xx") {
            flags |= ZADD_XX;
        } else if opt_is(a, "ch") {
            ch = true;
        } else if opt_is(a, "incr") {
            flags |= ZADD_INCR;
        } else if opt_is(a, "gt") {
            flags |= ZADD_GT;
        } else if opt_is(a, "lt") {
            flags |= ZADD_LT;
        } else {
            break;
        }
        i += 1;
    }
    let rest = argv.len() - i;
    if rest == 0 || !rest.is_multiple_of(2) {
        return ctx.syntax_error();
    }
    let (nx, xx, gt, lt) = (
        flags & ZADD_NX != 0,
        flags & ZADD_XX != 0,
        flags & ZADD_GT != 0,
        flags & ZADD_LT != 0,
    );
    if nx && xx {
        return ctx.err("ERR XX and NX options at the same time are not compatible");
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return ctx.err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    let incr = flags & ZADD_INCR != 0;
    if incr && rest > 2 {
        return ctx.err("ERR INCR option supports a single increment-element pair");
    }
    let mut pairs = Vec::with_capacity(rest / 2);
    for j in (i..argv.len()).step_by(2) {
        let Some(score) = parse_score(argv.get(j)) else {
            return ctx.err(ERR_NOT_FLOAT);
        };
        pairs.push((score, argv.get(j + 1)));
    }
    zadd_reply(ctx, argv.get(1), flags, &pairs, ch);
}

/// ZADD's reply and events for `pairs` (scores parsed, options checked); also GEOADD's.
/// Returns how many members were added or had their score changed.
pub(crate) fn zadd_reply(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    flags: u32,
    pairs: &[(f64, &[u8])],
    ch: bool,
) -> usize {
    let (now_ms, limits) = (ctx.now_ms, limits(ctx));
    let mark = ctx.new_mark();
    match op_zadd(ctx.db(), key, flags, pairs, limits, now_ms) {
        Err(e) => {
            ctx.err(e.message());
            0
        }
        Ok(out) => {
            // Redis adds the key (`new`) before its reply and fires zadd/zincr after it.
            ctx.notify_new_since(mark, key);
            ctx.dirty((out.added + out.updated) as u64);
            if flags & ZADD_INCR != 0 {
                if out.processed > 0 {
                    ctx.reply.double(out.score);
                } else {
                    ctx.reply.null();
                }
            } else {
                let n = if ch {
                    out.added + out.updated
                } else {
                    out.added
                };
                ctx.reply.int(n as i64);
            }
            if out.added + out.updated > 0 {
                let event = if flags & ZADD_INCR != 0 {
                    "zincr"
                } else {
                    "zadd"
                };
                ctx.notify(class::ZSET, event, key);
            }
            out.added + out.updated
        }
    }
}

pub fn cmd_zincrby(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(incr) = parse_score(argv.get(2)) else {
        return ctx.err(ERR_NOT_FLOAT);
    };
    zadd_reply(ctx, argv.get(1), ZADD_INCR, &[(incr, argv.get(3))], false);
}

// ---------------------------------------------------------------------------------------------
// ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK

pub fn op_zrem(db: &mut Db, key: &[u8], members: &[&[u8]], now_ms: u64) -> Result<usize, OpError> {
    let Some(z) = lookup(db, key, now_ms)? else {
        return Ok(0);
    };
    let mut removed = 0;
    for m in members {
        if z.remove(m).is_some() {
            removed += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    drop_if_empty(db, key, now_ms);
    Ok(removed)
}

pub fn cmd_zrem(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let members: Vec<&[u8]> = argv.iter().skip(2).collect();
    let now_ms = ctx.now_ms;
    match op_zrem(ctx.db(), argv.get(1), &members, now_ms) {
        Err(e) => ctx.err(e.message()),
        Ok(n) => {
            if n > 0 {
                ctx.notify(class::ZSET, "zrem", argv.get(1));
                ctx.notify_del_if_gone(argv.get(1));
            }
            ctx.dirty(n as u64);
            ctx.reply.int(n as i64);
        }
    }
}

/// Runs a read-only `f` on the zset at `key`, counting the keyspace hit or miss.
fn read<T>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut ZSet) -> T,
) -> Result<Option<T>, OpError> {
    let now_ms = ctx.now_ms;
    let r = lookup(ctx.db(), key, now_ms).map(|z| z.map(f));
    ctx.read_lookup(!matches!(r, Ok(None)), key);
    r
}

pub fn cmd_zcard(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    match read(ctx, argv.get(1), |z| z.len()) {
        Err(e) => ctx.err(e.message()),
        Ok(n) => ctx.reply.int(n.unwrap_or(0) as i64),
    }
}

pub fn cmd_zscore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    match read(ctx, argv.get(1), |z| z.score(argv.get(2))) {
        Err(e) => ctx.err(e.message()),
        Ok(Some(Some(s))) => ctx.reply.double(s),
        Ok(_) => ctx.reply.null(),
    }
}

pub fn cmd_zmscore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let members: Vec<&[u8]> = argv.iter().skip(2).collect();
    let r = read(ctx, argv.get(1), |z| {
        members.iter().map(|m| z.score(m)).collect::<Vec<_>>()
    });
    match r {
        Err(e) => ctx.err(e.message()),
        Ok(scores) => {
            let scores = scores.unwrap_or_else(|| vec![None; members.len()]);
            ctx.reply.array(scores.len());
            for s in scores {
                match s {
                    Some(s) => ctx.reply.double(s),
                    None => ctx.reply.null(),
                }
            }
        }
    }
}

fn zrank_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, reverse: bool) {
    let r = read(ctx, argv.get(1), |z| {
        let len = z.len();
        z.rank(argv.get(2))
            .map(|r| if reverse { len - 1 - r } else { r })
    });
    match r {
        Err(e) => ctx.err(e.message()),
        Ok(Some(Some(rank))) => ctx.reply.int(rank as i64),
        Ok(_) => ctx.reply.null(),
    }
}

pub fn cmd_zrank(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zrank_generic(ctx, argv, false);
}

pub fn cmd_zrevrank(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zrank_generic(ctx, argv, true);
}

// ---------------------------------------------------------------------------------------------
// ZCOUNT ZLEXCOUNT

pub fn cmd_zcount(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let range = match parse_score_range(argv.get(2), argv.get(3)) {
        Ok(r) => Range::Score(r),
        Err(e) => return ctx.err(e.message()),
    };
    count_reply(ctx, argv.get(1), &range);
}

pub fn cmd_zlexcount(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let range = match parse_lex_range(argv.get(2), argv.get(3)) {
        Ok(r) => Range::Lex(r),
        Err(e) => return ctx.err(e.message()),
    };
    count_reply(ctx, argv.get(1), &range);
}

fn count_reply(ctx: &mut Ctx<'_>, key: &[u8], range: &Range) {
    match read(ctx, key, |z| {
        let (s, e) = rank_interval(z, range);
        e - s
    }) {
        Err(e) => ctx.err(e.message()),
        Ok(n) => ctx.reply.int(n.unwrap_or(0) as i64),
    }
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and friends

/// The pairs a range selects, in reply order. `offset`/`limit` apply to score and lex ranges
/// (a negative offset selects nothing and a negative limit means all, as in Redis's loops).
pub fn range_pairs(z: &ZSet, range: &Range, reverse: bool, offset: i64, limit: i64) -> Vec<Pair> {
    let (mut start, mut end) = rank_interval(z, range);
    if start >= end {
        return Vec::new();
    }
    if reverse && matches!(range, Range::Rank(..)) {
        // ZREVRANGE's indexes count from the top: map them to ascending ranks.
        let len = z.len();
        (start, end) = (len - end, len - start);
    }
    let (skip, take) = match range {
        Range::Rank(..) => (0, end - start),
        _ => {
            if offset < 0 {
                return Vec::new();
            }
            let take = if limit < 0 {
                usize::MAX
            } else {
                limit as usize
            };
            (usize::try_from(offset).unwrap_or(usize::MAX), take)
        }
    };
    let n = end - start;
    if skip >= n {
        return Vec::new();
    }
    let take = take.min(n - skip);
    if reverse {
        copy_pairs(z.iter_from(end - 1 - skip, true).take(take))
    } else {
        copy_pairs(z.iter_from(start + skip, false).take(take))
    }
}

/// How the ZRANGE family parses: which command, and what it fixes in advance.
#[derive(Clone, Copy)]
struct RangeCmd {
    store: bool,
    /// None: BYSCORE/BYLEX may choose; Some(kind) fixed (0 rank, 1 score, 2 lex).
    kind: Option<u8>,
    /// None: REV may be given; Some(rev) fixed.
    rev: Option<bool>,
}

const KIND_RANK: u8 = 0;
const KIND_SCORE: u8 = 1;
const KIND_LEX: u8 = 2;

fn zrange_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, rc: RangeCmd) {
    let first = if rc.store { 2 } else { 1 };
    let key = argv.get(first);
    let (mut min_i, mut max_i) = (first + 1, first + 2);
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    let mut limit_given = false;
    let mut rev = rc.rev;
    let mut kind = rc.kind;
    let mut j = first + 3;
    while j < argv.len() {
        let a = argv.get(j);
        let left = argv.len() - j - 1;
        if !rc.store && opt_is(a, "withscores") {
            withscores = true;
        } else if opt_is(a, "limit") && left >= 2 {
            let (Some(o), Some(l)) = (arg_i64(argv.get(j + 1)), arg_i64(argv.get(j + 2))) else {
                return ctx.err(ERR_NOT_INT);
            };
            offset = o;
            limit = l;
            limit_given = true;
            j += 2;
        } else if rev.is_none() && opt_is(a, "rev") {
            rev = Some(true);
        } else if kind.is_none() && opt_is(a, "bylex") {
            kind = Some(KIND_LEX);
        } else if kind.is_none() && opt_is(a, "byscore") {
            kind = Some(KIND_SCORE);
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    let kind = kind.unwrap_or(KIND_RANK);
    if limit_given && kind == KIND_RANK {
        return ctx.err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && kind == KIND_LEX {
        return ctx.err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    if rev && kind != KIND_RANK {
        std::mem::swap(&mut min_i, &mut max_i);
    }
    let range = match kind {
        KIND_RANK => {
            let (Some(s), Some(e)) = (arg_i64(argv.get(min_i)), arg_i64(argv.get(max_i))) else {
                return ctx.err(ERR_NOT_INT);
            };
            Range::Rank(s, e)
        }
        KIND_SCORE => match parse_score_range(argv.get(min_i), argv.get(max_i)) {
            Ok(r) => Range::Score(r),
            Err(e) => return ctx.err(e.message()),
        },
        _ => match parse_lex_range(argv.get(min_i), argv.get(max_i)) {
            Ok(r) => Range::Lex(r),
            Err(e) => return ctx.err(e.message()),
        },
    };
    let got = read(ctx, key, |z| range_pairs(z, &range, rev, offset, limit));
    let items = match got {
        Err(e) => return ctx.err(e.message()),
        Ok(items) => items.unwrap_or_default(),
    };
    if !rc.store {
        return reply_pairs(&mut ctx.reply, &items, withscores);
    }
    // Redis 7.0 creates the destination from a size hint (the rank range's length; none for
    // BYSCORE/BYLEX): a skiplist when the hint exceeds zset-max-listpack-entries, else a
    // listpack that converts as pairs are added in reply order. This decides which zero
    // scores keep their sign (listpacks store -0 as 0).
    let (now_ms, limits) = (ctx.now_ms, limits(ctx));
    let dst = argv.get(1);
    if items.is_empty() {
        ctx.reply.int(0);
        if ctx.db().remove(dst, now_ms).is_some() {
            ctx.notify(class::GENERIC, "del", dst);
            ctx.dirty(1);
            ctx.modified(dst);
        }
        return;
    }
    let hint = if kind == KIND_RANK { items.len() } else { 0 };
    let mut z = if hint > limits.entries_max {
        ZSet::new_skiplist()
    } else {
        ZSet::new()
    };
    for (m, s) in &items {
        z.insert_new(m, *s, limits);
    }
    let created = ctx
        .db()
        .set(dst, Value::ZSet(Box::new(z)), now_ms, false)
        .is_none();
    if created {
        ctx.notify(class::NEW, "new", dst);
    }
    ctx.dirty(1);
    // Only the destination changed (the source is a key position too).
    ctx.modified(dst);
    ctx.reply.int(items.len() as i64);
    ctx.notify(class::ZSET, "zrangestore", dst);
}

/// Writes a store command's result to `dst` (deleting it when empty) and replies with its
/// length, with Redis's events: `new` (if the key is added) before the reply and `event`
/// after it, or `del` after the reply when an empty result deleted `dst`.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], sorted: Vec<Pair>, event: &str) {
    let (now_ms, limits) = (ctx.now_ms, limits(ctx));
    let n = sorted.len();
    if n == 0 {
        ctx.reply.int(0);
        if ctx.db().remove(dst, now_ms).is_some() {
            ctx.notify(class::GENERIC, "del", dst);
            ctx.dirty(1);
        }
        return;
    }
    let z = ZSet::from_sorted(sorted, limits);
    let created = ctx
        .db()
        .set(dst, Value::ZSet(Box::new(z)), now_ms, false)
        .is_none();
    if created {
        ctx.notify(class::NEW, "new", dst);
    }
    ctx.dirty(1);
    ctx.reply.int(n as i64);
    ctx.notify(class::ZSET, event, dst);
}

pub fn cmd_zrange(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let rc = RangeCmd {
        store: false,
        kind: None,
        rev: None,
    };
    zrange_generic(ctx, argv, rc);
}

pub fn cmd_zrangestore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let rc = RangeCmd {
        store: true,
        kind: None,
        rev: None,
    };
    zrange_generic(ctx, argv, rc);
}

fn fixed(kind: u8, rev: bool) -> RangeCmd {
    RangeCmd {
        store: false,
        kind: Some(kind),
        rev: Some(rev),
    }
}

pub fn cmd_zrevrange(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zrange_generic(ctx, argv, fixed(KIND_RANK, true));
}

pub fn cmd_zrangebyscore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zrange_generic(ctx, argv, fixed(KIND_SCORE, false));
}

pub fn cmd_zrevrangebyscore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zrange_generic(ctx, argv, fixed(KIND_SCORE, true));
}

pub fn cmd_zrangebylex(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zrange_generic(ctx, argv, fixed(KIND_LEX, false));
}

pub fn cmd_zrevrangebylex(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zrange_generic(ctx, argv, fixed(KIND_LEX, true));
}

// ---------------------------------------------------------------------------------------------
// ZQUERY (our extension)

/// ZQUERY: the first `limit` pairs at or after (score, member) in set order, after skipping
/// `offset` of them. O(log n + offset + limit) on the tree (offset is skipped by rank).
pub fn op_zquery(
    db: &mut Db,
    key: &[u8],
    score: f64,
    member: &[u8],
    offset: usize,
    limit: usize,
    now_ms: u64,
) -> Result<Option<Vec<Pair>>, OpError> {
    let Some(z) = lookup(db, key, now_ms)? else {
        return Ok(None);
    };
    let start = z.count_before(|s, m| cmp_entry(s, m, score, member).is_lt());
    let from = start.saturating_add(offset);
    if from >= z.len() {
        return Ok(Some(Vec::new()));
    }
    Ok(Some(copy_pairs(z.iter_from(from, false).take(limit))))
}

/// `ZQUERY key score member offset limit`. Errors: a score that is not a float answers
/// "ERR value is not a valid float" (ZADD's text, since it is one score, not a range bound);
/// a non-integer offset/limit "ERR value is not an integer or out of range"; a negative one
/// "ERR value is out of range, must be positive". Arguments are checked before the key.
pub fn cmd_zquery(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(score) = parse_score(argv.get(2)) else {
        return ctx.err(ERR_NOT_FLOAT);
    };
    let mut counts = [0usize; 2];
    for (i, c) in counts.iter_mut().enumerate() {
        match arg_i64(argv.get(4 + i)) {
            None => return ctx.err(ERR_NOT_INT),
            Some(v) if v < 0 => return ctx.err(ERR_POSITIVE),
            Some(v) => *c = usize::try_from(v).unwrap_or(usize::MAX),
        }
    }
    let now_ms = ctx.now_ms;
    let r = op_zquery(
        ctx.db(),
        argv.get(1),
        score,
        argv.get(3),
        counts[0],
        counts[1],
        now_ms,
    );
    ctx.read_lookup(!matches!(r, Ok(None)), argv.get(1));
    match r {
        Err(e) => ctx.err(e.message()),
        Ok(items) => reply_pairs(&mut ctx.reply, &items.unwrap_or_default(), true),
    }
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX

pub fn op_zremrange(db: &mut Db, key: &[u8], range: &Range, now_ms: u64) -> Result<usize, OpError> {
    let Some(z) = lookup(db, key, now_ms)? else {
        return Ok(0);
    };
    let (start, end) = rank_interval(z, range);
    let n = if start < end {
        z.remove_rank_range(start, end - start)
    } else {
        0
    };
    drop_if_empty(db, key, now_ms);
    Ok(n)
}

fn zremrange_reply(ctx: &mut Ctx<'_>, key: &[u8], range: Result<Range, OpError>) {
    let range = match range {
        Ok(r) => r,
        Err(e) => return ctx.err(e.message()),
    };
    let event = match range {
        Range::Rank(..) => "zremrangebyrank",
        Range::Score(_) => "zremrangebyscore",
        Range::Lex(_) => "zremrangebylex",
    };
    let now_ms = ctx.now_ms;
    match op_zremrange(ctx.db(), key, &range, now_ms) {
        Err(e) => ctx.err(e.message()),
        Ok(n) => {
            if n > 0 {
                ctx.notify(class::ZSET, event, key);
                ctx.notify_del_if_gone(key);
            }
            ctx.dirty(n as u64);
            ctx.reply.int(n as i64);
        }
    }
}

pub fn cmd_zremrangebyrank(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let range = match (arg_i64(argv.get(2)), arg_i64(argv.get(3))) {
        (Some(s), Some(e)) => Ok(Range::Rank(s, e)),
        _ => Err(OpError::NotInteger),
    };
    zremrange_reply(ctx, argv.get(1), range);
}

pub fn cmd_zremrangebyscore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let range = parse_score_range(argv.get(2), argv.get(3)).map(Range::Score);
    zremrange_reply(ctx, argv.get(1), range);
}

pub fn cmd_zremrangebylex(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let range = parse_lex_range(argv.get(2), argv.get(3)).map(Range::Lex);
    zremrange_reply(ctx, argv.get(1), range);
}

// ---------------------------------------------------------------------------------------------
// ZPOPMIN ZPOPMAX ZMPOP

/// Pops up to `count` pairs from the low (`min`) or high end of the zset at `key`, deleting
/// the key when it empties. Ok(None) when there is no such key. BZPOPMIN/BZPOPMAX/BZMPOP are
/// meant to build on this.
pub fn op_pop(
    db: &mut Db,
    key: &[u8],
    min: bool,
    count: usize,
    now_ms: u64,
) -> Result<Option<Vec<Pair>>, OpError> {
    let Some(z) = lookup(db, key, now_ms)? else {
        return Ok(None);
    };
    let n = count.min(z.len());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match z.pop(min) {
            Some(p) => out.push(p),
            None => break,
        }
    }
    drop_if_empty(db, key, now_ms);
    Ok(Some(out))
}

fn zpop_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, min: bool) {
    if argv.len() > 3 {
        return ctx.syntax_error();
    }
    let mut count: Option<usize> = None;
    if argv.len() == 3 {
        match arg_i64(argv.get(2)) {
            Some(c) if c >= 0 => count = Some(c as usize),
            _ => return ctx.err(ERR_POSITIVE),
        }
    }
    let now_ms = ctx.now_ms;
    let r = op_pop(ctx.db(), argv.get(1), min, count.unwrap_or(1), now_ms);
    match r {
        Err(e) => ctx.err(e.message()),
        Ok(None) => ctx.reply.array(0),
        Ok(Some(items)) => {
            ctx.dirty(items.len() as u64);
            // COUNT nests the pairs in RESP3; a plain pop is one flat [member, score].
            let layout = if count.is_some() {
                PopReply::Pairs
            } else {
                PopReply::Flat
            };
            reply_popped(ctx, argv.get(1), min, &items, layout);
        }
    }
}

/// How a pop's reply is laid out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PopReply {
    /// ZPOPMIN/ZPOPMAX without COUNT: [member, score, ...], flat in RESP3 too.
    Flat,
    /// ZPOPMIN/ZPOPMAX with COUNT: flat in RESP2, [member, score] pairs in RESP3.
    Pairs,
    /// ZMPOP and BZMPOP: [key, [[member, score], ...]].
    Keyed,
    /// BZPOPMIN/BZPOPMAX: [key, member, score].
    KeyedFlat,
}

/// Replies with the pairs popped from `key` (`min`: from the low end) and fires their
/// events as Redis's genericZpopCommand does: `zpopmin`/`zpopmax` once the reply's headers
/// are written, before its first element, then `del` after the elements if the set emptied
/// and is gone. Nothing fires when nothing was popped (COUNT 0).
pub fn reply_popped(ctx: &mut Ctx<'_>, key: &[u8], min: bool, items: &[Pair], layout: PopReply) {
    let r = &mut ctx.reply;
    let nested = match layout {
        PopReply::Flat => {
            r.array(items.len() * 2);
            false
        }
        PopReply::Pairs if r.resp3 => {
            r.array(items.len());
            true
        }
        PopReply::Pairs => {
            r.array(items.len() * 2);
            false
        }
        PopReply::Keyed => {
            r.array(2);
            r.bulk(key);
            r.array(items.len());
            true
        }
        PopReply::KeyedFlat => {
            r.array(1 + items.len() * 2);
            r.bulk(key);
            false
        }
    };
    if items.is_empty() {
        return;
    }
    ctx.notify(class::ZSET, if min { "zpopmin" } else { "zpopmax" }, key);
    let r = &mut ctx.reply;
    for (m, s) in items {
        if nested {
            r.array(2);
        }
        r.bulk(m);
        r.double(*s);
    }
    ctx.notify_del_if_gone(key);
}

pub fn cmd_zpopmin(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zpop_generic(ctx, argv, true);
}

pub fn cmd_zpopmax(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    zpop_generic(ctx, argv, false);
}

pub fn cmd_zmpop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (where_i, min, count) = match parse_mpop(argv, 1, (b"MIN", b"MAX")) {
        Ok(p) => p,
        Err(msg) => return ctx.err(msg),
    };
    let numkeys = where_i - 2;
    let now_ms = ctx.now_ms;
    for k in 0..numkeys {
        let key = argv.get(2 + k);
        match op_pop(ctx.db(), key, min, count, now_ms) {
            Err(e) => return ctx.err(e.message()),
            Ok(None) => continue,
            Ok(Some(items)) => {
                ctx.dirty(items.len() as u64);
                reply_popped(ctx, key, min, &items, PopReply::Keyed);
                propagate_pop(ctx, key, min, Some(items.len()));
                return;
            }
        }
    }
    ctx.reply.null_array();
}

/// States a pop from the sorted set at `key` (ZMPOP, BZMPOP, BZPOPMIN, BZPOPMAX) as
/// `ZPOPMIN|ZPOPMAX key [count]`.
pub fn propagate_pop(ctx: &mut Ctx<'_>, key: &[u8], min: bool, count: Option<usize>) {
    let name: &[u8] = if min { b"ZPOPMIN" } else { b"ZPOPMAX" };
    ctx.propagate_pop(name, key, count);
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER

/// ZRANDMEMBER with a count: distinct members when `count >= 0` (all of them when the set is
/// not larger than count), `|count|` independent picks when negative.
pub fn op_zrandmember(
    db: &mut Db,
    key: &[u8],
    count: i64,
    now_ms: u64,
) -> Result<Option<Vec<Pair>>, OpError> {
    let Some(z) = lookup(db, key, now_ms)? else {
        return Ok(None);
    };
    let len = z.len();
    if len == 0 || count == 0 {
        return Ok(Some(Vec::new()));
    }
    // Deliberate difference: Redis 7.0 tries to build a reply of |count| picks however large
    // and dies of memory exhaustion past a few billion; we refuse such counts (on an existing
    // key; a missing one still answers an empty array) to keep the server up. Counts down to
    // -2^32 behave as in Redis.
    if count < -RANDMEMBER_REPEATS_MAX {
        return Err(OpError::OutOfRange);
    }
    let pick = |z: &ZSet, r: usize| z.select(r).map(|(m, s)| (Box::<[u8]>::from(m), s));
    if count < 0 {
        let n = count.unsigned_abs() as usize;
        let mut out = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            if let Some(p) = pick(z, random_below(len)) {
                out.push(p);
            }
        }
        return Ok(Some(out));
    }
    let n = count as usize;
    if n >= len {
        return Ok(Some(copy_pairs(z.iter_from(0, false))));
    }
    // Floyd's sampling: n distinct ranks with O(n) memory and exactly n draws, whatever the
    // set's size. Each draw then costs one O(log n) select.
    let mut chosen: std::collections::HashSet<usize> = std::collections::HashSet::with_capacity(n);
    let mut order = Vec::with_capacity(n);
    for j in (len - n)..len {
        let t = random_below(j + 1);
        let r = if chosen.insert(t) { t } else { j };
        if r == j {
            chosen.insert(j);
        }
        order.push(r);
    }
    let mut out = Vec::with_capacity(n);
    for r in order {
        if let Some(p) = pick(z, r) {
            out.push(p);
        }
    }
    Ok(Some(out))
}

/// The largest number of picks ZRANDMEMBER with a negative count makes (see the command).
const RANDMEMBER_REPEATS_MAX: i64 = 1 << 32;

pub fn cmd_zrandmember(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() == 2 {
        let r = read(ctx, argv.get(1), |z| {
            let len = z.len();
            z.select(random_below(len)).map(|(m, _)| m.to_vec())
        });
        return match r {
            Err(e) => ctx.err(e.message()),
            Ok(Some(Some(m))) => ctx.reply.bulk(&m),
            Ok(_) => ctx.reply.null(),
        };
    }
    let count = match arg_i64(argv.get(2)) {
        None => return ctx.err(ERR_NOT_INT),
        Some(i64::MIN) => {
            return ctx.err(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        Some(c) => c,
    };
    let mut withscores = false;
    if argv.len() > 3 {
        if argv.len() == 4 && opt_is(argv.get(3), "withscores") {
            withscores = true;
        } else {
            return ctx.syntax_error();
        }
    }
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return ctx.err("ERR value is out of range");
    }
    let now_ms = ctx.now_ms;
    let r = op_zrandmember(ctx.db(), argv.get(1), count, now_ms);
    ctx.read_lookup(!matches!(r, Ok(None)), argv.get(1));
    match r {
        Err(e) => ctx.err(e.message()),
        Ok(items) => reply_pairs(&mut ctx.reply, &items.unwrap_or_default(), withscores),
    }
}

// ---------------------------------------------------------------------------------------------
// ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            // inf + -inf: Redis's convention is 0.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// Members of a plain set given to a Z* command, each with score 1.
///
/// A plain set as a zset input: every member with score 1, as Redis's zunionInterDiff reads
/// sets.
fn set_members(s: &crate::types::set::Set) -> Vec<Pair> {
    let mut out = Vec::with_capacity(s.len());
    s.for_each(|m| {
        let mut buf = itoa::Buffer::new();
        out.push((Box::from(m.bytes(&mut buf)), 1.0));
    });
    out
}

/// The inputs' lengths (0 for a missing key), checking types first as Redis does before it
/// parses WEIGHTS/AGGREGATE; WRONGTYPE for a key holding neither a zset nor a set (which
/// stops the lookups). `found` gets, for each key looked up, whether it exists (for the
/// keyspace hit/miss counting), the key of another type included.
///
/// Only the first probe of a command touches the keys (`touch`): Redis looks each input up
/// once.
pub fn op_probe_sources(
    db: &mut Db,
    keys: &[&[u8]],
    found: &mut Vec<bool>,
    touch: bool,
    now_ms: u64,
) -> Result<Vec<usize>, OpError> {
    let mut lens = Vec::with_capacity(keys.len());
    for k in keys {
        let v = if touch {
            db.get(k, now_ms)
        } else {
            db.peek(k, now_ms)
        };
        found.push(v.is_some());
        let len = match v {
            None => 0,
            Some(Value::ZSet(z)) => z.len(),
            Some(Value::Set(s)) => s.len(),
            Some(_) => return Err(OpError::WrongType),
        };
        lens.push(len);
    }
    Ok(lens)
}

/// One input's pairs in its own order (a set's members with score 1).
/// The probe already touched the key, so this look does not.
fn source_pairs(db: &mut Db, key: &[u8], now_ms: u64) -> Result<Vec<Pair>, OpError> {
    match db.peek(key, now_ms) {
        None => Ok(Vec::new()),
        Some(Value::ZSet(z)) => Ok(copy_pairs(z.iter_from(0, false))),
        Some(Value::Set(s)) => Ok(set_members(s)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// Filters the candidates by membership in the input at `key`: keeps those present (calling
/// `found(candidate score, input score)` for each) when `keep_present`, else those absent.
/// One keyspace lookup, then one member lookup per candidate.
fn filter_by(
    db: &mut Db,
    key: &[u8],
    now_ms: u64,
    cand: &mut Vec<Pair>,
    keep_present: bool,
    mut found: impl FnMut(&mut f64, f64),
) -> Result<(), OpError> {
    let mut decide = |s: &mut f64, score: Option<f64>| match score {
        Some(v) => {
            if keep_present {
                found(s, v);
            }
            keep_present
        }
        None => !keep_present,
    };
    // The probe already touched the key.
    match db.peek_mut(key, now_ms) {
        None => cand.retain_mut(|(_, s)| decide(s, None)),
        Some(Value::ZSet(z)) => cand.retain_mut(|(m, s)| {
            let score = z.score(m);
            decide(s, score)
        }),
        Some(Value::Set(set)) => {
            let members: std::collections::HashSet<Box<[u8]>> =
                set_members(set).into_iter().map(|(m, _)| m).collect();
            cand.retain_mut(|(m, s)| decide(s, members.contains(m).then_some(1.0)));
        }
        Some(_) => return Err(OpError::WrongType),
    }
    Ok(())
}

/// Computes ZUNION/ZINTER/ZDIFF (and ZINTERCARD when `card_limit` is Some: 0 = no limit) as
/// Redis's `zunionInterDiffGenericCommand` does: union and intersection visit the inputs
/// smallest first (stable, like glibc's merge-sort qsort) and aggregate each member's
/// weighted scores in that order, so float sums agree with Redis. Returns the pairs sorted by
/// (score, member) and the result size (the capped count for ZINTERCARD, with no pairs).
///
/// Costs: an intersection copies only the smallest input and looks its members up in the
/// others, O(N*K); a difference copies the first input, O(N*K) lookups; a union reads all.
pub fn op_setop(
    db: &mut Db,
    keys: &[&[u8]],
    weights: &[f64],
    op: SetOp,
    agg: Aggregate,
    card_limit: Option<usize>,
    now_ms: u64,
) -> Result<(Vec<Pair>, usize), OpError> {
    // The command probed (and touched) the inputs before it parsed its options.
    let lens = op_probe_sources(db, keys, &mut Vec::new(), false, now_ms)?;
    let weight = |i: usize| weights.get(i).copied().unwrap_or(1.0);
    let mut order: Vec<usize> = (0..keys.len()).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| lens[i]);
    }
    let mut result: Vec<Pair> = match op {
        SetOp::Inter => {
            let Some(&first) = order.first() else {
                return Ok((Vec::new(), 0));
            };
            let mut cand = source_pairs(db, keys[first], now_ms)?;
            let w0 = weight(first);
            for (_, s) in cand.iter_mut() {
                *s *= w0;
                if s.is_nan() {
                    *s = 0.0;
                }
            }
            for &j in &order[1..] {
                if cand.is_empty() {
                    break;
                }
                let w = weight(j);
                filter_by(db, keys[j], now_ms, &mut cand, true, |s, v| {
                    aggregate(s, v * w, agg);
                })?;
            }
            if let Some(limit) = card_limit {
                let n = if limit > 0 {
                    cand.len().min(limit)
                } else {
                    cand.len()
                };
                return Ok((Vec::new(), n));
            }
            cand
        }
        SetOp::Union => {
            let mut acc: HashMap<Box<[u8]>, f64> = HashMap::new();
            for &i in &order {
                let w = weight(i);
                for (m, sc) in source_pairs(db, keys[i], now_ms)? {
                    let mut score = w * sc;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(&m) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m, score);
                        }
                    }
                }
            }
            acc.into_iter().collect()
        }
        SetOp::Diff => {
            let mut cand = source_pairs(db, keys[0], now_ms)?;
            for k in &keys[1..] {
                if cand.is_empty() {
                    break;
                }
                filter_by(db, k, now_ms, &mut cand, false, |_, _| {})?;
            }
            cand
        }
    };
    result.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    let n = result.len();
    Ok((result, n))
}

/// Shared parser and runner of ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE
/// ZINTERCARD. `store`: the destination is argv[1]; `card`: ZINTERCARD.
fn setop_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, op: SetOp, store: bool, card: bool) {
    let numkeys_i = if store { 2 } else { 1 };
    let Some(numkeys) = arg_i64(argv.get(numkeys_i)) else {
        return ctx.err(ERR_NOT_INT);
    };
    if numkeys < 1 {
        let name = String::from_utf8_lossy(argv.get(0)).to_ascii_lowercase();
        let msg = format!("ERR at least 1 input key is needed for '{name}' command");
        return ctx.err(&msg);
    }
    let avail = argv.len() - numkeys_i - 1;
    if numkeys as u64 > avail as u64 {
        return ctx.syntax_error();
    }
    let numkeys = numkeys as usize;
    let keys: Vec<&[u8]> = (0..numkeys).map(|i| argv.get(numkeys_i + 1 + i)).collect();
    let now_ms = ctx.now_ms;
    // Redis reads (and type-checks) every input before it parses the options, the STORE
    // forms' too: each lookup counts a hit or a miss (firing keymiss).
    let mut found = Vec::with_capacity(numkeys);
    let probed = op_probe_sources(ctx.db(), &keys, &mut found, true, now_ms);
    for (k, f) in keys.iter().zip(found) {
        ctx.read_lookup(f, k);
    }
    if let Err(e) = probed {
        return ctx.err(e.message());
    }
    let mut weights = vec![1.0; numkeys];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = numkeys_i + 1 + numkeys;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = argv.get(j);
        if op != SetOp::Diff && !card && remaining > numkeys && opt_is(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                match parse_score(argv.get(j)) {
                    Some(v) => *w = v,
                    None => return ctx.err("ERR weight value is not a float"),
                }
                j += 1;
            }
        } else if op != SetOp::Diff && !card && remaining >= 2 && opt_is(a, "aggregate") {
            let v = argv.get(j + 1);
            agg = if opt_is(v, "sum") {
                Aggregate::Sum
            } else if opt_is(v, "min") {
                Aggregate::Min
            } else if opt_is(v, "max") {
                Aggregate::Max
            } else {
                return ctx.syntax_error();
            };
            j += 2;
        } else if !store && !card && opt_is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card && remaining >= 2 && opt_is(a, "limit") {
            match arg_i64(argv.get(j + 1)) {
                Some(l) if l >= 0 => limit = usize::try_from(l).unwrap_or(usize::MAX),
                _ => return ctx.err("ERR LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    let card_limit = card.then_some(limit);
    let (result, n) = match op_setop(ctx.db(), &keys, &weights, op, agg, card_limit, now_ms) {
        Ok(r) => r,
        Err(e) => return ctx.err(e.message()),
    };
    if card {
        return ctx.reply.int(n as i64);
    }
    if store {
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        return store_result(ctx, argv.get(1), result, event);
    }
    reply_pairs(&mut ctx.reply, &result, withscores);
}

pub fn cmd_zunion(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setop_generic(ctx, argv, SetOp::Union, false, false);
}

pub fn cmd_zinter(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setop_generic(ctx, argv, SetOp::Inter, false, false);
}

pub fn cmd_zdiff(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setop_generic(ctx, argv, SetOp::Diff, false, false);
}

pub fn cmd_zunionstore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setop_generic(ctx, argv, SetOp::Union, true, false);
}

pub fn cmd_zinterstore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setop_generic(ctx, argv, SetOp::Inter, true, false);
}

pub fn cmd_zdiffstore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setop_generic(ctx, argv, SetOp::Diff, true, false);
}

pub fn cmd_zintercard(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setop_generic(ctx, argv, SetOp::Inter, false, true);
}

// ---------------------------------------------------------------------------------------------
// ZSCAN

/// One ZSCAN step on the zset at `key`: the next cursor and the pairs whose member matches
/// `pattern` (None = all). Ok(None) when there is no such key.
pub fn op_zscan(
    db: &mut Db,
    key: &[u8],
    cursor: u64,
    count: usize,
    pattern: Option<&[u8]>,
    now_ms: u64,
) -> Result<Option<(u64, Vec<Pair>)>, OpError> {
    // ZSCAN looked the key up (and touched it) before parsing its options.
    let Some(z) = lookup_again(db, key, now_ms)? else {
        return Ok(None);
    };
    let mut items: Vec<Pair> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| crate::util::glob::glob_match(p, m, false)) {
            items.push((m.into(), s));
        }
    });
    Ok(Some((next, items)))
}

/// ZSCAN, in Redis's order: the cursor is checked first, then the key (a missing key answers
/// an empty page before any option is read), then COUNT/MATCH. Scores are bulk strings in
/// both protocols (Redis formats them as text for every SCAN variant).
pub fn cmd_zscan(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(cursor) = parse_scan_cursor(argv.get(2)) else {
        return ctx.err("ERR invalid cursor");
    };
    let found = match read(ctx, argv.get(1), |_| ()) {
        Err(e) => return ctx.err(e.message()),
        Ok(found) => found.is_some(),
    };
    if !found {
        let r = &mut ctx.reply;
        r.array(2);
        r.bulk(b"0");
        r.array(0);
        return;
    }
    let opts = match parse_scan_args(argv, 3) {
        Ok(o) => o,
        Err(e) => return ctx.err(e),
    };
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    let (next, items) = match op_zscan(ctx.db(), key, cursor, opts.count, opts.pattern, now_ms) {
        Err(e) => return ctx.err(e.message()),
        Ok(page) => page.unwrap_or_default(),
    };
    let r = &mut ctx.reply;
    r.array(2);
    r.bulk(itoa::Buffer::new().format(next).as_bytes());
    r.array(items.len() * 2);
    let mut text = Vec::new();
    for (m, s) in &items {
        r.bulk(m);
        text.clear();
        crate::util::num::format_double(*s, &mut text);
        r.bulk(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_arguments_follow_string2d() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x1p3"), Some(8.0));
        assert_eq!(parse_score(b"1."), Some(1.0));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"-0").map(f64::is_sign_negative), Some(true));
        assert_eq!(parse_score(b"0e5"), Some(0.0));
        assert_eq!(parse_score(b"4.9e-324"), Some(4.9e-324));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"2.4e-324",
            b"0x1p-2000",
            b"abc",
            b"1_0",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn range_bounds_follow_strtod() {
        let r = parse_score_range(b"(1", b" 2").unwrap();
        assert_eq!((r.min, r.min_ex, r.max, r.max_ex), (1.0, true, 2.0, false));
        let r = parse_score_range(b"", b"(").unwrap();
        assert_eq!((r.min, r.max, r.max_ex), (0.0, 0.0, true));
        let r = parse_score_range(b"1e400", b"1\x00junk").unwrap();
        assert_eq!((r.min, r.max), (f64::INFINITY, 1.0));
        assert!(parse_score_range(b"nan", b"1").is_err());
        assert!(parse_score_range(b"1", b"((1").is_err());
        assert!(parse_score_range(b"1", b" ").is_err());
    }

    #[test]
    fn lex_bounds() {
        assert!(matches!(parse_lex_bound(b"+"), Ok(LexBound::Max)));
        assert!(matches!(parse_lex_bound(b"+\x00x"), Ok(LexBound::Max)));
        assert!(parse_lex_bound(b"+a").is_err());
        assert!(parse_lex_bound(b"a").is_err());
        assert!(parse_lex_bound(b"").is_err());
        assert!(matches!(parse_lex_bound(b"("), Ok(LexBound::Excl(v)) if v.is_empty()));
    }
}
