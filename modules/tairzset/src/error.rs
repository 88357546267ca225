//! Errors of the pure tairzset layer, each with the exact reply text of the spec (§6).

use std::fmt;

/// Everything the pure layer can refuse. `message()` is the error reply, `ERR ` prefix included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZsetError {
    /// A score tuple violates §2.4, has the wrong number of dimensions, or a bound is wider than the key.
    InvalidScore,
    /// A score bound (§2.6) is not parsable.
    BoundNotFloat,
    /// A lex bound (§2.7) is not `-`, `+`, `[bytes` or `(bytes`.
    InvalidLexBound,
    /// An increment produced NaN in some dimension.
    ScoreNaN,
    /// A WEIGHTS value is not a valid `dim` (§2.4).
    WeightNotFloat,
    /// The set cannot hold more members (handles are 32-bit: about 4.29 billion members).
    TooManyMembers,
    /// Loading found a duplicate member, a NaN or a wrong dimension count (RDB/RESTORE payloads).
    CorruptValue,
}

impl ZsetError {
    /// The error reply text.
    pub fn message(self) -> &'static str {
        match self {
            ZsetError::InvalidScore => "ERR score is not a valid format",
            ZsetError::BoundNotFloat => "ERR min or max is not a float",
            ZsetError::InvalidLexBound => "ERR min or max not valid string range item",
            ZsetError::ScoreNaN => "ERR resulting score is not a number (NaN)",
            ZsetError::WeightNotFloat => "ERR weight value is not a float",
            ZsetError::TooManyMembers => "ERR tairzset has too many members",
            ZsetError::CorruptValue => "ERR tairzset value is corrupt",
        }
    }
}

impl fmt::Display for ZsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ZsetError {}
