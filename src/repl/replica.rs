//! The replica side of replication (PSYNC2): the link to the primary, from the outbound
//! connection to the applied stream.
//!
//! The link is a small state machine driven by ring completions (connect, receive, send) and
//! the housekeeping tick, and it never blocks the loop on the network:
//!
//! ```text
//! Connect --(tick / REPLICAOF)--> Connecting --(connect done)--> Handshake
//!   Handshake: PING, [AUTH], REPLCONF listening-port, [REPLCONF ip-address],
//!              REPLCONF capa eof capa psync2, PSYNC <replid> <offset+1> | PSYNC ? -1
//!   +FULLRESYNC <id> <off> --> Transfer ($<len> or $EOF:<mark> body, kept in memory)
//!                              --> flush, RDB load --> Connected
//!   +CONTINUE [<new id>]   --> Connected (the stream goes on where this server stopped)
//! any error / EOF / silence past repl-timeout --> Connect (retried at the next second)
//! ```
//!
//! The stream is applied through `cmd::call` as the master client (`Source::Master`), a
//! socketless connection that keeps the stream's selected database and MULTI state; its
//! replies are dropped, except REPLCONF GETACK, answered with REPLCONF ACK <offset>. Every
//! byte applied goes through `ReplState::feed`, so `master_repl_offset` is the offset of the
//! last fully applied command: bytes of a transaction are fed only once its EXEC ran, so a
//! link lost inside MULTI resumes before it (the transaction is discarded, as Redis does).
//!
//! A command of the stream that fails here is handled as Redis handles it
//! (`propagation-error-behavior`, `cmd::call::propagated_error`): logged as critical and
//! skipped, or, on a read-only replica under `panic` or `panic-on-replicas`, a panic. A
//! stream this server cannot apply at all (a command ringkv does not implement, an RDB with
//! a type ringkv lacks) halts the link with a log line: it stays down
//! (`master_link_status:down`) until the next REPLICAOF, rather than diverging silently.
//!
//! Invariants: at most one connect, one receive and one send are in flight; their tokens
//! carry the link's generation, which changes whenever the link is dropped, so a late
//! completion of an old link is recognised and ignored (its buffer dropped).

use crate::cmd::call::{self, Source};
use crate::io::ring::{self, Completion};
use crate::repl::Role;
use crate::resp::parse::{ParseLimits, Parser, Status};
use crate::server::Server;
use nix::sys::socket::{self as sock, SockaddrStorage};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::os::fd::{AsRawFd, OwnedFd};

/// Ring token kinds of the link's operations (the event loop hands them to `on_completion`);
/// distinct from the loop's (1..=8) and the AOF's (0x42..=0x44).
pub const K_LINK_CONNECT: u8 = 0x68;
pub const K_LINK_RECV: u8 = 0x69;
pub const K_LINK_SEND: u8 = 0x6a;
/// Completion of a cancelled connect's cancel request (nothing to do).
pub const K_LINK_CANCEL: u8 = 0x6b;

/// Receive buffer spare room while handshaking or streaming.
const RECV_CHUNK_BYTES: usize = 64 * 1024;
/// Receive buffer spare room during a bulk transfer (fewer completions for a big RDB).
const RECV_BULK_BYTES: usize = 1024 * 1024;
/// Length of the `$EOF:` mark of a diskless transfer.
const EOF_MARK_LEN: usize = 40;

/// The replica settings (`replicaof`, `masterauth`, `replica-*`, `repl-timeout`).
#[derive(Clone, Debug)]
pub struct ReplicaSettings {
    /// `replicaof host port` from the config file: follow it from start-up.
    pub replicaof: Option<(String, u16)>,
    pub masterauth: Option<Vec<u8>>,
    pub masteruser: Option<Vec<u8>>,
    pub serve_stale_data: bool,
    pub read_only: bool,
    pub priority: u32,
    pub announce_ip: Option<String>,
    pub announce_port: u16,
    pub announced: bool,
    /// Empty the old data in the background at a full sync.
    pub lazy_flush: bool,
    /// `replica-ignore-maxmemory`: a replica leaves eviction to its primary (whose DELs
    /// it applies); with `no` it evicts for itself, as Redis (its data may then differ).
    pub ignore_maxmemory: bool,
    /// `replica-ignore-disk-write-errors`: a write of the stream while this server cannot
    /// persist is applied with a warning (yes) or panics the server (no, Redis's default;
    /// `cmd::call`).
    pub ignore_disk_write_errors: bool,
}

impl Default for ReplicaSettings {
    fn default() -> Self {
        ReplicaSettings {
            replicaof: None,
            masterauth: None,
            masteruser: None,
            serve_stale_data: true,
            read_only: true,
            priority: 100,
            announce_ip: None,
            announce_port: 0,
            announced: true,
            lazy_flush: false,
            ignore_maxmemory: true,
            ignore_disk_write_errors: false,
        }
    }
}

/// Where the link is (ROLE's state names).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LinkState {
    /// Not a replica.
    None,
    /// Must connect (at the next tick).
    Connect,
    /// The connect is in flight.
    Connecting,
    /// Handshake replies awaited.
    Handshake,
    /// Receiving the RDB of a full sync.
    Transfer,
    /// Streaming.
    Connected,
}

impl LinkState {
    fn role_name(self) -> &'static str {
        match self {
            LinkState::None => "none",
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// A handshake reply awaited, in the order the requests were sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Awaited {
    Pong,
    Auth,
    Port,
    Ip,
    Capa,
    Psync,
}

/// A full sync's RDB being received.
struct Transfer {
    replid: String,
    offset: u64,
    /// None until the `$` header line arrived.
    header: Option<BulkForm>,
    body: Vec<u8>,
    last_io_ms: u64,
}

#[derive(Clone, Debug)]
enum BulkForm {
    Len(usize),
    Eof(Vec<u8>),
}

/// The link to the primary and what survives its drops.
pub struct Replica {
    pub state: LinkState,
    generation: u32,
    fd: Option<OwnedFd>,
    connect_handle: Option<u64>,
    recv_inflight: bool,
    /// Received bytes not yet applied (a transaction waiting for its EXEC included).
    inbuf: Vec<u8>,
    /// Of `inbuf`'s front, bytes applied but not yet fed (inside MULTI).
    parser: Parser,
    send_inflight: bool,
    /// The buffer being sent (owned by the ring while `send_inflight`), and its offset.
    send_offset: usize,
    out: Vec<u8>,
    spare: Vec<u8>,
    awaiting: VecDeque<Awaited>,
    transfer: Option<Transfer>,
    /// The socketless client the stream runs as (kept across drops: its database is the
    /// stream's).
    master_slot: Option<usize>,
    /// The stream's selected database when the master client is (re)made.
    pub stream_db: usize,
    /// This server's replid/offset describe the primary's history (after a sync, a link
    /// drop, a restart with an RDB that says so, or a primary turned replica): ask PSYNC
    /// with them rather than `? -1`.
    psync_cached: bool,
    last_io_ms: u64,
    /// When the link went down (0: it never was up since REPLICAOF).
    down_since_ms: u64,
    last_ack_ms: u64,
    last_connect_ms: u64,
    /// Why the link was stopped for good (until the next REPLICAOF).
    pub halted: Option<String>,
    /// The replies of commands applied from the stream (dropped), reused.
    scratch: Vec<u8>,
}

impl Default for Replica {
    fn default() -> Self {
        Replica {
            state: LinkState::None,
            generation: 1,
            fd: None,
            connect_handle: None,
            recv_inflight: false,
            inbuf: Vec::new(),
            parser: Parser::new(),
            send_inflight: false,
            send_offset: 0,
            out: Vec::new(),
            spare: Vec::new(),
            awaiting: VecDeque::new(),
            transfer: None,
            master_slot: None,
            stream_db: 0,
            psync_cached: false,
            last_io_ms: 0,
            down_since_ms: 0,
            last_ack_ms: 0,
            last_connect_ms: 0,
            halted: None,
            scratch: Vec::new(),
        }
    }
}

/// A replica's place in its primary's stream, as a snapshot records it (borrowed: it is
/// built for every persistence call, once a loop turn with the AOF on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavedReplInfo<'a> {
    pub replid: &'a str,
    pub offset: u64,
    pub stream_db: usize,
}

/// Whether the master client in `slot` is still there (CLIENT KILL may have closed it, and
/// its slot may hold another client since).
fn master_client_ok(srv: &Server, slot: usize) -> bool {
    srv.conns.get(slot).is_some_and(|c| c.master && !c.closed)
}

/// Removes the master client (a new history replaces the stream's, or there is no primary).
fn forget_master_client(srv: &mut Server) {
    if let Some(slot) = srv.replica.master_slot.take() {
        if master_client_ok(srv, slot) {
            srv.close(slot);
        }
    }
}

/// Whether `slot` is the master client (the primary's stream, which is obeyed).
pub fn is_master_slot(srv: &Server, slot: usize) -> bool {
    srv.replica.master_slot == Some(slot)
}

/// Whether this server follows a primary.
pub fn is_replica(srv: &Server) -> bool {
    matches!(srv.repl.role, Role::Replica { .. })
}

/// The aux fields a snapshot of this server carries (`repl-stream-db`, `repl-id`,
/// `repl-offset`): only a replica with a primary's history to resume (Redis's
/// `rdbPopulateSaveInfo` for a replica).
/// Takes the server's parts, not the server: the caller holds other parts mutably.
pub fn save_info<'a>(
    repl: &'a crate::repl::ReplState,
    r: &Replica,
    conns: &slab::Slab<crate::net::conn::Conn>,
) -> Option<SavedReplInfo<'a>> {
    if !matches!(repl.role, Role::Replica { .. }) {
        return None;
    }
    if r.state != LinkState::Connected && !r.psync_cached {
        return None;
    }
    let stream_db = r
        .master_slot
        .and_then(|s| conns.get(s))
        .filter(|c| c.master)
        .map_or(r.stream_db, |c| c.db);
    Some(SavedReplInfo {
        replid: &repl.replid,
        offset: repl.master_repl_offset,
        stream_db,
    })
}

/// At start-up, before connecting: the replication id and offset a replica's RDB saved, so
/// that it resumes with a partial resync (Redis's `replicationCacheMasterUsingMyself` on
/// load). Only for a replica (`replicaof` configured), as Redis.
pub fn seed_from_rdb(srv: &mut Server, aux: &[(Vec<u8>, Vec<u8>)]) {
    if !is_replica(srv) {
        return;
    }
    let get = |k: &[u8]| {
        aux.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    let (Some(id), Some(off)) = (get(b"repl-id"), get(b"repl-offset")) else {
        return;
    };
    let Ok(offset) = off.parse::<u64>() else {
        return;
    };
    if id.len() != 40 {
        return;
    }
    srv.repl.replid = id;
    srv.repl.master_repl_offset = offset;
    srv.repl.clear_replid2();
    srv.repl.free_backlog();
    crate::repl::primary::keep_backlog(srv);
    srv.replica.stream_db = get(b"repl-stream-db")
        .and_then(|d| d.parse::<usize>().ok())
        .filter(|&d| d < srv.dbs.len())
        .unwrap_or(0);
    srv.replica.psync_cached = true;
    log::info!(
        "Restored the replication ID and offset from the RDB ({}:{}): a partial resync will be tried.",
        srv.repl.replid,
        offset
    );
}

/// At start-up, with `replicaof` configured: this server is a replica from the first turn,
/// resuming from what its RDB said (`aux`), and connects at the first tick.
pub fn start_from_config(srv: &mut Server, aux: &[(Vec<u8>, Vec<u8>)]) {
    let Some((host, port)) = srv.config.replica.replicaof.clone() else {
        return;
    };
    srv.repl.role = Role::Replica { host, port };
    crate::cmd::pause::apply_expiry_pause(srv);
    set_log_mark(b'S');
    let _ = srv.apply_oom_score_adj();
    seed_from_rdb(srv, aux);
    srv.replica.state = LinkState::Connect;
}

/// REPLICAOF host port: follow a new primary.
/// A primary turning replica keeps its own history as the cached one, so the new primary can
/// continue it (`replicationCacheMasterUsingMyself`).
pub fn set_master(srv: &mut Server, host: String, port: u16) {
    let was_replica = is_replica(srv);
    set_log_mark(b'S');
    unblock_clients(srv);
    if was_replica {
        drop_link(srv, None);
    } else {
        log::info!("Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.");
        srv.replica.stream_db = 0;
        // The backlog must exist from the current offset on, as for a cached master.
        crate::repl::primary::keep_backlog(srv);
    }
    srv.replica.psync_cached = true;
    // This server's own replicas reconnect, to learn of the new history (Redis's
    // `disconnectSlaves` in `replicationSetMaster`); they may continue partially. A failover
    // keeps them, as Redis 7.0 does: the new primary's +CONTINUE tells of the new id, and
    // they are disconnected then.
    if !crate::repl::failover::psync_asks_takeover(srv) {
        crate::repl::primary::disconnect_replicas(srv);
    }
    // CONFIG GET / REWRITE's `replicaof` is the primary followed now.
    srv.config.replica.replicaof = Some((host.clone(), port));
    srv.repl.role = Role::Replica { host, port };
    crate::cmd::pause::apply_expiry_pause(srv);
    let _ = srv.apply_oom_score_adj();
    let r = &mut srv.replica;
    r.state = LinkState::Connect;
    r.halted = None;
    r.down_since_ms = 0;
    log::info!("Connecting to MASTER {}", master_desc(srv));
    start_connect(srv);
}

/// Clients blocked in a command (BLPOP and the like, WAIT) get an error and are closed once
/// it is sent, as Redis's `disconnectAllBlockedClients` when a server starts following a
/// primary (a FAILOVER's hand-over included); clients a pause holds are not blocked in a
/// command: they run again when it ends.
fn unblock_clients(srv: &mut Server) {
    const MSG: &str = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";
    let slots: Vec<usize> = srv.blocking.slots().collect();
    for slot in slots {
        crate::cmd::blocking::unblock(srv, slot, crate::blocking::Unblock::Disconnect);
        if let Some(c) = srv.conns.get_mut(slot) {
            crate::resp::reply::Reply::new(&mut c.out, c.resp3).error(MSG);
            srv.stats.count_error(b"-UNBLOCKED ");
            srv.close_after_reply(slot);
        }
    }
    crate::repl::primary::fail_waiters(srv, MSG);
}

/// REPLICAOF NO ONE: stop following, keep the data, and start a new history whose past is
/// the old one (the old id as replid2, valid up to offset + 1), so other replicas of the
/// old primary can continue with this server.
pub fn unset_master(srv: &mut Server) {
    if !is_replica(srv) {
        return;
    }
    drop_link(srv, None);
    forget_master_client(srv);
    set_log_mark(b'M');
    let new_id = crate::server::random_hex(40);
    srv.repl.shift_replid(new_id);
    log::warn!(
        "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
        srv.repl.replid2,
        srv.repl.second_repl_offset,
        srv.repl.replid
    );
    srv.repl.role = Role::Primary;
    crate::cmd::pause::apply_expiry_pause(srv);
    let _ = srv.apply_oom_score_adj();
    // This server's own stream starts here: with a SELECT before its first command, from
    // the journal (which records while a backlog exists).
    crate::repl::primary::keep_backlog(srv);
    // Told of the id change by reconnecting; they continue with +CONTINUE.
    crate::repl::primary::disconnect_replicas(srv);
    srv.config.replica.replicaof = None;
    let r = &mut srv.replica;
    r.state = LinkState::None;
    r.psync_cached = false;
    r.halted = None;
}

fn set_log_mark(mark: u8) {
    crate::logging::ROLE_MARK.store(mark, std::sync::atomic::Ordering::Relaxed);
}

fn master_desc(srv: &Server) -> String {
    match &srv.repl.role {
        Role::Replica { host, port } => format!("{host}:{port}"),
        Role::Primary => String::new(),
    }
}

fn tok(srv: &Server, kind: u8) -> u64 {
    ring::token(kind, srv.replica.generation, 0)
}

/// Starts the outbound connection (resolving the host name as Redis does, synchronously;
/// an IP literal resolves without any lookup).
fn start_connect(srv: &mut Server) {
    let Role::Replica { host, port } = srv.repl.role.clone() else {
        return;
    };
    if srv.replica.state != LinkState::Connect || srv.ring.is_none() {
        return;
    }
    srv.replica.last_connect_ms = srv.now_ms;
    let addr = match (host.as_str(), port).try_into_addr() {
        Ok(a) => a,
        Err(e) => {
            log::warn!("Unable to connect to MASTER: {e}");
            return;
        }
    };
    let family = if addr.is_ipv4() {
        sock::AddressFamily::Inet
    } else {
        sock::AddressFamily::Inet6
    };
    let fd = match sock::socket(
        family,
        sock::SockType::Stream,
        sock::SockFlag::SOCK_CLOEXEC,
        None,
    ) {
        Ok(fd) => fd,
        Err(e) => {
            log::warn!("Unable to connect to MASTER: socket: {e}");
            return;
        }
    };
    let _ = sock::setsockopt(&fd, sock::sockopt::TcpNoDelay, &true);
    if let Some(source) = &srv.config.bind_source_addr {
        bind_source(&fd, source, addr.is_ipv4());
    }
    let raw = fd.as_raw_fd();
    let token = tok(srv, K_LINK_CONNECT);
    let ring = srv.ring.as_mut().expect("checked above");
    let handle = ring.connect(raw, token, SockaddrStorage::from(addr));
    let r = &mut srv.replica;
    r.fd = Some(fd);
    r.connect_handle = Some(handle);
    r.state = LinkState::Connecting;
    r.last_io_ms = srv.now_ms;
    log::info!("MASTER <-> REPLICA sync started");
}

/// `bind-source-addr`: binds the link's socket to the first address `source` resolves to in
/// the socket's family, as Redis's best-effort binding does: when none can be bound the
/// connection goes out from any address (logged here; Redis says nothing).
fn bind_source(fd: &OwnedFd, source: &str, ipv4: bool) {
    use std::net::ToSocketAddrs;
    let candidates: Vec<std::net::SocketAddr> = match (source, 0).to_socket_addrs() {
        Ok(found) => found.filter(|a| a.is_ipv4() == ipv4).collect(),
        Err(e) => {
            log::warn!("bind-source-addr {source}: {e}; connecting to the MASTER from any address");
            return;
        }
    };
    let mut last_error = String::from("no address of the connection's family");
    for a in candidates {
        match sock::bind(fd.as_raw_fd(), &SockaddrStorage::from(a)) {
            Ok(()) => return,
            Err(e) => last_error = format!("bind {a}: {e}"),
        }
    }
    log::warn!(
        "bind-source-addr {source}: {last_error}; connecting to the MASTER from any address"
    );
}

trait ToAddr {
    fn try_into_addr(self) -> Result<std::net::SocketAddr, String>;
}

impl ToAddr for (&str, u16) {
    fn try_into_addr(self) -> Result<std::net::SocketAddr, String> {
        use std::net::ToSocketAddrs;
        if let Ok(ip) = self.0.parse::<std::net::IpAddr>() {
            return Ok(std::net::SocketAddr::new(ip, self.1));
        }
        self.to_socket_addrs()
            .map_err(|e| format!("{}: {e}", self.0))?
            .next()
            .ok_or_else(|| format!("{}: no address", self.0))
    }
}

/// Drops the connection (if any); the link goes back to Connect unless `halt` stops it.
/// A link that was streaming keeps its history for a partial resync, and the master
/// client's unfinished transaction is discarded (its bytes were not fed).
fn drop_link(srv: &mut Server, halt: Option<String>) {
    let was = srv.replica.state;
    if let Some(why) = &halt {
        log::warn!("{why}");
    }
    if let Some(fd) = srv.replica.fd.take() {
        // Ends a receive in flight (it completes with 0); the descriptor closes when the
        // ring has let go of it.
        let _ = sock::shutdown(fd.as_raw_fd(), sock::Shutdown::Both);
        if let (Some(h), Some(ring)) = (srv.replica.connect_handle.take(), srv.ring.as_mut()) {
            ring.cancel(h, ring::token(K_LINK_CANCEL, 0, 0));
        }
    }
    let r = &mut srv.replica;
    r.generation = (r.generation + 1) & 0xff_ffff;
    r.connect_handle = None;
    r.recv_inflight = false;
    r.send_inflight = false;
    r.send_offset = 0;
    r.out.clear();
    r.inbuf = Vec::new();
    r.parser = Parser::new();
    r.awaiting.clear();
    r.transfer = None;
    if was == LinkState::Connected {
        r.psync_cached = true;
        r.down_since_ms = srv.now_ms;
        log::warn!("Connection with master lost.");
        log::info!("Caching the disconnected master state.");
    }
    if let Some(slot) = r.master_slot {
        if master_client_ok(srv, slot) && srv.conns[slot].multi_flags().is_some() {
            crate::cmd::multi::discard(srv, slot);
        }
    }
    let r = &mut srv.replica;
    if halt.is_some() {
        r.halted = halt;
    }
    if was != LinkState::None {
        r.state = LinkState::Connect;
    }
}

/// The loop's completions for the link.
pub fn on_completion(srv: &mut Server, c: Completion) {
    if ring::token_generation(c.token) != srv.replica.generation {
        return;
    }
    match ring::token_kind(c.token) {
        K_LINK_CONNECT => connected(srv, c.result),
        K_LINK_RECV => received(srv, c),
        K_LINK_SEND => sent(srv, c),
        _ => {}
    }
}

fn connected(srv: &mut Server, result: i32) {
    srv.replica.connect_handle = None;
    if result < 0 {
        let e = nix::errno::Errno::from_raw(-result);
        drop_link(srv, None);
        log::warn!("Error condition on socket for SYNC: {}", e.desc());
        return;
    }
    log::info!("Non blocking connect for SYNC fired the event.");
    let r = &mut srv.replica;
    r.state = LinkState::Handshake;
    r.last_io_ms = srv.now_ms;
    r.awaiting.push_back(Awaited::Pong);
    queue_command(srv, &[b"PING"]);
    arm_recv(srv);
}

/// Sends the requests after PING's reply, in one batch as Redis 7.0 does: AUTH, REPLCONF
/// listening-port, REPLCONF ip-address, REPLCONF capa.
fn send_handshake(srv: &mut Server) {
    let s = &srv.config.replica;
    if let Some(pass) = s.masterauth.clone() {
        match s.masteruser.clone() {
            Some(user) => queue_command(srv, &[b"AUTH", &user, &pass]),
            None => queue_command(srv, &[b"AUTH", &pass]),
        }
        srv.replica.awaiting.push_back(Awaited::Auth);
    }
    let s = &srv.config.replica;
    let port = if s.announce_port != 0 {
        s.announce_port
    } else {
        srv.config.port
    };
    let ip = s.announce_ip.clone();
    queue_command(
        srv,
        &[b"REPLCONF", b"listening-port", port.to_string().as_bytes()],
    );
    srv.replica.awaiting.push_back(Awaited::Port);
    if let Some(ip) = ip {
        queue_command(srv, &[b"REPLCONF", b"ip-address", ip.as_bytes()]);
        srv.replica.awaiting.push_back(Awaited::Ip);
    }
    queue_command(srv, &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]);
    srv.replica.awaiting.push_back(Awaited::Capa);
}

fn send_psync(srv: &mut Server) {
    if srv.replica.psync_cached {
        let id = srv.repl.replid.clone();
        let off = (srv.repl.master_repl_offset + 1).to_string();
        log::info!("Trying a partial resynchronization (request {id}:{off}).");
        if crate::repl::failover::psync_asks_takeover(srv) {
            // A failover in progress: the target takes over when the id is its own.
            queue_command(srv, &[b"PSYNC", id.as_bytes(), off.as_bytes(), b"FAILOVER"]);
        } else {
            queue_command(srv, &[b"PSYNC", id.as_bytes(), off.as_bytes()]);
        }
    } else {
        log::info!("Partial resynchronization not possible (no cached master)");
        if crate::repl::failover::psync_asks_takeover(srv) {
            queue_command(srv, &[b"PSYNC", b"?", b"-1", b"FAILOVER"]);
        } else {
            queue_command(srv, &[b"PSYNC", b"?", b"-1"]);
        }
    }
    srv.replica.awaiting.push_back(Awaited::Psync);
}

/// Appends a RESP command to the link's output and sends it.
fn queue_command(srv: &mut Server, args: &[&[u8]]) {
    let out = &mut srv.replica.out;
    let _ = write!(Bytes(out), "*{}\r\n", args.len());
    for a in args {
        let _ = write!(Bytes(out), "${}\r\n", a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    flush_out(srv);
}

/// `write!` into a byte vector.
struct Bytes<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn flush_out(srv: &mut Server) {
    let r = &mut srv.replica;
    if r.send_inflight || r.out.is_empty() {
        return;
    }
    let Some(fd) = r.fd.as_ref().map(|f| f.as_raw_fd()) else {
        r.out.clear();
        return;
    };
    let Some(ring) = srv.ring.as_mut() else {
        return;
    };
    let mut buf = std::mem::take(&mut r.spare);
    std::mem::swap(&mut buf, &mut r.out);
    r.send_inflight = true;
    r.send_offset = 0;
    ring.send(fd, ring::token(K_LINK_SEND, r.generation, 0), buf, 0);
}

fn sent(srv: &mut Server, c: Completion) {
    let r = &mut srv.replica;
    r.send_inflight = false;
    let Some(mut buf) = c.buf else { return };
    if c.result < 0 {
        let e = nix::errno::Errno::from_raw(-c.result);
        drop_link(srv, None);
        log::warn!("Error writing to the MASTER: {}", e.desc());
        return;
    }
    let offset = r.send_offset + c.result as usize;
    if offset < buf.len() {
        if let (Some(fd), Some(ring)) = (r.fd.as_ref().map(|f| f.as_raw_fd()), srv.ring.as_mut()) {
            r.send_inflight = true;
            r.send_offset = offset;
            ring.send(fd, c.token, buf, offset);
        }
        return;
    }
    buf.clear();
    r.spare = buf;
    flush_out(srv);
}

fn arm_recv(srv: &mut Server) {
    let r = &mut srv.replica;
    if r.recv_inflight {
        return;
    }
    let Some(fd) = r.fd.as_ref().map(|f| f.as_raw_fd()) else {
        return;
    };
    let Some(ring) = srv.ring.as_mut() else {
        return;
    };
    let mut buf = std::mem::take(&mut r.inbuf);
    let want = if r.state == LinkState::Transfer {
        RECV_BULK_BYTES
    } else {
        RECV_CHUNK_BYTES
    };
    if buf.capacity() - buf.len() < want / 2 {
        buf.reserve(want);
    }
    r.recv_inflight = true;
    ring.recv(fd, ring::token(K_LINK_RECV, r.generation, 0), buf);
}

fn received(srv: &mut Server, c: Completion) {
    srv.replica.recv_inflight = false;
    let Some(buf) = c.buf else { return };
    if c.result <= 0 {
        let why = if c.result == 0 {
            "connection closed".to_string()
        } else {
            nix::errno::Errno::from_raw(-c.result).desc().to_string()
        };
        let state = srv.replica.state;
        drop_link(srv, None);
        if state != LinkState::Connected {
            log::warn!(
                "Error reading from MASTER during {}: {why}",
                state.role_name()
            );
        }
        return;
    }
    srv.stats.net_input_bytes += c.result as u64;
    srv.replica.inbuf = buf;
    srv.replica.last_io_ms = srv.now_ms;
    let generation = srv.replica.generation;
    process(srv);
    if srv.replica.generation == generation && srv.replica.fd.is_some() {
        arm_recv(srv);
    }
}

/// Takes one line (without its `\r\n` or `\n`) from the front of the input.
fn take_line(inbuf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let nl = inbuf.iter().position(|&b| b == b'\n')?;
    let mut line: Vec<u8> = inbuf.drain(..=nl).collect();
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Some(line)
}

/// Handles what arrived, in whatever state the link is.
fn process(srv: &mut Server) {
    let generation = srv.replica.generation;
    // Each turn either consumes input or returns; states only move forward within a call.
    for _ in 0..8 {
        if srv.replica.generation != generation {
            return;
        }
        match srv.replica.state {
            LinkState::Handshake => {
                if !handshake_replies(srv) {
                    return;
                }
            }
            LinkState::Transfer => {
                if !transfer(srv) {
                    return;
                }
            }
            LinkState::Connected => {
                apply_stream(srv);
                return;
            }
            _ => return,
        }
    }
}

/// Reads handshake replies; true when the link moved on to another state.
fn handshake_replies(srv: &mut Server) -> bool {
    // Bounded by the input: every turn consumes a line.
    while let Some(&what) = srv.replica.awaiting.front() {
        let Some(line) = take_line(&mut srv.replica.inbuf) else {
            return false;
        };
        if line.is_empty() && what == Awaited::Psync {
            // A primary busy preparing the snapshot sends newlines to keep the link alive
            // before it answers PSYNC.
            continue;
        }
        srv.replica.awaiting.pop_front();
        let text = String::from_utf8_lossy(&line).into_owned();
        let err = line.first() == Some(&b'-');
        match what {
            Awaited::Pong => {
                // As Redis: -NOAUTH / -NOPERM / -ERR operation not permitted mean the primary
                // is there and wants AUTH, which follows.
                if err
                    && !text.starts_with("-NOAUTH")
                    && !text.starts_with("-NOPERM")
                    && !text.starts_with("-ERR operation not permitted")
                {
                    drop_link(srv, None);
                    log::warn!("Error reply to PING from master: '{text}'");
                    return true;
                }
                log::info!("Master replied to PING, replication can continue...");
                send_handshake(srv);
            }
            Awaited::Auth => {
                if err {
                    drop_link(srv, None);
                    log::warn!("Unable to AUTH to MASTER: {text}");
                    return true;
                }
            }
            Awaited::Port | Awaited::Ip | Awaited::Capa => {
                if err {
                    log::info!("(Non critical) Master does not understand REPLCONF: {text}");
                }
                if what == Awaited::Capa {
                    send_psync(srv);
                }
            }
            Awaited::Psync => return psync_reply(srv, &text),
        }
    }
    false
}

fn psync_reply(srv: &mut Server, text: &str) -> bool {
    // A failover in progress ends with the target's answer (Redis accepts a full resync too).
    let accepted = text.starts_with("+FULLRESYNC") || text.starts_with("+CONTINUE");
    if !crate::repl::failover::psync_answered(srv, accepted) {
        return true;
    }
    if let Some(rest) = text.strip_prefix("+FULLRESYNC") {
        let mut it = rest.split_ascii_whitespace();
        let (Some(id), Some(off)) = (it.next(), it.next().and_then(|o| o.parse::<u64>().ok()))
        else {
            drop_link(srv, None);
            log::warn!("Master replied with wrong +FULLRESYNC syntax.");
            return true;
        };
        log::info!("Full resync from master: {id}:{off}");
        // A new history: this server's own replicas must sync again from it.
        crate::repl::primary::disconnect_replicas(srv);
        srv.replica.transfer = Some(Transfer {
            replid: id.to_string(),
            offset: off,
            header: None,
            body: Vec::new(),
            last_io_ms: srv.now_ms,
        });
        srv.replica.state = LinkState::Transfer;
        return true;
    }
    if let Some(rest) = text.strip_prefix("+CONTINUE") {
        log::info!("Successful partial resynchronization with master.");
        let new_id = rest.trim();
        if new_id.len() == 40 && new_id != srv.repl.replid {
            // The primary's history changed (a failover): ours is its past.
            let old = std::mem::replace(&mut srv.repl.replid, new_id.to_string());
            srv.repl.replid2 = old;
            srv.repl.second_repl_offset = srv.repl.master_repl_offset as i64 + 1;
            log::info!("Master replication ID changed to {new_id}");
            // This server's replicas must learn of it: they reconnect and continue.
            crate::repl::primary::disconnect_replicas(srv);
        }
        crate::repl::primary::keep_backlog(srv);
        link_up(srv);
        log::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        return true;
    }
    if text.starts_with("-NOMASTERLINK") || text.starts_with("-LOADING") {
        drop_link(srv, None);
        log::info!("Master is currently unable to PSYNC but should be in the future: {text}");
        return true;
    }
    drop_link(srv, None);
    log::warn!("Unexpected reply to PSYNC from master: {text}");
    true
}

/// The link is streaming: the master client exists with the stream's database.
fn link_up(srv: &mut Server) {
    let laddr = srv
        .replica
        .fd
        .as_ref()
        .and_then(|fd| sock::getsockname::<SockaddrStorage>(fd.as_raw_fd()).ok())
        .map_or_else(|| "?:0".to_string(), |a| a.to_string());
    match srv.replica.master_slot {
        Some(s) if master_client_ok(srv, s) => srv.conns[s].laddr = laddr,
        _ => {
            let s = srv.add_loading_client();
            let id = srv.next_client_id;
            srv.next_client_id += 1;
            // Counted as a client (CLIENT LIST, connected_clients), as Redis's master client.
            srv.clients_open += 1;
            let desc = master_desc(srv);
            let c = &mut srv.conns[s];
            c.id = id;
            c.addr = desc;
            c.laddr = laddr;
            c.master = true;
            c.db = srv.replica.stream_db;
            // No socket: the loop must never arm a receive or a send for it (a flush of a
            // touched connection would, e.g. when the AOF releases its held replies).
            c.inbuf = None;
            c.sending = None;
            srv.replica.master_slot = Some(s);
        }
    }
    let r = &mut srv.replica;
    r.state = LinkState::Connected;
    r.psync_cached = true;
    r.last_io_ms = srv.now_ms;
    r.last_ack_ms = srv.now_ms;
    r.down_since_ms = 0;
    r.parser = Parser::new();
}

/// Receives the full sync's RDB; true when it is loaded (or the link failed).
fn transfer(srv: &mut Server) -> bool {
    let Some(mut t) = srv.replica.transfer.take() else {
        return false;
    };
    t.last_io_ms = srv.now_ms;
    match transfer_step(&mut t, &mut srv.replica.inbuf) {
        Ok(false) => {
            srv.replica.transfer = Some(t);
            false
        }
        Ok(true) => {
            let eof = matches!(t.header, Some(BulkForm::Eof(_)));
            if eof {
                t.body.truncate(t.body.len() - EOF_MARK_LEN);
            }
            load_full_sync(srv, t, eof);
            true
        }
        Err(why) => {
            drop_link(srv, None);
            log::warn!("{why}");
            true
        }
    }
}

/// Moves received bytes into the transfer: Ok(true) once the whole RDB is there.
fn transfer_step(t: &mut Transfer, inbuf: &mut Vec<u8>) -> Result<bool, String> {
    // Bounded by the input: every turn consumes a line.
    while t.header.is_none() {
        let Some(line) = take_line(inbuf) else {
            return Ok(false);
        };
        if line.is_empty() {
            // The primary's keepalive newline while it prepares the snapshot.
            continue;
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        if line.first() == Some(&b'-') {
            return Err(format!("MASTER aborted replication with an error: {text}"));
        }
        if line.first() != Some(&b'$') {
            return Err(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{text}'), are you sure the host and port are right?"));
        }
        if let Some(mark) = line.strip_prefix(b"$EOF:") {
            if mark.len() != EOF_MARK_LEN {
                return Err("Bad $EOF: mark from MASTER".into());
            }
            log::info!(
                "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to memory"
            );
            t.header = Some(BulkForm::Eof(mark.to_vec()));
        } else {
            let n = text[1..]
                .parse::<usize>()
                .map_err(|_| format!("Bad bulk length from MASTER: '{text}'"))?;
            log::info!("MASTER <-> REPLICA sync: receiving {n} bytes from master to memory");
            t.header = Some(BulkForm::Len(n));
            t.body.reserve(n);
        }
    }
    Ok(match t.header.as_ref() {
        Some(BulkForm::Len(n)) => {
            let need = n - t.body.len();
            let take = need.min(inbuf.len());
            t.body.extend(inbuf.drain(..take));
            t.body.len() == *n
        }
        Some(BulkForm::Eof(mark)) => {
            t.body.append(inbuf);
            t.body.len() >= EOF_MARK_LEN && t.body.ends_with(mark)
        }
        None => false,
    })
}

/// Replaces the data with the primary's snapshot, as Redis does after a transfer: the old
/// data goes first, then the RDB is loaded; on success this server's history is the
/// primary's from the snapshot's offset on.
fn load_full_sync(srv: &mut Server, t: Transfer, eof: bool) {
    log::info!("Discarding previously cached master state.");
    srv.bgsave_abort();
    log::info!("MASTER <-> REPLICA sync: Flushing old data");
    empty_data(srv);
    log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    srv.loading = true;
    let res = srv.rdb_load_bytes(&t.body, false);
    srv.loading = false;
    drop(t.body);
    if let Err(e) = res {
        // Half a snapshot would be a silent divergence: nothing stays.
        empty_data(srv);
        srv.replica.psync_cached = false;
        drop_link(
            srv,
            Some(format!(
                "Failed trying to load the MASTER synchronization DB from memory: {e}. \
                 The replication link is stopped (master_link_status:down) until the next \
                 REPLICAOF: the primary's data holds something ringkv cannot load."
            )),
        );
        return;
    }
    srv.repl.replid = t.replid;
    srv.repl.master_repl_offset = t.offset;
    srv.repl.clear_replid2();
    srv.repl.free_backlog();
    crate::repl::primary::keep_backlog(srv);
    forget_master_client(srv);
    srv.replica.stream_db = 0;
    link_up(srv);
    log::info!("MASTER <-> REPLICA sync: Finished with success");
    if srv.config.appendonly {
        // The AOF must describe the new data: a new base, as Redis's restartAOFAfterSYNC.
        let restarted = srv
            .aof_set_enabled(false)
            .and_then(|_| srv.aof_set_enabled(true));
        if let Err(e) = restarted {
            log::warn!("Failed enabling the AOF after successful master synchronization! {e}");
        }
    }
    if eof {
        // A diskless primary puts the replica online at its first ACK.
        send_ack(srv);
    }
}

/// Every database emptied (the WATCHers of their keys touched, tracking clients told).
fn empty_data(srv: &mut Server) {
    for i in 0..srv.dbs.len() {
        crate::cmd::multi::touch_all_in_db(srv, i, None);
        let old = srv.dbs[i].take_all();
        if srv.config.replica.lazy_flush && old.len() > crate::lazyfree::LAZYFREE_THRESHOLD {
            srv.lazyfree.free(old);
        } else {
            drop(old);
        }
    }
    if srv.tracking.on() {
        crate::cmd::tracking::flushed(srv);
    }
}

/// Applies the complete commands received, as the master client.
fn apply_stream(srv: &mut Server) {
    let Some(slot) = srv
        .replica
        .master_slot
        .filter(|&s| master_client_ok(srv, s))
    else {
        // CLIENT KILL TYPE master: the link goes down and comes back with a partial resync,
        // as in Redis.
        srv.replica.master_slot = None;
        drop_link(srv, None);
        return;
    };
    let mut buf = std::mem::take(&mut srv.replica.inbuf);
    let mut parser = std::mem::take(&mut srv.replica.parser);
    let mut out = std::mem::take(&mut srv.replica.scratch);
    let generation = srv.replica.generation;
    let limits = ParseLimits {
        bulk_len_max: usize::MAX,
        authenticated: true,
    };
    // Bytes from here on were applied but not fed (a transaction waiting for its EXEC).
    let mut unfed = 0usize;
    // The primary's commands see keys past their deadline as live, as Redis's master
    // client does: the primary ran them before the deadline, and its DEL comes next.
    set_keep_expired(srv, true);
    let mut failure: Option<String> = None;
    // Every command takes at least 4 bytes of input: bounded by the input received.
    for _ in 0..buf.len() {
        match parser.parse(&mut buf, &limits) {
            Status::Complete => {}
            Status::Incomplete => break,
            Status::Error(e) => {
                failure = Some(format!(
                    "Protocol error in the stream from the MASTER: {}",
                    e.message()
                ));
                break;
            }
        }
        let argv = parser.argv(&buf);
        let name = argv.get(0);
        if name.eq_ignore_ascii_case(b"replconf") {
            if argv.len() >= 2 && argv.get(1).eq_ignore_ascii_case(b"getack") {
                log::debug!("REPLCONF GETACK from the MASTER");
                send_ack(srv);
            }
        } else if srv.find_command(name).is_none() {
            failure = Some(format!(
                "The MASTER sent a command ringkv does not implement ('{}'): the replication \
                 link is stopped (master_link_status:down) so the data does not diverge; \
                 run REPLICAOF again once the primary no longer sends it.",
                String::from_utf8_lossy(name)
            ));
            break;
        } else {
            out.clear();
            call::call(srv, slot, &argv, &mut out, Source::Master);
            if out.first() == Some(&b'-') {
                // Logged and skipped, or a panic (`propagation-error-behavior`), as Redis.
                call::propagated_error(srv, slot, &out, Source::Master);
            }
            if srv.replica.generation != generation {
                // The command dropped the link (a REPLICAOF sent as a write cannot, but a
                // SHUTDOWN path might): nothing more to apply.
                set_keep_expired(srv, false);
                return;
            }
        }
        parser.next_command();
        let in_multi = srv
            .conns
            .get(slot)
            .is_some_and(|c| c.multi_flags().is_some());
        if !in_multi {
            let end = parser.consumed();
            // The primary's own bytes, once applied, go to this server's history and, as
            // they are, to its own replicas (a chain).
            if srv.repl.has_backlog() {
                crate::repl::primary::feed_replicas(srv, &buf[unfed..end]);
            } else {
                srv.repl.feed(&buf[unfed..end]);
            }
            unfed = end;
        }
    }
    set_keep_expired(srv, false);
    out.clear();
    srv.replica.scratch = out;
    // The stream's database, for a master client made anew after a CLIENT KILL.
    if let Some(c) = srv.conns.get(slot) {
        srv.replica.stream_db = c.db;
    }
    if let Some(why) = failure {
        drop_link(srv, Some(why));
        return;
    }
    buf.drain(..unfed);
    parser.rebase(unfed);
    srv.replica.inbuf = buf;
    srv.replica.parser = parser;
}

fn set_keep_expired(srv: &mut Server, on: bool) {
    for db in &mut srv.dbs {
        db.keep_expired = on;
    }
}

/// REPLCONF ACK <offset applied>.
fn send_ack(srv: &mut Server) {
    if srv.replica.fd.is_none() {
        return;
    }
    srv.replica.last_ack_ms = srv.now_ms;
    let off = srv.repl.master_repl_offset.to_string();
    log::debug!("REPLCONF ACK {off} to the MASTER");
    queue_command(srv, &[b"REPLCONF", b"ACK", off.as_bytes()]);
}

/// From housekeeping: connect when due, time the link out, ACK once a second.
pub fn cron(srv: &mut Server) {
    if !is_replica(srv) {
        return;
    }
    let now = srv.now_ms;
    let timeout_ms = srv.config.repl.timeout_s * 1000;
    let r = &srv.replica;
    match r.state {
        LinkState::Connect => {
            if r.halted.is_none() && now.saturating_sub(r.last_connect_ms) >= 1000 {
                log::info!("Connecting to MASTER {}", master_desc(srv));
                start_connect(srv);
            }
        }
        LinkState::Connecting | LinkState::Handshake => {
            if now.saturating_sub(r.last_io_ms) > timeout_ms {
                drop_link(srv, None);
                log::warn!("Timeout connecting to the MASTER...");
            }
        }
        LinkState::Transfer => {
            let last = r.transfer.as_ref().map_or(r.last_io_ms, |t| t.last_io_ms);
            if now.saturating_sub(last) > timeout_ms {
                drop_link(srv, None);
                log::warn!("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
            }
        }
        LinkState::Connected => {
            if !r.master_slot.is_some_and(|s| master_client_ok(srv, s)) {
                // CLIENT KILL TYPE master: reconnect, continuing where the stream stopped.
                srv.replica.master_slot = None;
                drop_link(srv, None);
            } else if now.saturating_sub(r.last_io_ms) > timeout_ms {
                drop_link(srv, None);
                log::warn!("MASTER timeout: no data nor PING received...");
            } else if now.saturating_sub(r.last_ack_ms) >= 1000 {
                send_ack(srv);
            }
        }
        LinkState::None => {}
    }
}

/// The check `cmd::call` makes of a normal client's command on a replica: the error text
/// when it must be refused (READONLY for writes on a read-only replica, MASTERDOWN while
/// the link is down and stale data must not be served).
pub fn refusal(srv: &Server, cmd_flags: u32) -> Option<&'static str> {
    use crate::cmd::flags;
    let s = &srv.config.replica;
    if s.read_only && cmd_flags & flags::WRITE != 0 {
        return Some("READONLY You can't write against a read only replica.");
    }
    if !s.serve_stale_data
        && srv.replica.state != LinkState::Connected
        && cmd_flags & flags::STALE == 0
    {
        return Some(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        );
    }
    None
}

/// ROLE on a replica: `slave`, host, port, state, offset applied (-1 before streaming).
pub fn role_reply(srv: &Server, r: &mut crate::resp::reply::Reply<'_>) {
    let Role::Replica { host, port } = &srv.repl.role else {
        return;
    };
    r.array(5);
    r.bulk(b"slave");
    r.bulk(host.as_bytes());
    r.int(i64::from(*port));
    r.bulk(srv.replica.state.role_name().as_bytes());
    let offset = if srv.replica.state == LinkState::Connected {
        srv.repl.master_repl_offset as i64
    } else {
        -1
    };
    r.int(offset);
}

/// INFO replication on a replica: the section head and the link's fields, up to
/// `replica_announced`, as Redis 7.0 prints them (`repl::primary::info_section` adds the
/// replicas of this server and the shared ids and backlog).
pub fn info_replication(srv: &Server, s: &mut String) {
    let Role::Replica { host, port } = &srv.repl.role else {
        return;
    };
    let r = &srv.replica;
    let now = srv.now_ms;
    let up = r.state == LinkState::Connected;
    let last_io = if up {
        (now.saturating_sub(r.last_io_ms) / 1000) as i64
    } else {
        -1
    };
    let applied = srv.repl.master_repl_offset;
    let read = if up {
        applied + (r.inbuf.len() as u64)
    } else {
        applied
    };
    let _ = write!(
        s,
        "# Replication\r\nrole:slave\r\nmaster_host:{host}\r\nmaster_port:{port}\r\n\
         master_link_status:{}\r\nmaster_last_io_seconds_ago:{last_io}\r\n\
         master_sync_in_progress:{}\r\nslave_read_repl_offset:{read}\r\nslave_repl_offset:{applied}\r\n",
        if up { "up" } else { "down" },
        u8::from(r.state == LinkState::Transfer),
    );
    if let Some(t) = r
        .transfer
        .as_ref()
        .filter(|_| r.state == LinkState::Transfer)
    {
        // Unknown (0) for the `$EOF:` form, as Redis prints it.
        let size: i64 = match t.header {
            Some(BulkForm::Len(n)) => n as i64,
            _ => 0,
        };
        let got = t.body.len() as i64;
        let perc = if size != 0 {
            got as f64 / size as f64 * 100.0
        } else {
            0.0
        };
        let _ = write!(
            s,
            "master_sync_total_bytes:{size}\r\nmaster_sync_read_bytes:{got}\r\n\
             master_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\n\
             master_sync_last_io_seconds_ago:{}\r\n",
            size - got,
            now.saturating_sub(t.last_io_ms) / 1000
        );
    }
    if !up {
        let since = if r.down_since_ms != 0 {
            (now.saturating_sub(r.down_since_ms) / 1000) as i64
        } else {
            -1
        };
        let _ = write!(s, "master_link_down_since_seconds:{since}\r\n");
    }
    let c = &srv.config.replica;
    let _ = write!(
        s,
        "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
        c.priority,
        u8::from(c.read_only),
        u8::from(c.announced),
    );
}
