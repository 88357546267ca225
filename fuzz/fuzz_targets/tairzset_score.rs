//! The score and range parsers of tairzset (§2.4–§2.7: `s1#s2#...` tuples, `[(]tuple` bounds, lex
//! bounds) on arbitrary text, and the range queries they drive on fixed sets: never crash; a parsed
//! tuple prints (`%.17g`) to text that parses to the same bits; the score and lex spans the tree finds
//! (with LIMIT) are exactly the members a brute-force filter of the sorted members selects.
//! Input: `min \xff max \xff limit-bytes`.
#![no_main]
use std::cmp::Ordering;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tair_common::args::parse_f64;
use tairzset::score::{format_dim, parse_dim, parse_weight, MAX_DIMS};
use tairzset::{AddCondition, LexBound, LexRange, Limit, ScoreRange, ScoreTuple, TairZset, ZsetError};

/// Two-dimensional scores on a grid with infinities and -0, and a one-score set for lex ranges.
fn sets() -> &'static (TairZset, TairZset) {
    static SETS: OnceLock<(TairZset, TairZset)> = OnceLock::new();
    SETS.get_or_init(|| {
        let grid = [f64::NEG_INFINITY, -2.5, -1.0, -0.0, 0.0, 1.0, 1.5, 3.0, f64::INFINITY];
        let mut z = TairZset::new(2).unwrap();
        let mut i = 0usize;
        for a in grid {
            for b in [-1.0, 0.0, 2.0] {
                let member = format!("m{i}");
                z.add(member.as_bytes(), &[a, b], AddCondition::Always, false).unwrap();
                i += 1;
            }
        }
        let mut lex = TairZset::new(1).unwrap();
        for m in [&b""[..], b"a", b"aa", b"ab", b"b", b"ba", b"c", b"\x00", b"\xff", b"zz", b"[", b"("] {
            lex.add(m, &[0.0], AddCondition::Always, false).unwrap();
        }
        (z, lex)
    })
}

/// The §2.6 prefix order, written independently of the crate's `compare`.
fn prefix_cmp(score: &[f64], bound: &[f64]) -> Ordering {
    for (x, y) in score.iter().zip(bound) {
        match x.partial_cmp(y).unwrap() {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    Ordering::Equal
}

fn limited<T: Clone>(mut items: Vec<T>, reverse: bool, limit: Option<Limit>) -> Vec<T> {
    if reverse {
        items.reverse();
    }
    match limit {
        None => items,
        Some(Limit { offset, count }) if offset < 0 || count == 0 => Vec::new(),
        Some(Limit { offset, count }) => {
            let skip = usize::try_from(offset).unwrap_or(usize::MAX);
            let take = if count < 0 { usize::MAX } else { usize::try_from(count).unwrap_or(usize::MAX) };
            items.into_iter().skip(skip).take(take).collect()
        }
    }
}

fn lex_ok(m: &[u8], b: &LexBound, is_min: bool) -> bool {
    match b {
        LexBound::Min => is_min,
        LexBound::Max => !is_min,
        LexBound::Inclusive(x) => if is_min { m >= &x[..] } else { m <= &x[..] },
        LexBound::Exclusive(x) => if is_min { m > &x[..] } else { m < &x[..] },
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0xff);
    let a = parts.next().unwrap_or(&[]);
    let b = parts.next().unwrap_or(&[]);
    let rest = parts.next().unwrap_or(&[]);
    let limit = match rest {
        [o, c, ..] => Some(Limit { offset: i64::from(*o as i8), count: i64::from(*c as i8) }),
        _ => None,
    };
    let reverse = rest.len() % 2 == 1;

    // One dimension (also the WEIGHTS syntax): `%.17g` round trip; every float argument other modules
    // accept is a dimension with the same value.
    match parse_dim(a) {
        Some(d) => {
            assert!(!d.is_nan());
            assert_eq!(parse_weight(a).ok(), Some(d));
            let mut out = Vec::new();
            format_dim(d, &mut out);
            let again = parse_dim(&out).expect("%.17g text parses");
            assert_eq!(again.to_bits(), d.to_bits(), "{d} -> {:?}", String::from_utf8_lossy(&out));
        }
        None => assert_eq!(parse_weight(a), Err(ZsetError::WeightNotFloat)),
    }
    if let Some(f) = parse_f64(a) {
        assert_eq!(parse_dim(a), Some(f));
    }

    for text in [a, b] {
        match ScoreTuple::parse(text) {
            Ok(t) => {
                assert!((1..=MAX_DIMS).contains(&t.dims()));
                assert!(t.as_slice().iter().all(|v| !v.is_nan()));
                assert_eq!(t.dims(), text.split(|&c| c == b'#').count());
                let printed = t.to_bytes();
                let again = ScoreTuple::parse(&printed).expect("printed score parses");
                let bits = |t: &ScoreTuple| t.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&again), bits(&t), "{:?}", String::from_utf8_lossy(&printed));
                assert_eq!(again.to_bytes(), printed);
                assert_eq!(ScoreTuple::from_slice(t.as_slice()), Some(t.clone()));
            }
            Err(e) => assert_eq!(e, ZsetError::InvalidScore),
        }
    }

    let (z, lex) = sets();
    match ScoreRange::parse(a, b) {
        Ok(r) => {
            let span = z.score_span(&r, reverse, limit);
            if r.dims() > z.dims() {
                assert_eq!(span, Err(ZsetError::InvalidScore));
            } else {
                let got: Vec<Vec<u8>> = z.iter_span(span.unwrap()).map(|(m, _)| m.to_vec()).collect();
                let matching: Vec<Vec<u8>> = z
                    .iter()
                    .filter(|(_, s)| {
                        let lo = prefix_cmp(s, r.min.tuple.as_slice());
                        let hi = prefix_cmp(s, r.max.tuple.as_slice());
                        (lo == Ordering::Greater || lo == Ordering::Equal && !r.min.exclusive)
                            && (hi == Ordering::Less || hi == Ordering::Equal && !r.max.exclusive)
                    })
                    .map(|(m, _)| m.to_vec())
                    .collect();
                assert_eq!(z.count_in_score(&r), Ok(matching.len()));
                assert_eq!(got, limited(matching, reverse, limit));
            }
        }
        Err(e) => assert_eq!(e, ZsetError::BoundNotFloat),
    }
    if let Ok(t) = ScoreTuple::parse(a) {
        let s = t.as_slice();
        match z.rank_by_score(s) {
            Ok(rank) => {
                assert!(s.len() <= z.dims());
                assert_eq!(rank, z.iter().filter(|(_, x)| prefix_cmp(x, s) == Ordering::Less).count());
                assert_eq!(z.rev_rank_by_score(s), Ok(z.len() - rank));
            }
            Err(e) => {
                assert_eq!(e, ZsetError::InvalidScore);
                assert!(s.len() > z.dims());
            }
        }
    }
    match LexRange::parse(a, b) {
        Ok(r) => {
            let span = lex.lex_span(&r, reverse, limit);
            let got: Vec<Vec<u8>> = lex.iter_span(span).map(|(m, _)| m.to_vec()).collect();
            let matching: Vec<Vec<u8>> = lex
                .iter()
                .map(|(m, _)| m.to_vec())
                .filter(|m| lex_ok(m, &r.min, true) && lex_ok(m, &r.max, false))
                .collect();
            assert_eq!(lex.count_in_lex(&r), matching.len());
            assert_eq!(got, limited(matching, reverse, limit));
            // On a set with several scores the span is still within bounds.
            let span = z.lex_span(&r, reverse, limit);
            assert!(span.start <= span.end && span.end <= z.len());
        }
        Err(e) => assert_eq!(e, ZsetError::InvalidLexBound),
    }
});
