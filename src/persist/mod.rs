//! Persistence: the append-only file (`aof`) in Redis 7.0's multi-part layout, and RDB
//! snapshots.
//!
//! - `aof::parse_command` / `aof::parse_aof`: the pure RESP-multibulk reader of AOF files; it
//!   never panics and reports the offset of the first command it cannot read.
//! - `aof::Manifest`: the `appendonly.aof.manifest` file (base, history, incr entries).
//! - `aof::Aof`: the writer state the loop owns: the turn's buffer, the write and fsync in
//!   flight on the ring, the group-commit sequence numbers, the error status.
//! - `aof::Startup` / `aof::start` / `aof::rewrite`: loading at start-up and writing a new
//!   base; the incremental rewrite walks the same `keyspace::cow` snapshots as BGSAVE, so the
//!   two never run at once (each waits for the other, as in Redis).
//! - `rdb`: the RDB version 10 codec (no I/O): `save_to`/`RdbWriter`, `load`/`load_into`.
//! - `rdb_lp`: the compact blobs inside it (listpack, ziplist, zipmap, intset).
//! - `rdb_server`: `RdbState`: SAVE, the `save` schedule, SHUTDOWN's save, start-up load,
//!   INFO fields.
//! - `rdb_snapshot`: BGSAVE without fork, walking `keyspace::cow` snapshots in slices.
//!
//! Layering: this module knows neither the server state nor the commands. Each call takes
//! the state it works on (`Aof`, `RdbState`) and an [`Env`] of borrowed server parts (the
//! settings, the databases, the function libraries, the clock); what the server must do
//! afterwards in state it owns (release held replies, switch the journal, turn `appendonly`
//! off) the AOF leaves in `aof::Effects`, which `server::persistence` applies after every call. The AOF loader runs
//! the commands it reads through the server's [`aof::Replay`]. The commands SAVE, BGSAVE,
//! LASTSAVE and BGREWRITEAOF live in `cmd::debug`.
//!
//! RDB bases: a manifest may name an RDB base (`*.base.rdb`, or a base starting with the
//! `REDIS` magic, which Redis writes with `aof-use-rdb-preamble yes`). The AOF loader hands
//! such a base to [`rdb_base_loader`], which loads it with the RDB codec.

/// Bytes written between two incremental syncs (Redis's REDIS_AUTOSYNC_BYTES).
const AUTOSYNC_BYTES: u64 = 4 << 20;

/// The incremental sync of a file being written (`rdb-save-incremental-fsync`,
/// `aof-rewrite-incremental-fsync`, as Redis's rio autosync): every 4 MiB written, the data
/// so far is synced by a short-lived thread, so that the disk never holds a whole
/// snapshot's dirty pages and the final sync has little left to do, and the loop never
/// waits for it. At most one sync per file runs at a time (a boundary passed meanwhile is
/// covered by the next).
#[derive(Default)]
pub struct IncrementalSync {
    since_bytes: u64,
    running: Option<std::thread::JoinHandle<()>>,
}

impl IncrementalSync {
    /// `n` more bytes went to `file`; `enabled`: the setting.
    pub fn wrote(&mut self, file: &std::fs::File, n: usize, enabled: bool) {
        if !enabled {
            return;
        }
        self.since_bytes += n as u64;
        if self.since_bytes < AUTOSYNC_BYTES
            || self.running.as_ref().is_some_and(|h| !h.is_finished())
        {
            return;
        }
        if let Some(h) = self.running.take() {
            let _ = h.join();
        }
        let Ok(f) = file.try_clone() else {
            return;
        };
        self.since_bytes = 0;
        self.running = std::thread::Builder::new()
            .name("ringkv-autosync".into())
            .spawn(move || {
                // Errors show at the final sync, which the save checks.
                let _ = f.sync_data();
            })
            .ok();
    }
}

/// Makes a complete snapshot written to `tmp` the file at `dest`: synced, renamed over it,
/// the directory synced (the destination is only ever replaced by a complete, synced
/// file). Run on a thread: the loop never waits for the disk.
pub fn sync_and_rename(
    file: std::fs::File,
    tmp: &std::path::Path,
    dest: &std::path::Path,
) -> Result<(), String> {
    file.sync_all()
        .map_err(|e| format!("Write error saving DB on disk: {e}"))?;
    drop(file);
    std::fs::rename(tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        format!("Error moving temp DB file on the final destination: {e}")
    })?;
    if let Some(dir) = dest.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

pub mod aof;
pub mod rdb;
pub mod rdb_lp;
pub mod rdb_server;
pub mod rdb_snapshot;

use crate::config::Config;
use crate::keyspace::Db;
use std::path::Path;

/// The server state a persistence call reads or changes besides its own, borrowed for the
/// call. The server builds it (`Server::persist_parts`).
pub struct Env<'a> {
    pub config: &'a Config,
    pub dbs: &'a mut [Db],
    /// The loop's clock for this turn.
    pub now_ms: u64,
    /// The server's write counter (`stats.dirty`): a save records it, and the changes since
    /// the last save are measured from it.
    pub dirty: u64,
    /// Bytes allocated (the `used-mem` aux field of an RDB file).
    pub used_memory: u64,
    /// The function libraries: saved before the databases, replaced by a load.
    pub functions: &'a mut crate::script::functions::Functions,
    /// A replica's place in its primary's stream, saved in snapshots (`repl::replica`).
    pub repl: Option<crate::repl::replica::SavedReplInfo<'a>>,
}

/// Loads an RDB base file (`bytes` is the whole file) into `dbs` and returns how many bytes
/// it consumed (an RDB preamble may be followed by AOF commands in old single-file AOFs) and
/// the function libraries it holds (code and record offset) for the caller to create.
/// Expired keys are kept, as Redis does for a preamble: the AOF that follows may refer to
/// them.
pub fn rdb_base_loader(
    dbs: &mut [Db],
    now_ms: u64,
    file: &Path,
    bytes: &[u8],
) -> Result<(usize, rdb::FoundLibraries), String> {
    let mut opts = rdb::LoadOptions::new(now_ms);
    opts.skip_expired = false;
    rdb::load(bytes, dbs, &opts)
        .map(|s| (s.consumed, s.functions))
        .map_err(|e| format!("Bad file format reading {}: {e}", file.display()))
}

#[cfg(test)]
mod incremental_sync_tests {
    use super::{IncrementalSync, AUTOSYNC_BYTES};
    use std::io::Write;

    #[test]
    fn a_sync_starts_every_4_mib_and_only_when_enabled() {
        let path = std::env::temp_dir().join(format!("ringkv-autosync-{}", std::process::id()));
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        let mut off = IncrementalSync::default();
        let mut on = IncrementalSync::default();
        let mut written = 0u64;
        while written < AUTOSYNC_BYTES - chunk.len() as u64 {
            f.write_all(&chunk).unwrap();
            written += chunk.len() as u64;
            on.wrote(&f, chunk.len(), true);
            off.wrote(&f, chunk.len(), false);
            assert!(on.running.is_none(), "a sync before 4 MiB");
        }
        f.write_all(&chunk).unwrap();
        on.wrote(&f, chunk.len(), true);
        off.wrote(&f, chunk.len(), false);
        assert!(on.running.is_some(), "no sync at 4 MiB");
        assert_eq!(on.since_bytes, 0);
        assert!(off.running.is_none() && off.since_bytes == 0);
        if let Some(h) = on.running.take() {
            h.join().unwrap();
        }
        let _ = std::fs::remove_file(&path);
    }
}
