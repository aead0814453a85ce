//! MIGRATE: moves keys to another server with DUMP payloads and RESTORE, as Redis 7.0's
//! `migrateCommand` does, including its blocking I/O: the connection, the write of the
//! whole batch and the reading of each reply happen on the loop thread, bounded by the
//! command's timeout, and nothing else runs meanwhile (Redis blocks its main thread the same
//! way; a client that needs the server to stay responsive keeps MIGRATE's batches small).
//!
//! ```text
//! MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS k...]
//!   keys looked up (none: +NOKEY) ─► cached socket for host:port (or a blocking connect)
//!   ─► [AUTH] [SELECT db] RESTORE key ttl payload [REPLACE] ... written at once
//!   ─► one reply read per command ─► each key the target took is deleted here (unless
//!      COPY), fired as `del` and journaled as one DEL of those keys
//!   a socket error before any reply: the socket is reopened and the batch sent once more
//! ```
//!
//! Invariants: at most `SOCKETS_MAX` cached connections, each closed after `SOCKET_TTL_S`
//! seconds unused (`close_idle`, from housekeeping); a socket that failed is never reused;
//! a key is deleted only after the target acknowledged its RESTORE; every wait on the
//! target is bounded by the timeout.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::args::{arg_i64, opt_is};
use super::Ctx;
use crate::notify::class;
use crate::persist::rdb;
use crate::resp::Argv;

/// Redis's `MIGRATE_SOCKET_CACHE_ITEMS`.
const SOCKETS_MAX: usize = 64;
/// Redis's `MIGRATE_SOCKET_CACHE_TTL`.
const SOCKET_TTL_S: u64 = 10;
/// Bytes written per call, as Redis's 64 KiB chunks.
const WRITE_CHUNK_BYTES: usize = 64 * 1024;
/// The longest reply line read from the target (Redis reads into 1024-byte buffers).
const REPLY_LINE_MAX: usize = 1024;

/// A connection kept for the next MIGRATE to the same `host:port`.
struct Cached {
    reader: BufReader<TcpStream>,
    /// The database the last SELECT chose (None: the next batch selects).
    db: Option<i64>,
    last_use_s: u64,
}

/// The cached connections (Redis's `server.migrate_cached_sockets`).
#[derive(Default)]
pub struct Sockets {
    by_name: HashMap<Vec<u8>, Cached>,
}

impl Sockets {
    /// Closes the connections unused for `SOCKET_TTL_S` seconds.
    pub fn close_idle(&mut self, now_s: u64) {
        self.by_name
            .retain(|_, c| now_s.saturating_sub(c.last_use_s) <= SOCKET_TTL_S);
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// What MIGRATE was asked to do.
struct Request<'a> {
    copy: bool,
    replace: bool,
    /// (user, password) for AUTH / AUTH2.
    auth: Option<(Option<&'a [u8]>, &'a [u8])>,
    db: i64,
    timeout: Duration,
    keys: Vec<&'a [u8]>,
}

fn parse<'a>(argv: &Argv<'a>) -> Result<Request<'a>, &'static str> {
    let mut req = Request {
        copy: false,
        replace: false,
        auth: None,
        db: 0,
        timeout: Duration::ZERO,
        keys: vec![argv.get(3)],
    };
    let mut j = 6;
    while j < argv.len() {
        let a = argv.get(j);
        let more = argv.len() - 1 - j;
        if opt_is(a, "copy") {
            req.copy = true;
        } else if opt_is(a, "replace") {
            req.replace = true;
        } else if opt_is(a, "auth") {
            if more == 0 {
                return Err(super::error::ERR_SYNTAX);
            }
            j += 1;
            req.auth = Some((None, argv.get(j)));
        } else if opt_is(a, "auth2") {
            if more < 2 {
                return Err(super::error::ERR_SYNTAX);
            }
            req.auth = Some((Some(argv.get(j + 1)), argv.get(j + 2)));
            j += 2;
        } else if opt_is(a, "keys") {
            if !argv.get(3).is_empty() {
                return Err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
            }
            req.keys = (j + 1..argv.len()).map(|i| argv.get(i)).collect();
            break;
        } else {
            return Err(super::error::ERR_SYNTAX);
        }
        j += 1;
    }
    let (Some(timeout_ms), Some(db)) = (arg_i64(argv.get(5)), arg_i64(argv.get(4))) else {
        return Err(super::error::ERR_NOT_INT);
    };
    req.db = db;
    // Redis's default when the timeout is not positive.
    req.timeout = Duration::from_millis(if timeout_ms <= 0 {
        1000
    } else {
        timeout_ms as u64
    });
    Ok(req)
}

/// A batch that failed on its socket before the target acknowledged anything: writing or
/// reading, timed out or not (a retry is for the other errors only, as in Redis).
struct Failure {
    writing: bool,
    timed_out: bool,
}

/// Why a connection was not made.
enum ConnectError {
    /// No address, or no answer within the timeout: "connecting" in the reply.
    NoConnection,
    /// The target answered with a refusal (or the network with an error). Redis's connect
    /// only waits for the socket to become writable, which a failed connect also makes it,
    /// so the failure shows when the batch is written: "writing" in the reply.
    Failed,
}

/// Connects to `host:port` within `timeout`.
fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Result<TcpStream, ConnectError> {
    let host = std::str::from_utf8(host).map_err(|_| ConnectError::NoConnection)?;
    let port: u16 = std::str::from_utf8(port)
        .ok()
        .and_then(|p| p.parse().ok())
        .ok_or(ConnectError::NoConnection)?;
    let addr = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(ConnectError::NoConnection)?;
    match TcpStream::connect_timeout(&addr, timeout) {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Err(e) if timed_out(&e) => Err(ConnectError::NoConnection),
        Err(_) => Err(ConnectError::Failed),
    }
}

/// One reply line from the target (without its CRLF), within the socket's timeout.
fn read_line(r: &mut BufReader<TcpStream>) -> Result<Vec<u8>, std::io::Error> {
    let mut line = Vec::new();
    let n = std::io::Read::take(&mut *r, REPLY_LINE_MAX as u64).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

/// Redis's reply for a batch that failed on its socket, writing or reading.
fn io_error(writing: bool) -> &'static str {
    if writing {
        "IOERR error or timeout writing to target instance"
    } else {
        "IOERR error or timeout reading to target instance"
    }
}

fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

pub fn cmd_migrate(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let req = match parse(argv) {
        Ok(r) => r,
        Err(e) => return ctx.err(e),
    };
    let now_ms = ctx.now_ms;
    // The keys that exist (each lookup counted as a read).
    let mut keys = Vec::with_capacity(req.keys.len());
    for &k in &req.keys {
        let found = ctx.db().get(k, now_ms).is_some();
        ctx.read_lookup(found, k);
        if found {
            keys.push(k);
        }
    }
    if keys.is_empty() {
        return ctx.reply.simple("NOKEY");
    }
    let mut name = argv.get(1).to_vec();
    name.push(b':');
    name.extend_from_slice(argv.get(2));
    let mut may_retry = true;
    loop {
        match attempt(ctx, &req, &keys, &name, argv) {
            Ok(()) => return,
            Err(Failure { writing, timed_out }) => {
                ctx.srv.migrate.by_name.remove(&name);
                if may_retry && !timed_out {
                    may_retry = false;
                    continue;
                }
                return ctx.err(io_error(writing));
            }
        }
    }
}

/// One try: the batch written and its replies read. Ok once MIGRATE has its reply (the
/// connect error and the target's errors included); Err for a socket error to retry or
/// report.
fn attempt(
    ctx: &mut Ctx<'_>,
    req: &Request<'_>,
    keys: &[&[u8]],
    name: &[u8],
    argv: &Argv<'_>,
) -> Result<(), Failure> {
    let now_s = ctx.now_ms / 1000;
    let sockets = &mut ctx.srv.migrate.by_name;
    if !sockets.contains_key(name) {
        if sockets.len() >= SOCKETS_MAX {
            // Too many: one goes (any one, as Redis drops a random one).
            if let Some(k) = sockets.keys().next().cloned() {
                sockets.remove(&k);
            }
        }
        let stream = match connect(argv.get(1), argv.get(2), req.timeout) {
            Ok(s) => s,
            Err(ConnectError::NoConnection) => {
                ctx.err("IOERR error or timeout connecting to the client");
                return Ok(());
            }
            Err(ConnectError::Failed) => {
                return Err(Failure {
                    writing: true,
                    timed_out: false,
                })
            }
        };
        sockets.insert(
            name.to_vec(),
            Cached {
                reader: BufReader::new(stream),
                db: None,
                last_use_s: now_s,
            },
        );
    }
    let select = ctx.srv.migrate.by_name[name].db != Some(req.db);
    // The batch: AUTH, SELECT, then a RESTORE per key still alive.
    let mut batch = Vec::new();
    if let Some((user, password)) = req.auth {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        args.extend(user);
        args.push(password);
        crate::journal::encode(&mut batch, args.len(), args.into_iter());
    }
    let mut db_text = itoa::Buffer::new();
    if select {
        let args: [&[u8]; 2] = [b"SELECT", db_text.format(req.db).as_bytes()];
        crate::journal::encode(&mut batch, 2, args.into_iter());
    }
    let now_ms = ctx.now_ms;
    let compress = ctx.srv.config.rdbcompression;
    let mut sent = Vec::with_capacity(keys.len());
    for &k in keys {
        let db = ctx.db();
        let ttl_ms = match db.expire_at_ms(k, now_ms) {
            None => continue,
            Some(None) => 0,
            Some(Some(at)) if at < now_ms => continue,
            Some(Some(at)) => (at - now_ms).max(1),
        };
        let Some(v) = db.peek(k, now_ms) else {
            continue;
        };
        let payload = rdb::dump_payload(v, compress);
        let mut ttl_text = itoa::Buffer::new();
        let mut args: Vec<&[u8]> = vec![b"RESTORE", k, ttl_text.format(ttl_ms).as_bytes()];
        args.push(&payload);
        if req.replace {
            args.push(b"REPLACE");
        }
        crate::journal::encode(&mut batch, args.len(), args.into_iter());
        sent.push(k);
    }
    let cached = ctx
        .srv
        .migrate
        .by_name
        .get_mut(name)
        .expect("the socket was just cached");
    cached.last_use_s = now_s;
    let stream = cached.reader.get_mut();
    let _ = stream.set_write_timeout(Some(req.timeout));
    let _ = stream.set_read_timeout(Some(req.timeout));
    for chunk in batch.chunks(WRITE_CHUNK_BYTES) {
        if let Err(e) = stream.write_all(chunk) {
            return Err(Failure {
                writing: true,
                timed_out: timed_out(&e),
            });
        }
    }
    let io_err = |e: std::io::Error| Failure {
        writing: false,
        timed_out: timed_out(&e),
    };
    let auth_reply = match req.auth {
        Some(_) => Some(read_line(&mut cached.reader).map_err(io_err)?),
        None => None,
    };
    let select_reply = if select {
        Some(read_line(&mut cached.reader).map_err(io_err)?)
    } else {
        None
    };
    let early_error = [&auth_reply, &select_reply]
        .into_iter()
        .flatten()
        .find(|l| l.first() == Some(&b'-'))
        .cloned();
    let mut error_from_target = None;
    let mut deleted: Vec<&[u8]> = Vec::new();
    let mut socket_error = None;
    for (j, &k) in sent.iter().enumerate() {
        let line = match read_line(&mut cached.reader) {
            Ok(l) => l,
            Err(e) => {
                socket_error = Some((j, e));
                break;
            }
        };
        let err = early_error
            .clone()
            .or_else(|| (line.first() == Some(&b'-')).then_some(line));
        if let Some(e) = err {
            error_from_target.get_or_insert(e);
        } else if !req.copy {
            deleted.push(k);
        }
    }
    let socket_failed = socket_error.is_some();
    if let Some((j, e)) = socket_error {
        // Nothing acknowledged yet: a retry sends the same batch again.
        if error_from_target.is_none() && j == 0 {
            return Err(io_err(e));
        }
    }
    if let Some(c) = ctx.srv.migrate.by_name.get_mut(name) {
        c.db = if error_from_target.is_some() {
            // An error may leave the target in another database: the next batch selects.
            None
        } else {
            Some(req.db)
        };
    }
    if socket_failed {
        ctx.srv.migrate.by_name.remove(name);
    }
    // The keys the target took leave this server.
    if !deleted.is_empty() {
        let signals = ctx.srv.key_signals_wanted();
        for &k in &deleted {
            ctx.db().remove(k, now_ms);
            if signals {
                ctx.modified(k);
            }
            ctx.notify(class::GENERIC, "del", k);
        }
        ctx.dirty(deleted.len() as u64);
        let mut del: Vec<&[u8]> = Vec::with_capacity(deleted.len() + 1);
        del.push(b"DEL");
        del.extend(deleted.iter().copied());
        ctx.propagate(&del);
    }
    if let Some(e) = error_from_target {
        let text = String::from_utf8_lossy(&e[1..]).into_owned();
        ctx.err(&format!("ERR Target instance replied with error: {text}"));
    } else if socket_failed {
        // Some keys were acknowledged: no retry, the error is reported.
        ctx.err(io_error(false));
    } else {
        ctx.reply.ok();
    }
    Ok(())
}
