//! COMMAND DOCS of every tairstring command (spec command table and syntax lines), so `COMMAND DOCS`
//! is complete and valkey-cli shows hints.

use tair_common::module::arg_docs::{EX, EXAT, KEEPTTL, KEY, NX, PX, PXAT, XX};
use tair_common::module::{ArgDoc, ArgKind, CommandDoc};

const VALUE: ArgDoc = ArgDoc::arg("value", ArgKind::String);
const VER: ArgDoc = ArgDoc::opt("version", ArgKind::Integer, Some("VER"));
const ABS: ArgDoc = ArgDoc::opt("absolute-version", ArgKind::Integer, Some("ABS"));
const VERSION: ArgDoc = ArgDoc::arg("version", ArgKind::Integer);
const WITHVERSION: ArgDoc = ArgDoc::flag("withversion", "WITHVERSION");

/// EX / PX / EXAT / PXAT (the one that is required, as EXGAE takes it).
const fn required(a: ArgDoc) -> ArgDoc {
    ArgDoc {
        optional: false,
        ..a
    }
}

pub static DOCS: [CommandDoc; 12] = [
    CommandDoc::new(
        "exset",
        "Sets the value (with its version, flags and TTL); replies OK or the new version",
        "O(1) + O(L) to copy the value",
        &[
            KEY,
            VALUE,
            EX,
            PX,
            EXAT,
            PXAT,
            KEEPTTL,
            NX,
            XX,
            VER,
            ABS,
            ArgDoc::opt("flags", ArgKind::Integer, Some("FLAGS")),
            WITHVERSION,
        ],
    ),
    CommandDoc::new(
        "exget",
        "Returns the value and its version (and flags)",
        "O(1)",
        &[KEY, ArgDoc::flag("withflags", "WITHFLAGS")],
    ),
    CommandDoc::new("exsetver", "Sets the version only", "O(1)", &[KEY, VERSION]),
    CommandDoc::new(
        "exincrby",
        "Adds an integer to the value, within optional bounds; replies the result",
        "O(1)",
        &[
            KEY,
            ArgDoc::arg("num", ArgKind::Integer),
            EX,
            PX,
            EXAT,
            PXAT,
            KEEPTTL,
            NX,
            XX,
            VER,
            ABS,
            ArgDoc::opt("min", ArgKind::Integer, Some("MIN")),
            ArgDoc::opt("max", ArgKind::Integer, Some("MAX")),
            ArgDoc::flag("nonegative", "NONEGATIVE"),
            ArgDoc::opt("default", ArgKind::Integer, Some("DEF")),
            WITHVERSION,
        ],
    ),
    CommandDoc::new(
        "exincrbyfloat",
        "Adds a float to the value, within optional bounds; replies the result",
        "O(1)",
        &[
            KEY,
            ArgDoc::arg("num", ArgKind::Double),
            EX,
            PX,
            EXAT,
            PXAT,
            KEEPTTL,
            NX,
            XX,
            VER,
            ABS,
            ArgDoc::opt("min", ArgKind::Double, Some("MIN")),
            ArgDoc::opt("max", ArgKind::Double, Some("MAX")),
        ],
    ),
    CommandDoc::new(
        "excas",
        "Sets a new value if the version matches; replies the result, the value and the version",
        "O(1) + O(L) to copy the value",
        &[
            KEY,
            ArgDoc::arg("newvalue", ArgKind::String),
            VERSION,
            EX,
            PX,
            EXAT,
            PXAT,
            KEEPTTL,
        ],
    ),
    CommandDoc::new(
        "excad",
        "Deletes the key if the version matches",
        "O(1)",
        &[KEY, VERSION],
    ),
    CommandDoc::new(
        "exappend",
        "Appends to the value; replies the new version",
        "O(M) amortised for M appended bytes",
        &[KEY, VALUE, NX, XX, VER, ABS],
    ),
    CommandDoc::new(
        "exprepend",
        "Prepends to the value; replies the new version",
        "O(L) for the resulting length L",
        &[KEY, VALUE, NX, XX, VER, ABS],
    ),
    CommandDoc::new(
        "exgae",
        "Returns value, version and flags and sets the TTL",
        "O(1)",
        &[
            KEY,
            required(EX),
            required(PX),
            required(EXAT),
            required(PXAT),
        ],
    ),
    CommandDoc::new(
        "cas",
        "Native string: sets a new value if the current one matches",
        "O(L) to compare",
        &[
            KEY,
            ArgDoc::arg("oldvalue", ArgKind::String),
            ArgDoc::arg("newvalue", ArgKind::String),
            EX,
            PX,
            EXAT,
            PXAT,
            KEEPTTL,
        ],
    ),
    CommandDoc::new(
        "cad",
        "Native string: deletes the key if its value matches",
        "O(L) to compare",
        &[KEY, VALUE],
    ),
];
