//! List tests: a model test of the quicklist `List` type against `VecDeque` (invariants
//! checked after every step), and integration tests of the list commands on a real ringkv
//! process. Expected answers were taken from redis-server 7.0.15.

mod common;
mod models;

use std::collections::VecDeque;

use common::{Raw, Reply, Server};
use models::{list_remove_matching, list_same};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ringkv::types::list::{End, List, Shape};

// ---------------------------------------------------------------------------------------------
// Model test

/// Random operations per fill in the model test.
const MODEL_STEPS: usize = 4_000;

fn random_elem(rng: &mut StdRng) -> Vec<u8> {
    // Mostly small values drawn from a small alphabet (so LREM/position find matches), some
    // medium and some larger than a 4 KiB node, so byte bounds and lone large nodes occur.
    let len = match rng.gen_range(0..100) {
        0..=79 => rng.gen_range(0..4),
        80..=95 => rng.gen_range(100..600),
        _ => rng.gen_range(3_000..9_000),
    };
    (0..len).map(|_| b"abc"[rng.gen_range(0..3)]).collect()
}

fn run_model(fill: i32, compress_depth: u32, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut list = List::with_shape(Shape {
        fill,
        compress_depth,
    });
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    for step in 0..MODEL_STEPS {
        // Grow for the first half, then lean towards shrinking so the list also empties.
        let grow = step < MODEL_STEPS / 2;
        match rng.gen_range(0..14) {
            0..=2 => {
                let e = random_elem(&mut rng);
                list.push_back(&e);
                model.push_back(e);
            }
            3..=4 => {
                let e = random_elem(&mut rng);
                list.push_front(&e);
                model.push_front(e);
            }
            5 => {
                if grow && rng.gen_bool(0.5) {
                    continue;
                }
                assert_eq!(list.pop_front(), model.pop_front(), "step {step}");
            }
            6 => {
                if grow && rng.gen_bool(0.5) {
                    continue;
                }
                assert_eq!(list.pop_back(), model.pop_back(), "step {step}");
            }
            7 => {
                let i = rng.gen_range(0..=model.len());
                assert_eq!(
                    list.get(i).as_deref(),
                    model.get(i).map(Vec::as_slice),
                    "step {step}"
                );
                let from: Vec<Vec<u8>> = list.iter_from(i).map(|e| e.into_owned()).collect();
                let want: Vec<Vec<u8>> = model.iter().skip(i).cloned().collect();
                assert_eq!(from, want, "step {step}: iter_from({i})");
            }
            8 => {
                let i = rng.gen_range(0..=model.len());
                let e = random_elem(&mut rng);
                let ok = list.set(i, &e);
                assert_eq!(ok, i < model.len(), "step {step}");
                if ok {
                    model[i] = e;
                }
            }
            9 => {
                let i = rng.gen_range(0..=model.len());
                let e = random_elem(&mut rng);
                list.insert(i, &e);
                model.insert(i, e);
            }
            10 => {
                let start = rng.gen_range(0..=model.len());
                let count = rng.gen_range(0..=(model.len() / 3).max(1));
                let removed = list.remove_range(start, count);
                let want = count.min(model.len().saturating_sub(start));
                assert_eq!(removed, want, "step {step}");
                model.drain(start.min(model.len())..start.min(model.len()) + want);
            }
            11 => {
                let value = random_elem(&mut rng);
                let limit = if rng.gen_bool(0.3) {
                    None
                } else {
                    Some(rng.gen_range(1..4))
                };
                let from_tail = rng.gen_bool(0.5);
                let removed = list.remove_matching(&value, limit, from_tail);
                let want = list_remove_matching(&mut model, &value, limit, from_tail);
                assert_eq!(removed, want, "step {step}");
            }
            12 => {
                let value = random_elem(&mut rng);
                assert_eq!(
                    list.position(&value),
                    model.iter().position(|e| *e == value),
                    "step {step}"
                );
            }
            _ => {
                let copy = list.clone();
                copy.check_invariants();
                assert_eq!(copy, list, "step {step}: clone");
                let end = if rng.gen_bool(0.5) {
                    End::Left
                } else {
                    End::Right
                };
                let resolved = list.resolve_index(-1);
                assert_eq!(resolved, model.len().checked_sub(1), "step {step}");
                if let Some(e) = list.pop(end) {
                    list.push(end, &e);
                }
            }
        }
        list_same(&list, &model, step);
    }
    // Drain to empty: no node may be left behind.
    for step in 0..model.len() {
        assert_eq!(list.pop_front(), model.pop_front(), "drain {step}");
    }
    assert!(list.is_empty());
    assert_eq!(list.node_count(), 0);
    list.check_invariants();
}

#[test]
fn model_against_vecdeque() {
    for (i, fill) in [-2, -1, -5, 0, 1, 2, 3, 7, 128, -100, 100_000]
        .into_iter()
        .enumerate()
    {
        run_model(fill, 0, 0xC0FFEE + i as u64);
    }
}

/// The same operations on lists with `list-compress-depth` 1, 2 and 3: interior nodes stay
/// compressed (or are known not to compress) after every step, and the contents follow the
/// model as without compression.
#[test]
fn model_against_vecdeque_compressed() {
    for (i, (fill, depth)) in [(-2, 1), (-1, 2), (3, 1), (1, 3), (7, 2), (0, 1)]
        .into_iter()
        .enumerate()
    {
        run_model(fill, depth, 0xDEC0DE + i as u64);
    }
}

#[test]
fn compression_keeps_the_ends_plain_and_shrinks_the_middle() {
    let shape = |compress_depth| Shape {
        fill: -2,
        compress_depth,
    };
    let elem =
        |i: usize| format!("element number {i:08} of a long and repetitive list").into_bytes();
    let usable = |n: usize| n;
    let mut plain = List::with_shape(shape(0));
    let mut packed = List::with_shape(shape(1));
    for i in 0..5_000 {
        plain.push_back(&elem(i));
        packed.push_back(&elem(i));
    }
    packed.check_invariants();
    assert_eq!(packed.compressed_nodes(), packed.node_count() - 2);
    assert!(
        packed.heap_bytes(usable) * 3 < plain.heap_bytes(usable),
        "{} vs {}",
        packed.heap_bytes(usable),
        plain.heap_bytes(usable)
    );
    // Reads in the middle see the same elements; writes there recompress the node.
    assert_eq!(packed.get(2_500).as_deref(), Some(&elem(2_500)[..]));
    assert!(packed.set(2_500, b"changed"));
    packed.insert(1_000, b"inserted");
    packed.check_invariants();
    assert_eq!(packed.compressed_nodes(), packed.node_count() - 2);
    assert_eq!(packed.get(2_501).as_deref(), Some(&b"changed"[..]));
    assert_eq!(packed.position(b"inserted"), Some(1_000));
    // Popping down to two nodes leaves nothing compressed.
    while packed.node_count() > 2 {
        let nodes = packed.node_count();
        while packed.node_count() == nodes {
            packed.pop_front();
        }
        packed.check_invariants();
    }
    assert_eq!(packed.compressed_nodes(), 0);
}

#[test]
fn nodes_follow_fill() {
    // fill 4: exactly ceil(n / 4) nodes after pushes at one end.
    let mut l = List::new(4);
    for i in 0..10u8 {
        l.push_back(&[i]);
    }
    assert_eq!(l.node_count(), 3);
    // fill -1 (4 KiB): 100-byte elements pack ~39 per node.
    let mut l = List::new(-1);
    for _ in 0..100 {
        l.push_front(&[b'x'; 100]);
    }
    assert!((3..=4).contains(&l.node_count()), "{}", l.node_count());
    // An element larger than the bound gets its own node.
    l.push_back(&[b'y'; 10_000]);
    l.push_back(b"z");
    l.check_invariants();
    assert_eq!(l.get(101).as_deref(), Some(&b"z"[..]));
}

// ---------------------------------------------------------------------------------------------
// Integration tests

fn c(r: &mut Raw, words: &str) -> Reply {
    let args: Vec<&str> = words.split(' ').collect();
    r.cmd_str(&args)
}

fn bulks(items: &[&str]) -> Reply {
    Reply::Array(Some(
        items.iter().map(|s| Reply::bulk(s.as_bytes())).collect(),
    ))
}

fn ints(items: &[i64]) -> Reply {
    Reply::Array(Some(items.iter().map(|&i| Reply::Int(i)).collect()))
}

fn err(text: &str) -> Reply {
    Reply::Error(text.to_string())
}

#[test]
fn push_pop_range() {
    let s = Server::start(&[]);
    let r = &mut s.raw();
    assert_eq!(c(r, "RPUSH l a b c"), Reply::Int(3));
    assert_eq!(c(r, "LPUSH l x y"), Reply::Int(5));
    assert_eq!(c(r, "LRANGE l 0 -1"), bulks(&["y", "x", "a", "b", "c"]));
    assert_eq!(c(r, "LRANGE l -2 100"), bulks(&["b", "c"]));
    assert_eq!(c(r, "LRANGE l 3 1"), bulks(&[]));
    assert_eq!(c(r, "LLEN l"), Reply::Int(5));
    assert_eq!(c(r, "LINDEX l -1"), Reply::bulk(b"c"));
    assert_eq!(c(r, "LINDEX l 5"), Reply::Bulk(None));
    assert_eq!(c(r, "LPOP l"), Reply::bulk(b"y"));
    assert_eq!(c(r, "RPOP l 2"), bulks(&["c", "b"]));
    assert_eq!(c(r, "LPOP l 0"), bulks(&[]));
    assert_eq!(c(r, "LPOP l 10"), bulks(&["x", "a"]));
    assert_eq!(c(r, "EXISTS l"), Reply::Int(0));
    assert_eq!(c(r, "LPOP l"), Reply::Bulk(None));
    assert_eq!(c(r, "LPOP l 0"), Reply::Array(None));
    assert_eq!(c(r, "LPUSHX l a"), Reply::Int(0));
    assert_eq!(c(r, "EXISTS l"), Reply::Int(0));
    assert_eq!(c(r, "RPUSH l a"), Reply::Int(1));
    assert_eq!(c(r, "RPUSHX l b c"), Reply::Int(3));
    assert_eq!(c(r, "OBJECT ENCODING l"), Reply::bulk(b"quicklist"));
    assert_eq!(c(r, "TYPE l"), Reply::Status("list".into()));
    assert_eq!(
        c(r, "LPOP l -1"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        c(r, "LPOP l 1 2"),
        err("ERR wrong number of arguments for 'lpop' command")
    );
}

#[test]
fn resp3_nulls() {
    let s = Server::start(&[]);
    let r = &mut s.raw();
    assert!(matches!(c(r, "HELLO 3"), Reply::Map(_)));
    assert_eq!(c(r, "LPOP nokey"), Reply::Null);
    assert_eq!(c(r, "LPOP nokey 1"), Reply::Null);
    assert_eq!(c(r, "LMPOP 1 nokey LEFT"), Reply::Null);
    assert_eq!(c(r, "LPOS nokey a"), Reply::Null);
    assert_eq!(c(r, "LPOS nokey a COUNT 1"), ints(&[]));
    assert_eq!(c(r, "RPUSH l a"), Reply::Int(1));
    assert_eq!(c(r, "LPOP l 0"), bulks(&[]));
    assert_eq!(c(r, "LINDEX l 9"), Reply::Null);
}

#[test]
fn insert_set_rem_trim() {
    let s = Server::start(&[]);
    let r = &mut s.raw();
    c(r, "RPUSH l a b c a b c a");
    assert_eq!(c(r, "LINSERT l AFTER c X"), Reply::Int(8));
    assert_eq!(c(r, "LINSERT l before a Y"), Reply::Int(9));
    assert_eq!(c(r, "LINSERT l BEFORE zz x"), Reply::Int(-1));
    assert_eq!(c(r, "LINSERT nokey BEFORE a x"), Reply::Int(0));
    assert_eq!(c(r, "LINSERT l MIDDLE a x"), err("ERR syntax error"));
    assert_eq!(
        c(r, "LRANGE l 0 -1"),
        bulks(&["Y", "a", "b", "c", "X", "a", "b", "c", "a"])
    );
    assert_eq!(c(r, "LSET l 0 Z"), Reply::ok());
    assert_eq!(c(r, "LSET l -1 W"), Reply::ok());
    assert_eq!(c(r, "LSET l 100 x"), err("ERR index out of range"));
    assert_eq!(c(r, "LSET nokey 0 x"), err("ERR no such key"));
    assert_eq!(c(r, "LSET nokey x x"), err("ERR no such key"));
    assert_eq!(
        c(r, "LSET l x x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c(r, "LREM l -1 b"), Reply::Int(1));
    assert_eq!(c(r, "LREM l 0 c"), Reply::Int(2));
    assert_eq!(
        c(r, "LRANGE l 0 -1"),
        bulks(&["Z", "a", "b", "X", "a", "W"])
    );
    assert_eq!(c(r, "LTRIM l 1 -2"), Reply::ok());
    assert_eq!(c(r, "LRANGE l 0 -1"), bulks(&["a", "b", "X", "a"]));
    assert_eq!(c(r, "LTRIM l 5 1"), Reply::ok());
    assert_eq!(c(r, "EXISTS l"), Reply::Int(0));
    assert_eq!(c(r, "LTRIM nokey 0 1"), Reply::ok());
    assert_eq!(
        c(r, "LTRIM nokey x 1"),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn lpos_options() {
    let s = Server::start(&[]);
    let r = &mut s.raw();
    c(r, "RPUSH l a b c a b c a");
    assert_eq!(c(r, "LPOS l a"), Reply::Int(0));
    assert_eq!(c(r, "LPOS l a RANK 2"), Reply::Int(3));
    assert_eq!(c(r, "LPOS l a RANK -1"), Reply::Int(6));
    assert_eq!(c(r, "LPOS l a COUNT 0"), ints(&[0, 3, 6]));
    assert_eq!(c(r, "LPOS l a RANK -2 COUNT 0"), ints(&[3, 0]));
    assert_eq!(c(r, "LPOS l a RANK 2 COUNT 2 MAXLEN 4"), ints(&[3]));
    assert_eq!(c(r, "LPOS l a RANK 9223372036854775807"), Reply::Bulk(None));
    // Redis 7.0 accepts LONG_MIN; C's negation leaves it negative, so every match counts.
    assert_eq!(
        c(r, "LPOS l a RANK -9223372036854775808 COUNT 1"),
        ints(&[6, 3, 0])
    );
    assert_eq!(
        c(r, "LPOS l a RANK 0"),
        err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
    );
    assert_eq!(
        c(r, "LPOS l a COUNT -1"),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        c(r, "LPOS l a MAXLEN x"),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(c(r, "LPOS l a RANK"), err("ERR syntax error"));
    assert_eq!(c(r, "LPOS nokey a COUNT 2"), ints(&[]));
}

#[test]
fn move_and_mpop() {
    let s = Server::start(&[]);
    let r = &mut s.raw();
    c(r, "RPUSH src a b c");
    c(r, "SET str x");
    assert_eq!(c(r, "LMOVE src dst LEFT RIGHT"), Reply::bulk(b"a"));
    assert_eq!(c(r, "RPOPLPUSH src dst"), Reply::bulk(b"c"));
    assert_eq!(c(r, "LRANGE dst 0 -1"), bulks(&["c", "a"]));
    assert_eq!(
        c(r, "LMOVE src str LEFT LEFT"),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(c(r, "LLEN src"), Reply::Int(1));
    assert_eq!(c(r, "LMOVE src dst up LEFT"), err("ERR syntax error"));
    assert_eq!(c(r, "LMOVE nokey dst LEFT LEFT"), Reply::Bulk(None));
    // Rotating a one-element list onto itself keeps the key and its TTL.
    assert_eq!(c(r, "EXPIRE src 100"), Reply::Int(1));
    assert_eq!(c(r, "LMOVE src src LEFT RIGHT"), Reply::bulk(b"b"));
    assert_eq!(c(r, "TTL src"), Reply::Int(100));
    assert_eq!(c(r, "LMOVE src dst LEFT LEFT"), Reply::bulk(b"b"));
    assert_eq!(c(r, "EXISTS src"), Reply::Int(0));
    assert_eq!(
        c(r, "LMPOP 2 nokey dst RIGHT COUNT 2"),
        Reply::Array(Some(vec![Reply::bulk(b"dst"), bulks(&["a", "c"])]))
    );
    assert_eq!(
        c(r, "LMPOP 1 dst LEFT"),
        Reply::Array(Some(vec![Reply::bulk(b"dst"), bulks(&["b"])]))
    );
    assert_eq!(c(r, "LMPOP 1 dst LEFT"), Reply::Array(None));
    assert_eq!(
        c(r, "LMPOP 0 dst LEFT"),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(c(r, "LMPOP 3 a b LEFT"), err("ERR syntax error"));
    assert_eq!(
        c(r, "LMPOP 1 a LEFT COUNT 0"),
        err("ERR count should be greater than 0")
    );
    assert_eq!(
        c(r, "LMPOP 1 a LEFT COUNT 1 COUNT 1"),
        err("ERR syntax error")
    );
    assert_eq!(
        c(r, "LMPOP 9223372036854775807 a LEFT"),
        err("ERR syntax error")
    );
    assert_eq!(
        c(r, "LMPOP 2 str a LEFT"),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn wrongtype_and_hits() {
    let s = Server::start(&[]);
    let r = &mut s.raw();
    c(r, "SET str x");
    let wrong = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        "LPUSH str a",
        "RPUSHX str a",
        "LPOP str",
        "RPOP str 0",
        "LLEN str",
        "LRANGE str 0 1",
        "LINDEX str x",
        "LSET str x x",
        "LINSERT str BEFORE a b",
        "LREM str 0 a",
        "LTRIM str 0 1",
        "LPOS str a",
        "RPOPLPUSH str x",
    ] {
        assert_eq!(c(r, cmd), wrong, "{cmd}");
    }
    assert_eq!(c(r, "GET str"), Reply::bulk(b"x"));
    c(r, "RPUSH l a");
    assert_eq!(c(r, "GET l"), wrong);
    // Reads count hits and misses; writes do not.
    c(r, "CONFIG RESETSTAT");
    c(r, "LLEN l");
    c(r, "LRANGE nokey 0 1");
    c(r, "LPOS l a");
    c(r, "LINDEX nokey 0");
    c(r, "LPUSH l b");
    c(r, "LPOP nokey");
    let Reply::Bulk(Some(info)) = c(r, "INFO stats") else {
        panic!("INFO")
    };
    let info = String::from_utf8(info).unwrap();
    assert!(info.contains("keyspace_hits:2\r\n"), "{info}");
    assert!(info.contains("keyspace_misses:2\r\n"), "{info}");
}

#[test]
fn large_lists_cross_nodes() {
    let s = Server::start(&[]);
    let r = &mut s.raw();
    assert_eq!(c(r, "CONFIG SET list-max-listpack-size 3"), Reply::ok());
    let mut words = vec!["RPUSH".to_string(), "l".to_string()];
    words.extend((0..100).map(|i| i.to_string()));
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    assert_eq!(r.cmd_str(&args), Reply::Int(100));
    assert_eq!(c(r, "LINDEX l 50"), Reply::bulk(b"50"));
    assert_eq!(c(r, "LINSERT l BEFORE 50 x"), Reply::Int(101));
    assert_eq!(c(r, "LRANGE l 49 51"), bulks(&["49", "x", "50"]));
    assert_eq!(c(r, "LTRIM l 10 -10"), Reply::ok());
    assert_eq!(c(r, "LLEN l"), Reply::Int(82));
    assert_eq!(c(r, "LRANGE l 0 1"), bulks(&["10", "11"]));
    assert_eq!(c(r, "RPOP l"), Reply::bulk(b"90"));
    assert_eq!(c(r, "COPY l l2"), Reply::Int(1));
    assert_eq!(c(r, "LRANGE l2 -1 -1"), bulks(&["89"]));
    assert_eq!(c(r, "DEL l l2"), Reply::Int(2));
}
