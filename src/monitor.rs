//! The clients in MONITOR mode, and the line buffer their feed is built in (the commands
//! and the feed are in `cmd::monitor`).
//!
//! A monitor is named by (slot, generation), so that a closed connection whose slot was
//! reused is never fed: `cmd::monitor::feed` drops such stale entries as it meets them, and
//! `Server::close` removes a closing monitor at once. Invariants: no slot appears twice, and
//! every live entry's connection has `Conn::monitor` set.

#[derive(Default)]
pub struct Monitors {
    list: Vec<(usize, u32)>,
    /// Reused by the feed for the line it sends every monitor.
    pub(crate) line: Vec<u8>,
}

impl Monitors {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Adds a monitor (no effect if it is one already).
    pub fn add(&mut self, slot: usize, generation: u32) {
        if !self.list.iter().any(|&(s, _)| s == slot) {
            self.list.push((slot, generation));
        }
        debug_assert!(self.check_invariants());
    }

    pub fn remove(&mut self, slot: usize) {
        self.list.retain(|&(s, _)| s != slot);
    }

    /// The monitors, as (slot, generation).
    pub fn entries(&self) -> &[(usize, u32)] {
        &self.list
    }

    pub fn check_invariants(&self) -> bool {
        self.list
            .iter()
            .enumerate()
            .all(|(i, a)| self.list[i + 1..].iter().all(|b| b.0 != a.0))
    }
}
