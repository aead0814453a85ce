//! The event loop: ring completions → accepts, receives, sends, timers and signals.
//!
//! One thread, one ring, one keyspace. A loop turn is: submit everything queued and wait for
//! at least one completion → reap all completions (accepts, receives, sends, the tick, the
//! signal fd) → run the commands of every connection that received input
//! (`Server::process_input`) → housekeeping if the tick fired (`Server::housekeeping`) →
//! queue one send per connection that produced output and one receive per connection that is
//! ready for more. Work is batched per turn: a connection's replies of one turn leave in one
//! send. While a connection stopped at its time slice with commands left (the next turn then
//! follows at once), subscribers' small outputs wait for that turn, so that a pipeline of
//! PUBLISHes processed over several slices reaches each subscriber in one send rather than
//! one per slice. No command logic lives here: the loop moves bytes between sockets and the
//! `Server`.
//!
//! Receiving: each connection normally has one multishot receive armed into the ring's
//! provided buffers; each completion's bytes are copied into the connection's input buffer
//! and the provided buffer goes back at once. `flush_conns` cancels the receive while the
//! connection must not take more input (replies backed up, or unrun input over
//! `INPUT_HOLD_BYTES`) and arms it again after. A large argument on its way is received
//! with single receives straight into the input buffer (as every receive is with
//! `RINGKV_RECV=single`, or on a kernel without multishot receives).
//!
//! Invariants: a connection's input buffer is either in the `Conn` or in the ring (a single
//! receive in flight), never both; a multishot receive never takes it; a connection has at
//! most one receive of either kind in flight; a slot is freed only after its socket is shut
//! down, and a late completion for an old generation of a slot returns its buffer (or its
//! provided buffer) and is otherwise ignored.

use crate::config::Config;
use crate::io::ring::{self, Completion, Ring};
use crate::net::conn::{prepare_recv_buf, Kind, OUT_PAUSE_BYTES};
use crate::server::{unix_ms, InputLeft, Listener, Server};
use nix::sys::socket::{self as sock, SockaddrLike, SockaddrStorage};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

const K_ACCEPT: u8 = 1;
const K_RECV: u8 = 2;
const K_SEND: u8 = 3;
const K_TICK: u8 = 4;
const K_SIGNAL: u8 = 5;
/// The one ring timeout armed for the earliest blocked-client deadline.
const K_BLOCK_TIMER: u8 = 6;
/// Completion of the removal of a superseded K_BLOCK_TIMER.
const K_BLOCK_TIMER_REMOVE: u8 = 7;
/// Provided buffers of the clients' multishot receives, and their size: a receive larger
/// than one buffer arrives as several completions. 512 × 4 KiB: a turn's arrivals from
/// hundreds of clients fit, and the 2 MiB are touched only as far as they are used. When
/// they run out, the receives that found none end with `-ENOBUFS` and are armed again.
const PROVIDED_BUFFERS: u16 = 512;
const PROVIDED_BUFFER_BYTES: usize = 4096;
/// Unprocessed input at which a connection that still has commands to run (`ready`) stops
/// receiving until it has run them: the same bound on input as a receive issued only
/// once the last one was processed.
const INPUT_HOLD_BYTES: usize = crate::net::conn::RECV_CHUNK;

/// Completion of the cancellation of a receive (see `Server::recv_to_cancel`).
const K_RECV_CANCEL: u8 = 8;
/// Longest blocked-client timer armed at once; a later deadline is re-armed when it fires.
const BLOCK_TIMER_MAX: Duration = Duration::from_secs(3600);
/// How long shutdown waits for pending replies to leave.
const SHUTDOWN_FLUSH_MAX: Duration = Duration::from_secs(2);
/// A subscriber's output smaller than this waits while a turn follows at once (`flush`).
const SUBSCRIBER_SEND_MIN_BYTES: usize = 32 * 1024;
/// Longest a subscriber's output waits that way: the latency a saturating publisher can add.
const SUBSCRIBER_HOLD_NS: u64 = 4_000_000;

/// The loop: owns the ring and the server state.
pub struct EventLoop {
    /// A connection stopped at its slice with commands left: the next turn must not wait.
    resume_now: bool,
    /// Subscribers whose output waits for the next turn (`flush`), reused.
    held: Vec<usize>,
    /// When the current run of turns holding subscribers' output began.
    hold_since_ns: Option<u64>,
    pub srv: Server,
    completions: Vec<Completion>,
    signal_fd: Option<nix::sys::signalfd::SignalFd>,
    shutdown_started: Option<Instant>,
    /// The armed blocked-client timer, if any: its deadline, ring handle and sequence number.
    block_timer: Option<BlockTimer>,
    block_timer_seq: u32,
}

#[derive(Clone, Copy)]
struct BlockTimer {
    deadline_ms: u64,
    handle: u64,
    seq: u32,
}

impl EventLoop {
    /// `set-proc-title`: the process title, once the listeners are up (a failure is
    /// logged; the server goes on, as Redis's).
    pub fn set_proc_title(&self) {
        let c = &self.srv.config;
        if let Err(e) = crate::proctitle::apply(c, &c.exec_argv0) {
            log::warn!("Failed to set the process title: {e}");
        }
    }

    /// The service manager to tell that the server is ready (`supervised`).
    pub fn supervised_by(&self) -> Option<crate::config::Supervised> {
        self.srv.config.supervised_by
    }

    /// The pid file `main` writes once the listeners are up (empty: none).
    pub fn pidfile(&self) -> &str {
        &self.srv.config.pidfile
    }

    pub fn new(config: Config) -> Result<EventLoop, String> {
        // Blocked before any thread starts (threads inherit the mask), so that only the
        // signal fd sees them.
        // SIGINT/SIGTERM arrive through a signal fd read on the ring; SIGPIPE is ignored
        // because sends use MSG_NOSIGNAL anyway and a stray one must not kill the server.
        use nix::sys::signal::{SigSet, Signal};
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGINT);
        mask.add(Signal::SIGTERM);
        let signal_fd = match mask.thread_block() {
            Ok(()) => nix::sys::signalfd::SignalFd::with_flags(
                &mask,
                nix::sys::signalfd::SfdFlags::SFD_CLOEXEC,
            )
            .ok(),
            Err(_) => None,
        };
        let mut ring = Ring::new(4096).map_err(|e| e.to_string())?;
        // `RINGKV_RECV=single` keeps the one-receive-at-a-time path for every client; it
        // exists so that the two can be measured against each other (docs/PERFORMANCE.md).
        // `RINGKV_RECV_BUFFERS=N` (a power of two) is a test knob: a few buffers make them
        // run out, and the receives that found none be armed again, all the time.
        let buffers = std::env::var("RINGKV_RECV_BUFFERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(PROVIDED_BUFFERS);
        let multishot = std::env::var("RINGKV_RECV").map_or(true, |v| v != "single")
            && ring
                .enable_provided_buffers(buffers, PROVIDED_BUFFER_BYTES)
                .map_err(|e| {
                    log::warn!("provided buffers unavailable, receiving one at a time: {e}")
                })
                .is_ok();
        let mut srv = Server::new(config);
        srv.recv_multishot = multishot;
        // MEMORY STATS's startup.allocated: the server set up, nothing loaded yet (Redis's
        // initial_memory_usage).
        crate::alloc::mark_startup(srv.used_memory() as usize);
        // As Redis: the AOF when it is on, else the RDB snapshot.
        if srv.config.appendonly {
            srv.aof_start()?;
        } else {
            srv.rdb_load_startup()?;
        }
        let c = &srv.config;
        let mut listeners = Vec::new();
        if c.port != 0 {
            for addr in &c.bind {
                match bind_tcp(addr, c.port, c.tcp_backlog, c.socket_mark_id) {
                    Ok(fd) => listeners.push(Listener {
                        fd,
                        desc: format!("{addr}:{}", c.port),
                    }),
                    Err(e) if c.bind_is_default && addr.contains(':') => {
                        log::warn!("skipping optional bind address {addr}: {e}");
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if let Some(p) = &c.unixsocket {
            let fd = bind_unix(p, c.unixsocketperm, c.tcp_backlog)?;
            listeners.push(Listener {
                fd,
                desc: p.display().to_string(),
            });
        }
        if listeners.is_empty() {
            return Err("no listening sockets: set --port and --bind, or --unixsocket".into());
        }
        for l in &listeners {
            log::info!("Ready to accept connections on {}", l.desc);
        }
        srv.listeners = listeners;
        if let Err(e) = ring::ignore_sigpipe() {
            log::warn!("cannot ignore SIGPIPE: {e}");
        }
        srv.ring = Some(ring);
        let repl_aux = std::mem::take(&mut srv.rdb.loaded_repl_aux);
        crate::repl::replica::start_from_config(&mut srv, &repl_aux);
        Ok(EventLoop {
            resume_now: false,
            held: Vec::new(),
            hold_since_ns: None,
            srv,
            completions: Vec::with_capacity(1024),
            signal_fd,
            shutdown_started: None,
            block_timer: None,
            block_timer_seq: 0,
        })
    }

    /// The ring, which the server holds (so that a busy script can serve clients).
    fn ring(&mut self) -> &mut Ring {
        ring_of(&mut self.srv)
    }

    fn arm_tick(&mut self) {
        let every = Duration::from_millis(1000 / self.srv.hz.max(1) as u64);
        self.ring().timeout(ring::token(K_TICK, 0, 0), every);
    }

    /// Keeps one ring timeout armed for the earliest blocked-client deadline (WAIT's too): armed when
    /// there is none, replaced (the old one removed) when an earlier deadline appears. A
    /// timer that fires with nothing due, or a removed one, is simply forgotten.
    fn sync_block_timer(&mut self) {
        let wait_deadline = crate::repl::primary::next_wait_deadline(&self.srv);
        let Some(next) = [self.srv.blocking.next_deadline(), wait_deadline]
            .into_iter()
            .flatten()
            .min()
        else {
            return;
        };
        if let Some(t) = self.block_timer {
            if t.deadline_ms <= next {
                return;
            }
            self.ring()
                .timeout_remove(t.handle, ring::token(K_BLOCK_TIMER_REMOVE, 0, 0));
        }
        self.block_timer_seq = (self.block_timer_seq + 1) & 0xff_ffff;
        let seq = self.block_timer_seq;
        // Due deadlines were expired this turn, so next > now_ms and this is at least 1 ms.
        let after =
            Duration::from_millis(next.saturating_sub(self.srv.now_ms).max(1)).min(BLOCK_TIMER_MAX);
        let handle = self
            .ring()
            .timeout(ring::token(K_BLOCK_TIMER, seq, 0), after);
        self.block_timer = Some(BlockTimer {
            deadline_ms: next,
            handle,
            seq,
        });
    }

    fn arm_signal(&mut self) {
        if let Some(fd) = self.signal_fd.as_ref().map(|f| f.as_raw_fd()) {
            self.ring()
                .read(fd, ring::token(K_SIGNAL, 0, 0), Vec::with_capacity(128));
        }
    }

    pub fn run(&mut self) -> Result<(), String> {
        crate::lazyfree::enter_loop_thread();
        let srv = &mut self.srv;
        for (i, l) in srv.listeners.iter().enumerate() {
            ring_of_parts(&mut srv.ring)
                .accept_multi(l.fd.as_raw_fd(), ring::token(K_ACCEPT, 0, i as u32));
        }
        self.arm_tick();
        self.arm_signal();
        loop {
            // Connections stopped at their slice with commands left go on at once.
            let mut want = usize::from(!self.resume_now);
            let spin_us = self.srv.config.busy_poll_us;
            if want == 1
                && spin_us > 0
                && self
                    .ring()
                    .spin_for_completion(Duration::from_micros(u64::from(spin_us)))
                    .map_err(|e| format!("io_uring_enter: {e}"))?
            {
                // Work arrived while polling: this turn must not sleep.
                want = 0;
                self.srv.stats.busy_poll_hits += 1;
            }
            self.ring()
                .submit_and_wait(want)
                .map_err(|e| format!("io_uring_enter: {e}"))?;
            self.srv.now_ms = unix_ms();
            self.srv.cmd_clock_ns = crate::util::mono_ns();
            let mut done = std::mem::take(&mut self.completions);
            // What a busy script's turns left for the loop comes first.
            if !self.srv.deferred_completions.is_empty() {
                done.append(&mut self.srv.deferred_completions);
            }
            self.ring().reap(&mut done);
            let mut tick = false;
            for c in done.drain(..) {
                match ring::token_kind(c.token) {
                    K_ACCEPT => on_accept(&mut self.srv, c),
                    K_RECV => on_recv(&mut self.srv, c),
                    K_SEND => on_send(&mut self.srv, c),
                    K_TICK => tick = true,
                    K_BLOCK_TIMER
                        if self
                            .block_timer
                            .is_some_and(|t| t.seq == ring::token_generation(c.token)) =>
                    {
                        self.block_timer = None;
                    }
                    crate::persist::aof::K_AOF_FSYNC
                    | crate::persist::aof::K_AOF_STEP
                    | crate::persist::aof::K_AOF_BASE_FSYNC => self.srv.aof_completion(c),
                    crate::repl::replica::K_LINK_CONNECT
                    | crate::repl::replica::K_LINK_RECV
                    | crate::repl::replica::K_LINK_SEND => {
                        crate::repl::replica::on_completion(&mut self.srv, c)
                    }
                    K_SIGNAL => {
                        // signalfd_siginfo starts with the signal number (u32).
                        let signo = c
                            .buf
                            .as_deref()
                            .and_then(|b| b.get(..4))
                            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                        let sigint = signo == Some(nix::sys::signal::Signal::SIGINT as u32);
                        let flags = if sigint {
                            self.srv.config.shutdown_on_sigint
                        } else {
                            self.srv.config.shutdown_on_sigterm
                        };
                        if self.srv.shutdown_wait.is_some() {
                            // A second signal while waiting for replicas: no more waiting.
                            log::warn!("Received a second SIGINT/SIGTERM: shutting down now");
                            if let Some(w) = self.srv.shutdown_wait.as_mut() {
                                w.deadline_ms = 0;
                            }
                        } else {
                            log::warn!("Received SIGINT/SIGTERM: shutting down");
                        }
                        // A failed final save keeps the server running, as in Redis.
                        let started =
                            self.srv
                                .begin_shutdown(flags.save(), flags.force, flags.now, None);
                        if started != crate::server::shutdown::Started::Exiting {
                            self.arm_signal();
                        }
                    }
                    _ => {}
                }
            }
            self.completions = done;
            if self.shutdown_started.is_none() {
                let mut ready = std::mem::take(&mut self.srv.ready);
                let mut again = Vec::new();
                self.resume_now = false;
                // The keys of the connections' next commands are prefetched a batch at a
                // time (`Server::prefetch_ready`): the first batch before the first runs,
                // each next one when the runs reach the middle of the batch before it.
                let batch = crate::ds::dict::PREFETCH_KEYS_MAX;
                if ready.len() > 1 {
                    self.srv.prefetch_ready(&ready);
                }
                for i in 0..ready.len() {
                    let slot = ready[i];
                    if i % batch == batch / 2 && i + batch / 2 < ready.len() {
                        self.srv.prefetch_ready(&ready[i + batch / 2..]);
                    }
                    if let Some(c) = self.srv.conns.get_mut(slot) {
                        c.ready = false;
                    }
                    match self.srv.process_input(slot) {
                        InputLeft::None => {}
                        // Kept ready (so no receive is armed over unprocessed input), but the
                        // loop waits for a completion (the send) before trying again.
                        InputLeft::Paused => again.push(slot),
                        InputLeft::Runnable => {
                            again.push(slot);
                            self.resume_now = true;
                        }
                    }
                }
                ready.clear();
                for slot in again {
                    if let Some(c) = self.srv.conns.get_mut(slot) {
                        c.ready = true;
                        ready.push(slot);
                    }
                }
                // A CLIENT PAUSE whose time has passed ends within the turn.
                if self.srv.pause.active() {
                    crate::cmd::pause::check_end(&mut self.srv);
                }
                // Clients unblocked while commands ran were queued meanwhile: keep them.
                ready.append(&mut self.srv.ready);
                self.srv.ready = ready;
                if !self.srv.blocking.is_empty() {
                    crate::cmd::blocking::expire_due(&mut self.srv);
                }
            }
            if self.srv.evict.running && self.shutdown_started.is_none() {
                // An eviction pass stopped on its time limit: go on, without sleeping
                // until it is done (Redis's evictionTimeProc).
                crate::evict::perform(&mut self.srv);
                self.resume_now |= self.srv.evict.running;
            }
            crate::alloc::sample_peak();
            if tick {
                self.srv.housekeeping();
                self.srv.aof_rewrite_tick();
                self.arm_tick();
            }
            // Client-side caching's once-per-turn work (the BCAST broadcast), before the flush
            // (Redis's beforeSleep).
            if self.srv.tracking.on() {
                crate::cmd::tracking::end_of_turn(&mut self.srv);
            }
            if self.srv.shutdown_wait.is_some() {
                self.srv.shutdown_wait_turn();
            }
            // Replication (`repl::primary`): a slice of a full sync, WAIT, GETACK.
            if self.srv.repl.primary.busy() && self.shutdown_started.is_none() {
                self.resume_now |= crate::repl::primary::turn(&mut self.srv);
            }
            self.flush();
            self.sync_block_timer();
            if self.srv.shutdown_requested {
                let started = *self.shutdown_started.get_or_insert_with(|| {
                    log::warn!("User requested shutdown...");
                    Instant::now()
                });
                self.srv.listeners.clear();
                let pending = self
                    .srv
                    .conns
                    .iter()
                    .any(|(_, c)| !c.closed && (c.send_inflight || !c.out.is_empty()))
                    || self.srv.aof.busy();
                if !pending || started.elapsed() > SHUTDOWN_FLUSH_MAX {
                    self.srv.aof_shutdown_flush();
                    self.srv.at_exit();
                    log::warn!("ringkv is now ready to exit, bye bye...");
                    return Ok(());
                }
            }
        }
    }

    /// Queues one send per connection with output and one receive per connection that is
    /// ready for more input (`flush_conns`).
    fn flush(&mut self) {
        // While some connection stopped at its slice with commands left (a publisher with a
        // pipeline of PUBLISHes, most often), the next turn comes at once and a subscriber's
        // small output waits for it: sent every turn, each slice's few messages would cost a
        // send per subscriber, a send costing far more than the messages in it.
        // Bounded in time: a connection that stays runnable turn after turn (a heavy
        // pipeline) holds subscribers' messages back for at most SUBSCRIBER_HOLD_NS.
        let now_ns = crate::util::mono_ns();
        let hold_subscribers = self.resume_now
            && now_ns.saturating_sub(*self.hold_since_ns.get_or_insert(now_ns))
                < SUBSCRIBER_HOLD_NS;
        if !hold_subscribers {
            self.hold_since_ns = None;
        }
        let mut held = std::mem::take(&mut self.held);
        flush_conns(&mut self.srv, hold_subscribers, &mut held);
        self.held = held;
    }
}

fn on_accept(srv: &mut Server, c: Completion) {
    let li = ring::token_slot(c.token) as usize;
    if !c.more {
        if let Some(l) = srv.listeners.get(li) {
            ring_of_parts(&mut srv.ring).accept_multi(l.fd.as_raw_fd(), c.token);
        }
    }
    if c.result < 0 {
        log::warn!(
            "Accepting client connection: {}",
            std::io::Error::from_raw_os_error(-c.result)
        );
        return;
    }
    let fd = ring::adopt_fd(c.result);
    srv.stats.connections_received += 1;
    if srv.clients_open >= srv.config.clients_max {
        srv.stats.rejected_connections += 1;
        let _ = nix::unistd::write(&fd, b"-ERR max number of clients reached\r\n");
        return;
    }
    let peer = sock::getpeername::<SockaddrStorage>(fd.as_raw_fd()).ok();
    let local = sock::getsockname::<SockaddrStorage>(fd.as_raw_fd()).ok();
    let kind = match peer.as_ref().and_then(|p| p.family()) {
        Some(sock::AddressFamily::Unix) => Kind::Unix,
        _ => Kind::Tcp,
    };
    if kind == Kind::Tcp {
        let _ = sock::setsockopt(&fd, sock::sockopt::TcpNoDelay, &true);
        set_keepalive(&fd, srv.config.tcp_keepalive_s);
    }
    let addr = match (&peer, kind) {
        (_, Kind::Unix) => format!(
            "{}:0",
            srv.config
                .unixsocket
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ),
        (Some(p), _) => format_addr(p),
        (None, _) => "?:0".into(),
    };
    let laddr = match (&local, kind) {
        (_, Kind::Unix) => addr.clone(),
        (Some(p), _) => format_addr(p),
        (None, _) => "?:0".into(),
    };
    // As Redis: protected while the default user needs no password (`nopass`), whether
    // it got one from requirepass or from ACL SETUSER.
    if srv.config.protected_mode
        && srv.acl.user(crate::acl::DEFAULT_USER).nopass()
        && kind == Kind::Tcp
        && !peer.as_ref().is_some_and(is_loopback_peer)
    {
        srv.stats.rejected_connections += 1;
        let _ = nix::unistd::write(&fd, PROTECTED_MODE_DENIED);
        return;
    }
    let slot = srv.add_client(fd, kind, addr, laddr);
    srv.touched.push(slot);
}

/// The connection a completion belongs to, if it is still the same one.
// Two callers (the loop and a busy script's turn): inlined into both, as when the loop
// was the only one (out of line they cost ~100 instructions per turn).
#[inline(always)]
fn conn_for(srv: &Server, token: u64) -> Option<usize> {
    let slot = ring::token_slot(token) as usize;
    match srv.conns.get(slot) {
        Some(c) if c.generation == ring::token_generation(token) => Some(slot),
        _ => None,
    }
}

// Two callers (the loop and a busy script's turn): inlined into both, as when the loop
// was the only one (out of line they cost ~100 instructions per turn).
#[inline(always)]
fn on_recv(srv: &mut Server, c: Completion) {
    let Some(slot) = conn_for(srv, c.token) else {
        if let Some(bid) = c.bid {
            ring_of_parts(&mut srv.ring).recycle(bid);
        }
        return;
    };
    let conn = &mut srv.conns[slot];
    if conn.recv_multishot {
        on_recv_multishot(srv, slot, c);
        return;
    }
    conn.recv_inflight = false;
    conn.inbuf = c.buf;
    if conn.closed {
        srv.close(slot);
        return;
    }
    if c.result == -libc::ECANCELED {
        // Cancelled when the client was unblocked: process what it has buffered.
        if !conn.ready {
            conn.ready = true;
            srv.ready.push(slot);
        }
        srv.touched.push(slot);
        return;
    }
    if c.result <= 0 {
        if c.result == 0 || c.result == -libc::ECONNRESET {
            // Peer closed its side: `flush_conns` closes after the replies we owe.
            conn.peer_closed = true;
            srv.touched.push(slot);
        } else if c.result != -libc::EINTR && c.result != -libc::EAGAIN {
            srv.close(slot);
        } else {
            srv.touched.push(slot);
        }
        return;
    }
    srv.stats.net_input_bytes += c.result as u64;
    let got = c.result as usize;
    if got < PROVIDED_BUFFER_BYTES {
        // The stream has slowed: back to the multishot receive.
        conn.recv_streaming = false;
    }
    let offered = conn
        .inbuf
        .as_ref()
        .map_or(got, |b| b.capacity() - b.len().saturating_sub(got));
    conn.note_received(got, offered);
    input_arrived(srv, slot);
}

/// New input in the connection's buffer: over client-query-buffer-limit it is closed, else
/// it runs this turn.
#[inline(always)]
fn input_arrived(srv: &mut Server, slot: usize) {
    let conn = &mut srv.conns[slot];
    if conn.query_len() > srv.config.query_buffer_max {
        log::warn!(
            "Closing client that reached max query buffer length (addr={})",
            conn.addr
        );
        srv.close(slot);
        return;
    }
    conn.last_interaction_ms = srv.now_ms;
    if !conn.ready {
        conn.ready = true;
        srv.ready.push(slot);
    }
}

/// A completion of a connection's multishot receive: its bytes (in a provided buffer) are
/// appended to the input buffer, which stays with the connection, and the buffer goes back
/// to the kernel at once. A completion without `more` ends the receive; `flush_conns` arms
/// the next one when the connection may receive.
#[inline(always)]
fn on_recv_multishot(srv: &mut Server, slot: usize, c: Completion) {
    let conn = &mut srv.conns[slot];
    if !c.more {
        conn.recv_inflight = false;
        conn.recv_multishot = false;
        conn.recv_cancelling = false;
    }
    let copied = match (c.bid, &c.buf) {
        (Some(bid), _) => {
            let ring = ring_of_parts(&mut srv.ring);
            if c.result > 0 && !conn.closed {
                conn.take_copied(ring.provided(bid, c.result as usize));
            }
            ring.recycle(bid);
            true
        }
        // Bytes a busy script's turn moved out of their provided buffer (`busy_turn`).
        (None, Some(bytes)) => {
            if !conn.closed {
                conn.take_copied(bytes);
            }
            true
        }
        (None, None) => false,
    };
    // Bytes without a buffer would be input lost: the connection cannot go on.
    if conn.closed || (c.result > 0 && !copied) {
        srv.close(slot);
        return;
    }
    if c.result <= 0 {
        match -c.result {
            // Not an error of the connection: cancelled by `flush_conns` (input held back),
            // or no free buffer this turn, or a kernel without multishot receives (then
            // every client receives one receive at a time from now on).
            libc::ECANCELED | libc::ENOBUFS | libc::EINTR | libc::EAGAIN => {
                srv.touched.push(slot);
            }
            libc::EINVAL => {
                log::warn!("multishot receives unavailable, receiving one at a time");
                srv.recv_multishot = false;
                srv.touched.push(slot);
            }
            0 | libc::ECONNRESET => {
                // The end of the stream may come in the same turn as the last commands:
                // `flush_conns` closes after their replies, once they have run.
                conn.peer_closed = true;
                srv.touched.push(slot);
            }
            _ => srv.close(slot),
        }
        return;
    }
    srv.stats.net_input_bytes += c.result as u64;
    input_arrived(srv, slot);
}

/// Cancels the connection's multishot receive, if it has one armed and no cancel is on its
/// way already (`recv_cancelling`, cleared by the receive's last completion).
fn cancel_multishot(ring: &mut Ring, conn: &mut crate::net::conn::Conn) {
    if conn.recv_inflight && conn.recv_multishot && !conn.recv_cancelling {
        conn.recv_cancelling = true;
        ring.cancel(conn.recv_handle, ring::token(K_RECV_CANCEL, 0, 0));
    }
}

// Two callers (the loop and a busy script's turn): inlined into both, as when the loop
// was the only one (out of line they cost ~100 instructions per turn).
#[inline(always)]
fn on_send(srv: &mut Server, c: Completion) {
    let Some(slot) = conn_for(srv, c.token) else {
        return;
    };
    let conn = &mut srv.conns[slot];
    conn.send_inflight = false;
    let Some(mut buf) = c.buf else { return };
    if conn.closed {
        srv.close(slot);
        return;
    }
    if c.result < 0 {
        srv.close(slot);
        return;
    }
    srv.stats.net_output_bytes += c.result as u64;
    let offset = conn.send_offset + c.result as usize;
    if offset < buf.len() {
        conn.send_offset = offset;
        conn.send_inflight = true;
        ring_of_parts(&mut srv.ring).send(conn.fd.as_raw_fd(), c.token, buf, offset);
        return;
    }
    buf.clear();
    conn.send_offset = 0;
    conn.sending = Some(buf);
    // Output drained: a connection paused for a full output buffer resumes its input (a
    // connection without input left needs only its next receive, queued by the flush).
    if !conn.ready && conn.query_len() > 0 {
        conn.ready = true;
        srv.ready.push(slot);
    }
    srv.touched.push(slot);
}

/// Queues one send per connection with output and one receive per connection that is
/// ready for more input.
///
/// `hold_subscribers`: subscribers' small outputs wait for the next turn (`EventLoop::flush`
/// says when); they are put in `held`, which becomes part of the next turn's `touched`.
// Two callers (the loop and a busy script's turn): inlined into both, as when the loop
// was the only one (out of line they cost ~100 instructions per turn).
#[inline(always)]
fn flush_conns(srv: &mut Server, hold_subscribers: bool, held: &mut Vec<usize>) {
    // From a busy script's turn, no connection is closed or evicted for its memory: the
    // script's own client must stay (they go at the loop's next turn).
    let busy = srv.scripts.run.active;
    if !srv.obuf_closing.is_empty() && !busy {
        srv.close_over_limit();
    }
    srv.aof_submit();
    let aof_acked = srv.aof_acked_seq();
    let mut touched = std::mem::take(&mut srv.touched);
    for &slot in &touched {
        // A peer that ended its stream: once its last commands have run (it is not `ready`;
        // a multishot receive may bring them in the same turn as the end), it closes after
        // their replies are sent (a blocked client stops waiting now, so nothing is served
        // to a closed socket).
        if srv
            .conns
            .get(slot)
            .is_some_and(|c| c.peer_closed && !c.ready && !c.close_after_reply && !c.closed)
        {
            srv.close_after_reply(slot);
        }
        let Some(conn) = srv.conns.get_mut(slot) else {
            continue;
        };
        conn.flush_queued = false;
        if conn.closed {
            continue;
        }
        if hold_subscribers
            && conn.subs.is_some()
            && conn.out.len() < SUBSCRIBER_SEND_MIN_BYTES
            && !conn.close_after_reply
        {
            conn.flush_queued = true;
            held.push(slot);
            continue;
        }
        let fd = conn.fd.as_raw_fd();
        let tok_base = (conn.generation, slot as u32);
        // AOF group commit: replies of write commands wait for their write (or fsync).
        let held = conn.aof_wait_seq > aof_acked;
        if !conn.send_inflight && !conn.out.is_empty() && !held {
            if let Some(mut spare) = conn.sending.take() {
                std::mem::swap(&mut spare, &mut conn.out);
                conn.send_inflight = true;
                conn.send_offset = 0;
                conn.send_len = spare.len();
                conn.send_buf_bytes = spare.capacity();
                ring_of_parts(&mut srv.ring).send(
                    fd,
                    ring::token(K_SEND, tok_base.0, tok_base.1),
                    spare,
                    0,
                );
            }
        }
        if conn.close_after_reply {
            if !conn.send_inflight && conn.out.is_empty() && !held {
                srv.close(slot);
            }
            continue;
        }
        let paused = conn.out.len()
            + if conn.send_inflight {
                OUT_PAUSE_BYTES / 2
            } else {
                0
            }
            >= OUT_PAUSE_BYTES;
        // Receiving: a multishot receive stays armed while the connection may receive; a
        // connection that must not (output backed up, or enough input still to run) has it
        // cancelled. Input that comes faster than small copies carry it well (a large value
        // on its way, whose room `reserve_for_argument` made, or a client streaming) is
        // received straight into the input buffer, one receive at a time, as large as
        // `prepare_recv_buf` makes it: the kernel copies it once, in large pieces.
        let hold = paused || (conn.ready && conn.query_len() >= INPUT_HOLD_BYTES);
        if std::mem::take(&mut conn.recv_turn_bytes) >= crate::net::conn::RECV_CHUNK {
            conn.recv_streaming = true;
        }
        let direct = !srv.recv_multishot
            || conn.recv_streaming
            || conn
                .parser
                .as_ref()
                .is_some_and(|p| p.bytes_wanted() >= crate::net::conn::BIG_ARG_BYTES);
        if conn.recv_inflight {
            if hold || direct {
                cancel_multishot(ring_of_parts(&mut srv.ring), conn);
            }
        } else if !direct && !hold && !srv.shutdown_requested && conn.inbuf.is_some() {
            // (A connection without an input buffer has no socket: the master client.)
            conn.recv_inflight = true;
            conn.recv_multishot = true;
            conn.recv_handle = ring_of_parts(&mut srv.ring)
                .recv_multishot(fd, ring::token(K_RECV, tok_base.0, tok_base.1));
        } else if direct && !conn.ready && !paused && !srv.shutdown_requested {
            if let Some(mut buf) = conn.inbuf.take() {
                prepare_recv_buf(&mut buf, conn.small_recvs, conn.recv_grow);
                conn.inbuf_away_bytes = buf.capacity();
                conn.recv_inflight = true;
                conn.recv_handle = ring_of_parts(&mut srv.ring).recv(
                    fd,
                    ring::token(K_RECV, tok_base.0, tok_base.1),
                    buf,
                );
            }
        }
    }
    // Client eviction: the buffers of these connections may have changed this turn.
    if srv.clients_memory_limit_bytes() > 0 && !busy {
        for &slot in &touched {
            srv.account_client(slot, 0);
        }
        srv.evict_clients(None);
    }
    touched.clear();
    touched.append(held);
    srv.touched = touched;
    // The receives are still in flight (their completions are reaped only at the next
    // turn), so the handles cannot have been reused.
    for (slot, generation) in srv.recv_to_cancel.drain(..) {
        if let Some(c) = srv.conns.get(slot) {
            if c.generation == generation && c.recv_inflight && !c.closed {
                ring_of_parts(&mut srv.ring)
                    .cancel(c.recv_handle, ring::token(K_RECV_CANCEL, 0, 0));
            }
        }
    }
}

/// One loop turn run from inside a script that has run past busy-reply-threshold (Redis's
/// `processEventsWhileBlocked`), from the script's instruction hook: new connections are
/// accepted, input is received and other clients' commands run through `call()`, which
/// answers -BUSY to all but the `allow_busy` ones (SCRIPT KILL among them), and replies
/// are sent. Timers, signals and the script's own client's ring operations are left for
/// the loop's next turn; the script's client is neither read nor flushed nor closed here
/// (its input and output are the running command's), and nothing its script did is
/// published (the script's journal unit stays open). SHUTDOWN NOSAVE exits from here.
pub(crate) fn busy_turn(srv: &mut Server) {
    if srv.ring.is_none() {
        return;
    }
    let caller = srv.scripts.run.slot;
    let caller_gen = srv.conns.get(caller).map(|c| c.generation);
    // The running command's state, which other clients' commands overwrite.
    let saved = (
        srv.current_cmd,
        srv.current_slot,
        srv.oom_at_command_start,
        srv.cmd_clock_ns,
        srv.now_ms,
        std::mem::take(&mut srv.reply_error),
    );
    if let Err(e) = ring_of(srv).submit_and_wait(0) {
        log::warn!("io_uring_enter in a busy script's turn: {e}");
    }
    srv.now_ms = unix_ms();
    srv.cmd_clock_ns = crate::util::mono_ns();
    let mut done = Vec::new();
    ring_of(srv).reap(&mut done);
    // The caller's input waits for its script; a provided buffer may not (the other
    // clients' receives need them, SCRIPT KILL's among them): the bytes of the caller's
    // multishot receive move to its deferred completion, and the receive is cancelled
    // (armed again once the script is over) unless it has just ended: its handle is then
    // already free for another operation.
    let mut caller_received = false;
    let mut caller_recv_ended = false;
    for mut c in done {
        let kind = ring::token_kind(c.token);
        let callers = matches!(kind, K_RECV | K_SEND)
            && ring::token_slot(c.token) as usize == caller
            && Some(ring::token_generation(c.token)) == caller_gen;
        if callers && kind == K_RECV {
            caller_received = true;
            caller_recv_ended |= !c.more;
            if let Some(bid) = c.bid.take() {
                let ring = ring_of(srv);
                c.buf = Some(ring.provided(bid, c.result.max(0) as usize).to_vec());
                ring.recycle(bid);
            }
        }
        match kind {
            K_ACCEPT => on_accept(srv, c),
            K_RECV if !callers => on_recv(srv, c),
            K_SEND if !callers => on_send(srv, c),
            crate::persist::aof::K_AOF_FSYNC
            | crate::persist::aof::K_AOF_STEP
            | crate::persist::aof::K_AOF_BASE_FSYNC => srv.aof_completion(c),
            _ => srv.deferred_completions.push(c),
        }
    }
    if let (true, Some(conn)) = (caller_received, srv.conns.get_mut(caller)) {
        if !caller_recv_ended {
            cancel_multishot(ring_of_parts(&mut srv.ring), conn);
        } else if conn.recv_multishot {
            // Until its deferred completions are taken, no flush may cancel the ended
            // receive by a handle that may be free.
            conn.recv_cancelling = true;
        }
    }
    // Every connection with input waiting: those that received now and those the
    // interrupted turn had not reached yet.
    let waiting: Vec<usize> = srv
        .conns
        .iter()
        .filter(|(slot, c)| *slot != caller && c.ready && c.inbuf.is_some())
        .map(|(slot, _)| slot)
        .collect();
    for slot in waiting {
        srv.conns[slot].ready = false;
        if !matches!(srv.process_input(slot), InputLeft::None) {
            // Still listed in `ready` (this turn's or the interrupted one's).
            if let Some(c) = srv.conns.get_mut(slot) {
                c.ready = true;
            }
        }
    }
    let caller_touched = srv.touched.contains(&caller);
    srv.touched.retain(|&s| s != caller);
    flush_conns(srv, false, &mut Vec::new());
    if caller_touched {
        srv.touched.push(caller);
    }
    if srv.shutdown_requested {
        // SHUTDOWN NOSAVE: the script never ends, and what it wrote is not kept.
        srv.aof_shutdown_flush();
        srv.at_exit();
        log::warn!("ringkv is now ready to exit, bye bye...");
        log::logger().flush();
        std::process::exit(0);
    }
    (
        srv.current_cmd,
        srv.current_slot,
        srv.oom_at_command_start,
        srv.cmd_clock_ns,
        srv.now_ms,
        srv.reply_error,
    ) = saved;
}

/// The loop's ring, held by the server from `EventLoop::new` on.
#[inline]
fn ring_of(srv: &mut Server) -> &mut Ring {
    ring_of_parts(&mut srv.ring)
}

/// `ring_of` for a caller that holds other fields of the server (a connection) meanwhile.
#[inline]
fn ring_of_parts(ring: &mut Option<Ring>) -> &mut Ring {
    ring.as_mut()
        .expect("the event loop lends its ring to the server")
}

/// What Redis 7.0 writes (and then closes) to a client from another host when protected mode
/// is on and the default user has no password; its text, typo included.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Redis's `connIsLocal` for TCP peers: an IPv4 address in 127.0.0.0/8 or the IPv6 `::1`
/// (an IPv4-mapped loopback is not local to Redis either).
fn is_loopback_peer(a: &SockaddrStorage) -> bool {
    if let Some(v4) = a.as_sockaddr_in() {
        v4.ip().octets()[0] == 127
    } else if let Some(v6) = a.as_sockaddr_in6() {
        v6.ip() == std::net::Ipv6Addr::LOCALHOST
    } else {
        false
    }
}

/// Redis's `anetKeepAlive`: probes after `interval_s` of silence, then every third of it, and
/// the connection is dropped after three unanswered probes (a dead peer is found in about
/// twice the interval). Failures only lose the probing, as in Redis.
fn set_keepalive(fd: &OwnedFd, interval_s: u32) {
    if interval_s == 0 {
        return;
    }
    let _ = sock::setsockopt(fd, sock::sockopt::KeepAlive, &true);
    let _ = sock::setsockopt(fd, sock::sockopt::TcpKeepIdle, &interval_s);
    let _ = sock::setsockopt(fd, sock::sockopt::TcpKeepInterval, &(interval_s / 3).max(1));
    let _ = sock::setsockopt(fd, sock::sockopt::TcpKeepCount, &3);
}

fn format_addr(a: &SockaddrStorage) -> String {
    if let Some(v4) = a.as_sockaddr_in() {
        format!("{}:{}", v4.ip(), v4.port())
    } else if let Some(v6) = a.as_sockaddr_in6() {
        format!("{}:{}", v6.ip(), v6.port())
    } else if let Some(u) = a.as_unix_addr() {
        match u.path() {
            Some(p) => format!("{}:0", p.display()),
            None => "unix:0".into(),
        }
    } else {
        "?:0".into()
    }
}

/// A TCP listening socket on `addr:port`. A `mark` above 0 (`socket-mark-id`) is set as
/// its SO_MARK, which the connections it accepts inherit; a mark the kernel refuses (it needs
/// CAP_NET_ADMIN) stops the start, since the setting could not be honoured.
fn bind_tcp(addr: &str, port: u16, backlog: i32, mark: u32) -> Result<OwnedFd, String> {
    let ip: std::net::IpAddr = if addr == "*" {
        std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    } else {
        addr.parse()
            .map_err(|_| format!("invalid bind address '{addr}'"))?
    };
    let sa = std::net::SocketAddr::new(ip, port);
    let family = if ip.is_ipv4() {
        sock::AddressFamily::Inet
    } else {
        sock::AddressFamily::Inet6
    };
    let fd = sock::socket(
        family,
        sock::SockType::Stream,
        sock::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    sock::setsockopt(&fd, sock::sockopt::ReuseAddr, &true).map_err(|e| e.to_string())?;
    if mark > 0 {
        sock::setsockopt(&fd, sock::sockopt::Mark, &mark).map_err(|e| {
            format!("Can't set socket-mark-id {mark} on the listening socket {addr}:{port}: {e}")
        })?;
    }
    if ip.is_ipv6() {
        sock::setsockopt(&fd, sock::sockopt::Ipv6V6Only, &true).map_err(|e| e.to_string())?;
    }
    let ss = SockaddrStorage::from(sa);
    sock::bind(fd.as_raw_fd(), &ss).map_err(|e| {
        format!("Could not create server TCP listening socket {addr}:{port}: bind: {e}")
    })?;
    sock::listen(
        &fd,
        sock::Backlog::new(backlog).unwrap_or(sock::Backlog::MAXCONN),
    )
    .map_err(|e| format!("listen {addr}:{port}: {e}"))?;
    Ok(fd)
}

fn bind_unix(path: &std::path::Path, perm: u32, backlog: i32) -> Result<OwnedFd, String> {
    let _ = std::fs::remove_file(path);
    let fd = sock::socket(
        sock::AddressFamily::Unix,
        sock::SockType::Stream,
        sock::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    let ua =
        sock::UnixAddr::new(path).map_err(|e| format!("unixsocket {}: {e}", path.display()))?;
    sock::bind(fd.as_raw_fd(), &ua).map_err(|e| format!("bind {}: {e}", path.display()))?;
    if perm != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
            .map_err(|e| e.to_string())?;
    }
    sock::listen(
        &fd,
        sock::Backlog::new(backlog).unwrap_or(sock::Backlog::MAXCONN),
    )
    .map_err(|e| format!("listen {}: {e}", path.display()))?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{SocketAddrV4, SocketAddrV6};

    fn v4(ip: [u8; 4]) -> SockaddrStorage {
        SockaddrStorage::from(std::net::SocketAddr::V4(SocketAddrV4::new(ip.into(), 1)))
    }

    fn v6(ip: std::net::Ipv6Addr) -> SockaddrStorage {
        SockaddrStorage::from(std::net::SocketAddr::V6(SocketAddrV6::new(ip, 1, 0, 0)))
    }

    /// Protected mode lets only these peers in without a password (Redis's connIsLocal).
    #[test]
    fn loopback_peers_are_127_slash_8_and_ipv6_localhost_only() {
        assert!(is_loopback_peer(&v4([127, 0, 0, 1])));
        assert!(is_loopback_peer(&v4([127, 5, 6, 7])));
        assert!(!is_loopback_peer(&v4([10, 0, 0, 1])));
        assert!(!is_loopback_peer(&v4([128, 0, 0, 1])));
        assert!(is_loopback_peer(&v6(std::net::Ipv6Addr::LOCALHOST)));
        assert!(!is_loopback_peer(&v6("fe80::1".parse().unwrap())));
        assert!(!is_loopback_peer(&v6("::ffff:127.0.0.1".parse().unwrap())));
    }

    /// `socket-mark-id`: the listening socket carries the mark, and a connection it accepts
    /// inherits it; without CAP_NET_ADMIN the kernel refuses and the start fails, naming it.
    #[test]
    fn socket_mark_id_is_set_on_the_listener_or_refused() {
        match bind_tcp("127.0.0.1", 0, 16, 42) {
            Ok(fd) => {
                assert_eq!(sock::getsockopt(&fd, sock::sockopt::Mark).unwrap(), 42);
                let addr: SockaddrStorage = sock::getsockname(fd.as_raw_fd()).unwrap();
                let port = addr.as_sockaddr_in().unwrap().port();
                let _peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                let conn = sock::accept(fd.as_raw_fd()).unwrap();
                // SAFETY: `accept` just returned this descriptor; nothing else owns it.
                let conn = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(conn) };
                assert_eq!(sock::getsockopt(&conn, sock::sockopt::Mark).unwrap(), 42);
            }
            Err(e) => assert!(e.starts_with("Can't set socket-mark-id 42"), "{e}"),
        }
        let fd = bind_tcp("127.0.0.1", 0, 16, 0).unwrap();
        assert_eq!(sock::getsockopt(&fd, sock::sockopt::Mark).unwrap(), 0);
    }

    #[test]
    fn denied_text_is_one_redis_error_line() {
        assert!(PROTECTED_MODE_DENIED.starts_with(b"-DENIED "));
        assert!(PROTECTED_MODE_DENIED.ends_with(b"\r\n"));
        let body = &PROTECTED_MODE_DENIED[..PROTECTED_MODE_DENIED.len() - 2];
        assert!(!body.contains(&b'\r') && !body.contains(&b'\n'));
    }
}
