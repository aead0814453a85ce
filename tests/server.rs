//! Server-level behaviour through the real binary: config file and flags, listeners (IPv6,
//! Unix socket), limits (maxclients, timeout, maxmemory), authentication, RESP3, active
//! expiry, and clean shutdown on SIGTERM and SHUTDOWN.

mod common;

use common::{free_port, Raw, Reply, Server};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Spawns the binary with exactly `args` and waits (bounded) until `probe` succeeds.
fn spawn(args: &[String], probe: impl Fn() -> bool) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringkv"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ringkv");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !probe() {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("ringkv exited early with {st}");
        }
        assert!(Instant::now() < deadline, "ringkv did not come up");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

fn tcp_ping(addr: &str) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A scratch directory under the temp dir, removed when dropped.
struct Scratch(std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("ringkv-srv-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

#[test]
fn config_file_then_flags_override_it() {
    let dir = scratch("conf");
    let port = free_port();
    let conf = dir.join("ringkv.conf");
    std::fs::write(
        &conf,
        "# a redis.conf-style file\nport 1\nbind 127.0.0.1\ndatabases 4\nmaxclients \"77\"\n",
    )
    .unwrap();
    let args = vec![
        conf.display().to_string(),
        "--port".into(),
        port.to_string(),
    ];
    let addr = format!("127.0.0.1:{port}");
    let mut child = spawn(&args, || tcp_ping(&addr));
    let mut c = Raw::connect(port);
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "maxclients"]),
        Reply::Array(Some(vec![Reply::bulk(b"maxclients"), Reply::bulk(b"77")]))
    );
    assert_eq!(c.cmd_str(&["SELECT", "3"]), Reply::ok());
    assert_eq!(
        c.cmd_str(&["SELECT", "4"]),
        Reply::Error("ERR DB index is out of range".into())
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn bad_config_file_fails_start() {
    let dir = scratch("badconf");
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, "port 99999\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ringkv"))
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("port"));
}

#[test]
fn ipv6_and_unix_socket_listeners() {
    let dir = scratch("unix");
    let sock = dir.join("ringkv.sock");
    let port = free_port();
    let args = vec![
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "::1".into(),
        "--unixsocket".into(),
        sock.display().to_string(),
    ];
    let addr = format!("127.0.0.1:{port}");
    let mut child = spawn(&args, || tcp_ping(&addr));
    assert!(tcp_ping(&format!("[::1]:{port}")), "IPv6 loopback answers");
    let mut u = std::os::unix::net::UnixStream::connect(&sock).expect("unix socket");
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    u.write_all(b"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n").unwrap();
    let mut line = String::new();
    let mut r = BufReader::new(&u);
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "$2\r\n");
    // SIGTERM: exit 0 and remove the socket file.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let st = wait_exit(&mut child, Duration::from_secs(5)).expect("exits on SIGTERM");
    assert!(st.success(), "SIGTERM exit status {st}");
    assert!(!sock.exists(), "unix socket removed at exit");
}

#[test]
fn shutdown_command_exits_zero_after_flushing() {
    let port = free_port();
    let args = vec!["--port".into(), port.to_string()];
    let addr = format!("127.0.0.1:{port}");
    let mut child = spawn(&args, || tcp_ping(&addr));
    let mut c = Raw::connect(port);
    // Replies produced before SHUTDOWN in the same pipeline still arrive.
    let mut batch = Vec::new();
    for _ in 0..100 {
        batch.extend_from_slice(&common::encode(&[b"PING"]));
    }
    batch.extend_from_slice(&common::encode(&[b"SHUTDOWN", b"NOSAVE"]));
    c.send(&batch);
    for _ in 0..100 {
        assert_eq!(c.read_reply(), Reply::Status("PONG".into()));
    }
    c.expect_closed(Duration::from_secs(5)).unwrap();
    let st = wait_exit(&mut child, Duration::from_secs(5)).expect("exits on SHUTDOWN");
    assert!(st.success());
}

#[test]
fn requirepass_enforced() {
    let s = Server::start(&["--requirepass", "s3cret"]);
    let mut c = s.raw();
    assert_eq!(
        c.cmd_str(&["GET", "a"]),
        Reply::Error("NOAUTH Authentication required.".into())
    );
    assert_eq!(
        c.cmd_str(&["AUTH", "wrong"]),
        Reply::Error("WRONGPASS invalid username-password pair or user is disabled.".into())
    );
    assert_eq!(c.cmd_str(&["AUTH", "s3cret"]), Reply::ok());
    assert_eq!(c.cmd_str(&["SET", "a", "1"]), Reply::ok());
    let info = match c.cmd_str(&["INFO", "stats"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(info.contains("auth_failures:1"), "{info}");
}

#[test]
fn maxclients_rejects_and_keeps_serving() {
    let s = Server::start(&["--maxclients", "2"]);
    let mut a = s.raw();
    // The start-up probe's connection may still be closing: wait until `a` is alone.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let Reply::Bulk(Some(list)) = a.cmd_str(&["CLIENT", "LIST"]) else {
            panic!()
        };
        if list
            .split(|c| *c == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            == 1
        {
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut b = s.raw();
    assert_eq!(b.cmd_str(&["PING"]), Reply::Status("PONG".into()));
    let mut c = s.raw();
    assert_eq!(
        c.read_reply(),
        Reply::Error("ERR max number of clients reached".into())
    );
    c.expect_closed(Duration::from_secs(5)).unwrap();
    assert_eq!(a.cmd_str(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn idle_timeout_closes_silent_clients() {
    let s = Server::start(&["--timeout", "1"]);
    let mut idle = s.raw();
    let started = Instant::now();
    idle.expect_closed(Duration::from_secs(5)).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900));
    let mut c = s.raw();
    assert_eq!(c.cmd_str(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn maxmemory_refuses_writes_keeps_reads() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), Reply::ok());
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "maxmemory", "1"]), Reply::ok());
    assert_eq!(
        c.cmd_str(&["SET", "k2", "v"]),
        Reply::Error("OOM command not allowed when used memory > 'maxmemory'.".into())
    );
    assert_eq!(c.cmd_str(&["GET", "k"]), Reply::bulk(b"v"));
    assert_eq!(c.cmd_str(&["DEL", "k"]), Reply::Int(1));
    assert_eq!(c.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]), Reply::ok());
    assert_eq!(c.cmd_str(&["SET", "k2", "v"]), Reply::ok());
}

#[test]
fn resp3_after_hello() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    assert_eq!(c.cmd_str(&["GET", "nokey"]), Reply::Bulk(None));
    match c.cmd_str(&["HELLO", "3"]) {
        Reply::Map(m) => assert!(m.contains(&(Reply::bulk(b"proto"), Reply::Int(3)))),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.cmd_str(&["GET", "nokey"]), Reply::Null);
    assert!(matches!(
        c.cmd_str(&["CONFIG", "GET", "port"]),
        Reply::Map(_)
    ));
    assert_eq!(
        c.cmd_str(&["HELLO", "4"]),
        Reply::Error("NOPROTO unsupported protocol version".into())
    );
}

#[test]
fn active_expiry_removes_untouched_keys() {
    let s = Server::start(&["--hz", "50"]);
    let mut c = s.raw();
    let mut batch = Vec::new();
    for i in 0..5000 {
        let k = format!("k{i}");
        batch.extend_from_slice(&common::encode(&[b"SET", k.as_bytes(), b"v", b"PX", b"50"]));
    }
    c.send(&batch);
    for _ in 0..5000 {
        assert_eq!(c.read_reply(), Reply::ok());
    }
    // Nobody reads the keys: only active expiry can remove them.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if c.cmd_str(&["DBSIZE"]) == Reply::Int(0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "active expiry did not remove keys"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let info = match c.cmd_str(&["INFO", "stats"]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(info.contains("expired_keys:5000"), "{info}");
}

#[test]
fn client_commands() {
    let s = Server::start(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    assert_eq!(a.cmd_str(&["CLIENT", "SETNAME", "alpha"]), Reply::ok());
    assert_eq!(a.cmd_str(&["CLIENT", "GETNAME"]), Reply::bulk(b"alpha"));
    assert_eq!(
        a.cmd_str(&["CLIENT", "SETNAME", "a b"]),
        Reply::Error(
            "ERR Client names cannot contain spaces, newlines or special characters.".into()
        )
    );
    let list = match b.cmd_str(&["CLIENT", "LIST"]) {
        Reply::Bulk(Some(v)) => String::from_utf8(v).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains("name=alpha"));
    let Reply::Int(id) = a.cmd_str(&["CLIENT", "ID"]) else {
        panic!()
    };
    assert_eq!(
        b.cmd_str(&["CLIENT", "KILL", "ID", &id.to_string()]),
        Reply::Int(1)
    );
    a.expect_closed(Duration::from_secs(5)).unwrap();
    assert_eq!(
        b.cmd_str(&["CLIENT", "NOPE"]),
        Reply::Error("ERR unknown subcommand 'NOPE'. Try CLIENT HELP.".into())
    );
    assert_eq!(
        b.cmd_str(&["CONFIG", "GET"]),
        Reply::Error("ERR wrong number of arguments for 'config|get' command".into())
    );
}

#[test]
fn command_docs_carry_arguments_for_cli_hints() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let Reply::Array(Some(top)) = c.cmd_str(&["COMMAND", "DOCS", "set"]) else {
        panic!()
    };
    assert_eq!(top[0], Reply::bulk(b"set"));
    let Reply::Array(Some(fields)) = &top[1] else {
        panic!("{:?}", top[1])
    };
    let pos = fields
        .iter()
        .position(|f| *f == Reply::bulk(b"arguments"))
        .expect("arguments field");
    let Reply::Array(Some(args)) = &fields[pos + 1] else {
        panic!()
    };
    // key, value, condition (NX|XX), GET, expiration.
    assert_eq!(args.len(), 5);
    let text = format!("{:?}", args[2]);
    assert!(text.contains("NX") && text.contains("XX"), "{text}");
    let Reply::Int(n) = c.cmd_str(&["COMMAND", "COUNT"]) else {
        panic!()
    };
    let Reply::Array(Some(all)) = c.cmd_str(&["COMMAND"]) else {
        panic!()
    };
    assert_eq!(all.len() as i64, n);
}

/// Reads from `s` until EOF (true) or `deadline` (false), counting bytes.
fn read_to_eof(s: &mut std::net::TcpStream, within: Duration) -> (bool, usize) {
    let deadline = Instant::now() + within;
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return (true, total),
            Ok(n) => total += n,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return (true, total),
        }
    }
    (false, total)
}

#[test]
fn client_output_buffer_limit_disconnects_clients_over_it() {
    let server = Server::start(&[]);
    let mut ctl = server.raw();
    let (ip, port) = server.addr();
    // Redis's syntax and errors; replica/pubsub classes are stored and reported too.
    assert_eq!(
        ctl.cmd_str(&["CONFIG", "GET", "client-output-buffer-limit"]),
        Reply::Array(Some(vec![
            Reply::bulk(b"client-output-buffer-limit"),
            Reply::bulk(b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
        ]))
    );
    assert!(ctl
        .cmd_str(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb"])
        .is_error());
    assert!(ctl
        .cmd_str(&["CONFIG", "SET", "client-output-buffer-limit", "vip 1 1 1"])
        .is_error());
    let big = "x".repeat(32 << 20);
    assert_eq!(ctl.cmd_str(&["SET", "big", &big]), Reply::ok());
    drop(big);

    // No limit (the default): a slow reader gets everything.
    let mut slow = std::net::TcpStream::connect((ip, port)).unwrap();
    slow.write_all(b"GET big\r\nPING\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ctl.cmd_str(&["PING"]), Reply::Status("PONG".into()));
    let (eof, n) = read_to_eof(&mut slow, Duration::from_secs(3));
    assert!(!eof, "closed without a limit");
    assert_eq!(n, (32 << 20) + "$33554432\r\n\r\n+PONG\r\n".len());

    // Hard limit: the reply that crosses it closes the client and nothing of it is sent.
    assert_eq!(
        ctl.cmd_str(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 0 0"
        ]),
        Reply::ok()
    );
    let mut hard = std::net::TcpStream::connect((ip, port)).unwrap();
    hard.write_all(b"GET big\r\n").unwrap();
    let (eof, n) = read_to_eof(&mut hard, Duration::from_secs(5));
    assert!(eof && n == 0, "eof {eof}, {n} bytes");
    assert_eq!(ctl.cmd_str(&["PING"]), Reply::Status("PONG".into()));

    // Soft limit: over 1 MB for more than 1 s, checked at the next command.
    assert_eq!(
        ctl.cmd_str(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 1mb 1"
        ]),
        Reply::ok()
    );
    let mut soft = std::net::TcpStream::connect((ip, port)).unwrap();
    soft.write_all(b"GET big\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(2200));
    soft.write_all(b"PING\r\n").unwrap();
    let (eof, n) = read_to_eof(&mut soft, Duration::from_secs(5));
    assert!(eof, "not closed by the soft limit");
    assert!(n < 32 << 20, "got the whole reply ({n} bytes)");
    assert_eq!(ctl.cmd_str(&["PING"]), Reply::Status("PONG".into()));
}

/// CONFIG GET of one parameter: its value.
fn config_value(c: &mut Raw, name: &str) -> String {
    match c.cmd_str(&["CONFIG", "GET", name]) {
        Reply::Array(Some(kv)) if kv.len() == 2 && kv[0] == Reply::bulk(name.as_bytes()) => {
            let Reply::Bulk(Some(v)) = &kv[1] else {
                panic!("CONFIG GET {name}: value is not a bulk string");
            };
            String::from_utf8(v.clone()).unwrap()
        }
        other => panic!("CONFIG GET {name}: {other:?}"),
    }
}

fn stat(c: &mut Raw, field: &str) -> u64 {
    let Reply::Bulk(Some(text)) = c.cmd_str(&["INFO", "stats"]) else {
        panic!("INFO stats did not answer a bulk string");
    };
    let text = String::from_utf8(text).unwrap();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {field} in INFO stats"))
        .parse()
        .unwrap()
}

/// `busy-poll-us`: with a poll of 100 ms, every request of a client that sends the next one
/// at once is found by the poll (the loop never sleeps between them); timers (BLPOP's
/// timeout) still fire while it polls; set to 0, the loop sleeps again and the count stops.
#[test]
fn busy_poll_finds_requests_and_can_be_turned_off() {
    let srv = Server::start(&["--busy-poll-us", "100000"]);
    let mut c = srv.raw();
    assert_eq!(config_value(&mut c, "busy-poll-us"), "100000");
    let before = stat(&mut c, "busy_poll_hits");
    for i in 0..200 {
        let k = format!("k{i}");
        assert_eq!(c.cmd_str(&["SET", &k, "v"]), Reply::ok());
        assert_eq!(c.cmd_str(&["GET", &k]), Reply::bulk(b"v"));
    }
    let hits = stat(&mut c, "busy_poll_hits") - before;
    // 401 requests; a poll ends only at a 100 ms gap, which a scheduler hiccup may rarely cause.
    assert!(hits >= 350, "only {hits} of 401 requests found by the poll");
    let t = Instant::now();
    assert_eq!(
        c.cmd_str(&["BLPOP", "nolist", "0.1"]),
        Reply::Array(None),
        "BLPOP's timeout while polling"
    );
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(5));

    assert!(c
        .cmd_str(&["CONFIG", "SET", "busy-poll-us", "100001"])
        .is_error());
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "busy-poll-us", "0"]),
        Reply::ok()
    );
    let off = stat(&mut c, "busy_poll_hits");
    for _ in 0..50 {
        assert_eq!(c.cmd_str(&["PING"]), Reply::Status("PONG".into()));
    }
    assert_eq!(
        stat(&mut c, "busy_poll_hits"),
        off,
        "polling after it was turned off"
    );
}

/// The keepalive timer of the server's side of a connection from local port `client_port` to
/// `server_port`, from /proc/net/tcp: Some(seconds until it fires) when the kernel has one
/// armed (timer kind 2), None when no timer runs.
/// While the reply is not yet acknowledged the retransmission timer (kind 1) shows instead,
/// so this waits (bounded) for the connection to settle.
fn server_side_keepalive_s(server_port: u16, client_port: u16) -> Option<f64> {
    let local = format!(":{server_port:04X}");
    let remote = format!(":{client_port:04X}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let row = table
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .find(|f| f[1].ends_with(&local) && f[2].ends_with(&remote))
            .expect("the server's side of the connection in /proc/net/tcp");
        let (kind, when) = row[5].split_once(':').unwrap();
        match kind {
            "00" => return None,
            "02" => return Some(u64::from_str_radix(when, 16).unwrap() as f64 / 100.0),
            "01" if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            other => panic!("timer kind {other} on an idle connection"),
        }
    }
}

/// `tcp-keepalive` as in Redis: on by default (300 s), applies to connections accepted after
/// CONFIG SET, 0 turns it off.
#[test]
fn tcp_keepalive_is_set_on_accepted_connections() {
    let srv = Server::start(&[]);
    let port = srv.addr().1;
    let connect = || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"PING\r\n").unwrap();
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"+PONG\r\n");
        let client_port = s.local_addr().unwrap().port();
        (s, client_port)
    };
    let mut c = srv.raw();
    assert_eq!(config_value(&mut c, "tcp-keepalive"), "300");
    let (_a, pa) = connect();
    let left = server_side_keepalive_s(port, pa).expect("keepalive armed by default");
    assert!(
        left > 200.0 && left <= 300.0,
        "default keepalive fires in {left} s"
    );

    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "tcp-keepalive", "0"]),
        Reply::ok()
    );
    let (_b, pb) = connect();
    assert_eq!(server_side_keepalive_s(port, pb), None);

    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "tcp-keepalive", "20"]),
        Reply::ok()
    );
    let (_c, pc) = connect();
    let left = server_side_keepalive_s(port, pc).expect("keepalive armed after CONFIG SET");
    assert!(left > 0.0 && left <= 20.0, "keepalive 20 fires in {left} s");
}
