//! A compiled load generator for `scripts/bench` rows where `redis-benchmark` cannot drive the
//! workload (transactions) or saturates its own core before the server (one request in flight
//! per connection), and for `scripts/callgrind-tx`.
//!
//! The load. `--conns` connections; each writes one batch, reads every reply of it, and writes
//! its next batch at once. A batch is, with `--tx`, `--depth` × (MULTI, `--sets` ×
//! `SET key:<12 digits> xxx`, EXEC); otherwise `--pipeline` copies of the command given as the
//! trailing arguments (e.g. `EVALSHA <sha> 1 key:__rand_int__`). As in redis-benchmark, every
//! `__rand_int__` in an argument (and every transaction's key) is a 12-digit zero-padded number
//! drawn uniformly below `--keyspace`, anew for each command sent; the numbers come from
//! splitmix64 seeded with 1 + the connection's index, so every run sends the same bytes.
//!
//! Checked. In `--tx` mode every reply byte is compared with what a transaction must answer:
//! `+OK` to MULTI, `+QUEUED` to each SET, then EXEC's array of `+OK`s. In command mode the
//! replies (RESP2: simple strings, integers, bulk strings, arrays, nils) are counted, one per
//! command; an error reply stops the load. Anything unexpected, or a closed connection, exits
//! with status 1.
//!
//! I/O. One thread owns every socket through one epoll set (level-triggered): one read of up to
//! 64 KiB per ready socket per turn. Its own code costs a fraction of a microsecond per
//! request, so on loopback the server (and the kernel's TCP work on both sides) sets the rate;
//! `generator_cpu_pct` shows how close the generator came to its own core's limit.
//!
//! Output: one JSON line on stdout: `requests` (commands, or transactions with `--tx`),
//! `seconds`, `per_s`, `generator_cpu_s`, `generator_cpu_pct` (this process's user + system
//! CPU over the run, as % of one core).
//!
//! Usage: pipe_load --port N [--host 127.0.0.1] [--conns 50] [--seconds 5] [--keyspace 100000]
//!        (--tx [--sets 5] [--depth 1] | [--pipeline 1] COMMAND ARG...)

#[path = "common/epoll.rs"]
mod epoll;
use epoll::Epoll;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};

/// One read's buffer.
const READ_BYTES: usize = 64 * 1024;
/// epoll events taken per epoll_wait.
const EVENTS_MAX: usize = 256;
/// How long epoll_wait sleeps before the loop looks at the clock again.
const WAIT_MS: i32 = 100;
/// How long a write may find the socket's buffer full before the load gives up.
const WRITE_STALL_MAX: Duration = Duration::from_secs(5);
/// Largest `--conns` (each is a descriptor of this process).
const CONNS_MAX: usize = 10_000;
/// Largest `--pipeline`, `--depth` and `--sets`.
const BATCH_MAX: usize = 10_000;
/// Digits a random key number takes (redis-benchmark's `__rand_int__`).
const RAND_DIGITS: usize = 12;
/// Deepest reply nesting accepted in command mode.
const REPLY_DEPTH_MAX: usize = 8;

#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long)]
    port: u16,
    #[arg(long, default_value_t = 50)]
    conns: usize,
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    #[arg(long, default_value_t = 100_000)]
    keyspace: u64,
    /// Send transactions (MULTI, SETs, EXEC) instead of a command.
    #[arg(long)]
    tx: bool,
    #[arg(long, default_value_t = 5)]
    sets: usize,
    #[arg(long, default_value_t = 1)]
    depth: usize,
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
    /// The command and its arguments (command mode).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A batch's bytes with the places of its random numbers, and what it must be answered with.
struct Batch {
    bytes: Vec<u8>,
    /// Offsets of the `RAND_DIGITS`-digit fields filled before each write.
    slots: Vec<usize>,
    /// Replies the batch gets.
    replies: usize,
    /// The exact reply bytes, when they do not depend on the keys (`--tx`).
    exact: Option<Vec<u8>>,
}

/// Appends `args` as one RESP multibulk command; each `__rand_int__` becomes a slot.
fn encode(b: &mut Batch, args: &[&[u8]]) {
    const RAND: &[u8] = b"__rand_int__";
    b.bytes
        .extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let slots = a.windows(RAND.len()).filter(|w| *w == RAND).count();
        let len = a.len() - slots * (RAND.len() - RAND_DIGITS);
        b.bytes.extend_from_slice(format!("${len}\r\n").as_bytes());
        let mut rest: &[u8] = a;
        while let Some(at) = rest.windows(RAND.len()).position(|w| w == RAND) {
            b.bytes.extend_from_slice(&rest[..at]);
            b.slots.push(b.bytes.len());
            b.bytes.extend_from_slice(&[b'0'; RAND_DIGITS]);
            rest = &rest[at + RAND.len()..];
        }
        b.bytes.extend_from_slice(rest);
        b.bytes.extend_from_slice(b"\r\n");
    }
}

fn batch(a: &Args) -> Result<Batch, String> {
    let mut b = Batch {
        bytes: Vec::new(),
        slots: Vec::new(),
        replies: 0,
        exact: None,
    };
    if a.tx {
        if !a.command.is_empty() {
            return Err("--tx takes no command".into());
        }
        for _ in 0..a.depth {
            encode(&mut b, &[b"MULTI"]);
            for _ in 0..a.sets {
                encode(&mut b, &[b"SET", b"key:__rand_int__", b"xxx"]);
            }
            encode(&mut b, &[b"EXEC"]);
        }
        let mut one = b"+OK\r\n".to_vec();
        one.extend(b"+QUEUED\r\n".repeat(a.sets));
        one.extend_from_slice(format!("*{}\r\n", a.sets).as_bytes());
        one.extend(b"+OK\r\n".repeat(a.sets));
        b.replies = a.depth * (a.sets + 2);
        b.exact = Some(one.repeat(a.depth));
    } else {
        if a.command.is_empty() {
            return Err("give a command (or --tx)".into());
        }
        let args: Vec<&[u8]> = a.command.iter().map(|s| s.as_bytes()).collect();
        for _ in 0..a.pipeline {
            encode(&mut b, &args);
        }
        b.replies = a.pipeline;
    }
    Ok(b)
}

/// Where the RESP2 reply starting at `pos` ends: None while incomplete, Err for an error
/// reply or anything that is not a RESP2 reply.
fn reply_end(buf: &[u8], pos: usize, depth: usize) -> Result<Option<usize>, String> {
    let Some(nl) = memchr::memchr(b'\n', buf.get(pos..).unwrap_or_default()) else {
        return Ok(None);
    };
    let line_end = pos + nl + 1;
    let line = &buf[pos..line_end];
    if line.len() < 3 || line[line.len() - 2] != b'\r' {
        return Err(format!(
            "bad reply line {:?}",
            String::from_utf8_lossy(line)
        ));
    }
    let body = &line[1..line.len() - 2];
    let count = || -> Result<i64, String> {
        std::str::from_utf8(body)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad length {:?}", String::from_utf8_lossy(body)))
    };
    match line[0] {
        b'+' | b':' => Ok(Some(line_end)),
        b'-' => Err(format!("error reply: {}", String::from_utf8_lossy(body))),
        b'$' => match count()? {
            -1 => Ok(Some(line_end)),
            n if n >= 0 => {
                let end = line_end + n as usize + 2;
                Ok((buf.len() >= end).then_some(end))
            }
            n => Err(format!("bad bulk length {n}")),
        },
        b'*' if depth < REPLY_DEPTH_MAX => {
            let n = count()?;
            let mut at = line_end;
            for _ in 0..n.max(0) {
                match reply_end(buf, at, depth + 1)? {
                    Some(end) => at = end,
                    None => return Ok(None),
                }
            }
            Ok(Some(at))
        }
        _ => Err(format!(
            "unexpected reply {:?}",
            String::from_utf8_lossy(line)
        )),
    }
}

/// Writes all of `bytes` to a non-blocking socket, waiting (briefly, bounded) while its
/// buffer is full.
fn write_all(s: &mut TcpStream, mut bytes: &[u8]) -> Result<(), String> {
    let started = Instant::now();
    while !bytes.is_empty() {
        match s.write(bytes) {
            Ok(0) => return Err("write: the connection is closed".into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                if started.elapsed() > WRITE_STALL_MAX {
                    return Err("write: the server stopped reading".into());
                }
                std::thread::sleep(Duration::from_micros(20));
            }
            Err(e) => return Err(format!("write: {e}")),
        }
    }
    Ok(())
}

/// User plus system CPU seconds of this process.
fn cpu_seconds() -> Result<f64, String> {
    let u = getrusage(UsageWho::RUSAGE_SELF).map_err(|e| format!("getrusage: {e}"))?;
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    Ok(secs(u.user_time()) + secs(u.system_time()))
}

struct Conn {
    sock: TcpStream,
    rng: u64,
    /// `--tx`: bytes of the batch's reply received (and checked) so far.
    matched: usize,
    /// Command mode: received bytes not yet parsed as whole replies.
    pending: Vec<u8>,
    /// Command mode: replies of the current batch still to come.
    replies_left: usize,
}

impl Conn {
    /// Fills `b`'s random numbers from this connection's generator and writes the batch.
    fn send(&mut self, b: &mut Batch, keyspace: u64) -> Result<(), String> {
        for &at in &b.slots {
            let mut n = splitmix64(&mut self.rng) % keyspace;
            for d in b.bytes[at..at + RAND_DIGITS].iter_mut().rev() {
                *d = b'0' + (n % 10) as u8;
                n /= 10;
            }
        }
        self.matched = 0;
        self.replies_left = b.replies;
        write_all(&mut self.sock, &b.bytes)
    }

    /// Takes `got` newly read bytes; true once the batch's replies are all in.
    fn receive(&mut self, got: &[u8], b: &Batch) -> Result<bool, String> {
        if let Some(want) = &b.exact {
            let expected = &want[self.matched..];
            // One batch is in flight, so a read holds at most the rest of its reply.
            if got.len() > expected.len() || got != &expected[..got.len()] {
                let at = self.matched.saturating_sub(16);
                return Err(format!(
                    "unexpected reply after {:?}: {:?}",
                    String::from_utf8_lossy(&want[at..self.matched]),
                    String::from_utf8_lossy(&got[..got.len().min(200)])
                ));
            }
            self.matched += got.len();
            return Ok(self.matched == want.len());
        }
        self.pending.extend_from_slice(got);
        let mut at = 0;
        while self.replies_left > 0 {
            match reply_end(&self.pending, at, 0)? {
                Some(end) => {
                    at = end;
                    self.replies_left -= 1;
                }
                None => break,
            }
        }
        self.pending.drain(..at);
        if self.replies_left == 0 && !self.pending.is_empty() {
            return Err("more replies than commands".into());
        }
        Ok(self.replies_left == 0)
    }
}

fn run(a: &Args) -> Result<String, String> {
    if a.conns == 0 || a.conns > CONNS_MAX || a.keyspace == 0 {
        return Err(format!(
            "--conns must be in 1..={CONNS_MAX} and --keyspace at least 1"
        ));
    }
    if [a.depth, a.sets, a.pipeline]
        .iter()
        .any(|&n| n == 0 || n > BATCH_MAX)
    {
        return Err(format!(
            "--depth, --sets and --pipeline must be in 1..={BATCH_MAX}"
        ));
    }
    if a.seconds.is_nan() || a.seconds <= 0.0 {
        return Err("--seconds must be above 0".into());
    }
    let mut b = batch(a)?;
    let epoll = Epoll::new()?;
    let mut conns = Vec::with_capacity(a.conns);
    for i in 0..a.conns {
        let sock = TcpStream::connect((a.host.as_str(), a.port))
            .map_err(|e| format!("connect {}:{}: {e}", a.host, a.port))?;
        sock.set_nodelay(true)
            .map_err(|e| format!("nodelay: {e}"))?;
        sock.set_nonblocking(true)
            .map_err(|e| format!("nonblocking: {e}"))?;
        epoll.ctl(libc::EPOLL_CTL_ADD, sock.as_raw_fd(), i as u64)?;
        conns.push(Conn {
            sock,
            rng: 1 + i as u64,
            matched: 0,
            pending: Vec::new(),
            replies_left: 0,
        });
    }
    let mut buf = vec![0u8; READ_BYTES];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS_MAX];
    let cpu0 = cpu_seconds()?;
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(a.seconds);
    for c in &mut conns {
        c.send(&mut b, a.keyspace)?;
    }
    let mut batches_done = 0u64;
    while Instant::now() < end {
        let n = epoll.wait(&mut events, WAIT_MS)?;
        for ev in &events[..n] {
            let c = &mut conns[ev.u64 as usize];
            let got = match c.sock.read(&mut buf) {
                Ok(0) => return Err("the server closed a connection".into()),
                Ok(got) => got,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                    continue
                }
                Err(e) => return Err(format!("read: {e}")),
            };
            if c.receive(&buf[..got], &b)? {
                batches_done += 1;
                c.send(&mut b, a.keyspace)?;
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds()? - cpu0;
    let per_batch = if a.tx { a.depth } else { a.pipeline };
    let requests = batches_done * per_batch as u64;
    if requests == 0 {
        return Err("no batch completed".into());
    }
    Ok(format!(
        "{{\"requests\":{requests},\"seconds\":{secs:.3},\"per_s\":{:.0},\
         \"generator_cpu_s\":{cpu_s:.3},\"generator_cpu_pct\":{:.1}}}",
        requests as f64 / secs,
        100.0 * cpu_s / secs
    ))
}

fn main() {
    let a = <Args as clap::Parser>::parse();
    match run(&a) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("pipe_load: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand_int_becomes_a_twelve_digit_slot() {
        let mut b = Batch {
            bytes: Vec::new(),
            slots: Vec::new(),
            replies: 0,
            exact: None,
        };
        encode(&mut b, &[b"GET", b"k:__rand_int__:__rand_int__"]);
        assert_eq!(
            b.bytes,
            b"*2\r\n$3\r\nGET\r\n$27\r\nk:000000000000:000000000000\r\n".to_vec()
        );
        assert_eq!(b.slots, vec![20, 33]);
    }

    #[test]
    fn reply_end_walks_whole_resp2_replies() {
        let buf = b"+OK\r\n:12\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\nx\r\n*-1\r\n";
        let mut at = 0;
        let mut ends = Vec::new();
        while at < buf.len() {
            at = reply_end(buf, at, 0).unwrap().unwrap();
            ends.push(at);
        }
        assert_eq!(ends, vec![5, 10, 19, 24, buf.len()]);
        // Cut anywhere inside the array: incomplete, never an error.
        for cut in 25..buf.len() {
            assert_eq!(reply_end(&buf[..cut], 24, 0), Ok(None), "cut at {cut}");
        }
        assert!(reply_end(b"-ERR no\r\n", 0, 0).is_err());
        assert!(reply_end(b"%1\r\n", 0, 0).is_err());
        assert!(reply_end(b"$x\r\n", 0, 0).is_err());
    }
}
