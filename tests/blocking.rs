//! Blocking list commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) and CLIENT UNBLOCK, with
//! several real clients against the real binary. The multi-client scenarios run against
//! ringkv and against redis-server 7.0 and their replies must be identical
//! (`differential`); the rest check timing, INFO/CLIENT LIST and connection handling.

mod common;

use common::diff::SETTLE_MAX;
use common::{encode, Raw, Reply, Server};
use std::time::{Duration, Instant};

fn bulk(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

fn pair(k: &str, v: &str) -> Reply {
    Reply::Array(Some(vec![bulk(k), bulk(v)]))
}

/// Sends a command without reading its reply.
fn send(c: &mut Raw, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&encode(&args));
}

fn client_id(c: &mut Raw) -> String {
    match c.cmd_str(&["CLIENT", "ID"]) {
        Reply::Int(n) => n.to_string(),
        r => panic!("CLIENT ID: {r:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Differential scenarios: every reply of every client, in order, against redis-server.

/// A scenario drives several clients of one server and returns every reply it read.
type Scenario = fn(&Server) -> Vec<Reply>;

fn differential(name: &str, scenario: Scenario) {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let got = scenario(&ours);
    let want = scenario(&redis);
    assert_eq!(got, want, "scenario {name}: ringkv vs redis-server");
}

fn fifo_three_waiters(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut w: Vec<Raw> = (0..3).map(|_| s.raw()).collect();
    for (i, c) in w.iter_mut().enumerate() {
        send(c, &["BLPOP", "k", "0"]);
        ctl.wait_blocked(i as i64 + 1);
    }
    let mut out = vec![ctl.cmd_str(&["RPUSH", "k", "1", "2", "3", "4"])];
    out.extend(w.iter_mut().map(|c| c.read_reply()));
    out.push(ctl.cmd_str(&["LRANGE", "k", "0", "-1"]));
    out
}

fn multiple_keys(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let mut out = vec![
        ctl.cmd_str(&["RPUSH", "k2", "a"]),
        ctl.cmd_str(&["RPUSH", "k3", "b"]),
        // First non-empty key in argument order wins, even with duplicates.
        a.cmd_str(&["BLPOP", "k1", "k3", "k2", "k1", "0"]),
        a.cmd_str(&["BRPOP", "k1", "k2", "0"]),
    ];
    send(&mut a, &["BRPOP", "k1", "k2", "k1", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["RPUSH", "k2", "x", "y"]));
    out.push(a.read_reply());
    out.push(ctl.cmd_str(&["LRANGE", "k2", "0", "-1"]));
    // Both keys pushed by one command: the first one signalled serves.
    send(&mut a, &["BLPOP", "m2", "m1", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["LPUSH", "m1", "z"]));
    out.push(a.read_reply());
    out
}

fn blmove_chain(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let mut b = s.raw();
    let mut c = s.raw();
    send(&mut a, &["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"]);
    ctl.wait_blocked(1);
    send(&mut b, &["BRPOPLPUSH", "b", "c", "0"]);
    ctl.wait_blocked(2);
    send(
        &mut c,
        &["BLMPOP", "0", "2", "zz", "c", "LEFT", "COUNT", "5"],
    );
    ctl.wait_blocked(3);
    vec![
        ctl.cmd_str(&["RPUSH", "a", "x", "y"]),
        a.read_reply(),
        b.read_reply(),
        c.read_reply(),
        ctl.cmd_str(&["LRANGE", "a", "0", "-1"]),
        ctl.cmd_str(&["EXISTS", "b", "c"]),
    ]
}

fn rpoplpush_into_watched(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let mut out = vec![ctl.cmd_str(&["RPUSH", "src", "1", "2"])];
    send(&mut a, &["BLPOP", "dst", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["RPOPLPUSH", "src", "dst"]));
    out.push(a.read_reply());
    send(&mut a, &["BRPOP", "dst", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["LMOVE", "src", "dst", "LEFT", "LEFT"]));
    out.push(a.read_reply());
    out.push(ctl.cmd_str(&["EXISTS", "src", "dst"]));
    out
}

fn keyspace_commands_create_watched(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let mut out = Vec::new();
    // RENAME
    send(&mut a, &["BLPOP", "w", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["RPUSH", "tmp", "r1", "r2"]));
    out.push(ctl.cmd_str(&["RENAME", "tmp", "w"]));
    out.push(a.read_reply());
    out.push(ctl.cmd_str(&["DEL", "w"]));
    // COPY
    send(&mut a, &["BLPOP", "w", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["RPUSH", "tmp", "c1"]));
    out.push(ctl.cmd_str(&["COPY", "tmp", "w"]));
    out.push(a.read_reply());
    // MOVE into the waiter's database.
    out.push(a.cmd_str(&["SELECT", "1"]));
    send(&mut a, &["BLPOP", "w", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["RPUSH", "w", "m1"]));
    out.push(ctl.cmd_str(&["MOVE", "w", "1"]));
    out.push(a.read_reply());
    // COPY ... DB into the waiter's database.
    send(&mut a, &["BLPOP", "w", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["COPY", "tmp", "w", "DB", "1"]));
    out.push(a.read_reply());
    // SWAPDB: the waiter stays on db 1 and sees db 0's list.
    send(&mut a, &["BLPOP", "s", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["RPUSH", "s", "s1"]));
    out.push(ctl.cmd_str(&["SWAPDB", "0", "1"]));
    out.push(a.read_reply());
    // A string at the key does not serve; the list that replaces it does.
    send(&mut a, &["BLPOP", "t", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["SELECT", "1"]));
    out.push(ctl.cmd_str(&["SET", "t", "str"]));
    out.push(ctl.cmd_str(&["DEL", "t"]));
    out.push(ctl.cmd_str(&["RPUSH", "t", "t1"]));
    out.push(a.read_reply());
    out
}

fn blmove_wrongtype_destination(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let mut b = s.raw();
    let mut out = vec![ctl.cmd_str(&["SET", "str", "x"])];
    send(&mut a, &["BLMOVE", "src", "str", "LEFT", "LEFT", "0"]);
    ctl.wait_blocked(1);
    send(&mut b, &["BLPOP", "src", "0"]);
    ctl.wait_blocked(2);
    out.push(ctl.cmd_str(&["RPUSH", "src", "e"]));
    out.push(a.read_reply());
    out.push(b.read_reply());
    out.push(ctl.cmd_str(&["EXISTS", "src"]));
    out
}

fn resp3_and_timeouts(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let mut out = Vec::new();
    for proto in ["2", "3"] {
        a.cmd_str(&["HELLO", proto]);
        out.push(a.cmd_str(&["BLPOP", "n", "0.01"]));
        out.push(a.cmd_str(&["BRPOP", "n", "m", "0.01"]));
        out.push(a.cmd_str(&["BLMOVE", "n", "m", "LEFT", "RIGHT", "0.01"]));
        out.push(a.cmd_str(&["BRPOPLPUSH", "n", "m", "0.01"]));
        out.push(a.cmd_str(&["BLMPOP", "0.01", "1", "n", "LEFT"]));
        send(
            &mut a,
            &["BLMPOP", "0", "2", "n", "m", "RIGHT", "COUNT", "2"],
        );
        ctl.wait_blocked(1);
        out.push(ctl.cmd_str(&["RPUSH", "m", "1", "2", "3"]));
        out.push(a.read_reply());
        send(&mut a, &["BLPOP", "n", "0"]);
        ctl.wait_blocked(1);
        out.push(ctl.cmd_str(&["RPUSH", "n", "v"]));
        out.push(a.read_reply());
        out.push(ctl.cmd_str(&["DEL", "m"]));
    }
    out
}

fn serving_details(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut w: Vec<Raw> = (0..3).map(|_| s.raw()).collect();
    let mut out = Vec::new();
    // Counts are served in FIFO order from one push.
    send(&mut w[0], &["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"]);
    ctl.wait_blocked(1);
    send(&mut w[1], &["BRPOP", "k", "0"]);
    ctl.wait_blocked(2);
    send(&mut w[2], &["BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "5"]);
    ctl.wait_blocked(3);
    out.push(ctl.cmd_str(&["RPUSH", "k", "1", "2", "3", "4", "5", "6"]));
    out.extend(w.iter_mut().map(|c| c.read_reply()));
    // Serving happens right after the pushing command, before its next pipelined one.
    send(&mut w[0], &["BLPOP", "p", "0"]);
    ctl.wait_blocked(1);
    let mut batch = encode(&[b"RPUSH", b"p", b"a"]);
    batch.extend(encode(&[b"LPOP", b"p"]));
    ctl.send(&batch);
    out.push(ctl.read_reply());
    out.push(ctl.read_reply());
    out.push(w[0].read_reply());
    // BLMOVE onto its own key rotates, and every waiter of the key is served.
    send(&mut w[0], &["BLMOVE", "r", "r", "LEFT", "RIGHT", "0"]);
    ctl.wait_blocked(1);
    send(&mut w[1], &["BLMOVE", "r", "r", "RIGHT", "LEFT", "0"]);
    ctl.wait_blocked(2);
    send(&mut w[2], &["BLPOP", "r", "0"]);
    ctl.wait_blocked(3);
    out.push(ctl.cmd_str(&["RPUSH", "r", "x", "y"]));
    out.extend(w.iter_mut().map(|c| c.read_reply()));
    out.push(ctl.cmd_str(&["LRANGE", "r", "0", "-1"]));
    // An expired key is missing: the client blocks, then times out.
    out.push(ctl.cmd_str(&["SET", "e", "v", "PX", "1"]));
    std::thread::sleep(Duration::from_millis(20));
    out.push(w[0].cmd_str(&["BLPOP", "e", "0.05"]));
    // A cycle of BLMOVEs ends.
    send(&mut w[0], &["BLMOVE", "c1", "c2", "LEFT", "LEFT", "0"]);
    ctl.wait_blocked(1);
    send(&mut w[1], &["BLMOVE", "c2", "c1", "LEFT", "LEFT", "0"]);
    ctl.wait_blocked(2);
    out.push(ctl.cmd_str(&["LPUSH", "c1", "z"]));
    out.push(w[0].read_reply());
    out.push(w[1].read_reply());
    out.push(ctl.cmd_str(&["LRANGE", "c1", "0", "-1"]));
    out.push(ctl.cmd_str(&["EXISTS", "c2"]));
    out
}

fn database_isolation(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let mut out = vec![a.cmd_str(&["SELECT", "1"])];
    send(&mut a, &["BLPOP", "q", "0.3"]);
    ctl.wait_blocked(1);
    // The same key name in another database serves nobody.
    out.push(ctl.cmd_str(&["RPUSH", "q", "x"]));
    out.push(a.read_reply());
    out.push(ctl.cmd_str(&["LLEN", "q"]));
    out
}

fn argument_errors(s: &Server) -> Vec<Reply> {
    let mut c = s.raw();
    c.cmd_str(&["SET", "str", "x"]);
    c.cmd_str(&["RPUSH", "l", "a", "b", "c"]);
    let cases: &[&[&str]] = &[
        &["BLPOP", "str", "0"],
        &["BLPOP", "nokey", "str", "l", "0"],
        &["BLPOP", "l", "str", "0"],
        &["BLPOP", "l", "-1"],
        &["BLPOP", "l", "x"],
        &["BLPOP", "l", "inf"],
        &["BLPOP", "l", "1e400"],
        &["BLPOP", "l", " 1"],
        &["BLPOP", "l"],
        &["BRPOP", "str", "0.5"],
        &["BLMOVE", "l", "str", "LEFT", "RIGHT", "0"],
        &["BLMOVE", "str", "l", "LEFT", "RIGHT", "0"],
        &["BLMOVE", "n", "m", "LEFT", "UP", "x"],
        &["BLMOVE", "n", "m", "UP", "LEFT", "x"],
        &["BLMOVE", "n", "m", "LEFT", "LEFT", "x"],
        &["BLMOVE", "n", "m", "LEFT", "LEFT", "-0.5"],
        &["BLMOVE", "l", "l", "LEFT", "RIGHT", "0"],
        &["BRPOPLPUSH", "l", "str", "0"],
        &["BRPOPLPUSH", "l", "d", "-1"],
        &["BRPOPLPUSH", "l", "d", "0"],
        &["BLMPOP", "x", "1", "l", "LEFT"],
        &["BLMPOP", "0", "0", "l", "LEFT"],
        &["BLMPOP", "-1", "1", "l", "LEFT"],
        &["BLMPOP", "x", "1", "l", "UP"],
        &["BLMPOP", "0", "2", "l", "LEFT"],
        &["BLMPOP", "0", "9223372036854775807", "l", "LEFT"],
        &["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"],
        &["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"],
        &["BLMPOP", "0", "1", "l", "LEFT", "FOO"],
        &["BLMPOP", "0", "2", "str", "l", "LEFT"],
        &["BLMPOP", "0", "2", "n", "l", "RIGHT", "COUNT", "10"],
        &["CLIENT", "UNBLOCK", "999999"],
        &["CLIENT", "UNBLOCK", "999999", "error"],
        &["CLIENT", "UNBLOCK", "999999", "foo"],
        &["CLIENT", "UNBLOCK", "abc", "foo"],
        &["CLIENT", "UNBLOCK", "abc", "TIMEOUT"],
        &["CLIENT", "UNBLOCK", "-3"],
        &["CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"],
        &["CLIENT", "UNBLOCK"],
        &["LRANGE", "l", "0", "-1"],
        &["LRANGE", "d", "0", "-1"],
    ];
    cases.iter().map(|args| c.cmd_str(args)).collect()
}

fn unblock_and_stats(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let id = client_id(&mut a);
    let mut out = Vec::new();
    send(&mut a, &["BLPOP", "k", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["CLIENT", "UNBLOCK", &id]));
    out.push(a.read_reply());
    out.push(ctl.cmd_str(&["CLIENT", "UNBLOCK", &id]));
    send(&mut a, &["BLMOVE", "k", "d", "LEFT", "LEFT", "100"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]));
    out.push(a.read_reply());
    send(&mut a, &["BLMPOP", "100", "1", "k", "LEFT"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["CLIENT", "UNBLOCK", &id, "ERROR"]));
    out.push(a.read_reply());
    out.push(a.cmd_str(&["PING"]));
    out
}

/// COMMAND INFO's name, arity, flags, key positions and ACL categories (tests/command_table.rs
/// compares the rest of every row).
fn command_info_heads(s: &Server) -> Vec<Reply> {
    let mut c = s.raw();
    let names = [
        "blpop",
        "brpop",
        "blmove",
        "brpoplpush",
        "blmpop",
        "client|unblock",
    ];
    let mut out = Vec::new();
    for n in names {
        let Reply::Array(Some(mut info)) = c.cmd_str(&["COMMAND", "INFO", n]) else {
            panic!("COMMAND INFO {n}");
        };
        let Some(Reply::Array(Some(mut fields))) = info.pop() else {
            panic!("COMMAND INFO {n}: no entry");
        };
        fields.truncate(7);
        out.push(Reply::Array(Some(fields)));
    }
    out
}

#[test]
fn differential_command_info() {
    differential("command_info_heads", command_info_heads);
}

#[test]
fn differential_fifo_three_waiters() {
    differential("fifo_three_waiters", fifo_three_waiters);
}

#[test]
fn differential_multiple_keys() {
    differential("multiple_keys", multiple_keys);
}

#[test]
fn differential_blmove_chain() {
    differential("blmove_chain", blmove_chain);
}

#[test]
fn differential_rpoplpush_into_watched() {
    differential("rpoplpush_into_watched", rpoplpush_into_watched);
}

#[test]
fn differential_keyspace_commands_create_watched() {
    differential(
        "keyspace_commands_create_watched",
        keyspace_commands_create_watched,
    );
}

#[test]
fn differential_blmove_wrongtype_destination() {
    differential("blmove_wrongtype_destination", blmove_wrongtype_destination);
}

#[test]
fn differential_resp3_and_timeouts() {
    differential("resp3_and_timeouts", resp3_and_timeouts);
}

#[test]
fn differential_serving_details() {
    differential("serving_details", serving_details);
}

#[test]
fn differential_database_isolation() {
    differential("database_isolation", database_isolation);
}

#[test]
fn differential_argument_errors() {
    differential("argument_errors", argument_errors);
}

#[test]
fn differential_unblock() {
    differential("unblock_and_stats", unblock_and_stats);
}

/// BZPOPMIN/BZPOPMAX/BZMPOP: immediate pops, FIFO waiters woken by ZADD, ZUNIONSTORE and
/// ZRANGESTORE creating the key, WRONGTYPE, argument errors, RESP3 shapes and timeouts.
fn zset_pops(s: &Server) -> Vec<Reply> {
    let mut ctl = s.raw();
    let mut a = s.raw();
    let mut b = s.raw();
    let mut out = vec![
        ctl.cmd_str(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
        a.cmd_str(&["BZPOPMIN", "nokey", "z", "0"]),
        a.cmd_str(&["BZPOPMAX", "z", "0"]),
        a.cmd_str(&["BZMPOP", "0", "2", "nokey", "z", "MIN", "COUNT", "5"]),
        ctl.cmd_str(&["EXISTS", "z"]),
        ctl.cmd_str(&["SET", "str", "x"]),
        a.cmd_str(&["BZPOPMIN", "nokey", "str", "0"]),
        a.cmd_str(&["BZPOPMIN", "z", "-1"]),
        a.cmd_str(&["BZPOPMIN", "z", "abc"]),
        a.cmd_str(&["BZMPOP", "0", "0", "z", "MIN"]),
        a.cmd_str(&["BZMPOP", "0", "1", "z", "MIDDLE"]),
        a.cmd_str(&["BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"]),
        a.cmd_str(&["BZMPOP", "x", "1", "z", "MIN", "COUNT", "2"]),
        a.cmd_str(&["BZMPOP", "0", "5", "z", "MIN"]),
    ];
    // Two waiters, served in arrival order by one ZADD.
    send(&mut a, &["BZPOPMIN", "w", "0"]);
    ctl.wait_blocked(1);
    send(&mut b, &["BZMPOP", "0", "1", "w", "MAX", "COUNT", "2"]);
    ctl.wait_blocked(2);
    out.push(ctl.cmd_str(&["ZADD", "w", "5", "e", "4", "d", "6", "f", "7", "g"]));
    out.push(a.read_reply());
    out.push(b.read_reply());
    out.push(ctl.cmd_str(&["ZRANGE", "w", "0", "-1", "WITHSCORES"]));
    // A key made by ZUNIONSTORE, then by ZRANGESTORE, wakes a waiter.
    send(&mut a, &["BZPOPMAX", "u", "v", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["ZUNIONSTORE", "v", "1", "w"]));
    out.push(a.read_reply());
    send(&mut a, &["BZPOPMIN", "r", "0"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["ZRANGESTORE", "r", "w", "0", "-1"]));
    out.push(a.read_reply());
    // A list at the key serves nobody; the waiter times out with a null array.
    send(&mut a, &["BZPOPMIN", "l", "0.2"]);
    ctl.wait_blocked(1);
    out.push(ctl.cmd_str(&["RPUSH", "l", "x"]));
    out.push(a.read_reply());
    // RESP3: a double score, and the null of a timeout.
    // HELLO's reply carries the client id, which differs between the servers.
    assert!(matches!(a.cmd_str(&["HELLO", "3"]), Reply::Map(_)));
    out.push(ctl.cmd_str(&["ZADD", "z3", "1.5", "m", "2", "n"]));
    out.push(a.cmd_str(&["BZPOPMIN", "z3", "0"]));
    out.push(a.cmd_str(&["BZMPOP", "0", "1", "z3", "MIN"]));
    out.push(a.cmd_str(&["BZPOPMAX", "z3", "0.05"]));
    out
}

#[test]
fn differential_zset_pops() {
    differential("zset_pops", zset_pops);
}

// ---------------------------------------------------------------------------------------------
// ringkv only: timing, connection handling, introspection.

#[test]
fn block_then_push_from_another_client() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    send(&mut a, &["BLPOP", "k", "0"]);
    b.wait_blocked(1);
    a.assert_silent(Duration::from_millis(200));
    assert_eq!(b.cmd_str(&["LPUSH", "k", "v"]), Reply::Int(1));
    assert_eq!(a.read_reply(), pair("k", "v"));
    assert_eq!(b.cmd_str(&["EXISTS", "k"]), Reply::Int(0));
    assert_eq!(b.info_int("clients", "blocked_clients"), 0);
}

#[test]
fn short_timeout_fires_on_time() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut ctl = s.raw();
    // A waiter with a long timeout first, so the short one must replace the armed timer.
    send(&mut ctl, &["BLPOP", "other", "30"]);
    std::thread::sleep(Duration::from_millis(50));
    for (args, resp3) in [
        (&["BLPOP", "k", "0.1"][..], false),
        (&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.1"][..], true),
    ] {
        if resp3 {
            a.cmd_str(&["HELLO", "3"]);
        }
        let t0 = Instant::now();
        let r = a.cmd_str(args);
        let took = t0.elapsed();
        let want = if resp3 {
            Reply::Null
        } else {
            Reply::Array(None)
        };
        assert_eq!(r, want, "{args:?}");
        assert!(
            took >= Duration::from_millis(95) && took < Duration::from_millis(600),
            "{args:?} answered after {took:?}"
        );
    }
    // Timed-out clients left no trace; the long waiter is still there.
    let mut c = s.raw();
    assert_eq!(c.info_int("clients", "blocked_clients"), 1);
    assert_eq!(c.info_int("clients", "clients_in_timeout_table"), 1);
}

#[test]
fn zero_timeout_blocks_until_push() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    send(&mut a, &["BRPOP", "k", "0"]);
    a.assert_silent(Duration::from_millis(400));
    assert_eq!(b.info_int("clients", "clients_in_timeout_table"), 0);
    b.cmd_str(&["RPUSH", "k", "1", "2"]);
    assert_eq!(a.read_reply(), pair("k", "2"));
}

#[test]
fn disconnect_while_blocked_keeps_the_element() {
    let s = Server::start(&[]);
    let mut b = s.raw();
    {
        let mut a = s.raw();
        send(&mut a, &["BLPOP", "k", "0"]);
        b.wait_blocked(1);
    }
    b.wait_blocked(0);
    assert_eq!(b.cmd_str(&["RPUSH", "k", "x"]), Reply::Int(1));
    assert_eq!(
        b.cmd_str(&["LRANGE", "k", "0", "-1"]),
        Reply::Array(Some(vec![bulk("x")]))
    );
    // The same with commands pipelined behind the blocking one: the server keeps reading
    // while the client is blocked, so it still notices the disconnect.
    b.cmd_str(&["DEL", "k"]);
    {
        let mut a = s.raw();
        let mut batch = encode(&[b"BLPOP", b"k", b"0"]);
        batch.extend(encode(&[b"PING"]));
        batch.extend(encode(&[b"GET", b"partial"]));
        a.send(&batch[..batch.len() - 3]);
        b.wait_blocked(1);
    }
    b.wait_blocked(0);
    assert_eq!(b.cmd_str(&["RPUSH", "k", "y"]), Reply::Int(1));
    assert_eq!(b.cmd_str(&["LLEN", "k"]), Reply::Int(1));
}

#[test]
fn client_kill_of_a_blocked_client() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    let id = client_id(&mut a);
    send(&mut a, &["BLPOP", "k", "10"]);
    b.wait_blocked(1);
    assert_eq!(b.cmd_str(&["CLIENT", "KILL", "ID", &id]), Reply::Int(1));
    a.expect_closed(Duration::from_secs(2))
        .expect("killed client closed");
    assert_eq!(b.info_int("clients", "blocked_clients"), 0);
    assert_eq!(b.info_int("clients", "clients_in_timeout_table"), 0);
    b.cmd_str(&["RPUSH", "k", "x"]);
    assert_eq!(b.cmd_str(&["LLEN", "k"]), Reply::Int(1));
}

#[test]
fn pipelined_commands_run_after_the_client_is_served() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    let mut batch = encode(&[b"BLPOP", b"k", b"0"]);
    batch.extend(encode(&[b"PING"]));
    batch.extend(encode(&[b"LPUSH", b"k", b"mine"]));
    batch.extend(encode(&[b"BLPOP", b"k", b"0"]));
    batch.extend(encode(&[b"ECHO", b"after"]));
    a.send(&batch);
    b.wait_blocked(1);
    a.assert_silent(Duration::from_millis(200));
    // The pipelined LPUSH has not run while blocked.
    assert_eq!(b.cmd_str(&["EXISTS", "k"]), Reply::Int(0));
    b.cmd_str(&["RPUSH", "k", "first"]);
    assert_eq!(a.read_reply(), pair("k", "first"));
    assert_eq!(a.read_reply(), Reply::Status("PONG".into()));
    assert_eq!(a.read_reply(), Reply::Int(1));
    assert_eq!(a.read_reply(), pair("k", "mine"));
    assert_eq!(a.read_reply(), bulk("after"));
    // A blocked client that sends more while blocked gets it run after it is served.
    send(&mut a, &["BLPOP", "k", "0"]);
    b.wait_blocked(1);
    send(&mut a, &["ECHO", "later"]);
    a.assert_silent(Duration::from_millis(200));
    b.cmd_str(&["RPUSH", "k", "z"]);
    assert_eq!(a.read_reply(), pair("k", "z"));
    assert_eq!(a.read_reply(), bulk("later"));
}

#[test]
fn introspection_of_blocked_clients() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    let mut c = s.raw();
    let id = client_id(&mut a);
    send(&mut a, &["BLMPOP", "5", "1", "k", "LEFT"]);
    send(&mut b, &["BRPOP", "k", "j", "0"]);
    c.wait_blocked(2);
    assert_eq!(c.info_int("clients", "clients_in_timeout_table"), 1);
    let Reply::Bulk(Some(list)) = c.cmd_str(&["CLIENT", "LIST"]) else {
        panic!("CLIENT LIST");
    };
    let list = String::from_utf8(list).unwrap();
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .expect("blocked client listed");
    assert!(line.contains(" flags=b "), "{line}");
    assert!(line.contains(" cmd=blmpop "), "{line}");
    let me = list
        .lines()
        .find(|l| l.contains("cmd=client|list"))
        .unwrap();
    assert!(me.contains(" flags=N "), "{me}");
    // A blocked client is not closed for idleness, and FLUSHALL leaves it blocked.
    assert_eq!(c.cmd_str(&["FLUSHALL"]), Reply::ok());
    assert_eq!(c.info_int("clients", "blocked_clients"), 2);
    c.cmd_str(&["RPUSH", "k", "1"]);
    assert_eq!(
        a.read_reply(),
        Reply::Array(Some(vec![bulk("k"), Reply::Array(Some(vec![bulk("1")]))]))
    );
    c.cmd_str(&["RPUSH", "j", "2"]);
    assert_eq!(b.read_reply(), pair("j", "2"));
    c.wait_blocked(0);
    assert_eq!(c.info_int("clients", "clients_in_timeout_table"), 0);
}

#[test]
fn shutdown_while_clients_are_blocked() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    send(&mut a, &["BLPOP", "k", "0"]);
    send(&mut b, &["BLPOP", "k", "5"]);
    let mut c = s.raw();
    c.wait_blocked(2);
    send(&mut c, &["SHUTDOWN", "NOSAVE"]);
    a.expect_closed(Duration::from_secs(5))
        .expect("blocked client closed at shutdown");
    b.expect_closed(Duration::from_secs(5))
        .expect("blocked client closed at shutdown");
}

#[test]
fn many_waiters_and_disconnects_leave_no_trace() {
    let s = Server::start(&[]);
    let mut ctl = s.raw();
    let mut waiters: Vec<Raw> = (0..20).map(|_| s.raw()).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        let key = format!("k{}", i % 3);
        let timeout = if i % 2 == 0 { "0" } else { "30" };
        send(w, &["BLPOP", &key, "shared", timeout]);
    }
    ctl.wait_blocked(20);
    // Drop every third waiter, serve the rest through one key each.
    let mut kept = Vec::new();
    for (i, w) in waiters.into_iter().enumerate() {
        if i % 3 == 0 {
            drop(w);
        } else {
            kept.push(w);
        }
    }
    ctl.wait_blocked(kept.len() as i64);
    let elems: Vec<String> = (0..kept.len()).map(|i| format!("e{i}")).collect();
    let mut args = vec!["RPUSH", "shared"];
    args.extend(elems.iter().map(String::as_str));
    ctl.cmd_str(&args);
    let mut got: Vec<Reply> = kept.iter_mut().map(|w| w.read_reply()).collect();
    got.sort_by_key(|r| format!("{r:?}"));
    let mut want: Vec<Reply> = elems.iter().map(|e| pair("shared", e)).collect();
    want.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(got, want);
    assert_eq!(ctl.info_int("clients", "blocked_clients"), 0);
    assert_eq!(ctl.info_int("clients", "clients_in_timeout_table"), 0);
    assert_eq!(ctl.cmd_str(&["EXISTS", "shared"]), Reply::Int(0));
}

// ---------------------------------------------------------------------------------------------
// Random multi-client scenario, compared against redis-server.

/// Steps of the random scenario (each is one command of some client).
const RANDOM_STEPS: usize = 300;
const RANDOM_CLIENTS: usize = 6;

/// Reads the replies of blocked clients until `n` of them answered; returns (client, reply)
/// in client order.
fn collect_served(clients: &mut [Raw], blocked: &mut [bool], n: usize) -> Vec<Reply> {
    let mut got: Vec<(usize, Reply)> = Vec::new();
    let deadline = Instant::now() + SETTLE_MAX;
    while got.len() < n {
        assert!(
            Instant::now() < deadline,
            "{} of {n} served replies",
            got.len()
        );
        for (i, c) in clients.iter_mut().enumerate() {
            if !blocked[i] {
                continue;
            }
            c.set_read_timeout(Duration::from_millis(3));
            if let Ok(r) = c.try_read_reply() {
                blocked[i] = false;
                got.push((i, r));
            }
            c.set_read_timeout(common::READ_TIMEOUT);
        }
    }
    got.sort_by_key(|(i, _)| *i);
    got.into_iter()
        .flat_map(|(i, r)| [Reply::Int(i as i64), r])
        .collect()
}

fn random_scenario(s: &Server, seed: u64) -> Vec<Reply> {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ctl = s.raw();
    let mut clients: Vec<Raw> = (0..RANDOM_CLIENTS).map(|_| s.raw()).collect();
    let ids: Vec<String> = clients.iter_mut().map(client_id).collect();
    let mut blocked = vec![false; RANDOM_CLIENTS];
    let keys = ["a", "b", "c"];
    let mut out = Vec::new();
    let mut n_blocked = 0i64;
    for step in 0..RANDOM_STEPS {
        let k = |rng: &mut StdRng| keys[rng.gen_range(0..keys.len())].to_string();
        let idle: Vec<usize> = (0..RANDOM_CLIENTS).filter(|&i| !blocked[i]).collect();
        if !idle.is_empty() && rng.gen_bool(0.45) {
            // A blocking command from an idle client.
            let i = idle[rng.gen_range(0..idle.len())];
            let end = if rng.gen_bool(0.5) { "LEFT" } else { "RIGHT" };
            let args: Vec<String> = match rng.gen_range(0..5) {
                0 => vec!["BLPOP".into(), k(&mut rng), k(&mut rng), "0".into()],
                1 => vec!["BRPOP".into(), k(&mut rng), "0".into()],
                2 => vec![
                    "BLMOVE".into(),
                    k(&mut rng),
                    k(&mut rng),
                    end.into(),
                    "LEFT".into(),
                    "0".into(),
                ],
                3 => vec!["BRPOPLPUSH".into(), k(&mut rng), k(&mut rng), "0".into()],
                _ => vec![
                    "BLMPOP".into(),
                    "0".into(),
                    "2".into(),
                    k(&mut rng),
                    k(&mut rng),
                    end.into(),
                    "COUNT".into(),
                    rng.gen_range(1..4).to_string(),
                ],
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            out.push(Reply::Status(format!("step {step}: client {i} {args:?}")));
            send(&mut clients[i], &args);
            // Either it answers at once or it blocks.
            let deadline = Instant::now() + SETTLE_MAX;
            loop {
                assert!(
                    Instant::now() < deadline,
                    "{}: step {step}: neither answered nor blocked",
                    s.bin
                );
                if ctl.info_int("clients", "blocked_clients") == n_blocked + 1 {
                    blocked[i] = true;
                    n_blocked += 1;
                    out.push(Reply::Status("blocked".into()));
                    break;
                }
                clients[i].set_read_timeout(Duration::from_millis(3));
                let r = clients[i].try_read_reply();
                clients[i].set_read_timeout(common::READ_TIMEOUT);
                if let Ok(r) = r {
                    out.push(r);
                    // A BLMOVE answered at once may have served clients blocked on its
                    // destination.
                    let now = ctl.info_int("clients", "blocked_clients");
                    let served = (n_blocked - now) as usize;
                    out.extend(collect_served(&mut clients, &mut blocked, served));
                    n_blocked = now;
                    break;
                }
            }
            continue;
        }
        let args: Vec<String> = match rng.gen_range(0..10) {
            0..=3 => {
                let mut v = vec![
                    if rng.gen_bool(0.5) { "LPUSH" } else { "RPUSH" }.into(),
                    k(&mut rng),
                ];
                for _ in 0..rng.gen_range(1..4) {
                    v.push(format!("e{}", rng.gen_range(0..100)));
                }
                v
            }
            4 => vec![
                "LMOVE".into(),
                k(&mut rng),
                k(&mut rng),
                "LEFT".into(),
                "RIGHT".into(),
            ],
            5 => vec!["RENAME".into(), k(&mut rng), k(&mut rng)],
            6 => vec!["DEL".into(), k(&mut rng)],
            7 => vec!["SET".into(), k(&mut rng), "str".into()],
            8 => {
                let i = rng.gen_range(0..RANDOM_CLIENTS);
                let how = if rng.gen_bool(0.5) {
                    "TIMEOUT"
                } else {
                    "ERROR"
                };
                vec![
                    "CLIENT".into(),
                    "UNBLOCK".into(),
                    ids[i].clone(),
                    how.into(),
                ]
            }
            _ => vec!["LRANGE".into(), k(&mut rng), "0".into(), "-1".into()],
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Client ids differ between the servers: the trace names the client index instead.
        let shown: Vec<String> = args
            .iter()
            .map(|a| match ids.iter().position(|id| id == a) {
                Some(i) if args[0] == "CLIENT" => format!("client {i}"),
                _ => a.to_string(),
            })
            .collect();
        out.push(Reply::Status(format!("step {step}: ctl {shown:?}")));
        out.push(ctl.cmd_str(&args));
        let now = ctl.info_int("clients", "blocked_clients");
        let served = (n_blocked - now) as usize;
        out.extend(collect_served(&mut clients, &mut blocked, served));
        n_blocked = now;
    }
    for key in keys {
        out.push(ctl.cmd_str(&["LRANGE", key, "0", "-1"]));
    }
    out
}

#[test]
fn differential_random_multi_client() {
    let seed: u64 = std::env::var("BLOCKING_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xb10c);
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let got = random_scenario(&ours, seed);
    let want = random_scenario(&redis, seed);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g,
            w,
            "seed {seed}, entry {i}; before: {:?}",
            &got[i.saturating_sub(6)..i]
        );
    }
    assert_eq!(got.len(), want.len(), "seed {seed}");
    let blocks = got
        .iter()
        .filter(|r| **r == Reply::Status("blocked".into()))
        .count();
    eprintln!("seed {seed}: {} trace entries, {blocks} blocks", got.len());
    assert!(blocks >= 10, "seed {seed}: only {blocks} clients blocked");
}

#[test]
fn idle_timeout_spares_blocked_clients() {
    let s = Server::start(&["--timeout", "1"]);
    let mut blocked = s.raw();
    let mut idle = s.raw();
    send(&mut blocked, &["BLPOP", "k", "0"]);
    let mut ctl = s.raw();
    ctl.wait_blocked(1);
    drop(ctl);
    // Idle clients are closed after 1 s of silence (checked at the 10 Hz tick); the blocked
    // one stays.
    idle.expect_closed(Duration::from_secs(4))
        .expect("idle client closed");
    let mut ctl = s.raw();
    assert_eq!(ctl.info_int("clients", "blocked_clients"), 1);
    ctl.cmd_str(&["RPUSH", "k", "v"]);
    assert_eq!(blocked.read_reply(), pair("k", "v"));
}
