//! Command sequences on the pure tairzset value (EXZADD with NX/XX/INCR, multi-pair adds, EXZREM,
//! rank / score / lex range removals, pops, reload) against a model: a Vec of (score tuple, member)
//! kept sorted by the §2.3 order (numeric dimensions left to right, -0 == 0, then member bytes).
//! After every step: `check()` holds, iteration, ranks, scores, rank ranges with and without REV,
//! rank-by-score, a full SCAN and random members agree with the model. The compact-encoding thresholds
//! come from the input, so both encodings and the conversion are exercised.
#![no_main]
use std::cmp::Ordering;
use std::collections::BTreeSet;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use rand::{rngs::SmallRng, SeedableRng};
use tair_common::rdb::{SliceSource, VecSink};
use tairzset::encoding::{self, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE};
use tairzset::{persist, AddCondition, AddOutcome, AddSummary, LexRange, ScoreRange, TairZset, ZsetError};

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Dim {
    Small(i8),
    Half(i8),
    NegZero,
    Inf,
    NegInf,
    Nan,
    Any(f64),
}

impl Dim {
    fn get(self) -> f64 {
        match self {
            Dim::Small(v) => f64::from(v % 5),
            Dim::Half(v) => f64::from(v % 5) + 0.5,
            Dim::NegZero => -0.0,
            Dim::Inf => f64::INFINITY,
            Dim::NegInf => f64::NEG_INFINITY,
            Dim::Nan => f64::NAN,
            Dim::Any(v) => v,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
enum Member {
    Fixed(u8),
    Any(Vec<u8>),
}

impl Member {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Member::Fixed(i) => {
                const M: [&[u8]; 8] = [b"", b"a", b"b", b"ab", b"member:0001", b"\x00\xff", b"z", b"a member longer than inline"];
                M[usize::from(*i) % M.len()].to_vec()
            }
            Member::Any(b) => b.clone(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Cond {
    Always,
    IfAbsent,
    IfPresent,
}

impl Cond {
    fn get(self) -> AddCondition {
        match self {
            Cond::Always => AddCondition::Always,
            Cond::IfAbsent => AddCondition::IfAbsent,
            Cond::IfPresent => AddCondition::IfPresent,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Add(Member, Vec<Dim>, Cond, bool),
    AddMany(Vec<(Vec<Dim>, Member)>, Cond),
    Remove(Member),
    RemoveRanks(i8, i8),
    RemoveScores(Vec<u8>, Vec<u8>),
    RemoveLex(Vec<u8>, Vec<u8>),
    Pop(u8, bool),
    Reload,
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Compact-encoding thresholds (200 and above: the defaults).
    max_entries: u8,
    max_value: u8,
    dims: u8,
    seed: u64,
    ops: Vec<Op>,
}

type Item = (Vec<f64>, Vec<u8>);

fn num_cmp(a: &[f64], b: &[f64]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y).expect("no NaN stored") {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

fn order(a: &Item, b: &Item) -> Ordering {
    num_cmp(&a.0, &b.0).then_with(|| a.1.cmp(&b.1))
}

struct Model {
    dims: usize,
    items: Vec<Item>,
}

impl Model {
    fn find(&self, m: &[u8]) -> Option<usize> {
        self.items.iter().position(|x| x.1 == m)
    }

    fn add(&mut self, member: &[u8], score: &[f64], cond: AddCondition, incr: bool) -> Result<AddOutcome, ZsetError> {
        if score.len() != self.dims || score.iter().any(|v| v.is_nan()) {
            return Err(ZsetError::InvalidScore);
        }
        match self.find(member) {
            None => {
                if cond == AddCondition::IfPresent {
                    return Ok(AddOutcome::Skipped);
                }
                // INCR on a new member adds to 0: -0 becomes 0.
                let s: Vec<f64> = if incr { score.iter().map(|v| 0.0 + v).collect() } else { score.to_vec() };
                self.items.push((s, member.to_vec()));
                self.items.sort_by(order);
                Ok(AddOutcome::Added)
            }
            Some(i) => {
                if cond == AddCondition::IfAbsent {
                    return Ok(AddOutcome::Skipped);
                }
                let cur = self.items[i].0.clone();
                let new: Vec<f64> = if incr { cur.iter().zip(score).map(|(a, b)| a + b).collect() } else { score.to_vec() };
                if new.iter().any(|v| v.is_nan()) {
                    return Err(ZsetError::ScoreNaN);
                }
                if cur.iter().zip(&new).all(|(a, b)| a == b) {
                    return Ok(AddOutcome::Unchanged);
                }
                self.items[i].0 = new;
                self.items.sort_by(order);
                Ok(AddOutcome::Updated)
            }
        }
    }

    /// Redis' rank range rules.
    fn rank_range(&self, start: i64, stop: i64) -> std::ops::Range<usize> {
        let len = self.items.len() as i64;
        let start = if start < 0 { start + len } else { start }.max(0);
        let stop = if stop < 0 { stop + len } else { stop };
        if start > stop || start >= len {
            return 0..0;
        }
        start as usize..(stop.min(len - 1) + 1) as usize
    }
}

fn bits(s: &[f64]) -> Vec<u64> {
    s.iter().map(|v| v.to_bits()).collect()
}

fn check(z: &TairZset, m: &Model, rng: &mut SmallRng) {
    z.check().expect("invariants");
    assert_eq!(z.len(), m.items.len());
    assert_eq!(z.dims(), m.dims);
    let got: Vec<(Vec<u64>, Vec<u8>)> = z.iter().map(|(mb, s)| (bits(&s), mb.to_vec())).collect();
    let want: Vec<(Vec<u64>, Vec<u8>)> = m.items.iter().map(|(s, mb)| (bits(s), mb.clone())).collect();
    assert_eq!(got, want);
    for (rank, (s, mb)) in m.items.iter().enumerate() {
        assert_eq!(z.rank(mb), Some(rank));
        assert_eq!(z.rev_rank(mb), Some(m.items.len() - 1 - rank));
        assert_eq!(z.score(mb).map(|x| bits(&x)), Some(bits(s)));
        assert_eq!(z.get_by_rank(rank).map(|(x, _)| x.to_vec()), Some(mb.clone()));
        // Ranks by (a prefix of) this score.
        let below = m.items.iter().filter(|x| num_cmp(&x.0, &s[..1]) == Ordering::Less).count();
        assert_eq!(z.rank_by_score(&s[..1]), Ok(below));
    }
    assert_eq!(z.get_by_rank(m.items.len()), None);
    let n = m.items.len() as i64;
    for (a, b) in [(0, -1), (1, 2), (-2, -1), (-n - 3, n + 3), (2, 1)] {
        let r = m.rank_range(a, b);
        let fwd: Vec<Vec<u8>> = z.iter_span(z.rank_span(a, b, false)).map(|(x, _)| x.to_vec()).collect();
        assert_eq!(fwd, m.items[r.clone()].iter().map(|x| x.1.clone()).collect::<Vec<_>>());
        let rev: Vec<Vec<u8>> = z.iter_span(z.rank_span(a, b, true)).map(|(x, _)| x.to_vec()).collect();
        let mut all: Vec<Vec<u8>> = m.items.iter().map(|x| x.1.clone()).collect();
        all.reverse();
        assert_eq!(rev, all[r].to_vec());
    }
    let mut seen = BTreeSet::new();
    let mut cursor = 0;
    let mut steps = 0;
    loop {
        cursor = z.scan(cursor, 2, |mb, _| {
            seen.insert(mb.to_vec());
        });
        steps += 1;
        assert!(steps < 4 * m.items.len() + 64, "scan does not end");
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen, m.items.iter().map(|x| x.1.clone()).collect::<BTreeSet<_>>());
    let members: BTreeSet<Vec<u8>> = seen;
    for count in [3i64, -3, 1_000] {
        let mut picked = Vec::new();
        z.random_members(count, rng, |mb, _| picked.push(mb.to_vec()));
        assert!(picked.iter().all(|p| members.contains(p)));
        let distinct: BTreeSet<_> = picked.iter().cloned().collect();
        if count > 0 {
            assert_eq!(picked.len(), (count as usize).min(members.len()));
            assert_eq!(distinct.len(), picked.len());
        } else if !members.is_empty() {
            assert_eq!(picked.len(), 3);
        }
    }
    assert_eq!(z.random_member(rng).is_some(), !members.is_empty());
}

fuzz_target!(|input: Input| {
    let (e, v) = match input.max_entries {
        200.. => (DEFAULT_MAX_ENTRIES, DEFAULT_MAX_VALUE),
        n => (usize::from(n % 10), usize::from(input.max_value % 40)),
    };
    encoding::set_max_entries(e as i64).unwrap();
    encoding::set_max_value(v as i64).unwrap();
    let dims = usize::from(input.dims % 3) + 1;
    let mut z = TairZset::new(dims).unwrap();
    let mut m = Model { dims, items: Vec::new() };
    let mut rng = SmallRng::seed_from_u64(input.seed);
    for op in input.ops {
        match op {
            Op::Add(mb, s, c, incr) => {
                let (mb, s): (Vec<u8>, Vec<f64>) = (mb.bytes(), s.iter().map(|d| d.get()).collect());
                assert_eq!(z.add(&mb, &s, c.get(), incr), m.add(&mb, &s, c.get(), incr));
            }
            Op::AddMany(pairs, c) => {
                let owned: Vec<(Vec<f64>, Vec<u8>)> =
                    pairs.iter().map(|(s, mb)| (s.iter().map(|d| d.get()).collect(), mb.bytes())).collect();
                let refs: Vec<(&[f64], &[u8])> = owned.iter().map(|(s, mb)| (&s[..], &mb[..])).collect();
                let got = z.add_many(&refs, c.get());
                let want = if owned.iter().any(|(s, _)| s.len() != dims || s.iter().any(|v| v.is_nan())) {
                    Err(ZsetError::InvalidScore)
                } else {
                    let mut sum = AddSummary::default();
                    for (s, mb) in &owned {
                        match m.add(mb, s, c.get(), false).unwrap() {
                            AddOutcome::Added => sum.added += 1,
                            AddOutcome::Updated => sum.updated += 1,
                            _ => {}
                        }
                    }
                    Ok(sum)
                };
                assert_eq!(got, want);
            }
            Op::Remove(mb) => {
                let mb = mb.bytes();
                let want = m.find(&mb).map(|i| m.items.remove(i)).is_some();
                assert_eq!(z.remove(&mb), want);
            }
            Op::RemoveRanks(a, b) => {
                let r = m.rank_range(i64::from(a), i64::from(b));
                let n = r.len();
                m.items.drain(r);
                assert_eq!(z.remove_span(z.rank_span(i64::from(a), i64::from(b), false)), n);
            }
            Op::RemoveScores(a, b) => {
                let Ok(r) = ScoreRange::parse(&a, &b) else { continue };
                let Ok(span) = z.score_span(&r, false, None) else {
                    assert!(r.dims() > dims);
                    continue;
                };
                let keep: Vec<Item> = m
                    .items
                    .iter()
                    .filter(|(s, _)| !(!r.below_min(s) && r.within_max(s)))
                    .cloned()
                    .collect();
                let n = m.items.len() - keep.len();
                m.items = keep;
                assert_eq!(z.remove_span(span), n);
            }
            Op::RemoveLex(a, b) => {
                let Ok(r) = LexRange::parse(&a, &b) else { continue };
                let span = z.lex_span(&r, false, None);
                // Lex ranges are defined when every member has the same score.
                let same = m.items.windows(2).all(|w| num_cmp(&w[0].0, &w[1].0) == Ordering::Equal);
                if same {
                    let keep: Vec<Item> =
                        m.items.iter().filter(|(_, mb)| r.below_min(mb) || !r.within_max(mb)).cloned().collect();
                    let n = m.items.len() - keep.len();
                    m.items = keep;
                    assert_eq!(z.remove_span(span), n);
                } else {
                    assert!(span.end <= z.len());
                }
            }
            Op::Pop(count, max) => {
                let count = usize::from(count % 6);
                let got: Vec<(Vec<u8>, Vec<u64>)> =
                    z.pop(count, max).into_iter().map(|(mb, s)| (mb.to_vec(), bits(s.as_slice()))).collect();
                let mut want = Vec::new();
                for _ in 0..count.min(m.items.len()) {
                    let it = if max { m.items.pop().unwrap() } else { m.items.remove(0) };
                    want.push((it.1, bits(&it.0)));
                }
                assert_eq!(got, want);
            }
            Op::Reload => {
                if z.is_empty() {
                    continue;
                }
                let mut out = VecSink::default();
                persist::save(&z, &mut out);
                z = if out.data.len() % 2 == 0 {
                    persist::load(&mut SliceSource::new(&out.data), 0).expect("reload")
                } else {
                    z.clone()
                };
            }
        }
        check(&z, &m, &mut rng);
    }
});
