//! The `ringkv` binary: command line and config file, logging, then the event loop.
//!
//! Usage mirrors redis-server: `ringkv [/path/to/redis.conf] [--port N] [--bind addr...] ...`;
//! flags given on the command line override the file.

use clap::Parser;
use ringkv::config::Config;

#[derive(clap::Subcommand, Debug)]
enum Sub {
    /// Checks an AOF file (or every file an AOF manifest names) and optionally truncates it
    /// to its last valid command.
    CheckAof {
        /// Truncate the file to its last valid command (asks for confirmation).
        #[arg(long)]
        fix: bool,
        /// Do not ask before truncating.
        #[arg(long, short = 'y')]
        yes: bool,
        /// The AOF file or the `.manifest` file.
        file: std::path::PathBuf,
    },
}

#[derive(Parser, Debug)]
#[command(
    name = "ringkv",
    version,
    about = "Redis-compatible in-memory key-value server on io_uring",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    /// A redis.conf-syntax configuration file.
    config_file: Option<std::path::PathBuf>,
    /// TCP port to listen on (0: no TCP).
    #[arg(long)]
    port: Option<u16>,
    /// Addresses to listen on (IPv4 and IPv6), several allowed.
    #[arg(long, num_args = 1..)]
    bind: Option<Vec<String>>,
    /// Path of a Unix socket to listen on.
    #[arg(long)]
    unixsocket: Option<String>,
    /// Permissions of the Unix socket, in octal.
    #[arg(long)]
    unixsocketperm: Option<String>,
    /// Maximum number of connected clients.
    #[arg(long)]
    maxclients: Option<String>,
    /// Close a client after it has been idle this many seconds (0: never).
    #[arg(long)]
    timeout: Option<String>,
    /// Number of databases.
    #[arg(long)]
    databases: Option<String>,
    /// Password clients must give with AUTH.
    #[arg(long)]
    requirepass: Option<String>,
    /// debug, verbose, notice or warning.
    #[arg(long)]
    loglevel: Option<String>,
    /// Log file ("" for stdout).
    #[arg(long)]
    logfile: Option<String>,
    /// Largest bulk string a client may send (e.g. 512mb).
    #[arg(long = "proto-max-bulk-len")]
    proto_max_bulk_len: Option<String>,
    /// Largest query buffer a client may accumulate (e.g. 1gb).
    #[arg(long = "client-query-buffer-limit")]
    client_query_buffer_limit: Option<String>,
    /// Memory limit (0: none); keys are evicted per maxmemory-policy above it.
    #[arg(long)]
    maxmemory: Option<String>,
    /// Memory all connections together may hold before the largest are closed, in bytes or
    /// as a percentage of maxmemory ("10%"); 0: no limit.
    #[arg(long = "maxmemory-clients")]
    maxmemory_clients: Option<String>,
    /// Eviction policy: noeviction, allkeys-lru/lfu/random, volatile-lru/lfu/random/ttl.
    #[arg(long = "maxmemory-policy")]
    maxmemory_policy: Option<String>,
    /// Keys sampled per database when picking what to evict.
    #[arg(long = "maxmemory-samples")]
    maxmemory_samples: Option<String>,
    /// How long one eviction pass may run (0-100; 100: unlimited).
    #[arg(long = "maxmemory-eviction-tenacity")]
    maxmemory_eviction_tenacity: Option<String>,
    /// Free evicted values on the background thread and log them as UNLINK (yes/no).
    #[arg(long = "lazyfree-lazy-eviction")]
    lazyfree_lazy_eviction: Option<String>,
    /// Probability factor of the LFU counter's increments.
    #[arg(long = "lfu-log-factor")]
    lfu_log_factor: Option<String>,
    /// Minutes per point of LFU counter decay.
    #[arg(long = "lfu-decay-time")]
    lfu_decay_time: Option<String>,
    /// Housekeeping frequency per second.
    #[arg(long)]
    hz: Option<String>,
    /// Microseconds the loop polls for work before it sleeps (0: never; costs CPU, cuts latency).
    #[arg(long)]
    busy_poll_us: Option<String>,
    /// Listen backlog.
    #[arg(long = "tcp-backlog")]
    tcp_backlog: Option<String>,
    /// Seconds of silence before TCP keepalive probes a client (0: off).
    #[arg(long = "tcp-keepalive")]
    tcp_keepalive: Option<String>,
    /// yes or no.
    #[arg(long = "protected-mode")]
    protected_mode: Option<String>,
    /// Working directory.
    #[arg(long)]
    dir: Option<String>,
    /// Snapshot schedule: "<seconds> <changes> ..." pairs, "" for none.
    #[arg(long, allow_hyphen_values = true)]
    save: Option<String>,
    /// Snapshot file name inside `dir`.
    #[arg(long)]
    dbfilename: Option<String>,
    /// yes or no: LZF-compress strings in snapshots.
    #[arg(long)]
    rdbcompression: Option<String>,
    /// yes or no: write and check the snapshot checksum.
    #[arg(long)]
    rdbchecksum: Option<String>,
    /// no, yes or local: allow the DEBUG command.
    #[arg(long = "enable-debug-command")]
    enable_debug_command: Option<String>,
    /// yes or no: the append-only file.
    #[arg(long)]
    appendonly: Option<String>,
    /// always, everysec or no.
    #[arg(long)]
    appendfsync: Option<String>,
    /// Directory of the AOF files, inside `dir`.
    #[arg(long)]
    appenddirname: Option<String>,
    /// Base name of the AOF files.
    #[arg(long)]
    appendfilename: Option<String>,
    /// yes or no: load an AOF whose last command is torn (and cut it off).
    #[arg(long = "aof-load-truncated")]
    aof_load_truncated: Option<String>,
    /// yes or no (bases are written as AOF until the RDB module exists).
    #[arg(long = "aof-use-rdb-preamble")]
    aof_use_rdb_preamble: Option<String>,
    /// Growth in percent of the AOF over its size after the last rewrite that triggers one.
    #[arg(long = "auto-aof-rewrite-percentage")]
    auto_aof_rewrite_percentage: Option<String>,
    /// Smallest AOF size an automatic rewrite is considered at.
    #[arg(long = "auto-aof-rewrite-min-size")]
    auto_aof_rewrite_min_size: Option<String>,
    /// yes or no: no fsync of the AOF while a rewrite runs.
    #[arg(long = "no-appendfsync-on-rewrite")]
    no_appendfsync_on_rewrite: Option<String>,
    /// yes or no: `#TS:` timestamp annotations in the AOF.
    #[arg(long = "aof-timestamp-enabled")]
    aof_timestamp_enabled: Option<String>,
}

fn build_config(cli: &Cli) -> Result<Config, String> {
    let mut config = Config::default();
    if let Some(path) = &cli.config_file {
        config.load_file(path)?;
    }
    let mut flags: Vec<(&str, Vec<Vec<u8>>)> = Vec::new();
    let mut one = |name: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            flags.push((name, vec![v.as_bytes().to_vec()]));
        }
    };
    one("port", &cli.port.map(|p| p.to_string()));
    one("unixsocket", &cli.unixsocket);
    one("unixsocketperm", &cli.unixsocketperm);
    one("maxclients", &cli.maxclients);
    one("timeout", &cli.timeout);
    one("databases", &cli.databases);
    one("requirepass", &cli.requirepass);
    one("loglevel", &cli.loglevel);
    one("logfile", &cli.logfile);
    one("proto-max-bulk-len", &cli.proto_max_bulk_len);
    one("client-query-buffer-limit", &cli.client_query_buffer_limit);
    one("maxmemory", &cli.maxmemory);
    one("maxmemory-policy", &cli.maxmemory_policy);
    one("maxmemory-samples", &cli.maxmemory_samples);
    one(
        "maxmemory-eviction-tenacity",
        &cli.maxmemory_eviction_tenacity,
    );
    one("lazyfree-lazy-eviction", &cli.lazyfree_lazy_eviction);
    one("maxmemory-clients", &cli.maxmemory_clients);
    one("lfu-log-factor", &cli.lfu_log_factor);
    one("lfu-decay-time", &cli.lfu_decay_time);
    one("hz", &cli.hz);
    one("busy-poll-us", &cli.busy_poll_us);
    one("tcp-backlog", &cli.tcp_backlog);
    one("tcp-keepalive", &cli.tcp_keepalive);
    one("protected-mode", &cli.protected_mode);
    one("dir", &cli.dir);
    one("save", &cli.save);
    one("dbfilename", &cli.dbfilename);
    one("rdbcompression", &cli.rdbcompression);
    one("rdbchecksum", &cli.rdbchecksum);
    one("enable-debug-command", &cli.enable_debug_command);
    one("appendonly", &cli.appendonly);
    one("appendfsync", &cli.appendfsync);
    one("appenddirname", &cli.appenddirname);
    one("appendfilename", &cli.appendfilename);
    one("aof-load-truncated", &cli.aof_load_truncated);
    one("aof-use-rdb-preamble", &cli.aof_use_rdb_preamble);
    one(
        "auto-aof-rewrite-percentage",
        &cli.auto_aof_rewrite_percentage,
    );
    one("auto-aof-rewrite-min-size", &cli.auto_aof_rewrite_min_size);
    one("no-appendfsync-on-rewrite", &cli.no_appendfsync_on_rewrite);
    one("aof-timestamp-enabled", &cli.aof_timestamp_enabled);
    if let Some(b) = &cli.bind {
        flags.push(("bind", b.iter().map(|s| s.as_bytes().to_vec()).collect()));
    }
    for (name, values) in flags {
        config.apply(name, &values)?;
    }
    Ok(config)
}

fn main() {
    let cli = Cli::parse();
    if let Some(Sub::CheckAof { fix, yes, file }) = &cli.command {
        std::process::exit(ringkv::persist::aof::check_aof_main(file, *fix, *yes));
    }
    let config = match build_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("*** FATAL CONFIG ERROR ***\n{e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = ringkv::logging::init(config.loglevel, &config.logfile) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        eprintln!("Can't chdir to '{}': {e}", config.dir.display());
        std::process::exit(1);
    }
    log::info!(
        "ringkv {} starting, pid={}",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    let mut config = config;
    adjust_open_files_limit(&mut config);
    let mut el = match ringkv::event_loop::EventLoop::new(config) {
        Ok(el) => el,
        Err(e) => {
            log::error!("{e}");
            eprintln!("ringkv: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = el.run() {
        log::error!("{e}");
        std::process::exit(1);
    }
}

/// File descriptors kept for listeners, the ring, signalfd, logs and the lazy-free thread
/// (Redis's CONFIG_MIN_RESERVED_FDS).
const RESERVED_FDS: u64 = 32;

/// Raises RLIMIT_NOFILE so `maxclients` connections fit, as Redis's adjustOpenFilesLimit: if
/// the kernel refuses, tries lower limits in steps of 16 and lowers `maxclients` to what fits.
fn adjust_open_files_limit(config: &mut ringkv::config::Config) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let wanted = config.clients_max as u64 + RESERVED_FDS;
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    if soft >= wanted {
        return;
    }
    let mut limit = wanted;
    // Bounded: at most wanted/16 attempts.
    while limit > soft {
        if setrlimit(Resource::RLIMIT_NOFILE, limit, limit.max(hard)).is_ok()
            || setrlimit(Resource::RLIMIT_NOFILE, limit, hard).is_ok()
        {
            break;
        }
        limit = limit.saturating_sub(16);
    }
    let limit = limit.max(soft);
    if limit < wanted {
        let fit = limit.saturating_sub(RESERVED_FDS).max(1) as usize;
        log::warn!(
            "You requested maxclients of {} requiring at least {} max file descriptors.",
            config.clients_max,
            wanted
        );
        log::warn!(
            "Current maximum open files is {limit}. maxclients has been reduced to {fit} to \
             compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
        );
        config.clients_max = fit;
    } else {
        log::info!(
            "Increased maximum number of open files to {limit} (it was originally set to {soft})."
        );
    }
}
