//! The server's side of RDB snapshots: SAVE to `<dir>/<dbfilename>` (temp file, fsync,
//! rename), the `save` schedule (which starts a BGSAVE, see `rdb_snapshot`), SHUTDOWN's
//! save, loading at start-up, and INFO's rdb_* fields. The codec itself (`persist::rdb`)
//! does no I/O; this file and `rdb_snapshot` do all of it. `RdbState` is kept in the server;
//! its methods take the server parts they need as a `persist::Env` (the server's wrappers
//! are in `server::persistence`).
//!
//! Invariants: the snapshot file is replaced atomically (a reader sees the old file or the
//! whole new one, never a partial one); `dirty_at_save` is the value of `stats.dirty` when the
//! last successful save (or load) happened, so `rdb_changes_since_last_save` is their
//! difference; a failed save changes nothing but the status and the retry clock.
//!
//! ```text
//! SAVE: serialize all dbs -> <dir>/temp-<pid>.rdb -> write + fsync -> rename to
//!       <dir>/<dbfilename> -> fsync dir -> lastsave = now, dirty_at_save = dirty
//! ```

use std::io::Write as _;
use std::path::PathBuf;

use super::aof::Aof;
use super::rdb::{self, LoadOptions, SaveOptions};
use super::Env;
use crate::config::Config;

/// After a failed scheduled save, wait this long before trying again (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY).
const SAVE_RETRY_DELAY_S: u64 = 5;

/// Snapshot bookkeeping kept in the server.
#[derive(Default)]
pub struct RdbState {
    /// The background save in progress, if any.
    pub bgsave: Option<super::rdb_snapshot::BgSave>,
    /// Seconds the last background save took (INFO's rdb_last_bgsave_time_sec).
    pub last_bgsave_s: Option<u64>,
    /// `stats.dirty` at the last successful save or load.
    pub dirty_at_save: u64,
    /// Unix seconds of the last successful save (the start time before any).
    pub lastsave_s: u64,
    /// Unix seconds of the last save attempt, for the retry delay.
    pub last_try_s: u64,
    /// Whether the last save succeeded (INFO's rdb_last_bgsave_status).
    pub last_ok: bool,
    /// BGSAVE SCHEDULE came during an AOF rewrite: the save starts when the rewrite ends.
    pub bgsave_scheduled: bool,
    /// Saves completed (INFO's rdb_saves).
    pub saves: u64,
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
    /// The replication aux fields (`repl-*`) of the RDB loaded at start-up, for a replica
    /// to resume from (`repl::replica::start_from_config`).
    pub loaded_repl_aux: Vec<(Vec<u8>, Vec<u8>)>,
}

impl RdbState {
    pub fn new(now_s: u64) -> RdbState {
        RdbState {
            lastsave_s: now_s,
            last_ok: true,
            ..RdbState::default()
        }
    }
}

/// `<dir>/<dbfilename>`.
pub fn rdb_path(config: &Config) -> PathBuf {
    config.dir.join(&config.dbfilename)
}

/// The options of a snapshot with these settings, at this instant.
pub(crate) fn save_options(env: &Env<'_>, aof_base: bool) -> SaveOptions {
    SaveOptions {
        compression: env.config.rdbcompression,
        checksum: env.config.rdbchecksum,
        aux: with_repl_aux(
            SaveOptions::aux_redis_7(env.now_ms / 1000, env.used_memory, aof_base),
            env.repl.as_ref(),
        ),
        functions: env.functions.codes().map(<[u8]>::to_vec).collect(),
    }
}

/// Redis's `rdbSaveInfoAuxFields`: a replica's snapshot says where in its primary's stream
/// it is (`repl-stream-db`, `repl-id`, `repl-offset`), after `used-mem` and before
/// `aof-base`, so that it can resume with a partial resync after a restart.
fn with_repl_aux(
    mut aux: Vec<(Vec<u8>, Vec<u8>)>,
    repl: Option<&crate::repl::replica::SavedReplInfo<'_>>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Some(r) = repl else {
        return aux;
    };
    let at = aux
        .iter()
        .position(|(k, _)| k == b"aof-base")
        .unwrap_or(aux.len());
    let fields = [
        (
            b"repl-stream-db".to_vec(),
            r.stream_db.to_string().into_bytes(),
        ),
        (b"repl-id".to_vec(), r.replid.as_bytes().to_vec()),
        (b"repl-offset".to_vec(), r.offset.to_string().into_bytes()),
    ];
    aux.splice(at..at, fields);
    aux
}

/// Creates the function libraries a snapshot held (code and record offset) in place of the
/// current ones, or with `merge` next to them (a same-named library replaced, as Redis's
/// `RDBFLAGS_ALLOW_DUP`). A library that cannot be created fails the load, as in Redis.
pub fn load_functions(
    functions: &mut crate::script::functions::Functions,
    found: &[(usize, Vec<u8>)],
    merge: bool,
) -> Result<(), rdb::RdbError> {
    let failed = |at: usize, e: String| rdb::RdbError {
        offset: at,
        message: format!("Failed loading library, {e}"),
    };
    if merge {
        for (at, code) in found {
            functions.load(code, true).map_err(|e| failed(*at, e))?;
        }
        return Ok(());
    }
    let libs = functions
        .create_all(found.iter().map(|(_, c)| c.as_slice()), false)
        .map_err(|(i, e)| failed(found[i].0, e))?;
    functions.replace_all(libs);
    Ok(())
}

/// The snapshot of every database as bytes, with the server's settings.
pub fn snapshot(env: &Env<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    rdb::save_to(env.dbs, &mut out, &save_options(env, false));
    out
}

/// Whether a plain SHUTDOWN (or SIGTERM) saves: when a schedule is configured.
pub fn save_on_shutdown(config: &Config) -> bool {
    !config.save_params.is_empty()
}

impl RdbState {
    /// SAVE: writes the snapshot synchronously. On failure the old file stays as it was.
    pub fn save(&mut self, env: &Env<'_>) -> Result<(), String> {
        let now_s = env.now_ms / 1000;
        self.last_try_s = now_s;
        let bytes = snapshot(env);
        let tmp = env
            .config
            .dir
            .join(format!("temp-{}.rdb", std::process::id()));
        let path = rdb_path(env.config);
        let result = write_atomically(&tmp, &path, &bytes);
        match &result {
            Ok(()) => {
                log::info!("DB saved on disk");
                self.dirty_at_save = env.dirty;
                self.lastsave_s = now_s;
                self.last_ok = true;
                self.saves += 1;
            }
            Err(e) => {
                // As Redis's rdbSave: a failed foreground save leaves the background save's
                // status (INFO rdb_last_bgsave_status, `stop-writes-on-bgsave-error`) alone.
                log::warn!("Failed saving the DB: {e}");
                let _ = std::fs::remove_file(&tmp);
            }
        }
        result
    }

    /// The `save` schedule, checked from housekeeping: saves when for some (seconds, changes)
    /// point more than `seconds` passed since the last save and at least `changes` writes
    /// happened, as Redis's serverCron compares them (a failed save is retried after 5 s).
    /// First it runs one step of the BGSAVE in progress, if any (`tick`: the housekeeping
    /// period). `aof_rewriting`: an AOF rewrite is in progress.
    pub fn save_due(&mut self, env: &mut Env<'_>, tick: std::time::Duration, aof_rewriting: bool) {
        self.bgsave_step(env, tick);
        // One copy-on-write log per database: a save waits for an AOF rewrite to end, as
        // Redis's waits for the rewrite child.
        if self.bgsave_in_progress() || aof_rewriting {
            return;
        }
        let now_s = env.now_ms / 1000;
        let may_retry = self.last_ok || now_s.saturating_sub(self.last_try_s) > SAVE_RETRY_DELAY_S;
        if self.bgsave_scheduled && may_retry {
            if let Err(e) = self.bgsave_start(env, aof_rewriting) {
                log::warn!("Can't save in background: {e}");
                self.last_ok = false;
            }
            return;
        }
        let changes = env.dirty.saturating_sub(self.dirty_at_save);
        let since_s = now_s.saturating_sub(self.lastsave_s);
        let due = env
            .config
            .save_params
            .iter()
            .find(|&&(secs, n)| changes >= n && since_s > secs);
        let Some(&(secs, n)) = due else {
            return;
        };
        if may_retry {
            log::info!("{n} changes in {secs} seconds. Saving...");
            if let Err(e) = self.bgsave_start(env, aof_rewriting) {
                log::warn!("Can't save in background: {e}");
                self.last_ok = false;
            }
        }
    }

    /// Loads `<dir>/<dbfilename>` into the (empty) databases at start-up. A missing file is
    /// not an error; a corrupt one is, naming the file and the offset.
    pub fn load_startup(&mut self, env: &mut Env<'_>) -> Result<(), String> {
        let path = rdb_path(env.config);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("Can't read the RDB file {}: {e}", path.display())),
        };
        let started = std::time::Instant::now();
        let stats = self
            .load_bytes(env, &bytes, false)
            .map_err(|e| format!("Error loading the RDB file {}: {e}", path.display()))?;
        self.loaded_repl_aux = stats
            .aux
            .iter()
            .filter(|(k, _)| k.starts_with(b"repl-"))
            .cloned()
            .collect();
        for (k, v) in &stats.aux {
            let v = String::from_utf8_lossy(v);
            match k.as_slice() {
                b"redis-ver" => log::info!("Loading RDB produced by version {v}"),
                b"ctime" => {
                    let age_s = (env.now_ms / 1000) as i64 - v.parse::<i64>().unwrap_or(0);
                    log::info!("RDB age {age_s} seconds");
                }
                b"used-mem" => {
                    let mb = v.parse::<u64>().unwrap_or(0) / (1024 * 1024);
                    log::info!("RDB memory usage when created {mb} Mb");
                }
                _ => {}
            }
        }
        if stats.keys_empty > 0 {
            log::warn!(
                "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
                stats.keys_loaded,
                stats.keys_expired,
                stats.keys_empty
            );
        } else {
            log::info!(
                "Done loading RDB, keys loaded: {}, keys expired: {}.",
                stats.keys_loaded,
                stats.keys_expired
            );
        }
        log::info!(
            "DB loaded from disk: {:.3} seconds",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Loads a snapshot into the databases with the server's limits, updating the load
    /// counters INFO shows. `merge` replaces keys that exist instead of failing.
    pub fn load_bytes(
        &mut self,
        env: &mut Env<'_>,
        bytes: &[u8],
        merge: bool,
    ) -> Result<rdb::LoadStats, rdb::RdbError> {
        let c = env.config;
        let mut opts = LoadOptions::new(env.now_ms);
        // A replica keeps keys past their deadline until its primary's DEL (Redis's
        // `iAmMaster()` test in its loader): at start-up with `replicaof`, a full sync, DEBUG
        // RELOAD.
        opts.skip_expired = c.replica.replicaof.is_none();
        opts.verify_checksum = c.rdbchecksum;
        opts.merge = merge;
        opts.limits = rdb::Limits::from_config(c);
        let stats = rdb::load(bytes, env.dbs, &opts)?;
        load_functions(env.functions, &stats.functions, merge)?;
        self.last_load_keys_loaded = stats.keys_loaded;
        self.last_load_keys_expired = stats.keys_expired;
        self.dirty_at_save = env.dirty;
        Ok(stats)
    }
}

impl rdb::Limits {
    /// The encoding settings a load applies (as Redis's loader reads them from its config):
    /// snapshots, AOF preambles and RESTORE.
    pub fn from_config(c: &crate::config::Config) -> rdb::Limits {
        rdb::Limits {
            list_fill: c.list_max_listpack_size,
            list_compress_depth: c.list_compress_depth,
            hash: crate::types::hash::Limits {
                entries_max: c.hash_max_listpack_entries,
                value_len_max: c.hash_max_listpack_value,
            },
            set_intset_entries_max: c.set_max_intset_entries,
            zset: crate::types::zset::Limits {
                entries_max: c.zset_max_listpack_entries,
                value_max: c.zset_max_listpack_value,
            },
        }
    }
}

/// Writes `bytes` to `tmp`, fsyncs, renames over `path` and fsyncs the directory.
fn write_atomically(
    tmp: &std::path::Path,
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<(), String> {
    let mut f = std::fs::File::create(tmp).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
            tmp.display(),
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        )
    })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("Write error saving DB on disk: {e}"))?;
    drop(f);
    std::fs::rename(tmp, path).map_err(|e| {
        format!(
            "Error moving temp DB file {} on the final destination {}: {e}",
            tmp.display(),
            path.display()
        )
    })?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// INFO persistence's RDB fields, in Redis 7.0's order (the AOF fields follow them).
/// `loading`: the server is loading its data; `dirty`: its write counter.
pub fn info_fields(r: &RdbState, aof: &Aof, loading: bool, dirty: u64) -> String {
    let (in_progress, current_s, done, total) = match &r.bgsave {
        Some(j) => (
            1,
            j.started.elapsed().as_secs() as i64,
            j.keys_done,
            j.keys_total,
        ),
        None => (0, -1, 0, 0),
    };
    // An AOF rewrite in progress is a save in progress too, as Redis's child is.
    let (done, total) = match aof.rewrite_progress() {
        Some((d, t)) if r.bgsave.is_none() => (d as u64, t as u64),
        _ => (done, total),
    };
    format!(
        "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:{done}\r\ncurrent_save_keys_total:{total}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{in_progress}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{current_s}\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
        u8::from(loading),
        dirty.saturating_sub(r.dirty_at_save),
        r.lastsave_s,
        if r.last_ok { "ok" } else { "err" },
        r.last_bgsave_s.map_or(-1, |s| s as i64),
        r.saves,
        r.last_load_keys_expired,
        r.last_load_keys_loaded,
    )
}

impl RdbState {
    /// The save part of SHUTDOWN and SIGTERM: `save` is Some(true) for SAVE, Some(false) for
    /// NOSAVE, None for "as the schedule says". Returns whether the server may exit: a failed
    /// save stops the shutdown unless `force`.
    pub fn prepare_shutdown(&mut self, env: &mut Env<'_>, save: Option<bool>, force: bool) -> bool {
        let save = save.unwrap_or_else(|| save_on_shutdown(env.config));
        // A background save in progress stops here, as Redis kills its child.
        self.bgsave_abort(env.dbs);
        if !save {
            return true;
        }
        log::info!("Saving the final RDB snapshot before exiting.");
        match self.save(env) {
            Ok(()) => true,
            Err(_) if force => {
                log::warn!("Error trying to save the DB; exiting anyway (FORCE).");
                true
            }
            Err(_) => {
                log::warn!("Error trying to save the DB, can't exit.");
                log::warn!(
                    "Errors trying to shut down the server. Check the logs for more information."
                );
                false
            }
        }
    }
}
