//! tairgis: named points, lines and polygons per key with spatial queries, in WKT and GeoJSON (spec
//! `tairgis.md`). Registration only here.
//!
//! - [`geom`]: the pure geometry layer: WKT / GeoJSON parsing, validation, canonical WKT, predicates
//!   (covers, intersects), Valkey's GEO distance, the radius-search polygon and envelope.
//! - [`area`]: [`area::GisArea`], the key's value: members by name and by insertion number, an `rstar`
//!   R-tree over their rectangles, queries.
//! - [`commands`]: one function per command (Tair family `GIS.*`, seed family `GIS*`).
//! - [`persist`]: the module type `exgistype` (RDB v1, AOF rewrite, digest, memory, copy).

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod area;
#[cfg(test)]
mod area_tests;
pub mod commands;
pub mod configs;
pub mod geom;
pub mod persist;

use tair_common::command::{CommandDef, KeyAccess, Keys};
use tair_common::module::{ArgDoc, ArgKind, CommandDoc, ModuleDef};
use tair_common::value::create_type;
use tair_common::{cmd, RO, RW};

use area::GisArea;

/// GISWITHIN: both keys (zones, then points), read; both in one slot in cluster mode.
const TWO_KEYS: Keys = Keys::Range {
    first: 1,
    last: 2,
    step: 1,
    access: KeyAccess::Read,
};

static COMMANDS: [CommandDef; 12] = [
    cmd!("gis.add", commands::gis_add, "write deny-oom", -4, RW),
    cmd!("gis.get", commands::gis_get, "readonly fast", 3, RO),
    cmd!("gis.getall", commands::gis_getall, "readonly", -2, RO),
    cmd!("gis.del", commands::gis_del, "write", 3, RW),
    cmd!("gis.contains", commands::gis_contains, "readonly", -3, RO),
    cmd!("gis.within", commands::gis_within, "readonly", -3, RO),
    cmd!(
        "gis.intersects",
        commands::gis_intersects,
        "readonly",
        -3,
        RO
    ),
    cmd!("gis.search", commands::gis_search, "readonly", -3, RO),
    cmd!("gisadd", commands::gisadd, "write deny-oom", -3, RW),
    cmd!("giscontains", commands::giscontains, "readonly", 3, RO),
    cmd!("gisintersects", commands::gisintersects, "readonly", 3, RO),
    cmd!("giswithin", commands::giswithin, "readonly", 3, TWO_KEYS),
];

const AREA: ArgDoc = ArgDoc::arg("area", ArgKind::Key);
const GEOM: ArgDoc = ArgDoc::arg("geometry", ArgKind::String);
// The query options of GIS.CONTAINS / WITHIN / INTERSECTS / SEARCH.
const WITHVALUE: ArgDoc = ArgDoc::opt("withvalue", ArgKind::PureToken, Some("WITHVALUE"));
const WITHOUTVALUE: ArgDoc = ArgDoc::opt("withoutvalue", ArgKind::PureToken, Some("WITHOUTVALUE"));
const WITHOUTWKT: ArgDoc = ArgDoc::opt("withoutwkt", ArgKind::PureToken, Some("WITHOUTWKT"));
const WITHDIST: ArgDoc = ArgDoc::opt("withdist", ArgKind::PureToken, Some("WITHDIST"));
const ASC: ArgDoc = ArgDoc::opt("asc", ArgKind::PureToken, Some("ASC"));
const DESC: ArgDoc = ArgDoc::opt("desc", ArgKind::PureToken, Some("DESC"));
const COUNT: ArgDoc = ArgDoc::opt("count", ArgKind::Integer, Some("COUNT"));
const LIMIT: ArgDoc = ArgDoc::opt("limit", ArgKind::Integer, Some("LIMIT"));
const PRED_ARGS: [ArgDoc; 10] = [
    AREA,
    GEOM,
    WITHVALUE,
    WITHOUTVALUE,
    WITHOUTWKT,
    WITHDIST,
    ASC,
    DESC,
    COUNT,
    LIMIT,
];
const LOG_K: &str = "O(log(N) + K*C) with N members, K candidates, C the predicate's cost";

static DOCS: [CommandDoc; 12] = [
    CommandDoc {
        command: "gis.add",
        summary: "Adds or replaces named geometries (WKT or GeoJSON)",
        complexity: "O(M*(log(N) + G)) for M pairs of G positions",
        since: "1.0.0",
        args: &[AREA, ArgDoc::many("name geometry", ArgKind::String)],
    },
    CommandDoc {
        command: "gis.get",
        summary: "Returns a member's canonical WKT",
        complexity: "O(log(N) + G)",
        since: "1.0.0",
        args: &[AREA, ArgDoc::arg("name", ArgKind::String)],
    },
    CommandDoc {
        command: "gis.getall",
        summary: "Returns every member (and its WKT) in name order",
        complexity: "O(N*G)",
        since: "1.0.0",
        args: &[AREA, WITHOUTWKT, WITHOUTVALUE, WITHVALUE],
    },
    CommandDoc {
        command: "gis.del",
        summary: "Deletes a member",
        complexity: "O(log(N))",
        since: "1.0.0",
        args: &[AREA, ArgDoc::arg("name", ArgKind::String)],
    },
    CommandDoc {
        command: "gis.contains",
        summary: "Members covering the geometry",
        complexity: LOG_K,
        since: "1.0.0",
        args: &PRED_ARGS,
    },
    CommandDoc {
        command: "gis.within",
        summary: "Members covered by the geometry",
        complexity: LOG_K,
        since: "1.0.0",
        args: &PRED_ARGS,
    },
    CommandDoc {
        command: "gis.intersects",
        summary: "Members sharing a point with the geometry",
        complexity: LOG_K,
        since: "1.0.0",
        args: &PRED_ARGS,
    },
    CommandDoc {
        command: "gis.search",
        summary: "Members within a radius of a point or member, or meeting a geometry",
        complexity: "O(log(N) + K*C + K*log(K))",
        since: "1.0.0",
        args: &[
            AREA,
            ArgDoc::opt("radius", ArgKind::Double, Some("RADIUS")),
            ArgDoc::opt("member", ArgKind::String, Some("MEMBER")),
            ArgDoc::opt("geom", ArgKind::String, Some("GEOM")),
            WITHVALUE,
            WITHOUTVALUE,
            WITHOUTWKT,
            WITHDIST,
            ASC,
            DESC,
            COUNT,
            LIMIT,
        ],
    },
    CommandDoc {
        command: "gisadd",
        summary: "Adds GeoJSON Features (named by properties.id / properties.name / id)",
        complexity: "O(M*(log(N) + G))",
        since: "1.0.0",
        args: &[
            ArgDoc::arg("key", ArgKind::Key),
            ArgDoc::many("feature", ArgKind::String),
        ],
    },
    CommandDoc {
        command: "giscontains",
        summary: "Names of the members covering the geometry",
        complexity: LOG_K,
        since: "1.0.0",
        args: &[ArgDoc::arg("key", ArgKind::Key), GEOM],
    },
    CommandDoc {
        command: "gisintersects",
        summary: "Names of the members sharing a point with the geometry",
        complexity: LOG_K,
        since: "1.0.0",
        args: &[ArgDoc::arg("key", ArgKind::Key), GEOM],
    },
    CommandDoc {
        command: "giswithin",
        summary: "Names of the members of pointskey inside some member of zoneskey",
        complexity: "O(P*(log(Z) + C))",
        since: "1.0.0",
        args: &[
            ArgDoc::arg("zoneskey", ArgKind::Key),
            ArgDoc::arg("pointskey", ArgKind::Key),
        ],
    },
];

pub static MODULE: ModuleDef = ModuleDef {
    name: c"tairgis",
    version: 1,
    types: &[create_type::<GisArea>],
    commands: &COMMANDS,
    load_args: &[],
    init: None,
    configs: &configs::CONFIGS,
    info: &configs::INFO,
    docs: &DOCS,
    ..ModuleDef::EMPTY
};

tair_common::tair_module!(MODULE);
