//! rdb_load on arbitrary bytes (through a slice source) for versions 0, 1 and a bad one.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tair_common::rdb::SliceSource;

fuzz_target!(|data: &[u8]| {
    for v in [0, 1, 2] {
        let _ = tairdoc::persist::load(&mut SliceSource::new(data), v);
    }
});
