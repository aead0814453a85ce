//! Keyspace notifications: the `notify-keyspace-events` classes and the delivery of an event
//! as Pub/Sub messages on `__keyspace@<db>__:<key>` (message: the event) and
//! `__keyevent@<db>__:<event>` (message: the key).
//!
//! Commands state their events through `Ctx::notify` (class, event name, key) at the point
//! Redis 7.0 fires them; keys the server deletes on its own fire `expired` and `evicted` from
//! `Server::record_deletion`. An event whose class is not enabled costs one test; an enabled
//! one while nobody is subscribed to anything costs one more, since no channel name needs to
//! be built then.
//!
//! Invariant: the flags hold only the bits below; `A` is the union of the data classes
//! (`g$lshzxetd`), without `m` (key misses) and `n` (new keys), as in Redis 7.0.

use crate::cmd::pubsub::{publish, Caller};
use crate::pubsub::Kind;
use crate::server::Server;

/// Event classes, Redis's NOTIFY_* bits.
pub mod class {
    /// K: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// E: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// g: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// $: string commands.
    pub const STRING: u32 = 1 << 3;
    /// l: list commands.
    pub const LIST: u32 = 1 << 4;
    /// s: set commands.
    pub const SET: u32 = 1 << 5;
    /// h: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// z: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// x: a key deleted because its time to live ran out.
    pub const EXPIRED: u32 = 1 << 8;
    /// e: a key deleted by eviction (maxmemory).
    pub const EVICTED: u32 = 1 << 9;
    /// t: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// m: a read found no key.
    pub const KEY_MISS: u32 = 1 << 11;
    /// d: module key types (none in ringkv, accepted for compatibility).
    pub const MODULE: u32 = 1 << 13;
    /// n: a new key was created.
    pub const NEW: u32 = 1 << 14;
    /// A: every data class.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// The characters of `notify-keyspace-events`, in the order CONFIG GET writes them.
const CHARS: [(u8, u32); 11] = [
    (b'g', class::GENERIC),
    (b'$', class::STRING),
    (b'l', class::LIST),
    (b's', class::SET),
    (b'h', class::HASH),
    (b'z', class::ZSET),
    (b'x', class::EXPIRED),
    (b'e', class::EVICTED),
    (b't', class::STREAM),
    (b'd', class::MODULE),
    (b'n', class::NEW),
];

/// Reads a `notify-keyspace-events` value (Redis's `keyspaceEventsStringToFlags`).
pub fn parse(s: &[u8]) -> Result<u32, String> {
    let mut flags = 0;
    for &c in s {
        flags |= match c {
            b'A' => class::ALL,
            b'K' => class::KEYSPACE,
            b'E' => class::KEYEVENT,
            b'm' => class::KEY_MISS,
            _ => match CHARS.iter().find(|(ch, _)| *ch == c) {
                Some(&(_, bit)) => bit,
                None => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
            },
        };
    }
    Ok(flags)
}

/// Writes flags the way CONFIG GET shows them (Redis's `keyspaceEventsFlagsToString`: `A`
/// stands for the whole union and then hides `n`, as Redis 7.0 does).
pub fn format(flags: u32) -> String {
    let mut s = String::new();
    if flags & class::ALL == class::ALL {
        s.push('A');
    } else {
        for (c, bit) in CHARS {
            if flags & bit != 0 {
                s.push(c as char);
            }
        }
    }
    for (c, bit) in [
        ('K', class::KEYSPACE),
        ('E', class::KEYEVENT),
        ('m', class::KEY_MISS),
    ] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// Fires `event` on `key` of database `db` if its class is enabled: a message on the
/// keyspace channel and one on the keyevent channel, as the K and E flags ask. `caller` is
/// the running command's client and reply buffer, if a command fires it.
pub fn fire(
    srv: &mut Server,
    caller: &mut Option<Caller<'_>>,
    class: u32,
    event: &str,
    db: usize,
    key: &[u8],
) {
    let flags = srv.config.notify_keyspace_events;
    if flags & class == 0 || srv.pubsub.is_empty() {
        return;
    }
    let mut chan = std::mem::take(&mut srv.notify_channel);
    let mut n = itoa::Buffer::new();
    let db_text = n.format(db).as_bytes();
    if flags & class::KEYSPACE != 0 {
        chan.clear();
        chan.extend_from_slice(b"__keyspace@");
        chan.extend_from_slice(db_text);
        chan.extend_from_slice(b"__:");
        chan.extend_from_slice(key);
        publish(srv, caller, Kind::Channel, &chan, event.as_bytes());
    }
    if flags & class::KEYEVENT != 0 {
        chan.clear();
        chan.extend_from_slice(b"__keyevent@");
        chan.extend_from_slice(db_text);
        chan.extend_from_slice(b"__:");
        chan.extend_from_slice(event.as_bytes());
        publish(srv, caller, Kind::Channel, &chan, key);
    }
    srv.notify_channel = chan;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_and_write_as_redis_7_0() {
        // Pairs checked against redis-server 7.0.15's CONFIG SET / GET.
        for (set, get) in [
            ("KEA", "AKE"),
            ("Kg", "gK"),
            ("Elx", "lxE"),
            ("", ""),
            ("KEAm", "AKEm"),
            ("Kgn", "gnK"),
            ("KEA$lshzxetdmn", "AKEm"),
            ("KEgxetd", "gxetdKE"),
        ] {
            assert_eq!(format(parse(set.as_bytes()).unwrap()), get, "{set}");
        }
        assert!(parse(b"Q").is_err());
        // A hides n in the written form but keeps it.
        assert_ne!(parse(b"An").unwrap() & class::NEW, 0);
    }
}
