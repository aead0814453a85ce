//! Large collections (list, hash, set, sorted set) leave the loop thread when they die, whatever kills them: DEL, UNLINK,
//! overwrite, expiry, popping to empty, FLUSHALL. Each case must raise INFO's
//! `lazyfreed_objects` (the background thread counts what it freed) and leave the server
//! serving; small collections are freed inline and must not be counted.

mod common;

use common::{Raw, Reply, Server};
use std::time::{Duration, Instant};

/// More than the lazy-free threshold (64 elements).
const BIG: usize = 200;

fn info_memory_field(c: &mut Raw, field: &str) -> i64 {
    let Reply::Bulk(Some(text)) = c.cmd_str(&["INFO", "memory"]) else {
        panic!("INFO memory did not answer a bulk");
    };
    let text = String::from_utf8(text).expect("utf-8 INFO");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO memory"))
}

/// Waits (bounded) until the background thread has freed `want` objects in all.
fn wait_freed(c: &mut Raw, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let freed = info_memory_field(c, "lazyfreed_objects");
        if freed >= want {
            assert_eq!(
                freed, want,
                "more objects were freed in the background than made"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lazyfreed_objects stayed at {freed}, wanted {want}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Builds a big value of each collection type at `key` (one type per call).
fn make(c: &mut Raw, kind: &str, key: &str, n: usize) {
    let mut args: Vec<String> = vec![];
    match kind {
        "list" => args.extend(["RPUSH".into(), key.into()]),
        "hash" => args.extend(["HSET".into(), key.into()]),
        "set" => args.extend(["SADD".into(), key.into()]),
        "zset" => args.extend(["ZADD".into(), key.into()]),
        _ => unreachable!(),
    }
    for i in 0..n {
        if kind == "zset" {
            args.push(i.to_string());
        }
        args.push(format!("m{i}"));
        if kind == "hash" {
            args.push(format!("v{i}"));
        }
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd_str(&refs), Reply::Int(n as i64));
}

const KINDS: &[&str] = &["list", "hash", "set", "zset"];

#[test]
fn every_way_a_big_collection_dies_frees_it_in_the_background() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut want = info_memory_field(&mut c, "lazyfreed_objects");
    assert_eq!(want, 0);

    for kind in KINDS {
        // DEL (Redis frees these inline by default; we never do for big values).
        make(&mut c, kind, "k", BIG);
        assert_eq!(c.cmd_str(&["DEL", "k"]), Reply::Int(1));
        want += 1;
        wait_freed(&mut c, want);

        // Overwritten by SET.
        make(&mut c, kind, "k", BIG);
        assert_eq!(c.cmd_str(&["SET", "k", "x"]), Reply::ok());
        want += 1;
        wait_freed(&mut c, want);
        assert_eq!(c.cmd_str(&["DEL", "k"]), Reply::Int(1));

        // Expired (lazily, on access).
        make(&mut c, kind, "k", BIG);
        assert_eq!(c.cmd_str(&["PEXPIRE", "k", "1"]), Reply::Int(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.cmd_str(&["EXISTS", "k"]), Reply::Int(0));
        want += 1;
        wait_freed(&mut c, want);

        // Small values are freed inline: the counter must not move.
        make(&mut c, kind, "small", 3);
        assert_eq!(c.cmd_str(&["DEL", "small"]), Reply::Int(1));
        assert_eq!(info_memory_field(&mut c, "lazyfreed_objects"), want);
    }

    // A list popped down to nothing never has more than the threshold when it dies.
    make(&mut c, "list", "l", BIG);
    let count = BIG.to_string();
    assert!(matches!(
        c.cmd_str(&["LPOP", "l", &count]),
        Reply::Array(Some(v)) if v.len() == BIG
    ));
    assert_eq!(info_memory_field(&mut c, "lazyfreed_objects"), want);

    // FLUSHALL (SYNC): each big collection in it still leaves the loop thread.
    for kind in KINDS {
        make(&mut c, kind, &format!("f-{kind}"), BIG);
    }
    assert_eq!(c.cmd_str(&["FLUSHALL", "SYNC"]), Reply::ok());
    want += KINDS.len() as i64;
    wait_freed(&mut c, want);
    assert_eq!(c.cmd_str(&["PING"]), Reply::Status("PONG".into()));
}

/// `lazyfree-lazy-user-del`, `-expire` and `-server-del` set to `no` (Redis's defaults, as
/// Redis's stock config file has them): DEL, expiry and an overwrite free a big value on
/// the loop thread (the counter does not move), UNLINK still does not; each set back to
/// `yes` with CONFIG SET moves its own path to the background thread again.
#[test]
fn the_lazyfree_settings_choose_where_each_path_frees() {
    let server = Server::start(&[
        "--lazyfree-lazy-user-del",
        "no",
        "--lazyfree-lazy-expire",
        "no",
        "--lazyfree-lazy-server-del",
        "no",
    ]);
    let mut c = server.raw();
    let expire = |c: &mut Raw| {
        make(c, "set", "k", BIG);
        assert_eq!(c.cmd_str(&["PEXPIRE", "k", "1"]), Reply::Int(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.cmd_str(&["EXISTS", "k"]), Reply::Int(0));
    };
    let overwrite = |c: &mut Raw| {
        make(c, "hash", "k", BIG);
        assert_eq!(c.cmd_str(&["SET", "k", "x"]), Reply::ok());
        assert_eq!(c.cmd_str(&["DEL", "k"]), Reply::Int(1));
    };
    for kind in KINDS {
        make(&mut c, kind, "k", BIG);
        assert_eq!(c.cmd_str(&["DEL", "k"]), Reply::Int(1));
    }
    expire(&mut c);
    overwrite(&mut c);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(info_memory_field(&mut c, "lazyfreed_objects"), 0);
    make(&mut c, "zset", "k", BIG);
    assert_eq!(c.cmd_str(&["UNLINK", "k"]), Reply::Int(1));
    wait_freed(&mut c, 1);
    let set = |c: &mut Raw, name: &str| {
        assert_eq!(c.cmd_str(&["CONFIG", "SET", name, "yes"]), Reply::ok());
    };
    set(&mut c, "lazyfree-lazy-user-del");
    make(&mut c, "list", "k", BIG);
    assert_eq!(c.cmd_str(&["DEL", "k"]), Reply::Int(1));
    wait_freed(&mut c, 2);
    set(&mut c, "lazyfree-lazy-expire");
    expire(&mut c);
    wait_freed(&mut c, 3);
    set(&mut c, "lazyfree-lazy-server-del");
    overwrite(&mut c);
    wait_freed(&mut c, 4);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(info_memory_field(&mut c, "lazyfreed_objects"), 4);
}

/// Active expiry (the cycle, not a lookup) frees where `lazyfree-lazy-expire` says too: a
/// big collection that nothing reads after its deadline is freed on the loop thread with the
/// setting off (the counter stays) and on the lazy-free thread with it on. (The cycle used
/// to free inline whatever the setting, so the lazy-expiry test above depended on whether a
/// lookup or the cycle came first.)
#[test]
fn active_expiry_follows_lazyfree_lazy_expire() {
    let server = Server::start(&[
        "--lazyfree-lazy-expire",
        "no",
        "--lazyfree-lazy-server-del",
        "no",
        "--hz",
        "100",
    ]);
    let mut c = server.raw();
    let expired_by_the_cycle = |c: &mut Raw, n: i64| {
        make(c, "set", "k", BIG);
        assert_eq!(c.cmd_str(&["PEXPIRE", "k", "1"]), Reply::Int(1));
        // No lookup of `k`: only the cycle reaps it.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let Reply::Bulk(Some(text)) = c.cmd_str(&["INFO", "stats"]) else {
                panic!("INFO stats");
            };
            let text = String::from_utf8(text).expect("utf-8 INFO");
            if text.contains(&format!("expired_keys:{n}\r\n")) {
                break;
            }
            assert!(Instant::now() < deadline, "the cycle did not reap k");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    expired_by_the_cycle(&mut c, 1);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(info_memory_field(&mut c, "lazyfreed_objects"), 0);
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "lazyfree-lazy-expire", "yes"]),
        Reply::ok()
    );
    expired_by_the_cycle(&mut c, 2);
    wait_freed(&mut c, 1);
}
