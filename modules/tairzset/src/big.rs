//! `BigZset`: the big encoding of a tairzset value. A [`MemberTable`] (member → handle → score, O(1))
//! plus a [`RankTree`] ordering the handles by (score tuple, member bytes) (§2.3), with the operations
//! the EXZ* commands need. Positions are 0-based ascending ranks. [`crate::zset::TairZset`] holds one
//! of these once a value outgrows the compact encoding (`compact.rs`).

use std::cmp::Ordering;

use crate::error::ZsetError;
use crate::score::{self, ScoreTuple, MAX_DIMS};
use crate::table::MemberTable;
use crate::tree::{Iter as TreeIter, RankTree};
use crate::zset::{AddCondition, AddOutcome, AddSummary, Popped, Span};

/// MEMORY USAGE model (deterministic, §5): `BASE + Σ (PER_MEMBER + 8·N + heap bytes of the member)`,
/// where members of at most 16 bytes live inline. PER_MEMBER covers the table entry (32: member slot,
/// chain link, tree leaf), hash bucket (4–8), tree leaf slot (~5 at 70% fill, more in random order) and
/// the arenas' growth slack (up to half, a quarter on average) as the server's allocator counts them:
/// 100,000 members of 2 dimensions filled in scattered order add 83.8 bytes each (model 76), 1,000,000
/// of 1 and 2 dimensions in the README's run 58.5 and 66.8 (model 68 and 76).
pub const MEM_BASE: usize = 256;
/// See [`MEM_BASE`].
pub const MEM_PER_MEMBER: usize = 60;

/// The value of a tairzset key. Never empty while stored in a key (the command layer deletes it).
#[derive(Clone, Debug)]
pub struct BigZset {
    table: MemberTable,
    tree: RankTree,
}

impl BigZset {
    /// Active defragmentation from member slot `from` on (the tree's arrays when starting); see
    /// [`MemberTable::defrag`].
    pub fn defrag(&mut self, d: &mut tair_common::value::Defrag, from: usize) -> Option<usize> {
        if from == 0 {
            self.tree.defrag(d);
        }
        self.table.defrag(d, from)
    }

    /// An empty set of `dims`-dimensional scores; `dims` outside 1..=255 is `InvalidScore`.
    pub fn new(dims: usize) -> Result<Self, ZsetError> {
        if dims == 0 || dims > MAX_DIMS {
            return Err(ZsetError::InvalidScore);
        }
        Ok(BigZset {
            table: MemberTable::new(dims),
            tree: RankTree::new(),
        })
    }

    /// N, the number of dimensions of every score.
    pub fn dims(&self) -> usize {
        self.table.dims()
    }

    /// Number of members (EXZCARD).
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    fn cmp_handles(&self, a: u32, b: u32) -> Ordering {
        let t = &self.table;
        score::compare(t.scores(a), t.scores(b)).then_with(|| t.member(a).cmp(t.member(b)))
    }

    /// Rank of a live handle: bottom-up from its leaf, no comparisons (see `RankTree::rank_of`).
    fn rank_of(&self, h: u32) -> Option<usize> {
        self.tree.rank_of(h, &self.table)
    }

    /// Puts a handle whose score is in the table into the tree.
    fn index(&mut self, h: u32) -> bool {
        let rank = self
            .tree
            .partition_point(|x| self.cmp_handles(x, h) == Ordering::Less);
        self.tree.insert_at(rank, h, &mut self.table)
    }

    fn entry(&self, h: u32) -> (&[u8], &[f64]) {
        (self.table.member(h), self.table.scores(h))
    }

    /// The score of a member (EXZSCORE / EXZMSCORE). O(1).
    pub fn score(&self, member: &[u8]) -> Option<&[f64]> {
        self.table.find(member).map(|h| self.table.scores(h))
    }

    /// One EXZADD pair (§4.1). With `incr` the new score is old + `score` (an absent member starts from
    /// the all-zero tuple, §4.2). Errors leave the set unchanged: `InvalidScore` if `score` is not N wide or
    /// holds NaN, `ScoreNaN` if the sum has a NaN dimension. O(log N).
    pub fn add(
        &mut self,
        member: &[u8],
        score: &[f64],
        cond: AddCondition,
        incr: bool,
    ) -> Result<AddOutcome, ZsetError> {
        if score.len() != self.dims() || score.iter().any(|v| v.is_nan()) {
            return Err(ZsetError::InvalidScore);
        }
        let Some(h) = self.table.find(member) else {
            if cond == AddCondition::IfPresent {
                return Ok(AddOutcome::Skipped);
            }
            // INCR on an absent member starts from the all-zero tuple: 0 + (-0) is 0.
            let zeroed: Vec<f64>;
            let score = if incr && score.iter().any(|v| *v == 0.0 && v.is_sign_negative()) {
                zeroed = score.iter().map(|v| 0.0 + v).collect();
                &zeroed[..]
            } else {
                score
            };
            let h = self
                .table
                .insert(member, score)
                .ok_or(ZsetError::TooManyMembers)?;
            if !self.index(h) {
                self.table.remove(h);
                return Err(ZsetError::TooManyMembers);
            }
            return Ok(AddOutcome::Added);
        };
        if cond == AddCondition::IfAbsent {
            return Ok(AddOutcome::Skipped);
        }
        let cur = self.table.scores(h);
        let changed = if incr {
            if cur.iter().zip(score).any(|(a, b)| (a + b).is_nan()) {
                return Err(ZsetError::ScoreNaN);
            }
            cur.iter().zip(score).any(|(a, b)| a + b != *a)
        } else {
            !score::equal(cur, score)
        };
        if !changed {
            return Ok(AddOutcome::Unchanged);
        }
        let rank = self.rank_of(h).ok_or(ZsetError::CorruptValue)?;
        self.tree.remove_at(rank, &mut self.table);
        for (s, v) in self.table.scores_mut(h).iter_mut().zip(score) {
            *s = if incr { *s + v } else { *v };
        }
        if !self.index(h) {
            return Err(ZsetError::CorruptValue);
        }
        Ok(AddOutcome::Updated)
    }

    /// A whole EXZADD without INCR: every score is checked first (N wide, no NaN; else `InvalidScore` and
    /// nothing changes), then pairs apply left to right (a repeated member is added, then updated).
    /// O(M log N).
    pub fn add_many(
        &mut self,
        pairs: &[(&[f64], &[u8])],
        cond: AddCondition,
    ) -> Result<AddSummary, ZsetError> {
        let dims = self.dims();
        if pairs
            .iter()
            .any(|(s, _)| s.len() != dims || s.iter().any(|v| v.is_nan()))
        {
            return Err(ZsetError::InvalidScore);
        }
        let mut summary = AddSummary::default();
        for (score, member) in pairs {
            match self.add(member, score, cond, false)? {
                AddOutcome::Added => summary.added += 1,
                AddOutcome::Updated => summary.updated += 1,
                AddOutcome::Unchanged | AddOutcome::Skipped => {}
            }
        }
        Ok(summary)
    }

    /// Removes a member (EXZREM). O(log N).
    pub fn remove(&mut self, member: &[u8]) -> bool {
        let Some(h) = self.table.find(member) else {
            return false;
        };
        if let Some(rank) = self.rank_of(h) {
            self.tree.remove_at(rank, &mut self.table);
        }
        self.table.remove(h);
        self.maybe_compact();
        true
    }

    /// 0-based ascending rank (EXZRANK). O(log N).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let h = self.table.find(member)?;
        self.rank_of(h)
    }

    /// Member and score at an ascending rank. O(log N).
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], &[f64])> {
        self.tree.get(rank).map(|h| self.entry(h))
    }

    /// Number of leading members (ascending) for which `pred(member, score)` holds. O(log N).
    pub fn partition_point(&self, mut pred: impl FnMut(&[u8], &[f64]) -> bool) -> usize {
        let t = &self.table;
        self.tree
            .partition_point(|h| pred(t.member(h), t.scores(h)))
    }

    /// Members and scores of a span, in its direction. O(log N) to start, O(1) per item.
    pub fn iter_span(&self, span: Span) -> BigEntries<'_> {
        BigEntries {
            set: self,
            inner: self.tree.iter_range(span.start, span.end, span.reverse),
        }
    }

    /// All members in ascending order: the stable order for RDB, AOF rewrite and digests
    /// (`iter_span(Span { start: 0, end: len, reverse: true })` gives the RDB v0 descending order).
    pub fn iter(&self) -> BigEntries<'_> {
        self.iter_span(Span {
            start: 0,
            end: self.len(),
            reverse: false,
        })
    }

    /// Removes the members of a span (EXZREMRANGEBY*). O(log N) per member, or one O(N) rebuild when the
    /// span is at least half the set.
    pub fn remove_span(&mut self, span: Span) -> usize {
        let end = span.end.min(self.len());
        let n = end.saturating_sub(span.start);
        if n == 0 {
            return 0;
        }
        if n * 2 >= self.len() {
            let doomed: Vec<u32> = self.tree.iter_range(span.start, end, false).collect();
            for h in doomed {
                self.table.remove(h);
            }
            let keep: Vec<u32> = self
                .tree
                .iter_range(0, span.start, false)
                .chain(self.tree.iter_range(end, usize::MAX, false))
                .collect();
            self.rebuild(&keep);
            return n;
        }
        for _ in 0..n {
            if let Some(h) = self.tree.remove_at(span.start, &mut self.table) {
                self.table.remove(h);
            }
        }
        self.maybe_compact();
        n
    }

    /// Removes and returns up to `count` lowest (`max` = false) or highest members, in that order
    /// (EXZPOPMIN / EXZPOPMAX / EXBZPOP*). O(log N) each.
    pub fn pop(&mut self, count: usize, max: bool) -> Vec<Popped> {
        let n = count.min(self.len());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let rank = if max { self.len() - 1 } else { 0 };
            let Some(h) = self.tree.remove_at(rank, &mut self.table) else {
                break;
            };
            let score = ScoreTuple::from_slice(self.table.scores(h));
            if let (Some(member), Some(score)) = (self.table.remove(h), score) {
                out.push((member, score));
            }
        }
        self.maybe_compact();
        out
    }

    /// One EXZSCAN step (§4.16); returns the next cursor (0 = done). O(count) expected.
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        mut visit: impl FnMut(&'a [u8], &'a [f64]),
    ) -> u64 {
        self.table.scan(cursor, count, |h| {
            visit(self.table.member(h), self.table.scores(h))
        })
    }

    /// MEMORY USAGE: a deterministic function of the content (same on primary and replica). O(1).
    pub fn mem_usage(&self) -> usize {
        MEM_BASE + self.len() * (MEM_PER_MEMBER + 8 * self.dims()) + self.table.spilled_bytes()
    }

    /// Bytes actually allocated (capacities; member allocations at requested size). Diagnostics.
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes() + self.tree.heap_bytes()
    }

    /// Renumbers handles in order and rebuilds the tree from `order` (the live handles, ascending). O(N).
    fn rebuild(&mut self, order: &[u32]) {
        let mut table = self.table.empty_like(order.len());
        let mut fresh = Vec::with_capacity(order.len());
        for &h in order {
            if let Some(nh) = table.insert(self.table.member(h), self.table.scores(h)) {
                fresh.push(nh);
            }
        }
        if let Some(tree) = RankTree::from_sorted(&fresh, &mut table) {
            self.table = table;
            self.tree = tree;
        }
    }

    /// After removals: when at most a quarter of the arena slots are live, compact (amortised O(1)).
    fn maybe_compact(&mut self) {
        let slots = self.table.slots();
        if slots > 64 && self.len() * 4 < slots {
            let order: Vec<u32> = self.tree.iter_range(0, self.len(), false).collect();
            self.rebuild(&order);
        }
    }

    /// Verifies every invariant: table chains, tree structure, order, and that both hold the same members.
    pub fn check(&self) -> Result<(), String> {
        self.table.check()?;
        self.tree.check(&self.table)?;
        if self.table.len() != self.tree.len() {
            return Err(format!(
                "table {} vs tree {}",
                self.table.len(),
                self.tree.len()
            ));
        }
        let mut prev: Option<u32> = None;
        for h in self.tree.iter_range(0, self.len(), false) {
            if self.table.find(self.table.member(h)) != Some(h) {
                return Err(format!("handle {h} not found by member"));
            }
            if let Some(p) = prev {
                if self.cmp_handles(p, h) != Ordering::Less {
                    return Err(format!("order broken at handle {h}"));
                }
            }
            prev = Some(h);
        }
        Ok(())
    }
}

/// Builds a set from members in any order (RDB load, RESTORE, set operations): validates, then sorts once
/// and bulk-loads the tree. O(N log N).
#[derive(Debug)]
pub struct BigBuilder {
    table: MemberTable,
}

impl BigBuilder {
    /// `dims` outside 1..=255 is `InvalidScore`.
    pub fn new(dims: usize, capacity: usize) -> Result<Self, ZsetError> {
        if dims == 0 || dims > MAX_DIMS {
            return Err(ZsetError::InvalidScore);
        }
        Ok(BigBuilder {
            table: MemberTable::new(dims).empty_like(capacity),
        })
    }

    /// Adds a member; a duplicate, a NaN or a wrong width is `CorruptValue`.
    pub fn push(&mut self, member: &[u8], score: &[f64]) -> Result<(), ZsetError> {
        if score.len() != self.table.dims()
            || score.iter().any(|v| v.is_nan())
            || self.table.find(member).is_some()
        {
            return Err(ZsetError::CorruptValue);
        }
        self.table
            .insert(member, score)
            .map(|_| ())
            .ok_or(ZsetError::TooManyMembers)
    }

    /// Adds `score` into the member's score with `merge`, or inserts it (set operations).
    pub(crate) fn merge(
        &mut self,
        member: &[u8],
        score: &[f64],
        merge: impl FnOnce(&mut [f64], &[f64]),
    ) -> Result<(), ZsetError> {
        match self.table.find(member) {
            Some(h) => {
                merge(self.table.scores_mut(h), score);
                Ok(())
            }
            None => self
                .table
                .insert(member, score)
                .map(|_| ())
                .ok_or(ZsetError::TooManyMembers),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The members in ascending (score, member) order without building a tree (the compact encoding is
    /// built from this). O(N log N).
    pub fn sorted_entries(&self) -> Vec<(&[u8], &[f64])> {
        let t = &self.table;
        // A fresh table has handles 0..len with no holes.
        let mut out: Vec<(&[u8], &[f64])> = (0..u32::try_from(t.len()).unwrap_or(u32::MAX))
            .map(|h| (t.member(h), t.scores(h)))
            .collect();
        out.sort_unstable_by(|a, b| score::compare(a.1, b.1).then_with(|| a.0.cmp(b.0)));
        out
    }

    /// Whether any member is longer than `max` bytes.
    pub fn has_member_longer_than(&self, max: usize) -> bool {
        self.table.max_member_len() > max
    }

    pub fn dims(&self) -> usize {
        self.table.dims()
    }

    /// The finished set (possibly empty).
    pub fn finish(self) -> Result<BigZset, ZsetError> {
        let mut set = BigZset {
            table: self.table,
            tree: RankTree::new(),
        };
        // A fresh table has handles 0..len with no holes.
        let mut order: Vec<u32> =
            (0..u32::try_from(set.table.len()).map_err(|_| ZsetError::TooManyMembers)?).collect();
        order.sort_unstable_by(|&a, &b| set.cmp_handles(a, b));
        set.tree =
            RankTree::from_sorted(&order, &mut set.table).ok_or(ZsetError::TooManyMembers)?;
        Ok(set)
    }
}

/// Iterator of `(member, score)` over a span (see [`BigZset::iter_span`]).
#[derive(Clone)]
pub struct BigEntries<'a> {
    set: &'a BigZset,
    inner: TreeIter<'a, 32, 32>,
}

impl<'a> Iterator for BigEntries<'a> {
    type Item = (&'a [u8], &'a [f64]);

    fn next(&mut self) -> Option<Self::Item> {
        let h = self.inner.next()?;
        Some((self.set.table.member(h), self.set.table.scores(h)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
