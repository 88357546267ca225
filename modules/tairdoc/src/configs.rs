//! The config `tairdoc.max-depth` (issue #16) and the fields of `INFO tairdoc`.
//!
//! `tairdoc.max-depth` (1 ..= 128, default 128, settable at run time): the deepest document a write may
//! leave, where depth(scalar) = 0 and depth(array/object) = 1 + the deepest child. A write past it is
//! refused with `ERR json nesting depth exceeds <limit>` and changes nothing. 128 is also the hard bound
//! of the parser and of the stored form's recursion, so the config can only lower it; documents already
//! stored (or loaded from an RDB) deeper than a lowered limit stay readable, only writes that would
//! leave something deeper are refused.
//!
//! Documents and their bytes are `tairdoc_keys` and `tairdoc_memory`, which tair-common adds to every
//! module's section.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};

use tair_common::module::{ConfigDef, ConfigValue, InfoField, InfoValue};

use crate::doc::MAX_DEPTH;

static DEPTH_LIMIT: AtomicUsize = AtomicUsize::new(MAX_DEPTH);

/// Writes refused because they would nest deeper than the limit.
pub static DEPTH_REFUSALS: AtomicU64 = AtomicU64::new(0);

/// The deepest document a write may leave.
#[inline]
pub fn max_depth() -> usize {
    DEPTH_LIMIT.load(Relaxed)
}

pub static CONFIGS: [ConfigDef; 1] = [ConfigDef {
    name: "max-depth",
    value: ConfigValue::Number {
        default: MAX_DEPTH as i64,
        min: 1,
        max: MAX_DEPTH as i64,
        get: || max_depth() as i64,
        set: |v| {
            let d = usize::try_from(v)
                .ok()
                .filter(|d| (1..=MAX_DEPTH).contains(d))
                .ok_or_else(|| format!("max-depth must be between 1 and {MAX_DEPTH}"))?;
            DEPTH_LIMIT.store(d, Relaxed);
            Ok(())
        },
    },
    immutable: false,
}];

pub static INFO: [InfoField; 2] = [
    InfoField {
        name: "max_depth",
        value: || InfoValue::Uint(max_depth() as u64),
    },
    InfoField {
        name: "depth_refusals",
        value: || InfoValue::Uint(DEPTH_REFUSALS.load(Relaxed)),
    },
];
