//! Key-level copy-on-write for point-in-time snapshots taken in slices: BGSAVE
//! (`persist::rdb_snapshot`) and the AOF rewrite (`persist::aof`) both walk it, one at a
//! time (there is one log per `Db`; the persistence code keeps them from overlapping).
//!
//! A snapshot of a `Db` started at `start_ms` must see every key as it was then, while
//! commands keep changing the database between slices. The `Db` calls [`Db::cow_before_change`]
//! before it changes or deletes an entry, and [`Db::cow_before_set`] before it writes a key:
//! the first change of a key the snapshot has not emitted yet saves a copy of the old value
//! (with its deadline) in `saved`; a key created after the start is marked so the walk skips
//! it. `handled` holds every key already emitted, saved or created, so each key is emitted
//! exactly once even though a table walk may meet a key twice across a resize. The first
//! FLUSHDB during the snapshot moves the whole table into `retired` instead of freeing it, and
//! the walk finishes it from there; the live table then holds only keys created after the
//! start, so the hooks stop copying and the walk skips it (a later FLUSHDB frees it as usual).
//!
//! ```text
//! step: drain saved ─► walk live table by SCAN cursor ─► walk retired tables ─► done
//!       emit(key, value, deadline) for keys live at start_ms and not in `handled`
//! ```
//! Invariants: a key is emitted at most once (membership in `handled` is checked and set
//! together); a key whose deadline is before `start_ms` was already expired at the start and
//! is never emitted; nothing here changes what commands see.

use std::collections::HashSet;

use super::expire::{HeapSlot, TtlHeap, NO_HEAP_INDEX};
use super::value::Value;
use super::{Db, EntryPtr};
use crate::ds::dict::Dict;

/// Saved copies whose room the log keeps after emitting them.
const SAVED_KEEP: usize = 64;

/// The copy-on-write state of one database while a snapshot of it is in progress.
pub struct CowLog {
    /// The database index the snapshot records this data under (SWAPDB moves the log along
    /// with the data, so the index stays that of the data at the start).
    db_index: usize,
    start_ms: u64,
    handled: HashSet<Box<[u8]>>,
    saved: Vec<(Box<[u8]>, Value, Option<u64>)>,
    /// Bytes `handled` and `saved` took from the allocator (measured around each change:
    /// the key boxes, the copies, the set's and the vector's growth), for `Db::cow_bytes`.
    handled_bytes: usize,
    saved_bytes: usize,
    retired: Vec<Db>,
    cursor: u64,
    live_done: bool,
    retired_cursor: u64,
    /// Set by the first FLUSHDB during the snapshot: every key in the live table was created
    /// after the start, so changes to it need no copies and the walk skips it.
    live_is_post_start: bool,
}

impl Db {
    /// Starts recording copy-on-write data for a snapshot of this database as of `start_ms`,
    /// under index `db_index`. Replaces any snapshot in progress.
    pub fn snapshot_begin(&mut self, db_index: usize, start_ms: u64) {
        self.cow = Some(Box::new(CowLog {
            db_index,
            start_ms,
            handled: HashSet::new(),
            saved: Vec::new(),
            handled_bytes: 0,
            saved_bytes: 0,
            retired: Vec::new(),
            cursor: 0,
            live_done: false,
            retired_cursor: 0,
            live_is_post_start: false,
        }));
    }

    /// Stops recording and frees what was kept for the snapshot.
    pub fn snapshot_end(&mut self) {
        self.cow = None;
    }

    /// Sizes the snapshot's set of handled keys for every key the database holds now, so
    /// that it does not grow in the middle of the walk: each growth re-hashes every key so
    /// far in one go, which for a million keys holds the loop for tens of milliseconds
    /// (replication's full sync calls this after `snapshot_begin`).
    pub fn snapshot_reserve(&mut self) {
        let n = self.len();
        if let Some(log) = self.cow.as_mut() {
            let before = crate::alloc::allocated();
            log.handled.reserve(n);
            log.handled_bytes += crate::alloc::allocated().saturating_sub(before);
        }
    }

    /// Stops recording like `snapshot_end`, but hands back the set of handled keys (one
    /// allocation per key of the snapshot) for the caller to free off the loop: freeing a
    /// million of them takes tens of milliseconds (replication's full sync gives them to
    /// the lazy-free thread).
    pub fn snapshot_end_keys(&mut self) -> HashSet<Box<[u8]>> {
        let keys = self
            .cow
            .as_mut()
            .map(|log| std::mem::take(&mut log.handled))
            .unwrap_or_default();
        self.cow = None;
        keys
    }

    pub fn snapshot_active(&self) -> bool {
        self.cow.is_some()
    }

    /// Memory the snapshot in progress holds beyond the live data: the set of handled keys
    /// and the saved copies. Eviction does not count it against maxmemory (it is gone when
    /// the snapshot ends, as a fork's copied pages are). A table retired by FLUSHDB during
    /// the snapshot is not included: it stays counted until the walk frees it.
    pub fn cow_bytes(&self) -> usize {
        self.cow
            .as_ref()
            .map_or(0, |log| log.handled_bytes + log.saved_bytes)
    }

    /// Emits up to about `budget` keys of the snapshot through `emit(db_index, key, value,
    /// deadline)`; returns true when every key of the snapshot has been emitted.
    pub fn snapshot_step(
        &mut self,
        budget: usize,
        mut emit: impl FnMut(usize, &[u8], &Value, Option<u64>),
    ) -> bool {
        let Some(log) = self.cow.as_mut() else {
            return true;
        };
        let CowLog {
            db_index,
            start_ms,
            handled,
            saved,
            handled_bytes,
            saved_bytes,
            retired,
            cursor,
            live_done,
            retired_cursor,
            live_is_post_start: _,
        } = &mut **log;
        let (idx, start_ms) = (*db_index, *start_ms);
        // Expired means now > deadline (see the keyspace module doc).
        let live_at_start = |d: Option<u64>| d.is_none_or(|d| start_ms <= d);
        // Work counts emitted keys and visited buckets, so a step is bounded even when the
        // buckets it visits hold only keys already handled.
        let mut done = 0usize;
        for (k, v, d) in saved.drain(..) {
            emit(idx, &k, &v, d);
            done += 1;
        }
        // The copies are gone; what stays is the vector's capacity, kept small.
        saved.shrink_to(SAVED_KEEP);
        *saved_bytes = saved.capacity() * std::mem::size_of::<(Box<[u8]>, Value, Option<u64>)>();
        let mut walk =
            |dict: &Dict<Value>, heap: &TtlHeap<EntryPtr>, cursor: u64, done: &mut usize| {
                dict.scan_entries(cursor, |e: EntryPtr| {
                    let hi = e.heap_index();
                    let deadline = (hi != NO_HEAP_INDEX).then(|| heap.deadline(hi));
                    let key = dict.key(e);
                    if live_at_start(deadline) && !handled.contains(key) {
                        let before = crate::alloc::allocated();
                        handled.insert(key.into());
                        *handled_bytes += crate::alloc::allocated().saturating_sub(before);
                        emit(idx, key, dict.value(e), deadline);
                        *done += 1;
                    }
                })
            };
        while !*live_done && done < budget {
            *cursor = walk(&self.dict, &self.heap, *cursor, &mut done);
            done += 1;
            if *cursor == 0 {
                *live_done = true;
            }
        }
        while done < budget {
            let Some(old) = retired.last() else {
                break;
            };
            *retired_cursor = walk(&old.dict, &old.heap, *retired_cursor, &mut done);
            done += 1;
            if *retired_cursor == 0 {
                // Dropped on the loop thread; large values go to lazy free as usual.
                drop(retired.pop());
            }
        }
        *live_done && retired.is_empty() && saved.is_empty()
    }

    /// Before an entry's value or deadline changes, or it is deleted: the first time, keep a
    /// copy of what the snapshot must see.
    pub(super) fn cow_before_change(&mut self, e: EntryPtr) {
        let Some(log) = self.cow.as_mut() else {
            return;
        };
        if log.live_is_post_start {
            return;
        }
        let key = self.dict.key(e);
        if log.handled.contains(key) {
            return;
        }
        let hi = e.heap_index();
        let deadline = (hi != NO_HEAP_INDEX).then(|| self.heap.deadline(hi));
        let before = crate::alloc::allocated();
        log.handled.insert(key.into());
        log.handled_bytes += crate::alloc::allocated().saturating_sub(before);
        if deadline.is_none_or(|d| log.start_ms <= d) {
            let before = crate::alloc::allocated();
            let copy = self.dict.value(e).clone();
            log.saved.push((key.into(), copy, deadline));
            log.saved_bytes += crate::alloc::allocated().saturating_sub(before);
        }
    }

    /// Before `key` is written: an existing entry is saved as above; a new key is marked so
    /// the walk leaves it out.
    pub(super) fn cow_before_set(&mut self, key: &[u8]) {
        if self.cow.as_ref().is_none_or(|log| log.live_is_post_start) {
            return;
        }
        match self.dict.find(key) {
            Some(e) => self.cow_before_change(e),
            None => {
                if let Some(log) = self.cow.as_mut() {
                    let before = crate::alloc::allocated();
                    log.handled.insert(key.into());
                    log.handled_bytes += crate::alloc::allocated().saturating_sub(before);
                }
            }
        }
    }

    /// FLUSHDB during a snapshot: the old table goes to the log (the walk finishes it) and
    /// the caller gets an empty `Db` to drop. None when no snapshot is in progress.
    pub(super) fn cow_retire(&mut self, empty_seed: u64) -> Option<Db> {
        let log = self.cow.as_mut()?;
        if log.live_is_post_start {
            // Only keys created after the start: nothing of the snapshot to keep.
            return None;
        }
        log.live_is_post_start = true;
        log.live_done = true;
        let old = Db {
            dict: std::mem::replace(&mut self.dict, super::keyspace_dict()),
            heap: std::mem::take(&mut self.heap),
            access: self.access,
            rng_state: empty_seed,
            expired_keys: 0,
            log_expired: false,
            expiry_paused: false,
            expired_log: Vec::new(),
            keep_expired: false,
            keys_created: 0,
            cow: None,
            sample_buf: Vec::new(),
            sample_cursor: 0,
        };
        log.retired.push(old);
        Some(Db {
            dict: super::keyspace_dict(),
            heap: Default::default(),
            access: self.access,
            rng_state: empty_seed,
            expired_keys: 0,
            log_expired: false,
            expiry_paused: false,
            expired_log: Vec::new(),
            keep_expired: false,
            keys_created: 0,
            cow: None,
            sample_buf: Vec::new(),
            sample_cursor: 0,
        })
    }
}
