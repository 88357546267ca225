//! The vocabulary of the value's operations: options, outcomes, read views and state errors
//! (spec `tairhash.md` §2, §4).

use std::fmt;

use crate::field::MAX_MS;

/// Largest version (2^63 - 1).
pub const MAX_VERSION: u64 = i64::MAX as u64;
/// Largest absolute expiry in ms (2^63 - 1).
pub const MAX_EXPIRE_MS: u64 = MAX_MS;

/// `NX` / `XX` of EXHSET.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Condition {
    #[default]
    Always,
    /// Only if the field is absent or expired (`NX`).
    IfAbsent,
    /// Only if the field is live (`XX`).
    IfPresent,
}

/// `VER v` / `ABS v` / `GT v`, or none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VersionRule {
    /// No option: version + 1 (a new field gets 1).
    #[default]
    Bump,
    /// `VER v`: a live field must have version `v` (0 = no check); then + 1.
    Ver(u64),
    /// `ABS v`: set to `v`, no check (`v` in 1 ..= 2^63-1; 0 is taken as 1).
    Abs(u64),
    /// `GT v`: a live field must have a version below `v`; then set to `v`.
    Gt(u64),
}

/// What a write does to the field's expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExpiryChange {
    /// No time option on EXHSET/EXHINCRBY*: the expiry is removed.
    #[default]
    Clear,
    /// `KEEPTTL` (and EXHMSET): a live field keeps its expiry.
    Keep,
    /// An absolute time in ms (the command layer resolves EX/PX/EXAT/PXAT). 0 is stored as 1 ("expire
    /// at once"), values above 2^63-1 as 2^63-1.
    At(u64),
}

/// Options of EXHSET.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetOptions {
    pub condition: Condition,
    pub version: VersionRule,
    pub expiry: ExpiryChange,
}

/// Options of EXHINCRBY (`T = i64`) and EXHINCRBYFLOAT (`T = f64`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IncrOptions<T> {
    pub version: VersionRule,
    pub expiry: ExpiryChange,
    pub min: Option<T>,
    pub max: Option<T>,
}

/// What a successful write left in the field (for the reply and the propagated `ABS`/`PXAT` form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// The field was absent or expired before.
    pub created: bool,
    pub version: u64,
    /// The stored absolute expiry, if any.
    pub expiry: Option<u64>,
}

/// Outcome of EXHSET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOutcome {
    /// `NX` on a live field or `XX` on an absent one: nothing done (reply -1).
    Skipped,
    Written(Written),
}

/// One quadruple of EXHMSETWITHOPTS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsetEntry<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    /// Required version of a live field, 0 = no check.
    pub version: u64,
    /// Absolute expiry in ms, `None` = no expiry.
    pub expiry: Option<u64>,
}

/// A field as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldView<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    pub version: u64,
    /// Absolute expiry in ms.
    pub expiry: Option<u64>,
}

/// Remaining lifetime of a field (EXHTTL / EXHPTTL; a missing key is the command layer's `-2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldTtl {
    /// Field absent or expired.
    Absent,
    /// Live, without expiry.
    Persistent,
    /// Live, expiring in this many ms (>= 1).
    Remaining(u64),
}

impl FieldTtl {
    /// EXHPTTL's reply: -3, -1 or the remaining ms.
    pub fn millis_reply(self) -> i64 {
        match self {
            FieldTtl::Absent => -3,
            FieldTtl::Persistent => -1,
            FieldTtl::Remaining(ms) => i64::try_from(ms).unwrap_or(i64::MAX),
        }
    }

    /// EXHTTL's reply: -3, -1 or (remaining ms + 500) div 1000.
    pub fn seconds_reply(self) -> i64 {
        match self {
            FieldTtl::Remaining(ms) => {
                i64::try_from(ms.saturating_add(500) / 1000).unwrap_or(i64::MAX)
            }
            other => other.millis_reply(),
        }
    }
}

/// One EXHSCAN step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanPage<'a> {
    /// The next cursor; 0 when the iteration is complete.
    pub cursor: u64,
    /// Live fields met (unfiltered: MATCH is the command layer's).
    pub fields: Vec<FieldView<'a>>,
    /// Expired fields met, for the caller to remove on a primary.
    pub expired: Vec<Vec<u8>>,
}

/// State errors of the write commands (§2.2 step 6), with the spec's texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashError {
    VersionStale,
    VersionOverflow,
    NotInteger,
    NotFloat,
    IncrOverflow,
}

impl HashError {
    pub fn message(self) -> &'static str {
        match self {
            HashError::VersionStale => "ERR update version is stale",
            HashError::VersionOverflow => "ERR version overflow",
            HashError::NotInteger => "ERR value is not an integer",
            HashError::NotFloat => "ERR value is not an float",
            HashError::IncrOverflow => "ERR increment or decrement would overflow",
        }
    }
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for HashError {}
