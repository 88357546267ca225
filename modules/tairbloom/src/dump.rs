//! The serialised form (spec §4.9, §5): header H, then the bit arrays D; SCANDUMP/LOADCHUNK chunks and the
//! RDB layout over a byte-level [`Sink`]/[`Source`] that the server layer maps onto its module IO.
//!
//! Header H, little-endian, 40 + 40·F bytes:
//! ```text
//! "TFBF" | u8 version=1 | u8 hash scheme=1 | u16 0 | f64 p | u64 c | u32 growth=2 | u32 F | f64 tightening=0.5
//! per sub-filter: u64 n_i | u64 items_i | f64 p_i | u32 k_i | u32 0 | u64 m_i
//! ```
//! RDB (encoding version 1): string buffer H, then one string buffer per sub-filter of exactly m_i/8 bytes.
//!
//! Loading accepts only what this module can have written: besides the spec's list (magic, versions, F ≥ 1,
//! 0 < p < 1, c ≥ 1, 0 < p_i < 1, k_i ≥ 1, n_i ≥ 1, m_i a positive multiple of 64, items_i ≤ n_i, total
//! ≤ size limit) it checks growth = 2, tightening = 0.5, zero padding, n_i = c·2^i, p_i = p·0.5^(i+1)
//! bit for bit, k_i within 1 of the sizing formula and m_i within one word of the formula for that k_i
//! (the tolerance absorbs last-ulp libm differences between the saving and the loading machine), and that
//! every sub-filter but the last is full. So a forged header can neither allocate past the limit nor make a
//! query probe thousands of bits.

use crate::bits::BitArray;
use crate::bloom::ScalableBloom;
use crate::sizing::{
    self, hashes_u32, sub_filter_error_rate, Shape, GROWTH, MAX_FILTERS, SIZE_LIMIT_BYTES,
    TIGHTENING,
};
use crate::sub_filter::{SubFilter, HASH_SCHEME};

/// The module type's encoding version (RDB) and the header's version byte.
pub const ENCODING_VERSION: i32 = 1;
/// Magic at the start of every header.
pub const MAGIC: [u8; 4] = *b"TFBF";
/// Fixed part of the header.
pub const HEADER_FIXED_LEN: usize = 40;
/// Per-sub-filter part of the header.
pub const HEADER_FILTER_LEN: usize = 40;
/// Longest possible header.
pub const HEADER_MAX_LEN: usize = HEADER_FIXED_LEN + HEADER_FILTER_LEN * MAX_FILTERS;
/// Largest data chunk SCANDUMP returns.
pub const CHUNK_MAX_LEN: u64 = 16 * 1024 * 1024;

/// Why serialised input was refused. Every variant of a LOADCHUNK failure replies
/// [`LoadError::CHUNK_REPLY`]; the `reason` is for the server log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// The RDB encoding version is not one this module wrote.
    UnknownEncoding(i32),
    /// The source failed (short read, IO error, or a buffer longer than allowed).
    Source,
    /// The bytes are inconsistent.
    Invalid(&'static str),
}

impl LoadError {
    /// The LOADCHUNK error reply.
    pub const CHUNK_REPLY: &'static str = "ERR received bad data";

    /// What was wrong, for logs.
    pub fn reason(&self) -> String {
        match self {
            LoadError::UnknownEncoding(v) => format!("unknown tairbloom encoding version {v}"),
            LoadError::Source => "tairbloom: short or failed read".to_string(),
            LoadError::Invalid(why) => format!("tairbloom: bad data: {why}"),
        }
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason())
    }
}

impl std::error::Error for LoadError {}

/// The failure of a [`Source`] read (the server layer logs its own details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceError;

impl From<SourceError> for LoadError {
    fn from(_: SourceError) -> Self {
        LoadError::Source
    }
}

/// Where a filter is saved: a sequence of length-delimited byte buffers (RDB string buffers).
pub trait Sink {
    /// Writes one buffer.
    fn put_bytes(&mut self, bytes: &[u8]);

    /// Writes a bit array as one buffer.
    fn put_bits(&mut self, bits: &BitArray) {
        bits.with_contiguous(|b| self.put_bytes(b));
    }
}

/// Where a filter is loaded from: the buffers a [`Sink`] wrote, in order.
pub trait Source {
    /// Reads the next buffer. A buffer longer than `max_len` must be refused with an error (and, where the
    /// length is known before reading, without allocating it); shorter ones are returned and checked by
    /// the caller.
    fn get_bytes(&mut self, max_len: usize) -> Result<Vec<u8>, SourceError>;

    /// Reads the next buffer as a bit array (same rules as [`Source::get_bytes`]).
    fn get_bits(&mut self, max_len: usize) -> Result<BitArray, SourceError> {
        Ok(BitArray::from_bytes(&self.get_bytes(max_len)?))
    }
}

/// In-memory sink: each buffer as a u64 little-endian length then its bytes (tests, fuzzers, tools).
impl Sink for Vec<u8> {
    fn put_bytes(&mut self, bytes: &[u8]) {
        self.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        self.extend_from_slice(bytes);
    }
}

/// Reads what `Vec<u8> as Sink` wrote; never allocates more than the input holds.
#[derive(Debug, Clone)]
pub struct SliceSource<'a> {
    rest: &'a [u8],
}

impl<'a> SliceSource<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}

impl Source for SliceSource<'_> {
    fn get_bytes(&mut self, max_len: usize) -> Result<Vec<u8>, SourceError> {
        let (len, rest) = self.rest.split_first_chunk::<8>().ok_or(SourceError)?;
        let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| SourceError)?;
        if len > max_len {
            return Err(SourceError);
        }
        let (bytes, rest) = rest.split_at_checked(len).ok_or(SourceError)?;
        self.rest = rest;
        Ok(bytes.to_vec())
    }
}

/// Little-endian field reader over a header; every read is bounds-checked.
struct Fields<'a> {
    rest: &'a [u8],
}

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(LoadError::Invalid("header truncated"))?;
        self.rest = rest;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, LoadError> {
        Ok(u8::from_le_bytes(self.take()?))
    }
    fn u16(&mut self) -> Result<u16, LoadError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, LoadError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, LoadError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn f64(&mut self) -> Result<f64, LoadError> {
        Ok(f64::from_le_bytes(self.take()?))
    }
}

/// A validated header: everything needed to allocate the filter.
struct Plan {
    error_rate: f64,
    capacity: u64,
    filters: Vec<(Shape, u64)>,
}

fn check(ok: bool, why: &'static str) -> Result<(), LoadError> {
    if ok {
        Ok(())
    } else {
        Err(LoadError::Invalid(why))
    }
}

/// Parses and validates a header (see the module docs for every check).
fn parse_header(h: &[u8]) -> Result<Plan, LoadError> {
    let mut r = Fields { rest: h };
    check(r.take::<4>()? == MAGIC, "bad magic")?;
    check(i32::from(r.u8()?) == ENCODING_VERSION, "unknown version")?;
    check(r.u8()? == HASH_SCHEME, "unknown hash scheme")?;
    check(r.u16()? == 0, "reserved field not zero")?;
    let p = r.f64()?;
    check(p > 0.0 && p < 1.0, "error rate out of range")?;
    let c = r.u64()?;
    check(c >= 1, "capacity out of range")?;
    check(r.u32()? == GROWTH, "growth factor")?;
    let count = r.u32()? as usize;
    check((1..=MAX_FILTERS).contains(&count), "filter count")?;
    check(
        r.f64()?.to_bits() == TIGHTENING.to_bits(),
        "tightening ratio",
    )?;
    check(
        h.len() == HEADER_FIXED_LEN + HEADER_FILTER_LEN * count,
        "header length",
    )?;

    let mut filters = Vec::with_capacity(count);
    let mut total = 0u64;
    for i in 0..count {
        let n = r.u64()?;
        let items = r.u64()?;
        let p_i = r.f64()?;
        let k = r.u32()?;
        let pad = r.u32()?;
        let m = r.u64()?;
        check(pad == 0, "padding not zero")?;
        let idx = u32::try_from(i).map_err(|_| LoadError::Invalid("filter count"))?;
        let want_n = 2u64.checked_pow(idx).and_then(|g| c.checked_mul(g));
        check(n >= 1 && want_n == Some(n), "sub-filter capacity")?;
        check(
            p_i > 0.0 && p_i < 1.0 && p_i.to_bits() == sub_filter_error_rate(p, idx).to_bits(),
            "sub-filter error rate",
        )?;
        let want_k = hashes_u32(p_i).ok_or(LoadError::Invalid("sub-filter error rate"))?;
        check(k >= 1 && k.abs_diff(want_k) <= 1, "sub-filter hash count")?;
        check(m > 0 && m.is_multiple_of(64), "sub-filter bits")?;
        let want_m =
            sizing::bits_for(n, p_i, f64::from(k)).ok_or(LoadError::Invalid("sub-filter bits"))?;
        check(m.abs_diff(want_m) <= 64, "sub-filter bits")?;
        check(items <= n, "sub-filter items")?;
        check(i + 1 == count || items == n, "older sub-filter not full")?;
        total = total
            .checked_add(m / 8)
            .filter(|&t| t <= SIZE_LIMIT_BYTES)
            .ok_or(LoadError::Invalid("size limit"))?;
        let shape = Shape {
            capacity: n,
            error_rate: p_i,
            hashes: k,
            bits: m,
        };
        filters.push((shape, items));
    }
    Ok(Plan {
        error_rate: p,
        capacity: c,
        filters,
    })
}

impl ScalableBloom {
    /// Header H (TFBFSCANDUMP key 0, the first RDB buffer, the start of the digest).
    pub fn header(&self) -> Vec<u8> {
        let fs = self.filters();
        let mut h = Vec::with_capacity(HEADER_FIXED_LEN + HEADER_FILTER_LEN * fs.len());
        h.extend_from_slice(&MAGIC);
        h.push(ENCODING_VERSION as u8);
        h.push(HASH_SCHEME);
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&self.error_rate().to_le_bytes());
        h.extend_from_slice(&self.initial_capacity().to_le_bytes());
        h.extend_from_slice(&GROWTH.to_le_bytes());
        h.extend_from_slice(&(fs.len() as u32).to_le_bytes());
        h.extend_from_slice(&TIGHTENING.to_le_bytes());
        for f in fs {
            h.extend_from_slice(&f.capacity().to_le_bytes());
            h.extend_from_slice(&f.items().to_le_bytes());
            h.extend_from_slice(&f.error_rate().to_le_bytes());
            h.extend_from_slice(&f.hashes().to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes());
            h.extend_from_slice(&f.bits().to_le_bytes());
        }
        h
    }

    /// T = |D|: the bytes of all bit arrays (= [`Self::size`]).
    pub fn data_len(&self) -> u64 {
        self.size()
    }

    /// TFBFSCANDUMP key it → (next iterator, chunk). `it = 0` → `(1, H)`; otherwise the data from offset
    /// `it − 1`, at most 16 MiB, with iterator `it + L`; `(0, [])` past the end.
    pub fn scandump(&self, it: u64) -> (u64, Vec<u8>) {
        if it == 0 {
            return (1, self.header());
        }
        let offset = it - 1;
        let total = self.data_len();
        if offset >= total {
            return (0, Vec::new());
        }
        let len = CHUNK_MAX_LEN.min(total - offset);
        let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        let mut start = 0u64; // offset of the current sub-filter in D
        let want_end = offset + len;
        for f in self.filters() {
            let bits = f.bit_array();
            let end = start + bits.len() as u64;
            if end > offset && start < want_end {
                let lo = offset.saturating_sub(start);
                let hi = want_end.min(end) - start;
                bits.read_into(lo as usize, (hi - lo) as usize, &mut out);
            }
            if end >= want_end {
                break;
            }
            start = end;
        }
        (it + len, out)
    }

    /// TFBFLOADCHUNK key 1 H: a filter with all bits zero, shaped by a validated header. (The caller
    /// replies `ERR item exists` when the key exists and [`LoadError::CHUNK_REPLY`] on error.)
    pub fn from_header(header: &[u8]) -> Result<Self, LoadError> {
        let plan = parse_header(header)?;
        let filters = plan
            .filters
            .into_iter()
            .map(|(shape, items)| {
                let bytes = usize::try_from(shape.bytes()).unwrap_or(0);
                SubFilter::from_parts(shape, items, BitArray::zeroed(bytes))
            })
            .collect();
        Ok(Self::from_validated(
            plan.error_rate,
            plan.capacity,
            filters,
        ))
    }

    /// TFBFLOADCHUNK key it data with it ≥ 2 (a data chunk): writes `data` at offset `it − 1 − |data|` of
    /// D. Out of range (including it ≤ 1 with data) → error, nothing written.
    pub fn load_chunk(&mut self, it: u64, data: &[u8]) -> Result<(), LoadError> {
        let len = data.len() as u64;
        let offset = it
            .checked_sub(1)
            .and_then(|o| o.checked_sub(len))
            .ok_or(LoadError::Invalid("chunk before the start"))?;
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= self.data_len())
            .ok_or(LoadError::Invalid("chunk past the end"))?;
        let mut start = 0u64;
        for f in self.filters_mut() {
            let bits = f.bit_array_mut();
            let f_end = start + bits.len() as u64;
            if f_end > offset && start < end {
                let lo = offset.max(start);
                let hi = end.min(f_end);
                if let Some(src) = data.get((lo - offset) as usize..(hi - offset) as usize) {
                    bits.write_at((lo - start) as usize, src);
                }
            }
            if f_end >= end {
                break;
            }
            start = f_end;
        }
        Ok(())
    }

    /// Saves in the RDB layout: H, then each bit array.
    pub fn rdb_save<S: Sink + ?Sized>(&self, sink: &mut S) {
        sink.put_bytes(&self.header());
        for f in self.filters() {
            sink.put_bits(f.bit_array());
        }
    }

    /// Loads the RDB layout written with encoding version `encver`, validating everything.
    pub fn rdb_load<S: Source + ?Sized>(src: &mut S, encver: i32) -> Result<Self, LoadError> {
        if encver != ENCODING_VERSION {
            return Err(LoadError::UnknownEncoding(encver));
        }
        let header = src.get_bytes(HEADER_MAX_LEN)?;
        let plan = parse_header(&header)?;
        let mut filters = Vec::with_capacity(plan.filters.len());
        for (shape, items) in plan.filters {
            let want = usize::try_from(shape.bytes()).map_err(|_| LoadError::Invalid("size"))?;
            let bits = src.get_bits(want)?;
            check(bits.len() == want, "bit array length")?;
            filters.push(SubFilter::from_parts(shape, items, bits));
        }
        Ok(Self::from_validated(
            plan.error_rate,
            plan.capacity,
            filters,
        ))
    }

    /// DEBUG DIGEST-VALUE input: H, then every bit array, as one sequence of parts.
    pub fn digest_parts(&self, mut feed: impl FnMut(&[u8])) {
        feed(&self.header());
        for f in self.filters() {
            f.bit_array().with_contiguous(&mut feed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grown(p: f64, c: u64, n: usize) -> ScalableBloom {
        let mut f = ScalableBloom::new(p, c).unwrap();
        for i in 0..n {
            f.add(format!("item:{i}").as_bytes()).unwrap();
        }
        f
    }

    fn dump_all(f: &ScalableBloom) -> Vec<(u64, Vec<u8>)> {
        let mut out = vec![];
        let mut it = 0;
        loop {
            let (next, chunk) = f.scandump(it);
            out.push((next, chunk));
            if next == 0 {
                return out;
            }
            it = next;
        }
    }

    fn restore(chunks: &[(u64, Vec<u8>)]) -> ScalableBloom {
        let mut g = ScalableBloom::from_header(&chunks[0].1).unwrap();
        for (it, data) in &chunks[1..] {
            if *it != 0 {
                g.load_chunk(*it, data).unwrap();
            }
        }
        g
    }

    /// T20
    #[test]
    fn dump_restore_transcript() {
        let mut f = ScalableBloom::with_defaults();
        f.add(b"x").unwrap();
        let chunks = dump_all(&f);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].0, 1);
        assert_eq!(chunks[0].1.len(), 80);
        assert_eq!(chunks[1].0, 145);
        assert_eq!(chunks[1].1.len(), 144);
        assert_eq!(chunks[2], (0, vec![]));
        let g = restore(&chunks);
        assert_eq!(g, f);
        assert!(g.exists(b"x"));
        assert!(ScalableBloom::from_header(b"garbage").is_err());
        // the header fields, byte for byte
        let h = &chunks[0].1;
        assert_eq!(&h[..8], b"TFBF\x01\x01\x00\x00");
        assert_eq!(&h[8..16], &0.01f64.to_le_bytes());
        assert_eq!(&h[16..24], &100u64.to_le_bytes());
        assert_eq!(&h[24..32], &[2, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&h[32..40], &0.5f64.to_le_bytes());
        assert_eq!(&h[40..48], &100u64.to_le_bytes());
        assert_eq!(&h[48..56], &1u64.to_le_bytes());
        assert_eq!(&h[56..64], &0.005f64.to_le_bytes());
        assert_eq!(&h[64..72], &[8, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&h[72..80], &1152u64.to_le_bytes());
    }

    #[test]
    fn multi_filter_chunks_and_partial_offsets() {
        let f = grown(0.01, 3, 500);
        assert!(f.filters().len() > 5);
        let chunks = dump_all(&f);
        assert_eq!(chunks.len(), 3); // header, one data chunk (< 16 MiB), end
        assert_eq!(chunks[1].1.len() as u64, f.data_len());
        assert_eq!(restore(&chunks), f);
        // arbitrary split points: scandump from any offset, load in reverse order
        let d = &chunks[1].1;
        let mut g = ScalableBloom::from_header(&chunks[0].1).unwrap();
        let cuts = [
            0usize,
            1,
            7,
            8,
            9,
            63,
            100,
            d.len() / 2,
            d.len() - 1,
            d.len(),
        ];
        for w in cuts.windows(2).rev() {
            let (a, b) = (w[0], w[1]);
            let (next, chunk) = f.scandump(a as u64 + 1);
            assert_eq!(chunk[..], d[a..][..chunk.len()]);
            assert_eq!(next, a as u64 + 1 + chunk.len() as u64);
            g.load_chunk(b as u64 + 1, &d[a..b]).unwrap();
        }
        assert_eq!(g, f);
    }

    #[test]
    fn large_chunks_are_capped() {
        // 1.3 MB filter stays one chunk; the cap itself is exercised with a synthetic large filter.
        let f = ScalableBloom::new(0.01, 13_000_000).unwrap(); // ≈ 17.9 MB
        let t = f.data_len();
        assert!(t > CHUNK_MAX_LEN);
        let (it, c1) = f.scandump(1);
        assert_eq!(c1.len() as u64, CHUNK_MAX_LEN);
        assert_eq!(it, 1 + CHUNK_MAX_LEN);
        let (it2, c2) = f.scandump(it);
        assert_eq!(c2.len() as u64, t - CHUNK_MAX_LEN);
        assert_eq!(it2, 1 + t);
        assert_eq!(f.scandump(it2), (0, vec![]));
        assert_eq!(f.scandump(u64::MAX), (0, vec![]));
    }

    #[test]
    fn chunk_range_checks() {
        let mut f = grown(0.01, 100, 10);
        let t = f.data_len();
        assert_eq!(t, 144);
        let before = f.clone();
        // before the start
        assert!(f.load_chunk(3, &[0xff; 3]).is_err());
        assert!(f.load_chunk(0, &[]).is_err());
        assert!(f.load_chunk(1, &[1]).is_err());
        // past the end
        assert!(f.load_chunk(t + 2, &[0xff]).is_err());
        assert!(f.load_chunk(u64::MAX, &[0xff]).is_err());
        assert!(f.load_chunk(t + 2, &[]).is_err());
        assert_eq!(f, before);
        // exactly the end and an empty chunk are fine
        assert!(f.load_chunk(t + 1, &[0xff]).is_ok());
        assert!(f.load_chunk(t + 1, &[]).is_ok());
        assert_eq!(f.filters()[0].bit_array().to_vec()[143], 0xff);
    }

    #[test]
    fn header_checks_reject_each_field() {
        let f = grown(0.01, 100, 150);
        let h = f.header();
        assert_eq!(h.len(), 120);
        assert!(ScalableBloom::from_header(&h).is_ok());
        // (offset, new bytes): every one must be refused
        let bad: Vec<(usize, Vec<u8>)> = vec![
            (0, b"XFBF".to_vec()),
            (4, vec![2]),
            (5, vec![2]),
            (6, vec![1]),
            (8, 0.0f64.to_le_bytes().to_vec()),
            (8, 1.0f64.to_le_bytes().to_vec()),
            (8, f64::NAN.to_le_bytes().to_vec()),
            (8, 0.02f64.to_le_bytes().to_vec()),
            (16, 0u64.to_le_bytes().to_vec()),
            (16, 101u64.to_le_bytes().to_vec()),
            (24, 3u32.to_le_bytes().to_vec()),
            (28, 0u32.to_le_bytes().to_vec()),
            (28, 1u32.to_le_bytes().to_vec()),
            (28, 3u32.to_le_bytes().to_vec()),
            (28, u32::MAX.to_le_bytes().to_vec()),
            (32, 0.25f64.to_le_bytes().to_vec()),
            (40, 99u64.to_le_bytes().to_vec()),
            (48, 99u64.to_le_bytes().to_vec()), // older filter not full
            (56, 0.004f64.to_le_bytes().to_vec()),
            (64, 0u32.to_le_bytes().to_vec()),
            (64, 10u32.to_le_bytes().to_vec()),
            (64, u32::MAX.to_le_bytes().to_vec()),
            (68, 1u32.to_le_bytes().to_vec()),
            (72, 1024u64.to_le_bytes().to_vec()),
            (72, 1151u64.to_le_bytes().to_vec()),
            (72, 0u64.to_le_bytes().to_vec()),
            (72, (1u64 << 40).to_le_bytes().to_vec()),
            (88, 201u64.to_le_bytes().to_vec()), // items > n
            (80, 400u64.to_le_bytes().to_vec()),
        ];
        for (off, bytes) in bad {
            let mut x = h.clone();
            x[off..off + bytes.len()].copy_from_slice(&bytes);
            assert!(
                ScalableBloom::from_header(&x).is_err(),
                "accepted a header with {bytes:?} at {off}"
            );
        }
        // lengths
        for len in 0..h.len() {
            assert!(ScalableBloom::from_header(&h[..len]).is_err());
        }
        let mut long = h.clone();
        long.push(0);
        assert!(ScalableBloom::from_header(&long).is_err());
        // tolerated: k ± 1 with its own m (k=9 at p_0 = 0.005)
        let mut x = h.clone();
        x[64..68].copy_from_slice(&9u32.to_le_bytes());
        let m9 = sizing::bits_for(100, 0.005, 9.0).unwrap();
        x[72..80].copy_from_slice(&m9.to_le_bytes());
        assert!(ScalableBloom::from_header(&x).is_ok());
        x[72..80].copy_from_slice(&(m9 + 64).to_le_bytes());
        assert!(ScalableBloom::from_header(&x).is_ok());
        x[72..80].copy_from_slice(&(m9 + 128).to_le_bytes());
        assert!(ScalableBloom::from_header(&x).is_err());
    }

    /// A forged header claiming more than 512 MiB is refused before anything is allocated.
    #[test]
    fn header_over_the_size_limit() {
        // A legal-looking single filter of c = 400M at 0.01: about 480 MiB alone is fine...
        let c = 380_000_000u64;
        let s0 = sizing::shape(0.01, c, 0).unwrap();
        assert!(s0.bytes() <= SIZE_LIMIT_BYTES);
        // ...but two of them (sub-filter 1 is twice as large) are not.
        let s1 = sizing::shape(0.01, c, 1);
        let mut h = Vec::new();
        h.extend_from_slice(b"TFBF\x01\x01\x00\x00");
        h.extend_from_slice(&0.01f64.to_le_bytes());
        h.extend_from_slice(&c.to_le_bytes());
        h.extend_from_slice(&2u32.to_le_bytes());
        h.extend_from_slice(&2u32.to_le_bytes());
        h.extend_from_slice(&0.5f64.to_le_bytes());
        for (i, s) in [(0u64, s0), (1, s1.unwrap_or(s0))] {
            h.extend_from_slice(&(c << i).to_le_bytes());
            h.extend_from_slice(&(if i == 0 { c } else { 0 }).to_le_bytes());
            h.extend_from_slice(&s.error_rate.to_le_bytes());
            h.extend_from_slice(&s.hashes.to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes());
            h.extend_from_slice(&s.bits.to_le_bytes());
        }
        assert!(ScalableBloom::from_header(&h).is_err());
    }

    #[test]
    fn rdb_round_trip_and_errors() {
        let f = grown(0.001, 10, 1000);
        let mut buf = Vec::new();
        f.rdb_save(&mut buf);
        let g = ScalableBloom::rdb_load(&mut SliceSource::new(&buf), 1).unwrap();
        assert_eq!(g, f);
        let mut again = Vec::new();
        g.rdb_save(&mut again);
        assert_eq!(again, buf);
        assert_eq!(
            ScalableBloom::rdb_load(&mut SliceSource::new(&buf), 2),
            Err(LoadError::UnknownEncoding(2))
        );
        assert_eq!(
            ScalableBloom::rdb_load(&mut SliceSource::new(&buf), 0),
            Err(LoadError::UnknownEncoding(0))
        );
        for cut in 0..buf.len() {
            assert!(ScalableBloom::rdb_load(&mut SliceSource::new(&buf[..cut]), 1).is_err());
        }
        // a bit array of the wrong length (shorter, with the outer framing intact)
        let mut short = Vec::new();
        short.put_bytes(&f.header());
        for (i, sf) in f.filters().iter().enumerate() {
            let b = &sf.bit_array().to_vec();
            short.put_bytes(if i == 2 { &b[..b.len() - 8] } else { b });
        }
        assert_eq!(
            ScalableBloom::rdb_load(&mut SliceSource::new(&short), 1),
            Err(LoadError::Invalid("bit array length"))
        );
        // a length field claiming more than remains
        let mut lying = buf.clone();
        lying[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            ScalableBloom::rdb_load(&mut SliceSource::new(&lying), 1),
            Err(LoadError::Source)
        );
    }

    #[test]
    fn digest_is_header_then_bits() {
        let f = grown(0.01, 100, 150);
        let mut seq = Vec::new();
        f.digest_parts(|p| seq.extend_from_slice(p));
        let chunks = dump_all(&f);
        assert_eq!(seq, [chunks[0].1.clone(), chunks[1].1.clone()].concat());
    }
}
