//! COMMAND DOCS of every tairdoc command (spec §5 table and §6 syntax lines), so `COMMAND DOCS` is
//! complete and valkey-cli shows hints. The JSON.* names (under `tair-compat yes`) get the same docs
//! through `register_aliases`.

use tair_common::module::arg_docs::{KEY, NX, XX};
use tair_common::module::{ArgDoc, ArgKind, CommandDoc};

const PATH: ArgDoc = ArgDoc::arg("path", ArgKind::String);
const OPT_PATH: ArgDoc = ArgDoc::opt("path", ArgKind::String, None);
const JSON: ArgDoc = ArgDoc::arg("json", ArgKind::String);
const JSONS: ArgDoc = ArgDoc::many("json", ArgKind::String);

const KEY_PATH: [ArgDoc; 2] = [KEY, OPT_PATH];
const INCR: [ArgDoc; 3] = [KEY, OPT_PATH, ArgDoc::arg("value", ArgKind::Double)];
const APPEND: [ArgDoc; 3] = [KEY, PATH, JSONS];
const APPEND_C: &str = "O(P+V): P resolving the path, V the new values' size";

pub static DOCS: [CommandDoc; 18] = [
    CommandDoc::new(
        "exjsonset",
        "Sets, creates or replaces the JSON value at a path",
        "O(P+V): P resolving the path, V the value's size",
        &[KEY, PATH, JSON, NX, XX],
    ),
    CommandDoc::new(
        "exjsonget",
        "Returns the value at a path as JSON, XML or YAML",
        "O(P+R): P resolving the path, R the reply's size",
        &[
            KEY,
            OPT_PATH,
            ArgDoc::opt("format", ArgKind::String, Some("FORMAT")),
            ArgDoc::opt("rootname", ArgKind::String, Some("ROOTNAME")),
            ArgDoc::opt("arrname", ArgKind::String, Some("ARRNAME")),
        ],
    ),
    CommandDoc::new(
        "exjsonmget",
        "Returns the value at a path in each key",
        "O(K*(P+R)) for K keys",
        &[ArgDoc::many("key", ArgKind::Key), PATH],
    ),
    CommandDoc::new(
        "exjsondel",
        "Deletes the value(s) at a path, or the key; replies how many were deleted",
        "O(P+D): D the size of what is removed",
        &KEY_PATH,
    ),
    CommandDoc::new(
        "exjsonforget",
        "Same as EXJSONDEL",
        "O(P+D): D the size of what is removed",
        &KEY_PATH,
    ),
    CommandDoc::new(
        "exjsontype",
        "Returns the JSON type of the value at a path",
        "O(P)",
        &KEY_PATH,
    ),
    CommandDoc::new(
        "exjsonnumincrby",
        "Adds a number to the number at a path; replies the result",
        "O(P)",
        &INCR,
    ),
    CommandDoc::new(
        "exjsonincrby",
        "Adds an integer to the number at a path; replies the result",
        "O(P)",
        &[KEY, OPT_PATH, ArgDoc::arg("value", ArgKind::Integer)],
    ),
    CommandDoc::new(
        "exjsonincrbyfloat",
        "Adds a float to the number at a path; replies the result",
        "O(P)",
        &INCR,
    ),
    CommandDoc::new(
        "exjsonstrappend",
        "Appends to the string at a path; replies the new length",
        "O(P+S): S the string's length",
        &[KEY, OPT_PATH, ArgDoc::arg("str", ArgKind::String)],
    ),
    CommandDoc::new(
        "exjsonstrlen",
        "Returns the length in bytes of the string at a path",
        "O(P)",
        &KEY_PATH,
    ),
    CommandDoc::new(
        "exjsonarrappend",
        "Appends JSON values to the array at a path; replies the new length",
        APPEND_C,
        &APPEND,
    ),
    CommandDoc::new(
        "exjsonarrayappend",
        "Same as EXJSONARRAPPEND",
        APPEND_C,
        &APPEND,
    ),
    CommandDoc::new(
        "exjsonarrpush",
        "Same as EXJSONARRAPPEND",
        APPEND_C,
        &APPEND,
    ),
    CommandDoc::new(
        "exjsonarrpop",
        "Removes and returns the element at an index (default the last) of the array at a path",
        "O(P+N): N the array's length",
        &[KEY, PATH, ArgDoc::opt("index", ArgKind::Integer, None)],
    ),
    CommandDoc::new(
        "exjsonarrinsert",
        "Inserts JSON values before an index of the array at a path; replies the new length",
        "O(P+N+V)",
        &[KEY, PATH, ArgDoc::arg("index", ArgKind::Integer), JSONS],
    ),
    CommandDoc::new(
        "exjsonarrlen",
        "Returns the length of the array at a path",
        "O(P)",
        &KEY_PATH,
    ),
    CommandDoc::new(
        "exjsonarrtrim",
        "Keeps only the elements from start to stop of the array at a path; replies the new length",
        "O(P+N)",
        &[
            KEY,
            PATH,
            ArgDoc::arg("start", ArgKind::Integer),
            ArgDoc::arg("stop", ArgKind::Integer),
        ],
    ),
];
