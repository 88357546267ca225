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

pub const SYNTAX: CmdError = CmdError::Static(c"ERR syntax error");
pub const WRONGTYPE: CmdError =
    CmdError::Static(c"WRONGTYPE Operation against a key holding the wrong kind of value");
pub const NOT_INTEGER: CmdError = CmdError::Static(c"ERR value is not an integer or out of range");
pub const NOT_FLOAT: CmdError = CmdError::Static(c"ERR value is not a valid float");
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
