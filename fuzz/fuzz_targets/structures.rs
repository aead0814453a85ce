//! `structures`: the collection types driven by the fuzz input against std models, with
//! `check_invariants()` after every step and a full comparison after every step: the
//! quicklist `types::list::List` against a `VecDeque`, `types::hash::Hash` (listpack and table,
//! conversions included) against a `HashMap` plus insertion order, `types::set::Set` (intset
//! and table) against a `HashSet`, `types::zset::ZSet` (listpack and skiplist) against a
//! `BTreeMap` + `HashMap`, and `types::avl::AvlTree` against a `BTreeMap`. It mirrors the
//! model tests in tests/lists.rs, tests/hashes.rs, tests/sets.rs and tests/zsets.rs, with the
//! fuzzer choosing the operations, elements and encoding limits.
//!
//! Input layout: byte 0 chooses the structure (mod 5) and byte 1 its size limit; the rest is
//! read as operations, each an opcode byte followed by its operands.
//!
//! The models and the comparisons are those of the model tests: tests/models/mod.rs.
#![no_main]

#[path = "../../tests/models/mod.rs"]
mod models;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use libfuzzer_sys::fuzz_target;
use models::{
    hash_same, list_remove_matching, list_same, zset_add, zset_same, HashModel, OrderedScore,
    ZModel,
};
use ringkv::types::avl::AvlTree;
use ringkv::types::hash::{self, Hash};
use ringkv::types::list::List;
use ringkv::types::set::Set;
use ringkv::types::zset::{self, ZSet};

/// At most this many operations per input, so one input stays fast.
const STEPS_MAX: usize = 400;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u8_or0(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }
    fn index(&mut self, len: usize) -> usize {
        // Mostly in range, sometimes one past or far past the end.
        let b = usize::from(self.u8_or0());
        if b >= 250 {
            len + (b - 250) * 1000
        } else {
            b % (len + 1)
        }
    }
    /// An element: mostly from a small pool (so lookups hit), else raw bytes of the input,
    /// or a long run of one byte (past node and listpack value limits).
    fn elem(&mut self) -> Vec<u8> {
        let b = self.u8_or0();
        match b {
            0..=159 => format!("{}", b % 24).into_bytes(),
            160..=199 => format!("e{}", b % 16).into_bytes(),
            200..=239 => {
                let n = usize::from(b - 200).min(self.0.len());
                let (e, rest) = self.0.split_at(n);
                self.0 = rest;
                e.to_vec()
            }
            240..=249 => vec![b'x'; 60 + usize::from(self.u8_or0()) * 40],
            _ => vec![b'y'; 4000 + usize::from(self.u8_or0()) * 30],
        }
    }
    /// A score: small integers, quarters, infinities, or the bits of 8 input bytes (never NaN,
    /// and -0.0 is folded into 0.0 as the model cannot order it).
    fn score(&mut self) -> f64 {
        let b = self.u8_or0();
        let s = match b {
            0 => f64::INFINITY,
            1 => f64::NEG_INFINITY,
            2..=99 => f64::from(i32::from(b) - 50),
            100..=199 => f64::from(i32::from(b) - 150) / 4.0,
            _ => {
                let mut bits = [0u8; 8];
                for x in &mut bits {
                    *x = self.u8_or0();
                }
                f64::from_le_bytes(bits)
            }
        };
        if s.is_nan() || s == 0.0 {
            0.0
        } else {
            s
        }
    }
}

// ---- list -------------------------------------------------------------------------------

fn run_list(limit: u8, inp: &mut Input<'_>) {
    // list-max-listpack-size: -1..-5 (byte sizes) or 1..=128 entries.
    let fill = if limit % 2 == 0 {
        -(i32::from(limit / 2 % 5) + 1)
    } else {
        i32::from(limit / 2 % 128) + 1
    };
    let mut list = List::new(fill);
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    for step in 0..STEPS_MAX {
        let Some(op) = inp.byte() else { break };
        match op % 12 {
            0 | 1 => {
                let e = inp.elem();
                list.push_back(&e);
                model.push_back(e);
            }
            2 | 3 => {
                let e = inp.elem();
                list.push_front(&e);
                model.push_front(e);
            }
            4 => assert_eq!(list.pop_front(), model.pop_front(), "pop_front"),
            5 => assert_eq!(list.pop_back(), model.pop_back(), "pop_back"),
            6 => {
                let i = inp.index(model.len());
                assert_eq!(list.get(i).as_deref(), model.get(i).map(Vec::as_slice), "get {i}");
                let from: Vec<Vec<u8>> = list.iter_from(i).map(|e| e.into_owned()).collect();
                let want: Vec<Vec<u8>> = model.iter().skip(i).cloned().collect();
                assert_eq!(from, want, "iter_from({i})");
            }
            7 => {
                let i = inp.index(model.len());
                let e = inp.elem();
                let ok = list.set(i, &e);
                assert_eq!(ok, i < model.len(), "set {i}");
                if ok {
                    model[i] = e;
                }
            }
            8 => {
                let i = inp.index(model.len()).min(model.len());
                let e = inp.elem();
                list.insert(i, &e);
                model.insert(i, e);
            }
            9 => {
                let start = inp.index(model.len());
                let count = inp.index(model.len());
                let removed = list.remove_range(start, count);
                let want = count.min(model.len().saturating_sub(start));
                assert_eq!(removed, want, "remove_range({start}, {count})");
                let s = start.min(model.len());
                model.drain(s..s + want);
            }
            10 => {
                let value = inp.elem();
                let l = inp.u8_or0();
                let limit = if l < 64 {
                    None
                } else {
                    Some(usize::from(l % 4) + 1)
                };
                let from_tail = l % 2 == 1;
                let removed = list.remove_matching(&value, limit, from_tail);
                let want = list_remove_matching(&mut model, &value, limit, from_tail);
                assert_eq!(removed, want, "remove_matching");
            }
            _ => {
                let value = inp.elem();
                assert_eq!(
                    list.position(&value),
                    model.iter().position(|e| *e == value),
                    "position"
                );
            }
        }
        list_same(&list, &model, step);
    }
}

// ---- hash -------------------------------------------------------------------------------

fn run_hash(limit: u8, inp: &mut Input<'_>) {
    let lim = hash::Limits {
        entries_max: usize::from(limit % 32),
        value_len_max: usize::from(limit / 32) * 16 + 4,
    };
    let mut h = Hash::new();
    let mut m = HashModel::default();
    let mut was_table = false;
    for step in 0..STEPS_MAX {
        let Some(op) = inp.byte() else { break };
        let f = inp.elem();
        match op % 8 {
            0..=2 => {
                let v = inp.elem();
                assert_eq!(h.set(&f, &v, lim), m.set(&f, &v), "hash set");
                assert!(
                    !h.is_listpack()
                        || (h.len() <= lim.entries_max
                            && f.len() <= lim.value_len_max
                            && v.len() <= lim.value_len_max),
                    "listpack past its limits"
                );
            }
            3 | 4 => assert_eq!(h.remove(&f), m.remove(&f), "hash remove"),
            5 => {
                assert_eq!(
                    h.get(&f).map(<[u8]>::to_vec),
                    m.map.get(&f).cloned(),
                    "hash get"
                );
                assert_eq!(h.contains(&f), m.map.contains_key(&f), "hash contains");
            }
            6 => {
                let v = inp.elem();
                h.convert_for_args([f.as_slice(), v.as_slice()].into_iter(), lim);
                if !h.contains(&f) {
                    assert!(h.set(&f, &v, lim));
                    assert!(m.set(&f, &v));
                }
            }
            _ => {
                let mut seen = BTreeSet::new();
                let mut cursor = 0;
                let page = usize::from(inp.u8_or0() % 8) + 1;
                for _ in 0..100_000 {
                    cursor = h.scan(cursor, page, 40, |f, _| {
                        seen.insert(f.to_vec());
                    });
                    if cursor == 0 {
                        break;
                    }
                }
                assert_eq!(cursor, 0, "hash scan did not finish");
                let want: BTreeSet<Vec<u8>> = m.map.keys().cloned().collect();
                assert_eq!(seen, want, "hash scan");
            }
        }
        if !h.is_listpack() {
            was_table = true;
        } else {
            assert!(!was_table, "hash converted back to a listpack");
        }
        hash_same(&h, &m, step);
    }
}

// ---- set --------------------------------------------------------------------------------

fn run_set(limit: u8, inp: &mut Input<'_>) {
    let limit = usize::from(limit % 64);
    let mut s = Set::new();
    let mut model: HashSet<Vec<u8>> = HashSet::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for _ in 0..STEPS_MAX {
        let Some(op) = inp.byte() else { break };
        let m = inp.elem();
        match op % 6 {
            0..=2 => assert_eq!(s.add(&m, limit), model.insert(m.clone()), "set add"),
            3 => assert_eq!(s.remove(&m), model.remove(&m), "set remove"),
            4 => {
                assert_eq!(s.contains(&m), model.contains(&m), "set contains");
                if let Some(e) = s.pop_random(&mut next) {
                    assert!(model.remove(&e.to_vec()), "popped a non-member");
                }
            }
            _ => {
                let mut seen = HashSet::new();
                let mut cursor = 0;
                let count = usize::from(inp.u8_or0() % 16) + 1;
                for _ in 0..100_000 {
                    cursor = s.scan(cursor, count, |m| {
                        seen.insert(m.to_elem().to_vec());
                    });
                    if cursor == 0 {
                        break;
                    }
                }
                assert_eq!(cursor, 0, "set scan did not finish");
                assert_eq!(seen, model, "set scan");
            }
        }
        s.check_invariants();
        assert_eq!(s.len(), model.len(), "set len");
        if s.is_intset() {
            assert!(s.len() <= limit, "intset above the limit {limit}");
        }
        let mut all = HashSet::new();
        s.for_each(|m| {
            all.insert(m.to_elem().to_vec());
        });
        assert_eq!(all, model, "set contents");
    }
}

// ---- zset and AVL tree ------------------------------------------------------------------

fn run_zset(limit: u8, inp: &mut Input<'_>) {
    let limits = zset::Limits {
        entries_max: usize::from(limit % 32),
        value_max: usize::from(limit / 32) * 8 + 1,
    };
    let mut z = ZSet::new();
    let mut model: ZModel = BTreeMap::new();
    let mut scores: HashMap<Vec<u8>, f64> = HashMap::new();
    for step in 0..STEPS_MAX {
        let Some(op) = inp.byte() else { break };
        match op % 8 {
            0..=3 => {
                let m = inp.elem();
                let s = inp.score();
                zset_add(&mut z, &mut model, &mut scores, m, s, limits);
            }
            4 => {
                let m = inp.elem();
                let got = z.remove(&m);
                assert_eq!(got, scores.remove(&m), "zset remove");
                if let Some(s) = got {
                    model.remove(&(OrderedScore(s), m));
                }
            }
            5 => {
                let min = inp.u8_or0() % 2 == 0;
                let got = z.pop(min);
                let want = if min {
                    model.keys().next().cloned()
                } else {
                    model.keys().next_back().cloned()
                };
                assert_eq!(
                    got.as_ref().map(|(m, s)| (m.to_vec(), *s)),
                    want.as_ref().map(|(s, m)| (m.clone(), s.0)),
                    "zset pop"
                );
                if let Some(k) = want {
                    model.remove(&k);
                    scores.remove(&k.1);
                }
            }
            6 => {
                let len = z.len();
                let start = inp.index(len);
                let count = usize::from(inp.u8_or0() % 8);
                let doomed: Vec<_> = model.keys().skip(start).take(count).cloned().collect();
                assert_eq!(
                    z.remove_rank_range(start, count),
                    doomed.len(),
                    "zremrangebyrank"
                );
                for k in doomed {
                    scores.remove(&k.1);
                    model.remove(&k);
                }
            }
            _ => {
                let r = inp.index(model.len());
                let want = model.keys().nth(r).map(|(s, m)| (m.clone(), s.0));
                assert_eq!(
                    z.select(r).map(|(m, s)| (m.to_vec(), s)),
                    want,
                    "zset select {r}"
                );
                let rev: Vec<(Vec<u8>, f64)> = z
                    .iter_from(r.min(model.len().saturating_sub(1)), true)
                    .map(|(m, s)| (m.to_vec(), s))
                    .collect();
                let want: Vec<(Vec<u8>, f64)> = model
                    .keys()
                    .take(r.min(model.len().saturating_sub(1)) + 1)
                    .rev()
                    .map(|(s, m)| (m.clone(), s.0))
                    .collect();
                if !model.is_empty() {
                    assert_eq!(rev, want, "zset reverse iteration");
                }
            }
        }
        zset_same(&mut z, &model, limits.entries_max, 1, step);
    }
}

fn run_avl(inp: &mut Input<'_>) {
    let mut tree = AvlTree::new();
    let mut model: ZModel = BTreeMap::new();
    let mut scores: HashMap<Vec<u8>, f64> = HashMap::new();
    for _ in 0..STEPS_MAX {
        let Some(op) = inp.byte() else { break };
        let m = inp.elem();
        if op % 3 != 0 {
            let s = inp.score();
            if let Some(old) = scores.insert(m.clone(), s) {
                assert!(tree.remove(old, &m).is_some(), "avl remove of a member");
                model.remove(&(OrderedScore(old), m.clone()));
            }
            assert!(tree.insert(s, m.clone().into()), "avl insert");
            assert!(
                !tree.insert(s, m.clone().into()),
                "avl duplicate insert accepted"
            );
            model.insert((OrderedScore(s), m), ());
        } else if let Some(old) = scores.remove(&m) {
            assert_eq!(tree.remove(old, &m).as_deref(), Some(&m[..]), "avl remove");
            model.remove(&(OrderedScore(old), m.clone()));
            assert!(tree.remove(old, &m).is_none(), "avl removed twice");
        } else {
            assert!(
                tree.remove(inp.score(), &m).is_none(),
                "avl remove of a non-member"
            );
        }
        tree.check_invariants();
        assert_eq!(tree.len(), model.len(), "avl len");
        let flat: Vec<(f64, Vec<u8>)> = model.keys().map(|(s, m)| (s.0, m.clone())).collect();
        for (r, (s, m)) in flat.iter().enumerate() {
            assert_eq!(tree.select(r), Some((&m[..], *s)), "avl select {r}");
            assert_eq!(tree.rank(*s, m), Some(r), "avl rank");
        }
        assert!(tree.select(flat.len()).is_none(), "avl select past the end");
        let fwd: Vec<(Vec<u8>, f64)> = tree
            .iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        let want: Vec<(Vec<u8>, f64)> = flat.iter().map(|(s, m)| (m.clone(), *s)).collect();
        assert_eq!(fwd, want, "avl iteration");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let (Some(which), Some(limit)) = (inp.byte(), inp.byte()) else {
        return;
    };
    match which % 5 {
        0 => run_list(limit, &mut inp),
        1 => run_hash(limit, &mut inp),
        2 => run_set(limit, &mut inp),
        3 => run_zset(limit, &mut inp),
        _ => run_avl(&mut inp),
    }
});
