//! Client eviction: `maxmemory-clients` (bytes or a percentage of `maxmemory`),
//! `CLIENT NO-EVICT`, the `e` flag and `tot-mem` in CLIENT LIST, INFO's `evicted_clients`.
//!
//! Each scenario runs against ringkv and, when `redis-server` can be started (see
//! `common::redis_bin`), against redis-server 7.0 too, and checks the same observable
//! outcome on both: which connections are closed, which survive, what `evicted_clients`
//! says, which commands ran. The two servers count a client's memory differently in detail
//! (Redis's idle client holds ~37 KB of buffers, ours ~1 KB; allocator size classes), so the
//! sizes are chosen with wide margins: one side's figures never sit near a limit.
//!
//! A client is made large without completing a command: it sends a bulk header for a big
//! argument and part of its bytes. Both servers reserve room for the whole argument when they
//! read the header (Redis's big-argument preallocation), so the memory shows at once. Every
//! test sets up a control connection with CLIENT NO-EVICT on, which observes the others.

mod common;

use common::{encode, Raw, Reply, Server};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KB: usize = 1024;
const MB: usize = 1024 * 1024;
/// How long a client may take to be closed once it is over the limit.
const EVICT_WAIT: Duration = Duration::from_secs(5);
/// How long a condition on CLIENT LIST may take to hold.
const SETTLE_MAX: Duration = Duration::from_secs(5);

/// One server a scenario runs against.
struct Side {
    name: &'static str,
    server: Server,
}

/// Whether the reference server can be run at all.
fn redis_available() -> bool {
    Command::new(common::redis_bin())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// ringkv, then redis-server when it is installed (a note on stderr when it is not).
fn sides() -> Vec<Side> {
    sides_with(&[])
}

/// `sides`, each server started with `args`.
fn sides_with(args: &[&str]) -> Vec<Side> {
    let mut v = vec![Side {
        name: "ringkv",
        server: Server::start(args),
    }];
    if redis_available() {
        v.push(Side {
            name: "redis",
            server: Server::start_redis(args),
        });
    } else {
        eprintln!("redis-server not found: scenarios run against ringkv only");
    }
    v
}

fn ok(r: Reply, what: &str) {
    assert_eq!(r, Reply::ok(), "{what}");
}

/// A connection named `name`.
fn named(s: &Server, name: &str) -> Raw {
    let mut c = s.raw();
    ok(c.cmd_str(&["CLIENT", "SETNAME", name]), "CLIENT SETNAME");
    c
}

/// The observer: named `control`, never evicted.
fn control(s: &Server) -> Raw {
    let mut c = named(s, "control");
    ok(
        c.cmd_str(&["CLIENT", "NO-EVICT", "on"]),
        "CLIENT NO-EVICT on",
    );
    c
}

/// Starts a command with one argument of `arg_len` bytes and sends `sent` of them, so the
/// server holds a query buffer of about `arg_len` bytes. Write errors are ignored: the server
/// may close the connection while the bytes are on their way.
fn fill_query(c: &mut Raw, arg_len: usize, sent: usize) {
    assert!(sent < arg_len);
    let mut bytes = format!("*1\r\n${arg_len}\r\n").into_bytes();
    bytes.resize(bytes.len() + sent, b'v');
    let _ = c.try_send(&bytes);
}

/// One CLIENT LIST line's fields we look at.
#[derive(Debug, Clone)]
struct Client {
    name: String,
    flags: String,
    tot_mem: usize,
}

fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

fn client_list(ctl: &mut Raw) -> Vec<Client> {
    let Reply::Bulk(Some(text)) = ctl.cmd_str(&["CLIENT", "LIST"]) else {
        panic!("CLIENT LIST is not a bulk string");
    };
    String::from_utf8(text)
        .expect("utf-8 CLIENT LIST")
        .lines()
        .map(|l| Client {
            name: field(l, "name").to_string(),
            flags: field(l, "flags").to_string(),
            tot_mem: field(l, "tot-mem").parse().expect("tot-mem"),
        })
        .collect()
}

fn find(ctl: &mut Raw, name: &str) -> Option<Client> {
    client_list(ctl).into_iter().find(|c| c.name == name)
}

/// Waits until `name` is listed with at least `bytes` of memory.
fn wait_mem_at_least(ctl: &mut Raw, name: &str, bytes: usize, side: &str) -> Client {
    let deadline = Instant::now() + SETTLE_MAX;
    loop {
        let c = find(ctl, name);
        if let Some(c) = c.as_ref().filter(|c| c.tot_mem >= bytes) {
            return c.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{side}: {name} never reached tot-mem {bytes}: {c:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn evicted_clients(ctl: &mut Raw) -> i64 {
    ctl.info_int("stats", "evicted_clients")
}

fn ping(c: &mut Raw, side: &str, who: &str) {
    assert_eq!(
        c.cmd_str(&["PING"]),
        Reply::Status("PONG".into()),
        "{side}: {who} should still be connected"
    );
}

/// The limit can be given at start-up; connections are counted from their first turn.
#[test]
fn a_limit_given_at_start_up_is_in_force() {
    for side in sides_with(&["--maxmemory-clients", "1mb"]) {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        assert_eq!(
            ctl.cmd_str(&["CONFIG", "GET", "maxmemory-clients"]),
            Reply::Array(Some(vec![
                Reply::bulk(b"maxmemory-clients"),
                Reply::bulk(b"1048576")
            ])),
            "{n}"
        );
        let mut small = named(s, "small");
        let mut big = named(s, "big");
        fill_query(&mut big, 2 * MB, MB);
        assert!(big.wait_closed(EVICT_WAIT), "{n}: big was not evicted");
        ping(&mut small, n, "small");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
    }
}

/// A client whose partial command holds a query buffer over the limit is closed; a small
/// client and the control connection are not.
#[test]
fn a_large_query_buffer_is_evicted_and_a_small_client_survives() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        ok(
            ctl.cmd_str(&["CONFIG", "SET", "maxmemory-clients", "1mb"]),
            n,
        );
        let mut small = named(s, "small");
        let mut big = named(s, "big");
        fill_query(&mut big, 2 * MB, MB);
        assert!(big.wait_closed(EVICT_WAIT), "{n}: big was not evicted");
        ping(&mut small, n, "small");
        let names: Vec<String> = client_list(&mut ctl).into_iter().map(|c| c.name).collect();
        assert!(names.contains(&"small".to_string()), "{n}: {names:?}");
        assert!(!names.contains(&"big".to_string()), "{n}: {names:?}");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
    }
}

/// Replies a client pipelines without reading count as its memory: it is closed in the middle
/// of its pipeline, its unsent replies are dropped and the commands after that point never
/// run.
#[test]
fn pending_replies_are_evicted_and_the_rest_of_the_pipeline_never_runs() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        let value = vec![b'x'; 200_000];
        ok(ctl.cmd(&[b"SET", b"k", &value]), n);
        ok(
            ctl.cmd_str(&["CONFIG", "SET", "maxmemory-clients", "1mb"]),
            n,
        );
        let mut small = named(s, "small");
        let mut reader = named(s, "reader");
        let mut pipeline = Vec::new();
        for _ in 0..20 {
            pipeline.extend_from_slice(&encode(&[b"GET", b"k"]));
        }
        pipeline.extend_from_slice(&encode(&[b"SET", b"after", b"1"]));
        reader.send(&pipeline);
        assert!(
            reader.wait_closed(EVICT_WAIT),
            "{n}: reader was not evicted"
        );
        ping(&mut small, n, "small");
        assert_eq!(ctl.cmd_str(&["EXISTS", "after"]), Reply::Int(0), "{n}");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
    }
}

/// A transaction's queue counts: a client queueing more than the limit is closed before its
/// EXEC, so nothing of the transaction runs.
#[test]
fn a_large_transaction_queue_is_evicted() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        ok(
            ctl.cmd_str(&["CONFIG", "SET", "maxmemory-clients", "1mb"]),
            n,
        );
        let mut small = named(s, "small");
        let mut tx = named(s, "tx");
        let value = vec![b'x'; 200_000];
        let mut bytes = encode(&[b"MULTI"]);
        for _ in 0..8 {
            bytes.extend_from_slice(&encode(&[b"SET", b"k", &value]));
        }
        bytes.extend_from_slice(&encode(&[b"EXEC"]));
        let _ = tx.try_send(&bytes);
        assert!(tx.wait_closed(EVICT_WAIT), "{n}: tx was not evicted");
        ping(&mut small, n, "small");
        assert_eq!(ctl.cmd_str(&["EXISTS", "k"]), Reply::Int(0), "{n}");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
    }
}

/// Of two clients that are over the limit together, the larger one goes; that brings the
/// total under the limit, so the other stays.
#[test]
fn the_largest_client_goes_first_and_only_as_many_as_needed() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        ok(
            ctl.cmd_str(&["CONFIG", "SET", "maxmemory-clients", "2mb"]),
            n,
        );
        let mut mid = named(s, "mid");
        fill_query(&mut mid, 600 * KB, 300 * KB);
        wait_mem_at_least(&mut ctl, "mid", 600 * KB, n);
        let mut big = named(s, "big");
        fill_query(&mut big, 1800 * KB, 900 * KB);
        assert!(big.wait_closed(EVICT_WAIT), "{n}: big was not evicted");
        assert!(find(&mut ctl, "mid").is_some(), "{n}: mid was evicted too");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
    }
}

/// CLIENT NO-EVICT on keeps a client that is over the limit by itself, shown with the `e`
/// flag; its memory still counts, so the next evictable client is closed in its place.
#[test]
fn no_evict_keeps_a_client_whose_memory_still_counts() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        ok(
            ctl.cmd_str(&["CONFIG", "SET", "maxmemory-clients", "1mb"]),
            n,
        );
        let mut big = named(s, "big");
        ok(big.cmd_str(&["CLIENT", "NO-EVICT", "on"]), n);
        fill_query(&mut big, 2 * MB, MB);
        let listed = wait_mem_at_least(&mut ctl, "big", 2 * MB, n);
        assert_eq!(listed.flags, "e", "{n}");
        // Nothing else can go: big stays, over the limit.
        std::thread::sleep(Duration::from_millis(200));
        assert!(find(&mut ctl, "big").is_some(), "{n}: big was evicted");
        assert_eq!(evicted_clients(&mut ctl), 0, "{n}");
        // A newcomer is the only evictable client while the total is over the limit.
        let mut newcomer = s.raw();
        let _ = newcomer.try_send(&encode(&[b"PING"]));
        assert!(newcomer.wait_closed(EVICT_WAIT), "{n}: newcomer kept");
        assert!(find(&mut ctl, "big").is_some(), "{n}: big was evicted");
        ping(&mut ctl, n, "control");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
    }
}

/// A percentage is of `maxmemory`: under it a client stays, over it it goes; with
/// `maxmemory` unset a percentage is no limit.
#[test]
fn a_percentage_limit_follows_maxmemory() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        ok(ctl.cmd_str(&["CONFIG", "SET", "maxmemory", "100mb"]), n);
        // 1% of 100 MiB: 1 MiB.
        ok(
            ctl.cmd_str(&["CONFIG", "SET", "maxmemory-clients", "1%"]),
            n,
        );
        assert_eq!(
            ctl.cmd_str(&["CONFIG", "GET", "maxmemory-clients"]),
            Reply::Array(Some(vec![
                Reply::bulk(b"maxmemory-clients"),
                Reply::bulk(b"1%")
            ])),
            "{n}"
        );
        let mut half = named(s, "half");
        fill_query(&mut half, 400 * KB, 200 * KB);
        wait_mem_at_least(&mut ctl, "half", 400 * KB, n);
        let mut big = named(s, "big");
        fill_query(&mut big, 1100 * KB, 500 * KB);
        assert!(big.wait_closed(EVICT_WAIT), "{n}: big was not evicted");
        assert!(find(&mut ctl, "half").is_some(), "{n}: half was evicted");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
        // No maxmemory: the percentage means no limit.
        ok(ctl.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]), n);
        let mut huge = named(s, "huge");
        fill_query(&mut huge, 3 * MB, MB);
        wait_mem_at_least(&mut ctl, "huge", 3 * MB, n);
        std::thread::sleep(Duration::from_millis(200));
        assert!(find(&mut ctl, "huge").is_some(), "{n}: huge was evicted");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
    }
}

/// Lowering the limit under what the clients hold closes clients until they are under it:
/// two of three clients of ~600 KB each for 1 MB.
#[test]
fn lowering_the_limit_evicts_until_under_it() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        let mut clients = Vec::new();
        for i in 0..3 {
            let name = format!("q{i}");
            let mut c = named(s, &name);
            fill_query(&mut c, 600 * KB, 300 * KB);
            wait_mem_at_least(&mut ctl, &name, 600 * KB, n);
            clients.push(c);
        }
        assert_eq!(evicted_clients(&mut ctl), 0, "{n}");
        ok(
            ctl.cmd_str(&["CONFIG", "SET", "maxmemory-clients", "1mb"]),
            n,
        );
        let deadline = Instant::now() + EVICT_WAIT;
        while evicted_clients(&mut ctl) < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(evicted_clients(&mut ctl), 2, "{n}");
        let left: Vec<Client> = client_list(&mut ctl)
            .into_iter()
            .filter(|c| c.name.starts_with('q'))
            .collect();
        assert_eq!(left.len(), 1, "{n}: {left:?}");
    }
}

/// CLIENT NO-EVICT's replies, errors included, and the `e` flag it sets.
#[test]
fn client_no_evict_replies_and_flag() {
    let lines: &[&[&str]] = &[
        &["CLIENT", "NO-EVICT", "on"],
        &["CLIENT", "NO-EVICT", "ON"],
        &["CLIENT", "NO-EVICT", "off"],
        &["CLIENT", "NO-EVICT", "Off"],
        &["CLIENT", "NO-EVICT", "maybe"],
        &["CLIENT", "NO-EVICT", ""],
        &["CLIENT", "NO-EVICT"],
        &["CLIENT", "NO-EVICT", "on", "off"],
        &["client", "no-evict", "on"],
    ];
    let expected = [
        Reply::ok(),
        Reply::ok(),
        Reply::ok(),
        Reply::ok(),
        Reply::Error("ERR syntax error".into()),
        Reply::Error("ERR syntax error".into()),
        Reply::Error("ERR wrong number of arguments for 'client|no-evict' command".into()),
        Reply::Error("ERR wrong number of arguments for 'client|no-evict' command".into()),
        Reply::ok(),
    ];
    for side in sides() {
        let n = side.name;
        let mut c = side.server.raw();
        for (line, want) in lines.iter().zip(&expected) {
            assert_eq!(&c.cmd_str(line), want, "{n}: {}", line.join(" "));
        }
        let flags = |c: &mut Raw| {
            let Reply::Bulk(Some(t)) = c.cmd_str(&["CLIENT", "INFO"]) else {
                panic!("CLIENT INFO");
            };
            field(String::from_utf8_lossy(&t).trim_end(), "flags").to_string()
        };
        assert_eq!(flags(&mut c), "e", "{n}");
        ok(c.cmd_str(&["CLIENT", "NO-EVICT", "off"]), n);
        assert_eq!(flags(&mut c), "N", "{n}");
        // Inside MULTI it is queued like any command, and its effect shows after EXEC.
        ok(c.cmd_str(&["MULTI"]), n);
        assert_eq!(
            c.cmd_str(&["CLIENT", "NO-EVICT", "on"]),
            Reply::Status("QUEUED".into()),
            "{n}"
        );
        assert_eq!(
            c.cmd_str(&["EXEC"]),
            Reply::Array(Some(vec![Reply::ok()])),
            "{n}"
        );
        assert_eq!(flags(&mut c), "e", "{n}");
    }
}

/// CONFIG SET/GET maxmemory-clients: what is accepted, how it reads back, the error texts.
#[test]
fn config_maxmemory_clients_round_trips() {
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("0", Ok("0")),
        ("1mb", Ok("1048576")),
        ("3000000", Ok("3000000")),
        ("1000", Ok("1000")),
        ("10%", Ok("10%")),
        ("100%", Ok("100%")),
        // Redis keeps a percentage as a negative number: -0 is 0.
        ("0%", Ok("0")),
        (
            "101%",
            Err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"),
        ),
        (
            "-1",
            Err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"),
        ),
        (
            "abc",
            Err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"),
        ),
    ];
    for side in sides() {
        let n = side.name;
        let mut c = side.server.raw();
        let mut current = "0".to_string();
        for (value, want) in cases {
            let got = c.cmd_str(&["CONFIG", "SET", "maxmemory-clients", value]);
            match want {
                Ok(shown) => {
                    assert_eq!(got, Reply::ok(), "{n}: set {value}");
                    current = shown.to_string();
                }
                Err(e) => assert_eq!(got, Reply::Error(e.to_string()), "{n}: set {value}"),
            }
            assert_eq!(
                c.cmd_str(&["CONFIG", "GET", "maxmemory-clients"]),
                Reply::Array(Some(vec![
                    Reply::bulk(b"maxmemory-clients"),
                    Reply::bulk(current.as_bytes())
                ])),
                "{n}: after {value}"
            );
        }
    }
}

/// INFO has `evicted_clients` in the stats section, right after `evicted_keys` (as Redis
/// 7.0 orders it), and CONFIG RESETSTAT zeroes it.
#[test]
fn info_counts_evicted_clients_and_resetstat_clears_them() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        let Reply::Bulk(Some(text)) = ctl.cmd_str(&["INFO", "stats"]) else {
            panic!("INFO stats");
        };
        let text = String::from_utf8(text).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("evicted_keys:"))
            .unwrap_or_else(|| panic!("{n}: no evicted_keys"));
        assert_eq!(lines[at + 1], "evicted_clients:0", "{n}");
        ok(
            ctl.cmd_str(&["CONFIG", "SET", "maxmemory-clients", "1mb"]),
            n,
        );
        let mut big = named(s, "big");
        fill_query(&mut big, 2 * MB, MB);
        assert!(big.wait_closed(EVICT_WAIT), "{n}: big was not evicted");
        assert_eq!(evicted_clients(&mut ctl), 1, "{n}");
        ok(ctl.cmd_str(&["CONFIG", "RESETSTAT"]), n);
        assert_eq!(evicted_clients(&mut ctl), 0, "{n}");
        // The clients' memory shows in INFO memory. Ours is recounted every loop turn;
        // Redis 7.0 refreshes it from its cron and after some commands, so it may lag there.
        if !common::is_redis_server(&s.bin) {
            assert!(ctl.info_int("memory", "mem_clients_normal") > 0, "{n}");
        }
    }
}

/// Without a limit nothing is evicted, however large a client grows, and a client's
/// `tot-mem` covers its query buffer.
#[test]
fn no_limit_no_eviction() {
    for side in sides() {
        let (s, n) = (&side.server, side.name);
        let mut ctl = control(s);
        let mut big = named(s, "big");
        fill_query(&mut big, 3 * MB, MB);
        wait_mem_at_least(&mut ctl, "big", 3 * MB, n);
        std::thread::sleep(Duration::from_millis(200));
        assert!(find(&mut ctl, "big").is_some(), "{n}");
        assert_eq!(evicted_clients(&mut ctl), 0, "{n}");
    }
}
