//! Integration tests of the set commands against the real binary, plus a model test of the
//! `Set` type against `HashSet` (invariants checked after every step).

mod common;

use common::{Raw, Reply, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ringkv::types::set::Set;
use std::collections::{BTreeSet, HashSet};

fn bulk(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

fn bulks(v: &[&str]) -> Vec<Reply> {
    v.iter().map(|s| bulk(s)).collect()
}

fn members(r: &Reply) -> BTreeSet<Vec<u8>> {
    let items = match r {
        Reply::Array(Some(v)) | Reply::Set(v) => v,
        other => panic!("expected an aggregate, got {other:?}"),
    };
    items
        .iter()
        .map(|x| match x {
            Reply::Bulk(Some(b)) => b.clone(),
            other => panic!("expected a bulk, got {other:?}"),
        })
        .collect()
}

fn resp3(server: &Server) -> Raw {
    let mut c = server.raw();
    assert!(matches!(c.cmd_str(&["HELLO", "3"]), Reply::Map(_)));
    c
}

fn info_stat(c: &mut Raw, field: &str) -> i64 {
    let Reply::Bulk(Some(text)) = c.cmd_str(&["INFO", "stats"]) else {
        panic!("INFO stats did not answer a bulk");
    };
    let text = String::from_utf8(text).expect("utf-8 INFO");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO stats"))
}

#[test]
fn reply_types_in_resp2_and_resp3() {
    let server = Server::start(&[]);
    let mut c2 = server.raw();
    let mut c3 = resp3(&server);
    assert_eq!(c2.cmd_str(&["SADD", "s", "3", "1", "2"]), Reply::Int(3));
    let all = bulks(&["1", "2", "3"]);
    assert_eq!(
        c2.cmd_str(&["SMEMBERS", "s"]),
        Reply::Array(Some(all.clone()))
    );
    assert_eq!(c3.cmd_str(&["SMEMBERS", "s"]), Reply::Set(all.clone()));
    assert_eq!(c3.cmd_str(&["SINTER", "s", "s"]), Reply::Set(all.clone()));
    assert_eq!(c3.cmd_str(&["SUNION", "s"]), Reply::Set(all.clone()));
    assert_eq!(c3.cmd_str(&["SDIFF", "s"]), Reply::Set(all.clone()));
    assert_eq!(c3.cmd_str(&["SMEMBERS", "missing"]), Reply::Set(vec![]));
    assert_eq!(
        c2.cmd_str(&["SMEMBERS", "missing"]),
        Reply::Array(Some(vec![]))
    );
    assert_eq!(c3.cmd_str(&["SPOP", "missing"]), Reply::Null);
    assert_eq!(c2.cmd_str(&["SPOP", "missing"]), Reply::Bulk(None));
    assert_eq!(c3.cmd_str(&["SPOP", "missing", "2"]), Reply::Set(vec![]));
    assert_eq!(c3.cmd_str(&["SPOP", "s", "0"]), Reply::Set(vec![]));
    assert_eq!(
        c3.cmd_str(&["SRANDMEMBER", "missing", "2"]),
        Reply::Array(Some(vec![]))
    );
    assert_eq!(c3.cmd_str(&["SRANDMEMBER", "missing"]), Reply::Null);
    assert!(
        matches!(c3.cmd_str(&["SRANDMEMBER", "s", "2"]), Reply::Array(Some(v)) if v.len() == 2)
    );
    assert_eq!(
        c3.cmd_str(&["SMISMEMBER", "s", "1", "9"]),
        Reply::Array(Some(vec![Reply::Int(1), Reply::Int(0)]))
    );
    assert_eq!(
        c3.cmd_str(&["SSCAN", "s", "0"]),
        Reply::Array(Some(vec![bulk("0"), Reply::Array(Some(all.clone()))]))
    );
    assert!(matches!(c3.cmd_str(&["SPOP", "s", "2"]), Reply::Set(v) if v.len() == 2));
    assert!(matches!(c2.cmd_str(&["SPOP", "s", "5"]), Reply::Array(Some(v)) if v.len() == 1));
    assert_eq!(c2.cmd_str(&["EXISTS", "s"]), Reply::Int(0));
}

#[test]
fn store_commands_replace_any_type_and_drop_the_ttl() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_str(&["SADD", "a", "1", "2", "x"]);
    c.cmd_str(&["SADD", "b", "2", "x"]);
    for store in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] {
        assert_eq!(c.cmd_str(&["SET", "d", "v", "EX", "1000"]), Reply::ok());
        let n = c.cmd_str(&[store, "d", "a", "b"]);
        assert!(matches!(n, Reply::Int(1..)), "{store} answered {n:?}");
        assert_eq!(c.cmd_str(&["TYPE", "d"]), Reply::Status("set".into()));
        assert_eq!(
            c.cmd_str(&["TTL", "d"]),
            Reply::Int(-1),
            "{store} kept the TTL"
        );
        // An empty result deletes the destination.
        assert_eq!(
            c.cmd_str(&[store, "d", "missing", "missing"]),
            Reply::Int(0)
        );
        assert_eq!(c.cmd_str(&["EXISTS", "d"]), Reply::Int(0));
    }
    // Commands that change a set in place keep its TTL.
    c.cmd_str(&["EXPIRE", "a", "1000"]);
    c.cmd_str(&["SADD", "a", "3"]);
    c.cmd_str(&["SREM", "a", "1"]);
    c.cmd_str(&["SMOVE", "b", "a", "2"]);
    assert!(matches!(c.cmd_str(&["TTL", "a"]), Reply::Int(990..=1000)));
}

#[test]
fn spop_with_count_keeps_ttl_and_rebuilds_like_redis() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut sadd = vec!["SADD".to_string(), "s".to_string()];
    sadd.extend((0..1000).map(|i| i.to_string()));
    let args: Vec<&str> = sadd.iter().map(String::as_str).collect();
    assert_eq!(c.cmd_str(&args), Reply::Int(1000));
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    c.cmd_str(&["EXPIRE", "s", "1000"]);
    // 900 of 1000: the "move the remaining members to a new set" strategy.
    let popped = members(&c.cmd_str(&["SPOP", "s", "900"]));
    assert_eq!(popped.len(), 900);
    let rest = members(&c.cmd_str(&["SMEMBERS", "s"]));
    assert_eq!(rest.len(), 100);
    assert!(popped.is_disjoint(&rest));
    // The 100 that stay were moved to a new set by adding them: 100 integers fit an intset.
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "s"]), bulk("intset"));
    assert!(matches!(c.cmd_str(&["TTL", "s"]), Reply::Int(990..=1000)));
    // 10 of 100: popped one at a time.
    let popped2 = members(&c.cmd_str(&["SPOP", "s", "10"]));
    assert_eq!(popped2.len(), 10);
    assert!(popped2.is_subset(&rest));
    assert_eq!(c.cmd_str(&["SCARD", "s"]), Reply::Int(90));
    // 3 of 10 stay: 3 * 5 > 7, so members are popped one at a time and the table stays.
    c.cmd_str(&["CONFIG", "SET", "set-max-intset-entries", "4"]);
    c.cmd_str(&[
        "SADD", "t", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
    ]);
    c.cmd_str(&["SPOP", "t", "7"]);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "t"]), bulk("hashtable"));
    // 2 of 20 stay: 2 * 5 <= 18, the rest is rebuilt, as an intset.
    c.cmd_str(&["DEL", "t"]);
    let mut sadd = vec!["SADD".to_string(), "t".to_string()];
    sadd.extend((0..20).map(|i| i.to_string()));
    let args: Vec<&str> = sadd.iter().map(String::as_str).collect();
    c.cmd_str(&args);
    c.cmd_str(&["SPOP", "t", "18"]);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "t"]), bulk("intset"));
}

/// Redis answers SPOP of the whole set from a set rebuilt by adding the members, so a hash
/// table holding only integers answers in ascending (intset) order.
#[test]
fn spop_of_the_whole_set_answers_in_rebuilt_order() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_str(&["CONFIG", "SET", "set-max-intset-entries", "2"]);
    c.cmd_str(&["SADD", "s", "30", "10", "20", "-5"]);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    c.cmd_str(&["CONFIG", "SET", "set-max-intset-entries", "512"]);
    assert_eq!(
        c.cmd_str(&["SPOP", "s", "4"]),
        Reply::Array(Some(bulks(&["-5", "10", "20", "30"])))
    );
}

#[test]
fn random_members_reach_every_member() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_str(&["SADD", "small", "1", "2", "3"]);
    c.cmd_str(&["SADD", "table", "a", "b", "c", "d"]);
    for key in ["small", "table"] {
        let all = members(&c.cmd_str(&["SMEMBERS", key]));
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            let Reply::Bulk(Some(m)) = c.cmd_str(&["SRANDMEMBER", key]) else {
                panic!("SRANDMEMBER {key} answered no member");
            };
            seen.insert(m);
        }
        assert_eq!(seen, all, "{key}");
        let Reply::Array(Some(v)) = c.cmd_str(&["SRANDMEMBER", key, "-50"]) else {
            panic!("SRANDMEMBER with a negative count answered no array");
        };
        assert_eq!(v.len(), 50);
        let distinct = members(&c.cmd_str(&["SRANDMEMBER", key, "2"]));
        assert_eq!(distinct.len(), 2);
        assert!(distinct.is_subset(&all));
    }
}

#[test]
fn sscan_of_a_large_set_visits_every_member() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut want = BTreeSet::new();
    for chunk in 0..10 {
        let mut args = vec!["SADD".to_string(), "big".to_string()];
        for i in 0..300 {
            let m = format!("m{}", chunk * 300 + i);
            want.insert(m.clone().into_bytes());
            args.push(m);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        c.cmd_str(&args);
    }
    let mut got = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = c.cmd_str(&["SSCAN", "big", &cursor, "COUNT", "50"]);
        let Reply::Array(Some(parts)) = r else {
            panic!("SSCAN answered {r:?}");
        };
        let Reply::Bulk(Some(next)) = &parts[0] else {
            panic!("bad cursor {:?}", parts[0]);
        };
        got.extend(members(&parts[1]));
        cursor = String::from_utf8(next.clone()).expect("cursor");
        calls += 1;
        assert!(calls < 10_000, "SSCAN never finished");
        // Members removed during the scan must not break it.
        if calls == 3 {
            c.cmd_str(&["SREM", "big", "m1", "m2", "m3"]);
            for m in ["m1", "m2", "m3"] {
                want.remove(m.as_bytes());
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert!(want.is_subset(&got), "SSCAN missed members");
    assert!(
        calls > 10,
        "COUNT 50 over 3000 members took only {calls} calls"
    );
    let r = c.cmd_str(&["SSCAN", "big", "0", "MATCH", "m299*", "COUNT", "100000"]);
    let Reply::Array(Some(parts)) = r else {
        panic!("SSCAN answered {r:?}");
    };
    assert_eq!(parts[0], bulk("0"));
    assert_eq!(members(&parts[1]).len(), 11);
}

#[test]
fn keyspace_hits_and_misses_like_redis() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_str(&["SADD", "s", "a"]);
    c.cmd_str(&["SET", "str", "x"]);
    let (h0, m0) = (
        info_stat(&mut c, "keyspace_hits"),
        info_stat(&mut c, "keyspace_misses"),
    );
    // Write lookups count nothing.
    c.cmd_str(&["SADD", "s", "b"]);
    c.cmd_str(&["SREM", "missing", "b"]);
    c.cmd_str(&["SPOP", "missing"]);
    c.cmd_str(&["SMOVE", "missing", "s", "a"]);
    // Read lookups: 2 hits + 1 miss, then 1 hit (WRONGTYPE) + 1 miss, then 1 hit + 1 miss.
    c.cmd_str(&["SUNION", "s", "missing", "s"]);
    c.cmd_str(&["SINTER", "missing", "str", "s"]);
    c.cmd_str(&["SUNIONSTORE", "d", "s", "missing2"]);
    c.cmd_str(&["SISMEMBER", "s", "a"]);
    c.cmd_str(&["SCARD", "missing"]);
    assert_eq!(info_stat(&mut c, "keyspace_hits") - h0, 2 + 1 + 1 + 1);
    assert_eq!(info_stat(&mut c, "keyspace_misses") - m0, 1 + 1 + 1 + 1);
    // SPOP of the whole set answers through Redis's SUNION code: one read lookup.
    let h1 = info_stat(&mut c, "keyspace_hits");
    c.cmd_str(&["SADD", "p", "1", "2", "3"]);
    c.cmd_str(&["SPOP", "p", "1"]);
    assert_eq!(info_stat(&mut c, "keyspace_hits"), h1);
    c.cmd_str(&["SPOP", "p", "10"]);
    assert_eq!(info_stat(&mut c, "keyspace_hits"), h1 + 1);
}

#[test]
fn command_info_rows() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    // (name, arity, first, last, step, write?)
    let rows: &[(&str, i64, i64, i64, i64, bool)] = &[
        ("sadd", -3, 1, 1, 1, true),
        ("srem", -3, 1, 1, 1, true),
        ("sismember", 3, 1, 1, 1, false),
        ("smismember", -3, 1, 1, 1, false),
        ("scard", 2, 1, 1, 1, false),
        ("smembers", 2, 1, 1, 1, false),
        ("spop", -2, 1, 1, 1, true),
        ("srandmember", -2, 1, 1, 1, false),
        ("smove", 4, 1, 2, 1, true),
        ("sinter", -2, 1, -1, 1, false),
        ("sintercard", -3, 0, 0, 0, false),
        ("sinterstore", -3, 1, -1, 1, true),
        ("sunion", -2, 1, -1, 1, false),
        ("sunionstore", -3, 1, -1, 1, true),
        ("sdiff", -2, 1, -1, 1, false),
        ("sdiffstore", -3, 1, -1, 1, true),
        ("sscan", -3, 1, 1, 1, false),
    ];
    for &(name, arity, first, last, step, write) in rows {
        let Reply::Array(Some(v)) = c.cmd_str(&["COMMAND", "INFO", name]) else {
            panic!("COMMAND INFO {name}");
        };
        let Reply::Array(Some(info)) = &v[0] else {
            panic!("COMMAND INFO {name} answered {v:?}");
        };
        assert_eq!(info[0], bulk(name));
        assert_eq!(info[1], Reply::Int(arity), "{name} arity");
        assert_eq!(
            info[3..6],
            [Reply::Int(first), Reply::Int(last), Reply::Int(step)],
            "{name} keys"
        );
        let flags = format!("{:?}", info[2]);
        assert_eq!(flags.contains("write"), write, "{name} flags {flags}");
        assert_eq!(flags.contains("readonly"), !write, "{name} flags {flags}");
    }
}

#[test]
fn encodings_follow_the_config_and_never_convert_back() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.cmd_str(&["CONFIG", "SET", "set-max-intset-entries", "2"]);
    c.cmd_str(&["SADD", "s", "1", "2"]);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "s"]), bulk("intset"));
    c.cmd_str(&["SADD", "s", "3"]);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    c.cmd_str(&["SREM", "s", "3", "2"]);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "s"]), bulk("hashtable"));
    // COPY and RENAME carry the set and its encoding.
    assert_eq!(c.cmd_str(&["COPY", "s", "t"]), Reply::Int(1));
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "t"]), bulk("hashtable"));
    assert_eq!(
        c.cmd_str(&["SMEMBERS", "t"]),
        Reply::Array(Some(bulks(&["1"])))
    );
    assert_eq!(c.cmd_str(&["RENAME", "t", "u"]), Reply::ok());
    assert_eq!(c.cmd_str(&["SISMEMBER", "u", "1"]), Reply::Int(1));
    c.cmd_str(&["SADD", "n", "x"]);
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "n"]), bulk("hashtable"));
}

/// A running SSCAN in the model test: cursor, members present since it began, members seen.
type ScanState = (u64, HashSet<Vec<u8>>, HashSet<Vec<u8>>);

/// The `Set` type against a HashSet model: thousands of random operations with every
/// encoding limit, check_invariants() after every step, and SSCAN's guarantee (members
/// present for the whole scan are returned) with changes between scan steps.
#[test]
fn model_against_hashset() {
    let mut rng = StdRng::seed_from_u64(42);
    for &limit in &[0usize, 2, 8, 64, 512] {
        let mut s = Set::new();
        let mut model: HashSet<Vec<u8>> = HashSet::new();
        let mut scan: Option<ScanState> = None;
        for step in 0..5000 {
            let m: Vec<u8> = if rng.gen_ratio(1, 6) {
                format!("x{}", rng.gen_range(0..80)).into_bytes()
            } else {
                rng.gen_range(-100i64..300).to_string().into_bytes()
            };
            let grow = (step / 1000) % 2 == 0;
            match rng.gen_range(0..10) {
                0..=4 if grow => assert_eq!(s.add(&m, limit), model.insert(m.clone())),
                0..=5 => {
                    let removed = s.remove(&m);
                    assert_eq!(removed, model.remove(&m));
                    if let Some((_, stable, _)) = scan.as_mut() {
                        stable.remove(&m);
                    }
                }
                6 => assert_eq!(s.contains(&m), model.contains(&m)),
                7 => {
                    if let Some(e) = s.pop_random(|| rng.gen()) {
                        let e = e.to_vec();
                        assert!(model.remove(&e));
                        if let Some((_, stable, _)) = scan.as_mut() {
                            stable.remove(&e);
                        }
                    }
                }
                _ => {
                    // One SSCAN step; start a new scan when none is running.
                    let (cursor, stable, mut seen) = scan
                        .take()
                        .unwrap_or_else(|| (0, model.clone(), HashSet::new()));
                    let next = s.scan(cursor, rng.gen_range(1..20), |m| {
                        seen.insert(m.to_elem().to_vec());
                    });
                    if next == 0 {
                        assert!(stable.is_subset(&seen), "SSCAN missed members");
                    } else {
                        scan = Some((next, stable, seen));
                    }
                }
            }
            assert_eq!(s.len(), model.len());
            if s.is_intset() {
                assert!(s.len() <= limit, "intset above the limit {limit}");
            }
            s.check_invariants();
        }
        let mut all = HashSet::new();
        s.for_each(|m| {
            all.insert(m.to_elem().to_vec());
        });
        assert_eq!(all, model);
    }
}
