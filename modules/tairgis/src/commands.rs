//! One function per command (spec tairgis.md §7-§8). Order of checks: arity → options and numbers →
//! geometry parsing and validation → key type → semantics. Everything is validated before the area
//! changes; geometry work runs under `catch_unwind` and a panic replies `ERR internal error`.

use std::ffi::CStr;

use tair_common::args::{eq_ic, parse_f64, parse_i64};
use tair_common::error::{CmdError, CmdResult, SYNTAX};
use tair_common::propagate::replicate;
use tair_common::{Args, Ctx};

use crate::area::{GisArea, Member, Query};
use crate::geom::{self, GeomError, Raw, Shape};

const INTERNAL: CmdError = CmdError::Static(c"ERR internal error");
const TOO_MANY: CmdError = CmdError::Static(c"ERR too many members");
const COUNT_NEED: CmdError = CmdError::Static(c"ERR count need number");
const COUNT_NUM: CmdError = CmdError::Static(c"ERR count must be number");
const COUNT_POS: CmdError = CmdError::Static(c"ERR count must be > 0");
const LIMIT_NEED: CmdError = CmdError::Static(c"ERR limit need number");
const LIMIT_NUM: CmdError = CmdError::Static(c"ERR limit must be number");
const LIMIT_POS: CmdError = CmdError::Static(c"ERR limit must be > 0");
const NEED_RADIUS: CmdError = CmdError::Static(c"ERR need longitude, latitude, meters, unit");
const NEED_LON: CmdError = CmdError::Static(c"ERR need numeric longitude");
const NEED_LAT: CmdError = CmdError::Static(c"ERR need numeric latitude");
const NEED_METERS: CmdError = CmdError::Static(c"ERR need numeric meters");
const BAD_UNIT: CmdError =
    CmdError::Static(c"ERR unsupported unit provided. please use m, km, ft, mi");
const BAD_PAIR: CmdError = CmdError::Static(c"ERR invalid longitude/latitude pair");
const NEG_RADIUS: CmdError = CmdError::Static(c"ERR radius cannot be negative");
const NEED_MEMBER: CmdError = CmdError::Static(c"ERR need member, meters, unit");
const NO_MEMBER: CmdError = CmdError::Static(c"ERR member not found");
const NOT_POINT: CmdError = CmdError::Static(c"ERR member must be point");
const NEED_GEOM: CmdError = CmdError::Static(c"ERR need geometry");
const TWO_SHAPES: CmdError =
    CmdError::Static(c"ERR only one of RADIUS, MEMBER and GEOM can be used");
const NO_SHAPE: CmdError = CmdError::Static(c"ERR need RADIUS, MEMBER or GEOM");
const NOT_FEATURE: CmdError =
    CmdError::Static(c"ERR GISADD expects GeoJSON Feature or FeatureCollection");
const NO_NAME: CmdError =
    CmdError::Static(c"ERR GeoJSON feature needs properties.id or properties.name");

/// `ERR invalid geometry: <reason>`.
pub fn geom_err(e: GeomError) -> CmdError {
    CmdError::msg(format!("ERR invalid geometry: {}", e.reason()))
}

/// Runs geometry work; a panic inside geo/wkt/geojson/rstar becomes `ERR internal error`.
fn guarded<R>(f: impl FnOnce() -> CmdResult<R>) -> CmdResult<R> {
    tair_common::guard::catch(f).unwrap_or(Err(INTERNAL))
}

fn shape(b: &[u8]) -> CmdResult<Shape> {
    guarded(|| geom::parse(b).map_err(geom_err))
}

/// A query geometry (never printed: no canonical WKT).
fn query_shape(b: &[u8]) -> CmdResult<Shape> {
    guarded(|| geom::parse_query(b).map_err(geom_err))
}

fn propagate(ctx: &Ctx, name: &CStr, args: &Args) {
    let a: Vec<&[u8]> = args.iter().skip(1).collect();
    replicate(ctx, name, &a);
}

fn notify(ctx: &Ctx, ev: &CStr, args: &Args) {
    if let Some(k) = args.raw(1) {
        ctx.notify_module(ev, k);
    }
}

/// Inserts `members` into the key (created if missing), in order.
fn store(ctx: &Ctx, args: &Args, members: Vec<(Box<[u8]>, Shape)>) -> CmdResult {
    let mut key = ctx.open_write(args.raw_arg(1)?);
    match key.value_mut::<GisArea>()? {
        Some(a) => guarded(|| {
            for (n, s) in members {
                if !a.insert(&n, s) {
                    return Err(TOO_MANY);
                }
            }
            Ok(())
        }),
        None => {
            let a = guarded(|| {
                let mut a = GisArea::new();
                for (n, s) in members {
                    if !a.insert(&n, s) {
                        return Err(TOO_MANY);
                    }
                }
                Ok(a)
            })?;
            key.set_value(a).map(|_| ())
        }
    }
}

// ---- GIS.ADD / GISADD ---------------------------------------------------------------------------------

pub fn gis_add(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(args.wrong_arity());
    }
    let mut members = Vec::with_capacity((args.len() - 2) / 2);
    let mut i = 2;
    while let (Some(n), Some(g)) = (args.get(i), args.get(i + 1)) {
        members.push((Box::<[u8]>::from(n), shape(g)?));
        i += 2;
    }
    let n = members.len();
    store(ctx, &args, members)?;
    ctx.reply_int(i64::try_from(n).unwrap_or(i64::MAX));
    notify(ctx, c"gis.add", &args);
    propagate(ctx, c"GIS.ADD", &args);
    Ok(())
}

/// A feature's name: `properties.id`, `properties.name`, then the top-level `id`.
fn feature_name(f: &geojson::Feature) -> Option<Box<[u8]>> {
    let usable = |v: &serde_json::Value| -> Option<Box<[u8]>> {
        match v {
            serde_json::Value::String(s) => Some(s.as_bytes().into()),
            serde_json::Value::Number(n) => Some(n.to_string().into_bytes().into()),
            _ => None,
        }
    };
    if let Some(p) = &f.properties {
        for k in ["id", "name"] {
            if let Some(n) = p.get(k).and_then(usable) {
                return Some(n);
            }
        }
    }
    match &f.id {
        Some(geojson::feature::Id::String(s)) => Some(s.as_bytes().into()),
        Some(geojson::feature::Id::Number(n)) => Some(n.to_string().into_bytes().into()),
        None => None,
    }
}

fn feature_member(f: &geojson::Feature) -> CmdResult<(Box<[u8]>, Shape)> {
    let raw: Raw = geom::feature_geometry(f).map_err(geom_err)?;
    let name = feature_name(f).ok_or(NO_NAME)?;
    Ok((name, geom::build(&raw).map_err(geom_err)?))
}

/// The members a GISADD argument holds (a Feature, or each feature of a FeatureCollection).
pub fn gisadd_members(arg: &[u8]) -> CmdResult<Vec<(Box<[u8]>, Shape)>> {
    let t = arg.trim_ascii_start();
    if t.first() != Some(&b'{') {
        return Err(NOT_FEATURE);
    }
    match geom::parse_geojson(t).map_err(geom_err)? {
        geojson::GeoJson::Feature(f) => Ok(vec![feature_member(&f)?]),
        geojson::GeoJson::FeatureCollection(fc) => fc.features.iter().map(feature_member).collect(),
        geojson::GeoJson::Geometry(_) => Err(NOT_FEATURE),
    }
}

pub fn gisadd(ctx: &Ctx, args: Args) -> CmdResult {
    let mut members = Vec::new();
    for a in args.iter().skip(2) {
        members.extend(guarded(|| gisadd_members(a))?);
    }
    let n = members.len();
    if n > 0 {
        store(ctx, &args, members)?;
    } else {
        // Nothing to store: the key is only type-checked.
        ctx.open_read(args.raw_arg(1)?).value::<GisArea>()?;
    }
    ctx.reply_int(i64::try_from(n).unwrap_or(i64::MAX));
    if n > 0 {
        notify(ctx, c"gisadd", &args);
        propagate(ctx, c"GISADD", &args);
    }
    Ok(())
}

// ---- GIS.GET / GIS.GETALL / GIS.DEL -------------------------------------------------------------------

pub fn gis_get(ctx: &Ctx, args: Args) -> CmdResult {
    let key = ctx.open_read(args.raw_arg(1)?);
    match key.value::<GisArea>()?.and_then(|a| a.get(args.at(2))) {
        Some(m) => ctx.reply_bulk(&m.shape.wkt),
        None => ctx.reply_null(),
    }
    Ok(())
}

pub fn gis_getall(ctx: &Ctx, args: Args) -> CmdResult {
    let mut with_value = true;
    for a in args.iter().skip(2) {
        if eq_ic(a, b"withoutwkt") || eq_ic(a, b"withoutvalue") {
            with_value = false;
        } else if eq_ic(a, b"withvalue") {
            with_value = true;
        } else {
            return Err(SYNTAX);
        }
    }
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(area) = key.value::<GisArea>()? else {
        ctx.reply_null();
        return Ok(());
    };
    ctx.reply_array(area.len() * if with_value { 2 } else { 1 });
    for m in area.iter_by_name() {
        ctx.reply_bulk(&m.name);
        if with_value {
            ctx.reply_bulk(&m.shape.wkt);
        }
    }
    Ok(())
}

pub fn gis_del(ctx: &Ctx, args: Args) -> CmdResult {
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(area) = key.value_mut::<GisArea>()? else {
        ctx.reply_null();
        return Ok(());
    };
    if !guarded(|| Ok(area.remove(args.at(2))))? {
        ctx.reply_null();
        return Ok(());
    }
    let emptied = area.is_empty();
    if emptied {
        key.delete()?;
    }
    ctx.reply_ok();
    notify(ctx, c"gis.del", &args);
    if emptied {
        if let Some(k) = args.raw(1) {
            ctx.notify_generic(c"del", k);
        }
    }
    propagate(ctx, c"GIS.DEL", &args);
    Ok(())
}

// ---- queries ------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Asc,
    Desc,
}

struct Opts {
    with_value: bool,
    with_dist: bool,
    order: Option<Order>,
    count: Option<usize>,
    limit: Option<usize>,
}

enum ShapeArg<'a> {
    Radius {
        lon: f64,
        lat: f64,
        meters: f64,
        unit: f64,
    },
    Member {
        name: &'a [u8],
        meters: f64,
        unit: f64,
    },
    Geom(&'a [u8]),
}

const KEYWORDS: [&[u8]; 11] = [
    b"radius",
    b"member",
    b"geom",
    b"withvalue",
    b"withoutvalue",
    b"withoutwkt",
    b"withdist",
    b"asc",
    b"desc",
    b"count",
    b"limit",
];

fn is_keyword(a: &[u8]) -> bool {
    KEYWORDS.iter().any(|k| eq_ic(a, k))
}

fn unit_factor(u: &[u8]) -> CmdResult<f64> {
    if eq_ic(u, b"m") {
        Ok(1.0)
    } else if eq_ic(u, b"km") {
        Ok(1000.0)
    } else if eq_ic(u, b"ft") {
        Ok(0.3048)
    } else if eq_ic(u, b"mi") {
        Ok(1609.34)
    } else {
        Err(BAD_UNIT)
    }
}

fn number(b: &[u8], err: CmdError) -> CmdResult<f64> {
    parse_f64(b).filter(|v| v.is_finite()).ok_or(err)
}

fn positive(b: Option<&[u8]>, need: CmdError, num: CmdError, pos: CmdError) -> CmdResult<usize> {
    let v = parse_i64(b.ok_or(need)?).ok_or(num)?;
    if v <= 0 {
        return Err(pos);
    }
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

/// Parses options from `i`; with `shapes`, also RADIUS / MEMBER / GEOM (GIS.SEARCH).
fn parse_opts<'a>(
    args: &Args<'a>,
    mut i: usize,
    shapes: bool,
    shape: &mut Option<ShapeArg<'a>>,
) -> CmdResult<Opts> {
    let mut o = Opts {
        with_value: true,
        with_dist: false,
        order: None,
        count: None,
        limit: None,
    };
    while let Some(a) = args.get(i) {
        i += 1;
        if eq_ic(a, b"withvalue") {
            o.with_value = true;
        } else if eq_ic(a, b"withoutvalue") || eq_ic(a, b"withoutwkt") {
            o.with_value = false;
        } else if eq_ic(a, b"withdist") {
            o.with_dist = true;
        } else if eq_ic(a, b"asc") {
            o.order.get_or_insert(Order::Asc);
        } else if eq_ic(a, b"desc") {
            o.order.get_or_insert(Order::Desc);
        } else if eq_ic(a, b"count") {
            o.count = Some(positive(args.get(i), COUNT_NEED, COUNT_NUM, COUNT_POS)?);
            i += 1;
        } else if eq_ic(a, b"limit") {
            o.limit = Some(positive(args.get(i), LIMIT_NEED, LIMIT_NUM, LIMIT_POS)?);
            i += 1;
        } else if shapes && eq_ic(a, b"radius") {
            if shape.is_some() {
                return Err(TWO_SHAPES);
            }
            let (Some(x), Some(y), Some(d), Some(u)) = (
                args.get(i),
                args.get(i + 1),
                args.get(i + 2),
                args.get(i + 3),
            ) else {
                return Err(NEED_RADIUS);
            };
            i += 4;
            let lon = number(x, NEED_LON)?;
            let lat = number(y, NEED_LAT)?;
            let dist = number(d, NEED_METERS)?;
            let unit = unit_factor(u)?;
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(BAD_PAIR);
            }
            if dist < 0.0 {
                return Err(NEG_RADIUS);
            }
            *shape = Some(ShapeArg::Radius {
                lon,
                lat,
                meters: dist * unit,
                unit,
            });
        } else if shapes && eq_ic(a, b"member") {
            if shape.is_some() {
                return Err(TWO_SHAPES);
            }
            let (Some(name), Some(d), Some(u)) = (args.get(i), args.get(i + 1), args.get(i + 2))
            else {
                return Err(NEED_MEMBER);
            };
            i += 3;
            let dist = number(d, NEED_METERS)?;
            let unit = unit_factor(u)?;
            if dist < 0.0 {
                return Err(NEG_RADIUS);
            }
            *shape = Some(ShapeArg::Member {
                name,
                meters: dist * unit,
                unit,
            });
        } else if shapes && eq_ic(a, b"geom") {
            if shape.is_some() {
                return Err(TWO_SHAPES);
            }
            let g = args.get(i).ok_or(NEED_GEOM)?;
            i += 1;
            *shape = Some(ShapeArg::Geom(g));
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(o)
}

/// Replies with the matches `seqs` (ascending insertion numbers) per the options; distances from
/// `center` in units of `unit` metres.
fn reply_matches(ctx: &Ctx, mut seqs: Vec<&Member>, o: &Opts, center: (f64, f64), unit: f64) {
    if let Some(l) = o.limit {
        seqs.truncate(l);
    }
    let order = match (o.order, o.count) {
        (Some(x), _) => Some(x),
        (None, Some(_)) => Some(Order::Asc),
        (None, None) => None,
    };
    let mut rows: Vec<(&Member, f64)> = seqs
        .into_iter()
        .map(|m| {
            let d = if o.with_dist || order.is_some() {
                let (x, y) = m.shape.center();
                geom::distance(center.0, center.1, x, y) / unit
            } else {
                0.0
            };
            (m, d)
        })
        .collect();
    match order {
        Some(Order::Asc) => rows.sort_by(|a, b| a.1.total_cmp(&b.1)),
        Some(Order::Desc) => rows.sort_by(|a, b| b.1.total_cmp(&a.1)),
        None => {}
    }
    if let Some(c) = o.count {
        rows.truncate(c);
    }
    ctx.reply_array(2);
    ctx.reply_int(i64::try_from(rows.len()).unwrap_or(i64::MAX));
    let per = 1 + usize::from(o.with_value) + usize::from(o.with_dist);
    ctx.reply_array(rows.len() * per);
    for (m, d) in rows {
        ctx.reply_bulk(&m.name);
        if o.with_value {
            ctx.reply_bulk(&m.shape.wkt);
        }
        if o.with_dist {
            ctx.reply_bulk(format!("{d:.4}").as_bytes());
        }
    }
}

#[derive(Clone, Copy)]
enum Pred {
    Contains,
    Within,
    Intersects,
}

fn run_query<'a>(area: &'a GisArea, pred: Pred, g: &Shape) -> CmdResult<Vec<&'a Member>> {
    guarded(|| {
        Ok(area.query_members(&match pred {
            Pred::Contains => Query::Contains(&g.geom, &g.rect),
            Pred::Within => Query::Within(&g.geom, &g.rect),
            Pred::Intersects => Query::Intersects(&g.geom, &g.rect),
        }))
    })
}

fn predicate_cmd(ctx: &Ctx, args: Args, pred: Pred) -> CmdResult {
    let mut none = None;
    let o = parse_opts(&args, 3, false, &mut none)?;
    let g = query_shape(args.at(2))?;
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(area) = key.value::<GisArea>()? else {
        ctx.reply_array(0);
        return Ok(());
    };
    let seqs = run_query(area, pred, &g)?;
    reply_matches(ctx, seqs, &o, (0.0, 0.0), 1.0);
    Ok(())
}

pub fn gis_contains(ctx: &Ctx, args: Args) -> CmdResult {
    predicate_cmd(ctx, args, Pred::Contains)
}

pub fn gis_within(ctx: &Ctx, args: Args) -> CmdResult {
    predicate_cmd(ctx, args, Pred::Within)
}

pub fn gis_intersects(ctx: &Ctx, args: Args) -> CmdResult {
    predicate_cmd(ctx, args, Pred::Intersects)
}

pub fn gis_search(ctx: &Ctx, args: Args) -> CmdResult {
    let mut sh = None;
    let mut from = 2;
    if let Some(a) = args.get(2) {
        if !is_keyword(a) {
            sh = Some(ShapeArg::Geom(a));
            from = 3;
        }
    }
    let o = parse_opts(&args, from, true, &mut sh)?;
    let sh = sh.ok_or(NO_SHAPE)?;
    let g = match sh {
        ShapeArg::Geom(b) => Some(query_shape(b)?),
        _ => None,
    };
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(area) = key.value::<GisArea>()? else {
        ctx.reply_array(0);
        return Ok(());
    };
    let (seqs, center, unit) = match (&sh, &g) {
        (_, Some(g)) => (run_query(area, Pred::Intersects, g)?, (0.0, 0.0), 1.0),
        (
            ShapeArg::Radius {
                lon,
                lat,
                meters,
                unit,
            },
            None,
        ) => {
            let q = Query::Radius {
                lon: *lon,
                lat: *lat,
                meters: *meters,
            };
            (guarded(|| Ok(area.query_members(&q)))?, (*lon, *lat), *unit)
        }
        (ShapeArg::Member { name, meters, unit }, None) => {
            let m = area.get(name).ok_or(NO_MEMBER)?;
            let (lon, lat) = m.shape.as_point().ok_or(NOT_POINT)?;
            let q = Query::Radius {
                lon,
                lat,
                meters: *meters,
            };
            (guarded(|| Ok(area.query_members(&q)))?, (lon, lat), *unit)
        }
        (ShapeArg::Geom(_), None) => return Err(INTERNAL),
    };
    reply_matches(ctx, seqs, &o, center, unit);
    Ok(())
}

// ---- GISCONTAINS / GISINTERSECTS / GISWITHIN ----------------------------------------------------------

fn reply_names(ctx: &Ctx, members: &[&Member]) {
    ctx.reply_array(members.len());
    for m in members {
        ctx.reply_bulk(&m.name);
    }
}

fn names_cmd(ctx: &Ctx, args: Args, pred: Pred) -> CmdResult {
    let g = query_shape(args.at(2))?;
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(area) = key.value::<GisArea>()? else {
        ctx.reply_array(0);
        return Ok(());
    };
    let found = run_query(area, pred, &g)?;
    reply_names(ctx, &found);
    Ok(())
}

pub fn giscontains(ctx: &Ctx, args: Args) -> CmdResult {
    names_cmd(ctx, args, Pred::Contains)
}

pub fn gisintersects(ctx: &Ctx, args: Args) -> CmdResult {
    names_cmd(ctx, args, Pred::Intersects)
}

pub fn giswithin(ctx: &Ctx, args: Args) -> CmdResult {
    let zk = ctx.open_read(args.raw_arg(1)?);
    let pk = ctx.open_read(args.raw_arg(2)?);
    let zones = zk.value::<GisArea>()?;
    let points = pk.value::<GisArea>()?;
    let (Some(zones), Some(points)) = (zones, points) else {
        ctx.reply_array(0);
        return Ok(());
    };
    let found = guarded(|| Ok(zones.within_any_members(points)))?;
    reply_names(ctx, &found);
    Ok(())
}
