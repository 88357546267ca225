//! rdb_load of `tairbloom` on arbitrary bytes (through a slice source) for version 1 and refused ones:
//! what loads saves to exactly the bytes it was read from, loads back equal, answers TFBFSCANDUMP with
//! chunks that TFBFLOADCHUNK rebuilds into an equal filter, and still accepts adds (no false negative).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tair_common::rdb::{SliceSource, VecSink};
use tairbloom::{persist, ScalableBloom};

fuzz_target!(|data: &[u8]| {
    for v in [0, 2, -1] {
        assert!(persist::load(&mut SliceSource::new(data), v).is_err());
    }
    let mut src = SliceSource::new(data);
    let Ok(f) = persist::load(&mut src, 1) else {
        return;
    };
    let used = data.len() - src.remaining();
    let mut out = VecSink::default();
    persist::save(&f, &mut out);
    assert_eq!(Some(&out.data[..]), data.get(..used));
    let back = persist::load(&mut SliceSource::new(&out.data), 1).expect("saved payload loads");
    assert_eq!(back, f);
    assert_eq!(f.size(), f.filters().iter().map(|s| s.bytes()).sum::<u64>());
    assert_eq!(f.card(), f.filters().iter().map(|s| s.items()).sum::<u64>());
    assert!(f.mem_usage() >= f.size());
    // The AOF / SCANDUMP form rebuilds it.
    let mut rebuilt: Option<ScalableBloom> = None;
    persist::rewrite_commands(&f, b"k", |args| {
        let it: u64 = std::str::from_utf8(args[1]).unwrap().parse().unwrap();
        match &mut rebuilt {
            None => {
                assert_eq!(it, 1);
                rebuilt = Some(ScalableBloom::from_header(args[2]).expect("header loads"));
            }
            Some(r) => r.load_chunk(it, args[2]).expect("chunk loads"),
        }
    });
    assert_eq!(rebuilt.as_ref(), Some(&f));
    let mut g = f.clone();
    for item in [&b"a"[..], b"", data.get(..used.min(16)).unwrap_or(&[])] {
        let before = g.card();
        match g.add(item) {
            Ok(added) => {
                assert!(g.exists(item));
                assert_eq!(g.card(), before + u64::from(added));
            }
            Err(_) => assert_eq!(g.card(), before),
        }
    }
});
