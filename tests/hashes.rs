//! Hash tests: model tests of the `Hash` type against std maps (with `check_invariants()`
//! after every step), and integration tests of the hash commands against a real ringkv
//! process over raw RESP2 and RESP3. Expected answers were taken from redis-server 7.0.15.

mod common;
mod models;

use std::collections::BTreeSet;

use common::{Raw, Reply, Server};
use models::{hash_same, HashModel};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ringkv::types::hash::{Hash, Limits};

// ---------------------------------------------------------------------------------------------
// Model tests of the data structure.

fn field(rng: &mut StdRng, space: usize) -> Vec<u8> {
    match rng.gen_range(0..10) {
        0 => Vec::new(),
        1 => vec![0, 0xff, b'\r', b'\n'],
        _ => format!("f{}", rng.gen_range(0..space)).into_bytes(),
    }
}

fn value(rng: &mut StdRng, long_len: usize) -> Vec<u8> {
    match rng.gen_range(0..20) {
        0 => vec![b'v'; long_len],
        1 => Vec::new(),
        2 => rng.gen_range(-1000i64..1000).to_string().into_bytes(),
        _ => format!("v{}", rng.gen_range(0..1_000_000)).into_bytes(),
    }
}

/// Thousands of random operations per limit setting, each followed by a full comparison and
/// `check_invariants()`. Limits range from "always a table" to "never converts", and the
/// hashes grow past the thresholds and drain to empty repeatedly.
#[test]
fn model_random_operations() {
    let settings = [
        (0usize, 64usize),
        (4, 8),
        (16, 64),
        (128, 16),
        (512, 64),
        (100_000, 100_000),
    ];
    for (round, &(entries_max, value_len_max)) in settings.iter().enumerate() {
        let lim = Limits {
            entries_max,
            value_len_max,
        };
        let mut rng = StdRng::seed_from_u64(0x4841_5348 + round as u64);
        let mut h = Hash::new();
        let mut m = HashModel::default();
        let mut was_table = false;
        let mut converted = false;
        for step in 0..4000 {
            // Alternate phases so the hash grows big and drains to empty.
            let growing = (step / 1000) % 2 == 0;
            let space = 40 + entries_max.min(300);
            let op = rng.gen_range(0..100);
            let f = field(&mut rng, space);
            match op {
                0..=44 if growing => {
                    let v = value(&mut rng, value_len_max + 1);
                    // Now and then with a lowered entry limit, as after CONFIG SET.
                    let lim = if rng.gen_bool(0.02) {
                        Limits {
                            entries_max: entries_max / 2,
                            ..lim
                        }
                    } else {
                        lim
                    };
                    assert_eq!(h.set(&f, &v, lim), m.set(&f, &v), "step {step}: set");
                    // Every write leaves a listpack within the limits it was given.
                    assert!(
                        !h.is_listpack()
                            || (h.len() <= lim.entries_max
                                && f.len() <= lim.value_len_max
                                && v.len() <= lim.value_len_max),
                        "step {step}: listpack past its limits"
                    );
                }
                0..=9 => {
                    let v = value(&mut rng, value_len_max + 1);
                    // Now and then with a lowered entry limit, as after CONFIG SET.
                    let lim = if rng.gen_bool(0.02) {
                        Limits {
                            entries_max: entries_max / 2,
                            ..lim
                        }
                    } else {
                        lim
                    };
                    assert_eq!(h.set(&f, &v, lim), m.set(&f, &v), "step {step}: set");
                    // Every write leaves a listpack within the limits it was given.
                    assert!(
                        !h.is_listpack()
                            || (h.len() <= lim.entries_max
                                && f.len() <= lim.value_len_max
                                && v.len() <= lim.value_len_max),
                        "step {step}: listpack past its limits"
                    );
                }
                10..=59 => {
                    // Deletes prefer existing fields so the drain phase empties the hash.
                    let f = match m.order.first() {
                        Some(x) if rng.gen_bool(0.7) => x.clone(),
                        _ => f,
                    };
                    assert_eq!(h.remove(&f), m.remove(&f), "step {step}: remove");
                }
                60..=79 => {
                    assert_eq!(
                        h.get(&f).map(<[u8]>::to_vec),
                        m.map.get(&f).cloned(),
                        "step {step}: get"
                    );
                    assert_eq!(h.contains(&f), m.map.contains_key(&f));
                }
                80..=84 => {
                    // A conversion check on arguments (HSET-style), then HSETNX.
                    let v = value(&mut rng, value_len_max + 1);
                    h.convert_for_args([f.as_slice(), v.as_slice()].into_iter(), lim);
                    if !h.contains(&f) {
                        assert!(h.set(&f, &v, lim));
                        assert!(m.set(&f, &v));
                    }
                }
                85..=89 => {
                    let count = rng.gen_range(1..=m.map.len().max(1) + 2);
                    let mut got = BTreeSet::new();
                    let len = h.len();
                    h.random_pairs_unique(
                        count,
                        || rng.gen(),
                        |f, v| {
                            assert_eq!(m.map.get(f).map(Vec::as_slice), Some(v));
                            assert!(got.insert(f.to_vec()), "step {step}: repeated field");
                        },
                    );
                    assert_eq!(got.len(), count.min(len), "step {step}: unique count");
                }
                90..=94 => {
                    let count = rng.gen_range(0..20);
                    let mut n = 0;
                    h.random_pairs_with_repeats(
                        count,
                        || rng.gen(),
                        |f, v| {
                            assert_eq!(m.map.get(f).map(Vec::as_slice), Some(v));
                            n += 1;
                            true
                        },
                    );
                    assert_eq!(n, if m.map.is_empty() { 0 } else { count });
                    let one = h.random_pair(|| rng.gen()).map(|(f, _)| f.to_vec());
                    assert_eq!(one.is_some(), !m.map.is_empty());
                    if let Some(f) = one {
                        assert!(m.map.contains_key(&f));
                    }
                }
                _ => {
                    // A full scan from cursor 0 with a small page size sees every field.
                    let mut seen = BTreeSet::new();
                    let mut cursor = 0;
                    for _ in 0..100_000 {
                        cursor = h.scan(cursor, 4, 40, |f, _| {
                            seen.insert(f.to_vec());
                        });
                        if cursor == 0 {
                            break;
                        }
                    }
                    assert_eq!(cursor, 0, "step {step}: scan did not finish");
                    let want: BTreeSet<Vec<u8>> = m.map.keys().cloned().collect();
                    assert_eq!(seen, want, "step {step}: scan");
                }
            }
            if !h.is_listpack() {
                was_table = true;
            } else {
                assert!(!was_table, "step {step}: converted back to a listpack");
            }
            converted |= was_table;
            hash_same(&h, &m, step);
            if m.map.is_empty() && !growing && rng.gen_bool(0.05) {
                // Like the keyspace deleting an empty hash and a new one starting as listpack.
                h = Hash::new();
                was_table = false;
            }
            assert_eq!(h.clone(), h, "step {step}: clone equals");
        }
        if entries_max < 300 {
            assert!(converted, "round {round}: never converted to a hashtable");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Integration tests.

fn cmd(c: &mut Raw, s: &str) -> Reply {
    let words: Vec<&str> = s.split(' ').collect();
    c.cmd_str(&words)
}

fn b(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(Some(items))
}

fn bulks(items: &[&str]) -> Reply {
    arr(items.iter().map(|s| b(s)).collect())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.to_string())
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn basic_commands_resp2() {
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert_eq!(cmd(c, "HSET h a 1 b 2 c 3"), Reply::Int(3));
    assert_eq!(cmd(c, "HSET h a 10 d 4"), Reply::Int(1));
    assert_eq!(cmd(c, "HMSET h e 5"), Reply::ok());
    assert_eq!(cmd(c, "HGET h a"), b("10"));
    assert_eq!(cmd(c, "HGET h zz"), Reply::Bulk(None));
    assert_eq!(cmd(c, "HGET nokey a"), Reply::Bulk(None));
    assert_eq!(
        cmd(c, "HMGET h a zz e"),
        arr(vec![b("10"), Reply::Bulk(None), b("5")])
    );
    assert_eq!(
        cmd(c, "HMGET nokey a b"),
        arr(vec![Reply::Bulk(None), Reply::Bulk(None)])
    );
    assert_eq!(cmd(c, "HLEN h"), Reply::Int(5));
    assert_eq!(cmd(c, "HLEN nokey"), Reply::Int(0));
    assert_eq!(cmd(c, "HSTRLEN h a"), Reply::Int(2));
    assert_eq!(cmd(c, "HSTRLEN h zz"), Reply::Int(0));
    assert_eq!(cmd(c, "HEXISTS h a"), Reply::Int(1));
    assert_eq!(cmd(c, "HEXISTS h zz"), Reply::Int(0));
    // Listpack order is insertion order, updates in place.
    assert_eq!(cmd(c, "HKEYS h"), bulks(&["a", "b", "c", "d", "e"]));
    assert_eq!(cmd(c, "HVALS h"), bulks(&["10", "2", "3", "4", "5"]));
    assert_eq!(
        cmd(c, "HGETALL h"),
        bulks(&["a", "10", "b", "2", "c", "3", "d", "4", "e", "5"])
    );
    assert_eq!(cmd(c, "HKEYS nokey"), arr(vec![]));
    assert_eq!(cmd(c, "HGETALL nokey"), arr(vec![]));
    assert_eq!(cmd(c, "HSETNX h a 99"), Reply::Int(0));
    assert_eq!(cmd(c, "HSETNX h f 6"), Reply::Int(1));
    assert_eq!(cmd(c, "HSETNX new f 6"), Reply::Int(1));
    assert_eq!(cmd(c, "HDEL h a zz b"), Reply::Int(2));
    assert_eq!(cmd(c, "HDEL nokey a"), Reply::Int(0));
    assert_eq!(cmd(c, "HDEL h c d e f"), Reply::Int(4));
    assert_eq!(
        cmd(c, "EXISTS h"),
        Reply::Int(0),
        "the last HDEL deletes the key"
    );
    assert_eq!(cmd(c, "TYPE new"), Reply::Status("hash".into()));
    // Errors.
    assert_eq!(
        cmd(c, "HSET h a"),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        cmd(c, "HSET h a 1 b"),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        cmd(c, "HMSET h a 1 b"),
        err("ERR wrong number of arguments for 'hmset' command")
    );
    assert_eq!(
        cmd(c, "HGET h"),
        err("ERR wrong number of arguments for 'hget' command")
    );
    assert_eq!(cmd(c, "SET s x"), Reply::ok());
    for w in [
        "HSET s a 1",
        "HSETNX s a 1",
        "HGET s a",
        "HMGET s a",
        "HDEL s a",
        "HLEN s",
        "HSTRLEN s a",
        "HEXISTS s a",
        "HKEYS s",
        "HVALS s",
        "HGETALL s",
        "HINCRBY s a 1",
        "HINCRBYFLOAT s a 1",
        "HRANDFIELD s",
        "HRANDFIELD s 2",
        "HSCAN s 0",
    ] {
        assert_eq!(cmd(c, w), err(WRONGTYPE), "{w}");
    }
    assert_eq!(cmd(c, "EXISTS nokey"), Reply::Int(0));
}

#[test]
fn resp3_reply_types() {
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert!(matches!(cmd(c, "HELLO 3"), Reply::Map(_)));
    assert_eq!(cmd(c, "HSET h a 1 b 2"), Reply::Int(2));
    assert_eq!(
        cmd(c, "HGETALL h"),
        Reply::Map(vec![(b("a"), b("1")), (b("b"), b("2"))])
    );
    assert_eq!(cmd(c, "HGETALL nokey"), Reply::Map(vec![]));
    assert_eq!(cmd(c, "HKEYS h"), bulks(&["a", "b"]));
    assert_eq!(cmd(c, "HGET h zz"), Reply::Null);
    assert_eq!(cmd(c, "HRANDFIELD nokey"), Reply::Null);
    assert_eq!(cmd(c, "HMGET h a zz"), arr(vec![b("1"), Reply::Null]));
    assert_eq!(
        cmd(c, "HRANDFIELD h 5 WITHVALUES"),
        arr(vec![bulks(&["a", "1"]), bulks(&["b", "2"])])
    );
    match cmd(c, "HRANDFIELD h -3 WITHVALUES") {
        Reply::Array(Some(items)) => {
            assert_eq!(items.len(), 3);
            for it in items {
                assert!(
                    it == bulks(&["a", "1"]) || it == bulks(&["b", "2"]),
                    "{it:?}"
                );
            }
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cmd(c, "HSCAN h 0"),
        arr(vec![b("0"), bulks(&["a", "1", "b", "2"])])
    );
    assert_eq!(cmd(c, "HSCAN nokey 0"), arr(vec![b("0"), arr(vec![])]));
    assert_eq!(cmd(c, "HINCRBYFLOAT h a 0.5"), b("1.5"));
}

#[test]
fn encodings_convert_and_never_back() {
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert_eq!(
        cmd(c, "CONFIG SET hash-max-listpack-entries 4"),
        Reply::ok()
    );
    assert_eq!(cmd(c, "CONFIG SET hash-max-listpack-value 8"), Reply::ok());
    assert_eq!(cmd(c, "HSET h a 1 b 2 c 3 d 4"), Reply::Int(4));
    assert_eq!(cmd(c, "OBJECT ENCODING h"), b("listpack"));
    assert_eq!(cmd(c, "HSET h e 5"), Reply::Int(1));
    assert_eq!(cmd(c, "OBJECT ENCODING h"), b("hashtable"));
    assert_eq!(cmd(c, "HDEL h a b c d"), Reply::Int(4));
    assert_eq!(cmd(c, "OBJECT ENCODING h"), b("hashtable"));
    // A long value converts.
    assert_eq!(cmd(c, "HSET v f 123456789"), Reply::Int(1));
    assert_eq!(cmd(c, "OBJECT ENCODING v"), b("hashtable"));
    // HSETNX on an existing field writes nothing and converts nothing (7.0.15).
    assert_eq!(cmd(c, "HSET n f 1"), Reply::Int(1));
    assert_eq!(cmd(c, "HSETNX n f 123456789"), Reply::Int(0));
    assert_eq!(cmd(c, "OBJECT ENCODING n"), b("listpack"));
    assert_eq!(cmd(c, "HSETNX n g 123456789"), Reply::Int(1));
    assert_eq!(cmd(c, "OBJECT ENCODING n"), b("hashtable"));
    assert_eq!(cmd(c, "HGET n f"), b("1"));
    // HINCRBY checks its own field and result length.
    assert_eq!(cmd(c, "HINCRBY i longfieldname 1"), Reply::Int(1));
    assert_eq!(cmd(c, "OBJECT ENCODING i"), b("hashtable"));
    assert_eq!(cmd(c, "HINCRBY j f 123456789"), Reply::Int(123456789));
    assert_eq!(cmd(c, "OBJECT ENCODING j"), b("hashtable"));
    assert_eq!(cmd(c, "HINCRBY k f 1234"), Reply::Int(1234));
    assert_eq!(cmd(c, "OBJECT ENCODING k"), b("listpack"));
    // COPY keeps the encoding and the contents.
    assert_eq!(cmd(c, "COPY h h2"), Reply::Int(1));
    assert_eq!(cmd(c, "OBJECT ENCODING h2"), b("hashtable"));
    assert_eq!(cmd(c, "HGETALL h2"), bulks(&["e", "5"]));
    // hash-max-listpack-entries 0: every hash is a table from its first field.
    assert_eq!(
        cmd(c, "CONFIG SET hash-max-listpack-entries 0"),
        Reply::ok()
    );
    assert_eq!(cmd(c, "HSET z a 1"), Reply::Int(1));
    assert_eq!(cmd(c, "OBJECT ENCODING z"), b("hashtable"));
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert_eq!(cmd(c, "HINCRBY h a 5"), Reply::Int(5));
    assert_eq!(cmd(c, "HINCRBY h a -7"), Reply::Int(-2));
    assert_eq!(
        cmd(c, "HINCRBY h a x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        cmd(c, "HSET h s abc f 1.5 max 9223372036854775807"),
        Reply::Int(3)
    );
    assert_eq!(
        cmd(c, "HINCRBY h s 1"),
        err("ERR hash value is not an integer")
    );
    assert_eq!(
        cmd(c, "HINCRBY h f 1"),
        err("ERR hash value is not an integer")
    );
    assert_eq!(
        cmd(c, "HINCRBY h max 1"),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(cmd(c, "HINCRBYFLOAT h f 0.1"), b("1.6"));
    assert_eq!(
        cmd(c, "HINCRBYFLOAT h new 1000.1"),
        b("1000.09999999999999998")
    );
    assert_eq!(cmd(c, "HINCRBYFLOAT h a 3.0e3"), b("2998"));
    assert_eq!(
        cmd(c, "HINCRBYFLOAT h s 1"),
        err("ERR hash value is not a float")
    );
    assert_eq!(
        cmd(c, "HINCRBYFLOAT h a abc"),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        cmd(c, "HINCRBYFLOAT h a nan"),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        cmd(c, "HINCRBYFLOAT h a inf"),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(
        cmd(c, "HINCRBYFLOAT nokey a -inf"),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(cmd(c, "EXISTS nokey"), Reply::Int(0));
    assert!(matches!(
        cmd(c, "HINCRBYFLOAT h big 1.1e4932"),
        Reply::Bulk(Some(_))
    ));
}

#[test]
fn hincrbyfloat_overflow_and_stored_text() {
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert!(matches!(
        cmd(c, "HINCRBYFLOAT h a 1e4932"),
        Reply::Bulk(Some(_))
    ));
    assert_eq!(
        cmd(c, "HINCRBYFLOAT h a 1e4932"),
        err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(cmd(c, "HINCRBYFLOAT h b 10.50"), b("10.5"));
    assert_eq!(cmd(c, "HGET h b"), b("10.5"));
    assert_eq!(
        cmd(c, "HINCRBY h b 1"),
        err("ERR hash value is not an integer")
    );
}

#[test]
fn hrandfield_arguments_and_shapes() {
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert_eq!(cmd(c, "HSET h a 1 b 2 c 3"), Reply::Int(3));
    assert!(matches!(cmd(c, "HRANDFIELD h"), Reply::Bulk(Some(_))));
    assert_eq!(cmd(c, "HRANDFIELD nokey"), Reply::Bulk(None));
    assert_eq!(cmd(c, "HRANDFIELD nokey 5"), arr(vec![]));
    assert_eq!(cmd(c, "HRANDFIELD h 0"), arr(vec![]));
    assert_eq!(cmd(c, "HRANDFIELD h 0 WITHVALUES"), arr(vec![]));
    assert_eq!(cmd(c, "HRANDFIELD h 3"), bulks(&["a", "b", "c"]));
    assert_eq!(
        cmd(c, "HRANDFIELD h 10 withvalues"),
        bulks(&["a", "1", "b", "2", "c", "3"])
    );
    match cmd(c, "HRANDFIELD h -10 WITHVALUES") {
        Reply::Array(Some(items)) => assert_eq!(items.len(), 20),
        other => panic!("{other:?}"),
    }
    match cmd(c, "HRANDFIELD h 2") {
        Reply::Array(Some(items)) => {
            assert_eq!(items.len(), 2);
            assert_ne!(items[0], items[1]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cmd(c, "HRANDFIELD h x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        cmd(c, "HRANDFIELD nokey x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        cmd(c, "HRANDFIELD h -9223372036854775808"),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        cmd(c, "HRANDFIELD h 4611686018427387904 WITHVALUES"),
        err("ERR value is out of range")
    );
    assert_eq!(
        cmd(c, "HRANDFIELD h -4611686018427387904 WITHVALUES"),
        err("ERR value is out of range")
    );
    assert_eq!(cmd(c, "HRANDFIELD h 1 WITHVALUE"), err("ERR syntax error"));
    assert_eq!(
        cmd(c, "HRANDFIELD h 1 WITHVALUES x"),
        err("ERR syntax error")
    );
    // A hashtable-encoded hash: unique and repeated picks.
    let mut args = vec!["HSET".to_string(), "big".to_string()];
    for i in 0..1000 {
        args.push(format!("f{i}"));
        args.push(format!("{i}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd_str(&refs), Reply::Int(1000));
    assert_eq!(cmd(c, "OBJECT ENCODING big"), b("hashtable"));
    for count in ["10", "400", "999", "1000", "5000"] {
        match cmd(c, &format!("HRANDFIELD big {count} WITHVALUES")) {
            Reply::Array(Some(items)) => {
                let want = count.parse::<usize>().unwrap().min(1000);
                assert_eq!(items.len(), 2 * want);
                let mut fields = BTreeSet::new();
                for pair in items.chunks(2) {
                    let (Reply::Bulk(Some(f)), Reply::Bulk(Some(v))) = (&pair[0], &pair[1]) else {
                        panic!("{pair:?}");
                    };
                    assert_eq!(&f[1..], v.as_slice(), "value belongs to its field");
                    assert!(fields.insert(f.clone()), "count {count}: repeated field");
                }
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn hscan_listpack_and_hashtable() {
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert_eq!(cmd(c, "HSET h a1 1 b1 2 a2 3"), Reply::Int(3));
    // Listpack: everything at once, cursor 0 whatever the cursor was.
    assert_eq!(
        cmd(c, "HSCAN h 123 MATCH a* COUNT 1"),
        arr(vec![b("0"), bulks(&["a1", "1", "a2", "3"])])
    );
    assert_eq!(cmd(c, "HSCAN h x"), err("ERR invalid cursor"));
    assert_eq!(cmd(c, "HSCAN nokey x"), err("ERR invalid cursor"));
    assert_eq!(
        cmd(c, "HSCAN nokey 0 COUNT 0"),
        arr(vec![b("0"), arr(vec![])])
    );
    assert_eq!(cmd(c, "HSCAN h 0 COUNT 0"), err("ERR syntax error"));
    assert_eq!(
        cmd(c, "HSCAN h 0 COUNT x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(cmd(c, "HSCAN h 0 TYPE string"), err("ERR syntax error"));
    assert_eq!(cmd(c, "HSCAN h 0 MATCH"), err("ERR syntax error"));
    // Hashtable: a full iteration with small pages returns every field once per page set.
    let mut args = vec!["HSET".to_string(), "big".to_string()];
    for i in 0..2000 {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd_str(&refs), Reply::Int(2000));
    let mut cursor = "0".to_string();
    let mut seen = BTreeSet::new();
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 10_000, "HSCAN did not finish");
        let Reply::Array(Some(parts)) = cmd(c, &format!("HSCAN big {cursor} COUNT 20 MATCH f1*"))
        else {
            panic!("bad HSCAN reply");
        };
        let [Reply::Bulk(Some(next)), Reply::Array(Some(items))] = parts.as_slice() else {
            panic!("bad HSCAN reply {parts:?}");
        };
        for pair in items.chunks(2) {
            let (Reply::Bulk(Some(f)), Reply::Bulk(Some(v))) = (&pair[0], &pair[1]) else {
                panic!("{pair:?}");
            };
            assert!(f.starts_with(b"f1"));
            assert_eq!(&f[1..], &v[1..]);
            seen.insert(f.clone());
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 1, "a hashtable is scanned in pages");
    // COUNT counts fields (not reply items): a dense table fills each page to at least COUNT
    // pairs unless the iteration ends.
    for count in [1usize, 3, 10, 25] {
        let Reply::Array(Some(parts)) = cmd(c, &format!("HSCAN big 0 COUNT {count}")) else {
            panic!("bad HSCAN reply");
        };
        let [Reply::Bulk(Some(next)), Reply::Array(Some(items))] = parts.as_slice() else {
            panic!("bad HSCAN reply {parts:?}");
        };
        assert!(next.as_slice() != b"0");
        assert!(
            items.len() / 2 >= count && items.len() / 2 < count + 20,
            "COUNT {count}: {} pairs",
            items.len() / 2
        );
    }
    let want: BTreeSet<Vec<u8>> = (0..2000)
        .map(|i| format!("f{i}").into_bytes())
        .filter(|f| f.starts_with(b"f1"))
        .collect();
    assert_eq!(seen, want);
}

#[test]
fn keyspace_hits_and_dirty() {
    let s = Server::start(&[]);
    let c = &mut s.raw();
    let stat = |c: &mut Raw, name: &str| -> i64 {
        let Reply::Bulk(Some(text)) = cmd(c, "INFO stats") else {
            panic!("INFO");
        };
        let text = String::from_utf8(text).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in INFO"))
    };
    assert_eq!(cmd(c, "HSET h a 1"), Reply::Int(1));
    let (h0, m0) = (stat(c, "keyspace_hits"), stat(c, "keyspace_misses"));
    cmd(c, "HGET h a");
    cmd(c, "HGET nokey a");
    cmd(c, "HLEN h");
    cmd(c, "HSET h b 2");
    assert_eq!(stat(c, "keyspace_hits"), h0 + 2);
    assert_eq!(stat(c, "keyspace_misses"), m0 + 1);
}

#[test]
fn huge_negative_hrandfield_closes_the_client() {
    // HRANDFIELD with a huge negative count asks for an unbounded reply; the server must not
    // loop for ever or exhaust memory: it drops the reply and closes that client.
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert_eq!(cmd(c, "CONFIG SET proto-max-bulk-len 1048576"), Reply::ok());
    assert_eq!(cmd(c, "HSET h a 1 b 2"), Reply::Int(2));
    c.send(&common::encode(&[
        b"HRANDFIELD",
        b"h",
        b"-9223372036854775807",
    ]));
    c.expect_closed(std::time::Duration::from_secs(10))
        .expect("client closed");
    let c2 = &mut s.raw();
    assert_eq!(cmd(c2, "HLEN h"), Reply::Int(2));
    match cmd(c2, "HRANDFIELD h -1000 WITHVALUES") {
        Reply::Array(Some(items)) => assert_eq!(items.len(), 2000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn lowered_limit_converts_on_next_write() {
    // A listpack grown under hash-max-listpack-entries 16 stayed a listpack when the limit was
    // lowered to 4 and a field was updated; Redis converts on any write, update included.
    let s = Server::start(&[]);
    let c = &mut s.raw();
    assert_eq!(cmd(c, "HSET h a 1 b 2 c 3 d 4 e 5 f 6"), Reply::Int(6));
    assert_eq!(
        cmd(c, "CONFIG SET hash-max-listpack-entries 4"),
        Reply::ok()
    );
    assert_eq!(cmd(c, "HGET h a"), b("1"));
    assert_eq!(
        cmd(c, "OBJECT ENCODING h"),
        b("listpack"),
        "reads do not convert"
    );
    assert_eq!(cmd(c, "HSETNX h a 9"), Reply::Int(0));
    assert_eq!(cmd(c, "HDEL h zz"), Reply::Int(0));
    assert_eq!(
        cmd(c, "OBJECT ENCODING h"),
        b("listpack"),
        "no write happened"
    );
    assert_eq!(cmd(c, "HINCRBYFLOAT h a .5"), b("1.5"));
    assert_eq!(cmd(c, "OBJECT ENCODING h"), b("hashtable"));
    assert_eq!(cmd(c, "HSET g a 1 b 2 c 3 d 4 e 5 f 6"), Reply::Int(6));
    assert_eq!(cmd(c, "OBJECT ENCODING g"), b("hashtable"));
    assert_eq!(
        cmd(c, "CONFIG SET hash-max-listpack-entries 16"),
        Reply::ok()
    );
    assert_eq!(cmd(c, "HSET k a 1 b 2 c 3 d 4 e 5 f 6"), Reply::Int(6));
    assert_eq!(
        cmd(c, "CONFIG SET hash-max-listpack-entries 4"),
        Reply::ok()
    );
    assert_eq!(cmd(c, "HSET k a 1"), Reply::Int(0));
    assert_eq!(cmd(c, "OBJECT ENCODING k"), b("hashtable"));
}
