//! `rdb_loader`: feeds any bytes to the RDB loader (`persist::rdb::load` with the checksum
//! check off, so corrupted bodies are read to the end, and `persist::rdb::load_into` with its
//! defaults) into fresh `Db`s. Each load must return an error or Ok, never panic, hang or
//! allocate from an untrusted length. After an Ok load it checks every `Db` with
//! `check_invariants()` and every collection value with its own `check_invariants()`, then
//! saves the databases with `persist::rdb::save_to` and loads that back: the reload must
//! succeed with the same number of keys in every database and the same function library
//! records. Function records (opcodes 245 and 246) found are also created as libraries in a
//! function engine, which must answer Ok or Redis's error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringkv::keyspace::value::Value;
use ringkv::keyspace::Db;
use ringkv::persist::rdb::{load, load_into, save_to, LoadOptions, SaveOptions};
use ringkv::script::functions::Functions;

/// A fixed clock (2023-11-14), so a run does not depend on the day it runs.
const NOW_MS: u64 = 1_700_000_000_000;
const DATABASES: usize = 16;

fn fresh() -> Vec<Db> {
    (0..DATABASES).map(|_| Db::new()).collect()
}

fn check_all(dbs: &mut [Db]) {
    for db in dbs.iter_mut() {
        db.check_invariants();
        let mut keys = Vec::new();
        db.for_each(NOW_MS, |k, _| keys.push(k.to_vec()));
        for k in keys {
            match db.get_mut(&k, NOW_MS) {
                Some(Value::List(l)) => l.check_invariants(),
                Some(Value::Hash(h)) => h.check_invariants(),
                Some(Value::Set(s)) => s.check_invariants(),
                Some(Value::ZSet(z)) => z.check_invariants(),
                _ => {}
            }
        }
        db.check_invariants();
    }
}

fuzz_target!(|data: &[u8]| {
    let mut opts = LoadOptions::new(NOW_MS);
    opts.verify_checksum = false;
    let mut dbs = fresh();
    if let Ok(stats) = load(data, &mut dbs, &opts) {
        check_all(&mut dbs);
        let codes: Vec<Vec<u8>> = stats.functions.iter().map(|(_, c)| c.clone()).collect();
        if !codes.is_empty() {
            let functions = Functions::new(Default::default());
            if let Ok(libs) = functions.create_all(codes.iter().map(Vec::as_slice), false) {
                assert!(libs.len() <= codes.len());
            }
        }
        let save = SaveOptions {
            compression: true,
            checksum: true,
            aux: Vec::new(),
            functions: codes.clone(),
        };
        let mut out = Vec::new();
        save_to(&dbs, &mut out, &save);
        let mut again = fresh();
        match load(&out, &mut again, &LoadOptions::new(NOW_MS)) {
            Ok(reloaded) => {
                let again_codes: Vec<Vec<u8>> =
                    reloaded.functions.into_iter().map(|(_, c)| c).collect();
                assert_eq!(again_codes, codes, "function records changed by save/load");
                for (i, (a, b)) in dbs.iter().zip(&again).enumerate() {
                    assert_eq!(a.len(), b.len(), "db {i}: key count changed by save/load");
                }
                check_all(&mut again);
            }
            Err(e) => panic!("ringkv cannot load its own RDB: {e:?}"),
        }
    }

    let mut dbs = fresh();
    if load_into(data, &mut dbs, NOW_MS).is_ok() {
        check_all(&mut dbs);
    }
});
