//! Raw-bytes protocol tests against the server under test (not diffed against Redis).
//!
//! Every expected text below was taken from redis-server 7.0.15 by sending the same bytes.
//! Run redis-vs-redis with `RINGKV_BIN=$(command -v redis-server) cargo test --test protocol`.

mod common;

use common::{encode, Reply, Server};
use std::time::Duration;

/// How long a server may take to close a connection after a protocol error.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

#[test]
fn inline_ping() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"PING\r\n");
    assert_eq!(c.read_reply(), Reply::Status("PONG".into()));
    // Inline commands also accept a bare LF, and empty lines are skipped.
    c.send(b"\r\n\nPING\n");
    assert_eq!(c.read_reply(), Reply::Status("PONG".into()));
    c.send(b"ECHO \"a b\"\r\n");
    assert_eq!(c.read_reply(), Reply::bulk(b"a b"));
}

#[test]
fn pipeline_10000_commands_in_one_write() {
    // 10,000 SET + 10,000 INCR, all in one write.
    const COUNT: usize = 10_000;
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut batch = Vec::new();
    for i in 0..COUNT {
        let v = i.to_string();
        common::encode_into(
            &mut batch,
            &[b"SET", format!("k{}", i % 100).as_bytes(), v.as_bytes()],
        );
        common::encode_into(&mut batch, &[b"INCR", b"counter"]);
    }
    c.send(&batch);
    for i in 0..COUNT {
        assert_eq!(c.read_reply(), Reply::ok(), "SET #{i}");
        assert_eq!(c.read_reply(), Reply::Int(i as i64 + 1), "INCR #{i}");
    }
    assert_eq!(c.cmd(&[b"GET", b"k99"]), Reply::bulk(b"9999"));
}

#[test]
fn command_split_into_single_bytes() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    let mut bytes = encode(&[b"SET", b"split", b"value with\r\nCRLF"]);
    bytes.extend_from_slice(&encode(&[b"GET", b"split"]));
    bytes.extend_from_slice(b"PING\r\n");
    for b in &bytes {
        c.send(std::slice::from_ref(b));
        // A short pause makes it likely each byte arrives in its own read.
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(c.read_reply(), Reply::ok());
    assert_eq!(c.read_reply(), Reply::bulk(b"value with\r\nCRLF"));
    assert_eq!(c.read_reply(), Reply::Status("PONG".into()));
}

/// Sends `bytes`, expects exactly `-<expected>\r\n` and then the connection to close, and checks
/// that the server still serves another connection.
fn assert_protocol_error(bytes: &[u8], expected: &str) {
    let server = Server::start(&[]);
    let mut bystander = server.raw();
    assert_eq!(bystander.cmd(&[b"SET", b"k", b"v"]), Reply::ok());

    let mut c = server.raw();
    // The server may close while we are still writing a large request; that is allowed.
    let _ = c.try_send(bytes);
    match c.try_read_reply() {
        Ok(reply) => assert_eq!(
            reply,
            Reply::Error(expected.into()),
            "reply to the bad request"
        ),
        Err(e) => panic!("expected -{expected}, got a read error: {e}"),
    }
    if let Err(msg) = c.expect_closed(CLOSE_TIMEOUT) {
        panic!("after -{expected}: {msg}");
    }

    assert_eq!(bystander.cmd(&[b"GET", b"k"]), Reply::bulk(b"v"));
    let mut fresh = server.raw();
    assert_eq!(
        fresh.cmd(&[b"PING"]),
        Reply::Status("PONG".into()),
        "a new connection after the protocol error"
    );
}

#[test]
fn protocol_error_invalid_bulk_length_too_big() {
    // 512 MB + 1 is one more than proto-max-bulk-len.
    assert_protocol_error(
        b"*1\r\n$536870913\r\n",
        "ERR Protocol error: invalid bulk length",
    );
}

#[test]
fn protocol_error_invalid_bulk_length_negative() {
    assert_protocol_error(b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length");
}

#[test]
fn protocol_error_invalid_bulk_length_not_a_number() {
    assert_protocol_error(b"*1\r\n$abc\r\n", "ERR Protocol error: invalid bulk length");
}

#[test]
fn protocol_error_invalid_multibulk_length() {
    assert_protocol_error(
        b"*2147483648\r\n",
        "ERR Protocol error: invalid multibulk length",
    );
}

#[test]
fn protocol_error_invalid_multibulk_length_not_a_number() {
    assert_protocol_error(b"*abc\r\n", "ERR Protocol error: invalid multibulk length");
}

#[test]
fn protocol_error_too_big_inline_request() {
    // Inline requests are limited to 64 KB (PROTO_INLINE_MAX_SIZE) without a newline.
    let line = vec![b'a'; 65 * 1024];
    assert_protocol_error(&line, "ERR Protocol error: too big inline request");
}

#[test]
fn protocol_error_unbalanced_quotes() {
    assert_protocol_error(
        b"SET \"a b\r\n",
        "ERR Protocol error: unbalanced quotes in request",
    );
}

#[test]
fn protocol_error_expected_dollar() {
    assert_protocol_error(b"*1\r\nx\r\n", "ERR Protocol error: expected '$', got 'x'");
}

#[test]
fn unknown_command_keeps_connection_open() {
    let server = Server::start(&[]);
    let mut c = server.raw();
    c.send(b"FOO a b\r\n");
    assert_eq!(
        c.read_reply(),
        Reply::Error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ".into())
    );
    assert_eq!(c.cmd(&[b"PING"]), Reply::Status("PONG".into()));
}

#[test]
fn redis_crate_round_trips() {
    let server = Server::start(&[]);
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{}/", server.port)).expect("client url");
    let mut con = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .expect("connect with the redis crate");
    con.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");

    let () = redis::cmd("SET")
        .arg("a")
        .arg("1")
        .query(&mut con)
        .expect("SET");
    let got: String = redis::cmd("GET").arg("a").query(&mut con).expect("GET");
    assert_eq!(got, "1");
    let n: i64 = redis::cmd("INCR").arg("a").query(&mut con).expect("INCR");
    assert_eq!(n, 2);
    let n: i64 = redis::cmd("INCRBY")
        .arg("a")
        .arg(-12)
        .query(&mut con)
        .expect("INCRBY");
    assert_eq!(n, -10);
    let () = redis::cmd("SET")
        .arg("b")
        .arg(&b"\x00\xffbin"[..])
        .query(&mut con)
        .expect("SET binary");
    let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
        .arg("a")
        .arg("b")
        .arg("missing")
        .query(&mut con)
        .expect("MGET");
    assert_eq!(
        values,
        vec![Some(b"-10".to_vec()), Some(b"\x00\xffbin".to_vec()), None]
    );
    let set: i64 = redis::cmd("EXPIRE")
        .arg("a")
        .arg(1000)
        .query(&mut con)
        .expect("EXPIRE");
    assert_eq!(set, 1);
    let ttl: i64 = redis::cmd("TTL").arg("a").query(&mut con).expect("TTL");
    assert!(
        (999..=1000).contains(&ttl),
        "TTL after EXPIRE 1000 was {ttl}"
    );
    let ttl: i64 = redis::cmd("TTL").arg("b").query(&mut con).expect("TTL");
    assert_eq!(ttl, -1);
    let ttl: i64 = redis::cmd("TTL")
        .arg("missing")
        .query(&mut con)
        .expect("TTL");
    assert_eq!(ttl, -2);
    let err = redis::cmd("INCR")
        .arg("b")
        .query::<i64>(&mut con)
        .expect_err("INCR on a binary value");
    assert!(
        err.to_string()
            .contains("value is not an integer or out of range"),
        "{err}"
    );
}
