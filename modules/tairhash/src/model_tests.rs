//! Property tests: the hash and its expiry index against a brute-force model under random writes,
//! deletes, expiry changes, time advances and expiry removal.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use crate::hash::TairHash;
use crate::options::*;
use tair_common::rdb::{SliceSource, VecSink};

#[derive(Clone, Debug, PartialEq)]
struct M {
    value: Vec<u8>,
    version: u64,
    at: Option<u64>,
    due: u64,
}

#[derive(Default)]
struct Model {
    fields: BTreeMap<Vec<u8>, M>,
}

fn written(at: u64, now: u64) -> (u64, u64) {
    let at = at.clamp(1, MAX_EXPIRE_MS);
    (at, if at <= now { now } else { at })
}

impl Model {
    fn live(&self, n: &[u8], now: u64) -> Option<&M> {
        self.fields.get(n).filter(|m| m.at.is_none_or(|t| t > now))
    }

    fn next_version(cur: Option<u64>, rule: VersionRule) -> Result<u64, HashError> {
        match (rule, cur) {
            (VersionRule::Ver(v), Some(c)) if v != 0 && v != c => {
                return Err(HashError::VersionStale)
            }
            (VersionRule::Gt(v), Some(c)) if v <= c => return Err(HashError::VersionStale),
            _ => {}
        }
        match rule {
            VersionRule::Abs(v) | VersionRule::Gt(v) => Ok(v.max(1)),
            _ => match cur {
                None => Ok(1),
                Some(c) if c >= MAX_VERSION => Err(HashError::VersionOverflow),
                Some(c) => Ok(c + 1),
            },
        }
    }

    fn expiry(&self, n: &[u8], change: ExpiryChange, now: u64) -> (Option<u64>, u64) {
        match change {
            ExpiryChange::Clear => (None, 0),
            ExpiryChange::Keep => self
                .live(n, now)
                .and_then(|m| m.at.map(|a| (Some(a), m.due)))
                .unwrap_or((None, 0)),
            ExpiryChange::At(t) => {
                let (a, d) = written(t, now);
                (Some(a), d)
            }
        }
    }

    fn set(
        &mut self,
        n: &[u8],
        v: &[u8],
        o: SetOptions,
        now: u64,
    ) -> Result<SetOutcome, HashError> {
        let live = self.live(n, now).cloned();
        match o.condition {
            Condition::IfAbsent if live.is_some() => return Ok(SetOutcome::Skipped),
            Condition::IfPresent if live.is_none() => return Ok(SetOutcome::Skipped),
            _ => {}
        }
        let version = Self::next_version(live.as_ref().map(|m| m.version), o.version)?;
        let (at, due) = self.expiry(n, o.expiry, now);
        self.fields.insert(
            n.to_vec(),
            M {
                value: v.to_vec(),
                version,
                at,
                due,
            },
        );
        Ok(SetOutcome::Written(Written {
            created: live.is_none(),
            version,
            expiry: at,
        }))
    }

    /// (name, due) of the entries due at `threshold`, in (due, name) order.
    fn due(&self, threshold: u64) -> Vec<Vec<u8>> {
        let mut v: Vec<(u64, Vec<u8>)> = self
            .fields
            .iter()
            .filter(|(_, m)| m.at.is_some() && m.due <= threshold)
            .map(|(k, m)| (m.due, k.clone()))
            .collect();
        v.sort();
        v.into_iter().map(|(_, k)| k).collect()
    }
}

#[derive(Clone, Debug)]
enum Op {
    Set(usize, u8, SetOptions),
    Mset(Vec<(usize, u8)>),
    MsetOpts(Vec<(usize, u8, u64, Option<u64>)>),
    ExpireAt(usize, u64, VersionRule),
    Persist(usize),
    SetVer(usize, u64),
    Incr(usize, i64, ExpiryChange),
    Delete(usize),
    DeleteVer(usize, u64),
    RemoveExpired(usize),
    PopDue(u64, usize),
    Advance(u64),
    Reload,
}

const NAMES: [&[u8]; 7] = [
    b"",
    b"a",
    b"b",
    b"field-0001",
    b"f\0x",
    b"longer field name....",
    b"z",
];

fn name() -> impl Strategy<Value = usize> {
    0..NAMES.len()
}

/// Offsets around the current time (applied in `run`), 0 meaning literal time 0.
fn time() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 1u64..400, Just(u64::MAX)]
}

fn rule() -> impl Strategy<Value = VersionRule> {
    prop_oneof![
        3 => Just(VersionRule::Bump),
        1 => (0u64..4).prop_map(VersionRule::Ver),
        1 => prop_oneof![1u64..6, Just(MAX_VERSION)].prop_map(VersionRule::Abs),
        1 => (1u64..8).prop_map(VersionRule::Gt),
    ]
}

fn expiry() -> impl Strategy<Value = ExpiryChange> {
    prop_oneof![
        Just(ExpiryChange::Clear),
        Just(ExpiryChange::Keep),
        time().prop_map(ExpiryChange::At)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let cond = prop_oneof![
        Just(Condition::Always),
        Just(Condition::IfAbsent),
        Just(Condition::IfPresent)
    ];
    let set_opts = (cond, rule(), expiry()).prop_map(|(condition, version, expiry)| SetOptions {
        condition,
        version,
        expiry,
    });
    prop_oneof![
        6 => (name(), any::<u8>(), set_opts).prop_map(|(n, v, o)| Op::Set(n, v, o)),
        1 => proptest::collection::vec((name(), any::<u8>()), 1..4).prop_map(Op::Mset),
        1 => proptest::collection::vec((name(), any::<u8>(), 0u64..3, proptest::option::of(time())), 1..4)
            .prop_map(Op::MsetOpts),
        3 => (name(), time(), rule()).prop_map(|(n, t, r)| Op::ExpireAt(n, t, r)),
        1 => name().prop_map(Op::Persist),
        1 => (name(), prop_oneof![1u64..5, Just(MAX_VERSION)]).prop_map(|(n, v)| Op::SetVer(n, v)),
        1 => (name(), -3i64..3, expiry()).prop_map(|(n, d, e)| Op::Incr(n, d, e)),
        2 => name().prop_map(Op::Delete),
        1 => (name(), 0u64..3).prop_map(|(n, v)| Op::DeleteVer(n, v)),
        1 => name().prop_map(Op::RemoveExpired),
        2 => (0u64..300, 0usize..4).prop_map(|(t, m)| Op::PopDue(t, m)),
        3 => (0u64..150).prop_map(Op::Advance),
        1 => Just(Op::Reload),
    ]
}

/// Resolves a generated time: 0 and MAX stay, others are offsets around `now` (past ones included).
fn at(t: u64, now: u64) -> u64 {
    match t {
        0 | u64::MAX => t,
        t => (now + t).saturating_sub(100),
    }
}

fn check(h: &TairHash, m: &Model, now: u64) {
    h.check_invariants();
    // A compact value never holds more than the thresholds allow (the first write past them converts).
    if h.is_compact() {
        let t = crate::compact::Thresholds::max_entries();
        assert!(h.len() <= t, "compact with {} > {t} fields", h.len());
        let v = crate::compact::Thresholds::max_value();
        assert!(h.iter().all(|f| f.name.len() <= v && f.value.len() <= v));
    }
    assert_eq!(h.len(), m.fields.len());
    let live = m
        .fields
        .values()
        .filter(|f| f.at.is_none_or(|t| t > now))
        .count();
    assert_eq!(h.len_live(now), live);
    assert_eq!(
        h.expiring_len(),
        m.fields.values().filter(|f| f.at.is_some()).count()
    );
    assert_eq!(
        h.earliest_due(),
        m.fields
            .values()
            .filter(|f| f.at.is_some())
            .map(|f| f.due)
            .min()
    );
    for n in NAMES {
        let want = m.live(n, now).map(|f| (f.value.clone(), f.version, f.at));
        let got = h
            .get(n, now)
            .map(|f| (f.value.to_vec(), f.version, f.expiry));
        assert_eq!(got, want, "field {n:?}");
        let ttl = match m.live(n, now) {
            None => FieldTtl::Absent,
            Some(M { at: None, .. }) => FieldTtl::Persistent,
            Some(M { at: Some(t), .. }) => FieldTtl::Remaining(t - now),
        };
        assert_eq!(h.ttl(n, now), ttl);
    }
    let stored: BTreeMap<Vec<u8>, (Vec<u8>, u64, Option<u64>)> = h
        .iter()
        .map(|f| (f.name.to_vec(), (f.value.to_vec(), f.version, f.expiry)))
        .collect();
    let model: BTreeMap<Vec<u8>, (Vec<u8>, u64, Option<u64>)> = m
        .fields
        .iter()
        .map(|(k, f)| (k.clone(), (f.value.clone(), f.version, f.at)))
        .collect();
    assert_eq!(stored, model);
    // A full scan with a small COUNT returns every live field and reports every expired one.
    let (mut seen, mut expired, mut cursor) = (BTreeSet::new(), BTreeSet::new(), 0);
    loop {
        let page = h.scan(cursor, 2, now);
        seen.extend(page.fields.iter().map(|f| f.name.to_vec()));
        expired.extend(page.expired);
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    let live_names: BTreeSet<Vec<u8>> = m
        .fields
        .iter()
        .filter(|(_, f)| f.at.is_none_or(|t| t > now))
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(seen, live_names);
    assert_eq!(expired.len(), m.fields.len() - live_names.len());
}

fn run(ops: Vec<Op>) {
    let (mut h, mut m) = (TairHash::new(), Model::default());
    let mut now = 1_000u64;
    for op in ops {
        match op {
            Op::Set(n, v, mut o) => {
                if let ExpiryChange::At(t) = o.expiry {
                    o.expiry = ExpiryChange::At(at(t, now));
                }
                let (n, v) = (NAMES[n], [v]);
                assert_eq!(h.set(n, &v, o, now), m.set(n, &v, o, now));
            }
            Op::Mset(pairs) => {
                let pairs: Vec<(&[u8], [u8; 1])> =
                    pairs.into_iter().map(|(n, v)| (NAMES[n], [v])).collect();
                let refs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (*n, &v[..])).collect();
                let got = h.mset(&refs, now);
                let mut err = None;
                let mut shadow = m.fields.clone();
                for (n, v) in &refs {
                    let live = shadow
                        .get(*n)
                        .filter(|f| f.at.is_none_or(|t| t > now))
                        .cloned();
                    match live {
                        Some(f) if f.version >= MAX_VERSION => {
                            err = Some(HashError::VersionOverflow)
                        }
                        Some(f) => {
                            shadow.insert(
                                n.to_vec(),
                                M {
                                    value: v.to_vec(),
                                    version: f.version + 1,
                                    ..f
                                },
                            );
                        }
                        None => {
                            shadow.insert(
                                n.to_vec(),
                                M {
                                    value: v.to_vec(),
                                    version: 1,
                                    at: None,
                                    due: 0,
                                },
                            );
                        }
                    }
                }
                match err {
                    Some(e) => assert_eq!(got, Err(e)),
                    None => {
                        assert_eq!(got, Ok(()));
                        m.fields = shadow;
                    }
                }
            }
            Op::MsetOpts(entries) => {
                let vals: Vec<[u8; 1]> = entries.iter().map(|e| [e.1]).collect();
                let es: Vec<MsetEntry<'_>> = entries
                    .iter()
                    .zip(&vals)
                    .map(|(e, v)| MsetEntry {
                        name: NAMES[e.0],
                        value: v,
                        version: e.2,
                        expiry: e.3.map(|t| at(t, now)),
                    })
                    .collect();
                let got = h.mset_with_options(&es, now);
                let stale = es.iter().any(|e| {
                    e.version != 0 && m.live(e.name, now).is_some_and(|f| f.version != e.version)
                });
                if stale {
                    assert_eq!(got, Err(HashError::VersionStale));
                    continue;
                }
                let mut shadow = Model {
                    fields: m.fields.clone(),
                };
                let mut out = Ok(Vec::new());
                for e in &es {
                    let cur = shadow.live(e.name, now).map(|f| f.version);
                    if cur.is_some_and(|c| c >= MAX_VERSION) {
                        out = Err(HashError::VersionOverflow);
                        break;
                    }
                    let version = cur.map_or(1, |c| c + 1);
                    let (a, d) = match e.expiry {
                        Some(t) => {
                            let (a, d) = written(t, now);
                            (Some(a), d)
                        }
                        None => (None, 0),
                    };
                    shadow.fields.insert(
                        e.name.to_vec(),
                        M {
                            value: e.value.to_vec(),
                            version,
                            at: a,
                            due: d,
                        },
                    );
                    if let Ok(v) = &mut out {
                        v.push(Written {
                            created: cur.is_none(),
                            version,
                            expiry: a,
                        });
                    }
                }
                if out.is_ok() {
                    m.fields = shadow.fields;
                }
                assert_eq!(got, out);
            }
            Op::ExpireAt(n, t, r) => {
                let (n, t) = (NAMES[n], at(t, now));
                let got = h.expire_at(n, t, r, now);
                let want = match m.live(n, now).cloned() {
                    None => Ok(None),
                    Some(f) => Model::next_version(Some(f.version), r).map(|version| {
                        let (a, d) = written(t, now);
                        m.fields.insert(
                            n.to_vec(),
                            M {
                                version,
                                at: Some(a),
                                due: d,
                                ..f
                            },
                        );
                        Some(Written {
                            created: false,
                            version,
                            expiry: Some(a),
                        })
                    }),
                };
                assert_eq!(got, want);
            }
            Op::Persist(n) => {
                let n = NAMES[n];
                let want = match m.live(n, now).cloned() {
                    Some(f) if f.at.is_some() => {
                        m.fields.insert(
                            n.to_vec(),
                            M {
                                at: None,
                                due: 0,
                                ..f
                            },
                        );
                        true
                    }
                    _ => false,
                };
                assert_eq!(h.persist(n, now), want);
            }
            Op::SetVer(n, v) => {
                let n = NAMES[n];
                let want = match m.live(n, now).cloned() {
                    Some(f) => {
                        m.fields.insert(n.to_vec(), M { version: v, ..f });
                        true
                    }
                    None => false,
                };
                assert_eq!(h.set_version(n, v, now), want);
            }
            Op::Incr(n, d, mut e) => {
                if let ExpiryChange::At(t) = e {
                    e = ExpiryChange::At(at(t, now));
                }
                let n = NAMES[n];
                let got = h.incr_by(
                    n,
                    d,
                    IncrOptions {
                        expiry: e,
                        ..Default::default()
                    },
                    now,
                );
                let live = m.live(n, now).cloned();
                let base = match &live {
                    None => Some(0),
                    Some(f) => crate::number::parse_i64(&f.value),
                };
                let want = match base {
                    None => Err(HashError::NotInteger),
                    Some(b) => match b.checked_add(d) {
                        None => Err(HashError::IncrOverflow),
                        Some(r) => match Model::next_version(
                            live.as_ref().map(|f| f.version),
                            VersionRule::Bump,
                        ) {
                            Err(x) => Err(x),
                            Ok(version) => {
                                let (a, due) = m.expiry(n, e, now);
                                m.fields.insert(
                                    n.to_vec(),
                                    M {
                                        value: r.to_string().into_bytes(),
                                        version,
                                        at: a,
                                        due,
                                    },
                                );
                                Ok((
                                    r,
                                    Written {
                                        created: live.is_none(),
                                        version,
                                        expiry: a,
                                    },
                                ))
                            }
                        },
                    },
                };
                assert_eq!(got, want);
            }
            Op::Delete(n) => {
                let n = NAMES[n];
                let want = m.live(n, now).is_some();
                if want {
                    m.fields.remove(n);
                }
                assert_eq!(h.delete(n, now), want);
            }
            Op::DeleteVer(n, v) => {
                let n = NAMES[n];
                let want = m.live(n, now).is_some_and(|f| v == 0 || f.version == v);
                if want {
                    m.fields.remove(n);
                }
                assert_eq!(h.delete_with_version(n, v, now), want);
            }
            Op::RemoveExpired(n) => {
                let n = NAMES[n];
                let want = m.fields.contains_key(n) && m.live(n, now).is_none();
                if want {
                    m.fields.remove(n);
                }
                assert_eq!(h.remove_expired(n, now), want);
            }
            Op::PopDue(back, max) => {
                let threshold = now.saturating_sub(back);
                let want: Vec<Vec<u8>> = m.due(threshold).into_iter().take(max).collect();
                for k in &want {
                    m.fields.remove(k);
                }
                assert_eq!(h.pop_due(threshold, max), want);
            }
            Op::Advance(dt) => now += dt,
            Op::Reload => {
                let mut sink = VecSink::default();
                h.save(&mut sink, b"key");
                if h.is_empty() {
                    continue;
                }
                let loaded = TairHash::load(&mut SliceSource::new(&sink.data), 0, now);
                let Ok(loaded) = loaded else {
                    panic!("reload failed: {loaded:?}")
                };
                assert_eq!(loaded.digest(), h.digest());
                if now.is_multiple_of(2) {
                    // Loading re-derives due times: a field already expired is due at the loading moment.
                    h = loaded;
                    for f in m.fields.values_mut() {
                        if f.at.is_some_and(|a| a <= now) {
                            f.due = now;
                        }
                    }
                } else {
                    // A copy keeps them exactly.
                    h = h.clone();
                }
            }
        }
        check(&h, &m, now);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn hash_matches_model(ops in proptest::collection::vec(op(), 1..80)) {
        run(ops);
    }

    /// The same sequences with conversion thresholds that the sequence passes part-way (entries 0..8,
    /// names/values up to 0, 4 or 64 bytes): the compact encoding, the big one, and the conversion
    /// between them, all against the same model after every step.
    #[test]
    fn both_encodings_match_model(
        ops in proptest::collection::vec(op(), 1..80),
        entries in 0usize..8,
        value in prop_oneof![Just(0usize), Just(4), Just(64)],
    ) {
        crate::compact::Thresholds::set_for_thread(entries, value);
        run(ops);
    }
}

/// Many fields, random expiries: the heap stays consistent through thousands of moves and removals.
#[test]
fn large_random_workload() {
    use rand::{rngs::SmallRng, Rng, SeedableRng};
    let mut rng = SmallRng::seed_from_u64(7);
    // Big from the 33rd field on; compact values meet the big ones through reloads and clones.
    crate::compact::Thresholds::set_for_thread(32, 64);
    let (mut h, mut m) = (TairHash::new(), Model::default());
    let mut now = 10_000u64;
    for step in 0..40_000u32 {
        let n = format!("f{}", rng.gen_range(0..2_000)).into_bytes();
        match rng.gen_range(0..10) {
            0..=4 => {
                let expiry = match rng.gen_range(0..4) {
                    0 => ExpiryChange::Clear,
                    1 => ExpiryChange::Keep,
                    _ => ExpiryChange::At(now + rng.gen_range(0..5_000) - 1_000),
                };
                let value = vec![b'v'; rng.gen_range(0..40)];
                let o = SetOptions {
                    expiry,
                    ..Default::default()
                };
                assert_eq!(h.set(&n, &value, o, now), m.set(&n, &value, o, now));
            }
            5 => {
                let want = m.live(&n, now).is_some();
                if want {
                    m.fields.remove(&n);
                }
                assert_eq!(h.delete(&n, now), want);
            }
            6 => {
                let t = now + rng.gen_range(0..5_000);
                let got = h.expire_at(&n, t, VersionRule::Bump, now);
                if let Some(f) = m.live(&n, now).cloned() {
                    let (a, d) = written(t, now);
                    m.fields.insert(
                        n.clone(),
                        M {
                            version: f.version + 1,
                            at: Some(a),
                            due: d,
                            ..f
                        },
                    );
                    assert!(matches!(got, Ok(Some(_))));
                } else {
                    assert_eq!(got, Ok(None));
                }
            }
            7 => {
                let want: Vec<Vec<u8>> = m.due(now).into_iter().take(20).collect();
                for k in &want {
                    m.fields.remove(k);
                }
                assert_eq!(h.pop_due(now, 20), want);
            }
            _ => now += rng.gen_range(0..50),
        }
        if step % 1_000 == 0 {
            check(&h, &m, now);
        }
    }
    check(&h, &m, now);
}
