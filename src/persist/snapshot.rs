//! A point-in-time view of the whole keyspace, read in bounded slices while clients keep
//! writing: the basis of a fork-less AOF rewrite (and, later, of an RDB BGSAVE).
//!
//! The view is taken at the moment `Snapshot::new` runs. A slice (`step`) walks the databases
//! with the dict's scan cursor (which never misses a key present for the whole walk, but may
//! return one twice after a resize) and yields each key not yet yielded. Copy-on-write at key
//! level: before a write command touches a key, `preserve` yields the key's value *as it is
//! now*, i.e. still as at the snapshot's start, unless it was yielded already; a key absent
//! then is only marked, so a key created later is never yielded. Invariant: every key yielded
//! is yielded exactly once, with its value and expiry at the snapshot's start (keys that expire
//! during the walk may be left out: their deletion is logged after the start anyway).
//!
//! Commands whose keys are not known from the command table (FLUSHALL, FLUSHDB, SWAPDB) must
//! call `finish` first, which yields everything left in one go.
//!
//! Cost: the set of yielded key names, one copy of every key, for the walk's duration.

use crate::keyspace::value::Value;
use crate::keyspace::Db;
use std::collections::HashSet;

/// Keys the scan visits per call (the walk asks for more until a slice's budget is spent).
const SCAN_COUNT: usize = 128;

pub struct Snapshot {
    done: Vec<HashSet<Vec<u8>>>,
    db: usize,
    cursor: u64,
    finished: bool,
    keys: Vec<Vec<u8>>,
}

/// What a snapshot yields: database, key, value, absolute expiry.
pub type Sink<'a> = dyn FnMut(usize, &[u8], &Value, Option<u64>) + 'a;

impl Snapshot {
    pub fn new(databases: usize) -> Snapshot {
        Snapshot {
            done: (0..databases).map(|_| HashSet::new()).collect(),
            db: 0,
            cursor: 0,
            finished: databases == 0,
            keys: Vec::new(),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Keys yielded so far (INFO's current_save_keys_processed).
    pub fn keys_done(&self) -> usize {
        self.done.iter().map(HashSet::len).sum()
    }

    fn yield_key(
        &mut self,
        dbs: &mut [Db],
        db: usize,
        key: &[u8],
        now_ms: u64,
        sink: &mut Sink<'_>,
    ) {
        if !self.done[db].insert(key.to_vec()) {
            return;
        }
        let d = &mut dbs[db];
        let Some(deadline) = d.expire_at_ms(key, now_ms) else {
            return; // absent (or expired just now): nothing to keep
        };
        if let Some(v) = d.peek(key, now_ms) {
            sink(db, key, v, deadline);
        }
    }

    /// Copy-on-write: yields `key` of `db` as it is now, before a command changes it.
    pub fn preserve(
        &mut self,
        dbs: &mut [Db],
        db: usize,
        key: &[u8],
        now_ms: u64,
        sink: &mut Sink<'_>,
    ) {
        if self.finished || db >= self.done.len() {
            return;
        }
        self.yield_key(dbs, db, key, now_ms, sink);
    }

    /// One slice: yields keys until about `keys_max` were looked at. Returns true when the
    /// walk is complete.
    pub fn step(
        &mut self,
        dbs: &mut [Db],
        keys_max: usize,
        now_ms: u64,
        sink: &mut Sink<'_>,
    ) -> bool {
        let mut looked = 0;
        // Each round either advances the cursor or moves to the next database; the number of
        // scan calls per slice is bounded by keys_max / SCAN_COUNT + databases.
        while !self.finished && looked < keys_max {
            let mut keys = std::mem::take(&mut self.keys);
            keys.clear();
            let next = dbs[self.db].scan(self.cursor, SCAN_COUNT, now_ms, |k, _| {
                keys.push(k.to_vec())
            });
            looked += keys.len().max(1);
            for k in &keys {
                self.yield_key(dbs, self.db, k, now_ms, sink);
            }
            self.keys = keys;
            if next == 0 {
                self.db += 1;
                self.cursor = 0;
                if self.db >= dbs.len() || self.db >= self.done.len() {
                    self.finished = true;
                }
            } else {
                self.cursor = next;
            }
        }
        self.finished
    }

    /// Yields everything not yet yielded.
    pub fn finish(&mut self, dbs: &mut [Db], now_ms: u64, sink: &mut Sink<'_>) {
        while !self.step(dbs, usize::MAX, now_ms, sink) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn collect(
        snap: &mut Snapshot,
        dbs: &mut [Db],
        out: &mut BTreeMap<(usize, Vec<u8>), Vec<u8>>,
        step: Option<usize>,
    ) -> bool {
        let mut sink = |db: usize, k: &[u8], v: &Value, _e: Option<u64>| {
            let mut b = itoa::Buffer::new();
            let bytes = v.str_bytes(&mut b).unwrap_or(b"?").to_vec();
            assert!(
                out.insert((db, k.to_vec()), bytes).is_none(),
                "yielded twice"
            );
        };
        match step {
            Some(n) => snap.step(dbs, n, 1, &mut sink),
            None => {
                snap.finish(dbs, 1, &mut sink);
                true
            }
        }
    }

    /// Writes interleaved with the walk never leak into the snapshot: every key is yielded
    /// once, with its value at the start; keys created later are not yielded.
    #[test]
    fn snapshot_is_the_state_at_its_start_under_writes() {
        let mut dbs = vec![Db::new(), Db::new()];
        let mut start = BTreeMap::new();
        for i in 0..3000u32 {
            let db = (i % 2) as usize;
            let k = format!("k{i}").into_bytes();
            dbs[db].set(&k, Value::from_bytes(b"old"), 1, false);
            start.insert((db, k), b"old".to_vec());
        }
        let mut snap = Snapshot::new(2);
        let mut got = BTreeMap::new();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut i = 0;
        while !collect(&mut snap, &mut dbs, &mut got, Some(50)) {
            // A few writes per slice: overwrite, delete, create; the table also grows and
            // shrinks under the scan cursor.
            for _ in 0..40 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let db = (rng % 2) as usize;
                let k = format!("k{}", rng % 4000).into_bytes();
                let mut sink = |d: usize, key: &[u8], v: &Value, _e: Option<u64>| {
                    let mut b = itoa::Buffer::new();
                    let bytes = v.str_bytes(&mut b).unwrap_or(b"?").to_vec();
                    assert!(
                        got.insert((d, key.to_vec()), bytes).is_none(),
                        "yielded twice"
                    );
                };
                snap.preserve(&mut dbs, db, &k, 1, &mut sink);
                match rng % 3 {
                    0 => drop(dbs[db].set(&k, Value::from_bytes(b"new"), 1, false)),
                    1 => drop(dbs[db].remove(&k, 1)),
                    _ => {
                        let extra = format!("extra{i}").into_bytes();
                        snap.preserve(&mut dbs, db, &extra, 1, &mut sink);
                        drop(dbs[db].set(&extra, Value::from_bytes(b"x"), 1, false));
                        i += 1;
                    }
                }
            }
        }
        assert_eq!(got, start);
    }
}
