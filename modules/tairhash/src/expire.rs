//! Expiry indexes: the per-key [`FieldExpiry`] and the per-database [`ExpiryRegistry`].
//!
//! `FieldExpiry` is a binary min-heap of the key's fields that have an expiry, ordered by (due time,
//! name). Each entry is an 8-byte pointer to the field's block, and the block stores its own heap
//! position (5 bytes), so insert, delete, re-key and "earliest" are O(log T) / O(1) without any
//! lookup structure, and a field without expiry costs nothing. The expired fields are exactly the
//! entries with `due <= now`, which form a top-closed part of the heap: they are found without
//! looking at any non-due entry except the (at most 2E+1) boundary ones.
//!
//! `ExpiryRegistry` orders the keys of one database that have expiring fields by their earliest due
//! time, so an active-expiry cycle takes the due keys in O(log K) each and never looks at others.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

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

/// The keys of one database that have fields with an expiry, ordered by each key's earliest due time.
///
/// Pure bookkeeping over key bytes: the server glue calls [`set`](Self::set) after every change of a
/// key's earliest due time (with [`crate::TairHash::earliest_due`]) and the key-move operations on
/// RENAME, MOVE, DEL, FLUSHDB, SWAPDB (swap two registries) and so on.
#[derive(Clone, Debug, Default)]
pub struct ExpiryRegistry {
    by_key: HashMap<Arc<[u8]>, u64>,
    by_time: BTreeSet<(u64, Arc<[u8]>)>,
}

impl ExpiryRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of registered keys.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The registered earliest due time of `key`.
    pub fn get(&self, key: &[u8]) -> Option<u64> {
        self.by_key.get(key).copied()
    }

    /// Registers `key` with its earliest due time, or unregisters it (`None`). O(log K).
    pub fn set(&mut self, key: &[u8], earliest: Option<u64>) {
        let Some(t) = earliest else {
            self.remove(key);
            return;
        };
        let k = match self.by_key.get_key_value(key) {
            Some((_, &old)) if old == t => return,
            Some((k, &old)) => {
                let k = Arc::clone(k);
                self.by_time.remove(&(old, Arc::clone(&k)));
                k
            }
            None => Arc::from(key),
        };
        self.by_time.insert((t, Arc::clone(&k)));
        self.by_key.insert(k, t);
    }

    /// Unregisters `key` (DEL, UNLINK, eviction, overwrite ...); returns its time. O(log K).
    pub fn remove(&mut self, key: &[u8]) -> Option<u64> {
        let (k, t) = self.by_key.remove_entry(key)?;
        self.by_time.remove(&(t, k));
        Some(t)
    }

    /// RENAME `from` to `to`: `to`'s own entry (an overwritten value) goes, `from`'s moves to `to`.
    pub fn rename(&mut self, from: &[u8], to: &[u8]) {
        if from == to {
            return;
        }
        let t = self.remove(from);
        self.remove(to);
        self.set(to, t);
    }

    /// MOVE `key` into the registry of another database.
    pub fn move_to(&mut self, key: &[u8], dest: &mut ExpiryRegistry) {
        let t = self.remove(key);
        dest.set(key, t);
    }

    /// FLUSHDB.
    pub fn clear(&mut self) {
        self.by_key.clear();
        self.by_time.clear();
    }

    /// The key due first and its time.
    pub fn earliest(&self) -> Option<(u64, &[u8])> {
        self.by_time.first().map(|(t, k)| (*t, &k[..]))
    }

    /// Up to `limit` keys whose earliest due time is `<= threshold`, earliest first (ties by key).
    /// O(log K + limit).
    pub fn due_keys(&self, threshold: u64, limit: usize) -> Vec<Vec<u8>> {
        self.by_time
            .iter()
            .take_while(|(t, _)| *t <= threshold)
            .take(limit)
            .map(|(_, k)| k.to_vec())
            .collect()
    }

    /// All entries in due order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.by_time.iter().map(|(t, k)| (*t, &k[..]))
    }

    /// Approximate bytes used (for statistics).
    pub fn mem_usage(&self) -> usize {
        let per_key = 2 * std::mem::size_of::<(u64, Arc<[u8]>)>() + 16 + 1;
        self.by_key.keys().map(|k| k.len() + per_key).sum::<usize>() + std::mem::size_of::<Self>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn registry_basics() {
        let mut r = ExpiryRegistry::new();
        r.set(b"a", Some(30));
        r.set(b"b", Some(10));
        r.set(b"c", Some(20));
        r.set(b"c", Some(20));
        assert_eq!(r.len(), 3);
        assert_eq!(r.earliest(), Some((10, &b"b"[..])));
        assert_eq!(r.due_keys(20, 10), vec![b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(r.due_keys(100, 1), vec![b"b".to_vec()]);
        r.rename(b"b", b"a");
        assert_eq!(r.get(b"a"), Some(10));
        assert_eq!(r.get(b"b"), None);
        let mut other = ExpiryRegistry::new();
        r.move_to(b"a", &mut other);
        assert_eq!(other.get(b"a"), Some(10));
        assert_eq!(r.len(), 1);
        r.rename(b"nothing", b"c");
        assert!(r.is_empty());
        other.set(b"a", None);
        assert!(other.is_empty());
        other.set(b"x", Some(1));
        other.clear();
        assert!(other.earliest().is_none());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, Option<u64>),
        Remove(u8),
        Rename(u8, u8),
        Move(u8),
        MoveBack(u8),
        Swap,
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..12, proptest::option::weighted(0.8, 0u64..50)).prop_map(|(k, t)| Op::Set(k, t)),
            1 => (0u8..12).prop_map(Op::Remove),
            1 => (0u8..12, 0u8..12).prop_map(|(a, b)| Op::Rename(a, b)),
            1 => (0u8..12).prop_map(Op::Move),
            1 => (0u8..12).prop_map(Op::MoveBack),
            1 => Just(Op::Swap),
            1 => Just(Op::Clear),
        ]
    }

    fn check(reg: &ExpiryRegistry, model: &BTreeMap<Vec<u8>, u64>) {
        assert_eq!(reg.len(), model.len());
        let mut want: Vec<(u64, Vec<u8>)> = model.iter().map(|(k, t)| (*t, k.clone())).collect();
        want.sort();
        let got: Vec<(u64, Vec<u8>)> = reg.iter().map(|(t, k)| (t, k.to_vec())).collect();
        assert_eq!(got, want);
        for threshold in [0, 10, 25, 49, 100] {
            for limit in [0, 1, 3, 100] {
                let due: Vec<Vec<u8>> = want
                    .iter()
                    .filter(|(t, _)| *t <= threshold)
                    .take(limit)
                    .map(|(_, k)| k.clone())
                    .collect();
                assert_eq!(reg.due_keys(threshold, limit), due);
            }
        }
        assert_eq!(
            reg.earliest().map(|(t, k)| (t, k.to_vec())),
            want.first().cloned()
        );
    }

    proptest! {
        #[test]
        fn registry_matches_model(ops in proptest::collection::vec(op(), 1..120)) {
            let mut regs = [ExpiryRegistry::new(), ExpiryRegistry::new()];
            let mut models = [BTreeMap::new(), BTreeMap::new()];
            for op in ops {
                match op {
                    Op::Set(k, t) => {
                        regs[0].set(&[k], t);
                        match t {
                            Some(t) => { models[0].insert(vec![k], t); }
                            None => { models[0].remove(&vec![k]); }
                        }
                    }
                    Op::Remove(k) => {
                        assert_eq!(regs[0].remove(&[k]), models[0].remove(&vec![k]));
                    }
                    Op::Rename(a, b) => {
                        regs[0].rename(&[a], &[b]);
                        if a != b {
                            let t = models[0].remove(&vec![a]);
                            models[0].remove(&vec![b]);
                            if let Some(t) = t { models[0].insert(vec![b], t); }
                        }
                    }
                    Op::Move(k) | Op::MoveBack(k) => {
                        let (from, to) = if matches!(op, Op::Move(_)) { (0, 1) } else { (1, 0) };
                        let [r0, r1] = &mut regs;
                        if from == 0 { r0.move_to(&[k], r1) } else { r1.move_to(&[k], r0) }
                        let t = models[from].remove(&vec![k]);
                        models[to].remove(&vec![k]);
                        if let Some(t) = t { models[to].insert(vec![k], t); }
                    }
                    Op::Swap => {
                        regs.swap(0, 1);
                        models.swap(0, 1);
                    }
                    Op::Clear => {
                        regs[0].clear();
                        models[0].clear();
                    }
                }
                check(&regs[0], &models[0]);
                check(&regs[1], &models[1]);
            }
        }
    }
}
