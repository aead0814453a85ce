//! RESP: request parsing and reply encoding.
pub mod reply;
