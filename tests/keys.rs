//! End-to-end tests of the generic key and expiry commands, written against redis-server
//! 7.0.15's answers (each expectation here was checked on the real server).
//!
//! Each test starts its own ringkv on a free port and kills it on drop (`common::Server`).
//! Setting `RINGKV_TEST_PORT` runs the same tests against an already running server instead
//! (for example a real redis-server, to re-check the expectations); then run them with
//! `--test-threads=1`, since every test starts with FLUSHALL. Byte-exact expectations read
//! replies with `common::Raw::cmd_exact`.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::Server;
use redis::{Connection, RedisResult, Value};

impl Server {
    /// A redis-rs connection, for the tests that check values rather than bytes.
    fn conn(&self) -> Connection {
        let client =
            redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client");
        client.get_connection().expect("connect")
    }
}

fn q<T: redis::FromRedisValue>(c: &mut Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<T>(c) {
        Ok(v) => v,
        Err(e) => panic!("{args:?} failed: {e}"),
    }
}

fn int(c: &mut Connection, args: &[&str]) -> i64 {
    q(c, args)
}

/// The error text of a command that must fail (code and message, as Redis sends it).
fn err(c: &mut Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let r: RedisResult<Value> = cmd.query(c);
    match r {
        Ok(v) => panic!("{args:?} should fail, got {v:?}"),
        Err(e) => {
            let code = e.code().unwrap_or("").to_string();
            let detail = e.detail().unwrap_or("").to_string();
            format!("{code} {detail}")
        }
    }
}

fn set(c: &mut Connection, k: &str, v: &str) {
    let _: () = q(c, &["SET", k, v]);
}

fn stats(c: &mut Connection) -> (u64, u64) {
    let info: String = q(c, &["INFO", "stats"]);
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("INFO stats lacks {name}"))
    };
    (field("keyspace_hits:"), field("keyspace_misses:"))
}

#[test]
fn del_unlink_exists_touch_type() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "a", "1");
    set(&mut c, "b", "hello");
    set(&mut c, "x", "y");
    assert_eq!(int(&mut c, &["EXISTS", "a", "a", "b", "zz"]), 3);
    assert_eq!(int(&mut c, &["TOUCH", "a", "a", "zz"]), 2);
    let t: String = q(&mut c, &["TYPE", "a"]);
    assert_eq!(t, "string");
    let t: String = q(&mut c, &["TYPE", "zz"]);
    assert_eq!(t, "none");
    assert_eq!(int(&mut c, &["DEL", "a", "a", "zz"]), 1);
    assert_eq!(int(&mut c, &["UNLINK", "b", "zz", "b"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "a", "b"]), 0);
    assert_eq!(int(&mut c, &["DEL", "x"]), 1);
    assert_eq!(
        err(&mut c, &["DEL"]),
        "ERR wrong number of arguments for 'del' command"
    );
}

#[test]
fn type_status_and_nulls_in_resp2_and_resp3() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "a", "1");
    let mut r = s.raw();
    assert_eq!(r.cmd_exact(&["TYPE", "a"]), b"+string\r\n");
    assert_eq!(r.cmd_exact(&["TYPE", "zz"]), b"+none\r\n");
    assert_eq!(r.cmd_exact(&["OBJECT", "ENCODING", "zz"]), b"$-1\r\n");
    assert_eq!(r.cmd_exact(&["KEYS", "a*"]), b"*1\r\n$1\r\na\r\n");
    assert_eq!(
        r.cmd_exact(&["SCAN", "0", "COUNT", "100"]),
        b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"
    );
    assert_eq!(r.cmd_exact(&["TTL", "a"]), b":-1\r\n");
    assert_eq!(r.cmd_exact(&["SELECT", "3"]), b"+OK\r\n");
    assert_eq!(r.cmd_exact(&["RANDOMKEY"]), b"$-1\r\n");
    r.cmd_exact(&["HELLO", "3"]);
    assert_eq!(r.cmd_exact(&["RANDOMKEY"]), b"_\r\n");
    assert_eq!(r.cmd_exact(&["OBJECT", "ENCODING", "zz"]), b"_\r\n");
    assert_eq!(r.cmd_exact(&["SELECT", "0"]), b"+OK\r\n");
    assert_eq!(r.cmd_exact(&["TYPE", "a"]), b"+string\r\n");
    // KEYS and SCAN stay arrays in RESP3.
    assert_eq!(r.cmd_exact(&["KEYS", "*"]), b"*1\r\n$1\r\na\r\n");
    assert_eq!(
        r.cmd_exact(&["SCAN", "0", "COUNT", "100"]),
        b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"
    );
    assert_eq!(r.cmd_exact(&["EXISTS", "a"]), b":1\r\n");
}

#[test]
fn keys_patterns_and_randomkey() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    for k in ["hello", "hallo", "hxllo", "world", "h*llo"] {
        set(&mut c, k, "v");
    }
    let mut got: Vec<String> = q(&mut c, &["KEYS", "h[ae]llo"]);
    got.sort();
    assert_eq!(got, ["hallo", "hello"]);
    let mut got: Vec<String> = q(&mut c, &["KEYS", "h\\*llo"]);
    got.sort();
    assert_eq!(got, ["h*llo"]);
    let got: Vec<String> = q(&mut c, &["KEYS", "*"]);
    assert_eq!(got.len(), 5);
    let got: Vec<String> = q(&mut c, &["KEYS", "nomatch*"]);
    assert!(got.is_empty());
    let k: String = q(&mut c, &["RANDOMKEY"]);
    assert!(["hello", "hallo", "hxllo", "world", "h*llo"].contains(&k.as_str()));
    let _: () = q(&mut c, &["SELECT", "5"]);
    let k: Option<String> = q(&mut c, &["RANDOMKEY"]);
    assert_eq!(k, None);
}

#[test]
fn scan_iterates_filters_and_validates() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    let mut pipe = redis::pipe();
    for i in 0..300 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    for i in 0..40 {
        pipe.cmd("SET").arg(format!("other:{i}")).arg("x").ignore();
    }
    let _: () = pipe.query(&mut c).expect("populate");

    let full_scan = |c: &mut Connection, extra: &[&str]| -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        for _ in 0..100_000 {
            let mut args = vec!["SCAN", cursor.as_str()];
            args.extend_from_slice(extra);
            let (next, keys): (String, Vec<String>) = q(c, &args);
            seen.extend(keys);
            cursor = next;
            if cursor == "0" {
                return seen;
            }
        }
        panic!("SCAN did not finish");
    };
    assert_eq!(full_scan(&mut c, &[]).len(), 340);
    let others = full_scan(&mut c, &["MATCH", "other:*", "COUNT", "7"]);
    assert_eq!(others.len(), 40);
    assert!(others.iter().all(|k| k.starts_with("other:")));
    assert_eq!(
        full_scan(&mut c, &["TYPE", "STRING", "COUNT", "1000"]).len(),
        340
    );
    assert!(full_scan(&mut c, &["TYPE", "list"]).is_empty());
    // Redis 7.0 accepts any type name and simply matches nothing.
    assert!(full_scan(&mut c, &["TYPE", "foo"]).is_empty());
    // The last COUNT wins.
    assert_eq!(
        full_scan(&mut c, &["COUNT", "1", "COUNT", "1000"]).len(),
        340
    );
    // strtoul cursor parsing: sign, leading zeros and the empty string are accepted.
    for cur in ["+0", "-0", "00", ""] {
        let (_, keys): (String, Vec<String>) = q(&mut c, &["SCAN", cur, "COUNT", "1000"]);
        assert!(!keys.is_empty(), "cursor {cur:?}");
    }
    let _: (String, Vec<String>) = q(&mut c, &["SCAN", "18446744073709551615"]);
    let _: (String, Vec<String>) = q(&mut c, &["SCAN", "-1"]);

    assert_eq!(err(&mut c, &["SCAN", "abc"]), "ERR invalid cursor");
    assert_eq!(
        err(&mut c, &["SCAN", "18446744073709551616"]),
        "ERR invalid cursor"
    );
    assert_eq!(err(&mut c, &["SCAN", " 1"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SCAN", "-"]), "ERR invalid cursor");
    assert_eq!(
        err(&mut c, &["SCAN", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SCAN", "0", "COUNT", "-1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SCAN", "0", "COUNT", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err(&mut c, &["SCAN", "0", "MATCH"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["SCAN", "0", "foo", "bar"]),
        "ERR syntax error"
    );
    // The cursor is checked before the options.
    assert_eq!(
        err(&mut c, &["SCAN", "x", "COUNT", "0"]),
        "ERR invalid cursor"
    );
}

#[test]
fn rename_and_renamenx() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "a", "va");
    set(&mut c, "b", "vb");
    assert_eq!(err(&mut c, &["RENAME", "zz", "yy"]), "ERR no such key");
    assert_eq!(err(&mut c, &["RENAME", "zz", "zz"]), "ERR no such key");
    assert_eq!(err(&mut c, &["RENAMENX", "zz", "b"]), "ERR no such key");
    let ok: String = q(&mut c, &["RENAME", "a", "a"]);
    assert_eq!(ok, "OK");
    assert_eq!(int(&mut c, &["RENAMENX", "a", "a"]), 0);
    assert_eq!(int(&mut c, &["RENAMENX", "a", "b"]), 0);
    let _: () = q(&mut c, &["PEXPIRE", "a", "100000"]);
    let _: () = q(&mut c, &["RENAME", "a", "b"]);
    let v: Option<String> = q(&mut c, &["GET", "b"]);
    assert_eq!(v.as_deref(), Some("va"));
    assert_eq!(int(&mut c, &["EXISTS", "a"]), 0);
    let ttl = int(&mut c, &["PTTL", "b"]);
    assert!((90_000..=100_000).contains(&ttl), "TTL kept: {ttl}");
    assert_eq!(int(&mut c, &["RENAMENX", "b", "c"]), 1);
    assert!(int(&mut c, &["PTTL", "c"]) > 90_000);
    // A renamed key without TTL replaces a destination that had one: no TTL remains.
    set(&mut c, "d", "vd");
    let _: () = q(&mut c, &["RENAME", "d", "c"]);
    assert_eq!(int(&mut c, &["TTL", "c"]), -1);
}

#[test]
fn copy_command() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "a", "va");
    set(&mut c, "b", "vb");
    let _: () = q(&mut c, &["PEXPIRE", "a", "100000"]);
    assert_eq!(
        err(&mut c, &["COPY", "a", "a"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut c, &["COPY", "zz", "zz"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(int(&mut c, &["COPY", "zz", "a"]), 0);
    assert_eq!(
        err(&mut c, &["COPY", "a", "c", "DB", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["COPY", "a", "c", "DB", "-1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["COPY", "a", "c", "DB", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["COPY", "a", "c", "DB", "4294967296"]),
        "ERR value is out of range, value must between -2147483648 and 2147483647"
    );
    assert_eq!(err(&mut c, &["COPY", "a", "c", "foo"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["COPY", "a", "c", "DB"]), "ERR syntax error");
    assert_eq!(int(&mut c, &["COPY", "a", "b"]), 0);
    let v: String = q(&mut c, &["GET", "b"]);
    assert_eq!(v, "vb");
    assert_eq!(int(&mut c, &["COPY", "a", "b", "REPLACE"]), 1);
    let v: String = q(&mut c, &["GET", "b"]);
    assert_eq!(v, "va");
    assert!(int(&mut c, &["PTTL", "b"]) > 90_000, "COPY keeps the TTL");
    assert_eq!(int(&mut c, &["COPY", "a", "c", "replace", "replace"]), 1);
    // Same name into another database is fine; the last DB option wins.
    assert_eq!(int(&mut c, &["COPY", "a", "a", "DB", "0", "DB", "1"]), 1);
    let _: () = q(&mut c, &["SELECT", "1"]);
    let v: String = q(&mut c, &["GET", "a"]);
    assert_eq!(v, "va");
    assert!(int(&mut c, &["PTTL", "a"]) > 90_000);
    assert_eq!(int(&mut c, &["EXISTS", "b"]), 0);
}

#[test]
fn move_command() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "a", "va");
    set(&mut c, "b", "vb");
    let _: () = q(&mut c, &["PEXPIRE", "a", "100000"]);
    assert_eq!(
        err(&mut c, &["MOVE", "a", "0"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut c, &["MOVE", "zz", "0"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut c, &["MOVE", "a", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["MOVE", "a", "-1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["MOVE", "a", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["MOVE", "a", "2147483648"]),
        "ERR value is out of range, value must between -2147483648 and 2147483647"
    );
    assert_eq!(int(&mut c, &["MOVE", "zz", "1"]), 0);
    assert_eq!(int(&mut c, &["MOVE", "a", "1"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "a"]), 0);
    let _: () = q(&mut c, &["SELECT", "1"]);
    assert!(int(&mut c, &["PTTL", "a"]) > 90_000, "MOVE keeps the TTL");
    set(&mut c, "b", "other");
    let _: () = q(&mut c, &["SELECT", "0"]);
    assert_eq!(int(&mut c, &["MOVE", "b", "1"]), 0, "target exists");
    let v: String = q(&mut c, &["GET", "b"]);
    assert_eq!(v, "vb");
}

#[test]
fn expire_options_and_errors() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "a", "1");
    assert_eq!(int(&mut c, &["EXPIRE", "zz", "10"]), 0);
    assert_eq!(
        err(&mut c, &["EXPIRE", "zz", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "a", "+5"]),
        "ERR value is not an integer or out of range"
    );
    let nx_err = "ERR NX and XX, GT or LT options at the same time are not compatible";
    assert_eq!(err(&mut c, &["EXPIRE", "a", "10", "nx", "xx"]), nx_err);
    assert_eq!(err(&mut c, &["EXPIRE", "a", "10", "NX", "GT"]), nx_err);
    assert_eq!(err(&mut c, &["EXPIRE", "a", "abc", "nx", "lt"]), nx_err);
    assert_eq!(
        err(&mut c, &["EXPIRE", "a", "10", "gt", "lt"]),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "a", "10", "foo"]),
        "ERR Unsupported option foo"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "a", "abc", "foo"]),
        "ERR Unsupported option foo"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "a", "9223372036854775807"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "a", "-9223372036854775808"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "a", "9223372036854775"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut c, &["PEXPIRE", "a", "9223372036854775807"]),
        "ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(
        err(&mut c, &["EXPIREAT", "a", "9223372036854775807"]),
        "ERR invalid expire time in 'expireat' command"
    );
    assert_eq!(
        int(&mut c, &["TTL", "a"]),
        -1,
        "failed EXPIREs change nothing"
    );

    // No TTL is infinite: XX and GT fail, LT succeeds.
    assert_eq!(int(&mut c, &["EXPIRE", "a", "10", "XX", "GT"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "100", "xx"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "100", "gt"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "100", "lt"]), 1);
    assert_eq!(int(&mut c, &["TTL", "a"]), 100);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "50", "lt"]), 1);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "200", "lt"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "200", "gt"]), 1);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "100", "nx"]), 0);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "100", "xx"]), 1);
    assert_eq!(int(&mut c, &["TTL", "a"]), 100);

    assert_eq!(int(&mut c, &["PERSIST", "a"]), 1);
    assert_eq!(int(&mut c, &["PERSIST", "a"]), 0);
    assert_eq!(int(&mut c, &["PERSIST", "zz"]), 0);
    assert_eq!(int(&mut c, &["TTL", "a"]), -1);
    assert_eq!(int(&mut c, &["EXPIRE", "a", "100", "nx"]), 1);

    // PEXPIREAT accepts the largest timestamp.
    assert_eq!(int(&mut c, &["PEXPIREAT", "a", "9223372036854775807"]), 1);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "a"]), i64::MAX);
}

#[test]
fn expire_in_the_past_deletes() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    for k in ["a", "b", "c", "d"] {
        set(&mut c, k, "v");
    }
    assert_eq!(int(&mut c, &["EXPIRE", "a", "0"]), 1);
    assert_eq!(int(&mut c, &["EXPIRE", "b", "-1"]), 1);
    assert_eq!(int(&mut c, &["PEXPIREAT", "c", "1"]), 1);
    assert_eq!(int(&mut c, &["EXPIREAT", "d", "-5"]), 1);
    assert_eq!(int(&mut c, &["EXISTS", "a", "b", "c", "d"]), 0);
    // A key that expires for real is gone after its deadline.
    set(&mut c, "e", "v");
    assert_eq!(int(&mut c, &["PEXPIRE", "e", "30"]), 1);
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(int(&mut c, &["EXISTS", "e"]), 0);
    assert_eq!(int(&mut c, &["TTL", "e"]), -2);
}

#[test]
fn ttl_family_rounding_and_absolute_times() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "a", "1");
    assert_eq!(int(&mut c, &["TTL", "zz"]), -2);
    assert_eq!(int(&mut c, &["PTTL", "zz"]), -2);
    assert_eq!(int(&mut c, &["EXPIRETIME", "zz"]), -2);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "zz"]), -2);
    assert_eq!(int(&mut c, &["TTL", "a"]), -1);
    assert_eq!(int(&mut c, &["PTTL", "a"]), -1);
    assert_eq!(int(&mut c, &["EXPIRETIME", "a"]), -1);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "a"]), -1);
    // TTL rounds (ms + 500) / 1000: 2.5..2.6 s left is 3, 2.3..2.4 s left is 2.
    assert_eq!(int(&mut c, &["PEXPIRE", "a", "2600"]), 1);
    assert_eq!(int(&mut c, &["TTL", "a"]), 3);
    assert_eq!(int(&mut c, &["PEXPIRE", "a", "2400"]), 1);
    assert_eq!(int(&mut c, &["TTL", "a"]), 2);
    // Absolute times (year 2100) come back exactly; EXPIRETIME rounds like TTL.
    assert_eq!(int(&mut c, &["PEXPIREAT", "a", "4102444800500"]), 1);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "a"]), 4_102_444_800_500);
    assert_eq!(int(&mut c, &["EXPIRETIME", "a"]), 4_102_444_801);
    assert_eq!(int(&mut c, &["PEXPIREAT", "a", "4102444800499"]), 1);
    assert_eq!(int(&mut c, &["EXPIRETIME", "a"]), 4_102_444_800);
    assert_eq!(int(&mut c, &["EXPIREAT", "a", "4102444800"]), 1);
    assert_eq!(int(&mut c, &["PEXPIRETIME", "a"]), 4_102_444_800_000);
    let pttl = int(&mut c, &["PTTL", "a"]);
    assert!(pttl > 1_000_000_000, "{pttl}");
}

#[test]
fn object_subcommands() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "i", "1");
    set(&mut c, "big", "123456");
    set(&mut c, "e", "hello");
    set(&mut c, "r", &"x".repeat(50));
    let enc = |c: &mut Connection, k: &str| -> Option<String> { q(c, &["OBJECT", "ENCODING", k]) };
    assert_eq!(enc(&mut c, "i").as_deref(), Some("int"));
    assert_eq!(enc(&mut c, "big").as_deref(), Some("int"));
    assert_eq!(enc(&mut c, "e").as_deref(), Some("embstr"));
    assert_eq!(enc(&mut c, "r").as_deref(), Some("raw"));
    assert_eq!(enc(&mut c, "zz"), None);
    assert_eq!(int(&mut c, &["OBJECT", "REFCOUNT", "i"]), 2_147_483_647);
    assert_eq!(int(&mut c, &["OBJECT", "REFCOUNT", "e"]), 1);
    let idle = int(&mut c, &["OBJECT", "IDLETIME", "e"]);
    assert!((0..=2).contains(&idle), "{idle}");
    let none: Option<i64> = q(&mut c, &["OBJECT", "FREQ", "zz"]);
    assert_eq!(
        none, None,
        "a missing key answers null before the policy check"
    );
    assert_eq!(
        err(&mut c, &["OBJECT", "FREQ", "e"]),
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    set(&mut c, "f", "v");
    assert_eq!(
        int(&mut c, &["OBJECT", "FREQ", "f"]),
        5,
        "LFU_INIT_VAL, OBJECT does not count as access"
    );
    assert_eq!(
        err(&mut c, &["OBJECT", "IDLETIME", "f"]),
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);

    assert_eq!(
        err(&mut c, &["OBJECT", "foo", "a"]),
        "ERR unknown subcommand 'foo'. Try OBJECT HELP."
    );
    assert_eq!(
        err(&mut c, &["OBJECT"]),
        "ERR wrong number of arguments for 'object' command"
    );
    assert_eq!(
        err(&mut c, &["OBJECT", "HELP", "x"]),
        "ERR wrong number of arguments for 'object|help' command"
    );
    assert_eq!(
        err(&mut c, &["OBJECT", "ENCODING"]),
        "ERR wrong number of arguments for 'object|encoding' command"
    );
    let help: Vec<String> = q(&mut c, &["OBJECT", "HELP"]);
    assert_eq!(help.len(), 15);
    assert_eq!(
        help[0],
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(help[14], "    Prints this help.");
}

#[test]
fn keyspace_hits_and_misses_counted_like_redis() {
    let s = Server::start_or_attach(&[]);
    let mut c = s.conn();
    set(&mut c, "a", "1");
    set(&mut c, "b", "x");
    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    // (command, hits added, misses added), as redis-server 7.0.15 counts them.
    let steps: &[(&[&str], u64, u64)] = &[
        (&["EXISTS", "a", "zz"], 1, 1),
        (&["TYPE", "a"], 1, 0),
        (&["TYPE", "zz"], 0, 1),
        (&["TOUCH", "a", "zz"], 1, 1),
        (&["OBJECT", "ENCODING", "a"], 1, 0),
        (&["OBJECT", "ENCODING", "zz"], 0, 1),
        (&["TTL", "a"], 1, 0),
        (&["PEXPIRETIME", "zz"], 0, 1),
        (&["DEL", "zz"], 0, 0),
        (&["EXPIRE", "a", "100"], 0, 0),
        (&["PERSIST", "a"], 0, 0),
        (&["RENAME", "a", "c"], 0, 0),
        (&["COPY", "c", "d"], 1, 0),
        (&["COPY", "zz", "d"], 0, 1),
        (&["MOVE", "c", "1"], 0, 0),
        (&["KEYS", "*"], 0, 0),
        (&["SCAN", "0"], 0, 0),
        (&["SCAN", "0", "TYPE", "string"], 2, 0),
        (&["SCAN", "0", "TYPE", "string", "MATCH", "b"], 1, 0),
        (&["RANDOMKEY"], 0, 0),
    ];
    let mut before = stats(&mut c);
    for (args, hits, misses) in steps {
        let _: Value = q(&mut c, args);
        let after = stats(&mut c);
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (*hits, *misses),
            "{args:?}"
        );
        before = after;
    }
}
