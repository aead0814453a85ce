//! The server's side of persistence: the glue between the server state and `persist`, which
//! knows neither the server nor the commands.
//!
//! Every call into `persist` goes through here: it borrows the parts the call needs
//! (`persist_parts`: the `Aof`, the `RdbState` and a `persist::Env` of settings, databases
//! and clock) and then applies what the AOF left for the server (`persist::aof::Effects`):
//! held replies whose data is acknowledged go out (`touch`), the journal follows the AOF
//! (`set_journal`), and a failed start of the AOF sets `appendonly no` again. The effects
//! are applied before anything else runs, so the server sees them as if the AOF had made
//! them itself. The AOF loader's commands run here too (`AofLoader`, a `persist::aof::Replay`),
//! with the server in its loading state.

use super::Server;
use crate::cmd;
use crate::io::ring::Completion;
use crate::keyspace::Db;
use crate::persist::aof::{self, Aof, Replay, UnknownCommand};
use crate::persist::rdb::{LoadStats, RdbError};
use crate::persist::rdb_server::{self, RdbState};
use crate::persist::Env;
use crate::resp::Argv;
use std::path::PathBuf;
use std::time::Duration;

impl Server {
    /// The persistence state with the server parts a `persist` call borrows.
    pub(crate) fn persist_parts(&mut self) -> (&mut Aof, &mut RdbState, Env<'_>) {
        let (aof, rdb, env, _) = self.persist_parts_with_ring();
        (aof, rdb, env)
    }

    /// `persist_parts` and the loop's ring (None outside the loop), for the calls that queue
    /// ring operations.
    fn persist_parts_with_ring(
        &mut self,
    ) -> (
        &mut Aof,
        &mut RdbState,
        Env<'_>,
        Option<&mut crate::io::ring::Ring>,
    ) {
        let used_memory = self.used_memory();
        // One test of the role while this server is a primary.
        let repl = if self.replica.state == crate::repl::replica::LinkState::None {
            None
        } else {
            crate::repl::replica::save_info(&self.repl, &self.replica, &self.conns)
        };
        let env = Env {
            config: &self.config,
            dbs: &mut self.dbs,
            now_ms: self.now_ms,
            dirty: self.stats.dirty,
            used_memory,
            functions: &mut self.scripts.functions,
            repl,
        };
        (&mut self.aof, &mut self.rdb, env, self.ring.as_mut())
    }

    /// Applies what the AOF calls left for the server (see `persist::aof::Effects`).
    fn apply_aof_effects(&mut self) {
        let fx = self.aof.take_effects();
        if fx.release {
            let Server {
                aof,
                conns,
                touched,
                ..
            } = self;
            aof.release_held(
                |slot, id| {
                    conns
                        .get(slot)
                        .filter(|c| c.id == id)
                        .map(|c| c.aof_wait_seq)
                },
                |slot| touched.push(slot),
            );
        }
        if let Some(on) = fx.journal {
            self.set_journal(on);
        }
        if fx.appendonly_off {
            self.config.appendonly = false;
        }
    }

    // ---- AOF --------------------------------------------------------------------------

    /// Start-up with `appendonly yes`: loads the AOF (or creates a fresh one) and turns
    /// logging on.
    pub fn aof_start(&mut self) -> Result<(), String> {
        if !self.config.appendonly {
            return Ok(());
        }
        let startup = aof::Startup::open(&self.config)?;
        if !startup.is_fresh() {
            self.aof_replay(&startup)?;
        }
        let (aof, _, mut env) = self.persist_parts();
        let res = aof::start(aof, &mut env, startup);
        self.apply_aof_effects();
        res
    }

    /// Replays the AOF's files with a client that has no socket. Nothing expires while
    /// loading (Redis's keyIsExpired during loading): time 0 is before every deadline, so
    /// replayed PEXPIREATs in the past keep their keys, as in Redis. The statistics the
    /// replayed commands count are dropped, but for `unexpected_error_replies`.
    fn aof_replay(&mut self, startup: &aof::Startup) -> Result<(), String> {
        let real_now = self.now_ms;
        let stats = std::mem::take(&mut self.stats);
        let cmd_stats = self.cmd_stats.clone();
        self.loading = true;
        self.now_ms = 0;
        let slot = self.add_loading_client();
        let load_truncated = self.config.aof_load_truncated;
        let res = startup.load(
            load_truncated,
            &mut AofLoader {
                srv: self,
                slot,
                in_exec: false,
            },
        );
        self.conns.remove(slot);
        self.loading = false;
        self.now_ms = real_now;
        for db in &mut self.dbs {
            db.reset_access(real_now);
        }
        // Except the replayed commands that failed, which Redis counts as it logs them
        // (`cmd::call::propagated_error`).
        let unexpected = self.stats.unexpected_error_replies;
        self.stats = stats;
        self.stats.unexpected_error_replies += unexpected;
        self.cmd_stats = cmd_stats;
        res
    }

    /// End of a loop turn: the turn's AOF bytes are written and fsyncs started
    /// (`persist::aof::submit`).
    pub(crate) fn aof_submit(&mut self) {
        let bgsave_running = self.bgsave_in_progress();
        let (aof, _, mut env, ring) = self.persist_parts_with_ring();
        let Some(ring) = ring else {
            return;
        };
        aof::submit(ring, aof, &mut env, bgsave_running);
        if let Some(us) = self.aof.write_us.take() {
            self.latency_sample(crate::latency::Event::AofWrite, us);
        }
        self.apply_aof_effects();
    }

    /// A completion of an AOF fsync or timer.
    pub(crate) fn aof_completion(&mut self, c: Completion) {
        let (aof, _, mut env) = self.persist_parts();
        aof::on_completion(aof, &mut env, c);
        self.apply_aof_effects();
    }

    /// From housekeeping: a slice of a rewrite paced by its test knob.
    pub(crate) fn aof_rewrite_tick(&mut self) {
        let (aof, _, mut env, ring) = self.persist_parts_with_ring();
        let Some(ring) = ring else {
            return;
        };
        aof::rewrite_tick(ring, aof, &mut env);
        self.apply_aof_effects();
    }

    /// The highest AOF write sequence acknowledged: a connection's output waits while its
    /// `aof_wait_seq` is above it.
    pub(crate) fn aof_acked_seq(&self) -> u64 {
        self.aof.acked_seq(&self.config)
    }

    /// Shutdown: the AOF's last bytes are written and fsynced.
    pub(crate) fn aof_shutdown_flush(&mut self) {
        let (aof, _, mut env) = self.persist_parts();
        aof::shutdown_flush(aof, &mut env);
        self.apply_aof_effects();
    }

    /// Writes a new AOF base now (BGREWRITEAOF with the AOF off).
    pub fn aof_rewrite(&mut self) -> Result<(), String> {
        let (aof, _, mut env) = self.persist_parts();
        let res = aof::rewrite(aof, &mut env);
        self.apply_aof_effects();
        res
    }

    /// `CONFIG SET appendonly yes|no`: the AOF starts or stops.
    pub fn aof_set_enabled(&mut self, on: bool) -> Result<(), String> {
        let bgsave_running = self.bgsave_in_progress();
        let (aof, _, mut env) = self.persist_parts();
        let res = aof::set_enabled(aof, &mut env, on, bgsave_running);
        self.apply_aof_effects();
        res
    }

    /// `CONFIG SET aof-disable-auto-gc no`: the history files kept until now go (a
    /// failure is logged, as Redis's `updateAofAutoGCEnabled` ignores it).
    pub fn aof_gc_history(&mut self) {
        if let Err(e) = aof::gc_history(&mut self.aof, &self.config) {
            log::warn!("Removing the AOF history files: {e}");
        }
    }

    /// From housekeeping: the auto-rewrite trigger.
    pub(crate) fn aof_auto_rewrite_due(&self) -> bool {
        self.aof
            .auto_rewrite_due(&self.config, self.bgsave_in_progress())
    }

    /// From housekeeping: what was scheduled behind a BGSAVE starts once none runs.
    pub(crate) fn aof_run_scheduled(&mut self) {
        let bgsave_running = self.bgsave_in_progress();
        let (aof, _, mut env) = self.persist_parts();
        aof::run_scheduled(aof, &mut env, bgsave_running);
        self.apply_aof_effects();
    }

    // ---- RDB --------------------------------------------------------------------------

    /// `<dir>/<dbfilename>`.
    pub fn rdb_path(&self) -> PathBuf {
        rdb_server::rdb_path(&self.config)
    }

    /// SAVE: writes the snapshot synchronously. On failure the old file stays as it was.
    pub fn rdb_save(&mut self) -> Result<(), String> {
        let (_, rdb, env) = self.persist_parts();
        rdb.save(&env)
    }

    /// The housekeeping period: a BGSAVE step takes a share of it.
    fn tick_period(&self) -> Duration {
        Duration::from_millis(1000 / u64::from(self.hz.max(1)))
    }

    /// From housekeeping: a step of the BGSAVE in progress, and the `save` schedule.
    pub fn rdb_save_due(&mut self) {
        let tick = self.tick_period();
        let repl_snapshot = self.repl.primary.snapshot_running();
        let (aof, rdb, mut env) = self.persist_parts();
        // A replication full sync walks the same copy-on-write logs: a scheduled save waits.
        let aof_rewriting = aof.rewrite_in_progress() || repl_snapshot;
        rdb.save_due(&mut env, tick, aof_rewriting);
    }

    /// One step of the BGSAVE in progress, if any, alone (`rdb_save_due` runs it with the
    /// schedule; the dispatch fuzzer runs it between commands).
    pub fn bgsave_step(&mut self) {
        let tick = self.tick_period();
        let (_, rdb, mut env) = self.persist_parts();
        rdb.bgsave_step(&mut env, tick);
    }

    /// Loads `<dir>/<dbfilename>` at start-up (a missing file is no error).
    pub fn rdb_load_startup(&mut self) -> Result<(), String> {
        let (_, rdb, mut env) = self.persist_parts();
        rdb.load_startup(&mut env)
    }

    /// Loads a snapshot into the databases (DEBUG RELOAD); `merge` replaces keys that exist.
    pub fn rdb_load_bytes(&mut self, bytes: &[u8], merge: bool) -> Result<LoadStats, RdbError> {
        let (_, rdb, mut env) = self.persist_parts();
        rdb.load_bytes(&mut env, bytes, merge)
    }

    /// `stop-writes-on-bgsave-error`: the last background save failed while save points are
    /// set (Redis's DISK_ERROR_TYPE_RDB).
    #[inline]
    pub fn rdb_write_denied(&self) -> bool {
        !self.rdb.last_ok
            && self.config.stop_writes_on_bgsave_error
            && !self.config.save_params.is_empty()
    }

    /// Whether write commands are refused for a persistence error (the RDB's, then the
    /// AOF's): one look at two fields on the command path.
    #[inline]
    pub fn disk_error(&self) -> bool {
        self.aof.write_errno.is_some() || self.rdb_write_denied()
    }

    /// The MISCONF error write commands get, if any (Redis's
    /// `writeCommandsGetDiskErrorMessage`).
    pub fn misconf_error(&self) -> Option<String> {
        if self.rdb_write_denied() {
            return Some(MISCONF_RDB.into());
        }
        self.aof.misconf_error()
    }

    /// A BGSAVE runs, or a replication full sync walks the copy-on-write logs (which
    /// counts as one, as Redis's replication RDB child does).
    pub fn bgsave_in_progress(&self) -> bool {
        self.rdb.bgsave_in_progress() || self.repl.primary.snapshot_running()
    }

    /// BGSAVE: starts the background save (the caller has checked none is running, nor an
    /// AOF rewrite).
    pub fn bgsave_start(&mut self) -> Result<(), String> {
        let (aof, rdb, mut env) = self.persist_parts();
        let aof_rewriting = aof.rewrite_in_progress();
        rdb.bgsave_start(&mut env, aof_rewriting)
    }

    /// Stops the background save in progress, if any, without replacing the file.
    pub fn bgsave_abort(&mut self) {
        self.rdb.bgsave_abort(&mut self.dbs);
    }

    /// The save part of SHUTDOWN and SIGTERM (see `RdbState::prepare_shutdown`): whether the
    /// server may exit.
    pub fn prepare_shutdown(&mut self, save: Option<bool>, force: bool) -> bool {
        let (_, rdb, mut env) = self.persist_parts();
        rdb.prepare_shutdown(&mut env, save, force)
    }

    /// INFO persistence.
    pub fn info_persistence(&self) -> String {
        aof::info_persistence(&self.aof, &self.rdb, self.loading, self.stats.dirty)
    }
}

/// The AOF loader's access to the server: its commands run through the command table as the
/// socketless client in `slot`.
struct AofLoader<'a> {
    srv: &'a mut Server,
    slot: usize,
    /// Replaying a transaction: a failing command is reported under EXEC's name, as Redis
    /// (whose loading client runs the queue inside EXEC).
    in_exec: bool,
}

impl Replay for AofLoader<'_> {
    fn dbs(&mut self) -> &mut [Db] {
        &mut self.srv.dbs
    }

    fn load_functions(&mut self, found: &[(usize, Vec<u8>)]) -> Result<(), RdbError> {
        rdb_server::load_functions(&mut self.srv.scripts.functions, found, false)
    }

    fn now_ms(&self) -> u64 {
        self.srv.now_ms
    }

    fn command(&mut self, argv: &Argv<'_>) -> Result<(), UnknownCommand> {
        if self.srv.find_command(argv.get(0)).is_none() {
            return Err(UnknownCommand);
        }
        let mut out = Vec::new();
        cmd::call::call(
            self.srv,
            self.slot,
            argv,
            &mut out,
            cmd::call::Source::Loading,
        );
        if out.first() == Some(&b'-') {
            if self.in_exec {
                if let Some(c) = self.srv.conns.get_mut(self.slot) {
                    c.last_cmd = "exec";
                }
            }
            cmd::call::propagated_error(self.srv, self.slot, &out, cmd::call::Source::Loading);
        }
        Ok(())
    }

    fn in_transaction(&mut self, on: bool) {
        self.in_exec = on;
    }
}

/// The refusal of writes after a failed background save (Redis's `shared.bgsaveerr`).
const MISCONF_RDB: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
