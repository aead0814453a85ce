//! The real `redis-cli` tools against ringkv, each bounded in time: `--bigkeys` and
//! `--memkeys` (the biggest key of each type found; bigkeys' summary compared with
//! redis-server's for the same data), `--hotkeys` under `allkeys-lfu` (the key hit most comes
//! first; without an LFU policy both servers make it fail the same way), `--stat` (its
//! columns show the key and client counts), `--latency` and `--latency-history` (sane
//! figures), and `MONITOR` (Redis's line for a command run by another client).
//!
//! redis-cli fully buffers a piped stdout, so the long-running modes run under
//! `stdbuf -oL` and are killed once they printed the lines the test reads.

mod common;

use common::{Raw, Reply, Server};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest any redis-cli run may take.
const CLI_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs `redis-cli -p port args...` to completion (under `timeout`), returning stdout.
fn cli_output(port: u16, args: &[&str]) -> String {
    let out = Command::new("timeout")
        .arg(CLI_TIMEOUT.as_secs().to_string())
        .arg("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli (is it installed?)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {:?}\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A redis-cli that keeps running: its stdout lines arrive on a channel.
struct Streaming {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Streaming {
    fn start(port: u16, args: &[&str]) -> Streaming {
        let mut child = Command::new("timeout")
            .arg(CLI_TIMEOUT.as_secs().to_string())
            .arg("stdbuf")
            .arg("-oL")
            .arg("redis-cli")
            .arg("-p")
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run redis-cli under stdbuf");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Streaming { child, lines: rx }
    }

    /// The next `n` lines, each within `wait`.
    fn take(&mut self, n: usize, wait: Duration) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.lines
                    .recv_timeout(wait)
                    .unwrap_or_else(|e| panic!("line {i} of redis-cli: {e}"))
            })
            .collect()
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(c: &mut Raw, line: &str) -> Reply {
    let args: Vec<&str> = line.split(' ').collect();
    c.cmd_str(&args)
}

/// Keys of every type, one clearly biggest per type.
fn fill(c: &mut Raw) {
    // Big enough that its memory, not only its length, is the largest of the lists.
    let items: Vec<String> = (0..100).map(|i| format!("element-{i:04}")).collect();
    run(c, &format!("RPUSH biglist {}", items.join(" ")));
    run(c, "RPUSH smalllist a");
    run(c, &format!("SET bigstr {}", "x".repeat(1000)));
    run(c, "SET smallstr x");
    let fields: Vec<String> = (0..50)
        .map(|i| format!("field-{i:03} value-{i:03}"))
        .collect();
    run(c, &format!("HSET bighash {}", fields.join(" ")));
    run(c, "HSET smallhash a 1");
    let members: Vec<String> = (0..50).map(|i| format!("member-{i:03}")).collect();
    run(c, &format!("SADD bigset {}", members.join(" ")));
    run(c, "SADD smallset 1");
    let scored: Vec<String> = (0..50).map(|i| format!("{i} member-{i:03}")).collect();
    run(c, &format!("ZADD bigzset {}", scored.join(" ")));
    run(c, "ZADD smallzset 1 a");
    for i in 1..=50 {
        run(c, &format!("XADD bigstream 1-{i} field value-{i:03}"));
    }
    run(c, "XADD smallstream 1-1 a 1");
}

fn summary(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .skip_while(|l| !l.contains("-------- summary -------"))
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    // Redis lists the types in the order it met them while scanning.
    lines.sort();
    lines
}

#[test]
fn bigkeys_and_memkeys_find_the_biggest_key_of_each_type() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    for s in [&ours, &redis] {
        fill(&mut s.raw());
    }
    let big = cli_output(ours.port, &["--bigkeys"]);
    for want in [
        "Biggest   list found '\"biglist\"' has 100 items",
        "Biggest   hash found '\"bighash\"' has 50 fields",
        "Biggest string found '\"bigstr\"' has 1000 bytes",
        "Biggest stream found '\"bigstream\"' has 50 entries",
        "Biggest    set found '\"bigset\"' has 50 members",
        "Biggest   zset found '\"bigzset\"' has 50 members",
        "Sampled 12 keys in the keyspace!",
        "2 strings with 1001 bytes (16.67% of keys, avg size 500.50)",
    ] {
        assert!(big.contains(want), "{want:?} not in:\n{big}");
    }
    assert_eq!(
        summary(&big),
        summary(&cli_output(redis.port, &["--bigkeys"])),
        "bigkeys summary"
    );
    let mem = cli_output(ours.port, &["--memkeys"]);
    for (kind, key) in [
        ("  list", "biglist"),
        ("  hash", "bighash"),
        ("string", "bigstr"),
        ("stream", "bigstream"),
        ("   set", "bigset"),
        ("  zset", "bigzset"),
    ] {
        let want = format!("Biggest {kind} found '\"{key}\"' has ");
        assert!(mem.contains(&want), "{want:?} not in:\n{mem}");
    }
    assert!(mem.contains("Sampled 12 keys in the keyspace!"), "{mem}");
}

#[test]
fn hotkeys_lists_the_key_hit_most_under_lfu() {
    let ours = Server::start(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = ours.raw();
    fill(&mut c);
    // Counters grow logarithmically (factor 10): 1000 reads put smallstr near 19, far above
    // the 50 XADDs that make bigstream the next hottest (near 9).
    for _ in 0..1000 {
        run(&mut c, "GET smallstr");
    }
    let hot = cli_output(ours.port, &["--hotkeys"]);
    // The summary's lines, hottest first: "hot key found with counter: N\tkeyname: K".
    // LFU counters grow by chance, so a key written as often may tie: smallstr must have
    // the highest counter, not necessarily the first line.
    let counters: Vec<(u32, &str)> = hot
        .lines()
        .filter_map(|l| l.strip_prefix("hot key found with counter: "))
        .filter_map(|l| {
            let (n, key) = l.split_once("\tkeyname: ")?;
            Some((n.trim().parse().ok()?, key))
        })
        .collect();
    let top = counters
        .iter()
        .map(|c| c.0)
        .max()
        .unwrap_or_else(|| panic!("no hot key in:\n{hot}"));
    assert!(
        counters
            .iter()
            .any(|&(n, k)| n == top && k == "\"smallstr\""),
        "{hot}"
    );
    assert!(hot.contains("Sampled 12 keys in the keyspace!"), "{hot}");

    // Without an LFU policy redis-cli stops with the server's error, the same on both.
    let plain = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    for s in [&plain, &redis] {
        fill(&mut s.raw());
    }
    let err = |port: u16| {
        let out = Command::new("timeout")
            .arg(CLI_TIMEOUT.as_secs().to_string())
            .args(["redis-cli", "-p", &port.to_string(), "--hotkeys"])
            .output()
            .unwrap();
        let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
        all.push_str(&String::from_utf8_lossy(&out.stderr));
        all.lines()
            .filter(|l| l.contains("LFU"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (a, b) = (err(plain.port), err(redis.port));
    assert!(!a.is_empty(), "no LFU error");
    assert_eq!(a, b);
}

#[test]
fn stat_shows_keys_and_clients() {
    let ours = Server::start(&[]);
    let mut c = ours.raw();
    fill(&mut c);
    let mut stat = Streaming::start(ours.port, &["--stat", "-i", "0.2"]);
    let lines = stat.take(4, Duration::from_secs(5));
    assert!(
        lines[0].contains("data") && lines[0].contains("load"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("keys"), "{lines:?}");
    for l in &lines[2..] {
        let cols: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(cols[0], "12", "keys column: {l}");
        // This connection and redis-cli's.
        assert_eq!(cols[2], "2", "clients column: {l}");
        assert_eq!(cols[3], "0", "blocked column: {l}");
    }
    // A key more shows in a later line.
    run(&mut c, "SET one more");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let l = stat.take(1, Duration::from_secs(5)).remove(0);
        if l.split_whitespace().next() == Some("13") {
            break;
        }
        assert!(Instant::now() < deadline, "13 keys never shown: {l}");
    }
}

#[test]
fn latency_modes_report_sane_figures() {
    let ours = Server::start(&[]);
    // Piped, --latency prints one `min max avg samples` line after the interval and exits.
    let out = cli_output(ours.port, &["--latency", "-i", "1"]);
    let cols: Vec<f64> = out
        .split_whitespace()
        .map(|w| w.parse().unwrap_or_else(|_| panic!("{out}")))
        .collect();
    assert_eq!(cols.len(), 4, "{out}");
    let (min, max, avg, samples) = (cols[0], cols[1], cols[2], cols[3]);
    assert!(samples >= 10.0, "{out}");
    assert!(min <= avg && avg <= max && max < 1000.0, "{out}");
    // --latency-history: one such line per sample, the sample count growing.
    let mut hist = Streaming::start(ours.port, &["--latency-history", "-i", "1"]);
    let lines = hist.take(3, Duration::from_secs(5));
    let counts: Vec<f64> = lines
        .iter()
        .map(|l| {
            let cols: Vec<f64> = l
                .split_whitespace()
                .map(|w| w.parse().unwrap_or_else(|_| panic!("{l}")))
                .collect();
            assert_eq!(cols.len(), 4, "{l}");
            assert!(
                cols[0] <= cols[2] && cols[2] <= cols[1] && cols[1] < 1000.0,
                "{l}"
            );
            cols[3]
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
}

#[test]
fn monitor_prints_redis_lines() {
    let ours = Server::start(&[]);
    let mut mon = Streaming::start(ours.port, &["MONITOR"]);
    assert_eq!(mon.take(1, Duration::from_secs(5)), vec!["OK".to_string()]);
    let mut c = ours.raw();
    assert_eq!(c.cmd_str(&["SELECT", "3"]), Reply::ok());
    c.cmd_str(&["SET", "foo", "bar baz\n"]);
    let lines = mon.take(2, Duration::from_secs(5));
    let last = &lines[1];
    let (ts, rest) = last.split_once(' ').unwrap();
    let ts: f64 = ts.parse().unwrap_or_else(|_| panic!("{last}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - ts).abs() < 60.0, "{last}");
    assert!(rest.starts_with("[3 127.0.0.1:"), "{last}");
    // Arguments as the client sent them, quoted as Redis quotes them.
    assert!(rest.ends_with("] \"SET\" \"foo\" \"bar baz\\n\""), "{last}");
    assert!(lines[0].ends_with("] \"SELECT\" \"3\""), "{lines:?}");
}
