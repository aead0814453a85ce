//! The Pub/Sub registry: who is subscribed to which channel, shard channel and pattern.
//!
//! Plain data, like `blocking`: the commands (`cmd::pubsub`) subscribe and unsubscribe
//! connections and deliver messages; this keeps the two directions of every subscription in
//! step. Server side, a channel (or shard channel, or pattern) maps to its subscribers'
//! connection slots in subscription order, the order messages are delivered in; client side,
//! each subscribed connection holds a [`ClientSubs`] with its own channels, shard channels and
//! patterns (patterns in subscription order, as Redis lists them).
//!
//! Invariants: slot `s` is in the subscriber list of channel `c` exactly when `c` is in the
//! `channels` set of the `ClientSubs` of `s` (likewise for shard channels and patterns); a
//! name with no subscriber left is removed, so `channels_len` and friends are the numbers of
//! names with at least one subscriber (what PUBSUB and INFO report); a connection with no
//! subscription left holds no `ClientSubs`. Slots are valid because a connection is
//! unsubscribed from everything before its slot is freed (`Server::close`).

use std::collections::{HashMap, HashSet};

/// Channel names are chosen by clients: the map keeps std's keyed hasher so that no set of
/// names can be made to collide.
type Subscribers = HashMap<Box<[u8]>, Vec<usize>>;

/// The three kinds of subscription. Pattern subscriptions count with channel ones in the
/// replies of (P)SUBSCRIBE; shard channels are counted apart, as in Redis 7.0.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    /// The confirmation word of a subscription of this kind.
    pub fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    pub fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// One connection's subscriptions.
#[derive(Default, Debug)]
pub struct ClientSubs {
    pub channels: HashSet<Box<[u8]>>,
    /// In subscription order (PUNSUBSCRIBE without arguments answers in this order).
    pub patterns: Vec<Box<[u8]>>,
    pub shard: HashSet<Box<[u8]>>,
    /// Bytes of the names above, for the connection's memory figure.
    pub name_bytes: usize,
}

impl ClientSubs {
    /// Channels and patterns: the count SUBSCRIBE, PSUBSCRIBE and their opposites reply with.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Every subscription of every kind: while it is above 0 a RESP2 connection is in the
    /// Pub/Sub context.
    pub fn total(&self) -> usize {
        self.count() + self.shard.len()
    }

    /// The count a confirmation of `kind` carries.
    pub fn count_for(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.count(),
        }
    }

    pub fn has(&self, kind: Kind, name: &[u8]) -> bool {
        match kind {
            Kind::Channel => self.channels.contains(name),
            Kind::Shard => self.shard.contains(name),
            Kind::Pattern => self.patterns.iter().any(|p| &p[..] == name),
        }
    }

    /// Heap bytes held (approximate: the names and the tables' slots).
    pub fn held_bytes(&self) -> usize {
        self.name_bytes
            + (self.channels.capacity() + self.shard.capacity() + self.patterns.capacity())
                * std::mem::size_of::<Box<[u8]>>()
    }

    /// The names of one kind, in the order unsubscribing from all of them answers.
    pub fn names(&self, kind: Kind) -> Vec<Box<[u8]>> {
        match kind {
            Kind::Channel => self.channels.iter().cloned().collect(),
            Kind::Shard => self.shard.iter().cloned().collect(),
            Kind::Pattern => self.patterns.clone(),
        }
    }
}

/// The server side of every subscription.
#[derive(Default)]
pub struct PubSub {
    channels: Subscribers,
    shard: Subscribers,
    patterns: Subscribers,
    /// Pattern names in first-subscription order, so that delivery walks them in a stable
    /// order (Redis walks its dict's order, which a client cannot rely on either).
    pattern_order: Vec<Box<[u8]>>,
}

impl PubSub {
    fn map(&self, kind: Kind) -> &Subscribers {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Shard => &self.shard,
            Kind::Pattern => &self.patterns,
        }
    }

    fn map_mut(&mut self, kind: Kind) -> &mut Subscribers {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Shard => &mut self.shard,
            Kind::Pattern => &mut self.patterns,
        }
    }

    /// Subscribes `slot` (whose subscriptions are `subs`) to `name`. False if it already was.
    pub fn subscribe(
        &mut self,
        subs: &mut ClientSubs,
        slot: usize,
        kind: Kind,
        name: &[u8],
    ) -> bool {
        if subs.has(kind, name) {
            return false;
        }
        let boxed: Box<[u8]> = name.into();
        subs.name_bytes += name.len();
        match kind {
            Kind::Channel => {
                subs.channels.insert(boxed.clone());
            }
            Kind::Shard => {
                subs.shard.insert(boxed.clone());
            }
            Kind::Pattern => subs.patterns.push(boxed.clone()),
        }
        let map = self.map_mut(kind);
        match map.get_mut(name) {
            Some(list) => list.push(slot),
            None => {
                map.insert(boxed.clone(), vec![slot]);
                if kind == Kind::Pattern {
                    self.pattern_order.push(boxed);
                }
            }
        }
        true
    }

    /// Unsubscribes `slot` from `name`. False if it was not subscribed.
    pub fn unsubscribe(
        &mut self,
        subs: &mut ClientSubs,
        slot: usize,
        kind: Kind,
        name: &[u8],
    ) -> bool {
        let removed = match kind {
            Kind::Channel => subs.channels.remove(name),
            Kind::Shard => subs.shard.remove(name),
            Kind::Pattern => match subs.patterns.iter().position(|p| &p[..] == name) {
                Some(i) => {
                    subs.patterns.remove(i);
                    true
                }
                None => false,
            },
        };
        if !removed {
            return false;
        }
        subs.name_bytes -= name.len();
        let map = self.map_mut(kind);
        let emptied = match map.get_mut(name) {
            Some(list) => {
                // Bounded by the channel's subscriber count; keeps delivery order.
                if let Some(i) = list.iter().position(|&s| s == slot) {
                    list.remove(i);
                }
                list.is_empty()
            }
            None => false,
        };
        if emptied {
            map.remove(name);
            if kind == Kind::Pattern {
                self.pattern_order.retain(|p| &p[..] != name);
            }
        }
        debug_assert!(!emptied || !self.map(kind).contains_key(name));
        true
    }

    /// The subscribers of a channel (or shard channel), in subscription order.
    #[inline]
    pub fn subscribers(&self, kind: Kind, name: &[u8]) -> Option<&[usize]> {
        self.map(kind).get(name).map(Vec::as_slice)
    }

    /// Patterns with at least one subscriber, in first-subscription order.
    pub fn patterns(&self) -> &[Box<[u8]>] {
        &self.pattern_order
    }

    pub fn has_patterns(&self) -> bool {
        !self.pattern_order.is_empty()
    }

    /// True when nobody is subscribed to anything: publishing then costs one test.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty()
    }

    /// Names of one kind with at least one subscriber.
    pub fn len(&self, kind: Kind) -> usize {
        self.map(kind).len()
    }

    /// Names of one kind with at least one subscriber, in no particular order.
    pub fn names(&self, kind: Kind) -> impl Iterator<Item = &[u8]> {
        self.map(kind).keys().map(|k| &k[..])
    }

    /// Checks both directions against the clients' own lists (tests).
    pub fn check_invariants<'a>(&self, clients: impl Iterator<Item = (usize, &'a ClientSubs)>) {
        let mut seen = 0usize;
        for (slot, subs) in clients {
            assert!(
                subs.total() > 0,
                "a connection keeps ClientSubs with nothing in it"
            );
            for (kind, names) in [
                (Kind::Channel, subs.channels.iter().collect::<Vec<_>>()),
                (Kind::Shard, subs.shard.iter().collect()),
                (Kind::Pattern, subs.patterns.iter().collect()),
            ] {
                for n in names {
                    let list = self
                        .map(kind)
                        .get(n)
                        .expect("subscribed name is registered");
                    assert_eq!(list.iter().filter(|&&s| s == slot).count(), 1);
                    seen += 1;
                }
            }
        }
        let registered: usize = [Kind::Channel, Kind::Shard, Kind::Pattern]
            .iter()
            .flat_map(|&k| self.map(k).values())
            .map(|l| {
                assert!(!l.is_empty(), "a name without subscribers is kept");
                l.len()
            })
            .sum();
        assert_eq!(seen, registered);
        assert_eq!(self.pattern_order.len(), self.patterns.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_stay_in_step() {
        let mut ps = PubSub::default();
        let mut a = ClientSubs::default();
        let mut b = ClientSubs::default();
        assert!(ps.subscribe(&mut a, 1, Kind::Channel, b"news"));
        assert!(!ps.subscribe(&mut a, 1, Kind::Channel, b"news"));
        assert!(ps.subscribe(&mut b, 2, Kind::Channel, b"news"));
        assert!(ps.subscribe(&mut b, 2, Kind::Pattern, b"n*"));
        assert!(ps.subscribe(&mut b, 2, Kind::Shard, b"news"));
        assert_eq!(ps.subscribers(Kind::Channel, b"news"), Some(&[1, 2][..]));
        assert_eq!(b.count(), 2);
        assert_eq!(b.count_for(Kind::Shard), 1);
        assert_eq!(b.total(), 3);
        ps.check_invariants([(1, &a), (2, &b)].into_iter());
        assert!(ps.unsubscribe(&mut a, 1, Kind::Channel, b"news"));
        assert!(!ps.unsubscribe(&mut a, 1, Kind::Channel, b"news"));
        assert_eq!(ps.subscribers(Kind::Channel, b"news"), Some(&[2][..]));
        assert!(ps.unsubscribe(&mut b, 2, Kind::Channel, b"news"));
        assert_eq!(ps.subscribers(Kind::Channel, b"news"), None);
        assert_eq!(ps.len(Kind::Channel), 0);
        assert_eq!(ps.patterns().len(), 1);
        assert!(ps.unsubscribe(&mut b, 2, Kind::Pattern, b"n*"));
        assert!(!ps.has_patterns());
        assert!(ps.unsubscribe(&mut b, 2, Kind::Shard, b"news"));
        assert!(ps.is_empty());
        assert_eq!(b.name_bytes, 0);
    }
}
