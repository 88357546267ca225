//! tairzset's compact encoding (issue #13) and its first-class-citizen declarations (issue #16), against
//! real servers: a compact and a big value answer every command alike, before and across the
//! conversion, and give byte-identical DUMP payloads and equal digests; the configs `tairzset.*` are
//! readable, settable, refused with a bad value (unchanged), effective, set by the load arguments and
//! kept through CONFIG REWRITE + restart; the INFO fields move with the workload; COMMAND DOCS cover
//! every command of the module.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use rand::{Rng, SeedableRng};
use redis::Value;
use tair_tests::citizen::{check_docs, check_rewrite};
use tair_tests::redis::Connection;
use tair_tests::*;

/// (name, default, a valid other value, bad values).
const CONFIGS: [(&str, &str, &str, &[&str]); 2] = [
    (
        "compact-max-entries",
        "128",
        "16",
        &["-1", "8193", "x", "1.5"],
    ),
    ("compact-max-value", "64", "16", &["-1", "16385", "abc", ""]),
];

fn get(c: &mut Connection, name: &str) -> String {
    config_get(c, &format!("tairzset.{name}"))
}

fn set(c: &mut Connection, name: &str, value: &str) {
    let _: () = query(c, &["CONFIG", "SET", &format!("tairzset.{name}"), value]);
}

fn info_i64(c: &mut Connection, field: &str) -> i64 {
    let v = info_field(c, "tairzset", &format!("tairzset_{field}"))
        .unwrap_or_else(|| panic!("INFO tairzset has no tairzset_{field}"));
    v.parse().unwrap()
}

#[test]
fn configs_readable_settable_refused() {
    let server = Server::with_modules(&["tairzset"]);
    let mut c = server.conn();
    let all: Vec<String> = query(&mut c, &["CONFIG", "GET", "tairzset.*"]);
    assert_eq!(all.len(), 2 * CONFIGS.len(), "{all:?}");
    for (name, default, other, bad) in CONFIGS {
        assert_eq!(get(&mut c, name), default, "{name}");
        set(&mut c, name, other);
        assert_eq!(get(&mut c, name), other, "{name}");
        for b in bad {
            let full = format!("tairzset.{name}");
            let e = cmd_err(&mut c, &["CONFIG", "SET", &full, b]);
            assert!(e.contains("CONFIG SET failed"), "{name} {b:?}: {e}");
            assert_eq!(get(&mut c, name), other, "{name} changed by {b:?}");
        }
        set(&mut c, name, default);
    }
}

#[test]
fn load_arguments_set_the_configs() {
    let server = Server::builder()
        .module_args(
            "tairzset",
            &["compact-max-entries", "2", "compact-max-value", "3"],
        )
        .start();
    let mut c = server.conn();
    assert_eq!(get(&mut c, "compact-max-entries"), "2");
    assert_eq!(get(&mut c, "compact-max-value"), "3");
    let _: i64 = query(&mut c, &["EXZADD", "two", "1", "a", "2", "b"]);
    assert_eq!(info_i64(&mut c, "compact_keys"), 1);
    let _: i64 = query(&mut c, &["EXZADD", "three", "1", "a", "2", "b", "3", "c"]);
    let _: i64 = query(&mut c, &["EXZADD", "long", "1", "abcd"]);
    assert_eq!(info_i64(&mut c, "big_keys"), 2);
    // "three" converted at its third member; "long" was created big.
    assert_eq!(info_i64(&mut c, "conversions"), 1);
    // A bad load argument fails the load.
    let plain = Server::start();
    let mut p = plain.conn();
    let path = module_path("tairzset").display().to_string();
    for args in [["compact-max-entries", "-1"], ["compact-max-value", "x"]] {
        let e = cmd_err(&mut p, &["MODULE", "LOAD", &path, args[0], args[1]]);
        assert!(e.contains("Error loading"), "{args:?}: {e}");
    }
    let loaded: Vec<Value> = query(&mut p, &["MODULE", "LIST"]);
    assert!(loaded.is_empty());
}

/// Thresholds changed at run time: the next insertion past one converts; a big value stays big;
/// 0 entries makes new values big; the conversions counter and the per-encoding key counts move.
#[test]
fn thresholds_effective_at_run_time() {
    let server = Server::with_modules(&["tairzset"]);
    let mut c = server.conn();
    set(&mut c, "compact-max-entries", "4");
    for i in 0..4 {
        let _: i64 = query(&mut c, &["EXZADD", "k", &i.to_string(), &format!("m{i}")]);
    }
    assert_eq!(info_i64(&mut c, "compact_keys"), 1);
    assert_eq!(info_i64(&mut c, "conversions"), 0);
    let compact_usage: i64 = query(&mut c, &["MEMORY", "USAGE", "k"]);
    // An update or a refused insertion (XX) does not convert.
    let _: i64 = query(&mut c, &["EXZADD", "k", "9", "m0"]);
    let _: i64 = query(&mut c, &["EXZADD", "k", "XX", "9", "absent"]);
    assert_eq!(info_i64(&mut c, "conversions"), 0);
    let _: i64 = query(&mut c, &["EXZADD", "k", "5", "m5"]);
    assert_eq!(info_i64(&mut c, "conversions"), 1);
    assert_eq!(info_i64(&mut c, "big_keys"), 1);
    assert_eq!(info_i64(&mut c, "compact_keys"), 0);
    let big_usage: i64 = query(&mut c, &["MEMORY", "USAGE", "k"]);
    assert!(
        compact_usage < big_usage,
        "compact {compact_usage}, big {big_usage}"
    );
    // Back under the threshold by removal: still big.
    let _: i64 = query(&mut c, &["EXZREM", "k", "m5", "m4", "m3"]);
    assert_eq!(info_i64(&mut c, "big_keys"), 1);
    // The member length threshold.
    set(&mut c, "compact-max-value", "5");
    let _: i64 = query(&mut c, &["EXZADD", "v", "1", "12345"]);
    assert_eq!(info_i64(&mut c, "compact_keys"), 1);
    let _: i64 = query(&mut c, &["EXZADD", "v", "1", "123456"]);
    assert_eq!(info_i64(&mut c, "compact_keys"), 0);
    assert_eq!(info_i64(&mut c, "conversions"), 2);
    // 0 entries: every new value is big.
    set(&mut c, "compact-max-entries", "0");
    let _: i64 = query(&mut c, &["EXZADD", "z", "1", "a"]);
    assert_eq!(info_i64(&mut c, "big_keys"), 3);
    assert_eq!(info_i64(&mut c, "conversions"), 2);
}

#[test]
fn info_fields_move_with_the_workload() {
    let server = Server::with_modules(&["tairzset"]);
    let mut c = server.conn();
    let fields = info(&mut c, "tairzset");
    for f in [
        "keys",
        "memory",
        "members",
        "compact_keys",
        "big_keys",
        "conversions",
    ] {
        assert!(
            fields.contains_key(&format!("tairzset_{f}")),
            "{f} in {fields:?}"
        );
    }
    assert_eq!(info_i64(&mut c, "members"), 0);
    let _: i64 = query(&mut c, &["EXZADD", "a", "1", "x", "2", "y", "3", "z"]);
    let _: i64 = query(&mut c, &["EXZADD", "b", "1", "x"]);
    assert_eq!(info_i64(&mut c, "members"), 4);
    assert_eq!(info_i64(&mut c, "keys"), 2);
    let _: i64 = query(&mut c, &["EXZREM", "a", "x"]);
    let _: Value = query(&mut c, &["EXZPOPMAX", "a"]);
    assert_eq!(info_i64(&mut c, "members"), 2);
    let mut args: Vec<String> = vec!["EXZADD".into(), "big".into()];
    for i in 0..300 {
        args.push(i.to_string());
        args.push(format!("member{i}"));
    }
    let _: i64 = query(&mut c, &args);
    assert_eq!(info_i64(&mut c, "members"), 302);
    assert_eq!(info_i64(&mut c, "big_keys"), 1);
    assert_eq!(info_i64(&mut c, "compact_keys"), 2);
    assert_eq!(info_i64(&mut c, "conversions"), 1);
    // A set operation's result is a value too (a = {y}, b = {x}).
    let _: i64 = query(&mut c, &["EXZUNIONSTORE", "u", "2", "a", "b"]);
    assert_eq!(info_i64(&mut c, "members"), 304);
    assert_eq!(info_i64(&mut c, "compact_keys"), 3);
    let _: i64 = query(&mut c, &["DEL", "big", "b", "u"]);
    // A big value may be freed by the lazy-free thread: its counts drop once it is gone.
    wait_until(Duration::from_secs(10), "the deleted values freed", || {
        info_i64(&mut c, "members") == 1
    });
    assert_eq!(info_i64(&mut c, "big_keys"), 0);
    assert_eq!(info_i64(&mut c, "compact_keys"), 1);
}

#[test]
fn command_docs_cover_every_command() {
    check_docs("tairzset", 34);
}

// ---- compact and big answer alike ------------------------------------------------------------------

/// One random command against key `k` (the reply is compared between keys, so it names no key).
fn random_command(rng: &mut impl Rng, k: &str) -> Vec<String> {
    let m = |rng: &mut dyn rand::RngCore| {
        let i = rng.gen_range(0..170);
        if rng.gen_ratio(1, 200) {
            format!("{i}-{}", "L".repeat(70))
        } else {
            format!("m{i}")
        }
    };
    let sc = |rng: &mut dyn rand::RngCore| {
        let choices = [
            "0",
            "-0",
            "1",
            "2.5",
            "-3",
            "1e300",
            "-inf",
            "inf",
            "0.1",
            "1703000000",
        ];
        format!(
            "{}#{}",
            choices[rng.gen_range(0..choices.len())],
            rng.gen_range(-2..3)
        )
    };
    let bound = |rng: &mut dyn rand::RngCore| {
        let b = ["-inf", "+inf", "0", "(0", "1", "(2.5", "-3", "1#1", "(1#0"];
        b[rng.gen_range(0..b.len())].to_string()
    };
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    match rng.gen_range(0..24) {
        0..=8 => {
            let mut c = v(&["EXZADD", k]);
            if rng.gen_ratio(1, 5) {
                c.push(["NX", "XX", "CH"][rng.gen_range(0..3)].into());
            }
            for _ in 0..rng.gen_range(1..4) {
                c.push(sc(rng));
                c.push(m(rng));
            }
            c
        }
        9 => v(&["EXZINCRBY", k, &sc(rng), &m(rng)]),
        10 => v(&["EXZREM", k, &m(rng), &m(rng)]),
        11 => v(&["EXZSCORE", k, &m(rng)]),
        12 => v(&["EXZMSCORE", k, &m(rng), &m(rng)]),
        13 => {
            let (a, b) = (
                rng.gen_range(-10..10).to_string(),
                rng.gen_range(-10..10).to_string(),
            );
            let cmd = ["EXZRANGE", "EXZREVRANGE"][rng.gen_range(0..2)];
            v(&[cmd, k, &a, &b, "WITHSCORES"])
        }
        14 => {
            let cmd = ["EXZRANGEBYSCORE", "EXZREVRANGEBYSCORE"][rng.gen_range(0..2)];
            let (o, n) = (
                rng.gen_range(-1..4).to_string(),
                rng.gen_range(-1..6).to_string(),
            );
            v(&[
                cmd,
                k,
                &bound(rng),
                &bound(rng),
                "WITHSCORES",
                "LIMIT",
                &o,
                &n,
            ])
        }
        15 => v(&["EXZRANK", k, &m(rng), "WITHSCORE"]),
        16 => v(&["EXZREVRANK", k, &m(rng)]),
        17 => v(&["EXZCOUNT", k, &bound(rng), &bound(rng)]),
        18 => v(&["EXZRANKBYSCORE", k, &sc(rng)]),
        19 => v(&["EXZREVRANKBYSCORE", k, &sc(rng)]),
        20 => {
            let (a, b) = (
                rng.gen_range(-3..3).to_string(),
                rng.gen_range(-3..3).to_string(),
            );
            v(&["EXZREMRANGEBYRANK", k, &a, &b])
        }
        21 => v(&["EXZREMRANGEBYSCORE", k, &bound(rng), &bound(rng)]),
        22 => {
            let n = rng.gen_range(0..3).to_string();
            v(&[["EXZPOPMIN", "EXZPOPMAX"][rng.gen_range(0..2)], k, &n])
        }
        _ => v(&["EXZCARD", k]),
    }
}

fn reply(c: &mut Connection, args: &[String]) -> String {
    match cmd(c, args) {
        Ok(v) => show(&v),
        Err(e) => format!("error {}", err_text(&e)),
    }
}

/// The same random commands on a value that starts compact and one that is big from the start: equal
/// replies after every command, equal DUMP payloads and digests at checkpoints, across the conversion
/// (by count and by member length) and across DEBUG RELOAD (which rebuilds both in the encoding their
/// size calls for).
#[test]
fn compact_and_big_answer_alike() {
    let server = Server::with_modules(&["tairzset"]);
    let mut c = server.conn();
    for seed in 0..6u64 {
        let _: () = query(&mut c, &["FLUSHALL"]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for step in 0..900 {
            // "b" is created while compact-max-entries is 0, so it is big from its first member.
            if query::<i64, _>(&mut c, &["EXISTS", "b"]) == 0 {
                set(&mut c, "compact-max-entries", "0");
                let _: i64 = query(&mut c, &["EXZADD", "b", "0#0", "seed"]);
                set(&mut c, "compact-max-entries", "128");
                let _: i64 = query(&mut c, &["DEL", "s"]);
                let _: i64 = query(&mut c, &["EXZADD", "s", "0#0", "seed"]);
            }
            let seed_rng = rng.gen::<u64>();
            let a = random_command(&mut rand::rngs::StdRng::seed_from_u64(seed_rng), "s");
            let b = random_command(&mut rand::rngs::StdRng::seed_from_u64(seed_rng), "b");
            let (ra, rb) = (reply(&mut c, &a), reply(&mut c, &b));
            assert_eq!(ra, rb, "seed {seed} step {step}: {a:?}");
            if step % 100 == 99 {
                let exists: i64 = query(&mut c, &["EXISTS", "s", "b"]);
                if exists == 2 {
                    let da: Vec<u8> = query(&mut c, &["DUMP", "s"]);
                    let db: Vec<u8> = query(&mut c, &["DUMP", "b"]);
                    assert_eq!(da, db, "seed {seed} step {step}: DUMP");
                    assert_eq!(digest_value(&mut c, "s"), digest_value(&mut c, "b"));
                }
                if step % 300 == 299 {
                    server.debug_reload(&mut c);
                }
            }
        }
    }
    // Every kind of conversion happened at least once over the seeds.
    assert!(info_i64(&mut c, "conversions") > 0);
}

/// A compact value through DUMP/RESTORE, COPY, RDB and AOF rewrite comes back equal.
#[test]
fn compact_values_persist() {
    let mut server = Server::builder()
        .module("tairzset")
        .config("appendonly", "yes")
        .start();
    let mut c = server.conn();
    let _: i64 = query(
        &mut c,
        &[
            "EXZADD",
            "k",
            "1#-0",
            "a",
            "inf#2.5",
            "b",
            "-1703000000#0.1",
            "",
        ],
    );
    let before = reply(
        &mut c,
        &[
            "EXZRANGE".into(),
            "k".into(),
            "0".into(),
            "-1".into(),
            "WITHSCORES".into(),
        ],
    );
    let dump: Vec<u8> = query(&mut c, &["DUMP", "k"]);
    let _: () = query(&mut c, &[&b"RESTORE"[..], &b"r"[..], &b"0"[..], &dump[..]]);
    let _: i64 = query(&mut c, &["COPY", "k", "cp"]);
    server.debug_reload(&mut c);
    for key in ["k", "r", "cp"] {
        let got = reply(
            &mut c,
            &[
                "EXZRANGE".into(),
                key.into(),
                "0".into(),
                "-1".into(),
                "WITHSCORES".into(),
            ],
        );
        assert_eq!(got, before, "{key}");
    }
    assert_eq!(info_i64(&mut c, "compact_keys"), 3);
    server.rewrite_aof_and_restart();
    let mut c = server.conn();
    let got = reply(
        &mut c,
        &[
            "EXZRANGE".into(),
            "k".into(),
            "0".into(),
            "-1".into(),
            "WITHSCORES".into(),
        ],
    );
    assert_eq!(got, before);
}

// ---- CONFIG REWRITE + restart ---------------------------------------------------------------------

#[test]
fn configs_survive_rewrite_and_restart() {
    let values: Vec<(&str, &str)> = CONFIGS.iter().map(|(n, _, o, _)| (*n, *o)).collect();
    check_rewrite("tairzset", &values);
}

/// RESP2 range replies send integral scores through the server's double reply: its text must be the
/// §2.5 text EXZSCORE formats itself, at every edge (signs, zero, 2^53, just below and at 1e17, inf).
#[test]
fn range_scores_print_like_exzscore() {
    let server = Server::with_modules(&["tairzset"]);
    let mut c = server.conn();
    let values = [
        "0",
        "-0",
        "1",
        "-1",
        "239",
        "-128",
        "65535",
        "1703000000",
        "-1703000000",
        "9007199254740992",
        "9007199254740993",
        "99999999999999984",
        "1e17",
        "-1e17",
        "1e16",
        "-99999999999999984",
        "123456789012345678",
        "inf",
        "-inf",
        "0.5",
        "1.1",
        "1e300",
        "5e-324",
    ];
    for (i, v) in values.iter().enumerate() {
        let _: i64 = query(&mut c, &["EXZADD", "k", v, &format!("m{i:02}")]);
        let _: i64 = query(
            &mut c,
            &["EXZADD", "two", &format!("{v}#{v}"), &format!("m{i:02}")],
        );
    }
    for key in ["k", "two"] {
        let pairs: Vec<Vec<u8>> = query(&mut c, &["EXZRANGE", key, "0", "-1", "WITHSCORES"]);
        assert_eq!(pairs.len(), values.len() * 2);
        for p in pairs.chunks(2) {
            let one: Vec<u8> = query(&mut c, &[&b"EXZSCORE"[..], key.as_bytes(), &p[0]]);
            assert_eq!(p[1], one, "{key} {}", String::from_utf8_lossy(&p[0]));
        }
        let popped: Vec<Vec<u8>> = query(&mut c, &["EXZPOPMIN", key, "3"]);
        assert!(popped[1].starts_with(b"-inf"), "{popped:?}");
    }
    let s: Vec<u8> = query(&mut c, &["EXZSCORE", "k", "m01"]);
    assert_eq!(s, b"-0");
    let s: Vec<u8> = query(&mut c, &["EXZSCORE", "k", "m12"]);
    assert_eq!(s, b"1e+17");
}

/// Issue #13's bar: small sets cost at most 1.3x native ZADD's bytes per key (used_memory growth,
/// key included), with one and three members; measured side by side in two databases of one server.
#[test]
fn small_sets_cost_what_native_ones_do() {
    let server = Server::with_modules(&["tairzset"]);
    let mut c = server.conn();
    let n = 50_000;
    let per_key = |c: &mut Connection, db: &str, cmd: &str, pairs: &str| {
        let _: () = query(c, &["SELECT", db]);
        let before = used_memory(c) as f64;
        let script = format!(
            "for i = 1, tonumber(ARGV[1]) do redis.call('{cmd}', 'key:' .. i, {pairs}) end"
        );
        let _: Value = query(c, &["EVAL", &script, "0", &n.to_string()]);
        (used_memory(c) as f64 - before) / f64::from(n)
    };
    for (db, pairs) in [("1", "1, 'm'"), ("3", "1, 'a', 2, 'b', 3, 'c'")] {
        let native = per_key(&mut c, db, "ZADD", pairs);
        let module = per_key(&mut c, &format!("1{db}"), "EXZADD", pairs);
        println!("{pairs}: ZADD {native:.1} B/key, EXZADD {module:.1} B/key");
        assert!(
            module <= native * 1.3,
            "{pairs}: {module:.1} vs {native:.1} B/key"
        );
    }
}
