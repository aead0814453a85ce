//! Client input through both receive paths: the default multishot receives into the ring's
//! provided buffers, and one receive at a time into each client's own buffer
//! (`RINGKV_RECV=single`, the path large arguments always take). Each scenario runs on a
//! server of each kind and checks every reply, so input split, coalesced, held back or
//! carried across receives of either kind arrives whole and in order.

mod common;

use common::{encode, Raw, Reply, Server};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A server of each receive path, named for messages.
fn servers() -> Vec<(&'static str, Server)> {
    servers_with(&[])
}

/// `servers` started with `args`.
fn servers_with(args: &[&str]) -> Vec<(&'static str, Server)> {
    let bin = common::ringkv_bin();
    vec![
        ("multishot", Server::start(args)),
        // Four provided buffers: they run out at nearly every turn with input waiting.
        (
            "multishot, 4 buffers",
            Server::start_bin_env(&bin, args, &[("RINGKV_RECV_BUFFERS", "4")]),
        ),
        (
            "single",
            Server::start_bin_env(&bin, args, &[("RINGKV_RECV", "single")]),
        ),
    ]
}

/// Fails if the multishot server fell back to single receives (a kernel without them).
fn check_no_fallback(name: &str, s: &Server) {
    let log = s.log_tail();
    assert!(
        !log.contains("one at a time"),
        "{name}: the server fell back to single receives:\n{log}"
    );
}

/// Reads exactly `n` RESP replies from `c`.
fn read_replies(c: &mut Raw, n: usize) -> Vec<Reply> {
    (0..n).map(|_| c.read_reply()).collect()
}

/// Writes `bytes` from a thread while the caller reads, so that neither side's buffers
/// fill up and stall the other.
fn write_in_background(c: &Raw, bytes: Vec<u8>) -> std::thread::JoinHandle<()> {
    let mut w = c.clone_stream();
    std::thread::spawn(move || w.write_all(&bytes).unwrap())
}

#[test]
fn a_pipeline_sent_a_byte_at_a_time_is_answered_whole() {
    // One receive completion per byte, or a few bytes: commands split at every point.
    for (name, s) in servers() {
        let mut c = s.raw();
        let mut bytes = Vec::new();
        for i in 0..40 {
            let (k, v) = (format!("k{i}"), format!("value-{i}"));
            bytes.extend(encode(&[b"SET", k.as_bytes(), v.as_bytes()]));
            bytes.extend(format!("GET k{i}\r\n").into_bytes());
        }
        for b in bytes.chunks(1) {
            c.send(b);
        }
        for i in 0..40 {
            assert_eq!(c.read_reply(), Reply::ok(), "{name}");
            assert_eq!(
                c.read_reply(),
                Reply::bulk(format!("value-{i}").as_bytes()),
                "{name}"
            );
        }
        check_no_fallback(name, &s);
    }
}

#[test]
fn a_pipeline_larger_than_the_provided_buffers_is_answered_whole() {
    // 60,000 commands (~3.6 MB) in one write: more than the 2 MiB of provided buffers, and
    // far more than one turn runs. The multishot receive brings the first of it (running
    // out of buffers, with 4 of them), the connection then streams into its own buffer,
    // held back while its commands run, and goes back to the multishot receive after.
    for (name, s) in servers() {
        let mut c = s.raw();
        c.set_read_timeout(Duration::from_secs(30));
        let mut bytes = Vec::new();
        let n = 60_000;
        for i in 0..n {
            let k = format!("key:{i:012}");
            bytes.extend(encode(&[b"SET", k.as_bytes(), b"xxxxxxxxxxxxxxxxxxxxxxxx"]));
        }
        let writer = write_in_background(&c, bytes);
        for (i, r) in read_replies(&mut c, n).into_iter().enumerate() {
            assert_eq!(r, Reply::ok(), "{name}: reply {i}");
        }
        writer.join().unwrap();
        assert_eq!(c.cmd_str(&["DBSIZE"]), Reply::Int(n as i64), "{name}");
        check_no_fallback(name, &s);
    }
}

#[test]
fn large_values_arrive_whole_between_small_commands() {
    // A large argument switches the connection to receives straight into its buffer and
    // back: small commands around it, several large ones pipelined in one write.
    for (name, s) in servers() {
        let mut c = s.raw();
        c.set_read_timeout(Duration::from_secs(30));
        let big: Vec<Vec<u8>> = (0..6u8)
            .map(|i| {
                (0..(300_000 + i as usize * 250_000))
                    .map(|j| (j as u8) ^ i)
                    .collect()
            })
            .collect();
        let mut bytes = Vec::new();
        for (i, v) in big.iter().enumerate() {
            bytes.extend(b"PING\r\n");
            let k = format!("big{i}");
            bytes.extend(encode(&[b"SET", k.as_bytes(), v]));
        }
        bytes.extend(b"DBSIZE\r\n");
        let writer = write_in_background(&c, bytes);
        for _ in &big {
            assert_eq!(c.read_reply(), Reply::Status("PONG".into()), "{name}");
            assert_eq!(c.read_reply(), Reply::ok(), "{name}");
        }
        assert_eq!(c.read_reply(), Reply::Int(6), "{name}");
        writer.join().unwrap();
        for (i, v) in big.iter().enumerate() {
            let k = format!("big{i}");
            assert_eq!(c.cmd(&[b"GET", k.as_bytes()]), Reply::bulk(v), "{name}");
        }
        assert_eq!(c.cmd_str(&["SET", "small", "1"]), Reply::ok(), "{name}");
        check_no_fallback(name, &s);
    }
}

#[test]
fn commands_behind_a_blocked_command_run_once_it_is_served() {
    // Input that arrived while the client was blocked (in the same write as BLPOP) runs as
    // soon as the BLPOP is served, without waiting for more input.
    for (name, s) in servers() {
        let mut blocked = s.raw();
        let mut pusher = s.raw();
        blocked.send(b"BLPOP q 0\r\nPING\r\nLLEN q\r\n");
        pusher.wait_blocked(1);
        assert_eq!(pusher.cmd_str(&["RPUSH", "q", "a", "b"]), Reply::Int(2));
        assert_eq!(
            blocked.read_reply(),
            Reply::Array(Some(vec![Reply::bulk(b"q"), Reply::bulk(b"a")])),
            "{name}"
        );
        assert_eq!(blocked.read_reply(), Reply::Status("PONG".into()), "{name}");
        assert_eq!(blocked.read_reply(), Reply::Int(1), "{name}");
        check_no_fallback(name, &s);
    }
}

#[test]
fn the_end_of_stream_with_the_last_commands_still_gets_their_replies() {
    // The commands and the end of stream arrive together (often in one turn): the commands
    // run and are answered, then the server closes, as redis-server does.
    for (name, s) in servers() {
        let mut c = TcpStream::connect(s.addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(b"SET a 1\r\nINCR a\r\nGET a\r\n").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"+OK\r\n:2\r\n$1\r\n2\r\n", "{name}");
        check_no_fallback(name, &s);
    }
}

#[test]
fn an_idle_client_killed_sees_its_connection_close() {
    // An idle client has a receive armed and nothing arriving: CLIENT KILL must still
    // close it (the shutdown ends the receive).
    for (name, s) in servers() {
        let mut idle = s.raw();
        let Reply::Int(id) = idle.cmd_str(&["CLIENT", "ID"]) else {
            panic!("{name}: CLIENT ID");
        };
        let mut killer = s.raw();
        assert_eq!(
            killer.cmd_str(&["CLIENT", "KILL", "ID", &id.to_string()]),
            Reply::Int(1),
            "{name}"
        );
        idle.expect_closed(Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(killer.info_int("clients", "connected_clients"), 1, "{name}");
        check_no_fallback(name, &s);
    }
}

#[test]
fn a_client_that_does_not_read_cannot_make_the_server_buffer_its_input() {
    // 64 MB of GETs of a 64 KiB value, the replies never read: once the replies back up the
    // server stops running its commands and stops receiving its input, which waits in the
    // kernel (the writer blocks) instead of in the server's memory.
    for (name, s) in servers() {
        let mut ctl = s.raw();
        let value = "v".repeat(64 << 10);
        assert_eq!(ctl.cmd_str(&["SET", "big", &value]), Reply::ok());
        let base = ctl.info_int("memory", "used_memory");
        let greedy = TcpStream::connect(s.addr()).unwrap();
        greedy
            .set_write_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut w = greedy.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let chunk = b"GET big\r\n".repeat(1 << 16);
            let mut sent = 0usize;
            while sent < 64 << 20 {
                if w.write_all(&chunk).is_err() {
                    break;
                }
                sent += chunk.len();
            }
            sent
        });
        let sent = writer.join().unwrap();
        let during = ctl.info_int("memory", "used_memory");
        assert!(
            sent < 64 << 20,
            "{name}: the server took all {sent} bytes of input"
        );
        assert!(
            during < base + (32 << 20),
            "{name}: used_memory grew from {base} to {during} with a client not reading"
        );
        drop(greedy);
        assert_eq!(
            ctl.cmd_str(&["PING"]),
            Reply::Status("PONG".into()),
            "{name}"
        );
        check_no_fallback(name, &s);
    }
}

#[test]
fn many_clients_sending_at_once_are_all_answered() {
    // 200 clients each write 2,000 PINGs (12 KB, under the streaming threshold) at once:
    // together more than the provided buffers hold, so receives run out of them and are
    // armed again while others complete.
    for (name, s) in servers() {
        let mut clients: Vec<Raw> = (0..200).map(|_| s.raw()).collect();
        let burst = b"PING\r\n".repeat(2_000);
        for c in &mut clients {
            c.send(&burst);
        }
        for (i, c) in clients.iter_mut().enumerate() {
            for j in 0..2_000 {
                assert_eq!(
                    c.read_reply(),
                    Reply::Status("PONG".into()),
                    "{name}: client {i}, reply {j}"
                );
            }
        }
        check_no_fallback(name, &s);
    }
}

#[test]
fn a_busy_scripts_caller_sending_more_leaves_the_buffers_to_others() {
    // The caller of a script past busy-reply-threshold sends 48 KB more while it runs: its
    // input waits for the script, but must not keep provided buffers from the other
    // clients, or SCRIPT KILL would never be received.
    for (name, s) in servers_with(&["--busy-reply-threshold", "100"]) {
        let mut caller = s.raw();
        let mut other = s.raw();
        caller.send(&encode(&[b"EVAL", b"while true do end", b"0"]));
        let mut busy = false;
        for _ in 0..500 {
            match other.cmd_str(&["PING"]) {
                Reply::Error(e) if e.starts_with("BUSY") => {
                    busy = true;
                    break;
                }
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        assert!(busy, "{name}: the script never became busy");
        caller.send(&b"PING\r\n".repeat(8_000));
        std::thread::sleep(Duration::from_millis(300));
        let mut late = s.raw();
        assert_eq!(late.cmd_str(&["SCRIPT", "KILL"]), Reply::ok(), "{name}");
        let Reply::Error(e) = caller.read_reply() else {
            panic!("{name}: the killed script's caller got no error");
        };
        assert!(e.contains("Script killed by user"), "{name}: {e}");
        for i in 0..8_000 {
            assert_eq!(
                caller.read_reply(),
                Reply::Status("PONG".into()),
                "{name}: reply {i}"
            );
        }
        check_no_fallback(name, &s);
    }
}
