//! CLIENT PAUSE's state: what is paused (writes, or every command) until when, and the
//! clients whose command waits for the pause to end, in the order they arrived (the commands
//! are in `cmd::pause`).
//!
//! Invariants: `kind` is `Off` exactly when `end_ms` is 0; a client is in `waiting` at most
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
    pub kind: PauseKind,
    /// Unix ms at which the pause ends (0: not paused).
    pub end_ms: u64,
    /// Postponed clients (slot, generation), oldest first.
    waiting: VecDeque<(usize, u32)>,
}

impl Pause {
    #[inline]
    pub fn active(&self) -> bool {
        self.kind != PauseKind::Off
    }

    /// Pauses until `end_ms` (or longer, if a pause already runs past it) with at least
    /// `kind`, as Redis's `pauseClients`.
    pub fn start(&mut self, end_ms: u64, kind: PauseKind) {
        debug_assert!(kind != PauseKind::Off);
        self.kind = self.kind.max(kind);
        self.end_ms = self.end_ms.max(end_ms.max(1));
        self.check_invariants();
    }

    /// Ends the pause; returns the postponed clients, oldest first.
    pub fn end(&mut self) -> VecDeque<(usize, u32)> {
        self.kind = PauseKind::Off;
        self.end_ms = 0;
        let w = std::mem::take(&mut self.waiting);
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
}
