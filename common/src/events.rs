//! Keyspace notifications and server events a module reacts to, as safe subscriptions: the module
//! hands a plain function, this file owns the `extern "C"` callbacks, reads the event data and
//! catches panics. (The replication events that decide propagation are `propagate`'s own; the
//! server keeps one callback per module and event, so a module never subscribes to those.)

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::OnceLock;

use crate::ctx::Ctx;
use crate::ffi::raw;
use crate::guard::catch;
use crate::string::RawStr;

/// A server event as a module sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// FLUSHDB (`Some(db)`) or FLUSHALL (`None`) is about to run.
    FlushStart(Option<usize>),
    /// SWAPDB of two databases.
    SwapDb(usize, usize),
    /// A replica started loading a full sync into a temporary keyspace (`repl-diskless-load swapdb`).
    AsyncLoadStarted,
    /// That load completed: its keys are now the live keyspace.
    AsyncLoadCompleted,
    /// That load was aborted: the old keyspace stays.
    AsyncLoadAborted,
}

/// Called with the event name (`del`, `expired`, `loaded`, ...) and the key.
pub type KeyspaceHandler = fn(&Ctx, &[u8], RawStr);
/// Called for each [`ServerEvent`].
pub type ServerEventHandler = fn(&Ctx, ServerEvent);

static KEYSPACE: OnceLock<KeyspaceHandler> = OnceLock::new();
static SERVER: OnceLock<ServerEventHandler> = OnceLock::new();

const OK: c_int = raw::REDISMODULE_OK as c_int;

/// Keyspace notification classes for [`subscribe_keyspace`].
pub const NOTIFY_GENERIC: c_int = raw::REDISMODULE_NOTIFY_GENERIC as c_int;
pub const NOTIFY_EXPIRED: c_int = raw::REDISMODULE_NOTIFY_EXPIRED as c_int;
pub const NOTIFY_EVICTED: c_int = raw::REDISMODULE_NOTIFY_EVICTED as c_int;
pub const NOTIFY_LOADED: c_int = raw::REDISMODULE_NOTIFY_LOADED as c_int;

unsafe extern "C" fn on_keyspace(
    ctx: *mut raw::RedisModuleCtx,
    _type: c_int,
    event: *const c_char,
    key: RawStr,
) -> c_int {
    let _ = catch(|| {
        let Some(f) = KEYSPACE.get() else { return };
        if event.is_null() || key.is_null() {
            return;
        }
        // SAFETY: the server passes a NUL-terminated event name, valid for the call.
        let ev = unsafe { CStr::from_ptr(event) }.to_bytes();
        f(&Ctx::from_raw(ctx), ev, key);
    });
    OK
}

/// Subscribes `f` to the keyspace notifications of the classes `types` (`REDISMODULE_NOTIFY_*`),
/// whatever `notify-keyspace-events` says. Once per module (OnLoad).
pub fn subscribe_keyspace(ctx: &Ctx, types: c_int, f: KeyspaceHandler) -> Result<(), String> {
    if KEYSPACE.set(f).is_err() {
        return Err("keyspace events already subscribed".into());
    }
    // SAFETY: plain read of a function pointer.
    let Some(sub) = (unsafe { raw::RedisModule_SubscribeToKeyspaceEvents }) else {
        return Err("the server lacks RedisModule_SubscribeToKeyspaceEvents".into());
    };
    // SAFETY: a valid OnLoad context; the callback is a plain function that catches panics.
    if unsafe { sub(ctx.as_ptr(), types, Some(on_keyspace)) } != OK {
        return Err("could not subscribe to keyspace events".into());
    }
    Ok(())
}

/// Reads the event data the server passes with `id`/`sub` into a [`ServerEvent`].
///
/// # Safety
/// `data` is what the server passed with that event (a `RedisModuleFlushInfo` for FlushDB, a
/// `RedisModuleSwapDbInfo` for SwapDB), valid for the call.
unsafe fn decode(id: u64, sub: u64, data: *mut c_void) -> Option<ServerEvent> {
    match id {
        raw::REDISMODULE_EVENT_FLUSHDB if sub == raw::REDISMODULE_SUBEVENT_FLUSHDB_START => {
            // SAFETY: the FlushDB event passes a RedisModuleFlushInfo (caller's promise).
            let info = unsafe { data.cast::<raw::RedisModuleFlushInfo>().as_ref() }?;
            Some(ServerEvent::FlushStart(usize::try_from(info.dbnum).ok()))
        }
        raw::REDISMODULE_EVENT_SWAPDB => {
            // SAFETY: the SwapDB event passes a RedisModuleSwapDbInfo (caller's promise).
            let info = unsafe { data.cast::<raw::RedisModuleSwapDbInfo>().as_ref() }?;
            Some(ServerEvent::SwapDb(
                usize::try_from(info.dbnum_first).ok()?,
                usize::try_from(info.dbnum_second).ok()?,
            ))
        }
        raw::REDISMODULE_EVENT_REPL_ASYNC_LOAD => Some(match sub {
            raw::REDISMODULE_SUBEVENT_REPL_ASYNC_LOAD_STARTED => ServerEvent::AsyncLoadStarted,
            raw::REDISMODULE_SUBEVENT_REPL_ASYNC_LOAD_COMPLETED => ServerEvent::AsyncLoadCompleted,
            _ => ServerEvent::AsyncLoadAborted,
        }),
        _ => None,
    }
}

unsafe extern "C" fn on_server_event(
    ctx: *mut raw::RedisModuleCtx,
    event: raw::RedisModuleEvent,
    sub: u64,
    data: *mut c_void,
) {
    let _ = catch(|| {
        let Some(f) = SERVER.get() else { return };
        // SAFETY: the server passes the data of this event id.
        if let Some(ev) = unsafe { decode(event.id, sub, data) } {
            f(&Ctx::from_raw(ctx), ev);
        }
    });
}

/// Subscribes `f` to FLUSHDB/FLUSHALL, SWAPDB and asynchronous (swapdb) loading. Once per module
/// (OnLoad).
pub fn subscribe_server(ctx: &Ctx, f: ServerEventHandler) -> Result<(), String> {
    if SERVER.set(f).is_err() {
        return Err("server events already subscribed".into());
    }
    // SAFETY: plain read of a function pointer.
    let Some(sub) = (unsafe { raw::RedisModule_SubscribeToServerEvent }) else {
        return Err("the server lacks RedisModule_SubscribeToServerEvent".into());
    };
    for id in [
        raw::REDISMODULE_EVENT_FLUSHDB,
        raw::REDISMODULE_EVENT_SWAPDB,
        raw::REDISMODULE_EVENT_REPL_ASYNC_LOAD,
    ] {
        let event = raw::RedisModuleEvent { id, dataver: 1 };
        // SAFETY: a valid OnLoad context; the callback is a plain function that catches panics.
        if unsafe { sub(ctx.as_ptr(), event, Some(on_server_event)) } != OK {
            return Err(format!("could not subscribe to server event {id}"));
        }
    }
    Ok(())
}
