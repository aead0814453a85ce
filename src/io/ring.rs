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
}

pub struct Ring {
    ring: IoUring,
    inflight: Slab<Inflight>,
    /// Operations that did not fit in the submission queue; pushed after the next submit.
    /// Bounded by the number of in-flight records.
    backlog: Vec<squeue::Entry>,
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
        })
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
            if rec.multishot && more {
                out.push(Completion {
                    token: rec.token,
                    result,
                    more,
                    buf: None,
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
            });
        }
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
