//! Transaction load for `scripts/bench --sections tx` and `scripts/callgrind-tx`: many
//! connections, each sending MULTI, some SETs and EXEC over and over, for a fixed time.
//!
//! The load. `--conns` connections; each has `--depth` transactions in flight: it writes
//! `--depth` × (MULTI, `--sets` × `SET key:<12 digits> xxx`, EXEC) in one write, and the next
//! such batch once every reply of the previous one is in. The keys are drawn uniformly from
//! `--keyspace` ids by splitmix64 seeded with 1; 256 batches are encoded before the run and
//! connection c cycles through them starting at batch 7c, so every run sends the same bytes.
//!
//! Checked. Every reply byte is compared with what a transaction must answer: `+OK` to MULTI,
//! `+QUEUED` to each SET, then EXEC's array of `+OK`s. Anything else (an error reply, a closed
//! connection) stops the load with exit status 1.
//!
//! I/O. One thread owns every socket through one epoll set (level-triggered): one read of up to
//! 64 KiB per ready socket per turn, and a connection whose batch is answered writes its next
//! batch at once. A compiled generator costs a fraction of a microsecond of user time per
//! transaction, so that on loopback the server (or the kernel's TCP work on either side), not
//! the generator's own code, sets the rate; `generator_cpu_pct` shows how close the generator
//! came to its own core's limit.
//!
//! Output: one JSON line on stdout (`transactions`, `seconds`, `tx_per_s`, `generator_cpu_s`,
//! `generator_cpu_pct`: this process's user + system CPU over the run, as % of one core).
//!
//! Usage: tx_load --port N [--host 127.0.0.1] [--conns 50] [--seconds 5] [--sets 5]
//!        [--keyspace 100000] [--depth 1]

#[path = "common/epoll.rs"]
mod epoll;
use epoll::Epoll;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};

/// Batches encoded before the run; connections cycle through them.
const BATCHES: usize = 256;
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
    #[arg(long, default_value_t = 5)]
    sets: usize,
    #[arg(long, default_value_t = 100_000)]
    keyspace: u64,
    #[arg(long, default_value_t = 1)]
    depth: usize,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `args` as one RESP multibulk command, appended to `out`.
fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The batches connections send, and the reply every batch must get.
fn batches(a: &Args) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut rng = 1u64;
    let mut all = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let mut b = Vec::new();
        for _ in 0..a.depth {
            encode(&mut b, &[b"MULTI"]);
            for _ in 0..a.sets {
                let key = format!("key:{:012}", splitmix64(&mut rng) % a.keyspace);
                encode(&mut b, &[b"SET", key.as_bytes(), b"xxx"]);
            }
            encode(&mut b, &[b"EXEC"]);
        }
        all.push(b);
    }
    let mut one = b"+OK\r\n".to_vec();
    one.extend(b"+QUEUED\r\n".repeat(a.sets));
    one.extend_from_slice(format!("*{}\r\n", a.sets).as_bytes());
    one.extend(b"+OK\r\n".repeat(a.sets));
    (all, one.repeat(a.depth))
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
    /// Bytes of the current batch's reply received (and checked) so far.
    matched: usize,
    /// Batches this connection has sent.
    sent: usize,
}

fn run(a: &Args) -> Result<String, String> {
    if a.conns == 0 || a.conns > CONNS_MAX || a.depth == 0 || a.sets == 0 || a.keyspace == 0 {
        return Err(format!(
            "--conns must be in 1..={CONNS_MAX}, --depth, --sets and --keyspace at least 1"
        ));
    }
    if !(a.seconds > 0.0) {
        return Err("--seconds must be above 0".into());
    }
    let (requests, want) = batches(a);
    let epoll = Epoll::new()?;
    let mut conns = Vec::with_capacity(a.conns);
    for i in 0..a.conns {
        let sock = TcpStream::connect((a.host.as_str(), a.port))
            .map_err(|e| format!("connect {}:{}: {e}", a.host, a.port))?;
        sock.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        sock.set_nonblocking(true)
            .map_err(|e| format!("nonblocking: {e}"))?;
        epoll.ctl(libc::EPOLL_CTL_ADD, sock.as_raw_fd(), i as u64)?;
        conns.push(Conn {
            sock,
            matched: 0,
            sent: i * 7,
        });
    }
    let mut buf = vec![0u8; READ_BYTES];
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS_MAX];
    let cpu0 = cpu_seconds()?;
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(a.seconds);
    for c in &mut conns {
        write_all(&mut c.sock, &requests[c.sent % BATCHES])?;
    }
    let mut done_batches = 0u64;
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
            // One batch is in flight, so a read holds at most the rest of its reply.
            let expected = &want[c.matched..];
            if got > expected.len() || buf[..got] != expected[..got] {
                let at = c.matched.saturating_sub(16);
                return Err(format!(
                    "unexpected reply after {:?}: {:?}",
                    String::from_utf8_lossy(&want[at..c.matched]),
                    String::from_utf8_lossy(&buf[..got.min(200)])
                ));
            }
            c.matched += got;
            if c.matched == want.len() {
                c.matched = 0;
                c.sent += 1;
                done_batches += 1;
                write_all(&mut c.sock, &requests[c.sent % BATCHES])?;
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds()? - cpu0;
    let tx = done_batches * a.depth as u64;
    if tx == 0 {
        return Err("no transaction completed".into());
    }
    Ok(format!(
        "{{\"transactions\":{tx},\"seconds\":{secs:.3},\"tx_per_s\":{:.0},\
         \"generator_cpu_s\":{cpu_s:.3},\"generator_cpu_pct\":{:.1}}}",
        tx as f64 / secs,
        100.0 * cpu_s / secs
    ))
}

fn main() {
    let a = <Args as clap::Parser>::parse();
    match run(&a) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("tx_load: {e}");
            std::process::exit(1);
        }
    }
}
