//! Replication of a rewritten command (absolute times, resolved choices) instead of the verbatim one.

use std::ffi::CStr;

use crate::api;
use crate::ctx::{Ctx, OwnedString};
use std::sync::atomic::{AtomicPtr, Ordering};

use smallvec::SmallVec;

use crate::ffi::raw;

/// One argument of a propagated command: a server string already at hand (an argument of the call,
/// shared without a copy), a constant word (created once per process), or bytes.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Str(*mut raw::RedisModuleString),
    Word(&'static Word),
    Bytes(&'a [u8]),
    /// A non-negative integer: values below [`SHARED_INTEGERS`] reuse a process-lifetime string, as
    /// Valkey's own shared integers do.
    Uint(u64),
}

/// How many small integers are kept as shared strings (created on first use).
pub const SHARED_INTEGERS: usize = 10_000;

static SHARED: [AtomicPtr<raw::RedisModuleString>; SHARED_INTEGERS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; SHARED_INTEGERS];

/// The shared string of a small integer, or `None` for a large one.
fn shared_integer(v: u64) -> Option<*mut raw::RedisModuleString> {
    let slot = SHARED.get(usize::try_from(v).ok()?)?;
    let p = slot.load(Ordering::Relaxed);
    if !p.is_null() {
        return Some(p);
    }
    let mut buf = [0u8; 20];
    let text = utoa(v, &mut buf);
    // SAFETY: a NULL ctx makes a string that lives until freed, which we never do.
    let p = unsafe {
        api!(RedisModule_CreateString)(std::ptr::null_mut(), text.as_ptr().cast(), text.len())
    };
    slot.store(p, Ordering::Relaxed);
    Some(p)
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

    /// The server string (created on first use; never freed: the server only takes references to it).
    pub fn get(&self) -> *mut raw::RedisModuleString {
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

/// Sends `cmd args...` to replicas and the AOF (binary-safe, through the `v` format).
pub fn replicate(ctx: &Ctx, cmd: &CStr, args: &[&[u8]]) {
    let a: SmallVec<[Arg; 16]> = args.iter().map(|b| Arg::Bytes(b)).collect();
    replicate_args(ctx, cmd, &a);
}

/// Sends `cmd args...` where some arguments are server strings already at hand.
pub fn replicate_args(ctx: &Ctx, cmd: &CStr, args: &[Arg]) {
    let mut owned: SmallVec<[OwnedString; 8]> = SmallVec::new();
    let mut ptrs: SmallVec<[*mut raw::RedisModuleString; 16]> = SmallVec::with_capacity(args.len());
    for a in args {
        match *a {
            Arg::Str(p) => ptrs.push(p),
            Arg::Word(w) => ptrs.push(w.get()),
            Arg::Bytes(b) => {
                let s = OwnedString::new(b);
                ptrs.push(s.as_ptr());
                owned.push(s);
            }
            Arg::Uint(v) => match shared_integer(v) {
                Some(p) => ptrs.push(p),
                None => {
                    let mut buf = [0u8; 20];
                    let s = OwnedString::new(utoa(v, &mut buf));
                    ptrs.push(s.as_ptr());
                    owned.push(s);
                }
            },
        }
    }
    // SAFETY: valid ctx; "v" takes (RedisModuleString **, size_t); the server takes its own reference to
    // each string, so ours are freed after the call.
    unsafe {
        api!(RedisModule_Replicate)(
            ctx.as_ptr(),
            cmd.as_ptr(),
            c"v".as_ptr(),
            ptrs.as_mut_ptr(),
            ptrs.len(),
        );
    }
    drop(owned);
}

/// Common words of propagated commands.
pub mod words {
    use super::Word;
    pub static ABS: Word = Word::new(b"ABS");
    pub static FLAGS: Word = Word::new(b"FLAGS");
    pub static PXAT: Word = Word::new(b"PXAT");
    pub static KEEPTTL: Word = Word::new(b"KEEPTTL");
    pub static VER: Word = Word::new(b"VER");
}

/// An i64 as decimal bytes (for propagated arguments) without heap allocation.
pub fn itoa(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    if v < 0 && i > 0 {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'-';
        }
    }
    buf.get(i..).unwrap_or(&[])
}

/// A u64 as decimal bytes.
pub fn utoa(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v;
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        let mut b = [0u8; 20];
        assert_eq!(itoa(0, &mut b), b"0");
        assert_eq!(itoa(-5, &mut b), b"-5");
        assert_eq!(itoa(i64::MIN, &mut b), b"-9223372036854775808");
        assert_eq!(itoa(i64::MAX, &mut b), b"9223372036854775807");
        assert_eq!(utoa(u64::MAX, &mut b), b"18446744073709551615");
    }
}
