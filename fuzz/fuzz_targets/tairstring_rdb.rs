//! rdb_load of `exstrtype` on arbitrary bytes (through a slice source) for version 0 and refused ones:
//! what loads saves to exactly the bytes it was read from, which load to an equal value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tair_common::rdb::{SliceSource, VecSink};
use tairstring::persist;

fuzz_target!(|data: &[u8]| {
    for v in [-1, 1, 2] {
        assert!(persist::load(&mut SliceSource::new(data), v).is_err());
    }
    let mut src = SliceSource::new(data);
    if let Ok(s) = persist::load(&mut src, 0) {
        let used = data.len() - src.remaining();
        let mut out = VecSink::default();
        persist::save(&s, &mut out);
        assert_eq!(Some(&out.data[..]), data.get(..used));
        let back = persist::load(&mut SliceSource::new(&out.data), 0).expect("saved payload loads");
        assert_eq!(back, s);
        assert!(s.mem_usage() >= std::mem::size_of_val(&s));
    }
});
