//! Persistence: RDB snapshots. `rdb` is the codec (no I/O), `rdb_lp` the compact blobs inside
//! it (listpack, ziplist, zipmap, intset), `rdb_server` the SAVE / load / schedule glue, `rdb_snapshot` the forkless BGSAVE.
pub mod rdb;
pub mod rdb_lp;
pub mod rdb_server;
pub mod rdb_snapshot;
