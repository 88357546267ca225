//! The `exstrtype` value: a binary-safe string with a version and a 32-bit flags word.

/// The largest value a string may reach (Valkey's `proto-max-bulk-len` default).
pub const MAX_LEN: usize = 512 * 1024 * 1024;
/// The largest version (2^63 - 1).
pub const MAX_VERSION: u64 = i64::MAX as u64;

/// A string would pass [`MAX_LEN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

/// Value bytes: up to 24 bytes live inside the value itself (one allocation and one cache miss fewer
/// per read than a separate buffer), longer ones on the heap.
pub type Bytes = smallvec::SmallVec<[u8; 24]>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExString {
    pub value: Bytes,
    pub version: u64,
    pub flags: u32,
}

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
    pub fn new(value: &[u8], version: u64, flags: u32) -> Self {
        ExString {
            value: Bytes::from_slice(value),
            version,
            flags,
        }
    }

    /// Bytes used by the value (what MEMORY USAGE reports for it).
    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + if self.value.spilled() {
                self.value.capacity()
            } else {
                0
            }
    }

    /// Appends (or prepends) `data`; refuses a result over [`MAX_LEN`].
    pub fn extend(&mut self, data: &[u8], prepend: bool) -> Result<(), TooLong> {
        let total = self.value.len().checked_add(data.len()).ok_or(TooLong)?;
        if total > MAX_LEN {
            return Err(TooLong);
        }
        if prepend {
            self.value.insert_from_slice(0, data);
        } else {
            self.value.extend_from_slice(data);
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
        assert_eq!(&s.value[..], b"barfoobaz");
        assert!(s.extend(&vec![0u8; MAX_LEN], false).is_err());
        assert_eq!(&s.value[..], b"barfoobaz");
    }
}
