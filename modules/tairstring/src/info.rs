//! `INFO tairstring` (the server prefixes each name with `tairstring_`; `keys` and `memory` come from
//! tair-common): what an operator of optimistic locking watches, as counters since the module loaded.
//!
//! tairstring has no configs: it takes no load arguments (other than tair-common's `tair-compat`) and
//! has no tunable; the inline form's bound (value, length byte and varint version and flags in 15
//! bytes) follows from the 16-byte layout, not from a threshold one could move.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use tair_common::module::{InfoField, InfoValue};

/// Writes refused because `VER v` named another version (`ERR update version is stale`).
pub static STALE_VERSIONS: AtomicU64 = AtomicU64::new(0);
/// EXCAS / EXCAD / CAS / CAD that found another version or value (nothing changed).
pub static CAS_FAILURES: AtomicU64 = AtomicU64::new(0);

#[inline]
pub fn count(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

pub static INFO: [InfoField; 2] = [
    InfoField {
        name: "stale_version_errors",
        value: || InfoValue::Uint(STALE_VERSIONS.load(Relaxed)),
    },
    InfoField {
        name: "cas_failures",
        value: || InfoValue::Uint(CAS_FAILURES.load(Relaxed)),
    },
];
