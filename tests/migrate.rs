//! MIGRATE, differential: the same scenario runs with ringkv and with redis-server 7.0.15 as
//! the source, each moving keys to fresh redis-server targets (one open, one with a password
//! and an ACL user), and the replies, both sides' data (TTLs as "has one"), the DELs the
//! source's AOF records and the connections the target sees must agree. Then a redis-server
//! source migrates into a ringkv target (our RESTORE of its payloads), and a target that
//! never answers gives the read timeout error on both.

mod common;

use common::diff::{dump, text, Dump};
use common::{Raw, Reply, Server};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A dump with each key's deadline reduced to whether it has one (a migrated TTL is
/// relative, so the target's deadline moves by the milliseconds the transfer took).
fn data(port: u16) -> BTreeMap<(u32, String), (String, String, bool)> {
    let d: Dump = dump(port);
    d.into_iter()
        .map(|(k, (t, v, at))| (k, (t, v, at > 0)))
        .collect()
}

fn run(c: &mut Raw, line: &str) -> Reply {
    let args: Vec<&str> = line.split_whitespace().collect();
    c.cmd_str(&args)
}

/// MIGRATE's key argument as the empty string needs a real empty argument.
fn migrate_keys(c: &mut Raw, port: u16, db: &str, opts: &[&str], keys: &[&str]) -> Reply {
    let port = port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", db, "5000"];
    args.extend_from_slice(opts);
    args.push("KEYS");
    args.extend_from_slice(keys);
    c.cmd_str(&args)
}

/// The scenario's replies, with target ports written as T and A in the lines.
fn scenario(src: &Server, open: &Server, authed: &Server, closed_port: u16) -> Vec<String> {
    let mut c = src.raw();
    let mut t = open.raw();
    let mut replies = Vec::new();
    let mut log = |what: &str, r: Reply| replies.push(format!("{what}: {r:?}"));
    for line in [
        "SET s1 v1",
        "SET s2 v2 EX 1000",
        "RPUSH l a b c",
        "HSET h f v",
        "SADD st x y",
        "ZADD z 1 a 2.5 b",
        "XADD x 1-1 f v",
        "SET copyme v",
        "SET busy here",
        "SET d3 v",
        "SET d0 v",
        "SET a1 v",
        "SET a2 v",
        "SET a3 v",
    ] {
        assert!(!run(&mut c, line).is_error(), "{line}");
    }
    let tp = open.port;
    let ap = authed.port;
    let m = |key: &str, port: u16, db: &str, opts: &str| {
        format!("MIGRATE 127.0.0.1 {port} {key} {db} 5000 {opts}")
    };
    for (what, line) in [
        ("one key", m("s1", tp, "0", "")),
        ("missing key", m("nokey", tp, "0", "")),
        ("copy", m("copyme", tp, "0", "COPY")),
        ("other db", m("d3", tp, "3", "")),
        ("back to db 0", m("d0", tp, "0", "")),
    ] {
        let r = run(&mut c, &line);
        log(what, r);
    }
    let r = migrate_keys(
        &mut c,
        tp,
        "0",
        &[],
        &["s2", "l", "h", "st", "z", "x", "missing"],
    );
    log("KEYS", r);
    let r = migrate_keys(&mut c, tp, "0", &[], &["missing1", "missing2"]);
    log("KEYS, none there", r);
    assert_eq!(run(&mut t, "SET busy there"), Reply::ok());
    let r = run(&mut c, &m("busy", tp, "0", ""));
    log("busy target key", r);
    let r = run(&mut c, &m("busy", tp, "0", "REPLACE"));
    log("REPLACE", r);
    // The target sees one connection from the source: the cached one.
    let r = t.cmd_str(&["CLIENT", "LIST", "TYPE", "normal"]);
    let conns = text(&r).lines().count();
    log("target connections", Reply::Int(conns as i64));
    // Errors.
    for (what, line) in [
        ("arity", "MIGRATE 127.0.0.1 1 k 0".to_string()),
        (
            "timeout not an integer",
            m("a1", tp, "0", "").replace("5000", "soon"),
        ),
        ("db not an integer", m("a1", tp, "zero", "")),
        ("unknown option", m("a1", tp, "0", "FOO")),
        ("AUTH without password", m("a1", tp, "0", "AUTH")),
        ("AUTH2 without password", m("a1", tp, "0", "AUTH2 user")),
        ("KEYS with a key", m("a1", tp, "0", "KEYS a2")),
        ("connection refused", m("a1", closed_port, "0", "")),
        // With a password.
        ("no AUTH", m("a1", ap, "0", "")),
        ("wrong password", m("a1", ap, "0", "AUTH nope")),
        ("AUTH", m("a1", ap, "0", "AUTH pw")),
        ("AUTH2", m("a2", ap, "0", "AUTH2 mover mpw")),
        ("AUTH2 wrong user", m("a3", ap, "0", "AUTH2 nobody mpw")),
    ] {
        let r = run(&mut c, &line);
        log(what, r);
    }
    replies
}

/// The argument lists the slow log shows for MIGRATEs with credentials (which it redacts).
fn slowlog_auth_args(src: &Server) -> Vec<Vec<String>> {
    let mut c = src.raw();
    let Reply::Array(Some(entries)) = c.cmd_str(&["SLOWLOG", "GET", "-1"]) else {
        panic!("SLOWLOG GET")
    };
    let mut out: Vec<Vec<String>> = entries
        .iter()
        .filter_map(|e| match e {
            Reply::Array(Some(f)) => match &f[3] {
                Reply::Array(Some(args)) => Some(args.iter().map(text).collect::<Vec<_>>()),
                _ => None,
            },
            _ => None,
        })
        .filter(|a| a[0].eq_ignore_ascii_case("migrate") && a.iter().any(|x| x.starts_with("AUTH")))
        .map(|mut a| {
            // The port differs between the runs.
            a[2] = "PORT".into();
            a
        })
        .collect();
    out.reverse();
    out
}

/// The DEL commands in the source's AOF (every file of its appendonly directory).
fn aof_dels(src: &Server) -> Vec<String> {
    let mut c = src.raw();
    let Reply::Array(Some(dir)) = c.cmd_str(&["CONFIG", "GET", "dir"]) else {
        panic!("CONFIG GET dir")
    };
    let dir = std::path::PathBuf::from(text(&dir[1])).join("appendonlydir");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".incr.aof"))
        .collect();
    names.sort();
    let mut dels = Vec::new();
    for p in names {
        let bytes = std::fs::read(&p).unwrap();
        let t = String::from_utf8_lossy(&bytes);
        // Each command: *N, then $len / arg pairs.
        let lines: Vec<&str> = t.split("\r\n").collect();
        let mut i = 0;
        while i < lines.len() {
            if let Some(n) = lines[i].strip_prefix('*') {
                let n: usize = n.parse().unwrap_or(0);
                let args: Vec<&str> = (0..n).map(|k| lines[i + 2 + 2 * k]).collect();
                if args.first().is_some_and(|a| a.eq_ignore_ascii_case("del")) {
                    dels.push(args.join(" "));
                }
                i += 1 + 2 * n;
            } else {
                i += 1;
            }
        }
    }
    dels
}

fn targets() -> (Server, Server) {
    let open = Server::start_redis(&[]);
    let authed = Server::start_redis(&["--requirepass", "pw"]);
    let mut a = authed.raw();
    assert_eq!(a.cmd_str(&["AUTH", "pw"]), Reply::ok());
    assert_eq!(
        a.cmd_str(&["ACL", "SETUSER", "mover", "on", ">mpw", "~*", "+@all"]),
        Reply::ok()
    );
    (open, authed)
}

fn authed_data(port: u16) -> Vec<String> {
    let mut c = Raw::connect(port);
    assert_eq!(c.cmd_str(&["AUTH", "pw"]), Reply::ok());
    let mut keys: Vec<String> = match c.cmd_str(&["KEYS", "*"]) {
        Reply::Array(Some(v)) => v.iter().map(text).collect(),
        other => panic!("{other:?}"),
    };
    keys.sort();
    keys
}

#[test]
fn migrate_matches_redis_as_the_source() {
    let closed_port = common::free_port();
    let aof = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--slowlog-log-slower-than",
        "0",
        "--slowlog-max-len",
        "1000",
    ];
    let ours = Server::start(&aof);
    let redis = Server::start_bin(&common::redis_bin(), &aof);
    let mut results = Vec::new();
    for src in [&ours, &redis] {
        let (open, authed) = targets();
        let replies = scenario(src, &open, &authed, closed_port);
        results.push((
            replies,
            data(src.port),
            data(open.port),
            authed_data(authed.port),
            aof_dels(src),
            slowlog_auth_args(src),
        ));
    }
    let (a, b) = (&results[0], &results[1]);
    for (x, y) in a.0.iter().zip(&b.0) {
        assert_eq!(x, y, "reply (ringkv, then redis-server)");
    }
    assert_eq!(a.0.len(), b.0.len());
    assert_eq!(a.1, b.1, "the sources' data after the scenario");
    assert_eq!(a.2, b.2, "the open targets' data");
    assert_eq!(a.3, b.3, "the password targets' keys");
    assert_eq!(a.4, b.4, "the DELs in the sources' AOF");
    assert!(!a.4.is_empty(), "no DEL journaled");
    assert_eq!(a.5, b.5, "the slow log's redacted credentials");
    assert_eq!(a.5.len(), 6, "{:?}", a.5);
}

/// redis-server migrates every type into ringkv: ringkv's RESTORE takes its payloads, and
/// ringkv's own MIGRATE of the same keys back into a second redis-server ends equal.
#[test]
fn migrate_into_ringkv_and_back() {
    let redis = Server::start_redis(&[]);
    let ours = Server::start(&[]);
    let back = Server::start_redis(&[]);
    let mut r = redis.raw();
    for line in [
        "SET s v EX 1000",
        "RPUSH l a b c",
        "HSET h f v g w",
        "SADD st x y 1 2",
        "ZADD z 1 a 2.5 b",
        "XADD x 1-1 f v",
        "PFADD p a b c",
        "SETBIT b 100 1",
    ] {
        assert!(!run(&mut r, line).is_error(), "{line}");
    }
    let before = data(redis.port);
    let keys = ["s", "l", "h", "st", "z", "x", "p", "b"];
    assert_eq!(
        migrate_keys(&mut r, ours.port, "0", &[], &keys),
        Reply::ok()
    );
    assert_eq!(
        data(ours.port),
        before,
        "ringkv after redis-server's MIGRATE"
    );
    assert_eq!(
        r.cmd_str(&["DBSIZE"]),
        Reply::Int(0),
        "the source kept keys"
    );
    let mut o = ours.raw();
    // Over RESP3: the same simple replies.
    assert!(!o.cmd_str(&["HELLO", "3"]).is_error());
    assert_eq!(
        migrate_keys(&mut o, back.port, "0", &[], &["nothing"]),
        Reply::Status("NOKEY".into())
    );
    assert_eq!(
        migrate_keys(&mut o, back.port, "0", &["REPLACE"], &keys),
        Reply::ok()
    );
    assert_eq!(
        data(back.port),
        before,
        "redis-server after ringkv's MIGRATE"
    );
    assert_eq!(o.cmd_str(&["DBSIZE"]), Reply::Int(0));
}

/// A target that takes the connection and never answers: the read times out after the
/// command's timeout, with Redis's error, and the key stays.
#[test]
fn a_silent_target_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold every connection without reading.
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for s in listener.incoming().take(4) {
            conns.push(s);
        }
        std::thread::sleep(Duration::from_secs(5));
    });
    for src in [Server::start(&[]), Server::start_redis(&[])] {
        let mut c = src.raw();
        assert_eq!(run(&mut c, "SET k v"), Reply::ok());
        let started = Instant::now();
        let r = run(&mut c, &format!("MIGRATE 127.0.0.1 {port} k 0 300"));
        let took = started.elapsed();
        assert_eq!(
            r,
            Reply::Error("IOERR error or timeout reading to target instance".into()),
            "{}",
            src.bin
        );
        assert!(took >= Duration::from_millis(250), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
        assert_eq!(run(&mut c, "EXISTS k"), Reply::Int(1));
    }
    drop(held);
}

/// RESTORE-ASKING (what a cluster's slot migration sends) is RESTORE outside cluster mode:
/// the same replies and data as redis-server's, errors included, and the AOF gets it as
/// called.
#[test]
fn restore_asking_is_restore() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let mut r = redis.raw();
    assert_eq!(run(&mut r, "RPUSH src a b c"), Reply::Int(3));
    let Reply::Bulk(Some(payload)) = r.cmd_str(&["DUMP", "src"]) else {
        panic!("DUMP")
    };
    let mut replies = Vec::new();
    for s in [&ours, &redis] {
        let mut c = s.raw();
        let mut got = Vec::new();
        for args in [
            vec![&b"RESTORE-ASKING"[..], b"k", b"0", &payload],
            vec![b"RESTORE-ASKING", b"k", b"0", &payload],
            vec![b"RESTORE-ASKING", b"k", b"100000", &payload, b"REPLACE"],
            vec![b"RESTORE-ASKING", b"bad", b"0", b"garbage"],
            vec![b"RESTORE-ASKING", b"k"],
            vec![b"LRANGE", b"k", b"0", b"-1"],
        ] {
            got.push(format!("{:?}", c.cmd(&args)));
        }
        let Reply::Int(ttl) = c.cmd_str(&["PTTL", "k"]) else {
            panic!("PTTL")
        };
        got.push(format!("ttl set: {}", ttl > 0));
        replies.push(got);
    }
    assert_eq!(replies[0], replies[1]);
}
