//! The deterministic figure behind the full sync's memory row (issue 19): the bytes a
//! forkless snapshot of 1,000,000 keys (`key:%012d`, 10-byte values, the bench's keyspace)
//! holds beyond the data at its peak, as the allocator counts them (`ringkv::alloc`), while a
//! write load overwrites random keys between the walk's slices (`WRITES_PER_SLICE` SETs per
//! slice of `SLICE_KEYS` emitted keys, about what `SET -c 50 -P 16` gets in between).
//!
//! Run: `cargo run --release --example cow_peak [keys]`.

use ringkv::keyspace::value::Value;
use ringkv::keyspace::Db;

const SLICE_KEYS: usize = 1000;
const WRITES_PER_SLICE: usize = 400;

fn main() {
    let keys: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let now_ms = 1_700_000_000_000;
    let mut db = Db::new();
    for i in 0..keys {
        let k = format!("key:{i:012}");
        db.set(
            k.as_bytes(),
            Value::from_bytes_no_int(b"xxxxxxxxxx"),
            now_ms,
            false,
        );
    }
    let base = ringkv::alloc::allocated();
    let started = std::time::Instant::now();
    db.snapshot_begin(0);
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut peak, mut peak_cow, mut emitted, mut bytes) = (0usize, 0usize, 0usize, 0usize);
    loop {
        let done = db.snapshot_step(SLICE_KEYS, |_, k, _, _| {
            emitted += 1;
            bytes += k.len();
        });
        peak = peak.max(ringkv::alloc::allocated().saturating_sub(base));
        peak_cow = peak_cow.max(db.cow_bytes());
        if done {
            break;
        }
        for _ in 0..WRITES_PER_SLICE {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let k = format!("key:{:012}", rng % keys as u64);
            db.set(
                k.as_bytes(),
                Value::from_bytes_no_int(b"yyyyyyyyyy"),
                now_ms,
                false,
            );
        }
        peak = peak.max(ringkv::alloc::allocated().saturating_sub(base));
        peak_cow = peak_cow.max(db.cow_bytes());
    }
    let walked = started.elapsed();
    db.snapshot_end();
    // The same walk with no writes, encoding every key as a full sync does.
    let opts = ringkv::persist::rdb::SaveOptions {
        compression: true,
        checksum: true,
        aux: Vec::new(),
        functions: Vec::new(),
    };
    let mut writer = ringkv::persist::rdb::RdbWriter::new(&opts);
    let encode_started = std::time::Instant::now();
    db.snapshot_begin(0);
    writer.select(0);
    let mut rdb_bytes = 0;
    while !db.snapshot_step(128, |_, k, v, d| writer.key_value(k, v, d)) {
        if writer.pending() >= 256 << 10 {
            rdb_bytes += writer.take_bytes().len();
        }
    }
    rdb_bytes += writer.finish().len();
    let encoded = encode_started.elapsed();
    db.snapshot_end();
    println!(
        "walk + RDB encoding, no writes: {:.0} ms, {:.1} MiB of RDB",
        encoded.as_secs_f64() * 1000.0,
        rdb_bytes as f64 / 1048576.0
    );
    println!(
        "{keys} keys: emitted {emitted} ({bytes} key bytes); peak extra allocated {:.1} KiB \
         ({:.2} bytes/key), peak cow_bytes {:.1} KiB; walk with writes {:.0} ms",
        peak as f64 / 1024.0,
        peak as f64 / keys as f64,
        peak_cow as f64 / 1024.0,
        walked.as_secs_f64() * 1000.0
    );
}
