//! The list value: a quicklist, i.e. a deque of compact chunks ("nodes"), as Redis 7.0 keeps
//! every list (OBJECT ENCODING answers `quicklist` whatever the size).
//!
//! Each node is one byte buffer holding its entries back to back. An entry is
//! `len (LEB128) | bytes | len (LEB128, bytes reversed)`: the leading length lets a reader walk
//! forwards, the trailing one (like a listpack's back-length) lets it walk backwards, so both
//! ends of a node are reached without scanning it. The nodes sit in a `VecDeque`, so pushing
//! and popping at either end of the list is O(1) plus a memmove bounded by the node size.
//!
//! How full a node may get follows `list-max-listpack-size` (the `fill`, read when the list is
//! created, as Redis does): a negative fill -1..-5 bounds a node's bytes to 4/8/16/32/64 KiB;
//! a positive fill bounds its entries (and, as Redis's safety limit, its bytes to 8 KiB). Fill
//! 0 means one entry per node. An entry larger than the bound gets a node of its own.
//!
//! Invariants (checked by [`List::check_invariants`]):
//! - no node is empty, and `len` is the sum of the nodes' entry counts;
//! - each node's buffer parses, forwards and backwards, into exactly `count` entries;
//! - each node is within the fill's bounds, or holds exactly one entry.

use std::collections::VecDeque;

/// Redis's `SIZE_SAFETY_LIMIT`: the byte bound of a node under a positive fill.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Byte bounds of a node for fill -1..-5 (Redis's `optimization_level`).
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Redis's `FILL_MAX`: larger positive fills are clamped to it.
const FILL_MAX: i32 = (1 << 15) - 1;
/// Smallest fill; smaller ones are clamped to it (Redis's `quicklistSetFill`).
const FILL_MIN: i32 = -5;
/// Redis's default `list-max-listpack-size`.
pub const FILL_DEFAULT: i32 = -2;

// ---------------------------------------------------------------------------------------------
// Entry encoding

/// Bytes the LEB128 encoding of `n` takes.
fn varint_len(mut n: usize) -> usize {
    let mut bytes = 1;
    for _ in 0..10 {
        if n < 0x80 {
            break;
        }
        n >>= 7;
        bytes += 1;
    }
    bytes
}

/// Bytes an entry of `data_len` bytes takes in a node.
fn entry_size(data_len: usize) -> usize {
    2 * varint_len(data_len) + data_len
}

/// Appends the encoded entry to `out`.
fn encode_entry(out: &mut Vec<u8>, data: &[u8]) {
    let start = out.len();
    let mut n = data.len();
    // A usize takes at most 10 LEB128 bytes.
    for _ in 0..10 {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            break;
        }
        out.push(low | 0x80);
    }
    let header_end = out.len();
    out.extend_from_slice(data);
    // The trailer is the header reversed, so reading it right to left yields the LEB128 bytes
    // in their forward order.
    for i in (start..header_end).rev() {
        out.push(out[i]);
    }
}

/// Reads the entry starting at `off`: (data start, data length, offset after the entry).
fn read_fwd(buf: &[u8], off: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = off;
    // A usize needs at most 10 LEB128 bytes; the bound keeps a corrupt buffer from looping.
    for _ in 0..10 {
        let b = buf[i];
        i += 1;
        n |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    let header = i - off;
    (i, n, i + n + header)
}

/// Reads the entry ending at `end`: (entry start, data start, data length).
fn read_back(buf: &[u8], end: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = end;
    for _ in 0..10 {
        i -= 1;
        let b = buf[i];
        n |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    let header = end - i;
    let data_start = i - n;
    (data_start - header, data_start, n)
}

// ---------------------------------------------------------------------------------------------
// Nodes

#[derive(Clone, Default)]
struct Node {
    buf: Vec<u8>,
    count: u32,
}

impl Node {
    fn with_entry(data: &[u8]) -> Node {
        let mut buf = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut buf, data);
        Node { buf, count: 1 }
    }

    /// Byte offset of entry `k` (k <= count), walking from the nearer end.
    fn offset_of(&self, k: usize) -> usize {
        let count = self.count as usize;
        debug_assert!(k <= count);
        if k <= count / 2 {
            let mut off = 0;
            for _ in 0..k {
                off = read_fwd(&self.buf, off).2;
            }
            off
        } else {
            let mut end = self.buf.len();
            for _ in 0..count - k {
                end = read_back(&self.buf, end).0;
            }
            end
        }
    }

    fn entry_at(&self, off: usize) -> &[u8] {
        let (start, len, _) = read_fwd(&self.buf, off);
        &self.buf[start..start + len]
    }

    /// Byte range of entries [from, to).
    fn byte_range(&self, from: usize, to: usize) -> std::ops::Range<usize> {
        let a = self.offset_of(from);
        let mut b = a;
        for _ in from..to {
            b = read_fwd(&self.buf, b).2;
        }
        a..b
    }
}

/// Whether a node of `count` entries and `bytes` bytes respects `fill` (Redis's
/// `_quicklistNodeAllowInsert` rules, applied to the node as it would be after the change).
fn fits(fill: i32, count: usize, bytes: usize) -> bool {
    if count <= 1 {
        return true;
    }
    if fill < 0 {
        let level = ((-fill) - 1) as usize;
        bytes <= OPTIMIZATION_LEVEL[level.min(OPTIMIZATION_LEVEL.len() - 1)]
    } else {
        bytes <= SIZE_SAFETY_LIMIT && count <= fill.max(1) as usize
    }
}

// ---------------------------------------------------------------------------------------------
// The list

/// A Redis list. See the module doc for the layout and its invariants.
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
    fill: i16,
}

impl Default for List {
    fn default() -> Self {
        List::new(FILL_DEFAULT)
    }
}

impl Clone for List {
    fn clone(&self) -> Self {
        List {
            nodes: self.nodes.clone(),
            len: self.len,
            fill: self.fill,
        }
    }
}

/// Lists are equal when their elements are, however they are split into nodes.
impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head (LEFT, index 0).
    Left,
    /// The tail (RIGHT, index len-1).
    Right,
}

impl Drop for List {
    /// A large list is freed on the lazy-free thread when dropped on the loop thread.
    fn drop(&mut self) {
        let len = self.len;
        crate::lazyfree::defer_if_large(len, || std::mem::take(&mut self.nodes));
    }
}

impl List {
    /// An empty list whose nodes follow `fill` (`list-max-listpack-size`), clamped to
    /// -5..=32767 as Redis clamps it.
    pub fn new(fill: i32) -> List {
        List {
            nodes: VecDeque::new(),
            len: 0,
            fill: fill.clamp(FILL_MIN, FILL_MAX) as i16,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// OBJECT ENCODING's answer: Redis 7.0 keeps every list as a quicklist.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Number of nodes (for tests and memory estimates).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The fill the list was created with, clamped (Redis's `quicklist.fill`, which its
    /// nodes follow even after `list-max-listpack-size` changes; DEBUG OBJECT reports it as
    /// `ql_listpack_max`).
    pub fn fill(&self) -> i32 {
        i32::from(self.fill)
    }

    /// Each node's entry count, head to tail (DEBUG OBJECT sizes the nodes from these).
    pub fn node_lens(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes.iter().map(|n| n.count as usize)
    }

    pub fn push(&mut self, end: End, data: &[u8]) {
        match end {
            End::Left => self.push_front(data),
            End::Right => self.push_back(data),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        match end {
            End::Left => self.pop_front(),
            End::Right => self.pop_back(),
        }
    }

    pub fn push_front(&mut self, data: &[u8]) {
        let fill = self.fill();
        let size = entry_size(data.len());
        match self.nodes.front_mut() {
            Some(n) if fits(fill, n.count as usize + 1, n.buf.len() + size) => {
                let mut entry = Vec::with_capacity(size);
                encode_entry(&mut entry, data);
                n.buf.splice(0..0, entry);
                n.count += 1;
            }
            _ => self.nodes.push_front(Node::with_entry(data)),
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, data: &[u8]) {
        let fill = self.fill();
        let size = entry_size(data.len());
        match self.nodes.back_mut() {
            Some(n) if fits(fill, n.count as usize + 1, n.buf.len() + size) => {
                encode_entry(&mut n.buf, data);
                n.count += 1;
            }
            _ => self.nodes.push_back(Node::with_entry(data)),
        }
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let (start, len, next) = read_fwd(&n.buf, 0);
        let data = n.buf[start..start + len].to_vec();
        n.buf.drain(..next);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.pop_front();
        }
        self.len -= 1;
        Some(data)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.back_mut()?;
        let (entry_start, start, len) = read_back(&n.buf, n.buf.len());
        let data = n.buf[start..start + len].to_vec();
        n.buf.truncate(entry_start);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.pop_back();
        }
        self.len -= 1;
        Some(data)
    }

    /// The node holding element `index` (< len) and the index within it, walking from the
    /// nearer end of the list.
    fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.len);
        if index < self.len / 2 {
            let mut skipped = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                let c = n.count as usize;
                if index < skipped + c {
                    return (i, index - skipped);
                }
                skipped += c;
            }
        } else {
            let mut after = self.len;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                let c = n.count as usize;
                let first = after - c;
                if index >= first {
                    return (i, index - first);
                }
                after = first;
            }
        }
        unreachable!("List::locate: index {index} within len {}", self.len)
    }

    /// Element `index` (0-based from the head), or None past the end.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        if index >= self.len {
            return None;
        }
        let (i, k) = self.locate(index);
        let n = &self.nodes[i];
        Some(n.entry_at(n.offset_of(k)))
    }

    /// Redis's index convention: negative counts from the tail. None if out of range.
    pub fn resolve_index(&self, index: i64) -> Option<usize> {
        let len = self.len as i64;
        let i = if index < 0 { len + index } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// Replaces element `index`; false if out of range.
    pub fn set(&mut self, index: usize, data: &[u8]) -> bool {
        if index >= self.len {
            return false;
        }
        let (i, k) = self.locate(index);
        let n = &mut self.nodes[i];
        let off = n.offset_of(k);
        let next = read_fwd(&n.buf, off).2;
        let mut entry = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut entry, data);
        n.buf.splice(off..next, entry);
        self.split_if_needed(i);
        true
    }

    /// Inserts `data` so that it becomes element `index` (index <= len).
    pub fn insert(&mut self, index: usize, data: &[u8]) {
        assert!(index <= self.len, "List::insert: index past the end");
        if index == 0 {
            return self.push_front(data);
        }
        if index == self.len {
            return self.push_back(data);
        }
        let (i, k) = self.locate(index);
        let n = &mut self.nodes[i];
        let off = n.offset_of(k);
        let mut entry = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut entry, data);
        n.buf.splice(off..off, entry);
        n.count += 1;
        self.len += 1;
        self.split_if_needed(i);
    }

    /// Splits node `i` into nodes within the fill's bounds if it exceeds them (after an insert
    /// or a replacement grew it). Greedy: each new node takes entries while they fit.
    fn split_if_needed(&mut self, i: usize) {
        let fill = self.fill();
        let n = &self.nodes[i];
        if fits(fill, n.count as usize, n.buf.len()) {
            return;
        }
        let old = std::mem::take(&mut self.nodes[i]);
        let mut parts: Vec<Node> = Vec::new();
        let mut cur = Node::default();
        let mut off = 0;
        for _ in 0..old.count {
            let next = read_fwd(&old.buf, off).2;
            let size = next - off;
            if cur.count > 0 && !fits(fill, cur.count as usize + 1, cur.buf.len() + size) {
                parts.push(std::mem::take(&mut cur));
            }
            cur.buf.extend_from_slice(&old.buf[off..next]);
            cur.count += 1;
            off = next;
        }
        debug_assert_eq!(off, old.buf.len());
        parts.push(cur);
        self.nodes.splice_at(i, parts);
    }

    /// After entries were removed around node `i`: drops it if empty, else merges it with a
    /// neighbour when the two fit in one node, so deletions in the middle do not leave many
    /// small nodes behind.
    fn compact_at(&mut self, i: usize) {
        if i >= self.nodes.len() {
            return;
        }
        if self.nodes[i].count == 0 {
            self.nodes.remove(i);
            return;
        }
        let fill = self.fill();
        let try_merge = |nodes: &mut VecDeque<Node>, a: usize| {
            if a + 1 >= nodes.len() {
                return false;
            }
            let (x, y) = (&nodes[a], &nodes[a + 1]);
            if !fits(
                fill,
                (x.count + y.count) as usize,
                x.buf.len() + y.buf.len(),
            ) {
                return false;
            }
            if let Some(y) = nodes.remove(a + 1) {
                let x = &mut nodes[a];
                x.buf.extend_from_slice(&y.buf);
                x.count += y.count;
            }
            true
        };
        try_merge(&mut self.nodes, i);
        if i > 0 {
            try_merge(&mut self.nodes, i - 1);
        }
    }

    /// Removes `count` elements starting at `start` (clamped to the list). Returns how many
    /// were removed.
    pub fn remove_range(&mut self, start: usize, count: usize) -> usize {
        if start >= self.len || count == 0 {
            return 0;
        }
        let count = count.min(self.len - start);
        let (mut i, mut k) = self.locate(start);
        let mut left = count;
        let mut touched = i;
        // Each pass consumes the rest of a node or finishes; nodes.len() bounds the passes.
        for _ in 0..=self.nodes.len() {
            if left == 0 {
                break;
            }
            let n = &mut self.nodes[i];
            let c = n.count as usize;
            let take = left.min(c - k);
            if take == c {
                self.nodes.remove(i);
            } else {
                let r = n.byte_range(k, k + take);
                n.buf.drain(r);
                n.count -= take as u32;
                i += 1;
            }
            touched = i;
            left -= take;
            k = 0;
        }
        debug_assert_eq!(left, 0);
        self.len -= count;
        // At most two partly trimmed nodes meet at the cut: merge them if they fit.
        if touched > 0 {
            self.compact_at(touched - 1);
        }
        count
    }

    /// LREM: removes up to `limit` elements equal to `value` (all if `limit` is None),
    /// scanning from the tail when `from_tail`. Returns how many were removed.
    pub fn remove_matching(
        &mut self,
        value: &[u8],
        limit: Option<usize>,
        from_tail: bool,
    ) -> usize {
        let limit = limit.unwrap_or(usize::MAX);
        let mut removed = 0;
        let node_total = self.nodes.len();
        let order: Box<dyn Iterator<Item = usize>> = if from_tail {
            Box::new((0..node_total).rev())
        } else {
            Box::new(0..node_total)
        };
        let mut changed: Vec<usize> = Vec::new();
        for i in order {
            if removed >= limit {
                break;
            }
            let n = &mut self.nodes[i];
            // Entry byte ranges of this node, in list order.
            let mut spans = Vec::with_capacity(n.count as usize);
            let mut off = 0;
            for _ in 0..n.count {
                let (s, l, next) = read_fwd(&n.buf, off);
                spans.push((off, next, &n.buf[s..s + l] == value));
                off = next;
            }
            let mut drop_mask = vec![false; spans.len()];
            let idx: Box<dyn Iterator<Item = usize>> = if from_tail {
                Box::new((0..spans.len()).rev())
            } else {
                Box::new(0..spans.len())
            };
            let mut here = 0;
            for j in idx {
                if removed >= limit {
                    break;
                }
                if spans[j].2 {
                    drop_mask[j] = true;
                    removed += 1;
                    here += 1;
                }
            }
            if here == 0 {
                continue;
            }
            let mut buf = Vec::with_capacity(n.buf.len());
            for (j, &(a, b, _)) in spans.iter().enumerate() {
                if !drop_mask[j] {
                    buf.extend_from_slice(&n.buf[a..b]);
                }
            }
            n.buf = buf;
            n.count -= here as u32;
            changed.push(i);
        }
        self.len -= removed;
        // Compact from the highest index down so earlier indexes stay valid.
        changed.sort_unstable();
        for &i in changed.iter().rev() {
            self.compact_at(i);
        }
        removed
    }

    /// Index of the first element equal to `value`, from the head.
    pub fn position(&self, value: &[u8]) -> Option<usize> {
        self.iter().position(|e| e == value)
    }

    /// All elements, head to tail (double-ended: `.rev()` walks tail to head).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            front: (0, 0),
            back: (self.nodes.len(), 0),
            remaining: self.len,
        }
    }

    /// Elements from index `start` (<= len) to the tail.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        if start >= self.len {
            return Iter {
                list: self,
                front: (self.nodes.len(), 0),
                back: (self.nodes.len(), 0),
                remaining: 0,
            };
        }
        let (i, k) = self.locate(start);
        Iter {
            list: self,
            front: (i, self.nodes[i].offset_of(k)),
            back: (self.nodes.len(), 0),
            remaining: self.len - start,
        }
    }

    /// Panics with a message if an invariant of the module doc is broken. O(n).
    pub fn check_invariants(&self) {
        let fill = self.fill();
        assert!((FILL_MIN..=FILL_MAX).contains(&fill), "List: fill {fill}");
        let mut total = 0usize;
        for (i, n) in self.nodes.iter().enumerate() {
            assert!(n.count > 0, "List: node {i} is empty");
            let mut off = 0;
            let mut fwd = Vec::new();
            for _ in 0..n.count {
                assert!(off < n.buf.len(), "List: node {i} ends early");
                let (s, l, next) = read_fwd(&n.buf, off);
                assert!(next <= n.buf.len(), "List: node {i} entry overruns");
                fwd.push((off, s, l));
                off = next;
            }
            assert_eq!(off, n.buf.len(), "List: node {i} has trailing bytes");
            let mut end = n.buf.len();
            for &(start, s, l) in fwd.iter().rev() {
                let (bs, bd, bl) = read_back(&n.buf, end);
                assert_eq!((bs, bd, bl), (start, s, l), "List: node {i} back-length");
                end = bs;
            }
            assert!(
                fits(fill, n.count as usize, n.buf.len()),
                "List: node {i} ({} entries, {} bytes) exceeds fill {fill}",
                n.count,
                n.buf.len()
            );
            total += n.count as usize;
        }
        assert_eq!(
            total, self.len,
            "List: len {} but nodes hold {total}",
            self.len
        );
        assert_eq!(self.iter().count(), self.len);
        assert_eq!(self.iter().rev().count(), self.len);
    }
}

/// Replaces one element of a deque by a sequence (used to split a node).
trait SpliceAt<T> {
    fn splice_at(&mut self, i: usize, items: Vec<T>);
}

impl<T: Default> SpliceAt<T> for VecDeque<T> {
    fn splice_at(&mut self, i: usize, items: Vec<T>) {
        let mut items = items.into_iter();
        if let Some(first) = items.next() {
            self[i] = first;
        }
        for (j, it) in items.enumerate() {
            self.insert(i + 1 + j, it);
        }
    }
}

/// Iterator over a list's elements. The front cursor is (node, byte offset of the next
/// entry); the back cursor is (node, byte end of the next entry from the back), where a node
/// index equal to the node count, or an end of 0, means "start of the previous node".
pub struct Iter<'a> {
    list: &'a List,
    front: (usize, usize),
    back: (usize, usize),
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let nodes = &self.list.nodes;
        // No node is empty, so one step reaches the next entry.
        if self.front.1 >= nodes[self.front.0].buf.len() {
            self.front = (self.front.0 + 1, 0);
        }
        let n = &nodes[self.front.0];
        let (s, l, next) = read_fwd(&n.buf, self.front.1);
        self.front.1 = next;
        self.remaining -= 1;
        Some(&n.buf[s..s + l])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let nodes = &self.list.nodes;
        // No node is empty, so one step reaches the previous entry.
        if self.back.1 == 0 {
            let i = self.back.0 - 1;
            self.back = (i, nodes[i].buf.len());
        }
        let n = &nodes[self.back.0];
        let (es, s, l) = read_back(&n.buf, self.back.1);
        self.back.1 = es;
        self.remaining -= 1;
        Some(&n.buf[s..s + l])
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_roundtrip() {
        for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut buf = vec![9u8; 3];
            encode_entry(&mut buf, &data);
            assert_eq!(buf.len(), 3 + entry_size(len));
            let (s, l, next) = read_fwd(&buf, 3);
            assert_eq!((&buf[s..s + l], next), (&data[..], buf.len()));
            let (es, s2, l2) = read_back(&buf, buf.len());
            assert_eq!((es, s2, l2), (3, s, l));
        }
    }

    #[test]
    fn fill_bounds() {
        assert!(fits(-2, 100, 8192));
        assert!(!fits(-2, 100, 8193));
        assert!(fits(-2, 1, 1 << 20));
        assert!(fits(3, 3, 10));
        assert!(!fits(3, 4, 10));
        assert!(!fits(0, 2, 2));
        assert!(!fits(100, 50, 9000));
        assert_eq!(List::new(-100).fill(), -5);
        assert_eq!(List::new(1 << 20).fill(), FILL_MAX);
    }

    #[test]
    fn stays_compact_after_deletions() {
        // 10k 1-byte elements take 3 bytes each: about 2.7k per 8 KiB node.
        let mut l = List::new(-2);
        for i in 0..10_000u32 {
            l.push_back(if i % 2 == 0 { b"a" } else { b"b" });
        }
        assert_eq!(l.node_count(), 10_000usize.div_ceil(8192 / 3));
        // Removing every "a" halves each node; neighbours merge back together.
        assert_eq!(l.remove_matching(b"a", None, false), 5_000);
        l.check_invariants();
        assert!(l.node_count() <= 3, "{} nodes", l.node_count());
        // Trimming both ends drops whole nodes and merges what meets at the cut.
        assert_eq!(l.remove_range(0, 1_000), 1_000);
        assert_eq!(l.remove_range(l.len() - 1_000, 1_000), 1_000);
        l.check_invariants();
        assert_eq!(l.len(), 3_000);
        assert!(l.node_count() <= 2, "{} nodes", l.node_count());
    }

    #[test]
    fn both_ends_and_middle() {
        let mut l = List::new(2);
        for i in 0..10 {
            l.push_back(format!("{i}").as_bytes());
        }
        l.push_front(b"x");
        l.insert(5, b"mid");
        l.check_invariants();
        assert_eq!(l.get(5), Some(&b"mid"[..]));
        assert_eq!(l.pop_front().as_deref(), Some(&b"x"[..]));
        assert_eq!(l.pop_back().as_deref(), Some(&b"9"[..]));
        let all: Vec<&[u8]> = l.iter().collect();
        let rev: Vec<&[u8]> = l.iter().rev().collect();
        assert_eq!(all.len(), 10);
        assert_eq!(all.iter().rev().copied().collect::<Vec<_>>(), rev);
        assert_eq!(l.iter_from(4).next(), Some(&b"mid"[..]));
        l.check_invariants();
    }
}
