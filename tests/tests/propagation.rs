//! Propagation when nothing listens, and when something starts listening.
//!
//! A write on a primary with no AOF, no replication backlog and no fork child skips building the
//! rewritten command (`tair_common::propagate`), because the server would drop it anyway. These tests
//! make sure that shortcut never loses a write: replicas that attach while writes stream in (with and
//! without a diskless-sync delay, the window in which the backlog exists before the fork), a partial
//! resync served from the backlog, AOF switched on at runtime, and the server's change counter that
//! drives save points.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tair_tests::*;

const MODULES: [&str; 2] = ["tairstring", "tairhash"];

/// Writes whose result depends on the state they meet (versions, increments, appends), so a write
/// that reached the replica in the wrong form, twice, or not at all shows in the digest.
fn write_one(c: &mut redis::Connection, i: u64) {
    let k = i % 50;
    let args: Vec<String> = match i % 6 {
        0 => vec![
            "EXSET".into(),
            format!("s{k}"),
            format!("v{i}"),
            "EX".into(),
            "1000".into(),
        ],
        1 => vec![
            "EXINCRBY".into(),
            format!("n{k}"),
            "3".into(),
            "PX".into(),
            "900000".into(),
        ],
        2 => vec!["EXAPPEND".into(), format!("s{k}"), "a".into()],
        3 => vec![
            "EXHSET".into(),
            format!("h{k}"),
            format!("f{}", i % 7),
            format!("v{i}"),
            "EX".into(),
            "1000".into(),
        ],
        4 => vec![
            "EXHINCRBY".into(),
            format!("h{k}"),
            "cnt".into(),
            "2".into(),
        ],
        _ => vec![
            "EXHSET".into(),
            format!("h{k}"),
            "g".into(),
            format!("{i}"),
            "VER".into(),
            "0".into(),
        ],
    };
    let _ = cmd(c, &args);
}

/// Runs [`write_one`] on its own connection until stopped; returns how many it sent.
fn writer(server: &Server) -> (Arc<AtomicBool>, Arc<AtomicU64>, thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut c = server.conn();
    let (s, n) = (stop.clone(), sent.clone());
    let h = thread::spawn(move || {
        let mut i = 0u64;
        while !s.load(Ordering::Relaxed) {
            write_one(&mut c, i);
            i += 1;
            n.store(i, Ordering::Relaxed);
        }
    });
    (stop, sent, h)
}

fn wait_sent(sent: &AtomicU64, at_least: u64) {
    wait_until(
        Duration::from_secs(20),
        "the writer to make progress",
        || sent.load(Ordering::Relaxed) >= at_least,
    );
}

fn backlog_active(c: &mut redis::Connection) -> bool {
    info_field(c, "replication", "repl_backlog_active").as_deref() == Some("1")
}

/// A replica that attaches while writes stream in ends with the primary's data set.
fn attach_during_writes(diskless: &str, delay: &str) {
    let primary = Server::builder()
        .module("tairstring")
        .module("tairhash")
        .config("repl-diskless-sync", diskless)
        .config("repl-diskless-sync-delay", delay)
        .start();
    let mut p = primary.conn();
    assert!(!backlog_active(&mut p), "a fresh primary has no backlog");
    let (stop, sent, h) = writer(&primary);
    wait_sent(&sent, 2_000);
    let replica = Server::replica_of(&primary);
    replica.wait_for_sync();
    assert!(backlog_active(&mut p));
    let after_sync = sent.load(Ordering::Relaxed);
    wait_sent(&sent, after_sync + 2_000);
    stop.store(true, Ordering::Relaxed);
    h.join().unwrap();
    wait_replicated(&mut p, &replica);
    let mut r = replica.conn();
    assert_eq!(
        primary.digest(&mut p),
        replica.digest(&mut r),
        "replica digest differs after attaching during {} writes (diskless {diskless}, delay {delay})",
        sent.load(Ordering::Relaxed)
    );
}

#[test]
fn replica_attaching_during_writes_disk_sync() {
    attach_during_writes("no", "0");
}

/// With a diskless-sync delay the backlog exists for a second before the fork: writes in that window
/// reach the replica through the snapshot, not the backlog.
#[test]
fn replica_attaching_during_writes_diskless_delayed() {
    attach_during_writes("yes", "1");
}

/// After a replica's link drops, the writes it missed come from the backlog (a partial resync): they
/// must be the rewritten forms, like everything written while the replica was connected.
#[test]
fn partial_resync_serves_rewritten_forms() {
    let primary = Server::builder()
        .module("tairstring")
        .module("tairhash")
        .start();
    let replica = Server::replica_of(&primary);
    replica.wait_for_sync();
    let mut p = primary.conn();
    for i in 0..500 {
        write_one(&mut p, i);
    }
    wait_replicated(&mut p, &replica);
    let partial_before: u64 = info_field(&mut p, "stats", "sync_partial_ok")
        .and_then(|v| v.parse().ok())
        .unwrap();
    let _ = cmd(&mut p, &["CLIENT", "KILL", "TYPE", "replica"]);
    for i in 500..2_500 {
        write_one(&mut p, i);
    }
    wait_replicated(&mut p, &replica);
    let partial_after: u64 = info_field(&mut p, "stats", "sync_partial_ok")
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(
        partial_after > partial_before,
        "the replica did a full sync instead of a partial resync"
    );
    let mut r = replica.conn();
    assert_eq!(primary.digest(&mut p), replica.digest(&mut r));
}

/// Writes made before `CONFIG SET appendonly yes` reach the AOF through its rewrite, those after it as
/// the rewritten forms (absolute times, ABS versions); a restart from the AOF gives the same data.
#[test]
fn aof_switched_on_at_runtime() {
    let mut server = Server::builder()
        .module("tairstring")
        .module("tairhash")
        .config("appendonly", "no")
        .config("aof-use-rdb-preamble", "no")
        .start();
    let mut c = server.conn();
    for i in 0..300 {
        write_one(&mut c, i);
    }
    server.config_set("appendonly", "yes");
    wait_until(Duration::from_secs(20), "the AOF rewrite to finish", || {
        let i = info(&mut c, "persistence");
        i.get("aof_enabled").map(String::as_str) == Some("1")
            && i.get("aof_rewrite_in_progress").map(String::as_str) == Some("0")
            && i.get("aof_rewrite_scheduled").map(String::as_str) == Some("0")
    });
    cmd(&mut c, &["EXSET", "after", "x", "EX", "100"]).unwrap();
    cmd(&mut c, &["EXHSET", "hafter", "f", "v", "PX", "100000"]).unwrap();
    for i in 300..600 {
        write_one(&mut c, i);
    }
    let text = aof_text(&server);
    let commands = parse_resp_commands(&text);
    assert!(
        commands
            .iter()
            .any(|l| l.starts_with("EXSET after x ABS 1 FLAGS 0 PXAT ")),
        "no rewritten EXSET in the AOF:\n{}",
        commands.join("\n")
    );
    assert!(
        !commands.iter().any(|l| l.starts_with("EXSET after x EX")),
        "a verbatim EXSET reached the AOF"
    );
    let before = server.digest(&mut c);
    server.restart();
    let mut c = server.conn();
    assert_eq!(server.digest(&mut c), before, "AOF replay differs");
}

/// Every write counts as a change for the save points (`rdb_changes_since_last_save`), as with the
/// full propagation path.
#[test]
fn writes_count_as_changes() {
    let server = Server::with_modules(&MODULES);
    let mut c = server.conn();
    let changes = |c: &mut redis::Connection| -> u64 {
        info_field(c, "persistence", "rdb_changes_since_last_save")
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let before = changes(&mut c);
    for i in 0..10 {
        cmd(&mut c, &["EXSET", "k", &i.to_string()]).unwrap();
        cmd(&mut c, &["EXHSET", "h", "f", &i.to_string()]).unwrap();
    }
    assert_eq!(changes(&mut c), before + 20);
}
