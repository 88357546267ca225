//! The compact encoding of a small tairhash value: every field in ONE allocation, like a native
//! listpack, while the value has at most `compact-max-entries` fields and no name or value longer than
//! `compact-max-value` bytes ([`Thresholds`]). [`crate::TairHash`] converts it once to the field table
//! when a write passes either threshold; it never converts back.
//!
//! Layout of the block (one allocation, the value's only one; `TairHash` is a thin pointer to it):
//!
//! ```text
//! tag       u8              TAG_COMPACT (a big value's block starts with TAG_BIG)
//! length    LEB128          bytes of what follows (the content)
//! header    LEB128          count << 2 | STAMPED << 1 | EXPIRING
//!                           (count: fields stored, expired ones included; EXPIRING: some field may
//!                           have an expiry; STAMPED: the value is registered for active expiry)
//! stamp     u40 LE          when STAMPED: the registry bucket the value is registered under
//! base      u48 LE          when EXPIRING: the base time (ms) of the fields' expiries
//! per field, in insertion order:
//!   flags     u8            EXPIRY = 1, DUE = 2 (DUE implies EXPIRY), as in `field`; WIDE = 4
//!   name len  LEB128
//!   value len LEB128
//!   version   LEB128
//!   expiry    i24 LE        when EXPIRY and not WIDE: expiry - base (within +-2^23 ms, 2.3 hours)
//!             u64 LE        when EXPIRY and WIDE: absolute Unix ms
//!   due       u64 LE        when DUE: the due time, only stored when it differs from the expiry
//!   name bytes, value bytes
//! ```
//!
//! The base is the expiry of the field that set EXPIRING (at most 2^48 - 1); it stays while the bit
//! does (an entry is WIDE when its expiry is too far from it). The stamp and the base have fixed
//! widths, so finding the first entry costs no decoding.
//!
//! A field of a 5-byte name and a 16-byte value costs 25 bytes (a listpack entry pair: 25), one with
//! an expiry 28 (33 when WIDE). Lookups walk the entries (at most `compact-max-entries`); a write rebuilds the buffer
//! in one exact allocation, or rewrites the entry in place when its encoded size is unchanged (an
//! overwrite with a value of the same length). Decoding is safe Rust over the content slice: a step
//! that would leave it (unreachable: only this file writes it) ends the walk. The `unsafe` of the file
//! is the block's allocation, its slice and its pointer casts (each with a SAFETY comment).

use std::alloc::{alloc_zeroed, dealloc, handle_alloc_error, Layout};
use std::ops::Range;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::field::Expiry;

const FLAG_EXPIRY: u8 = 1;
const FLAG_DUE: u8 = 2;
const FLAG_WIDE: u8 = 4;

/// The range of an expiry stored as a 3-byte delta from the base.
const DELTA_MIN: i64 = -(1 << 23);
const DELTA_MAX: i64 = (1 << 23) - 1;

/// Bytes of an entry's times, by its flags (EXPIRY, DUE, WIDE).
const TIMES_LEN: [usize; 8] = [0, 3, 8, 11, 0, 8, 8, 16];

fn times_len(flags: u8) -> usize {
    TIMES_LEN.get(usize::from(flags & 7)).copied().unwrap_or(0)
}

/// `at - base` when it fits the 3-byte delta (modulo 2^64, as decoding adds it back).
fn delta(at: u64, base: u64) -> Option<i32> {
    let d = at.wrapping_sub(base) as i64;
    if (DELTA_MIN..=DELTA_MAX).contains(&d) {
        Some(d as i32)
    } else {
        None
    }
}

/// The header word: `count << 2 | STAMPED << 1 | EXPIRING`.
fn head_word(count: usize, stamped: bool, expiring: bool) -> u64 {
    ((count as u64) << 2) | (u64::from(stamped) << 1) | u64::from(expiring)
}

/// Bytes of the stamp and of the base.
const STAMP_LEN: usize = 5;
const BASE_LEN: usize = 6;
/// The largest stamp (`registry::bucket_of` never exceeds it).
pub(crate) const MAX_STAMP: u64 = (1 << 40) - 1;
/// The largest base.
const MAX_BASE: u64 = (1 << 48) - 1;

/// Bytes of the header, the stamp and the base.
fn head_len(count: usize, stamp: Option<u64>, base: Option<u64>) -> usize {
    varint_len(head_word(count, stamp.is_some(), base.is_some()))
        + if stamp.is_some() { STAMP_LEN } else { 0 }
        + if base.is_some() { BASE_LEN } else { 0 }
}

/// Reads the 5-byte stamp at `pos`.
fn get_u40(buf: &[u8], pos: usize) -> Option<u64> {
    let b: [u8; STAMP_LEN] = buf.get(pos..pos.checked_add(STAMP_LEN)?)?.try_into().ok()?;
    Some(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], 0, 0, 0]))
}

/// Reads the 6-byte base at `pos`.
fn get_u48(buf: &[u8], pos: usize) -> Option<u64> {
    let b: [u8; BASE_LEN] = buf.get(pos..pos.checked_add(BASE_LEN)?)?.try_into().ok()?;
    Some(u64::from_le_bytes([
        b[0], b[1], b[2], b[3], b[4], b[5], 0, 0,
    ]))
}

/// Default of `tairhash.compact-max-entries` (chosen by measurement, README-encoding.md).
pub const DEFAULT_MAX_ENTRIES: usize = 64;
/// Default of `tairhash.compact-max-value`.
pub const DEFAULT_MAX_VALUE: usize = 64;

static MAX_ENTRIES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_ENTRIES);
static MAX_VALUE: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_VALUE);

/// The conversion thresholds (configs `tairhash.compact-max-entries` / `compact-max-value`).
pub struct Thresholds;

#[cfg(test)]
thread_local! {
    /// Per-thread thresholds of unit tests (tests run in parallel; the atomics are process-wide).
    static TEST_THRESHOLDS: std::cell::Cell<Option<(usize, usize)>> = const { std::cell::Cell::new(None) };
}

impl Thresholds {
    pub fn max_entries() -> usize {
        #[cfg(test)]
        if let Some((e, _)) = TEST_THRESHOLDS.with(std::cell::Cell::get) {
            return e;
        }
        MAX_ENTRIES.load(Ordering::Relaxed)
    }

    pub fn max_value() -> usize {
        #[cfg(test)]
        if let Some((_, v)) = TEST_THRESHOLDS.with(std::cell::Cell::get) {
            return v;
        }
        MAX_VALUE.load(Ordering::Relaxed)
    }

    /// Sets this thread's thresholds (unit tests).
    #[cfg(test)]
    pub(crate) fn set_for_thread(entries: usize, value: usize) {
        TEST_THRESHOLDS.with(|t| t.set(Some((entries, value))));
    }

    pub fn set_max_entries(n: usize) {
        MAX_ENTRIES.store(n, Ordering::Relaxed);
    }

    pub fn set_max_value(n: usize) {
        MAX_VALUE.store(n, Ordering::Relaxed);
    }
}

/// A field as stored, borrowed from the buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) value: &'a [u8],
    pub(crate) version: u64,
    pub(crate) expiry: Option<Expiry>,
    /// Byte range of the whole entry in the buffer.
    span: (usize, usize),
}

pub(crate) fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Appends `v` as LEB128.
pub(crate) fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 number at `*pos`; `None` past the end (or past 10 bytes).
pub(crate) fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *buf.get(*pos)?;
    if first < 0x80 {
        *pos += 1;
        return Some(u64::from(first));
    }
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// A LEB128 length as `usize`, with the one-byte case first.
#[inline(always)]
fn fast_varint(buf: &[u8], pos: &mut usize) -> Option<usize> {
    let b = *buf.get(*pos)?;
    if b < 0x80 {
        *pos += 1;
        return Some(usize::from(b));
    }
    usize::try_from(get_varint(buf, pos)?).ok()
}

/// Reads a 3-byte little-endian signed delta.
fn get_i24(buf: &[u8], pos: &mut usize) -> Option<i32> {
    let end = pos.checked_add(3)?;
    let b: [u8; 3] = buf.get(*pos..end)?.try_into().ok()?;
    *pos = end;
    Some(i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8)
}

/// An expiry read at `*pos` with `flags`, relative to `base` unless WIDE.
fn get_expiry(buf: &[u8], pos: &mut usize, flags: u8, base: u64) -> Option<Expiry> {
    if flags & FLAG_EXPIRY == 0 {
        return None;
    }
    let at = if flags & FLAG_WIDE != 0 {
        get_u64(buf, pos)?
    } else {
        base.wrapping_add_signed(i64::from(get_i24(buf, pos)?))
    };
    let due = if flags & FLAG_DUE != 0 {
        get_u64(buf, pos)?
    } else {
        at
    };
    Some(Expiry { at, due })
}

fn get_u64(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let end = pos.checked_add(8)?;
    let b: [u8; 8] = buf.get(*pos..end)?.try_into().ok()?;
    *pos = end;
    Some(u64::from_le_bytes(b))
}

/// The flags of an entry with `expiry`, its expiry stored relative to `base` (`None`: no base yet,
/// only for an entry without expiry).
fn flags_of(expiry: Option<Expiry>, base: Option<u64>) -> u8 {
    match expiry {
        None => 0,
        Some(e) => {
            let due = if e.due == e.at { 0 } else { FLAG_DUE };
            let wide = match base.and_then(|b| delta(e.at, b)) {
                Some(_) => 0,
                None => FLAG_WIDE,
            };
            FLAG_EXPIRY | due | wide
        }
    }
}

/// Encoded size of an entry (its expiry relative to `base`).
fn entry_len(
    name: &[u8],
    value: &[u8],
    version: u64,
    expiry: Option<Expiry>,
    base: Option<u64>,
) -> usize {
    let f = flags_of(expiry, base);
    1 + varint_len(name.len() as u64)
        + varint_len(value.len() as u64)
        + varint_len(version)
        + times_len(f)
        + name.len()
        + value.len()
}

/// Decodes the entry starting at `pos` (expiries relative to `base`).
fn decode(buf: &[u8], start: usize, base: u64) -> Option<Entry<'_>> {
    let mut pos = start;
    let flags = *buf.get(pos)?;
    pos += 1;
    let nlen = fast_varint(buf, &mut pos)?;
    let vlen = fast_varint(buf, &mut pos)?;
    let version = get_varint(buf, &mut pos)?;
    let expiry = get_expiry(buf, &mut pos, flags, base);
    if flags & FLAG_EXPIRY != 0 && expiry.is_none() {
        return None;
    }
    let name_end = pos.checked_add(nlen)?;
    let end = name_end.checked_add(vlen)?;
    Some(Entry {
        name: buf.get(pos..name_end)?,
        value: buf.get(name_end..end)?,
        version,
        expiry,
        span: (start, end),
    })
}

/// An entry to encode: name, value, version, expiry.
type NewEntry<'a> = (&'a [u8], &'a [u8], u64, Option<Expiry>);

/// The first byte of a compact block (a big value's block starts with [`TAG_BIG`]).
pub(crate) const TAG_COMPACT: u8 = 0;
/// The first byte of the block of a big value (`big::BigBlock`).
pub(crate) const TAG_BIG: u8 = 1;

/// The layout of a block holding `content` bytes: tag, LEB128 content length, content.
fn block_layout(content: usize) -> Layout {
    let size = 1 + varint_len(content as u64) + content;
    match Layout::from_size_align(size, 1) {
        Ok(l) => l,
        // Unreachable: `size` is a buffer length plus at most 11 bytes.
        Err(_) => handle_alloc_error(Layout::new::<u64>()),
    }
}

/// A small hash in one block: `[TAG_COMPACT][content length, LEB128][content]`, the content laid out
/// as the module documentation says. A thin pointer, so the value the server stores is 8 bytes (the
/// big encoding's block starts with another tag, see [`crate::hash`]).
#[repr(transparent)]
pub(crate) struct Compact {
    raw: NonNull<u8>,
}

impl Compact {
    /// A block for `content_len` bytes of content (zeroed), its tag and length written.
    fn alloc_block(content_len: usize) -> NonNull<u8> {
        let layout = block_layout(content_len);
        // SAFETY: the layout has a non-zero size (at least 2 bytes).
        let raw = unsafe { alloc_zeroed(layout) };
        let Some(block) = NonNull::new(raw) else {
            handle_alloc_error(layout)
        };
        let mut head = [0u8; 11];
        let mut w = SliceWriter {
            buf: &mut head,
            len: 0,
        };
        w.push(&[TAG_COMPACT]);
        w.varint(content_len as u64);
        let n = w.len;
        // SAFETY: the block is at least 1 + varint_len(content_len) = n bytes long; no overlap.
        unsafe { ptr::copy_nonoverlapping(head.as_ptr(), block.as_ptr(), n) };
        block
    }

    /// (offset of the content, content length).
    #[inline]
    fn span(&self) -> (usize, usize) {
        let base = self.raw.as_ptr();
        // SAFETY: every block has its tag and at least one length byte.
        let first = unsafe { *base.add(1) };
        if first < 0x80 {
            return (2, usize::from(first));
        }
        let (mut v, mut shift, mut i) = (0usize, 0u32, 1usize);
        loop {
            // SAFETY: the block starts with the tag and a complete LEB128 length written by
            // `alloc_block`; the loop stops at its last byte.
            let b = unsafe { *base.add(i) };
            i += 1;
            v |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 || shift >= 56 {
                return (i, v);
            }
            shift += 7;
        }
    }

    /// The content.
    fn buf(&self) -> &[u8] {
        let (off, len) = self.span();
        // SAFETY: the block holds `off + len` initialized bytes (zeroed at allocation, then
        // written); the slice borrows `self`, which owns the block.
        unsafe { std::slice::from_raw_parts(self.raw.as_ptr().add(off), len) }
    }

    fn buf_mut(&mut self) -> &mut [u8] {
        let (off, len) = self.span();
        // SAFETY: as for `buf`, and `&mut self` is the only access to the block. The shared empty
        // block has content length 0: its slice is empty, so nothing is ever written to it.
        unsafe { std::slice::from_raw_parts_mut(self.raw.as_ptr().add(off), len) }
    }

    /// The block pointer, given away (the caller now owns the block: see [`Compact::from_raw`]).
    pub(crate) fn into_raw(self) -> NonNull<u8> {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    /// A compact block's owner seen through a reference to its pointer.
    ///
    /// # Safety
    /// `raw` must point to a live block built by this type ([`TAG_COMPACT`]).
    pub(crate) unsafe fn from_raw_ref(raw: &NonNull<u8>) -> &Compact {
        // SAFETY: `Compact` is a transparent wrapper of `NonNull<u8>`.
        unsafe { &*(raw as *const NonNull<u8>).cast::<Compact>() }
    }

    /// As [`from_raw_ref`](Self::from_raw_ref), mutable: writes through it replace `*raw`.
    ///
    /// # Safety
    /// As for `from_raw_ref`.
    pub(crate) unsafe fn from_raw_mut(raw: &mut NonNull<u8>) -> &mut Compact {
        // SAFETY: as above.
        unsafe { &mut *(raw as *mut NonNull<u8>).cast::<Compact>() }
    }

    /// Takes back ownership of a block given away by [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    /// `raw` must point to a live compact block that nothing else owns.
    pub(crate) unsafe fn from_raw(raw: NonNull<u8>) -> Compact {
        Compact { raw }
    }
}

/// The block of every empty compact value (a new key before its first field): never written
/// (content length 0) and never freed, so creating a key costs one allocation, not two.
static EMPTY_BLOCK: [u8; 2] = [TAG_COMPACT, 0];

impl Compact {
    fn is_shared_empty(&self) -> bool {
        std::ptr::eq(self.raw.as_ptr().cast_const(), EMPTY_BLOCK.as_ptr())
    }
}

impl Default for Compact {
    fn default() -> Self {
        Compact {
            raw: NonNull::from(&EMPTY_BLOCK).cast::<u8>(),
        }
    }
}

impl Clone for Compact {
    fn clone(&self) -> Self {
        let src = self.buf();
        if src.is_empty() {
            return Compact::default();
        }
        let mut c = Compact {
            raw: Self::alloc_block(src.len()),
        };
        c.buf_mut().copy_from_slice(src);
        c
    }
}

impl Drop for Compact {
    fn drop(&mut self) {
        if self.is_shared_empty() {
            return;
        }
        let layout = block_layout(self.span().1);
        // SAFETY: the block was allocated by `alloc_block` with this layout and is freed once.
        unsafe { dealloc(self.raw.as_ptr(), layout) };
    }
}

// SAFETY: a Compact uniquely owns its block, like a Box<[u8]>.
unsafe impl Send for Compact {}
// SAFETY: `&Compact` only reads the block.
unsafe impl Sync for Compact {}

/// The entries in stored order.
pub(crate) struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let e = decode(self.buf, self.pos, self.base)?;
        self.pos = e.span.1;
        Some(e)
    }
}

/// The lengths and positions of one entry, read without decoding its version or copying anything.
#[derive(Clone, Copy)]
struct Skim {
    flags: u8,
    /// Where the expiry (then the due time) starts, when the entry has one.
    times: usize,
    name: (usize, usize),
    /// Where the next entry starts.
    next: usize,
}

fn skim(buf: &[u8], start: usize) -> Option<Skim> {
    let mut pos = start;
    let flags = *buf.get(pos)?;
    pos += 1;
    let nlen = fast_varint(buf, &mut pos)?;
    let vlen = fast_varint(buf, &mut pos)?;
    // The version: skip its bytes (the last one has the high bit clear).
    while *buf.get(pos)? & 0x80 != 0 {
        pos += 1;
    }
    pos += 1;
    let times = pos;
    pos += times_len(flags);
    let name_end = pos.checked_add(nlen)?;
    Some(Skim {
        flags,
        times,
        name: (pos, name_end),
        next: name_end.checked_add(vlen)?,
    })
}

impl Skim {
    fn due(&self, buf: &[u8], base: u64) -> Option<u64> {
        let mut at = self.times;
        match self.flags & (FLAG_EXPIRY | FLAG_DUE | FLAG_WIDE) {
            0 => None,
            FLAG_EXPIRY => Some(base.wrapping_add_signed(i64::from(get_i24(buf, &mut at)?))),
            f => {
                // The due time when stored apart, else the wide expiry.
                if f & FLAG_DUE != 0 {
                    at += if f & FLAG_WIDE != 0 { 8 } else { 3 };
                }
                get_u64(buf, &mut at)
            }
        }
    }
}

/// The header: `count << 2 | STAMPED << 1 | EXPIRING` as LEB128, then the stamp and the base. The
/// EXPIRING bit is set while some entry may have an expiry (set by every write of one, cleared when a
/// rebuild finds none), so a value without expiring fields answers "earliest due" and "count due"
/// without a walk.
struct Header {
    count: usize,
    expiring: bool,
    /// Where the stamp is, when STAMPED.
    stamp_at: Option<usize>,
    /// The base of the expiries (0 when not EXPIRING).
    base: u64,
    first: usize,
}

impl Header {
    fn base(&self) -> Option<u64> {
        self.expiring.then_some(self.base)
    }
}

impl Compact {
    fn header(&self) -> Header {
        let buf = self.buf();
        let mut pos = 0;
        let h = get_varint(buf, &mut pos).unwrap_or(0);
        let stamp_at = pos;
        if h & 2 != 0 {
            pos += STAMP_LEN;
        }
        let base = if h & 1 != 0 {
            pos += BASE_LEN;
            get_u48(buf, pos - BASE_LEN).unwrap_or(0)
        } else {
            0
        };
        Header {
            count: usize::try_from(h >> 2).unwrap_or(0),
            expiring: h & 1 != 0,
            stamp_at: (h & 2 != 0).then_some(stamp_at),
            base,
            first: pos,
        }
    }

    /// The stamp, from a header of this block.
    fn stamp_of(&self, h: &Header) -> Option<u64> {
        get_u40(self.buf(), h.stamp_at?)
    }

    /// The registry bucket the value is registered under (see `registry`).
    pub(crate) fn stamp(&self) -> Option<u64> {
        let buf = self.buf();
        if buf.first().is_some_and(|b| b & 2 != 0) {
            let mut pos = 0;
            get_varint(buf, &mut pos)?;
            get_u40(buf, pos)
        } else {
            None
        }
    }

    /// Sets or clears the stamp (at most [`MAX_STAMP`]; in place when there was one).
    pub(crate) fn set_stamp(&mut self, stamp: Option<u64>) {
        let stamp = stamp.map(|s| s.min(MAX_STAMP));
        let h = self.header();
        let old = self.stamp_of(&h);
        if old == stamp {
            return;
        }
        if let (Some(at), Some(new)) = (h.stamp_at, stamp) {
            let b = new.to_le_bytes();
            if let (Some(dst), Some(src)) = (
                self.buf_mut().get_mut(at..at + STAMP_LEN),
                b.get(..STAMP_LEN),
            ) {
                dst.copy_from_slice(src);
            }
            return;
        }
        if h.count == 0 && stamp.is_none() {
            *self = Compact::default();
            return;
        }
        let base = h.base();
        let rest = self.buf().get(h.first..).unwrap_or_default();
        let total = head_len(h.count, stamp, base) + rest.len();
        let mut new = Compact {
            raw: Self::alloc_block(total),
        };
        let mut w = SliceWriter {
            buf: new.buf_mut(),
            len: 0,
        };
        w.head(h.count, stamp, base);
        w.push(rest);
        std::mem::swap(self, &mut new);
    }

    pub(crate) fn len(&self) -> usize {
        let mut pos = 0;
        let h = get_varint(self.buf(), &mut pos).unwrap_or(0);
        usize::try_from(h >> 2).unwrap_or(0)
    }

    /// False when no field has an expiry (the header bit; true may be stale after an expiry went).
    pub(crate) fn may_expire(&self) -> bool {
        self.buf().first().is_some_and(|b| b & 1 != 0)
    }

    /// Bytes of the buffer.
    pub(crate) fn bytes(&self) -> usize {
        block_layout(self.span().1).size()
    }

    pub(crate) fn iter(&self) -> Iter<'_> {
        let h = self.header();
        Iter {
            buf: self.buf(),
            pos: h.first,
            base: h.base,
        }
    }

    /// The entries' skims in stored order (from `first`).
    fn skims(&self, first: usize) -> impl Iterator<Item = Skim> + '_ {
        let buf: &[u8] = self.buf();
        let mut pos = first;
        std::iter::from_fn(move || {
            if pos >= buf.len() {
                return None;
            }
            let s = skim(buf, pos)?;
            pos = s.next;
            Some(s)
        })
    }

    /// Where the stored field `name` starts. Compares only names of the same length. Entries whose
    /// lengths take one byte each (the usual case) are stepped over without a call.
    fn find(&self, name: &[u8]) -> Option<usize> {
        self.find_from(self.header().first, name)
    }

    /// [`find`](Self::find) from the first entry at `first`.
    fn find_from(&self, first: usize, name: &[u8]) -> Option<usize> {
        let buf: &[u8] = self.buf();
        let mut pos = first;
        while let Some(&flags) = buf.get(pos) {
            let (name_at, nlen, vlen) = match buf.get(pos + 1..pos + 3) {
                Some(&[a, b]) if (a | b) < 0x80 => {
                    // The version's bytes: all but the last have the high bit set.
                    let mut p = pos + 3;
                    while buf.get(p).is_some_and(|x| x & 0x80 != 0) {
                        p += 1;
                    }
                    (p + 1 + times_len(flags), usize::from(a), usize::from(b))
                }
                _ => {
                    let s = skim(buf, pos)?;
                    (s.name.0, s.name.1 - s.name.0, s.next - s.name.1)
                }
            };
            // Names usually differ in their last byte: test it before the full comparison.
            if nlen == name.len()
                && (nlen == 0 || buf.get(name_at + nlen - 1) == name.last())
                && buf.get(name_at..name_at + nlen)? == name
            {
                return Some(pos);
            }
            pos = name_at + nlen + vlen;
        }
        None
    }

    /// The stored field `name`.
    pub(crate) fn get(&self, name: &[u8]) -> Option<Entry<'_>> {
        let h = self.header();
        decode(self.buf(), self.find_from(h.first, name)?, h.base)
    }

    /// Replaces the bytes `range` of the buffer by `entry` (encoded), with `count` fields after it.
    fn splice(&mut self, count: usize, range: Range<usize>, entry: Option<NewEntry<'_>>) {
        let h = self.header();
        let stamp = self.stamp_of(&h);
        if count == 0 && stamp.is_none() {
            *self = Compact::default();
            return;
        }
        let buf = self.buf();
        let before = buf.get(h.first..range.start).unwrap_or_default();
        let after = buf.get(range.end..).unwrap_or_default();
        let entry_expiring = entry.is_some_and(|e| e.3.is_some());
        // Sticky while set, re-checked when an entry goes away or loses its expiry.
        let expiring = entry_expiring
            || (h.expiring && {
                let kept = |part: &[u8]| {
                    let mut pos = 0;
                    while pos < part.len() {
                        match skim(part, pos) {
                            Some(s) if s.flags & FLAG_EXPIRY != 0 => return true,
                            Some(s) => pos = s.next,
                            None => return true,
                        }
                    }
                    false
                };
                kept(before) || kept(after)
            });
        // The base stays while EXPIRING does; a first expiring entry brings its own.
        let base = match (expiring, h.expiring) {
            (false, _) => None,
            (true, true) => Some(h.base),
            (true, false) => entry.and_then(|e| e.3).map(|e| e.at.min(MAX_BASE)),
        };
        let new_len = entry.map_or(0, |(n, v, ver, e)| entry_len(n, v, ver, e, base));
        let total = head_len(count, stamp, base) + before.len() + new_len + after.len();
        let mut new = Compact {
            raw: Self::alloc_block(total),
        };
        let mut w = SliceWriter {
            buf: new.buf_mut(),
            len: 0,
        };
        w.head(count, stamp, base);
        w.push(before);
        if let Some((n, v, ver, e)) = entry {
            w.entry_head(n.len(), v.len(), ver, e, base);
            w.push(n);
            w.push(v);
        }
        w.push(after);
        std::mem::swap(self, &mut new);
    }

    /// Writes `name`: creates it, or replaces the stored one (live or not) with the value (`None`
    /// keeps the stored one), version and expiry.
    pub(crate) fn write(
        &mut self,
        name: &[u8],
        value: Option<&[u8]>,
        version: u64,
        expiry: Option<Expiry>,
    ) {
        let at = self.find(name);
        self.write_at(at, name, value, version, expiry);
    }

    /// The stored field `name` and where it starts (for [`write_at`](Self::write_at)): one walk
    /// for a read-then-write.
    pub(crate) fn lookup(&self, name: &[u8]) -> (Option<usize>, Option<Entry<'_>>) {
        let h = self.header();
        let at = self.find_from(h.first, name);
        (at, at.and_then(|p| decode(self.buf(), p, h.base)))
    }

    /// [`write`](Self::write) of a field that [`lookup`](Self::lookup) found at `at` (or not:
    /// `None`), the buffer unchanged since.
    pub(crate) fn write_at(
        &mut self,
        at: Option<usize>,
        name: &[u8],
        value: Option<&[u8]>,
        version: u64,
        expiry: Option<Expiry>,
    ) {
        let h = self.header();
        let Some(old) = at.and_then(|at| decode(self.buf(), at, h.base)) else {
            let end = self.buf().len().max(h.first);
            self.splice(
                h.count + 1,
                end..end,
                Some((name, value.unwrap_or_default(), version, expiry)),
            );
            return;
        };
        let (start, end) = old.span;
        let value_len = value.map_or(old.value.len(), <[u8]>::len);
        let header_len = entry_len(name, &[], version, expiry, h.base()) - name.len();
        let old_header_len = (end - start)
            .saturating_sub(old.name.len())
            .saturating_sub(old.value.len());
        // An expiry in a value without a base needs one: a rebuild.
        let has_base = expiry.is_none() || h.expiring;
        if has_base && header_len == old_header_len && value_len == old.value.len() {
            // The same head size and value length, so the name and the value stay where they are:
            // rewrite the entry's head (and the value, if given) in place, without an allocation.
            // (Only the same total size is not enough: a head that loses its expiry and a value 8
            // bytes longer would leave the name at its old offset.)
            let mut head = [0u8; 48];
            let mut w = SliceWriter {
                buf: &mut head,
                len: 0,
            };
            w.entry_head(name.len(), value_len, version, expiry, h.base());
            let head_len = w.len;
            if let (Some(dst), Some(src)) = (
                self.buf_mut().get_mut(start..start + head_len),
                head.get(..head_len),
            ) {
                dst.copy_from_slice(src);
            }
            if let Some(v) = value {
                let at = start + header_len + name.len();
                if let Some(dst) = self.buf_mut().get_mut(at..at + v.len()) {
                    dst.copy_from_slice(v);
                }
            }
            return;
        }
        let owned;
        let v = match value {
            Some(v) => v,
            None => {
                owned = old.value.to_vec();
                &owned
            }
        };
        self.splice(h.count, start..end, Some((name, v, version, expiry)));
    }

    /// Sets the version of a stored field.
    pub(crate) fn set_version(&mut self, name: &[u8], version: u64) {
        if let Some(e) = self.get(name) {
            let expiry = e.expiry;
            self.write(name, None, version, expiry);
        }
    }

    /// Removes a stored field.
    pub(crate) fn remove(&mut self, name: &[u8]) -> bool {
        let count = self.header().count;
        let Some(span) = self.get(name).map(|e| e.span) else {
            return false;
        };
        self.splice(count.saturating_sub(1), span.0..span.1, None);
        true
    }

    /// Fields with an expiry.
    pub(crate) fn expiring_len(&self) -> usize {
        let h = self.header();
        if !h.expiring {
            return 0;
        }
        self.skims(h.first)
            .filter(|s| s.flags & FLAG_EXPIRY != 0)
            .count()
    }

    /// Fields with `due <= threshold`.
    pub(crate) fn count_due(&self, threshold: u64) -> usize {
        let h = self.header();
        if !h.expiring {
            return 0;
        }
        self.skims(h.first)
            .filter(|s| s.due(self.buf(), h.base).is_some_and(|d| d <= threshold))
            .count()
    }

    /// The earliest field in (due, name) order.
    pub(crate) fn earliest(&self) -> Option<(u64, &[u8])> {
        let h = self.header();
        if !h.expiring {
            return None;
        }
        let buf: &[u8] = self.buf();
        self.skims(h.first)
            .filter_map(|s| Some((s.due(buf, h.base)?, buf.get(s.name.0..s.name.1)?)))
            .min()
    }
}

/// Writes an entry's head (flags, lengths, version, times) into a fixed buffer.
struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl SliceWriter<'_> {
    fn push(&mut self, b: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + b.len()) {
            dst.copy_from_slice(b);
            self.len += b.len();
        }
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.push(&[(v as u8 & 0x7f) | 0x80]);
            v >>= 7;
        }
        self.push(&[v as u8]);
    }

    /// The header word, the stamp and the base.
    fn head(&mut self, count: usize, stamp: Option<u64>, base: Option<u64>) {
        self.varint(head_word(count, stamp.is_some(), base.is_some()));
        if let Some(s) = stamp {
            let b = s.min(MAX_STAMP).to_le_bytes();
            self.push(b.get(..STAMP_LEN).unwrap_or_default());
        }
        if let Some(base) = base {
            let b = base.min(MAX_BASE).to_le_bytes();
            self.push(b.get(..BASE_LEN).unwrap_or_default());
        }
    }

    fn entry_head(
        &mut self,
        nlen: usize,
        vlen: usize,
        version: u64,
        expiry: Option<Expiry>,
        base: Option<u64>,
    ) {
        let f = flags_of(expiry, base);
        self.push(&[f]);
        self.varint(nlen as u64);
        self.varint(vlen as u64);
        self.varint(version);
        if let Some(e) = expiry {
            match base.and_then(|b| delta(e.at, b)) {
                Some(d) if f & FLAG_WIDE == 0 => {
                    let b = d.to_le_bytes();
                    self.push(&[b[0], b[1], b[2]]);
                }
                _ => self.push(&e.at.to_le_bytes()),
            }
            if f & FLAG_DUE != 0 {
                self.push(&e.due.to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value tair-common boxes per key is one pointer (the 8-byte allocator class).
    #[test]
    fn value_is_one_pointer() {
        assert_eq!(std::mem::size_of::<crate::TairHash>(), 8);
        assert_eq!(std::mem::size_of::<Compact>(), 8);
    }

    #[test]
    fn write_read_remove() {
        let mut c = Compact::default();
        assert_eq!(c.len(), 0);
        // tag + content length 0 (the shared empty block)
        assert_eq!(c.bytes(), 2);
        assert!(c.is_shared_empty());
        c.write(b"field", Some(&[b'x'; 16]), 1, None);
        // tag + content length + count + flags + 3 lengths/version + 5 + 16
        assert_eq!(c.bytes(), 2 + 1 + 1 + 3 + 5 + 16);
        let e = Expiry { at: 10, due: 20 };
        c.write(b"b", Some(b"bb"), 300, Some(e));
        c.write(b"c", Some(b""), 1, Some(Expiry { at: 5, due: 5 }));
        assert_eq!(c.len(), 3);
        let g = c.get(b"b").unwrap();
        assert_eq!((g.value, g.version, g.expiry), (&b"bb"[..], 300, Some(e)));
        assert_eq!(c.earliest(), Some((5, &b"c"[..])));
        assert_eq!(c.count_due(10), 1);
        assert_eq!(c.expiring_len(), 2);
        // In place (same size), value kept.
        c.write(b"b", None, 301, Some(Expiry { at: 11, due: 21 }));
        let g = c.get(b"b").unwrap();
        assert_eq!((g.value, g.version), (&b"bb"[..], 301));
        // Resized.
        c.write(b"b", None, 1, None);
        assert_eq!(c.get(b"b").unwrap().value, b"bb");
        c.set_version(b"b", u64::MAX);
        assert_eq!(c.get(b"b").unwrap().version, u64::MAX);
        assert!(c.remove(b"field"));
        assert!(!c.remove(b"field"));
        assert_eq!(c.len(), 2);
        let names: Vec<_> = c.iter().map(|e| e.name.to_vec()).collect();
        assert_eq!(names, vec![b"b".to_vec(), b"c".to_vec()]);
        assert!(c.remove(b"b") && c.remove(b"c"));
        assert_eq!(c.bytes(), 2);
        let copy = c.clone();
        assert_eq!(copy.len(), 0);
        // Past 127 fields the count takes two bytes.
        for i in 0..200u32 {
            c.write(&i.to_le_bytes(), Some(b"v"), 1, None);
        }
        assert_eq!(c.len(), 200);
        assert_eq!(c.get(&199u32.to_le_bytes()).unwrap().value, b"v");
    }

    /// Expiries are 3-byte deltas from the base (WIDE beyond +-2^23 ms, either side), the stamp and
    /// the base live in the header, and every rebuild keeps them: the bench's key of three fields
    /// with a TTL, registered, fits the 64-byte allocator class.
    #[test]
    fn base_deltas_and_stamp() {
        let t = 1_765_000_000_000u64;
        let ex = |at| Some(Expiry { at, due: at });
        let mut c = Compact::default();
        c.write(b"f1", Some(b"value01"), 1, ex(t));
        c.set_stamp(Some(t / 128));
        c.write(b"f2", Some(b"value02"), 1, ex(t + 3));
        c.write(b"f3", Some(b"value03"), 1, ex(t - 5_000));
        // tag, length, header, stamp (5), base (6), 3 x (flags, 3 lengths, delta (3), name, value)
        assert_eq!(c.bytes(), 2 + 1 + 5 + 6 + 3 * 16);
        assert!(c.bytes() <= 64);
        assert_eq!(c.stamp(), Some(t / 128));
        assert_eq!(c.earliest(), Some((t - 5_000, &b"f3"[..])));
        // Far from the base either way, the epoch, the maximum, a due time apart: WIDE entries.
        let far = (1u64 << 23) + 1;
        let cases = [
            (
                b"w1",
                Expiry {
                    at: t + far,
                    due: t + far,
                },
            ),
            (
                b"w2",
                Expiry {
                    at: t - far,
                    due: t - far,
                },
            ),
            (b"w3", Expiry { at: 1, due: t }),
            (
                b"w4",
                Expiry {
                    at: u64::MAX,
                    due: u64::MAX,
                },
            ),
            (
                b"d1",
                Expiry {
                    at: t + (1 << 23) - 1,
                    due: t + (1 << 23) - 1,
                },
            ),
            (
                b"d2",
                Expiry {
                    at: t - (1 << 23),
                    due: t - (1 << 23),
                },
            ),
        ];
        for (n, e) in cases {
            c.write(n, Some(b"v"), 2, Some(e));
        }
        for (n, e) in cases {
            assert_eq!(c.get(n).unwrap().expiry, Some(e), "{n:?}");
        }
        assert_eq!(c.get(b"f2").unwrap().expiry, ex(t + 3));
        assert_eq!(c.count_due(t), 5);
        assert_eq!(c.expiring_len(), 9);
        // In place: same delta width, same value length.
        let before = c.bytes();
        c.write(b"f2", Some(b"VALUE02"), 3, ex(t + 1_000));
        assert_eq!(c.bytes(), before);
        assert_eq!(c.get(b"f2").unwrap().expiry, ex(t + 1_000));
        // The stamp: rewritten in place, cleared, set again; the largest one.
        c.set_stamp(Some(t / 128 - 1));
        assert_eq!((c.stamp(), c.bytes()), (Some(t / 128 - 1), before));
        c.set_stamp(Some(3));
        assert_eq!((c.stamp(), c.bytes()), (Some(3), before));
        c.set_stamp(None);
        assert_eq!((c.stamp(), c.bytes()), (None, before - 5));
        c.set_stamp(Some(u64::MAX));
        assert_eq!(c.stamp(), Some(MAX_STAMP));
        c.set_stamp(Some(9));
        // Losing every expiry drops the base; removing every field keeps the stamp.
        for n in [&b"w1"[..], b"w2", b"w3", b"w4", b"d1", b"d2", b"f1", b"f3"] {
            assert!(c.remove(n));
        }
        c.write(b"f2", None, 4, None);
        assert!(!c.may_expire());
        assert_eq!(c.bytes(), 2 + 1 + 5 + (4 + 2 + 7));
        assert_eq!(c.stamp(), Some(9));
        assert_eq!(c.get(b"f2").unwrap().value, b"VALUE02");
        assert!(c.remove(b"f2"));
        assert_eq!((c.len(), c.stamp(), c.bytes()), (0, Some(9), 8));
        // A new expiry brings a new base.
        c.write(b"n", Some(b""), 1, ex(5));
        assert_eq!(c.get(b"n").unwrap().expiry, ex(5));
        assert_eq!(c.stamp(), Some(9));
        c.set_stamp(None);
        assert!(c.remove(b"n"));
        assert!(c.is_shared_empty());
    }

    /// Found by the fuzzer (tairhash_model): an entry of the same total size but another head size
    /// (an expiry gone, a value 8 bytes longer) was rewritten in place and left its name at the old
    /// offset, so the field read as absent while the count still held it.
    #[test]
    fn same_size_rewrite_with_another_head_moves_the_name() {
        let far = Expiry {
            at: i64::MAX as u64,
            due: i64::MAX as u64,
        };
        let mut c = Compact::default();
        c.write(b"a", Some(b"x"), 1, Some(far));
        c.write(b"a", Some(b"892679477"), 2, None);
        let g = c.get(b"a").expect("the field is still there");
        assert_eq!((g.value, g.version, g.expiry), (&b"892679477"[..], 2, None));
        assert_eq!(c.len(), 1);
        // And back: an expiry comes, the value shrinks by as much.
        c.write(b"a", Some(b"y"), 3, Some(far));
        let g = c.get(b"a").expect("the field is still there");
        assert_eq!((g.value, g.version, g.expiry), (&b"y"[..], 3, Some(far)));
        // A written-already-expired field (due before at) after a plain one of the same size.
        let mut c = Compact::default();
        c.write(b"a", Some(b"25149146641989977"), 1, None);
        c.write(b"a", Some(b"\x0b"), 2, Some(Expiry { at: 1, due: 0 }));
        let g = c.get(b"a").expect("the field is still there");
        assert_eq!(g.expiry, Some(Expiry { at: 1, due: 0 }));
        assert!(c.may_expire());
        assert_eq!(c.count_due(1), 1);
    }
}
