//! tairbloom: a scalable Bloom filter (spec `tairbloom.md`). The value is pure Rust that knows nothing
//! of the server; this file only registers the module (type `tairbloom`, the TFBF* commands, and the
//! BF.* names under `tair-compat yes`).
//!
//! - [`sizing`]: the exact sub-filter sizing formulas and constants (§2.1–2.2).
//! - [`ScalableBloom`]: add / exists / card / info / debug (§2.4–2.5, §4); bit arrays in [`BitArray`].
//! - [`dump`]: header, SCANDUMP/LOADCHUNK chunks, RDB layout, digest input (§4.9, §5).
//! - [`commands`]: one function per command; [`persist`]: the module type's callbacks.
//! - [`configs`]: the configs `tairbloom.*` (default error rate and capacity), `INFO tairbloom` (live
//!   filters, sub-filters, bits); `docs`: COMMAND DOCS of every command.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

mod bits;
mod bloom;
pub mod commands;
pub mod configs;
mod docs;
pub mod dump;
pub mod persist;
pub mod sizing;
mod sub_filter;

pub use bits::BitArray;
pub use bloom::{
    format_rate, BloomError, InfoField, InfoValue, ScalableBloom, DEFAULT_CAPACITY,
    DEFAULT_ERROR_RATE,
};
pub use dump::{LoadError, Sink, SliceSource, Source, SourceError, ENCODING_VERSION};
pub use sizing::{Shape, GROWTH, SIZE_LIMIT_BYTES, TIGHTENING};
pub use sub_filter::{ItemHash, SubFilter, HASH_SCHEME};

use tair_common::command::CommandDef;
use tair_common::load_args::LoadArgs;
use tair_common::module::ModuleDef;
use tair_common::{cmd, RO, RW};
use tair_common::{value::create_type, Ctx};

/// The command table (spec §3).
static TFBF_COMMANDS: [CommandDef; 11] = [
    cmd!(
        "tfbfreserve",
        commands::reserve,
        "write deny-oom fast",
        -3,
        RW
    ),
    cmd!("tfbfadd", commands::add, "write deny-oom fast", 3, RW),
    cmd!("tfbfmadd", commands::madd, "write deny-oom", -3, RW),
    cmd!("tfbfinsert", commands::insert, "write deny-oom", -3, RW),
    cmd!("tfbfexists", commands::exists, "readonly fast", 3, RO),
    cmd!("tfbfmexists", commands::mexists, "readonly", -3, RO),
    cmd!("tfbfinfo", commands::info, "readonly fast", -2, RO),
    cmd!("tfbfcard", commands::card, "readonly fast", 2, RO),
    cmd!("tfbfdebug", commands::debug, "readonly fast", 2, RO),
    cmd!("tfbfscandump", commands::scandump, "readonly", 3, RO),
    cmd!(
        "tfbfloadchunk",
        commands::loadchunk,
        "write deny-oom",
        4,
        RW
    ),
];

/// Registers the BF.* names when the module is loaded with `tair-compat yes`.
fn init(ctx: &Ctx, load_args: &LoadArgs) -> Result<(), String> {
    configs::apply_load_args(load_args)?;
    if load_args.tair_compat() {
        // tfbfadd -> bf.add, and so on for every row.
        tair_common::command::register_aliases(
            ctx.as_ptr(),
            &TFBF_COMMANDS,
            &docs::DOCS,
            "tfbf",
            "bf.",
            &[],
        )?;
    }
    Ok(())
}

pub static MODULE: ModuleDef = ModuleDef {
    name: c"tairbloom",
    version: 1,
    types: &[create_type::<ScalableBloom>],
    commands: &TFBF_COMMANDS,
    load_args: configs::LOAD_ARGS,
    init: Some(init),
    configs: &configs::CONFIGS,
    info: &configs::INFO,
    docs: &docs::DOCS,
    ..ModuleDef::EMPTY
};

tair_common::tair_module!(MODULE);

#[cfg(test)]
mod tests;
