//! Model tests of the keyspace through its public API: `Db` against a `HashMap` model with an
//! injected clock, SCAN across resizes, and the expiry semantics the commands rely on.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ringkv::keyspace::value::Value;
use ringkv::keyspace::Db;

fn key(id: u64) -> Vec<u8> {
    format!("key:{id}").into_bytes()
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

/// The model: value and absolute deadline per key. A key is live at `now_ms` unless
/// `now_ms > deadline_ms` (Redis's rule).
#[derive(Default)]
struct Model {
    map: HashMap<Vec<u8>, (i64, Option<u64>)>,
}

impl Model {
    fn live(&self, k: &[u8], now_ms: u64) -> Option<(i64, Option<u64>)> {
        self.map
            .get(k)
            .copied()
            .filter(|&(_, d)| d.is_none_or(|d| now_ms <= d))
    }
    fn live_count(&self, now_ms: u64) -> usize {
        self.map
            .values()
            .filter(|&&(_, d)| d.is_none_or(|d| now_ms <= d))
            .count()
    }
}

/// One random operation on both the Db and the model, comparing every answer.
/// `id` picks the key; `op` in 0..100 picks the operation.
fn step(db: &mut Db, model: &mut Model, id: u64, op: u32, rng: &mut StdRng, now_ms: u64) {
    let k = key(id);
    let live = model.live(&k, now_ms);
    match op {
        0..=49 => {
            let v: i64 = rng.gen();
            let keep_ttl = rng.gen_bool(0.2);
            let old = db.set(&k, Value::Int(v), now_ms, keep_ttl);
            assert_eq!(old, live.map(|(v, _)| Value::Int(v)), "set {id}");
            let deadline = if keep_ttl {
                live.and_then(|(_, d)| d)
            } else {
                None
            };
            model.map.insert(k, (v, deadline));
        }
        50..=64 => {
            assert_eq!(
                db.remove(&k, now_ms),
                live.map(|(v, _)| Value::Int(v)),
                "remove {id}"
            );
            model.map.remove(&k);
        }
        65..=74 => {
            assert_eq!(
                db.get(&k, now_ms),
                live.map(|(v, _)| Value::Int(v)).as_ref(),
                "get {id}"
            );
            if live.is_none() {
                model.map.remove(&k);
            }
        }
        75..=84 => {
            let deadline_ms = now_ms + rng.gen_range(0..3000);
            assert_eq!(
                db.set_expire_at_ms(&k, deadline_ms, now_ms),
                live.is_some(),
                "expire {id}"
            );
            match live {
                Some((v, _)) => {
                    model.map.insert(k, (v, Some(deadline_ms)));
                }
                None => {
                    model.map.remove(&k);
                }
            }
        }
        85..=89 => {
            assert_eq!(
                db.expire_at_ms(&k, now_ms),
                live.map(|(_, d)| d),
                "pexpiretime {id}"
            );
        }
        90..=94 => {
            assert_eq!(
                db.persist(&k, now_ms),
                live.is_some_and(|(_, d)| d.is_some()),
                "persist {id}"
            );
            match live {
                Some((v, _)) => {
                    model.map.insert(k, (v, None));
                }
                None => {
                    model.map.remove(&k);
                }
            }
        }
        _ => {
            assert_eq!(db.contains(&k, now_ms), live.is_some(), "exists {id}");
            if live.is_none() {
                model.map.remove(&k);
            }
        }
    }
}

/// Full comparison: reap everything due, then the Db's contents equal the model's live keys.
fn compare_all(db: &mut Db, model: &mut Model, now_ms: u64) {
    db.active_expire(now_ms, usize::MAX, far_future());
    model
        .map
        .retain(|_, &mut (_, d)| d.is_none_or(|d| now_ms <= d));
    db.check_invariants();
    assert_eq!(db.len(), model.map.len());
    assert_eq!(
        db.expires_len(),
        model.map.values().filter(|(_, d)| d.is_some()).count()
    );
    let mut seen = 0;
    db.for_each(now_ms, |k, v| {
        let (mv, _) = model.map[k];
        assert_eq!(v, &Value::Int(mv));
        seen += 1;
    });
    assert_eq!(seen, model.map.len());
}

/// Small keyspace, every operation followed by a full invariant check (dict, heap, and the
/// back-pointers between them), with time moving so keys expire lazily and actively.
#[test]
fn db_model_every_step() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut db = Db::new();
    let mut model = Model::default();
    let mut now_ms = 1_000_000u64;
    for i in 0..8_000u64 {
        now_ms += rng.gen_range(0..3);
        // A key range that drifts, so the table grows and shrinks as old keys are deleted.
        let base = (i / 800) * 150;
        let id = base + rng.gen_range(0..500);
        let op = rng.gen_range(0..100);
        step(&mut db, &mut model, id, op, &mut rng, now_ms);
        if i.is_multiple_of(97) {
            db.active_expire(now_ms, rng.gen_range(0..20), far_future());
        }
        if i.is_multiple_of(101) {
            db.rehash_idle(Duration::from_micros(1));
        }
        db.check_invariants();
        assert!(db.len() >= model.live_count(now_ms));
    }
    compare_all(&mut db, &mut model, now_ms);
}

/// Grows past 100k keys and drains to 0, three times, with random operations and TTLs mixed
/// in; invariants are checked every 20000 operations (each check is O(n)).
#[test]
fn db_model_grow_past_100k_and_drain() {
    const IDS: u64 = 150_000;
    let mut rng = StdRng::seed_from_u64(12);
    let mut db = Db::new();
    let mut model = Model::default();
    let mut now_ms = 5_000_000u64;
    let mut ops = 0u64;
    for cycle in 0..3 {
        // Grow: mostly sets of random ids.
        let mut peak_buckets = 0;
        while model.map.len() < 110_000 {
            now_ms += 1;
            let op = if rng.gen_bool(0.8) {
                0
            } else {
                rng.gen_range(50..100)
            };
            step(
                &mut db,
                &mut model,
                rng.gen_range(0..IDS),
                op,
                &mut rng,
                now_ms,
            );
            ops += 1;
            if ops.is_multiple_of(20_000) {
                db.check_invariants();
            }
            if ops.is_multiple_of(500) {
                peak_buckets = peak_buckets.max(db.bucket_count());
            }
        }
        compare_all(&mut db, &mut model, now_ms);
        assert!(db.len() > 100_000, "cycle {cycle}: {} keys", db.len());
        assert!(
            peak_buckets >= 131_072,
            "cycle {cycle}: table never grew past {peak_buckets}"
        );
        // Drain: delete ids in order, mixing in other operations on ids not yet passed
        // (so they are deleted later) and lookups anywhere.
        for next in 0..IDS {
            now_ms += 1;
            step(&mut db, &mut model, next, 50, &mut rng, now_ms);
            if rng.gen_bool(0.3) {
                let op = rng.gen_range(0..100);
                // Ids above `next` only: re-creating a passed id would leave it undeleted.
                let id = if (50..75).contains(&op) || next + 1 == IDS {
                    rng.gen_range(0..IDS)
                } else {
                    rng.gen_range(next + 1..IDS)
                };
                let op = if next + 1 == IDS { 60 } else { op };
                step(&mut db, &mut model, id, op, &mut rng, now_ms);
            }
            ops += 1;
            if ops.is_multiple_of(20_000) {
                db.check_invariants();
            }
        }
        assert!(db.is_empty(), "cycle {cycle}: {} keys left", db.len());
        assert_eq!(db.expires_len(), 0);
        db.check_invariants();
        // Idle turns finish the shrink: back to the minimal table.
        for _ in 0..100 {
            if !db.rehash_idle(Duration::from_millis(10)) && db.bucket_count() == 4 {
                break;
            }
        }
        assert_eq!(
            db.bucket_count(),
            4,
            "cycle {cycle}: table did not shrink back"
        );
        model.map.clear();
    }
}

/// Every key present for the whole scan is returned, while inserts and deletes between SCAN
/// calls make the table grow (several doublings) and then shrink mid-scan.
#[test]
fn scan_survives_grow_and_shrink() {
    let mut rng = StdRng::seed_from_u64(13);
    let now_ms = 1_000u64;
    for round in 0..3 {
        let mut db = Db::new();
        let stable: Vec<Vec<u8>> = (0..300)
            .map(|i| format!("stable:{i}").into_bytes())
            .collect();
        for k in &stable {
            db.set(k, Value::Int(1), now_ms, false);
        }
        // Some stable keys have a TTL far away; a few expired keys must never be returned.
        for k in stable.iter().step_by(7) {
            db.set_expire_at_ms(k, now_ms + 1_000_000, now_ms);
        }
        let expired: Vec<Vec<u8>> = (0..50)
            .map(|i| format!("expired:{i}").into_bytes())
            .collect();
        for k in &expired {
            db.set(k, Value::Int(2), now_ms - 10, false);
            db.set_expire_at_ms(k, now_ms - 5, now_ms - 10);
        }
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut cursor = 0u64;
        let mut calls = 0u64;
        let mut churn_next = 0u64;
        let mut churn_live: Vec<u64> = Vec::new();
        let (mut grew, mut shrank) = (0, 0);
        let mut last_buckets = db.bucket_count();
        loop {
            cursor = db.scan(cursor, 3, now_ms, |k, _| {
                seen.insert(k.to_vec());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
            // First 150 calls: grow by 200 keys per call (30k churn keys); then delete them.
            if calls <= 150 {
                for _ in 0..200 {
                    db.set(
                        format!("churn:{churn_next}").as_bytes(),
                        Value::Int(0),
                        now_ms,
                        false,
                    );
                    churn_live.push(churn_next);
                    churn_next += 1;
                }
            } else {
                for _ in 0..200 {
                    if churn_live.is_empty() {
                        break;
                    }
                    let i = rng.gen_range(0..churn_live.len());
                    let id = churn_live.swap_remove(i);
                    assert!(db
                        .remove(format!("churn:{id}").as_bytes(), now_ms)
                        .is_some());
                }
            }
            if round == 1 && calls.is_multiple_of(5) {
                db.rehash_idle(Duration::from_micros(50));
            }
            let buckets = db.bucket_count();
            if buckets > last_buckets && !db.is_rehashing() {
                grew += 1;
            }
            if buckets < last_buckets && !db.is_rehashing() {
                shrank += 1;
            }
            if !db.is_rehashing() {
                last_buckets = buckets;
            }
            assert!(calls < 1_000_000, "scan does not terminate");
        }
        db.check_invariants();
        assert!(
            grew >= 2,
            "round {round}: table grew {grew} times during the scan"
        );
        assert!(
            shrank >= 1,
            "round {round}: table shrank {shrank} times during the scan"
        );
        for k in &stable {
            assert!(
                seen.contains(k),
                "round {round}: stable key {:?} not returned",
                String::from_utf8_lossy(k)
            );
        }
        for k in &expired {
            assert!(!seen.contains(k), "round {round}: expired key returned");
        }
        // Expired keys the scan met were reaped.
        assert!(db.expired_keys > 0);
    }
}

#[test]
fn scan_count_and_empty() {
    let mut db = Db::new();
    assert_eq!(db.scan(0, 10, 0, |_, _| panic!("empty db has no keys")), 0);
    for i in 0..1000 {
        db.set(&key(i), Value::Int(0), 0, false);
    }
    db.rehash_idle(Duration::from_secs(1));
    let mut n = 0;
    let cursor = db.scan(0, 10, 0, |_, _| n += 1);
    assert!(cursor != 0);
    // At least count keys (whole buckets may add a few more).
    assert!((10..30).contains(&n), "emitted {n}");
}

#[test]
fn lazy_expiry_on_every_lookup_kind() {
    let mut db = Db::new();
    let t_ms = 10_000u64;
    type Lookup = fn(&mut Db, &[u8], u64) -> bool;
    let lookups: [(&str, Lookup); 7] = [
        ("get", |db, k, now| db.get(k, now).is_some()),
        ("get_mut", |db, k, now| db.get_mut(k, now).is_some()),
        ("peek", |db, k, now| db.peek(k, now).is_some()),
        ("contains", |db, k, now| db.contains(k, now)),
        ("remove", |db, k, now| db.remove(k, now).is_some()),
        ("take", |db, k, now| db.take(k, now).is_some()),
        ("expire_at_ms", |db, k, now| {
            db.expire_at_ms(k, now).is_some()
        }),
    ];
    for (name, lookup) in lookups {
        db.set(b"k", Value::Int(1), t_ms, false);
        assert!(db.set_expire_at_ms(b"k", t_ms + 100, t_ms));
        // Alive up to and including the deadline millisecond (Redis: expired iff now > when).
        assert!(db.contains(b"k", t_ms + 100), "{name}");
        let expired_before = db.expired_keys;
        assert!(
            !lookup(&mut db, b"k", t_ms + 101),
            "{name}: expired key still visible"
        );
        assert_eq!(
            db.expired_keys,
            expired_before + 1,
            "{name}: expiry not counted"
        );
        assert_eq!(db.len(), 0, "{name}: expired key not reaped");
        assert_eq!(db.expires_len(), 0, "{name}");
        db.check_invariants();
    }
}

#[test]
fn set_over_expired_key_is_a_fresh_key() {
    let mut db = Db::new();
    db.set(b"k", Value::Int(1), 0, false);
    db.set_expire_at_ms(b"k", 50, 0);
    // SET with KEEPTTL over an expired key: the old value and its TTL are gone.
    assert_eq!(db.set(b"k", Value::Int(2), 100, true), None);
    assert_eq!(db.expired_keys, 1);
    assert_eq!(db.expire_at_ms(b"k", 100), Some(None));
    assert_eq!(db.get(b"k", 100), Some(&Value::Int(2)));
    db.check_invariants();
}

#[test]
fn set_clears_ttl_unless_keep_ttl() {
    let mut db = Db::new();
    db.set(b"k", Value::Int(1), 0, false);
    assert!(db.set_expire_at_ms(b"k", 1000, 0));
    assert_eq!(db.set(b"k", Value::Int(2), 10, true), Some(Value::Int(1)));
    assert_eq!(
        db.expire_at_ms(b"k", 10),
        Some(Some(1000)),
        "KEEPTTL keeps the deadline"
    );
    assert_eq!(db.set(b"k", Value::Int(3), 10, false), Some(Value::Int(2)));
    assert_eq!(
        db.expire_at_ms(b"k", 10),
        Some(None),
        "plain SET clears the TTL"
    );
    assert_eq!(db.expires_len(), 0);
    // The key survives its old deadline.
    assert_eq!(db.get(b"k", 5000), Some(&Value::Int(3)));
    db.check_invariants();
}

#[test]
fn persist_and_set_expire() {
    let mut db = Db::new();
    assert!(!db.set_expire_at_ms(b"nokey", 10, 0), "absent key");
    assert!(!db.persist(b"nokey", 0));
    db.set(b"k", Value::Int(1), 0, false);
    assert!(!db.persist(b"k", 0), "no TTL to remove");
    assert!(db.set_expire_at_ms(b"k", 100, 0));
    assert!(
        db.set_expire_at_ms(b"k", 200, 0),
        "update keeps one heap item"
    );
    assert_eq!(db.expires_len(), 1);
    assert_eq!(db.expire_at_ms(b"k", 0), Some(Some(200)));
    assert!(db.persist(b"k", 0));
    assert_eq!(db.expire_at_ms(b"k", 0), Some(None));
    assert_eq!(db.expires_len(), 0);
    assert_eq!(db.get(b"k", 1_000_000), Some(&Value::Int(1)));
    // A deadline in the past is stored as given; the next lookup reaps the key.
    assert!(db.set_expire_at_ms(b"k", 5, 1_000_000));
    assert!(!db.contains(b"k", 1_000_000));
    db.check_invariants();
}

#[test]
fn take_keeps_the_deadline() {
    let mut db = Db::new();
    db.set(b"a", Value::Int(1), 0, false);
    db.set(b"b", Value::from_bytes(b"hello"), 0, false);
    db.set_expire_at_ms(b"b", 777, 0);
    assert_eq!(db.take(b"a", 0), Some((Value::Int(1), None)));
    assert_eq!(
        db.take(b"b", 0),
        Some((Value::from_bytes(b"hello"), Some(777)))
    );
    assert_eq!(db.take(b"b", 0), None);
    assert!(db.is_empty());
    assert_eq!(db.expires_len(), 0);
    db.check_invariants();
}

#[test]
fn active_expire_in_deadline_order_and_bounded() {
    let mut db = Db::new();
    let mut rng = StdRng::seed_from_u64(14);
    let mut deadlines: Vec<(u64, u64)> = Vec::new();
    for id in 0..500u64 {
        db.set(&key(id), Value::Int(id as i64), 0, false);
        let d = rng.gen_range(1..10_000u64);
        db.set_expire_at_ms(&key(id), d, 0);
        deadlines.push((d, id));
    }
    for id in 500..600u64 {
        db.set(&key(id), Value::Int(0), 0, false);
    }
    deadlines.sort();
    let now_ms = 5_000;
    let due = deadlines.iter().filter(|&&(d, _)| now_ms > d).count();
    assert!(due > 100);
    // keys_max bounds each call; the earliest deadlines go first.
    assert_eq!(db.active_expire(now_ms, 40, far_future()), 40);
    let first_live = deadlines[40].0;
    for &(d, id) in &deadlines[..40] {
        assert!(
            !db.contains(&key(id), 0),
            "key with deadline {d} should be gone"
        );
    }
    for &(_, id) in &deadlines[40..] {
        assert!(
            db.contains(&key(id), 0),
            "keys after the first 40 deadlines are untouched"
        );
    }
    assert!(first_live >= deadlines[39].0);
    // A budget already spent stops after one clock check (16 keys).
    assert_eq!(db.active_expire(now_ms, usize::MAX, Instant::now()), 16);
    // The rest of the due keys, and nothing that is not due.
    assert_eq!(db.active_expire(now_ms, usize::MAX, far_future()), due - 56);
    assert_eq!(db.active_expire(now_ms, usize::MAX, far_future()), 0);
    assert_eq!(db.expired_keys, due as u64);
    assert_eq!(db.len(), 600 - due);
    assert_eq!(db.expires_len(), 500 - due);
    db.check_invariants();
}

#[test]
fn avg_ttl_and_counts() {
    let mut db = Db::new();
    assert_eq!(db.avg_ttl_ms(0), 0);
    for (i, d) in [1000u64, 2000, 3000].into_iter().enumerate() {
        db.set(&key(i as u64), Value::Int(0), 0, false);
        db.set_expire_at_ms(&key(i as u64), d, 0);
    }
    db.set(b"nottl", Value::Int(0), 0, false);
    assert_eq!(db.expires_len(), 3);
    assert_eq!(db.len(), 4);
    assert_eq!(db.avg_ttl_ms(500), 1500);
}

#[test]
fn idle_seconds_and_touching() {
    let mut db = Db::new();
    let t_ms = 1_700_000_000_000u64;
    db.set(b"k", Value::Int(0), t_ms, false);
    assert_eq!(db.idle_seconds(b"k", t_ms + 5_500), Some(5));
    // peek, contains and idle_seconds do not touch; get does.
    db.peek(b"k", t_ms + 9_000);
    db.contains(b"k", t_ms + 9_000);
    assert_eq!(db.idle_seconds(b"k", t_ms + 10_000), Some(10));
    db.get(b"k", t_ms + 10_000);
    assert_eq!(db.idle_seconds(b"k", t_ms + 12_000), Some(2));
    assert_eq!(db.idle_seconds(b"nokey", t_ms), None);
}

#[test]
fn random_key_reaps_expired_and_finds_the_live_one() {
    let mut db = Db::new();
    assert_eq!(db.random_key(0, false), None);
    for id in 0..2000 {
        db.set(&key(id), Value::Int(0), 0, false);
        db.set_expire_at_ms(&key(id), 10, 0);
    }
    db.set(b"live", Value::Int(0), 0, false);
    // Almost everything is expired: RANDOMKEY must still answer the live key.
    assert_eq!(db.random_key(100, false), Some(b"live".to_vec()));
    assert!(db.expired_keys > 0);
    db.check_invariants();
    // Only expired keys: None, and (bounded work) at least some were reaped.
    db.remove(b"live", 100);
    assert_eq!(db.random_key(100, false), None);
    // Randomness: with several live keys, more than one is returned.
    let mut db = Db::new();
    for id in 0..10 {
        db.set(&key(id), Value::Int(0), 0, false);
    }
    let picks: HashSet<Vec<u8>> = (0..200).filter_map(|_| db.random_key(0, false)).collect();
    assert!(picks.len() > 5, "only {} distinct keys", picks.len());
    // A replica whose keys all have a TTL, all past it (and not reaped: expiry is held
    // there): one of them, as Redis's dbRandomKey answers after its tries.
    let mut db = Db::new();
    db.expiry_paused = true;
    for id in 0..3 {
        db.set(&key(id), Value::Int(0), 0, false);
        db.set_expire_at_ms(&key(id), 10, 0);
    }
    assert!(db.random_key(100, true).is_some());
    assert_eq!(db.random_key(100, false), None);
    assert_eq!(db.len(), 3, "nothing reaped while expiry is held");
}

#[test]
fn for_each_skips_expired_and_take_all_empties() {
    let mut db = Db::new();
    for id in 0..100 {
        db.set(&key(id), Value::Int(id as i64), 0, false);
    }
    for id in 0..30 {
        db.set_expire_at_ms(&key(id), 10, 0);
    }
    let mut n = 0;
    db.for_each(11, |_, _| n += 1);
    assert_eq!(n, 70);
    let old = db.take_all();
    assert!(db.is_empty());
    assert_eq!(db.expires_len(), 0);
    assert_eq!(old.len(), 100);
    assert_eq!(old.expires_len(), 30);
    old.check_invariants();
    db.check_invariants();
    // The old contents can be dropped on another thread (FLUSHALL ASYNC).
    std::thread::spawn(move || drop(old)).join().unwrap();
    db.set(b"k", Value::Int(1), 0, false);
    assert_eq!(db.get(b"k", 0), Some(&Value::Int(1)));
}

#[test]
fn binary_and_empty_keys() {
    let mut db = Db::new();
    let keys: Vec<Vec<u8>> = vec![vec![], vec![0], vec![0, 0, 0xff], vec![7; 300]];
    for (i, k) in keys.iter().enumerate() {
        db.set(k, Value::Int(i as i64), 0, false);
        db.set_expire_at_ms(k, 100 + i as u64, 0);
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            db.take(k, 0),
            Some((Value::Int(i as i64), Some(100 + i as u64)))
        );
    }
    db.check_invariants();
}
