//! FAILOVER (a coordinated hand-over from a primary to one of its replicas), against
//! redis-server 7.0.15: every invalid form and every refusal gives Redis's error (RESP2 and
//! RESP3, the same command lines on a ringkv pair and a redis pair); a failover among ringkv
//! servers ends with the chosen replica primary, the old primary its replica by a partial
//! resync and the other replica chained to the old primary, as Redis does; TIMEOUT gives up
//! (writes go on) unless FORCE, ABORT goes back; and it works both ways with redis-server
//! (ringkv handing over to redis, and redis to ringkv). Writes paused by a failover are not
//! lost: they run when it is aborted, and get READONLY once the server is a replica.

mod common;

use common::diff::{assert_same, dump, text};
use common::{Raw, Reply, Server};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

const ARGS: &[&str] = &[
    "--enable-debug-command",
    "yes",
    "--repl-diskless-sync-delay",
    "0",
];

fn ringkv() -> Server {
    Server::start(ARGS)
}

fn redis() -> Server {
    Server::start_redis(ARGS)
}

fn info_field(c: &mut Raw, field: &str) -> String {
    c.info_field("replication", field)
}

fn stat(c: &mut Raw, field: &str) -> i64 {
    c.info_int("stats", field)
}

/// `FAILOVER TO 127.0.0.1 <port> TIMEOUT <ms> FORCE` on a primary whose target does not
/// answer: accepted, and past the timeout the primary follows the target anyway.
fn force_failover(pc: &mut Raw, port: &str, timeout_ms: &str) {
    let cmd = [
        "FAILOVER",
        "TO",
        "127.0.0.1",
        port,
        "TIMEOUT",
        timeout_ms,
        "FORCE",
    ];
    assert_eq!(pc.cmd_str(&cmd), Reply::ok());
    wait_until("failover-in-progress", || {
        state(pc) == "failover-in-progress"
    });
}

#[track_caller]
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `r` follows `p` and has everything `p` produced.
fn follow(r: &Server, p: &Server) {
    let mut rc = r.raw();
    let port = p.port.to_string();
    assert_eq!(rc.cmd_str(&["REPLICAOF", "127.0.0.1", &port]), Reply::ok());
    wait_synced(p, r);
}

/// `r`'s link to `p` is up, `p` counts it online, and it has everything `p` produced.
fn wait_synced(p: &Server, r: &Server) {
    let (mut pc, mut rc) = (p.raw(), r.raw());
    let online = format!("port={},state=online", r.port);
    wait_until("the replica to catch up", || {
        info_field(&mut rc, "master_link_status") == "up"
            && text(&pc.cmd_str(&["INFO", "replication"])).contains(&online)
            && info_field(&mut pc, "master_repl_offset")
                == info_field(&mut rc, "master_repl_offset")
    });
}

fn state(c: &mut Raw) -> String {
    info_field(c, "master_failover_state")
}

/// ROLE's first three items: (role, then the primary's host and port for a replica).
fn role(c: &mut Raw) -> (String, u16) {
    let Reply::Array(Some(items)) = c.cmd_str(&["ROLE"]) else {
        panic!("ROLE");
    };
    let r = text(&items[0]);
    if r == "slave" {
        let Reply::Int(port) = items[2] else {
            panic!("ROLE port")
        };
        (r, port as u16)
    } else {
        (r, 0)
    }
}

fn signal(s: &Server, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &s.pid().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn digest(s: &Server) -> Reply {
    s.raw().cmd_str(&["DEBUG", "DIGEST"])
}

/// Runs each line on both sides (`{R}` is the side's replica port) and compares replies.
fn same_errors(
    ours: &mut Raw,
    theirs: &mut Raw,
    ports: (u16, u16),
    lines: &[&str],
    out: &mut Vec<String>,
) {
    for line in lines {
        let a: Vec<String> = line
            .split(' ')
            .map(|w| w.replace("{R}", &ports.0.to_string()))
            .collect();
        let b: Vec<String> = line
            .split(' ')
            .map(|w| w.replace("{R}", &ports.1.to_string()))
            .collect();
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let (x, y) = (ours.cmd_str(&a), theirs.cmd_str(&b));
        if x != y {
            out.push(format!("{line}: ringkv {x:?} redis {y:?}"));
        }
    }
}

#[test]
fn invalid_forms_and_refusals_match_redis() {
    let (op, or) = (ringkv(), ringkv());
    let (rp, rr) = (redis(), redis());
    let mut bad = Vec::new();
    let alone = [
        "FAILOVER ABORT",
        "FAILOVER",
        "FAILOVER ABORT TIMEOUT 10",
        "FAILOVER TIMEOUT 0",
        "FAILOVER TIMEOUT -5",
        "FAILOVER TIMEOUT abc",
        "FAILOVER TIMEOUT 10 TIMEOUT 20",
        "FAILOVER TO 127.0.0.1",
        "FAILOVER TO h x",
        "FAILOVER TO h 1 TO h 2",
        "FAILOVER FORCE FORCE",
        "FAILOVER FORCE",
        "FAILOVER TO h 1 FORCE",
        "FAILOVER blah",
        "FAILOVER ABORT ABORT",
        "FAILOVER TIMEOUT",
        "FAILOVER TO h 99999999999999999999",
        "FAILOVER TIMEOUT 99999999999999999999",
        "FAILOVER to 127.0.0.1 1 timeout 10",
        "PSYNC abc 1 FAILOVER",
    ];
    for resp3 in [false, true] {
        let (mut a, mut b) = (op.raw(), rp.raw());
        if resp3 {
            a.cmd_str(&["HELLO", "3"]);
            b.cmd_str(&["HELLO", "3"]);
        }
        same_errors(&mut a, &mut b, (0, 0), &alone, &mut bad);
    }
    follow(&or, &op);
    follow(&rr, &rp);
    let (mut a, mut b) = (op.raw(), rp.raw());
    let with_replica = [
        "FAILOVER FORCE",
        "FAILOVER TO 127.0.0.1 {R} FORCE",
        "FAILOVER TIMEOUT 10 FORCE",
        "FAILOVER TO 127.0.0.1 1",
        "FAILOVER TO localhost {R}",
        "FAILOVER TO 127.0.0.1 {R} FORCE TIMEOUT 0",
        "FAILOVER TO 127.0.0.1 {R}0",
    ];
    same_errors(&mut a, &mut b, (or.port, rr.port), &with_replica, &mut bad);
    // On the replicas.
    let (mut ra, mut rb) = (or.raw(), rr.raw());
    let on_replica = [
        "FAILOVER",
        "FAILOVER ABORT",
        "FAILOVER TO x y",
        "FAILOVER TIMEOUT 0",
        "FAILOVER TO 127.0.0.1 {R}",
        "PSYNC abc 1 FAILOVER",
    ];
    same_errors(&mut ra, &mut rb, (op.port, rp.port), &on_replica, &mut bad);
    // While a failover waits for its stopped target.
    signal(&or, "-STOP");
    signal(&rr, "-STOP");
    // A write the stopped replicas cannot acknowledge: the failover waits.
    assert_eq!(a.cmd_str(&["SET", "behind", "1"]), Reply::ok());
    assert_eq!(b.cmd_str(&["SET", "behind", "1"]), Reply::ok());
    let during = [
        "FAILOVER TO 127.0.0.1 {R}",
        "FAILOVER",
        "FAILOVER ABORT TIMEOUT 1",
        "REPLICAOF no one",
        "REPLICAOF 127.0.0.1 1",
        "CLIENT UNPAUSE",
        "GET k",
    ];
    same_errors(&mut a, &mut b, (or.port, rr.port), &during, &mut bad);
    assert_eq!(state(&mut a), "waiting-for-sync");
    // CLIENT UNPAUSE did not end the failover's pause: a write waits.
    let mut w = op.raw();
    w.send(&common::encode(&[b"SET", b"k", b"v"]));
    let mut sync = op.raw();
    let psync = sync.cmd_str(&["PSYNC", "?", "-1"]);
    assert_eq!(
        psync,
        Reply::Error("NOMASTERLINK Can't SYNC while failing over".into())
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(a.cmd_str(&["EXISTS", "k"]), Reply::Int(0), "paused");
    same_errors(
        &mut a,
        &mut b,
        (or.port, rr.port),
        &["FAILOVER ABORT", "FAILOVER ABORT"],
        &mut bad,
    );
    // The paused write runs once the failover is aborted.
    assert_eq!(w.read_reply(), Reply::ok());
    assert_eq!(state(&mut a), "no-failover");
    signal(&or, "-CONT");
    signal(&rr, "-CONT");
    assert!(bad.is_empty(), "differences:\n{}", bad.join("\n"));
}

#[test]
fn failover_to_any_replica_among_ringkv_servers() {
    let (p, r1, r2) = (ringkv(), ringkv(), ringkv());
    follow(&r1, &p);
    follow(&r2, &p);
    let mut pc = p.raw();
    for i in 0..200 {
        let k = format!("k{i}");
        pc.cmd_str(&["SET", &k, &i.to_string()]);
        pc.cmd_str(&["RPUSH", "list", &k]);
    }
    pc.cmd_str(&["HSET", "h", "f", "v"]);
    let partial: Vec<i64> = [&r1, &r2]
        .iter()
        .map(|r| stat(&mut r.raw(), "sync_partial_ok"))
        .collect();
    // Clients blocked in a command when the primary turns replica get an error and are
    // closed, as in Redis.
    let mut bl = p.raw();
    bl.send(&common::encode(&[b"BLPOP", b"nothing", b"0"]));
    let mut wt = p.raw();
    wt.send(&common::encode(&[b"WAIT", b"5", b"0"]));
    wait_until("the clients to block", || {
        let list = text(&pc.cmd_str(&["CLIENT", "LIST"]));
        list.contains("cmd=blpop") && list.contains("cmd=wait")
    });
    assert_eq!(pc.cmd_str(&["FAILOVER"]), Reply::ok());
    // A write issued during the hand-over waits, then is refused by the replica it became.
    let mut w = p.raw();
    w.send(&common::encode(&[b"SET", b"late", b"1"]));
    wait_until("the failover to end", || {
        state(&mut pc) == "no-failover" && role(&mut pc).0 == "slave"
    });
    assert_eq!(
        w.read_reply(),
        Reply::Error("READONLY You can't write against a read only replica.".into())
    );
    let unblocked = Reply::Error(
        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
            .into(),
    );
    for c in [&mut bl, &mut wt] {
        assert_eq!(c.read_reply(), unblocked);
        c.expect_closed(WAIT).unwrap();
    }
    // The new primary: the replica the old one now follows.
    let (_, port) = role(&mut pc);
    let (new, other, i_new) = if port == r1.port {
        (&r1, &r2, 0)
    } else {
        assert_eq!(port, r2.port, "follows one of its replicas");
        (&r2, &r1, 1)
    };
    let mut nc = new.raw();
    assert_eq!(role(&mut nc).0, "master");
    // The old primary continued with a partial resync, no full sync anywhere.
    wait_until("the old primary to be online", || {
        info_field(&mut nc, "slave0").contains("state=online")
    });
    assert_eq!(stat(&mut nc, "sync_partial_ok"), partial[i_new] + 1);
    assert_eq!(stat(&mut nc, "sync_full"), 0);
    assert_eq!(info_field(&mut pc, "master_link_status"), "up");
    // The other replica stays with the old primary (now a replica: a chain), as in Redis.
    let mut oc = other.raw();
    wait_until("the other replica to follow the old primary again", || {
        info_field(&mut oc, "master_link_status") == "up"
    });
    assert_eq!(role(&mut oc), ("slave".to_string(), p.port));
    assert_eq!(stat(&mut oc, "sync_full"), 0);
    // Writes go to the new primary and reach everyone.
    assert_eq!(nc.cmd_str(&["SET", "after", "x"]), Reply::ok());
    wait_synced(new, &p);
    wait_synced(&p, other);
    assert_eq!(oc.cmd_str(&["GET", "after"]), Reply::bulk(b"x"));
    assert_eq!(oc.cmd_str(&["GET", "late"]), Reply::Bulk(None));
    let d = digest(new);
    assert_eq!(digest(&p), d);
    assert_eq!(digest(other), d);
    assert_eq!(nc.cmd_str(&["LLEN", "list"]), Reply::Int(200));
}

#[test]
fn timeout_aborts_force_proceeds_and_abort_goes_back() {
    let (p, r) = (ringkv(), ringkv());
    follow(&r, &p);
    let mut pc = p.raw();
    let rport = r.port.to_string();
    signal(&r, "-STOP");
    pc.cmd_str(&["SET", "a", "1"]);
    // TIMEOUT without FORCE: given up, and the paused write runs.
    assert_eq!(
        pc.cmd_str(&["FAILOVER", "TO", "127.0.0.1", &rport, "TIMEOUT", "300"]),
        Reply::ok()
    );
    let mut w = p.raw();
    w.send(&common::encode(&[b"SET", b"b", b"2"]));
    assert_eq!(state(&mut pc), "waiting-for-sync");
    assert_eq!(w.read_reply(), Reply::ok());
    assert_eq!(state(&mut pc), "no-failover");
    assert_eq!(role(&mut pc).0, "master");
    // FORCE: the time is up, the primary follows the (stopped) target anyway.
    force_failover(&mut pc, &rport, "200");
    assert_eq!(role(&mut pc), ("slave".to_string(), r.port));
    assert_eq!(pc.cmd_str(&["GET", "b"]), Reply::bulk(b"2"));
    // ABORT: a primary again, with a new history whose past is the old one.
    let id = info_field(&mut pc, "master_replid2");
    assert_eq!(pc.cmd_str(&["FAILOVER", "ABORT"]), Reply::ok());
    assert_eq!(state(&mut pc), "no-failover");
    assert_eq!(role(&mut pc).0, "master");
    assert_ne!(info_field(&mut pc, "master_replid2"), id);
    assert_eq!(pc.cmd_str(&["SET", "c", "3"]), Reply::ok());
    signal(&r, "-CONT");
    // The replica comes back with a partial resync and has everything.
    wait_synced(&p, &r);
    assert_eq!(stat(&mut pc, "sync_full"), 1);
    assert_eq!(digest(&p), digest(&r));
    // FORCE carried to the end: the target takes over.
    signal(&r, "-STOP");
    force_failover(&mut pc, &rport, "100");
    signal(&r, "-CONT");
    wait_until("the failover to end", || state(&mut pc) == "no-failover");
    let mut rc = r.raw();
    assert_eq!(role(&mut rc).0, "master");
    assert_eq!(role(&mut pc), ("slave".to_string(), r.port));
    wait_synced(&r, &p);
    assert_eq!(digest(&p), digest(&r));
}

/// `p` hands over to its replica `r` with `FAILOVER TO r` (plus `options`): `r` ends as the
/// primary after one partial resync of `p` (no full one), `p` follows it, and `write`, run
/// on `r` and answered 1, reaches `p` so that both hold the same data.
fn hand_over(p: &Server, r: &Server, options: &[&str], write: &[&str]) {
    let mut pc = p.raw();
    let rport = r.port.to_string();
    let mut failover = vec!["FAILOVER", "TO", "127.0.0.1", rport.as_str()];
    failover.extend_from_slice(options);
    assert_eq!(pc.cmd_str(&failover), Reply::ok());
    wait_until("the failover to end", || {
        state(&mut pc) == "no-failover" && role(&mut pc).0 == "slave"
    });
    let mut rc = r.raw();
    assert_eq!(role(&mut rc).0, "master");
    assert_eq!(role(&mut pc), ("slave".to_string(), r.port));
    assert_eq!(stat(&mut rc, "sync_partial_ok"), 1);
    assert_eq!(
        stat(&mut rc, "sync_full"),
        0,
        "no full sync of the old primary"
    );
    assert_eq!(rc.cmd_str(write), Reply::Int(1));
    wait_synced(r, p);
    assert_same(&dump(p.port), &dump(r.port), "after the failover");
}

#[test]
fn ringkv_primary_hands_over_to_redis() {
    let (p, r) = (ringkv(), redis());
    follow(&r, &p);
    let mut pc = p.raw();
    for i in 0..100 {
        pc.cmd_str(&["SADD", "s", &i.to_string()]);
        pc.cmd_str(&["SET", &format!("k{i}"), "v", "EX", "1000"]);
    }
    hand_over(&p, &r, &["TIMEOUT", "5000"], &["SADD", "s", "new"]);
}

#[test]
fn redis_primary_hands_over_to_ringkv() {
    let (p, r) = (redis(), ringkv());
    follow(&r, &p);
    let mut pc = p.raw();
    for i in 0..100 {
        pc.cmd_str(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        pc.cmd_str(&["HSET", "h", &format!("f{i}"), "v"]);
    }
    hand_over(&p, &r, &[], &["HSET", "h", "new", "x"]);
    assert_eq!(digest(&p), digest(&r));
}

#[test]
fn a_refused_psync_aborts_and_the_primary_stays_primary() {
    let (p, r1, r2) = (ringkv(), ringkv(), ringkv());
    follow(&r1, &p);
    follow(&r2, &p);
    let mut pc = p.raw();
    pc.cmd_str(&["SET", "a", "1"]);
    wait_synced(&p, &r1);
    wait_synced(&p, &r2);
    // The target refuses the PSYNC FAILOVER (no permission), as Redis's own test does.
    let mut r1c = r1.raw();
    assert_eq!(
        r1c.cmd_str(&["ACL", "SETUSER", "default", "-psync"]),
        Reply::ok()
    );
    let (full, partial) = (stat(&mut pc, "sync_full"), stat(&mut pc, "sync_partial_ok"));
    let id = info_field(&mut pc, "master_replid");
    let r1port = r1.port.to_string();
    assert_eq!(
        pc.cmd_str(&["FAILOVER", "TO", "127.0.0.1", &r1port]),
        Reply::ok()
    );
    let mut w = p.raw();
    w.send(&common::encode(&[b"SET", b"b", b"2"]));
    // Aborted: a primary again, and the paused write runs there.
    assert_eq!(w.read_reply(), Reply::ok());
    assert_eq!(state(&mut pc), "no-failover");
    assert_eq!(role(&mut pc).0, "master");
    assert_eq!(info_field(&mut pc, "master_replid2"), id);
    assert_eq!(
        r1c.cmd_str(&["ACL", "SETUSER", "default", "+psync"]),
        Reply::ok()
    );
    // Both replicas continue with the new history, without a full sync.
    wait_synced(&p, &r1);
    wait_synced(&p, &r2);
    assert_eq!(stat(&mut pc, "sync_full"), full);
    assert_eq!(stat(&mut pc, "sync_partial_ok"), partial + 2);
    assert_eq!(role(&mut r1c), ("slave".to_string(), p.port));
    let d = digest(&p);
    assert_eq!(digest(&r1), d);
    assert_eq!(digest(&r2), d);
}

/// The target's side, on the wire: `PSYNC <its replid> <offset> FAILOVER` from a client
/// makes a replica a primary and continues that client at once (`+CONTINUE <new id>`, then
/// the stream), byte for byte as redis-server; the exact error bytes of FAILOVER too.
#[test]
fn psync_failover_on_the_wire() {
    let mut shapes = Vec::new();
    for theirs in [false, true] {
        let (p, r) = if theirs {
            (redis(), redis())
        } else {
            (ringkv(), ringkv())
        };
        follow(&r, &p);
        let mut rc = r.raw();
        let id = info_field(&mut rc, "master_replid");
        let off: u64 = info_field(&mut rc, "master_repl_offset").parse().unwrap();
        let mut c = r.raw();
        assert_eq!(
            c.cmd_exact(&["REPLCONF", "capa", "eof", "capa", "psync2"]),
            b"+OK\r\n"
        );
        let next = (off + 1).to_string();
        let reply = c.cmd_exact(&["PSYNC", &id, &next, "FAILOVER"]);
        // A primary now: its new id is the one +CONTINUE gave, the old one is replid2.
        assert_eq!(role(&mut rc).0, "master");
        let new_id = info_field(&mut rc, "master_replid");
        assert_eq!(info_field(&mut rc, "master_replid2"), id);
        assert_eq!(reply, format!("+CONTINUE {new_id}\r\n").into_bytes());
        assert_eq!(stat(&mut rc, "sync_partial_ok"), 1);
        // The raw error replies of FAILOVER, RESP2 and RESP3.
        let mut e = r.raw();
        let mut e3 = r.raw();
        e3.cmd_str(&["HELLO", "3"]);
        let mut bytes = Vec::new();
        for line in [
            &["FAILOVER", "ABORT"][..],
            &["FAILOVER", "TIMEOUT", "0"],
            &["FAILOVER", "TO", "x"],
            &["PSYNC", "x", "1", "FAILOVER"],
        ] {
            bytes.push(e.cmd_exact(line));
            bytes.push(e3.cmd_exact(line));
        }
        shapes.push(bytes);
    }
    assert_eq!(
        shapes[0]
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>(),
        shapes[1]
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>()
    );
}
