//! The argument cursor and number parsing with Valkey's exact rules.

use crate::error::{CmdError, CmdResult, SYNTAX};
use crate::string::Args;

/// Case-insensitive ASCII keyword comparison (`kw` given in upper case).
#[inline]
pub fn eq_ic(arg: &[u8], kw: &[u8]) -> bool {
    arg.eq_ignore_ascii_case(kw)
}

/// Valkey's strict integer syntax (as INCRBY): optional `-`, digits, no `+`, no leading zeros, no spaces,
/// within signed 64 bits.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some(_) => (false, b),
        None => return None,
    };
    match digits {
        [] => return None,
        [b'0'] => return if neg { None } else { Some(0) },
        [b'0', ..] => return None,
        _ => {}
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v == 1u64 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(v).ok().map(|x| -x)
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Unsigned variant of [`parse_i64`]'s syntax (no sign at all), within u64.
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    match b {
        [] => return None,
        [b'0'] => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// A finite float: `[+-]digits[.digits][(e|E)[+-]digits]`, also `.5` and `5.`; no spaces, no hex, no
/// `nan`/`inf`; a value that overflows to infinity (or a non-zero one that underflows to 0) is refused.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let mut i = 0usize;
    let at = |i: usize| b.get(i).copied();
    if matches!(at(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while at(i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if at(i) == Some(b'.') {
        i += 1;
        let s = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        frac_digits = i - s;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    let mantissa_end = i;
    if matches!(at(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let s = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == s {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    let v: f64 = s.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        let mant = b.get(..mantissa_end).unwrap_or(&[]);
        if mant.iter().any(|c| (b'1'..=b'9').contains(c)) {
            return None;
        }
    }
    Some(v)
}

/// Formats `r` with at most `sig` significant digits (round-half-even on the exact binary value), in
/// plain positional notation, trailing zeros and a bare point removed, `-0` written `0`; integral values
/// below 2^53 are written as integers.
pub fn format_double(r: f64, sig: usize) -> String {
    if r == 0.0 {
        return "0".into();
    }
    if r.fract() == 0.0 && r.abs() < 9_007_199_254_740_992.0 {
        return format!("{}", r as i64);
    }
    // Scientific form gives exactly `sig` correctly rounded digits and the decimal exponent.
    let sci = format!("{:.*e}", sig.saturating_sub(1), r);
    let (mant, exp) = match sci.split_once('e') {
        Some(p) => p,
        None => return sci,
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let n = digits.len() as i32;
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else if exp + 1 >= n {
        out.push_str(digits);
        for _ in 0..(exp + 1 - n) {
            out.push('0');
        }
    } else {
        let split = (exp + 1) as usize;
        out.push_str(digits.get(..split).unwrap_or(digits));
        out.push('.');
        out.push_str(digits.get(split..).unwrap_or(""));
    }
    if out == "-0" {
        return "0".into();
    }
    out
}

/// Walks the arguments of a command, left to right.
pub struct ArgCursor<'a> {
    args: Args<'a>,
    pos: usize,
}

impl<'a> ArgCursor<'a> {
    /// A cursor over `args` starting at argument `pos`.
    pub fn new(args: Args<'a>, pos: usize) -> Self {
        ArgCursor { args, pos }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn done(&self) -> bool {
        self.pos >= self.args.len()
    }

    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    pub fn peek(&self) -> Option<&'a [u8]> {
        self.args.get(self.pos)
    }

    /// The next argument, or `None` at the end.
    pub fn next_arg(&mut self) -> Option<&'a [u8]> {
        let a = self.args.get(self.pos)?;
        self.pos += 1;
        Some(a)
    }

    /// The next argument, or `ERR syntax error`.
    pub fn value(&mut self) -> CmdResult<&'a [u8]> {
        self.next_arg().ok_or(SYNTAX)
    }

    /// The next argument as an integer, with `err` on a bad number and a syntax error when missing.
    pub fn i64_or(&mut self, err: CmdError) -> CmdResult<i64> {
        parse_i64(self.value()?).ok_or(err)
    }

    /// The next argument as a finite float, with `err` on a bad number.
    pub fn f64_or(&mut self, err: CmdError) -> CmdResult<f64> {
        parse_f64(self.value()?).ok_or(err)
    }

    /// Consumes the next argument if it equals `kw` (case-insensitive).
    pub fn eat(&mut self, kw: &[u8]) -> bool {
        if self.peek().is_some_and(|a| eq_ic(a, kw)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

/// `MIN v` / `MAX v` of an increment command (`kw` is one of the two words): parses `v` with `parse`
/// into `min` or `max`, each at most once (a repeat is `ERR syntax error`, a bad value `bad`).
pub fn parse_bound<T>(
    kw: &[u8],
    c: &mut ArgCursor,
    (min, max): (&mut Option<T>, &mut Option<T>),
    parse: fn(&[u8]) -> Option<T>,
    bad: CmdError,
) -> CmdResult {
    let slot = if eq_ic(kw, b"MIN") { min } else { max };
    if slot.is_some() {
        return Err(SYNTAX);
    }
    *slot = Some(parse(c.value()?).ok_or(bad)?);
    Ok(())
}

/// The options of a module scan: `MATCH pattern` and `COUNT n`, repeatable, the last one wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanOptions<'a> {
    /// The pattern; `None` also for `*`, which matches everything (as Valkey's SCAN skips it).
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
}

impl<'a> ScanOptions<'a> {
    /// SCAN's default COUNT.
    pub const DEFAULT_COUNT: usize = 10;

    /// Parses `[MATCH pattern] [COUNT n]` from argument `from` on. A COUNT that is not an integer
    /// replies `bad_count` (the module's text); one below 1, or anything else, `ERR syntax error`.
    pub fn parse(args: Args<'a>, from: usize, bad_count: CmdError) -> CmdResult<Self> {
        let mut c = ArgCursor::new(args, from);
        let (mut pattern, mut count) = (None, Self::DEFAULT_COUNT);
        while let Some(kw) = c.next_arg() {
            if eq_ic(kw, b"MATCH") {
                pattern = Some(c.value()?);
            } else if eq_ic(kw, b"COUNT") {
                let n = parse_i64(c.value()?).ok_or_else(|| bad_count.clone())?;
                if n < 1 {
                    return Err(SYNTAX);
                }
                count = usize::try_from(n).unwrap_or(usize::MAX);
            } else {
                return Err(SYNTAX);
            }
        }
        Ok(ScanOptions {
            pattern: pattern.filter(|p| *p != b"*"),
            count,
        })
    }

    /// True when `subject` passes the MATCH pattern (always, without one).
    #[inline]
    pub fn matches(&self, subject: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| crate::glob::glob_match(p, subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"1.0",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"abc",
            b"99999999999999999999999",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_u64(b"4294967296"), Some(4_294_967_296));
        assert_eq!(parse_u64(b"-1"), None);
    }

    #[test]
    fn floats() {
        for (s, v) in [
            ("1", 1.0),
            ("-1.5", -1.5),
            ("+2", 2.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-2", 0.01),
            ("0", 0.0),
            ("0e10", 0.0),
        ] {
            assert_eq!(parse_f64(s.as_bytes()), Some(v), "{s}");
        }
        for bad in [
            "", ".", "e5", "1e", "nan", "inf", "-inf", "1e400", " 1", "1 ", "0x10", "1e-400",
            "1.2.3", "infinity",
        ] {
            assert_eq!(parse_f64(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn double_text() {
        let f = |x: f64| format_double(x, 15);
        assert_eq!(f(10.1 + 10.1), "20.2");
        assert_eq!(f(10.1 + 10.1 + 10.1), "30.3");
        assert_eq!(f(100.0 + 10.123), "110.123");
        assert_eq!(f(0.1 + 0.2), "0.3");
        assert_eq!(f(6.0), "6");
        assert_eq!(f(-5.0), "-5");
        assert_eq!(f(17179869185.0), "17179869185");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(1e300), format!("1{}", "0".repeat(300)));
        assert_eq!(f(1.5e-7), "0.00000015");
        assert_eq!(f(-2.25), "-2.25");
        assert_eq!(f(30.3 - 3.3), "27");
        assert_eq!(f(123_456_789.123_456_79), "123456789.123457");
    }

    #[test]
    fn scan_option_words() {
        // Only the argument-free parts can be unit-tested here (Args needs server strings); the scan
        // commands' integration tests cover MATCH/COUNT parsing through the server.
        let o = ScanOptions {
            pattern: Some(b"a*"),
            count: 10,
        };
        assert!(o.matches(b"abc"));
        assert!(!o.matches(b"bc"));
        let all = ScanOptions {
            pattern: None,
            count: 1,
        };
        assert!(all.matches(b"anything"));
    }
}
