//! Sorted sets: model tests of the AVL tree and the two-encoding `ZSet` against std
//! collections (invariants checked after every step), and integration tests of the commands
//! on the real binary (ZQUERY, RESP3 shapes, encodings, ZSCAN, ZRANDMEMBER).

mod common;
mod models;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use common::{Reply, Server};
use models::{zset_add, zset_same, OrderedScore, ZModel};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ringkv::types::avl::AvlTree;
use ringkv::types::zset::{Limits, ZSet};

fn random_score(rng: &mut StdRng) -> f64 {
    match rng.gen_range(0..20) {
        0 => f64::INFINITY,
        1 => f64::NEG_INFINITY,
        2..=5 => f64::from(rng.gen_range(-20..20)) / 4.0,
        _ => f64::from(rng.gen_range(-50..50)),
    }
}

fn random_member(rng: &mut StdRng, pool: u32) -> Vec<u8> {
    format!("m{}", rng.gen_range(0..pool)).into_bytes()
}

fn check_tree_against(tree: &AvlTree, model: &ZModel, rng: &mut StdRng) {
    tree.check_invariants();
    assert_eq!(tree.len(), model.len());
    let flat: Vec<(f64, Vec<u8>)> = model.keys().map(|(s, m)| (s.0, m.clone())).collect();
    // A few random rank/select probes and walks per step keep the test O(n) per step.
    for _ in 0..4 {
        if flat.is_empty() {
            assert!(tree.select(0).is_none());
            break;
        }
        let r = rng.gen_range(0..flat.len());
        let (s, m) = &flat[r];
        assert_eq!(tree.select(r), Some((&m[..], *s)));
        assert_eq!(tree.rank(*s, m), Some(r));
        let below = tree
            .count_before(|ts, tm| ringkv::types::avl::cmp_entry(ts, tm, *s, m) == Ordering::Less);
        assert_eq!(below, r);
        let take = rng.gen_range(0..6);
        let fwd: Vec<(Vec<u8>, f64)> = tree
            .iter_from(r, false)
            .take(take)
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        let want: Vec<(Vec<u8>, f64)> = flat[r..]
            .iter()
            .take(take)
            .map(|(s, m)| (m.clone(), *s))
            .collect();
        assert_eq!(fwd, want);
        let back: Vec<(Vec<u8>, f64)> = tree
            .iter_from(r, true)
            .take(take)
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        let want: Vec<(Vec<u8>, f64)> = flat[..=r]
            .iter()
            .rev()
            .take(take)
            .map(|(s, m)| (m.clone(), *s))
            .collect();
        assert_eq!(back, want);
    }
    assert!(tree.select(flat.len()).is_none());
    assert_eq!(tree.iter_from(flat.len(), false).count(), 0);
}

#[test]
fn avl_tree_matches_btreemap_model() {
    let mut rng = StdRng::seed_from_u64(0xA71);
    let mut tree = AvlTree::new();
    let mut model: ZModel = BTreeMap::new();
    // member -> score, as the ZSet's dict would hold it.
    let mut scores: HashMap<Vec<u8>, f64> = HashMap::new();
    for step in 0..6000 {
        // Grow for a while, then shrink, then mix, so heights change both ways.
        let insert_p = match step / 1500 {
            0 => 0.8,
            1 => 0.5,
            2 => 0.2,
            _ => 0.5,
        };
        let m = random_member(&mut rng, 400);
        if rng.gen_bool(insert_p) {
            let s = random_score(&mut rng);
            if let Some(old) = scores.insert(m.clone(), s) {
                assert!(tree.remove(old, &m).is_some());
                model.remove(&(OrderedScore(old), m.clone()));
            }
            assert!(tree.insert(s, m.clone().into()));
            assert!(
                !tree.insert(s, m.clone().into()),
                "duplicate insert refused"
            );
            model.insert((OrderedScore(s), m), ());
        } else if let Some(old) = scores.remove(&m) {
            assert_eq!(tree.remove(old, &m).as_deref(), Some(&m[..]));
            model.remove(&(OrderedScore(old), m.clone()));
            assert!(tree.remove(old, &m).is_none());
        } else {
            assert!(tree.remove(0.0, &m).is_none());
        }
        check_tree_against(&tree, &model, &mut rng);
        for (m, s) in &scores {
            assert!(model.contains_key(&(OrderedScore(*s), m.clone())));
        }
    }
}

#[test]
fn avl_tree_sequential_inserts_stay_balanced() {
    // Ascending and descending inserts are the worst case for an unbalanced tree.
    let mut tree = AvlTree::new();
    for i in 0..5000 {
        tree.insert(f64::from(i), b"x".to_vec().into());
    }
    for i in 0..5000 {
        tree.insert(f64::from(-i - 1), b"y".to_vec().into());
    }
    tree.check_invariants();
    assert_eq!(tree.len(), 10_000);
    for i in (0..10_000).step_by(97) {
        let (_, s) = tree.select(i).unwrap();
        assert_eq!(s, f64::from(i as i32 - 5000));
    }
}

/// The ZSet (both encodings, conversions included) against a BTreeMap + HashMap model.
#[test]
fn zset_matches_model_across_encodings() {
    let mut rng = StdRng::seed_from_u64(0x25e7);
    let limits = Limits {
        entries_max: 16,
        value_max: 8,
    };
    let mut z = ZSet::new();
    let mut model: ZModel = BTreeMap::new();
    let mut scores: HashMap<Vec<u8>, f64> = HashMap::new();
    let mut saw_skiplist = false;
    for step in 0..8000 {
        if step % 2000 == 0 {
            // Start over in the compact encoding now and then.
            z = ZSet::new();
            model.clear();
            scores.clear();
        }
        let long = rng.gen_bool(0.01);
        let m = if long {
            b"a-member-longer-than-eight".to_vec()
        } else {
            random_member(&mut rng, 60)
        };
        match rng.gen_range(0..10) {
            0..=5 => {
                let s = random_score(&mut rng);
                zset_add(&mut z, &mut model, &mut scores, m, s, limits);
            }
            6..=7 => {
                let got = z.remove(&m);
                assert_eq!(got, scores.remove(&m));
                if let Some(s) = got {
                    model.remove(&(OrderedScore(s), m));
                }
            }
            8 => {
                let min = rng.gen_bool(0.5);
                let got = z.pop(min);
                let want = if min {
                    model.keys().next().cloned()
                } else {
                    model.keys().next_back().cloned()
                };
                assert_eq!(
                    got.as_ref().map(|(m, s)| (m.to_vec(), *s)),
                    want.as_ref().map(|(s, m)| (m.clone(), s.0))
                );
                if let Some(k) = want {
                    model.remove(&k);
                    scores.remove(&k.1);
                }
            }
            _ => {
                let len = z.len();
                if len > 0 {
                    let start = rng.gen_range(0..len);
                    let count = rng.gen_range(0..4);
                    let doomed: Vec<_> = model.keys().skip(start).take(count).cloned().collect();
                    assert_eq!(z.remove_rank_range(start, count), doomed.len());
                    for k in doomed {
                        scores.remove(&k.1);
                        model.remove(&k);
                    }
                }
            }
        }
        zset_same(&mut z, &model, limits.entries_max, 7, step);
        saw_skiplist |= z.encoding() == "skiplist";
    }
    assert!(saw_skiplist);
}

#[test]
fn zset_scan_visits_every_member_once_without_changes() {
    let limits = Limits {
        entries_max: 4,
        value_max: 64,
    };
    let mut z = ZSet::new();
    for i in 0..1000 {
        z.insert_new(format!("m{i}").as_bytes(), f64::from(i), limits);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    for _ in 0..10_000 {
        cursor = z.scan(cursor, 10, |m, s| {
            assert_eq!(format!("m{s}").as_bytes(), m);
            assert!(seen.insert(m.to_vec()), "duplicate without resize");
        });
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(cursor, 0);
    assert_eq!(seen.len(), 1000);
}

// ---------------------------------------------------------------------------------------------
// Integration tests on the binary.

fn bulk(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(Some(items))
}

#[test]
fn zquery_pages_from_a_position() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_str(&["CONFIG", "SET", "zset-max-listpack-entries", "4"]);
    for i in 0..20 {
        let s = (i / 2).to_string();
        let m = format!("m{i:02}");
        assert_eq!(c.cmd_str(&["ZADD", "z", &s, &m]), Reply::Int(1));
    }
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // (3, "m07") is the 8th pair; offset 1 skips it.
    assert_eq!(
        c.cmd_str(&["ZQUERY", "z", "3", "m07", "1", "3"]),
        arr(vec![
            bulk("m08"),
            bulk("4"),
            bulk("m09"),
            bulk("4"),
            bulk("m10"),
            bulk("5")
        ])
    );
    // A position between pairs starts at the next one.
    assert_eq!(
        c.cmd_str(&["ZQUERY", "z", "3", "m065", "0", "2"]),
        arr(vec![bulk("m07"), bulk("3"), bulk("m08"), bulk("4")])
    );
    assert_eq!(
        c.cmd_str(&["ZQUERY", "z", "-inf", "", "19", "5"]),
        arr(vec![bulk("m19"), bulk("9")])
    );
    assert_eq!(
        c.cmd_str(&["ZQUERY", "z", "inf", "", "0", "5"]),
        arr(vec![])
    );
    assert_eq!(c.cmd_str(&["ZQUERY", "z", "0", "", "0", "0"]), arr(vec![]));
    assert_eq!(
        c.cmd_str(&["ZQUERY", "nokey", "0", "", "0", "5"]),
        arr(vec![])
    );
    assert_eq!(
        c.cmd_str(&["ZQUERY", "z", "x", "m", "0", "1"]),
        Reply::Error("ERR value is not a valid float".into())
    );
    assert_eq!(
        c.cmd_str(&["ZQUERY", "z", "1", "m", "-1", "1"]),
        Reply::Error("ERR value is out of range, must be positive".into())
    );
    assert_eq!(
        c.cmd_str(&["ZQUERY", "z", "1", "m", "0", "-1"]),
        Reply::Error("ERR value is out of range, must be positive".into())
    );
    assert_eq!(
        c.cmd_str(&["ZQUERY", "z", "1", "m", "a", "1"]),
        Reply::Error("ERR value is not an integer or out of range".into())
    );
    c.cmd_str(&["SET", "s", "x"]);
    assert!(c.cmd_str(&["ZQUERY", "s", "1", "m", "0", "1"]).is_error());
    assert!(c.cmd_str(&["ZQUERY", "z", "1", "m", "0"]).is_error());
    // RESP3: pairs with double scores; same on a listpack.
    c.cmd_str(&["ZADD", "small", "1.5", "a", "2", "b"]);
    assert_eq!(
        c.cmd_str(&["OBJECT", "ENCODING", "small"]),
        bulk("listpack")
    );
    c.cmd_str(&["HELLO", "3"]);
    assert_eq!(
        c.cmd_str(&["ZQUERY", "small", "1.5", "a", "0", "10"]),
        arr(vec![
            arr(vec![bulk("a"), Reply::Double("1.5".into())]),
            arr(vec![bulk("b"), Reply::Double("2".into())]),
        ])
    );
}

#[test]
fn resp3_reply_shapes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_str(&["HELLO", "3"]);
    c.cmd_str(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    let pair = |m: &str, s: &str| arr(vec![bulk(m), Reply::Double(s.into())]);
    assert_eq!(c.cmd_str(&["ZSCORE", "z", "b"]), Reply::Double("2".into()));
    assert_eq!(c.cmd_str(&["ZSCORE", "z", "x"]), Reply::Null);
    assert_eq!(
        c.cmd_str(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        arr(vec![pair("a", "1"), pair("b", "2")])
    );
    assert_eq!(
        c.cmd_str(&["ZPOPMIN", "z"]),
        arr(vec![bulk("a"), Reply::Double("1".into())])
    );
    assert_eq!(c.cmd_str(&["ZPOPMAX", "z", "1"]), arr(vec![pair("c", "3")]));
    assert_eq!(
        c.cmd_str(&["ZMPOP", "1", "z", "MIN"]),
        arr(vec![bulk("z"), arr(vec![pair("b", "2")])])
    );
    assert_eq!(c.cmd_str(&["ZMPOP", "1", "z", "MIN"]), Reply::Null);
    assert_eq!(c.cmd_str(&["EXISTS", "z"]), Reply::Int(0));
    assert_eq!(
        c.cmd_str(&["ZADD", "z", "INCR", "inf", "a"]),
        Reply::Double("inf".into())
    );
    assert_eq!(
        c.cmd_str(&["ZINCRBY", "z", "-inf", "a"]),
        Reply::Error("ERR resulting score is not a number (NaN)".into())
    );
    assert_eq!(
        c.cmd_str(&["ZMSCORE", "z", "a", "q"]),
        arr(vec![Reply::Double("inf".into()), Reply::Null])
    );
    assert_eq!(c.cmd_str(&["ZRANK", "z", "q"]), Reply::Null);
    assert_eq!(c.cmd_str(&["ZRANDMEMBER", "nokey"]), Reply::Null);
}

#[test]
fn encodings_convert_like_redis() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let enc = |c: &mut common::Raw, k: &str| c.cmd_str(&["OBJECT", "ENCODING", k]);
    c.cmd_str(&["CONFIG", "SET", "zset-max-listpack-entries", "3"]);
    c.cmd_str(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(enc(&mut c, "z"), bulk("listpack"));
    c.cmd_str(&["ZADD", "z", "4", "d"]);
    assert_eq!(enc(&mut c, "z"), bulk("skiplist"));
    // Shrinking never converts back in place...
    c.cmd_str(&["ZREM", "z", "a", "b", "c"]);
    assert_eq!(enc(&mut c, "z"), bulk("skiplist"));
    // ...but a stored result picks by size.
    assert_eq!(c.cmd_str(&["ZUNIONSTORE", "u", "1", "z"]), Reply::Int(1));
    assert_eq!(enc(&mut c, "u"), bulk("listpack"));
    assert_eq!(
        c.cmd_str(&["ZRANGESTORE", "r", "z", "0", "-1"]),
        Reply::Int(1)
    );
    assert_eq!(enc(&mut c, "r"), bulk("listpack"));
    c.cmd_str(&["CONFIG", "SET", "zset-max-listpack-value", "4"]);
    c.cmd_str(&["ZADD", "long", "1", "abcde"]);
    assert_eq!(enc(&mut c, "long"), bulk("skiplist"));
}

#[test]
fn zscan_of_a_large_set_returns_every_member() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut args: Vec<String> = vec!["ZADD".into(), "z".into()];
    for i in 0..500 {
        args.push(i.to_string());
        args.push(format!("m{i}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd_str(&refs), Reply::Int(500));
    let mut cursor = "0".to_string();
    let mut seen = HashMap::new();
    for _ in 0..10_000 {
        let Reply::Array(Some(parts)) = c.cmd_str(&["ZSCAN", "z", &cursor, "COUNT", "20"]) else {
            panic!("ZSCAN reply");
        };
        let (Reply::Bulk(Some(next)), Reply::Array(Some(items))) = (&parts[0], &parts[1]) else {
            panic!("ZSCAN parts");
        };
        for p in items.chunks(2) {
            let (Reply::Bulk(Some(m)), Reply::Bulk(Some(s))) = (&p[0], &p[1]) else {
                panic!("pair");
            };
            seen.insert(m.clone(), s.clone());
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
    assert_eq!(seen[&b"m42".to_vec()], b"42".to_vec());
}

#[test]
fn zrandmember_counts() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_str(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    let Reply::Array(Some(v)) = c.cmd_str(&["ZRANDMEMBER", "z", "-10", "WITHSCORES"]) else {
        panic!()
    };
    assert_eq!(v.len(), 20);
    let Reply::Array(Some(v)) = c.cmd_str(&["ZRANDMEMBER", "z", "2"]) else {
        panic!()
    };
    assert_eq!(v.len(), 2);
    assert_ne!(v[0], v[1]);
    let Reply::Array(Some(v)) = c.cmd_str(&["ZRANDMEMBER", "z", "10"]) else {
        panic!()
    };
    assert_eq!(v.len(), 3);
    // Redis 7.0 runs out of memory on this one; we refuse it and stay up (a deliberate
    // difference), while a missing key still answers an empty array.
    assert_eq!(
        c.cmd_str(&["ZRANDMEMBER", "z", "-9223372036854775807"]),
        Reply::Error("ERR value is out of range".into())
    );
    assert_eq!(
        c.cmd_str(&["ZRANDMEMBER", "nokey", "-9223372036854775807"]),
        arr(vec![])
    );
    assert_eq!(c.cmd_str(&["PING"]), Reply::Status("PONG".into()));
}
