#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use super::*;

fn fmt(v: f64) -> String {
    let mut out = Vec::new();
    format_dim(v, &mut out);
    String::from_utf8(out).unwrap()
}

fn parse(s: &str) -> Result<Vec<f64>, ZsetError> {
    ScoreTuple::parse(s.as_bytes()).map(|t| t.as_slice().to_vec())
}

fn text(s: &str) -> String {
    String::from_utf8(ScoreTuple::parse(s.as_bytes()).unwrap().to_bytes()).unwrap()
}

#[test]
fn format_table_of_spec() {
    // §2.5 table
    let cases: &[(f64, &str)] = &[
        (10.0, "10"),
        (1.1, "1.1000000000000001"),
        (2.2, "2.2000000000000002"),
        (3.3, "3.2999999999999998"),
        (0.1, "0.10000000000000001"),
        (2.5, "2.5"),
        (1e20, "1e+20"),
        (1e17, "1e+17"),
        (1e-5, "1.0000000000000001e-05"),
        (0.0001, "0.0001"),
        (-0.0, "-0"),
        (1703000000.0, "1703000000"),
        (1.0 / 3.0, "0.33333333333333331"),
        (9.9, "9.9000000000000004"),
        (0.0, "0"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ];
    for &(v, want) in cases {
        assert_eq!(fmt(v), want, "formatting {v:e}");
    }
}

#[test]
fn format_more_vectors() {
    let cases: &[(f64, &str)] = &[
        (-1703000000.0, "-1703000000"),
        (4.2, "4.2000000000000002"),
        (3.1, "3.1000000000000001"),
        (1e16, "10000000000000000"),
        (12345678901234567.0, "12345678901234568"),
        (1e100, "1e+100"),
        (1.5e300, "1.5000000000000001e+300"),
        (-2.5e-7, "-2.4999999999999999e-07"),
        (0.00012, "0.00012"),
        (5e-324, "4.9406564584124654e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (2f64.powi(-25), "2.9802322387695312e-08"), // exact tie rounds half to even
        (9007199254740993.0, "9007199254740992"),
        (123.0, "123"),
        (-0.5, "-0.5"),
        (99999999999999984.0, "99999999999999984"),
        (-99999999999999984.0, "-99999999999999984"),
        (-1e17, "-1e+17"),
    ];
    for &(v, want) in cases {
        assert_eq!(fmt(v), want, "formatting {v:e}");
    }
}

#[test]
fn parse_valid_forms() {
    assert_eq!(parse("10").unwrap(), vec![10.0]);
    assert_eq!(parse("1.1#3.3").unwrap(), vec![1.1, 3.3]);
    assert_eq!(
        parse("9850#-1703000000").unwrap(),
        vec![9850.0, -1703000000.0]
    );
    assert_eq!(parse("1.").unwrap(), vec![1.0]);
    assert_eq!(parse(".5").unwrap(), vec![0.5]);
    assert_eq!(parse("-.5e-1").unwrap(), vec![-0.05]);
    assert_eq!(parse("+3E+2").unwrap(), vec![300.0]);
    assert_eq!(parse("1e-5").unwrap(), vec![1e-5]);
    assert_eq!(parse("0e999999999").unwrap(), vec![0.0]);
    assert_eq!(
        parse("inf#-inf#+inf").unwrap(),
        vec![f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY]
    );
    assert_eq!(
        parse("Infinity#-INF#+iNfInItY").unwrap()[1],
        f64::NEG_INFINITY
    );
    let neg_zero = parse("-0").unwrap()[0];
    assert!(neg_zero == 0.0 && neg_zero.is_sign_negative());
    // subnormal accepted
    assert_eq!(
        parse("9.8813129168249309e-323").unwrap(),
        vec![f64::from_bits(20)]
    );
    // 255 dimensions is the maximum
    let wide = vec!["1"; 255].join("#");
    assert_eq!(parse(&wide).unwrap().len(), 255);
}

#[test]
fn parse_rejects_spec_bad_inputs() {
    let bad = [
        "30.badscore",
        "nan",
        "NaN",
        "-nan",
        "1#",
        "#1",
        "1##2",
        " 1",
        "1 ",
        "1e400",
        "-1e400",
        "1e-400",
        "",
        "#",
        ".",
        "e5",
        "1e",
        "1e+",
        "+",
        "-",
        "0x10",
        "0x1p3",
        "1.2.3",
        "infinite",
        "inf#",
        "1,5",
        "(1",
        "1#nan",
        "--1",
        "1e5.5",
        "١",
    ];
    for s in bad {
        assert_eq!(
            parse(s),
            Err(ZsetError::InvalidScore),
            "{s:?} must be rejected"
        );
    }
    let too_wide = vec!["1"; 256].join("#");
    assert_eq!(parse(&too_wide), Err(ZsetError::InvalidScore));
    assert_eq!(ScoreTuple::parse(b"1\x002"), Err(ZsetError::InvalidScore));
    assert_eq!(ScoreTuple::parse(b"\xff"), Err(ZsetError::InvalidScore));
}

#[test]
fn spec_transcript_scores_round_trip() {
    // T1/T2/T4/T15/T24 texts as printed
    for s in [
        "1.1000000000000001",
        "2.2000000000000002",
        "3.1000000000000001",
        "4.2000000000000002#2.2000000000000002",
        "1.1000000000000001#3.2999999999999998",
        "12400#-1703001000",
        "9850#-1703000000",
        "1.0000000000000001e-05",
        "0.10000000000000001",
        "1e+20",
        "-0",
        "inf",
        "-inf",
        "0#3",
        "1#1.1000000000000001",
        "10#9.9000000000000004",
        "1#1#1",
    ] {
        assert_eq!(text(s), s);
    }
    assert_eq!(text("1.1#3.3"), "1.1000000000000001#3.2999999999999998");
    assert_eq!(text("+inf"), "inf");
    assert_eq!(text("1e20#1e-5"), "1e+20#1.0000000000000001e-05");
}

#[test]
fn format_round_trips_through_parse() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = f64::from_bits(x);
        if v.is_nan() {
            continue;
        }
        let mut out = Vec::new();
        format_dim(v, &mut out);
        let back = parse_dim(&out)
            .unwrap_or_else(|| panic!("{} did not parse", String::from_utf8_lossy(&out)));
        assert_eq!(
            back.to_bits(),
            v.to_bits(),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
}

#[test]
fn order_and_prefix() {
    assert_eq!(compare(&[1.0, 5.0], &[2.0, 0.0]), Ordering::Less);
    assert_eq!(compare(&[2.0, 0.0], &[2.0, -1.0]), Ordering::Greater);
    assert_eq!(compare(&[-0.0, 1.0], &[0.0, 1.0]), Ordering::Equal);
    assert_eq!(compare(&[f64::NEG_INFINITY], &[-1e308]), Ordering::Less);
    // prefix: a 1-dim bound against a 2-dim score
    assert_eq!(compare(&[9850.0, -1.0], &[9850.0]), Ordering::Equal);
    assert!(equal(&[0.0, 1.0], &[-0.0, 1.0]));
    assert!(!equal(&[0.0, 1.0], &[0.0, 2.0]));
}

#[test]
fn incr_rules() {
    assert_eq!(checked_add(&[1.1], &[2.0]).unwrap().as_slice(), &[3.1]);
    assert_eq!(
        checked_add(&[0.0], &[f64::INFINITY]).unwrap().as_slice(),
        &[f64::INFINITY]
    );
    assert_eq!(
        checked_add(&[f64::INFINITY], &[f64::NEG_INFINITY]),
        Err(ZsetError::ScoreNaN)
    );
    assert_eq!(
        checked_add(&[1.0, f64::INFINITY], &[1.0, f64::NEG_INFINITY]),
        Err(ZsetError::ScoreNaN)
    );
    assert_eq!(
        checked_add(&[f64::MAX], &[f64::MAX]).unwrap().as_slice(),
        &[f64::INFINITY]
    );
    assert_eq!(
        checked_add(&[1.0], &[1.0, 2.0]),
        Err(ZsetError::InvalidScore)
    );
}

#[test]
fn score_bounds() {
    let b = ScoreBound::parse(b"(9850#-inf").unwrap();
    assert!(b.exclusive);
    assert_eq!(b.tuple.as_slice(), &[9850.0, f64::NEG_INFINITY]);
    assert!(!ScoreBound::parse(b"+inf").unwrap().exclusive);
    for bad in ["(", "str", "NaN", "((1", "1#(2", "", "abc", "( 1"] {
        assert_eq!(
            ScoreBound::parse(bad.as_bytes()),
            Err(ZsetError::BoundNotFloat),
            "{bad}"
        );
    }
    let r = ScoreRange::parse(b"(0", b"(3").unwrap();
    assert!(r.below_min(&[0.0]) && !r.below_min(&[0.5]));
    assert!(r.within_max(&[2.9]) && !r.within_max(&[3.0]));
    // prefix bounds on a 2-dim score (T5)
    let r = ScoreRange::parse(b"8000", b"10000").unwrap();
    assert_eq!(r.dims(), 1);
    assert!(!r.below_min(&[9850.0, -1703000000.0]) && r.within_max(&[9850.0, -1703000000.0]));
    assert!(!r.within_max(&[12400.0, -1703001000.0]));
    let r = ScoreRange::parse(b"9850#-1703000050", b"+inf").unwrap();
    assert!(r.below_min(&[9850.0, -1703000100.0]) && !r.below_min(&[9850.0, -1703000000.0]));
}

#[test]
fn lex_bounds() {
    assert_eq!(LexBound::parse(b"-"), Ok(LexBound::Min));
    assert_eq!(LexBound::parse(b"+"), Ok(LexBound::Max));
    assert_eq!(
        LexBound::parse(b"[cool"),
        Ok(LexBound::Inclusive(b"cool"[..].into()))
    );
    assert_eq!(
        LexBound::parse(b"("),
        Ok(LexBound::Exclusive(b""[..].into()))
    );
    for bad in ["foo", "+x", "-x", "", "bar"] {
        assert_eq!(
            LexBound::parse(bad.as_bytes()),
            Err(ZsetError::InvalidLexBound),
            "{bad}"
        );
    }
    let r = LexRange::parse(b"[b", b"(d").unwrap();
    assert!(r.below_min(b"alpha") && !r.below_min(b"b") && !r.below_min(b"bar"));
    assert!(r.within_max(b"cool") && !r.within_max(b"d") && !r.within_max(b"down"));
    let r = LexRange::parse(b"+", b"-").unwrap();
    assert!(r.below_min(b"x") && !r.within_max(b"x"));
}

#[test]
fn weights() {
    assert_eq!(parse_weight(b"2"), Ok(2.0));
    assert_eq!(parse_weight(b"-inf"), Ok(f64::NEG_INFINITY));
    assert_eq!(parse_weight(b"nan"), Err(ZsetError::WeightNotFloat));
    assert_eq!(parse_weight(b"1#2"), Err(ZsetError::WeightNotFloat));
    assert_eq!(parse_weight(b"x"), Err(ZsetError::WeightNotFloat));
}

#[test]
fn tuple_constructors() {
    assert!(ScoreTuple::from_slice(&[]).is_none());
    assert!(ScoreTuple::from_slice(&[f64::NAN]).is_none());
    assert!(ScoreTuple::from_slice(&[0.0; 256]).is_none());
    assert_eq!(ScoreTuple::zeros(2).unwrap().as_slice(), &[0.0, 0.0]);
    assert!(ScoreTuple::zeros(0).is_none());
}

#[test]
fn plain_integers_parse_as_the_general_parser_does() {
    for s in [
        "0",
        "-0",
        "+0",
        "007",
        "-007",
        "1",
        "239",
        "-128",
        "65535",
        "1703000000",
        "-1703000000",
        "123456789012345",
        "-999999999999999",
        "1234567890123456",
        "99999999999999999",
        "+42",
    ] {
        let got = parse_dim(s.as_bytes()).unwrap();
        let want: f64 = s.parse().unwrap();
        assert_eq!(got.to_bits(), want.to_bits(), "{s}");
    }
    for bad in ["", "-", "+", "1a", "--1", "1 ", " 1"] {
        assert!(parse_dim(bad.as_bytes()).is_none(), "{bad:?}");
    }
}
