//! Persistence: RDB snapshots.
//! - `rdb`: the RDB version 10 codec (no I/O): `save_to`/`RdbWriter`, `load`/`load_into`.
//! - `rdb_lp`: the compact blobs inside it (listpack, ziplist, zipmap, intset).
//! - `rdb_server`: SAVE, the `save` schedule, SHUTDOWN's save, start-up load, INFO fields.
//! - `rdb_snapshot`: BGSAVE without fork, walking `keyspace::cow` snapshots in slices.
pub mod rdb;
pub mod rdb_lp;
pub mod rdb_server;
pub mod rdb_snapshot;
