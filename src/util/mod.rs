//! Small helpers shared across the server: glob matching, number parsing, Redis's long
//! double (`f80`) and the geohash arithmetic (`geohash`) for the commands, the wall and
//! monotonic clocks and the page size for the loop and the memory code.
pub mod f80;
pub mod geohash;
pub mod glob;
pub mod num;
pub mod pqsort;
pub mod stats;

/// Nanoseconds on the monotonic clock (an arbitrary origin): one vDSO call and integer
/// arithmetic, cheaper than `Instant` arithmetic for the per-command timing (commandstats,
/// the connection's time slice), where it runs once per command.
pub fn mono_ns() -> u64 {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) {
        Ok(ts) => (ts.tv_sec() as u64)
            .wrapping_mul(1_000_000_000)
            .wrapping_add(ts.tv_nsec() as u64),
        // CLOCK_MONOTONIC cannot fail on Linux; a zero only makes one timing read 0.
        Err(_) => 0,
    }
}

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
