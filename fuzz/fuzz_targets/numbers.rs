//! The number parsers every module's arguments and stored values go through (`tair_common::args`:
//! Valkey's `string2ll` / strict float syntax, used by tairstring's and tairhash's options and values)
//! and the float formatting of EXINCRBYFLOAT / EXHINCRBYFLOAT (`format_double`, 17 and 15 digits):
//! never crash; agree with a reference built from the standard library; what parses formats back to
//! text that parses to the same number. (tairzset's own score syntax is in `tairzset_score`. One target
//! links at most one module crate: each defines `RedisModule_OnLoad`.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use tair_common::args::{format_double, parse_f64, parse_i64, parse_u64};

/// `string2ll`: optional `-`, digits, no `+`, no leading zero (a lone `0` aside), no `-0`.
fn ref_i64(b: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(b).ok()?;
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') || s == "-0" {
        return None;
    }
    s.parse().ok()
}

fn ref_u64(b: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

fuzz_target!(|data: &[u8]| {
    let i = parse_i64(data);
    assert_eq!(i, ref_i64(data), "parse_i64 {data:?}");
    if let Some(v) = i {
        assert_eq!(v.to_string().as_bytes(), data);
    }
    let u = parse_u64(data);
    assert_eq!(u, ref_u64(data), "parse_u64 {data:?}");

    if let Some(f) = parse_f64(data) {
        assert!(f.is_finite());
        // The syntax is a subset of Rust's float syntax, with the same value.
        let s = std::str::from_utf8(data).expect("accepted text is ASCII");
        assert!(!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c)));
        assert_eq!(s.parse::<f64>().ok(), Some(f));
        // 17 significant digits identify every double; the text is in parse_f64's own syntax.
        let t = format_double(f, 17);
        assert_eq!(parse_f64(t.as_bytes()), Some(f), "{t}");
        // tairhash's stored float text (`number::format_f64`: 15 digits) parses back to a nearby value.
        let h = format_double(f, 15);
        let back = parse_f64(h.as_bytes()).expect("EXHINCRBYFLOAT text parses");
        assert!((back - f).abs() <= f.abs() * 1e-14, "{f} -> {h}");
    }
});
