//! The global allocator: the system allocator wrapped in a counter (the `cap` crate), so INFO
//! memory can report `used_memory` and `maxmemory` can be enforced without asking the OS.

use cap::Cap;
use std::alloc::System;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes of memory mapped directly for large hash-table bucket arrays (ds::dict), which
/// bypass the allocator but are memory the dataset uses all the same.
static MAPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn mapped_add(bytes: usize) {
    MAPPED.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
}

pub fn mapped_sub(bytes: usize) {
    MAPPED.fetch_sub(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// Bytes currently allocated by the process: through the Rust allocator plus the directly
/// mapped bucket arrays.
pub fn allocated() -> usize {
    ALLOCATOR.allocated() + MAPPED.load(std::sync::atomic::Ordering::Relaxed)
}

/// The highest `allocated()` seen at any sample point (the loop samples once per turn:
/// tracking it inside the allocator would cost two more atomics per allocation).
static PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn sample_peak() -> usize {
    let now = allocated();
    PEAK.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
    now
}

pub fn peak() -> usize {
    PEAK.load(std::sync::atomic::Ordering::Relaxed)
        .max(allocated())
}

/// Resident set size from /proc/self/statm, in bytes.
pub fn rss() -> u64 {
    let page = crate::util::page_size() as u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * page)
        .unwrap_or(0)
}

/// The maxmemory limit in bytes (0: none), mirrored here for the keyspace's hash tables,
/// which hold off growing while the new bucket array would not fit (`fits_under_maxmemory`).
static MAXMEMORY: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn set_maxmemory(bytes: u64) {
    MAXMEMORY.store(
        usize::try_from(bytes).unwrap_or(usize::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Whether `more_bytes` more would keep allocated memory within maxmemory (always true
/// without a limit). Redis's `overMaxmemoryAfterAlloc`, negated.
pub fn fits_under_maxmemory(more_bytes: usize) -> bool {
    let max = MAXMEMORY.load(std::sync::atomic::Ordering::Relaxed);
    max == 0 || allocated().saturating_add(more_bytes) <= max
}
