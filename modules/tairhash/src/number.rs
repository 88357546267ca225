//! Number syntax of stored values and the float formatting of EXHINCRBYFLOAT (spec §2.2, §2.3).
//!
//! The same rules as `tair-common`'s argument parsing (Valkey's `string2ll` / `string2ld`), kept here
//! so the value type stays free of server dependencies.

/// Valkey's strict integer syntax: optional `-`, digits, no `+`, no leading zeros (`-0` refused), no
/// spaces, within signed 64 bits.
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
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

/// A finite float: `[+-]digits[.digits][(e|E)[+-]digits]`, also `.5` and `5.`; no spaces, no hex, no
/// `nan`/`inf`. A value overflowing to infinity is refused, and so (as Valkey's `string2ld`) is a
/// non-zero literal that underflows to 0.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let digits_from = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_end = digits_from(i);
    let mut mantissa_digits = int_end - i;
    i = int_end;
    if b.get(i) == Some(&b'.') {
        let frac_end = digits_from(i + 1);
        mantissa_digits += frac_end - (i + 1);
        i = frac_end;
    }
    if mantissa_digits == 0 {
        return None;
    }
    let mantissa_end = i;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_end = digits_from(i);
        if exp_end == i {
            return None;
        }
        i = exp_end;
    }
    if i != b.len() {
        return None;
    }
    let v: f64 = std::str::from_utf8(b).ok()?.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    if v == 0.0
        && b.get(..mantissa_end)?
            .iter()
            .any(|c| (b'1'..=b'9').contains(c))
    {
        return None;
    }
    Some(v)
}

/// §2.3: integral values below 2^53 as integers; otherwise 15 significant digits (correctly rounded),
/// plain positional notation, trailing fractional zeros and a bare point removed; `-0` is `0`.
pub fn format_f64(r: f64) -> String {
    const SIG: usize = 15;
    if r == 0.0 || !r.is_finite() {
        return "0".into();
    }
    if r.fract() == 0.0 && r.abs() < 9_007_199_254_740_992.0 {
        return format!("{}", r as i64);
    }
    let sci = format!("{:.*e}", SIG - 1, r);
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i64 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let n = digits.len() as i64;
    let mut out = String::with_capacity(digits.len() + 24);
    if neg {
        out.push('-');
    }
    if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(digits);
    } else if exp + 1 >= n {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (exp + 1 - n) as usize));
    } else {
        let (int, frac) = digits.split_at((exp + 1) as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    if out == "-0" {
        return "0".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        for (s, v) in [
            ("0", Some(0)),
            ("11", Some(11)),
            ("-11", Some(-11)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("-0", None),
            ("01", None),
            ("+1", None),
            (" 11", None),
            ("11 ", None),
            ("1.0", None),
            ("", None),
            ("-", None),
            ("abc", None),
            ("99999999999999999999999", None),
        ] {
            assert_eq!(parse_i64(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn floats() {
        for (s, v) in [
            ("0.9", Some(0.9)),
            ("-8.0", Some(-8.0)),
            ("+1.5", Some(1.5)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1e3", Some(1000.0)),
            ("1E+3", Some(1000.0)),
            ("2.5e-1", Some(0.25)),
            ("17179869184", Some(17179869184.0)),
            ("0e999", Some(0.0)),
            ("-0.0", Some(-0.0)),
            ("1e400", None),
            ("1e-400", None),
            ("nan", None),
            ("inf", None),
            ("-inf", None),
            ("infinity", None),
            ("0x10", None),
            (" 11", None),
            ("11 ", None),
            (".", None),
            ("e5", None),
            ("1e", None),
            ("1e+", None),
            ("", None),
            ("--1", None),
            ("1.2.3", None),
            ("abc", None),
        ] {
            assert_eq!(parse_f64(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(format_f64(0.0 + 0.9), "0.9");
        assert_eq!(format_f64(0.9 + 2.1), "3");
        assert_eq!(format_f64(3.1 - 8.0), "-4.9");
        assert_eq!(format_f64(10.1 + 10.1 + 10.1), "30.3");
        assert_eq!(format_f64(17179869184.0 + 1.0), "17179869185");
        assert_eq!(format_f64(-0.0), "0");
        assert_eq!(format_f64(0.1 + 0.2), "0.3");
        assert_eq!(format_f64(1e-5), "0.00001");
        assert_eq!(format_f64(-1.5e-7), "-0.00000015");
        assert_eq!(format_f64(9007199254740992.0), "9007199254740990");
        assert_eq!(format_f64(1e20), "100000000000000000000");
        assert_eq!(format_f64(123456.789), "123456.789");
        assert_eq!(format_f64(1.0 / 3.0), "0.333333333333333");
        assert_eq!(format_f64(2.0 / 3.0), "0.666666666666667");
        assert_eq!(format_f64(-5.0), "-5");
        let big = format_f64(f64::MAX);
        assert!(big.starts_with("179769313486232") && big.len() == 309 && !big.contains('e'));
        let tiny = format_f64(5e-324);
        assert!(tiny.starts_with("0.000") && tiny.ends_with("494065645841247"));
    }
}
