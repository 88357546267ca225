//! Both encodings driven by the same random command sequences against one model, compared after every
//! step, across the compact → big conversion (by member count and by member length).

use super::*;
use crate::encoding::{DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE};

/// Short members, numbered ones (enough to pass the entry threshold) and long ones (past the value
/// threshold).
fn any_member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => member(),
        12 => (0u32..180).prop_map(|i| format!("m{i}").into_bytes()),
        1 => (0u8..4, DEFAULT_MAX_VALUE - 2..DEFAULT_MAX_VALUE + 3)
            .prop_map(|(c, n)| vec![b'a' + c; n]),
    ]
}

fn wide_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        16 => (any_member(), score2(), 0u8..3, proptest::bool::weighted(0.2))
            .prop_map(|(member, score, cond, incr)| Op::Add { member, score, cond, incr }),
        3 => any_member().prop_map(Op::Remove),
        1 => (-8i64..8, -8i64..8).prop_map(|(a, b)| Op::RemoveRanks(a, b)),
        1 => (bound_text(), bound_text()).prop_map(|(a, b)| Op::RemoveScores(a, b)),
        1 => (0usize..4, any::<bool>()).prop_map(|(n, max)| Op::Pop(n, max)),
    ]
}

fn entries_of(z: &TairZset) -> Vec<(Vec<u8>, Vec<u64>)> {
    z.iter()
        .map(|(m, s)| (m.to_vec(), s.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// Runs `ops` on a compact and a big value and the model; returns whether the compact one converted
/// (because of the member count, because of a member's length).
fn drive(ops: &[Op], queries: &[(String, String, bool, i64, i64)]) -> (bool, bool) {
    let mut small = TairZset::new(2).unwrap();
    let mut big = TairZset::new_big(2).unwrap();
    assert!(small.is_compact() && !big.is_compact());
    let (mut ms, mut mb): (Model, Model) = (Vec::new(), Vec::new());
    let (mut by_count, mut by_len) = (false, false);
    for op in ops {
        let was_compact = small.is_compact();
        apply(&mut small, &mut ms, op);
        apply(&mut big, &mut mb, op);
        assert_eq!(&ms, &mb);
        // The compact value converts exactly when it must hold more than the thresholds allow.
        if was_compact {
            by_count |= ms.len() > DEFAULT_MAX_ENTRIES;
            by_len |= ms.iter().any(|(m, _)| m.len() > DEFAULT_MAX_VALUE);
        }
        assert_eq!(small.is_compact(), !(by_count || by_len), "after {op:?}");
        // Bit-exact: the compact encoding keeps -0, halves and infinities as the big one does.
        assert_eq!(entries_of(&small), entries_of(&big));
        compare_all(&small, &ms, queries);
        compare_all(&big, &mb, queries);
    }
    assert!(!big.is_compact());
    (by_count, by_len)
}

#[test]
fn seeded_runs_cross_both_thresholds() {
    use rand::Rng;
    let (mut count, mut len) = (0, 0);
    for seed in 0..12u64 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let ops: Vec<Op> = (0..700)
            .map(|_| {
                let i = rng.gen_range(0u32..200);
                let member = if seed % 2 == 1 && rng.gen_ratio(1, 150) {
                    vec![b'L'; DEFAULT_MAX_VALUE + 1]
                } else {
                    format!("m{i}").into_bytes()
                };
                let score = vec![f64::from(rng.gen_range(-3i32..3)) * 0.5, f64::from(i % 3)];
                match rng.gen_range(0..20) {
                    0..=16 => Op::Add {
                        member,
                        score,
                        cond: rng.gen_range(0..2),
                        incr: rng.gen_bool(0.2),
                    },
                    17..=18 => Op::Remove(member),
                    _ if rng.gen_ratio(1, 4) => {
                        Op::RemoveRanks(rng.gen_range(-5..5), rng.gen_range(-5..5))
                    }
                    _ => Op::Pop(rng.gen_range(0..3), rng.gen_bool(0.5)),
                }
            })
            .collect();
        let queries = vec![("-1".to_string(), "(1".to_string(), seed % 2 == 0, 1, 5)];
        let (c, l) = drive(&ops, &queries);
        count += usize::from(c);
        len += usize::from(l);
    }
    assert!(
        count > 0 && len > 0,
        "conversions by count {count}, by length {len}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn compact_and_big_match_one_model(ops in proptest::collection::vec(wide_op(), 0..500),
                                       queries in proptest::collection::vec(query(), 0..8)) {
        drive(&ops, &queries);
    }

    #[test]
    fn builder_picks_the_encoding_by_size(n in 0usize..(DEFAULT_MAX_ENTRIES + 20), long in any::<bool>()) {
        let mut b = ZsetBuilder::new(1, n).unwrap();
        for i in 0..n {
            let mut m = format!("k{i}").into_bytes();
            if long && i == n / 2 {
                m.resize(DEFAULT_MAX_VALUE + 1, b'x');
            }
            b.push(&m, &[(i % 7) as f64 - 3.5]).unwrap();
        }
        let z = b.finish().unwrap();
        z.check().unwrap();
        prop_assert_eq!(z.len(), n);
        prop_assert_eq!(z.is_compact(), n <= DEFAULT_MAX_ENTRIES && !(long && n > 0));
    }
}

#[test]
fn compact_scan_returns_everything_at_once() {
    let z = set_of(&[
        ("1#1.1", "foo"),
        ("2#2.2", "fab"),
        ("3#3.3", "fiz"),
        ("10#9.9", "foobar"),
    ]);
    assert!(z.is_compact());
    for cursor in [0, 7, u64::MAX] {
        let mut seen = Vec::new();
        assert_eq!(z.scan(cursor, 1, |m, s| seen.push((m.to_vec(), fmt(s)))), 0);
        assert_eq!(seen.len(), 4);
    }
}

#[test]
fn compact_memory_is_a_few_bytes_per_member() {
    let mut z = TairZset::new(1).unwrap();
    z.add(b"m", &[1.0], AddCondition::Always, false).unwrap();
    // dims, count, length, then score 1 (one byte), member length 1, "m".
    assert_eq!(z.heap_bytes(), 8);
    z.add(b"n", &[1_703_000_000.0], AddCondition::Always, false)
        .unwrap();
    assert_eq!(z.heap_bytes(), 8 + 5 + 2);
    let clone = z.clone();
    assert_eq!(clone.mem_usage(), z.mem_usage());
    assert!(clone.is_compact());
}

#[test]
fn conversion_counts_and_member_totals_move() {
    use crate::encoding;
    let before = encoding::conversions();
    let mut z = TairZset::new(1).unwrap();
    z.add(
        &[b'x'; DEFAULT_MAX_VALUE + 1],
        &[1.0],
        AddCondition::Always,
        false,
    )
    .unwrap();
    assert!(!z.is_compact());
    assert!(encoding::conversions() > before);
}

#[test]
fn with_first_equals_new_then_add() {
    let long = [b'q'; DEFAULT_MAX_VALUE + 1];
    for (member, score) in [
        (&b"m"[..], vec![-0.0, 1.5]),
        (b"", vec![f64::INFINITY, -1e300]),
        (&long[..], vec![1.0, 2.0]),
    ] {
        let a = TairZset::with_first(member, &score).unwrap();
        let mut b = TairZset::new(2).unwrap();
        b.add(member, &score, AddCondition::Always, false).unwrap();
        a.check().unwrap();
        assert_eq!(entries_of(&a), entries_of(&b));
        assert_eq!(a.is_compact(), b.is_compact());
        assert_eq!(a.mem_usage(), b.mem_usage());
    }
    assert!(TairZset::with_first(b"m", &[f64::NAN]).is_err());
    assert!(TairZset::with_first(b"m", &[]).is_err());
}

#[test]
fn wide_scores_convert_before_the_buffer_passes_64k() {
    let mut small = TairZset::new(255).unwrap();
    let mut big = TairZset::new_big(255).unwrap();
    let mut converted_at = None;
    for i in 0..100u32 {
        let score: Vec<f64> = (0..255)
            .map(|d| f64::from(i) + f64::from(d) / 7.0)
            .collect();
        let m = format!("member-{i}");
        small
            .add(m.as_bytes(), &score, AddCondition::Always, false)
            .unwrap();
        big.add(m.as_bytes(), &score, AddCondition::Always, false)
            .unwrap();
        if converted_at.is_none() && !small.is_compact() {
            converted_at = Some(i);
        }
        small.check().unwrap();
        if small.is_compact() {
            assert!(small.heap_bytes() <= crate::compact::MAX_BYTES);
        }
    }
    // Up to 2.3 KB per member: the 64 KB buffer fills long before 128 members.
    assert!(
        converted_at.is_some_and(|i| (20..40).contains(&i)),
        "{converted_at:?}"
    );
    assert_eq!(entries_of(&small), entries_of(&big));
    // The builder makes the same choice.
    let mut b = ZsetBuilder::new(255, 40).unwrap();
    for (m, s) in big.iter() {
        b.push(m, &s).unwrap();
    }
    assert!(!b.finish().unwrap().is_compact());
}
