#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use super::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert(u32),
    Remove(usize),
    Bulk(Vec<u32>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u32..5_000).prop_map(Op::Insert),
        4 => any::<usize>().prop_map(Op::Remove),
        1 => proptest::collection::vec(0u32..5_000, 0..300).prop_map(Op::Bulk),
    ]
}

/// Applies ops to a tree whose handles are their own keys and to a sorted Vec model, checking both agree.
fn run<const L: usize, const I: usize>(ops: &[Op], append_runs: bool) {
    let mut tree = RankTree::<L, I>::new();
    let mut idx: Vec<u32> = Vec::new();
    let mut model: Vec<u32> = Vec::new();
    for op in ops {
        match op {
            Op::Insert(k) => {
                let keys: Vec<u32> = if append_runs {
                    (0..40).map(|d| k * 100 + d).collect()
                } else {
                    vec![*k]
                };
                for k in keys {
                    let rank = model.partition_point(|&x| x < k);
                    if model.get(rank) == Some(&k) {
                        continue;
                    }
                    assert_eq!(tree.partition_point(|h| h < k), rank);
                    assert!(tree.insert_at(rank, k, &mut idx));
                    model.insert(rank, k);
                }
            }
            Op::Remove(r) => {
                if model.is_empty() {
                    assert_eq!(tree.remove_at(0, &mut idx), None);
                    continue;
                }
                let rank = r % model.len();
                let k = model.remove(rank);
                assert_eq!(tree.rank_of(k, &idx), Some(rank));
                assert_eq!(tree.remove_at(rank, &mut idx), Some(k));
                assert_eq!(tree.rank_of(k, &idx), None);
            }
            Op::Bulk(keys) => {
                let mut keys = keys.clone();
                keys.sort_unstable();
                keys.dedup();
                idx = Vec::new();
                tree = RankTree::from_sorted(&keys, &mut idx).unwrap();
                model = keys;
            }
        }
        tree.check(&idx).unwrap();
        assert_eq!(tree.len(), model.len());
    }
    let all: Vec<u32> = tree.iter_range(0, tree.len(), false).collect();
    assert_eq!(all, model);
    let mut rev: Vec<u32> = tree.iter_range(0, tree.len(), true).collect();
    rev.reverse();
    assert_eq!(rev, model);
    for (rank, &k) in model.iter().enumerate() {
        assert_eq!(tree.rank_of(k, &idx), Some(rank));
        assert_eq!(tree.get(rank), Some(k));
        assert_eq!(tree.partition_point(|h| h < k), rank);
        assert_eq!(tree.partition_point(|h| h <= k), rank + 1);
    }
    assert_eq!(tree.get(model.len()), None);
    let n = model.len();
    for (a, b) in [(0, n), (n / 3, n / 2), (1, n + 5), (n / 2, n / 3)] {
        let want: Vec<u32> = model
            .get(a..b.min(n))
            .map(<[u32]>::to_vec)
            .unwrap_or_default();
        assert_eq!(tree.iter_range(a, b, false).collect::<Vec<_>>(), want);
        let mut back: Vec<u32> = tree.iter_range(a, b, true).collect();
        back.reverse();
        assert_eq!(back, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn tiny_nodes_match_model(ops in proptest::collection::vec(op(), 0..400)) {
        run::<4, 4>(&ops, false);
    }

    #[test]
    fn tiny_nodes_sequential_runs(ops in proptest::collection::vec(op(), 0..60)) {
        run::<4, 5>(&ops, true);
    }

    #[test]
    fn default_nodes_match_model(ops in proptest::collection::vec(op(), 0..800)) {
        run::<32, 32>(&ops, false);
    }
}

#[test]
fn empty_tree() {
    let mut idx: Vec<u32> = Vec::new();
    let mut t = RankTree::<4, 4>::new();
    assert_eq!(t.get(0), None);
    assert_eq!(t.remove_at(0, &mut idx), None);
    assert!(!t.insert_at(1, 5, &mut idx));
    assert_eq!(t.partition_point(|_| true), 0);
    assert_eq!(t.iter_range(0, 10, false).count(), 0);
    assert_eq!(t.iter_range(0, 10, true).count(), 0);
    t.check(&idx).unwrap();
    assert_eq!(
        RankTree::<4, 4>::from_sorted(&[], &mut idx).unwrap().len(),
        0
    );
}

#[test]
fn sequential_appends_fill_leaves() {
    let mut idx: Vec<u32> = Vec::new();
    let mut t = RankTree::<32, 32>::new();
    for k in 0..100_000u32 {
        assert!(t.insert_at(k as usize, k, &mut idx));
    }
    t.check(&idx).unwrap();
    // ~100% leaf use: 4 bytes per handle plus the leaf header, inner nodes and Vec slack.
    let per = t.heap_bytes() as f64 / 100_000.0;
    assert!(per < 7.0, "{per} bytes per handle");
    for k in (0..100_000u32).rev() {
        assert!(t.insert_at(0, 200_000 + k, &mut idx));
    }
    t.check(&idx).unwrap();
    while !t.is_empty() {
        let r = t.len() / 2;
        t.remove_at(r, &mut idx).unwrap();
        if t.len().is_multiple_of(997) {
            t.check(&idx).unwrap();
        }
    }
    t.check(&idx).unwrap();
}
