//! The configs `tairbloom.*` (issue #16), the fields of `INFO tairbloom`, and the live counters behind
//! them.
//!
//! - `tairbloom.default-error-rate` (0 < p < 1, default 0.01) and `tairbloom.default-capacity` (≥ 1,
//!   default 100): what TFBFADD/MADD/INSERT use when they create a filter, and TFBFRESERVE without a
//!   capacity. Settable at run time (a creation reads them once; the resolved p and c are propagated, so
//!   replicas and the AOF build the same filter whatever their own configs say). The load arguments of
//!   the same names set them too. A pair whose first sub-filter would pass the per-key size limit is
//!   refused.
//! - The expansion (2) and tightening (0.5) ratios are not configs: the serialised header records them
//!   and every reader (RDB, DUMP, SCANDUMP, the C module's tools) expects exactly these values.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use tair_common::load_args::LoadArgs;
use tair_common::module::{ConfigDef, ConfigValue, InfoField, InfoValue};

use crate::bloom::{DEFAULT_CAPACITY, DEFAULT_ERROR_RATE};
use crate::sizing::{self, SIZE_LIMIT_BYTES};

static ERROR_RATE_BITS: AtomicU64 = AtomicU64::new(DEFAULT_ERROR_RATE.to_bits());
static CAPACITY: AtomicU64 = AtomicU64::new(DEFAULT_CAPACITY);

/// Load-argument names (the same as the configs).
pub const LOAD_ARGS: &[&str] = &["default-error-rate", "default-capacity"];

/// The error rate of a filter created without one.
#[inline]
pub fn default_error_rate() -> f64 {
    f64::from_bits(ERROR_RATE_BITS.load(Relaxed))
}

/// The capacity of a filter created without one.
#[inline]
pub fn default_capacity() -> u64 {
    CAPACITY.load(Relaxed)
}

/// Refuses a pair whose sub-filter 0 cannot be built.
fn check_pair(p: f64, c: u64) -> Result<(), String> {
    match sizing::shape(p, c, 0) {
        Ok(s) if s.bytes() <= SIZE_LIMIT_BYTES => Ok(()),
        _ => Err(format!(
            "a filter of capacity {c} at error rate {p} would exceed the size limit"
        )),
    }
}

pub fn set_error_rate(text: &str) -> Result<(), String> {
    let p: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if !(p > 0.0 && p < 1.0) {
        return Err("the error rate must be above 0 and below 1".into());
    }
    check_pair(p, default_capacity())?;
    ERROR_RATE_BITS.store(p.to_bits(), Relaxed);
    Ok(())
}

pub fn set_capacity(c: i64) -> Result<(), String> {
    let c = u64::try_from(c)
        .ok()
        .filter(|&c| c >= 1)
        .ok_or("the capacity must be at least 1")?;
    check_pair(default_error_rate(), c)?;
    CAPACITY.store(c, Relaxed);
    Ok(())
}

/// Applies the load arguments (over what the config file set).
pub fn apply_load_args(args: &LoadArgs) -> Result<(), String> {
    if let Some(c) = args.get("default-capacity") {
        let c: i64 = c
            .parse()
            .map_err(|_| format!("default-capacity: '{c}' is not an integer"))?;
        set_capacity(c).map_err(|e| format!("default-capacity: {e}"))?;
    }
    if let Some(p) = args.get("default-error-rate") {
        set_error_rate(p).map_err(|e| format!("default-error-rate: {e}"))?;
    }
    Ok(())
}

pub static CONFIGS: [ConfigDef; 2] = [
    ConfigDef {
        name: "default-error-rate",
        value: ConfigValue::Text {
            default: "0.01",
            get: || default_error_rate().to_string(),
            set: set_error_rate,
        },
        immutable: false,
    },
    ConfigDef {
        name: "default-capacity",
        value: ConfigValue::Number {
            default: DEFAULT_CAPACITY as i64,
            min: 1,
            max: i64::MAX,
            get: || i64::try_from(default_capacity()).unwrap_or(i64::MAX),
            set: set_capacity,
        },
        immutable: false,
    },
];

/// Live filters, sub-filters and bits in this process (values in the key space, plus any being built
/// or freed at this moment). Kept by the constructors, `Clone` and `Drop` of the value types.
pub mod census {
    use std::sync::atomic::AtomicU64;
    use std::sync::atomic::Ordering::Relaxed;

    pub(crate) static FILTERS: AtomicU64 = AtomicU64::new(0);
    pub(crate) static SUB_FILTERS: AtomicU64 = AtomicU64::new(0);
    pub(crate) static BITS: AtomicU64 = AtomicU64::new(0);

    pub fn filters() -> u64 {
        FILTERS.load(Relaxed)
    }
    pub fn sub_filters() -> u64 {
        SUB_FILTERS.load(Relaxed)
    }
    pub fn bits() -> u64 {
        BITS.load(Relaxed)
    }
}

/// `INFO tairbloom` (the server prefixes each name with `tairbloom_`; `keys` and `memory` come from
/// tair-common).
pub static INFO: [InfoField; 3] = [
    InfoField {
        name: "filters",
        value: || InfoValue::Uint(census::filters()),
    },
    InfoField {
        name: "sub_filters",
        value: || InfoValue::Uint(census::sub_filters()),
    },
    InfoField {
        name: "bits",
        value: || InfoValue::Uint(census::bits()),
    },
];
