//! Tests of the whole crate outside the server: registration tables, property tests, quality at scale
//! and a throughput measurement. They live in the library (not in `tests/`) so that they use the system
//! allocator that `cfg(test)` selects: an integration test would link the module's server allocator.

mod props;
mod quality;
mod throughput;

use crate::{BF_COMMANDS, TFBF_COMMANDS};

/// Both tables list the same commands, in the same order, with the same arity and flags.
#[test]
fn tables_agree() {
    assert_eq!(TFBF_COMMANDS.len(), BF_COMMANDS.len());
    for (t, b) in TFBF_COMMANDS.iter().zip(&BF_COMMANDS) {
        let base = t.name.strip_prefix("tfbf").unwrap();
        assert_eq!(b.name, format!("bf.{base}"));
        assert_eq!((t.arity, t.flags), (b.arity, b.flags), "{}", t.name);
    }
}
