//! COMMAND DOCS of every tairhash command (summary, complexity, since, arguments), from the spec's
//! command table (§3) and syntax lines (§4), so `COMMAND DOCS` is complete and valkey-cli shows hints.

use tair_common::module::{ArgDoc, ArgKind, CommandDoc};

const KEY: ArgDoc = ArgDoc::arg("key", ArgKind::Key);
const FIELD: ArgDoc = ArgDoc::arg("field", ArgKind::String);
const VALUE: ArgDoc = ArgDoc::arg("value", ArgKind::String);
const FIELDS: ArgDoc = ArgDoc::many("field", ArgKind::String);
const EX: ArgDoc = ArgDoc::opt("seconds", ArgKind::Integer, Some("EX"));
const EXAT: ArgDoc = ArgDoc::opt("unix-time-seconds", ArgKind::UnixTime, Some("EXAT"));
const PX: ArgDoc = ArgDoc::opt("milliseconds", ArgKind::Integer, Some("PX"));
const PXAT: ArgDoc = ArgDoc::opt("unix-time-milliseconds", ArgKind::UnixTime, Some("PXAT"));
const KEEPTTL: ArgDoc = ArgDoc::opt("keepttl", ArgKind::PureToken, Some("KEEPTTL"));
const NX: ArgDoc = ArgDoc::opt("nx", ArgKind::PureToken, Some("NX"));
const XX: ArgDoc = ArgDoc::opt("xx", ArgKind::PureToken, Some("XX"));
const VER: ArgDoc = ArgDoc::opt("version", ArgKind::Integer, Some("VER"));
const ABS: ArgDoc = ArgDoc::opt("absolute-version", ArgKind::Integer, Some("ABS"));
const GT: ArgDoc = ArgDoc::opt("greater-version", ArgKind::Integer, Some("GT"));
const MIN_I: ArgDoc = ArgDoc::opt("min", ArgKind::Integer, Some("MIN"));
const MAX_I: ArgDoc = ArgDoc::opt("max", ArgKind::Integer, Some("MAX"));
const MIN_F: ArgDoc = ArgDoc::opt("min", ArgKind::Double, Some("MIN"));
const MAX_F: ArgDoc = ArgDoc::opt("max", ArgKind::Double, Some("MAX"));

const KEY_FIELD: [ArgDoc; 2] = [KEY, FIELD];
const KEY_FIELDS: [ArgDoc; 2] = [KEY, FIELDS];
const ONLY_KEY: [ArgDoc; 1] = [KEY];

const fn expire_args(time: ArgDoc) -> [ArgDoc; 6] {
    [KEY, FIELD, time, VER, ABS, GT]
}
const PEXPIREAT: [ArgDoc; 6] =
    expire_args(ArgDoc::arg("unix-time-milliseconds", ArgKind::UnixTime));
const PEXPIRE: [ArgDoc; 6] = expire_args(ArgDoc::arg("milliseconds", ArgKind::Integer));
const EXPIREAT: [ArgDoc; 6] = expire_args(ArgDoc::arg("unix-time-seconds", ArgKind::UnixTime));
const EXPIRE: [ArgDoc; 6] = expire_args(ArgDoc::arg("seconds", ArgKind::Integer));

const FIELD_OP: &str = "O(1)";
const EXPIRY_OP: &str = "O(log T) with T fields with an expiry";
const ALL: &str = "O(N) with N fields";

/// One entry per command of [`crate::COMMANDS`] (a test checks the tables match).
pub static DOCS: [CommandDoc; 31] = [
    CommandDoc::new(
        "exhset",
        "Sets a field's value, with an optional expiry, condition and version rule",
        "O(1) amortized; + O(log T) if the expiry changes",
        &[
            KEY, FIELD, VALUE, EX, EXAT, PX, PXAT, KEEPTTL, NX, XX, VER, ABS, GT,
        ],
    ),
    CommandDoc::new(
        "exhget",
        "Returns a live field's value",
        FIELD_OP,
        &KEY_FIELD,
    ),
    CommandDoc::new(
        "exhmset",
        "Sets several fields (versions + 1, expiries kept)",
        "O(M) amortized with M fields",
        &[KEY, ArgDoc::many("field value", ArgKind::String)],
    ),
    CommandDoc::new(
        "exhpexpireat",
        "Sets a field's expiry as a Unix time in milliseconds",
        EXPIRY_OP,
        &PEXPIREAT,
    ),
    CommandDoc::new(
        "exhpexpire",
        "Sets a field's expiry in milliseconds from now",
        EXPIRY_OP,
        &PEXPIRE,
    ),
    CommandDoc::new(
        "exhexpireat",
        "Sets a field's expiry as a Unix time in seconds",
        EXPIRY_OP,
        &EXPIREAT,
    ),
    CommandDoc::new(
        "exhexpire",
        "Sets a field's expiry in seconds from now",
        EXPIRY_OP,
        &EXPIRE,
    ),
    CommandDoc::new(
        "exhpersist",
        "Removes a field's expiry",
        EXPIRY_OP,
        &KEY_FIELD,
    ),
    CommandDoc::new(
        "exhpttl",
        "Returns a field's remaining time to live in milliseconds",
        FIELD_OP,
        &KEY_FIELD,
    ),
    CommandDoc::new(
        "exhttl",
        "Returns a field's remaining time to live in seconds",
        FIELD_OP,
        &KEY_FIELD,
    ),
    CommandDoc::new("exhver", "Returns a field's version", FIELD_OP, &KEY_FIELD),
    CommandDoc::new(
        "exhsetver",
        "Sets a field's version",
        FIELD_OP,
        &[KEY, FIELD, ArgDoc::arg("version", ArgKind::Integer)],
    ),
    CommandDoc::new(
        "exhincrby",
        "Adds an integer to a field's value, within optional bounds",
        "O(1) amortized; + O(log T) if the expiry changes",
        &[
            KEY,
            FIELD,
            ArgDoc::arg("increment", ArgKind::Integer),
            EX,
            EXAT,
            PX,
            PXAT,
            KEEPTTL,
            VER,
            ABS,
            GT,
            MIN_I,
            MAX_I,
        ],
    ),
    CommandDoc::new(
        "exhincrbyfloat",
        "Adds a floating-point number to a field's value, within optional bounds",
        "O(1) amortized; + O(log T) if the expiry changes",
        &[
            KEY,
            FIELD,
            ArgDoc::arg("increment", ArgKind::Double),
            EX,
            EXAT,
            PX,
            PXAT,
            KEEPTTL,
            VER,
            ABS,
            GT,
            MIN_F,
            MAX_F,
        ],
    ),
    CommandDoc::new(
        "exhgetwithver",
        "Returns a field's value and version",
        FIELD_OP,
        &KEY_FIELD,
    ),
    CommandDoc::new(
        "exhmget",
        "Returns the values of several fields",
        "O(M) with M fields",
        &KEY_FIELDS,
    ),
    CommandDoc::new(
        "exhmgetwithver",
        "Returns the values and versions of several fields",
        "O(M) with M fields",
        &KEY_FIELDS,
    ),
    CommandDoc::new(
        "exhdel",
        "Deletes fields",
        "O(M) with M fields (+ O(log T) per field with an expiry)",
        &KEY_FIELDS,
    ),
    CommandDoc::new(
        "exhlen",
        "Returns the number of fields (NOEXP: live fields only)",
        "O(1); NOEXP: O(1 + E) with E stored expired fields",
        &[KEY, ArgDoc::opt("noexp", ArgKind::PureToken, Some("NOEXP"))],
    ),
    CommandDoc::new(
        "exhexists",
        "Tells whether a field is live",
        FIELD_OP,
        &KEY_FIELD,
    ),
    CommandDoc::new(
        "exhstrlen",
        "Returns the length of a field's value",
        FIELD_OP,
        &KEY_FIELD,
    ),
    CommandDoc::new("exhkeys", "Returns every live field name", ALL, &ONLY_KEY),
    CommandDoc::new("exhvals", "Returns every live value", ALL, &ONLY_KEY),
    CommandDoc::new(
        "exhgetall",
        "Returns every live field and value",
        ALL,
        &ONLY_KEY,
    ),
    CommandDoc::new(
        "exhgetallwithver",
        "Returns every live field, value and version",
        ALL,
        &ONLY_KEY,
    ),
    CommandDoc::new(
        "exhscan",
        "Iterates the live fields",
        "O(COUNT) amortized per call; O(N) per full iteration",
        &[
            KEY,
            ArgDoc::arg("cursor", ArgKind::Integer),
            ArgDoc::opt("pattern", ArgKind::Pattern, Some("MATCH")),
            ArgDoc::opt("count", ArgKind::Integer, Some("COUNT")),
        ],
    ),
    CommandDoc::new(
        "exhsetnx",
        "Sets a field only if it is absent or expired",
        "O(1) amortized",
        &[KEY, FIELD, VALUE],
    ),
    CommandDoc::new(
        "exhmsetwithopts",
        "Sets several fields, each with a version check and an expiry",
        "O(M log T) with M fields",
        &[
            KEY,
            ArgDoc::many("field value version expire", ArgKind::String),
        ],
    ),
    CommandDoc::new(
        "exhdelwithver",
        "Deletes fields whose version matches",
        "O(M) with M fields",
        &[KEY, ArgDoc::many("field version", ArgKind::String)],
    ),
    CommandDoc::new(
        "exhexpireinfo",
        "Returns the active-expiry statistics",
        "O(databases)",
        &[],
    ),
    CommandDoc::new(
        "exhdelrepl",
        "Deletes fields (the replicated form of EXHDEL, for compatibility)",
        "O(M) with M fields",
        &KEY_FIELDS,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_docs() {
        assert_eq!(DOCS.len(), crate::COMMANDS.len());
        for d in &DOCS {
            assert!(!d.summary.is_empty() && !d.complexity.is_empty());
        }
        let mut names: Vec<&str> = DOCS.iter().map(|d| d.command).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DOCS.len());
        for c in crate::COMMANDS.iter() {
            assert!(
                DOCS.iter().any(|d| d.command == c.name),
                "{} has no docs",
                c.name
            );
        }
    }
}
