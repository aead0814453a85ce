//! The event loop and the server state it owns.
//!
//! One thread, one ring, one keyspace. A loop turn is: submit everything queued and wait for
//! at least one completion → reap all completions (accepts, receives, sends, the tick, the
//! signal fd) → run the commands of every connection that received input → housekeeping if
//! the tick fired (active expiry, idle clients, idle rehashing) → queue one send per
//! connection that produced output and one receive per connection that is ready for more.
//! Work is batched per turn: a connection's replies of one turn leave in one send.
//!
//! Invariants: a connection's input buffer is either in the `Conn` or in the ring (a receive
//! in flight), never both; a slot is freed only after its socket is shut down, and a late
//! completion for an old generation of a slot returns its buffer and is otherwise ignored.

use crate::cmd::{self, Command};
use crate::config::Config;
use crate::io::ring::{self, Completion, Ring};
use crate::keyspace::Db;
use crate::net::conn::{prepare_recv_buf, Conn, Kind, OUT_PAUSE_BYTES};
use crate::resp::parse::{ParseLimits, Status};
use nix::sys::socket::{self as sock, SockaddrLike, SockaddrStorage};
use slab::Slab;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const K_ACCEPT: u8 = 1;
const K_RECV: u8 = 2;
const K_SEND: u8 = 3;
const K_TICK: u8 = 4;
const K_SIGNAL: u8 = 5;
/// The one ring timeout armed for the earliest blocked-client deadline.
const K_BLOCK_TIMER: u8 = 6;
/// Completion of the removal of a superseded K_BLOCK_TIMER.
const K_BLOCK_TIMER_REMOVE: u8 = 7;
/// Completion of the cancellation of a receive (see `Server::recv_to_cancel`).
const K_RECV_CANCEL: u8 = 8;

/// Why `process_input` stopped with input left.
enum InputLeft {
    /// It ran everything it could (or the client is blocked or closing).
    None,
    /// Its output buffer is full: it goes on once a send completes.
    Paused,
    /// It used up its slice or command count: it goes on at the next turn, at once.
    Runnable,
}

/// Commands run for one connection per turn before others get their turn.
const COMMANDS_PER_TURN_MAX: usize = 4096;
/// Time one connection's commands may take per turn before others get their turn: a client
/// pipelining thousands of writes (`redis-cli --pipe` loading a dataset) otherwise holds the
/// loop for a whole receive buffer of commands, which every other client waits for
/// (scripts/bench's rehash probe: docs/PERFORMANCE.md, "Turn length").
const CONN_SLICE_NS: u64 = 200_000;
/// Active expiry may use this share of each tick (Redis: 25%).
const ACTIVE_EXPIRE_SHARE_PCT: u32 = 25;
/// Idle rehashing budget per database per tick (Redis: 1 ms).
const REHASH_IDLE_BUDGET: Duration = Duration::from_millis(1);
/// Rehash budget per tick and database while clients are busy: their own operations already
/// move a bucket each, and a full millisecond here would be a millisecond of latency for
/// every client waiting in this turn.
const REHASH_BUSY_BUDGET: Duration = Duration::from_micros(100);
/// Commands per tick below which the server counts as idle for rehashing.
const IDLE_COMMANDS_PER_TICK: u64 = 100;
/// Longest blocked-client timer armed at once; a later deadline is re-armed when it fires.
const BLOCK_TIMER_MAX: Duration = Duration::from_secs(3600);
/// How long shutdown waits for pending replies to leave.
const SHUTDOWN_FLUSH_MAX: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Stats {
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub commands_processed: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys_active: u64,
    pub dirty: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub auth_failures: u64,
    /// Loop turns whose work arrived while the loop was busy-polling (`busy-poll-us`).
    pub busy_poll_hits: u64,
    pub ops_samples: [u64; 16],
    pub ops_sample_idx: usize,
    pub ops_last_count: u64,
    pub ops_last_ms: u64,
}

#[derive(Default, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

pub struct Listener {
    pub fd: OwnedFd,
    pub desc: String,
}

/// Everything a command can see.
pub struct Server {
    pub config: Config,
    pub dbs: Vec<Db>,
    pub conns: Slab<Conn>,
    pub stats: Stats,
    /// Indexed like `all_commands`.
    pub cmd_stats: Vec<CmdStat>,
    pub all_commands: Vec<&'static Command>,
    /// Command name (lower case) → index in `all_commands`. foldhash, not SipHash: the table
    /// holds only our names and lookups never insert, so a client's chosen names cannot
    /// degrade it, and SipHash cost ~180 instructions per command (callgrind, docs/PERFORMANCE.md).
    lookup: HashMap<u128, usize, foldhash::fast::FixedState>,
    /// End of the last command's execution, or the start of this loop turn: commandstats
    /// time a command from here.
    pub(crate) cmd_clock_ns: u64,
    /// `commands_processed` at the previous housekeeping tick.
    commands_at_last_tick: u64,
    pub next_client_id: u64,
    next_generation: u32,
    pub start_ms: u64,
    pub start_instant: Instant,
    pub run_id: String,
    pub shutdown_requested: bool,
    pub now_ms: u64,
    pub listeners: Vec<Listener>,
    pub lazyfree: &'static crate::lazyfree::LazyFree,
    /// Slots whose output must be flushed or which need a new receive this turn.
    touched: Vec<usize>,
    /// Slots with input to process this turn.
    ready: Vec<usize>,
    pub hz: u32,
    pub tick_count: u64,
    /// Connections not yet closed (what maxclients limits and INFO reports).
    clients_open: usize,
    /// Clients blocked on keys (BLPOP and friends).
    pub blocking: crate::blocking::Blocking,
    /// Index in `all_commands` of the command running now (a blocking command records it).
    pub(crate) current_cmd: usize,
    /// Unblocked clients (slot, generation) whose receive is in flight: it is cancelled, so
    /// that commands they pipelined while blocked run now rather than when more input comes.
    recv_to_cancel: Vec<(usize, u32)>,
    /// The append-only file (`persist::aof`).
    pub aof: crate::persist::aof::Aof,
    /// True while the AOF is replayed at start-up.
    pub loading: bool,
    /// RDB snapshot bookkeeping (persist::rdb_server).
    pub rdb: crate::persist::rdb_server::RdbState,
    /// What commands changed, for the AOF (and later replicas).
    pub journal: crate::journal::Journal,
    /// Keys clients WATCH (`cmd::multi`).
    pub watches: crate::cmd::multi::Watches,
    /// What the running command has stated (`cmd::call`).
    pub(crate) frame: crate::cmd::call::Frame,
}

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn random_hex(n: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut s = String::new();
    let mut i = 0u64;
    while s.len() < n {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i ^ unix_ms());
        s.push_str(&format!("{:016x}", h.finish()));
        i += 1;
    }
    s.truncate(n);
    s
}

/// A command name as one integer: its bytes lower-cased, zero-padded to 16. Hashing and
/// comparing one `u128` is cheaper than a byte slice (no memcmp call). Names longer than 16
/// bytes or holding a NUL (so that padding cannot alias) are no command.
fn command_key(name: &[u8]) -> Option<u128> {
    if name.is_empty() || name.len() > 16 {
        return None;
    }
    let mut b = [0u8; 16];
    for (d, &c) in b.iter_mut().zip(name) {
        if c == 0 {
            return None;
        }
        *d = c.to_ascii_lowercase();
    }
    Some(u128::from_le_bytes(b))
}

impl Server {
    pub fn new(config: Config) -> Server {
        let mut all_commands = Vec::new();
        let mut lookup = HashMap::with_hasher(foldhash::fast::FixedState::default());
        for c in cmd::COMMANDS {
            let key = command_key(c.name.as_bytes()).expect("command names are 1 to 16 bytes");
            lookup.insert(key, all_commands.len());
            all_commands.push(c);
            for s in c.subcommands {
                all_commands.push(s);
            }
        }
        let dbs = (0..config.databases).map(|_| Db::new()).collect();
        let blocking = crate::blocking::Blocking::new(config.databases);
        let databases = config.databases;
        let now = unix_ms();
        Server {
            hz: config.hz,
            config,
            dbs,
            conns: Slab::new(),
            stats: Stats::default(),
            cmd_stats: vec![CmdStat::default(); all_commands.len()],
            all_commands,
            lookup,
            next_client_id: 1,
            next_generation: 1,
            start_ms: now,
            start_instant: Instant::now(),
            cmd_clock_ns: crate::util::mono_ns(),
            commands_at_last_tick: 0,
            run_id: random_hex(40),
            shutdown_requested: false,
            now_ms: now,
            listeners: Vec::new(),
            lazyfree: crate::lazyfree::global(),
            touched: Vec::new(),
            ready: Vec::new(),
            tick_count: 0,
            clients_open: 0,
            blocking,
            current_cmd: 0,
            recv_to_cancel: Vec::new(),
            aof: crate::persist::aof::Aof::new(),
            loading: false,
            rdb: crate::persist::rdb_server::RdbState::new(now / 1000),
            journal: crate::journal::Journal::new(),
            watches: crate::cmd::multi::Watches::new(databases),
            frame: crate::cmd::call::Frame::default(),
        }
    }

    pub fn command_index(&self, c: &'static Command) -> usize {
        self.all_commands
            .iter()
            .position(|x| std::ptr::eq(*x, c))
            .unwrap_or(0)
    }

    pub(crate) fn find_command(&self, name: &[u8]) -> Option<usize> {
        self.lookup.get(&command_key(name)?).copied()
    }

    pub fn used_memory(&self) -> u64 {
        crate::alloc::allocated() as u64
    }

    /// Marks a connection to be closed once its pending replies are sent. A blocked client
    /// stops waiting at once (Redis frees it, so no push can serve it any more).
    pub fn close_after_reply(&mut self, slot: usize) {
        if let Some(c) = self.conns.get_mut(slot) {
            c.close_after_reply = true;
            self.touched.push(slot);
            if c.is_blocked() {
                crate::blocking::unblock(self, slot, crate::blocking::Unblock::Disconnect);
            }
        }
    }

    /// A client that stopped being blocked: its reply goes out this turn and its buffered
    /// input is processed again.
    pub(crate) fn resume_client(&mut self, slot: usize) {
        if let Some(c) = self.conns.get_mut(slot) {
            self.touched.push(slot);
            if c.recv_inflight {
                self.recv_to_cancel.push((slot, c.generation));
            }
            if !c.ready && !c.closed {
                c.ready = true;
                self.ready.push(slot);
            }
        }
    }

    /// Queues a connection for a flush this turn (its output may go, or it needs a receive).
    pub fn touch(&mut self, slot: usize) {
        self.touched.push(slot);
    }

    /// Whether a modified key can matter to anyone: a client WATCHes or is blocked.
    pub fn key_signals_wanted(&self) -> bool {
        !self.watches.is_empty() || !self.blocking.is_empty()
    }

    /// `key` of `db` was modified (Redis's `signalModifiedKey`): its watchers' transactions
    /// fail, and clients blocked on it are served once the running unit ends.
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        self.frame.signalled = true;
        if !self.watches.is_empty() {
            cmd::multi::touch(self, db, key);
        }
        if !self.blocking.is_empty() {
            crate::blocking::signal_if_exists(self, db, key);
        }
    }

    /// Every key of `db` may have changed (FLUSHDB, SWAPDB): clients blocked on any key of
    /// it are re-checked. WATCH is handled before the change (`multi::touch_all_in_db`).
    pub fn signal_db_replaced(&mut self) {
        self.frame.signalled = true;
        if !self.blocking.is_empty() {
            crate::blocking::signal_all(self);
        }
    }

    /// Hands the keys deleted by expiry since the last call to the journal (as DEL) and to
    /// WATCH. Inside a unit they join it; otherwise each is a unit of its own.
    pub fn drain_expired(&mut self) {
        for i in 0..self.dbs.len() {
            if self.dbs[i].expired_log.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut self.dbs[i].expired_log);
            for k in &keys {
                let own_unit = self.journal.idle();
                if own_unit {
                    self.journal.begin_unit();
                }
                self.journal.record(i, &[b"DEL", k]);
                if own_unit {
                    self.journal.end_unit();
                }
                if !self.watches.is_empty() {
                    cmd::multi::touch(self, i, k);
                }
            }
        }
        if self.journal.idle() && self.journal.has_published() {
            self.publish_effects(None);
        }
    }

    /// Gives what the journal published to its consumers (the AOF), then forgets it. The
    /// client in `slot`, whose command had these effects, gets its reply only once the AOF
    /// has acknowledged them.
    pub fn publish_effects(&mut self, slot: Option<usize>) {
        if self.aof.enabled {
            let ts = self
                .config
                .aof_timestamp_enabled
                .then_some(self.now_ms / 1000);
            self.aof.feed(&self.journal, ts);
            if let Some((s, conn)) = slot.and_then(|s| Some((s, self.conns.get_mut(s)?))) {
                self.aof.hold(s, conn.id, &mut conn.aof_wait_seq);
            }
        }
        self.journal.clear();
    }

    /// Keys deleted by expiry are logged while the journal records or a client WATCHes.
    pub fn update_expiry_logging(&mut self) {
        let on = self.journal.enabled || !self.watches.is_empty();
        for db in &mut self.dbs {
            if db.log_expired != on {
                db.log_expired = on;
                if !on {
                    db.expired_log.clear();
                }
            }
        }
    }

    /// The AOF starts or stops consuming the journal.
    pub fn set_journal(&mut self, on: bool) {
        if !on {
            self.journal.discard();
        }
        self.journal.enabled = on;
        self.update_expiry_logging();
    }

    /// Whether `name` is a command of the table (the AOF loader refuses unknown ones).
    pub fn knows_command(&self, name: &[u8]) -> bool {
        self.find_command(name).is_some()
    }

    /// Registers the socketless client the AOF loader replays commands with.
    pub fn add_loading_client(&mut self) -> usize {
        let fd = std::fs::File::open("/dev/null")
            .map(OwnedFd::from)
            .or_else(|_| std::os::unix::net::UnixStream::pair().map(|(a, _)| OwnedFd::from(a)))
            .expect("a descriptor for the loading client");
        let generation = self.next_generation;
        self.next_generation = (self.next_generation + 1) & 0xff_ffff;
        let conn = Conn::new(
            0,
            generation,
            fd,
            Kind::Unix,
            "aof:0".into(),
            "aof:0".into(),
            self.now_ms,
            true,
        );
        self.conns.insert(conn)
    }

    /// Runs one command for the AOF loader's client.
    pub fn execute_loading(
        &mut self,
        slot: usize,
        argv: &crate::resp::Argv<'_>,
        out: &mut Vec<u8>,
    ) {
        cmd::call::call(self, slot, argv, out, cmd::call::Source::Loading);
    }

    /// Benchmark support, not part of the server's interface: registers a connection on `fd`
    /// as if it had been accepted, without queueing any ring operation for it, and returns its
    /// slot.
    #[doc(hidden)]
    pub fn bench_add_client(&mut self, fd: OwnedFd) -> usize {
        self.add_client(fd, Kind::Unix, "bench:0".into(), "bench:0".into())
    }

    /// Registers a new client: the next id and slot generation, authenticated only when no
    /// password is set. Returns its slot.
    fn add_client(&mut self, fd: OwnedFd, kind: Kind, addr: String, laddr: String) -> usize {
        let id = self.next_client_id;
        self.next_client_id += 1;
        let generation = self.next_generation;
        self.next_generation = (self.next_generation + 1) & 0xff_ffff;
        let authenticated = self.config.requirepass.is_none();
        let conn = Conn::new(
            id,
            generation,
            fd,
            kind,
            addr,
            laddr,
            self.now_ms,
            authenticated,
        );
        self.clients_open += 1;
        self.conns.insert(conn)
    }

    /// Benchmark support, not part of the server's interface: parses and runs every complete
    /// command in `buf` for the connection in `slot` with a fresh parser, appending the replies
    /// to `out`. Stops at an incomplete command or a protocol error. `buf` is not drained (the
    /// parser rewrites only inline arguments with quotes or escapes), so a caller can run the
    /// same batch again. Returns the number of commands run.
    #[doc(hidden)]
    pub fn bench_dispatch(&mut self, slot: usize, buf: &mut [u8], out: &mut Vec<u8>) -> usize {
        let mut parser = crate::resp::parse::Parser::new();
        let mut ran = 0;
        // Each complete command consumes at least one byte, so this ends within buf.len() turns.
        loop {
            let limits = self.parse_limits(slot);
            match parser.parse(buf, &limits) {
                Status::Complete => {
                    let argv = parser.argv(buf);
                    cmd::call::call(self, slot, &argv, out, cmd::call::Source::Client);
                    parser.next_command();
                    ran += 1;
                }
                Status::Incomplete | Status::Error(_) => return ran,
            }
        }
    }

    fn parse_limits(&self, slot: usize) -> ParseLimits {
        ParseLimits {
            bulk_len_max: self.config.bulk_len_max,
            authenticated: self.config.requirepass.is_none() || self.conns[slot].authenticated,
        }
    }

    /// Parses and runs the buffered commands of one connection; says whether it stopped with
    /// input left, and why.
    fn process_input(&mut self, slot: usize) -> InputLeft {
        let Some(conn) = self.conns.get_mut(slot) else {
            return InputLeft::None;
        };
        if conn.closed || conn.close_after_reply {
            return InputLeft::None;
        }
        if conn.is_blocked() {
            // Input stays buffered until the client is unblocked. Receiving goes on (so a
            // disconnect is seen); `resume_client` cancels a receive in flight so that the
            // buffered commands run as soon as the client is unblocked.
            self.touched.push(slot);
            return InputLeft::None;
        }
        let Some(mut inbuf) = conn.inbuf.take() else {
            return InputLeft::None;
        };
        let mut out = std::mem::take(&mut conn.out);
        let mut parser = std::mem::take(&mut conn.parser);
        let mut more = false;
        let mut ran = 0usize;
        let mut obuf_over = false;
        let mut paused;
        // `cmd_clock_ns` is read after every command anyway (command time for INFO); the slice
        // is checked every 8 commands, so the usual short batch pays nothing for it.
        let started = self.cmd_clock_ns;
        loop {
            paused = out.len() >= OUT_PAUSE_BYTES;
            if paused
                || ran >= COMMANDS_PER_TURN_MAX
                || (ran % 8 == 7 && self.cmd_clock_ns.saturating_sub(started) >= CONN_SLICE_NS)
            {
                more = !parser.is_idle() || parser.consumed() < inbuf.len();
                break;
            }
            let limits = self.parse_limits(slot);
            match parser.parse(&mut inbuf, &limits) {
                Status::Complete => {
                    let argv = parser.argv(&inbuf);
                    cmd::call::call(self, slot, &argv, &mut out, cmd::call::Source::Client);
                    parser.next_command();
                    ran += 1;
                    if self.output_limit_reached(slot, out.len()) {
                        obuf_over = true;
                        break;
                    }
                    let c = &mut self.conns[slot];
                    if !c.out.is_empty() {
                        // Written to the connection rather than to `out` while the command
                        // ran (not expected; kept in order rather than lost).
                        out.append(&mut c.out);
                    }
                    if c.close_after_reply || c.closed || c.is_blocked() || self.shutdown_requested {
                        break;
                    }
                }
                Status::Incomplete => break,
                Status::Error(e) => {
                    // Raw bytes: Redis echoes the offending byte as is, even a non-UTF-8 one.
                    out.extend_from_slice(b"-ERR ");
                    out.extend_from_slice(e.message_bytes());
                    out.extend_from_slice(b"\r\n");
                    self.stats.total_error_replies += 1;
                    log::debug!("protocol error from client: {}", e.message());
                    self.conns[slot].close_after_reply = true;
                    break;
                }
            }
        }
        // Drop consumed bytes; keep the buffer's capacity.
        let consumed = parser.consumed();
        if consumed > 0 && !more {
            inbuf.drain(..consumed);
            parser.rebase(consumed);
        }
        let want = parser.bytes_wanted();
        if want > 0 && inbuf.capacity() - inbuf.len() < want {
            inbuf.reserve(want.min(self.config.query_buffer_max));
        }
        if obuf_over {
            // As Redis's freeClientAsync: queued replies are dropped, not sent.
            out.clear();
        }
        let conn = &mut self.conns[slot];
        conn.inbuf = Some(inbuf);
        conn.out = out;
        conn.parser = parser;
        if obuf_over {
            log::warn!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                conn.id,
                conn.addr
            );
            self.close(slot);
            return InputLeft::None;
        }
        self.touched.push(slot);
        match (more, paused) {
            (false, _) => InputLeft::None,
            (true, true) => InputLeft::Paused,
            (true, false) => InputLeft::Runnable,
        }
    }

    /// Redis's `checkClientOutputBufferLimits` for a normal client with `out_len` bytes in
    /// its output buffer: true when the unsent replies reach the hard limit, or have stayed
    /// at or above the soft limit for more than its seconds.
    fn output_limit_reached(&mut self, slot: usize, out_len: usize) -> bool {
        let lim = self.config.client_obuf_limits[0];
        if lim.hard_bytes == 0 && lim.soft_bytes == 0 {
            return false;
        }
        let now_s = self.now_ms / 1000;
        let conn = &mut self.conns[slot];
        let used = conn.output_pending(out_len) as u64;
        let hard = lim.hard_bytes > 0 && used >= lim.hard_bytes;
        let mut soft = lim.soft_bytes > 0 && used >= lim.soft_bytes;
        if soft {
            if conn.obuf_soft_since_ms == 0 {
                // First time over the soft limit: the clock starts now.
                conn.obuf_soft_since_ms = self.now_ms.max(1);
                soft = false;
            } else if now_s.saturating_sub(conn.obuf_soft_since_ms / 1000) <= lim.soft_seconds {
                soft = false;
            }
        } else {
            conn.obuf_soft_since_ms = 0;
        }
        hard || soft
    }

    /// Shuts the socket so that in-flight operations complete, and frees the slot once none
    /// are left.
    pub fn close(&mut self, slot: usize) {
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        if c.is_blocked() {
            crate::blocking::unblock(self, slot, crate::blocking::Unblock::Disconnect);
        }
        cmd::multi::discard(self, slot);
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        if !c.closed {
            c.closed = true;
            self.clients_open -= 1;
            let _ = sock::shutdown(c.fd.as_raw_fd(), sock::Shutdown::Both);
        }
        if !c.inflight() {
            self.conns.remove(slot);
        }
    }

    fn total_expired(&self) -> u64 {
        self.dbs.iter().map(|d| d.expired_keys).sum()
    }

    pub fn expired_keys(&self) -> u64 {
        self.total_expired()
    }

    /// Clients currently connected (not counting slots waiting for completions to drain).
    pub fn connected_clients(&self) -> usize {
        self.clients_open
    }

    pub fn instantaneous_ops(&self) -> u64 {
        let s = &self.stats.ops_samples;
        s.iter().sum::<u64>() / s.len() as u64
    }

    fn housekeeping(&mut self) {
        self.tick_count += 1;
        let tick = Duration::from_millis(1000 / self.hz.max(1) as u64);
        let deadline = Instant::now() + tick * ACTIVE_EXPIRE_SHARE_PCT / 100;
        let now_ms = self.now_ms;
        for db in &mut self.dbs {
            if db.expires_len() > 0 {
                let n = db.active_expire(now_ms, usize::MAX, deadline);
                self.stats.expired_keys_active += n as u64;
            }
        }
        let commands = self.stats.commands_processed - self.commands_at_last_tick;
        self.commands_at_last_tick = self.stats.commands_processed;
        let budget = if commands < IDLE_COMMANDS_PER_TICK {
            REHASH_IDLE_BUDGET
        } else {
            REHASH_BUSY_BUDGET
        };
        self.drain_expired();
        if crate::persist::aof::auto_rewrite_due(self) {
            log::info!("Starting automatic rewriting of AOF");
            self.aof.rewrite_scheduled = true;
        }
        for db in &mut self.dbs {
            db.rehash_idle(budget);
        }
        if self.config.timeout_s > 0 {
            let limit_ms = self.config.timeout_s * 1000;
            let idle: Vec<usize> = self
                .conns
                .iter()
                .filter(|(_, c)| {
                    // Redis never closes a blocked client for being idle.
                    !c.closed
                        && !c.is_blocked()
                        && now_ms.saturating_sub(c.last_interaction_ms) > limit_ms
                })
                .map(|(s, _)| s)
                .collect();
            for s in idle {
                log::debug!("closing idle client");
                self.close(s);
            }
        }
        // Ops/sec sample, as Redis's instantaneous_ops_per_sec.
        let dt = now_ms.saturating_sub(self.stats.ops_last_ms);
        if dt >= 100 {
            let ops = self.stats.commands_processed - self.stats.ops_last_count;
            let i = self.stats.ops_sample_idx % self.stats.ops_samples.len();
            self.stats.ops_samples[i] = ops * 1000 / dt.max(1);
            self.stats.ops_sample_idx += 1;
            self.stats.ops_last_count = self.stats.commands_processed;
            self.stats.ops_last_ms = now_ms;
        }
        self.rdb_save_due();
        crate::persist::aof::run_scheduled(self);
    }
}

/// What Redis 7.0 writes (and then closes) to a client from another host when protected mode
/// is on and the default user has no password; its text, typo included.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Redis's `connIsLocal` for TCP peers: an IPv4 address in 127.0.0.0/8 or the IPv6 `::1`
/// (an IPv4-mapped loopback is not local to Redis either).
fn is_loopback_peer(a: &SockaddrStorage) -> bool {
    if let Some(v4) = a.as_sockaddr_in() {
        v4.ip().octets()[0] == 127
    } else if let Some(v6) = a.as_sockaddr_in6() {
        v6.ip() == std::net::Ipv6Addr::LOCALHOST
    } else {
        false
    }
}

/// Redis's `anetKeepAlive`: probes after `interval_s` of silence, then every third of it, and
/// the connection is dropped after three unanswered probes (a dead peer is found in about
/// twice the interval). Failures only lose the probing, as in Redis.
fn set_keepalive(fd: &OwnedFd, interval_s: u32) {
    if interval_s == 0 {
        return;
    }
    let _ = sock::setsockopt(fd, sock::sockopt::KeepAlive, &true);
    let _ = sock::setsockopt(fd, sock::sockopt::TcpKeepIdle, &interval_s);
    let _ = sock::setsockopt(fd, sock::sockopt::TcpKeepInterval, &(interval_s / 3).max(1));
    let _ = sock::setsockopt(fd, sock::sockopt::TcpKeepCount, &3);
}

fn format_addr(a: &SockaddrStorage) -> String {
    if let Some(v4) = a.as_sockaddr_in() {
        format!("{}:{}", v4.ip(), v4.port())
    } else if let Some(v6) = a.as_sockaddr_in6() {
        format!("{}:{}", v6.ip(), v6.port())
    } else if let Some(u) = a.as_unix_addr() {
        match u.path() {
            Some(p) => format!("{}:0", p.display()),
            None => "unix:0".into(),
        }
    } else {
        "?:0".into()
    }
}

fn bind_tcp(addr: &str, port: u16, backlog: i32) -> Result<OwnedFd, String> {
    let ip: std::net::IpAddr = if addr == "*" {
        std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    } else {
        addr.parse()
            .map_err(|_| format!("invalid bind address '{addr}'"))?
    };
    let sa = std::net::SocketAddr::new(ip, port);
    let family = if ip.is_ipv4() {
        sock::AddressFamily::Inet
    } else {
        sock::AddressFamily::Inet6
    };
    let fd = sock::socket(
        family,
        sock::SockType::Stream,
        sock::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    sock::setsockopt(&fd, sock::sockopt::ReuseAddr, &true).map_err(|e| e.to_string())?;
    if ip.is_ipv6() {
        sock::setsockopt(&fd, sock::sockopt::Ipv6V6Only, &true).map_err(|e| e.to_string())?;
    }
    let ss = SockaddrStorage::from(sa);
    sock::bind(fd.as_raw_fd(), &ss).map_err(|e| {
        format!("Could not create server TCP listening socket {addr}:{port}: bind: {e}")
    })?;
    sock::listen(
        &fd,
        sock::Backlog::new(backlog).unwrap_or(sock::Backlog::MAXCONN),
    )
    .map_err(|e| format!("listen {addr}:{port}: {e}"))?;
    Ok(fd)
}

fn bind_unix(path: &std::path::Path, perm: u32, backlog: i32) -> Result<OwnedFd, String> {
    let _ = std::fs::remove_file(path);
    let fd = sock::socket(
        sock::AddressFamily::Unix,
        sock::SockType::Stream,
        sock::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    let ua =
        sock::UnixAddr::new(path).map_err(|e| format!("unixsocket {}: {e}", path.display()))?;
    sock::bind(fd.as_raw_fd(), &ua).map_err(|e| format!("bind {}: {e}", path.display()))?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
            .map_err(|e| e.to_string())?;
    }
    sock::listen(
        &fd,
        sock::Backlog::new(backlog).unwrap_or(sock::Backlog::MAXCONN),
    )
    .map_err(|e| format!("listen {}: {e}", path.display()))?;
    Ok(fd)
}

/// The loop: owns the ring and the server state.
pub struct EventLoop {
    ring: Ring,
    /// A connection stopped at its slice with commands left: the next turn must not wait.
    resume_now: bool,
    pub srv: Server,
    completions: Vec<Completion>,
    signal_fd: Option<nix::sys::signalfd::SignalFd>,
    shutdown_started: Option<Instant>,
    /// The armed blocked-client timer, if any: its deadline, ring handle and sequence number.
    block_timer: Option<BlockTimer>,
    block_timer_seq: u32,
}

#[derive(Clone, Copy)]
struct BlockTimer {
    deadline_ms: u64,
    handle: u64,
    seq: u32,
}

impl EventLoop {
    pub fn new(config: Config) -> Result<EventLoop, String> {
        // Blocked before any thread starts (threads inherit the mask), so that only the
        // signal fd sees them.
        // SIGINT/SIGTERM arrive through a signal fd read on the ring; SIGPIPE is ignored
        // because sends use MSG_NOSIGNAL anyway and a stray one must not kill the server.
        use nix::sys::signal::{SigSet, Signal};
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGINT);
        mask.add(Signal::SIGTERM);
        let signal_fd = match mask.thread_block() {
            Ok(()) => nix::sys::signalfd::SignalFd::with_flags(
                &mask,
                nix::sys::signalfd::SfdFlags::SFD_CLOEXEC,
            )
            .ok(),
            Err(_) => None,
        };
        let ring = Ring::new(4096).map_err(|e| e.to_string())?;
        let mut srv = Server::new(config);
        // As Redis: the AOF when it is on, else the RDB snapshot.
        if srv.config.appendonly {
            crate::persist::aof::start(&mut srv)?;
        } else {
            srv.rdb_load_startup()?;
        }
        let c = &srv.config;
        let mut listeners = Vec::new();
        if c.port != 0 {
            for addr in &c.bind {
                match bind_tcp(addr, c.port, c.tcp_backlog) {
                    Ok(fd) => listeners.push(Listener {
                        fd,
                        desc: format!("{addr}:{}", c.port),
                    }),
                    Err(e) if c.bind_is_default && addr.contains(':') => {
                        log::warn!("skipping optional bind address {addr}: {e}");
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if let Some(p) = &c.unixsocket {
            let fd = bind_unix(p, c.unixsocketperm, c.tcp_backlog)?;
            listeners.push(Listener {
                fd,
                desc: p.display().to_string(),
            });
        }
        if listeners.is_empty() {
            return Err("no listening sockets: set --port and --bind, or --unixsocket".into());
        }
        for l in &listeners {
            log::info!("Ready to accept connections on {}", l.desc);
        }
        srv.listeners = listeners;
        if let Err(e) = ring::ignore_sigpipe() {
            log::warn!("cannot ignore SIGPIPE: {e}");
        }
        Ok(EventLoop {
            resume_now: false,
            ring,
            srv,
            completions: Vec::with_capacity(1024),
            signal_fd,
            shutdown_started: None,
            block_timer: None,
            block_timer_seq: 0,
        })
    }

    fn arm_tick(&mut self) {
        let every = Duration::from_millis(1000 / self.srv.hz.max(1) as u64);
        self.ring.timeout(ring::token(K_TICK, 0, 0), every);
    }

    /// Keeps one ring timeout armed for the earliest blocked-client deadline: armed when
    /// there is none, replaced (the old one removed) when an earlier deadline appears. A
    /// timer that fires with nothing due, or a removed one, is simply forgotten.
    fn sync_block_timer(&mut self) {
        let Some(next) = self.srv.blocking.next_deadline() else {
            return;
        };
        if let Some(t) = self.block_timer {
            if t.deadline_ms <= next {
                return;
            }
            self.ring
                .timeout_remove(t.handle, ring::token(K_BLOCK_TIMER_REMOVE, 0, 0));
        }
        self.block_timer_seq = (self.block_timer_seq + 1) & 0xff_ffff;
        let seq = self.block_timer_seq;
        // Due deadlines were expired this turn, so next > now_ms and this is at least 1 ms.
        let after =
            Duration::from_millis(next.saturating_sub(self.srv.now_ms).max(1)).min(BLOCK_TIMER_MAX);
        let handle = self.ring.timeout(ring::token(K_BLOCK_TIMER, seq, 0), after);
        self.block_timer = Some(BlockTimer {
            deadline_ms: next,
            handle,
            seq,
        });
    }

    fn arm_signal(&mut self) {
        if let Some(fd) = &self.signal_fd {
            self.ring.read(
                fd.as_raw_fd(),
                ring::token(K_SIGNAL, 0, 0),
                Vec::with_capacity(128),
            );
        }
    }

    pub fn run(&mut self) -> Result<(), String> {
        crate::lazyfree::enter_loop_thread();
        for (i, l) in self.srv.listeners.iter().enumerate() {
            self.ring
                .accept_multi(l.fd.as_raw_fd(), ring::token(K_ACCEPT, 0, i as u32));
        }
        self.arm_tick();
        self.arm_signal();
        loop {
            // Connections stopped at their slice with commands left go on at once.
            let mut want = usize::from(!self.resume_now);
            let spin_us = self.srv.config.busy_poll_us;
            if want == 1
                && spin_us > 0
                && self
                    .ring
                    .spin_for_completion(Duration::from_micros(u64::from(spin_us)))
                    .map_err(|e| format!("io_uring_enter: {e}"))?
            {
                // Work arrived while polling: this turn must not sleep.
                want = 0;
                self.srv.stats.busy_poll_hits += 1;
            }
            self.ring
                .submit_and_wait(want)
                .map_err(|e| format!("io_uring_enter: {e}"))?;
            self.srv.now_ms = unix_ms();
            self.srv.cmd_clock_ns = crate::util::mono_ns();
            let mut done = std::mem::take(&mut self.completions);
            self.ring.reap(&mut done);
            let mut tick = false;
            for c in done.drain(..) {
                match ring::token_kind(c.token) {
                    K_ACCEPT => self.on_accept(c),
                    K_RECV => self.on_recv(c),
                    K_SEND => self.on_send(c),
                    K_TICK => tick = true,
                    K_BLOCK_TIMER
                        if self
                            .block_timer
                            .is_some_and(|t| t.seq == ring::token_generation(c.token)) =>
                    {
                        self.block_timer = None;
                    }
                    crate::persist::aof::K_AOF_FSYNC
                    | crate::persist::aof::K_AOF_STEP
                    | crate::persist::aof::K_AOF_BASE_FSYNC => {
                        crate::persist::aof::on_completion(&mut self.srv, c)
                    }
                    K_SIGNAL => {
                        log::warn!("Received SIGINT/SIGTERM: shutting down");
                        // A failed final save keeps the server running, as in Redis.
                        self.srv.shutdown_requested = self.srv.prepare_shutdown(None, false);
                        if !self.srv.shutdown_requested {
                            self.arm_signal();
                        }
                    }
                    _ => {}
                }
            }
            self.completions = done;
            if self.shutdown_started.is_none() {
                let mut ready = std::mem::take(&mut self.srv.ready);
                let mut again = Vec::new();
                self.resume_now = false;
                for slot in ready.drain(..) {
                    if let Some(c) = self.srv.conns.get_mut(slot) {
                        c.ready = false;
                    }
                    match self.srv.process_input(slot) {
                        InputLeft::None => {}
                        // Kept ready (so no receive is armed over unprocessed input), but the
                        // loop waits for a completion (the send) before trying again.
                        InputLeft::Paused => again.push(slot),
                        InputLeft::Runnable => {
                            again.push(slot);
                            self.resume_now = true;
                        }
                    }
                }
                for slot in again {
                    if let Some(c) = self.srv.conns.get_mut(slot) {
                        c.ready = true;
                        ready.push(slot);
                    }
                }
                // Clients unblocked while commands ran were queued meanwhile: keep them.
                ready.append(&mut self.srv.ready);
                self.srv.ready = ready;
                if !self.srv.blocking.is_empty() {
                    crate::blocking::expire_due(&mut self.srv);
                }
            }
            crate::alloc::sample_peak();
            if tick {
                self.srv.housekeeping();
                crate::persist::aof::rewrite_tick(&mut self.ring, &mut self.srv);
                self.arm_tick();
            }
            self.flush();
            self.sync_block_timer();
            if self.srv.shutdown_requested {
                let started = *self.shutdown_started.get_or_insert_with(|| {
                    log::warn!("User requested shutdown...");
                    Instant::now()
                });
                self.srv.listeners.clear();
                let pending = self
                    .srv
                    .conns
                    .iter()
                    .any(|(_, c)| !c.closed && (c.send_inflight || !c.out.is_empty()))
                    || self.srv.aof.busy();
                if !pending || started.elapsed() > SHUTDOWN_FLUSH_MAX {
                    crate::persist::aof::shutdown_flush(&mut self.srv);
                    if let Some(p) = &self.srv.config.unixsocket {
                        let _ = std::fs::remove_file(p);
                    }
                    log::warn!("ringkv is now ready to exit, bye bye...");
                    return Ok(());
                }
            }
        }
    }

    fn on_accept(&mut self, c: Completion) {
        let li = ring::token_slot(c.token) as usize;
        if !c.more {
            if let Some(l) = self.srv.listeners.get(li) {
                self.ring.accept_multi(l.fd.as_raw_fd(), c.token);
            }
        }
        if c.result < 0 {
            log::warn!(
                "Accepting client connection: {}",
                std::io::Error::from_raw_os_error(-c.result)
            );
            return;
        }
        let fd = ring::adopt_fd(c.result);
        let srv = &mut self.srv;
        srv.stats.connections_received += 1;
        if srv.clients_open >= srv.config.clients_max {
            srv.stats.rejected_connections += 1;
            let _ = nix::unistd::write(&fd, b"-ERR max number of clients reached\r\n");
            return;
        }
        let peer = sock::getpeername::<SockaddrStorage>(fd.as_raw_fd()).ok();
        let local = sock::getsockname::<SockaddrStorage>(fd.as_raw_fd()).ok();
        let kind = match peer.as_ref().and_then(|p| p.family()) {
            Some(sock::AddressFamily::Unix) => Kind::Unix,
            _ => Kind::Tcp,
        };
        if kind == Kind::Tcp {
            let _ = sock::setsockopt(&fd, sock::sockopt::TcpNoDelay, &true);
            set_keepalive(&fd, srv.config.tcp_keepalive_s);
        }
        let addr = match (&peer, kind) {
            (_, Kind::Unix) => format!(
                "{}:0",
                srv.config
                    .unixsocket
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
            (Some(p), _) => format_addr(p),
            (None, _) => "?:0".into(),
        };
        let laddr = match (&local, kind) {
            (_, Kind::Unix) => addr.clone(),
            (Some(p), _) => format_addr(p),
            (None, _) => "?:0".into(),
        };
        if srv.config.protected_mode
            && srv.config.requirepass.is_none()
            && kind == Kind::Tcp
            && !peer.as_ref().is_some_and(is_loopback_peer)
        {
            srv.stats.rejected_connections += 1;
            let _ = nix::unistd::write(&fd, PROTECTED_MODE_DENIED);
            return;
        }
        let slot = srv.add_client(fd, kind, addr, laddr);
        srv.touched.push(slot);
    }

    /// The connection a completion belongs to, if it is still the same one.
    fn conn_for(&mut self, token: u64) -> Option<usize> {
        let slot = ring::token_slot(token) as usize;
        match self.srv.conns.get(slot) {
            Some(c) if c.generation == ring::token_generation(token) => Some(slot),
            _ => None,
        }
    }

    fn on_recv(&mut self, c: Completion) {
        let Some(slot) = self.conn_for(c.token) else {
            return;
        };
        let srv = &mut self.srv;
        let conn = &mut srv.conns[slot];
        conn.recv_inflight = false;
        conn.inbuf = c.buf;
        if conn.closed {
            srv.close(slot);
            return;
        }
        if c.result == -libc::ECANCELED {
            // Cancelled when the client was unblocked: process what it has buffered.
            if !conn.ready {
                conn.ready = true;
                srv.ready.push(slot);
            }
            srv.touched.push(slot);
            return;
        }
        if c.result <= 0 {
            if c.result == 0 || c.result == -libc::ECONNRESET {
                // Peer closed its side: finish sending what we owe, then close (a blocked
                // client stops waiting now, so nothing is served to a closed socket).
                conn.peer_closed = true;
                srv.close_after_reply(slot);
            } else if c.result != -libc::EINTR && c.result != -libc::EAGAIN {
                srv.close(slot);
            } else {
                srv.touched.push(slot);
            }
            return;
        }
        srv.stats.net_input_bytes += c.result as u64;
        conn.note_received(c.result as usize);
        if conn.query_len() > srv.config.query_buffer_max {
            log::warn!(
                "Closing client that reached max query buffer length (addr={})",
                conn.addr
            );
            srv.close(slot);
            return;
        }
        conn.last_interaction_ms = srv.now_ms;
        if !conn.ready {
            conn.ready = true;
            srv.ready.push(slot);
        }
    }

    fn on_send(&mut self, c: Completion) {
        let Some(slot) = self.conn_for(c.token) else {
            return;
        };
        let srv = &mut self.srv;
        let conn = &mut srv.conns[slot];
        conn.send_inflight = false;
        let Some(mut buf) = c.buf else { return };
        if conn.closed {
            srv.close(slot);
            return;
        }
        if c.result < 0 {
            srv.close(slot);
            return;
        }
        srv.stats.net_output_bytes += c.result as u64;
        let offset = conn.send_offset + c.result as usize;
        if offset < buf.len() {
            conn.send_offset = offset;
            conn.send_inflight = true;
            self.ring.send(conn.fd.as_raw_fd(), c.token, buf, offset);
            return;
        }
        buf.clear();
        conn.send_offset = 0;
        conn.sending = Some(buf);
        // Output drained: a connection paused for a full output buffer resumes.
        if conn.inbuf.is_some() && !conn.ready {
            conn.ready = true;
            srv.ready.push(slot);
        }
        srv.touched.push(slot);
    }

    /// Queues one send per connection with output and one receive per connection that is
    /// ready for more input.
    fn flush(&mut self) {
        crate::persist::aof::submit(&mut self.ring, &mut self.srv);
        let aof_acked = crate::persist::aof::acked_seq(&self.srv);
        let mut touched = std::mem::take(&mut self.srv.touched);
        for &slot in &touched {
            let Some(conn) = self.srv.conns.get_mut(slot) else {
                continue;
            };
            if conn.closed {
                continue;
            }
            let fd = conn.fd.as_raw_fd();
            let tok_base = (conn.generation, slot as u32);
            // AOF group commit: replies of write commands wait for their write (or fsync).
            let held = conn.aof_wait_seq > aof_acked;
            if !conn.send_inflight && !conn.out.is_empty() && !held {
                if let Some(mut spare) = conn.sending.take() {
                    std::mem::swap(&mut spare, &mut conn.out);
                    conn.send_inflight = true;
                    conn.send_offset = 0;
                    conn.send_len = spare.len();
                    self.ring
                        .send(fd, ring::token(K_SEND, tok_base.0, tok_base.1), spare, 0);
                }
            }
            if conn.close_after_reply {
                if !conn.send_inflight && conn.out.is_empty() && !held {
                    self.srv.close(slot);
                }
                continue;
            }
            let paused = conn.out.len()
                + if conn.send_inflight {
                    OUT_PAUSE_BYTES / 2
                } else {
                    0
                }
                >= OUT_PAUSE_BYTES;
            if !conn.recv_inflight && !conn.ready && !paused && !self.srv.shutdown_requested {
                if let Some(mut buf) = conn.inbuf.take() {
                    prepare_recv_buf(&mut buf, conn.small_recvs);
                    conn.recv_inflight = true;
                    conn.recv_handle =
                        self.ring
                            .recv(fd, ring::token(K_RECV, tok_base.0, tok_base.1), buf);
                }
            }
        }
        touched.clear();
        self.srv.touched = touched;
        // The receives are still in flight (their completions are reaped only at the next
        // turn), so the handles cannot have been reused.
        for (slot, generation) in self.srv.recv_to_cancel.drain(..) {
            if let Some(c) = self.srv.conns.get(slot) {
                if c.generation == generation && c.recv_inflight && !c.closed {
                    self.ring
                        .cancel(c.recv_handle, ring::token(K_RECV_CANCEL, 0, 0));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{SocketAddrV4, SocketAddrV6};

    fn v4(ip: [u8; 4]) -> SockaddrStorage {
        SockaddrStorage::from(std::net::SocketAddr::V4(SocketAddrV4::new(ip.into(), 1)))
    }

    fn v6(ip: std::net::Ipv6Addr) -> SockaddrStorage {
        SockaddrStorage::from(std::net::SocketAddr::V6(SocketAddrV6::new(ip, 1, 0, 0)))
    }

    /// Protected mode lets only these peers in without a password (Redis's connIsLocal).
    #[test]
    fn loopback_peers_are_127_slash_8_and_ipv6_localhost_only() {
        assert!(is_loopback_peer(&v4([127, 0, 0, 1])));
        assert!(is_loopback_peer(&v4([127, 5, 6, 7])));
        assert!(!is_loopback_peer(&v4([10, 0, 0, 1])));
        assert!(!is_loopback_peer(&v4([128, 0, 0, 1])));
        assert!(is_loopback_peer(&v6(std::net::Ipv6Addr::LOCALHOST)));
        assert!(!is_loopback_peer(&v6("fe80::1".parse().unwrap())));
        assert!(!is_loopback_peer(&v6("::ffff:127.0.0.1".parse().unwrap())));
    }

    #[test]
    fn denied_text_is_one_redis_error_line() {
        assert!(PROTECTED_MODE_DENIED.starts_with(b"-DENIED "));
        assert!(PROTECTED_MODE_DENIED.ends_with(b"\r\n"));
        let body = &PROTECTED_MODE_DENIED[..PROTECTED_MODE_DENIED.len() - 2];
        assert!(!body.contains(&b'\r') && !body.contains(&b'\n'));
    }

    #[test]
    fn command_keys_fold_case_and_never_alias() {
        assert_eq!(command_key(b"GET"), command_key(b"get"));
        assert_eq!(
            command_key(b"zRemRangeByScore"),
            command_key(b"zremrangebyscore")
        );
        assert_ne!(command_key(b"get"), command_key(b"getex"));
        for bad in [&b""[..], b"get\0", b"\0", b"seventeen-bytes!!"] {
            assert_eq!(command_key(bad), None, "{bad:?}");
        }
        let mut seen = std::collections::HashSet::new();
        for c in cmd::COMMANDS {
            let key = command_key(c.name.as_bytes()).expect("a 1-16 byte name");
            assert!(seen.insert(key), "{} aliases another command", c.name);
        }
    }
}
