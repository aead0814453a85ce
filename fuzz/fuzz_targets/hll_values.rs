//! `hll_values`: arbitrary bytes stored as a string and handed to the HyperLogLog commands'
//! keyspace operations (`cmd::hll`: PFADD, PFCOUNT of one and of several keys, PFMERGE into
//! a new and into the same key, every PFDEBUG subcommand), in an order and with a
//! `hll-sparse-max-bytes` the input picks. Every operation must answer a value or an error,
//! never panic or hang. What it also checks:
//! - a destination PFMERGE created keeps `types::hll::check_invariants`, and counts what
//!   PFCOUNT of the same keys answered;
//! - a value that every command accepted as a HyperLogLog still passes the header check
//!   after the commands changed it.
//!
//! Input: byte 0 picks whether a `HYLL` header (encoding from bit 1) is put before the rest,
//! so that most inputs reach the opcode parsers; bytes 1..=8 are the operations, one per
//! byte; the rest is the value (after the optional header, its first 8 bytes are the cached
//! cardinality).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringkv::cmd::hll::{op_merge_source, op_pfadd, op_pfcount_one, op_pfdebug, op_pfmerge_store, DebugOp};
use ringkv::keyspace::value::Value;
use ringkv::keyspace::Db;
use ringkv::types::hll::{self, REGISTERS};

const NOW_MS: u64 = 1_700_000_000_000;
const KEY: &[u8] = b"k";
const OTHER: &[u8] = b"other";
const DEST: &[u8] = b"dest";

fn bytes_of(db: &mut Db, key: &[u8]) -> Option<Vec<u8>> {
    match db.get(key, NOW_MS)? {
        Value::Raw(b) | Value::Emb(b) => Some(b.to_vec()),
        Value::Small(s) => Some(s.as_bytes().to_vec()),
        Value::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let (head, rest) = data.split_at(9);
    let mut value = Vec::new();
    if head[0] & 1 != 0 {
        value.extend_from_slice(b"HYLL");
        value.extend_from_slice(&[(head[0] >> 1) & 1, 0, 0, 0]);
    }
    value.extend_from_slice(rest);
    let sparse_max = [3000, 0, 20, 100, 200, 12304, 1 << 20, 17][usize::from(head[0] >> 2) & 7];
    let mut db = Db::new();
    db.set(KEY, Value::from_bytes(&value), NOW_MS, false);
    db.set(OTHER, Value::raw(hll::new_sparse()), NOW_MS, false);
    let _ = op_pfadd(&mut db, OTHER, [&b"a"[..], b"b", b"c"].into_iter(), 3000, NOW_MS);
    let mut all_ok = true;
    for &op in &head[1..] {
        let ok = match op % 10 {
            0 | 1 => {
                let e1 = [op];
                let e2 = op.wrapping_mul(31).to_le_bytes();
                op_pfadd(&mut db, KEY, [&e1[..], &e2[..], b"x"].into_iter(), sparse_max, NOW_MS).is_ok()
            }
            2 => op_pfcount_one(&mut db, KEY, NOW_MS).is_ok(),
            3 => {
                // PFCOUNT k other, then PFMERGE dest k other: the same union.
                let mut max = Box::new([0u8; REGISTERS]);
                let first = op_merge_source(&mut db, KEY, &mut max, NOW_MS);
                let second = op_merge_source(&mut db, OTHER, &mut max, NOW_MS);
                if let (Ok(e1), Ok(e2)) = (first, second) {
                    let count = hll::count_registers(&max);
                    db.remove(DEST, NOW_MS);
                    let dense = [e1, e2].contains(&Some(hll::Encoding::Dense));
                    op_pfmerge_store(&mut db, DEST, &max, dense, sparse_max, NOW_MS)
                        .expect("a new destination takes any merge");
                    let d = bytes_of(&mut db, DEST).expect("destination stored");
                    hll::check_invariants(&d);
                    assert_eq!(hll::count(&d), Ok(count), "PFMERGE and PFCOUNT disagree");
                }
                let read = first.and(second);
                read.is_ok()
            }
            4 => {
                // PFMERGE k k: the key into itself.
                let mut max = Box::new([0u8; REGISTERS]);
                match op_merge_source(&mut db, KEY, &mut max, NOW_MS) {
                    Ok(enc) => op_pfmerge_store(
                        &mut db,
                        KEY,
                        &max,
                        enc == Some(hll::Encoding::Dense),
                        sparse_max,
                        NOW_MS,
                    )
                    .is_ok(),
                    Err(_) => false,
                }
            }
            5 => op_pfdebug(&mut db, KEY, Some(DebugOp::GetReg), NOW_MS).is_ok(),
            6 => op_pfdebug(&mut db, KEY, Some(DebugOp::Decode), NOW_MS).is_ok(),
            7 => op_pfdebug(&mut db, KEY, Some(DebugOp::Encoding), NOW_MS).is_ok(),
            8 => op_pfdebug(&mut db, KEY, Some(DebugOp::ToDense), NOW_MS).is_ok(),
            _ => op_pfdebug(&mut db, KEY, None, NOW_MS).is_ok(),
        };
        all_ok &= ok;
    }
    if all_ok {
        let v = bytes_of(&mut db, KEY).expect("the key stays");
        assert!(hll::validate(&v).is_ok(), "an accepted value lost its header");
    }
    db.check_invariants();
});
