//! The config `tairgis.relate-edge-budget` (issue #16) and the fields of `INFO tairgis`.
//!
//! `tairgis.relate-edge-budget` (1 ..= 2^20, default 16, settable at run time): how many overlapping edge
//! pairs per edge a covers/within test between two non-point geometries may meet before it answers
//! "not covered" without running the full DE-9IM relate (see `geom::relate_is_cheap`). Raising it makes
//! such tests exact on boundaries that cross many times, at a cost quadratic in their vertices.
//! tairgis takes no load arguments (other than tair-common's `tair-compat`).

use std::sync::atomic::Ordering::Relaxed;

use tair_common::module::{ConfigDef, ConfigValue, InfoField, InfoValue};

use crate::area::GEOMETRIES;
use crate::geom::{DEFAULT_EDGE_PAIR_BUDGET, EDGE_PAIR_BUDGET_PER_EDGE, MAX_EDGE_PAIR_BUDGET};

pub static CONFIGS: [ConfigDef; 1] = [ConfigDef {
    name: "relate-edge-budget",
    value: ConfigValue::Number {
        default: DEFAULT_EDGE_PAIR_BUDGET as i64,
        min: 1,
        max: MAX_EDGE_PAIR_BUDGET as i64,
        get: || EDGE_PAIR_BUDGET_PER_EDGE.load(Relaxed) as i64,
        set: |v| {
            let b = usize::try_from(v)
                .ok()
                .filter(|b| (1..=MAX_EDGE_PAIR_BUDGET).contains(b))
                .ok_or_else(|| format!("must be between 1 and {MAX_EDGE_PAIR_BUDGET}"))?;
            EDGE_PAIR_BUDGET_PER_EDGE.store(b, Relaxed);
            Ok(())
        },
    },
    immutable: false,
}];

/// `INFO tairgis` (the server prefixes each name with `tairgis_`; `keys` and `memory` come from
/// tair-common).
pub static INFO: [InfoField; 1] = [InfoField {
    name: "geometries",
    value: || InfoValue::Uint(GEOMETRIES.load(Relaxed)),
}];
