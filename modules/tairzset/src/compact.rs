//! `CompactZset`: the compact encoding of a small tairzset value, like a listpack: one allocation holding
//! every member and score, sorted by (score tuple, member bytes) (§2.3). Operations walk it linearly,
//! which for a few dozen members is cheaper than hashing and a tree, and costs a few bytes per member.
//!
//! Layout: `dims` (u8, never 0: a big value starts with a 0 byte, see `zset.rs`) · member count (u16 LE)
//! · total length in bytes (u16 LE, so the buffer is found from a thin pointer) · entries. An entry is the score, each dimension in
//! 1–9 bytes (below), then the member length (1 byte below 128, else 2 bytes: `0x80 | len >> 8`,
//! `len & 0xff`) and the member bytes. A dimension is one tag byte and its payload:
//! - `0x00..=0xEF`: the integer equal to the tag (no payload);
//! - `0xF0` i8, `0xF1` i16, `0xF2` i32 (little-endian) for other integers that fit (never -0);
//! - `0xF3` an f32 whose widening is the exact value (halves, ±inf, -0, ...);
//! - `0xF4` the f64 bits.
//!
//! Every encoding decodes to the exact f64 bits it was made from, so replies, persistence and digests
//! see the same values as with the big encoding. The buffer is only ever written by this file; a walk
//! that meets anything unexpected stops instead of panicking.

use std::cmp::Ordering;
use std::ptr::NonNull;

use smallvec::SmallVec;

use crate::error::ZsetError;
use crate::score::{self, ScoreTuple};
use crate::table::Member;
use crate::zset::{AddCondition, AddOutcome, Popped};

/// A decoded score.
pub type ScoreBuf = SmallVec<[f64; 4]>;

const HEADER: usize = 5;
/// Most bytes a compact value may take (its length is a 16-bit header field).
pub const MAX_BYTES: usize = u16::MAX as usize;
/// Longest member the layout can hold (15-bit length).
pub const MAX_MEMBER: usize = 0x7FFF;
/// Most members the layout can hold (16-bit count).
pub const MAX_COUNT: usize = u16::MAX as usize;
/// MEMORY USAGE of a compact value: this plus the buffer's length.
pub const MEM_BASE: usize = 16;

const SMALL_MAX: u8 = 0xEF;
const T_I8: u8 = 0xF0;
const T_I16: u8 = 0xF1;
const T_I32: u8 = 0xF2;
const T_F32: u8 = 0xF3;
const T_F64: u8 = 0xF4;

/// Appends the encoding of one dimension.
fn encode_dim(v: f64, out: &mut SmallVec<[u8; 64]>) {
    // Saturating cast; the bit comparison rejects everything but exact integers (and -0).
    let i = v as i32;
    if f64::from(i).to_bits() == v.to_bits() {
        if (0..=i32::from(SMALL_MAX)).contains(&i) {
            out.push(i as u8);
        } else if let Ok(b) = i8::try_from(i) {
            out.push(T_I8);
            out.extend_from_slice(&b.to_le_bytes());
        } else if let Ok(b) = i16::try_from(i) {
            out.push(T_I16);
            out.extend_from_slice(&b.to_le_bytes());
        } else {
            out.push(T_I32);
            out.extend_from_slice(&i.to_le_bytes());
        }
        return;
    }
    let f = v as f32;
    if f64::from(f).to_bits() == v.to_bits() {
        out.push(T_F32);
        out.extend_from_slice(&f.to_le_bytes());
    } else {
        out.push(T_F64);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Bytes taken by the dimension whose tag is `tag` (0 for a tag never written).
fn dim_len(tag: u8) -> usize {
    match tag {
        0..=SMALL_MAX => 1,
        T_I8 => 2,
        T_I16 => 3,
        T_I32 | T_F32 => 5,
        T_F64 => 9,
        _ => 0,
    }
}

fn arr<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    b.get(1..1 + N)?.try_into().ok()
}

/// The dimension at the start of `b` and its length.
fn decode_dim(b: &[u8]) -> Option<(f64, usize)> {
    let tag = *b.first()?;
    let v = match tag {
        0..=SMALL_MAX => return Some((f64::from(tag), 1)),
        T_I8 => f64::from(i8::from_le_bytes(arr(b)?)),
        T_I16 => f64::from(i16::from_le_bytes(arr(b)?)),
        T_I32 => f64::from(i32::from_le_bytes(arr(b)?)),
        T_F32 => f64::from(f32::from_le_bytes(arr(b)?)),
        T_F64 => f64::from_le_bytes(arr(b)?),
        _ => return None,
    };
    Some((v, dim_len(tag)))
}

/// Decodes an encoded score into `out` (cleared first).
fn decode_score(mut enc: &[u8], out: &mut ScoreBuf) {
    out.clear();
    while let Some((v, n)) = decode_dim(enc) {
        out.push(v);
        enc = enc.get(n..).unwrap_or(&[]);
    }
}

fn decoded(enc: &[u8]) -> ScoreBuf {
    let mut s = ScoreBuf::new();
    decode_score(enc, &mut s);
    s
}

/// [`score::compare`] of an encoded score with a decoded one (the first min(widths) dimensions),
/// decoding only as far as needed.
fn cmp_encoded(mut enc: &[u8], other: &[f64]) -> Ordering {
    for y in other {
        let Some((x, n)) = decode_dim(enc) else {
            break;
        };
        if x < *y {
            return Ordering::Less;
        }
        if x > *y {
            return Ordering::Greater;
        }
        enc = enc.get(n..).unwrap_or(&[]);
    }
    Ordering::Equal
}

/// One entry of the buffer: its byte range, encoded score and member.
#[derive(Clone, Copy, Debug)]
struct Raw<'a> {
    start: usize,
    end: usize,
    score: &'a [u8],
    member: &'a [u8],
}

/// Parses the entry starting at `pos`.
fn entry_at(buf: &[u8], pos: usize, dims: usize) -> Option<Raw<'_>> {
    let mut p = pos;
    for _ in 0..dims {
        let n = dim_len(*buf.get(p)?);
        if n == 0 {
            return None;
        }
        p += n;
    }
    let score = buf.get(pos..p)?;
    let b0 = *buf.get(p)?;
    let len = if b0 < 0x80 {
        p += 1;
        usize::from(b0)
    } else {
        let b1 = *buf.get(p + 1)?;
        p += 2;
        (usize::from(b0 & 0x7F) << 8) | usize::from(b1)
    };
    let member = buf.get(p..p + len)?;
    Some(Raw {
        start: pos,
        end: p + len,
        score,
        member,
    })
}

/// Walks `left` entries from byte `pos`.
#[derive(Clone, Debug)]
struct RawIter<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
    dims: usize,
}

impl<'a> Iterator for RawIter<'a> {
    type Item = Raw<'a>;

    fn next(&mut self) -> Option<Raw<'a>> {
        if self.left == 0 {
            return None;
        }
        let Some(e) = entry_at(self.buf, self.pos, self.dims) else {
            self.left = 0;
            return None;
        };
        self.pos = e.end;
        self.left -= 1;
        Some(e)
    }
}

/// Appends one encoded entry.
fn encode_entry(member: &[u8], score: &[f64], out: &mut SmallVec<[u8; 64]>) {
    for &v in score {
        encode_dim(v, out);
    }
    let len = member.len().min(MAX_MEMBER);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        out.push(0x80 | (len >> 8) as u8);
        out.push((len & 0xFF) as u8);
    }
    out.extend_from_slice(member.get(..len).unwrap_or(member));
}

/// A header with the count and length still to set ([`set_count`]).
fn header(dims: usize) -> [u8; HEADER] {
    [u8::try_from(dims).unwrap_or(u8::MAX), 0, 0, 0, 0]
}

fn set_count(buf: &mut [u8], count: usize) {
    let c = u16::try_from(count).unwrap_or(u16::MAX).to_le_bytes();
    let l = u16::try_from(buf.len()).unwrap_or(u16::MAX).to_le_bytes();
    if let Some(h) = buf.get_mut(1..HEADER) {
        h.copy_from_slice(&[c[0], c[1], l[0], l[1]]);
    }
}

/// The length recorded in the header of a buffer given up by [`CompactZset::into_thin`].
///
/// # Safety
/// `ptr` came from `into_thin` and is live.
unsafe fn thin_len(ptr: NonNull<u8>) -> usize {
    // SAFETY: a live buffer of at least HEADER bytes (`into_thin` guarantees it); bytes 3 and 4 are
    // the length.
    let (lo, hi) = unsafe { (ptr.as_ptr().add(3).read(), ptr.as_ptr().add(4).read()) };
    usize::from(u16::from_le_bytes([lo, hi]))
}

/// The value behind a thin pointer, read in place.
///
/// # Safety
/// `ptr` came from [`CompactZset::into_thin`] and stays live and unchanged for `'a`.
pub unsafe fn view_thin<'a>(ptr: NonNull<u8>) -> CompactRef<'a> {
    // SAFETY: the caller's contract; the header's length is the buffer's (see `thin_len`).
    unsafe {
        CompactRef {
            buf: std::slice::from_raw_parts(ptr.as_ptr(), thin_len(ptr)),
        }
    }
}

/// A compact value seen in place (the buffer of a [`CompactZset`]): every read.
#[derive(Clone, Copy, Debug)]
pub struct CompactRef<'a> {
    buf: &'a [u8],
}

impl<'a> CompactRef<'a> {
    /// An owned copy (COPY, RESTORE of a copy).
    pub fn to_owned_set(&self) -> CompactZset {
        CompactZset {
            buf: self.buf.into(),
        }
    }

    pub fn dims(&self) -> usize {
        self.buf.first().map_or(0, |d| usize::from(*d))
    }

    pub fn len(&self) -> usize {
        match self.buf.get(1..3) {
            Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The total length the header records.
    pub fn byte_len(&self) -> usize {
        match self.buf.get(3..HEADER) {
            Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
            _ => 0,
        }
    }

    /// Bytes an entry of this member would take at most (room checks before an insertion).
    pub fn entry_bound(&self, member_len: usize) -> usize {
        member_len + 2 + 9 * self.dims()
    }

    fn raw(&self) -> RawIter<'a> {
        RawIter {
            buf: self.buf,
            pos: HEADER,
            left: self.len(),
            dims: self.dims(),
        }
    }

    fn find(&self, member: &[u8]) -> Option<(usize, Raw<'a>)> {
        self.raw().enumerate().find(|(_, e)| e.member == member)
    }

    /// The score of a member (EXZSCORE). O(N).
    pub fn score(&self, member: &[u8]) -> Option<ScoreBuf> {
        self.find(member).map(|(_, e)| decoded(e.score))
    }

    /// 0-based ascending rank. O(N).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        self.find(member).map(|(r, _)| r)
    }

    /// Member and score at an ascending rank. O(N).
    pub fn get_by_rank(&self, rank: usize) -> Option<(&'a [u8], ScoreBuf)> {
        self.raw().nth(rank).map(|e| (e.member, decoded(e.score)))
    }

    /// The number of leading entries for which `pred(member, score)` holds (`pred` is monotone along
    /// the order: true, then false). O(N).
    pub fn partition_point(&self, mut pred: impl FnMut(&[u8], &[f64]) -> bool) -> usize {
        let mut s = ScoreBuf::new();
        let mut n = 0;
        for e in self.raw() {
            decode_score(e.score, &mut s);
            if !pred(e.member, &s) {
                break;
            }
            n += 1;
        }
        n
    }

    /// Byte offset of the entry at `rank` (the end of the entries when `rank >= len`).
    fn offset_of(&self, rank: usize) -> usize {
        let mut pos = HEADER;
        for (i, e) in self.raw().enumerate() {
            if i == rank {
                return e.start;
            }
            pos = e.end;
        }
        pos
    }

    /// Members and scores of ranks `start..end`, backwards when `reverse`.
    pub fn iter_range(&self, start: usize, end: usize, reverse: bool) -> Iter<'a> {
        let end = end.min(self.len());
        let n = end.saturating_sub(start);
        let mut raw = self.raw();
        raw.left = 0;
        let mut back = SmallVec::new();
        if n > 0 {
            let mut from = self.raw();
            from.pos = self.offset_of(start);
            from.left = n;
            if reverse {
                back = from.map(|e| e.start as u32).collect();
            } else {
                raw = from;
            }
        }
        Iter { raw, back }
    }

    /// MEMORY USAGE: the buffer plus a fixed part for the key's value record.
    pub fn mem_usage(&self) -> usize {
        MEM_BASE + self.buf.len()
    }

    /// Bytes allocated.
    pub fn heap_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The longest member's length.
    pub fn max_member_len(&self) -> usize {
        self.raw().map(|e| e.member.len()).max().unwrap_or(0)
    }

    /// All entries ascending, as owned scores (conversion to the big encoding).
    pub fn entries(&self) -> Iter<'a> {
        self.iter_range(0, self.len(), false)
    }

    /// Verifies the layout: every entry parses, the count matches, the buffer ends with the last entry,
    /// the order is strictly ascending, scores have N dimensions without NaN and members are unique.
    pub fn check(&self) -> Result<(), String> {
        let dims = self.dims();
        if !(1..=score::MAX_DIMS).contains(&dims) {
            return Err(format!("compact: {dims} dimensions"));
        }
        let mut n = 0;
        let mut end = HEADER;
        let mut prev: Option<(ScoreBuf, &[u8])> = None;
        let mut seen = std::collections::HashSet::new();
        for e in self.raw() {
            let s = decoded(e.score);
            if s.len() != dims || s.iter().any(|v| v.is_nan()) {
                return Err(format!("compact: bad score at entry {n}"));
            }
            if let Some((ps, pm)) = &prev {
                if score::compare(ps, &s).then_with(|| pm.cmp(&e.member)) != Ordering::Less {
                    return Err(format!("compact: order broken at entry {n}"));
                }
            }
            if !seen.insert(e.member) {
                return Err(format!("compact: duplicate member at entry {n}"));
            }
            prev = Some((s, e.member));
            end = e.end;
            n += 1;
        }
        if self.byte_len() != self.buf.len() {
            return Err(format!(
                "compact: header length {} of {} bytes",
                self.byte_len(),
                self.buf.len()
            ));
        }
        if n != self.len() || end != self.buf.len() {
            return Err(format!(
                "compact: {n} entries parsed of {}, {end} of {} bytes",
                self.len(),
                self.buf.len()
            ));
        }
        Ok(())
    }
}

/// A small tairzset value in one allocation (see the module docs).
#[derive(Clone, Debug)]
pub struct CompactZset {
    buf: Box<[u8]>,
}

impl CompactZset {
    /// An empty set; `dims` is 1..=255 (checked by the caller).
    pub fn new(dims: usize) -> Self {
        let mut v = header(dims).to_vec();
        set_count(&mut v, 0);
        CompactZset {
            buf: v.into_boxed_slice(),
        }
    }

    /// Builds from entries already in ascending order, unique, within the layout's limits (the
    /// caller checked `count <= MAX_COUNT` and member lengths).
    /// `None` when the encoding would pass [`MAX_BYTES`].
    pub fn from_sorted<'a>(
        dims: usize,
        entries: impl Iterator<Item = (&'a [u8], &'a [f64])>,
    ) -> Option<Self> {
        // Encoded on the stack while small, then copied into one exact allocation.
        let mut v: SmallVec<[u8; 512]> = SmallVec::from_slice(&header(dims));
        let mut count = 0;
        for (m, s) in entries {
            let mut e: SmallVec<[u8; 64]> = SmallVec::new();
            encode_entry(m, s, &mut e);
            v.extend_from_slice(&e);
            count += 1;
        }
        if v.len() > MAX_BYTES {
            return None;
        }
        set_count(&mut v, count);
        Some(CompactZset {
            buf: Box::from(&v[..]),
        })
    }

    /// A set of one member in a single exact allocation (a new key: no header-only allocation first).
    /// The caller checked `dims`, the score's width, NaN and the member's length.
    pub fn with_first(dims: usize, member: &[u8], score: &[f64]) -> Self {
        let mut e: SmallVec<[u8; 64]> = SmallVec::new();
        encode_entry(member, score, &mut e);
        let mut v = Vec::with_capacity(HEADER + e.len());
        v.extend_from_slice(&header(dims));
        v.extend_from_slice(&e);
        set_count(&mut v, 1);
        CompactZset {
            buf: v.into_boxed_slice(),
        }
    }

    /// Gives the buffer up as a thin pointer to its first byte (the header records the length). A
    /// buffer that is not a whole value (only reachable if a mutation was cut short by a panic) is
    /// replaced by an empty set first, so the pointer always leads to a valid header.
    pub fn into_thin(self) -> NonNull<u8> {
        let ok = self.buf.len() >= HEADER
            && self.buf.len() <= MAX_BYTES
            && self.view().byte_len() == self.buf.len()
            && self.view().dims() > 0;
        let buf = if ok {
            self.buf
        } else {
            CompactZset::new(1).buf
        };
        NonNull::from(Box::leak(buf)).cast::<u8>()
    }

    /// Takes back a buffer given up by [`CompactZset::into_thin`].
    ///
    /// # Safety
    /// `ptr` came from `into_thin` and nothing else uses or frees it afterwards.
    pub unsafe fn from_thin(ptr: NonNull<u8>) -> Self {
        // SAFETY: the caller's contract: a live buffer from `into_thin`, owned from here on; its header
        // holds its exact length (checked by `into_thin`), so the slice is the boxed slice leaked.
        unsafe {
            let len = thin_len(ptr);
            CompactZset {
                buf: Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr.as_ptr(), len)),
            }
        }
    }

    /// The read-only view of this value.
    pub fn view(&self) -> CompactRef<'_> {
        CompactRef { buf: &self.buf }
    }

    pub fn dims(&self) -> usize {
        self.view().dims()
    }

    pub fn len(&self) -> usize {
        self.view().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn find(&self, member: &[u8]) -> Option<(usize, Raw<'_>)> {
        self.view().find(member)
    }

    fn raw(&self) -> RawIter<'_> {
        self.view().raw()
    }

    fn offset_of(&self, rank: usize) -> usize {
        self.view().offset_of(rank)
    }

    /// Replaces the buffer with `v` (entries edited in it) and its new count.
    fn store(&mut self, mut v: Vec<u8>, count: usize) {
        set_count(&mut v, count);
        self.buf = v.into_boxed_slice();
    }

    /// One EXZADD pair on the compact form; the caller checked width and NaN and that an insertion
    /// stays within the layout's limits. Same outcomes as the big encoding's `add`.
    pub fn add(
        &mut self,
        member: &[u8],
        score: &[f64],
        cond: AddCondition,
        incr: bool,
    ) -> Result<AddOutcome, ZsetError> {
        let dims = self.dims();
        let found = self
            .find(member)
            .map(|(_, e)| (e.start, e.end, decoded(e.score)));
        let (new, removed): (ScoreBuf, Option<(usize, usize)>) = match found {
            None => {
                if cond == AddCondition::IfPresent {
                    return Ok(AddOutcome::Skipped);
                }
                if self.len() >= MAX_COUNT || member.len() > MAX_MEMBER {
                    return Err(ZsetError::TooManyMembers);
                }
                // INCR on an absent member starts from the all-zero tuple: 0 + (-0) is 0.
                let s = score
                    .iter()
                    .map(|v| if incr { 0.0 + v } else { *v })
                    .collect();
                (s, None)
            }
            Some((start, end, cur)) => {
                if cond == AddCondition::IfAbsent {
                    return Ok(AddOutcome::Skipped);
                }
                let s: ScoreBuf = if incr {
                    if cur.iter().zip(score).any(|(a, b)| (a + b).is_nan()) {
                        return Err(ZsetError::ScoreNaN);
                    }
                    if !cur.iter().zip(score).any(|(a, b)| a + b != *a) {
                        return Ok(AddOutcome::Unchanged);
                    }
                    cur.iter().zip(score).map(|(a, b)| a + b).collect()
                } else {
                    if score::equal(&cur, score) {
                        return Ok(AddOutcome::Unchanged);
                    }
                    score.into()
                };
                (s, Some((start, end)))
            }
        };
        let mut entry: SmallVec<[u8; 64]> = SmallVec::new();
        encode_entry(member, &new, &mut entry);
        let freed = removed.map_or(0, |(start, end)| end - start);
        if self.buf.len() - freed + entry.len() > MAX_BYTES {
            return Err(ZsetError::TooManyMembers);
        }
        let mut count = self.len();
        let mut v = std::mem::take(&mut self.buf).into_vec();
        if let Some((start, end)) = removed {
            v.drain(start..end);
            count -= 1;
        }
        let pos = RawIter {
            buf: &v,
            pos: HEADER,
            left: count,
            dims,
        }
        .find(|e| {
            cmp_encoded(e.score, &new).then_with(|| e.member.cmp(member)) == Ordering::Greater
        })
        .map_or_else(
            || {
                RawIter {
                    buf: &v,
                    pos: HEADER,
                    left: count,
                    dims,
                }
                .last()
                .map_or(HEADER, |e| e.end)
            },
            |e| e.start,
        );
        v.reserve_exact(entry.len());
        v.splice(pos..pos, entry.iter().copied());
        self.store(v, count + 1);
        Ok(if removed.is_some() {
            AddOutcome::Updated
        } else {
            AddOutcome::Added
        })
    }

    /// Removes a member (EXZREM). O(N).
    pub fn remove(&mut self, member: &[u8]) -> bool {
        let Some((_, e)) = self.find(member) else {
            return false;
        };
        let (start, end) = (e.start, e.end);
        let count = self.len() - 1;
        let mut v = std::mem::take(&mut self.buf).into_vec();
        v.drain(start..end);
        self.store(v, count);
        true
    }

    /// Removes the entries of ranks `start..end`; returns how many. O(N).
    pub fn remove_span(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        let n = end.saturating_sub(start);
        if n == 0 {
            return 0;
        }
        let (a, b) = (self.offset_of(start), self.offset_of(end));
        let count = self.len() - n;
        let mut v = std::mem::take(&mut self.buf).into_vec();
        v.drain(a..b.max(a));
        self.store(v, count);
        n
    }

    /// Removes and returns up to `count` lowest (`max` = false) or highest members, in that order.
    pub fn pop(&mut self, count: usize, max: bool) -> Vec<Popped> {
        let len = self.len();
        let n = count.min(len);
        if n == 0 {
            return Vec::new();
        }
        let (first, last) = if max { (len - n, len) } else { (0, n) };
        let mut out: Vec<Popped> = self
            .raw()
            .skip(first)
            .take(n)
            .filter_map(|e| {
                let s = ScoreTuple::from_slice(&decoded(e.score))?;
                Some((Member::from_slice(e.member), s))
            })
            .collect();
        if max {
            out.reverse();
        }
        self.remove_span(first, last);
        out
    }
}

/// Iterator of `(member, score)` over a rank range of a [`CompactZset`].
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    raw: RawIter<'a>,
    /// Entry offsets still to visit when walking backwards (popped from the end).
    back: SmallVec<[u32; 16]>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], ScoreBuf);

    fn next(&mut self) -> Option<Self::Item> {
        let e = if self.raw.left > 0 {
            self.raw.next()?
        } else {
            let at = self.back.pop()?;
            entry_at(self.raw.buf, at as usize, self.raw.dims)?
        };
        Some((e.member, decoded(e.score)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.raw.left + self.back.len();
        (n, Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_round_trips_bit_exactly() {
        let values = [
            0.0,
            -0.0,
            1.0,
            239.0,
            240.0,
            -1.0,
            -128.0,
            127.5,
            -129.0,
            32767.0,
            -32769.0,
            1_703_000_000.0,
            -1_703_000_000.0,
            2_147_483_648.0,
            0.5,
            0.1,
            1e20,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
        ];
        for v in values {
            let mut out = SmallVec::new();
            encode_dim(v, &mut out);
            assert_eq!(dim_len(out[0]), out.len(), "{v}");
            let (back, n) = decode_dim(&out).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v}");
            assert_eq!(n, out.len());
        }
        let mut out = SmallVec::new();
        encode_dim(7.0, &mut out);
        assert_eq!(out.len(), 1);
        for (v, len) in [(-5.0, 2), (1000.0, 3), (1e9, 5), (0.25, 5), (0.1, 9)] {
            let mut out = SmallVec::new();
            encode_dim(v, &mut out);
            assert_eq!(out.len(), len, "{v}");
        }
    }

    #[test]
    fn long_member_lengths_and_corrupt_buffers() {
        let long = vec![b'x'; 300];
        let mut z = CompactZset::new(1);
        z.add(&long, &[1.0], AddCondition::Always, false).unwrap();
        z.add(b"a", &[2.0], AddCondition::Always, false).unwrap();
        z.view().check().unwrap();
        assert_eq!(z.view().get_by_rank(0).unwrap().0, &long[..]);
        assert_eq!(z.view().max_member_len(), 300);
        // A buffer cut anywhere, or with a bad tag, walks to an error, never a panic.
        for cut in 0..z.buf.len() {
            let c = CompactRef { buf: &z.buf[..cut] };
            assert!(c.check().is_err());
            let _ = c.score(b"a");
            let _: Vec<_> = c.iter_range(0, 2, true).collect();
        }
        let mut bad = z.clone();
        bad.buf[HEADER] = 0xFF;
        assert!(bad.view().check().is_err());
        assert!(bad.view().score(b"a").is_none());
        // A thin pointer round trip keeps the buffer; a broken buffer comes back as an empty set.
        let p = z.clone().into_thin();
        // SAFETY: from into_thin just above, used once.
        let back = unsafe { CompactZset::from_thin(p) };
        assert_eq!(back.buf, z.buf);
        let p = CompactZset {
            buf: z.buf[..4].into(),
        }
        .into_thin();
        // SAFETY: as above.
        let back = unsafe { CompactZset::from_thin(p) };
        assert!(back.is_empty());
        back.view().check().unwrap();
    }
}
