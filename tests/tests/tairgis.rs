//! tairgis against a real valkey-server: the acceptance transcripts of shared/spec/tairgis.md §11 (Tair
//! family and the seed's delivery zones), every bad-input row, hostile geometry, notifications,
//! persistence (DEBUG RELOAD, AOF rewrite without the RDB preamble + restart, replica digest), forged
//! RESTORE payloads, CROSSSLOT key positions, and GIS.SEARCH RADIUS against GEOSEARCH on random points.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use rand::{Rng, SeedableRng};
use tair_tests::redis::Connection;
use tair_tests::*;

/// A compact rendering of a reply: bulk as its text, `(integer) n`, `(nil)`, `(error) text`, arrays
/// as `[a, b]`.
fn r(c: &mut Connection, args: &[&str]) -> String {
    match cmd(c, args) {
        Ok(v) => fmt(&v),
        Err(e) => format!("(error) {}", err_text(&e)),
    }
}

fn fmt(v: &Value) -> String {
    match v {
        Value::Nil => "(nil)".into(),
        Value::Int(i) => format!("(integer) {i}"),
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(fmt).collect::<Vec<_>>().join(", ")),
        other => format!("{other:?}"),
    }
}

fn start() -> Server {
    Server::builder()
        .module_args("tairgis", &["tair-compat", "yes"])
        .config("databases", "64")
        .start()
}

/// Shared servers, one fresh database per test (tests that restart or reload get their own server).
static POOL: DbPool = DbPool::new(start, 64);

fn rows(c: &mut Connection, rows: &[(&[&str], &str)]) {
    for (args, want) in rows {
        assert_eq!(r(c, args), *want, "{args:?}");
    }
}

const CAMPUS: &str = "POLYGON((30 10,40 40,20 40,10 20,30 10))";
const CATANIA: &str = "POINT(15.087269 37.502669)";
const PALERMO: &str = "POINT(13.361389 38.115556)";

#[test]
fn acceptance_transcript_tair_family() {
    let mut c = POOL.fresh_db();
    let campus_reply = format!("[(integer) 1, [campus, {CAMPUS}]]");
    let sicily_asc =
        format!("[(integer) 2, [Catania, {CATANIA}, 56.4413, Palermo, {PALERMO}, 190.4424]]");
    let sicily_member =
        format!("[(integer) 2, [Palermo, {PALERMO}, 0.0000, Catania, {CATANIA}, 166.2743]]");
    let t: &[(&[&str], &str)] = &[
        (
            &["GIS.ADD", "hangzhou", "campus", "POLYGON ((30 10, 40 40, 20 40, 10 20, 30 10))"],
            "(integer) 1",
        ),
        (&["GIS.GET", "hangzhou", "campus"], CAMPUS),
        (&["TYPE", "hangzhou"], "exgistype"),
        (&["GIS.CONTAINS", "hangzhou", "POINT (30 11)"], &campus_reply),
        (
            &["GIS.WITHIN", "hangzhou", "POLYGON ((30 5, 50 50, 20 50, 5 20, 30 5))", "WITHOUTWKT"],
            "[(integer) 1, [campus]]",
        ),
        (
            &["GIS.INTERSECTS", "hangzhou", "LINESTRING (30 10, 40 40)", "WITHOUTWKT"],
            "[(integer) 1, [campus]]",
        ),
        (&["GIS.CONTAINS", "hangzhou", "POINT (0 0)"], "[(integer) 0, []]"),
        (&["GIS.CONTAINS", "nokey", "POINT (0 0)"], "[]"),
        (&["GIS.GETALL", "nokey"], "(nil)"),
        (
            &["GIS.ADD", "d", "diamond", "POLYGON((10 0,20 10,10 20,0 10,10 0))"],
            "(integer) 1",
        ),
        (
            &["GIS.CONTAINS", "d", "POINT (0 10)", "WITHOUTWKT"],
            "[(integer) 1, [diamond]]",
        ),
        (
            &[
                "GIS.ADD",
                "beijing",
                "tengxun",
                "POLYGON((10 10,10 50,50 50,50 10))",
                "alizhongxin",
                "POLYGON((10 10,10 20,20 20))",
            ],
            "(integer) 2",
        ),
        (
            &["GIS.GETALL", "beijing"],
            "[alizhongxin, POLYGON((10 10,10 20,20 20)), tengxun, POLYGON((10 10,10 50,50 50,50 10))]",
        ),
        (
            &["GIS.CONTAINS", "beijing", "POINT (15 15)", "WITHOUTWKT"],
            "[(integer) 2, [tengxun, alizhongxin]]",
        ),
        (
            &["GIS.ADD", "Sicily", "Palermo", "POINT(13.361389 38.115556)", "Catania", "POINT(15.087269 37.502669)"],
            "(integer) 2",
        ),
        (
            &["GIS.SEARCH", "Sicily", "RADIUS", "15", "37", "200", "km", "WITHDIST", "ASC"],
            &sicily_asc,
        ),
        (
            &[
                "GIS.SEARCH", "Sicily", "RADIUS", "15", "37", "200", "km", "COUNT", "2", "ASC", "DESC",
                "WITHDIST", "WITHOUTWKT",
            ],
            "[(integer) 2, [Catania, 56.4413, Palermo, 190.4424]]",
        ),
        (
            &["GIS.SEARCH", "Sicily", "MEMBER", "Palermo", "200", "km", "WITHDIST", "ASC"],
            &sicily_member,
        ),
        (
            &[
                "GIS.SEARCH", "Sicily", "GEOM", "POLYGON((10 30,20 30,20 40,10 40))", "WITHDIST", "ASC",
                "WITHOUTWKT",
            ],
            "[(integer) 2, [Catania, 4449696.2373, Palermo, 4454733.1882]]",
        ),
        (
            &["GIS.SEARCH", "Sicily", "POLYGON((10 30,20 30,20 40,10 40))", "WITHOUTWKT"],
            "[(integer) 2, [Palermo, Catania]]",
        ),
        (
            &["GIS.SEARCH", "Sicily", "RADIUS", "15", "37", "200", "km", "COUNT", "1", "DESC", "WITHOUTWKT"],
            "[(integer) 1, [Palermo]]",
        ),
        (
            &["GIS.SEARCH", "Sicily", "RADIUS", "15", "37", "200", "km", "LIMIT", "1", "WITHOUTWKT"],
            "[(integer) 1, [Palermo]]",
        ),
        (
            &["GIS.SEARCH", "Sicily", "RADIUS", "0", "0", "50000", "km", "WITHOUTWKT"],
            "[(integer) 2, [Palermo, Catania]]",
        ),
        (
            &["GIS.SEARCH", "Sicily", "RADIUS", "15", "37", "200", "yd"],
            "(error) ERR unsupported unit provided. please use m, km, ft, mi",
        ),
        (
            &["GIS.SEARCH", "Sicily", "RADIUS", "15", "37", "200", "km", "COUNT"],
            "(error) ERR count need number",
        ),
        (
            &["GIS.SEARCH", "Sicily", "MEMBER", "Rome", "10", "km"],
            "(error) ERR member not found",
        ),
        (
            &["GIS.SEARCH", "Sicily", "RADIUS", "15", "37", "1", "km", "GEOM", "POINT(1 1)"],
            "(error) ERR only one of RADIUS, MEMBER and GEOM can be used",
        ),
        (
            &["GIS.ADD", "bad", "x", "POLYGON((0 0, 1 1))"],
            "(error) ERR invalid geometry: polygon ring needs at least 4 points",
        ),
        (
            &["GIS.ADD", "bad", "x", "POINT (200 10)"],
            "(error) ERR invalid geometry: coordinate out of range",
        ),
        (
            &["GIS.ADD", "bad", "ok", "POINT(1 1)", "x", "POINT(1 2) junk"],
            "(error) ERR invalid geometry: malformed WKT",
        ),
        (&["EXISTS", "bad"], "(integer) 0"),
        (&["GIS.DEL", "hangzhou", "campus"], "OK"),
        (&["EXISTS", "hangzhou"], "(integer) 0"),
    ];
    rows(&mut c, t);
}

const STORE1: &str = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[116.397,39.907]},"properties":{"id":"store-001"}}"#;
const ZONE_A: &str = r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[116.39,39.90],[116.41,39.90],[116.41,39.92],[116.39,39.92],[116.39,39.90]]]},"properties":{"name":"zone-A"}}"#;
const STORE7: &str = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[116.405,39.915]},"properties":{"id":"store-007"}}"#;

#[test]
fn acceptance_transcript_seed_delivery_zones() {
    let mut c = POOL.fresh_db();
    let t: &[(&[&str], &str)] = &[
        (&["GISADD", "delivery:stores", STORE1], "(integer) 1"),
        (&["GISADD", "delivery:zones", ZONE_A], "(integer) 1"),
        (
            &[
                "GISCONTAINS",
                "delivery:zones",
                r#"{"type":"Point","coordinates":[116.395,39.910]}"#,
            ],
            "[zone-A]",
        ),
        (
            &["GISWITHIN", "delivery:zones", "delivery:stores"],
            "[store-001]",
        ),
        (&["GISADD", "delivery:stores", STORE7], "(integer) 1"),
        (
            &["GISWITHIN", "delivery:zones", "delivery:stores"],
            "[store-001, store-007]",
        ),
        (
            &[
                "GISINTERSECTS",
                "delivery:zones",
                r#"{"type":"Polygon","coordinates":[[[116.40,39.91],[116.42,39.91],[116.42,39.93],[116.40,39.93],[116.40,39.91]]]}"#,
            ],
            "[zone-A]",
        ),
        (
            &["GIS.GET", "delivery:stores", "store-001"],
            "POINT(116.397 39.907)",
        ),
        (
            &["GISWITHIN", "delivery:stores", "delivery:stores"],
            "[store-001, store-007]",
        ),
        (&["GISWITHIN", "delivery:zones", "nokey"], "[]"),
        (&["GISCONTAINS", "nokey", "POINT(1 1)"], "[]"),
    ];
    rows(&mut c, t);
}

#[test]
fn gisadd_names_and_collections() {
    let mut c = POOL.fresh_db();
    let fc = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[1,2]},"properties":null},
        {"type":"Feature","id":"top","geometry":{"type":"Point","coordinates":[3,4]},"properties":{"name":"nm","id":null}},
        {"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]},"properties":{"id":12.5,"name":"ignored"}}]}"#;
    let t: &[(&[&str], &str)] = &[
        (&["GISADD", "k", fc], "(integer) 3"),
        (&["GIS.GETALL", "k", "WITHOUTWKT"], "[12.5, 7, nm]"),
        (&["GIS.GET", "k", "7"], "POINT(1 2)"),
        (
            &[
                "GISADD",
                "e",
                r#"{"type":"FeatureCollection","features":[]}"#,
            ],
            "(integer) 0",
        ),
        (&["EXISTS", "e"], "(integer) 0"),
        (
            &["GISADD", "k", "POINT(1 2)"],
            "(error) ERR GISADD expects GeoJSON Feature or FeatureCollection",
        ),
        (
            &["GISADD", "k", r#"{"type":"Point","coordinates":[1,2]}"#],
            "(error) ERR GISADD expects GeoJSON Feature or FeatureCollection",
        ),
        (
            &[
                "GISADD",
                "k",
                r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}"#,
            ],
            "(error) ERR GeoJSON feature needs properties.id or properties.name",
        ),
        (
            &[
                "GISADD",
                "k",
                r#"{"type":"Feature","geometry":null,"properties":{"id":"x"}}"#,
            ],
            "(error) ERR invalid geometry: empty geometry",
        ),
        (
            &["GISADD", "k", STORE1, "{"],
            "(error) ERR invalid geometry: malformed GeoJSON",
        ),
        (&["GIS.GET", "k", "store-001"], "(nil)"),
        (
            &["GISADD", "k"],
            "(error) ERR wrong number of arguments for 'gisadd' command",
        ),
    ];
    rows(&mut c, t);
}

#[test]
fn bad_input_rows() {
    let mut c = POOL.fresh_db();
    assert_eq!(
        r(&mut c, &["GIS.ADD", "a", "p", "POINT(1 1)"]),
        "(integer) 1"
    );
    let _: () = query(&mut c, &["SET", "str", "x"]);
    let wt = "(error) WRONGTYPE Operation against a key holding the wrong kind of value";
    let ig = |s: &str| format!("(error) ERR invalid geometry: {s}");
    let deep = format!(r#"{{"type":"Point","coordinates":{}}}"#, "[".repeat(20_000));
    let deep_args = ["GIS.ADD", "a", "x", deep.as_str()];
    let t: Vec<(&[&str], String)> = vec![
        (
            &["GIS.ADD", "a", "p"],
            "(error) ERR wrong number of arguments for 'gis.add' command".into(),
        ),
        (
            &["GIS.ADD", "a", "p", "POINT(1 1)", "q"],
            "(error) ERR wrong number of arguments for 'gis.add' command".into(),
        ),
        (
            &["GIS.GET", "a"],
            "(error) ERR wrong number of arguments for 'gis.get' command".into(),
        ),
        (
            &["GIS.DEL", "a", "p", "q"],
            "(error) ERR wrong number of arguments for 'gis.del' command".into(),
        ),
        (
            &["GISWITHIN", "a"],
            "(error) ERR wrong number of arguments for 'giswithin' command".into(),
        ),
        (
            &["GISCONTAINS", "a", "POINT(1 1)", "x"],
            "(error) ERR wrong number of arguments for 'giscontains' command".into(),
        ),
        (&["GIS.ADD", "str", "p", "POINT(1 1)"], wt.into()),
        (&["GIS.GET", "str", "p"], wt.into()),
        (&["GIS.GETALL", "str"], wt.into()),
        (&["GIS.DEL", "str", "p"], wt.into()),
        (&["GIS.CONTAINS", "str", "POINT(1 1)"], wt.into()),
        (
            &["GIS.SEARCH", "str", "RADIUS", "1", "1", "1", "m"],
            wt.into(),
        ),
        (&["GISADD", "str", STORE1], wt.into()),
        (&["GISWITHIN", "a", "str"], wt.into()),
        (&["GISWITHIN", "str", "a"], wt.into()),
        (
            &["GIS.CONTAINS", "str", "POINT(1 1) x"],
            ig("malformed WKT"),
        ),
        (
            &["GIS.ADD", "a", "x", "GEOMETRYCOLLECTION(POINT(1 1))"],
            ig("unsupported geometry type"),
        ),
        (
            &[
                "GIS.ADD",
                "a",
                "x",
                r#"{"type":"FeatureCollection","features":[]}"#,
            ],
            ig("unsupported geometry type"),
        ),
        (&["GIS.ADD", "a", "x", "POINT EMPTY"], ig("empty geometry")),
        (
            &["GIS.ADD", "a", "x", "MULTIPOLYGON EMPTY"],
            ig("empty geometry"),
        ),
        (
            &["GIS.ADD", "a", "x", "POINT Z (1 2 3)"],
            ig("only 2D coordinates are supported"),
        ),
        (
            &["GIS.ADD", "a", "x", "POINT M (1 2 3)"],
            ig("only 2D coordinates are supported"),
        ),
        (
            &[
                "GIS.ADD",
                "a",
                "x",
                r#"{"type":"Point","coordinates":[1,2,3]}"#,
            ],
            ig("only 2D coordinates are supported"),
        ),
        (
            &["GIS.ADD", "a", "x", "POINT(1e400 1)"],
            ig("coordinate out of range"),
        ),
        (
            &["GIS.ADD", "a", "x", "POINT(1 90.0001)"],
            ig("coordinate out of range"),
        ),
        (
            &["GIS.ADD", "a", "x", "LINESTRING(1 1)"],
            ig("linestring needs at least 2 points"),
        ),
        (
            &["GIS.ADD", "a", "x", "MULTILINESTRING((1 1,2 2),(1 1))"],
            ig("linestring needs at least 2 points"),
        ),
        (
            &["GIS.ADD", "a", "x", "POLYGON((0 0,1 1,0 0))"],
            ig("polygon ring needs at least 4 points"),
        ),
        (
            &["GIS.ADD", "a", "x", "POLYGON((0 0,1 0,1 1,0 0),(0 0,1 1))"],
            ig("polygon ring needs at least 4 points"),
        ),
        (
            &["GIS.ADD", "a", "x", "POINT((((1 1))))"],
            ig("malformed WKT"),
        ),
        (
            &["GIS.ADD", "a", "x", "\x01\x01\x00\x00\x00"],
            ig("malformed WKT"),
        ),
        (&deep_args, ig("malformed GeoJSON")),
        (
            &["GIS.GETALL", "a", "COUNT", "1"],
            "(error) ERR syntax error".into(),
        ),
        (
            &["GIS.GETALL", "a", "WITHOUTWKT", "WITHVALUE"],
            "[p, POINT(1 1)]".into(),
        ),
        (&["GIS.GETALL", "a", "WITHOUTVALUE"], "[p]".into()),
        (
            &["GIS.CONTAINS", "a", "POINT(1 1)", "BOGUS"],
            "(error) ERR syntax error".into(),
        ),
        (
            &[
                "GIS.CONTAINS",
                "a",
                "POINT(1 1)",
                "RADIUS",
                "1",
                "1",
                "1",
                "m",
            ],
            "(error) ERR syntax error".into(),
        ),
        (
            &["GIS.WITHIN", "a", "POINT(1 1)", "GEOM", "POINT(1 1)"],
            "(error) ERR syntax error".into(),
        ),
        (
            &["GIS.INTERSECTS", "a", "POINT(1 1)", "MEMBER", "p", "1", "m"],
            "(error) ERR syntax error".into(),
        ),
        (
            &["GIS.CONTAINS", "a", "POINT(1 1)", "COUNT", "x"],
            "(error) ERR count must be number".into(),
        ),
        (
            &["GIS.CONTAINS", "a", "POINT(1 1)", "COUNT", "0"],
            "(error) ERR count must be > 0".into(),
        ),
        (
            &["GIS.CONTAINS", "a", "POINT(1 1)", "LIMIT"],
            "(error) ERR limit need number".into(),
        ),
        (
            &["GIS.CONTAINS", "a", "POINT(1 1)", "LIMIT", "1.5"],
            "(error) ERR limit must be number".into(),
        ),
        (
            &["GIS.CONTAINS", "a", "POINT(1 1)", "LIMIT", "-1"],
            "(error) ERR limit must be > 0".into(),
        ),
        (
            &["GIS.SEARCH", "a", "RADIUS", "1", "1", "1"],
            "(error) ERR need longitude, latitude, meters, unit".into(),
        ),
        (
            &["GIS.SEARCH", "a", "RADIUS", "x", "1", "1", "m"],
            "(error) ERR need numeric longitude".into(),
        ),
        (
            &["GIS.SEARCH", "a", "RADIUS", "1", "nan", "1", "m"],
            "(error) ERR need numeric latitude".into(),
        ),
        (
            &["GIS.SEARCH", "a", "RADIUS", "1", "1", "inf", "m"],
            "(error) ERR need numeric meters".into(),
        ),
        (
            &["GIS.SEARCH", "a", "RADIUS", "181", "1", "1", "m"],
            "(error) ERR invalid longitude/latitude pair".into(),
        ),
        (
            &["GIS.SEARCH", "a", "RADIUS", "1", "1", "-1", "m"],
            "(error) ERR radius cannot be negative".into(),
        ),
        (
            &["GIS.SEARCH", "a", "MEMBER", "p", "1"],
            "(error) ERR need member, meters, unit".into(),
        ),
        (
            &["GIS.SEARCH", "a", "MEMBER", "p", "1", "parsec"],
            "(error) ERR unsupported unit provided. please use m, km, ft, mi".into(),
        ),
        (
            &["GIS.SEARCH", "a", "GEOM"],
            "(error) ERR need geometry".into(),
        ),
        (
            &["GIS.SEARCH", "a", "WITHDIST"],
            "(error) ERR need RADIUS, MEMBER or GEOM".into(),
        ),
        (
            &["GIS.SEARCH", "a", "POINT(1 1)", "MEMBER", "p", "1", "m"],
            "(error) ERR only one of RADIUS, MEMBER and GEOM can be used".into(),
        ),
        (
            &["GIS.SEARCH", "nokey", "MEMBER", "p", "1", "m"],
            "[]".into(),
        ),
        (
            &["GIS.SEARCH", "a", "radius", "1", "1", "0", "M", "withdist"],
            "[(integer) 1, [p, POINT(1 1), 0.0000]]".into(),
        ),
        (
            &["GIS.SEARCH", "a", "MEMBER", "p", "1", "FT", "withoutwkt"],
            "[(integer) 1, [p]]".into(),
        ),
        (&["GIS.DEL", "a", "nope"], "(nil)".into()),
        (&["GIS.DEL", "nokey", "p"], "(nil)".into()),
        (&["GIS.GET", "a", "nope"], "(nil)".into()),
    ];
    for (args, want) in &t {
        assert_eq!(r(&mut c, args), *want, "{:?}", &args[..args.len().min(4)]);
    }
    assert_eq!(
        r(&mut c, &["GIS.ADD", "a", "l", "LINESTRING(0 0,2 2)"]),
        "(integer) 1"
    );
    assert_eq!(
        r(&mut c, &["GIS.SEARCH", "a", "MEMBER", "l", "1", "m"]),
        "(error) ERR member must be point"
    );
    // binary-safe member names
    let v = cmd(
        &mut c,
        &[&b"GIS.ADD"[..], b"a", b"n\x00\xff", b"POINT(2 2)"],
    )
    .unwrap();
    assert_eq!(fmt(&v), "(integer) 1");
    let v = cmd(&mut c, &[&b"GIS.GET"[..], b"a", b"n\x00\xff"]).unwrap();
    assert_eq!(fmt(&v), "POINT(2 2)");
}

/// Hostile geometry: a 100,000-vertex ring, a self-intersecting polygon, a 1,000,001-position line, and
/// queries against them: an error or an answer, the server alive.
#[test]
fn hostile_geometry() {
    let s = POOL.server(0);
    let mut c = POOL.fresh_db();
    let n = 100_000;
    let ring: Vec<String> = (0..n)
        .map(|i| {
            let a = f64::from(i) / f64::from(n) * std::f64::consts::TAU;
            format!("{} {}", 10.0 * a.cos(), 10.0 * a.sin())
        })
        .collect();
    let big = format!("POLYGON(({}))", ring.join(","));
    assert_eq!(r(&mut c, &["GIS.ADD", "h", "big", &big]), "(integer) 1");
    assert_eq!(
        r(&mut c, &["GIS.CONTAINS", "h", "POINT(0 0)", "WITHOUTWKT"]),
        "[(integer) 1, [big]]"
    );
    assert_eq!(
        r(
            &mut c,
            &[
                "GIS.INTERSECTS",
                "h",
                "LINESTRING(-20 0,20 0)",
                "WITHOUTWKT"
            ]
        ),
        "[(integer) 1, [big]]"
    );
    assert!(r(&mut c, &["GIS.WITHIN", "h", &big, "WITHOUTWKT"]).starts_with("[(integer)"));
    // self-intersecting bow tie: stored, queries answer
    assert_eq!(
        r(
            &mut c,
            &["GIS.ADD", "h", "bow", "POLYGON((0 0,10 10,10 0,0 10,0 0))"]
        ),
        "(integer) 1"
    );
    for q in [
        "POINT(5 5)",
        "POINT(1 5)",
        "LINESTRING(0 0,10 10)",
        "POLYGON((1 1,2 1,2 2,1 1))",
    ] {
        assert!(
            r(&mut c, &["GIS.CONTAINS", "h", q]).starts_with("[(integer)"),
            "{q}"
        );
        assert!(
            r(&mut c, &["GIS.WITHIN", "h", q]).starts_with("[(integer)"),
            "{q}"
        );
        assert!(
            r(&mut c, &["GIS.INTERSECTS", "h", q]).starts_with("[(integer)"),
            "{q}"
        );
    }
    // a 20,001-vertex star polygon: ~10^8 self-crossings that geo's relate would enumerate
    let k = 20_001usize;
    let star: Vec<String> = (0..k)
        .map(|i| {
            let a = ((i * (k / 2 - 1)) % k) as f64 / k as f64 * std::f64::consts::TAU;
            format!("{} {}", 30.0 + a.cos(), 30.0 + a.sin())
        })
        .collect();
    let star = format!("POLYGON(({}))", star.join(","));
    assert_eq!(r(&mut c, &["GIS.ADD", "h", "star", &star]), "(integer) 1");
    for q in [
        "POLYGON((29.9 29.9,30.1 29.9,30.1 30.1,29.9 30.1))",
        star.as_str(),
    ] {
        assert!(r(&mut c, &["GIS.CONTAINS", "h", q]).starts_with("[(integer)"));
        assert!(r(&mut c, &["GIS.WITHIN", "h", q]).starts_with("[(integer)"));
        assert!(r(&mut c, &["GIS.INTERSECTS", "h", q, "WITHOUTWKT"]).contains("star"));
    }
    let many = format!("LINESTRING({})", vec!["1 1"; 1_000_001].join(","));
    assert_eq!(
        r(&mut c, &["GIS.ADD", "h", "many", &many]),
        "(error) ERR invalid geometry: too many points"
    );
    let nested = format!("{}{}", "(".repeat(20_000), ")".repeat(20_000));
    assert_eq!(
        r(&mut c, &["GIS.ADD", "h", "x", &format!("POLYGON{nested}")]),
        "(error) ERR invalid geometry: malformed WKT"
    );
    let deep = format!(
        r#"{{"type":"Feature","properties":{{"id":{}}},"geometry":null}}"#,
        "[".repeat(20_000)
    );
    assert_eq!(
        r(&mut c, &["GISADD", "h", &deep]),
        "(error) ERR invalid geometry: malformed GeoJSON"
    );
    let mem: i64 = query(&mut c, &["MEMORY", "USAGE", "h"]);
    assert!(mem > 1_600_000, "memory usage {mem}");
    s.assert_alive();
}

#[test]
fn notifications_and_propagation_shape() {
    let s = start();
    let mut c = s.conn();
    let mut ev = Events::keyevents(&s, "KEdg");
    assert_eq!(
        r(&mut c, &["GIS.ADD", "k", "a", "POINT(1 1)"]),
        "(integer) 1"
    );
    assert_eq!(r(&mut c, &["GISADD", "k", STORE1]), "(integer) 1");
    assert_eq!(
        r(
            &mut c,
            &[
                "GISADD",
                "k",
                r#"{"type":"FeatureCollection","features":[]}"#
            ]
        ),
        "(integer) 0"
    );
    assert_eq!(r(&mut c, &["GIS.DEL", "k", "nope"]), "(nil)");
    assert_eq!(r(&mut c, &["GIS.DEL", "k", "a"]), "OK");
    assert_eq!(r(&mut c, &["GIS.DEL", "k", "store-001"]), "OK");
    assert_eq!(r(&mut c, &["EXISTS", "k"]), "(integer) 0");
    let got: Vec<String> = ev
        .drain()
        .into_iter()
        .filter(|(_, k)| k == "k")
        .map(|(ch, _)| ch.rsplit(':').next().unwrap().to_string())
        .collect();
    assert_eq!(got, ["gis.add", "gisadd", "gis.del", "gis.del", "del"]);
    // COPY is deep and keeps order; MEMORY USAGE grows with content; TYPE
    assert_eq!(
        r(
            &mut c,
            &["GIS.ADD", "k", "b", "POINT(2 2)", "a", "POINT(1 1)"]
        ),
        "(integer) 2"
    );
    assert_eq!(r(&mut c, &["COPY", "k", "k2"]), "(integer) 1");
    assert_eq!(r(&mut c, &["GIS.DEL", "k", "a"]), "OK");
    assert_eq!(
        r(
            &mut c,
            &[
                "GIS.SEARCH",
                "k2",
                "RADIUS",
                "0",
                "0",
                "50000",
                "km",
                "WITHOUTWKT"
            ]
        ),
        "[(integer) 2, [b, a]]"
    );
    // (k's slot array kept the capacity of its two members; compare one key before and after a member)
    let m1: i64 = query(&mut c, &["MEMORY", "USAGE", "k2"]);
    let added: i64 = query(
        &mut c,
        &["GIS.ADD", "k2", "c", "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"],
    );
    assert_eq!(added, 1);
    let m2: i64 = query(&mut c, &["MEMORY", "USAGE", "k2"]);
    assert!(m2 > m1, "{m1} {m2}");
}

/// Re-adding moves a member to the end of the insertion order; every persistence path keeps it.
fn fill(c: &mut Connection) -> Vec<String> {
    let t: &[(&[&str], &str)] = &[
        (
            &[
                "GIS.ADD",
                "z",
                "b",
                "POLYGON((0 0,10 0,10 10,0 10))",
                "a",
                "POINT(5 5)",
                "c",
                "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6)))",
            ],
            "(integer) 3",
        ),
        (
            &["GIS.ADD", "z", "b", "POLYGON((0 0,10 0,10 10,0 10))"],
            "(integer) 1",
        ),
        (
            &[
                "GIS.ADD",
                "z",
                "l",
                "LINESTRING(-1 -1,20 20)",
                "m",
                "MULTIPOINT(1 1,2 2)",
            ],
            "(integer) 2",
        ),
        (&["GISADD", "y", STORE1, ZONE_A], "(integer) 2"),
    ];
    rows(c, t);
    let queries: [&[&str]; 4] = [
        &[
            "GIS.INTERSECTS",
            "z",
            "POLYGON((0 0,20 0,20 20,0 20))",
            "WITHOUTWKT",
        ],
        &["GIS.GETALL", "z"],
        &[
            "GIS.SEARCH",
            "y",
            "RADIUS",
            "116.4",
            "39.9",
            "10",
            "km",
            "WITHDIST",
        ],
        &["GISWITHIN", "y", "y"],
    ];
    queries.iter().map(|q| r(c, q)).collect()
}

fn answers(c: &mut Connection) -> Vec<String> {
    let queries: [&[&str]; 4] = [
        &[
            "GIS.INTERSECTS",
            "z",
            "POLYGON((0 0,20 0,20 20,0 20))",
            "WITHOUTWKT",
        ],
        &["GIS.GETALL", "z"],
        &[
            "GIS.SEARCH",
            "y",
            "RADIUS",
            "116.4",
            "39.9",
            "10",
            "km",
            "WITHDIST",
        ],
        &["GISWITHIN", "y", "y"],
    ];
    queries.iter().map(|q| r(c, q)).collect()
}

#[test]
fn debug_reload_and_aof_rewrite() {
    let mut s = Server::builder()
        .config("appendonly", "yes")
        .config("aof-use-rdb-preamble", "no")
        .module("tairgis")
        .start();
    let mut c = s.conn();
    let want = fill(&mut c);
    assert_eq!(want[0], "[(integer) 5, [a, c, b, l, m]]");
    let d0 = s.digest(&mut c);
    s.debug_reload(&mut c);
    assert_eq!(answers(&mut c), want);
    assert_eq!(s.digest(&mut c), d0);
    s.rewrite_aof_and_restart();
    let mut c = s.conn();
    assert_eq!(answers(&mut c), want);
    assert_eq!(s.digest(&mut c), d0);
}

#[test]
fn replica_digest() {
    let p = start();
    let mut pc = p.conn();
    fill(&mut pc);
    let rep = Server::builder()
        .module_args("tairgis", &["tair-compat", "yes"])
        .replica_of(&p)
        .start();
    rep.wait_for_sync();
    assert_eq!(
        r(
            &mut pc,
            &["GIS.ADD", "z", "a", "POINT(6 6)", "n", "POINT(7 7)"]
        ),
        "(integer) 2"
    );
    assert_eq!(r(&mut pc, &["GIS.DEL", "z", "c"]), "OK");
    assert_eq!(r(&mut pc, &["GISADD", "y", STORE7]), "(integer) 1");
    wait_replicated(&mut pc, &rep);
    assert_eq!(p.digest_now(), rep.digest_now());
    let mut rc = rep.conn();
    assert_eq!(answers(&mut rc), answers(&mut pc));
}

#[test]
fn forged_restore_payloads() {
    let s = POOL.server(0);
    let mut c = POOL.fresh_db();
    fill(&mut c);
    let full: Vec<u8> = query(&mut c, &["DUMP", "z"]);
    for cut in 0..full.len() {
        let res = cmd(&mut c, &[&b"RESTORE"[..], b"x", b"0", &full[..cut]]);
        if res.is_ok() {
            // a cut inside the CRC trailer can still load (see DESIGN.md): it must be the full value
            assert!(cut + 10 >= full.len(), "cut {cut}");
            let _: () = query(&mut c, &["DEL", "x"]);
        }
    }
    // another encoding version (TairGis's 0 and a future 2) is refused
    for v in [0u16, 2] {
        let p = tair_tests::dump::set_module_encver(&full, v);
        assert!(
            cmd(&mut c, &[&b"RESTORE"[..], b"x", b"0", &p[..]]).is_err(),
            "encver {v}"
        );
    }
    // a geometry made invalid inside a valid payload (CRC fixed) is refused
    let bad = tair_tests::dump::edit_value(&full, |v| {
        let at = v.windows(5).position(|w| w == b"POINT").unwrap();
        v[at] = b'X';
    });
    assert!(cmd(&mut c, &[&b"RESTORE"[..], b"x", b"0", &bad[..]]).is_err());
    assert!(cmd(&mut c, &[&b"RESTORE"[..], b"x", b"0", &full[..]]).is_ok());
    assert_eq!(
        r(&mut c, &["GIS.GETALL", "x"]),
        r(&mut c, &["GIS.GETALL", "z"])
    );
    s.assert_alive();
}

/// GISWITHIN declares both keys: keys in different slots are refused by a cluster node (CROSSSLOT) —
/// checked here through COMMAND GETKEYS, which reads the same key specs.
#[test]
fn key_positions() {
    let mut c = POOL.fresh_db();
    assert_eq!(
        r(
            &mut c,
            &["COMMAND", "GETKEYS", "GISWITHIN", "zones", "stores"]
        ),
        "[zones, stores]"
    );
    assert_eq!(
        r(
            &mut c,
            &["COMMAND", "GETKEYS", "GIS.ADD", "k", "n", "POINT(1 1)"]
        ),
        "[k]"
    );
    assert_eq!(
        r(
            &mut c,
            &[
                "COMMAND",
                "GETKEYS",
                "GIS.SEARCH",
                "k",
                "MEMBER",
                "m",
                "1",
                "m"
            ]
        ),
        "[k]"
    );
    // COMMAND DOCS
    let docs = r(&mut c, &["COMMAND", "DOCS", "gis.add", "giswithin"]);
    assert!(docs.contains("Adds or replaces named geometries"), "{docs}");
    assert!(docs.contains("pointskey"), "{docs}");
}

/// GIS.SEARCH RADIUS over points equals GEOSEARCH BYRADIUS on the same points: same members, distances
/// within 0.01 m. The points are added with GEOADD first and GIS.ADDed at the coordinates GEOPOS reads
/// back (GEO stores 52-bit geohashes, so both sides then measure from the same coordinates).
#[test]
fn radius_equals_geosearch() {
    let mut c = POOL.fresh_db();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let n = 400;
    for i in 0..n {
        let lon: f64 = rng.gen_range(119.0..121.0);
        let lat: f64 = rng.gen_range(29.0..31.0);
        let _: i64 = query(
            &mut c,
            &[
                "GEOADD",
                "geo",
                &lon.to_string(),
                &lat.to_string(),
                &format!("p{i}"),
            ],
        );
    }
    for i in 0..n {
        let pos: Vec<Vec<String>> = query(&mut c, &["GEOPOS", "geo", &format!("p{i}")]);
        let w = format!("POINT({} {})", pos[0][0], pos[0][1]);
        assert_eq!(
            r(&mut c, &["GIS.ADD", "gis", &format!("p{i}"), &w]),
            "(integer) 1"
        );
    }
    for _ in 0..40 {
        let lon: f64 = rng.gen_range(119.0..121.0);
        let lat: f64 = rng.gen_range(29.0..31.0);
        let meters: f64 = rng.gen_range(1000.0..60000.0);
        let (lo, la, rad) = (lon.to_string(), lat.to_string(), format!("{meters:.1}"));
        let geo: Vec<(String, f64)> = query(
            &mut c,
            &[
                "GEOSEARCH",
                "geo",
                "FROMLONLAT",
                &lo,
                &la,
                "BYRADIUS",
                &rad,
                "m",
                "ASC",
                "WITHDIST",
            ],
        );
        let v = cmd(
            &mut c,
            &[
                "GIS.SEARCH",
                "gis",
                "RADIUS",
                &lo,
                &la,
                &rad,
                "m",
                "ASC",
                "WITHDIST",
                "WITHOUTWKT",
            ],
        )
        .unwrap();
        let Value::Array(top) = v else { panic!() };
        let Value::Array(flat) = &top[1] else {
            panic!()
        };
        let gis: Vec<(String, f64)> = flat
            .chunks(2)
            .map(|p| {
                (
                    value_text(&p[0]).unwrap(),
                    value_text(&p[1]).unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(gis.len(), geo.len(), "{lo} {la} {rad}");
        let mut gn: Vec<_> = gis.iter().map(|p| p.0.clone()).collect();
        let mut vn: Vec<_> = geo.iter().map(|p| p.0.clone()).collect();
        gn.sort();
        vn.sort();
        assert_eq!(gn, vn);
        for (name, d) in &gis {
            let (_, gd) = geo.iter().find(|p| &p.0 == name).unwrap();
            assert!((d - gd).abs() <= 0.01, "{name}: {d} vs {gd}");
        }
    }
}
