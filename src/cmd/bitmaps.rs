//! Bitmap commands on string values: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
//! BITFIELD_RO, as Redis 7.0's `bitops.c` does them.
//!
//! A string is a bit array whose bit 0 is the most significant bit of byte 0; bits past the
//! end read as 0. The pure functions at the top (`count_bits`, `find_bit`, `read_field`,
//! `write_field`, `bitop_fold`, `field_apply`) work on byte slices and know nothing of the
//! keyspace or RESP; the `op_*` functions work on a `Db`; the `cmd_*` handlers parse, call
//! them and write the one reply.
//!
//! Invariants kept here, all taken from redis-server 7.0.15 (the differential test in
//! tests/bitmaps.rs compares them):
//! - A bit offset is a non-negative integer whose byte (`offset >> 3`) is below
//!   `proto-max-bulk-len` (not checked while the AOF is loaded, as Redis trusts its own file);
//!   BITFIELD's `#N` offsets are N times the field width, multiplied with wrap-around as C
//!   does, then checked the same way.
//! - Writes (SETBIT, BITFIELD with SET or INCRBY) change a `raw` value in place, grown with
//!   zero bytes up to the highest byte written; an int, inline or embstr value becomes `raw`
//!   on its first bit write (even one that changes nothing), as Redis unshares it.
//!   SETBIT fires `setbit`, counts as a change and is propagated only when it grew the string
//!   or flipped the bit; BITFIELD when one of its SETs or INCRBYs wrote to a grown string or
//!   changed its field (not one OVERFLOW FAIL refused), once, after its reply. A BITFIELD of
//!   GETs only is a read.
//! - BITOP stores its result as a `raw` string without TTL (`set`), or, when every source is
//!   empty or missing, deletes the destination (`del` if it existed).
//! - Lookups: GETBIT, BITCOUNT, BITPOS, BITOP's sources and a read-only BITFIELD count a hit
//!   or a miss (`keymiss`); SETBIT and a writing BITFIELD count nothing. BITCOUNT looks its
//!   key up before it parses its range (a missing key answers 0 whatever the range says);
//!   BITPOS parses its bit first and its range after the lookup.

use super::args::{arg_i64, c_str, opt_is, parts};
use super::error::{reply_err, OpError};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::Argv;

// ---------------------------------------------------------------------------------------------
// Bits of a byte slice

/// Set bits in `bytes`, eight bytes at a time.
pub fn popcount(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(32);
    // Four independent sums, so that the counts of one chunk do not wait on each other.
    let mut sums = [0u64; 4];
    for c in &mut chunks {
        for (i, w) in c.chunks_exact(8).enumerate() {
            let word = u64::from_ne_bytes(w.try_into().unwrap_or([0; 8]));
            sums[i] += u64::from(word.count_ones());
        }
    }
    let mut total: u64 = sums.iter().sum();
    let mut words = chunks.remainder().chunks_exact(8);
    for w in &mut words {
        total += u64::from(u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])).count_ones());
    }
    for &b in words.remainder() {
        total += u64::from(b.count_ones());
    }
    total
}

/// The bits of one byte from bit `from` (0 = most significant) to its end.
fn mask_from(from: u64) -> u8 {
    0xff >> (from & 7)
}

/// The bits of one byte from its start to bit `to`, inclusive.
fn mask_to(to: u64) -> u8 {
    0xff << (7 - (to & 7))
}

/// Redis's index arithmetic for BITCOUNT and BITPOS ranges: `start` and `end` count bytes,
/// or bits when `in_bits`; negative ones count from the end; both are clamped to the string.
/// Returns the inclusive range in bits, or None when it is empty.
pub fn bit_range(len: usize, start: i64, end: i64, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let start = if start < 0 { total + start } else { start }.max(0);
    let end = if end < 0 { total + end } else { end }
        .max(0)
        .min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

/// Set bits from bit `first` to bit `last`, inclusive; both inside `bytes`.
pub fn count_bits(bytes: &[u8], first: u64, last: u64) -> u64 {
    debug_assert!(first <= last && last / 8 < bytes.len() as u64);
    let (fb, lb) = ((first / 8) as usize, (last / 8) as usize);
    if fb == lb {
        return u64::from((bytes[fb] & mask_from(first) & mask_to(last)).count_ones());
    }
    u64::from((bytes[fb] & mask_from(first)).count_ones())
        + popcount(&bytes[fb + 1..lb])
        + u64::from((bytes[lb] & mask_to(last)).count_ones())
}

/// The position of the first bit equal to `want` from bit `first` to bit `last`, inclusive
/// (both inside `bytes`), or None.
pub fn find_bit(bytes: &[u8], first: u64, last: u64, want: bool) -> Option<u64> {
    debug_assert!(first <= last && last / 8 < bytes.len() as u64);
    // Looking for a 0 is looking for a 1 in the complement.
    let flip = if want { 0u8 } else { 0xff };
    let hit = |i: usize, mask: u8| {
        let b = (bytes[i] ^ flip) & mask;
        (b != 0).then(|| i as u64 * 8 + u64::from(b.leading_zeros()))
    };
    let (fb, lb) = ((first / 8) as usize, (last / 8) as usize);
    if fb == lb {
        return hit(fb, mask_from(first) & mask_to(last));
    }
    if let Some(p) = hit(fb, mask_from(first)) {
        return Some(p);
    }
    // Whole bytes, a word at a time while the words hold nothing of interest.
    let middle = &bytes[fb + 1..lb];
    let skip = u64::from_ne_bytes([flip; 8]);
    let mut at = 0;
    for w in middle.chunks_exact(8) {
        if u64::from_ne_bytes(w.try_into().unwrap_or([flip; 8])) != skip {
            break;
        }
        at += 8;
    }
    for i in fb + 1 + at..lb {
        if let Some(p) = hit(i, 0xff) {
            return Some(p);
        }
    }
    hit(lb, mask_to(last))
}

/// The `bits`-wide (1..=64) unsigned field at bit `offset`; bits past the end read as 0.
pub fn read_field(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    debug_assert!((1..=64).contains(&bits));
    let byte = offset / 8;
    // A field of at most 64 bits at any bit alignment lies within 9 bytes.
    let mut w: u128 = 0;
    for i in 0..9u64 {
        let b = usize::try_from(byte + i)
            .ok()
            .and_then(|j| bytes.get(j))
            .copied()
            .unwrap_or(0);
        w |= u128::from(b) << (120 - 8 * i);
    }
    ((w << (offset & 7)) >> (128 - bits)) as u64
}

/// Writes the low `bits` (1..=64) of `value` at bit `offset`; the bytes must be there.
pub fn write_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    debug_assert!((1..=64).contains(&bits));
    let first = (offset / 8) as usize;
    let last = ((offset + u64::from(bits) - 1) / 8) as usize;
    debug_assert!(last < bytes.len() && last - first < 9);
    let window = &mut bytes[first..=last];
    let mut w: u128 = 0;
    for (i, b) in window.iter().enumerate() {
        w |= u128::from(*b) << (120 - 8 * i);
    }
    let shift = 128 - bits - (offset & 7) as u32;
    let low = (1u128 << bits) - 1;
    w = (w & !(low << shift)) | ((u128::from(value) & low) << shift);
    for (i, b) in window.iter_mut().enumerate() {
        *b = (w >> (120 - 8 * i)) as u8;
    }
    debug_assert_eq!(
        read_field(bytes, offset, bits),
        (u128::from(value) & low) as u64
    );
}

/// BITOP's operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Folds the next source into BITOP's result so far (`acc`, the first source, or its
/// complement for NOT): sources shorter than the result read as zero bytes, and the result
/// grows to the longest source.
pub fn bitop_fold(acc: &mut Vec<u8>, src: &[u8], op: BitOp) {
    if src.len() > acc.len() {
        acc.resize(src.len(), 0);
    }
    let (head, tail) = acc.split_at_mut(src.len());
    match op {
        BitOp::And => {
            head.iter_mut().zip(src).for_each(|(a, b)| *a &= b);
            tail.fill(0);
        }
        BitOp::Or => head.iter_mut().zip(src).for_each(|(a, b)| *a |= b),
        BitOp::Xor => head.iter_mut().zip(src).for_each(|(a, b)| *a ^= b),
        // NOT takes a single source: nothing to fold.
        BitOp::Not => {}
    }
}

// ---------------------------------------------------------------------------------------------
// BITFIELD operations

/// What BITFIELD does when a SET or INCRBY does not fit the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Modulo the field's range (signed fields wrap to their most negative values).
    Wrap,
    /// Clamped to the field's minimum or maximum.
    Sat,
    /// Not written; the reply is nil.
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldOp {
    Get,
    Set(i64),
    Incrby(i64),
}

/// One BITFIELD subcommand, parsed.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub op: FieldOp,
    pub signed: bool,
    /// 1..=64 signed, 1..=63 unsigned.
    pub bits: u32,
    pub offset: u64,
    pub overflow: Overflow,
}

impl Field {
    /// The field's value from its raw bits.
    fn value(&self, raw: u64) -> i64 {
        if self.signed && self.bits < 64 {
            // Sign extension: move the field's top bit to bit 63 and shift back.
            let up = 64 - self.bits;
            ((raw << up) as i64) >> up
        } else {
            raw as i64
        }
    }
}

/// A SET or INCRBY on a field whose raw bits are `raw`: the reply (the old value for SET, the
/// new one for INCRBY) and the raw bits to store, or None when OVERFLOW FAIL refuses it.
pub fn field_apply(f: &Field, raw: u64) -> Option<(i64, u64)> {
    let bits = f.bits;
    let low = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let old = f.value(raw);
    // Redis stores a SET's value into an unsigned field as a C cast: -1 is 2^64-1.
    let (target, base): (i128, i128) = match f.op {
        FieldOp::Get => return Some((old, raw)),
        FieldOp::Set(v) if f.signed => (i128::from(v), 0),
        FieldOp::Set(v) => (i128::from(v as u64), 0),
        FieldOp::Incrby(n) => (i128::from(old) + i128::from(n), 1),
    };
    let (min, max) = if f.signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, i128::from(low))
    };
    let new = if (min..=max).contains(&target) {
        target
    } else {
        match f.overflow {
            Overflow::Fail => return None,
            // Redis's quirk: for a SET into a signed field narrower than 64 bits, it computes
            // `max - value` in 64 bits, and a value so negative that this overflows is taken
            // as too large, so it saturates to the maximum.
            Overflow::Sat
                if f.signed && bits < 64 && base == 0 && max - target > i128::from(i64::MAX) =>
            {
                max
            }
            Overflow::Sat => target.clamp(min, max),
            // Two's complement truncation to the field, read back with its sign.
            Overflow::Wrap => i128::from(f.value(target as u64 & low)),
        }
    };
    let stored = new as u64 & low;
    debug_assert_eq!(i128::from(f.value(stored)), new);
    Some((if base == 0 { old } else { new as i64 }, stored))
}

// ---------------------------------------------------------------------------------------------
// Argument parsing

/// Redis's `getBitOffsetFromArgument`. `hash_bits`: BITFIELD's field width, which allows the
/// `#N` form (N fields in). `byte_max`: `proto-max-bulk-len`, or None while loading.
fn parse_offset(
    arg: &[u8],
    hash_bits: Option<u32>,
    byte_max: Option<usize>,
) -> Result<u64, OpError> {
    let (digits, times) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    let n = arg_i64(digits)
        .ok_or(OpError::BitOffset)?
        .wrapping_mul(times);
    if n < 0 || byte_max.is_some_and(|max| (n as u64 >> 3) >= max as u64) {
        return Err(OpError::BitOffset);
    }
    Ok(n as u64)
}

/// A BITFIELD type: `i1`..`i64` or `u1`..`u63` (C string rules: the argument ends at a NUL).
/// Returns (signed, bits).
fn parse_type(arg: &[u8]) -> Result<(bool, u32), OpError> {
    let s = c_str(arg);
    let signed = match s.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(OpError::BitfieldType),
    };
    let max = if signed { 64 } else { 63 };
    match arg_i64(&s[1..]) {
        Some(n) if (1..=max).contains(&n) => Ok((signed, n as u32)),
        _ => Err(OpError::BitfieldType),
    }
}

/// Parses BITFIELD's subcommands from `argv[2..]`. Returns them and whether any writes.
fn parse_fields(argv: &Argv<'_>, byte_max: Option<usize>) -> Result<(Vec<Field>, bool), OpError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut writes = false;
    let mut j = 2;
    while j < argv.len() {
        let rest = argv.len() - j - 1;
        let sub = argv.get(j);
        let (is_get, takes) = if opt_is(sub, "GET") && rest >= 2 {
            (true, 2)
        } else if (opt_is(sub, "SET") || opt_is(sub, "INCRBY")) && rest >= 3 {
            (false, 3)
        } else if opt_is(sub, "OVERFLOW") && rest >= 1 {
            let kind = argv.get(j + 1);
            overflow = if opt_is(kind, "WRAP") {
                Overflow::Wrap
            } else if opt_is(kind, "SAT") {
                Overflow::Sat
            } else if opt_is(kind, "FAIL") {
                Overflow::Fail
            } else {
                return Err(OpError::BitfieldOverflowType);
            };
            j += 2;
            continue;
        } else {
            return Err(OpError::Syntax);
        };
        let (signed, bits) = parse_type(argv.get(j + 1))?;
        let offset = parse_offset(argv.get(j + 2), Some(bits), byte_max)?;
        let op = if is_get {
            FieldOp::Get
        } else {
            writes = true;
            let v = arg_i64(argv.get(j + 3)).ok_or(OpError::NotInteger)?;
            if opt_is(sub, "SET") {
                FieldOp::Set(v)
            } else {
                FieldOp::Incrby(v)
            }
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += 1 + takes;
    }
    Ok((fields, writes))
}

/// Where bit offsets stop: `proto-max-bulk-len` bytes, or no limit while the AOF is loaded.
fn offset_byte_max(ctx: &Ctx<'_>) -> Option<usize> {
    (!ctx.srv.loading).then_some(ctx.srv.config.bulk_len_max)
}

// ---------------------------------------------------------------------------------------------
// Keyspace operations

/// A string's bytes for reading (integers formatted into `ib`): None if the key is missing.
pub fn op_read<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
    ib: &'d mut itoa::Buffer,
) -> Result<Option<&'d [u8]>, OpError> {
    match db.get(key, now_ms) {
        None => Ok(None),
        Some(v) => v.str_bytes(ib).map(Some).ok_or(OpError::WrongType),
    }
}

/// Runs `f` on the string at `key` made writable in place and at least `len` bytes long
/// (zero bytes added), created if missing, as Redis's `lookupStringForBitCommand`. `f` is
/// told whether the string grew (a new key grows from nothing).
pub fn op_write_bits<R>(
    db: &mut Db,
    key: &[u8],
    len: usize,
    now_ms: u64,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<R, OpError> {
    let Some(v) = db.get_mut(key, now_ms) else {
        let mut bytes = vec![0; len];
        let r = f(&mut bytes, true);
        db.set(key, Value::raw(bytes), now_ms, false);
        return Ok(r);
    };
    let bytes = match v {
        Value::Raw(b) => b,
        other if other.is_string() => {
            // An int, inline or embstr value becomes raw (Redis unshares it): a copy of at
            // most a short value (an embstr's bytes are moved), once, on its first write.
            let mut ib = itoa::Buffer::new();
            let mut vec = match std::mem::replace(other, Value::Int(0)) {
                Value::Emb(b) => b.into_vec(),
                short => short.str_bytes(&mut ib).unwrap_or_default().to_vec(),
            };
            let grew = grow_zeroed(&mut vec, len);
            let r = f(&mut vec, grew);
            *other = Value::raw(vec);
            return Ok(r);
        }
        _ => return Err(OpError::WrongType),
    };
    let mut vec = std::mem::take(bytes).into_vec();
    let grew = grow_zeroed(&mut vec, len);
    *bytes = vec.into_boxed_slice();
    Ok(f(bytes, grew))
}

/// Pads `vec` with zero bytes to `len` if it is shorter; true if it grew. Reserves exactly:
/// the boxed slice it becomes keeps no spare capacity, so converting back does not
/// reallocate again.
fn grow_zeroed(vec: &mut Vec<u8>, len: usize) -> bool {
    if vec.len() >= len {
        return false;
    }
    vec.reserve_exact(len - vec.len());
    vec.resize(len, 0);
    true
}

/// SETBIT: the bit's previous value and whether the string changed (grew, or the bit
/// flipped).
pub fn op_setbit(
    db: &mut Db,
    key: &[u8],
    offset: u64,
    on: bool,
    now_ms: u64,
) -> Result<(bool, bool), OpError> {
    let byte = (offset / 8) as usize;
    let mask = 0x80u8 >> (offset & 7);
    op_write_bits(db, key, byte + 1, now_ms, |bytes, grew| {
        let was = bytes[byte] & mask != 0;
        if was != on {
            bytes[byte] ^= mask;
        }
        (was, grew || was != on)
    })
}

/// A writing BITFIELD: runs every subcommand in order on the string, grown to hold the
/// highest bit written. Returns one reply per subcommand (None: OVERFLOW FAIL refused it) and
/// the number of changes: the SETs and INCRBYs that wrote, counted when the string grew or
/// the field's value changed (a refused one counts for nothing, even if the string grew).
pub fn op_bitfield_write(
    db: &mut Db,
    key: &[u8],
    fields: &[Field],
    now_ms: u64,
) -> Result<(Vec<Option<i64>>, u64), OpError> {
    let highest = fields
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + u64::from(f.bits) - 1)
        .max()
        .unwrap_or(0);
    let run = |bytes: &mut [u8], grew: bool| {
        let mut changes = 0;
        let out = fields
            .iter()
            .map(|f| {
                let raw = read_field(bytes, f.offset, f.bits);
                match f.op {
                    FieldOp::Get => Some(f.value(raw)),
                    _ => field_apply(f, raw).map(|(reply, stored)| {
                        write_field(bytes, f.offset, f.bits, stored);
                        changes += u64::from(grew || stored != raw);
                        reply
                    }),
                }
            })
            .collect();
        (out, changes)
    };
    op_write_bits(db, key, (highest / 8) as usize + 1, now_ms, run)
}

/// BITOP: the result of `op` over the sources, looked up in order (`found` gets one flag per
/// lookup made, for hit/miss accounting). Missing sources read as empty strings.
pub fn op_bitop(
    db: &mut Db,
    op: BitOp,
    sources: &[&[u8]],
    found: &mut Vec<bool>,
    now_ms: u64,
) -> Result<Vec<u8>, OpError> {
    let mut acc: Vec<u8> = Vec::new();
    for (i, key) in sources.iter().enumerate() {
        let mut ib = itoa::Buffer::new();
        let src = op_read(db, key, now_ms, &mut ib);
        found.push(!matches!(src, Ok(None)));
        let src = src?.unwrap_or_default();
        if i == 0 {
            acc.extend_from_slice(src);
            if op == BitOp::Not {
                acc.iter_mut().for_each(|b| *b = !*b);
            }
        } else {
            bitop_fold(&mut acc, src, op);
        }
    }
    Ok(acc)
}

// ---------------------------------------------------------------------------------------------
// Commands

/// Reads the string at `key` through `f` (missing: None), counting the hit or the miss
/// (`keymiss` fires before the caller's reply).
fn read_with<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> Result<R, OpError>,
) -> Result<Option<R>, OpError> {
    let now_ms = ctx.now_ms;
    let mut ib = itoa::Buffer::new();
    let (db, _) = parts(ctx);
    let res = match op_read(db, key, now_ms, &mut ib) {
        Ok(None) => None,
        Ok(Some(bytes)) => Some(f(bytes)),
        Err(e) => Some(Err(e)),
    };
    match res {
        None => {
            ctx.miss(key);
            Ok(None)
        }
        Some(r) => {
            ctx.hit();
            r.map(Some)
        }
    }
}

pub fn cmd_setbit(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let offset = match parse_offset(argv.get(2), None, offset_byte_max(ctx)) {
        Ok(o) => o,
        Err(e) => return reply_err(ctx, e),
    };
    let on = match arg_i64(argv.get(3)) {
        Some(b @ (0 | 1)) => b == 1,
        _ => return reply_err(ctx, OpError::BitValue),
    };
    let key = argv.get(1);
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_setbit(ctx.db(), key, offset, on, now_ms) {
        Ok((was, changed)) => {
            ctx.notify_new_since(mark, key);
            if changed {
                ctx.notify(class::STRING, "setbit", key);
                ctx.dirty(1);
            }
            ctx.reply.int(i64::from(was));
        }
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_getbit(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let offset = match parse_offset(argv.get(2), None, offset_byte_max(ctx)) {
        Ok(o) => o,
        Err(e) => return reply_err(ctx, e),
    };
    let bit = read_with(ctx, argv.get(1), |bytes| {
        let byte = usize::try_from(offset / 8).unwrap_or(usize::MAX);
        Ok(bytes.get(byte).map_or(0, |b| (b >> (7 - (offset & 7))) & 1))
    });
    match bit {
        Ok(b) => ctx.reply.int(i64::from(b.unwrap_or(0))),
        Err(e) => reply_err(ctx, e),
    }
}

/// BYTE or BIT, as BITCOUNT and BITPOS read it: true for BIT.
fn parse_unit(arg: &[u8]) -> Result<bool, OpError> {
    if opt_is(arg, "BIT") {
        Ok(true)
    } else if opt_is(arg, "BYTE") {
        Ok(false)
    } else {
        Err(OpError::Syntax)
    }
}

pub fn cmd_bitcount(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let n = read_with(ctx, argv.get(1), |bytes| {
        let range = match argv.len() {
            2 => bit_range(bytes.len(), 0, -1, false),
            4 | 5 => {
                let start = arg_i64(argv.get(2)).ok_or(OpError::NotInteger)?;
                let end = arg_i64(argv.get(3)).ok_or(OpError::NotInteger)?;
                // Redis answers 0 for this before it reads the unit (a bad one included).
                if start < 0 && end < 0 && start > end {
                    return Ok(0);
                }
                let in_bits = argv.len() == 5 && parse_unit(argv.get(4))?;
                bit_range(bytes.len(), start, end, in_bits)
            }
            _ => return Err(OpError::Syntax),
        };
        Ok(range.map_or(0, |(first, last)| count_bits(bytes, first, last)))
    });
    match n {
        Ok(n) => ctx.reply.int(n.unwrap_or(0) as i64),
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_bitpos(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let want = match arg_i64(argv.get(2)) {
        Some(b @ (0 | 1)) => b == 1,
        Some(_) => return reply_err(ctx, OpError::BitposBit),
        None => return reply_err(ctx, OpError::NotInteger),
    };
    let pos = read_with(ctx, argv.get(1), |bytes| {
        let len = bytes.len();
        let (range, end_given) = match argv.len() {
            3 => (bit_range(len, 0, -1, false), false),
            4..=6 => {
                let start = arg_i64(argv.get(3)).ok_or(OpError::NotInteger)?;
                let in_bits = argv.len() == 6 && parse_unit(argv.get(5))?;
                let end = if argv.len() >= 5 {
                    Some(arg_i64(argv.get(4)).ok_or(OpError::NotInteger)?)
                } else {
                    None
                };
                (
                    bit_range(len, start, end.unwrap_or(-1), in_bits),
                    end.is_some(),
                )
            }
            _ => return Err(OpError::Syntax),
        };
        let Some((first, last)) = range else {
            // An empty range holds neither a 0 nor a 1.
            return Ok(-1);
        };
        Ok(match find_bit(bytes, first, last, want) {
            Some(p) => p as i64,
            // Without an explicit end the string is taken as padded with zeros on the right:
            // the first clear bit is the one after the range.
            None if !want && !end_given => last as i64 + 1,
            None => -1,
        })
    });
    match pos {
        // A missing key is an endless run of zeros.
        Ok(p) => ctx.reply.int(p.unwrap_or(if want { -1 } else { 0 })),
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_bitop(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let name = argv.get(1);
    let op = if opt_is(name, "AND") {
        BitOp::And
    } else if opt_is(name, "OR") {
        BitOp::Or
    } else if opt_is(name, "XOR") {
        BitOp::Xor
    } else if opt_is(name, "NOT") {
        BitOp::Not
    } else {
        return ctx.syntax_error();
    };
    if op == BitOp::Not && argv.len() != 4 {
        return reply_err(ctx, OpError::BitopNotArity);
    }
    let dst = argv.get(2);
    let sources: Vec<&[u8]> = argv.iter().skip(3).collect();
    let now_ms = ctx.now_ms;
    let mut found = Vec::with_capacity(sources.len());
    let res = op_bitop(ctx.db(), op, &sources, &mut found, now_ms);
    for (&f, key) in found.iter().zip(&sources) {
        ctx.read_lookup(f, key);
    }
    let result = match res {
        Ok(r) => r,
        Err(e) => return reply_err(ctx, e),
    };
    let len = result.len();
    let mark = ctx.new_mark();
    if len > 0 {
        ctx.db().set(dst, Value::raw(result), now_ms, false);
        // Only the destination changed (the sources are key positions too).
        ctx.modified(dst);
        ctx.notify_new_since(mark, dst);
        ctx.notify(class::STRING, "set", dst);
        ctx.dirty(1);
    } else if ctx.db().remove(dst, now_ms).is_some() {
        ctx.modified(dst);
        ctx.notify(class::GENERIC, "del", dst);
        ctx.dirty(1);
    }
    ctx.reply.int(len as i64);
}

fn bitfield_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, read_only: bool) {
    let (fields, writes) = match parse_fields(argv, offset_byte_max(ctx)) {
        Ok(p) => p,
        Err(e) => return reply_err(ctx, e),
    };
    let key = argv.get(1);
    if !writes {
        let values = read_with(ctx, key, |bytes| {
            Ok(fields
                .iter()
                .map(|f| f.value(read_field(bytes, f.offset, f.bits)))
                .collect::<Vec<i64>>())
        });
        return match values {
            Ok(v) => {
                // A missing key reads as zeros.
                let v = v.unwrap_or_else(|| vec![0; fields.len()]);
                ctx.reply.array(v.len());
                for n in v {
                    ctx.reply.int(n);
                }
            }
            Err(e) => reply_err(ctx, e),
        };
    }
    if read_only {
        return reply_err(ctx, OpError::BitfieldRoWrite);
    }
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_bitfield_write(ctx.db(), key, &fields, now_ms) {
        Ok((out, changes)) => {
            ctx.notify_new_since(mark, key);
            ctx.reply.array(out.len());
            for r in &out {
                match r {
                    Some(n) => ctx.reply.int(*n),
                    None => ctx.reply.null(),
                }
            }
            if changes > 0 {
                ctx.notify(class::STRING, "setbit", key);
                ctx.dirty(changes);
            }
        }
        Err(e) => reply_err(ctx, e),
    }
}

pub fn cmd_bitfield(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    bitfield_generic(ctx, argv, false);
}

pub fn cmd_bitfield_ro(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    bitfield_generic(ctx, argv, true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Bit `i` of `bytes`, the slow way.
    fn bit(bytes: &[u8], i: u64) -> bool {
        bytes
            .get((i / 8) as usize)
            .is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
    }

    #[test]
    fn counts_and_finds_bits_as_a_bit_by_bit_model() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(17);
        for _ in 0..2_000 {
            let len = rng.gen_range(1..100);
            let density = rng.gen_range(0..=4);
            let bytes: Vec<u8> = (0..len)
                .map(|_| match density {
                    0 => 0,
                    4 => 0xff,
                    _ => rng.gen(),
                })
                .collect();
            let bits = len as u64 * 8;
            let first = rng.gen_range(0..bits);
            let last = rng.gen_range(first..bits);
            let model = (first..=last).filter(|&i| bit(&bytes, i)).count() as u64;
            assert_eq!(count_bits(&bytes, first, last), model);
            for want in [false, true] {
                let model = (first..=last).find(|&i| bit(&bytes, i) == want);
                assert_eq!(find_bit(&bytes, first, last, want), model);
            }
        }
        let all: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let model: u64 = all.iter().map(|b| u64::from(b.count_ones())).sum();
        assert_eq!(popcount(&all), model);
    }

    #[test]
    fn fields_read_back_what_was_written() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for _ in 0..5_000 {
            let mut bytes: Vec<u8> = (0..20).map(|_| rng.gen()).collect();
            let before = bytes.clone();
            let bits = rng.gen_range(1..=64u32);
            let offset = rng.gen_range(0..(160 - u64::from(bits)));
            let value: u64 = rng.gen();
            write_field(&mut bytes, offset, bits, value);
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            assert_eq!(read_field(&bytes, offset, bits), value & mask);
            // Every bit outside the field is as it was.
            for i in (0..160).filter(|&i| i < offset || i >= offset + u64::from(bits)) {
                assert_eq!(bit(&bytes, i), bit(&before, i));
            }
        }
        // Past the end reads as zeros.
        assert_eq!(read_field(&[0xff], 4, 8), 0xf0);
        assert_eq!(read_field(&[], u64::MAX / 2, 64), 0);
    }

    fn field(op: FieldOp, signed: bool, bits: u32, overflow: Overflow) -> Field {
        Field {
            op,
            signed,
            bits,
            offset: 0,
            overflow,
        }
    }

    #[test]
    fn overflow_rules() {
        use FieldOp::{Incrby, Set};
        use Overflow::{Fail, Sat, Wrap};
        // u8 at 250, +10.
        assert_eq!(
            field_apply(&field(Incrby(10), false, 8, Wrap), 250),
            Some((4, 4))
        );
        assert_eq!(
            field_apply(&field(Incrby(10), false, 8, Sat), 250),
            Some((255, 255))
        );
        assert_eq!(field_apply(&field(Incrby(10), false, 8, Fail), 250), None);
        assert_eq!(
            field_apply(&field(Incrby(-300), false, 8, Sat), 250),
            Some((0, 0))
        );
        // A negative SET on an unsigned field is a huge unsigned number.
        assert_eq!(
            field_apply(&field(Set(-1), false, 8, Sat), 7),
            Some((7, 255))
        );
        assert_eq!(
            field_apply(&field(Set(-1), false, 8, Wrap), 7),
            Some((7, 255))
        );
        // i8 at 127, +1.
        assert_eq!(
            field_apply(&field(Incrby(1), true, 8, Wrap), 127),
            Some((-128, 0x80))
        );
        assert_eq!(
            field_apply(&field(Incrby(1), true, 8, Sat), 127),
            Some((127, 127))
        );
        assert_eq!(
            field_apply(&field(Set(200), true, 8, Wrap), 0),
            Some((0, 200))
        );
        // Redis saturates a SET of a value below 2^(bits-1) - 2^63 to the maximum.
        assert_eq!(
            field_apply(&field(Set(i64::MIN), true, 8, Sat), 0),
            Some((0, 127))
        );
        let edge = -9_223_372_036_854_775_680;
        assert_eq!(
            field_apply(&field(Set(edge - 1), true, 8, Sat), 0),
            Some((0, 127))
        );
        assert_eq!(
            field_apply(&field(Set(edge), true, 8, Sat), 0),
            Some((0, 0x80))
        );
        assert_eq!(
            field_apply(&field(Set(-1000), true, 8, Sat), 0),
            Some((0, 0x80))
        );
        // i64 edges.
        let max = i64::MAX as u64;
        assert_eq!(
            field_apply(&field(Incrby(1), true, 64, Wrap), max),
            Some((i64::MIN, i64::MIN as u64))
        );
        assert_eq!(field_apply(&field(Incrby(1), true, 64, Fail), max), None);
        assert_eq!(
            field_apply(&field(Incrby(i64::MIN), true, 64, Sat), i64::MIN as u64),
            Some((i64::MIN, i64::MIN as u64))
        );
        // i1 holds -1 and 0.
        assert_eq!(
            field_apply(&field(Incrby(1), true, 1, Wrap), 1),
            Some((0, 0))
        );
    }

    #[test]
    fn ranges_follow_redis_arithmetic() {
        assert_eq!(bit_range(6, 0, -1, false), Some((0, 47)));
        assert_eq!(bit_range(6, -100, -50, false), Some((0, 7)));
        assert_eq!(bit_range(6, 5, 1, false), None);
        assert_eq!(bit_range(6, 1, 1, true), Some((1, 1)));
        assert_eq!(bit_range(0, 0, -1, false), None);
        assert_eq!(bit_range(2, 0, 100, true), Some((0, 15)));
    }

    #[test]
    fn bitop_folds_with_zero_padding() {
        let mut acc = vec![0xff, 0x0f];
        bitop_fold(&mut acc, &[0xf0, 0xff, 0xff], BitOp::Or);
        assert_eq!(acc, [0xff, 0xff, 0xff]);
        bitop_fold(&mut acc, &[0x0f], BitOp::And);
        assert_eq!(acc, [0x0f, 0, 0]);
        bitop_fold(&mut acc, &[0xff, 0xff], BitOp::Xor);
        assert_eq!(acc, [0xf0, 0xff, 0]);
    }
}
