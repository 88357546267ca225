//! tairdoc: JSON documents read and updated in place by JSON Pointer, dot paths and JSONPath
//! (spec `tairdoc.md`). [`doc`] is the pure layer (parsing with the depth pre-scan, paths, the step
//! walker, multi-mode locations, formats); [`store`] the stored binary layout (parse into it, print
//! it, edit it in place); [`commands`] one function per command; [`persist`] the
//! module type's callbacks; [`configs`] the config `tairdoc.max-depth` and `INFO tairdoc`; `docs`
//! COMMAND DOCS of every command.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod commands;
pub mod configs;
pub mod doc;
mod docs;
pub mod fast;
pub mod persist;
pub mod store;

use tair_common::command::{CommandDef, KeyAccess, Keys};
use tair_common::load_args::LoadArgs;
use tair_common::module::ModuleDef;
use tair_common::{cmd, RO, RW};
use tair_common::{value::create_type, Ctx};

/// One stored document: its values in the binary layout of [`store`] (one allocation of exact size).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Doc {
    pub buf: Vec<u8>,
}

const MGET_KEYS: Keys = Keys::Range {
    first: 1,
    last: -2,
    step: 1,
    access: KeyAccess::Read,
};

macro_rules! table {
    ($($name:literal => $f:path, $flags:literal, $arity:expr, $keys:expr;)*) => {
        [$(cmd!($name, $f, $flags, $arity, $keys)),*]
    };
}

static COMMANDS: [CommandDef; 18] = table! {
    "exjsonset" => commands::set, "write deny-oom", -4, RW;
    "exjsonget" => commands::get, "readonly", -2, RO;
    "exjsonmget" => commands::mget, "readonly", -3, MGET_KEYS;
    "exjsondel" => commands::del, "write", -2, RW;
    "exjsonforget" => commands::del, "write", -2, RW;
    "exjsontype" => commands::type_, "readonly", -2, RO;
    "exjsonnumincrby" => commands::numincrby, "write deny-oom", -3, RW;
    "exjsonincrby" => commands::incrby, "write deny-oom", -3, RW;
    "exjsonincrbyfloat" => commands::incrbyfloat, "write deny-oom", -3, RW;
    "exjsonstrappend" => commands::strappend, "write deny-oom", -3, RW;
    "exjsonstrlen" => commands::strlen, "readonly", -2, RO;
    "exjsonarrappend" => commands::arrappend, "write deny-oom", -4, RW;
    "exjsonarrayappend" => commands::arrappend, "write deny-oom", -4, RW;
    "exjsonarrpush" => commands::arrappend, "write deny-oom", -4, RW;
    "exjsonarrpop" => commands::arrpop, "write", -3, RW;
    "exjsonarrinsert" => commands::arrinsert, "write deny-oom", -5, RW;
    "exjsonarrlen" => commands::arrlen, "readonly", -2, RO;
    "exjsonarrtrim" => commands::arrtrim, "write", 5, RW;
};

fn init(ctx: &Ctx, load_args: &LoadArgs) -> Result<(), String> {
    if load_args.tair_compat() {
        // exjsonset -> json.set, and so on for every row but the EXJSONARRAYAPPEND alias.
        tair_common::command::register_aliases(
            ctx.as_ptr(),
            &COMMANDS,
            &docs::DOCS,
            "exjson",
            "json.",
            &["exjsonarrayappend"],
        )?;
    }
    Ok(())
}

pub static MODULE: ModuleDef = ModuleDef {
    name: c"tairdoc",
    version: 1,
    types: &[create_type::<Doc>],
    commands: &COMMANDS,
    load_args: &[],
    init: Some(init),
    configs: &configs::CONFIGS,
    info: &configs::INFO,
    docs: &docs::DOCS,
    ..ModuleDef::EMPTY
};

tair_common::tair_module!(MODULE);
