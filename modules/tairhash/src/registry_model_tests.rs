//! The registries with the rules the server glue follows (`access::restamp`, `access::register_anew`,
//! `cycle::expire_db`, `cycle::compact`), driven against a model keyspace of two databases whose
//! values are reduced to what the registry sees: an earliest due time and a stamp. Writes, deletes
//! (stale entries), renames (also onto a key), moves, copies, SWAPDB, FLUSHDB, active-expiry cycles
//! and compactions in any order; after every step:
//!
//! - every value with an expiring field has a stamp no later than its earliest due time's bucket and
//!   a valid entry `(stamp, key)` in its database's registry (so active expiry will meet it in time);
//!   a value without one has no stamp;
//! - a cycle at `t` leaves no key whose earliest bucket ended by `t` (nothing due is missed), and acts
//!   only on valid entries;
//! - after a complete compaction every entry is valid, so the entries are at most the stamped values
//!   (each valid entry names a distinct stamped value, duplicates aside, which compaction also drops).

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;

use super::{restamp, State};
use crate::registry::{bucket_end, bucket_of};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Val {
    earliest: Option<u64>,
    stamp: Option<u64>,
}

type Keyspace = [BTreeMap<u8, Val>; 2];

fn state() -> State {
    State {
        regs: Vec::new(),
        compaction: None,
        counters: BTreeMap::new(),
        cycle: super::CycleStats::default(),
        dbnum: 2,
        async_loading: false,
    }
}

/// `access::restamp`.
fn write_rule(s: &mut State, db: usize, k: u8, v: &mut Val) {
    if let Some(stamp) = restamp(v.stamp, v.earliest) {
        v.stamp = stamp;
        if let Some(b) = stamp {
            s.push(db, b, &[k]);
        }
    }
}

/// `access::register_anew`.
fn anew(s: &mut State, db: usize, k: u8, v: &mut Val) {
    match v.earliest.map(bucket_of) {
        Some(b) => {
            v.stamp = Some(b);
            s.push(db, b, &[k]);
        }
        None => v.stamp = None,
    }
}

fn valid(ks: &Keyspace, db: usize, bucket: u64, key: &[u8]) -> bool {
    match key {
        [k] => ks[db].get(k).is_some_and(|v| v.stamp == Some(bucket)),
        _ => false,
    }
}

/// `cycle::expire_db` for every database, at threshold `t`, taking `batch` entries at a time: a key
/// whose earliest due time is `<= t` loses its expiring fields (here: the key is deleted, as when the
/// last field goes), another is registered anew.
fn cycle(s: &mut State, ks: &mut Keyspace, t: u64, batch: usize) {
    for db in 0..2 {
        while let Some((bucket, keys)) = s.take_due(db, t, batch) {
            assert!(bucket_end(bucket) <= t);
            for key in keys {
                if !valid(ks, db, bucket, &key) {
                    continue;
                }
                let k = key[0];
                let mut v = ks[db][&k];
                if v.earliest.is_some_and(|e| e <= t) {
                    ks[db].remove(&k);
                } else {
                    anew(s, db, k, &mut v);
                    ks[db].insert(k, v);
                }
            }
        }
    }
    for (db, space) in ks.iter().enumerate() {
        for (k, v) in space {
            if let Some(e) = v.earliest {
                assert!(
                    bucket_end(bucket_of(e)) > t,
                    "db {db} key {k} due {e} missed at {t}"
                );
            }
        }
    }
}

/// `cycle::compact` run to its end (no time budget).
fn compact_all(s: &mut State, ks: &Keyspace, batch: usize) {
    s.start_compaction();
    while let Some((db, bucket, keys)) = s.compact_batch(batch) {
        for k in keys {
            if valid(ks, db, bucket, &k) {
                s.push(db, bucket, &k);
            }
        }
    }
    let mut seen = HashSet::new();
    for db in 0..2 {
        if let Some(r) = s.regs.get(db) {
            for (b, k) in r.iter() {
                assert!(
                    valid(ks, db, b, k),
                    "stale entry ({b}, {k:?}) kept in db {db}"
                );
                seen.insert((db, b, k.to_vec()));
            }
        }
    }
    let live = ks
        .iter()
        .flat_map(|s| s.values())
        .filter(|v| v.stamp.is_some())
        .count();
    assert!(seen.len() <= live);
}

fn check(s: &State, ks: &Keyspace) {
    for (db, space) in ks.iter().enumerate() {
        let entries: HashSet<(u64, Vec<u8>)> = s
            .regs
            .get(db)
            .map(|r| r.iter().map(|(b, k)| (b, k.to_vec())).collect())
            .unwrap_or_default();
        for (&k, v) in space {
            match (v.earliest, v.stamp) {
                (None, None) => {}
                (Some(e), Some(st)) => {
                    assert!(
                        st <= bucket_of(e),
                        "db {db} key {k}: stamp {st} after due {e}"
                    );
                    assert!(
                        entries.contains(&(st, vec![k])),
                        "db {db} key {k}: no entry at {st}"
                    );
                }
                other => panic!("db {db} key {k}: earliest/stamp {other:?}"),
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// A write leaving the key's earliest due time at this (None: no expiring field).
    Write(usize, u8, Option<u64>),
    Delete(usize, u8),
    Rename(usize, u8, u8),
    Move(usize, u8),
    Copy(usize, u8, u8),
    Swap,
    Flush(usize),
    Cycle(u64, usize),
    Compact(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let db = 0usize..2;
    let key = 0u8..10;
    prop_oneof![
        8 => (db.clone(), key.clone(), proptest::option::weighted(0.8, 0u64..2_000))
            .prop_map(|(d, k, t)| Op::Write(d, k, t)),
        2 => (db.clone(), key.clone()).prop_map(|(d, k)| Op::Delete(d, k)),
        2 => (db.clone(), key.clone(), key.clone()).prop_map(|(d, a, b)| Op::Rename(d, a, b)),
        1 => (db.clone(), key.clone()).prop_map(|(d, k)| Op::Move(d, k)),
        1 => (db.clone(), key.clone(), key.clone()).prop_map(|(d, a, b)| Op::Copy(d, a, b)),
        1 => Just(Op::Swap),
        1 => db.clone().prop_map(Op::Flush),
        2 => (0u64..2_500, 1usize..4).prop_map(|(t, n)| Op::Cycle(t, n)),
        1 => (1usize..4).prop_map(Op::Compact),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn registries_follow_the_keyspace(ops in proptest::collection::vec(op(), 1..150)) {
        let mut s = state();
        let mut ks: Keyspace = [BTreeMap::new(), BTreeMap::new()];
        for op in ops {
            match op {
                Op::Write(db, k, earliest) => {
                    let mut v = ks[db].get(&k).copied().unwrap_or_default();
                    v.earliest = earliest;
                    write_rule(&mut s, db, k, &mut v);
                    ks[db].insert(k, v);
                }
                Op::Delete(db, k) => {
                    ks[db].remove(&k);
                }
                Op::Rename(db, a, b) => {
                    if let Some(mut v) = ks[db].remove(&a) {
                        anew(&mut s, db, b, &mut v);
                        ks[db].insert(b, v);
                    }
                }
                Op::Move(from, k) => {
                    let to = 1 - from;
                    if !ks[to].contains_key(&k) {
                        if let Some(mut v) = ks[from].remove(&k) {
                            anew(&mut s, to, k, &mut v);
                            ks[to].insert(k, v);
                        }
                    }
                }
                Op::Copy(db, a, b) => {
                    if let (Some(v), true) = (ks[db].get(&a).copied(), a != b) {
                        // A copy starts without a stamp; COPY ... REPLACE overwrites.
                        let mut c = Val { earliest: v.earliest, stamp: None };
                        anew(&mut s, db, b, &mut c);
                        ks[db].insert(b, c);
                    }
                }
                Op::Swap => {
                    s.swap(0, 1);
                    ks.swap(0, 1);
                }
                Op::Flush(db) => {
                    s.flush(Some(db));
                    ks[db].clear();
                }
                Op::Cycle(t, batch) => cycle(&mut s, &mut ks, t, batch),
                Op::Compact(batch) => compact_all(&mut s, &ks, batch),
            }
            check(&s, &ks);
        }
    }
}

/// Compaction starts only past twice the live values plus the slack, and a compaction interleaved
/// with writes to the bucket it walks still ends, checking each entry present when it got there once.
#[test]
fn compaction_threshold_and_interleaving() {
    let mut s = state();
    let slack = super::COMPACT_SLACK;
    for i in 0..(slack + 10) {
        s.push(0, 7, format!("k{i}").as_bytes());
    }
    assert!(!s.compaction_due(10_000));
    assert!(s.compaction_due(4));
    let (mut checked, mut kept, mut rounds) = (0, 0, 0);
    while let Some((db, bucket, keys)) = s.compact_batch(100) {
        assert_eq!((db, bucket), (0, 7));
        checked += keys.len();
        // Keep every other entry, and a new write lands in the same bucket meanwhile.
        for k in keys.iter().step_by(2) {
            s.push(db, bucket, k);
            kept += 1;
        }
        s.push(0, 7, b"new");
        rounds += 1;
        assert!(rounds < 1_000);
    }
    assert_eq!(checked, slack + 10);
    assert_eq!(s.entries(), kept + rounds);
    assert!(!s.compaction_due(1_000_000));
}
