//! WATCH and client-side caching: a module write signals its key as modified only after a real change
//! (modules load with `NO_IMPLICIT_SIGNAL_MODIFIED`), exactly as the native commands beside them do.
//! Each case runs twice: a WATCH/MULTI/EXEC that must commit or abort, and a tracking client (RESP2,
//! `CLIENT TRACKING ON REDIRECT`) that must or must not receive an invalidation.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use tair_tests::redis::Connection;
use tair_tests::*;

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        Server::builder()
            .module("tairstring")
            .module("tairhash")
            .module("tairzset")
            .module("tairbloom")
            .start()
    })
}

/// One case: `setup` builds the key `k`, `read` is a read-only command on it (registers the key with
/// the tracking client), `op` is the write under test; `changes` says whether it modifies the key.
struct Case {
    name: &'static str,
    setup: &'static [&'static [&'static str]],
    read: &'static [&'static str],
    op: &'static [&'static str],
    changes: bool,
}

const CASES: &[Case] = &[
    // tairstring, beside SET NX.
    Case {
        name: "SET NX on an existing key (native)",
        setup: &[&["SET", "k", "v"]],
        read: &["GET", "k"],
        op: &["SET", "k", "w", "NX"],
        changes: false,
    },
    Case {
        name: "EXSET NX on an existing key",
        setup: &[&["EXSET", "k", "v"]],
        read: &["EXGET", "k"],
        op: &["EXSET", "k", "w", "NX"],
        changes: false,
    },
    Case {
        name: "EXSET with a stale VER",
        setup: &[&["EXSET", "k", "v"]],
        read: &["EXGET", "k"],
        op: &["EXSET", "k", "w", "VER", "7"],
        changes: false,
    },
    Case {
        name: "EXCAS with a wrong version",
        setup: &[&["EXSET", "k", "v"]],
        read: &["EXGET", "k"],
        op: &["EXCAS", "k", "w", "7"],
        changes: false,
    },
    Case {
        name: "EXCAD with a wrong version",
        setup: &[&["EXSET", "k", "v"]],
        read: &["EXGET", "k"],
        op: &["EXCAD", "k", "7"],
        changes: false,
    },
    Case {
        name: "CAS with a wrong old value",
        setup: &[&["SET", "k", "v"]],
        read: &["GET", "k"],
        op: &["CAS", "k", "x", "w"],
        changes: false,
    },
    Case {
        name: "EXSET (control: changes)",
        setup: &[&["EXSET", "k", "v"]],
        read: &["EXGET", "k"],
        op: &["EXSET", "k", "w"],
        changes: true,
    },
    Case {
        name: "EXCAS with the right version (control: changes)",
        setup: &[&["EXSET", "k", "v"]],
        read: &["EXGET", "k"],
        op: &["EXCAS", "k", "w", "1"],
        changes: true,
    },
    // tairhash, beside HSETNX / HDEL.
    Case {
        name: "HSETNX on an existing field (native)",
        setup: &[&["HSET", "k", "f", "v"]],
        read: &["HGET", "k", "f"],
        op: &["HSETNX", "k", "f", "w"],
        changes: false,
    },
    Case {
        name: "EXHSET NX on an existing field",
        setup: &[&["EXHSET", "k", "f", "v"]],
        read: &["EXHGET", "k", "f"],
        op: &["EXHSET", "k", "f", "w", "NX"],
        changes: false,
    },
    Case {
        name: "EXHDEL of a missing field",
        setup: &[&["EXHSET", "k", "f", "v"]],
        read: &["EXHGET", "k", "f"],
        op: &["EXHDEL", "k", "nope"],
        changes: false,
    },
    Case {
        name: "EXHDEL on a missing key",
        setup: &[],
        read: &["EXHGET", "k", "f"],
        op: &["EXHDEL", "k", "f"],
        changes: false,
    },
    Case {
        name: "EXHSET (control: changes)",
        setup: &[&["EXHSET", "k", "f", "v"]],
        read: &["EXHGET", "k", "f"],
        op: &["EXHSET", "k", "f", "w"],
        changes: true,
    },
    // tairzset, beside ZADD / ZPOPMIN.
    Case {
        name: "ZPOPMIN on a missing key (native)",
        setup: &[],
        read: &["ZSCORE", "k", "m"],
        op: &["ZPOPMIN", "k"],
        changes: false,
    },
    Case {
        name: "EXZPOPMIN on a missing key",
        setup: &[],
        read: &["EXZSCORE", "k", "m"],
        op: &["EXZPOPMIN", "k"],
        changes: false,
    },
    Case {
        name: "ZADD of an unchanged score (native)",
        setup: &[&["ZADD", "k", "1", "m"]],
        read: &["ZSCORE", "k", "m"],
        op: &["ZADD", "k", "1", "m"],
        changes: false,
    },
    Case {
        name: "EXZADD of an unchanged score",
        setup: &[&["EXZADD", "k", "1#2", "m"]],
        read: &["EXZSCORE", "k", "m"],
        op: &["EXZADD", "k", "1#2", "m"],
        changes: false,
    },
    Case {
        name: "EXZADD of a new score (control: changes)",
        setup: &[&["EXZADD", "k", "1#2", "m"]],
        read: &["EXZSCORE", "k", "m"],
        op: &["EXZADD", "k", "3#2", "m"],
        changes: true,
    },
    // tairbloom, beside SADD.
    Case {
        name: "SADD of a present member (native)",
        setup: &[&["SADD", "k", "a"]],
        read: &["SISMEMBER", "k", "a"],
        op: &["SADD", "k", "a"],
        changes: false,
    },
    Case {
        name: "TFBFADD of a present item",
        setup: &[&["TFBFADD", "k", "a"]],
        read: &["TFBFEXISTS", "k", "a"],
        op: &["TFBFADD", "k", "a"],
        changes: false,
    },
    Case {
        name: "TFBFADD of a new item (control: changes)",
        setup: &[&["TFBFADD", "k", "a"]],
        read: &["TFBFEXISTS", "k", "a"],
        op: &["TFBFADD", "k", "b"],
        changes: true,
    },
];

/// Runs `args` with every `k` replaced by `key`; errors are fine (a failed write is part of the case).
fn run(c: &mut Connection, args: &[&str], key: &str) {
    let a: Vec<&str> = args
        .iter()
        .map(|&x| if x == "k" { key } else { x })
        .collect();
    let _ = cmd(c, &a);
}

#[test]
fn watch_aborts_exec_only_after_a_real_change() {
    let s = server();
    let (mut watcher, mut other) = (s.conn(), s.conn());
    for (i, case) in CASES.iter().enumerate() {
        let key = format!("watch:{i}");
        for step in case.setup {
            run(&mut other, step, &key);
        }
        query::<String, _>(&mut watcher, &["WATCH", &key]);
        run(&mut other, case.op, &key);
        query::<String, _>(&mut watcher, &["MULTI"]);
        query::<String, _>(&mut watcher, &["PING"]);
        let exec = cmd(&mut watcher, &["EXEC"]).unwrap();
        let aborted = matches!(exec, Value::Nil);
        assert_eq!(
            aborted,
            case.changes,
            "{}: EXEC {} (reply {})",
            case.name,
            if aborted { "aborted" } else { "committed" },
            show(&exec)
        );
    }
}

#[test]
fn tracking_invalidates_only_after_a_real_change() {
    let s = server();
    let mut inval = Events::psubscribe(s, &["__redis__:invalidate"]);
    let mut probe = s.conn();
    // The id of the subscribed connection (the one client with a pattern subscription).
    let list: String = query(&mut probe, &["CLIENT", "LIST"]);
    let redirect = list
        .lines()
        .find(|l| l.contains(" psub=1 "))
        .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
        .unwrap_or_else(|| panic!("no subscribed client in CLIENT LIST:\n{list}"))
        .to_string();
    let mut tracker = s.conn();
    query::<String, _>(
        &mut tracker,
        &["CLIENT", "TRACKING", "ON", "REDIRECT", &redirect],
    );
    let mut writer = s.conn();
    for (i, case) in CASES.iter().enumerate() {
        let key = format!("track:{i}");
        for step in case.setup {
            run(&mut writer, step, &key);
        }
        inval.drain();
        run(&mut tracker, case.read, &key);
        run(&mut writer, case.op, &key);
        let got = inval.drain();
        assert_eq!(
            !got.is_empty(),
            case.changes,
            "{}: invalidations {got:?}",
            case.name
        );
    }
}
