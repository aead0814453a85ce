//! The append-only file end to end: the real binary with `--appendonly yes --dir <temp>`,
//! restarted on its own files, on files redis-server 7.0 wrote, and killed with SIGKILL.

mod common;

use common::diff::{assert_same, dump, strings, text};
use common::{Reply, Server};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("ringkv-aof-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
    fn aof_dir(&self) -> PathBuf {
        self.0.join("appendonlydir")
    }
    fn incr(&self, seq: u32) -> PathBuf {
        self.aof_dir()
            .join(format!("appendonly.aof.{seq}.incr.aof"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start_aof(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--appendonly", "yes", "--dir", dir.s()];
    args.extend_from_slice(extra);
    Server::start(&args)
}

fn cmd(srv: &mut common::Raw, args: &[&str]) -> Reply {
    srv.cmd_str(args)
}

/// Writes every type, with and without TTLs, in several databases, through commands that
/// the AOF rewrites (relative expiries, INCRBYFLOAT, SPOP, GETDEL, LMPOP, ...).
fn populate(port: u16) {
    let mut c = common::Raw::connect(port);
    let ok = |r: Reply| assert!(!r.is_error(), "{r:?}");
    ok(cmd(&mut c, &["SET", "s1", "hello"]));
    ok(cmd(&mut c, &["SET", "s2", "12345"]));
    ok(cmd(&mut c, &["SET", "s3", "bin\r\n\0x", "EX", "1000"]));
    ok(cmd(&mut c, &["SETEX", "s4", "500", "v"]));
    ok(cmd(&mut c, &["PSETEX", "s5", "900000", "v"]));
    ok(cmd(&mut c, &["SET", "s6", "x", "PXAT", "9999999999999"]));
    ok(cmd(&mut c, &["INCRBYFLOAT", "f", "1.25"]));
    ok(cmd(&mut c, &["INCRBYFLOAT", "f", "2"]));
    ok(cmd(&mut c, &["APPEND", "s1", " world"]));
    ok(cmd(&mut c, &["INCR", "counter"]));
    ok(cmd(&mut c, &["SET", "gone", "1"]));
    ok(cmd(&mut c, &["GETDEL", "gone"]));
    ok(cmd(&mut c, &["SET", "short", "1", "PX", "1"]));
    ok(cmd(&mut c, &["EXPIRE", "s1", "10000"]));
    ok(cmd(&mut c, &["SET", "p", "1", "EX", "100"]));
    ok(cmd(&mut c, &["PERSIST", "p"]));
    ok(cmd(&mut c, &["GETEX", "s2", "EX", "3000"]));
    ok(cmd(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e", "f"]));
    ok(cmd(&mut c, &["LPOP", "l"]));
    ok(cmd(&mut c, &["LMPOP", "1", "l", "RIGHT", "COUNT", "2"]));
    ok(cmd(&mut c, &["LPUSH", "l2", "x"]));
    ok(cmd(&mut c, &["LMOVE", "l", "l2", "LEFT", "RIGHT"]));
    let many: Vec<String> = (0..150).map(|i| format!("item{i}")).collect();
    let mut args = vec!["RPUSH", "biglist"];
    args.extend(many.iter().map(|s| s.as_str()));
    ok(cmd(&mut c, &args));
    ok(cmd(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]));
    ok(cmd(&mut c, &["HINCRBYFLOAT", "h", "a", "0.5"]));
    ok(cmd(&mut c, &["HDEL", "h", "b"]));
    ok(cmd(&mut c, &["PEXPIRE", "h", "7777777"]));
    ok(cmd(
        &mut c,
        &["SADD", "set", "1", "2", "3", "4", "5", "6", "7", "8"],
    ));
    ok(cmd(&mut c, &["SPOP", "set"]));
    ok(cmd(&mut c, &["SPOP", "set", "3"]));
    ok(cmd(&mut c, &["SADD", "strset", "a", "b", "c"]));
    ok(cmd(&mut c, &["SADD", "popall", "a", "b"]));
    ok(cmd(&mut c, &["SPOP", "popall", "5"]));
    ok(cmd(&mut c, &["SINTERSTORE", "inter", "set", "set"]));
    ok(cmd(&mut c, &["EXPIREAT", "strset", "4000000000"]));
    ok(cmd(
        &mut c,
        &["ZADD", "z", "1", "a", "2.5", "b", "-inf", "c", "3", "d"],
    ));
    ok(cmd(&mut c, &["ZINCRBY", "z", "0.1", "a"]));
    ok(cmd(&mut c, &["ZPOPMIN", "z"]));
    ok(cmd(&mut c, &["ZADD", "z2", "5", "x", "6", "y", "7", "w"]));
    ok(cmd(&mut c, &["ZMPOP", "1", "z2", "MAX", "COUNT", "2"]));
    ok(cmd(&mut c, &["BZPOPMAX", "z", "0"]));
    ok(cmd(&mut c, &["ZRANGESTORE", "zr", "z", "0", "-1"]));
    ok(cmd(
        &mut c,
        &["ZUNIONSTORE", "zu", "2", "z", "set", "WEIGHTS", "2", "1"],
    ));
    let members: Vec<String> = (0..150)
        .flat_map(|i| [i.to_string(), format!("m{i}")])
        .collect();
    let mut args = vec!["ZADD", "bigzset"];
    args.extend(members.iter().map(|s| s.as_str()));
    ok(cmd(&mut c, &args));
    ok(cmd(&mut c, &["PEXPIRE", "bigzset", "8888888"]));
    // Waiters served later by another client's push are logged as the pops they did.
    let mut waiter = common::Raw::connect(port);
    waiter.send(&common::encode(&[b"BLPOP", b"wl", b"0"]));
    let mut zwaiter = common::Raw::connect(port);
    zwaiter.send(&common::encode(&[
        b"BZMPOP", b"0", b"1", b"wz", b"MIN", b"COUNT", b"2",
    ]));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !matches!(cmd(&mut c, &["INFO", "clients"]),
        Reply::Bulk(Some(b)) if String::from_utf8_lossy(&b).contains("blocked_clients:2"))
    {
        assert!(Instant::now() < deadline, "the waiters did not block");
        std::thread::sleep(Duration::from_millis(5));
    }
    ok(cmd(&mut c, &["RPUSH", "wl", "p", "q"]));
    ok(cmd(&mut c, &["ZADD", "wz", "1", "e", "2", "f", "3", "g"]));
    assert!(!waiter.read_reply().is_error());
    assert!(!zwaiter.read_reply().is_error());
    ok(cmd(&mut c, &["SELECT", "3"]));
    ok(cmd(&mut c, &["SET", "in3", "v3"]));
    ok(cmd(&mut c, &["HSET", "h3", "f", "v"]));
    ok(cmd(&mut c, &["EXPIRE", "h3", "-1"]));
    ok(cmd(&mut c, &["MOVE", "in3", "5"]));
    ok(cmd(&mut c, &["SELECT", "0"]));
    ok(cmd(&mut c, &["SET", "tmp", "1"]));
    ok(cmd(&mut c, &["RENAME", "tmp", "renamed"]));
    // The key with a 1 ms TTL has expired by now: reading it logs its deletion.
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(cmd(&mut c, &["GET", "short"]), Reply::Bulk(None));
}

#[test]
fn round_trip_every_type_with_ttls_under_each_fsync_policy() {
    for policy in ["always", "everysec", "no"] {
        let dir = TempDir::new(&format!("rt-{policy}"));
        let before = {
            let srv = start_aof(&dir, &["--appendfsync", policy]);
            populate(srv.port);
            dump(srv.port)
            // Dropped: SIGKILL. Replies were held until their write completed, so everything
            // acknowledged is in the file even without a clean shutdown.
        };
        assert!(before.len() > 10);
        let srv = start_aof(&dir, &["--appendfsync", policy]);
        let after = dump(srv.port);
        assert_same(&before, &after, policy);
        let out = Command::new("redis-check-aof")
            .arg(dir.aof_dir().join("appendonly.aof.manifest"))
            .output()
            .expect("redis-check-aof");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("All AOF files and manifest are valid"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn manifest_and_incr_are_written_as_redis_does() {
    let dir = TempDir::new("layout");
    let srv = start_aof(&dir, &[]);
    let mut c = srv.raw();
    cmd(&mut c, &["SET", "k", "v", "EX", "100"]);
    cmd(&mut c, &["DEL", "nosuchkey"]);
    cmd(&mut c, &["SET", "k2", "v2"]);
    // aof-use-rdb-preamble defaults to yes, as in Redis 7.0: the first base is an (empty) RDB
    // file, exactly what redis-server 7.0.15 writes at first start.
    let manifest = std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest")).unwrap();
    assert_eq!(
        manifest,
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    let base = std::fs::read(dir.aof_dir().join("appendonly.aof.1.base.rdb")).unwrap();
    assert!(base.starts_with(b"REDIS0010"), "{base:?}");
    let incr = std::fs::read(dir.incr(1)).unwrap();
    let cmds = ringkv::persist::aof::parse_aof(&incr).unwrap();
    let names: Vec<String> = cmds
        .iter()
        .map(|c| String::from_utf8_lossy(&c[0]).into_owned())
        .collect();
    // DEL of a missing key changed nothing and is not logged; SET EX becomes SET PXAT.
    assert_eq!(names, ["SELECT", "SET", "SET"]);
    assert_eq!(cmds[1].len(), 5);
    assert_eq!(cmds[1][3], b"PXAT");
    assert_eq!(cmds[2], [b"SET".to_vec(), b"k2".to_vec(), b"v2".to_vec()]);
}

/// Runs the binary expecting it to exit by itself; returns (success, stdout + stderr).
fn run_to_exit(args: &[&str], stdin: &[u8]) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringkv"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&out.stderr));
            return (out.status.success(), s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Builds an AOF of `n` SETs (key i → value i) and returns the incr file's bytes and the end
/// offset of each command in it.
fn build_sets(dir: &TempDir, n: usize) -> (Vec<u8>, Vec<usize>) {
    {
        let srv = start_aof(dir, &["--appendfsync", "always"]);
        let mut c = srv.raw();
        for i in 0..n {
            assert_eq!(
                cmd(&mut c, &["SET", &format!("k{i}"), &format!("v{i}")]),
                Reply::ok()
            );
        }
    }
    let bytes = std::fs::read(dir.incr(1)).unwrap();
    let mut ends = Vec::new();
    let mut args = Vec::new();
    let mut pos = 0;
    while let Some(next) = ringkv::persist::aof::parse_command(&bytes, pos, &mut args).unwrap() {
        ends.push(next);
        pos = next;
    }
    (bytes, ends)
}

#[test]
fn torn_tail_at_every_offset_keeps_exactly_the_complete_commands() {
    let dir = TempDir::new("torn");
    let (bytes, ends) = build_sets(&dir, 6);
    // ends[0] is the SELECT; ends[i] ends the SET of k{i-1}.
    let from = ends[ends.len() - 4];
    for cut in from..bytes.len() {
        std::fs::write(dir.incr(1), &bytes[..cut]).unwrap();
        let complete = ends.iter().filter(|e| **e <= cut).count().saturating_sub(1);
        {
            let srv = start_aof(&dir, &[]);
            let mut c = srv.raw();
            assert_eq!(
                cmd(&mut c, &["DBSIZE"]),
                Reply::Int(complete as i64),
                "cut at {cut}"
            );
            if complete > 0 {
                let last = complete - 1;
                assert_eq!(
                    text(&cmd(&mut c, &["GET", &format!("k{last}")])),
                    format!("v{last}")
                );
            }
        }
        // The torn command was cut off the file.
        let len = std::fs::metadata(dir.incr(1)).unwrap().len() as usize;
        assert!(ends.contains(&len), "cut {cut}: file left at {len}");
    }
}

#[test]
fn torn_tail_is_refused_with_aof_load_truncated_no() {
    let dir = TempDir::new("torn-no");
    let (bytes, _) = build_sets(&dir, 3);
    std::fs::write(dir.incr(1), &bytes[..bytes.len() - 3]).unwrap();
    let (ok, out) = run_to_exit(
        &[
            "--port",
            "0",
            "--unixsocket",
            &format!("{}/s.sock", dir.s()),
            "--dir",
            dir.s(),
            "--appendonly",
            "yes",
            "--aof-load-truncated",
            "no",
        ],
        b"",
    );
    assert!(!ok, "{out}");
    assert!(out.contains("Unexpected end of file"), "{out}");
    assert!(out.contains("appendonly.aof.1.incr.aof"), "{out}");
    assert!(out.contains("ringkv check-aof --fix"), "{out}");
}

#[test]
fn corruption_in_the_middle_stops_start_up_naming_file_and_offset() {
    let dir = TempDir::new("corrupt");
    let (mut bytes, ends) = build_sets(&dir, 5);
    let at = ends[2];
    bytes[at] = b'?';
    std::fs::write(dir.incr(1), &bytes).unwrap();
    let sock = format!("{}/s.sock", dir.s());
    let args = [
        "--port",
        "0",
        "--unixsocket",
        &sock,
        "--dir",
        dir.s(),
        "--appendonly",
        "yes",
    ];
    let (ok, out) = run_to_exit(&args, b"");
    assert!(!ok, "{out}");
    assert!(out.contains("Bad file format"), "{out}");
    assert!(out.contains(&format!("at offset {at}")), "{out}");
    assert!(out.contains("appendonly.aof.1.incr.aof"), "{out}");

    // check-aof reports it; answering "n" changes nothing.
    let file = dir.incr(1);
    let f = file.to_str().unwrap();
    let (ok, out) = run_to_exit(&["check-aof", f], b"");
    assert!(!ok);
    assert!(out.contains(&format!("ok_up_to={at}")), "{out}");
    let (ok, out) = run_to_exit(&["check-aof", "--fix", f], b"n\n");
    assert!(!ok, "{out}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().len() as usize,
        bytes.len()
    );
    // Confirmed: truncated to the last valid command, and the server starts.
    let (ok, out) = run_to_exit(&["check-aof", "--fix", f], b"y\n");
    assert!(ok, "{out}");
    assert!(out.contains("Successfully truncated"), "{out}");
    assert_eq!(std::fs::metadata(&file).unwrap().len() as usize, at);
    let (ok, _) = run_to_exit(&["check-aof", f], b"");
    assert!(ok);
    let srv = start_aof(&dir, &[]);
    assert_eq!(cmd(&mut srv.raw(), &["DBSIZE"]), Reply::Int(2));
}

/// Waits until no AOF rewrite is scheduled or running.
fn wait_rewrite_done(port: u16) {
    let mut c = common::Raw::connect(port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = text(&cmd(&mut c, &["INFO", "persistence"]));
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            return;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish: {info}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends SHUTDOWN and waits until the process has exited (a zombie until the drop reaps it).
/// Waits (bounded) until redis-server's first rewrite is done: no rewrite in progress and
/// the manifest no longer names the base of sequence 1.
fn wait_redis_first_rewrite(c: &mut common::Raw, dir: &TempDir) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while text(&cmd(c, &["INFO", "persistence"])).contains("aof_rewrite_in_progress:1")
        || std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest"))
            .unwrap_or_default()
            .contains("seq 1 type b")
    {
        assert!(Instant::now() < deadline, "redis rewrite did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn shutdown_and_wait(srv: &Server) {
    let mut c = srv.raw();
    c.send(&common::encode(&[b"SHUTDOWN"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", srv.pid())).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .chars()
            .next();
        if matches!(state, None | Some('Z') | Some('X')) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after SHUTDOWN"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn redis_starts_from_our_directory_and_we_start_from_redis_directory() {
    // Ours → redis-server 7.0.
    let dir = TempDir::new("to-redis");
    let ours = {
        let srv = start_aof(&dir, &[]);
        populate(srv.port);
        let d = dump(srv.port);
        let mut c = srv.raw();
        assert_eq!(
            cmd(&mut c, &["BGREWRITEAOF"]),
            Reply::Status("Background append only file rewriting started".into())
        );
        cmd(&mut c, &["SET", "after-rewrite", "1"]);
        cmd(&mut c, &["RPUSH", "l", "tail"]);
        wait_rewrite_done(srv.port);
        let d2 = dump(srv.port);
        assert_eq!(d.len() + 1, d2.len());
        d2
    };
    let redis = Server::start_redis(&[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--dir",
        dir.s(),
    ]);
    assert_same(
        &ours,
        &dump(redis.port),
        "redis-server loading ringkv's AOF",
    );
    drop(redis);

    // redis-server 7.0 → ours.
    let dir = TempDir::new("from-redis");
    let theirs = {
        let redis = Server::start_redis(&[
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
            "--dir",
            dir.s(),
        ]);
        populate(redis.port);
        let mut c = redis.raw();
        // A rewrite gives a non-empty base too.
        cmd(&mut c, &["BGREWRITEAOF"]);
        wait_redis_first_rewrite(&mut c, &dir);
        cmd(&mut c, &["SET", "after-rewrite", "1"]);
        cmd(&mut c, &["SPOP", "set", "2"]);
        let d = dump(redis.port);
        // Under everysec Redis may postpone a write while a background fsync runs (after a
        // rewrite it does), replying first: shut it down cleanly so it flushes.
        shutdown_and_wait(&redis);
        d
    };
    let srv = start_aof(&dir, &[]);
    assert_same(
        &theirs,
        &dump(srv.port),
        "ringkv loading redis-server's AOF",
    );
}

#[test]
fn we_start_from_a_redis_directory_with_an_rdb_base() {
    // redis-server 7.0 with aof-use-rdb-preamble yes (its default) writes the base as RDB;
    // the AOF loader hands it to the RDB codec, then replays the incr file on top.
    let dir = TempDir::new("rdb-base");
    let theirs = {
        let redis = Server::start_redis(&[
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "yes",
            "--dir",
            dir.s(),
        ]);
        populate(redis.port);
        let mut c = redis.raw();
        cmd(&mut c, &["BGREWRITEAOF"]);
        wait_redis_first_rewrite(&mut c, &dir);
        let manifest =
            std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest")).unwrap();
        assert!(manifest.contains(".2.base.rdb"), "{manifest}");
        cmd(&mut c, &["SET", "after-rewrite", "1"]);
        cmd(&mut c, &["ZADD", "z", "9", "late"]);
        let d = dump(redis.port);
        // As above: a clean shutdown so that everysec's last writes are in the files.
        shutdown_and_wait(&redis);
        d
    };
    let srv = start_aof(&dir, &[]);
    assert_same(
        &theirs,
        &dump(srv.port),
        "ringkv loading redis's RDB-based AOF",
    );
}

#[test]
fn config_set_appendonly_writes_a_base_of_the_current_data() {
    let dir = TempDir::new("config-set");
    let before = {
        let srv = Server::start(&["--dir", dir.s()]);
        populate(srv.port);
        let mut c = srv.raw();
        // Enough keys that the first base takes many loop turns, with writes meanwhile.
        let mut batch = Vec::new();
        for i in 0..20_000 {
            common::encode_into(&mut batch, &[b"SET", format!("bulk{i}").as_bytes(), b"v0"]);
        }
        c.send(&batch);
        for _ in 0..20_000 {
            assert_eq!(c.read_reply(), Reply::ok());
        }
        assert_eq!(
            cmd(&mut c, &["CONFIG", "SET", "appendonly", "yes"]),
            Reply::ok()
        );
        let mut batch = Vec::new();
        for i in (0..20_000).step_by(5) {
            common::encode_into(&mut batch, &[b"SET", format!("bulk{i}").as_bytes(), b"v1"]);
            common::encode_into(&mut batch, &[b"DEL", format!("bulk{}", i + 1).as_bytes()]);
        }
        c.send(&batch);
        for _ in 0..8_000 {
            assert!(!c.read_reply().is_error());
        }
        assert_eq!(
            strings(cmd(&mut c, &["CONFIG", "GET", "appendonly"])),
            ["appendonly", "yes"]
        );
        cmd(&mut c, &["SET", "later", "1"]);
        cmd(&mut c, &["CONFIG", "SET", "appendonly", "no"]);
        cmd(&mut c, &["SET", "not-logged", "1"]);
        let mut d = dump(srv.port);
        d.remove(&(0, "not-logged".to_string()));
        d
    };
    let srv = start_aof(&dir, &[]);
    assert_same(&before, &dump(srv.port), "after CONFIG SET appendonly yes");
}

#[test]
fn info_persistence_has_redis_fields_in_redis_order() {
    let dir = TempDir::new("info");
    let ours = start_aof(&dir, &[]);
    let rdir = TempDir::new("info-redis");
    let redis = Server::start_redis(&["--appendonly", "yes", "--dir", rdir.s()]);
    let fields = |port: u16| -> Vec<String> {
        let mut c = common::Raw::connect(port);
        text(&cmd(&mut c, &["INFO", "persistence"]))
            .lines()
            .filter_map(|l| l.split(':').next().map(str::to_string))
            .filter(|l| !l.is_empty())
            .collect()
    };
    assert_eq!(fields(ours.port), fields(redis.port));
    let mut c = ours.raw();
    cmd(&mut c, &["SET", "a", "1"]);
    let info = text(&cmd(&mut c, &["INFO", "persistence"]));
    assert!(info.contains("aof_enabled:1"), "{info}");
    assert!(info.contains("rdb_changes_since_last_save:1"), "{info}");
    assert!(info.contains("aof_last_write_status:ok"), "{info}");
}

#[test]
fn rewrite_under_load_loses_nothing() {
    let dir = TempDir::new("rewrite-load");
    let srv = start_aof(&dir, &["--appendfsync", "everysec"]);
    let port = srv.port;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = common::Raw::connect(port);
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    assert_eq!(
                        cmd(&mut c, &["RPUSH", &format!("list{w}"), &i.to_string()]),
                        Reply::Int(i as i64 + 1)
                    );
                    cmd(
                        &mut c,
                        &[
                            "HSET",
                            &format!("hash{w}"),
                            &format!("f{}", i % 50),
                            &i.to_string(),
                        ],
                    );
                    i += 1;
                }
                i
            })
        })
        .collect();
    let mut c = srv.raw();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            cmd(&mut c, &["BGREWRITEAOF"]),
            Reply::Status("Background append only file rewriting started".into())
        );
        wait_rewrite_done(port);
    }
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<u64> = writers.into_iter().map(|t| t.join().unwrap()).collect();
    let before = dump(port);
    drop(srv);
    let manifest = std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest")).unwrap();
    assert!(manifest.contains("seq 6 type b"), "{manifest}");
    // Old files are gone: one base and one incr remain (plus the manifest).
    assert_eq!(std::fs::read_dir(dir.aof_dir()).unwrap().count(), 3);
    let srv = start_aof(&dir, &[]);
    let after = dump(srv.port);
    assert_same(&before, &after, "after rewrites under load");
    for (w, n) in counts.iter().enumerate() {
        assert_eq!(
            cmd(&mut srv.raw(), &["LLEN", &format!("list{w}")]),
            Reply::Int(*n as i64)
        );
    }
}

#[test]
fn write_errors_answer_misconf_and_hold_replies_until_a_write_succeeds() {
    // The next incr file is made a link to /dev/full, so every write to it fails with ENOSPC.
    let dir = TempDir::new("misconf");
    let srv = start_aof(&dir, &["--appendfsync", "always"]);
    let mut c = srv.raw();
    cmd(&mut c, &["SET", "before", "1"]);
    std::os::unix::fs::symlink("/dev/full", dir.incr(2)).unwrap();
    assert_eq!(
        cmd(&mut c, &["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting started".into())
    );
    wait_rewrite_done(srv.port);
    // This write fails; its reply is held.
    c.send(&common::encode(&[b"SET", b"held", b"1"]));
    let mut other = srv.raw();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = text(&cmd(&mut other, &["INFO", "persistence"]));
        if info.contains("aof_last_write_status:err") {
            break;
        }
        assert!(Instant::now() < deadline, "{info}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        cmd(&mut other, &["SET", "x", "1"]),
        Reply::Error("MISCONF Errors writing to the AOF file: No space left on device".into())
    );
    assert_eq!(
        cmd(&mut other, &["PING"]),
        Reply::Error("MISCONF Errors writing to the AOF file: No space left on device".into())
    );
    assert_eq!(cmd(&mut other, &["GET", "before"]), Reply::bulk(b"1"));
    c.set_read_timeout(Duration::from_millis(300));
    assert!(
        c.try_read_reply().is_err(),
        "the failed write must not be acknowledged"
    );
    // A rewrite moves to a good file: the held reply goes, writes work again.
    assert_eq!(
        cmd(&mut other, &["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting started".into())
    );
    c.set_read_timeout(Duration::from_secs(5));
    assert_eq!(c.read_reply(), Reply::ok());
    assert_eq!(cmd(&mut other, &["SET", "x", "1"]), Reply::ok());
    let info = text(&cmd(&mut other, &["INFO", "persistence"]));
    assert!(info.contains("aof_last_write_status:ok"), "{info}");
    drop(srv);
    let srv = start_aof(&dir, &[]);
    let mut c = srv.raw();
    for k in ["before", "held", "x"] {
        assert_eq!(cmd(&mut c, &["GET", k]), Reply::bulk(b"1"), "{k}");
    }
}

/// One crash cycle: clients write under appendfsync always and record what was
/// acknowledged; the server is killed with SIGKILL at a random moment; after a restart every
/// acknowledged write must be there.
fn crash_cycle(dir: &TempDir, cycle: u32, rng: &mut impl rand::Rng) {
    let srv = start_aof(dir, &["--appendfsync", "always"]);
    let port = srv.port;
    if cycle == 0 {
        // Enough keys that a rewrite spans many loop turns.
        let mut c = srv.raw();
        let mut batch = Vec::new();
        for i in 0..30_000 {
            common::encode_into(&mut batch, &[b"SET", format!("pre{i}").as_bytes(), b"v"]);
        }
        c.send(&batch);
        for _ in 0..30_000 {
            assert_eq!(c.read_reply(), Reply::ok());
        }
    }
    // Every other cycle a rewrite runs while the clients write (and the kill may hit it).
    let rewriter = (cycle % 2 == 1).then(|| {
        let delay = Duration::from_millis(rng.gen_range(0..100));
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                use std::io::Write;
                let _ = (&s).write_all(&common::encode(&[b"BGREWRITEAOF"]));
            }
        })
    });
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let acked = acked.clone();
            std::thread::spawn(move || {
                let mut c = common::Raw::connect(port);
                c.set_read_timeout(Duration::from_secs(5));
                let key = format!("c{cycle}-t{t}");
                for i in 0.. {
                    if c.try_send(&common::encode(&[
                        b"RPUSH",
                        key.as_bytes(),
                        i.to_string().as_bytes(),
                    ]))
                    .is_err()
                    {
                        return;
                    }
                    match c.try_read_reply() {
                        Ok(Reply::Int(n)) => acked.lock().unwrap().push((key.clone(), n as u64)),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(rng.gen_range(50..300)));
    drop(srv); // SIGKILL
    for t in threads {
        let _ = t.join();
    }
    if let Some(r) = rewriter {
        let _ = r.join();
    }
    let acked = acked.lock().unwrap().clone();
    let srv = start_aof(dir, &[]);
    let mut c = srv.raw();
    assert_eq!(
        cmd(&mut c, &["EXISTS", "pre0", "pre29999"]),
        Reply::Int(2),
        "cycle {cycle}: preloaded keys lost"
    );
    let mut max: BTreeMap<String, u64> = BTreeMap::new();
    for (k, n) in acked {
        let m = max.entry(k).or_default();
        *m = (*m).max(n);
    }
    for (k, n) in max {
        let Reply::Int(len) = cmd(&mut c, &["LLEN", &k]) else {
            panic!()
        };
        assert!(
            len as u64 >= n,
            "cycle {cycle}: {k} has {len} elements, {n} were acknowledged"
        );
        let items = strings(cmd(&mut c, &["LRANGE", &k, "0", "-1"]));
        for (i, v) in items.iter().enumerate() {
            assert_eq!(*v, i.to_string(), "cycle {cycle}: {k}");
        }
    }
}

#[test]
fn crash_with_sigkill_keeps_every_acknowledged_write() {
    let cycles: u32 = std::env::var("CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let dir = TempDir::new("crash");
    let mut rng = rand::thread_rng();
    for cycle in 0..cycles {
        crash_cycle(&dir, cycle, &mut rng);
    }
    // Rewrites cut short leave extra incr files in the manifest; a completed one folds
    // them all into one base again, without losing anything.
    let srv = start_aof(&dir, &[]);
    let before = dump(srv.port);
    assert_eq!(
        cmd(&mut srv.raw(), &["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting started".into())
    );
    wait_rewrite_done(srv.port);
    drop(srv);
    let manifest = std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest")).unwrap();
    assert_eq!(manifest.lines().count(), 2, "{manifest}");
    let srv = start_aof(&dir, &[]);
    assert_same(
        &before,
        &dump(srv.port),
        "after the crash cycles and a rewrite",
    );
}

#[test]
fn a_single_file_aof_from_before_7_0_is_upgraded_like_redis_does() {
    let dir = TempDir::new("upgrade");
    let mut old = Vec::new();
    common::encode_into(&mut old, &[b"SELECT", b"0"]);
    common::encode_into(&mut old, &[b"SET", b"old", b"style"]);
    std::fs::write(dir.0.join("appendonly.aof"), &old).unwrap();
    let srv = start_aof(&dir, &[]);
    let mut c = srv.raw();
    assert_eq!(cmd(&mut c, &["GET", "old"]), Reply::bulk(b"style"));
    assert_eq!(
        std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert!(!dir.0.join("appendonly.aof").exists());
    assert_eq!(
        std::fs::read(dir.aof_dir().join("appendonly.aof")).unwrap(),
        old
    );
}

/// Parses every file of an AOF directory's manifest and replays it into a model:
/// (db, key) → the commands' effect on strings only (enough for the tests below).
fn base_strings(dir: &TempDir) -> BTreeMap<(u32, String), String> {
    let manifest = std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest")).unwrap();
    let base = manifest
        .lines()
        .find(|l| l.ends_with("type b"))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap()
        .to_string();
    let bytes = std::fs::read(dir.aof_dir().join(base)).unwrap();
    let mut out = BTreeMap::new();
    let mut db = 0u32;
    for c in ringkv::persist::aof::parse_aof(&bytes).unwrap() {
        let name = String::from_utf8_lossy(&c[0]).to_ascii_uppercase();
        match name.as_str() {
            "SELECT" => db = String::from_utf8_lossy(&c[1]).parse().unwrap(),
            "SET" => {
                out.insert(
                    (db, String::from_utf8_lossy(&c[1]).into_owned()),
                    String::from_utf8_lossy(&c[2]).into_owned(),
                );
            }
            other => panic!("unexpected {other} in a base of strings"),
        }
    }
    out
}

#[test]
fn incremental_rewrite_base_is_the_state_at_its_start() {
    // 20000 keys take about 20 loop turns to walk: writes land while the walk is half done.
    let dir = TempDir::new("cow");
    // The base is read back as commands below: write it as AOF.
    let srv = start_aof(
        &dir,
        &["--appendfsync", "no", "--aof-use-rdb-preamble", "no"],
    );
    let mut c = srv.raw();
    let n = 20_000;
    let mut batch = Vec::new();
    let mut at_start = BTreeMap::new();
    for i in 0..n {
        common::encode_into(&mut batch, &[b"SET", format!("k{i}").as_bytes(), b"v0"]);
        at_start.insert((0u32, format!("k{i}")), "v0".to_string());
    }
    c.send(&batch);
    for _ in 0..n {
        assert_eq!(c.read_reply(), Reply::ok());
    }
    assert_eq!(
        cmd(&mut c, &["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting started".into())
    );
    // Overwrite, delete, create and rename while the walk runs.
    let mut batch = Vec::new();
    for i in (0..n).rev().step_by(7) {
        common::encode_into(&mut batch, &[b"SET", format!("k{i}").as_bytes(), b"v1"]);
        common::encode_into(&mut batch, &[b"DEL", format!("k{}", i / 2).as_bytes()]);
        common::encode_into(&mut batch, &[b"SET", format!("new{i}").as_bytes(), b"x"]);
        common::encode_into(
            &mut batch,
            &[
                b"RENAME",
                format!("k{}", i / 3).as_bytes(),
                format!("r{i}").as_bytes(),
            ],
        );
    }
    c.send(&batch);
    for _ in 0..4 * (0..n).rev().step_by(7).count() {
        let _ = c.read_reply();
    }
    let live = dump(srv.port);
    wait_rewrite_done(srv.port);
    let info = text(&cmd(&mut c, &["INFO", "persistence"]));
    assert!(info.contains("aof_rewrites:1"), "{info}");
    assert_eq!(
        base_strings(&dir),
        at_start,
        "the base must be the dataset at the rewrite's start"
    );
    drop(srv);
    let srv = start_aof(&dir, &[]);
    assert_same(&live, &dump(srv.port), "base + new incr after restart");
}

/// The incr file's commands with absolute times replaced by `<ms>`.
fn incr_commands(dir: &TempDir) -> Vec<String> {
    let manifest = std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest")).unwrap();
    let incr = manifest
        .lines()
        .rfind(|l| l.ends_with("type i"))
        .and_then(|l| l.split(' ').nth(1))
        .unwrap()
        .to_string();
    let bytes = std::fs::read(dir.aof_dir().join(incr)).unwrap();
    ringkv::persist::aof::parse_aof(&bytes)
        .unwrap()
        .iter()
        .map(|c| {
            c.iter()
                .map(|a| {
                    let s = String::from_utf8_lossy(a).into_owned();
                    if s.len() == 13 && s.bytes().all(|b| b.is_ascii_digit()) {
                        "<ms>".to_string()
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The same commands against ringkv and redis-server 7.0: the incr files must hold the same
/// commands (relative expiries made absolute, rewritten commands, unchanged ones omitted).
#[test]
fn propagation_matches_redis() {
    let script: &[&[&str]] = &[
        &["SET", "a", "1"],
        &["SET", "a", "2", "GET"],
        &["SET", "b", "1", "EX", "100"],
        &["SET", "b", "2", "PX", "100000", "NX"],
        &["SET", "b", "3", "XX", "KEEPTTL"],
        &["SETEX", "c", "100", "v"],
        &["PSETEX", "d", "100000", "v"],
        &["SET", "e", "1", "EXAT", "4000000000"],
        &["SETNX", "a", "x"],
        &["SETNX", "n", "x"],
        &["EXPIRE", "a", "1000"],
        &["PEXPIRE", "a", "1000000"],
        &["EXPIREAT", "a", "4000000000"],
        &["EXPIRE", "nosuch", "10"],
        &["PERSIST", "a"],
        &["PERSIST", "a"],
        &["GETEX", "c", "EX", "50"],
        &["GETEX", "c", "PERSIST"],
        &["GETEX", "c"],
        &["GETDEL", "d"],
        &["GETDEL", "d"],
        &["INCR", "i"],
        &["INCRBY", "i", "5"],
        &["DECR", "i"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["APPEND", "a", "xyz"],
        &["SETRANGE", "a", "1", "Q"],
        &["MSET", "m1", "1", "m2", "2"],
        &["MSETNX", "m1", "1", "m3", "3"],
        &["GETSET", "m1", "9"],
        &["DEL", "m2", "nosuch"],
        &["UNLINK", "m1"],
        &["RENAME", "m3", "m4"],
        &["RENAMENX", "m4", "a"],
        &["COPY", "a", "acopy"],
        &["MOVE", "acopy", "2"],
        &["RPUSH", "l", "a", "b", "c", "d", "e", "f"],
        &["LPUSH", "l", "z"],
        &["LPUSHX", "nol", "z"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LSET", "l", "0", "A"],
        &["LINSERT", "l", "BEFORE", "A", "pre"],
        &["LREM", "l", "0", "pre"],
        &["LTRIM", "l", "0", "1"],
        &["LMOVE", "l", "l2", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "l", "l2"],
        &["LMPOP", "1", "l2", "LEFT", "COUNT", "5"],
        &["HSET", "h", "a", "1", "b", "2"],
        &["HSETNX", "h", "a", "1"],
        &["HMSET", "h", "c", "3"],
        &["HINCRBY", "h", "a", "2"],
        &["HINCRBYFLOAT", "h", "b", "0.5"],
        &["HDEL", "h", "c", "nosuch"],
        &["SADD", "s", "a"],
        &["SPOP", "s"],
        &["SADD", "s", "a", "b"],
        &["SPOP", "s", "5"],
        &["SADD", "s1", "a", "b", "c"],
        &["SADD", "s2", "b", "c", "d"],
        &["SREM", "s1", "a", "nosuch"],
        &["SMOVE", "s2", "s1", "d"],
        &["SINTERSTORE", "s3", "s1", "s2"],
        &["SUNIONSTORE", "s4", "s1", "s2"],
        &["SDIFFSTORE", "s5", "s1", "s2"],
        &["SELECT", "5"],
        &["SET", "in5", "1"],
        &["SWAPDB", "5", "6"],
        &["FLUSHDB"],
        &["SELECT", "0"],
        &["EXPIRE", "i", "-1"],
        &["SET", "x", "1", "PX", "1"],
        &["SLEEP"],
        &["GET", "x"],
        &["DECRBY", "dec", "3"],
        &["RPUSH", "px", "1"],
        &["RPUSHX", "px", "2"],
        &["LPUSHX", "px", "0"],
        &["HSETNX", "hn", "f", "v"],
        &["RENAMENX", "px", "py"],
        &["MSETNX", "u1", "1", "u2", "2"],
        &["SINTERSTORE", "empty", "nosuch1", "nosuch2"],
        &["SETRANGE", "sr", "3", "abc"],
        &["APPEND", "ap", "x"],
        &["INCRBYFLOAT", "fl", "1e3"],
        &["GETEX", "ap", "PXAT", "4000000000000"],
        &["PEXPIREAT", "ap", "100"],
        &["FLUSHALL"],
        &["SET", "last", "1"],
    ];
    let run = |srv: &Server| {
        let mut c = srv.raw();
        for args in script {
            if args == &["SLEEP"] {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            let _ = cmd(&mut c, args);
        }
    };
    let ours_dir = TempDir::new("prop-ours");
    let ours = start_aof(&ours_dir, &[]);
    run(&ours);
    let redis_dir = TempDir::new("prop-redis");
    let redis = Server::start_redis(&[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--dir",
        redis_dir.s(),
    ]);
    run(&redis);
    shutdown_and_wait(&redis);
    let (a, b) = (incr_commands(&ours_dir), incr_commands(&redis_dir));
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "command {i} differs (ringkv vs redis)");
    }
    assert_eq!(a.len(), b.len(), "{a:#?}\nvs\n{b:#?}");
}

#[test]
fn auto_rewrite_triggers_on_growth() {
    let dir = TempDir::new("auto");
    let srv = start_aof(
        &dir,
        &[
            "--auto-aof-rewrite-percentage",
            "100",
            "--auto-aof-rewrite-min-size",
            "4kb",
        ],
    );
    let mut c = srv.raw();
    // The same key overwritten: the AOF grows, the dataset does not.
    for i in 0..200 {
        cmd(&mut c, &["SET", "k", &format!("value-{i:040}")]);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = text(&cmd(&mut c, &["INFO", "persistence"]));
        if !info.contains("aof_rewrites:0") && info.contains("aof_rewrite_in_progress:0") {
            let size: u64 = info
                .lines()
                .find_map(|l| l.strip_prefix("aof_current_size:"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert!(size < 4096, "{info}");
            break;
        }
        assert!(Instant::now() < deadline, "no automatic rewrite: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(srv);
    let srv = start_aof(&dir, &[]);
    assert_eq!(
        cmd(&mut srv.raw(), &["GET", "k"]),
        Reply::bulk(format!("value-{:040}", 199).as_bytes())
    );
}

#[test]
fn timestamp_annotations_are_written_and_loaded_by_both() {
    let dir = TempDir::new("ts");
    let before = {
        let srv = start_aof(&dir, &["--aof-timestamp-enabled", "yes"]);
        let mut c = srv.raw();
        cmd(&mut c, &["SET", "a", "1"]);
        cmd(&mut c, &["RPUSH", "l", "x", "y"]);
        dump(srv.port)
    };
    let incr = std::fs::read(dir.incr(1)).unwrap();
    assert!(incr.starts_with(b"#TS:"), "{}", common::escape(&incr));
    let out = Command::new("redis-check-aof")
        .arg(dir.aof_dir().join("appendonly.aof.manifest"))
        .output()
        .expect("redis-check-aof");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("All AOF files and manifest are valid"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    {
        let srv = start_aof(&dir, &[]);
        assert_same(&before, &dump(srv.port), "ringkv loading annotations");
    }
    let redis = Server::start_redis(&[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--dir",
        dir.s(),
    ]);
    assert_same(
        &before,
        &dump(redis.port),
        "redis-server loading annotations",
    );
}

#[test]
fn no_appendfsync_on_rewrite_is_accepted_and_settable() {
    let dir = TempDir::new("nofsync");
    let srv = start_aof(
        &dir,
        &[
            "--appendfsync",
            "always",
            "--no-appendfsync-on-rewrite",
            "yes",
        ],
    );
    let mut c = srv.raw();
    assert_eq!(
        strings(cmd(&mut c, &["CONFIG", "GET", "no-appendfsync-on-rewrite"])),
        ["no-appendfsync-on-rewrite", "yes"]
    );
    cmd(&mut c, &["BGREWRITEAOF"]);
    for i in 0..50 {
        assert_eq!(cmd(&mut c, &["SET", &format!("k{i}"), "v"]), Reply::ok());
    }
    wait_rewrite_done(srv.port);
    assert_eq!(
        cmd(
            &mut c,
            &["CONFIG", "SET", "no-appendfsync-on-rewrite", "no"]
        ),
        Reply::ok()
    );
    let before = dump(srv.port);
    drop(srv);
    let srv = start_aof(&dir, &[]);
    assert_same(&before, &dump(srv.port), "after a rewrite without fsyncs");
}

/// A ringkv whose AOF rewrite walks a few keys per tick (a test knob), so that a test can
/// change the dataset in every way while the walk is half done.
fn start_paced(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.s(), "--appendonly", "yes", "--hz", "100"];
    args.extend_from_slice(extra);
    Server::start_bin_env(
        &common::ringkv_bin(),
        &args,
        &[("RINGKV_AOF_REWRITE_SLICE_KEYS", "3")],
    )
}

/// The rewrite's base is the dataset at its start whatever changes it meanwhile: commands,
/// a blocked client served later (BLMOVE's target), expiry, FLUSHDB, SWAPDB and MOVE. These
/// went through per-command hooks before the rewrite used the keyspace's copy-on-write.
#[test]
fn rewrite_base_is_the_start_through_flushdb_swapdb_expiry_and_blocked_clients() {
    let dir = TempDir::new("cow-all");
    let srv = start_paced(&dir, &["--aof-use-rdb-preamble", "no"]);
    let mut c = common::Raw::connect(srv.port);
    let ok = |r: Reply| assert!(!r.is_error(), "{r:?}");
    for (db, prefix, n) in [(0, "k", 100), (1, "j", 100), (2, "m", 50)] {
        ok(cmd(&mut c, &["SELECT", &db.to_string()]));
        for i in 0..n {
            ok(cmd(&mut c, &["SET", &format!("{prefix}{i}"), "v0"]));
        }
    }
    ok(cmd(&mut c, &["SELECT", "0"]));
    ok(cmd(&mut c, &["RPUSH", "dst", "x"]));
    ok(cmd(&mut c, &["SET", "soon", "s", "PX", "300"]));
    let at_start = dump(srv.port);
    assert_eq!(
        cmd(&mut c, &["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting started".into())
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text(&cmd(&mut c, &["INFO", "persistence"])).contains("aof_rewrite_in_progress:1") {
        assert!(Instant::now() < deadline, "the rewrite did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    // A blocked client whose serving changes a key that existed at the start.
    let mut b = common::Raw::connect(srv.port);
    b.send(&common::encode(&[
        b"BLMOVE", b"src", b"dst", b"LEFT", b"LEFT", b"0",
    ]));
    std::thread::sleep(Duration::from_millis(50));
    ok(cmd(&mut c, &["LPUSH", "src", "s1"]));
    assert_eq!(b.read_reply(), Reply::bulk(b"s1"));
    for args in [
        &["SET", "k1", "changed"][..],
        &["DEL", "k2"],
        &["SET", "new", "x"],
        &["SELECT", "2"],
        &["FLUSHDB"],
        &["SET", "m-after", "y"],
        &["SELECT", "0"],
        &["SWAPDB", "0", "1"],
        &["SET", "j3", "changed"],
        &["MOVE", "j4", "2"],
        &["APPEND", "k5", "more"],
    ] {
        ok(cmd(&mut c, args));
    }
    // `soon` expires while the walk runs: it was live at the start, so the base has it.
    std::thread::sleep(Duration::from_millis(350));
    ok(cmd(&mut c, &["SELECT", "1"]));
    assert_eq!(cmd(&mut c, &["GET", "soon"]), Reply::Bulk(None));
    assert!(
        text(&cmd(&mut c, &["INFO", "persistence"])).contains("aof_rewrite_in_progress:1"),
        "the walk must still be running for this test to mean anything"
    );
    wait_rewrite_done(srv.port);
    let live = dump(srv.port);
    // The base alone, loaded by a server of its own.
    let manifest = std::fs::read_to_string(dir.aof_dir().join("appendonly.aof.manifest")).unwrap();
    let base_line = manifest.lines().find(|l| l.ends_with("type b")).unwrap();
    let base = base_line.split(' ').nth(1).unwrap().to_string();
    let base_bytes = std::fs::read(dir.aof_dir().join(&base)).unwrap();
    assert!(
        base_bytes.windows(4).any(|w| w == b"soon"),
        "a key live at the start is in the base even if it expired during the walk"
    );
    let only_base = TempDir::new("cow-all-base");
    std::fs::create_dir_all(only_base.aof_dir()).unwrap();
    std::fs::write(only_base.aof_dir().join(&base), &base_bytes).unwrap();
    std::fs::write(
        only_base.aof_dir().join("appendonly.aof.manifest"),
        format!("{base_line}\n"),
    )
    .unwrap();
    let from_base = start_aof(&only_base, &[]);
    let mut want = at_start;
    want.retain(|(_, k), _| k != "soon");
    assert_same(
        &want,
        &dump(from_base.port),
        "the base is the dataset at the start",
    );
    // Base + incr after a restart: the live dataset.
    drop(srv);
    let srv = start_aof(&dir, &[]);
    assert_same(&live, &dump(srv.port), "base + new incr after restart");
}

/// A reply after a rewrite under `no-appendfsync-on-rewrite yes` and `appendfsync always`
/// hung: writes during the rewrite were acknowledged once written, and when the rewrite ended
/// the acknowledged level fell back to the last fsync, so the connection's next reply (of a
/// command that wrote nothing) waited for a sync nothing would release it from.
#[test]
fn replies_after_a_rewrite_without_fsyncs_are_not_held() {
    let dir = TempDir::new("nofsync-held");
    let srv = start_paced(
        &dir,
        &[
            "--appendfsync",
            "always",
            "--no-appendfsync-on-rewrite",
            "yes",
        ],
    );
    let mut c = common::Raw::connect(srv.port);
    for i in 0..100 {
        assert_eq!(cmd(&mut c, &["SET", &format!("k{i}"), "v"]), Reply::ok());
    }
    cmd(&mut c, &["BGREWRITEAOF"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !text(&cmd(&mut c, &["INFO", "persistence"])).contains("aof_rewrite_in_progress:1") {
        assert!(Instant::now() < deadline, "the rewrite did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(cmd(&mut c, &["SET", "during", "v"]), Reply::ok());
    assert!(text(&cmd(&mut c, &["INFO", "persistence"])).contains("aof_rewrite_in_progress:1"));
    // Reads on this connection while the rewrite ends and the first fsync after it runs.
    c.set_read_timeout(Duration::from_secs(3));
    let mut other = common::Raw::connect(srv.port);
    let mut ended: Option<Instant> = None;
    while ended.is_none_or(|t| t.elapsed() < Duration::from_millis(100)) {
        assert_eq!(cmd(&mut c, &["GET", "during"]), Reply::bulk(b"v"));
        if ended.is_none()
            && text(&cmd(&mut other, &["INFO", "persistence"]))
                .contains("aof_rewrite_in_progress:0")
        {
            ended = Some(Instant::now());
        }
    }
}
