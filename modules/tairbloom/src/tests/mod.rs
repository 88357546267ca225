//! Tests of the whole crate outside the server: registration tables, property tests, quality at scale
//! and a throughput measurement. They live in the library (not in `tests/`) so that they use the system
//! allocator that `cfg(test)` selects: an integration test would link the module's server allocator.

mod props;
mod quality;
mod throughput;

use crate::TFBF_COMMANDS;

/// Every command has a `tfbf` name, so `register_aliases` gives each one its BF.* name.
#[test]
fn every_command_gets_a_bf_alias() {
    for t in &TFBF_COMMANDS {
        assert!(t.name.starts_with("tfbf"), "{}", t.name);
    }
}
