//! Which encoding a value uses, and what an operator watches: the compact-encoding thresholds (configs
//! `tairzset.compact-max-entries` / `tairzset.compact-max-value`, read with Relaxed loads on the write
//! path) and the counters of the INFO section (values per encoding, members, conversions).

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// Default most members a compact value holds (measured: see `README-encoding.md`).
pub const DEFAULT_MAX_ENTRIES: usize = 128;
/// Default longest member (bytes) a compact value holds.
pub const DEFAULT_MAX_VALUE: usize = 64;
/// Upper bound of `compact-max-entries` (the compact header counts members in 16 bits).
pub const LIMIT_MAX_ENTRIES: usize = 8192;
/// Upper bound of `compact-max-value` (the compact encoding stores a member length in 15 bits).
pub const LIMIT_MAX_VALUE: usize = 16384;

static MAX_ENTRIES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_ENTRIES);
static MAX_VALUE: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_VALUE);

/// Most members of a compact value (0: every value starts big).
pub fn max_entries() -> usize {
    MAX_ENTRIES.load(Relaxed)
}

/// Longest member of a compact value.
pub fn max_value() -> usize {
    MAX_VALUE.load(Relaxed)
}

/// Sets `compact-max-entries`; out of range is an error and nothing changes.
pub fn set_max_entries(n: i64) -> Result<(), String> {
    let v = usize::try_from(n)
        .ok()
        .filter(|v| *v <= LIMIT_MAX_ENTRIES)
        .ok_or_else(|| format!("compact-max-entries must be 0..={LIMIT_MAX_ENTRIES}"))?;
    MAX_ENTRIES.store(v, Relaxed);
    Ok(())
}

/// Sets `compact-max-value`; out of range is an error and nothing changes.
pub fn set_max_value(n: i64) -> Result<(), String> {
    let v = usize::try_from(n)
        .ok()
        .filter(|v| *v <= LIMIT_MAX_VALUE)
        .ok_or_else(|| format!("compact-max-value must be 0..={LIMIT_MAX_VALUE}"))?;
    MAX_VALUE.store(v, Relaxed);
    Ok(())
}

/// Live values in the compact encoding (keys, plus transient results of set operations).
pub(crate) static COMPACT_VALUES: AtomicI64 = AtomicI64::new(0);
/// Live values in the big encoding.
pub(crate) static BIG_VALUES: AtomicI64 = AtomicI64::new(0);
/// Members of all live values.
pub(crate) static MEMBERS: AtomicI64 = AtomicI64::new(0);
/// Compact values converted to the big encoding since load.
pub(crate) static CONVERSIONS: AtomicU64 = AtomicU64::new(0);

/// INFO `compact_keys`.
pub fn compact_values() -> i64 {
    COMPACT_VALUES.load(Relaxed).max(0)
}

/// INFO `big_keys`.
pub fn big_values() -> i64 {
    BIG_VALUES.load(Relaxed).max(0)
}

/// INFO `members`.
pub fn members() -> i64 {
    MEMBERS.load(Relaxed).max(0)
}

/// INFO `conversions`.
pub fn conversions() -> u64 {
    CONVERSIONS.load(Relaxed)
}

/// Adds `delta` members to the total.
pub(crate) fn count_members(delta: i64) {
    if delta != 0 {
        MEMBERS.fetch_add(delta, Relaxed);
    }
}
