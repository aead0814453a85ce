//! Persistence: RDB snapshots (`rdb`: the codec, `rdb_lp`: the compact blobs inside it).
pub mod rdb;
pub mod rdb_lp;
