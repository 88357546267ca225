//! Property tests: every query over a randomly built area equals a brute-force scan of all members with
//! the same predicate (the R-tree never loses a match, never adds one), the area's invariants hold
//! after random inserts, replacements and removals, and WKT and GeoJSON texts of one random shape give
//! the same member.

use proptest::prelude::*;

use crate::area::{GisArea, Query};
use crate::geom::{self, Raw};

type C = (f64, f64);

/// Coordinates on a coarse grid (shared vertices and edges: boundary cases) plus some fine ones.
fn coord() -> impl Strategy<Value = C> {
    prop_oneof![
        ((-10i32..=10), (-10i32..=10)).prop_map(|(x, y)| (f64::from(x), f64::from(y))),
        ((-10.0f64..10.0), (-10.0f64..10.0)),
    ]
}

fn ring() -> impl Strategy<Value = Vec<C>> {
    (coord(), 1i32..6, 1i32..6, any::<bool>()).prop_map(|((x, y), w, h, closed)| {
        let (w, h) = (f64::from(w), f64::from(h));
        let mut r = vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h)];
        if closed {
            r.push((x, y));
        }
        r
    })
}

fn raw() -> impl Strategy<Value = Raw> {
    prop_oneof![
        coord().prop_map(Raw::Point),
        prop::collection::vec(coord(), 2..5).prop_map(Raw::LineString),
        ring().prop_map(|r| Raw::Polygon(vec![r])),
        (coord(), 0i32..3).prop_map(|((x, y), k)| {
            // a triangle, possibly with a triangular hole
            let t = vec![(x, y), (x + 4.0, y), (x, y + 4.0)];
            let mut p = vec![t];
            if k > 0 {
                p.push(vec![
                    (x + 0.5, y + 0.5),
                    (x + 1.5, y + 0.5),
                    (x + 0.5, y + 1.5),
                ]);
            }
            Raw::Polygon(p)
        }),
        prop::collection::vec(coord(), 1..4).prop_map(Raw::MultiPoint),
        prop::collection::vec(prop::collection::vec(coord(), 2..4), 1..3)
            .prop_map(Raw::MultiLineString),
        prop::collection::vec(ring(), 1..3)
            .prop_map(|v| { Raw::MultiPolygon(v.into_iter().map(|r| vec![r]).collect()) }),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Add(u8, Raw),
    Del(u8),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0u8..40, raw()).prop_map(|(n, r)| Op::Add(n, r)),
            1 => (0u8..40).prop_map(Op::Del),
        ],
        1..60,
    )
}

fn name(n: u8) -> Vec<u8> {
    vec![b'm', n]
}

fn brute(a: &GisArea, f: impl Fn(&geo::Geometry<f64>) -> bool) -> Vec<u64> {
    a.iter()
        .filter(|(_, m)| f(&m.shape.geom))
        .map(|(s, _)| s)
        .collect()
}

fn positions_json(l: &[C]) -> String {
    let v: Vec<String> = l.iter().map(|(x, y)| format!("[{x:?},{y:?}]")).collect();
    format!("[{}]", v.join(","))
}

fn rings_json(p: &[Vec<C>]) -> String {
    let v: Vec<String> = p.iter().map(|r| positions_json(r)).collect();
    format!("[{}]", v.join(","))
}

fn geojson_text(r: &Raw) -> String {
    let (t, c) = match r {
        Raw::Point((x, y)) => ("Point", format!("[{x:?},{y:?}]")),
        Raw::LineString(l) => ("LineString", positions_json(l)),
        Raw::MultiPoint(l) => ("MultiPoint", positions_json(l)),
        Raw::Polygon(p) => ("Polygon", rings_json(p)),
        Raw::MultiLineString(m) => ("MultiLineString", rings_json(m)),
        Raw::MultiPolygon(m) => (
            "MultiPolygon",
            format!(
                "[{}]",
                m.iter()
                    .map(|p| rings_json(p))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
    };
    format!(r#"{{"type":"{t}","coordinates":{c}}}"#)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn queries_equal_brute_force(ops in ops(), q in raw(), lon in -12.0f64..12.0,
                                 lat in -12.0f64..12.0, meters in prop_oneof![
                                     Just(0.0), 0.0f64..1_500_000.0, Just(3.0e7)]) {
        let mut a = GisArea::new();
        for op in &ops {
            match op {
                Op::Add(n, r) => { prop_assert!(a.insert(&name(*n), geom::build(r).unwrap())); }
                Op::Del(n) => { a.remove(&name(*n)); }
            }
            prop_assert!(a.check().is_ok());
        }
        let g = geom::build(&q).unwrap();
        prop_assert_eq!(a.query(&Query::Contains(&g.geom, &g.rect)),
                        brute(&a, |m| geom::covers(m, &g.geom)));
        prop_assert_eq!(a.query(&Query::Within(&g.geom, &g.rect)),
                        brute(&a, |m| geom::covers(&g.geom, m)));
        prop_assert_eq!(a.query(&Query::Intersects(&g.geom, &g.rect)),
                        brute(&a, |m| geom::intersects(m, &g.geom)));
        let circle = geo::Geometry::Polygon(geom::search_polygon(lon, lat, meters));
        let radius_hit = |m: &geo::Geometry<f64>| match m {
            geo::Geometry::Point(p) => geom::distance(lon, lat, p.x(), p.y()) <= meters,
            _ if meters >= std::f64::consts::PI * geom::EARTH_RADIUS => true,
            _ if meters == 0.0 => geom::intersects(m, &geo::Geometry::Point(geo::Point::new(lon, lat))),
            _ => geom::intersects(m, &circle),
        };
        prop_assert_eq!(a.query(&Query::Radius { lon, lat, meters }), brute(&a, radius_hit));
        // within-any (GISWITHIN) against itself. (Not simply "every member": a MULTIPOLYGON with
        // overlapping parts is invalid and geo need not find it covering itself.)
        let any: Vec<u64> = a.iter()
            .filter(|(_, p)| a.iter().any(|(_, z)| geom::covers(&z.shape.geom, &p.shape.geom)))
            .map(|(s, _)| s)
            .collect();
        prop_assert_eq!(a.within_any(&a), any);
        // a bulk-loaded copy (as RDB load builds it) answers the same
        let b = GisArea::from_members(a.iter().map(|(_, m)| (m.name.clone(), m.shape.clone())).collect());
        prop_assert!(b.check().is_ok());
        let bq = b.query(&Query::Intersects(&g.geom, &g.rect));
        let names = |x: &GisArea, s: &[u64]| -> Vec<Vec<u8>> {
            s.iter().map(|q| x.by_seq(*q).unwrap().name.to_vec()).collect()
        };
        prop_assert_eq!(names(&b, &bq), names(&a, &a.query(&Query::Intersects(&g.geom, &g.rect))));
    }

    #[test]
    fn wkt_and_geojson_give_the_same_member(r in raw()) {
        let from_wkt = geom::parse(&geom::canonical_wkt(&r)).unwrap();
        let from_json = geom::parse(geojson_text(&r).as_bytes()).unwrap();
        prop_assert_eq!(&from_wkt, &from_json);
        prop_assert_eq!(geom::build(&r).unwrap(), from_wkt);
    }
}
