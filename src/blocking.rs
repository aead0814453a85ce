//! The registry of clients blocked on keys (BLPOP and friends, XREAD and XREADGROUP), as Redis 7.0's `blocked.c`
//! keeps it: who waits on which key, until when, and which keys are ready to serve them.
//! It is plain data: blocking a client, serving it and timing it out are done by the
//! blocking commands' family (`cmd::blocking`), which owns the serve functions and reaches
//! the server; this module knows neither.
//!
//! State ([`Blocking`], one per server):
//! - `waits[db]`: key → FIFO of waiters (slot + generation), per database *index* (SWAPDB
//!   swaps the data, not the waiters, as in Redis).
//! - `clients`: slot → the blocked client's [`Request`] (keys, wanted type, [`Serve`] kind,
//!   deadline) and bookkeeping.
//! - `deadlines`: (deadline_ms, block id) → slot, for the clients with a timeout. The loop
//!   arms one ring timeout for the first entry (see `EventLoop::sync_block_timer`).
//! - `ready`: keys that may now serve waiters, in signal order, without duplicates.
//!
//! Invariants (`check_invariants`): a slot is in `clients` iff its connection's mode is
//! `Blocked`; every waiter entry refers to a client in `clients` with the same generation,
//! db and that key among its keys, and every key of a blocked client has exactly one entry
//! for it; a client has a deadline entry iff its deadline is non-zero; no queue is empty;
//! `ready` and its set hold the same keys.
//!
//! Everything is bounded by the number of blocked clients, itself bounded by maxclients: one
//! record and one deadline entry per client, one queue entry per (client, distinct key).

use crate::keyspace::value::ValueType;
use crate::types::list::End;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// How a waiter is served once its key is ready (the serve functions live with the blocking
/// commands, in `cmd::blocking`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Serve {
    /// BLPOP, BRPOP, BLMPOP: pop from the list.
    Pop,
    /// BLMOVE, BRPOPLPUSH: move one element to `target`.
    Move,
    /// BZPOPMIN, BZPOPMAX, BZMPOP: pop from the sorted set.
    ZPop,
    /// XREAD, XREADGROUP: read new entries of the stream (`Request::stream` says which).
    XRead,
}

/// What a client blocked in XREAD / XREADGROUP reads once served.
pub struct StreamWait {
    /// Per key, the ID after which entries are new (for a group: replaced by the group's
    /// last ID when served).
    pub after: Vec<(Box<[u8]>, crate::types::stream::StreamId)>,
    /// XREADGROUP's group and consumer.
    pub group: Option<(Vec<u8>, Vec<u8>)>,
    pub noack: bool,
    /// Entries to read at most (Redis's `xread_count`: COUNT, else 1000).
    pub count: usize,
}

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
    pub serve: Serve,
    /// For `Serve::XRead`.
    pub stream: Option<Box<StreamWait>>,
}

/// One blocked client's record.
pub struct Blocked {
    pub generation: u32,
    pub db: usize,
    /// Orders deadlines that fall on the same millisecond.
    id: u64,
    /// Index into the server's command list, for the stats counted when the client unblocks.
    pub cmd_idx: usize,
    pub req: Request,
    /// While the slow log is on: the command line as the slow log keeps it and the time
    /// the command took before blocking, logged when it completes (`cmd::slowlog`).
    pub slow: Option<crate::slowlog::Pending>,
    /// The µs the command ran before it blocked: its time in its latency histogram
    /// (`latency-tracking`) when it completes.
    pub run_us: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Waiter {
    pub slot: usize,
    pub generation: u32,
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

    /// The earliest deadline and the slot of its client.
    pub fn first_deadline(&self) -> Option<(u64, usize)> {
        self.deadlines
            .iter()
            .next()
            .map(|(&(d, _), &slot)| (d, slot))
    }

    /// Drops the earliest deadline entry (only for an entry without a client, which the
    /// invariants rule out).
    pub fn drop_first_deadline(&mut self) {
        self.deadlines.pop_first();
    }

    /// Whether anyone waits on `key` of `db`.
    pub fn has_waiters(&self, db: usize, key: &[u8]) -> bool {
        self.waits.get(db).is_some_and(|w| w.contains_key(key))
    }

    /// Whether a client blocked in XREADGROUP waits on `key` (it must hear of a deletion).
    pub fn has_group_readers(&self, db: usize, key: &[u8]) -> bool {
        self.waits
            .get(db)
            .and_then(|w| w.get(key))
            .is_some_and(|q| {
                q.iter().any(|w| {
                    self.clients
                        .get(&w.slot)
                        .is_some_and(|b| b.req.stream.as_ref().is_some_and(|s| s.group.is_some()))
                })
            })
    }

    /// Every waited key, by database index.
    pub fn waited_keys(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        self.waits
            .iter()
            .enumerate()
            .flat_map(|(db, w)| w.keys().map(move |k| (db, &k[..])))
    }

    /// The `i`-th waiter of `key` in `db`, in arrival order.
    pub fn waiter(&self, db: usize, key: &[u8], i: usize) -> Option<Waiter> {
        self.waits.get(db)?.get(key)?.get(i).copied()
    }

    /// What the client in `slot` waits for.
    pub fn blocked(&self, slot: usize) -> Option<&Blocked> {
        self.clients.get(&slot)
    }

    /// Takes the record of `slot` out of the client table, leaving its queue entries: a
    /// serve attempt either puts it back ([`Blocking::put_back`]) or [`Blocking::detach`]es it.
    /// The record of the client blocked in `slot`.
    pub fn blocked_mut(&mut self, slot: usize) -> Option<&mut Blocked> {
        self.clients.get_mut(&slot)
    }

    pub fn take(&mut self, slot: usize) -> Option<Blocked> {
        self.clients.remove(&slot)
    }

    pub fn put_back(&mut self, slot: usize, b: Blocked) {
        self.clients.insert(slot, b);
    }

    /// Blocked slots (in no particular order).
    pub fn slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.clients.keys().copied()
    }

    /// Keys signalled and not served yet.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    pub fn add(&mut self, slot: usize, generation: u32, db: usize, cmd_idx: usize, req: Request) {
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
                slow: None,
                run_us: 0,
            },
        );
    }

    /// Removes a blocked client from every queue and the deadline table.
    pub fn remove(&mut self, slot: usize) -> Option<Blocked> {
        let b = self.clients.remove(&slot)?;
        self.detach(slot, &b);
        Some(b)
    }

    /// Removes the queue and deadline entries of `b` (already taken out of `clients`).
    pub fn detach(&mut self, slot: usize, b: &Blocked) {
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
    pub fn signal(&mut self, db: usize, key: &[u8]) {
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

    pub fn pop_ready(&mut self) -> Option<(usize, Box<[u8]>)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn req(keys: &[&[u8]], deadline_ms: u64) -> Request {
        Request {
            keys: keys.iter().map(|k| Box::from(*k)).collect(),
            wants: ValueType::List,
            from: End::Left,
            to: End::Left,
            count: None,
            target: None,
            deadline_ms,
            serve: Serve::Pop,
            stream: None,
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
}
