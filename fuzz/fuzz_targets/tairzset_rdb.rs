//! rdb_load of `tairzset_` on arbitrary bytes (through a slice source) for version 0 and refused ones:
//! what loads keeps every invariant (`check`), is in score-then-member order without NaN, saves to a
//! payload of exactly the length it was read from that loads to the same members and scores, and its
//! AOF form names every member once.
#![no_main]
use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use tair_common::rdb::{SliceSource, VecSink};
use tairzset::{persist, score, TairZset};

type Entry = (Vec<u8>, Vec<u64>);

fn entries(z: &TairZset) -> Vec<Entry> {
    z.iter().map(|(m, s)| (m.to_vec(), s.iter().map(|v| v.to_bits()).collect())).collect()
}

fuzz_target!(|data: &[u8]| {
    for v in [-1, 1, 2] {
        assert!(persist::load(&mut SliceSource::new(data), v).is_err());
    }
    let mut src = SliceSource::new(data);
    let Ok(z) = persist::load(&mut src, 0) else {
        return;
    };
    let used = data.len() - src.remaining();
    z.check().expect("invariants after load");
    assert!(!z.is_empty());
    let e = entries(&z);
    assert_eq!(e.len(), z.len());
    for w in e.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (sa, sb): (Vec<f64>, Vec<f64>) =
            (a.1.iter().map(|&x| f64::from_bits(x)).collect(), b.1.iter().map(|&x| f64::from_bits(x)).collect());
        assert!(sa.iter().all(|v| !v.is_nan()));
        let o = score::compare(&sa, &sb).then_with(|| a.0.cmp(&b.0));
        assert_eq!(o, Ordering::Less, "order");
    }
    for (rank, (m, _)) in e.iter().enumerate() {
        assert_eq!(z.rank(m), Some(rank));
    }
    let mut out = VecSink::default();
    persist::save(&z, &mut out);
    assert_eq!(out.data.len(), used);
    let back = persist::load(&mut SliceSource::new(&out.data), 0).expect("saved payload loads");
    back.check().expect("invariants after reload");
    assert_eq!(entries(&back), e);
    let mut named = Vec::new();
    persist::rewrite_commands(&z, b"k", |args| {
        assert_eq!(args[0], b"k");
        for pair in args[1..].chunks(2) {
            named.push(pair[1].to_vec());
            let t = tairzset::ScoreTuple::parse(pair[0]).expect("AOF score parses");
            assert_eq!(z.score(pair[1]).map(|s| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>()),
                Some(t.as_slice().iter().map(|v| v.to_bits()).collect()));
        }
    });
    named.sort();
    let mut members: Vec<Vec<u8>> = e.into_iter().map(|x| x.0).collect();
    members.sort();
    assert_eq!(named, members);
});
