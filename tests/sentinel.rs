//! Failover of a ringkv group by Redis's own Sentinel (Debian's `redis-sentinel`, 7.0.15):
//! three sentinels watch a ringkv primary with two ringkv replicas. The primary is frozen
//! (SIGSTOP); the sentinels agree it is down, promote a replica (REPLICAOF NO ONE), point the
//! other replica at it (MULTI, REPLICAOF, CONFIG REWRITE, CLIENT KILL, EXEC), and answer
//! `SENTINEL get-master-addr-by-name` with the new primary. The other replica continues from
//! the new primary with a partial resync (PSYNC2: the promoted replica keeps the old id as its
//! second id), and every write the old primary acknowledged with WAIT before the freeze is on
//! the new primary.
//!
//! Every node runs with a config file of its own, as in production: Sentinel's
//! reconfiguration rewrites it (CONFIG REWRITE), and sentinels rewrite theirs.

mod common;

use common::Reply;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MASTER_NAME: &str = "ringkv-group";
/// Sentinel's `down-after-milliseconds`: short, so the test is quick.
const DOWN_AFTER_MS: u64 = 1000;
/// Time allowed for the whole failover (Sentinel needs a few seconds after `DOWN_AFTER_MS`).
const FAILOVER_WAIT: Duration = Duration::from_secs(40);

/// A process the test started with a config file in a scratch directory; killed (and
/// continued first, if it was stopped) when dropped.
struct Node {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Node {
    fn raw(&self) -> common::Raw {
        let mut r = common::Raw::connect(self.port);
        r.set_read_timeout(Duration::from_secs(10));
        r
    }

    fn log(&self) -> String {
        let text = std::fs::read(self.dir.join("log")).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ringkv-sentinel-{}-{name}-{}",
        std::process::id(),
        common::free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn wait_listening(port: u16, what: &str, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port}; log:\n{}",
            String::from_utf8_lossy(&std::fs::read(dir.join("log")).unwrap_or_default())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `bin config-file`, the config holding `lines`, a port and a log file.
fn start(bin: &str, name: &str, lines: &[String]) -> Node {
    let dir = scratch(name);
    let port = common::free_port();
    let mut conf = format!("port {port}\nbind 127.0.0.1\ndir {}\n", dir.display());
    for l in lines {
        conf.push_str(l);
        conf.push('\n');
    }
    let conf_path = dir.join("node.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let log = std::fs::File::create(dir.join("log")).unwrap();
    let child = Command::new(bin)
        .arg(&conf_path)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    wait_listening(port, name, &dir);
    Node { child, port, dir }
}

fn start_ringkv(name: &str, primary: Option<u16>) -> Node {
    let mut lines = vec!["appendonly no".to_string(), "save \"\"".to_string()];
    if let Some(p) = primary {
        lines.push(format!("replicaof 127.0.0.1 {p}"));
    }
    start(&common::ringkv_bin(), name, &lines)
}

fn start_sentinel(name: &str, primary_port: u16) -> Node {
    let lines = [
        "sentinel resolve-hostnames no".to_string(),
        format!("sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} 2"),
        format!("sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}"),
        format!("sentinel failover-timeout {MASTER_NAME} 20000"),
        format!("sentinel parallel-syncs {MASTER_NAME} 1"),
        "logfile \"\"".to_string(),
    ];
    let node = start("redis-sentinel", name, &lines);
    assert!(
        node.raw().cmd_str(&["PING"]) == Reply::Status("PONG".into()),
        "sentinel {name}"
    );
    node
}

fn info_field(raw: &mut common::Raw, section: &str, field: &str) -> Option<String> {
    let Reply::Bulk(Some(text)) = raw.cmd_str(&["INFO", section]) else {
        return None;
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines().find_map(|l| {
        l.strip_prefix(&format!("{field}:"))
            .map(|v| v.trim().to_string())
    })
}

/// Polls `cond` every 50 ms until it holds or `within` passes.
fn wait_for(within: Duration, what: &str, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("timed out waiting for {what}");
    false
}

fn array_len(r: Reply) -> usize {
    match r {
        Reply::Array(Some(v)) => v.len(),
        _ => 0,
    }
}

/// `SENTINEL get-master-addr-by-name` as a port.
fn master_port(sentinel: &Node) -> Option<u16> {
    match sentinel
        .raw()
        .cmd_str(&["SENTINEL", "get-master-addr-by-name", MASTER_NAME])
    {
        Reply::Array(Some(v)) if v.len() == 2 => match &v[1] {
            Reply::Bulk(Some(p)) => String::from_utf8_lossy(p).parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn sentinels_fail_over_a_ringkv_primary_to_a_ringkv_replica() {
    let primary = start_ringkv("primary", None);
    let replicas = [
        start_ringkv("replica-a", Some(primary.port)),
        start_ringkv("replica-b", Some(primary.port)),
    ];
    let mut p = primary.raw();
    assert!(
        wait_for(Duration::from_secs(20), "two replicas online", || {
            info_field(&mut p, "replication", "connected_slaves").as_deref() == Some("2")
        }),
        "the replicas did not connect; primary log:\n{}\nreplica log:\n{}",
        primary.log(),
        replicas[0].log()
    );

    let sentinels: Vec<Node> = (0..3)
        .map(|i| start_sentinel(&format!("sentinel-{i}"), primary.port))
        .collect();
    // Each sentinel has found both replicas (from the primary's INFO) and the two other
    // sentinels (from their hello messages on the primary's `__sentinel__:hello`).
    for s in &sentinels {
        let ok = wait_for(Duration::from_secs(30), "sentinel discovery", || {
            array_len(s.raw().cmd_str(&["SENTINEL", "replicas", MASTER_NAME])) == 2
                && array_len(s.raw().cmd_str(&["SENTINEL", "sentinels", MASTER_NAME])) == 2
        });
        assert!(ok, "discovery; sentinel log:\n{}", s.log());
    }

    // Writes acknowledged by both replicas before the freeze.
    for i in 0..2000 {
        let k = format!("key:{i}");
        assert_eq!(p.cmd_str(&["SET", &k, &i.to_string()]), Reply::ok());
    }
    assert_eq!(p.cmd_str(&["RPUSH", "list", "a", "b", "c"]), Reply::Int(3));
    assert_eq!(p.cmd_str(&["WAIT", "2", "5000"]), Reply::Int(2));
    let acked_offset = info_field(&mut p, "replication", "master_repl_offset");

    primary.signal("-STOP");
    let ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    let promoted = wait_for(FAILOVER_WAIT, "failover", || {
        sentinels
            .iter()
            .all(|s| master_port(s).is_some_and(|port| ports.contains(&port)))
    });
    assert!(
        promoted,
        "no failover; sentinel log:\n{}\nreplica log:\n{}",
        sentinels[0].log(),
        replicas[0].log()
    );
    let new_port = master_port(&sentinels[0]).unwrap();
    let (new_primary, other) = if replicas[0].port == new_port {
        (&replicas[0], &replicas[1])
    } else {
        (&replicas[1], &replicas[0])
    };
    let mut np = new_primary.raw();
    assert_eq!(
        info_field(&mut np, "replication", "role").as_deref(),
        Some("master")
    );

    // The other replica follows the new primary, with a partial resync.
    let mut o = other.raw();
    let follows = wait_for(FAILOVER_WAIT, "the other replica to follow", || {
        info_field(&mut o, "replication", "master_port") == Some(new_port.to_string())
            && info_field(&mut o, "replication", "master_link_status").as_deref() == Some("up")
    });
    assert!(
        follows,
        "the other replica did not follow; its log:\n{}\nsentinel log:\n{}",
        other.log(),
        sentinels[0].log()
    );
    assert_eq!(
        info_field(&mut np, "stats", "sync_partial_ok").as_deref(),
        Some("1"),
        "the other replica resynced fully; new primary log:\n{}",
        new_primary.log()
    );
    assert_eq!(
        info_field(&mut np, "stats", "sync_full").as_deref(),
        Some("0")
    );
    assert!(acked_offset.is_some());

    // Every acknowledged write is on the new primary, and it takes writes that reach the
    // other replica.
    assert_eq!(np.cmd_str(&["DBSIZE"]), Reply::Int(2001));
    for i in (0..2000).step_by(97) {
        let k = format!("key:{i}");
        assert_eq!(
            np.cmd_str(&["GET", &k]),
            Reply::Bulk(Some(i.to_string().into_bytes()))
        );
    }
    assert_eq!(np.cmd_str(&["SET", "after", "failover"]), Reply::ok());
    assert_eq!(np.cmd_str(&["WAIT", "1", "5000"]), Reply::Int(1));
    let seen = wait_for(
        Duration::from_secs(5),
        "the write on the other replica",
        || o.cmd_str(&["GET", "after"]) == Reply::Bulk(Some(b"failover".to_vec())),
    );
    assert!(
        seen,
        "other replica: {:?} / db1 {:?}; its log:\n{}\nnew primary log:\n{}",
        info_field(&mut o, "replication", "slave_repl_offset"),
        o.cmd_str(&["KEYS", "*after*"]),
        other.log(),
        new_primary.log()
    );
    // Sentinel rewrote the other replica's config file to follow the new primary.
    let conf = std::fs::read_to_string(other.dir.join("node.conf")).unwrap();
    assert!(
        conf.lines()
            .any(|l| l == format!("replicaof 127.0.0.1 {new_port}")),
        "config file not rewritten:\n{conf}"
    );
}
