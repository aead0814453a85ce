//! The stream value in an RDB file (a child of `rdb`, using its length and string codec).
//!
//! ringkv writes `RDB_TYPE_STREAM_LISTPACKS_2` (19), Redis 7.0's layout, and reads it and the
//! older `RDB_TYPE_STREAM_LISTPACKS` (15), which lacks the first ID, the deleted and added
//! counters and the groups' read counters (derived on load as Redis 7.0 derives them):
//!
//! ```text
//! <len nodes> (<string 16-byte BE master ID> <string listpack>)*
//! <len length> <len last ms> <len last seq>
//! 19 only: <len first ms> <len first seq> <len max-deleted ms> <len max-deleted seq> <len entries-added>
//! <len groups> per group:
//!   <string name> <len last ms> <len last seq> [19: <len entries-read, u64 of -1 = unknown>]
//!   <len pel size> (<16 raw bytes BE ID> <u64 LE delivery ms> <len delivery count>)*
//!   <len consumers> per consumer: <string name> <u64 LE seen ms> <len pel size> (<16 raw bytes BE ID>)*
//! ```
//!
//! Invariants of the loader: every node passes `validate_node` (a well-formed listpack in the
//! stream layout, entries in order) and the masters grow; each consumer's PEL IDs exist in its
//! group's PEL and every group PEL entry ends with exactly one owner, else the file is
//! rejected, since ringkv's type assumes both.

use super::{put_len, put_string, Loaded, Reader, R};
use crate::keyspace::value::Value;
use crate::types::stream::{validate_node, Consumer, Group, Nack, Stream, StreamId};

/// Appends the value part of type 19.
pub(super) fn put_stream(out: &mut Vec<u8>, s: &Stream, c: bool) {
    put_len(out, s.node_count() as u64);
    for (master, lp) in s.nodes() {
        put_string(out, &master.to_be_bytes(), c);
        put_string(out, lp, c);
    }
    put_len(out, s.len());
    put_len(out, s.last_id.ms);
    put_len(out, s.last_id.seq);
    put_len(out, s.first_id.ms);
    put_len(out, s.first_id.seq);
    put_len(out, s.max_deleted_id.ms);
    put_len(out, s.max_deleted_id.seq);
    put_len(out, s.entries_added);
    put_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        put_string(out, name, c);
        put_len(out, g.last_id.ms);
        put_len(out, g.last_id.seq);
        put_len(out, g.entries_read as u64);
        put_len(out, g.pel.len() as u64);
        for (id, n) in &g.pel {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&n.delivery_time_ms.to_le_bytes());
            put_len(out, n.delivery_count);
        }
        put_len(out, g.consumers.len() as u64);
        for (cname, cons) in &g.consumers {
            put_string(out, cname, c);
            out.extend_from_slice(&cons.seen_time_ms.to_le_bytes());
            put_len(out, cons.pel.len() as u64);
            for id in &cons.pel {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

fn raw_id(r: &mut Reader<'_>) -> R<StreamId> {
    let b = r.take(16)?;
    Ok(StreamId::from_be_bytes(b).unwrap_or_default())
}

fn len_id(r: &mut Reader<'_>) -> R<StreamId> {
    let ms = r.len()?;
    let seq = r.len()?;
    Ok(StreamId::new(ms, seq))
}

/// Reads the value part of type 15 (`v2` false) or 19.
pub(super) fn load_stream(r: &mut Reader<'_>, v2: bool) -> R<Loaded> {
    let mut s = Stream::new();
    let nodes = r.len()?;
    for _ in 0..nodes {
        let at = r.pos;
        let key = r.string()?;
        let Some(master) = StreamId::from_be_bytes(&key) else {
            return r.err(at, "stream node key is not a 16-byte ID");
        };
        let at = r.pos;
        let lp = r.string()?.into_owned();
        let (live, _, _) = match validate_node(&lp, master) {
            Ok(x) => x,
            Err(m) => return r.err(at, m),
        };
        if live == 0 {
            return r.err(at, "empty listpack inside stream");
        }
        if !s.push_node(master, lp, live) {
            return r.err(at, "stream nodes out of order");
        }
    }
    let at = r.pos;
    let length = r.len()?;
    if length != s.len() {
        return r.err(at, "stream length does not match its nodes");
    }
    s.last_id = len_id(r)?;
    if s.edge_id(false, false) > s.last_id && s.node_count() > 0 {
        return r.err(at, "stream last ID below its entries");
    }
    if v2 {
        s.first_id = len_id(r)?;
        s.max_deleted_id = len_id(r)?;
        s.entries_added = r.len()?;
    } else {
        s.entries_added = s.len();
        s.first_id = s.edge_id(true, true);
    }
    let groups = r.len()?;
    for _ in 0..groups {
        let at = r.pos;
        let name: Box<[u8]> = r.string()?.into_owned().into();
        let last_id = len_id(r)?;
        let entries_read = if v2 {
            r.len()? as i64
        } else {
            s.estimate_distance(last_id)
        };
        let mut g = Group::new(last_id, entries_read);
        let pel = r.len()?;
        for _ in 0..pel {
            let id = raw_id(r)?;
            let t = r.u64_le()?;
            let count = r.len()?;
            g.pel.insert(
                id,
                Nack {
                    delivery_time_ms: t,
                    delivery_count: count,
                    consumer: Box::default(),
                },
            );
        }
        let consumers = r.len()?;
        let mut owned = std::collections::BTreeSet::new();
        for _ in 0..consumers {
            let cat = r.pos;
            let cname: Box<[u8]> = r.string()?.into_owned().into();
            let seen = r.u64_le()?;
            let mut c = Consumer {
                seen_time_ms: seen,
                pel: Default::default(),
            };
            let n = r.len()?;
            for _ in 0..n {
                let id = raw_id(r)?;
                match g.pel.get_mut(&id) {
                    Some(nack) if owned.insert(id) => {
                        nack.consumer = cname.clone();
                        c.pel.insert(id);
                    }
                    _ => return r.err(cat, "consumer PEL entry not in its group's PEL"),
                }
            }
            if g.consumers.insert(cname, c).is_some() {
                return r.err(cat, "duplicate consumer name");
            }
        }
        if owned.len() != g.pel.len() {
            return r.err(at, "group PEL entry without a consumer");
        }
        if s.groups.insert(name, g).is_some() {
            return r.err(at, "duplicate consumer group name");
        }
    }
    Ok(Loaded::Value(Value::Stream(Box::new(s))))
}
