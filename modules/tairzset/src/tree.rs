//! `RankTree`: an order-statistic B+-tree over 32-bit member handles, in two index arenas (no `unsafe`,
//! no pointers). The tree does not know the order itself: searches take a monotone predicate
//! ("is this handle before the point I am looking for?") and mutations take a rank, so the member table
//! owns all keys and the tree stores 4 bytes per member in its leaves.
//!
//! - Leaves hold up to `L` handles and are doubly linked for O(1) steps while iterating.
//! - Inner nodes hold up to `I` slots `(child, subtree count, max handle of the subtree)`. Counts give
//!   rank / select in O(log N); the max handle lets a predicate pick the child in O(log I) comparisons.
//! - All leaves are at the same depth; every non-root node is non-empty, inner nodes are rebalanced
//!   (merge or even out with a sibling) below half full, leaves likewise. Splitting the last (first) leaf
//!   at its end (start) keeps the full half full, so sequential inserts leave leaves ~100% used.
//! - Recursion depth is the tree height, O(log N) (at most ~8 for 2^32 members).
//! - Every node knows its parent, and a [`LeafIndex`] (kept by the owner, next to its per-handle data)
//!   maps each handle to the leaf holding it, so the rank of a handle is found bottom-up without a
//!   single key comparison ([`RankTree::rank_of`]): one leaf and its ancestors instead of O(log N)
//!   probes into the member table.

use std::mem::size_of;

/// "No node / no handle".
pub const NIL: u32 = u32::MAX;

/// Where the tree records, for each handle it holds, the leaf holding it (NIL once removed). The owner
/// keeps it beside its own per-handle data so that a lookup finds both in one cache line.
pub trait LeafIndex {
    /// The leaf recorded for `h` (NIL if none).
    fn leaf(&self, h: u32) -> u32;
    /// Records `leaf` for `h`; false if `h` is not a handle of the owner.
    fn set_leaf(&mut self, h: u32, leaf: u32) -> bool;
}

/// A plain index for trees used on their own (tests, fuzzers): grows to the largest handle.
impl LeafIndex for Vec<u32> {
    fn leaf(&self, h: u32) -> u32 {
        self.get(h as usize).copied().unwrap_or(NIL)
    }

    fn set_leaf(&mut self, h: u32, leaf: u32) -> bool {
        let i = h as usize;
        if i >= self.len() {
            self.resize(i + 1, NIL);
        }
        match self.get_mut(i) {
            Some(slot) => {
                *slot = leaf;
                true
            }
            None => false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    child: u32,
    count: u32,
    max: u32,
}

const EMPTY_SLOT: Slot = Slot {
    child: NIL,
    count: 0,
    max: NIL,
};

#[derive(Clone, Copy, Debug)]
struct Leaf<const L: usize> {
    items: [u32; L],
    len: u32,
    prev: u32,
    next: u32,
    parent: u32,
}

impl<const L: usize> Leaf<L> {
    fn empty() -> Self {
        Leaf {
            items: [NIL; L],
            len: 0,
            prev: NIL,
            next: NIL,
            parent: NIL,
        }
    }

    fn items(&self) -> &[u32] {
        self.items.get(..self.len as usize).unwrap_or(&[])
    }
}

#[derive(Clone, Copy, Debug)]
struct Inner<const I: usize> {
    slots: [Slot; I],
    len: u32,
    parent: u32,
}

impl<const I: usize> Inner<I> {
    fn slots(&self) -> &[Slot] {
        self.slots.get(..self.len as usize).unwrap_or(&[])
    }

    fn total(&self) -> usize {
        self.slots().iter().map(|s| s.count as usize).sum()
    }
}

/// The order-statistic index. `L` = handles per leaf, `I` = children per inner node (both >= 4; tests use
/// tiny nodes to get deep trees).
#[derive(Clone, Debug)]
pub struct RankTree<const L: usize = 32, const I: usize = 32> {
    leaves: Vec<Leaf<L>>,
    inners: Vec<Inner<I>>,
    free_leaves: Vec<u32>,
    free_inners: Vec<u32>,
    root: u32,
    /// 0 when the root is a leaf.
    height: u32,
    len: usize,
}

impl<const L: usize, const I: usize> Default for RankTree<L, I> {
    fn default() -> Self {
        Self::new()
    }
}

/// Inserts `v` at `pos` among the first `len` elements of `arr` (needs `len < arr.len()`).
fn slice_insert<T: Copy>(arr: &mut [T], len: usize, pos: usize, v: T) -> Option<()> {
    let s = arr.get_mut(pos..=len)?;
    s.rotate_right(1);
    *s.first_mut()? = v;
    Some(())
}

/// Removes and returns the element at `pos` among the first `len` elements of `arr`.
fn slice_remove<T: Copy>(arr: &mut [T], len: usize, pos: usize) -> Option<T> {
    let s = arr.get_mut(pos..len)?;
    let v = *s.first()?;
    s.rotate_left(1);
    Some(v)
}

/// `arr` is full; inserts `v` at `pos`, keeps the first `left_n` of the N+1 elements in `arr` and
/// returns an array whose first N+1-left_n elements are the rest.
fn split_insert<T: Copy, const N: usize>(
    arr: &mut [T; N],
    pos: usize,
    v: T,
    left_n: usize,
) -> Option<[T; N]> {
    if pos > N || left_n == 0 || left_n > N {
        return None;
    }
    let mut right = *arr;
    for k in left_n..=N {
        let item = match k.cmp(&pos) {
            std::cmp::Ordering::Less => *arr.get(k)?,
            std::cmp::Ordering::Equal => v,
            std::cmp::Ordering::Greater => *arr.get(k - 1)?,
        };
        *right.get_mut(k - left_n)? = item;
    }
    if pos < left_n {
        slice_insert(arr, left_n - 1, pos, v)?;
    }
    Some(right)
}

/// Appends `b[..blen]` to `a[..alen]`.
fn merge_into<T: Copy>(a: &mut [T], alen: &mut usize, b: &[T], blen: usize) -> Option<()> {
    a.get_mut(*alen..*alen + blen)?
        .copy_from_slice(b.get(..blen)?);
    *alen += blen;
    Some(())
}

/// Moves elements across the boundary of two adjacent nodes so that the left one holds half (rounded down).
fn even_out<T: Copy>(a: &mut [T], alen: &mut usize, b: &mut [T], blen: &mut usize) -> Option<()> {
    let want = (*alen + *blen) / 2;
    if *alen < want {
        let k = want - *alen;
        if k > *blen {
            return None;
        }
        a.get_mut(*alen..want)?.copy_from_slice(b.get(..k)?);
        b.get_mut(..*blen)?.rotate_left(k);
        *blen -= k;
    } else if *alen > want {
        let k = *alen - want;
        b.get_mut(..*blen + k)?.rotate_right(k);
        b.get_mut(..k)?.copy_from_slice(a.get(want..*alen)?);
        *blen += k;
    }
    *alen = want;
    Some(())
}

fn to_u32(v: usize) -> Option<u32> {
    u32::try_from(v).ok()
}

impl<const L: usize, const I: usize> RankTree<L, I> {
    /// Active defragmentation: the node arrays and free lists move if the allocator wants them
    /// elsewhere (nodes refer to each other by index, so no pointer needs fixing).
    pub fn defrag(&mut self, d: &mut tair_common::value::Defrag) {
        d.vec(&mut self.leaves);
        d.vec(&mut self.inners);
        d.vec(&mut self.free_leaves);
        d.vec(&mut self.free_inners);
    }

    /// Node sizes the algorithms need (checked at compile time by `new`).
    const SIZES_OK: () =
        assert!(L >= 4 && I >= 4 && L < u16::MAX as usize && I < u16::MAX as usize);

    /// An empty tree (one empty root leaf).
    pub fn new() -> Self {
        let () = Self::SIZES_OK;
        RankTree {
            leaves: vec![Leaf::empty()],
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: 0,
            height: 0,
            len: 0,
        }
    }

    /// Builds a tree holding `items` in this order, leaves filled evenly and (nearly) full. O(N).
    /// `None` if there are more than `u32::MAX - 1` items.
    pub fn from_sorted(items: &[u32], index: &mut (impl LeafIndex + ?Sized)) -> Option<Self> {
        let () = Self::SIZES_OK;
        let n = items.len();
        if n == 0 {
            return Some(Self::new());
        }
        if n >= NIL as usize {
            return None;
        }
        let leaf_count = n.div_ceil(L);
        let mut tree = RankTree {
            leaves: Vec::with_capacity(leaf_count),
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: 0,
            height: 0,
            len: n,
        };
        let mut level: Vec<Slot> = Vec::with_capacity(leaf_count);
        let mut rest = items;
        for k in 0..leaf_count {
            let size = n / leaf_count + usize::from(k < n % leaf_count);
            let (chunk, tail) = rest.split_at_checked(size)?;
            rest = tail;
            let mut leaf = Leaf::empty();
            leaf.items.get_mut(..size)?.copy_from_slice(chunk);
            leaf.len = to_u32(size)?;
            leaf.prev = if k == 0 { NIL } else { to_u32(k - 1)? };
            for &h in chunk {
                index.set_leaf(h, to_u32(k)?).then_some(())?;
            }
            leaf.next = if k + 1 == leaf_count {
                NIL
            } else {
                to_u32(k + 1)?
            };
            level.push(Slot {
                child: to_u32(k)?,
                count: leaf.len,
                max: *chunk.last()?,
            });
            tree.leaves.push(leaf);
        }
        while level.len() > 1 {
            let groups = level.len().div_ceil(I);
            let mut upper = Vec::with_capacity(groups);
            let mut rest = level.as_slice();
            for k in 0..groups {
                let size = level.len() / groups + usize::from(k < level.len() % groups);
                let (chunk, tail) = rest.split_at_checked(size)?;
                rest = tail;
                let mut inner = Inner {
                    slots: [EMPTY_SLOT; I],
                    len: to_u32(size)?,
                    parent: NIL,
                };
                inner.slots.get_mut(..size)?.copy_from_slice(chunk);
                let count = to_u32(inner.total())?;
                let max = chunk.last()?.max;
                let id = to_u32(tree.inners.len())?;
                for s in chunk {
                    tree.set_parent(s.child, tree.height, id)?;
                }
                upper.push(Slot {
                    child: id,
                    count,
                    max,
                });
                tree.inners.push(inner);
            }
            level = upper;
            tree.height += 1;
        }
        tree.root = level.first()?.child;
        Some(tree)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the arenas (capacity, not just length).
    pub fn heap_bytes(&self) -> usize {
        self.leaves.capacity() * size_of::<Leaf<L>>()
            + self.inners.capacity() * size_of::<Inner<I>>()
            + (self.free_leaves.capacity() + self.free_inners.capacity()) * size_of::<u32>()
    }

    /// Points every handle of `leaf` at it in `index`.
    fn claim_items(&self, leaf: u32, index: &mut (impl LeafIndex + ?Sized)) -> Option<()> {
        let l = self.leaves.get(leaf as usize)?;
        for &h in l.items() {
            index.set_leaf(h, leaf).then_some(())?;
        }
        Some(())
    }

    /// Sets the parent of node `node` at `level`.
    fn set_parent(&mut self, node: u32, level: u32, parent: u32) -> Option<()> {
        if level == 0 {
            self.leaves.get_mut(node as usize)?.parent = parent;
        } else {
            self.inners.get_mut(node as usize)?.parent = parent;
        }
        Some(())
    }

    /// Points every child of inner node `node` (at `level` >= 1) at it.
    fn claim_children(&mut self, node: u32, level: u32) -> Option<()> {
        let inner = *self.inners.get(node as usize)?;
        for s in inner.slots() {
            self.set_parent(s.child, level - 1, node)?;
        }
        Some(())
    }

    /// The rank of handle `h`, bottom-up from its leaf: no key comparisons. `None` if `h` is not in
    /// the tree. O(L + height · I) over contiguous memory.
    pub fn rank_of(&self, h: u32, index: &(impl LeafIndex + ?Sized)) -> Option<usize> {
        let leaf_id = index.leaf(h);
        let leaf = self.leaves.get(leaf_id as usize)?;
        let mut rank = leaf.items().iter().position(|&x| x == h)?;
        let (mut child, mut parent) = (leaf_id, leaf.parent);
        for _ in 0..self.height {
            let inner = self.inners.get(parent as usize)?;
            let mut found = false;
            for s in inner.slots() {
                if s.child == child {
                    found = true;
                    break;
                }
                rank += s.count as usize;
            }
            if !found {
                return None;
            }
            (child, parent) = (parent, inner.parent);
        }
        (child == self.root).then_some(rank)
    }

    /// Number of leading elements for which `before` holds (`before` must be true on a prefix of the
    /// order; otherwise the answer is some position in 0..=len). O(log N) calls of `before`.
    pub fn partition_point(&self, mut before: impl FnMut(u32) -> bool) -> usize {
        let mut node = self.root;
        let mut level = self.height;
        let mut acc = 0usize;
        loop {
            if level == 0 {
                return match self.leaves.get(node as usize) {
                    Some(leaf) => acc + leaf.items().partition_point(|&h| before(h)),
                    None => acc,
                };
            }
            let Some(inner) = self.inners.get(node as usize) else {
                return acc;
            };
            let slots = inner.slots();
            let i = slots.partition_point(|s| before(s.max));
            acc += slots
                .iter()
                .take(i)
                .map(|s| s.count as usize)
                .sum::<usize>();
            match slots.get(i) {
                Some(s) => node = s.child,
                None => return acc,
            }
            level -= 1;
        }
    }

    /// Leaf and index of the element at `rank`.
    fn locate(&self, rank: usize) -> Option<(u32, usize)> {
        if rank >= self.len {
            return None;
        }
        let mut node = self.root;
        let mut rest = rank;
        for _ in 0..self.height {
            let inner = self.inners.get(node as usize)?;
            let mut next = None;
            for s in inner.slots() {
                let c = s.count as usize;
                if rest < c {
                    next = Some(s.child);
                    break;
                }
                rest -= c;
            }
            node = next?;
        }
        let leaf = self.leaves.get(node as usize)?;
        (rest < leaf.len as usize).then_some((node, rest))
    }

    /// The handle at `rank` (0-based, ascending). O(log N).
    pub fn get(&self, rank: usize) -> Option<u32> {
        let (leaf, idx) = self.locate(rank)?;
        self.leaves.get(leaf as usize)?.items().get(idx).copied()
    }

    /// Iterates ranks `start..end` (clamped to the length), backwards when `reverse`.
    /// O(log N) to start, O(1) per step.
    pub fn iter_range(&self, start: usize, end: usize, reverse: bool) -> Iter<'_, L, I> {
        let end = end.min(self.len);
        let remaining = end.saturating_sub(start);
        let at = if remaining == 0 {
            None
        } else if reverse {
            self.locate(end - 1)
        } else {
            self.locate(start)
        };
        let (leaf, idx) = at.unwrap_or((NIL, 0));
        Iter {
            tree: self,
            leaf,
            idx,
            remaining: if at.is_some() { remaining } else { 0 },
            reverse,
        }
    }

    fn alloc_leaf(&mut self, leaf: Leaf<L>) -> Option<u32> {
        if let Some(id) = self.free_leaves.pop() {
            *self.leaves.get_mut(id as usize)? = leaf;
            return Some(id);
        }
        let id = to_u32(self.leaves.len()).filter(|&id| id != NIL)?;
        self.leaves.push(leaf);
        Some(id)
    }

    fn alloc_inner(&mut self, inner: Inner<I>) -> Option<u32> {
        if let Some(id) = self.free_inners.pop() {
            *self.inners.get_mut(id as usize)? = inner;
            return Some(id);
        }
        let id = to_u32(self.inners.len()).filter(|&id| id != NIL)?;
        self.inners.push(inner);
        Some(id)
    }

    fn node_len(&self, node: u32, level: u32) -> usize {
        if level == 0 {
            self.leaves.get(node as usize).map_or(0, |l| l.len as usize)
        } else {
            self.inners.get(node as usize).map_or(0, |n| n.len as usize)
        }
    }

    fn node_count(&self, node: u32, level: u32) -> usize {
        if level == 0 {
            self.leaves.get(node as usize).map_or(0, |l| l.len as usize)
        } else {
            self.inners.get(node as usize).map_or(0, Inner::total)
        }
    }

    fn node_max(&self, node: u32, level: u32) -> Option<u32> {
        if level == 0 {
            self.leaves.get(node as usize)?.items().last().copied()
        } else {
            self.inners
                .get(node as usize)?
                .slots()
                .last()
                .map(|s| s.max)
        }
    }

    fn slot_of(&self, node: u32, level: u32) -> Option<Slot> {
        Some(Slot {
            child: node,
            count: to_u32(self.node_count(node, level))?,
            max: self.node_max(node, level)?,
        })
    }

    /// Inserts `h` so that it gets rank `rank` (0..=len). False (and no change) if `rank > len` or the
    /// tree is full. O(log N).
    pub fn insert_at(
        &mut self,
        rank: usize,
        h: u32,
        index: &mut (impl LeafIndex + ?Sized),
    ) -> bool {
        if rank > self.len || self.len >= (NIL - 1) as usize {
            return false;
        }
        let (root, height) = (self.root, self.height);
        let Some(split) = self.insert_rec(root, height, rank, h, index) else {
            return false;
        };
        self.len += 1;
        if let Some(right) = split {
            let (Some(a), Some(b)) = (self.slot_of(root, height), self.slot_of(right, height))
            else {
                return true;
            };
            let mut inner = Inner {
                slots: [EMPTY_SLOT; I],
                len: 2,
                parent: NIL,
            };
            if let Some(s) = inner.slots.get_mut(..2) {
                s.copy_from_slice(&[a, b]);
            }
            if let Some(id) = self.alloc_inner(inner) {
                let _ = self.set_parent(root, height, id);
                let _ = self.set_parent(right, height, id);
                self.root = id;
                self.height += 1;
            }
        }
        true
    }

    /// Returns `Some(Some(new right sibling))` when `node` split, `None` on an inconsistency (detected
    /// before anything changes).
    fn insert_rec(
        &mut self,
        node: u32,
        level: u32,
        rank: usize,
        h: u32,
        index: &mut (impl LeafIndex + ?Sized),
    ) -> Option<Option<u32>> {
        if level == 0 {
            let leaf = self.leaves.get_mut(node as usize)?;
            let len = leaf.len as usize;
            if rank > len {
                return None;
            }
            if len < L {
                slice_insert(&mut leaf.items, len, rank, h)?;
                leaf.len += 1;
                index.set_leaf(h, node).then_some(())?;
                return Some(None);
            }
            let left_n = if rank == L && leaf.next == NIL {
                L
            } else if rank == 0 && leaf.prev == NIL {
                1
            } else {
                L.div_ceil(2)
            };
            let right_items = split_insert(&mut leaf.items, rank, h, left_n)?;
            leaf.len = to_u32(left_n)?;
            let old_next = leaf.next;
            let right = Leaf {
                items: right_items,
                len: to_u32(L + 1 - left_n)?,
                prev: node,
                next: old_next,
                parent: leaf.parent,
            };
            let right_id = self.alloc_leaf(right)?;
            self.leaves.get_mut(node as usize)?.next = right_id;
            if let Some(n) = self.leaves.get_mut(old_next as usize) {
                n.prev = right_id;
            }
            index.set_leaf(h, node).then_some(())?;
            self.claim_items(right_id, index)?;
            return Some(Some(right_id));
        }
        let inner = self.inners.get(node as usize)?;
        let mut cum = 0usize;
        let mut pick = None;
        for (k, s) in inner.slots().iter().enumerate() {
            let c = s.count as usize;
            if rank <= cum + c {
                pick = Some((k, s.child));
                break;
            }
            cum += c;
        }
        let (i, child) = pick?;
        let split = self.insert_rec(child, level - 1, rank - cum, h, index)?;
        let Some(right) = split else {
            let max = self.node_max(child, level - 1)?;
            let slot = self.inners.get_mut(node as usize)?.slots.get_mut(i)?;
            slot.count += 1;
            slot.max = max;
            return Some(None);
        };
        let left_slot = self.slot_of(child, level - 1)?;
        let right_slot = self.slot_of(right, level - 1)?;
        let inner = self.inners.get_mut(node as usize)?;
        *inner.slots.get_mut(i)? = left_slot;
        let len = inner.len as usize;
        if len < I {
            slice_insert(&mut inner.slots, len, i + 1, right_slot)?;
            inner.len += 1;
            return Some(None);
        }
        let left_n = I.div_ceil(2);
        let right_slots = split_insert(&mut inner.slots, i + 1, right_slot, left_n)?;
        inner.len = to_u32(left_n)?;
        let new_inner = Inner {
            slots: right_slots,
            len: to_u32(I + 1 - left_n)?,
            parent: inner.parent,
        };
        let id = self.alloc_inner(new_inner)?;
        self.claim_children(id, level)?;
        Some(Some(id))
    }

    /// Removes and returns the handle at `rank`. O(log N).
    pub fn remove_at(&mut self, rank: usize, index: &mut (impl LeafIndex + ?Sized)) -> Option<u32> {
        if rank >= self.len {
            return None;
        }
        let h = self.remove_rec(self.root, self.height, rank, index)?;
        self.len -= 1;
        while self.height > 0 {
            let Some(inner) = self.inners.get(self.root as usize) else {
                break;
            };
            if inner.len != 1 {
                break;
            }
            let Some(child) = inner.slots().first().map(|s| s.child) else {
                break;
            };
            self.free_inners.push(self.root);
            self.root = child;
            self.height -= 1;
            let _ = self.set_parent(child, self.height, NIL);
        }
        Some(h)
    }

    fn remove_rec(
        &mut self,
        node: u32,
        level: u32,
        rank: usize,
        index: &mut (impl LeafIndex + ?Sized),
    ) -> Option<u32> {
        if level == 0 {
            let leaf = self.leaves.get_mut(node as usize)?;
            let h = slice_remove(&mut leaf.items, leaf.len as usize, rank)?;
            leaf.len -= 1;
            index.set_leaf(h, NIL);
            return Some(h);
        }
        let inner = self.inners.get(node as usize)?;
        let mut cum = 0usize;
        let mut pick = None;
        for (k, s) in inner.slots().iter().enumerate() {
            let c = s.count as usize;
            if rank < cum + c {
                pick = Some((k, s.child));
                break;
            }
            cum += c;
        }
        let (i, child) = pick?;
        let h = self.remove_rec(child, level - 1, rank - cum, index)?;
        let max = self.node_max(child, level - 1);
        let child_len = self.node_len(child, level - 1);
        let slot = self.inners.get_mut(node as usize)?.slots.get_mut(i)?;
        slot.count = slot.count.saturating_sub(1);
        if let Some(m) = max {
            slot.max = m;
        }
        let min = if level == 1 { L / 2 } else { I / 2 };
        if child_len < min {
            // Only fails on an inconsistency; the removal itself is complete.
            let _ = self.rebalance(node, i, level - 1, index);
        }
        Some(h)
    }

    /// Child `i` of `parent` is under-full: merge it with a sibling or even the two out.
    fn rebalance(
        &mut self,
        parent: u32,
        i: usize,
        child_level: u32,
        index: &mut (impl LeafIndex + ?Sized),
    ) -> Option<()> {
        let p = *self.inners.get(parent as usize)?;
        if p.len < 2 {
            return Some(());
        }
        let l = i.saturating_sub(1).min(p.len as usize - 2);
        let (lc, rc) = (p.slots.get(l)?.child, p.slots.get(l + 1)?.child);
        let merged = if child_level == 0 {
            let mut a = *self.leaves.get(lc as usize)?;
            let mut b = *self.leaves.get(rc as usize)?;
            let (mut al, mut bl) = (a.len as usize, b.len as usize);
            if al + bl <= L {
                merge_into(&mut a.items, &mut al, &b.items, bl)?;
                a.next = b.next;
                if let Some(n) = self.leaves.get_mut(b.next as usize) {
                    n.prev = lc;
                }
                self.free_leaves.push(rc);
                a.len = to_u32(al)?;
                *self.leaves.get_mut(lc as usize)? = a;
                self.claim_items(lc, index)?;
                true
            } else {
                even_out(&mut a.items, &mut al, &mut b.items, &mut bl)?;
                a.len = to_u32(al)?;
                b.len = to_u32(bl)?;
                *self.leaves.get_mut(lc as usize)? = a;
                *self.leaves.get_mut(rc as usize)? = b;
                self.claim_items(lc, index)?;
                self.claim_items(rc, index)?;
                false
            }
        } else {
            let mut a = *self.inners.get(lc as usize)?;
            let mut b = *self.inners.get(rc as usize)?;
            let (mut al, mut bl) = (a.len as usize, b.len as usize);
            if al + bl <= I {
                merge_into(&mut a.slots, &mut al, &b.slots, bl)?;
                self.free_inners.push(rc);
                a.len = to_u32(al)?;
                *self.inners.get_mut(lc as usize)? = a;
                self.claim_children(lc, child_level)?;
                true
            } else {
                even_out(&mut a.slots, &mut al, &mut b.slots, &mut bl)?;
                a.len = to_u32(al)?;
                b.len = to_u32(bl)?;
                *self.inners.get_mut(lc as usize)? = a;
                *self.inners.get_mut(rc as usize)? = b;
                self.claim_children(lc, child_level)?;
                self.claim_children(rc, child_level)?;
                false
            }
        };
        let left_slot = self.slot_of(lc, child_level)?;
        let right_slot = if merged {
            None
        } else {
            Some(self.slot_of(rc, child_level)?)
        };
        let pm = self.inners.get_mut(parent as usize)?;
        *pm.slots.get_mut(l)? = left_slot;
        match right_slot {
            Some(s) => *pm.slots.get_mut(l + 1)? = s,
            None => {
                slice_remove(&mut pm.slots, pm.len as usize, l + 1)?;
                pm.len -= 1;
            }
        }
        Some(())
    }

    /// Verifies every structural invariant (tests and fuzzers).
    pub fn check(&self, index: &(impl LeafIndex + ?Sized)) -> Result<(), String> {
        let mut leaves = Vec::new();
        let total = self.check_node(self.root, self.height, true, &mut leaves, index)?;
        if total != self.len {
            return Err(format!("count {total} != len {}", self.len));
        }
        let mut prev = NIL;
        for (k, &id) in leaves.iter().enumerate() {
            let leaf = self.leaves.get(id as usize).ok_or("leaf id")?;
            let want_next = leaves.get(k + 1).copied().unwrap_or(NIL);
            if leaf.prev != prev || leaf.next != want_next {
                return Err(format!("leaf links of {id}"));
            }
            prev = id;
        }
        Ok(())
    }

    fn check_node(
        &self,
        node: u32,
        level: u32,
        is_root: bool,
        leaves: &mut Vec<u32>,
        index: &(impl LeafIndex + ?Sized),
    ) -> Result<usize, String> {
        if level == 0 {
            let leaf = self.leaves.get(node as usize).ok_or("leaf id")?;
            if leaf.len as usize > L || (!is_root && leaf.len == 0) {
                return Err(format!("leaf {node} len {}", leaf.len));
            }
            for &h in leaf.items() {
                if index.leaf(h) != node {
                    return Err(format!("the leaf index of {h} is not {node}"));
                }
            }
            leaves.push(node);
            return Ok(leaf.len as usize);
        }
        let inner = self.inners.get(node as usize).ok_or("inner id")?;
        let min = if is_root { 2 } else { I / 2 };
        if inner.len as usize > I || (inner.len as usize) < min {
            return Err(format!("inner {node} len {}", inner.len));
        }
        let mut total = 0;
        for s in inner.slots() {
            let parent = if level == 1 {
                self.leaves.get(s.child as usize).map(|l| l.parent)
            } else {
                self.inners.get(s.child as usize).map(|n| n.parent)
            };
            if parent != Some(node) {
                return Err(format!("parent of child {} is not {node}", s.child));
            }
            let count = self.check_node(s.child, level - 1, false, leaves, index)?;
            if count != s.count as usize {
                return Err(format!("slot count {} != {count}", s.count));
            }
            if self.node_max(s.child, level - 1) != Some(s.max) {
                return Err(format!("slot max of child {}", s.child));
            }
            total += count;
        }
        Ok(total)
    }
}

/// Iterator over handles of a rank range (see [`RankTree::iter_range`]).
#[derive(Clone)]
pub struct Iter<'a, const L: usize, const I: usize> {
    tree: &'a RankTree<L, I>,
    leaf: u32,
    idx: usize,
    remaining: usize,
    reverse: bool,
}

impl<const L: usize, const I: usize> Iterator for Iter<'_, L, I> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.remaining == 0 {
            return None;
        }
        let leaves = &self.tree.leaves;
        let leaf = leaves.get(self.leaf as usize)?;
        let h = *leaf.items().get(self.idx)?;
        self.remaining -= 1;
        if self.reverse {
            if self.idx == 0 {
                self.leaf = leaf.prev;
                self.idx = leaves
                    .get(leaf.prev as usize)
                    .map_or(0, |p| (p.len as usize).saturating_sub(1));
            } else {
                self.idx -= 1;
            }
        } else if self.idx + 1 >= leaf.len as usize {
            self.leaf = leaf.next;
            self.idx = 0;
        } else {
            self.idx += 1;
        }
        Some(h)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
