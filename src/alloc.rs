//! The global allocator: the system allocator (glibc malloc) wrapped in a counter, so INFO
//! memory can report `used_memory` and `maxmemory` can be enforced without asking the OS.
//!
//! The counter adds what each block really takes from the heap, not just the bytes asked
//! for: glibc rounds a request of `n` bytes up to a chunk of `max(32, (n + 8 + 15) & !15)`
//! bytes, of which `chunk - 8` are usable (what `malloc_usable_size` answers). Counting that
//! is what Redis does with jemalloc's usable sizes, so "bytes per key" and maxmemory compare
//! like with like; counting requested sizes undercounted a 64-byte string value by 8 bytes
//! and a 56-byte key entry by 8. Computing it costs a few instructions, where calling
//! `malloc_usable_size` would cost a call per allocation and free. Blocks glibc serves with
//! mmap (≥ 128 KiB by default) are rounded to pages instead; the formula is off by less than
//! a page for those, which is noise next to their size.
//!
//! The `unsafe` here is the `GlobalAlloc` trait's own (the `cap` crate that did the counting
//! before hid the same): each method forwards its arguments to `System` untouched.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes currently counted for live heap blocks.
static HEAP: AtomicUsize = AtomicUsize::new(0);

/// glibc's usable size for a request of `size` bytes (see the module doc).
#[inline(always)]
const fn usable(size: usize) -> usize {
    let chunk = (size + 8 + 15) & !15;
    if chunk < 32 {
        24
    } else {
        chunk - 8
    }
}

struct Counting;

// SAFETY: every method forwards to `System` with the caller's pointer and layout unchanged;
// the counter is only bookkeeping beside it.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received (the caller upholds `alloc`'s contract).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            HEAP.fetch_add(usable(layout.size()), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            HEAP.fetch_add(usable(layout.size()), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(usable(layout.size()), Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as received.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            HEAP.fetch_add(usable(new_size), Ordering::Relaxed);
            HEAP.fetch_sub(usable(layout.size()), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
    HEAP.load(Ordering::Relaxed) + MAPPED.load(std::sync::atomic::Ordering::Relaxed)
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

#[cfg(test)]
mod tests {
    use super::usable;

    #[test]
    fn usable_sizes_are_glibcs() {
        // SAFETY: plain malloc/free of small blocks, and malloc_usable_size on a live one.
        for n in [1usize, 8, 24, 25, 40, 56, 57, 64, 100, 1000, 4000, 65_536] {
            let got = unsafe {
                let p = libc::malloc(n);
                let u = libc::malloc_usable_size(p);
                libc::free(p);
                u
            };
            assert_eq!(usable(n), got, "request of {n} bytes");
        }
    }
}
