//! Small helpers shared across the server: glob matching, number parsing, Redis's long
//! double (`f80`) and the geohash arithmetic (`geohash`) for the commands, the wall and
//! monotonic clocks and the page size for the loop and the memory code, CPU lists and
//! thread pinning (`cpulist`).
pub mod cpulist;
pub mod f80;
pub mod geohash;
pub mod glob;
pub mod num;
pub mod pqsort;
pub mod stats;

/// Nanoseconds on a monotonic clock (an arbitrary origin), for the per-command timing
/// (commandstats, the slow log, the connection's time slice) and other intervals: every
/// caller compares it only with itself. It reads the CPU's invariant time-stamp counter,
/// scaled to nanoseconds by `quanta`'s calibration against CLOCK_MONOTONIC (done once, at
/// the first call), and falls back to CLOCK_MONOTONIC without one: the vDSO's
/// `clock_gettime` was ~6% of the server's CPU under `redis-benchmark -P 16` on this VM
/// (perf), once per command.
#[inline]
pub fn mono_ns() -> u64 {
    let clock = MONO_CLOCK.get_or_init(quanta::Clock::new);
    clock.delta_as_nanos(0, clock.raw())
}

static MONO_CLOCK: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();

/// Wall-clock time in unix milliseconds (0 if the clock is before 1970).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The kernel's page size in bytes (read once; 4096 if sysconf cannot tell).
pub fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .map_or(4096, |p| p as usize)
    })
}
