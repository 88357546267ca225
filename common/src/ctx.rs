//! The command context: replies, keys, replication, notifications, all binary-safe and allocation-lean.

use std::cell::Cell;
use std::ffi::{c_int, c_long, c_longlong, c_void, CStr, CString};

use crate::api;
use crate::error::{CmdError, CmdResult, WRONGTYPE};
use crate::ffi::raw;
use crate::value::{DataType, ModuleValue};

/// A borrowed server context for the duration of one call.
#[derive(Clone)]
pub struct Ctx {
    raw: *mut raw::RedisModuleCtx,
    /// Made by the command trampoline for a client's command (not a timer, event or blocked-client
    /// callback): the verbatim command is at hand, so propagation may take the cheap path.
    command: bool,
    /// The context flags, read once per command call ([`NO_FLAGS`] until read).
    flags: Cell<u32>,
}

/// No flag word has every bit set: marks the cached flags as not read yet.
const NO_FLAGS: u32 = u32::MAX;

/// Where a command came from, for the rules that differ on replicas and while loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A client of this server (a primary or a standalone server).
    Client,
    /// The primary's replication stream.
    Replication,
    /// Replaying the AOF.
    Loading,
}

impl Ctx {
    pub fn from_raw(raw: *mut raw::RedisModuleCtx) -> Self {
        Ctx {
            raw,
            command: false,
            flags: Cell::new(NO_FLAGS),
        }
    }

    /// The context of a command call (made only by [`crate::command::dispatch`]).
    pub(crate) fn for_command(raw: *mut raw::RedisModuleCtx) -> Self {
        Ctx {
            raw,
            command: true,
            flags: Cell::new(NO_FLAGS),
        }
    }

    /// True for the context the command trampoline made.
    pub fn is_command(&self) -> bool {
        self.command
    }

    pub fn as_ptr(&self) -> *mut raw::RedisModuleCtx {
        self.raw
    }

    // ---- replies -------------------------------------------------------------------------------------

    pub fn reply_error(&self, e: &CmdError) {
        let text = e.to_cstring();
        // SAFETY: valid ctx; NUL-terminated text without line breaks.
        unsafe { api!(RedisModule_ReplyWithError)(self.raw, text.as_ptr()) };
    }

    /// A simple string from a static text (no NUL inside by construction).
    pub fn reply_simple(&self, s: &'static CStr) {
        // SAFETY: valid ctx and a NUL-terminated static string.
        unsafe { api!(RedisModule_ReplyWithSimpleString)(self.raw, s.as_ptr()) };
    }

    pub fn reply_ok(&self) {
        self.reply_simple(c"OK");
    }

    pub fn reply_bulk(&self, b: &[u8]) {
        // SAFETY: valid ctx; the server copies `b.len()` bytes.
        unsafe { api!(RedisModule_ReplyWithStringBuffer)(self.raw, b.as_ptr().cast(), b.len()) };
    }

    pub fn reply_int(&self, v: i64) {
        // SAFETY: valid ctx.
        unsafe { api!(RedisModule_ReplyWithLongLong)(self.raw, v as c_longlong) };
    }

    /// A double: RESP3 `,` double; RESP2 a bulk string formatted by the server.
    pub fn reply_double(&self, v: f64) {
        // SAFETY: valid ctx.
        unsafe { api!(RedisModule_ReplyWithDouble)(self.raw, v) };
    }

    /// Null (RESP2 null bulk, RESP3 `_`).
    pub fn reply_null(&self) {
        // SAFETY: valid ctx.
        unsafe { api!(RedisModule_ReplyWithNull)(self.raw) };
    }

    /// RESP2 null array (`*-1`); RESP3 null.
    pub fn reply_null_array(&self) {
        // SAFETY: valid ctx.
        match unsafe { raw::RedisModule_ReplyWithNullArray } {
            // SAFETY: valid ctx.
            Some(f) => unsafe {
                f(self.raw);
            },
            None => self.reply_null(),
        }
    }

    pub fn reply_array(&self, len: usize) {
        // SAFETY: valid ctx.
        unsafe { api!(RedisModule_ReplyWithArray)(self.raw, len as c_long) };
    }

    /// An array whose length is set later with [`Ctx::set_array_len`].
    pub fn reply_array_postponed(&self) {
        // SAFETY: valid ctx.
        unsafe {
            api!(RedisModule_ReplyWithArray)(self.raw, raw::REDISMODULE_POSTPONED_LEN as c_long)
        };
    }

    pub fn set_array_len(&self, len: usize) {
        // SAFETY: valid ctx with a pending postponed array.
        unsafe { api!(RedisModule_ReplySetArrayLength)(self.raw, len as c_long) };
    }

    /// A map of `len` pairs (RESP3 map, RESP2 flat array of 2*len).
    pub fn reply_map(&self, len: usize) {
        // SAFETY: valid ctx.
        unsafe { api!(RedisModule_ReplyWithMap)(self.raw, len as c_long) };
    }

    pub fn reply_map_postponed(&self) {
        // SAFETY: valid ctx.
        unsafe {
            api!(RedisModule_ReplyWithMap)(self.raw, raw::REDISMODULE_POSTPONED_LEN as c_long)
        };
    }

    pub fn set_map_len(&self, len: usize) {
        // SAFETY: valid ctx with a pending postponed map.
        unsafe { api!(RedisModule_ReplySetMapLength)(self.raw, len as c_long) };
    }

    /// Replies with argument string `s` itself (no copy on our side).
    pub fn reply_string(&self, s: *mut raw::RedisModuleString) {
        let b = crate::command::str_bytes(s);
        self.reply_bulk(b);
    }

    // ---- keys ----------------------------------------------------------------------------------------

    pub fn open_read(&self, name: *mut raw::RedisModuleString) -> Key {
        self.open(name, raw::REDISMODULE_READ)
    }

    pub fn open_write(&self, name: *mut raw::RedisModuleString) -> Key {
        self.open(name, raw::REDISMODULE_READ | raw::REDISMODULE_WRITE)
    }

    fn open(&self, name: *mut raw::RedisModuleString, mode: u32) -> Key {
        // SAFETY: valid ctx and key name; the handle is closed by Key's Drop.
        let k = unsafe { api!(RedisModule_OpenKey)(self.raw, name, mode as c_int) };
        Key {
            raw: k.cast(),
            name,
        }
    }

    // ---- replication and events ----------------------------------------------------------------------

    /// Propagates `cmd args...` to replicas and the AOF instead of the verbatim command.
    pub fn replicate(&self, cmd: &CStr, args: &[&[u8]]) {
        crate::propagate::replicate(self, cmd, args);
    }

    pub fn replicate_verbatim(&self) {
        // SAFETY: valid ctx.
        unsafe { api!(RedisModule_ReplicateVerbatim)(self.raw) };
    }

    /// Fires a keyspace event of class `class` (e.g. `REDISMODULE_NOTIFY_MODULE`).
    pub fn notify(&self, class: c_int, event: &CStr, key: *mut raw::RedisModuleString) {
        // SAFETY: valid ctx, NUL-terminated event name, live key string.
        unsafe { api!(RedisModule_NotifyKeyspaceEvent)(self.raw, class, event.as_ptr(), key) };
    }

    /// Module-type event (class `d`).
    pub fn notify_module(&self, event: &CStr, key: *mut raw::RedisModuleString) {
        self.notify(raw::REDISMODULE_NOTIFY_MODULE, event, key);
    }

    /// Generic event (class `g`: del, expire ...).
    pub fn notify_generic(&self, event: &CStr, key: *mut raw::RedisModuleString) {
        self.notify(raw::REDISMODULE_NOTIFY_GENERIC, event, key);
    }

    /// The server's context flags. A command's context reads them once: what commands ask (role, AOF,
    /// loading, a fork child) does not change while one command runs.
    pub fn flags(&self) -> u32 {
        let cached = self.flags.get();
        if cached != NO_FLAGS {
            return cached;
        }
        // SAFETY: valid ctx.
        let f = unsafe { api!(RedisModule_GetContextFlags)(self.raw) as u32 };
        if self.command {
            self.flags.set(f);
        }
        f
    }

    pub fn origin(&self) -> Origin {
        let f = self.flags();
        if f & raw::REDISMODULE_CTX_FLAGS_LOADING != 0 {
            Origin::Loading
        } else if f & raw::REDISMODULE_CTX_FLAGS_REPLICATED != 0 {
            Origin::Replication
        } else {
            Origin::Client
        }
    }

    /// True when this server is a replica (it must not expire anything by itself).
    pub fn is_replica(&self) -> bool {
        self.flags() & raw::REDISMODULE_CTX_FLAGS_SLAVE != 0
    }

    /// The server's clock in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        crate::clock::now_ms()
    }

    /// Builds an owned server string from bytes (freed on drop).
    pub fn string(&self, b: &[u8]) -> OwnedString {
        OwnedString::new(b)
    }
}

/// A server string this crate created, freed on drop.
pub struct OwnedString(*mut raw::RedisModuleString);

impl OwnedString {
    pub fn new(b: &[u8]) -> Self {
        // SAFETY: a NULL ctx makes a string the caller frees, which Drop does.
        OwnedString(unsafe {
            api!(RedisModule_CreateString)(std::ptr::null_mut(), b.as_ptr().cast(), b.len())
        })
    }
    pub fn as_ptr(&self) -> *mut raw::RedisModuleString {
        self.0
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

/// What an open key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Empty,
    /// A native string.
    String,
    /// A value of the given module type.
    Module(*mut raw::RedisModuleType),
    /// Any other native type.
    Other,
}

/// An open key, closed on drop.
pub struct Key {
    raw: *mut raw::RedisModuleKey,
    name: *mut raw::RedisModuleString,
}

impl Drop for Key {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // SAFETY: opened by Ctx::open, closed exactly once.
            unsafe { api!(RedisModule_CloseKey)(self.raw) };
        }
    }
}

impl Key {
    pub fn name(&self) -> *mut raw::RedisModuleString {
        self.name
    }

    pub fn kind(&self) -> KeyKind {
        if self.raw.is_null() {
            return KeyKind::Empty;
        }
        // SAFETY: valid open key.
        let t = unsafe { api!(RedisModule_KeyType)(self.raw) } as isize;
        match t {
            raw::REDISMODULE_KEYTYPE_EMPTY => KeyKind::Empty,
            raw::REDISMODULE_KEYTYPE_STRING => KeyKind::String,
            raw::REDISMODULE_KEYTYPE_MODULE => {
                // SAFETY: valid open key holding a module value.
                KeyKind::Module(unsafe { api!(RedisModule_ModuleTypeGetType)(self.raw) })
            }
            _ => KeyKind::Other,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.kind() == KeyKind::Empty
    }

    /// The value if the key holds type `T`; `Ok(None)` if the key is empty; `WRONGTYPE` otherwise.
    /// The value lives in the key space, not in `Key`; hold one such reference at a time.
    #[allow(clippy::mut_from_ref)]
    pub fn value<T: ModuleValue>(&self) -> CmdResult<Option<&mut T>> {
        let dt: &DataType = T::data_type();
        if self.raw.is_null() {
            return Ok(None);
        }
        // One call in the common case: the module type is NULL for an empty key or a native type.
        // SAFETY: valid open key.
        let t = unsafe { api!(RedisModule_ModuleTypeGetType)(self.raw) };
        if !t.is_null() && t == dt.get() {
            // SAFETY: the key holds a value of our type, which we created as a Box<T>.
            let p = unsafe { api!(RedisModule_ModuleTypeGetValue)(self.raw) }.cast::<T>();
            // SAFETY: non-null pointer to a live T owned by the server's key space for this call.
            return Ok(unsafe { p.as_mut() });
        }
        match self.kind() {
            KeyKind::Empty => Ok(None),
            _ => Err(WRONGTYPE),
        }
    }

    /// Stores a new value of type `T` in an empty (or to be replaced) key. The key's TTL is cleared.
    #[allow(clippy::mut_from_ref)]
    pub fn set_value<T: ModuleValue>(&self, v: T) -> CmdResult<&mut T> {
        let dt = T::data_type();
        let p = Box::into_raw(Box::new(v));
        // SAFETY: key opened for writing; the server takes ownership of `p` and frees it with T's free.
        let rc =
            unsafe { api!(RedisModule_ModuleTypeSetValue)(self.raw, dt.get(), p.cast::<c_void>()) };
        if rc != raw::REDISMODULE_OK as c_int {
            // SAFETY: the server did not take it; reclaim and drop.
            drop(unsafe { Box::from_raw(p) });
            return Err(CmdError::msg("ERR could not store the value"));
        }
        // SAFETY: `p` now lives in the key space for at least the rest of this call.
        unsafe { p.as_mut() }.ok_or(crate::error::INTERNAL)
    }

    pub fn delete(&self) {
        // SAFETY: key opened for writing.
        unsafe { api!(RedisModule_DeleteKey)(self.raw) };
    }

    /// Absolute expiry in Unix ms, `None` when the key has no TTL.
    pub fn abs_expire(&self) -> Option<i64> {
        // SAFETY: plain read of a function pointer; GetAbsExpire exists from Redis 7.2 / Valkey 7.2.
        if let Some(f) = unsafe { raw::RedisModule_GetAbsExpire } {
            // SAFETY: valid key.
            let t = unsafe { f(self.raw) };
            return (t >= 0).then_some(t);
        }
        // SAFETY: valid key.
        let rel = unsafe { api!(RedisModule_GetExpire)(self.raw) };
        (rel >= 0).then(|| crate::clock::now_ms().saturating_add(rel))
    }

    /// Sets an absolute expiry (Unix ms).
    pub fn set_abs_expire(&self, at_ms: i64) {
        // SAFETY: plain read of a function pointer.
        if let Some(f) = unsafe { raw::RedisModule_SetAbsExpire } {
            // SAFETY: key opened for writing.
            unsafe { f(self.raw, at_ms) };
            return;
        }
        let rel = at_ms.saturating_sub(crate::clock::now_ms()).max(1);
        // SAFETY: key opened for writing.
        unsafe { api!(RedisModule_SetExpire)(self.raw, rel) };
    }

    pub fn remove_expire(&self) {
        // SAFETY: key opened for writing.
        unsafe { api!(RedisModule_SetExpire)(self.raw, raw::REDISMODULE_NO_EXPIRE as i64) };
    }

    /// A native string's bytes (read-only view; valid until the key is changed or closed).
    pub fn string_bytes(&self) -> &[u8] {
        let mut len = 0usize;
        // SAFETY: key holds a string; READ mode DMA gives a view valid while the key is open and unchanged.
        let p = unsafe {
            api!(RedisModule_StringDMA)(self.raw, &mut len, raw::REDISMODULE_READ as c_int)
        };
        if p.is_null() {
            return &[];
        }
        // SAFETY: `len` bytes at `p` per the API.
        unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
    }

    /// Overwrites a native string's bytes in place (no delete and re-add: no `new` event, TTL untouched).
    pub fn string_overwrite(&self, b: &[u8]) -> CmdResult {
        // SAFETY: key opened for writing and holding a string (or empty: then a string is created).
        let rc = unsafe { api!(RedisModule_StringTruncate)(self.raw, b.len()) };
        if rc != raw::REDISMODULE_OK as c_int {
            return Err(CmdError::msg("ERR could not set the string"));
        }
        let mut len = 0usize;
        // SAFETY: WRITE-mode DMA on a string of exactly `b.len()` bytes, written before the key changes.
        let p = unsafe {
            api!(RedisModule_StringDMA)(self.raw, &mut len, raw::REDISMODULE_WRITE as c_int)
        };
        if p.is_null() || len != b.len() {
            return Err(CmdError::msg("ERR could not set the string"));
        }
        // SAFETY: `len` writable bytes at `p`, not overlapping the argument bytes.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), p.cast::<u8>(), len) };
        Ok(())
    }
}

/// A C string from bytes for static names (helper for event and command names built at runtime).
pub fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}
