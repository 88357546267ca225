//! tairstring: strings with versions and flags (`exstrtype`), plus CAS/CAD on native strings.
//! Registration only; the value is in `exstring`, the commands in `commands`, persistence in `persist`,
//! `INFO tairstring` in `info` (no configs: see there why), COMMAND DOCS in `docs`.

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod commands;
mod docs;
pub mod exstring;
pub mod info;
pub mod persist;

use tair_common::command::{CommandDef, KeyAccess, Keys};
use tair_common::module::ModuleDef;
use tair_common::value::create_type;
use tair_common::{cmd, RO, RW};

use crate::exstring::ExString;

static COMMANDS: [CommandDef; 12] = [
    cmd!("exset", commands::exset, "write deny-oom", -3, RW),
    cmd!("exget", commands::exget, "readonly fast", -2, RO),
    cmd!("exsetver", commands::exsetver, "write fast", 3, RW),
    cmd!(
        "exincrby",
        commands::exincrby,
        "write deny-oom fast",
        -3,
        RW
    ),
    cmd!(
        "exincrbyfloat",
        commands::exincrbyfloat,
        "write deny-oom fast",
        -3,
        RW
    ),
    cmd!("excas", commands::excas, "write deny-oom", -4, RW),
    cmd!(
        "excad",
        commands::excad,
        "write fast",
        3,
        Keys::one(KeyAccess::Delete)
    ),
    cmd!("exappend", commands::exappend, "write deny-oom", -3, RW),
    cmd!("exprepend", commands::exprepend, "write deny-oom", -3, RW),
    cmd!("exgae", commands::exgae, "write fast", -4, RW),
    cmd!("cas", commands::cas, "write deny-oom", -4, RW),
    cmd!(
        "cad",
        commands::cad,
        "write fast",
        3,
        Keys::one(KeyAccess::Delete)
    ),
];

pub static MODULE: ModuleDef = ModuleDef {
    name: c"tairstring",
    version: 1,
    types: &[create_type::<ExString>],
    commands: &COMMANDS,
    load_args: &[],
    init: None,
    info: &info::INFO,
    docs: &docs::DOCS,
    ..ModuleDef::EMPTY
};

tair_common::tair_module!(MODULE);
