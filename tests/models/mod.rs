//! Std models of the collection types, and the functions that compare a structure with its
//! model (after `check_invariants()`), shared by the model tests in tests/lists.rs,
//! tests/hashes.rs and tests/zsets.rs and by the `structures` fuzz target
//! (fuzz/fuzz_targets/structures.rs includes this file with `#[path]`). The fuzz crate has
//! neither `rand` nor the test helpers, so this file uses only std and ringkv.

// Each user takes only the parts for its own structures.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, VecDeque};

use ringkv::types::hash::Hash;
use ringkv::types::list::List;
use ringkv::types::zset::{self, ZSet};

// ---- list -------------------------------------------------------------------------------

/// Checks the quicklist's invariants, length and contents (both directions) against a
/// `VecDeque` model.
pub fn list_same(list: &List, model: &VecDeque<Vec<u8>>, step: usize) {
    list.check_invariants();
    assert_eq!(list.len(), model.len(), "step {step}: list len");
    assert!(
        list.iter().eq(model.iter().map(Vec::as_slice)),
        "step {step}: list contents differ"
    );
    assert!(
        list.iter().rev().eq(model.iter().rev().map(Vec::as_slice)),
        "step {step}: list reverse contents differ"
    );
}

/// LREM on the model: removes up to `limit` (all when `None`) elements equal to `value`,
/// from the head or, with `from_tail`, from the tail; returns how many it removed.
pub fn list_remove_matching(
    model: &mut VecDeque<Vec<u8>>,
    value: &[u8],
    limit: Option<usize>,
    from_tail: bool,
) -> usize {
    let mut left = limit.unwrap_or(usize::MAX);
    let mut idx: Vec<usize> = (0..model.len()).collect();
    if from_tail {
        idx.reverse();
    }
    let mut doomed = Vec::new();
    for i in idx {
        if left == 0 {
            break;
        }
        if model[i] == value {
            doomed.push(i);
            left -= 1;
        }
    }
    doomed.sort_unstable();
    for &i in doomed.iter().rev() {
        model.remove(i);
    }
    doomed.len()
}

// ---- hash -------------------------------------------------------------------------------

/// The hash model: a map for contents plus the insertion order a listpack must reproduce.
#[derive(Default)]
pub struct HashModel {
    pub map: HashMap<Vec<u8>, Vec<u8>>,
    pub order: Vec<Vec<u8>>,
}

impl HashModel {
    /// Sets `f` to `v`; true when `f` is new (as `Hash::set` answers).
    pub fn set(&mut self, f: &[u8], v: &[u8]) -> bool {
        let new = self.map.insert(f.to_vec(), v.to_vec()).is_none();
        if new {
            self.order.push(f.to_vec());
        }
        new
    }

    /// Removes `f`; true when it was there (as `Hash::remove` answers).
    pub fn remove(&mut self, f: &[u8]) -> bool {
        let found = self.map.remove(f).is_some();
        if found {
            self.order.retain(|x| x != f);
        }
        found
    }
}

/// Checks every observable of `h` against the model; a listpack must also iterate in
/// insertion order.
pub fn hash_same(h: &Hash, m: &HashModel, step: usize) {
    h.check_invariants();
    assert_eq!(h.len(), m.map.len(), "step {step}: hash len");
    assert_eq!(h.is_empty(), m.map.is_empty(), "step {step}: hash is_empty");
    let mut seen = Vec::new();
    h.for_each(|f, v| {
        assert_eq!(
            m.map.get(f).map(Vec::as_slice),
            Some(v),
            "step {step}: hash value of {f:?}"
        );
        seen.push(f.to_vec());
    });
    assert_eq!(seen.len(), m.map.len(), "step {step}: hash for_each count");
    if h.is_listpack() {
        assert_eq!(seen, m.order, "step {step}: listpack order");
    }
}

// ---- zset and AVL tree ------------------------------------------------------------------

/// An f64 with a total order, for BTreeMap keys (the model never holds NaN or -0.0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderedScore(pub f64);

impl Eq for OrderedScore {}

impl PartialOrd for OrderedScore {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedScore {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.partial_cmp(&other.0).expect("no NaN in the model")
    }
}

/// The sorted-set model: (score, member) pairs in ZSet order.
pub type ZModel = BTreeMap<(OrderedScore, Vec<u8>), ()>;

/// ZADD of member `m` with score `s` on both the ZSet and the model (`scores` is the model's
/// member -> score map, as the ZSet's dict holds it).
pub fn zset_add(
    z: &mut ZSet,
    model: &mut ZModel,
    scores: &mut HashMap<Vec<u8>, f64>,
    m: Vec<u8>,
    s: f64,
    limits: zset::Limits,
) {
    match z.score(&m) {
        Some(old) => {
            z.update_score(&m, old, s);
            model.remove(&(OrderedScore(old), m.clone()));
        }
        None => z.insert_new(&m, s, limits),
    }
    scores.insert(m.clone(), s);
    model.insert((OrderedScore(s), m), ());
}

/// Checks the ZSet's invariants, length and full contents in order against the model, the
/// rank of every `rank_every`-th member, and that a ZSet with more than `entries_max` members
/// is a skiplist.
pub fn zset_same(z: &mut ZSet, model: &ZModel, entries_max: usize, rank_every: usize, step: usize) {
    z.check_invariants();
    assert_eq!(z.len(), model.len(), "step {step}: zset len");
    let all: Vec<(Vec<u8>, f64)> = z
        .iter_from(0, false)
        .map(|(m, s)| (m.to_vec(), s))
        .collect();
    let want: Vec<(Vec<u8>, f64)> = model.keys().map(|(s, m)| (m.clone(), s.0)).collect();
    assert_eq!(all, want, "step {step}: zset contents");
    for (r, (m, _)) in want.iter().enumerate() {
        if r % rank_every == 0 {
            assert_eq!(z.rank(m), Some(r), "step {step}: zset rank");
        }
    }
    if z.len() > entries_max {
        assert_eq!(
            z.encoding(),
            "skiplist",
            "step {step}: zset over the entry limit"
        );
    }
}
