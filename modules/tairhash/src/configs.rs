//! The configs `tairhash.<name>` (issue #16): every load argument of §5.7 with dashes for underscores,
//! plus the compact-encoding thresholds, and the fields of `INFO tairhash`.
//!
//! Values live in the atomics of `active::settings` and `compact::Thresholds`; the hot paths read them
//! with relaxed loads, so every config is settable at run time: the active-expiry timer ticks at least
//! every 100 ms and reads the period, budget, limits and switch at each tick; writes read the
//! passive limit, the pub/sub switch and the thresholds when they run (a value already compact beyond
//! a lowered threshold converts on its next write).

use std::sync::atomic::Ordering::Relaxed;

use tair_common::module::{ConfigDef, ConfigValue, InfoField, InfoValue};

use crate::active::{
    self, settings, MAX_COMPACT_ENTRIES, MAX_COMPACT_VALUE, MAX_DBS_PER_LOOP, MAX_PASSIVE_PER_LOOP,
    MAX_PERIOD_MS,
};
use crate::compact::{Thresholds, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE};

fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn as_u64(v: i64) -> Result<u64, String> {
    u64::try_from(v).map_err(|_| "must not be negative".to_string())
}

fn as_usize(v: i64) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| "must not be negative".to_string())
}

const fn number(
    name: &'static str,
    default: i64,
    min: i64,
    max: u64,
    get: fn() -> i64,
    set: fn(i64) -> Result<(), String>,
) -> ConfigDef {
    ConfigDef {
        name,
        value: ConfigValue::Number {
            default,
            min,
            max: max as i64,
            get,
            set,
        },
        immutable: false,
    }
}

pub static CONFIGS: [ConfigDef; 9] = [
    ConfigDef {
        name: "enable-active-expire",
        value: ConfigValue::Bool {
            default: true,
            get: || settings::ENABLE_ACTIVE_EXPIRE.load(Relaxed),
            set: |v| {
                settings::ENABLE_ACTIVE_EXPIRE.store(v, Relaxed);
                Ok(())
            },
        },
        immutable: false,
    },
    number(
        "active-expire-period",
        100,
        1,
        MAX_PERIOD_MS,
        || as_i64(settings::ACTIVE_EXPIRE_PERIOD.load(Relaxed)),
        |v| {
            settings::ACTIVE_EXPIRE_PERIOD.store(as_u64(v)?, Relaxed);
            Ok(())
        },
    ),
    number(
        "active-expire-keys-per-loop",
        0,
        0,
        i64::MAX as u64,
        || as_i64(settings::ACTIVE_EXPIRE_KEYS_PER_LOOP.load(Relaxed)),
        |v| {
            settings::ACTIVE_EXPIRE_KEYS_PER_LOOP.store(as_u64(v)?, Relaxed);
            Ok(())
        },
    ),
    number(
        "active-expire-cycle-ms",
        25,
        1,
        MAX_PERIOD_MS,
        || as_i64(settings::ACTIVE_EXPIRE_CYCLE_MS.load(Relaxed)),
        |v| {
            settings::ACTIVE_EXPIRE_CYCLE_MS.store(as_u64(v)?, Relaxed);
            Ok(())
        },
    ),
    number(
        "active-expire-dbs-per-loop",
        16,
        1,
        MAX_DBS_PER_LOOP,
        || as_i64(settings::ACTIVE_EXPIRE_DBS_PER_LOOP.load(Relaxed) as u64),
        |v| {
            settings::ACTIVE_EXPIRE_DBS_PER_LOOP.store(as_usize(v)?, Relaxed);
            Ok(())
        },
    ),
    number(
        "passive-expire-keys-per-loop",
        3,
        0,
        MAX_PASSIVE_PER_LOOP,
        || as_i64(settings::PASSIVE_EXPIRE_KEYS_PER_LOOP.load(Relaxed) as u64),
        |v| {
            settings::PASSIVE_EXPIRE_KEYS_PER_LOOP.store(as_usize(v)?, Relaxed);
            Ok(())
        },
    ),
    ConfigDef {
        name: "expire-event-pubsub",
        value: ConfigValue::Bool {
            default: true,
            get: || settings::EXPIRE_EVENT_PUBSUB.load(Relaxed),
            set: |v| {
                settings::EXPIRE_EVENT_PUBSUB.store(v, Relaxed);
                Ok(())
            },
        },
        immutable: false,
    },
    number(
        "compact-max-entries",
        DEFAULT_MAX_ENTRIES as i64,
        0,
        MAX_COMPACT_ENTRIES,
        || as_i64(Thresholds::max_entries() as u64),
        |v| {
            Thresholds::set_max_entries(as_usize(v)?);
            Ok(())
        },
    ),
    number(
        "compact-max-value",
        DEFAULT_MAX_VALUE as i64,
        0,
        MAX_COMPACT_VALUE,
        || as_i64(Thresholds::max_value() as u64),
        |v| {
            Thresholds::set_max_value(as_usize(v)?);
            Ok(())
        },
    ),
];

/// `INFO tairhash` (the server prefixes each name with `tairhash_`; `keys` and `memory` come from
/// tair-common).
pub static INFO: [InfoField; 9] = [
    InfoField {
        name: "expired_fields_active",
        value: || InfoValue::Uint(active::stats::expired_active()),
    },
    InfoField {
        name: "expired_fields_passive",
        value: || InfoValue::Uint(active::stats::expired_passive()),
    },
    InfoField {
        name: "active_expire_cycles",
        value: || InfoValue::Uint(active::stats::cycles()),
    },
    InfoField {
        name: "active_expire_time_us",
        value: || InfoValue::Uint(active::stats::cycle_micros()),
    },
    InfoField {
        name: "keys_compact",
        value: || InfoValue::Uint(crate::hash::census::compact()),
    },
    InfoField {
        name: "keys_big",
        value: || InfoValue::Uint(crate::hash::census::big()),
    },
    // The expiry registries: entries (valid and stale), the values registered (the valid entries
    // there can be), and the registries' bytes.
    InfoField {
        name: "expiry_registry_entries",
        value: || InfoValue::Uint(active::with(|s| s.entries() as u64).unwrap_or(0)),
    },
    InfoField {
        name: "expiry_registry_keys",
        value: || InfoValue::Uint(crate::hash::stamps::live()),
    },
    InfoField {
        name: "expiry_registry_memory",
        value: || InfoValue::Uint(active::with(|s| s.registry_bytes() as u64).unwrap_or(0)),
    },
];
