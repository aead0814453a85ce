//! Client connections.
pub mod conn;
