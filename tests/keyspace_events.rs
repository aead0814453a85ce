//! Keyspace events the server fires on its own, and the `notify-keyspace-events` setting:
//! `expired` when a key with a time to live is removed (by a lookup or by the active expiry
//! cycle), `evicted` for each key eviction removes, and the setting read and written as
//! redis-server 7.0 does (CONFIG SET/GET, the command line; the config file takes every
//! setting the same way, tests/server.rs). Each test runs on
//! ringkv and on redis-server; the command-by-command events are in the difftests'
//! `random_stream_events` and tests/notify_events.rs.

mod common;

use common::{Raw, Reply, Server};
use std::time::{Duration, Instant};

/// Reads pub/sub frames until `n` of them have arrived or `within` passed: each as
/// (channel, message) text.
fn read_events(c: &mut Raw, n: usize, within: Duration) -> Vec<(String, String)> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    c.set_read_timeout(Duration::from_millis(200));
    while out.len() < n && Instant::now() < deadline {
        let Ok(r) = c.try_read_reply() else {
            continue;
        };
        let items = match r {
            Reply::Array(Some(v)) | Reply::Push(v) => v,
            other => panic!("unexpected {other:?}"),
        };
        let text = |r: &Reply| match r {
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        };
        let n = items.len();
        out.push((text(&items[n - 2]), text(&items[n - 1])));
    }
    out
}

fn subscriber(port: u16, classes: &str) -> (Raw, Raw) {
    let mut ctl = Raw::connect(port);
    assert_eq!(
        ctl.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", classes]),
        Reply::ok()
    );
    let mut sub = Raw::connect(port);
    sub.cmd_str(&["PSUBSCRIBE", "__key*@*__:*"]);
    (ctl, sub)
}

#[test]
fn expired_fires_when_a_lookup_or_the_active_cycle_removes_the_key() {
    for srv in [Server::start(&[]), Server::start_redis(&[])] {
        let (mut c, mut sub) = subscriber(srv.port, "Ex");
        // Removed by the active cycle: nobody touches it.
        c.cmd_str(&["SET", "idle", "v", "PX", "30"]);
        let ev = read_events(&mut sub, 1, Duration::from_secs(5));
        assert_eq!(ev, vec![("__keyevent@0__:expired".into(), "idle".into())]);
        // Removed by a lookup: the active cycle is far slower than the GET that follows the
        // deadline (100 keys to sample, one expiring).
        for i in 0..100 {
            c.cmd_str(&["SET", &format!("keep{i}"), "v", "EX", "1000"]);
        }
        c.cmd_str(&["SET", "looked", "v", "PX", "5"]);
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(c.cmd_str(&["GET", "looked"]), Reply::Bulk(None));
        let ev = read_events(&mut sub, 1, Duration::from_secs(5));
        assert_eq!(ev, vec![("__keyevent@0__:expired".into(), "looked".into())]);
        // Nothing else: `x` alone fires no other class.
        c.cmd_str(&["DEL", "keep0"]);
        assert!(read_events(&mut sub, 1, Duration::from_millis(300)).is_empty());
    }
}

#[test]
fn evicted_fires_once_for_every_key_eviction_removes() {
    for srv in [
        Server::start(&["--maxmemory", "4mb", "--maxmemory-policy", "allkeys-random"]),
        Server::start_redis(&["--maxmemory", "4mb", "--maxmemory-policy", "allkeys-random"]),
    ] {
        let (mut c, mut sub) = subscriber(srv.port, "Ee");
        let value = vec![b'v'; 200];
        let mut batch = Vec::new();
        for i in 0..40_000 {
            batch.extend_from_slice(&common::encode(&[
                b"SET",
                format!("k{i}").as_bytes(),
                &value,
            ]));
        }
        c.send(&batch);
        for _ in 0..40_000 {
            assert_eq!(c.read_reply(), Reply::ok());
        }
        let evicted = match c.cmd_str(&["INFO", "stats"]) {
            Reply::Bulk(Some(t)) | Reply::Verbatim { text: t, .. } => String::from_utf8(t)
                .unwrap()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("evicted_keys:")
                        .map(|v| v.parse::<usize>().unwrap())
                })
                .unwrap(),
            other => panic!("{other:?}"),
        };
        assert!(evicted > 1000, "{} evicted only {evicted}", srv.bin);
        let ev = read_events(&mut sub, evicted, Duration::from_secs(20));
        assert_eq!(ev.len(), evicted);
        assert!(ev.iter().all(|(ch, _)| ch == "__keyevent@0__:evicted"));
        // Every evicted key is gone.
        let mut names: Vec<&str> = ev.iter().map(|(_, k)| k.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), evicted);
        for k in names.iter().take(50) {
            assert_eq!(c.cmd_str(&["EXISTS", k]), Reply::Int(0));
        }
    }
}

#[test]
fn the_setting_reads_back_as_redis_writes_it_from_the_command_line_and_config_set() {
    let ours = Server::start(&["--notify-keyspace-events", "Kx"]);
    let redis = Server::start_redis(&["--notify-keyspace-events", "Kx"]);
    let mut seen = Vec::new();
    for srv in [&ours, &redis] {
        let mut c = Raw::connect(srv.port);
        let mut row = vec![c.cmd_str(&["CONFIG", "GET", "notify-keyspace-events"])];
        for v in ["KEA", "Elx", "gK", "KEA$lshzxetdmn", "", "Q", "Ag"] {
            row.push(c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", v]));
            row.push(c.cmd_str(&["CONFIG", "GET", "notify-keyspace-events"]));
        }
        seen.push(row);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(
        seen[1][0],
        Reply::Array(Some(vec![
            Reply::bulk(b"notify-keyspace-events"),
            Reply::bulk(b"xK")
        ]))
    );
}
