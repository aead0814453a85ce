//! Collection value types: lists, hashes, sets, sorted sets and streams, and the HyperLogLog layout of
//! string values (`hll`). Each knows nothing of RESP or the keyspace; the command families in
//! `cmd` drive them.
pub mod avl;
pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod stream;
pub mod zset;
