//! The TTL queue: a binary min-heap of `(due_ms, deadline_ms, slot)` ordered by `due_ms`.
//!
//! Active expiry pops the earliest deadline first, so it never scans keys that are not due
//! (Redis samples its `expires` dict at random instead). Every item's slot is told its position
//! through [`HeapSlot::set_heap_index`] each time the item moves, so the owner of a slot can
//! update or remove its item in O(log n) without searching.
//!
//! A later deadline is taken lazily: `update` only rewrites the item's `deadline_ms` and
//! leaves it where its earlier `due_ms` put it; the item is moved down once, when it reaches
//! the top and is found early (`peek`, `peek_due`). Renewing a TTL (EXPIRE again on a live
//! key: sessions, rate limiters) was a walk to the bottom of the heap, a cache miss on the
//! heap and on each moved item's entry per level; now it is one write, and a key renewed
//! before its old deadline is never moved for it.
//!
//! Invariants (checked by [`TtlHeap::check_invariants`]):
//! - heap order: no item's `due_ms` is smaller than its parent's;
//! - `due_ms <= deadline_ms` for every item, so the top's `due_ms` is a lower bound of every
//!   deadline, and a top whose `due_ms` equals its deadline holds the earliest deadline;
//! - back-pointers: the slot of the item at index `i` reports `heap_index() == i`;
//! - a slot that is not in the heap reports [`NO_HEAP_INDEX`] (push refuses a slot that claims
//!   a position already, remove and pop reset it), so a slot is in the heap at most once;
//! - `deadline_sum_ms` is the sum of all (true) deadlines (for the average TTL INFO reports).

/// The index a slot reports when it has no item in the heap.
/// The largest 29-bit value: the dict's back index, where the heap keeps its positions,
/// has 29 bits (`ds::dict::NO_BACK_INDEX`).
pub const NO_HEAP_INDEX: u32 = (1 << 29) - 1;

/// What a heap item points at. The heap calls `set_heap_index` whenever the item moves, and
/// `set_heap_index(NO_HEAP_INDEX)` when the item leaves the heap.
pub trait HeapSlot: Copy {
    fn set_heap_index(self, idx: u32);
    fn heap_index(self) -> u32;
}

#[derive(Clone, Copy)]
struct Item<S> {
    /// Where the item sits in the heap order: its deadline when it was last placed.
    due_ms: u64,
    /// The key's deadline: `due_ms` or later.
    deadline_ms: u64,
    slot: S,
}

impl<S> Item<S> {
    fn early(&self) -> bool {
        self.due_ms < self.deadline_ms
    }
}

pub struct TtlHeap<S: HeapSlot> {
    items: Vec<Item<S>>,
    /// Sum of all deadlines, so the average TTL is O(1) and exact. u128 cannot overflow: at
    /// most 2^32 items of at most 2^64 each.
    deadline_sum_ms: u128,
}

impl<S: HeapSlot> Default for TtlHeap<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: HeapSlot> TtlHeap<S> {
    pub fn new() -> Self {
        TtlHeap {
            items: Vec::new(),
            deadline_sum_ms: 0,
        }
    }

    /// Bytes the allocator counts for the heap's array (MEMORY STATS).
    pub fn heap_bytes(&self) -> usize {
        crate::alloc::block_bytes(self.items.capacity() * std::mem::size_of::<Item<S>>())
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds an item and returns its final index. Panics if the slot is already in a heap
    /// (it would then have two items and only one back-pointer).
    pub fn push(&mut self, deadline_ms: u64, slot: S) -> u32 {
        assert_eq!(
            slot.heap_index(),
            NO_HEAP_INDEX,
            "TtlHeap::push: slot already has a heap item"
        );
        // NO_HEAP_INDEX itself must stay unused as an index.
        assert!(
            self.items.len() < NO_HEAP_INDEX as usize,
            "TtlHeap::push: heap full"
        );
        let idx = self.items.len();
        self.items.push(Item {
            due_ms: deadline_ms,
            deadline_ms,
            slot,
        });
        self.deadline_sum_ms += u128::from(deadline_ms);
        self.sift_up(idx)
    }

    /// Deadline of the item at `idx`. Panics if `idx` is out of range.
    pub fn deadline(&self, idx: u32) -> u64 {
        self.items[idx as usize].deadline_ms
    }

    /// The deadline and slot of the item at `idx`. Panics if `idx` is out of range.
    pub fn item(&self, idx: u32) -> (u64, S) {
        let it = &self.items[idx as usize];
        (it.deadline_ms, it.slot)
    }

    /// Changes the deadline of the item at `idx`: an earlier one than where the item sits
    /// moves it up now, a later one is only written (see the module doc).
    pub fn update(&mut self, idx: u32, deadline_ms: u64) {
        let i = idx as usize;
        let old_ms = self.items[i].deadline_ms;
        self.items[i].deadline_ms = deadline_ms;
        self.deadline_sum_ms = self.deadline_sum_ms - u128::from(old_ms) + u128::from(deadline_ms);
        if deadline_ms < self.items[i].due_ms {
            self.items[i].due_ms = deadline_ms;
            self.sift_up(i);
        }
    }

    /// Moves early items off the top until the top holds the earliest deadline, or, with
    /// `now_ms`, until the top is not due yet either way (nothing is due when even its
    /// `due_ms` is not). Each turn places one early item by its deadline, so the loop runs
    /// at most once per item.
    fn settle(&mut self, now_ms: Option<u64>) {
        for _ in 0..self.items.len() {
            let Some(top) = self.items.first() else {
                return;
            };
            if !top.early() || now_ms.is_some_and(|now| now <= top.due_ms) {
                return;
            }
            self.items[0].due_ms = top.deadline_ms;
            self.sift_down(0);
        }
    }

    /// Removes the item at `idx`, resets its slot to `NO_HEAP_INDEX` and returns the slot.
    pub fn remove(&mut self, idx: u32) -> S {
        let i = idx as usize;
        let last = self.items.len() - 1;
        self.items.swap(i, last);
        let Some(item) = self.items.pop() else {
            unreachable!("index {i} was checked by the swap")
        };
        self.deadline_sum_ms -= u128::from(item.deadline_ms);
        item.slot.set_heap_index(NO_HEAP_INDEX);
        if i < self.items.len() {
            // The former last item now sits at `i`; it may belong above or below.
            let j = self.sift_up(i) as usize;
            if j == i {
                self.sift_down(i);
            }
        }
        item.slot
    }

    /// The earliest deadline and its slot.
    pub fn peek(&mut self) -> Option<(u64, S)> {
        self.settle(None);
        self.items.first().map(|it| (it.deadline_ms, it.slot))
    }

    /// The earliest deadline and its slot if it is past at `now_ms` (`now_ms > deadline`),
    /// without placing early items that are not due yet anyway.
    pub fn peek_due(&mut self, now_ms: u64) -> Option<(u64, S)> {
        self.settle(Some(now_ms));
        self.items
            .first()
            .filter(|it| now_ms > it.deadline_ms)
            .map(|it| (it.deadline_ms, it.slot))
    }

    /// Removes and returns the earliest item.
    pub fn pop(&mut self) -> Option<(u64, S)> {
        self.settle(None);
        let deadline_ms = self.items.first()?.deadline_ms;
        Some((deadline_ms, self.remove(0)))
    }

    /// Mean deadline over all items, None when empty.
    pub fn avg_deadline_ms(&self) -> Option<u64> {
        if self.items.is_empty() {
            return None;
        }
        // The mean of u64 values fits in u64.
        Some((self.deadline_sum_ms / self.items.len() as u128) as u64)
    }

    /// Every item as `(index, deadline_ms, slot)`, in heap-array order.
    pub fn items(&self) -> impl Iterator<Item = (u32, u64, S)> + '_ {
        self.items
            .iter()
            .enumerate()
            .map(|(i, it)| (i as u32, it.deadline_ms, it.slot))
    }

    /// Panics if heap order, back-pointers or the deadline sum are broken.
    pub fn check_invariants(&self) {
        let mut sum_ms: u128 = 0;
        for (i, it) in self.items.iter().enumerate() {
            sum_ms += u128::from(it.deadline_ms);
            assert!(
                it.due_ms <= it.deadline_ms,
                "TtlHeap: item {i} is due ({}) after its deadline ({})",
                it.due_ms,
                it.deadline_ms
            );
            assert_eq!(
                it.slot.heap_index() as usize,
                i,
                "TtlHeap: back-pointer of item {i} is wrong"
            );
            if i > 0 {
                let parent = (i - 1) / 2;
                assert!(
                    self.items[parent].due_ms <= it.due_ms,
                    "TtlHeap: item {i} ({}) is earlier than its parent {parent} ({})",
                    it.due_ms,
                    self.items[parent].due_ms
                );
            }
        }
        assert_eq!(
            sum_ms, self.deadline_sum_ms,
            "TtlHeap: deadline sum is stale"
        );
    }

    /// Moves the item at `i` up until its parent is not later; returns its final index.
    /// Uses a hole instead of swaps so each moved item is written (and told) once.
    fn sift_up(&mut self, mut i: usize) -> u32 {
        let item = self.items[i];
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.items[parent].due_ms <= item.due_ms {
                break;
            }
            self.items[i] = self.items[parent];
            self.items[i].slot.set_heap_index(i as u32);
            i = parent;
        }
        self.items[i] = item;
        item.slot.set_heap_index(i as u32);
        i as u32
    }

    /// Moves the item at `i` down until no child is earlier.
    fn sift_down(&mut self, mut i: usize) {
        let item = self.items[i];
        let len = self.items.len();
        loop {
            let left = 2 * i + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && self.items[right].due_ms < self.items[left].due_ms {
                right
            } else {
                left
            };
            if self.items[child].due_ms >= item.due_ms {
                break;
            }
            self.items[i] = self.items[child];
            self.items[i].slot.set_heap_index(i as u32);
            i = child;
        }
        self.items[i] = item;
        item.slot.set_heap_index(i as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::cell::Cell;
    use std::collections::BTreeMap;

    /// A slot for tests: an id plus the cell where the heap writes its back-pointer.
    #[derive(Clone, Copy)]
    struct TestSlot<'a> {
        id: usize,
        cell: &'a Cell<u32>,
    }

    impl HeapSlot for TestSlot<'_> {
        fn set_heap_index(self, idx: u32) {
            self.cell.set(idx);
        }
        fn heap_index(self) -> u32 {
            self.cell.get()
        }
    }

    /// Checks the heap against the model: same items, and every slot's back-pointer either
    /// names its item or is NO_HEAP_INDEX when the id is not in the model.
    fn check(
        heap: &TtlHeap<TestSlot<'_>>,
        model: &BTreeMap<(u64, usize), ()>,
        deadline_of: &[Option<u64>],
        cells: &[Cell<u32>],
    ) {
        heap.check_invariants();
        assert_eq!(heap.len(), model.len());
        for (id, cell) in cells.iter().enumerate() {
            match deadline_of[id] {
                Some(d) => {
                    assert!(
                        model.contains_key(&(d, id)),
                        "test bookkeeping: id {id} missing from model"
                    );
                    let idx = cell.get();
                    assert_ne!(idx, NO_HEAP_INDEX, "id {id} lost its back-pointer");
                    assert_eq!(heap.deadline(idx), d);
                }
                None => assert_eq!(
                    cell.get(),
                    NO_HEAP_INDEX,
                    "id {id} not in heap but has an index"
                ),
            }
        }
        let min = model.keys().next().map(|&(d, _)| d);
        assert_eq!(heap.items().map(|(_, d, _)| d).min(), min);
        if !model.is_empty() {
            let sum: u128 = deadline_of.iter().flatten().map(|&d| u128::from(d)).sum();
            assert_eq!(
                heap.avg_deadline_ms(),
                Some((sum / model.len() as u128) as u64)
            );
        }
    }

    #[test]
    fn heap_matches_btreemap_model() {
        const IDS: usize = 300;
        let cells: Vec<Cell<u32>> = (0..IDS).map(|_| Cell::new(NO_HEAP_INDEX)).collect();
        let mut heap = TtlHeap::new();
        let mut model: BTreeMap<(u64, usize), ()> = BTreeMap::new();
        let mut deadline_of: Vec<Option<u64>> = vec![None; IDS];
        let mut rng = StdRng::seed_from_u64(7);
        for step in 0..40_000 {
            let id = rng.gen_range(0..IDS);
            let slot = TestSlot {
                id,
                cell: &cells[id],
            };
            // Small deadline range so ties are common.
            let d = rng.gen_range(0..500u64);
            match (rng.gen_range(0..10), deadline_of[id]) {
                (0..=3, None) => {
                    let idx = heap.push(d, slot);
                    assert_eq!(cells[id].get(), idx);
                    model.insert((d, id), ());
                    deadline_of[id] = Some(d);
                }
                (0..=3, Some(old)) | (4..=5, Some(old)) => {
                    heap.update(cells[id].get(), d);
                    model.remove(&(old, id));
                    model.insert((d, id), ());
                    deadline_of[id] = Some(d);
                }
                (6..=7, Some(old)) => {
                    let got = heap.remove(cells[id].get());
                    assert_eq!(got.id, id);
                    model.remove(&(old, id));
                    deadline_of[id] = None;
                }
                (8, _) => {
                    // What is due at a time around the earliest deadline: exactly the
                    // earliest, if it is past.
                    let now = rng.gen_range(0..500u64);
                    let min = model.keys().next().map(|&(d, _)| d);
                    let due = heap.peek_due(now).map(|(d, _)| d);
                    assert_eq!(
                        due,
                        min.filter(|&m| now > m),
                        "step {step}: peek_due({now})"
                    );
                }
                (9, _) => {
                    // Pops in deadline order; among ties any id is fine.
                    match heap.pop() {
                        Some((pd, s)) => {
                            let (&(md, _), _) = model.iter().next().expect("model has items");
                            assert_eq!(pd, md, "step {step}: popped out of order");
                            assert!(model.remove(&(pd, s.id)).is_some());
                            deadline_of[s.id] = None;
                        }
                        None => assert!(model.is_empty()),
                    }
                }
                _ => {}
            }
            check(&heap, &model, &deadline_of, &cells);
        }
        // Drain completely: non-decreasing deadlines.
        let mut last = 0;
        while let Some((d, s)) = heap.pop() {
            assert!(d >= last);
            last = d;
            assert!(model.remove(&(d, s.id)).is_some());
            deadline_of[s.id] = None;
            check(&heap, &model, &deadline_of, &cells);
        }
        assert!(model.is_empty());
    }

    #[test]
    fn a_later_deadline_leaves_the_item_in_place_until_it_surfaces() {
        let cells: Vec<Cell<u32>> = (0..3).map(|_| Cell::new(NO_HEAP_INDEX)).collect();
        let slot = |id: usize| TestSlot {
            id,
            cell: &cells[id],
        };
        let mut heap = TtlHeap::new();
        heap.push(10, slot(0));
        heap.push(20, slot(1));
        heap.push(30, slot(2));
        // Renewed past every other deadline: still at the top, its deadline the new one.
        heap.update(cells[0].get(), 100);
        assert_eq!(cells[0].get(), 0);
        assert_eq!(heap.deadline(0), 100);
        heap.check_invariants();
        assert_eq!(heap.avg_deadline_ms(), Some(50));
        // At 15 nothing is due (its old place says 10, its deadline is 100); at 25 the
        // earliest deadline, item 1's, is.
        assert_eq!(heap.peek_due(15).map(|(_, s)| s.id), None);
        assert_eq!(heap.peek_due(25).map(|(d, s)| (d, s.id)), Some((20, 1)));
        assert_eq!(heap.peek().map(|(d, s)| (d, s.id)), Some((20, 1)));
        heap.check_invariants();
        let order: Vec<(u64, usize)> = std::iter::from_fn(|| heap.pop())
            .map(|(d, s)| (d, s.id))
            .collect();
        assert_eq!(order, vec![(20, 1), (30, 2), (100, 0)]);
    }

    #[test]
    #[should_panic(expected = "already has a heap item")]
    fn push_twice_panics() {
        let cell = Cell::new(NO_HEAP_INDEX);
        let mut heap = TtlHeap::new();
        heap.push(1, TestSlot { id: 0, cell: &cell });
        heap.push(2, TestSlot { id: 0, cell: &cell });
    }

    #[test]
    #[should_panic(expected = "back-pointer")]
    fn check_invariants_catches_stale_back_pointer() {
        let cells = [Cell::new(NO_HEAP_INDEX), Cell::new(NO_HEAP_INDEX)];
        let mut heap = TtlHeap::new();
        heap.push(
            1,
            TestSlot {
                id: 0,
                cell: &cells[0],
            },
        );
        heap.push(
            2,
            TestSlot {
                id: 1,
                cell: &cells[1],
            },
        );
        cells[1].set(0);
        heap.check_invariants();
    }
}
