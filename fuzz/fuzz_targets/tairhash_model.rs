//! Command sequences on the pure tairhash value (`TairHash`: set with NX/XX, VER/ABS/GT and expiry
//! changes, mset, mset with options, expire, persist, set version, integer and float increments with
//! bounds, deletes, passive and active expiry, time advancing, reload / copy) against a model: a map
//! name -> (value, version, absolute expiry, due time). After every step: every field read, TTL,
//! counts, the earliest due time, the stored fields, and a full SCAN agree with the model.
//! (A structure-aware port of `modules/tairhash/src/model_tests.rs`, with arbitrary names and values, and
//! compact-encoding thresholds from the input, so the compact and big encodings and the conversion are
//! all exercised.)
#![no_main]
use std::collections::{BTreeMap, BTreeSet};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tair_common::args::{parse_f64, parse_i64};
use tair_common::rdb::{SliceSource, VecSink};
use tairhash::number::format_f64;
use tairhash::*;

const NAMES: [&[u8]; 8] = [
    b"",
    b"a",
    b"b",
    b"field-0001",
    b"f\0x",
    b"longer field name....",
    b"z",
    b"a field name longer than sixty-four bytes, so it does not fit inline anywhere",
];

#[derive(Arbitrary, Debug, Clone)]
enum Name {
    Fixed(u8),
    Any(Vec<u8>),
}

impl Name {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Name::Fixed(i) => NAMES[usize::from(*i) % NAMES.len()].to_vec(),
            Name::Any(b) => b.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum Value {
    Byte(u8),
    Int(i64),
    Float(f64),
    Any(Vec<u8>),
}

impl Value {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Value::Byte(b) => vec![*b],
            Value::Int(i) => i.to_string().into_bytes(),
            Value::Float(f) => format!("{f}").into_bytes(),
            Value::Any(b) => b.clone(),
        }
    }
}

/// Times: 0 and MAX stay literal, others are offsets around `now` (so past times happen too), near
/// (milliseconds) or far (beyond the compact encoding's 3-byte delta from its base, either side).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Time {
    Zero,
    Max,
    Around(u16),
    Far(i32),
}

fn at(t: Time, now: u64) -> u64 {
    match t {
        Time::Zero => 0,
        Time::Max => u64::MAX,
        Time::Around(d) => (now + u64::from(d % 400)).saturating_sub(100),
        Time::Far(d) => (now + (1 << 40)).saturating_add_signed(i64::from(d) * 1024 + (1 << 22)),
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Rule {
    Bump,
    Ver(u8),
    Abs(u8),
    AbsMax,
    AbsWide(u64),
    Gt(u8),
    GtWide(u64),
}

impl Rule {
    fn get(self) -> VersionRule {
        match self {
            Rule::Bump => VersionRule::Bump,
            Rule::Ver(v) => VersionRule::Ver(u64::from(v % 6)),
            Rule::Abs(v) => VersionRule::Abs(u64::from(v % 8)),
            Rule::AbsMax => VersionRule::Abs(MAX_VERSION),
            Rule::AbsWide(v) => VersionRule::Abs(v),
            Rule::Gt(v) => VersionRule::Gt(u64::from(v % 10)),
            Rule::GtWide(v) => VersionRule::Gt(v),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Exp {
    Clear,
    Keep,
    At(Time),
}

impl Exp {
    fn get(self, now: u64) -> ExpiryChange {
        match self {
            Exp::Clear => ExpiryChange::Clear,
            Exp::Keep => ExpiryChange::Keep,
            Exp::At(t) => ExpiryChange::At(at(t, now)),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Cond {
    Always,
    IfAbsent,
    IfPresent,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Set(Name, Value, Cond, Rule, Exp),
    Mset(Vec<(Name, Value)>),
    MsetOpts(Vec<(Name, Value, u8, Option<Time>)>),
    ExpireAt(Name, Time, Rule),
    Persist(Name),
    SetVer(Name, u64),
    Incr(Name, i64, Rule, Exp, Option<i64>, Option<i64>),
    IncrFloat(Name, f64, Rule, Exp, Option<f64>, Option<f64>),
    Delete(Name),
    DeleteVer(Name, u8),
    RemoveExpired(Name),
    PopDue(u16, u8),
    Advance(u16),
    Reload,
    /// Registers the value under a registry bucket (the stamp), or clears it.
    Stamp(Option<u64>),
}

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
    stamp: Option<u64>,
}

/// The stored expiry of an absolute time: clamped to 1 ..= 2^63-1; a past time is due now.
fn written(at: u64, now: u64) -> (u64, u64) {
    let at = at.clamp(1, MAX_EXPIRE_MS);
    (at, if at <= now { now } else { at })
}

impl Model {
    fn live(&self, n: &[u8], now: u64) -> Option<&M> {
        self.fields.get(n).filter(|m| m.at.is_none_or(|t| t > now))
    }

    fn stale(cur: Option<u64>, rule: VersionRule) -> bool {
        match (rule, cur) {
            (VersionRule::Ver(v), Some(c)) => v != 0 && v != c,
            // GT compares the numbers EXHVER reports (signed).
            (VersionRule::Gt(v), Some(c)) => (v as i64) <= (c as i64),
            _ => false,
        }
    }

    fn bump(cur: Option<u64>, rule: VersionRule) -> Result<u64, HashError> {
        match rule {
            VersionRule::Gt(v) if v > MAX_VERSION => Err(HashError::VersionOverflow),
            VersionRule::Abs(v) | VersionRule::Gt(v) => Ok(v.max(1)),
            _ => match cur {
                None => Ok(1),
                Some(c) if c >= MAX_VERSION => Err(HashError::VersionOverflow),
                Some(c) => Ok(c + 1),
            },
        }
    }

    fn next_version(cur: Option<u64>, rule: VersionRule) -> Result<u64, HashError> {
        if Self::stale(cur, rule) {
            return Err(HashError::VersionStale);
        }
        Self::bump(cur, rule)
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

    /// An increment: value check, version check, the new value (or IncrOverflow), version bump.
    fn incr(
        &mut self,
        n: &[u8],
        new_value: impl FnOnce(&[u8]) -> Result<Vec<u8>, HashError>,
        rule: VersionRule,
        e: ExpiryChange,
        now: u64,
    ) -> Result<(Vec<u8>, Written), HashError> {
        let live = self.live(n, now).cloned();
        let base = live.as_ref().map_or(&b""[..], |f| &f.value[..]).to_vec();
        let text = new_value(if live.is_some() { &base } else { b"" })?;
        let cur = live.as_ref().map(|f| f.version);
        let version = Self::bump(cur, rule)?;
        let (a, due) = self.expiry(n, e, now);
        self.fields.insert(n.to_vec(), M { value: text.clone(), version, at: a, due });
        Ok((text, Written { created: live.is_none(), version, expiry: a }))
    }
}

fn check(h: &TairHash, m: &Model, now: u64, probe: &[Vec<u8>]) {
    assert_eq!(h.stamp(), m.stamp, "the stamp survives every write");
    assert_eq!(h.len(), m.fields.len());
    assert_eq!(h.is_empty(), m.fields.is_empty());
    let live = m.fields.values().filter(|f| f.at.is_none_or(|t| t > now)).count();
    assert_eq!(h.len_live(now), live);
    assert_eq!(h.expiring_len(), m.fields.values().filter(|f| f.at.is_some()).count());
    assert_eq!(
        h.earliest_due(),
        m.fields.values().filter(|f| f.at.is_some()).map(|f| f.due).min()
    );
    for n in probe {
        let want = m.live(n, now).map(|f| (f.value.clone(), f.version, f.at));
        let got = h.get(n, now).map(|f| (f.value.to_vec(), f.version, f.expiry));
        assert_eq!(got, want, "field {n:?}");
        let ttl = match m.live(n, now) {
            None => FieldTtl::Absent,
            Some(M { at: None, .. }) => FieldTtl::Persistent,
            Some(M { at: Some(t), .. }) => FieldTtl::Remaining(t - now),
        };
        assert_eq!(h.ttl(n, now), ttl);
        assert_eq!(h.is_stored_expired(n, now), m.fields.contains_key(n) && m.live(n, now).is_none());
    }
    type Row = (Vec<u8>, u64, Option<u64>);
    let stored: BTreeMap<Vec<u8>, Row> =
        h.iter().map(|f| (f.name.to_vec(), (f.value.to_vec(), f.version, f.expiry))).collect();
    assert_eq!(stored.len(), h.len(), "iter yields each field once");
    let model: BTreeMap<Vec<u8>, Row> =
        m.fields.iter().map(|(k, f)| (k.clone(), (f.value.clone(), f.version, f.at))).collect();
    assert_eq!(stored, model);
    let live_model: BTreeSet<Vec<u8>> = m
        .fields
        .iter()
        .filter(|(_, f)| f.at.is_none_or(|t| t > now))
        .map(|(k, _)| k.clone())
        .collect();
    let iter_live: BTreeSet<Vec<u8>> = h.iter_live(now).map(|f| f.name.to_vec()).collect();
    assert_eq!(iter_live, live_model);
    // A full scan with a small COUNT returns every live field and reports every expired one.
    for count in [1usize, 3] {
        let (mut seen, mut expired, mut cursor) = (BTreeSet::new(), BTreeSet::new(), 0);
        let mut steps = 0usize;
        loop {
            let page = h.scan(cursor, count, now);
            seen.extend(page.fields.iter().map(|f| f.name.to_vec()));
            expired.extend(page.expired);
            cursor = page.cursor;
            steps += 1;
            assert!(steps <= 4 * h.len() + 64, "scan does not terminate");
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen, live_model);
        assert_eq!(expired.len(), m.fields.len() - live_model.len());
    }
    let mem = h.mem_usage();
    let bytes: usize = m.fields.iter().map(|(k, f)| k.len() + f.value.len()).sum();
    assert!(mem >= bytes, "mem_usage {mem} below the stored bytes {bytes}");
}

fuzz_target!(|input: (u8, u8, Vec<Op>)| {
    let (entries, value, ops) = input;
    // Small compact-encoding thresholds (or the defaults), so values convert to the big encoding
    // (and are reloaded into either) within short sequences.
    let (e, v) = match entries {
        200.. => (compact::DEFAULT_MAX_ENTRIES, compact::DEFAULT_MAX_VALUE),
        _ => (usize::from(entries % 10), usize::from(value % 40)),
    };
    compact::Thresholds::set_max_entries(e);
    compact::Thresholds::set_max_value(v);
    let (mut h, mut m) = (TairHash::new(), Model::default());
    let mut now = 1_000u64;
    let mut probe: Vec<Vec<u8>> = NAMES.iter().map(|n| n.to_vec()).collect();
    for op in ops {
        match op {
            Op::Set(n, v, c, r, e) => {
                let (n, v) = (n.bytes(), v.bytes());
                let o = SetOptions {
                    condition: match c {
                        Cond::Always => Condition::Always,
                        Cond::IfAbsent => Condition::IfAbsent,
                        Cond::IfPresent => Condition::IfPresent,
                    },
                    version: r.get(),
                    expiry: e.get(now),
                };
                let live = m.live(&n, now).cloned();
                let want = match o.condition {
                    Condition::IfAbsent if live.is_some() => Ok(SetOutcome::Skipped),
                    Condition::IfPresent if live.is_none() => Ok(SetOutcome::Skipped),
                    _ => Model::next_version(live.as_ref().map(|f| f.version), o.version).map(|version| {
                        let (at, due) = m.expiry(&n, o.expiry, now);
                        m.fields.insert(n.clone(), M { value: v.clone(), version, at, due });
                        SetOutcome::Written(Written { created: live.is_none(), version, expiry: at })
                    }),
                };
                assert_eq!(h.set(&n, &v, o, now), want);
                probe.push(n);
            }
            Op::Mset(pairs) => {
                let pairs: Vec<(Vec<u8>, Vec<u8>)> = pairs.iter().map(|(n, v)| (n.bytes(), v.bytes())).collect();
                let refs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (&n[..], &v[..])).collect();
                let got = h.mset(&refs, now);
                let mut shadow = Model { fields: m.fields.clone(), stamp: m.stamp };
                let mut err = None;
                for (n, v) in &refs {
                    match shadow.live(n, now).cloned() {
                        Some(f) if f.version >= MAX_VERSION => err = Some(HashError::VersionOverflow),
                        Some(f) => {
                            shadow.fields.insert(n.to_vec(), M { value: v.to_vec(), version: f.version + 1, ..f });
                        }
                        None => {
                            shadow.fields.insert(n.to_vec(), M { value: v.to_vec(), version: 1, at: None, due: 0 });
                        }
                    }
                }
                match err {
                    Some(e) => assert_eq!(got, Err(e)),
                    None => {
                        assert_eq!(got, Ok(()));
                        m.fields = shadow.fields;
                    }
                }
                probe.extend(pairs.into_iter().map(|p| p.0));
            }
            Op::MsetOpts(entries) => {
                let owned: Vec<(Vec<u8>, Vec<u8>, u64, Option<u64>)> = entries
                    .iter()
                    .map(|(n, v, ver, t)| (n.bytes(), v.bytes(), u64::from(*ver % 4), t.map(|t| at(t, now))))
                    .collect();
                let es: Vec<MsetEntry<'_>> = owned
                    .iter()
                    .map(|(n, v, ver, t)| MsetEntry { name: n, value: v, version: *ver, expiry: *t })
                    .collect();
                let got = h.mset_with_options(&es, now);
                let stale = es
                    .iter()
                    .any(|e| e.version != 0 && m.live(e.name, now).is_some_and(|f| f.version != e.version));
                if stale {
                    assert_eq!(got, Err(HashError::VersionStale));
                } else {
                    let mut shadow = Model { fields: m.fields.clone(), stamp: m.stamp };
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
                        shadow.fields.insert(e.name.to_vec(), M { value: e.value.to_vec(), version, at: a, due: d });
                        if let Ok(v) = &mut out {
                            v.push(Written { created: cur.is_none(), version, expiry: a });
                        }
                    }
                    if out.is_ok() {
                        m.fields = shadow.fields;
                    }
                    assert_eq!(got, out);
                }
                probe.extend(owned.into_iter().map(|e| e.0));
            }
            Op::ExpireAt(n, t, r) => {
                let (n, t, r) = (n.bytes(), at(t, now), r.get());
                let got = h.expire_at(&n, t, r, now);
                let want = match m.live(&n, now).cloned() {
                    None => Ok(None),
                    Some(f) => Model::next_version(Some(f.version), r).map(|version| {
                        let (a, d) = written(t, now);
                        m.fields.insert(n.clone(), M { version, at: Some(a), due: d, ..f });
                        Some(Written { created: false, version, expiry: Some(a) })
                    }),
                };
                assert_eq!(got, want);
            }
            Op::Persist(n) => {
                let n = n.bytes();
                let want = match m.live(&n, now).cloned() {
                    Some(f) if f.at.is_some() => {
                        m.fields.insert(n.clone(), M { at: None, due: 0, ..f });
                        true
                    }
                    _ => false,
                };
                assert_eq!(h.persist(&n, now), want);
            }
            Op::SetVer(n, v) => {
                let n = n.bytes();
                let want = match m.live(&n, now).cloned() {
                    Some(f) => {
                        m.fields.insert(n.clone(), M { version: v.clamp(1, MAX_VERSION), ..f });
                        true
                    }
                    None => false,
                };
                assert_eq!(h.set_version(&n, v, now), want);
            }
            Op::Incr(n, d, r, e, min, max) => {
                let (n, r, e) = (n.bytes(), r.get(), e.get(now));
                let got = h.incr_by(&n, d, IncrOptions { version: r, expiry: e, min, max }, now);
                let cur = m.live(&n, now).map(|f| (f.value.clone(), f.version));
                let want = match &cur {
                    Some((v, _)) if parse_i64(v).is_none() => Err(HashError::NotInteger),
                    Some((_, ver)) if Model::stale(Some(*ver), r) => Err(HashError::VersionStale),
                    _ => m
                        .incr(
                            &n,
                            |base| {
                                let b = if base.is_empty() { 0 } else { parse_i64(base).unwrap() };
                                b.checked_add(d)
                                    .filter(|x| min.is_none_or(|lo| *x >= lo) && max.is_none_or(|hi| *x <= hi))
                                    .map(|x| x.to_string().into_bytes())
                                    .ok_or(HashError::IncrOverflow)
                            },
                            r,
                            e,
                            now,
                        )
                        .map(|(t, w)| (parse_i64(&t).unwrap(), w)),
                };
                assert_eq!(got, want);
            }
            Op::IncrFloat(n, d, r, e, min, max) => {
                if !d.is_finite() || min.is_some_and(f64::is_nan) || max.is_some_and(f64::is_nan) {
                    continue; // the command layer accepts only finite numbers
                }
                let (n, r, e) = (n.bytes(), r.get(), e.get(now));
                let got = h.incr_by_float(&n, d, IncrOptions { version: r, expiry: e, min, max }, now);
                let cur = m.live(&n, now).map(|f| (f.value.clone(), f.version));
                let want = match &cur {
                    Some((v, _)) if parse_f64(v).is_none() => Err(HashError::NotFloat),
                    Some((_, ver)) if Model::stale(Some(*ver), r) => Err(HashError::VersionStale),
                    _ => m
                        .incr(
                            &n,
                            |base| {
                                let b = if base.is_empty() { 0.0 } else { parse_f64(base).unwrap() };
                                let x = b + d;
                                if !x.is_finite() || min.is_some_and(|lo| x < lo) || max.is_some_and(|hi| x > hi) {
                                    return Err(HashError::IncrOverflow);
                                }
                                Ok(format_f64(x).into_bytes())
                            },
                            r,
                            e,
                            now,
                        )
                        .map(|(t, w)| (String::from_utf8(t).unwrap(), w)),
                };
                assert_eq!(got, want);
            }
            Op::Delete(n) => {
                let n = n.bytes();
                let want = m.live(&n, now).is_some();
                if want {
                    m.fields.remove(&n);
                }
                assert_eq!(h.delete(&n, now), want);
            }
            Op::DeleteVer(n, v) => {
                let (n, v) = (n.bytes(), u64::from(v % 4));
                let want = m.live(&n, now).is_some_and(|f| v == 0 || f.version == v);
                if want {
                    m.fields.remove(&n);
                }
                assert_eq!(h.delete_with_version(&n, v, now), want);
            }
            Op::RemoveExpired(n) => {
                let n = n.bytes();
                let want = m.fields.contains_key(&n) && m.live(&n, now).is_none();
                if want {
                    m.fields.remove(&n);
                }
                assert_eq!(h.remove_expired(&n, now), want);
            }
            Op::PopDue(back, max) => {
                let (threshold, max) = (now.saturating_sub(u64::from(back % 300)), usize::from(max % 5));
                let want: Vec<Vec<u8>> = m.due(threshold).into_iter().take(max).collect();
                for k in &want {
                    m.fields.remove(k);
                }
                assert_eq!(h.pop_due(threshold, max), want);
            }
            Op::Advance(dt) => now += u64::from(dt % 200),
            Op::Stamp(s) => {
                let digest = h.digest();
                h.set_stamp(s);
                m.stamp = s.map(|s| s.min(registry::MAX_BUCKET));
                assert_eq!(h.digest(), digest);
            }
            Op::Reload => {
                let mut sink = VecSink::default();
                h.save(&mut sink, b"key");
                if h.is_empty() {
                    assert!(TairHash::load(&mut SliceSource::new(&sink.data), 0, now).is_err());
                    continue;
                }
                let loaded = TairHash::load(&mut SliceSource::new(&sink.data), 0, now).expect("reload");
                assert_eq!(loaded.digest(), h.digest());
                // A loaded value or a copy starts unregistered.
                m.stamp = None;
                if now % 2 == 0 {
                    // Loading re-derives due times: a field already expired is due at the loading moment.
                    h = loaded;
                    for f in m.fields.values_mut() {
                        if f.at.is_some_and(|a| a <= now) {
                            f.due = now;
                        }
                    }
                } else {
                    h = h.clone();
                }
            }
        }
        if probe.len() > 64 {
            probe.drain(NAMES.len()..probe.len() - 32);
        }
        check(&h, &m, now, &probe);
    }
});
