//! Active expiry on the main thread (spec §5.2) and the server hooks that keep the registries right
//! (§2.1): keyspace events (RENAME, MOVE, COPY, RESTORE, DEL, key expiry, eviction, RDB load) and
//! server events (FLUSHDB / FLUSHALL, SWAPDB, a replica's asynchronous load).
//!
//! A cycle runs every `active_expire_period` ms on a primary that is not loading and whose
//! replication is not paused (replicas never expire by themselves; their primary's `EXHDEL`s do). It
//! visits databases as `State::plan` says, takes the entries of the registry's buckets that ended at
//! least [`GRACE_MS`] ago, drops the stale ones (the key no longer holds a value stamped with that
//! bucket), removes each valid key's due fields in chunks of [`CHUNK`] with the effects of §5.3,
//! registers the key again at its new earliest due time, and stops when the time budget
//! (`active_expire_cycle_ms`) or the field limit (`active_expire_keys_per_loop`) is spent. It never
//! looks at a field that is not due, nor at a key without an entry in a due bucket. What is left of
//! the budget goes to compacting the registries when stale entries pile up (also on replicas, which
//! never expire by themselves).

use std::time::{Duration, Instant};

use tair_common::command::str_bytes;
use tair_common::ctx::flag;
use tair_common::ctx::OwnedString;
use tair_common::events::{
    self, ServerEvent, NOTIFY_EVICTED, NOTIFY_EXPIRED, NOTIFY_GENERIC, NOTIFY_LOADED,
};
use tair_common::{Ctx, RawStr};

use crate::access::{expired_removed, peek_earliest, register_anew, selected_db};
use crate::active::{self, config, Removal, GRACE_MS};
use crate::TairHash;

/// Fields removed between two budget checks (and per `EXHDEL` / `exhexpired` of a busy key).
const CHUNK: usize = 64;
/// Keys taken from a registry at a time.
const KEYS_PER_FETCH: usize = 32;

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

/// The stamp of the tairhash stored under `key` in the selected database, looked up without side
/// effects; `None` if the key is missing, holds another type or is not registered.
fn peek_stamp(ctx: &Ctx, key: RawStr) -> Option<u64> {
    let k = ctx.open_read_quiet(key);
    let stamp = k
        .value::<TairHash>()
        .ok()
        .flatten()
        .and_then(TairHash::stamp);
    stamp
}

/// Expires the due fields of database `db`; false when the budget ran out there.
fn expire_db(ctx: &Ctx, db: usize, threshold: u64, budget: &mut Budget) -> bool {
    let mut selected = false;
    loop {
        let Some((bucket, keys)) =
            active::with(|s| s.take_due(db, threshold, KEYS_PER_FETCH)).flatten()
        else {
            return true;
        };
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
        let mut keys = keys.into_iter();
        while let Some(k) = keys.next() {
            let name = OwnedString::new(&k);
            // A stale entry (the key holds no value registered under this bucket) is dropped.
            if peek_stamp(ctx, name.as_ptr()) != Some(bucket) {
                continue;
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
            // The entry was taken: the key is registered again at what it now holds (progress is
            // guaranteed: its fields are due later than `threshold`, or it is gone, or the budget
            // ran out and the rest waits in the registry).
            if let Ok(Some(h)) = key.value_mut::<TairHash>() {
                register_anew(db, &k, h);
            }
            drop(key);
            if budget.exhausted() {
                // The entries taken but not looked at go back (at the bucket's end).
                let rest: Vec<Vec<u8>> = keys.collect();
                active::with(|s| rest.iter().for_each(|k| s.push(db, bucket, k)));
                return false;
            }
        }
    }
}

/// Entries a compaction step checks at a time.
const COMPACT_BATCH: usize = 128;

/// Drops stale registry entries while a compaction is due and the time budget lasts (see
/// `State::compact_batch`). Touches module memory only; runs on replicas too.
fn compact(ctx: &Ctx, budget: &Budget) {
    let live = crate::hash::stamps::live();
    if active::with(|s| s.compaction_due(live)) != Some(true) {
        return;
    }
    let orig = selected_db(ctx);
    let mut selected = usize::MAX;
    while budget.started.elapsed() < budget.time {
        let Some((db, bucket, keys)) = active::with(|s| s.compact_batch(COMPACT_BATCH)).flatten()
        else {
            break;
        };
        if selected != db {
            if !select_db(ctx, db) {
                continue;
            }
            selected = db;
        }
        let kept: Vec<Vec<u8>> = keys
            .into_iter()
            .filter(|k| peek_stamp(ctx, OwnedString::new(k).as_ptr()) == Some(bucket))
            .collect();
        active::with(|s| kept.iter().for_each(|k| s.push(db, bucket, k)));
    }
    if orig != usize::MAX {
        select_db(ctx, orig);
    }
}

/// One active-expiry cycle, then registry compaction with what is left of its time budget.
fn cycle(ctx: &Ctx) {
    let flags = ctx.flags();
    if flags & (flag::LOADING | flag::ASYNC_LOADING) != 0 {
        return;
    }
    let cfg = config();
    let started = Instant::now();
    let mut budget = Budget {
        started,
        time: Duration::from_millis(cfg.cycle_budget_ms()),
        fields_left: match cfg.active_expire_keys_per_loop {
            0 => u64::MAX,
            n => n,
        },
    };
    let expires = active::settings::enable_active_expire()
        && flags & flag::REPLICA == 0
        && !ctx.avoid_replica_traffic();
    if expires {
        expire(ctx, &mut budget);
    }
    compact(ctx, &budget);
}

/// The active expiry of one cycle (§5.2).
fn expire(ctx: &Ctx, budget: &mut Budget) {
    let cfg = config();
    let started = budget.started;
    let threshold = ctx.now_ms().saturating_sub(GRACE_MS);
    let Ok(threshold) = u64::try_from(threshold) else {
        return;
    };
    if active::with(|s| s.dbnum()) == Some(0) {
        let n = probe_dbnum(ctx);
        active::with(|s| s.set_dbnum(n));
    }
    let plan = active::with(|s| s.plan(cfg.active_expire_dbs_per_loop)).unwrap_or_default();
    let (mut stopped, mut last) = (None, None);
    for db in plan {
        last = Some(db);
        if !expire_db(ctx, db, threshold, budget) {
            stopped = Some(db);
            break;
        }
    }
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    active::with(|s| s.cycle_done(micros, stopped, last));
}

/// The timer ticks at least this often, so a period or an `enable-active-expire` changed at run time
/// (CONFIG SET) takes effect within one tick, not after the old period.
const MAX_TICK_MS: u64 = 100;

/// When the last cycle started (ms since the module's first tick).
static LAST_CYCLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn arm(ctx: &Ctx) {
    let period = config().active_expire_period.clamp(1, MAX_TICK_MS);
    ctx.create_timer(i64::try_from(period).unwrap_or(1), on_timer);
}

fn on_timer(ctx: &Ctx) {
    use std::sync::atomic::Ordering::Relaxed;
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let now =
        u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX);
    let period = config().active_expire_period;
    if now.saturating_sub(LAST_CYCLE.load(Relaxed)) >= period || period <= MAX_TICK_MS {
        LAST_CYCLE.store(now, Relaxed);
        let _ = ctx.catch_write(|| cycle(ctx));
    }
    arm(ctx);
}

/// Registers what `key` (in the callback's selected database) holds under its name: the key was
/// loaded, restored, copied, or moved there. (Opening it for writing changes nothing the server sees:
/// the module loads with `NO_IMPLICIT_SIGNAL_MODIFIED`, and only the value's stamp is written.)
fn refresh(ctx: &Ctx, key: RawStr) {
    let db = selected_db(ctx);
    let k = str_bytes(key);
    // A copy: the `loaded` event passes a key object on the server's stack, which opening a key
    // would try to retain (a server assertion).
    let name = OwnedString::new(k);
    if peek_earliest(ctx, name.as_ptr()).is_none() {
        return;
    }
    let mut w = ctx.open_write(name.as_ptr());
    if let Ok(Some(h)) = w.value_mut::<TairHash>() {
        register_anew(db, k, h);
    }
}

fn on_keyspace(ctx: &Ctx, event: &[u8], key: RawStr) {
    match event {
        // During an asynchronous load the loaded keys are not in the live keyspace yet; the
        // registries are rebuilt when the load completes.
        b"loaded" if active::with(|s| s.async_loading()).unwrap_or(false) => {}
        // A key that left (del, expired, evicted, rename_from, move_from) leaves a stale entry, and
        // freeing its value uncounts its stamp: nothing to do.
        b"loaded" | b"rename_to" | b"move_to" | b"copy_to" | b"restore" => refresh(ctx, key),
        _ => {}
    }
}

fn on_server_event(ctx: &Ctx, event: ServerEvent) {
    match event {
        ServerEvent::FlushStart(None) => {
            active::with(|s| s.flush(None));
        }
        ServerEvent::FlushStart(Some(db)) => {
            if db < active::MAX_DBS {
                active::with(|s| s.flush(Some(db)));
            }
        }
        ServerEvent::SwapDb(a, b) => {
            if a < active::MAX_DBS && b < active::MAX_DBS {
                active::with(|s| s.swap(a, b));
            }
        }
        ServerEvent::AsyncLoadStarted => {
            active::with(|s| s.set_async_loading(true));
        }
        ServerEvent::AsyncLoadCompleted => {
            active::with(|s| s.set_async_loading(false));
            rebuild(ctx);
        }
        ServerEvent::AsyncLoadAborted => {
            active::with(|s| s.set_async_loading(false));
        }
    }
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
        let mut found: Vec<Vec<u8>> = Vec::new();
        let scanned = ctx.scan_keys(|name, key| {
            if let Ok(Some(h)) = key.value::<TairHash>() {
                if h.earliest_due().is_some() || h.stamp().is_some() {
                    found.push(name.to_vec());
                }
            }
        });
        if !scanned {
            return;
        }
        for k in &found {
            let name = OwnedString::new(k);
            let mut w = ctx.open_write(name.as_ptr());
            if let Ok(Some(h)) = w.value_mut::<TairHash>() {
                register_anew(db, k, h);
            }
        }
    }
    if orig != usize::MAX {
        select_db(ctx, orig);
    }
}

/// Subscribes to the events and starts the timer (OnLoad).
pub fn start(ctx: &Ctx) -> Result<(), String> {
    let types = NOTIFY_GENERIC | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_LOADED;
    events::subscribe_keyspace(ctx, types, on_keyspace)?;
    events::subscribe_server(ctx, on_server_event)?;
    // Always armed: `enable-active-expire` may be switched on at run time.
    arm(ctx);
    Ok(())
}
