//! Server settings from Redis's stock config file that ringkv honours, each compared with
//! redis-server 7.0.15: their CONFIG GET/SET replies (defaults, bad values, immutables),
//! `stop-writes-on-bgsave-error` (MISCONF after a failed BGSAVE), `dynamic-hz` (INFO's hz
//! with hundreds of clients), `daemonize` with `pidfile`, `disable-thp` (the process's THP
//! state in /proc), `rdb-del-sync-files` (a disk-based full sync's file kept or not),
//! `oom-score-adj` (the process's score in /proc) and the process title (its cmdline), and
//! that Redis's own stock config file (Debian's /etc/redis/redis.conf) starts ringkv.

mod common;

use common::{Raw, Reply, Server};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PARAMS: &[&str] = &[
    "daemonize",
    "pidfile",
    "disable-thp",
    "always-show-logo",
    "activerehashing",
    "dynamic-hz",
    "jemalloc-bg-thread",
    "stop-writes-on-bgsave-error",
    "rdb-del-sync-files",
    "repl-disable-tcp-nodelay",
    "repl-diskless-sync",
    "set-proc-title",
    "proc-title-template",
    "rdb-save-incremental-fsync",
    "aof-rewrite-incremental-fsync",
    "oom-score-adj-values",
    "supervised",
    "io-threads",
    "io-threads-do-reads",
    "ignore-warnings",
];

/// Numeric settings, each set to these values on both servers.
const NUMERIC: &[&str] = &[
    "active-expire-effort",
    "active-defrag-ignore-bytes",
    "active-defrag-threshold-lower",
    "active-defrag-threshold-upper",
    "active-defrag-cycle-min",
    "active-defrag-cycle-max",
    "active-defrag-max-scan-fields",
];
const NUMBERS: &[&str] = &[
    "0", "1", "5", "10", "11", "99", "100", "1001", "100mb", "-1", "x",
];

#[test]
fn config_replies_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let mut replies = Vec::new();
    for s in [&ours, &redis] {
        let mut c = s.raw();
        let mut got = Vec::new();
        for p in PARAMS {
            got.extend(common::config_transcript(
                &mut c,
                p,
                &["yes", "no", "maybe", ""],
            ));
        }
        for p in NUMERIC {
            got.extend(common::config_transcript(&mut c, p, NUMBERS));
        }
        // The Debian redis-server is built with jemalloc, where defragmentation can be
        // turned on: only `no` and a bad value are compared.
        for v in ["no", "maybe"] {
            got.push(format!(
                "activedefrag {v}: {:?}",
                c.cmd_str(&["CONFIG", "SET", "activedefrag", v])
            ));
        }
        replies.push(got);
    }
    for (a, b) in replies[0].iter().zip(&replies[1]) {
        assert_eq!(a, b, "ringkv, then redis-server");
    }
}

/// A BGSAVE that fails (its directory removed) refuses writes and PING with MISCONF while
/// save points are set; reads go on; turning the setting off, or a successful save, ends
/// it. Scripts that may write get their own MISCONF.
#[test]
fn stop_writes_on_bgsave_error_matches_redis() {
    let mut replies = Vec::new();
    for redis in [false, true] {
        let dir =
            std::env::temp_dir().join(format!("ringkv-misconf-{}-{}", std::process::id(), redis));
        std::fs::create_dir_all(&dir).unwrap();
        let args = ["--save", "3600 1", "--dir", dir.to_str().unwrap()];
        let s = if redis {
            Server::start_bin(&common::redis_bin(), &args)
        } else {
            Server::start(&args)
        };
        let mut c = s.raw();
        let mut got = Vec::new();
        assert_eq!(c.cmd_str(&["SET", "k", "v"]), Reply::ok());
        std::fs::remove_dir_all(&dir).unwrap();
        got.push(format!("{:?}", c.cmd_str(&["BGSAVE"])));
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.info_field("persistence", "rdb_last_bgsave_status") != "err" {
            assert!(Instant::now() < deadline, "the BGSAVE did not fail");
            std::thread::sleep(Duration::from_millis(20));
        }
        for cmd in [
            &["SET", "k", "w"][..],
            &["PING"],
            &["GET", "k"],
            &["EVAL", "#!lua\nreturn redis.call('set','k','x')", "0"],
            &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
            &["EVAL", "return redis.call('set','k','y')", "0"],
            &["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"],
            &["SET", "k", "z"],
            &["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"],
            &["SET", "k", "again"],
            &["CONFIG", "SET", "save", ""],
            &["SET", "k", "no save points"],
        ] {
            got.push(format!("{cmd:?}: {:?}", c.cmd_str(cmd)));
        }
        replies.push(got);
    }
    for (a, b) in replies[0].iter().zip(&replies[1]) {
        assert_eq!(a, b, "ringkv, then redis-server");
    }
    assert!(replies[0][1].contains("MISCONF"), "{:?}", replies[0]);
}

/// With `hz 1` and 450 clients, the housekeeping rate doubles until at most 200 clients
/// share a tick (INFO hz 4, configured_hz 1), as in Redis; without `dynamic-hz` it stays 1.
#[test]
fn dynamic_hz_follows_the_clients() {
    for s in [
        Server::start(&["--hz", "1"]),
        Server::start_redis(&["--hz", "1"]),
    ] {
        let mut c = s.raw();
        let others: Vec<Raw> = (0..449).map(|_| s.raw()).collect();
        for o in &others {
            let _ = o;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.info_field("server", "hz") != "4" {
            assert!(
                Instant::now() < deadline,
                "{}: hz {}",
                s.bin,
                c.info_field("server", "hz")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(c.info_field("server", "configured_hz"), "1");
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "dynamic-hz", "no"]),
            Reply::ok()
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.info_field("server", "hz") != "1" {
            assert!(Instant::now() < deadline, "{}: hz stayed up", s.bin);
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(others);
    }
}

/// `daemonize yes`: the started process returns at once, the server keeps serving in the
/// background, its pid is in the pid file, and SHUTDOWN removes the file.
#[test]
fn daemonize_writes_and_removes_the_pid_file() {
    for bin in [common::ringkv_bin(), common::redis_bin()] {
        let dir = std::env::temp_dir().join(format!(
            "ringkv-daemon-{}-{}",
            std::process::id(),
            bin.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("server.pid");
        let port = common::free_port();
        let status = Command::new(&bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--daemonize", "yes", "--save", "", "--appendonly", "no"])
            .args(["--pidfile", pidfile.to_str().unwrap()])
            .args(["--dir", dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("start the server");
        assert!(status.success(), "{bin}: {status:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = loop {
            if let Some(pid) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "{bin}: no pid file");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut c = Raw::connect(port);
        assert_eq!(c.cmd_str(&["PING"]), Reply::Status("PONG".into()), "{bin}");
        assert_eq!(
            c.info_field("server", "process_id"),
            pid.to_string(),
            "{bin}"
        );
        assert_eq!(
            c.cmd_str(&["CONFIG", "GET", "daemonize"]),
            Reply::Array(Some(vec![Reply::bulk(b"daemonize"), Reply::bulk(b"yes")]))
        );
        c.send(&common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
        let deadline = Instant::now() + Duration::from_secs(10);
        while pidfile.exists() {
            assert!(Instant::now() < deadline, "{bin}: the pid file stayed");
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `disable-thp yes` (the default) turns transparent huge pages off for the process when
/// the system gives them to every process, as redis-server does; `no` leaves them as the
/// kernel has them.
#[test]
fn disable_thp_sets_the_process_state() {
    let thp = |s: &Server| -> Option<String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("THP_enabled:"))
            .map(|v| v.trim().to_string())
    };
    let ours = Server::start(&[]);
    let Some(state) = thp(&ours) else {
        eprintln!("this kernel shows no THP_enabled in /proc/PID/status: nothing to compare");
        return;
    };
    let redis = Server::start_redis(&[]);
    assert_eq!(Some(state.clone()), thp(&redis), "the default");
    // Redis opts out only when the system gives every process huge pages (`[always]`).
    let always = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|t| t.contains("[always]"));
    assert_eq!(state, if always { "0" } else { "1" });
    let ours = Server::start(&["--disable-thp", "no"]);
    let redis = Server::start_redis(&["--disable-thp", "no"]);
    assert_eq!(thp(&ours), thp(&redis), "disable-thp no");
}

/// A disk-based full sync on a server that persists nothing: with `rdb-del-sync-files yes`
/// no RDB file is left, without it the file stays; as in Redis.
#[test]
fn rdb_del_sync_files_matches_redis() {
    for del in ["yes", "no"] {
        let mut kept = Vec::new();
        for redis in [false, true] {
            let args = [
                "--repl-diskless-sync",
                "no",
                "--rdb-del-sync-files",
                del,
                "--save",
                "",
            ];
            let p = Server::start_either(redis, &args);
            let mut c = p.raw();
            assert_eq!(c.cmd_str(&["SET", "k", "v"]), Reply::ok());
            let port = p.port.to_string();
            let r = Server::start_redis(&["--replicaof", "127.0.0.1", &port]);
            let mut rc = r.raw();
            let deadline = Instant::now() + Duration::from_secs(20);
            while rc.info_field("replication", "master_link_status") != "up" {
                assert!(Instant::now() < deadline, "no sync");
                std::thread::sleep(Duration::from_millis(20));
            }
            let Reply::Array(Some(dir)) = c.cmd_str(&["CONFIG", "GET", "dir"]) else {
                panic!("CONFIG GET dir")
            };
            let dir = match &dir[1] {
                Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("{other:?}"),
            };
            let file = std::path::Path::new(&dir).join("dump.rdb");
            // Redis removes it from its cron once the replica is online.
            let deadline = Instant::now() + Duration::from_secs(5);
            while file.exists() == (del == "yes") && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            kept.push(file.exists());
        }
        assert_eq!(
            kept[0], kept[1],
            "rdb-del-sync-files {del}: ringkv, redis-server"
        );
        assert_eq!(kept[0], del == "no");
    }
}

/// `oom-score-adj` and its values, against redis-server: the CONFIG replies, and the
/// process's /proc oom_score_adj as the role and settings change (relative to the score it
/// started with, absolute, restored by `no`).
#[test]
fn oom_score_adj_matches_redis() {
    let mut seen = Vec::new();
    for s in [Server::start(&[]), Server::start_redis(&[])] {
        let mut c = s.raw();
        let score = || {
            std::fs::read_to_string(format!("/proc/{}/oom_score_adj", s.pid()))
                .unwrap()
                .trim()
                .to_string()
        };
        let mut got = vec![score()];
        let steps: &[&[&str]] = &[
            &["CONFIG", "GET", "oom-score-adj"],
            &["CONFIG", "GET", "oom-score-adj-values"],
            &["CONFIG", "SET", "oom-score-adj", "bad"],
            &["CONFIG", "SET", "oom-score-adj-values", "1 2"],
            &["CONFIG", "SET", "oom-score-adj-values", "1 2 x"],
            &["CONFIG", "SET", "oom-score-adj-values", "1 2 3000"],
            &["CONFIG", "SET", "oom-score-adj-values", "10 300 900"],
            &["CONFIG", "SET", "oom-score-adj", "relative"],
            &["CONFIG", "GET", "oom-score-adj"],
            &["REPLICAOF", "127.0.0.1", "1"],
            &["REPLICAOF", "NO", "ONE"],
            &["CONFIG", "SET", "oom-score-adj", "absolute"],
            &["CONFIG", "SET", "oom-score-adj-values", "-5 300 900"],
            &["CONFIG", "SET", "oom-score-adj", "no"],
            &["CONFIG", "GET", "oom-score-adj-values"],
        ];
        for cmd in steps {
            let r = c.cmd_str(cmd);
            got.push(format!("{cmd:?}: {r:?} -> {}", score()));
        }
        seen.push(got);
    }
    for (a, b) in seen[0].iter().zip(&seen[1]) {
        assert_eq!(a, b, "ringkv, then redis-server");
    }
}

/// `proc-title-template`: /proc/PID/cmdline shows the expanded template (ports masked), as
/// redis-server's; bad templates get the same error.
#[test]
fn the_process_title_matches_redis() {
    let mut seen = Vec::new();
    for s in [Server::start(&[]), Server::start_redis(&[])] {
        let mut c = s.raw();
        let title = || {
            let raw = std::fs::read(format!("/proc/{}/cmdline", s.pid())).unwrap();
            let first = raw.split(|&b| b == 0).next().unwrap_or_default().to_vec();
            String::from_utf8_lossy(&first).replace(&s.port.to_string(), "PORT")
        };
        let mut got = Vec::new();
        for t in [
            "{listen-addr} {server-mode}",
            "x {port} {unixsocket}y {tls-port} {{z}",
            "{nope}",
            "{title",
            "{title}",
            "  {listen-addr}  ",
        ] {
            let r = c.cmd_str(&["CONFIG", "SET", "proc-title-template", t]);
            got.push(format!("{t:?}: {r:?} -> {}", title()));
        }
        seen.push(got);
    }
    for (a, b) in seen[0].iter().zip(&seen[1]) {
        assert_eq!(a, b, "ringkv, then redis-server");
    }
}

/// Debian's stock /etc/redis/redis.conf (from the redis-server package), run in the
/// foreground on a free port in a scratch directory: ringkv accepts every directive in it
/// and serves.
#[test]
fn the_stock_redis_conf_starts_ringkv() {
    let Ok(conf) = std::fs::read_to_string("/etc/redis/redis.conf") else {
        eprintln!("no /etc/redis/redis.conf (redis-server not installed): skipped");
        return;
    };
    let dir = std::env::temp_dir().join(format!("ringkv-stockconf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("redis.conf");
    std::fs::write(&path, conf).unwrap();
    let pidfile = dir.join("r.pid");
    let port = common::free_port();
    // The file must come first, as for redis-server.
    let mut child = Command::new(common::ringkv_bin())
        .arg(&path)
        .args([
            "--port",
            &port.to_string(),
            "--daemonize",
            "no",
            "--logfile",
            "",
        ])
        .args(["--dir", dir.to_str().unwrap()])
        .args(["--pidfile", pidfile.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ringkv");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut c = loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("ringkv exited with {status} on the stock config");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break Raw::connect(port);
        }
        assert!(Instant::now() < deadline, "ringkv did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "lazyfree-lazy-user-del"]),
        Reply::Array(Some(vec![
            Reply::bulk(b"lazyfree-lazy-user-del"),
            Reply::bulk(b"no")
        ]))
    );
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap().trim(),
        child.id().to_string()
    );
    c.send(&common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!pidfile.exists(), "the pid file stayed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `supervised systemd`: with NOTIFY_SOCKET set, the server sends READY=1 once it serves
/// and STOPPING=1 at shutdown, and INFO says `process_supervised:systemd`; without the
/// socket it is not supervised. As redis-server.
#[test]
fn supervised_systemd_notifies_as_redis() {
    use std::os::unix::net::UnixDatagram;
    for bin in [common::ringkv_bin(), common::redis_bin()] {
        let dir = std::env::temp_dir().join(format!(
            "ringkv-notify-{}-{}",
            std::process::id(),
            bin.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let s = Server::start_bin_env(
            &bin,
            &[
                "--supervised",
                "systemd",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            &[("NOTIFY_SOCKET", path.to_str().unwrap())],
        );
        let mut got = String::new();
        let mut buf = [0u8; 512];
        while !got.contains("READY=1") {
            let n = sock.recv(&mut buf).expect("a notification");
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let mut c = s.raw();
        assert_eq!(
            c.info_field("server", "process_supervised"),
            "systemd",
            "{bin}"
        );
        c.send(&common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
        let mut stopping = String::new();
        while !stopping.contains("STOPPING=1") {
            let n = sock.recv(&mut buf).expect("STOPPING");
            stopping.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        drop(s);
        let unsupervised = Server::start_bin(&bin, &["--supervised", "systemd", "--save", ""]);
        assert_eq!(
            unsupervised
                .raw()
                .info_field("server", "process_supervised"),
            "no",
            "{bin}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `activedefrag yes` is refused with the text of a Redis built without jemalloc (ringkv
/// uses the C library's allocator, as INFO's `mem_allocator` says).
#[test]
fn activedefrag_cannot_be_turned_on() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    assert_eq!(c.info_field("memory", "mem_allocator"), "libc");
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "activedefrag", "yes"]),
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'activedefrag') - Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution".into())
    );
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "activedefrag"]),
        Reply::Array(Some(vec![Reply::bulk(b"activedefrag"), Reply::bulk(b"no")]))
    );
}

/// `replica-ignore-maxmemory`: a replica over its maxmemory keeps every key its primary
/// sends (yes, the default) or evicts for itself as the stream's commands run (no), for a
/// ringkv replica as for a redis-server one.
#[test]
fn replica_ignore_maxmemory_matches_redis() {
    let primary = Server::start_redis(&["--repl-diskless-sync-delay", "0"]);
    let mut p = primary.raw();
    let value = "v".repeat(100);
    for i in 0..20_000 {
        if i % 1000 == 0 {
            // Keep the pipeline of the raw client bounded.
            assert_eq!(p.cmd_str(&["PING"]), Reply::Status("PONG".into()));
        }
        p.send(&common::encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            value.as_bytes(),
        ]));
        let _ = p.read_reply();
    }
    let port = primary.port.to_string();
    for ignore in ["yes", "no"] {
        let mut evicted = Vec::new();
        for redis in [false, true] {
            let args = [
                "--replicaof",
                "127.0.0.1",
                &port,
                "--maxmemory",
                "1mb",
                "--maxmemory-policy",
                "allkeys-random",
                "--replica-ignore-maxmemory",
                ignore,
            ];
            let r = Server::start_either(redis, &args);
            let mut rc = r.raw();
            let deadline = Instant::now() + Duration::from_secs(20);
            while rc.info_field("replication", "master_link_status") != "up" {
                assert!(Instant::now() < deadline, "no sync");
                std::thread::sleep(Duration::from_millis(20));
            }
            // Commands from the primary run on the replica: the moment it would evict.
            for i in 0..50 {
                assert_eq!(p.cmd_str(&["SET", &format!("more{i}"), "x"]), Reply::ok());
            }
            let want = p.info_field("replication", "master_repl_offset");
            let deadline = Instant::now() + Duration::from_secs(20);
            while rc.info_field("replication", "master_repl_offset") != want {
                assert!(Instant::now() < deadline, "the replica did not catch up");
                std::thread::sleep(Duration::from_millis(20));
            }
            let Reply::Int(n) = rc.cmd_str(&["DBSIZE"]) else {
                panic!("DBSIZE")
            };
            evicted.push(n < 20_050);
        }
        assert_eq!(
            evicted[0], evicted[1],
            "replica-ignore-maxmemory {ignore}: ringkv, redis"
        );
        assert_eq!(evicted[0], ignore == "no");
    }
}
