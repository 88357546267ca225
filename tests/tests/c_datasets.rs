//! Data from the original C Tair modules (issue 17), both ways:
//!
//! - RDB files written by the C TairString, TairHash and TairZset (`shared/fixtures/tair-c-rdb/`) load into a
//!   server with our modules, and every key, field, version, flag, TTL and score equals what the C module
//!   replied right after writing (`<module>.expected.json`); entries whose expiry has passed are gone. The
//!   loaded data survives DEBUG RELOAD (equal DEBUG DIGEST), and DUMP of every key RESTOREs identically
//!   into another server.
//! - A version the C modules let wrap past 2^63-1 loads, reads as the C module reports it
//!   (-9223372036854775808), refuses to be raised (`ERR version overflow`), can be replaced (ABS, EXSETVER,
//!   EXHSETVER, GT), and round-trips through RDB, DUMP/RESTORE, the AOF rewrite and replication.
//! - Our encoding is pinned: DUMP payloads of fixed values equal the hex files in `tests/golden/`, so a change
//!   that would stop the C modules loading our data fails here. `TAIR_BLESS=1` rewrites those files.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value as Json;
use tair_tests::dump::{parse_module_value, FieldValue};
use tair_tests::redis::Connection;
use tair_tests::*;

const MODULES: [&str; 3] = ["tairstring", "tairhash", "tairzset"];
const WRAPPED: i64 = i64::MIN;
const WRAPPED_TEXT: &str = "-9223372036854775808";
/// The expected files' absolute times were computed by their generator from a relative TTL read after
/// the write (now + PTTL), so they may be a millisecond off the time actually stored.
const SLACK_MS: i64 = 2;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/tair-c-rdb")
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

/// The server's clock (TIME) in ms: expiry is decided by it, and a test may shift it.
fn now_ms(c: &mut Connection) -> i64 {
    let t: Vec<i64> = query(c, &["TIME"]);
    t[0] * 1000 + t[1] / 1000
}

fn start() -> Server {
    Server::with_modules(&MODULES)
}

/// A server started on a copy of the fixture `<name>.rdb` (as `dump.rdb` in its own directory).
fn start_on(name: &str) -> Server {
    start_with_clock(name, None)
}

/// [`start_on`], with the server's wall clock moved by `clock` when given.
fn start_with_clock(name: &str, clock: Option<&ClockShift>) -> Server {
    let builder = MODULES.iter().fold(Server::builder(), |b, m| b.module(m));
    let mut server = match clock {
        Some(clock) => clock.apply(builder).start(),
        None => builder.start(),
    };
    let src = fixture_dir().join(format!("{name}.rdb"));
    let bytes = fs::read(&src).unwrap_or_else(|e| {
        panic!(
            "cannot read {} (shared/ must sit beside the checkout): {e}",
            src.display()
        )
    });
    fs::write(server.dir().join("dump.rdb"), bytes).unwrap();
    server.restart();
    server
}

/// One server that restored nothing else: the target of the DUMP/RESTORE checks (distinct keys per test).
fn restore_target() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(start)
}

// ---- expected files ------------------------------------------------------------------------------------

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex: {s}")))
        .collect()
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// `{"hex": "..."}` as bytes.
fn bytes_of(v: &Json) -> Vec<u8> {
    unhex(
        v.get("hex")
            .and_then(Json::as_str)
            .unwrap_or_else(|| panic!("not a {{\"hex\": ...}} value: {v}")),
    )
}

fn int_of(v: &Json) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("not a signed 64-bit integer: {v}"))
}

/// The keys of `<module>.expected.json`: (key bytes, entry).
fn expected(module: &str) -> Vec<(Vec<u8>, Json)> {
    let path = fixture_dir().join(format!("{module}.expected.json"));
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Json = serde_json::from_str(&text).unwrap();
    let keys = doc
        .get("keys")
        .and_then(Json::as_object)
        .unwrap_or_else(|| panic!("{}: no \"keys\" object", path.display()));
    keys.iter().map(|(k, v)| (unhex(k), v.clone())).collect()
}

/// Whether an absolute expiry (ms, -1 none) has passed: `Some(true)` gone, `Some(false)` live, `None` when it
/// falls inside the window `[before, after]` of the check (either answer is right).
fn passed(at: i64, before: i64, after: i64) -> Option<bool> {
    if at < 0 || at > after + SLACK_MS {
        Some(false)
    } else if at < before - SLACK_MS {
        Some(true)
    } else {
        None
    }
}

/// When a key is expected gone: its own expiry, or (tairhash) when its last field expires if every field
/// has an expiry (a key never holds zero fields). -1: never.
fn gone_at(e: &Json, key_at: i64) -> i64 {
    let fields = e.get("fields").and_then(Json::as_object);
    let last_field = fields.and_then(|fs| {
        fs.values()
            .map(|f| int_of(&f["pttl_abs"]))
            .try_fold(0, |m, t| (t >= 0).then_some(m.max(t)))
    });
    match (key_at, last_field) {
        (-1, Some(t)) => t,
        (k, Some(t)) => k.min(t),
        (k, None) => k,
    }
}

fn int_reply(c: &mut Connection, args: &[&[u8]]) -> i64 {
    query(c, args)
}

fn bulk_list(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::BulkString(b) => b.clone(),
                other => panic!("expected bulk strings, got {}", show(other)),
            })
            .collect(),
        other => panic!("expected an array, got {}", show(other)),
    }
}

/// Checks what every key holds against the expected file; returns the keys still present.
fn check_keys(c: &mut Connection, module: &str) -> Vec<Vec<u8>> {
    let mut present = Vec::new();
    let keys = expected(module);
    assert!(!keys.is_empty(), "{module}: no keys in the expected file");
    for (key, e) in &keys {
        let what = format!("{module} key {:?}", escape_bytes(key));
        let at = int_of(&e["pttl_abs"]);
        let before = now_ms(c);
        let ty: Value = cmd(c, &[b"TYPE".as_slice(), key]).unwrap();
        let after = now_ms(c);
        let gone = value_text(&ty).as_deref() == Some("none");
        match passed(gone_at(e, at), before, after) {
            Some(true) => {
                // (A hash whose last field expired is deleted by the field expiry cycle: poll.)
                wait_until(
                    BACKGROUND_TIMEOUT,
                    &format!("{what}: expired, gone"),
                    || cmd(c, &[b"EXISTS".as_slice(), key]).unwrap() == Value::Int(0),
                );
                continue;
            }
            Some(false) => assert!(!gone, "{what}: missing"),
            None if gone => continue,
            None => {}
        }
        present.push(key.clone());
        assert_eq!(
            value_text(&ty).unwrap().into_bytes(),
            bytes_of(&e["type"]),
            "{what}: TYPE"
        );
        let stored = int_reply(c, &[b"PEXPIRETIME", key]);
        assert_eq!(
            stored < 0,
            at < 0,
            "{what}: PEXPIRETIME {stored}, expected {at}"
        );
        assert!(
            (stored - at).abs() <= SLACK_MS,
            "{what}: PEXPIRETIME {stored}, expected {at}"
        );
        match module {
            "tairstring" => check_string(c, key, e, &what),
            "tairhash" => check_hash(c, key, e, &what),
            "tairzset" => check_zset(c, key, e, &what),
            _ => unreachable!(),
        }
    }
    present
}

fn check_string(c: &mut Connection, key: &[u8], e: &Json, what: &str) {
    let want = e["exget"].as_array().unwrap();
    let got = cmd(c, &[b"EXGET".as_slice(), key, b"WITHFLAGS"]).unwrap();
    let Value::Array(items) = &got else {
        panic!("{what}: EXGET WITHFLAGS replied {}", show(&got));
    };
    assert_eq!(items.len(), 3, "{what}: {}", show(&got));
    assert_eq!(
        items[0],
        Value::BulkString(bytes_of(&want[0])),
        "{what}: value"
    );
    assert_eq!(items[1], Value::Int(int_of(&want[1])), "{what}: version");
    assert_eq!(items[2], Value::Int(int_of(&want[2])), "{what}: flags");
}

/// Field name -> (value, version, absolute expiry or 0) as the DUMP payload of a tairhash key holds them.
fn dumped_fields(c: &mut Connection, key: &[u8]) -> BTreeMap<Vec<u8>, (Vec<u8>, u64, u64)> {
    let payload: Vec<u8> = query(c, &[b"DUMP".as_slice(), key]);
    let v = parse_module_value(&payload).unwrap();
    let mut out = BTreeMap::new();
    // count, key name, then (name, version, expiry, value) per field.
    for f in v.fields.get(2..).unwrap_or_default().chunks(4) {
        let s = |i: usize| match &f[i].value {
            FieldValue::String { bytes, .. } => bytes.clone(),
            other => panic!("expected a string, got {other:?}"),
        };
        let u = |i: usize| match &f[i].value {
            FieldValue::Unsigned(x) => *x,
            other => panic!("expected an unsigned, got {other:?}"),
        };
        out.insert(s(0), (s(3), u(1), u(2)));
    }
    out
}

fn check_hash(c: &mut Connection, key: &[u8], e: &Json, what: &str) {
    let fields = e["fields"].as_object().unwrap();
    assert_eq!(
        fields.len() as i64,
        int_of(&e["len"]),
        "{what}: expected file"
    );
    let stored = dumped_fields(c, key);
    let mut live = 0;
    for (name, f) in fields {
        let name = unhex(name);
        let what = format!("{what} field {:?}", escape_bytes(&name));
        let at = int_of(&f["pttl_abs"]);
        let want_ttl = int_of(&f["ttl"]);
        assert_eq!(want_ttl == -1, at == -1, "{what}: expected file");
        let before = now_ms(c);
        let got = cmd(c, &[b"EXHGETWITHVER".as_slice(), key, &name]).unwrap();
        let pttl = int_reply(c, &[b"EXHPTTL", key, &name]);
        let ttl = int_reply(c, &[b"EXHTTL", key, &name]);
        let after = now_ms(c);
        match passed(at, before, after) {
            Some(true) => {
                assert_eq!(got, Value::Nil, "{what}: expired at {at} but still there");
                continue;
            }
            None if got == Value::Nil => continue,
            _ => {}
        }
        live += 1;
        let want = Value::Array(vec![
            Value::BulkString(bytes_of(&f["val"])),
            Value::Int(int_of(&f["ver"])),
        ]);
        assert_eq!(got, want, "{what}: value and version");
        let (_, ver, exp) = stored
            .get(&name)
            .unwrap_or_else(|| panic!("{what}: not in the DUMP payload"));
        assert_eq!(*ver as i64, int_of(&f["ver"]), "{what}: stored version");
        if at == -1 {
            assert_eq!(*exp, 0, "{what}: stored expiry");
            assert_eq!((pttl, ttl), (-1, -1), "{what}: EXHPTTL, EXHTTL");
        } else {
            let exp = *exp as i64;
            assert!(
                (exp - at).abs() <= SLACK_MS,
                "{what}: stored absolute expiry {exp}, expected {at}"
            );
            let at = exp;
            // Remaining time as measured around the calls (EXHTTL rounds to the nearest second).
            assert!(
                (at - after..=at - before).contains(&pttl),
                "{what}: EXHPTTL {pttl}, expiry {at}, now {before}..{after}"
            );
            let secs = |now: i64| (at - now + 500).div_euclid(1000);
            assert!(
                (secs(after)..=secs(before)).contains(&ttl),
                "{what}: EXHTTL {ttl}, expiry {at}, now {before}..{after}"
            );
        }
    }
    assert_eq!(
        int_reply(c, &[b"EXHLEN", key, b"NOEXP"]),
        live,
        "{what}: EXHLEN NOEXP"
    );
    if live == fields.len() as i64 {
        assert_eq!(int_reply(c, &[b"EXHLEN", key]), live, "{what}: EXHLEN");
    }
}

fn check_zset(c: &mut Connection, key: &[u8], e: &Json, what: &str) {
    let want: Vec<Vec<u8>> = e["range"]
        .as_array()
        .unwrap()
        .iter()
        .map(bytes_of)
        .collect();
    let got = cmd(
        c,
        &[b"EXZRANGE".as_slice(), key, b"0", b"-1", b"WITHSCORES"],
    )
    .unwrap();
    let got = bulk_list(&got);
    assert_eq!(got.len(), want.len(), "{what}: EXZRANGE length");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            escape_bytes(g),
            escape_bytes(w),
            "{what}: EXZRANGE WITHSCORES item {i}"
        );
    }
    assert_eq!(
        int_reply(c, &[b"EXZCARD", key]),
        int_of(&e["card"]),
        "{what}: EXZCARD"
    );
}

/// DUMP every key and RESTORE it (with its absolute expiry) into the shared target under a prefixed name:
/// the value digest and the expiry must be equal.
fn dump_restore_identical(c: &mut Connection, keys: &[Vec<u8>], module: &str) {
    let prefix = format!("{module}:");
    let mut t = restore_target().conn();
    for key in keys {
        let payload: Value = cmd(c, &[b"DUMP".as_slice(), key]).unwrap();
        let Value::BulkString(payload) = payload else {
            continue; // expired in the meantime
        };
        let at = int_reply(c, &[b"PEXPIRETIME", key]);
        let mut target = prefix.as_bytes().to_vec();
        target.extend_from_slice(key);
        let ttl = if at < 0 {
            "0".to_string()
        } else {
            at.to_string()
        };
        cmd(
            &mut t,
            &[
                b"RESTORE".as_slice(),
                &target,
                ttl.as_bytes(),
                &payload,
                b"ABSTTL",
                b"REPLACE",
            ],
        )
        .unwrap_or_else(|e| panic!("RESTORE {:?}: {}", escape_bytes(key), err_text(&e)));
        if cmd(c, &[b"EXISTS".as_slice(), key]).unwrap() == Value::Int(0) {
            continue;
        }
        assert_eq!(
            digest_value(&mut t, &target),
            digest_value(c, key),
            "DUMP/RESTORE of {:?} changed the value",
            escape_bytes(key)
        );
        assert_eq!(int_reply(&mut t, &[b"PEXPIRETIME", &target]), at);
        if module != "tairhash" {
            // (A tairhash payload carries the key's name, which differs here.)
            let again: Vec<u8> = query(&mut t, &[b"DUMP".as_slice(), &target]);
            assert_eq!(
                hex(&again),
                hex(&payload),
                "DUMP of the restored copy differs"
            );
        }
    }
}

fn c_dataset(module: &str) {
    let mut server = start_on(module);
    let mut c = server.conn();
    let present = check_keys(&mut c, module);
    assert!(!present.is_empty(), "{module}: nothing loaded");
    let d = digest(&mut c);
    server.debug_reload(&mut c);
    assert_eq!(digest(&mut c), d, "{module}: DEBUG RELOAD changed the data");
    check_keys(&mut c, module);
    dump_restore_identical(&mut c, &present, module);

    // A replica's full sync from a server holding the C module's data.
    let replica = Server::replica_of(&server);
    replica.wait_for_sync();
    let mut r = replica.conn();
    wait_until(
        BACKGROUND_TIMEOUT,
        "replica digest equals the primary's",
        || digest(&mut r) == digest(&mut c),
    );
    drop(replica);

    // The AOF rewrite (plain commands) of the loaded data replays into the same keys.
    server.rewrite_aof_and_restart();
    check_keys(&mut server.conn(), module);
}

#[test]
fn c_tairstring_rdb_loads_value_for_value() {
    c_dataset("tairstring");
}

#[test]
fn c_tairhash_rdb_loads_value_for_value() {
    c_dataset("tairhash");
}

#[test]
fn c_tairzset_rdb_loads_value_for_value() {
    c_dataset("tairzset");
}

/// The same files loaded by a server whose clock is a year ahead: every key and field whose expiry has
/// passed is gone (this is also what the tests above will meet once the fixtures' TTLs run out).
#[test]
fn c_datasets_a_year_later() {
    for module in MODULES {
        let clock = ClockShift::new();
        clock.set_ms(366 * 24 * 3600 * 1000);
        let server = start_with_clock(module, Some(&clock));
        let mut c = server.conn();
        let present = check_keys(&mut c, module);
        let expected = expected(module);
        assert!(
            present.len() < expected.len(),
            "{module}: the clock did not move ({} of {} keys left)",
            present.len(),
            expected.len()
        );
        assert_eq!(
            query::<usize, _>(&mut c, &["DBSIZE"]),
            present.len(),
            "{module}"
        );
        let d = digest(&mut c);
        server.debug_reload(&mut c);
        assert_eq!(digest(&mut c), d, "{module}: DEBUG RELOAD changed the data");
        check_keys(&mut c, module);
    }
}

// ---- versions the C modules let wrap past 2^63-1 ---------------------------------------------------------

/// Save -> load, DUMP -> RESTORE, AOF rewrite -> replay and a replica's full sync keep the data (equal
/// digests); `check` runs on every copy.
fn survives_everything(server: &mut Server, check: impl Fn(&mut Connection)) {
    let mut c = server.conn();
    let d = digest(&mut c);
    server.debug_reload(&mut c);
    assert_eq!(digest(&mut c), d, "DEBUG RELOAD");
    check(&mut c);

    let replica = Server::replica_of(server);
    replica.wait_for_sync();
    let mut r = replica.conn();
    assert_eq!(digest(&mut r), d, "replica after full sync");
    check(&mut r);
    drop(replica);

    let keys: Vec<Vec<u8>> = query(&mut c, &["KEYS", "*"]);
    let fresh = start();
    let mut f = fresh.conn();
    for key in &keys {
        let payload: Vec<u8> = query(&mut c, &[b"DUMP".as_slice(), key]);
        cmd(&mut f, &[b"RESTORE".as_slice(), key, b"0", &payload]).unwrap();
    }
    assert_eq!(digest(&mut f), d, "DUMP/RESTORE");
    check(&mut f);

    server.rewrite_aof_and_restart();
    let mut c = server.conn();
    assert_eq!(digest(&mut c), d, "AOF rewrite (plain commands) and replay");
    check(&mut c);
}

fn check_wrapped_string(c: &mut Connection) {
    assert_eq!(
        show(&cmd(c, &["EXGET", "wrapped", "WITHFLAGS"]).unwrap()),
        format!("[\"b\", {WRAPPED}, 0]")
    );
    assert_eq!(
        show(&cmd(c, &["EXGET", "plain", "WITHFLAGS"]).unwrap()),
        "[\"x\", 1, 0]"
    );
}

#[test]
fn tairstring_wrapped_version_loads_and_stops() {
    let mut server = start_on("tairstring-version-wrap");
    let mut c = server.conn();
    check_wrapped_string(&mut c);
    survives_everything(&mut server, check_wrapped_string);

    let mut c = server.conn();
    // Nothing raises it: the spec's overflow error, nothing changed.
    for args in [
        vec!["EXSET", "wrapped", "c"],
        vec!["EXSET", "wrapped", "c", "VER", "0", "KEEPTTL"],
        vec!["EXAPPEND", "wrapped", "c"],
        vec!["EXPREPEND", "wrapped", "c"],
    ] {
        assert_eq!(cmd_err(&mut c, &args), "ERR version overflow", "{args:?}");
    }
    assert_eq!(
        cmd_err(&mut c, &["EXSET", "wrapped", "c", "VER", "1"]),
        "ERR update version is stale"
    );
    let cas = cmd(&mut c, &["EXCAS", "wrapped", "c", "1"]).unwrap();
    assert_eq!(show(&cas), format!("[CAS_FAILED, \"b\", {WRAPPED}]"));
    assert_eq!(
        cmd_err(&mut c, &["EXCAS", "wrapped", "c", WRAPPED_TEXT]),
        "ERR syntax error"
    );
    check_wrapped_string(&mut c);
    // Clients cannot write such a version themselves.
    assert_eq!(
        cmd_err(
            &mut c,
            &["EXSET", "other", "v", "ABS", "9223372036854775808"]
        ),
        "ERR syntax error"
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "other"]), 0);
    // EXCAD takes the number EXGET showed.
    query::<i64, _>(&mut c, &["COPY", "wrapped", "copy"]);
    assert_eq!(
        query::<i64, _>(&mut c, &["EXCAD", "copy", "9223372036854775807"]),
        0
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXCAD", "copy", WRAPPED_TEXT]), 1);
    // ABS and EXSETVER replace it, and the key counts on from there.
    query::<i64, _>(&mut c, &["COPY", "wrapped", "copy"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXSETVER", "copy", "7"]), 1);
    assert_eq!(
        query::<i64, _>(&mut c, &["EXSET", "copy", "d", "WITHVERSION"]),
        8
    );
    assert_eq!(
        query::<i64, _>(
            &mut c,
            &["EXSET", "wrapped", "c", "ABS", "5", "WITHVERSION"]
        ),
        5
    );
    assert_eq!(
        query::<i64, _>(&mut c, &["EXSET", "wrapped", "d", "WITHVERSION"]),
        6
    );
}

fn check_wrapped_hash(c: &mut Connection) {
    assert_eq!(
        show(&cmd(c, &["EXHGETWITHVER", "wrapped", "f"]).unwrap()),
        format!("[\"b\", {WRAPPED}]")
    );
    assert_eq!(query::<i64, _>(c, &["EXHVER", "wrapped", "f"]), WRAPPED);
    assert_eq!(
        show(&cmd(c, &["EXHGETWITHVER", "wrapped", "g"]).unwrap()),
        "[\"c\", 1]"
    );
}

#[test]
fn tairhash_wrapped_version_loads_and_stops() {
    let mut server = start_on("tairhash-version-wrap");
    let mut c = server.conn();
    check_wrapped_hash(&mut c);
    survives_everything(&mut server, check_wrapped_hash);

    let mut c = server.conn();
    for args in [
        vec!["EXHSET", "wrapped", "f", "c"],
        vec!["EXHSET", "wrapped", "f", "c", "VER", "0"],
        vec!["EXHMSET", "wrapped", "g", "x", "f", "c"],
        vec!["EXHMSETWITHOPTS", "wrapped", "f", "c", "0", "0"],
        vec!["EXHPEXPIRE", "wrapped", "f", "100000"],
        vec!["EXHEXPIREAT", "wrapped", "f", "4102444800"],
    ] {
        assert_eq!(cmd_err(&mut c, &args), "ERR version overflow", "{args:?}");
    }
    assert_eq!(
        cmd_err(&mut c, &["EXHSET", "wrapped", "f", "c", "VER", "1"]),
        "ERR update version is stale"
    );
    assert_eq!(
        cmd_err(
            &mut c,
            &["EXHSET", "other", "f", "v", "ABS", "9223372036854775808"]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        cmd_err(
            &mut c,
            &["EXHINCRBY", "other", "f", "1", "ABS", "9223372036854775808"]
        ),
        "ERR syntax error"
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "other"]), 0);
    check_wrapped_hash(&mut c);
    // EXHPERSIST leaves versions alone (here: no expiry to remove).
    assert_eq!(query::<i64, _>(&mut c, &["EXHPERSIST", "wrapped", "f"]), 0);
    // GT compares with the number EXHVER showed (as the C module does), ABS and EXHSETVER replace it.
    query::<i64, _>(&mut c, &["COPY", "wrapped", "copy"]);
    assert_eq!(
        query::<i64, _>(&mut c, &["EXHSET", "copy", "f", "c", "GT", "3"]),
        0
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHVER", "copy", "f"]), 3);
    query::<i64, _>(&mut c, &["COPY", "wrapped", "copy", "REPLACE"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHSETVER", "copy", "f", "9"]), 1);
    assert_eq!(query::<i64, _>(&mut c, &["EXHSET", "copy", "f", "x"]), 0);
    assert_eq!(query::<i64, _>(&mut c, &["EXHVER", "copy", "f"]), 10);
    assert_eq!(
        query::<i64, _>(&mut c, &["EXHSET", "wrapped", "f", "c", "ABS", "5"]),
        0
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHSET", "wrapped", "f", "d"]), 0);
    assert_eq!(query::<i64, _>(&mut c, &["EXHVER", "wrapped", "f"]), 6);
}

// ---- golden DUMP payloads --------------------------------------------------------------------------------

/// Fixed values of each type: (key, the commands that write it).
fn golden_values(module: &str) -> Vec<(&'static str, Vec<Vec<&'static [u8]>>)> {
    match module {
        "tairstring" => vec![
            ("s:plain", vec![vec![b"EXSET", b"s:plain", b"hello"]]),
            (
                "s:max",
                vec![vec![
                    b"EXSET",
                    b"s:max",
                    b"v",
                    b"ABS",
                    b"9223372036854775807",
                    b"FLAGS",
                    b"4294967295",
                ]],
            ),
            (
                "s:bin",
                vec![vec![
                    b"EXSET",
                    b"s:bin",
                    b"\x00\xff\r\n",
                    b"ABS",
                    b"0",
                    b"FLAGS",
                    b"7",
                ]],
            ),
            (
                "s:empty",
                vec![vec![b"EXSET", b"s:empty", b"", b"ABS", b"42"]],
            ),
            (
                "s:int",
                vec![vec![b"EXSET", b"s:int", b"-12345", b"ABS", b"300"]],
            ),
            (
                "s:long",
                vec![vec![
                    b"EXSET",
                    b"s:long",
                    b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc",
                    b"FLAGS",
                    b"65536",
                ]],
            ),
            (
                "s:bumped",
                vec![
                    vec![b"EXSET", b"s:bumped", b"a"],
                    vec![b"EXSET", b"s:bumped", b"b"],
                    vec![b"EXAPPEND", b"s:bumped", b"c"],
                ],
            ),
        ],
        "tairhash" => vec![
            ("h:one", vec![vec![b"EXHSET", b"h:one", b"f", b"v"]]),
            (
                "h:ttl",
                vec![vec![
                    b"EXHSET",
                    b"h:ttl",
                    b"field",
                    b"value",
                    b"ABS",
                    b"9223372036854775807",
                    b"PXAT",
                    b"4102444800000",
                ]],
            ),
            (
                "h:bin",
                vec![vec![b"EXHSET", b"h:bin", b"\x00\xff", b"", b"ABS", b"7"]],
            ),
            (
                "h:multi",
                vec![
                    vec![b"EXHSET", b"h:multi", b"a", b"1"],
                    vec![b"EXHINCRBY", b"h:multi", b"a", b"41"],
                    vec![b"EXHSET", b"h:multi", b"b", b"two", b"EXAT", b"4102444800"],
                    vec![b"EXHSET", b"h:multi", b"c", b"-3", b"ABS", b"1000"],
                    vec![
                        b"EXHSET",
                        b"h:multi",
                        b"long field name, long enough for LZF compression",
                        b"a value that is long enough to be compressed: aaaaaaaaaaaaaaaaaaaaaaaa",
                    ],
                ],
            ),
        ],
        "tairzset" => vec![
            (
                "z:1",
                vec![vec![
                    b"EXZADD", b"z:1", b"1.5", b"a", b"-inf", b"b", b"0", b"c", b"5e-324", b"d",
                    b"-0", b"e", b"inf", b"f", b"1.5", b"g",
                ]],
            ),
            (
                "z:2",
                vec![vec![
                    b"EXZADD",
                    b"z:2",
                    b"1#2",
                    b"a",
                    b"1#-3.25",
                    b"b",
                    b"-1e300#7",
                    b"\x00\xff",
                ]],
            ),
            (
                "z:3",
                vec![vec![b"EXZADD", b"z:3", b"1#2#3", b"x", b"1#2#2.5", b"y"]],
            ),
            (
                "z:5",
                vec![vec![
                    b"EXZADD",
                    b"z:5",
                    b"-1#0#1e300#-0#inf",
                    b"m",
                    b"0.1#0.2#0.3#0.4#0.5",
                    b"n",
                ]],
            ),
        ],
        _ => unreachable!(),
    }
}

/// The payload in a form independent of the order of a tairhash's fields (random per process, like a
/// dict's): header, then the fields' byte ranges sorted, then the EOF opcode and RDB version (the CRC
/// depends on the order and is left out). Other types: the payload as it is.
fn comparable(module: &str, payload: &[u8]) -> String {
    if module != "tairhash" {
        return hex(payload);
    }
    let v = parse_module_value(payload).unwrap();
    let first = v.fields.get(2).map_or(v.eof_offset, |f| f.opcode_offset);
    let mut fields: Vec<String> = v
        .fields
        .get(2..)
        .unwrap_or_default()
        .chunks(4)
        .map(|f| hex(&payload[f[0].opcode_offset..f[3].end]))
        .collect();
    fields.sort();
    let tail = &payload[v.eof_offset..payload.len() - 8];
    format!(
        "{} [{}] {}",
        hex(&payload[..first]),
        fields.join(" "),
        hex(tail)
    )
}

fn golden(module: &str) {
    let server = start();
    let mut c = server.conn();
    let mut text = format!(
        "# DUMP payloads of {module} values (hex), checked by tests/tests/c_datasets.rs; rewrite with\n\
         # TAIR_BLESS=1 cargo test --release -p tair-tests --test c_datasets golden\n"
    );
    let mut got = BTreeMap::new();
    for (key, writes) in golden_values(module) {
        for write in writes {
            cmd(&mut c, &write).unwrap_or_else(|e| panic!("{key}: {}", err_text(&e)));
        }
        let payload: Vec<u8> = query(&mut c, &["DUMP", key]);
        // Every golden payload also loads back into an equal value.
        let d = digest_value(&mut c, key);
        cmd(
            &mut c,
            &[
                b"RESTORE".as_slice(),
                key.as_bytes(),
                b"0",
                &payload,
                b"REPLACE",
            ],
        )
        .unwrap();
        assert_eq!(digest_value(&mut c, key), d, "{key}: RESTORE of its DUMP");
        let _ = writeln!(text, "{key} {}", hex(&payload));
        got.insert(key.to_string(), payload);
    }
    let path = golden_dir().join(format!("{module}.hex"));
    if std::env::var_os("TAIR_BLESS").is_some_and(|v| v == "1") {
        fs::create_dir_all(golden_dir()).unwrap();
        fs::write(&path, &text).unwrap();
        return;
    }
    let stored = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): write it with TAIR_BLESS=1",
            path.display()
        )
    });
    let mut want = BTreeMap::new();
    for line in stored
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (key, payload) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("{}: bad line {line:?}", path.display()));
        want.insert(key.to_string(), unhex(payload.trim()));
    }
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{}: keys",
        path.display()
    );
    for (key, payload) in &got {
        assert_eq!(
            comparable(module, payload),
            comparable(module, &want[key]),
            "{key}: the DUMP payload changed: loading into the C module may break \
             (if intended, rewrite {} with TAIR_BLESS=1)",
            path.display()
        );
        // The checked-in payload itself restores (its CRC and version are valid) into the same value.
        let copy = format!("{key}:golden");
        cmd(
            &mut c,
            &[b"RESTORE".as_slice(), copy.as_bytes(), b"0", &want[key]],
        )
        .unwrap();
        assert_eq!(
            digest_value(&mut c, &copy),
            digest_value(&mut c, key),
            "{key}"
        );
    }
}

#[test]
fn golden_tairstring_dump() {
    golden("tairstring");
}

#[test]
fn golden_tairhash_dump() {
    golden("tairhash");
}

#[test]
fn golden_tairzset_dump() {
    golden("tairzset");
}
