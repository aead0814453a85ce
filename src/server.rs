//! The server state commands see: databases, the client registry, stats, and the per-tick
//! housekeeping (cron).
//!
//! `event_loop` owns the ring and drives this state: it registers accepted clients
//! (`add_client`), hands over received input (`process_input` parses a connection's buffered
//! commands and runs each through `cmd::call`) and calls `housekeeping` when the tick fires (active
//! expiry, idle clients, idle rehashing, scheduled saves). Commands reach back into the loop
//! only through the queues kept here: `touched` (flush this connection's output or re-arm its
//! receive this turn), `ready` (it has input to process) and `recv_to_cancel`.
//!
//! Commands report here what they changed: `signal_modified` (WATCH, blocked clients,
//! client-side caching), `drain_expired` (keys deleted by expiry, to the journal, WATCH and
//! client-side caching) and `publish_effects`
//! (the journal's published effects to the AOF, holding the client's reply until they are
//! acknowledged).
//!
//! Client eviction (`maxmemory-clients`) is in `server::client_eviction`: the clients' memory
//! total kept up to date as connections' buffers change, and the closing of the largest
//! connections when it is over the limit.
//!
//! Persistence (`persist`) sees none of this state: `server::persistence` lends it the parts
//! it needs for each call and applies what the AOF reports back (held replies released, the
//! journal switched, `appendonly` reset); the server depends on `persist`, never the reverse.
//!
//! Invariants: a connection's input buffer is either in the `Conn` or in the ring (a receive
//! in flight), never both; a slot is freed (`close`) only after its socket is shut down and no
//! operation is in flight for it.

mod client_eviction;
mod persistence;
pub mod shutdown;

pub use client_eviction::ClientsMemory;

use crate::cmd::{self, Command};
use crate::config::Config;
use crate::keyspace::Db;
use crate::net::conn::{Conn, Kind, OUT_PAUSE_BYTES};
use crate::resp::parse::{ParseLimits, Parser, Status};
use crate::resp::Span;
use nix::sys::socket as sock;
use slab::Slab;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Why `process_input` stopped with input left.
pub(crate) enum InputLeft {
    /// It ran everything it could (or the client is blocked or closing).
    None,
    /// Its output buffer is full: it goes on once a send completes.
    Paused,
    /// It used up its slice or command count: it goes on at the next turn, at once.
    Runnable,
}

/// `repl-backlog-size` until the config has it (Redis's default, 1 MiB).
const REPL_BACKLOG_SIZE_DEFAULT: usize = 1 << 20;
/// Key tables smaller than this stay in the CPU's caches: no lookahead for them
/// (`prefetch_ahead`).
const PREFETCH_TABLE_KEYS_MIN: usize = 1 << 14;
/// Input after a command below this cannot hold two commands with a key each: no lookahead.
const PREFETCH_INPUT_BYTES_MIN: usize = 40;
/// `dynamic-hz`: clients per housekeeping tick above which the rate doubles (Redis's
/// MAX_CLIENTS_PER_CLOCK_TICK), and the highest rate (CONFIG_MAX_HZ).
const CLIENTS_PER_TICK_MAX: u32 = 200;
const HZ_MAX: u32 = 500;
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
    /// Connections closed by client eviction (`maxmemory-clients`).
    pub evicted_clients: u64,
    /// Loop turns whose work arrived while the loop was busy-polling (`busy-poll-us`).
    pub busy_poll_hits: u64,
    pub ops_samples: [u64; 16],
    pub ops_sample_idx: usize,
    pub ops_last_count: u64,
    pub ops_last_ms: u64,
    /// Bytes per second read and written, sampled with the ops (instantaneous_*_kbps).
    pub net_in_samples: [u64; 16],
    pub net_out_samples: [u64; 16],
    pub net_in_last: u64,
    pub net_out_last: u64,
    /// Time spent in active expiry passes, and the passes that ran out of time
    /// (expire_cycle_cpu_milliseconds, expired_time_cap_reached_count).
    pub expire_cycle_us: u64,
    pub expired_time_cap_reached: u64,
    /// Counters kept elsewhere as they stood at the last CONFIG RESETSTAT (INFO shows the
    /// growth since): lazily freed objects, ms over maxmemory.
    pub lazyfreed_base: usize,
    pub eviction_exceeded_base_ms: u64,
    /// Error replies per error code (the reply's first word), for INFO errorstats; at most
    /// `ERROR_CODES_MAX` codes (later new codes count in `total_error_replies` only).
    pub error_codes: std::collections::BTreeMap<Box<[u8]>, u64>,
}

/// Distinct error codes INFO errorstats keeps (Redis 7.2's ERROR_STATS_NUMBER): a bound on
/// what a client sending odd errors through scripts could make the server remember.
pub const ERROR_CODES_MAX: usize = 128;

impl Stats {
    /// Counts one error reply, `reply` being its RESP bytes from the `-` on: its code is
    /// its first word when that ends within 32 bytes, else ERR (Redis's afterErrorReply).
    #[cold]
    pub fn count_error(&mut self, reply: &[u8]) {
        self.total_error_replies += 1;
        let head = &reply[..reply.len().min(32)];
        let code: &[u8] = match (head.first(), head.iter().position(|&b| b == b' ')) {
            (Some(b'-'), Some(sp)) => &head[1..sp],
            _ => b"ERR",
        };
        if let Some(n) = self.error_codes.get_mut(code) {
            *n += 1;
        } else if self.error_codes.len() < ERROR_CODES_MAX {
            self.error_codes.insert(code.into(), 1);
        }
    }
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
    /// Users, their rules and the ACL log (`acl`).
    pub acl: crate::acl::Acl,
    pub dbs: Vec<Db>,
    pub conns: Slab<Conn>,
    pub stats: Stats,
    /// Indexed like `all_commands`.
    pub cmd_stats: Vec<CmdStat>,
    /// Indexed like `all_commands`: each command's latency histogram (`latency-tracking`),
    /// made at its first call.
    pub cmd_latency: Vec<Option<Box<crate::latency::Histogram>>>,
    pub all_commands: Vec<&'static Command>,
    /// Command name (lower case) → index in `all_commands`. foldhash, not SipHash: the table
    /// holds only our names and lookups never insert, so a client's chosen names cannot
    /// degrade it, and SipHash cost ~180 instructions per command (callgrind, docs/PERFORMANCE.md).
    lookup: HashMap<(u128, u64), usize, foldhash::fast::FixedState>,
    /// The names `find_command` found last, exactly as clients spelled them, by a hash of
    /// their first byte and length: a pipeline repeats a few commands, and comparing the
    /// bytes costs ~25 instructions where lower-casing, hashing and probing costs ~100
    /// (callgrind, GET -P 16). The table never changes, so entries never go stale.
    lookup_memo: [std::cell::Cell<LookupMemo>; LOOKUP_MEMO_SLOTS],
    /// End of the last command's execution, or the start of this loop turn: commandstats
    /// time a command from here.
    pub(crate) cmd_clock_ns: u64,
    /// `commands_processed` at the previous housekeeping tick.
    commands_at_last_tick: u64,
    /// Active expiry runs (DEBUG SET-ACTIVE-EXPIRE 0 stops it, for tests).
    pub active_expire_enabled: bool,
    pub next_client_id: u64,
    next_generation: u32,
    pub start_ms: u64,
    pub start_instant: Instant,
    pub run_id: String,
    pub shutdown_requested: bool,
    /// A SHUTDOWN waiting for lagging replicas (`server::shutdown`).
    pub shutdown_wait: Option<shutdown::ShutdownWait>,
    pub now_ms: u64,
    pub listeners: Vec<Listener>,
    pub lazyfree: &'static crate::lazyfree::LazyFree,
    /// MIGRATE's cached connections to its targets.
    pub migrate: cmd::migrate::Sockets,
    /// The OOM score the process had before `oom-score-adj` changed it (None: unchanged).
    oom_score_base: Option<i32>,
    /// Slots whose output must be flushed or which need a new receive this turn.
    pub(crate) touched: Vec<usize>,
    /// Slots with input to process this turn.
    pub(crate) ready: Vec<usize>,
    pub hz: u32,
    pub tick_count: u64,
    /// Connections not yet closed (what maxclients limits and INFO reports).
    pub(crate) clients_open: usize,
    /// The open connections' memory as last counted (`server::client_eviction`).
    pub clients_mem: ClientsMemory,
    /// Clients blocked on keys (BLPOP and friends).
    pub blocking: crate::blocking::Blocking,
    /// Index in `all_commands` of the command running now (a blocking command records it).
    pub(crate) current_cmd: usize,
    /// Unblocked clients (slot, generation) whose receive is in flight: it is cancelled, so
    /// that commands they pipelined while blocked run now rather than when more input comes.
    pub(crate) recv_to_cancel: Vec<(usize, u32)>,
    /// Clients receive through multishot receives into the ring's provided buffers (false:
    /// one receive at a time into each client's own buffer; see `event_loop::flush_conns`).
    pub(crate) recv_multishot: bool,
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
    /// Eviction under maxmemory (`evict`).
    pub evict: crate::evict::Evictor,
    /// Keys deleted by expiry are logged (`update_expiry_logging`): someone consumes them.
    /// Always true while the journal records.
    pub(crate) log_deletions: bool,
    /// Reused by `notify::fire` for channel names.
    pub(crate) notify_channel: Vec<u8>,
    /// Pub/Sub subscriptions (`cmd::pubsub` delivers).
    pub pubsub: crate::pubsub::PubSub,
    /// Reused by `cmd::pubsub::publish`: the message frame and the receivers' slots.
    pub(crate) pub_frame: Vec<u8>,
    pub(crate) pub_slots: Vec<usize>,
    /// Connections (slot, generation) put over their output limit by an out-of-band delivery,
    /// closed at the end of the turn (`close_over_limit`).
    pub(crate) obuf_closing: Vec<(usize, u32)>,
    /// Client-side caching (`tracking`; `cmd::tracking` delivers).
    pub tracking: crate::tracking::Tracking,
    /// Reused by `cmd::tracking` for invalidation frames.
    pub(crate) tracking_frame: Vec<u8>,
    /// Slot of the client whose command runs (or ran last): meaningful while the journal
    /// has a unit open (`current_client`).
    pub(crate) current_slot: usize,
    /// Lua scripting: the interpreter, the script cache and the running script's state
    /// (`script`; the commands are in `cmd::scripting`).
    pub scripts: crate::script::Scripts,
    /// Used memory was over maxmemory with nothing left to evict when the running client
    /// command was checked: a script's `denyoom` commands are judged by this (Redis's
    /// `script_oom`), not by what the script allocated since.
    pub(crate) oom_at_command_start: bool,
    /// How the running command's error reply counts (`cmd::call::ReplyError`), when its
    /// handler knows better than `cmd::call` (EVAL); taken when the reply is counted.
    pub(crate) reply_error: crate::cmd::call::ReplyError,
    /// The event loop's ring, lent to the server so that a script past
    /// busy-reply-threshold can serve other clients from inside its run
    /// (`event_loop::busy_turn`). None outside the loop (tests, fuzzing, benches).
    pub(crate) ring: Option<crate::io::ring::Ring>,
    /// Completions a busy turn reaped but left to the loop's next turn (timers, signals,
    /// and the script's own client's operations).
    pub(crate) deferred_completions: Vec<crate::io::ring::Completion>,
    /// Observability (`cmd::call::observe`): the slow log, the latency monitor, and the
    /// shortest command time (µs) either wants to see, so that `cmd::call` tests one number
    /// per command; `u64::MAX` when nothing does.
    pub slowlog: crate::slowlog::SlowLog,
    pub latency: crate::latency::LatencyMonitor,
    pub(crate) observe_us_min: u64,
    /// Clients in MONITOR mode (`cmd::monitor`).
    pub monitors: crate::monitor::Monitors,
    /// CLIENT PAUSE (`cmd::pause`).
    pub pause: crate::pause::Pause,
    /// Some client has used CLIENT REPLY OFF or SKIP (sticky): `process_input` looks at
    /// reply modes only then.
    pub(crate) reply_modes_used: bool,
    /// Replication ids, offset and backlog (`repl`).
    pub repl: crate::repl::ReplState,
    /// The AOF wants the journal (`set_journal`); the replication backlog may want it too.
    pub(crate) journal_aof: bool,
    /// The link to this server's primary when it is a replica (`repl::replica`).
    pub replica: crate::repl::replica::Replica,
}

pub use crate::util::unix_ms;

/// Why the server deleted a key on its own (`Server::record_deletion`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Deletion {
    Expired,
    /// By eviction; `lazy`: its value is freed on the lazy-free thread (logged as UNLINK).
    Evicted {
        lazy: bool,
    },
}

pub(crate) fn random_hex(n: usize) -> String {
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

/// Entries of `Server::lookup_memo`.
const LOOKUP_MEMO_SLOTS: usize = 8;

/// One name `find_command` found: its bytes as the client sent them (`name_words`; `len` of
/// them, 0 for an empty entry, which no name matches since names are not empty) and its
/// index.
#[derive(Clone, Copy, Default)]
struct LookupMemo {
    words: [u64; 3],
    len: u8,
    idx: u32,
}

/// A name of 1 to 24 bytes as three words that, with its length, identify it: every byte
/// is in some word (reads overlap for lengths between the word sizes). Two or three integer
/// tests compare them, where a slice comparison is a `memcmp` call.
#[inline(always)]
fn name_words(name: &[u8]) -> [u64; 3] {
    let n = name.len();
    let r8 = |i: usize| u64::from_le_bytes(name[i..i + 8].try_into().expect("8 bytes"));
    let r4 = |i: usize| {
        u64::from(u32::from_le_bytes(
            name[i..i + 4].try_into().expect("4 bytes"),
        ))
    };
    match n {
        0 => [0; 3],
        1..=3 => [
            u64::from(name[0]) | u64::from(name[n / 2]) << 8 | u64::from(name[n - 1]) << 16,
            0,
            0,
        ],
        4..=8 => [r4(0) | r4(n - 4) << 32, 0, 0],
        9..=16 => [r8(0), r8(n - 8), 0],
        _ => [r8(0), r8(8), r8(n - 8)],
    }
}

/// A command name as two integers: its bytes lower-cased, zero-padded to 24 (Redis's
/// longest name, GEORADIUSBYMEMBER_RO, has 20). Hashing and comparing them is cheaper than
/// a byte slice (no memcmp call). Names longer than 24 bytes or holding a NUL (so that
/// padding cannot alias) are no command.
fn command_key(name: &[u8]) -> Option<(u128, u64)> {
    if name.is_empty() || name.len() > 24 {
        return None;
    }
    let mut b = [0u8; 24];
    for (d, &c) in b.iter_mut().zip(name) {
        if c == 0 {
            return None;
        }
        *d = c.to_ascii_lowercase();
    }
    let mut lo = [0u8; 16];
    lo.copy_from_slice(&b[..16]);
    let mut hi = [0u8; 8];
    hi.copy_from_slice(&b[16..]);
    Some((u128::from_le_bytes(lo), u64::from_le_bytes(hi)))
}

impl Server {
    pub fn new(config: Config) -> Server {
        let mut all_commands = Vec::new();
        let mut lookup = HashMap::with_hasher(foldhash::fast::FixedState::default());
        for c in cmd::COMMANDS {
            let key = command_key(c.name.as_bytes()).expect("command names are 1 to 24 bytes");
            lookup.insert(key, all_commands.len());
            // Each container is followed by its subcommands, in table order: `cmd::call`
            // finds a subcommand's index from its container's.
            all_commands.push(c);
            for s in c.subcommands {
                all_commands.push(s);
            }
        }
        let dbs = (0..config.databases).map(|_| Db::new()).collect();
        let blocking = crate::blocking::Blocking::new(config.databases);
        let databases = config.databases;
        let now = unix_ms();
        let mut acl = crate::acl::Acl::new(&all_commands);
        // main.rs ran the same load before and stopped on its error: only a file changed in
        // between can fail here.
        if let Err(e) = crate::acl::load_at_startup(&mut acl, &config) {
            log::error!("{e}");
        }
        let mut srv = Server {
            acl,
            hz: config.hz,
            config,
            dbs,
            conns: Slab::new(),
            stats: Stats::default(),
            cmd_stats: vec![CmdStat::default(); all_commands.len()],
            cmd_latency: (0..all_commands.len()).map(|_| None).collect(),
            all_commands,
            lookup,
            lookup_memo: Default::default(),
            next_client_id: 1,
            next_generation: 1,
            start_ms: now,
            start_instant: Instant::now(),
            cmd_clock_ns: crate::util::mono_ns(),
            commands_at_last_tick: 0,
            active_expire_enabled: true,
            run_id: random_hex(40),
            repl: crate::repl::ReplState::new(random_hex(40), REPL_BACKLOG_SIZE_DEFAULT),
            journal_aof: false,
            replica: crate::repl::replica::Replica::default(),
            shutdown_requested: false,
            shutdown_wait: None,
            now_ms: now,
            listeners: Vec::new(),
            lazyfree: crate::lazyfree::global(),
            migrate: Default::default(),
            oom_score_base: None,
            touched: Vec::new(),
            ready: Vec::new(),
            tick_count: 0,
            clients_open: 0,
            clients_mem: ClientsMemory::default(),
            blocking,
            current_cmd: 0,
            recv_to_cancel: Vec::new(),
            recv_multishot: false,
            aof: crate::persist::aof::Aof::new(),
            loading: false,
            rdb: crate::persist::rdb_server::RdbState::new(now / 1000),
            journal: crate::journal::Journal::new(),
            watches: crate::cmd::multi::Watches::new(databases),
            frame: crate::cmd::call::Frame::default(),
            evict: crate::evict::Evictor::default(),
            log_deletions: false,
            notify_channel: Vec::new(),
            pubsub: crate::pubsub::PubSub::default(),
            pub_frame: Vec::new(),
            pub_slots: Vec::new(),
            obuf_closing: Vec::new(),
            tracking: crate::tracking::Tracking::new(),
            tracking_frame: Vec::new(),
            current_slot: 0,
            scripts: crate::script::Scripts::new(),
            oom_at_command_start: false,
            reply_error: crate::cmd::call::ReplyError::Failed,
            ring: None,
            deferred_completions: Vec::new(),
            slowlog: crate::slowlog::SlowLog::default(),
            latency: crate::latency::LatencyMonitor::default(),
            observe_us_min: u64::MAX,
            monitors: crate::monitor::Monitors::default(),
            pause: crate::pause::Pause::default(),
            reply_modes_used: false,
        };
        srv.apply_access_params();
        srv.apply_observe_params();
        // A score the kernel refuses is logged; the start goes on, as Redis's.
        let _ = srv.apply_oom_score_adj();
        srv.update_expiry_logging();
        crate::alloc::set_maxmemory(srv.config.maxmemory_bytes);
        srv.apply_clients_memory_limit();
        srv
    }

    #[inline]
    pub(crate) fn find_command(&self, name: &[u8]) -> Option<usize> {
        if name.is_empty() || name.len() > 24 {
            return None;
        }
        let words = name_words(name);
        let cell = &self.lookup_memo[(name[0] as usize ^ name.len()) % LOOKUP_MEMO_SLOTS];
        let memo = cell.get();
        // Word by word: comparing the arrays is a `memcmp` call.
        if usize::from(memo.len) == name.len()
            && memo.words[0] == words[0]
            && memo.words[1] == words[1]
            && memo.words[2] == words[2]
        {
            return Some(memo.idx as usize);
        }
        let idx = *self.lookup.get(&command_key(name)?)?;
        cell.set(LookupMemo {
            words,
            len: name.len() as u8,
            idx: idx as u32,
        });
        Some(idx)
    }

    /// Gives every database the access-word meaning and LFU parameters the config asks for,
    /// and the lazy-free choices of expiry and implicit deletes (at start and after CONFIG
    /// SET).
    pub fn apply_access_params(&mut self) {
        let access = crate::keyspace::AccessParams {
            lfu: self.config.maxmemory_policy.is_lfu(),
            lfu_log_factor: self.config.lfu_log_factor,
            lfu_decay_time_min: self.config.lfu_decay_time,
        };
        for db in &mut self.dbs {
            db.set_access_params(access);
            db.lazy_expire = self.config.lazyfree_lazy_expire;
        }
        crate::lazyfree::set_server_del_lazy(self.config.lazyfree_lazy_server_del);
    }

    /// Recomputes `observe_us_min` from the settings (at start and after CONFIG SET): the
    /// least of the slow log's threshold and the latency monitor's; and trims the slow log
    /// to its length.
    pub fn apply_observe_params(&mut self) {
        let slow = u64::try_from(self.config.slowlog_log_slower_than_us).unwrap_or(u64::MAX);
        self.observe_us_min = slow.min(self.latency_threshold_us());
        let max_len = usize::try_from(self.config.slowlog_max_len).unwrap_or(usize::MAX);
        self.slowlog.trim(max_len);
    }

    /// The latency monitor's threshold in µs; `u64::MAX` when it is off.
    pub fn latency_threshold_us(&self) -> u64 {
        match self.config.latency_monitor_threshold_ms {
            0 => u64::MAX,
            ms => ms.saturating_mul(1000),
        }
    }

    /// Records that `event` took `us` µs if the latency monitor is on and that is at least
    /// its threshold (Redis compares whole milliseconds: 10.9 ms is 10 ms).
    pub fn latency_sample(&mut self, event: crate::latency::Event, us: u64) {
        let threshold = self.config.latency_monitor_threshold_ms;
        let ms = us / 1000;
        if threshold != 0 && ms >= threshold {
            // The second the event ended in, as Redis (a long event can end in a later
            // second than the loop turn began in); read only when a sample is taken.
            let now_s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(self.now_ms / 1000, |d| d.as_secs());
            self.latency.add(event, now_s, ms);
        }
    }

    pub fn used_memory(&self) -> u64 {
        // The Lua interpreter's memory is not data, as in Redis (whose Lua allocates outside
        // its accounting): INFO shows it as used_memory_lua, and maxmemory does not count it.
        crate::alloc::allocated().saturating_sub(self.scripts.vm_memory_exact()) as u64
    }

    /// Marks a connection to be closed once its pending replies are sent. A blocked client
    /// stops waiting at once (Redis frees it, so no push can serve it any more).
    pub fn close_after_reply(&mut self, slot: usize) {
        if let Some(c) = self.conns.get_mut(slot) {
            c.close_after_reply = true;
            self.touched.push(slot);
            if c.is_blocked() {
                cmd::blocking::unblock(self, slot, crate::blocking::Unblock::Disconnect);
            }
        }
    }

    /// A client that stopped being blocked: its reply goes out this turn and its buffered
    /// input is processed again.
    pub(crate) fn resume_client(&mut self, slot: usize) {
        if let Some(c) = self.conns.get_mut(slot) {
            self.touched.push(slot);
            // A multishot receive leaves the input buffer here; a single one has it.
            if c.recv_inflight && !c.recv_multishot {
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

    /// Whether a modified key can matter to anyone: a client WATCHes, is blocked, or may
    /// cache keys (client-side caching).
    pub fn key_signals_wanted(&self) -> bool {
        !self.watches.is_empty() || !self.blocking.is_empty() || self.tracking.on()
    }

    /// The client whose command is running: a command runs while the journal has a unit
    /// open (a command, EXEC, a serve); None outside commands (cron, the loop).
    pub(crate) fn current_client(&self) -> Option<usize> {
        (!self.journal.idle()).then_some(self.current_slot)
    }

    /// `key` of `db` was modified (Redis's `signalModifiedKey`): its watchers' transactions
    /// fail, clients blocked on it are served once the running unit ends, and clients that
    /// may cache it are told (`cmd::tracking`).
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        self.frame.set_signalled();
        if !self.watches.is_empty() {
            cmd::multi::touch(self, db, key);
        }
        if !self.blocking.is_empty() {
            cmd::blocking::signal_if_exists(self, db, key);
        }
        if self.tracking.on() {
            cmd::tracking::key_modified(self, key, true);
        }
    }

    /// Every key of `db` may have changed (FLUSHDB, SWAPDB): clients blocked on any key of
    /// it are re-checked. WATCH is handled before the change (`multi::touch_all_in_db`).
    pub fn signal_db_replaced(&mut self) {
        self.frame.set_signalled();
        if !self.blocking.is_empty() {
            cmd::blocking::signal_all(self);
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
                self.record_deletion(i, k, Deletion::Expired);
            }
        }
        if self.journal.idle() && self.journal.has_published() {
            self.publish_effects(None);
        }
    }

    /// A key the server deleted on its own (expired or evicted): its `expired` / `evicted`
    /// keyspace event fires, `DEL key` (or `UNLINK key` for a lazily freed eviction) goes to
    /// the journal — joining the unit in progress, else as a unit of its own — WATCHes on it
    /// fail and clients that may cache it are told.
    pub fn record_deletion(&mut self, db: usize, key: &[u8], why: Deletion) {
        let (class, event, verb): (u32, &str, &[u8]) = match why {
            Deletion::Expired => (crate::notify::class::EXPIRED, "expired", b"DEL"),
            Deletion::Evicted { lazy } => (
                crate::notify::class::EVICTED,
                "evicted",
                if lazy { b"UNLINK" } else { b"DEL" },
            ),
        };
        if self.config.notify_keyspace_events & class != 0 {
            crate::notify::fire(self, &mut None, class, event, db, key);
        }
        let own_unit = self.journal.idle();
        if own_unit {
            self.journal.begin_unit();
        }
        self.journal.record(db, &[verb, key]);
        if own_unit {
            self.journal.end_unit();
        }
        if !self.watches.is_empty() {
            cmd::multi::touch(self, db, key);
        }
        if self.tracking.on() {
            cmd::tracking::key_modified(self, key, false);
        }
    }

    /// Gives what the journal published to its consumers (the AOF), then forgets it. The
    /// client in `slot`, whose command had these effects, gets its reply only once the AOF
    /// has acknowledged them.
    pub fn publish_effects(&mut self, slot: Option<usize>) {
        if self.aof.enabled {
            debug_assert!(
                !self.aof.has_effects(),
                "an AOF call's effects were not applied"
            );
            let ts = self
                .config
                .aof_timestamp_enabled
                .then_some(self.now_ms / 1000);
            self.aof.feed(&self.journal, ts);
            if let Some((s, conn)) = slot.and_then(|s| Some((s, self.conns.get_mut(s)?))) {
                self.aof.hold(s, conn.id, &mut conn.aof_wait_seq);
            }
        }
        // The replication stream (`repl::primary`): one more consumer, while this server
        // is a primary keeping a backlog (a replica passes on its primary's bytes instead).
        if self.repl.has_backlog() && self.repl.role == crate::repl::Role::Primary {
            crate::repl::primary::feed_effects(self, slot);
        }
        self.journal.clear();
    }

    /// Keys deleted by expiry are logged while the journal records, a client WATCHes,
    /// `expired` events are enabled or client-side caching has work (`cmd::call` relies on
    /// the last: it runs the tracking work of a command only while deletions are logged).
    pub fn update_expiry_logging(&mut self) {
        let on = self.journal.enabled
            || !self.watches.is_empty()
            || self.config.notify_keyspace_events & crate::notify::class::EXPIRED != 0
            || self.tracking.on();
        self.log_deletions = on;
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
        // The replication backlog consumes the journal too (`repl::primary`).
        self.journal_aof = on;
        let on = on || self.repl.has_backlog();
        if !on {
            self.journal.discard();
        }
        self.journal.enabled = on;
        self.update_expiry_logging();
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

    /// Benchmark support, not part of the server's interface: registers a connection on `fd`
    /// as if it had been accepted, without queueing any ring operation for it, and returns its
    /// slot.
    #[doc(hidden)]
    pub fn bench_add_client(&mut self, fd: OwnedFd) -> usize {
        self.add_client(fd, Kind::Unix, "bench:0".into(), "bench:0".into())
    }

    /// Registers a new client: the next id and slot generation, authenticated only when no
    /// password is set. Returns its slot.
    pub(crate) fn add_client(
        &mut self,
        fd: OwnedFd,
        kind: Kind,
        addr: String,
        laddr: String,
    ) -> usize {
        let id = self.next_client_id;
        self.next_client_id += 1;
        let generation = self.next_generation;
        self.next_generation = (self.next_generation + 1) & 0xff_ffff;
        let authenticated = self.acl.default_open();
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
            authenticated: self.acl.default_open() || self.conns[slot].authenticated,
        }
    }

    /// The lookahead of a pipeline: the parser parses the next whole commands ahead
    /// (`Parser::parse_ahead`, taken by the following `parse` calls without parsing again),
    /// and the second argument of each (the first key of most commands) is looked up in the
    /// connection's database ahead of time, so that their cache misses overlap rather than
    /// each stalling its command in turn (the bucket and the entry were ~40% of the server's
    /// CPU under `redis-benchmark -P 16 -t get` on 100,000 keys; perf).
    #[inline(never)]
    fn prefetch_ahead(&self, slot: usize, parser: &mut Parser, inbuf: &[u8], limits: &ParseLimits) {
        let db = &self.dbs[self.conns[slot].db];
        let mut keys: [&[u8]; crate::ds::dict::PREFETCH_KEYS_MAX] =
            [&[]; crate::ds::dict::PREFETCH_KEYS_MAX];
        let mut n = 0;
        parser.parse_ahead(
            inbuf,
            limits,
            crate::ds::dict::PREFETCH_KEYS_MAX,
            |buf, spans| {
                if let Some(k) = lookahead_key(buf, spans) {
                    keys[n] = k;
                    n += 1;
                }
            },
        );
        if n > 1 {
            db.prefetch_keys(keys[..n].iter().copied());
        }
    }

    /// The lookahead across connections, for the connections whose input the loop is about
    /// to run (`slots`): the first command of each is parsed ahead (`Parser::parse_ahead`,
    /// taken by its `parse` when it runs, so it is parsed once) and its key's bucket and
    /// entry prefetched, as `prefetch_ahead` does within one connection's pipeline. With many
    /// clients sending one command at a time, each loop turn holds one command of each of
    /// them; run one after another, each would stall on its key in turn.
    pub(crate) fn prefetch_ready(&mut self, slots: &[usize]) {
        const MAX: usize = crate::ds::dict::PREFETCH_KEYS_MAX;
        // Where each key is: its connection and its span in that connection's input.
        let mut found = [(0usize, Span::default()); MAX];
        let mut n = 0;
        let mut db_of_keys = usize::MAX;
        for &slot in slots.iter().take(MAX) {
            let Some(conn) = self.conns.get(slot) else {
                continue;
            };
            // One database per batch (almost always every connection's).
            if db_of_keys != usize::MAX && conn.db != db_of_keys {
                continue;
            }
            if self.dbs[conn.db].len() < PREFETCH_TABLE_KEYS_MIN {
                continue;
            }
            let db = conn.db;
            let limits = self.parse_limits(slot);
            let conn = &mut self.conns[slot];
            let (Some(inbuf), Some(parser)) = (conn.inbuf.as_deref(), conn.parser.as_deref_mut())
            else {
                continue;
            };
            if parser.idle_at().is_none() {
                continue;
            }
            let mut key = None;
            parser.parse_ahead(inbuf, &limits, 1, |buf, spans| {
                key = lookahead_arg(buf, spans).map(|i| spans[i]);
            });
            if let Some(span) = key {
                found[n] = (slot, span);
                n += 1;
                db_of_keys = db;
            }
        }
        if n > 0 {
            let conns = &self.conns;
            self.dbs[db_of_keys].prefetch_keys(found[..n].iter().map(|&(slot, s)| {
                let inbuf = conns[slot].inbuf.as_deref().unwrap_or_default();
                &inbuf[s.start..s.end]
            }));
        }
    }

    /// Parses and runs the buffered commands of one connection; says whether it stopped with
    /// input left, and why.
    // Two callers (the loop and a busy script's turn): inlined into both, as when the loop
    // was the only one.
    #[inline(always)]
    pub(crate) fn process_input(&mut self, slot: usize) -> InputLeft {
        let Some(conn) = self.conns.get_mut(slot) else {
            return InputLeft::None;
        };
        if conn.closed || conn.close_after_reply {
            return InputLeft::None;
        }
        if conn.is_blocked() || conn.postponed || conn.repl_waiting || conn.shutdown_waiting {
            // Input stays buffered until the client is unblocked (or the pause ends). Receiving goes on (so a
            // disconnect is seen); `resume_client` cancels a receive in flight so that the
            // buffered commands run as soon as the client is unblocked.
            self.touched.push(slot);
            return InputLeft::None;
        }
        let Some(mut inbuf) = conn.inbuf.take() else {
            return InputLeft::None;
        };
        let Some(mut parser) = conn.parser.take() else {
            conn.inbuf = Some(inbuf);
            return InputLeft::None;
        };
        conn.inbuf_away_bytes = inbuf.capacity();
        conn.inbuf_running_len = inbuf.len();
        let mut out = std::mem::take(&mut conn.out);
        let mut more = false;
        let mut ran = 0usize;
        let mut obuf_over = false;
        // Client eviction: with a limit set, this client's memory is recounted after each
        // command and clients are evicted as soon as the total reaches the limit, this one
        // too (Redis checks before the next command: the same moment, except that the
        // reply of the last command of a batch is dropped here rather than sent first).
        let evicting = self.clients_memory_limit_bytes() > 0;
        let mut evicted = false;
        let mut paused;
        // `cmd_clock_ns` is read after every command anyway (command time for INFO); the slice
        // is checked every 8 commands, so the usual short batch pays nothing for it.
        let started = self.cmd_clock_ns;
        // Key tables that fit the CPU's caches gain nothing from a lookahead.
        let lookahead = self.dbs[self.conns[slot].db].len() >= PREFETCH_TABLE_KEYS_MIN;
        loop {
            paused = out.len() >= OUT_PAUSE_BYTES;
            if paused
                || ran >= COMMANDS_PER_TURN_MAX
                || (ran % 8 == 7 && self.cmd_clock_ns.saturating_sub(started) >= CONN_SLICE_NS)
            {
                more = !parser.is_idle() || parser.consumed() < inbuf.len();
                break;
            }
            if parser.used_up(&inbuf) {
                break;
            }
            let limits = self.parse_limits(slot);
            match parser.parse(&mut inbuf, &limits) {
                Status::Complete => {
                    // More commands behind this one (a pipeline): parse them now and start
                    // loading their keys, while this one runs. Not before the first: alone
                    // in its receive (no pipeline), a command gains nothing from it.
                    if lookahead
                        && !parser.ahead_pending()
                        && parser.bytes_after(&inbuf) >= PREFETCH_INPUT_BYTES_MIN
                    {
                        self.prefetch_ahead(slot, &mut parser, &inbuf, &limits);
                    }
                    let argv = parser.argv(&inbuf);
                    let reply_start = out.len();
                    cmd::call::call(self, slot, &argv, &mut out, cmd::call::Source::Client);
                    // Only a pause postpones a command, and only CLIENT REPLY sets a reply
                    // mode: without either, no look at the connection here.
                    if self.pause.active() || self.reply_modes_used {
                        let c = &self.conns[slot];
                        if c.postponed {
                            // CLIENT PAUSE: the command stays in the input, parsed, until
                            // the pause ends.
                            break;
                        }
                        if c.reply_mode != 0 {
                            cmd::pause::after_command(self, slot, &mut out, reply_start);
                        }
                    }
                    parser.next_command();
                    ran += 1;
                    if self.output_limit_reached(slot, out.len()) {
                        obuf_over = true;
                        break;
                    }
                    if evicting {
                        self.account_client(slot, out.capacity());
                        if self.evict_clients(Some(slot)) {
                            evicted = true;
                            break;
                        }
                    }
                    let c = &mut self.conns[slot];
                    if !c.out.is_empty() {
                        // Written to the connection rather than to `out` while the command
                        // ran (not expected; kept in order rather than lost).
                        out.append(&mut c.out);
                    }
                    if c.close_after_reply
                        || c.closed
                        || c.is_blocked()
                        || c.repl_waiting
                        || c.shutdown_waiting
                        || self.shutdown_requested
                    {
                        break;
                    }
                }
                Status::Incomplete => break,
                Status::Error(e) => {
                    // Raw bytes: Redis echoes the offending byte as is, even a non-UTF-8 one.
                    out.extend_from_slice(b"-ERR ");
                    out.extend_from_slice(e.message_bytes());
                    out.extend_from_slice(b"\r\n");
                    self.stats.count_error(b"-ERR ");
                    log::debug!("protocol error from client: {}", e.message());
                    self.conns[slot].close_after_reply = true;
                    break;
                }
            }
        }
        // Drop consumed bytes; keep the buffer's capacity.
        let consumed = parser.consumed();
        if consumed > 0 && !more {
            if parser.used_up(&inbuf) {
                inbuf.clear();
                parser.rebase_used_up();
                // Multishot receives copy in whatever arrived in a turn (up to the provided
                // buffers' total): a buffer such a burst made large does not stay so (one
                // grown for a large argument, `reserve_for_argument`, does, for the next).
                if std::mem::take(&mut self.conns[slot].inbuf_grown_by_copies) {
                    inbuf = Vec::new();
                }
            } else {
                inbuf.drain(..consumed);
                parser.rebase(consumed);
            }
        }
        crate::net::conn::reserve_for_argument(
            &mut inbuf,
            parser.bytes_wanted(),
            self.config.query_buffer_max,
        );
        if obuf_over || evicted {
            // As Redis's freeClientAsync and freeClient: queued replies are dropped, not sent.
            out.clear();
        }
        let conn = &mut self.conns[slot];
        conn.inbuf = Some(inbuf);
        conn.inbuf_running_len = 0;
        conn.out = out;
        conn.parser = Some(parser);
        if obuf_over {
            log::warn!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                conn.id,
                conn.addr
            );
            self.close(slot);
            return InputLeft::None;
        }
        if evicted {
            self.evict_client(slot);
            return InputLeft::None;
        }
        self.touched.push(slot);
        match (more, paused) {
            (false, _) => InputLeft::None,
            (true, true) => InputLeft::Paused,
            (true, false) => InputLeft::Runnable,
        }
    }

    /// Redis's `checkClientOutputBufferLimits` for the client in `slot` with `out_len` bytes
    /// in its output buffer (held outside the connection by `process_input`), under the
    /// limits of its class.
    fn output_limit_reached(&mut self, slot: usize, out_len: usize) -> bool {
        let now_ms = self.now_ms;
        let conn = &mut self.conns[slot];
        let lim = self.config.client_obuf_limits[conn.obuf_class()];
        // The usual case (normal clients have no limit) costs a test per command.
        if lim.hard_bytes == 0 && lim.soft_bytes == 0 {
            return false;
        }
        let pending = conn.output_pending(out_len) as u64;
        conn.output_limit_reached(lim, pending, now_ms)
    }

    /// Closes the connections an out-of-band delivery put over their output limit this turn
    /// (`cmd::pubsub::send_to`), dropping their unsent output, as Redis's `freeClientAsync`.
    pub(crate) fn close_over_limit(&mut self) {
        let marked = std::mem::take(&mut self.obuf_closing);
        for &(slot, generation) in &marked {
            let Some(c) = self.conns.get_mut(slot) else {
                continue;
            };
            if c.generation != generation || c.closed {
                continue;
            }
            c.out.clear();
            log::warn!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                c.id,
                c.addr
            );
            self.close(slot);
        }
        let mut marked = marked;
        marked.clear();
        if self.obuf_closing.is_empty() {
            self.obuf_closing = marked;
        }
    }

    /// Shuts the socket so that in-flight operations complete, and frees the slot once none
    /// are left.
    pub fn close(&mut self, slot: usize) {
        let Some(c) = self.conns.get_mut(slot) else {
            return;
        };
        if c.is_blocked() {
            cmd::blocking::unblock(self, slot, crate::blocking::Unblock::Disconnect);
        }
        cmd::multi::discard(self, slot);
        cmd::pubsub::unsubscribe_all(self, slot);
        cmd::tracking::disable(self, slot);
        cmd::monitor::stop(self, slot);
        if self.conns.get(slot).is_some_and(|c| c.postponed) {
            self.pause.forget(slot);
        }
        self.uncount_client(slot);
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

    /// `oom-score-adj`: writes this process's OOM score for its role (a primary's or a
    /// replica's value, plus the score it started with unless `absolute`), or restores
    /// the starting score once the setting is `no` (Redis's setOOMScoreAdj). Called at
    /// start, after CONFIG SET and when the role changes.
    pub fn apply_oom_score_adj(&mut self) -> Result<(), String> {
        use crate::config::OomScoreAdj;
        const PATH: &str = "/proc/self/oom_score_adj";
        let value = match self.config.oom_score_adj {
            OomScoreAdj::No => match self.oom_score_base.take() {
                Some(base) => base,
                None => return Ok(()),
            },
            mode => {
                let base = match self.oom_score_base {
                    Some(b) => b,
                    None => match std::fs::read_to_string(PATH)
                        .ok()
                        .and_then(|t| t.trim().parse::<i32>().ok())
                    {
                        Some(b) => *self.oom_score_base.insert(b),
                        None => {
                            log::warn!("Unable to read oom_score_adj");
                            return Err("Unable to read oom_score_adj".into());
                        }
                    },
                };
                let class = usize::from(crate::repl::replica::is_replica(self));
                let mut v = self.config.oom_score_adj_values[class];
                if mode == OomScoreAdj::Relative {
                    v += base;
                }
                v.clamp(-1000, 1000)
            }
        };
        std::fs::write(PATH, format!("{value}\n")).map_err(|e| {
            log::warn!("Unable to write oom_score_adj: {e}");
            format!("Unable to write oom_score_adj: {e}")
        })
    }

    /// At exit: systemd is told (`supervised`), and the Unix socket's file and the pid file
    /// go, as Redis removes them.
    pub(crate) fn at_exit(&self) {
        if self.config.supervised_by == Some(crate::config::Supervised::Systemd) {
            crate::supervise::notify_systemd("STOPPING=1\n");
        }
        if let Some(p) = &self.config.unixsocket {
            let _ = std::fs::remove_file(p);
        }
        if !self.config.pidfile.is_empty() {
            log::info!("Removing the pid file.");
            let _ = std::fs::remove_file(&self.config.pidfile);
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

    /// Bytes per second read from (`input`) or written to clients, averaged as the ops.
    pub fn instantaneous_net_bytes(&self, input: bool) -> u64 {
        let s = if input {
            &self.stats.net_in_samples
        } else {
            &self.stats.net_out_samples
        };
        s.iter().sum::<u64>() / s.len() as u64
    }

    pub(crate) fn housekeeping(&mut self) {
        self.tick_count += 1;
        // Debug builds (which the integration tests run) check that the clients' memory
        // totals never drift from the connections' figures; a walk per tick is too much to
        // pay in release builds for a check of arithmetic.
        #[cfg(debug_assertions)]
        self.check_clients_memory();
        #[cfg(debug_assertions)]
        {
            assert!(
                !self.scripts.run.active,
                "a script runs during housekeeping"
            );
            self.scripts.check_invariants();
        }
        #[cfg(debug_assertions)]
        self.tracking.check_invariants(
            self.conns
                .iter()
                .filter_map(|(s, c)| c.tracking.as_deref().map(|t| (s, c.id, t))),
        );
        let tick = Duration::from_millis(1000 / self.hz.max(1) as u64);
        // `active-expire-effort`: 2% more of the tick per point above 1 (Redis's slow cycle).
        let share_pct =
            ACTIVE_EXPIRE_SHARE_PCT + 2 * self.config.active_expire_effort.saturating_sub(1);
        let deadline = Instant::now() + tick * share_pct / 100;
        let now_ms = self.now_ms;
        cmd::pause::check_end(self);
        // No active expiry while clients are paused (Redis 7.0): nothing is deleted in the
        // server's name during a pause.
        // DEBUG SET-ACTIVE-EXPIRE 0 turns the pass off as well; nor on a replica: its
        // primary's DELs expire keys (Redis's replicas do the same).
        let paused = self.pause.active()
            || !self.active_expire_enabled
            || crate::repl::replica::is_replica(self);
        // Timed (INFO expire_cycle_cpu_milliseconds; the latency monitor's `expire-cycle`,
        // the whole pass over every database, as Redis's activeExpireCycle).
        let started_ns = if paused { 0 } else { crate::util::mono_ns() };
        for db in &mut self.dbs {
            if db.expires_len() > 0 && !paused {
                let n = db.active_expire(now_ms, usize::MAX, deadline);
                self.stats.expired_keys_active += n as u64;
            }
        }
        if !paused {
            if Instant::now() >= deadline {
                self.stats.expired_time_cap_reached += 1;
            }
            let us = crate::util::mono_ns().saturating_sub(started_ns) / 1000;
            self.stats.expire_cycle_us += us;
            if self.config.latency_monitor_threshold_ms != 0 {
                self.latency_sample(crate::latency::Event::ExpireCycle, us);
            }
        }
        // CONFIG RESETSTAT may have zeroed the counter since the last tick.
        let commands = self
            .stats
            .commands_processed
            .saturating_sub(self.commands_at_last_tick);
        self.commands_at_last_tick = self.stats.commands_processed;
        let budget = if commands < IDLE_COMMANDS_PER_TICK {
            REHASH_IDLE_BUDGET
        } else {
            REHASH_BUSY_BUDGET
        };
        self.drain_expired();
        if self.aof_auto_rewrite_due() {
            log::info!("Starting automatic rewriting of AOF");
            self.aof.rewrite_scheduled = true;
        }
        if self.config.activerehashing {
            for db in &mut self.dbs {
                db.rehash_idle(budget);
            }
        }
        if self.config.timeout_s > 0 {
            let limit_ms = self.config.timeout_s * 1000;
            let idle: Vec<usize> = self
                .conns
                .iter()
                .filter(|(_, c)| {
                    // Redis never closes a blocked client, nor its master, for being idle.
                    !c.closed
                        && !c.is_blocked()
                        && !c.master
                        && now_ms.saturating_sub(c.last_interaction_ms) > limit_ms
                })
                .map(|(s, _)| s)
                .collect();
            for s in idle {
                log::debug!("closing idle client");
                self.close(s);
            }
        }
        // The next tick's rate (Redis's serverCron): the configured hz, doubled while there
        // are more than 200 clients per tick, up to 500 (bounded: at most 9 doublings).
        self.hz = self.config.hz.max(1);
        if self.config.dynamic_hz {
            while self.clients_open as u32 / self.hz > CLIENTS_PER_TICK_MAX {
                self.hz *= 2;
                if self.hz > HZ_MAX {
                    self.hz = HZ_MAX;
                    break;
                }
            }
        }
        if !self.migrate.is_empty() {
            self.migrate.close_idle(now_ms / 1000);
        }
        // Ops/sec sample, as Redis's instantaneous_ops_per_sec.
        let dt = now_ms.saturating_sub(self.stats.ops_last_ms);
        if dt >= 100 {
            let ops = self.stats.commands_processed - self.stats.ops_last_count;
            let i = self.stats.ops_sample_idx % self.stats.ops_samples.len();
            self.stats.ops_samples[i] = ops * 1000 / dt.max(1);
            let st = &mut self.stats;
            st.net_in_samples[i] =
                st.net_input_bytes.saturating_sub(st.net_in_last) * 1000 / dt.max(1);
            st.net_out_samples[i] =
                st.net_output_bytes.saturating_sub(st.net_out_last) * 1000 / dt.max(1);
            st.net_in_last = st.net_input_bytes;
            st.net_out_last = st.net_output_bytes;
            self.stats.ops_sample_idx += 1;
            self.stats.ops_last_count = self.stats.commands_processed;
            self.stats.ops_last_ms = now_ms;
        }
        crate::repl::primary::cron(self);
        self.rdb_save_due();
        self.aof_run_scheduled();
        crate::repl::replica::cron(self);
    }
}

/// The key a lookahead prefetches for a command (its arguments `spans` in `buf`): the second
/// argument, the first key of most commands, or for a script or function call (EVAL,
/// EVALSHA, FCALL and their _RO forms) with keys, KEYS[1], after the script and the count.
fn lookahead_key<'a>(buf: &'a [u8], spans: &[Span]) -> Option<&'a [u8]> {
    lookahead_arg(buf, spans).map(|i| &buf[spans[i].start..spans[i].end])
}

/// `lookahead_key`'s argument: its index in `spans`.
fn lookahead_arg(buf: &[u8], spans: &[Span]) -> Option<usize> {
    let arg = |i: usize| spans.get(i).map(|s| &buf[s.start..s.end]);
    let name = arg(0)?;
    // Script names are 4, 5, 7, 8 or 10 bytes long: other commands leave at the first test.
    if spans.len() >= 4
        && matches!(name.len(), 4 | 5 | 7 | 8 | 10)
        && arg(2) != Some(b"0")
        && [
            &b"eval"[..],
            b"evalsha",
            b"eval_ro",
            b"evalsha_ro",
            b"fcall",
            b"fcall_ro",
        ]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    {
        return Some(3);
    }
    (spans.len() > 1).then_some(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookahead_key_is_the_second_argument_or_keys_1_of_a_script_call() {
        let key_of = |args: &[&[u8]]| -> Option<Vec<u8>> {
            let mut buf = Vec::new();
            let mut spans = Vec::new();
            for a in args {
                spans.push(Span {
                    start: buf.len(),
                    end: buf.len() + a.len(),
                });
                buf.extend_from_slice(a);
            }
            lookahead_key(&buf, &spans).map(<[u8]>::to_vec)
        };
        assert_eq!(key_of(&[b"GET", b"k"]), Some(b"k".to_vec()));
        assert_eq!(key_of(&[b"SET", b"k", b"v"]), Some(b"k".to_vec()));
        assert_eq!(key_of(&[b"PING"]), None);
        for name in [
            &b"evalsha"[..],
            b"EVAL",
            b"Eval_Ro",
            b"EVALSHA_RO",
            b"fcall",
            b"FCALL_RO",
        ] {
            assert_eq!(
                key_of(&[name, b"s", b"2", b"k1", b"k2"]),
                Some(b"k1".to_vec())
            );
            // Without keys: the second argument, as for any command (a useless prefetch).
            assert_eq!(key_of(&[name, b"s", b"0", b"a1"]), Some(b"s".to_vec()));
        }
        assert_eq!(key_of(&[b"HSET", b"h", b"1", b"f"]), Some(b"h".to_vec()));
    }

    #[test]
    fn command_keys_fold_case_and_never_alias() {
        assert_eq!(command_key(b"GET"), command_key(b"get"));
        assert_eq!(
            command_key(b"zRemRangeByScore"),
            command_key(b"zremrangebyscore")
        );
        assert_ne!(command_key(b"get"), command_key(b"getex"));
        for bad in [&b""[..], b"get\0", b"\0", b"twenty-five-bytes-long!!!"] {
            assert_eq!(command_key(bad), None, "{bad:?}");
        }
        let mut seen = std::collections::HashSet::new();
        for c in cmd::COMMANDS {
            let key = command_key(c.name.as_bytes()).expect("a 1-24 byte name");
            assert!(seen.insert(key), "{} aliases another command", c.name);
        }
    }
    #[test]
    fn name_words_with_the_length_identify_a_name() {
        // Every pair of names of one length up to 24 bytes that differ in one byte, at
        // each position, gets different words; equal names equal ones.
        for n in 1..=24usize {
            let base: Vec<u8> = (0..n).map(|i| b'a' + i as u8).collect();
            assert_eq!(name_words(&base), name_words(&base.clone()));
            for i in 0..n {
                let mut other = base.clone();
                other[i] ^= 0x20;
                assert_ne!(
                    name_words(&base),
                    name_words(&other),
                    "length {n}, byte {i}"
                );
            }
        }
    }

    #[test]
    fn find_command_is_exact_through_its_memo() {
        let srv = Server::new(crate::config::Config::default());
        let get = srv.find_command(b"get").expect("get");
        for _ in 0..2 {
            assert_eq!(srv.find_command(b"GET"), Some(get));
            assert_eq!(srv.find_command(b"gEt"), Some(get));
            assert_eq!(srv.find_command(b"GETX"), None);
            assert_eq!(srv.find_command(b"GE"), None);
            assert_eq!(srv.find_command(b"GET\0"), None);
            assert_ne!(srv.find_command(b"SET"), Some(get));
        }
    }
}
