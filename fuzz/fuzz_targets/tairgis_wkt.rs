//! The WKT path of the geometry parser (nesting and trailing-text pre-scan, the wkt crate, validation):
//! never crashes; what parses has canonical WKT that parses back to the same shape, and answers the
//! predicates against a fixed polygon.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tairgis::geom;

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        return;
    }
    if let Ok(s) = geom::parse(data) {
        let again = geom::parse(&s.wkt).expect("canonical WKT parses");
        assert_eq!(again, s);
        let q = geom::parse(b"POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))").unwrap();
        let _ = geom::covers(&s.geom, &q.geom);
        let _ = geom::covers(&q.geom, &s.geom);
        let _ = geom::intersects(&s.geom, &q.geom);
    }
});
