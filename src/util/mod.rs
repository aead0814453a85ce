//! Small helpers shared by the protocol and the commands.
pub mod glob;
pub mod num;
