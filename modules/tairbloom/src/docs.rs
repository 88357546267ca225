//! COMMAND DOCS of every tairbloom command (spec §3 and §4), so `COMMAND DOCS` is complete and
//! valkey-cli shows hints. The BF.* names (under `tair-compat yes`) get the same docs through
//! `register_aliases`.

use tair_common::module::arg_docs::KEY;
use tair_common::module::{ArgDoc, ArgKind, CommandDoc};

const ITEM: ArgDoc = ArgDoc::arg("item", ArgKind::String);
const ITEMS: ArgDoc = ArgDoc::many("item", ArgKind::String);
const ITERATOR: ArgDoc = ArgDoc::arg("iterator", ArgKind::Integer);

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
        since: "1.0.0",
        args,
    }
}

pub static DOCS: [CommandDoc; 11] = [
    doc(
        "tfbfreserve",
        "Creates an empty scalable Bloom filter with an error rate and an initial capacity",
        "O(m_0) for the first sub-filter's bytes",
        &[
            KEY,
            ArgDoc::arg("error_rate", ArgKind::Double),
            ArgDoc::opt("capacity", ArgKind::Integer, None),
        ],
    ),
    doc(
        "tfbfadd",
        "Adds an item (creates the filter with the default error rate and capacity)",
        "O(F*k) for F sub-filters of k probes",
        &[KEY, ITEM],
    ),
    doc(
        "tfbfmadd",
        "Adds items (creates the filter with the defaults)",
        "O(M*F*k) for M items",
        &[KEY, ITEMS],
    ),
    doc(
        "tfbfinsert",
        "Adds items, with the error rate and capacity of a filter it creates, or none with NOCREATE",
        "O(M*F*k) for M items",
        &[
            KEY,
            ArgDoc::opt("capacity", ArgKind::Integer, Some("CAPACITY")),
            ArgDoc::opt("error", ArgKind::Double, Some("ERROR")),
            ArgDoc::flag("nocreate", "NOCREATE"),
            ArgDoc {
                name: "item",
                kind: ArgKind::String,
                token: Some("ITEMS"),
                optional: false,
                multiple: true,
            },
        ],
    ),
    doc(
        "tfbfexists",
        "Tests whether an item may have been added (no false negatives)",
        "O(F*k)",
        &[KEY, ITEM],
    ),
    doc(
        "tfbfmexists",
        "Tests items; one 0 or 1 per item",
        "O(M*F*k) for M items",
        &[KEY, ITEMS],
    ),
    doc(
        "tfbfinfo",
        "Returns the filter's parameters: capacity, size, filters, items, error rate, expansion, tightening",
        "O(F)",
        &[
            KEY,
            ArgDoc::opt("field", ArgKind::String, None),
        ],
    ),
    doc(
        "tfbfcard",
        "Returns the number of items added",
        "O(F)",
        &[KEY],
    ),
    doc(
        "tfbfdebug",
        "Returns each sub-filter's capacity, items, error rate, hashes and bits",
        "O(F)",
        &[KEY],
    ),
    doc(
        "tfbfscandump",
        "Dumps the filter in chunks: the header at iterator 0, then bit chunks until iterator 0 again",
        "O(chunk)",
        &[KEY, ITERATOR],
    ),
    doc(
        "tfbfloadchunk",
        "Restores a filter from the chunks TFBFSCANDUMP returned",
        "O(chunk)",
        &[KEY, ITERATOR, ArgDoc::arg("data", ArgKind::String)],
    ),
];
