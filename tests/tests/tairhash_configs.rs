//! tairhash as a first-class citizen (issue #16) and its compact encoding (issue #13), against real
//! servers: every config `tairhash.*` readable, settable, refused with a bad value (unchanged),
//! effective, set by the old load-argument spelling and kept through CONFIG REWRITE + restart; the INFO
//! fields moving with the workload; COMMAND DOCS for every command of the module; the compact and the
//! big encoding answering alike, across the conversion, RDB and DUMP.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use redis::Value;
use tair_tests::citizen::{check_docs_with, check_rewrite};
use tair_tests::redis::Connection;
use tair_tests::*;

/// (name, default, a valid other value, bad values).
const CONFIGS: [(&str, &str, &str, &[&str]); 9] = [
    ("enable-active-expire", "yes", "no", &["maybe", "2"]),
    (
        "active-expire-period",
        "100",
        "250",
        &["0", "-1", "x", "86400001"],
    ),
    ("active-expire-keys-per-loop", "0", "500", &["-1", "1.5"]),
    ("active-expire-cycle-ms", "25", "10", &["0", "abc"]),
    ("active-expire-dbs-per-loop", "16", "2", &["0", "65537"]),
    ("passive-expire-keys-per-loop", "3", "0", &["-1", "1000001"]),
    ("expire-event-pubsub", "yes", "no", &["on1", ""]),
    ("compact-max-entries", "64", "128", &["-1", "65536"]),
    ("compact-max-value", "64", "16", &["-1", "x"]),
];

fn get(c: &mut Connection, name: &str) -> String {
    config_get(c, &format!("tairhash.{name}"))
}

fn info_u64(c: &mut Connection, field: &str) -> u64 {
    let v = info_field(c, "tairhash", &format!("tairhash_{field}"))
        .unwrap_or_else(|| panic!("INFO tairhash has no tairhash_{field}"));
    v.parse().unwrap()
}

#[test]
fn configs_readable_settable_refused() {
    let server = Server::with_modules(&["tairhash"]);
    let mut c = server.conn();
    let all: Vec<String> = query(&mut c, &["CONFIG", "GET", "tairhash.*"]);
    assert_eq!(all.len(), 2 * CONFIGS.len(), "{all:?}");
    for (name, default, other, bad) in CONFIGS {
        assert_eq!(get(&mut c, name), default, "{name}");
        let full = format!("tairhash.{name}");
        let _: () = query(&mut c, &["CONFIG", "SET", &full, other]);
        assert_eq!(get(&mut c, name), other, "{name}");
        for b in bad {
            let e = cmd_err(&mut c, &["CONFIG", "SET", &full, b]);
            assert!(e.contains("CONFIG SET failed"), "{name} {b:?}: {e}");
            assert_eq!(get(&mut c, name), other, "{name} changed by {b:?}");
        }
        let _: () = query(&mut c, &["CONFIG", "SET", &full, default]);
    }
}

#[test]
fn load_arguments_set_the_configs() {
    let server = Server::builder()
        .module_args(
            "tairhash",
            &[
                "active_expire_period",
                "1000",
                "enable_active_expire",
                "0",
                "compact_max_entries",
                "5",
                "compact_max_value",
                "7",
                "passive_expire_keys_per_loop",
                "9",
                "expire_event_pubsub",
                "0",
            ],
        )
        .start();
    let mut c = server.conn();
    assert_eq!(get(&mut c, "active-expire-period"), "1000");
    assert_eq!(get(&mut c, "enable-active-expire"), "no");
    assert_eq!(get(&mut c, "compact-max-entries"), "5");
    assert_eq!(get(&mut c, "compact-max-value"), "7");
    assert_eq!(get(&mut c, "passive-expire-keys-per-loop"), "9");
    assert_eq!(get(&mut c, "expire-event-pubsub"), "no");
    // A value of 8 bytes passes compact-max-value 7.
    let before = info_u64(&mut c, "keys_big");
    let _: i64 = query(&mut c, &["EXHSET", "k", "f", "12345678"]);
    assert_eq!(info_u64(&mut c, "keys_big"), before + 1);
}

/// Shortening the period at run time makes fields go sooner; the cycle and expiry counters move.
#[test]
fn period_shortened_at_run_time() {
    let server = Server::builder()
        // No passive expiry on writes either: field a may already be due when b is written (a loaded
        // machine takes more than the 1 ms), and b's write would then remove it.
        .module_args(
            "tairhash",
            &[
                "active_expire_period",
                "3600000",
                "passive_expire_keys_per_loop",
                "0",
            ],
        )
        .start();
    let mut c = server.conn();
    let _: i64 = query(&mut c, &["EXHSET", "k", "a", "1", "PX", "1"]);
    let _: i64 = query(&mut c, &["EXHSET", "k", "b", "1", "PX", "1"]);
    let cycles = info_u64(&mut c, "active_expire_cycles");
    std::thread::sleep(Duration::from_millis(600));
    // Nothing reads the fields: they stay stored until a cycle runs, and none runs within the hour.
    let n: i64 = query(&mut c, &["EXHLEN", "k"]);
    assert_eq!(n, 2);
    assert_eq!(info_u64(&mut c, "active_expire_cycles"), cycles);
    assert_eq!(info_u64(&mut c, "expired_fields_active"), 0);
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairhash.active-expire-period", "10"],
    );
    wait_until(
        Duration::from_secs(10),
        "the fields expired actively",
        || query::<i64, _>(&mut c, &["EXISTS", "k"]) == 0,
    );
    assert_eq!(info_u64(&mut c, "expired_fields_active"), 2);
    assert!(info_u64(&mut c, "active_expire_cycles") > cycles);
    // Switching active expiry off at run time stops it; on again, it resumes.
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairhash.enable-active-expire", "no"],
    );
    let _: i64 = query(&mut c, &["EXHSET", "k2", "a", "1", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k2"]), 1);
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairhash.enable-active-expire", "yes"],
    );
    wait_until(Duration::from_secs(10), "k2 expired actively", || {
        query::<i64, _>(&mut c, &["EXISTS", "k2"]) == 0
    });
    assert!(info_u64(&mut c, "active_expire_time_us") > 0);
}

/// `passive-expire-keys-per-loop`: how many other expired fields a write removes from its key.
#[test]
fn passive_limit_at_run_time() {
    let server = Server::builder()
        .module_args("tairhash", &["enable_active_expire", "0"])
        .start();
    let mut c = server.conn();
    let _: () = query(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "tairhash.passive-expire-keys-per-loop",
            "0",
        ],
    );
    for f in ["a", "b", "c", "d", "e"] {
        let _: i64 = query(&mut c, &["EXHSET", "k", f, "1", "PX", "1"]);
    }
    std::thread::sleep(Duration::from_millis(20));
    let _: i64 = query(&mut c, &["EXHSET", "k", "live", "1"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 6);
    assert_eq!(info_u64(&mut c, "expired_fields_passive"), 0);
    let _: () = query(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "tairhash.passive-expire-keys-per-loop",
            "3",
        ],
    );
    let _: i64 = query(&mut c, &["EXHSET", "k", "live", "2"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 3);
    assert_eq!(info_u64(&mut c, "expired_fields_passive"), 3);
}

/// The thresholds decide the encoding (INFO keys_compact / keys_big); replies, DUMP and digests are
/// the same in both, and a value converts once, in place.
#[test]
fn compact_thresholds_and_conversion() {
    let server = Server::with_modules(&["tairhash"]);
    let mut c = server.conn();
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairhash.compact-max-entries", "3"],
    );
    let (compact0, big0) = (
        info_u64(&mut c, "keys_compact"),
        info_u64(&mut c, "keys_big"),
    );
    let write = |c: &mut Connection, key: &str, n: usize| {
        for i in 0..n {
            let f = format!("f{i}");
            let _: i64 = query(
                c,
                &["EXHSET", key, &f, "v", "ABS", "7", "PXAT", "4102444800000"],
            );
        }
    };
    write(&mut c, "small", 3);
    write(&mut c, "big", 4);
    assert_eq!(info_u64(&mut c, "keys_compact"), compact0 + 1);
    assert_eq!(info_u64(&mut c, "keys_big"), big0 + 1);
    // Every live value is in one encoding or the other.
    assert_eq!(
        info_u64(&mut c, "keys_compact") + info_u64(&mut c, "keys_big"),
        info_u64(&mut c, "keys")
    );
    // The same content written into a compact value and into a big one: equal digests and replies.
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairhash.compact-max-entries", "64"],
    );
    write(&mut c, "big-as-compact", 4);
    let d1 = digest_value(&mut c, "big");
    let d2 = digest_value(&mut c, "big-as-compact");
    assert_eq!(d1, d2);
    let mut a: Vec<Vec<u8>> = query(&mut c, &["EXHGETALL", "big"]);
    let mut b: Vec<Vec<u8>> = query(&mut c, &["EXHGETALL", "big-as-compact"]);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // A long value converts.
    let long = "x".repeat(65);
    let big_before = info_u64(&mut c, "keys_big");
    let _: i64 = query(&mut c, &["EXHSET", "small", "long", &long]);
    assert_eq!(info_u64(&mut c, "keys_big"), big_before + 1);
    assert_eq!(
        query::<Vec<u8>, _>(&mut c, &["EXHGET", "small", "long"]),
        long.as_bytes()
    );
    // Both encodings through DEBUG RELOAD keep their digests; deleting frees the counts.
    let before = digest(&mut c);
    server.debug_reload(&mut c);
    assert_eq!(digest(&mut c), before);
    let _: i64 = query(&mut c, &["DEL", "small", "big", "big-as-compact"]);
    assert_eq!(info_u64(&mut c, "keys_compact"), compact0);
    assert_eq!(info_u64(&mut c, "keys_big"), big0);
}

#[test]
fn command_docs_cover_every_command() {
    // EXHEXPIREINFO takes no argument.
    check_docs_with("tairhash", 31, &["exhexpireinfo"]);
}

// ---- CONFIG REWRITE + restart ---------------------------------------------------------------------

#[test]
fn configs_survive_rewrite_and_restart() {
    let values: Vec<(&str, &str)> = CONFIGS.iter().map(|(n, _, o, _)| (*n, *o)).collect();
    check_rewrite("tairhash", &values);
}

/// Fills `n` keys `<prefix><i>` with field `f` due in `secs` seconds (one script per 10,000 keys).
fn fill_expiring(c: &mut Connection, prefix: &str, field: &str, n: usize, secs: u64) {
    let script = "for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do \
                  redis.call('EXHSET', ARGV[1] .. i, ARGV[4], 'v', 'EX', ARGV[5]) end";
    for from in (0..n).step_by(10_000) {
        let to = (from + 10_000).min(n) - 1;
        let _: Value = query(
            c,
            &[
                "EVAL",
                script,
                "0",
                prefix,
                &from.to_string(),
                &to.to_string(),
                field,
                &secs.to_string(),
            ],
        );
    }
}

/// The expiry registry (issue #13): one entry per key with expiring fields, no copy of the key
/// elsewhere; stale entries (a deleted key, an entry superseded by an earlier due time, a renamed-away
/// name) are dropped by compaction once the entries pass twice the registered keys plus 4096, on the
/// primary and on a replica alike (which never expires by itself but keeps its registry); expiry
/// still finds every key afterwards. INFO reports the entries, the registered keys and the bytes.
#[test]
fn registry_compaction_bounds_stale_entries() {
    let p = Server::with_modules(&["tairhash"]);
    let r = Server::builder().module("tairhash").replica_of(&p).start();
    r.wait_for_sync();
    let (mut c, mut rc) = (p.conn(), r.conn());
    let n = 20_000;
    fill_expiring(&mut c, "r:", "f", n, 3_600);
    let both =
        |c: &mut Connection, rc: &mut Connection, what: &str, f: &dyn Fn(u64, u64) -> bool| {
            wait_until(Duration::from_secs(20), what, || {
                [&mut *c, &mut *rc].into_iter().all(|x| {
                    f(
                        info_u64(x, "expiry_registry_entries"),
                        info_u64(x, "expiry_registry_keys"),
                    )
                })
            });
        };
    both(&mut c, &mut rc, "one entry per key", &|e, k| {
        e == 20_000 && k == 20_000
    });
    // An entry is its name and a length byte; the chunks' slack (4 KiB per bucket at most) aside.
    let names: u64 = (0..n).map(|i| format!("r:{i}").len() as u64 + 1).sum();
    let bytes = info_u64(&mut c, "expiry_registry_memory");
    assert!(
        (names..=names + 64 * 1024).contains(&bytes),
        "{bytes} for {names}"
    );
    // An earlier due time in another bucket adds an entry (the old one is stale); a later one not.
    fill_expiring(&mut c, "r:", "g", n, 1_800);
    fill_expiring(&mut c, "r:", "h", n, 7_200);
    both(&mut c, &mut rc, "superseded entries", &|e, k| {
        e == 40_000 && k == 20_000
    });
    // Below 2 x 20,000 + 4096 nothing is compacted; deleting 15,000 keys passes the bound.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(info_u64(&mut c, "expiry_registry_entries"), 40_000);
    // Renamed-away names go stale too; the new names are registered.
    for i in 0..10 {
        let _: () = query(
            &mut c,
            &["RENAME", &format!("r:{i}"), &format!("moved:{i}")],
        );
    }
    assert_eq!(info_u64(&mut c, "expiry_registry_entries"), 40_010);
    let del = "for i = 5000, 19999 do redis.call('DEL', 'r:' .. i) end";
    let _: Value = query(&mut c, &["EVAL", del, "0"]);
    both(&mut c, &mut rc, "only valid entries left", &|e, k| {
        e == 5_000 && k == 5_000
    });
    // Every key is still found by active expiry (on the primary, which propagates).
    let _: i64 = query(&mut c, &["EXHPEXPIRE", "moved:3", "g", "1"]);
    let _: i64 = query(&mut c, &["EXHPEXPIRE", "r:4999", "f", "1"]);
    wait_until(Duration::from_secs(10), "due fields expired", || {
        query::<i64, _>(&mut c, &["EXHLEN", "moved:3"]) == 2
            && query::<i64, _>(&mut c, &["EXHLEN", "r:4999"]) == 2
    });
    wait_until(Duration::from_secs(10), "replica follows", || {
        query::<i64, _>(&mut rc, &["EXHLEN", "r:4999"]) == 2
    });
    let _: () = query(&mut c, &["FLUSHALL", "SYNC"]);
    both(&mut c, &mut rc, "flushed", &|e, k| e == 0 && k == 0);
    assert!(info_u64(&mut c, "expiry_registry_memory") < 1024);
}
