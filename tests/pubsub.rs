//! Pub/Sub against redis-server 7.0: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their opposites,
//! PUBLISH, SPUBLISH, PUBSUB's subcommands, the RESP2 Pub/Sub context, RESP3 push frames, the
//! `pubsub` output buffer limit, CLIENT LIST / KILL / INFO, and subscribers living through
//! transactions, blocked clients, an AOF rewrite and clients killed mid-message.
//!
//! The differential scenarios run every step on both servers, client by client, and compare
//! what each client reads byte for byte: replies, confirmations and messages, in order. The
//! only replies Redis orders by its hash tables (UNSUBSCRIBE without arguments when a client
//! has several channels, PUBSUB CHANNELS) are compared as sorted lists of frames.
//!
//! `RINGKV_BIN=$(command -v redis-server) cargo test --test pubsub` runs it redis-vs-redis.

mod common;

use common::{encode, escape, Raw, Reply, Server};
use std::time::{Duration, Instant};

/// One step: client `who` sends `cmd` (nothing if empty) and then reads `frames` frames.
/// `sorted`: the frames are compared as a sorted list, with a confirmation's trailing count
/// blanked (it depends on the order).
struct Step {
    who: usize,
    cmd: &'static [&'static str],
    frames: usize,
    sorted: bool,
}

const fn s(who: usize, cmd: &'static [&'static str], frames: usize) -> Step {
    Step {
        who,
        cmd,
        frames,
        sorted: false,
    }
}

const fn sorted(who: usize, cmd: &'static [&'static str], frames: usize) -> Step {
    Step {
        who,
        cmd,
        frames,
        sorted: true,
    }
}

/// Replaces the integer that ends a frame (a confirmation's count) with `?`.
fn blank_count(f: &mut Vec<u8>) {
    let body = &f[..f.len().saturating_sub(2)];
    if let Some(i) = body.iter().rposition(|&b| b == b'\n') {
        if f.get(i + 1) == Some(&b':') {
            f.truncate(i + 2);
            f.extend_from_slice(b"?\r\n");
        }
    }
}

/// Runs `steps` with `clients` connections (all switched to RESP3 first when `resp3`) and
/// returns, per step, the frames read.
fn run(port: u16, clients: usize, resp3: bool, steps: &[Step]) -> Vec<Vec<Vec<u8>>> {
    let mut conns: Vec<Raw> = (0..clients).map(|_| Raw::connect(port)).collect();
    if resp3 {
        for c in &mut conns {
            assert!(!c.cmd_str(&["HELLO", "3"]).is_error());
        }
    }
    let mut out = Vec::new();
    for st in steps {
        let c = &mut conns[st.who];
        if !st.cmd.is_empty() {
            let args: Vec<&[u8]> = st.cmd.iter().map(|a| a.as_bytes()).collect();
            c.send(&encode(&args));
        }
        let mut frames: Vec<Vec<u8>> = (0..st.frames).map(|_| c.read_reply_bytes()).collect();
        if st.sorted {
            for f in &mut frames {
                blank_count(f);
            }
            frames.sort();
        }
        out.push(frames);
    }
    out
}

/// Runs a scenario on ringkv and on redis-server, in RESP2 and RESP3, and compares every
/// step's frames.
fn differential(name: &str, clients: usize, steps: &[Step]) {
    for resp3 in [false, true] {
        // Fresh servers per protocol: the previous run's connections may not be closed yet,
        // and their subscriptions would count.
        let ours = Server::start(&[]);
        let redis = Server::start_redis(&[]);
        let a = run(ours.port, clients, resp3, steps);
        let b = run(redis.port, clients, resp3, steps);
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let show = |f: &Vec<Vec<u8>>| f.iter().map(|b| escape(b)).collect::<Vec<_>>();
            assert_eq!(
                show(x),
                show(y),
                "{name} (resp3={resp3}) step {i}: client {} sent {:?}",
                steps[i].who,
                steps[i].cmd
            );
        }
    }
}

#[test]
fn subscribe_confirmations_messages_and_unsubscribe_match_redis() {
    differential(
        "confirmations",
        3,
        &[
            s(0, &["SUBSCRIBE", "news", "sport"], 2),
            s(0, &["SUBSCRIBE", "news"], 1),
            s(1, &["PSUBSCRIBE", "n*", "h?llo", "h[ae]llo", "*"], 4),
            s(2, &["PUBLISH", "news", "first"], 1),
            s(0, &[], 1),
            // n* and * match "news"; each pattern delivers a pmessage of its own, in the
            // order of Redis's pattern table (not something a client can rely on).
            sorted(1, &[], 2),
            s(2, &["PUBLISH", "hello", "x"], 1),
            sorted(1, &[], 3),
            s(2, &["PUBLISH", "hallo", ""], 1),
            sorted(1, &[], 3),
            s(2, &["PUBLISH", "nobody-here", "x"], 1),
            sorted(1, &[], 2),
            s(2, &["PUBLISH", "sport", "goal"], 1),
            s(0, &[], 1),
            s(1, &[], 1),
            s(0, &["UNSUBSCRIBE", "news", "never"], 2),
            s(1, &["PUNSUBSCRIBE", "h?llo", "*", "missing"], 3),
            s(2, &["PUBLISH", "news", "second"], 1),
            s(1, &[], 1),
            s(0, &["UNSUBSCRIBE"], 1),
            s(0, &["UNSUBSCRIBE"], 1),
            s(0, &["PUNSUBSCRIBE"], 1),
            s(1, &["PUNSUBSCRIBE"], 2),
            s(1, &["PUNSUBSCRIBE"], 1),
            s(0, &["SUBSCRIBE", "a", "b", "c"], 3),
            sorted(0, &["UNSUBSCRIBE"], 3),
            s(0, &["GET", "k"], 1),
        ],
    );
}

#[test]
fn shard_channels_are_counted_apart_and_get_smessage() {
    differential(
        "shard",
        2,
        &[
            s(0, &["SSUBSCRIBE", "s1", "s2"], 2),
            s(0, &["SUBSCRIBE", "c"], 1),
            s(0, &["PSUBSCRIBE", "s*"], 1),
            s(1, &["SPUBLISH", "s1", "m"], 1),
            // The pattern does not see shard messages.
            s(0, &[], 1),
            s(1, &["PUBLISH", "s1", "plain"], 1),
            s(0, &[], 1),
            s(1, &["PUBSUB", "SHARDNUMSUB", "s1", "s2", "none"], 1),
            s(1, &["PUBSUB", "SHARDCHANNELS", "s1"], 1),
            s(1, &["PUBSUB", "SHARDCHANNELS", "x*"], 1),
            s(1, &["PUBSUB", "NUMSUB", "s1", "c"], 1),
            s(1, &["PUBSUB", "NUMPAT"], 1),
            s(0, &["SUNSUBSCRIBE", "s1"], 1),
            s(0, &["UNSUBSCRIBE"], 1),
            s(0, &["PUNSUBSCRIBE"], 1),
            // Still in the Pub/Sub context through s2.
            s(0, &["GET", "k"], 1),
            s(0, &["SUNSUBSCRIBE"], 1),
            s(0, &["SUNSUBSCRIBE"], 1),
            s(0, &["GET", "k"], 1),
        ],
    );
}

#[test]
fn pubsub_context_of_resp2_and_any_command_in_resp3() {
    // In RESP2 only the (un)subscribe commands, PING, QUIT and RESET run; in RESP3 anything
    // does, and messages come as push frames between replies (the same steps, both modes).
    differential(
        "context",
        2,
        &[
            s(0, &["SUBSCRIBE", "c"], 1),
            s(0, &["GET", "k"], 1),
            s(0, &["SET", "k", "v"], 1),
            s(0, &["MULTI"], 1),
            s(0, &["CLIENT", "ID"], 1),
            s(0, &["PUBLISH", "c", "x"], 1),
            s(0, &["PING"], 1),
            s(0, &["PING", "hello"], 1),
            s(0, &["PING", "a", "b"], 1),
            s(0, &["SUBSCRIBE"], 1),
            s(0, &["PSUBSCRIBE"], 1),
            s(1, &["PUBLISH", "c", "to-0"], 1),
            s(0, &[], 1),
            s(0, &["RESET"], 1),
            s(0, &["GET", "k"], 1),
            s(1, &["PUBSUB", "NUMSUB", "c"], 1),
        ],
    );
}

#[test]
fn publishing_to_oneself_puts_the_message_before_the_reply_as_redis_does() {
    // A RESP3 client subscribed to a channel it publishes to reads the push first, then the
    // receiver count; in RESP2 PUBLISH is refused in the Pub/Sub context.
    differential(
        "self",
        1,
        &[
            s(0, &["SUBSCRIBE", "me"], 1),
            s(0, &["PSUBSCRIBE", "m*"], 1),
            s(0, &["PUBLISH", "me", "x"], 1),
            // RESP3: two pushes and the count are three frames; RESP2: the error above was
            // the only frame, and PING answers here.
            s(0, &["PING"], 1),
        ],
    );
    let ours = Server::start(&[]);
    let mut c = Raw::connect(ours.port);
    c.cmd_str(&["HELLO", "3"]);
    c.cmd_str(&["SUBSCRIBE", "me"]);
    c.send(&encode(&[b"PUBLISH", b"me", b"x"]));
    match c.read_reply() {
        Reply::Push(items) => assert_eq!(items[0], Reply::bulk(b"message")),
        other => panic!("expected the message push first, got {other:?}"),
    }
    assert_eq!(c.read_reply(), Reply::Int(1));
}

#[test]
fn transactions_that_subscribe_and_publish_match_redis() {
    differential(
        "multi",
        2,
        &[
            s(0, &["MULTI"], 1),
            s(0, &["SUBSCRIBE", "q"], 1),
            s(0, &["PUBLISH", "q", "z"], 1),
            s(0, &["EXEC"], 1),
            // EXEC's array holds the confirmation and the message written while PUBLISH ran;
            // PUBLISH's own count follows it as a frame of its own, as Redis writes it.
            s(0, &[], 1),
            s(1, &["MULTI"], 1),
            s(1, &["PUBLISH", "q", "one"], 1),
            s(1, &["PUBLISH", "q", "two"], 1),
            s(1, &["EXEC"], 1),
            s(0, &[], 2),
        ],
    );
}

#[test]
fn pubsub_subcommands_and_their_errors_match_redis() {
    differential(
        "pubsub-cmd",
        2,
        &[
            s(0, &["SUBSCRIBE", "x1", "x2", "y1"], 3),
            s(0, &["PSUBSCRIBE", "p1", "p2", "p1"], 3),
            s(1, &["PSUBSCRIBE", "p1", "p3"], 2),
            s(1, &["PUBSUB", "CHANNELS", "y*"], 1),
            s(1, &["PUBSUB", "CHANNELS", "x[2-9]"], 1),
            s(1, &["PUBSUB", "CHANNELS", "a", "b"], 1),
            s(1, &["PUBSUB", "NUMSUB"], 1),
            s(1, &["PUBSUB", "NUMSUB", "x1", "x1", "zz"], 1),
            s(1, &["PUBSUB", "NUMPAT"], 1),
            s(1, &["PUBSUB", "NUMPAT", "extra"], 1),
            s(1, &["PUBSUB", "SHARDCHANNELS"], 1),
            s(1, &["PUBSUB", "SHARDNUMSUB"], 1),
            s(1, &["PUBSUB", "HELP"], 1),
            s(1, &["PUBSUB", "NOPE"], 1),
            s(1, &["PUBSUB"], 1),
            s(1, &["PUBLISH", "x1"], 1),
            s(1, &["SPUBLISH", "x1", "a", "b"], 1),
        ],
    );
}

/// Sorted sub/psub/ssub/flags fields of every CLIENT LIST line, and one INFO field.
fn client_fields(c: &mut Raw) -> Vec<String> {
    let list = match c.cmd_str(&["CLIENT", "LIST"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        Reply::Verbatim { text, .. } => String::from_utf8(text).unwrap(),
        other => panic!("CLIENT LIST: {other:?}"),
    };
    let mut v: Vec<String> = list
        .lines()
        .map(|l| {
            l.split(' ')
                .filter(|f| {
                    ["flags=", "sub=", "psub=", "ssub="]
                        .iter()
                        .any(|p| f.starts_with(p))
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    v.sort();
    v
}

fn info_field(c: &mut Raw, field: &str) -> String {
    let text = match c.cmd_str(&["INFO", "stats"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        Reply::Verbatim { text, .. } => String::from_utf8(text).unwrap(),
        other => panic!("INFO: {other:?}"),
    };
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO has no {field}"))
        .to_string()
}

#[test]
fn client_list_kill_and_info_show_subscribers_as_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let mut seen = Vec::new();
    for srv in [&ours, &redis] {
        let mut a = Raw::connect(srv.port);
        let mut b = Raw::connect(srv.port);
        let mut admin = Raw::connect(srv.port);
        a.cmd_str(&["SUBSCRIBE", "c1", "c2"]);
        a.read_reply();
        a.cmd_str(&["PSUBSCRIBE", "p*"]);
        b.cmd_str(&["SSUBSCRIBE", "s"]);
        let fields = client_fields(&mut admin);
        let infos: Vec<String> = ["pubsub_channels", "pubsub_patterns", "pubsubshard_channels"]
            .iter()
            .map(|f| info_field(&mut admin, f))
            .collect();
        let listed = match admin.cmd_str(&["CLIENT", "LIST", "TYPE", "pubsub"]) {
            Reply::Bulk(Some(t)) => String::from_utf8(t).unwrap().lines().count(),
            other => panic!("{other:?}"),
        };
        let normal = match admin.cmd_str(&["CLIENT", "LIST", "TYPE", "normal"]) {
            Reply::Bulk(Some(t)) => String::from_utf8(t).unwrap().lines().count(),
            other => panic!("{other:?}"),
        };
        let killed = admin.cmd_str(&["CLIENT", "KILL", "TYPE", "pubsub"]);
        assert!(a.wait_closed(Duration::from_secs(5)));
        assert!(b.wait_closed(Duration::from_secs(5)));
        let after: Vec<String> = ["pubsub_channels", "pubsub_patterns", "pubsubshard_channels"]
            .iter()
            .map(|f| info_field(&mut admin, f))
            .collect();
        seen.push((fields, infos, listed, normal, killed, after));
    }
    assert_eq!(seen[0], seen[1]);
    // What Redis showed, so that the comparison cannot pass on two empty answers.
    assert_eq!(seen[1].1, vec!["2", "1", "1"]);
    assert_eq!(seen[1].2, 2);
    assert_eq!(seen[1].4, Reply::Int(2));
    assert_eq!(seen[1].5, vec!["0", "0", "0"]);
}

/// Reads frames until `n` messages have arrived or `within` has passed; returns the count.
fn read_messages(c: &mut Raw, n: usize, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    let mut got = 0;
    while got < n && Instant::now() < deadline {
        match c.try_read_reply() {
            Ok(Reply::Array(Some(items))) | Ok(Reply::Push(items))
                if items.first() == Some(&Reply::bulk(b"message")) =>
            {
                got += 1
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    got
}

#[test]
fn a_subscriber_that_stops_reading_is_disconnected_and_the_others_go_on() {
    // 32 MB of messages against a 1 MB hard limit (the kernel's socket buffers hold a few MB
    // of it, the rest waits in the server): the subscriber that never reads must be closed,
    // while the publisher and the reading subscriber get everything. The publisher waits for
    // the reading subscriber after every 512 KB, so that one never falls behind the limit.
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    for srv in [Server::start(&[]), Server::start_redis(&[])] {
        let mut admin = Raw::connect(srv.port);
        assert_eq!(
            admin.cmd_str(&[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "pubsub 1mb 512kb 60"
            ]),
            Reply::ok()
        );
        let mut slow = Raw::connect(srv.port);
        slow.cmd_str(&["SUBSCRIBE", "feed"]);
        let mut fast = Raw::connect(srv.port);
        fast.cmd_str(&["SUBSCRIBE", "feed"]);
        let payload = vec![b'p'; 32 * 1024];
        let (batches, per_batch) = (64, 16);
        let count = batches * per_batch;
        let received = Arc::new(AtomicUsize::new(0));
        let seen = received.clone();
        let reader = std::thread::spawn(move || {
            for _ in 0..count {
                if read_messages(&mut fast, 1, Duration::from_secs(10)) != 1 {
                    break;
                }
                seen.fetch_add(1, Ordering::Relaxed);
            }
            fast
        });
        let mut publisher = Raw::connect(srv.port);
        let mut receivers = Vec::new();
        for b in 0..batches {
            let mut batch = Vec::new();
            for _ in 0..per_batch {
                batch.extend_from_slice(&encode(&[b"PUBLISH", b"feed", &payload]));
            }
            publisher.send(&batch);
            for _ in 0..per_batch {
                match publisher.read_reply() {
                    Reply::Int(n) => receivers.push(n),
                    other => panic!("PUBLISH answered {other:?}"),
                }
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while received.load(Ordering::Relaxed) < (b + 1) * per_batch {
                assert!(Instant::now() < deadline, "the reading subscriber stalled");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let _fast = reader.join().unwrap();
        assert_eq!(received.load(Ordering::Relaxed), count);
        assert!(
            slow.wait_closed(Duration::from_secs(10)),
            "the subscriber that never reads was not disconnected"
        );
        // Both got the first messages; once it is gone, messages reach only the reader.
        assert_eq!(receivers.first(), Some(&2));
        assert_eq!(receivers.last(), Some(&1));
        assert_eq!(
            publisher.cmd_str(&["PUBSUB", "NUMSUB", "feed"]),
            Reply::Array(Some(vec![Reply::bulk(b"feed"), Reply::Int(1)]))
        );
    }
}

#[test]
fn one_publish_reaches_every_subscriber_of_a_wide_fan_out() {
    let srv = Server::start(&[]);
    let mut subs: Vec<Raw> = (0..200).map(|_| Raw::connect(srv.port)).collect();
    for (i, c) in subs.iter_mut().enumerate() {
        let chan = format!("ch{}", i % 10);
        assert_eq!(
            c.cmd_str(&["SUBSCRIBE", &chan]),
            Reply::Array(Some(vec![
                Reply::bulk(b"subscribe"),
                Reply::bulk(chan.as_bytes()),
                Reply::Int(1)
            ]))
        );
    }
    let mut p = Raw::connect(srv.port);
    let mut batch = Vec::new();
    for m in 0..100 {
        let chan = format!("ch{}", m % 10);
        batch.extend_from_slice(&encode(&[b"PUBLISH", chan.as_bytes(), b"0123456789"]));
    }
    p.send(&batch);
    for _ in 0..100 {
        assert_eq!(p.read_reply(), Reply::Int(20));
    }
    for c in &mut subs {
        assert_eq!(read_messages(c, 10, Duration::from_secs(10)), 10);
    }
}

#[test]
fn subscribers_live_through_blocked_clients_rewrites_and_kills() {
    let srv = Server::start(&["--appendonly", "yes"]);
    let mut sub = Raw::connect(srv.port);
    sub.cmd_str(&["SUBSCRIBE", "c"]);
    let mut psub = Raw::connect(srv.port);
    psub.cmd_str(&["HELLO", "3"]);
    psub.cmd_str(&["PSUBSCRIBE", "*"]);
    // A client blocked on a list, and a publisher that feeds both.
    let mut blocked = Raw::connect(srv.port);
    blocked.send(&encode(&[b"BLPOP", b"list", b"0"]));
    let mut p = Raw::connect(srv.port);
    for i in 0..200 {
        let data = vec![b'x'; 1000 + i];
        p.cmd(&[b"SET", format!("k{i}").as_bytes(), &data]);
    }
    assert!(!p.cmd_str(&["BGREWRITEAOF"]).is_error());
    let mut batch = Vec::new();
    for i in 0..300 {
        batch.extend_from_slice(&encode(&[b"PUBLISH", b"c", format!("m{i}").as_bytes()]));
    }
    batch.extend_from_slice(&encode(&[b"RPUSH", b"list", b"v"]));
    p.send(&batch);
    for _ in 0..300 {
        assert_eq!(p.read_reply(), Reply::Int(2));
    }
    assert_eq!(p.read_reply(), Reply::Int(1));
    assert_eq!(
        blocked.read_reply(),
        Reply::Array(Some(vec![Reply::bulk(b"list"), Reply::bulk(b"v")]))
    );
    assert_eq!(read_messages(&mut sub, 300, Duration::from_secs(10)), 300);
    let mut pmessages = 0;
    while pmessages < 300 {
        match psub.read_reply() {
            Reply::Push(items) if items[0] == Reply::bulk(b"pmessage") => pmessages += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    // A subscriber killed with messages queued, and a publisher that dies mid-command:
    // the server and the other subscriber go on.
    let mut victim = Raw::connect(srv.port);
    victim.cmd_str(&["SUBSCRIBE", "c"]);
    let id = match p.cmd_str(&["CLIENT", "LIST", "TYPE", "pubsub"]) {
        Reply::Bulk(Some(t)) => {
            let t = String::from_utf8(t).unwrap();
            let line = t.lines().last().unwrap().to_string();
            line.split(' ')
                .next()
                .unwrap()
                .trim_start_matches("id=")
                .to_string()
        }
        other => panic!("{other:?}"),
    };
    let mut batch = Vec::new();
    for _ in 0..50 {
        batch.extend_from_slice(&encode(&[b"PUBLISH", b"c", &[b'y'; 4096]]));
    }
    batch.extend_from_slice(&encode(&[b"CLIENT", b"KILL", b"ID", id.as_bytes()]));
    p.send(&batch);
    for _ in 0..50 {
        assert!(matches!(p.read_reply(), Reply::Int(3)));
    }
    assert_eq!(p.read_reply(), Reply::Int(1));
    let mut dying = Raw::connect(srv.port);
    dying.send(b"*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$100\r\nonly-part");
    drop(dying);
    assert_eq!(p.cmd_str(&["PUBLISH", "c", "after"]), Reply::Int(2));
    assert_eq!(read_messages(&mut sub, 51, Duration::from_secs(10)), 51);
    assert_eq!(
        p.cmd_str(&["PUBSUB", "NUMSUB", "c"]),
        Reply::Array(Some(vec![Reply::bulk(b"c"), Reply::Int(1)]))
    );
}
