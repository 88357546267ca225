//! Module-wide state kept on the main thread: the load arguments (§5.7), the per-database
//! [`ExpiryRegistry`]s (§2.1), the expiry counters of EXHEXPIREINFO (§4.31), and the bookkeeping of
//! the active-expiry cycle (§5.2; the cycle itself is in `cycle`).
//!
//! Everything here is touched only from the server's main thread (commands, the timer, keyspace and
//! server-event callbacks). Type callbacks that may run elsewhere (`free` on the lazy-free thread,
//! `rdb_save` / `aof_rewrite` in a fork child) never reach it.
//!
//! The registries are a *hint*: an entry `(b, K)` says "key K of database D may have a field due from
//! bucket b on". It is valid only while K holds a tairhash whose stamp is b (`registry`); the cycle
//! checks every entry it meets against the value really stored under that key before it acts, so a
//! stale entry (a deleted, overwritten, renamed or moved key, an entry superseded by an earlier one)
//! is dropped, never acted on, and a valid entry earlier than the key's real earliest due time is
//! re-pushed at that time. What must hold is the other direction: every key with expiring fields has
//! a stamp and a valid entry no later than its earliest due time (writes push one when they bring that
//! time into an earlier bucket, [`restamp`]; keyspace and server events cover RENAME, MOVE, COPY,
//! RESTORE, loading, SWAPDB, FLUSH). Stale entries are bounded by compaction ([`State::compact_batch`]):
//! when the entries exceed twice the stamped values ([`crate::hash::stamps::live`]) plus
//! [`COMPACT_SLACK`], the cycles walk every bucket once, keeping only valid entries.

use std::collections::BTreeMap;
use std::sync::{Mutex, TryLockError};

use tair_common::load_args::LoadArgs;
use tair_common::log;

use crate::registry::bucket_of;
use crate::ExpiryRegistry;

/// Active expiry leaves a field alone until this long after its due time (§5.2, "Grace").
pub const GRACE_MS: i64 = 50;

/// Databases beyond this index are not tracked (Valkey allows more, nobody configures them).
pub const MAX_DBS: usize = 1 << 16;

/// Stale entries tolerated beyond the live ones before a compaction starts.
pub const COMPACT_SLACK: usize = 4096;

/// What a write (or an event) must do to the registry, given the value's stamp and its earliest due
/// time afterwards: `None` nothing, `Some(s)` set the stamp to `s` and, when `s` is a bucket, push an
/// entry there. An earliest due time in an earlier bucket than the stamp (or no stamp) pushes; a later
/// one changes nothing (the entry falls due early and the cycle re-pushes the key); no expiring field
/// clears the stamp (the entry becomes stale).
pub fn restamp(stamp: Option<u64>, earliest: Option<u64>) -> Option<Option<u64>> {
    match (stamp, earliest.map(bucket_of)) {
        (None, None) => None,
        (Some(_), None) => Some(None),
        (Some(s), Some(b)) if s <= b => None,
        (_, Some(b)) => Some(Some(b)),
    }
}

/// The load arguments (§5.7) and the compact-encoding thresholds, as one snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub enable_active_expire: bool,
    pub active_expire_period: u64,
    /// Fields removed per cycle at most (0 = no count limit).
    pub active_expire_keys_per_loop: u64,
    pub active_expire_cycle_ms: u64,
    pub active_expire_dbs_per_loop: usize,
    pub passive_expire_keys_per_loop: usize,
    pub expire_event_pubsub: bool,
    /// Largest field count of a compact value.
    pub compact_max_entries: usize,
    /// Largest name or value length in a compact value.
    pub compact_max_value: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enable_active_expire: true,
            active_expire_period: 100,
            active_expire_keys_per_loop: 0,
            active_expire_cycle_ms: 25,
            active_expire_dbs_per_loop: 16,
            passive_expire_keys_per_loop: 3,
            expire_event_pubsub: true,
            compact_max_entries: crate::compact::DEFAULT_MAX_ENTRIES,
            compact_max_value: crate::compact::DEFAULT_MAX_VALUE,
        }
    }
}

/// Load-argument names besides `tair-compat`. Each is also the config `tairhash.<name with dashes>`.
pub const LOAD_ARGS: &[&str] = &[
    "enable_active_expire",
    "active_expire_period",
    "active_expire_keys_per_loop",
    "active_expire_cycle_ms",
    "active_expire_dbs_per_loop",
    "passive_expire_keys_per_loop",
    "expire_event_pubsub",
    "compact_max_entries",
    "compact_max_value",
];

/// Upper bounds of the numeric settings (load arguments and configs alike).
pub const MAX_PERIOD_MS: u64 = 86_400_000;
pub const MAX_DBS_PER_LOOP: u64 = MAX_DBS as u64;
pub const MAX_PASSIVE_PER_LOOP: u64 = 1_000_000;
pub const MAX_COMPACT_ENTRIES: u64 = 65_535;
pub const MAX_COMPACT_VALUE: u64 = 1 << 20;

fn number(args: &LoadArgs, name: &str, min: u64, max: u64) -> Result<Option<u64>, String> {
    let Some(v) = args.get(name) else {
        return Ok(None);
    };
    match crate::number::parse_i64(v.as_bytes()).and_then(|n| u64::try_from(n).ok()) {
        Some(n) if n >= min && n <= max => Ok(Some(n)),
        _ => Err(format!(
            "{name} must be an integer in {min}..={max}, not '{v}'"
        )),
    }
}

fn flag(args: &LoadArgs, name: &str) -> Result<Option<bool>, String> {
    match args.get(name) {
        None => Ok(None),
        Some("0") => Ok(Some(false)),
        Some("1") => Ok(Some(true)),
        Some(v) => Err(format!("{name} must be 0 or 1, not '{v}'")),
    }
}

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl Config {
    /// Reads and validates the load arguments over the defaults.
    pub fn from_load_args(args: &LoadArgs) -> Result<Config, String> {
        Config::default().with_load_args(args)
    }

    /// Reads and validates the load arguments over `self` (what the config file set). Those not given
    /// keep `self`'s value. `active_expire_cycle_ms` must be below the period when given; when not
    /// given it is at most a quarter of the period (at least 1 ms).
    pub fn with_load_args(self, args: &LoadArgs) -> Result<Config, String> {
        let d = self;
        let period = number(args, "active_expire_period", 1, MAX_PERIOD_MS)?
            .unwrap_or(d.active_expire_period);
        let cycle_ms = match number(args, "active_expire_cycle_ms", 1, MAX_PERIOD_MS)? {
            Some(c) if c >= period => {
                return Err(format!(
                    "active_expire_cycle_ms ({c}) must be below active_expire_period ({period})"
                ))
            }
            Some(c) => c,
            None => d.active_expire_cycle_ms.min((period / 4).max(1)),
        };
        Ok(Config {
            enable_active_expire: flag(args, "enable_active_expire")?
                .unwrap_or(d.enable_active_expire),
            active_expire_period: period,
            active_expire_keys_per_loop: number(
                args,
                "active_expire_keys_per_loop",
                0,
                i64::MAX as u64,
            )?
            .unwrap_or(d.active_expire_keys_per_loop),
            active_expire_cycle_ms: cycle_ms,
            active_expire_dbs_per_loop: number(
                args,
                "active_expire_dbs_per_loop",
                1,
                MAX_DBS_PER_LOOP,
            )?
            .map_or(d.active_expire_dbs_per_loop, usize_of),
            passive_expire_keys_per_loop: number(
                args,
                "passive_expire_keys_per_loop",
                0,
                MAX_PASSIVE_PER_LOOP,
            )?
            .map_or(d.passive_expire_keys_per_loop, usize_of),
            expire_event_pubsub: flag(args, "expire_event_pubsub")?
                .unwrap_or(d.expire_event_pubsub),
            compact_max_entries: number(args, "compact_max_entries", 0, MAX_COMPACT_ENTRIES)?
                .map_or(d.compact_max_entries, usize_of),
            compact_max_value: number(args, "compact_max_value", 0, MAX_COMPACT_VALUE)?
                .map_or(d.compact_max_value, usize_of),
        })
    }

    /// The time budget of one cycle: the configured one when below the period, else a quarter of
    /// the period (configs are set one at a time, so the pair is not refused, only reconciled).
    pub fn cycle_budget_ms(&self) -> u64 {
        if self.active_expire_cycle_ms < self.active_expire_period {
            self.active_expire_cycle_ms
        } else {
            (self.active_expire_period / 4).max(1)
        }
    }
}

/// The settings, each in an atomic: configs change them at run time (on the main thread), the hot
/// paths read them with relaxed loads.
pub mod settings {
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};

    pub static ENABLE_ACTIVE_EXPIRE: AtomicBool = AtomicBool::new(true);
    pub static ACTIVE_EXPIRE_PERIOD: AtomicU64 = AtomicU64::new(100);
    pub static ACTIVE_EXPIRE_KEYS_PER_LOOP: AtomicU64 = AtomicU64::new(0);
    pub static ACTIVE_EXPIRE_CYCLE_MS: AtomicU64 = AtomicU64::new(25);
    pub static ACTIVE_EXPIRE_DBS_PER_LOOP: AtomicUsize = AtomicUsize::new(16);
    pub static PASSIVE_EXPIRE_KEYS_PER_LOOP: AtomicUsize = AtomicUsize::new(3);
    pub static EXPIRE_EVENT_PUBSUB: AtomicBool = AtomicBool::new(true);

    pub fn enable_active_expire() -> bool {
        ENABLE_ACTIVE_EXPIRE.load(Relaxed)
    }
    pub fn expire_event_pubsub() -> bool {
        EXPIRE_EVENT_PUBSUB.load(Relaxed)
    }
    pub fn passive_expire_keys_per_loop() -> usize {
        PASSIVE_EXPIRE_KEYS_PER_LOOP.load(Relaxed)
    }
}

/// The current settings as one snapshot.
pub fn config() -> Config {
    use settings::*;
    use std::sync::atomic::Ordering::Relaxed;
    Config {
        enable_active_expire: ENABLE_ACTIVE_EXPIRE.load(Relaxed),
        active_expire_period: ACTIVE_EXPIRE_PERIOD.load(Relaxed),
        active_expire_keys_per_loop: ACTIVE_EXPIRE_KEYS_PER_LOOP.load(Relaxed),
        active_expire_cycle_ms: ACTIVE_EXPIRE_CYCLE_MS.load(Relaxed),
        active_expire_dbs_per_loop: ACTIVE_EXPIRE_DBS_PER_LOOP.load(Relaxed),
        passive_expire_keys_per_loop: PASSIVE_EXPIRE_KEYS_PER_LOOP.load(Relaxed),
        expire_event_pubsub: EXPIRE_EVENT_PUBSUB.load(Relaxed),
        compact_max_entries: crate::compact::Thresholds::max_entries(),
        compact_max_value: crate::compact::Thresholds::max_value(),
    }
}

/// Sets every setting (at load, after the load arguments were read over the config file's values).
pub fn set_config(c: Config) {
    use settings::*;
    use std::sync::atomic::Ordering::Relaxed;
    ENABLE_ACTIVE_EXPIRE.store(c.enable_active_expire, Relaxed);
    ACTIVE_EXPIRE_PERIOD.store(c.active_expire_period, Relaxed);
    ACTIVE_EXPIRE_KEYS_PER_LOOP.store(c.active_expire_keys_per_loop, Relaxed);
    ACTIVE_EXPIRE_CYCLE_MS.store(c.active_expire_cycle_ms, Relaxed);
    ACTIVE_EXPIRE_DBS_PER_LOOP.store(c.active_expire_dbs_per_loop, Relaxed);
    PASSIVE_EXPIRE_KEYS_PER_LOOP.store(c.passive_expire_keys_per_loop, Relaxed);
    EXPIRE_EVENT_PUBSUB.store(c.expire_event_pubsub, Relaxed);
    crate::compact::Thresholds::set_max_entries(c.compact_max_entries);
    crate::compact::Thresholds::set_max_value(c.compact_max_value);
}

/// Counters of the INFO section, in atomics (INFO reads them without the state's lock).
pub mod stats {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    use super::Removal;

    static EXPIRED_ACTIVE: AtomicU64 = AtomicU64::new(0);
    static EXPIRED_PASSIVE: AtomicU64 = AtomicU64::new(0);
    static CYCLES: AtomicU64 = AtomicU64::new(0);
    static CYCLE_MICROS: AtomicU64 = AtomicU64::new(0);

    pub(super) fn count(how: Removal, n: u64) {
        match how {
            Removal::Active => EXPIRED_ACTIVE.fetch_add(n, Relaxed),
            Removal::Passive => EXPIRED_PASSIVE.fetch_add(n, Relaxed),
        };
    }

    pub(super) fn cycle(micros: u64) {
        CYCLES.fetch_add(1, Relaxed);
        CYCLE_MICROS.fetch_add(micros, Relaxed);
    }

    /// Fields removed by active expiry, all databases.
    pub fn expired_active() -> u64 {
        EXPIRED_ACTIVE.load(Relaxed)
    }

    /// Fields removed by passive expiry (reads and writes), all databases.
    pub fn expired_passive() -> u64 {
        EXPIRED_PASSIVE.load(Relaxed)
    }

    /// Active-expiry cycles run.
    pub fn cycles() -> u64 {
        CYCLES.load(Relaxed)
    }

    /// Time spent in active-expiry cycles, microseconds.
    pub fn cycle_micros() -> u64 {
        CYCLE_MICROS.load(Relaxed)
    }
}

/// How expired fields were removed (the two counters of §4.31).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    Active,
    Passive,
}

#[derive(Clone, Copy, Debug, Default)]
struct DbCounters {
    active: u64,
    passive: u64,
}

/// Where the next cycle starts and how long cycles take.
#[derive(Clone, Copy, Debug, Default)]
struct CycleStats {
    last_us: u64,
    max_us: u64,
    total_us: u64,
    cycles: u64,
    /// The database where the last cycle ran out of budget, if it did.
    stopped_at: Option<usize>,
    /// The last database the last cycle visited.
    last_visited: Option<usize>,
}

/// Where a compaction is: the database and bucket it walks, and how many of that bucket's entries
/// (those present when it got there) it has yet to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Compaction {
    db: usize,
    bucket: u64,
    remaining: Option<usize>,
}

/// The module's main-thread state.
pub struct State {
    regs: Vec<ExpiryRegistry>,
    compaction: Option<Compaction>,
    counters: BTreeMap<usize, DbCounters>,
    cycle: CycleStats,
    /// Databases of the server (probed once by the first cycle).
    dbnum: usize,
    /// A replica is loading its primary's data into a side dataset (`repl-diskless-load swapdb`):
    /// `loaded` events then name keys that are not in the live keyspace yet.
    async_loading: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    regs: Vec::new(),
    compaction: None,
    counters: BTreeMap::new(),
    cycle: CycleStats {
        last_us: 0,
        max_us: 0,
        total_us: 0,
        cycles: 0,
        stopped_at: None,
        last_visited: None,
    },
    dbnum: 0,
    async_loading: false,
});

/// Runs `f` on the state. `f` must not call into the server (a server call can fire a keyspace event
/// whose callback needs the state again); a re-entrant call is refused with a log line instead of
/// dead-locking the server.
pub fn with<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    match STATE.try_lock() {
        Ok(mut g) => Some(f(&mut g)),
        Err(TryLockError::Poisoned(p)) => Some(f(&mut p.into_inner())),
        Err(TryLockError::WouldBlock) => {
            log::warning("tairhash: re-entrant use of the expiry state (bug); update skipped");
            None
        }
    }
}

impl State {
    /// The registry of database `db` (created on first use).
    pub fn registry(&mut self, db: usize) -> Option<&mut ExpiryRegistry> {
        if db >= MAX_DBS {
            return None;
        }
        if self.regs.len() <= db {
            self.regs.resize_with(db + 1, ExpiryRegistry::new);
        }
        self.regs.get_mut(db)
    }

    /// The registry of `db` if it has entries.
    #[cfg(test)]
    pub fn registry_if_any(&self, db: usize) -> Option<&ExpiryRegistry> {
        self.regs.get(db).filter(|r| !r.is_empty())
    }

    /// Adds the entry `(bucket, key)` to database `db`'s registry.
    pub fn push(&mut self, db: usize, bucket: u64, key: &[u8]) {
        if let Some(r) = self.registry(db) {
            r.push(bucket, key);
        }
    }

    /// Takes up to `limit` entries of `db`'s earliest bucket if it ended by `threshold`.
    pub fn take_due(
        &mut self,
        db: usize,
        threshold: u64,
        limit: usize,
    ) -> Option<(u64, Vec<Vec<u8>>)> {
        let r = self.regs.get_mut(db)?;
        let b = r.due_bucket(threshold)?;
        Some((b, r.take(b, limit)))
    }

    /// Entries of every registry (valid and stale).
    pub fn entries(&self) -> usize {
        self.regs.iter().map(ExpiryRegistry::len).sum()
    }

    /// Bytes of every registry.
    pub fn registry_bytes(&self) -> usize {
        self.regs.iter().map(ExpiryRegistry::mem_usage).sum()
    }

    /// Starts a compaction when the entries exceed twice the `live` stamped values plus
    /// [`COMPACT_SLACK`] (and none is running). True when one is running.
    pub fn compaction_due(&mut self, live: u64) -> bool {
        let live = usize::try_from(live).unwrap_or(usize::MAX);
        if self.entries() > live.saturating_mul(2).saturating_add(COMPACT_SLACK) {
            self.start_compaction();
        }
        self.compaction.is_some()
    }

    /// Starts a compaction (walking from the first bucket of database 0) unless one is running.
    pub fn start_compaction(&mut self) {
        if self.compaction.is_none() {
            self.compaction = Some(Compaction {
                db: 0,
                bucket: 0,
                remaining: None,
            });
        }
    }

    /// The next entries a compaction checks: `(db, bucket, keys)`, up to `limit`, taken out of the
    /// registry; the caller pushes back (with [`push`](Self::push)) those still valid. `None` when the
    /// compaction is over (every bucket present when it reached it was checked once). The kept
    /// entries go to the back of their bucket, after those the walk counted, so each is checked once.
    pub fn compact_batch(&mut self, limit: usize) -> Option<(usize, u64, Vec<Vec<u8>>)> {
        loop {
            let mut c = self.compaction?;
            match c.remaining {
                Some(n) if n > 0 => {
                    let keys = self
                        .regs
                        .get_mut(c.db)
                        .map(|r| r.take(c.bucket, limit.min(n)))
                        .unwrap_or_default();
                    c.remaining = if keys.is_empty() {
                        Some(0)
                    } else {
                        Some(n - keys.len())
                    };
                    self.compaction = Some(c);
                    if !keys.is_empty() {
                        return Some((c.db, c.bucket, keys));
                    }
                }
                done => {
                    // The next bucket: after this one (or the first, at the start) in this database,
                    // else the first of the next database that has entries.
                    let from = if done.is_none() {
                        Some(c.bucket)
                    } else {
                        c.bucket.checked_add(1)
                    };
                    let next = from
                        .and_then(|f| self.regs.get(c.db).and_then(|r| r.bucket_from(f)))
                        .map(|b| (c.db, b))
                        .or_else(|| {
                            (c.db + 1..self.regs.len()).find_map(|db| {
                                self.regs
                                    .get(db)
                                    .and_then(|r| r.bucket_from(0))
                                    .map(|b| (db, b))
                            })
                        });
                    self.compaction = next.map(|(db, bucket)| Compaction {
                        db,
                        bucket,
                        remaining: Some(self.regs.get(db).map_or(0, |r| r.bucket_len(bucket))),
                    });
                }
            }
        }
    }

    pub fn count(&mut self, db: usize, how: Removal, n: usize) {
        if db >= MAX_DBS {
            return;
        }
        let c = self.counters.entry(db).or_default();
        let n = n as u64;
        stats::count(how, n);
        match how {
            Removal::Active => c.active = c.active.saturating_add(n),
            Removal::Passive => c.passive = c.passive.saturating_add(n),
        }
    }

    /// FLUSHDB (`Some(db)`) / FLUSHALL (`None`).
    pub fn flush(&mut self, db: Option<usize>) {
        match db {
            Some(d) => {
                if let Some(r) = self.regs.get_mut(d) {
                    r.clear();
                }
            }
            None => self.regs.iter_mut().for_each(ExpiryRegistry::clear),
        }
    }

    /// SWAPDB a b.
    pub fn swap(&mut self, a: usize, b: usize) {
        let top = a.max(b);
        if top >= MAX_DBS {
            return;
        }
        if self.regs.len() <= top {
            self.regs.resize_with(top + 1, ExpiryRegistry::new);
        }
        self.regs.swap(a, b);
    }

    pub fn set_async_loading(&mut self, on: bool) {
        self.async_loading = on;
    }

    pub fn async_loading(&self) -> bool {
        self.async_loading
    }

    pub fn dbnum(&self) -> usize {
        self.dbnum
    }

    pub fn set_dbnum(&mut self, n: usize) {
        self.dbnum = n.min(MAX_DBS);
    }

    /// The databases the next cycle visits, in order (§5.2).
    pub fn plan(&self, dbs_per_loop: usize) -> Vec<usize> {
        let n = self.dbnum;
        if n == 0 {
            return Vec::new();
        }
        let first = if dbs_per_loop >= n {
            self.cycle.stopped_at.unwrap_or(0)
        } else {
            self.cycle.last_visited.map_or(0, |d| d + 1)
        };
        (0..dbs_per_loop.min(n)).map(|i| (first + i) % n).collect()
    }

    /// Records a finished cycle.
    pub fn cycle_done(&mut self, micros: u64, stopped_at: Option<usize>, last: Option<usize>) {
        let c = &mut self.cycle;
        c.last_us = micros;
        c.max_us = c.max_us.max(micros);
        c.total_us = c.total_us.saturating_add(micros);
        c.cycles += 1;
        stats::cycle(micros);
        c.stopped_at = stopped_at;
        if last.is_some() {
            c.last_visited = last;
        }
    }

    /// The EXHEXPIREINFO text (§4.31).
    pub fn info(&self, cfg: &Config) -> String {
        let c = &self.cycle;
        let avg = c.total_us.checked_div(c.cycles).unwrap_or(0);
        let mut s = String::from("\r\n# Active expire statistics\r\n");
        let mut line = |k: &str, v: u64| {
            s.push_str(k);
            s.push(':');
            s.push_str(&v.to_string());
            s.push_str("\r\n");
        };
        line("enable_active_expire", u64::from(cfg.enable_active_expire));
        line("tair_hash_active_expire_period", cfg.active_expire_period);
        line(
            "tair_hash_active_expire_keys_per_loop",
            cfg.active_expire_keys_per_loop,
        );
        line(
            "tair_hash_active_expire_dbs_per_loop",
            cfg.active_expire_dbs_per_loop as u64,
        );
        line("tair_hash_active_expire_last_time_msec", c.last_us / 1000);
        line("tair_hash_active_expire_max_time_msec", c.max_us / 1000);
        line("tair_hash_active_expire_avg_time_msec", avg / 1000);
        line(
            "tair_hash_passive_expire_keys_per_loop",
            cfg.passive_expire_keys_per_loop as u64,
        );
        s.push_str("\r\n# DB detail statistics\r\n");
        for (db, n) in &self.counters {
            if n.active != 0 || n.passive != 0 {
                s.push_str(&format!(
                    "db: {db}, active_expired_fields: {}, passive_expired_fields: {}\r\n",
                    n.active, n.passive
                ));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> LoadArgs {
        LoadArgs::parse(a.iter().map(|s| s.as_bytes()), LOAD_ARGS).unwrap()
    }

    #[test]
    fn load_arguments() {
        assert_eq!(
            Config::from_load_args(&args(&[])).unwrap(),
            Config::default()
        );
        let c = Config::from_load_args(&args(&[
            "ENABLE_ACTIVE_EXPIRE",
            "0",
            "active_expire_period",
            "1000",
            "active_expire_cycle_ms",
            "200",
            "active_expire_dbs_per_loop",
            "2",
            "passive_expire_keys_per_loop",
            "0",
            "expire_event_pubsub",
            "0",
            "active_expire_keys_per_loop",
            "500",
            "tair-compat",
            "yes",
        ]))
        .unwrap();
        assert!(!c.enable_active_expire && !c.expire_event_pubsub);
        assert_eq!(
            (
                c.active_expire_period,
                c.active_expire_cycle_ms,
                c.active_expire_dbs_per_loop,
                c.passive_expire_keys_per_loop,
                c.active_expire_keys_per_loop
            ),
            (1000, 200, 2, 0, 500)
        );
        // A short period without an explicit budget gets a quarter of it.
        let c = Config::from_load_args(&args(&["active_expire_period", "20"])).unwrap();
        assert_eq!(c.active_expire_cycle_ms, 5);
        for bad in [
            &["enable_active_expire", "2"][..],
            &["active_expire_period", "0"],
            &["active_expire_period", "-1"],
            &["active_expire_period", "x"],
            &["active_expire_cycle_ms", "100"],
            &["active_expire_cycle_ms", "0"],
            &["active_expire_dbs_per_loop", "0"],
            &["passive_expire_keys_per_loop", "01"],
            &["expire_event_pubsub", "yes"],
        ] {
            assert!(Config::from_load_args(&args(bad)).is_err(), "{bad:?}");
        }
        assert!(LoadArgs::parse([&b"bogus"[..], b"1"], LOAD_ARGS).is_err());
    }

    #[test]
    fn cycle_plan() {
        let mut s = State {
            regs: Vec::new(),
            compaction: None,
            counters: BTreeMap::new(),
            cycle: CycleStats::default(),
            dbnum: 0,
            async_loading: false,
        };
        assert!(s.plan(16).is_empty());
        s.set_dbnum(16);
        assert_eq!(s.plan(16), (0..16).collect::<Vec<_>>());
        s.cycle_done(30_000, Some(5), Some(5));
        assert_eq!(s.plan(16)[0], 5);
        s.cycle_done(1_000, None, Some(15));
        assert_eq!(s.plan(16)[0], 0);
        assert_eq!(s.plan(4), vec![0, 1, 2, 3]);
        s.cycle_done(1_000, None, Some(3));
        assert_eq!(s.plan(4), vec![4, 5, 6, 7]);
        s.cycle_done(1_000, None, Some(14));
        assert_eq!(s.plan(4), vec![15, 0, 1, 2]);
        let info = s.info(&Config::default());
        assert!(info.starts_with("\r\n# Active expire statistics\r\nenable_active_expire:1\r\n"));
        assert!(info.contains("tair_hash_active_expire_max_time_msec:30\r\n"));
        assert!(info.ends_with("# DB detail statistics\r\n"));
        s.count(3, Removal::Passive, 2);
        s.count(0, Removal::Active, 1);
        assert!(info_lines(&s).ends_with(
            "db: 0, active_expired_fields: 1, passive_expired_fields: 0\r\n\
             db: 3, active_expired_fields: 0, passive_expired_fields: 2\r\n"
        ));
        s.push(2, 5, b"k");
        s.swap(2, 7);
        assert!(s.registry_if_any(2).is_none());
        assert_eq!(s.take_due(7, u64::MAX, 10), Some((5, vec![b"k".to_vec()])));
        s.flush(None);
        assert!(s.registry_if_any(7).is_none());
    }

    fn info_lines(s: &State) -> String {
        s.info(&Config::default())
    }
}

#[cfg(test)]
#[path = "registry_model_tests.rs"]
mod registry_model_tests;
