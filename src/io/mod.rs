//! Kernel I/O.
pub mod ring;
