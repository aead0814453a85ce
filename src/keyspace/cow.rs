//! Key-level copy-on-write for point-in-time snapshots taken in slices: BGSAVE
//! (`persist::rdb_snapshot`), the AOF rewrite (`persist::aof`) and replication's full sync
//! (`repl::primary`) walk it, one at a time (there is one log per `Db`; the callers keep
//! them from overlapping).
//!
//! A snapshot of a `Db` must see every key as it was when the snapshot began, while
//! commands keep changing the database between slices. The `Db` calls [`Db::cow_before_change`]
//! before it changes or deletes an entry, and [`Db::cow_before_set`] before it writes a key:
//! the first change of a key the snapshot has not emitted yet saves a copy of the old value
//! (with its deadline) in `saved`. The first FLUSHDB during the snapshot moves the whole table
//! into `retired` instead of freeing it, and the walk finishes it from there; the live table
//! then holds only keys created after the start, so the hooks stop copying and the walk skips
//! it (a later FLUSHDB frees it as usual).
//!
//! ```text
//! step: drain saved ─► walk live table by SCAN cursor ─► walk retired tables ─► done
//!       emit(key, value, deadline) for unhandled entries, marking them
//! ```
//!
//! Which entries are handled — emitted, saved, or created after the start — is a mark in
//! each entry, not a set of keys (a copy of every key, which for a million keys was most of
//! a full sync's extra memory): the 3 alignment bits of the dict entry's chain link
//! (`ds::dict`, `MARK_BITS`), so it costs no memory. Each snapshot has a generation `gen`
//! (mod 8); an entry is handled iff its mark equals `gen`. The dict gives new entries its
//! `new_mark`, which is the current snapshot's `gen` while one runs and the last one's after
//! it (so a new entry is handled by a snapshot in progress and not by the next); the walk
//! marks every entry it visits and emits those it marks; the hooks mark an entry when they
//! save it. A deleted entry is gone with its mark: a key re-created after that is a new
//! entry, created after the start. A key the walk meets twice across a resize is emitted once,
//! as its first visit marked it.
//!
//! Why a stale mark never looks current: `Db::snapshot_floor_gen` is a generation `F` such
//! that every mark lies in the cyclic range F, F+1, …, G (mod 8), G being the dict's
//! `new_mark`. It holds at the start (all marks and G are 0); new entries and the hooks and
//! walk write G; a complete walk leaves every entry marked G (each entry present at the
//! start was visited or changed, each later one was created with G), and then F becomes G.
//! A snapshot that ends early (a replica went away, a failed write) leaves F where it was.
//! The next snapshot takes G+1, which lies outside the range unless G+1 ≡ F, i.e. after
//! seven snapshots in a row ended early: then it first sets every mark to G (an O(n) pass,
//! the one stall this scheme has, and a rare one) and F = G. Every `Dict` the keyspace swaps
//! in (FLUSHDB) starts with the old one's `new_mark`, so the range stays true of it.
//!
//! The walk goes a batch of up to 16 buckets at a time (`Dict::scan_entries_batch`, which
//! loads them and their first entries together), counting buckets and keys against the step's
//! budget.
//!
//! Invariants: a key is emitted at most once (an entry's mark is checked and set together; a
//! key has one entry at a time, but for a key re-created after FLUSHDB moved its entry to
//! `retired`, whose new entry is created marked); every key stored at the start is emitted,
//! one past its deadline but not reaped yet too (a fork's snapshot, Redis's, has it, and a
//! replica keeps it until the primary's DEL); nothing here changes what commands see.

use super::expire::{HeapSlot, TtlHeap, NO_HEAP_INDEX};
use super::value::Value;
use super::{Db, EntryPtr};
use crate::ds::dict::{Dict, MARK_BITS};

/// Saved copies whose room the log keeps after emitting them.
const SAVED_KEEP: usize = 64;

/// The generation after `gen`, mod 2^MARK_BITS.
fn next_gen(gen: u8) -> u8 {
    gen.wrapping_add(1) & ((1 << MARK_BITS) - 1)
}

/// The copy-on-write state of one database while a snapshot of it is in progress.
pub struct CowLog {
    /// The database index the snapshot records this data under (SWAPDB moves the log along
    /// with the data, so the index stays that of the data at the start).
    db_index: usize,
    /// This snapshot's generation: an entry is handled iff its mark equals it.
    gen: u8,
    saved: Vec<(Box<[u8]>, Value, Option<u64>)>,
    /// Bytes `saved` took from the allocator (measured around each copy: the key box, the
    /// value's copy and the vector's growth), for `Db::cow_bytes`.
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
    /// Starts recording copy-on-write data for a snapshot of this database as of now, under
    /// index `db_index`. Replaces any snapshot in progress.
    pub fn snapshot_begin(&mut self, db_index: usize) {
        let last = self.dict.new_mark();
        let gen = next_gen(last);
        if gen == self.snapshot_floor_gen {
            // Seven snapshots in a row ended early: a mark may still hold `gen` (module doc).
            self.dict.set_every_mark(last);
            self.snapshot_floor_gen = last;
        }
        self.dict.set_new_mark(gen);
        self.cow = Some(Box::new(CowLog {
            db_index,
            gen,
            saved: Vec::new(),
            saved_bytes: 0,
            retired: Vec::new(),
            cursor: 0,
            live_done: false,
            retired_cursor: 0,
            live_is_post_start: false,
        }));
    }

    /// Stops recording and frees what was kept for the snapshot. The marks stay: they are
    /// stale for the next snapshot (module doc).
    pub fn snapshot_end(&mut self) {
        self.cow = None;
    }

    pub fn snapshot_active(&self) -> bool {
        self.cow.is_some()
    }

    /// Memory the snapshot in progress holds beyond the live data: the saved copies. Eviction
    /// does not count it against maxmemory (it is gone when the snapshot ends, as a fork's
    /// copied pages are). A table retired by FLUSHDB during the snapshot is not included: it
    /// stays counted until the walk frees it.
    pub fn cow_bytes(&self) -> usize {
        self.cow.as_ref().map_or(0, |log| log.saved_bytes)
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
            gen,
            saved,
            saved_bytes,
            retired,
            cursor,
            live_done,
            retired_cursor,
            live_is_post_start: _,
        } = &mut **log;
        let (idx, gen) = (*db_index, *gen);
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
                // At most the budget left in buckets, so that small budgets stay small.
                let max_buckets = budget.saturating_sub(*done);
                let (next, buckets) =
                    dict.scan_entries_batch(cursor, max_buckets, |e: EntryPtr| {
                        if e.mark() == gen {
                            return;
                        }
                        e.set_mark(gen);
                        let hi = e.heap_index();
                        let deadline = (hi != NO_HEAP_INDEX).then(|| heap.deadline(hi));
                        emit(idx, dict.key(e), dict.value(e), deadline);
                        *done += 1;
                    });
                *done += buckets;
                next
            };
        while !*live_done && done < budget {
            *cursor = walk(&self.dict, &self.heap, *cursor, &mut done);
            if *cursor == 0 {
                *live_done = true;
            }
        }
        while done < budget {
            let Some(old) = retired.last() else {
                break;
            };
            *retired_cursor = walk(&old.dict, &old.heap, *retired_cursor, &mut done);
            if *retired_cursor == 0 {
                // Dropped on the loop thread; large values go to lazy free as usual.
                drop(retired.pop());
            }
        }
        let complete = *live_done && retired.is_empty() && saved.is_empty();
        if complete {
            // Every entry of the live table is marked `gen` now.
            self.snapshot_floor_gen = gen;
        }
        complete
    }

    /// Before an entry's value or deadline changes, or it is deleted: the first time, keep a
    /// copy of what the snapshot must see.
    pub(super) fn cow_before_change(&mut self, e: EntryPtr) {
        let Some(log) = self.cow.as_mut() else {
            return;
        };
        if e.mark() == log.gen {
            return;
        }
        e.set_mark(log.gen);
        let hi = e.heap_index();
        let deadline = (hi != NO_HEAP_INDEX).then(|| self.heap.deadline(hi));
        let before = crate::alloc::allocated();
        let copy = self.dict.value(e).clone();
        log.saved.push((self.dict.key(e).into(), copy, deadline));
        log.saved_bytes += crate::alloc::allocated().saturating_sub(before);
    }

    /// Before `key` is written: an existing entry is saved as above; a new one will be
    /// created with the snapshot's mark, so the walk leaves it out.
    pub(super) fn cow_before_set(&mut self, key: &[u8]) {
        if self.cow.as_ref().is_none_or(|log| log.live_is_post_start) {
            return;
        }
        if let Some(e) = self.dict.find(key) {
            self.cow_before_change(e);
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
        let mark = self.dict.new_mark();
        let old = Db {
            dict: std::mem::replace(&mut self.dict, super::keyspace_dict(mark)),
            heap: std::mem::take(&mut self.heap),
            access: self.access,
            rng_state: empty_seed,
            expired_keys: 0,
            lazy_expire: self.lazy_expire,
            log_expired: false,
            expiry_paused: false,
            expired_log: Vec::new(),
            keep_expired: false,
            keys_created: 0,
            cow: None,
            snapshot_floor_gen: self.snapshot_floor_gen,
            sample_buf: Vec::new(),
            sample_cursor: 0,
        };
        log.retired.push(old);
        Some(Db {
            dict: super::keyspace_dict(mark),
            heap: Default::default(),
            access: self.access,
            rng_state: empty_seed,
            expired_keys: 0,
            lazy_expire: self.lazy_expire,
            log_expired: false,
            expiry_paused: false,
            expired_log: Vec::new(),
            keep_expired: false,
            keys_created: 0,
            cow: None,
            snapshot_floor_gen: mark,
            sample_buf: Vec::new(),
            sample_cursor: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::{BTreeMap, HashMap};
    use std::time::Instant;

    /// Key → (value, deadline), as a snapshot emits them.
    type State = BTreeMap<Vec<u8>, (i64, Option<u64>)>;
    type Emitted = HashMap<Vec<u8>, (i64, Option<u64>)>;

    const T0_MS: u64 = 1_700_000_000_000;

    fn int(v: &Value) -> i64 {
        match v {
            Value::Int(i) => *i,
            _ => panic!("the model stores integers only"),
        }
    }

    /// What a snapshot started now must emit: every key stored now (past its deadline too),
    /// with its deadline.
    fn state(db: &Db) -> State {
        let mut s = State::new();
        db.for_each_with_expiry(|k, v, d| {
            s.insert(k.to_vec(), (int(v), d));
        });
        s
    }

    fn key(rng: &mut StdRng, space: u32) -> Vec<u8> {
        format!("k{}", rng.gen_range(0..space)).into_bytes()
    }

    /// One random command-like change to one of `dbs`.
    fn random_op(dbs: &mut [Db; 2], rng: &mut StdRng, now_ms: &mut u64, counter: &mut i64) {
        let i = rng.gen_range(0..2);
        let space = 400;
        *counter += 1;
        let c = *counter;
        let k = key(rng, space);
        match rng.gen_range(0..100) {
            0..=29 => {
                let keep_ttl = rng.gen_bool(0.3);
                dbs[i].set(&k, Value::Int(c), *now_ms, keep_ttl);
            }
            30..=39 => {
                dbs[i].remove(&k, *now_ms);
            }
            40..=49 => {
                // Deadlines around now: some keys are expired at the next snapshot's start.
                let d = (*now_ms + rng.gen_range(0..400)).saturating_sub(100);
                dbs[i].set_expire_at_ms(&k, d, *now_ms);
            }
            50..=54 => {
                dbs[i].persist(&k, *now_ms);
            }
            55..=62 => {
                if let Some(v) = dbs[i].get_mut(&k, *now_ms) {
                    *v = Value::Int(c);
                }
            }
            63..=67 => {
                // RENAME to another key of the same database.
                if let Some((v, d)) = dbs[i].take(&k, *now_ms) {
                    let to = key(rng, space);
                    dbs[i].set(&to, v, *now_ms, false);
                    if let Some(d) = d {
                        dbs[i].set_expire_at_ms(&to, d, *now_ms);
                    }
                }
            }
            68..=71 => {
                // MOVE to the other database when the key is absent there.
                let j = 1 - i;
                if !dbs[j].contains(&k, *now_ms) {
                    if let Some((v, d)) = dbs[i].take(&k, *now_ms) {
                        dbs[j].set(&k, v, *now_ms, false);
                        if let Some(d) = d {
                            dbs[j].set_expire_at_ms(&k, d, *now_ms);
                        }
                    }
                }
            }
            72..=75 => {
                dbs[i].active_expire(
                    *now_ms,
                    20,
                    Instant::now() + std::time::Duration::from_secs(5),
                );
            }
            76..=78 => {
                dbs[i].evict(&k);
            }
            79..=85 => {
                *now_ms += rng.gen_range(0..30);
            }
            86..=88 => {
                // A burst of new keys or deletions: the table grows or shrinks mid-walk.
                let add = rng.gen_bool(0.5);
                for _ in 0..300 {
                    let k = format!("b{}", rng.gen_range(0..2000)).into_bytes();
                    if add {
                        dbs[i].set(&k, Value::Int(c), *now_ms, false);
                    } else {
                        dbs[i].remove(&k, *now_ms);
                    }
                }
            }
            89..=91 => {
                dbs[i].get(&k, *now_ms);
            }
            92 => {
                // SWAPDB: the data moves with its log.
                dbs.swap(0, 1);
            }
            93 => {
                if rng.gen_bool(0.3) {
                    drop(dbs[i].take_all());
                }
            }
            _ => {
                dbs[i].rehash_idle(std::time::Duration::from_micros(50));
            }
        }
    }

    /// Random changes interleaved with snapshot steps: a complete snapshot emits exactly the
    /// keyspace of its start, each key once; snapshots that end early (several in a row, so
    /// the generation wraps) or are replaced leave no mark that hides a key from a later one.
    fn run_model(seed: u64, rounds: usize) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut dbs = [Db::new(), Db::new()];
        let mut now_ms = T0_MS;
        let mut counter = 0i64;
        let mut complete = 0;
        for _ in 0..rounds {
            for _ in 0..rng.gen_range(0..200) {
                random_op(&mut dbs, &mut rng, &mut now_ms, &mut counter);
            }
            let start = [state(&dbs[0]), state(&dbs[1])];
            for (i, db) in dbs.iter_mut().enumerate() {
                db.snapshot_begin(i);
            }
            // Most snapshots end early, so runs of more than seven happen.
            let abort_after = rng.gen_bool(0.6).then(|| rng.gen_range(0..6));
            let mut emitted: [Emitted; 2] = Default::default();
            let mut steps = 0;
            loop {
                for _ in 0..rng.gen_range(0..40) {
                    random_op(&mut dbs, &mut rng, &mut now_ms, &mut counter);
                }
                if abort_after == Some(steps) {
                    for db in dbs.iter_mut() {
                        db.snapshot_end();
                    }
                    break;
                }
                steps += 1;
                let budget = rng.gen_range(1..50);
                let mut all_done = true;
                for db in dbs.iter_mut() {
                    all_done &= db.snapshot_step(budget, |idx, k, v, d| {
                        let old = emitted[idx].insert(k.to_vec(), (int(v), d));
                        assert!(old.is_none(), "seed {seed}: key {k:?} emitted twice");
                    });
                }
                if all_done {
                    for (idx, want) in start.iter().enumerate() {
                        let got: State = emitted[idx].drain().collect();
                        assert_eq!(&got, want, "seed {seed}: db {idx}");
                    }
                    for db in dbs.iter_mut() {
                        db.snapshot_end();
                    }
                    complete += 1;
                    break;
                }
                assert!(steps < 100_000, "seed {seed}: the snapshot never ends");
            }
            for db in &dbs {
                db.check_invariants();
            }
        }
        // About 40% complete (Binomial(rounds, 0.4)): fewer than 2 would mean the test
        // checks almost nothing (odds of it by chance ~1e-5 at 30 rounds).
        assert!(complete >= 2, "seed {seed}: {complete} complete snapshots");
    }

    #[test]
    fn model_snapshots_are_exact() {
        for seed in 0..6 {
            run_model(seed, 30);
        }
    }

    /// A key no snapshot touches while many end early in a row (the generation wraps several
    /// times) is still emitted by the next complete one, exactly once.
    /// Runs one snapshot of `db` to its end: the keys it emitted, each checked to come once.
    fn full_snapshot_keys(db: &mut Db) -> usize {
        let mut seen = std::collections::HashSet::new();
        db.snapshot_begin(0);
        while !db.snapshot_step(100, |_, k, _, _| assert!(seen.insert(k.to_vec()))) {}
        db.snapshot_end();
        seen.len()
    }

    #[test]
    fn stale_marks_never_hide_a_key() {
        let mut db = Db::new();
        for i in 0..1000 {
            db.set(format!("k{i}").as_bytes(), Value::Int(i), T0_MS, false);
        }
        for round in 0..30 {
            db.snapshot_begin(0);
            // Each early end leaves a different part of the table marked.
            let mut n = 0;
            db.snapshot_step(round * 7 % 200, |_, _, _, _| n += 1);
            db.snapshot_end();
            assert_eq!(full_snapshot_keys(&mut db), 1000, "round {round}");
        }
        // Runs of 0..20 snapshots that end early (from 7 on, the generation comes back to
        // the marks the last complete one left, which the clearing pass must wipe).
        for aborted in 0..20 {
            for _ in 0..aborted {
                db.snapshot_begin(0);
                db.snapshot_step(10, |_, _, _, _| {});
            }
            db.snapshot_end();
            assert_eq!(
                full_snapshot_keys(&mut db),
                1000,
                "after {aborted} snapshots ended early"
            );
        }
    }

    /// A key past its deadline but not reaped is in the snapshot, with its deadline, as in a
    /// fork's (Redis 7.0 saves it); reaped after the start, it is there from its saved copy;
    /// reaped before the start, it is not there.
    #[test]
    fn expired_but_stored_keys_are_emitted() {
        let mut db = Db::new();
        db.set(b"k", Value::Int(1), T0_MS, false);
        db.set_expire_at_ms(b"k", T0_MS + 10, T0_MS);
        db.set(b"other", Value::Int(2), T0_MS, false);
        let now_ms = T0_MS + 100;
        let snapshot = |db: &mut Db, reap_after_start: bool| {
            db.snapshot_begin(0);
            if reap_after_start {
                assert!(db.get(b"k", now_ms).is_none());
            }
            let mut keys = Vec::new();
            while !db.snapshot_step(10, |_, k, v, d| keys.push((k.to_vec(), int(v), d))) {}
            db.snapshot_end();
            keys.sort();
            keys
        };
        let both = vec![
            (b"k".to_vec(), 1, Some(T0_MS + 10)),
            (b"other".to_vec(), 2, None),
        ];
        // More snapshots than there are generations: the marks cycle.
        for _ in 0..(1 << MARK_BITS) + 1 {
            assert_eq!(snapshot(&mut db, false), both);
        }
        assert_eq!(snapshot(&mut db, true), both);
        assert_eq!(snapshot(&mut db, false), vec![(b"other".to_vec(), 2, None)]);
    }

    /// The snapshot holds no per-key memory: walking a table allocates only what the emit
    /// callback does, and `cow_bytes` counts only copies.
    #[test]
    fn walk_allocates_nothing_per_key() {
        let mut db = Db::new();
        for i in 0..20_000 {
            db.set(
                format!("key:{i:012}").as_bytes(),
                Value::Int(i),
                T0_MS,
                false,
            );
        }
        db.snapshot_begin(0);
        let mut n = 0;
        while !db.snapshot_step(1000, |_, _, _, _| n += 1) {
            assert_eq!(db.cow_bytes(), 0);
        }
        assert_eq!(n, 20_000);
        db.snapshot_end();
    }
}
