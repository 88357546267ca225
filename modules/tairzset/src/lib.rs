//! tairzset: sorted sets whose score is a tuple of 1..255 doubles (type `tairzset_`, commands EXZ*).
//! Registration only; the pure parts are below, the commands in `commands` (single key), `setcmds`
//! (union / inter / diff) and `blocking` (EXBZPOP*), persistence in `persist`.
//!
//! - [`score`]: score tuples (`s1#s2#...`), `%.17g` formatting, order, INCR, score and lex bounds.
//! - [`zset`]: [`TairZset`], the key's value in one of two encodings, and [`ZsetBuilder`] for bulk loads.
//! - [`compact`]: the compact encoding of small values (one sorted flat allocation, like a listpack).
//! - [`big`]: the big encoding: [`table`] (member arena and hash index, one copy of each member, flat
//!   score array) plus [`tree`] (the order-statistic B+-tree over member handles).
//! - [`encoding`]: the thresholds between the two and the INFO counters; [`configs`] declares them as
//!   configs `tairzset.*` and INFO fields, [`docs`] the COMMAND DOCS.
//! - [`setops`]: union / inter / diff / intercard with WEIGHTS and AGGREGATE.

#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod big;
pub mod blocking;
pub mod commands;
pub mod compact;
pub mod configs;
pub mod docs;
pub mod encoding;
pub mod error;
pub mod persist;
pub mod reply;
pub mod score;
pub mod setcmds;
pub mod setops;
pub mod table;
pub mod tree;
pub mod zset;

pub use error::ZsetError;
pub use score::{LexBound, LexRange, ScoreBound, ScoreRange, ScoreTuple};
pub use setops::Aggregate;
pub use zset::{
    AddCondition, AddOutcome, AddSummary, Limit, Popped, ScoreRef, Span, TairZset, ZsetBuilder,
};

use tair_common::command::{CommandDef, KeyAccess, Keys};
use tair_common::load_args::LoadArgs;
use tair_common::module::ModuleDef;
use tair_common::value::create_type;
use tair_common::{cmd, Ctx, RO, RW};

/// A STORE destination: argument 1, overwritten.
const DEST: Keys = Keys::one(KeyAccess::Overwrite);
/// The sources of a STORE form: a count at argument 2, then the keys.
const STORE_SOURCES: &[Keys] = &[Keys::Numkeys {
    numkeys_at: 2,
    access: KeyAccess::Read,
}];
/// The sources of a non-STORE form: a count at argument 1, then the keys.
const SOURCES: Keys = Keys::Numkeys {
    numkeys_at: 1,
    access: KeyAccess::Read,
};
/// EXBZPOP*: every argument but the command name and the timeout.
const BLOCKING_KEYS: Keys = Keys::Range {
    first: 1,
    last: -2,
    step: 1,
    access: KeyAccess::ReadWrite,
};

static COMMANDS: [CommandDef; 34] = [
    cmd!("exzadd", commands::exzadd, "write deny-oom fast", -4, RW),
    cmd!(
        "exzincrby",
        commands::exzincrby,
        "write deny-oom fast",
        4,
        RW
    ),
    cmd!("exzscore", commands::exzscore, "readonly fast", 3, RO),
    cmd!("exzmscore", commands::exzmscore, "readonly fast", -3, RO),
    cmd!("exzrange", commands::exzrange, "readonly", -4, RO),
    cmd!("exzrevrange", commands::exzrevrange, "readonly", -4, RO),
    cmd!(
        "exzrangebyscore",
        commands::exzrangebyscore,
        "readonly",
        -4,
        RO
    ),
    cmd!(
        "exzrevrangebyscore",
        commands::exzrevrangebyscore,
        "readonly",
        -4,
        RO
    ),
    cmd!("exzrangebylex", commands::exzrangebylex, "readonly", -4, RO),
    cmd!(
        "exzrevrangebylex",
        commands::exzrevrangebylex,
        "readonly",
        -4,
        RO
    ),
    cmd!("exzrem", commands::exzrem, "write fast", -3, RW),
    cmd!(
        "exzremrangebyscore",
        commands::exzremrangebyscore,
        "write",
        4,
        RW
    ),
    cmd!(
        "exzremrangebyrank",
        commands::exzremrangebyrank,
        "write",
        4,
        RW
    ),
    cmd!(
        "exzremrangebylex",
        commands::exzremrangebylex,
        "write",
        4,
        RW
    ),
    cmd!("exzcard", commands::exzcard, "readonly fast", 2, RO),
    cmd!("exzrank", commands::exzrank, "readonly fast", -3, RO),
    cmd!("exzrevrank", commands::exzrevrank, "readonly fast", -3, RO),
    cmd!(
        "exzrankbyscore",
        commands::exzrankbyscore,
        "readonly fast",
        3,
        RO
    ),
    cmd!(
        "exzrevrankbyscore",
        commands::exzrevrankbyscore,
        "readonly fast",
        3,
        RO
    ),
    cmd!("exzcount", commands::exzcount, "readonly fast", 4, RO),
    cmd!("exzlexcount", commands::exzlexcount, "readonly fast", 4, RO),
    cmd!("exzrandmember", commands::exzrandmember, "readonly", -2, RO),
    cmd!("exzscan", commands::exzscan, "readonly", -3, RO),
    cmd!(
        "exzunionstore",
        setcmds::exzunionstore,
        "write deny-oom getkeys-api",
        -4,
        DEST,
        STORE_SOURCES
    ),
    cmd!(
        "exzinterstore",
        setcmds::exzinterstore,
        "write deny-oom getkeys-api",
        -4,
        DEST,
        STORE_SOURCES
    ),
    cmd!(
        "exzdiffstore",
        setcmds::exzdiffstore,
        "write deny-oom getkeys-api",
        -4,
        DEST,
        STORE_SOURCES
    ),
    cmd!(
        "exzunion",
        setcmds::exzunion,
        "readonly getkeys-api",
        -3,
        SOURCES
    ),
    cmd!(
        "exzinter",
        setcmds::exzinter,
        "readonly getkeys-api",
        -3,
        SOURCES
    ),
    cmd!(
        "exzdiff",
        setcmds::exzdiff,
        "readonly getkeys-api",
        -3,
        SOURCES
    ),
    cmd!(
        "exzintercard",
        setcmds::exzintercard,
        "readonly getkeys-api",
        -3,
        SOURCES
    ),
    cmd!("exzpopmin", commands::exzpopmin, "write fast", -2, RW),
    cmd!("exzpopmax", commands::exzpopmax, "write fast", -2, RW),
    cmd!(
        "exbzpopmin",
        blocking::exbzpopmin,
        "write fast blocking",
        -3,
        BLOCKING_KEYS
    ),
    cmd!(
        "exbzpopmax",
        blocking::exbzpopmax,
        "write fast blocking",
        -3,
        BLOCKING_KEYS
    ),
];

/// Load arguments over the config file (`tair-compat` is accepted and ignored).
fn init(_ctx: &Ctx, load_args: &LoadArgs) -> Result<(), String> {
    configs::apply_load_args(load_args)
}

pub static MODULE: ModuleDef = ModuleDef {
    name: c"tairzset",
    version: 1,
    types: &[create_type::<TairZset>],
    commands: &COMMANDS,
    load_args: configs::LOAD_ARGS,
    init: Some(init),
    configs: &configs::CONFIGS,
    info: &configs::INFO,
    docs: &docs::DOCS,
    // A write keeps two structures in step (table + expiry heap / table + order tree).
    write_panic_aborts: true,
};

tair_common::tair_module!(MODULE);
