//! Replication of a rewritten command (absolute times, resolved choices) instead of the verbatim one.

use std::ffi::CStr;

use crate::api;
use crate::ctx::{Ctx, OwnedString};
use crate::ffi::raw;

/// One argument of a propagated command: a server string already at hand (an argument of the call,
/// shared without a copy) or bytes.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Str(*mut raw::RedisModuleString),
    Bytes(&'a [u8]),
}

/// Sends `cmd args...` to replicas and the AOF (binary-safe, through the `v` format).
pub fn replicate(ctx: &Ctx, cmd: &CStr, args: &[&[u8]]) {
    let a: Vec<Arg> = args.iter().map(|b| Arg::Bytes(b)).collect();
    replicate_args(ctx, cmd, &a);
}

/// Sends `cmd args...` where some arguments are server strings already at hand.
pub fn replicate_args(ctx: &Ctx, cmd: &CStr, args: &[Arg]) {
    let mut owned: Vec<OwnedString> = Vec::new();
    let mut ptrs: Vec<*mut raw::RedisModuleString> = Vec::with_capacity(args.len());
    for a in args {
        match *a {
            Arg::Str(p) => ptrs.push(p),
            Arg::Bytes(b) => {
                let s = OwnedString::new(b);
                ptrs.push(s.as_ptr());
                owned.push(s);
            }
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
