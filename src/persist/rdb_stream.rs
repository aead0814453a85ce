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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::stream::Trim;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    fn sample() -> Stream {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            let v = i.to_string();
            if i % 7 == 0 {
                s.append(id(i, 0), &[b"other", v.as_bytes()], 4096, 100);
            } else {
                s.append(id(i, 0), &[b"f", v.as_bytes(), b"g", b"x"], 4096, 100);
            }
        }
        s.delete(id(3, 0));
        s.max_deleted_id = id(3, 0);
        s.trim(Trim::MaxLen(200), false, 0);
        let mut g = Group::new(id(60, 0), 10);
        g.assign(id(55, 0), b"alice", 1234, 2);
        g.assign(id(58, 0), b"bob", 99, 1);
        g.consumers
            .insert(b"idle".to_vec().into(), Consumer::default());
        s.groups.insert(b"g".to_vec().into(), g);
        s.groups
            .insert(b"h".to_vec().into(), Group::new(id(0, 0), -1));
        s.check_invariants();
        s
    }

    fn load(bytes: &[u8], v2: bool) -> R<Stream> {
        let mut r = Reader { buf: bytes, pos: 0 };
        match load_stream(&mut r, v2)? {
            Loaded::Value(Value::Stream(s)) => Ok(*s),
            _ => panic!("not a stream"),
        }
    }

    #[test]
    fn type_19_round_trips() {
        let s = sample();
        for c in [false, true] {
            let mut out = Vec::new();
            put_stream(&mut out, &s, c);
            let back = load(&out, true).unwrap();
            back.check_invariants();
            assert_eq!(back, s);
        }
    }

    /// Type 15 (Redis 5/6): no first ID, counters or read counters; they are derived.
    #[test]
    fn type_15_loads_with_derived_counters() {
        let s = sample();
        let mut out = Vec::new();
        put_len(&mut out, s.node_count() as u64);
        for (master, lp) in s.nodes() {
            put_string(&mut out, &master.to_be_bytes(), false);
            put_string(&mut out, lp, false);
        }
        put_len(&mut out, s.len());
        put_len(&mut out, s.last_id.ms);
        put_len(&mut out, s.last_id.seq);
        put_len(&mut out, s.groups.len() as u64);
        for (name, g) in &s.groups {
            put_string(&mut out, name, false);
            put_len(&mut out, g.last_id.ms);
            put_len(&mut out, g.last_id.seq);
            put_len(&mut out, g.pel.len() as u64);
            for (pid, n) in &g.pel {
                out.extend_from_slice(&pid.to_be_bytes());
                out.extend_from_slice(&n.delivery_time_ms.to_le_bytes());
                put_len(&mut out, n.delivery_count);
            }
            put_len(&mut out, g.consumers.len() as u64);
            for (cname, cons) in &g.consumers {
                put_string(&mut out, cname, false);
                out.extend_from_slice(&cons.seen_time_ms.to_le_bytes());
                put_len(&mut out, cons.pel.len() as u64);
                for pid in &cons.pel {
                    out.extend_from_slice(&pid.to_be_bytes());
                }
            }
        }
        let back = load(&out, false).unwrap();
        back.check_invariants();
        assert_eq!(back.entries_added, back.len());
        assert_eq!(back.max_deleted_id, StreamId::ZERO);
        assert_eq!(back.first_id, back.edge_id(true, true));
        assert_eq!(
            back.range(StreamId::ZERO, StreamId::MAX, false, 0),
            s.range(StreamId::ZERO, StreamId::MAX, false, 0)
        );
        let g = &back.groups[&b"g"[..]];
        assert_eq!(g.entries_read, back.estimate_distance(id(60, 0)));
        assert_eq!(g.pel, s.groups[&b"g"[..]].pel);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let s = sample();
        let mut out = Vec::new();
        put_stream(&mut out, &s, false);
        // Every truncation and every single-byte change either loads a valid stream or fails.
        for cut in 0..out.len() {
            if let Ok(x) = load(&out[..cut], true) {
                x.check_invariants();
            }
        }
        for i in (0..out.len()).step_by(7) {
            let mut b = out.clone();
            b[i] ^= 0x5a;
            if let Ok(x) = load(&b, true) {
                x.check_invariants();
            }
        }
    }
}
