//! The io_uring ring: the only place that talks to the kernel's submission and completion
//! queues, and the only `unsafe` of the I/O path.
//!
//! Ownership rule: a buffer handed to the kernel is *moved into the ring* (`Inflight`) when its
//! operation is pushed and is handed back only in that operation's `Completion`. Nobody else
//! can touch or free it in between, even when the connection it belongs to has gone: a late
//! completion still returns the buffer, and the caller drops it. `user_data` is the index of
//! the in-flight record, never a pointer; the record carries the caller's opaque token
//! (slot + generation + kind), so a completion for a closed, reused slot can be recognised and
//! ignored by the caller.
//!
//! Client receives are multishot, into a ring of provided buffers (`BufRing`): one armed
//! receive per connection delivers each arrival as a completion naming the buffer the kernel
//! filled, which the caller copies out and gives back (`Ring::recycle`) in the same turn.
//! The buffers belong to the ring for its whole life (an `mmap` of their own, not counted
//! as the server's heap); the kernel only writes a buffer between its `recycle` and the
//! completion that names it.
//!
//! One `submit_and_wait` per loop turn submits everything pushed during the turn (with
//! `busy-poll-us` set, a turn that would sleep first polls, entering only when work is flagged).

use io_uring::{cqueue, opcode, squeue, types, IoUring, Probe};
use slab::Slab;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Why io_uring cannot be used, with what to do about it.
#[derive(Debug)]
pub struct RingError(pub String);

impl std::fmt::Display for RingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

struct Inflight {
    token: u64,
    buf: Option<Vec<u8>>,
    /// Kept alive until the kernel has read it (timeouts read it at submission).
    _ts: Option<Box<types::Timespec>>,
    /// A connect's peer address, kept alive until the connect completes.
    _addr: Option<Box<nix::sys::socket::SockaddrStorage>>,
    multishot: bool,
    /// The kernel writes into `buf`'s spare capacity (receive, read).
    fills: bool,
}

/// One reaped completion.
pub struct Completion {
    pub token: u64,
    /// The kernel's result: bytes, a new fd, or a negative errno.
    pub result: i32,
    /// A multishot operation that will produce more completions.
    pub more: bool,
    /// The buffer given with the operation, if any; for receives its length includes the
    /// received bytes.
    pub buf: Option<Vec<u8>>,
    /// A multishot receive's data: the provided buffer holding its `result` bytes
    /// (`Ring::provided`), which the caller gives back with `Ring::recycle`.
    pub bid: Option<u16>,
}

/// The buffer group the provided buffers are registered as.
const PBUF_GROUP: u16 = 0;

/// A provided-buffer ring (`IORING_REGISTER_PBUF_RING`): `count` entries (16 bytes each,
/// the ring the kernel takes buffers from) followed by `count` buffers of `buf_bytes`, in one
/// anonymous mapping. `tail` counts the entries given to the kernel; each given entry
/// describes a buffer that nothing else reads or writes until a completion names it.
struct BufRing {
    base: std::ptr::NonNull<u8>,
    map_bytes: usize,
    entries_bytes: usize,
    buf_bytes: usize,
    count: u16,
    tail: u16,
}

pub struct Ring {
    // Declared first, so dropped first: closing the ring ends the kernel's use of `pbuf`
    // before its mapping goes.
    ring: IoUring,
    inflight: Slab<Inflight>,
    /// Operations that did not fit in the submission queue; pushed after the next submit.
    /// Bounded by the number of in-flight records.
    backlog: Vec<squeue::Entry>,
    pbuf: Option<BufRing>,
}

fn explain_setup_error(e: &io::Error) -> RingError {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok());
    let msg = match (e.raw_os_error(), disabled) {
        (Some(libc::ENOSYS), _) => "io_uring is not available in this kernel (io_uring_setup: ENOSYS). \
             ringkv needs Linux 5.19 or newer built with CONFIG_IO_URING."
            .to_string(),
        (Some(libc::EPERM), Some(2)) => "io_uring is disabled by sysctl kernel.io_uring_disabled=2. \
             Enable it with: sysctl -w kernel.io_uring_disabled=0"
            .to_string(),
        (Some(libc::EPERM), Some(1)) => "io_uring is restricted by sysctl kernel.io_uring_disabled=1 to the group in \
             kernel.io_uring_group. Run ringkv as a member of that group, or run: sysctl -w kernel.io_uring_disabled=0"
            .to_string(),
        (Some(libc::EPERM), _) => "io_uring_setup was refused (EPERM), most likely by a seccomp filter: container \
             runtimes' default profiles block io_uring. Allow io_uring_setup, io_uring_enter and \
             io_uring_register (e.g. docker run --security-opt seccomp=unconfined)."
            .to_string(),
        (Some(libc::ENOMEM), _) => "io_uring_setup failed with ENOMEM: raise the locked-memory limit (ulimit -l) \
             or use a kernel newer than 5.12."
            .to_string(),
        _ => format!("io_uring_setup failed: {e}"),
    };
    RingError(msg)
}

const OPCODES_NEEDED: &[(u8, &str)] = &[
    (opcode::Accept::CODE, "accept"),
    (opcode::Recv::CODE, "recv"),
    (opcode::Send::CODE, "send"),
    (opcode::Read::CODE, "read"),
    (opcode::Timeout::CODE, "timeout"),
    (opcode::TimeoutRemove::CODE, "timeout_remove"),
    (opcode::AsyncCancel::CODE, "async_cancel"),
    (opcode::Write::CODE, "write"),
    (opcode::Fsync::CODE, "fsync"),
    (opcode::Connect::CODE, "connect"),
];

impl Ring {
    /// Sets up the ring, trying the cheapest mode first (single issuer with deferred task
    /// running: completions are only processed when we enter the kernel to wait for them).
    ///
    /// `RINGKV_RING_SETUP=plain|coop|full` (default `full`) picks the setup flags; it exists so
    /// the flags can be measured against each other (docs/PERFORMANCE.md), not for users.
    pub fn new(entries: u32) -> Result<Ring, RingError> {
        let mode = std::env::var("RINGKV_RING_SETUP").unwrap_or_default();
        let mut builder = IoUring::builder();
        match mode.as_str() {
            "plain" => {}
            "coop" => {
                builder.setup_coop_taskrun();
            }
            _ => {
                // TASKRUN_FLAG: the kernel flags pending deferred work in the SQ ring, so a
                // `submit_and_wait(0)` (a turn that must not wait) still enters with
                // GETEVENTS and runs it; without it, completions waiting as deferred work
                // were not reaped until a turn that waits.
                builder
                    .setup_single_issuer()
                    .setup_defer_taskrun()
                    .setup_coop_taskrun()
                    .setup_taskrun_flag();
            }
        }
        let ring = builder
            .setup_cqsize(entries * 4)
            .build(entries)
            .or_else(|_| IoUring::builder().setup_cqsize(entries * 4).build(entries))
            .map_err(|e| explain_setup_error(&e))?;
        let mut probe = Probe::new();
        ring.submitter()
            .register_probe(&mut probe)
            .map_err(|e| RingError(format!("io_uring probe failed: {e}")))?;
        for (code, name) in OPCODES_NEEDED {
            if !probe.is_supported(*code) {
                return Err(RingError(format!(
                    "this kernel's io_uring lacks the '{name}' operation; ringkv needs Linux 5.19 or newer"
                )));
            }
        }
        Ok(Ring {
            ring,
            inflight: Slab::with_capacity(1024),
            backlog: Vec::new(),
            pbuf: None,
        })
    }

    /// Registers `count` (a power of two, at most 32768) provided buffers of `buf_bytes`
    /// for `recv_multishot`.
    pub fn enable_provided_buffers(&mut self, count: u16, buf_bytes: usize) -> io::Result<()> {
        if self.pbuf.is_some() {
            return Ok(());
        }
        let br = BufRing::new(count, buf_bytes)?;
        // SAFETY: the entries are page aligned, zeroed, `count` long, and stay mapped until
        // `br` is dropped, which happens after the ring is closed (field order of `Ring`).
        unsafe {
            self.ring.submitter().register_buf_ring_with_flags(
                br.base.as_ptr() as u64,
                count,
                PBUF_GROUP,
                0,
            )?;
        }
        let br = self.pbuf.insert(br);
        for bid in 0..count {
            br.give(bid);
        }
        br.publish();
        Ok(())
    }

    /// A multishot receive on `fd` into the provided buffers: a completion per arrival
    /// (`Completion::bid` names the buffer), until one without `more` ends it (an error,
    /// the peer's end of stream, a cancel, or no free buffer: `-ENOBUFS`). Returns a handle
    /// for `cancel`, valid until that last completion is reaped. Needs
    /// `enable_provided_buffers` (and Linux 6.0: older kernels answer `-EINVAL`).
    pub fn recv_multishot(&mut self, fd: RawFd, token: u64) -> u64 {
        let idx = self.record(token, None, None, true, false);
        let e = opcode::RecvMulti::new(types::Fd(fd), PBUF_GROUP)
            .build()
            .user_data(idx);
        self.push(e);
        idx
    }

    /// The `len` bytes a completion put in provided buffer `bid` (empty if there is none).
    pub fn provided(&self, bid: u16, len: usize) -> &[u8] {
        match &self.pbuf {
            Some(br) if bid < br.count => {
                let len = len.min(br.buf_bytes);
                let start = br.buf_offset(bid);
                // SAFETY: `bid` is below `count`, so the range lies inside the mapping; the
                // kernel wrote it before posting the completion and writes it again only
                // after `recycle(bid)`, which needs `&mut self` (this borrow has ended).
                unsafe { std::slice::from_raw_parts(br.base.as_ptr().add(start), len) }
            }
            _ => &[],
        }
    }

    /// Gives provided buffer `bid` back to the kernel.
    pub fn recycle(&mut self, bid: u16) {
        if let Some(br) = self.pbuf.as_mut() {
            if bid < br.count {
                br.give(bid);
                br.publish();
            }
        }
    }

    pub fn inflight(&self) -> usize {
        self.inflight.len()
    }

    fn push(&mut self, entry: squeue::Entry) {
        if !self.backlog.is_empty() {
            self.backlog.push(entry);
            return;
        }
        // SAFETY: every entry pushed here points only at memory owned by `self.inflight`
        // (buffers, timespecs and connect addresses moved in by the caller) or at nothing, and that memory is
        // freed only after the matching completion has been reaped.
        let full = unsafe { self.ring.submission().push(&entry) }.is_err();
        if full {
            self.backlog.push(entry);
        }
    }

    fn record(
        &mut self,
        token: u64,
        buf: Option<Vec<u8>>,
        ts: Option<Box<types::Timespec>>,
        multishot: bool,
        fills: bool,
    ) -> u64 {
        self.inflight.insert(Inflight {
            token,
            buf,
            _ts: ts,
            _addr: None,
            multishot,
            fills,
        }) as u64
    }

    /// Multishot accept on a listening socket: one completion per accepted connection.
    pub fn accept_multi(&mut self, fd: RawFd, token: u64) {
        let idx = self.record(token, None, None, true, false);
        let e = opcode::AcceptMulti::new(types::Fd(fd))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(idx);
        self.push(e);
    }

    /// Receives into the spare capacity of `buf` (its length is unchanged until completion).
    /// Returns a handle for `cancel`, valid until the receive's completion is reaped.
    pub fn recv(&mut self, fd: RawFd, token: u64, mut buf: Vec<u8>) -> u64 {
        if buf.capacity() == buf.len() {
            buf.reserve(1);
        }
        let spare = buf.spare_capacity_mut();
        let ptr = spare.as_mut_ptr() as *mut u8;
        let len = spare.len().min(u32::MAX as usize) as u32;
        let idx = self.record(token, Some(buf), None, false, true);
        // The Vec's heap block does not move when the Vec itself moves into the slab, so `ptr`
        // stays valid for as long as the record lives.
        let e = opcode::Recv::new(types::Fd(fd), ptr, len)
            .build()
            .user_data(idx);
        self.push(e);
        idx
    }

    /// Connects the socket `fd` to `addr` (the replica's link to its primary). Completes with
    /// 0 or a negative errno. Returns a handle for `cancel`, valid until the completion is
    /// reaped.
    pub fn connect(
        &mut self,
        fd: RawFd,
        token: u64,
        addr: nix::sys::socket::SockaddrStorage,
    ) -> u64 {
        use nix::sys::socket::SockaddrLike;
        let addr = Box::new(addr);
        let ptr = addr.as_ptr();
        let len = addr.len();
        let idx = self.record(token, None, None, false, false);
        // SAFETY (for the `push` below): the sockaddr's heap block does not move when the box
        // moves into the record, and the record lives until the completion is reaped, so the
        // address stays valid for as long as the kernel may read it (an async connect reads
        // it only when it runs, not at submission).
        self.inflight[idx as usize]._addr = Some(addr);
        let e = opcode::Connect::new(types::Fd(fd), ptr, len)
            .build()
            .user_data(idx);
        self.push(e);
        idx
    }

    /// Asks the kernel to cancel the operation `handle` (whose completion has not been reaped
    /// yet): it then completes with -ECANCELED, returning its buffer, unless it completed
    /// first. The cancel request itself completes with `token`.
    pub fn cancel(&mut self, handle: u64, token: u64) {
        let idx = self.record(token, None, None, false, false);
        let e = opcode::AsyncCancel::new(handle).build().user_data(idx);
        self.push(e);
    }

    /// Reads into the spare capacity of `buf` (signalfd, files).
    pub fn read(&mut self, fd: RawFd, token: u64, mut buf: Vec<u8>) {
        if buf.capacity() == buf.len() {
            buf.reserve(1);
        }
        let spare = buf.spare_capacity_mut();
        let ptr = spare.as_mut_ptr() as *mut u8;
        let len = spare.len().min(u32::MAX as usize) as u32;
        let idx = self.record(token, Some(buf), None, false, true);
        let e = opcode::Read::new(types::Fd(fd), ptr, len)
            .offset(u64::MAX)
            .build()
            .user_data(idx);
        self.push(e);
    }

    /// Sends `buf[offset..]`.
    pub fn send(&mut self, fd: RawFd, token: u64, buf: Vec<u8>, offset: usize) {
        let offset = offset.min(buf.len());
        let ptr = buf[offset..].as_ptr();
        let len = (buf.len() - offset).min(u32::MAX as usize) as u32;
        let idx = self.record(token, Some(buf), None, false, false);
        let e = opcode::Send::new(types::Fd(fd), ptr, len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(idx);
        self.push(e);
    }

    /// fdatasync(2) of the file `fd` (Redis's `redis_fsync` on Linux: data plus the metadata
    /// needed to read it back, such as the size, but not timestamps). The caller keeps `fd`
    /// open until the completion is reaped.
    pub fn fdatasync(&mut self, fd: RawFd, token: u64) {
        let idx = self.record(token, None, None, false, false);
        let e = opcode::Fsync::new(types::Fd(fd))
            .flags(types::FsyncFlags::DATASYNC)
            .build()
            .user_data(idx);
        self.push(e);
    }

    /// A one-shot timer completing with -ETIME after `after`. Returns a handle for
    /// `timeout_remove`, valid until the timer's completion is reaped.
    pub fn timeout(&mut self, token: u64, after: Duration) -> u64 {
        let ts = Box::new(
            types::Timespec::new()
                .sec(after.as_secs())
                .nsec(after.subsec_nanos()),
        );
        let ptr: *const types::Timespec = &*ts;
        let idx = self.record(token, None, Some(ts), false, false);
        let e = opcode::Timeout::new(ptr).build().user_data(idx);
        self.push(e);
        idx
    }

    /// Cancels the timer `handle` (from `timeout`, whose completion has not been reaped yet):
    /// it then completes with -ECANCELED, or the removal with -ENOENT if it already fired.
    /// The removal itself completes with `token`.
    pub fn timeout_remove(&mut self, handle: u64, token: u64) {
        let idx = self.record(token, None, None, false, false);
        let e = opcode::TimeoutRemove::new(handle).build().user_data(idx);
        self.push(e);
    }

    /// Submits everything pushed this turn and waits for at least `want` completions.
    pub fn submit_and_wait(&mut self, want: usize) -> io::Result<()> {
        match self.ring.submit_and_wait(want) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => return Ok(()),
            // The completion queue is full: the caller reaps and comes back.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => return Ok(()),
            Err(e) => return Err(e),
        }
        // Entries that did not fit last time go in now that the queue has been drained by
        // the kernel; they are submitted at the next turn.
        if !self.backlog.is_empty() {
            let pending = std::mem::take(&mut self.backlog);
            // Bounded by the backlog's length.
            for e in pending {
                self.push(e);
            }
        }
        Ok(())
    }

    /// Submits what was pushed, then polls the completion queue for up to `spin` before the
    /// caller sleeps: a busy-poll that trades CPU for the wake-up latency of a sleeping thread.
    /// Returns true when a completion arrived (the caller then must not wait).
    pub fn spin_for_completion(&mut self, spin: Duration) -> io::Result<bool> {
        self.submit_and_wait(0)?;
        let deadline = std::time::Instant::now() + spin;
        // Bounded by `spin`.
        loop {
            if !self.ring.completion().is_empty() {
                return Ok(true);
            }
            if self.ring.submission().taskrun() {
                // Deferred work (a finished receive) runs only inside an enter.
                self.submit_and_wait(0)?;
                continue;
            }
            if std::time::Instant::now() >= deadline {
                return Ok(false);
            }
            std::hint::spin_loop();
        }
    }

    /// Moves every available completion into `out` (a reused buffer: no allocation once warm).
    pub fn reap(&mut self, out: &mut Vec<Completion>) {
        let cq = self.ring.completion();
        for cqe in cq {
            let idx = cqe.user_data() as usize;
            let more = cqueue::more(cqe.flags());
            let result = cqe.result();
            let Some(rec) = self.inflight.get_mut(idx) else {
                continue;
            };
            let bid = cqueue::buffer_select(cqe.flags());
            if rec.multishot && more {
                out.push(Completion {
                    token: rec.token,
                    result,
                    more,
                    buf: None,
                    bid,
                });
                continue;
            }
            let mut rec = self.inflight.remove(idx);
            if let (Some(buf), true) = (rec.buf.as_mut(), rec.fills && result > 0) {
                let new_len = (buf.len() + result as usize).min(buf.capacity());
                // SAFETY: the kernel wrote `result` bytes into the spare capacity starting at
                // the old length (the operation was given exactly that region), so the first
                // `new_len` bytes are initialised.
                unsafe { buf.set_len(new_len) };
            }
            out.push(Completion {
                token: rec.token,
                result,
                more: false,
                buf: rec.buf.take(),
                bid,
            });
        }
    }
}

impl BufRing {
    fn new(count: u16, buf_bytes: usize) -> io::Result<BufRing> {
        if !count.is_power_of_two() || count > 32768 || buf_bytes == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let page = crate::util::page_size();
        let entries_bytes =
            (count as usize * std::mem::size_of::<types::BufRingEntry>()).div_ceil(page) * page;
        let map_bytes = entries_bytes + count as usize * buf_bytes;
        // SAFETY: a new private anonymous mapping; no existing memory is involved.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = std::ptr::NonNull::new(p as *mut u8)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        Ok(BufRing {
            base,
            map_bytes,
            entries_bytes,
            buf_bytes,
            count,
            tail: 0,
        })
    }

    /// Writes buffer `bid` into the next entry (seen by the kernel after `publish`).
    fn give(&mut self, bid: u16) {
        let slot = (self.tail & (self.count - 1)) as usize;
        let addr = self.base.as_ptr() as u64 + self.buf_offset(bid) as u64;
        // SAFETY: `slot` is below `count`, so the entry lies in the mapping's entry pages;
        // the kernel reads entries only up to the published tail, and this one is past it.
        let e = unsafe { &mut *(self.base.as_ptr() as *mut types::BufRingEntry).add(slot) };
        e.set_addr(addr);
        e.set_len(self.buf_bytes as u32);
        e.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Where buffer `bid` starts in the mapping (after the entries' pages).
    fn buf_offset(&self, bid: u16) -> usize {
        self.entries_bytes + bid as usize * self.buf_bytes
    }

    /// Makes the entries given so far visible to the kernel.
    fn publish(&self) {
        // SAFETY: the tail field of the ring's first entry (io_uring's layout), a u16 the
        // kernel reads with acquire ordering; the release store publishes the entries.
        unsafe {
            let tail = types::BufRingEntry::tail(self.base.as_ptr() as *const types::BufRingEntry)
                as *const std::sync::atomic::AtomicU16;
            (*tail).store(self.tail, std::sync::atomic::Ordering::Release);
        }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unused from here on (the ring that read it is
        // closed: `Ring` drops its `IoUring` first).
        unsafe { libc::munmap(self.base.as_ptr() as *mut libc::c_void, self.map_bytes) };
    }
}

/// Takes ownership of a descriptor the kernel returned in an accept completion.
pub fn adopt_fd(fd: RawFd) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: `fd` is the result of a successful accept completion: a new descriptor that
    // nothing else in the process refers to, so this is its only owner.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}

/// Ignores SIGPIPE: sends use MSG_NOSIGNAL, but a stray SIGPIPE must never kill the server.
pub fn ignore_sigpipe() -> nix::Result<()> {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: installing SIG_IGN runs no handler code, so no async-signal-safety concern.
    unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) }.map(|_| ())
}

/// Token layout: `kind:8 | generation:24 | slot:32`.
pub fn token(kind: u8, generation: u32, slot: u32) -> u64 {
    ((kind as u64) << 56) | (((generation & 0xff_ffff) as u64) << 32) | slot as u64
}

pub fn token_kind(t: u64) -> u8 {
    (t >> 56) as u8
}

pub fn token_generation(t: u64) -> u32 {
    ((t >> 32) & 0xff_ffff) as u32
}

pub fn token_slot(t: u64) -> u32 {
    t as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    const K_RECV: u8 = 0x81;
    const K_SEND: u8 = 0x02;

    #[test]
    fn token_roundtrip() {
        let t = token(K_RECV, 0xabcdef, 77);
        assert_eq!(token_kind(t), K_RECV);
        assert_eq!(token_generation(t), 0xabcdef);
        assert_eq!(token_slot(t), 77);
    }

    #[test]
    fn recv_and_send_over_socketpair() {
        let mut ring = Ring::new(64).expect("io_uring available");
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.write_all(b"hello").unwrap();
        ring.recv(b.as_raw_fd(), token(K_RECV, 1, 2), Vec::with_capacity(64));
        ring.send(b.as_raw_fd(), token(K_SEND, 1, 2), b"world!".to_vec(), 1);
        let mut done = Vec::new();
        while done.len() < 2 {
            ring.submit_and_wait(1).unwrap();
            ring.reap(&mut done);
        }
        for c in &done {
            match token_kind(c.token) {
                K_RECV => assert_eq!(c.buf.as_deref(), Some(&b"hello"[..])),
                K_SEND => assert_eq!(c.result, 5),
                k => panic!("unexpected kind {k}"),
            }
        }
        let mut got = [0u8; 5];
        a.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"orld!");
        assert_eq!(ring.inflight(), 0);
    }

    /// Reaps until a completion without `more` arrives; returns the bytes of every
    /// completion (each buffer recycled at once, as the loop does) and that last result.
    fn multishot_until_end(ring: &mut Ring, recycle: bool) -> (Vec<u8>, i32, usize) {
        let mut got = Vec::new();
        let mut completions = 0;
        for _ in 0..100 {
            let mut done = Vec::new();
            ring.submit_and_wait(1).unwrap();
            ring.reap(&mut done);
            for c in done {
                completions += 1;
                if let Some(bid) = c.bid {
                    got.extend_from_slice(ring.provided(bid, c.result.max(0) as usize));
                    if recycle {
                        ring.recycle(bid);
                    }
                }
                if !c.more {
                    return (got, c.result, completions);
                }
            }
        }
        panic!("the multishot receive did not end");
    }

    #[test]
    fn multishot_receive_fills_provided_buffers_and_ends_when_they_run_out() {
        let mut ring = Ring::new(64).expect("io_uring available");
        ring.enable_provided_buffers(4, 8).unwrap();
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = b.as_raw_fd();
        // 40 bytes against 4 buffers of 8: the first 32 arrive, four completions, and the
        // receive ends with ENOBUFS (nothing recycled meanwhile) leaving 8 in the socket.
        let sent: Vec<u8> = (0..40u8).collect();
        a.write_all(&sent).unwrap();
        ring.recv_multishot(fd, token(K_RECV, 1, 2));
        let (got, last, n) = multishot_until_end(&mut ring, false);
        assert_eq!(last, -libc::ENOBUFS);
        assert_eq!(n, 5);
        assert_eq!(got, sent[..32]);
        assert_eq!(ring.inflight(), 0);
        for bid in 0..4 {
            ring.recycle(bid);
        }
        // Armed again: the rest, then more as it comes, each buffer recycled at once; the
        // peer's end of stream ends the receive with 0.
        ring.recv_multishot(fd, token(K_RECV, 1, 2));
        let mut done = Vec::new();
        while done.is_empty() {
            ring.submit_and_wait(1).unwrap();
            ring.reap(&mut done);
        }
        let c = &done[0];
        assert!(c.more && c.result == 8, "{} {}", c.more, c.result);
        assert_eq!(ring.provided(c.bid.unwrap(), 8), &sent[32..]);
        ring.recycle(c.bid.unwrap());
        let more: Vec<u8> = (100..124u8).collect();
        a.write_all(&more).unwrap();
        drop(a);
        let (got, last, _) = multishot_until_end(&mut ring, true);
        assert_eq!(last, 0);
        assert_eq!(got, more);
        assert_eq!(ring.inflight(), 0);
    }

    #[test]
    fn fdatasync_completes_on_the_ring() {
        const K_FSYNC: u8 = 0x04;
        let mut ring = Ring::new(64).expect("io_uring available");
        let path = std::env::temp_dir().join(format!("ringkv-ring-{}", std::process::id()));
        std::fs::write(&path, b"hello").unwrap();
        let f = std::fs::File::open(&path).unwrap();
        ring.fdatasync(f.as_raw_fd(), token(K_FSYNC, 0, 1));
        let mut done = Vec::new();
        while done.is_empty() {
            ring.submit_and_wait(1).unwrap();
            ring.reap(&mut done);
        }
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].token, token(K_FSYNC, 0, 1));
        assert!(done[0].result >= 0, "{}", done[0].result);
        assert_eq!(ring.inflight(), 0);
        drop(f);
        let _ = std::fs::remove_file(&path);
    }
}
