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
//! Compression follows `list-compress-depth` (the `depth`, also read when the list is created,
//! as Redis does): with depth N > 0 the N nodes at each end stay plain and every node between
//! them is kept LZF-compressed, as Redis's quicklist does, so pushes and pops at the ends never
//! touch compressed data. A read of an interior element decompresses a copy of its node; a
//! write decompresses the node in place, changes it and compresses it again. A node is left
//! plain when compressing would not pay (Redis's rules: under 48 bytes, or saving under 8), and
//! remembers that until its bytes change, so it is not tried again on every operation.
//!
//! Invariants (checked by [`List::check_invariants`]):
//! - no node is empty, and `len` is the sum of the nodes' entry counts;
//! - each node's (decompressed) buffer parses, forwards and backwards, into exactly `count`
//!   entries;
//! - each node is within the fill's bounds, or holds exactly one entry;
//! - an element of at least the packed threshold (DEBUG QUICKLIST-PACKED-THRESHOLD, 1 GiB by
//!   default) is alone in its node (Redis's plain nodes);
//! - the `depth` nodes at each end are plain; every other node is compressed, or plain and
//!   marked as not worth compressing (which it is not).

use std::borrow::Cow;
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
/// Redis's `COMPRESS_MAX`: larger `list-compress-depth` values are clamped to it.
const COMPRESS_DEPTH_MAX: u32 = (1 << 16) - 1;
/// Redis's `MIN_COMPRESS_BYTES`: smaller nodes are never compressed.
const MIN_COMPRESS_BYTES: usize = 48;
/// Redis's `MIN_COMPRESS_IMPROVE`: compression must save more than this many bytes.
const MIN_COMPRESS_IMPROVE: usize = 8;

/// How a new list is shaped: `list-max-listpack-size` and `list-compress-depth` at the time it
/// is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub fill: i32,
    pub compress_depth: u32,
}

impl Default for Shape {
    /// Redis 7.0's defaults: 8 KiB nodes, no compression.
    fn default() -> Self {
        Shape {
            fill: FILL_DEFAULT,
            compress_depth: 0,
        }
    }
}

/// `data` LZF-compressed under Redis's rules (`__quicklistCompressNode`): only when it is at
/// least `MIN_COMPRESS_BYTES` long and the result is more than `MIN_COMPRESS_IMPROVE` bytes
/// shorter. The RDB writer uses the same rule for the nodes it writes compressed.
pub fn lzf_compress_node(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < MIN_COMPRESS_BYTES || u32::try_from(data.len()).is_err() {
        return None;
    }
    let mut c = lzf::compress(data).ok()?;
    if c.is_empty() || c.len() + MIN_COMPRESS_IMPROVE >= data.len() {
        return None;
    }
    c.shrink_to_fit();
    Some(c)
}

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

/// `Node::state` of a plain node not yet tried for compression (or changed since).
const PLAIN: u32 = 0;
/// `Node::state` of a plain node whose bytes do not compress well enough.
const PLAIN_INCOMPRESSIBLE: u32 = u32::MAX;

#[derive(Clone, Default)]
struct Node {
    /// The entries, or their LZF compression when `state` is neither `PLAIN` nor
    /// `PLAIN_INCOMPRESSIBLE` (then `state` is their uncompressed length).
    buf: Vec<u8>,
    count: u32,
    state: u32,
}

/// Byte offset of entry `k` (k <= count) of the plain node bytes `buf`, walking from the
/// nearer end.
fn offset_in(buf: &[u8], count: usize, k: usize) -> usize {
    debug_assert!(k <= count);
    if k <= count / 2 {
        let mut off = 0;
        for _ in 0..k {
            off = read_fwd(buf, off).2;
        }
        off
    } else {
        let mut end = buf.len();
        for _ in 0..count - k {
            end = read_back(buf, end).0;
        }
        end
    }
}

fn entry_in(buf: &[u8], off: usize) -> &[u8] {
    let (start, len, _) = read_fwd(buf, off);
    &buf[start..start + len]
}

impl Node {
    fn with_entry(data: &[u8]) -> Node {
        let mut buf = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut buf, data);
        Node {
            buf,
            count: 1,
            state: PLAIN,
        }
    }

    fn is_compressed(&self) -> bool {
        self.state != PLAIN && self.state != PLAIN_INCOMPRESSIBLE
    }

    /// The entries' bytes: borrowed when plain, a decompressed copy when compressed.
    fn plain(&self) -> Cow<'_, [u8]> {
        if !self.is_compressed() {
            return Cow::Borrowed(&self.buf);
        }
        match lzf::decompress(&self.buf, self.state as usize) {
            Ok(v) => Cow::Owned(v),
            // Only this module writes `buf`, from `lzf::compress` output of `state` bytes.
            Err(e) => panic!("List: a compressed node does not decompress: {e}"),
        }
    }

    /// Bytes of the entries once decompressed.
    fn plain_len(&self) -> usize {
        if self.is_compressed() {
            self.state as usize
        } else {
            self.buf.len()
        }
    }

    /// The entries' bytes for a change: decompressed in place first if needed, and marked
    /// as changed, so the node is tried for compression again.
    fn plain_mut(&mut self) -> &mut Vec<u8> {
        if self.is_compressed() {
            self.buf = self.plain().into_owned();
        }
        self.state = PLAIN;
        &mut self.buf
    }

    /// Makes the node plain (without marking it changed).
    fn decompress(&mut self) {
        if self.is_compressed() {
            self.buf = self.plain().into_owned();
            self.state = PLAIN;
        }
    }

    /// Compresses a plain node if it was not found incompressible already.
    fn compress(&mut self) {
        if self.state != PLAIN {
            return;
        }
        match lzf_compress_node(&self.buf) {
            Some(c) => {
                self.state = self.buf.len() as u32;
                self.buf = c;
            }
            None => self.state = PLAIN_INCOMPRESSIBLE,
        }
    }

    /// Bytes of heap this node's buffer holds (its capacity).
    fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }
}

/// The most bytes a node of several entries may hold under `fill`.
fn byte_bound(fill: i32) -> usize {
    if fill < 0 {
        let level = ((-fill) - 1) as usize;
        OPTIMIZATION_LEVEL[level.min(OPTIMIZATION_LEVEL.len() - 1)]
    } else {
        SIZE_SAFETY_LIMIT
    }
}

/// Makes room for `extra` more bytes in a node buffer, doubling as a `Vec` does but never
/// past the node's byte bound: plain doubling from a first entry of 100 bytes reached 12,800
/// bytes of capacity for a node the bound stops at 8,192, which cost a list of 100-byte
/// elements 57% more memory than its bytes.
fn reserve_in_node(buf: &mut Vec<u8>, extra: usize, bound: usize) {
    let need = buf.len() + extra;
    if need > buf.capacity() {
        let target = (buf.capacity() * 2).max(need).min(bound.max(need));
        buf.reserve_exact(target - buf.len());
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

/// Redis's `packed_threshold` (DEBUG QUICKLIST-PACKED-THRESHOLD; default 1 GiB): an element of
/// at least this many bytes is "large" and lives alone in its node, never packed with others
/// (Redis's plain nodes). Process-wide, as in Redis.
static PACKED_THRESHOLD: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(PACKED_THRESHOLD_DEFAULT);
/// Redis's default `packed_threshold`.
const PACKED_THRESHOLD_DEFAULT: usize = 1 << 30;

/// DEBUG QUICKLIST-PACKED-THRESHOLD: 0 means the default; more than 4 GiB − 1 MiB is refused
/// (Redis's `quicklistisSetPackedThreshold`). Lists built before keep their nodes.
pub fn set_packed_threshold(bytes: u64) -> bool {
    if bytes > (1u64 << 32) - (1 << 20) {
        return false;
    }
    let v = if bytes == 0 {
        PACKED_THRESHOLD_DEFAULT
    } else {
        bytes as usize
    };
    PACKED_THRESHOLD.store(v, std::sync::atomic::Ordering::Relaxed);
    true
}

fn packed_threshold() -> usize {
    PACKED_THRESHOLD.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether an element of `data_len` bytes is large (Redis's `isLargeElement`).
fn is_large(data_len: usize) -> bool {
    data_len >= packed_threshold()
}

/// Whether a node holds one large element (Redis's plain node): nothing joins it.
fn is_plain_node(n: &Node) -> bool {
    n.count == 1 && {
        let buf = n.plain();
        is_large(read_fwd(&buf, 0).1)
    }
}

/// Whether a node of several entries holds a large one (it must be split).
fn holds_large(buf: &[u8], count: usize) -> bool {
    // No entry is larger than the node: nothing to look for below the threshold.
    if count < 2 || buf.len() < packed_threshold() {
        return false;
    }
    let mut off = 0;
    for _ in 0..count {
        let (_, len, next) = read_fwd(buf, off);
        if is_large(len) {
            return true;
        }
        off = next;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// The list

/// A Redis list. See the module doc for the layout and its invariants.
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
    fill: i16,
    /// `list-compress-depth` when the list was made, clamped to `COMPRESS_DEPTH_MAX`.
    depth: u16,
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
            depth: self.depth,
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
            .entries(
                self.iter()
                    .map(|e| String::from_utf8_lossy(&e).into_owned()),
            )
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
    /// An empty, uncompressed list whose nodes follow `fill` (`list-max-listpack-size`),
    /// clamped to -5..=32767 as Redis clamps it.
    pub fn new(fill: i32) -> List {
        List::with_shape(Shape {
            fill,
            compress_depth: 0,
        })
    }

    /// An empty list with `shape`'s fill and compression depth (the depth clamped to 65535,
    /// as Redis's `quicklistSetCompressDepth`).
    pub fn with_shape(shape: Shape) -> List {
        List {
            nodes: VecDeque::new(),
            len: 0,
            fill: shape.fill.clamp(FILL_MIN, FILL_MAX) as i16,
            depth: shape.compress_depth.min(COMPRESS_DEPTH_MAX) as u16,
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

    /// The compression depth the list was created with (Redis's `quicklist.compress`).
    pub fn compress_depth(&self) -> u32 {
        u32::from(self.depth)
    }

    /// How many nodes are compressed now.
    pub fn compressed_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_compressed()).count()
    }

    /// Each node's entry count, head to tail (DEBUG OBJECT sizes the nodes from these).
    pub fn node_lens(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes.iter().map(|n| n.count as usize)
    }

    /// Heap bytes the list holds, as the allocator counts them: the node array and each
    /// node's buffer at their capacities (`usable` maps a request to the allocator's size).
    pub fn heap_bytes(&self, usable: impl Fn(usize) -> usize) -> usize {
        self.heap_bytes_sampled(usize::MAX, usable)
    }

    /// `heap_bytes` with the node buffers averaged over the first `samples` nodes and
    /// multiplied by the node count (MEMORY USAGE's sampling, as Redis's for quicklists).
    pub fn heap_bytes_sampled(&self, samples: usize, usable: impl Fn(usize) -> usize) -> usize {
        let block = |b: usize| if b > 0 { usable(b) } else { 0 };
        let array = block(self.nodes.capacity() * std::mem::size_of::<Node>());
        let mut seen = 0usize;
        let mut sum = 0usize;
        for n in self.nodes.iter().take(samples) {
            sum += block(n.heap_bytes());
            seen += 1;
        }
        let nodes = if seen == 0 || seen == self.nodes.len() {
            sum
        } else {
            (sum as f64 / seen as f64 * self.nodes.len() as f64) as usize
        };
        array + nodes
    }

    /// Whether node `i` should be compressed: it is not among the `depth` nodes at either end.
    fn wants_compression(&self, i: usize) -> bool {
        let depth = usize::from(self.depth);
        depth > 0 && i >= depth && i + depth < self.nodes.len()
    }

    /// Brings node `i` (if it exists) to the state its position asks for.
    fn settle_node(&mut self, i: usize) {
        if i >= self.nodes.len() {
            return;
        }
        if self.wants_compression(i) {
            self.nodes[i].compress();
        } else {
            self.nodes[i].decompress();
        }
    }

    /// After the node count changed by up to `shift` at some place, or nodes in `touched`
    /// changed: settles those nodes and the ones whose distance to an end may have crossed
    /// the depth (within `shift` of it, from each end). O(shift + touched) nodes.
    fn settle(&mut self, touched: std::ops::Range<usize>, shift: usize) {
        if self.depth == 0 {
            return;
        }
        let depth = usize::from(self.depth);
        let n = self.nodes.len();
        for i in touched {
            self.settle_node(i);
        }
        let lo = depth.saturating_sub(shift + 1);
        for d in lo..=depth + shift {
            if d >= n {
                break;
            }
            self.settle_node(d);
            self.settle_node(n - 1 - d);
        }
    }

    /// Settles every node (after a change that touched nodes all over the list). Nodes
    /// already in their state, and plain nodes known not to compress, cost a test each.
    fn settle_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.settle_node(i);
        }
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
        let large = is_large(data.len());
        match self.nodes.front_mut() {
            Some(n)
                if !large
                    && fits(fill, n.count as usize + 1, n.plain_len() + size)
                    && !is_plain_node(n) =>
            {
                let mut entry = Vec::with_capacity(size);
                encode_entry(&mut entry, data);
                let buf = n.plain_mut();
                reserve_in_node(buf, size, byte_bound(fill));
                buf.splice(0..0, entry);
                n.count += 1;
            }
            _ => {
                self.nodes.push_front(Node::with_entry(data));
                self.settle(0..0, 1);
            }
        }
        self.len += 1;
    }

    pub fn push_back(&mut self, data: &[u8]) {
        let fill = self.fill();
        let size = entry_size(data.len());
        let large = is_large(data.len());
        match self.nodes.back_mut() {
            Some(n)
                if !large
                    && fits(fill, n.count as usize + 1, n.plain_len() + size)
                    && !is_plain_node(n) =>
            {
                let buf = n.plain_mut();
                reserve_in_node(buf, size, byte_bound(fill));
                encode_entry(buf, data);
                n.count += 1;
            }
            _ => {
                self.nodes.push_back(Node::with_entry(data));
                self.settle(0..0, 1);
            }
        }
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let buf = n.plain_mut();
        let (start, len, next) = read_fwd(buf, 0);
        let data = buf[start..start + len].to_vec();
        buf.drain(..next);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.pop_front();
            self.settle(0..0, 1);
        }
        self.len -= 1;
        Some(data)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.back_mut()?;
        let buf = n.plain_mut();
        let (entry_start, start, len) = read_back(buf, buf.len());
        let data = buf[start..start + len].to_vec();
        buf.truncate(entry_start);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.pop_back();
            self.settle(0..0, 1);
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

    /// Element `index` (0-based from the head), or None past the end. Borrowed from a plain
    /// node, copied out of a compressed one.
    pub fn get(&self, index: usize) -> Option<Cow<'_, [u8]>> {
        if index >= self.len {
            return None;
        }
        let (i, k) = self.locate(index);
        let n = &self.nodes[i];
        Some(match n.plain() {
            Cow::Borrowed(b) => Cow::Borrowed(entry_in(b, offset_in(b, n.count as usize, k))),
            Cow::Owned(b) => Cow::Owned(entry_in(&b, offset_in(&b, n.count as usize, k)).to_vec()),
        })
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
        let count = n.count as usize;
        let buf = n.plain_mut();
        let off = offset_in(buf, count, k);
        let next = read_fwd(buf, off).2;
        let mut entry = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut entry, data);
        buf.splice(off..next, entry);
        let parts = self.split_if_needed(i);
        self.settle(i..i + parts, parts - 1);
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
        let count = n.count as usize;
        let buf = n.plain_mut();
        let off = offset_in(buf, count, k);
        let mut entry = Vec::with_capacity(entry_size(data.len()));
        encode_entry(&mut entry, data);
        buf.splice(off..off, entry);
        n.count += 1;
        self.len += 1;
        let parts = self.split_if_needed(i);
        self.settle(i..i + parts, parts - 1);
    }

    /// Splits the plain node `i` into nodes within the fill's bounds if it exceeds them
    /// (after an insert or a replacement grew it). Greedy: each new node takes entries while
    /// they fit. Returns how many nodes it became (1 when it fitted).
    fn split_if_needed(&mut self, i: usize) -> usize {
        let fill = self.fill();
        let n = &self.nodes[i];
        debug_assert!(!n.is_compressed());
        if fits(fill, n.count as usize, n.buf.len()) && !holds_large(&n.buf, n.count as usize) {
            return 1;
        }
        let old = std::mem::take(&mut self.nodes[i]);
        let mut parts: Vec<Node> = Vec::new();
        let mut cur = Node::default();
        let mut cur_alone = false;
        let mut off = 0;
        for _ in 0..old.count {
            let (_, len, next) = read_fwd(&old.buf, off);
            let size = next - off;
            // A large element goes alone: it ends the node before it and starts its own.
            let alone = is_large(len);
            if cur.count > 0
                && (alone || cur_alone || !fits(fill, cur.count as usize + 1, cur.buf.len() + size))
            {
                parts.push(std::mem::take(&mut cur));
            }
            cur.buf.extend_from_slice(&old.buf[off..next]);
            cur.count += 1;
            cur_alone = alone;
            off = next;
        }
        debug_assert_eq!(off, old.buf.len());
        parts.push(cur);
        let made = parts.len();
        self.nodes.splice_at(i, parts);
        made
    }

    /// After entries were removed around node `i`: drops it if empty, else merges it with a
    /// neighbour when the two fit in one node, so deletions in the middle do not leave many
    /// small nodes behind. The caller settles compression afterwards.
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
                x.plain_len() + y.plain_len(),
            ) || is_plain_node(x)
                || is_plain_node(y)
            {
                return false;
            }
            if let Some(y) = nodes.remove(a + 1) {
                let x = &mut nodes[a];
                x.plain_mut().extend_from_slice(&y.plain());
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
                let buf = n.plain_mut();
                let a = offset_in(buf, c, k);
                let mut b = a;
                for _ in 0..take {
                    b = read_fwd(buf, b).2;
                }
                buf.drain(a..b);
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
        // Whole nodes may have gone from anywhere: every node's distance to an end may
        // have changed.
        self.settle_all();
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
            let plain = n.plain();
            // Entry byte ranges of this node, in list order.
            let mut spans = Vec::with_capacity(n.count as usize);
            let mut off = 0;
            for _ in 0..n.count {
                let (s, l, next) = read_fwd(&plain, off);
                spans.push((off, next, &plain[s..s + l] == value));
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
            let mut buf = Vec::with_capacity(plain.len());
            for (j, &(a, b, _)) in spans.iter().enumerate() {
                if !drop_mask[j] {
                    buf.extend_from_slice(&plain[a..b]);
                }
            }
            drop(plain);
            *n.plain_mut() = buf;
            n.count -= here as u32;
            changed.push(i);
        }
        self.len -= removed;
        // Compact from the highest index down so earlier indexes stay valid.
        changed.sort_unstable();
        for &i in changed.iter().rev() {
            self.compact_at(i);
        }
        if !changed.is_empty() {
            self.settle_all();
        }
        removed
    }

    /// Index of the first element equal to `value`, from the head.
    pub fn position(&self, value: &[u8]) -> Option<usize> {
        self.iter().position(|e| *e == *value)
    }

    /// All elements, head to tail (double-ended: `.rev()` walks tail to head).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            front: (0, 0),
            back: (self.nodes.len(), 0),
            front_copy: None,
            back_copy: None,
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
                front_copy: None,
                back_copy: None,
                remaining: 0,
            };
        }
        let (i, k) = self.locate(start);
        let n = &self.nodes[i];
        let plain = n.plain();
        let off = offset_in(&plain, n.count as usize, k);
        Iter {
            list: self,
            front: (i, off),
            back: (self.nodes.len(), 0),
            front_copy: match plain {
                Cow::Owned(b) => Some(b),
                Cow::Borrowed(_) => None,
            },
            back_copy: None,
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
            if self.wants_compression(i) {
                if !n.is_compressed() {
                    assert_eq!(
                        n.state, PLAIN_INCOMPRESSIBLE,
                        "List: node {i} not compressed"
                    );
                    assert!(
                        lzf_compress_node(&n.buf).is_none(),
                        "List: node {i} marked incompressible compresses"
                    );
                }
            } else {
                assert!(!n.is_compressed(), "List: end node {i} is compressed");
            }
            let buf = n.plain();
            let mut off = 0;
            let mut fwd = Vec::new();
            for _ in 0..n.count {
                assert!(off < buf.len(), "List: node {i} ends early");
                let (s, l, next) = read_fwd(&buf, off);
                assert!(next <= buf.len(), "List: node {i} entry overruns");
                fwd.push((off, s, l));
                off = next;
            }
            assert_eq!(off, buf.len(), "List: node {i} has trailing bytes");
            let mut end = buf.len();
            for &(start, s, l) in fwd.iter().rev() {
                let (bs, bd, bl) = read_back(&buf, end);
                assert_eq!((bs, bd, bl), (start, s, l), "List: node {i} back-length");
                end = bs;
            }
            assert!(
                fits(fill, n.count as usize, buf.len()),
                "List: node {i} ({} entries, {} bytes) exceeds fill {fill}",
                n.count,
                buf.len()
            );
            assert!(
                !holds_large(&buf, n.count as usize),
                "List: node {i} packs a large element with others"
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
/// index equal to the node count, or an end of 0, means "start of the previous node". While a
/// cursor is in a compressed node it reads a decompressed copy of that node (`*_copy`), and
/// yields copies of its elements; plain nodes' elements are borrowed.
pub struct Iter<'a> {
    list: &'a List,
    front: (usize, usize),
    back: (usize, usize),
    front_copy: Option<Vec<u8>>,
    back_copy: Option<Vec<u8>>,
    remaining: usize,
}

/// Enters node `i` with a cursor: a decompressed copy when it is compressed.
fn enter(list: &List, i: usize) -> Option<Vec<u8>> {
    let n = &list.nodes[i];
    n.is_compressed().then(|| n.plain().into_owned())
}

impl<'a> Iterator for Iter<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Cow<'a, [u8]>> {
        if self.remaining == 0 {
            return None;
        }
        let list = self.list;
        // No node is empty, so one step reaches the next entry.
        if self.front.1 >= list.nodes[self.front.0].plain_len() {
            self.front = (self.front.0 + 1, 0);
            self.front_copy = enter(list, self.front.0);
        } else if self.front.1 == 0 && self.front_copy.is_none() {
            self.front_copy = enter(list, self.front.0);
        }
        self.remaining -= 1;
        let i = self.front.0;
        match &self.front_copy {
            Some(c) => {
                let (s, l, next) = read_fwd(c, self.front.1);
                self.front.1 = next;
                Some(Cow::Owned(c[s..s + l].to_vec()))
            }
            None => {
                let b: &'a [u8] = &list.nodes[i].buf;
                let (s, l, next) = read_fwd(b, self.front.1);
                self.front.1 = next;
                Some(Cow::Borrowed(&b[s..s + l]))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<Cow<'a, [u8]>> {
        if self.remaining == 0 {
            return None;
        }
        let list = self.list;
        // No node is empty, so one step reaches the previous entry.
        if self.back.1 == 0 {
            let i = self.back.0 - 1;
            self.back_copy = enter(list, i);
            self.back = (i, list.nodes[i].plain_len());
        }
        self.remaining -= 1;
        let i = self.back.0;
        match &self.back_copy {
            Some(c) => {
                let (es, s, l) = read_back(c, self.back.1);
                self.back.1 = es;
                Some(Cow::Owned(c[s..s + l].to_vec()))
            }
            None => {
                let b: &'a [u8] = &list.nodes[i].buf;
                let (es, s, l) = read_back(b, self.back.1);
                self.back.1 = es;
                Some(Cow::Borrowed(&b[s..s + l]))
            }
        }
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
        assert_eq!(l.get(5).as_deref(), Some(&b"mid"[..]));
        assert_eq!(l.pop_front().as_deref(), Some(&b"x"[..]));
        assert_eq!(l.pop_back().as_deref(), Some(&b"9"[..]));
        let all: Vec<Cow<'_, [u8]>> = l.iter().collect();
        let rev: Vec<Cow<'_, [u8]>> = l.iter().rev().collect();
        assert_eq!(all.len(), 10);
        assert_eq!(all.iter().rev().cloned().collect::<Vec<_>>(), rev);
        assert_eq!(l.iter_from(4).next().as_deref(), Some(&b"mid"[..]));
        l.check_invariants();
    }
}
