//! HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST, as Redis 7.0's
//! `hyperloglog.c` does them, on string values in the layout of [`crate::types::hll`].
//!
//! `op_*` functions work on a `Db` and return a value or an [`OpError`]; `cmd_*` parse,
//! call them, reply and state the effects. Invariants kept here, all taken from Redis:
//! - A key of another type answers the usual WRONGTYPE; a string that is not a HyperLogLog
//!   `WRONGTYPE Key is not a valid HyperLogLog string value.`; a sparse value whose opcodes
//!   do not cover the registers `INVALIDOBJ Corrupted HLL object detected`.
//! - A command that may write the value (PFADD, single-key PFCOUNT, PFMERGE's destination,
//!   PFDEBUG) first makes it a `raw` string, as Redis's `dbUnshareStringValue` does, so
//!   OBJECT ENCODING answers `raw` afterwards even when nothing else changed.
//! - Lookups: PFCOUNT reads each key (a hit or a miss, `keymiss` on a miss), and so does
//!   PFMERGE for every key it names, destination included, before it looks the destination
//!   up again to write it; PFADD and PFDEBUG look up for writing (no hit or miss).
//! - Effects: PFADD and PFMERGE fire `pfadd` (class string) and signal their key when a
//!   register changed (PFMERGE always), after `new` when they created it. Single-key PFCOUNT
//!   that had to recompute the cached cardinality writes it into the header, signals the key
//!   and counts as a change, so the AOF gets the `PFCOUNT key` itself, as in Redis 7.0.
//!   PFDEBUG GETREG and TODENSE that convert a sparse value count as a change (the AOF gets
//!   the command) but, as in Redis, signal nothing: WATCH and client tracking do not see
//!   the conversion.
//! - PFADD that meets a corrupt value stops there: registers changed by its earlier elements
//!   stay changed, and nothing is signalled or propagated, as in Redis.

use super::args::{c_str, opt_is};
use super::error::{reply_err, OpError};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::Argv;
use crate::types::hll::{self, Corrupt, Encoding, NotHll, REGISTERS};

impl From<NotHll> for OpError {
    fn from(_: NotHll) -> OpError {
        OpError::HllNotValid
    }
}

impl From<Corrupt> for OpError {
    fn from(_: Corrupt) -> OpError {
        OpError::HllCorrupt
    }
}

/// The encoding of a value that must be a HyperLogLog (Redis's `isHLLObjectOrReply`): the
/// type check first, then the header.
fn check(v: &Value) -> Result<Encoding, OpError> {
    if !v.is_string() {
        return Err(OpError::WrongType);
    }
    match v {
        // An integer-encoded string is never a HyperLogLog (Redis: not sds-encoded).
        Value::Int(_) => Err(OpError::HllNotValid),
        _ => {
            let mut ib = itoa::Buffer::new();
            Ok(hll::validate(v.str_bytes(&mut ib).unwrap_or_default())?)
        }
    }
}

/// Runs `f` on the bytes of a string value made `raw` (Redis's `dbUnshareStringValue`),
/// storing them back afterwards whatever `f` returns.
fn with_raw<R>(v: &mut Value, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut bytes = match std::mem::replace(v, Value::Int(0)) {
        Value::Raw(b) | Value::Emb(b) => b.into_vec(),
        other => {
            let mut ib = itoa::Buffer::new();
            other
                .str_bytes(&mut ib)
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        }
    };
    let r = f(&mut bytes);
    *v = Value::raw(bytes);
    r
}

/// A stored HyperLogLog's bytes (the value was checked with `check`).
fn bytes_of<'v>(v: &'v Value, ib: &'v mut itoa::Buffer) -> &'v [u8] {
    v.str_bytes(ib).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Keyspace operations

/// PFADD: adds the elements, creating the key when missing. Returns how many changes there
/// were (1 for a created key, plus one per register raised), as Redis counts them for
/// `dirty`. An element meeting corrupt opcodes stops the command with the registers already
/// raised left so.
pub fn op_pfadd<'a>(
    db: &mut Db,
    key: &[u8],
    elements: impl Iterator<Item = &'a [u8]>,
    sparse_max: usize,
    now_ms: u64,
) -> Result<u64, OpError> {
    let mut updated = 0u64;
    let add_all = |v: &mut Vec<u8>, updated: &mut u64| -> Result<(), OpError> {
        for e in elements {
            if hll::add(v, e, sparse_max)? {
                *updated += 1;
            }
        }
        if *updated > 0 {
            hll::invalidate(v);
        }
        Ok(())
    };
    match db.get_mut(key, now_ms) {
        None => {
            let mut v = hll::new_sparse();
            updated = 1;
            add_all(&mut v, &mut updated)?;
            db.set(key, Value::raw(v), now_ms, false);
        }
        Some(v) => {
            check(v)?;
            with_raw(v, |b| add_all(b, &mut updated))?;
        }
    }
    Ok(updated)
}

/// Single-key PFCOUNT: None for a missing key; else the cardinality, and whether it had to
/// be computed and written into the header (the value changed).
pub fn op_pfcount_one(
    db: &mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<(u64, bool)>, OpError> {
    let Some(v) = db.get_mut(key, now_ms) else {
        return Ok(None);
    };
    check(v)?;
    with_raw(v, |b| {
        if let Some(card) = hll::cached_card(b) {
            return Ok(Some((card, false)));
        }
        let card = hll::count(b)?;
        hll::store_card(b, card);
        Ok(Some((card, true)))
    })
}

/// One key of a multi-key PFCOUNT or of PFMERGE: raises `max` to its registers. None for a
/// missing key (an empty HyperLogLog), else its encoding.
pub fn op_merge_source(
    db: &mut Db,
    key: &[u8],
    max: &mut [u8; REGISTERS],
    now_ms: u64,
) -> Result<Option<Encoding>, OpError> {
    let Some(v) = db.get(key, now_ms) else {
        return Ok(None);
    };
    let enc = check(v)?;
    let mut ib = itoa::Buffer::new();
    hll::merge_into(max, bytes_of(v, &mut ib))?;
    Ok(Some(enc))
}

/// PFMERGE's write: the destination (created sparse when missing, made dense when a source
/// was dense) gets every register of `max` that is not zero, and a stale cached cardinality.
/// The sources were read first, the destination among them, so it is a valid HyperLogLog.
pub fn op_pfmerge_store(
    db: &mut Db,
    dest: &[u8],
    max: &[u8; REGISTERS],
    use_dense: bool,
    sparse_max: usize,
    now_ms: u64,
) -> Result<(), OpError> {
    let fill = |v: &mut Vec<u8>| -> Result<(), OpError> {
        if use_dense {
            hll::to_dense(v)?;
        }
        for (j, &m) in max.iter().enumerate() {
            if m != 0 {
                // Redis ignores the outcome here: the value was validated as a source.
                let _ = hll::set_register(v, j, m, sparse_max);
            }
        }
        hll::invalidate(v);
        Ok(())
    };
    match db.get_mut(dest, now_ms) {
        None => {
            let mut v = hll::new_sparse();
            let r = fill(&mut v);
            db.set(dest, Value::raw(v), now_ms, false);
            r
        }
        Some(v) => with_raw(v, fill),
    }
}

/// What PFDEBUG does, by subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugOp {
    GetReg,
    Decode,
    Encoding,
    ToDense,
}

/// What PFDEBUG answers.
#[derive(Debug)]
pub enum DebugReply {
    /// GETREG: the registers; whether a sparse value was converted to do it.
    Registers(Vec<u8>, bool),
    Decoded(String),
    Encoding(Encoding),
    /// TODENSE: whether it converted.
    Converted(bool),
}

/// The text of PFDEBUG's errors that are not `OpError`s.
#[derive(Debug)]
pub enum DebugError {
    NoKey,
    NotSparse,
    Op(OpError),
}

impl From<OpError> for DebugError {
    fn from(e: OpError) -> DebugError {
        DebugError::Op(e)
    }
}

impl From<Corrupt> for DebugError {
    fn from(e: Corrupt) -> DebugError {
        DebugError::Op(e.into())
    }
}

/// PFDEBUG on `key`; `what` None is an unknown subcommand, answered only after the key was
/// found, checked and made raw, as Redis does.
pub fn op_pfdebug(
    db: &mut Db,
    key: &[u8],
    what: Option<DebugOp>,
    now_ms: u64,
) -> Result<Option<DebugReply>, DebugError> {
    let v = db.get_mut(key, now_ms).ok_or(DebugError::NoKey)?;
    let enc = check(v)?;
    with_raw(v, |b| {
        let Some(what) = what else {
            return Ok(None);
        };
        Ok(Some(match what {
            DebugOp::GetReg => {
                let converted = hll::to_dense(b)?;
                DebugReply::Registers(hll::dense_registers(b), converted)
            }
            DebugOp::Decode if enc == Encoding::Sparse => DebugReply::Decoded(hll::decode(b)),
            DebugOp::Decode => return Err(DebugError::NotSparse),
            DebugOp::Encoding => DebugReply::Encoding(enc),
            DebugOp::ToDense => DebugReply::Converted(hll::to_dense(b)?),
        }))
    })
}

// ---------------------------------------------------------------------------------------------
// Commands

pub fn cmd_pfadd(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (now_ms, sparse_max) = (ctx.now_ms, ctx.srv.config.hll_sparse_max_bytes);
    let key = argv.get(1);
    let mark = ctx.new_mark();
    let elements = (2..argv.len()).map(|i| argv.get(i));
    match op_pfadd(ctx.db(), key, elements, sparse_max, now_ms) {
        Ok(updated) => {
            if updated > 0 {
                ctx.notify_new_since(mark, key);
                ctx.modified(key);
                ctx.notify(class::STRING, "pfadd", key);
                ctx.dirty(updated);
            }
            ctx.reply.int(i64::from(updated > 0));
        }
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_pfcount(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() > 2 {
        return pfcount_union(ctx, argv);
    }
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    match op_pfcount_one(ctx.db(), key, now_ms) {
        Ok(None) => {
            ctx.miss(key);
            ctx.reply.int(0);
        }
        Ok(Some((card, rewrote))) => {
            ctx.hit();
            if rewrote {
                // The header changed: Redis signals the key and propagates the PFCOUNT.
                ctx.modified(key);
                ctx.dirty(1);
            }
            // Redis replies the u64 as a long long.
            ctx.reply.int(card as i64);
        }
        Err(e) => {
            ctx.hit();
            reply_err(ctx, e);
        }
    }
}

/// Reads every key of `keys` into `max` in order, counting hits and misses and firing
/// `keymiss` as each lookup happens. Ok(whether any was dense), or the error to answer.
fn read_sources(
    ctx: &mut Ctx<'_>,
    argv: &Argv<'_>,
    max: &mut [u8; REGISTERS],
) -> Result<bool, OpError> {
    let now_ms = ctx.now_ms;
    let mut any_dense = false;
    for j in 1..argv.len() {
        let key = argv.get(j);
        match op_merge_source(ctx.db(), key, max, now_ms) {
            Ok(None) => ctx.miss(key),
            Ok(Some(enc)) => {
                ctx.hit();
                any_dense |= enc == Encoding::Dense;
            }
            Err(e) => {
                ctx.hit();
                return Err(e);
            }
        }
    }
    Ok(any_dense)
}

/// PFCOUNT of several keys: the count of their union, computed on a temporary; no key
/// changes.
fn pfcount_union(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut max = Box::new([0u8; REGISTERS]);
    match read_sources(ctx, argv, &mut max) {
        Ok(_) => ctx.reply.int(hll::count_registers(&max) as i64),
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_pfmerge(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut max = Box::new([0u8; REGISTERS]);
    let use_dense = match read_sources(ctx, argv, &mut max) {
        Ok(d) => d,
        Err(e) => return reply_err(ctx, e),
    };
    let (now_ms, sparse_max) = (ctx.now_ms, ctx.srv.config.hll_sparse_max_bytes);
    let dest = argv.get(1);
    let mark = ctx.new_mark();
    let stored = op_pfmerge_store(ctx.db(), dest, &max, use_dense, sparse_max, now_ms);
    ctx.notify_new_since(mark, dest);
    if let Err(e) = stored {
        return reply_err(ctx, e);
    }
    ctx.modified(dest);
    // Redis fires `pfadd` for a merge: in effect it adds the sources' elements.
    ctx.notify(class::STRING, "pfadd", dest);
    ctx.dirty(1);
    ctx.reply.ok();
}

pub fn cmd_pfdebug(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let sub = argv.get(1);
    let what = if opt_is(sub, "GETREG") {
        Some(DebugOp::GetReg)
    } else if opt_is(sub, "DECODE") {
        Some(DebugOp::Decode)
    } else if opt_is(sub, "ENCODING") {
        Some(DebugOp::Encoding)
    } else if opt_is(sub, "TODENSE") {
        Some(DebugOp::ToDense)
    } else {
        None
    };
    let now_ms = ctx.now_ms;
    match op_pfdebug(ctx.db(), argv.get(2), what, now_ms) {
        Ok(Some(DebugReply::Registers(regs, converted))) => {
            if converted {
                converted_quietly(ctx);
            }
            ctx.reply.array(regs.len());
            for r in regs {
                ctx.reply.int(i64::from(r));
            }
        }
        Ok(Some(DebugReply::Decoded(text))) => ctx.reply.bulk(text.as_bytes()),
        Ok(Some(DebugReply::Encoding(enc))) => ctx.reply.simple(enc.name()),
        Ok(Some(DebugReply::Converted(converted))) => {
            if converted {
                converted_quietly(ctx);
            }
            ctx.reply.int(i64::from(converted));
        }
        Ok(None) => {
            // Redis formats the name with %s (up to a NUL) and blanks line breaks.
            let mut msg = b"ERR Unknown PFDEBUG subcommand '".to_vec();
            msg.extend(c_str(sub).iter().map(|&b| match b {
                b'\r' | b'\n' => b' ',
                b => b,
            }));
            msg.push(b'\'');
            ctx.reply.error_bytes(&msg);
        }
        Err(DebugError::NoKey) => ctx.err("ERR The specified key does not exist"),
        Err(DebugError::NotSparse) => ctx.err("ERR HLL encoding is not sparse"),
        Err(DebugError::Op(e)) => reply_err(ctx, e),
    }
}

/// A PFDEBUG conversion to dense: a change for the AOF and save points, but not signalled
/// (Redis only bumps `dirty`), so WATCH and client tracking do not see it.
fn converted_quietly(ctx: &mut Ctx<'_>) {
    ctx.dirty(1);
    ctx.srv.frame.set_signalled();
}

pub fn cmd_pfselftest(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let seed = crate::util::mono_ns() ^ ctx.now_ms.rotate_left(32);
    match hll::selftest(ctx.srv.config.hll_sparse_max_bytes, seed) {
        Ok(()) => ctx.reply.ok(),
        Err(msg) => ctx.err(&msg),
    }
}
