//! The path parser (all forms, with the length and bracket-nesting limits) and, for paths that parse,
//! evaluation on a fixed document: the stored form's walker against the `Value` walker, and writes
//! (set, remove) on the stored form against the same writes on a `Value`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tairdoc::doc::{self, PathKind};
use tairdoc::store;

const DOC: &[u8] = br#"{"a":[1,{"b":"x"},[2,3]],"c":{"d":null,"e":4.5}}"#;

fuzz_target!(|data: &[u8]| {
    let root = doc::parse_json(DOC).unwrap();
    let buf = store::parse(DOC).unwrap().buf;
    for dollar in [false, true] {
        if let Ok(p) = doc::parse_path(data, dollar) {
            match p {
                PathKind::Root => {}
                PathKind::Pointer(s) | PathKind::Singular(s) => {
                    let a = doc::walk(&root, &s).cloned();
                    let b = store::walk(&buf, &s, None).map(|at| store::to_value(&buf, at));
                    assert_eq!(a, b);
                    let mut w = buf.clone();
                    if store::set_at(&mut w, &s, b"\x06\x01z").is_ok() {
                        assert_eq!(store::end(&w, 0), Some(w.len()));
                        let t = store::text(&w, 0);
                        assert_eq!(store::parse(&t).unwrap().buf, w);
                    }
                    let mut w = buf.clone();
                    if store::remove_at(&mut w, &s).is_some() {
                        assert_eq!(store::end(&w, 0), Some(w.len()));
                        let t = store::text(&w, 0);
                        assert_eq!(store::parse(&t).unwrap().buf, w);
                    }
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
