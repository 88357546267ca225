//! Number syntax of stored values and the float formatting of EXHINCRBYFLOAT (spec §2.2, §2.3): the same
//! rules as every module's arguments (Valkey's `string2ll` / `string2ld`), so this uses `tair-common`'s
//! pure implementations; the tests below pin them to this spec's examples.

pub use tair_common::args::{parse_f64, parse_i64};

/// §2.3: integral values below 2^53 as integers; otherwise 15 significant digits (correctly rounded),
/// plain positional notation, trailing fractional zeros and a bare point removed; `-0` is `0`.
pub fn format_f64(r: f64) -> String {
    if !r.is_finite() {
        return "0".into();
    }
    tair_common::args::format_double(r, 15)
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
