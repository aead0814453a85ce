//! ringkv as a replica of a real redis-server 7.0.15, with real processes on loopback: the
//! full sync (diskless `$EOF:` form and on-disk `$<len>` form), the stream applied under a
//! write load of every type both servers have, ending with identical contents (DBSIZE per
//! database, and every key's type, value and PEXPIRETIME, streams' consumer groups too); a
//! link killed mid-stream and a restarted replica both resuming with +CONTINUE (the
//! primary's `sync_partial_ok` goes up, `sync_full` does not); the READONLY and MASTERDOWN
//! errors compared with a redis-server replica in the same state; REPLICAOF's replies;
//! REPLICAOF NO ONE keeping the data and shifting the replication id; and a stream holding a
//! command ringkv does not implement stopping the link visibly instead of diverging.

mod common;

use common::diff::{assert_same, dump};
use common::{encode_into, Raw, Reply, Server};
use std::time::{Duration, Instant};

/// How long a replica may take to catch up in these tests.
const SYNC_WAIT: Duration = Duration::from_secs(20);

/// A redis-server primary that starts a full sync at once (no diskless delay), diskless or
/// not, with the periodic PING frequent enough to keep offsets moving.
fn start_primary(diskless: bool) -> Server {
    start_primary_with(diskless, &[])
}

/// `start_primary` with more arguments.
fn start_primary_with(diskless: bool, extra: &[&str]) -> Server {
    let mut args = vec![
        "--repl-diskless-sync",
        if diskless { "yes" } else { "no" },
        "--repl-diskless-sync-delay",
        "0",
        "--repl-ping-replica-period",
        "1",
    ];
    args.extend_from_slice(extra);
    Server::start_redis(&args)
}

/// A diskless primary with DEBUG enabled (DEBUG SET-ACTIVE-EXPIRE and the like).
fn start_debug_primary() -> Server {
    start_primary_with(true, &["--enable-debug-command", "yes"])
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + SYNC_WAIT;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One field of an INFO section.
fn info_field(c: &mut Raw, section: &str, field: &str) -> String {
    let Reply::Bulk(Some(text)) = c.cmd_str(&["INFO", section]) else {
        panic!("INFO {section}");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}:\n{text}"))
}

fn int_field(c: &mut Raw, section: &str, field: &str) -> i64 {
    info_field(c, section, field).parse().expect("an integer")
}

/// Waits until the replica has applied everything the primary produced.
fn wait_caught_up(primary: &Server, replica: &Server) {
    wait_caught_up_on(&mut primary.raw(), &mut replica.raw());
}

/// `wait_caught_up` on connections of the caller's (authenticated ones, say).
fn wait_caught_up_on(p: &mut Raw, r: &mut Raw) {
    wait_until("the replica to catch up", || {
        info_field(r, "replication", "master_link_status") == "up"
            && int_field(p, "replication", "master_repl_offset")
                == int_field(r, "replication", "slave_repl_offset")
    });
}

/// Waits until the primary streams to its replica: a write it made since the replica
/// attached acknowledged. (After a diskless transfer a primary streams only from an ACK
/// that arrives once its snapshot child is reaped: the replica's first ACK, sent at once,
/// may come before that, and then its periodic ACK does it, as with a redis-server
/// replica.)
fn wait_acked(p: &mut Raw) {
    wait_until("the replica to be attached", || {
        info_field(p, "replication", "connected_slaves") == "1"
    });
    p.cmd_str(&["SET", "acked", "1"]);
    wait_until("the primary to see an ACK of its offset", || {
        let off = int_field(p, "replication", "master_repl_offset");
        off > 0 && info_field(p, "replication", "slave0").contains(&format!("offset={off},"))
    });
}

/// Both servers hold the same data: DBSIZE of every database (keys past their deadline that
/// the primary has not reaped count on both), every key's type, value and absolute expiry,
/// and the consumer groups of every stream.
fn assert_identical(primary: &Server, replica: &Server) {
    let (mut p, mut r) = (primary.raw(), replica.raw());
    for db in 0..16 {
        let db = db.to_string();
        p.cmd_str(&["SELECT", &db]);
        r.cmd_str(&["SELECT", &db]);
        // The primary's active expiry may reap a key (and send its DEL) at any time; the
        // replica's count is compared with a primary count that held from before the
        // replica caught up until after the replica was counted.
        let mut compared = false;
        for _ in 0..50 {
            let before = p.cmd_str(&["DBSIZE"]);
            wait_caught_up_on(&mut primary.raw(), &mut replica.raw());
            let on_replica = r.cmd_str(&["DBSIZE"]);
            if p.cmd_str(&["DBSIZE"]) == before {
                assert_eq!(before, on_replica, "DBSIZE of db {db}");
                compared = true;
                break;
            }
        }
        assert!(compared, "the primary's DBSIZE of db {db} never held still");
    }
    let (a, b) = (dump(primary.port), dump(replica.port));
    assert_same(&a, &b, "primary vs ringkv replica");
    for ((db, key), (t, _, _)) in &a {
        if t == "stream" {
            let db = db.to_string();
            p.cmd_str(&["SELECT", &db]);
            r.cmd_str(&["SELECT", &db]);
            assert_eq!(
                replicated_groups(p.cmd_str(&["XINFO", "GROUPS", key])),
                replicated_groups(r.cmd_str(&["XINFO", "GROUPS", key])),
                "groups of stream {key}"
            );
        }
    }
}

/// XINFO GROUPS without `entries-read` and `lag`: redis-server 7.0 propagates XREADGROUP
/// as XCLAIM ... LASTID, which moves the group's last id but not its read counter, so a
/// replica (a redis-server one too) does not have the primary's counter.
fn replicated_groups(r: Reply) -> Reply {
    let Reply::Array(Some(groups)) = r else {
        return r;
    };
    Reply::Array(Some(
        groups
            .into_iter()
            .map(|g| {
                let Reply::Array(Some(fields)) = g else {
                    return g;
                };
                let kept = fields
                    .chunks(2)
                    .filter(|p| {
                        !matches!(&p[0], Reply::Bulk(Some(n)) if n == b"entries-read" || n == b"lag")
                    })
                    .flat_map(|p| p.iter().cloned())
                    .collect();
                Reply::Array(Some(kept))
            })
            .collect(),
    ))
}

/// Runs `cmds` pipelined and checks no reply is an error.
fn pipeline(c: &mut Raw, cmds: &[Vec<String>]) {
    let mut out = Vec::new();
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        encode_into(&mut out, &args);
    }
    c.send(&out);
    for cmd in cmds {
        let r = c.read_reply();
        assert!(!r.is_error(), "{cmd:?}: {r:?}");
    }
}

fn v(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// A round of writes of every type both servers have, in several databases: strings with
/// and without TTLs, counters, lists, hashes, sets, sorted sets, streams with a consumer
/// group, HyperLogLogs, keys that expire during the test (the primary's DELs), MULTI/EXEC,
/// EVAL writes, a FLUSHDB, a big value.
fn write_round(c: &mut Raw, round: usize) {
    let mut cmds = Vec::new();
    for i in 0..60 {
        let k = format!("r{round}:{i}");
        cmds.push(v(&["SELECT", &((i % 4) as u32).to_string()]));
        cmds.push(v(&["SET", &format!("s:{k}"), &format!("value-{i}")]));
        cmds.push(v(&["SET", &format!("ttl:{k}"), "x", "EX", "1000"]));
        cmds.push(v(&["SETEX", &format!("setex:{k}"), "500", "y"]));
        cmds.push(v(&["INCRBY", "counter", &i.to_string()]));
        cmds.push(v(&["INCRBYFLOAT", "float", "1.5"]));
        cmds.push(v(&["APPEND", "appended", &k]));
        cmds.push(v(&["RPUSH", "list", &k, "b", "c"]));
        cmds.push(v(&["LPUSH", "list", &k]));
        cmds.push(v(&["LPOP", "list"]));
        cmds.push(v(&["HSET", "hash", &k, &i.to_string(), "f", "v"]));
        cmds.push(v(&["HINCRBY", "hash", "n", "3"]));
        cmds.push(v(&["SADD", "set", &k, &i.to_string()]));
        cmds.push(v(&["SADD", "intset", &i.to_string()]));
        cmds.push(v(&["SPOP", "intset"]));
        cmds.push(v(&["ZADD", "zset", &i.to_string(), &k]));
        cmds.push(v(&["ZINCRBY", "zset", "0.5", &k]));
        cmds.push(v(&["XADD", "stream", "*", "k", &k, "i", &i.to_string()]));
        cmds.push(v(&["PFADD", "hll", &k, &format!("{k}x")]));
        cmds.push(v(&["SET", &format!("short:{k}"), "gone", "PX", "30"]));
        cmds.push(v(&["PEXPIRE", &format!("s:{k}"), "600000"]));
    }
    cmds.push(v(&["SELECT", "5"]));
    let group = format!("g{round}");
    cmds.push(v(&["XGROUP", "CREATE", "stream", &group, "0", "MKSTREAM"]));
    cmds.push(v(&[
        "XREADGROUP",
        "GROUP",
        &group,
        "alice",
        "COUNT",
        "3",
        "STREAMS",
        "stream",
        ">",
    ]));
    cmds.push(v(&["XADD", "stream", "MAXLEN", "50", "*", "a", "b"]));
    cmds.push(v(&["MULTI"]));
    cmds.push(v(&["INCR", "tx"]));
    cmds.push(v(&["LPUSH", "txlist", "a", "b"]));
    cmds.push(v(&["EXEC"]));
    cmds.push(v(&[
        "EVAL",
        "redis.call('set', KEYS[1], ARGV[1]); redis.call('expire', KEYS[1], 900); return redis.call('incr', KEYS[2])",
        "2",
        "lua:str",
        "lua:n",
        &format!("round{round}"),
    ]));
    cmds.push(v(&["SELECT", "6"]));
    cmds.push(v(&["SET", "doomed", "1"]));
    cmds.push(v(&["FLUSHDB"]));
    cmds.push(v(&["SET", "after-flush", &round.to_string()]));
    cmds.push(v(&["SET", "big", &"B".repeat(300_000 + round)]));
    cmds.push(v(&["SELECT", "0"]));
    cmds.push(v(&["DEL", "r0:0"]));
    cmds.push(v(&["RENAME", "appended", "renamed"]));
    pipeline(c, &cmds);
}

fn start_replica_of(primary: &Server, extra: &[&str]) -> Server {
    let replica = Server::start(extra);
    let mut r = replica.raw();
    assert_eq!(
        r.cmd_str(&["REPLICAOF", "127.0.0.1", &primary.port.to_string()]),
        Reply::ok()
    );
    replica
}

#[test]
fn replica_of_redis_under_a_write_load_ends_identical() {
    let primary = start_primary(true);
    let mut p = primary.raw();
    // Data before the sync (the snapshot), of every type, then writes during and after it.
    write_round(&mut p, 0);
    let replica = start_replica_of(&primary, &[]);
    for round in 1..4 {
        write_round(&mut p, round);
    }
    // The short-lived keys: once their time has passed, a lookup on the primary deletes each
    // one (a DEL in the stream), so both servers end without them whatever each one's
    // expiry cycle did meanwhile.
    std::thread::sleep(Duration::from_millis(60));
    let mut lookups = Vec::new();
    for round in 0..4 {
        for i in 0..60 {
            lookups.push(v(&["SELECT", &((i % 4) as u32).to_string()]));
            lookups.push(v(&["EXISTS", &format!("short:r{round}:{i}")]));
        }
    }
    pipeline(&mut p, &lookups);
    p.cmd_str(&["SELECT", "0"]);
    wait_caught_up(&primary, &replica);
    assert_identical(&primary, &replica);
    let mut r = replica.raw();
    assert_eq!(info_field(&mut r, "replication", "role"), "slave");
    let Reply::Array(Some(role)) = r.cmd_str(&["ROLE"]) else {
        panic!("ROLE");
    };
    assert_eq!(role[0], Reply::bulk(b"slave"));
    assert_eq!(role[2], Reply::Int(i64::from(primary.port)));
    assert_eq!(role[3], Reply::bulk(b"connected"));
    assert_eq!(
        role[4],
        Reply::Int(int_field(&mut p, "replication", "master_repl_offset"))
    );
    // The replica's id and offset are the primary's.
    assert_eq!(
        info_field(&mut r, "replication", "master_replid"),
        info_field(&mut p, "replication", "master_replid")
    );
    // The primary sees the replica's ACKs.
    wait_until("the primary to see an ACK of the latest offset", || {
        let line = info_field(&mut p, "replication", "slave0");
        let off = int_field(&mut p, "replication", "master_repl_offset");
        line.contains(&format!("offset={off},")) && line.contains("state=online")
    });
}

#[test]
fn killed_link_and_restart_resume_with_continue() {
    // The on-disk form of the full sync ($<len>).
    let primary = start_primary(false);
    let mut p = primary.raw();
    write_round(&mut p, 0);
    let dir = std::env::temp_dir().join(format!("ringkv-repl-replica-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let dir_s = dir.to_str().unwrap().to_string();
    let replica = start_replica_of(&primary, &["--dir", &dir_s]);
    wait_caught_up(&primary, &replica);
    let full = int_field(&mut p, "stats", "sync_full");
    let partial = int_field(&mut p, "stats", "sync_partial_ok");
    assert_eq!(full, 1);

    // The link killed by the primary, with writes while it is down.
    assert!(matches!(
        p.cmd_str(&["CLIENT", "KILL", "TYPE", "replica"]),
        Reply::Int(1)
    ));
    write_round(&mut p, 1);
    wait_until("a partial resync after the kill", || {
        int_field(&mut p, "stats", "sync_partial_ok") == partial + 1
    });
    wait_caught_up(&primary, &replica);
    assert_eq!(int_field(&mut p, "stats", "sync_full"), full);
    assert_identical(&primary, &replica);

    // A restart: SHUTDOWN SAVE writes the RDB with the replication aux fields, and the new
    // process (with `replicaof` configured) resumes from them.
    let mut r = replica.raw();
    r.send(&common::encode(&[b"SHUTDOWN", b"SAVE"]));
    assert!(
        r.wait_closed(Duration::from_secs(10)),
        "replica did not exit"
    );
    drop(replica);
    write_round(&mut p, 2);
    let port = primary.port.to_string();
    let replica = Server::start(&["--dir", &dir_s, "--replicaof", "127.0.0.1", &port]);
    wait_until("a partial resync after the restart", || {
        int_field(&mut p, "stats", "sync_partial_ok") == partial + 2
    });
    wait_caught_up(&primary, &replica);
    assert_eq!(int_field(&mut p, "stats", "sync_full"), full);
    assert_identical(&primary, &replica);
    let mut r = replica.raw();
    assert_eq!(
        r.cmd_str(&["CONFIG", "GET", "replicaof"]),
        Reply::Array(Some(vec![
            Reply::bulk(b"replicaof"),
            Reply::bulk(format!("127.0.0.1 {port}").as_bytes())
        ]))
    );
    drop(replica);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same commands on a redis-server replica and a ringkv replica in the same state give
/// the same replies.
fn same_replies(redis: &mut Raw, ringkv: &mut Raw, cmds: &[&[&str]]) {
    for cmd in cmds {
        let (a, b) = (redis.cmd_str(cmd), ringkv.cmd_str(cmd));
        assert_eq!(a, b, "{cmd:?}");
    }
}

#[test]
fn readonly_masterdown_and_replicaof_replies_as_redis() {
    let primary = start_primary(true);
    let redis_replica = Server::start_redis(&[]);
    let mut p = primary.raw();
    p.cmd_str(&["SET", "k", "v"]);
    let lib = "#!lua name=lib\n\
               redis.register_function('w', function() return redis.call('set', 'x', '1') end)\n\
               redis.register_function{function_name='r', callback=function() return redis.call('get', 'k') end, flags={'no-writes'}}";
    assert_eq!(p.cmd_str(&["FUNCTION", "LOAD", lib]), Reply::bulk(b"lib"));
    let replica = start_replica_of(&primary, &[]);
    let mut x = redis_replica.raw();
    let port = primary.port.to_string();
    // REPLICAOF's replies on a primary, then following.
    same_replies(
        &mut x,
        &mut replica.raw(),
        &[
            &["REPLICAOF", "127.0.0.1", "notaport"],
            &["REPLICAOF", "127.0.0.1", "65536"],
            &["REPLICAOF", "127.0.0.1"],
            &["SLAVEOF", "a", "-1"],
        ],
    );
    assert_eq!(x.cmd_str(&["REPLICAOF", "127.0.0.1", &port]), Reply::ok());
    wait_caught_up(&primary, &redis_replica);
    wait_caught_up(&primary, &replica);
    let mut r = replica.raw();
    same_replies(
        &mut x,
        &mut r,
        &[
            &["REPLICAOF", "127.0.0.1", &port],
            &["SLAVEOF", "127.0.0.1", &port],
            &["GET", "k"],
            &["SET", "k", "other"],
            &["INCR", "n"],
            &["EVAL", "return redis.call('set', 'k', 'x')", "0"],
            &["EVAL", "#!lua\nreturn 1", "0"],
            &[
                "EVAL",
                "#!lua flags=no-writes\nreturn redis.call('get', 'k')",
                "0",
            ],
            &["FCALL", "w", "0"],
            &["FCALL", "r", "0"],
            &["FCALL_RO", "r", "0"],
            &["FUNCTION", "DELETE", "lib"],
            &["MULTI"],
            &["SET", "k", "v2"],
            &["EXEC"],
            &["CONFIG", "SET", "replica-read-only", "no"],
            &["SET", "local", "1"],
            &["GET", "local"],
            &["CONFIG", "SET", "replica-read-only", "yes"],
            &["CONFIG", "GET", "replica-serve-stale-data"],
            &["CONFIG", "GET", "slave-read-only"],
            &["CONFIG", "GET", "replica-priority"],
            &["CONFIG", "GET", "repl-diskless-load"],
            &["CONFIG", "SET", "repl-diskless-load", "nonsense"],
        ],
    );
    // The link down with replica-serve-stale-data no: MASTERDOWN, except for stale commands.
    let dead = common::free_port().to_string();
    for c in [&mut x, &mut r] {
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "replica-serve-stale-data", "no"]),
            Reply::ok()
        );
        assert_eq!(c.cmd_str(&["REPLICAOF", "127.0.0.1", &dead]), Reply::ok());
    }
    same_replies(
        &mut x,
        &mut r,
        &[
            &["GET", "k"],
            &["SET", "k", "v"],
            &["FCALL", "r", "0"],
            &["EVAL", "return 1", "0"],
            &["EVAL", "#!lua\nreturn 1", "0"],
            &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
            &["EVAL", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"],
            &["PING"],
            &["ECHO", "hi"],
            &["CONFIG", "GET", "replica-serve-stale-data"],
        ],
    );
    assert_eq!(
        info_field(&mut r, "replication", "master_link_status"),
        "down"
    );
    let Reply::Array(Some(role)) = r.cmd_str(&["ROLE"]) else {
        panic!("ROLE");
    };
    assert!(
        matches!(&role[3], Reply::Bulk(Some(s)) if s == b"connect" || s == b"connecting"),
        "{role:?}"
    );
    assert_eq!(role[4], Reply::Int(-1));
}

#[test]
fn replicaof_no_one_keeps_the_data_and_shifts_the_id() {
    let primary = start_primary(true);
    let mut p = primary.raw();
    write_round(&mut p, 0);
    let replica = start_replica_of(&primary, &[]);
    wait_caught_up(&primary, &replica);
    let mut r = replica.raw();
    let old_id = info_field(&mut r, "replication", "master_replid");
    // The stream may still move (the primary's DELs of expiring keys): an offset read here
    // is a lower bound.
    let offset_before = int_field(&mut r, "replication", "master_repl_offset");
    assert_eq!(r.cmd_str(&["REPLICAOF", "NO", "ONE"]), Reply::ok());
    let offset = int_field(&mut r, "replication", "master_repl_offset");
    assert!(offset >= offset_before);
    let before = dump(replica.port);
    assert_eq!(info_field(&mut r, "replication", "role"), "master");
    assert_eq!(info_field(&mut r, "replication", "master_replid2"), old_id);
    assert_ne!(info_field(&mut r, "replication", "master_replid"), old_id);
    assert_eq!(
        int_field(&mut r, "replication", "second_repl_offset"),
        offset + 1
    );
    assert_same(&before, &dump(replica.port), "data after REPLICAOF NO ONE");
    // A primary now: writes are accepted, and REPLICAOF NO ONE again is a no-op.
    assert_eq!(r.cmd_str(&["SET", "mine", "1"]), Reply::ok());
    assert_eq!(r.cmd_str(&["REPLICAOF", "NO", "ONE"]), Reply::ok());
    let Reply::Array(Some(role)) = r.cmd_str(&["ROLE"]) else {
        panic!("ROLE");
    };
    assert_eq!(role[0], Reply::bulk(b"master"));
}

/// A replica never deletes a key on its own: past its deadline the key looks absent to the
/// replica's readers (GET, EXISTS, PTTL, RANDOMKEY, SCAN, KEYS; RANDOMKEY answers it when
/// every key has a TTL, as Redis's), but stays counted until the primary's DEL arrives, on ringkv as on a redis-server replica of the same primary (active
/// expiry off there, so that the primary's lazy expiry decides when). After REPLICAOF NO ONE
/// the former replica reaps such keys itself.
#[test]
fn a_replica_leaves_expired_keys_to_its_primary_as_redis() {
    let primary = start_debug_primary();
    let mut p = primary.raw();
    let port = primary.port.to_string();
    let redis_replica = Server::start_redis(&["--replicaof", "127.0.0.1", &port]);
    let ringkv_replica = start_replica_of(&primary, &[]);
    assert_eq!(p.cmd_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), Reply::ok());
    for (k, px) in [("short1", "50"), ("short2", "50"), ("kept", "600000")] {
        assert_eq!(p.cmd_str(&["SET", k, "v", "PX", px]), Reply::ok());
    }
    wait_caught_up(&primary, &redis_replica);
    wait_caught_up(&primary, &ringkv_replica);
    std::thread::sleep(Duration::from_millis(120));
    let (mut a, mut b) = (redis_replica.raw(), ringkv_replica.raw());
    same_replies(
        &mut a,
        &mut b,
        &[
            &["DBSIZE"],
            &["GET", "short1"],
            &["EXISTS", "short2"],
            &["PTTL", "short2"],
            &["RANDOMKEY"],
            &["SCAN", "0"],
            &["KEYS", "*"],
            &["DBSIZE"],
        ],
    );
    assert_eq!(
        b.cmd_str(&["DBSIZE"]),
        Reply::Int(3),
        "the replica deleted a key"
    );
    // The primary's lazy expiry deletes one; its DEL reaches both replicas.
    assert_eq!(p.cmd_str(&["GET", "short1"]), Reply::Bulk(None));
    wait_caught_up(&primary, &redis_replica);
    wait_caught_up(&primary, &ringkv_replica);
    same_replies(&mut a, &mut b, &[&["DBSIZE"]]);
    assert_eq!(b.cmd_str(&["DBSIZE"]), Reply::Int(2));
    // Only a key past its deadline left, all keys with a TTL: RANDOMKEY on a replica answers
    // it (Redis's dbRandomKey gives up looking for a live one there).
    assert_eq!(p.cmd_str(&["DEL", "kept"]), Reply::Int(1));
    wait_caught_up(&primary, &redis_replica);
    wait_caught_up(&primary, &ringkv_replica);
    same_replies(&mut a, &mut b, &[&["RANDOMKEY"], &["DBSIZE"]]);
    assert_eq!(b.cmd_str(&["RANDOMKEY"]), Reply::bulk(b"short2"));
    // A primary again: its own lookups reap.
    assert_eq!(b.cmd_str(&["REPLICAOF", "NO", "ONE"]), Reply::ok());
    assert_eq!(b.cmd_str(&["EXISTS", "short2"]), Reply::Int(0));
    assert_eq!(b.cmd_str(&["DBSIZE"]), Reply::Int(0));
}

/// A scripted primary (redis-server 7.0 propagates no command ringkv lacks, so one is
/// made up): it answers the handshake, sends an empty snapshot taken from ringkv itself,
/// then a command no server has followed by a SET, on every connection it gets.
fn scripted_primary(rdb: Vec<u8>) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        // Bounded: two links (the first, and the one REPLICAOF restarts).
        for conn in listener.incoming().take(2) {
            let Ok(conn) = conn else { return };
            let rdb = rdb.clone();
            std::thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                let mut rd = BufReader::new(conn);
                let mut line = String::new();
                // Each command: *N, then N ($len, arg) pairs; the first arg names it.
                loop {
                    line.clear();
                    if rd.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let Some(n) = line.trim().strip_prefix('*') else {
                        continue;
                    };
                    let n: usize = n.parse().unwrap_or(0);
                    let mut args = Vec::new();
                    for _ in 0..n {
                        line.clear();
                        rd.read_line(&mut line).unwrap_or(0);
                        line.clear();
                        rd.read_line(&mut line).unwrap_or(0);
                        args.push(line.trim().to_ascii_uppercase());
                    }
                    let reply: Vec<u8> = match args.first().map(String::as_str) {
                        Some("PING") => b"+PONG\r\n".to_vec(),
                        Some("PSYNC") | Some("SYNC") => {
                            let mut out =
                                format!("+FULLRESYNC {} 0\r\n${}\r\n", "a".repeat(40), rdb.len())
                                    .into_bytes();
                            out.extend_from_slice(&rdb);
                            out.extend_from_slice(b"*1\r\n$13\r\nNOSUCHCOMMAND\r\n");
                            out.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n");
                            out
                        }
                        Some("REPLCONF") if args.get(1).map(String::as_str) == Some("ACK") => {
                            continue
                        }
                        _ => b"+OK\r\n".to_vec(),
                    };
                    if w.write_all(&reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// An empty snapshot, as ringkv sends it to an old-style SYNC.
fn empty_rdb() -> Vec<u8> {
    use std::io::{BufRead, BufReader, Read, Write};
    let s = Server::start(&[]);
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"*1\r\n$4\r\nSYNC\r\n").unwrap();
    let mut rd = BufReader::new(conn);
    let mut line = String::new();
    while !line.starts_with('$') {
        line.clear();
        rd.read_line(&mut line).unwrap();
    }
    let len: usize = line[1..].trim().parse().unwrap();
    let mut rdb = vec![0u8; len];
    rd.read_exact(&mut rdb).unwrap();
    rdb
}

/// A command ringkv does not have, in the stream, stops the link where it stands: the
/// link stays down (no reconnect loop applying around it), nothing after it is applied,
/// and the log names the command; REPLICAOF restarts the link, which stops again there.
#[test]
fn a_command_ringkv_lacks_stops_the_link_visibly() {
    let port = scripted_primary(empty_rdb()).to_string();
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    assert_eq!(r.cmd_str(&["REPLICAOF", "127.0.0.1", &port]), Reply::ok());
    wait_until("the command in the log", || {
        replica.log_tail().contains("'NOSUCHCOMMAND'")
    });
    wait_until("the link to stop", || {
        info_field(&mut r, "replication", "master_link_status") == "down"
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        info_field(&mut r, "replication", "master_link_status"),
        "down"
    );
    assert_eq!(r.cmd_str(&["EXISTS", "after"]), Reply::Int(0));
    assert_eq!(r.cmd_str(&["REPLICAOF", "127.0.0.1", &port]), Reply::ok());
    wait_until("the link to stop again", || {
        replica.log_tail().matches("'NOSUCHCOMMAND'").count() == 2
    });
    assert_eq!(
        info_field(&mut r, "replication", "master_link_status"),
        "down"
    );
    assert_eq!(r.cmd_str(&["EXISTS", "after"]), Reply::Int(0));
}

#[test]
fn stream_writes_notify_watch_and_track_and_the_link_recovers() {
    let primary = start_debug_primary();
    let mut p = primary.raw();
    // With the AOF on and fsync per write, the master client's effects go through the AOF's
    // group commit like any client's.
    let replica = start_replica_of(
        &primary,
        &[
            "--notify-keyspace-events",
            "KEA",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ],
    );
    wait_caught_up(&primary, &replica);
    // Clients of the replica see the primary's writes as any write: keyspace events, WATCH,
    // client-side caching invalidations.
    let mut sub = replica.raw();
    sub.cmd_str(&["SUBSCRIBE", "__keyevent@0__:set"]);
    let mut tracker = replica.raw();
    tracker.cmd_str(&["HELLO", "3"]);
    assert_eq!(tracker.cmd_str(&["CLIENT", "TRACKING", "ON"]), Reply::ok());
    assert_eq!(tracker.cmd_str(&["GET", "tk"]), Reply::Null);
    let mut watcher = replica.raw();
    assert_eq!(watcher.cmd_str(&["WATCH", "wk"]), Reply::ok());
    p.cmd_str(&["SET", "tk", "1"]);
    p.cmd_str(&["SET", "wk", "1"]);
    let Reply::Array(Some(msg)) = sub.read_reply() else {
        panic!("no keyspace event");
    };
    assert_eq!(msg[2], Reply::bulk(b"tk"));
    assert_eq!(
        tracker.read_reply(),
        Reply::Push(vec![
            Reply::bulk(b"invalidate"),
            Reply::Array(Some(vec![Reply::bulk(b"tk")]))
        ])
    );
    wait_caught_up(&primary, &replica);
    assert_eq!(watcher.cmd_str(&["MULTI"]), Reply::ok());
    watcher.cmd_str(&["GET", "wk"]);
    assert_eq!(watcher.cmd_str(&["EXEC"]), Reply::Array(None));

    // The master client: listed with flag M, and CLIENT KILL TYPE master makes the replica
    // reconnect with a partial resync.
    let mut r = replica.raw();
    let (Reply::Verbatim { text, .. } | Reply::Bulk(Some(text))) =
        r.cmd_str(&["CLIENT", "LIST", "TYPE", "master"])
    else {
        panic!("CLIENT LIST");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    assert!(
        text.contains("flags=M") && text.contains(&format!("addr=127.0.0.1:{}", primary.port)),
        "{text}"
    );
    let partial = int_field(&mut p, "stats", "sync_partial_ok");
    assert_eq!(
        r.cmd_str(&["CLIENT", "KILL", "TYPE", "master"]),
        Reply::Int(1)
    );
    wait_until("a partial resync after CLIENT KILL TYPE master", || {
        int_field(&mut p, "stats", "sync_partial_ok") == partial + 1
    });
    p.cmd_str(&["SET", "after-kill", "1"]);
    wait_caught_up(&primary, &replica);
    assert_eq!(r.cmd_str(&["GET", "after-kill"]), Reply::bulk(b"1"));

    // A silent primary (busy for longer than repl-timeout) is dropped, then continued.
    assert_eq!(
        r.cmd_str(&["CONFIG", "SET", "repl-timeout", "1"]),
        Reply::ok()
    );
    p.cmd_str(&["DEBUG", "SLEEP", "2.5"]);
    wait_until("a partial resync after the timeout", || {
        int_field(&mut p, "stats", "sync_partial_ok") == partial + 2
    });
    assert!(
        replica.log_tail().contains("MASTER timeout"),
        "{}",
        replica.log_tail()
    );
    assert_eq!(int_field(&mut p, "stats", "sync_full"), 1);
    assert_identical(&primary, &replica);
}

#[test]
fn handshake_authenticates_announces_and_answers_getack() {
    let primary = start_primary(true);
    let mut p = primary.raw();
    assert_eq!(
        p.cmd_str(&["ACL", "SETUSER", "repl", "on", ">pw", "~*", "&*", "+@all"]),
        Reply::ok()
    );
    assert_eq!(
        p.cmd_str(&["CONFIG", "SET", "requirepass", "secret"]),
        Reply::ok()
    );
    p.cmd_str(&["AUTH", "secret"]);
    p.cmd_str(&["SET", "k", "v"]);
    // A wrong password: the link never comes up, and the log says why.
    let replica = Server::start(&["--masterauth", "wrong"]);
    let mut r = replica.raw();
    let port = primary.port.to_string();
    assert_eq!(r.cmd_str(&["REPLICAOF", "127.0.0.1", &port]), Reply::ok());
    wait_until("the AUTH failure in the log", || {
        replica.log_tail().contains("Unable to AUTH to MASTER")
    });
    assert_eq!(
        info_field(&mut r, "replication", "master_link_status"),
        "down"
    );
    // An ACL user and its password, and the announced address.
    for (k, val) in [
        ("masteruser", "repl"),
        ("masterauth", "pw"),
        ("replica-announce-ip", "127.0.0.9"),
        ("replica-announce-port", "4321"),
    ] {
        assert_eq!(r.cmd_str(&["CONFIG", "SET", k, val]), Reply::ok());
    }
    wait_caught_up_on(&mut p, &mut r);
    assert_eq!(r.cmd_str(&["GET", "k"]), Reply::bulk(b"v"));
    let line = info_field(&mut p, "replication", "slave0");
    assert!(line.starts_with("ip=127.0.0.9,port=4321,"), "{line}");
    // WAIT on the primary sends REPLCONF GETACK, which the replica answers at once.
    wait_acked(&mut p);
    p.cmd_str(&["SET", "k", "v2"]);
    let started = Instant::now();
    assert_eq!(p.cmd_str(&["WAIT", "1", "5000"]), Reply::Int(1));
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

/// A stand-in primary on a loopback port: answers the handshake, then announces `rdb` as the
/// full sync's `$<len>` bulk, sends its first `sent` bytes and keeps the connection open for
/// `hold`.
fn fake_primary(rdb: Vec<u8>, sent: usize, hold: Duration) -> (u16, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut w = stream.try_clone().unwrap();
        let mut r = BufReader::new(stream);
        // Bounded: a handshake is at most a handful of commands.
        for _ in 0..8 {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let n: usize = line.trim()[1..].parse().unwrap();
            let mut args = Vec::new();
            for _ in 0..n {
                let mut len = String::new();
                r.read_line(&mut len).unwrap();
                let len: usize = len.trim()[1..].parse().unwrap();
                let mut a = vec![0u8; len + 2];
                r.read_exact(&mut a).unwrap();
                a.truncate(len);
                args.push(String::from_utf8_lossy(&a).to_ascii_uppercase());
            }
            match args[0].as_str() {
                "PING" => w.write_all(b"+PONG\r\n").unwrap(),
                "PSYNC" => {
                    // Keepalive newlines before the reply and before the bulk, as a busy
                    // redis-server sends them.
                    let mut out = format!(
                        "\n\n+FULLRESYNC {} 0\r\n\n${}\r\n",
                        "f".repeat(40),
                        rdb.len()
                    )
                    .into_bytes();
                    out.extend_from_slice(&rdb[..sent]);
                    w.write_all(&out).unwrap();
                    std::thread::sleep(hold);
                    return;
                }
                _ => w.write_all(b"+OK\r\n").unwrap(),
            }
        }
    });
    (port, t)
}

#[test]
fn a_snapshot_with_a_type_ringkv_lacks_stops_the_link_visibly() {
    // An RDB whose first key is of the module type (7, RDB_TYPE_MODULE_2).
    let mut rdb = b"REDIS0010".to_vec();
    rdb.extend_from_slice(&[0xfe, 0x00, 0x07, 0x01, b'k']);
    rdb.extend_from_slice(&[0u8; 32]);
    let len = rdb.len();
    let (port, primary) = fake_primary(rdb, len, Duration::from_millis(2500));
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    assert_eq!(r.cmd_str(&["SET", "old", "1"]), Reply::ok());
    assert_eq!(
        r.cmd_str(&["REPLICAOF", "127.0.0.1", &port.to_string()]),
        Reply::ok()
    );
    wait_until("the failed load in the log", || {
        replica
            .log_tail()
            .contains("Failed trying to load the MASTER synchronization DB")
    });
    // Stopped, visibly, with neither the old data nor half of the new.
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        info_field(&mut r, "replication", "master_link_status"),
        "down"
    );
    assert_eq!(r.cmd_str(&["DBSIZE"]), Reply::Int(0));
    let log = replica.log_tail();
    assert_eq!(
        log.matches("Connecting to MASTER").count(),
        1,
        "no reconnect loop:\n{log}"
    );
    primary.join().unwrap();
}

#[test]
fn info_and_role_during_a_transfer() {
    let rdb = vec![b'x'; 1000];
    let (port, primary) = fake_primary(rdb, 250, Duration::from_millis(1500));
    let replica = Server::start(&[]);
    let mut r = replica.raw();
    let port_s = port.to_string();
    assert_eq!(r.cmd_str(&["REPLICAOF", "127.0.0.1", &port_s]), Reply::ok());
    wait_until("the transfer to start", || {
        info_field(&mut r, "replication", "master_sync_in_progress") == "1"
            && int_field(&mut r, "replication", "master_sync_read_bytes") == 250
    });
    for (field, want) in [
        ("master_link_status", "down"),
        ("master_last_io_seconds_ago", "-1"),
        ("master_sync_total_bytes", "1000"),
        ("master_sync_left_bytes", "750"),
        ("master_sync_perc", "25.00"),
        ("master_sync_last_io_seconds_ago", "0"),
        ("master_link_down_since_seconds", "-1"),
        ("slave_priority", "100"),
        ("slave_read_only", "1"),
        ("replica_announced", "1"),
    ] {
        assert_eq!(info_field(&mut r, "replication", field), want, "{field}");
    }
    assert_eq!(
        r.cmd_str(&["ROLE"]),
        Reply::Array(Some(vec![
            Reply::bulk(b"slave"),
            Reply::bulk(b"127.0.0.1"),
            Reply::Int(i64::from(port)),
            Reply::bulk(b"sync"),
            Reply::Int(-1),
        ]))
    );
    primary.join().unwrap();
    // The stand-in closed the link mid-transfer: back to connecting, the transfer gone.
    wait_until("the transfer to be abandoned", || {
        info_field(&mut r, "replication", "master_sync_in_progress") == "0"
    });
}

#[test]
fn a_write_the_primary_made_before_a_deadline_applies_after_it() {
    let primary = Server::start_redis(&[
        "--repl-diskless-sync-delay",
        "0",
        "--enable-debug-command",
        "yes",
    ]);
    let mut p = primary.raw();
    let replica = start_replica_of(&primary, &[]);
    wait_acked(&mut p);
    // The primary's expiry stays out of the way: its DEL would hide the difference.
    assert_eq!(p.cmd_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), Reply::ok());
    assert_eq!(p.cmd_str(&["SET", "k", "5", "PX", "1000"]), Reply::ok());
    wait_caught_up(&primary, &replica);
    // The replica is held while the primary increments before the deadline; it applies
    // the INCR after the deadline.
    let pid = replica.pid().to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    };
    signal("-STOP");
    assert_eq!(p.cmd_str(&["INCR", "k"]), Reply::Int(6));
    let Reply::Int(at) = p.cmd_str(&["PEXPIRETIME", "k"]) else {
        panic!("PEXPIRETIME");
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    std::thread::sleep(Duration::from_millis((at - now_ms + 50).max(0) as u64));
    signal("-CONT");
    wait_caught_up(&primary, &replica);
    // As on the primary: 6 with the old deadline (past now), so expired for clients.
    // Without it, the replica's INCR would have found the key expired and made a fresh
    // `1` without a TTL, which would then outlive the primary's key.
    let mut r = replica.raw();
    assert_eq!(
        r.cmd_str(&["EXISTS", "k"]),
        Reply::Int(0),
        "expired for clients"
    );
}
