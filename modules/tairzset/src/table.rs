//! `MemberTable`: the member arena and the member → handle hash index.
//!
//! Each member has a 32-bit handle (its slot in the arena). A slot costs:
//! - `entries`: one [`Entry`] of 32 bytes (half a cache line): the [`Member`] bytes (up to 16 inline,
//!   longer ones on the heap; the only copy), the next handle in the hash chain (or the next free slot),
//!   and the tree leaf holding the handle ([`LeafIndex`]). A lookup by member and the rank walk that
//!   follows it touch this one line, not three arrays;
//! - `scores`: N doubles in one flat array (`scores[h·N .. h·N+N]`), 8·N bytes and no per-member header.
//!
//! `buckets` (power of two, 4 bytes each) hold chain heads; the table grows at load 1 and shrinks below
//! 1/8, so 4–8 bytes per member. Chaining with the bucket index `hash & mask` gives EXZSCAN the Redis
//! reverse-binary cursor, which survives resizes between calls. The hash is SipHash-1-3 with a random key
//! per set (std `RandomState`), so chosen members cannot force long chains. Resizes rehash in one go.
//! The tree (`tree.rs`) orders the handles; the table does not know the order.

use std::hash::{BuildHasher, RandomState};
use std::mem::size_of;

use smallvec::SmallVec;

use crate::tree::{LeafIndex, NIL};

/// Member bytes: inline up to [`INLINE`] bytes, else one heap allocation.
pub type Member = SmallVec<[u8; INLINE]>;

/// Longest member kept inline.
pub const INLINE: usize = 16;

/// Heap bytes a member of this length takes (0 when inline).
pub fn spilled_len(member: &[u8]) -> usize {
    if member.len() > INLINE {
        member.len()
    } else {
        0
    }
}

const MIN_BUCKETS: usize = 4;

/// The per-handle record (see the module docs).
#[derive(Clone, Debug, Default)]
struct Entry {
    member: Member,
    /// Next handle in the bucket's chain; for a free slot, the next free slot.
    link: u32,
    /// The tree leaf holding this handle (NIL when not in a tree).
    leaf: u32,
}

#[derive(Clone, Debug)]
pub struct MemberTable {
    dims: usize,
    entries: Vec<Entry>,
    scores: Vec<f64>,
    buckets: Vec<u32>,
    free: u32,
    len: usize,
    spilled_bytes: usize,
    hasher: RandomState,
}

impl MemberTable {
    /// Active defragmentation from slot `from` on: the arrays (when starting), then each member kept on
    /// the heap. `Some(next)` when `d` said time is up: resume at slot `next`.
    pub fn defrag(&mut self, d: &mut tair_common::value::Defrag, from: usize) -> Option<usize> {
        if from == 0 {
            d.vec(&mut self.entries);
            d.vec(&mut self.scores);
            d.vec(&mut self.buckets);
        }
        let n = self.entries.len();
        let mut i = from;
        while let Some(e) = self.entries.get_mut(i) {
            d.small_vec(&mut e.member);
            i += 1;
            if i.is_multiple_of(64) && i < n && d.should_stop() {
                return Some(i);
            }
        }
        None
    }

    /// An empty table for scores of `dims` dimensions.
    pub fn new(dims: usize) -> Self {
        Self::with_hasher(dims, RandomState::new())
    }

    fn with_hasher(dims: usize, hasher: RandomState) -> Self {
        MemberTable {
            dims,
            entries: Vec::new(),
            scores: Vec::new(),
            buckets: Vec::new(),
            free: NIL,
            len: 0,
            spilled_bytes: 0,
            hasher,
        }
    }

    /// An empty table with the same dimensions and hash key, room for `capacity` members.
    pub fn empty_like(&self, capacity: usize) -> Self {
        let mut t = Self::with_hasher(self.dims, self.hasher.clone());
        t.entries.reserve_exact(capacity);
        t.scores.reserve_exact(capacity.saturating_mul(self.dims));
        t
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Arena slots in use or free (`len` plus holes).
    pub fn slots(&self) -> usize {
        self.entries.len()
    }

    /// Heap bytes of the members longer than [`INLINE`] (the others live in the member slots).
    pub fn spilled_bytes(&self) -> usize {
        self.spilled_bytes
    }

    /// The longest member's length (0 when empty). O(slots).
    pub fn max_member_len(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.member.len())
            .max()
            .unwrap_or(0)
    }

    /// Bytes allocated by the table (capacities; member allocations at their requested size).
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>()
            + self
                .entries
                .iter()
                .filter(|e| e.member.spilled())
                .map(|e| e.member.capacity())
                .sum::<usize>()
            + self.scores.capacity() * size_of::<f64>()
            + self.buckets.capacity() * size_of::<u32>()
    }

    fn hash(&self, member: &[u8]) -> u64 {
        self.hasher.hash_one(member)
    }

    fn bucket_of(&self, member: &[u8]) -> usize {
        // Truncation is the point: the low bits pick the bucket.
        (self.hash(member) as usize) & self.buckets.len().wrapping_sub(1)
    }

    fn link(&self, h: u32) -> u32 {
        self.entries.get(h as usize).map_or(NIL, |e| e.link)
    }

    /// The member bytes of a live handle (empty for an unknown handle).
    pub fn member(&self, h: u32) -> &[u8] {
        self.entries
            .get(h as usize)
            .map_or(&[], |e| e.member.as_slice())
    }

    /// The score of a live handle (empty for an unknown handle).
    pub fn scores(&self, h: u32) -> &[f64] {
        let start = h as usize * self.dims;
        self.scores.get(start..start + self.dims).unwrap_or(&[])
    }

    /// The score of a live handle, writable (the caller keeps the tree order consistent).
    pub fn scores_mut(&mut self, h: u32) -> &mut [f64] {
        let start = h as usize * self.dims;
        self.scores
            .get_mut(start..start + self.dims)
            .unwrap_or(&mut [])
    }

    /// The handle of `member`, if present. O(1) expected.
    pub fn find(&self, member: &[u8]) -> Option<u32> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self
            .buckets
            .get(self.bucket_of(member))
            .copied()
            .unwrap_or(NIL);
        for _ in 0..=self.len {
            if cur == NIL {
                return None;
            }
            if self.member(cur) == member {
                return Some(cur);
            }
            cur = self.link(cur);
        }
        None
    }

    /// Adds a member that is not present (the caller checked with `find`). `None` when the arena is full
    /// or `score` has the wrong width.
    pub fn insert(&mut self, member: &[u8], score: &[f64]) -> Option<u32> {
        if score.len() != self.dims {
            return None;
        }
        let h = if self.free != NIL {
            let h = self.free;
            self.free = self.link(h);
            *self.entries.get_mut(h as usize)? = Entry {
                member: Member::from_slice(member),
                link: NIL,
                leaf: NIL,
            };
            for (d, s) in self.scores_mut(h).iter_mut().zip(score) {
                *d = *s;
            }
            h
        } else {
            let h = u32::try_from(self.entries.len())
                .ok()
                .filter(|&h| h < NIL - 1)?;
            if self.entries.len() == self.entries.capacity() {
                // Grow by half (not double): less slack in the biggest arrays.
                let extra = (self.entries.capacity() / 2).max(4);
                self.entries.reserve_exact(extra);
                self.scores.reserve_exact(extra.saturating_mul(self.dims));
            }
            self.entries.push(Entry {
                member: Member::from_slice(member),
                link: NIL,
                leaf: NIL,
            });
            self.scores.extend_from_slice(score);
            h
        };
        self.len += 1;
        self.spilled_bytes += spilled_len(member);
        if self.len > self.buckets.len() {
            self.resize((self.buckets.len() * 2).max(MIN_BUCKETS));
        }
        self.push_chain(h);
        Some(h)
    }

    /// Puts `h` at the head of its bucket's chain.
    fn push_chain(&mut self, h: u32) {
        let b = self.bucket_of(self.member(h));
        if let Some(head) = self.buckets.get_mut(b) {
            let old = std::mem::replace(head, h);
            if let Some(e) = self.entries.get_mut(h as usize) {
                e.link = old;
            }
        }
    }

    /// Rehashes every chain into `size` buckets (a power of two).
    fn resize(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.buckets, vec![NIL; size]);
        for head in old {
            let mut cur = head;
            for _ in 0..=self.len {
                if cur == NIL {
                    break;
                }
                let next = self.link(cur);
                self.push_chain(cur);
                cur = next;
            }
        }
    }

    /// Removes a live handle, returning its member bytes. O(1) expected.
    pub fn remove(&mut self, h: u32) -> Option<Member> {
        let b = self.bucket_of(self.member(h));
        let mut cur = self.buckets.get(b).copied().unwrap_or(NIL);
        let mut prev = NIL;
        for _ in 0..=self.len {
            if cur == NIL {
                return None;
            }
            if cur == h {
                break;
            }
            prev = cur;
            cur = self.link(cur);
        }
        if cur != h {
            return None;
        }
        let next = self.link(h);
        if prev == NIL {
            *self.buckets.get_mut(b)? = next;
        } else {
            self.entries.get_mut(prev as usize)?.link = next;
        }
        let e = self.entries.get_mut(h as usize)?;
        let member = std::mem::take(&mut e.member);
        e.link = self.free;
        e.leaf = NIL;
        self.free = h;
        self.len -= 1;
        self.spilled_bytes -= spilled_len(&member);
        if self.buckets.len() > MIN_BUCKETS && self.len * 8 < self.buckets.len() {
            self.resize(self.len.max(MIN_BUCKETS).next_power_of_two());
        }
        Some(member)
    }

    /// One EXZSCAN step: calls `visit` for every member of the buckets visited and returns the next
    /// cursor (0 = done). Visits whole buckets until at least `count` members were seen or the cursor
    /// wraps; a cursor 0 call on at most `count` members visits them all and returns 0.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(u32)) -> u64 {
        if self.len == 0 || self.buckets.is_empty() {
            return 0;
        }
        if cursor == 0 && self.len <= count {
            for b in 0..self.buckets.len() {
                self.visit_bucket(b, &mut visit);
            }
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut v = cursor;
        let mut seen = 0usize;
        loop {
            // `v & mask` is below the bucket count, which is a usize.
            seen += self.visit_bucket((v & mask) as usize, &mut visit);
            v |= !mask;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
            if v == 0 || seen >= count {
                return v;
            }
        }
    }

    fn visit_bucket(&self, b: usize, visit: &mut impl FnMut(u32)) -> usize {
        let mut cur = self.buckets.get(b).copied().unwrap_or(NIL);
        let mut n = 0;
        while cur != NIL && n <= self.len {
            visit(cur);
            n += 1;
            cur = self.link(cur);
        }
        n
    }

    /// Verifies chains, counts and byte totals (tests and fuzzers).
    pub fn check(&self) -> Result<(), String> {
        let mut seen = 0;
        let mut bytes = 0;
        for b in 0..self.buckets.len() {
            self.visit_bucket(b, &mut |h| {
                seen += 1;
                bytes += spilled_len(self.member(h));
            });
        }
        if seen != self.len || bytes != self.spilled_bytes {
            return Err(format!(
                "chained {seen} members / {bytes} bytes, len {} / {}",
                self.len, self.spilled_bytes
            ));
        }
        if self.scores.len() != self.entries.len() * self.dims {
            return Err("arena arrays out of step".into());
        }
        Ok(())
    }
}

impl LeafIndex for MemberTable {
    fn leaf(&self, h: u32) -> u32 {
        self.entries.get(h as usize).map_or(NIL, |e| e.leaf)
    }

    fn set_leaf(&mut self, h: u32, leaf: u32) -> bool {
        match self.entries.get_mut(h as usize) {
            Some(e) => {
                e.leaf = leaf;
                true
            }
            None => false,
        }
    }
}
