//! Hash commands: HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN HEXISTS HKEYS HVALS HGETALL
//! HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, as Redis 7.0's `t_hash.c` does them.
//!
//! As in the other families, `op_*` functions work on a `Db` and return values or an
//! [`OpError`] without knowing RESP, and `cmd_*` functions parse arguments, call an op and
//! write one reply. Read commands get the hash from [`op_read`] and write their reply from
//! the [`Hash`] API directly, since what they answer is the hash's contents.
//!
//! Invariants kept here, all taken from Redis:
//! - The keyspace never holds an empty hash: a write that would create a key only stores it
//!   once it holds a field, and HDEL deletes the key with its last field.
//! - Read commands (HGET HMGET HLEN HSTRLEN HEXISTS HKEYS HVALS HGETALL HRANDFIELD HSCAN)
//!   count a keyspace hit or miss; a key of another type counts as a hit. Writes count none.
//! - Arguments are validated in Redis's order: HINCRBY*'s increment and HRANDFIELD's count
//!   before the key lookup (so a missing key still answers the argument error), HSCAN's cursor
//!   before and its options after the lookup (a missing key answers an empty page whatever
//!   the options say).
//! - Encoding conversion follows `hashTypeTryConversion` (HSET and HMSET check every argument
//!   before writing; HSETNX only once it knows it will write) and `hashTypeSet` (every write
//!   checks its own field and value, then the entry count).
//! - HINCRBYFLOAT computes in x87 long double through `util::f80::LongDouble`, the same exact
//!   emulation INCRBYFLOAT uses.
//! - Keyspace events, in `t_hash.c`'s places: `new` (Redis creates the hash before writing
//!   it) before the reply, and `hset` (HSET, HMSET, HSETNX), `hincrby`, `hincrbyfloat` after
//!   it; HDEL's `hdel` and `del` (last field) before it. Reads fire `keymiss` on a miss.

use std::cell::Cell;

use super::args::{arg_i64, opt_is, parse_scan_args, parse_scan_cursor, parts};
use super::error::{reply_err, OpError};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::types::hash::{Hash, Limits};
use crate::util::f80::LongDouble;
use crate::util::glob::glob_match;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// The configured conversion thresholds.
fn limits(ctx: &Ctx<'_>) -> Limits {
    Limits {
        entries_max: ctx.srv.config.hash_max_listpack_entries,
        value_len_max: ctx.srv.config.hash_max_listpack_value,
    }
}

fn xorshift64(x: u64) -> u64 {
    let mut x = x;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

thread_local! {
    /// HRANDFIELD's random source. The server runs its commands on one thread, so one
    /// generator serves every client; the seed differs per process.
    static RNG: Cell<u64> = Cell::new({
        use std::hash::BuildHasher;
        // `| 1` keeps xorshift's state non-zero.
        foldhash::quality::RandomState::default().hash_one(0x6861_7368_u64) | 1
    });
}

fn rand_u64() -> u64 {
    RNG.with(|c| {
        let x = xorshift64(c.get());
        c.set(x);
        x
    })
}

// ---------------------------------------------------------------------------------------------
// Keyspace operations

/// A hash for reading: Ok(None) if the key is missing, WrongType if it holds something else.
/// `&mut` because a hashtable lookup performs a rehash step.
pub fn op_read<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut Hash>, OpError> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(OpError::WrongType),
    }
}

/// Runs `f` on the hash at `key` (Redis's `hashTypeLookupWriteOrCreate`). For a missing key
/// `f` gets a new empty hash, which is stored only if `f` succeeds and leaves it non-empty.
fn with_hash_for_write<R>(
    db: &mut Db,
    key: &[u8],
    now_ms: u64,
    f: impl FnOnce(&mut Hash) -> Result<R, OpError>,
) -> Result<R, OpError> {
    match db.get_mut(key, now_ms) {
        Some(Value::Hash(h)) => return f(h),
        Some(_) => return Err(OpError::WrongType),
        None => {}
    }
    let mut h = Hash::new();
    let r = f(&mut h)?;
    if !h.is_empty() {
        drop(db.set(key, Value::Hash(Box::new(h)), now_ms, false));
    }
    Ok(r)
}

/// HSET / HMSET: `args` alternates fields and values (even length). Returns how many fields
/// were new.
pub fn op_hset(
    db: &mut Db,
    key: &[u8],
    args: &[&[u8]],
    lim: Limits,
    now_ms: u64,
) -> Result<usize, OpError> {
    debug_assert!(args.len().is_multiple_of(2) && !args.is_empty());
    with_hash_for_write(db, key, now_ms, |h| {
        h.convert_for_args(args.iter().copied(), lim);
        Ok(args
            .chunks_exact(2)
            .filter(|fv| h.set(fv[0], fv[1], lim))
            .count())
    })
}

/// HSETNX: true if the field was set (it did not exist).
pub fn op_hsetnx(
    db: &mut Db,
    key: &[u8],
    field: &[u8],
    value: &[u8],
    lim: Limits,
    now_ms: u64,
) -> Result<bool, OpError> {
    with_hash_for_write(db, key, now_ms, |h| {
        if h.contains(field) {
            return Ok(false);
        }
        h.convert_for_args([field, value].into_iter(), lim);
        h.set(field, value, lim);
        Ok(true)
    })
}

/// HDEL: the number of fields removed; None if the key is missing. Deletes the key with its
/// last field.
pub fn op_hdel(
    db: &mut Db,
    key: &[u8],
    fields: &[&[u8]],
    now_ms: u64,
) -> Result<Option<usize>, OpError> {
    let Some(h) = op_read(db, key, now_ms)? else {
        return Ok(None);
    };
    let mut deleted = 0;
    for f in fields {
        if h.remove(f) {
            deleted += 1;
            if h.is_empty() {
                // Redis stops here: nothing is left to delete.
                break;
            }
        }
    }
    if h.is_empty() {
        drop(db.remove(key, now_ms));
    }
    Ok(Some(deleted))
}

/// HINCRBY: the new value.
pub fn op_hincrby(
    db: &mut Db,
    key: &[u8],
    field: &[u8],
    incr: i64,
    lim: Limits,
    now_ms: u64,
) -> Result<i64, OpError> {
    with_hash_for_write(db, key, now_ms, |h| {
        let old = match h.get(field) {
            None => 0,
            Some(v) => arg_i64(v).ok_or(OpError::HashValueNotInteger)?,
        };
        let new = old.checked_add(incr).ok_or(OpError::IncrOverflow)?;
        h.set(field, itoa::Buffer::new().format(new).as_bytes(), lim);
        Ok(new)
    })
}

/// HINCRBYFLOAT (increment already parsed and finite): the new value's text, which is also
/// what is stored.
pub fn op_hincrbyfloat(
    db: &mut Db,
    key: &[u8],
    field: &[u8],
    incr: LongDouble,
    lim: Limits,
    now_ms: u64,
) -> Result<Vec<u8>, OpError> {
    with_hash_for_write(db, key, now_ms, |h| {
        let old = match h.get(field) {
            None => LongDouble::ZERO,
            Some(v) => LongDouble::parse(v).ok_or(OpError::HashValueNotFloat)?,
        };
        let sum = old.checked_add(incr).ok_or(OpError::NanOrInfinity)?;
        let mut text = Vec::with_capacity(32);
        sum.format_human(&mut text);
        h.set(field, &text, lim);
        Ok(text)
    })
}

/// One HSCAN page: the next cursor and the flat field, value list after MATCH filtering.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScanPage {
    pub cursor: u64,
    pub items: Vec<Vec<u8>>,
}

/// HSCAN on a hash (Redis's `scanGenericCommand`): COUNT is the number of fields a hashtable
/// page aims for (redis-server 7.0.15 answers COUNT 1 with one pair, COUNT 10 with ten), with
/// at most COUNT * 10 dict steps; MATCH filters fields after fetching, so a page may be empty
/// while the cursor is not 0.
pub fn hscan(h: &Hash, cursor: u64, count: usize, pattern: Option<&[u8]>) -> ScanPage {
    let mut page = ScanPage::default();
    page.cursor = h.scan(cursor, count, count.saturating_mul(10), |f, v| {
        if pattern.is_none_or(|p| glob_match(p, f, false)) {
            page.items.push(f.to_vec());
            page.items.push(v.to_vec());
        }
    });
    page
}

// ---------------------------------------------------------------------------------------------
// Commands

fn hset_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, is_hmset: bool) {
    if argv.len() % 2 == 1 {
        return reply_err(
            ctx,
            OpError::Arity(if is_hmset {
                "ERR wrong number of arguments for 'hmset' command"
            } else {
                "ERR wrong number of arguments for 'hset' command"
            }),
        );
    }
    let args: Vec<&[u8]> = argv.iter().skip(2).collect();
    let lim = limits(ctx);
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_hset(ctx.db(), argv.get(1), &args, lim, now_ms) {
        Ok(created) => {
            // Redis adds the key (`new`) before its reply and fires `hset` after it.
            ctx.notify_new_since(mark, argv.get(1));
            ctx.dirty(args.len() as u64 / 2);
            if is_hmset {
                ctx.reply.ok();
            } else {
                ctx.reply.int(created as i64);
            }
            ctx.notify(class::HASH, "hset", argv.get(1));
        }
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_hset(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    hset_generic(ctx, argv, false);
}

pub fn cmd_hmset(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    hset_generic(ctx, argv, true);
}

pub fn cmd_hsetnx(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let lim = limits(ctx);
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_hsetnx(ctx.db(), argv.get(1), argv.get(2), argv.get(3), lim, now_ms) {
        Ok(set) => {
            ctx.notify_new_since(mark, argv.get(1));
            ctx.reply.int(i64::from(set));
            if set {
                ctx.notify(class::HASH, "hset", argv.get(1));
                ctx.dirty(1);
            }
        }
        Err(e) => reply_err(ctx, e),
    }
}

/// Runs a read command: looks the hash up, counts the hit or miss, answers WRONGTYPE or
/// `missing` itself, and calls `found` with the hash otherwise.
fn read_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    missing: impl FnOnce(&mut Reply<'_>),
    found: impl FnOnce(&mut Hash, &mut Reply<'_>),
) {
    let now_ms = ctx.now_ms;
    let (db, reply) = parts(ctx);
    match op_read(db, key, now_ms) {
        Ok(Some(h)) => found(h, reply),
        Ok(None) => {
            ctx.miss(key);
            return missing(&mut ctx.reply);
        }
        Err(e) => reply.error(e.message()),
    }
    ctx.hit();
}

pub fn cmd_hget(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let field = argv.get(2);
    read_generic(
        ctx,
        argv.get(1),
        |r| r.null(),
        |h, r| match h.get(field) {
            Some(v) => r.bulk(v),
            None => r.null(),
        },
    );
}

pub fn cmd_hmget(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let n = argv.len() - 2;
    read_generic(
        ctx,
        argv.get(1),
        |r| {
            r.array(n);
            for _ in 0..n {
                r.null();
            }
        },
        |h, r| {
            r.array(n);
            for f in argv.iter().skip(2) {
                match h.get(f) {
                    Some(v) => r.bulk(v),
                    None => r.null(),
                }
            }
        },
    );
}

pub fn cmd_hdel(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let fields: Vec<&[u8]> = argv.iter().skip(2).collect();
    let now_ms = ctx.now_ms;
    match op_hdel(ctx.db(), argv.get(1), &fields, now_ms) {
        Ok(deleted) => {
            let deleted = deleted.unwrap_or(0);
            if deleted > 0 {
                ctx.notify(class::HASH, "hdel", argv.get(1));
                ctx.notify_del_if_gone(argv.get(1));
            }
            ctx.dirty(deleted as u64);
            ctx.reply.int(deleted as i64);
        }
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_hlen(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    read_generic(ctx, argv.get(1), |r| r.int(0), |h, r| r.int(h.len() as i64));
}

pub fn cmd_hstrlen(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let field = argv.get(2);
    read_generic(
        ctx,
        argv.get(1),
        |r| r.int(0),
        |h, r| r.int(h.get(field).map_or(0, |v| v.len() as i64)),
    );
}

pub fn cmd_hexists(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let field = argv.get(2);
    read_generic(
        ctx,
        argv.get(1),
        |r| r.int(0),
        |h, r| r.int(i64::from(h.contains(field))),
    );
}

/// HKEYS, HVALS, HGETALL (Redis's `genericHgetallCommand`): HGETALL is a map in RESP3 (an
/// empty one for a missing key), the others arrays.
fn getall_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, keys: bool, values: bool) {
    let both = keys && values;
    read_generic(
        ctx,
        argv.get(1),
        |r| {
            if both {
                r.map(0);
            } else {
                r.array(0);
            }
        },
        |h, r| {
            if both {
                r.map(h.len());
            } else {
                r.array(h.len());
            }
            h.for_each(|f, v| {
                if keys {
                    r.bulk(f);
                }
                if values {
                    r.bulk(v);
                }
            });
        },
    );
}

pub fn cmd_hkeys(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    getall_generic(ctx, argv, true, false);
}

pub fn cmd_hvals(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    getall_generic(ctx, argv, false, true);
}

pub fn cmd_hgetall(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    getall_generic(ctx, argv, true, true);
}

pub fn cmd_hincrby(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(incr) = arg_i64(argv.get(3)) else {
        return reply_err(ctx, OpError::NotInteger);
    };
    let lim = limits(ctx);
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_hincrby(ctx.db(), argv.get(1), argv.get(2), incr, lim, now_ms) {
        Ok(v) => {
            ctx.notify_new_since(mark, argv.get(1));
            ctx.dirty(1);
            ctx.reply.int(v);
            ctx.notify(class::HASH, "hincrby", argv.get(1));
        }
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_hincrbyfloat(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(incr) = LongDouble::parse(argv.get(3)) else {
        return reply_err(ctx, OpError::NotFloat);
    };
    if !incr.is_finite() {
        return reply_err(ctx, OpError::IncrNotFinite);
    }
    let lim = limits(ctx);
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_hincrbyfloat(ctx.db(), argv.get(1), argv.get(2), incr, lim, now_ms) {
        Ok(text) => {
            ctx.notify_new_since(mark, argv.get(1));
            ctx.dirty(1);
            ctx.reply.bulk(&text);
            ctx.notify(class::HASH, "hincrbyfloat", argv.get(1));
            // The result, not the increment: a replay must not depend on float rounding.
            ctx.propagate(&[b"HSET", argv.get(1), argv.get(2), &text]);
        }
        Err(e) => reply_err(ctx, e),
    }
}

/// HRANDFIELD's count argument and WITHVALUES, validated as Redis does before the lookup.
fn parse_hrandfield(argv: &Argv<'_>) -> Result<(i64, bool), OpError> {
    let count = arg_i64(argv.get(2)).ok_or(OpError::NotInteger)?;
    if count == i64::MIN {
        return Err(OpError::RandomCountRange);
    }
    if argv.len() > 4 || (argv.len() == 4 && !opt_is(argv.get(3), "WITHVALUES")) {
        return Err(OpError::Syntax);
    }
    let with_values = argv.len() == 4;
    // The RESP2 reply has 2 * count items, which must not overflow.
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(OpError::OutOfRange);
    }
    Ok((count, with_values))
}

/// Writes one HRANDFIELD element: the field, or with values a pair (a nested array in RESP3,
/// two flat items in RESP2).
fn reply_random_pair(r: &mut Reply<'_>, with_values: bool, f: &[u8], v: &[u8]) {
    if with_values && r.resp3 {
        r.array(2);
    }
    r.bulk(f);
    if with_values {
        r.bulk(v);
    }
}

pub fn cmd_hrandfield(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() < 3 {
        return read_generic(
            ctx,
            argv.get(1),
            |r| r.null(),
            |h, r| match h.random_pair(rand_u64) {
                Some((f, _)) => r.bulk(f),
                None => r.null(),
            },
        );
    }
    let (count, with_values) = match parse_hrandfield(argv) {
        Ok(p) => p,
        Err(e) => return reply_err(ctx, e),
    };
    let reply_bytes_max = ctx.srv.config.bulk_len_max;
    let mut overflow = false;
    read_generic(
        ctx,
        argv.get(1),
        |r| r.array(0),
        |h, r| {
            let repeats = count < 0;
            let n = count.unsigned_abs() as usize;
            let per_item = if with_values && !r.resp3 { 2 } else { 1 };
            if n == 0 {
                r.array(0);
            } else if repeats || n == 1 {
                // A negative count is not bounded by the hash: HRANDFIELD h -1000000000 asks
                // for a reply of many GB. Redis stops such a loop when the client is marked
                // to close for overcoming its output limits; we do the same at
                // proto-max-bulk-len bytes, dropping the partial reply.
                let start = r.buf.len();
                r.array(n * per_item);
                h.random_pairs_with_repeats(n, rand_u64, |f, v| {
                    reply_random_pair(r, with_values, f, v);
                    overflow = r.buf.len() - start > reply_bytes_max;
                    !overflow
                });
                if overflow {
                    r.buf.truncate(start);
                }
            } else if n >= h.len() {
                r.array(h.len() * per_item);
                h.for_each(|f, v| reply_random_pair(r, with_values, f, v));
            } else {
                r.array(n * per_item);
                h.random_pairs_unique(n, rand_u64, |f, v| reply_random_pair(r, with_values, f, v));
            }
        },
    );
    if overflow {
        let slot = ctx.slot;
        log::warn!("Client closed for overcoming of output buffer limits (HRANDFIELD reply).");
        ctx.srv.close_after_reply(slot);
    }
}

pub fn cmd_hscan(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(cursor) = parse_scan_cursor(argv.get(2)) else {
        return ctx.err("ERR invalid cursor");
    };
    read_generic(
        ctx,
        argv.get(1),
        |r| {
            r.array(2);
            r.bulk(b"0");
            r.array(0);
        },
        |h, r| {
            let opts = match parse_scan_args(argv, 3) {
                Ok(o) => o,
                Err(e) => return r.error(e),
            };
            let page = hscan(h, cursor, opts.count, opts.pattern);
            r.array(2);
            r.bulk(itoa::Buffer::new().format(page.cursor).as_bytes());
            r.array(page.items.len());
            for item in &page.items {
                r.bulk(item);
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: u64 = 1_700_000_000_000;
    const LIM: Limits = Limits {
        entries_max: 4,
        value_len_max: 8,
    };

    #[test]
    fn write_ops_create_and_delete_keys() {
        let mut db = Db::new();
        assert_eq!(
            op_hset(&mut db, b"h", &[b"a", b"1", b"b", b"2"], LIM, NOW_MS),
            Ok(2)
        );
        assert_eq!(op_hsetnx(&mut db, b"h", b"a", b"9", LIM, NOW_MS), Ok(false));
        assert_eq!(op_hincrby(&mut db, b"h", b"a", 5, LIM, NOW_MS), Ok(6));
        assert_eq!(
            op_hincrby(&mut db, b"h", b"a", i64::MAX, LIM, NOW_MS),
            Err(OpError::IncrOverflow)
        );
        let incr = LongDouble::parse(b"0.1").unwrap();
        assert_eq!(
            op_hincrbyfloat(&mut db, b"h", b"b", incr, LIM, NOW_MS),
            Ok(b"2.1".to_vec())
        );
        assert_eq!(
            op_hdel(&mut db, b"h", &[b"a", b"x", b"b"], NOW_MS),
            Ok(Some(2))
        );
        assert!(db.get(b"h", NOW_MS).is_none(), "empty hash deleted");
        assert_eq!(op_hdel(&mut db, b"h", &[b"a"], NOW_MS), Ok(None));
        // A failed write on a missing key stores nothing.
        db.set(b"s", Value::from_bytes(b"x"), NOW_MS, false);
        assert_eq!(
            op_hset(&mut db, b"s", &[b"a", b"1"], LIM, NOW_MS),
            Err(OpError::WrongType)
        );
    }

    #[test]
    fn hscan_listpack_returns_everything_filtered() {
        let mut h = Hash::new();
        for f in ["a1", "b1", "a2"] {
            h.set(f.as_bytes(), b"v", LIM);
        }
        let page = hscan(&h, 77, 1, Some(b"a*"));
        assert_eq!(page.cursor, 0);
        assert_eq!(
            page.items,
            vec![b"a1".to_vec(), b"v".to_vec(), b"a2".to_vec(), b"v".to_vec()]
        );
    }
}
