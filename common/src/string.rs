//! Server strings: borrowed argument slices ([`Args`], [`str_bytes`]), strings this crate owns
//! ([`OwnedString`]) and constant words kept for the life of the process ([`Word`]).

use std::ffi::c_int;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::api;
use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::ffi::raw;

/// A server string handle (a key name, an argument): valid for as long as the server keeps it.
pub type RawStr = *mut raw::RedisModuleString;

/// The bytes of a server string, borrowed.
#[inline]
pub fn str_bytes<'a>(s: *const raw::RedisModuleString) -> &'a [u8] {
    if s.is_null() {
        return &[];
    }
    let mut len = 0usize;
    // SAFETY: `s` is a live server string; the returned pointer stays valid as long as the string does.
    let p = unsafe { api!(RedisModule_StringPtrLen)(s, &mut len) };
    if p.is_null() {
        return &[];
    }
    // SAFETY: the server guarantees `len` readable bytes at `p`.
    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
}

/// The arguments of one call, borrowed from the server (no copy, no allocation).
#[derive(Clone, Copy)]
pub struct Args<'a> {
    argv: &'a [RawStr],
}

impl<'a> Args<'a> {
    /// # Safety
    /// `argv` must point to `argc` valid strings that outlive `'a` (true for a command call).
    pub unsafe fn from_raw(argv: *mut RawStr, argc: c_int) -> Self {
        let len = usize::try_from(argc).unwrap_or(0);
        if argv.is_null() || len == 0 {
            return Args { argv: &[] };
        }
        Args {
            // SAFETY: per the contract above.
            argv: unsafe { std::slice::from_raw_parts(argv, len) },
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.argv.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.argv.is_empty()
    }

    /// Argument `i` as bytes; `None` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.argv.get(i).map(|&s| str_bytes(s))
    }

    /// Argument `i` as bytes, or an empty slice past the end (arity is checked by the server).
    #[inline]
    pub fn at(&self, i: usize) -> &'a [u8] {
        self.get(i).unwrap_or(&[])
    }

    /// The server string of argument `i` (to open a key or build a reply without copying).
    #[inline]
    pub fn raw(&self, i: usize) -> Option<RawStr> {
        self.argv.get(i).copied()
    }

    /// The server string of argument `i`, or `ERR syntax error` past the end.
    #[inline]
    pub fn raw_arg(&self, i: usize) -> CmdResult<RawStr> {
        self.raw(i).ok_or(SYNTAX)
    }

    /// Arguments from `i` on.
    pub fn from(&self, i: usize) -> Args<'a> {
        Args {
            argv: self.argv.get(i..).unwrap_or(&[]),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.argv.iter().map(|&s| str_bytes(s))
    }

    /// The command name in lower case (for error texts).
    pub fn command_name(&self) -> String {
        String::from_utf8_lossy(self.at(0)).to_ascii_lowercase()
    }

    /// `ERR wrong number of arguments for '<command>' command`, the command named as called.
    pub fn wrong_arity(&self) -> CmdError {
        crate::error::wrong_arity(&self.command_name())
    }
}

/// A server string this crate created, freed on drop.
pub struct OwnedString(RawStr);

impl OwnedString {
    pub fn new(b: &[u8]) -> Self {
        // SAFETY: a NULL ctx makes a string the caller frees, which Drop does.
        OwnedString(unsafe {
            api!(RedisModule_CreateString)(std::ptr::null_mut(), b.as_ptr().cast(), b.len())
        })
    }

    pub fn as_ptr(&self) -> RawStr {
        self.0
    }

    pub fn bytes(&self) -> &[u8] {
        str_bytes(self.0)
    }
}

impl Drop for OwnedString {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: created with a NULL ctx by `new`, freed exactly once.
            unsafe { api!(RedisModule_FreeString)(std::ptr::null_mut(), self.0) };
        }
    }
}

/// A constant argument word (`ABS`, `PXAT` ...) kept as one server string for the life of the process.
pub struct Word {
    text: &'static [u8],
    ptr: AtomicPtr<raw::RedisModuleString>,
}

impl Word {
    pub const fn new(text: &'static [u8]) -> Self {
        Word {
            text,
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    pub fn text(&self) -> &'static [u8] {
        self.text
    }

    /// The server string (created on first use; never freed: the server only takes references to it).
    pub fn get(&self) -> RawStr {
        let p = self.ptr.load(Ordering::Relaxed);
        if !p.is_null() {
            return p;
        }
        // SAFETY: a NULL ctx makes a string that lives until freed, which we never do.
        let p = unsafe {
            api!(RedisModule_CreateString)(
                std::ptr::null_mut(),
                self.text.as_ptr().cast(),
                self.text.len(),
            )
        };
        self.ptr.store(p, Ordering::Relaxed);
        p
    }
}
