//! RDB snapshots end to end: ringkv → ringkv round trips, ringkv ↔ redis-server 7.0 in both
//! directions (compared by DEBUG DIGEST and key by key: TYPE, OBJECT ENCODING, contents,
//! PTTL; list nodes byte for byte), redis-check-rdb on our files, SAVE / LASTSAVE / DEBUG
//! RELOAD / DEBUG OBJECT / SHUTDOWN SAVE / the `save` schedule / INFO, and corrupt or
//! truncated files (an error naming the offset, never a panic or a hang), plus codec-level
//! fuzzing and a model round trip on random keyspaces.

mod common;

use common::legacy::{put_len, put_str, ziplist, zipmap};

use common::files::TempDir;

use common::{Raw, Reply, Server};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ringkv::keyspace::Db;
use ringkv::persist::rdb;

fn start_ringkv(dir: &TempDir) -> Server {
    Server::start_bin(
        &common::ringkv_bin(),
        &["--dir", dir.s(), "--enable-debug-command", "yes"],
    )
}

fn start_redis(dir: &TempDir) -> Server {
    Server::start_redis(&["--dir", dir.s(), "--enable-debug-command", "yes"])
}

/// Sends every command in one batch, then reads one reply each; panics on an error reply.
fn run_all(c: &mut Raw, cmds: &[Vec<Vec<u8>>]) {
    for chunk in cmds.chunks(500) {
        let mut buf = Vec::new();
        for cmd in chunk {
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
            common::encode_into(&mut buf, &args);
        }
        c.send(&buf);
        for cmd in chunk {
            let r = c.read_reply();
            assert!(!r.is_error(), "{} -> {r:?}", common::show_cmd(cmd));
        }
    }
}

fn v(args: &[&[u8]]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.to_vec()).collect()
}

fn s(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// Every type in every encoding, small and large, binary data, TTLs, all 16 databases.
fn workload() -> Vec<Vec<Vec<u8>>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut w: Vec<Vec<Vec<u8>>> = Vec::new();
    let binary: Vec<u8> = (0..=255u8).collect();
    let random: Vec<u8> = (0..300).map(|_| rng.gen()).collect();
    // strings
    w.push(s(&["SET", "int", "12345"]));
    w.push(s(&["SET", "neg", "-7"]));
    w.push(s(&["SET", "i32max", "2147483647"]));
    w.push(s(&["SET", "i64max", "9223372036854775807"]));
    w.push(s(&["SET", "i64min", "-9223372036854775808"]));
    w.push(s(&["SET", "lead0", "007"]));
    w.push(s(&["SET", "empty", ""]));
    w.push(s(&["SET", "emb", "abcdefghijklmnopqrstuvwxyz0123"]));
    w.push(v(&[b"SET", b"compressible", &[b'x'; 500]]));
    w.push(v(&[b"SET", b"random", &random]));
    w.push(v(&[b"SET", &binary, &binary]));
    w.push(v(&[b"SET", b"", b"empty key"]));
    w.push(s(&["SET", "ttl", "v", "PX", "100000000"]));
    // lists: small, many nodes, a big element, binary
    w.push(s(&[
        "RPUSH",
        "lsmall",
        "a",
        "1",
        "-2",
        "",
        "300000",
        "9999999999",
    ]));
    let mut big = vec![b"RPUSH".to_vec(), b"lbig".to_vec()];
    for i in 0..3000 {
        big.push(format!("element-{i}-{}", "y".repeat(i % 50)).into_bytes());
    }
    w.push(big);
    w.push(v(&[b"RPUSH", b"lhuge", &[b'h'; 20000], b"tail", &binary]));
    // hashes: listpack, hashtable by count, hashtable by value length
    w.push(s(&["HSET", "hsmall", "f", "v", "n", "5", "e", ""]));
    let mut hbig = vec![b"HSET".to_vec(), b"hbig".to_vec()];
    for i in 0..700 {
        hbig.push(format!("field{i}").into_bytes());
        hbig.push(format!("{}", i * 7).into_bytes());
    }
    w.push(hbig);
    w.push(v(&[b"HSET", b"hlong", b"f", &[b'v'; 100]]));
    w.push(v(&[b"HSET", b"hbin", &binary, &random]));
    w.push(s(&["HSET", "httl", "a", "b"]));
    w.push(s(&["PEXPIRE", "httl", "50000000"]));
    // sets: intset 16/32/64-bit, intset too large, strings
    w.push(s(&["SADD", "s16", "1", "2", "3", "-5"]));
    w.push(s(&["SADD", "s32", "1", "-70000"]));
    w.push(s(&[
        "SADD",
        "s64",
        "1",
        "9223372036854775807",
        "-9223372036854775808",
    ]));
    let mut sbig = vec![b"SADD".to_vec(), b"sbigint".to_vec()];
    for i in 0..600 {
        sbig.push(i.to_string().into_bytes());
    }
    w.push(sbig);
    w.push(s(&["SADD", "sstr", "a", "b", "c", "1"]));
    w.push(v(&[b"SADD", b"sbin", &binary, b""]));
    // sorted sets: listpack with special scores, skiplist by count and by member length
    w.push(s(&[
        "ZADD", "zsmall", "1.5", "a", "-0", "b", "inf", "c", "-inf", "d", "0.1", "e", "1e300", "f",
        "-2", "g", "3", "h",
    ]));
    let mut zbig = vec![b"ZADD".to_vec(), b"zbig".to_vec()];
    for i in 0..300 {
        let score = match i {
            0 => "-0".to_string(),
            1 => "inf".to_string(),
            2 => "-inf".to_string(),
            _ => format!("{}", (i as f64) * 0.37 - 20.0),
        };
        zbig.push(score.into_bytes());
        zbig.push(format!("m{i}").into_bytes());
    }
    w.push(zbig);
    w.push(v(&[b"ZADD", b"zlong", b"1", &[b'm'; 100], b"2", b"short"]));
    w.push(v(&[b"ZADD", b"zbin", b"5", &binary]));
    w.push(s(&["ZADD", "zttl", "1", "a"]));
    w.push(s(&["PEXPIRE", "zttl", "70000000"]));
    // every database
    for db in 1..16 {
        w.push(s(&["SELECT", &db.to_string()]));
        w.push(s(&["SET", &format!("k{db}"), &db.to_string()]));
        w.push(s(&["RPUSH", &format!("l{db}"), "x", "y"]));
    }
    w.push(s(&["SELECT", "0"]));
    w
}

#[derive(Debug, PartialEq)]
struct KeyState {
    ty: String,
    enc: String,
    pttl: i64,
    contents: Reply,
}

fn status(r: Reply) -> String {
    match r {
        Reply::Status(s) => s,
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        other => panic!("expected a status, got {other:?}"),
    }
}

fn sorted(r: Reply) -> Reply {
    match r {
        Reply::Array(Some(mut items)) => {
            items.sort_by_key(|i| format!("{i:?}"));
            Reply::Array(Some(items))
        }
        other => other,
    }
}

fn pairs_sorted(r: Reply) -> Reply {
    match r {
        Reply::Array(Some(items)) => {
            let mut pairs: Vec<Vec<Reply>> = items.chunks(2).map(|c| c.to_vec()).collect();
            pairs.sort_by_key(|p| format!("{p:?}"));
            Reply::Array(Some(pairs.into_iter().flatten().collect()))
        }
        other => other,
    }
}

/// Every key of every database with its type, encoding, TTL and full contents.
fn snapshot(port: u16) -> BTreeMap<(usize, Vec<u8>), KeyState> {
    let mut c = Raw::connect(port);
    let mut out = BTreeMap::new();
    for db in 0..16 {
        assert_eq!(c.cmd_str(&["SELECT", &db.to_string()]), Reply::ok());
        let Reply::Array(Some(keys)) = c.cmd_str(&["KEYS", "*"]) else {
            panic!("KEYS");
        };
        for k in keys {
            let Reply::Bulk(Some(key)) = k else {
                panic!("key")
            };
            let ty = status(c.cmd(&[b"TYPE", &key]));
            let enc = status(c.cmd(&[b"OBJECT", b"ENCODING", &key]));
            let Reply::Int(pttl) = c.cmd(&[b"PTTL", &key]) else {
                panic!("PTTL")
            };
            let contents = match ty.as_str() {
                "string" => c.cmd(&[b"GET", &key]),
                "list" => c.cmd(&[b"LRANGE", &key, b"0", b"-1"]),
                "hash" => pairs_sorted(c.cmd(&[b"HGETALL", &key])),
                "set" => sorted(c.cmd(&[b"SMEMBERS", &key])),
                "zset" => c.cmd(&[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"]),
                t => panic!("type {t}"),
            };
            out.insert(
                (db, key),
                KeyState {
                    ty,
                    enc,
                    pttl,
                    contents,
                },
            );
        }
    }
    out
}

/// Same keys, types, encodings and contents; TTLs within `ttl_slack_ms`.
fn assert_same(
    a: &BTreeMap<(usize, Vec<u8>), KeyState>,
    b: &BTreeMap<(usize, Vec<u8>), KeyState>,
    what: &str,
) {
    let ka: Vec<_> = a.keys().collect();
    let kb: Vec<_> = b.keys().collect();
    assert_eq!(ka, kb, "{what}: key sets differ");
    for (k, x) in a {
        let y = &b[k];
        let name = common::escape(&k.1);
        assert_eq!(x.ty, y.ty, "{what}: type of {name}");
        assert_eq!(x.enc, y.enc, "{what}: encoding of {name}");
        assert_eq!(x.contents, y.contents, "{what}: contents of {name}");
        if x.pttl < 0 || y.pttl < 0 {
            assert_eq!(x.pttl, y.pttl, "{what}: pttl of {name}");
        } else {
            assert!(
                (x.pttl - y.pttl).abs() < 10_000,
                "{what}: pttl of {name}: {} vs {}",
                x.pttl,
                y.pttl
            );
        }
    }
}

fn digest(port: u16) -> String {
    status(Raw::connect(port).cmd_str(&["DEBUG", "DIGEST"]))
}

fn save(port: u16) {
    assert_eq!(Raw::connect(port).cmd_str(&["SAVE"]), Reply::ok());
}

#[test]
fn round_trip_ringkv_to_ringkv_and_redis_loads_our_dump() {
    let dir = TempDir::new("rt");
    let before;
    let digest_before;
    {
        let a = start_ringkv(&dir);
        run_all(&mut a.raw(), &workload());
        before = snapshot(a.port);
        digest_before = digest(a.port);
        save(a.port);
    }
    assert!(dir.dump().exists());
    let b = start_ringkv(&dir);
    assert_eq!(digest(b.port), digest_before, "digest after reload");
    let after = snapshot(b.port);
    assert_same(&before, &after, "ringkv -> ringkv");

    // redis-check-rdb accepts the file.
    let out = Command::new("redis-check-rdb")
        .arg(dir.dump())
        .output()
        .expect("run redis-check-rdb");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "redis-check-rdb: {text}"
    );

    // redis-server 7.0 loads it with the same contents, encodings and digest.
    let r = start_redis(&dir);
    assert_eq!(
        digest(r.port),
        digest_before,
        "redis-server's digest of our dump"
    );
    assert_same(
        &after,
        &snapshot(r.port),
        "ringkv dump loaded by redis-server",
    );
}

#[test]
fn uncompressed_and_unchecksummed_dumps_load_everywhere() {
    let dir = TempDir::new("nocomp");
    let digest_before;
    {
        let a = start_ringkv(&dir);
        let mut c = a.raw();
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "rdbcompression", "no"]),
            Reply::ok()
        );
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "rdbchecksum", "no"]),
            Reply::ok()
        );
        run_all(&mut c, &workload());
        digest_before = digest(a.port);
        save(a.port);
    }
    let bytes = std::fs::read(dir.dump()).unwrap();
    assert_eq!(&bytes[bytes.len() - 8..], &[0u8; 8], "no checksum written");
    let b = start_ringkv(&dir);
    assert_eq!(digest(b.port), digest_before);
    let r = start_redis(&dir);
    assert_eq!(digest(r.port), digest_before);
}

#[test]
fn ringkv_loads_dumps_redis_wrote() {
    let dir = TempDir::new("fromredis");
    let r = start_redis(&dir);
    run_all(&mut r.raw(), &workload());
    // A quicklist with a plain node is only written for elements over 1 GB; everything else
    // Redis 7.0 can write is here: listpack, intset, quicklist, skiplist, hashtable.
    let live = snapshot(r.port);
    let digest_redis = digest(r.port);
    save(r.port);
    let k = start_ringkv(&dir);
    assert_eq!(digest(k.port), digest_redis, "digest of redis's dump");
    assert_same(&live, &snapshot(k.port), "redis dump loaded by ringkv");
    drop(r);
}

#[test]
fn debug_reload_keeps_everything_and_lastsave_moves() {
    let dir = TempDir::new("reload");
    let a = start_ringkv(&dir);
    let mut c = a.raw();
    run_all(&mut c, &workload());
    let before = snapshot(a.port);
    let d = digest(a.port);
    assert_eq!(c.cmd_str(&["DEBUG", "RELOAD"]), Reply::ok());
    assert_eq!(digest(a.port), d);
    assert_same(&before, &snapshot(a.port), "after DEBUG RELOAD");
    let Reply::Int(last) = c.cmd_str(&["LASTSAVE"]) else {
        panic!()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - last).abs() <= 2);
    // RELOAD NOSAVE replaces the data with the file's.
    assert_eq!(c.cmd_str(&["SET", "later", "1"]), Reply::ok());
    assert_eq!(c.cmd_str(&["DEBUG", "RELOAD", "NOSAVE"]), Reply::ok());
    assert_eq!(c.cmd_str(&["EXISTS", "later"]), Reply::Int(0));
    // NOFLUSH without MERGE meets duplicate keys: an error, not a crash.
    let r = c.cmd_str(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]);
    assert!(r.is_error(), "{r:?}");
    assert_eq!(
        c.cmd_str(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
        Reply::ok()
    );
    assert_eq!(digest(a.port), d);
    assert!(c.cmd_str(&["DEBUG", "RELOAD", "BOGUS"]).is_error());
    assert_eq!(
        c.cmd_str(&["DEBUG", "NOSUCH"]),
        Reply::Error(
            "ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP."
                .into()
        )
    );
    assert_eq!(c.cmd_str(&["DEBUG", "SLEEP", "0.01"]), Reply::ok());
    let Reply::Array(Some(help)) = c.cmd_str(&["DEBUG", "HELP"]) else {
        panic!()
    };
    assert!(help.len() > 5);
}

#[test]
fn digest_value_matches_redis() {
    let dir = TempDir::new("dv");
    let a = start_ringkv(&dir);
    let r = start_redis(&dir);
    let keys = [
        "int", "emb", "lsmall", "hsmall", "hbig", "s16", "sstr", "zsmall", "zbig", "ttl", "nokey",
    ];
    for srv in [&a, &r] {
        run_all(&mut srv.raw(), &workload());
    }
    let mut q = vec!["DEBUG", "DIGEST-VALUE"];
    q.extend(keys);
    assert_eq!(a.raw().cmd_str(&q), r.raw().cmd_str(&q));
    assert_eq!(digest(a.port), digest(r.port));
}

/// Whether the reference server can run; the redis-server half of a DEBUG OBJECT test is
/// skipped without it.
fn redis_installed() -> bool {
    Command::new(common::redis_bin())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// DEBUG OBJECT's reply as (name, value) pairs in order, `Value at` first.
fn debug_object(c: &mut Raw, key: &str) -> Vec<(String, String)> {
    let line = status(c.cmd_str(&["DEBUG", "OBJECT", key]));
    let rest = line
        .strip_prefix("Value at:")
        .unwrap_or_else(|| panic!("DEBUG OBJECT {key}: {line:?}"));
    let (addr, rest) = rest.split_once(' ').expect("fields after the address");
    let mut fields = vec![("Value at".to_string(), addr.to_string())];
    for f in rest.split(' ') {
        let (name, value) = f
            .split_once(':')
            .unwrap_or_else(|| panic!("DEBUG OBJECT {key}: field {f:?} in {line:?}"));
        fields.push((name.to_string(), value.to_string()));
    }
    fields
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"))
}

fn field_u64(fields: &[(String, String)], name: &str) -> u64 {
    field(fields, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number in {fields:?}"))
}

/// Redis's `estimateObjectIdleTime` in seconds (a wrapped clock counts one second less).
fn estimate_idle_s(lru: u64, now_s: u64) -> u64 {
    const LRU_CLOCK_MAX: u64 = (1 << 24) - 1;
    let clock = now_s & LRU_CLOCK_MAX;
    if clock >= lru {
        clock - lru
    } else {
        clock + (LRU_CLOCK_MAX - lru)
    }
}

/// The fields every reply has, in Redis 7.0's order, then the quicklist ones for a list.
const DEBUG_OBJECT_FIELDS: &[&str] = &[
    "Value at",
    "refcount",
    "encoding",
    "serializedlength",
    "lru",
    "lru_seconds_idle",
];
const DEBUG_OBJECT_QL_FIELDS: &[&str] = &[
    "ql_nodes",
    "ql_avg_node",
    "ql_listpack_max",
    "ql_compressed",
    "ql_uncompressed_size",
];

/// One key of each string encoding and of each collection type in each encoding, lists
/// with one node and several (by bytes, by count under a positive fill, and with nodes
/// made under a fill the setting no longer has).
fn debug_object_workload() -> (Vec<Vec<Vec<u8>>>, Vec<&'static str>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let random: Vec<u8> = (0..60).map(|_| rng.gen()).collect();
    let mut w: Vec<Vec<Vec<u8>>> = vec![
        s(&["SET", "shared", "5"]),
        s(&["SET", "int", "12345"]),
        s(&["SET", "neg", "-7"]),
        s(&["SET", "i64", "9223372036854775807"]),
        s(&["SET", "empty", ""]),
        s(&["SET", "float", "3.5"]),
        s(&["SET", "emb", "hello"]),
        v(&[b"SET", b"emb44", &[b'e'; 44]]),
        v(&[b"SET", b"raw_lzf", &[b'x'; 50]]),
        v(&[b"SET", b"raw_random", &random]),
        s(&["SET", "appended", "abc"]),
        s(&["APPEND", "appended", "def"]),
        s(&[
            "RPUSH",
            "lsmall",
            "a",
            "1",
            "-2",
            "",
            "300000",
            "9999999999",
        ]),
    ];
    // Four nodes of 75 elements of about 100 bytes under the default fill (-2, 8 KiB).
    let mut lbytes = s(&["RPUSH", "lbytes"]);
    lbytes.extend((0..300).map(|i| format!("{}{i}", "v".repeat(100)).into_bytes()));
    w.push(lbytes);
    // 1363 entries of 6 bytes fill a node to 8185 bytes, Redis's bound with its 8-byte
    // overhead estimate exactly.
    let mut l4 = s(&["RPUSH", "l4", "abcd"]);
    l4.extend((1..2000).map(|_| b"abcd".to_vec()));
    w.push(l4);
    w.extend([
        s(&["CONFIG", "SET", "list-max-listpack-size", "3"]),
        s(&["RPUSH", "lfill3", "a", "b", "c", "d", "e", "f", "g", "h"]),
        s(&["CONFIG", "SET", "list-max-listpack-size", "5"]),
        s(&[
            "RPUSH", "lfill5", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
        ]),
        s(&["CONFIG", "SET", "list-max-listpack-size", "-2"]),
        s(&["RPUSH", "lfill5", "k", "l", "m", "n", "o", "p", "q"]),
        s(&["HSET", "hsmall", "f", "v", "n", "5", "e", ""]),
        v(&[b"HSET", b"hlong", b"f", &[b'v'; 100]]),
        s(&["SADD", "sint", "1", "2", "3", "-5", "70000"]),
        s(&["SADD", "sstr", "a", "b", "c", "1"]),
        s(&[
            "ZADD", "zsmall", "1", "a", "2.5", "b", "inf", "c", "-3", "d",
        ]),
    ]);
    let mut hbig = s(&["HSET", "hbig"]);
    let mut sbig = s(&["SADD", "sbig"]);
    let mut zbig = s(&["ZADD", "zbig"]);
    for i in 0..600 {
        hbig.push(format!("field{i}").into_bytes());
        hbig.push(format!("{}", i * 7).into_bytes());
        sbig.push(i.to_string().into_bytes());
        zbig.push(format!("{}.5", i).into_bytes());
        zbig.push(format!("member{i}").into_bytes());
    }
    w.extend([hbig, sbig, zbig]);
    let keys = vec![
        "shared",
        "int",
        "neg",
        "i64",
        "empty",
        "float",
        "emb",
        "emb44",
        "raw_lzf",
        "raw_random",
        "appended",
        "lsmall",
        "lbytes",
        "l4",
        "lfill3",
        "lfill5",
        "hsmall",
        "hlong",
        "hbig",
        "sint",
        "sstr",
        "sbig",
        "zsmall",
        "zbig",
    ];
    (w, keys)
}

/// Checks the parts of a reply that do not depend on the server: field names and order, an
/// address, access data of a key written a moment ago under an LRU clock.
fn check_debug_object_shape(who: &str, key: &str, f: &[(String, String)]) {
    let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
    let mut want = DEBUG_OBJECT_FIELDS.to_vec();
    if field(f, "encoding") == "quicklist" {
        want.extend(DEBUG_OBJECT_QL_FIELDS);
    }
    assert_eq!(names, want, "{who} {key}");
    let addr = field(f, "Value at");
    assert!(
        addr.strip_prefix("0x")
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit())),
        "{who} {key}: address {addr:?}"
    );
    let lru = field_u64(f, "lru");
    let clock = now_s() & 0xFF_FFFF;
    let behind = clock.wrapping_sub(lru) & 0xFF_FFFF;
    assert!(behind <= 5, "{who} {key}: lru {lru}, clock {clock}");
    assert!(field_u64(f, "lru_seconds_idle") <= 2, "{who} {key}: {f:?}");
}

/// DEBUG OBJECT on ringkv and redis-server 7.0 for the same keys: every field but the
/// address and the access data (checked for plausibility on each side) is equal, and so are
/// the errors.
#[test]
fn debug_object_matches_redis() {
    let dir = TempDir::new("dobj");
    let ours = start_ringkv(&dir);
    let redis = if redis_installed() {
        Some(start_redis(&dir))
    } else {
        eprintln!("debug_object_matches_redis: no redis-server, checking ringkv alone");
        None
    };
    let (w, keys) = debug_object_workload();
    run_all(&mut ours.raw(), &w);
    if let Some(r) = &redis {
        run_all(&mut r.raw(), &w);
    }
    let mut c = ours.raw();
    for key in &keys {
        let f = debug_object(&mut c, key);
        check_debug_object_shape("ringkv", key, &f);
        // The address is the value's own and does not move between calls.
        assert_eq!(
            field(&debug_object(&mut c, key), "Value at"),
            field(&f, "Value at")
        );
        let Some(r) = &redis else { continue };
        let g = debug_object(&mut r.raw(), key);
        check_debug_object_shape("redis-server", key, &g);
        let compared = |x: &[(String, String)]| -> Vec<(String, String)> {
            x.iter()
                .filter(|(n, _)| !["Value at", "lru", "lru_seconds_idle"].contains(&n.as_str()))
                .cloned()
                .collect()
        };
        assert_eq!(
            compared(&f),
            compared(&g),
            "DEBUG OBJECT {key}: ringkv, redis-server"
        );
    }
    // Spot checks of values that do not depend on a comparison.
    let f = debug_object(&mut c, "shared");
    assert_eq!(field(&f, "refcount"), "2147483647");
    let f = debug_object(&mut c, "lfill3");
    assert_eq!(field(&f, "ql_avg_node"), "2.67");
    assert_eq!(field(&f, "ql_listpack_max"), "3");
    let f = debug_object(&mut c, "lfill5");
    assert_eq!(
        (field(&f, "ql_nodes"), field(&f, "ql_avg_node")),
        ("4", "4.25")
    );

    let errors = |c: &mut Raw| {
        vec![
            c.cmd_str(&["DEBUG", "OBJECT", "nokey"]),
            c.cmd_str(&["DEBUG", "object"]),
            c.cmd_str(&["DEBUG", "Object", "lsmall", "extra"]),
        ]
    };
    let ours_errors = errors(&mut c);
    assert_eq!(
        ours_errors,
        vec![
            Reply::Error("ERR no such key".into()),
            Reply::Error(
                "ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG \
                 HELP."
                    .into()
            ),
            Reply::Error(
                "ERR unknown subcommand or wrong number of arguments for 'Object'. Try DEBUG \
                 HELP."
                    .into()
            ),
        ]
    );
    let Reply::Array(Some(help)) = c.cmd_str(&["DEBUG", "HELP"]) else {
        panic!("DEBUG HELP")
    };
    assert!(
        help.contains(&Reply::Status("OBJECT <key>".into())),
        "{help:?}"
    );
    if let Some(r) = &redis {
        assert_eq!(ours_errors, errors(&mut r.raw()));
    }
}

/// INFO stats' keyspace_hits and keyspace_misses.
fn hits_misses(c: &mut Raw) -> (u64, u64) {
    let Reply::Bulk(Some(b)) = c.cmd_str(&["INFO", "stats"]) else {
        panic!("INFO stats")
    };
    let text = String::from_utf8(b).unwrap();
    let get = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in INFO stats"))
    };
    (get("keyspace_hits"), get("keyspace_misses"))
}

fn int(r: Reply) -> u64 {
    match r {
        Reply::Int(n) => u64::try_from(n).expect("non-negative"),
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// DEBUG OBJECT reads the access data without touching it: OBJECT IDLETIME keeps growing
/// across it, lru_seconds_idle agrees with IDLETIME, and no keyspace hit or miss is counted.
#[test]
fn debug_object_is_not_an_access() {
    let dir = TempDir::new("dobjidle");
    let mut servers = vec![("ringkv", start_ringkv(&dir))];
    if redis_installed() {
        servers.push(("redis-server", start_redis(&dir)));
    }
    for (_, srv) in &servers {
        assert_eq!(srv.raw().cmd_str(&["SET", "k", "v"]), Reply::ok());
    }
    // Idle times are whole seconds of the LRU clock: 1.1 s makes them at least 1.
    std::thread::sleep(Duration::from_millis(1100));
    for (who, srv) in &servers {
        let mut c = srv.raw();
        let before = int(c.cmd_str(&["OBJECT", "IDLETIME", "k"]));
        assert!(before >= 1, "{who}: IDLETIME {before}");
        let stats = hits_misses(&mut c);
        let f = debug_object(&mut c, "k");
        assert!(c.cmd_str(&["DEBUG", "OBJECT", "nokey"]).is_error());
        assert_eq!(
            hits_misses(&mut c),
            stats,
            "{who}: DEBUG OBJECT counted as a lookup"
        );
        let idle = field_u64(&f, "lru_seconds_idle");
        assert!(
            (before..=before + 1).contains(&idle),
            "{who}: IDLETIME {before}, lru_seconds_idle {idle}"
        );
        let after = int(c.cmd_str(&["OBJECT", "IDLETIME", "k"]));
        assert!(
            (before..=before + 1).contains(&after),
            "{who}: IDLETIME {before} before DEBUG OBJECT, {after} after"
        );
    }
}

/// Under an LFU policy the `lru` field is the LFU word (minutes << 8 | counter) and
/// lru_seconds_idle is computed from it as if it were an LRU clock, as Redis does.
#[test]
fn debug_object_under_lfu_shows_the_lfu_word() {
    let dir = TempDir::new("dobjlfu");
    let mut servers = vec![("ringkv", start_ringkv(&dir))];
    if redis_installed() {
        servers.push(("redis-server", start_redis(&dir)));
    }
    for (who, srv) in &servers {
        let mut c = srv.raw();
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]),
            Reply::ok()
        );
        let start_s = now_s();
        // Not a small integer: Redis would share it, with the shared object's access data.
        assert_eq!(c.cmd_str(&["SET", "k", "hello"]), Reply::ok());
        let f = debug_object(&mut c, "k");
        let end_s = now_s();
        let lru = field_u64(&f, "lru");
        // LFU_INIT_VAL, stamped with the minute of the write.
        assert_eq!(lru & 0xFF, 5, "{who}: {f:?}");
        let minutes = |s: u64| (s / 60) & 0xFFFF;
        assert!(
            (minutes(start_s)..=minutes(end_s)).contains(&(lru >> 8)),
            "{who}: {f:?}"
        );
        let idle = field_u64(&f, "lru_seconds_idle");
        assert!(
            (estimate_idle_s(lru, start_s)..=estimate_idle_s(lru, end_s)).contains(&idle)
                || (estimate_idle_s(lru, end_s)..=estimate_idle_s(lru, start_s)).contains(&idle),
            "{who}: lru {lru}, lru_seconds_idle {idle}, now {start_s}..{end_s}"
        );
    }
}

/// Skips one RDB string (a length-prefixed string or an integer encoding) starting at `i`.
fn skip_rdb_string(b: &[u8], i: usize) -> usize {
    let c = b[i];
    match c >> 6 {
        0 => i + 1 + usize::from(c & 0x3F),
        1 => i + 2 + (usize::from(c & 0x3F) << 8 | usize::from(b[i + 1])),
        2 => {
            assert_eq!(c, 0x80, "32-bit lengths are enough for aux fields");
            let n = u32::from_be_bytes(b[i + 1..i + 5].try_into().unwrap());
            i + 5 + n as usize
        }
        _ => match c & 0x3F {
            0 => i + 2,
            1 => i + 3,
            2 => i + 5,
            enc => panic!("unexpected string encoding {enc} in an aux field"),
        },
    }
}

/// A dump's records: what follows the header and the aux fields (which hold times and
/// memory sizes), up to the EOF opcode and checksum.
fn dump_records(dump: &[u8]) -> &[u8] {
    const HEADER_LEN: usize = 9;
    const TRAILER_LEN: usize = 9;
    let mut i = HEADER_LEN;
    while dump[i] == 0xFA {
        i = skip_rdb_string(dump, i + 1);
        i = skip_rdb_string(dump, i);
    }
    &dump[i..dump.len() - TRAILER_LEN]
}

/// Lists were written with nodes grouped by an 11-byte guess of an element's overhead
/// (Redis 7.0 assumes 8) and by the current list-max-listpack-size instead of the list's
/// own, so these two lists got other node boundaries in our dump than in redis-server's.
#[test]
fn list_nodes_in_dump_match_redis() {
    let mut records = Vec::new();
    for redis in [false, true] {
        let dir = TempDir::new("lnodes");
        let srv = if redis {
            start_redis(&dir)
        } else {
            start_ringkv(&dir)
        };
        let mut c = srv.raw();
        // Uncompressed, so that the node boundaries alone decide the bytes.
        let mut w = vec![s(&["CONFIG", "SET", "rdbcompression", "no"])];
        // 1363 entries of 6 bytes make a 8185-byte node: 8185 + 4 + 8 passes 8192 exactly
        // where the 11-byte guess cut one entry earlier.
        let mut l4 = s(&["RPUSH", "l4"]);
        l4.extend((0..2000).map(|_| b"abcd".to_vec()));
        w.push(l4);
        // Nodes of 5 made under fill 5 stay so after the setting changes.
        w.push(s(&["SELECT", "1"]));
        w.push(s(&["CONFIG", "SET", "list-max-listpack-size", "5"]));
        w.push(s(&[
            "RPUSH", "lfill5", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
        ]));
        w.push(s(&["CONFIG", "SET", "list-max-listpack-size", "-2"]));
        w.push(s(&["RPUSH", "lfill5", "k", "l"]));
        run_all(&mut c, &w);
        save(srv.port);
        let dump = std::fs::read(dir.dump()).expect("read dump");
        records.push(dump_records(&dump).to_vec());
    }
    assert!(
        records[0] == records[1],
        "records differ:\n ringkv {}\n redis  {}",
        common::escape(&records[0]),
        common::escape(&records[1])
    );
}

#[test]
fn debug_is_refused_unless_enabled() {
    let s = Server::start(&[]);
    let r = s.raw().cmd_str(&["DEBUG", "DIGEST"]);
    assert!(
        matches!(&r, Reply::Error(e) if e.starts_with("ERR DEBUG command not allowed.")),
        "{r:?}"
    );
}

#[test]
fn shutdown_save_nosave_and_schedule() {
    let dir = TempDir::new("shutdown");
    {
        let a = start_ringkv(&dir);
        let mut c = a.raw();
        assert_eq!(c.cmd_str(&["SET", "k", "v"]), Reply::ok());
        c.send(&common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
        let _ = c.expect_closed(Duration::from_secs(5));
    }
    assert!(!dir.dump().exists(), "NOSAVE wrote nothing");
    {
        let a = start_ringkv(&dir);
        let mut c = a.raw();
        assert_eq!(c.cmd_str(&["SET", "k", "v"]), Reply::ok());
        c.send(&common::encode(&[b"SHUTDOWN", b"SAVE"]));
        let _ = c.expect_closed(Duration::from_secs(5));
    }
    assert!(dir.dump().exists(), "SHUTDOWN SAVE wrote the dump");
    std::fs::remove_file(dir.dump()).unwrap();
    {
        // Plain SHUTDOWN saves when a schedule is configured.
        let a = Server::start_bin(
            &common::ringkv_bin(),
            &["--dir", dir.s(), "--save", "3600 1"],
        );
        let mut c = a.raw();
        assert_eq!(
            c.cmd_str(&["CONFIG", "GET", "save"]),
            Reply::Array(Some(vec![Reply::bulk(b"save"), Reply::bulk(b"3600 1")]))
        );
        assert_eq!(c.cmd_str(&["SET", "k2", "v"]), Reply::ok());
        c.send(&common::encode(&[b"SHUTDOWN"]));
        let _ = c.expect_closed(Duration::from_secs(5));
    }
    assert!(dir.dump().exists(), "plain SHUTDOWN with a schedule saved");
    let a = start_ringkv(&dir);
    let mut c = a.raw();
    assert_eq!(c.cmd_str(&["DBSIZE"]), Reply::Int(1));
    // The schedule saves by itself: one change after one second.
    std::fs::remove_file(dir.dump()).unwrap();
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "save", "1 1"]), Reply::ok());
    assert!(c.cmd_str(&["CONFIG", "SET", "save", "1"]).is_error());
    assert_eq!(c.cmd_str(&["SET", "k3", "v"]), Reply::ok());
    // The schedule runs a BGSAVE: wait for the file and for the job to be collected.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.dump().exists() || info_field(&mut c, "rdb_saves") != "1" {
        assert!(Instant::now() < deadline, "scheduled save did not happen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let info = match c.cmd_str(&["INFO", "persistence"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        r => panic!("{r:?}"),
    };
    for f in [
        "rdb_bgsave_in_progress:0",
        "rdb_last_bgsave_status:ok",
        "rdb_last_load_keys_loaded:1",
        "aof_enabled:0",
    ] {
        assert!(info.contains(f), "{f} in {info}");
    }
    assert!(info.contains("rdb_saves:1"), "{info}");
}

#[test]
fn corrupt_dump_stops_start_up_naming_file_and_offset() {
    let dir = TempDir::new("corrupt");
    {
        let a = start_ringkv(&dir);
        run_all(&mut a.raw(), &workload());
        save(a.port);
    }
    let good = std::fs::read(dir.dump()).unwrap();
    for bytes in [good[..good.len() / 2].to_vec(), {
        let mut b = good.clone();
        let n = b.len();
        b[n - 3] ^= 0x55; // the checksum
        b
    }] {
        std::fs::write(dir.dump(), &bytes).unwrap();
        let out = Command::new(common::ringkv_bin())
            .args([
                "--port",
                "0",
                "--unixsocket",
                &format!("{}/s.sock", dir.s()),
                "--dir",
                dir.s(),
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run ringkv");
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "start-up must fail: {text}");
        assert!(
            text.contains("dump.rdb") && text.contains("offset"),
            "{text}"
        );
    }
}

// ---- codec level ---------------------------------------------------------------------------

fn small_dump() -> Vec<u8> {
    let dir = TempDir::new("small");
    let a = start_ringkv(&dir);
    let mut c = a.raw();
    run_all(
        &mut c,
        &[
            s(&["SET", "a", "1"]),
            s(&["SET", "b", "hello world hello world hello world"]),
            s(&["RPUSH", "l", "x", "2"]),
            s(&["HSET", "h", "f", "v"]),
            s(&["SADD", "s", "1", "2"]),
            s(&["SADD", "t", "a"]),
            s(&["ZADD", "z", "1.5", "m"]),
            s(&["SET", "e", "v", "PX", "90000000"]),
        ],
    );
    save(a.port);
    std::fs::read(dir.dump()).unwrap()
}

fn dbs() -> Vec<Db> {
    (0..16).map(|_| Db::new()).collect()
}

#[test]
fn every_truncation_and_random_flips_are_errors_not_panics() {
    let good = small_dump();
    let opts = rdb::LoadOptions::new(1);
    assert!(rdb::load(&good, &mut dbs(), &opts).is_ok());
    for cut in 0..good.len() {
        let e = rdb::load(&good[..cut], &mut dbs(), &opts).expect_err("a truncated file must fail");
        assert!(e.offset <= cut, "offset {} beyond cut {cut}", e.offset);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut caught = 0;
    for _ in 0..5000 {
        let mut b = good.clone();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..b.len());
            b[i] ^= 1 << rng.gen_range(0..8);
        }
        if b == good {
            // Two flips of the same bit cancel out.
            caught += 1;
            continue;
        }
        match rdb::load(&b, &mut dbs(), &opts) {
            Err(_) => caught += 1,
            // A flip that makes an early EOF opcode followed by eight zero bytes (a trailer
            // that says "not checksummed") loads a prefix, as it would in Redis.
            Ok(st) => assert!(st.consumed < b.len(), "a corrupt file loaded whole"),
        }
    }
    assert!(caught > 4900, "{caught}");
    // Without the checksum, flips must still never panic. RDB_FUZZ_ITERS runs longer.
    let mut loose = rdb::LoadOptions::new(1);
    loose.verify_checksum = false;
    let iters: usize = std::env::var("RDB_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    for _ in 0..iters {
        let mut b = good.clone();
        let i = rng.gen_range(9..b.len());
        b[i] = rng.gen();
        let _ = rdb::load(&b, &mut dbs(), &loose);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let mut loose = rdb::LoadOptions::new(1);
    loose.verify_checksum = false;
    for _ in 0..20000 {
        let n = rng.gen_range(0..200);
        let mut b: Vec<u8> = b"REDIS0010".to_vec();
        b.extend((0..n).map(|_| rng.gen::<u8>()));
        let _ = rdb::load(&b, &mut dbs(), &loose);
    }
    // Huge lengths claim memory the file does not have: an error, not an allocation.
    let mut b = b"REDIS0010".to_vec();
    b.extend_from_slice(&[
        0xFE, 0x00, 0x12, 0x01, b'k', 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    assert!(rdb::load(&b, &mut dbs(), &loose).is_err());
    let mut b = b"REDIS0010".to_vec();
    b.extend_from_slice(&[
        0x00, 0x01, b'k', 0xC3, 0x01, 0x80, 0x7F, 0xFF, 0xFF, 0xFF, 0x00,
    ]);
    assert!(rdb::load(&b, &mut dbs(), &loose).is_err());
}

#[test]
fn load_into_reports_bytes_consumed_and_keeps_expired_keys() {
    let good = small_dump();
    let mut with_tail = good.clone();
    with_tail.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    let mut d = dbs();
    // Far in the future: "e" is past its deadline but an AOF preamble keeps it.
    let n = rdb::load_into(&with_tail, &mut d, u64::MAX / 2).unwrap();
    assert_eq!(n, good.len());
    assert_eq!(d[0].len(), 8);
    // A plain load skips it.
    let mut d = dbs();
    let st = rdb::load(&good, &mut d, &rdb::LoadOptions::new(u64::MAX / 2)).unwrap();
    assert_eq!((st.keys_loaded, st.keys_expired), (7, 1));
}

// ---- old encodings, crafted and loaded by both servers -------------------------------------

/// An RDB version 9 file holding every pre-7.0 encoding Redis 7.0 still loads.
fn legacy_dump() -> Vec<u8> {
    let mut f = b"REDIS0009".to_vec();
    f.push(0xFE);
    f.push(0);
    let key = |f: &mut Vec<u8>, t: u8, k: &str| {
        f.push(t);
        put_str(f, k.as_bytes());
    };
    let long = vec![b'q'; 300];
    // 10: list ziplist; 14: quicklist of ziplists; 1: plain list
    key(&mut f, 10, "lzip");
    put_str(
        &mut f,
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
    );
    key(&mut f, 14, "lquick");
    put_len(&mut f, 2);
    put_str(&mut f, &ziplist(&[b"x", b"1"]));
    put_str(&mut f, &ziplist(&[b"y", b"-2", &long]));
    key(&mut f, 1, "lplain");
    put_len(&mut f, 2);
    put_str(&mut f, b"p");
    put_str(&mut f, b"12");
    // 9: zipmap hash; 13: ziplist hash; 4: plain hash
    key(&mut f, 9, "hzipmap");
    put_str(&mut f, &zipmap(&[(b"f1", b"v1"), (b"f2", b"22")]));
    key(&mut f, 9, "hzipmaplong");
    put_str(&mut f, &zipmap(&[(b"f", &[b'w'; 100])]));
    key(&mut f, 13, "hzip");
    put_str(&mut f, &ziplist(&[b"f", b"v", b"n", b"42", b"long", &long]));
    key(&mut f, 4, "hplain");
    put_len(&mut f, 1);
    put_str(&mut f, b"a");
    put_str(&mut f, b"b");
    // 12: ziplist zset; 3: zset with text scores
    key(&mut f, 12, "zzip");
    put_str(&mut f, &ziplist(&[b"a", b"1", b"b", b"2.5", b"c", b"inf"]));
    key(&mut f, 3, "zold");
    put_len(&mut f, 3);
    for (m, sc) in [(&b"m1"[..], &b"1.5"[..]), (b"m2", b"-3")] {
        put_str(&mut f, m);
        f.push(sc.len() as u8);
        f.extend_from_slice(sc);
    }
    put_str(&mut f, b"m3");
    f.push(255); // -inf
                 // 2: plain set of integers (becomes an intset), 11: intset
    key(&mut f, 2, "splain");
    put_len(&mut f, 2);
    put_str(&mut f, b"5");
    put_str(&mut f, b"6");
    key(&mut f, 11, "sint");
    let mut is = Vec::new();
    is.extend_from_slice(&2u32.to_le_bytes());
    is.extend_from_slice(&3u32.to_le_bytes());
    for v in [-3i16, 0, 9] {
        is.extend_from_slice(&v.to_le_bytes());
    }
    put_str(&mut f, &is);
    // EXPIRETIME in seconds, far in the future
    f.push(0xFD);
    f.extend_from_slice(&2_000_000_000u32.to_le_bytes());
    key(&mut f, 0, "secttl");
    put_str(&mut f, b"v");
    f.push(0xFF);
    let sum = rdb::crc64(&f);
    f.extend_from_slice(&sum.to_le_bytes());
    f
}

#[test]
fn legacy_encodings_load_like_redis() {
    let bytes = legacy_dump();
    let dir_k = TempDir::new("legacy-k");
    let dir_r = TempDir::new("legacy-r");
    std::fs::write(dir_k.dump(), &bytes).unwrap();
    std::fs::write(dir_r.dump(), &bytes).unwrap();
    let r = start_redis(&dir_r);
    let k = start_ringkv(&dir_k);
    let sr = snapshot(r.port);
    assert_eq!(sr.len(), 12, "redis loaded every key");
    assert_same(&sr, &snapshot(k.port), "legacy encodings");
    assert_eq!(digest(k.port), digest(r.port));
}

// ---- model round trip ----------------------------------------------------------------------

#[test]
fn model_round_trip_random_keyspaces() {
    use ringkv::keyspace::value::Value;
    use ringkv::types::{hash, list::List, set::Set, zset};
    let hl = hash::Limits {
        entries_max: 16,
        value_len_max: 20,
    };
    let zl = zset::Limits {
        entries_max: 16,
        value_max: 20,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let now_ms = 1_700_000_000_000u64;
    for round in 0..40 {
        let mut src = dbs();
        let elem = |rng: &mut rand::rngs::StdRng| -> Vec<u8> {
            match rng.gen_range(0..4) {
                0 => rng.gen_range(-100_000i64..100_000).to_string().into_bytes(),
                1 => (0..rng.gen_range(0..30)).map(|_| rng.gen()).collect(),
                2 => vec![b'z'; rng.gen_range(0..100)],
                _ => rng.gen::<i64>().to_string().into_bytes(),
            }
        };
        for _ in 0..rng.gen_range(0..60) {
            let db = rng.gen_range(0..16);
            let key: Vec<u8> = (0..rng.gen_range(0..12)).map(|_| rng.gen()).collect();
            let n = rng.gen_range(1..40);
            let value = match rng.gen_range(0..5) {
                0 => Value::from_bytes(&elem(&mut rng)),
                1 => {
                    let mut l = List::new(if round % 2 == 0 { -2 } else { 3 });
                    for _ in 0..n {
                        l.push_back(&elem(&mut rng));
                    }
                    Value::List(Box::new(l))
                }
                2 => {
                    let mut h = hash::Hash::new();
                    for _ in 0..n {
                        h.set(&elem(&mut rng), &elem(&mut rng), hl);
                    }
                    Value::Hash(Box::new(h))
                }
                3 => {
                    let mut s = Set::new();
                    let ints = rng.gen_bool(0.5);
                    for _ in 0..n {
                        let e = if ints {
                            rng.gen::<i32>().to_string().into_bytes()
                        } else {
                            elem(&mut rng)
                        };
                        s.add(&e, 16);
                    }
                    Value::Set(Box::new(s))
                }
                _ => {
                    let mut z = zset::ZSet::new();
                    for _ in 0..n {
                        let m = elem(&mut rng);
                        if z.score(&m).is_some() {
                            continue;
                        }
                        let score = match rng.gen_range(0..6) {
                            0 => f64::INFINITY,
                            1 => f64::NEG_INFINITY,
                            2 => -0.0,
                            3 => rng.gen_range(-1000..1000) as f64,
                            _ => rng.gen::<f64>() * 1e10 - 5e9,
                        };
                        z.insert_new(&m, score, zl);
                    }
                    Value::ZSet(Box::new(z))
                }
            };
            src[db].set(&key, value, now_ms, false);
            if rng.gen_bool(0.2) {
                src[db].set_expire_at_ms(&key, now_ms + rng.gen_range(1..1_000_000), now_ms);
            }
        }
        for compression in [false, true] {
            let opts = rdb::SaveOptions {
                compression,
                checksum: true,
                aux: rdb::SaveOptions::aux_redis_7(1, 2, false),
                functions: Vec::new(),
            };
            let mut bytes = Vec::new();
            rdb::save_to(&src, &mut bytes, &opts);
            let mut dst = dbs();
            let mut lo = rdb::LoadOptions::new(now_ms);
            lo.limits.hash = hl;
            lo.limits.zset = zl;
            lo.limits.set_intset_entries_max = 16;
            let st = rdb::load(&bytes, &mut dst, &lo).unwrap();
            assert_eq!(st.consumed, bytes.len());
            assert_eq!(
                ringkv::cmd::debug::dataset_digest(&src),
                ringkv::cmd::debug::dataset_digest(&dst),
                "round {round}"
            );
            for (a, b) in src.iter().zip(&dst) {
                assert_eq!(a.len(), b.len());
                b.check_invariants();
                a.for_each_with_expiry(|k, v, ttl| {
                    let mut found = None;
                    b.for_each_with_expiry(|k2, v2, ttl2| {
                        if k2 == k {
                            found = Some((v2.encoding(), ttl2, v2 == v));
                        }
                    });
                    let (enc, ttl2, same) = found.expect("key survives");
                    // A string's raw/embstr split is by length after a load, as in Redis.
                    if v.value_type() != ringkv::keyspace::value::ValueType::String {
                        assert_eq!(enc, v.encoding());
                        assert!(same, "value of {k:?} differs");
                    }
                    assert_eq!(ttl2, ttl);
                });
            }
        }
    }
}

// ---- signals and failures ------------------------------------------------------------------

#[test]
fn sigterm_saves_when_a_schedule_is_configured() {
    let dir = TempDir::new("sigterm");
    let a = Server::start_bin(
        &common::ringkv_bin(),
        &["--dir", dir.s(), "--save", "3600 1"],
    );
    assert_eq!(a.raw().cmd_str(&["SET", "k", "v"]), Reply::ok());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(a.pid() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("send SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.dump().exists() {
        assert!(Instant::now() < deadline, "no dump after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(a);
    let mut d = dbs();
    let st = rdb::load(
        &std::fs::read(dir.dump()).unwrap(),
        &mut d,
        &rdb::LoadOptions::new(1),
    )
    .unwrap();
    assert_eq!(st.keys_loaded, 1);
}

#[test]
fn failed_save_is_reported_and_blocks_shutdown_unless_forced() {
    let dir = TempDir::new("fail");
    let gone = TempDir::new("gone");
    let a = Server::start_bin(
        &common::ringkv_bin(),
        &[
            "--dir",
            dir.s(),
            "--save",
            "3600 1",
            "--enable-protected-configs",
            "yes",
        ],
    );
    let mut c = a.raw();
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "dir", gone.s()]), Reply::ok());
    std::fs::remove_dir_all(gone.s()).unwrap();
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(c.cmd_str(&["SAVE"]), Reply::Error("ERR".into()));
    let info = match c.cmd_str(&["INFO", "persistence"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        r => panic!("{r:?}"),
    };
    // As redis-server 7.0.15: a failed SAVE is not a failed background save.
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
    assert!(info.contains("rdb_changes_since_last_save:1"), "{info}");
    assert_eq!(
        c.cmd_str(&["SHUTDOWN"]),
        Reply::Error("ERR Errors trying to SHUTDOWN. Check logs.".into())
    );
    assert_eq!(c.cmd_str(&["PING"]), Reply::Status("PONG".into()));
    c.send(&common::encode(&[b"SHUTDOWN", b"FORCE"]));
    c.expect_closed(Duration::from_secs(5))
        .expect("FORCE exits");
}

/// A dump redis-server 7.0.15 wrote (see tests/data/README.md): every type in small and
/// large encodings. Its DEBUG DIGEST, taken on that redis-server, is the expected value.
#[test]
fn fixture_from_redis_7_0_15_loads_with_its_digest() {
    let bytes = include_bytes!("data/redis-7.0.15-types.rdb");
    let dir = TempDir::new("fixture");
    std::fs::write(dir.dump(), bytes).unwrap();
    let k = start_ringkv(&dir);
    let want = include_str!("data/redis-7.0.15-types.digest").trim();
    assert_eq!(digest(k.port), want);
    let st = rdb::load(bytes, &mut dbs(), &rdb::LoadOptions::new(1)).unwrap();
    assert_eq!(st.version, 10);
    assert!(st
        .aux
        .iter()
        .any(|(k, v)| k == b"redis-ver" && v == b"7.0.15"));
}

#[test]
fn mutations_of_a_redis_dump_never_panic() {
    let good: &[u8] = include_bytes!("data/redis-7.0.15-types.rdb");
    let mut loose = rdb::LoadOptions::new(1);
    loose.verify_checksum = false;
    let iters: usize = std::env::var("RDB_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    for _ in 0..iters {
        let mut b = good.to_vec();
        for _ in 0..rng.gen_range(1..6) {
            let i = rng.gen_range(9..b.len());
            match rng.gen_range(0..4) {
                0 => b[i] = rng.gen(),
                1 => b[i] ^= 1 << rng.gen_range(0..8),
                2 => {
                    b.remove(i);
                }
                _ => b.insert(i, rng.gen()),
            }
        }
        let mut d = dbs();
        if let Ok(st) = rdb::load(&b, &mut d, &loose) {
            assert!(st.consumed <= b.len());
            for db in &d {
                db.check_invariants();
                db.for_each_with_expiry(|_, v, _| match v {
                    ringkv::keyspace::value::Value::List(l) => l.check_invariants(),
                    ringkv::keyspace::value::Value::Hash(h) => h.check_invariants(),
                    ringkv::keyspace::value::Value::Set(s) => s.check_invariants(),
                    _ => {}
                });
            }
        }
    }
}

/// Loading applies the current encoding limits the way Redis 7.0 does (a listpack from the
/// file converts only when it has too many entries; plain encodings are rebuilt under the
/// limits): both servers load the same file under small limits and must agree.
#[test]
fn load_time_conversions_match_redis_under_small_limits() {
    let dir_k = TempDir::new("limits-k");
    let dir_r = TempDir::new("limits-r");
    {
        let a = start_ringkv(&dir_k);
        run_all(&mut a.raw(), &workload());
        save(a.port);
    }
    std::fs::copy(dir_k.dump(), dir_r.dump()).unwrap();
    let k = start_ringkv(&dir_k);
    let r = start_redis(&dir_r);
    for (name, value) in [
        ("hash-max-listpack-entries", "2"),
        ("hash-max-listpack-value", "3"),
        ("set-max-intset-entries", "3"),
        ("zset-max-listpack-entries", "4"),
        ("zset-max-listpack-value", "1"),
        ("list-max-listpack-size", "4"),
    ] {
        for srv in [&k, &r] {
            assert_eq!(
                srv.raw().cmd_str(&["CONFIG", "SET", name, value]),
                Reply::ok()
            );
        }
    }
    for srv in [&k, &r] {
        assert_eq!(
            srv.raw().cmd_str(&["DEBUG", "RELOAD", "NOSAVE"]),
            Reply::ok()
        );
    }
    assert_same(&snapshot(r.port), &snapshot(k.port), "small limits");
    assert_eq!(digest(k.port), digest(r.port));
}

// ---- BGSAVE ------------------------------------------------------------------------------

/// Starts ringkv with small BGSAVE slices so a snapshot spans many loop ticks.
fn start_slow_saver(dir: &TempDir) -> Server {
    Server::start_bin_env(
        &common::ringkv_bin(),
        &[
            "--dir",
            dir.s(),
            "--hz",
            "100",
            "--enable-debug-command",
            "yes",
        ],
        &[("RINGKV_BGSAVE_SLICE_KEYS", "3")],
    )
}

fn info_field(c: &mut Raw, field: &str) -> String {
    info_fields(c, &[field]).remove(0)
}

/// Fields of one INFO persistence reply (one reply, so they describe the same instant).
fn info_fields(c: &mut Raw, fields: &[&str]) -> Vec<String> {
    let Reply::Bulk(Some(b)) = c.cmd_str(&["INFO", "persistence"]) else {
        panic!("INFO")
    };
    let text = String::from_utf8(b).unwrap();
    fields
        .iter()
        .map(|field| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
                .unwrap_or_else(|| panic!("{field} missing in {text}"))
        })
        .collect()
}

#[test]
fn bgsave_is_a_point_in_time_snapshot_while_writes_continue() {
    let dir = TempDir::new("bgsave");
    let srv = start_slow_saver(&dir);
    let mut c = Raw::connect(srv.port);
    let mut setup = Vec::new();
    for db in 0..4 {
        setup.push(s(&["SELECT", &db.to_string()]));
        for i in 0..600 {
            setup.push(s(&["SET", &format!("k{i}"), &format!("v{i}-{db}")]));
        }
        setup.push(s(&["RPUSH", "list", "a", "b", "c"]));
        setup.push(s(&["HSET", "hash", "f", "v"]));
        setup.push(s(&["ZADD", "zset", "1", "m", "2", "n"]));
        setup.push(s(&["SADD", "set", "1", "2"]));
        setup.push(s(&["SET", "ttl", "t", "PX", "100000000"]));
        setup.push(s(&["SET", "soon", "x"]));
    }
    setup.push(s(&["SELECT", "0"]));
    run_all(&mut c, &setup);
    let before = digest(srv.port);
    assert_eq!(
        c.cmd_str(&["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    assert_eq!(
        c.cmd_str(&["BGSAVE"]),
        Reply::Error("ERR Background save already in progress".into())
    );
    assert_eq!(
        c.cmd_str(&["SAVE"]),
        Reply::Error("ERR Background save already in progress".into())
    );
    // Every kind of change, in every database, while the walk is under way.
    let mut during = Vec::new();
    for db in 0..4 {
        during.push(s(&["SELECT", &db.to_string()]));
        for i in (0..600).step_by(3) {
            during.push(s(&["SET", &format!("k{i}"), "changed"]));
            during.push(s(&["DEL", &format!("k{}", i + 1)]));
            during.push(s(&["SET", &format!("new{i}"), "new"]));
        }
        during.push(s(&["RPUSH", "list", "d"]));
        during.push(s(&["HSET", "hash", "g", "w"]));
        during.push(s(&["ZINCRBY", "zset", "5", "m"]));
        during.push(s(&["SREM", "set", "1"]));
        during.push(s(&["PERSIST", "ttl"]));
        during.push(s(&["PEXPIRE", "soon", "1"]));
        during.push(s(&["RENAME", "k2", "renamed"]));
    }
    during.push(s(&["SWAPDB", "1", "2"]));
    during.push(s(&["SELECT", "3"]));
    during.push(s(&["FLUSHDB"]));
    during.push(s(&["SELECT", "0"]));
    during.push(s(&["MOVE", "k5", "3"]));
    run_all(&mut c, &during);
    assert_eq!(
        info_field(&mut c, "rdb_bgsave_in_progress"),
        "1",
        "the changes must land while the walk is under way"
    );
    assert_ne!(digest(srv.port), before);
    let deadline = Instant::now() + Duration::from_secs(60);
    while info_field(&mut c, "rdb_bgsave_in_progress") == "1" {
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&mut c, "rdb_saves"), "1");
    // The file holds the data as it was when BGSAVE began.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut d = dbs();
    let st = rdb::load(
        &std::fs::read(dir.dump()).unwrap(),
        &mut d,
        &rdb::LoadOptions::new(now_ms),
    )
    .unwrap();
    assert_eq!(st.keys_loaded, 4 * 606);
    let got: String = ringkv::cmd::debug::dataset_digest(&d)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(got, before);
    // redis-check-rdb accepts a file whose databases are interleaved.
    let out = Command::new("redis-check-rdb")
        .arg(dir.dump())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(c.cmd_str(&["BGSAVE", "NOW"]).is_error());
    // A job in progress stops for DEBUG RELOAD (which saves synchronously) and leaves no
    // temp file behind.
    assert_eq!(
        c.cmd_str(&["BGSAVE", "SCHEDULE"]),
        Reply::Status("Background saving started".into())
    );
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    let during_reload = digest(srv.port);
    assert_eq!(c.cmd_str(&["DEBUG", "RELOAD"]), Reply::ok());
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "0");
    assert_eq!(digest(srv.port), during_reload);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path_buf())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // And for SHUTDOWN SAVE, which then writes the current data.
    assert_eq!(c.cmd_str(&["SET", "last", "1"]), Reply::ok());
    assert_eq!(
        c.cmd_str(&["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    let final_digest = digest(srv.port);
    c.send(&common::encode(&[b"SHUTDOWN", b"SAVE"]));
    let _ = c.expect_closed(Duration::from_secs(10));
    let mut d = dbs();
    rdb::load(
        &std::fs::read(dir.dump()).unwrap(),
        &mut d,
        &rdb::LoadOptions::new(now_ms),
    )
    .unwrap();
    let got: String = ringkv::cmd::debug::dataset_digest(&d)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(got, final_digest);
}

/// Model check of the copy-on-write walk: random changes (writes, deletes, TTL changes,
/// expiry, flushes) interleaved with small snapshot steps; what the walk emits must equal the
/// database as it was when the snapshot began, each key exactly once.
#[test]
fn cow_walk_emits_the_start_state_exactly_once() {
    use ringkv::keyspace::value::Value;
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    for round in 0..60 {
        let mut db = Db::new();
        let mut now_ms = 1_000_000u64;
        let keys: Vec<Vec<u8>> = (0..rng.gen_range(0..300))
            .map(|i| format!("k{i}").into_bytes())
            .collect();
        for k in &keys {
            if rng.gen_bool(0.7) {
                db.set(
                    k,
                    Value::from_bytes(&rng.gen::<u32>().to_string().into_bytes()),
                    now_ms,
                    false,
                );
                if rng.gen_bool(0.3) {
                    db.set_expire_at_ms(k, now_ms + rng.gen_range(0..2000), now_ms);
                }
            }
        }
        let mut want = BTreeMap::new();
        db.for_each_with_expiry(|k, v, d| {
            want.insert(k.to_vec(), (format!("{v:?}"), d));
        });
        db.snapshot_begin(round % 16);
        let mut got: BTreeMap<Vec<u8>, (String, Option<u64>)> = BTreeMap::new();
        let mut emit = |idx: usize, k: &[u8], v: &Value, d: Option<u64>| {
            assert_eq!(idx, round % 16);
            let prev = got.insert(k.to_vec(), (format!("{v:?}"), d));
            assert!(prev.is_none(), "key {k:?} emitted twice");
        };
        let mut done = false;
        for _ in 0..100_000 {
            if done {
                break;
            }
            for _ in 0..rng.gen_range(0..6) {
                let k = format!("k{}", rng.gen_range(0..400)).into_bytes();
                match rng.gen_range(0..9) {
                    0 | 1 => {
                        db.set(&k, Value::from_bytes(b"new"), now_ms, rng.gen_bool(0.5));
                    }
                    2 => {
                        db.remove(&k, now_ms);
                    }
                    3 => {
                        if let Some(Value::Int(n)) = db.get_mut(&k, now_ms) {
                            *n += 1;
                        }
                    }
                    4 => {
                        db.set_expire_at_ms(&k, now_ms + rng.gen_range(0..50), now_ms);
                    }
                    5 => {
                        db.persist(&k, now_ms);
                    }
                    6 => {
                        now_ms += rng.gen_range(0..30);
                        db.active_expire(now_ms, 10, Instant::now() + Duration::from_secs(1));
                    }
                    7 if rng.gen_bool(0.05) => drop(db.take_all()),
                    _ => {
                        db.take(&k, now_ms);
                    }
                }
            }
            done = db.snapshot_step(rng.gen_range(1..8), &mut emit);
        }
        assert!(done, "walk finished");
        db.snapshot_end();
        db.check_invariants();
        assert_eq!(got, want, "round {round}");
    }
}

/// A ringkv whose BGSAVE and AOF rewrite both advance a few keys per tick (the test knobs),
/// so a test can act while either runs.
fn start_slow_jobs(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.s(), "--hz", "100", "--save", ""];
    args.extend_from_slice(extra);
    Server::start_bin_env(
        &common::ringkv_bin(),
        &args,
        &[
            ("RINGKV_BGSAVE_SLICE_KEYS", "3"),
            ("RINGKV_AOF_REWRITE_SLICE_KEYS", "3"),
        ],
    )
}

/// The same slowness on redis-server: each key of a BGSAVE or rewrite child waits 5 ms.
fn start_slow_redis(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.s(), "--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    let srv = Server::start_redis(&args);
    let mut c = srv.raw();
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "rdb-key-save-delay", "5000"]),
        Reply::ok()
    );
    srv
}

fn wait_info(c: &mut Raw, done: impl Fn(&mut Raw) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(c) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn idle(c: &mut Raw) -> bool {
    // One INFO reply: read from three, a scheduled rewrite starting between the reads (Redis
    // starts it from its cron) looked idle.
    let f = info_fields(
        c,
        &[
            "rdb_bgsave_in_progress",
            "aof_rewrite_in_progress",
            "aof_rewrite_scheduled",
        ],
    );
    f.iter().all(|v| v == "0")
}

/// Keys the BGSAVE/rewrite scripts load first (`k0`.. with value `v`).
const SCRIPT_KEYS: usize = 200;

fn load_script_keys(c: &mut Raw) {
    let set: Vec<_> = (0..SCRIPT_KEYS)
        .map(|i| s(&["SET", &format!("k{i}"), "v"]))
        .collect();
    run_all(c, &set);
}

/// Sends one command of a script and records it with its reply.
fn ask(c: &mut Raw, seen: &mut Vec<(String, String)>, args: &[&str]) {
    seen.push((args.join(" "), format!("{:?}", c.cmd_str(args))));
}

/// BGSAVE and the AOF rewrite walk the same copy-on-write logs, so ringkv never runs them
/// together; what each answers while the other runs, and that the scheduled one runs later,
/// must match redis-server 7.0.
fn bgsave_and_rewrite_exclusion_script(c: &mut Raw) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    load_script_keys(c);
    let saves0: u64 = info_field(c, "rdb_saves").parse().unwrap();
    let rewrites0: u64 = info_field(c, "aof_rewrites").parse().unwrap();
    let field = |c: &mut Raw, seen: &mut Vec<(String, String)>, f: &str| {
        seen.push((f.to_string(), info_field(c, f)));
    };
    ask(c, &mut seen, &["BGSAVE"]);
    ask(c, &mut seen, &["BGSAVE"]);
    ask(c, &mut seen, &["BGREWRITEAOF"]);
    field(c, &mut seen, "rdb_bgsave_in_progress");
    field(c, &mut seen, "aof_rewrite_scheduled");
    field(c, &mut seen, "aof_rewrite_in_progress");
    ask(c, &mut seen, &["BGREWRITEAOF"]);
    wait_info(
        c,
        |c| info_field(c, "aof_rewrite_in_progress") == "1",
        "the scheduled rewrite to start",
    );
    field(c, &mut seen, "rdb_bgsave_in_progress");
    field(c, &mut seen, "aof_rewrite_scheduled");
    ask(c, &mut seen, &["BGSAVE"]);
    ask(c, &mut seen, &["BGREWRITEAOF"]);
    ask(c, &mut seen, &["BGSAVE", "SCHEDULE"]);
    ask(c, &mut seen, &["BGSAVE", "SCHEDULE"]);
    field(c, &mut seen, "rdb_bgsave_in_progress");
    wait_info(
        c,
        |c| idle(c) && info_field(c, "rdb_saves").parse::<u64>().unwrap() >= saves0 + 2,
        "the scheduled BGSAVE to finish",
    );
    let saves: u64 = info_field(c, "rdb_saves").parse().unwrap();
    let rewrites: u64 = info_field(c, "aof_rewrites").parse().unwrap();
    seen.push(("rdb_saves".into(), (saves - saves0).to_string()));
    seen.push(("aof_rewrites".into(), (rewrites - rewrites0).to_string()));
    field(c, &mut seen, "rdb_last_bgsave_status");
    field(c, &mut seen, "aof_last_bgrewrite_status");
    // Both files hold the whole dataset.
    ask(c, &mut seen, &["DEBUG", "RELOAD", "NOSAVE"]);
    ask(c, &mut seen, &["DBSIZE"]);
    seen
}

/// Runs `script` against ringkv and redis-server (both with slow background jobs and the
/// extra flags given), compares what each said, then restarts ringkv from the AOF its run
/// left: it must hold the scripts' keys.
fn same_as_redis_then_restart(
    tag: &str,
    ours_extra: &[&str],
    redis_extra: &[&str],
    script: fn(&mut Raw) -> Vec<(String, String)>,
) {
    let d1 = TempDir::new(&format!("{tag}-ringkv"));
    let d2 = TempDir::new(&format!("{tag}-redis"));
    let mut ours_args = vec!["--enable-debug-command", "yes"];
    ours_args.extend_from_slice(ours_extra);
    let ours = start_slow_jobs(&d1, &ours_args);
    let theirs = start_slow_redis(&d2, redis_extra);
    let got = script(&mut Raw::connect(ours.port));
    let want = script(&mut theirs.raw());
    assert_eq!(got, want);
    drop(ours);
    let ours = start_slow_jobs(&d1, &["--appendonly", "yes"]);
    assert_eq!(
        Raw::connect(ours.port).cmd_str(&["DBSIZE"]),
        Reply::Int(SCRIPT_KEYS as i64)
    );
}

#[test]
fn bgsave_and_rewrite_never_overlap_as_in_redis() {
    // The restart also checks that the AOF the rewrite wrote loads.
    same_as_redis_then_restart(
        "excl",
        &["--appendonly", "yes"],
        &["--appendonly", "yes"],
        bgsave_and_rewrite_exclusion_script,
    );
}

/// With the AOF off: BGREWRITEAOF during a BGSAVE is scheduled and writes a base once the
/// save ends, and `CONFIG SET appendonly yes` during a BGSAVE turns the AOF on when it ends;
/// INFO says so meanwhile, as redis-server does.
fn aof_off_during_bgsave_script(c: &mut Raw) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    load_script_keys(c);
    let rewrites0: u64 = info_field(c, "aof_rewrites").parse().unwrap();
    let fields = |c: &mut Raw, seen: &mut Vec<(String, String)>| {
        let names = [
            "aof_enabled",
            "aof_rewrite_scheduled",
            "aof_rewrite_in_progress",
            "rdb_bgsave_in_progress",
        ];
        for (f, v) in names.iter().zip(info_fields(c, &names)) {
            seen.push((f.to_string(), v));
        }
    };
    ask(c, &mut seen, &["BGSAVE"]);
    ask(c, &mut seen, &["BGREWRITEAOF"]);
    fields(c, &mut seen);
    wait_info(c, idle, "the save and the scheduled rewrite");
    let rewrites: u64 = info_field(c, "aof_rewrites").parse().unwrap();
    seen.push(("aof_rewrites".into(), (rewrites - rewrites0).to_string()));
    ask(c, &mut seen, &["BGSAVE"]);
    ask(c, &mut seen, &["CONFIG", "SET", "appendonly", "yes"]);
    fields(c, &mut seen);
    wait_info(
        c,
        |c| idle(c) && info_field(c, "aof_enabled") == "1",
        "the save and the first base",
    );
    fields(c, &mut seen);
    seen
}

#[test]
fn aof_off_rewrite_and_enabling_wait_for_bgsave_as_in_redis() {
    // The restart also checks that the first base holds the dataset.
    same_as_redis_then_restart("aofoff", &[], &[], aof_off_during_bgsave_script);
}

/// Long lists made under `list-compress-depth` (1 and 2) in each server: the dump of each
/// server loads into the other with the same contents (DEBUG DIGEST and LRANGE), with and
/// without compression set on the loading side, and Redis's dump of a list holds its interior
/// nodes as LZF blobs, as ringkv's does.
#[test]
fn compressed_lists_cross_both_ways() {
    let workload = |depth: &str| {
        let mut w = vec![
            s(&["CONFIG", "SET", "list-compress-depth", depth]),
            s(&["CONFIG", "SET", "rdbcompression", "no"]),
        ];
        let mut l = s(&["RPUSH", "long"]);
        l.extend((0..5_000).map(|i| format!("element-{:040}", i % 100).into_bytes()));
        w.push(l);
        // LSET and LINSERT in the middle rewrite compressed nodes.
        w.push(s(&["LSET", "long", "2500", "changed"]));
        w.push(s(&["LINSERT", "long", "BEFORE", "changed", "inserted"]));
        let mut short = s(&["LPUSH", "short"]);
        short.extend((0..10).map(|i| format!("{i}").into_bytes()));
        w.push(short);
        w
    };
    for depth in ["1", "2"] {
        let mut dumps = Vec::new();
        let mut digests = Vec::new();
        for redis in [false, true] {
            let dir = TempDir::new("lzfl");
            let srv = if redis {
                start_redis(&dir)
            } else {
                start_ringkv(&dir)
            };
            run_all(&mut srv.raw(), &workload(depth));
            digests.push(digest(srv.port));
            save(srv.port);
            let dump = std::fs::read(dir.dump()).expect("read dump");
            dumps.push(dump);
        }
        assert_eq!(digests[0], digests[1], "depth {depth}: same contents");
        for d in &dumps {
            // Redis's LZF string marker after the node container byte (2 = packed).
            assert!(
                d.windows(2).any(|w| w == [2, 0xC3]),
                "depth {depth}: a dump without LZF nodes"
            );
        }
        // Each dump into the other server, with compression on and off there.
        for (from, dump) in ["ringkv", "redis"].iter().zip(&dumps) {
            for load_depth in ["0", depth] {
                for into_redis in [false, true] {
                    let dir = TempDir::new("lzfl-load");
                    std::fs::write(dir.dump(), dump).expect("write dump");
                    let args = [
                        "--dir",
                        dir.s(),
                        "--list-compress-depth",
                        load_depth,
                        "--enable-debug-command",
                        "yes",
                    ];
                    let srv = if into_redis {
                        Server::start_redis(&args)
                    } else {
                        Server::start_bin(&common::ringkv_bin(), &args)
                    };
                    let mut c = srv.raw();
                    c.wait_loaded();
                    assert_eq!(
                        digest_of(&mut c),
                        digests[0],
                        "{from}'s dump (depth {depth}) loaded by {} with depth {load_depth}",
                        if into_redis { "redis" } else { "ringkv" }
                    );
                    assert_eq!(
                        c.cmd_str(&["LINDEX", "long", "2501"]),
                        Reply::bulk(b"changed")
                    );
                }
            }
        }
    }
}

fn digest_of(c: &mut Raw) -> String {
    status(c.cmd_str(&["DEBUG", "DIGEST"]))
}

/// redis-check-rdb's counts of a dump: keys read, expires, already expired.
fn check_rdb_counts(path: &std::path::Path) -> Vec<String> {
    let out = Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("run redis-check-rdb");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("RDB looks OK"), "redis-check-rdb: {text}");
    text.lines()
        .filter(|l| l.starts_with("[info]"))
        .map(str::to_string)
        .collect()
}

/// A key past its deadline that nothing has reaped yet (active expiry off) is in every
/// snapshot — SAVE, BGSAVE, the AOF rewrite's base in both forms — as Redis 7.0 writes it;
/// a load as a primary (start-up, DEBUG RELOAD) leaves it out and a load as a replica keeps
/// it, on both servers. (A replica restarted from its own dump used to lose such keys while
/// its primary still had them.)
#[test]
fn expired_but_unreaped_keys_are_saved_and_kept_by_a_replica() {
    let setup: Vec<Vec<Vec<u8>>> = vec![
        s(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
        s(&["SET", "old-str", "1", "PXAT", "1000"]),
        s(&["SET", "kept", "2"]),
        s(&["SET", "later", "3", "PXAT", "99999999999999"]),
    ];
    let mut seen: Vec<Vec<String>> = Vec::new();
    for redis in [false, true] {
        let dir = TempDir::new(if redis { "exp-r" } else { "exp-a" });
        let start = |extra: &[&str]| {
            let mut args = vec!["--dir", dir.s(), "--enable-debug-command", "yes"];
            args.extend_from_slice(extra);
            if redis {
                Server::start_redis(&args)
            } else {
                Server::start_bin(&common::ringkv_bin(), &args)
            }
        };
        let mut out = Vec::new();
        {
            let srv = start(&[]);
            let mut c = srv.raw();
            run_all(&mut c, &setup);
            out.push(format!("dbsize {:?}", c.cmd_str(&["DBSIZE"])));
            out.push(format!("digest {:?}", c.cmd_str(&["DEBUG", "DIGEST"])));
            // A list past its deadline too (PEXPIREAT in the past would delete it at once).
            run_all(
                &mut c,
                &[
                    s(&["RPUSH", "old-list", "a", "b"]),
                    s(&["PEXPIRE", "old-list", "1"]),
                ],
            );
            std::thread::sleep(Duration::from_millis(5));
            out.push(format!("dbsize {:?}", c.cmd_str(&["DBSIZE"])));
            save(srv.port);
            out.extend(check_rdb_counts(&dir.dump()));
            std::fs::remove_file(dir.dump()).unwrap();
            assert_eq!(
                c.cmd_str(&["BGSAVE"]),
                Reply::Status("Background saving started".into())
            );
            wait_info(&mut c, idle, "the BGSAVE");
            out.extend(check_rdb_counts(&dir.dump()));
            // The AOF's base, without and with the RDB preamble.
            for preamble in ["no", "yes"] {
                run_all(
                    &mut c,
                    &[s(&["CONFIG", "SET", "aof-use-rdb-preamble", preamble])],
                );
                let was_on = matches!(
                    c.cmd_str(&["CONFIG", "GET", "appendonly"]),
                    Reply::Array(Some(ref a)) if a[1] == Reply::bulk(b"yes")
                );
                if was_on {
                    c.cmd_str(&["BGREWRITEAOF"]);
                } else {
                    run_all(&mut c, &[s(&["CONFIG", "SET", "appendonly", "yes"])]);
                }
                wait_info(&mut c, idle, "the rewrite");
                let base = std::fs::read(common::files::aof_file(&dir.path_buf(), 'b')).unwrap();
                let holds = |k: &[u8]| base.windows(k.len()).any(|w| w == k);
                out.push(format!(
                    "base preamble={preamble} old-str={} old-list={} kept={}",
                    holds(b"old-str"),
                    holds(b"old-list"),
                    holds(b"kept")
                ));
            }
            run_all(&mut c, &[s(&["CONFIG", "SET", "appendonly", "no"])]);
            // DEBUG RELOAD saves and loads as a primary: the expired keys go.
            run_all(&mut c, &[s(&["DEBUG", "RELOAD"])]);
            out.push(format!("after reload {:?}", c.cmd_str(&["DBSIZE"])));
            out.push(format!(
                "reload digest {:?}",
                c.cmd_str(&["DEBUG", "DIGEST"])
            ));
        }
        // The BGSAVE dump (all four keys) loaded by a replica keeps the expired ones, and
        // loaded by a primary does not.
        let port = common::free_port().to_string();
        for (what, extra) in [
            ("replica", vec!["--replicaof", "127.0.0.1", port.as_str()]),
            ("primary", vec![]),
        ] {
            let srv = start(&extra);
            let mut c = srv.raw();
            c.wait_loaded();
            out.push(format!("{what} load {:?}", c.cmd_str(&["DBSIZE"])));
        }
        seen.push(out);
    }
    assert_eq!(seen[0], seen[1], "ringkv vs redis-server");
    // Not a vacuous match: the expired keys were in the files and the replica kept them.
    let ours = seen[0].join("\n");
    for want in [
        "dbsize :4",
        "[info] 4 keys read",
        "[info] 2 already expired",
        "base preamble=no old-str=true old-list=true kept=true",
        "base preamble=yes old-str=true old-list=true kept=true",
        "replica load :4",
        "primary load :2",
        "after reload :2",
    ] {
        assert!(ours.contains(want), "{want} not in:\n{ours}");
    }
}
