//! Persistence: the append-only file (`aof`) in Redis 7.0's multi-part layout.
//!
//! - `aof::parse_command` / `aof::parse_aof`: the pure RESP-multibulk reader of AOF files; it
//!   never panics and reports the offset of the first command it cannot read.
//! - `aof::Manifest`: the `appendonly.aof.manifest` file (base, history, incr entries).
//! - `aof::Aof`: the writer state the loop owns: the turn's buffer, the write and fsync in
//!   flight on the ring, the group-commit sequence numbers, the error status.
//! - `aof::start` / `aof::rewrite`: loading at start-up and writing a new base.
//! - `snapshot`: a point-in-time view of the keyspace read in slices with key-level
//!   copy-on-write; the incremental rewrite uses it, an RDB BGSAVE can reuse it.
//!
//! RDB bases: a manifest may name an RDB base (`*.base.rdb`, or a base starting with the
//! `REDIS` magic, which Redis writes with `aof-use-rdb-preamble yes`). The loader hands such a
//! base to [`rdb_base_loader`], the single point where the RDB module plugs in.

pub mod aof;
pub mod snapshot;

use crate::server::Server;
use std::path::Path;

/// Loads an RDB base file (`bytes` is the whole file) into `srv.dbs` and returns how many
/// bytes it consumed (an RDB preamble may be followed by AOF commands in old single-file
/// AOFs). Until the RDB module is wired in, every RDB base is refused with a clear error, so
/// start-up stops instead of starting with a partial dataset.
pub fn rdb_base_loader(_srv: &mut Server, file: &Path, _bytes: &[u8]) -> Result<usize, String> {
    Err(format!(
        "RDB base files need the RDB loader: {} is an RDB file (written with \
         aof-use-rdb-preamble yes), and this build of ringkv cannot read RDB yet",
        file.display()
    ))
}
