//! A coordinated failover (the FAILOVER command, Redis 7.0's): this primary hands its role to
//! one of its replicas without losing a write.
//!
//! ```text
//! no-failover --FAILOVER--> waiting-for-sync: writes paused (a pause of its own, which
//!     CLIENT UNPAUSE does not end); each turn and tick, the target (TO host port, or the
//!     first replica whose ACK reaches master_repl_offset) is checked
//!   ├─ target's ACK == master_repl_offset ──┐
//!   ├─ TIMEOUT passed, FORCE ───────────────┴─> failover-in-progress: REPLICAOF target, the
//!   │                                           handshake's PSYNC carries FAILOVER
//!   │       ├─ +CONTINUE / +FULLRESYNC ─> no-failover, a replica of the target (writes
//!   │       │                             paused meanwhile now run, as a replica's: READONLY)
//!   │       └─ any other reply ─> abort: a primary again (a new history, as REPLICAOF NO ONE)
//!   └─ TIMEOUT passed, no FORCE / FAILOVER ABORT ─> abort: no-failover, writes run
//! ```
//!
//! The other side is `cmd::replication::cmd_psync`: a replica receiving
//! `PSYNC <replid> <offset> FAILOVER` from a client whose replid is its own becomes a primary
//! (REPLICAOF NO ONE: its old id stays valid as replid2) and answers the PSYNC, which
//! therefore continues.
//!
//! Invariants: `state` is `NoFailover` exactly when the failover's pause is off; a target
//! is known once the state is `InProgress`; the state only leaves `WaitForSync` from
//! [`update`] (or an abort) and `InProgress` from [`psync_answered`] (or an abort).

use crate::repl::{primary, replica, Role};
use crate::server::Server;

/// `master_failover_state` (Redis's `failover_state`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum FailoverState {
    #[default]
    NoFailover,
    /// Writes are paused; waiting for the target to acknowledge the whole stream.
    WaitForSync,
    /// This server follows the target, its PSYNC asking the target to take over.
    InProgress,
}

impl FailoverState {
    pub fn name(self) -> &'static str {
        match self {
            FailoverState::NoFailover => "no-failover",
            FailoverState::WaitForSync => "waiting-for-sync",
            FailoverState::InProgress => "failover-in-progress",
        }
    }
}

#[derive(Default)]
pub struct Failover {
    pub state: FailoverState,
    /// The replica taking over (TO host port, or the one found in sync).
    target: Option<(String, i64)>,
    /// When waiting for the target gives up (unix ms; 0: never).
    end_ms: u64,
    /// Go on with the failover when the time is up rather than aborting.
    force: bool,
}

impl Failover {
    pub fn active(&self) -> bool {
        self.state != FailoverState::NoFailover
    }

    /// Whether waiting has a deadline (Redis's `failover_end_time`).
    pub fn timed(&self) -> bool {
        self.end_ms != 0
    }
}

/// Starts a failover (the command checked everything): writes are paused.
/// `target`: TO host port; `timeout_ms`: 0 for none.
pub fn start(srv: &mut Server, target: Option<(String, i64)>, timeout_ms: u64, force: bool) {
    match &target {
        Some((h, p)) => log::info!("FAILOVER requested to {h}:{p}."),
        None => log::info!("FAILOVER requested to any replica."),
    }
    let f = &mut srv.repl.failover;
    f.target = target;
    f.end_ms = if timeout_ms > 0 {
        srv.now_ms.saturating_add(timeout_ms)
    } else {
        0
    };
    f.force = force;
    f.state = FailoverState::WaitForSync;
    srv.pause.start_failover();
    crate::cmd::pause::apply_expiry_pause(srv);
}

/// The attached replica at `host:port` (the address it announced, or its peer address, and
/// its listening port): its acknowledged offset and whether it is online.
pub fn find_replica(srv: &Server, host: &str, port: i64) -> Option<(u64, bool)> {
    primary::replica_addrs(srv)
        .find(|&(ip, p, _, _)| ip.eq_ignore_ascii_case(host) && i64::from(p) == port)
        .map(|(_, _, offset, online)| (offset, online))
}

/// Moves a waiting failover on (each loop turn and tick): gives up or forces on when the
/// time is up, and hands over once the target acknowledged everything.
pub fn update(srv: &mut Server) {
    debug_assert_eq!(srv.repl.failover.active(), srv.pause.failover());
    if srv.repl.failover.state != FailoverState::WaitForSync {
        return;
    }
    let f = &srv.repl.failover;
    if f.end_ms != 0 && f.end_ms <= srv.now_ms {
        if f.force {
            if let Some((h, p)) = &f.target {
                log::info!("FAILOVER to {h}:{p} time out exceeded, failing over.");
            }
            hand_over(srv);
        } else {
            abort(srv, "Replica never caught up before timeout");
        }
        return;
    }
    let offset = srv.repl.master_repl_offset;
    let synced = match &f.target {
        Some((h, p)) => find_replica(srv, h, *p).is_some_and(|(acked, _)| acked == offset),
        None => {
            // The first replica (in attach order) that has everything becomes the target.
            let found = primary::replica_addrs(srv)
                .find(|&(_, _, acked, _)| acked == offset)
                .map(|(ip, port, _, _)| (ip.to_string(), i64::from(port)));
            let synced = found.is_some();
            if synced {
                srv.repl.failover.target = found;
            }
            synced
        }
    };
    if synced {
        if let Some((h, p)) = &srv.repl.failover.target {
            log::info!("Failover target {h}:{p} is synced, failing over.");
        }
        hand_over(srv);
    }
}

/// failover-in-progress: this server becomes the target's replica (its PSYNC says FAILOVER).
fn hand_over(srv: &mut Server) {
    let Some((host, port)) = srv.repl.failover.target.clone() else {
        return;
    };
    srv.repl.failover.state = FailoverState::InProgress;
    // A port the replica announced is a u16 (REPLCONF listening-port keeps it so).
    replica::set_master(srv, host, port as u16);
}

/// Whether this server's PSYNC must carry FAILOVER (the handshake of a failover in progress).
pub fn psync_asks_takeover(srv: &Server) -> bool {
    srv.repl.failover.state == FailoverState::InProgress
}

/// The target answered the PSYNC: `accepted` for +CONTINUE or +FULLRESYNC (the failover is
/// done), otherwise it is aborted. Returns false when aborted (the link is gone).
pub fn psync_answered(srv: &mut Server, accepted: bool) -> bool {
    if srv.repl.failover.state != FailoverState::InProgress {
        return true;
    }
    if accepted {
        clear(srv);
        true
    } else {
        abort(srv, "Failover target rejected psync request");
        false
    }
}

/// Aborts a failover (FAILOVER ABORT, the timeout, a refused PSYNC): a server that already
/// follows the target becomes a primary again (with a new history, as REPLICAOF NO ONE, so
/// its replicas continue with it); writes go on.
pub fn abort(srv: &mut Server, why: &str) {
    let f = &srv.repl.failover;
    if !f.active() {
        return;
    }
    match &f.target {
        Some((h, p)) => log::info!("FAILOVER to {h}:{p} aborted: {why}"),
        None => log::info!("FAILOVER to any replica aborted: {why}"),
    }
    if f.state == FailoverState::InProgress && matches!(srv.repl.role, Role::Replica { .. }) {
        replica::unset_master(srv);
    }
    clear(srv);
}

/// Back to no-failover; the writes paused meanwhile run (answered as the server's role now
/// says: a replica refuses them with READONLY).
fn clear(srv: &mut Server) {
    srv.repl.failover = Failover::default();
    let waiting = srv.pause.end_failover();
    crate::cmd::pause::release(srv, waiting);
    debug_assert!(!srv.pause.failover());
}
