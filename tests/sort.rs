//! SORT and SORT_RO compared with a real redis-server 7.0: a random stream of SORT
//! invocations (every option, in any order, on lists, intsets, hash-table sets and sorted
//! sets, with weight strings, hash fields and missing keys behind the patterns) between
//! writes that change the data, replies compared reply by reply and the datasets at the end;
//! the same stream with every keyspace event class on; and hand-written cases for the rules
//! (errors, LIMIT clamping, STORE's events and deletion, the AOF form, scripts, key specs).
//!
//! Usage:
//!   cargo test --test sort                                  everything, default seed
//!   DIFFTEST_SEED=7 DIFFTEST_N=20000 cargo test --test sort random_stream
//!
//! Where Redis's answer depends on its hash table's iteration order, the comparison is
//! normalised (see `Check`): a set sorted "by nothing" (BY without `*`) answers its members in
//! iteration order, and ALPHA with a BY pattern leaves equal weights in the order the set or
//! sorted set was read (Redis reads a sorted set through its dict there). Those replies are
//! compared as multisets, or by length when LIMIT picks a part; the stream never STOREs them.
//! With events on, a set or sorted set is never sorted through a BY pattern, whose lookups
//! (and `keymiss` events) follow that same order. Lists are compared exactly, ties and
//! Redis's partial quicksort (BY with LIMIT) included.

mod common;

use common::diff::{assert_same, dump, words, Pair};
use common::{Reply, Server};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Seed used when `DIFFTEST_SEED` is not set.
const DEFAULT_SEED: u64 = 0x5027_5027;
/// Commands per run when `DIFFTEST_N` is not set.
const DEFAULT_N: usize = 3_000;
/// Commands shown before a mismatch.
const HISTORY_MAX: usize = 12;

const LISTS: &[&str] = &["l1", "l2"];
const SETS: &[&str] = &["s1", "s2"];
const ZSETS: &[&str] = &["z1", "z2"];
/// Elements: numbers (some equal as numbers, different as text), words, and odd texts.
const ELEMS: &[&str] = &[
    "1", "2", "3", "10", "-4", "2.5", "0", "007", "1e3", " 8", "0x1f", "a", "b", "B", "ab", "",
    "inf", "-inf", "x y",
];
/// Numeric-only elements (sets of these stay intsets).
const INTS: &[&str] = &["1", "2", "3", "10", "-4", "0", "99", "12345", "-70000"];
const WEIGHTS: &[&str] = &[
    "1", "2", "2", "-3", "4.5", "0", "100", "abc", "", " 7", "1e2",
];

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Exact,
    /// Same multiset of replies (the order is Redis's hash-table order).
    Multiset,
    /// Same reply kind and length (LIMIT picked a part of an unordered result).
    Length,
}

struct Gen {
    rng: StdRng,
    events: bool,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs.choose(&mut self.rng).copied().unwrap_or("")
    }

    fn elem(&mut self) -> &'static str {
        self.pick(ELEMS)
    }

    /// A write that changes what SORT sees.
    fn write(&mut self) -> Vec<Vec<u8>> {
        let r = self.rng.gen_range(0..100);
        let mut c = Vec::new();
        match r {
            0..=19 => {
                c.push(b(if self.rng.gen_bool(0.5) {
                    "RPUSH"
                } else {
                    "LPUSH"
                }));
                c.push(b(self.pick(LISTS)));
                for _ in 0..self.rng.gen_range(1..5) {
                    let e = if self.rng.gen_bool(0.3) {
                        self.pick(INTS)
                    } else {
                        self.elem()
                    };
                    c.push(b(e));
                }
            }
            20..=34 => {
                c.push(b("SADD"));
                let k = self.pick(SETS);
                c.push(b(k));
                for _ in 0..self.rng.gen_range(1..5) {
                    // s1 stays an intset unless something else is added on purpose.
                    let e = if k == "s1" && self.rng.gen_ratio(19, 20) {
                        self.pick(INTS)
                    } else {
                        self.elem()
                    };
                    c.push(b(e));
                }
            }
            35..=49 => {
                c.push(b("ZADD"));
                c.push(b(self.pick(ZSETS)));
                for _ in 0..self.rng.gen_range(1..4) {
                    c.push(b(&self.rng.gen_range(-3..4).to_string()));
                    c.push(b(self.elem()));
                }
            }
            50..=69 => {
                c.push(b("SET"));
                c.push(format!("w_{}", self.elem()).into_bytes());
                c.push(b(self.pick(WEIGHTS)));
            }
            70..=84 => {
                c.push(b("HSET"));
                c.push(format!("h_{}", self.elem()).into_bytes());
                c.push(b(if self.rng.gen_bool(0.5) { "f" } else { "g" }));
                c.push(b(self.pick(WEIGHTS)));
            }
            85..=89 => {
                c.push(b("DEL"));
                let k = match self.rng.gen_range(0..4) {
                    0 => self.pick(LISTS).to_string(),
                    1 => self.pick(SETS).to_string(),
                    2 => format!("w_{}", self.elem()),
                    _ => "dst".to_string(),
                };
                c.push(k.into_bytes());
            }
            90..=94 => {
                // A weight key of the wrong type, or a hash where a string is expected.
                c.push(b("RPUSH"));
                c.push(format!("w_{}", self.elem()).into_bytes());
                c.push(b("1"));
            }
            _ => {
                c.push(b("LRANGE"));
                c.push(b("dst"));
                c.push(b("0"));
                c.push(b("-1"));
            }
        }
        c
    }

    /// A SORT or SORT_RO line and how to compare its reply.
    fn sort(&mut self) -> (Vec<Vec<u8>>, Check) {
        let ro = self.rng.gen_ratio(1, 3);
        let kind = self.rng.gen_range(0..10);
        let (key, is_set, is_zset) = match kind {
            0..=3 => (self.pick(LISTS), false, false),
            4..=6 => (self.pick(SETS), true, false),
            7..=8 => (self.pick(ZSETS), false, true),
            _ => (
                if self.rng.gen_bool(0.5) {
                    "missing"
                } else {
                    "str"
                },
                false,
                false,
            ),
        };
        let mut c = vec![b(if ro { "SORT_RO" } else { "SORT" }), b(key)];
        let mut alpha = false;
        let mut by_star = false;
        let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
        if self.rng.gen_ratio(1, 2) {
            alpha = true;
            opts.push(vec![b("ALPHA")]);
        }
        if self.rng.gen_ratio(1, 3) {
            opts.push(vec![b(if self.rng.gen_bool(0.5) {
                "DESC"
            } else {
                "ASC"
            })]);
        }
        if self.rng.gen_ratio(2, 5) {
            let p = match self.rng.gen_range(0..5) {
                0 => "nosort",
                1 => "h_*->f",
                2 => "h_*->g",
                _ => "w_*",
            };
            let star = p.contains('*');
            // With events on, a set is never read in its own order and a sorted set never
            // sorted by a pattern (see the module doc).
            if !(self.events && (is_set || (is_zset && star))) {
                by_star = star;
                opts.push(vec![b("BY"), b(p)]);
            }
        }
        let partial = alpha && by_star;
        if self.rng.gen_ratio(1, 3) {
            let off = self.rng.gen_range(-2..8).to_string();
            let cnt = self.rng.gen_range(-2..8).to_string();
            opts.push(vec![b("LIMIT"), b(&off), b(&cnt)]);
        }
        for _ in 0..self.rng.gen_range(0..3) {
            let p = self.pick(&["#", "w_*", "h_*->f", "h_*->g", "nokey", "h_*->"]);
            opts.push(vec![b("GET"), b(p)]);
        }
        if self.rng.gen_ratio(1, 4) && (ro || !(partial && (is_set || is_zset))) {
            opts.push(vec![b("STORE"), b("dst")]);
        }
        if self.rng.gen_ratio(1, 40) {
            opts.push(vec![b(self.pick(&["LIMIT", "BY", "GET", "STORE", "junk"]))]);
        }
        opts.shuffle(&mut self.rng);
        for o in opts {
            c.extend(o);
        }
        let (check, stored) = classify(&c, is_set, is_zset);
        if stored && check != Check::Exact {
            // An unordered result would be stored: draw another line.
            return self.sort();
        }
        (c, check)
    }
}

/// How to compare a SORT line's reply, from its options read as Redis reads them (a junk
/// word may have become a pattern): unordered results are a hash-table set read by nothing
/// (unless stored, which sorts it), and ALPHA by a pattern on a set or sorted set, or with
/// LIMIT (see the module doc).
fn classify(args: &[Vec<u8>], is_set: bool, is_zset: bool) -> (Check, bool) {
    let ro = args[0].eq_ignore_ascii_case(b"SORT_RO");
    let (mut alpha, mut by_star, mut nosort, mut limit, mut store) =
        (false, false, false, false, false);
    let mut j = 2;
    while j < args.len() {
        let a = String::from_utf8_lossy(&args[j]).to_ascii_lowercase();
        let left = args.len() - j - 1;
        match a.as_str() {
            "alpha" => alpha = true,
            "limit" if left >= 2 => {
                limit = true;
                j += 2;
            }
            "store" if left >= 1 && !ro => {
                store = true;
                j += 1;
            }
            "by" if left >= 1 => {
                let star = args[j + 1].contains(&b'*');
                nosort |= !star;
                by_star = star;
                j += 1;
            }
            "get" if left >= 1 => j += 1,
            _ => {}
        }
        j += 1;
    }
    let set_unordered = is_set && nosort && !store;
    let ties_unordered = alpha && by_star && !nosort && (is_set || is_zset);
    let check = if !(set_unordered || ties_unordered) {
        Check::Exact
    } else if limit {
        Check::Length
    } else {
        Check::Multiset
    };
    (check, store)
}

fn flat(r: &Reply) -> Option<Vec<Reply>> {
    match r {
        Reply::Array(Some(v)) | Reply::Set(v) => Some(v.clone()),
        _ => None,
    }
}

fn same(check: Check, ours: &Reply, redis: &Reply) -> bool {
    match check {
        Check::Exact => ours == redis,
        Check::Multiset | Check::Length => match (flat(ours), flat(redis)) {
            (Some(mut o), Some(mut r)) => {
                if check == Check::Length {
                    return o.len() == r.len();
                }
                let key = |x: &Reply| format!("{x:?}");
                o.sort_by_key(key);
                r.sort_by_key(key);
                o == r
            }
            _ => ours == redis,
        },
    }
}

fn setup(pair: &mut Pair) {
    for line in [
        "RPUSH l1 3 1 2 10 -4 2.5",
        "RPUSH l2 a b B ab",
        "SADD s1 1 2 3 10 -4",
        "SADD s2 a b 3 x",
        "ZADD z1 1 a 2 b 0 c 1 10",
        "ZADD z2 0 3 0 1 0 2",
        "SET w_1 5",
        "SET w_2 1",
        "SET w_a 2",
        "HSET h_1 f 3 g x",
        "HSET h_a f 1",
        "SET str hello",
    ] {
        pair.both(false, &words(line), "setup");
    }
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!("sort: seed {seed}, {n} commands, events {events:?}");
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        events: events.is_some(),
    };
    let mut pair = Pair::start("sort", seed, HISTORY_MAX);
    setup(&mut pair);
    if let Some(classes) = events {
        pair.watch_events(classes);
    }
    let mut resp3 = false;
    for _ in 0..n {
        let (args, check) = if g.rng.gen_ratio(1, 2) {
            g.sort()
        } else {
            (g.write(), Check::Exact)
        };
        let ours = pair.ours.cmd(resp3, &args);
        let redis = pair.redis.cmd(resp3, &args);
        if !same(check, &ours, &redis) {
            pair.fail(&format!("{check:?}"), resp3, &args, &ours, &redis);
        }
        pair.history.push(resp3, &args, ours, redis);
        pair.check_events();
        if g.rng.gen_ratio(1, 5) {
            resp3 = !resp3;
        }
    }
    assert_same(
        &dump(pair.ours.server.port),
        &dump(pair.redis.server.port),
        "final datasets",
    );
    for (name, c) in &pair.history.stats {
        eprintln!("  {name:<8} {:>6} ({} errors)", c.sent, c.errors);
    }
    for name in ["SORT", "SORT_RO"] {
        assert!(
            pair.history
                .stats
                .get(name)
                .is_some_and(|c| c.errors > 0 && c.sent > c.errors),
            "the stream never sent {name} with both outcomes"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written cases, compared with Redis line by line

/// Runs each line on both servers (RESP2 and RESP3) and compares the replies exactly.
fn compare_lines(lines: &[&[&str]]) {
    let mut pair = Pair::start("sort cases", 0, HISTORY_MAX);
    for resp3 in [false, true] {
        pair.both(resp3, &words("FLUSHALL"), "flush");
        for line in lines {
            let args: Vec<Vec<u8>> = line.iter().map(|a| b(a)).collect();
            pair.both(resp3, &args, "case");
        }
    }
}

#[test]
fn rules_match_redis() {
    compare_lines(&[
        &["RPUSH", "l", "3", "1", "2", "10", "2"],
        &["SORT", "l"],
        &["SORT", "l", "DESC"],
        &["SORT", "l", "ALPHA"],
        &["SORT", "l", "ALPHA", "DESC", "LIMIT", "1", "2"],
        &["SORT", "l", "LIMIT", "1", "9223372036854775807"],
        &["SORT", "l", "LIMIT", "-5", "2"],
        &["SORT", "l", "LIMIT", "5", "2"],
        &[
            "SORT",
            "l",
            "LIMIT",
            "9223372036854775807",
            "9223372036854775807",
        ],
        &["SORT", "l", "LIMIT", "0", "-5"],
        &["SORT", "l", "LIMIT", "x", "1"],
        &["SORT", "l", "LIMIT", "1"],
        &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
        &["SORT", "l", "BY"],
        &["SORT", "l", "GET"],
        &["SORT", "l", "STORE"],
        &["SORT", "l", "bogus"],
        &["SORT_RO", "l", "STORE", "d"],
        &["SORT", "missing"],
        &["SORT", "missing", "STORE", "d"],
        &["SET", "s", "x"],
        &["SORT", "s"],
        &["SORT", "s", "junk"],
        &["HSET", "h", "f", "v"],
        &["SORT", "h"],
        // Weights: strings, hash fields, missing keys, keys of other types.
        &["SET", "w_1", "30"],
        &["SET", "w_2", "20"],
        &["SET", "w_3", "abc"],
        &["HSET", "h_1", "f", "2"],
        &["HSET", "h_2", "f", "1"],
        &["RPUSH", "w_10", "x"],
        &["SORT", "l", "BY", "w_*"],
        &["SORT", "l", "BY", "w_*", "ALPHA"],
        &[
            "SORT", "l", "BY", "h_*->f", "GET", "#", "GET", "h_*->f", "GET", "w_*",
        ],
        &["SORT", "l", "BY", "h_*->f", "ALPHA", "DESC", "GET", "h_*->"],
        &[
            "SORT",
            "l",
            "BY",
            "h_*->",
            "GET",
            "nokey",
            "GET",
            "h_*->f->g",
        ],
        &[
            "SORT", "l", "BY", "w_*", "LIMIT", "0", "2", "GET", "#", "STORE", "d",
        ],
        &["LRANGE", "d", "0", "-1"],
        &["SORT", "l", "GET", "w_*", "STORE", "d"],
        &["LRANGE", "d", "0", "-1"],
        // Numbers as strtod reads them; errors.
        &[
            "RPUSH",
            "n",
            "",
            " 2",
            "0x10",
            "+5",
            ".5",
            "5.",
            "inf",
            "-infinity",
        ],
        &["SORT", "n"],
        &["RPUSH", "bad", "1", "2 "],
        &["SORT", "bad"],
        &["SORT", "bad", "STORE", "d"],
        &["LRANGE", "d", "0", "-1"],
        &["SORT", "bad", "ALPHA"],
        &["SORT", "bad", "BY", "nosort"],
        &["RPUSH", "nan", "nan"],
        &["SORT", "nan"],
        // Sorted sets: their own order without sorting, and converted to a skiplist.
        &["ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "bb"],
        &["SORT", "z", "BY", "nosort"],
        &["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
        &["SORT_RO", "z", "ALPHA"],
        &["OBJECT", "ENCODING", "z"],
        // Intsets read in order; a stored nosort set is sorted ALPHA.
        &["SADD", "is", "3", "1", "20", "-2"],
        &["SORT", "is", "BY", "nosort"],
        &["SORT", "is", "BY", "nosort", "STORE", "d"],
        &["LRANGE", "d", "0", "-1"],
        &["SADD", "hs", "b", "a", "c", "10", "9"],
        &["SORT", "hs", "BY", "nosort", "STORE", "d"],
        &["LRANGE", "d", "0", "-1"],
        &["SORT", "hs", "ALPHA"],
        // STORE replaces any type and drops the TTL; an empty result deletes.
        &["SET", "d", "x", "EX", "100"],
        &["SORT", "l", "STORE", "d"],
        &["TTL", "d"],
        &["TYPE", "d"],
        &["SORT", "l", "LIMIT", "10", "5", "STORE", "d"],
        &["EXISTS", "d"],
        // The last STORE wins.
        &["SORT", "l", "STORE", "d1", "STORE", "d2"],
        &["EXISTS", "d1", "d2"],
        // Key specs and GETKEYS.
        &[
            "COMMAND", "GETKEYS", "SORT", "l", "STORE", "d", "BY", "x", "GET", "STORE",
        ],
        &[
            "COMMAND", "GETKEYS", "SORT", "l", "LIMIT", "0", "1", "STORE", "d",
        ],
        &["COMMAND", "GETKEYS", "SORT_RO", "l", "BY", "w_*"],
    ]);
}

#[test]
fn alpha_ties_and_missing_weights_keep_list_order() {
    // Equal ALPHA weights keep the list's order (glibc's qsort is a stable merge sort for
    // arrays this size), missing weights first; numeric ties are broken by the elements.
    compare_lines(&[
        &["RPUSH", "l", "c", "a", "d", "b", "e"],
        &["SET", "w_c", "x"],
        &["SET", "w_a", "x"],
        &["SET", "w_b", "a"],
        &["SORT", "l", "BY", "w_*", "ALPHA"],
        &["SORT", "l", "BY", "w_*", "ALPHA", "DESC"],
        &["SORT", "l", "BY", "w_*"],
        &["SORT", "l", "BY", "w_*", "DESC"],
        &["SORT", "l", "BY", "w_*", "ALPHA", "STORE", "d"],
        &["LRANGE", "d", "0", "-1"],
    ]);
}

#[test]
fn events_and_lookup_counts_match_redis() {
    let mut pair = Pair::start("sort events", 0, HISTORY_MAX);
    pair.watch_events("KEA");
    for line in [
        "RPUSH l 2 1 3",
        "SET w_1 1",
        "SORT l BY w_* GET nokey_* STORE d",
        "SORT l STORE d",
        "SORT l LIMIT 5 5 STORE d",
        "SORT l LIMIT 5 5 STORE d",
        "SORT_RO l BY w_* GET # GET h_*->f",
        "SORT missing",
        "INFO keyspace",
    ] {
        pair.both(false, &words(line), "events");
        pair.check_events();
    }
    let hits = |p: &mut Pair, side: bool| {
        let c = if side {
            p.ours.conn(false)
        } else {
            p.redis.conn(false)
        };
        (
            c.info_int("stats", "keyspace_hits"),
            c.info_int("stats", "keyspace_misses"),
        )
    };
    assert_eq!(
        hits(&mut pair, true),
        hits(&mut pair, false),
        "hits and misses"
    );
}

#[test]
fn sort_in_a_script_sorts_a_set_by_nothing() {
    // Inside a script a set sorted by nothing is sorted ALPHA, as with STORE.
    let mut pair = Pair::start("sort script", 0, HISTORY_MAX);
    pair.both(false, &words("SADD s b a c 10 9 x y z"), "setup");
    pair.both(
        false,
        &[
            b("EVAL"),
            b("return redis.call('sort',KEYS[1],'by','nosort')"),
            b("1"),
            b("s"),
        ],
        "script by nosort",
    );
    pair.both(
        false,
        &[
            b("EVAL"),
            b("return redis.call('sort',KEYS[1],'by','w_*','get','#')"),
            b("1"),
            b("s"),
        ],
        "script with BY",
    );
}

#[test]
fn store_is_journaled_as_given() {
    let dir = std::env::temp_dir().join(format!("ringkv-sort-aof-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let d = dir.to_str().expect("utf-8 path");
    let srv = Server::start(&["--appendonly", "yes", "--dir", d]);
    let mut c = srv.raw();
    for line in [
        "RPUSH l 2 1 3",
        "SORT l STORE d",
        "SORT l",
        "SORT_RO l",
        "SORT missing STORE nothing",
        "SORT l LIMIT 9 9 STORE d",
    ] {
        assert!(
            !c.cmd_str(&line.split(' ').collect::<Vec<_>>()).is_error(),
            "{line}"
        );
    }
    let incr = std::fs::read_dir(dir.join("appendonlydir"))
        .expect("aof dir")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".incr.aof"))
        .expect("incr file");
    let text = String::from_utf8_lossy(&std::fs::read(incr.path()).expect("read")).into_owned();
    let cmds: Vec<&str> = text
        .split("\r\n")
        .filter(|l| !l.starts_with(['*', '$']) && !l.is_empty())
        .collect();
    let joined = cmds.join(" ");
    assert!(joined.contains("SORT l STORE d"), "{joined}");
    assert!(joined.contains("SORT l LIMIT 9 9 STORE d"), "{joined}");
    assert!(!joined.contains("SORT_RO"), "{joined}");
    assert!(!joined.contains("nothing"), "{joined}");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}
