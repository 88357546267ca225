//! Active expiry on the main thread (spec §5.2) and the server hooks that keep the registries right
//! (§2.1): keyspace events (RENAME, MOVE, COPY, RESTORE, DEL, key expiry, eviction, RDB load) and
//! server events (FLUSHDB / FLUSHALL, SWAPDB, a replica's asynchronous load).
//!
//! A cycle runs every `active_expire_period` ms on a primary that is not loading and whose
//! replication is not paused (replicas never expire by themselves; their primary's `EXHDEL`s do). It
//! visits databases as `State::plan` says, takes the registry's keys due at least [`GRACE_MS`] ago,
//! checks each against the value really stored, removes its due fields in chunks of [`CHUNK`] with the
//! effects of §5.3, and stops when the time budget (`active_expire_cycle_ms`) or the field limit
//! (`active_expire_keys_per_loop`) is spent. It never looks at a key or field that is not due.

use std::ffi::{c_int, c_void, CStr};
use std::time::{Duration, Instant};

use tair_common::command::str_bytes;
use tair_common::ctx::OwnedString;
use tair_common::ffi::raw;
use tair_common::guard::catch;
use tair_common::Ctx;

use crate::access::{expired_removed, peek_earliest, selected_db};
use crate::active::{self, config, db_index, Removal, GRACE_MS};
use crate::TairHash;

/// Fields removed between two budget checks (and per `EXHDEL` / `exhexpired` of a busy key).
const CHUNK: usize = 64;
/// Keys taken from a registry at a time.
const KEYS_PER_FETCH: usize = 32;

const OK: c_int = raw::REDISMODULE_OK as c_int;

/// What is left of a cycle's budget.
struct Budget {
    started: Instant,
    time: Duration,
    fields_left: u64,
}

impl Budget {
    fn chunk(&self) -> usize {
        usize::try_from(self.fields_left).map_or(CHUNK, |f| f.min(CHUNK))
    }

    fn spend(&mut self, n: usize) {
        self.fields_left = self.fields_left.saturating_sub(n as u64);
    }

    fn exhausted(&self) -> bool {
        self.fields_left == 0 || self.started.elapsed() >= self.time
    }
}

fn select_db(ctx: &Ctx, db: usize) -> bool {
    ctx.select_db(db)
}

/// The number of databases: the first index `SelectDb` refuses (binary search; the selection is
/// restored).
fn probe_dbnum(ctx: &Ctx) -> usize {
    let orig = selected_db(ctx);
    let mut ok = 0usize; // known to exist: 0 .. ok
    let mut bad = 1usize;
    while bad < active::MAX_DBS && select_db(ctx, bad - 1) {
        ok = bad;
        bad *= 2;
    }
    // Invariant: index ok-1 exists (or ok == 0), index bad-1 does not (or bad == MAX_DBS).
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        if select_db(ctx, mid - 1) {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    if orig != usize::MAX {
        select_db(ctx, orig);
    }
    ok.max(1)
}

/// Expires the due fields of database `db`; false when the budget ran out there.
fn expire_db(ctx: &Ctx, db: usize, threshold: u64, budget: &mut Budget) -> bool {
    let mut selected = false;
    loop {
        let keys = active::with(|s| {
            s.registry_if_any(db)
                .map(|r| r.due_keys(threshold, KEYS_PER_FETCH))
                .unwrap_or_default()
        })
        .unwrap_or_default();
        if keys.is_empty() {
            return true;
        }
        if !selected {
            if !select_db(ctx, db) {
                active::with(|s| s.flush(Some(db)));
                return true;
            }
            selected = true;
        }
        for k in keys {
            let name = OwnedString::new(&k);
            // Verify the hint before opening the key for writing.
            match peek_earliest(ctx, name.as_ptr()) {
                Some(t) if t <= threshold => {}
                other => {
                    active::with(|s| s.register(db, &k, other));
                    continue;
                }
            }
            let mut key = ctx.open_write(name.as_ptr());
            loop {
                let n = budget.chunk();
                let names = match key.value_mut::<TairHash>() {
                    Ok(Some(h)) => h.pop_due(threshold, n),
                    _ => Vec::new(),
                };
                if names.is_empty() {
                    break;
                }
                budget.spend(names.len());
                expired_removed(ctx, db, &mut key, &names, Removal::Active);
                if budget.exhausted() {
                    break;
                }
            }
            // Whatever happened, the entry now says what the key holds (progress is guaranteed:
            // it is due later than `threshold`, or gone).
            let earliest = match key.value::<TairHash>() {
                Ok(Some(h)) => h.earliest_due(),
                _ => None,
            };
            active::with(|s| s.register(db, &k, earliest));
            drop(key);
            if budget.exhausted() {
                return false;
            }
        }
    }
}

/// One active-expiry cycle.
fn cycle(ctx: &Ctx) {
    let flags = ctx.flags();
    let idle = raw::REDISMODULE_CTX_FLAGS_SLAVE
        | raw::REDISMODULE_CTX_FLAGS_LOADING
        | raw::REDISMODULE_CTX_FLAGS_ASYNC_LOADING;
    if flags & idle != 0 || ctx.avoid_replica_traffic() {
        return;
    }
    let cfg = config();
    let started = Instant::now();
    let threshold = ctx.now_ms().saturating_sub(GRACE_MS);
    let Ok(threshold) = u64::try_from(threshold) else {
        return;
    };
    if active::with(|s| s.dbnum()) == Some(0) {
        let n = probe_dbnum(ctx);
        active::with(|s| s.set_dbnum(n));
    }
    let plan = active::with(|s| s.plan(cfg.active_expire_dbs_per_loop)).unwrap_or_default();
    let mut budget = Budget {
        started,
        time: Duration::from_millis(cfg.active_expire_cycle_ms),
        fields_left: match cfg.active_expire_keys_per_loop {
            0 => u64::MAX,
            n => n,
        },
    };
    let (mut stopped, mut last) = (None, None);
    for db in plan {
        last = Some(db);
        if !expire_db(ctx, db, threshold, &mut budget) {
            stopped = Some(db);
            break;
        }
    }
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    active::with(|s| s.cycle_done(micros, stopped, last));
}

fn arm(ctx: &Ctx) {
    let period = i64::try_from(config().active_expire_period).unwrap_or(i64::MAX);
    ctx.create_timer(period, on_timer);
}

fn on_timer(ctx: &Ctx) {
    let _ = catch(|| cycle(ctx));
    arm(ctx);
}

/// Re-reads what `key` (in the callback's selected database) holds into its registry.
fn refresh(ctx: &Ctx, key: *mut raw::RedisModuleString) {
    let db = selected_db(ctx);
    let k = str_bytes(key);
    // A copy: the `loaded` event passes a key object on the server's stack, which opening a key
    // would try to retain (a server assertion).
    let name = OwnedString::new(k);
    let earliest = peek_earliest(ctx, name.as_ptr());
    active::with(|s| s.register(db, k, earliest));
}

unsafe extern "C" fn on_keyspace(
    ctx: *mut raw::RedisModuleCtx,
    _type: c_int,
    event: *const std::os::raw::c_char,
    key: *mut raw::RedisModuleString,
) -> c_int {
    let _ = catch(|| {
        if event.is_null() || key.is_null() {
            return;
        }
        // SAFETY: the server passes a NUL-terminated event name.
        let ev = unsafe { CStr::from_ptr(event) }.to_bytes();
        match ev {
            // During an asynchronous load the loaded keys are not in the live keyspace yet; the
            // registries are rebuilt when the load completes.
            b"loaded" if active::with(|s| s.async_loading()).unwrap_or(false) => {}
            b"loaded" | b"del" | b"expired" | b"evicted" | b"rename_from" | b"rename_to"
            | b"move_from" | b"move_to" | b"copy_to" | b"restore" => {
                refresh(&Ctx::from_raw(ctx), key)
            }
            _ => {}
        }
    });
    OK
}

unsafe extern "C" fn on_flush(
    _ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    subevent: u64,
    data: *mut c_void,
) {
    let _ = catch(|| {
        if subevent != raw::REDISMODULE_SUBEVENT_FLUSHDB_START {
            return;
        }
        // SAFETY: the FlushDB event passes a RedisModuleFlushInfo.
        let Some(info) = (unsafe { data.cast::<raw::RedisModuleFlushInfo>().as_ref() }) else {
            return;
        };
        if info.dbnum < 0 {
            active::with(|s| s.flush(None));
        } else if let Some(db) = db_index(info.dbnum) {
            active::with(|s| s.flush(Some(db)));
        }
    });
}

unsafe extern "C" fn on_swapdb(
    _ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    _subevent: u64,
    data: *mut c_void,
) {
    let _ = catch(|| {
        // SAFETY: the SwapDB event passes a RedisModuleSwapDbInfo.
        let Some(info) = (unsafe { data.cast::<raw::RedisModuleSwapDbInfo>().as_ref() }) else {
            return;
        };
        if let (Some(a), Some(b)) = (db_index(info.dbnum_first), db_index(info.dbnum_second)) {
            active::with(|s| s.swap(a, b));
        }
    });
}

/// Rebuilds every registry from the keyspace (after a replica's asynchronous load). O(keys).
fn rebuild(ctx: &Ctx) {
    let dbnum = probe_dbnum(ctx);
    let orig = selected_db(ctx);
    active::with(|s| {
        s.set_dbnum(dbnum);
        s.flush(None);
    });
    for db in 0..dbnum {
        if !select_db(ctx, db) {
            continue;
        }
        let mut found: Vec<(Vec<u8>, u64)> = Vec::new();
        let scanned = ctx.scan_keys(|name, key| {
            if let Some(t) = key
                .value::<TairHash>()
                .ok()
                .flatten()
                .and_then(TairHash::earliest_due)
            {
                found.push((name.to_vec(), t));
            }
        });
        if !scanned {
            return;
        }
        active::with(|s| {
            for (k, t) in &found {
                s.register(db, k, Some(*t));
            }
        });
    }
    if orig != usize::MAX {
        select_db(ctx, orig);
    }
}

unsafe extern "C" fn on_async_load(
    ctx: *mut raw::RedisModuleCtx,
    _eid: raw::RedisModuleEvent,
    subevent: u64,
    _data: *mut c_void,
) {
    let _ = catch(|| match subevent {
        raw::REDISMODULE_SUBEVENT_REPL_ASYNC_LOAD_STARTED => {
            active::with(|s| s.set_async_loading(true));
        }
        raw::REDISMODULE_SUBEVENT_REPL_ASYNC_LOAD_COMPLETED => {
            active::with(|s| s.set_async_loading(false));
            rebuild(&Ctx::from_raw(ctx));
        }
        _ => {
            active::with(|s| s.set_async_loading(false));
        }
    });
}

type EventCallback =
    unsafe extern "C" fn(*mut raw::RedisModuleCtx, raw::RedisModuleEvent, u64, *mut c_void);

fn subscribe(ctx: &Ctx, id: u64, cb: EventCallback) -> Result<(), String> {
    // SAFETY: plain read of a function pointer.
    let Some(sub) = (unsafe { raw::RedisModule_SubscribeToServerEvent }) else {
        return Err("the server lacks RedisModule_SubscribeToServerEvent".into());
    };
    let event = raw::RedisModuleEvent { id, dataver: 1 };
    // SAFETY: valid OnLoad ctx; the callback is a plain function.
    if unsafe { sub(ctx.as_ptr(), event, Some(cb)) } != OK {
        return Err(format!("could not subscribe to server event {id}"));
    }
    Ok(())
}

/// Subscribes to the events and starts the timer (OnLoad).
pub fn start(ctx: &Ctx) -> Result<(), String> {
    // SAFETY: plain read of a function pointer.
    let Some(keyspace) = (unsafe { raw::RedisModule_SubscribeToKeyspaceEvents }) else {
        return Err("the server lacks RedisModule_SubscribeToKeyspaceEvents".into());
    };
    let types = raw::REDISMODULE_NOTIFY_GENERIC
        | raw::REDISMODULE_NOTIFY_EXPIRED
        | raw::REDISMODULE_NOTIFY_EVICTED
        | raw::REDISMODULE_NOTIFY_LOADED;
    // SAFETY: valid OnLoad ctx; the callback is a plain function.
    if unsafe { keyspace(ctx.as_ptr(), types, Some(on_keyspace)) } != OK {
        return Err("could not subscribe to keyspace events".into());
    }
    subscribe(ctx, raw::REDISMODULE_EVENT_FLUSHDB, on_flush)?;
    subscribe(ctx, raw::REDISMODULE_EVENT_SWAPDB, on_swapdb)?;
    subscribe(ctx, raw::REDISMODULE_EVENT_REPL_ASYNC_LOAD, on_async_load)?;
    if config().enable_active_expire {
        arm(ctx);
    }
    Ok(())
}
