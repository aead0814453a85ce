//! The few epoll calls the load generators need (examples/pubsub_load.rs,
//! examples/pipe_load.rs): nix's epoll is behind a feature this crate does not enable. The set
//! owns its descriptor and closes it when dropped.

use std::io::ErrorKind;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// An epoll set watching sockets for input (level-triggered).
pub struct Epoll(OwnedFd);

impl Epoll {
    pub fn new() -> Result<Self, String> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a new descriptor
        // that nothing else owns.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(format!(
                "epoll_create1: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: `fd` was just returned by epoll_create1 and is owned only here.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64) -> Result<(), String> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `ev` is a valid epoll_event for the duration of the call; the kernel copies
        // it and keeps no pointer.
        if unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &raw mut ev) } < 0 {
            return Err(format!("epoll_ctl: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Waits for events; returns how many of `events` were filled (0 on timeout or EINTR).
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> Result<usize, String> {
        let max = libc::c_int::try_from(events.len()).unwrap_or(libc::c_int::MAX);
        // SAFETY: the kernel writes at most `max` events into `events`, which has room for
        // `events.len()` of them.
        let n =
            unsafe { libc::epoll_wait(self.0.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(format!("epoll_wait: {e}"));
        }
        Ok(n as usize)
    }
}
