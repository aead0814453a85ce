//! `restore_payload`: feeds any bytes to RESTORE's payload reader
//! (`persist::rdb::parse_dump_payload`), once with the checksum checked, as the command does,
//! and once without, so that mutated bodies reach the value loader. Each must return the
//! value or one of Redis's two errors, never panic, hang or allocate from an untrusted
//! length. A value that loads is checked with its type's `check_invariants()`, dumped with
//! `dump_payload` (compressed and not) and read back: the contents must be the same (a hash
//! table's order may change), and the value must go into a `Db` with its access data set.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringkv::keyspace::value::Value;
use ringkv::keyspace::Db;
use ringkv::persist::rdb::{dump_payload, parse_dump_payload, Limits};

/// A fixed clock (2023-11-14), so a run does not depend on the day it runs.
const NOW_MS: u64 = 1_700_000_000_000;

fn check(v: &mut Value) {
    match v {
        Value::List(l) => l.check_invariants(),
        Value::Hash(h) => h.check_invariants(),
        Value::Set(s) => s.check_invariants(),
        Value::ZSet(z) => z.check_invariants(),
        _ => {}
    }
}

/// The value's contents in a form that does not depend on its encoding or its hash table's
/// order: a string's bytes, a list's or sorted set's entries in order, a set's members and
/// a hash's pairs sorted.
fn contents(v: &Value) -> Vec<Vec<u8>> {
    let mut ibuf = itoa::Buffer::new();
    let mut out: Vec<Vec<u8>> = Vec::new();
    match v {
        Value::List(l) => out.extend(l.iter().map(|e| e.into_owned())),
        Value::Set(s) => {
            s.for_each(|m| out.push(m.bytes(&mut ibuf).to_vec()));
            out.sort();
        }
        Value::Hash(h) => {
            h.for_each(|f, v| out.push([f, b"=", v].concat()));
            out.sort();
        }
        Value::ZSet(z) => {
            for (m, s) in z.iter_from(0, false) {
                out.push([m, &s.to_le_bytes()[..]].concat());
            }
        }
        other => out.extend(other.str_bytes(&mut ibuf).map(<[u8]>::to_vec)),
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let lim = Limits::default();
    let checked = parse_dump_payload(data, true, &lim);
    let Ok(mut v) = parse_dump_payload(data, false, &lim) else {
        assert!(checked.is_err(), "a payload refused unchecked cannot load checked");
        return;
    };
    check(&mut v);
    let want = contents(&v);
    for compress in [false, true] {
        let first = dump_payload(&v, compress);
        let mut back = parse_dump_payload(&first, true, &lim).expect("our own payload reads back");
        check(&mut back);
        assert_eq!(contents(&back), want, "a dumped value reads back the same");
    }
    let mut db = Db::new();
    db.set(b"k", v, NOW_MS, false);
    assert!(db.set_access_hint(b"k", Some(7), Some(1_000), NOW_MS));
    db.check_invariants();
});
