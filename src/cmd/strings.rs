//! String commands: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX APPEND
//! STRLEN GETRANGE (also answering SUBSTR, its old name) SETRANGE INCR DECR INCRBY DECRBY
//! INCRBYFLOAT LCS, as Redis 7.0's `t_string.c` does them (the bit commands on strings are in
//! `bitmaps`).
//!
//! Each command is split in two: `op_*` works on a `Db` (keys, values, the loop turn's clock)
//! and returns a value or an [`OpError`], knowing nothing of RESP; `cmd_*` parses the
//! arguments, calls the op and writes the one reply. `OpError`s become RESP errors only in
//! [`OpError::message`].
//!
//! Invariants kept here, all taken from Redis:
//! - Read lookups (GET, MGET, GETRANGE, STRLEN, LCS, GETSET, GETDEL, GETEX, SET ... GET) count a
//!   keyspace hit or miss; a key of another type counts as a hit. Write lookups (APPEND,
//!   SETRANGE, INCR*, SET without GET) count nothing.
//! - An op that answers `Ok(None)` for a read found no key (a miss); `Err(WrongType)` means the
//!   key was found (a hit).
//! - Commands that change a value in place (APPEND, SETRANGE, INCR*, INCRBYFLOAT) keep its TTL;
//!   commands that replace it (SET without KEEPTTL, GETSET, MSET) drop it.
//! - Expiry times are absolute unix milliseconds computed from `ctx.now_ms`. SET with EXAT/PXAT
//!   in the past stores the key with that deadline (lazy expiry reaps it, as 7.0 does); GETEX
//!   with EXAT/PXAT in the past deletes the key at once.
//! - INCRBYFLOAT computes in x87 80-bit extended precision (Redis's `long double` on x86-64),
//!   emulated exactly in [`crate::util::f80`], so stored texts match Redis digit for digit.
//! - Keyspace events fire where `t_string.c` fires them, checked against redis-server
//!   7.0.15 byte for byte (`tests/notify_events.rs`): SET's `set` (and `expire` for an
//!   expiry option) before its reply but after the old value SET … GET answers; `append`,
//!   `setrange`, `incrby` (every INCR/DECR form) and `incrbyfloat` before the reply; MSET's
//!   `set` key by key; GETDEL's `del` and GETEX's `expire`/`persist`/`del` after the value.
//!   `new` fires when a write adds its key, before that key's own event; `keymiss` where a
//!   read lookup misses, before the reply (inside MGET's array, one per missing key).

use super::args::{arg_i64, opt_is, parts};
use super::error::{
    reply_err, OpError, ERR_EXPIRE_GETEX, ERR_EXPIRE_PSETEX, ERR_EXPIRE_SET, ERR_EXPIRE_SETEX,
};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::util::f80::LongDouble;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// Writes a string value as a bulk reply (integers are formatted on the stack). Inlined:
/// GET's hot path, where LLVM's own choice changes with how the crate is split into codegen
/// units (a call costs ~5 instructions per GET, callgrind).
#[inline]
fn reply_value(reply: &mut Reply<'_>, v: &Value) {
    let mut ib = itoa::Buffer::new();
    match v.str_bytes(&mut ib) {
        Some(b) => reply.bulk(b),
        // Ops never hand a non-string here; answer nil rather than panic.
        None => reply.null(),
    }
}

/// The length limit for strings APPEND and SETRANGE build.
fn bulk_len_max(ctx: &Ctx<'_>) -> usize {
    ctx.srv.config.bulk_len_max
}

/// A string value's bytes copied into a vector we may grow (for in-place modifications).
fn into_raw_vec(v: Value) -> Vec<u8> {
    match v {
        Value::Raw(b) | Value::Emb(b) => b.into_vec(),
        other => {
            let mut ib = itoa::Buffer::new();
            other
                .str_bytes(&mut ib)
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expiry options (SET, SETEX, PSETEX, GETEX)

const F_NX: u32 = 1 << 0;
const F_XX: u32 = 1 << 1;
const F_GET: u32 = 1 << 2;
const F_KEEPTTL: u32 = 1 << 3;
const F_PERSIST: u32 = 1 << 4;
const F_EX: u32 = 1 << 5;
const F_PX: u32 = 1 << 6;
const F_EXAT: u32 = 1 << 7;
const F_PXAT: u32 = 1 << 8;
const F_ANY_EXPIRE: u32 = F_EX | F_PX | F_EXAT | F_PXAT;

/// An expire argument not yet validated: which option, and its text.
#[derive(Clone, Copy)]
pub struct ExpireArg<'a> {
    flag: u32,
    text: &'a [u8],
}

/// Options of SET (`is_set`) or GETEX, parsed exactly as Redis's
/// `parseExtendedStringArgumentsOrReply`: a repeated option is allowed (the last expire
/// wins), conflicting ones are a syntax error, as is an expire option without a value.
fn parse_extended<'a>(
    argv: &Argv<'a>,
    start: usize,
    is_set: bool,
) -> Result<(u32, Option<ExpireArg<'a>>), OpError> {
    let mut flags = 0u32;
    let mut expire = None;
    let mut j = start;
    while j < argv.len() {
        let opt = argv.get(j);
        let has_next = j + 1 < argv.len();
        let expire_ok = |own: u32| {
            flags & (F_KEEPTTL | F_PERSIST) == 0 && flags & (F_ANY_EXPIRE & !own) == 0 && has_next
        };
        let expire_flag = if opt_is(opt, "EX") {
            Some(F_EX)
        } else if opt_is(opt, "PX") {
            Some(F_PX)
        } else if opt_is(opt, "EXAT") {
            Some(F_EXAT)
        } else if opt_is(opt, "PXAT") {
            Some(F_PXAT)
        } else {
            None
        };
        if is_set && opt_is(opt, "NX") && flags & F_XX == 0 {
            flags |= F_NX;
        } else if is_set && opt_is(opt, "XX") && flags & F_NX == 0 {
            flags |= F_XX;
        } else if is_set && opt_is(opt, "GET") {
            flags |= F_GET;
        } else if is_set && opt_is(opt, "KEEPTTL") && flags & (F_PERSIST | F_ANY_EXPIRE) == 0 {
            flags |= F_KEEPTTL;
        } else if !is_set && opt_is(opt, "PERSIST") && flags & (F_ANY_EXPIRE | F_KEEPTTL) == 0 {
            flags |= F_PERSIST;
        } else if let Some(f) = expire_flag.filter(|&f| expire_ok(f)) {
            flags |= f;
            expire = Some(ExpireArg {
                flag: f,
                text: argv.get(j + 1),
            });
            j += 1;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    Ok((flags, expire))
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute deadline in unix ms. Values <= 0, and
/// relative ones that overflow when `now_ms` is added, are invalid.
fn expire_deadline_ms(
    e: ExpireArg<'_>,
    now_ms: u64,
    invalid: &'static str,
) -> Result<u64, OpError> {
    let v = arg_i64(e.text).ok_or(OpError::NotInteger)?;
    let seconds = e.flag & (F_EX | F_EXAT) != 0;
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(OpError::InvalidExpire(invalid));
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if e.flag & (F_EX | F_PX) != 0 {
        let now = i64::try_from(now_ms).map_err(|_| OpError::InvalidExpire(invalid))?;
        ms = ms.checked_add(now).ok_or(OpError::InvalidExpire(invalid))?;
    }
    debug_assert!(ms > 0);
    Ok(ms as u64)
}

// ---------------------------------------------------------------------------------------------
// Keyspace operations

/// GET: the value of a string key; None if missing.
pub fn op_get<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Result<Option<&'d Value>, OpError> {
    match db.get(key, now_ms) {
        None => Ok(None),
        Some(v) if !v.is_string() => Err(OpError::WrongType),
        Some(v) => Ok(Some(v)),
    }
}

/// When SET writes, relative to the key existing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SetCond {
    Always,
    /// NX: only if missing.
    IfMissing,
    /// XX: only if present.
    IfExists,
}

#[derive(Clone, Copy, Debug)]
pub struct SetOpts {
    pub cond: SetCond,
    /// SET ... GET: the previous value is wanted (and must be a string).
    pub get: bool,
    pub keep_ttl: bool,
    /// Absolute deadline to give the key after writing it.
    pub deadline_ms: Option<u64>,
}

#[derive(Debug)]
pub enum SetOutcome {
    /// Written; the previous live value (only reported when `get` was asked), and whether
    /// the write added the key (Redis's `dbAdd`, which fires `new`).
    Written { old: Option<Value>, created: bool },
    /// NX/XX stopped the write; with `get`, a copy of the current value.
    Aborted { old: Option<Value> },
}

/// SET and its variants (Redis's `setGenericCommand`, after the expire was validated).
pub fn op_set(
    db: &mut Db,
    key: &[u8],
    value: Value,
    opts: SetOpts,
    now_ms: u64,
) -> Result<SetOutcome, OpError> {
    let exists = if opts.get {
        match db.get(key, now_ms) {
            Some(v) if !v.is_string() => return Err(OpError::WrongType),
            found => found.is_some(),
        }
    } else if opts.cond == SetCond::Always {
        // A plain SET needs no lookup of its own: `Db::set` reaps an expired key as the
        // lookup would have (one hash-table walk per SET instead of two).
        false
    } else if opts.cond == SetCond::IfMissing {
        // Redis's lookup touches the key NX finds; with XX the overwrite below touches it.
        db.get(key, now_ms).is_some()
    } else {
        db.contains(key, now_ms)
    };
    let blocked = match opts.cond {
        SetCond::Always => false,
        SetCond::IfMissing => exists,
        SetCond::IfExists => !exists,
    };
    if blocked {
        // Only SET NX GET on an existing key gets here with a value to report: a rare path,
        // so the copy is acceptable.
        let old = if opts.get && exists {
            db.peek(key, now_ms).cloned()
        } else {
            None
        };
        return Ok(SetOutcome::Aborted { old });
    }
    let old = db.set(key, value, now_ms, opts.keep_ttl);
    if let Some(deadline_ms) = opts.deadline_ms {
        // A deadline already past is stored as is; the next lookup reaps the key (7.0).
        let stored = db.set_expire_at_ms(key, deadline_ms, now_ms);
        debug_assert!(stored);
    }
    Ok(SetOutcome::Written {
        created: old.is_none(),
        old: if opts.get { old } else { None },
    })
}

/// GETSET: replaces the value (dropping any TTL) and returns the previous one.
pub fn op_getset(
    db: &mut Db,
    key: &[u8],
    value: Value,
    now_ms: u64,
) -> Result<Option<Value>, OpError> {
    if let Some(v) = db.get(key, now_ms) {
        if !v.is_string() {
            return Err(OpError::WrongType);
        }
    }
    Ok(db.set(key, value, now_ms, false))
}

/// GETDEL: removes a string key and returns its value.
pub fn op_getdel(db: &mut Db, key: &[u8], now_ms: u64) -> Result<Option<Value>, OpError> {
    match db.get(key, now_ms) {
        None => return Ok(None),
        Some(v) if !v.is_string() => return Err(OpError::WrongType),
        Some(_) => {}
    }
    Ok(db.remove(key, now_ms))
}

/// What GETEX does to the TTL after reading.
#[derive(Clone, Copy, Debug)]
pub enum GetexAction<'a> {
    Keep,
    Persist,
    Expire(ExpireArg<'a>),
}

impl std::fmt::Debug for ExpireArg<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ExpireArg({:#x}, {:?})",
            self.flag,
            String::from_utf8_lossy(self.text)
        )
    }
}

#[derive(Debug)]
pub enum GetexOutcome {
    Missing,
    /// The value was read; `changed` tells whether the keyspace changed (dirty).
    Read {
        changed: bool,
    },
    /// EXAT/PXAT in the past: the key was deleted; here is its value.
    Deleted(Value),
}

/// GETEX: the expire value is validated only once the key is known to exist and be a
/// string, as Redis does (a missing key answers nil whatever the expire says).
pub fn op_getex(
    db: &mut Db,
    key: &[u8],
    action: GetexAction<'_>,
    now_ms: u64,
) -> Result<GetexOutcome, OpError> {
    match db.get(key, now_ms) {
        None => return Ok(GetexOutcome::Missing),
        Some(v) if !v.is_string() => return Err(OpError::WrongType),
        Some(_) => {}
    }
    let changed = match action {
        GetexAction::Keep => false,
        GetexAction::Persist => db.persist(key, now_ms),
        GetexAction::Expire(e) => {
            let deadline_ms = expire_deadline_ms(e, now_ms, ERR_EXPIRE_GETEX)?;
            if e.flag & (F_EXAT | F_PXAT) != 0 && deadline_ms <= now_ms {
                // Redis's checkAlreadyExpired: delete now (a DEL, not an expiry).
                return match db.remove(key, now_ms) {
                    Some(v) => Ok(GetexOutcome::Deleted(v)),
                    None => Ok(GetexOutcome::Missing),
                };
            }
            db.set_expire_at_ms(key, deadline_ms, now_ms)
        }
    };
    Ok(GetexOutcome::Read { changed })
}

/// One MGET lookup: (found, the value if it is a string). Non-strings answer nil but count
/// as hits.
pub fn op_mget_one<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> (bool, Option<&'d Value>) {
    match db.get(key, now_ms) {
        None => (false, None),
        Some(v) if !v.is_string() => (true, None),
        Some(v) => (true, Some(v)),
    }
}

/// One pair of MSET / MSETNX: sets it, dropping any TTL. True if the key was added.
pub fn op_mset_one(db: &mut Db, key: &[u8], value: &[u8], now_ms: u64) -> bool {
    db.set(key, Value::from_bytes(value), now_ms, false)
        .is_none()
}

/// MSETNX's condition: none of the keys exists.
pub fn op_msetnx_allowed<'a>(
    db: &mut Db,
    mut pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    now_ms: u64,
) -> bool {
    // A lookup each, touching the key that stops it, as Redis's.
    !pairs.any(|(k, _)| db.get(k, now_ms).is_some())
}

/// APPEND: the new length. A new key gets the argument's best encoding; an existing value
/// becomes `raw` (Redis unshares it), keeping its TTL.
pub fn op_append(
    db: &mut Db,
    key: &[u8],
    tail: &[u8],
    len_max: usize,
    now_ms: u64,
) -> Result<usize, OpError> {
    let Some(v) = db.get_mut(key, now_ms) else {
        db.set(key, Value::from_bytes(tail), now_ms, false);
        return Ok(tail.len());
    };
    if !v.is_string() {
        return Err(OpError::WrongType);
    }
    let cur = v.str_len().unwrap_or(0);
    if cur.saturating_add(tail.len()) > len_max {
        return Err(OpError::StringTooLong);
    }
    let mut bytes = into_raw_vec(std::mem::replace(v, Value::Int(0)));
    // Exact growth: the boxed slice we store cannot keep spare capacity anyway.
    bytes.reserve_exact(tail.len());
    bytes.extend_from_slice(tail);
    let len = bytes.len();
    *v = Value::raw(bytes);
    Ok(len)
}

/// STRLEN: None if missing.
pub fn op_strlen(db: &mut Db, key: &[u8], now_ms: u64) -> Result<Option<usize>, OpError> {
    Ok(op_get(db, key, now_ms)?.map(|v| v.str_len().unwrap_or(0)))
}

/// Redis 7.0's GETRANGE index arithmetic: the byte range to return, or None for "".
/// Kept quirk: an end far below -len clamps to 0, so `GETRANGE "hello" 0 -100` is "h".
pub fn getrange_bounds(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let n = len as i64;
    let mut start = if start < 0 {
        n.wrapping_add(start)
    } else {
        start
    };
    let mut end = if end < 0 { n.wrapping_add(end) } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= n {
        end = n - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize + 1))
}

/// SETRANGE (offset already checked non-negative): the new length. An empty value writes
/// nothing and answers the current length (0 without creating a missing key).
pub fn op_setrange(
    db: &mut Db,
    key: &[u8],
    offset: usize,
    value: &[u8],
    len_max: usize,
    now_ms: u64,
) -> Result<usize, OpError> {
    let total = offset.checked_add(value.len());
    let Some(v) = db.get_mut(key, now_ms) else {
        if value.is_empty() {
            return Ok(0);
        }
        let total = total
            .filter(|&t| t <= len_max)
            .ok_or(OpError::StringTooLong)?;
        let mut bytes = vec![0u8; total];
        bytes[offset..].copy_from_slice(value);
        db.set(key, Value::raw(bytes), now_ms, false);
        return Ok(total);
    };
    if !v.is_string() {
        return Err(OpError::WrongType);
    }
    let cur = v.str_len().unwrap_or(0);
    if value.is_empty() {
        return Ok(cur);
    }
    let total = total
        .filter(|&t| t <= len_max)
        .ok_or(OpError::StringTooLong)?;
    let mut bytes = into_raw_vec(std::mem::replace(v, Value::Int(0)));
    if bytes.len() < total {
        bytes.resize(total, 0);
    }
    bytes[offset..total].copy_from_slice(value);
    let len = bytes.len();
    *v = Value::raw(bytes);
    Ok(len)
}

/// INCRBY and friends: the new value, stored as an integer, TTL kept.
pub fn op_incrby(db: &mut Db, key: &[u8], incr: i64, now_ms: u64) -> Result<i64, OpError> {
    let Some(v) = db.get_mut(key, now_ms) else {
        db.set(key, Value::Int(incr), now_ms, false);
        return Ok(incr);
    };
    if !v.is_string() {
        return Err(OpError::WrongType);
    }
    let old = match &*v {
        Value::Int(n) => *n,
        other => {
            let mut ib = itoa::Buffer::new();
            other
                .str_bytes(&mut ib)
                .and_then(arg_i64)
                .ok_or(OpError::NotInteger)?
        }
    };
    let new = old.checked_add(incr).ok_or(OpError::IncrOverflow)?;
    *v = Value::Int(new);
    Ok(new)
}

/// INCRBYFLOAT: parses the stored value, then the increment (both as `string2ld`), adds in
/// long double and stores the `%.17Lf` text (trailing zeros trimmed). Returns that text.
pub fn op_incrbyfloat(
    db: &mut Db,
    key: &[u8],
    incr: &[u8],
    now_ms: u64,
) -> Result<Vec<u8>, OpError> {
    let cur = match db.get_mut(key, now_ms) {
        None => None,
        Some(v) if !v.is_string() => return Err(OpError::WrongType),
        Some(v) => Some(v),
    };
    let base = match cur.as_deref() {
        None => LongDouble::ZERO,
        Some(Value::Int(n)) => LongDouble::from_i64(*n),
        Some(other) => {
            let mut ib = itoa::Buffer::new();
            other
                .str_bytes(&mut ib)
                .and_then(LongDouble::parse)
                .ok_or(OpError::NotFloat)?
        }
    };
    let incr = LongDouble::parse(incr).ok_or(OpError::NotFloat)?;
    let sum = base.checked_add(incr).ok_or(OpError::NanOrInfinity)?;
    let mut text = Vec::with_capacity(32);
    sum.format_human(&mut text);
    let value = Value::from_bytes_no_int(&text);
    match cur {
        Some(v) => *v = value,
        None => drop(db.set(key, value, now_ms, false)),
    }
    Ok(text)
}

/// What LCS should compute.
#[derive(Clone, Copy, Debug, Default)]
pub struct LcsOpts {
    pub len: bool,
    pub idx: bool,
    pub with_match_len: bool,
    pub min_match_len: i64,
}

/// One IDX match: ranges in the first and second string (inclusive) and the length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LcsMatch {
    pub a: (u32, u32),
    pub b: (u32, u32),
    pub len: u32,
}

#[derive(Debug, Default)]
pub struct LcsResult {
    pub len: u32,
    pub text: Vec<u8>,
    pub matches: Vec<LcsMatch>,
}

/// The two strings LCS compares.
pub type LcsInputs = (Vec<u8>, Vec<u8>);

/// LCS key lookups: both values copied out (missing keys read as ""). Returns the two found
/// flags for hit accounting alongside.
pub fn op_lcs_fetch(
    db: &mut Db,
    k1: &[u8],
    k2: &[u8],
    now_ms: u64,
) -> ([bool; 2], Result<LcsInputs, OpError>) {
    let mut found = [false; 2];
    let mut out: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut wrong = false;
    for (i, k) in [k1, k2].into_iter().enumerate() {
        if let Some(v) = db.get(k, now_ms) {
            found[i] = true;
            let mut ib = itoa::Buffer::new();
            match v.str_bytes(&mut ib) {
                Some(b) if v.is_string() => out[i] = b.to_vec(),
                _ => wrong = true,
            }
        }
    }
    if wrong {
        return (found, Err(OpError::LcsNotStrings));
    }
    let [a, b] = out;
    (found, Ok((a, b)))
}

/// The LCS dynamic program and walk-back, a transcription of Redis 7.0's `lcsCommand` so
/// that ranges come out in the same order with the same boundaries. The table is
/// (|a|+1)*(|b|+1) u32 cells and must fit within `mem_max` bytes.
pub fn lcs(a: &[u8], b: &[u8], opts: LcsOpts, mem_max: usize) -> Result<LcsResult, OpError> {
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(OpError::LcsTooLong);
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    let bytes = cells.checked_mul(4).ok_or(OpError::LcsAllocFailed)?;
    if bytes > mem_max as u64 {
        return Err(OpError::LcsMemoryLimit);
    }
    let cells = usize::try_from(cells).map_err(|_| OpError::LcsAllocFailed)?;
    let mut t: Vec<u32> = Vec::new();
    t.try_reserve_exact(cells)
        .map_err(|_| OpError::LcsAllocFailed)?;
    t.resize(cells, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    let mut res = LcsResult {
        len: total,
        ..LcsResult::default()
    };
    let compute = opts.idx || !opts.len;
    if !compute {
        return Ok(res);
    }
    res.text = vec![0u8; total as usize];
    let mut idx = total as usize;
    let unset = alen; // arange_start == alen means "no range open"
    let (mut as_, mut ae, mut bs, mut be) = (unset, 0usize, 0usize, 0usize);
    let (mut i, mut j) = (alen, blen);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            res.text[idx - 1] = a[i - 1];
            if as_ == unset {
                (as_, ae, bs, be) = (i - 1, i - 1, j - 1, j - 1);
            } else if as_ == i && bs == j {
                as_ -= 1;
                bs -= 1;
            } else {
                emit = true;
            }
            if as_ == 0 || bs == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if as_ != unset {
                emit = true;
            }
        }
        // Like Redis (uint32 arithmetic), the length is computed before `emit` is known.
        let match_len = (ae as u32).wrapping_sub(as_ as u32).wrapping_add(1);
        if emit {
            if opts.idx && (opts.min_match_len == 0 || i64::from(match_len) >= opts.min_match_len) {
                res.matches.push(LcsMatch {
                    a: (as_ as u32, ae as u32),
                    b: (bs as u32, be as u32),
                    len: match_len,
                });
            }
            as_ = unset;
        }
    }
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// Commands

pub fn cmd_get(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    let (db, reply) = parts(ctx);
    match op_get(db, key, now_ms) {
        Ok(Some(v)) => reply_value(reply, v),
        Ok(None) => {
            ctx.miss(key);
            return ctx.reply.null();
        }
        Err(e) => reply.error(e.message()),
    }
    ctx.hit();
}

/// SET, SETNX, SETEX, PSETEX after parsing: runs the op and answers `ok`/`aborted` (or the
/// old value for GET).
fn set_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    value: &[u8],
    opts: SetOpts,
    replies: (SetReply, SetReply),
) -> bool {
    let now_ms = ctx.now_ms;
    let value_bytes = value;
    let value = Value::from_bytes(value);
    let (old, written, created) = match op_set(ctx.db(), key, value, opts, now_ms) {
        // Only GET's lookup fails, on a key of another type: a hit.
        Err(e) => {
            ctx.hit();
            ctx.reply.error(e.message());
            return false;
        }
        Ok(SetOutcome::Written { old, created }) => (old, true, created),
        Ok(SetOutcome::Aborted { old }) => (old, false, false),
    };
    if opts.get {
        // GET's lookup and reply come before the write, as Redis's getGenericCommand.
        match old {
            Some(v) => {
                ctx.hit();
                reply_value(&mut ctx.reply, &v);
            }
            None => {
                ctx.miss(key);
                ctx.reply.null();
            }
        }
    }
    if written {
        if created {
            ctx.notify(class::NEW, "new", key);
        }
        ctx.notify(class::STRING, "set", key);
        ctx.dirty(1);
        if let Some(at) = opts.deadline_ms {
            ctx.notify(class::GENERIC, "expire", key);
            // Relative expiries become absolute, so a replay later sets the same deadline.
            let mut b = itoa::Buffer::new();
            ctx.propagate(&[b"SET", key, value_bytes, b"PXAT", b.format(at).as_bytes()]);
        }
    }
    if !opts.get {
        if written {
            replies.0.write(&mut ctx.reply);
        } else {
            replies.1.write(&mut ctx.reply);
        }
    }
    written
}

#[derive(Clone, Copy)]
enum SetReply {
    Ok,
    Null,
    One,
    Zero,
}

impl SetReply {
    fn write(self, reply: &mut Reply<'_>) {
        match self {
            SetReply::Ok => reply.ok(),
            SetReply::Null => reply.null(),
            SetReply::One => reply.int(1),
            SetReply::Zero => reply.int(0),
        }
    }
}

pub fn cmd_set(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (flags, expire) = match parse_extended(argv, 3, true) {
        Ok(p) => p,
        Err(e) => return reply_err(ctx, e),
    };
    let deadline_ms = match expire
        .map(|e| expire_deadline_ms(e, ctx.now_ms, ERR_EXPIRE_SET))
        .transpose()
    {
        Ok(d) => d,
        Err(e) => return reply_err(ctx, e),
    };
    let cond = if flags & F_NX != 0 {
        SetCond::IfMissing
    } else if flags & F_XX != 0 {
        SetCond::IfExists
    } else {
        SetCond::Always
    };
    let opts = SetOpts {
        cond,
        get: flags & F_GET != 0,
        keep_ttl: flags & F_KEEPTTL != 0,
        deadline_ms,
    };
    let written = set_generic(
        ctx,
        argv.get(1),
        argv.get(2),
        opts,
        (SetReply::Ok, SetReply::Null),
    );
    if written && opts.get && deadline_ms.is_none() {
        // Replayed without GET (with an expiry the PXAT form above is stated instead).
        let kept: Vec<&[u8]> = argv
            .iter()
            .enumerate()
            .filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"get"))
            .map(|(_, a)| a)
            .collect();
        ctx.propagate(&kept);
    }
}

pub fn cmd_setnx(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let opts = SetOpts {
        cond: SetCond::IfMissing,
        get: false,
        keep_ttl: false,
        deadline_ms: None,
    };
    set_generic(
        ctx,
        argv.get(1),
        argv.get(2),
        opts,
        (SetReply::One, SetReply::Zero),
    );
}

fn setex_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, flag: u32, invalid: &'static str) {
    let e = ExpireArg {
        flag,
        text: argv.get(2),
    };
    let deadline_ms = match expire_deadline_ms(e, ctx.now_ms, invalid) {
        Ok(d) => d,
        Err(e) => return reply_err(ctx, e),
    };
    let opts = SetOpts {
        cond: SetCond::Always,
        get: false,
        keep_ttl: false,
        deadline_ms: Some(deadline_ms),
    };
    set_generic(
        ctx,
        argv.get(1),
        argv.get(3),
        opts,
        (SetReply::Ok, SetReply::Null),
    );
}

pub fn cmd_setex(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setex_generic(ctx, argv, F_EX, ERR_EXPIRE_SETEX);
}

pub fn cmd_psetex(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    setex_generic(ctx, argv, F_PX, ERR_EXPIRE_PSETEX);
}

/// Counts the read lookup of `key` and replies with an optional owned value (nil if None),
/// as Redis's getGenericCommand; marks the keyspace dirty if `dirty_*` says so.
fn reply_old(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    res: Result<Option<Value>, OpError>,
    dirty_if_found: bool,
    dirty_always: bool,
) {
    match res {
        Ok(Some(v)) => {
            ctx.hit();
            reply_value(&mut ctx.reply, &v);
            if dirty_if_found || dirty_always {
                ctx.dirty(1);
            }
        }
        Ok(None) => {
            ctx.miss(key);
            ctx.reply.null();
            if dirty_always {
                ctx.dirty(1);
            }
        }
        Err(e) => {
            ctx.hit();
            reply_err(ctx, e);
        }
    }
}

pub fn cmd_getset(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let res = op_getset(
        ctx.db(),
        argv.get(1),
        Value::from_bytes(argv.get(2)),
        now_ms,
    );
    let written = res.is_ok();
    let created = matches!(res, Ok(None));
    reply_old(ctx, argv.get(1), res, false, true);
    if written {
        if created {
            ctx.notify(class::NEW, "new", argv.get(1));
        }
        ctx.notify(class::STRING, "set", argv.get(1));
        // Replayed as SET (Redis rewrites GETSET's name).
        ctx.propagate(&[b"SET", argv.get(1), argv.get(2)]);
    }
}

pub fn cmd_getdel(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let res = op_getdel(ctx.db(), argv.get(1), now_ms);
    let deleted = matches!(res, Ok(Some(_)));
    reply_old(ctx, argv.get(1), res, true, false);
    if deleted {
        ctx.notify(class::GENERIC, "del", argv.get(1));
        ctx.propagate(&[b"DEL", argv.get(1)]);
    }
}

pub fn cmd_getex(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (flags, expire) = match parse_extended(argv, 2, false) {
        Ok(p) => p,
        Err(e) => return reply_err(ctx, e),
    };
    let action = match expire {
        Some(e) => GetexAction::Expire(e),
        None if flags & F_PERSIST != 0 => GetexAction::Persist,
        None => GetexAction::Keep,
    };
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    let (db, reply) = parts(ctx);
    let event = match op_getex(db, key, action, now_ms) {
        Ok(GetexOutcome::Missing) => {
            ctx.miss(key);
            return ctx.reply.null();
        }
        Ok(GetexOutcome::Read { changed }) => {
            match db.peek(key, now_ms) {
                Some(v) => reply_value(reply, v),
                None => reply.null(),
            }
            match action {
                _ if !changed => None,
                GetexAction::Persist => Some("persist"),
                _ => Some("expire"),
            }
        }
        Ok(GetexOutcome::Deleted(v)) => {
            reply_value(reply, &v);
            Some("del")
        }
        Err(e) => {
            reply.error(e.message());
            None
        }
    };
    ctx.hit();
    if let Some(event) = event {
        // After the reply: Redis answers with the value before changing the key.
        ctx.notify(class::GENERIC, event, key);
        ctx.dirty(1);
        super::expire::propagate_expiry_of(ctx, key);
    }
}

pub fn cmd_mget(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    ctx.reply.array(argv.len() - 1);
    let mut hits = 0u64;
    for key in argv.iter().skip(1) {
        let (db, reply) = parts(ctx);
        match op_mget_one(db, key, now_ms) {
            (true, Some(v)) => reply_value(reply, v),
            (true, None) => reply.null(),
            (false, _) => {
                // Inside the array, as Redis fires it (RESP3 self-subscribers see it there).
                ctx.miss(key);
                ctx.reply.null();
                continue;
            }
        }
        hits += 1;
    }
    ctx.srv.stats.keyspace_hits += hits;
}

fn pairs<'a>(argv: &Argv<'a>) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone + 'a {
    let argv = *argv;
    (1..argv.len())
        .step_by(2)
        .map(move |i| (argv.get(i), argv.get(i + 1)))
}

pub fn cmd_mset(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len().is_multiple_of(2) {
        return reply_err(
            ctx,
            OpError::Arity("ERR wrong number of arguments for 'mset' command"),
        );
    }
    mset_pairs(ctx, argv);
    ctx.reply.ok();
}

/// Sets every pair of MSET / MSETNX, each followed by its events (`new`, `set`).
fn mset_pairs(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    for (k, v) in pairs(argv) {
        if op_mset_one(ctx.db(), k, v, now_ms) {
            ctx.notify(class::NEW, "new", k);
        }
        ctx.notify(class::STRING, "set", k);
    }
    ctx.dirty((argv.len() / 2) as u64);
}

pub fn cmd_msetnx(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len().is_multiple_of(2) {
        return reply_err(
            ctx,
            OpError::Arity("ERR wrong number of arguments for 'msetnx' command"),
        );
    }
    let now_ms = ctx.now_ms;
    if op_msetnx_allowed(ctx.db(), pairs(argv), now_ms) {
        mset_pairs(ctx, argv);
        ctx.reply.int(1);
    } else {
        ctx.reply.int(0);
    }
}

pub fn cmd_append(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (now_ms, len_max) = (ctx.now_ms, bulk_len_max(ctx));
    let mark = ctx.new_mark();
    match op_append(ctx.db(), argv.get(1), argv.get(2), len_max, now_ms) {
        Ok(len) => {
            ctx.notify_new_since(mark, argv.get(1));
            ctx.notify(class::STRING, "append", argv.get(1));
            ctx.dirty(1);
            ctx.reply.int(len as i64);
        }
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_strlen(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    match op_strlen(ctx.db(), argv.get(1), now_ms) {
        Ok(n) => {
            ctx.read_lookup(n.is_some(), argv.get(1));
            ctx.reply.int(n.unwrap_or(0) as i64);
        }
        Err(e) => {
            ctx.hit();
            reply_err(ctx, e);
        }
    }
}

pub fn cmd_getrange(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (Some(start), Some(end)) = (arg_i64(argv.get(2)), arg_i64(argv.get(3))) else {
        return reply_err(ctx, OpError::NotInteger);
    };
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    let (db, reply) = parts(ctx);
    match op_get(db, key, now_ms) {
        Ok(Some(v)) => {
            let mut ib = itoa::Buffer::new();
            let s = v.str_bytes(&mut ib).unwrap_or_default();
            match getrange_bounds(s.len(), start, end) {
                Some((from, to)) => reply.bulk(&s[from..to]),
                None => reply.bulk(b""),
            }
        }
        Ok(None) => {
            ctx.miss(key);
            return ctx.reply.bulk(b"");
        }
        Err(e) => reply.error(e.message()),
    }
    ctx.hit();
}

pub fn cmd_setrange(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(offset) = arg_i64(argv.get(2)) else {
        return reply_err(ctx, OpError::NotInteger);
    };
    let Ok(offset) = usize::try_from(offset) else {
        return reply_err(ctx, OpError::OffsetOutOfRange);
    };
    let (now_ms, len_max) = (ctx.now_ms, bulk_len_max(ctx));
    let value = argv.get(3);
    let mark = ctx.new_mark();
    match op_setrange(ctx.db(), argv.get(1), offset, value, len_max, now_ms) {
        Ok(len) => {
            if !value.is_empty() {
                ctx.notify_new_since(mark, argv.get(1));
                ctx.notify(class::STRING, "setrange", argv.get(1));
                ctx.dirty(1);
            }
            ctx.reply.int(len as i64);
        }
        Err(e) => reply_err(ctx, e),
    }
}

fn incr_generic(ctx: &mut Ctx<'_>, key: &[u8], incr: i64) {
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_incrby(ctx.db(), key, incr, now_ms) {
        Ok(n) => {
            ctx.notify_new_since(mark, key);
            ctx.notify(class::STRING, "incrby", key);
            ctx.dirty(1);
            ctx.reply.int(n);
        }
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_incr(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    incr_generic(ctx, argv.get(1), 1);
}

pub fn cmd_decr(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    incr_generic(ctx, argv.get(1), -1);
}

pub fn cmd_incrby(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    match arg_i64(argv.get(2)) {
        Some(n) => incr_generic(ctx, argv.get(1), n),
        None => reply_err(ctx, OpError::NotInteger),
    }
}

pub fn cmd_decrby(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    match arg_i64(argv.get(2)) {
        None => reply_err(ctx, OpError::NotInteger),
        Some(i64::MIN) => reply_err(ctx, OpError::DecrOverflow),
        Some(n) => incr_generic(ctx, argv.get(1), -n),
    }
}

pub fn cmd_incrbyfloat(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_incrbyfloat(ctx.db(), argv.get(1), argv.get(2), now_ms) {
        Ok(text) => {
            ctx.notify_new_since(mark, argv.get(1));
            ctx.notify(class::STRING, "incrbyfloat", argv.get(1));
            ctx.dirty(1);
            ctx.reply.bulk(&text);
            // The result, not the increment: a replay must not depend on float rounding.
            ctx.propagate(&[b"SET", argv.get(1), &text, b"KEEPTTL"]);
        }
        Err(e) => reply_err(ctx, e),
    }
}

/// LCS options, parsed after the key lookups as Redis does.
fn parse_lcs_opts(argv: &Argv<'_>) -> Result<LcsOpts, OpError> {
    let mut o = LcsOpts::default();
    let mut j = 3;
    while j < argv.len() {
        let opt = argv.get(j);
        let more = argv.len() - 1 - j;
        if opt_is(opt, "IDX") {
            o.idx = true;
        } else if opt_is(opt, "LEN") {
            o.len = true;
        } else if opt_is(opt, "WITHMATCHLEN") {
            o.with_match_len = true;
        } else if opt_is(opt, "MINMATCHLEN") && more > 0 {
            o.min_match_len = arg_i64(argv.get(j + 1)).ok_or(OpError::NotInteger)?.max(0);
            j += 1;
        } else {
            return Err(OpError::Syntax);
        }
        j += 1;
    }
    if o.idx && o.len {
        return Err(OpError::LcsIdxAndLen);
    }
    Ok(o)
}

pub fn cmd_lcs(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let (found, fetched) = op_lcs_fetch(ctx.db(), argv.get(1), argv.get(2), now_ms);
    for (f, key) in found.into_iter().zip([argv.get(1), argv.get(2)]) {
        ctx.read_lookup(f, key);
    }
    let res = fetched.and_then(|(a, b)| {
        let opts = parse_lcs_opts(argv)?;
        Ok((opts, lcs(&a, &b, opts, ctx.srv.config.bulk_len_max)?))
    });
    let (opts, out) = match res {
        Ok(r) => r,
        Err(e) => return reply_err(ctx, e),
    };
    let r = &mut ctx.reply;
    if opts.idx {
        r.map(2);
        r.bulk(b"matches");
        r.array(out.matches.len());
        for m in &out.matches {
            r.array(2 + usize::from(opts.with_match_len));
            r.array(2);
            r.int(i64::from(m.a.0));
            r.int(i64::from(m.a.1));
            r.array(2);
            r.int(i64::from(m.b.0));
            r.int(i64::from(m.b.1));
            if opts.with_match_len {
                r.int(i64::from(m.len));
            }
        }
        r.bulk(b"len");
        r.int(i64::from(out.len));
    } else if opts.len {
        r.int(i64::from(out.len));
    } else {
        r.bulk(&out.text);
    }
}
