//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, and RESET (Redis 7.0's `multi.c`
//! and `resetCommand`).
//!
//! MULTI puts the connection in `Mode::Multi`: `call()` then queues every command that is
//! not transaction control (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET carry `TX_CONTROL` in
//! the table) after checking it as if it were to run; a command refused at that point flags
//! the transaction, and EXEC then answers EXECABORT without running anything. EXEC runs the
//! queue through `call()` inside one journal unit, so its effects are published as one
//! MULTI … EXEC block and blocked clients are served only once it is over; an error inside
//! EXEC is that command's reply and the others still run.
//!
//! WATCH: [`Watches`] maps (database, key) to the connections watching it; the connection
//! keeps its list in `Conn::watched`. A key signalled as modified (`Server::signal_modified`,
//! from any client's command, from expiry) marks its watchers `watch_dirty` and unwatches
//! them; FLUSHDB, FLUSHALL and SWAPDB go through [`touch_all_in_db`], which, as Redis, only
//! counts keys that exist on either side. A key that was already logically expired when
//! watched is flagged, so its deletion by expiry is not a change; a watched key that expires
//! (without being deleted yet) before EXEC aborts the EXEC.
//!
//! Invariants: every `(db, key, slot, id)` entry of `Watches` matches one entry of that
//! connection's `watched`, and the reverse; `entries` counts them, and is 0 iff no
//! connection watches anything (then signalling costs one comparison). Queued commands keep
//! their arguments in one flat buffer per transaction.

use super::call::call_queued;
use super::Ctx;
use crate::net::conn::{MultiState, Watched};
use crate::resp::{Argv, Span};
use crate::server::Server;
use std::collections::HashMap;

/// The connections (slot, client id) watching one key.
type Watchers = Vec<(usize, u64)>;

/// Who watches which key, per database index (SWAPDB swaps data, not watchers, as Redis).
pub struct Watches {
    keys: Vec<HashMap<Box<[u8]>, Watchers>>,
    entries: usize,
}

impl Watches {
    pub fn new(databases: usize) -> Watches {
        Watches {
            keys: (0..databases).map(|_| HashMap::new()).collect(),
            entries: 0,
        }
    }

    /// True when nobody watches anything.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    fn add(&mut self, db: usize, key: &[u8], slot: usize, id: u64) {
        self.keys[db]
            .entry(key.into())
            .or_default()
            .push((slot, id));
        self.entries += 1;
    }

    fn remove(&mut self, db: usize, key: &[u8], slot: usize, id: u64) {
        let Some(list) = self.keys[db].get_mut(key) else {
            return;
        };
        let before = list.len();
        list.retain(|&w| w != (slot, id));
        self.entries -= before - list.len();
        if list.is_empty() {
            self.keys[db].remove(key);
        }
    }

    /// Checks that the registry and the connections' lists describe the same watches.
    pub fn check_invariants(&self, conns: &slab::Slab<crate::net::conn::Conn>) {
        let mut n = 0;
        for (db, keys) in self.keys.iter().enumerate() {
            for (key, list) in keys {
                assert!(!list.is_empty(), "empty watcher list");
                for &(slot, id) in list {
                    let c = conns.get(slot).expect("watcher slot exists");
                    assert_eq!(c.id, id, "watcher id");
                    assert!(
                        c.watched.iter().any(|w| w.db == db && *w.key == **key),
                        "watcher does not list the key"
                    );
                    n += 1;
                }
            }
        }
        assert_eq!(n, self.entries, "watch entry count");
        let listed: usize = conns.iter().map(|(_, c)| c.watched.len()).sum();
        assert_eq!(listed, self.entries, "connections' watched lists");
    }
}

/// Forgets every key `slot` watches.
pub fn unwatch_all(srv: &mut Server, slot: usize) {
    let Some(conn) = srv.conns.get_mut(slot) else {
        return;
    };
    if conn.watched.is_empty() {
        return;
    }
    let id = conn.id;
    let list = conn.take_watched();
    for w in &list {
        srv.watches.remove(w.db, &w.key, slot, id);
    }
    if srv.watches.is_empty() {
        srv.update_expiry_logging();
    }
}

/// Whether `key` is in `db`'s table at all, expired or not (Redis's `dictFind`).
fn in_table(srv: &mut Server, db: usize, key: &[u8]) -> bool {
    // Time 0 is before every deadline: nothing is reaped by this look.
    srv.dbs[db].expire_at_ms(key, 0).is_some()
}

/// Whether `key` is in `db` with a deadline already passed (Redis's `keyIsExpired`).
fn logically_expired(srv: &mut Server, db: usize, key: &[u8]) -> bool {
    let now_ms = srv.now_ms;
    matches!(srv.dbs[db].expire_at_ms(key, 0), Some(Some(at)) if now_ms > at)
}

/// Marks the watchers of `key` in `db` as dirty (Redis's `touchWatchedKey`).
pub fn touch(srv: &mut Server, db: usize, key: &[u8]) {
    let Some(list) = srv.watches.keys.get(db).and_then(|k| k.get(key)) else {
        return;
    };
    let watchers = list.clone();
    // Whether the key is still in the table, expired or not: the same for every watcher.
    let present = in_table(srv, db, key);
    for (slot, id) in watchers {
        let Some(conn) = srv.conns.get_mut(slot).filter(|c| c.id == id) else {
            continue;
        };
        if let Some(w) = conn
            .watched
            .iter_mut()
            .find(|w| w.db == db && *w.key == *key && w.expired)
        {
            if !present {
                // It was expired when watched and is now deleted: logically no change.
                w.expired = false;
                continue;
            }
        }
        conn.watch_dirty = true;
        unwatch_all(srv, slot);
    }
}

/// FLUSHDB, FLUSHALL and SWAPDB: `emptied` loses its keys and, for SWAPDB, receives those of
/// `replaced_with`. Called before the data moves (Redis's `touchAllWatchedKeysInDb`).
pub fn touch_all_in_db(srv: &mut Server, emptied: usize, replaced_with: Option<usize>) {
    if srv.watches.is_empty() || srv.watches.keys[emptied].is_empty() {
        return;
    }
    let keys: Vec<Box<[u8]>> = srv.watches.keys[emptied].keys().cloned().collect();
    for key in keys {
        let in_emptied = in_table(srv, emptied, &key);
        let in_replacing = replaced_with.is_some_and(|r| in_table(srv, r, &key));
        if !in_emptied && !in_replacing {
            continue;
        }
        let replacing_expired = replaced_with.is_some_and(|r| logically_expired(srv, r, &key));
        let Some(list) = srv.watches.keys[emptied].get(&key) else {
            continue;
        };
        for (slot, id) in list.clone() {
            let Some(conn) = srv.conns.get_mut(slot).filter(|c| c.id == id) else {
                continue;
            };
            let Some(w) = conn
                .watched
                .iter_mut()
                .find(|w| w.db == emptied && w.key == key)
            else {
                continue;
            };
            if w.expired {
                if !in_replacing {
                    // An expired key deleted: no logical change.
                    w.expired = false;
                    continue;
                } else if replacing_expired {
                    continue;
                }
            } else if !in_emptied && replacing_expired {
                // A missing key replaced by an expired one: still missing.
                w.expired = true;
                continue;
            }
            conn.watch_dirty = true;
            unwatch_all(srv, slot);
        }
    }
}

/// Inside MULTI: a command that could not be queued makes EXEC abort.
pub fn flag_error(srv: &mut Server, slot: usize) {
    if let Some(m) = srv.conns.get_mut(slot).and_then(|c| c.queue_mut()) {
        m.error = true;
    }
}

/// Queues a checked command of a client in MULTI.
#[inline(never)]
pub fn queue(srv: &mut Server, slot: usize, idx: usize, c: &super::Command, argv: &Argv<'_>) {
    let conn = &mut srv.conns[slot];
    if conn.watch_dirty {
        // Already doomed: EXEC will not run it, so it is not kept (Redis answers QUEUED).
        return;
    }
    if let Some(m) = conn.queue_mut().filter(|m| !m.error) {
        // The arguments lie in one stretch of the input buffer (with their length lines
        // between them): it is copied in one piece and the spans are moved onto the copy.
        let (buf, spans) = argv.raw_parts();
        let lo = spans.iter().map(|s| s.start).min().unwrap_or(0);
        let hi = spans.iter().map(|s| s.end).max().unwrap_or(0);
        let base = m.bytes.len();
        m.bytes.extend_from_slice(&buf[lo..hi]);
        let first = m.spans.len();
        m.spans.extend(spans.iter().map(|s| Span {
            start: s.start - lo + base,
            end: s.end - lo + base,
        }));
        m.commands.push((idx, first..m.spans.len()));
        m.flags |= c.flags;
    }
}

/// Ends a transaction without running it, and unwatches (Redis's `discardTransaction`).
pub fn discard(srv: &mut Server, slot: usize) {
    if let Some(conn) = srv.conns.get_mut(slot) {
        if let Some(m) = conn.end_multi() {
            conn.recycle_multi(m);
        }
        conn.watch_dirty = false;
    }
    unwatch_all(srv, slot);
}

pub fn cmd_multi(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let conn = ctx.conn();
    if conn.in_multi() {
        return ctx.err("ERR MULTI calls can not be nested");
    }
    conn.begin_multi();
    ctx.reply.ok();
}

pub fn cmd_discard(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    if !ctx.conn().in_multi() {
        return ctx.err("ERR DISCARD without MULTI");
    }
    discard(ctx.srv, ctx.slot);
    ctx.reply.ok();
}

pub fn cmd_exec(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let slot = ctx.slot;
    let conn = ctx.conn();
    let Some(m) = conn.end_multi() else {
        return ctx.err("ERR EXEC without MULTI");
    };
    let m: Box<MultiState> = m;
    if m.error {
        discard(ctx.srv, slot);
        ctx.conn().recycle_multi(m);
        return ctx.err("EXECABORT Transaction discarded because of previous errors.");
    }
    // Watched keys that expired since the last command count before the verdict.
    ctx.srv.drain_expired();
    let aborted = ctx.conn().watch_dirty || watched_key_expired(ctx.srv, slot);
    discard(ctx.srv, slot);
    if aborted {
        ctx.conn().recycle_multi(m);
        return ctx.reply.null_array();
    }
    // EXEC's effects and modified keys are those its commands stated, each in its own call.
    ctx.srv.frame.set_propagated();
    ctx.srv.frame.set_signalled();
    ctx.reply.array(m.commands.len());
    // A transaction of the primary's stream: each command that fails is reported as Redis
    // reports it (`propagation-error-behavior`), under EXEC's name. (The AOF loader replays
    // a transaction's commands itself, `persist::aof`.)
    let from_master = crate::repl::replica::is_master_slot(ctx.srv, slot);
    for (idx, r) in m.commands.iter() {
        let argv = Argv::new(&m.bytes, &m.spans[r.clone()]);
        let start = ctx.reply.buf.len();
        call_queued(ctx.srv, slot, *idx, &argv, ctx.reply.buf);
        if !ctx.srv.conns.contains(slot) {
            return;
        }
        if from_master && ctx.reply.buf.get(start) == Some(&b'-') {
            let src = super::call::Source::Master;
            super::call::propagated_error(ctx.srv, slot, &ctx.reply.buf[start..], src);
        }
    }
    // HELLO inside the transaction may have switched the protocol.
    ctx.reply.resp3 = ctx.srv.conns[slot].resp3;
    ctx.conn().recycle_multi(m);
}

/// Redis's `isWatchedKeyExpired`: a watched key that was live when watched has expired.
fn watched_key_expired(srv: &mut Server, slot: usize) -> bool {
    let list: Vec<(usize, Box<[u8]>)> = srv.conns[slot]
        .watched
        .iter()
        .filter(|w| !w.expired)
        .map(|w| (w.db, w.key.clone()))
        .collect();
    list.iter().any(|(db, k)| logically_expired(srv, *db, k))
}

pub fn cmd_watch(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if ctx.conn().in_multi() {
        return ctx.err("ERR WATCH inside MULTI is not allowed");
    }
    if ctx.conn().watch_dirty {
        // Already doomed: watching more changes nothing.
        return ctx.reply.ok();
    }
    let (slot, db) = (ctx.slot, ctx.db_index());
    let was_empty = ctx.srv.watches.is_empty();
    for key in argv.iter().skip(1) {
        let conn = &ctx.srv.conns[slot];
        if conn.watched.iter().any(|w| w.db == db && *w.key == *key) {
            continue;
        }
        let id = conn.id;
        let expired = logically_expired(ctx.srv, db, key);
        ctx.srv.watches.add(db, key, slot, id);
        ctx.srv.conns[slot].add_watched(Watched {
            db,
            key: key.into(),
            expired,
        });
    }
    if was_empty {
        ctx.srv.update_expiry_logging();
    }
    ctx.reply.ok();
}

pub fn cmd_unwatch(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    unwatch_all(ctx.srv, ctx.slot);
    ctx.conn().watch_dirty = false;
    ctx.reply.ok();
}

/// RESET: back to a fresh connection's state (Redis's `clearClientConnectionState`).
pub fn cmd_reset(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    super::tracking::disable(ctx.srv, ctx.slot);
    discard(ctx.srv, ctx.slot);
    super::pubsub::unsubscribe_all(ctx.srv, ctx.slot);
    super::monitor::stop(ctx.srv, ctx.slot);
    ctx.conn().reply_mode = super::pause::reply_mode::ON;
    let open = ctx.srv.acl.default_open();
    let conn = ctx.conn();
    conn.db = 0;
    conn.resp3 = false;
    conn.name = None;
    conn.user = crate::acl::DEFAULT_USER;
    conn.authenticated = open;
    ctx.reply.resp3 = false;
    ctx.reply.simple("RESET");
}
