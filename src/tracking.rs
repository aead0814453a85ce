//! Client-side caching, server side (Redis 7.0's `tracking.c`): which clients may hold which
//! keys in a local cache, which key prefixes broadcasting clients follow, and what each of
//! them must be told when a key changes.
//!
//! Plain data, as `pubsub` and `blocking`: `cmd::tracking` has the CLIENT subcommands and
//! delivers the invalidation messages (through `cmd::pubsub::send_to`); this keeps the
//! tables and the rules, and never touches a connection's output.
//!
//! **Key table** (default mode, and OPTIN/OPTOUT as CLIENT CACHING allows): each key a
//! tracking client read, mapped to the ids of the clients that read it. A key leaves the
//! table when it is invalidated (modified, expired, evicted, or dropped to keep the table
//! within `tracking-table-max-keys`): every id it held is told, and the key is forgotten
//! until it is read again. Keys are not per database: a change to `k` in any database
//! invalidates `k`, as in Redis. The table holds client ids, not slots: an id is never
//! reused, so the id of a client that stopped tracking or went away is simply skipped when
//! its key is invalidated, and leaves with the key. That is Redis's lazy cleanup, and why
//! `tracking_total_items` counts such ids too, as Redis's does; closing a client with many
//! keys costs nothing.
//!
//! **Prefix table** (BCAST mode): each prefix a broadcasting client follows, with its
//! followers and the keys modified under it since the last broadcast, each with the id of
//! the client that modified it last (none for the server's own deletions), which NOLOOP
//! needs. Broadcasts happen once per loop turn (Redis's `beforeSleep`): prefixes in byte
//! order, each prefix's keys in byte order, as Redis's radix trees give them.
//!
//! **Pending**: invalidations held until the running command (the whole EXEC for a
//! transaction) has written its reply — those for the client running it, as Redis 7.0
//! postpones them, and those for a blocked client, whose output a serve may be holding.
//!
//! Invariants (`check_invariants`): `clients` maps exactly the connections with tracking on
//! (id → slot); a slot follows prefix `p` in the prefix table exactly when its connection is
//! in BCAST mode with `p` among its prefixes; every prefix has a follower; every key in the
//! key table has at least one id, its ids sorted and distinct, and `items` is their total;
//! `bcast_waiting` is true when some prefix has keys waiting; `on` is true exactly when some
//! client tracks, the key table is not empty or something is pending.

use crate::ds::dict::Dict;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A client's tracking flags (Redis's `CLIENT_TRACKING_*`).
pub mod flag {
    /// Broadcast mode: told of every change under its prefixes, remembers no keys.
    pub const BCAST: u8 = 1 << 0;
    /// Keys are remembered only for a command (or transaction) after CLIENT CACHING yes.
    pub const OPTIN: u8 = 1 << 1;
    /// Keys are remembered except for a command (or transaction) after CLIENT CACHING no.
    pub const OPTOUT: u8 = 1 << 2;
    /// Not told of changes it made itself.
    pub const NOLOOP: u8 = 1 << 3;
    /// CLIENT CACHING was given for the next command or transaction.
    pub const CACHING: u8 = 1 << 4;
    /// The redirect target was found gone on a delivery.
    pub const BROKEN_REDIRECT: u8 = 1 << 5;
}

/// Where a client's invalidations go instead of its own connection: the target's id, and its
/// slot and generation when tracking was enabled (the id existed then, as Redis requires;
/// a different generation in that slot later means it went away).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub id: u64,
    pub slot: usize,
    pub generation: u32,
}

/// One connection's tracking state; `Conn::tracking` holds it exactly while tracking is on.
#[derive(Debug, Default)]
pub struct ClientTracking {
    /// `flag::*`.
    pub flags: u8,
    pub redirect: Option<Redirect>,
    /// BCAST prefixes, in byte order (CLIENT TRACKINGINFO lists them so).
    pub prefixes: BTreeSet<Box<[u8]>>,
}

impl ClientTracking {
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Whether the keys of the command running now are to be remembered: never in BCAST
    /// mode; in OPTIN mode only after CLIENT CACHING yes, in OPTOUT mode unless after
    /// CLIENT CACHING no (Redis's `trackingRememberKeys` test).
    pub fn remembers(&self) -> bool {
        if self.has(flag::BCAST) {
            return false;
        }
        let caching = self.has(flag::CACHING);
        !(self.has(flag::OPTIN) && !caching || self.has(flag::OPTOUT) && caching)
    }

    /// The redirect target's id, 0 when there is none (CLIENT GETREDIR, TRACKINGINFO).
    pub fn redirect_id(&self) -> u64 {
        self.redirect.map_or(0, |r| r.id)
    }
}

/// What an invalidation says: one key, or every key (a flush).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Key(Box<[u8]>),
    All,
}

/// An invalidation held for delivery after the running command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The tracking client it is for (its redirect is resolved on delivery).
    pub slot: usize,
    pub generation: u32,
    pub payload: Payload,
}

/// The followers of one prefix and the keys modified under it since the last broadcast.
#[derive(Debug, Default)]
struct Prefix {
    /// Slots, in the order they started following.
    slots: Vec<usize>,
    /// Key → id of the client that modified it last (None: the server, by expiry or
    /// eviction).
    keys: BTreeMap<Box<[u8]>, Option<u64>>,
}

/// One prefix's broadcast: its followers and its keys in byte order.
pub struct Broadcast {
    pub slots: Vec<usize>,
    pub keys: Vec<(Box<[u8]>, Option<u64>)>,
}

/// Redis's rule for two prefixes of one client: they overlap when one starts the other.
fn overlap(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// A prefix as Redis's `%s` prints it: up to its first NUL byte.
fn c_str(p: &[u8]) -> String {
    let end = memchr::memchr(0, p).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}

/// Why CLIENT TRACKING ON BCAST refuses a set of prefixes.
#[derive(Debug, PartialEq, Eq)]
pub struct PrefixClash {
    /// The error text.
    pub message: String,
    /// Redis's `checkPrefixCollisionsOrReply` returns the index of the clashing prefix when
    /// two given prefixes clash, and its caller takes any nonzero value as success: a clash
    /// that does not involve the first prefix answers the error and then enables tracking
    /// (and answers OK) anyway. True in that case.
    pub enabled_anyway: bool,
}

/// Redis's `checkPrefixCollisionsOrReply`: each given prefix, in order, against the
/// client's prefixes (byte order) and then against the given prefixes after it.
pub fn check_prefixes(
    existing: Option<&BTreeSet<Box<[u8]>>>,
    given: &[&[u8]],
) -> Result<(), PrefixClash> {
    for (i, p) in given.iter().enumerate() {
        if let Some(old) = existing.and_then(|e| e.iter().find(|o| overlap(o, p))) {
            return Err(PrefixClash {
                message: format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    c_str(p),
                    c_str(old)
                ),
                enabled_anyway: false,
            });
        }
        if let Some(q) = given[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(PrefixClash {
                message: format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    c_str(p),
                    c_str(q)
                ),
                enabled_anyway: i != 0,
            });
        }
    }
    Ok(())
}

/// Table-limit evictions per round are `EVICT_EFFORT_STEP` times the number of rounds in a
/// row that ended over the limit, plus one (Redis's `trackingLimitUsedSlots`): a bounded
/// amount of work per command, growing while the table stays over its limit.
const EVICT_EFFORT_STEP: usize = 100;

/// The server-wide tracking state.
pub struct Tracking {
    /// Key → ids of the clients that may cache it (sorted, distinct).
    keys: Dict<Vec<u64>>,
    /// Ids in the key table (`tracking_total_items`).
    items: u64,
    prefixes: BTreeMap<Box<[u8]>, Prefix>,
    /// Tracking clients: id → slot.
    clients: HashMap<u64, usize>,
    pending: Vec<Pending>,
    /// Table-limit rounds in a row that ended over the limit.
    limit_rounds: u32,
    bcast_waiting: bool,
    /// Someone tracks, a key is remembered or something is pending: commands and signals
    /// have tracking work to do. One field, so that the test costs one load.
    on: bool,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking::new()
    }
}

impl Tracking {
    pub fn new() -> Tracking {
        Tracking {
            keys: Dict::new(),
            items: 0,
            prefixes: BTreeMap::new(),
            clients: HashMap::new(),
            pending: Vec::new(),
            limit_rounds: 0,
            bcast_waiting: false,
            on: false,
        }
    }

    fn refresh(&mut self) {
        self.on = !self.clients.is_empty() || !self.keys.is_empty() || !self.pending.is_empty();
    }

    /// True when there is tracking work at all; false costs callers one test.
    #[inline]
    pub fn on(&self) -> bool {
        self.on
    }

    /// Clients with tracking on (INFO `tracking_clients`).
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// The slot of the tracking client with this id.
    pub fn slot_of(&self, id: u64) -> Option<usize> {
        self.clients.get(&id).copied()
    }

    /// Tracking clients as (id, slot), in id order (the order clients connected).
    pub fn clients_by_id(&self) -> Vec<(u64, usize)> {
        let mut v: Vec<(u64, usize)> = self.clients.iter().map(|(&i, &s)| (i, s)).collect();
        v.sort_unstable();
        v
    }

    /// Keys in the key table (INFO `tracking_total_keys`).
    pub fn total_keys(&self) -> usize {
        self.keys.len()
    }

    /// Client ids in the key table (INFO `tracking_total_items`).
    pub fn total_items(&self) -> u64 {
        self.items
    }

    /// Prefixes followed (INFO `tracking_total_prefixes`).
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// Redis's `enableTracking` for the connection in `slot` (client `id`) whose state is
    /// `state`: on (counted once), its mode flags replaced by `options` (CACHING kept, as
    /// Redis keeps it), its redirect replaced, and in BCAST mode `prefixes` followed (the
    /// empty prefix when none is given), added to those it already follows.
    pub fn enable(
        &mut self,
        state: &mut Option<Box<ClientTracking>>,
        slot: usize,
        id: u64,
        redirect: Option<Redirect>,
        options: u8,
        prefixes: &[&[u8]],
    ) {
        const MODE: u8 = flag::BCAST | flag::OPTIN | flag::OPTOUT | flag::NOLOOP;
        debug_assert_eq!(options & !MODE, 0, "enable takes mode flags only");
        let st = state.get_or_insert_with(Box::default);
        self.clients.insert(id, slot);
        st.flags = (st.flags & flag::CACHING) | (options & MODE);
        st.redirect = redirect;
        if options & flag::BCAST != 0 {
            let empty: [&[u8]; 1] = [b""];
            let list = if prefixes.is_empty() {
                &empty[..]
            } else {
                prefixes
            };
            for p in list {
                if st.prefixes.insert((*p).into()) {
                    self.prefixes
                        .entry((*p).into())
                        .or_default()
                        .slots
                        .push(slot);
                }
            }
        }
        self.refresh();
    }

    /// Redis's `disableTracking`: the connection stops following its prefixes and is no
    /// longer a tracking client. Its ids stay in the key table until their keys go.
    pub fn disable(&mut self, state: &mut Option<Box<ClientTracking>>, slot: usize, id: u64) {
        let Some(st) = state.take() else {
            return;
        };
        for p in &st.prefixes {
            let emptied = match self.prefixes.get_mut(p) {
                Some(entry) => {
                    entry.slots.retain(|&s| s != slot);
                    entry.slots.is_empty()
                }
                None => false,
            };
            if emptied {
                self.prefixes.remove(p);
            }
        }
        self.bcast_waiting = self.prefixes.values().any(|p| !p.keys.is_empty());
        self.clients.remove(&id);
        self.refresh();
    }

    /// Remembers that client `id` may cache `key` (Redis's `trackingRememberKeys`, one key).
    pub fn remember(&mut self, id: u64, key: &[u8]) {
        if self
            .keys
            .get(key)
            .is_some_and(|ids| ids.binary_search(&id).is_ok())
        {
            return;
        }
        let mut ids = self.keys.remove(key).unwrap_or_default();
        if let Err(i) = ids.binary_search(&id) {
            ids.insert(i, id);
            self.items += 1;
        }
        self.keys.insert(key, ids);
        self.refresh();
    }

    /// Takes `key` out of the key table: the ids of the clients to tell (None when nobody
    /// had it).
    pub fn take_key(&mut self, key: &[u8]) -> Option<Vec<u64>> {
        if self.keys.is_empty() {
            return None;
        }
        let ids = self.keys.remove(key)?;
        self.items -= ids.len() as u64;
        self.keys.shrink_if_needed();
        self.refresh();
        Some(ids)
    }

    /// Notes a modified key under every prefix it starts with, for the next broadcast, with
    /// the client that modified it (Redis's `trackingRememberKeyToBroadcast`).
    pub fn note_for_broadcast(&mut self, key: &[u8], modifier: Option<u64>) {
        // Bounded by the number of prefixes followed, as Redis's walk of its prefix table.
        for (p, entry) in &mut self.prefixes {
            if key.starts_with(p) {
                entry.keys.insert(key.into(), modifier);
                self.bcast_waiting = true;
            }
        }
    }

    pub fn has_prefixes(&self) -> bool {
        !self.prefixes.is_empty()
    }

    /// Some prefix has modified keys waiting for the broadcast.
    pub fn broadcast_waiting(&self) -> bool {
        self.bcast_waiting
    }

    /// The broadcasts due, prefix by prefix in byte order, emptying the keys waiting.
    pub fn take_broadcasts(&mut self) -> Vec<Broadcast> {
        self.bcast_waiting = false;
        let mut out = Vec::new();
        for entry in self.prefixes.values_mut() {
            if entry.keys.is_empty() {
                continue;
            }
            out.push(Broadcast {
                slots: entry.slots.clone(),
                keys: std::mem::take(&mut entry.keys).into_iter().collect(),
            });
        }
        out
    }

    /// Forgets every key (FLUSHDB, FLUSHALL: Redis tells every tracking client that all its
    /// keys are invalid rather than naming them).
    pub fn forget_all_keys(&mut self) {
        self.keys = Dict::new();
        self.items = 0;
        self.refresh();
    }

    /// Holds an invalidation for delivery after the running command.
    pub fn defer(&mut self, p: Pending) {
        self.pending.push(p);
        self.on = true;
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The held invalidations, in the order they were held.
    pub fn take_pending(&mut self) -> Vec<Pending> {
        let p = std::mem::take(&mut self.pending);
        self.refresh();
        p
    }

    /// How many keys the next table-limit round may drop for a limit of `max_keys` (0: no
    /// limit), or None when the table is within it.
    pub fn limit_effort(&mut self, max_keys: u64) -> Option<usize> {
        if max_keys == 0 || self.keys.len() as u64 <= max_keys {
            self.limit_rounds = 0;
            return None;
        }
        Some(EVICT_EFFORT_STEP * (self.limit_rounds as usize + 1))
    }

    /// Whether the key table holds more than `max_keys` (0: no limit).
    pub fn over_limit(&self, max_keys: u64) -> bool {
        max_keys != 0 && self.keys.len() as u64 > max_keys
    }

    /// Ends a table-limit round: `reached` when the table got within its limit.
    pub fn limit_round_done(&mut self, reached: bool) {
        self.limit_rounds = if reached {
            0
        } else {
            self.limit_rounds.saturating_add(1)
        };
    }

    /// A uniformly random key of the key table (the table limit drops random keys, as
    /// Redis's random walk does).
    pub fn random_key(&self, rand_u64: impl FnMut() -> u64) -> Option<Box<[u8]>> {
        self.keys.random_pair(rand_u64).map(|(k, _)| k.into())
    }

    /// Checks the invariants of the module doc against the connections' own states, given as
    /// (slot, client id, state) for every connection with tracking on. O(keys + prefixes).
    pub fn check_invariants<'a>(
        &self,
        tracking: impl Iterator<Item = (usize, u64, &'a ClientTracking)>,
    ) {
        let mut seen = 0usize;
        let mut follows = 0usize;
        for (slot, id, st) in tracking {
            seen += 1;
            assert_eq!(
                self.clients.get(&id),
                Some(&slot),
                "tracking client {id} in slot {slot} is not registered"
            );
            if !st.has(flag::BCAST) {
                assert!(
                    st.prefixes.is_empty(),
                    "client {id}: prefixes outside BCAST"
                );
            }
            for p in &st.prefixes {
                let entry = self
                    .prefixes
                    .get(p)
                    .expect("a followed prefix is in the prefix table");
                assert_eq!(entry.slots.iter().filter(|&&s| s == slot).count(), 1);
                follows += 1;
            }
        }
        assert_eq!(seen, self.clients.len(), "registered clients not tracking");
        let mut waiting = false;
        let slots: usize = self
            .prefixes
            .values()
            .map(|e| {
                assert!(!e.slots.is_empty(), "a prefix without followers is kept");
                waiting |= !e.keys.is_empty();
                e.slots.len()
            })
            .sum();
        assert_eq!(slots, follows, "prefix followers disagree with the clients");
        assert_eq!(waiting, self.bcast_waiting, "bcast_waiting is stale");
        self.keys.check_invariants();
        let mut items = 0u64;
        self.keys.for_each(|k, ids| {
            assert!(!ids.is_empty(), "key {k:?} kept with no ids");
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids of {k:?} unsorted");
            items += ids.len() as u64;
        });
        assert_eq!(items, self.items, "items count drifted");
        let on = !self.clients.is_empty() || !self.keys.is_empty() || !self.pending.is_empty();
        assert_eq!(on, self.on, "`on` is stale");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states<'a>(
        v: &'a [(usize, u64, &'a Option<Box<ClientTracking>>)],
    ) -> impl Iterator<Item = (usize, u64, &'a ClientTracking)> {
        v.iter()
            .filter_map(|(s, i, st)| st.as_deref().map(|st| (*s, *i, st)))
    }

    #[test]
    fn keys_remember_ids_once_and_leave_whole() {
        let mut t = Tracking::new();
        let mut a = None;
        let mut b = None;
        assert!(!t.on());
        t.enable(&mut a, 1, 10, None, 0, &[]);
        t.enable(&mut b, 2, 11, None, flag::OPTIN, &[]);
        assert!(t.on());
        t.remember(10, b"k");
        t.remember(10, b"k");
        t.remember(11, b"k");
        t.remember(11, b"j");
        assert_eq!((t.total_keys(), t.total_items()), (2, 3));
        t.check_invariants(states(&[(1, 10, &a), (2, 11, &b)]));
        assert_eq!(t.take_key(b"k"), Some(vec![10, 11]));
        assert_eq!(t.take_key(b"k"), None);
        assert_eq!((t.total_keys(), t.total_items()), (1, 1));
        // A client that stops tracking leaves its ids behind, as Redis does.
        t.disable(&mut b, 2, 11);
        assert_eq!(t.clients(), 1);
        assert_eq!(t.total_items(), 1);
        t.check_invariants(states(&[(1, 10, &a), (2, 11, &b)]));
        t.disable(&mut a, 1, 10);
        // The key left behind still needs signals.
        assert!(t.on());
        t.forget_all_keys();
        assert!(!t.on());
        t.check_invariants(states(&[]));
    }

    #[test]
    fn modes_decide_what_is_remembered() {
        let st = |flags| ClientTracking {
            flags,
            ..Default::default()
        };
        assert!(st(0).remembers());
        assert!(!st(flag::BCAST).remembers());
        assert!(!st(flag::OPTIN).remembers());
        assert!(st(flag::OPTIN | flag::CACHING).remembers());
        assert!(st(flag::OPTOUT).remembers());
        assert!(!st(flag::OPTOUT | flag::CACHING).remembers());
    }

    #[test]
    fn prefixes_are_followed_and_broadcast_in_byte_order() {
        let mut t = Tracking::new();
        let mut a = None;
        let mut b = None;
        t.enable(&mut a, 1, 10, None, flag::BCAST, &[b"user:", b"obj:"]);
        t.enable(&mut b, 2, 11, None, flag::BCAST | flag::NOLOOP, &[]);
        assert_eq!(t.total_prefixes(), 3);
        t.check_invariants(states(&[(1, 10, &a), (2, 11, &b)]));
        t.note_for_broadcast(b"user:2", Some(11));
        t.note_for_broadcast(b"obj:1", None);
        t.note_for_broadcast(b"user:1", Some(10));
        t.note_for_broadcast(b"user:2", Some(10));
        assert!(t.broadcast_waiting());
        let casts = t.take_broadcasts();
        assert!(!t.broadcast_waiting());
        let shown: Vec<(Vec<usize>, Vec<&[u8]>)> = casts
            .iter()
            .map(|c| {
                (
                    c.slots.clone(),
                    c.keys.iter().map(|(k, _)| &k[..]).collect(),
                )
            })
            .collect();
        // "" (b), then "obj:" (a), then "user:" (a); keys sorted, each once.
        assert_eq!(
            shown,
            vec![
                (vec![2], vec![&b"obj:1"[..], b"user:1", b"user:2"]),
                (vec![1], vec![&b"obj:1"[..]]),
                (vec![1], vec![&b"user:1"[..], b"user:2"]),
            ]
        );
        // The last modifier is kept for NOLOOP.
        assert_eq!(casts[2].keys[1].1, Some(10));
        // Enabling again adds prefixes; disabling drops the ones nobody follows.
        t.enable(&mut a, 1, 10, None, flag::BCAST, &[b"z"]);
        assert_eq!(a.as_ref().unwrap().prefixes.len(), 3);
        t.check_invariants(states(&[(1, 10, &a), (2, 11, &b)]));
        t.disable(&mut b, 2, 11);
        assert_eq!(t.total_prefixes(), 3);
        t.note_for_broadcast(b"user:9", None);
        t.disable(&mut a, 1, 10);
        assert_eq!(t.total_prefixes(), 0);
        assert!(!t.broadcast_waiting());
        t.check_invariants(states(&[]));
    }

    #[test]
    fn prefix_clashes_follow_redis_including_the_late_clash_that_still_enables() {
        assert_eq!(check_prefixes(None, &[b"a", b"b"]), Ok(()));
        let e = check_prefixes(None, &[b"a", b"ab"]).unwrap_err();
        assert_eq!(
            e.message,
            "ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap."
        );
        assert!(!e.enabled_anyway);
        // Checked against redis-server 7.0.15: the error, then OK, with all three followed.
        let e = check_prefixes(None, &[b"x", b"a", b"ab"]).unwrap_err();
        assert!(e.enabled_anyway);
        let old: BTreeSet<Box<[u8]>> = [&b"b"[..], b"c"].iter().map(|p| (*p).into()).collect();
        let e = check_prefixes(Some(&old), &[b"", b"d"]).unwrap_err();
        assert_eq!(
            e.message,
            "ERR Prefix '' overlaps with an existing prefix 'b'. Prefixes for a single client must not overlap."
        );
        assert_eq!(
            check_prefixes(Some(&old), &[b"c"]).unwrap_err().message,
            "ERR Prefix 'c' overlaps with an existing prefix 'c'. Prefixes for a single client must not overlap."
        );
        // Printed as C strings.
        let e = check_prefixes(None, &[b"p\0q", b"p\0q1"]).unwrap_err();
        assert!(e
            .message
            .starts_with("ERR Prefix 'p' overlaps with another provided prefix 'p'."));
    }

    #[test]
    fn the_table_limit_grows_its_effort_while_it_stays_over() {
        let mut t = Tracking::new();
        let mut a = None;
        t.enable(&mut a, 1, 10, None, 0, &[]);
        for i in 0..5u8 {
            t.remember(10, &[b'k', i]);
        }
        assert_eq!(t.limit_effort(0), None);
        assert_eq!(t.limit_effort(5), None);
        assert!(t.over_limit(2));
        assert_eq!(t.limit_effort(2), Some(100));
        t.limit_round_done(false);
        assert_eq!(t.limit_effort(2), Some(200));
        let mut x = 7u64;
        let k = t.random_key(|| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            x
        });
        assert!(k.is_some_and(|k| t.keys.len() == 5 && k[0] == b'k'));
        t.limit_round_done(true);
        assert_eq!(t.limit_effort(2), Some(100));
    }

    #[test]
    fn pending_keeps_order_and_counts_as_work() {
        let mut t = Tracking::new();
        t.defer(Pending {
            slot: 3,
            generation: 1,
            payload: Payload::Key(b"a"[..].into()),
        });
        t.defer(Pending {
            slot: 3,
            generation: 1,
            payload: Payload::All,
        });
        assert!(t.on() && t.has_pending());
        let p = t.take_pending();
        assert_eq!(p[1].payload, Payload::All);
        assert!(!t.on());
    }
}
