//! Expiry commands: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (with NX XX GT LT), TTL PTTL
//! EXPIRETIME PEXPIRETIME, PERSIST.
//!
//! Invariants and the Redis 7.0 behaviour they copy (`expire.c`):
//! - Every deadline is absolute unix milliseconds; relative times are added to the loop
//!   turn's clock (`ctx.now_ms`), never to a clock read here, so the logic is testable.
//! - Options are parsed before the time argument, and both before the key is looked up, so
//!   a bad option wins over a bad number, which wins over a missing key.
//! - A deadline at or before now deletes the key (an explicit delete: not counted in
//!   `expired_keys`) and still answers 1.
//! - A key without a TTL counts as an infinite TTL for GT and LT.
//! - Writes (EXPIRE*, PERSIST) look keys up for writing: they touch the access clock and do
//!   not count keyspace hits; reads (TTL family) do not touch and do count.
//! - Keyspace events: `expire` after the reply, `del` (a deadline in the past) and
//!   `persist` before it; the TTL family fires `keymiss` for a missing key.

use super::args::{arg_eq, arg_i64, c_str};
use super::error::ERR_NOT_INT;
use super::Ctx;
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::Argv;

/// The NX / XX / GT / LT options of the EXPIRE family; XX may combine with GT or LT.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ExpireFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// What `op_expire` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireOutcome {
    /// The key does not exist (reply 0).
    NoKey,
    /// A condition (NX XX GT LT) was not met (reply 0).
    Rejected,
    /// The deadline was stored (reply 1).
    Set,
    /// The deadline was not in the future: the key was deleted (reply 1).
    Deleted,
}

/// The expiry state of a key as the TTL family reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyTtl {
    NoKey,
    Persistent,
    /// Absolute deadline in unix milliseconds.
    At(u64),
}

fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Sets the absolute deadline `when_ms` of `key` subject to `flags`. A deadline at or before
/// `now_ms` deletes the key.
pub fn op_expire(
    db: &mut Db,
    key: &[u8],
    when_ms: i64,
    flags: ExpireFlags,
    now_ms: u64,
) -> ExpireOutcome {
    // lookupKeyWrite: lazily expires and touches the access clock.
    if db.get(key, now_ms).is_none() {
        return ExpireOutcome::NoKey;
    }
    let current_ms = db.expire_at_ms(key, now_ms).flatten().map(to_i64);
    if flags.nx && current_ms.is_some() {
        return ExpireOutcome::Rejected;
    }
    if flags.xx && current_ms.is_none() {
        return ExpireOutcome::Rejected;
    }
    // No TTL is an infinite TTL: GT can never beat it, LT always does.
    if flags.gt && current_ms.is_none_or(|c| when_ms <= c) {
        return ExpireOutcome::Rejected;
    }
    if flags.lt && current_ms.is_some_and(|c| when_ms >= c) {
        return ExpireOutcome::Rejected;
    }
    if when_ms <= to_i64(now_ms) {
        let removed = db.remove(key, now_ms);
        debug_assert!(removed.is_some(), "op_expire: key vanished between lookups");
        return ExpireOutcome::Deleted;
    }
    // when_ms > now_ms >= 0 here, so the conversion cannot fail.
    let deadline_ms = u64::try_from(when_ms).unwrap_or(u64::MAX);
    let stored = db.set_expire_at_ms(key, deadline_ms, now_ms);
    debug_assert!(stored, "op_expire: key vanished between lookups");
    ExpireOutcome::Set
}

/// The expiry of `key`, without touching its access clock.
pub fn op_ttl(db: &mut Db, key: &[u8], now_ms: u64) -> KeyTtl {
    match db.expire_at_ms(key, now_ms) {
        None => KeyTtl::NoKey,
        Some(None) => KeyTtl::Persistent,
        Some(Some(ms)) => KeyTtl::At(ms),
    }
}

/// Removes the TTL of `key`; true if it had one.
pub fn op_persist(db: &mut Db, key: &[u8], now_ms: u64) -> bool {
    // lookupKeyWrite touches the key even when there is no TTL to remove.
    if db.get(key, now_ms).is_none() {
        return false;
    }
    db.persist(key, now_ms)
}

/// Parses NX XX GT LT from `argv[3..]`, with Redis's error texts.
fn parse_flags(argv: &Argv<'_>) -> Result<ExpireFlags, String> {
    let mut f = ExpireFlags::default();
    for i in 3..argv.len() {
        let opt = argv.get(i);
        if arg_eq(opt, "nx") {
            f.nx = true;
        } else if arg_eq(opt, "xx") {
            f.xx = true;
        } else if arg_eq(opt, "gt") {
            f.gt = true;
        } else if arg_eq(opt, "lt") {
            f.lt = true;
        } else {
            return Err(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(c_str(opt))
            ));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if f.gt && f.lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    Ok(f)
}

/// Converts the time argument to absolute milliseconds, rejecting overflow like Redis.
/// `base_ms` is now for relative commands and 0 for the *AT ones.
fn absolute_ms(when: i64, seconds: bool, base_ms: i64) -> Option<i64> {
    let when_ms = if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return None;
        }
        when * 1000
    } else {
        when
    };
    // base_ms >= 0, so only positive overflow is possible.
    when_ms.checked_add(base_ms)
}

fn expire_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, seconds: bool, relative: bool, name: &str) {
    let flags = match parse_flags(argv) {
        Ok(f) => f,
        Err(e) => return ctx.err(&e),
    };
    let Some(when) = arg_i64(argv.get(2)) else {
        return ctx.err(ERR_NOT_INT);
    };
    let base_ms = if relative { to_i64(ctx.now_ms) } else { 0 };
    let Some(when_ms) = absolute_ms(when, seconds, base_ms) else {
        return ctx.err(&format!("ERR invalid expire time in '{name}' command"));
    };
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    match op_expire(ctx.db(), key, when_ms, flags, now_ms) {
        ExpireOutcome::NoKey | ExpireOutcome::Rejected => ctx.reply.int(0),
        // Redis fires `del` before its reply and `expire` after it.
        ExpireOutcome::Deleted => {
            ctx.dirty(1);
            propagate_expiry_of(ctx, key);
            ctx.notify(class::GENERIC, "del", key);
            ctx.reply.int(1);
        }
        ExpireOutcome::Set => {
            ctx.dirty(1);
            propagate_expiry_of(ctx, key);
            ctx.reply.int(1);
            ctx.notify(class::GENERIC, "expire", key);
        }
    }
}

/// States a key's expiry change as Redis 7.0 propagates it, from what the key holds now:
/// `PEXPIREAT` with its absolute deadline, `PERSIST`, or `DEL` when the change deleted it
/// (a deadline in the past). EXPIRE, PEXPIRE, EXPIREAT and GETEX use it.
pub fn propagate_expiry_of(ctx: &mut Ctx<'_>, key: &[u8]) {
    // Nothing records it: no lookup, no deadline to format (as XADD skips its form).
    if !ctx.journaling() {
        return;
    }
    let mut at = itoa::Buffer::new();
    // Time 0 reaps nothing: the key's state right after the change.
    match ctx.db().expire_at_ms(key, 0) {
        None => ctx.propagate(&[b"DEL", key]),
        Some(Some(ms)) => ctx.propagate(&[b"PEXPIREAT", key, at.format(ms).as_bytes()]),
        Some(None) => ctx.propagate(&[b"PERSIST", key]),
    }
}

pub fn cmd_expire(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    expire_generic(ctx, argv, true, true, "expire");
}

pub fn cmd_pexpire(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    expire_generic(ctx, argv, false, true, "pexpire");
}

pub fn cmd_expireat(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    expire_generic(ctx, argv, true, false, "expireat");
}

pub fn cmd_pexpireat(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    expire_generic(ctx, argv, false, false, "pexpireat");
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 no key, -1 no TTL; seconds round half up as
/// Redis's `(ms + 500) / 1000`.
fn ttl_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, millis: bool, absolute: bool) {
    let now_ms = ctx.now_ms;
    let ttl = op_ttl(ctx.db(), argv.get(1), now_ms);
    ctx.read_lookup(ttl != KeyTtl::NoKey, argv.get(1));
    match ttl {
        KeyTtl::NoKey => ctx.reply.int(-2),
        KeyTtl::Persistent => ctx.reply.int(-1),
        KeyTtl::At(deadline_ms) => {
            let ms = if absolute {
                to_i64(deadline_ms)
            } else {
                to_i64(deadline_ms.saturating_sub(now_ms))
            };
            // `ms + 500` cannot overflow in practice (deadlines are at most i64::MAX, which
            // PEXPIREAT allows); saturate so the extreme stays well defined.
            ctx.reply.int(if millis {
                ms
            } else {
                ms.saturating_add(500) / 1000
            });
        }
    }
}

pub fn cmd_ttl(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    ttl_generic(ctx, argv, false, false);
}

pub fn cmd_pttl(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    ttl_generic(ctx, argv, true, false);
}

pub fn cmd_expiretime(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    ttl_generic(ctx, argv, false, true);
}

pub fn cmd_pexpiretime(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    ttl_generic(ctx, argv, true, true);
}

pub fn cmd_persist(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    if op_persist(ctx.db(), argv.get(1), now_ms) {
        ctx.notify(class::GENERIC, "persist", argv.get(1));
        ctx.dirty(1);
        ctx.reply.int(1);
    } else {
        ctx.reply.int(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::Value;

    const NOW_MS: u64 = 1_700_000_000_000;

    fn db_with(keys: &[&[u8]]) -> Db {
        let mut db = Db::new();
        for k in keys {
            db.set(k, Value::Int(1), NOW_MS, false);
        }
        db
    }

    const NONE: ExpireFlags = ExpireFlags {
        nx: false,
        xx: false,
        gt: false,
        lt: false,
    };

    #[test]
    fn expire_sets_and_missing_key_is_nokey() {
        let mut db = db_with(&[b"a"]);
        let at = NOW_MS as i64 + 10_000;
        assert_eq!(
            op_expire(&mut db, b"zz", at, NONE, NOW_MS),
            ExpireOutcome::NoKey
        );
        assert_eq!(
            op_expire(&mut db, b"a", at, NONE, NOW_MS),
            ExpireOutcome::Set
        );
        assert_eq!(op_ttl(&mut db, b"a", NOW_MS), KeyTtl::At(NOW_MS + 10_000));
        db.check_invariants();
    }

    #[test]
    fn expire_in_past_or_now_deletes() {
        let mut db = db_with(&[b"a", b"b", b"c"]);
        assert_eq!(
            op_expire(&mut db, b"a", NOW_MS as i64, NONE, NOW_MS),
            ExpireOutcome::Deleted
        );
        assert_eq!(
            op_expire(&mut db, b"b", -5, NONE, NOW_MS),
            ExpireOutcome::Deleted
        );
        assert_eq!(
            op_expire(&mut db, b"c", NOW_MS as i64 + 1, NONE, NOW_MS),
            ExpireOutcome::Set
        );
        assert_eq!(op_ttl(&mut db, b"a", NOW_MS), KeyTtl::NoKey);
        assert_eq!(op_ttl(&mut db, b"b", NOW_MS), KeyTtl::NoKey);
        // An explicit delete is not an expiry.
        assert_eq!(db.expired_keys, 0);
        // One millisecond later c is past its deadline and lazily reaped.
        assert_eq!(op_ttl(&mut db, b"c", NOW_MS + 2), KeyTtl::NoKey);
        assert_eq!(db.expired_keys, 1);
        db.check_invariants();
    }

    #[test]
    fn nx_xx_gt_lt() {
        let mut db = db_with(&[b"a"]);
        let t = |s: i64| NOW_MS as i64 + s * 1000;
        let xx = ExpireFlags { xx: true, ..NONE };
        let nx = ExpireFlags { nx: true, ..NONE };
        let gt = ExpireFlags { gt: true, ..NONE };
        let lt = ExpireFlags { lt: true, ..NONE };
        let xx_gt = ExpireFlags {
            xx: true,
            gt: true,
            ..NONE
        };
        // No TTL: XX and GT fail, LT succeeds (no TTL is infinite).
        assert_eq!(
            op_expire(&mut db, b"a", t(10), xx, NOW_MS),
            ExpireOutcome::Rejected
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(10), xx_gt, NOW_MS),
            ExpireOutcome::Rejected
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(100), gt, NOW_MS),
            ExpireOutcome::Rejected
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(100), lt, NOW_MS),
            ExpireOutcome::Set
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(50), lt, NOW_MS),
            ExpireOutcome::Set
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(50), lt, NOW_MS),
            ExpireOutcome::Rejected
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(200), lt, NOW_MS),
            ExpireOutcome::Rejected
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(200), gt, NOW_MS),
            ExpireOutcome::Set
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(200), gt, NOW_MS),
            ExpireOutcome::Rejected
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(100), nx, NOW_MS),
            ExpireOutcome::Rejected
        );
        assert_eq!(
            op_expire(&mut db, b"a", t(100), xx, NOW_MS),
            ExpireOutcome::Set
        );
        assert_eq!(op_ttl(&mut db, b"a", NOW_MS), KeyTtl::At(NOW_MS + 100_000));
        assert!(op_persist(&mut db, b"a", NOW_MS));
        assert!(!op_persist(&mut db, b"a", NOW_MS));
        assert!(!op_persist(&mut db, b"zz", NOW_MS));
        assert_eq!(op_ttl(&mut db, b"a", NOW_MS), KeyTtl::Persistent);
        assert_eq!(
            op_expire(&mut db, b"a", t(100), nx, NOW_MS),
            ExpireOutcome::Set
        );
        db.check_invariants();
    }

    #[test]
    fn overflow_checks_match_redis() {
        let now = NOW_MS as i64;
        assert_eq!(absolute_ms(i64::MAX, false, 0), Some(i64::MAX));
        assert_eq!(absolute_ms(i64::MAX, false, now), None);
        assert_eq!(
            absolute_ms(i64::MAX / 1000, true, 0),
            Some(i64::MAX / 1000 * 1000)
        );
        assert_eq!(absolute_ms(i64::MAX / 1000, true, now), None);
        assert_eq!(absolute_ms(i64::MAX / 1000 + 1, true, 0), None);
        assert_eq!(absolute_ms(i64::MIN, true, now), None);
        assert_eq!(
            absolute_ms(i64::MIN / 1000, true, now),
            Some(i64::MIN / 1000 * 1000 + now)
        );
        assert_eq!(absolute_ms(-1, true, now), Some(now - 1000));
    }
}
