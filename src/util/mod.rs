//! Small helpers shared by the protocol and the commands.
pub mod num;
