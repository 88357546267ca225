//! The bit array of a sub-filter, stored in pages of 64 KiB.
//!
//! One allocation of m/8 bytes would be rounded up by the server's allocator: jemalloc's size classes
//! above 16 KiB are 25 % apart, so the 1,977,544-byte array of a 1M-item filter at 0.001 would take 2 MiB
//! (+6 %) and a 300 MiB one 320 MiB. A 64 KiB page is an exact size class; only the last, shorter page is
//! rounded, by a few KiB at most, so `used_memory` sees about m/8 bytes. The extra cost is one pointer
//! load per probe.
//!
//! Byte `b` of the array is byte `b % 64 Ki` of page `b / 64 Ki`; bit `i` is bit `i % 8` of byte `i / 8`
//! (spec §2.3). The serialised forms see the concatenation of the pages.

use tair_common::alloc::size_class;

/// log2 of the page size in bytes.
const PAGE_SHIFT: u32 = 16;
/// Bytes per page (every page but the last is full).
pub const PAGE_BYTES: usize = 1 << PAGE_SHIFT;
const PAGE_MASK: u64 = (PAGE_BYTES as u64) - 1;

/// A fixed-length array of bytes in pages; every position outside it reads as 0 and ignores writes.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct BitArray {
    /// One page (every filter up to 524,288 bits) lives inside the array itself: no second block.
    pages: smallvec::SmallVec<[Box<[u8]>; 1]>,
}

impl std::fmt::Debug for BitArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BitArray")
            .field("bytes", &self.len())
            .finish_non_exhaustive()
    }
}

impl BitArray {
    /// Active defragmentation: the page list (once spilled) and every page move if the allocator
    /// wants them elsewhere. (Full 64 KiB pages are large blocks, which the allocator never asks to
    /// move; a filter's single short page is a small one.)
    pub fn defrag(&mut self, d: &mut tair_common::value::Defrag) {
        d.small_vec(&mut self.pages);
        for page in self.pages.iter_mut() {
            d.boxed_slice(page);
        }
    }

    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> Self {
        let pages = (0..len.div_ceil(PAGE_BYTES))
            .map(|i| vec![0u8; PAGE_BYTES.min(len - i * PAGE_BYTES)].into_boxed_slice())
            .collect();
        Self { pages }
    }

    /// A copy of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self {
            pages: bytes.chunks(PAGE_BYTES).map(Box::from).collect(),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        // Every page but the last is full.
        match self.pages.last() {
            Some(last) => (self.pages.len() - 1) * PAGE_BYTES + last.len(),
            None => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Bytes the allocator holds for the array: the pages (a short last page rounded up to the
    /// allocator's size class, roughly) and the spilled page list.
    pub fn allocated(&self) -> usize {
        let pages: usize = self.pages.iter().map(|p| size_class(p.len())).sum();
        let list = if self.pages.spilled() {
            size_class(self.pages.capacity() * std::mem::size_of::<Box<[u8]>>())
        } else {
            0
        };
        pages + list
    }

    /// Bit `pos` as 0 or 1 (0 past the end).
    #[inline(always)]
    pub fn bit(&self, pos: u64) -> u8 {
        let byte = pos >> 3;
        match self
            .pages
            .get((byte >> PAGE_SHIFT) as usize)
            .and_then(|p| p.get((byte & PAGE_MASK) as usize))
        {
            Some(b) => (b >> (pos & 7)) & 1,
            None => 0,
        }
    }

    /// Sets bit `pos`; returns 1 if it was clear, else 0 (also past the end, where nothing is written).
    #[inline(always)]
    pub fn set(&mut self, pos: u64) -> u8 {
        let byte = pos >> 3;
        match self
            .pages
            .get_mut((byte >> PAGE_SHIFT) as usize)
            .and_then(|p| p.get_mut((byte & PAGE_MASK) as usize))
        {
            Some(b) => {
                let mask = 1u8 << (pos & 7);
                let fresh = u8::from(*b & mask == 0);
                *b |= mask;
                fresh
            }
            None => 0,
        }
    }

    /// The pages in order; their concatenation is the array.
    pub fn pages(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.pages.iter().map(|p| &**p)
    }

    /// Appends bytes `offset .. offset + len` (clipped to the array) to `out`.
    pub fn read_into(&self, offset: usize, len: usize, out: &mut Vec<u8>) {
        let end = offset.saturating_add(len).min(self.len());
        let mut at = offset;
        while at < end {
            let (page, off) = (at >> PAGE_SHIFT, at & (PAGE_BYTES - 1));
            let take = (PAGE_BYTES - off).min(end - at);
            match self.pages.get(page).and_then(|p| p.get(off..off + take)) {
                Some(s) => out.extend_from_slice(s),
                None => return,
            }
            at += take;
        }
    }

    /// Overwrites bytes `offset .. offset + data.len()`; false (and nothing written) if that range is not
    /// inside the array.
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> bool {
        match offset.checked_add(data.len()) {
            Some(end) if end <= self.len() => {}
            _ => return false,
        }
        let mut at = offset;
        let mut src = data;
        while !src.is_empty() {
            let (page, off) = (at >> PAGE_SHIFT, at & (PAGE_BYTES - 1));
            let take = (PAGE_BYTES - off).min(src.len());
            let (head, rest) = src.split_at(take);
            if let Some(dst) = self
                .pages
                .get_mut(page)
                .and_then(|p| p.get_mut(off..off + take))
            {
                dst.copy_from_slice(head);
            }
            src = rest;
            at += take;
        }
        true
    }

    /// The whole array as one contiguous copy.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        for p in &self.pages {
            v.extend_from_slice(p);
        }
        v
    }

    /// Calls `f` with the array as one slice: the page itself when there is one, else a copy.
    pub fn with_contiguous<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self.pages.as_slice() {
            [] => f(&[]),
            [one] => f(one),
            _ => f(&self.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn allocated_counts_size_classes() {
        assert_eq!(BitArray::zeroed(144).allocated(), 160);
        assert_eq!(
            BitArray::zeroed(PAGE_BYTES * 2 + 144).allocated(),
            2 * PAGE_BYTES + 160 + 64
        );
    }

    #[test]
    fn pages_and_lengths() {
        for n in [
            0,
            1,
            8,
            144,
            PAGE_BYTES - 8,
            PAGE_BYTES,
            PAGE_BYTES + 8,
            3 * PAGE_BYTES + 200,
        ] {
            let z = BitArray::zeroed(n);
            assert_eq!(z.len(), n);
            assert_eq!(z.pages().map(<[u8]>::len).sum::<usize>(), n);
            assert!(z.pages().all(|p| !p.is_empty() && p.len() <= PAGE_BYTES));
            let d = pattern(n);
            let a = BitArray::from_bytes(&d);
            assert_eq!(a.to_vec(), d);
            assert_eq!(a.with_contiguous(<[u8]>::to_vec), d);
            assert_eq!(a.pages().count(), z.pages().count());
        }
    }

    #[test]
    fn bits_match_the_byte_layout() {
        let n = 2 * PAGE_BYTES + 16;
        let mut a = BitArray::zeroed(n);
        let mut want = vec![0u8; n];
        for pos in [
            0u64,
            7,
            8,
            63,
            64,
            524_287,
            524_288,
            524_289,
            (n as u64) * 8 - 1,
        ] {
            assert_eq!(a.bit(pos), 0);
            assert_eq!(a.set(pos), 1);
            assert_eq!(a.set(pos), 0);
            assert_eq!(a.bit(pos), 1);
            want[(pos / 8) as usize] |= 1 << (pos % 8);
        }
        assert_eq!(a.to_vec(), want);
        // past the end: reads 0, writes nothing
        let end = (n as u64) * 8;
        assert_eq!(a.bit(end), 0);
        assert_eq!(a.set(end), 0);
        assert_eq!(a.bit(u64::MAX), 0);
        assert_eq!(a.set(u64::MAX), 0);
        assert_eq!(a.to_vec(), want);
    }

    #[test]
    fn ranges_across_pages() {
        let n = 3 * PAGE_BYTES + 100;
        let d = pattern(n);
        let a = BitArray::from_bytes(&d);
        let mut b = BitArray::zeroed(n);
        let cuts = [
            0,
            1,
            100,
            PAGE_BYTES - 1,
            PAGE_BYTES,
            2 * PAGE_BYTES + 5,
            n - 1,
            n,
        ];
        for w in cuts.windows(2) {
            let mut out = vec![];
            a.read_into(w[0], w[1] - w[0], &mut out);
            assert_eq!(out, d[w[0]..w[1]]);
            assert!(b.write_at(w[0], &out));
        }
        assert_eq!(b, a);
        let mut out = vec![];
        a.read_into(n - 3, 100, &mut out);
        assert_eq!(out, d[n - 3..]);
        out.clear();
        a.read_into(n + 5, 10, &mut out);
        a.read_into(usize::MAX, usize::MAX, &mut out);
        assert!(out.is_empty());
        assert!(!b.write_at(n - 1, &[1, 2]));
        assert!(!b.write_at(usize::MAX, &[1]));
        assert!(b.write_at(n, &[]));
        assert_eq!(b, a);
    }
}
