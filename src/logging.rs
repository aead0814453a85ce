//! A `log` backend that writes lines in Redis's format (`pid:M 22 Nov 2026 04:47:00.123 * msg`)
//! to stdout or to the configured log file. The level is changeable at run time
//! (CONFIG SET loglevel) through `log::set_max_level`.

use crate::config::LogLevel;
use std::io::Write;
use std::sync::Mutex;

/// The role letter of each line, as Redis: `M` for a primary, `S` for a replica
/// (`repl::replica` sets it when the role changes).
pub static ROLE_MARK: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(b'M');

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
            ROLE_MARK.load(std::sync::atomic::Ordering::Relaxed) as char,
            timestamp(crate::util::unix_ms()),
            r.args()
        );
        if let Ok(mut o) = self.out.lock() {
            let _ = o.write_all(line.as_bytes());
            let _ = o.flush();
        }
    }

    fn flush(&self) {}
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
    let logger = Box::new(Logger {
        out: Mutex::new(out),
    });
    log::set_boxed_logger(logger).map_err(|e| e.to_string())?;
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
}
