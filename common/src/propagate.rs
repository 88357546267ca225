//! Replication of a rewritten command (absolute times, resolved choices) instead of the verbatim one.

use std::ffi::CStr;

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use crate::api;
use crate::ctx::Ctx;
use crate::string::OwnedString;
pub use crate::string::Word;

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

/// Sends `cmd args...` to replicas and the AOF (binary-safe, through the `v` format).
pub fn replicate(ctx: &Ctx, cmd: &CStr, args: &[&[u8]]) {
    let a: SmallVec<[Arg; 16]> = args.iter().map(|b| Arg::Bytes(b)).collect();
    replicate_args(ctx, cmd, &a);
}

/// Whether the server may hold a replication backlog. Refreshed from the server's replication info on
/// every event that can create one (see [`watch_listeners`]); `true` until first read and whenever it
/// cannot be read, so the cheap path below is only taken when the server said there is none.
static BACKLOG: AtomicBool = AtomicBool::new(true);

/// True when nothing would receive a propagated command: a client's command on a primary with no AOF,
/// no replication backlog (hence no replica) and no fork child (a BGSAVE for a replica that just
/// connected creates the backlog first, then forks). Mirrors the server's own `shouldPropagate`, which
/// the server checks only after `RM_Replicate` has looked the command up and built its arguments: a
/// third of the cost of a small write when nobody listens.
fn nobody_listens(ctx: &Ctx) -> bool {
    if !ctx.is_command() || BACKLOG.load(Ordering::Relaxed) {
        return false;
    }
    let f = ctx.flags();
    let listening = raw::REDISMODULE_CTX_FLAGS_AOF
        | raw::REDISMODULE_CTX_FLAGS_SLAVE
        | raw::REDISMODULE_CTX_FLAGS_ACTIVE_CHILD
        | raw::REDISMODULE_CTX_FLAGS_LOADING;
    f & listening == 0 && f & raw::REDISMODULE_CTX_FLAGS_MASTER != 0
}

/// Reads `repl_backlog_active` from the server's replication info into [`BACKLOG`].
pub fn refresh_backlog(ctx: *mut raw::RedisModuleCtx) {
    let mut present = true;
    // SAFETY: plain reads of function pointers filled in by RedisModule_Init.
    let fns = unsafe {
        (
            raw::RedisModule_GetServerInfo,
            raw::RedisModule_ServerInfoGetFieldSigned,
            raw::RedisModule_FreeServerInfo,
        )
    };
    if let (Some(get), Some(field), Some(free)) = fns {
        // SAFETY: a valid context; the section name is NUL-terminated; the info is freed below.
        let info = unsafe { get(ctx, c"replication".as_ptr()) };
        if !info.is_null() {
            let mut err: std::ffi::c_int = 0;
            // SAFETY: a live info object and a NUL-terminated field name.
            let v = unsafe { field(info, c"repl_backlog_active".as_ptr(), &mut err) };
            present = err != 0 || v != 0;
            // SAFETY: created above with this context, freed once.
            unsafe { free(ctx, info) };
        }
    }
    BACKLOG.store(present, Ordering::Relaxed);
}

unsafe extern "C" fn on_replication_event(
    ctx: *mut raw::RedisModuleCtx,
    _event: raw::RedisModuleEvent,
    _sub: u64,
    _data: *mut std::ffi::c_void,
) {
    crate::guard::catch(|| refresh_backlog(ctx));
}

/// Reads the backlog state now and after every server event that can create a backlog or change the
/// role: a fork child starting or ending (a replica's full sync), persistence, loading (a primary may
/// create its backlog while loading), role changes, replicas coming and going, the primary link.
/// A module using this crate must not subscribe to these events itself (the server keeps one callback
/// per module and event). If a subscription fails, the cheap path stays off for good.
pub fn watch_listeners(ctx: *mut raw::RedisModuleCtx) {
    // SAFETY: plain read of a function pointer.
    let Some(sub) = (unsafe { raw::RedisModule_SubscribeToServerEvent }) else {
        BACKLOG.store(true, Ordering::Relaxed);
        return;
    };
    let events = [
        raw::REDISMODULE_EVENT_FORK_CHILD,
        raw::REDISMODULE_EVENT_PERSISTENCE,
        raw::REDISMODULE_EVENT_LOADING,
        raw::REDISMODULE_EVENT_REPLICATION_ROLE_CHANGED,
        raw::REDISMODULE_EVENT_REPLICA_CHANGE,
        raw::REDISMODULE_EVENT_MASTER_LINK_CHANGE,
    ];
    let mut all = true;
    for id in events {
        let event = raw::RedisModuleEvent { id, dataver: 1 };
        // SAFETY: a valid OnLoad context; the callback is a plain function that catches panics.
        all &= unsafe { sub(ctx, event, Some(on_replication_event)) }
            == raw::REDISMODULE_OK as std::ffi::c_int;
    }
    if all {
        refresh_backlog(ctx);
    } else {
        crate::log::warning("propagation: could not watch replication events; always propagating");
        BACKLOG.store(true, Ordering::Relaxed);
    }
}

/// Sends `cmd args...` where some arguments are server strings already at hand. When nothing listens
/// (see [`nobody_listens`]) it only marks the data set changed, as `RM_Replicate` would (the server's
/// save points count it), through `RM_ReplicateVerbatim`, whose propagation the server then skips.
pub fn replicate_args(ctx: &Ctx, cmd: &CStr, args: &[Arg]) {
    if nobody_listens(ctx) {
        ctx.replicate_verbatim();
        return;
    }
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
