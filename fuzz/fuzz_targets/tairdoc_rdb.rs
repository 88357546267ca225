//! rdb_load on arbitrary bytes (through a slice source) for versions 0, 1 and a bad one; what loads saves
//! and loads back to the same document.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tair_common::rdb::{SliceSource, VecSink};

fuzz_target!(|data: &[u8]| {
    for v in [0, 1, 2] {
        if let Ok(d) = tairdoc::persist::load(&mut SliceSource::new(data), v) {
            let mut s = VecSink::default();
            tairdoc::persist::save(&d, &mut s);
            let back = tairdoc::persist::load(&mut SliceSource::new(&s.data), 1).unwrap();
            assert_eq!(back, d);
        }
    }
});
