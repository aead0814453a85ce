//! The global allocator: the system allocator wrapped in a counter (the `cap` crate), so INFO
//! memory can report `used_memory` and `maxmemory` can be enforced without asking the OS.

use cap::Cap;
use std::alloc::System;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes currently allocated by the process through the Rust allocator.
pub fn allocated() -> usize {
    ALLOCATOR.allocated()
}

/// The highest `allocated()` seen since start.
pub fn peak() -> usize {
    ALLOCATOR.max_allocated()
}

/// Resident set size from /proc/self/statm, in bytes.
pub fn rss() -> u64 {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map(|pages| pages * page)
        .unwrap_or(0)
}
