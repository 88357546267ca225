//! One ordinary Bloom filter of the chain, and the item hashing (spec §2.3, scheme id 1).
//!
//! Probe `j` of an item tests bit `((h1 + j·h2) mod 2^64) mod m`. Instead of one 64-bit division per probe
//! the position is advanced incrementally modulo `m` (additions and conditional subtractions), tracking
//! the carry out of the 64-bit sum so the result is exactly the spec's wrapping formula. The two remainders
//! that start the walk (h1 mod m, h2 mod m) use a precomputed reciprocal (Lemire's fastmod, exact for all
//! 64-bit numerators) instead of a division, and h2 mod m is only computed when the first probe hits.

use std::num::NonZeroU32;

use xxhash_rust::xxh64::xxh64;

use crate::bits::BitArray;
use crate::sizing::Shape;

/// The hashing scheme id recorded in every serialised header.
pub const HASH_SCHEME: u8 = 1;
/// Seed of the second XXH64 hash.
pub const SECOND_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// The two hashes of an item, computed once and reused for every sub-filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemHash {
    h1: u64,
    h2: u64,
}

impl ItemHash {
    /// h1 = XXH64(item, 0); h2 = XXH64(item, 0x9E3779B97F4A7C15) | 1.
    #[inline]
    pub fn of(item: &[u8]) -> Self {
        Self {
            h1: xxh64(item, 0),
            h2: xxh64(item, SECOND_SEED) | 1,
        }
    }

    /// The bit probe `j` tests in a filter of `bits` bits, by the spec's formula (reference for tests).
    pub fn probe(&self, j: u64, bits: u64) -> u64 {
        self.h1.wrapping_add(j.wrapping_mul(self.h2)) % bits.max(1)
    }
}

/// `x mod d` by multiplication, for 1 < d < 2^64 and `recip = ceil(2^128 / d)` (Lemire, Kaser, Kurz 2019,
/// "Faster remainder by direct computation": exact for every 64-bit x when the reciprocal has 128 bits).
#[inline(always)]
fn fast_mod(x: u64, recip: u128, d: u64) -> u64 {
    let low = recip.wrapping_mul(u128::from(x));
    let d = u128::from(d);
    let hi = (low >> 64) * d + ((u128::from(low as u64) * d) >> 64);
    (hi >> 64) as u64
}

/// ceil(2^128 / d) for d ≥ 2.
fn reciprocal(d: u64) -> u128 {
    u128::MAX / u128::from(d.max(2)) + 1
}

/// Walks the probe positions of one item in one sub-filter.
struct Probes {
    /// Current position: x mod m.
    pos: u64,
    /// x = h1 + j·h2 (mod 2^64).
    x: u64,
    h2: u64,
    /// h2 mod m.
    step: u64,
    m: u64,
    /// 2^64 mod m: subtracted when x wraps.
    wrap: u64,
}

impl Probes {
    #[inline(always)]
    fn advance(&mut self) {
        let (x, carry) = self.x.overflowing_add(self.h2);
        self.x = x;
        // pos, step, wrap < m <= 2^32: nothing here can overflow.
        let mut pos = self.pos + self.step;
        if pos >= self.m {
            pos -= self.m;
        }
        pos = pos + self.m - (self.wrap & u64::from(carry).wrapping_neg());
        if pos >= self.m {
            pos -= self.m;
        }
        self.pos = pos;
    }
}

/// One Bloom filter: its shape, the items it absorbed and its bit array (bit b = byte b/8, bit b%8, LSB
/// first).
#[derive(PartialEq)]
pub struct SubFilter {
    error_rate: f64,
    /// ceil(2^128 / m), as two words (a `u128` field would align the struct to 16 bytes).
    recip: [u64; 2],
    /// n_i and items_i fit 32 bits: a sub-filter within the 2^32-bit size limit holds fewer than
    /// 2^32 / 1.44 items at any error rate below 1/2.
    capacity: u32,
    items: u32,
    /// k_i ≥ 1 (its niche lets a one-filter chain and a list share one word of `Filters`).
    hashes: NonZeroU32,
    /// m − 1 (m is 2 ..= 2^32). With the fields above the fixed part is 64 bytes.
    bit_count_minus_1: u32,
    bits: BitArray,
}

impl Clone for SubFilter {
    fn clone(&self) -> Self {
        census_add(self.bits(), 1);
        Self {
            capacity: self.capacity,
            items: self.items,
            error_rate: self.error_rate,
            hashes: self.hashes,
            bit_count_minus_1: self.bit_count_minus_1,
            recip: self.recip,
            bits: self.bits.clone(),
        }
    }
}

impl Drop for SubFilter {
    fn drop(&mut self) {
        census_sub(self.bits(), 1);
    }
}

fn census_add(bits: u64, n: u64) {
    use std::sync::atomic::Ordering::Relaxed;
    crate::configs::census::SUB_FILTERS.fetch_add(n, Relaxed);
    crate::configs::census::BITS.fetch_add(bits, Relaxed);
}

fn census_sub(bits: u64, n: u64) {
    use std::sync::atomic::Ordering::Relaxed;
    crate::configs::census::SUB_FILTERS.fetch_sub(n, Relaxed);
    crate::configs::census::BITS.fetch_sub(bits, Relaxed);
}

impl std::fmt::Debug for SubFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubFilter")
            .field("capacity", &self.capacity)
            .field("items", &self.items)
            .field("error_rate", &self.error_rate)
            .field("hashes", &self.hashes)
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl SubFilter {
    /// Active defragmentation of the bit array.
    pub fn defrag(&mut self, d: &mut tair_common::value::Defrag) {
        self.bits.defrag(d);
    }

    /// A sub-filter of `shape` holding `items` with the given bit array. The caller guarantees
    /// `bits.len() == shape.bits / 8`, `shape.bits` a positive multiple of 64 within the size limit,
    /// `shape.hashes >= 1`.
    pub(crate) fn from_parts(shape: Shape, items: u64, bits: BitArray) -> Self {
        // >= 64 for every valid shape; 2 keeps the reciprocal arithmetic defined regardless.
        // At most 2^32 for a shape within the size limit (2^29 bytes).
        let bit_count = shape.bits.clamp(2, 1 << 32);
        let recip = reciprocal(bit_count);
        census_add(bit_count, 1);
        Self {
            capacity: u32::try_from(shape.capacity).unwrap_or(u32::MAX),
            items: u32::try_from(items).unwrap_or(u32::MAX),
            error_rate: shape.error_rate,
            hashes: NonZeroU32::new(shape.hashes).unwrap_or(NonZeroU32::MIN),
            bit_count_minus_1: u32::try_from(bit_count - 1).unwrap_or(u32::MAX),
            recip: [recip as u64, (recip >> 64) as u64],
            bits,
        }
    }

    /// n_i: the items it absorbs before the next sub-filter is appended.
    pub fn capacity(&self) -> u64 {
        u64::from(self.capacity)
    }

    /// items_i: adds it absorbed (adds that returned 1 while it was the newest).
    pub fn items(&self) -> u64 {
        u64::from(self.items)
    }

    /// p_i.
    pub fn error_rate(&self) -> f64 {
        self.error_rate
    }

    /// k_i: probes per item.
    pub fn hashes(&self) -> u32 {
        self.hashes.get()
    }

    /// m_i: number of bits.
    #[inline(always)]
    pub fn bits(&self) -> u64 {
        u64::from(self.bit_count_minus_1) + 1
    }

    #[inline(always)]
    fn recip(&self) -> u128 {
        u128::from(self.recip[0]) | (u128::from(self.recip[1]) << 64)
    }

    /// 2^64 mod m, subtracted when the walk's 64-bit sum wraps.
    #[inline(always)]
    fn wrap(&self) -> u64 {
        let m = self.bits();
        // (2^64 − 1) mod m + 1, reduced once more: 2^64 mod m.
        let w = fast_mod(u64::MAX, self.recip(), m) + 1;
        if w >= m {
            w - m
        } else {
            w
        }
    }

    /// bytes_i = m_i / 8.
    pub fn bytes(&self) -> u64 {
        self.bits.len() as u64
    }

    /// The bit array as serialised (bit b in byte b/8 at position b%8).
    pub fn bit_array(&self) -> &BitArray {
        &self.bits
    }

    pub(crate) fn bit_array_mut(&mut self) -> &mut BitArray {
        &mut self.bits
    }

    pub(crate) fn is_full(&self) -> bool {
        self.items >= self.capacity
    }

    pub(crate) fn count_item(&mut self) {
        self.items = self.items.saturating_add(1);
    }

    /// The walk, positioned on probe 0; `step` is filled in by `start_walk`.
    #[inline(always)]
    fn probes(&self, h: &ItemHash) -> Probes {
        let m = self.bits();
        Probes {
            pos: fast_mod(h.h1, self.recip(), m),
            x: h.h1,
            h2: h.h2,
            step: 0,
            m,
            wrap: self.wrap(),
        }
    }

    #[inline(always)]
    fn start_walk(&self, p: &mut Probes) {
        p.step = fast_mod(p.h2, self.recip(), p.m);
    }

    /// Bit `pos` as 0 or 1 (0 out of range, which a valid shape never produces).
    #[inline(always)]
    fn bit(&self, pos: u64) -> u8 {
        self.bits.bit(pos)
    }

    /// True if all k probed bits are set. Exits at the first clear bit (about two probes per sub-filter
    /// for an absent item); the step is computed only once the first probe hits. (Testing probes in
    /// groups of four with one branch per group measured slower on L1/L2-resident filters.)
    #[inline]
    pub fn contains(&self, h: &ItemHash) -> bool {
        let mut p = self.probes(h);
        if self.bit(p.pos) == 0 {
            return false;
        }
        self.start_walk(&mut p);
        for _ in 1..self.hashes.get() {
            p.advance();
            if self.bit(p.pos) == 0 {
                return false;
            }
        }
        true
    }

    /// Sets the item's k bits; returns true if at least one of them was clear (the item was not present).
    /// Does not count the item.
    #[inline]
    pub(crate) fn insert(&mut self, h: &ItemHash) -> bool {
        let mut p = self.probes(h);
        self.start_walk(&mut p);
        let mut fresh = 0u8;
        for j in 0..self.hashes.get() {
            if j > 0 {
                p.advance();
            }
            fresh |= self.bits.set(p.pos);
        }
        fresh != 0
    }

    #[cfg(test)]
    pub(crate) fn set_items_for_test(&mut self, items: u64) {
        self.items = u32::try_from(items).unwrap();
    }

    /// The probe positions by the incremental walk (test support).
    #[cfg(test)]
    fn positions(&self, h: &ItemHash) -> Vec<u64> {
        let mut p = self.probes(h);
        self.start_walk(&mut p);
        let mut out = Vec::new();
        for j in 0..self.hashes.get() {
            if j > 0 {
                p.advance();
            }
            out.push(p.pos);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn filter(bits: u64, hashes: u32) -> SubFilter {
        SubFilter::from_parts(
            Shape {
                capacity: 10,
                error_rate: 0.01,
                hashes,
                bits,
            },
            0,
            BitArray::zeroed((bits / 8) as usize),
        )
    }

    #[test]
    fn hashes_match_the_spec() {
        let h = ItemHash::of(b"");
        assert_eq!(h.h1, 0xEF46_DB37_51D8_E999); // XXH64("", 0)
        assert_eq!(h.h2 & 1, 1);
        assert_eq!(h.h2, xxh64(b"", 0x9E37_79B9_7F4A_7C15) | 1);
    }

    #[test]
    fn fast_mod_edges() {
        let xs = [
            0u64,
            1,
            63,
            64,
            65,
            u64::MAX,
            u64::MAX - 1,
            1 << 63,
            (1 << 32) - 1,
            1 << 32,
        ];
        let ds = [
            2u64,
            3,
            64,
            1152,
            2496,
            (1 << 32) - 64,
            1 << 32,
            u64::MAX,
            u64::MAX - 1,
            1 << 63,
        ];
        for &d in &ds {
            for &x in &xs {
                assert_eq!(fast_mod(x, reciprocal(d), d), x % d, "{x} mod {d}");
            }
        }
    }

    #[test]
    fn wrap_is_two_to_the_64_mod_m() {
        for m in [
            2u64,
            3,
            64,
            128,
            1152,
            2496,
            1 << 32,
            (1 << 32) - 64,
            11034688,
        ] {
            let f = filter(m, 1);
            assert_eq!(u128::from(f.wrap()), (1u128 << 64) % u128::from(m));
            assert_eq!(f.bits(), m);
        }
    }

    proptest! {
        #[test]
        fn fast_mod_is_exact(x in any::<u64>(), d in 2u64..u64::MAX) {
            prop_assert_eq!(fast_mod(x, reciprocal(d), d), x % d);
            let w = (d % (1 << 32)).max(2);
            prop_assert_eq!(fast_mod(x, reciprocal(w), w), x % w);
        }

        /// The incremental walk equals ((h1 + j·h2) mod 2^64) mod m for every j.
        #[test]
        fn incremental_probes_equal_formula(
            h1 in any::<u64>(), h2 in any::<u64>(), words in 1u64..(1 << 26), k in 1u32..80
        ) {
            let m = words * 64;
            let h = ItemHash { h1, h2: h2 | 1 };
            let f = SubFilter::from_parts(
                Shape { capacity: 1, error_rate: 0.5, hashes: k, bits: m }, 0, BitArray::default());
            let got = f.positions(&h);
            let want: Vec<u64> = (0..u64::from(k)).map(|j| h.probe(j, m)).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn near_max_size_probes_equal_formula(h1 in any::<u64>(), h2 in any::<u64>(), k in 1u32..40) {
            let m = 1u64 << 32;
            for m in [m, m - 64, m - 128 * 1000] {
                let h = ItemHash { h1, h2: h2 | 1 };
                let f = SubFilter::from_parts(
                    Shape { capacity: 1, error_rate: 0.5, hashes: k, bits: m }, 0, BitArray::default());
                let want: Vec<u64> = (0..u64::from(k)).map(|j| h.probe(j, m)).collect();
                prop_assert_eq!(f.positions(&h), want);
            }
        }

        #[test]
        fn inserted_is_contained(items in proptest::collection::vec(any::<Vec<u8>>(), 1..50)) {
            let mut f = filter(1152, 8);
            for it in &items {
                f.insert(&ItemHash::of(it));
            }
            for it in &items {
                prop_assert!(f.contains(&ItemHash::of(it)));
            }
        }
    }

    #[test]
    fn insert_reports_freshness() {
        let mut f = filter(1152, 8);
        let h = ItemHash::of(b"x");
        assert!(!f.contains(&h));
        assert!(f.insert(&h));
        assert!(f.contains(&h));
        assert!(!f.insert(&h));
        // exactly the formula's bits are set
        let mut want = [0u8; 144];
        for j in 0..8 {
            let b = h.probe(j, 1152);
            want[(b / 8) as usize] |= 1 << (b % 8);
        }
        assert_eq!(f.bit_array().to_vec(), &want[..]);
    }
}
