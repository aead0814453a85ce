//! The copy-on-write log's memory count (`Db::cow_bytes`, what eviction leaves out of used
//! memory while a snapshot runs) against the allocator's own count. A test binary of its own:
//! the allocator's counter is process-wide, so other tests allocating on other threads at
//! the same time would move it.

use ringkv::keyspace::value::Value;
use ringkv::keyspace::Db;

#[test]
fn cow_bytes_follow_the_copies() {
    let mut db = Db::new();
    let now_ms = 1_700_000_000_000;
    for i in 0..5000 {
        db.set(
            format!("k:{i}").as_bytes(),
            Value::from_bytes_no_int(&[b'v'; 100]),
            now_ms,
            false,
        );
    }
    db.snapshot_begin(0);
    let before = ringkv::alloc::allocated();
    for i in 0..5000 {
        // A write access saves the snapshot's copy and changes nothing else.
        assert!(db.get_mut(format!("k:{i}").as_bytes(), now_ms).is_some());
    }
    let grown = ringkv::alloc::allocated() - before;
    let cow = db.cow_bytes();
    eprintln!("allocated grew {grown}, cow_bytes {cow}");
    assert!(
        cow.abs_diff(grown) < grown / 20,
        "cow_bytes {cow} vs {grown} allocated"
    );
    // Emitting the copies gives their memory back, and the count follows.
    let before = ringkv::alloc::allocated();
    let mut emitted = 0;
    while !db.snapshot_step(1000, |_, _, _, _| emitted += 1) {}
    let freed = before - ringkv::alloc::allocated();
    assert!(emitted >= 5000);
    assert!(
        db.cow_bytes() < cow - freed / 2,
        "cow_bytes {} after {freed} freed",
        db.cow_bytes()
    );
    db.snapshot_end();
    assert_eq!(db.cow_bytes(), 0);
}
