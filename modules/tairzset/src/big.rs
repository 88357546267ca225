//! `TairZset`: the value of a tairzset key. A [`MemberTable`] (member → handle → score, O(1)) plus a
//! [`RankTree`] ordering the handles by (score tuple, member bytes) (§2.3), with the operations the
//! EXZ* commands need. Positions are 0-based ascending ranks; a [`Span`] is a rank interval plus a
//! direction, which every range command reduces to before iterating or removing.

use std::cmp::Ordering;
use std::collections::HashSet;

use rand::Rng;

use crate::error::ZsetError;
use crate::score::{self, LexRange, ScoreRange, ScoreTuple, MAX_DIMS};
use crate::table::MemberTable;
use crate::tree::{Iter as TreeIter, RankTree};

/// MEMORY USAGE model (deterministic, §5): `BASE + Σ (PER_MEMBER + 8·N + heap bytes of the member)`,
/// where members of at most 16 bytes live inline. PER_MEMBER covers the table entry (32: member slot,
/// chain link, tree leaf), hash bucket (4–8), tree leaf slot (~5) and the arenas' growth slack;
/// measured in `tests/memory.rs`.
pub const MEM_BASE: usize = 256;
/// See [`MEM_BASE`].
pub const MEM_PER_MEMBER: usize = 48;

/// The NX / XX part of EXZADD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddCondition {
    #[default]
    Always,
    /// NX: only add new members.
    IfAbsent,
    /// XX: only update existing members.
    IfPresent,
}

/// What one EXZADD pair did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    /// The score changed (counts for CH).
    Updated,
    /// Present and the new score is numerically equal.
    Unchanged,
    /// NX on a present member or XX on an absent one (INCR replies nil).
    Skipped,
}

/// LIMIT offset count of the range commands: offset < 0 or count = 0 → empty, count < 0 → no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub offset: i64,
    pub count: i64,
}

/// Ascending ranks `start..end`, visited backwards when `reverse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub reverse: bool,
}

impl Span {
    pub const EMPTY: Span = Span {
        start: 0,
        end: 0,
        reverse: false,
    };

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies LIMIT from the side the command walks from.
    pub fn limit(self, limit: Option<Limit>) -> Span {
        let Some(Limit { offset, count }) = limit else {
            return self;
        };
        if offset < 0 || count == 0 {
            return Span {
                end: self.start,
                ..self
            };
        }
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let take = usize::try_from(count).unwrap_or(usize::MAX);
        if self.reverse {
            let end = self.end - offset;
            Span {
                start: self.start.max(end.saturating_sub(take)),
                end,
                ..self
            }
        } else {
            let start = self.start + offset;
            Span {
                start,
                end: self.end.min(start.saturating_add(take)),
                ..self
            }
        }
    }
}

/// What a multi-pair EXZADD did: the reply is `added` (with CH: `added + updated`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddSummary {
    pub added: usize,
    pub updated: usize,
}

/// A popped member and its score.
pub type Popped = (crate::table::Member, ScoreTuple);

/// The value of a tairzset key. Never empty while stored in a key (the command layer deletes it).
#[derive(Clone, Debug)]
pub struct TairZset {
    table: MemberTable,
    tree: RankTree,
}

impl TairZset {
    /// An empty set of `dims`-dimensional scores; `dims` outside 1..=255 is `InvalidScore`.
    pub fn new(dims: usize) -> Result<Self, ZsetError> {
        if dims == 0 || dims > MAX_DIMS {
            return Err(ZsetError::InvalidScore);
        }
        Ok(TairZset {
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

    /// 0-based descending rank (EXZREVRANK). O(log N).
    pub fn rev_rank(&self, member: &[u8]) -> Option<usize> {
        Some(self.len() - 1 - self.rank(member)?)
    }

    /// Member and score at an ascending rank. O(log N).
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], &[f64])> {
        self.tree.get(rank).map(|h| self.entry(h))
    }

    /// EXZRANGE / EXZREVRANGE / EXZREMRANGEBYRANK indexes (§4.5 normalisation; `reverse` indexes the
    /// descending order). O(1).
    pub fn rank_span(&self, start: i64, stop: i64, reverse: bool) -> Span {
        let len = i64::try_from(self.len()).unwrap_or(i64::MAX);
        let mut start = if start < 0 { start + len } else { start };
        let mut stop = if stop < 0 { stop + len } else { stop };
        start = start.max(0);
        if start > stop || start >= len {
            return Span {
                reverse,
                ..Span::EMPTY
            };
        }
        stop = stop.min(len - 1);
        let (a, b) = (
            usize::try_from(start).unwrap_or(0),
            usize::try_from(stop).unwrap_or(0),
        );
        if reverse {
            let n = self.len();
            Span {
                start: n - 1 - b,
                end: n - a,
                reverse,
            }
        } else {
            Span {
                start: a,
                end: b + 1,
                reverse,
            }
        }
    }

    /// Ranks of the members inside a score range (§2.6), before LIMIT. `InvalidScore` if a bound is wider
    /// than N. O(log N).
    pub fn score_span(
        &self,
        range: &ScoreRange,
        reverse: bool,
        limit: Option<Limit>,
    ) -> Result<Span, ZsetError> {
        if range.dims() > self.dims() {
            return Err(ZsetError::InvalidScore);
        }
        let t = &self.table;
        let start = self.tree.partition_point(|h| range.below_min(t.scores(h)));
        let end = self.tree.partition_point(|h| range.within_max(t.scores(h)));
        Ok(Span {
            start,
            end: end.max(start),
            reverse,
        }
        .limit(limit))
    }

    /// Ranks of the members inside a lex range (§2.7). O(log N).
    pub fn lex_span(&self, range: &LexRange, reverse: bool, limit: Option<Limit>) -> Span {
        let t = &self.table;
        let start = self.tree.partition_point(|h| range.below_min(t.member(h)));
        let end = self.tree.partition_point(|h| range.within_max(t.member(h)));
        Span {
            start,
            end: end.max(start),
            reverse,
        }
        .limit(limit)
    }

    /// EXZCOUNT. O(log N).
    pub fn count_in_score(&self, range: &ScoreRange) -> Result<usize, ZsetError> {
        Ok(self.score_span(range, false, None)?.len())
    }

    /// EXZLEXCOUNT. O(log N).
    pub fn count_in_lex(&self, range: &LexRange) -> usize {
        self.lex_span(range, false, None).len()
    }

    /// EXZRANKBYSCORE: members whose score (prefix) is strictly below `score`. O(log N).
    pub fn rank_by_score(&self, score: &[f64]) -> Result<usize, ZsetError> {
        if score.is_empty() || score.len() > self.dims() {
            return Err(ZsetError::InvalidScore);
        }
        let t = &self.table;
        Ok(self
            .tree
            .partition_point(|h| score::compare(t.scores(h), score) == Ordering::Less))
    }

    /// EXZREVRANKBYSCORE: members whose score (prefix) is >= `score`. O(log N).
    pub fn rev_rank_by_score(&self, score: &[f64]) -> Result<usize, ZsetError> {
        Ok(self.len() - self.rank_by_score(score)?)
    }

    /// Members and scores of a span, in its direction. O(log N) to start, O(1) per item.
    pub fn iter_span(&self, span: Span) -> Entries<'_> {
        Entries {
            set: self,
            inner: self.tree.iter_range(span.start, span.end, span.reverse),
        }
    }

    /// All members in ascending order: the stable order for RDB, AOF rewrite and digests
    /// (`iter_span(Span { start: 0, end: len, reverse: true })` gives the RDB v0 descending order).
    pub fn iter(&self) -> Entries<'_> {
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

    /// A uniformly random member (EXZRANDMEMBER without count). O(log N).
    pub fn random_member<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(&[u8], &[f64])> {
        if self.is_empty() {
            return None;
        }
        self.get_by_rank(rng.gen_range(0..self.len()))
    }

    /// EXZRANDMEMBER with a count: `count > 0` visits min(count, len) distinct members forming a uniform
    /// random subset (all of them, ascending, when count >= len); `count < 0` visits |count| independent
    /// uniform draws. O(M log N) time, O(M) memory for the distinct case (Floyd's sampling of ranks).
    pub fn random_members<R: Rng + ?Sized>(
        &self,
        count: i64,
        rng: &mut R,
        mut visit: impl FnMut(&[u8], &[f64]),
    ) {
        let n = self.len();
        if n == 0 || count == 0 {
            return;
        }
        if count < 0 {
            for _ in 0..count.unsigned_abs() {
                if let Some((m, s)) = self.get_by_rank(rng.gen_range(0..n)) {
                    visit(m, s);
                }
            }
            return;
        }
        let k = usize::try_from(count).unwrap_or(usize::MAX);
        if k >= n {
            for (m, s) in self.iter() {
                visit(m, s);
            }
            return;
        }
        let mut chosen: HashSet<usize> = HashSet::with_capacity(k);
        for j in n - k..n {
            let t = rng.gen_range(0..=j);
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        for rank in chosen {
            if let Some((m, s)) = self.get_by_rank(rank) {
                visit(m, s);
            }
        }
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
pub struct ZsetBuilder {
    table: MemberTable,
}

impl ZsetBuilder {
    /// `dims` outside 1..=255 is `InvalidScore`.
    pub fn new(dims: usize, capacity: usize) -> Result<Self, ZsetError> {
        if dims == 0 || dims > MAX_DIMS {
            return Err(ZsetError::InvalidScore);
        }
        Ok(ZsetBuilder {
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

    /// The finished set (possibly empty).
    pub fn finish(self) -> Result<TairZset, ZsetError> {
        let mut set = TairZset {
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

/// Iterator of `(member, score)` over a span (see [`TairZset::iter_span`]).
#[derive(Clone)]
pub struct Entries<'a> {
    set: &'a TairZset,
    inner: TreeIter<'a, 32, 32>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a [u8], &'a [f64]);

    fn next(&mut self) -> Option<Self::Item> {
        let h = self.inner.next()?;
        Some((self.set.table.member(h), self.set.table.scores(h)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[path = "zset_tests.rs"]
mod tests;
