//! Eviction: keeping used memory under `maxmemory` by deleting keys the policy picks, as
//! Redis 7.0's `performEvictions` does.
//!
//! Before a command runs (`cmd::call`), and on every loop turn while a pass is unfinished,
//! [`perform`] compares the memory that counts (everything allocated, minus the AOF's buffers
//! and the copies an in-progress snapshot holds — what Redis reports as
//! `mem_not_counted_for_evict`) with maxmemory and deletes keys until it is under, nothing is
//! left to evict (`Outcome::Fail`: commands that may grow memory get the OOM error), or the
//! pass used its time allowance (`maxmemory-eviction-tenacity`; `Outcome::Running`: the rest
//! continues on the following loop turns while clients keep being served).
//!
//! Which key goes:
//! - `*-lru` / `*-lfu`: a pool of the best candidates (highest idle time, or lowest decayed
//!   LFU counter) is refilled from `maxmemory-samples` keys of every non-empty database
//!   (`Db::eviction_sample`) and the best one is taken, as Redis's eviction pool; a sampled
//!   key already past its deadline ranks above every live one;
//! - `*-random`: a random key, the databases taken in turn;
//! - `volatile-ttl`: exactly the key with the nearest deadline over all databases (the TTL
//!   heaps' minimums), where Redis approximates it by sampling;
//! - `volatile-*` only ever consider keys with a TTL and fail when none is left.
//!
//! Every evicted key is a journal unit of its own (`DEL`, or `UNLINK` with
//! `lazyfree-lazy-eviction`), invalidates WATCHes on it, and never serves a blocked client
//! (it is a deletion). Invariants: the pool holds at most `POOL_SIZE` entries sorted by rank;
//! one pass evicts at most what it must, checking the clock every `CLOCK_EVERY_KEYS` keys.

use crate::config::MaxmemoryPolicy as Policy;
use crate::keyspace::EvictRank;
use crate::server::Server;

/// Candidates the pool keeps between evictions (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;
/// Keys evicted between clock reads and (with lazy freeing) memory re-checks.
const CLOCK_EVERY_KEYS: u64 = 16;
/// Pool refills one pick makes before it falls back to a random key: a refill samples every
/// non-empty database, so it comes back empty only when its samples found no key in the
/// buckets they may visit (a very sparse table).
const REFILLS_PER_PICK_MAX: usize = 8;

/// How the LRU and LFU policies rank keys; the other policies pick otherwise.
fn rank(policy: Policy) -> Option<EvictRank> {
    if policy.is_lru() {
        Some(EvictRank::Idle)
    } else if policy.is_lfu() {
        Some(EvictRank::Rarity)
    } else {
        None
    }
}

/// What a pass achieved (Redis's EVICT_OK / EVICT_RUNNING / EVICT_FAIL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Used memory is within maxmemory.
    Ok,
    /// Over, but the pass ran out of time; it goes on next turn. Commands are not refused.
    Running,
    /// Over, and nothing (more) can be evicted: `denyoom` commands get the OOM error.
    Fail,
}

struct Candidate {
    rank: u64,
    db: usize,
    key: Vec<u8>,
}

/// Eviction state kept in the server.
#[derive(Default)]
pub struct Evictor {
    /// Best candidates, ascending by rank (the best is last).
    pool: Vec<Candidate>,
    /// Key buffers of used candidates, reused so refills do not allocate.
    spare: Vec<Vec<u8>>,
    /// Database the random policies look at next.
    next_db: usize,
    /// A pass stopped on its time limit: the loop continues it next turn.
    pub running: bool,
    /// INFO stats evicted_keys.
    pub evicted_keys: u64,
    /// Since when (monotonic ns) used memory has been over maxmemory (INFO
    /// current_eviction_exceeded_time).
    exceeded_since_ns: Option<u64>,
    /// Microseconds over maxmemory in finished periods (INFO total_eviction_exceeded_time).
    exceeded_total_us: u64,
}

impl Evictor {
    /// Offers a sampled key to the pool: kept if the pool has room or it ranks above the
    /// worst kept candidate (which then leaves). A key already in the pool is not added twice.
    fn offer(&mut self, rank: u64, db: usize, key: &[u8]) {
        let full = self.pool.len() == POOL_SIZE;
        if full && rank <= self.pool[0].rank {
            return;
        }
        let pos = self.pool.partition_point(|c| c.rank < rank);
        // Equal ranks are adjacent: the same key sampled twice has the same rank.
        let dup = self.pool[pos..]
            .iter()
            .take_while(|c| c.rank == rank)
            .any(|c| c.db == db && c.key == key);
        if dup {
            return;
        }
        let (mut buf, pos) = if full {
            // The worst candidate leaves; `pos >= 1` as `rank` is above its rank.
            (self.pool.remove(0).key, pos - 1)
        } else {
            (self.spare.pop().unwrap_or_default(), pos)
        };
        buf.clear();
        buf.extend_from_slice(key);
        self.pool.insert(pos, Candidate { rank, db, key: buf });
    }

    /// Forgets the candidates (the policy changed, or databases were flushed or swapped:
    /// ranks and database numbers may no longer mean what they did).
    pub fn clear_pool(&mut self) {
        for c in self.pool.drain(..) {
            self.spare.push(c.key);
        }
    }

    /// Milliseconds used memory has been over maxmemory: (total, current period).
    pub fn exceeded_ms(&self) -> (u64, u64) {
        let current_us = self
            .exceeded_since_ns
            .map_or(0, |t| crate::util::mono_ns().saturating_sub(t) / 1000);
        (
            (self.exceeded_total_us + current_us) / 1000,
            current_us / 1000,
        )
    }

    /// Tracks the periods over the limit. `now_ns` is the server's last clock read (the
    /// end of the previous command): precise enough for milliseconds, and no clock read of
    /// its own on every evicting command.
    fn note_outcome(&mut self, o: Outcome, now_ns: u64) {
        match o {
            Outcome::Ok => {
                if let Some(t) = self.exceeded_since_ns.take() {
                    self.exceeded_total_us += now_ns.saturating_sub(t) / 1000;
                }
            }
            Outcome::Running | Outcome::Fail => {
                self.exceeded_since_ns.get_or_insert(now_ns);
            }
        }
    }
}

/// Redis's `evictionTimeLimitUs`: 50 µs per point of tenacity up to 10, then 15% more per
/// point, unlimited at 100.
pub fn time_limit_us(tenacity: u32) -> u64 {
    if tenacity <= 10 {
        50 * u64::from(tenacity)
    } else if tenacity < 100 {
        (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64
    } else {
        u64::MAX
    }
}

/// Memory that does not count against maxmemory: the AOF's buffers and what snapshots in
/// progress hold (INFO's mem_not_counted_for_evict).
pub fn not_counted_bytes(srv: &Server) -> u64 {
    let cow: usize = srv.dbs.iter().map(|db| db.cow_bytes()).sum();
    (srv.aof.buffer_bytes() + cow) as u64
}

/// The memory compared with maxmemory.
pub fn counted_bytes(srv: &Server) -> u64 {
    let used = srv.used_memory();
    if used <= srv.config.maxmemory_bytes {
        // The common case needs no look at the buffers.
        return used;
    }
    used.saturating_sub(not_counted_bytes(srv))
}

/// Whether memory is over maxmemory (a limit is set and start-up loading is over).
#[inline]
pub fn over_limit(srv: &Server) -> bool {
    let max = srv.config.maxmemory_bytes;
    max > 0 && !srv.loading && counted_bytes(srv) > max
}

/// One eviction pass (see the module doc). Cheap when memory is within the limit.
pub fn perform(srv: &mut Server) -> Outcome {
    // Nothing is deleted in the server's name while clients are paused (Redis 7.0).
    if srv.pause.active() {
        return Outcome::Ok;
    }
    let outcome = if over_limit(srv) {
        if srv.config.maxmemory_policy == Policy::NoEviction {
            Outcome::Fail
        } else {
            timed_pass(srv)
        }
    } else {
        Outcome::Ok
    };
    srv.evict.running = outcome == Outcome::Running;
    srv.evict.note_outcome(outcome, srv.cmd_clock_ns);
    outcome
}

/// An eviction pass, timed for the latency monitor (`eviction-cycle`, as Redis times its
/// eviction loop) while the monitor is on: two clock reads a pass, only then.
#[cold]
fn timed_pass(srv: &mut Server) -> Outcome {
    if srv.config.latency_monitor_threshold_ms == 0 {
        return evict_pass(srv);
    }
    let started_ns = crate::util::mono_ns();
    let outcome = evict_pass(srv);
    let us = crate::util::mono_ns().saturating_sub(started_ns) / 1000;
    srv.latency_sample(crate::latency::Event::EvictionCycle, us);
    outcome
}

#[cold]
fn evict_pass(srv: &mut Server) -> Outcome {
    let policy = srv.config.maxmemory_policy;
    if policy == Policy::NoEviction {
        return Outcome::Fail;
    }
    let max = srv.config.maxmemory_bytes;
    let to_free = counted_bytes(srv).saturating_sub(max);
    let limit_us = time_limit_us(srv.config.maxmemory_eviction_tenacity);
    let lazy = srv.config.lazyfree_lazy_eviction;
    // The clock read after the previous command (or at the turn's start) is this pass's
    // start: one clock read fewer per evicting command.
    let start_ns = srv.cmd_clock_ns;
    // While a snapshot runs, deleting a key it has not reached yet keeps a copy of it (not
    // counted), so what a deletion frees is measured on the counted memory.
    let snapshot = srv.dbs.iter().any(|db| db.snapshot_active());
    let measure = |srv: &Server| {
        if snapshot {
            srv.used_memory().saturating_sub(not_counted_bytes(srv))
        } else {
            crate::alloc::allocated() as u64
        }
    };
    let mut freed = 0u64;
    let mut keys_freed = 0u64;
    let mut outcome = Outcome::Ok;
    while freed < to_free {
        let Some((db, key)) = pick(srv, policy) else {
            outcome = Outcome::Fail;
            break;
        };
        let before = measure(srv);
        let Some(value) = srv.dbs[db].evict(&key) else {
            srv.evict.spare.push(key);
            continue;
        };
        if lazy {
            srv.lazyfree.free(value);
        } else {
            crate::lazyfree::drop_inline(value);
        }
        freed += before.saturating_sub(measure(srv));
        srv.evict.evicted_keys += 1;
        srv.record_deletion(db, &key, crate::server::Deletion::Evicted { lazy });
        srv.evict.spare.push(key);
        keys_freed += 1;
        if keys_freed.is_multiple_of(CLOCK_EVERY_KEYS) {
            if lazy && counted_bytes(srv) <= max {
                break;
            }
            let elapsed_us = crate::util::mono_ns().saturating_sub(start_ns) / 1000;
            if elapsed_us > limit_us {
                outcome = Outcome::Running;
                break;
            }
        }
    }
    if srv.journal.has_published() && srv.journal.idle() {
        srv.publish_effects(None);
    }
    if outcome == Outcome::Fail && srv.lazyfree.pending() > 0 {
        // Values may still be on their way out on the lazy-free thread: wait a moment, as
        // Redis does, rather than refuse a command that would fit once they are gone.
        std::thread::sleep(std::time::Duration::from_micros(limit_us.min(10_000)));
        if counted_bytes(srv) <= max {
            outcome = Outcome::Ok;
        }
    }
    outcome
}

/// The next key to evict, as (database, key), or None when the policy finds nothing.
fn pick(srv: &mut Server, policy: Policy) -> Option<(usize, Vec<u8>)> {
    let volatile = policy.volatile();
    let now_ms = srv.now_ms;
    if let Some(rank) = rank(policy) {
        // Every pick refills the pool from fresh samples first, as Redis's
        // evictionPoolPopulate: the pool only carries good candidates over between picks.
        for _ in 0..REFILLS_PER_PICK_MAX {
            let samples = srv.config.maxmemory_samples as usize;
            let mut any = false;
            let Server { dbs, evict, .. } = srv;
            for (i, db) in dbs.iter_mut().enumerate() {
                let size = if volatile { db.expires_len() } else { db.len() };
                if size == 0 {
                    continue;
                }
                any = true;
                db.eviction_sample(samples, volatile, rank, now_ms, |r, k| evict.offer(r, i, k));
            }
            if !any {
                return None;
            }
            if let Some(c) = take_best(srv) {
                return Some(c);
            }
        }
        // Samples are bounded in the buckets they visit, so a table left very sparse (before
        // its shrink) can give none: a uniformly random key then, rather than a refusal
        // while keys remain.
    }
    let mut key = srv.evict.spare.pop().unwrap_or_default();
    key.clear();
    if policy == Policy::VolatileTtl {
        let (db, k) = srv
            .dbs
            .iter_mut()
            .enumerate()
            .filter_map(|(i, db)| db.nearest_deadline().map(|(d, k)| (d, i, k)))
            .min_by_key(|&(d, i, _)| (d, i))
            .map(|(_, i, k)| (i, k))?;
        key.extend_from_slice(k);
        return Some((db, key));
    }
    let n = srv.dbs.len();
    for _ in 0..n {
        srv.evict.next_db = (srv.evict.next_db + 1) % n;
        let i = srv.evict.next_db;
        if let Some(k) = srv.dbs[i].eviction_random_key(volatile) {
            key.extend_from_slice(k);
            return Some((i, key));
        }
    }
    srv.evict.spare.push(key);
    None
}

/// Takes the best pooled candidate. It may have been deleted since it was sampled: the
/// caller's deletion then finds nothing and it picks again (one lookup instead of two).
fn take_best(srv: &mut Server) -> Option<(usize, Vec<u8>)> {
    let c = srv.evict.pool.pop()?;
    Some((c.db, c.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limit_matches_redis() {
        assert_eq!(time_limit_us(0), 0);
        assert_eq!(time_limit_us(10), 500);
        // 500 * 1.15^10 = 2022.8
        assert_eq!(time_limit_us(20), 2022);
        assert_eq!(time_limit_us(100), u64::MAX);
    }

    #[test]
    fn pool_keeps_the_best_sorted_and_unique() {
        let mut ev = Evictor::default();
        for i in 0..100u64 {
            ev.offer(i % 37, 0, format!("k{}", i % 37).as_bytes());
        }
        assert_eq!(ev.pool.len(), POOL_SIZE);
        let ranks: Vec<u64> = ev.pool.iter().map(|c| c.rank).collect();
        let want: Vec<u64> = (37 - POOL_SIZE as u64..37).collect();
        assert_eq!(ranks, want);
        // Equal ranks of different keys are both kept.
        let mut ev = Evictor::default();
        ev.offer(5, 0, b"a");
        ev.offer(5, 0, b"b");
        ev.offer(5, 0, b"a");
        ev.offer(5, 1, b"a");
        assert_eq!(ev.pool.len(), 3);
    }
}
