//! The sorted set value: members with f64 scores, ordered by (score, member).
//!
//! Two encodings, as in Redis 7.0 (OBJECT ENCODING names them):
//! - `listpack`: a `Vec` of (member, score) kept sorted, for small sets. Lookups by member are
//!   linear like Redis's listpack scans; every size is bounded by `zset-max-listpack-entries`.
//!   A zero score is stored as +0.0 (Redis's listpack stores "-0" as the integer 0).
//! - `skiplist`: our rank-augmented AVL tree ([`AvlTree`]) for order and rank, plus a
//!   [`Dict`] member → score (`Dict<f64>`) for O(1) lookups and a
//!   Redis-compatible ZSCAN cursor.
//!
//! A listpack converts to a skiplist when an insert would make it longer than
//! `entries_max` or the new member is longer than `value_max` bytes; it never converts back
//! in place. Results built from scratch (ZRANGESTORE, Z*STORE) pick their encoding by size in
//! [`ZSet::from_sorted`].
//!
//! Invariants (checked by [`ZSet::check_invariants`]): no NaN score; the listpack is strictly
//! increasing in (score, member); in a skiplist the tree and the dict hold the same members
//! with the same scores.

use std::cmp::Ordering;

use super::avl::{cmp_entry, AvlTree};
use crate::ds::dict::Dict;

/// The encoding thresholds (`zset-max-listpack-entries`, `zset-max-listpack-value`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub entries_max: usize,
    pub value_max: usize,
}

/// The skiplist encoding: ordered tree plus member map.
pub struct Big {
    tree: AvlTree,
    dict: Dict<f64>,
}

impl Big {
    fn new() -> Big {
        Big {
            tree: AvlTree::new(),
            dict: Dict::new(),
        }
    }
}

impl Clone for Big {
    fn clone(&self) -> Big {
        let mut dict = Dict::new();
        self.dict.for_each(|k, v| {
            dict.insert(k, *v);
        });
        Big {
            tree: self.tree.clone(),
            dict,
        }
    }
}

impl PartialEq for Big {
    fn eq(&self, other: &Big) -> bool {
        self.tree.len() == other.tree.len()
            && self
                .tree
                .iter_from(0, false)
                .zip(other.tree.iter_from(0, false))
                .all(|((ma, sa), (mb, sb))| ma == mb && sa.to_bits() == sb.to_bits())
    }
}

impl std::fmt::Debug for Big {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.tree
                    .iter_from(0, false)
                    .map(|(m, s)| (String::from_utf8_lossy(m), s)),
            )
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ZSet {
    Listpack(Vec<(Box<[u8]>, f64)>),
    Skiplist(Box<Big>),
}

impl Drop for ZSet {
    /// A large sorted set is freed on the lazy-free thread when dropped on the loop thread.
    fn drop(&mut self) {
        let len = self.len();
        crate::lazyfree::defer_if_large(len, || {
            std::mem::replace(self, ZSet::Listpack(Vec::new()))
        });
    }
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Listpack(Vec::new())
    }
}

/// Walks a sorted set from a rank, ascending or descending.
pub enum ZIter<'a> {
    Forward(std::slice::Iter<'a, (Box<[u8]>, f64)>),
    Backward(std::iter::Rev<std::slice::Iter<'a, (Box<[u8]>, f64)>>),
    Tree(super::avl::Iter<'a>),
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ZIter::Forward(it) => it.next().map(|(m, s)| (&m[..], *s)),
            ZIter::Backward(it) => it.next().map(|(m, s)| (&m[..], *s)),
            ZIter::Tree(it) => it.next(),
        }
    }
}

fn lp_position(lp: &[(Box<[u8]>, f64)], score: f64, member: &[u8]) -> Result<usize, usize> {
    lp.binary_search_by(|(m, s)| cmp_entry(*s, m, score, member))
}

/// Listpacks keep no negative zero (see the module doc).
fn lp_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

impl ZSet {
    /// MEMORY USAGE: the heap bytes of the set's contents (not of the box holding it), the
    /// members averaged over `samples` of them.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        use crate::alloc::block_bytes;
        match self {
            ZSet::Listpack(v) => {
                let array = block_bytes(v.capacity() * std::mem::size_of::<(Box<[u8]>, f64)>());
                let seen = v.len().min(samples);
                let sum: usize = v[..seen].iter().map(|(m, _)| block_bytes(m.len())).sum();
                let members = if seen == 0 || seen == v.len() {
                    sum
                } else {
                    (sum as f64 / seen as f64 * v.len() as f64) as usize
                };
                array + members
            }
            ZSet::Skiplist(b) => {
                block_bytes(std::mem::size_of::<Big>())
                    + b.tree.heap_bytes(samples)
                    + b.dict.heap_bytes_sampled(samples, |_| 0)
            }
        }
    }

    pub fn new() -> ZSet {
        ZSet::default()
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.len(),
            ZSet::Skiplist(b) => b.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    /// Builds a set from pairs sorted by (score, member) without duplicate members, choosing
    /// the encoding by size as Redis does for ZRANGESTORE and Z*STORE results.
    pub fn from_sorted(entries: Vec<(Box<[u8]>, f64)>, limits: Limits) -> ZSet {
        let small = entries.len() <= limits.entries_max
            && entries.iter().all(|(m, _)| m.len() <= limits.value_max);
        if small {
            let lp: Vec<_> = entries.into_iter().map(|(m, s)| (m, lp_score(s))).collect();
            // Normalising -0.0 keeps the order: -0.0 == 0.0 already compared equal.
            return ZSet::Listpack(lp);
        }
        let mut big = Big::new();
        for (m, s) in entries {
            big.dict.insert(&m, s);
            big.tree.insert(s, m);
        }
        ZSet::Skiplist(Box::new(big))
    }

    /// An empty set in the skiplist encoding (ZRANGESTORE when its size hint is too large for
    /// a listpack).
    pub fn new_skiplist() -> ZSet {
        ZSet::Skiplist(Box::new(Big::new()))
    }

    /// Switches a listpack to the skiplist encoding.
    pub fn convert_to_skiplist(&mut self) {
        if let ZSet::Listpack(lp) = self {
            let mut big = Big::new();
            for (m, s) in std::mem::take(lp) {
                big.dict.insert(&m, s);
                big.tree.insert(s, m);
            }
            *self = ZSet::Skiplist(Box::new(big));
        }
    }

    /// The member's score. Takes `&mut` because a dict lookup may move one rehash step.
    pub fn score(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => lp.iter().find(|(m, _)| &m[..] == member).map(|e| e.1),
            ZSet::Skiplist(b) => b.dict.get(member).copied(),
        }
    }

    /// Adds a member that is not in the set, converting to a skiplist first when the
    /// listpack would grow past `limits` (Redis's `zsetAdd` order of checks).
    pub fn insert_new(&mut self, member: &[u8], score: f64, limits: Limits) {
        debug_assert!(!score.is_nan());
        if let ZSet::Listpack(lp) = self {
            if lp.len() + 1 > limits.entries_max || member.len() > limits.value_max {
                self.convert_to_skiplist();
            }
        }
        match self {
            ZSet::Listpack(lp) => {
                let score = lp_score(score);
                let pos = lp_position(lp, score, member).unwrap_or_else(|p| p);
                lp.insert(pos, (member.into(), score));
            }
            ZSet::Skiplist(b) => {
                b.dict.insert(member, score);
                b.tree.insert_slice(score, member);
            }
        }
    }

    /// Moves an existing member from `old` to `new` score.
    pub fn update_score(&mut self, member: &[u8], old: f64, new: f64) {
        match self {
            ZSet::Listpack(lp) => {
                if let Ok(i) = lp_position(lp, old, member) {
                    let (m, _) = lp.remove(i);
                    let new = lp_score(new);
                    let pos = lp_position(lp, new, &m).unwrap_or_else(|p| p);
                    lp.insert(pos, (m, new));
                }
            }
            ZSet::Skiplist(b) => {
                if b.tree.delete(old, member) {
                    b.tree.insert_slice(new, member);
                    b.dict.insert(member, new);
                }
            }
        }
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(lp) => {
                let i = lp.iter().position(|(m, _)| &m[..] == member)?;
                Some(lp.remove(i).1)
            }
            ZSet::Skiplist(b) => {
                let score = b.dict.remove(member)?;
                b.tree.delete(score, member);
                b.dict.shrink_if_needed();
                Some(score)
            }
        }
    }

    /// 0-based rank of a member in ascending order.
    pub fn rank(&mut self, member: &[u8]) -> Option<usize> {
        match self {
            ZSet::Listpack(lp) => lp.iter().position(|(m, _)| &m[..] == member),
            ZSet::Skiplist(b) => {
                let score = *b.dict.get(member)?;
                b.tree.rank(score, member)
            }
        }
    }

    /// The pair at a 0-based ascending rank.
    pub fn select(&self, rank: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(lp) => lp.get(rank).map(|(m, s)| (&m[..], *s)),
            ZSet::Skiplist(b) => b.tree.select(rank),
        }
    }

    /// How many pairs satisfy `is_before`, a predicate true for a prefix of the order.
    pub fn count_before(&self, is_before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Listpack(lp) => lp.partition_point(|(m, s)| is_before(*s, m)),
            ZSet::Skiplist(b) => b.tree.count_before(is_before),
        }
    }

    /// Walks from `rank` ascending, or descending (rank, rank-1, ...) when `reverse`.
    pub fn iter_from(&self, rank: usize, reverse: bool) -> ZIter<'_> {
        match self {
            ZSet::Listpack(lp) => {
                if reverse {
                    let end = if rank < lp.len() { rank + 1 } else { 0 };
                    ZIter::Backward(lp[..end].iter().rev())
                } else {
                    ZIter::Forward(lp[rank.min(lp.len())..].iter())
                }
            }
            ZSet::Skiplist(b) => ZIter::Tree(b.tree.iter_from(rank, reverse)),
        }
    }

    /// Removes and returns the lowest (`min`) or highest pair.
    pub fn pop(&mut self, min: bool) -> Option<(Box<[u8]>, f64)> {
        match self {
            ZSet::Listpack(lp) => {
                if lp.is_empty() {
                    None
                } else if min {
                    Some(lp.remove(0))
                } else {
                    lp.pop()
                }
            }
            ZSet::Skiplist(b) => {
                let rank = if min { 0 } else { b.tree.len().checked_sub(1)? };
                let (m, s) = b.tree.select(rank).map(|(m, s)| (m.to_vec(), s))?;
                if !b.tree.delete(s, &m) {
                    return None;
                }
                b.dict.remove(&m);
                b.dict.shrink_if_needed();
                Some((m.into_boxed_slice(), s))
            }
        }
    }

    /// Removes the pairs at ranks `start..start+count` (ascending); returns how many.
    pub fn remove_rank_range(&mut self, start: usize, count: usize) -> usize {
        match self {
            ZSet::Listpack(lp) => {
                let end = start.saturating_add(count).min(lp.len());
                let start = start.min(end);
                lp.drain(start..end);
                end - start
            }
            ZSet::Skiplist(b) => {
                let doomed: Vec<(Vec<u8>, f64)> = b
                    .tree
                    .iter_from(start, false)
                    .take(count)
                    .map(|(m, s)| (m.to_vec(), s))
                    .collect();
                for (m, s) in &doomed {
                    b.tree.delete(*s, m);
                    b.dict.remove(m);
                }
                b.dict.shrink_if_needed();
                doomed.len()
            }
        }
    }

    /// One ZSCAN step. A listpack is returned whole with cursor 0, as Redis does; a skiplist
    /// walks its dict with Redis's reverse-binary cursor, visiting buckets until `count`
    /// pairs were emitted or `count * 10` buckets were visited.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Listpack(lp) => {
                for (m, s) in lp {
                    f(m, *s);
                }
                0
            }
            ZSet::Skiplist(b) => {
                let count = count.max(1);
                let mut steps_left = count.saturating_mul(10);
                let mut emitted = 0usize;
                let mut v = cursor;
                loop {
                    v = b.dict.scan(v, |k, val| {
                        f(k, *val);
                        emitted += 1;
                    });
                    steps_left -= 1;
                    if v == 0 || steps_left == 0 || emitted >= count {
                        return v;
                    }
                }
            }
        }
    }

    /// Panics with a message if an invariant in the module doc is broken. O(n log n).
    pub fn check_invariants(&mut self) {
        match self {
            ZSet::Listpack(lp) => {
                for w in lp.windows(2) {
                    assert_eq!(
                        cmp_entry(w[0].1, &w[0].0, w[1].1, &w[1].0),
                        Ordering::Less,
                        "ZSet listpack out of order"
                    );
                }
                assert!(lp.iter().all(|(_, s)| !s.is_nan()), "ZSet: NaN score");
            }
            ZSet::Skiplist(b) => {
                b.tree.check_invariants();
                b.dict.check_invariants();
                assert_eq!(b.tree.len(), b.dict.len(), "ZSet: tree and dict sizes");
                let pairs: Vec<(Vec<u8>, f64)> = b
                    .tree
                    .iter_from(0, false)
                    .map(|(m, s)| (m.to_vec(), s))
                    .collect();
                for (m, s) in pairs {
                    let got = b.dict.get(&m).copied();
                    assert_eq!(
                        got.map(f64::to_bits),
                        Some(s.to_bits()),
                        "ZSet: dict score of a tree member"
                    );
                }
            }
        }
    }
}
