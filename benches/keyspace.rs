//! Keyspace micro-benchmarks: the intrusive hash table behind `keyspace::Db` (100k inserts into
//! an empty table, so several incremental rehashes happen inside the measured loop; 100k
//! deletes, which shrink it again; 1,000 lookups on a warm 1M-key table), the TTL heap
//! `keyspace::expire::TtlHeap` on its own (push/pop and update with a tiny test slot type),
//! and the TTL paths of `Db`: `set_expire_at_ms` and `active_expire` on 100k keys.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringkv::keyspace::expire::{HeapSlot, TtlHeap, NO_HEAP_INDEX};
use ringkv::keyspace::value::Value;
use ringkv::keyspace::Db;
use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The clock every benchmark passes in; no key has a deadline before it unless a benchmark
/// sets one on purpose.
const NOW_MS: u64 = 1_000_000;
const KEYS_100K: usize = 100_000;
const KEYS_1M: usize = 1_000_000;
/// Lookups and heap updates per iteration on the warm structures.
const OPS_PER_ITER: usize = 1000;

/// A deterministic generator so every run measures the same sequence.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn keys(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("key:{i}").into_bytes()).collect()
}

fn filled_db(keys: &[Vec<u8>]) -> Db {
    let mut db = Db::new();
    for k in keys {
        db.set(k, Value::from_bytes(b"value"), NOW_MS, false);
    }
    // Finish any rehash in progress so lookups measure a settled table. Bounded: each call
    // moves at least one bucket, and the table has fewer buckets than 4x the keys.
    for _ in 0..keys.len() * 4 {
        if !db.rehash_idle(Duration::from_millis(1)) {
            break;
        }
    }
    db
}

fn bench_dict(c: &mut Criterion) {
    let keys_100k = keys(KEYS_100K);
    let mut group = c.benchmark_group("db");
    group.sample_size(10);
    group.throughput(Throughput::Elements(KEYS_100K as u64));
    group.bench_function("insert_100k_from_empty", |b| {
        b.iter_batched(
            Db::new,
            |mut db| {
                for k in &keys_100k {
                    db.set(k, Value::from_bytes(b"value"), NOW_MS, false);
                }
                db
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("remove_100k_to_empty", |b| {
        b.iter_batched(
            || filled_db(&keys_100k),
            |mut db| {
                for k in &keys_100k {
                    black_box(db.remove(k, NOW_MS));
                }
                db
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();

    let keys_1m = keys(KEYS_1M);
    let mut db = filled_db(&keys_1m);
    let mut rng = Lcg(7);
    let probes: Vec<&[u8]> = (0..OPS_PER_ITER)
        .map(|_| keys_1m[rng.next() as usize % KEYS_1M].as_slice())
        .collect();
    let misses: Vec<Vec<u8>> = (0..OPS_PER_ITER)
        .map(|i| format!("absent:{i}").into_bytes())
        .collect();
    let mut group = c.benchmark_group("db_warm_1m");
    group.throughput(Throughput::Elements(OPS_PER_ITER as u64));
    group.bench_function("get_hit_1000", |b| {
        b.iter(|| {
            for k in &probes {
                black_box(db.get(k, NOW_MS).is_some());
            }
        });
    });
    group.bench_function("get_miss_1000", |b| {
        b.iter(|| {
            for k in &misses {
                black_box(db.get(k, NOW_MS).is_some());
            }
        });
    });
    group.finish();
}

/// A heap slot for the benchmark: the cell where the heap writes the item's position.
#[derive(Clone, Copy)]
struct Slot<'a>(&'a Cell<u32>);

impl HeapSlot for Slot<'_> {
    fn set_heap_index(self, idx: u32) {
        self.0.set(idx);
    }
    fn heap_index(self) -> u32 {
        self.0.get()
    }
}

fn bench_heap(c: &mut Criterion) {
    let cells: Vec<Cell<u32>> = (0..KEYS_100K).map(|_| Cell::new(NO_HEAP_INDEX)).collect();
    let mut rng = Lcg(11);
    let deadlines: Vec<u64> = (0..KEYS_100K)
        .map(|_| NOW_MS + rng.next() % 3_600_000)
        .collect();
    let mut group = c.benchmark_group("ttl_heap");

    group.sample_size(10);
    group.throughput(Throughput::Elements(KEYS_100K as u64));
    group.bench_function("push_then_pop_100k", |b| {
        let mut heap = TtlHeap::new();
        b.iter(|| {
            for (cell, &d) in cells.iter().zip(&deadlines) {
                heap.push(d, Slot(cell));
            }
            // Pop resets each slot to NO_HEAP_INDEX, so the next iteration can push again.
            while let Some((d, _)) = heap.pop() {
                black_box(d);
            }
        });
    });

    let mut heap = TtlHeap::new();
    for (cell, &d) in cells.iter().zip(&deadlines) {
        heap.push(d, Slot(cell));
    }
    let targets: Vec<(usize, u64)> = (0..OPS_PER_ITER)
        .map(|_| {
            let id = rng.next() as usize % KEYS_100K;
            (id, NOW_MS + rng.next() % 3_600_000)
        })
        .collect();
    group.sample_size(100);
    group.throughput(Throughput::Elements(OPS_PER_ITER as u64));
    group.bench_function("update_1000_in_100k", |b| {
        b.iter(|| {
            for &(id, d) in &targets {
                heap.update(cells[id].get(), d);
            }
        });
    });
    group.finish();
    heap.check_invariants();
}

fn bench_db_ttl(c: &mut Criterion) {
    let keys_100k = keys(KEYS_100K);
    let mut rng = Lcg(13);
    let deadlines: Vec<u64> = (0..KEYS_100K)
        .map(|_| NOW_MS + 1 + rng.next() % 3_600_000)
        .collect();
    let mut group = c.benchmark_group("db_ttl_100k");
    group.sample_size(10);
    group.throughput(Throughput::Elements(KEYS_100K as u64));
    group.bench_function("set_expire_at_ms", |b| {
        b.iter_batched(
            || filled_db(&keys_100k),
            |mut db| {
                for (k, &d) in keys_100k.iter().zip(&deadlines) {
                    black_box(db.set_expire_at_ms(k, d, NOW_MS));
                }
                db
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("active_expire_all", |b| {
        b.iter_batched(
            || {
                let mut db = filled_db(&keys_100k);
                for (k, &d) in keys_100k.iter().zip(&deadlines) {
                    db.set_expire_at_ms(k, d, NOW_MS);
                }
                db
            },
            |mut db| {
                // Every deadline has passed; the time budget is far away so only the key
                // count ends the run.
                let later_ms = NOW_MS + 3_600_001;
                let budget_end = Instant::now() + Duration::from_secs(60);
                let removed = db.active_expire(later_ms, usize::MAX, budget_end);
                assert_eq!(removed, KEYS_100K);
                db
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench_dict, bench_heap, bench_db_ttl);
criterion_main!(benches);
