//! Every setting and limit of the server, with defaults equal to Redis 7.0's (except `bind`,
//! which defaults to loopback only).
//!
//! One table (`PARAMS`) names each parameter once; the config file, the command-line flags and
//! CONFIG SET/GET all go through it, so a parameter cannot be settable in one place and
//! missing in another. Values are validated before they are stored: a `Config` always holds
//! values the server can run with.

pub mod rewrite;

use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

pub const LOG_LEVELS: &[(&str, LogLevel)] = &[
    ("debug", LogLevel::Debug),
    ("verbose", LogLevel::Verbose),
    ("notice", LogLevel::Notice),
    ("warning", LogLevel::Warning),
];

/// `maxmemory-policy`: which keys eviction (`evict`) may delete and how it ranks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    NoEviction,
}

impl MaxmemoryPolicy {
    /// Every policy, in the order Redis's error message lists them.
    pub const ALL: [MaxmemoryPolicy; 8] = [
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
        MaxmemoryPolicy::AllKeysLru,
        MaxmemoryPolicy::AllKeysLfu,
        MaxmemoryPolicy::AllKeysRandom,
        MaxmemoryPolicy::NoEviction,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MaxmemoryPolicy::VolatileLru => "volatile-lru",
            MaxmemoryPolicy::VolatileLfu => "volatile-lfu",
            MaxmemoryPolicy::VolatileRandom => "volatile-random",
            MaxmemoryPolicy::VolatileTtl => "volatile-ttl",
            MaxmemoryPolicy::AllKeysLru => "allkeys-lru",
            MaxmemoryPolicy::AllKeysLfu => "allkeys-lfu",
            MaxmemoryPolicy::AllKeysRandom => "allkeys-random",
            MaxmemoryPolicy::NoEviction => "noeviction",
        }
    }

    /// Only keys with a TTL may be evicted.
    pub fn volatile(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        )
    }

    pub fn is_lru(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru | MaxmemoryPolicy::AllKeysLru
        )
    }

    /// The keyspace keeps LFU data instead of the LRU clock.
    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLfu | MaxmemoryPolicy::AllKeysLfu
        )
    }
}

/// One class's output buffer limits (Redis's `client-output-buffer-limit`): a client whose
/// unsent replies reach `hard_bytes`, or stay at or above `soft_bytes` for more than
/// `soft_seconds`, is disconnected. 0 disables a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObufLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

/// Class names in `client-output-buffer-limit`, in the order of `Config::client_obuf_limits`
/// (CONFIG GET prints "slave" for replicas, as Redis 7.0 does).
/// Longer polls than this would only burn CPU: a sleeping loop wakes within microseconds.
pub const BUSY_POLL_US_MAX: i64 = 100_000;

const OBUF_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Parses `class hard soft seconds [class hard soft seconds ...]` (words may be split over
/// several values) and updates only the classes named, all or nothing, as Redis does.
fn parse_obuf_limits(cur: &[ObufLimit; 3], v: &[&[u8]]) -> Result<[ObufLimit; 3], String> {
    let mut words: Vec<&str> = Vec::new();
    for part in v {
        let s = std::str::from_utf8(part).map_err(|_| {
            "Error in hard, soft or soft_seconds setting in buffer limit configuration."
        })?;
        words.extend(s.split_ascii_whitespace());
    }
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut out = *cur;
    for w in words.chunks_exact(4) {
        let class = match w[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "replica" | "slave" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || {
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string()
        };
        let hard = parse_memory(w[1].as_bytes()).ok_or_else(bad)?;
        let soft = parse_memory(w[2].as_bytes()).ok_or_else(bad)?;
        let secs: u64 = w[3].parse().map_err(|_| bad())?;
        out[class] = ObufLimit {
            hard_bytes: hard,
            soft_bytes: soft,
            soft_seconds: secs,
        };
    }
    Ok(out)
}

#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    /// True while `bind` is the built-in default: then an address family the kernel lacks
    /// (no IPv6) is skipped with a warning instead of failing start-up, as Redis's `-::1`.
    pub bind_is_default: bool,
    pub unixsocket: Option<PathBuf>,
    pub unixsocketperm: u32,
    pub clients_max: usize,
    pub timeout_s: u64,
    pub databases: usize,
    pub requirepass: Option<Vec<u8>>,
    /// The ACL file (`aclfile`): ACL LOAD and SAVE read and write it; empty: none.
    pub aclfile: String,
    /// Most entries ACL LOG keeps.
    pub acllog_max_len: usize,
    /// `acl-pubsub-default allchannels`: new users may use every channel.
    pub acl_pubsub_default_all: bool,
    /// The config file's `user <name> rules...` lines (name first), loaded at start-up.
    pub acl_users: Vec<Vec<Vec<u8>>>,
    pub loglevel: LogLevel,
    pub logfile: String,
    /// `daemonize`: detach from the terminal at start-up (stdio to /dev/null).
    pub daemonize: bool,
    /// `pidfile`: written at start-up (with `daemonize`, `/var/run/redis.pid` when empty),
    /// removed at shutdown.
    pub pidfile: String,
    /// `disable-thp`: transparent huge pages off for this process at start-up.
    pub disable_thp: bool,
    /// `activerehashing`: housekeeping moves idle tables' incremental rehashing along.
    pub activerehashing: bool,
    /// `dynamic-hz`: the housekeeping rate doubles (up to 500) while there are more than
    /// 200 clients per tick.
    pub dynamic_hz: bool,
    /// `jemalloc-bg-thread`: kept for Redis's config files; ringkv uses the C library's
    /// allocator, where Redis ignores it too.
    pub jemalloc_bg_thread: bool,
    /// `stop-writes-on-bgsave-error`: with save points set, write commands get MISCONF
    /// while the last background save failed.
    pub stop_writes_on_bgsave_error: bool,
    /// `active-expire-effort` (1-10): active expiry may take 25% + 2% per point above 1 of
    /// each housekeeping tick, as Redis's slow cycle.
    pub active_expire_effort: u32,
    /// `activedefrag` and its tuning, kept for Redis's config files: as in a Redis built
    /// without its jemalloc (ringkv uses the C library's allocator), defragmentation cannot
    /// be turned on, and the tuning values are stored with nothing to tune.
    pub active_defrag: ActiveDefragTuning,
    /// `io-threads-do-reads`: with one I/O thread (the only count ringkv has) it changes
    /// nothing, as in Redis with `io-threads 1`.
    pub io_threads_do_reads: bool,
    /// `ignore-warnings`: start-up warnings Redis may skip; ringkv prints none of them.
    pub ignore_warnings: String,
    /// `shutdown-timeout`: seconds a SHUTDOWN (or a signal's) waits, writes paused, for
    /// lagging replicas to acknowledge the whole stream (0: no wait).
    pub shutdown_timeout_s: u64,
    /// `shutdown-on-sigint`, `shutdown-on-sigterm`: SHUTDOWN's flags for each signal.
    pub shutdown_on_sigint: ShutdownFlags,
    pub shutdown_on_sigterm: ShutdownFlags,
    /// `supervised`: the mode asked for, and the supervisor found at start-up (INFO's
    /// `process_supervised`).
    pub supervised: Supervised,
    pub supervised_by: Option<Supervised>,
    /// `set-proc-title`: the process title becomes `proc_title_template` expanded
    /// (`proctitle`).
    pub set_proc_title: bool,
    /// `proc-title-template`: Redis's variables `{title}`, `{listen-addr}`,
    /// `{server-mode}`, `{port}`, `{tls-port}`, `{unixsocket}`, `{config-file}`.
    pub proc_title_template: String,
    /// The name the server was started by (`{title}`), kept before the title replaces it.
    pub exec_argv0: String,
    /// `oom-score-adj`: how this process sets its OOM killer score (`oom_score_adj`) for
    /// its role.
    pub oom_score_adj: OomScoreAdj,
    /// `oom-score-adj-values`: the score for a primary, a replica and a background child
    /// (ringkv has no child: its snapshots run in the process).
    pub oom_score_adj_values: [i32; 3],
    /// `rdb-save-incremental-fsync`: a snapshot being written is synced every 4 MiB.
    pub rdb_save_incremental_fsync: bool,
    /// `aof-rewrite-incremental-fsync`: a rewrite's new base is synced every 4 MiB.
    pub aof_rewrite_incremental_fsync: bool,
    /// `rdb-del-sync-files`: without save points or AOF, a disk-based full sync's file is
    /// deleted once sent instead of becoming the RDB file.
    pub rdb_del_sync_files: bool,
    /// `sanitize-dump-payload`: "no", "yes" or "clients". Every value is honoured by being
    /// exceeded: RESTORE and the RDB loader always decode a payload completely (each
    /// listpack entry, duplicates, stream nodes and PELs), which is what Redis's `yes` adds
    /// to its default check.
    pub sanitize_dump_payload: &'static str,
    /// `crash-log-enabled`: a panic's crash report includes the stack trace
    /// (`logging::install_crash_handler`).
    pub crash_log_enabled: bool,
    /// `propagation-error-behavior`: a failing command of the replication stream or the
    /// AOF is logged and skipped, or panics the server.
    pub propagation_error_behavior: PropagationErrorBehavior,
    pub bulk_len_max: usize,
    pub query_buffer_max: usize,
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub hz: u32,
    /// ringkv's own: how long the loop polls for completions before it sleeps (0: never).
    /// Trades a core's worth of CPU while clients are active for the wake-up latency of a
    /// sleeping thread (docs/PERFORMANCE.md "Busy polling").
    pub busy_poll_us: u32,
    /// `busy-reply-threshold` (alias `lua-time-limit`): after this many milliseconds a
    /// script is busy: other clients get -BUSY and SCRIPT KILL is obeyed.
    pub busy_reply_threshold_ms: u64,
    pub tcp_backlog: i32,
    /// `socket-mark-id`: the SO_MARK of the TCP listening sockets, inherited by the
    /// connections they accept (0: none).
    pub socket_mark_id: u32,
    /// `bind-source-addr`: the local address a replica's link to its primary goes out from
    /// (`repl::replica`; None: any).
    pub bind_source_addr: Option<String>,
    /// `server_cpulist`, `bio_cpulist`: the list as given and its CPUs; the loop thread and
    /// the lazy-free thread are pinned to them at start-up (`util::cpulist`).
    pub server_cpulist: Option<(String, Vec<usize>)>,
    pub bio_cpulist: Option<(String, Vec<usize>)>,
    /// `tcp-keepalive`: seconds of silence before TCP probes a client (0: no keepalive).
    pub tcp_keepalive_s: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// `notify-keyspace-events` as `notify::class` bits (0: no keyspace notifications).
    pub notify_keyspace_events: u32,
    /// Keys sampled per database when eviction refills its candidate pool.
    pub maxmemory_samples: u32,
    /// How long one eviction pass may run before the rest is left to later turns
    /// (Redis's `maxmemory-eviction-tenacity`, 0..=100; see `evict::time_limit_us`).
    pub maxmemory_eviction_tenacity: u32,
    /// Evicted values are freed on the lazy-free thread and logged as UNLINK.
    pub lazyfree_lazy_eviction: bool,
    /// FLUSHALL and FLUSHDB without SYNC or ASYNC free in the background.
    pub lazyfree_lazy_user_flush: bool,
    /// `lazyfree-lazy-user-del`: DEL frees large values in the background, as UNLINK.
    pub lazyfree_lazy_user_del: bool,
    /// `lazyfree-lazy-expire`: large expired values are freed in the background.
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-server-del`: large values a command drops as a side effect
    /// (overwritten, renamed over, emptied) are freed in the background.
    pub lazyfree_lazy_server_del: bool,
    /// `maxmemory-clients`: the clients' memory above which the largest client is closed.
    pub maxmemory_clients: ClientsMemoryLimit,
    /// `tracking-table-max-keys`: keys the client-side caching table may remember before
    /// random ones are invalidated to make room (`tracking`; 0: no limit).
    pub tracking_table_max_keys: u64,
    pub protected_mode: bool,
    /// `client-output-buffer-limit` per client class: normal, replica, pubsub.
    pub client_obuf_limits: [ObufLimit; 3],
    pub dir: PathBuf,
    /// RDB snapshots (see `persist::rdb`): file name in `dir`, LZF, CRC trailer, and the
    /// `save` schedule as (seconds, changes) points.
    pub dbfilename: String,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub save_params: Vec<(u64, u64)>,
    /// enable-debug-command: "no", "yes" or "local".
    pub enable_debug_command: &'static str,
    /// enable-module-command: "no", "yes" or "local" (who may run MODULE LOAD, LOADEX and
    /// UNLOAD; ringkv then explains that it loads no module).
    pub enable_module_command: &'static str,
    /// enable-protected-configs: whether CONFIG SET may change the protected settings
    /// (`PROTECTED_PARAMS`): "no", "yes" or "local" (from loopback or a Unix socket).
    pub enable_protected_configs: &'static str,
    /// Collection encodings switch at these sizes, as Redis's (see `types`).
    pub list_max_listpack_size: i32,
    /// `list-compress-depth`: plain nodes kept at each end of a new list, the rest
    /// LZF-compressed (0: no compression).
    pub list_compress_depth: u32,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// A stream node (listpack) takes no new entry once it has this many bytes, or this many
    /// entries (`types::stream`; 0: no limit).
    pub stream_node_max_bytes: usize,
    pub stream_node_max_entries: usize,
    /// A sparse HyperLogLog that would grow past this many bytes (header included) becomes
    /// dense (`types::hll`).
    pub hll_sparse_max_bytes: usize,
    /// Persistence: the append-only file (`persist::aof`).
    pub appendonly: bool,
    pub appenddirname: String,
    pub appendfilename: String,
    pub appendfsync: AppendFsync,
    pub aof_load_truncated: bool,
    /// The rewrite's base file is an RDB file (`persist::rdb`) instead of commands.
    pub aof_use_rdb_preamble: bool,
    pub auto_aof_rewrite_percentage: u32,
    pub auto_aof_rewrite_min_size: u64,
    /// No fsync while a rewrite runs (replies then wait only for the write).
    pub no_appendfsync_on_rewrite: bool,
    /// `#TS:<unix seconds>` annotations in the AOF, at most one per second.
    pub aof_timestamp_enabled: bool,
    /// `aof-disable-auto-gc`: the files a rewrite replaces stay in the AOF directory, listed
    /// as history in the manifest, until the setting is `no` again (`persist::aof`).
    pub aof_disable_auto_gc: bool,
    /// Observability (`slowlog`, `latency`): commands taking at least this many µs are
    /// logged (-1: none, 0: every command), and the log keeps this many entries.
    pub slowlog_log_slower_than_us: i64,
    pub slowlog_max_len: u64,
    /// The latency monitor records an event that took at least this many ms (0: off).
    pub latency_monitor_threshold_ms: u64,
    /// Per-command latency histograms (`latency-tracking`) and the percentiles INFO
    /// `latencystats` shows (`latency-tracking-info-percentiles`).
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// The config file the server was started with, as an absolute path (CONFIG REWRITE
    /// writes it back; INFO `config_file`). Not a parameter: only `load_file` sets it.
    pub config_file: Option<PathBuf>,
    /// Replication, primary side (`repl::primary`).
    pub repl: ReplConfig,
    /// The replica settings (`repl::replica`).
    pub replica: crate::repl::replica::ReplicaSettings,
    /// The `cluster-*` settings (see [`ClusterSettings`]).
    pub cluster: ClusterSettings,
}

/// The `cluster-*` settings. ringkv runs only as redis-server 7.0 does with `cluster-enabled
/// no` (the CLUSTER family answers that cluster support is disabled, `cmd::cluster`); in that
/// mode Redis accepts, shows and rewrites these settings and nothing else reads them, and so
/// does ringkv. `cluster-enabled yes` is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSettings {
    pub config_file: String,
    pub port: u16,
    pub node_timeout_ms: i64,
    /// Empty: unset (CONFIG REWRITE writes no line, as Redis's empty-is-null strings).
    pub announce_ip: String,
    pub announce_hostname: String,
    pub announce_port: u16,
    pub announce_bus_port: u16,
    pub announce_tls_port: u16,
    pub require_full_coverage: bool,
    pub replica_no_failover: bool,
    pub replica_validity_factor: i64,
    pub migration_barrier: i64,
    pub allow_replica_migration: bool,
    pub allow_reads_when_down: bool,
    pub allow_pubsubshard_when_down: bool,
    pub link_sendbuf_limit: u64,
    pub preferred_endpoint_type: &'static str,
}

impl Default for ClusterSettings {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        ClusterSettings {
            config_file: "nodes.conf".into(),
            port: 0,
            node_timeout_ms: 15_000,
            announce_ip: String::new(),
            announce_hostname: String::new(),
            announce_port: 0,
            announce_bus_port: 0,
            announce_tls_port: 0,
            require_full_coverage: true,
            replica_no_failover: false,
            replica_validity_factor: 10,
            migration_barrier: 1,
            allow_replica_migration: true,
            allow_reads_when_down: false,
            allow_pubsubshard_when_down: true,
            link_sendbuf_limit: 0,
            preferred_endpoint_type: "ip",
        }
    }
}

/// Redis's `isValidAnnounceHostname`: letters, digits, hyphens and dots (or nothing).
fn announce_hostname(v: &[u8]) -> Result<String, String> {
    if !v
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots".into());
    }
    text(v)
}

fn port_number(v: &[u8]) -> Result<u16, String> {
    Ok(int_in(v, 0, 65535)? as u16)
}

/// SHUTDOWN's flags, as `shutdown-on-sig*` give them (`default`: none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownFlags {
    pub save: bool,
    pub nosave: bool,
    pub now: bool,
    pub force: bool,
}

impl ShutdownFlags {
    /// The save SHUTDOWN does: forced, refused, or as the `save` schedule says.
    pub fn save(self) -> Option<bool> {
        if self.save {
            Some(true)
        } else if self.nosave {
            Some(false)
        } else {
            None
        }
    }

    fn text(self) -> String {
        let names = [
            (self.save, "save"),
            (self.nosave, "nosave"),
            (self.now, "now"),
            (self.force, "force"),
        ];
        let on: Vec<&str> = names.iter().filter(|n| n.0).map(|n| n.1).collect();
        if on.is_empty() {
            "default".into()
        } else {
            on.join(" ")
        }
    }

    fn parse(v: &[&[u8]]) -> Result<ShutdownFlags, String> {
        let mut f = ShutdownFlags::default();
        for w in v {
            match w.to_ascii_lowercase().as_slice() {
                b"default" => {}
                b"save" => f.save = true,
                b"nosave" => f.nosave = true,
                b"now" => f.now = true,
                b"force" => f.force = true,
                _ => return Err(
                    "argument(s) must be one of the following: default, save, nosave, now, force"
                        .into(),
                ),
            }
        }
        if f.save && f.nosave {
            return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
        }
        Ok(f)
    }
}

/// `active-defrag-*`: Redis's defaults, stored and shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveDefragTuning {
    pub ignore_bytes: u64,
    pub threshold_lower: u64,
    pub threshold_upper: u64,
    pub cycle_min: u64,
    pub cycle_max: u64,
    pub max_scan_fields: u64,
}

impl Default for ActiveDefragTuning {
    fn default() -> Self {
        ActiveDefragTuning {
            ignore_bytes: 100 << 20,
            threshold_lower: 10,
            threshold_upper: 100,
            cycle_min: 1,
            cycle_max: 25,
            max_scan_fields: 1000,
        }
    }
}

/// `propagation-error-behavior`: what a command of the replication stream or the AOF that
/// fails does (`cmd::call::propagated_error`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropagationErrorBehavior {
    Ignore,
    Panic,
    PanicOnReplicas,
}

/// `supervised`: the service manager to tell when the server is ready (`supervise`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervised {
    No,
    Upstart,
    Systemd,
    Auto,
}

/// `oom-score-adj`: leave the score alone, or set it from `oom-score-adj-values` added to
/// the score the process started with (`yes`, `relative`) or as given (`absolute`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OomScoreAdj {
    No,
    Relative,
    Absolute,
}

/// The primary side's replication settings (`repl::primary` honours each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplConfig {
    /// `repl-backlog-size`: bytes of the stream kept for partial resyncs (at least 16 KiB
    /// are used, as Redis does).
    pub backlog_size: u64,
    /// `repl-backlog-ttl`: seconds without replicas after which the backlog is freed (0:
    /// never).
    pub backlog_ttl_s: u64,
    /// `repl-diskless-sync`: a full sync streams the snapshot to the replicas' sockets
    /// (yes) or writes it to the RDB file first and sends that file (no).
    pub diskless_sync: bool,
    /// `repl-disable-tcp-nodelay`: a replica's connection sends without TCP_NODELAY once it
    /// has synced (fewer, larger packets).
    pub disable_tcp_nodelay: bool,
    /// `repl-diskless-sync-delay`: seconds to wait for more replicas before a full sync.
    pub diskless_sync_delay_s: u64,
    /// `repl-diskless-sync-max-replicas`: start at once when this many wait (0: no limit).
    pub diskless_sync_max_replicas: u64,
    /// `repl-ping-replica-period`: seconds between PINGs in the stream.
    pub ping_replica_period_s: u64,
    /// `repl-timeout`: seconds without an ACK after which a replica is dropped.
    pub timeout_s: u64,
    /// `min-replicas-to-write` / `min-replicas-max-lag`: writes are refused (NOREPLICAS)
    /// unless this many replicas acknowledged within the lag.
    pub min_replicas_to_write: u64,
    pub min_replicas_max_lag_s: u64,
}

impl Default for ReplConfig {
    fn default() -> ReplConfig {
        ReplConfig {
            backlog_size: 1024 * 1024,
            backlog_ttl_s: 3600,
            diskless_sync: true,
            disable_tcp_nodelay: false,
            diskless_sync_delay_s: 5,
            diskless_sync_max_replicas: 0,
            ping_replica_period_s: 10,
            timeout_s: 60,
            min_replicas_to_write: 0,
            min_replicas_max_lag_s: 10,
        }
    }
}

/// `maxmemory-clients`: an amount of memory, or a percentage of `maxmemory` (Redis stores
/// the latter as a negative number and prints it back with a `%`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClientsMemoryLimit {
    Bytes(u64),
    PercentOfMaxmemory(u8),
}

/// The smallest client memory limit in force: a smaller setting counts as this much (Redis's
/// `getClientEvictionLimit`), so that a typo cannot make every connection, the one that
/// would fix the setting included, get closed at its first command.
pub const CLIENTS_MEMORY_FLOOR_BYTES: u64 = 128 * 1024;

impl ClientsMemoryLimit {
    /// The limit in bytes for a given `maxmemory` (0: no limit). A percentage of an unset
    /// `maxmemory` is no limit; any other limit is at least `CLIENTS_MEMORY_FLOOR_BYTES`.
    pub fn bytes(self, maxmemory_bytes: u64) -> u64 {
        let n = match self {
            ClientsMemoryLimit::Bytes(n) => n,
            ClientsMemoryLimit::PercentOfMaxmemory(p) => {
                // In u128: a maxmemory near u64::MAX times 100 must not wrap.
                (u128::from(maxmemory_bytes) * u128::from(p) / 100) as u64
            }
        };
        if n == 0 {
            0
        } else {
            n.max(CLIENTS_MEMORY_FLOOR_BYTES)
        }
    }

    fn parse(v: &[u8]) -> Result<ClientsMemoryLimit, String> {
        if let Some(digits) = v.strip_suffix(b"%") {
            let p = std::str::from_utf8(digits)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| "argument must be a memory or percent value".to_string())?;
            if p > 100 {
                return Err("percentage argument must be less or equal to 100".into());
            }
            // Redis stores a percentage negated, so 0% is plain 0 and reads back as "0".
            if p == 0 {
                return Ok(ClientsMemoryLimit::Bytes(0));
            }
            return Ok(ClientsMemoryLimit::PercentOfMaxmemory(p as u8));
        }
        parse_memory(v)
            .map(ClientsMemoryLimit::Bytes)
            .ok_or_else(|| "argument must be a memory or percent value".into())
    }

    fn show(self) -> String {
        match self {
            ClientsMemoryLimit::Bytes(n) => n.to_string(),
            ClientsMemoryLimit::PercentOfMaxmemory(p) => format!("{p}%"),
        }
    }
}

/// `appendfsync`: when the AOF is fsynced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AppendFsync {
    Always,
    Everysec,
    No,
}

impl AppendFsync {
    pub fn name(self) -> &'static str {
        match self {
            AppendFsync::Always => "always",
            AppendFsync::Everysec => "everysec",
            AppendFsync::No => "no",
        }
    }
}

/// A file name inside `dir`: no path separators, not `.`/`..` (Redis's
/// `isValidAOFfilename`/`isValidAOFdirname` rule).
fn plain_name(v: &[u8]) -> Result<String, String> {
    let s = text(v)?;
    if s.is_empty() || s == "." || s == ".." || s.contains('/') || s.contains('\\') {
        return Err("appendfilename/appenddirname can't be a path, just a filename".into());
    }
    Ok(s)
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into(), "::1".into()],
            bind_is_default: true,
            unixsocket: None,
            unixsocketperm: 0,
            clients_max: 10000,
            timeout_s: 0,
            databases: 16,
            requirepass: None,
            aclfile: String::new(),
            acllog_max_len: 128,
            acl_pubsub_default_all: false,
            acl_users: Vec::new(),
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            daemonize: false,
            pidfile: String::new(),
            disable_thp: true,
            activerehashing: true,
            dynamic_hz: true,
            jemalloc_bg_thread: true,
            stop_writes_on_bgsave_error: true,
            rdb_del_sync_files: false,
            sanitize_dump_payload: "no",
            crash_log_enabled: true,
            propagation_error_behavior: PropagationErrorBehavior::Ignore,
            rdb_save_incremental_fsync: true,
            aof_rewrite_incremental_fsync: true,
            active_expire_effort: 1,
            active_defrag: ActiveDefragTuning::default(),
            io_threads_do_reads: false,
            ignore_warnings: String::new(),
            shutdown_timeout_s: 10,
            shutdown_on_sigint: ShutdownFlags::default(),
            shutdown_on_sigterm: ShutdownFlags::default(),
            supervised: Supervised::No,
            supervised_by: None,
            set_proc_title: true,
            proc_title_template: "{title} {listen-addr} {server-mode}".into(),
            exec_argv0: String::new(),
            oom_score_adj: OomScoreAdj::No,
            oom_score_adj_values: [0, 200, 800],
            bulk_len_max: 512 * 1024 * 1024,
            query_buffer_max: 1024 * 1024 * 1024,
            maxmemory_bytes: 0,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            hz: 10,
            busy_poll_us: 0,
            busy_reply_threshold_ms: 5000,
            tcp_backlog: 511,
            socket_mark_id: 0,
            bind_source_addr: None,
            server_cpulist: None,
            bio_cpulist: None,
            tcp_keepalive_s: 300,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            notify_keyspace_events: 0,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_user_flush: false,
            // ringkv frees large values off the loop thread by default (Redis's defaults
            // are `no`); a config file's `no` gets Redis's frees on the loop thread.
            lazyfree_lazy_user_del: true,
            lazyfree_lazy_expire: true,
            lazyfree_lazy_server_del: true,
            maxmemory_clients: ClientsMemoryLimit::Bytes(0),
            tracking_table_max_keys: 1_000_000,
            protected_mode: true,
            client_obuf_limits: [
                ObufLimit::default(),
                ObufLimit {
                    hard_bytes: 256 << 20,
                    soft_bytes: 64 << 20,
                    soft_seconds: 60,
                },
                ObufLimit {
                    hard_bytes: 32 << 20,
                    soft_bytes: 8 << 20,
                    soft_seconds: 60,
                },
            ],
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            dbfilename: "dump.rdb".into(),
            rdbcompression: true,
            rdbchecksum: true,
            // Redis's default is "3600 1 300 100 60 10000"; ringkv starts with no schedule
            // until saves run in the background (a scheduled SAVE blocks the loop).
            save_params: Vec::new(),
            enable_debug_command: "no",
            enable_module_command: "no",
            enable_protected_configs: "no",
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 512,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            appendonly: false,
            appenddirname: "appendonlydir".into(),
            appendfilename: "appendonly.aof".into(),
            appendfsync: AppendFsync::Everysec,
            aof_load_truncated: true,
            aof_use_rdb_preamble: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * 1024 * 1024,
            no_appendfsync_on_rewrite: false,
            aof_timestamp_enabled: false,
            aof_disable_auto_gc: false,
            slowlog_log_slower_than_us: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold_ms: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            config_file: None,
            repl: ReplConfig::default(),
            replica: crate::repl::replica::ReplicaSettings::default(),
            cluster: ClusterSettings::default(),
        }
    }
}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &[&[u8]]) -> Result<(), String>;

/// One configuration parameter.
pub struct Param {
    pub name: &'static str,
    /// Settable at run time with CONFIG SET.
    pub mutable: bool,
    /// Number of values it takes in a config file (-1: one or more).
    pub values: i32,
    pub get: Getter,
    pub set: Setter,
}

fn one<'a>(v: &[&'a [u8]]) -> &'a [u8] {
    v.first().copied().unwrap_or(b"")
}

fn text(v: &[u8]) -> Result<String, String> {
    String::from_utf8(v.to_vec()).map_err(|_| "argument must be valid UTF-8".to_string())
}

/// Percentiles, given as one space-separated value (CONFIG SET) or as several (a config
/// file line); none is allowed.
fn parse_percentiles(v: &[&[u8]]) -> Result<Vec<f64>, String> {
    let mut out = Vec::new();
    for word in v.iter().flat_map(|a| a.split(|b| b.is_ascii_whitespace())) {
        if word.is_empty() {
            continue;
        }
        let p: f64 = std::str::from_utf8(word)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between \
                        [0.0,100.0]"
                    .into(),
            );
        }
        out.push(p);
    }
    Ok(out)
}

fn int_in(v: &[u8], lo: i64, hi: i64) -> Result<i64, String> {
    let n = std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if n < lo || n > hi {
        return Err(format!("argument must be between {lo} and {hi} inclusive"));
    }
    Ok(n)
}

/// Memory amounts accept Redis's unit suffixes (1k = 1000, 1kb = 1024, ...).
pub fn parse_memory(v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?.to_ascii_lowercase();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mul)
}

fn memory(v: &[u8]) -> Result<u64, String> {
    parse_memory(v).ok_or_else(|| "argument must be a memory value".to_string())
}

fn yes_no(v: &[u8]) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_slice() {
        b"yes" => Ok(true),
        b"no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// A parameter that can only hold one fixed value here because the feature behind it does not
/// exist yet in ringkv: reading it tells the truth, setting anything else fails.
fn fixed(v: &[&[u8]], allowed: &[u8], why: &str) -> Result<(), String> {
    if one(v).eq_ignore_ascii_case(allowed) {
        Ok(())
    } else {
        Err(why.to_string())
    }
}

/// A `yes`/`no` parameter stored as a bool in the `Config` field at `$field` (a path such
/// as `cluster.allow_reads_when_down`).
macro_rules! yes_no_param {
    ($name:literal, $mutable:literal, $($field:ident).+) => {
        Param {
            name: $name,
            mutable: $mutable,
            values: 1,
            get: |c| yn(c.$($field).+),
            set: |c, v| {
                c.$($field).+ = yes_no(one(v))?;
                Ok(())
            },
        }
    };
}

pub static PARAMS: &[Param] = &[
    Param {
        name: "port",
        mutable: false,
        values: 1,
        get: |c| c.port.to_string(),
        set: |c, v| {
            c.port = port_number(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "bind",
        mutable: false,
        values: -1,
        get: |c| c.bind.join(" "),
        set: |c, v| {
            let mut out = Vec::new();
            for a in v {
                for part in text(a)?.split_whitespace() {
                    // Redis's "-addr" means "skip if unavailable"; we accept and strip it.
                    out.push(part.trim_start_matches('-').to_string());
                }
            }
            c.bind = out;
            c.bind_is_default = false;
            Ok(())
        },
    },
    Param {
        name: "unixsocket",
        mutable: false,
        values: 1,
        get: |c| {
            c.unixsocket
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        },
        set: |c, v| {
            let s = text(one(v))?;
            c.unixsocket = if s.is_empty() { None } else { Some(s.into()) };
            Ok(())
        },
    },
    Param {
        name: "unixsocketperm",
        mutable: false,
        values: 1,
        get: |c| format!("{:o}", c.unixsocketperm),
        set: |c, v| {
            let s = text(one(v))?;
            c.unixsocketperm = u32::from_str_radix(&s, 8)
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            Ok(())
        },
    },
    Param {
        name: "maxclients",
        mutable: true,
        values: 1,
        get: |c| c.clients_max.to_string(),
        set: |c, v| {
            c.clients_max = int_in(one(v), 1, i32::MAX as i64)? as usize;
            Ok(())
        },
    },
    Param {
        name: "timeout",
        mutable: true,
        values: 1,
        get: |c| c.timeout_s.to_string(),
        set: |c, v| {
            c.timeout_s = int_in(one(v), 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "databases",
        mutable: false,
        values: 1,
        get: |c| c.databases.to_string(),
        set: |c, v| {
            c.databases = int_in(one(v), 1, i32::MAX as i64)? as usize;
            Ok(())
        },
    },
    Param {
        name: "requirepass",
        mutable: true,
        values: 1,
        get: |c| {
            c.requirepass
                .as_ref()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default()
        },
        set: |c, v| {
            let p = one(v);
            c.requirepass = if p.is_empty() { None } else { Some(p.to_vec()) };
            Ok(())
        },
    },
    Param {
        name: "aclfile",
        mutable: false,
        values: 1,
        get: |c| c.aclfile.clone(),
        set: |c, v| {
            c.aclfile = String::from_utf8_lossy(one(v)).into_owned();
            Ok(())
        },
    },
    Param {
        name: "acllog-max-len",
        mutable: true,
        values: 1,
        get: |c| c.acllog_max_len.to_string(),
        set: |c, v| {
            c.acllog_max_len = int_in(one(v), 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "acl-pubsub-default",
        mutable: true,
        values: 1,
        get: |c| {
            if c.acl_pubsub_default_all {
                "allchannels".into()
            } else {
                "resetchannels".into()
            }
        },
        set: |c, v| {
            let w = one(v);
            if w.eq_ignore_ascii_case(b"allchannels") {
                c.acl_pubsub_default_all = true;
            } else if w.eq_ignore_ascii_case(b"resetchannels") {
                c.acl_pubsub_default_all = false;
            } else {
                return Err(
                    "argument(s) must be one of the following: allchannels, resetchannels".into(),
                );
            }
            Ok(())
        },
    },
    Param {
        name: "loglevel",
        mutable: true,
        values: 1,
        get: |c| {
            LOG_LEVELS
                .iter()
                .find(|(_, l)| *l == c.loglevel)
                .map(|(n, _)| n.to_string())
                .unwrap_or_default()
        },
        set: |c, v| {
            let want = one(v).to_ascii_lowercase();
            match LOG_LEVELS.iter().find(|(n, _)| n.as_bytes() == want) {
                Some((_, l)) => {
                    c.loglevel = *l;
                    Ok(())
                }
                None => Err(
                    "argument(s) must be one of the following: debug, verbose, notice, warning"
                        .into(),
                ),
            }
        },
    },
    Param {
        name: "logfile",
        mutable: false,
        values: 1,
        get: |c| c.logfile.clone(),
        set: |c, v| {
            c.logfile = text(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "proto-max-bulk-len",
        mutable: true,
        values: 1,
        get: |c| c.bulk_len_max.to_string(),
        set: |c, v| {
            let n = memory(one(v))?;
            if n < 1024 * 1024 {
                return Err("argument must be a memory value greater than or equal to 1mb".into());
            }
            c.bulk_len_max = n as usize;
            Ok(())
        },
    },
    Param {
        name: "client-query-buffer-limit",
        mutable: true,
        values: 1,
        get: |c| c.query_buffer_max.to_string(),
        set: |c, v| {
            let n = memory(one(v))?;
            if n < 1024 * 1024 {
                return Err("argument must be a memory value greater than or equal to 1mb".into());
            }
            c.query_buffer_max = n as usize;
            Ok(())
        },
    },
    Param {
        name: "maxmemory",
        mutable: true,
        values: 1,
        get: |c| c.maxmemory_bytes.to_string(),
        set: |c, v| {
            c.maxmemory_bytes = memory(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "maxmemory-policy",
        mutable: true,
        values: 1,
        get: |c| c.maxmemory_policy.name().to_string(),
        set: |c, v| {
            let want = one(v).to_ascii_lowercase();
            match MaxmemoryPolicy::ALL
                .into_iter()
                .find(|p| p.name().as_bytes() == want)
            {
                Some(p) => {
                    c.maxmemory_policy = p;
                    Ok(())
                }
                None => Err(format!(
                    "argument(s) must be one of the following: {}",
                    MaxmemoryPolicy::ALL.map(MaxmemoryPolicy::name).join(", ")
                )),
            }
        },
    },
    Param {
        name: "hz",
        mutable: true,
        values: 1,
        get: |c| c.hz.to_string(),
        set: |c, v| {
            // Redis clamps hz into 1..=500.
            c.hz = int_in(one(v), 0, i32::MAX as i64)?.clamp(1, 500) as u32;
            Ok(())
        },
    },
    Param {
        name: "busy-poll-us",
        mutable: true,
        values: 1,
        get: |c| c.busy_poll_us.to_string(),
        set: |c, v| {
            c.busy_poll_us = int_in(one(v), 0, BUSY_POLL_US_MAX)? as u32;
            Ok(())
        },
    },
    Param {
        name: "busy-reply-threshold",
        mutable: true,
        values: 1,
        get: |c| c.busy_reply_threshold_ms.to_string(),
        set: |c, v| {
            c.busy_reply_threshold_ms = int_in(one(v), 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "tcp-backlog",
        mutable: false,
        values: 1,
        get: |c| c.tcp_backlog.to_string(),
        set: |c, v| {
            c.tcp_backlog = int_in(one(v), 0, i32::MAX as i64)? as i32;
            Ok(())
        },
    },
    Param {
        name: "socket-mark-id",
        mutable: false,
        values: 1,
        get: |c| c.socket_mark_id.to_string(),
        set: |c, v| {
            c.socket_mark_id = int_in(one(v), 0, u32::MAX.into())? as u32;
            Ok(())
        },
    },
    // Redis 7.0 binds only the replication link (best effort), not MIGRATE's connections.
    Param {
        name: "bind-source-addr",
        mutable: true,
        values: 1,
        get: |c| c.bind_source_addr.clone().unwrap_or_default(),
        set: |c, v| {
            let s = text(one(v))?;
            c.bind_source_addr = if s.is_empty() { None } else { Some(s) };
            Ok(())
        },
    },
    Param {
        name: "server_cpulist",
        mutable: false,
        values: 1,
        get: |c| get_cpulist(&c.server_cpulist),
        set: |c, v| {
            c.server_cpulist = set_cpulist(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "bio_cpulist",
        mutable: false,
        values: 1,
        get: |c| get_cpulist(&c.bio_cpulist),
        set: |c, v| {
            c.bio_cpulist = set_cpulist(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "tcp-keepalive",
        mutable: true,
        values: 1,
        get: |c| c.tcp_keepalive_s.to_string(),
        set: |c, v| {
            c.tcp_keepalive_s = int_in(one(v), 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "notify-keyspace-events",
        mutable: true,
        values: 1,
        get: |c| crate::notify::format(c.notify_keyspace_events),
        set: |c, v| {
            c.notify_keyspace_events = crate::notify::parse(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "tracking-table-max-keys",
        mutable: true,
        values: 1,
        get: |c| c.tracking_table_max_keys.to_string(),
        set: |c, v| {
            c.tracking_table_max_keys = int_in(one(v), 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "lfu-log-factor",
        mutable: true,
        values: 1,
        get: |c| c.lfu_log_factor.to_string(),
        set: |c, v| {
            c.lfu_log_factor = int_in(one(v), 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "lfu-decay-time",
        mutable: true,
        values: 1,
        get: |c| c.lfu_decay_time.to_string(),
        set: |c, v| {
            c.lfu_decay_time = int_in(one(v), 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "maxmemory-samples",
        mutable: true,
        values: 1,
        get: |c| c.maxmemory_samples.to_string(),
        set: |c, v| {
            c.maxmemory_samples = int_in(one(v), 1, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "maxmemory-eviction-tenacity",
        mutable: true,
        values: 1,
        get: |c| c.maxmemory_eviction_tenacity.to_string(),
        set: |c, v| {
            c.maxmemory_eviction_tenacity = int_in(one(v), 0, 100)? as u32;
            Ok(())
        },
    },
    yes_no_param!("lazyfree-lazy-eviction", true, lazyfree_lazy_eviction),
    yes_no_param!("lazyfree-lazy-user-del", true, lazyfree_lazy_user_del),
    yes_no_param!("lazyfree-lazy-expire", true, lazyfree_lazy_expire),
    yes_no_param!("lazyfree-lazy-server-del", true, lazyfree_lazy_server_del),
    yes_no_param!("lazyfree-lazy-user-flush", true, lazyfree_lazy_user_flush),
    Param {
        name: "maxmemory-clients",
        mutable: true,
        values: 1,
        get: |c| c.maxmemory_clients.show(),
        set: |c, v| {
            c.maxmemory_clients = ClientsMemoryLimit::parse(one(v))?;
            Ok(())
        },
    },
    yes_no_param!("protected-mode", true, protected_mode),
    Param {
        name: "list-max-listpack-size",
        mutable: true,
        values: 1,
        get: |c| c.list_max_listpack_size.to_string(),
        set: |c, v| {
            c.list_max_listpack_size = int_in(one(v), i32::MIN as i64, i32::MAX as i64)? as i32;
            Ok(())
        },
    },
    Param {
        name: "list-compress-depth",
        mutable: true,
        values: 1,
        get: |c| c.list_compress_depth.to_string(),
        set: |c, v| {
            c.list_compress_depth = int_in(one(v), 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "stream-node-max-bytes",
        mutable: true,
        values: 1,
        get: |c| c.stream_node_max_bytes.to_string(),
        set: |c, v| {
            c.stream_node_max_bytes = memory(one(v))?.min(i64::MAX as u64) as usize;
            Ok(())
        },
    },
    Param {
        name: "stream-node-max-entries",
        mutable: true,
        values: 1,
        get: |c| c.stream_node_max_entries.to_string(),
        set: |c, v| {
            c.stream_node_max_entries = int_in(one(v), 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "hash-max-listpack-entries",
        mutable: true,
        values: 1,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: |c, v| {
            c.hash_max_listpack_entries = int_in(one(v), 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "hash-max-listpack-value",
        mutable: true,
        values: 1,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: |c, v| {
            c.hash_max_listpack_value = int_in(one(v), 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "set-max-intset-entries",
        mutable: true,
        values: 1,
        get: |c| c.set_max_intset_entries.to_string(),
        set: |c, v| {
            c.set_max_intset_entries = int_in(one(v), 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "zset-max-listpack-entries",
        mutable: true,
        values: 1,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: |c, v| {
            c.zset_max_listpack_entries = int_in(one(v), 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "zset-max-listpack-value",
        mutable: true,
        values: 1,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: |c, v| {
            c.zset_max_listpack_value = int_in(one(v), 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "hll-sparse-max-bytes",
        mutable: true,
        values: 1,
        get: |c| c.hll_sparse_max_bytes.to_string(),
        set: |c, v| {
            let n = memory(one(v))?;
            if n > i64::MAX as u64 {
                return Err(format!(
                    "argument must be between 0 and {} inclusive",
                    i64::MAX
                ));
            }
            c.hll_sparse_max_bytes = n as usize;
            Ok(())
        },
    },
    Param {
        name: "dir",
        mutable: true,
        values: 1,
        get: |c| c.dir.display().to_string(),
        set: |c, v| {
            let p = PathBuf::from(text(one(v))?);
            if !p.is_dir() {
                return Err("No such file or directory".into());
            }
            c.dir = p.canonicalize().map_err(|e| e.to_string())?;
            Ok(())
        },
    },
    // The AOF (`persist::aof`). Turning `appendonly` on or off at run time has effects the
    // CONFIG SET handler carries out (an initial base, or closing the file).
    yes_no_param!("appendonly", true, appendonly),
    Param {
        name: "appenddirname",
        mutable: false,
        values: 1,
        get: |c| c.appenddirname.clone(),
        set: |c, v| {
            c.appenddirname = plain_name(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "appendfilename",
        mutable: false,
        values: 1,
        get: |c| c.appendfilename.clone(),
        set: |c, v| {
            c.appendfilename = plain_name(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "appendfsync",
        mutable: true,
        values: 1,
        get: |c| c.appendfsync.name().into(),
        set: |c, v| {
            c.appendfsync = match one(v).to_ascii_lowercase().as_slice() {
                b"always" => AppendFsync::Always,
                b"everysec" => AppendFsync::Everysec,
                b"no" => AppendFsync::No,
                _ => {
                    return Err(
                        "argument(s) must be one of the following: always, everysec, no".into(),
                    )
                }
            };
            Ok(())
        },
    },
    yes_no_param!("aof-load-truncated", true, aof_load_truncated),
    yes_no_param!("aof-use-rdb-preamble", true, aof_use_rdb_preamble),
    Param {
        name: "auto-aof-rewrite-percentage",
        mutable: true,
        values: 1,
        get: |c| c.auto_aof_rewrite_percentage.to_string(),
        set: |c, v| {
            c.auto_aof_rewrite_percentage = int_in(one(v), 0, i64::from(i32::MAX))? as u32;
            Ok(())
        },
    },
    Param {
        name: "auto-aof-rewrite-min-size",
        mutable: true,
        values: 1,
        get: |c| c.auto_aof_rewrite_min_size.to_string(),
        set: |c, v| {
            c.auto_aof_rewrite_min_size = memory(one(v))?;
            Ok(())
        },
    },
    yes_no_param!("no-appendfsync-on-rewrite", true, no_appendfsync_on_rewrite),
    yes_no_param!("aof-timestamp-enabled", true, aof_timestamp_enabled),
    yes_no_param!("aof-disable-auto-gc", true, aof_disable_auto_gc),
    Param {
        name: "client-output-buffer-limit",
        mutable: true,
        values: -1,
        get: |c| {
            let parts: Vec<String> = OBUF_CLASSES
                .iter()
                .zip(c.client_obuf_limits.iter())
                .map(|(n, l)| format!("{n} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_seconds))
                .collect();
            parts.join(" ")
        },
        set: |c, v| {
            c.client_obuf_limits = parse_obuf_limits(&c.client_obuf_limits, v)?;
            Ok(())
        },
    },
    Param {
        name: "save",
        mutable: true,
        values: -1,
        get: |c| {
            let parts: Vec<String> = c
                .save_params
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect();
            parts.join(" ")
        },
        set: |c, v| {
            c.save_params = parse_save(v)?;
            Ok(())
        },
    },
    Param {
        name: "dbfilename",
        mutable: true,
        values: 1,
        get: |c| c.dbfilename.clone(),
        set: |c, v| {
            let name = text(one(v))?;
            if name.is_empty() || name.contains('/') {
                return Err("dbfilename can't be a path, just a filename".into());
            }
            c.dbfilename = name;
            Ok(())
        },
    },
    yes_no_param!("rdbcompression", true, rdbcompression),
    yes_no_param!("rdbchecksum", true, rdbchecksum),
    Param {
        name: "enable-protected-configs",
        mutable: false,
        values: 1,
        get: |c| c.enable_protected_configs.into(),
        set: |c, v| {
            c.enable_protected_configs = no_yes_local(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "enable-module-command",
        mutable: false,
        values: 1,
        get: |c| c.enable_module_command.into(),
        set: |c, v| {
            c.enable_module_command = no_yes_local(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "enable-debug-command",
        mutable: false,
        values: 1,
        get: |c| c.enable_debug_command.into(),
        set: |c, v| {
            c.enable_debug_command = match one(v).to_ascii_lowercase().as_slice() {
                b"no" => "no",
                b"yes" => "yes",
                b"local" => "local",
                _ => return Err("argument(s) must be one of the following: no, yes, local".into()),
            };
            Ok(())
        },
    },
    // RESTORE and the loader check every payload completely whatever this says (see the
    // field): each value is honoured as "at least this strict".
    Param {
        name: "sanitize-dump-payload",
        mutable: true,
        values: 1,
        get: |c| c.sanitize_dump_payload.into(),
        set: |c, v| {
            c.sanitize_dump_payload = match one(v).to_ascii_lowercase().as_slice() {
                b"no" => "no",
                b"yes" => "yes",
                b"clients" => "clients",
                _ => {
                    return Err("argument(s) must be one of the following: no, yes, clients".into())
                }
            };
            Ok(())
        },
    },
    yes_no_param!("crash-log-enabled", true, crash_log_enabled),
    Param {
        name: "propagation-error-behavior",
        mutable: true,
        values: 1,
        get: |c| {
            match c.propagation_error_behavior {
                PropagationErrorBehavior::Ignore => "ignore",
                PropagationErrorBehavior::Panic => "panic",
                PropagationErrorBehavior::PanicOnReplicas => "panic-on-replicas",
            }
            .into()
        },
        set: |c, v| {
            c.propagation_error_behavior = match one(v).to_ascii_lowercase().as_slice() {
                b"ignore" => PropagationErrorBehavior::Ignore,
                b"panic" => PropagationErrorBehavior::Panic,
                b"panic-on-replicas" => PropagationErrorBehavior::PanicOnReplicas,
                _ => return Err(
                    "argument(s) must be one of the following: ignore, panic, panic-on-replicas"
                        .into(),
                ),
            };
            Ok(())
        },
    },
    Param {
        name: "slowlog-log-slower-than",
        mutable: true,
        values: 1,
        get: |c| c.slowlog_log_slower_than_us.to_string(),
        set: |c, v| {
            c.slowlog_log_slower_than_us = int_in(one(v), -1, i64::MAX)?;
            Ok(())
        },
    },
    Param {
        name: "slowlog-max-len",
        mutable: true,
        values: 1,
        get: |c| c.slowlog_max_len.to_string(),
        set: |c, v| {
            c.slowlog_max_len = int_in(one(v), 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "latency-monitor-threshold",
        mutable: true,
        values: 1,
        get: |c| c.latency_monitor_threshold_ms.to_string(),
        set: |c, v| {
            c.latency_monitor_threshold_ms = int_in(one(v), 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    yes_no_param!("latency-tracking", true, latency_tracking),
    Param {
        name: "latency-tracking-info-percentiles",
        mutable: true,
        values: -1,
        get: |c| {
            let parts: Vec<String> = c
                .latency_tracking_info_percentiles
                .iter()
                .map(f64::to_string)
                .collect();
            parts.join(" ")
        },
        set: |c, v| {
            c.latency_tracking_info_percentiles = parse_percentiles(v)?;
            Ok(())
        },
    },
    yes_no_param!("daemonize", false, daemonize),
    Param {
        name: "pidfile",
        mutable: false,
        values: 1,
        get: |c| c.pidfile.clone(),
        set: |c, v| {
            c.pidfile = text(one(v))?;
            Ok(())
        },
    },
    yes_no_param!("disable-thp", false, disable_thp),
    // ringkv prints no logo; `yes` would ask for one.
    Param {
        name: "always-show-logo",
        mutable: false,
        values: 1,
        get: |_| "no".into(),
        set: |_, v| {
            yes_no(one(v))?;
            fixed(v, b"no", "ringkv has no logo to show")
        },
    },
    yes_no_param!("activerehashing", true, activerehashing),
    yes_no_param!("dynamic-hz", true, dynamic_hz),
    yes_no_param!("jemalloc-bg-thread", true, jemalloc_bg_thread),
    yes_no_param!(
        "stop-writes-on-bgsave-error",
        true,
        stop_writes_on_bgsave_error
    ),
    Param {
        name: "active-expire-effort",
        mutable: true,
        values: 1,
        get: |c| c.active_expire_effort.to_string(),
        set: |c, v| {
            c.active_expire_effort = int_in(one(v), 1, 10)? as u32;
            Ok(())
        },
    },
    // A Redis built without jemalloc refuses `activedefrag yes` with this text.
    Param {
        name: "activedefrag",
        mutable: true,
        values: 1,
        get: |_| "no".into(),
        set: |_, v| {
            if yes_no(one(v))? {
                return Err("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution".into());
            }
            Ok(())
        },
    },
    Param {
        name: "active-defrag-ignore-bytes",
        mutable: true,
        values: 1,
        get: |c| c.active_defrag.ignore_bytes.to_string(),
        set: |c, v| {
            let n = memory(one(v))?;
            if n < 1 {
                return Err("argument must be between 1 and 9223372036854775807 inclusive".into());
            }
            c.active_defrag.ignore_bytes = n;
            Ok(())
        },
    },
    Param {
        name: "active-defrag-threshold-lower",
        mutable: true,
        values: 1,
        get: |c| c.active_defrag.threshold_lower.to_string(),
        set: |c, v| {
            c.active_defrag.threshold_lower = int_in(one(v), 0, 1000)? as u64;
            Ok(())
        },
    },
    Param {
        name: "active-defrag-threshold-upper",
        mutable: true,
        values: 1,
        get: |c| c.active_defrag.threshold_upper.to_string(),
        set: |c, v| {
            c.active_defrag.threshold_upper = int_in(one(v), 0, 1000)? as u64;
            Ok(())
        },
    },
    Param {
        name: "active-defrag-cycle-min",
        mutable: true,
        values: 1,
        get: |c| c.active_defrag.cycle_min.to_string(),
        set: |c, v| {
            c.active_defrag.cycle_min = int_in(one(v), 1, 99)? as u64;
            Ok(())
        },
    },
    Param {
        name: "active-defrag-cycle-max",
        mutable: true,
        values: 1,
        get: |c| c.active_defrag.cycle_max.to_string(),
        set: |c, v| {
            c.active_defrag.cycle_max = int_in(one(v), 1, 99)? as u64;
            Ok(())
        },
    },
    Param {
        name: "active-defrag-max-scan-fields",
        mutable: true,
        values: 1,
        get: |c| c.active_defrag.max_scan_fields.to_string(),
        set: |c, v| {
            c.active_defrag.max_scan_fields = int_in(one(v), 1, i64::MAX)? as u64;
            Ok(())
        },
    },
    // One thread serves every client (the design); a count Redis would spread over threads
    // is refused rather than ignored.
    Param {
        name: "io-threads",
        mutable: false,
        values: 1,
        get: |_| "1".into(),
        set: |_, v| {
            int_in(one(v), 1, 128)?;
            fixed(
                v,
                b"1",
                "ringkv serves every client from one thread: io-threads must be 1",
            )
        },
    },
    yes_no_param!("io-threads-do-reads", false, io_threads_do_reads),
    Param {
        name: "ignore-warnings",
        mutable: true,
        values: 1,
        get: |c| c.ignore_warnings.clone(),
        set: |c, v| {
            c.ignore_warnings = text(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "shutdown-timeout",
        mutable: true,
        values: 1,
        get: |c| c.shutdown_timeout_s.to_string(),
        set: |c, v| {
            c.shutdown_timeout_s = int_in(one(v), 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "shutdown-on-sigint",
        mutable: true,
        values: -1,
        get: |c| c.shutdown_on_sigint.text(),
        set: |c, v| {
            c.shutdown_on_sigint = ShutdownFlags::parse(v)?;
            Ok(())
        },
    },
    Param {
        name: "shutdown-on-sigterm",
        mutable: true,
        values: -1,
        get: |c| c.shutdown_on_sigterm.text(),
        set: |c, v| {
            c.shutdown_on_sigterm = ShutdownFlags::parse(v)?;
            Ok(())
        },
    },
    Param {
        name: "cluster-enabled",
        mutable: false,
        values: 1,
        get: |_| "no".into(),
        set: |_, v| {
            if yes_no(one(v))? {
                return Err("ringkv has no cluster mode: cluster-enabled must be no".into());
            }
            Ok(())
        },
    },
    Param {
        name: "cluster-config-file",
        mutable: false,
        values: 1,
        get: |c| c.cluster.config_file.clone(),
        set: |c, v| {
            c.cluster.config_file = text(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "cluster-port",
        mutable: false,
        values: 1,
        get: |c| c.cluster.port.to_string(),
        set: |c, v| {
            c.cluster.port = port_number(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "cluster-node-timeout",
        mutable: true,
        values: 1,
        get: |c| c.cluster.node_timeout_ms.to_string(),
        set: |c, v| {
            c.cluster.node_timeout_ms = int_in(one(v), 0, i64::MAX)?;
            Ok(())
        },
    },
    Param {
        name: "cluster-announce-ip",
        mutable: true,
        values: 1,
        get: |c| c.cluster.announce_ip.clone(),
        set: |c, v| {
            c.cluster.announce_ip = text(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "cluster-announce-hostname",
        mutable: true,
        values: 1,
        get: |c| c.cluster.announce_hostname.clone(),
        set: |c, v| {
            c.cluster.announce_hostname = announce_hostname(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "cluster-announce-port",
        mutable: true,
        values: 1,
        get: |c| c.cluster.announce_port.to_string(),
        set: |c, v| {
            c.cluster.announce_port = port_number(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "cluster-announce-bus-port",
        mutable: true,
        values: 1,
        get: |c| c.cluster.announce_bus_port.to_string(),
        set: |c, v| {
            c.cluster.announce_bus_port = port_number(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "cluster-announce-tls-port",
        mutable: true,
        values: 1,
        get: |c| c.cluster.announce_tls_port.to_string(),
        set: |c, v| {
            c.cluster.announce_tls_port = port_number(one(v))?;
            Ok(())
        },
    },
    yes_no_param!(
        "cluster-require-full-coverage",
        true,
        cluster.require_full_coverage
    ),
    yes_no_param!(
        "cluster-replica-no-failover",
        true,
        cluster.replica_no_failover
    ),
    Param {
        name: "cluster-replica-validity-factor",
        mutable: true,
        values: 1,
        get: |c| c.cluster.replica_validity_factor.to_string(),
        set: |c, v| {
            c.cluster.replica_validity_factor = int_in(one(v), 0, i32::MAX as i64)?;
            Ok(())
        },
    },
    Param {
        name: "cluster-migration-barrier",
        mutable: true,
        values: 1,
        get: |c| c.cluster.migration_barrier.to_string(),
        set: |c, v| {
            c.cluster.migration_barrier = int_in(one(v), 0, i32::MAX as i64)?;
            Ok(())
        },
    },
    yes_no_param!(
        "cluster-allow-replica-migration",
        true,
        cluster.allow_replica_migration
    ),
    yes_no_param!(
        "cluster-allow-reads-when-down",
        true,
        cluster.allow_reads_when_down
    ),
    yes_no_param!(
        "cluster-allow-pubsubshard-when-down",
        true,
        cluster.allow_pubsubshard_when_down
    ),
    Param {
        name: "cluster-link-sendbuf-limit",
        mutable: true,
        values: 1,
        get: |c| c.cluster.link_sendbuf_limit.to_string(),
        set: |c, v| {
            c.cluster.link_sendbuf_limit = memory(one(v))?;
            Ok(())
        },
    },
    Param {
        name: "cluster-preferred-endpoint-type",
        mutable: true,
        values: 1,
        get: |c| c.cluster.preferred_endpoint_type.into(),
        set: |c, v| {
            c.cluster.preferred_endpoint_type = match one(v).to_ascii_lowercase().as_slice() {
                b"ip" => "ip",
                b"hostname" => "hostname",
                b"unknown-endpoint" => "unknown-endpoint",
                _ => {
                    return Err("argument(s) must be one of the following: ip, hostname, \
                                unknown-endpoint"
                        .into())
                }
            };
            Ok(())
        },
    },
    Param {
        name: "supervised",
        mutable: false,
        values: 1,
        get: |c| {
            match c.supervised {
                Supervised::No => "no",
                Supervised::Upstart => "upstart",
                Supervised::Systemd => "systemd",
                Supervised::Auto => "auto",
            }
            .into()
        },
        set: |c, v| {
            c.supervised = match one(v).to_ascii_lowercase().as_slice() {
                b"no" => Supervised::No,
                b"upstart" => Supervised::Upstart,
                b"systemd" => Supervised::Systemd,
                b"auto" => Supervised::Auto,
                _ => {
                    return Err(
                        "argument(s) must be one of the following: upstart, systemd, auto, no"
                            .into(),
                    )
                }
            };
            Ok(())
        },
    },
    yes_no_param!("set-proc-title", false, set_proc_title),
    Param {
        name: "proc-title-template",
        mutable: true,
        values: 1,
        get: |c| c.proc_title_template.clone(),
        set: |c, v| {
            let t = text(one(v))?;
            if !crate::proctitle::valid(&t, c) {
                return Err("template format is invalid or contains unknown variables".into());
            }
            c.proc_title_template = t;
            Ok(())
        },
    },
    Param {
        name: "oom-score-adj",
        mutable: true,
        values: 1,
        // Redis shows the first name of the value: `relative` reads back as `yes`.
        get: |c| {
            match c.oom_score_adj {
                OomScoreAdj::No => "no",
                OomScoreAdj::Relative => "yes",
                OomScoreAdj::Absolute => "absolute",
            }
            .into()
        },
        set: |c, v| {
            c.oom_score_adj = match one(v).to_ascii_lowercase().as_slice() {
                b"no" => OomScoreAdj::No,
                b"yes" | b"relative" => OomScoreAdj::Relative,
                b"absolute" => OomScoreAdj::Absolute,
                _ => {
                    return Err(
                        "argument(s) must be one of the following: no, yes, relative, absolute"
                            .into(),
                    )
                }
            };
            Ok(())
        },
    },
    Param {
        name: "oom-score-adj-values",
        mutable: true,
        values: -1,
        get: |c| {
            let [a, b, d] = c.oom_score_adj_values;
            format!("{a} {b} {d}")
        },
        set: |c, v| {
            if v.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut values = [0i32; 3];
            for (slot, arg) in values.iter_mut().zip(v) {
                *slot = std::str::from_utf8(arg)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .filter(|n| (-2000..=2000).contains(n))
                    .ok_or(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
                    )? as i32;
            }
            c.oom_score_adj_values = values;
            Ok(())
        },
    },
    yes_no_param!(
        "rdb-save-incremental-fsync",
        true,
        rdb_save_incremental_fsync
    ),
    yes_no_param!(
        "aof-rewrite-incremental-fsync",
        true,
        aof_rewrite_incremental_fsync
    ),
    yes_no_param!("rdb-del-sync-files", true, rdb_del_sync_files),
    yes_no_param!("repl-disable-tcp-nodelay", true, repl.disable_tcp_nodelay),
    // Replication, primary side (`repl::primary`).
    Param {
        name: "repl-backlog-size",
        mutable: true,
        values: 1,
        get: |c| c.repl.backlog_size.to_string(),
        set: |c, v| {
            let n = memory(one(v))?;
            if n < 1 || n > i64::MAX as u64 {
                return Err("argument must be between 1 and 9223372036854775807 inclusive".into());
            }
            c.repl.backlog_size = n;
            Ok(())
        },
    },
    Param {
        name: "repl-backlog-ttl",
        mutable: true,
        values: 1,
        get: |c| c.repl.backlog_ttl_s.to_string(),
        set: |c, v| {
            c.repl.backlog_ttl_s = int_in(one(v), 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    yes_no_param!("repl-diskless-sync", true, repl.diskless_sync),
    Param {
        name: "repl-diskless-sync-delay",
        mutable: true,
        values: 1,
        get: |c| c.repl.diskless_sync_delay_s.to_string(),
        set: |c, v| {
            c.repl.diskless_sync_delay_s = int_in(one(v), 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "repl-diskless-sync-max-replicas",
        mutable: true,
        values: 1,
        get: |c| c.repl.diskless_sync_max_replicas.to_string(),
        set: |c, v| {
            c.repl.diskless_sync_max_replicas = int_in(one(v), 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "repl-ping-replica-period",
        mutable: true,
        values: 1,
        get: |c| c.repl.ping_replica_period_s.to_string(),
        set: |c, v| {
            c.repl.ping_replica_period_s = int_in(one(v), 1, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "repl-timeout",
        mutable: true,
        values: 1,
        get: |c| c.repl.timeout_s.to_string(),
        set: |c, v| {
            c.repl.timeout_s = int_in(one(v), 1, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "min-replicas-to-write",
        mutable: true,
        values: 1,
        get: |c| c.repl.min_replicas_to_write.to_string(),
        set: |c, v| {
            c.repl.min_replicas_to_write = int_in(one(v), 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "min-replicas-max-lag",
        mutable: true,
        values: 1,
        get: |c| c.repl.min_replicas_max_lag_s.to_string(),
        set: |c, v| {
            c.repl.min_replicas_max_lag_s = int_in(one(v), 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    // ---- replica side of replication (`repl::replica`) ----
    Param {
        name: "replicaof",
        mutable: false,
        values: 2,
        get: get_replicaof,
        set: set_replicaof,
    },
    Param {
        name: "masterauth",
        mutable: true,
        values: 1,
        get: |c| {
            c.replica
                .masterauth
                .as_ref()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default()
        },
        set: |c, v| {
            let p = one(v);
            c.replica.masterauth = (!p.is_empty()).then(|| p.to_vec());
            Ok(())
        },
    },
    Param {
        name: "masteruser",
        mutable: true,
        values: 1,
        get: |c| {
            c.replica
                .masteruser
                .as_ref()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default()
        },
        set: |c, v| {
            let p = one(v);
            c.replica.masteruser = (!p.is_empty()).then(|| p.to_vec());
            Ok(())
        },
    },
    yes_no_param!("replica-serve-stale-data", true, replica.serve_stale_data),
    yes_no_param!("replica-read-only", true, replica.read_only),
    Param {
        name: "replica-priority",
        mutable: true,
        values: 1,
        get: |c| c.replica.priority.to_string(),
        set: |c, v| {
            c.replica.priority = int_in(one(v), 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "replica-announce-ip",
        mutable: true,
        values: 1,
        get: |c| c.replica.announce_ip.clone().unwrap_or_default(),
        set: |c, v| {
            let ip = text(one(v))?;
            c.replica.announce_ip = (!ip.is_empty()).then_some(ip);
            Ok(())
        },
    },
    Param {
        name: "replica-announce-port",
        mutable: true,
        values: 1,
        get: |c| c.replica.announce_port.to_string(),
        set: |c, v| {
            c.replica.announce_port = port_number(one(v))?;
            Ok(())
        },
    },
    yes_no_param!("replica-announced", true, replica.announced),
    yes_no_param!("replica-lazy-flush", true, replica.lazy_flush),
    yes_no_param!("replica-ignore-maxmemory", true, replica.ignore_maxmemory),
    yes_no_param!(
        "replica-ignore-disk-write-errors",
        true,
        replica.ignore_disk_write_errors
    ),
    // A full sync is received whole (in memory) before the old data is replaced, which is
    // `disabled`'s behaviour; loading straight from the socket is not implemented.
    Param {
        name: "repl-diskless-load",
        mutable: true,
        values: 1,
        get: |_| "disabled".into(),
        set: |_, v| {
            let want = one(v).to_ascii_lowercase();
            if !matches!(want.as_slice(), b"disabled" | b"on-empty-db" | b"swapdb") {
                return Err(
                    "argument(s) must be one of the following: disabled, on-empty-db, swapdb"
                        .into(),
                );
            }
            fixed(
                v,
                b"disabled",
                "repl-diskless-load on-empty-db/swapdb is not supported by ringkv (a full sync is received whole, then loaded)",
            )
        },
    },
];

fn get_cpulist(v: &Option<(String, Vec<usize>)>) -> String {
    v.as_ref().map(|(s, _)| s.clone()).unwrap_or_default()
}

/// A CPU list setting: empty is none (Redis's unset string); otherwise it must parse.
fn set_cpulist(v: &[u8]) -> Result<Option<(String, Vec<usize>)>, String> {
    let s = text(v)?;
    if s.is_empty() {
        return Ok(None);
    }
    let cpus = crate::util::cpulist::parse(&s)?;
    Ok(Some((s, cpus)))
}

/// `replicaof`: "host port", or "" when not a replica.
fn get_replicaof(c: &Config) -> String {
    c.replica
        .replicaof
        .as_ref()
        .map(|(h, p)| format!("{h} {p}"))
        .unwrap_or_default()
}

fn set_replicaof(c: &mut Config, v: &[&[u8]]) -> Result<(), String> {
    // One value "host port" (CONFIG GET's form) or two (a config file line).
    let words: Vec<&[u8]> = v
        .iter()
        .flat_map(|a| a.split(|b| b.is_ascii_whitespace()))
        .filter(|w| !w.is_empty())
        .collect();
    match words.as_slice() {
        [] => c.replica.replicaof = None,
        [no, one] if no.eq_ignore_ascii_case(b"no") && one.eq_ignore_ascii_case(b"one") => {
            c.replica.replicaof = None
        }
        [host, port] => {
            let port = int_in(port, 0, 65535).map_err(|_| "Invalid master port".to_string())?;
            c.replica.replicaof = Some((text(host)?, port as u16));
        }
        _ => return Err("wrong number of arguments".into()),
    }
    Ok(())
}

/// Redis's `save` syntax: pairs of seconds and changes, given as separate values or as one
/// string of them; nothing (or "") disables snapshots.
fn parse_save(v: &[&[u8]]) -> Result<Vec<(u64, u64)>, String> {
    let mut words = Vec::new();
    for part in v {
        let s = std::str::from_utf8(part).map_err(|_| "Invalid save parameters".to_string())?;
        words.extend(s.split_ascii_whitespace());
    }
    if !words.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    let num = |w: &str| {
        w.parse::<u64>()
            .map_err(|_| "Invalid save parameters".to_string())
    };
    words
        .chunks_exact(2)
        .map(|p| Ok((num(p[0])?, num(p[1])?)))
        .collect()
}

/// Settings CONFIG SET changes only when `enable-protected-configs` allows it (Redis 7.0's
/// PROTECTED_CONFIG: where files are written). The config file and flags set them freely.
pub const PROTECTED_PARAMS: &[&str] = &["dir", "dbfilename"];

/// "no", "yes" or "local", as the enable-* settings take them.
fn no_yes_local(v: &[u8]) -> Result<&'static str, String> {
    match v.to_ascii_lowercase().as_slice() {
        b"no" => Ok("no"),
        b"yes" => Ok("yes"),
        b"local" => Ok("local"),
        _ => Err("argument(s) must be one of the following: no, yes, local".into()),
    }
}

/// Old names Redis still reads and lists (CONFIG GET), each with the parameter it names: the
/// setting is the one row of `PARAMS`, and CONFIG REWRITE writes it under that name.
pub const ALIASES: &[(&str, &str)] = &[
    ("cluster-slave-no-failover", "cluster-replica-no-failover"),
    (
        "cluster-slave-validity-factor",
        "cluster-replica-validity-factor",
    ),
    ("lua-time-limit", "busy-reply-threshold"),
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
    ("slaveof", "replicaof"),
    ("slave-serve-stale-data", "replica-serve-stale-data"),
    ("slave-read-only", "replica-read-only"),
    ("slave-priority", "replica-priority"),
    ("slave-announce-ip", "replica-announce-ip"),
    ("slave-announce-port", "replica-announce-port"),
    ("slave-lazy-flush", "replica-lazy-flush"),
    ("slave-ignore-maxmemory", "replica-ignore-maxmemory"),
    ("repl-ping-slave-period", "repl-ping-replica-period"),
    ("min-slaves-to-write", "min-replicas-to-write"),
    ("min-slaves-max-lag", "min-replicas-max-lag"),
];

/// The parameter `name` (any case) names, directly or as an old name.
pub fn find_param(name: &[u8]) -> Option<&'static Param> {
    find_named(name).map(|(_, p)| p)
}

/// The name `name` matched (a row's, or an old one from `ALIASES`) and its parameter.
pub fn find_named(name: &[u8]) -> Option<(&'static str, &'static Param)> {
    all_names().find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
}

/// Every name a parameter answers to, with its parameter: the rows of `PARAMS`, then the old
/// names.
pub fn all_names() -> impl Iterator<Item = (&'static str, &'static Param)> {
    let row = |name: &str| PARAMS.iter().find(|p| p.name == name);
    PARAMS.iter().map(|p| (p.name, p)).chain(
        ALIASES
            .iter()
            .filter_map(move |&(old, new)| Some((old, row(new)?))),
    )
}

/// Splits a config-file line into arguments the way Redis does (`sdssplitargs`): blanks
/// separate, double quotes allow escapes, single quotes only `\'`. The splitting is the
/// inline-request splitter's (`resp::parse::split_inline`), run on a copy of the line; like
/// Redis, which sees the line as a C string, it ends the line at a NUL.
pub fn split_line(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let line = line.split('\0').next().unwrap_or_default();
    let mut buf = line.as_bytes().to_vec();
    let end = buf.len();
    let mut spans = Vec::new();
    if !crate::resp::parse::split_inline(&mut buf, 0, end, &mut spans) {
        return Err("unbalanced quotes".into());
    }
    Ok(spans.iter().map(|s| buf[s.start..s.end].to_vec()).collect())
}

impl Config {
    /// Applies one directive (`name value...`) from a file or the command line.
    pub fn apply(&mut self, name: &str, values: &[Vec<u8>]) -> Result<(), String> {
        // `user <name> rules...`: checked now, loaded at start-up (`acl::load_at_startup`).
        if name.eq_ignore_ascii_case("user") && !values.is_empty() {
            if self.acl_users.iter().any(|u| u[0] == values[0]) {
                return Err(format!(
                    "Error in user declaration '{}': {}",
                    String::from_utf8_lossy(&values[0]),
                    crate::acl::RuleError::Duplicate.text()
                ));
            }
            crate::acl::validate_definition(values)?;
            self.acl_users.push(values.to_vec());
            return Ok(());
        }
        let p = find_param(name.as_bytes())
            .ok_or_else(|| format!("Bad directive or wrong number of arguments: '{name}'"))?;
        let vals: Vec<&[u8]> = values.iter().map(|v| v.as_slice()).collect();
        let ok_count = if p.values < 0 {
            !vals.is_empty() || p.name == "save"
        } else {
            vals.len() == p.values as usize
        };
        if !ok_count {
            return Err(format!("wrong number of arguments for '{name}'"));
        }
        (p.set)(self, &vals).map_err(|e| format!("'{name}': {e}"))
    }

    /// Reads a redis.conf-syntax file: one directive per line, `#` comments.
    pub fn load_file(&mut self, path: &std::path::Path) -> Result<(), String> {
        let body = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        // Absolute, as Redis's getAbsolutePath: the server changes directory to `dir` later.
        self.config_file = Some(std::path::absolute(path).unwrap_or_else(|_| path.into()));
        // Several `save` lines add up (the first replaces the default), as in redis.conf.
        let mut save_seen = false;
        for (n, line) in body.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let args =
                split_line(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
            let Some((name, rest)) = args.split_first() else {
                continue;
            };
            let name = String::from_utf8_lossy(name).to_string();
            let earlier = std::mem::take(&mut self.save_params);
            let res = self.apply(&name, rest);
            if name.eq_ignore_ascii_case("save") {
                if save_seen && !self.save_params.is_empty() {
                    let added = std::mem::replace(&mut self.save_params, earlier);
                    self.save_params.extend(added);
                }
                save_seen = true;
            } else {
                self.save_params = earlier;
            }
            res.map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_line_escapes_are_sdssplitargs() {
        // Found by the aof_loader fuzzer: the AOF manifest writes odd bytes in file names as
        // \xHH (like Redis's sdscatrepr), and reading them back lost the byte.
        assert_eq!(
            split_line(r#""a\x41\x0a\x7fb" "\n\r\t\b\a\q" 'it\'s\n'"#).unwrap(),
            vec![
                b"aA\n\x7fb".to_vec(),
                b"\n\r\t\x08\x07q".to_vec(),
                b"it's\\n".to_vec()
            ]
        );
        // \x without two hex digits is just 'x'.
        assert_eq!(split_line(r#""\xg1""#).unwrap(), vec![b"xg1".to_vec()]);

        // As in sdssplitargs, a quote inside a word opens a quoted part, vertical tab and form
        // feed are blanks between words, and a NUL ends the line.
        assert_eq!(
            split_line(r#"a"b c" d"#).unwrap(),
            vec![b"ab c".to_vec(), b"d".to_vec()]
        );
        assert!(split_line(r#"a"b c"d"#).is_err());
        assert!(split_line(r#"pa"ss"#).is_err());
        assert_eq!(
            split_line("a\x0bb \"c\"\x0c").unwrap(),
            vec![b"a\x0bb".to_vec(), b"c".to_vec()]
        );
        assert_eq!(
            split_line("\x0ba\x0c b").unwrap(),
            vec![b"a\x0c".to_vec(), b"b".to_vec()]
        );
        assert_eq!(
            split_line("a b\0c d").unwrap(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn split_line_quotes() {
        assert_eq!(
            split_line(r#"bind 127.0.0.1 "::1"  'a b'"#).unwrap(),
            vec![
                b"bind".to_vec(),
                b"127.0.0.1".to_vec(),
                b"::1".to_vec(),
                b"a b".to_vec()
            ]
        );
        assert!(split_line(r#"x "abc"#).is_err());
        assert_eq!(
            split_line(r#"save """#).unwrap(),
            vec![b"save".to_vec(), vec![]]
        );
    }

    #[test]
    fn save_lines_in_a_file_add_up() {
        let path = std::env::temp_dir().join(format!("ringkv-save-{}.conf", std::process::id()));
        std::fs::write(&path, "save 900 1\nport 7001\nsave 300 10\n").unwrap();
        let mut c = Config::default();
        c.load_file(&path).unwrap();
        assert_eq!(c.save_params, vec![(900, 1), (300, 10)]);
        assert_eq!(c.port, 7001);
        std::fs::write(&path, "save 900 1\nsave \"\"\n").unwrap();
        let mut c = Config::default();
        c.load_file(&path).unwrap();
        assert!(c.save_params.is_empty());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn apply_validates() {
        let mut c = Config::default();
        c.apply("port", &[b"7000".to_vec()]).unwrap();
        assert_eq!(c.port, 7000);
        assert!(c.apply("port", &[b"70000".to_vec()]).is_err());
        assert!(c.apply("nosuch", &[b"1".to_vec()]).is_err());
        c.apply("maxmemory", &[b"1mb".to_vec()]).unwrap();
        assert_eq!(c.maxmemory_bytes, 1024 * 1024);
        c.apply("save", &[Vec::new()]).unwrap();
        c.apply("appendonly", &[b"yes".to_vec()]).unwrap();
        assert!(c.appendonly);
        assert!(c.apply("appendfsync", &[b"sometimes".to_vec()]).is_err());
        assert!(c.apply("appendfilename", &[b"a/b".to_vec()]).is_err());
        c.apply("save", &[b"3600 1 300 100".to_vec()]).unwrap();
        assert_eq!(c.save_params, vec![(3600, 1), (300, 100)]);
        c.apply("save", &[b"60".to_vec(), b"10000".to_vec()])
            .unwrap();
        assert_eq!(c.save_params, vec![(60, 10000)]);
        assert!(c.apply("save", &[b"60".to_vec()]).is_err());
        assert!(c.apply("save", &[b"x 1".to_vec()]).is_err());
    }

    #[test]
    fn clients_memory_limit_has_redis_floor_and_percentages_of_maxmemory() {
        let mb = 1024 * 1024;
        assert_eq!(ClientsMemoryLimit::Bytes(0).bytes(mb), 0);
        assert_eq!(ClientsMemoryLimit::Bytes(3 * mb).bytes(0), 3 * mb);
        // Below the floor: the floor.
        assert_eq!(
            ClientsMemoryLimit::Bytes(1000).bytes(0),
            CLIENTS_MEMORY_FLOOR_BYTES
        );
        // 7% of 6 MiB, truncated as Redis's (size_t) cast does.
        assert_eq!(
            ClientsMemoryLimit::PercentOfMaxmemory(7).bytes(6 * mb),
            6 * mb * 7 / 100
        );
        // A percentage of no maxmemory is no limit; of a tiny one, the floor.
        assert_eq!(ClientsMemoryLimit::PercentOfMaxmemory(50).bytes(0), 0);
        assert_eq!(
            ClientsMemoryLimit::PercentOfMaxmemory(1).bytes(mb),
            CLIENTS_MEMORY_FLOOR_BYTES
        );
        assert_eq!(ClientsMemoryLimit::PercentOfMaxmemory(0).bytes(mb), 0);
        assert_eq!(
            ClientsMemoryLimit::PercentOfMaxmemory(100).bytes(u64::MAX),
            u64::MAX
        );
        let mut c = Config::default();
        c.apply("maxmemory-clients", &[b"10%".to_vec()]).unwrap();
        assert_eq!(
            c.maxmemory_clients,
            ClientsMemoryLimit::PercentOfMaxmemory(10)
        );
        assert!(c.apply("maxmemory-clients", &[b"101%".to_vec()]).is_err());
        c.apply("maxmemory-clients", &[b"2mb".to_vec()]).unwrap();
        assert_eq!(c.maxmemory_clients, ClientsMemoryLimit::Bytes(2 * mb));
        c.apply("maxmemory-clients", &[b"0%".to_vec()]).unwrap();
        assert_eq!(c.maxmemory_clients, ClientsMemoryLimit::Bytes(0));
    }
}
