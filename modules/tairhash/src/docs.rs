//! COMMAND DOCS of every tairhash command (summary, complexity, since, arguments), from the spec's
//! command table (§3) and syntax lines (§4), so `COMMAND DOCS` is complete and valkey-cli shows hints.

use tair_common::module::{ArgDoc, ArgKind, CommandDoc};

const fn arg(name: &'static str, kind: ArgKind) -> ArgDoc {
    ArgDoc {
        name,
        kind,
        token: None,
        optional: false,
        multiple: false,
    }
}

const fn opt(name: &'static str, kind: ArgKind, token: Option<&'static str>) -> ArgDoc {
    ArgDoc {
        name,
        kind,
        token,
        optional: true,
        multiple: false,
    }
}

const fn many(name: &'static str, kind: ArgKind) -> ArgDoc {
    ArgDoc {
        name,
        kind,
        token: None,
        optional: false,
        multiple: true,
    }
}

const KEY: ArgDoc = arg("key", ArgKind::Key);
const FIELD: ArgDoc = arg("field", ArgKind::String);
const VALUE: ArgDoc = arg("value", ArgKind::String);
const FIELDS: ArgDoc = many("field", ArgKind::String);
const EX: ArgDoc = opt("seconds", ArgKind::Integer, Some("EX"));
const EXAT: ArgDoc = opt("unix-time-seconds", ArgKind::UnixTime, Some("EXAT"));
const PX: ArgDoc = opt("milliseconds", ArgKind::Integer, Some("PX"));
const PXAT: ArgDoc = opt("unix-time-milliseconds", ArgKind::UnixTime, Some("PXAT"));
const KEEPTTL: ArgDoc = opt("keepttl", ArgKind::PureToken, Some("KEEPTTL"));
const NX: ArgDoc = opt("nx", ArgKind::PureToken, Some("NX"));
const XX: ArgDoc = opt("xx", ArgKind::PureToken, Some("XX"));
const VER: ArgDoc = opt("version", ArgKind::Integer, Some("VER"));
const ABS: ArgDoc = opt("absolute-version", ArgKind::Integer, Some("ABS"));
const GT: ArgDoc = opt("greater-version", ArgKind::Integer, Some("GT"));
const MIN_I: ArgDoc = opt("min", ArgKind::Integer, Some("MIN"));
const MAX_I: ArgDoc = opt("max", ArgKind::Integer, Some("MAX"));
const MIN_F: ArgDoc = opt("min", ArgKind::Double, Some("MIN"));
const MAX_F: ArgDoc = opt("max", ArgKind::Double, Some("MAX"));

const KEY_FIELD: [ArgDoc; 2] = [KEY, FIELD];
const KEY_FIELDS: [ArgDoc; 2] = [KEY, FIELDS];
const ONLY_KEY: [ArgDoc; 1] = [KEY];

const fn expire_args(time: ArgDoc) -> [ArgDoc; 6] {
    [KEY, FIELD, time, VER, ABS, GT]
}
const PEXPIREAT: [ArgDoc; 6] = expire_args(arg("unix-time-milliseconds", ArgKind::UnixTime));
const PEXPIRE: [ArgDoc; 6] = expire_args(arg("milliseconds", ArgKind::Integer));
const EXPIREAT: [ArgDoc; 6] = expire_args(arg("unix-time-seconds", ArgKind::UnixTime));
const EXPIRE: [ArgDoc; 6] = expire_args(arg("seconds", ArgKind::Integer));

const SINCE: &str = "1.0.0";
const FIELD_OP: &str = "O(1)";
const EXPIRY_OP: &str = "O(log T) with T fields with an expiry";
const ALL: &str = "O(N) with N fields";

const fn doc(
    command: &'static str,
    summary: &'static str,
    complexity: &'static str,
    args: &'static [ArgDoc],
) -> CommandDoc {
    CommandDoc {
        command,
        summary,
        complexity,
        since: SINCE,
        args,
    }
}

/// One entry per command of [`crate::COMMANDS`] (a test checks the tables match).
pub static DOCS: [CommandDoc; 31] = [
    doc(
        "exhset",
        "Sets a field's value, with an optional expiry, condition and version rule",
        "O(1) amortized; + O(log T) if the expiry changes",
        &[
            KEY, FIELD, VALUE, EX, EXAT, PX, PXAT, KEEPTTL, NX, XX, VER, ABS, GT,
        ],
    ),
    doc(
        "exhget",
        "Returns a live field's value",
        FIELD_OP,
        &KEY_FIELD,
    ),
    doc(
        "exhmset",
        "Sets several fields (versions + 1, expiries kept)",
        "O(M) amortized with M fields",
        &[KEY, many("field value", ArgKind::String)],
    ),
    doc(
        "exhpexpireat",
        "Sets a field's expiry as a Unix time in milliseconds",
        EXPIRY_OP,
        &PEXPIREAT,
    ),
    doc(
        "exhpexpire",
        "Sets a field's expiry in milliseconds from now",
        EXPIRY_OP,
        &PEXPIRE,
    ),
    doc(
        "exhexpireat",
        "Sets a field's expiry as a Unix time in seconds",
        EXPIRY_OP,
        &EXPIREAT,
    ),
    doc(
        "exhexpire",
        "Sets a field's expiry in seconds from now",
        EXPIRY_OP,
        &EXPIRE,
    ),
    doc(
        "exhpersist",
        "Removes a field's expiry",
        EXPIRY_OP,
        &KEY_FIELD,
    ),
    doc(
        "exhpttl",
        "Returns a field's remaining time to live in milliseconds",
        FIELD_OP,
        &KEY_FIELD,
    ),
    doc(
        "exhttl",
        "Returns a field's remaining time to live in seconds",
        FIELD_OP,
        &KEY_FIELD,
    ),
    doc("exhver", "Returns a field's version", FIELD_OP, &KEY_FIELD),
    doc(
        "exhsetver",
        "Sets a field's version",
        FIELD_OP,
        &[KEY, FIELD, arg("version", ArgKind::Integer)],
    ),
    doc(
        "exhincrby",
        "Adds an integer to a field's value, within optional bounds",
        "O(1) amortized; + O(log T) if the expiry changes",
        &[
            KEY,
            FIELD,
            arg("increment", ArgKind::Integer),
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
    doc(
        "exhincrbyfloat",
        "Adds a floating-point number to a field's value, within optional bounds",
        "O(1) amortized; + O(log T) if the expiry changes",
        &[
            KEY,
            FIELD,
            arg("increment", ArgKind::Double),
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
    doc(
        "exhgetwithver",
        "Returns a field's value and version",
        FIELD_OP,
        &KEY_FIELD,
    ),
    doc(
        "exhmget",
        "Returns the values of several fields",
        "O(M) with M fields",
        &KEY_FIELDS,
    ),
    doc(
        "exhmgetwithver",
        "Returns the values and versions of several fields",
        "O(M) with M fields",
        &KEY_FIELDS,
    ),
    doc(
        "exhdel",
        "Deletes fields",
        "O(M) with M fields (+ O(log T) per field with an expiry)",
        &KEY_FIELDS,
    ),
    doc(
        "exhlen",
        "Returns the number of fields (NOEXP: live fields only)",
        "O(1); NOEXP: O(1 + E) with E stored expired fields",
        &[KEY, opt("noexp", ArgKind::PureToken, Some("NOEXP"))],
    ),
    doc(
        "exhexists",
        "Tells whether a field is live",
        FIELD_OP,
        &KEY_FIELD,
    ),
    doc(
        "exhstrlen",
        "Returns the length of a field's value",
        FIELD_OP,
        &KEY_FIELD,
    ),
    doc("exhkeys", "Returns every live field name", ALL, &ONLY_KEY),
    doc("exhvals", "Returns every live value", ALL, &ONLY_KEY),
    doc(
        "exhgetall",
        "Returns every live field and value",
        ALL,
        &ONLY_KEY,
    ),
    doc(
        "exhgetallwithver",
        "Returns every live field, value and version",
        ALL,
        &ONLY_KEY,
    ),
    doc(
        "exhscan",
        "Iterates the live fields",
        "O(COUNT) amortized per call; O(N) per full iteration",
        &[
            KEY,
            arg("cursor", ArgKind::Integer),
            opt("pattern", ArgKind::Pattern, Some("MATCH")),
            opt("count", ArgKind::Integer, Some("COUNT")),
        ],
    ),
    doc(
        "exhsetnx",
        "Sets a field only if it is absent or expired",
        "O(1) amortized",
        &[KEY, FIELD, VALUE],
    ),
    doc(
        "exhmsetwithopts",
        "Sets several fields, each with a version check and an expiry",
        "O(M log T) with M fields",
        &[KEY, many("field value version expire", ArgKind::String)],
    ),
    doc(
        "exhdelwithver",
        "Deletes fields whose version matches",
        "O(M) with M fields",
        &[KEY, many("field version", ArgKind::String)],
    ),
    doc(
        "exhexpireinfo",
        "Returns the active-expiry statistics",
        "O(databases)",
        &[],
    ),
    doc(
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
