//! BGSAVE without fork: a point-in-time snapshot written in bounded slices from the loop's
//! housekeeping, while commands keep running. Every database records copy-on-write data
//! (`keyspace::cow`) from the start, so each slice emits keys exactly as they were when
//! BGSAVE started; the bytes go to a temp file as they accumulate, and the final fsync and
//! rename run on a short-lived thread so the loop never waits for the disk.
//!
//! ```text
//! BGSAVE ─► begin: snapshot_begin on every db, header to <dir>/temp-<pid>-bg.rdb
//! each tick ─► step: db.snapshot_step(budget) for each db ─► RdbWriter ─► write(file)
//! all done ─► EOF + CRC, thread { fsync; rename to <dir>/<dbfilename>; fsync dir }
//! tick ─► poll: thread finished ─► lastsave, status, dirty-at-save = dirty when BGSAVE began
//! ```
//! Cost while a job runs: one copy of every key name (the walk's dedup set), a copy of each
//! value changed before the walk reached it, and tables flushed meanwhile stay allocated until
//! walked. With no job, the hooks are one branch each.
//!
//! Invariants: at most one job; while a job exists every database has a copy-on-write log,
//! and ending or aborting the job removes all of them; the destination file is replaced only
//! by a complete, fsynced snapshot. The AOF rewrite walks the same logs with another record
//! encoder (`persist::aof`), so a job never starts while a rewrite runs (BGSAVE is refused
//! or, with SCHEDULE, started by `RdbState::save_due` once the rewrite ends) and a rewrite
//! waits for the job to end. The job lives in `RdbState::bgsave`; its methods take the
//! server parts they need as a `persist::Env`.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::rdb::RdbWriter;
use super::rdb_server::{rdb_path, save_options, RdbState};
use super::Env;
use crate::keyspace::Db;

/// Keys emitted between clock reads during a step.
const KEYS_PER_SLICE: usize = 256;
/// Buffered snapshot bytes that trigger a write to the temp file.
const WRITE_CHUNK_BYTES: usize = 1 << 16;
/// Share of a tick a step may use (like active expiry's 25%).
const STEP_SHARE_PCT: u32 = 25;

/// A background save in progress.
pub struct BgSave {
    writer: Option<RdbWriter>,
    file: Option<std::fs::File>,
    tmp: PathBuf,
    path: PathBuf,
    /// The database the last record was written under.
    current_db: Option<usize>,
    pub started: Instant,
    pub start_s: u64,
    /// `stats.dirty` when the job began: changes after it are not in the snapshot.
    pub dirty_at_start: u64,
    pub keys_done: u64,
    pub keys_total: u64,
    /// Keys per slice. RINGKV_BGSAVE_SLICE_KEYS (a test knob) sets it and limits a tick to
    /// one slice, so a small snapshot spans many ticks.
    slice_keys: usize,
    finishing: Option<std::thread::JoinHandle<Result<(), String>>>,
    autosync: super::IncrementalSync,
}

impl RdbState {
    pub fn bgsave_in_progress(&self) -> bool {
        self.bgsave.is_some()
    }

    /// BGSAVE: starts the job (the caller has checked none is running, and that no AOF
    /// rewrite is: `aof_rewriting` is false).
    pub fn bgsave_start(&mut self, env: &mut Env<'_>, aof_rewriting: bool) -> Result<(), String> {
        let tmp = env
            .config
            .dir
            .join(format!("temp-{}-bg.rdb", std::process::id()));
        let file = std::fs::File::create(&tmp)
            .map_err(|e| format!("Failed opening the temp RDB file {}: {e}", tmp.display()))?;
        let opts = save_options(env, false);
        let slice_keys = std::env::var("RINGKV_BGSAVE_SLICE_KEYS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(KEYS_PER_SLICE);
        let mut keys_total = 0;
        debug_assert!(!aof_rewriting);
        let sizes = env.dbs.iter().map(|db| (db.len(), db.expires_len()));
        let writer = RdbWriter::new(&opts).with_db_sizes(sizes.collect());
        for (i, db) in env.dbs.iter_mut().enumerate() {
            keys_total += db.len() as u64;
            db.snapshot_begin(i);
        }
        self.last_try_s = env.now_ms / 1000;
        self.bgsave_scheduled = false;
        self.bgsave = Some(BgSave {
            writer: Some(writer),
            file: Some(file),
            tmp,
            path: rdb_path(env.config),
            current_db: None,
            started: Instant::now(),
            start_s: env.now_ms / 1000,
            dirty_at_start: env.dirty,
            keys_done: 0,
            keys_total,
            slice_keys,
            finishing: None,
            autosync: Default::default(),
        });
        log::info!("Background saving started");
        Ok(())
    }

    /// Stops a job without replacing the destination file (SAVE, SHUTDOWN, DEBUG RELOAD).
    pub fn bgsave_abort(&mut self, dbs: &mut [Db]) {
        let Some(job) = self.bgsave.take() else {
            return;
        };
        for db in dbs.iter_mut() {
            db.snapshot_end();
        }
        match job.finishing {
            // The rename may already have happened; the file is complete either way.
            Some(h) => {
                let _ = h.join();
            }
            None => {
                drop(job.file);
                let _ = std::fs::remove_file(&job.tmp);
            }
        }
        log::warn!("Background saving aborted");
    }

    /// One housekeeping step: emit keys for a share of the tick (`tick`: the housekeeping
    /// period), write them out, and finish or collect the job when its time has come.
    pub fn bgsave_step(&mut self, env: &mut Env<'_>, tick: Duration) {
        let deadline = Instant::now() + tick * STEP_SHARE_PCT / 100;
        let finishing = match &self.bgsave {
            None => return,
            Some(job) => job.finishing.as_ref().map(|h| h.is_finished()),
        };
        match finishing {
            Some(true) => return self.bgsave_collect(env.now_ms),
            Some(false) => return,
            None => {}
        }
        let Some(job) = self.bgsave.as_mut() else {
            return;
        };
        let mut all_done = false;
        let mut slices_left = if job.slice_keys == KEYS_PER_SLICE {
            usize::MAX
        } else {
            1
        };
        let mut failed: Option<String> = None;
        // Bounded by time (and by one slice under the test knob).
        while !all_done && Instant::now() < deadline && slices_left > 0 {
            slices_left -= 1;
            all_done = true;
            let Some(writer) = job.writer.as_mut() else {
                break;
            };
            let mut emitted = 0u64;
            for db in env.dbs.iter_mut() {
                let current = &mut job.current_db;
                let done = db.snapshot_step(job.slice_keys, |idx, k, v, d| {
                    if *current != Some(idx) {
                        writer.select(idx);
                        *current = Some(idx);
                    }
                    writer.key_value(k, v, d);
                    emitted += 1;
                });
                all_done &= done;
            }
            job.keys_done += emitted;
            if writer.pending() >= WRITE_CHUNK_BYTES {
                let bytes = writer.take_bytes();
                if let Some(f) = job.file.as_mut() {
                    if let Err(e) = f.write_all(&bytes) {
                        failed = Some(format!("Write error saving DB on disk: {e}"));
                        break;
                    }
                    let on = env.config.rdb_save_incremental_fsync;
                    job.autosync.wrote(f, bytes.len(), on);
                }
            }
        }
        if let Some(e) = failed {
            log::warn!("Background saving error: {e}");
            self.bgsave_abort(env.dbs);
            self.last_ok = false;
            return;
        }
        if !all_done {
            return;
        }
        for db in env.dbs.iter_mut() {
            db.snapshot_end();
        }
        let (Some(writer), Some(mut file)) = (job.writer.take(), job.file.take()) else {
            return;
        };
        let tail = writer.finish();
        let (tmp, path) = (job.tmp.clone(), job.path.clone());
        job.finishing = Some(std::thread::spawn(move || {
            file.write_all(&tail)
                .map_err(|e| format!("Write error saving DB on disk: {e}"))?;
            super::sync_and_rename(file, &tmp, &path)
        }));
    }

    /// The finishing thread is done: record the outcome.
    fn bgsave_collect(&mut self, now_ms: u64) {
        let Some(mut job) = self.bgsave.take() else {
            return;
        };
        let result = match job.finishing.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            _ => Err("the finishing thread panicked".into()),
        };
        self.last_bgsave_s = Some(job.started.elapsed().as_secs());
        match result {
            Ok(()) => {
                log::info!("Background saving terminated with success");
                self.dirty_at_save = job.dirty_at_start;
                self.lastsave_s = now_ms / 1000;
                self.last_ok = true;
                self.saves += 1;
            }
            Err(e) => {
                log::warn!("Background saving error: {e}");
                self.last_ok = false;
            }
        }
    }
}
