//! The server's millisecond clock and relative -> absolute expiry maths with overflow checks.

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

    /// True for EXAT/PXAT, which may name a time already past.
    pub fn is_absolute(self) -> bool {
        matches!(self, ExpireSpec::ExAt(_) | ExpireSpec::PxAt(_))
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
}
