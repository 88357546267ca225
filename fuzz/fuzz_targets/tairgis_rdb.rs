//! rdb_load on arbitrary bytes (through a slice source) for version 1 and refused ones; what loads
//! saves to a payload that loads equal.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tair_common::rdb::{SliceSource, VecSink};
use tairgis::persist;

fuzz_target!(|data: &[u8]| {
    for v in [0, 2] {
        assert!(persist::load(&mut SliceSource::new(data), v).is_err());
    }
    if let Ok(a) = persist::load(&mut SliceSource::new(data), 1) {
        a.check().expect("invariants after load");
        let mut s = VecSink::default();
        persist::save(&a, &mut s);
        let b = persist::load(&mut SliceSource::new(&s.data), 1).expect("saved payload loads");
        assert_eq!(a, b);
    }
});
