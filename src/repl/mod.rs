//! Replication state both sides share: the replication ids and offsets (PSYNC2's history) and
//! the backlog of the replication stream.
//!
//! Every byte of the replication stream this server produces (as a primary, from the journal)
//! or passes on (as a replica, what its primary sent) goes through `ReplState::feed`: it is
//! appended to the backlog and advances `master_repl_offset` by its length, so the offset is
//! always the stream's total length since the id was made. A replica asking for
//! `PSYNC <id> <offset>` can continue (`+CONTINUE`) when `<id>` is the current id, or the
//! previous one (`replid2`) with `<offset>` ≤ `second_repl_offset`, and the backlog still
//! holds every byte from `<offset>` on.
//!
//! Invariants: `backlog_first_offset + backlog.len() == master_repl_offset + 1` while the
//! backlog exists (offsets are Redis's: the first byte of the stream has offset 1);
//! the backlog never holds more than `backlog_size` bytes.

pub mod failover;
pub mod primary;
pub mod replica;

use std::collections::VecDeque;

/// Which side of replication this server is on.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    Primary,
    /// Following `host:port` (REPLICAOF).
    Replica { host: String, port: u16 },
}

pub struct ReplState {
    pub role: Role,
    /// 40 hex characters; a new one is made at start-up and when a replica becomes a primary.
    pub replid: String,
    /// The id this server's history had before (all zeros when none).
    pub replid2: String,
    /// Length of the stream produced or passed on under `replid` (and its predecessors).
    pub master_repl_offset: u64,
    /// Up to which offset `replid2` is valid (-1 when none).
    pub second_repl_offset: i64,
    /// The last `backlog_size` bytes of the stream; None until a replica first needs it.
    backlog: Option<VecDeque<u8>>,
    /// Offset of the backlog's first byte.
    backlog_first_offset: u64,
    /// `repl-backlog-size` in bytes.
    pub backlog_size: usize,
    /// The primary side: attached replicas, the full sync in progress, WAIT (`primary`).
    pub primary: primary::Primary,
    /// A coordinated FAILOVER in progress, if any (`failover`).
    pub failover: failover::Failover,
}

/// All zeros: "no previous id".
pub const NO_REPLID: &str = "0000000000000000000000000000000000000000";

impl ReplState {
    pub fn new(replid: String, backlog_size: usize) -> ReplState {
        ReplState {
            role: Role::Primary,
            replid,
            replid2: NO_REPLID.to_string(),
            master_repl_offset: 0,
            second_repl_offset: -1,
            backlog: None,
            backlog_first_offset: 0,
            backlog_size,
            primary: primary::Primary::default(),
            failover: failover::Failover::default(),
        }
    }

    /// Starts keeping a backlog (the first replica arrived, or this server became a replica).
    pub fn create_backlog(&mut self) {
        if self.backlog.is_none() {
            self.backlog = Some(VecDeque::new());
            self.backlog_first_offset = self.master_repl_offset + 1;
        }
    }

    pub fn has_backlog(&self) -> bool {
        self.backlog.is_some()
    }

    /// Drops the backlog (no replica for `repl-backlog-ttl`).
    pub fn free_backlog(&mut self) {
        self.backlog = None;
    }

    /// Bytes the backlog holds (`repl_backlog_histlen`).
    pub fn backlog_histlen(&self) -> usize {
        self.backlog.as_ref().map_or(0, |b| b.len())
    }

    /// Offset of the backlog's first byte (`repl_backlog_first_byte_offset`).
    pub fn backlog_first_offset(&self) -> u64 {
        self.backlog_first_offset
    }

    /// Appends bytes of the replication stream: to the backlog (if kept), and to the offset.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.master_repl_offset += bytes.len() as u64;
        if let Some(b) = self.backlog.as_mut() {
            b.extend(bytes);
            let over = b.len().saturating_sub(self.backlog_size);
            if over > 0 {
                b.drain(..over);
                self.backlog_first_offset += over as u64;
            }
        }
        debug_assert!(self
            .backlog
            .as_ref()
            .is_none_or(
                |b| self.backlog_first_offset + b.len() as u64 == self.master_repl_offset + 1
            ));
    }

    /// Changes the backlog's size (`CONFIG SET repl-backlog-size`), keeping its newest bytes.
    pub fn resize_backlog(&mut self, size: usize) {
        self.backlog_size = size;
        self.feed(&[]);
    }

    /// The stream from `offset` on (Redis offsets: first byte is 1), if the backlog still
    /// holds all of it: the two halves of the ring, in order.
    pub fn backlog_from(&self, offset: u64) -> Option<(&[u8], &[u8])> {
        let b = self.backlog.as_ref()?;
        if offset < self.backlog_first_offset || offset > self.master_repl_offset + 1 {
            return None;
        }
        let skip = (offset - self.backlog_first_offset) as usize;
        let (a, c) = b.as_slices();
        Some(if skip <= a.len() {
            (&a[skip..], c)
        } else {
            (&c[skip - a.len()..], &[][..])
        })
    }

    /// Whether `PSYNC replid offset` can continue from this server's history.
    pub fn can_continue(&self, replid: &str, offset: u64) -> bool {
        let id_ok = replid == self.replid
            || (replid == self.replid2
                && self.second_repl_offset >= 0
                && offset <= self.second_repl_offset as u64);
        id_ok && self.backlog_from(offset).is_some()
    }

    /// A new history starts here (a replica became a primary): the current id becomes the
    /// previous one, valid up to the current offset + 1, so that replicas of the old primary
    /// can continue with this one.
    pub fn shift_replid(&mut self, new_replid: String) {
        self.replid2 = std::mem::replace(&mut self.replid, new_replid);
        self.second_repl_offset = self.master_repl_offset as i64 + 1;
    }

    /// Forgets the previous id (a full resync replaced this server's history).
    pub fn clear_replid2(&mut self) {
        self.replid2 = NO_REPLID.to_string();
        self.second_repl_offset = -1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_keeps_the_newest_bytes_and_offsets_agree() {
        let mut r = ReplState::new("a".repeat(40), 8);
        r.feed(b"xx");
        assert_eq!(r.master_repl_offset, 2);
        assert!(r.backlog_from(1).is_none(), "no backlog yet");
        r.create_backlog();
        assert_eq!(r.backlog_first_offset(), 3);
        r.feed(b"0123456789");
        assert_eq!(r.master_repl_offset, 12);
        assert_eq!(r.backlog_histlen(), 8);
        assert_eq!(r.backlog_first_offset(), 5);
        assert!(r.backlog_from(4).is_none());
        let (a, b) = r.backlog_from(7).unwrap();
        assert_eq!([a, b].concat(), b"456789");
        let (a, b) = r.backlog_from(13).unwrap();
        assert!(a.is_empty() && b.is_empty());
        assert!(r.backlog_from(14).is_none());
    }

    #[test]
    fn psync2_continues_on_the_previous_id_up_to_the_switch() {
        let mut r = ReplState::new("a".repeat(40), 100);
        r.create_backlog();
        r.feed(b"hello");
        r.shift_replid("b".repeat(40));
        r.feed(b"world");
        assert!(r.can_continue(&"a".repeat(40), 6));
        assert!(!r.can_continue(&"a".repeat(40), 7));
        assert!(r.can_continue(&"b".repeat(40), 11));
        assert!(!r.can_continue(&"c".repeat(40), 1));
    }
}
