#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use super::*;
use crate::score::ScoreTuple;
use crate::score::{format_score, LexRange, ScoreRange};
use crate::setops::{self, Aggregate};
use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::SeedableRng;

fn t(s: &str) -> Vec<f64> {
    ScoreTuple::parse(s.as_bytes()).unwrap().as_slice().to_vec()
}

fn fmt(s: impl AsRef<[f64]>) -> String {
    let s = s.as_ref();
    let mut out = Vec::new();
    format_score(s, &mut out);
    String::from_utf8(out).unwrap()
}

/// Builds a set with EXZADD semantics from `score member` pairs.
fn set_of(pairs: &[(&str, &str)]) -> TairZset {
    let dims = t(pairs[0].0).len();
    let mut z = TairZset::new(dims).unwrap();
    for (s, m) in pairs {
        assert_eq!(
            z.add(m.as_bytes(), &t(s), AddCondition::Always, false),
            Ok(AddOutcome::Added)
        );
    }
    z.check().unwrap();
    z
}

fn names(z: &TairZset, span: Span) -> Vec<String> {
    z.iter_span(span)
        .map(|(m, _)| String::from_utf8(m.to_vec()).unwrap())
        .collect()
}

fn pairs(z: &TairZset, span: Span) -> Vec<(String, String)> {
    z.iter_span(span)
        .map(|(m, s)| (String::from_utf8(m.to_vec()).unwrap(), fmt(s)))
        .collect()
}

fn all_pairs(z: &TairZset) -> Vec<(String, String)> {
    pairs(
        z,
        Span {
            start: 0,
            end: z.len(),
            reverse: false,
        },
    )
}

fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(m, s)| (m.to_string(), s.to_string()))
        .collect()
}

fn range(min: &str, max: &str) -> ScoreRange {
    ScoreRange::parse(min.as_bytes(), max.as_bytes()).unwrap()
}

fn lex(min: &str, max: &str) -> LexRange {
    LexRange::parse(min.as_bytes(), max.as_bytes()).unwrap()
}

#[test]
fn t1_t2_basics_and_incr() {
    let mut z = set_of(&[("1.1", "x"), ("2.2", "y")]);
    assert_eq!(
        all_pairs(&z),
        p(&[("x", "1.1000000000000001"), ("y", "2.2000000000000002")])
    );
    assert_eq!(
        z.add(b"x", &t("2"), AddCondition::Always, true),
        Ok(AddOutcome::Updated)
    );
    assert_eq!(fmt(z.score(b"x").unwrap()), "3.1000000000000001");
    assert_eq!(names(&z, z.rank_span(0, -1, false)), ["y", "x"]);
    assert_eq!(
        z.add(b"z", &t("3.3#3.3"), AddCondition::Always, false),
        Err(ZsetError::InvalidScore)
    );

    let mut z = set_of(&[("1.1#3.3", "x"), ("2.2#2.2", "y"), ("3.3#1.1", "z")]);
    assert_eq!(
        z.add(b"y", &t("2"), AddCondition::Always, true),
        Err(ZsetError::InvalidScore)
    );
    assert_eq!(
        z.add(b"y", &t("2#0"), AddCondition::Always, true),
        Ok(AddOutcome::Updated)
    );
    assert_eq!(
        fmt(z.score(b"y").unwrap()),
        "4.2000000000000002#2.2000000000000002"
    );
    assert_eq!(
        all_pairs(&z),
        p(&[
            ("x", "1.1000000000000001#3.2999999999999998"),
            ("z", "3.2999999999999998#1.1000000000000001"),
            ("y", "4.2000000000000002#2.2000000000000002")
        ])
    );
    assert!(z.score(b"nobody").is_none());
}

fn leaderboard() -> TairZset {
    set_of(&[
        ("9850#-1703000000", "player:1001"),
        ("9850#-1703000100", "player:2007"),
        ("12400#-1703001000", "player:3015"),
    ])
}

#[test]
fn t4_to_t7_leaderboard_prefix_bounds() {
    let z = leaderboard();
    let span = z.score_span(&range("-inf", "+inf"), true, None).unwrap();
    assert_eq!(
        pairs(&z, span),
        p(&[
            ("player:3015", "12400#-1703001000"),
            ("player:1001", "9850#-1703000000"),
            ("player:2007", "9850#-1703000100")
        ])
    );
    let span = z.score_span(&range("8000", "10000"), false, None).unwrap();
    assert_eq!(
        pairs(&z, span),
        p(&[
            ("player:2007", "9850#-1703000100"),
            ("player:1001", "9850#-1703000000")
        ])
    );
    assert_eq!(z.rev_rank(b"player:1001"), Some(1));
    assert_eq!(z.rank(b"player:3015"), Some(2));
    assert_eq!(z.rank(b"nobody"), None);
    assert_eq!(z.count_in_score(&range("9850", "9850")), Ok(2));
    assert_eq!(z.count_in_score(&range("(9850", "+inf")), Ok(1));
    assert_eq!(z.count_in_score(&range("9850#-1703000050", "+inf")), Ok(2));
    assert_eq!(z.rank_by_score(&t("10000")), Ok(2));
    assert_eq!(z.rev_rank_by_score(&t("9850")), Ok(3));
    assert_eq!(
        z.score_span(&range("1#2#3", "+inf"), false, None),
        Err(ZsetError::InvalidScore)
    );
    assert_eq!(z.rank_by_score(&t("1#2#3")), Err(ZsetError::InvalidScore));
    assert_eq!(
        ScoreRange::parse(b"abc", b"+inf"),
        Err(ZsetError::BoundNotFloat)
    );
}

#[test]
fn t8_rank_by_score() {
    let z = set_of(&[("10", "x"), ("20", "y"), ("30", "z")]);
    assert_eq!(z.rank_by_score(&t("15")), Ok(1));
    assert_eq!(z.rank_by_score(&t("30")), Ok(2));
    assert_eq!(z.rev_rank_by_score(&t("0")), Ok(3));
    assert_eq!(z.rev_rank_by_score(&t("25")), Ok(1));
    assert_eq!(z.rev_rank_by_score(&t("30")), Ok(1));
    assert_eq!(z.rev_rank_by_score(&t("31")), Ok(0));
}

#[test]
fn t9_t11_t12_add_flags() {
    let mut z = set_of(&[("10", "a"), ("20", "b")]);
    assert_eq!(
        z.add(b"a", &t("5"), AddCondition::IfAbsent, true),
        Ok(AddOutcome::Skipped)
    );
    assert_eq!(
        z.add(b"a", &t("11"), AddCondition::IfPresent, false),
        Ok(AddOutcome::Updated)
    );
    assert_eq!(
        z.add(b"c", &t("30"), AddCondition::IfPresent, false),
        Ok(AddOutcome::Skipped)
    );
    assert_eq!(
        z.add(b"a", &t("11"), AddCondition::Always, false),
        Ok(AddOutcome::Unchanged)
    );
    assert_eq!(
        z.add(b"b", &t("21"), AddCondition::Always, false),
        Ok(AddOutcome::Updated)
    );
    assert_eq!(
        z.add(b"c", &t("5"), AddCondition::Always, false),
        Ok(AddOutcome::Added)
    );
    assert_eq!(
        z.add(b"b", &t("20"), AddCondition::Always, true),
        Ok(AddOutcome::Updated)
    );
    assert_eq!(fmt(z.score(b"b").unwrap()), "41");
    assert_eq!(all_pairs(&z), p(&[("c", "5"), ("a", "11"), ("b", "41")]));
    // -0 vs 0 is numerically equal: not an update
    assert_eq!(
        z.add(b"c", &t("5"), AddCondition::Always, false),
        Ok(AddOutcome::Unchanged)
    );
    assert_eq!(
        z.add(b"c", &t("-0"), AddCondition::Always, true),
        Ok(AddOutcome::Unchanged)
    );

    let mut n = TairZset::new(1).unwrap();
    assert_eq!(
        n.add(b"abc", &t("+inf"), AddCondition::Always, true),
        Ok(AddOutcome::Added)
    );
    assert_eq!(fmt(n.score(b"abc").unwrap()), "inf");
    assert_eq!(
        n.add(b"abc", &t("-inf"), AddCondition::Always, true),
        Err(ZsetError::ScoreNaN)
    );
    assert_eq!(fmt(n.score(b"abc").unwrap()), "inf");
    assert_eq!(
        n.add(b"abc", &t("5"), AddCondition::Always, true),
        Ok(AddOutcome::Unchanged)
    );

    let mut x = TairZset::new(1).unwrap();
    assert_eq!(
        x.add(b"a", &t("1"), AddCondition::IfPresent, false),
        Ok(AddOutcome::Skipped)
    );
    assert_eq!(
        x.add(b"a", &t("1"), AddCondition::IfPresent, true),
        Ok(AddOutcome::Skipped)
    );
    assert!(x.is_empty());
    assert_eq!(
        x.add(b"a", &[f64::NAN], AddCondition::Always, false),
        Err(ZsetError::InvalidScore)
    );
    assert!(TairZset::new(0).is_err() && TairZset::new(256).is_err() && TairZset::new(255).is_ok());
}

fn t13() -> TairZset {
    set_of(&[
        ("-inf", "a"),
        ("1", "b"),
        ("2", "c"),
        ("3", "d"),
        ("4", "e"),
        ("5", "f"),
        ("+inf", "g"),
    ])
}

#[test]
fn t9_t10_add_many() {
    let mut z = set_of(&[("10", "a"), ("20", "b")]);
    let (s11, s30, s21, s5) = (t("11"), t("30"), t("21"), t("5"));
    let xx = [(&s11[..], &b"a"[..]), (&s30[..], &b"c"[..])];
    assert_eq!(
        z.add_many(&xx, AddCondition::IfPresent),
        Ok(AddSummary {
            added: 0,
            updated: 1
        })
    );
    let ch = [
        (&s11[..], &b"a"[..]),
        (&s21[..], &b"b"[..]),
        (&s5[..], &b"c"[..]),
    ];
    assert_eq!(
        z.add_many(&ch, AddCondition::Always),
        Ok(AddSummary {
            added: 1,
            updated: 1
        })
    );
    let bad = t("1#2");
    let mixed = [(&s5[..], &b"new"[..]), (&bad[..], &b"x"[..])];
    assert_eq!(
        z.add_many(&mixed, AddCondition::Always),
        Err(ZsetError::InvalidScore)
    );
    assert_eq!(z.score(b"new"), None);
    let twice = [(&s5[..], &b"dup"[..]), (&s30[..], &b"dup"[..])];
    assert_eq!(
        z.add_many(&twice, AddCondition::Always),
        Ok(AddSummary {
            added: 1,
            updated: 1
        })
    );
    assert_eq!(z.score(b"dup").as_deref(), Some(&s30[..]));
    z.check().unwrap();
}

#[test]
fn t13_rank_ranges() {
    let z = t13();
    assert_eq!(pairs(&z, z.rank_span(0, 0, false)), p(&[("a", "-inf")]));
    assert_eq!(pairs(&z, z.rank_span(0, 0, true)), p(&[("g", "inf")]));
    assert_eq!(names(&z, z.rank_span(5, -1, false)), ["f", "g"]);
    assert_eq!(names(&z, z.rank_span(1, -5, false)), ["b", "c"]);
    assert_eq!(names(&z, z.rank_span(-100, 0, false)), ["a"]);
    assert!(z.rank_span(9, 20, false).is_empty());
    assert_eq!(names(&z, z.rank_span(1, 2, true)), ["f", "e"]);
    assert_eq!(names(&z, z.rank_span(-2, -1, true)), ["b", "a"]);
    assert!(z.rank_span(i64::MIN, i64::MIN, false).is_empty());
    assert_eq!(z.rank_span(i64::MIN, i64::MAX, true).len(), 7);
}

#[test]
fn t14_score_ranges_and_limit() {
    let mut z = t13();
    let lim = |offset, count| Some(Limit { offset, count });
    assert_eq!(
        names(
            &z,
            z.score_span(&range("0", "10"), false, lim(2, 3)).unwrap()
        ),
        ["d", "e", "f"]
    );
    assert_eq!(
        names(&z, z.score_span(&range("(0", "(3"), false, None).unwrap()),
        ["b", "c"]
    );
    assert_eq!(
        names(
            &z,
            z.score_span(&range("0", "10"), true, lim(0, 2)).unwrap()
        ),
        ["f", "e"]
    );
    assert_eq!(
        pairs(
            &z,
            z.score_span(&range("(4", "(+inf"), false, None).unwrap()
        ),
        p(&[("f", "5")])
    );
    assert!(z
        .score_span(&range("2", "(2"), false, None)
        .unwrap()
        .is_empty());
    assert!(z
        .score_span(&range("0", "10"), false, lim(-1, 2))
        .unwrap()
        .is_empty());
    assert_eq!(
        names(
            &z,
            z.score_span(&range("0", "10"), false, lim(4, -1)).unwrap()
        ),
        ["f"]
    );
    assert!(z
        .score_span(&range("0", "10"), false, lim(0, 0))
        .unwrap()
        .is_empty());
    assert!(z
        .score_span(&range("0", "10"), false, lim(i64::MAX, 1))
        .unwrap()
        .is_empty());
    assert_eq!(
        names(
            &z,
            z.score_span(&range("-inf", "+inf"), true, lim(5, i64::MAX))
                .unwrap()
        ),
        ["b", "a"]
    );
    assert!(z
        .score_span(&range("10", "0"), false, None)
        .unwrap()
        .is_empty());
    assert_eq!(z.remove_span(z.rank_span(0, 1, false)), 2);
    assert_eq!(
        z.remove_span(z.score_span(&range("(3", "+inf"), false, None).unwrap()),
        3
    );
    assert_eq!(names(&z, z.rank_span(0, -1, false)), ["c", "d"]);
    z.check().unwrap();
}

#[test]
fn t15_format_order() {
    let z = set_of(&[("0.1", "a"), ("1e20", "b"), ("-0", "c"), ("1e-5", "d")]);
    assert_eq!(
        all_pairs(&z),
        p(&[
            ("c", "-0"),
            ("d", "1.0000000000000001e-05"),
            ("a", "0.10000000000000001"),
            ("b", "1e+20")
        ])
    );
}

#[test]
fn t16_lex() {
    let mut z = set_of(&[("0", "alpha"), ("0", "bar"), ("0", "cool"), ("0", "down")]);
    assert_eq!(
        names(&z, z.lex_span(&lex("-", "[cool"), false, None)),
        ["alpha", "bar", "cool"]
    );
    assert_eq!(
        names(
            &z,
            z.lex_span(
                &lex("(bar", "+"),
                false,
                Some(Limit {
                    offset: 0,
                    count: 1
                })
            )
        ),
        ["cool"]
    );
    assert_eq!(
        names(&z, z.lex_span(&lex("(bar", "+"), true, None)),
        ["down", "cool"]
    );
    assert_eq!(z.count_in_lex(&lex("[b", "(d")), 2);
    assert_eq!(z.count_in_lex(&lex("+", "-")), 0);
    assert_eq!(z.count_in_lex(&lex("[z", "[a")), 0);
    assert_eq!(z.remove_span(z.lex_span(&lex("-", "(c"), false, None)), 2);
    assert_eq!(names(&z, z.rank_span(0, -1, false)), ["cool", "down"]);
    // mixed scores: unspecified but bounded and crash-free
    let z = set_of(&[("3", "a"), ("1", "z"), ("2", "m")]);
    assert!(z.lex_span(&lex("[b", "[y"), false, None).len() <= 3);
}

#[test]
fn t17_remove() {
    let mut z = set_of(&[("10", "x"), ("20", "y")]);
    assert!(!z.remove(b"z"));
    assert!(z.remove(b"x") && z.remove(b"y") && !z.remove(b"k"));
    assert!(z.is_empty());
    z.check().unwrap();
}

fn zseta() -> TairZset {
    set_of(&[("1#2", "a"), ("2#3", "b"), ("3#4", "c")])
}

fn zsetb() -> TairZset {
    set_of(&[("1#2", "b"), ("2#3", "c"), ("3#4", "d")])
}

#[test]
fn t18_t21_set_operations() {
    let (a, b) = (zseta(), zsetb());
    let ab = [Some(&a), Some(&b)];
    let u = setops::union(&ab, &[], Aggregate::Sum).unwrap().unwrap();
    assert_eq!(
        all_pairs(&u),
        p(&[("a", "1#2"), ("d", "3#4"), ("b", "3#5"), ("c", "5#7")])
    );
    let u = setops::union(&ab, &[2.0, 3.0], Aggregate::Sum)
        .unwrap()
        .unwrap();
    assert_eq!(
        all_pairs(&u),
        p(&[("a", "2#4"), ("b", "7#12"), ("d", "9#12"), ("c", "12#17")])
    );
    let u = setops::union(&ab, &[], Aggregate::Max).unwrap().unwrap();
    assert_eq!(
        all_pairs(&u),
        p(&[("a", "1#2"), ("b", "2#3"), ("c", "3#4"), ("d", "3#4")])
    );
    let i = setops::inter(&ab, &[], Aggregate::Sum).unwrap().unwrap();
    assert_eq!(all_pairs(&i), p(&[("b", "3#5"), ("c", "5#7")]));
    let i = setops::inter(&ab, &[2.0, 3.0], Aggregate::Sum)
        .unwrap()
        .unwrap();
    assert_eq!(all_pairs(&i), p(&[("b", "7#12"), ("c", "12#17")]));
    let u = setops::union(&ab, &[], Aggregate::Min).unwrap().unwrap();
    assert_eq!(
        all_pairs(&u),
        p(&[("a", "1#2"), ("b", "1#2"), ("c", "2#3"), ("d", "3#4")])
    );
    let d = setops::diff(&ab).unwrap().unwrap();
    assert_eq!(all_pairs(&d), p(&[("a", "1#2")]));
    assert!(setops::diff(&[Some(&a), Some(&a)]).unwrap().is_none());
    assert_eq!(setops::inter_card(&ab, 0), Ok(2));
    assert_eq!(setops::inter_card(&ab, 1), Ok(1));
    let u = setops::union(&[Some(&a), None], &[], Aggregate::Sum)
        .unwrap()
        .unwrap();
    assert_eq!(
        all_pairs(&u),
        p(&[("a", "1#2"), ("b", "2#3"), ("c", "3#4")])
    );
    assert!(setops::inter(&[Some(&a), None], &[], Aggregate::Sum)
        .unwrap()
        .is_none());
    assert_eq!(setops::inter_card(&[None, Some(&a)], 0), Ok(0));
    assert!(setops::diff(&[None, Some(&a)]).unwrap().is_none());
    assert_eq!(
        all_pairs(&setops::diff(&[Some(&a), None]).unwrap().unwrap()).len(),
        3
    );
    // T20: different N
    let one = set_of(&[("1", "a")]);
    assert_eq!(
        setops::union(&[Some(&a), Some(&one)], &[], Aggregate::Sum).err(),
        Some(ZsetError::InvalidScore)
    );
    assert_eq!(
        setops::inter_card(&[Some(&a), Some(&one)], 0),
        Err(ZsetError::InvalidScore)
    );
    assert_eq!(
        setops::diff(&[None, Some(&one), Some(&a)]).err(),
        Some(ZsetError::InvalidScore)
    );
    // T21: NaN from weights or sums becomes 0
    let i1 = set_of(&[("-inf", "neginf")]);
    let out = setops::union(&[Some(&i1)], &[0.0], Aggregate::Sum)
        .unwrap()
        .unwrap();
    assert_eq!(all_pairs(&out), p(&[("neginf", "0")]));
    let (p1, p2) = (set_of(&[("+inf#1", "key")]), set_of(&[("-inf#2", "key")]));
    let out = setops::union(&[Some(&p1), Some(&p2)], &[], Aggregate::Sum)
        .unwrap()
        .unwrap();
    assert_eq!(fmt(out.score(b"key").unwrap()), "0#3");
    let out = setops::inter(&[Some(&p1), Some(&p2)], &[], Aggregate::Sum)
        .unwrap()
        .unwrap();
    assert_eq!(fmt(out.score(b"key").unwrap()), "0#3");
    assert!(setops::union(&[None], &[], Aggregate::Sum)
        .unwrap()
        .is_none());
    // the same key twice
    let i = setops::inter(&[Some(&a), Some(&a)], &[1.0, -1.0], Aggregate::Sum)
        .unwrap()
        .unwrap();
    assert_eq!(
        all_pairs(&i),
        p(&[("a", "0#0"), ("b", "0#0"), ("c", "0#0")])
    );
    i.check().unwrap();
}

#[test]
fn t22_pops() {
    let mut z = set_of(&[
        ("-1#1", "a"),
        ("2#1", "b"),
        ("2#2", "c"),
        ("3#3", "d"),
        ("4#4", "e"),
    ]);
    let show = |v: Vec<Popped>| -> Vec<(String, String)> {
        v.into_iter()
            .map(|(m, s)| (String::from_utf8(m.into_vec()).unwrap(), fmt(s.as_slice())))
            .collect()
    };
    assert_eq!(show(z.pop(1, false)), p(&[("a", "-1#1")]));
    assert_eq!(show(z.pop(2, true)), p(&[("e", "4#4"), ("d", "3#3")]));
    assert!(z.pop(0, false).is_empty());
    assert_eq!(show(z.pop(10, false)), p(&[("b", "2#1"), ("c", "2#2")]));
    assert!(z.is_empty() && z.pop(1, false).is_empty());
    z.check().unwrap();
}

#[test]
fn t24_scan_small_and_full() {
    let z = set_of(&[
        ("1#1.1", "foo"),
        ("2#2.2", "fab"),
        ("3#3.3", "fiz"),
        ("10#9.9", "foobar"),
    ]);
    let mut got = Vec::new();
    let next = z.scan(0, 10_000, |m, s| {
        got.push((String::from_utf8(m.to_vec()).unwrap(), fmt(s)))
    });
    assert_eq!(next, 0);
    got.sort();
    assert_eq!(
        got,
        p(&[
            ("fab", "2#2.2000000000000002"),
            ("fiz", "3#3.2999999999999998"),
            ("foo", "1#1.1000000000000001"),
            ("foobar", "10#9.9000000000000004")
        ])
    );
    // exactly COUNT members, cursor 0: all at once
    let mut n = 0;
    assert_eq!(z.scan(0, 4, |_, _| n += 1), 0);
    assert_eq!(n, 4);

    // 1000 members, COUNT 10: every member exactly once
    let mut big = TairZset::new(1).unwrap();
    for i in 0..1000 {
        big.add(
            format!("m{i}").as_bytes(),
            &[f64::from(i)],
            AddCondition::Always,
            false,
        )
        .unwrap();
    }
    let mut seen = std::collections::HashMap::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        let mut batch = 0;
        cursor = big.scan(cursor, 10, |m, _| {
            *seen.entry(m.to_vec()).or_insert(0) += 1;
            batch += 1;
        });
        calls += 1;
        assert!(batch >= 10 || cursor == 0);
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(seen.values().all(|&c| c == 1));
    assert!(calls < 200);
}

#[test]
fn scan_survives_resizes() {
    // Members present for the whole iteration are returned at least once while the table grows and shrinks.
    let mut z = TairZset::new(1).unwrap();
    for i in 0..500 {
        z.add(
            format!("keep{i}").as_bytes(),
            &[0.0],
            AddCondition::Always,
            false,
        )
        .unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    let mut step = 0;
    loop {
        cursor = z.scan(cursor, 7, |m, _| {
            seen.insert(m.to_vec());
        });
        step += 1;
        if step == 5 {
            for i in 0..5000 {
                z.add(
                    format!("tmp{i}").as_bytes(),
                    &[1.0],
                    AddCondition::Always,
                    false,
                )
                .unwrap();
            }
        }
        if step == 40 {
            for i in 0..5000 {
                z.remove(format!("tmp{i}").as_bytes());
            }
        }
        if cursor == 0 {
            break;
        }
    }
    z.check().unwrap();
    for i in 0..500 {
        assert!(
            seen.contains(format!("keep{i}").as_bytes()),
            "keep{i} missed"
        );
    }
}

#[test]
fn t25_random_members() {
    let z = set_of(&[("1", "a"), ("2", "b"), ("3", "c")]);
    let mut rng = SmallRng::seed_from_u64(7);
    let mut got = Vec::new();
    z.random_members(5, &mut rng, |m, _| got.push(m.to_vec()));
    got.sort();
    assert_eq!(got, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    let mut n = 0;
    z.random_members(-5, &mut rng, |_, _| n += 1);
    assert_eq!(n, 5);
    let mut got = Vec::new();
    z.random_members(2, &mut rng, |m, s| got.push((m.to_vec(), s.to_vec())));
    got.sort_by(|a, b| a.0.cmp(&b.0));
    got.dedup_by(|a, b| a.0 == b.0);
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .all(|(m, s)| z.score(m).as_deref() == Some(&s[..])));
    z.random_members(0, &mut rng, |_, _| panic!("count 0 visits nothing"));
    assert!(TairZset::new(1).unwrap().random_member(&mut rng).is_none());
    assert!(z.random_member(&mut rng).is_some());

    // Uniformity (loose): 10 members, subsets of 3, 20k draws; each member ~6000 times.
    let z = set_of(
        &(0..10)
            .map(|i| {
                (
                    "0",
                    ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"][i],
                )
            })
            .collect::<Vec<_>>(),
    );
    let mut counts = std::collections::HashMap::new();
    for _ in 0..20_000 {
        let mut batch = Vec::new();
        z.random_members(3, &mut rng, |m, _| batch.push(m.to_vec()));
        assert_eq!(batch.len(), 3);
        batch.sort();
        batch.dedup();
        assert_eq!(batch.len(), 3);
        for m in batch {
            *counts.entry(m).or_insert(0) += 1;
        }
    }
    assert_eq!(counts.len(), 10);
    assert!(
        counts.values().all(|&c| (5400..6600).contains(&c)),
        "{counts:?}"
    );
    let mut counts = std::collections::HashMap::new();
    z.random_members(-20_000, &mut rng, |m, _| {
        *counts.entry(m.to_vec()).or_insert(0) += 1
    });
    assert!(
        counts.values().all(|&c| (1700..2300).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn builder_clone_and_mem_usage() {
    let mut b = ZsetBuilder::new(3, 3).unwrap();
    b.push(b"m3", &t("3#3#3")).unwrap();
    b.push(b"m1", &t("1#1#1")).unwrap();
    b.push(b"m2", &t("2#2#2")).unwrap();
    // A duplicate member fails the build: at once in the big builder, at `finish` in the small one.
    for cap in [3, 10_000] {
        let mut d = ZsetBuilder::new(3, cap).unwrap();
        d.push(b"m2", &t("2#2#2")).unwrap();
        let dup = d.push(b"m2", &t("4#4#4"));
        assert!(
            dup == Err(ZsetError::CorruptValue)
                || d.finish().err() == Some(ZsetError::CorruptValue),
            "capacity {cap}"
        );
    }
    assert_eq!(b.push(b"m4", &t("4#4")), Err(ZsetError::CorruptValue));
    assert_eq!(
        b.push(b"m4", &[1.0, f64::NAN, 1.0]),
        Err(ZsetError::CorruptValue)
    );
    let z = b.finish().unwrap();
    z.check().unwrap();
    assert_eq!(
        all_pairs(&z),
        p(&[("m1", "1#1#1"), ("m2", "2#2#2"), ("m3", "3#3#3")])
    );
    let rdb_order: Vec<&[u8]> = z
        .iter_span(Span {
            start: 0,
            end: z.len(),
            reverse: true,
        })
        .map(|(m, _)| m)
        .collect();
    assert_eq!(rdb_order, [&b"m3"[..], b"m2", b"m1"]);
    let copy = z.clone();
    assert_eq!(all_pairs(&copy), all_pairs(&z));
    let mut other = TairZset::new(3).unwrap();
    for (m, s) in [
        ("m2", "2#2#2"),
        ("m1", "1#1#1"),
        ("x", "9#9#9"),
        ("m3", "3#3#3"),
    ] {
        other
            .add(m.as_bytes(), &t(s), AddCondition::Always, false)
            .unwrap();
    }
    other.remove(b"x");
    assert_eq!(other.mem_usage(), z.mem_usage());
    assert!(ZsetBuilder::new(0, 0).is_err());
    assert!(ZsetBuilder::new(1, 0).unwrap().finish().unwrap().is_empty());
}

#[test]
fn binary_and_empty_members() {
    let mut z = TairZset::new(1).unwrap();
    for m in [&b""[..], b"\0", b"\0\0", b"\xff", b"a\0b"] {
        assert_eq!(
            z.add(m, &[1.0], AddCondition::Always, false),
            Ok(AddOutcome::Added)
        );
    }
    assert_eq!(z.rank(b""), Some(0));
    assert_eq!(z.rank(b"\0"), Some(1));
    assert_eq!(z.rank(b"\xff"), Some(4));
    assert_eq!(z.count_in_lex(&LexRange::parse(b"[", b"(\x01").unwrap()), 3);
    assert!(z.remove(b""));
    assert_eq!(z.rank(b"\0"), Some(0));
    z.check().unwrap();
}

#[test]
fn big_removals_compact() {
    let mut z = TairZset::new(2).unwrap();
    for i in 0..20_000u32 {
        z.add(
            &i.to_be_bytes(),
            &[f64::from(i % 7), f64::from(i)],
            AddCondition::Always,
            false,
        )
        .unwrap();
    }
    let before = z.heap_bytes();
    assert_eq!(z.remove_span(z.rank_span(100, -101, false)), 19_800);
    z.check().unwrap();
    assert!(
        z.heap_bytes() < before / 20,
        "{} -> {}",
        before,
        z.heap_bytes()
    );
    for i in 0..20_000u32 {
        z.remove(&i.to_be_bytes());
    }
    assert!(z.is_empty());
    z.check().unwrap();
    z.add(b"again", &[1.0, 2.0], AddCondition::Always, false)
        .unwrap();
    z.check().unwrap();
}

#[test]
fn rank_on_a_million_members() {
    let n = 1_000_000u32;
    let start = std::time::Instant::now();
    let mut b = ZsetBuilder::new(2, n as usize).unwrap();
    for i in 0..n {
        let x = i.wrapping_mul(2_654_435_761);
        b.push(
            format!("member:{x:08x}").as_bytes(),
            &[f64::from(x % 1000), f64::from(i)],
        )
        .unwrap();
    }
    let z = b.finish().unwrap();
    let built = start.elapsed();
    let start = std::time::Instant::now();
    let mut sum = 0usize;
    for i in (0..n).step_by(10) {
        let x = i.wrapping_mul(2_654_435_761);
        sum += z.rank(format!("member:{x:08x}").as_bytes()).unwrap();
    }
    let ranked = start.elapsed();
    assert!(sum > 0);
    let start = std::time::Instant::now();
    let mut sum = 0usize;
    for r in (0..n as usize).step_by(10) {
        sum += z.get_by_rank(r).unwrap().0.len();
    }
    let selected = start.elapsed();
    assert!(sum > 0);
    eprintln!(
        "1M members: build {built:?}, 100k rank() {ranked:?} ({:?}/op), 100k get_by_rank {selected:?}, heap {} B/member",
        ranked / 100_000,
        z.heap_bytes() / n as usize
    );
}

// ---------------------------------------------------------------- model-based property tests

const VALUES: [f64; 8] = [
    f64::NEG_INFINITY,
    -2.0,
    -1.0,
    -0.0,
    0.0,
    1.0,
    2.0,
    f64::INFINITY,
];

fn member() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(b'a'), Just(b'b'), Just(0u8), Just(0xffu8)],
        0..4,
    )
}

fn score2() -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(proptest::sample::select(&VALUES[..]), 2)
}

fn bound_text() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        proptest::collection::vec(
            proptest::sample::select(&["-inf", "-1", "0", "1", "2", "+inf"][..]),
            1..=2,
        ),
    )
        .prop_map(|(excl, dims)| format!("{}{}", if excl { "(" } else { "" }, dims.join("#")))
}

#[derive(Debug, Clone)]
enum Op {
    Add {
        member: Vec<u8>,
        score: Vec<f64>,
        cond: u8,
        incr: bool,
    },
    Remove(Vec<u8>),
    RemoveRanks(i64, i64),
    RemoveScores(String, String),
    Pop(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (member(), score2(), 0u8..3, proptest::bool::weighted(0.2))
            .prop_map(|(member, score, cond, incr)| Op::Add { member, score, cond, incr }),
        3 => member().prop_map(Op::Remove),
        1 => (-8i64..8, -8i64..8).prop_map(|(a, b)| Op::RemoveRanks(a, b)),
        1 => (bound_text(), bound_text()).prop_map(|(a, b)| Op::RemoveScores(a, b)),
        1 => (0usize..4, any::<bool>()).prop_map(|(n, max)| Op::Pop(n, max)),
    ]
}

type Model = Vec<(Vec<u8>, Vec<f64>)>;

fn model_sort(m: &mut Model) {
    m.sort_by(|a, b| score::compare(&a.1, &b.1).then_with(|| a.0.cmp(&b.0)));
}

fn model_rank_span(len: usize, start: i64, stop: i64, reverse: bool) -> Vec<usize> {
    let llen = len as i64;
    let (mut s, mut e) = (start, stop);
    if s < 0 {
        s += llen;
    }
    if e < 0 {
        e += llen;
    }
    if s < 0 {
        s = 0;
    }
    if s > e || s >= llen {
        return vec![];
    }
    if e >= llen {
        e = llen - 1;
    }
    let desc: Vec<usize> = (s as usize..=e as usize).collect();
    if reverse {
        desc.into_iter().map(|i| len - 1 - i).collect()
    } else {
        desc
    }
}

fn apply(z: &mut TairZset, m: &mut Model, op: &Op) {
    match op {
        Op::Add {
            member,
            score,
            cond,
            incr,
        } => {
            let cond = [
                AddCondition::Always,
                AddCondition::IfAbsent,
                AddCondition::IfPresent,
            ][*cond as usize];
            let got = z.add(member, score, cond, *incr);
            let pos = m.iter().position(|(k, _)| k == member);
            let want = match (pos, cond) {
                (None, AddCondition::IfPresent) | (Some(_), AddCondition::IfAbsent) => {
                    Ok(AddOutcome::Skipped)
                }
                (None, _) => {
                    m.push((member.clone(), score.clone()));
                    Ok(AddOutcome::Added)
                }
                (Some(i), _) => {
                    let cur = m[i].1.clone();
                    let new: Vec<f64> = if *incr {
                        cur.iter().zip(score).map(|(a, b)| a + b).collect()
                    } else {
                        score.clone()
                    };
                    if new.iter().any(|v| v.is_nan()) {
                        Err(ZsetError::ScoreNaN)
                    } else if score::equal(&new, &cur) {
                        Ok(AddOutcome::Unchanged)
                    } else {
                        m[i].1 = new;
                        Ok(AddOutcome::Updated)
                    }
                }
            };
            assert_eq!(got, want);
        }
        Op::Remove(member) => {
            let pos = m.iter().position(|(k, _)| k == member);
            assert_eq!(z.remove(member), pos.is_some());
            if let Some(i) = pos {
                m.remove(i);
            }
        }
        Op::RemoveRanks(a, b) => {
            let idx = model_rank_span(m.len(), *a, *b, false);
            assert_eq!(z.remove_span(z.rank_span(*a, *b, false)), idx.len());
            if let (Some(&first), Some(&last)) = (idx.first(), idx.last()) {
                m.drain(first..=last);
            }
        }
        Op::RemoveScores(a, b) => {
            let r = range(a, b);
            let n = z.remove_span(z.score_span(&r, false, None).unwrap());
            let before = m.len();
            m.retain(|(_, s)| r.below_min(s) || !r.within_max(s));
            assert_eq!(n, before - m.len());
        }
        Op::Pop(n, max) => {
            let got = z.pop(*n, *max);
            let k = (*n).min(m.len());
            let want: Model = if *max {
                m.drain(m.len() - k..).rev().collect()
            } else {
                m.drain(..k).collect()
            };
            let got: Model = got
                .into_iter()
                .map(|(mb, s)| (mb.into_vec(), s.as_slice().to_vec()))
                .collect();
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!(g.0 == w.0 && score::equal(&g.1, &w.1));
            }
        }
    }
    model_sort(m);
}

fn compare_all(z: &TairZset, m: &Model, queries: &[(String, String, bool, i64, i64)]) {
    z.check().unwrap();
    assert_eq!(z.len(), m.len());
    let got: Vec<(&[u8], ScoreRef)> = z.iter().collect();
    for (rank, ((gm, gs), (mm, ms))) in got.iter().zip(m).enumerate() {
        assert!(*gm == &mm[..] && score::equal(gs, ms), "rank {rank}");
        assert_eq!(z.rank(mm), Some(rank));
        assert_eq!(z.rev_rank(mm), Some(m.len() - 1 - rank));
        assert_eq!(z.get_by_rank(rank).map(|e| e.0), Some(&mm[..]));
        assert!(score::equal(&z.score(mm).unwrap(), ms));
    }
    assert!(z.get_by_rank(m.len()).is_none());
    for (a, b, reverse, offset, count) in queries {
        let r = range(a, b);
        let limit = (*offset >= -1).then_some(Limit {
            offset: *offset,
            count: *count,
        });
        // brute force: filter, orient, LIMIT
        let mut want: Vec<&[u8]> = m
            .iter()
            .filter(|(_, s)| !r.below_min(s) && r.within_max(s))
            .map(|(k, _)| &k[..])
            .collect();
        assert_eq!(z.count_in_score(&r), Ok(want.len()));
        if *reverse {
            want.reverse();
        }
        if let Some(Limit { offset, count }) = limit {
            want = if offset < 0 || count == 0 {
                vec![]
            } else {
                want.into_iter()
                    .skip(offset as usize)
                    .take(if count < 0 {
                        usize::MAX
                    } else {
                        count as usize
                    })
                    .collect()
            };
        }
        let got: Vec<&[u8]> = z
            .iter_span(z.score_span(&r, *reverse, limit).unwrap())
            .map(|e| e.0)
            .collect();
        assert_eq!(got, want, "range {a} {b} rev {reverse} limit {limit:?}");
        let first = r.min.tuple.as_slice();
        let below = m
            .iter()
            .filter(|(_, s)| score::compare(s, first) == Ordering::Less)
            .count();
        assert_eq!(z.rank_by_score(first), Ok(below));
        assert_eq!(z.rev_rank_by_score(first), Ok(m.len() - below));
        let idx = model_rank_span(m.len(), *offset, *count, *reverse);
        let got: Vec<&[u8]> = z
            .iter_span(z.rank_span(*offset, *count, *reverse))
            .map(|e| e.0)
            .collect();
        let want: Vec<&[u8]> = idx.iter().map(|&i| &m[i].0[..]).collect();
        assert_eq!(got, want, "rank span {offset} {count} rev {reverse}");
    }
}

fn query() -> impl Strategy<Value = (String, String, bool, i64, i64)> {
    (
        bound_text(),
        bound_text(),
        any::<bool>(),
        -2i64..5,
        -2i64..5,
    )
}

fn lex_bound() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => Just(b"-".to_vec()),
        1 => Just(b"+".to_vec()),
        4 => (prop_oneof![Just(b'['), Just(b'(')], member()).prop_map(|(c, mut m)| { m.insert(0, c); m }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn matches_sorted_vec_model(ops in proptest::collection::vec(op(), 0..250),
                                queries in proptest::collection::vec(query(), 0..20)) {
        let mut z = TairZset::new(2).unwrap();
        let mut m: Model = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            apply(&mut z, &mut m, op);
            if i % 16 == 0 {
                z.check().unwrap();
            }
        }
        compare_all(&z, &m, &queries);
    }

    #[test]
    fn lex_ranges_match_model(members in proptest::collection::vec(member(), 0..40),
                              removes in proptest::collection::vec(member(), 0..10),
                              bounds in proptest::collection::vec((lex_bound(), lex_bound(), any::<bool>(), -1i64..4, -1i64..4), 1..10)) {
        let mut z = TairZset::new(1).unwrap();
        let mut m: Vec<Vec<u8>> = Vec::new();
        for k in &members {
            z.add(k, &[0.0], AddCondition::Always, false).unwrap();
            if !m.contains(k) { m.push(k.clone()); }
        }
        for k in &removes {
            z.remove(k);
            m.retain(|x| x != k);
        }
        m.sort();
        for (a, b, reverse, offset, count) in &bounds {
            let r = LexRange::parse(a, b).unwrap();
            let mut want: Vec<&[u8]> = m.iter().filter(|k| !r.below_min(k) && r.within_max(k)).map(|k| &k[..]).collect();
            prop_assert_eq!(z.count_in_lex(&r), want.len());
            if *reverse { want.reverse(); }
            let limit = Some(Limit { offset: *offset, count: *count });
            let want: Vec<&[u8]> = if *offset < 0 || *count == 0 { vec![] } else {
                want.into_iter().skip(*offset as usize).take(if *count < 0 { usize::MAX } else { *count as usize }).collect()
            };
            let got: Vec<&[u8]> = z.iter_span(z.lex_span(&r, *reverse, limit)).map(|e| e.0).collect();
            prop_assert_eq!(got, want);
        }
        let before = z.len();
        let r = LexRange::parse(b"[a", b"(b").unwrap();
        let n = z.remove_span(z.lex_span(&r, false, None));
        prop_assert_eq!(z.len(), before - n);
        z.check().unwrap();
    }

    #[test]
    fn set_operations_match_model(a in proptest::collection::vec((member(), score2()), 0..20),
                                  b in proptest::collection::vec((member(), score2()), 0..20),
                                  wa in proptest::sample::select(&VALUES[..]), wb in -2.0f64..2.0,
                                  how in 0usize..3) {
        let how = [Aggregate::Sum, Aggregate::Min, Aggregate::Max][how];
        let build = |pairs: &Vec<(Vec<u8>, Vec<f64>)>| {
            let mut z = TairZset::new(2).unwrap();
            for (k, s) in pairs { z.add(k, s, AddCondition::Always, false).unwrap(); }
            z
        };
        let (za, zb) = (build(&a), build(&b));
        let fix = |v: f64| if v.is_nan() { 0.0 } else { v };
        let weigh = |s: &[f64], w: f64| -> Vec<f64> { s.iter().map(|x| fix(x * w)).collect() };
        let agg = |x: Vec<f64>, y: Vec<f64>| -> Vec<f64> {
            match how {
                Aggregate::Sum => x.iter().zip(&y).map(|(p, q)| fix(p + q)).collect(),
                Aggregate::Min => if score::compare(&y, &x) == Ordering::Less { y } else { x },
                Aggregate::Max => if score::compare(&y, &x) == Ordering::Greater { y } else { x },
            }
        };
        let mut union: Model = Vec::new();
        let mut inter: Model = Vec::new();
        let mut diff: Model = Vec::new();
        for (k, s) in za.iter() {
            let ws = weigh(&s, wa);
            match zb.score(k) {
                Some(t) => {
                    let v = agg(ws, weigh(&t, wb));
                    union.push((k.to_vec(), v.clone()));
                    inter.push((k.to_vec(), v));
                }
                None => {
                    union.push((k.to_vec(), ws));
                    diff.push((k.to_vec(), s.to_vec()));
                }
            }
        }
        for (k, t) in zb.iter() {
            if za.score(k).is_none() { union.push((k.to_vec(), weigh(&t, wb))); }
        }
        for list in [&mut union, &mut inter, &mut diff] { model_sort(list); }
        let inputs = [Some(&za), Some(&zb)];
        let check = |got: Option<TairZset>, want: &Model| {
            let got: Model = got.map(|z| { z.check().unwrap(); z.iter().map(|(k, s)| (k.to_vec(), s.to_vec())).collect() }).unwrap_or_default();
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert!(g.0 == w.0 && score::equal(&g.1, &w.1), "{g:?} vs {w:?}");
            }
        };
        check(setops::union(&inputs, &[wa, wb], how).unwrap(), &union);
        check(setops::inter(&inputs, &[wa, wb], how).unwrap(), &inter);
        check(setops::diff(&inputs).unwrap(), &diff);
        prop_assert_eq!(setops::inter_card(&inputs, 0).unwrap(), inter.len());
        prop_assert_eq!(setops::inter_card(&inputs, 2).unwrap(), inter.len().min(2));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn larger_sets_match_model(seed in any::<u64>()) {
        // Thousands of members over a few hundred distinct scores: deep trees, splits and merges.
        use rand::Rng;
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut z = TairZset::new(2).unwrap();
        let mut m: Model = Vec::new();
        for _ in 0..6000 {
            let member = rng.gen_range(0u32..3000).to_be_bytes().to_vec();
            let score = vec![f64::from(rng.gen_range(-5i32..5)), f64::from(rng.gen_range(0i32..3))];
            let op = if rng.gen_bool(0.7) {
                Op::Add { member, score, cond: 0, incr: rng.gen_bool(0.3) }
            } else if rng.gen_bool(0.98) {
                Op::Remove(member)
            } else {
                Op::RemoveRanks(rng.gen_range(-3000..3000), rng.gen_range(-3000..3000))
            };
            apply(&mut z, &mut m, &op);
        }
        let queries = vec![
            ("-1".to_string(), "(2".to_string(), false, 3, 50),
            ("(0#1".to_string(), "+inf".to_string(), true, 0, -1),
            ("-inf".to_string(), "1#0".to_string(), false, -1, -1),
        ];
        compare_all(&z, &m, &queries);
    }
}

#[path = "encoding_tests.rs"]
mod encoding_tests;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The builder (small path, big path, and the move from one to the other at the thresholds) gives
    /// the set a model gives, in the encoding the thresholds ask for, whatever the capacity hint; a
    /// duplicate member fails the build.
    #[test]
    fn builder_matches_model(
        members in proptest::collection::vec((0u16..400, 0u8..40, 0i8..6), 0..300),
        hint in 0usize..400,
    ) {
        let mut b = ZsetBuilder::new(1, hint).unwrap();
        let mut model: std::collections::BTreeMap<Vec<u8>, f64> = Default::default();
        let mut dup = false;
        for (m, len, s) in &members {
            // member lengths up to 80, past the default 64-byte threshold now and then
            let name: Vec<u8> = format!("{m:05}").into_bytes().into_iter().cycle().take(5 + usize::from(*len) * 2).collect();
            let score = f64::from(*s);
            if model.insert(name.clone(), score).is_some() {
                dup = true;
            }
            if b.push(&name, &[score]).is_err() {
                // the big builder refuses a duplicate at once
                prop_assert!(dup);
                return Ok(());
            }
        }
        match b.finish() {
            Err(e) => prop_assert!(dup, "{:?}", e),
            Ok(z) => {
                prop_assert!(!dup);
                z.check().unwrap();
                let mut want: Vec<(f64, Vec<u8>)> = model.into_iter().map(|(m, s)| (s, m)).collect();
                want.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
                let got: Vec<(f64, Vec<u8>)> = z.iter().map(|(m, s)| (s.first().copied().unwrap_or(f64::NAN), m.to_vec())).collect();
                prop_assert_eq!(&got, &want);
                let compact_wanted = want.len() <= encoding::max_entries()
                    && want.iter().all(|(_, m)| m.len() <= encoding::max_value());
                prop_assert_eq!(z.is_compact(), compact_wanted);
            }
        }
    }
}
