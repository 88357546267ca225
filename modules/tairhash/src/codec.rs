//! The persisted layout (RDB / DUMP, spec §5.4) over `tair-common`'s byte-level [`Sink`] / [`Source`]
//! (the server's RDB IO in the module, `VecSink` / `SliceSource` in tests).
//!
//! Type `tairhash-`, encoding version 0, Tair's layout:
//!
//! ```text
//! unsigned  field count (>= 1)
//! string    key name at save time (ignored on load)
//! per field:
//!   string    name
//!   unsigned  version (1 ..= 2^64-1: ours stay <= 2^63-1, see below)
//!   unsigned  expiry in absolute ms (0 = none; else <= 2^63-1)
//!   string    value
//! ```
//!
//! A version above 2^63-1 is what the C module saves once a field's signed version counter wrapped
//! (`EXHSET k f a ABS 9223372036854775807` then `EXHSET k f b`): it loads as it is, EXHVER reports it as
//! the C module does (the signed number with the same bits, -9223372036854775808) and the next write
//! that would raise it fails with `ERR version overflow` (README, "Data from the C modules"). Version 0
//! is corrupt: no command of either module gives a field version 0.
//!
//! All stored fields are saved, expired ones included, and loaded as they are. Loading validates every
//! item and returns an error, never panics, and allocates nothing in proportion to a count it has not
//! read the data for.

use std::fmt;

use tair_common::rdb::{RdbError, Sink, Source};

use crate::hash::TairHash;
use crate::options::MAX_EXPIRE_MS;

/// The data type's name (nine characters, as Valkey requires).
pub const TYPE_NAME: &str = "tairhash-";
/// The encoding version written by [`TairHash::save`].
pub const ENCODING_VERSION: i32 = 0;

/// Why a persisted value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The source failed (short or corrupt input); the text says why.
    Io(String),
    UnknownEncoding(i32),
    /// A hash without fields (a key never holds zero fields).
    NoFields,
    BadVersion(u64),
    BadExpiry(u64),
    DuplicateField,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(m) => write!(f, "tairhash: read error: {m}"),
            LoadError::UnknownEncoding(v) => write!(f, "tairhash: unknown encoding version {v}"),
            LoadError::NoFields => f.write_str("tairhash: empty hash"),
            LoadError::BadVersion(v) => write!(f, "tairhash: invalid field version {v}"),
            LoadError::BadExpiry(v) => write!(f, "tairhash: invalid field expiry {v}"),
            LoadError::DuplicateField => f.write_str("tairhash: duplicate field"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<RdbError> for LoadError {
    fn from(e: RdbError) -> Self {
        LoadError::Io(e.0)
    }
}

impl TairHash {
    /// Writes the value in the current encoding ([`ENCODING_VERSION`]). O(N).
    pub fn save<S: Sink + ?Sized>(&self, out: &mut S, key: &[u8]) {
        out.write_u64(self.len() as u64);
        out.write_bytes(key);
        for f in self.iter() {
            out.write_bytes(f.name);
            out.write_u64(f.version);
            out.write_u64(f.expiry.unwrap_or(0));
            out.write_bytes(f.value);
        }
    }

    /// Reads a value written with encoding `encver`. `now` is the loading moment: a field already
    /// expired gets it as its due time (§2.1). O(N).
    pub fn load<S: Source + ?Sized>(
        input: &mut S,
        encver: i32,
        now: u64,
    ) -> Result<TairHash, LoadError> {
        if encver != 0 {
            return Err(LoadError::UnknownEncoding(encver));
        }
        let count = input.read_u64()?;
        if count == 0 {
            return Err(LoadError::NoFields);
        }
        input.read_bytes(usize::MAX)?;
        let mut hash = TairHash::for_load(count);
        for _ in 0..count {
            let name = input.read_bytes(usize::MAX)?;
            let version = input.read_u64()?;
            if version == 0 {
                return Err(LoadError::BadVersion(version));
            }
            let expiry = match input.read_u64()? {
                0 => None,
                t if t <= MAX_EXPIRE_MS => Some(t),
                t => return Err(LoadError::BadExpiry(t)),
            };
            let value = input.read_bytes(usize::MAX)?;
            if !hash.insert_loaded(&name, &value, version, expiry, now) {
                return Err(LoadError::DuplicateField);
            }
        }
        Ok(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{ExpiryChange, SetOptions, VersionRule, MAX_VERSION};
    use proptest::prelude::*;
    use tair_common::rdb::{SliceSource, VecSink};

    fn sample() -> TairHash {
        let mut h = TairHash::new();
        let set = |h: &mut TairHash, n: &[u8], v: &[u8], version, expiry| {
            let opts = SetOptions {
                version,
                expiry,
                ..Default::default()
            };
            assert!(h.set(n, v, opts, 1_000).is_ok());
        };
        set(
            &mut h,
            b"name",
            b"Alice",
            VersionRule::Bump,
            ExpiryChange::Clear,
        );
        set(
            &mut h,
            b"session",
            b"tok",
            VersionRule::Abs(7),
            ExpiryChange::At(301_000),
        );
        set(
            &mut h,
            b"",
            b"",
            VersionRule::Abs(MAX_VERSION),
            ExpiryChange::At(5),
        );
        set(
            &mut h,
            b"bin\0\xff",
            &[0, 1, 2, 255],
            VersionRule::Bump,
            ExpiryChange::At(MAX_EXPIRE_MS),
        );
        h
    }

    type Row = (Vec<u8>, Vec<u8>, u64, Option<u64>);

    fn fields(h: &TairHash) -> Vec<Row> {
        let mut v: Vec<_> = h
            .iter()
            .map(|f| (f.name.to_vec(), f.value.to_vec(), f.version, f.expiry))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn round_trip() {
        let h = sample();
        let mut sink = VecSink::default();
        h.save(&mut sink, b"user:1001");
        let mut src = SliceSource::new(&sink.data);
        let back = TairHash::load(&mut src, ENCODING_VERSION, 2_000).unwrap_or_default();
        assert_eq!(src.remaining(), 0);
        assert_eq!(fields(&back), fields(&h));
        assert_eq!(back.digest(), h.digest());
        back.check_invariants();
        // The already-expired field is loaded as it is, due at the loading moment.
        assert_eq!(back.len(), 4);
        assert_eq!(back.len_live(2_000), 3);
        assert_eq!(back.earliest_due(), Some(2_000));
    }

    #[test]
    fn exact_layout() {
        let mut h = TairHash::new();
        let opts = SetOptions {
            version: VersionRule::Abs(2),
            expiry: ExpiryChange::At(300_000),
            ..Default::default()
        };
        assert!(h.set(b"f", b"val", opts, 0).is_ok());
        let mut sink = VecSink::default();
        h.save(&mut sink, b"k");
        let mut want = Vec::new();
        for part in [
            &1u64.to_le_bytes()[..],
            &1u64.to_le_bytes(),
            b"k",
            &1u64.to_le_bytes(),
            b"f",
        ] {
            want.extend_from_slice(part);
        }
        for part in [
            &2u64.to_le_bytes()[..],
            &300_000u64.to_le_bytes(),
            &3u64.to_le_bytes(),
            b"val",
        ] {
            want.extend_from_slice(part);
        }
        assert_eq!(sink.data, want);
    }

    fn encode(count: u64, fields: &[(&[u8], u64, u64, &[u8])]) -> Vec<u8> {
        let mut s = VecSink::default();
        s.write_u64(count);
        s.write_bytes(b"key");
        for (n, ver, exp, v) in fields {
            s.write_bytes(n);
            s.write_u64(*ver);
            s.write_u64(*exp);
            s.write_bytes(v);
        }
        s.data
    }

    fn load(data: &[u8]) -> Result<TairHash, LoadError> {
        TairHash::load(&mut SliceSource::new(data), 0, 1)
    }

    #[test]
    fn forged_input_is_refused() {
        assert!(load(&encode(1, &[(b"f", 1, 0, b"v")])).is_ok());
        assert_eq!(load(&encode(0, &[])).err(), Some(LoadError::NoFields));
        assert_eq!(
            load(&encode(1, &[(b"f", 0, 0, b"v")])).err(),
            Some(LoadError::BadVersion(0))
        );
        // What the C module saves once a version wrapped past 2^63-1 loads as it is.
        for ver in [1 << 63, (1 << 63) + 1, u64::MAX] {
            let data = encode(1, &[(b"f", ver, 0, b"v")]);
            let h = load(&data).unwrap_or_default();
            assert_eq!(fields(&h), vec![(b"f".to_vec(), b"v".to_vec(), ver, None)]);
            let mut again = VecSink::default();
            h.save(&mut again, b"key");
            assert_eq!(again.data, data);
        }
        assert_eq!(
            load(&encode(1, &[(b"f", 1, u64::MAX, b"v")])).err(),
            Some(LoadError::BadExpiry(u64::MAX))
        );
        assert_eq!(
            load(&encode(2, &[(b"f", 1, 0, b"v"), (b"f", 2, 0, b"w")])).err(),
            Some(LoadError::DuplicateField)
        );
        // A count far beyond the data: fails at the end of the data, allocates nothing up front.
        assert!(matches!(
            load(&encode(u64::MAX, &[(b"f", 1, 0, b"v")])),
            Err(LoadError::Io(_))
        ));
        // A string length beyond the data.
        let mut forged = encode(1, &[]);
        forged.extend_from_slice(&(u64::MAX - 3).to_le_bytes());
        assert!(matches!(load(&forged), Err(LoadError::Io(_))));
        assert_eq!(
            TairHash::load(&mut SliceSource::new(&[]), 1, 0).err(),
            Some(LoadError::UnknownEncoding(1))
        );
    }

    #[test]
    fn every_truncation_is_refused() {
        let mut sink = VecSink::default();
        sample().save(&mut sink, b"k");
        for cut in 0..sink.data.len() {
            assert!(
                load(sink.data.get(..cut).unwrap_or_default()).is_err(),
                "cut at {cut}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(h) = load(&data) {
                h.check_invariants();
            }
        }

        #[test]
        fn mutated_payload_never_panics(pos in 0usize..400, byte in any::<u8>()) {
            let mut sink = VecSink::default();
            sample().save(&mut sink, b"k");
            if let Some(b) = sink.data.get_mut(pos) {
                *b = byte;
            }
            if let Ok(h) = load(&sink.data) {
                h.check_invariants();
            }
        }
    }
}
