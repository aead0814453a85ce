//! Data structures below both `keyspace` and `types`: generic over what they store, they know
//! nothing of values, commands or the server.
pub mod dict;
pub mod small_str;
