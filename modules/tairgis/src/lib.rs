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
pub mod geom;
pub mod persist;

use tair_common::command::{CommandDef, KeyAccess, Keys};
use tair_common::module::ModuleDef;
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

pub static MODULE: ModuleDef = ModuleDef {
    name: c"tairgis",
    version: 1,
    types: &[create_type::<GisArea>],
    commands: &COMMANDS,
    load_args: &[],
    init: None,
    ..ModuleDef::EMPTY
};

tair_common::tair_module!(MODULE);
