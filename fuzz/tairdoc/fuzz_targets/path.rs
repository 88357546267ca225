//! The path parser (all forms, with the length and bracket-nesting limits) and, for paths that parse,
//! evaluation on a fixed document.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tairdoc::doc::{self, PathKind};

fuzz_target!(|data: &[u8]| {
    let root = doc::parse_json(br#"{"a":[1,{"b":"x"},[2,3]],"c":{"d":null,"e":4.5}}"#).unwrap();
    for dollar in [false, true] {
        if let Ok(p) = doc::parse_path(data, dollar) {
            match p {
                PathKind::Root => {}
                PathKind::Pointer(s) | PathKind::Singular(s) => {
                    let _ = doc::walk(&root, &s);
                }
                PathKind::Multi(m) => {
                    if let Ok(locs) = doc::query_locations(&root, &m) {
                        let _ = doc::write_order(&root, &locs);
                    }
                }
            }
        }
    }
});
