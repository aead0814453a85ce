//! DUMP and RESTORE compared with a real redis-server 7.0: payloads of every type and
//! encoding moved both ways (DUMP on one server, RESTORE on the other) with the same contents
//! and OBJECT ENCODING after, byte-equal payloads where the two build the same encoding,
//! damaged and hostile payloads answered with Redis's errors, the options (REPLACE, ABSTTL,
//! IDLETIME, FREQ) and their errors, keyspace events, the AOF form, and a random stream of
//! writes, DUMPs and cross-RESTOREs with and without every keyspace event class.
//!
//! Usage:
//!   cargo test --test dump_restore                          everything, default seed
//!   DIFFTEST_SEED=7 DIFFTEST_N=20000 cargo test --test dump_restore random_stream
//!
//! Payload bytes are compared only where both servers must build the same bytes: with
//! `rdbcompression no` (LZF may pick other back-references), for strings, intsets, listpack
//! hashes and sorted sets, skiplist sorted sets, and lists pushed at the tail only. A hash-table set or hash is written in its table's order, which differs; a list
//! built at the head may have other node boundaries (see `persist::rdb`'s `put_list`).

mod common;

use common::legacy::{put_len, put_str, ziplist, zipmap};

use common::diff::{assert_same, dump, words, Pair};
use common::{Raw, Reply, Server};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Seed used when `DIFFTEST_SEED` is not set.
const DEFAULT_SEED: u64 = 0xd0_3e57;
/// Commands per run when `DIFFTEST_N` is not set.
const DEFAULT_N: usize = 2_000;
/// Commands shown before a mismatch.
const HISTORY_MAX: usize = 12;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn bulk(r: Reply) -> Vec<u8> {
    match r {
        Reply::Bulk(Some(v)) => v,
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

/// CRC-64/Jones as Redis computes it (reflected, polynomial 0xad93d23594c935a9).
fn crc64(bytes: &[u8]) -> u64 {
    const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;
    let mut crc = 0u64;
    for &x in bytes {
        crc ^= u64::from(x);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// A payload around `body` with RDB version `version` and a correct CRC.
fn wrap(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// Commands that build one key of every type and encoding, named after it.
fn builders() -> Vec<Vec<Vec<u8>>> {
    let mut cmds: Vec<Vec<Vec<u8>>> = [
        "SET str_int 12345",
        "SET str_neg -7",
        "SET str_big 123456789012345",
        "SET str_emb hello",
        "SET str_float 3.25",
        "RPUSH list_small a b 1 2 -300 70000 5000000000",
        "SADD set_intset 1 2 3 -4 70000 5000000000",
        "SADD set_table a b c 1",
        "HSET hash_lp f v n 1 x -2",
        "ZADD zset_lp 1 a 2.5 b -inf c 0 d",
        "PFADD hll a b c d",
    ]
    .iter()
    .map(|l| words(l))
    .collect();
    cmds.push(vec![b("SET"), b("str_raw"), vec![b'x'; 100]]);
    cmds.push(vec![b("SET"), b("str_bin"), b"\x00\xff\r\n-+".to_vec()]);
    let mut l = vec![b("RPUSH"), b("list_big")];
    l.extend((0..600).map(|i| format!("element-{i}").into_bytes()));
    cmds.push(l);
    cmds.push(vec![b("RPUSH"), b("list_plain"), vec![b'y'; 9000], b("z")]);
    let mut s = vec![b("SADD"), b("set_bigint")];
    s.extend((0..600).map(|i| (i * 7).to_string().into_bytes()));
    cmds.push(s);
    let mut h = vec![b("HSET"), b("hash_table")];
    for i in 0..600 {
        h.push(format!("f{i}").into_bytes());
        h.push(format!("v{i}").into_bytes());
    }
    cmds.push(h);
    cmds.push(vec![b("HSET"), b("hash_long"), b("f"), vec![b'v'; 100]]);
    let mut z = vec![b("ZADD"), b("zset_skip")];
    for i in 0..200 {
        z.push(format!("{}", f64::from(i) * 0.5 - 7.0).into_bytes());
        z.push(format!("m{i}").into_bytes());
    }
    cmds.push(z);
    cmds.push(vec![b("ZADD"), b("zset_long"), b("1"), vec![b'q'; 100]]);
    cmds
}

/// Keys whose payload both servers must write byte for byte alike.
const BYTE_EQUAL: &[&str] = &[
    "str_int",
    "str_neg",
    "str_big",
    "str_emb",
    "str_float",
    "str_raw",
    "str_bin",
    "list_small",
    "list_big",
    "list_plain",
    "set_intset",
    "hash_lp",
    "zset_lp",
    "zset_skip",
    "zset_long",
    "hll",
];
const ALL_KEYS: &[&str] = &[
    "str_int",
    "str_neg",
    "str_big",
    "str_emb",
    "str_float",
    "str_raw",
    "str_bin",
    "list_small",
    "list_big",
    "list_plain",
    "set_intset",
    "set_table",
    "set_bigint",
    "hash_lp",
    "hash_table",
    "hash_long",
    "zset_lp",
    "zset_skip",
    "zset_long",
    "hll",
];

#[test]
fn every_type_and_encoding_moves_both_ways() {
    let mut pair = Pair::start("dump both ways", 0, HISTORY_MAX);
    for compression in ["yes", "no"] {
        pair.both(false, &words("FLUSHALL"), "flush");
        pair.both(
            false,
            &words(&format!("CONFIG SET rdbcompression {compression}")),
            "config",
        );
        for c in builders() {
            pair.both(false, &c, "build");
        }
        for key in ALL_KEYS {
            let ours = bulk(pair.ours.cmd(false, &[b("DUMP"), b(key)]));
            let redis = bulk(pair.redis.cmd(false, &[b("DUMP"), b(key)]));
            // LZF's output is not unique (our compressor and Redis's may choose other
            // back-references), so bytes are compared without compression.
            if BYTE_EQUAL.contains(key) && compression == "no" {
                let first_diff = ours.iter().zip(&redis).position(|(a, b)| a != b);
                assert!(
                    ours == redis,
                    "DUMP {key}: {} bytes against Redis's {}, first difference at {first_diff:?}",
                    ours.len(),
                    redis.len()
                );
            }
            // Each server restores both payloads, so both datasets must end up alike.
            for (name, payload) in [("from_ours", &ours), ("from_redis", &redis)] {
                let k = format!("{key}_{name}").into_bytes();
                for resp3 in [false, true] {
                    let line = vec![
                        b("RESTORE"),
                        k.clone(),
                        b("0"),
                        payload.clone(),
                        b("REPLACE"),
                    ];
                    pair.both(resp3, &line, "restore");
                }
                pair.both(false, &[b("OBJECT"), b("ENCODING"), k.clone()], "encoding");
            }
        }
        assert_same(
            &dump(pair.ours.server.port),
            &dump(pair.redis.server.port),
            "datasets after cross RESTORE",
        );
    }
}

/// Runs each line on both servers (RESP2 and RESP3) and compares the replies exactly.
fn compare_lines(pair: &mut Pair, lines: &[Vec<Vec<u8>>]) {
    for resp3 in [false, true] {
        pair.both(resp3, &words("FLUSHALL"), "flush");
        for line in lines {
            pair.both(resp3, line, "case");
        }
    }
}

#[test]
fn damaged_payloads_and_bad_options_get_redis_errors() {
    let mut pair = Pair::start("dump errors", 0, HISTORY_MAX);
    pair.both(false, &words("SET s hello"), "setup");
    let good = bulk(pair.redis.cmd(false, &words("DUMP s")));
    let body = &good[..good.len() - 10];
    let mut crc_flipped = good.clone();
    *crc_flipped.last_mut().expect("payload") ^= 1;
    let mut body_flipped = good.clone();
    body_flipped[3] ^= 0x20;
    let mut zero_crc = good[..good.len() - 8].to_vec();
    zero_crc.extend_from_slice(&[0; 8]);
    let mut garbage_after = body.to_vec();
    garbage_after.extend_from_slice(b"garbage");
    let payloads: Vec<Vec<u8>> = vec![
        good.clone(),
        b"".to_vec(),
        b"abc".to_vec(),
        good[..9].to_vec(),
        crc_flipped,
        body_flipped,
        zero_crc,
        wrap(body, 11),
        wrap(body, 1),
        wrap(&garbage_after, 10),
        // A string whose length runs into the trailer: Redis reads the trailer's bytes.
        wrap(b"\x00\x05hel", 10),
        wrap(b"", 10),
        wrap(b"\x08", 10),
        wrap(b"\xff", 10),
        // Empty collections.
        wrap(b"\x02\x00", 10),
        wrap(b"\x04\x00", 10),
        wrap(b"\x0e\x00", 10),
        wrap(b"\x12\x00", 10),
        // A set with a huge length and nothing behind it.
        wrap(b"\x02\x81\xff\xff\xff\xff\xff\xff\xff\xff", 10),
        wrap(b"\x00\x81\x00\x00\x00\x00\xff\xff\xff\xff", 10),
        // Stream and module types ringkv does not hold.
        wrap(b"\x07\x00", 10),
    ];
    let mut lines: Vec<Vec<Vec<u8>>> = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let k = format!("k{i}").into_bytes();
        lines.push(vec![b("RESTORE"), k.clone(), b("0"), p.clone()]);
        lines.push(vec![b("TYPE"), k.clone()]);
        lines.push(vec![b("GET"), k]);
    }
    let opt = |extra: &[&str]| {
        let mut l = vec![b("RESTORE"), b("o"), b("0"), good.clone()];
        l.extend(extra.iter().map(|a| b(a)));
        l
    };
    for extra in [
        &["IDLETIME", "1", "FREQ", "2"][..],
        &["FREQ", "2", "IDLETIME", "1"],
        &["FREQ", "256"],
        &["FREQ", "-1"],
        &["FREQ", "x"],
        &["IDLETIME", "-1"],
        &["IDLETIME"],
        &["IDLETIME", "abc"],
        &["replace", "ABSTTL", "absttl"],
        &["junk"],
        &["REPLACE", "junk"],
    ] {
        lines.push(opt(extra));
    }
    for l in ["SET busy x", "DEL o", "SET o x"] {
        lines.push(words(l));
    }
    lines.push(vec![b("RESTORE"), b("busy"), b("0"), good.clone()]);
    // BUSYKEY comes before the TTL and payload checks, the TTL before the payload.
    lines.push(vec![b("RESTORE"), b("busy"), b("x"), b("junk")]);
    lines.push(vec![b("RESTORE"), b("new"), b("x"), b("junk")]);
    lines.push(vec![b("RESTORE"), b("new"), b("-1"), b("junk")]);
    lines.push(vec![b("RESTORE"), b("new"), b("+5"), good.clone()]);
    lines.push(vec![b("RESTORE"), b("new"), b("0"), b("junk")]);
    lines.push(vec![
        b("RESTORE"),
        b("busy"),
        b("0"),
        good.clone(),
        b("REPLACE"),
    ]);
    lines.push(words("GET busy"));
    // Deadlines in the past: nothing is created; with REPLACE the old key goes.
    lines.push(vec![
        b("RESTORE"),
        b("past"),
        b("1"),
        good.clone(),
        b("ABSTTL"),
    ]);
    lines.push(words("EXISTS past"));
    lines.push(vec![
        b("RESTORE"),
        b("busy"),
        b("1"),
        good.clone(),
        b("ABSTTL"),
        b("REPLACE"),
    ]);
    lines.push(words("EXISTS busy"));
    // A relative TTL that overflows when added to the clock is in the past too.
    lines.push(vec![
        b("RESTORE"),
        b("huge"),
        b("9223372036854775807"),
        good.clone(),
    ]);
    lines.push(words("EXISTS huge"));
    lines.push(vec![
        b("RESTORE"),
        b("far"),
        b("9223372036854775807"),
        good.clone(),
        b("ABSTTL"),
    ]);
    lines.push(words("EXISTS far"));
    lines.push(words("DUMP nokey"));
    lines.push(words("DUMP"));
    lines.push(words("RESTORE a 0"));
    lines.push(words("COMMAND GETKEYS RESTORE a 0 x"));
    compare_lines(&mut pair, &lines);
}

#[test]
fn ttl_idletime_and_freq_read_back_as_redis() {
    let mut pair = Pair::start("dump options", 0, HISTORY_MAX);
    pair.both(false, &words("SET s hello"), "setup");
    let p = bulk(pair.redis.cmd(false, &words("DUMP s")));
    let restore = |k: &str, ttl: &str, extra: &[&str]| {
        let mut l = vec![b("RESTORE"), b(k), b(ttl), p.clone()];
        l.extend(extra.iter().map(|a| b(a)));
        l
    };
    // TTLs: relative, absolute, none.
    pair.both(false, &restore("t1", "100000", &[]), "ttl");
    pair.both(
        false,
        &restore("t2", "4102444800000", &["ABSTTL"]),
        "absttl",
    );
    pair.both(false, &restore("t3", "0", &["ABSTTL"]), "absttl 0");
    for (k, want) in [("t1", 100), ("t3", -1)] {
        for side in [&mut pair.ours, &mut pair.redis] {
            let Reply::Int(ttl) = side.cmd(false, &words(&format!("TTL {k}"))) else {
                panic!("TTL {k}");
            };
            assert!((want - 1..=want).contains(&ttl), "{k}: {ttl}");
        }
    }
    pair.both(false, &words("PEXPIRETIME t2"), "pexpiretime");
    // IDLETIME under an LRU policy, wrapping as Redis's 24-bit clock does; FREQ is ignored.
    let clock = |pair: &mut Pair| -> i64 {
        let Reply::Array(Some(t)) = pair.redis.cmd(false, &words("TIME")) else {
            panic!("TIME");
        };
        let Reply::Bulk(Some(s)) = &t[0] else {
            panic!("TIME")
        };
        String::from_utf8_lossy(s).parse::<i64>().expect("seconds") & 0xFF_FFFF
    };
    let now = clock(&mut pair);
    let idles = [
        "0".to_string(),
        "5".into(),
        "1000".into(),
        (now + 1).to_string(),
        "16777215".into(),
        "16777216".into(),
        "1000000000".into(),
        "9223372036854776".into(),
        "9223372036854775807".into(),
    ];
    for (i, idle) in idles.iter().enumerate() {
        let k = format!("i{i}");
        pair.both(false, &restore(&k, "0", &["IDLETIME", idle]), "idletime");
        let line = words(&format!("OBJECT IDLETIME {k}"));
        let o = pair.ours.cmd(false, &line);
        let r = pair.redis.cmd(false, &line);
        // The two clocks may tick apart between the two commands.
        let (Reply::Int(o), Reply::Int(r)) = (&o, &r) else {
            panic!("OBJECT IDLETIME {k}: {o:?} / {r:?}");
        };
        assert!((o - r).abs() <= 1, "IDLETIME {idle}: ours {o}, redis {r}");
    }
    pair.both(false, &restore("f0", "0", &["FREQ", "100"]), "freq");
    pair.both(false, &words("OBJECT FREQ f0"), "freq without lfu");
    // FREQ under an LFU policy; IDLETIME is ignored there.
    pair.both(
        false,
        &words("CONFIG SET maxmemory-policy allkeys-lfu"),
        "lfu",
    );
    for (k, extra) in [
        ("f1", &["FREQ", "100"][..]),
        ("f2", &["FREQ", "0"]),
        ("f3", &["FREQ", "255"]),
        ("f4", &["IDLETIME", "100"]),
        ("f5", &[]),
    ] {
        pair.both(false, &restore(k, "0", extra), "freq");
        pair.both(false, &words(&format!("OBJECT FREQ {k}")), "object freq");
        pair.both(
            false,
            &words(&format!("OBJECT IDLETIME {k}")),
            "idletime under lfu",
        );
    }
}

#[test]
fn events_and_lookups_match_redis() {
    let mut pair = Pair::start("dump events", 0, HISTORY_MAX);
    pair.both(false, &words("SET s hello"), "setup");
    let p = bulk(pair.both(false, &words("DUMP s"), "setup"));
    pair.watch_events("KEA");
    let lines: Vec<Vec<Vec<u8>>> = vec![
        vec![b("RESTORE"), b("a"), b("0"), p.clone()],
        vec![b("RESTORE"), b("a"), b("0"), p.clone(), b("REPLACE")],
        vec![b("RESTORE"), b("a"), b("0"), p.clone()],
        vec![b("RESTORE"), b("b"), b("5000"), p.clone()],
        vec![
            b("RESTORE"),
            b("a"),
            b("1"),
            p.clone(),
            b("ABSTTL"),
            b("REPLACE"),
        ],
        vec![b("RESTORE"), b("c"), b("1"), p.clone(), b("ABSTTL")],
        words("DUMP nokey"),
        words("DUMP s"),
    ];
    for l in &lines {
        pair.both(false, l, "events");
        pair.check_events();
    }
    for field in ["keyspace_hits", "keyspace_misses"] {
        let o = pair.ours.conn(false).info_int("stats", field);
        let r = pair.redis.conn(false).info_int("stats", field);
        assert_eq!(o, r, "{field}");
    }
}

#[test]
fn watch_and_tracking_see_restore() {
    let srv = Server::start(&[]);
    let mut a = srv.raw();
    let mut c = srv.raw();
    a.cmd_str(&["SET", "s", "v"]);
    let Reply::Bulk(Some(p)) = a.cmd_str(&["DUMP", "s"]) else {
        panic!("DUMP")
    };
    a.cmd_str(&["WATCH", "k"]);
    a.cmd_str(&["MULTI"]);
    a.cmd_str(&["PING"]);
    assert!(!c.cmd(&[b"RESTORE", b"k", b"0", &p]).is_error());
    assert_eq!(
        a.cmd_str(&["EXEC"]),
        Reply::Array(None),
        "WATCH saw RESTORE"
    );
    // Client tracking: a cached key restored over is invalidated.
    let mut t = srv.raw();
    assert!(!t.cmd_str(&["HELLO", "3"]).is_error());
    t.cmd_str(&["CLIENT", "TRACKING", "on"]);
    t.cmd_str(&["GET", "k"]);
    assert!(!c.cmd(&[b"RESTORE", b"k", b"0", &p, b"REPLACE"]).is_error());
    let push = t.read_reply();
    assert!(
        matches!(&push, Reply::Push(v) if v.len() == 2),
        "invalidation push, got {push:?}"
    );
}

#[test]
fn restore_is_journaled_as_redis_propagates_it() {
    let dir = std::env::temp_dir().join(format!("ringkv-dump-aof-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let d = dir.to_str().expect("utf-8 path");
    let srv = Server::start(&["--appendonly", "yes", "--dir", d]);
    let mut c: Raw = srv.raw();
    c.cmd_str(&["SET", "s", "v"]);
    let Reply::Bulk(Some(p)) = c.cmd_str(&["DUMP", "s"]) else {
        panic!("DUMP")
    };
    for line in [
        vec![&b"RESTORE"[..], b"plain", b"0", &p],
        vec![b"RESTORE", b"rel", b"100000", &p, b"IDLETIME", b"5"],
        vec![b"RESTORE", b"abs", b"4102444800000", &p, b"ABSTTL"],
        vec![b"RESTORE", b"s", b"1", &p, b"ABSTTL", b"REPLACE"],
        vec![b"RESTORE", b"gone", b"1", &p, b"ABSTTL"],
    ] {
        assert_eq!(c.cmd(&line), Reply::ok());
    }
    let incr = std::fs::read_dir(dir.join("appendonlydir"))
        .expect("aof dir")
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".incr.aof"))
        .expect("incr file");
    let bytes = std::fs::read(incr.path()).expect("read");
    let text = String::from_utf8_lossy(&bytes);
    let words: Vec<&str> = text
        .split("\r\n")
        .filter(|l| !l.starts_with(['*', '$']))
        .collect();
    let joined = words.join(" ");
    assert!(joined.contains("RESTORE plain 0 "), "{joined}");
    // A relative TTL becomes absolute, ABSTTL appended after the other options.
    let rel = joined.find("RESTORE rel ").expect("rel");
    let after: Vec<&str> = joined[rel..].split(' ').collect();
    let deadline: u64 = after[2].parse().expect("absolute deadline");
    assert!(deadline > 1_700_000_000_000, "{deadline}");
    assert!(joined[rel..].contains("IDLETIME 5 ABSTTL"), "{joined}");
    assert!(joined.contains("RESTORE abs 4102444800000 "), "{joined}");
    // An expired REPLACE is a DEL; an expired new key is nothing.
    assert!(joined.contains("DEL s"), "{joined}");
    assert!(!joined.contains("gone"), "{joined}");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Payloads in the encodings of older Redis versions (ziplist, zipmap, quicklist 1, old zset)

// The same builders as tests/rdb.rs's, which writes these encodings into RDB files.

/// A type byte followed by one blob string.
fn blob_payload(t: u8, blob: &[u8]) -> Vec<u8> {
    let mut body = vec![t];
    put_str(&mut body, blob);
    wrap(&body, 9)
}

#[test]
fn payloads_of_older_encodings_restore_as_in_redis() {
    let long = vec![b'q'; 300];
    let mut quick = vec![14u8];
    put_len(&mut quick, 2);
    put_str(&mut quick, &ziplist(&[b"x", b"1"]));
    put_str(&mut quick, &ziplist(&[b"y", b"-2", &long]));
    let mut old_zset = vec![3u8];
    put_len(&mut old_zset, 2);
    put_str(&mut old_zset, b"m1");
    old_zset.extend_from_slice(b"\x031.5");
    put_str(&mut old_zset, b"m2");
    old_zset.push(255);
    let mut intset = Vec::new();
    intset.extend_from_slice(&2u32.to_le_bytes());
    intset.extend_from_slice(&3u32.to_le_bytes());
    for v in [-3i16, 0, 9] {
        intset.extend_from_slice(&v.to_le_bytes());
    }
    let payloads = [
        blob_payload(
            10,
            &ziplist(&[
                b"a",
                b"7",
                b"-100",
                b"1000",
                b"100000",
                b"5000000000",
                b"",
                &long,
            ]),
        ),
        wrap(&quick, 9),
        blob_payload(9, &zipmap(&[(b"f1", b"v1"), (b"f2", b"22")])),
        blob_payload(9, &zipmap(&[(b"f", &[b'w'; 100])])),
        blob_payload(13, &ziplist(&[b"f", b"v", b"n", b"42", b"long", &long])),
        blob_payload(12, &ziplist(&[b"a", b"1", b"b", b"2.5", b"c", b"inf"])),
        wrap(&old_zset, 9),
        blob_payload(11, &intset),
        // An odd ziplist hash and a bad zipmap.
        blob_payload(13, &ziplist(&[b"f", b"v", b"n"])),
        blob_payload(9, b"\x01\x05ab"),
    ];
    let mut pair = Pair::start("dump legacy", 0, HISTORY_MAX);
    for (i, p) in payloads.iter().enumerate() {
        let k = format!("legacy{i}").into_bytes();
        pair.both(
            false,
            &[b("RESTORE"), k.clone(), b("0"), p.clone()],
            "restore",
        );
        pair.both(false, &[b("OBJECT"), b("ENCODING"), k.clone()], "encoding");
    }
    assert_same(
        &dump(pair.ours.server.port),
        &dump(pair.redis.server.port),
        "datasets after legacy RESTOREs",
    );
}

// ---------------------------------------------------------------------------------------------
// Random stream

const KEYS: &[&str] = &["k1", "k2", "k3", "k4"];
const MEMBERS: &[&str] = &["a", "b", "1", "2", "-3", "70000", "x y", "", "5000000000"];

struct Gen {
    rng: StdRng,
}

impl Gen {
    fn key(&mut self) -> &'static str {
        KEYS.choose(&mut self.rng).copied().unwrap_or("k1")
    }

    fn member(&mut self) -> Vec<u8> {
        if self.rng.gen_ratio(1, 10) {
            vec![b'm'; self.rng.gen_range(60..80)]
        } else {
            b(MEMBERS.choose(&mut self.rng).copied().unwrap_or("a"))
        }
    }

    fn write(&mut self) -> Vec<Vec<u8>> {
        let k = b(self.key());
        let n = self.rng.gen_range(1..4);
        let mut c = match self.rng.gen_range(0..7) {
            0 => vec![b("SET"), k, self.member()],
            1 => vec![b("RPUSH"), k],
            2 => vec![b("SADD"), k],
            3 => vec![b("HSET"), k],
            4 => vec![b("ZADD"), k],
            5 => return vec![b("DEL"), k],
            _ => return vec![b("PFADD"), k, self.member()],
        };
        let kind = c[0].clone();
        for _ in 0..n {
            match &kind[..] {
                b"RPUSH" | b"SADD" => c.push(self.member()),
                b"HSET" => {
                    c.push(self.member());
                    c.push(self.member());
                }
                b"ZADD" => {
                    c.push(b(&self.rng.gen_range(-5..5).to_string()));
                    c.push(self.member());
                }
                _ => {}
            }
        }
        c
    }
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!("dump_restore: seed {seed}, {n} commands, events {events:?}");
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
    };
    let mut pair = Pair::start("dump_restore", seed, HISTORY_MAX);
    if let Some(classes) = events {
        pair.watch_events(classes);
    }
    let mut resp3 = false;
    let mut i = 0;
    while i < n {
        i += 1;
        let r = g.rng.gen_range(0..10);
        if r < 6 {
            let c = g.write();
            pair.run_exact(resp3, &[c], "write");
        } else {
            // DUMP on a random side, RESTORE that payload on both, under a key of the
            // stream or a new one, with random options.
            let src = g.key();
            let from_ours = g.rng.gen_bool(0.5);
            let line = vec![b("DUMP"), b(src)];
            let payload = if from_ours {
                pair.ours.cmd(resp3, &line)
            } else {
                pair.redis.cmd(resp3, &line)
            };
            // The other side runs the same DUMP, so reads, touches and misses stay alike.
            let other = if from_ours {
                pair.redis.cmd(resp3, &line)
            } else {
                pair.ours.cmd(resp3, &line)
            };
            assert_eq!(
                matches!(payload, Reply::Bulk(None) | Reply::Null),
                matches!(other, Reply::Bulk(None) | Reply::Null),
                "DUMP {src}: one side has the key"
            );
            pair.history.push(resp3, &line, payload.clone(), other);
            let Reply::Bulk(Some(mut p)) = payload else {
                continue;
            };
            if g.rng.gen_ratio(1, 10) && p.len() > 10 {
                // Damage it: a flipped byte fails the checksum.
                let at = g.rng.gen_range(0..p.len());
                p[at] ^= 1 << g.rng.gen_range(0..8);
            }
            let dst = if g.rng.gen_bool(0.5) {
                g.key().to_string()
            } else {
                format!("new{}", g.rng.gen_range(0..3))
            };
            let mut line = vec![b("RESTORE"), b(&dst), b("0"), p];
            if g.rng.gen_ratio(2, 3) {
                line.push(b("REPLACE"));
            }
            if g.rng.gen_ratio(1, 5) {
                line[2] = b("4102444800000");
                line.push(b("ABSTTL"));
            }
            pair.run_exact(resp3, &[line], "restore");
            if g.rng.gen_ratio(1, 3) {
                pair.run_exact(
                    resp3,
                    &[words(&format!("OBJECT ENCODING {dst}"))],
                    "encoding",
                );
            }
        }
        pair.check_events();
        if g.rng.gen_ratio(1, 4) {
            resp3 = !resp3;
        }
    }
    assert_same(
        &dump(pair.ours.server.port),
        &dump(pair.redis.server.port),
        "final datasets",
    );
}
