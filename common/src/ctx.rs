//! The command context: replies, keys, replication, notifications, all binary-safe and allocation-lean.

use std::cell::Cell;
use std::ffi::{c_int, c_long, c_longlong, c_void, CStr, CString};

use crate::api;
use crate::error::{CmdError, CmdResult, COULD_NOT_DELETE, COULD_NOT_STORE, WRONGTYPE};
use crate::ffi::raw;
pub use crate::string::OwnedString;
use crate::string::{str_bytes, RawStr};
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
    /// A key was opened for writing through this context (see [`Ctx::catch_write`]).
    wrote: Cell<bool>,
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
            wrote: Cell::new(false),
        }
    }

    /// The context of a command call (made only by [`crate::command::dispatch`]).
    pub(crate) fn for_command(raw: *mut raw::RedisModuleCtx) -> Self {
        Ctx {
            raw,
            command: true,
            flags: Cell::new(NO_FLAGS),
            wrote: Cell::new(false),
        }
    }

    /// Runs `f`, turning a panic into `None`; but a panic after `f` opened a key for writing, in a
    /// module that declared its write paths unrecoverable ([`crate::guard::set_write_panic_aborts`]),
    /// logs and aborts the server instead.
    pub fn catch_write<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let r = crate::guard::catch(f);
        if r.is_none() && self.wrote.get() && crate::guard::write_panic_aborts() {
            crate::guard::fatal("a panic in the middle of a write");
        }
        r
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
    pub fn reply_string(&self, s: RawStr) {
        self.reply_bulk(str_bytes(s));
    }

    // ---- keys ----------------------------------------------------------------------------------------

    /// Opens `name` for reading: the value is seen as `&T` only.
    pub fn open_read(&self, name: RawStr) -> ReadKey {
        if crate::guard::faults_on() {
            crate::guard::fault(crate::guard::Fault::Read, str_bytes(name));
        }
        ReadKey(RawKey::open(self.raw, name, raw::REDISMODULE_READ))
    }

    /// Opens `name` for reading without side effects (`NOTOUCH | NOEFFECTS`): no LRU/LFU update, no
    /// keyspace hit/miss statistics, no lazy expiry of the key, no keyspace event. For hooks (timers,
    /// keyspace-event callbacks) that look at a value without acting as a client.
    pub fn open_read_quiet(&self, name: RawStr) -> ReadKey {
        let mode = raw::REDISMODULE_READ
            | raw::REDISMODULE_OPEN_KEY_NOTOUCH
            | raw::REDISMODULE_OPEN_KEY_NOEFFECTS;
        ReadKey(RawKey::open(self.raw, name, mode))
    }

    /// Opens `name` for writing: `&mut T` comes from `&mut WriteKey`, so two cannot be alive at once.
    pub fn open_write(&self, name: RawStr) -> WriteKey {
        self.wrote.set(true);
        if crate::guard::faults_on() {
            crate::guard::fault(crate::guard::Fault::Write, str_bytes(name));
        }
        WriteKey(RawKey::open(
            self.raw,
            name,
            raw::REDISMODULE_READ | raw::REDISMODULE_WRITE,
        ))
    }

    // ---- databases, timers, scan, publish, blocking, key positions ---------------------------------

    /// The selected database.
    pub fn selected_db(&self) -> Option<usize> {
        // SAFETY: valid ctx.
        let db = unsafe { api!(RedisModule_GetSelectedDb)(self.raw) };
        usize::try_from(db).ok()
    }

    /// Selects database `db` for this context; false when it does not exist.
    pub fn select_db(&self, db: usize) -> bool {
        let Ok(id) = c_int::try_from(db) else {
            return false;
        };
        // SAFETY: valid ctx with a client (timer and event contexts have a temporary one).
        unsafe { api!(RedisModule_SelectDb)(self.raw, id) == raw::REDISMODULE_OK as c_int }
    }

    /// Runs `f` once, `period_ms` from now, on the main thread (catching panics). Returns the timer id.
    pub fn create_timer(&self, period_ms: i64, f: fn(&Ctx)) -> u64 {
        unsafe extern "C" fn fire(ctx: *mut raw::RedisModuleCtx, data: *mut c_void) {
            // SAFETY: `data` is the `fn(&Ctx)` that `create_timer` stored (function and data pointers
            // have the same size on every platform the server runs on).
            let f: fn(&Ctx) = unsafe { std::mem::transmute::<*mut c_void, fn(&Ctx)>(data) };
            let c = Ctx::from_raw(ctx);
            let _ = c.catch_write(|| f(&c));
        }
        let data = f as *mut c_void;
        // SAFETY: valid ctx; the callback is a plain function; `data` is a function pointer, not owned.
        unsafe { api!(RedisModule_CreateTimer)(self.raw, period_ms.max(0), Some(fire), data) }
    }

    /// Visits every key of the selected database once (`RedisModule_Scan`), handing `f` its name and
    /// the key opened for reading. False if the server lacks the scan API.
    pub fn scan_keys<F: FnMut(&[u8], &ReadKey)>(&self, mut f: F) -> bool {
        // SAFETY: plain reads of function pointers.
        let (Some(create), Some(scan), Some(destroy)) = (unsafe {
            (
                raw::RedisModule_ScanCursorCreate,
                raw::RedisModule_Scan,
                raw::RedisModule_ScanCursorDestroy,
            )
        }) else {
            return false;
        };
        unsafe extern "C" fn visit<F: FnMut(&[u8], &ReadKey)>(
            _ctx: *mut raw::RedisModuleCtx,
            name: RawStr,
            key: *mut raw::RedisModuleKey,
            privdata: *mut c_void,
        ) {
            // SAFETY: `privdata` is the closure handed to RedisModule_Scan below, alive for the scan.
            let Some(f) = (unsafe { privdata.cast::<F>().as_mut() }) else {
                return;
            };
            if key.is_null() {
                return;
            }
            // The server owns (and closes) a scanned key.
            let k = ReadKey(RawKey {
                raw: key,
                name,
                owned: false,
            });
            let _ = crate::guard::catch(|| f(str_bytes(name), &k));
        }
        // SAFETY: the cursor is created and destroyed here; the callback touches only `f`.
        unsafe {
            let cursor = create();
            while scan(
                self.raw,
                cursor,
                Some(visit::<F>),
                (&mut f as *mut F).cast(),
            ) != 0
            {}
            destroy(cursor);
        }
        true
    }

    /// Publishes each message on `channel` (PUBLISH). False if the server lacks the API.
    pub fn publish<M: AsRef<[u8]>>(&self, channel: &[u8], messages: &[M]) -> bool {
        // SAFETY: plain read of a function pointer.
        let Some(publish) = (unsafe { raw::RedisModule_PublishMessage }) else {
            return false;
        };
        let ch = OwnedString::new(channel);
        for m in messages {
            let msg = OwnedString::new(m.as_ref());
            // SAFETY: valid ctx and strings; the server copies what it keeps.
            unsafe { publish(self.raw, ch.as_ptr(), msg.as_ptr()) };
        }
        true
    }

    /// True while the server asks modules not to propagate (CLIENT PAUSE WRITE, failover).
    pub fn avoid_replica_traffic(&self) -> bool {
        // SAFETY: plain read of a function pointer filled in at load.
        match unsafe { raw::RedisModule_AvoidReplicaTraffic } {
            // SAFETY: no arguments; callable on the main thread.
            Some(f) => unsafe { f() != 0 },
            None => false,
        }
    }

    /// True when the server can block clients on keys (`BlockClientOnKeys` and its ready-key call).
    pub fn can_block_on_keys(&self) -> bool {
        // SAFETY: plain reads of function pointers filled in by RedisModule_Init.
        let (a, b, c) = unsafe {
            (
                raw::RedisModule_BlockClientOnKeys,
                raw::RedisModule_GetBlockedClientReadyKey,
                raw::RedisModule_GetBlockedClientPrivateData,
            )
        };
        a.is_some() && b.is_some() && c.is_some()
    }

    /// Blocks the calling client on `keys` for `timeout_ms` (0: forever). When a key is signalled
    /// ready, `on.ready` runs with its name and either serves the client (true) or lets it wait on
    /// (false); at the timeout `on.timeout` replies. False if the client could not be blocked.
    pub fn block_on_keys(
        &self,
        keys: &[RawStr],
        timeout_ms: i64,
        on: &'static BlockOnKeys,
    ) -> bool {
        unsafe extern "C" fn ready(
            ctx: *mut raw::RedisModuleCtx,
            _argv: *mut RawStr,
            _argc: c_int,
        ) -> c_int {
            let served = crate::guard::catch(|| {
                let c = Ctx::from_raw(ctx);
                // SAFETY: valid ctx of a reply callback; the private data is the `&'static
                // BlockOnKeys` handed to BlockClientOnKeys.
                let on = unsafe {
                    api!(RedisModule_GetBlockedClientPrivateData)(ctx)
                        .cast::<BlockOnKeys>()
                        .as_ref()
                };
                // SAFETY: valid ctx of a reply callback of a client blocked on keys.
                let name = unsafe { api!(RedisModule_GetBlockedClientReadyKey)(ctx) };
                match on {
                    Some(on) if !name.is_null() => (on.ready)(&c, name),
                    _ => false,
                }
            });
            if served == Some(true) {
                raw::REDISMODULE_OK as c_int
            } else {
                raw::REDISMODULE_ERR as c_int
            }
        }
        unsafe extern "C" fn timeout(
            ctx: *mut raw::RedisModuleCtx,
            _argv: *mut RawStr,
            _argc: c_int,
        ) -> c_int {
            let _ = crate::guard::catch(|| {
                let c = Ctx::from_raw(ctx);
                // SAFETY: as in `ready`.
                let on = unsafe {
                    api!(RedisModule_GetBlockedClientPrivateData)(ctx)
                        .cast::<BlockOnKeys>()
                        .as_ref()
                };
                match on {
                    Some(on) => (on.timeout)(&c),
                    None => c.reply_null(),
                }
            });
            raw::REDISMODULE_OK as c_int
        }
        if !self.can_block_on_keys() {
            return false;
        }
        let mut names: smallvec::SmallVec<[RawStr; 8]> = keys.iter().copied().collect();
        let private = (on as *const BlockOnKeys).cast_mut().cast::<c_void>();
        // SAFETY: valid ctx; the keys are live strings (the server keeps its own references); the
        // private data is a static, so no free callback.
        let bc = unsafe {
            api!(RedisModule_BlockClientOnKeys)(
                self.raw,
                Some(ready),
                Some(timeout),
                None,
                timeout_ms,
                names.as_mut_ptr(),
                c_int::try_from(names.len()).unwrap_or(c_int::MAX),
                private,
            )
        };
        !bc.is_null()
    }

    /// True when the server calls the command only to learn its key positions (`getkeys-api`).
    pub fn is_keys_position_request(&self) -> bool {
        // SAFETY: plain read of a function pointer.
        match unsafe { raw::RedisModule_IsKeysPositionRequest } {
            // SAFETY: valid ctx of a command call.
            Some(f) => unsafe { f(self.raw) != 0 },
            None => false,
        }
    }

    /// Answers a key-positions request with argument index `pos`.
    pub fn key_at_pos(&self, pos: usize) {
        // SAFETY: plain read of a function pointer.
        if let (Some(f), Ok(pos)) = (unsafe { raw::RedisModule_KeyAtPos }, c_int::try_from(pos)) {
            // SAFETY: valid ctx of a key-positions request; `pos` is an argument index.
            unsafe { f(self.raw, pos) };
        }
    }

    // ---- replication and events ----------------------------------------------------------------------

    pub fn replicate_verbatim(&self) {
        // SAFETY: valid ctx.
        unsafe { api!(RedisModule_ReplicateVerbatim)(self.raw) };
    }

    /// Fires a keyspace event of class `class` (e.g. `REDISMODULE_NOTIFY_MODULE`) and signals `key` as
    /// modified (WATCH, client-side caching). Modules load with `NO_IMPLICIT_SIGNAL_MODIFIED`, so this
    /// is the only signal a write gives: call it after a real change and only then.
    pub fn notify(&self, class: c_int, event: &CStr, key: RawStr) {
        self.signal_modified(key);
        // SAFETY: valid ctx, NUL-terminated event name, live key string.
        unsafe { api!(RedisModule_NotifyKeyspaceEvent)(self.raw, class, event.as_ptr(), key) };
    }

    /// Module-type event (class `d`), after signalling the key as modified.
    pub fn notify_module(&self, event: &CStr, key: RawStr) {
        self.notify(raw::REDISMODULE_NOTIFY_MODULE, event, key);
    }

    /// Generic event (class `g`: del, expire ...), after signalling the key as modified.
    pub fn notify_generic(&self, event: &CStr, key: RawStr) {
        self.notify(raw::REDISMODULE_NOTIFY_GENERIC, event, key);
    }

    /// String event (class `$`), after signalling the key as modified.
    pub fn notify_string(&self, event: &CStr, key: RawStr) {
        self.notify(raw::REDISMODULE_NOTIFY_STRING, event, key);
    }

    /// Signals `key` as modified without an event (WATCH aborts EXEC, tracking clients are invalidated).
    pub fn signal_modified(&self, key: RawStr) {
        // SAFETY: valid ctx and live key name.
        unsafe { api!(RedisModule_SignalModifiedKey)(self.raw, key) };
    }

    /// The server's context flags ([`flag`]). A command's context reads them once: what commands ask (role, AOF,
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

    /// The bytes of the native string stored under `name` without touching its encoding (a DMA read
    /// turns an int-encoded string raw and changes MEMORY USAGE / OBJECT ENCODING): `None` if the key
    /// is missing or holds no string.
    pub fn string_value(&self, name: RawStr) -> Option<Vec<u8>> {
        // SAFETY: valid ctx; "s" takes one server string; the reply is freed below.
        let reply =
            unsafe { api!(RedisModule_Call)(self.raw, c"GET".as_ptr(), c"s".as_ptr(), name) };
        if reply.is_null() {
            return None;
        }
        // SAFETY: a live call reply.
        let out = unsafe {
            if api!(RedisModule_CallReplyType)(reply) == raw::REDISMODULE_REPLY_STRING as c_int {
                let mut len = 0usize;
                let p = api!(RedisModule_CallReplyStringPtr)(reply, &mut len);
                (!p.is_null()).then(|| std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
            } else {
                None
            }
        };
        // SAFETY: freed once.
        unsafe { api!(RedisModule_FreeCallReply)(reply) };
        out
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

/// What both key types share: the handle, its name, and whether this crate closes it.
struct RawKey {
    raw: *mut raw::RedisModuleKey,
    name: RawStr,
    owned: bool,
}

impl Drop for RawKey {
    fn drop(&mut self) {
        if self.owned && !self.raw.is_null() {
            // SAFETY: opened by RawKey::open, closed exactly once.
            unsafe { api!(RedisModule_CloseKey)(self.raw) };
        }
    }
}

impl RawKey {
    fn open(ctx: *mut raw::RedisModuleCtx, name: RawStr, mode: u32) -> RawKey {
        // SAFETY: valid ctx and key name; the handle is closed by Drop.
        let k = unsafe { api!(RedisModule_OpenKey)(ctx, name, mode as c_int) };
        RawKey {
            raw: k.cast(),
            name,
            owned: true,
        }
    }

    fn kind(&self) -> KeyKind {
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

    /// The stored `T`, `Ok(None)` for an empty key, WRONGTYPE for anything else.
    #[inline]
    fn value_ptr<T: ModuleValue>(&self) -> CmdResult<Option<*mut T>> {
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
            return Ok((!p.is_null()).then_some(p));
        }
        match self.kind() {
            KeyKind::Empty => Ok(None),
            _ => Err(WRONGTYPE),
        }
    }

    fn abs_expire(&self) -> Option<i64> {
        if self.raw.is_null() {
            return None;
        }
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

    fn string_bytes(&self) -> &[u8] {
        if self.raw.is_null() {
            return &[];
        }
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
}

/// A key opened for reading (closed on drop): values are seen as `&T`.
pub struct ReadKey(RawKey);

impl ReadKey {
    pub fn name(&self) -> RawStr {
        self.0.name
    }

    pub fn kind(&self) -> KeyKind {
        self.0.kind()
    }

    pub fn is_empty(&self) -> bool {
        self.kind() == KeyKind::Empty
    }

    /// The value if the key holds type `T`; `Ok(None)` if the key is empty; `WRONGTYPE` otherwise.
    #[inline]
    pub fn value<T: ModuleValue>(&self) -> CmdResult<Option<&T>> {
        // SAFETY: a live T in the key space, borrowed no longer than the key is open; a read key hands
        // out no `&mut`.
        Ok(self.0.value_ptr::<T>()?.and_then(|p| unsafe { p.as_ref() }))
    }

    /// Absolute expiry in Unix ms, `None` when the key has no TTL.
    pub fn abs_expire(&self) -> Option<i64> {
        self.0.abs_expire()
    }

    /// A native string's bytes (valid while the key is open). Uses DMA: see [`Ctx::string_value`] for
    /// a read that never re-encodes the stored string.
    pub fn string_bytes(&self) -> &[u8] {
        self.0.string_bytes()
    }
}

/// A key opened for writing (closed on drop). `&mut T` comes only from `&mut self`, so the borrow
/// checker sees every mutable access to the stored value.
pub struct WriteKey(RawKey);

impl WriteKey {
    pub fn name(&self) -> RawStr {
        self.0.name
    }

    pub fn kind(&self) -> KeyKind {
        self.0.kind()
    }

    pub fn is_empty(&self) -> bool {
        self.kind() == KeyKind::Empty
    }

    /// The value if the key holds type `T`, to read; `Ok(None)` if empty; `WRONGTYPE` otherwise.
    #[inline]
    pub fn value<T: ModuleValue>(&self) -> CmdResult<Option<&T>> {
        // SAFETY: a live T in the key space; shared borrow of the key, so no `&mut` is alive.
        Ok(self.0.value_ptr::<T>()?.and_then(|p| unsafe { p.as_ref() }))
    }

    /// The value if the key holds type `T`, to change; `Ok(None)` if empty; `WRONGTYPE` otherwise.
    #[inline]
    pub fn value_mut<T: ModuleValue>(&mut self) -> CmdResult<Option<&mut T>> {
        // SAFETY: a live T in the key space; the exclusive borrow of the key makes this the only
        // reference to it for as long as it lives.
        Ok(self.0.value_ptr::<T>()?.and_then(|p| unsafe { p.as_mut() }))
    }

    /// Stores a new value of type `T` (replacing whatever the key holds). The key's TTL is cleared.
    pub fn set_value<T: ModuleValue>(&mut self, v: T) -> CmdResult<&mut T> {
        let dt = T::data_type();
        let p = Box::into_raw(Box::new(v));
        // SAFETY: key opened for writing; the server takes ownership of `p` and frees it with T's free.
        let rc = unsafe {
            api!(RedisModule_ModuleTypeSetValue)(self.0.raw, dt.get(), p.cast::<c_void>())
        };
        if rc != raw::REDISMODULE_OK as c_int {
            // SAFETY: the server did not take it; reclaim and drop.
            drop(unsafe { Box::from_raw(p) });
            return Err(COULD_NOT_STORE);
        }
        crate::value::count_live(1);
        // SAFETY: `p` now lives in the key space for at least the rest of this call, borrowed
        // exclusively through `&mut self`.
        unsafe { p.as_mut() }.ok_or(crate::error::INTERNAL)
    }

    /// Deletes the key (its value is freed by the server).
    pub fn delete(&mut self) -> CmdResult {
        // SAFETY: key opened for writing.
        let rc = unsafe { api!(RedisModule_DeleteKey)(self.0.raw) };
        if rc == raw::REDISMODULE_OK as c_int {
            Ok(())
        } else {
            Err(COULD_NOT_DELETE)
        }
    }

    /// Absolute expiry in Unix ms, `None` when the key has no TTL.
    pub fn abs_expire(&self) -> Option<i64> {
        self.0.abs_expire()
    }

    /// Sets an absolute expiry (Unix ms).
    pub fn set_abs_expire(&mut self, at_ms: i64) {
        // SAFETY: plain read of a function pointer.
        if let Some(f) = unsafe { raw::RedisModule_SetAbsExpire } {
            // SAFETY: key opened for writing.
            unsafe { f(self.0.raw, at_ms) };
            return;
        }
        let rel = at_ms.saturating_sub(crate::clock::now_ms()).max(1);
        // SAFETY: key opened for writing.
        unsafe { api!(RedisModule_SetExpire)(self.0.raw, rel) };
    }

    pub fn remove_expire(&mut self) {
        // SAFETY: key opened for writing.
        unsafe { api!(RedisModule_SetExpire)(self.0.raw, raw::REDISMODULE_NO_EXPIRE as i64) };
    }

    /// A native string's bytes through DMA (the server may re-encode the stored string, e.g. an int
    /// to raw: use it only on a path that then writes the string).
    pub fn string_bytes(&self) -> &[u8] {
        self.0.string_bytes()
    }

    /// Overwrites a native string's bytes in place (no delete and re-add: no `new` event, TTL untouched).
    pub fn string_overwrite(&mut self, b: &[u8]) -> CmdResult {
        const FAILED: CmdError = CmdError::Static(c"ERR could not set the string");
        // SAFETY: key opened for writing and holding a string (or empty: then a string is created).
        let rc = unsafe { api!(RedisModule_StringTruncate)(self.0.raw, b.len()) };
        if rc != raw::REDISMODULE_OK as c_int {
            return Err(FAILED);
        }
        let mut len = 0usize;
        // SAFETY: WRITE-mode DMA on a string of exactly `b.len()` bytes, written before the key changes.
        let p = unsafe {
            api!(RedisModule_StringDMA)(self.0.raw, &mut len, raw::REDISMODULE_WRITE as c_int)
        };
        if p.is_null() || len != b.len() {
            return Err(FAILED);
        }
        // SAFETY: `len` writable bytes at `p`, not overlapping the argument bytes.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), p.cast::<u8>(), len) };
        Ok(())
    }
}

impl WriteKey {
    /// The stored `T` to change, or the vacant key to store one in (WRONGTYPE for another type): one
    /// type lookup, and no second borrow of the key in the caller.
    #[inline]
    pub fn entry<T: ModuleValue>(&mut self) -> CmdResult<Entry<'_, T>> {
        match self.0.value_ptr::<T>()? {
            // SAFETY: a live T in the key space, borrowed exclusively through `&mut self`.
            Some(p) => {
                Ok(unsafe { p.as_mut() }
                    .map_or(Entry::Vacant(Vacant { key: self }), Entry::Occupied))
            }
            None => Ok(Entry::Vacant(Vacant { key: self })),
        }
    }
}

/// A write key's value, or its vacancy ([`WriteKey::entry`]).
pub enum Entry<'k, T> {
    Occupied(&'k mut T),
    Vacant(Vacant<'k>),
}

/// An empty write-opened key.
pub struct Vacant<'k> {
    key: &'k mut WriteKey,
}

impl<'k> Vacant<'k> {
    /// Stores `v` in the key.
    pub fn insert<T: ModuleValue>(self, v: T) -> CmdResult<&'k mut T> {
        self.key.set_value(v)
    }

    pub fn name(&self) -> RawStr {
        self.key.name()
    }
}

/// What a client blocked by [`Ctx::block_on_keys`] runs: declared as a `static` by the module.
pub struct BlockOnKeys {
    /// A key was signalled ready: serve the client and return true, or return false to keep waiting.
    pub ready: fn(&Ctx, RawStr) -> bool,
    /// The timeout passed: reply.
    pub timeout: fn(&Ctx),
}

/// A C string from bytes for static names (helper for event and command names built at runtime).
pub fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// An array reply of a length announced before its elements: extra elements are dropped and missing
/// ones become nulls on drop, so a miscount can never break the protocol.
pub struct ExactArray<'a> {
    ctx: &'a Ctx,
    left: usize,
}

impl<'a> ExactArray<'a> {
    /// Announces `len` elements.
    pub fn new(ctx: &'a Ctx, len: usize) -> Self {
        ctx.reply_array(len);
        ExactArray { ctx, left: len }
    }

    /// One bulk-string element (dropped past the announced length).
    pub fn bulk(&mut self, b: &[u8]) {
        if self.left > 0 {
            self.ctx.reply_bulk(b);
            self.left -= 1;
        }
    }
}

impl Drop for ExactArray<'_> {
    fn drop(&mut self) {
        for _ in 0..self.left {
            self.ctx.reply_null();
        }
    }
}

/// The context flags a module tests against [`Ctx::flags`].
pub mod flag {
    use crate::ffi::raw;
    pub const LOADING: u32 = raw::REDISMODULE_CTX_FLAGS_LOADING;
    pub const ASYNC_LOADING: u32 = raw::REDISMODULE_CTX_FLAGS_ASYNC_LOADING;
    pub const REPLICATED: u32 = raw::REDISMODULE_CTX_FLAGS_REPLICATED;
    pub const REPLICA: u32 = raw::REDISMODULE_CTX_FLAGS_SLAVE;
    pub const MULTI: u32 = raw::REDISMODULE_CTX_FLAGS_MULTI;
    pub const LUA: u32 = raw::REDISMODULE_CTX_FLAGS_LUA;
    pub const DENY_BLOCKING: u32 = raw::REDISMODULE_CTX_FLAGS_DENY_BLOCKING;
    pub const RESP3: u32 = raw::REDISMODULE_CTX_FLAGS_RESP3;
}
