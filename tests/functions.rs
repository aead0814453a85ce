//! Redis 7.0 functions (FUNCTION, FCALL, FCALL_RO) against redis-server 7.0.15: the same
//! commands go to both servers and the replies are compared byte for byte, on RESP2 and
//! RESP3 connections; payloads, RDB files and AOF files cross between the two.
//!
//! Redis lists libraries (and a library's functions) in the order of a hash table with a
//! random seed, so the comparisons list one single-function library at a time (LIBRARYNAME)
//! or compare replies after sorting.

mod common;

use common::files::TempDir;

use common::{Raw, Reply, Server};
use std::time::{Duration, Instant};

/// One ringkv and one redis-server, one connection to each.
struct Pair {
    _ours: Server,
    _redis: Server,
    o: Raw,
    r: Raw,
}

impl Pair {
    fn start(args: &[&str]) -> Pair {
        let ours = Server::start(args);
        let redis = Server::start_redis(args);
        let (o, r) = (ours.raw(), redis.raw());
        Pair {
            _ours: ours,
            _redis: redis,
            o,
            r,
        }
    }

    fn hello3(&mut self) {
        self.o.cmd_str(&["HELLO", "3"]);
        self.r.cmd_str(&["HELLO", "3"]);
    }

    /// Runs `args` on both and asserts the replies are the same bytes.
    #[track_caller]
    fn same(&mut self, args: &[&str]) -> Vec<u8> {
        let refs: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        let bytes = common::encode(&refs);
        self.o.send(&bytes);
        let ours = self.o.read_reply_bytes();
        self.r.send(&bytes);
        let redis = self.r.read_reply_bytes();
        assert_eq!(
            common::escape(&ours),
            common::escape(&redis),
            "replies differ for {args:?}"
        );
        redis
    }

    /// Runs `args` on both; both must succeed.
    #[track_caller]
    fn both(&mut self, args: &[&str]) {
        let o = self.o.cmd_str(args);
        let r = self.r.cmd_str(args);
        assert!(!o.is_error() && !r.is_error(), "{args:?}: {o:?} / {r:?}");
    }
}

/// A library named `lib` with one function `f` whose body is `body`.
fn lib(lib: &str, f: &str, body: &str) -> String {
    format!("#!lua name={lib}\nredis.register_function('{f}', function(keys, args)\n{body}\nend)")
}

/// The libraries of FUNCTION LIST WITHCODE as sorted (name, code) pairs.
fn libraries(c: &mut Raw) -> Vec<(String, String)> {
    let Reply::Array(Some(libs)) = c.cmd_str(&["FUNCTION", "LIST", "WITHCODE"]) else {
        panic!(
            "FUNCTION LIST: {:?}",
            c.cmd_str(&["FUNCTION", "LIST", "WITHCODE"])
        );
    };
    let mut out: Vec<(String, String)> = libs
        .iter()
        .map(|l| {
            let Reply::Array(Some(kv)) = l else {
                panic!("{l:?}")
            };
            let field = |name: &str| {
                let i = kv
                    .iter()
                    .position(|k| *k == Reply::bulk(name.as_bytes()))
                    .unwrap_or_else(|| panic!("{name} in {kv:?}"));
                match &kv[i + 1] {
                    Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
                    other => panic!("{other:?}"),
                }
            };
            (field("library_name"), field("library_code"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn load_list_delete_flush_stats_help() {
    let mut p = Pair::start(&[]);
    for resp3 in [false, true] {
        if resp3 {
            p.hello3();
        }
        p.same(&["FUNCTION", "FLUSH"]);
        p.same(&["FUNCTION", "LIST"]);
        p.same(&["FUNCTION", "STATS"]);
        p.same(&["FUNCTION", "HELP"]);
        p.same(&["FUNCTION", "LOAD", &lib("lib1", "f1", "return 1")]);
        p.same(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes', 'ALLOW-OOM', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}, description='the second'}",
        ]);
        p.same(&["FUNCTION", "LIST", "LIBRARYNAME", "lib1"]);
        p.same(&["FUNCTION", "LIST", "LIBRARYNAME", "LIB2", "WITHCODE"]);
        p.same(&["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "*2"]);
        p.same(&["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"]);
        p.same(&["FUNCTION", "STATS"]);
        p.same(&[
            "FUNCTION",
            "LOAD",
            "REPLACE",
            &lib("lib1", "f3", "return 3"),
        ]);
        p.same(&["FCALL", "f3", "0"]);
        p.same(&["FCALL", "f1", "0"]);
        p.same(&["FUNCTION", "DELETE", "lib1"]);
        p.same(&["FUNCTION", "DELETE", "lib1"]);
        p.same(&["FUNCTION", "STATS"]);
        p.same(&["INFO", "nosuchsection"]);
        p.same(&["FUNCTION", "FLUSH", "ASYNC"]);
        p.same(&["FUNCTION", "LIST"]);
        for bad in [
            &["FUNCTION", "LIST", "x"][..],
            &["FUNCTION", "LIST", "LIBRARYNAME"],
            &["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
            &["FUNCTION", "FLUSH", "x"],
            &["FUNCTION", "FLUSH", "a", "b"],
            &["FUNCTION", "DELETE"],
            &["FUNCTION", "LOAD"],
            &["FUNCTION", "LOAD", "foo", "x"],
            &["FUNCTION", "LOAD", "REPLACE", "REPLACE", "x"],
            &["FUNCTION", "RESTORE", "x", "bogus"],
            &["FUNCTION", "RESTORE", "a", "b", "c"],
            &["FUNCTION", "DUMP", "x"],
            &["FUNCTION", "STATS", "x"],
            &["FUNCTION", "NOSUCH"],
            &["FUNCTION"],
            &["FCALL"],
            &["FCALL", "f"],
        ] {
            p.same(bad);
        }
    }
    // FLUSHALL and SCRIPT FLUSH leave the libraries alone.
    p.same(&["FUNCTION", "LOAD", &lib("kept", "k", "return 'k'")]);
    p.same(&["FLUSHALL"]);
    p.same(&["SCRIPT", "FLUSH"]);
    p.same(&["FCALL", "k", "0"]);
    // INFO's function fields are there, counting the same functions.
    for c in [&mut p.o, &mut p.r] {
        let (Reply::Verbatim { text: info, .. } | Reply::Bulk(Some(info))) =
            c.cmd_str(&["INFO", "memory"])
        else {
            panic!("INFO");
        };
        let info = String::from_utf8_lossy(&info).into_owned();
        assert!(info.contains("number_of_functions:1\r\n"), "{info}");
        for field in [
            "used_memory_vm_functions:",
            "used_memory_vm_total:",
            "used_memory_functions:",
            "used_memory_scripts:",
        ] {
            assert!(info.contains(field), "{field} in {info}");
        }
    }
}

#[test]
fn library_load_errors() {
    let mut p = Pair::start(&[]);
    p.same(&["FUNCTION", "LOAD", &lib("lib1", "f1", "return 1")]);
    let cases = [
        lib("lib1", "x", "return 1"),
        lib("lib2", "f1", "return 1"),
        lib("lib2", "F1", "return 1"),
        "#!lua name=l\nredis.call('ping')".into(),
        "#!lua name=l\nlocal x = string.len('a')".into(),
        "#!lua name=l\na = 1".into(),
        "#!lua name=l\nredis.x = 1".into(),
        "#!lua name=l\nreturn 1".into(),
        "#!lua name=l x=y\nreturn 1".into(),
        "#!lua name=l name=m\nreturn 1".into(),
        "#!lua\nreturn 1".into(),
        "#!lua name=\nreturn 1".into(),
        "#!lua name=a-b\nreturn 1".into(),
        "#!luax name=ab\nreturn 1".into(),
        "#!LUA name=upper\nredis.register_function('up', function() return 1 end)".into(),
        "#!lua \"name=ab\nreturn 1".into(),
        "#!lua name=ab".into(),
        "lua name=ab".into(),
        "".into(),
        "#!lua name=ab\nredis.register_function('a-b', function() end)".into(),
        "#!lua name=ab\nredis.register_function('', function() end)".into(),
        "#!lua name=ab\nredis.register_function('a', function() end)\nredis.register_function('a', function() end)".into(),
        "#!lua name=ab\nredis.register_function('a')".into(),
        "#!lua name=ab\nredis.register_function(1, 2)".into(),
        "#!lua name=ab\nredis.register_function({}, function() end)".into(),
        "#!lua name=ab\nredis.register_function(1, 2, 3)".into(),
        "#!lua name=ab\nredis.register_function()".into(),
        "#!lua name=ab\nredis.register_function{function_name='a', callback=function() end, flags={'bogus'}}".into(),
        "#!lua name=ab\nredis.register_function{function_name='a', callback=function() end, flags={1}}".into(),
        "#!lua name=ab\nredis.register_function{function_name='a', callback=function() end, flags={{}}}".into(),
        "#!lua name=ab\nredis.register_function{function_name='a', callback=function() end, flags='no-writes'}".into(),
        "#!lua name=ab\nredis.register_function{function_name='a', callback=function() end, foo=1}".into(),
        "#!lua name=ab\nredis.register_function{callback=function() end}".into(),
        "#!lua name=ab\nredis.register_function{function_name='a'}".into(),
        "#!lua name=ab\nredis.register_function{function_name='a', callback=1}".into(),
        "#!lua name=ab\nredis.register_function{function_name={}, callback=function() end}".into(),
        "#!lua name=ab\nredis.register_function{function_name='a', callback=function() end, description={}}".into(),
        "#!lua name=ab\nredis.register_function{[1]='a'}".into(),
        "#!lua name=ab\nredis.register_function{[true]='a'}".into(),
        "#!lua name=ab\nredis.register_function(nil)".into(),
        "#!lua name=ab\nredis.register_function('x'".into(),
        "#!lua name=ab\nerror('boom')".into(),
        "#!lua name=ab\nredis.log(redis.LOG_WARNING, 'hi') redis.setresp(3)".into(),
        "#!lua name=ab\nlocal v = redis.REDIS_VERSION .. redis.REDIS_VERSION_NUM .. redis.LOG_DEBUG .. redis.LOG_NOTICE\nredis.register_function('v', function() return v end)".into(),
        "#!lua name=cd\nredis.register_function{function_name='Mixed_9', callback=function() return 9 end}".into(),
    ];
    for code in &cases {
        p.same(&["FUNCTION", "LOAD", code]);
    }
    p.same(&["FCALL", "v", "0"]);
    p.same(&["FCALL", "mixed_9", "0"]);
    p.same(&["FCALL", "UP", "0"]);
    p.same(&["FUNCTION", "STATS"]);
}

#[test]
fn fcall_results_errors_and_flags() {
    let mut p = Pair::start(&[]);
    let libs = [
        lib("echo", "echo", "return {keys, args}"),
        lib("w", "w", "return redis.call('set', keys[1], args[1])"),
        "#!lua name=ro\nredis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}\nredis.register_function{function_name='ro_writes', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}".into(),
        lib("errs", "boom", "error('oops')"),
        lib("errs2", "tbl", "return redis.error_reply('MY custom')"),
        lib("errs3", "callerr", "return redis.call('nosuchcommand')"),
        lib("errs4", "pcallerr", "return redis.pcall('incr', 'k')"),
        lib("errs5", "noglobal", "return KEYS"),
        lib("errs6", "setglobal", "x = 1"),
        lib("errs7", "noscript", "return redis.call('function', 'list')"),
        lib("errs8", "status", "return redis.status_reply('FINE')"),
        lib("reg", "reg", "return redis.register_function"),
        lib("resp3", "resp3", "redis.setresp(3) return redis.call('hgetall', keys[1])"),
        lib("types", "types", "return {1, 'two', 3.5, true, false, {nil}}"),
        lib("rand", "rand", "return math.random(1000)"),
        lib("sel", "sel", "redis.call('select', 2) return redis.call('set', 'db2key', '1')"),
    ];
    for code in &libs {
        p.both(&["FUNCTION", "LOAD", code]);
    }
    p.both(&["HSET", "h", "a", "1"]);
    p.both(&["SET", "k", "notanumber"]);
    for resp3 in [false, true] {
        if resp3 {
            p.hello3();
        }
        for cmd in [
            &["FCALL", "echo", "2", "a", "b", "c", "d"][..],
            &["FCALL", "ECHO", "0"],
            &["FCALL_RO", "echo", "0"],
            &["FCALL", "w", "1", "x", "1"],
            &["GET", "x"],
            &["FCALL_RO", "w", "1", "x", "2"],
            &["FCALL", "ro", "1", "x"],
            &["FCALL_RO", "ro", "1", "x"],
            &["FCALL", "ro_writes", "1", "x"],
            &["FCALL_RO", "ro_writes", "1", "x"],
            &["FCALL", "boom", "0"],
            &["FCALL", "tbl", "0"],
            &["FCALL", "callerr", "0"],
            &["FCALL", "pcallerr", "0"],
            &["FCALL", "noglobal", "0"],
            &["FCALL", "setglobal", "0"],
            &["FCALL", "noscript", "0"],
            &["FCALL", "status", "0"],
            &["FCALL", "reg", "0"],
            &["FCALL", "resp3", "1", "h"],
            &["FCALL", "types", "0"],
            &["FCALL", "rand", "0"],
            &["FCALL", "sel", "0"],
            &["FCALL", "nosuch", "0"],
            &["FCALL", "echo", "x"],
            &["FCALL", "echo", "3", "a"],
            &["FCALL", "echo", "-1"],
            &["FCALL", "nosuch", "x"],
            &["MULTI"],
            &["FCALL", "w", "1", "m", "1"],
            &["FCALL_RO", "ro", "1", "m"],
            &["EXEC"],
        ] {
            p.same(cmd);
        }
    }
    p.same(&["SELECT", "2"]);
    p.same(&["GET", "db2key"]);
    // commandstats count FCALL once and the function's commands each.
    p.same(&["CONFIG", "RESETSTAT"]);
    p.same(&["FCALL", "w", "1", "y", "1"]);
    p.same(&["FCALL", "boom", "0"]);
    for c in [&mut p.o, &mut p.r] {
        let (Reply::Verbatim { text: info, .. } | Reply::Bulk(Some(info))) =
            c.cmd_str(&["INFO", "commandstats"])
        else {
            panic!("INFO");
        };
        let info = String::from_utf8_lossy(&info).into_owned();
        assert!(info.contains("cmdstat_fcall:calls=2,"), "{info}");
        assert!(info.contains("cmdstat_set:calls=1,"), "{info}");
    }
}

/// A function flagged allow-oom runs over maxmemory; one without the flag is refused, as
/// is a write function while the function is flagged no-writes.
#[test]
fn oom_rules_follow_the_function_flags() {
    let mut p = Pair::start(&[]);
    p.both(&["FUNCTION", "LOAD", &lib("plain", "plain", "return 1")]);
    p.both(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=oom\nredis.register_function{function_name='oom', callback=function() return redis.call('set', 'o', '1') end, flags={'allow-oom'}}\nredis.register_function{function_name='nw', callback=function() return 2 end, flags={'no-writes'}}",
    ]);
    p.both(&["CONFIG", "SET", "maxmemory", "1"]);
    p.same(&["FCALL", "plain", "0"]);
    p.same(&["FCALL", "oom", "0"]);
    p.same(&["FCALL", "nw", "0"]);
    p.same(&["FCALL_RO", "nw", "0"]);
    p.same(&["FUNCTION", "LOAD", &lib("more", "more", "return 1")]);
    p.both(&["CONFIG", "SET", "maxmemory", "0"]);
}

/// FUNCTION DUMP's payload: Redis's RESTOREd by ringkv and ringkv's by Redis, every policy,
/// and bad payloads get Redis's errors.
#[test]
fn dump_and_restore_cross_both_ways() {
    let mut p = Pair::start(&[]);
    let a = lib("liba", "fa", "return 'a'");
    let long = lib(
        "libb",
        "fb",
        "local s = 'a long string that LZF compresses when it is repeated repeated repeated repeated' return s",
    );
    p.same(&["FUNCTION", "LOAD", &a]);
    p.same(&["FUNCTION", "LOAD", &long]);
    for (from, to) in [(0, 1), (1, 0)] {
        let (src, dst) = if from == 0 {
            (&mut p.o, &mut p.r)
        } else {
            (&mut p.r, &mut p.o)
        };
        let Reply::Bulk(Some(payload)) = src.cmd_str(&["FUNCTION", "DUMP"]) else {
            panic!("DUMP");
        };
        let before = libraries(src);
        assert_eq!(dst.cmd_str(&["FUNCTION", "FLUSH"]), Reply::ok());
        let restore = |c: &mut Raw, policy: &[u8]| {
            let mut args: Vec<&[u8]> = vec![b"FUNCTION", b"RESTORE", &payload];
            if !policy.is_empty() {
                args.push(policy);
            }
            c.cmd(&args)
        };
        assert_eq!(restore(dst, b""), Reply::ok());
        assert_eq!(libraries(dst), before, "restored {from} -> {to}");
        assert!(restore(dst, b"").is_error());
        assert!(restore(dst, b"APPEND").is_error());
        assert_eq!(restore(dst, b"REPLACE"), Reply::ok());
        assert_eq!(restore(dst, b"flush"), Reply::ok());
        assert_eq!(libraries(dst), before);
    }
    // Errors, the same on both: collisions, bad payloads.
    let Reply::Bulk(Some(good)) = p.r.cmd_str(&["FUNCTION", "DUMP"]) else {
        panic!("DUMP");
    };
    p.same(&["FUNCTION", "FLUSH"]);
    p.same(&["FUNCTION", "LOAD", &lib("other", "fa", "return 0")]);
    let mut send = |bytes: &[u8], policy: &str| {
        let args: Vec<&[u8]> = if policy.is_empty() {
            vec![b"FCALL", b"oldf", b"0"]
        } else {
            vec![b"FUNCTION", b"RESTORE", bytes, policy.as_bytes()]
        };
        let enc = common::encode(&args);
        p.o.send(&enc);
        p.r.send(&enc);
        let (o, r) = (p.o.read_reply_bytes(), p.r.read_reply_bytes());
        assert_eq!(common::escape(&o), common::escape(&r), "{bytes:?} {policy}");
    };
    send(&good, "APPEND");
    send(&good, "REPLACE");
    send(&good, "FLUSH");
    send(b"abc", "APPEND");
    send(b"0123456789abcdef", "APPEND");
    // A valid trailer around records that are not functions (a string value's type byte,
    // the pre-release function opcode, a truncated string).
    for body in [&b"\x00\x03abc"[..], b"\xf6\x03abc", b"\xf5\x40", b""] {
        send(&payload_of(body), "APPEND");
    }
    // The pre-release record of Redis 7.0's release candidates: name, engine, description.
    let code = b"\nredis.register_function('oldf', function() return 'old' end)";
    let mut old = b"\xf6\x03old\x03LUA\x01\x04desc".to_vec();
    old.push(code.len() as u8);
    old.extend_from_slice(code);
    send(&payload_of(&old), "APPEND");
    send(b"", "");
    // A payload from a newer RDB version.
    let mut newer = good.clone();
    let n = newer.len();
    newer[n - 10] = 11;
    send(&newer, "APPEND");
}

/// `body`, the RDB version 10 and its CRC-64: a payload Redis checks as valid.
fn payload_of(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&10u16.to_le_bytes());
    let crc = ringkv::persist::rdb::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

const LIB_A: &str = "#!lua name=pa\nredis.register_function('pa', function(keys, args) return redis.call('incr', keys[1]) end)";
const LIB_B: &str = "#!lua name=pb\nredis.register_function{function_name='pb', callback=function() return 'b' end, flags={'no-writes'}, description='persisted'}";

fn load_two(c: &mut Raw) {
    assert_eq!(c.cmd_str(&["FUNCTION", "LOAD", LIB_A]), Reply::bulk(b"pa"));
    assert_eq!(c.cmd_str(&["FUNCTION", "LOAD", LIB_B]), Reply::bulk(b"pb"));
}

fn expect_two(c: &mut Raw, what: &str) {
    // A server answers PING with LOADING while it loads its files.
    let deadline = Instant::now() + Duration::from_secs(10);
    while matches!(c.cmd_str(&["PING"]), Reply::Error(e) if e.starts_with("LOADING")) {
        assert!(Instant::now() < deadline, "{what}: still loading");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut want = vec![
        ("pa".to_string(), LIB_A.to_string()),
        ("pb".to_string(), LIB_B.to_string()),
    ];
    want.sort();
    assert_eq!(libraries(c), want, "{what}");
    assert_eq!(
        c.cmd_str(&["FCALL_RO", "pb", "0"]),
        Reply::bulk(b"b"),
        "{what}"
    );
}

/// Restarts ringkv in `dir` with `args` (the previous server is stopped first).
fn ringkv_in(dir: &TempDir, args: &[&str]) -> Server {
    let mut all = vec!["--dir", dir.s(), "--enable-debug-command", "yes"];
    all.extend_from_slice(args);
    Server::start(&all)
}

#[test]
fn functions_survive_debug_reload_and_restarts() {
    // DEBUG RELOAD, then an RDB restart.
    let dir = TempDir::new("rdb");
    {
        let s = ringkv_in(&dir, &[]);
        let mut c = s.raw();
        load_two(&mut c);
        assert_eq!(c.cmd_str(&["DEBUG", "RELOAD"]), Reply::ok());
        expect_two(&mut c, "after DEBUG RELOAD");
        assert_eq!(c.cmd_str(&["SAVE"]), Reply::ok());
    }
    {
        let s = ringkv_in(&dir, &[]);
        let mut c = s.raw();
        expect_two(&mut c, "after an RDB restart");
        // The file loads in redis-server 7.0.15 too.
        drop(c);
        drop(s);
        let r = Server::start_redis(&["--dir", dir.s()]);
        expect_two(&mut r.raw(), "ringkv's RDB in redis-server");
    }
    // The AOF, with and without the RDB preamble, before and after a rewrite.
    for preamble in ["yes", "no"] {
        let dir = TempDir::new(&format!("aof-{preamble}"));
        let args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
        {
            let s = ringkv_in(&dir, &args);
            let mut c = s.raw();
            load_two(&mut c);
            assert_eq!(
                c.cmd_str(&["FUNCTION", "LOAD", &lib("gone", "g", "return 1")]),
                Reply::bulk(b"gone")
            );
            assert_eq!(c.cmd_str(&["FUNCTION", "DELETE", "gone"]), Reply::ok());
            wait_written();
        }
        {
            let s = ringkv_in(&dir, &args);
            let mut c = s.raw();
            expect_two(&mut c, &format!("AOF restart, preamble {preamble}"));
            assert!(!c.cmd_str(&["BGREWRITEAOF"]).is_error());
            wait_rewritten(&mut c);
            let base = common::files::aof_file(&dir.0, 'b');
            let bytes = std::fs::read(&base).unwrap();
            if preamble == "no" {
                let cmds = ringkv::persist::aof::parse_aof(&bytes).expect("a valid AOF");
                let loads: Vec<_> = cmds
                    .iter()
                    .filter(|c| c.len() == 3 && c[0] == b"FUNCTION" && c[1] == b"LOAD")
                    .collect();
                assert_eq!(loads.len(), 2, "{cmds:?}");
            } else {
                assert!(bytes.starts_with(b"REDIS"), "{}", base.display());
            }
        }
        {
            let s = ringkv_in(&dir, &args);
            expect_two(
                &mut s.raw(),
                &format!("AOF rewrite restart, preamble {preamble}"),
            );
        }
        // redis-server 7.0.15 loads the rewritten AOF.
        let r = Server::start_redis(&["--dir", dir.s(), "--appendonly", "yes"]);
        expect_two(
            &mut r.raw(),
            &format!("ringkv's AOF in redis-server, preamble {preamble}"),
        );
    }
}

/// An RDB file redis-server 7.0.15 wrote with functions loads in ringkv.
#[test]
fn redis_rdb_with_functions_loads() {
    let dir = TempDir::new("fromredis");
    {
        let r = Server::start_redis(&["--dir", dir.s()]);
        let mut c = r.raw();
        load_two(&mut c);
        c.cmd_str(&["SET", "k", "1"]);
        assert_eq!(c.cmd_str(&["SAVE"]), Reply::ok());
    }
    let s = ringkv_in(&dir, &[]);
    let mut c = s.raw();
    expect_two(&mut c, "redis-server's RDB in ringkv");
    assert_eq!(c.cmd_str(&["FCALL", "pa", "1", "k"]), Reply::Int(2));
}

/// FUNCTION LOAD / DELETE / FLUSH / RESTORE reach the AOF as redis-server writes them.
#[test]
fn aof_holds_the_function_commands() {
    let (od, rd) = (TempDir::new("aof-ours"), TempDir::new("aof-redis"));
    let ours = Server::start(&["--appendonly", "yes", "--dir", od.s()]);
    let redis = Server::start_redis(&["--appendonly", "yes", "--dir", rd.s()]);
    let (mut o, mut r) = (ours.raw(), redis.raw());
    let Reply::Bulk(Some(payload)) = r.cmd_str(&["FUNCTION", "DUMP"]) else {
        panic!("DUMP");
    };
    for c in [&mut o, &mut r] {
        load_two(c);
        c.cmd_str(&["FUNCTION", "LOAD", LIB_A]);
        c.cmd_str(&["FUNCTION", "LOAD", "REPLACE", LIB_A]);
        c.cmd_str(&["FCALL", "pa", "1", "counter"]);
        c.cmd_str(&["FCALL_RO", "pb", "0"]);
        c.cmd_str(&["FUNCTION", "DELETE", "pb"]);
        c.cmd_str(&["FUNCTION", "DELETE", "nosuch"]);
        c.cmd(&[b"FUNCTION", b"RESTORE", &payload, b"FLUSH"]);
        c.cmd_str(&["FUNCTION", "FLUSH", "SYNC"]);
    }
    wait_written();
    let read = |d: &TempDir| {
        let bytes =
            std::fs::read(d.0.join("appendonlydir").join("appendonly.aof.1.incr.aof")).unwrap();
        let cmds = ringkv::persist::aof::parse_aof(&bytes).expect("a valid AOF");
        cmds.iter()
            .map(|c| {
                c.iter()
                    .map(|w| String::from_utf8_lossy(w).to_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(read(&od), read(&rd));
}

fn wait_written() {
    std::thread::sleep(Duration::from_millis(200));
}

/// Waits until no AOF rewrite is in progress.
fn wait_rewritten(c: &mut Raw) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let Reply::Bulk(Some(info)) = c.cmd_str(&["INFO", "persistence"]) else {
            panic!("INFO");
        };
        let info = String::from_utf8_lossy(&info).into_owned();
        if info.contains("aof_rewrite_in_progress:0") && !info.contains("aof_rewrite_scheduled:1") {
            return;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
