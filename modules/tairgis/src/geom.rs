//! Geometry input (spec §4): format detection, WKT through `wkt` and GeoJSON through `geojson` into one
//! intermediate form ([`Raw`], coordinates exactly as received), validation, canonical WKT, and the
//! `geo` geometry with every ring closed ([`Shape`]). Pure: no server, unit-tested below.

use geo::{BoundingRect, Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon};
use geo::{Point, Polygon, Rect};

/// Most positions in one geometry.
pub const MAX_POINTS: usize = 1_000_000;
/// Deepest WKT parenthesis nesting (MULTIPOLYGON).
const MAX_WKT_DEPTH: usize = 3;

/// Why a geometry argument was refused; [`GeomError::reason`] is the text after
/// `ERR invalid geometry: `.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeomError {
    MalformedWkt,
    MalformedGeoJson,
    Unsupported,
    Empty,
    Not2D,
    OutOfRange,
    LineTooShort,
    RingTooShort,
    TooManyPoints,
}

impl GeomError {
    pub fn reason(self) -> &'static str {
        match self {
            GeomError::MalformedWkt => "malformed WKT",
            GeomError::MalformedGeoJson => "malformed GeoJSON",
            GeomError::Unsupported => "unsupported geometry type",
            GeomError::Empty => "empty geometry",
            GeomError::Not2D => "only 2D coordinates are supported",
            GeomError::OutOfRange => "coordinate out of range",
            GeomError::LineTooShort => "linestring needs at least 2 points",
            GeomError::RingTooShort => "polygon ring needs at least 4 points",
            GeomError::TooManyPoints => "too many points",
        }
    }
}

type C = (f64, f64);

/// A geometry as received (rings not closed), before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Point(C),
    LineString(Vec<C>),
    Polygon(Vec<Vec<C>>),
    MultiPoint(Vec<C>),
    MultiLineString(Vec<Vec<C>>),
    MultiPolygon(Vec<Vec<Vec<C>>>),
}

/// A validated geometry: canonical WKT, the geo geometry (rings closed), its bounding rectangle.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub wkt: Box<[u8]>,
    pub geom: Geometry<f64>,
    pub rect: Rect<f64>,
    /// Number of positions (for memory estimates).
    pub points: usize,
}

impl Shape {
    /// Reference point: the centre of the bounding rectangle (a point's own position).
    pub fn center(&self) -> (f64, f64) {
        let c = self.rect.center();
        (c.x, c.y)
    }

    pub fn as_point(&self) -> Option<(f64, f64)> {
        match &self.geom {
            Geometry::Point(p) => Some((p.x(), p.y())),
            _ => None,
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| !is_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|&c| !is_space(c))
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or(&[])
}

/// Parses a geometry argument in WKT or GeoJSON (Geometry or Feature) and validates it.
pub fn parse(input: &[u8]) -> Result<Shape, GeomError> {
    build(&parse_raw(input)?)
}

/// Like [`parse`] for a query geometry, which is never printed: no canonical WKT is made (`wkt` is
/// empty), and the common `POINT (x y)` is read without the wkt crate (same result, see
/// [`simple_point`]).
pub fn parse_query(input: &[u8]) -> Result<Shape, GeomError> {
    if let Some(c) = simple_point(input) {
        let raw = Raw::Point(c);
        validate(&raw)?;
        let geom = to_geo(&raw);
        let rect = geom.bounding_rect().ok_or(GeomError::Empty)?;
        return Ok(Shape {
            wkt: Box::default(),
            geom,
            rect,
            points: 1,
        });
    }
    build_with(&parse_raw(input)?, false)
}

fn parse_raw(input: &[u8]) -> Result<Raw, GeomError> {
    let t = trim(input);
    if t.first() == Some(&b'{') {
        geojson_raw(t)
    } else {
        wkt_raw(t)
    }
}

/// `POINT` (any case), optional whitespace, `(`, two plain decimal numbers (digits, one point, an
/// optional leading `-`, no exponent) separated by whitespace, `)`, nothing else but whitespace: the
/// coordinates, else `None` (the general parser then decides).
pub fn simple_point(input: &[u8]) -> Option<C> {
    let t = trim(input);
    t.get(..5).filter(|k| k.eq_ignore_ascii_case(b"POINT"))?;
    let body = trim(t.get(5..)?);
    let inner = body.strip_prefix(b"(")?.strip_suffix(b")")?;
    let mut it = inner.split(|c| is_space(*c)).filter(|s| !s.is_empty());
    let (x, y) = (it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    Some((plain_number(x)?, plain_number(y)?))
}

fn plain_number(b: &[u8]) -> Option<f64> {
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let dots = digits.iter().filter(|c| **c == b'.').count();
    let ok = !digits.is_empty()
        && dots <= 1
        && digits.iter().any(u8::is_ascii_digit)
        && digits.iter().all(|c| c.is_ascii_digit() || *c == b'.');
    if !ok {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

// ---- WKT ----------------------------------------------------------------------------------------------

/// Nesting and trailing-text checks before the wkt crate sees the text (bounds its recursion; the crate
/// ignores trailing text). `()` anywhere is an empty geometry.
fn wkt_prescan(t: &[u8]) -> Result<(), GeomError> {
    let mut depth = 0usize;
    let mut closed = false;
    let mut commas = 0usize;
    let mut last_open = false;
    for &c in t {
        if closed {
            // Only whitespace may follow the outermost ')' (t is trimmed: anything here is text).
            return Err(GeomError::MalformedWkt);
        }
        match c {
            b'(' => {
                depth += 1;
                if depth > MAX_WKT_DEPTH {
                    return Err(GeomError::MalformedWkt);
                }
                last_open = true;
                continue;
            }
            b')' => {
                if last_open {
                    return Err(GeomError::Empty);
                }
                depth = depth.checked_sub(1).ok_or(GeomError::MalformedWkt)?;
                if depth == 0 {
                    closed = true;
                }
            }
            b',' => commas += 1,
            _ => {}
        }
        if !is_space(c) {
            last_open = false;
        }
    }
    if depth != 0 {
        return Err(GeomError::MalformedWkt);
    }
    // Every position but the first of a part is preceded by a comma, and at most one comma per
    // position separates parts: positions >= commas / 2.
    if commas / 2 > MAX_POINTS {
        return Err(GeomError::TooManyPoints);
    }
    Ok(())
}

fn wkt_coord(c: &wkt::types::Coord<f64>) -> Result<C, GeomError> {
    if c.z.is_some() || c.m.is_some() {
        return Err(GeomError::Not2D);
    }
    Ok((c.x, c.y))
}

fn wkt_dim(d: wkt::types::Dimension) -> Result<(), GeomError> {
    if d == wkt::types::Dimension::XY {
        Ok(())
    } else {
        Err(GeomError::Not2D)
    }
}

fn wkt_line(l: &wkt::types::LineString<f64>) -> Result<Vec<C>, GeomError> {
    wkt_dim(l.dimension())?;
    l.coords().iter().map(wkt_coord).collect()
}

fn wkt_poly(p: &wkt::types::Polygon<f64>) -> Result<Vec<Vec<C>>, GeomError> {
    wkt_dim(p.dimension())?;
    p.rings().iter().map(wkt_line).collect()
}

fn wkt_point(p: &wkt::types::Point<f64>) -> Result<C, GeomError> {
    wkt_dim(p.dimension())?;
    wkt_coord(p.coord().ok_or(GeomError::Empty)?)
}

/// Why the wkt crate refused `s`: positions of 3 or 4 numbers without a Z/M tag are 2D violations
/// (the crate only reads them after a tag), anything else is malformed.
fn untagged_3d(s: &str) -> GeomError {
    let three = s.split(['(', ')', ',']).any(|chunk| {
        let toks: Vec<&str> = chunk.split_ascii_whitespace().collect();
        toks.len() >= 3 && toks.iter().all(|t| t.parse::<f64>().is_ok())
    });
    if three {
        GeomError::Not2D
    } else {
        GeomError::MalformedWkt
    }
}

fn wkt_raw(t: &[u8]) -> Result<Raw, GeomError> {
    wkt_prescan(t)?;
    let s = std::str::from_utf8(t).map_err(|_| GeomError::MalformedWkt)?;
    let w: wkt::Wkt<f64> = s.parse().map_err(|_| untagged_3d(s))?;
    use wkt::Wkt;
    Ok(match &w {
        Wkt::Point(p) => Raw::Point(wkt_point(p)?),
        Wkt::LineString(l) => Raw::LineString(wkt_line(l)?),
        Wkt::Polygon(p) => Raw::Polygon(wkt_poly(p)?),
        Wkt::MultiPoint(m) => {
            wkt_dim(m.dimension())?;
            Raw::MultiPoint(m.points().iter().map(wkt_point).collect::<Result<_, _>>()?)
        }
        Wkt::MultiLineString(m) => {
            wkt_dim(m.dimension())?;
            Raw::MultiLineString(
                m.line_strings()
                    .iter()
                    .map(wkt_line)
                    .collect::<Result<_, _>>()?,
            )
        }
        Wkt::MultiPolygon(m) => {
            wkt_dim(m.dimension())?;
            Raw::MultiPolygon(
                m.polygons()
                    .iter()
                    .map(wkt_poly)
                    .collect::<Result<_, _>>()?,
            )
        }
        Wkt::GeometryCollection(_) => return Err(GeomError::Unsupported),
    })
}

// ---- GeoJSON ------------------------------------------------------------------------------------------

/// Parses GeoJSON text (serde_json bounds its nesting at 128).
pub fn parse_geojson(t: &[u8]) -> Result<geojson::GeoJson, GeomError> {
    serde_json::from_slice::<geojson::GeoJson>(t).map_err(|_| GeomError::MalformedGeoJson)
}

fn gj_pos(p: &geojson::Position) -> Result<C, GeomError> {
    match p.as_slice() {
        [x, y] => Ok((*x, *y)),
        [_, _, _, ..] => Err(GeomError::Not2D),
        _ => Err(GeomError::MalformedGeoJson),
    }
}

fn gj_line(l: &[geojson::Position]) -> Result<Vec<C>, GeomError> {
    l.iter().map(gj_pos).collect()
}

fn gj_poly(p: &[Vec<geojson::Position>]) -> Result<Vec<Vec<C>>, GeomError> {
    p.iter().map(|r| gj_line(r)).collect()
}

/// The geometry of a GeoJSON Geometry object.
pub fn geojson_geometry(g: &geojson::Geometry) -> Result<Raw, GeomError> {
    use geojson::GeometryValue as V;
    Ok(match &g.value {
        V::Point { coordinates } => {
            if coordinates.is_empty() {
                return Err(GeomError::Empty);
            }
            Raw::Point(gj_pos(coordinates)?)
        }
        V::MultiPoint { coordinates } => Raw::MultiPoint(gj_line(coordinates)?),
        V::LineString { coordinates } => Raw::LineString(gj_line(coordinates)?),
        V::MultiLineString { coordinates } => Raw::MultiLineString(
            coordinates
                .iter()
                .map(|l| gj_line(l))
                .collect::<Result<_, _>>()?,
        ),
        V::Polygon { coordinates } => Raw::Polygon(gj_poly(coordinates)?),
        V::MultiPolygon { coordinates } => Raw::MultiPolygon(
            coordinates
                .iter()
                .map(|p| gj_poly(p))
                .collect::<Result<_, _>>()?,
        ),
        V::GeometryCollection { .. } => return Err(GeomError::Unsupported),
    })
}

/// The geometry of a GeoJSON Feature (`"geometry": null` is empty).
pub fn feature_geometry(f: &geojson::Feature) -> Result<Raw, GeomError> {
    match &f.geometry {
        Some(g) => geojson_geometry(g),
        None => Err(GeomError::Empty),
    }
}

fn geojson_raw(t: &[u8]) -> Result<Raw, GeomError> {
    match parse_geojson(t)? {
        geojson::GeoJson::Geometry(g) => geojson_geometry(&g),
        geojson::GeoJson::Feature(f) => feature_geometry(&f),
        geojson::GeoJson::FeatureCollection(_) => Err(GeomError::Unsupported),
    }
}

// ---- validation, canonical WKT, geo geometry ----------------------------------------------------------

fn count_points(r: &Raw) -> usize {
    match r {
        Raw::Point(_) => 1,
        Raw::LineString(l) | Raw::MultiPoint(l) => l.len(),
        Raw::Polygon(p) | Raw::MultiLineString(p) => p.iter().map(Vec::len).sum(),
        Raw::MultiPolygon(m) => m.iter().flat_map(|p| p.iter().map(Vec::len)).sum(),
    }
}

fn check_coord(&(x, y): &C) -> Result<(), GeomError> {
    if (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y) {
        Ok(())
    } else {
        // NaN and infinities fail the range test too.
        Err(GeomError::OutOfRange)
    }
}

fn check_line(l: &[C]) -> Result<(), GeomError> {
    l.iter().try_for_each(check_coord)?;
    if l.len() < 2 {
        return Err(GeomError::LineTooShort);
    }
    Ok(())
}

fn check_ring(r: &[C]) -> Result<(), GeomError> {
    r.iter().try_for_each(check_coord)?;
    let closed = r.first() == r.last();
    let n = if closed { r.len() } else { r.len() + 1 };
    if n < 4 {
        return Err(GeomError::RingTooShort);
    }
    Ok(())
}

fn check_poly(p: &[Vec<C>]) -> Result<(), GeomError> {
    if p.is_empty() {
        return Err(GeomError::Empty);
    }
    p.iter().try_for_each(|r| check_ring(r))
}

/// Validates per spec §4.4.
pub fn validate(r: &Raw) -> Result<(), GeomError> {
    if count_points(r) > MAX_POINTS {
        return Err(GeomError::TooManyPoints);
    }
    match r {
        Raw::Point(c) => check_coord(c),
        Raw::LineString(l) => {
            if l.is_empty() {
                return Err(GeomError::Empty);
            }
            check_line(l)
        }
        Raw::Polygon(p) => check_poly(p),
        Raw::MultiPoint(l) => {
            if l.is_empty() {
                return Err(GeomError::Empty);
            }
            l.iter().try_for_each(check_coord)
        }
        Raw::MultiLineString(m) => {
            if m.is_empty() || m.iter().any(Vec::is_empty) {
                return Err(GeomError::Empty);
            }
            m.iter().try_for_each(|l| check_line(l))
        }
        Raw::MultiPolygon(m) => {
            if m.is_empty() {
                return Err(GeomError::Empty);
            }
            m.iter().try_for_each(|p| check_poly(p))
        }
    }
}

/// Appends the shortest decimal that parses back to `v`, never in exponent form, `-0` as `0`.
pub fn push_num(out: &mut Vec<u8>, v: f64) {
    use std::io::Write;
    let v = if v == 0.0 { 0.0 } else { v };
    let _ = write!(out, "{v}");
}

fn push_coord(out: &mut Vec<u8>, &(x, y): &C) {
    push_num(out, x);
    out.push(b' ');
    push_num(out, y);
}

fn push_list(out: &mut Vec<u8>, l: &[C]) {
    out.push(b'(');
    for (i, c) in l.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_coord(out, c);
    }
    out.push(b')');
}

fn push_poly(out: &mut Vec<u8>, p: &[Vec<C>]) {
    out.push(b'(');
    for (i, r) in p.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_list(out, r);
    }
    out.push(b')');
}

/// Canonical WKT (spec §4.4) of a raw geometry.
pub fn canonical_wkt(r: &Raw) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + count_points(r) * 20);
    match r {
        Raw::Point(c) => {
            out.extend_from_slice(b"POINT(");
            push_coord(&mut out, c);
            out.push(b')');
        }
        Raw::LineString(l) => {
            out.extend_from_slice(b"LINESTRING");
            push_list(&mut out, l);
        }
        Raw::Polygon(p) => {
            out.extend_from_slice(b"POLYGON");
            push_poly(&mut out, p);
        }
        Raw::MultiPoint(l) => {
            out.extend_from_slice(b"MULTIPOINT");
            push_list(&mut out, l);
        }
        Raw::MultiLineString(m) => {
            out.extend_from_slice(b"MULTILINESTRING");
            push_poly(&mut out, m);
        }
        Raw::MultiPolygon(m) => {
            out.extend_from_slice(b"MULTIPOLYGON(");
            for (i, p) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_poly(&mut out, p);
            }
            out.push(b')');
        }
    }
    out
}

fn coord(&(x, y): &C) -> Coord<f64> {
    Coord { x, y }
}

fn line(l: &[C]) -> LineString<f64> {
    LineString::new(l.iter().map(coord).collect())
}

fn poly(p: &[Vec<C>]) -> Polygon<f64> {
    let mut rings = p.iter().map(|r| line(r));
    let shell = rings.next().unwrap_or_else(|| LineString::new(Vec::new()));
    // Polygon::new closes every ring.
    Polygon::new(shell, rings.collect())
}

fn to_geo(r: &Raw) -> Geometry<f64> {
    match r {
        Raw::Point(c) => Geometry::Point(Point(coord(c))),
        Raw::LineString(l) => Geometry::LineString(line(l)),
        Raw::Polygon(p) => Geometry::Polygon(poly(p)),
        Raw::MultiPoint(l) => {
            Geometry::MultiPoint(MultiPoint::new(l.iter().map(|c| Point(coord(c))).collect()))
        }
        Raw::MultiLineString(m) => {
            Geometry::MultiLineString(MultiLineString::new(m.iter().map(|l| line(l)).collect()))
        }
        Raw::MultiPolygon(m) => {
            Geometry::MultiPolygon(MultiPolygon::new(m.iter().map(|p| poly(p)).collect()))
        }
    }
}

/// Validates a raw geometry and builds its shape.
pub fn build(r: &Raw) -> Result<Shape, GeomError> {
    build_with(r, true)
}

fn build_with(r: &Raw, with_wkt: bool) -> Result<Shape, GeomError> {
    validate(r)?;
    let geom = to_geo(r);
    let rect = geom.bounding_rect().ok_or(GeomError::Empty)?;
    Ok(Shape {
        wkt: if with_wkt {
            canonical_wkt(r).into_boxed_slice()
        } else {
            Box::default()
        },
        geom,
        rect,
        points: count_points(r),
    })
}

// ---- predicates ---------------------------------------------------------------------------------------

/// Edge pairs (with overlapping rectangles) beyond which `covers` does not run geo's DE-9IM relate:
/// `EDGE_PAIR_BUDGET_PER_EDGE` per edge of both geometries, plus a constant.
/// (The config `tairgis.relate-edge-budget`, settable at run time.)
pub static EDGE_PAIR_BUDGET_PER_EDGE: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_EDGE_PAIR_BUDGET);
/// The default of [`EDGE_PAIR_BUDGET_PER_EDGE`].
pub const DEFAULT_EDGE_PAIR_BUDGET: usize = 16;
/// The largest [`EDGE_PAIR_BUDGET_PER_EDGE`] (a budget quadratic in practice past this).
pub const MAX_EDGE_PAIR_BUDGET: usize = 1 << 20;
const EDGE_PAIR_BUDGET_BASE: usize = 4096;

/// The rectangles of every edge of `g`.
fn edge_rects(g: &Geometry<f64>, out: &mut Vec<rstar::primitives::Rectangle<[f64; 2]>>) {
    let mut line = |l: &LineString<f64>| {
        out.extend(l.lines().map(|e| {
            rstar::primitives::Rectangle::from_corners([e.start.x, e.start.y], [e.end.x, e.end.y])
        }))
    };
    match g {
        Geometry::LineString(l) => line(l),
        Geometry::MultiLineString(m) => m.iter().for_each(line),
        Geometry::Polygon(p) => {
            line(p.exterior());
            p.interiors().iter().for_each(line);
        }
        Geometry::MultiPolygon(m) => m.iter().for_each(|p| {
            line(p.exterior());
            p.interiors().iter().for_each(&mut line);
        }),
        _ => {}
    }
}

/// Whether relate's edge-intersection work on `a` and `b` stays linear: counts edge pairs whose
/// rectangles overlap (each edge meets itself and its neighbours: about 3 per edge for simple shapes),
/// stopping at the budget. A star polygon or two boundaries crossing each other everywhere have a number
/// of crossings quadratic in their vertices, which relate would compute one by one.
pub fn relate_is_cheap(a: &Geometry<f64>, b: &Geometry<f64>) -> bool {
    use rstar::RTree;
    let mut rects = Vec::new();
    edge_rects(a, &mut rects);
    edge_rects(b, &mut rects);
    let budget = rects
        .len()
        .saturating_mul(EDGE_PAIR_BUDGET_PER_EDGE.load(std::sync::atomic::Ordering::Relaxed))
        .saturating_add(EDGE_PAIR_BUDGET_BASE);
    let tree = RTree::bulk_load(rects.clone());
    let mut pairs = 0usize;
    for r in &rects {
        for _ in tree.locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(r)) {
            pairs += 1;
            if pairs > budget {
                return false;
            }
        }
    }
    true
}

/// `a` covers `b` (no point of b outside a; boundary counts). Dispatches on b's type so geo takes its
/// fast paths (a point against a polygon is a point-in-polygon test, not a DE-9IM relate). Where geo
/// would relate two geometries whose edges overlap in more than a linear number of pairs
/// ([`relate_is_cheap`]), the answer is `false` without relating: for simple shapes so many
/// overlapping edges mean crossing boundaries (not covered); for self-intersecting ones the result is
/// unspecified anyway (spec §4.4), and the query never stalls.
pub fn covers(a: &Geometry<f64>, b: &Geometry<f64>) -> bool {
    use geo::Covers;
    let needs_relate = !matches!(b, Geometry::Point(_) | Geometry::MultiPoint(_))
        && !matches!(a, Geometry::Point(_));
    if needs_relate && !relate_is_cheap(a, b) {
        return false;
    }
    match b {
        Geometry::Point(p) => a.covers(p),
        Geometry::MultiPoint(p) => a.covers(p),
        Geometry::LineString(l) => a.covers(l),
        Geometry::MultiLineString(l) => a.covers(l),
        Geometry::Polygon(p) => a.covers(p),
        Geometry::MultiPolygon(p) => a.covers(p),
        other => a.covers(other),
    }
}

/// `a` and `b` share at least one point.
pub fn intersects(a: &Geometry<f64>, b: &Geometry<f64>) -> bool {
    use geo::Intersects;
    match b {
        Geometry::Point(p) => a.intersects(p),
        Geometry::MultiPoint(p) => a.intersects(p),
        Geometry::LineString(l) => a.intersects(l),
        Geometry::MultiLineString(l) => a.intersects(l),
        Geometry::Polygon(p) => a.intersects(p),
        Geometry::MultiPolygon(p) => a.intersects(p),
        other => a.intersects(other),
    }
}

// ---- distances (spec §6) ------------------------------------------------------------------------------

/// Valkey's Earth radius (geohash_helper.c).
pub const EARTH_RADIUS: f64 = 6372797.560856;
const D_R: f64 = std::f64::consts::PI / 180.0;

/// Valkey's `geohashGetDistance`, in metres.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lat1r = lat1 * D_R;
    let lon1r = lon1 * D_R;
    let lat2r = lat2 * D_R;
    let lon2r = lon2 * D_R;
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return EARTH_RADIUS * (lat2r - lat1r).abs();
    }
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// The 64-vertex search polygon of a radius search (r > 0), ring closed.
pub fn search_polygon(lon: f64, lat: f64, meters: f64) -> Polygon<f64> {
    let delta = meters / EARTH_RADIUS;
    let (phi1, lambda1) = (lat * D_R, lon * D_R);
    let mut ring = Vec::with_capacity(65);
    for k in 0..64u32 {
        let theta = f64::from(k) * 5.625 * D_R;
        let phi = (phi1.sin() * delta.cos() + phi1.cos() * delta.sin() * theta.cos()).asin();
        let lambda = lambda1
            + (theta.sin() * delta.sin() * phi1.cos()).atan2(delta.cos() - phi1.sin() * phi.sin());
        ring.push(Coord {
            x: lambda / D_R,
            y: phi / D_R,
        });
    }
    Polygon::new(LineString::new(ring), Vec::new())
}

/// An envelope (min lon, min lat, max lon, max lat) holding every match of a radius search.
pub fn radius_envelope(lon: f64, lat: f64, meters: f64) -> ([f64; 2], [f64; 2]) {
    const FULL: ([f64; 2], [f64; 2]) = ([f64::MIN, f64::MIN], [f64::MAX, f64::MAX]);
    let delta = meters / EARTH_RADIUS;
    if !delta.is_finite() || delta >= std::f64::consts::FRAC_PI_2 {
        return FULL;
    }
    let ddeg = delta / D_R;
    // A little slack for rounding in the polygon's trigonometry.
    let pad = 1e-9 + ddeg * 1e-9;
    let (lat0, lat1) = (lat - ddeg - pad, lat + ddeg + pad);
    if lat0 <= -90.0 || lat1 >= 90.0 {
        return ([f64::MIN, lat0], [f64::MAX, lat1]);
    }
    let s = delta.sin() / (lat * D_R).cos();
    if s.is_nan() || s >= 1.0 {
        return ([f64::MIN, lat0], [f64::MAX, lat1]);
    }
    let dlon = s.asin() / D_R + pad;
    let (lon0, lon1) = (lon - dlon, lon + dlon);
    if lon0 < -180.0 || lon1 > 180.0 {
        return ([f64::MIN, lat0], [f64::MAX, lat1]);
    }
    ([lon0, lat0], [lon1, lat1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> String {
        String::from_utf8(parse(s.as_bytes()).unwrap().wkt.to_vec()).unwrap()
    }

    fn e(s: &str) -> GeomError {
        parse(s.as_bytes()).unwrap_err()
    }

    #[test]
    fn canonical_table() {
        let rows = [
            (
                "POLYGON ((30 10, 40 40, 20 40, 10 20, 30 10))",
                "POLYGON((30 10,40 40,20 40,10 20,30 10))",
            ),
            (
                "polygon ((10 10,10 20,20 20))",
                "POLYGON((10 10,10 20,20 20))",
            ),
            (
                "POINT (-73.9454966 40.747533)",
                "POINT(-73.9454966 40.747533)",
            ),
            ("MULTIPOINT ((30 10), (40 40))", "MULTIPOINT(30 10,40 40)"),
            ("MULTIPOINT (30 10, 40 40)", "MULTIPOINT(30 10,40 40)"),
            (
                "POLYGON((0 0,9 0,9 9,0 9,0 0),(2 2,3 2,3 3,2 2))",
                "POLYGON((0 0,9 0,9 9,0 9,0 0),(2 2,3 2,3 3,2 2))",
            ),
            (
                r#"{"type":"Point","coordinates":[116.397,39.907]}"#,
                "POINT(116.397 39.907)",
            ),
            ("POINT (1e2 -0)", "POINT(100 0)"),
            ("\x0b\x0c POINT(1 2) \r\n", "POINT(1 2)"),
            (
                "MULTIPOLYGON (((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6)))",
                "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6)))",
            ),
            (
                "MULTILINESTRING ((0 0,1 1),(2 2,3 3))",
                "MULTILINESTRING((0 0,1 1),(2 2,3 3))",
            ),
            ("POINT(0.1 1e-7)", "POINT(0.1 0.0000001)"),
        ];
        for (i, o) in rows {
            assert_eq!(w(i), o, "{i}");
        }
    }

    #[test]
    fn errors() {
        use GeomError::*;
        let rows = [
            ("POINT(1 2) junk", MalformedWkt),
            ("POINT(1 2", MalformedWkt),
            ("POINT(1 2))", MalformedWkt),
            ("BLOB(1 2)", MalformedWkt),
            ("", MalformedWkt),
            ("POINT((((1 2))))", MalformedWkt),
            ("GEOMETRYCOLLECTION(POINT(1 2))", Unsupported),
            ("POINT EMPTY", Empty),
            ("POINT()", Empty),
            ("MULTIPOINT EMPTY", Empty),
            ("POINT Z (1 2 3)", Not2D),
            ("POINT (1 2 3)", Not2D),
            ("POINT (200 10)", OutOfRange),
            ("POINT (10 -90.5)", OutOfRange),
            ("POINT (1e400 0)", OutOfRange),
            ("LINESTRING (1 1)", LineTooShort),
            ("MULTILINESTRING ((1 1,2 2),(3 3))", LineTooShort),
            ("POLYGON((0 0, 1 1))", RingTooShort),
            ("POLYGON((0 0,1 1,0 0))", RingTooShort),
            ("{", MalformedGeoJson),
            (r#"{"type":"Point","coordinates":[1]}"#, MalformedGeoJson),
            (r#"{"type":"Point","coordinates":[1,2,3]}"#, Not2D),
            (r#"{"type":"Blob","coordinates":[1,2]}"#, MalformedGeoJson),
            (
                r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}"#,
                Unsupported,
            ),
            (r#"{"type":"FeatureCollection","features":[]}"#, Unsupported),
            (
                r#"{"type":"Feature","geometry":null,"properties":{}}"#,
                Empty,
            ),
            (r#"{"type":"MultiPolygon","coordinates":[]}"#, Empty),
            (r#"{"type":"Point","coordinates":[181,0]}"#, OutOfRange),
        ];
        for (i, want) in rows {
            assert_eq!(e(i), want, "{i}");
        }
        assert_eq!(parse(b"POINT(1 \xff2)").unwrap_err(), MalformedWkt);
        assert!(parse(b"POLYGON((0 0,1 0,1 1))").is_ok());
        assert!(parse(b"POINT(-180 90)").is_ok());
    }

    /// The `POINT (x y)` fast path of query geometries agrees with the general parser.
    #[test]
    fn simple_point_agrees() {
        for t in [
            "POINT (120.505 30.505)",
            "point(1 2)",
            " POINT\t( -0 -90 ) ",
            "POINT (200 1)",
            "POINT (1. .5)",
            "POINT (1e2 1)",
            "POINT (1 2 3)",
            "POINT (1 2) x",
            "POINT (- 1)",
            "POINT (1..2 1)",
            "POINTX (1 2)",
            "POINT ()",
        ] {
            let a = parse(t.as_bytes()).map(|s| (s.geom, s.rect));
            let b = parse_query(t.as_bytes()).map(|s| (s.geom, s.rect));
            assert_eq!(a, b, "{t}");
        }
        assert_eq!(simple_point(b"POINT (1e2 1)"), None);
        assert_eq!(simple_point(b"POINT (1.5 -2)"), Some((1.5, -2.0)));
    }

    #[test]
    fn deep_geojson_is_an_error() {
        let deep = "[".repeat(20_000);
        let s = format!(r#"{{"type":"Point","coordinates":{deep}"#);
        assert_eq!(e(&s), GeomError::MalformedGeoJson);
        let s = format!(r#"{{"type":"Feature","geometry":null,"properties":{{"a":{deep}}}}}"#);
        assert_eq!(e(&s), GeomError::MalformedGeoJson);
    }

    #[test]
    fn predicates_of_the_spec() {
        let d = parse(b"POLYGON((10 0,20 10,10 20,0 10,10 0))")
            .unwrap()
            .geom;
        let p = |s: &str| parse(s.as_bytes()).unwrap().geom;
        assert!(covers(&d, &p("POINT(0 10)")));
        assert!(covers(&d, &p("POINT(10 10)")));
        assert!(!covers(&d, &p("POINT(5 4)")));
        let m = p("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))");
        assert!(covers(&m, &p("POINT(6 6)")));
        let c = p("POLYGON ((30 10, 40 40, 20 40, 10 20, 30 10))");
        assert!(intersects(&c, &p("LINESTRING (30 10, 40 40)")));
        assert!(covers(&p("POLYGON ((30 5, 50 50, 20 50, 5 20, 30 5))"), &c));
    }

    /// A 20,001-vertex star polygon (every edge crosses thousands of others): relate would compute
    /// ~10^8 crossings; covers answers at once, point and intersects queries stay exact.
    #[test]
    fn star_polygon_does_not_stall() {
        let n = 20_001usize;
        let k = n / 2 - 1;
        let v: Vec<String> = (0..n)
            .map(|i| {
                let a = ((i * k) % n) as f64 / n as f64 * std::f64::consts::TAU;
                format!("{} {}", 10.0 * a.cos(), 10.0 * a.sin())
            })
            .collect();
        let star = parse(format!("POLYGON(({}))", v.join(",")).as_bytes()).unwrap();
        let sq = parse(b"POLYGON((-1 -1,1 -1,1 1,-1 1))").unwrap();
        let t = std::time::Instant::now();
        assert!(!covers(&star.geom, &sq.geom));
        assert!(!covers(&sq.geom, &star.geom));
        assert!(intersects(&star.geom, &sq.geom));
        let _ = covers(&star.geom, &parse(b"POINT(0.1 0.1)").unwrap().geom);
        // not a timing assertion: a stall would show as a test that never ends
        eprintln!("star queries took {:?}", t.elapsed());
        // simple shapes are unaffected
        assert!(!relate_is_cheap(&sq.geom, &star.geom));
        let c = parse(b"POLYGON((-5 -5,5 -5,5 5,-5 5))").unwrap();
        assert!(relate_is_cheap(&c.geom, &sq.geom));
        assert!(covers(&c.geom, &sq.geom));
    }

    #[test]
    fn distances_match_valkey() {
        // GEODIST Sicily Palermo Catania = 166274.1516 m
        let d = distance(13.361389, 38.115556, 15.087269, 37.502669);
        // (GEODIST prints 166274.1516: GEO measures from 52-bit geohash cell centres)
        assert_eq!(format!("{:.4}", d), "166274.2578");
        assert_eq!(distance(1.0, 2.0, 1.0, 2.0), 0.0);
        let (lo, hi) = radius_envelope(15.0, 37.0, 200_000.0);
        let poly = search_polygon(15.0, 37.0, 200_000.0);
        for c in poly.exterior().coords() {
            assert!(c.x >= lo[0] && c.x <= hi[0] && c.y >= lo[1] && c.y <= hi[1]);
        }
    }
}
