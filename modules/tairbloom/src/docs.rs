//! COMMAND DOCS of every tairbloom command (spec §3 and §4), so `COMMAND DOCS` is complete and
//! valkey-cli shows hints. The BF.* names (under `tair-compat yes`) get the same docs through
//! `register_aliases`.

use tair_common::module::arg_docs::KEY;
use tair_common::module::{ArgDoc, ArgKind, CommandDoc};

const ITEM: ArgDoc = ArgDoc::arg("item", ArgKind::String);
const ITEMS: ArgDoc = ArgDoc::many("item", ArgKind::String);
const ITERATOR: ArgDoc = ArgDoc::arg("iterator", ArgKind::Integer);

pub static DOCS: [CommandDoc; 11] = [
    CommandDoc::new(
        "tfbfreserve",
        "Creates an empty scalable Bloom filter with an error rate and an initial capacity",
        "O(m_0) for the first sub-filter's bytes",
        &[
            KEY,
            ArgDoc::arg("error_rate", ArgKind::Double),
            ArgDoc::opt("capacity", ArgKind::Integer, None),
        ],
    ),
    CommandDoc::new(
        "tfbfadd",
        "Adds an item (creates the filter with the default error rate and capacity)",
        "O(F*k) for F sub-filters of k probes",
        &[KEY, ITEM],
    ),
    CommandDoc::new(
        "tfbfmadd",
        "Adds items (creates the filter with the defaults)",
        "O(M*F*k) for M items",
        &[KEY, ITEMS],
    ),
    CommandDoc::new(
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
    CommandDoc::new(
        "tfbfexists",
        "Tests whether an item may have been added (no false negatives)",
        "O(F*k)",
        &[KEY, ITEM],
    ),
    CommandDoc::new(
        "tfbfmexists",
        "Tests items; one 0 or 1 per item",
        "O(M*F*k) for M items",
        &[KEY, ITEMS],
    ),
    CommandDoc::new(
        "tfbfinfo",
        "Returns the filter's parameters: capacity, size, filters, items, error rate, expansion, tightening",
        "O(F)",
        &[
            KEY,
            ArgDoc::opt("field", ArgKind::String, None),
        ],
    ),
    CommandDoc::new(
        "tfbfcard",
        "Returns the number of items added",
        "O(F)",
        &[KEY],
    ),
    CommandDoc::new(
        "tfbfdebug",
        "Returns each sub-filter's capacity, items, error rate, hashes and bits",
        "O(F)",
        &[KEY],
    ),
    CommandDoc::new(
        "tfbfscandump",
        "Dumps the filter in chunks: the header at iterator 0, then bit chunks until iterator 0 again",
        "O(chunk)",
        &[KEY, ITERATOR],
    ),
    CommandDoc::new(
        "tfbfloadchunk",
        "Restores a filter from the chunks TFBFSCANDUMP returned",
        "O(chunk)",
        &[KEY, ITERATOR, ArgDoc::arg("data", ArgKind::String)],
    ),
];
