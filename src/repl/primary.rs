//! The primary side of replication: the replicas attached to this server, the full sync
//! streamed from a forkless point-in-time snapshot, the replication stream fed from the
//! effects journal, and the housekeeping Redis's `replicationCron` does (PINGs in the stream,
//! `repl-timeout`, the backlog's time to live), WAIT and `min-replicas-to-write`.
//!
//! ```text
//! PSYNC id off ─► can continue? ─► +CONTINUE, the backlog from `off`, online
//!              └► no ─► wait_bgsave ─(repl-diskless-sync-delay / -max-replicas)─►
//!                 snapshot starts: +FULLRESYNC id offset, $EOF:<mark> ─► send_bulk
//!                 each turn: snapshot slices ─► every target's output (while each has
//!                 less than SNAPSHOT_QUEUE_BYTES unsent) ─► RDB end, <mark> ─► online;
//!                 the stream held since the snapshot point follows the first ACK
//!              (`repl-diskless-sync no` or a replica without `capa eof`: no delay;
//!               slices ─► temp file ─► $<len> + the file, paced the same way ─► online,
//!               the held stream at once; a thread syncs the file and renames it to
//!               <dir>/<dbfilename>, recorded as a BGSAVE once done)
//! journal ─► publish_effects ─► feed_effects (SELECT where the db changes) ─► feed_replicas
//!            ─► backlog + online replicas' output (+ the held stream of the others)
//! ```
//!
//! Replicas are found by slot and generation in `Primary::replicas` and their state lives
//! on the connection (`Conn::replica`); a closed connection is pruned lazily (each turn and
//! tick), so closing a connection needs no hook here.
//!
//! Invariants: every byte given to replicas goes through [`feed_replicas`], so the backlog,
//! `master_repl_offset` and what each online replica received agree; a replica's unsent
//! output and held stream are bounded by the `replica` class of
//! `client-output-buffer-limit` (over it, the replica is dropped, never waited for); the
//! snapshot only adds output to a replica whose unsent output is under
//! `SNAPSHOT_QUEUE_BYTES`, and works per loop turn as long as the rest of the turn took
//! (between `SNAPSHOT_TURN_MIN_NS` and `SNAPSHOT_TURN_MAX_NS`), so a full sync
//! is paced by the replicas' sockets and other clients keep being served; at most one
//! snapshot runs, and never alongside a BGSAVE or an AOF rewrite (they share the databases'
//! copy-on-write logs: each waits for the other).

use crate::cmd::Ctx;
use crate::journal::encode;
use crate::persist::rdb::{RdbWriter, SaveOptions};
use crate::repl::Role;
use crate::server::Server;

/// Unsent output under which a replica gets more snapshot bytes.
const SNAPSHOT_QUEUE_BYTES: usize = 1 << 20;
/// Time the snapshot may take per loop turn: as long as everything else in the loop took
/// since its last slice (under a write load it gets half the loop; idle, it runs turn after
/// turn), within these bounds, so that a client arriving meanwhile waits at most the upper
/// one.
const SNAPSHOT_TURN_MIN_NS: u64 = 1_000_000;
const SNAPSHOT_TURN_MAX_NS: u64 = 10_000_000;
/// Keys emitted per database per slice (between clock reads).
const SNAPSHOT_SLICE_KEYS: usize = 128;
/// Redis's smallest backlog (`CONFIG_REPL_BACKLOG_MIN_SIZE`).
const BACKLOG_MIN_BYTES: u64 = 16 * 1024;
/// Length of the `$EOF:` mark (`RDB_EOF_MARK_SIZE`).
const EOF_MARK_LEN: usize = 40;
/// Most WAITing clients answered per turn before the rest wait for the next (each check is
/// a pass over the replicas).
const WAITERS_PER_TURN_MAX: usize = 4096;

/// Where a replica is in its life (Redis's `SLAVE_STATE_*`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReplicaState {
    /// Only REPLCONF so far: not a replica yet.
    #[default]
    Handshake,
    /// Waiting for a snapshot to start (the diskless delay, or a BGSAVE/rewrite to end).
    WaitSnapshot,
    /// The snapshot is being sent; the stream since its point is held.
    SendSnapshot,
    /// Gets the stream as it is produced.
    Online,
}

/// What a connection told us as a (future) replica, and where its sync is.
#[derive(Default)]
pub struct Replica {
    pub listening_port: u16,
    pub ip_address: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    /// `REPLCONF rdb-only 1`: the connection wants the snapshot only (no stream after it).
    pub rdb_only: bool,
    /// `REPLCONF rdb-filter-only functions`: a snapshot of the function libraries only.
    pub functions_only: bool,
    pub state: ReplicaState,
    /// Came with SYNC (no +FULLRESYNC line, and no partial resync ever).
    pub old_sync: bool,
    /// The last `REPLCONF ACK` offset and when it came (unix ms).
    pub ack_offset: u64,
    pub ack_time_ms: u64,
    /// When it asked for a full sync (unix ms): the diskless delay counts from here.
    pub wait_since_ms: u64,
    /// The stream since the snapshot point, released at the replica's first ACK after
    /// the snapshot (as Redis 7.0 does for a diskless sync: the replica finds the end of the
    /// snapshot by its last 40 bytes, so nothing may follow them before it has read them).
    pub held: Vec<u8>,
    /// Online after a snapshot, the stream still held until the first ACK.
    pub stream_on_ack: bool,
    /// The `$<len>` form (a replica without `capa eof`): the snapshot file being sent and
    /// the bytes of it left.
    bulk: Option<(std::fs::File, u64)>,
}

impl Replica {
    /// PSYNC or SYNC was accepted: it gets the replication stream.
    pub fn attached(&self) -> bool {
        self.state != ReplicaState::Handshake
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            ReplicaState::Handshake | ReplicaState::WaitSnapshot => "wait_bgsave",
            ReplicaState::SendSnapshot => "send_bulk",
            ReplicaState::Online => "online",
        }
    }
}

/// The full sync in progress: one snapshot shared by every replica that was waiting when it
/// started.
struct Snapshot {
    writer: Option<RdbWriter>,
    /// Replicas it is sent to (slot, generation).
    targets: Vec<(usize, u32)>,
    mark: [u8; EOF_MARK_LEN],
    /// The database the last record was written under.
    current_db: Option<usize>,
    /// The disk form (`repl-diskless-sync no`, or some replica lacks `capa eof`: as Redis,
    /// the snapshot then goes to a file for every replica, and each gets `$<len>` and the
    /// file, which then becomes the RDB file): the temp file and its path.
    file: Option<(std::fs::File, std::path::PathBuf)>,
    /// `stats.dirty` when the snapshot began, and when (for the disk form's save record).
    dirty_at_start: u64,
    started: std::time::Instant,
    autosync: crate::persist::IncrementalSync,
}

/// The disk form's file on its way to `<dir>/<dbfilename>`: a thread syncs it and renames
/// it (as BGSAVE's does), and the save is recorded once it is done.
struct Finishing {
    thread: std::thread::JoinHandle<Result<(), String>>,
    dirty_at_start: u64,
    started: std::time::Instant,
}

/// A client blocked in WAIT.
struct Waiter {
    slot: usize,
    generation: u32,
    offset: u64,
    replicas: u64,
    /// Unix ms; 0: no timeout.
    deadline_ms: u64,
    /// WAIT's index in the command table, for the statistics CLIENT UNBLOCK updates.
    cmd_idx: usize,
}

/// The primary side's state (in `ReplState::primary`).
#[derive(Default)]
pub struct Primary {
    /// Attached replicas (slot, generation), in attach order.
    replicas: Vec<(usize, u32)>,
    snapshot: Option<Snapshot>,
    finishing: Option<Finishing>,
    /// The database the replicas' stream last selected (None: the next effect selects).
    stream_db: Option<usize>,
    /// INFO stats.
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// When the last replica went away (unix ms; 0 while there are replicas).
    no_replicas_since_ms: u64,
    last_ping_ms: u64,
    last_newline_ms: u64,
    /// A WAIT blocked: ask the replicas for an ACK at the end of the turn.
    get_ack: bool,
    waiters: Vec<Waiter>,
    /// When the last snapshot slice ended (monotonic ns).
    last_slice_end_ns: u64,
    /// Reused for the stream bytes of one publication.
    scratch: Vec<u8>,
}

impl Primary {
    /// A full sync walks the databases' copy-on-write logs, or its file is being moved to
    /// the RDB file's place (a BGSAVE would write the same file).
    pub fn snapshot_running(&self) -> bool {
        self.snapshot.is_some() || self.finishing.is_some()
    }

    /// Something for [`turn`] to do this turn.
    #[inline]
    pub fn busy(&self) -> bool {
        !self.replicas.is_empty() || !self.waiters.is_empty() || self.finishing.is_some()
    }

    pub fn replica_count(&self) -> usize {
        self.replicas.len()
    }
}

/// Forgets replicas whose connection closed (the registry is pruned lazily: closing a
/// connection does not come here).
fn prune(srv: &mut Server) {
    let before = srv.repl.primary.replicas.len();
    let conns = &srv.conns;
    srv.repl.primary.replicas.retain(|&(s, g)| {
        conns
            .get(s)
            .is_some_and(|c| c.generation == g && !c.closed && c.is_replica())
    });
    if before > 0 && srv.repl.primary.replicas.is_empty() {
        srv.repl.primary.no_replicas_since_ms = srv.now_ms;
    }
}

/// The journal's published effects as replication stream bytes (SELECT where the database
/// changes), fed to the backlog and the replicas. `slot`: the client whose command had
/// these effects (its `repl_woff` is what WAIT waits for).
pub fn feed_effects(srv: &mut Server, slot: Option<usize>) {
    let mut buf = std::mem::take(&mut srv.repl.primary.scratch);
    buf.clear();
    let mut itoa = itoa::Buffer::new();
    for (db, bytes) in srv.journal.published() {
        if let Some(db) = db {
            if srv.repl.primary.stream_db != Some(db) {
                let n = itoa.format(db).as_bytes();
                encode(&mut buf, 2, [&b"SELECT"[..], n].into_iter());
                srv.repl.primary.stream_db = Some(db);
            }
        }
        buf.extend_from_slice(bytes);
    }
    feed_replicas(srv, &buf);
    srv.repl.primary.scratch = buf;
    if let Some(c) = slot.and_then(|s| srv.conns.get_mut(s)) {
        c.repl_woff = srv.repl.master_repl_offset;
    }
}

/// Appends replication stream bytes: to the backlog (and the offset), to every online
/// replica's output, and to the held stream of replicas receiving a snapshot. A replica
/// over its output limit is dropped. A chained replica calls this with its primary's bytes.
pub fn feed_replicas(srv: &mut Server, bytes: &[u8]) {
    // No backlog means no replica: nothing is produced (Redis's offset stays put too).
    if !srv.repl.has_backlog() {
        return;
    }
    srv.repl.feed(bytes);
    if bytes.is_empty() {
        return;
    }
    let lim = srv.config.client_obuf_limits[1];
    let now_ms = srv.now_ms;
    for i in 0..srv.repl.primary.replicas.len() {
        let (slot, generation) = srv.repl.primary.replicas[i];
        let Some(c) = srv.conns.get_mut(slot) else {
            continue;
        };
        if c.generation != generation || c.closed || c.obuf_closing {
            continue;
        }
        let Some(r) = c.replica.as_deref_mut() else {
            continue;
        };
        let pending = match r.state {
            ReplicaState::Online if !r.stream_on_ack => {
                c.out.extend_from_slice(bytes);
                if !c.flush_queued {
                    c.flush_queued = true;
                    srv.touched.push(slot);
                }
                c.output_pending(c.out.len())
            }
            ReplicaState::SendSnapshot | ReplicaState::Online => {
                r.held.extend_from_slice(bytes);
                r.held.len() + c.output_pending(c.out.len())
            }
            _ => continue,
        };
        if c.output_limit_reached(lim, pending as u64, now_ms) {
            c.obuf_closing = true;
            srv.obuf_closing.push((slot, generation));
        }
    }
}

/// Closes every replica's connection (this server is about to follow another primary:
/// as Redis does, its replicas reconnect and resync with it, partially when they can).
pub fn disconnect_replicas(srv: &mut Server) {
    let replicas = std::mem::take(&mut srv.repl.primary.replicas);
    for (slot, generation) in replicas {
        if srv
            .conns
            .get(slot)
            .is_some_and(|c| c.generation == generation && !c.closed)
        {
            srv.conns[slot].out.clear();
            srv.close(slot);
        }
    }
    srv.repl.primary.no_replicas_since_ms = srv.now_ms;
}

/// Starts keeping a backlog: a new history (replication id) begins, as in Redis when the
/// first replica arrives and there is no backlog, and the journal starts recording.
fn ensure_backlog(srv: &mut Server) {
    if srv.repl.has_backlog() {
        return;
    }
    srv.repl.replid = crate::server::random_hex(40);
    srv.repl.clear_replid2();
    srv.repl.backlog_size = backlog_bytes(srv);
    keep_backlog(srv);
}

/// Keeps a backlog from now on (made if there is none: a replica keeps one from its first
/// sync, a primary from its first replica), and starts this server's own stream afresh: from
/// the journal, which records while a backlog exists, with a SELECT before its first command
/// (also what a replica promoted to primary needs).
pub fn keep_backlog(srv: &mut Server) {
    srv.repl.create_backlog();
    srv.repl.primary.stream_db = None;
    let aof = srv.journal_aof;
    srv.set_journal(aof);
}

fn backlog_bytes(srv: &Server) -> usize {
    srv.config.repl.backlog_size.max(BACKLOG_MIN_BYTES) as usize
}

// ---- commands' side -----------------------------------------------------------------------

/// The replica settings of the calling connection, made at its first REPLCONF (the handler
/// lives in `cmd::replication`).
pub fn replica_conf<'c>(ctx: &'c mut Ctx<'_>) -> &'c mut Replica {
    let c = &mut ctx.srv.conns[ctx.slot];
    c.replica.get_or_insert_with(Default::default)
}

/// `REPLCONF ACK <offset>` from an attached replica.
pub fn ack(srv: &mut Server, slot: usize, offset: u64) {
    let now_ms = srv.now_ms;
    if let Some(r) = srv.conns[slot].replica.as_deref_mut() {
        if !r.attached() {
            return;
        }
        if offset > r.ack_offset {
            r.ack_offset = offset;
        }
        r.ack_time_ms = now_ms;
        if r.stream_on_ack {
            // The replica has read the whole snapshot: the held stream follows.
            r.stream_on_ack = false;
            let held = std::mem::take(&mut r.held);
            let c = &mut srv.conns[slot];
            c.out.extend_from_slice(&held);
            srv.touched.push(slot);
        }
    }
}

/// What PSYNC or SYNC does for the connection in `slot`. The reply (when there is one now)
/// goes to `out`, the caller's reply buffer.
pub fn sync(srv: &mut Server, slot: usize, out: &mut Vec<u8>, psync: Option<(&[u8], &[u8])>) {
    let now_ms = srv.now_ms;
    if let Some((id, off)) = psync {
        let offset = crate::util::num::parse_i64_strict(off);
        let id = std::str::from_utf8(id).unwrap_or("");
        if let Some(offset) = offset.filter(|&o| o >= 0) {
            let offset = offset as u64;
            if srv.repl.can_continue(id, offset) {
                continue_sync(srv, slot, out, offset);
                return;
            }
        }
        // "?": the replica asks for a full sync itself.
        if id != "?" {
            srv.repl.primary.sync_partial_err += 1;
        }
    }
    srv.repl.primary.sync_full += 1;
    ensure_backlog(srv);
    let no_delay_off = srv.config.repl.disable_tcp_nodelay;
    let c = &mut srv.conns[slot];
    if no_delay_off {
        // `repl-disable-tcp-nodelay`: the stream goes out in fewer, larger packets (not
        // critical if refused, as in Redis).
        let _ = nix::sys::socket::setsockopt(&c.fd, nix::sys::socket::sockopt::TcpNoDelay, &false);
    }
    let r = c.replica.get_or_insert_with(Default::default);
    r.state = ReplicaState::WaitSnapshot;
    r.old_sync = psync.is_none();
    r.wait_since_ms = now_ms;
    r.ack_time_ms = now_ms;
    log::info!(
        "Replica {} asks for synchronization; full sync scheduled",
        replica_name(c)
    );
    srv.repl.primary.replicas.push((slot, c.generation));
    srv.repl.primary.no_replicas_since_ms = 0;
}

fn replica_name(c: &crate::net::conn::Conn) -> String {
    let ip = c
        .addr
        .rsplit_once(':')
        .map_or(c.addr.as_str(), |(ip, _)| ip);
    let port = c.replica.as_deref().map_or(0, |r| r.listening_port);
    format!("{ip}:{port}")
}

/// +CONTINUE: the backlog from `offset`, then the stream as it comes.
fn continue_sync(srv: &mut Server, slot: usize, out: &mut Vec<u8>, offset: u64) {
    let now_ms = srv.now_ms;
    let c = &mut srv.conns[slot];
    let r = c.replica.get_or_insert_with(Default::default);
    if r.capa_psync2 {
        out.extend_from_slice(b"+CONTINUE ");
        out.extend_from_slice(srv.repl.replid.as_bytes());
        out.extend_from_slice(b"\r\n");
    } else {
        out.extend_from_slice(b"+CONTINUE\r\n");
    }
    if let Some((a, b)) = srv.repl.backlog_from(offset) {
        out.extend_from_slice(a);
        out.extend_from_slice(b);
    }
    r.state = ReplicaState::Online;
    r.ack_time_ms = now_ms;
    r.ack_offset = offset.saturating_sub(1);
    log::info!(
        "Partial resynchronization request from {} accepted, sending {} bytes of backlog starting from offset {offset}.",
        replica_name(c),
        srv.repl.master_repl_offset + 1 - offset
    );
    srv.repl.primary.replicas.push((slot, c.generation));
    srv.repl.primary.no_replicas_since_ms = 0;
    srv.repl.primary.sync_partial_ok += 1;
}

// ---- WAIT and min-replicas-to-write ------------------------------------------------------

/// The attached replicas whose connections are still the ones registered, in attach order,
/// with their connections.
fn attached_replicas(
    srv: &Server,
) -> impl Iterator<Item = (&crate::net::conn::Conn, &Replica)> + '_ {
    srv.repl
        .primary
        .replicas
        .iter()
        .filter_map(move |&(slot, generation)| {
            let c = srv.conns.get(slot)?;
            if c.generation != generation || c.closed {
                return None;
            }
            Some((c, c.replica.as_deref()?))
        })
}

/// The IP a replica is known by: the one it announced, or its peer address's.
fn replica_ip<'a>(c: &'a crate::net::conn::Conn, r: &'a Replica) -> &'a str {
    match &r.ip_address {
        Some(ip) => ip.as_str(),
        None => c
            .addr
            .rsplit_once(':')
            .map_or(c.addr.as_str(), |(ip, _)| ip),
    }
}

/// The attached replicas that are online.
fn online_replicas(srv: &Server) -> impl Iterator<Item = &Replica> + '_ {
    attached_replicas(srv)
        .map(|(_, r)| r)
        .filter(|r| r.state == ReplicaState::Online)
}

/// Every attached replica has acknowledged the whole stream (Redis's
/// `isReadyToShutdown`); true without replicas.
pub fn replicas_caught_up(srv: &Server) -> bool {
    let offset = srv.repl.master_repl_offset;
    attached_replicas(srv).all(|(_, r)| r.ack_offset >= offset)
}

/// Asks every replica for an ACK at the end of the turn.
pub fn request_acks(srv: &mut Server) {
    srv.repl.primary.get_ack = true;
}

/// Replicas online whose last ACK covers `offset`.
pub fn acked_count(srv: &Server, offset: u64) -> u64 {
    online_replicas(srv)
        .filter(|r| r.ack_offset >= offset)
        .count() as u64
}

/// `min-replicas-to-write`: true while writes are allowed (Redis's
/// `checkGoodReplicasStatus`): enough online replicas acknowledged within
/// `min-replicas-max-lag` seconds.
pub fn enough_good_replicas(srv: &Server) -> bool {
    let cfg = &srv.config.repl;
    if cfg.min_replicas_to_write == 0 || cfg.min_replicas_max_lag_s == 0 {
        return true;
    }
    if srv.repl.role != Role::Primary {
        return true;
    }
    good_replicas(srv) >= cfg.min_replicas_to_write
}

/// Online replicas whose lag is at most `min-replicas-max-lag` (INFO's
/// `min_slaves_good_slaves`).
pub fn good_replicas(srv: &Server) -> u64 {
    let max_lag_s = srv.config.repl.min_replicas_max_lag_s;
    let now_s = srv.now_ms / 1000;
    online_replicas(srv)
        .filter(|r| now_s.saturating_sub(r.ack_time_ms / 1000) <= max_lag_s)
        .count() as u64
}

/// WAIT that could not be answered at once: the client waits for `replicas` ACKs of
/// `offset` until `deadline_ms` (0: forever); the replicas are asked for an ACK at the
/// end of the turn.
pub fn block_wait(srv: &mut Server, slot: usize, offset: u64, replicas: u64, deadline_ms: u64) {
    let cmd_idx = srv.current_cmd;
    let c = &mut srv.conns[slot];
    c.repl_waiting = true;
    srv.repl.primary.waiters.push(Waiter {
        slot,
        generation: c.generation,
        offset,
        replicas,
        deadline_ms,
        cmd_idx,
    });
    srv.repl.primary.get_ack = true;
}

/// The connection of a WAITing client, if it is still the one that waits.
fn waiter_conn<'a>(srv: &'a Server, w: &Waiter) -> Option<&'a crate::net::conn::Conn> {
    srv.conns
        .get(w.slot)
        .filter(|c| c.generation == w.generation && !c.closed && c.repl_waiting)
}

/// The WAITing clients still connected.
fn live_waiters(srv: &Server) -> impl Iterator<Item = &Waiter> {
    srv.repl
        .primary
        .waiters
        .iter()
        .filter(|w| waiter_conn(srv, w).is_some())
}

/// Clients blocked in WAIT, and those of them with a timeout: Redis counts them in INFO's
/// blocked_clients and clients_in_timeout_table.
pub fn waiting_counts(srv: &Server) -> (usize, usize) {
    live_waiters(srv).fold((0, 0), |(n, t), w| {
        (n + 1, t + usize::from(w.deadline_ms != 0))
    })
}

/// The earliest WAIT timeout, for the loop's timer (so that WAIT answers on time rather
/// than at the next tick).
pub fn next_wait_deadline(srv: &Server) -> Option<u64> {
    live_waiters(srv)
        .filter(|w| w.deadline_ms != 0)
        .map(|w| w.deadline_ms)
        .min()
}

/// CLIENT UNBLOCK of a WAITing client: answered as its timeout would (the replicas that
/// acknowledged so far) or with the UNBLOCKED error, and counted as a failed call with its
/// latency, as Redis 7.0 does. False if no WAITing client has that id.
pub fn unblock_waiter(srv: &mut Server, id: u64, error: bool) -> bool {
    let Some(i) = srv
        .repl
        .primary
        .waiters
        .iter()
        .position(|w| waiter_conn(srv, w).is_some_and(|c| c.id == id))
    else {
        return false;
    };
    let w = srv.repl.primary.waiters.swap_remove(i);
    let acked = acked_count(srv, w.offset);
    let c = &mut srv.conns[w.slot];
    c.repl_waiting = false;
    let mut reply = crate::resp::reply::Reply::new(&mut c.out, c.resp3);
    if error {
        reply.error(crate::cmd::blocking::ERR_UNBLOCKED);
        srv.stats.count_error(b"-UNBLOCKED ");
    } else {
        reply.int(acked as i64);
    }
    if let Some(st) = srv.cmd_stats.get_mut(w.cmd_idx) {
        st.failed_calls += 1;
    }
    if srv.config.latency_tracking {
        crate::cmd::call::record_latency(srv, w.cmd_idx, 0);
    }
    srv.resume_client(w.slot);
    true
}

/// Answers the WAITing clients that have their ACKs or whose time is up.
fn serve_waiters(srv: &mut Server) {
    let now_ms = srv.now_ms;
    let mut waiters = std::mem::take(&mut srv.repl.primary.waiters);
    let mut answered = 0;
    waiters.retain(|w| {
        if waiter_conn(srv, w).is_none() {
            return false;
        }
        if answered >= WAITERS_PER_TURN_MAX {
            return true;
        }
        let n = acked_count(srv, w.offset);
        let timed_out = w.deadline_ms != 0 && now_ms >= w.deadline_ms;
        if n < w.replicas && !timed_out {
            return true;
        }
        answered += 1;
        let c = &mut srv.conns[w.slot];
        c.repl_waiting = false;
        crate::resp::reply::Reply::new(&mut c.out, c.resp3).int(n as i64);
        srv.resume_client(w.slot);
        false
    });
    // Waiters added meanwhile (none: nothing here runs commands) would be kept.
    waiters.append(&mut srv.repl.primary.waiters);
    srv.repl.primary.waiters = waiters;
}

/// Ends every WAIT with `msg` as its error and closes the client once it is sent (this
/// server is about to follow a primary: nothing will acknowledge its writes any more).
pub fn fail_waiters(srv: &mut Server, msg: &str) {
    let waiters = std::mem::take(&mut srv.repl.primary.waiters);
    for w in waiters {
        if waiter_conn(srv, &w).is_none() {
            continue;
        }
        let c = &mut srv.conns[w.slot];
        c.repl_waiting = false;
        crate::resp::reply::Reply::new(&mut c.out, c.resp3).error(msg);
        srv.stats.count_error(b"-UNBLOCKED ");
        srv.close_after_reply(w.slot);
    }
}

// ---- the loop's hooks --------------------------------------------------------------------

/// Once per loop turn while there are replicas or WAITing clients: starts a full sync that
/// is due, sends a slice of the one in progress, asks for ACKs a WAIT needs and answers
/// WAITs. Returns true when the snapshot has more to send and room to send it (the loop
/// must not sleep).
pub fn turn(srv: &mut Server) -> bool {
    prune(srv);
    if srv.repl.primary.finishing.is_some() {
        collect_finished(srv);
    }
    if srv.repl.primary.snapshot.is_none() && snapshot_due(srv) {
        start_snapshot(srv);
    }
    let mut more = if srv.repl.primary.snapshot.is_some() {
        snapshot_step(srv)
    } else {
        false
    };
    more |= send_bulks(srv);
    // Not while clients are paused (it would move the offset a failover waits for): asked
    // once the pause is over, as Redis does.
    if srv.repl.primary.get_ack && !srv.pause.active() {
        srv.repl.primary.get_ack = false;
        if srv.repl.role == Role::Primary {
            let mut buf = Vec::new();
            encode(&mut buf, 3, [&b"REPLCONF"[..], b"GETACK", b"*"].into_iter());
            feed_replicas(srv, &buf);
        }
    }
    if !srv.repl.primary.waiters.is_empty() {
        serve_waiters(srv);
    }
    // The replicas' ACKs of this turn may complete a failover's wait.
    crate::repl::failover::update(srv);
    more
}

/// Replicas wait for a snapshot, and one may start: none runs (nor a BGSAVE or an AOF
/// rewrite, which share the copy-on-write logs), and the diskless delay has passed for the
/// longest-waiting one, or enough replicas wait.
fn snapshot_due(srv: &Server) -> bool {
    if srv.rdb.bgsave_in_progress()
        || srv.aof.rewrite_in_progress()
        || srv.repl.primary.finishing.is_some()
    {
        return false;
    }
    let mut waiting = 0u64;
    let mut oldest_ms = u64::MAX;
    // The delay is for a diskless sync to a replica that can take one; the disk form
    // starts at once (Redis's `syncCommand`).
    let mut delayed = srv.config.repl.diskless_sync;
    for &(slot, generation) in &srv.repl.primary.replicas {
        let Some(c) = srv.conns.get(slot) else {
            continue;
        };
        if c.generation != generation || c.closed {
            continue;
        }
        if let Some(r) = c.replica.as_deref() {
            if r.state == ReplicaState::WaitSnapshot {
                waiting += 1;
                oldest_ms = oldest_ms.min(r.wait_since_ms);
                delayed &= r.capa_eof;
            }
        }
    }
    if waiting == 0 {
        return false;
    }
    let cfg = &srv.config.repl;
    let max = cfg.diskless_sync_max_replicas;
    !delayed
        || (max > 0 && waiting >= max)
        || srv.now_ms.saturating_sub(oldest_ms) >= cfg.diskless_sync_delay_s * 1000
}

/// The snapshot starts: every waiting replica gets `+FULLRESYNC <id> <offset>` and the
/// `$EOF:<mark>` preamble; the stream from here on is held for them.
fn start_snapshot(srv: &mut Server) {
    let now_ms = srv.now_ms;
    let offset = srv.repl.master_repl_offset;
    // The next effect selects its database: the snapshot's replicas start with none.
    srv.repl.primary.stream_db = None;
    let mut mark = [0u8; EOF_MARK_LEN];
    mark.copy_from_slice(crate::server::random_hex(EOF_MARK_LEN).as_bytes());
    let mut targets = Vec::new();
    let mut preamble = Vec::new();
    // Replicas share a snapshot when they want the same parts (as Redis groups them by
    // their requirements): the first waiting one decides; the others wait for the next.
    let waiting = |srv: &Server, slot: usize, generation: u32| {
        srv.conns.get(slot).and_then(|c| {
            let r = c.replica.as_deref()?;
            (c.generation == generation && !c.closed && r.state == ReplicaState::WaitSnapshot)
                .then_some(r.functions_only)
        })
    };
    let Some(functions_only) = srv
        .repl
        .primary
        .replicas
        .iter()
        .find_map(|&(s, g)| waiting(srv, s, g))
    else {
        return;
    };
    // `repl-diskless-sync no`, or one replica without `capa eof`, puts every replica of
    // this snapshot on the disk form.
    let disk = !srv.config.repl.diskless_sync
        || srv.repl.primary.replicas.iter().any(|&(slot, generation)| {
            waiting(srv, slot, generation) == Some(functions_only)
                && srv.conns[slot]
                    .replica
                    .as_deref()
                    .is_some_and(|r| !r.capa_eof)
        });
    let file = if disk {
        let path = srv
            .config
            .dir
            .join(format!("temp-{}-repl.rdb", std::process::id()));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
        {
            Ok(f) => Some((f, path)),
            Err(e) => {
                log::warn!(
                    "Can't open the replication snapshot file {}: {e}",
                    path.display()
                );
                return;
            }
        }
    } else {
        None
    };
    for &(slot, generation) in &srv.repl.primary.replicas {
        let Some(c) = srv.conns.get_mut(slot) else {
            continue;
        };
        if c.generation != generation || c.closed {
            continue;
        }
        let Some(r) = c.replica.as_deref_mut() else {
            continue;
        };
        if r.state != ReplicaState::WaitSnapshot || r.functions_only != functions_only {
            continue;
        }
        preamble.clear();
        if !r.old_sync {
            preamble.extend_from_slice(
                format!("+FULLRESYNC {} {offset}\r\n", srv.repl.replid).as_bytes(),
            );
        }
        if !disk {
            preamble.extend_from_slice(b"$EOF:");
            preamble.extend_from_slice(&mark);
            preamble.extend_from_slice(b"\r\n");
        }
        c.out.extend_from_slice(&preamble);
        r.state = ReplicaState::SendSnapshot;
        r.ack_time_ms = now_ms;
        r.held.clear();
        targets.push((slot, generation));
        srv.touched.push(slot);
    }
    if targets.is_empty() {
        return;
    }
    let used_memory = srv.used_memory();
    let mut aux = SaveOptions::aux_redis_7(now_ms / 1000, used_memory, false);
    let kv = |k: &str, v: String| (k.as_bytes().to_vec(), v.into_bytes());
    // Redis's order: after used-mem, before aof-base.
    let at = aux.len() - 1;
    aux.splice(
        at..at,
        [
            kv("repl-stream-db", "0".into()),
            kv("repl-id", srv.repl.replid.clone()),
            kv("repl-offset", offset.to_string()),
        ],
    );
    let opts = SaveOptions {
        compression: srv.config.rdbcompression,
        checksum: srv.config.rdbchecksum,
        aux,
        functions: srv.scripts.functions.codes().map(<[u8]>::to_vec).collect(),
    };
    // A functions-only snapshot walks no database (each is done at once).
    if !functions_only {
        for (i, db) in srv.dbs.iter_mut().enumerate() {
            db.snapshot_begin(i);
        }
    }
    log::info!(
        "Starting BGSAVE for SYNC with target: {} (forkless snapshot, {} replicas)",
        if disk { "disk" } else { "replicas sockets" },
        targets.len()
    );
    let sizes = srv
        .dbs
        .iter()
        .map(|db| (db.len(), db.expires_len()))
        .collect();
    srv.repl.primary.snapshot = Some(Snapshot {
        writer: Some(RdbWriter::new(&opts).with_db_sizes(sizes)),
        targets,
        mark,
        current_db: None,
        file,
        dirty_at_start: srv.stats.dirty,
        started: std::time::Instant::now(),
        autosync: Default::default(),
    });
}

/// Sends a slice of the snapshot to its replicas while each has room; finishes it when every
/// database is done. Returns true if the loop should come back at once.
fn snapshot_step(srv: &mut Server) -> bool {
    let Some(mut snap) = srv.repl.primary.snapshot.take() else {
        return false;
    };
    // Replicas that went away are dropped; with none left the snapshot is abandoned.
    snap.targets.retain(|&(s, g)| {
        srv.conns
            .get(s)
            .is_some_and(|c| c.generation == g && !c.closed && !c.obuf_closing)
    });
    if snap.targets.is_empty() {
        for db in srv.dbs.iter_mut() {
            db.snapshot_end();
        }
        log::warn!("Full sync abandoned: no replica left to send it to");
        return false;
    }
    let room = |srv: &Server, snap: &Snapshot| {
        snap.file.is_some()
            || snap.targets.iter().all(|&(s, _)| {
                let c = &srv.conns[s];
                c.output_pending(c.out.len()) < SNAPSHOT_QUEUE_BYTES
            })
    };
    let started = crate::util::mono_ns();
    let budget_ns = started
        .saturating_sub(srv.repl.primary.last_slice_end_ns)
        .clamp(SNAPSHOT_TURN_MIN_NS, SNAPSHOT_TURN_MAX_NS);
    let mut all_done = false;
    // Bounded by time and by the replicas' room.
    while room(srv, &snap) && crate::util::mono_ns().saturating_sub(started) < budget_ns {
        let Some(writer) = snap.writer.as_mut() else {
            break;
        };
        all_done = true;
        while writer.pending() < SNAPSHOT_QUEUE_BYTES / 4 {
            all_done = true;
            for db in srv.dbs.iter_mut() {
                let current = &mut snap.current_db;
                let done = db.snapshot_step(SNAPSHOT_SLICE_KEYS, |idx, k, v, d| {
                    if *current != Some(idx) {
                        writer.select(idx);
                        *current = Some(idx);
                    }
                    writer.key_value(k, v, d);
                });
                all_done &= done;
            }
            if all_done || crate::util::mono_ns().saturating_sub(started) >= budget_ns {
                break;
            }
        }
        let bytes = writer.take_bytes();
        if let Some((f, path)) = snap.file.as_mut() {
            if let Err(e) = std::io::Write::write_all(f, &bytes) {
                log::warn!(
                    "Write error saving the replication snapshot {}: {e}",
                    path.display()
                );
                abandon(srv, snap);
                return false;
            }
            let on = srv.config.rdb_save_incremental_fsync;
            snap.autosync.wrote(f, bytes.len(), on);
        } else {
            for &(slot, _) in &snap.targets {
                srv.conns[slot].out.extend_from_slice(&bytes);
                srv.touched.push(slot);
            }
        }
        if all_done {
            break;
        }
    }
    srv.repl.primary.last_slice_end_ns = crate::util::mono_ns();
    if !all_done {
        let more = room(srv, &snap);
        srv.repl.primary.snapshot = Some(snap);
        return more;
    }
    for db in srv.dbs.iter_mut() {
        db.snapshot_end();
    }
    let tail = snap
        .writer
        .take()
        .map(RdbWriter::finish)
        .unwrap_or_default();
    if snap.file.is_some() {
        return finish_file(srv, snap, &tail);
    }
    let now_ms = srv.now_ms;
    for &(slot, _) in &snap.targets {
        let c = &mut srv.conns[slot];
        c.out.extend_from_slice(&tail);
        c.out.extend_from_slice(&snap.mark);
        let name = replica_name(c);
        let Some(r) = c.replica.as_deref_mut() else {
            continue;
        };
        r.state = ReplicaState::Online;
        r.ack_time_ms = now_ms;
        if r.rdb_only {
            // The snapshot only: the connection ends once it is sent.
            r.held = Vec::new();
            c.close_after_reply = true;
        } else {
            r.stream_on_ack = true;
        }
        log::info!("Synchronization with replica {name} succeeded");
        srv.touched.push(slot);
    }
    false
}

/// Drops a snapshot that cannot go on; its replicas are closed (they will sync again).
fn abandon(srv: &mut Server, snap: Snapshot) {
    for db in srv.dbs.iter_mut() {
        db.snapshot_end();
    }
    if let Some((_, path)) = &snap.file {
        let _ = std::fs::remove_file(path);
    }
    for &(slot, generation) in &snap.targets {
        if srv
            .conns
            .get(slot)
            .is_some_and(|c| c.generation == generation)
        {
            srv.conns[slot].out.clear();
            srv.close(slot);
        }
    }
}

/// The disk form's snapshot is complete: each replica gets `$<len>` and then the file,
/// read in pieces as its socket takes them (`send_bulks`).
fn finish_file(srv: &mut Server, mut snap: Snapshot, tail: &[u8]) -> bool {
    let Some((mut f, path)) = snap.file.take() else {
        return false;
    };
    let written = std::io::Write::write_all(&mut f, tail)
        .and_then(|()| std::io::Write::flush(&mut f))
        .and_then(|()| f.metadata());
    let len = match written {
        Ok(m) => m.len(),
        Err(e) => {
            log::warn!(
                "Write error saving the replication snapshot {}: {e}",
                path.display()
            );
            snap.file = Some((f, path));
            abandon(srv, snap);
            return false;
        }
    };
    for &(slot, _) in &snap.targets {
        // Each replica reads through a handle of its own (the file is unlinked below).
        let Ok(handle) = std::fs::File::open(&path) else {
            srv.conns[slot].out.clear();
            srv.close(slot);
            continue;
        };
        let c = &mut srv.conns[slot];
        c.out.extend_from_slice(format!("${len}\r\n").as_bytes());
        if let Some(r) = c.replica.as_deref_mut() {
            r.bulk = Some((handle, len));
        }
        srv.touched.push(slot);
    }
    // `rdb-del-sync-files` on a server that persists nothing: the file was only for the
    // replicas, and goes once their handles are open (Redis deletes it once sent).
    let cfg = &srv.config;
    if cfg.rdb_del_sync_files && cfg.save_params.is_empty() && !srv.aof.enabled {
        let _ = std::fs::remove_file(&path);
        return send_bulks(srv);
    }
    // The file becomes the RDB file, as Redis's disk-target BGSAVE writes `dbfilename`:
    // synced, then renamed (the replicas read through their own handles meanwhile).
    let dest = crate::persist::rdb_server::rdb_path(&srv.config);
    let thread = std::thread::spawn(move || crate::persist::sync_and_rename(f, &path, &dest));
    srv.repl.primary.finishing = Some(Finishing {
        thread,
        dirty_at_start: snap.dirty_at_start,
        started: snap.started,
    });
    send_bulks(srv)
}

/// The disk form's file is in place (or failed to be): the save is recorded as a BGSAVE's.
fn collect_finished(srv: &mut Server) {
    if !srv
        .repl
        .primary
        .finishing
        .as_ref()
        .is_some_and(|f| f.thread.is_finished())
    {
        return;
    }
    let Some(done) = srv.repl.primary.finishing.take() else {
        return;
    };
    let result = done
        .thread
        .join()
        .unwrap_or_else(|_| Err("the finishing thread panicked".into()));
    let rdb = &mut srv.rdb;
    rdb.last_bgsave_s = Some(done.started.elapsed().as_secs());
    match result {
        Ok(()) => {
            log::info!("Background RDB transfer terminated with success");
            rdb.dirty_at_save = done.dirty_at_start;
            rdb.lastsave_s = srv.now_ms / 1000;
            rdb.last_ok = true;
            rdb.saves += 1;
        }
        Err(e) => {
            log::warn!("Background saving error: {e}");
            rdb.last_ok = false;
        }
    }
}

/// Moves the disk form's file into the output of each replica receiving it, as far as its
/// room allows; a replica whose file is all sent goes online (the stream held since the
/// snapshot follows at once: the replica knows the snapshot's length). Returns true when a
/// replica has more to send and room for it.
fn send_bulks(srv: &mut Server) -> bool {
    use std::io::Read as _;
    let now_ms = srv.now_ms;
    let mut more = false;
    let mut chunk = Vec::new();
    for i in 0..srv.repl.primary.replicas.len() {
        let (slot, generation) = srv.repl.primary.replicas[i];
        let Some(c) = srv.conns.get_mut(slot) else {
            continue;
        };
        if c.generation != generation || c.closed {
            continue;
        }
        let pending = c.output_pending(c.out.len());
        let Some(r) = c.replica.as_deref_mut() else {
            continue;
        };
        let Some((f, left)) = r.bulk.as_mut() else {
            continue;
        };
        chunk.resize(64 * 1024, 0);
        let mut room = SNAPSHOT_QUEUE_BYTES.saturating_sub(pending);
        // Bounded by the room (and the file's length).
        while room > 0 && *left > 0 {
            let want = chunk.len().min(room).min(*left as usize);
            match f.read(&mut chunk[..want]) {
                Ok(0) | Err(_) => {
                    // The file is shorter than it was: the link cannot be completed.
                    *left = 0;
                    c.close_after_reply = true;
                    break;
                }
                Ok(n) => {
                    c.out.extend_from_slice(&chunk[..n]);
                    *left -= n as u64;
                    room -= n;
                }
            }
        }
        srv.touched.push(slot);
        if *left > 0 {
            more |= room > 0;
            continue;
        }
        r.bulk = None;
        r.state = ReplicaState::Online;
        r.ack_time_ms = now_ms;
        let held = std::mem::take(&mut r.held);
        if r.rdb_only {
            c.close_after_reply = true;
        } else {
            c.out.extend_from_slice(&held);
        }
        log::info!("Synchronization with replica {} succeeded", replica_name(c));
    }
    more
}

/// Housekeeping (each tick; its once-a-second parts gate themselves): the PING in the
/// stream every `repl-ping-replica-period`, newlines to replicas waiting for a snapshot,
/// `repl-timeout`, the backlog's size and time to live.
pub fn cron(srv: &mut Server) {
    crate::repl::failover::update(srv);
    if srv.repl.role != Role::Primary {
        // A replica's own replicas get its primary's stream (PINGs included) as it comes;
        // only the dead ones are dropped here.
        prune(srv);
        return;
    }
    prune(srv);
    let now_ms = srv.now_ms;
    let want = backlog_bytes(srv);
    if srv.repl.has_backlog() && srv.repl.backlog_size != want {
        srv.repl.resize_backlog(want);
    }
    // A failover with a deadline waits for the replicas' ACKs to match the offset: no PING
    // moves it meanwhile (as Redis, which skips it only when the failover has a TIMEOUT).
    let failover_holds = srv.repl.failover.timed() && srv.pause.active();
    let p = &mut srv.repl.primary;
    if !p.replicas.is_empty()
        && !failover_holds
        && now_ms.saturating_sub(p.last_ping_ms) >= srv.config.repl.ping_replica_period_s * 1000
    {
        p.last_ping_ms = now_ms;
        let mut buf = Vec::new();
        encode(&mut buf, 1, std::iter::once(&b"PING"[..]));
        feed_replicas(srv, &buf);
    }
    let p = &mut srv.repl.primary;
    if now_ms.saturating_sub(p.last_newline_ms) >= 1000 {
        p.last_newline_ms = now_ms;
        let timeout_ms = srv.config.repl.timeout_s * 1000;
        for i in 0..srv.repl.primary.replicas.len() {
            let (slot, _) = srv.repl.primary.replicas[i];
            let c = &mut srv.conns[slot];
            let Some(r) = c.replica.as_deref() else {
                continue;
            };
            match r.state {
                ReplicaState::WaitSnapshot => {
                    // Keeps the replica from timing out while it waits (Redis does the
                    // same); it skips newlines before the PSYNC reply.
                    c.out.push(b'\n');
                    srv.touched.push(slot);
                }
                ReplicaState::Online
                    if !r.old_sync && now_ms.saturating_sub(r.ack_time_ms) > timeout_ms =>
                {
                    log::warn!(
                        "Disconnecting timedout replica (streaming sync): {}",
                        replica_name(c)
                    );
                    c.out.clear();
                    srv.close(slot);
                }
                _ => {}
            }
        }
        prune(srv);
    }
    let p = &srv.repl.primary;
    let ttl_s = srv.config.repl.backlog_ttl_s;
    if p.replicas.is_empty()
        && srv.repl.has_backlog()
        && ttl_s > 0
        && p.no_replicas_since_ms > 0
        && now_ms.saturating_sub(p.no_replicas_since_ms) >= ttl_s * 1000
    {
        // As Redis: a new history, since nobody could continue this one without the backlog.
        srv.repl.replid = crate::server::random_hex(40);
        srv.repl.clear_replid2();
        srv.repl.free_backlog();
        let aof = srv.journal_aof;
        srv.set_journal(aof);
        log::info!("Replication backlog freed after {ttl_s} seconds without connected replicas.");
    }
}

// ---- ROLE and INFO -----------------------------------------------------------------------

/// (ip, port, ack offset, state, lag s) of each attached replica, for ROLE and INFO.
pub struct ReplicaView {
    pub ip: String,
    pub port: u16,
    pub offset: u64,
    pub state: &'static str,
    pub lag_s: u64,
}

/// (ip, listening port, ack offset, online) of each attached replica, borrowed (FAILOVER
/// looks its target up each loop turn while it waits): the ip is the one it announced, or
/// its peer address's.
pub fn replica_addrs(srv: &Server) -> impl Iterator<Item = (&str, u16, u64, bool)> + '_ {
    attached_replicas(srv).map(|(c, r)| {
        (
            replica_ip(c, r),
            r.listening_port,
            r.ack_offset,
            r.state == ReplicaState::Online,
        )
    })
}

pub fn replicas_view(srv: &Server) -> Vec<ReplicaView> {
    let now_s = srv.now_ms / 1000;
    attached_replicas(srv)
        .map(|(c, r)| ReplicaView {
            ip: replica_ip(c, r).to_string(),
            port: r.listening_port,
            offset: r.ack_offset,
            state: r.state_name(),
            lag_s: now_s.saturating_sub(r.ack_time_ms / 1000),
        })
        .collect()
}

/// INFO's `# Replication` section, as Redis 7.0.15 prints it.
pub fn info_section(srv: &Server, s: &mut String) {
    use std::fmt::Write as _;
    let r = &srv.repl;
    match &r.role {
        Role::Primary => s.push_str("# Replication\r\nrole:master\r\n"),
        // The link's fields, up to `replica_announced`.
        Role::Replica { .. } => crate::repl::replica::info_replication(srv, s),
    }
    let views = replicas_view(srv);
    let _ = write!(s, "connected_slaves:{}\r\n", views.len());
    let cfg = &srv.config.repl;
    if cfg.min_replicas_to_write > 0 && cfg.min_replicas_max_lag_s > 0 {
        let _ = write!(s, "min_slaves_good_slaves:{}\r\n", good_replicas(srv));
    }
    for (i, v) in views.iter().enumerate() {
        let _ = write!(
            s,
            "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
            v.ip, v.port, v.state, v.offset, v.lag_s
        );
    }
    let _ = write!(s, "master_failover_state:{}\r\n", r.failover.state.name());
    let _ = write!(
        s,
        "master_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        r.replid,
        r.replid2,
        r.master_repl_offset,
        r.second_repl_offset,
        u8::from(r.has_backlog()),
        srv.config.repl.backlog_size.max(BACKLOG_MIN_BYTES),
        if r.has_backlog() { r.backlog_first_offset() } else { 0 },
        r.backlog_histlen(),
    );
}
