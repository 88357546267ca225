//! Error replies. The first word of every text is the error code (`ERR`, `WRONGTYPE` ...).

use std::borrow::Cow;
use std::ffi::{CStr, CString};

/// An error a command replies with. Static texts cost nothing; formatted ones allocate once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    Static(&'static CStr),
    Owned(String),
}

pub type CmdResult<T = ()> = Result<T, CmdError>;

// ---- the error table ------------------------------------------------------------------------------
// One constant per reply text, named after the text it holds, for every module to share. A module's own
// texts (spec-specific) stay in the module, in one place, mapped from its pure error enum.

pub const SYNTAX: CmdError = CmdError::Static(c"ERR syntax error");
pub const WRONGTYPE: CmdError =
    CmdError::Static(c"WRONGTYPE Operation against a key holding the wrong kind of value");
/// `ERR value is not an integer or out of range` (Valkey's text).
pub const NOT_INTEGER_OR_OUT_OF_RANGE: CmdError =
    CmdError::Static(c"ERR value is not an integer or out of range");
/// `ERR value is not a valid float` (Valkey's text).
pub const NOT_VALID_FLOAT: CmdError = CmdError::Static(c"ERR value is not a valid float");
/// `ERR value is not an integer` (Tair's text).
pub const NOT_AN_INTEGER: CmdError = CmdError::Static(c"ERR value is not an integer");
/// `ERR value is not a float` (Tair's text, tairstring).
pub const NOT_A_FLOAT: CmdError = CmdError::Static(c"ERR value is not a float");
/// `ERR value is not an float` (Tair's text with its typo, tairhash).
pub const NOT_AN_FLOAT: CmdError = CmdError::Static(c"ERR value is not an float");
/// `ERR value is out of range`.
pub const VALUE_OUT_OF_RANGE: CmdError = CmdError::Static(c"ERR value is out of range");
/// `ERR invalid cursor`.
pub const INVALID_CURSOR: CmdError = CmdError::Static(c"ERR invalid cursor");
/// `ERR update version is stale`.
pub const VERSION_STALE: CmdError = CmdError::Static(c"ERR update version is stale");
/// `ERR version overflow`.
pub const VERSION_OVERFLOW: CmdError = CmdError::Static(c"ERR version overflow");
/// `ERR increment or decrement would overflow`.
pub const INCR_OVERFLOW: CmdError = CmdError::Static(c"ERR increment or decrement would overflow");
/// `ERR timeout is not a float or out of range`.
pub const TIMEOUT_NOT_FLOAT: CmdError =
    CmdError::Static(c"ERR timeout is not a float or out of range");
/// `ERR timeout is negative`.
pub const TIMEOUT_NEGATIVE: CmdError = CmdError::Static(c"ERR timeout is negative");
/// `ERR could not store the value` (the server refused a new value).
pub const COULD_NOT_STORE: CmdError = CmdError::Static(c"ERR could not store the value");
/// `ERR could not delete the key` (the server refused a delete).
pub const COULD_NOT_DELETE: CmdError = CmdError::Static(c"ERR could not delete the key");
pub const INTERNAL: CmdError = CmdError::Static(c"ERR internal error (see the server log)");

impl CmdError {
    /// An error with a formatted text; it must start with an error code such as `ERR `.
    pub fn msg(text: impl Into<String>) -> Self {
        CmdError::Owned(text.into())
    }

    pub fn text(&self) -> Cow<'_, str> {
        match self {
            CmdError::Static(c) => c.to_string_lossy(),
            CmdError::Owned(s) => Cow::Borrowed(s.as_str()),
        }
    }

    /// The text as a C string (NUL bytes and line breaks, which would break the protocol, are replaced).
    pub fn to_cstring(&self) -> Cow<'_, CStr> {
        match self {
            CmdError::Static(c) => Cow::Borrowed(*c),
            CmdError::Owned(s) => {
                let clean: String = s
                    .chars()
                    .map(|c| {
                        if c == '\0' || c == '\r' || c == '\n' {
                            ' '
                        } else {
                            c
                        }
                    })
                    .collect();
                Cow::Owned(CString::new(clean).unwrap_or_default())
            }
        }
    }
}

/// `ERR invalid expire time in '<cmd>' command`, Valkey's text.
pub fn invalid_expire(cmd: &str) -> CmdError {
    CmdError::msg(format!("ERR invalid expire time in '{cmd}' command"))
}

/// `ERR wrong number of arguments for '<cmd>' command`, Valkey's text.
pub fn wrong_arity(cmd: &str) -> CmdError {
    CmdError::msg(format!("ERR wrong number of arguments for '{cmd}' command"))
}
