//! Look-aside cache load for `scripts/bench --sections cache`: a fixed stream of GETs over a
//! Zipf-distributed keyspace, each miss (a nil reply) followed by a SET of the key, as an
//! application uses a cache in front of a database.
//!
//! The stream. `--requests` key ranks are drawn from Zipf(`--zipf`) over `--keys` ranks
//! (rank r has weight 1 / (r + 1)^s) by inverting a precomputed CDF with a binary search; the
//! random numbers come from splitmix64 seeded with `--seed`, so every run, against any server,
//! sends the same keys in the same order. A rank becomes the key `key:<id>` with
//! id = (rank * MULT + OFFSET) mod keys, a permutation of the ids, so hot keys are spread over
//! the id range instead of being `key:0`, `key:1`, ... Values are `--value-bytes` bytes.
//!
//! Concurrency. `--conns` connections, one thread each; connection c owns the requests whose
//! index i in the stream has i mod conns = c and works through them in order, `--batch` at a
//! time: it writes the batch's GETs in one write, reads their replies, then writes one SET per
//! miss of the batch in one write and reads those replies, then takes the next batch. So at
//! most conns × batch GETs are in flight, all connections advance through the stream at about
//! the same pace, and request i runs at about the same point in time on every server. Two GETs
//! of one key in flight at once can both miss and both SET; that happens alike on any server.
//! With `--rate` (requests per second, 0: unpaced) each connection waits before a batch until
//! its share of the rate allows it, so two servers of different speeds can be driven at the
//! same rate (the servers' LRU clocks tick once per second, so the rate changes what LRU can
//! distinguish).
//!
//! Counted: misses in the first and the second half of the stream (by index), SETs sent, and
//! error replies (any reply starting with `-`, to GET or SET). A separate connection sends
//! `INFO memory` every `--poll-ms` and keeps the largest `used_memory`; after the run it reads
//! `used_memory_peak` once more. The result is one JSON line on stdout; progress goes to
//! stderr.
//!
//! Usage: cache_load --port N [--host 127.0.0.1] [--requests 3000000] [--keys 1000000]
//!        [--zipf 0.99] [--value-bytes 64] [--conns 8] [--batch 32] [--seed 1]
//!        [--poll-ms 20] [--rate 0]

#[path = "common/json.rs"]
mod json;
#[path = "common/zipf.rs"]
mod zipf;
use json::json_string;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest reply line the load accepts (an error text, or INFO's bulk header).
const LINE_BYTES_MAX: usize = 4096;

/// The load's options (see the module doc).
#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long)]
    port: u16,
    #[command(flatten)]
    stream: zipf::StreamArgs,
    #[arg(long, default_value_t = 64)]
    value_bytes: usize,
    #[arg(long, default_value_t = 8)]
    conns: usize,
    #[arg(long, default_value_t = 32)]
    batch: usize,
    #[arg(long, default_value_t = 20)]
    poll_ms: u64,
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
}

fn parse_args() -> Result<Args, String> {
    let a = <Args as clap::Parser>::try_parse().map_err(|e| e.to_string())?;
    a.stream.check()?;
    if a.conns == 0 || a.batch == 0 {
        return Err("--conns and --batch must be at least 1".into());
    }
    if a.rate.is_nan() || a.rate < 0.0 {
        return Err("--rate must be at least 0".into());
    }
    Ok(a)
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    misses_first_half: u64,
    misses_second_half: u64,
    sets: u64,
    errors: u64,
    first_error: Option<String>,
}

enum Reply {
    Nil,
    Bulk,
    Ok,
    Error(String),
}

/// Reads one reply: a bulk string (whose body must be `value`), nil, `+OK` or an error.
fn read_reply(
    r: &mut BufReader<TcpStream>,
    line: &mut Vec<u8>,
    body: &mut Vec<u8>,
    value: &[u8],
) -> Result<Reply, String> {
    line.clear();
    let n = r
        .by_ref()
        .take(LINE_BYTES_MAX as u64)
        .read_until(b'\n', line)
        .map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Err("the server closed the connection".into());
    }
    if !line.ends_with(b"\r\n") {
        return Err(format!(
            "reply line without CRLF: {:?}",
            String::from_utf8_lossy(line)
        ));
    }
    let text = &line[..line.len() - 2];
    match text.first() {
        Some(b'-') => Ok(Reply::Error(
            String::from_utf8_lossy(&text[1..]).into_owned(),
        )),
        Some(b'+') if text == b"+OK" => Ok(Reply::Ok),
        Some(b'$') if text == b"$-1" => Ok(Reply::Nil),
        Some(b'_') if text == b"_" => Ok(Reply::Nil),
        Some(b'$') => {
            let len: usize = std::str::from_utf8(&text[1..])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad bulk header {:?}", String::from_utf8_lossy(text)))?;
            body.resize(len + 2, 0);
            r.read_exact(body).map_err(|e| format!("read: {e}"))?;
            if &body[..len] != value || &body[len..] != b"\r\n" {
                return Err(format!(
                    "GET returned a value that was never SET ({len} bytes)"
                ));
            }
            Ok(Reply::Bulk)
        }
        _ => Err(format!(
            "unexpected reply {:?}",
            String::from_utf8_lossy(text)
        )),
    }
}

fn push_command(out: &mut Vec<u8>, name: &str, key_id: u32, value: Option<&[u8]>) {
    let mut digits = itoa::Buffer::new();
    let id = digits.format(key_id);
    let argc = if value.is_some() { 3 } else { 2 };
    // write! into a Vec cannot fail.
    let _ = write!(
        out,
        "*{argc}\r\n${}\r\n{name}\r\n${}\r\nkey:{id}\r\n",
        name.len(),
        id.len() + 4
    );
    if let Some(v) = value {
        let _ = write!(out, "${}\r\n", v.len());
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
}

/// Runs connection `c`'s share of the stream; see the module comment for the order.
fn run_connection(
    a: &Args,
    ids: &[u32],
    c: usize,
    value: &[u8],
    start: Instant,
) -> Result<Tally, String> {
    let stream =
        TcpStream::connect((a.host.as_str(), a.port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let mut writer = stream.try_clone().map_err(|e| format!("clone: {e}"))?;
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let (mut line, mut body, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let mut missed: Vec<usize> = Vec::with_capacity(a.batch);
    let mut t = Tally::default();
    let half = ids.len() / 2;
    let mine: Vec<usize> = (c..ids.len()).step_by(a.conns).collect();
    let per_conn_rate = a.rate / a.conns as f64;
    let mut done = 0usize;
    for batch in mine.chunks(a.batch) {
        if per_conn_rate > 0.0 {
            let due = start + Duration::from_secs_f64(done as f64 / per_conn_rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        out.clear();
        for &i in batch {
            push_command(&mut out, "GET", ids[i], None);
        }
        writer.write_all(&out).map_err(|e| format!("write: {e}"))?;
        missed.clear();
        for &i in batch {
            match read_reply(&mut reader, &mut line, &mut body, value)? {
                Reply::Nil => missed.push(i),
                Reply::Bulk => {}
                Reply::Ok => return Err("GET answered +OK".into()),
                Reply::Error(e) => {
                    t.errors += 1;
                    t.first_error.get_or_insert(e);
                }
            }
        }
        for &i in &missed {
            if i < half {
                t.misses_first_half += 1;
            } else {
                t.misses_second_half += 1;
            }
        }
        if !missed.is_empty() {
            out.clear();
            for &i in &missed {
                push_command(&mut out, "SET", ids[i], Some(value));
            }
            writer.write_all(&out).map_err(|e| format!("write: {e}"))?;
            for _ in &missed {
                match read_reply(&mut reader, &mut line, &mut body, value)? {
                    Reply::Ok => {}
                    Reply::Error(e) => {
                        t.errors += 1;
                        t.first_error.get_or_insert(e);
                    }
                    Reply::Nil | Reply::Bulk => return Err("SET answered a bulk reply".into()),
                }
            }
            t.sets += missed.len() as u64;
        }
        done += batch.len();
    }
    Ok(t)
}

/// Sends `INFO memory` and returns (used_memory, used_memory_peak).
fn info_memory(r: &mut BufReader<TcpStream>, line: &mut Vec<u8>) -> Result<(u64, u64), String> {
    r.get_mut()
        .write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n")
        .map_err(|e| format!("poll write: {e}"))?;
    line.clear();
    r.by_ref()
        .take(LINE_BYTES_MAX as u64)
        .read_until(b'\n', line)
        .map_err(|e| format!("poll read: {e}"))?;
    let head = String::from_utf8_lossy(line).trim_end().to_string();
    let len: usize = head
        .strip_prefix('$')
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("INFO memory answered {head:?}"))?;
    let mut body = vec![0u8; len + 2];
    r.read_exact(&mut body)
        .map_err(|e| format!("poll read: {e}"))?;
    let text = String::from_utf8_lossy(&body);
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
    };
    match (field("used_memory"), field("used_memory_peak")) {
        (Some(used), Some(peak)) => Ok((used, peak)),
        _ => Err("INFO memory has no used_memory or used_memory_peak".into()),
    }
}

/// Polls until `stop`; returns (largest used_memory, samples, used_memory_peak at the end).
fn poll_memory(a: &Args, stop: &AtomicBool) -> Result<(u64, u64, u64), String> {
    let stream =
        TcpStream::connect((a.host.as_str(), a.port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let mut r = BufReader::new(stream);
    let mut line = Vec::new();
    let (mut max, mut samples) = (0u64, 0u64);
    // A bound on the loop: a run longer than a day is a hung run.
    for _ in 0..(86_400_000 / a.poll_ms.max(1)) {
        let (used, _) = info_memory(&mut r, &mut line)?;
        max = max.max(used);
        samples += 1;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        std::thread::sleep(Duration::from_millis(a.poll_ms));
    }
    let (used, peak) = info_memory(&mut r, &mut line)?;
    Ok((max.max(used), samples + 1, peak))
}

fn run() -> Result<(), String> {
    let a = Arc::new(parse_args()?);
    let t0 = Instant::now();
    let ids = Arc::new(a.stream.ids());
    let stream_s = t0.elapsed().as_secs_f64();
    eprintln!(
        "cache_load: {} requests generated in {stream_s:.2} s",
        a.stream.requests
    );
    let value: Arc<Vec<u8>> = Arc::new((0..a.value_bytes).map(|i| b'a' + (i % 26) as u8).collect());

    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (a, stop) = (Arc::clone(&a), Arc::clone(&stop));
        std::thread::spawn(move || poll_memory(&a, &stop))
    };
    let start = Instant::now();
    let workers: Vec<_> = (0..a.conns)
        .map(|c| {
            let (a, ids, value) = (Arc::clone(&a), Arc::clone(&ids), Arc::clone(&value));
            std::thread::spawn(move || run_connection(&a, &ids, c, &value, start))
        })
        .collect();
    let mut total = Tally::default();
    let mut failure = None;
    for w in workers {
        match w.join() {
            Ok(Ok(t)) => {
                total.misses_first_half += t.misses_first_half;
                total.misses_second_half += t.misses_second_half;
                total.sets += t.sets;
                total.errors += t.errors;
                if total.first_error.is_none() {
                    total.first_error = t.first_error;
                }
            }
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(_) => failure = failure.or(Some("a connection thread panicked".into())),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let (mem_max, samples, mem_peak) = match poller.join() {
        Ok(r) => r?,
        Err(_) => return Err("the memory poller panicked".into()),
    };
    if let Some(e) = failure {
        return Err(e);
    }
    let sent = a.stream.requests as u64 + total.sets;
    println!(
        "{{\"requests\":{},\"keys\":{},\"zipf\":{},\"value_bytes\":{},\"conns\":{},\"batch\":{},\
         \"rate\":{},\"seed\":{},\"misses_first_half\":{},\"misses_second_half\":{},\
         \"second_half_requests\":{},\"sets\":{},\"errors\":{},\"first_error\":{},\
         \"seconds\":{secs:.3},\"requests_per_s\":{:.0},\"used_memory_max\":{mem_max},\
         \"used_memory_peak\":{mem_peak},\"memory_samples\":{samples},\"stream_seconds\":{stream_s:.3}}}",
        a.stream.requests,
        a.stream.keys,
        a.stream.zipf,
        a.value_bytes,
        a.conns,
        a.batch,
        a.rate,
        a.stream.seed,
        total.misses_first_half,
        total.misses_second_half,
        a.stream.requests - a.stream.requests / 2,
        total.sets,
        total.errors,
        total.first_error.as_deref().map_or("null".into(), json_string),
        sent as f64 / secs,
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cache_load: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
