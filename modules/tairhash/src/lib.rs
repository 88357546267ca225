//! tairhash: a hash whose fields each carry their own version and optional expiry time (spec
//! `tairhash.md`). This file registers the module: type `tairhash-`, the thirty commands, the load
//! arguments, and the active-expiry timer and event hooks.
//!
//! The server layer:
//!
//! - [`commands`] (writes) and [`reads`]: one function per command; [`cmd_args`] their options;
//! - `access`: the command's clock and role, opening keys, passive expiry and the effects of removing
//!   expired fields; EXHSCAN's MATCH is `tair_common::glob`;
//! - `active`: load arguments and settings, the per-database registries and the statistics; `cycle`:
//!   the active expiry timer and the keyspace / server events that keep the registries right;
//! - `configs`: the configs `tairhash.*` and the INFO fields; `docs`: COMMAND DOCS of every command;
//! - [`persist`]: the module type's callbacks.
//!
//! The pure layer knows nothing of the server:
//!
//! - [`hash`]: the value type [`TairHash`] and every operation the commands need, [`options`] their
//!   options, outcomes and errors; [`compact`]: the one-buffer encoding of small values;
//! - `big` (the big encoding: table and expiry heap), `field` (the one-allocation field block) and
//!   `table` (the chained field table with a resumable cursor), crate-private;
//! - [`expire`]: the per-key expiry index; [`registry`]: the per-database [`ExpiryRegistry`] (keys
//!   in buckets of due time, validated against each value's stamp);
//! - [`number`]: Valkey's strict number syntax and the float formatting of EXHINCRBYFLOAT;
//! - [`codec`]: the persisted layout over `tair-common`'s byte-level `Sink`/`Source`.
//!
//! Time is always passed in as `now` (Unix milliseconds). A field with expiry `T` is expired once
//! `T <= now`; stored expiries are always >= 1, so `now = 0` means "ignore expiry" (commands replayed
//! from the AOF or arriving from the primary act on the fields as stored).

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

mod access;
mod active;
mod big;
pub mod cmd_args;
pub mod codec;
pub mod commands;
pub mod compact;
mod configs;
mod cycle;
mod docs;
pub mod expire;
pub(crate) mod field;
pub mod hash;
pub mod number;
pub mod options;
pub mod persist;
pub mod reads;
pub mod registry;
pub(crate) mod table;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

pub use codec::{LoadError, ENCODING_VERSION, TYPE_NAME};
pub use hash::TairHash;
pub use options::{
    Condition, ExpiryChange, FieldTtl, FieldView, HashError, IncrOptions, MsetEntry, ScanPage,
    SetOptions, SetOutcome, VersionRule, Written, MAX_EXPIRE_MS, MAX_VERSION,
};
pub use registry::ExpiryRegistry;

pub use active::Config;
pub use tair_common::glob::glob_match;

use tair_common::command::{CommandDef, Keys};
use tair_common::load_args::LoadArgs;
use tair_common::module::ModuleDef;
use tair_common::{cmd, RO, RW};
use tair_common::{value::create_type, Ctx};

/// The command table (spec §3, and EXHDELREPL of §4.30).
pub static COMMANDS: [CommandDef; 31] = [
    cmd!("exhset", commands::exhset, "write deny-oom fast", -4, RW),
    cmd!("exhget", reads::exhget, "readonly fast", 3, RO),
    cmd!("exhmset", commands::exhmset, "write deny-oom fast", -4, RW),
    cmd!("exhpexpireat", commands::exhpexpireat, "write fast", -4, RW),
    cmd!("exhpexpire", commands::exhpexpire, "write fast", -4, RW),
    cmd!("exhexpireat", commands::exhexpireat, "write fast", -4, RW),
    cmd!("exhexpire", commands::exhexpire, "write fast", -4, RW),
    cmd!("exhpersist", commands::exhpersist, "write fast", 3, RW),
    cmd!("exhpttl", reads::exhpttl, "readonly fast", 3, RO),
    cmd!("exhttl", reads::exhttl, "readonly fast", 3, RO),
    cmd!("exhver", reads::exhver, "readonly fast", 3, RO),
    cmd!("exhsetver", commands::exhsetver, "write fast", 4, RW),
    cmd!(
        "exhincrby",
        commands::exhincrby,
        "write deny-oom fast",
        -4,
        RW
    ),
    cmd!(
        "exhincrbyfloat",
        commands::exhincrbyfloat,
        "write deny-oom fast",
        -4,
        RW
    ),
    cmd!(
        "exhgetwithver",
        reads::exhgetwithver,
        "readonly fast",
        3,
        RO
    ),
    cmd!("exhmget", reads::exhmget, "readonly fast", -3, RO),
    cmd!(
        "exhmgetwithver",
        reads::exhmgetwithver,
        "readonly fast",
        -3,
        RO
    ),
    cmd!("exhdel", commands::exhdel, "write fast", -3, RW),
    cmd!("exhlen", reads::exhlen, "readonly fast", -2, RO),
    cmd!("exhexists", reads::exhexists, "readonly fast", 3, RO),
    cmd!("exhstrlen", reads::exhstrlen, "readonly fast", 3, RO),
    cmd!("exhkeys", reads::exhkeys, "readonly", 2, RO),
    cmd!("exhvals", reads::exhvals, "readonly", 2, RO),
    cmd!("exhgetall", reads::exhgetall, "readonly", 2, RO),
    cmd!(
        "exhgetallwithver",
        reads::exhgetallwithver,
        "readonly",
        2,
        RO
    ),
    cmd!("exhscan", reads::exhscan, "readonly", -3, RO),
    cmd!("exhsetnx", commands::exhsetnx, "write deny-oom fast", 4, RW),
    cmd!(
        "exhmsetwithopts",
        commands::exhmsetwithopts,
        "write deny-oom fast",
        -6,
        RW
    ),
    cmd!(
        "exhdelwithver",
        commands::exhdelwithver,
        "write fast",
        -4,
        RW
    ),
    cmd!(
        "exhexpireinfo",
        reads::exhexpireinfo,
        "readonly fast",
        1,
        Keys::None
    ),
    cmd!("exhdelrepl", commands::exhdel, "write fast", -3, RW),
];

/// Reads the load arguments (over what the config file set: a load argument given wins), then hooks
/// the events and starts active expiry.
fn init(ctx: &Ctx, load_args: &LoadArgs) -> Result<(), String> {
    active::set_config(active::config().with_load_args(load_args)?);
    cycle::start(ctx)
}

pub static MODULE: ModuleDef = ModuleDef {
    name: c"tairhash",
    version: 1,
    types: &[create_type::<TairHash>],
    commands: &COMMANDS,
    load_args: active::LOAD_ARGS,
    init: Some(init),
    configs: &configs::CONFIGS,
    info: &configs::INFO,
    docs: &docs::DOCS,
    // A write keeps two structures in step (table + expiry heap / table + order tree).
    write_panic_aborts: true,
};

tair_common::tair_module!(MODULE);
