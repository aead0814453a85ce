//! Careless and hostile clients: each must get Redis's answer or a closed connection, while
//! every other client keeps being served and the server's memory stays bounded. Cases that
//! redis-server handles the same way run against both servers (`RINGKV_BIN` may also point
//! at redis-server to check an expectation). Other hostile cases live where their feature
//! is: protocol errors and one-byte-at-a-time input in tests/protocol.rs, maxclients and the
//! idle timeout in tests/server.rs, client-output-buffer-limit in tests/server.rs.

mod common;

use common::{Raw, Reply, Server};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

fn used_memory(c: &mut Raw) -> u64 {
    let Reply::Bulk(Some(text)) = c.cmd_str(&["INFO", "memory"]) else {
        panic!("INFO memory did not answer a bulk");
    };
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

/// Reads everything until EOF (bounded in time), returning the bytes.
fn read_all(s: &mut TcpStream, within: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return out,
        }
    }
    panic!("no EOF within {within:?}; got {} bytes", out.len());
}

fn half_close_scenario(s: &Server) -> Vec<u8> {
    let mut ctl = s.raw();
    assert_eq!(ctl.cmd_str(&["SET", "k", "v"]), Reply::ok());
    let (ip, port) = s.addr();
    let mut c = TcpStream::connect((ip, port)).unwrap();
    c.write_all(b"PING\r\nGET k\r\nINCR n\r\n").unwrap();
    // The client says it will send nothing more; the replies must still arrive, then EOF.
    c.shutdown(Shutdown::Write).unwrap();
    read_all(&mut c, Duration::from_secs(5))
}

#[test]
fn a_half_closed_client_gets_its_replies_then_eof_like_redis() {
    let ours = half_close_scenario(&Server::start(&[]));
    let redis = half_close_scenario(&Server::start_redis(&[]));
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&redis)
    );
    assert_eq!(ours, b"+PONG\r\n$1\r\nv\r\n:1\r\n");
}

#[test]
fn a_client_pipelining_without_reading_cannot_grow_server_memory() {
    let s = Server::start(&[]);
    let mut ctl = s.raw();
    let value = "v".repeat(1 << 20);
    assert_eq!(ctl.cmd_str(&["SET", "big", &value]), Reply::ok());
    let base = used_memory(&mut ctl);
    let (ip, port) = s.addr();
    let mut greedy = TcpStream::connect((ip, port)).unwrap();
    // 500 replies of 1 MiB each: half a gigabyte if the server buffered them all.
    let req = b"GET big\r\n".repeat(500);
    greedy.write_all(&req).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let during = used_memory(&mut ctl);
    assert!(
        during < base + (64 << 20),
        "used_memory grew from {base} to {during} with a client not reading"
    );
    // Everyone else is served meanwhile.
    assert_eq!(ctl.cmd_str(&["PING"]), Reply::Status("PONG".into()));
    // And the greedy client, once it reads, gets every reply.
    greedy
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let want = 500 * ((1 << 20) + "$1048576\r\n\r\n".len());
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    let deadline = Instant::now() + Duration::from_secs(30);
    while got < want && Instant::now() < deadline {
        match greedy.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(_) => {}
        }
    }
    assert_eq!(got, want);
}

#[test]
fn a_huge_announced_argument_count_allocates_nothing_up_front() {
    let s = Server::start(&[]);
    let mut ctl = s.raw();
    let base = used_memory(&mut ctl);
    let (ip, port) = s.addr();
    // Redis 7.0 accepts up to 2147483647 arguments; announcing them must not reserve space
    // for them (that would be tens of gigabytes).
    let mut liar = TcpStream::connect((ip, port)).unwrap();
    liar.write_all(b"*2147483647\r\n$1\r\na\r\n$1\r\nb\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let during = used_memory(&mut ctl);
    assert!(
        during < base + (1 << 20),
        "used_memory grew from {base} to {during}"
    );
    assert_eq!(ctl.cmd_str(&["PING"]), Reply::Status("PONG".into()));
    // One more than that is a protocol error, and the connection is closed.
    let mut c = s.raw();
    c.send(b"*2147483648\r\n");
    assert_eq!(
        c.read_reply(),
        Reply::Error("ERR Protocol error: invalid multibulk length".into())
    );
    c.expect_closed(Duration::from_secs(2)).unwrap();
}

fn nul_in_name_scenario(s: &Server) -> Vec<Reply> {
    let mut c = s.raw();
    c.send(b"*2\r\n$4\r\nGE\0T\r\n$3\r\nk\0x\r\n");
    let first = c.read_reply();
    c.send(b"*1\r\n$5\r\nPI\0NG\r\n");
    vec![first, c.read_reply(), c.cmd_str(&["PING"])]
}

#[test]
fn a_nul_byte_in_a_command_name_gets_redis_unknown_command_text() {
    let ours = nul_in_name_scenario(&Server::start(&[]));
    let redis = nul_in_name_scenario(&Server::start_redis(&[]));
    assert_eq!(ours, redis);
    assert!(ours[0].is_error());
}

fn query_buffer_scenario(s: &Server) -> bool {
    let (ip, port) = s.addr();
    let mut c = TcpStream::connect((ip, port)).unwrap();
    // A 2 MB bulk against a 1 MB query buffer limit: the client is closed mid-upload.
    c.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
        .unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut closed = false;
    for _ in 0..40 {
        if c.write_all(&chunk).is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        let rest = read_all(&mut c, Duration::from_secs(5));
        closed = rest.is_empty();
    }
    let mut ctl = s.raw();
    assert_eq!(ctl.cmd_str(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(ctl.cmd_str(&["EXISTS", "k"]), Reply::Int(0));
    closed
}

#[test]
fn a_query_over_client_query_buffer_limit_closes_the_client_like_redis() {
    let args = ["--client-query-buffer-limit", "1mb"];
    assert!(query_buffer_scenario(&Server::start(&args)));
    assert!(query_buffer_scenario(&Server::start_redis(&args)));
}
