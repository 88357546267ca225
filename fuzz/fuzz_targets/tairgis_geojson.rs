//! The GeoJSON path of the geometry parser (serde_json with its nesting limit, the geojson crate,
//! validation) and GISADD's Feature / FeatureCollection reading: never crashes; what parses has
//! canonical WKT that parses back to the same shape.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tairgis::{commands, geom};

fuzz_target!(|data: &[u8]| {
    let mut v = Vec::with_capacity(data.len() + 1);
    if data.first() != Some(&b'{') {
        v.push(b'{');
    }
    v.extend_from_slice(data);
    if let Ok(s) = geom::parse(&v) {
        let again = geom::parse(&s.wkt).expect("canonical WKT parses");
        assert_eq!(again, s);
    }
    if let Ok(members) = commands::gisadd_members(&v) {
        for (_, s) in members {
            assert_eq!(geom::parse(&s.wkt).expect("canonical WKT parses"), s);
        }
    }
});
