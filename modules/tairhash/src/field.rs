//! One field of a tairhash value, stored in a single heap block.
//!
//! Compactness is the point: a field is one allocation holding the chain link of the field table, the
//! version, the optional expiry (with the field's position in the key's expiry heap) and the name and
//! value bytes. A field without expiry pays nothing for it.
//!
//! Block layout (offsets in bytes; the block is 8-aligned):
//!
//! ```text
//!  0  next     Option<FieldBox>  chain link of the field table (8)
//!  8  version  u64               1 ..= 2^63-1 (8)
//! 16  flags    u8                EXPIRY = 1, DUE = 2 (DUE implies EXPIRY)
//! 17  expiry   u64 LE            when EXPIRY: absolute Unix ms, >= 1
//! 25  heap pos 5 bytes LE        when EXPIRY: index in the key's expiry heap
//! 30  due      u64 LE            when DUE: due time, only stored when it differs from the expiry
//!     name length  LEB128
//!     value length LEB128
//!     name bytes, value bytes
//! ```
//!
//! 16-byte name and value: 51 bytes without expiry, 64 with (both one 64-byte allocator class).
//!
//! The unsafe of the field block lives here (the compact block's is in `compact`). [`FieldBox`] owns a block (a thin pointer, so
//! `Option<FieldBox>` is 8 bytes); [`FieldRef`] is a non-owning copy of the pointer kept by the expiry
//! heap, whose accessors are `unsafe` because only the owner of the hash can vouch that it is alive.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::{self, NonNull};

const VERSION_OFF: usize = 8;
const FLAGS_OFF: usize = 16;
const EXPIRY_OFF: usize = 17;
const POS_OFF: usize = 25;
const POS_LEN: usize = 5;
const DUE_OFF: usize = 30;
const FLAG_EXPIRY: u8 = 1;
const FLAG_DUE: u8 = 2;
const BLOCK_ALIGN: usize = 8;
/// flags + expiry + heap position + due + two 10-byte LEB128 lengths.
const MAX_PREFIX: usize = 1 + 8 + POS_LEN + 8 + 10 + 10;

/// Largest position the 5-byte heap-position slot holds (far beyond any reachable heap size).
pub(crate) const MAX_HEAP_POS: usize = (1 << (8 * POS_LEN)) - 1;
/// Largest absolute expiry in ms (Valkey's times are signed 64-bit).
pub(crate) const MAX_MS: u64 = i64::MAX as u64;

/// A field's expiry: the absolute time `at` and the due time that orders the expiry index.
///
/// `due` is `at`, except when `at` had already passed at the moment the expiry was written (or the
/// field was loaded): then it is that moment, so a just-expired field gets the active-expiry grace.
/// Always `at <= due`, so `due <= now` exactly when the field is expired (for a non-decreasing clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Expiry {
    pub(crate) at: u64,
    pub(crate) due: u64,
}

impl Expiry {
    /// The expiry `at` written at time `now` (`at` is clamped to `1 ..= 2^63-1`).
    pub(crate) fn written(at: u64, now: u64) -> Self {
        let at = at.clamp(1, MAX_MS);
        let due = if at <= now { now } else { at };
        Expiry { at, due }
    }

    fn flags(self) -> u8 {
        if self.due == self.at {
            FLAG_EXPIRY
        } else {
            FLAG_EXPIRY | FLAG_DUE
        }
    }
}

/// Decoded header of a block.
#[derive(Clone, Copy)]
struct Shape {
    name_off: usize,
    name_len: usize,
    value_len: usize,
}

impl Shape {
    fn value_off(self) -> usize {
        self.name_off + self.name_len
    }

    fn size(self) -> usize {
        self.value_off() + self.value_len
    }
}

fn layout_for(size: usize) -> Layout {
    match Layout::from_size_align(size, BLOCK_ALIGN) {
        Ok(layout) => layout,
        // Unreachable: `size` is the sum of two slice lengths and a few dozen bytes.
        Err(_) => handle_alloc_error(Layout::new::<u64>()),
    }
}

/// The tail bytes between the flags and the name, built on the stack.
struct Prefix {
    bytes: [u8; MAX_PREFIX],
    len: usize,
}

impl Prefix {
    fn new(name_len: usize, value_len: usize, expiry: Option<Expiry>, pos: usize) -> Self {
        let mut p = Prefix {
            bytes: [0; MAX_PREFIX],
            len: 0,
        };
        match expiry {
            None => p.push(&[0]),
            Some(e) => {
                let flags = e.flags();
                p.push(&[flags]);
                p.push(&e.at.to_le_bytes());
                let pos = (pos as u64).to_le_bytes();
                p.push(pos.get(..POS_LEN).unwrap_or(&[0; POS_LEN]));
                if flags & FLAG_DUE != 0 {
                    p.push(&e.due.to_le_bytes());
                }
            }
        }
        p.varint(name_len);
        p.varint(value_len);
        p
    }

    fn push(&mut self, b: &[u8]) {
        if let Some(dst) = self.bytes.get_mut(self.len..self.len + b.len()) {
            dst.copy_from_slice(b);
            self.len += b.len();
        }
    }

    fn varint(&mut self, v: usize) {
        let mut v = v as u64;
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.push(&[low]);
                return;
            }
            self.push(&[low | 0x80]);
        }
    }
}

/// Allocates and fills a block (with `next = None`).
fn build(
    name: &[u8],
    value: &[u8],
    version: u64,
    expiry: Option<Expiry>,
    pos: usize,
) -> NonNull<u8> {
    let prefix = Prefix::new(name.len(), value.len(), expiry, pos);
    let name_off = FLAGS_OFF + prefix.len;
    let layout = layout_for(name_off + name.len() + value.len());
    // SAFETY: the layout has a non-zero size (at least 19 bytes).
    let raw = unsafe { alloc(layout) };
    let Some(block) = NonNull::new(raw) else {
        handle_alloc_error(layout)
    };
    let base = block.as_ptr();
    // SAFETY: the block is `layout.size()` bytes, 8-aligned, freshly allocated; every write below is
    // in bounds by construction of the size, and the sources do not overlap the new block.
    unsafe {
        ptr::write(base.cast::<Option<FieldBox>>(), None);
        ptr::write(base.add(VERSION_OFF).cast::<u64>(), version);
        ptr::copy_nonoverlapping(prefix.bytes.as_ptr(), base.add(FLAGS_OFF), prefix.len);
        ptr::copy_nonoverlapping(name.as_ptr(), base.add(name_off), name.len());
        ptr::copy_nonoverlapping(value.as_ptr(), base.add(name_off + name.len()), value.len());
    }
    block
}

/// A non-owning pointer to a field block, as kept by the expiry heap.
///
/// Every accessor is `unsafe`: the caller guarantees that the block is alive (owned by a [`FieldBox`]
/// of the same hash) and that no reference handed out for the bytes it writes is alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FieldRef(NonNull<u8>);

impl FieldRef {
    fn base(self) -> *mut u8 {
        self.0.as_ptr()
    }

    unsafe fn read8(self, off: usize) -> u64 {
        u64::from_le_bytes(ptr::read_unaligned(self.base().add(off).cast::<[u8; 8]>()))
    }

    unsafe fn read_varint(self, mut off: usize) -> (usize, usize) {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *self.base().add(off);
            off += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 || shift >= 63 {
                return (v as usize, off);
            }
            shift += 7;
        }
    }

    unsafe fn shape(self) -> Shape {
        let flags = *self.base().add(FLAGS_OFF);
        let mut off = EXPIRY_OFF;
        if flags & FLAG_EXPIRY != 0 {
            off = DUE_OFF;
        }
        if flags & FLAG_DUE != 0 {
            off += 8;
        }
        let (name_len, off) = self.read_varint(off);
        let (value_len, name_off) = self.read_varint(off);
        Shape {
            name_off,
            name_len,
            value_len,
        }
    }

    /// SAFETY: see the type; the returned slice must not outlive the block.
    pub(crate) unsafe fn name<'a>(self) -> &'a [u8] {
        let s = self.shape();
        std::slice::from_raw_parts(self.base().add(s.name_off), s.name_len)
    }

    /// SAFETY: see the type; the returned slice must not outlive the block.
    unsafe fn value<'a>(self) -> &'a [u8] {
        let s = self.shape();
        std::slice::from_raw_parts(self.base().add(s.value_off()), s.value_len)
    }

    unsafe fn version(self) -> u64 {
        ptr::read(self.base().add(VERSION_OFF).cast::<u64>())
    }

    unsafe fn expiry(self) -> Option<Expiry> {
        let flags = *self.base().add(FLAGS_OFF);
        if flags & FLAG_EXPIRY == 0 {
            return None;
        }
        let at = self.read8(EXPIRY_OFF);
        let due = if flags & FLAG_DUE != 0 {
            self.read8(DUE_OFF)
        } else {
            at
        };
        Some(Expiry { at, due })
    }

    /// The due time, `u64::MAX` for a field without expiry (never in the heap).
    /// SAFETY: see the type.
    pub(crate) unsafe fn due(self) -> u64 {
        self.expiry().map_or(u64::MAX, |e| e.due)
    }

    /// SAFETY: see the type.
    pub(crate) unsafe fn heap_pos(self) -> Option<usize> {
        if *self.base().add(FLAGS_OFF) & FLAG_EXPIRY == 0 {
            return None;
        }
        let mut b = [0u8; 8];
        ptr::copy_nonoverlapping(self.base().add(POS_OFF), b.as_mut_ptr(), POS_LEN);
        Some(u64::from_le_bytes(b) as usize)
    }

    /// Records the field's heap position (ignored for a field without expiry).
    /// SAFETY: see the type.
    pub(crate) unsafe fn set_heap_pos(self, pos: usize) {
        if *self.base().add(FLAGS_OFF) & FLAG_EXPIRY == 0 {
            return;
        }
        let b = (pos.min(MAX_HEAP_POS) as u64).to_le_bytes();
        ptr::copy_nonoverlapping(b.as_ptr(), self.base().add(POS_OFF), POS_LEN);
    }
}

/// An owned field block (a thin pointer).
#[repr(transparent)]
pub(crate) struct FieldBox(NonNull<u8>);

// SAFETY: a FieldBox uniquely owns its block and the chain hanging from it, like a Box; no shared
// mutable state, and `&FieldBox` gives read-only access.
unsafe impl Send for FieldBox {}
// SAFETY: see above.
unsafe impl Sync for FieldBox {}

impl FieldBox {
    pub(crate) fn new(name: &[u8], value: &[u8], version: u64, expiry: Option<Expiry>) -> Self {
        FieldBox(build(name, value, version, expiry, 0))
    }

    /// A deep copy of the field (name, value, version, expiry), unlinked.
    pub(crate) fn duplicate(&self) -> Self {
        let (name, value) = self.name_value();
        FieldBox::new(name, value, self.version(), self.expiry())
    }

    pub(crate) fn handle(&self) -> FieldRef {
        FieldRef(self.0)
    }

    pub(crate) fn name(&self) -> &[u8] {
        // SAFETY: self owns the live block; the slice borrows self.
        unsafe { self.handle().name() }
    }

    pub(crate) fn value(&self) -> &[u8] {
        // SAFETY: as for `name`.
        unsafe { self.handle().value() }
    }

    /// Name and value, decoding the header once.
    pub(crate) fn name_value(&self) -> (&[u8], &[u8]) {
        let h = self.handle();
        // SAFETY: self owns the live block; the slices borrow self.
        unsafe {
            let s = h.shape();
            (
                std::slice::from_raw_parts(h.base().add(s.name_off), s.name_len),
                std::slice::from_raw_parts(h.base().add(s.value_off()), s.value_len),
            )
        }
    }

    pub(crate) fn version(&self) -> u64 {
        // SAFETY: self owns the live block.
        unsafe { self.handle().version() }
    }

    pub(crate) fn expiry(&self) -> Option<Expiry> {
        // SAFETY: self owns the live block.
        unsafe { self.handle().expiry() }
    }

    pub(crate) fn heap_pos(&self) -> Option<usize> {
        // SAFETY: self owns the live block.
        unsafe { self.handle().heap_pos() }
    }

    /// Bytes of the block as requested from the allocator.
    pub(crate) fn block_size(&self) -> usize {
        // SAFETY: self owns the live block.
        unsafe { self.handle().shape().size() }
    }

    pub(crate) fn set_version(&mut self, version: u64) {
        // SAFETY: self uniquely owns the live block; offset 8..16 is the version.
        unsafe { ptr::write(self.0.as_ptr().add(VERSION_OFF).cast::<u64>(), version) }
    }

    /// Replaces the value. The block moves when the length changes: the caller re-points the heap.
    pub(crate) fn set_value(&mut self, value: &[u8]) {
        let h = self.handle();
        // SAFETY: self uniquely owns the live block; `value` cannot borrow it (we hold `&mut self`).
        unsafe {
            let s = h.shape();
            if s.value_len == value.len() {
                ptr::copy_nonoverlapping(value.as_ptr(), h.base().add(s.value_off()), value.len());
                return;
            }
        }
        self.rebuild(Some(value), self.expiry());
    }

    /// Sets or removes the expiry. The block moves when the header shape changes: the caller
    /// re-points the heap. The heap position is kept while the field keeps an expiry.
    pub(crate) fn set_expiry(&mut self, expiry: Option<Expiry>) {
        let h = self.handle();
        // SAFETY: self uniquely owns the live block.
        let flags = unsafe { *h.base().add(FLAGS_OFF) };
        let want = expiry.map_or(0, Expiry::flags);
        match expiry {
            Some(e) if flags == want => {
                // SAFETY: same shape, so the expiry (and due) slots exist.
                unsafe {
                    ptr::copy_nonoverlapping(
                        e.at.to_le_bytes().as_ptr(),
                        h.base().add(EXPIRY_OFF),
                        8,
                    );
                    if want & FLAG_DUE != 0 {
                        ptr::copy_nonoverlapping(
                            e.due.to_le_bytes().as_ptr(),
                            h.base().add(DUE_OFF),
                            8,
                        );
                    }
                }
            }
            None if flags == 0 => {}
            _ => self.rebuild(None, expiry),
        }
    }

    /// Moves the field into a new block with another value and/or expiry, keeping name, version, heap
    /// position and chain link.
    fn rebuild(&mut self, value: Option<&[u8]>, expiry: Option<Expiry>) {
        let old = self.handle();
        // SAFETY: self uniquely owns `old`; its slices are used before it is freed; the chain link is
        // moved (read, then written into the new block) and the old block freed without dropping it.
        unsafe {
            let shape = old.shape();
            let pos = old.heap_pos().unwrap_or(0);
            let new = build(
                old.name(),
                value.unwrap_or_else(|| old.value()),
                old.version(),
                expiry,
                pos,
            );
            let next = ptr::read(old.base().cast::<Option<FieldBox>>());
            ptr::write(new.as_ptr().cast::<Option<FieldBox>>(), next);
            dealloc(old.base(), layout_for(shape.size()));
            self.0 = new;
        }
    }

    pub(crate) fn next(&self) -> Option<&FieldBox> {
        // SAFETY: offset 0 holds an initialised Option<FieldBox> owned by this block.
        unsafe { (*self.0.as_ptr().cast::<Option<FieldBox>>()).as_ref() }
    }

    pub(crate) fn next_mut(&mut self) -> &mut Option<FieldBox> {
        // SAFETY: as for `next`; uniqueness follows from `&mut self`.
        unsafe { &mut *self.0.as_ptr().cast::<Option<FieldBox>>() }
    }

    pub(crate) fn take_next(&mut self) -> Option<FieldBox> {
        self.next_mut().take()
    }
}

impl Drop for FieldBox {
    fn drop(&mut self) {
        // Unlink the chain first and drop it iteratively (no recursion on long chains).
        let mut next = self.take_next();
        while let Some(mut f) = next {
            next = f.take_next();
            drop(f);
        }
        let h = self.handle();
        // SAFETY: self owns the block; nothing refers to it after drop.
        unsafe {
            let size = h.shape().size();
            dealloc(h.base(), layout_for(size));
        }
    }
}

impl std::fmt::Debug for FieldBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldBox")
            .field("name", &self.name())
            .field("value", &self.value())
            .field("version", &self.version())
            .field("expiry", &self.expiry())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_sizes() {
        let name = [b'n'; 16];
        let value = [b'v'; 16];
        assert_eq!(FieldBox::new(&name, &value, 1, None).block_size(), 51);
        let e = Expiry::written(10_000, 5);
        assert_eq!(FieldBox::new(&name, &value, 1, Some(e)).block_size(), 64);
        let e = Expiry::written(10, 5_000);
        assert_eq!(e, Expiry { at: 10, due: 5_000 });
        assert_eq!(FieldBox::new(&name, &value, 1, Some(e)).block_size(), 72);
    }

    #[test]
    fn accessors_and_mutation() {
        let mut f = FieldBox::new(b"", b"", 7, None);
        assert_eq!(f.name_value(), (&b""[..], &b""[..]));
        assert_eq!(f.version(), 7);
        assert_eq!(f.expiry(), None);
        assert_eq!(f.heap_pos(), None);

        let long = vec![b'x'; 300];
        let mut f2 = FieldBox::new(b"name", &long, u64::MAX >> 1, None);
        assert_eq!(f2.value(), &long[..]);
        f2.set_value(b"short");
        assert_eq!(f2.value(), b"short");
        assert_eq!(f2.name(), b"name");
        assert_eq!(f2.version(), u64::MAX >> 1);
        f2.set_value(b"SHORT");
        assert_eq!(f2.value(), b"SHORT");

        let e1 = Expiry { at: 100, due: 100 };
        f2.set_expiry(Some(e1));
        assert_eq!(f2.expiry(), Some(e1));
        // SAFETY: f2 is alive.
        unsafe { f2.handle().set_heap_pos(123_456_789) };
        assert_eq!(f2.heap_pos(), Some(123_456_789));
        let e2 = Expiry { at: 50, due: 90 };
        f2.set_expiry(Some(e2));
        assert_eq!(f2.expiry(), Some(e2));
        assert_eq!(f2.heap_pos(), Some(123_456_789));
        f2.set_expiry(Some(Expiry { at: 60, due: 95 }));
        assert_eq!(f2.expiry(), Some(Expiry { at: 60, due: 95 }));
        f2.set_value(&long);
        assert_eq!(f2.value(), &long[..]);
        assert_eq!(f2.expiry(), Some(Expiry { at: 60, due: 95 }));
        f2.set_expiry(None);
        assert_eq!(f2.expiry(), None);
        assert_eq!(f2.name(), b"name");
        f2.set_version(3);
        assert_eq!(f2.version(), 3);

        // Chains are moved along with rebuilds and dropped without recursion.
        f.next_mut().replace(f2);
        f.set_value(b"grown value");
        assert_eq!(f.next().map(FieldBox::name), Some(&b"name"[..]));
        let mut head = f;
        let chain = if cfg!(miri) { 2_000 } else { 100_000u32 };
        for i in 0..chain {
            let mut n = FieldBox::new(&i.to_le_bytes(), b"", 1, None);
            *n.next_mut() = Some(head);
            head = n;
        }
        drop(head);
    }

    #[test]
    fn duplicate_copies_everything() {
        let f = FieldBox::new(b"a", b"b", 9, Some(Expiry { at: 3, due: 4 }));
        let g = f.duplicate();
        assert_eq!(g.name_value(), (&b"a"[..], &b"b"[..]));
        assert_eq!(g.version(), 9);
        assert_eq!(g.expiry(), Some(Expiry { at: 3, due: 4 }));
        assert!(g.next().is_none());
    }
}
