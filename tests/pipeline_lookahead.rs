//! The pipeline lookahead (`Parser::parse_ahead`, `Server::prefetch_ahead`): on a database big
//! enough for it (over 16,384 keys), the commands queued behind the running one are parsed
//! ahead and their keys prefetched. The replies must be exactly redis-server's, whatever the
//! pipeline holds: commands whose second argument is no key, inline commands, errors, limits
//! that change in the middle of the pipeline (CONFIG SET proto-max-bulk-len, AUTH), SELECT,
//! and commands cut at every receive boundary. The lookahead across connections
//! (`Server::prefetch_ready`) too: many connections with one command each per turn, script
//! calls whose key is KEYS[1], commands cut in two, SELECT, inline commands.

mod common;

use common::{encode_into, Reply, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const KEYS: usize = 20_000;

/// Loads KEYS string keys into `server`'s database 0.
fn load(server: &Server) {
    let mut c = server.raw();
    let mut out = Vec::new();
    for i in 0..KEYS {
        let (k, v) = (format!("key:{i:08}"), format!("v{i}"));
        encode_into(&mut out, &[b"SET", k.as_bytes(), v.as_bytes()]);
    }
    c.send(&out);
    for _ in 0..KEYS {
        assert_eq!(c.read_reply(), Reply::ok());
    }
}

/// The pipeline: `(bytes, replies expected)`.
fn pipeline() -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut n = 0;
    // An empty `args` counts an inline command the caller writes itself.
    let mut cmd = |out: &mut Vec<u8>, args: &[&[u8]]| {
        if !args.is_empty() {
            encode_into(out, args);
        }
        n += 1;
    };
    for round in 0..40 {
        let k = |i: usize| format!("key:{:08}", (i * 7919 + round * 31) % KEYS);
        for i in 0..12 {
            cmd(&mut out, &[b"GET", k(i).as_bytes()]);
        }
        cmd(&mut out, &[b"SET", k(100).as_bytes(), b"changed"]);
        cmd(&mut out, &[b"GET", k(100).as_bytes()]);
        cmd(&mut out, &[b"PING"]);
        cmd(&mut out, &[b"ECHO", b"not a key"]);
        cmd(&mut out, &[b"INCR", k(3).as_bytes()]);
        cmd(&mut out, &[b"DEL", k(5).as_bytes(), b"missing"]);
        cmd(
            &mut out,
            &[b"MGET", k(6).as_bytes(), k(7).as_bytes(), b"nope"],
        );
        cmd(&mut out, &[b"HSET", b"h", b"f", k(8).as_bytes()]);
        cmd(&mut out, &[b"GET", b"h"]);
        cmd(&mut out, &[b"EXISTS", k(9).as_bytes(), k(10).as_bytes()]);
        cmd(&mut out, &[b"NOSUCHCOMMAND", k(11).as_bytes()]);
        cmd(&mut out, &[b"GET"]);
        // An inline command in the middle stops a lookahead; the next resumes after it.
        cmd(&mut out, &[]);
        out.extend_from_slice(format!("GET {}\r\n", k(12)).as_bytes());
        // A limit changed in the middle: the commands behind were parsed ahead under the old
        // one and are parsed again under the new one (the AUTH test below changes the limits
        // the commands behind are held to).
        if round % 10 == 3 {
            cmd(
                &mut out,
                &[b"CONFIG", b"SET", b"proto-max-bulk-len", b"1mb"],
            );
            cmd(&mut out, &[b"SET", b"big", &[b'x'; 100]]);
            cmd(
                &mut out,
                &[b"CONFIG", b"SET", b"proto-max-bulk-len", b"512mb"],
            );
        }
        // Another database: keys prefetched in the wrong table are only wasted work.
        if round % 10 == 7 {
            cmd(&mut out, &[b"SELECT", b"1"]);
            cmd(&mut out, &[b"SET", k(13).as_bytes(), b"db1"]);
            cmd(&mut out, &[b"GET", k(13).as_bytes()]);
            cmd(&mut out, &[b"SELECT", b"0"]);
            cmd(&mut out, &[b"GET", k(13).as_bytes()]);
        }
        // Many arguments (more than a lookahead takes).
        let many: Vec<String> = (0..100).map(|i| k(i + 200)).collect();
        let mut args: Vec<&[u8]> = vec![b"EXISTS"];
        args.extend(many.iter().map(|s| s.as_bytes()));
        cmd(&mut out, &args);
    }
    (out, n)
}

/// Sends `bytes` in chunks of the sizes `chunks` cycles through (so commands are cut at
/// every kind of boundary), reads everything back, and returns the raw reply bytes.
fn run(server: &Server, bytes: &[u8], replies: usize, chunks: &[usize]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_nodelay(true).unwrap();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let end = (at + chunks[i % chunks.len()]).min(bytes.len());
        s.write_all(&bytes[at..end]).unwrap();
        at = end;
        i += 1;
        if i % 7 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    // Read until the reply count is reached: a final PING's PONG marks the end.
    s.write_all(&common::encode(&[b"ECHO", b"end-of-pipeline"]))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let marker = b"$15\r\nend-of-pipeline\r\n";
    while !got.ends_with(marker) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "{}: connection closed", server.bin);
        got.extend_from_slice(&buf[..n]);
    }
    assert!(replies > 0);
    got
}

#[test]
fn replies_through_the_lookahead_are_redis_replies() {
    let ringkv = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    load(&ringkv);
    load(&redis);
    let (bytes, replies) = pipeline();
    for chunks in [
        &[1 << 20][..],
        &[4096, 17, 333],
        &[1, 2, 3, 5, 8, 13, 21, 34, 55, 89],
    ] {
        let a = run(&ringkv, &bytes, replies, chunks);
        let b = run(&redis, &bytes, replies, chunks);
        if a != b {
            let at = a
                .iter()
                .zip(&b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            let from = at.saturating_sub(200);
            panic!(
                "chunks {chunks:?}: replies differ at byte {at}\nringkv: {:?}\nredis:  {:?}",
                String::from_utf8_lossy(&a[from..(at + 200).min(a.len())]),
                String::from_utf8_lossy(&b[from..(at + 200).min(b.len())]),
            );
        }
    }
    // The database still matches key by key (the SETs and INCRs above changed some).
    let mut ra = ringkv.raw();
    let mut rb = redis.raw();
    for i in (0..KEYS).step_by(37) {
        let k = format!("key:{i:08}");
        assert_eq!(ra.cmd_str(&["GET", &k]), rb.cmd_str(&["GET", &k]), "{k}");
    }
}

#[test]
fn auth_in_the_middle_of_a_pipeline_changes_the_limits_for_what_follows() {
    // Before AUTH, Redis refuses big multibulk counts and bulk lengths; commands parsed
    // ahead under those limits are checked again once AUTH changed them.
    let ringkv = Server::start(&["--requirepass", "pw"]);
    let redis = Server::start_redis(&["--requirepass", "pw"]);
    for s in [&ringkv, &redis] {
        let mut c = s.raw();
        assert_eq!(c.cmd_str(&["AUTH", "pw"]), Reply::ok());
        let mut out = Vec::new();
        for i in 0..KEYS {
            let k = format!("key:{i:08}");
            encode_into(&mut out, &[b"SET", k.as_bytes(), b"v"]);
        }
        c.send(&out);
        for _ in 0..KEYS {
            assert_eq!(c.read_reply(), Reply::ok());
        }
    }
    let mut out = Vec::new();
    for i in 0..20 {
        let k = format!("key:{i:08}");
        encode_into(&mut out, &[b"GET", k.as_bytes()]);
    }
    encode_into(&mut out, &[b"AUTH", b"pw"]);
    for i in 0..20 {
        let k = format!("key:{i:08}");
        encode_into(&mut out, &[b"GET", k.as_bytes()]);
    }
    let a = run(&ringkv, &out, 41, &[1 << 20]);
    let b = run(&redis, &out, 41, &[1 << 20]);
    assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
}

/// One connection's command at `step`, in two parts written one after the other with every
/// other connection's first part in between (most second parts are empty; a cut SET makes the
/// lookahead across connections meet a partial command). Some connections move to database 1
/// and back.
fn one_command(conn: usize, step: usize, sha: &str) -> (Vec<u8>, Vec<u8>) {
    let k = |i: usize| format!("key:{:08}", (i * 7919 + conn * 131 + step * 17) % KEYS);
    let mut out = Vec::new();
    match (conn + step) % 11 {
        0 => encode_into(&mut out, &[b"GET", k(1).as_bytes()]),
        1 => encode_into(&mut out, &[b"SET", k(2).as_bytes(), b"new"]),
        2 => encode_into(&mut out, &[b"INCR", k(3).as_bytes()]),
        3 => encode_into(
            &mut out,
            &[
                b"EVAL",
                b"redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[2])",
                b"2",
                k(4).as_bytes(),
                k(5).as_bytes(),
                b"from-a-script",
            ],
        ),
        4 => encode_into(
            &mut out,
            &[b"EVALSHA", sha.as_bytes(), b"1", k(6).as_bytes()],
        ),
        5 => encode_into(&mut out, &[b"EVAL", b"return ARGV[1]", b"0", b"no keys"]),
        6 => {
            let whole = common::encode(&[b"SET", k(7).as_bytes(), b"cut in two"]);
            let half = whole.len() / 2 + step % 5;
            return (whole[..half].to_vec(), whole[half..].to_vec());
        }
        7 => out.extend_from_slice(format!("GET {}\r\n", k(8)).as_bytes()),
        8 => encode_into(
            &mut out,
            &[b"SELECT", if step % 4 < 2 { b"1" } else { b"0" }],
        ),
        9 => encode_into(&mut out, &[b"EXPIRE", k(9).as_bytes(), b"1000"]),
        _ => encode_into(&mut out, &[b"TTL", k(9).as_bytes()]),
    }
    (out, Vec::new())
}

#[test]
fn one_command_per_connection_through_the_lookahead_across_connections() {
    // Many connections with one command each in every loop turn: the keys of the next
    // connections' commands are prefetched before they run (`Server::prefetch_ready`).
    const CONNS: usize = 24;
    const STEPS: usize = 120;
    let ringkv = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let mut replies: Vec<Vec<Reply>> = Vec::new();
    for server in [&ringkv, &redis] {
        load(server);
        let script = "return redis.call('INCR', KEYS[1])";
        let sha = match server.raw().cmd_str(&["SCRIPT", "LOAD", script]) {
            Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
            other => panic!("SCRIPT LOAD: {other:?}"),
        };
        let mut conns: Vec<_> = (0..CONNS).map(|_| server.raw()).collect();
        let mut got = Vec::new();
        for step in 0..STEPS {
            // Everyone writes before anyone reads: turns of the server's loop see them
            // together.
            let parts: Vec<_> = (0..CONNS).map(|i| one_command(i, step, &sha)).collect();
            for (c, (first, _)) in conns.iter_mut().zip(&parts) {
                c.send(first);
            }
            for (c, (_, second)) in conns.iter_mut().zip(&parts) {
                if !second.is_empty() {
                    c.send(second);
                }
            }
            for c in conns.iter_mut() {
                got.push(c.read_reply());
            }
        }
        replies.push(got);
    }
    assert_eq!(replies[0].len(), replies[1].len());
    for (i, (a, b)) in replies[0].iter().zip(&replies[1]).enumerate() {
        assert_eq!(
            a,
            b,
            "reply {i} (connection {}, step {})",
            i % CONNS,
            i / CONNS
        );
    }
}
