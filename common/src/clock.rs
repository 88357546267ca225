//! The server's millisecond clock and relative -> absolute expiry maths with overflow checks.

use crate::args::{eq_ic, parse_i64};
use crate::error::{CmdResult, SYNTAX};
use crate::ffi::raw;

/// Unix time in milliseconds from the server (falls back to the system clock outside a server).
pub fn now_ms() -> i64 {
    // SAFETY: plain read of a function pointer filled in by RedisModule_Init.
    match unsafe { raw::RedisModule_Milliseconds } {
        // SAFETY: no arguments, no preconditions.
        Some(f) => unsafe { f() },
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    }
}

/// A requested expiry, as given by a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireSpec {
    /// EX seconds (relative).
    Ex(i64),
    /// PX milliseconds (relative).
    Px(i64),
    /// EXAT Unix seconds.
    ExAt(i64),
    /// PXAT Unix milliseconds.
    PxAt(i64),
}

impl ExpireSpec {
    /// Absolute Unix ms, or `None` when the result overflows a signed 64-bit integer.
    pub fn to_abs_ms(self, now: i64) -> Option<i64> {
        match self {
            ExpireSpec::Ex(s) => s.checked_mul(1000)?.checked_add(now),
            ExpireSpec::Px(ms) => ms.checked_add(now),
            ExpireSpec::ExAt(s) => s.checked_mul(1000),
            ExpireSpec::PxAt(ms) => Some(ms),
        }
    }

    /// The constructor for keyword `EX`/`PX`/`EXAT`/`PXAT` (any case); `None` for another word.
    pub fn unit(kw: &[u8]) -> Option<fn(i64) -> ExpireSpec> {
        if eq_ic(kw, b"EX") {
            Some(ExpireSpec::Ex)
        } else if eq_ic(kw, b"PX") {
            Some(ExpireSpec::Px)
        } else if eq_ic(kw, b"EXAT") {
            Some(ExpireSpec::ExAt)
        } else if eq_ic(kw, b"PXAT") {
            Some(ExpireSpec::PxAt)
        } else {
            None
        }
    }

    /// The value as given (seconds or milliseconds, relative or absolute).
    pub fn value(self) -> i64 {
        match self {
            ExpireSpec::Ex(v) | ExpireSpec::Px(v) | ExpireSpec::ExAt(v) | ExpireSpec::PxAt(v) => v,
        }
    }

    /// True for EXAT/PXAT, which may name a time already past.
    pub fn is_absolute(self) -> bool {
        matches!(self, ExpireSpec::ExAt(_) | ExpireSpec::PxAt(_))
    }
}

/// One expiry option of a write command: `EX|PX|EXAT|PXAT value` or `KEEPTTL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireOption {
    At(ExpireSpec),
    KeepTtl,
}

impl ExpireOption {
    /// Parses the option that starts with keyword `kw`; `next` yields the value argument. The value
    /// must be an integer >= `min_value` (else `ERR syntax error`, also when it is missing). `Ok(None)`
    /// when `kw` is no expiry keyword (nothing is consumed then).
    pub fn parse<'a>(
        kw: &[u8],
        next: impl FnOnce() -> Option<&'a [u8]>,
        min_value: i64,
    ) -> CmdResult<Option<ExpireOption>> {
        if eq_ic(kw, b"KEEPTTL") {
            return Ok(Some(ExpireOption::KeepTtl));
        }
        let Some(unit) = ExpireSpec::unit(kw) else {
            return Ok(None);
        };
        match next().and_then(parse_i64) {
            Some(v) if v >= min_value => Ok(Some(ExpireOption::At(unit(v)))),
            _ => Err(SYNTAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abs_maths() {
        assert_eq!(ExpireSpec::Ex(10).to_abs_ms(1000), Some(11_000));
        assert_eq!(ExpireSpec::Px(10).to_abs_ms(1000), Some(1010));
        assert_eq!(ExpireSpec::ExAt(5).to_abs_ms(1000), Some(5000));
        assert_eq!(ExpireSpec::PxAt(5).to_abs_ms(1000), Some(5));
        assert_eq!(ExpireSpec::Ex(i64::MAX).to_abs_ms(0), None);
        assert_eq!(
            ExpireSpec::Ex(i64::MAX / 1000).to_abs_ms(i64::MAX / 2),
            None
        );
        assert_eq!(ExpireSpec::Px(i64::MAX).to_abs_ms(1), None);
    }

    #[test]
    fn expire_options() {
        let p = |kw: &str, v: Option<&'static str>, min| {
            ExpireOption::parse(kw.as_bytes(), || v.map(str::as_bytes), min)
        };
        assert_eq!(
            p("ex", Some("5"), 1),
            Ok(Some(ExpireOption::At(ExpireSpec::Ex(5))))
        );
        assert_eq!(
            p("PXAT", Some("0"), 0),
            Ok(Some(ExpireOption::At(ExpireSpec::PxAt(0))))
        );
        assert_eq!(p("EXAT", Some("0"), 1), Err(SYNTAX));
        assert_eq!(p("PX", Some("x"), 1), Err(SYNTAX));
        assert_eq!(p("PX", None, 1), Err(SYNTAX));
        assert_eq!(p("KeepTTL", None, 1), Ok(Some(ExpireOption::KeepTtl)));
        assert_eq!(p("NX", None, 1), Ok(None));
        assert_eq!(ExpireSpec::ExAt(7).value(), 7);
    }
}
