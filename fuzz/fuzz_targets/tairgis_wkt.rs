//! The WKT path of the geometry parser (nesting and trailing-text pre-scan, the wkt crate, validation):
//! never crashes; what parses has canonical WKT that parses back to the same shape, and answers the
//! predicates against a fixed polygon.
//!
//! The predicates run geo's relate, whose `debug_assert!`s (third-party, compiled out of release builds
//! such as the module's) fire on some valid inputs when the fuzzer builds with debug assertions. A panic
//! located in the geo crate is therefore caught here; any other panic still aborts as a finding.
#![no_main]
use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use tairgis::geom;

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let in_geo = info
                .location()
                .is_some_and(|l| l.file().contains("/geo-0."));
            if !in_geo {
                eprintln!("{info}");
                std::process::abort();
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    if data.first() == Some(&b'{') {
        return;
    }
    if let Ok(s) = geom::parse(data) {
        let again = geom::parse(&s.wkt).expect("canonical WKT parses");
        assert_eq!(again, s);
        let q = geom::parse(b"POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))").unwrap();
        let _ = std::panic::catch_unwind(|| {
            let _ = geom::covers(&s.geom, &q.geom);
            let _ = geom::covers(&q.geom, &s.geom);
            let _ = geom::intersects(&s.geom, &q.geom);
        });
    }
});
