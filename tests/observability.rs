//! Observability against redis-server 7.0.15: SLOWLOG entries, MONITOR lines, CLIENT PAUSE /
//! REPLY / LIST / KILL, LATENCY replies and INFO latencystats, each run on both servers with
//! the parts that cannot agree (ids, times, durations, ports) masked; and redis-cli's
//! `--latency` and `monitor` driven against ringkv.

mod common;

use common::{Raw, Reply, Server};
use std::time::{Duration, Instant};

fn cmd(c: &mut Raw, args: &[&[u8]]) -> Reply {
    c.cmd(args)
}

fn s(c: &mut Raw, line: &str) -> Reply {
    let args: Vec<&str> = line.split(' ').collect();
    c.cmd_str(&args)
}

fn items(r: &Reply) -> Vec<Reply> {
    match r {
        Reply::Array(Some(v)) => v.clone(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// `ip:port` with the port masked (`?:0` and unix paths stay).
fn mask_port(b: &[u8]) -> Vec<u8> {
    let t = String::from_utf8_lossy(b).into_owned();
    match t.rsplit_once(':') {
        Some((ip, port)) if ip.starts_with("127.") && port != "0" => format!("{ip}:PORT").into(),
        _ => t.into_bytes(),
    }
}

/// A SLOWLOG GET reply with id, time and duration dropped and ports masked.
fn masked_slowlog(r: &Reply) -> Vec<Reply> {
    items(r)
        .iter()
        .map(|e| {
            let f = items(e);
            assert_eq!(f.len(), 6, "entry {e:?}");
            for n in &f[..3] {
                assert!(matches!(n, Reply::Int(v) if *v >= 0), "{e:?}");
            }
            let addr = match &f[4] {
                Reply::Bulk(Some(b)) => Reply::Bulk(Some(mask_port(b))),
                other => panic!("address {other:?}"),
            };
            Reply::Array(Some(vec![f[3].clone(), addr, f[5].clone()]))
        })
        .collect()
}

/// Runs `setup` on a fresh connection of `srv`, then returns SLOWLOG GET -1, masked.
fn slowlog_after(srv: &Server, run: &dyn Fn(&mut Raw)) -> Vec<Reply> {
    let mut c = srv.raw();
    s(&mut c, "CONFIG SET slowlog-log-slower-than 0");
    s(&mut c, "SLOWLOG RESET");
    run(&mut c);
    let r = s(&mut c, "SLOWLOG GET -1");
    s(&mut c, "CONFIG SET slowlog-log-slower-than 10000");
    masked_slowlog(&r)
}

#[test]
fn slowlog_entries_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let script = |c: &mut Raw| {
        s(c, "CLIENT SETNAME obs");
        s(c, "SET k v");
        s(c, "GET k");
        let long = vec![b'x'; 300];
        cmd(c, &[b"SET", b"big", &long]);
        let mut many: Vec<Vec<u8>> = vec![b"RPUSH".to_vec(), b"l".to_vec()];
        many.extend((0..40).map(|i| format!("e{i}").into_bytes()));
        let refs: Vec<&[u8]> = many.iter().map(|v| v.as_slice()).collect();
        cmd(c, &refs);
        // Exactly 32 arguments: kept whole.
        let refs32: Vec<&[u8]> = many.iter().take(32).map(|v| v.as_slice()).collect();
        cmd(c, &refs32);
        s(c, "MULTI");
        s(c, "SET a 1");
        s(c, "GET a");
        s(c, "EXEC");
        c.cmd_str(&[
            "EVAL",
            "redis.call('set','b',2) return redis.call('get','b')",
            "0",
        ]);
        s(c, "AUTH secret");
        s(c, "AUTH someone secret");
        s(c, "HELLO 2 AUTH default pw SETNAME x");
        s(c, "CONFIG SET requirepass pw2 maxmemory-clients 0");
        s(c, "AUTH pw2");
        s(c, "CONFIG SET requirepass");
        // Redis logs no blocked command that timed out.
        s(c, "BLPOP nokey 0.01");
        s(c, "NOSUCHCOMMAND a");
        s(c, "SLOWLOG LEN");
    };
    let a = slowlog_after(&ours, &script);
    let b = slowlog_after(&redis, &script);
    assert!(a.len() > 15, "{a:#?}");
    assert_eq!(a, b, "\nringkv: {a:#?}\nredis: {b:#?}");
}

#[test]
fn slowlog_takes_a_served_blocked_command() {
    for srv in [Server::start(&[]), Server::start_redis(&[])] {
        let mut c = srv.raw();
        s(&mut c, "CONFIG SET slowlog-log-slower-than 0");
        s(&mut c, "SLOWLOG RESET");
        let mut b = srv.raw();
        b.send(&common::encode(&[b"BLPOP", b"q", b"5"]));
        wait_for("blocked", || {
            let mut x = srv.raw();
            matches!(x.cmd_str(&["INFO", "clients"]), Reply::Bulk(Some(t)) if String::from_utf8_lossy(&t).contains("blocked_clients:1"))
        });
        s(&mut c, "LPUSH q 1");
        assert_eq!(items(&b.read_reply()).len(), 2);
        let log = masked_slowlog(&s(&mut c, "SLOWLOG GET 2"));
        let first = items(&log[0]);
        assert_eq!(
            first[0],
            Reply::Array(Some(vec![
                Reply::bulk(b"BLPOP"),
                Reply::bulk(b"q"),
                Reply::bulk(b"5")
            ])),
            "{}",
            srv.bin
        );
    }
}

#[test]
fn slowlog_len_limit_threshold_and_errors() {
    for srv in [
        Server::start(&["--slowlog-max-len", "3"]),
        Server::start_redis(&["--slowlog-max-len", "3"]),
    ] {
        let mut c = srv.raw();
        assert_eq!(
            s(&mut c, "CONFIG GET slowlog-max-len"),
            Reply::Array(Some(vec![
                Reply::bulk(b"slowlog-max-len"),
                Reply::bulk(b"3")
            ]))
        );
        s(&mut c, "CONFIG SET slowlog-log-slower-than 0");
        for i in 0..10 {
            s(&mut c, &format!("SET k{i} v"));
        }
        assert_eq!(s(&mut c, "SLOWLOG LEN"), Reply::Int(3));
        let got = items(&s(&mut c, "SLOWLOG GET 2"));
        assert_eq!(got.len(), 2);
        let ids: Vec<Reply> = got.iter().map(|e| items(e)[0].clone()).collect();
        let (Reply::Int(x), Reply::Int(y)) = (&ids[0], &ids[1]) else {
            panic!()
        };
        assert_eq!(*x, y + 1);
        assert_eq!(items(&s(&mut c, "SLOWLOG GET 0")).len(), 0);
        assert!(s(&mut c, "SLOWLOG GET -2").is_error());
        assert_eq!(
            s(&mut c, "SLOWLOG GET x"),
            Reply::Error("ERR count should be greater than or equal to -1".into())
        );
        assert_eq!(
            s(&mut c, "SLOWLOG GeT 1 2"),
            Reply::Error(
                "ERR unknown subcommand or wrong number of arguments for 'GeT'. Try SLOWLOG HELP."
                    .into()
            )
        );
        assert!(s(&mut c, "CONFIG SET slowlog-log-slower-than -2").is_error());
        assert!(s(&mut c, "CONFIG SET slowlog-max-len -1").is_error());
        // Off: nothing more is logged, and RESET empties.
        s(&mut c, "CONFIG SET slowlog-log-slower-than -1");
        s(&mut c, "SLOWLOG RESET");
        s(&mut c, "SET x y");
        assert_eq!(s(&mut c, "SLOWLOG LEN"), Reply::Int(0));
        // A shorter log keeps the newest.
        s(&mut c, "CONFIG SET slowlog-log-slower-than 0");
        for i in 0..3 {
            s(&mut c, &format!("SET k{i} v"));
        }
        s(&mut c, "CONFIG SET slowlog-max-len 1");
        assert_eq!(s(&mut c, "SLOWLOG LEN"), Reply::Int(1));
        let help = items(&s(&mut c, "SLOWLOG HELP"));
        assert_eq!(help.len(), 12, "{}", srv.bin);
    }
}

/// Waits (bounded) until `f` holds.
fn wait_for(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A monitor line with its timestamp and client port masked.
fn mask_monitor_line(line: &str) -> String {
    let (ts, rest) = line.split_once(' ').expect("timestamp");
    let (secs, micros) = ts
        .trim_start_matches('+')
        .split_once('.')
        .expect("seconds.micros");
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{line}");
    let (addr, args) = rest.split_once("] ").expect("address");
    let addr = match addr.rsplit_once(':') {
        Some((ip, _)) if ip.contains("127.0.0.1") => format!("{ip}:PORT"),
        _ => addr.to_string(),
    };
    format!("T {addr}] {args}")
}

/// MONITOR lines (masked) seen while `run` runs on another connection, up to ECHO "end".
fn monitor_lines(srv: &Server, run: &dyn Fn(&mut Raw)) -> Vec<String> {
    let mut m = srv.raw();
    assert_eq!(s(&mut m, "MONITOR"), Reply::ok());
    let mut c = srv.raw();
    run(&mut c);
    s(&mut c, "ECHO end");
    let mut out = Vec::new();
    loop {
        let Reply::Status(line) = m.read_reply() else {
            panic!("monitor sent a non-status reply")
        };
        let line = mask_monitor_line(&line);
        if line.ends_with("\"ECHO\" \"end\"") {
            return out;
        }
        out.push(line);
    }
}

#[test]
fn monitor_lines_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let script = |c: &mut Raw| {
        cmd(c, &[b"SET", b"a b", b"x\"y\\\n\r\t\x07\x08\x01\xff"]);
        s(c, "MULTI");
        s(c, "SET m 1");
        s(c, "GET m");
        s(c, "EXEC");
        c.cmd_str(&[
            "EVAL",
            "redis.call('select',5) redis.call('set','x',1)",
            "0",
        ]);
        s(c, "EVALSHA 0000000000000000000000000000000000000000 0");
        s(c, "AUTH secret");
        s(c, "HELLO 2 AUTH default pw");
        s(c, "CONFIG GET maxmemory");
        s(c, "CLIENT LIST");
        s(c, "SLOWLOG LEN");
        s(c, "SELECT 3");
        s(c, "GET x");
        s(c, "NOSUCH");
        s(c, "GET");
        s(c, "BLPOP nokey 0.01");
        s(c, "SELECT 0");
    };
    let a = monitor_lines(&ours, &script);
    let b = monitor_lines(&redis, &script);
    assert!(a.len() > 10, "{a:#?}");
    assert_eq!(a, b);
}

#[test]
fn a_monitor_is_refused_the_keyspace_and_leaves_with_reset() {
    for srv in [Server::start(&[]), Server::start_redis(&[])] {
        let mut m = srv.raw();
        assert_eq!(s(&mut m, "MONITOR"), Reply::ok());
        assert_eq!(
            s(&mut m, "GET x"),
            Reply::Error("ERR Replica can't interact with the keyspace".into())
        );
        assert_eq!(s(&mut m, "PING"), Reply::Status("PONG".into()));
        // Its own PING is fed to it after the reply.
        let Reply::Status(own) = m.read_reply() else {
            panic!()
        };
        assert!(own.ends_with("\"PING\""), "{own}");
        let Reply::Bulk(Some(info)) = s(&mut m, "CLIENT INFO") else {
            panic!()
        };
        assert!(
            String::from_utf8_lossy(&info).contains(" flags=O "),
            "{}",
            srv.bin
        );
        let Reply::Status(own) = m.read_reply() else {
            panic!()
        };
        assert!(own.ends_with("\"CLIENT\" \"INFO\""), "{own}");
        assert_eq!(s(&mut m, "RESET"), Reply::Status("RESET".into()));
        assert_eq!(s(&mut m, "GET x"), Reply::Bulk(None));
        // Inside a transaction: refused when EXEC runs it.
        s(&mut m, "MULTI");
        s(&mut m, "MONITOR");
        let r = items(&s(&mut m, "EXEC"));
        assert_eq!(
            r,
            vec![Reply::Error(
                "ERR MONITOR isn't allowed for DENY BLOCKING client".into()
            )]
        );
    }
}

#[test]
fn a_monitor_that_does_not_read_is_disconnected() {
    let srv = Server::start(&["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let mut m = srv.raw();
    assert_eq!(s(&mut m, "MONITOR"), Reply::ok());
    let mut c = srv.raw();
    let big = vec![b'v'; 64 * 1024];
    // ~16 MB of lines, far past the limit and the socket buffers; the monitor reads nothing.
    for _ in 0..256 {
        cmd(&mut c, &[b"SET", b"k", &big]);
    }
    wait_for("the monitor's disconnection", || {
        let mut x = srv.raw();
        matches!(x.cmd_str(&["CLIENT", "LIST"]), Reply::Bulk(Some(t)) if String::from_utf8_lossy(&t).lines().count() == 2)
    });
    assert!(m.wait_closed(Duration::from_secs(5)));
}

#[test]
fn redis_cli_monitor_against_ringkv() {
    let srv = Server::start(&[]);
    let mut child = std::process::Command::new("redis-cli")
        .args(["-p", &srv.port.to_string(), "monitor"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("redis-cli");
    let mut c = srv.raw();
    wait_for("the monitor", || {
        let mut x = srv.raw();
        matches!(x.cmd_str(&["CLIENT", "LIST"]), Reply::Bulk(Some(t)) if String::from_utf8_lossy(&t).contains("flags=O"))
    });
    s(&mut c, "SET greeting hello");
    s(&mut c, "QUIT");
    std::thread::sleep(Duration::from_millis(200));
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("OK"), "{text}");
    let set = lines
        .find(|l| l.contains("\"SET\""))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(set.ends_with("\"SET\" \"greeting\" \"hello\""), "{set}");
    assert!(set.contains(" [0 127.0.0.1:"), "{set}");
}

/// Sends `line` on `c` and says whether its reply arrives within `within`.
fn answered_within(c: &mut Raw, line: &str, within: Duration) -> Option<Reply> {
    let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    c.send(&common::encode(&args));
    c.set_read_timeout(within);
    let r = c.try_read_reply().ok();
    c.set_read_timeout(Duration::from_secs(10));
    r
}

#[test]
fn client_pause_write_holds_writes_and_serves_reads() {
    for srv in [Server::start(&[]), Server::start_redis(&[])] {
        let mut admin = srv.raw();
        let mut c = srv.raw();
        s(&mut c, "SET k v");
        assert_eq!(s(&mut admin, "CLIENT PAUSE 20000 WRITE"), Reply::ok());
        let quick = Duration::from_millis(300);
        assert_eq!(
            answered_within(&mut c, "GET k", quick),
            Some(Reply::bulk(b"v")),
            "{}",
            srv.bin
        );
        let mut w = srv.raw();
        assert_eq!(
            answered_within(&mut w, "SET k v2", quick),
            None,
            "{}: a write ran during the pause",
            srv.bin
        );
        let mut p = srv.raw();
        assert_eq!(
            answered_within(&mut p, "PUBLISH ch m", quick),
            None,
            "{}",
            srv.bin
        );
        let mut e = srv.raw();
        e.send(&common::encode(&[b"EVAL", b"return 1", b"0"]));
        e.set_read_timeout(quick);
        assert!(
            e.try_read_reply().is_err(),
            "{}: a script ran during the pause",
            srv.bin
        );
        e.set_read_timeout(Duration::from_secs(10));
        c.cmd_str(&["EVAL", "#!lua flags=no-writes\nreturn 2", "0"]);
        // A read after the held write on the same connection waits behind it.
        w.send(&common::encode(&[b"GET", b"k"]));
        assert_eq!(s(&mut c, "GET k"), Reply::bulk(b"v"));
        assert_eq!(s(&mut admin, "CLIENT UNPAUSE"), Reply::ok());
        assert_eq!(w.read_reply(), Reply::ok());
        assert_eq!(w.read_reply(), Reply::bulk(b"v2"));
        assert_eq!(p.read_reply(), Reply::Int(0));
        assert_eq!(e.read_reply(), Reply::Int(1));
    }
}

#[test]
fn client_pause_all_holds_everything_until_it_ends() {
    for srv in [Server::start(&[]), Server::start_redis(&[])] {
        let mut admin = srv.raw();
        let t0 = Instant::now();
        assert_eq!(s(&mut admin, "CLIENT PAUSE 400"), Reply::ok());
        let mut c = srv.raw();
        assert_eq!(s(&mut c, "PING"), Reply::Status("PONG".into()));
        let waited = t0.elapsed();
        assert!(
            waited >= Duration::from_millis(300),
            "{}: waited {waited:?}",
            srv.bin
        );
        assert!(
            waited < Duration::from_secs(3),
            "{}: waited {waited:?}",
            srv.bin
        );
        for (line, want) in [
            (
                "CLIENT PAUSE abc",
                "ERR timeout is not an integer or out of range",
            ),
            ("CLIENT PAUSE -1", "ERR timeout is negative"),
            (
                "CLIENT PAUSE 10 foo",
                "ERR CLIENT PAUSE mode must be WRITE or ALL",
            ),
            (
                "CLIENT PAUSE 10 write x",
                "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.",
            ),
            ("CLIENT REPLY foo", "ERR syntax error"),
        ] {
            assert_eq!(s(&mut c, line), Reply::Error(want.into()), "{}", srv.bin);
        }
    }
}

#[test]
fn client_reply_off_and_skip() {
    for srv in [Server::start(&[]), Server::start_redis(&[])] {
        let mut c = srv.raw();
        c.send(&common::encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
        c.send(&common::encode(&[b"SET", b"a", b"1"]));
        assert_eq!(s(&mut c, "GET a"), Reply::bulk(b"1"), "{}", srv.bin);
        c.send(&common::encode(&[b"CLIENT", b"REPLY", b"OFF"]));
        c.send(&common::encode(&[b"SET", b"a", b"2"]));
        c.send(&common::encode(&[b"GET", b"a"]));
        c.send(&common::encode(&[b"NOSUCH"]));
        c.send(&common::encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
        assert_eq!(s(&mut c, "CLIENT REPLY ON"), Reply::ok(), "{}", srv.bin);
        assert_eq!(s(&mut c, "GET a"), Reply::bulk(b"2"));
    }
}

/// The field names of a CLIENT LIST / INFO line, in order.
fn field_names(r: &Reply) -> Vec<String> {
    let Reply::Bulk(Some(t)) = r else {
        panic!("{r:?}")
    };
    let t = String::from_utf8_lossy(t);
    let line = t.lines().next().expect("a line");
    line.split(' ')
        .map(|f| f.split_once('=').expect("name=value").0.to_string())
        .collect()
}

#[test]
fn client_help_list_fields_and_kill_filters_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let run = |srv: &Server| -> Vec<Reply> {
        let mut c = srv.raw();
        let mut other = srv.raw();
        let mut sub = srv.raw();
        s(&mut sub, "SUBSCRIBE ch");
        let Reply::Int(other_id) = s(&mut other, "CLIENT ID") else {
            panic!()
        };
        let mut out = vec![
            s(&mut c, "CLIENT HELP"),
            Reply::Array(Some(
                field_names(&s(&mut c, "CLIENT INFO"))
                    .into_iter()
                    .map(|f| Reply::bulk(f.as_bytes()))
                    .collect(),
            )),
            Reply::Array(Some(
                field_names(&s(&mut c, "CLIENT LIST"))
                    .into_iter()
                    .map(|f| Reply::bulk(f.as_bytes()))
                    .collect(),
            )),
            s(&mut c, "CLIENT LIST TYPE nosuch"),
            s(&mut c, "CLIENT LIST ID 0"),
            s(&mut c, "CLIENT KILL TYPE master"),
            s(&mut c, "CLIENT KILL TYPE bogus"),
            s(&mut c, "CLIENT KILL USER nobody"),
            s(&mut c, "CLIENT KILL ID 0"),
            s(&mut c, "CLIENT KILL ADDR 1.2.3.4:5"),
            s(&mut c, "CLIENT KILL LADDR 1.2.3.4:5"),
            s(&mut c, "CLIENT KILL SKIPME maybe"),
            s(&mut c, "CLIENT KILL 1.2.3.4:5"),
            s(&mut c, "CLIENT KILL ID"),
            s(&mut c, "CLIENT KILL TYPE pubsub"),
            s(&mut c, &format!("CLIENT KILL ID {other_id} SKIPME yes")),
            s(&mut c, "CLIENT KILL TYPE normal SKIPME yes"),
        ];
        let Reply::Bulk(Some(t)) = s(&mut c, "CLIENT LIST") else {
            panic!()
        };
        out.push(Reply::Int(
            String::from_utf8_lossy(&t).lines().count() as i64
        ));
        out.push(s(&mut c, "CLIENT KILL USER default SKIPME no"));
        out
    };
    let a = run(&ours);
    let b = run(&redis);
    assert_eq!(a, b);
}
