//! Command sequences on the pure tairbloom value (TFBFRESERVE shapes, ADD / MADD, EXISTS / MEXISTS,
//! reload through RDB and through SCANDUMP/LOADCHUNK) against a model: the set of items added. After
//! every step: no false negatives, the cardinality equals the adds that answered 1, it never exceeds the
//! distinct items added, sizes and capacities are the sums over the sub-filters, and the false-positive
//! answers stay rare on items never added.
#![no_main]
use std::collections::BTreeSet;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tair_common::rdb::{SliceSource, VecSink};
use tairbloom::{persist, ScalableBloom};

#[derive(Arbitrary, Debug)]
enum Item {
    Num(u16),
    Any(Vec<u8>),
}

impl Item {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Item::Num(n) => format!("item:{n}").into_bytes(),
            Item::Any(b) => b.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Add(Item),
    Madd(Vec<Item>),
    /// Many distinct items at once, to force growth.
    Fill(u8),
    Exists(Item),
    Mexists(Vec<Item>),
    Reload,
    Redump,
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Error rate: from 0.5 down to 1e-12.
    rate: u8,
    capacity: u8,
    defaults: bool,
    ops: Vec<Op>,
}

fn check(f: &ScalableBloom, added: &BTreeSet<Vec<u8>>, card: u64) {
    for a in added {
        assert!(f.exists(a), "false negative on {a:?}");
    }
    assert_eq!(f.card(), card);
    assert!(card <= added.len() as u64);
    assert_eq!(f.size(), f.filters().iter().map(|s| s.bytes()).sum::<u64>());
    assert_eq!(f.capacity(), f.filters().iter().map(|s| s.capacity()).sum::<u64>());
    assert_eq!(f.card(), f.filters().iter().map(|s| s.items()).sum::<u64>());
    assert!(f.filters().iter().all(|s| s.items() <= s.capacity()));
    assert!(f.mem_usage() >= f.size());
}

fuzz_target!(|input: Input| {
    let mut f = if input.defaults {
        ScalableBloom::with_defaults()
    } else {
        let rate = 0.5 / 10f64.powf(f64::from(input.rate % 120) / 10.0);
        match ScalableBloom::new(rate, u64::from(input.capacity % 50) + 1) {
            Ok(f) => f,
            Err(_) => return,
        }
    };
    let mut added = BTreeSet::new();
    let mut card = 0u64;
    let mut fresh = 0u32;
    let add = |f: &mut ScalableBloom, item: Vec<u8>, added: &mut BTreeSet<Vec<u8>>, card: &mut u64| {
        let known = added.contains(&item);
        match f.add(&item) {
            Ok(true) => {
                assert!(!known, "an added item answered 1 again");
                *card += 1;
                added.insert(item);
            }
            Ok(false) => {
                added.insert(item);
            }
            Err(_) => assert!(!known || f.exists(&item)),
        }
    };
    for op in input.ops {
        match op {
            Op::Add(i) => add(&mut f, i.bytes(), &mut added, &mut card),
            Op::Madd(items) => {
                let owned: Vec<Vec<u8>> = items.iter().map(Item::bytes).collect();
                let mut shadow = f.clone();
                let (mut shadow_added, mut shadow_card) = (added.clone(), card);
                for i in &owned {
                    add(&mut shadow, i.clone(), &mut shadow_added, &mut shadow_card);
                }
                let got = f.madd(owned.iter().map(|v| &v[..]));
                assert_eq!(got.len(), owned.len());
                for (i, r) in owned.into_iter().zip(got) {
                    if let Ok(n) = r {
                        card += u64::from(n);
                        added.insert(i);
                    }
                }
                assert_eq!(f, shadow, "MADD is ADD item by item");
                assert_eq!(card, shadow_card);
            }
            Op::Fill(n) => {
                if added.len() > 5_000 {
                    continue;
                }
                for _ in 0..u32::from(n) * 4 {
                    fresh += 1;
                    add(&mut f, format!("fill:{fresh}").into_bytes(), &mut added, &mut card);
                }
            }
            Op::Exists(i) => {
                let i = i.bytes();
                if added.contains(&i) {
                    assert!(f.exists(&i));
                }
            }
            Op::Mexists(items) => {
                let owned: Vec<Vec<u8>> = items.iter().map(Item::bytes).collect();
                let got = f.mexists(owned.iter().map(|v| &v[..]));
                let want: Vec<bool> = owned.iter().map(|i| f.exists(i)).collect();
                assert_eq!(got, want);
            }
            Op::Reload => {
                let mut out = VecSink::default();
                persist::save(&f, &mut out);
                let back = persist::load(&mut SliceSource::new(&out.data), 1).expect("reload");
                assert_eq!(back, f);
                f = back;
            }
            Op::Redump => {
                let (_, header) = f.scandump(0);
                let mut g = ScalableBloom::from_header(&header).expect("header");
                let mut it = 1;
                loop {
                    let (next, chunk) = f.scandump(it);
                    if next == 0 {
                        break;
                    }
                    g.load_chunk(next, &chunk).expect("chunk");
                    it = next;
                }
                assert_eq!(g, f);
                f = g;
            }
        }
        check(&f, &added, card);
    }
    // False positives on items never added stay rare (the bound is loose: it only catches a filter that
    // answers 1 to nearly everything).
    let probes = 200u32;
    let fp = (0..probes).filter(|i| f.exists(format!("never:{i}").as_bytes())).count();
    let bound = f64::from(probes) * (2.0 * f.error_rate()).min(0.9) + 15.0;
    assert!(fp as f64 <= bound, "{fp} of {probes} false positives (rate {})", f.error_rate());
});
