//! HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST) end to end, compared with
//! a real redis-server 7.0: replies, the raw value bytes (GET) after every step, keyspace
//! events, INFO hit/miss counts, WATCH and client tracking, and values moved between the two
//! servers by RDB and AOF in both directions.
//!
//! Usage:
//!   cargo test --test hll                                   everything, default seed
//!   DIFFTEST_SEED=7 DIFFTEST_N=20000 cargo test --test hll random_stream
//!
//! The random stream adds elements from pools small and large (so values stay sparse, get
//! promoted past `hll-sparse-max-bytes`, which it also changes, or become dense through a
//! register above 32), merges and counts keys together, reads the bytes back with GET after
//! most steps, and damages values on purpose: crafted corrupt or foreign strings, header bytes
//! rewritten with SETRANGE (encoding, cached cardinality), opcodes appended with APPEND. The
//! damage avoids one case on purpose: a value ending in an XZERO opcode cut after its first
//! byte (see `types::hll`'s module doc for the one difference there).

mod common;

use common::files::{incr_commands, shutdown_and_wait, TempDir};

use common::diff::{assert_same, dump, words, Pair};
use common::{Raw, Reply, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashSet};
use std::process::Command;

/// Seed used when `DIFFTEST_SEED` is not set.
const DEFAULT_SEED: u64 = 0x4879_4c4c;
/// Commands per run when `DIFFTEST_N` is not set.
const DEFAULT_N: usize = 3_000;
/// Commands shown before a mismatch.
const HISTORY_MAX: usize = 12;
/// The HyperLogLog keys of the stream.
const KEYS: &[&str] = &["h1", "h2", "h3", "h4"];

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// A HyperLogLog header: encoding byte and cached cardinality (`stale`: top bit set).
fn header(enc: u8, card: u64, stale: bool) -> Vec<u8> {
    let mut v = b"HYLL".to_vec();
    v.extend_from_slice(&[enc, 0, 0, 0]);
    let mut c = card.to_le_bytes();
    if stale {
        c[7] |= 0x80;
    }
    v.extend_from_slice(&c);
    v
}

/// Strings that PF* commands must refuse or find corrupt, and odd but valid ones, each
/// checked against Redis: the cached cardinality is stale in most, so that counting reads
/// the opcodes.
fn crafted_values() -> Vec<Vec<u8>> {
    let sparse = |body: &[u8], stale: bool| {
        let mut v = header(1, 0, stale);
        v.extend_from_slice(body);
        v
    };
    let mut dense_sat = header(0, 0, true);
    dense_sat.extend(std::iter::repeat_n(0xffu8, 12288));
    let mut dense_odd = b"HYLL\x00\x01\x02\x03".to_vec();
    dense_odd.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x80]);
    dense_odd.extend(std::iter::repeat_n(0x41u8, 12288));
    let mut dense_short = header(0, 0, true);
    dense_short.extend_from_slice(&[0; 100]);
    let mut bad_enc = header(2, 0, true);
    bad_enc.extend_from_slice(b"\x7f\xff");
    let mut odd_unused = b"HYLL\x01\x05\x06\x07".to_vec();
    odd_unused.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0x7f, 0xff]);
    vec![
        sparse(b"\x7f\xff", false),
        sparse(b"\x7f\xff", true),
        // Opcodes past the last register, and short of it.
        sparse(b"\x7f\xff\x00", true),
        sparse(b"\x7f\xff\x40\x00", true),
        sparse(b"\x7f\xff\x80", true),
        sparse(b"\x7f\xfe", true),
        sparse(b"\x7f\xfd\x83", true),
        // A final XZERO cut short reads its second byte as 0: one register.
        sparse(b"\x7f\xfe\x40", true),
        // A VAL holding 32 in the last register; ZERO runs; two XZEROs.
        sparse(b"\x7f\xfe\xfc", true),
        sparse(b"\x3f\x3f\x7f\x7f", true),
        sparse(b"\x5f\xff\x5f\xff", true),
        // Stale and valid caches that lie.
        sparse(b"\x7f\xfe\xfc", false),
        {
            let mut v = header(1, 12345, false);
            v.extend_from_slice(b"\x7f\xff");
            v
        },
        sparse(b"", true),
        bad_enc,
        dense_short,
        dense_sat,
        dense_odd,
        odd_unused,
        b"HYLL".to_vec(),
        b"not a hyperloglog at all".to_vec(),
        b"12345".to_vec(),
    ]
}

// ---------------------------------------------------------------------------------------------
// The random stream

struct Gen {
    rng: StdRng,
    crafted: Vec<Vec<u8>>,
}

impl Gen {
    fn key(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..20) {
            0 => b("str"),
            1 => b("lst"),
            2 => b("gone"),
            3 => b("bad"),
            _ => b(KEYS[self.rng.gen_range(0..KEYS.len())]),
        }
    }

    fn hll_key(&mut self) -> Vec<u8> {
        b(KEYS[self.rng.gen_range(0..KEYS.len())])
    }

    fn element(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..10) {
            // A small pool: repeats leave registers alone.
            0..=5 => format!("e{}", self.rng.gen_range(0..300)).into_bytes(),
            6..=8 => format!("x{}", self.rng.gen::<u32>()).into_bytes(),
            _ => (0..self.rng.gen_range(0..20))
                .map(|_| self.rng.gen::<u8>())
                .collect(),
        }
    }

    fn keys(&mut self, n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|_| self.key()).collect()
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let r = self.rng.gen_range(0..100);
        match r {
            0..=29 => {
                let n = match self.rng.gen_range(0..10) {
                    0 => 0,
                    1 => self.rng.gen_range(100..400),
                    _ => self.rng.gen_range(1..8),
                };
                let mut c = vec![b("PFADD"), self.key()];
                c.extend((0..n).map(|_| self.element()));
                c
            }
            30..=44 => {
                let n = if self.rng.gen_ratio(2, 3) {
                    1
                } else {
                    self.rng.gen_range(2..5)
                };
                let mut c = vec![b("PFCOUNT")];
                c.extend(self.keys(n));
                c
            }
            45..=52 => {
                let n = self.rng.gen_range(0..4);
                let mut c = vec![b("PFMERGE"), self.key()];
                c.extend(self.keys(n));
                c
            }
            53..=72 => vec![b("GET"), self.key()],
            73..=76 => vec![b("OBJECT"), b("ENCODING"), self.key()],
            77..=82 => {
                let sub = [
                    "ENCODING", "DECODE", "TODENSE", "GETREG", "encoding", "bogus",
                ][self.rng.gen_range(0..6)];
                vec![b("PFDEBUG"), b(sub), self.key()]
            }
            83..=84 => {
                let v = self.crafted[self.rng.gen_range(0..self.crafted.len())].clone();
                vec![b("SET"), self.key(), v]
            }
            85..=87 => {
                // Header damage: a lying or stale cache, an unknown or mismatched encoding.
                let (at, byte): (&[u8], &[u8]) = match self.rng.gen_range(0..5) {
                    0 => (b"15", b"\x00"),
                    1 => (b"15", b"\x80"),
                    2 => (b"8", b"\x07"),
                    3 => (b"4", b"\x02"),
                    _ => (b"4", b"\x00"),
                };
                vec![b("SETRANGE"), self.hll_key(), at.to_vec(), byte.to_vec()]
            }
            88..=89 => {
                // Whole opcodes after the last one: ZERO or VAL, never an XZERO start.
                let op = if self.rng.gen() {
                    self.rng.gen_range(0..0x40u8)
                } else {
                    self.rng.gen_range(0x80..=0xffu8)
                };
                vec![b("APPEND"), self.hll_key(), vec![op]]
            }
            // Damaged keys stay damaged until deleted: delete often enough that most
            // commands meet valid values.
            90..=93 => vec![b("DEL"), self.key()],
            94 => {
                let to = self.hll_key();
                vec![b("COPY"), self.hll_key(), to, b("REPLACE")]
            }
            95 => {
                let v = ["3000", "100", "0", "20000", "40", "1kb"][self.rng.gen_range(0..6)];
                vec![b("CONFIG"), b("SET"), b("hll-sparse-max-bytes"), b(v)]
            }
            96 => words("PFADD"),
            97 => words("PFDEBUG GETREG"),
            // An absolute deadline: both servers store the same one.
            98 => vec![b("PEXPIREAT"), self.hll_key(), b("4000000000000")],
            _ => vec![b("PFCOUNT"), self.hll_key()],
        }
    }
}

/// Runs `cmds` on both servers, replies compared exactly, then the events if watched.
fn run(pair: &mut Pair, resp3: bool, cmds: &[Vec<Vec<u8>>]) {
    if !cmds.is_empty() {
        pair.run_exact(resp3, cmds, "exact");
    }
    pair.check_events();
}

fn setup(pair: &mut Pair) {
    run(
        pair,
        false,
        &[
            words("SET str plain"),
            words("RPUSH lst a b"),
            words("SET bad x"),
        ],
    );
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!("hll: seed {seed}, {n} commands, events {events:?}");
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        crafted: crafted_values(),
    };
    let mut pair = Pair::start("hll", seed, HISTORY_MAX);
    if let Some(classes) = events {
        pair.watch_events(classes);
    }
    setup(&mut pair);
    let mut resp3 = false;
    let mut i = 0;
    while i < n {
        let run_len = g.rng.gen_range(1..30).min(n - i);
        let cmds: Vec<Vec<Vec<u8>>> = (0..run_len).map(|_| g.command()).collect();
        run(&mut pair, resp3, &cmds);
        let before = i / 500;
        i += run_len;
        if i / 500 != before {
            assert_same(
                &dump(pair.ours.server.port),
                &dump(pair.redis.server.port),
                "datasets",
            );
        }
        if g.rng.gen_ratio(1, 3) {
            resp3 = !resp3;
        }
    }
    assert_same(
        &dump(pair.ours.server.port),
        &dump(pair.redis.server.port),
        "final datasets",
    );
    for (name, c) in &pair.history.stats {
        eprintln!("  {name:<12} {:>6} ({} errors)", c.sent, c.errors);
    }
    let covered: HashSet<String> = pair.history.stats.keys().cloned().collect();
    for name in [
        "PFADD", "PFCOUNT", "PFMERGE", "PFDEBUG", "GET", "SETRANGE", "APPEND",
    ] {
        assert!(covered.contains(name), "the stream never sent {name}");
    }
    // Both encodings, promotions and corrupt values must really have been met.
    let dense = pair.redis.cmd(false, &words("PFDEBUG ENCODING h1"));
    eprintln!("hll: h1 ends {dense:?}");
    assert!(
        pair.history
            .stats
            .get("PFDEBUG")
            .is_some_and(|c| c.errors > 0),
        "no PFDEBUG error"
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-written cases

/// Every crafted value through every command, with the value read back after each; sparse
/// values near the promotion limit; merges of sparse and dense; errors and arity. Compared
/// exactly on RESP2, then from scratch on RESP3.
#[test]
fn edge_cases() {
    let mut c: Vec<Vec<Vec<u8>>> = [
        "FLUSHALL",
        "PFADD",
        "PFCOUNT",
        "PFMERGE",
        "PFDEBUG",
        "PFDEBUG GETREG",
        "PFDEBUG GETREG a b",
        "PFSELFTEST x",
        "PFCOUNT missing",
        "PFCOUNT missing other",
        "PFMERGE dest",
        "GET dest",
        "PFDEBUG ENCODING dest",
        "PFMERGE dest2 missing",
        "PFADD new",
        "GET new",
        "PFCOUNT new",
        "GET new",
        "OBJECT ENCODING new",
        "PFADD new a b c a b c",
        "PFADD new a",
        "PFCOUNT new",
        "PFCOUNT new",
        "GET new",
        "PFDEBUG DECODE new",
        "PFDEBUG ENCODING new",
        "PFDEBUG GETREG missing",
        "PFDEBUG bogus missing",
        "PFDEBUG bogus new",
        "PFDEBUG TODENSE new",
        "PFDEBUG TODENSE new",
        "PFDEBUG DECODE new",
        "PFDEBUG ENCODING new",
        "GET new",
        "PFCOUNT new",
        "GET new",
        "RPUSH lst x",
        "PFADD lst a",
        "PFCOUNT lst",
        "PFCOUNT new lst",
        "PFMERGE new lst",
        "PFMERGE lst new",
        "PFDEBUG ENCODING lst",
        "SET int 12345",
        "PFADD int a",
        "PFCOUNT int",
        "SET plain hello",
        "PFADD plain a",
        "PFMERGE d new plain",
        "EXISTS d",
        "CONFIG GET hll-sparse-max-bytes",
        "CONFIG SET hll-sparse-max-bytes -1",
        "CONFIG SET hll-sparse-max-bytes abc",
        "CONFIG SET hll-sparse-max-bytes 9223372036854775808",
        "CONFIG SET hll-sparse-max-bytes 1k",
        "CONFIG GET hll-sparse-max-bytes",
        "CONFIG SET hll-sparse-max-bytes 3000",
    ]
    .iter()
    .map(|s| words(s))
    .collect();
    c.push(cmd(&[b"PFDEBUG", b"bogus\x00tail", b"new"]));
    c.push(cmd(&[b"PFDEBUG", b"bo\r\ngus", b"new"]));
    for (i, v) in crafted_values().into_iter().enumerate() {
        for op in [
            "PFCOUNT k",
            "PFCOUNT k other",
            "PFMERGE d k",
            "PFADD k a b c",
            "PFADD k",
            "PFDEBUG GETREG k",
            "PFDEBUG DECODE k",
            "PFDEBUG TODENSE k",
            "PFDEBUG ENCODING k",
            "PFDEBUG bogus k",
        ] {
            c.push(words("DEL k d"));
            c.push(cmd(&[b"SET", b"k", &v]));
            c.push(words("PFADD other x"));
            c.push(words(op));
            c.push(words("GET k"));
            c.push(words("GET d"));
            c.push(words("OBJECT ENCODING k"));
        }
        // Every register of the value, set one at a time from the last down, for the
        // values an add can reach.
        if i < 12 {
            c.push(cmd(&[b"SET", b"k", &v]));
            for e in 0..40 {
                c.push(cmd(&[b"PFADD", b"k", format!("el{e}").as_bytes()]));
                c.push(words("GET k"));
            }
        }
    }
    // Growth to the promotion limit, at several limits; merges of what grew.
    let mut rng = StdRng::seed_from_u64(5);
    for (limit, n) in [
        ("3000", 2500),
        ("100", 60),
        ("0", 3),
        ("40", 20),
        ("20000", 4000),
    ] {
        c.push(vec![
            b("CONFIG"),
            b("SET"),
            b("hll-sparse-max-bytes"),
            b(limit),
        ]);
        c.push(words("DEL g"));
        for chunk in 0..n / 25 {
            let mut add = vec![b("PFADD"), b("g")];
            add.extend(
                (0..25).map(|j| format!("{limit}-{chunk}-{j}-{}", rng.gen::<u16>()).into_bytes()),
            );
            c.push(add);
            c.push(words("GET g"));
            c.push(words("PFDEBUG ENCODING g"));
        }
        c.push(words("PFCOUNT g"));
        c.push(vec![b("PFMERGE"), format!("m{limit}").into_bytes(), b("g")]);
        c.push(vec![b("GET"), format!("m{limit}").into_bytes()]);
        c.push(vec![
            b("PFMERGE"),
            b("small"),
            b("new"),
            format!("m{limit}").into_bytes(),
        ]);
        c.push(words("GET small"));
    }
    c.push(words("CONFIG SET hll-sparse-max-bytes 3000"));
    c.push(words("PFCOUNT m3000 m100 m0 m40 m20000 new missing"));
    c.push(words("PFMERGE all m3000 m100 m0 m40 m20000 new missing"));
    c.push(words("GET all"));
    c.push(words("PFCOUNT all"));
    c.push(words("PFDEBUG GETREG all"));
    c.push(words("PFDEBUG GETREG m100"));
    c.push(words("GET m100"));
    // A register above 32 makes a sparse destination dense: merged from a dense value
    // whose first register holds 40 (elements offering more than 32 are far too rare).
    let mut densesrc = header(0, 0, true);
    densesrc.extend(std::iter::repeat_n(0u8, 12288));
    densesrc[16] = 40;
    c.push(cmd(&[b"SET", b"densesrc", &densesrc]));
    c.push(words("PFADD big a"));
    c.push(words("PFMERGE big densesrc"));
    c.push(words("GET big"));
    c.push(words("PFCOUNT big"));
    c.push(words("PFADD sp a b"));
    c.push(words("PFMERGE sp2 sp"));
    c.push(words("PFDEBUG ENCODING sp2"));
    c.push(words("PFMERGE sp2 densesrc"));
    c.push(words("PFDEBUG ENCODING sp2"));
    c.push(words("GET sp2"));

    for resp3 in [false, true] {
        let mut pair = Pair::start("hll edge_cases", 0, HISTORY_MAX);
        for chunk in c.chunks(40) {
            run(&mut pair, resp3, chunk);
        }
    }
}

/// The event stream of each command, byte for byte with Redis's (`KEA` plus `n` and `m`).
#[test]
fn keyspace_events_match_redis() {
    let mut pair = Pair::start("hll events", 0, HISTORY_MAX);
    pair.watch_events("KEAnm");
    for line in [
        "PFADD h a",
        "PFADD h a",
        "PFADD h",
        "PFADD h2",
        "PFCOUNT h",
        "PFCOUNT h",
        "PFCOUNT h h2 zz",
        "PFMERGE d h",
        "PFMERGE d h",
        "PFMERGE e",
        "PFDEBUG TODENSE h",
        "PFDEBUG GETREG d",
        "PFDEBUG ENCODING d",
        "PFCOUNT nokey",
        "SET s x",
        "PFADD s a",
        "PFMERGE s h",
        "PFCOUNT h s",
    ] {
        run(&mut pair, false, &[words(line)]);
    }
}

/// INFO's keyspace_hits and keyspace_misses after the same commands: PFCOUNT and PFMERGE read
/// every key they name, PFADD and PFDEBUG do not count.
#[test]
fn hits_and_misses_match_redis() {
    let mut pair = Pair::start("hll stats", 0, HISTORY_MAX);
    let lines = [
        "PFADD h a b",
        "PFADD missing1",
        "PFCOUNT h",
        "PFCOUNT nope",
        "PFCOUNT h nope h",
        "PFMERGE d h nope",
        "PFMERGE d",
        "PFDEBUG ENCODING h",
        "PFDEBUG ENCODING nope",
        "SET s x",
        "PFCOUNT h s nope",
        "PFMERGE nope2 s",
    ];
    for line in lines {
        run(&mut pair, false, &[words(line)]);
    }
    for field in ["keyspace_hits", "keyspace_misses"] {
        let o = pair.ours.conn(false).info_int("stats", field);
        let r = pair.redis.conn(false).info_int("stats", field);
        assert_eq!(o, r, "{field}");
    }
}

/// A PFCOUNT that rewrites the cached cardinality changes the value: a transaction WATCHing
/// the key fails and a client caching it is told, as in Redis; a cached count, and PFDEBUG's
/// conversions (which Redis does not signal), change nothing for them.
#[test]
fn watch_and_tracking_see_cache_rewrites_like_redis() {
    let scenario = |srv: &Server| -> Vec<Reply> {
        let mut out = Vec::new();
        let mut a = srv.raw();
        let mut other = srv.raw();
        let mut ok = |c: &mut Raw, args: &[&str]| out.push(c.cmd_str(args));
        ok(&mut other, &["PFADD", "h", "a", "b"]);
        for step in [
            &["PFCOUNT", "h"][..],
            &["PFCOUNT", "h"],
            &["PFDEBUG", "TODENSE", "h"],
            &["PFADD", "h", "a"],
            &["PFADD", "h", "zz"],
            &["PFMERGE", "h", "h"],
        ] {
            ok(&mut a, &["WATCH", "h"]);
            ok(&mut a, &["MULTI"]);
            ok(&mut a, &["PING"]);
            ok(&mut other, step);
            ok(&mut a, &["EXEC"]);
        }
        // Client-side caching: `t` reads h, then another client counts it again.
        let mut t = srv.raw();
        // (HELLO's reply holds the client id, which differs.)
        assert!(matches!(t.cmd_str(&["HELLO", "3"]), Reply::Map(_)));
        out.push(t.cmd_str(&["CLIENT", "TRACKING", "on"]));
        for step in [
            &["PFCOUNT", "h"][..],
            &["PFADD", "h", "more"],
            &["PFDEBUG", "GETREG", "h"],
        ] {
            out.push(t.cmd_str(&["GET", "h"]));
            let r = other.cmd_str(step);
            out.push(if step[0] == "PFDEBUG" {
                Reply::Int(0)
            } else {
                r
            });
            // Whatever invalidation arrived comes before the reply to PING.
            t.send(&common::encode(&[b"PING"]));
            loop {
                let r = t.read_reply();
                let done = r == Reply::Status("PONG".into());
                out.push(r);
                if done {
                    break;
                }
            }
        }
        out
    };
    let ours = scenario(&Server::start(&[]));
    let redis = scenario(&Server::start_redis(&[]));
    for (i, (o, r)) in ours.iter().zip(&redis).enumerate() {
        assert_eq!(o, r, "step {i}");
    }
    assert_eq!(ours.len(), redis.len());
    // The scenario must have seen both outcomes.
    assert!(
        redis.iter().any(|r| matches!(r, Reply::Push(_))),
        "no invalidation"
    );
    assert!(
        redis
            .iter()
            .any(|r| *r == Reply::Array(None) || *r == Reply::Null),
        "no aborted EXEC"
    );
}

#[test]
fn pfselftest_passes_on_both() {
    for srv in [Server::start(&[]), Server::start_redis(&[])] {
        assert_eq!(
            srv.raw().cmd_str(&["PFSELFTEST"]),
            Reply::ok(),
            "{}",
            srv.bin
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Persistence interop

/// Sparse, near-limit, promoted, merged, cached and stale values, plus corrupt strings.
fn workload() -> Vec<Vec<Vec<u8>>> {
    let mut w: Vec<Vec<Vec<u8>>> = vec![
        words("PFADD empty"),
        words("PFADD small a b c"),
        words("PFADD counted x y"),
        words("PFCOUNT counted"),
    ];
    for (key, n) in [("sparse", 200), ("near", 1400), ("dense", 5000)] {
        for chunk in 0..n / 50 {
            let mut c = vec![b("PFADD"), b(key)];
            c.extend((0..50).map(|j| format!("{key}:{chunk}:{j}").into_bytes()));
            w.push(c);
        }
    }
    w.push(words("PFMERGE merged small sparse"));
    w.push(words("PFMERGE mergeddense dense small"));
    w.push(words("PFCOUNT dense"));
    w.push(words("PFADD conv q"));
    w.push(words("PFDEBUG TODENSE conv"));
    w.push(words("PFADD gone a"));
    w.push(words("PFCOUNT sparse near"));
    for (i, v) in crafted_values().into_iter().enumerate() {
        w.push(vec![b("SET"), format!("crafted{i}").into_bytes(), v]);
    }
    w
}

fn run_all(c: &mut Raw, cmds: &[Vec<Vec<u8>>]) {
    for args in cmds {
        let r = c.cmd_args(args);
        assert!(!r.is_error(), "{} -> {r:?}", common::show_cmd(args));
    }
}

/// Every key's raw bytes.
fn values(port: u16) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut c = Raw::connect(port);
    c.wait_loaded();
    let Reply::Array(Some(keys)) = c.cmd_str(&["KEYS", "*"]) else {
        panic!("KEYS");
    };
    let mut out = BTreeMap::new();
    for k in keys {
        let Reply::Bulk(Some(k)) = k else {
            panic!("key")
        };
        let Reply::Bulk(Some(v)) = c.cmd(&[b"GET", &k]) else {
            panic!("GET")
        };
        out.insert(k, v);
    }
    out
}

/// The same reads on both servers, which hold the same bytes, must answer the same.
fn same_reads(a: u16, b: u16, keys: &BTreeMap<Vec<u8>, Vec<u8>>) {
    let (mut x, mut y) = (Raw::connect(a), Raw::connect(b));
    for k in keys.keys() {
        for sub in [&b"PFCOUNT"[..], b"GETREG"] {
            let args: Vec<&[u8]> = if sub == b"PFCOUNT" {
                vec![sub, k]
            } else {
                vec![b"PFDEBUG", sub, k]
            };
            assert_eq!(x.cmd(&args), y.cmd(&args), "{}", common::escape(k));
        }
    }
    let keys: Vec<&[u8]> = keys
        .keys()
        .map(Vec::as_slice)
        .filter(|k| !k.starts_with(b"crafted"))
        .collect();
    let mut args: Vec<&[u8]> = vec![b"PFCOUNT"];
    args.extend(&keys);
    assert_eq!(x.cmd(&args), y.cmd(&args));
}

fn save(port: u16) {
    assert_eq!(Raw::connect(port).cmd_str(&["SAVE"]), Reply::ok());
}

#[test]
fn rdb_moves_values_both_ways() {
    // redis-server → ringkv.
    let dir = TempDir::new("rdb-from-redis");
    let theirs = {
        let r = Server::start_redis(&["--dir", dir.s()]);
        run_all(&mut r.raw(), &workload());
        save(r.port);
        values(r.port)
    };
    let ours = Server::start(&["--dir", dir.s()]);
    assert_eq!(values(ours.port), theirs, "ringkv loading redis's dump");
    let reference = Server::start_redis(&["--dir", dir.s()]);
    same_reads(ours.port, reference.port, &theirs);
    drop((ours, reference));

    // ringkv → redis-server.
    let dir = TempDir::new("rdb-to-redis");
    let mine = {
        let o = Server::start(&["--dir", dir.s()]);
        run_all(&mut o.raw(), &workload());
        save(o.port);
        values(o.port)
    };
    assert_eq!(mine, theirs, "the same workload builds the same bytes");
    let r = Server::start_redis(&["--dir", dir.s()]);
    assert_eq!(values(r.port), mine, "redis loading ringkv's dump");
}

const REDIS_AOF: &[&str] = &["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];

#[test]
fn aof_moves_values_both_ways() {
    // ringkv → redis-server.
    let dir = TempDir::new("aof-to-redis");
    let ours_args = ["--appendonly", "yes", "--dir", dir.s()];
    let mine = {
        let o = Server::start(&ours_args);
        run_all(&mut o.raw(), &workload());
        let v = values(o.port);
        shutdown_and_wait(&o);
        v
    };
    assert_eq!(
        values_after_restart(&ours_args, false),
        mine,
        "ringkv reloading its AOF"
    );
    let mut args = REDIS_AOF.to_vec();
    args.extend(["--dir", dir.s()]);
    let r = Server::start_redis(&args);
    assert_eq!(values(r.port), mine, "redis loading ringkv's AOF");
    drop(r);

    // redis-server → ringkv.
    let dir = TempDir::new("aof-from-redis");
    let mut args = REDIS_AOF.to_vec();
    args.extend(["--dir", dir.s()]);
    let theirs = {
        let r = Server::start_redis(&args);
        run_all(&mut r.raw(), &workload());
        let v = values(r.port);
        shutdown_and_wait(&r);
        v
    };
    assert_eq!(theirs, mine, "the same workload builds the same bytes");
    let o = Server::start(&["--appendonly", "yes", "--dir", dir.s()]);
    assert_eq!(values(o.port), theirs, "ringkv loading redis's AOF");
}

/// The values a fresh server (ringkv, or redis-server with `redis`) holds after loading the
/// files its arguments point at.
fn values_after_restart(args: &[&str], redis: bool) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let srv = Server::start_either(redis, args);
    values(srv.port)
}

/// What reaches the AOF is what Redis 7.0 writes: PFADD only when a register changed,
/// PFCOUNT when it rewrote the cached cardinality, PFDEBUG when it converted.
#[test]
fn aof_propagation_matches_redis() {
    let script: Vec<Vec<Vec<u8>>> = [
        "PFADD h a b c",
        "PFADD h a",
        "PFADD h",
        "PFADD e",
        "PFCOUNT h",
        "PFCOUNT h",
        "PFCOUNT h e",
        "PFCOUNT missing",
        "PFMERGE d h",
        "PFMERGE d",
        "PFCOUNT d",
        "PFDEBUG ENCODING d",
        "PFDEBUG DECODE d",
        "PFDEBUG TODENSE d",
        "PFDEBUG TODENSE d",
        "PFDEBUG GETREG h",
        "PFDEBUG GETREG h",
        "PFADD h zz",
        "SET s x",
        "PFADD s a",
        "PFMERGE s h",
        "SET last 1",
    ]
    .iter()
    .map(|s| words(s))
    .collect();
    let run = |srv: &Server| {
        let mut c = srv.raw();
        for args in &script {
            let _ = c.cmd_args(args);
        }
    };
    let ours_dir = TempDir::new("prop-ours");
    let ours = Server::start(&["--appendonly", "yes", "--dir", ours_dir.s()]);
    run(&ours);
    let redis_dir = TempDir::new("prop-redis");
    let mut args = REDIS_AOF.to_vec();
    args.extend(["--dir", redis_dir.s()]);
    let redis = Server::start_redis(&args);
    run(&redis);
    shutdown_and_wait(&redis);
    shutdown_and_wait(&ours);
    let (a, b) = (
        incr_commands(&ours_dir.0, escape_arg),
        incr_commands(&redis_dir.0, escape_arg),
    );
    assert_eq!(a, b, "ringkv's AOF vs redis's");
    assert!(a.iter().any(|l| l == "PFCOUNT h"), "{a:#?}");
}

/// redis-check-rdb accepts a dump of HyperLogLogs (they are plain strings to it).
#[test]
fn redis_check_rdb_accepts_our_dump() {
    let dir = TempDir::new("check");
    let o = Server::start(&["--dir", dir.s()]);
    run_all(&mut o.raw(), &workload());
    save(o.port);
    let out = Command::new("redis-check-rdb")
        .arg(dir.0.join("dump.rdb"))
        .output()
        .expect("run redis-check-rdb");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "{text}"
    );
}

/// An AOF argument as `common::escape` shows it.
fn escape_arg(a: &[u8]) -> String {
    common::escape(a)
}
