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
//! before hid the same): each method forwards its arguments to `System` untouched; and two
//! calls into glibc that take no pointers (`mallinfo2` for MEMORY STATS / MALLOC-STATS,
//! `malloc_trim` for MEMORY PURGE), kept here with the allocator they ask about.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes currently counted for live heap blocks.
static HEAP: AtomicUsize = AtomicUsize::new(0);

/// glibc's usable size for a request of `size` bytes (see the module doc): what a block of
/// that size adds to `allocated()`. MEMORY USAGE sizes ringkv's structures with it.
#[inline(always)]
pub const fn usable(size: usize) -> usize {
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

/// Bytes of the directly mapped bucket arrays.
pub fn mapped() -> usize {
    MAPPED.load(Ordering::Relaxed)
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

/// Bytes the allocator counts for a block of `size` bytes, 0 for none (an empty `Vec` or
/// `Box<[u8]>` allocates nothing).
pub const fn block_bytes(size: usize) -> usize {
    if size == 0 {
        0
    } else {
        usable(size)
    }
}

/// The start-up figure MEMORY STATS reports as `startup.allocated` (Redis's
/// `initial_memory_usage`): used_memory once the server is set up, before data is loaded.
static STARTUP: AtomicUsize = AtomicUsize::new(0);

pub fn mark_startup(used_memory: usize) {
    STARTUP.store(used_memory, Ordering::Relaxed);
}

pub fn startup() -> usize {
    STARTUP.load(Ordering::Relaxed)
}

/// glibc's own account of its heap (`mallinfo2(3)`), in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeapInfo {
    /// Bytes obtained from the system with brk/sbrk, in all arenas (`arena`).
    pub arena: usize,
    /// Bytes in blocks served by their own mmap (`hblkhd`), and how many (`hblks`).
    pub mmapped: usize,
    pub mmapped_blocks: usize,
    /// Bytes in blocks handed out (`uordblks`) and free inside the arenas (`fordblks`).
    pub in_use: usize,
    pub free: usize,
    /// Free bytes at the top of the main heap, which `malloc_trim` could give back
    /// (`keepcost`).
    pub top_releasable: usize,
    /// Free chunks (`ordblks`) and fastbin chunks (`smblks`, `fsmblks` bytes).
    pub free_chunks: usize,
    pub fastbin_chunks: usize,
    pub fastbin_bytes: usize,
}

pub fn heap_info() -> HeapInfo {
    // SAFETY: mallinfo2 takes no arguments, only reads glibc's statistics and returns them by
    // value.
    let m = unsafe { libc::mallinfo2() };
    HeapInfo {
        arena: m.arena,
        mmapped: m.hblkhd,
        mmapped_blocks: m.hblks,
        in_use: m.uordblks,
        free: m.fordblks,
        top_releasable: m.keepcost,
        free_chunks: m.ordblks,
        fastbin_chunks: m.smblks,
        fastbin_bytes: m.fsmblks,
    }
}

/// Asks glibc to give free heap memory back to the kernel (`malloc_trim(0)`: the free top of
/// each arena and, since glibc 2.8, the free whole pages inside them). True if it released
/// any.
pub fn trim() -> bool {
    // SAFETY: malloc_trim takes a padding count, touches only glibc's own free lists, and is
    // safe to call at any time from any thread.
    unsafe { libc::malloc_trim(0) == 1 }
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
