//! Settings of redis-server 7.0.15 that ringkv added later, each compared with a running
//! redis-server: their CONFIG GET/SET replies (defaults, every accepted value, bad values,
//! case), and each one's effect seen from outside the process: the crash report in the log
//! after DEBUG PANIC (`crash-log-enabled`).

mod common;

use common::files::TempDir;
use common::{Reply, Server};
use std::time::{Duration, Instant};

/// Each setting with the values both servers get, in order (a bad one, an empty one, and
/// each accepted one in another case).
const SETTINGS: &[(&str, &[&str])] = &[
    (
        "sanitize-dump-payload",
        &["bogus", "", "yes", "CLIENTS", "No", "no"],
    ),
    ("crash-log-enabled", &["maybe", "", "no", "YES", "yes"]),
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
            got.push(format!("{p}: {:?}", c.cmd_str(&["CONFIG", "GET", p])));
            for v in *values {
                let r = c.cmd_str(&["CONFIG", "SET", p, v]);
                got.push(format!(
                    "{p} {v:?}: {r:?} {:?}",
                    c.cmd_str(&["CONFIG", "GET", p])
                ));
            }
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
    let s = if redis {
        Server::start_redis(&args)
    } else {
        Server::start(&args)
    };
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
