//! HyperLogLog values, byte for byte as Redis 7.0's `hyperloglog.c` lays them out, so that a
//! value moved between ringkv and redis-server (GET/SET, RDB, AOF) counts the same and shows
//! the same registers.
//!
//! A HyperLogLog is an ordinary string value. Its first 16 bytes are the header:
//!
//! ```text
//! +------+-----+-------+------------------------------+
//! | HYLL | enc | 0 0 0 | cached cardinality (LE, u64) |
//! +------+-----+-------+------------------------------+
//!   4 B    1 B    3 B      8 B; top bit set = stale
//! ```
//!
//! `enc` 0 is dense: 16384 registers of 6 bits each follow, packed from the least significant
//! bit of each byte up (12288 bytes, so a dense value is exactly [`DENSE_LEN`] bytes). `enc` 1
//! is sparse: a run-length sequence of opcodes follows, ZERO `00xxxxxx` (1-64 zero
//! registers), XZERO `01xxxxxx yyyyyyyy` (1-16384 zero registers) and VAL `1vvvvvxx` (1-4
//! registers holding 1-32). A fresh value is sparse, and becomes dense when a register needs a
//! value above 32 or when a change would make the string longer than `hll-sparse-max-bytes`.
//!
//! An element goes to register `hash & 16383` with the value "position of the first set bit
//! in `hash >> 14`, counting from 1" (at most 51), where `hash` is MurmurHash64A with seed
//! `0xadc83b19`. The count is Ertl's improved estimator over the register histogram, with
//! Redis's float operations in Redis's order and its final `llroundl`.
//!
//! Invariants of values built here ([`check_invariants`]): the magic is `HYLL`, the encoding
//! is 0 or 1, a dense value is exactly [`DENSE_LEN`] bytes, a sparse one's opcodes cover
//! exactly [`REGISTERS`] registers and none holds more than 32. Values read from clients may
//! break any of that; every function here takes arbitrary bytes without panicking, and the
//! answers on corrupt values are redis-server 7.0.15's (as patched for CVE-2025-32023: a
//! sparse value is valid only if its opcodes add up to exactly 16384 registers). One case is
//! not reproduced: an update that splits a final XZERO opcode cut after its first byte reads
//! the missing byte as 0, as Redis does, but Redis keeps what it then wrote past the end in
//! its buffer and may read it back in a later update; here the byte past the end is always 0.

/// Header length: magic, encoding, three unused bytes, cached cardinality.
pub const HDR_LEN: usize = 16;
/// Index bits of the hash.
const P: u32 = 14;
/// Hash bits left for the run of zeroes.
const Q: usize = 64 - P as usize;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Bits per dense register.
const BITS: usize = 6;
/// Length of a dense value, header included.
pub const DENSE_LEN: usize = HDR_LEN + (REGISTERS * BITS).div_ceil(8);
/// The largest value a sparse VAL opcode holds.
pub const SPARSE_VAL_MAX_VALUE: u8 = 32;
/// The longest run of one VAL opcode.
const SPARSE_VAL_MAX_LEN: usize = 4;
/// The longest run of a ZERO opcode.
const SPARSE_ZERO_MAX_LEN: usize = 64;
/// The longest run of an XZERO opcode.
const SPARSE_XZERO_MAX_LEN: usize = 16384;
const XZERO_BIT: u8 = 0x40;
const VAL_BIT: u8 = 0x80;
const ENC_DENSE: u8 = 0;
const ENC_SPARSE: u8 = 1;
const MAGIC: &[u8; 4] = b"HYLL";
/// The hash seed Redis uses.
const SEED: u64 = 0xadc8_3b19;
/// 0.5 / ln(2): Redis writes 0.721347520444481703680, which is this double.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The two representations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    /// The name PFDEBUG ENCODING answers.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// The string is not a HyperLogLog: too short, wrong magic, unknown encoding, or a dense
/// value of the wrong length (Redis's `isHLLObjectOrReply`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotHll;

/// The sparse opcodes do not describe exactly 16384 registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

/// Checks the header the way Redis does before any HyperLogLog command touches a string.
pub fn validate(v: &[u8]) -> Result<Encoding, NotHll> {
    if v.len() < HDR_LEN || &v[..4] != MAGIC {
        return Err(NotHll);
    }
    match v[4] {
        ENC_DENSE if v.len() == DENSE_LEN => Ok(Encoding::Dense),
        ENC_SPARSE => Ok(Encoding::Sparse),
        _ => Err(NotHll),
    }
}

/// An empty HyperLogLog as Redis creates it: sparse, one XZERO covering every register,
/// cached cardinality 0 (valid).
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_LEN + 2);
    v.extend_from_slice(MAGIC);
    v.extend_from_slice(&[ENC_SPARSE, 0, 0, 0]);
    v.extend_from_slice(&[0; 8]);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        v.extend_from_slice(&xzero(run));
        left -= run;
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Hash

/// MurmurHash2, 64-bit version (MurmurHash64A), reading 8-byte blocks little-endian as Redis's
/// endian-neutral copy does.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    // Redis passes the length as a C int: an element of 2 GiB or more would hash
    // differently there (its length truncated); below that the two agree.
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for b in &mut blocks {
        let mut k = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the value it offers (1..=51): Redis's `hllPatLen`.
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The bit above the 50 used ones ends the run, so the count is at most Q + 1.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------------------------
// Header

/// The cached cardinality, if it is valid.
pub fn cached_card(v: &[u8]) -> Option<u64> {
    let card: [u8; 8] = v.get(8..16)?.try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

/// Stores a cardinality in the header, as is (a value with the top bit set stays stale).
pub fn store_card(v: &mut [u8], card: u64) {
    if let Some(c) = v.get_mut(8..16) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate(v: &mut [u8]) {
    if let Some(b) = v.get_mut(15) {
        *b |= 0x80;
    }
}

// ---------------------------------------------------------------------------------------------
// Dense registers

/// Register `i` of a dense register area. The byte after the area reads as 0, as the NUL
/// after Redis's string does.
#[inline]
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u32::from(regs.get(byte).copied().unwrap_or(0));
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

/// Sets register `i` of a dense register area to `val` (< 64).
#[inline]
fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u32::from(val & 63);
    if let Some(b) = regs.get_mut(byte) {
        *b &= !((63u32 << fb) as u8);
        *b |= (v << fb) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((63u32 >> (8 - fb)) as u8);
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// Raises register `index` to `count` if it is lower; true if it changed (`hllDenseSet`).
fn dense_raise(regs: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(regs, index) {
        dense_put(regs, index, count);
        true
    } else {
        false
    }
}

/// Adds the histogram of a dense register area (four registers per three bytes).
fn dense_histogram(regs: &[u8], h: &mut [u64; 64]) {
    for c in regs.chunks_exact(3).take(REGISTERS / 4) {
        let (b0, b1, b2) = (c[0], c[1], c[2]);
        h[usize::from(b0 & 63)] += 1;
        h[usize::from((b0 >> 6 | b1 << 2) & 63)] += 1;
        h[usize::from((b1 >> 4 | b2 << 4) & 63)] += 1;
        h[usize::from(b2 >> 2)] += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Sparse opcodes

/// One sparse opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// A run of zero registers (ZERO or XZERO).
    Zero { run: usize, xzero: bool },
    /// `run` registers holding `value`.
    Val { value: u8, run: usize },
}

impl Op {
    fn run(self) -> usize {
        match self {
            Op::Zero { run, .. } | Op::Val { run, .. } => run,
        }
    }

    /// Bytes the opcode takes.
    fn width(self) -> usize {
        match self {
            Op::Zero { xzero: true, .. } => 2,
            _ => 1,
        }
    }
}

/// The opcode at `s[i]` (`i < s.len()`). An XZERO cut after its first byte reads its second
/// byte as 0, the NUL after Redis's string.
#[inline]
fn op_at(s: &[u8], i: usize) -> Op {
    let b = s[i];
    if b & VAL_BIT != 0 {
        Op::Val {
            value: ((b >> 2) & 0x1f) + 1,
            run: usize::from(b & 3) + 1,
        }
    } else if b & 0xc0 == XZERO_BIT {
        let lo = s.get(i + 1).copied().unwrap_or(0);
        Op::Zero {
            run: ((usize::from(b & 0x3f) << 8) | usize::from(lo)) + 1,
            xzero: true,
        }
    } else {
        Op::Zero {
            run: usize::from(b & 0x3f) + 1,
            xzero: false,
        }
    }
}

/// A VAL opcode (`value` 1..=32, `run` 1..=4).
fn val(value: u8, run: usize) -> u8 {
    debug_assert!((1..=SPARSE_VAL_MAX_VALUE).contains(&value) && (1..=4).contains(&run));
    ((value - 1) << 2) | (run as u8 - 1) | VAL_BIT
}

/// An XZERO opcode (`run` 1..=16384).
fn xzero(run: usize) -> [u8; 2] {
    debug_assert!((1..=SPARSE_XZERO_MAX_LEN).contains(&run));
    let l = run - 1;
    [(l >> 8) as u8 | XZERO_BIT, (l & 0xff) as u8]
}

/// Appends the shortest zero opcode for `run` (1..=16384) registers.
fn push_zeros(seq: &mut Vec<u8>, run: usize) {
    if run > SPARSE_ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero(run));
    } else {
        seq.push(run as u8 - 1);
    }
}

/// The opcodes of a sparse body, in order, each with its offset.
fn ops(body: &[u8]) -> impl Iterator<Item = (usize, Op)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= body.len() {
            return None;
        }
        let op = op_at(body, i);
        let at = i;
        i += op.width();
        Some((at, op))
    })
}

/// Calls `f(first_register, op)` for each opcode of a sparse body; Corrupt unless the
/// opcodes cover exactly [`REGISTERS`] registers. Stops at the first opcode that would go
/// past the last register (Redis's overflow checks).
fn walk(body: &[u8], mut f: impl FnMut(usize, Op)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    for (_, op) in ops(body) {
        if idx + op.run() > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, op);
        idx += op.run();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

// ---------------------------------------------------------------------------------------------
// Operations on whole values

/// Converts a sparse value to dense in place (Redis's `hllSparseToDense`): the header is
/// kept (cached cardinality included) with the encoding byte changed. Ok(false) if it was
/// dense already; Corrupt leaves the value unchanged.
pub fn to_dense(v: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if v.get(4) == Some(&ENC_DENSE) {
        return Ok(false);
    }
    if v.len() < HDR_LEN {
        return Err(Corrupt);
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HDR_LEN].copy_from_slice(&v[..HDR_LEN]);
    dense[4] = ENC_DENSE;
    {
        let regs = &mut dense[HDR_LEN..];
        walk(&v[HDR_LEN..], |first, op| {
            if let Op::Val { value, run } = op {
                for i in first..first + run {
                    dense_put(regs, i, value);
                }
            }
        })?;
    }
    *v = dense;
    Ok(true)
}

/// Raises register `index` (< 16384) of a valid-looking value to `count` if it is lower
/// (Redis's `hllDenseSet` / `hllSparseSet`): Ok(true) if it changed. A sparse value may become
/// dense (`count` above 32, or a longer string than `sparse_max` bytes). Corrupt when the
/// sparse opcodes end before the register, or when a promotion finds them invalid; the value
/// is then unchanged.
pub fn set_register(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    debug_assert!(index < REGISTERS);
    if count == 0 || index >= REGISTERS {
        // Nothing is below 0; no register lies past the last.
        return Ok(false);
    }
    match v.get(4) {
        Some(&ENC_DENSE) if v.len() >= HDR_LEN => Ok(dense_raise(&mut v[HDR_LEN..], index, count)),
        Some(&ENC_SPARSE) if v.len() >= HDR_LEN => sparse_set(v, index, count, sparse_max),
        _ => Err(Corrupt),
    }
}

/// Adds an element (Redis's `hllAdd`): Ok(true) if a register changed.
pub fn add(v: &mut Vec<u8>, ele: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    set_register(v, index, count, sparse_max)
}

/// `hllSparseSet`: the opcode covering `index` is updated in place (split into up to three
/// opcodes), then adjacent equal VAL opcodes around it are merged, and the cached
/// cardinality is marked stale.
fn sparse_set(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Step 1: find the opcode covering `index`, and the one before it.
    let end = v.len();
    let mut p = HDR_LEN;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut found = None;
    while p < end {
        let op = op_at(v, p);
        if index < first + op.run() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.width();
        first += op.run();
    }
    let Some(op) = found else {
        return Err(Corrupt);
    };
    // Step 2: the trivial cases, changed in place.
    match op {
        Op::Val { value, .. } if value >= count => return Ok(false),
        Op::Val { run: 1, .. }
        | Op::Zero {
            run: 1,
            xzero: false,
        } => {
            v[p] = val(count, 1);
            merge_adjacent(v, prev.unwrap_or(HDR_LEN));
            invalidate(v);
            return Ok(true);
        }
        _ => {}
    }
    // The general case: the opcode becomes [before] VAL(count) [after].
    let last = first + op.run() - 1;
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    match op {
        Op::Zero { .. } => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
        Op::Val { value, .. } => {
            if index != first {
                seq.push(val(value, index - first));
            }
            seq.push(val(count, 1));
            if index != last {
                seq.push(val(value, last - index));
            }
        }
    }
    let old_width = op.width();
    if seq.len() > old_width && end + (seq.len() - old_width) > sparse_max {
        return promote(v, index, count);
    }
    // Step 3: substitute. A final XZERO cut after one byte spans the NUL after the string:
    // replace it with the NUL and cut the result one byte short, as Redis's memcpy does.
    let new_len = end + seq.len() - old_width;
    v.push(0);
    v.splice(p..p + old_width, seq);
    v.truncate(new_len);
    // Step 4: merge equal neighbours, from the opcode before the changed one.
    merge_adjacent(v, prev.unwrap_or(HDR_LEN));
    invalidate(v);
    Ok(true)
}

/// Merges adjacent VAL opcodes holding the same value whose runs fit in one, scanning at most
/// five opcodes from offset `from`, as Redis does after an update.
fn merge_adjacent(v: &mut Vec<u8>, from: usize) {
    let mut p = from;
    let mut scan_left = 5;
    while p < v.len() && scan_left > 0 {
        scan_left -= 1;
        let b = v[p];
        if b & 0xc0 == XZERO_BIT {
            p += 2;
            continue;
        }
        if b & 0xc0 == 0 {
            p += 1;
            continue;
        }
        if p + 1 < v.len() && v[p + 1] & VAL_BIT != 0 {
            if let (Op::Val { value: v1, run: r1 }, Op::Val { value: v2, run: r2 }) =
                (op_at(v, p), op_at(v, p + 1))
            {
                if v1 == v2 && r1 + r2 <= SPARSE_VAL_MAX_LEN {
                    v[p + 1] = val(v1, r1 + r2);
                    v.remove(p);
                    // Try the merged opcode with the next one too.
                    continue;
                }
            }
        }
        p += 1;
    }
}

/// The sparse value becomes dense, then the register is raised there. The cached
/// cardinality is left as it was (the callers mark it stale).
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(v)?;
    let changed = dense_raise(&mut v[HDR_LEN..], index, count);
    // The sparse form held at most 32, or a lower value (a size promotion): the register
    // always rises. Redis asserts the same.
    debug_assert!(changed);
    Ok(true)
}

/// The register histogram of a value (`reghisto`): how many registers hold each value.
fn histogram(v: &[u8]) -> Result<[u64; 64], Corrupt> {
    let mut h = [0u64; 64];
    match v.get(4) {
        Some(&ENC_DENSE) if v.len() == DENSE_LEN => dense_histogram(&v[HDR_LEN..], &mut h),
        Some(&ENC_SPARSE) if v.len() >= HDR_LEN => walk(&v[HDR_LEN..], |_, op| match op {
            Op::Zero { run, .. } => h[0] += run as u64,
            Op::Val { value, run } => h[usize::from(value)] += run as u64,
        })?,
        _ => return Err(Corrupt),
    }
    Ok(h)
}

/// Otmar Ertl's sigma function (arXiv:1702.01284), as Redis computes it.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    // Converges: x squares towards 0 (x < 1), so z stops changing within ~60 rounds.
    for _ in 0..1_000 {
        x *= x;
        let z_prev = z;
        z += x * y;
        y += y;
        if z_prev == z {
            break;
        }
    }
    z
}

/// Ertl's tau function, as Redis computes it (GCC turns `pow(1 - x, 2)` into a product).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    // Converges: x goes to 1 under repeated square roots and y halves each round.
    for _ in 0..1_000 {
        x = x.sqrt();
        let z_prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z_prev == z {
            break;
        }
    }
    z / 3.0
}

/// C's `llroundl` of a double on x86-64: half away from zero; out of range (and NaN) gives
/// the "integer indefinite" `i64::MIN`.
fn llround(x: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let r = x.round();
    // NaN is in no range.
    if (-TWO_63..TWO_63).contains(&r) {
        r as i64
    } else {
        i64::MIN
    }
}

/// The estimate from a register histogram, exactly as Redis's `hllCount` computes it,
/// including its storing the rounded value in a double and converting that to u64.
fn estimate(h: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    let e = llround(ALPHA_INF * m * m / z) as f64;
    // GCC's double → uint64 conversion on x86-64.
    if e >= 9_223_372_036_854_775_808.0 {
        1 << 63
    } else {
        e as i64 as u64
    }
}

/// The estimated cardinality of a value (not looking at the cache). Corrupt for a sparse
/// value whose opcodes do not cover exactly the registers.
pub fn count(v: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&histogram(v)?))
}

/// The estimated cardinality of 16384 byte-sized registers (PFCOUNT of several keys).
pub fn count_registers(regs: &[u8; REGISTERS]) -> u64 {
    let mut h = [0u64; 64];
    for &r in regs {
        // Merged from 6-bit registers, so always < 64.
        h[usize::from(r & 63)] += 1;
    }
    estimate(&h)
}

/// Raises each of `max`'s registers to the value's where that is higher (Redis's
/// `hllMerge`). Corrupt for a sparse value that does not cover exactly the registers (`max`
/// may then have been partly raised).
pub fn merge_into(max: &mut [u8; REGISTERS], v: &[u8]) -> Result<(), Corrupt> {
    match v.get(4) {
        Some(&ENC_DENSE) if v.len() == DENSE_LEN => {
            let regs = &v[HDR_LEN..];
            for (i, m) in max.iter_mut().enumerate() {
                let r = dense_get(regs, i);
                if r > *m {
                    *m = r;
                }
            }
            Ok(())
        }
        Some(&ENC_SPARSE) if v.len() >= HDR_LEN => walk(&v[HDR_LEN..], |first, op| {
            if let Op::Val { value, run } = op {
                for m in &mut max[first..first + run] {
                    if value > *m {
                        *m = value;
                    }
                }
            }
        }),
        _ => Err(Corrupt),
    }
}

/// The 16384 registers of a dense value (PFDEBUG GETREG after its conversion).
pub fn dense_registers(v: &[u8]) -> Vec<u8> {
    let regs = v.get(HDR_LEN..).unwrap_or_default();
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// PFDEBUG DECODE's text for a sparse value: `z:N` (ZERO), `Z:N` (XZERO), `v:VALUE,N` (VAL),
/// separated by spaces; every opcode, valid or not.
pub fn decode(v: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for (_, op) in ops(v.get(HDR_LEN..).unwrap_or_default()) {
        let _ = match op {
            Op::Zero { run, xzero: false } => write!(out, "z:{run} "),
            Op::Zero { run, xzero: true } => write!(out, "Z:{run} "),
            Op::Val { value, run } => write!(out, "v:{value},{run} "),
        };
    }
    out.truncate(out.trim_end_matches(' ').len());
    out
}

/// Panics unless `v` is a well-formed value (see the module doc).
pub fn check_invariants(v: &[u8]) {
    let enc = validate(v).expect("header of a HyperLogLog");
    assert_eq!(&v[5..8], &[0, 0, 0], "unused header bytes");
    if enc == Encoding::Sparse {
        let mut max_value = 0;
        walk(&v[HDR_LEN..], |_, op| {
            if let Op::Val { value, .. } = op {
                max_value = max_value.max(value);
            }
        })
        .expect("sparse opcodes cover every register once");
        assert!(max_value <= SPARSE_VAL_MAX_VALUE);
    }
}

// ---------------------------------------------------------------------------------------------
// PFSELFTEST

/// A small PRNG for the self-test (xorshift64*); the test needs no particular sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Elements PFSELFTEST adds.
const SELFTEST_ELEMENTS: u64 = 10_000_000;
/// Rounds of PFSELFTEST's register test.
const SELFTEST_REGISTER_ROUNDS: usize = 1_000;

/// PFSELFTEST, as Redis's: random values written to and read back from dense registers,
/// then 10 million elements added to a dense and a sparse value at once, checking at 1, 10,
/// 100, ... elements that the sparse one is still sparse while small, that both count the
/// same, and that the error is within 6 standard errors. Err is the `TESTFAILED` text.
pub fn selftest(sparse_max: usize, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed | 1);
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..4].copy_from_slice(MAGIC);
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..SELFTEST_REGISTER_ROUNDS {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (rng.next() & 63) as u8;
            *b = r;
            dense_put(&mut dense[HDR_LEN..], i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = dense_get(&dense[HDR_LEN..], i);
            if got != b {
                return Err(format!(
                    "TESTFAILED Register {i} should be {b} but is {got}"
                ));
            }
        }
    }
    dense[HDR_LEN..].fill(0);
    let mut sparse = new_sparse();
    let rel_err = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rng.next();
    for j in 1..=SELFTEST_ELEMENTS {
        let ele = (j ^ seed).to_ne_bytes();
        let (index, c) = pat_len(&ele);
        dense_raise(&mut dense[HDR_LEN..], index, c);
        if set_register(&mut sparse, index, c, sparse_max).is_err() {
            return Err("TESTFAILED sparse representation corrupted".into());
        }
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max / 2 && sparse[4] != ENC_SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let (cd, cs) = (count(&dense), count(&sparse));
        if cd != cs {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let card = cd.unwrap_or(0);
        let abs_err = (checkpoint as i64 - card as i64).unsigned_abs();
        let max_err = if j == 10 {
            // Collisions make a larger error at 10 elements likely enough to fail now and
            // then; Redis allows 1 there.
            1
        } else {
            (rel_err * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abs_err > max_err {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abs_err}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng as _, SeedableRng};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn from_elements(elements: &[&[u8]], sparse_max: usize) -> Vec<u8> {
        let mut v = new_sparse();
        for e in elements {
            add(&mut v, e, sparse_max).unwrap();
        }
        v
    }

    /// Values redis-server 7.0.15 built with PFADD (and PFCOUNT, for the cache), read with
    /// GET: the hash, the register layout and the sparse opcodes must give the same bytes.
    #[test]
    fn values_equal_redis() {
        let mut v = from_elements(&[b"a", b"b", b"c"], 3000);
        invalidate(&mut v);
        assert_eq!(
            v,
            hex("48594c4c01000000000000000000008060f38050b1844bfb80425a")
        );
        let mut v = from_elements(&[b"hello"], 3000);
        let card = count(&v).unwrap();
        store_card(&mut v, card);
        assert_eq!(v, hex("48594c4c01000000010000000000000063ff805bfe"));
        let mut v = from_elements(&[b"", b"12345678", b"123456789abcdefgh"], 3000);
        invalidate(&mut v);
        assert_eq!(
            v,
            hex("48594c4c01000000000000000000008047a5884f8a84521f8856ab")
        );
        assert_eq!(count(&v), Ok(3));
        let many: Vec<Vec<u8>> = (0..5000).map(|i: u32| i.to_string().into_bytes()).collect();
        let refs: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
        let v = from_elements(&refs, 3000);
        assert_eq!(validate(&v), Ok(Encoding::Dense));
        assert_eq!(count(&v), Ok(4985));
        let v = from_elements(&refs[..100], 3000);
        assert_eq!(
            (validate(&v), v.len(), count(&v)),
            (Ok(Encoding::Sparse), 287, Ok(100))
        );
    }

    #[test]
    fn empty_value_counts_zero_and_validates() {
        let v = new_sparse();
        check_invariants(&v);
        assert_eq!(v.len(), HDR_LEN + 2);
        assert_eq!(count(&v), Ok(0));
        assert_eq!(cached_card(&v), Some(0));
        assert_eq!(decode(&v), "Z:16384");
    }

    #[test]
    fn dense_registers_round_trip_without_touching_neighbours() {
        let mut regs = vec![0u8; DENSE_LEN - HDR_LEN];
        let mut model = vec![0u8; REGISTERS];
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..50_000 {
            let i = rng.gen_range(0..REGISTERS);
            let v = rng.gen_range(0..64u8);
            dense_put(&mut regs, i, v);
            model[i] = v;
        }
        for (i, &m) in model.iter().enumerate() {
            assert_eq!(dense_get(&regs, i), m, "register {i}");
        }
        let mut h = [0u64; 64];
        dense_histogram(&regs, &mut h);
        let mut hm = [0u64; 64];
        for &m in &model {
            hm[usize::from(m)] += 1;
        }
        assert_eq!(h, hm);
    }

    /// Sparse and dense values fed the same random elements hold the same registers as a
    /// plain array of maxima, and count the same; every step keeps the invariants.
    #[test]
    fn sparse_and_dense_agree_with_a_model() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for round in 0..20 {
            let sparse_max = [3000, 200, 100_000, 16][round % 4];
            let n = rng.gen_range(0..3000);
            let mut sparse = new_sparse();
            let mut dense = new_sparse();
            to_dense(&mut dense).unwrap();
            let mut model = [0u8; REGISTERS];
            for _ in 0..n {
                let ele: Vec<u8> = (0..rng.gen_range(0..12)).map(|_| rng.gen()).collect();
                let (index, c) = pat_len(&ele);
                let rises = c > model[index];
                model[index] = model[index].max(c);
                assert_eq!(add(&mut sparse, &ele, sparse_max), Ok(rises));
                assert_eq!(add(&mut dense, &ele, sparse_max), Ok(rises));
                check_invariants(&sparse);
                if validate(&sparse) == Ok(Encoding::Sparse) {
                    assert!(sparse.len() <= sparse_max.max(HDR_LEN + 2));
                }
            }
            // Registers above 32 are rare: force one now and then.
            if round % 5 == 0 {
                let i = rng.gen_range(0..REGISTERS);
                model[i] = 40;
                assert_eq!(set_register(&mut sparse, i, 40, sparse_max), Ok(true));
                assert_eq!(validate(&sparse), Ok(Encoding::Dense));
                set_register(&mut dense, i, 40, sparse_max).unwrap();
            }
            let mut merged = [0u8; REGISTERS];
            merge_into(&mut merged, &sparse).unwrap();
            assert_eq!(merged, model);
            let mut merged = [0u8; REGISTERS];
            merge_into(&mut merged, &dense).unwrap();
            assert_eq!(merged, model);
            assert_eq!(count(&sparse), count(&dense));
            assert_eq!(count(&dense), Ok(count_registers(&model)));
            let mut s = sparse.clone();
            to_dense(&mut s).unwrap();
            assert_eq!(dense_registers(&s), model.to_vec());
            assert_eq!(dense_registers(&dense), model.to_vec());
        }
    }

    #[test]
    fn sparse_validity_is_the_sum_of_the_runs() {
        let hdr = |body: &[u8]| {
            let mut v = new_sparse();
            v.truncate(HDR_LEN);
            v.extend_from_slice(body);
            v
        };
        let valid = [&b"\x7f\xff"[..], b"\x5f\xff\x5f\xff", b"\x7f\xfe\x40"];
        let invalid = [
            &b""[..],
            b"\x7f\xff\x00",
            b"\x7f\xff\x40\x00",
            b"\x7f\xff\x80",
            b"\x7f\xfe",
            b"\x7f\xfd\x83",
        ];
        for body in valid {
            let mut v = hdr(body);
            assert_eq!(count(&v), Ok(0), "{body:?}");
            assert_eq!(to_dense(&mut v), Ok(true));
        }
        for body in invalid {
            let mut v = hdr(body);
            assert_eq!(count(&v), Err(Corrupt), "{body:?}");
            assert_eq!(to_dense(&mut v), Err(Corrupt));
            let mut m = [0u8; REGISTERS];
            assert_eq!(merge_into(&mut m, &v), Err(Corrupt));
        }
        assert_eq!(decode(&hdr(b"\x7f\xfd\x83")), "Z:16382 v:1,4");
        assert_eq!(decode(&hdr(b"")), "");
    }

    #[test]
    fn estimate_of_saturated_registers_is_redis_overflow_value() {
        // Every register at 63: z is 0 and the estimate infinite; Redis answers 2^63.
        let mut v = new_sparse();
        to_dense(&mut v).unwrap();
        v[HDR_LEN..].fill(0xff);
        assert_eq!(count(&v), Ok(1 << 63));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for _ in 0..3000 {
            let mut v = new_sparse();
            v.truncate(HDR_LEN);
            let n = rng.gen_range(0..40);
            v.extend((0..n).map(|_| rng.gen::<u8>()));
            if rng.gen_ratio(1, 4) {
                v.extend_from_slice(&[0x7f, 0xff]);
            }
            let _ = count(&v);
            let _ = decode(&v);
            let mut m = [0u8; REGISTERS];
            let _ = merge_into(&mut m, &v);
            for _ in 0..5 {
                let _ = set_register(
                    &mut v,
                    rng.gen_range(0..REGISTERS),
                    rng.gen_range(1..52),
                    40,
                );
            }
            let _ = to_dense(&mut v);
        }
    }

    #[test]
    fn selftest_passes() {
        assert_eq!(selftest(3000, 12345), Ok(()));
    }
}
