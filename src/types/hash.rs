//! The hash value type (Redis's `OBJ_HASH`), in one of two encodings, as Redis 7.0 keeps it:
//!
//! - **listpack**: small hashes live in one byte vector of alternating field and value
//!   entries, each a LEB128 length followed by the bytes, in insertion order (an update
//!   replaces the value in place, a delete closes the gap). Lookups scan it linearly, which is
//!   cheap because the vector is short, and iteration order is the order Redis's listpack has,
//!   so HGETALL/HKEYS/HVALS/HSCAN of a small hash answer in the same order as Redis.
//! - **hashtable**: a [`Dict`] mapping field to value (a `FieldValue`: up to 22 bytes
//!   inline, longer ones on the heap, 24 bytes either way). The dict brings incremental
//!   rehashing and Redis's reverse-binary SCAN cursor.
//!
//! A hash starts as a listpack and converts to a hashtable, once and for good (Redis 7.0 never
//! converts back), when a write would store a field or value longer than `value_len_max`
//! bytes, when a write leaves it with more than `entries_max` fields (checked on updates too,
//! so a limit lowered by CONFIG SET takes effect on the next write), or when the listpack
//! would grow past Redis's 1 GiB listpack safety limit. The limits ([`Limits`]) come from
//! hash-max-listpack-entries/-value at each call; reads never convert.
//!
//! Invariants (checked by [`Hash::check_invariants`]):
//! - listpack: the buffer parses exactly into `2 * pairs` length-prefixed entries, with no
//!   field twice;
//! - hashtable: the dict's own invariants hold and a value is inline exactly when it is
//!   short enough to be.
//!
//! The keyspace never stores an empty hash (the command layer deletes the key), but the type
//! itself allows it.

use std::collections::HashSet;

use crate::ds::dict::Dict;
use crate::ds::small_str::SmallStr;

/// Redis's LISTPACK_MAX_SAFETY_SIZE: a listpack that would grow past this converts instead.
const LISTPACK_SAFE_BYTES_MAX: usize = 1 << 30;
/// Longest LEB128 prefix of a usize length.
const LEB128_BYTES_MAX: usize = 10;
/// Random picks HRANDFIELD's sparse strategy makes per requested field before it falls back
/// to sampling a full snapshot (the sparse strategy only runs when count * 3 <= len, so the
/// expected number of picks per new field is at most 1.5).
const RANDOM_PICKS_PER_FIELD_MAX: usize = 64;

/// The conversion thresholds (hash-max-listpack-entries, hash-max-listpack-value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub entries_max: usize,
    pub value_len_max: usize,
}

/// A field/value pair stored in a listpack buffer: the byte ranges of the field and value
/// bytes, and the range of the whole pair including its length prefixes.
#[derive(Clone, Copy, Debug)]
struct PairPos {
    start: usize,
    field: (usize, usize),
    value: (usize, usize),
    end: usize,
}

#[derive(Clone, Default, PartialEq)]
struct Listpack {
    buf: Vec<u8>,
    pairs: usize,
}

fn push_leb128(out: &mut Vec<u8>, mut n: usize) {
    for _ in 0..LEB128_BYTES_MAX {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Decodes one LEB128 length at `pos`: (length, position after it), None if malformed.
fn read_leb128(buf: &[u8], mut pos: usize) -> Option<(usize, usize)> {
    let mut n: usize = 0;
    for i in 0..LEB128_BYTES_MAX {
        let b = *buf.get(pos)?;
        pos += 1;
        n |= usize::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((n, pos));
        }
    }
    None
}

fn leb128_len(n: usize) -> usize {
    let bits = usize::BITS - n.leading_zeros();
    (bits as usize).div_ceil(7).max(1)
}

/// Reads one entry at `pos`: (start, end) of its bytes, and the position after it.
fn read_entry(buf: &[u8], pos: usize) -> Option<((usize, usize), usize)> {
    let (len, start) = read_leb128(buf, pos)?;
    let end = start.checked_add(len).filter(|&e| e <= buf.len())?;
    Some(((start, end), end))
}

impl Listpack {
    /// The pair at `pos` (which must be a pair boundary); None at the end or if malformed.
    fn pair_at(&self, pos: usize) -> Option<PairPos> {
        if pos >= self.buf.len() {
            return None;
        }
        let (field, p) = read_entry(&self.buf, pos)?;
        let (value, end) = read_entry(&self.buf, p)?;
        Some(PairPos {
            start: pos,
            field,
            value,
            end,
        })
    }

    fn bytes(&self, r: (usize, usize)) -> &[u8] {
        &self.buf[r.0..r.1]
    }

    /// Every pair in order. The loop is bounded by the buffer: each pair advances `pos`.
    fn positions(&self) -> impl Iterator<Item = PairPos> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let p = self.pair_at(pos)?;
            pos = p.end;
            Some(p)
        })
    }

    fn find(&self, field: &[u8]) -> Option<PairPos> {
        self.positions().find(|p| self.bytes(p.field) == field)
    }

    fn push_pair(&mut self, field: &[u8], value: &[u8]) {
        self.buf.reserve(field.len() + value.len() + 4);
        push_leb128(&mut self.buf, field.len());
        self.buf.extend_from_slice(field);
        push_leb128(&mut self.buf, value.len());
        self.buf.extend_from_slice(value);
        self.pairs += 1;
    }

    /// Replaces the value of the pair at `p`, keeping its place.
    fn replace_value(&mut self, p: PairPos, value: &[u8]) {
        let prefix_start = p.value.0 - leb128_len(p.value.1 - p.value.0);
        let mut entry = Vec::with_capacity(value.len() + 4);
        push_leb128(&mut entry, value.len());
        entry.extend_from_slice(value);
        self.buf.splice(prefix_start..p.end, entry);
    }

    fn remove(&mut self, p: PairPos) {
        self.buf.drain(p.start..p.end);
        self.pairs -= 1;
    }
}

/// A value in the hashtable encoding.
#[derive(Clone)]
enum FieldValue {
    Inline(SmallStr),
    Heap(Box<[u8]>),
}

// A dict entry with a 24-byte value has a 40-byte header (ds::dict), as for keyspace keys.
const _: () = assert!(std::mem::size_of::<FieldValue>() == 24);

impl FieldValue {
    fn new(bytes: &[u8]) -> FieldValue {
        match SmallStr::new(bytes) {
            Some(s) => FieldValue::Inline(s),
            None => FieldValue::Heap(bytes.into()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            FieldValue::Inline(s) => s.as_bytes(),
            FieldValue::Heap(b) => b,
        }
    }
}

enum Repr {
    Listpack(Listpack),
    Table(Dict<FieldValue>),
}

/// A Redis hash: field → value, both binary strings.
pub struct Hash {
    repr: Repr,
}

impl Hash {
    /// MEMORY USAGE: the heap bytes of the hash's contents (not of the box holding it), the
    /// table's entries averaged over `samples` of them.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        use crate::alloc::block_bytes;
        match &self.repr {
            Repr::Listpack(lp) => block_bytes(lp.buf.capacity()),
            Repr::Table(d) => d.heap_bytes_sampled(samples, |v| match v {
                FieldValue::Inline(_) => 0,
                FieldValue::Heap(b) => block_bytes(b.len()),
            }),
        }
    }
}

impl Default for Hash {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Hash {
    /// A large hash is freed on the lazy-free thread when dropped on the loop thread.
    fn drop(&mut self) {
        let len = self.len();
        crate::lazyfree::defer_if_large(len, || {
            std::mem::replace(&mut self.repr, Repr::Listpack(Listpack::default()))
        });
    }
}

impl Hash {
    /// An empty hash in the listpack encoding (how Redis creates every hash).
    pub fn new() -> Hash {
        Hash {
            repr: Repr::Listpack(Listpack::default()),
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.pairs,
            Repr::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Converts a listpack to a hashtable (Redis's `hashTypeConvert`); no-op for a table.
    pub fn convert_to_table(&mut self) {
        let Repr::Listpack(lp) = &self.repr else {
            return;
        };
        let mut d = Dict::new();
        for p in lp.positions() {
            let old = d.insert(lp.bytes(p.field), FieldValue::new(lp.bytes(p.value)));
            debug_assert!(old.is_none(), "listpack held a field twice");
        }
        debug_assert_eq!(d.len(), lp.pairs);
        self.repr = Repr::Table(d);
    }

    /// Redis's `hashTypeTryConversion`: before a write with these arguments, converts if any
    /// of them is longer than the value limit or the listpack would pass its safety size.
    /// HSET calls it on all its field and value arguments at once (a long value anywhere in
    /// the command converts before the first pair is written); HSETNX once it will write.
    pub fn convert_for_args<'a>(&mut self, args: impl Iterator<Item = &'a [u8]>, lim: Limits) {
        let Repr::Listpack(lp) = &self.repr else {
            return;
        };
        let buf_len = lp.buf.len();
        let mut sum: usize = 0;
        for a in args {
            if a.len() > lim.value_len_max {
                self.convert_to_table();
                return;
            }
            sum = sum.saturating_add(a.len());
        }
        if buf_len.saturating_add(sum) > LISTPACK_SAFE_BYTES_MAX {
            self.convert_to_table();
        }
    }

    /// The value of `field`. Takes `&mut self` because a table lookup performs a rehash step.
    pub fn get(&mut self, field: &[u8]) -> Option<&[u8]> {
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let p = lp.find(field)?;
                Some(lp.bytes(p.value))
            }
            Repr::Table(d) => d.get(field).map(FieldValue::bytes),
        }
    }

    pub fn contains(&mut self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Redis's `hashTypeSet`: sets `field` to `value`; true if the field is new. A listpack
    /// converts first if either is longer than the value limit, and after writing (insert or
    /// update) if it then holds more than `entries_max` fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: Limits) -> bool {
        if let Repr::Listpack(lp) = &self.repr {
            if field.len() > lim.value_len_max
                || value.len() > lim.value_len_max
                || lp.buf.len().saturating_add(field.len() + value.len()) > LISTPACK_SAFE_BYTES_MAX
            {
                self.convert_to_table();
            }
        }
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let new = match lp.find(field) {
                    Some(p) => {
                        lp.replace_value(p, value);
                        false
                    }
                    None => {
                        lp.push_pair(field, value);
                        true
                    }
                };
                // Checked after an update too: a listpack that grew under a larger limit
                // converts on its next write once the limit was lowered (as in Redis).
                if lp.pairs > lim.entries_max {
                    self.convert_to_table();
                }
                new
            }
            Repr::Table(d) => d.insert(field, FieldValue::new(value)).is_none(),
        }
    }

    /// Deletes `field`; true if it was there. A table shrinks when it gets sparse, as Redis's
    /// `hashTypeDelete` does.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(lp) => match lp.find(field) {
                Some(p) => {
                    lp.remove(p);
                    true
                }
                None => false,
            },
            Repr::Table(d) => {
                let found = d.remove(field).is_some();
                if found {
                    d.shrink_if_needed();
                }
                found
            }
        }
    }

    /// Visits every pair: listpack in insertion order, table in bucket order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        match &self.repr {
            Repr::Listpack(lp) => {
                for p in lp.positions() {
                    f(lp.bytes(p.field), lp.bytes(p.value));
                }
            }
            Repr::Table(d) => d.for_each(|k, v| f(k, v.bytes())),
        }
    }

    /// One HSCAN call before filtering. A listpack returns everything with cursor 0 whatever
    /// the cursor (as Redis does). A table makes dict scan steps from `cursor` until at least
    /// `fields_min` fields were emitted, `steps_max` steps were made, or the scan completed.
    /// Returns the next cursor.
    pub fn scan(
        &self,
        cursor: u64,
        fields_min: usize,
        steps_max: usize,
        mut f: impl FnMut(&[u8], &[u8]),
    ) -> u64 {
        match &self.repr {
            Repr::Listpack(_) => {
                self.for_each(f);
                0
            }
            Repr::Table(d) => {
                let mut fields = 0usize;
                let mut v = cursor;
                for _ in 0..steps_max.max(1) {
                    v = d.scan(v, |k, val| {
                        f(k, val.bytes());
                        fields += 1;
                    });
                    if v == 0 || fields >= fields_min {
                        break;
                    }
                }
                v
            }
        }
    }

    /// One uniformly random pair (HRANDFIELD without a count); None if empty.
    pub fn random_pair(&mut self, mut rand_u64: impl FnMut() -> u64) -> Option<(&[u8], &[u8])> {
        match &mut self.repr {
            Repr::Listpack(lp) => {
                if lp.pairs == 0 {
                    return None;
                }
                let i = (rand_u64() % lp.pairs as u64) as usize;
                let p = lp.positions().nth(i)?;
                Some((lp.bytes(p.field), lp.bytes(p.value)))
            }
            Repr::Table(d) => d.random_pair(rand_u64).map(|(k, v)| (k, v.bytes())),
        }
    }

    /// HRANDFIELD with a negative count: `count` pairs picked independently (repeats
    /// allowed), stopping early when `f` returns false. Nothing if empty.
    pub fn random_pairs_with_repeats(
        &mut self,
        count: usize,
        mut rand_u64: impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) {
        match &mut self.repr {
            Repr::Listpack(lp) => {
                if lp.pairs == 0 {
                    return;
                }
                // One pass to index the pairs, then each pick is O(1).
                let all: Vec<PairPos> = lp.positions().collect();
                for _ in 0..count {
                    let p = all[(rand_u64() % all.len() as u64) as usize];
                    if !f(lp.bytes(p.field), lp.bytes(p.value)) {
                        return;
                    }
                }
            }
            Repr::Table(d) => {
                for _ in 0..count {
                    let Some((k, v)) = d.random_pair(&mut rand_u64) else {
                        return;
                    };
                    if !f(k, v.bytes()) {
                        return;
                    }
                }
            }
        }
    }

    /// HRANDFIELD with a positive count below `len()`: `count` distinct pairs. A listpack
    /// answers in its own order (selection sampling, like Redis's `lpRandomPairsUnique`); a
    /// table picks at random when the count is small against the size, else samples a
    /// snapshot (Redis's CASE 4 and CASE 3).
    pub fn random_pairs_unique(
        &mut self,
        count: usize,
        mut rand_u64: impl FnMut() -> u64,
        mut f: impl FnMut(&[u8], &[u8]),
    ) {
        let len = self.len();
        let count = count.min(len);
        match &mut self.repr {
            Repr::Listpack(lp) => {
                // Knuth's algorithm S: keep each pair with probability needed / remaining.
                let mut needed = count;
                let mut remaining = len;
                for p in lp.positions() {
                    if needed == 0 {
                        break;
                    }
                    if (rand_u64() % remaining as u64) < needed as u64 {
                        f(lp.bytes(p.field), lp.bytes(p.value));
                        needed -= 1;
                    }
                    remaining -= 1;
                }
            }
            Repr::Table(d) => {
                if count.saturating_mul(3) <= len {
                    let mut picked: HashSet<Vec<u8>> = HashSet::with_capacity(count);
                    let tries_max = count.saturating_mul(RANDOM_PICKS_PER_FIELD_MAX);
                    for _ in 0..tries_max {
                        if picked.len() == count {
                            return;
                        }
                        let Some((k, v)) = d.random_pair(&mut rand_u64) else {
                            return;
                        };
                        if picked.insert(k.to_vec()) {
                            f(k, v.bytes());
                        }
                    }
                    // Very unlikely: finish from a snapshot of the fields not yet picked.
                    let mut rest: Vec<(&[u8], &FieldValue)> = Vec::with_capacity(len);
                    d.for_each_ref(|k, v| {
                        if !picked.contains(k) {
                            rest.push((k, v));
                        }
                    });
                    let want = count - picked.len();
                    sample_prefix(&mut rest, want, &mut rand_u64);
                    for (k, v) in &rest[..want.min(rest.len())] {
                        f(k, v.bytes());
                    }
                    return;
                }
                let mut all: Vec<(&[u8], &FieldValue)> = Vec::with_capacity(len);
                d.for_each_ref(|k, v| all.push((k, v)));
                sample_prefix(&mut all, count, &mut rand_u64);
                for (k, v) in &all[..count.min(all.len())] {
                    f(k, v.bytes());
                }
            }
        }
    }

    /// Panics with a message if an invariant from the module doc is broken. O(n).
    pub fn check_invariants(&self) {
        match &self.repr {
            Repr::Listpack(lp) => {
                let mut seen: HashSet<&[u8]> = HashSet::with_capacity(lp.pairs);
                let mut pos = 0;
                let mut pairs = 0;
                while pos < lp.buf.len() {
                    let p = lp
                        .pair_at(pos)
                        .unwrap_or_else(|| panic!("Hash: listpack malformed at byte {pos}"));
                    assert!(
                        seen.insert(lp.bytes(p.field)),
                        "Hash: listpack holds field {:?} twice",
                        lp.bytes(p.field)
                    );
                    pairs += 1;
                    pos = p.end;
                }
                assert_eq!(pos, lp.buf.len(), "Hash: listpack has trailing bytes");
                assert_eq!(
                    pairs, lp.pairs,
                    "Hash: listpack says {} pairs but holds {pairs}",
                    lp.pairs
                );
            }
            Repr::Table(d) => {
                d.check_invariants();
                d.for_each(|k, v| {
                    assert_eq!(
                        matches!(v, FieldValue::Inline(_)),
                        SmallStr::new(v.bytes()).is_some(),
                        "Hash: field {k:?}: a value of {} bytes in the wrong form",
                        v.bytes().len()
                    );
                });
            }
        }
    }
}

/// Moves a uniform random sample of `k` elements to the front (partial Fisher-Yates).
fn sample_prefix<T>(v: &mut [T], k: usize, rand_u64: &mut impl FnMut() -> u64) {
    let n = v.len();
    for i in 0..k.min(n) {
        let j = i + (rand_u64() % (n - i) as u64) as usize;
        v.swap(i, j);
    }
}

impl Clone for Hash {
    fn clone(&self) -> Hash {
        let repr = match &self.repr {
            Repr::Listpack(lp) => Repr::Listpack(lp.clone()),
            Repr::Table(d) => {
                let mut copy = Dict::new();
                d.for_each(|k, v| {
                    copy.insert(k, v.clone());
                });
                Repr::Table(copy)
            }
        };
        Hash { repr }
    }
}

/// Equal when the encodings and the contents agree; a listpack also compares its order (which
/// clients can observe), a table compares as a map.
impl PartialEq for Hash {
    fn eq(&self, other: &Hash) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Listpack(a), Repr::Listpack(b)) => a == b,
            (Repr::Table(a), Repr::Table(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                let mut map: std::collections::HashMap<&[u8], &[u8]> =
                    std::collections::HashMap::with_capacity(b.len());
                b.for_each_ref(|k, v| {
                    map.insert(k, v.bytes());
                });
                let mut equal = true;
                a.for_each(|k, v| equal &= map.get(k) == Some(&v.bytes()));
                equal
            }
            _ => false,
        }
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut pairs: Vec<(String, String)> = Vec::with_capacity(self.len());
        self.for_each(|k, v| {
            pairs.push((
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ))
        });
        write!(f, "Hash({}) ", self.encoding())?;
        f.debug_map().entries(pairs).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        entries_max: 4,
        value_len_max: 8,
    };

    fn fields(h: &Hash) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        h.for_each(|k, _| out.push(k.to_vec()));
        out
    }

    #[test]
    fn leb128_round_trip() {
        for n in [0usize, 1, 127, 128, 300, 16383, 16384, 1 << 30, usize::MAX] {
            let mut b = Vec::new();
            push_leb128(&mut b, n);
            assert_eq!(b.len(), leb128_len(n), "{n}");
            assert_eq!(read_leb128(&b, 0), Some((n, b.len())), "{n}");
        }
        assert_eq!(read_leb128(&[0x80], 0), None);
    }

    #[test]
    fn listpack_keeps_insertion_order_and_updates_in_place() {
        let mut h = Hash::new();
        assert!(h.set(b"b", b"1", LIM));
        assert!(h.set(b"a", b"2", LIM));
        assert!(h.set(b"c", b"3", LIM));
        assert!(!h.set(
            b"a",
            &[b'x'; 200],
            Limits {
                entries_max: 4,
                value_len_max: 1000
            }
        ));
        h.check_invariants();
        assert_eq!(
            fields(&h),
            vec![b"b".to_vec(), b"a".to_vec(), b"c".to_vec()]
        );
        assert_eq!(h.get(b"a"), Some(&[b'x'; 200][..]));
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(fields(&h), vec![b"a".to_vec(), b"c".to_vec()]);
        h.check_invariants();
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn converts_on_entries_and_lengths_and_never_back() {
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", LIM);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", LIM);
        assert_eq!(h.encoding(), "hashtable");
        for i in 0..5 {
            h.remove(format!("f{i}").as_bytes());
        }
        assert!(h.is_empty());
        assert_eq!(h.encoding(), "hashtable");
        h.check_invariants();

        let mut h = Hash::new();
        h.set(b"f", b"123456789", LIM);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.set(b"f", b"v", LIM);
        h.convert_for_args([&b"x"[..], b"123456789"].into_iter(), LIM);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"f"), Some(&b"v"[..]));
    }

    #[test]
    fn clone_and_eq() {
        let mut h = Hash::new();
        for i in 0..10 {
            h.set(format!("f{i}").as_bytes(), b"v", LIM);
        }
        let c = h.clone();
        assert_eq!(c, h);
        c.check_invariants();
        h.set(b"f0", b"w", LIM);
        assert_ne!(c, h);
    }

    #[test]
    fn random_unique_is_distinct() {
        let mut state = 0x1234_5678_9abc_def1u64;
        let mut rng = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in [3usize, 10, 100] {
            let mut h = Hash::new();
            for i in 0..n {
                h.set(format!("f{i}").as_bytes(), b"v", LIM);
            }
            for count in 1..n {
                let mut got = HashSet::new();
                h.random_pairs_unique(count, &mut rng, |k, _| {
                    assert!(got.insert(k.to_vec()));
                });
                assert_eq!(got.len(), count, "n {n} count {count}");
            }
        }
    }
}
