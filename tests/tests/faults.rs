//! Faults (issue 15): a diskless `swapdb` replica whose transfer is cut midway keeps serving its old
//! data and converges once the transfer may finish; active defragmentation and lazy free of big values
//! of every type; MEMORY USAGE of big values against the memory their creation took.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use tair_tests::faults::{
    all_modules, build_big_value, child_pids, pipeline, PingProbe, ALL_MODULES,
};
use tair_tests::*;

fn w(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn info_u64(c: &mut redis::Connection, section: &str, field: &str) -> u64 {
    info_field(c, section, field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no numeric {field}"))
}

// ---- diskless swapdb replica, transfer cut midway ------------------------------------------------------

const KEYS_PER_TYPE: usize = 200;

/// One key of every type per index, values padded so the transfer carries bytes for every key.
fn old_dataset() -> Vec<Vec<String>> {
    let pad = "p".repeat(400);
    let mut out = Vec::new();
    for i in 0..KEYS_PER_TYPE {
        let v = format!("old-{i}-{pad}");
        out.push(w(&["EXSET", &format!("s:{i}"), &v]));
        out.push(w(&["EXHSET", &format!("h:{i}"), "f", &v]));
        out.push(w(&["EXZADD", &format!("z:{i}"), "1", &v]));
        out.push(w(&["TFBFADD", &format!("b:{i}"), &v]));
        out.push(w(&[
            "EXJSONSET",
            &format!("d:{i}"),
            "$",
            &format!("{{\"v\":\"{v}\"}}"),
        ]));
        out.push(w(&[
            "GIS.ADD",
            &format!("g:{i}"),
            &v,
            &format!("POINT ({} 1)", i % 170),
        ]));
    }
    out
}

/// Changes to keys 0..5 of every type that the replica has not seen yet.
fn new_writes() -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for i in 0..5 {
        out.push(w(&["EXSET", &format!("s:{i}"), "new"]));
        out.push(w(&["EXHSET", &format!("h:{i}"), "f", "new"]));
        out.push(w(&["EXZADD", &format!("z:{i}"), "2", "new"]));
        out.push(w(&["TFBFADD", &format!("b:{i}"), "new"]));
        out.push(w(&["EXJSONSET", &format!("d:{i}"), "$.v", "\"new\""]));
        out.push(w(&["GIS.ADD", &format!("g:{i}"), "new", "POINT (2 2)"]));
    }
    out
}

/// Reads of key 0 of every type (old and new data answer differently), and the digest.
fn probe(c: &mut redis::Connection) -> String {
    let reads: [&[&str]; 7] = [
        &["EXGET", "s:0"],
        &["EXHGET", "h:0", "f"],
        &["EXZSCORE", "z:0", "new"],
        &["TFBFEXISTS", "b:0", "new"],
        &["EXJSONGET", "d:0", "$.v"],
        &["GIS.GET", "g:0", "new"],
        &["DEBUG", "DIGEST"],
    ];
    reads
        .iter()
        .map(|r| match cmd(c, r) {
            Ok(v) => show(&v),
            Err(e) => format!("(error) {}", err_text(&e)),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn persistence_flag(c: &mut redis::Connection, field: &str) -> bool {
    info_field(c, "persistence", field).as_deref() == Some("1")
}

#[test]
fn a_swapdb_replica_whose_transfer_is_cut_keeps_its_old_data_and_then_converges() {
    let mut p = all_modules()
        .config("repl-diskless-sync", "yes")
        .config("repl-diskless-load", "swapdb")
        .config("rdbcompression", "no")
        // The replica reads the socket in a blocking loop; let it serve clients every KB it loads.
        .config("loading-process-events-interval-bytes", "1024")
        .start();
    let mut pc = p.conn();
    for chunk in old_dataset().chunks(200) {
        pipeline(&mut pc, chunk);
    }
    // The first sync is complete, so the replica's replication id is the primary's: later full syncs
    // load asynchronously (the old dataset keeps answering) and swap only when the load succeeds.
    let r = Server::replica_of(&p);
    r.wait_for_sync();
    let mut rc = r.conn();
    let old = probe(&mut rc);
    assert_eq!(old, probe(&mut pc), "replica differs after the first sync");
    let successes = |r: &Server| r.log().matches("Finished with success").count();
    assert_eq!(successes(&r), 1);

    // Slow the transfer (3 ms per key, 1200 keys), then change data and force a full sync: the link is
    // cut and the backlog overwritten, so the replica's offset is gone from it.
    p.config_set("rdb-key-save-delay", "3000");
    let mut force = vec![w(&["MULTI"]), w(&["CLIENT", "KILL", "TYPE", "replica"])];
    force.extend(new_writes());
    force.push(w(&["CONFIG", "SET", "repl-backlog-size", "16384"]));
    for k in 0..10 {
        force.push(w(&["SET", &format!("filler:{k}"), &"A".repeat(16384)]));
    }
    force.push(w(&["EXEC"]));
    pipeline(&mut pc, &force);
    let new = probe(&mut pc);
    assert_ne!(old, new);

    // Cut points: after the load started plus a delay, by killing the replica link or the fork.
    let cuts: [(u64, bool); 7] = [
        (0, false),
        (20, false),
        (80, true),
        (200, false),
        (350, true),
        (500, false),
        (700, false),
    ];
    for (delay_ms, kill_fork) in cuts {
        wait_until(BACKGROUND_TIMEOUT, "replica starts an async load", || {
            persistence_flag(&mut rc, "async_loading")
        });
        // Meanwhile the replica answers from its old dataset.
        assert_eq!(probe(&mut rc), old, "reads during the async load");
        std::thread::sleep(Duration::from_millis(delay_ms));
        if kill_fork {
            let children = child_pids(p.pid());
            assert_eq!(children.len(), 1, "primary forks: {children:?}");
            // SAFETY: sending a signal to a process we found as the primary's child.
            unsafe {
                libc::kill(children[0] as i32, libc::SIGKILL);
            }
        } else {
            let killed: i64 = query(&mut pc, &["CLIENT", "KILL", "TYPE", "replica"]);
            assert!(killed <= 1);
        }
        wait_until(BACKGROUND_TIMEOUT, "replica stops loading", || {
            !persistence_flag(&mut rc, "async_loading") && !persistence_flag(&mut rc, "loading")
        });
        r.assert_alive();
        assert_eq!(
            probe(&mut rc),
            old,
            "after a cut {delay_ms} ms into the load (fork killed: {kill_fork})"
        );
    }
    assert_eq!(
        successes(&r),
        1,
        "a transfer finished before its cut: the cuts did not land midway"
    );
    let aborted = r.log().matches("Failed trying to load").count();
    assert!(aborted >= cuts.len(), "{aborted} aborted loads logged");

    // Let the transfer finish: the replica ends with the primary's data.
    p.config_set("rdb-key-save-delay", "0");
    r.wait_for_sync();
    p.assert_alive();
    r.assert_alive();
    assert_eq!(probe(&mut rc), probe(&mut pc));
    assert_eq!(probe(&mut rc), new);
    assert_eq!(digest(&mut rc), digest(&mut pc));
}
