//! Busy scripts against redis-server 7.0.15: a script that runs past busy-reply-threshold
//! leaves the server serving other clients, which get -BUSY for everything but the
//! `allow_busy` commands; SCRIPT KILL stops a script that has not written (also one that
//! catches the kill with pcall), a script that wrote is UNKILLABLE and only SHUTDOWN NOSAVE
//! ends it (its writes are not kept). Each scenario runs on both servers and the replies are
//! compared byte for byte.

mod common;

use common::files::TempDir;
use common::{Raw, Reply, Server};
use std::time::Duration;

/// Both servers, started with a short threshold so the tests run fast.
fn both(extra: &[&str]) -> (Server, Server) {
    let mut args = vec!["--busy-reply-threshold", "100"];
    args.extend_from_slice(extra);
    (Server::start(&args), Server::start_redis(&args))
}

/// Sends one command without reading its reply.
fn send(c: &mut Raw, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&common::encode(&args));
}

/// One command's reply, as bytes.
fn exact(c: &mut Raw, args: &[&str]) -> String {
    common::escape(&c.cmd_exact(args))
}

/// Waits until a script runs past the threshold: PING answers PONG until the script has
/// started, then waits for the threshold and answers BUSY.
fn wait_busy(c: &mut Raw) {
    for _ in 0..500 {
        match c.cmd_str(&["PING"]) {
            Reply::Error(e) if e.starts_with("BUSY") => return,
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    panic!("the script never became busy");
}

/// The replies of a scenario on one server, labelled.
type Transcript = Vec<(String, String)>;

#[track_caller]
fn assert_same(ours: &Transcript, redis: &Transcript) {
    for (o, r) in ours.iter().zip(redis) {
        assert_eq!(o, r, "ringkv vs redis-server");
    }
    assert_eq!(ours.len(), redis.len());
}

/// A script that loops without writing: other clients (old and new, RESP2 and RESP3) get
/// BUSY, MULTI/DISCARD still work, SHUTDOWN without NOSAVE is refused, SCRIPT KILL stops
/// the script and its caller gets Redis's error, then the server is back to normal.
fn kill_readonly_loop(srv: &Server, script: &str) -> Transcript {
    let mut t = Transcript::new();
    let mut other = srv.raw();
    let mut caller = srv.raw();
    exact(&mut caller, &["SET", "k", "v"]);
    send(&mut caller, &["EVAL", script, "0"]);
    wait_busy(&mut other);
    t.push(("GET".into(), exact(&mut other, &["GET", "k"])));
    t.push(("PING".into(), exact(&mut other, &["PING"])));
    let mut late = srv.raw();
    t.push(("new conn".into(), exact(&mut late, &["GET", "k"])));
    t.push(("MULTI".into(), exact(&mut late, &["MULTI"])));
    t.push(("SET in MULTI".into(), exact(&mut late, &["SET", "a", "1"])));
    t.push(("DISCARD".into(), exact(&mut late, &["DISCARD"])));
    exact(&mut late, &["HELLO", "3"]);
    t.push(("RESP3".into(), exact(&mut late, &["INCR", "n"])));
    t.push(("SHUTDOWN".into(), exact(&mut other, &["SHUTDOWN"])));
    t.push(("EVAL".into(), exact(&mut other, &["EVAL", "return 1", "0"])));
    t.push(("FKILL".into(), exact(&mut other, &["FUNCTION", "KILL"])));
    t.push(("FSTATS".into(), exact(&mut other, &["FUNCTION", "STATS"])));
    t.push(("KILL".into(), exact(&mut other, &["SCRIPT", "KILL"])));
    t.push(("caller".into(), common::escape(&caller.read_reply_bytes())));
    t.push(("after".into(), exact(&mut other, &["GET", "k"])));
    t.push(("caller after".into(), exact(&mut caller, &["PING"])));
    t.push(("KILL idle".into(), exact(&mut other, &["SCRIPT", "KILL"])));
    t.push(("n".into(), exact(&mut other, &["EXISTS", "a", "n"])));
    // The interpreter is itself again: the next busy script is stopped the same way.
    send(&mut caller, &["EVAL", script, "0"]);
    wait_busy(&mut other);
    t.push(("KILL again".into(), exact(&mut other, &["SCRIPT", "KILL"])));
    t.push((
        "caller again".into(),
        common::escape(&caller.read_reply_bytes()),
    ));
    t.push((
        "quick".into(),
        exact(&mut caller, &["EVAL", "return 7", "0"]),
    ));
    t
}

#[test]
fn busy_script_answers_busy_and_is_killed() {
    let (ours, redis) = both(&[]);
    let script = "while true do end";
    assert_same(
        &kill_readonly_loop(&ours, script),
        &kill_readonly_loop(&redis, script),
    );
}

#[test]
fn kill_reaches_a_script_that_catches_errors() {
    let (ours, redis) = both(&[]);
    // pcall catches the kill error once; it is raised again until the script ends.
    let script = "local n = 0 while true do pcall(function() while true do n = n + 1 end end) end";
    assert_same(
        &kill_readonly_loop(&ours, script),
        &kill_readonly_loop(&redis, script),
    );
}

/// A busy function: others get the function's BUSY text, SCRIPT KILL does not stop it,
/// FUNCTION STATS names it, FUNCTION KILL does.
fn kill_busy_function(srv: &Server) -> Transcript {
    let mut t = Transcript::new();
    let mut other = srv.raw();
    let mut caller = srv.raw();
    let lib = "#!lua name=spin\nredis.register_function('spin', function(keys, args)\n  while true do end\nend)";
    t.push((
        "LOAD".into(),
        exact(&mut caller, &["FUNCTION", "LOAD", lib]),
    ));
    send(&mut caller, &["FCALL", "spin", "0"]);
    wait_busy(&mut other);
    t.push(("GET".into(), exact(&mut other, &["GET", "k"])));
    t.push(("SKILL".into(), exact(&mut other, &["SCRIPT", "KILL"])));
    t.push(("SHUTDOWN".into(), exact(&mut other, &["SHUTDOWN"])));
    // The running time differs: only the shape and the name are compared.
    let stats = exact(&mut other, &["FUNCTION", "STATS"]);
    let cut = stats
        .find("duration_ms")
        .expect("duration_ms in FUNCTION STATS");
    t.push(("STATS".into(), stats[..cut].to_string()));
    t.push(("FKILL".into(), exact(&mut other, &["FUNCTION", "KILL"])));
    t.push(("caller".into(), common::escape(&caller.read_reply_bytes())));
    t.push((
        "FKILL idle".into(),
        exact(&mut other, &["FUNCTION", "KILL"]),
    ));
    t.push((
        "STATS idle".into(),
        exact(&mut other, &["FUNCTION", "STATS"]),
    ));
    t
}

#[test]
fn busy_function_is_killed_with_function_kill() {
    let (ours, redis) = both(&[]);
    assert_same(&kill_busy_function(&ours), &kill_busy_function(&redis));
}

#[test]
fn threshold_setting_and_its_old_name() {
    let (ours, redis) = both(&[]);
    let (mut o, mut r) = (ours.raw(), redis.raw());
    for cmd in [
        &["CONFIG", "GET", "busy-reply-threshold"][..],
        &["CONFIG", "GET", "lua-time-limit"],
        &["CONFIG", "SET", "lua-time-limit", "250"],
        &["CONFIG", "GET", "busy-reply-threshold"],
        &["CONFIG", "SET", "busy-reply-threshold", "-1"],
        &["CONFIG", "SET", "busy-reply-threshold", "0"],
        &["CONFIG", "GET", "lua-time-limit"],
    ] {
        assert_eq!(exact(&mut o, cmd), exact(&mut r, cmd), "{cmd:?}");
    }
}

/// A script that wrote cannot be killed; SHUTDOWN NOSAVE ends the server, and the script's
/// caller sees its connection close. Returns the transcript.
fn unkillable_then_shutdown(srv: &Server) -> Transcript {
    let mut t = Transcript::new();
    let mut other = srv.raw();
    let mut caller = srv.raw();
    send(
        &mut caller,
        &["EVAL", "redis.call('SET', 'w', '1') while true do end", "0"],
    );
    wait_busy(&mut other);
    t.push(("KILL".into(), exact(&mut other, &["SCRIPT", "KILL"])));
    t.push(("GET".into(), exact(&mut other, &["GET", "w"])));
    t.push(("SHUTDOWN".into(), exact(&mut other, &["SHUTDOWN", "SAVE"])));
    send(&mut other, &["SHUTDOWN", "NOSAVE"]);
    t.push((
        "other closed".into(),
        other.wait_closed(Duration::from_secs(5)).to_string(),
    ));
    t.push((
        "caller closed".into(),
        caller.wait_closed(Duration::from_secs(5)).to_string(),
    ));
    t
}

#[test]
fn unkillable_script_and_shutdown_nosave() {
    let (ours, redis) = both(&[]);
    assert_same(
        &unkillable_then_shutdown(&ours),
        &unkillable_then_shutdown(&redis),
    );
}

/// With the AOF on: a killed script leaves nothing, and the writes of a script ended by
/// SHUTDOWN NOSAVE are not kept, while what was acknowledged before it is.
fn aof_after_busy(start: &dyn Fn(&[&str]) -> Server, dir: &str) -> Transcript {
    let args = [
        "--busy-reply-threshold",
        "100",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        dir,
    ];
    let mut t = Transcript::new();
    {
        let srv = start(&args);
        let mut c = srv.raw();
        exact(&mut c, &["SET", "before", "1"]);
        let mut caller = srv.raw();
        send(&mut caller, &["EVAL", "while true do end", "0"]);
        wait_busy(&mut c);
        t.push(("KILL".into(), exact(&mut c, &["SCRIPT", "KILL"])));
        t.push(("caller".into(), common::escape(&caller.read_reply_bytes())));
        send(
            &mut caller,
            &[
                "EVAL",
                "redis.call('SET', 'lost', '1') while true do end",
                "0",
            ],
        );
        wait_busy(&mut c);
        t.push(("KILL".into(), exact(&mut c, &["SCRIPT", "KILL"])));
        send(&mut c, &["SHUTDOWN", "NOSAVE"]);
        assert!(caller.wait_closed(Duration::from_secs(5)), "server exited");
        std::thread::sleep(Duration::from_millis(200));
    }
    let srv = start(&args);
    let mut c = srv.raw();
    // redis-server answers LOADING until its AOF is replayed.
    for _ in 0..500 {
        match c.cmd_str(&["PING"]) {
            Reply::Error(e) if e.starts_with("LOADING") => {
                std::thread::sleep(Duration::from_millis(10))
            }
            _ => break,
        }
    }
    t.push(("keys".into(), exact(&mut c, &["EXISTS", "before", "lost"])));
    t
}

#[test]
fn aof_keeps_nothing_of_a_busy_script() {
    let d1 = TempDir::new("busy-ours");
    let d2 = TempDir::new("busy-redis");
    let ours = aof_after_busy(&|a: &[&str]| Server::start(a), d1.s());
    let redis = aof_after_busy(&|a: &[&str]| Server::start_redis(a), d2.s());
    assert_same(&ours, &redis);
    assert_eq!(ours.last().unwrap().1, ":1\\x0d\\x0a");
}

/// The server goes on serving while a busy script runs and after it: many clients, each
/// getting BUSY, then normal replies once the script is killed.
#[test]
fn many_clients_during_a_busy_script() {
    let srv = Server::start(&["--busy-reply-threshold", "50"]);
    let mut caller = srv.raw();
    send(&mut caller, &["EVAL", "while true do end", "0"]);
    wait_busy(&mut srv.raw());
    let mut clients: Vec<Raw> = (0..20).map(|_| srv.raw()).collect();
    for c in &mut clients {
        send(c, &["INCR", "n"]);
    }
    for c in &mut clients {
        assert!(c.read_reply().is_error());
    }
    let mut k = srv.raw();
    assert_eq!(k.cmd_str(&["SCRIPT", "KILL"]), Reply::ok());
    assert!(caller.read_reply().is_error());
    let mut got: Vec<i64> = clients
        .iter_mut()
        .map(|c| match c.cmd_str(&["INCR", "n"]) {
            Reply::Int(n) => n,
            r => panic!("INCR: {r:?}"),
        })
        .collect();
    got.sort_unstable();
    assert_eq!(
        got,
        (1..=20).collect::<Vec<i64>>(),
        "every INCR ran once after the kill"
    );
}

/// A library whose load-time code never ends is stopped after 500 ms with Redis's error
/// (whatever busy-reply-threshold says), and nothing of it is kept.
#[test]
fn library_load_times_out() {
    let (ours, redis) = both(&[]);
    let (mut o, mut r) = (ours.raw(), redis.raw());
    let lib = "#!lua name=forever\nwhile true do end";
    for cmd in [
        &["FUNCTION", "LOAD", lib][..],
        &["FUNCTION", "LIST"],
        &["PING"],
    ] {
        assert_eq!(exact(&mut o, cmd), exact(&mut r, cmd), "{cmd:?}");
    }
}
