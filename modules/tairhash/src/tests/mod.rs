//! Tests of the crate outside the server that need the crate's unit-test binary: the per-field
//! memory measurement (it installs the binary's global allocator) and the registration table.

mod memory;

use crate::COMMANDS;

/// Names are unique and lower case; flags and arities follow the spec's table.
#[test]
fn command_table() {
    let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), COMMANDS.len());
    for c in &COMMANDS {
        assert_eq!(c.name, c.name.to_lowercase());
        let write = c.flags.contains("write");
        assert!(write != c.flags.contains("readonly"), "{}", c.name);
        if c.flags.contains("deny-oom") {
            assert!(write, "{}", c.name);
        }
    }
}
