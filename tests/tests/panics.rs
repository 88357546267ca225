//! The panic net, shown with injected faults (`TAIR_FAULT` in the server's environment arms fault
//! points in tair-common; see `guard::fault`). What each path does, as the README's table says:
//! - a panic in a read, or in a write of a module whose writes keep no two structures in step
//!   (tairstring), becomes an error reply; the server goes on, and the key is unchanged;
//! - a panic after tairhash or tairzset opened a key for writing aborts the server with a log line
//!   (their table and expiry heap, or table and order tree, could be out of step);
//! - a panic while saving a value makes BGSAVE fail (the child aborts) rather than write a snapshot that
//!   cannot load; the server itself goes on.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use tair_tests::*;

fn armed(points: &str, modules: &[&str]) -> Server {
    let mut b = Server::builder().env("TAIR_FAULT", points);
    for m in modules {
        b = b.module(m);
    }
    b.start()
}

#[test]
fn a_panic_in_a_read_or_a_simple_write_is_an_error_reply() {
    let s = armed("read,write", &["tairstring", "tairhash", "tairzset"]);
    let mut c = s.conn();
    // Keys of other names are untouched by the armed points.
    cmd(&mut c, &["EXSET", "plain", "v"]).unwrap();
    cmd(&mut c, &["EXHSET", "plain-h", "f", "v"]).unwrap();
    // Reads of an armed key: an error, for every module.
    for args in [
        &["EXGET", "tair-fault:s"][..],
        &["EXHGET", "tair-fault:h", "f"],
        &["EXZSCORE", "tair-fault:z", "m"],
    ] {
        let e = cmd_err(&mut c, args);
        assert!(e.contains("internal error"), "{args:?}: {e}");
    }
    // tairstring's writes: an error too, nothing stored.
    let e = cmd_err(&mut c, &["EXSET", "tair-fault:s", "v"]);
    assert!(e.contains("internal error"), "{e}");
    assert_eq!(
        cmd(&mut c, &["EXISTS", "tair-fault:s"]).unwrap(),
        Value::Int(0)
    );
    // The server goes on.
    s.assert_alive();
    assert_eq!(
        value_text(&cmd(&mut c, &["EXHGET", "plain-h", "f"]).unwrap()).as_deref(),
        Some("v")
    );
    assert!(s.log().contains("injected fault"), "the panic is logged");
}

#[test]
fn a_panic_in_a_tairhash_or_tairzset_write_aborts_with_a_log_line() {
    for (module, args) in [
        ("tairhash", &["EXHSET", "tair-fault:h", "f", "v"][..]),
        ("tairzset", &["EXZADD", "tair-fault:z", "1", "m"]),
    ] {
        let mut s = armed("write", &[module]);
        let mut c = s.conn();
        let r = cmd(&mut c, args);
        assert!(r.is_err(), "{module}: {r:?}");
        assert!(
            poll_until(Duration::from_secs(10), || !s.is_running()),
            "{module}: the server still runs"
        );
        let log = s.log();
        assert!(
            log.contains("a panic in the middle of a write")
                && log.contains("aborting rather than going on"),
            "{module}: {}",
            s.log_tail(30)
        );
    }
}

#[test]
fn a_panic_while_saving_fails_bgsave_and_the_server_goes_on() {
    let mut s = armed("save", &["tairstring"]);
    let mut c = s.conn();
    cmd(&mut c, &["SET", "native", "v"]).unwrap();
    cmd(&mut c, &["EXSET", "k", "v"]).unwrap();
    cmd(&mut c, &["BGSAVE"]).unwrap();
    let status = || {
        let mut c = s.conn();
        let info = value_text(&cmd(&mut c, &["INFO", "persistence"]).unwrap()).unwrap();
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        (
            field("rdb_bgsave_in_progress:"),
            field("rdb_last_bgsave_status:"),
        )
    };
    assert!(
        poll_until(Duration::from_secs(20), || status().0 == "0"),
        "BGSAVE never ended"
    );
    assert_eq!(status().1, "err", "{}", s.log_tail(30));
    assert!(!s.dir().join("dump.rdb").exists(), "a snapshot was written");
    // The child's abort is in the log (its crash report); the server itself runs and answers.
    assert!(s.is_running());
    assert!(
        s.log().contains("a panic while saving a value"),
        "{}",
        s.log_tail(30)
    );
    assert_eq!(
        value_text(&cmd(&mut c, &["GET", "native"]).unwrap()).as_deref(),
        Some("v")
    );
}
