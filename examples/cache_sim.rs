//! Replays the `cache` section's look-aside stream (examples/cache_load.rs: GET, and SET on a
//! miss) against a simulated LFU cache that holds `--capacity` keys, to ask what a change of
//! policy could gain before building it (docs/PERFORMANCE.md, "Eviction"). It counts the
//! misses of the second half of the stream, the figure the bench reports.
//!
//! The cache follows ringkv's allkeys-lfu: each key has Redis's 8-bit logarithmic counter
//! (new keys at 5, a hit adds one with probability 1 / ((counter - 5) * 10 + 1); no decay,
//! as the bench's run lasts well under the default decay period of a minute), and when full,
//! the victim is the best of a pool of 16 candidates refilled with 5 keys sampled uniformly.
//! What the `--policy` variants add:
//! - `lfu`: nothing;
//! - `lfu-sub`: the eviction rank also counts, in 3 more bits, the hits since the counter last
//!   grew (more resolution among the many keys at 6, without changing the counter OBJECT FREQ
//!   shows);
//! - `lfu-history`: an unbounded record of every evicted key's counter; a key written again
//!   starts from it, one access (the miss) added: LFU with a perfect memory of keys that left;
//! - `lfu-ghost`: the same in `--ghost-slots` slots of 4 bytes (a 16-bit fingerprint and the
//!   counter, one slot per key hash, overwritten on collision), only for keys evicted after at
//!   least one hit. Its memory comes out of the cache: `--capacity` is reduced by
//!   slots × 4 / `--key-bytes`;
//! - `lfu-admit`: TinyLFU's admission with a count-min sketch of every request (4 rows of
//!   `--sketch-width` 4-bit counters, conservative update, halved every `--sketch-period` ×
//!   width requests): a newcomer whose estimate is below its victim's is stored (a SET must
//!   be) but is the next key to go, a one-key window;
//! - `lfu-sketch`: the same sketch ranks the eviction candidates, its estimate first and the
//!   counter second (the counter OBJECT FREQ shows is unchanged).
//!
//! The sketch's bytes (width × 2) come out of the cache as the ghost slots' do.
//!
//! Output: one JSON line (policy, capacity used, second-half misses).
//!
//! Usage: cache_sim --capacity N
//!        [--policy lfu|lfu-sub|lfu-history|lfu-ghost|lfu-admit|lfu-sketch]
//!        [--ghost-slots 131072] [--sketch-width 65536] [--sketch-period 10] [--key-bytes 144]
//!        [--requests 3000000] [--keys 1000000] [--zipf 0.99] [--seed 1]

#[path = "common/zipf.rs"]
mod zipf;
use std::collections::HashMap;

/// Redis's LFU_INIT_VAL and lfu-log-factor default.
const LFU_INIT: u16 = 5;
const LOG_FACTOR: f64 = 10.0;
/// Redis's eviction pool size and maxmemory-samples default.
const POOL_SIZE: usize = 16;
const SAMPLES: usize = 5;
/// Bits of the rank below the counter (the `lfu-sub` hit count, saturating at 7).
const SUB_BITS: u16 = 3;
const SUB_MAX: u16 = (1 << SUB_BITS) - 1;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Policy {
    Lfu,
    LfuSub,
    LfuHistory,
    LfuGhost,
    LfuAdmit,
    LfuSketch,
}

#[derive(clap::Parser)]
struct Args {
    #[arg(long)]
    capacity: usize,
    #[arg(long, value_enum, default_value = "lfu")]
    policy: Policy,
    #[arg(long, default_value_t = 131_072)]
    ghost_slots: usize,
    #[arg(long, default_value_t = 144)]
    key_bytes: usize,
    /// `lfu-admit`: counters per row of the frequency sketch (4 rows of 4-bit counters).
    #[arg(long, default_value_t = 65_536)]
    sketch_width: usize,
    /// `lfu-admit`: requests between halvings of the sketch, in multiples of the width.
    #[arg(long, default_value_t = 10)]
    sketch_period: usize,
    #[command(flatten)]
    stream: zipf::StreamArgs,
}

/// A key's access state: the counter in the high bits, `lfu-sub`'s hit count in the low 3.
type Access = u16;

/// A hit: the counter's logarithmic increment; with `sub`, a hit that does not grow it is
/// counted below it.
fn hit(a: Access, rng: &mut u64, sub: bool) -> Access {
    let (counter, extra) = (a >> SUB_BITS, a & SUB_MAX);
    if counter >= 255 {
        return a;
    }
    let base = counter.saturating_sub(LFU_INIT) as f64;
    if zipf::unit(rng) < 1.0 / (base * LOG_FACTOR + 1.0) {
        (counter + 1) << SUB_BITS
    } else if sub {
        (counter << SUB_BITS) | (extra + 1).min(SUB_MAX)
    } else {
        a
    }
}

/// The simulated cache: keys in a vector (uniform sampling) with their positions and access.
struct Cache {
    /// `lfu-sketch`: the eviction rank is the sketch's estimate first, the counter second.
    sketch: Option<Sketch>,
    keys: Vec<u32>,
    slot: HashMap<u32, (usize, Access)>,
    /// Candidates, ascending by rank (the best, the least used, last).
    pool: Vec<(u64, u32)>,
}

impl Cache {
    fn rank(&self, key: u32, sub: bool) -> u64 {
        let a = self.slot[&key].1;
        let a = if sub { a } else { a & !SUB_MAX };
        let est = self
            .sketch
            .as_ref()
            .map_or(0, |s| u64::from(s.estimate(key)));
        ((15 - est) << 16) | u64::from((255 << SUB_BITS | SUB_MAX) - a)
    }

    /// Takes the best candidate still in the cache, refilling the pool as ringkv does.
    fn victim(&mut self, rng: &mut u64, sub: bool) -> u32 {
        loop {
            for _ in 0..SAMPLES {
                let k = self.keys[(zipf::splitmix64(rng) % self.keys.len() as u64) as usize];
                let r = self.rank(k, sub);
                let full = self.pool.len() == POOL_SIZE;
                if self.pool.iter().any(|&(_, p)| p == k) || (full && r <= self.pool[0].0) {
                    continue;
                }
                let at = self.pool.partition_point(|&(pr, _)| pr < r);
                if full {
                    self.pool.remove(0);
                    self.pool.insert(at - 1, (r, k));
                } else {
                    self.pool.insert(at, (r, k));
                }
            }
            while let Some((_, k)) = self.pool.pop() {
                if self.slot.contains_key(&k) {
                    return k;
                }
            }
        }
    }

    fn remove(&mut self, key: u32) -> Access {
        let (at, a) = self.slot.remove(&key).expect("cached");
        self.keys.swap_remove(at);
        if let Some(&moved) = self.keys.get(at) {
            self.slot.get_mut(&moved).expect("cached").0 = at;
        }
        a
    }

    fn insert(&mut self, key: u32, a: Access) {
        self.slot.insert(key, (self.keys.len(), a));
        self.keys.push(key);
    }
}

/// The ghost table's slot and 16-bit fingerprint (never 0: 0 marks an empty slot) of a key.
fn ghost_slot(key: u32, slots: usize) -> (usize, u16) {
    let mut s = u64::from(key) ^ 0xABCD_EF01;
    let h = zipf::splitmix64(&mut s);
    ((h % slots as u64) as usize, (h >> 48) as u16 | 1)
}

/// A count-min sketch of 4 rows of 4-bit counters (kept in bytes here), halved every
/// `period` increments (TinyLFU's reset).
struct Sketch {
    rows: Vec<Vec<u8>>,
    mask: usize,
    added: usize,
    period: usize,
}

impl Sketch {
    fn new(width: usize, period: usize) -> Sketch {
        let width = width.next_power_of_two();
        Sketch {
            rows: vec![vec![0; width]; 4],
            mask: width - 1,
            added: 0,
            period: period * width,
        }
    }
    fn at(&self, key: u32, row: usize) -> usize {
        let mut s = u64::from(key) ^ (row as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (zipf::splitmix64(&mut s) as usize) & self.mask
    }
    fn estimate(&self, key: u32) -> u8 {
        (0..4)
            .map(|r| self.rows[r][self.at(key, r)])
            .min()
            .unwrap_or(0)
    }
    /// Conservative update: only the counters at the minimum grow.
    fn add(&mut self, key: u32) {
        let est = self.estimate(key);
        if est < 15 {
            for r in 0..4 {
                let i = self.at(key, r);
                if self.rows[r][i] == est {
                    self.rows[r][i] += 1;
                }
            }
        }
        self.added += 1;
        if self.added >= self.period {
            self.added = 0;
            for row in &mut self.rows {
                for c in row.iter_mut() {
                    *c /= 2;
                }
            }
        }
    }
}

fn main() {
    let a = <Args as clap::Parser>::parse();
    let sub = a.policy == Policy::LfuSub;
    let ghost_slots = if a.policy == Policy::LfuGhost {
        a.ghost_slots.max(1)
    } else {
        0
    };
    let admit = a.policy == Policy::LfuAdmit;
    let by_sketch = a.policy == Policy::LfuSketch;
    let sketch_bytes = if admit || by_sketch {
        a.sketch_width.next_power_of_two() * 2
    } else {
        0
    };
    let capacity = a
        .capacity
        .saturating_sub((ghost_slots * 4 + sketch_bytes) / a.key_bytes.max(1))
        .max(1);
    let mut sketch = Sketch::new(a.sketch_width, a.sketch_period);
    // The newcomer the sketch judged colder than its victim: the next one to go.
    let mut probation: Option<u32> = None;
    if let Err(e) = a.stream.check() {
        eprintln!("cache_sim: {e}");
        std::process::exit(2);
    }
    let stream = a.stream.ids();
    let mut rng = 42u64;
    let mut cache = Cache {
        sketch: by_sketch.then(|| Sketch::new(a.sketch_width, a.sketch_period)),
        keys: Vec::with_capacity(capacity),
        slot: HashMap::with_capacity(capacity),
        pool: Vec::with_capacity(POOL_SIZE),
    };
    let mut history: HashMap<u32, Access> = HashMap::new();
    let mut ghosts: Vec<(u16, Access)> = vec![(0, 0); ghost_slots];
    let mut misses_second_half = 0u64;
    for (i, &key) in stream.iter().enumerate() {
        if admit {
            sketch.add(key);
        }
        if let Some(s) = cache.sketch.as_mut() {
            s.add(key);
        }
        if let Some(e) = cache.slot.get_mut(&key) {
            e.1 = hit(e.1, &mut rng, sub);
            if probation == Some(key) {
                probation = None;
            }
            continue;
        }
        if i >= a.stream.requests / 2 {
            misses_second_half += 1;
        }
        if admit {
            if let Some(p) = probation.take() {
                cache.remove(p);
            }
        }
        while cache.keys.len() >= capacity {
            let v = cache.victim(&mut rng, sub);
            let access = cache.remove(v);
            match a.policy {
                Policy::LfuHistory => {
                    history.insert(v, access);
                }
                Policy::LfuGhost if access >> SUB_BITS > LFU_INIT => {
                    let (at, fp) = ghost_slot(v, ghost_slots);
                    ghosts[at] = (fp, access);
                }
                _ => {}
            }
        }
        let mut access = LFU_INIT << SUB_BITS;
        match a.policy {
            Policy::LfuHistory => {
                if let Some(&h) = history.get(&key) {
                    access = hit(h, &mut rng, false);
                }
            }
            Policy::LfuGhost => {
                let (at, fp) = ghost_slot(key, ghost_slots);
                if ghosts[at].0 == fp {
                    access = hit(ghosts[at].1, &mut rng, false);
                    ghosts[at] = (0, 0);
                }
            }
            _ => {}
        }
        if admit && cache.keys.len() + 1 >= capacity {
            // TinyLFU would not admit a newcomer colder than the victim it displaces; a SET
            // must store it, so it is the next to go instead (a one-key window).
            let v = cache.victim(&mut rng, sub);
            let r = cache.rank(v, sub);
            cache.pool.push((r, v));
            if sketch.estimate(key) < sketch.estimate(v) {
                probation = Some(key);
            }
        }
        cache.insert(key, access);
    }
    let name = match a.policy {
        Policy::Lfu => "lfu",
        Policy::LfuSub => "lfu-sub",
        Policy::LfuHistory => "lfu-history",
        Policy::LfuGhost => "lfu-ghost",
        Policy::LfuAdmit => "lfu-admit",
        Policy::LfuSketch => "lfu-sketch",
    };
    println!(
        "{{\"policy\":\"{name}\",\"capacity\":{capacity},\"ghost_slots\":{ghost_slots},\
         \"misses_second_half\":{misses_second_half}}}"
    );
}
