//! The scalable Bloom filter value (spec §2.4–2.5) and its introspection (§4.6–4.8).

use tair_common::alloc::{free_effort_of_bytes, size_class};

use crate::bits::BitArray;
use crate::sizing::{self, Shape, GROWTH, MAX_FILTERS, SIZE_LIMIT_BYTES, TIGHTENING};
use crate::sub_filter::{ItemHash, SubFilter};

/// Default target error rate for TFBFRESERVE without capacity and for auto-creation.
pub const DEFAULT_ERROR_RATE: f64 = 0.01;
/// Default initial capacity.
pub const DEFAULT_CAPACITY: u64 = 100;

/// Why a filter could not be created or grown. [`BloomError::message`] is the reply text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BloomError {
    /// p is not in (0, 1) (or is NaN).
    ErrorRateRange,
    /// c is 0.
    CapacityRange,
    /// The first sub-filter, or a growth step, would exceed the per-key size limit.
    SizeLimit,
}

impl BloomError {
    /// The error reply, exactly as the spec words it.
    pub fn message(self) -> &'static str {
        match self {
            BloomError::ErrorRateRange => "ERR (0 < error rate range < 1)",
            BloomError::CapacityRange => "ERR (capacity should be larger than 0)",
            BloomError::SizeLimit => "ERR operation exceeds bloom filter size limit",
        }
    }
}

impl std::fmt::Display for BloomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for BloomError {}

/// A scalable Bloom filter: a chain of sub-filters, each twice the capacity of the previous one at half
/// its error rate. Never empty: it always holds at least sub-filter 0.
#[derive(Debug, PartialEq)]
pub struct ScalableBloom {
    error_rate: f64,
    capacity: u64,
    /// Sub-filter 0 lives inside the value (the whole value block is 80 bytes, one size class): a filter
    /// that never grew is two blocks, this one and its bit array.
    filters: Filters,
}

/// The chain: one sub-filter inline, or a list once it grew. (The list shares the sub-filter's bytes:
/// the enum takes its tag from the niche of `SubFilter::hashes`, so it is as small as one sub-filter.)
#[derive(Debug, Clone, PartialEq)]
enum Filters {
    One(SubFilter),
    Many(Vec<SubFilter>),
}

impl Filters {
    fn from_vec(mut v: Vec<SubFilter>) -> Self {
        match (v.pop(), v.is_empty()) {
            (Some(only), true) => Filters::One(only),
            (Some(last), false) => {
                v.push(last);
                Filters::Many(v)
            }
            (None, _) => Filters::Many(v),
        }
    }

    #[inline]
    fn as_slice(&self) -> &[SubFilter] {
        match self {
            Filters::One(f) => std::slice::from_ref(f),
            Filters::Many(v) => v,
        }
    }

    #[inline]
    fn as_mut_slice(&mut self) -> &mut [SubFilter] {
        match self {
            Filters::One(f) => std::slice::from_mut(f),
            Filters::Many(v) => v,
        }
    }

    fn push(&mut self, f: SubFilter) {
        match self {
            Filters::Many(v) => v.push(f),
            Filters::One(_) => {
                if let Filters::One(first) =
                    std::mem::replace(self, Filters::Many(Vec::with_capacity(2)))
                {
                    if let Filters::Many(v) = self {
                        v.push(first);
                        v.push(f);
                    }
                }
            }
        }
    }

    /// Bytes of the list's block once the chain grew (0 while sub-filter 0 is inline).
    fn list_bytes(&self) -> usize {
        match self {
            Filters::One(_) => 0,
            Filters::Many(v) => size_class(v.capacity() * std::mem::size_of::<SubFilter>()),
        }
    }
}

fn count_filter() {
    crate::configs::census::FILTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

impl Clone for ScalableBloom {
    fn clone(&self) -> Self {
        count_filter();
        Self {
            error_rate: self.error_rate,
            capacity: self.capacity,
            filters: self.filters.clone(),
        }
    }
}

impl Drop for ScalableBloom {
    fn drop(&mut self) {
        crate::configs::census::FILTERS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Allocates a zeroed bit array; the caller has already checked `bytes` against the size limit.
fn zeroed(bytes: u64) -> BitArray {
    BitArray::zeroed(usize::try_from(bytes).unwrap_or(0))
}

impl ScalableBloom {
    /// Active defragmentation from sub-filter `from` on: the list of sub-filters (when starting) and
    /// their bit arrays. `Some(next)` when `d` said time is up before the last one: resume there.
    pub fn defrag(&mut self, d: &mut tair_common::value::Defrag, from: usize) -> Option<usize> {
        if let (Filters::Many(list), 0) = (&mut self.filters, from) {
            d.vec(list);
        }
        let subs = self.filters.as_mut_slice();
        let n = subs.len();
        for (i, f) in subs.iter_mut().enumerate().skip(from) {
            f.defrag(d);
            if i + 1 < n && d.should_stop() {
                return Some(i + 1);
            }
        }
        None
    }

    /// Create(p, c): an empty filter with sub-filter 0. Nothing is allocated if it would exceed the limit.
    pub fn new(error_rate: f64, capacity: u64) -> Result<Self, BloomError> {
        if !(error_rate > 0.0 && error_rate < 1.0) {
            return Err(BloomError::ErrorRateRange);
        }
        if capacity == 0 {
            return Err(BloomError::CapacityRange);
        }
        let shape = sizing::shape(error_rate, capacity, 0)?;
        if shape.bytes() > SIZE_LIMIT_BYTES {
            return Err(BloomError::SizeLimit);
        }
        let filter = SubFilter::from_parts(shape, 0, zeroed(shape.bytes()));
        count_filter();
        Ok(Self {
            error_rate,
            capacity,
            filters: Filters::One(filter),
        })
    }

    /// A filter with the defaults (p = 0.01, c = 100), as auto-created by ADD/MADD/INSERT.
    pub fn with_defaults() -> Self {
        let shape = Shape {
            capacity: DEFAULT_CAPACITY,
            error_rate: DEFAULT_ERROR_RATE * 0.5,
            hashes: 8,
            bits: 1152,
        };
        // Same as `new(0.01, 100)` (spec §2.2 vector; checked by a test) without a fallible path.
        let filter = SubFilter::from_parts(shape, 0, zeroed(shape.bytes()));
        count_filter();
        Self {
            error_rate: DEFAULT_ERROR_RATE,
            capacity: DEFAULT_CAPACITY,
            filters: Filters::One(filter),
        }
    }

    /// Assembles a filter from validated parts (the loaders).
    pub(crate) fn from_validated(error_rate: f64, capacity: u64, filters: Vec<SubFilter>) -> Self {
        count_filter();
        Self {
            error_rate,
            capacity,
            filters: Filters::from_vec(filters),
        }
    }

    /// Add(item): true if newly added (reply 1), false if it already tested positive (reply 0). On
    /// [`BloomError::SizeLimit`] nothing changed.
    #[inline]
    pub fn add(&mut self, item: &[u8]) -> Result<bool, BloomError> {
        self.add_hash(&ItemHash::of(item))
    }

    /// [`Self::add`] with a precomputed hash.
    pub fn add_hash(&mut self, h: &ItemHash) -> Result<bool, BloomError> {
        let Some((last, older)) = self.filters.as_mut_slice().split_last_mut() else {
            // Unreachable (never empty); growing creates sub-filter 0.
            self.grow()?;
            return self.add_hash(h);
        };
        if older.iter().rev().any(|f| f.contains(h)) {
            return Ok(false);
        }
        if !last.is_full() {
            // Test-and-set in one pass: if every bit was already set, nothing changed.
            if last.insert(h) {
                last.count_item();
                return Ok(true);
            }
            return Ok(false);
        }
        if last.contains(h) {
            return Ok(false);
        }
        self.grow()?;
        if let Some(last) = self.filters.as_mut_slice().last_mut() {
            last.insert(h);
            last.count_item();
        }
        Ok(true)
    }

    /// Appends the next sub-filter, unless it would take the size over the limit.
    fn grow(&mut self) -> Result<(), BloomError> {
        if self.filters.as_slice().len() >= MAX_FILTERS {
            return Err(BloomError::SizeLimit);
        }
        let i = u32::try_from(self.filters.as_slice().len()).map_err(|_| BloomError::SizeLimit)?;
        let shape = sizing::shape(self.error_rate, self.capacity, i)?;
        self.size()
            .checked_add(shape.bytes())
            .filter(|&s| s <= SIZE_LIMIT_BYTES)
            .ok_or(BloomError::SizeLimit)?;
        self.filters
            .push(SubFilter::from_parts(shape, 0, zeroed(shape.bytes())));
        Ok(())
    }

    /// Test(item): true if every probed bit is set in some sub-filter (no false negatives).
    #[inline]
    pub fn exists(&self, item: &[u8]) -> bool {
        self.exists_hash(&ItemHash::of(item))
    }

    /// [`Self::exists`] with a precomputed hash.
    #[inline]
    pub fn exists_hash(&self, h: &ItemHash) -> bool {
        self.filters.as_slice().iter().rev().any(|f| f.contains(h))
    }

    /// Add for each item, left to right; one result per item (an item that hit the size limit gets the
    /// error and later items are still processed).
    pub fn madd<'a, I>(&mut self, items: I) -> Vec<Result<bool, BloomError>>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        items.into_iter().map(|it| self.add(it)).collect()
    }

    /// Test for each item.
    pub fn mexists<'a, I>(&self, items: I) -> Vec<bool>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        items.into_iter().map(|it| self.exists(it)).collect()
    }

    /// Items inserted: Σ items_i (TFBFCARD).
    pub fn card(&self) -> u64 {
        self.filters
            .as_slice()
            .iter()
            .map(SubFilter::items)
            .fold(0u64, u64::saturating_add)
    }

    /// Target error rate p.
    pub fn error_rate(&self) -> f64 {
        self.error_rate
    }

    /// Initial capacity c (= n_0).
    pub fn initial_capacity(&self) -> u64 {
        self.capacity
    }

    /// Total capacity Σ n_i.
    pub fn capacity(&self) -> u64 {
        self.filters
            .as_slice()
            .iter()
            .map(SubFilter::capacity)
            .fold(0u64, u64::saturating_add)
    }

    /// Σ bytes_i (bit arrays only).
    pub fn size(&self) -> u64 {
        self.filters
            .as_slice()
            .iter()
            .map(SubFilter::bytes)
            .fold(0u64, u64::saturating_add)
    }

    /// The sub-filters, oldest first (TFBFDEBUG).
    pub fn filters(&self) -> &[SubFilter] {
        self.filters.as_slice()
    }

    pub(crate) fn filters_mut(&mut self) -> &mut [SubFilter] {
        self.filters.as_mut_slice()
    }

    /// One TFBFINFO field.
    pub fn info(&self, field: InfoField) -> InfoValue {
        match field {
            InfoField::Capacity => InfoValue::Integer(self.capacity()),
            InfoField::Size => InfoValue::Integer(self.size()),
            InfoField::Filters => InfoValue::Integer(self.filters.as_slice().len() as u64),
            InfoField::Items => InfoValue::Integer(self.card()),
            InfoField::Error => InfoValue::Rate(self.error_rate),
            InfoField::Expansion => InfoValue::Integer(u64::from(GROWTH)),
            InfoField::Tightening => InfoValue::Rate(TIGHTENING),
        }
    }

    /// MEMORY USAGE: the blocks the allocator holds for the value, each rounded to its size class:
    /// the value block, the sub-filter list once it left the value, and every bit array's pages.
    /// (Issue #15: the spec's deterministic 64 + Σ(64 + bytes_i) reported about half of what a big
    /// scaled filter added to `used_memory`.)
    pub fn mem_usage(&self) -> u64 {
        let list = self.filters.list_bytes();
        let bits = self
            .filters
            .as_slice()
            .iter()
            .map(|f| f.bit_array().allocated())
            .fold(0usize, usize::saturating_add);
        (size_class(std::mem::size_of::<Self>()) + list).saturating_add(bits) as u64
    }

    /// free_effort: one unit per KiB of bit arrays ([`free_effort_of_bytes`]), so a filter above 64
    /// KiB is freed on the lazy-free thread.
    pub fn free_effort(&self) -> u64 {
        free_effort_of_bytes(usize::try_from(self.size()).unwrap_or(usize::MAX)) as u64
    }
}

/// The TFBFINFO fields, in reply order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoField {
    Capacity,
    Size,
    Filters,
    Items,
    Error,
    Expansion,
    Tightening,
}

impl InfoField {
    /// All fields in the order of the full reply.
    pub const ALL: [InfoField; 7] = [
        InfoField::Capacity,
        InfoField::Size,
        InfoField::Filters,
        InfoField::Items,
        InfoField::Error,
        InfoField::Expansion,
        InfoField::Tightening,
    ];

    /// The field argument (CAPACITY|SIZE|FILTERS|ITEMS|ERROR|EXPANSION|TIGHTENING, case-insensitive);
    /// `None` → `ERR invalid information value`.
    pub fn parse(arg: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.keyword().eq_ignore_ascii_case(arg))
    }

    /// The argument keyword.
    pub fn keyword(self) -> &'static [u8] {
        match self {
            InfoField::Capacity => b"CAPACITY",
            InfoField::Size => b"SIZE",
            InfoField::Filters => b"FILTERS",
            InfoField::Items => b"ITEMS",
            InfoField::Error => b"ERROR",
            InfoField::Expansion => b"EXPANSION",
            InfoField::Tightening => b"TIGHTENING",
        }
    }

    /// The label in the full reply.
    pub fn label(self) -> &'static str {
        match self {
            InfoField::Capacity => "Capacity",
            InfoField::Size => "Size",
            InfoField::Filters => "Number of filters",
            InfoField::Items => "Number of items inserted",
            InfoField::Error => "Error rate",
            InfoField::Expansion => "Expansion rate",
            InfoField::Tightening => "Tightening ratio",
        }
    }
}

/// A TFBFINFO value: an integer reply, or a rate replied as a bulk string ([`format_rate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InfoValue {
    Integer(u64),
    Rate(f64),
}

/// A double as the shortest decimal that round-trips, without exponent (`0.01`, `0.0000001`): Rust's
/// `Display` for f64 is exactly that.
pub fn format_rate(x: f64) -> String {
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_equal_new() {
        assert_eq!(
            ScalableBloom::with_defaults(),
            ScalableBloom::new(DEFAULT_ERROR_RATE, DEFAULT_CAPACITY).unwrap()
        );
    }

    #[test]
    fn create_validates() {
        for p in [
            0.0,
            1.0,
            -0.1,
            1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            assert_eq!(
                ScalableBloom::new(p, 100).unwrap_err(),
                BloomError::ErrorRateRange
            );
        }
        assert_eq!(
            ScalableBloom::new(0.01, 0).unwrap_err(),
            BloomError::CapacityRange
        );
        // T15
        assert_eq!(
            ScalableBloom::new(0.01, 1_000_000_000).unwrap_err(),
            BloomError::SizeLimit
        );
        assert_eq!(
            BloomError::SizeLimit.to_string(),
            "ERR operation exceeds bloom filter size limit"
        );
    }

    fn items(prefix: &str, n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("{prefix}{i}").into_bytes())
            .collect()
    }

    /// T1–T3 on the seed filter.
    #[test]
    fn seed_transcript() {
        let mut f = ScalableBloom::new(0.001, DEFAULT_CAPACITY).unwrap();
        assert_eq!(f.add(b"https://example.com/page1"), Ok(true));
        assert_eq!(
            f.madd([
                &b"https://example.com/page2"[..],
                b"https://example.com/page3"
            ]),
            vec![Ok(true), Ok(true)]
        );
        assert!(f.exists(b"https://example.com/page1"));
        assert!(!f.exists(b"https://example.com/new"));
        let q = [&b"https://a.com"[..], b"https://b.com", b"https://c.com"];
        assert_eq!(f.mexists(q), vec![false, false, false]);
        assert_eq!(
            f.madd([&b"https://a.com"[..], b"https://c.com"]),
            vec![Ok(true), Ok(true)]
        );
        assert_eq!(f.mexists(q), vec![true, false, true]);
        // T3
        let full: Vec<(&str, InfoValue)> = InfoField::ALL
            .iter()
            .map(|&k| (k.label(), f.info(k)))
            .collect();
        assert_eq!(
            full,
            vec![
                ("Capacity", InfoValue::Integer(100)),
                ("Size", InfoValue::Integer(200)),
                ("Number of filters", InfoValue::Integer(1)),
                ("Number of items inserted", InfoValue::Integer(5)),
                ("Error rate", InfoValue::Rate(0.001)),
                ("Expansion rate", InfoValue::Integer(2)),
                ("Tightening ratio", InfoValue::Rate(0.5)),
            ]
        );
        assert_eq!(format_rate(0.001), "0.001");
        assert_eq!(format_rate(0.5), "0.5");
        assert_eq!(f.card(), 5);
        let d = &f.filters()[0];
        assert_eq!(
            (
                d.capacity(),
                d.items(),
                format_rate(d.error_rate()),
                d.hashes(),
                d.bits()
            ),
            (100, 5, "0.0005".to_string(), 11, 1600)
        );
    }

    /// T5
    #[test]
    fn seed_sized() {
        let f = ScalableBloom::new(0.001, 10000).unwrap();
        assert_eq!(f.info(InfoField::Size), InfoValue::Integer(19776));
        let d = &f.filters()[0];
        assert_eq!(
            (d.capacity(), d.items(), d.hashes(), d.bits()),
            (10000, 0, 11, 158208)
        );
        assert_eq!(d.error_rate(), 0.0005);
    }

    /// T6, T7, T8
    #[test]
    fn tair_py_transcripts() {
        let mut f = ScalableBloom::new(0.01, 100).unwrap();
        assert_eq!(f.add(b"item2"), Ok(true));
        assert_eq!(f.add(b"item2"), Ok(false));
        assert_eq!(
            f.madd([&b"item1"[..], b"item2", b"item3"]),
            vec![Ok(true), Ok(false), Ok(true)]
        );
        assert_eq!(
            f.mexists([&b"item1"[..], b"item2", b"item3"]),
            vec![true, true, true]
        );
        assert!(!f.exists(b"item4"));
        // repeated item within one call: 1 then 0
        let mut g = ScalableBloom::with_defaults();
        assert_eq!(g.madd([&b"a"[..], b"a"]), vec![Ok(true), Ok(false)]);
        // empty item allowed
        assert_eq!(g.add(b""), Ok(true));
        assert!(g.exists(b""));
    }

    /// T11 and T17
    #[test]
    fn defaults_info() {
        let mut f = ScalableBloom::with_defaults();
        assert_eq!(f.add(b"x"), Ok(true));
        assert_eq!(f.info(InfoField::Capacity), InfoValue::Integer(100));
        assert_eq!(f.info(InfoField::Error), InfoValue::Rate(0.01));
        assert_eq!(f.info(InfoField::Size), InfoValue::Integer(144));
        assert_eq!(f.info(InfoField::Filters), InfoValue::Integer(1));
        assert_eq!(InfoField::parse(b"FOO"), None);
        assert_eq!(InfoField::parse(b"capacity"), Some(InfoField::Capacity));
        assert_eq!(InfoField::parse(b"TighTening"), Some(InfoField::Tightening));
        assert_eq!(InfoField::parse(b"CAPACITYX"), None);
        let mut k4 = ScalableBloom::with_defaults();
        assert_eq!(
            k4.madd([&b"NOCREATE"[..], b"CAPACITY"]),
            vec![Ok(true), Ok(true)]
        );
        assert!(k4.exists(b"NOCREATE"));
    }

    /// T12: growth doubles the capacity and halves the error.
    #[test]
    fn growth_transcript() {
        let mut f = ScalableBloom::new(0.01, 100).unwrap();
        let it = items("item:", 101);
        for x in &it[..100] {
            assert_eq!(f.add(x), Ok(true));
        }
        assert_eq!(f.info(InfoField::Filters), InfoValue::Integer(1));
        assert_eq!(f.add(&it[100]), Ok(true));
        assert_eq!(f.info(InfoField::Filters), InfoValue::Integer(2));
        assert_eq!(f.info(InfoField::Capacity), InfoValue::Integer(300));
        assert_eq!(f.info(InfoField::Size), InfoValue::Integer(456));
        assert_eq!(f.card(), 101);
        let dbg: Vec<(u64, u64, String, u32, u64)> = f
            .filters()
            .iter()
            .map(|d| {
                (
                    d.capacity(),
                    d.items(),
                    format_rate(d.error_rate()),
                    d.hashes(),
                    d.bits(),
                )
            })
            .collect();
        assert_eq!(
            dbg,
            vec![
                (100, 100, "0.005".into(), 8, 1152),
                (200, 1, "0.0025".into(), 9, 2496)
            ]
        );
        assert!(f.exists(b"item:5"));
        assert!(f.exists(b"item:100"));
        assert!(!f.exists(b"nope"));
        // value block (80) + list of 2 sub-filters (128) + bit arrays 144 -> 160, 312 -> 320
        assert_eq!(std::mem::size_of::<SubFilter>(), 64);
        assert_eq!(std::mem::size_of::<ScalableBloom>(), 80);
        assert_eq!(f.mem_usage(), 80 + 128 + 160 + 320);
        // a default filter: its 144-byte bit array (160-byte block) and 80 bytes more
        assert_eq!(ScalableBloom::with_defaults().mem_usage(), 80 + 160);
        assert_eq!(f.free_effort(), 1);
        // 100,000 items at 1%: about 117 KiB of bits, past the lazy-free threshold of 64
        let big = ScalableBloom::new(0.01, 100_000).unwrap();
        assert!(big.free_effort() > 64, "{}", big.free_effort());
    }

    /// T13: the reference model's exact false-positive count for the spec's hashing.
    #[test]
    fn statistical_transcript() {
        let mut f = ScalableBloom::new(0.01, 100).unwrap();
        for i in 0..10_000 {
            f.add(format!("k:{i}").as_bytes()).unwrap();
        }
        let fp = (0..100_000)
            .filter(|i| f.exists(format!("q:{i}").as_bytes()))
            .count();
        assert_eq!(f.info(InfoField::Filters), InfoValue::Integer(7));
        assert!(fp <= 1000, "{fp} false positives");
        assert_eq!(fp, 913, "reference model: 0.913%");
    }

    /// Every non-last sub-filter is full; the counts add up.
    #[test]
    fn growth_invariants() {
        let mut f = ScalableBloom::new(0.1, 1).unwrap();
        for x in items("g", 5000) {
            f.add(&x).unwrap();
        }
        let fs = f.filters();
        let (last, older) = fs.split_last().unwrap();
        assert!(older.iter().all(|s| s.items() == s.capacity()));
        assert!(last.items() <= last.capacity());
        assert_eq!(f.card(), fs.iter().map(|s| s.items()).sum::<u64>());
        assert_eq!(f.size(), fs.iter().map(|s| s.bytes()).sum::<u64>());
        for (i, s) in fs.iter().enumerate() {
            assert_eq!(s.capacity(), 1 << i);
            assert_eq!(s.error_rate(), 0.1 / f64::from(2u32 << i));
        }
    }

    /// The size limit stops growth: the item fails and nothing changes.
    #[test]
    fn growth_hits_size_limit() {
        // c chosen so that sub-filter 0 fits but 0 + 1 do not.
        let c = 200_000_000;
        let s0 = sizing::shape(0.01, c, 0).unwrap();
        assert!(s0.bytes() <= SIZE_LIMIT_BYTES);
        // sub-filter 1 alone is already over the limit
        assert_eq!(sizing::shape(0.01, c, 1), Err(BloomError::SizeLimit));
        // Build without touching 240 MB of RAM per item: a filter whose sub-filter 0 is already full.
        let small = ScalableBloom::new(0.01, c);
        let mut f = small.unwrap();
        f.filters.as_mut_slice()[0].set_items_for_test(c);
        // (no clone: that would copy 240 MB)
        let before = (f.card(), f.size(), f.filters().len(), f.capacity());
        assert_eq!(f.add(b"brand new"), Err(BloomError::SizeLimit));
        assert_eq!(
            before,
            (f.card(), f.size(), f.filters().len(), f.capacity())
        );
        assert_eq!(
            f.madd([&b"x1"[..], b"x2"]),
            vec![Err(BloomError::SizeLimit), Err(BloomError::SizeLimit)]
        );
        assert_eq!(
            before,
            (f.card(), f.size(), f.filters().len(), f.capacity())
        );
        assert!(!f.exists(b"brand new"));
    }
}
