//! Pub/Sub fan-out load for `scripts/bench --sections pubsub`: one publisher, many
//! subscribers, and a count of every message each subscriber receives.
//!
//! Subscribers. `--subscribers` connections; subscriber s subscribes (RESP2 `SUBSCRIBE`) to
//! channel `ch:<s mod channels>`, so each of the `--channels` channels has the same number of
//! receivers when channels divide subscribers (1,000 and 10: 100 each). They are spread over
//! `--threads` threads, each of which owns its sockets through one epoll set (level-triggered,
//! one read of up to 256 KiB per ready socket per turn) and parses the frames incrementally:
//! the bytes of a frame cut by a read are kept per socket until the rest arrives, everything
//! else is parsed in place. Publishing starts only after every subscriber has had its
//! `subscribe` confirmation (channel name and count 1 checked), and the setup (connecting,
//! subscribing) is outside the measured interval.
//!
//! Publisher. One connection on the main thread sends `PUBLISH ch:<k mod channels> <payload>`
//! for k = 0, 1, 2, ... (round-robin over the channels), `--pipeline` commands per write, with
//! at most `--depth` writes unanswered (many, so that the server finds publishes waiting
//! whenever it reads, not just what one round trip brought). The payload is `--payload`
//! bytes: the publish's number within its channel as 12 zero-padded decimal digits, then `x`
//! filler. Each integer reply must equal the channel's number of subscribers; a different
//! count is tallied (`unexpected_publish_replies`; a server that dropped a subscriber answers
//! one less). So that the server's buffers stay bounded when the subscribers cannot keep up,
//! the publisher waits while more than `--window` deliveries are outstanding (the receivers
//! the server reported, or expected for unanswered publishes, minus the messages counted so
//! far).
//! Publishing stops after `--messages` publishes (0: no limit) or `--seconds` seconds,
//! whichever comes first.
//!
//! Counted. Every `message` frame a subscriber receives counts as delivered, after its channel
//! (its own) and its payload (length, sequence digits) are checked; a sequence number that is
//! not the one after the previous message of that subscriber counts as `out_of_order` (a gap
//! or a repeat). A subscriber whose connection ends (EOF or a read error) counts as
//! `disconnected`. After the last reply the load waits up to `--drain-seconds` until every
//! subscriber still connected has received every publish to its channel. Then, per
//! subscriber, expected = publishes to its channel; `lost` sums expected − received where
//! positive (`lost_open` the same over the subscribers still connected: anything but 0 there
//! is a lost message, not a dropped connection) and `extra` sums received − expected where
//! positive. `seconds` runs from the first PUBLISH write to the last message received;
//! `delivered_per_s` = delivered / seconds. `generator_cpu_pct` is this process's CPU
//! (getrusage, all threads, user + system) over the same interval until the threads stopped,
//! as % of one core: near 100% with the load pinned to one CPU means the load, not the
//! server, set the rate.
//!
//! Output: one JSON line on stdout; progress goes to stderr. With `--handshake 1` the load
//! prints `ready` on stdout once every subscriber is confirmed and publishes only after it
//! reads a line from stdin, and after the JSON line it keeps the connections open until
//! stdin closes, so that a caller can read the server's CPU time for exactly the measured
//! interval. Exit status 2 (the reason on stderr) when the server answers `SUBSCRIBE` or
//! `PUBLISH` with an error (a server without Pub/Sub), 1 when the load cannot run otherwise:
//! no connection, a malformed or misrouted frame, a timeout.
//!
//! Usage: pubsub_load --port N [--host 127.0.0.1] [--subscribers 1000] [--channels 10]
//!        [--payload 64] [--pipeline 32] [--depth 32] [--window 262144] [--messages 0]
//!        [--seconds 5] [--threads 2] [--drain-seconds 10] [--handshake 0]

#[path = "common/epoll.rs"]
mod epoll;
#[path = "common/json.rs"]
mod json;
use epoll::Epoll;
use json::json_string;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::resource::{getrlimit, getrusage, setrlimit, Resource, UsageWho};

/// Digits of the sequence number at the start of each payload.
const SEQ_DIGITS: usize = 12;
/// Largest payload accepted, so that a frame always fits in one read buffer.
const PAYLOAD_BYTES_MAX: usize = 64 * 1024;
/// Each subscriber thread's read buffer (a socket's unfinished frame is copied to its front).
const READ_BYTES: usize = 256 * 1024;
/// Longest header line (`*3`, `$<len>`, `:<count>`) and error line accepted.
const LINE_BYTES_MAX: usize = 4096;
/// epoll events taken per epoll_wait.
const EVENTS_MAX: usize = 256;
/// How long a subscriber thread sleeps in epoll_wait before it looks at the stop flag.
const EPOLL_TIMEOUT_MS: i32 = 10;
/// Connecting and subscribing everyone may take this long.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// File descriptors beyond the subscribers' (publisher, epoll sets, stdio, ...).
const SPARE_FDS: u64 = 64;

/// The load's options (see the module doc).
#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long)]
    port: u16,
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    #[arg(long, default_value_t = 10)]
    channels: usize,
    #[arg(long, default_value_t = 64)]
    payload: usize,
    #[arg(long, default_value_t = 32)]
    pipeline: usize,
    #[arg(long, default_value_t = 32)]
    depth: usize,
    #[arg(long, default_value_t = 262_144)]
    window: u64,
    #[arg(long, default_value_t = 0)]
    messages: u64,
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    #[arg(long, default_value_t = 2)]
    threads: usize,
    #[arg(long, default_value_t = 10.0)]
    drain_seconds: f64,
    /// 1: print `ready`, wait for a line on stdin before publishing (see the module doc).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    handshake: u8,
}

fn parse_args() -> Result<Args, String> {
    let mut a = <Args as clap::Parser>::try_parse().map_err(|e| e.to_string())?;
    if a.subscribers == 0 || a.channels == 0 || a.channels > a.subscribers {
        return Err("--channels must be in 1..=--subscribers".into());
    }
    if a.pipeline == 0 || a.depth == 0 || a.threads == 0 {
        return Err("--pipeline, --depth and --threads must be at least 1".into());
    }
    if !(SEQ_DIGITS..=PAYLOAD_BYTES_MAX).contains(&a.payload) {
        return Err(format!(
            "--payload must be in {SEQ_DIGITS}..={PAYLOAD_BYTES_MAX} bytes"
        ));
    }
    if !(a.seconds > 0.0 && a.drain_seconds > 0.0) {
        return Err("--seconds and --drain-seconds must be above 0".into());
    }
    a.threads = a.threads.min(a.subscribers);
    Ok(a)
}

fn channel_name(c: usize) -> String {
    format!("ch:{c}")
}

/// Opens the file descriptor limit far enough for every subscriber's socket.
fn raise_fd_limit(subscribers: usize) -> Result<(), String> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| format!("getrlimit: {e}"))?;
    let want = subscribers as u64 + SPARE_FDS;
    if soft >= want {
        return Ok(());
    }
    if hard < want {
        return Err(format!(
            "{subscribers} subscribers need {want} file descriptors, the hard limit is {hard} \
             (raise it with ulimit -Hn)"
        ));
    }
    setrlimit(Resource::RLIMIT_NOFILE, want, hard).map_err(|e| format!("setrlimit: {e}"))
}

/// Why the load could not run.
#[derive(Clone)]
enum Failure {
    /// The server answered SUBSCRIBE or PUBLISH with an error: it has no Pub/Sub (exit 2).
    Refused(String),
    /// Anything else: I/O, a malformed or misrouted frame, a timeout (exit 1).
    Broken(String),
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Broken(e)
    }
}

impl From<&str> for Failure {
    fn from(e: &str) -> Self {
        Failure::Broken(e.into())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(e) | Failure::Broken(e) => f.write_str(e),
        }
    }
}

/// One complete frame from a subscriber connection.
enum Frame<'a> {
    Message {
        channel: &'a [u8],
        payload: &'a [u8],
    },
    Subscribe {
        channel: &'a [u8],
        count: i64,
    },
    Error(&'a [u8]),
}

/// Unwraps a `Result<Option<T>, _>` step of the parser: returns `Ok(None)` (incomplete) early.
macro_rules! need {
    ($e:expr) => {
        match $e? {
            Some(v) => v,
            None => return Ok(None),
        }
    };
}

/// The line starting at `pos` without its CRLF, and the position after it.
fn line(buf: &[u8], pos: usize) -> Result<Option<(&[u8], usize)>, String> {
    let rest = &buf[pos..];
    let Some(nl) = memchr::memchr(b'\n', &rest[..rest.len().min(LINE_BYTES_MAX)]) else {
        if rest.len() >= LINE_BYTES_MAX {
            return Err(format!("no line end within {LINE_BYTES_MAX} bytes"));
        }
        return Ok(None);
    };
    if nl == 0 || rest[nl - 1] != b'\r' {
        return Err("a line ends in LF without CR".into());
    }
    Ok(Some((&rest[..nl - 1], pos + nl + 1)))
}

fn parse_int(digits: &[u8]) -> Option<i64> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The bulk string starting at `pos` and the position after it.
fn bulk(buf: &[u8], pos: usize) -> Result<Option<(&[u8], usize)>, String> {
    let (head, start) = need!(line(buf, pos));
    let len = match head.split_first() {
        Some((b'$', digits)) => parse_int(digits)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= PAYLOAD_BYTES_MAX)
            .ok_or_else(|| format!("bad bulk header {:?}", String::from_utf8_lossy(head)))?,
        _ => {
            return Err(format!(
                "expected a bulk string, got {:?}",
                String::from_utf8_lossy(head)
            ))
        }
    };
    let end = start + len;
    if buf.len() < end + 2 {
        return Ok(None);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err("a bulk string does not end in CRLF".into());
    }
    Ok(Some((&buf[start..end], end + 2)))
}

/// Parses the frame at the start of `buf`: `Ok(None)` while it is incomplete, else the frame
/// and its length.
fn parse_frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, String> {
    match buf.first() {
        None => Ok(None),
        Some(b'-') => {
            let (text, end) = need!(line(buf, 0));
            Ok(Some((Frame::Error(&text[1..]), end)))
        }
        Some(b'*') => {
            let (head, pos) = need!(line(buf, 0));
            if head != b"*3" {
                return Err(format!(
                    "expected a 3-element push, got {:?}",
                    String::from_utf8_lossy(head)
                ));
            }
            let (kind, pos) = need!(bulk(buf, pos));
            let (channel, pos) = need!(bulk(buf, pos));
            match kind {
                b"message" => {
                    let (payload, end) = need!(bulk(buf, pos));
                    Ok(Some((Frame::Message { channel, payload }, end)))
                }
                b"subscribe" => {
                    let (text, end) = need!(line(buf, pos));
                    let count = match text.split_first() {
                        Some((b':', digits)) => parse_int(digits),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        format!("bad subscribe count {:?}", String::from_utf8_lossy(text))
                    })?;
                    Ok(Some((Frame::Subscribe { channel, count }, end)))
                }
                _ => Err(format!(
                    "unexpected push kind {:?}",
                    String::from_utf8_lossy(kind)
                )),
            }
        }
        Some(_) => Err(format!(
            "unexpected frame starting {:?}",
            String::from_utf8_lossy(&buf[..buf.len().min(40)])
        )),
    }
}

/// The decimal sequence number at the start of a payload.
fn payload_seq(payload: &[u8]) -> Option<u64> {
    let digits = payload.get(..SEQ_DIGITS)?;
    digits.iter().try_fold(0u64, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0'))
    })
}

/// State shared by the publisher (main thread) and the subscriber threads.
#[derive(Default)]
struct Shared {
    /// Subscriber threads whose subscribers all have their confirmation.
    ready: AtomicUsize,
    /// Messages received by all subscribers so far.
    delivered: AtomicU64,
    /// Publishes per channel, set by main once the last reply is in.
    published: OnceLock<Vec<u64>>,
    /// Subscriber threads whose open subscribers have all received every publish.
    drained: AtomicUsize,
    /// Set by main: the subscriber threads return.
    stop: AtomicBool,
    /// Set by a subscriber thread that failed (its error comes back through join).
    failed: AtomicBool,
}

struct Subscriber {
    stream: TcpStream,
    channel: usize,
    /// The start of a frame that the last read cut off.
    partial: Vec<u8>,
    received: u64,
    next_seq: u64,
    out_of_order: u64,
    confirmed: bool,
    open: bool,
}

/// What one subscriber thread reports. It hands its subscribers back, connections still
/// open, so that main decides when they close (after the result, see `--handshake`).
struct ThreadTally {
    subs: Vec<Subscriber>,
    disconnected: u64,
    last_message: Option<Instant>,
}

/// Handles the frames of one read; returns the messages among them and the bytes consumed.
fn on_frames(
    a: &Args,
    names: &[String],
    sub: &mut Subscriber,
    buf: &[u8],
) -> Result<(u64, usize), Failure> {
    let mut pos = 0;
    let mut messages = 0;
    // Each turn consumes at least one byte, so buf.len() turns bound the loop.
    for _ in 0..buf.len() {
        let Some((frame, len)) = parse_frame(&buf[pos..])? else {
            break;
        };
        pos += len;
        let name = names[sub.channel].as_bytes();
        match frame {
            Frame::Message { channel, payload } => {
                if channel != name {
                    return Err(format!(
                        "a subscriber of {} received a message for {:?}",
                        names[sub.channel],
                        String::from_utf8_lossy(channel)
                    )
                    .into());
                }
                let seq = payload_seq(payload)
                    .filter(|_| payload.len() == a.payload)
                    .ok_or_else(|| {
                        format!(
                            "a message on {} has a payload that was never published ({} bytes)",
                            names[sub.channel],
                            payload.len()
                        )
                    })?;
                if seq != sub.next_seq {
                    sub.out_of_order += 1;
                }
                sub.next_seq = seq + 1;
                sub.received += 1;
                messages += 1;
            }
            Frame::Subscribe { channel, count } => {
                if channel != name || count != 1 || sub.confirmed {
                    return Err(format!(
                        "SUBSCRIBE {} answered subscribe {:?} {count}",
                        names[sub.channel],
                        String::from_utf8_lossy(channel)
                    )
                    .into());
                }
                sub.confirmed = true;
            }
            Frame::Error(text) => {
                let text = String::from_utf8_lossy(text);
                // Before its confirmation the error answers SUBSCRIBE itself.
                return Err(if sub.confirmed {
                    Failure::Broken(format!("a subscriber got the error reply -{text}"))
                } else {
                    Failure::Refused(format!("SUBSCRIBE {} answered -{text}", names[sub.channel]))
                });
            }
        }
        if pos == buf.len() {
            break;
        }
    }
    Ok((messages, pos))
}

/// Connects subscribers `ids`, subscribes them, and counts their messages until `stop`.
fn run_subscribers(a: &Args, ids: &[usize], shared: &Shared) -> Result<ThreadTally, Failure> {
    let names: Vec<String> = (0..a.channels).map(channel_name).collect();
    let epoll = Epoll::new()?;
    let mut subs = Vec::with_capacity(ids.len());
    for (token, &s) in ids.iter().enumerate() {
        let mut stream = TcpStream::connect((a.host.as_str(), a.port))
            .map_err(|e| format!("subscriber {s}: connect: {e}"))?;
        let channel = s % a.channels;
        let name = &names[channel];
        write!(
            stream,
            "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{name}\r\n",
            name.len()
        )
        .map_err(|e| format!("subscriber {s}: write: {e}"))?;
        stream
            .set_nonblocking(true)
            .map_err(|e| format!("subscriber {s}: nonblocking: {e}"))?;
        epoll.ctl(libc::EPOLL_CTL_ADD, stream.as_raw_fd(), token as u64)?;
        subs.push(Subscriber {
            stream,
            channel,
            partial: Vec::new(),
            received: 0,
            next_seq: 0,
            out_of_order: 0,
            confirmed: false,
            open: true,
        });
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS_MAX];
    let mut buf = vec![0u8; READ_BYTES];
    let (mut confirmed, mut disconnected) = (0usize, 0u64);
    let mut last_message = None;
    let mut drained = false;
    // Bounded by `stop`, which main sets after the drain or on any failure or timeout.
    while !shared.stop.load(Ordering::Relaxed) {
        let n = epoll.wait(&mut events, EPOLL_TIMEOUT_MS)?;
        for ev in &events[..n] {
            // A copy: epoll_event is packed on x86-64, so its fields cannot be borrowed.
            let token = ev.u64;
            let sub = &mut subs[token as usize];
            let kept = sub.partial.len();
            buf[..kept].copy_from_slice(&sub.partial);
            let got = match sub.stream.read(&mut buf[kept..]) {
                Ok(0) => None,
                Ok(got) => Some(got),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                    continue;
                }
                Err(_) => None,
            };
            let Some(got) = got else {
                if !sub.confirmed {
                    return Err(format!(
                        "the server closed subscriber {} before confirming SUBSCRIBE",
                        ids[token as usize]
                    )
                    .into());
                }
                epoll.ctl(libc::EPOLL_CTL_DEL, sub.stream.as_raw_fd(), token)?;
                sub.open = false;
                disconnected += 1;
                continue;
            };
            let was_confirmed = sub.confirmed;
            let (messages, used) = on_frames(a, &names, sub, &buf[..kept + got])?;
            sub.partial.clear();
            sub.partial.extend_from_slice(&buf[used..kept + got]);
            if sub.confirmed && !was_confirmed {
                confirmed += 1;
                if confirmed == subs.len() {
                    shared.ready.fetch_add(1, Ordering::Release);
                }
            }
            if messages > 0 {
                shared.delivered.fetch_add(messages, Ordering::Relaxed);
                last_message = Some(Instant::now());
            }
        }
        if let (false, Some(published)) = (drained, shared.published.get()) {
            drained = subs
                .iter()
                .all(|s| !s.open || s.received >= published[s.channel]);
            if drained {
                shared.drained.fetch_add(1, Ordering::Release);
            }
        }
    }
    debug_assert_eq!(disconnected, subs.iter().filter(|s| !s.open).count() as u64);
    Ok(ThreadTally {
        subs,
        disconnected,
        last_message,
    })
}

/// What the publisher saw.
struct PubTally {
    /// Publishes per channel.
    per_channel: Vec<u64>,
    /// Sum of the receiver counts the server replied.
    receivers: u64,
    unexpected_replies: u64,
    first_unexpected: Option<String>,
}

/// Appends `PUBLISH ch:<channel> <payload>`, the payload numbered `seq`.
fn push_publish(out: &mut Vec<u8>, name: &str, seq: u64, payload: usize) {
    // write! into a Vec cannot fail.
    let _ = write!(
        out,
        "*3\r\n$7\r\nPUBLISH\r\n${}\r\n{name}\r\n${payload}\r\n{seq:0width$}",
        name.len(),
        width = SEQ_DIGITS
    );
    out.resize(out.len() + payload - SEQ_DIGITS, b'x');
    out.extend_from_slice(b"\r\n");
}

/// Publishes until `--messages` or `--seconds`; returns once every reply is read.
fn run_publisher(
    a: &Args,
    receivers_per_channel: &[u64],
    shared: &Shared,
    start: Instant,
) -> Result<PubTally, Failure> {
    let stream = TcpStream::connect((a.host.as_str(), a.port))
        .map_err(|e| format!("publisher: connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("publisher: nodelay: {e}"))?;
    let mut writer = stream
        .try_clone()
        .map_err(|e| format!("publisher: clone: {e}"))?;
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let names: Vec<String> = (0..a.channels).map(channel_name).collect();
    let stop_at = start + Duration::from_secs_f64(a.seconds);
    let mut t = PubTally {
        per_channel: vec![0; a.channels],
        receivers: 0,
        unexpected_replies: 0,
        first_unexpected: None,
    };
    // Publishes written (k), and the first publish and count of each unanswered write.
    let mut written = 0u64;
    let mut in_flight: VecDeque<(u64, usize)> = VecDeque::with_capacity(a.depth);
    // Deliveries the subscribers have yet to count, as far as the publisher knows: expected
    // receivers for unanswered publishes, the server's count for answered ones.
    let mut owed = 0u64;
    let (mut out, mut reply) = (Vec::new(), Vec::new());
    let mut done = false;
    let mut stalled_since: Option<Instant> = None;
    loop {
        if shared.failed.load(Ordering::Relaxed) {
            return Err("a subscriber thread failed".into());
        }
        if !done {
            done = (a.messages > 0 && written >= a.messages) || Instant::now() >= stop_at;
        }
        let outstanding = owed.saturating_sub(shared.delivered.load(Ordering::Relaxed));
        if !done && in_flight.len() < a.depth && outstanding <= a.window {
            stalled_since = None;
            let count = if a.messages > 0 {
                (a.messages - written).min(a.pipeline as u64) as usize
            } else {
                a.pipeline
            };
            out.clear();
            for k in written..written + count as u64 {
                let c = (k % a.channels as u64) as usize;
                push_publish(&mut out, &names[c], t.per_channel[c], a.payload);
                t.per_channel[c] += 1;
                owed += receivers_per_channel[c];
            }
            writer
                .write_all(&out)
                .map_err(|e| format!("publisher: write: {e}"))?;
            in_flight.push_back((written, count));
            written += count as u64;
        } else if let Some((first, count)) = in_flight.pop_front() {
            for k in first..first + count as u64 {
                let c = (k % a.channels as u64) as usize;
                reply.clear();
                let n = reader
                    .by_ref()
                    .take(LINE_BYTES_MAX as u64)
                    .read_until(b'\n', &mut reply)
                    .map_err(|e| format!("publisher: read: {e}"))?;
                if n == 0 {
                    return Err("the server closed the publisher's connection".into());
                }
                let text = reply.strip_suffix(b"\r\n").unwrap_or(&reply);
                let got = match text.split_first() {
                    Some((b':', digits)) => parse_int(digits)
                        .and_then(|n| u64::try_from(n).ok())
                        .ok_or_else(|| {
                        format!("PUBLISH answered {:?}", String::from_utf8_lossy(text))
                    })?,
                    Some((b'-', _)) => {
                        return Err(Failure::Refused(format!(
                            "PUBLISH answered {:?}",
                            String::from_utf8_lossy(text)
                        )))
                    }
                    _ => {
                        return Err(
                            format!("PUBLISH answered {:?}", String::from_utf8_lossy(text)).into(),
                        )
                    }
                };
                let want = receivers_per_channel[c];
                if got != want {
                    t.unexpected_replies += 1;
                    t.first_unexpected.get_or_insert_with(|| {
                        format!("PUBLISH {} answered {got}, expected {want}", names[c])
                    });
                }
                owed = owed - want + got;
                t.receivers += got;
            }
        } else if done {
            break;
        } else {
            // The window is full and every reply is in: the subscribers are behind.
            let since = *stalled_since.get_or_insert_with(Instant::now);
            if since.elapsed().as_secs_f64() > a.drain_seconds {
                return Err(format!(
                    "the subscribers received nothing for {} s with {outstanding} messages \
                     outstanding",
                    a.drain_seconds
                )
                .into());
            }
            std::thread::sleep(Duration::from_micros(20));
        }
    }
    debug_assert_eq!(t.per_channel.iter().sum::<u64>(), written);
    Ok(t)
}

/// User plus system CPU seconds of this process, all threads.
fn cpu_seconds() -> Result<f64, String> {
    let u = getrusage(UsageWho::RUSAGE_SELF).map_err(|e| format!("getrusage: {e}"))?;
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    Ok(secs(u.user_time()) + secs(u.system_time()))
}

/// Waits up to `timeout` for `done`; fails early once a subscriber thread has failed.
fn wait_for(shared: &Shared, timeout: Duration, done: impl Fn() -> bool) -> Result<bool, Failure> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return Ok(true);
        }
        if shared.failed.load(Ordering::Relaxed) {
            return Err("a subscriber thread failed".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(done())
}

fn run() -> Result<(), Failure> {
    let a = Arc::new(parse_args()?);
    raise_fd_limit(a.subscribers)?;
    let mut receivers_per_channel = vec![0u64; a.channels];
    for s in 0..a.subscribers {
        receivers_per_channel[s % a.channels] += 1;
    }
    let shared = Arc::new(Shared::default());
    let threads: Vec<_> = (0..a.threads)
        .map(|t| {
            let (a, shared) = (Arc::clone(&a), Arc::clone(&shared));
            std::thread::spawn(move || {
                let ids: Vec<usize> = (t..a.subscribers).step_by(a.threads).collect();
                let r = run_subscribers(&a, &ids, &shared);
                if r.is_err() {
                    shared.failed.store(true, Ordering::Relaxed);
                }
                r
            })
        })
        .collect();
    let setup = Instant::now();
    let outcome = (|| {
        let all_ready = || shared.ready.load(Ordering::Acquire) == a.threads;
        if !wait_for(&shared, SETUP_TIMEOUT, all_ready)? {
            return Err(format!(
                "not every subscriber was confirmed within {} s",
                SETUP_TIMEOUT.as_secs()
            )
            .into());
        }
        eprintln!(
            "pubsub_load: {} subscribers on {} channels confirmed in {:.2} s",
            a.subscribers,
            a.channels,
            setup.elapsed().as_secs_f64()
        );
        if a.handshake != 0 {
            println!("ready");
            std::io::stdout()
                .flush()
                .map_err(|e| format!("stdout: {e}"))?;
            let mut go = String::new();
            let n = std::io::stdin()
                .read_line(&mut go)
                .map_err(|e| format!("stdin: {e}"))?;
            if n == 0 {
                return Err("stdin closed before the line that starts publishing".into());
            }
        }
        let (cpu0, start) = (cpu_seconds()?, Instant::now());
        let p = run_publisher(&a, &receivers_per_channel, &shared, start)?;
        let publish_s = start.elapsed().as_secs_f64();
        // Set once: nothing else sets it.
        let _ = shared.published.set(p.per_channel.clone());
        let all_in = || shared.drained.load(Ordering::Acquire) == a.threads;
        let drained = wait_for(&shared, Duration::from_secs_f64(a.drain_seconds), all_in)?;
        Ok((p, cpu0, start, publish_s, drained))
    })();
    shared.stop.store(true, Ordering::Relaxed);
    let mut tallies = Vec::with_capacity(a.threads);
    let mut failure = outcome.as_ref().err().cloned();
    for t in threads {
        match t.join() {
            Ok(Ok(tally)) => tallies.push(tally),
            // A thread's own error explains a "subscriber thread failed" from main.
            Ok(Err(e)) => failure = Some(e),
            Err(_) => failure = Some("a subscriber thread panicked".into()),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let (p, cpu0, start, publish_s, drained) = outcome?;
    let cpu_s = cpu_seconds()? - cpu0;
    let cpu_wall_s = start.elapsed().as_secs_f64();

    let (mut delivered, mut expected, mut lost, mut extra) = (0u64, 0u64, 0u64, 0u64);
    let mut lost_open = 0u64;
    let (mut out_of_order, mut disconnected) = (0u64, 0u64);
    let mut last = start;
    for t in &tallies {
        for sub in &t.subs {
            let (got, want) = (sub.received, p.per_channel[sub.channel]);
            delivered += got;
            expected += want;
            lost += want.saturating_sub(got);
            if sub.open {
                lost_open += want.saturating_sub(got);
            }
            extra += got.saturating_sub(want);
            out_of_order += sub.out_of_order;
        }
        disconnected += t.disconnected;
        last = last.max(t.last_message.unwrap_or(start));
    }
    let published: u64 = p.per_channel.iter().sum();
    let secs = (last - start).as_secs_f64().max(publish_s);
    println!(
        "{{\"subscribers\":{},\"channels\":{},\"payload\":{},\"pipeline\":{},\"depth\":{},\
         \"window\":{},\"threads\":{},\"published\":{published},\"expected\":{expected},\
         \"delivered\":{delivered},\"server_receivers\":{},\"lost\":{lost},\
         \"lost_open\":{lost_open},\"extra\":{extra},\
         \"out_of_order\":{out_of_order},\"disconnected\":{disconnected},\
         \"unexpected_publish_replies\":{},\"first_unexpected_reply\":{},\"drained\":{drained},\
         \"publish_seconds\":{publish_s:.3},\"seconds\":{secs:.3},\
         \"delivered_per_s\":{:.0},\"published_per_s\":{:.0},\"generator_cpu_s\":{cpu_s:.3},\
         \"generator_cpu_pct\":{:.1}}}",
        a.subscribers,
        a.channels,
        a.payload,
        a.pipeline,
        a.depth,
        a.window,
        a.threads,
        p.receivers,
        p.unexpected_replies,
        p.first_unexpected
            .as_deref()
            .map_or("null".into(), json_string),
        delivered as f64 / secs,
        published as f64 / secs,
        100.0 * cpu_s / cpu_wall_s,
    );
    if a.handshake != 0 {
        // The subscribers' connections close only after this, so that the caller can read
        // the server's CPU before their teardown adds to it.
        std::io::stdout()
            .flush()
            .map_err(|e| format!("stdout: {e}"))?;
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink())
            .map_err(|e| format!("stdin: {e}"))?;
    }
    drop(tallies);
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pubsub_load: {e}");
            match e {
                Failure::Refused(_) => std::process::ExitCode::from(2),
                Failure::Broken(_) => std::process::ExitCode::FAILURE,
            }
        }
    }
}
