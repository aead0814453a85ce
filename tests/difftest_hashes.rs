//! Differential test of the hash commands: the same commands go to ringkv ("ours") and to a
//! real redis-server ("redis"), over a RESP2 and a RESP3 connection each, and the replies must
//! agree.
//!
//! Usage:
//!   cargo test --test difftest_hashes                       default seed, DEFAULT_N commands
//!   DIFFTEST_SEED=7 DIFFTEST_N=50000 cargo test --test difftest_hashes random_stream
//!   RINGKV_BIN=$(command -v redis-server) cargo test --test difftest_hashes   checks the harness
//!
//! The random stream uses a few hash keys with small encoding thresholds (changed now and
//! then with CONFIG SET), so hashes grow past hash-max-listpack-entries/-value into hashtables
//! and drain to empty; some string keys give WRONGTYPE; invalid arguments give error texts.
//! Each command goes to the RESP2 or the RESP3 connection at random (the same on both sides).
//!
//! Comparison: exact, except where Redis's reply is not a function of the command sequence:
//! - HGETALL/HKEYS/HVALS of a hashtable-encoded hash (as redis reports it after the command):
//!   compared after sorting (pairs stay together); of a listpack hash, exactly (order is
//!   insertion order on both sides).
//! - HSCAN of a hashtable-encoded hash: iterated to completion from cursor 0 with the same
//!   options on each side and the (field, value) sets compared. A listpack hash answers in one
//!   page, compared exactly.
//! - HRANDFIELD: the reply shapes must agree (types, lengths, nesting), every returned field
//!   (and value) must belong to that server's hash, and a positive count returns distinct
//!   fields. Errors, nil and empty replies are compared exactly.
//!
//! Every STATE_CHECK_EVERY commands, and at the end, every key's TYPE, OBJECT ENCODING, HLEN
//! and contents are compared. A mismatch prints the seed, the index, the command, both replies
//! and the commands before it.

mod common;

use common::diff::{name_of, scan_to_end, words, Pair, Side};
use common::{Reply, Server};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeSet, HashMap, HashSet};

const DEFAULT_SEED: u64 = 0x6861_7368_6573;
/// Commands per run when `DIFFTEST_N` is not set.
const DEFAULT_N: usize = 6_000;
/// Commands shown before a mismatch (`DIFFTEST_HISTORY` overrides).
const HISTORY_MAX: usize = 14;
const STATE_CHECK_EVERY: usize = 500;
/// Upper bound on HSCAN calls for one full iteration.
const SCAN_CALLS_MAX: usize = 100_000;

// ---------------------------------------------------------------------------------------------
// The two servers.

/// A completed HSCAN iteration: the (field, value) pairs, or the reply that ended it.
type ScanResult = Result<BTreeSet<(Vec<u8>, Vec<u8>)>, Reply>;

impl Side {
    /// OBJECT ENCODING of a key, as text ("" if missing).
    fn encoding(&mut self, key: &[u8]) -> String {
        match self.conn(false).cmd(&[b"OBJECT", b"ENCODING", key]) {
            Reply::Bulk(Some(e)) => String::from_utf8_lossy(&e).into_owned(),
            _ => String::new(),
        }
    }

    /// The hash at `key` as a map (empty if missing or not a hash).
    fn hash_map(&mut self, key: &[u8]) -> HashMap<Vec<u8>, Vec<u8>> {
        let mut m = HashMap::new();
        if let Reply::Array(Some(items)) = self.conn(false).cmd(&[b"HGETALL", key]) {
            for pair in items.chunks(2) {
                if let [Reply::Bulk(Some(f)), Reply::Bulk(Some(v))] = pair {
                    m.insert(f.clone(), v.clone());
                }
            }
        }
        m
    }

    /// Runs HSCAN to completion from cursor 0 with the options in `args`; the (field, value)
    /// pairs seen, or the first reply that is not a well-formed page.
    fn full_scan(&mut self, resp3: bool, args: &[Vec<u8>]) -> ScanResult {
        let mut args = args.to_vec();
        args[2] = b"0".to_vec();
        let mut seen = BTreeSet::new();
        let take = |items: &[Reply]| {
            items.len().is_multiple_of(2)
                && items.chunks(2).all(|pair| match pair {
                    [Reply::Bulk(Some(f)), Reply::Bulk(Some(v))] => {
                        seen.insert((f.clone(), v.clone()));
                        true
                    }
                    _ => false,
                })
        };
        scan_to_end(self.conn(resp3), &args, 2, SCAN_CALLS_MAX, take).end?;
        Ok(seen)
    }
}

/// The servers and what was compared on them; the comparisons are this file's `impl`.
type Diff = Pair;

/// A reply with its bulk contents erased: what two random answers must share.
fn shape(r: &Reply) -> Reply {
    match r {
        Reply::Bulk(Some(_)) => Reply::Bulk(Some(Vec::new())),
        Reply::Array(Some(items)) => Reply::Array(Some(items.iter().map(shape).collect())),
        other => other.clone(),
    }
}

/// HGETALL/HKEYS/HVALS replies in a canonical order (pairs kept together).
fn sorted_listing(r: &Reply, pairs: bool) -> Reply {
    match r {
        Reply::Array(Some(items)) if pairs => {
            let mut chunks: Vec<Vec<Reply>> = items.chunks(2).map(<[Reply]>::to_vec).collect();
            chunks.sort_by_key(|c| format!("{c:?}"));
            Reply::Array(Some(chunks.into_iter().flatten().collect()))
        }
        Reply::Array(Some(items)) => {
            let mut items = items.clone();
            items.sort_by_key(|i| format!("{i:?}"));
            Reply::Array(Some(items))
        }
        Reply::Map(kv) => {
            let mut kv = kv.clone();
            kv.sort_by_key(|(k, v)| format!("{k:?}{v:?}"));
            Reply::Map(kv)
        }
        other => other.clone(),
    }
}

impl Diff {
    /// Sends one command to both sides and compares the replies as the module doc says.
    fn run(&mut self, resp3: bool, args: &[Vec<u8>]) {
        let ours = self.ours.cmd(resp3, args);
        let redis = self.redis.cmd(resp3, args);
        let name = name_of(args);
        let exact_needed = ours.is_error() || redis.is_error();
        match name.as_str() {
            "HGETALL" | "HKEYS" | "HVALS" if !exact_needed => {
                let enc = self.redis.encoding(&args[1]);
                let (o, r) = if enc == "hashtable" {
                    let pairs = name == "HGETALL";
                    (sorted_listing(&ours, pairs), sorted_listing(&redis, pairs))
                } else {
                    (ours.clone(), redis.clone())
                };
                if o != r {
                    self.fail(&format!("{name} ({enc})"), resp3, args, &ours, &redis);
                }
            }
            "HSCAN" if !exact_needed => {
                let enc = self.redis.encoding(&args[1]);
                if enc == "hashtable" {
                    let o = self.ours.full_scan(resp3, args);
                    let r = self.redis.full_scan(resp3, args);
                    if o != r {
                        let show = |x: &ScanResult| match x {
                            Ok(s) => Reply::Array(Some(
                                s.iter()
                                    .flat_map(|(f, v)| [Reply::bulk(f), Reply::bulk(v)])
                                    .collect(),
                            )),
                            Err(e) => e.clone(),
                        };
                        self.fail("HSCAN to completion", resp3, args, &show(&o), &show(&r));
                    }
                } else if ours != redis {
                    self.fail("HSCAN (listpack)", resp3, args, &ours, &redis);
                }
            }
            "HRANDFIELD" => self.check_hrandfield(resp3, args, &ours, &redis),
            _ => {
                if ours != redis {
                    self.fail("exact", resp3, args, &ours, &redis);
                }
            }
        }
        self.history.push(resp3, args, ours, redis);
    }

    fn check_hrandfield(&mut self, resp3: bool, args: &[Vec<u8>], ours: &Reply, redis: &Reply) {
        let deterministic = |r: &Reply| {
            matches!(r, Reply::Error(_) | Reply::Null | Reply::Bulk(None))
                || matches!(r, Reply::Array(Some(items)) if items.is_empty())
        };
        if deterministic(ours) || deterministic(redis) {
            if ours != redis {
                self.fail("HRANDFIELD (exact)", resp3, args, ours, redis);
            }
            return;
        }
        let count: Option<i64> = args
            .get(2)
            .and_then(|c| std::str::from_utf8(c).ok()?.parse().ok());
        let with_values = args.len() == 4;
        // A positive count at least the size answers the whole hash: the shapes then agree
        // exactly; otherwise they agree because the lengths are the same function of the count.
        if shape(ours) != shape(redis) {
            self.fail("HRANDFIELD shape", resp3, args, ours, redis);
        }
        for (side_name, reply) in [("ours", ours), ("redis", redis)] {
            let side = if side_name == "ours" {
                &mut self.ours
            } else {
                &mut self.redis
            };
            let map = side.hash_map(&args[1]);
            let mut picked: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
            let bad = match reply {
                Reply::Bulk(Some(f)) if count.is_none() => {
                    picked.push((f.clone(), None));
                    false
                }
                Reply::Array(Some(items)) if count.is_some() => {
                    let mut bad = false;
                    if with_values && resp3 {
                        for it in items {
                            match it {
                                Reply::Array(Some(p)) => match p.as_slice() {
                                    [Reply::Bulk(Some(f)), Reply::Bulk(Some(v))] => {
                                        picked.push((f.clone(), Some(v.clone())))
                                    }
                                    _ => bad = true,
                                },
                                _ => bad = true,
                            }
                        }
                    } else if with_values {
                        for p in items.chunks(2) {
                            match p {
                                [Reply::Bulk(Some(f)), Reply::Bulk(Some(v))] => {
                                    picked.push((f.clone(), Some(v.clone())))
                                }
                                _ => bad = true,
                            }
                        }
                    } else {
                        for it in items {
                            match it {
                                Reply::Bulk(Some(f)) => picked.push((f.clone(), None)),
                                _ => bad = true,
                            }
                        }
                    }
                    bad
                }
                _ => true,
            };
            let mut distinct = HashSet::new();
            let mut problem = None;
            for (f, v) in &picked {
                match map.get(f) {
                    None => problem = Some(format!("field {f:?} not in the hash")),
                    Some(stored) if v.as_ref().is_some_and(|v| v != stored) => {
                        problem = Some(format!("field {f:?} with a wrong value"))
                    }
                    _ => {}
                }
                if count.is_some_and(|c| c > 0) && !distinct.insert(f.clone()) {
                    problem = Some(format!("field {f:?} repeated for a positive count"));
                }
            }
            if let Some(c) = count.filter(|&c| c > 0) {
                let want = (c as usize).min(map.len());
                if picked.len() != want {
                    problem = Some(format!("{} fields for count {c}", picked.len()));
                }
            }
            if bad {
                problem = Some("malformed reply".into());
            }
            if let Some(p) = problem {
                self.fail(
                    &format!("HRANDFIELD membership on {side_name}: {p}"),
                    resp3,
                    args,
                    ours,
                    redis,
                );
            }
        }
    }

    /// Compares DBSIZE and every key's type, encoding, length and contents.
    fn check_state(&mut self, keys: &[Vec<u8>]) {
        self.both(false, &[b"DBSIZE".to_vec()], "state check");
        for k in keys {
            for what in ["TYPE", "ENCODING", "HLEN"] {
                let args = match what {
                    "ENCODING" => vec![b"OBJECT".to_vec(), b"ENCODING".to_vec(), k.clone()],
                    w => vec![w.as_bytes().to_vec(), k.clone()],
                };
                self.both(false, &args, "state check");
            }
            let (om, rm) = (self.ours.hash_map(k), self.redis.hash_map(k));
            if om != rm {
                let args = vec![b"HGETALL".to_vec(), k.clone()];
                let (o, r) = (self.ours.cmd(false, &args), self.redis.cmd(false, &args));
                self.fail("state check: contents", false, &args, &o, &r);
            }
            if self.redis.encoding(k) == "listpack" {
                // Listpack order must agree too.
                let args = vec![b"HKEYS".to_vec(), k.clone()];
                self.both(false, &args, "state check: listpack order");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The random command generator.

/// Hash keys, string keys (WRONGTYPE) and a key that is usually missing.
fn key_space() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..4).map(|i| format!("h{i}").into_bytes()).collect();
    keys.push(b"h\x00bin".to_vec());
    keys.push(b"s0".to_vec());
    keys.push(b"s1".to_vec());
    keys.push(b"missing".to_vec());
    keys
}

const INT_ARGS: &[&str] = &[
    "0",
    "1",
    "-1",
    "7",
    "-100",
    "12345",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "9223372036854775808",
    "abc",
    "1.5",
    "",
    " 1",
    "+5",
    "007",
];

const FLOAT_ARGS: &[&str] = &[
    "0", "1", "-1", "0.1", "1.5", "-0.25", "3e2", "1e-3", "10.50", "1000.1", "0x10", "5.0e3",
    "-1e30", "1e4930", "1.2e4932", "abc", "", " 1", "inf", "-inf", "nan", "1.5x", ".5", "+4",
];

const VALUES: &[&str] = &[
    "0",
    "1",
    "-5",
    "42",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "1.5",
    "3e2",
    "007",
    "",
    "hello",
    "a\u{0}b",
    "0.1",
    "inf",
];

const PATTERNS: &[&str] = &["*", "f1*", "f?", "*x*", "[a-f]*", "", "f\\*", "*0"];

struct Gen {
    rng: StdRng,
    keys: Vec<Vec<u8>>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            rng: StdRng::seed_from_u64(seed),
            keys: key_space(),
        }
    }

    fn key(&mut self) -> Vec<u8> {
        // Mostly the hash keys, sometimes strings or the missing key.
        if self.rng.gen_bool(0.85) {
            self.keys[self.rng.gen_range(0..5)].clone()
        } else {
            self.keys.choose(&mut self.rng).cloned().unwrap_or_default()
        }
    }

    fn field(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..40) {
            0 => Vec::new(),
            1 => b"\x00\xff\r\n".to_vec(),
            2 => vec![b'F'; self.rng.gen_range(10..80)],
            3 => b"f*".to_vec(),
            _ => format!("f{}", self.rng.gen_range(0..48)).into_bytes(),
        }
    }

    fn value(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..12) {
            0 => vec![b'v'; self.rng.gen_range(10..100)],
            1..=4 => VALUES.choose(&mut self.rng).unwrap().as_bytes().to_vec(),
            _ => format!("v{}", self.rng.gen_range(0..1000)).into_bytes(),
        }
    }

    fn pick(&mut self, list: &[&str]) -> Vec<u8> {
        list.choose(&mut self.rng).unwrap().as_bytes().to_vec()
    }

    /// The next command (name first).
    fn step(&mut self) -> Vec<Vec<u8>> {
        let k = self.key();
        let n = |s: &str| s.as_bytes().to_vec();
        match self.rng.gen_range(0..100) {
            0..=21 => {
                // HSET / HMSET with 1-6 pairs, sometimes an odd argument count.
                let name = if self.rng.gen_bool(0.8) {
                    "HSET"
                } else {
                    "HMSET"
                };
                let mut a = vec![n(name), k];
                for _ in 0..self.rng.gen_range(1..=6) {
                    a.push(self.field());
                    a.push(self.value());
                }
                if self.rng.gen_bool(0.03) {
                    a.pop();
                }
                a
            }
            22..=26 => vec![n("HSETNX"), k, self.field(), self.value()],
            27..=33 => vec![n("HGET"), k, self.field()],
            34..=37 => {
                let mut a = vec![n("HMGET"), k];
                for _ in 0..self.rng.gen_range(1..=4) {
                    a.push(self.field());
                }
                a
            }
            38..=49 => {
                // HDEL of up to 12 fields, so hashes drain to empty.
                let mut a = vec![n("HDEL"), k];
                for _ in 0..self.rng.gen_range(1..=12) {
                    a.push(self.field());
                }
                a
            }
            50..=52 => vec![n("HLEN"), k],
            53..=55 => vec![n("HSTRLEN"), k, self.field()],
            56..=58 => vec![n("HEXISTS"), k, self.field()],
            59..=60 => vec![n("HKEYS"), k],
            61..=62 => vec![n("HVALS"), k],
            63..=65 => vec![n("HGETALL"), k],
            66..=71 => {
                let incr = if self.rng.gen_bool(0.7) {
                    self.rng.gen_range(-50i64..50).to_string().into_bytes()
                } else {
                    self.pick(INT_ARGS)
                };
                vec![n("HINCRBY"), k, self.field(), incr]
            }
            72..=77 => vec![n("HINCRBYFLOAT"), k, self.field(), self.pick(FLOAT_ARGS)],
            78..=83 => {
                let mut a = vec![n("HRANDFIELD"), k];
                match self.rng.gen_range(0..10) {
                    0..=1 => {}
                    2 => a.push(self.pick(&["abc", "-9223372036854775808", "1.5", ""])),
                    _ => {
                        let c = match self.rng.gen_range(0..8) {
                            0 => self.pick(&[
                                "0",
                                "4611686018427387904",
                                "-4611686018427387904",
                                "4611686018427387903",
                            ]),
                            _ => self.rng.gen_range(-30i64..60).to_string().into_bytes(),
                        };
                        // Huge counts always get a fourth argument, so they end in the
                        // WITHVALUES range error or a syntax error, never in that many picks.
                        let huge = c.len() > 10;
                        a.push(c);
                        if huge || self.rng.gen_bool(0.5) {
                            a.push(self.pick(&["WITHVALUES", "withvalues", "WITHVALUES", "x"]));
                        }
                        if self.rng.gen_bool(0.03) {
                            a.push(n("extra"));
                        }
                    }
                }
                a
            }
            84..=89 => {
                let cursor = match self.rng.gen_range(0..10) {
                    0 => self.pick(&["abc", "-1", "1", "18446744073709551616", " 0"]),
                    _ => n("0"),
                };
                let mut a = vec![n("HSCAN"), k, cursor];
                for _ in 0..self.rng.gen_range(0..=2) {
                    match self.rng.gen_range(0..10) {
                        0..=4 => {
                            a.push(n("MATCH"));
                            a.push(self.pick(PATTERNS));
                        }
                        5..=8 => {
                            a.push(n("COUNT"));
                            a.push(self.pick(&["1", "3", "10", "100", "0", "-1", "abc"]));
                        }
                        _ => a.push(self.pick(&["TYPE", "MATCH", "NOVALUES"])),
                    }
                }
                a
            }
            90..=91 => vec![n("OBJECT"), n("ENCODING"), k],
            92 => vec![n("DEL"), k],
            93 => vec![n("SET"), self.pick(&["s0", "s1"]), self.value()],
            94 => vec![n("TYPE"), k],
            95 => {
                // Arity errors.
                let which = *[
                    "HGET",
                    "HSETNX",
                    "HLEN",
                    "HDEL",
                    "HMGET",
                    "HKEYS",
                    "HINCRBY",
                    "HSCAN",
                    "HRANDFIELD",
                    "HSTRLEN",
                    "HEXISTS",
                    "HSET",
                ]
                .choose(&mut self.rng)
                .unwrap();
                let mut a = vec![n(which)];
                if self.rng.gen_bool(0.5) {
                    a.push(k);
                }
                if which == "HLEN" || which == "HKEYS" {
                    a.push(n("x"));
                    a.push(n("y"));
                }
                a
            }
            96 => {
                let param = self.pick(&["hash-max-listpack-entries", "hash-max-ziplist-entries"]);
                let v = self.pick(&["0", "4", "16", "16", "64", "512"]);
                vec![n("CONFIG"), n("SET"), param, v]
            }
            97 => {
                let param = self.pick(&["hash-max-listpack-value", "hash-max-ziplist-value"]);
                let v = self.pick(&["4", "12", "12", "64"]);
                vec![n("CONFIG"), n("SET"), param, v]
            }
            _ => vec![n("EXISTS"), k],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.

/// Starts both servers with the same small thresholds.
fn start(seed: u64) -> Diff {
    let mut d = Pair::start("difftest_hashes", seed, HISTORY_MAX);
    for args in [
        ["CONFIG", "SET", "hash-max-listpack-entries", "16"],
        ["CONFIG", "SET", "hash-max-listpack-value", "12"],
    ] {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        d.run(false, &args);
    }
    d
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!("difftest_hashes: seed {seed}, {n} commands (DIFFTEST_SEED / DIFFTEST_N), events {events:?}");
    let mut diff = start(seed);
    if let Some(classes) = events {
        diff.watch_events(classes);
    }
    let mut gen = Gen::new(seed);
    let keys = gen.keys.clone();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut saw_hashtable = false;
    let mut saw_empty_after_table = false;
    for i in 0..n {
        let args = gen.step();
        let resp3 = gen.rng.gen_bool(0.4);
        *counts.entry(name_of(&args)).or_default() += 1;
        diff.run(resp3, &args);
        if i % 50 == 49 {
            diff.check_events();
        }
        if (i + 1) % STATE_CHECK_EVERY == 0 {
            diff.check_state(&keys);
        }
        if i % 50 == 0 {
            for k in &keys[..5] {
                let enc = diff.redis.encoding(k);
                if enc == "hashtable" {
                    saw_hashtable = true;
                } else if enc.is_empty() && saw_hashtable {
                    saw_empty_after_table = true;
                }
            }
        }
    }
    diff.check_state(&keys);
    let mut names: Vec<_> = counts.into_iter().collect();
    names.sort();
    eprintln!("difftest_hashes: seed {seed}: {n} commands agreed: {names:?}");
    assert!(
        saw_hashtable,
        "the stream never grew a hash into a hashtable"
    );
    assert!(
        saw_empty_after_table,
        "the stream never drained a hash to empty after a hashtable was seen"
    );
}

/// Hand-written edge cases, each sent on RESP2 and then RESP3 and compared like the stream.
#[test]
fn edge_cases() {
    let mut d = start(0);
    let mut cmds: Vec<Vec<Vec<u8>>> = [
        "FLUSHALL",
        // Arity and odd pair counts.
        "HSET",
        "HSET h",
        "HSET h a",
        "HSET h a 1 b",
        "HMSET h a",
        "HMSET h a 1 b",
        "HSETNX h a",
        "HGET h",
        "HMGET h",
        "HDEL h",
        "HLEN",
        "HLEN h x",
        "HSTRLEN h",
        "HEXISTS h",
        "HKEYS h x",
        "HVALS",
        "HGETALL h x",
        "HINCRBY h a",
        "HINCRBYFLOAT h a",
        "HRANDFIELD",
        "HSCAN h",
        // Missing keys.
        "HGET nokey a",
        "HMGET nokey a b",
        "HLEN nokey",
        "HSTRLEN nokey a",
        "HEXISTS nokey a",
        "HKEYS nokey",
        "HVALS nokey",
        "HGETALL nokey",
        "HDEL nokey a",
        "HRANDFIELD nokey",
        "HRANDFIELD nokey 0",
        "HRANDFIELD nokey 3",
        "HRANDFIELD nokey -3 WITHVALUES",
        "HRANDFIELD nokey abc",
        "HSCAN nokey 0",
        "HSCAN nokey 0 COUNT 0",
        "HSCAN nokey 0 BADOPT",
        "HSCAN nokey abc",
        "EXISTS nokey",
        // Basic writes and order.
        "HSET h b 2 a 1 c 3",
        "HSET h a 10 d 4",
        "HMSET h e 5",
        "HSETNX h a x",
        "HSETNX h f 6",
        "HGETALL h",
        "HKEYS h",
        "HVALS h",
        "HMGET h a zz f",
        "HSTRLEN h a",
        "HEXISTS h f",
        "HDEL h a a zz",
        "HGETALL h",
        "OBJECT ENCODING h",
        // HINCRBY / HINCRBYFLOAT.
        "HINCRBY h n 5",
        "HINCRBY h n -10",
        "HINCRBY h n abc",
        "HINCRBY h n 9223372036854775808",
        "HINCRBY h n 1.5",
        "HINCRBY h b 9223372036854775807",
        "HINCRBY h b 9223372036854775806",
        "HINCRBY h b 1",
        "HSET h m -9223372036854775808",
        "HINCRBY h m -1",
        "HINCRBY h m 0",
        "HSET h s abc",
        "HINCRBY h s 1",
        "HINCRBYFLOAT h s 1",
        "HINCRBYFLOAT h x 10.50",
        "HINCRBYFLOAT h x 0.1",
        "HINCRBYFLOAT h x -5.0e3",
        "HINCRBYFLOAT h y 1000.1",
        "HINCRBYFLOAT h y 0x10",
        "HINCRBYFLOAT h y inf",
        "HINCRBYFLOAT h y -inf",
        "HINCRBYFLOAT h y nan",
        "HINCRBYFLOAT h y abc",
        "HINCRBYFLOAT h z 1e4932",
        "HINCRBYFLOAT h z 1e4932",
        "HINCRBYFLOAT h z -1e4932",
        "HINCRBYFLOAT nokey a inf",
        "EXISTS nokey",
        "HINCRBYFLOAT h c 1",
        "HINCRBY h c 1",
        "HGETALL h",
        // HRANDFIELD arguments.
        "HRANDFIELD h abc",
        "HRANDFIELD h -9223372036854775808",
        "HRANDFIELD h 4611686018427387904 WITHVALUES",
        "HRANDFIELD h -4611686018427387904 WITHVALUES",
        "HRANDFIELD h 1 WITHVALUE",
        "HRANDFIELD h 1 WITHVALUES x",
        "HRANDFIELD h 0",
        "HRANDFIELD h 0 WITHVALUES",
        "HRANDFIELD h 100",
        "HRANDFIELD h 100 WITHVALUES",
        // HSCAN options on a listpack.
        "HSCAN h 0",
        "HSCAN h 12345",
        "HSCAN h -1",
        "HSCAN h 18446744073709551616",
        "HSCAN h 0 MATCH ?",
        "HSCAN h 0 MATCH * COUNT 1",
        "HSCAN h 0 COUNT 0",
        "HSCAN h 0 COUNT -1",
        "HSCAN h 0 COUNT abc",
        "HSCAN h 0 MATCH",
        "HSCAN h 0 TYPE string",
        "HSCAN h 0 NOVALUES",
        "HSCAN h abc",
        // Conversions with the small test thresholds (16 entries, 12 bytes).
        "HSET big f0 0 f1 1 f2 2 f3 3 f4 4 f5 5 f6 6 f7 7 f8 8 f9 9 f10 10 f11 11 f12 12 f13 13 f14 14 f15 15",
        "OBJECT ENCODING big",
        "HSET big f16 16",
        "OBJECT ENCODING big",
        "HDEL big f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12 f13 f14 f15",
        "OBJECT ENCODING big",
        "HLEN big",
        "HDEL big f16",
        "EXISTS big",
        "HSET long f 1234567890123",
        "OBJECT ENCODING long",
        "HSET long2 ffffffffffffff 1",
        "OBJECT ENCODING long2",
        "HSET nx f 1",
        "HSETNX nx f 1234567890123",
        "OBJECT ENCODING nx",
        "HSETNX nx g 1234567890123",
        "OBJECT ENCODING nx",
        "HSET inc f 1",
        "HINCRBY inc f 1234567890123",
        "OBJECT ENCODING inc",
        "HSET incf f 1",
        "HINCRBYFLOAT incf f 0.1234567890123",
        "OBJECT ENCODING incf",
        "HINCRBY incl longfieldname00 1",
        "OBJECT ENCODING incl",
        "HINCRBY bad longfieldname00 x",
        "EXISTS bad",
        "CONFIG SET hash-max-listpack-entries 0",
        "HSET zero a 1",
        "OBJECT ENCODING zero",
        "CONFIG SET hash-max-listpack-entries 16",
        // Wrong types.
        "SET str x",
        "HSET str a 1",
        "HSETNX str a 1",
        "HGET str a",
        "HMGET str a",
        "HDEL str a",
        "HLEN str",
        "HSTRLEN str a",
        "HEXISTS str a",
        "HKEYS str",
        "HVALS str",
        "HGETALL str",
        "HINCRBY str a 1",
        "HINCRBY str a x",
        "HINCRBYFLOAT str a 1",
        "HINCRBYFLOAT str a inf",
        "HRANDFIELD str",
        "HRANDFIELD str 1",
        "HRANDFIELD str x",
        "HSCAN str 0",
        "HSCAN str x",
        "HSCAN str 0 COUNT 0",
        "GET h",
        "TYPE h",
        // Writes keep the TTL; deleting the last field deletes the key and its TTL.
        "HSET e a 1",
        "EXPIRE e 100000",
        "HSET e b 2",
        "HINCRBY e c 1",
        "HINCRBYFLOAT e d 1.5",
        "HDEL e a",
        "PERSIST e",
        "EXPIRE e 100000",
        "HDEL e b c d",
        "EXISTS e",
        "HSET e a 1",
        "PERSIST e",
        // Other keyspace commands on hashes.
        "HSET src a 1 b 2",
        "COPY src dst",
        "HGETALL dst",
        "RENAME dst dst2",
        "HGETALL dst2",
        "OBJECT ENCODING dst2",
        "DEL src dst2",
    ]
    .iter()
    .map(|s| words(s))
    .collect();
    // Binary and empty fields and values.
    cmds.push(vec![
        b"HSET".to_vec(),
        b"bin".to_vec(),
        Vec::new(),
        Vec::new(),
        b"\x00\xff".to_vec(),
        b"\r\n".to_vec(),
    ]);
    cmds.push(vec![b"HGETALL".to_vec(), b"bin".to_vec()]);
    cmds.push(vec![b"HGET".to_vec(), b"bin".to_vec(), Vec::new()]);
    cmds.push(vec![
        b"HSTRLEN".to_vec(),
        b"bin".to_vec(),
        b"\x00\xff".to_vec(),
    ]);
    cmds.push(vec![
        b"HRANDFIELD".to_vec(),
        b"bin".to_vec(),
        b"1".to_vec(),
        b"WITHVALUES\x00junk".to_vec(),
    ]);
    cmds.push(vec![
        b"HSCAN".to_vec(),
        b"bin".to_vec(),
        b"0".to_vec(),
        b"COUNT\x00x".to_vec(),
        b"5".to_vec(),
    ]);
    for resp3 in [false, true] {
        for c in &cmds {
            d.run(resp3, c);
        }
    }
    let keys: Vec<Vec<u8>> = [
        "h", "big", "long", "nx", "inc", "incf", "incl", "zero", "bin",
    ]
    .iter()
    .map(|k| k.as_bytes().to_vec())
    .collect();
    d.check_state(&keys);
}

/// RESP2 bytes of a reply made of the types COMMAND DOCS uses.
fn encode_resp2(r: &Reply, out: &mut Vec<u8>) {
    match r {
        Reply::Status(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
        Reply::Int(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
        Reply::Bulk(Some(b)) => {
            out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        Reply::Array(Some(items)) => {
            out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
            for i in items {
                encode_resp2(i, out);
            }
        }
        other => panic!("unexpected reply in COMMAND DOCS: {other:?}"),
    }
}

/// The argument trees of the hash rows of the command table render, in RESP2, exactly the
/// `arguments` redis-server 7.0 documents for each hash command.
#[test]
fn command_docs_args_match_redis() {
    let redis = Server::start_redis(&[]);
    let mut c = redis.raw();
    let rows = ringkv::cmd::COMMANDS
        .iter()
        .filter(|c| c.group == ringkv::cmd::table::Group::Hash);
    for (name, args) in rows.map(|c| (c.name, c.args)) {
        let Reply::Array(Some(top)) = c.cmd(&[b"COMMAND", b"DOCS", name.as_bytes()]) else {
            panic!("COMMAND DOCS {name}");
        };
        let [_, Reply::Array(Some(doc))] = top.as_slice() else {
            panic!("COMMAND DOCS {name}: {top:?}");
        };
        let want = doc
            .chunks(2)
            .find(|kv| kv[0] == Reply::bulk(b"arguments"))
            .map(|kv| kv[1].clone())
            .unwrap_or_else(|| panic!("no arguments for {name}"));
        let mut want_bytes = Vec::new();
        encode_resp2(&want, &mut want_bytes);
        let mut ours = Vec::new();
        let mut r = ringkv::resp::reply::Reply::new(&mut ours, false);
        ringkv::cmd::docs::write_args(&mut r, args);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&want_bytes),
            "COMMAND DOCS {name} arguments"
        );
    }
}
