//! The configs `tairzset.*` (issue #16) and the fields of `INFO tairzset`.
//!
//! - `tairzset.compact-max-entries` (0..=8192, default 128) and `tairzset.compact-max-value` (bytes,
//!   0..=16384, default 64): a value stays in the compact encoding while it has at most this many
//!   members, none longer than this. Settable at run time: a compact value that an insertion would
//!   take past a threshold converts then; values already converted stay big; a load or restore
//!   applies the thresholds of that moment. 0 entries makes every new value big. The load arguments
//!   of the same names set them too (over the config file).
//! - INFO (after common's `tairzset_keys` and `tairzset_memory`): `tairzset_members` (members of all
//!   live values), `tairzset_compact_keys` / `tairzset_big_keys` (live values per encoding),
//!   `tairzset_conversions` (compact values converted since load).

use tair_common::load_args::LoadArgs;
use tair_common::module::{ConfigDef, ConfigValue, InfoField, InfoValue};

use crate::encoding::{
    self, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE, LIMIT_MAX_ENTRIES, LIMIT_MAX_VALUE,
};

/// Load-argument names (the same as the configs).
pub const LOAD_ARGS: &[&str] = &["compact-max-entries", "compact-max-value"];

fn as_i64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Applies the load arguments (over what the config file set).
pub fn apply_load_args(args: &LoadArgs) -> Result<(), String> {
    for (name, set) in [
        (
            "compact-max-entries",
            encoding::set_max_entries as fn(i64) -> Result<(), String>,
        ),
        ("compact-max-value", encoding::set_max_value),
    ] {
        if let Some(v) = args.get(name) {
            let n: i64 = v
                .parse()
                .map_err(|_| format!("{name}: '{v}' is not an integer"))?;
            set(n).map_err(|e| format!("{name}: {e}"))?;
        }
    }
    Ok(())
}

pub static CONFIGS: [ConfigDef; 2] = [
    ConfigDef {
        name: "compact-max-entries",
        value: ConfigValue::Number {
            default: DEFAULT_MAX_ENTRIES as i64,
            min: 0,
            max: LIMIT_MAX_ENTRIES as i64,
            get: || as_i64(encoding::max_entries()),
            set: encoding::set_max_entries,
        },
        immutable: false,
    },
    ConfigDef {
        name: "compact-max-value",
        value: ConfigValue::Number {
            default: DEFAULT_MAX_VALUE as i64,
            min: 0,
            max: LIMIT_MAX_VALUE as i64,
            get: || as_i64(encoding::max_value()),
            set: encoding::set_max_value,
        },
        immutable: false,
    },
];

pub static INFO: [InfoField; 4] = [
    InfoField {
        name: "members",
        value: || InfoValue::Int(encoding::members()),
    },
    InfoField {
        name: "compact_keys",
        value: || InfoValue::Int(encoding::compact_values()),
    },
    InfoField {
        name: "big_keys",
        value: || InfoValue::Int(encoding::big_values()),
    },
    InfoField {
        name: "conversions",
        value: || InfoValue::Uint(encoding::conversions()),
    },
];
