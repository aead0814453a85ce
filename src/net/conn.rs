//! Per-client state: the socket, the input buffer and parse cursor, the output buffers, and
//! what Redis calls the client (selected database, name, protocol, authentication).
//!
//! Buffer ownership: `inbuf` is `None` while a receive is in flight (the ring owns it), and
//! `sending` is `None` while a send is in flight. So a buffer is either ours or the kernel's,
//! never both, and the type system enforces it. New replies always go to `out`; at the end of
//! a turn `out` is swapped into the send slot, so everything a connection produced in one turn
//! leaves in one send.
//!
//! Memory: `memory_bytes` is what the connection holds, as client eviction
//! (`maxmemory-clients`, `Server::evict_clients`) and CLIENT LIST's `tot-mem` count it: the
//! capacities of its input and output buffers wherever they are (in the `Conn`, in the ring
//! for an operation in flight, or held by `process_input`), the transaction queue, the
//! parser's spans, the WATCH list and the struct itself. It is computed from capacities in a
//! few additions, so it can be recounted after every command without walking anything.

use crate::resp::parse::Parser;
use crate::resp::Span;
use std::ops::Range;
use std::os::fd::OwnedFd;

/// Free space a receive gets at least (Redis reads 16 KiB at a time).
pub const RECV_CHUNK: usize = 16 * 1024;
/// Most free space a receive asks for. A connection whose receives keep filling the buffer (a
/// deep pipeline, a publisher) gets more per receive, doubling up to this: one turn then runs
/// more of its commands, and what they produce for other connections (a PUBLISH's messages)
/// leaves in fewer, larger sends; measured with examples/pubsub_load.rs (1,000 subscribers):
/// 16 KiB receives gave 16 messages per send, 64-90 KiB ones 70-90.
pub const RECV_FULL_MAX: usize = 128 * 1024;
/// The receive buffer of a connection that has sent nothing yet, or only small bursts lately:
/// an idle connection then holds 512 bytes instead of 16 KiB (Redis allocates a client's query
/// buffer at its first read and frees it once the client is idle).
pub const RECV_SMALL: usize = 512;
/// Consecutive receives of at most `RECV_SMALL / 2` bytes after which a connection goes back
/// to the small buffer (so a client alternating bursts and single commands does not make its
/// buffer change size at every receive).
pub const SMALL_RECVS_TO_SHRINK: u8 = 8;
/// Above this many bytes of unsent replies the connection stops executing commands until the
/// client reads: a client that pipelines without reading cannot make us buffer without bound.
pub const OUT_PAUSE_BYTES: usize = 4 * 1024 * 1024;
/// Arguments at least this long get their room reserved exactly once their length is read
/// (Redis's PROTO_MBULK_BIG_ARG).
pub const BIG_ARG_BYTES: usize = 32 * 1024;
/// Largest transaction queue (buffers' capacity) kept for reuse after EXEC or DISCARD.
pub const MULTI_KEEP_BYTES: usize = 16 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Tcp,
    Unix,
}

/// What the connection is doing, which decides what happens to its next command. One byte:
/// every command reads it, so the transaction's queue lives beside it (`Conn::multi`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub enum Mode {
    /// Commands run as they come.
    #[default]
    Normal,
    /// Between MULTI and EXEC/DISCARD: commands are checked and queued in `Conn::multi`
    /// (`cmd::multi`).
    Multi,
    /// Waiting on keys (BLPOP...): no command runs until it is served, times out or is
    /// unblocked (`blocking`); its input stays buffered.
    Blocked,
}

/// The queue of a transaction: every queued command's arguments in one buffer.
#[derive(Default)]
pub struct MultiState {
    pub bytes: Vec<u8>,
    pub spans: Vec<Span>,
    /// Each queued command: its index in the server's command list and its range of `spans`.
    pub commands: Vec<(usize, Range<usize>)>,
    /// The table flags of the queued commands, or-ed (EXEC is checked against them).
    pub flags: u32,
    /// A command could not be queued: EXEC answers EXECABORT.
    pub error: bool,
}

impl MultiState {
    /// Heap bytes the queue's buffers hold (their capacities, not their lengths).
    pub fn held_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.spans.capacity() * std::mem::size_of::<Span>()
            + self.commands.capacity() * std::mem::size_of::<(usize, Range<usize>)>()
    }
}

/// One key the connection WATCHes.
pub struct Watched {
    pub db: usize,
    pub key: Box<[u8]>,
    /// It was already logically expired when watched.
    pub expired: bool,
}

pub struct Conn {
    pub generation: u32,
    pub id: u64,
    pub fd: OwnedFd,
    pub kind: Kind,
    pub addr: String,
    pub laddr: String,
    /// Input bytes; `None` while the ring owns it for a receive.
    pub inbuf: Option<Vec<u8>>,
    /// The request parser, boxed: `process_input` takes it out of the connection and puts it
    /// back once per batch, which moves a pointer instead of the whole parser (two copies of
    /// a few hundred bytes per receive otherwise). `None` only while `process_input` has it.
    pub parser: Option<Box<Parser>>,
    /// Replies produced and not yet handed to the kernel.
    pub out: Vec<u8>,
    /// The buffer of the send in flight is owned by the ring; this is the spare one.
    pub sending: Option<Vec<u8>>,
    pub send_inflight: bool,
    /// Bytes of the in-flight buffer already sent (a short send is resumed from here).
    pub send_offset: usize,
    /// Length of the in-flight send's buffer (meaningful while `send_inflight`).
    pub send_len: usize,
    /// Unix ms since when the output has been over the soft `client-output-buffer-limit`
    /// (0: it is not).
    pub obuf_soft_since_ms: u64,
    pub recv_inflight: bool,
    /// The receive in flight is the connection's multishot receive (into the ring's provided
    /// buffers; its input buffer stays here), not a receive into the input buffer itself.
    pub recv_multishot: bool,
    /// A cancel of the multishot receive is on its way (`flush_conns` holds input back).
    pub recv_cancelling: bool,
    /// Consecutive small receives, up to `SMALL_RECVS_TO_SHRINK` (see `prepare_recv_buf`).
    pub small_recvs: u8,
    /// What the buffer grows by when the next receive needs room, `RECV_CHUNK` to
    /// `RECV_FULL_MAX` (see `next_recv_grow`).
    pub recv_grow: usize,
    /// The ring handle of the receive in flight (meaningful while `recv_inflight`).
    pub recv_handle: u64,
    /// Input arrived (or output drained) since the last parse: process this turn.
    pub ready: bool,
    /// Close once everything already produced has been sent (QUIT, protocol error, KILL).
    pub close_after_reply: bool,
    /// Shut down: waiting only for in-flight operations to return their buffers.
    pub closed: bool,
    pub peer_closed: bool,
    pub mode: Mode,
    /// The transaction's queue: `Some` while `mode` is `Multi`; outside MULTI it may hold an
    /// emptied queue kept for the next transaction (`recycle_multi`), so a client running
    /// transactions in a loop allocates nothing per transaction.
    pub multi: Option<Box<MultiState>>,
    /// Keys this connection WATCHes (`cmd::multi`); changed only through `add_watched` and
    /// `take_watched`, which keep `watched_key_bytes`.
    pub watched: Vec<Watched>,
    /// Total length of the keys in `watched` (each is a separate allocation).
    pub watched_key_bytes: usize,
    /// A watched key was modified: the next EXEC answers null.
    pub watch_dirty: bool,
    // What Redis calls the client.
    pub db: usize,
    pub name: Option<Box<[u8]>>,
    pub resp3: bool,
    pub authenticated: bool,
    /// The ACL user (`acl::Acl` id); `default` until AUTH or HELLO names another.
    pub user: usize,
    pub created_ms: u64,
    pub last_interaction_ms: u64,
    pub last_cmd: &'static str,
    /// AOF group commit: this connection's output waits until the AOF has acknowledged
    /// this write sequence (`persist::aof`); 0 when it ran no write.
    pub aof_wait_seq: u64,
    /// Pub/Sub subscriptions (`pubsub`); `Some` exactly while there is at least one, which
    /// is what puts a RESP2 connection in the Pub/Sub context.
    pub subs: Option<Box<crate::pubsub::ClientSubs>>,
    /// Queued in the server's `touched` list by an out-of-band delivery this turn (Pub/Sub
    /// messages): a subscriber getting many messages in a turn is queued once.
    pub flush_queued: bool,
    /// Over its output buffer limit: gets nothing more and is closed at the end of the turn.
    pub obuf_closing: bool,
    /// Client-side caching state (`tracking`); `Some` exactly while CLIENT TRACKING is on.
    pub tracking: Option<Box<crate::tracking::ClientTracking>>,
    /// CLIENT NO-EVICT: client eviction never closes this connection (its memory still
    /// counts toward `maxmemory-clients`, as in Redis).
    pub no_evict: bool,
    /// Capacity of the input buffer while it is out of the `Conn` (a receive in flight owns
    /// it, or `process_input` is parsing it), so that its memory still counts.
    pub inbuf_away_bytes: usize,
    /// The input buffer grew past `RECV_FULL_MAX` taking multishot receives' bytes (a burst
    /// of input, not a large argument): it is dropped once emptied.
    pub inbuf_grown_by_copies: bool,
    /// Bytes multishot receives brought since the last flush (`take_copied`).
    pub recv_turn_bytes: usize,
    /// The client streams input faster than small receives carry it (a turn brought
    /// `RECV_CHUNK` or more): it receives straight into its input buffer, one receive at a
    /// time, until one of those brings less than a provided buffer holds.
    pub recv_streaming: bool,
    /// Bytes in the input buffer while its commands run (CLIENT LIST's `qbuf` of the
    /// running client, the read batch as Redis counts it); 0 otherwise.
    pub inbuf_running_len: usize,
    /// Capacity of the buffer of the send in flight (meaningful while `send_inflight`).
    pub send_buf_bytes: usize,
    /// What this connection last added to the server's clients' memory total
    /// (`Server::account_client`); 0 once it is closed.
    pub mem_counted_bytes: usize,
    /// In MONITOR mode (`cmd::monitor`): fed every command, refused keyspace commands.
    pub monitor: bool,
    /// The master client of a replica (`repl::replica`): socketless, it runs the primary's
    /// stream; never timed out or evicted, CLIENT LIST flag M, CLIENT KILL TYPE master.
    pub master: bool,
    /// Stopped by CLIENT PAUSE (`cmd::pause`): its next command waits in its input.
    pub postponed: bool,
    /// CLIENT REPLY's state (`cmd::pause::reply_mode`).
    pub reply_mode: u8,
    /// Replication (`repl::primary`): set by the first REPLCONF or PSYNC/SYNC; the
    /// connection is a replica (flag S) once `Replica::attached` says so.
    pub replica: Option<Box<crate::repl::primary::Replica>>,
    /// `master_repl_offset` right after this client's last write reached the replication
    /// stream (Redis's `woff`): what WAIT waits for.
    pub repl_woff: u64,
    /// Blocked in WAIT (`repl::primary`): no further command runs until it is answered.
    pub repl_waiting: bool,
    /// Blocked in a SHUTDOWN that waits for its replicas (`server::shutdown`): answered
    /// only if the shutdown fails or is aborted.
    pub shutdown_waiting: bool,
}

impl Conn {
    /// Reply bytes produced and not yet sent: the in-flight send's rest plus `extra_out`
    /// (the output buffer, which `process_input` holds outside the connection).
    pub fn output_pending(&self, extra_out: usize) -> usize {
        let inflight = if self.send_inflight {
            self.send_len.saturating_sub(self.send_offset)
        } else {
            0
        };
        inflight + extra_out
    }

    #[allow(clippy::too_many_arguments)] // one call site; a builder would add nothing
    pub fn new(
        id: u64,
        generation: u32,
        fd: OwnedFd,
        kind: Kind,
        addr: String,
        laddr: String,
        now_ms: u64,
        authenticated: bool,
    ) -> Conn {
        Conn {
            generation,
            id,
            fd,
            kind,
            addr,
            laddr,
            inbuf: Some(Vec::new()),
            parser: Some(Box::default()),
            out: Vec::new(),
            sending: Some(Vec::new()),
            send_inflight: false,
            send_offset: 0,
            send_len: 0,
            obuf_soft_since_ms: 0,
            recv_inflight: false,
            recv_multishot: false,
            recv_cancelling: false,
            small_recvs: SMALL_RECVS_TO_SHRINK,
            recv_grow: RECV_CHUNK,
            recv_handle: 0,
            ready: false,
            close_after_reply: false,
            closed: false,
            peer_closed: false,
            mode: Mode::Normal,
            multi: None,
            watched: Vec::new(),
            watched_key_bytes: 0,
            watch_dirty: false,
            db: 0,
            name: None,
            resp3: false,
            authenticated,
            user: crate::acl::DEFAULT_USER,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            aof_wait_seq: 0,
            subs: None,
            flush_queued: false,
            obuf_closing: false,
            tracking: None,
            no_evict: false,
            inbuf_away_bytes: 0,
            inbuf_grown_by_copies: false,
            recv_turn_bytes: 0,
            recv_streaming: false,
            inbuf_running_len: 0,
            send_buf_bytes: 0,
            mem_counted_bytes: 0,
            monitor: false,
            master: false,
            postponed: false,
            reply_mode: 0,
            replica: None,
            repl_woff: 0,
            repl_waiting: false,
            shutdown_waiting: false,
        }
    }

    /// Bytes this connection holds (see the module doc), `extra_out` being the capacity of
    /// the output buffer while `process_input` has it out of the connection. Redis's
    /// `getClientMemoryUsage` counts the same parts: query buffer, output buffers, argv,
    /// transaction queue, watched keys and the client struct.
    pub fn memory_bytes(&self, extra_out: usize) -> usize {
        let query = self
            .inbuf
            .as_ref()
            .map_or(self.inbuf_away_bytes, Vec::capacity);
        let sending = match &self.sending {
            Some(spare) => spare.capacity(),
            None if self.send_inflight => self.send_buf_bytes,
            None => 0,
        };
        let multi = self
            .multi
            .as_ref()
            .map_or(0, |m| std::mem::size_of::<MultiState>() + m.held_bytes());
        let watched =
            self.watched.capacity() * std::mem::size_of::<Watched>() + self.watched_key_bytes;
        let subs = self.subs.as_ref().map_or(0, |s| {
            std::mem::size_of::<crate::pubsub::ClientSubs>() + s.held_bytes()
        });
        let identity = self.addr.capacity()
            + self.laddr.capacity()
            + self.name.as_ref().map_or(0, |n| n.len());
        std::mem::size_of::<Conn>()
            + identity
            + query
            + self
                .parser
                .as_ref()
                .map_or(0, |p| std::mem::size_of::<Parser>() + p.held_bytes())
            + self.out.capacity()
            + extra_out
            + sending
            + multi
            + watched
            + subs
    }

    /// Redis's `checkClientOutputBufferLimits` for `pending` unsent bytes under `lim`: true
    /// when they reach the hard limit, or have stayed at or above the soft limit for more than
    /// its seconds (the soft clock starts the first time they are over it).
    pub fn output_limit_reached(
        &mut self,
        lim: crate::config::ObufLimit,
        pending: u64,
        now_ms: u64,
    ) -> bool {
        if lim.hard_bytes == 0 && lim.soft_bytes == 0 {
            return false;
        }
        let hard = lim.hard_bytes > 0 && pending >= lim.hard_bytes;
        let mut soft = lim.soft_bytes > 0 && pending >= lim.soft_bytes;
        if soft {
            if self.obuf_soft_since_ms == 0 {
                self.obuf_soft_since_ms = now_ms.max(1);
                soft = false;
            } else if (now_ms / 1000).saturating_sub(self.obuf_soft_since_ms / 1000)
                <= lim.soft_seconds
            {
                soft = false;
            }
        } else {
            self.obuf_soft_since_ms = 0;
        }
        hard || soft
    }

    /// The `client-output-buffer-limit` class index of this connection (normal 0, pubsub 2).
    pub fn obuf_class(&self) -> usize {
        if self.is_replica() {
            1
        } else if self.subs.is_some() {
            2
        } else {
            0
        }
    }

    /// Adds a key to the WATCH list.
    pub fn add_watched(&mut self, w: Watched) {
        self.watched_key_bytes += w.key.len();
        self.watched.push(w);
    }

    /// Empties the WATCH list, handing it back.
    pub fn take_watched(&mut self) -> Vec<Watched> {
        self.watched_key_bytes = 0;
        std::mem::take(&mut self.watched)
    }

    /// A multishot receive's `bytes`, about to be copied into the input buffer: a
    /// connection that has sent only small bursts lately goes back to a `RECV_SMALL` buffer
    /// while its buffer is empty (as `prepare_recv_buf` does before a receive of its own).
    pub fn take_copied(&mut self, bytes: &[u8]) {
        self.small_recvs = next_small_recvs(self.small_recvs, bytes.len());
        self.recv_turn_bytes += bytes.len();
        let buf = self.inbuf.get_or_insert_with(Vec::new);
        if buf.is_empty() {
            if self.small_recvs >= SMALL_RECVS_TO_SHRINK && buf.capacity() > RECV_SMALL {
                *buf = Vec::with_capacity(RECV_SMALL);
            } else if buf.capacity() < RECV_SMALL {
                buf.reserve(RECV_SMALL);
            }
        }
        let capacity = buf.capacity();
        buf.extend_from_slice(bytes);
        if buf.capacity() > capacity.max(RECV_FULL_MAX) {
            self.inbuf_grown_by_copies = true;
        }
    }

    /// Counts a receive of `bytes`, into `offered` bytes of free space, toward the sizing of
    /// the next receive.
    pub fn note_received(&mut self, bytes: usize, offered: usize) {
        self.small_recvs = next_small_recvs(self.small_recvs, bytes);
        self.recv_grow = next_recv_grow(self.recv_grow, bytes, offered);
    }

    /// Bytes waiting in the input buffer (0 while a receive is in flight).
    pub fn query_len(&self) -> usize {
        self.inbuf.as_ref().map_or(0, |b| {
            b.len()
                - self
                    .parser
                    .as_ref()
                    .map_or(0, |p| p.consumed())
                    .min(b.len())
        })
    }

    pub fn out_pending(&self) -> usize {
        self.out.len()
    }

    /// An attached replica (PSYNC or SYNC accepted): it gets the replication stream.
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.replica.as_ref().is_some_and(|r| r.attached())
    }

    pub fn is_blocked(&self) -> bool {
        self.mode == Mode::Blocked
    }

    pub fn in_multi(&self) -> bool {
        self.mode == Mode::Multi
    }

    /// Inside MULTI: the or-ed flags of the commands queued so far.
    #[inline]
    pub fn multi_flags(&self) -> Option<u32> {
        if self.mode != Mode::Multi {
            return None;
        }
        self.multi.as_ref().map(|m| m.flags)
    }

    /// Enters MULTI with an empty queue (the kept one, if any).
    pub fn begin_multi(&mut self) {
        self.mode = Mode::Multi;
        if self.multi.is_none() {
            self.multi = Some(Box::default());
        }
    }

    /// The queue of the transaction in progress.
    pub fn queue_mut(&mut self) -> Option<&mut MultiState> {
        if self.mode != Mode::Multi {
            return None;
        }
        self.multi.as_deref_mut()
    }

    /// Leaves MULTI, handing back the queue (None if it was not in MULTI).
    pub fn end_multi(&mut self) -> Option<Box<MultiState>> {
        if self.mode != Mode::Multi {
            return None;
        }
        self.mode = Mode::Normal;
        self.multi.take()
    }

    /// Keeps an ended transaction's queue, emptied, for the next MULTI, unless it grew past
    /// `MULTI_KEEP_BYTES` (a one-off huge transaction does not pin its memory).
    pub fn recycle_multi(&mut self, mut m: Box<MultiState>) {
        if self.mode == Mode::Multi || self.multi.is_some() {
            return;
        }
        if m.held_bytes() > MULTI_KEEP_BYTES {
            return;
        }
        m.bytes.clear();
        m.spans.clear();
        m.commands.clear();
        m.flags = 0;
        m.error = false;
        self.multi = Some(m);
    }

    pub fn inflight(&self) -> bool {
        self.send_inflight || self.recv_inflight
    }
}

/// The small-receive count after a receive of `bytes`.
fn next_small_recvs(count: u8, bytes: usize) -> u8 {
    if bytes <= RECV_SMALL / 2 {
        count.saturating_add(1).min(SMALL_RECVS_TO_SHRINK)
    } else {
        0
    }
}

/// The growth step after a receive of `bytes` into `offered` free bytes: doubled (up to
/// `RECV_FULL_MAX`) when the receive filled the space, as more was probably waiting; halved
/// (down to `RECV_CHUNK`) when it used at most a quarter of it.
fn next_recv_grow(grow: usize, bytes: usize, offered: usize) -> usize {
    if bytes >= offered {
        (grow * 2).min(RECV_FULL_MAX)
    } else if bytes <= offered / 4 {
        (grow / 2).max(RECV_CHUNK)
    } else {
        grow
    }
}

/// Sizes the buffer for the next receive. A connection that has only sent small bursts lately
/// works in `RECV_SMALL` buffers: an empty larger one is swapped for a small one (the only
/// allocation, once per change of pace), and one with a partial command pending grows only when
/// less than half of `RECV_SMALL` is free. Otherwise the receive gets at least a quarter of
/// `grow` free (the connection's `recv_grow`), growing by `grow`.
pub fn prepare_recv_buf(buf: &mut Vec<u8>, small_recvs: u8, grow: usize) {
    let small = small_recvs >= SMALL_RECVS_TO_SHRINK;
    if small && buf.is_empty() && buf.capacity() > RECV_SMALL {
        *buf = Vec::with_capacity(RECV_SMALL);
    }
    let (free_min, grow) = if small {
        (RECV_SMALL / 2, RECV_SMALL)
    } else {
        (grow / 4, grow)
    };
    if buf.capacity() - buf.len() < free_min {
        buf.reserve(grow);
    }
}

/// Makes room in `buf` for the `want` bytes still missing from the argument being received
/// (at most `max`). A big argument gets exactly that plus the free space a receive asks for,
/// as Redis preallocates one: grown by doubling, the buffer could reach twice the argument,
/// and `prepare_recv_buf` would double it once more when only its last bytes were missing;
/// that memory counts against the client (`memory_bytes`, client eviction).
pub fn reserve_for_argument(buf: &mut Vec<u8>, want: usize, max: usize) {
    let want = want.min(max);
    let free = buf.capacity() - buf.len();
    if want >= BIG_ARG_BYTES {
        let room = want + RECV_CHUNK / 4;
        if free < room {
            buf.reserve_exact(room);
        }
    } else if want > 0 && free < want {
        buf.reserve(want);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_argument_gets_its_size_and_the_buffer_does_not_double_at_its_end() {
        // Without the exact reservation, a 2 MB argument left the buffer at 4 MB: the
        // receive of its last bytes found less than a quarter chunk free and doubled it.
        let arg = 2 * 1024 * 1024;
        let mut buf = b"*1\r\n$2097152\r\n".to_vec();
        let header = buf.len();
        reserve_for_argument(&mut buf, arg + 2, usize::MAX);
        let cap = buf.capacity();
        assert!(cap >= header + arg + 2 + RECV_CHUNK / 4);
        assert!(cap < header + arg + 2 * RECV_CHUNK);
        // The argument arrives but for its last few bytes.
        buf.resize(header + arg - 10, b'v');
        reserve_for_argument(&mut buf, 12, usize::MAX);
        prepare_recv_buf(&mut buf, 0, RECV_CHUNK);
        assert_eq!(buf.capacity(), cap);
        // A small argument still grows the ordinary way.
        let mut small = Vec::with_capacity(RECV_SMALL);
        small.extend_from_slice(b"*1\r\n$1000\r\n");
        reserve_for_argument(&mut small, 1002, usize::MAX);
        assert!(small.capacity() - small.len() >= 1002);
        // Capped at the query buffer limit.
        let mut capped = Vec::new();
        reserve_for_argument(&mut capped, 1 << 30, 1 << 20);
        assert!(capped.capacity() < (1 << 20) + RECV_CHUNK);
    }

    #[test]
    fn receive_buffer_starts_small_grows_for_bursts_and_shrinks_after_small_receives() {
        // A new connection: small.
        let mut buf = Vec::new();
        prepare_recv_buf(&mut buf, SMALL_RECVS_TO_SHRINK, RECV_CHUNK);
        assert_eq!(buf.capacity(), RECV_SMALL);
        // A full small buffer (a burst): the next receive gets a whole chunk.
        buf.resize(RECV_SMALL, b'x');
        prepare_recv_buf(&mut buf, 0, RECV_CHUNK);
        assert!(buf.capacity() - buf.len() >= RECV_CHUNK);
        // A partial command is never dropped, however small the receives were.
        buf.truncate(10);
        prepare_recv_buf(&mut buf, SMALL_RECVS_TO_SHRINK, RECV_CHUNK);
        assert_eq!(&buf[..], &[b'x'; 10]);
        assert!(buf.capacity() - buf.len() >= RECV_CHUNK / 4);
        // Empty, but too few small receives yet: stays large.
        buf.clear();
        prepare_recv_buf(&mut buf, SMALL_RECVS_TO_SHRINK - 1, RECV_CHUNK);
        assert!(buf.capacity() >= RECV_CHUNK);
        // Empty after enough small receives: back to small.
        prepare_recv_buf(&mut buf, SMALL_RECVS_TO_SHRINK, RECV_CHUNK);
        assert_eq!(buf.capacity(), RECV_SMALL);
        // A partial command in a small buffer with room left: kept as it is (a command typed
        // or sent in pieces does not make the buffer grow and shrink).
        buf.extend_from_slice(b"*1\r\n");
        prepare_recv_buf(&mut buf, SMALL_RECVS_TO_SHRINK, RECV_CHUNK);
        assert_eq!(buf.capacity(), RECV_SMALL);
        assert_eq!(&buf[..], b"*1\r\n");
        // Less than half of it free: it grows, keeping the bytes.
        buf.resize(RECV_SMALL / 2 + 1, b'y');
        prepare_recv_buf(&mut buf, SMALL_RECVS_TO_SHRINK, RECV_CHUNK);
        assert!(buf.capacity() - buf.len() >= RECV_SMALL / 2);
        assert_eq!(&buf[..4], b"*1\r\n");
        // After a large receive the same buffer gets a chunk.
        prepare_recv_buf(&mut buf, 0, RECV_CHUNK);
        assert!(buf.capacity() - buf.len() >= RECV_CHUNK / 4);
    }

    #[test]
    fn receives_that_fill_the_buffer_ask_for_more_up_to_the_cap() {
        let mut g = RECV_CHUNK;
        for _ in 0..10 {
            g = next_recv_grow(g, 1000, 1000);
        }
        assert_eq!(g, RECV_FULL_MAX);
        // Half used: kept; a quarter or less: halved, down to a chunk.
        assert_eq!(next_recv_grow(g, g / 2, g), g);
        assert_eq!(next_recv_grow(g, g / 4, g), g / 2);
        for _ in 0..10 {
            g = next_recv_grow(g, 10, 1000);
        }
        assert_eq!(g, RECV_CHUNK);
        // A big step gives a receive that much room.
        let mut buf = Vec::new();
        prepare_recv_buf(&mut buf, 0, RECV_FULL_MAX);
        assert!(buf.capacity() >= RECV_FULL_MAX);
    }

    #[test]
    fn small_receive_count_saturates_and_resets_on_a_large_receive() {
        let mut n = 0;
        for _ in 0..20 {
            n = next_small_recvs(n, 40);
        }
        assert_eq!(n, SMALL_RECVS_TO_SHRINK);
        assert_eq!(next_small_recvs(n, RECV_SMALL / 2 + 1), 0);
        assert_eq!(next_small_recvs(0, RECV_SMALL / 2), 1);
    }
}
