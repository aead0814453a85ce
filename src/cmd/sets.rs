//! Set commands: SADD SREM SISMEMBER SMISMEMBER SCARD SMEMBERS SPOP SRANDMEMBER SMOVE SINTER
//! SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN, as Redis 7.0's `t_set.c`
//! does them.
//!
//! As in the other families, `op_*` works on a `Db` and returns a value or an [`OpError`],
//! knowing nothing of RESP; `cmd_*` parses arguments, calls the op and writes one reply.
//!
//! Invariants kept here, all taken from Redis 7.0:
//! - A set that becomes empty is deleted (SREM, SPOP, SMOVE's source).
//! - Read lookups (SISMEMBER, SMISMEMBER, SCARD, SMEMBERS, SRANDMEMBER, SSCAN and every source
//!   key of SINTER*/SUNION*/SDIFF*, the STORE variants included) count a keyspace hit or miss;
//!   a key of another type counts as a hit and stops the command with WRONGTYPE. Write lookups
//!   (SADD, SREM, SMOVE, SPOP) count nothing. Every source key is type-checked even after a
//!   missing one, so `SINTER missing wrongtype` is a WRONGTYPE error.
//! - Computed sets (SUNION*, SDIFF*, SINTERSTORE) are built by adding members one by one to an
//!   empty intset, so their encoding is the one Redis reaches: intset while every member is an
//!   integer and there are at most set-max-intset-entries of them. SDIFF picks Redis's
//!   algorithm by the same cost estimate, because algorithm 2 adds the whole first set before
//!   removing and can therefore end as a hash table where algorithm 1 ends as an intset.
//! - The *STORE commands overwrite a destination of any type (dropping its TTL) and delete it
//!   when the result is empty. SPOP with a count keeps the key's TTL; when it pops nearly all
//!   of a set it rebuilds the rest by adding, so a hash table of integers can become an intset
//!   again (the one way back Redis 7.0 has).
//! - SMEMBERS is SINTER of one key, as in Redis 7.0, so both answer in the order the smallest
//!   set iterates (ascending for an intset). Replies of SMEMBERS, SINTER, SUNION, SDIFF and
//!   SPOP with a count are sets in RESP3; SRANDMEMBER with a count is always an array.
//! - Keyspace events, in `t_set.c`'s places: `sadd` (after `new`) and `srem` (+`del`)
//!   before the reply; SMOVE `srem`, `del`, then the destination's `new` and `sadd`; SPOP
//!   `spop` before the reply and `del` after it. The *STORE commands fire `new` before the
//!   reply and their own event after it; an empty result fires `del` after the reply, or
//!   before it when SINTERSTORE found a source missing (Redis returns early then). Every
//!   missing source of a read (the STORE forms too) fires `keymiss`.

use std::cell::Cell;
use std::collections::HashSet;

use super::args::{arg_i64, opt_is, parse_scan_args, parse_scan_cursor, parts, ScanArgs};
use super::error::{
    OpError, ERR_LIMIT_NEGATIVE, ERR_NOT_INT, ERR_NUMKEYS, ERR_NUMKEYS_ARGS, ERR_POSITIVE,
    ERR_RANDOM_COUNT_RANGE, ERR_SYNTAX,
};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::types::set::{Elem, Member, Set};
use crate::util::glob::glob_match;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// SPOP with a count rebuilds the set from the members that stay when they are at most 1/5
/// of the popped ones (Redis's SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;
/// SRANDMEMBER copies the set and removes random members when asked for more than 1/3 of it
/// (Redis's SRANDMEMBER_SUB_STRATEGY_MUL).
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;
/// Random picks per wanted member before distinct sampling switches to a partial shuffle.
const SAMPLE_TRIES_PER_MEMBER: usize = 64;

thread_local! {
    /// xorshift64* state for SPOP/SRANDMEMBER; seeded per thread from the std hasher's
    /// random keys, never zero.
    static RNG: Cell<u64> = Cell::new({
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x5e75);
        h.finish() | 1
    });
}

/// A uniformly distributed random u64.
pub fn rand_u64() -> u64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

fn write_member(reply: &mut Reply<'_>, m: Member<'_>) {
    match m {
        Member::Int(n) => reply.bulk_int(n),
        Member::Bytes(b) => reply.bulk(b),
    }
}

fn write_elems_as_set(reply: &mut Reply<'_>, elems: &[Elem]) {
    reply.set(elems.len());
    for e in elems {
        write_member(reply, e.as_member());
    }
}

fn write_set(reply: &mut Reply<'_>, s: &Set) {
    reply.set(s.len());
    s.for_each(|m| write_member(reply, m));
}

/// The read lookups of the source keys a command made: how many found their key, and the
/// indexes (in the keys given) of those that did not, in lookup order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lookups {
    pub hits: u64,
    pub missed: Vec<usize>,
}

/// Counts the lookups for INFO and fires `keymiss` on each missed key of `keys`, in order.
fn count_lookups(ctx: &mut Ctx<'_>, keys: &[&[u8]], l: &Lookups) {
    ctx.srv.stats.keyspace_hits += l.hits;
    for &i in &l.missed {
        ctx.miss(keys[i]);
    }
}

/// A set for reading: None if missing, WrongType for another type.
fn read_set<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Result<Option<&'d Set>, OpError> {
    match db.get(key, now_ms) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// A set for writing: None if missing, WrongType for another type.
fn write_set_mut<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut Set>, OpError> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// `read_set` without the touch, for a key the command has already looked up once.
fn read_set_again<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Result<Option<&'d Set>, OpError> {
    match db.peek(key, now_ms) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// `write_set_mut` without the touch, for a key the command has already looked up once.
fn write_set_again<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut Set>, OpError> {
    match db.peek_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(OpError::WrongType),
    }
}

// ---------------------------------------------------------------------------------------------
// Keyspace operations

/// SADD: the number of members that were new. A missing key is created with the encoding
/// its first member suits.
pub fn op_sadd(
    db: &mut Db,
    key: &[u8],
    members: &[&[u8]],
    intset_entries_max: usize,
    now_ms: u64,
) -> Result<usize, OpError> {
    if let Some(s) = write_set_mut(db, key, now_ms)? {
        return Ok(members
            .iter()
            .filter(|m| s.add(m, intset_entries_max))
            .count());
    }
    let Some(first) = members.first() else {
        return Ok(0);
    };
    let mut s = Set::for_first(first);
    let added = members
        .iter()
        .filter(|m| s.add(m, intset_entries_max))
        .count();
    db.set(key, Value::Set(Box::new(s)), now_ms, false);
    Ok(added)
}

/// SREM: the number of members removed; deletes the key when the set empties.
pub fn op_srem(db: &mut Db, key: &[u8], members: &[&[u8]], now_ms: u64) -> Result<usize, OpError> {
    let Some(s) = write_set_mut(db, key, now_ms)? else {
        return Ok(0);
    };
    let mut removed = 0;
    for m in members {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    if s.is_empty() {
        db.remove(key, now_ms);
    }
    Ok(removed)
}

/// SISMEMBER: None if the key is missing.
pub fn op_sismember(
    db: &mut Db,
    key: &[u8],
    member: &[u8],
    now_ms: u64,
) -> Result<Option<bool>, OpError> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s.contains(member))),
        Some(_) => Err(OpError::WrongType),
    }
}

/// SMISMEMBER: (key found, membership per member).
pub fn op_smismember(
    db: &mut Db,
    key: &[u8],
    members: &[&[u8]],
    now_ms: u64,
) -> Result<(bool, Vec<bool>), OpError> {
    match db.get_mut(key, now_ms) {
        None => Ok((false, vec![false; members.len()])),
        Some(Value::Set(s)) => Ok((true, members.iter().map(|m| s.contains(m)).collect())),
        Some(_) => Err(OpError::WrongType),
    }
}

/// SCARD: None if missing.
pub fn op_scard(db: &mut Db, key: &[u8], now_ms: u64) -> Result<Option<usize>, OpError> {
    Ok(read_set(db, key, now_ms)?.map(Set::len))
}

/// SMOVE: true if the member was moved (or, with source == destination, is a member).
pub fn op_smove(
    db: &mut Db,
    src: &[u8],
    dst: &[u8],
    member: &[u8],
    intset_entries_max: usize,
    now_ms: u64,
) -> Result<SmoveOutcome, OpError> {
    // Redis looks both keys up (reaping expired ones) before deciding anything.
    let src_kind = db.get(src, now_ms).map(Value::value_type);
    let dst_kind = db.get(dst, now_ms).map(Value::value_type);
    let Some(src_kind) = src_kind else {
        return Ok(SmoveOutcome::NotMoved);
    };
    let set_type = crate::keyspace::value::ValueType::Set;
    if src_kind != set_type || dst_kind.is_some_and(|k| k != set_type) {
        return Err(OpError::WrongType);
    }
    if src == dst {
        let s = write_set_again(db, src, now_ms)?;
        return Ok(if s.is_some_and(|s| s.contains(member)) {
            SmoveOutcome::SameKeyMember
        } else {
            SmoveOutcome::NotMoved
        });
    }
    let Some(s) = write_set_again(db, src, now_ms)? else {
        return Ok(SmoveOutcome::NotMoved);
    };
    if !s.remove(member) {
        return Ok(SmoveOutcome::NotMoved);
    }
    if s.is_empty() {
        db.remove(src, now_ms);
    }
    let added = match write_set_again(db, dst, now_ms)? {
        Some(d) => d.add(member, intset_entries_max),
        None => {
            let mut d = Set::for_first(member);
            d.add(member, intset_entries_max);
            db.set(dst, Value::Set(Box::new(d)), now_ms, false);
            true
        }
    };
    Ok(SmoveOutcome::Moved { added })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmoveOutcome {
    NotMoved,
    /// Source and destination are the same key and it holds the member: nothing changes.
    SameKeyMember,
    /// Removed from the source; `added` tells whether the destination gained a member.
    Moved {
        added: bool,
    },
}

/// SPOP without a count: None if the key is missing.
pub fn op_spop_one(db: &mut Db, key: &[u8], now_ms: u64) -> Result<Option<Elem>, OpError> {
    let Some(s) = write_set_mut(db, key, now_ms)? else {
        return Ok(None);
    };
    let e = s.pop_random(rand_u64);
    if s.is_empty() {
        db.remove(key, now_ms);
    }
    Ok(e)
}

/// What SPOP with a count popped.
#[derive(Debug)]
pub struct SpopCount {
    pub popped: Vec<Elem>,
    /// The whole set was popped. Redis answers that case through its SUNION code, which
    /// looks the key up again for reading: one keyspace hit, and the members in the order of
    /// a set rebuilt by adding them (ascending when they fit an intset).
    pub whole: bool,
}

/// SPOP with a count > 0 (Redis's `spopWithCountCommand`): the popped members, None if the
/// key is missing. Popping at least the whole set deletes the key; when the members that stay
/// number at most a fifth of those popped, they move to a new set built by adding them (the
/// key keeps its TTL, the encoding is decided anew); otherwise members are popped one at a
/// time.
pub fn op_spop_count(
    db: &mut Db,
    key: &[u8],
    count: u64,
    intset_entries_max: usize,
    now_ms: u64,
) -> Result<Option<SpopCount>, OpError> {
    let Some(s) = write_set_mut(db, key, now_ms)? else {
        return Ok(None);
    };
    let size = s.len() as u64;
    if count >= size {
        let mut union = Set::new();
        s.for_each(|m| {
            union.add_member(m, intset_entries_max);
        });
        db.remove(key, now_ms);
        return Ok(Some(SpopCount {
            popped: union.elems(),
            whole: true,
        }));
    }
    let remaining = size - count;
    if remaining.saturating_mul(SPOP_MOVE_STRATEGY_MUL) <= count {
        // Most of the set goes: move the few members that stay into a new set built by
        // adding them, which re-decides the encoding (a hash table of integers can become an
        // intset again, as in Redis).
        let mut keep = Set::new();
        for _ in 0..remaining {
            let Some(e) = s.pop_random(rand_u64) else {
                break;
            };
            keep.add_member(e.as_member(), intset_entries_max);
        }
        let popped = s.elems();
        *s = keep;
        return Ok(Some(SpopCount {
            popped,
            whole: false,
        }));
    }
    let mut popped = Vec::with_capacity(count as usize);
    for _ in 0..count {
        match s.pop_random(rand_u64) {
            Some(e) => popped.push(e),
            None => break,
        }
    }
    Ok(Some(SpopCount {
        popped,
        whole: false,
    }))
}

/// SRANDMEMBER without a count: None if missing.
pub fn op_srandmember_one(db: &mut Db, key: &[u8], now_ms: u64) -> Result<Option<Elem>, OpError> {
    Ok(read_set(db, key, now_ms)?.and_then(|s| s.random(rand_u64)))
}

/// SRANDMEMBER with a count (Redis's `srandmemberWithCountCommand`): `count` random members
/// with repetitions when `distinct` is false, otherwise min(count, size) distinct ones.
/// None if the key is missing.
pub fn op_srandmember_count(
    db: &mut Db,
    key: &[u8],
    count: u64,
    distinct: bool,
    now_ms: u64,
) -> Result<Option<Vec<Elem>>, OpError> {
    let Some(s) = read_set(db, key, now_ms)? else {
        return Ok(None);
    };
    let size = s.len() as u64;
    if count == 0 {
        return Ok(Some(Vec::new()));
    }
    if !distinct || count == 1 {
        let mut out = Vec::with_capacity(count.min(1 << 20) as usize);
        for _ in 0..count {
            match s.random(rand_u64) {
                Some(e) => out.push(e),
                None => break,
            }
        }
        return Ok(Some(out));
    }
    if count >= size {
        return Ok(Some(s.elems()));
    }
    let count = count as usize;
    if (count as u64).saturating_mul(SRANDMEMBER_SUB_STRATEGY_MUL) > size {
        // Copy the set and drop random members until `count` remain.
        let mut all = s.elems();
        while all.len() > count {
            let i = (rand_u64() % all.len() as u64) as usize;
            all.swap_remove(i);
        }
        return Ok(Some(all));
    }
    // A small share of a big set: distinct random picks.
    let mut seen: HashSet<Elem> = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count.saturating_mul(SAMPLE_TRIES_PER_MEMBER) {
        if out.len() == count {
            return Ok(Some(out));
        }
        if let Some(e) = s.random(rand_u64) {
            if seen.insert(e.clone()) {
                out.push(e);
            }
        }
    }
    // Unlucky sampling (a very sparse table): finish with a partial shuffle of all members.
    let mut rest: Vec<Elem> = s
        .elems()
        .into_iter()
        .filter(|e| !seen.contains(e))
        .collect();
    while out.len() < count && !rest.is_empty() {
        let i = (rand_u64() % rest.len() as u64) as usize;
        out.push(rest.swap_remove(i));
    }
    Ok(Some(out))
}

/// The sets named by `keys`, looked up for reading in order: their sizes (None = missing).
/// Stops at the first key of another type, as Redis does, after counting it as a hit.
fn lookup_sources(
    db: &mut Db,
    keys: &[&[u8]],
    lookups: &mut Lookups,
    now_ms: u64,
) -> Result<Vec<Option<usize>>, OpError> {
    let mut sizes = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        match db.get(k, now_ms) {
            None => {
                lookups.missed.push(i);
                sizes.push(None);
            }
            Some(v) => {
                lookups.hits += 1;
                match v {
                    Value::Set(s) => sizes.push(Some(s.len())),
                    _ => return Err(OpError::WrongType),
                }
            }
        }
    }
    Ok(sizes)
}

/// SINTER / SMEMBERS / SINTERCARD / SINTERSTORE: the intersection, in the order the smallest
/// set iterates. Sets are taken from smallest to largest (a stable sort, like glibc's qsort
/// merge sort); a missing key makes the result empty.
pub fn op_sinter(
    db: &mut Db,
    keys: &[&[u8]],
    lookups: &mut Lookups,
    now_ms: u64,
) -> Result<Vec<Elem>, OpError> {
    let sizes = lookup_sources(db, keys, lookups, now_ms)?;
    let Some(sizes) = sizes.into_iter().collect::<Option<Vec<usize>>>() else {
        return Ok(Vec::new());
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let Some((&first, rest)) = order.split_first() else {
        return Ok(Vec::new());
    };
    let mut candidates = match read_set_again(db, keys[first], now_ms)? {
        Some(s) => s.elems(),
        None => return Ok(Vec::new()),
    };
    for &j in rest {
        if candidates.is_empty() {
            break;
        }
        if keys[j] == keys[first] {
            continue;
        }
        let Some(s) = write_set_again(db, keys[j], now_ms)? else {
            return Ok(Vec::new());
        };
        candidates.retain(|e| s.contains_member(e.as_member()));
    }
    Ok(candidates)
}

/// SUNION / SUNIONSTORE: every member of every present set, added in key order to a new set.
pub fn op_sunion(
    db: &mut Db,
    keys: &[&[u8]],
    intset_entries_max: usize,
    lookups: &mut Lookups,
    now_ms: u64,
) -> Result<Set, OpError> {
    let sizes = lookup_sources(db, keys, lookups, now_ms)?;
    let mut out = Set::new();
    for (k, size) in keys.iter().zip(&sizes) {
        if size.is_none() {
            continue;
        }
        if let Some(s) = read_set_again(db, k, now_ms)? {
            s.for_each(|m| {
                out.add_member(m, intset_entries_max);
            });
        }
    }
    Ok(out)
}

/// SDIFF / SDIFFSTORE: members of the first set in none of the others. Redis's choice of
/// algorithm is kept because it decides the result's encoding (see the module doc):
/// algorithm 1 filters the first set's members and adds the survivors; algorithm 2 adds the
/// whole first set and then removes every member of the others.
pub fn op_sdiff(
    db: &mut Db,
    keys: &[&[u8]],
    intset_entries_max: usize,
    lookups: &mut Lookups,
    now_ms: u64,
) -> Result<Set, OpError> {
    let sizes = lookup_sources(db, keys, lookups, now_ms)?;
    let mut out = Set::new();
    let Some(first_size) = sizes.first().copied().flatten() else {
        return Ok(out);
    };
    let present = sizes.iter().flatten();
    let algo_one_work = (present.clone().count() as u64 * first_size as u64) / 2;
    let algo_two_work: u64 = present.map(|&n| n as u64).sum();
    let same_key_later = keys[1..].iter().any(|k| *k == keys[0]);
    if same_key_later {
        // Subtracting the first set from itself: Redis answers empty without building.
        return Ok(out);
    }
    if algo_one_work <= algo_two_work {
        let mut candidates = match read_set_again(db, keys[0], now_ms)? {
            Some(s) => s.elems(),
            None => return Ok(out),
        };
        // The others by decreasing size, so common members are found sooner.
        let mut others: Vec<usize> = (1..keys.len()).filter(|&j| sizes[j].is_some()).collect();
        others.sort_by_key(|&j| std::cmp::Reverse(sizes[j]));
        for j in others {
            if candidates.is_empty() {
                break;
            }
            if let Some(s) = write_set_again(db, keys[j], now_ms)? {
                candidates.retain(|e| !s.contains_member(e.as_member()));
            }
        }
        for e in &candidates {
            out.add_member(e.as_member(), intset_entries_max);
        }
    } else {
        if let Some(s) = read_set_again(db, keys[0], now_ms)? {
            s.for_each(|m| {
                out.add_member(m, intset_entries_max);
            });
        }
        for (j, k) in keys.iter().enumerate().skip(1) {
            if out.is_empty() {
                break;
            }
            if sizes[j].is_none() {
                continue;
            }
            if let Some(s) = read_set_again(db, k, now_ms)? {
                s.for_each(|m| {
                    out.remove_member(m);
                });
            }
        }
    }
    Ok(out)
}

/// Stores a computed set at `dst` (overwriting any type, dropping its TTL), or deletes `dst`
/// when the set is empty. Returns (cardinality, whether the keyspace changed).
pub fn op_store(db: &mut Db, dst: &[u8], s: Set, now_ms: u64) -> (usize, bool) {
    let n = s.len();
    if n == 0 {
        return (0, db.remove(dst, now_ms).is_some());
    }
    db.set(dst, Value::Set(Box::new(s)), now_ms, false);
    (n, true)
}

/// SSCAN: the next cursor and the members of this step that match. None if missing.
pub fn op_sscan(
    db: &mut Db,
    key: &[u8],
    cursor: u64,
    opts: ScanArgs<'_>,
    now_ms: u64,
) -> Result<Option<(u64, Vec<Elem>)>, OpError> {
    let Some(s) = read_set_again(db, key, now_ms)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    let mut buf = itoa::Buffer::new();
    let next = s.scan(cursor, opts.count, |m| {
        let keep = match opts.pattern {
            None => true,
            Some(p) => glob_match(p, m.bytes(&mut buf), false),
        };
        if keep {
            out.push(m.to_elem());
        }
    });
    Ok(Some((next, out)))
}

// ---------------------------------------------------------------------------------------------
// Commands

fn intset_entries_max(ctx: &Ctx<'_>) -> usize {
    ctx.srv.config.set_max_intset_entries
}

fn args_from<'a>(argv: &Argv<'a>, start: usize) -> Vec<&'a [u8]> {
    argv.iter().skip(start).collect()
}

pub fn cmd_sadd(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let max = intset_entries_max(ctx);
    let members = args_from(argv, 2);
    let mark = ctx.new_mark();
    match op_sadd(ctx.db(), argv.get(1), &members, max, now_ms) {
        Ok(n) => {
            ctx.notify_new_since(mark, argv.get(1));
            if n > 0 {
                ctx.notify(class::SET, "sadd", argv.get(1));
            }
            ctx.dirty(n as u64);
            ctx.reply.int(n as i64);
        }
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_srem(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let members = args_from(argv, 2);
    match op_srem(ctx.db(), argv.get(1), &members, now_ms) {
        Ok(n) => {
            if n > 0 {
                ctx.notify(class::SET, "srem", argv.get(1));
                ctx.notify_del_if_gone(argv.get(1));
            }
            ctx.dirty(n as u64);
            ctx.reply.int(n as i64);
        }
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_sismember(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let r = op_sismember(ctx.db(), argv.get(1), argv.get(2), now_ms);
    ctx.read_lookup(!matches!(r, Ok(None)), argv.get(1));
    match r {
        Ok(found) => ctx.reply.int(i64::from(found == Some(true))),
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_smismember(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let members = args_from(argv, 2);
    let r = op_smismember(ctx.db(), argv.get(1), &members, now_ms);
    ctx.read_lookup(!matches!(r, Ok((false, _))), argv.get(1));
    match r {
        Ok((_, flags)) => {
            ctx.reply.array(flags.len());
            for f in flags {
                ctx.reply.int(i64::from(f));
            }
        }
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_scard(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let r = op_scard(ctx.db(), argv.get(1), now_ms);
    ctx.read_lookup(!matches!(r, Ok(None)), argv.get(1));
    match r {
        Ok(n) => ctx.reply.int(n.unwrap_or(0) as i64),
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_smove(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let max = intset_entries_max(ctx);
    let (src, dst) = (argv.get(1), argv.get(2));
    let mark = ctx.new_mark();
    match op_smove(ctx.db(), src, dst, argv.get(3), max, now_ms) {
        Ok(SmoveOutcome::NotMoved) => ctx.reply.int(0),
        Ok(SmoveOutcome::SameKeyMember) => ctx.reply.int(1),
        Ok(SmoveOutcome::Moved { added }) => {
            // Redis's order: the source's srem (and del), then the destination is added
            // (`new`) and gets its sadd.
            ctx.notify(class::SET, "srem", src);
            ctx.notify_del_if_gone(src);
            ctx.notify_new_since(mark, dst);
            if added {
                ctx.notify(class::SET, "sadd", dst);
            }
            ctx.dirty(1 + u64::from(added));
            ctx.reply.int(1);
        }
        Err(e) => ctx.err(e.message()),
    }
}

/// Members per SREM when SPOP states what it removed (Redis 7.0 batches them the same way).
const SPOP_PROPAGATE_BATCH: usize = 1024;

/// States SPOP's effect: SREM of the popped members, in batches.
fn propagate_srem(ctx: &mut Ctx<'_>, key: &[u8], popped: &[Elem]) {
    for chunk in popped.chunks(SPOP_PROPAGATE_BATCH) {
        let mut ints = vec![itoa::Buffer::new(); chunk.len()];
        let mut args: Vec<&[u8]> = vec![b"SREM", key];
        for (e, b) in chunk.iter().zip(ints.iter_mut()) {
            args.push(match e {
                Elem::Int(n) => b.format(*n).as_bytes(),
                Elem::Bytes(v) => v,
            });
        }
        ctx.propagate(&args);
    }
}

pub fn cmd_spop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    match argv.len() {
        2 => match op_spop_one(ctx.db(), argv.get(1), now_ms) {
            Ok(Some(e)) => {
                ctx.notify(class::SET, "spop", argv.get(1));
                ctx.dirty(1);
                write_member(&mut ctx.reply, e.as_member());
                ctx.notify_del_if_gone(argv.get(1));
                propagate_srem(ctx, argv.get(1), std::slice::from_ref(&e));
            }
            Ok(None) => ctx.reply.null(),
            Err(e) => ctx.err(e.message()),
        },
        3 => {
            let count = match arg_i64(argv.get(2)) {
                Some(n) if n >= 0 => n as u64,
                _ => return ctx.err(ERR_POSITIVE),
            };
            if count == 0 {
                // Redis still looks the key up to reject another type.
                return match write_set_mut(ctx.db(), argv.get(1), now_ms) {
                    Err(e) => ctx.err(e.message()),
                    Ok(_) => ctx.reply.set(0),
                };
            }
            let max = intset_entries_max(ctx);
            match op_spop_count(ctx.db(), argv.get(1), count, max, now_ms) {
                Ok(Some(r)) => {
                    ctx.notify(class::SET, "spop", argv.get(1));
                    if r.whole {
                        ctx.hit();
                    }
                    ctx.dirty(r.popped.len() as u64);
                    write_elems_as_set(&mut ctx.reply, &r.popped);
                    if r.whole {
                        // Popping the whole set deleted the key.
                        ctx.notify(class::GENERIC, "del", argv.get(1));
                        ctx.propagate(&[b"DEL", argv.get(1)]);
                    } else {
                        propagate_srem(ctx, argv.get(1), &r.popped);
                    }
                }
                Ok(None) => ctx.reply.set(0),
                Err(e) => ctx.err(e.message()),
            }
        }
        _ => ctx.syntax_error(),
    }
}

pub fn cmd_srandmember(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    match argv.len() {
        2 => {
            let r = op_srandmember_one(ctx.db(), argv.get(1), now_ms);
            ctx.read_lookup(!matches!(r, Ok(None)), argv.get(1));
            match r {
                Ok(Some(e)) => write_member(&mut ctx.reply, e.as_member()),
                Ok(None) => ctx.reply.null(),
                Err(e) => ctx.err(e.message()),
            }
        }
        3 => {
            let (count, distinct) = match arg_i64(argv.get(2)) {
                None => return ctx.err(ERR_NOT_INT),
                Some(i64::MIN) => return ctx.err(ERR_RANDOM_COUNT_RANGE),
                Some(n) if n >= 0 => (n as u64, true),
                Some(n) => (n.unsigned_abs(), false),
            };
            let r = op_srandmember_count(ctx.db(), argv.get(1), count, distinct, now_ms);
            ctx.read_lookup(!matches!(r, Ok(None)), argv.get(1));
            match r {
                Ok(Some(elems)) => {
                    ctx.reply.array(elems.len());
                    for e in &elems {
                        write_member(&mut ctx.reply, e.as_member());
                    }
                }
                Ok(None) => ctx.reply.array(0),
                Err(e) => ctx.err(e.message()),
            }
        }
        _ => ctx.syntax_error(),
    }
}

/// SINTER and SMEMBERS (Redis 7.0 runs SMEMBERS as a one-key SINTER).
pub fn cmd_sinter(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let keys = args_from(argv, 1);
    let mut lookups = Lookups::default();
    let r = op_sinter(ctx.db(), &keys, &mut lookups, now_ms);
    count_lookups(ctx, &keys, &lookups);
    match r {
        Ok(elems) => write_elems_as_set(&mut ctx.reply, &elems),
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_smembers(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    cmd_sinter(ctx, argv);
}

pub fn cmd_sintercard(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let numkeys = match arg_i64(argv.get(1)) {
        Some(n) if n >= 1 => n as u64,
        _ => return ctx.err(ERR_NUMKEYS),
    };
    let key_args = (argv.len() - 2) as u64;
    if numkeys > key_args {
        return ctx.err(ERR_NUMKEYS_ARGS);
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut i = keys_end;
    while i < argv.len() {
        if opt_is(argv.get(i), "LIMIT") && i + 1 < argv.len() {
            limit = match arg_i64(argv.get(i + 1)) {
                Some(n) if n >= 0 => n as u64,
                _ => return ctx.err(ERR_LIMIT_NEGATIVE),
            };
            i += 2;
        } else {
            return ctx.err(ERR_SYNTAX);
        }
    }
    let keys: Vec<&[u8]> = (2..keys_end).map(|j| argv.get(j)).collect();
    let now_ms = ctx.now_ms;
    let mut lookups = Lookups::default();
    let r = op_sinter(ctx.db(), &keys, &mut lookups, now_ms);
    count_lookups(ctx, &keys, &lookups);
    match r {
        Ok(elems) => {
            let n = elems.len() as u64;
            let n = if limit > 0 { n.min(limit) } else { n };
            ctx.reply.int(n as i64);
        }
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_sinterstore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let max = intset_entries_max(ctx);
    let keys = args_from(argv, 2);
    let mut lookups = Lookups::default();
    let r = op_sinter(ctx.db(), &keys, &mut lookups, now_ms);
    count_lookups(ctx, &keys, &lookups);
    match r {
        Ok(elems) => {
            let mut s = Set::new();
            for e in &elems {
                s.add_member(e.as_member(), max);
            }
            // A missing source ends SINTERSTORE early, deleting the destination before the
            // reply; an intersection found empty deletes it after the reply.
            let early = !lookups.missed.is_empty();
            store_and_reply(ctx, argv.get(1), s, "sinterstore", early);
        }
        Err(e) => ctx.err(e.message()),
    }
}

/// Stores a computed set at `dst` and replies with its size, with Redis's events: `new` (if
/// the key is added) before the reply and `event` after it, or for an empty result `del` (if
/// `dst` existed), after the reply unless `del_first`.
fn store_and_reply(ctx: &mut Ctx<'_>, dst: &[u8], s: Set, event: &str, del_first: bool) {
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    let (n, changed) = op_store(ctx.db(), dst, s, now_ms);
    if changed {
        ctx.dirty(1);
        // Only the destination changed (the sources are key positions too).
        ctx.modified(dst);
    }
    if n > 0 {
        ctx.notify_new_since(mark, dst);
        ctx.reply.int(n as i64);
        ctx.notify(class::SET, event, dst);
    } else if del_first {
        if changed {
            ctx.notify(class::GENERIC, "del", dst);
        }
        ctx.reply.int(0);
    } else {
        ctx.reply.int(0);
        if changed {
            ctx.notify(class::GENERIC, "del", dst);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Algebra {
    Union,
    Diff,
}

fn union_diff(ctx: &mut Ctx<'_>, argv: &Argv<'_>, op: Algebra, store: bool) {
    let now_ms = ctx.now_ms;
    let max = intset_entries_max(ctx);
    let keys = args_from(argv, if store { 2 } else { 1 });
    let mut lookups = Lookups::default();
    let db = ctx.db();
    let r = match op {
        Algebra::Union => op_sunion(db, &keys, max, &mut lookups, now_ms),
        Algebra::Diff => op_sdiff(db, &keys, max, &mut lookups, now_ms),
    };
    count_lookups(ctx, &keys, &lookups);
    let event = match op {
        Algebra::Union => "sunionstore",
        Algebra::Diff => "sdiffstore",
    };
    match r {
        Ok(s) if store => store_and_reply(ctx, argv.get(1), s, event, false),
        Ok(s) => write_set(&mut ctx.reply, &s),
        Err(e) => ctx.err(e.message()),
    }
}

pub fn cmd_sunion(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    union_diff(ctx, argv, Algebra::Union, false);
}

pub fn cmd_sunionstore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    union_diff(ctx, argv, Algebra::Union, true);
}

pub fn cmd_sdiff(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    union_diff(ctx, argv, Algebra::Diff, false);
}

pub fn cmd_sdiffstore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    union_diff(ctx, argv, Algebra::Diff, true);
}

pub fn cmd_sscan(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(cursor) = parse_scan_cursor(argv.get(2)) else {
        return ctx.err("ERR invalid cursor");
    };
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    // Redis answers a missing key (and rejects another type) before it parses the options.
    let found = match read_set(ctx.db(), key, now_ms) {
        Err(e) => {
            ctx.hit();
            return ctx.err(e.message());
        }
        Ok(s) => s.is_some(),
    };
    ctx.read_lookup(found, key);
    let write_empty = |r: &mut Reply<'_>| {
        r.array(2);
        r.bulk(b"0");
        r.array(0);
    };
    if !found {
        return write_empty(&mut ctx.reply);
    }
    let opts = match parse_scan_args(argv, 3) {
        Ok(o) => o,
        Err(e) => return ctx.err(e),
    };
    let (db, r) = parts(ctx);
    match op_sscan(db, key, cursor, opts, now_ms) {
        Ok(Some((next, elems))) => {
            r.array(2);
            r.bulk(itoa::Buffer::new().format(next).as_bytes());
            r.array(elems.len());
            for e in &elems {
                write_member(r, e.as_member());
            }
        }
        Ok(None) => write_empty(r),
        Err(e) => r.error(e.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_with(key: &[u8], members: &[&[u8]], max: usize) -> Db {
        let mut db = Db::new();
        op_sadd(&mut db, key, members, max, 0).unwrap();
        db
    }

    fn encoding(db: &mut Db, key: &[u8]) -> Option<&'static str> {
        db.get(key, 0).map(Value::encoding)
    }

    #[test]
    fn sdiff_algorithm_decides_the_encoding() {
        // Algorithm 2 (cheaper when the first set is large and the others small... is not
        // chosen here: work 1 = (2 * 10) / 2 = 10 <= work 2 = 10 + 1, so algorithm 1 runs and
        // the 9 survivors of a 10-member hash table of integers form an intset.
        let ten: Vec<Vec<u8>> = (1..=10).map(|i: i32| i.to_string().into_bytes()).collect();
        let ten: Vec<&[u8]> = ten.iter().map(Vec::as_slice).collect();
        let mut db = db_with(b"big", &ten, 4);
        op_sadd(&mut db, b"one", &[b"10"], 4, 0).unwrap();
        let mut l = Lookups::default();
        let s = op_sdiff(&mut db, &[b"big", b"one"], 16, &mut l, 0).unwrap();
        assert_eq!((s.len(), s.encoding()), (9, "intset"));
        // Three small sets to subtract: work 1 = (4 * 10) / 2 = 20 > work 2 = 13, so
        // algorithm 2 adds all 10 (a table at max 4) and keeps the table after removing.
        op_sadd(&mut db, b"two", &[b"9"], 4, 0).unwrap();
        op_sadd(&mut db, b"three", &[b"8"], 4, 0).unwrap();
        let s = op_sdiff(&mut db, &[b"big", b"one", b"two", b"three"], 4, &mut l, 0).unwrap();
        assert_eq!((s.len(), s.encoding()), (7, "hashtable"));
        let s = op_sdiff(&mut db, &[b"big", b"one", b"two", b"three"], 16, &mut l, 0).unwrap();
        assert_eq!((s.len(), s.encoding()), (7, "intset"));
        assert!(l.missed.is_empty());
    }

    #[test]
    fn spop_count_rebuilds_and_keeps_ttl() {
        let members: Vec<Vec<u8>> = (0..20).map(|i: i32| i.to_string().into_bytes()).collect();
        let members: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
        let mut db = db_with(b"s", &members, 4);
        assert!(db.set_expire_at_ms(b"s", 1_000_000, 0));
        // 2 stay, 18 go: 2 * 5 <= 18, so the rest is rebuilt, as an intset.
        let popped = op_spop_count(&mut db, b"s", 18, 4, 0).unwrap().unwrap();
        assert_eq!((popped.popped.len(), popped.whole), (18, false));
        assert_eq!(encoding(&mut db, b"s"), Some("intset"));
        assert_eq!(db.expire_at_ms(b"s", 0), Some(Some(1_000_000)));
        let popped = op_spop_count(&mut db, b"s", 5, 4, 0).unwrap().unwrap();
        assert_eq!((popped.popped.len(), popped.whole), (2, true));
        assert!(db.get(b"s", 0).is_none());
    }

    #[test]
    fn srandmember_distinct_and_repeated() {
        let members: Vec<Vec<u8>> = (0..100).map(|i| format!("m{i}").into_bytes()).collect();
        let members: Vec<&[u8]> = members.iter().map(Vec::as_slice).collect();
        let mut db = db_with(b"s", &members, 512);
        for count in [1u64, 5, 40, 99, 100, 1000] {
            let got = op_srandmember_count(&mut db, b"s", count, true, 0)
                .unwrap()
                .unwrap();
            let distinct: HashSet<&Elem> = got.iter().collect();
            assert_eq!(got.len() as u64, count.min(100));
            assert_eq!(distinct.len(), got.len());
        }
        let got = op_srandmember_count(&mut db, b"s", 300, false, 0)
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), 300);
    }

    #[test]
    fn store_overwrites_and_deletes() {
        let mut db = db_with(b"a", &[b"1", b"2"], 512);
        db.set(b"dst", Value::from_bytes(b"string"), 0, false);
        let mut l = Lookups::default();
        let s = op_sunion(&mut db, &[b"a", b"missing"], 512, &mut l, 0).unwrap();
        assert_eq!((l.hits, l.missed.as_slice()), (1, &[1][..]));
        assert_eq!(op_store(&mut db, b"dst", s, 0), (2, true));
        assert_eq!(encoding(&mut db, b"dst"), Some("intset"));
        assert_eq!(op_store(&mut db, b"dst", Set::new(), 0), (0, true));
        assert!(db.get(b"dst", 0).is_none());
        assert_eq!(op_store(&mut db, b"dst", Set::new(), 0), (0, false));
    }
}
