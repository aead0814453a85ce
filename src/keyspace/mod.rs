//! The keyspace (filled in by the keyspace work).
pub mod value;
