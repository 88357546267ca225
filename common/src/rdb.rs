//! Typed, fallible RDB reading and writing over the module IO, the AOF emitter and the digest.
//!
//! With `HANDLE_IO_ERRORS` set at load, a short or corrupt read does not abort the server: the IO is
//! flagged and the load function returns a default. Every read here checks that flag and returns `Err`.

use std::ffi::{c_longlong, CStr};
use std::fmt;

use crate::api;
use crate::ffi::raw;
use crate::string::OwnedString;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError(pub String);

impl RdbError {
    pub fn msg(m: impl Into<String>) -> Self {
        RdbError(m.into())
    }
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RdbError {}

/// Byte-level input a persisted value is read from (the RDB in the server; a slice in unit tests).
pub trait Source {
    fn read_u64(&mut self) -> Result<u64, RdbError>;
    fn read_i64(&mut self) -> Result<i64, RdbError>;
    fn read_f64(&mut self) -> Result<f64, RdbError>;
    /// A length-prefixed byte string of at most `max` bytes.
    fn read_bytes(&mut self, max: usize) -> Result<Vec<u8>, RdbError>;

    /// A length-prefixed byte string of at most `max` bytes, lent to `f` (a reader that can lend its
    /// own buffer saves the copy [`read_bytes`](Self::read_bytes) makes).
    fn with_bytes<R>(&mut self, max: usize, f: impl FnOnce(&[u8]) -> R) -> Result<R, RdbError>
    where
        Self: Sized,
    {
        let b = self.read_bytes(max)?;
        Ok(f(&b))
    }

    /// A count of at most `max` (bounds any allocation made from a number read from the file).
    fn read_len(&mut self, max: u64) -> Result<usize, RdbError> {
        let n = self.read_u64()?;
        if n > max {
            return Err(RdbError::msg(format!("length {n} exceeds the limit {max}")));
        }
        usize::try_from(n).map_err(|_| RdbError::msg("length does not fit"))
    }
}

/// Byte-level output a value is persisted to.
pub trait Sink {
    fn write_u64(&mut self, v: u64);
    fn write_i64(&mut self, v: i64);
    fn write_f64(&mut self, v: f64);
    fn write_bytes(&mut self, b: &[u8]);
}

/// Reads from a module RDB IO.
pub struct RdbReader {
    io: *mut raw::RedisModuleIO,
}

impl RdbReader {
    pub fn new(io: *mut raw::RedisModuleIO) -> Self {
        RdbReader { io }
    }

    /// The name of the key being loaded (empty where the server cannot tell).
    pub fn key_name(&self) -> Vec<u8> {
        io_key_name(self.io)
    }

    /// The database the key is loaded into (`RedisModule_GetDbIdFromIO`), if the server tells.
    pub fn db_id(&self) -> Option<i32> {
        // SAFETY: plain read of a function pointer filled in at load.
        let get = unsafe { raw::RedisModule_GetDbIdFromIO }?;
        // SAFETY: live IO of the load callback.
        Some(unsafe { get(self.io) })
    }

    fn check(&self) -> Result<(), RdbError> {
        // SAFETY: valid IO for the duration of the load callback.
        if unsafe { api!(RedisModule_IsIOError)(self.io) } != 0 {
            Err(RdbError::msg("short read or corrupt payload"))
        } else {
            Ok(())
        }
    }
}

impl Source for RdbReader {
    fn read_u64(&mut self) -> Result<u64, RdbError> {
        // SAFETY: valid IO.
        let v = unsafe { api!(RedisModule_LoadUnsigned)(self.io) };
        self.check()?;
        Ok(v)
    }

    fn read_i64(&mut self) -> Result<i64, RdbError> {
        // SAFETY: valid IO.
        let v = unsafe { api!(RedisModule_LoadSigned)(self.io) };
        self.check()?;
        Ok(v)
    }

    fn read_f64(&mut self) -> Result<f64, RdbError> {
        // SAFETY: valid IO.
        let v = unsafe { api!(RedisModule_LoadDouble)(self.io) };
        self.check()?;
        Ok(v)
    }

    fn read_bytes(&mut self, max: usize) -> Result<Vec<u8>, RdbError> {
        self.with_bytes(max, <[u8]>::to_vec)
    }

    fn with_bytes<R>(&mut self, max: usize, f: impl FnOnce(&[u8]) -> R) -> Result<R, RdbError> {
        let mut len = 0usize;
        // SAFETY: valid IO; on success the server returns a buffer we must free with RedisModule_Free.
        let p = unsafe { api!(RedisModule_LoadStringBuffer)(self.io, &mut len) };
        let io_err = self.check();
        if p.is_null() {
            io_err?;
            return Err(RdbError::msg("string load failed"));
        }
        // The buffer is freed below whatever `f` does (a panic in `f` is caught further up, by the
        // callback's guard; the buffer then leaks, which is all).
        let out = if io_err.is_ok() && len <= max {
            // SAFETY: `len` bytes at `p`, alive until freed below.
            Ok(f(unsafe {
                std::slice::from_raw_parts(p.cast::<u8>(), len)
            }))
        } else {
            Err(io_err
                .err()
                .unwrap_or_else(|| RdbError::msg(format!("string of {len} bytes exceeds {max}"))))
        };
        // SAFETY: buffer allocated by the server for us.
        unsafe { api!(RedisModule_Free)(p.cast()) };
        out
    }
}

/// Writes to a module RDB IO.
pub struct RdbWriter {
    io: *mut raw::RedisModuleIO,
}

impl RdbWriter {
    pub fn new(io: *mut raw::RedisModuleIO) -> Self {
        RdbWriter { io }
    }

    /// The name of the key being saved (empty where the server cannot tell).
    pub fn key_name(&self) -> Vec<u8> {
        io_key_name(self.io)
    }
}

/// The key an RDB IO is loading or saving (`RedisModule_GetKeyNameFromIO`, Redis 7.0+ / Valkey).
fn io_key_name(io: *mut raw::RedisModuleIO) -> Vec<u8> {
    // SAFETY: plain read of a function pointer filled in at load.
    let Some(get) = (unsafe { raw::RedisModule_GetKeyNameFromIO }) else {
        return Vec::new();
    };
    if io.is_null() {
        return Vec::new();
    }
    // SAFETY: `io` is the live IO of a load/save callback; the name stays valid during it.
    let name = unsafe { get(io) };
    crate::string::str_bytes(name).to_vec()
}

impl Sink for RdbWriter {
    fn write_u64(&mut self, v: u64) {
        // SAFETY: valid IO during the save callback.
        unsafe { api!(RedisModule_SaveUnsigned)(self.io, v) };
    }
    fn write_i64(&mut self, v: i64) {
        // SAFETY: valid IO.
        unsafe { api!(RedisModule_SaveSigned)(self.io, v) };
    }
    fn write_f64(&mut self, v: f64) {
        // SAFETY: valid IO.
        unsafe { api!(RedisModule_SaveDouble)(self.io, v) };
    }
    fn write_bytes(&mut self, b: &[u8]) {
        // SAFETY: valid IO; the server copies `b`.
        unsafe { api!(RedisModule_SaveStringBuffer)(self.io, b.as_ptr().cast(), b.len()) };
    }
}

/// Reads from an in-memory buffer with the same rules (unit tests, fuzzers, LOADCHUNK-style payloads).
pub struct SliceSource<'a> {
    data: &'a [u8],
}

impl<'a> SliceSource<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        SliceSource { data }
    }

    pub fn remaining(&self) -> usize {
        self.data.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        if n > self.data.len() {
            return Err(RdbError::msg("unexpected end of data"));
        }
        let (a, b) = self.data.split_at(n);
        self.data = b;
        Ok(a)
    }

    fn take8(&mut self) -> Result<[u8; 8], RdbError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(a)
    }
}

impl Source for SliceSource<'_> {
    fn read_u64(&mut self) -> Result<u64, RdbError> {
        Ok(u64::from_le_bytes(self.take8()?))
    }
    fn read_i64(&mut self) -> Result<i64, RdbError> {
        Ok(i64::from_le_bytes(self.take8()?))
    }
    fn read_f64(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_le_bytes(self.take8()?))
    }
    fn read_bytes(&mut self, max: usize) -> Result<Vec<u8>, RdbError> {
        let n = self.read_len(max as u64)?;
        Ok(self.take(n)?.to_vec())
    }
}

/// Writes to an in-memory buffer (the counterpart of [`SliceSource`]).
#[derive(Default)]
pub struct VecSink {
    pub data: Vec<u8>,
}

impl Sink for VecSink {
    fn write_u64(&mut self, v: u64) {
        self.data.extend_from_slice(&v.to_le_bytes());
    }
    fn write_i64(&mut self, v: i64) {
        self.data.extend_from_slice(&v.to_le_bytes());
    }
    fn write_f64(&mut self, v: f64) {
        self.data.extend_from_slice(&v.to_le_bytes());
    }
    fn write_bytes(&mut self, b: &[u8]) {
        self.write_u64(b.len() as u64);
        self.data.extend_from_slice(b);
    }
}

/// Emits commands during an AOF rewrite.
pub struct AofWriter {
    io: *mut raw::RedisModuleIO,
}

impl AofWriter {
    pub fn new(io: *mut raw::RedisModuleIO) -> Self {
        AofWriter { io }
    }

    /// Emits `cmd args...` (binary-safe).
    pub fn emit(&mut self, cmd: &CStr, args: &[&[u8]]) {
        let owned: Vec<OwnedString> = args.iter().map(|a| OwnedString::new(a)).collect();
        let mut ptrs: Vec<_> = owned.iter().map(|s| s.as_ptr()).collect();
        // SAFETY: valid IO; "v" takes (RedisModuleString **, size_t); the strings outlive the call.
        unsafe {
            api!(RedisModule_EmitAOF)(
                self.io,
                cmd.as_ptr(),
                c"v".as_ptr(),
                ptrs.as_mut_ptr(),
                ptrs.len(),
            );
        }
        drop(owned);
    }
}

/// Feeds DEBUG DIGEST / DIGEST-VALUE.
pub struct Digest {
    md: *mut raw::RedisModuleDigest,
}

impl Digest {
    pub fn new(md: *mut raw::RedisModuleDigest) -> Self {
        Digest { md }
    }

    pub fn add_bytes(&mut self, b: &[u8]) {
        // SAFETY: valid digest during the callback; the server only reads `b`.
        unsafe {
            api!(RedisModule_DigestAddStringBuffer)(self.md, b.as_ptr().cast_mut().cast(), b.len())
        };
    }

    pub fn add_i64(&mut self, v: i64) {
        // SAFETY: valid digest.
        unsafe { api!(RedisModule_DigestAddLongLong)(self.md, v as c_longlong) };
    }

    pub fn end_sequence(&mut self) {
        // SAFETY: valid digest.
        unsafe { api!(RedisModule_DigestEndSequence)(self.md) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_roundtrip_and_bounds() {
        let mut s = VecSink::default();
        s.write_u64(7);
        s.write_i64(-3);
        s.write_f64(1.5);
        s.write_bytes(b"a\0\xff");
        let mut r = SliceSource::new(&s.data);
        assert_eq!(r.read_u64(), Ok(7));
        assert_eq!(r.read_i64(), Ok(-3));
        assert_eq!(r.read_f64(), Ok(1.5));
        assert_eq!(r.read_bytes(10), Ok(b"a\0\xff".to_vec()));
        assert!(r.read_u64().is_err());
        let mut r = SliceSource::new(&s.data);
        assert!(r.read_len(6).is_err());
        // inflated length
        let mut v = VecSink::default();
        v.write_u64(u64::MAX);
        assert!(SliceSource::new(&v.data).read_bytes(usize::MAX).is_err());
    }
}
