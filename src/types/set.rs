//! The set value: Redis 7.0's two set encodings.
//!
//! - `intset`: every member is a 64-bit integer in canonical decimal form (Redis's `string2ll`
//!   accepts it), kept as a sorted `Vec<i64>`. Iteration is ascending, which is the order
//!   SMEMBERS, SSCAN and friends answer for such a set in Redis.
//! - `hashtable`: a [`Dict`] of member bytes with no values (`Dict<()>`). The dict gives
//!   incremental rehashing and Redis's reverse-binary SCAN cursor.
//!
//! A set starts as an intset when its first member is an integer, and converts to a hash table
//! for good when a non-integer member is added or the intset grows past
//! `set-max-intset-entries` (capped at 2^30 as in Redis). Redis 7.0 never converts a set
//! back, so neither does this type; operations that build a new set (SINTERSTORE, SUNIONSTORE,
//! SPOP's rebuild of what stays, ...) start from an empty intset and add members one by one,
//! which is how Redis reaches its encoding choice for them.
//!
//! Invariants (checked by [`Set::check_invariants`]):
//! - an intset's vector is strictly ascending (so every member appears once);
//! - a hash table's dict keeps its own invariants;
//! - member identity is by bytes: an integer `n` in an intset is the member
//!   `itoa(n)`, and bytes that are not a canonical integer can only live in a hash table.
//!
//! Clone, Debug and PartialEq are written by hand because `Dict` implements none of them:
//! a clone rebuilds the table, equality means the same encoding and the same members.

use crate::ds::dict::Dict;
use crate::util::num::parse_i64_strict;

/// Redis caps intsets at 2^30 entries whatever set-max-intset-entries says.
const INTSET_ENTRIES_CAP: usize = 1 << 30;
/// SSCAN on a hash table visits at most COUNT * this many buckets per call (Redis's rule).
const SCAN_BUCKETS_PER_COUNT: usize = 10;

/// A member borrowed from a set or an argument: an intset integer or raw bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> Member<'a> {
    /// The member's bytes; integers are formatted into `buf`.
    pub fn bytes<'b>(&self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Member::Int(n) => buf.format(n).as_bytes(),
            Member::Bytes(b) => b,
        }
    }

    /// The integer this member is as far as an intset is concerned.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Member::Int(n) => Some(n),
            Member::Bytes(b) => parse_i64_strict(b),
        }
    }

    pub fn to_elem(&self) -> Elem {
        match *self {
            Member::Int(n) => Elem::Int(n),
            Member::Bytes(b) => Elem::Bytes(b.to_vec()),
        }
    }
}

/// An owned member, e.g. one popped from a set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Elem {
    Int(i64),
    Bytes(Vec<u8>),
}

impl Elem {
    pub fn as_member(&self) -> Member<'_> {
        match self {
            Elem::Int(n) => Member::Int(*n),
            Elem::Bytes(b) => Member::Bytes(b),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            Elem::Int(n) => itoa::Buffer::new().format(*n).as_bytes().to_vec(),
            Elem::Bytes(b) => b.clone(),
        }
    }
}

enum Repr {
    Ints(Vec<i64>),
    Table(Dict<()>),
}

pub struct Set {
    repr: Repr,
}

impl Set {
    /// MEMORY USAGE: the heap bytes of the set's contents (not of the box holding it), the
    /// table's entries averaged over `samples` of them.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match &self.repr {
            Repr::Ints(v) => crate::alloc::block_bytes(v.capacity() * 8),
            Repr::Table(d) => d.heap_bytes_sampled(samples, |_| 0),
        }
    }
}

impl Default for Set {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Set {
    /// A large set is freed on the lazy-free thread when dropped on the loop thread.
    fn drop(&mut self) {
        let len = self.len();
        crate::lazyfree::defer_if_large(len, || {
            std::mem::replace(&mut self.repr, Repr::Ints(Vec::new()))
        });
    }
}

impl Set {
    /// An empty intset: Redis's `createIntsetObject`, the start of every computed set.
    pub fn new() -> Set {
        Set {
            repr: Repr::Ints(Vec::new()),
        }
    }

    /// An empty set whose encoding suits `first`, Redis's `setTypeCreate`: an intset for an
    /// integer, a hash table otherwise. The member itself is not added.
    pub fn for_first(first: &[u8]) -> Set {
        if parse_i64_strict(first).is_some() {
            Set::new()
        } else {
            Set {
                repr: Repr::Table(Dict::new()),
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Ints(_))
    }

    /// Converts an intset to a hash table (no-op for a table).
    fn convert_to_table(&mut self) {
        if let Repr::Ints(v) = &self.repr {
            let mut d = Dict::new();
            let mut buf = itoa::Buffer::new();
            for &n in v {
                d.insert(buf.format(n).as_bytes(), ());
            }
            self.repr = Repr::Table(d);
        }
    }

    /// Adds a member (Redis's `setTypeAdd`); true if it was new. `intset_entries_max` is
    /// set-max-intset-entries: an intset that grows past it becomes a hash table.
    pub fn add(&mut self, m: &[u8], intset_entries_max: usize) -> bool {
        self.add_member(Member::Bytes(m), intset_entries_max)
    }

    pub fn add_member(&mut self, m: Member<'_>, intset_entries_max: usize) -> bool {
        if let Repr::Ints(v) = &mut self.repr {
            match m.as_int() {
                Some(n) => {
                    let Err(pos) = v.binary_search(&n) else {
                        return false;
                    };
                    v.insert(pos, n);
                    if v.len() > intset_entries_max.min(INTSET_ENTRIES_CAP) {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        let Repr::Table(d) = &mut self.repr else {
            unreachable!("converted to a table above");
        };
        let mut buf = itoa::Buffer::new();
        // One lookup: inserting an existing member changes nothing.
        d.insert(m.bytes(&mut buf), ()).is_none()
    }

    /// Removes a member; true if it was there. A hash table shrinks when it falls below 10%
    /// fill, as Redis's `setTypeRemove` does.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        self.remove_member(Member::Bytes(m))
    }

    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => {
                let Some(n) = m.as_int() else {
                    return false;
                };
                match v.binary_search(&n) {
                    Ok(pos) => {
                        v.remove(pos);
                        true
                    }
                    Err(_) => false,
                }
            }
            Repr::Table(d) => {
                let mut buf = itoa::Buffer::new();
                if d.remove(m.bytes(&mut buf)).is_none() {
                    return false;
                }
                d.shrink_if_needed();
                true
            }
        }
    }

    /// Membership test. Takes `&mut self` because a hash table lookup performs one rehash
    /// step, as Redis's `dictFind` does.
    pub fn contains(&mut self, m: &[u8]) -> bool {
        self.contains_member(Member::Bytes(m))
    }

    pub fn contains_member(&mut self, m: Member<'_>) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => m.as_int().is_some_and(|n| v.binary_search(&n).is_ok()),
            Repr::Table(d) => {
                let mut buf = itoa::Buffer::new();
                d.get(m.bytes(&mut buf)).is_some()
            }
        }
    }

    /// Visits every member: ascending for an intset, table order for a hash table.
    pub fn for_each(&self, mut f: impl FnMut(Member<'_>)) {
        match &self.repr {
            Repr::Ints(v) => v.iter().for_each(|&n| f(Member::Int(n))),
            Repr::Table(d) => d.for_each(|k, _| f(Member::Bytes(k))),
        }
    }

    /// Owned copies of every member, in `for_each` order.
    pub fn elems(&self) -> Vec<Elem> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|m| out.push(m.to_elem()));
        out
    }

    /// A uniformly random member (None when empty). `rand_u64` supplies uniform random
    /// numbers. A hash table picks by rejection sampling (`Dict::fair_random_entry`), so every
    /// member is equally likely, whatever the chain it sits in.
    pub fn random(&self, mut rand_u64: impl FnMut() -> u64) -> Option<Elem> {
        match &self.repr {
            Repr::Ints(v) => {
                if v.is_empty() {
                    return None;
                }
                Some(Elem::Int(v[(rand_u64() % v.len() as u64) as usize]))
            }
            Repr::Table(d) => d
                .random_pair(rand_u64)
                .map(|(k, _)| Elem::Bytes(k.to_vec())),
        }
    }

    /// Removes and returns a random member.
    pub fn pop_random(&mut self, rand_u64: impl FnMut() -> u64) -> Option<Elem> {
        let e = self.random(rand_u64)?;
        let removed = self.remove_member(e.as_member());
        debug_assert!(removed);
        Some(e)
    }

    /// One SSCAN step: an intset answers every member and cursor 0; a hash table visits
    /// buckets from `cursor` until `count` members were collected, the scan ends, or
    /// `count * 10` more buckets were visited (Redis's `scanGenericCommand` loop). Returns the
    /// next cursor.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
        match &self.repr {
            Repr::Ints(v) => {
                v.iter().for_each(|&n| f(Member::Int(n)));
                0
            }
            Repr::Table(d) => {
                let mut cursor = cursor;
                let mut collected = 0usize;
                let mut buckets_left = count.saturating_mul(SCAN_BUCKETS_PER_COUNT);
                loop {
                    cursor = d.scan(cursor, |k, _| {
                        collected += 1;
                        f(Member::Bytes(k));
                    });
                    if cursor == 0 || buckets_left == 0 || collected >= count {
                        return cursor;
                    }
                    buckets_left -= 1;
                }
            }
        }
    }

    /// Panics with a message if an invariant from the module doc is broken. O(n).
    pub fn check_invariants(&self) {
        match &self.repr {
            Repr::Ints(v) => {
                for w in v.windows(2) {
                    assert!(w[0] < w[1], "Set: intset not strictly ascending: {w:?}");
                }
            }
            Repr::Table(d) => d.check_invariants(),
        }
    }

    /// Members as byte strings, sorted (for comparisons).
    fn sorted_bytes(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = self.elems().iter().map(Elem::to_vec).collect();
        out.sort();
        out
    }
}

impl Clone for Set {
    fn clone(&self) -> Set {
        let repr = match &self.repr {
            Repr::Ints(v) => Repr::Ints(v.clone()),
            Repr::Table(d) => {
                let mut copy = Dict::new();
                d.for_each(|k, _| {
                    copy.insert(k, ());
                });
                Repr::Table(copy)
            }
        };
        Set { repr }
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Set) -> bool {
        self.encoding() == other.encoding()
            && self.len() == other.len()
            && self.sorted_bytes() == other.sorted_bytes()
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Set({}) ", self.encoding())?;
        f.debug_set()
            .entries(
                self.sorted_bytes()
                    .iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::HashSet;

    #[test]
    fn encodings_and_conversion() {
        let mut s = Set::for_first(b"1");
        assert!(s.add(b"3", 3));
        assert!(s.add(b"1", 3));
        assert!(!s.add(b"1", 3));
        assert!(s.add(b"-2", 3));
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.elems(), vec![Elem::Int(-2), Elem::Int(1), Elem::Int(3)]);
        assert!(s.add(b"4", 3), "a 4th entry passes the limit of 3");
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"-2") && !s.contains(b"-02"));
        for m in [&b"1"[..], b"3", b"4", b"-2"] {
            assert!(s.remove(m));
        }
        assert!(s.is_empty());
        assert_eq!(s.encoding(), "hashtable", "never converts back");
        s.check_invariants();

        let mut t = Set::for_first(b"x");
        assert_eq!(t.encoding(), "hashtable");
        let mut u = Set::new();
        assert!(u.add(b"007", 512), "not canonical: a string member");
        assert_eq!(u.encoding(), "hashtable");
        assert!(!u.contains(b"7"));
        assert!(t.add(b"9223372036854775807", 512));
        assert!(t.contains_member(Member::Int(i64::MAX)));
    }

    #[test]
    fn zero_max_entries_means_every_set_is_a_table() {
        let mut s = Set::for_first(b"1");
        assert!(s.add(b"1", 0));
        assert_eq!(s.encoding(), "hashtable");
    }

    #[test]
    fn scan_and_random_cover_the_table() {
        let mut s = Set::new();
        for i in 0..1000 {
            s.add(format!("m{i}").as_bytes(), 512);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        for _ in 0..10_000 {
            cursor = s.scan(cursor, 7, |m| {
                seen.insert(m.to_elem().to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        let mut rng = StdRng::seed_from_u64(5);
        let mut picked = HashSet::new();
        for _ in 0..20_000 {
            picked.insert(s.random(|| rng.gen()).unwrap());
        }
        assert!(
            picked.len() > 950,
            "random reached {} members",
            picked.len()
        );
    }

    /// Thousands of random operations against a HashSet model, with the invariants checked
    /// after every step, across both encodings and a small conversion threshold.
    #[test]
    fn model_every_step() {
        let mut rng = StdRng::seed_from_u64(11);
        for round in 0..6 {
            let max = [0usize, 1, 4, 16, 64, 512][round];
            let mut s = Set::new();
            let mut model: HashSet<Vec<u8>> = HashSet::new();
            let mut was_table = false;
            for step in 0..4000 {
                let m: Vec<u8> = match rng.gen_range(0..10) {
                    0 => format!("s{}", rng.gen_range(0..50)).into_bytes(),
                    1 => format!("0{}", rng.gen_range(0..10)).into_bytes(),
                    _ => rng.gen_range(-60i64..60).to_string().into_bytes(),
                };
                // Grow in the first half, drain in the second.
                let grow = step < 2000;
                let op = rng.gen_range(0..10);
                let add_below = if grow { 5 } else { 2 };
                if op < add_below {
                    assert_eq!(s.add(&m, max), model.insert(m.clone()));
                } else if op < 8 {
                    assert_eq!(s.remove(&m), model.remove(&m));
                } else if op == 8 {
                    assert_eq!(s.contains(&m), model.contains(&m));
                } else {
                    match s.pop_random(|| rng.gen()) {
                        Some(e) => assert!(model.remove(&e.to_vec())),
                        None => assert!(model.is_empty()),
                    }
                }
                assert_eq!(s.len(), model.len());
                if was_table {
                    assert_eq!(s.encoding(), "hashtable", "converted back at step {step}");
                }
                was_table = !s.is_intset();
                if s.is_intset() {
                    assert!(s.len() <= max);
                }
                s.check_invariants();
            }
            let mut all: HashSet<Vec<u8>> = HashSet::new();
            s.for_each(|m| {
                all.insert(m.to_elem().to_vec());
            });
            assert_eq!(all, model, "round {round}");
            assert_eq!(s.clone(), s);
        }
    }
}
