//! Helpers shared by the integration tests: start a server on a free loopback port, and a tiny
//! raw RESP client whose replies can be compared byte for byte.
//!
//! Invariants:
//! - Every server started here listens on 127.0.0.1 only, on a port picked from the kernel's
//!   ephemeral range, and runs in its own scratch directory (so a stray dump file never lands in
//!   the worktree). Dropping a `Server` kills and reaps the child and removes that directory.
//! - Every wait is bounded: start-up waits at most `START_TIMEOUT`, every read has a timeout.
//!
//! Environment:
//! - `RINGKV_BIN` overrides the binary under test (default: the `ringkv` binary Cargo built).
//!   Pointing it at `redis-server` runs every test redis-vs-redis, which is how the harness
//!   itself is validated.
//! - `REDIS_SERVER_BIN` overrides the reference server (default: `redis-server` on `PATH`).
//! - `RINGKV_TEST_PORT` makes `Server::start_or_attach` use a server already listening on that
//!   loopback port instead of starting one (tests that call it then share that server).
//!
//! `diff` holds the harness of the differential tests.

// Each test binary compiles this module and uses a different subset of it.
#![allow(dead_code)]

pub mod diff;
pub mod files;
pub mod legacy;

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to answer its first PING.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Default read timeout of a `Raw` connection.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a start is retried with a fresh port (another process may grab the port
/// between our probe and the server's bind).
const START_ATTEMPTS_MAX: u32 = 5;

/// The binary under test: `$RINGKV_BIN` or the `ringkv` binary of this crate.
pub fn ringkv_bin() -> String {
    std::env::var("RINGKV_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ringkv").to_string())
}

/// The reference server: `$REDIS_SERVER_BIN` or `redis-server`.
pub fn redis_bin() -> String {
    std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".to_string())
}

/// Arguments that keep a real redis-server from writing snapshots or an AOF.
const REDIS_NO_PERSIST: &[&str] = &["--save", "", "--appendonly", "no"];

pub struct Server {
    pub port: u16,
    /// None for a server the test did not start (`start_or_attach`).
    child: Option<Child>,
    dir: Option<PathBuf>,
    /// The binary that runs, for messages.
    pub bin: String,
}

impl Server {
    /// Starts the binary under test (see `ringkv_bin`) with `--port N --bind 127.0.0.1` followed
    /// by `extra_args`. When `RINGKV_BIN` names a redis-server, persistence is switched off as in
    /// `start_redis`.
    pub fn start(extra_args: &[&str]) -> Server {
        let bin = ringkv_bin();
        let mut args: Vec<&str> = Vec::new();
        if is_redis_server(&bin) {
            args.extend_from_slice(REDIS_NO_PERSIST);
        }
        args.extend_from_slice(extra_args);
        Server::start_bin(&bin, &args)
    }

    /// With `RINGKV_TEST_PORT` set, a handle on the server already listening on that loopback
    /// port, after FLUSHALL (nothing is started, and dropping the handle leaves it running);
    /// otherwise `start(extra_args)`.
    pub fn start_or_attach(extra_args: &[&str]) -> Server {
        let Ok(port) = std::env::var("RINGKV_TEST_PORT") else {
            return Server::start(extra_args);
        };
        let port: u16 = port
            .parse()
            .unwrap_or_else(|_| panic!("RINGKV_TEST_PORT={port:?} is not a port"));
        let server = Server {
            port,
            child: None,
            dir: None,
            bin: format!("the server on port {port} (RINGKV_TEST_PORT)"),
        };
        assert_eq!(server.raw().cmd_str(&["FLUSHALL"]), Reply::ok(), "FLUSHALL");
        server
    }

    /// `start_redis` when `redis`, else `start`.
    pub fn start_either(redis: bool, extra_args: &[&str]) -> Server {
        if redis {
            Server::start_redis(extra_args)
        } else {
            Server::start(extra_args)
        }
    }

    /// Starts the real redis-server with persistence off, then `extra_args`.
    pub fn start_redis(extra_args: &[&str]) -> Server {
        let bin = redis_bin();
        match Command::new(&bin)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(_) => {}
            Err(e) => panic!(
                "cannot run the reference server `{bin}` ({e}): install redis-server \
                 (Debian: apt-get install redis-server) or set REDIS_SERVER_BIN"
            ),
        }
        let mut args: Vec<&str> = REDIS_NO_PERSIST.to_vec();
        args.extend_from_slice(extra_args);
        Server::start_bin(&bin, &args)
    }

    /// Starts `bin --port N --bind 127.0.0.1 <args>` and waits until it answers PING.
    pub fn start_bin(bin: &str, args: &[&str]) -> Server {
        Server::start_bin_env(bin, args, &[])
    }

    /// `start_bin` with extra environment variables (the test knobs, e.g.
    /// `RINGKV_BGSAVE_SLICE_KEYS`).
    pub fn start_bin_env(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut failures = Vec::new();
        for _attempt in 0..START_ATTEMPTS_MAX {
            match Server::try_start(bin, args, env) {
                Ok(server) => return server,
                Err(msg) => failures.push(msg),
            }
        }
        panic!(
            "could not start `{bin} {}` after {START_ATTEMPTS_MAX} attempts:\n{}",
            args.join(" "),
            failures.join("\n---\n")
        );
    }

    fn try_start(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Server, String> {
        let port = free_port();
        let dir = scratch_dir();
        let log_path = dir.join("server.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("create log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("clone log: {e}"))?;
        let child = Command::new(bin)
            .arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("spawn `{bin}`: {e}"));
            }
        };
        let mut server = Server {
            port,
            child: Some(child),
            dir: Some(dir),
            bin: bin.to_string(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(Ok(Some(status))) = server.child.as_mut().map(Child::try_wait) {
                return Err(format!(
                    "`{bin}` on port {port} exited with {status} before answering PING; log:\n{}",
                    server.log_tail()
                ));
            }
            if ping_once(port) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "`{bin}` on port {port} did not answer PING within {START_TIMEOUT:?}; log:\n{}",
                    server.log_tail()
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The last lines the server wrote to stdout/stderr, for failure messages.
    pub fn log_tail(&self) -> String {
        let Some(dir) = &self.dir else {
            return format!("(no log: {} was not started by the test)", self.bin);
        };
        let text = std::fs::read(dir.join("server.log")).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    pub fn addr(&self) -> (Ipv4Addr, u16) {
        (Ipv4Addr::LOCALHOST, self.port)
    }

    /// A new raw connection to this server.
    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// The OS process id, e.g. to read /proc. Panics for a server the test did not start.
    /// Sends `sig` (as `kill` takes it: `-STOP`, `-CONT`, `-TERM`) to the server process.
    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill {sig}");
    }

    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .unwrap_or_else(|| panic!("no pid: {} was not started by the test", self.bin))
            .id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Whether `bin` names a redis-server binary (e.g. `RINGKV_BIN` pointing at one).
pub fn is_redis_server(bin: &str) -> bool {
    std::path::Path::new(bin)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("redis-server"))
}

/// A port the kernel considered free a moment ago. The listener is dropped before the server
/// binds, so there is a small race, which `Server::start_bin` covers by retrying.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

fn scratch_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ringkv-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// True when something on `port` answered a PING with any complete reply line (an error such as
/// NOAUTH also proves the server is accepting commands).
fn ping_once(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &(Ipv4Addr::LOCALHOST, port).into(),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = s.set_write_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    matches!(got.first(), Some(b'+' | b'-'))
}

/// One RESP2 or RESP3 reply.
///
/// Doubles and big numbers keep their exact wire text so that comparisons are exact.
/// Blob errors (`!`) are folded into `Error`, as a client library would show them.
#[derive(Clone, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
    Double(String),
    Null,
    Bool(bool),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Verbatim {
        format: String,
        text: Vec<u8>,
    },
    BigNumber(String),
    Push(Vec<Reply>),
    /// A RESP3 attribute map followed by the reply it annotates.
    Attribute {
        attrs: Vec<(Reply, Reply)>,
        reply: Box<Reply>,
    },
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }
    pub fn bulk(b: &[u8]) -> Reply {
        Reply::Bulk(Some(b.to_vec()))
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

/// Shows bulk strings as escaped text so binary values stay readable in failure messages.
impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Status(s) => write!(f, "+{s}"),
            Reply::Error(s) => write!(f, "-{s}"),
            Reply::Int(i) => write!(f, ":{i}"),
            Reply::Bulk(None) => write!(f, "(nil bulk)"),
            Reply::Bulk(Some(b)) => write!(f, "\"{}\"", escape(b)),
            Reply::Array(None) => write!(f, "(nil array)"),
            Reply::Array(Some(items)) => f.debug_list().entries(items).finish(),
            Reply::Double(s) => write!(f, ",{s}"),
            Reply::Null => write!(f, "(null)"),
            Reply::Bool(b) => write!(f, "#{}", if *b { 't' } else { 'f' }),
            Reply::Map(kv) => f
                .debug_map()
                .entries(kv.iter().map(|(k, v)| (k, v)))
                .finish(),
            Reply::Set(items) => {
                write!(f, "~")?;
                f.debug_set().entries(items).finish()
            }
            Reply::Verbatim { format, text } => write!(f, "={format}:\"{}\"", escape(text)),
            Reply::BigNumber(s) => write!(f, "({s})"),
            Reply::Push(items) => {
                write!(f, ">")?;
                f.debug_list().entries(items).finish()
            }
            Reply::Attribute { attrs, reply } => {
                write!(f, "|")?;
                f.debug_map()
                    .entries(attrs.iter().map(|(k, v)| (k, v)))
                    .finish()?;
                write!(f, " {reply:?}")
            }
        }
    }
}

/// Printable form of arbitrary bytes: ASCII as is, everything else as `\xNN`.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// A command line in readable form, e.g. `SET "k1" "\x00"`.
pub fn show_cmd(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| format!("\"{}\"", escape(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Encodes one command as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    encode_into(&mut out, args);
    out
}

pub fn encode_into(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Largest aggregate or blob the reader accepts; a bigger header means the stream is garbage.
const READ_LEN_MAX: i64 = 1 << 30;
/// Deepest nesting the reader accepts.
const READ_DEPTH_MAX: u32 = 64;

/// A raw RESP connection: what is written is exactly what the test wrote.
pub struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream =
            TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(5))
                .unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"));
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(READ_TIMEOUT))
            .expect("write timeout");
        let writer = stream.try_clone().expect("clone stream");
        Raw {
            reader: BufReader::with_capacity(1 << 16, stream),
            writer,
        }
    }

    /// A second handle to the connection's socket (e.g. for a thread that writes while the
    /// test reads).
    pub fn clone_stream(&self) -> TcpStream {
        self.writer.try_clone().expect("clone stream")
    }

    pub fn set_read_timeout(&mut self, t: Duration) {
        self.writer.set_read_timeout(Some(t)).expect("read timeout");
    }

    /// Writes raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("write {} bytes: {e}", bytes.len()));
    }

    /// Like `send`, but returns the error (the peer may have closed the connection).
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// Sends one command and reads exactly one reply.
    pub fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        self.send(&encode(args));
        self.read_reply()
    }

    /// Same as `cmd` with string arguments.
    pub fn cmd_str(&mut self, args: &[&str]) -> Reply {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.cmd(&args)
    }

    /// Reads one reply; panics on timeout, EOF or malformed input.
    pub fn read_reply(&mut self) -> Reply {
        self.try_read_reply()
            .unwrap_or_else(|e| panic!("reading a reply: {e}"))
    }

    pub fn try_read_reply(&mut self) -> io::Result<Reply> {
        read_value(&mut self.reader, 0)
    }

    /// Exact-bytes mode: sends one command and returns its reply exactly as the server wrote
    /// it (checked to be one well-formed RESP2/RESP3 value).
    pub fn cmd_exact(&mut self, args: &[&str]) -> Vec<u8> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&encode(&args));
        self.read_reply_bytes()
    }

    /// Reads one reply and returns its bytes as they came off the wire; panics on timeout,
    /// EOF or malformed input.
    pub fn read_reply_bytes(&mut self) -> Vec<u8> {
        let mut tee = Tee {
            inner: &mut self.reader,
            taken: Vec::new(),
        };
        read_value(&mut tee, 0).unwrap_or_else(|e| panic!("reading a reply: {e}"));
        tee.taken
    }

    /// True when the peer closes the connection within `within` without sending more data.
    /// Data that does arrive is a failure of the caller's expectation, so it is returned as Err.
    pub fn expect_closed(&mut self, within: Duration) -> Result<(), String> {
        self.writer.set_read_timeout(Some(within)).expect("timeout");
        let mut buf = [0u8; 256];
        let deadline = Instant::now() + within;
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    return Err(format!(
                        "expected the connection to close, got {:?}",
                        escape(&buf[..n])
                    ))
                }
                // A reset also means the server closed the connection.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted && Instant::now() < deadline => {}
                Err(e) => return Err(format!("connection still open after {within:?}: {e}")),
            }
        }
    }
}

impl Raw {
    /// True when the peer closes the connection within `within`; whatever it sends first is
    /// read and dropped (a server may flush some replies before it closes).
    pub fn wait_closed(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let mut buf = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.writer.set_read_timeout(Some(left)).expect("timeout");
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }
}

/// One connection to each server, both switched to RESP3 (HELLO 3) when `resp3`.
pub fn raw_pair(ours: &Server, redis: &Server, resp3: bool) -> (Raw, Raw) {
    let (mut a, mut b) = (ours.raw(), redis.raw());
    if resp3 {
        for c in [&mut a, &mut b] {
            assert!(matches!(c.cmd_str(&["HELLO", "3"]), Reply::Map(_)));
        }
    }
    (a, b)
}

/// Sends `args` on both connections, asserts the two replies are equal and returns it.
pub fn same_reply(a: &mut Raw, b: &mut Raw, args: &[&str]) -> Reply {
    let (x, y) = (a.cmd_str(args), b.cmd_str(args));
    assert_eq!(x, y, "{args:?}");
    x
}

/// CONFIG GET `param`, then for each of `values` its CONFIG SET reply and the CONFIG GET
/// after it: one line each, for comparing two servers' transcripts.
pub fn config_transcript(c: &mut Raw, param: &str, values: &[&str]) -> Vec<String> {
    let mut lines = vec![format!(
        "{param}: {:?}",
        c.cmd_str(&["CONFIG", "GET", param])
    )];
    for v in values {
        let set = c.cmd_str(&["CONFIG", "SET", param, v]);
        let get = c.cmd_str(&["CONFIG", "GET", param]);
        lines.push(format!("{param} {v:?}: {set:?} {get:?}"));
    }
    lines
}

/// A reader that keeps a copy of every byte consumed through it.
struct Tee<'a, R> {
    inner: &'a mut R,
    taken: Vec<u8>,
}

impl<R: BufRead> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tee<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The bytes about to be consumed are still in the buffer `fill_buf` returned.
        if let Ok(buf) = self.inner.fill_buf() {
            self.taken.extend_from_slice(&buf[..amt.min(buf.len())]);
        }
        self.inner.consume(amt);
    }
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Reads one `\r\n`-terminated header line without the terminator.
fn read_line(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let n = r.read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(bad(format!(
            "reply line without CRLF: \"{}\"",
            escape(&line)
        )));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn parse_int(b: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad integer \"{}\"", escape(b))))
}

/// Reads `len` bytes plus the CRLF after them.
fn read_blob(r: &mut impl BufRead, len: i64) -> io::Result<Vec<u8>> {
    if !(0..=READ_LEN_MAX).contains(&len) {
        return Err(bad(format!("bad blob length {len}")));
    }
    let mut buf = vec![0u8; len as usize + 2];
    r.read_exact(&mut buf)?;
    if !buf.ends_with(b"\r\n") {
        return Err(bad("blob without trailing CRLF".into()));
    }
    buf.truncate(len as usize);
    Ok(buf)
}

fn read_items(r: &mut impl BufRead, n: i64, depth: u32) -> io::Result<Vec<Reply>> {
    if !(0..=READ_LEN_MAX).contains(&n) {
        return Err(bad(format!("bad aggregate length {n}")));
    }
    (0..n).map(|_| read_value(r, depth + 1)).collect()
}

fn read_pairs(r: &mut impl BufRead, n: i64, depth: u32) -> io::Result<Vec<(Reply, Reply)>> {
    if !(0..=READ_LEN_MAX).contains(&n) {
        return Err(bad(format!("bad map length {n}")));
    }
    (0..n)
        .map(|_| Ok((read_value(r, depth + 1)?, read_value(r, depth + 1)?)))
        .collect()
}

fn read_value(r: &mut impl BufRead, depth: u32) -> io::Result<Reply> {
    if depth > READ_DEPTH_MAX {
        return Err(bad(format!("reply nested deeper than {READ_DEPTH_MAX}")));
    }
    let line = read_line(r)?;
    let Some((&kind, rest)) = line.split_first() else {
        return Err(bad("empty reply line".into()));
    };
    let text = || String::from_utf8_lossy(rest).into_owned();
    Ok(match kind {
        b'+' => Reply::Status(text()),
        b'-' => Reply::Error(text()),
        b':' => Reply::Int(parse_int(rest)?),
        b'$' => match parse_int(rest)? {
            -1 => Reply::Bulk(None),
            len => Reply::Bulk(Some(read_blob(r, len)?)),
        },
        b'*' => match parse_int(rest)? {
            -1 => Reply::Array(None),
            n => Reply::Array(Some(read_items(r, n, depth)?)),
        },
        b'_' => Reply::Null,
        b',' => Reply::Double(text()),
        b'#' => match rest {
            b"t" => Reply::Bool(true),
            b"f" => Reply::Bool(false),
            _ => return Err(bad(format!("bad boolean \"{}\"", escape(rest)))),
        },
        b'(' => Reply::BigNumber(text()),
        b'!' => {
            let len = parse_int(rest)?;
            Reply::Error(String::from_utf8_lossy(&read_blob(r, len)?).into_owned())
        }
        b'=' => {
            let len = parse_int(rest)?;
            let blob = read_blob(r, len)?;
            if blob.len() < 4 || blob[3] != b':' {
                return Err(bad("verbatim string without a format prefix".into()));
            }
            Reply::Verbatim {
                format: String::from_utf8_lossy(&blob[..3]).into_owned(),
                text: blob[4..].to_vec(),
            }
        }
        b'%' => Reply::Map(read_pairs(r, parse_int(rest)?, depth)?),
        b'~' => Reply::Set(read_items(r, parse_int(rest)?, depth)?),
        b'>' => Reply::Push(read_items(r, parse_int(rest)?, depth)?),
        b'|' => {
            let attrs = read_pairs(r, parse_int(rest)?, depth)?;
            let reply = Box::new(read_value(r, depth + 1)?);
            Reply::Attribute { attrs, reply }
        }
        _ => {
            return Err(bad(format!(
                "unknown reply type in line \"{}\"",
                escape(&line)
            )))
        }
    })
}

#[cfg(test)]
mod reader_tests {
    use super::*;

    fn parse(b: &[u8]) -> Reply {
        read_value(&mut BufReader::new(b), 0).expect("parse")
    }

    #[test]
    fn tee_keeps_exactly_one_reply() {
        let wire: &[u8] = b"*2\r\n$3\r\na\r\n\r\n%1\r\n+k\r\n:1\r\n:7\r\n";
        let mut reader = BufReader::with_capacity(4, wire);
        let mut tee = Tee {
            inner: &mut reader,
            taken: Vec::new(),
        };
        read_value(&mut tee, 0).expect("parse");
        assert_eq!(tee.taken, &wire[..wire.len() - 4]);
        assert_eq!(read_value(&mut reader, 0).expect("rest"), Reply::Int(7));
    }

    #[test]
    fn reads_every_type() {
        assert_eq!(parse(b"+OK\r\n"), Reply::ok());
        assert_eq!(parse(b"-ERR x\r\n"), Reply::Error("ERR x".into()));
        assert_eq!(parse(b":-5\r\n"), Reply::Int(-5));
        assert_eq!(parse(b"$-1\r\n"), Reply::Bulk(None));
        assert_eq!(parse(b"$3\r\na\r\n\r\n"), Reply::bulk(b"a\r\n"));
        assert_eq!(parse(b"*-1\r\n"), Reply::Array(None));
        assert_eq!(
            parse(b"*2\r\n:1\r\n$0\r\n\r\n"),
            Reply::Array(Some(vec![Reply::Int(1), Reply::bulk(b"")]))
        );
        assert_eq!(parse(b"_\r\n"), Reply::Null);
        assert_eq!(parse(b",1.5\r\n"), Reply::Double("1.5".into()));
        assert_eq!(parse(b"#f\r\n"), Reply::Bool(false));
        assert_eq!(parse(b"(123\r\n"), Reply::BigNumber("123".into()));
        assert_eq!(parse(b"!3\r\nERR\r\n"), Reply::Error("ERR".into()));
        assert_eq!(
            parse(b"=7\r\ntxt:abc\r\n"),
            Reply::Verbatim {
                format: "txt".into(),
                text: b"abc".to_vec()
            }
        );
        assert_eq!(
            parse(b"%1\r\n+a\r\n:1\r\n"),
            Reply::Map(vec![(Reply::Status("a".into()), Reply::Int(1))])
        );
        assert_eq!(parse(b"~1\r\n:1\r\n"), Reply::Set(vec![Reply::Int(1)]));
        assert_eq!(parse(b">1\r\n:1\r\n"), Reply::Push(vec![Reply::Int(1)]));
        assert_eq!(
            parse(b"|1\r\n+k\r\n+v\r\n:2\r\n"),
            Reply::Attribute {
                attrs: vec![(Reply::Status("k".into()), Reply::Status("v".into()))],
                reply: Box::new(Reply::Int(2))
            }
        );
    }
}
