//! The `exstrtype` value: a binary-safe string with a version and a 32-bit flags word.

/// The largest value a string may reach (Valkey's `proto-max-bulk-len` default).
pub const MAX_LEN: usize = 512 * 1024 * 1024;
/// The largest version (2^63 - 1).
pub const MAX_VERSION: u64 = i64::MAX as u64;

/// A string would pass [`MAX_LEN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

/// Value bytes of a value too long for the inline form: up to 24 bytes live inside the heap part itself.
pub type Bytes = smallvec::SmallVec<[u8; 24]>;

/// Bytes of the inline form (with its one-byte tag the whole value is 16 bytes: the server's value
/// pointer points at a 16-byte block, jemalloc's second-smallest size class).
const INLINE: usize = 15;

/// A string with its version and flags.
///
/// Two forms, invisible outside this file (replies, RDB, DUMP and AOF see only value, version, flags):
/// - inline: when the value, its length byte and version and flags as LEB128 varints fit in 15 bytes
///   (e.g. a 12-byte value at version < 128 and flags < 128): no allocation besides the value itself;
/// - heap: version, flags and value (itself inline up to 24 bytes) in a second block.
///
/// Every write keeps the canonical form (inline whenever it fits), so equal strings have equal forms.
#[derive(Clone)]
pub struct ExString(Repr);

#[derive(Clone)]
enum Repr {
    /// Byte 0: value length L; bytes 1 ..= L: the value; then version and flags as LEB128 varints;
    /// the rest zero.
    Inline([u8; INLINE]),
    Heap(Box<Heap>),
}

#[derive(Clone)]
struct Heap {
    value: Bytes,
    version: u64,
    flags: u32,
}

/// Appends `v` as LEB128 at `at`; `None` if it does not fit.
fn put_varint(buf: &mut [u8; INLINE], mut at: usize, mut v: u64) -> Option<usize> {
    loop {
        let b = buf.get_mut(at)?;
        at += 1;
        if v < 0x80 {
            *b = v as u8;
            return Some(at);
        }
        *b = (v as u8 & 0x7f) | 0x80;
        v >>= 7;
    }
}

/// Reads a LEB128 varint written by [`put_varint`] at `at`: (value, next position).
#[inline]
fn get_varint(buf: &[u8; INLINE], mut at: usize) -> (u64, usize) {
    let (mut v, mut shift) = (0u64, 0u32);
    while let Some(&b) = buf.get(at) {
        at += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    (v, at)
}

/// The inline form of (value, version, flags), if it fits.
fn inline(value: &[u8], version: u64, flags: u32) -> Option<[u8; INLINE]> {
    let mut buf = [0u8; INLINE];
    let len = u8::try_from(value.len()).ok()?;
    *buf.first_mut()? = len;
    buf.get_mut(1..1 + value.len())?.copy_from_slice(value);
    let at = put_varint(&mut buf, 1 + value.len(), version)?;
    put_varint(&mut buf, at, u64::from(flags))?;
    Some(buf)
}

impl std::fmt::Debug for ExString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExString")
            .field("value", &self.value())
            .field("version", &self.version())
            .field("flags", &self.flags())
            .finish()
    }
}

impl PartialEq for ExString {
    fn eq(&self, o: &Self) -> bool {
        self.value() == o.value() && self.version() == o.version() && self.flags() == o.flags()
    }
}

impl Eq for ExString {}

/// Why a version rule refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionError {
    /// `VER v` named another version.
    Stale,
    /// old + 1 would pass 2^63 - 1 (or old is already past it: a version loaded from a C module's data).
    Overflow,
}

/// The version argument of a write: `VER v` (check) or `ABS v` (set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionArg {
    #[default]
    None,
    Ver(u64),
    Abs(u64),
}

impl VersionArg {
    /// The version of a key created by a write.
    pub fn initial(self) -> u64 {
        match self {
            VersionArg::Abs(v) => v,
            _ => 1,
        }
    }

    /// Checks `VER` against `current` (`VER 0` means no check).
    pub fn check(self, current: u64) -> Result<(), VersionError> {
        match self {
            VersionArg::Ver(v) if v != 0 && v != current => Err(VersionError::Stale),
            _ => Ok(()),
        }
    }

    /// The version after a successful modification of a value at `current`.
    pub fn next(self, current: u64) -> Result<u64, VersionError> {
        match self {
            VersionArg::Abs(v) => Ok(v),
            _ => current
                .checked_add(1)
                .filter(|&v| v <= MAX_VERSION)
                .ok_or(VersionError::Overflow),
        }
    }
}

impl ExString {
    /// Active defragmentation: the heap part and a spilled value buffer move if the allocator wants
    /// them elsewhere (an inline value moves with its owner).
    pub fn defrag(&mut self, d: &mut tair_common::value::Defrag) {
        if let Repr::Heap(h) = &mut self.0 {
            d.boxed(h);
            d.small_vec(&mut h.value);
        }
    }

    pub fn new(value: &[u8], version: u64, flags: u32) -> Self {
        match inline(value, version, flags) {
            Some(buf) => ExString(Repr::Inline(buf)),
            None => ExString(Repr::Heap(Box::new(Heap {
                value: Bytes::from_slice(value),
                version,
                flags,
            }))),
        }
    }

    /// The value bytes.
    #[inline]
    pub fn value(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(buf) => {
                let len = usize::from(buf[0]);
                buf.get(1..1 + len).unwrap_or_default()
            }
            Repr::Heap(h) => &h.value,
        }
    }

    #[inline]
    pub fn version(&self) -> u64 {
        match &self.0 {
            Repr::Inline(buf) => get_varint(buf, 1 + usize::from(buf[0])).0,
            Repr::Heap(h) => h.version,
        }
    }

    #[inline]
    pub fn flags(&self) -> u32 {
        match &self.0 {
            Repr::Inline(buf) => {
                let (_, at) = get_varint(buf, 1 + usize::from(buf[0]));
                get_varint(buf, at).0 as u32
            }
            Repr::Heap(h) => h.flags,
        }
    }

    /// Replaces value, version and flags (the heap block is reused when the result stays on the heap).
    pub fn set(&mut self, value: &[u8], version: u64, flags: u32) {
        match (&mut self.0, inline(value, version, flags)) {
            (_, Some(buf)) => self.0 = Repr::Inline(buf),
            (Repr::Heap(h), None) => {
                h.value.clear();
                h.value.extend_from_slice(value);
                h.version = version;
                h.flags = flags;
            }
            (Repr::Inline(_), None) => *self = ExString::new(value, version, flags),
        }
    }

    pub fn set_version(&mut self, version: u64) {
        match &mut self.0 {
            // A smaller version may let a heap value fit inline again (the form stays canonical).
            Repr::Heap(h) => match inline(&h.value, version, h.flags) {
                Some(buf) => self.0 = Repr::Inline(buf),
                None => h.version = version,
            },
            Repr::Inline(_) => self.reencode(self.value_inline_copy(), version, self.flags()),
        }
    }

    /// A copy of an inline value (at most 14 bytes) to rebuild the inline form from.
    fn value_inline_copy(&self) -> ([u8; INLINE], usize) {
        let mut out = [0u8; INLINE];
        let v = self.value();
        let n = v.len().min(INLINE);
        if let (Some(dst), Some(src)) = (out.get_mut(..n), v.get(..n)) {
            dst.copy_from_slice(src);
        }
        (out, n)
    }

    fn reencode(&mut self, (buf, n): ([u8; INLINE], usize), version: u64, flags: u32) {
        *self = ExString::new(buf.get(..n).unwrap_or_default(), version, flags);
    }

    /// Bytes used by the value (what MEMORY USAGE reports for it): the 16-byte value block, plus the
    /// heap block and a spilled value buffer.
    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.0 {
                Repr::Inline(_) => 0,
                Repr::Heap(h) => {
                    std::mem::size_of::<Heap>()
                        + if h.value.spilled() {
                            h.value.capacity()
                        } else {
                            0
                        }
                }
            }
    }

    /// Appends (or prepends) `data`; refuses a result over [`MAX_LEN`].
    pub fn extend(&mut self, data: &[u8], prepend: bool) -> Result<(), TooLong> {
        let total = self.value().len().checked_add(data.len()).ok_or(TooLong)?;
        if total > MAX_LEN {
            return Err(TooLong);
        }
        match &mut self.0 {
            Repr::Heap(h) => {
                if prepend {
                    h.value.insert_from_slice(0, data);
                } else {
                    h.value.extend_from_slice(data);
                }
            }
            Repr::Inline(_) => {
                let mut joined = Vec::with_capacity(total);
                if prepend {
                    joined.extend_from_slice(data);
                    joined.extend_from_slice(self.value());
                } else {
                    joined.extend_from_slice(self.value());
                    joined.extend_from_slice(data);
                }
                let (version, flags) = (self.version(), self.flags());
                *self = ExString::new(&joined, version, flags);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_rules() {
        assert_eq!(VersionArg::None.initial(), 1);
        assert_eq!(VersionArg::Ver(5).initial(), 1);
        assert_eq!(VersionArg::Abs(0).initial(), 0);
        assert_eq!(VersionArg::Ver(0).check(7), Ok(()));
        assert_eq!(VersionArg::Ver(7).check(7), Ok(()));
        assert_eq!(VersionArg::Ver(6).check(7), Err(VersionError::Stale));
        assert_eq!(VersionArg::Abs(3).check(7), Ok(()));
        assert_eq!(VersionArg::None.next(7), Ok(8));
        assert_eq!(VersionArg::Abs(3).next(7), Ok(3));
        assert_eq!(
            VersionArg::None.next(MAX_VERSION),
            Err(VersionError::Overflow)
        );
        assert_eq!(VersionArg::Abs(1).next(MAX_VERSION), Ok(1));
        // A version past 2^63-1 (only ever loaded from a C module's data) cannot be raised; ABS
        // replaces it.
        let wrapped = MAX_VERSION + 1;
        assert_eq!(VersionArg::None.next(wrapped), Err(VersionError::Overflow));
        assert_eq!(VersionArg::None.next(u64::MAX), Err(VersionError::Overflow));
        assert_eq!(VersionArg::Abs(5).next(wrapped), Ok(5));
    }

    #[test]
    fn extend_both_ends() {
        let mut s = ExString::new(b"foo", 1, 0);
        s.extend(b"baz", false).unwrap();
        s.extend(b"bar", true).unwrap();
        assert_eq!(s.value(), b"barfoobaz");
        assert!(s.extend(&vec![0u8; MAX_LEN], false).is_err());
        assert_eq!(s.value(), b"barfoobaz");
    }

    #[test]
    fn value_block_is_16_bytes() {
        assert_eq!(std::mem::size_of::<ExString>(), 16);
    }

    /// Both forms, and the moves between them, keep value, version and flags.
    #[test]
    fn forms_agree() {
        let versions = [0, 1, 127, 128, 300, 1 << 35, MAX_VERSION, u64::MAX];
        let flags = [0, 1, 127, 128, 70000, u32::MAX];
        for len in [0usize, 1, 7, 12, 13, 14, 15, 24, 25, 100] {
            let value: Vec<u8> = (0..len).map(|i| (i * 37 + 1) as u8).collect();
            for &ver in &versions {
                for &f in &flags {
                    let s = ExString::new(&value, ver, f);
                    assert_eq!((s.value(), s.version(), s.flags()), (&value[..], ver, f));
                    let fits = 1 + len + varint_len(ver) + varint_len(u64::from(f)) <= INLINE;
                    assert_eq!(matches!(s.0, Repr::Inline(_)), fits, "{len} {ver} {f}");
                    let mut t = s.clone();
                    t.set_version(ver ^ 0x55);
                    assert_eq!(
                        (t.value(), t.version(), t.flags()),
                        (&value[..], ver ^ 0x55, f)
                    );
                    // Canonical after set_version too: inline whenever it fits (found by the
                    // fuzzer: a heap value given a small version stayed on the heap).
                    let mut v = s.clone();
                    v.set_version(1);
                    let fits1 = 1 + len + 1 + varint_len(u64::from(f)) <= INLINE;
                    assert_eq!(matches!(v.0, Repr::Inline(_)), fits1, "{len} {ver} {f}");
                    assert_eq!((v.value(), v.version(), v.flags()), (&value[..], 1, f));
                    let mut u = ExString::new(b"x", 1, 0);
                    u.set(&value, ver, f);
                    assert_eq!(u, s);
                    u.set(b"y", 2, 3);
                    assert_eq!(u, ExString::new(b"y", 2, 3));
                    assert!(matches!(u.0, Repr::Inline(_)));
                    let mut e = s.clone();
                    e.extend(b"abc", true).unwrap();
                    e.extend(b"def", false).unwrap();
                    let mut want = b"abc".to_vec();
                    want.extend_from_slice(&value);
                    want.extend_from_slice(b"def");
                    assert_eq!((e.value(), e.version(), e.flags()), (&want[..], ver, f));
                }
            }
        }
    }

    fn varint_len(mut v: u64) -> usize {
        let mut n = 1;
        while v >= 0x80 {
            v >>= 7;
            n += 1;
        }
        n
    }
}
