//! Settings of redis-server 7.0.15 that ringkv added later, each compared with a running
//! redis-server: their CONFIG GET/SET replies (defaults, every accepted value, bad values,
//! case), and each one's effect seen from outside the process: the crash report in the log
//! after DEBUG PANIC (`crash-log-enabled`); a failing command in the AOF and in the
//! replication stream logged and skipped, or fatal (`propagation-error-behavior`); a write
//! of the stream on a replica that cannot persist applied or fatal
//! (`replica-ignore-disk-write-errors`); the files AOF rewrites replace kept as history
//! until the setting goes back to `no` (`aof-disable-auto-gc`); the SO_MARK of the
//! listening and accepted sockets as `ss -e` shows it (`socket-mark-id`); the address a
//! replica's link comes from, as its primary sees it (`bind-source-addr`); the CPUs the
//! loop and background threads may run on, from /proc (`server_cpulist`, `bio_cpulist`).

mod common;

use common::files::TempDir;
use common::{Raw, Reply, Server};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Each setting with the values both servers get, in order (a bad one, an empty one, and
/// each accepted one in another case).
const SETTINGS: &[(&str, &[&str])] = &[
    (
        "sanitize-dump-payload",
        &["bogus", "", "yes", "CLIENTS", "No", "no"],
    ),
    ("crash-log-enabled", &["maybe", "", "no", "YES", "yes"]),
    (
        "propagation-error-behavior",
        &["yes", "", "panic", "PANIC-ON-REPLICAS", "Ignore", "ignore"],
    ),
];

/// CONFIG GET before and after each CONFIG SET, on both servers.
#[test]
fn config_replies_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let mut replies = Vec::new();
    for s in [&ours, &redis] {
        let mut c = s.raw();
        let mut got = Vec::new();
        for (p, values) in SETTINGS {
            got.extend(common::config_transcript(&mut c, p, values));
        }
        replies.push(got);
    }
    assert_eq!(replies[0].len(), replies[1].len());
    for (a, b) in replies[0].iter().zip(&replies[1]) {
        assert_eq!(a, b, "ringkv, then redis-server");
    }
}

/// Waits until the process `pid` has ended (a zombie counts: its parent, the test's
/// `Server`, reaps it on drop).
fn wait_gone(pid: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The state is the field after the parenthesised command name.
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next());
        if matches!(state, None | Some("Z" | "X")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// What the log of a server made to panic (DEBUG PANIC) with `crash-log-enabled` given on
/// the command line, or `set` at run time, holds.
fn panic_log(redis: bool, start_with: &str, set: Option<&str>) -> String {
    let dir = TempDir::new("crashlog");
    let log = dir.0.join("crash.log");
    let args = [
        "--enable-debug-command",
        "yes",
        "--crash-log-enabled",
        start_with,
        "--logfile",
        log.to_str().unwrap(),
    ];
    let s = Server::start_either(redis, &args);
    let mut c = s.raw();
    if let Some(v) = set {
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "crash-log-enabled", v]),
            Reply::ok()
        );
    }
    c.send(&common::encode(&[b"DEBUG", b"PANIC"]));
    assert!(
        wait_gone(s.pid(), Duration::from_secs(20)),
        "{} survived DEBUG PANIC",
        s.bin
    );
    std::fs::read_to_string(&log).unwrap_or_default()
}

/// `crash-log-enabled`: a panic is logged with its message either way, and with a stack
/// trace only while the setting is on (from the command line or CONFIG SET), as Redis.
#[test]
fn crash_log_enabled_switches_the_stack_trace() {
    for redis in [false, true] {
        for (start, set, trace) in [
            ("yes", None, true),
            ("no", None, false),
            ("yes", Some("no"), false),
            ("no", Some("yes"), true),
        ] {
            let log = panic_log(redis, start, set);
            let what = format!("redis {redis}, start {start}, set {set:?}:\n{log}");
            assert!(
                log.contains("# Guru Meditation: DEBUG PANIC called at Unix time "),
                "{what}"
            );
            assert_eq!(log.contains("------ STACK TRACE ------"), trace, "{what}");
            if trace && !redis {
                // The trace names the function that panicked.
                assert!(log.contains("cmd_debug"), "{what}");
            }
        }
    }
}

/// The log's lines that hold `needle`, without their `pid:role date` prefix.
fn log_lines(log: &str, needle: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(needle))
        .map(|l| match l.find(" # ") {
            Some(at) => l[at + 3..].to_string(),
            None => l.to_string(),
        })
        // The source place after a panic's message is each server's own.
        .map(|l| match l.find(" #") {
            Some(at) if l.starts_with("Guru Meditation:") => l[..at].to_string(),
            _ => l,
        })
        .collect()
}

/// An AOF directory whose only file sets `k`, fails an INCR on it (inside MULTI/EXEC with
/// `in_multi`), then sets `j`.
fn write_failing_aof(dir: &Path, in_multi: bool) {
    let aof = dir.join("appendonlydir");
    std::fs::create_dir_all(&aof).unwrap();
    std::fs::write(
        aof.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    let cmds: &[&[&[u8]]] = if in_multi {
        &[
            &[b"SET", b"k", b"a"],
            &[b"MULTI"],
            &[b"INCR", b"k"],
            &[b"SET", b"i", b"c"],
            &[b"EXEC"],
            &[b"SET", b"j", b"b"],
        ]
    } else {
        &[
            &[b"SET", b"k", b"a"],
            &[b"INCR", b"k"],
            &[b"SET", b"j", b"b"],
        ]
    };
    let body: Vec<u8> = cmds.iter().flat_map(|c| common::encode(c)).collect();
    std::fs::write(aof.join("appendonly.aof.1.incr.aof"), body).unwrap();
}

/// Starts `bin` on the AOF of `write_failing_aof` with `propagation-error-behavior`
/// `behavior`: the value of `j` and INFO's `unexpected_error_replies` when it came up, None
/// when it ended instead; and its log.
fn load_failing_aof(
    bin: &str,
    behavior: &str,
    in_multi: bool,
) -> (Option<(Reply, String)>, String) {
    let dir = TempDir::new("properr");
    write_failing_aof(&dir.0, in_multi);
    let log = dir.0.join("server.log");
    let port = common::free_port();
    let mut child = Command::new(bin)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "yes", "--dir", dir.s()])
        .args(["--logfile", log.to_str().unwrap()])
        .args(["--propagation-error-behavior", behavior])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let up = loop {
        if child.try_wait().unwrap().is_some() {
            break None;
        }
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            drop(s);
            // A server that listens while it loads may still end: a closed connection
            // sends the loop round again to see it gone.
            let mut c = Raw::connect(port);
            let ask = |c: &mut Raw, args: &[&str]| -> std::io::Result<Reply> {
                let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
                c.try_send(&common::encode(&args))?;
                c.try_read_reply()
            };
            match ask(&mut c, &["DBSIZE"]) {
                Ok(Reply::Error(e)) if e.starts_with("LOADING") => {}
                Ok(_) => {
                    let j = ask(&mut c, &["GET", "j"]).unwrap();
                    let n = c.info_field("stats", "unexpected_error_replies");
                    break Some((j, n));
                }
                Err(_) => {}
            }
        }
        assert!(Instant::now() < deadline, "{bin} neither started nor ended");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    (up, std::fs::read_to_string(&log).unwrap_or_default())
}

/// `propagation-error-behavior` while the AOF loads: the failing command is logged as
/// critical and counted, then `ignore` and `panic-on-replicas` go on with the next one and
/// `panic` ends the server with a crash report, as redis-server 7.0.15 does.
#[test]
fn propagation_errors_in_the_aof_match_redis() {
    for (behavior, in_multi) in [
        ("ignore", false),
        ("panic-on-replicas", false),
        ("panic", false),
        ("ignore", true),
        ("panic", true),
    ] {
        let mut seen = Vec::new();
        for bin in [common::ringkv_bin(), common::redis_bin()] {
            let (up, log) = load_failing_aof(&bin, behavior, in_multi);
            let mut lines = log_lines(&log, "CRITICAL");
            lines.extend(log_lines(&log, "Guru Meditation"));
            seen.push((up, lines, bin));
        }
        let (ours, redis) = (&seen[0], &seen[1]);
        let what = format!("{behavior}, in MULTI {in_multi}");
        assert_eq!((&ours.0, &ours.1), (&redis.0, &redis.1), "{what}");
        assert_eq!(ours.0.is_none(), behavior == "panic", "{what}");
        // Inside a transaction the command named is EXEC, as in Redis.
        let cmd = if in_multi { "exec" } else { "incr" };
        assert_eq!(
            ours.1[0],
            format!(
                "== CRITICAL == This server is sending an error to its AOF-loading-client: \
                 'value is not an integer or out of range' after processing the command '{cmd}'"
            ),
            "{what}"
        );
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `propagation-error-behavior` on a replica (of a redis-server primary): a command of the
/// stream that fails here (an INCR of a key the writable replica changed itself) is logged
/// as critical, counted, and skipped, the stream going on; once the replica is read-only,
/// `panic-on-replicas` ends it at the next such failure, as it ends redis-server.
#[test]
fn propagation_errors_from_the_primary_match_redis() {
    let primary = Server::start_redis(&["--repl-diskless-sync-delay", "0"]);
    let mut p = primary.raw();
    let port = primary.port.to_string();
    let mut seen = Vec::new();
    for redis in [false, true] {
        let dir = TempDir::new("replerr");
        let log = dir.0.join("replica.log");
        let args = [
            "--replicaof",
            "127.0.0.1",
            &port,
            "--replica-read-only",
            "no",
            "--propagation-error-behavior",
            "panic-on-replicas",
            "--logfile",
            log.to_str().unwrap(),
        ];
        let r = Server::start_either(redis, &args);
        let mut rc = r.raw();
        wait_for("the link", || {
            rc.info_field("replication", "master_link_status") == "up"
        });
        assert_eq!(p.cmd_str(&["SET", "k", "1"]), Reply::ok());
        wait_for("k", || rc.cmd_str(&["GET", "k"]) == Reply::bulk(b"1"));
        // Writable: the failure is logged and skipped, the next command applied.
        assert_eq!(rc.cmd_str(&["SET", "k", "x"]), Reply::ok());
        assert_eq!(p.cmd_str(&["INCR", "k"]), Reply::Int(2));
        // Inside a transaction too.
        assert_eq!(p.cmd_str(&["MULTI"]), Reply::ok());
        assert_eq!(p.cmd_str(&["INCR", "k"]), Reply::Status("QUEUED".into()));
        // A second write: Redis propagates a transaction of one write without MULTI/EXEC.
        assert_eq!(
            p.cmd_str(&["SET", "t", "1"]),
            Reply::Status("QUEUED".into())
        );
        assert_eq!(
            p.cmd_str(&["EXEC"]),
            Reply::Array(Some(vec![Reply::Int(3), Reply::ok()]))
        );
        // A key of this round only: it arrives after the failed INCR.
        let after = format!("after-{redis}");
        assert_eq!(p.cmd_str(&["SET", &after, "1"]), Reply::ok());
        wait_for("after", || {
            rc.cmd_str(&["GET", &after]) == Reply::bulk(b"1")
        });
        let mut got = vec![
            format!("{:?}", rc.cmd_str(&["GET", "k"])),
            rc.info_field("stats", "unexpected_error_replies"),
            rc.info_field("replication", "master_link_status"),
        ];
        // Read-only: the next failure ends the replica.
        assert_eq!(rc.cmd_str(&["SET", "k", "y"]), Reply::ok());
        assert_eq!(
            rc.cmd_str(&["CONFIG", "SET", "replica-read-only", "yes"]),
            Reply::ok()
        );
        assert_eq!(p.cmd_str(&["INCR", "k"]), Reply::Int(4));
        assert!(wait_gone(r.pid(), Duration::from_secs(20)), "{}", r.bin);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        got.extend(log_lines(&text, "CRITICAL"));
        got.extend(log_lines(&text, "Guru Meditation"));
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1], "ringkv, then redis-server");
    assert_eq!(
        seen[0][3],
        "== CRITICAL == This replica is sending an error to its master: 'value is not an integer or out of range' after processing the command 'incr'"
    );
    assert_eq!(
        seen[0][4],
        "== CRITICAL == This replica is sending an error to its master: 'value is not an integer or out of range' after processing the command 'exec'"
    );
    assert_eq!(seen[0][1], "2", "unexpected_error_replies");
    assert_eq!(
        seen[0].last().unwrap(),
        "Guru Meditation: This replica panicked sending an error to its master after processing the command 'incr'"
    );
}

/// `replica-ignore-disk-write-errors`: a replica whose last BGSAVE failed (its directory
/// removed, save points set: the MISCONF state) applies the primary's next write with a
/// warning (yes), or ends with a crash report (no), as redis-server does.
#[test]
fn replica_disk_write_errors_match_redis() {
    let primary = Server::start_redis(&["--repl-diskless-sync-delay", "0"]);
    let mut p = primary.raw();
    let port = primary.port.to_string();
    for ignore in ["yes", "no"] {
        let mut seen = Vec::new();
        for redis in [false, true] {
            let dir = TempDir::new("repldisk");
            let data = dir.0.join("data");
            std::fs::create_dir_all(&data).unwrap();
            let log = dir.0.join("replica.log");
            let args = [
                "--replicaof",
                "127.0.0.1",
                &port,
                "--dir",
                data.to_str().unwrap(),
                "--save",
                "3600 1",
                "--replica-ignore-disk-write-errors",
                ignore,
                "--logfile",
                log.to_str().unwrap(),
            ];
            let r = Server::start_either(redis, &args);
            let mut rc = r.raw();
            wait_for("the link", || {
                rc.info_field("replication", "master_link_status") == "up"
            });
            std::fs::remove_dir_all(&data).unwrap();
            // Whatever BGSAVE answers (Redis forks first), the save fails.
            let _ = rc.cmd_str(&["BGSAVE"]);
            wait_for("the failed save", || {
                rc.info_field("persistence", "rdb_last_bgsave_status") == "err"
            });
            let key = format!("disk-{ignore}-{redis}");
            assert_eq!(p.cmd_str(&["SET", &key, "1"]), Reply::ok());
            let mut got = Vec::new();
            if ignore == "yes" {
                wait_for("the write", || {
                    rc.cmd_str(&["GET", &key]) == Reply::bulk(b"1")
                });
                got.push(rc.info_field("replication", "master_link_status"));
            } else {
                assert!(wait_gone(r.pid(), Duration::from_secs(20)), "{}", r.bin);
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            got.extend(log_lines(&text, "Replica is applying"));
            got.extend(log_lines(&text, "Guru Meditation"));
            seen.push(got);
        }
        assert_eq!(seen[0], seen[1], "{ignore}: ringkv, then redis-server");
        let want = if ignore == "yes" {
            vec![
                "up".to_string(),
                "Replica is applying a command even though it is unable to write to disk.".into(),
            ]
        } else {
            vec!["Guru Meditation: Replica was unable to write command to disk.".to_string()]
        };
        assert_eq!(seen[0], want, "{ignore}");
    }
}

/// The AOF directory's file names, sorted, and its manifest.
fn aof_state(dir: &Path) -> (Vec<String>, String) {
    let aof = dir.join("appendonlydir");
    let mut names: Vec<String> = std::fs::read_dir(&aof)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let manifest = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).unwrap();
    (names, manifest)
}

/// Runs one BGREWRITEAOF to its end. A rewrite already running (the first one a server with
/// `appendonly yes` and no AOF may start on its own) is waited for first, as BGREWRITEAOF
/// would refuse to start another.
fn rewrite_and_wait(c: &mut Raw) {
    let idle = |c: &mut Raw| {
        c.info_field("persistence", "aof_rewrite_in_progress") == "0"
            && c.info_field("persistence", "aof_rewrite_scheduled") == "0"
    };
    wait_for("no rewrite running", || idle(c));
    let r = c.cmd_str(&["BGREWRITEAOF"]);
    assert!(!r.is_error(), "BGREWRITEAOF: {r:?}");
    wait_for("the rewrite", || idle(c));
}

/// `aof-disable-auto-gc yes`: the files two rewrites replace stay in the directory, listed
/// as history in the manifest (in Redis's order), through a restart; `CONFIG SET
/// aof-disable-auto-gc no`, or a start with `no`, deletes them, as redis-server does.
#[test]
fn aof_disable_auto_gc_keeps_history_as_redis() {
    let mut seen = Vec::new();
    for redis in [false, true] {
        let dir = TempDir::new("aofgc");
        let start = |gc: &str| {
            let args = [
                "--appendonly",
                "yes",
                "--dir",
                dir.s(),
                "--aof-disable-auto-gc",
                gc,
            ];
            Server::start_either(redis, &args)
        };
        // Shuts `s` down and starts again with `gc`, once its AOF is loaded.
        let restart = |s: Server, gc: &str| {
            common::files::shutdown_and_wait(&s);
            drop(s);
            let s = start(gc);
            let mut c = s.raw();
            c.wait_loaded();
            (s, c)
        };
        let mut got = Vec::new();
        let s = start("yes");
        let mut c = s.raw();
        for k in ["a", "b"] {
            assert_eq!(c.cmd_str(&["SET", k, "1"]), Reply::ok());
            rewrite_and_wait(&mut c);
        }
        got.push(aof_state(&dir.0));
        // Kept through a restart that keeps the setting.
        let (s, mut c) = restart(s, "yes");
        assert_eq!(c.cmd_str(&["GET", "b"]), Reply::bulk(b"1"));
        got.push(aof_state(&dir.0));
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "aof-disable-auto-gc", "no"]),
            Reply::ok()
        );
        got.push(aof_state(&dir.0));
        // Once more, then a start with `no` collects what was kept.
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "aof-disable-auto-gc", "yes"]),
            Reply::ok()
        );
        rewrite_and_wait(&mut c);
        got.push(aof_state(&dir.0));
        let (_s, mut c) = restart(s, "no");
        assert_eq!(c.cmd_str(&["GET", "a"]), Reply::bulk(b"1"));
        got.push(aof_state(&dir.0));
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1], "ringkv, then redis-server");
    let (files, manifest) = &seen[0][0];
    assert_eq!(files.len(), 7, "{files:?}");
    assert_eq!(manifest.matches(" type h").count(), 4, "{manifest}");
    assert_eq!(seen[0][2].0.len(), 3, "{:?}", seen[0][2]);
    assert_eq!(seen[0][4].0.len(), 3, "{:?}", seen[0][4]);
}

/// `ss -tne` lines (listening and connected sockets) on `port`, local side, reduced to
/// their state and `fwmark` (the last column but the cgroup's, absent without a mark).
fn socket_marks(port: u16) -> Vec<String> {
    let out = Command::new("ss")
        .args(["-tnae", "sport", "=", &format!(":{port}")])
        .output()
        .expect("run ss");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| {
            let state = l.split_whitespace().next().unwrap_or("").to_string();
            let mark = l
                .split_whitespace()
                .find(|w| w.starts_with("fwmark:"))
                .unwrap_or("no-mark");
            format!("{state} {mark}")
        })
        .collect();
    lines.sort();
    lines
}

/// Whether this process may set socket marks (CAP_NET_ADMIN): root here.
fn can_mark() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

/// `socket-mark-id 42`: the listening socket and the connection it accepted carry mark 0x2a
/// on both servers (read with `ss -e`, which shows a socket's `fwmark`); without a mark
/// there is none.
#[test]
fn socket_mark_id_marks_the_sockets_as_redis() {
    if !can_mark() || Command::new("ss").arg("-V").output().is_err() {
        eprintln!("skipped: setting a socket mark needs root (CAP_NET_ADMIN) and ss");
        return;
    }
    for mark in ["42", "0"] {
        let mut seen = Vec::new();
        for redis in [false, true] {
            let args = ["--socket-mark-id", mark];
            let s = Server::start_either(redis, &args);
            let mut c = s.raw();
            assert_eq!(
                c.cmd_str(&["CONFIG", "GET", "socket-mark-id"]),
                Reply::Array(Some(vec![
                    Reply::bulk(b"socket-mark-id"),
                    Reply::bulk(mark.as_bytes())
                ]))
            );
            seen.push(socket_marks(s.port));
        }
        assert_eq!(seen[0], seen[1], "{mark}: ringkv, then redis-server");
        let want = if mark == "42" {
            "fwmark:0x2a"
        } else {
            "no-mark"
        };
        assert!(
            seen[0].contains(&format!("LISTEN {want}"))
                && seen[0].contains(&format!("ESTAB {want}")),
            "{mark}: {:?}",
            seen[0]
        );
    }
}

/// INFO replication's `slave0` line, empty while there is none.
fn slave0(p: &mut Raw) -> String {
    let text = common::diff::text(&p.cmd_str(&["INFO", "replication"]));
    text.lines()
        .find_map(|l| l.strip_prefix("slave0:"))
        .unwrap_or_default()
        .to_string()
}

/// The address the primary sees its replica's link come from (INFO's `slave0:ip=`).
fn replica_ip(p: &mut Raw) -> String {
    let mut line = String::new();
    wait_for("a replica", || {
        line = slave0(p);
        !line.is_empty()
    });
    line.split(',')
        .find_map(|f| f.strip_prefix("ip="))
        .unwrap_or_default()
        .to_string()
}

/// `bind-source-addr`: a replica's link to its primary goes out from that address (the
/// primary sees 127.0.0.2); an address that cannot be bound leaves it to the kernel, as
/// Redis's best-effort binding; CONFIG SET applies to the next connection.
#[test]
fn bind_source_addr_sets_the_replication_source_as_redis() {
    let mut seen = Vec::new();
    for redis in [false, true] {
        let mut got = Vec::new();
        for source in ["127.0.0.2", "nonsense", "192.0.2.1"] {
            // Redis's protected mode admits 127.0.0.1 only, not the rest of 127/8.
            let primary =
                Server::start_redis(&["--repl-diskless-sync-delay", "0", "--protected-mode", "no"]);
            let mut p = primary.raw();
            let port = primary.port.to_string();
            let args = [
                "--replicaof",
                "127.0.0.1",
                &port,
                "--bind-source-addr",
                source,
            ];
            let r = Server::start_either(redis, &args);
            got.push(format!("{source}: {}", replica_ip(&mut p)));
            if source == "127.0.0.2" {
                // Changed at run time: the next link comes from the new address.
                let mut rc = r.raw();
                assert_eq!(
                    rc.cmd_str(&["CONFIG", "SET", "bind-source-addr", "127.0.0.3"]),
                    Reply::ok()
                );
                assert!(!p.cmd_str(&["CLIENT", "KILL", "TYPE", "replica"]).is_error());
                wait_for("the new link", || slave0(&mut p).contains("ip=127.0.0.3"));
                got.push("127.0.0.3 after CONFIG SET".into());
            }
        }
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1], "ringkv, then redis-server");
    assert_eq!(seen[0][0], "127.0.0.2: 127.0.0.2");
    assert_eq!(seen[0][2], "nonsense: 127.0.0.1");
}

/// Each thread of process `pid`: its name and `Cpus_allowed_list`, from /proc.
fn thread_cpus(pid: u32) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let t = t.unwrap().path();
        let name = std::fs::read_to_string(t.join("comm")).unwrap_or_default();
        let status = std::fs::read_to_string(t.join("status")).unwrap_or_default();
        let cpus = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap_or_default();
        let tid = t.file_name().unwrap().to_string_lossy().into_owned();
        // The main thread is the one whose id is the process's.
        let name = if tid == pid.to_string() {
            "main".to_string()
        } else {
            name.trim().to_string()
        };
        out.push((name, cpus.trim().to_string()));
    }
    out
}

/// `server_cpulist 0` and `bio_cpulist 1`: the loop (main) thread may run on CPU 0 only and
/// the background threads that free values (Redis's bio threads, ringkv's lazy-free thread)
/// on CPU 1 only, as /proc shows for both servers; a list ringkv cannot use stops its start.
#[test]
fn cpulists_pin_the_threads_as_redis() {
    let allowed = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Cpus_allowed_list:")
                .map(|v| v.trim().to_string())
        })
        .unwrap();
    if !(allowed == "0-1" || allowed.starts_with("0-")) {
        eprintln!("skipped: needs CPUs 0 and 1 (this process may use {allowed})");
        return;
    }
    for redis in [false, true] {
        let args = ["--server_cpulist", "0", "--bio_cpulist", "1"];
        let s = Server::start_either(redis, &args);
        let threads = thread_cpus(s.pid());
        let main = threads.iter().find(|t| t.0 == "main").unwrap();
        assert_eq!(main.1, "0", "{}: {threads:?}", s.bin);
        let bio_name = if redis { "bio_" } else { "ringkv-lazyfree" };
        let bio: Vec<_> = threads
            .iter()
            .filter(|t| t.0.starts_with(bio_name))
            .collect();
        assert!(!bio.is_empty(), "{}: {threads:?}", s.bin);
        assert!(bio.iter().all(|t| t.1 == "1"), "{}: {threads:?}", s.bin);
    }
    // Redis accepts and ignores these; ringkv refuses to start with a list it cannot use.
    for list in ["0-x", "1000-1001"] {
        let out = Command::new(common::ringkv_bin())
            .args(["--port", "0", "--server_cpulist", list])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{list}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("server_cpulist"), "{list}: {err}");
    }
}

/// `sanitize-dump-payload`: a RESTORE payload whose intset is out of order (its CRC
/// recomputed, so only a deep check finds it) is refused by redis-server under `yes`, and
/// by ringkv whatever the setting (ringkv always decodes a payload completely: every value
/// is met by being exceeded).
#[test]
fn sanitize_dump_payload_is_met_by_ringkv_checking_always() {
    let redis = Server::start_redis(&[]);
    let ours = Server::start(&[]);
    let mut r = redis.raw();
    assert_eq!(r.cmd_str(&["SADD", "s", "1", "2", "3"]), Reply::Int(3));
    let Reply::Bulk(Some(mut payload)) = r.cmd_str(&["DUMP", "s"]) else {
        panic!("DUMP")
    };
    // type 11 (intset), length 14, encoding 2, count 3, then the values 1 2 3 as i16 LE.
    assert_eq!(
        &payload[..12],
        b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00"
    );
    payload.swap(12, 14);
    payload.swap(13, 15);
    let body = payload.len() - 8;
    let crc = ringkv::persist::rdb::crc64(&payload[..body]);
    payload[body..].copy_from_slice(&crc.to_le_bytes());
    let restore = |c: &mut Raw, key: &str| c.cmd(&[b"RESTORE", key.as_bytes(), b"0", &payload]);
    let bad = Reply::Error("ERR Bad data format".into());
    let mut c = ours.raw();
    for (i, v) in ["no", "clients", "yes"].iter().enumerate() {
        for conn in [&mut r, &mut c] {
            assert_eq!(
                conn.cmd_str(&["CONFIG", "SET", "sanitize-dump-payload", v]),
                Reply::ok()
            );
        }
        let key = format!("k{i}");
        assert_eq!(restore(&mut c, &key), bad, "ringkv, {v}");
        if *v == "yes" {
            assert_eq!(restore(&mut r, &key), bad, "redis-server, {v}");
        }
    }
}
