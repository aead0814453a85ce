//! The stream type: entries with 128-bit IDs kept in Redis's own layout, plus consumer groups.
//!
//! Entries live in nodes, each a listpack in exactly the layout Redis 7.0's `t_stream.c`
//! writes, keyed in a `BTreeMap` by the node's master ID (the ID of the first entry ever put
//! in it; Redis keys its rax the same way). A node starts with its master entry:
//!
//! ```text
//! | live count | deleted count | num-fields | field_1 ... field_N | 0 |
//! ```
//!
//! then holds entries, each `| flags | ms-delta | seq-delta | [num-fields] fields/values | lp-count |`:
//! the ID is stored as the difference to the master ID (two's complement, so any pair of IDs
//! fits), and when an entry's field names equal the master's in order (flag SAMEFIELDS) only
//! its values are stored. A deleted entry keeps its bytes with flag DELETED set (a tombstone),
//! and a node whose last live entry goes is dropped. Because the layout is Redis's, the node
//! boundaries (`stream-node-max-bytes`, `stream-node-max-entries`), what `~` trimming removes,
//! and the RDB encoding (the node bytes as they are) all equal Redis's.
//!
//! Invariants (`check_invariants`): every node parses; its live count is at least 1 and equals
//! the number of entries without DELETED, its deleted count the number with; IDs strictly grow
//! across and within nodes and every node's entries are >= its master ID and below the next
//! node's; `len` is the sum of the live counts; `last_id` is >= every entry's ID; every pending
//! entry of a group is owned by exactly one consumer of that group, whose own PEL lists it.

use std::collections::{BTreeMap, BTreeSet};

use crate::persist::rdb_lp::{lp_backlen_size, lp_encode, lp_encode_int, lp_int_element};

/// Entry flags (`STREAM_ITEM_FLAG_*`).
pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

/// Redis's `SCG_INVALID_ENTRIES_READ`: a group whose read counter is not known.
pub const ENTRIES_READ_INVALID: i64 = -1;

/// A stream entry ID: milliseconds and a sequence number, ordered as a pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const ZERO: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::ZERO
    }

    /// The next ID (`streamIncrID`); None after the last one.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            return Some(StreamId::new(self.ms + 1, 0));
        }
        Some(StreamId::new(self.ms, self.seq + 1))
    }

    /// The previous ID (`streamDecrID`); None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            return Some(StreamId::new(self.ms - 1, u64::MAX));
        }
        Some(StreamId::new(self.ms, self.seq - 1))
    }

    /// `ms-seq` as text.
    pub fn to_text(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(42);
        self.write_text(&mut out);
        out
    }

    /// `ms-seq` as text in `buf` (41 bytes hold the longest), without allocating.
    pub fn text_in(self, buf: &mut [u8; 41]) -> &[u8] {
        let mut b = itoa::Buffer::new();
        let ms = b.format(self.ms).as_bytes();
        let n = ms.len();
        buf[..n].copy_from_slice(ms);
        buf[n] = b'-';
        let seq = b.format(self.seq).as_bytes();
        buf[n + 1..n + 1 + seq.len()].copy_from_slice(seq);
        &buf[..n + 1 + seq.len()]
    }

    pub fn write_text(self, out: &mut Vec<u8>) {
        let mut b = itoa::Buffer::new();
        out.extend_from_slice(b.format(self.ms).as_bytes());
        out.push(b'-');
        out.extend_from_slice(b.format(self.seq).as_bytes());
    }

    /// The 128-bit big-endian form Redis uses as rax key.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: &[u8]) -> Option<StreamId> {
        if b.len() != 16 {
            return None;
        }
        let ms = u64::from_be_bytes(b[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(b[8..].try_into().ok()?);
        Some(StreamId::new(ms, seq))
    }
}

// ---------------------------------------------------------------------------------------------
// Listpack access (the nodes are built here, so reads may index without checks; nodes from an
// RDB file pass `validate_node` first)

const LP_HDR: usize = 6;
const LP_EOF: u8 = 0xFF;

/// One listpack element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

fn sign_extend(u: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((u << shift) as i64) >> shift
}

fn le(lp: &[u8], at: usize, n: usize) -> u64 {
    let mut v = 0u64;
    for i in (0..n).rev() {
        v = (v << 8) | u64::from(lp[at + i]);
    }
    v
}

/// The element at `p` and the offset of the next one.
fn elem(lp: &[u8], p: usize) -> (Elem<'_>, usize) {
    let e = lp[p];
    let (v, enc_len) = match e {
        0x00..=0x7F => (Elem::Int(i64::from(e)), 1),
        0x80..=0xBF => {
            let n = usize::from(e & 0x3F);
            (Elem::Str(&lp[p + 1..p + 1 + n]), 1 + n)
        }
        0xC0..=0xDF => {
            let u = (u64::from(e & 0x1F) << 8) | u64::from(lp[p + 1]);
            (Elem::Int(sign_extend(u, 13)), 2)
        }
        0xE0..=0xEF => {
            let n = (usize::from(e & 0x0F) << 8) | usize::from(lp[p + 1]);
            (Elem::Str(&lp[p + 2..p + 2 + n]), 2 + n)
        }
        0xF0 => {
            let n = le(lp, p + 1, 4) as usize;
            (Elem::Str(&lp[p + 5..p + 5 + n]), 5 + n)
        }
        0xF1 => (Elem::Int(sign_extend(le(lp, p + 1, 2), 16)), 3),
        0xF2 => (Elem::Int(sign_extend(le(lp, p + 1, 3), 24)), 4),
        0xF3 => (Elem::Int(sign_extend(le(lp, p + 1, 4), 32)), 5),
        _ => (Elem::Int(le(lp, p + 1, 8) as i64), 9),
    };
    (v, p + enc_len + lp_backlen_size(enc_len))
}

/// An integer element (Redis's `lpGetInteger`; the stream's integers are always stored as
/// integers, a string reads as 0).
fn elem_int(lp: &[u8], p: usize) -> (i64, usize) {
    match elem(lp, p) {
        (Elem::Int(v), next) => (v, next),
        (Elem::Str(s), next) => (crate::util::num::parse_i64_strict(s).unwrap_or(0), next),
    }
}

fn elem_bytes(lp: &[u8], p: usize) -> (Vec<u8>, usize) {
    match elem(lp, p) {
        (Elem::Int(v), next) => (itoa::Buffer::new().format(v).as_bytes().to_vec(), next),
        (Elem::Str(s), next) => (s.to_vec(), next),
    }
}

fn elem_eq(lp: &[u8], p: usize, s: &[u8]) -> bool {
    match elem(lp, p).0 {
        Elem::Str(x) => x == s,
        Elem::Int(v) => itoa::Buffer::new().format(v).as_bytes() == s,
    }
}

fn skip(lp: &[u8], mut p: usize, n: usize) -> usize {
    for _ in 0..n {
        p = elem(lp, p).1;
    }
    p
}

fn lp_new() -> Vec<u8> {
    let mut lp = vec![0u8; LP_HDR];
    lp.push(LP_EOF);
    lp_fix_header(&mut lp, 0);
    lp
}

/// Rewrites the total-bytes header and adds `added` to the element count (65535: unknown,
/// as Redis leaves it once reached).
fn lp_fix_header(lp: &mut [u8], added: usize) {
    let total = lp.len() as u32;
    lp[..4].copy_from_slice(&total.to_le_bytes());
    let n = u16::from_le_bytes([lp[4], lp[5]]);
    if n != u16::MAX {
        let m = (usize::from(n) + added).min(usize::from(u16::MAX)) as u16;
        lp[4..6].copy_from_slice(&m.to_le_bytes());
    }
}

fn lp_append_int(lp: &mut Vec<u8>, v: i64) {
    lp.pop();
    lp_encode_int(lp, v);
    lp.push(LP_EOF);
    lp_fix_header(lp, 1);
}

fn lp_append(lp: &mut Vec<u8>, s: &[u8]) {
    lp.pop();
    lp_encode(lp, s);
    lp.push(LP_EOF);
    lp_fix_header(lp, 1);
}

/// Replaces the element at `p` with the integer `v` (`lpReplaceInteger`).
fn lp_replace_int(lp: &mut Vec<u8>, p: usize, v: i64) {
    let next = elem(lp, p).1;
    let (enc, n) = lp_int_element(v);
    if n == next - p {
        // The usual case (a count keeping its encoding's size): in place, the node's total
        // length unchanged.
        lp[p..next].copy_from_slice(&enc[..n]);
    } else {
        lp.splice(p..next, enc[..n].iter().copied());
        lp_fix_header(lp, 0);
    }
}

/// The master entry of a node.
struct NodeHead {
    live: i64,
    deleted: i64,
    /// Offset of the live count (the first element).
    num_fields: usize,
    /// Offset of the first master field.
    fields_at: usize,
    /// Offset of the first entry (after the master's 0 terminator).
    first_entry: usize,
}

fn node_head(lp: &[u8]) -> NodeHead {
    let (live, p) = elem_int(lp, LP_HDR);
    let (deleted, p) = elem_int(lp, p);
    let (nf, fields_at) = elem_int(lp, p);
    let num_fields = nf.max(0) as usize;
    let p = skip(lp, fields_at, num_fields);
    let first_entry = elem(lp, p).1;
    NodeHead {
        live,
        deleted,
        num_fields,
        fields_at,
        first_entry,
    }
}

/// One entry of a node, as offsets into it.
#[derive(Clone, Copy)]
struct RawEntry {
    flags_at: usize,
    flags: i64,
    id: StreamId,
    /// Number of field/value pairs.
    pairs: usize,
    /// Offset of the first field (or value, with SAMEFIELDS).
    data_at: usize,
    /// Offset after the entry's lp-count.
    end: usize,
}

fn raw_entry(lp: &[u8], p: usize, master: StreamId, head: &NodeHead) -> RawEntry {
    let (flags, q) = elem_int(lp, p);
    let (dms, q) = elem_int(lp, q);
    let (dseq, q) = elem_int(lp, q);
    let id = StreamId::new(
        master.ms.wrapping_add(dms as u64),
        master.seq.wrapping_add(dseq as u64),
    );
    let (pairs, data_at, n_elems) = if flags & FLAG_SAMEFIELDS != 0 {
        (head.num_fields, q, head.num_fields)
    } else {
        let (nf, q) = elem_int(lp, q);
        let nf = nf.max(0) as usize;
        (nf, q, nf * 2)
    };
    let end = elem(lp, skip(lp, data_at, n_elems)).1;
    RawEntry {
        flags_at: p,
        flags,
        id,
        pairs,
        data_at,
        end,
    }
}

/// The offset of the element before the one at `p` (Redis's `lpPrev`): the back length that
/// ends at `p - 1` is the size of that element's encoding and data. None if the bytes there
/// are not a back length inside the node.
fn elem_prev(lp: &[u8], p: usize) -> Option<usize> {
    let mut at = p.checked_sub(1)?;
    let mut len = 0usize;
    let mut shift = 0;
    // A back length is at most 5 bytes, its last one read first.
    loop {
        let b = lp[at];
        len |= usize::from(b & 127) << shift;
        if b & 128 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
        at = at.checked_sub(1)?;
    }
    at.checked_sub(len)
}

/// The entry that ends at `end` (the offset after its lp-count), found backwards as Redis's
/// reverse iterator does: the lp-count says how many elements to step back to the entry's
/// flags. None if the node is not laid out as that says (`validate_node` checks every
/// lp-count, so only a bug would get there; the callers then parse the node forwards).
fn raw_entry_before(lp: &[u8], end: usize, master: StreamId, head: &NodeHead) -> Option<RawEntry> {
    let count_at = elem_prev(lp, end)?;
    if count_at < head.first_entry {
        return None;
    }
    let (count, _) = elem_int(lp, count_at);
    let mut p = count_at;
    // Bounded by the lp-count, itself checked against the node's start at each step.
    for _ in 0..usize::try_from(count).ok()? {
        p = elem_prev(lp, p)?;
        if p < head.first_entry {
            return None;
        }
    }
    let e = raw_entry(lp, p, master, head);
    (e.end == end).then_some(e)
}

/// The node's last entry (tombstone or not), read backwards from its end.
fn last_raw_entry(lp: &[u8], master: StreamId) -> Option<RawEntry> {
    let head = node_head(lp);
    let end = lp.len() - 1;
    if end <= head.first_entry {
        return None;
    }
    raw_entry_before(lp, end, master, &head).or_else(|| raw_entries(lp, master).last().copied())
}

fn raw_entries(lp: &[u8], master: StreamId) -> Vec<RawEntry> {
    let head = node_head(lp);
    let mut out = Vec::new();
    let mut p = head.first_entry;
    while lp[p] != LP_EOF {
        let e = raw_entry(lp, p, master, &head);
        p = e.end;
        out.push(e);
    }
    out
}

fn entry_fields(lp: &[u8], e: &RawEntry, head: &NodeHead) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::with_capacity(e.pairs);
    let mut p = e.data_at;
    let mut f = head.fields_at;
    for _ in 0..e.pairs {
        let field;
        if e.flags & FLAG_SAMEFIELDS != 0 {
            (field, f) = elem_bytes(lp, f);
        } else {
            (field, p) = elem_bytes(lp, p);
        }
        let value;
        (value, p) = elem_bytes(lp, p);
        out.push((field, value));
    }
    out
}

/// Checks that `lp` is a well-formed stream node under `master` (an RDB or RESTORE input):
/// a valid listpack whose elements make a master entry and whole entries. Returns the live and
/// deleted counts and the last entry's ID.
pub fn validate_node(lp: &[u8], master: StreamId) -> Result<(u64, u64, StreamId), String> {
    use crate::persist::rdb_lp::{listpack_for_each, Entry};
    // Each element as the integer it holds, if any (fields and values need not be).
    let mut elems: Vec<Option<i64>> = Vec::new();
    listpack_for_each(lp, |e| {
        elems.push(match e {
            Entry::Int(v) => Some(v),
            Entry::Str(s) => crate::util::num::parse_i64_strict(s),
        });
        Ok(())
    })?;
    let int = |i: usize| -> Result<i64, String> {
        elems
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| format!("stream node: element {i} is not an integer"))
    };
    let live = int(0)?;
    let deleted = int(1)?;
    let nf = int(2)?;
    if live < 0 || deleted < 0 || nf < 0 || nf as usize > elems.len() {
        return Err("stream node: bad master entry".into());
    }
    let mut i = 3 + nf as usize;
    if int(i)? != 0 {
        return Err("stream node: master entry without its 0 terminator".into());
    }
    i += 1;
    let (mut n_live, mut n_deleted) = (0u64, 0u64);
    let mut prev: Option<StreamId> = None;
    while i < elems.len() {
        let start = i;
        let flags = int(i)?;
        let id = StreamId::new(
            master.ms.wrapping_add(int(i + 1)? as u64),
            master.seq.wrapping_add(int(i + 2)? as u64),
        );
        i += 3;
        let n = if flags & FLAG_SAMEFIELDS != 0 {
            nf as usize
        } else {
            let n = int(i)?;
            if n < 0 || n as usize > elems.len() {
                return Err("stream node: bad field count".into());
            }
            i += 1;
            n as usize * 2
        };
        i += n;
        let lp_count = int(i)?;
        if lp_count < 0 || lp_count as usize != i - start {
            return Err("stream node: bad entry lp-count".into());
        }
        i += 1;
        if id < master || prev.is_some_and(|p| id <= p) {
            return Err("stream node: entry IDs out of order".into());
        }
        prev = Some(id);
        if flags & FLAG_DELETED != 0 {
            n_deleted += 1;
        } else {
            n_live += 1;
        }
    }
    if n_live != live as u64 || n_deleted != deleted as u64 {
        return Err("stream node: master entry counts do not match its entries".into());
    }
    Ok((n_live, n_deleted, prev.unwrap_or(master)))
}

// ---------------------------------------------------------------------------------------------
// The stream

/// One entry as read: its ID and its field/value pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: StreamId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A pending entry of a group: delivered, not acknowledged (Redis's `streamNACK`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    pub delivery_time_ms: u64,
    pub delivery_count: u64,
    pub consumer: Box<[u8]>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    pub seen_time_ms: u64,
    /// The IDs of the group's pending entries this consumer owns.
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read by the group, counted from the first entry ever added; `ENTRIES_READ_INVALID`
    /// when unknown.
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    /// By name, in byte order (Redis's rax order).
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Removes a pending entry from the group and its owner.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Gives the pending entry `id` to `consumer` (created if missing), or creates it.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], now_ms: u64, count: u64) {
        if let Some(old) = self.pel.get(&id) {
            let old = old.consumer.clone();
            if let Some(c) = self.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time_ms: now_ms,
                delivery_count: count,
                consumer: consumer.into(),
            },
        );
        self.consumers
            .entry(consumer.into())
            .or_default()
            .pel
            .insert(id);
    }
}

/// How XADD / XTRIM trim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    /// Nodes by master ID.
    nodes: BTreeMap<StreamId, Vec<u8>>,
    len: u64,
    pub last_id: StreamId,
    /// The first live entry's ID as Redis records it (`first_id`).
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    /// By name, in byte order.
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes, by master ID, as their listpack bytes (the RDB form).
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, &[u8])> {
        self.nodes.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// Adds a node read from an RDB file (already checked with `validate_node`), after every
    /// node added before. Returns false if it would break the ordering.
    pub fn push_node(&mut self, master: StreamId, lp: Vec<u8>, live: u64) -> bool {
        // The previous node's entries (tombstones too) must all come before this one's.
        if let Some((k, prev)) = self.nodes.last_key_value() {
            let prev_last = last_raw_entry(prev, *k).map_or(*k, |e| e.id);
            if prev_last >= master {
                return false;
            }
        }
        if live == 0 {
            // Redis drops a node with its last live entry; an empty one carries nothing.
            return true;
        }
        self.nodes.insert(master, lp);
        self.len += live;
        true
    }

    /// Heap bytes of the stream beyond its own struct (MEMORY USAGE): each node's block at
    /// the allocator's `usable` size, the ordered maps' entries (key, value and a share of
    /// their tree nodes, which hold up to 11 entries), and every group's name, PEL entries
    /// and consumers. Exact for the blocks, an estimate for the maps' nodes.
    pub fn heap_bytes(&self, usable: fn(usize) -> usize) -> usize {
        use std::mem::size_of;
        // A B-tree leaf holds 11 entries and a few words; full-ish trees average ~8 each.
        fn map_entry<K, V>() -> usize {
            (size_of::<K>() + size_of::<V>()) * 11 / 8 + 8
        }
        let mut n: usize = self
            .nodes
            .values()
            .map(|b| usable(b.capacity()) + map_entry::<StreamId, Vec<u8>>())
            .sum();
        for (name, g) in &self.groups {
            n += map_entry::<Box<[u8]>, Group>() + usable(name.len());
            n += g.pel.len() * map_entry::<StreamId, Nack>();
            n += g
                .pel
                .values()
                .map(|nack| usable(nack.consumer.len()))
                .sum::<usize>();
            for (cname, _) in g.consumers.iter() {
                n += map_entry::<Box<[u8]>, Consumer>() + usable(cname.len());
            }
        }
        n
    }

    /// Bytes held by the nodes (for memory reports).
    pub fn node_bytes(&self) -> usize {
        self.nodes.values().map(Vec::capacity).sum()
    }

    /// Appends an entry with ID `id` (> `last_id`, checked by the caller) and the fields and
    /// values in `pairs` (alternating), as `streamAppendItem` does: into the last node unless
    /// it is full.
    pub fn append(&mut self, id: StreamId, pairs: &[&[u8]], max_bytes: usize, max_entries: usize) {
        debug_assert!(id > self.last_id && !pairs.is_empty() && pairs.len().is_multiple_of(2));
        let numfields = pairs.len() / 2;
        let totelelen: usize = pairs.iter().map(|p| p.len()).sum();
        let node_max_bytes = if max_bytes == 0 || max_bytes > 1 << 30 {
            1 << 30
        } else {
            max_bytes
        };
        let mut tail = self.nodes.last_key_value().map(|(k, _)| *k);
        if let Some(k) = tail {
            let lp = &self.nodes[&k];
            let head = node_head(lp);
            if lp.len() + totelelen >= node_max_bytes
                || (max_entries != 0 && head.live + head.deleted >= max_entries as i64)
            {
                tail = None;
            }
        }
        let mut flags = 0;
        let master = match tail {
            None => {
                // The last node takes no more entries: give back its spare capacity.
                if let Some(mut last) = self.nodes.last_entry() {
                    last.get_mut().shrink_to_fit();
                }
                let mut lp = lp_new();
                lp_append_int(&mut lp, 1);
                lp_append_int(&mut lp, 0);
                lp_append_int(&mut lp, numfields as i64);
                for f in pairs.iter().step_by(2) {
                    lp_append(&mut lp, f);
                }
                lp_append_int(&mut lp, 0);
                self.nodes.insert(id, lp);
                flags |= FLAG_SAMEFIELDS;
                id
            }
            Some(k) => {
                let lp = self.nodes.last_entry().expect("tail node").into_mut();
                let head = node_head(lp);
                lp_replace_int(lp, LP_HDR, head.live + 1);
                let head = node_head(lp);
                if head.num_fields == numfields {
                    let mut p = head.fields_at;
                    let mut same = true;
                    for f in pairs.iter().step_by(2) {
                        if !elem_eq(lp, p, f) {
                            same = false;
                            break;
                        }
                        p = elem(lp, p).1;
                    }
                    if same {
                        flags |= FLAG_SAMEFIELDS;
                    }
                }
                k
            }
        };
        // The node is the last one: a new node's master ID is above every other.
        let lp = self.nodes.last_entry().expect("node").into_mut();
        lp_append_int(lp, flags);
        lp_append_int(lp, id.ms.wrapping_sub(master.ms) as i64);
        lp_append_int(lp, id.seq.wrapping_sub(master.seq) as i64);
        if flags & FLAG_SAMEFIELDS == 0 {
            lp_append_int(lp, numfields as i64);
        }
        for fv in pairs.chunks_exact(2) {
            if flags & FLAG_SAMEFIELDS == 0 {
                lp_append(lp, fv[0]);
            }
            lp_append(lp, fv[1]);
        }
        let mut lp_count = numfields as i64 + 3;
        if flags & FLAG_SAMEFIELDS == 0 {
            lp_count += numfields as i64 + 1;
        }
        lp_append_int(lp, lp_count);
        self.len += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.len == 1 {
            self.first_id = id;
        }
    }

    /// The entries with IDs in `start..=end`, at most `count` of them (0: all), from the end
    /// when `rev`.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool, count: usize) -> Vec<Entry> {
        let mut out = Vec::new();
        self.walk(start, end, rev, false, |lp, head, e| {
            out.push(Entry {
                id: e.id,
                fields: entry_fields(lp, e, head),
            });
            count == 0 || out.len() < count
        });
        out
    }

    /// The IDs in `start..=end` (tombstones too when `tombstones`), from the end when `rev`,
    /// while `f` answers true.
    pub fn walk_ids(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        tombstones: bool,
        mut f: impl FnMut(StreamId) -> bool,
    ) {
        self.walk(start, end, rev, tombstones, |_, _, e| f(e.id));
    }

    fn walk(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        tombstones: bool,
        mut f: impl FnMut(&[u8], &NodeHead, &RawEntry) -> bool,
    ) {
        if start > end {
            return;
        }
        // The node holding `start` may have a master ID below it.
        let first_master = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        let nodes = self.nodes.range(first_master..=end);
        let mut visit = |master: StreamId, lp: &Vec<u8>| -> bool {
            let head = node_head(lp);
            let mut go = |e: &RawEntry| -> Option<bool> {
                if e.id < start || e.id > end {
                    return None;
                }
                if e.flags & FLAG_DELETED != 0 && !tombstones {
                    return None;
                }
                Some(f(lp, &head, e))
            };
            if rev {
                // Backwards through the back lengths, stopping below the start of the range
                // (the reverse walk of a whole node was most of XREADGROUP's time: the last
                // ID is asked for on every call).
                let mut end_at = lp.len() - 1;
                while end_at > head.first_entry {
                    let Some(e) = raw_entry_before(lp, end_at, master, &head) else {
                        // Not laid out as its lp-counts say: the entries not visited yet,
                        // parsed forwards.
                        for e in raw_entries(lp, master).iter().rev() {
                            if e.end <= end_at && go(e) == Some(false) {
                                return false;
                            }
                        }
                        return true;
                    };
                    if e.id < start {
                        return false;
                    }
                    if go(&e) == Some(false) {
                        return false;
                    }
                    end_at = e.flags_at;
                }
            } else {
                // Forward: parse entry by entry, stopping at the end of the range.
                let mut p = head.first_entry;
                while lp[p] != LP_EOF {
                    let e = raw_entry(lp, p, master, &head);
                    if e.id > end {
                        return false;
                    }
                    if go(&e) == Some(false) {
                        return false;
                    }
                    p = e.end;
                }
            }
            true
        };
        if rev {
            for (m, lp) in nodes.rev() {
                if !visit(*m, lp) {
                    return;
                }
            }
        } else {
            for (m, lp) in nodes {
                if !visit(*m, lp) {
                    return;
                }
            }
        }
    }

    /// The live entry `id`.
    pub fn get(&self, id: StreamId) -> Option<Entry> {
        self.range(id, id, false, 1).pop()
    }

    pub fn contains(&self, id: StreamId) -> bool {
        let mut found = false;
        self.walk_ids(id, id, false, false, |_| {
            found = true;
            false
        });
        found
    }

    /// `streamGetEdgeID`: the first (or last) entry's ID, tombstones included unless
    /// `skip_tombstones`; for no entry, MAX as first and 0-0 as last.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> StreamId {
        let mut found = None;
        self.walk_ids(
            StreamId::ZERO,
            StreamId::MAX,
            !first,
            !skip_tombstones,
            |id| {
                found = Some(id);
                false
            },
        );
        found.unwrap_or(if first { StreamId::MAX } else { StreamId::ZERO })
    }

    /// Marks the live entry `id` deleted (dropping its node with its last live entry).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, _)) = self.nodes.range(..=id).next_back() else {
            return false;
        };
        let lp = self.nodes.get_mut(&master).expect("node");
        let head = node_head(lp);
        let mut p = head.first_entry;
        while lp[p] != LP_EOF {
            let e = raw_entry(lp, p, master, &head);
            if e.id == id {
                if e.flags & FLAG_DELETED != 0 {
                    return false;
                }
                if head.live == 1 {
                    self.nodes.remove(&master);
                } else {
                    lp_replace_int(lp, e.flags_at, e.flags | FLAG_DELETED);
                    Self::add_counts(lp, -1, 1);
                }
                self.len -= 1;
                return true;
            }
            if e.id > id {
                break;
            }
            p = e.end;
        }
        false
    }

    fn add_counts(lp: &mut Vec<u8>, live: i64, deleted: i64) {
        let head = node_head(lp);
        lp_replace_int(lp, LP_HDR, head.live + live);
        let p = elem(lp, LP_HDR).1;
        lp_replace_int(lp, p, head.deleted + deleted);
    }

    /// `streamTrim`: removes entries from the start per `how`; with `approx` only whole nodes,
    /// and at most `limit` entries when `limit` is not 0. Returns the number removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        // Always the first node: a node is either removed whole (the next one is then first)
        // or trimmed inside, which ends the trim.
        while let Some((&master, _)) = self.nodes.first_key_value() {
            if let Trim::MaxLen(maxlen) = how {
                if self.len <= maxlen {
                    break;
                }
            }
            let lp = &self.nodes[&master];
            let head = node_head(lp);
            let entries = head.live as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match how {
                Trim::MaxLen(maxlen) => self.len - entries >= maxlen,
                Trim::MinId(min) => {
                    let last = last_raw_entry(lp, master).map_or(master, |e| e.id);
                    last < min
                }
            };
            if remove_node {
                self.nodes.remove(&master);
                self.len -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let lp = self.nodes.get_mut(&master).expect("node");
            let mut from_node = 0i64;
            let mut p = head.first_entry;
            while lp[p] != LP_EOF {
                let head = node_head(lp);
                let e = raw_entry(lp, p, master, &head);
                let stop = match how {
                    Trim::MaxLen(maxlen) => self.len <= maxlen,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if e.flags & FLAG_DELETED == 0 {
                    let before = lp.len();
                    lp_replace_int(lp, e.flags_at, e.flags | FLAG_DELETED);
                    // Flags are small integers: the element keeps its size.
                    debug_assert_eq!(before, lp.len());
                    from_node += 1;
                    self.len -= 1;
                }
                p = e.end;
            }
            deleted += from_node as u64;
            Self::add_counts(lp, -from_node, from_node);
            break;
        }
        if deleted > 0 {
            self.first_id = if self.len == 0 {
                StreamId::ZERO
            } else {
                self.edge_id(true, true)
            };
        }
        deleted
    }

    /// `streamRangeHasTombstones`.
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.len == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// `streamEstimateDistanceFromFirstEverEntry`: the read counter of `id`, or
    /// `ENTRIES_READ_INVALID`.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.len == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return ENTRIES_READ_INVALID;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.len) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.len + 1) as i64;
            }
        }
        ENTRIES_READ_INVALID
    }

    /// A group's lag (`streamReplyWithCGLag`); None when it cannot be known.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != ENTRIES_READ_INVALID
            && !self.range_has_tombstones(g.last_id, StreamId::MAX)
        {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != ENTRIES_READ_INVALID).then(|| self.entries_added as i64 - read)
    }

    /// Panics if an invariant of the module doc does not hold.
    pub fn check_invariants(&self) {
        let mut total = 0u64;
        let mut prev: Option<StreamId> = None;
        for (master, lp) in &self.nodes {
            let (live, deleted, _) = validate_node(lp, *master).expect("node parses");
            assert!(live >= 1, "node {master:?} without live entries");
            let head = node_head(lp);
            assert_eq!((head.live as u64, head.deleted as u64), (live, deleted));
            // The backward walk (lp-counts and back lengths) meets the same entries.
            let forward: Vec<StreamId> = raw_entries(lp, *master).iter().map(|e| e.id).collect();
            let mut backward = Vec::new();
            let mut end = lp.len() - 1;
            while end > head.first_entry {
                let e = raw_entry_before(lp, end, *master, &head).expect("lp-counts lead back");
                backward.push(e.id);
                end = e.flags_at;
            }
            backward.reverse();
            assert_eq!(forward, backward, "backward walk of node {master:?}");
            for e in raw_entries(lp, *master) {
                assert!(prev.is_none_or(|p| e.id > p), "IDs must grow");
                assert!(e.id <= self.last_id, "entry after last_id");
                prev = Some(e.id);
            }
            total += live;
        }
        assert_eq!(total, self.len, "len");
        for g in self.groups.values() {
            let mut owned = 0;
            for (name, c) in &g.consumers {
                for id in &c.pel {
                    let n = g.pel.get(id).expect("consumer PEL entry in the group PEL");
                    assert_eq!(&n.consumer, name);
                    owned += 1;
                }
            }
            assert_eq!(owned, g.pel.len(), "every pending entry has one owner");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn ids_step_and_format() {
        assert_eq!(id(1, u64::MAX).incr(), Some(id(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(id(2, 0).decr(), Some(id(1, u64::MAX)));
        assert_eq!(StreamId::ZERO.decr(), None);
        assert_eq!(id(5, 7).to_text(), b"5-7");
        assert_eq!(StreamId::MAX.text_in(&mut [0; 41]), StreamId::MAX.to_text());
        assert_eq!(
            StreamId::from_be_bytes(&id(5, 7).to_be_bytes()),
            Some(id(5, 7))
        );
    }

    /// A model: the live entries in a BTreeMap, compared after every step.
    #[test]
    fn model_append_delete_trim() {
        let mut s = Stream::new();
        type Fields = Vec<(Vec<u8>, Vec<u8>)>;
        let mut model: BTreeMap<StreamId, Fields> = BTreeMap::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut last = StreamId::ZERO;
        for step in 0..3000 {
            let r = next() % 100;
            if r < 70 {
                let nid = if next() % 3 == 0 {
                    id(last.ms + next() % 1000, 0)
                } else {
                    last.incr().unwrap()
                };
                let nid = if nid <= last {
                    last.incr().unwrap()
                } else {
                    nid
                };
                let nf = 1 + (next() % 3) as usize;
                let mut pairs: Vec<Vec<u8>> = Vec::new();
                for j in 0..nf {
                    let f = if next() % 4 == 0 {
                        format!("g{j}")
                    } else {
                        format!("f{j}")
                    };
                    pairs.push(f.into_bytes());
                    let v = match next() % 3 {
                        0 => (next() % 100_000).to_string(),
                        1 => format!("-{}", next() % 10),
                        _ => "v".repeat((next() % 70) as usize),
                    };
                    pairs.push(v.into_bytes());
                }
                let refs: Vec<&[u8]> = pairs.iter().map(Vec::as_slice).collect();
                s.append(nid, &refs, 200 + (step % 300), 1 + step % 7);
                model.insert(
                    nid,
                    pairs
                        .chunks(2)
                        .map(|c| (c[0].clone(), c[1].clone()))
                        .collect(),
                );
                last = nid;
            } else if r < 85 {
                let keys: Vec<StreamId> = model.keys().copied().collect();
                if !keys.is_empty() {
                    let k = keys[(next() % keys.len() as u64) as usize];
                    assert!(s.delete(k));
                    assert!(!s.delete(k));
                    model.remove(&k);
                }
            } else if r < 92 {
                let keep = next() % 40;
                s.trim(Trim::MaxLen(keep), false, 0);
                while model.len() as u64 > keep {
                    let k = *model.keys().next().unwrap();
                    model.remove(&k);
                }
            } else {
                let keys: Vec<StreamId> = model.keys().copied().collect();
                if !keys.is_empty() {
                    let min = keys[(next() % keys.len() as u64) as usize];
                    s.trim(Trim::MinId(min), next() % 2 == 0, 0);
                    // Approximate trimming removes whole nodes only: compare what is left.
                    model.retain(|k, _| s.contains(*k));
                    assert!(model.keys().all(|k| *k >= min || s.contains(*k)));
                }
            }
            s.check_invariants();
            assert_eq!(s.len(), model.len() as u64);
            let all = s.range(StreamId::ZERO, StreamId::MAX, false, 0);
            let want: Vec<Entry> = model
                .iter()
                .map(|(k, v)| Entry {
                    id: *k,
                    fields: v.clone(),
                })
                .collect();
            assert_eq!(all, want);
            let mut rev = s.range(StreamId::ZERO, StreamId::MAX, true, 0);
            rev.reverse();
            assert_eq!(rev, want);
            // A reverse range with bounds and a count, and the last live ID.
            if let (Some(lo), Some(hi)) = (model.keys().next(), model.keys().next_back()) {
                let a = id(lo.ms + next() % (hi.ms - lo.ms + 1), next() % 2);
                let b = id(a.ms + next() % (hi.ms - a.ms + 2), next() % 2).max(a);
                let count = (next() % 5) as usize;
                let got: Vec<StreamId> = s.range(a, b, true, count).iter().map(|e| e.id).collect();
                let want: Vec<StreamId> = model
                    .range(a..=b)
                    .rev()
                    .take(if count == 0 { usize::MAX } else { count })
                    .map(|(k, _)| *k)
                    .collect();
                assert_eq!(got, want, "XREVRANGE {a:?} {b:?} COUNT {count}");
                assert_eq!(s.edge_id(false, true), *hi);
            }
        }
    }

    #[test]
    fn nodes_split_by_entries() {
        let mut s = Stream::new();
        for i in 1..=250 {
            s.append(id(i, 0), &[b"f", b"v"], 4096, 100);
        }
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.trim(Trim::MaxLen(120), true, 0), 100);
        assert_eq!(s.len(), 150);
        assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
        assert_eq!(s.first_id, id(131, 0));
    }
}
