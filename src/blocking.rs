//! Clients blocked on keys (BLPOP and friends), as Redis 7.0's `blocked.c` does it.
//!
//! A blocking command that finds no data calls [`block`] with a [`Request`]: the keys it waits
//! on, the value type that can serve it, a serve function and a timeout reply. From then on
//! the client is *blocked*: `Conn::blocked` is set, dispatch runs none of its commands (its
//! input stays buffered) until it is served, times out, is unblocked by CLIENT UNBLOCK, or
//! goes away.
//!
//! State ([`Blocking`], one per server):
//! - `waits[db]`: key → FIFO of waiters (slot + generation), per database *index* (SWAPDB
//!   swaps the data, not the waiters, as in Redis).
//! - `clients`: slot → the blocked client's request and bookkeeping.
//! - `deadlines`: (deadline_ms, block id) → slot, for the clients with a timeout. The loop
//!   arms one ring timeout for the first entry (see `EventLoop::sync_block_timer`).
//! - `ready`: keys that may now serve waiters, in signal order, without duplicates.
//!
//! Invariants (`check_invariants`): a slot is in `clients` iff its connection has
//! `blocked` set; every waiter entry refers to a client in `clients` with the same
//! generation, db and that key among its keys, and every key of a blocked client has exactly
//! one entry for it; a client has a deadline entry iff its deadline is non-zero; no queue is
//! empty.
//!
//! When keys become ready: every key a command modified is signalled
//! (`Server::signal_modified`, from `cmd::call` after each command, only while some client
//! is blocked or watching); [`signal_if_exists`] queues it as ready if it exists and has
//! waiters. Commands that replace a whole database (SWAPDB) re-check every waited key
//! ([`signal_all`], bounded by the number of waited keys). This is Redis's rule (a ready
//! signal whenever a key is added, served after the command) without hooks in the keyspace:
//! blocked clients only wait on keys that did not hold data of their type when they blocked,
//! and every ready key is served before the next command runs, so "exists now" means "was
//! created since" (a key of another type is signalled too, and serves nobody). Ready keys are
//! served when the outermost execution unit ends, so never in the middle of an EXEC.
//!
//! Serving ([`serve_ready`]) pops ready keys in order; for each, the waiters of that key are
//! served first-come-first-served while the key holds a value of the type they want (waiters
//! wanting another type are skipped, and stay). A serve function writes the waiter's reply
//! and returns whether it served; a served client is unblocked, its command is counted in
//! the stats, and its buffered input is processed next (an in-flight receive is cancelled so
//! that happens at once). After a serve, the waiter's `target` key (BLMOVE's destination) is
//! signalled, so a chain of BLMOVEs proceeds in the same call. Keys signalled while serving
//! go to the back of the queue, after the keys already queued, as in Redis. Each serve
//! unblocks one client and signals at most two keys, so one call does at most (ready keys +
//! 3 × blocked clients) steps.
//!
//! Timeouts: `deadlines` is ordered by deadline; `expire_due` runs once per loop turn and
//! answers every due client with its `on_timeout` reply. The event loop keeps exactly one
//! ring timeout armed for the earliest deadline (replaced, with a TIMEOUT_REMOVE, only when
//! an earlier deadline appears), so a 0.1 s timeout answers about 0.1 s later.
//!
//! Everything is bounded by the number of blocked clients, itself bounded by maxclients: one
//! record and one deadline entry per client, one queue entry per (client, distinct key).
//!
//! Inside EXEC (and, later, scripts) nothing blocks (Redis's CLIENT_DENY_BLOCKING): [`block`]
//! answers at once, BLMOVE and BRPOPLPUSH with a null bulk, the others with their timeout
//! reply.
//!
//! A serve is an execution unit of its own: the serve function states its effects
//! (`Ctx::propagate`: a served BLPOP is LPOP, BLMOVE is LMOVE …) and the keys it modified
//! (`Ctx::modified`, which also signals BLMOVE's destination so a chain of BLMOVEs proceeds).
//!

use crate::cmd::Ctx;
use crate::keyspace::value::ValueType;
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::types::list::End;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// Serves one waiter from `key`; returns false to leave it blocked.
pub type ServeFn = fn(&mut Ctx<'_>, &[u8], &Request) -> bool;
/// Writes the reply of a timed-out waiter.
pub type TimeoutFn = fn(&mut Reply<'_>);

/// The reply CLIENT UNBLOCK ... ERROR sends to the blocked client.
pub const ERR_UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// What a blocked client waits for and how to serve it.
pub struct Request {
    /// Distinct keys, sorted (filled in by `block`).
    pub keys: Vec<Box<[u8]>>,
    /// The value type that can serve this client.
    pub wants: ValueType,
    /// Which end to pop from (for sorted sets: Left = min, Right = max).
    pub from: End,
    /// Which end of `target` to push to.
    pub to: End,
    /// Elements to pop; None for the single-element forms.
    pub count: Option<usize>,
    /// A key the serve writes (BLMOVE's destination): signalled after each serve.
    pub target: Option<Box<[u8]>>,
    /// Unix ms at which the client times out; 0 = never.
    pub deadline_ms: u64,
    pub serve: ServeFn,
    pub on_timeout: TimeoutFn,
}

/// Redis 7.0 answers every list (and zset) timeout with a null array (`*-1`, RESP3 `_`),
/// BLMOVE and BRPOPLPUSH included.
pub fn timeout_null_array(r: &mut Reply<'_>) {
    r.null_array();
}

struct Blocked {
    generation: u32,
    db: usize,
    /// Orders deadlines that fall on the same millisecond.
    id: u64,
    /// Index into `Server::all_commands`, for the stats counted when the client unblocks.
    cmd_idx: usize,
    req: Request,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Waiter {
    slot: usize,
    generation: u32,
}

/// Why a client stops being blocked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unblock {
    /// Its deadline passed.
    Timeout,
    /// CLIENT UNBLOCK ... TIMEOUT: the timeout reply.
    ClientTimeout,
    /// CLIENT UNBLOCK ... ERROR.
    ClientError,
    /// The connection is closing: no reply, no further input.
    Disconnect,
}

#[derive(Default)]
pub struct Blocking {
    waits: Vec<HashMap<Box<[u8]>, VecDeque<Waiter>>>,
    clients: HashMap<usize, Blocked>,
    deadlines: BTreeMap<(u64, u64), usize>,
    ready: VecDeque<(usize, Box<[u8]>)>,
    ready_set: HashSet<(usize, Box<[u8]>)>,
    next_id: u64,
}

impl Blocking {
    pub fn new(databases: usize) -> Blocking {
        Blocking {
            waits: (0..databases).map(|_| HashMap::new()).collect(),
            ..Blocking::default()
        }
    }

    /// INFO's blocked_clients.
    pub fn blocked_count(&self) -> usize {
        self.clients.len()
    }

    /// INFO's clients_in_timeout_table.
    pub fn timeout_count(&self) -> usize {
        self.deadlines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    pub fn is_blocked(&self, slot: usize) -> bool {
        self.clients.contains_key(&slot)
    }

    /// The earliest deadline of a blocked client.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.keys().next().map(|&(d, _)| d)
    }

    fn add(&mut self, slot: usize, generation: u32, db: usize, cmd_idx: usize, req: Request) {
        debug_assert!(!self.clients.contains_key(&slot));
        let id = self.next_id;
        self.next_id += 1;
        for k in &req.keys {
            self.waits[db]
                .entry(k.clone())
                .or_default()
                .push_back(Waiter { slot, generation });
        }
        if req.deadline_ms != 0 {
            self.deadlines.insert((req.deadline_ms, id), slot);
        }
        self.clients.insert(
            slot,
            Blocked {
                generation,
                db,
                id,
                cmd_idx,
                req,
            },
        );
    }

    /// Removes a blocked client from every queue and the deadline table.
    fn remove(&mut self, slot: usize) -> Option<Blocked> {
        let b = self.clients.remove(&slot)?;
        self.detach(slot, &b);
        Some(b)
    }

    /// Removes the queue and deadline entries of `b` (already taken out of `clients`).
    fn detach(&mut self, slot: usize, b: &Blocked) {
        let waits = &mut self.waits[b.db];
        for k in &b.req.keys {
            if let Some(q) = waits.get_mut(k) {
                // Serving takes waiters from the front: O(1) then, O(queue) otherwise.
                if q.front().is_some_and(|w| w.slot == slot) {
                    q.pop_front();
                } else {
                    q.retain(|w| w.slot != slot);
                }
                if q.is_empty() {
                    waits.remove(k);
                }
            }
        }
        if b.req.deadline_ms != 0 {
            self.deadlines.remove(&(b.req.deadline_ms, b.id));
        }
    }

    /// Queues `key` of `db` for serving if someone waits on it and it is not queued yet.
    fn signal(&mut self, db: usize, key: &[u8]) {
        let Some(waits) = self.waits.get(db) else {
            return;
        };
        if !waits.contains_key(key) {
            return;
        }
        let item = (db, Box::<[u8]>::from(key));
        if self.ready_set.insert(item.clone()) {
            self.ready.push_back(item);
        }
    }

    fn pop_ready(&mut self) -> Option<(usize, Box<[u8]>)> {
        let item = self.ready.pop_front()?;
        self.ready_set.remove(&item);
        Some(item)
    }

    /// Checks the invariants in the module doc against the connections.
    pub fn check_invariants(&self, conns: &slab::Slab<crate::net::conn::Conn>) {
        for (slot, c) in conns {
            assert_eq!(
                c.is_blocked(),
                self.clients.contains_key(&slot),
                "slot {slot}: Conn::blocked disagrees with the blocked table"
            );
        }
        let mut entries = 0usize;
        for (db, waits) in self.waits.iter().enumerate() {
            for (key, q) in waits {
                assert!(!q.is_empty(), "empty wait queue left in db {db}");
                for w in q {
                    let b = self
                        .clients
                        .get(&w.slot)
                        .expect("wait entry of a client that is not blocked");
                    assert_eq!(b.generation, w.generation, "stale wait entry");
                    assert_eq!(b.db, db, "wait entry in the wrong db");
                    assert!(
                        b.req.keys.binary_search(key).is_ok(),
                        "wait entry for a key not waited on"
                    );
                    let c = conns.get(w.slot).expect("wait entry of a freed slot");
                    assert_eq!(c.generation, w.generation, "wait entry of a reused slot");
                    assert!(!c.closed, "closed client still waiting");
                    entries += 1;
                }
            }
        }
        let mut want = 0usize;
        for (&slot, b) in &self.clients {
            assert!(
                b.req.keys.windows(2).all(|w| w[0] < w[1]),
                "slot {slot}: keys not sorted and distinct"
            );
            for k in &b.req.keys {
                let n = self.waits[b.db]
                    .get(k)
                    .map_or(0, |q| q.iter().filter(|w| w.slot == slot).count());
                assert_eq!(n, 1, "slot {slot}: one entry per waited key");
            }
            want += b.req.keys.len();
            if b.req.deadline_ms != 0 {
                assert_eq!(self.deadlines.get(&(b.req.deadline_ms, b.id)), Some(&slot));
            }
        }
        assert_eq!(entries, want, "wait entries without a blocked client");
        assert_eq!(
            self.deadlines.len(),
            self.clients
                .values()
                .filter(|b| b.req.deadline_ms != 0)
                .count(),
            "deadline entries without a blocked client"
        );
        assert_eq!(self.ready.len(), self.ready_set.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Timeout argument

/// Parses a blocking command's timeout in seconds as Redis 7.0.15 does
/// (`getTimeoutFromObjectOrReply` with UNIT_SECONDS): a long double, times 1000, rounded up
/// to whole milliseconds, converted to a 64-bit integer as x86 does (out of range or infinite
/// becomes i64::MIN, hence "negative"). Returns the deadline in unix ms, 0 for "forever".
///
/// Computed in f64 rather than long double: the milliseconds can differ by one from Redis's
/// for some decimal inputs, which no client can observe. A value too small for f64 but not
/// for long double (1e-400) still rounds up to 1 ms when positive, as in Redis.
pub fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<u64, &'static str> {
    const NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
    const NEGATIVE: &str = "ERR timeout is negative";
    let v = crate::util::num::parse_f64(arg).ok_or(NOT_FLOAT)?;
    let ms_f = if v == 0.0 && mantissa_nonzero(arg) {
        if arg.first() == Some(&b'-') {
            0.0
        } else {
            1.0
        }
    } else {
        (v * 1000.0).ceil()
    };
    // x86's cvttsd2si: anything outside i64 (or NaN) becomes i64::MIN. 2^63 is exact in f64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let ms: i64 = if (-TWO_63..TWO_63).contains(&ms_f) {
        ms_f as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(NEGATIVE);
    }
    if ms == 0 {
        return Ok(0);
    }
    // Redis adds in signed arithmetic and then orders deadlines as unsigned; a sum past
    // i64::MAX therefore never fires. As u64 the sum cannot wrap (ms <= i64::MAX).
    Ok(now_ms.saturating_add(ms as u64))
}

/// True when the digits of a float argument (before its exponent) are not all zero.
fn mantissa_nonzero(arg: &[u8]) -> bool {
    let body = match arg.first() {
        Some(b'+' | b'-') => &arg[1..],
        _ => arg,
    };
    if body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        body[2..]
            .iter()
            .take_while(|c| !matches!(c, b'p' | b'P'))
            .any(|c| c.is_ascii_hexdigit() && *c != b'0')
    } else {
        body.iter()
            .take_while(|c| !matches!(c, b'e' | b'E'))
            .any(|c| (b'1'..=b'9').contains(c))
    }
}

// ---------------------------------------------------------------------------------------------
// Blocking, serving, unblocking

/// Blocks the calling client on `keys` (duplicates are waited on once). The handler writes
/// no reply: the serve function, the timeout or CLIENT UNBLOCK will.
pub fn block<'k>(ctx: &mut Ctx<'_>, keys: impl IntoIterator<Item = &'k [u8]>, mut req: Request) {
    let mut ks: Vec<Box<[u8]>> = keys.into_iter().map(Box::from).collect();
    ks.sort_unstable();
    ks.dedup();
    req.keys = ks;
    if ctx.srv.frame.in_exec() {
        // Inside a transaction nothing blocks (Redis's CLIENT_DENY_BLOCKING): the moves
        // answer a null bulk, the pops their timeout reply.
        if req.target.is_some() {
            ctx.reply.null();
        } else {
            (req.on_timeout)(&mut ctx.reply);
        }
        return;
    }
    let slot = ctx.slot;
    let srv = &mut *ctx.srv;
    let conn = &mut srv.conns[slot];
    debug_assert!(!conn.is_blocked(), "a blocked client ran a command");
    conn.mode = crate::net::conn::Mode::Blocked;
    let (generation, db) = (conn.generation, conn.db);
    let cmd_idx = srv.current_cmd;
    srv.blocking.add(slot, generation, db, cmd_idx, req);
}

/// Signals `key` of `db` if it exists and has waiters.
pub fn signal_if_exists(srv: &mut Server, db: usize, key: &[u8]) {
    let Some(waits) = srv.blocking.waits.get(db) else {
        return;
    };
    if !waits.contains_key(key) {
        return;
    }
    let now_ms = srv.now_ms;
    if srv.dbs[db].peek(key, now_ms).is_some() {
        srv.blocking.signal(db, key);
    }
}

/// Signals every waited key that exists, in every database (Redis's
/// `scanDatabaseForReadyKeys`). Allocates only when it finds a ready key.
pub fn signal_all(srv: &mut Server) {
    let now_ms = srv.now_ms;
    let Server { blocking, dbs, .. } = srv;
    let mut found: Vec<(usize, Box<[u8]>)> = Vec::new();
    for (db, waits) in blocking.waits.iter().enumerate() {
        for k in waits.keys() {
            if dbs[db].peek(k, now_ms).is_some() {
                found.push((db, k.clone()));
            }
        }
    }
    for (db, k) in found {
        blocking.signal(db, &k);
    }
}

/// Serves the ready keys in order, including keys made ready while serving.
pub fn serve_ready(srv: &mut Server) {
    // Each step consumes a ready key; new ones come only from serves, each of which unblocks
    // a client, so this bound is never reached while the invariants hold.
    // A serve signals at most two keys (the one it popped, BLMOVE's destination).
    let steps_max = srv.blocking.ready.len() + 3 * srv.blocking.clients.len() + 1;
    for _ in 0..steps_max {
        let Some((db, key)) = srv.blocking.pop_ready() else {
            break;
        };
        serve_key(srv, db, &key);
    }
    debug_assert!(
        srv.blocking.ready.is_empty(),
        "serve_ready left keys behind"
    );
    #[cfg(debug_assertions)]
    srv.blocking.check_invariants(&srv.conns);
}

/// Serves the waiters of one key in FIFO order while it holds a value of the type they want.
fn serve_key(srv: &mut Server, db: usize, key: &[u8]) {
    let mut i = 0;
    loop {
        let Some(w) = srv.blocking.waits[db]
            .get(key)
            .and_then(|q| q.get(i))
            .copied()
        else {
            return;
        };
        let now_ms = srv.now_ms;
        let Some(vt) = srv.dbs[db].peek(key, now_ms).map(|v| v.value_type()) else {
            return;
        };
        let wants = srv.blocking.clients.get(&w.slot).map(|b| b.req.wants);
        if wants != Some(vt) {
            i += 1;
            continue;
        }
        if !serve_one(srv, w.slot, key) {
            i += 1;
        }
        // A served waiter left the queue, so index i is now the next one.
    }
}

/// Runs one waiter's serve function against `key`. Returns true if it was served (and is
/// now unblocked).
fn serve_one(srv: &mut Server, slot: usize, key: &[u8]) -> bool {
    let Some(b) = srv.blocking.clients.remove(&slot) else {
        return false;
    };
    let resp3 = srv.conns[slot].resp3;
    let mut out = std::mem::take(&mut srv.conns[slot].out);
    let start = out.len();
    let now_ms = srv.now_ms;
    // The serve is an execution unit of its own: the serve function states its effects
    // (a served BLPOP as LPOP, …) and the keys it modified, as a command does.
    let outer = std::mem::take(&mut srv.frame);
    srv.journal.begin_unit();
    let served = {
        let mut ctx = Ctx {
            srv: &mut *srv,
            slot,
            now_ms,
            reply: Reply::new(&mut out, resp3),
        };
        (b.req.serve)(&mut ctx, key, &b.req)
    };
    srv.frame = outer;
    srv.journal.end_unit();
    let failed = out.get(start) == Some(&b'-');
    srv.conns[slot].out = out;
    if srv.journal.idle() && srv.journal.has_published() {
        srv.publish_effects(Some(slot));
    }
    if !served {
        srv.blocking.clients.insert(slot, b);
        return false;
    }
    srv.blocking.detach(slot, &b);
    count_call(srv, b.cmd_idx, failed);
    srv.conns[slot].mode = crate::net::conn::Mode::Normal;
    srv.resume_client(slot);
    true
}

/// The blocked command's stats, counted when it completes (as Redis's
/// `updateStatsOnUnblock`).
fn count_call(srv: &mut Server, cmd_idx: usize, failed: bool) {
    if let Some(st) = srv.cmd_stats.get_mut(cmd_idx) {
        st.calls += 1;
        if failed {
            st.failed_calls += 1;
        }
    }
    if failed {
        srv.stats.total_error_replies += 1;
    }
    srv.stats.commands_processed += 1;
}

/// Unblocks `slot` without serving it: a timeout reply, the CLIENT UNBLOCK error, or
/// nothing for a closing connection. Returns false if it was not blocked.
pub fn unblock(srv: &mut Server, slot: usize, why: Unblock) -> bool {
    let Some(b) = srv.blocking.remove(slot) else {
        return false;
    };
    let Some(conn) = srv.conns.get_mut(slot) else {
        return true;
    };
    conn.mode = crate::net::conn::Mode::Normal;
    if why == Unblock::Disconnect {
        return true;
    }
    let mut reply = Reply::new(&mut conn.out, conn.resp3);
    if why == Unblock::ClientError {
        reply.error(ERR_UNBLOCKED);
        srv.stats.total_error_replies += 1;
    } else {
        (b.req.on_timeout)(&mut reply);
    }
    // Redis counts CLIENT UNBLOCK, in either mode, as a failed call of the blocked command.
    if let Some(st) = srv.cmd_stats.get_mut(b.cmd_idx) {
        st.calls += 1;
        if why != Unblock::Timeout {
            st.failed_calls += 1;
        }
    }
    srv.stats.commands_processed += 1;
    srv.resume_client(slot);
    #[cfg(debug_assertions)]
    srv.blocking.check_invariants(&srv.conns);
    true
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: true if a blocked client with that id was unblocked.
pub fn unblock_by_id(srv: &mut Server, id: u64, error: bool) -> bool {
    let slot = srv
        .blocking
        .clients
        .keys()
        .copied()
        .find(|&s| srv.conns.get(s).is_some_and(|c| c.id == id && !c.closed));
    match slot {
        Some(s) => unblock(
            srv,
            s,
            if error {
                Unblock::ClientError
            } else {
                Unblock::ClientTimeout
            },
        ),
        None => false,
    }
}

/// Times out every client whose deadline is at or before `srv.now_ms`. Returns how many.
pub fn expire_due(srv: &mut Server) -> usize {
    let now_ms = srv.now_ms;
    let mut n = 0;
    // Each step removes one deadline entry, so this ends within the table's size.
    while let Some((&(deadline, _), &slot)) = srv.blocking.deadlines.iter().next() {
        if deadline > now_ms {
            break;
        }
        if !unblock(srv, slot, Unblock::Timeout) {
            // Not reachable while the invariants hold; drop the orphan entry.
            srv.blocking.deadlines.pop_first();
        }
        n += 1;
    }
    #[cfg(debug_assertions)]
    if n > 0 {
        srv.blocking.check_invariants(&srv.conns);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop_serve(_: &mut Ctx<'_>, _: &[u8], _: &Request) -> bool {
        true
    }

    fn req(keys: &[&[u8]], deadline_ms: u64) -> Request {
        Request {
            keys: keys.iter().map(|k| Box::from(*k)).collect(),
            wants: ValueType::List,
            from: End::Left,
            to: End::Left,
            count: None,
            target: None,
            deadline_ms,
            serve: noop_serve,
            on_timeout: timeout_null_array,
        }
    }

    #[test]
    fn add_remove_keeps_tables_consistent() {
        let mut b = Blocking::new(2);
        b.add(3, 7, 0, 0, req(&[b"a", b"b"], 100));
        b.add(5, 9, 0, 0, req(&[b"a"], 0));
        b.add(6, 1, 1, 0, req(&[b"a"], 50));
        assert_eq!(b.blocked_count(), 3);
        assert_eq!(b.timeout_count(), 2);
        assert_eq!(b.next_deadline(), Some(50));
        let q: Vec<usize> = b.waits[0][&b"a"[..]].iter().map(|w| w.slot).collect();
        assert_eq!(q, [3, 5]);
        b.signal(0, b"a");
        b.signal(0, b"a");
        b.signal(0, b"zz");
        assert_eq!(b.ready.len(), 1);
        assert!(b.remove(3).is_some());
        assert!(!b.waits[0].contains_key(&b"b"[..]));
        assert_eq!(b.waits[0][&b"a"[..]].len(), 1);
        assert_eq!(b.timeout_count(), 1);
        assert!(b.remove(6).is_some());
        assert!(b.remove(5).is_some());
        assert!(b.remove(5).is_none());
        assert!(b.waits.iter().all(HashMap::is_empty));
        assert_eq!(b.next_deadline(), None);
    }

    fn conns(n: usize) -> slab::Slab<crate::net::conn::Conn> {
        use crate::net::conn::{Conn, Kind};
        let mut conns = slab::Slab::new();
        for i in 0..n {
            let (a, _b) = std::os::unix::net::UnixStream::pair().expect("socketpair");
            let fd = std::os::fd::OwnedFd::from(a);
            let c = Conn::new(
                i as u64 + 1,
                i as u32 + 10,
                fd,
                Kind::Unix,
                String::new(),
                String::new(),
                0,
                true,
            );
            conns.insert(c);
        }
        conns
    }

    #[test]
    fn invariants_hold_through_add_and_remove() {
        let mut conns = conns(3);
        let mut b = Blocking::new(1);
        for slot in 0..3 {
            let generation = conns[slot].generation;
            b.add(slot, generation, 0, 0, req(&[b"k", b"x"], slot as u64 * 10));
            conns[slot].mode = crate::net::conn::Mode::Blocked;
            b.check_invariants(&conns);
        }
        b.remove(1);
        conns[1].mode = crate::net::conn::Mode::Normal;
        b.check_invariants(&conns);
        b.remove(0);
        conns[0].mode = crate::net::conn::Mode::Normal;
        b.remove(2);
        conns[2].mode = crate::net::conn::Mode::Normal;
        b.check_invariants(&conns);
    }

    #[test]
    #[should_panic(expected = "Conn::blocked disagrees")]
    fn invariants_catch_a_client_missing_from_the_table() {
        let mut conns = conns(1);
        let b = Blocking::new(1);
        conns[0].mode = crate::net::conn::Mode::Blocked;
        b.check_invariants(&conns);
    }

    #[test]
    #[should_panic(expected = "stale wait entry")]
    fn invariants_catch_a_stale_generation() {
        let mut conns = conns(1);
        let mut b = Blocking::new(1);
        b.add(0, 999, 0, 0, req(&[b"k"], 0));
        conns[0].mode = crate::net::conn::Mode::Blocked;
        b.clients.get_mut(&0).unwrap().generation = conns[0].generation;
        b.check_invariants(&conns);
    }

    #[test]
    fn timeout_parsing_matches_redis() {
        let now = 1_000_000;
        assert_eq!(parse_timeout(b"0", now), Ok(0));
        assert_eq!(parse_timeout(b"-0", now), Ok(0));
        assert_eq!(parse_timeout(b"-0.0001", now), Ok(0));
        assert_eq!(parse_timeout(b"0.0001", now), Ok(now + 1));
        assert_eq!(parse_timeout(b"1e-400", now), Ok(now + 1));
        assert_eq!(parse_timeout(b"-1e-400", now), Ok(0));
        assert_eq!(parse_timeout(b"0.5", now), Ok(now + 500));
        assert_eq!(parse_timeout(b"0x10", now), Ok(now + 16_000));
        assert_eq!(parse_timeout(b"1.0005", now), Ok(now + 1001));
        for neg in [&b"-1"[..], b"inf", b"-inf", b"1e300", b"1e400"] {
            assert_eq!(
                parse_timeout(neg, now),
                Err("ERR timeout is negative"),
                "{neg:?}"
            );
        }
        for bad in [&b"x"[..], b"", b" 1", b"1 ", b"nan", b"1e3x"] {
            assert_eq!(
                parse_timeout(bad, now),
                Err("ERR timeout is not a float or out of range"),
                "{bad:?}"
            );
        }
        // Past i64::MAX ms after now: accepted, never fires.
        assert!(parse_timeout(b"9223372036854774", now).unwrap() > i64::MAX as u64);
    }
}
