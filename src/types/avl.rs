//! A rank-augmented AVL tree of (score, member) pairs: the ordered half of a large sorted set
//! (Redis's skiplist). Ordered by score, then by member bytes; every node keeps the size of its
//! subtree, so the rank of a pair and the pair at a rank are found in O(log n), and an
//! in-order walk can start at any rank.
//!
//! Layout: nodes live in an arena (`Vec<Node>`) and link to each other by `u32` index, with
//! `NIL` for "no child"; freed slots are kept on a free list and reused, so no node moves and
//! no `unsafe` is needed. Operations recurse along one root-to-leaf path, whose length is the
//! tree height (at most 1.44·log2(n+2), under 64 for any u32 size).
//!
//! Invariants (checked by [`AvlTree::check_invariants`]):
//! - in-order traversal is strictly increasing in (score, member); no score is NaN;
//! - every node's `height` is 1 + max(child heights) and `size` is 1 + sum(child sizes);
//! - every node is balanced: |height(left) - height(right)| <= 1;
//! - every arena slot is either reachable from `root` or on the free list, never both.
//!
//! Memory: after many removals the arena is rebuilt with only the live nodes (see
//! `compact_if_sparse`), so a tree that shrinks gives its memory back.

use std::cmp::Ordering;

/// "No node": the index an absent child or an empty tree's root holds.
pub const NIL: u32 = u32::MAX;
/// Free slots below which the arena is never compacted (small trees are not worth it).
const COMPACT_FREE_MIN: usize = 64;

/// Members up to this many bytes live inside their node (most members are short: this saves
/// the separate heap block, 32 bytes with glibc, that a `Box<[u8]>` costs).
const INLINE_MEMBER_MAX: usize = 22;

/// A member's bytes: inside the node when short, else in their own heap block. 24 bytes either
/// way (a `Box<[u8]>` alone is 16).
#[derive(Clone, Debug, PartialEq)]
enum Member {
    Inline {
        len: u8,
        bytes: [u8; INLINE_MEMBER_MAX],
    },
    Heap(Box<[u8]>),
}

impl Member {
    fn new(m: &[u8]) -> Member {
        if m.len() <= INLINE_MEMBER_MAX {
            let mut bytes = [0u8; INLINE_MEMBER_MAX];
            bytes[..m.len()].copy_from_slice(m);
            Member::Inline {
                len: m.len() as u8,
                bytes,
            }
        } else {
            Member::Heap(m.into())
        }
    }

    /// Keeps a long member's block as it is (no copy); a short one moves inside.
    fn from_box(m: Box<[u8]>) -> Member {
        if m.len() <= INLINE_MEMBER_MAX {
            Member::new(&m)
        } else {
            Member::Heap(m)
        }
    }

    fn into_box(self) -> Box<[u8]> {
        match self {
            Member::Inline { .. } => self.as_ref().into(),
            Member::Heap(b) => b,
        }
    }
}

impl Default for Member {
    fn default() -> Member {
        Member::new(b"")
    }
}

impl AsRef<[u8]> for Member {
    fn as_ref(&self) -> &[u8] {
        match self {
            Member::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Member::Heap(b) => b,
        }
    }
}

impl std::ops::Deref for Member {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_ref()
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Node {
    member: Member,
    score: f64,
    left: u32,
    right: u32,
    /// Nodes in this subtree, this one included.
    size: u32,
    height: u8,
}

/// The total order of a sorted set: score first (`<` on f64, so -0.0 == 0.0), then member bytes.
pub fn cmp_entry(score_a: f64, member_a: &[u8], score_b: f64, member_b: &[u8]) -> Ordering {
    if score_a < score_b {
        Ordering::Less
    } else if score_a > score_b {
        Ordering::Greater
    } else {
        member_a.cmp(member_b)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AvlTree {
    nodes: Vec<Node>,
    /// Arena slots free for reuse.
    free: Vec<u32>,
    root: u32,
}

impl AvlTree {
    /// MEMORY USAGE: the node arena and free list, plus the members stored outside their
    /// nodes, averaged over the first `samples` arena slots that hold a node.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        use crate::alloc::block_bytes;
        let arrays = block_bytes(self.nodes.capacity() * std::mem::size_of::<Node>())
            + block_bytes(self.free.capacity() * std::mem::size_of::<u32>());
        let live = self.nodes.len() - self.free.len();
        let (mut seen, mut sum) = (0usize, 0usize);
        let free: std::collections::HashSet<u32> = if self.free.is_empty() {
            Default::default()
        } else {
            self.free.iter().copied().collect()
        };
        for (i, n) in self.nodes.iter().enumerate() {
            if seen >= samples {
                break;
            }
            if free.contains(&(i as u32)) {
                continue;
            }
            if let Member::Heap(b) = &n.member {
                sum += block_bytes(b.len());
            }
            seen += 1;
        }
        let members = if seen == 0 || seen >= live {
            sum
        } else {
            (sum as f64 / seen as f64 * live as f64) as usize
        };
        arrays + members
    }

    pub fn new() -> AvlTree {
        AvlTree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
        }
    }

    pub fn len(&self) -> usize {
        self.size(self.root) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    fn size(&self, n: u32) -> u32 {
        if n == NIL {
            0
        } else {
            self.nodes[n as usize].size
        }
    }

    fn height(&self, n: u32) -> u8 {
        if n == NIL {
            0
        } else {
            self.nodes[n as usize].height
        }
    }

    fn node(&self, n: u32) -> &Node {
        &self.nodes[n as usize]
    }

    fn fix(&mut self, n: u32) {
        let (l, r) = (self.node(n).left, self.node(n).right);
        let h = 1 + self.height(l).max(self.height(r));
        let s = 1 + self.size(l) + self.size(r);
        let node = &mut self.nodes[n as usize];
        node.height = h;
        node.size = s;
    }

    fn rotate_right(&mut self, n: u32) -> u32 {
        let l = self.node(n).left;
        self.nodes[n as usize].left = self.node(l).right;
        self.nodes[l as usize].right = n;
        self.fix(n);
        self.fix(l);
        l
    }

    fn rotate_left(&mut self, n: u32) -> u32 {
        let r = self.node(n).right;
        self.nodes[n as usize].right = self.node(r).left;
        self.nodes[r as usize].left = n;
        self.fix(n);
        self.fix(r);
        r
    }

    /// Restores the AVL balance at `n` (children balanced, heights off by at most 2).
    fn balance(&mut self, n: u32) -> u32 {
        self.fix(n);
        let (l, r) = (self.node(n).left, self.node(n).right);
        let (hl, hr) = (i32::from(self.height(l)), i32::from(self.height(r)));
        if hl > hr + 1 {
            if self.height(self.node(l).left) < self.height(self.node(l).right) {
                let nl = self.rotate_left(l);
                self.nodes[n as usize].left = nl;
            }
            return self.rotate_right(n);
        }
        if hr > hl + 1 {
            if self.height(self.node(r).right) < self.height(self.node(r).left) {
                let nr = self.rotate_right(r);
                self.nodes[n as usize].right = nr;
            }
            return self.rotate_left(n);
        }
        n
    }

    fn alloc(&mut self, score: f64, member: Member) -> u32 {
        let node = Node {
            member,
            score,
            left: NIL,
            right: NIL,
            size: 1,
            height: 1,
        };
        if let Some(i) = self.free.pop() {
            self.nodes[i as usize] = node;
            i
        } else {
            assert!(self.nodes.len() < NIL as usize, "AvlTree: arena full");
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    /// Inserts a pair that is not in the tree (the caller's member map guarantees it).
    /// Returns false, changing nothing, if an equal pair is already there.
    pub fn insert(&mut self, score: f64, member: Box<[u8]>) -> bool {
        self.insert_member(score, Member::from_box(member))
    }

    /// `insert` from borrowed bytes: a short member is copied into its node, never boxed.
    pub fn insert_slice(&mut self, score: f64, member: &[u8]) -> bool {
        self.insert_member(score, Member::new(member))
    }

    fn insert_member(&mut self, score: f64, member: Member) -> bool {
        debug_assert!(!score.is_nan());
        let mut inserted = false;
        let root = self.insert_at(self.root, score, member, &mut inserted);
        self.root = root;
        inserted
    }

    fn insert_at(&mut self, n: u32, score: f64, member: Member, inserted: &mut bool) -> u32 {
        if n == NIL {
            *inserted = true;
            return self.alloc(score, member);
        }
        let ord = {
            let node = self.node(n);
            cmp_entry(score, &member, node.score, &node.member)
        };
        match ord {
            Ordering::Equal => n,
            Ordering::Less => {
                let l = self.insert_at(self.node(n).left, score, member, inserted);
                self.nodes[n as usize].left = l;
                self.balance(n)
            }
            Ordering::Greater => {
                let r = self.insert_at(self.node(n).right, score, member, inserted);
                self.nodes[n as usize].right = r;
                self.balance(n)
            }
        }
    }

    /// Removes the pair; returns its member bytes, or None if it was not there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<Box<[u8]>> {
        self.remove_member(score, member).map(Member::into_box)
    }

    /// `remove` when the caller has no use for the bytes: says whether the pair was there.
    pub fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        self.remove_member(score, member).is_some()
    }

    fn remove_member(&mut self, score: f64, member: &[u8]) -> Option<Member> {
        let mut removed = None;
        let root = self.remove_at(self.root, score, member, &mut removed);
        self.root = root;
        if removed.is_some() {
            self.compact_if_sparse();
        }
        removed
    }

    /// Gives memory back after many removals: when free slots outnumber live nodes two to
    /// one (and there are enough to matter), rebuilds the arena holding only the live nodes
    /// as a perfectly balanced tree. O(n), paid for by the Ω(n) removals since the last one.
    fn compact_if_sparse(&mut self) {
        let live = self.len();
        if self.free.len() < COMPACT_FREE_MIN || self.free.len() < 2 * live {
            return;
        }
        let mut pairs: Vec<(f64, Member)> = Vec::with_capacity(live);
        let mut stack: Vec<u32> = Vec::with_capacity(usize::from(self.height(self.root)));
        let mut n = self.root;
        // In-order walk with an explicit stack bounded by the height.
        loop {
            while n != NIL {
                stack.push(n);
                n = self.node(n).left;
            }
            let Some(top) = stack.pop() else { break };
            let node = &mut self.nodes[top as usize];
            pairs.push((node.score, std::mem::take(&mut node.member)));
            n = node.right;
        }
        self.nodes = Vec::with_capacity(live);
        self.free = Vec::new();
        let mut pairs = pairs.into_iter();
        self.root = self.build_balanced(live, &mut pairs);
    }

    /// Builds a balanced subtree from the next `count` pairs of an ascending iterator.
    fn build_balanced(
        &mut self,
        count: usize,
        pairs: &mut impl Iterator<Item = (f64, Member)>,
    ) -> u32 {
        if count == 0 {
            return NIL;
        }
        let left_count = count / 2;
        let left = self.build_balanced(left_count, pairs);
        let Some((score, member)) = pairs.next() else {
            return left;
        };
        let n = self.alloc(score, member);
        let right = self.build_balanced(count - left_count - 1, pairs);
        self.nodes[n as usize].left = left;
        self.nodes[n as usize].right = right;
        self.fix(n);
        n
    }

    fn remove_at(
        &mut self,
        n: u32,
        score: f64,
        member: &[u8],
        removed: &mut Option<Member>,
    ) -> u32 {
        if n == NIL {
            return NIL;
        }
        let ord = {
            let node = self.node(n);
            cmp_entry(score, member, node.score, &node.member)
        };
        match ord {
            Ordering::Less => {
                let l = self.remove_at(self.node(n).left, score, member, removed);
                self.nodes[n as usize].left = l;
                self.balance(n)
            }
            Ordering::Greater => {
                let r = self.remove_at(self.node(n).right, score, member, removed);
                self.nodes[n as usize].right = r;
                self.balance(n)
            }
            Ordering::Equal => {
                let (l, r) = (self.node(n).left, self.node(n).right);
                *removed = Some(std::mem::take(&mut self.nodes[n as usize].member));
                if l == NIL || r == NIL {
                    self.free.push(n);
                    return if l == NIL { r } else { l };
                }
                // Two children: the successor (leftmost of the right subtree) takes n's place.
                let mut succ = NIL;
                let r = self.remove_min(r, &mut succ);
                self.nodes[succ as usize].left = l;
                self.nodes[succ as usize].right = r;
                self.free.push(n);
                self.balance(succ)
            }
        }
    }

    /// Unlinks the leftmost node of the subtree `n`, stores its index in `min`, and returns
    /// the new subtree root.
    fn remove_min(&mut self, n: u32, min: &mut u32) -> u32 {
        let l = self.node(n).left;
        if l == NIL {
            *min = n;
            return self.node(n).right;
        }
        let nl = self.remove_min(l, min);
        self.nodes[n as usize].left = nl;
        self.balance(n)
    }

    /// 0-based rank of the pair, if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut n = self.root;
        let mut before = 0usize;
        while n != NIL {
            let node = self.node(n);
            match cmp_entry(score, member, node.score, &node.member) {
                Ordering::Less => n = node.left,
                Ordering::Greater => {
                    before += self.size(node.left) as usize + 1;
                    n = node.right;
                }
                Ordering::Equal => return Some(before + self.size(node.left) as usize),
            }
        }
        None
    }

    /// Number of pairs for which `is_before(score, member)` holds. `is_before` must be
    /// monotone in the tree order (true for a prefix of the pairs, false after).
    pub fn count_before(&self, is_before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut n = self.root;
        let mut count = 0usize;
        while n != NIL {
            let node = self.node(n);
            if is_before(node.score, &node.member) {
                count += self.size(node.left) as usize + 1;
                n = node.right;
            } else {
                n = node.left;
            }
        }
        count
    }

    /// The pair at a 0-based rank.
    pub fn select(&self, rank: usize) -> Option<(&[u8], f64)> {
        let mut n = self.root;
        let mut r = rank;
        while n != NIL {
            let node = self.node(n);
            let ls = self.size(node.left) as usize;
            match r.cmp(&ls) {
                Ordering::Less => n = node.left,
                Ordering::Equal => return Some((&node.member, node.score)),
                Ordering::Greater => {
                    r -= ls + 1;
                    n = node.right;
                }
            }
        }
        None
    }

    /// In-order walk starting at `rank`, ascending, or descending when `reverse` (rank r,
    /// r-1, ...). O(log n) to start, amortised O(1) per step.
    pub fn iter_from(&self, rank: usize, reverse: bool) -> Iter<'_> {
        let mut stack = Vec::with_capacity(usize::from(self.height(self.root)));
        if rank < self.len() {
            let mut n = self.root;
            let mut r = rank;
            while n != NIL {
                let node = self.node(n);
                let ls = self.size(node.left) as usize;
                match r.cmp(&ls) {
                    Ordering::Less => {
                        if !reverse {
                            stack.push(n);
                        }
                        n = node.left;
                    }
                    Ordering::Equal => {
                        stack.push(n);
                        break;
                    }
                    Ordering::Greater => {
                        if reverse {
                            stack.push(n);
                        }
                        r -= ls + 1;
                        n = node.right;
                    }
                }
            }
        }
        Iter {
            tree: self,
            stack,
            reverse,
        }
    }

    /// Panics with a message if any invariant in the module doc is broken. O(n).
    pub fn check_invariants(&self) {
        let mut seen = vec![false; self.nodes.len()];
        let mut prev: Option<(f64, &[u8])> = None;
        let (_, size) = self.check_subtree(self.root, &mut seen, &mut prev);
        assert_eq!(size as usize, self.len(), "AvlTree: root size");
        for &f in &self.free {
            assert!(
                !seen[f as usize],
                "AvlTree: free slot {f} is reachable from the root"
            );
            seen[f as usize] = true;
        }
        assert!(
            seen.iter().all(|&s| s),
            "AvlTree: an arena slot is neither reachable nor free"
        );
        assert_eq!(
            self.nodes.len(),
            size as usize + self.free.len(),
            "AvlTree: arena slots != live nodes + free slots"
        );
    }

    /// Returns (height, size) computed from the children, checking the stored ones.
    fn check_subtree<'a>(
        &'a self,
        n: u32,
        seen: &mut [bool],
        prev: &mut Option<(f64, &'a [u8])>,
    ) -> (u8, u32) {
        if n == NIL {
            return (0, 0);
        }
        assert!(!seen[n as usize], "AvlTree: node {n} reached twice");
        seen[n as usize] = true;
        let node = self.node(n);
        assert!(!node.score.is_nan(), "AvlTree: NaN score");
        let (hl, sl) = self.check_subtree(node.left, seen, prev);
        if let Some((ps, pm)) = *prev {
            assert_eq!(
                cmp_entry(ps, pm, node.score, &node.member),
                Ordering::Less,
                "AvlTree: in-order traversal not strictly increasing"
            );
        }
        *prev = Some((node.score, &node.member));
        let (hr, sr) = self.check_subtree(node.right, seen, prev);
        assert!(
            hl.abs_diff(hr) <= 1,
            "AvlTree: node {n} unbalanced ({hl} vs {hr})"
        );
        let h = 1 + hl.max(hr);
        let s = 1 + sl + sr;
        assert_eq!(node.height, h, "AvlTree: node {n} stored height");
        assert_eq!(node.size, s, "AvlTree: node {n} stored size");
        (h, s)
    }
}

/// An in-order walk from a rank; see [`AvlTree::iter_from`]. The stack holds the nodes still
/// to visit whose subtree on the walking side is done; it never exceeds the tree height.
pub struct Iter<'a> {
    tree: &'a AvlTree,
    stack: Vec<u32>,
    reverse: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        let n = self.stack.pop()?;
        let tree = self.tree;
        let node = tree.node(n);
        // Push the next subtree's path toward the walking direction.
        let mut c = if self.reverse { node.left } else { node.right };
        while c != NIL {
            self.stack.push(c);
            let cn = tree.node(c);
            c = if self.reverse { cn.right } else { cn.left };
        }
        Some((&node.member, node.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Members on both sides of the inline limit (0..=40 bytes) behave the same through
    /// insert, select, rank, removal (bytes returned intact) and arena compaction; a node
    /// stays within 48 bytes.
    #[test]
    fn inline_and_heap_members() {
        assert!(
            std::mem::size_of::<Node>() <= 48,
            "{}",
            std::mem::size_of::<Node>()
        );
        let member =
            |i: usize| -> Vec<u8> { (0..i % 41).map(|j| b'a' + ((i + j) % 26) as u8).collect() };
        let mut t = AvlTree::new();
        let mut model = std::collections::BTreeSet::new();
        for i in 0..400usize {
            let m = member(i);
            let score = (i % 7) as f64;
            let fresh = model.insert(((i % 7), m.clone()));
            let added = if i % 2 == 0 {
                t.insert(score, m.clone().into_boxed_slice())
            } else {
                t.insert_slice(score, &m)
            };
            assert_eq!(added, fresh);
        }
        t.check_invariants();
        let want: Vec<(Vec<u8>, f64)> = model.iter().map(|(s, m)| (m.clone(), *s as f64)).collect();
        let got: Vec<(Vec<u8>, f64)> = t
            .iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        assert_eq!(got, want);
        for (r, (m, s)) in want.iter().enumerate() {
            assert_eq!(t.rank(*s, m), Some(r));
        }
        // Remove most of them (compaction runs), alternating the two removal calls.
        for (k, (m, s)) in want.iter().enumerate().filter(|(k, _)| k % 5 != 0) {
            if k % 2 == 0 {
                assert_eq!(t.remove(*s, m).as_deref(), Some(&m[..]));
            } else {
                assert!(t.delete(*s, m));
            }
            assert!(!t.delete(*s, m));
        }
        t.check_invariants();
        let left: Vec<(Vec<u8>, f64)> = want.iter().step_by(5).cloned().collect();
        let got: Vec<(Vec<u8>, f64)> = t
            .iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        assert_eq!(got, left);
    }

    #[test]
    fn small_walks() {
        let mut t = AvlTree::new();
        for i in 0..100u32 {
            assert!(t.insert(f64::from(i % 10), format!("m{i:03}").into_bytes().into()));
            t.check_invariants();
        }
        let all: Vec<_> = t
            .iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect();
        assert_eq!(all.len(), 100);
        for r in 0..100 {
            let (m, s) = t.select(r).unwrap();
            assert_eq!((m.to_vec(), s), all[r]);
            assert_eq!(t.rank(s, m), Some(r));
            let back: Vec<_> = t.iter_from(r, true).map(|(m, s)| (m.to_vec(), s)).collect();
            let mut want: Vec<_> = all[..=r].to_vec();
            want.reverse();
            assert_eq!(back, want);
        }
        assert_eq!(t.count_before(|s, _| s < 5.0), 50);
    }

    #[test]
    fn shrinking_compacts_the_arena() {
        let mut t = AvlTree::new();
        for i in 0..1000u32 {
            t.insert(f64::from(i), Box::from(&b"m"[..]));
        }
        for i in 0..950u32 {
            assert!(t.remove(f64::from(i), b"m").is_some());
            t.check_invariants();
        }
        assert_eq!(t.len(), 50);
        assert!(t.nodes.len() < 200, "arena kept {} slots", t.nodes.len());
        let rest: Vec<f64> = t.iter_from(0, false).map(|(_, s)| s).collect();
        assert_eq!(rest, (950..1000).map(f64::from).collect::<Vec<_>>());
    }
}
