//! The pause state: what is paused (writes, or every command) until when, for each purpose
//! that pauses (a user's CLIENT PAUSE, a FAILOVER under way), and the clients whose command
//! waits for the pause to end, in the order they arrived (the commands are in `cmd::pause`).
//!
//! As Redis 7.0's pause purposes, each purpose has its own kind and end, and what applies is
//! the strongest kind and the latest end among them: CLIENT UNPAUSE ends only the user's
//! pause, and a failover's or a shutdown's pause (writes, with no end) only ends with it.
//!
//! Invariants: `kind` and `end_ms` are always the strongest kind and the latest end of the
//! purposes; `kind` is `Off` exactly when `end_ms` is 0; a client is in `waiting` at most
//! once (a postponed client runs no further command until it is resumed), so the queue is
//! bounded by the number of connections; `waiting` is empty while nothing is paused.

use std::collections::VecDeque;

/// What is paused, in increasing strength: a later pause can only strengthen it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub enum PauseKind {
    #[default]
    Off,
    /// Commands that write or may replicate wait; reads are served.
    Write,
    /// Every command of a normal client waits.
    All,
}

#[derive(Default)]
pub struct Pause {
    /// What applies: the strongest of the purposes' kinds.
    pub kind: PauseKind,
    /// Unix ms at which the pause ends (0: not paused; u64::MAX: at the failover's end).
    pub end_ms: u64,
    /// CLIENT PAUSE's kind and end (unix ms).
    client: (PauseKind, u64),
    /// A FAILOVER pauses writes until it succeeds or is aborted.
    failover: bool,
    /// A SHUTDOWN waiting for its replicas pauses writes until it ends or is aborted.
    shutdown: bool,
    /// Postponed clients (slot, generation), oldest first.
    waiting: VecDeque<(usize, u32)>,
}

impl Pause {
    #[inline]
    pub fn active(&self) -> bool {
        self.kind != PauseKind::Off
    }

    /// CLIENT PAUSE: pauses until `end_ms` (or longer, if a pause already runs past it) with
    /// at least `kind`, as Redis's `pauseClients`.
    pub fn start(&mut self, end_ms: u64, kind: PauseKind) {
        debug_assert!(kind != PauseKind::Off);
        self.client.0 = self.client.0.max(kind);
        self.client.1 = self.client.1.max(end_ms.max(1));
        self.update();
    }

    /// Ends the user's pause (CLIENT UNPAUSE, or its time passed). Returns the postponed
    /// clients, oldest first, when what applies got weaker (they run again, and those still
    /// paused wait anew); none otherwise.
    pub fn end(&mut self) -> VecDeque<(usize, u32)> {
        self.client = (PauseKind::Off, 0);
        self.update()
    }

    /// A FAILOVER starts: writes wait until [`Pause::end_failover`].
    pub fn start_failover(&mut self) {
        self.failover = true;
        self.update();
    }

    /// The failover ended (done or aborted); returned as [`Pause::end`].
    pub fn end_failover(&mut self) -> VecDeque<(usize, u32)> {
        self.failover = false;
        self.update()
    }

    /// A SHUTDOWN waits for its replicas: writes wait until [`Pause::end_shutdown`].
    pub fn start_shutdown(&mut self) {
        self.shutdown = true;
        self.update();
    }

    /// The shutdown wait ended (aborted or failed); returned as [`Pause::end`].
    pub fn end_shutdown(&mut self) -> VecDeque<(usize, u32)> {
        self.shutdown = false;
        self.update()
    }

    /// Whether a FAILOVER's pause is on.
    pub fn failover(&self) -> bool {
        self.failover
    }

    /// Recomputes what applies; the waiting clients when it got weaker.
    fn update(&mut self) -> VecDeque<(usize, u32)> {
        let before = self.kind;
        let (mut kind, mut end_ms) = self.client;
        if self.failover || self.shutdown {
            kind = kind.max(PauseKind::Write);
            end_ms = u64::MAX;
        }
        self.kind = kind;
        self.end_ms = if kind == PauseKind::Off { 0 } else { end_ms };
        let w = if kind < before {
            std::mem::take(&mut self.waiting)
        } else {
            VecDeque::new()
        };
        self.check_invariants();
        w
    }

    pub fn postpone(&mut self, slot: usize, generation: u32) {
        debug_assert!(self.active());
        debug_assert!(!self.waiting.iter().any(|&(s, _)| s == slot));
        self.waiting.push_back((slot, generation));
    }

    /// A closing connection leaves the queue.
    pub fn forget(&mut self, slot: usize) {
        self.waiting.retain(|&(s, _)| s != slot);
    }

    pub fn waiting_len(&self) -> usize {
        self.waiting.len()
    }

    pub fn check_invariants(&self) {
        debug_assert_eq!(self.kind == PauseKind::Off, self.end_ms == 0);
        debug_assert!(self.active() || self.waiting.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_pause_extends_and_strengthens_but_never_shortens_or_weakens() {
        let mut p = Pause::default();
        p.start(1000, PauseKind::All);
        p.start(500, PauseKind::Write);
        assert_eq!((p.kind, p.end_ms), (PauseKind::All, 1000));
        p.start(2000, PauseKind::Write);
        assert_eq!((p.kind, p.end_ms), (PauseKind::All, 2000));
        p.postpone(3, 1);
        p.postpone(1, 1);
        p.forget(3);
        let w = p.end();
        assert_eq!(w, VecDeque::from(vec![(1, 1)]));
        assert!(!p.active());
    }

    #[test]
    fn client_unpause_leaves_the_failover_pause_on() {
        let mut p = Pause::default();
        p.start_failover();
        assert_eq!((p.kind, p.end_ms), (PauseKind::Write, u64::MAX));
        p.start(1000, PauseKind::All);
        assert_eq!((p.kind, p.end_ms), (PauseKind::All, u64::MAX));
        p.postpone(7, 2);
        // Weaker (ALL to WRITE): the waiting client runs again (and may wait anew).
        assert_eq!(p.end(), VecDeque::from(vec![(7, 2)]));
        assert_eq!((p.kind, p.end_ms), (PauseKind::Write, u64::MAX));
        p.postpone(7, 2);
        // Not weaker: nobody runs.
        assert!(p.end().is_empty());
        assert!(p.failover());
        assert_eq!(p.end_failover(), VecDeque::from(vec![(7, 2)]));
        assert!(!p.active());
    }
}
