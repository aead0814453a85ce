//! SHUTDOWN with replicas, as Redis 7.0's: unless NOW (or `shutdown-timeout 0`), a
//! shutdown first waits, writes paused, until every replica has acknowledged the whole
//! stream or the timeout passes, then saves and exits as usual. The SHUTDOWN client stays
//! blocked meanwhile (it is answered only if the shutdown fails); SHUTDOWN ABORT ends the
//! wait, the pause, and answers the waiting clients with Redis's error.
//!
//! ```text
//! SHUTDOWN / signal ─► replicas caught up? ─ yes ─► finish (save, exit)
//!                      └ no ─► pause writes, GETACK, wait ─► each turn: caught up or past
//!                              the deadline ─► finish; ABORT ─► unpause, error to waiters
//! ```
//!
//! Invariants: at most one shutdown waits; while it does, writes are paused (the pause's
//! shutdown purpose) and every client in `waiters` has `shutdown_waiting` set; a finished
//! or aborted wait leaves neither.

use super::Server;

/// A shutdown waiting for its replicas.
pub struct ShutdownWait {
    /// Unix ms after which it goes on without them.
    pub deadline_ms: u64,
    save: Option<bool>,
    force: bool,
    /// Clients blocked in SHUTDOWN (slot, generation).
    waiters: Vec<(usize, u32)>,
}

/// What a shutdown request came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    /// Saved (if it had to): the server exits.
    Exiting,
    /// Waiting for the replicas; the caller stays blocked.
    Waiting,
    /// The final save failed (the server goes on, as Redis's).
    Failed,
}

const SHUTDOWN_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";

impl Server {
    /// SHUTDOWN (or a signal): waits for lagging replicas first unless `now`; `caller`
    /// blocks until the end of the wait.
    pub fn begin_shutdown(
        &mut self,
        save: Option<bool>,
        force: bool,
        now: bool,
        caller: Option<(usize, u32)>,
    ) -> Started {
        if let Some(w) = self.shutdown_wait.as_mut() {
            // Already waiting: this caller waits for the same end.
            if let Some(c) = caller {
                w.waiters.push(c);
                self.conns[c.0].shutdown_waiting = true;
            }
            return Started::Waiting;
        }
        if !now
            && self.config.shutdown_timeout_s > 0
            && !crate::repl::primary::replicas_caught_up(self)
        {
            log::info!("Waiting for replicas before shutting down.");
            self.shutdown_wait = Some(ShutdownWait {
                deadline_ms: self.now_ms + self.config.shutdown_timeout_s * 1000,
                save,
                force,
                waiters: caller.into_iter().collect(),
            });
            if let Some(c) = caller {
                self.conns[c.0].shutdown_waiting = true;
            }
            crate::repl::primary::request_acks(self);
            self.pause.start_shutdown();
            return Started::Waiting;
        }
        self.finish_shutdown(save, force)
    }

    fn finish_shutdown(&mut self, save: Option<bool>, force: bool) -> Started {
        if self.prepare_shutdown(save, force) {
            self.shutdown_requested = true;
            Started::Exiting
        } else {
            Started::Failed
        }
    }

    /// Each loop turn while a shutdown waits: goes on once the replicas caught up or the
    /// timeout passed; a failed save ends the wait with the error to its clients.
    pub fn shutdown_wait_turn(&mut self) {
        let Some(w) = self.shutdown_wait.as_ref() else {
            return;
        };
        let caught_up = crate::repl::primary::replicas_caught_up(self);
        if !caught_up && self.now_ms < w.deadline_ms {
            return;
        }
        if !caught_up {
            log::warn!("Lagging replicas did not catch up before the shutdown timeout.");
        }
        let (save, force) = (w.save, w.force);
        if self.finish_shutdown(save, force) == Started::Failed {
            self.end_shutdown_wait();
        }
    }

    /// SHUTDOWN ABORT: ends a waiting shutdown (its clients get the error). False when
    /// none waits.
    pub fn abort_shutdown(&mut self) -> bool {
        if self.shutdown_wait.is_none() {
            return false;
        }
        log::warn!("Shutdown manually aborted.");
        self.end_shutdown_wait();
        true
    }

    fn end_shutdown_wait(&mut self) {
        let Some(w) = self.shutdown_wait.take() else {
            return;
        };
        for (slot, generation) in w.waiters {
            let Some(c) = self.conns.get_mut(slot) else {
                continue;
            };
            if c.generation != generation {
                continue;
            }
            c.shutdown_waiting = false;
            crate::resp::reply::Reply::new(&mut c.out, c.resp3).error(SHUTDOWN_FAILED);
            self.stats.count_error(b"-ERR ");
            // Its buffered commands run again.
            self.resume_client(slot);
        }
        let waiting = self.pause.end_shutdown();
        crate::cmd::pause::release(self, waiting);
    }
}
