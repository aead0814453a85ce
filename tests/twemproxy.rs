//! Sharding through twemproxy (`nutcracker`, Debian's package): three ringkv shards behind one
//! proxy with ketama hashing, as scripts/twemproxy/run sets them up. 100k keys written through
//! the proxy must land on all three shards, each key on exactly one, and read back through it;
//! keys sharing a `{hash tag}` share a shard.
//!
//! The proxy is a real peer: it speaks RESP to the shards, pipelines and splits multi-key
//! commands (MGET, DEL), and closes a client that sends a command it does not support.

mod common;

use common::{encode_into, Reply, Server};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEYS: usize = 100_000;
const BATCH: usize = 1_000;

struct Proxy {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts nutcracker with scripts/twemproxy/nutcracker.yml pointed at `shards`.
fn start_proxy(shards: &[&Server]) -> Proxy {
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/twemproxy/nutcracker.yml"
    ))
    .expect("read scripts/twemproxy/nutcracker.yml");
    let port = common::free_port();
    let mut conf = template.replace("@PROXY_PORT@", &port.to_string());
    for (i, s) in shards.iter().enumerate() {
        conf = conf.replace(&format!("@SHARD{}_PORT@", i + 1), &s.port.to_string());
    }
    let dir = std::env::temp_dir().join(format!("ringkv-twemproxy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf_path = dir.join("nutcracker.yml");
    std::fs::write(&conf_path, conf).unwrap();
    let stats_port = common::free_port();
    let child = Command::new("nutcracker")
        .arg("-c")
        .arg(&conf_path)
        .args(["-s", &stats_port.to_string(), "-a", "127.0.0.1", "-o"])
        .arg(dir.join("nutcracker.log"))
        .arg("-p")
        .arg(dir.join("nutcracker.pid"))
        .stdin(Stdio::null())
        .spawn()
        .expect("nutcracker is required (apt-get install nutcracker; .ci/run installs it)");
    let proxy = Proxy { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nutcracker did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    proxy
}

fn int(r: Reply) -> i64 {
    match r {
        Reply::Int(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

#[test]
fn keys_written_through_the_proxy_spread_over_three_shards_and_read_back() {
    let shards = [Server::start(&[]), Server::start(&[]), Server::start(&[])];
    let proxy = start_proxy(&[&shards[0], &shards[1], &shards[2]]);
    let mut c = common::Raw::connect(proxy.port);
    c.set_read_timeout(Duration::from_secs(10));

    // Pipelined SETs, a batch at a time.
    let mut out = Vec::new();
    for start in (0..KEYS).step_by(BATCH) {
        out.clear();
        for i in start..start + BATCH {
            let (k, v) = (format!("key:{i}"), format!("value-{i}"));
            encode_into(&mut out, &[b"SET", k.as_bytes(), v.as_bytes()]);
        }
        c.send(&out);
        for _ in 0..BATCH {
            assert_eq!(c.read_reply(), Reply::Status("OK".into()));
        }
    }

    // Every shard got a share (ketama over three equal weights: about a third each), and
    // no key is on two shards.
    let sizes: Vec<i64> = shards
        .iter()
        .map(|s| int(s.raw().cmd_str(&["DBSIZE"])))
        .collect();
    assert_eq!(sizes.iter().sum::<i64>(), KEYS as i64, "sizes {sizes:?}");
    for n in &sizes {
        assert!(
            *n > KEYS as i64 / 6,
            "a shard holds too few keys: {sizes:?}"
        );
    }

    // Read back through the proxy: MGET is split across shards and joined by the proxy.
    for start in (0..KEYS).step_by(BATCH) {
        let keys: Vec<String> = (start..start + 100).map(|i| format!("key:{i}")).collect();
        let mut args: Vec<&[u8]> = vec![b"MGET"];
        args.extend(keys.iter().map(|k| k.as_bytes()));
        let Reply::Array(Some(values)) = c.cmd(&args) else {
            panic!("MGET through the proxy")
        };
        for (i, v) in (start..).zip(values) {
            assert_eq!(v, Reply::Bulk(Some(format!("value-{i}").into_bytes())));
        }
    }
    assert_eq!(
        c.cmd_str(&["GET", "key:99999"]),
        Reply::Bulk(Some(b"value-99999".to_vec()))
    );

    // A hash tag keeps related keys on one shard.
    for i in 0..50 {
        let k = format!("{{user:7}}:field{i}");
        assert_eq!(c.cmd_str(&["SET", &k, "x"]), Reply::Status("OK".into()));
    }
    let holding: Vec<usize> = shards
        .iter()
        .enumerate()
        .filter(|(_, s)| int(s.raw().cmd_str(&["EXISTS", "{user:7}:field0"])) == 1)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(holding.len(), 1);
    let s = &shards[holding[0]];
    let mut raw = s.raw();
    for i in 0..50 {
        let k = format!("{{user:7}}:field{i}");
        assert_eq!(
            int(raw.cmd_str(&["EXISTS", &k])),
            1,
            "{k} not on shard {holding:?}"
        );
    }

    // DEL over several shards counts every deleted key.
    assert_eq!(
        int(c.cmd_str(&["DEL", "key:1", "key:2", "key:3", "nope"])),
        3
    );
    assert_eq!(
        shards
            .iter()
            .map(|s| int(s.raw().cmd_str(&["DBSIZE"])))
            .sum::<i64>(),
        KEYS as i64 + 50 - 3
    );

    // What twemproxy does not support (MULTI among them) closes the client's connection.
    let mut d = common::Raw::connect(proxy.port);
    d.send(&common::encode(&[b"MULTI"]));
    assert!(
        d.wait_closed(Duration::from_secs(5)),
        "MULTI through the proxy"
    );
}
