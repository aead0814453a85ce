//! SHUTDOWN with a lagging replica, against redis-server 7.0.15 as the primary in the same
//! scenario: the SHUTDOWN client waits (writes paused, reads served), SHUTDOWN ABORT ends
//! the wait (the waiting client gets Redis's error, the paused write runs), a second
//! SHUTDOWN exits once `shutdown-timeout` passes, and SHUTDOWN NOW does not wait. The
//! replica is a redis-server stopped with SIGSTOP, so that it cannot acknowledge.

mod common;

use common::{Reply, Server};
use std::time::{Duration, Instant};

/// A primary with one synced replica, which is then stopped and left behind by a write.
fn primary_with_a_stopped_replica(redis: bool) -> (Server, Server) {
    let args = ["--shutdown-timeout", "2", "--repl-diskless-sync-delay", "0"];
    let p = Server::start_either(redis, &args);
    let port = p.port.to_string();
    let r = Server::start_redis(&["--replicaof", "127.0.0.1", &port]);
    let mut pc = p.raw();
    assert_eq!(pc.cmd_str(&["SET", "k", "v"]), Reply::ok());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let want = pc.info_field("replication", "master_repl_offset");
        if r.raw().info_field("replication", "master_repl_offset") == want
            && pc.info_field("replication", "connected_slaves") == "1"
        {
            break;
        }
        assert!(Instant::now() < deadline, "the replica did not sync");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the primary see the replica's ACK of everything so far.
    std::thread::sleep(Duration::from_millis(1200));
    r.signal("-STOP");
    assert_eq!(pc.cmd_str(&["SET", "k", "w"]), Reply::ok());
    (p, r)
}

fn scenario(redis: bool) -> Vec<String> {
    let mut seen = Vec::new();
    let (p, r) = primary_with_a_stopped_replica(redis);
    let mut a = p.raw();
    let mut b = p.raw();
    let mut c = p.raw();
    a.set_read_timeout(Duration::from_secs(10));
    b.set_read_timeout(Duration::from_secs(10));
    a.send(&common::encode(&[b"SHUTDOWN"]));
    std::thread::sleep(Duration::from_millis(200));
    // Writes wait, reads are served.
    b.send(&common::encode(&[b"SET", b"x", b"1"]));
    seen.push(format!("GET while waiting: {:?}", c.cmd_str(&["GET", "k"])));
    std::thread::sleep(Duration::from_millis(200));
    seen.push(format!("ABORT: {:?}", c.cmd_str(&["SHUTDOWN", "ABORT"])));
    seen.push(format!("the SHUTDOWN client: {:?}", a.read_reply()));
    seen.push(format!("the paused SET: {:?}", b.read_reply()));
    seen.push(format!(
        "ABORT again: {:?}",
        c.cmd_str(&["SHUTDOWN", "ABORT"])
    ));
    // redis-server 7.0.15 aborts (networking.c:2295 `c->argc == 0`) when the client whose
    // SHUTDOWN was aborted sends another command; ringkv serves it.
    if !redis {
        assert_eq!(a.cmd_str(&["PING"]), Reply::Status("PONG".into()));
    }
    // Again, from another client, to the end of the timeout.
    let mut d = p.raw();
    let started = Instant::now();
    d.send(&common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    let closed = d.wait_closed(Duration::from_secs(10));
    let took = started.elapsed();
    seen.push(format!("SHUTDOWN NOSAVE closed: {closed}"));
    assert!(
        took >= Duration::from_millis(1500),
        "{took:?}: no wait; {seen:?}"
    );
    r.signal("-CONT");
    drop(r);
    drop(p);
    // NOW does not wait.
    let (p, r) = primary_with_a_stopped_replica(redis);
    let mut a = p.raw();
    let started = Instant::now();
    a.send(&common::encode(&[b"SHUTDOWN", b"NOW", b"NOSAVE"]));
    let closed = a.wait_closed(Duration::from_secs(10));
    seen.push(format!("SHUTDOWN NOW closed: {closed}"));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "NOW waited"
    );
    r.signal("-CONT");
    seen
}

#[test]
fn shutdown_waits_for_a_lagging_replica_as_redis() {
    let ours = scenario(false);
    let redis = scenario(true);
    assert_eq!(ours, redis, "ringkv, then redis-server");
}

/// The settings' replies: `shutdown-timeout` and the signal flags, against redis-server.
#[test]
fn shutdown_settings_match_redis() {
    let mut seen = Vec::new();
    for s in [Server::start(&[]), Server::start_redis(&[])] {
        let mut c = s.raw();
        let mut got = Vec::new();
        for (p, vals) in [
            ("shutdown-timeout", &["0", "5", "-1", "x"][..]),
            (
                "shutdown-on-sigint",
                &[
                    "default",
                    "save",
                    "nosave now",
                    "save nosave",
                    "force now",
                    "bad",
                    "",
                ][..],
            ),
            (
                "shutdown-on-sigterm",
                &["now force", "nosave", "default"][..],
            ),
        ] {
            got.push(format!("{p}: {:?}", c.cmd_str(&["CONFIG", "GET", p])));
            for v in vals {
                let r = c.cmd_str(&["CONFIG", "SET", p, v]);
                got.push(format!(
                    "{p} {v}: {r:?} {:?}",
                    c.cmd_str(&["CONFIG", "GET", p])
                ));
            }
        }
        seen.push(got);
    }
    for (a, b) in seen[0].iter().zip(&seen[1]) {
        assert_eq!(a, b, "ringkv, then redis-server");
    }
}

/// SIGTERM with `shutdown-on-sigterm nosave now` exits at once without saving, even with
/// a lagging replica and save points set.
#[test]
fn sigterm_follows_its_flags() {
    let (p, r) = primary_with_a_stopped_replica(false);
    let mut c = p.raw();
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "shutdown-on-sigterm", "nosave now"]),
        Reply::ok()
    );
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "save", "3600 1"]), Reply::ok());
    let started = Instant::now();
    p.signal("-TERM");
    assert!(c.wait_closed(Duration::from_secs(10)), "still running");
    assert!(started.elapsed() < Duration::from_millis(1500), "it waited");
    r.signal("-CONT");
}
