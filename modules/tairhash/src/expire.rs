//! The per-key expiry index [`FieldExpiry`] (the per-database registry is in `registry`).
//!
//! `FieldExpiry` is a binary min-heap of the key's fields that have an expiry, ordered by (due time,
//! name). Each entry is an 8-byte pointer to the field's block, and the block stores its own heap
//! position (5 bytes), so insert, delete, re-key and "earliest" are O(log T) / O(1) without any
//! lookup structure, and a field without expiry costs nothing. The expired fields are exactly the
//! entries with `due <= now`, which form a top-closed part of the heap: they are found without
//! looking at any non-due entry except the (at most 2E+1) boundary ones.

use crate::field::{FieldRef, MAX_HEAP_POS};

/// The per-key expiry heap.
///
/// Invariant (upheld by [`crate::hash::TairHash`], the only user): every entry points to a live block
/// of the same hash that has an expiry, and the heap position stored in that block is the entry's
/// index. Entries are only dereferenced under that invariant.
#[derive(Default)]
pub(crate) struct FieldExpiry {
    heap: Vec<FieldRef>,
}

/// `a` sorts before `b` in (due, name) order.
fn before(a: FieldRef, b: FieldRef) -> bool {
    // SAFETY: both are heap entries (type invariant).
    unsafe {
        let (da, db) = (a.due(), b.due());
        da < db || (da == db && a.name() < b.name())
    }
}

impl FieldExpiry {
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.heap.capacity()
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        FieldExpiry {
            heap: Vec::with_capacity(n),
        }
    }

    /// The earliest entry.
    pub(crate) fn peek(&self) -> Option<FieldRef> {
        self.heap.first().copied()
    }

    fn place(&mut self, i: usize, r: FieldRef) {
        if let Some(slot) = self.heap.get_mut(i) {
            *slot = r;
            // SAFETY: `r` is (now) a heap entry.
            unsafe { r.set_heap_pos(i) };
        }
    }

    /// Moves the entry at `i` up to its place; returns where it ended.
    fn sift_up(&mut self, mut i: usize) -> usize {
        let Some(&r) = self.heap.get(i) else { return i };
        while i > 0 {
            let parent = (i - 1) / 2;
            let Some(&p) = self.heap.get(parent) else {
                break;
            };
            if !before(r, p) {
                break;
            }
            self.place(i, p);
            i = parent;
        }
        self.place(i, r);
        i
    }

    fn sift_down(&mut self, mut i: usize) {
        let Some(&r) = self.heap.get(i) else { return };
        loop {
            let left = i.saturating_mul(2).saturating_add(1);
            let Some(&l) = self.heap.get(left) else { break };
            let (mut c, mut child) = (left, l);
            if let Some(&rt) = self.heap.get(left + 1) {
                if before(rt, l) {
                    (c, child) = (left + 1, rt);
                }
            }
            if !before(child, r) {
                break;
            }
            self.place(i, child);
            i = c;
        }
        self.place(i, r);
    }

    /// Adds a field that has an expiry. (A heap of more than 2^40 entries is not reachable: it would
    /// need terabytes; beyond it the position slot saturates and removal falls back to a search.)
    pub(crate) fn push(&mut self, r: FieldRef) {
        let i = self.heap.len();
        self.heap.push(r);
        // SAFETY: `r` is a live field with expiry (caller).
        unsafe { r.set_heap_pos(i) };
        self.sift_up(i);
    }

    /// The index of `r`, trusting the position stored in its block when it checks out.
    fn index_of(&self, pos: usize, r: FieldRef) -> Option<usize> {
        if pos < MAX_HEAP_POS && self.heap.get(pos) == Some(&r) {
            return Some(pos);
        }
        self.heap.iter().position(|&e| e == r)
    }

    /// Removes the entry of field `r` (which must still be alive), whose stored position is `pos`.
    pub(crate) fn remove(&mut self, pos: usize, r: FieldRef) {
        if let Some(i) = self.index_of(pos, r) {
            self.remove_at(i);
        }
    }

    /// Removes the entry at index `i` without dereferencing it.
    fn remove_at(&mut self, i: usize) {
        let Some(last) = self.heap.pop() else { return };
        if i < self.heap.len() {
            self.place(i, last);
            let j = self.sift_up(i);
            self.sift_down(j);
        }
        if self.heap.capacity() > 16 && self.heap.len() < self.heap.capacity() / 4 {
            self.heap.shrink_to(self.heap.len() * 2);
        }
    }

    /// The field at index `pos` moved to `r` and/or changed its due time: re-point and re-sort.
    /// The old pointer at `pos` is not dereferenced (it may be freed).
    pub(crate) fn replace(&mut self, pos: usize, r: FieldRef) {
        if pos < self.heap.len() && pos < MAX_HEAP_POS {
            self.place(pos, r);
            let j = self.sift_up(pos);
            self.sift_down(j);
        } else {
            // Not reachable with the invariant; keep the index consistent anyway.
            self.push(r);
        }
    }

    /// Number of entries with `due <= threshold` (walks only those and their children).
    pub(crate) fn count_due(&self, threshold: u64) -> usize {
        let mut count = 0;
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            let Some(&r) = self.heap.get(i) else { continue };
            // SAFETY: heap entry (type invariant).
            if unsafe { r.due() } <= threshold {
                count += 1;
                stack.push(i.saturating_mul(2).saturating_add(1));
                stack.push(i.saturating_mul(2).saturating_add(2));
            }
        }
        count
    }

    /// Checks the heap order and the stored positions (tests).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        for (i, &r) in self.heap.iter().enumerate() {
            // SAFETY: heap entry (type invariant).
            assert_eq!(unsafe { r.heap_pos() }, Some(i));
            if i > 0 {
                let parent = self.heap.get((i - 1) / 2).copied();
                assert!(
                    parent.is_some_and(|p| !before(r, p)),
                    "heap order broken at {i}"
                );
            }
        }
    }
}
