//! Replication between real processes on loopback, in the topologies the primary-side and
//! replica-side tests (tests/replication_primary.rs, tests/replication_replica.rs) do not
//! cover on their own: ringkv → ringkv (full sync under a write load, a killed link resumed
//! with +CONTINUE, WAIT, the replica promoted and the old primary following it partially),
//! and a chain redis-server → ringkv
//! → redis-server, where ringkv passes its primary's stream on to its own replica as it is.
//! Contents are compared with DEBUG DIGEST (Redis 7.0's dataset digest, which ringkv computes
//! bit for bit) and DBSIZE per database.

mod common;

use common::{Raw, Reply, Server};
use std::time::{Duration, Instant};

const SYNC_WAIT: Duration = Duration::from_secs(30);

fn info_field(c: &mut Raw, section: &str, field: &str) -> Option<String> {
    let Reply::Bulk(Some(text)) = c.cmd_str(&["INFO", section]) else {
        return None;
    };
    String::from_utf8_lossy(&text).lines().find_map(|l| {
        l.strip_prefix(&format!("{field}:"))
            .map(|v| v.trim().to_string())
    })
}

fn wait_for(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn digest(c: &mut Raw) -> Reply {
    c.cmd_str(&["DEBUG", "DIGEST"])
}

fn dbsizes(c: &mut Raw) -> Vec<Reply> {
    let mut v = Vec::new();
    for db in 0..4 {
        c.cmd_str(&["SELECT", &db.to_string()]);
        v.push(c.cmd_str(&["DBSIZE"]));
    }
    c.cmd_str(&["SELECT", "0"]);
    v
}

/// Waits until `replica` has applied everything `primary` produced (their offsets meet).
fn wait_caught_up(primary: &Server, replica: &Server) {
    let mut p = primary.raw();
    let mut r = replica.raw();
    let ok = wait_for(SYNC_WAIT, || {
        let po = info_field(&mut p, "replication", "master_repl_offset");
        let ro = info_field(&mut r, "replication", "slave_repl_offset");
        let up = info_field(&mut r, "replication", "master_link_status");
        up.as_deref() == Some("up") && po.is_some() && po == ro
    });
    assert!(
        ok,
        "replica on {} did not catch up with {}; replica log:\n{}",
        replica.port,
        primary.port,
        replica.log_tail()
    );
}

/// Writes of every type both servers have, over two databases, some with TTLs, one
/// transaction, one script, and a FLUSHDB.
fn write_load(c: &mut Raw, round: usize) {
    for i in 0..300 {
        let k = format!("s:{round}:{i}");
        c.cmd_str(&["SET", &k, &format!("v{i}")]);
        if i % 5 == 0 {
            c.cmd_str(&["EXPIRE", &k, "1000"]);
        }
        c.cmd_str(&["RPUSH", &format!("l:{}", i % 20), &k]);
        c.cmd_str(&["HSET", &format!("h:{}", i % 20), &k, &i.to_string()]);
        c.cmd_str(&["SADD", &format!("set:{}", i % 20), &k]);
        c.cmd_str(&["ZADD", &format!("z:{}", i % 20), &i.to_string(), &k]);
        c.cmd_str(&["PFADD", "hll", &k]);
        c.cmd_str(&["INCRBY", "counter", "3"]);
    }
    c.cmd_str(&["XADD", "stream", "*", "round", &round.to_string()]);
    c.cmd_str(&["SETEX", &format!("short:{round}"), "3000", "later"]);
    c.cmd_str(&["MULTI"]);
    c.cmd_str(&["LPUSH", "tx", "a", "b"]);
    c.cmd_str(&["INCR", "tx-count"]);
    assert!(matches!(c.cmd_str(&["EXEC"]), Reply::Array(Some(_))));
    c.cmd_str(&[
        "EVAL",
        "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[2])",
        "2",
        "from-script",
        "script-count",
        "x",
    ]);
    c.cmd_str(&["SELECT", "3"]);
    c.cmd_str(&["SET", &format!("db3:{round}"), "x"]);
    c.cmd_str(&["SELECT", "2"]);
    c.cmd_str(&["SET", "flushed", "x"]);
    c.cmd_str(&["FLUSHDB"]);
    c.cmd_str(&["SELECT", "0"]);
}

#[test]
fn ringkv_replicates_ringkv_resumes_after_a_killed_link_and_follows_a_promoted_replica() {
    let primary = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut p = primary.raw();
    write_load(&mut p, 0);
    let port = primary.port.to_string();
    let replica = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &port,
        "--repl-diskless-sync-delay",
        "0",
    ]);
    write_load(&mut p, 1);
    wait_caught_up(&primary, &replica);
    let mut r = replica.raw();
    assert_eq!(digest(&mut p), digest(&mut r));
    assert_eq!(dbsizes(&mut p), dbsizes(&mut r));
    assert_eq!(
        info_field(&mut p, "stats", "sync_full").as_deref(),
        Some("1")
    );
    assert_eq!(p.cmd_str(&["WAIT", "1", "5000"]), Reply::Int(1));
    assert_eq!(
        r.cmd_str(&["SET", "on-replica", "x"]),
        Reply::Error("READONLY You can't write against a read only replica.".into())
    );

    // A killed link continues from the backlog.
    assert_eq!(
        p.cmd_str(&["CLIENT", "KILL", "TYPE", "replica"]),
        Reply::Int(1)
    );
    write_load(&mut p, 2);
    wait_caught_up(&primary, &replica);
    assert_eq!(digest(&mut p), digest(&mut r));
    assert_eq!(
        info_field(&mut p, "stats", "sync_partial_ok").as_deref(),
        Some("1")
    );
    assert_eq!(
        info_field(&mut p, "stats", "sync_full").as_deref(),
        Some("1")
    );

    // Promoted, the replica keeps the data and the old history as its second id.
    let old_id = info_field(&mut p, "replication", "master_replid");
    assert_eq!(r.cmd_str(&["REPLICAOF", "NO", "ONE"]), Reply::ok());
    assert_eq!(info_field(&mut r, "replication", "master_replid2"), old_id);
    assert_eq!(digest(&mut p), digest(&mut r));
    // ... and the old primary can follow it, continuing partially.
    let rport = replica.port.to_string();
    assert_eq!(p.cmd_str(&["REPLICAOF", "127.0.0.1", &rport]), Reply::ok());
    assert_eq!(r.cmd_str(&["SET", "after-switch", "1"]), Reply::ok());
    wait_caught_up(&replica, &primary);
    assert_eq!(digest(&mut p), digest(&mut r));
    assert_eq!(
        info_field(&mut r, "stats", "sync_partial_ok").as_deref(),
        Some("1"),
        "the old primary resynced fully; its log:\n{}",
        primary.log_tail()
    );
    assert_eq!(
        info_field(&mut r, "stats", "sync_full").as_deref(),
        Some("0")
    );
}

#[test]
fn a_chain_redis_to_ringkv_to_redis_ends_identical() {
    let top = Server::start_redis(&["--repl-diskless-sync-delay", "0"]);
    let mut t = top.raw();
    write_load(&mut t, 0);
    let top_port = top.port.to_string();
    let middle = Server::start(&[
        "--replicaof",
        "127.0.0.1",
        &top_port,
        "--repl-diskless-sync-delay",
        "0",
    ]);
    wait_caught_up(&top, &middle);
    let middle_port = middle.port.to_string();
    let bottom = Server::start_redis(&["--replicaof", "127.0.0.1", &middle_port]);
    write_load(&mut t, 1);
    wait_caught_up(&top, &middle);
    wait_caught_up(&middle, &bottom);
    write_load(&mut t, 2);
    wait_caught_up(&top, &middle);
    wait_caught_up(&middle, &bottom);
    let (mut m, mut b) = (middle.raw(), bottom.raw());
    let want = digest(&mut t);
    assert_eq!(digest(&mut m), want, "ringkv in the middle");
    assert_eq!(digest(&mut b), want, "redis at the bottom");
    assert_eq!(dbsizes(&mut b), dbsizes(&mut t));
    // The bottom replica's offset is the top primary's: the stream passed on as it is.
    assert_eq!(
        info_field(&mut b, "replication", "slave_repl_offset"),
        info_field(&mut t, "replication", "master_repl_offset")
    );
    // The middle's INFO lists the bottom as its replica.
    let slave0 = info_field(&mut m, "replication", "slave0").unwrap_or_default();
    assert!(slave0.contains("state=online"), "slave0: {slave0}");
    assert_eq!(
        info_field(&mut m, "replication", "connected_slaves").as_deref(),
        Some("1")
    );
}
