//! ringkv: a Redis-compatible in-memory key-value server on io_uring (module map grows here).
pub mod keyspace;
pub mod resp;
pub mod util;
