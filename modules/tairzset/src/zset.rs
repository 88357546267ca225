//! `TairZset`: the value of a tairzset key, in one of two encodings with the same behaviour:
//! [`CompactZset`] (one flat allocation sorted by (score, member), while the value is small) and
//! [`BigZset`] (member table + order-statistic tree). A compact value converts once to the big encoding
//! when an insertion would pass `tairzset.compact-max-entries` members or a member longer than
//! `tairzset.compact-max-value` bytes; a big value never goes back (until a reload builds it afresh).
//! Positions are 0-based ascending ranks; a [`Span`] is a rank interval plus a direction, which every
//! range command reduces to before iterating or removing.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::Relaxed;

use rand::Rng;
use smallvec::SmallVec;

use crate::big::{BigBuilder, BigEntries, BigZset};
use crate::compact::{self, CompactRef, CompactZset, ScoreBuf};
use crate::encoding::{self, count_members, BIG_VALUES, COMPACT_VALUES, CONVERSIONS};
use crate::error::ZsetError;
use crate::score::{self, LexRange, ScoreRange, MAX_DIMS};

pub use crate::big::{MEM_BASE, MEM_PER_MEMBER};

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
pub type Popped = (crate::table::Member, crate::score::ScoreTuple);

/// A score handed out by a [`TairZset`]: borrowed from the big encoding, decoded from the compact one.
/// Dereferences to the dimensions.
#[derive(Clone, Debug)]
pub enum ScoreRef<'a> {
    Borrowed(&'a [f64]),
    Decoded(ScoreBuf),
}

impl AsRef<[f64]> for ScoreRef<'_> {
    fn as_ref(&self) -> &[f64] {
        self
    }
}

impl PartialEq for ScoreRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Deref for ScoreRef<'_> {
    type Target = [f64];

    fn deref(&self) -> &[f64] {
        match self {
            ScoreRef::Borrowed(s) => s,
            ScoreRef::Decoded(s) => s,
        }
    }
}

/// A big value behind the thin pointer: its first byte is 0, which no compact buffer starts with (a
/// compact buffer starts with its dimension count, 1..=255).
#[repr(C)]
struct BigBox {
    marker: u8,
    set: BigZset,
}

/// The value of a tairzset key. Never empty while stored in a key (the command layer deletes it).
///
/// One thin pointer (8 bytes, so the server's per-key box of it is the smallest allocation): to a
/// compact buffer (`compact.rs`, which records its own length) or to a [`BigBox`]; the first byte
/// behind it tells which.
pub struct TairZset {
    ptr: NonNull<u8>,
}

// SAFETY: a TairZset owns what its pointer leads to exclusively, like a Box (no sharing, no interior
// mutability), so it can move to another thread (lazy free) and be read from several.
unsafe impl Send for TairZset {}
// SAFETY: see above.
unsafe impl Sync for TairZset {}

/// What a [`TairZset`] holds, borrowed.
enum View<'a> {
    Compact(CompactRef<'a>),
    Big(&'a BigZset),
}

/// A leaked [`BigBox`] holding `set`: the pointer a big [`TairZset`] keeps.
fn big_ptr(set: BigZset) -> NonNull<u8> {
    NonNull::from(Box::leak(Box::new(BigBox { marker: 0, set }))).cast::<u8>()
}

/// Gives a compact buffer back to its [`TairZset`] when a mutation ends, even by unwinding.
struct CompactGuard<'a> {
    slot: &'a mut NonNull<u8>,
    set: ManuallyDrop<CompactZset>,
}

impl Drop for CompactGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: taken exactly once, here.
        let set = unsafe { ManuallyDrop::take(&mut self.set) };
        *self.slot = set.into_thin();
    }
}

impl std::fmt::Debug for TairZset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TairZset")
            .field("compact", &self.is_compact())
            .field("len", &self.len())
            .field("dims", &self.dims())
            .finish()
    }
}

impl Clone for TairZset {
    fn clone(&self) -> Self {
        match self.view() {
            View::Compact(c) => Self::from_compact(c.to_owned_set()),
            View::Big(b) => Self::from_big(b.clone()),
        }
    }
}

impl Drop for TairZset {
    fn drop(&mut self) {
        let big = self.is_big();
        if big {
            BIG_VALUES.fetch_sub(1, Relaxed);
        } else {
            COMPACT_VALUES.fetch_sub(1, Relaxed);
        }
        count_members(-(self.len() as i64));
        if big {
            // SAFETY: the pointer came from `Box::leak` of a BigBox in `from_big`/`convert` and is
            // freed only here.
            drop(unsafe { Box::from_raw(self.ptr.as_ptr().cast::<BigBox>()) });
        } else {
            // SAFETY: the pointer came from `CompactZset::into_thin` and is freed only here.
            drop(unsafe { CompactZset::from_thin(self.ptr) });
        }
    }
}

impl TairZset {
    /// Active defragmentation: the block `self.ptr` leads to (a compact set's buffer, a big set's
    /// `BigBox`), then a big set's arrays and heap members from member slot `from` on. `Some(next)`
    /// when `d` said time is up: resume at slot `next`.
    pub fn defrag(&mut self, d: &mut tair_common::value::Defrag, from: usize) -> Option<usize> {
        // SAFETY: the block is a boxed byte slice from `into_thin` (at least HEADER bytes, alignment 1;
        // its header holds its length) or a leaked Box<BigBox> (alignment 8), both from the global
        // allocator and owned by self; `self.ptr` is the only pointer to it (the big set's parts refer
        // to each other by index) and takes the new address at once.
        if let Some(new) = unsafe { d.move_block(self.ptr) } {
            self.ptr = new;
        }
        self.big_mut().and_then(|big| big.defrag(d, from))
    }

    fn from_compact(c: CompactZset) -> Self {
        Self::wrap(TairZset { ptr: c.into_thin() })
    }

    fn from_big(set: BigZset) -> Self {
        Self::wrap(TairZset { ptr: big_ptr(set) })
    }

    /// True when the pointer leads to a [`BigBox`].
    fn is_big(&self) -> bool {
        // SAFETY: the pointer always leads to a live allocation whose first byte is initialised: a
        // compact buffer (its dims, >= 1) or a BigBox (its marker, 0).
        unsafe { self.ptr.as_ptr().read() == 0 }
    }

    fn view(&self) -> View<'_> {
        if self.is_big() {
            // SAFETY: a BigBox (first byte 0) owned by self, borrowed for as long as self is.
            View::Big(unsafe { &(*self.ptr.as_ptr().cast::<BigBox>()).set })
        } else {
            // SAFETY: a compact buffer owned by self, unchanged while self is borrowed.
            View::Compact(unsafe { compact::view_thin(self.ptr) })
        }
    }

    fn big_mut(&mut self) -> Option<&mut BigZset> {
        if self.is_big() {
            // SAFETY: a BigBox owned by self, borrowed mutably for as long as self is.
            Some(unsafe { &mut (*self.ptr.as_ptr().cast::<BigBox>()).set })
        } else {
            None
        }
    }

    /// Runs a mutation on the compact buffer (the caller checked `!is_big()`); the buffer, possibly
    /// reallocated, is put back afterwards.
    fn compact_mut<R>(&mut self, f: impl FnOnce(&mut CompactZset) -> R) -> R {
        // SAFETY: a compact buffer owned by self; the guard hands it back to `self.ptr` when done, and
        // nothing reads `self.ptr` meanwhile (self is borrowed mutably).
        let set = unsafe { CompactZset::from_thin(self.ptr) };
        let mut guard = CompactGuard {
            slot: &mut self.ptr,
            set: ManuallyDrop::new(set),
        };
        f(&mut guard.set)
    }

    /// Counts a new value in the INFO counters.
    fn wrap(z: TairZset) -> Self {
        if z.is_big() {
            BIG_VALUES.fetch_add(1, Relaxed);
        } else {
            COMPACT_VALUES.fetch_add(1, Relaxed);
        }
        count_members(z.len() as i64);
        z
    }

    /// An empty set of `dims`-dimensional scores, compact unless `compact-max-entries` is 0; `dims`
    /// outside 1..=255 is `InvalidScore`.
    pub fn new(dims: usize) -> Result<Self, ZsetError> {
        if dims == 0 || dims > MAX_DIMS {
            return Err(ZsetError::InvalidScore);
        }
        if encoding::max_entries() == 0 {
            return Self::new_big(dims);
        }
        Ok(Self::from_compact(CompactZset::new(dims)))
    }

    /// A new set holding one member (what EXZADD or EXZINCRBY on a missing key builds), compact when the
    /// thresholds allow, in one allocation. Errors as [`TairZset::add`].
    pub fn with_first(member: &[u8], score: &[f64]) -> Result<Self, ZsetError> {
        let dims = score.len();
        if dims == 0 || dims > MAX_DIMS || score.iter().any(|v| v.is_nan()) {
            return Err(ZsetError::InvalidScore);
        }
        if encoding::max_entries() == 0
            || member.len() > encoding::max_value().min(compact::MAX_MEMBER)
        {
            let mut z = Self::new_big(dims)?;
            z.add(member, score, AddCondition::Always, false)?;
            return Ok(z);
        }
        Ok(Self::from_compact(CompactZset::with_first(
            dims, member, score,
        )))
    }

    /// An empty set in the big encoding whatever its size (tests and fuzzers drive both encodings).
    pub fn new_big(dims: usize) -> Result<Self, ZsetError> {
        Ok(Self::from_big(BigZset::new(dims)?))
    }

    /// True while the value uses the compact encoding.
    pub fn is_compact(&self) -> bool {
        !self.is_big()
    }

    /// Converts a compact value to the big encoding (once; no-op when already big).
    fn convert(&mut self) -> Result<(), ZsetError> {
        let View::Compact(c) = self.view() else {
            return Ok(());
        };
        let mut b = BigBuilder::new(c.dims(), c.len())?;
        for (m, s) in c.entries() {
            b.push(m, &s)?;
        }
        let big = b.finish()?;
        let old = std::mem::replace(&mut self.ptr, big_ptr(big));
        // SAFETY: the compact buffer self held until now, from `into_thin`; nothing refers to it.
        drop(unsafe { CompactZset::from_thin(old) });
        COMPACT_VALUES.fetch_sub(1, Relaxed);
        BIG_VALUES.fetch_add(1, Relaxed);
        CONVERSIONS.fetch_add(1, Relaxed);
        Ok(())
    }

    /// N, the number of dimensions of every score.
    pub fn dims(&self) -> usize {
        match self.view() {
            View::Compact(c) => c.dims(),
            View::Big(b) => b.dims(),
        }
    }

    /// Number of members (EXZCARD).
    pub fn len(&self) -> usize {
        match self.view() {
            View::Compact(c) => c.len(),
            View::Big(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of a member (EXZSCORE / EXZMSCORE). O(1) big, O(N) compact.
    pub fn score(&self, member: &[u8]) -> Option<ScoreRef<'_>> {
        match self.view() {
            View::Compact(c) => c.score(member).map(ScoreRef::Decoded),
            View::Big(b) => b.score(member).map(ScoreRef::Borrowed),
        }
    }

    /// One EXZADD pair (§4.1). With `incr` the new score is old + `score` (an absent member starts from
    /// the all-zero tuple, §4.2). Errors leave the set unchanged: `InvalidScore` if `score` is not N wide or
    /// holds NaN, `ScoreNaN` if the sum has a NaN dimension. O(log N) big, O(N) compact.
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
        if let View::Compact(c) = self.view() {
            let max_entries = encoding::max_entries().min(compact::MAX_COUNT);
            let max_value = encoding::max_value().min(compact::MAX_MEMBER);
            // An update may grow an entry too: no room for the largest entry converts whatever.
            let no_room = c.byte_len() + c.entry_bound(member.len()) > compact::MAX_BYTES;
            let must = no_room
                || ((c.len() >= max_entries || member.len() > max_value)
                    && cond != AddCondition::IfPresent
                    && c.rank(member).is_none());
            if must {
                self.convert()?;
            }
        }
        let out = match self.big_mut() {
            Some(b) => b.add(member, score, cond, incr),
            None => self.compact_mut(|c| c.add(member, score, cond, incr)),
        }?;
        if out == AddOutcome::Added {
            count_members(1);
        }
        Ok(out)
    }

    /// A whole EXZADD without INCR: every score is checked first (N wide, no NaN; else `InvalidScore` and
    /// nothing changes), then pairs apply left to right (a repeated member is added, then updated).
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

    /// Removes a member (EXZREM).
    pub fn remove(&mut self, member: &[u8]) -> bool {
        let gone = match self.big_mut() {
            Some(b) => b.remove(member),
            None => self.compact_mut(|c| c.remove(member)),
        };
        if gone {
            count_members(-1);
        }
        gone
    }

    /// 0-based ascending rank (EXZRANK).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self.view() {
            View::Compact(c) => c.rank(member),
            View::Big(b) => b.rank(member),
        }
    }

    /// 0-based descending rank (EXZREVRANK).
    pub fn rev_rank(&self, member: &[u8]) -> Option<usize> {
        Some(self.len() - 1 - self.rank(member)?)
    }

    /// Member and score at an ascending rank.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], ScoreRef<'_>)> {
        match self.view() {
            View::Compact(c) => c.get_by_rank(rank).map(|(m, s)| (m, ScoreRef::Decoded(s))),
            View::Big(b) => b.get_by_rank(rank).map(|(m, s)| (m, ScoreRef::Borrowed(s))),
        }
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

    /// Number of leading members (ascending) for which `pred(member, score)` holds; `pred` must be
    /// monotone along the order.
    fn partition_point(&self, mut pred: impl FnMut(&[u8], &[f64]) -> bool) -> usize {
        match self.view() {
            View::Compact(c) => c.partition_point(pred),
            View::Big(b) => b.partition_point(|m, s| pred(m, s)),
        }
    }

    /// Ranks of the members inside a score range (§2.6), before LIMIT. `InvalidScore` if a bound is wider
    /// than N.
    pub fn score_span(
        &self,
        range: &ScoreRange,
        reverse: bool,
        limit: Option<Limit>,
    ) -> Result<Span, ZsetError> {
        if range.dims() > self.dims() {
            return Err(ZsetError::InvalidScore);
        }
        let start = self.partition_point(|_, s| range.below_min(s));
        let end = self.partition_point(|_, s| range.within_max(s));
        Ok(Span {
            start,
            end: end.max(start),
            reverse,
        }
        .limit(limit))
    }

    /// Ranks of the members inside a lex range (§2.7).
    pub fn lex_span(&self, range: &LexRange, reverse: bool, limit: Option<Limit>) -> Span {
        let start = self.partition_point(|m, _| range.below_min(m));
        let end = self.partition_point(|m, _| range.within_max(m));
        Span {
            start,
            end: end.max(start),
            reverse,
        }
        .limit(limit)
    }

    /// EXZCOUNT.
    pub fn count_in_score(&self, range: &ScoreRange) -> Result<usize, ZsetError> {
        Ok(self.score_span(range, false, None)?.len())
    }

    /// EXZLEXCOUNT.
    pub fn count_in_lex(&self, range: &LexRange) -> usize {
        self.lex_span(range, false, None).len()
    }

    /// EXZRANKBYSCORE: members whose score (prefix) is strictly below `score`.
    pub fn rank_by_score(&self, score: &[f64]) -> Result<usize, ZsetError> {
        if score.is_empty() || score.len() > self.dims() {
            return Err(ZsetError::InvalidScore);
        }
        Ok(self.partition_point(|_, s| score::compare(s, score) == Ordering::Less))
    }

    /// EXZREVRANKBYSCORE: members whose score (prefix) is >= `score`.
    pub fn rev_rank_by_score(&self, score: &[f64]) -> Result<usize, ZsetError> {
        Ok(self.len() - self.rank_by_score(score)?)
    }

    /// Members and scores of a span, in its direction.
    pub fn iter_span(&self, span: Span) -> Entries<'_> {
        Entries(match self.view() {
            View::Compact(c) => {
                EntriesRepr::Compact(c.iter_range(span.start, span.end, span.reverse))
            }
            View::Big(b) => EntriesRepr::Big(b.iter_span(span)),
        })
    }

    /// Calls `f` with each member and score of a span, in its direction: the reply path's loop (one
    /// match on the encoding, scores borrowed in place from the big one).
    #[inline]
    pub fn for_each_in_span(&self, span: Span, mut f: impl FnMut(&[u8], &[f64])) {
        match self.view() {
            View::Compact(c) => {
                for (m, s) in c.iter_range(span.start, span.end, span.reverse) {
                    f(m, &s);
                }
            }
            View::Big(b) => {
                for (m, s) in b.iter_span(span) {
                    f(m, s);
                }
            }
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

    /// Removes the members of a span (EXZREMRANGEBY*).
    pub fn remove_span(&mut self, span: Span) -> usize {
        let n = match self.big_mut() {
            Some(b) => b.remove_span(span),
            None => self.compact_mut(|c| c.remove_span(span.start, span.end)),
        };
        count_members(-(n as i64));
        n
    }

    /// Removes and returns up to `count` lowest (`max` = false) or highest members, in that order
    /// (EXZPOPMIN / EXZPOPMAX / EXBZPOP*).
    pub fn pop(&mut self, count: usize, max: bool) -> Vec<Popped> {
        let out = match self.big_mut() {
            Some(b) => b.pop(count, max),
            None => self.compact_mut(|c| c.pop(count, max)),
        };
        count_members(-(out.len() as i64));
        out
    }

    /// A uniformly random member (EXZRANDMEMBER without count).
    pub fn random_member<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(&[u8], ScoreRef<'_>)> {
        if self.is_empty() {
            return None;
        }
        self.get_by_rank(rng.gen_range(0..self.len()))
    }

    /// EXZRANDMEMBER with a count: `count > 0` visits min(count, len) distinct members forming a uniform
    /// random subset (all of them, ascending, when count >= len); `count < 0` visits |count| independent
    /// uniform draws. O(M log N) time (O(M·N) compact), O(M) memory for the distinct case (Floyd's
    /// sampling of ranks).
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
                    visit(m, &s);
                }
            }
            return;
        }
        let k = usize::try_from(count).unwrap_or(usize::MAX);
        if k >= n {
            for (m, s) in self.iter() {
                visit(m, &s);
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
                visit(m, &s);
            }
        }
    }

    /// One EXZSCAN step (§4.16); returns the next cursor (0 = done). A compact value is visited whole
    /// in one call (at most `compact-max-entries` members), whatever the cursor, as Redis does for a
    /// listpack. O(count) expected.
    pub fn scan<'a>(
        &'a self,
        cursor: u64,
        count: usize,
        mut visit: impl FnMut(&'a [u8], ScoreRef<'a>),
    ) -> u64 {
        match self.view() {
            View::Compact(c) => {
                for (m, s) in c.entries() {
                    visit(m, ScoreRef::Decoded(s));
                }
                0
            }
            View::Big(b) => b.scan(cursor, count, |m, s| visit(m, ScoreRef::Borrowed(s))),
        }
    }

    /// MEMORY USAGE: a deterministic function of the content and encoding. O(1).
    pub fn mem_usage(&self) -> usize {
        match self.view() {
            View::Compact(c) => c.mem_usage(),
            View::Big(b) => b.mem_usage(),
        }
    }

    /// Bytes actually allocated (capacities; member allocations at requested size). Diagnostics.
    pub fn heap_bytes(&self) -> usize {
        match self.view() {
            View::Compact(c) => c.heap_bytes(),
            View::Big(b) => b.heap_bytes(),
        }
    }

    /// Verifies every invariant of the encoding in use.
    pub fn check(&self) -> Result<(), String> {
        match self.view() {
            View::Compact(c) => c.check(),
            View::Big(b) => b.check(),
        }
    }
}

/// Builds a set from members in any order (RDB load, RESTORE, set operations): validates, then sorts once
/// into the compact encoding when the result is within its thresholds, else bulk-loads the big one.
/// O(N log N).
///
/// While the members fit the compact thresholds they are gathered in two flat vectors (member bytes,
/// scores) and sorted once at the end, so loading millions of small sets costs a few allocations per
/// set, not a member table with its hash index per set; the first member past a threshold moves them
/// into the big builder.
#[derive(Debug)]
pub struct ZsetBuilder {
    repr: BuilderRepr,
}

#[derive(Debug)]
enum BuilderRepr {
    Small(SmallBuilder),
    Big(BigBuilder),
}

/// Members of a set that may still be compact: `ends[i]` is the end of member i in `bytes`, its score
/// is `scores[i * dims ..][.. dims]`.
/// Inline capacities cover a few members with one-dimensional scores without any allocation.
#[derive(Debug)]
struct SmallBuilder {
    dims: usize,
    bytes: SmallVec<[u8; 192]>,
    ends: SmallVec<[u32; 8]>,
    scores: SmallVec<[f64; 8]>,
}

impl SmallBuilder {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn member(&self, i: usize) -> &[u8] {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |&e| e as usize),
            None => 0,
        };
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.bytes.get(start..end).unwrap_or_default()
    }

    fn score(&self, i: usize) -> &[f64] {
        let start = i.saturating_mul(self.dims);
        self.scores
            .get(start..start.saturating_add(self.dims))
            .unwrap_or_default()
    }

    fn find(&self, member: &[u8]) -> Option<usize> {
        (0..self.len()).find(|&i| self.member(i) == member)
    }

    /// Room for one more member of `len` bytes within the compact thresholds.
    fn fits(&self, len: usize) -> bool {
        self.len() < encoding::max_entries().min(compact::MAX_COUNT)
            && len <= encoding::max_value().min(compact::MAX_MEMBER)
            && self.bytes.len().saturating_add(len) <= compact::MAX_BYTES
    }

    fn push_unchecked(&mut self, member: &[u8], score: &[f64]) {
        self.bytes.extend_from_slice(member);
        self.ends
            .push(u32::try_from(self.bytes.len()).unwrap_or(u32::MAX));
        self.scores.extend_from_slice(score);
    }

    /// The members moved into a big builder (a threshold was passed).
    fn into_big(self, capacity: usize) -> Result<BigBuilder, ZsetError> {
        let mut b = BigBuilder::new(self.dims, capacity.max(self.len()))?;
        for i in 0..self.len() {
            b.push(self.member(i), self.score(i))?;
        }
        Ok(b)
    }

    /// The compact set, or `None` if a member is duplicated (a corrupt payload).
    fn finish(self) -> Result<TairZset, ZsetError> {
        let n = self.len();
        let mut by_member: Vec<usize> = (0..n).collect();
        by_member.sort_unstable_by(|&a, &b| self.member(a).cmp(self.member(b)));
        if by_member
            .windows(2)
            .any(|w| matches!(w, [a, b] if self.member(*a) == self.member(*b)))
        {
            return Err(ZsetError::CorruptValue);
        }
        let mut order = by_member;
        order.sort_unstable_by(|&a, &b| {
            score::compare(self.score(a), self.score(b))
                .then_with(|| self.member(a).cmp(self.member(b)))
        });
        let entries = order.iter().map(|&i| (self.member(i), self.score(i)));
        match CompactZset::from_sorted(self.dims, entries) {
            Some(c) => Ok(TairZset::from_compact(c)),
            // Past the compact layout's byte limit: the big encoding.
            None => Ok(TairZset::from_big(self.into_big(n)?.finish()?)),
        }
    }
}

impl ZsetBuilder {
    /// `dims` outside 1..=255 is `InvalidScore`.
    pub fn new(dims: usize, capacity: usize) -> Result<Self, ZsetError> {
        if dims == 0 || dims > MAX_DIMS {
            return Err(ZsetError::InvalidScore);
        }
        let small = capacity.min(encoding::max_entries().min(compact::MAX_COUNT));
        let repr = if capacity > small {
            BuilderRepr::Big(BigBuilder::new(dims, capacity)?)
        } else {
            BuilderRepr::Small(SmallBuilder {
                dims,
                bytes: SmallVec::new(),
                ends: SmallVec::with_capacity(small),
                scores: SmallVec::with_capacity(small.saturating_mul(dims)),
            })
        };
        Ok(ZsetBuilder { repr })
    }

    /// The big builder, converting the small one first.
    fn big(&mut self) -> Result<&mut BigBuilder, ZsetError> {
        if let BuilderRepr::Small(s) = &mut self.repr {
            let small = std::mem::replace(
                s,
                SmallBuilder {
                    dims: s.dims,
                    bytes: SmallVec::new(),
                    ends: SmallVec::new(),
                    scores: SmallVec::new(),
                },
            );
            let cap = small.len().saturating_mul(2);
            self.repr = BuilderRepr::Big(small.into_big(cap)?);
        }
        match &mut self.repr {
            BuilderRepr::Big(b) => Ok(b),
            BuilderRepr::Small(_) => Err(ZsetError::CorruptValue),
        }
    }

    /// Adds a member; a duplicate, a NaN or a wrong width is `CorruptValue` (a duplicate of a set
    /// still small is found by [`finish`](Self::finish)).
    pub fn push(&mut self, member: &[u8], score: &[f64]) -> Result<(), ZsetError> {
        if let BuilderRepr::Small(s) = &mut self.repr {
            if score.len() != s.dims || score.iter().any(|v| v.is_nan()) {
                return Err(ZsetError::CorruptValue);
            }
            if s.fits(member.len()) {
                s.push_unchecked(member, score);
                return Ok(());
            }
        }
        self.big()?.push(member, score)
    }

    /// Adds `score` into the member's score with `merge`, or inserts it (set operations).
    pub(crate) fn merge(
        &mut self,
        member: &[u8],
        score: &[f64],
        merge: impl FnOnce(&mut [f64], &[f64]),
    ) -> Result<(), ZsetError> {
        if let BuilderRepr::Small(s) = &mut self.repr {
            if let Some(i) = s.find(member) {
                let start = i.saturating_mul(s.dims);
                if let Some(slot) = s.scores.get_mut(start..start.saturating_add(s.dims)) {
                    merge(slot, score);
                }
                return Ok(());
            }
            if score.len() == s.dims && s.fits(member.len()) {
                s.push_unchecked(member, score);
                return Ok(());
            }
        }
        self.big()?.merge(member, score, merge)
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            BuilderRepr::Small(s) => s.len(),
            BuilderRepr::Big(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The finished set (possibly empty).
    pub fn finish(self) -> Result<TairZset, ZsetError> {
        let inner = match self.repr {
            BuilderRepr::Small(s) => return s.finish(),
            BuilderRepr::Big(b) => b,
        };
        let n = inner.len();
        let compact = n <= encoding::max_entries().min(compact::MAX_COUNT)
            && !inner.has_member_longer_than(encoding::max_value().min(compact::MAX_MEMBER));
        if compact {
            let c = CompactZset::from_sorted(inner.dims(), inner.sorted_entries().into_iter());
            if let Some(c) = c {
                return Ok(TairZset::from_compact(c));
            }
        }
        Ok(TairZset::from_big(inner.finish()?))
    }
}

/// Iterator of `(member, score)` over a span (see [`TairZset::iter_span`]).
#[derive(Clone)]
pub struct Entries<'a>(EntriesRepr<'a>);

#[derive(Clone)]
enum EntriesRepr<'a> {
    Compact(compact::Iter<'a>),
    Big(BigEntries<'a>),
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a [u8], ScoreRef<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            EntriesRepr::Compact(i) => i.next().map(|(m, s)| (m, ScoreRef::Decoded(s))),
            EntriesRepr::Big(i) => i.next().map(|(m, s)| (m, ScoreRef::Borrowed(s))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            EntriesRepr::Compact(i) => i.size_hint(),
            EntriesRepr::Big(i) => i.size_hint(),
        }
    }
}

#[cfg(test)]
#[path = "zset_tests.rs"]
mod tests;
