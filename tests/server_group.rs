//! The rest of the server group against redis-server 7.0.15, in RESP2 and RESP3: LOLWUT
//! (the version line, VERSION and its errors; ringkv's own art for VERSION 5 and 6), MODULE
//! (LIST empty, HELP, the failures of LOAD/LOADEX/UNLOAD), CONFIG HELP, and the DEBUG
//! subcommands test suites use: PROTOCOL (every type), SET-ACTIVE-EXPIRE, STRINGMATCH-TEST,
//! LISTPACK, CHANGE-REPL-ID.

mod common;

use common::{raw_pair as conns, same_reply as same, Raw, Reply, Server};
use std::time::Duration;

fn pair() -> (Server, Server) {
    (
        // With MODULE LOAD/UNLOAD allowed, Redis's failures are the ones ringkv's mirror.
        Server::start(&[
            "--enable-debug-command",
            "yes",
            "--enable-module-command",
            "yes",
        ]),
        Server::start_redis(&[
            "--enable-debug-command",
            "yes",
            "--enable-module-command",
            "yes",
        ]),
    )
}

fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Verbatim { text, .. } => String::from_utf8_lossy(text).into_owned(),
        Reply::Status(s) => s.clone(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[test]
fn lolwut_answers_the_version_line_as_redis() {
    let (ours, redis) = pair();
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        for args in [
            &["LOLWUT"][..],
            &["LOLWUT", "VERSION", "1"],
            &["LOLWUT", "VERSION", "7"],
            &["LOLWUT", "version", "-3"],
            &["LOLWUT", "VERSION", "x"],
            &["LOLWUT", "VERSION"],
            &["LOLWUT", "foo"],
            &["LOLWUT", "VERSION", "5", "x"],
            &["LOLWUT", "VERSION", "6", "1", "y"],
        ] {
            same(&mut a, &mut b, args);
        }
        assert_eq!(text(&a.cmd_str(&["LOLWUT"])), "Redis ver. 7.0.15\n");
        // Versions 5 and 6: art of the asked size, then the same last line.
        for (args, rows) in [
            (&["LOLWUT", "VERSION", "6", "30", "4"][..], 4),
            (&["LOLWUT", "VERSION", "5", "20", "3"], 3),
            (&["LOLWUT", "VERSION", "6", "0", "0"], 1),
            (&["LOLWUT", "VERSION", "6", "5000", "2"], 2),
        ] {
            let ours_art = text(&a.cmd_str(args));
            let redis_art = text(&b.cmd_str(args));
            assert!(redis_art.ends_with(" Redis ver. 7.0.15\n"), "{redis_art}");
            assert!(ours_art.ends_with(" Redis ver. 7.0.15\n"), "{ours_art}");
            let lines: Vec<&str> = ours_art.lines().collect();
            assert_eq!(lines.len(), rows + 2, "{args:?}: {ours_art}");
            assert!(lines[..rows].iter().all(|l| l.len() <= 1000));
            if rows > 2 {
                assert!(ours_art.contains('#'), "{ours_art}");
            }
        }
    }
}

/// `enable-module-command no` (the default): LOAD, LOADEX and UNLOAD get Redis's refusal,
/// LIST and HELP still answer; `local` allows a loopback client.
#[test]
fn module_loading_is_protected_as_in_redis() {
    for setting in ["no", "local"] {
        let ours = Server::start(&["--enable-module-command", setting]);
        let redis = Server::start_redis(&["--enable-module-command", setting]);
        let (mut a, mut b) = (ours.raw(), redis.raw());
        for args in [
            &["MODULE", "LIST"][..],
            &["MODULE", "UNLOAD", "x"],
            &["CONFIG", "GET", "enable-module-command"],
            &["CONFIG", "SET", "enable-module-command", "yes"],
        ] {
            same(&mut a, &mut b, args);
        }
        let refused = a.cmd_str(&["MODULE", "LOAD", "/tmp/x.so"]);
        assert_eq!(
            refused.is_error() && format!("{refused:?}").contains("not allowed"),
            setting == "no",
            "{refused:?}"
        );
    }
}

#[test]
fn module_commands_match_redis_and_say_modules_are_not_supported() {
    let (ours, redis) = pair();
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        assert_eq!(
            same(&mut a, &mut b, &["MODULE", "LIST"]),
            Reply::Array(Some(vec![]))
        );
        for args in [
            &["MODULE", "HELP"][..],
            &["MODULE"],
            &["MODULE", "LIST", "x"],
            &["MODULE", "LOAD"],
            &["MODULE", "UNLOAD"],
            &["MODULE", "UNLOAD", "a", "b"],
            &["MODULE", "NOSUCH"],
            &["CONFIG", "HELP"],
        ] {
            same(&mut a, &mut b, args);
        }
        same(&mut a, &mut b, &["MODULE", "UNLOAD", "x"]);
        // Redis fails to load the file; ringkv says why it cannot load any.
        for args in [
            &["MODULE", "LOAD", "/tmp/x.so"][..],
            &[
                "MODULE",
                "LOADEX",
                "/tmp/x.so",
                "CONFIG",
                "a",
                "b",
                "ARGS",
                "c",
            ],
        ] {
            assert_eq!(
                a.cmd_str(args),
                Reply::Error(
                    "ERR Error loading the extension. ringkv does not support modules.".into()
                )
            );
        }
        assert_eq!(
            a.cmd_str(&["MODULE", "UNLOAD", "x"]),
            Reply::Error("ERR Error unloading module: no such module with that name".into())
        );
    }
}

#[test]
fn debug_protocol_gives_every_type_as_redis() {
    let (ours, redis) = pair();
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        for t in [
            "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
            "push", "verbatim", "true", "false", "nosuch", "STRING",
        ] {
            same(&mut a, &mut b, &["DEBUG", "PROTOCOL", t]);
            if t == "push" && resp3 {
                // The push frame came first; the real reply follows it.
                same(&mut a, &mut b, &["PING"]);
            }
        }
        same(&mut a, &mut b, &["DEBUG", "PROTOCOL"]);
    }
    // Raw bytes of the RESP3 types the reply parser folds (bignum, attribute).
    let (mut a, mut b) = conns(&ours, &redis, true);
    for t in ["bignum", "attrib", "map", "double"] {
        let cmd = format!(
            "*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n${}\r\n{t}\r\n",
            t.len()
        );
        let mut got = Vec::new();
        for c in [&mut a, &mut b] {
            c.send(cmd.as_bytes());
            let r = c.read_reply();
            got.push(r);
        }
        assert_eq!(got[0], got[1], "{t}");
    }
}

#[test]
fn debug_set_active_expire_stops_and_restarts_background_expiry() {
    let (ours, redis) = pair();
    let (mut a, mut b) = conns(&ours, &redis, false);
    for c in [&mut a, &mut b] {
        assert_eq!(c.cmd_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), Reply::ok());
        for i in 0..20 {
            c.cmd_str(&["SET", &format!("k{i}"), "v", "PX", "20"]);
        }
    }
    std::thread::sleep(Duration::from_millis(400));
    // Nobody touched the keys, and nothing expires them in the background.
    assert_eq!(same(&mut a, &mut b, &["DBSIZE"]), Reply::Int(20));
    for c in [&mut a, &mut b] {
        assert_eq!(c.cmd_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), Reply::ok());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    for c in [&mut a, &mut b] {
        while c.cmd_str(&["DBSIZE"]) != Reply::Int(0) {
            assert!(
                std::time::Instant::now() < deadline,
                "keys not expired in the background"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for args in [
        &["DEBUG", "SET-ACTIVE-EXPIRE"][..],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "1", "2"],
        &["DEBUG", "STRINGMATCH-TEST"],
        &["DEBUG", "STRINGMATCH-TEST", "x"],
        &["DEBUG", "CHANGE-REPL-ID"],
        &["DEBUG", "CHANGE-REPL-ID", "x"],
    ] {
        same(&mut a, &mut b, args);
    }
}

#[test]
fn debug_listpack_tells_listpack_values_apart_as_redis() {
    let (ours, redis) = pair();
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        for line in [
            "HSET h a 1 b 2",
            "ZADD z 1 m 2 n",
            "RPUSH l a b c",
            "SET s 1",
            "SADD set 1 2",
        ] {
            let args: Vec<&str> = line.split(' ').collect();
            same(&mut a, &mut b, &args);
        }
        for key in ["h", "z", "l", "s", "set", "nosuch"] {
            same(&mut a, &mut b, &["DEBUG", "LISTPACK", key]);
        }
        same(&mut a, &mut b, &["DEBUG", "LISTPACK"]);
        same(&mut a, &mut b, &["FLUSHALL"]);
    }
}

fn expired_keys(c: &mut Raw) -> String {
    let info = text(&c.cmd_str(&["INFO", "stats"]));
    info.split("\r\n")
        .find_map(|l| l.strip_prefix("expired_keys:"))
        .unwrap()
        .to_string()
}

#[test]
fn client_pause_keeps_expired_keys_until_it_ends_as_redis() {
    let (ours, redis) = pair();
    for kind in ["WRITE", "ALL"] {
        let (mut a, mut b) = conns(&ours, &redis, false);
        // A monitor-free reader that is not paused under WRITE; under ALL it waits, so the
        // reads then run from the pausing client's point of view after UNPAUSE.
        for c in [&mut a, &mut b] {
            c.cmd_str(&["FLUSHALL"]);
            c.cmd_str(&["CONFIG", "RESETSTAT"]);
            c.cmd_str(&["SET", "k", "v", "PX", "50"]);
            c.cmd_str(&["SET", "other", "1"]);
            assert_eq!(c.cmd_str(&["CLIENT", "PAUSE", "5000", kind]), Reply::ok());
        }
        std::thread::sleep(Duration::from_millis(300));
        if kind == "WRITE" {
            // Reads are served: the key looks gone, but nothing is deleted.
            assert_eq!(same(&mut a, &mut b, &["GET", "k"]), Reply::Bulk(None));
            assert_eq!(same(&mut a, &mut b, &["EXISTS", "k"]), Reply::Int(0));
            assert_eq!(same(&mut a, &mut b, &["DBSIZE"]), Reply::Int(2));
            assert_eq!(expired_keys(&mut a), "0");
            assert_eq!(expired_keys(&mut b), "0");
        }
        for c in [&mut a, &mut b] {
            assert_eq!(c.cmd_str(&["CLIENT", "UNPAUSE"]), Reply::ok());
        }
        // Unpaused: the next lookup deletes it.
        assert_eq!(same(&mut a, &mut b, &["GET", "k"]), Reply::Bulk(None));
        assert_eq!(same(&mut a, &mut b, &["DBSIZE"]), Reply::Int(1));
        assert_eq!(expired_keys(&mut a), expired_keys(&mut b), "{kind}");
    }
}

#[test]
fn client_reply_off_still_delivers_pubsub_pushes_as_redis_7_0() {
    let (ours, redis) = pair();
    for srv in [&ours, &redis] {
        let mut sub = srv.raw();
        let mut publisher = srv.raw();
        assert!(matches!(sub.cmd_str(&["HELLO", "3"]), Reply::Map(_)));
        assert!(matches!(sub.cmd_str(&["SUBSCRIBE", "ch"]), Reply::Push(_)));
        sub.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n");
        assert_eq!(
            publisher.cmd_str(&["PUBLISH", "ch", "m1"]),
            Reply::Int(1),
            "{}",
            srv.bin
        );
        // No +OK for CLIENT REPLY OFF, but the message arrives (Redis 7.0.15 pushes it).
        assert_eq!(
            sub.read_reply(),
            Reply::Push(vec![
                Reply::Bulk(Some(b"message".to_vec())),
                Reply::Bulk(Some(b"ch".to_vec())),
                Reply::Bulk(Some(b"m1".to_vec())),
            ]),
            "{}",
            srv.bin
        );
        sub.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n");
        assert_eq!(sub.read_reply(), Reply::ok(), "{}", srv.bin);
    }
}

#[test]
fn client_reply_off_and_skip_keep_subscribe_confirmations_and_invalidations() {
    let (ours, redis) = pair();
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        let mut got: Vec<Vec<Reply>> = Vec::new();
        for c in [&mut a, &mut b] {
            let mut seen = Vec::new();
            c.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n");
            // Dropped: the reply of a plain command and of a refused SUBSCRIBE.
            c.send(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$9\r\nSUBSCRIBE\r\n");
            // Kept: the confirmations.
            c.send(b"*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n");
            seen.push(c.read_reply());
            seen.push(c.read_reply());
            c.send(b"*2\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\na\r\n");
            seen.push(c.read_reply());
            if resp3 {
                // SKIP: the next reply is dropped, not a confirmation.
                c.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n");
                seen.push(c.read_reply());
                c.send(b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n");
                c.send(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n");
                seen.push(c.read_reply());
                c.send(b"*1\r\n$4\r\nPING\r\n");
                seen.push(c.read_reply());
            }
            got.push(seen);
        }
        assert_eq!(got[0], got[1], "resp3 {resp3}");
    }
}

/// `name=value` pairs of one CLIENT LIST/INFO line.
fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or_else(|| panic!("{line}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn client_info_fields_and_kill_filters_match_redis() {
    let (ours, redis) = pair();
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        // The caller's own line.
        let la = fields(text(&a.cmd_str(&["CLIENT", "INFO"])).trim_end());
        let lb = fields(text(&b.cmd_str(&["CLIENT", "INFO"])).trim_end());
        let names = |l: &[(String, String)]| l.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(names(&la), names(&lb), "CLIENT INFO field names");
        for k in [
            "argv-mem", "qbuf", "multi", "events", "obl", "oll", "cmd", "flags",
        ] {
            let va = &la.iter().find(|(n, _)| n == k).unwrap().1;
            let vb = &lb.iter().find(|(n, _)| n == k).unwrap().1;
            assert_eq!(va, vb, "CLIENT INFO {k} (resp3 {resp3})");
        }
        // Another client's line, in a transaction.
        let (mut x, mut y) = conns(&ours, &redis, resp3);
        let mut ids = Vec::new();
        for c in [&mut x, &mut y] {
            c.cmd_str(&["CLIENT", "SETNAME", "me"]);
            c.cmd_str(&["SELECT", "2"]);
            c.cmd_str(&["MULTI"]);
            c.cmd_str(&["GET", "x"]);
            c.cmd_str(&["GET", "y"]);
        }
        for c in [&mut a, &mut b] {
            let id = match c.cmd_str(&["CLIENT", "ID"]) {
                Reply::Int(n) => n + 1,
                other => panic!("{other:?}"),
            };
            ids.push(id.to_string());
        }
        let la = fields(text(&a.cmd_str(&["CLIENT", "LIST", "ID", &ids[0]])).trim_end());
        let lb = fields(text(&b.cmd_str(&["CLIENT", "LIST", "ID", &ids[1]])).trim_end());
        for c in [&mut x, &mut y] {
            c.cmd_str(&["DISCARD"]);
        }
        assert_eq!(names(&la), names(&lb), "CLIENT LIST field names");
        // Values that must agree: these do not depend on allocation or timing.
        for k in [
            "name", "db", "sub", "psub", "ssub", "multi", "argv-mem", "obl", "oll", "events",
            "cmd", "user", "redir", "resp", "flags",
        ] {
            let va = &la.iter().find(|(n, _)| n == k).unwrap().1;
            let vb = &lb.iter().find(|(n, _)| n == k).unwrap().1;
            assert_eq!(va, vb, "CLIENT INFO {k} (resp3 {resp3})");
        }
    }
    // Pub/Sub counts, TYPE and ID filters, KILL by every filter: same answers.
    let mut subs = Vec::new();
    for srv in [&ours, &redis] {
        let mut s = srv.raw();
        s.cmd_str(&["SUBSCRIBE", "c1", "c2"]);
        s.read_reply();
        s.send(b"*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n");
        s.read_reply();
        subs.push(s);
    }
    let (mut a, mut b) = conns(&ours, &redis, false);
    let pubsub_line = |c: &mut Raw| {
        let t = text(&c.cmd_str(&["CLIENT", "LIST", "TYPE", "pubsub"]));
        let l = fields(t.trim_end());
        ["sub", "psub", "flags", "cmd"]
            .iter()
            .map(|k| l.iter().find(|(n, _)| n == k).unwrap().clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(pubsub_line(&mut a), pubsub_line(&mut b));
    for args in [
        &["CLIENT", "LIST", "TYPE", "master"][..],
        &["CLIENT", "LIST", "TYPE", "replica"],
        &["CLIENT", "LIST", "TYPE", "nosuch"],
        &["CLIENT", "LIST", "ID", "x"],
        &["CLIENT", "LIST", "ID", "0", "-1"],
        &["CLIENT", "LIST", "FOO"],
        &["CLIENT", "KILL", "ID", "0"],
        &["CLIENT", "KILL", "ID", "999999"],
        &["CLIENT", "KILL", "TYPE", "master"],
        &["CLIENT", "KILL", "TYPE", "nosuch"],
        &["CLIENT", "KILL", "USER", "nosuch"],
        &["CLIENT", "KILL", "ADDR", "1.2.3.4:5"],
        &["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        &["CLIENT", "KILL", "ID"],
        &["CLIENT", "KILL", "1.2.3.4:5"],
        &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"],
        &["CLIENT", "KILL", "TYPE", "pubsub"],
        &["CLIENT", "KILL", "USER", "default", "SKIPME", "no"],
    ] {
        same(&mut a, &mut b, args);
    }
}

fn lazyfreed(c: &mut Raw) -> i64 {
    let info = text(&c.cmd_str(&["INFO", "memory"]));
    info.split("\r\n")
        .find_map(|l| l.strip_prefix("lazyfreed_objects:"))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn lazyfree_lazy_user_flush_makes_plain_flushes_asynchronous() {
    let (ours, redis) = pair();
    let (mut a, mut b) = conns(&ours, &redis, false);
    same(
        &mut a,
        &mut b,
        &["CONFIG", "GET", "lazyfree-lazy-user-flush"],
    );
    same(
        &mut a,
        &mut b,
        &["CONFIG", "SET", "lazyfree-lazy-user-flush", "maybe"],
    );
    let fill = |c: &mut Raw| {
        let mut cmd = vec!["MSET".to_string()];
        for i in 0..2000 {
            cmd.push(format!("key:{i}"));
            cmd.push("v".into());
        }
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        assert_eq!(c.cmd_str(&args), Reply::ok());
    };
    let wait_freed = |c: &mut Raw, want_more_than: i64| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while lazyfreed(c) <= want_more_than {
            assert!(std::time::Instant::now() < deadline, "never freed lazily");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    for c in [&mut a, &mut b] {
        fill(c);
        assert_eq!(c.cmd_str(&["FLUSHALL"]), Reply::ok());
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            lazyfreed(c),
            0,
            "a plain FLUSHALL frees in place by default"
        );
        assert_eq!(
            c.cmd_str(&["CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"]),
            Reply::ok()
        );
        fill(c);
        assert_eq!(c.cmd_str(&["FLUSHDB"]), Reply::ok());
        wait_freed(c, 0);
        let before = lazyfreed(c);
        fill(c);
        // SYNC still frees in place.
        assert_eq!(c.cmd_str(&["FLUSHALL", "SYNC"]), Reply::ok());
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(lazyfreed(c), before);
    }
}

#[test]
fn raw_resp_bytes_of_the_new_replies_match_redis() {
    let (ours, redis) = pair();
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        for cmd in [
            &b"*1\r\n$6\r\nLOLWUT\r\n"[..],
            b"*3\r\n$6\r\nLOLWUT\r\n$7\r\nVERSION\r\n$1\r\nx\r\n",
            b"*2\r\n$6\r\nMODULE\r\n$4\r\nLIST\r\n",
            b"*3\r\n$6\r\nMODULE\r\n$6\r\nUNLOAD\r\n$1\r\nx\r\n",
            b"*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\nbignum\r\n",
            b"*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\nattrib\r\n",
            b"*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$8\r\nverbatim\r\n",
            b"*2\r\n$6\r\nCONFIG\r\n$7\r\nREWRITE\r\n",
            b"*4\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$2\r\nHZ\r\n$2\r\nhz\r\n",
            b"*2\r\n$4\r\nINFO\r\n$7\r\nmodules\r\n",
            b"*2\r\n$4\r\nINFO\r\n$5\r\nnosuch\r\n",
        ] {
            a.send(cmd);
            b.send(cmd);
            assert_eq!(
                String::from_utf8_lossy(&a.read_reply_bytes()),
                String::from_utf8_lossy(&b.read_reply_bytes()),
                "{} resp3 {resp3}",
                String::from_utf8_lossy(cmd)
            );
        }
    }
}

/// `ql_nodes:N` of DEBUG OBJECT.
fn ql_nodes(c: &mut Raw, key: &str) -> String {
    let line = text(&c.cmd_str(&["DEBUG", "OBJECT", key]));
    line.split(' ')
        .find_map(|f| f.strip_prefix("ql_nodes:"))
        .unwrap_or_else(|| panic!("no ql_nodes in {line}"))
        .to_string()
}

#[test]
fn debug_quicklist_packed_threshold_puts_large_elements_alone_as_redis() {
    let (ours, redis) = pair();
    let (mut a, mut b) = conns(&ours, &redis, false);
    for v in ["abc", "5gb", "-1", "4097mb"] {
        same(&mut a, &mut b, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", v]);
    }
    same(&mut a, &mut b, &["DEBUG", "QUICKLIST-PACKED-THRESHOLD"]);
    let small = "s".repeat(10);
    let large = "L".repeat(200);
    // Threshold 100 bytes: large elements alone, small ones packed together.
    same(
        &mut a,
        &mut b,
        &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100b"],
    );
    for (i, v) in [
        &small, &small, &large, &small, &small, &large, &large, &small,
    ]
    .iter()
    .enumerate()
    {
        let cmd = if i % 3 == 0 { "LPUSH" } else { "RPUSH" };
        same(&mut a, &mut b, &[cmd, "l", v]);
    }
    assert_eq!(ql_nodes(&mut a, "l"), ql_nodes(&mut b, "l"));
    // Inserts next to and between large elements, replacements that turn an element large
    // or small, removals that let nodes merge.
    same(&mut a, &mut b, &["LINSERT", "l", "BEFORE", &large, &small]);
    same(&mut a, &mut b, &["LINSERT", "l", "AFTER", &large, &large]);
    same(&mut a, &mut b, &["LSET", "l", "1", &large]);
    same(&mut a, &mut b, &["LSET", "l", "-1", &small]);
    assert_eq!(ql_nodes(&mut a, "l"), ql_nodes(&mut b, "l"));
    same(&mut a, &mut b, &["LREM", "l", "0", &large]);
    same(&mut a, &mut b, &["LRANGE", "l", "0", "-1"]);
    assert_eq!(ql_nodes(&mut a, "l"), ql_nodes(&mut b, "l"));
    // 1 byte: every element is large.
    same(
        &mut a,
        &mut b,
        &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b"],
    );
    same(&mut a, &mut b, &["RPUSH", "m", "a", "b", "c", "d"]);
    assert_eq!(ql_nodes(&mut a, "m"), "4");
    assert_eq!(ql_nodes(&mut b, "m"), "4");
    // 0 restores the default: small elements are packed again.
    same(
        &mut a,
        &mut b,
        &["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
    );
    same(&mut a, &mut b, &["RPUSH", "n", "a", "b", "c", "d"]);
    assert_eq!(ql_nodes(&mut a, "n"), "1");
    assert_eq!(ql_nodes(&mut b, "n"), "1");
}
