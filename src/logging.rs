//! A `log` backend that writes lines in Redis's format (`pid:M 22 Nov 2026 04:47:00.123 * msg`)
//! to stdout or to the configured log file. The level is changeable at run time
//! (CONFIG SET loglevel) through `log::set_max_level`.
//!
//! It also writes the crash report: a panic anywhere in the process is logged as a bug
//! report (the panic's message and place, then, while `crash-log-enabled` is on, the stack
//! trace) and the process aborts, as Redis's `serverPanic` does, so that a loop thread that
//! broke an invariant never unwinds past buffers the kernel may still be writing.

use crate::config::LogLevel;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// The role letter of each line, as Redis: `M` for a primary, `S` for a replica
/// (`repl::replica` sets it when the role changes).
pub static ROLE_MARK: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(b'M');

/// `crash-log-enabled`: a crash report includes the stack trace (CONFIG SET changes it
/// through `set_crash_log`).
static CRASH_LOG_ENABLED: AtomicBool = AtomicBool::new(true);

/// The installed logger, for the crash report's lines that are not log records.
static LOGGER: OnceLock<&'static Logger> = OnceLock::new();

struct Logger {
    out: Mutex<Box<dyn Write + Send>>,
}

pub fn filter_for(level: LogLevel) -> log::LevelFilter {
    match level {
        LogLevel::Debug => log::LevelFilter::Trace,
        LogLevel::Verbose => log::LevelFilter::Debug,
        LogLevel::Notice => log::LevelFilter::Info,
        LogLevel::Warning => log::LevelFilter::Warn,
    }
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn timestamp(ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{d:02} {} {y} {:02}:{:02}:{:02}.{:03}",
        MONTHS[(m - 1) as usize],
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ms % 1000
    )
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let mark = match r.level() {
            log::Level::Trace => '.',
            log::Level::Debug => '-',
            log::Level::Info => '*',
            log::Level::Warn | log::Level::Error => '#',
        };
        let line = format!(
            "{}:{} {} {mark} {}\n",
            std::process::id(),
            ROLE_MARK.load(Ordering::Relaxed) as char,
            timestamp(crate::util::unix_ms()),
            r.args()
        );
        self.write_raw(&line);
    }

    fn flush(&self) {}
}

impl Logger {
    fn write_raw(&self, text: &str) {
        // A panic while the lock was held poisons it; the crash report still gets written.
        let mut o = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }
}

/// Applies `crash-log-enabled`.
pub fn set_crash_log(enabled: bool) {
    CRASH_LOG_ENABLED.store(enabled, Ordering::Relaxed);
}

/// The crash report's text for a panic with `message` at `place` (`file:line`): the
/// marker lines Redis's report has (log scrapers look for `Guru Meditation`), and the stack
/// trace when `backtrace` is given.
pub fn crash_report(message: &str, place: &str, backtrace: Option<&str>) -> String {
    let head = format!(
        "{}:{} {} #",
        std::process::id(),
        ROLE_MARK.load(Ordering::Relaxed) as char,
        timestamp(crate::util::unix_ms())
    );
    let mut out = String::from("\n\n=== RINGKV BUG REPORT START ===\n");
    out.push_str(&format!(
        "{head} ------------------------------------------------\n"
    ));
    out.push_str(&format!("{head} Guru Meditation: {message} #{place}\n"));
    if let Some(bt) = backtrace {
        out.push_str("\n------ STACK TRACE ------\n");
        out.push_str(&format!(
            "thread '{}'\n",
            std::thread::current().name().unwrap_or("<unnamed>")
        ));
        out.push_str(bt);
        if !bt.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str("\n=== RINGKV BUG REPORT END ===\n");
    out
}

/// Installs the panic hook that writes the crash report to the log (stderr before the
/// logger exists) and aborts the process.
pub fn install_crash_handler() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("<panic without a message>");
        let place = info
            .location()
            .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
        let bt = CRASH_LOG_ENABLED
            .load(Ordering::Relaxed)
            .then(|| std::backtrace::Backtrace::force_capture().to_string());
        let report = crash_report(message, &place, bt.as_deref());
        match LOGGER.get() {
            Some(l) => l.write_raw(&report),
            None => eprint!("{report}"),
        }
        std::process::abort();
    }));
}

/// Installs the logger; `logfile` empty means stdout.
pub fn init(level: LogLevel, logfile: &str) -> Result<(), String> {
    let out: Box<dyn Write + Send> = if logfile.is_empty() {
        Box::new(std::io::stdout())
    } else {
        Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logfile)
                .map_err(|e| format!("Can't open the log file {logfile}: {e}"))?,
        )
    };
    let logger: &'static Logger = Box::leak(Box::new(Logger {
        out: Mutex::new(out),
    }));
    log::set_logger(logger).map_err(|e| e.to_string())?;
    let _ = LOGGER.set(logger);
    log::set_max_level(filter_for(level));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_format() {
        assert_eq!(super::timestamp(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(
            super::timestamp(1_795_000_000_123),
            "18 Nov 2026 11:06:40.123"
        );
    }

    #[test]
    fn crash_report_has_the_stack_trace_only_when_asked() {
        let with = super::crash_report("boom", "src/x.rs:7", Some("  0: frame"));
        assert!(
            with.contains("# Guru Meditation: boom #src/x.rs:7\n"),
            "{with}"
        );
        assert!(with.contains("------ STACK TRACE ------\n"), "{with}");
        assert!(with.contains("  0: frame\n"), "{with}");
        let without = super::crash_report("boom", "src/x.rs:7", None);
        assert!(without.contains("Guru Meditation: boom"), "{without}");
        assert!(!without.contains("STACK TRACE"), "{without}");
        assert!(
            without.ends_with("=== RINGKV BUG REPORT END ===\n"),
            "{without}"
        );
    }
}
