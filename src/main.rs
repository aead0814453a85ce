//! The `ringkv` binary: command line and config file, logging, then the event loop.
//!
//! Usage mirrors redis-server: `ringkv [/path/to/redis.conf] [--<setting> value...]`; every
//! setting of the config file is also a flag, and flags given on the command line override
//! the file.

use clap::Parser;
use ringkv::config::Config;

/// `ringkv check-aof [--fix] [-y] <file>`: the AOF checker (redis-check-aof).
#[derive(Parser, Debug)]
#[command(name = "ringkv check-aof")]
struct CheckAof {
    /// Truncate the file to its last valid command (asks for confirmation).
    #[arg(long)]
    fix: bool,
    /// Do not ask before truncating.
    #[arg(long, short = 'y')]
    yes: bool,
    /// The AOF file or the `.manifest` file.
    file: std::path::PathBuf,
}

const USAGE: &str = "Usage: ringkv [/path/to/redis.conf] [--<setting> <value>...]
       ringkv check-aof [--fix] [-y] <file>
       ringkv -v | --version
       ringkv -h | --help

Every setting of the config file can be given as a flag, with its values after it (as
redis-server takes them); flags override the file. Examples:
       ringkv --port 7777 --save ''
       ringkv /etc/redis/redis.conf --loglevel verbose --bind 127.0.0.1 ::1";

/// A setting given on the command line: its name and values.
type Setting = (String, Vec<Vec<u8>>);

/// The command line as redis-server reads it: an optional config file first, then
/// `--<setting> value...` groups, each running until the next `--` word. Returns the file and
/// the settings in order.
fn parse_args(args: &[String]) -> Result<(Option<std::path::PathBuf>, Vec<Setting>), String> {
    let mut rest = args;
    let mut file = None;
    if let Some(first) = rest.first().filter(|a| !a.starts_with("--")) {
        file = Some(std::path::PathBuf::from(first));
        rest = &rest[1..];
    }
    let mut settings: Vec<Setting> = Vec::new();
    // Bounded by the argument count.
    for arg in rest {
        match arg.strip_prefix("--") {
            Some(name) if !name.is_empty() => settings.push((name.to_string(), Vec::new())),
            _ => match settings.last_mut() {
                Some((_, values)) => values.push(arg.as_bytes().to_vec()),
                None => {
                    return Err(format!(
                        "unexpected argument '{arg}' (settings are given as --<setting> <value>)"
                    ))
                }
            },
        }
    }
    Ok((file, settings))
}

fn build_config(args: &[String]) -> Result<Config, String> {
    let (file, settings) = parse_args(args)?;
    let mut config = Config::default();
    if let Some(path) = &file {
        config.load_file(path)?;
    }
    for (name, values) in settings {
        config.apply(&name, &values)?;
    }
    Ok(config)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("check-aof") => {
            let c = CheckAof::parse_from(&args[1..]);
            std::process::exit(ringkv::persist::aof::check_aof_main(&c.file, c.fix, c.yes));
        }
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return;
        }
        Some("-v" | "--version") => {
            println!("ringkv v={}", env!("CARGO_PKG_VERSION"));
            return;
        }
        _ => {}
    }
    let config = match build_config(&args[1..]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("*** FATAL CONFIG ERROR ***\n{e}");
            std::process::exit(1);
        }
    };
    // Before any thread starts (the logger's, the lazy-free thread): only the calling
    // thread survives the fork.
    if config.daemonize {
        if let Err(e) = nix::unistd::daemon(true, false) {
            eprintln!("Can't daemonize: {e}");
            std::process::exit(1);
        }
    }
    ringkv::logging::install_crash_handler();
    ringkv::logging::set_crash_log(config.crash_log_enabled);
    if let Err(e) = ringkv::logging::init(config.loglevel, &config.logfile) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        eprintln!("Can't chdir to '{}': {e}", config.dir.display());
        std::process::exit(1);
    }
    // The users are checked before anything starts, as Redis does, so that a bad ACL
    // setup stops the server with its reason.
    {
        let mut acl = ringkv::acl::Acl::new(&ringkv::acl::table_commands());
        if let Err(e) = ringkv::acl::load_at_startup(&mut acl, &config) {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
    log::info!(
        "ringkv {} starting, pid={}",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    );
    let mut config = config;
    adjust_open_files_limit(&mut config);
    // As Redis: transparent huge pages make frees and latency costlier; when the system
    // gives them to every process (`[always]`), this one opts out.
    let thp_always = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|t| t.contains("[always]"));
    if config.disable_thp && thp_always {
        if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
            log::warn!("Failed to disable transparent huge pages for this process: {e}");
        }
    }
    config.exec_argv0 = args.first().cloned().unwrap_or_default();
    config.supervised_by = ringkv::supervise::detect(config.supervised);
    if config.daemonize && config.pidfile.is_empty() {
        // Redis's CONFIG_DEFAULT_PID_FILE.
        config.pidfile = "/var/run/redis.pid".into();
    }
    // `bio_cpulist` and `server_cpulist`: refused at start-up when no CPU of the list can
    // be used. The lazy-free thread pins itself as it starts; it starts before the loop
    // thread is pinned, so that it does not inherit `server_cpulist` (as Redis's bio threads).
    for (name, list) in [
        ("bio_cpulist", &config.bio_cpulist),
        ("server_cpulist", &config.server_cpulist),
    ] {
        if let Some((_, cpus)) = list {
            if let Err(e) = ringkv::util::cpulist::check_usable(name, cpus) {
                eprintln!("*** FATAL CONFIG ERROR ***\n{e}");
                std::process::exit(1);
            }
        }
    }
    if let Some((_, cpus)) = &config.bio_cpulist {
        ringkv::lazyfree::set_bio_cpus(cpus.clone());
    }
    let server_cpus = config.server_cpulist.as_ref().map(|(_, c)| c.clone());
    let mut el = match ringkv::event_loop::EventLoop::new(config) {
        Ok(el) => el,
        Err(e) => {
            log::error!("{e}");
            eprintln!("ringkv: {e}");
            std::process::exit(1);
        }
    };
    ringkv::lazyfree::global();
    if let Some(cpus) = server_cpus {
        if let Err(e) = ringkv::util::cpulist::pin_current_thread(&cpus) {
            log::error!("server_cpulist: {e}");
            eprintln!("ringkv: server_cpulist: {e}");
            std::process::exit(1);
        }
    }
    el.set_proc_title();
    if !el.pidfile().is_empty() {
        if let Err(e) = std::fs::write(el.pidfile(), format!("{}\n", std::process::id())) {
            log::warn!("Failed to write PID file: {e}");
        }
    }
    ringkv::supervise::ready(el.supervised_by());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_command_line_reads_as_redis_servers() {
        let (file, settings) = parse_args(&strings(&[
            "/etc/redis.conf",
            "--port",
            "7000",
            "--save",
            "",
            "--bind",
            "127.0.0.1",
            "::1",
            "--notify-keyspace-events",
            "KEA",
        ]))
        .unwrap();
        assert_eq!(file, Some(std::path::PathBuf::from("/etc/redis.conf")));
        let names: Vec<&str> = settings.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["port", "save", "bind", "notify-keyspace-events"]);
        assert_eq!(settings[1].1, vec![b"".to_vec()]);
        assert_eq!(settings[2].1.len(), 2);
        assert!(parse_args(&strings(&["a.conf", "stray"])).is_err());
        // Every setting, not a chosen few, is a flag.
        let c = build_config(&strings(&["--lfu-log-factor", "3", "--maxmemory", "1mb"])).unwrap();
        assert_eq!(c.lfu_log_factor, 3);
        assert!(build_config(&strings(&["--no-such-setting", "1"])).is_err());
    }
}
