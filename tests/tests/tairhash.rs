//! tairhash against a real valkey-server: every transcript and bad-input case of
//! shared/spec/tairhash.md, active expiry (a 200,000-field burst with the worst PING latency, key moves,
//! FLUSHALL ASYNC, SWAPDB), replicas that never expire by themselves, persistence (DEBUG RELOAD, AOF
//! rewrite without preamble, full sync) with versions and absolute expiry times unchanged, forged
//! RESTORE payloads, the propagated forms, notifications, RESP3 and binary safety.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tair_tests::dump::{
    parse_module_value, patch_byte, set_len_at, set_module_encver, truncate_value, FieldValue,
};
use tair_tests::redis::Connection;
use tair_tests::transcript::{format_reply, run, run_on, split_line};
use tair_tests::*;

// ---- servers and databases -------------------------------------------------------------------------

/// Shared servers with default load arguments; tests that need an empty database get one of their own.
static POOL: DbPool = DbPool::new(|| Server::with_modules(&["tairhash"]), 16);

/// Shared servers loaded with `enable_active_expire 0`.
static PASSIVE: DbPool = DbPool::new(
    || {
        Server::builder()
            .module_args("tairhash", &["enable_active_expire", "0"])
            .start()
    },
    16,
);

fn shared_n(i: usize) -> &'static Server {
    POOL.server(i)
}

fn fresh_db() -> Connection {
    POOL.fresh_db()
}

fn fresh_db_passive() -> Connection {
    PASSIVE.fresh_db()
}

/// The server's clock in ms.
fn server_ms(c: &mut Connection) -> i64 {
    let (s, us): (i64, i64) = query(c, &["TIME"]);
    s * 1000 + us / 1000
}

// ---- transcripts with unordered replies ------------------------------------------------------------

/// Commands whose reply order is unspecified (the spec shows them sorted).
const UNORDERED: [&str; 5] = [
    "EXHGETALL",
    "EXHGETALLWITHVER",
    "EXHKEYS",
    "EXHVALS",
    "EXHSCAN",
];

/// Sorts the elements of an unordered reply (pairs for EXHGETALL, triples for WITHVER, the element
/// list of an EXHSCAN page).
fn sorted_reply(cmd: &str, v: Value) -> Value {
    fn sort_chunks(items: Vec<Value>, n: usize) -> Vec<Value> {
        let mut chunks: Vec<Vec<Value>> = items.chunks(n).map(<[Value]>::to_vec).collect();
        chunks.sort_by_key(|c| show(&c[0]));
        chunks.into_iter().flatten().collect()
    }
    match (cmd, v) {
        ("EXHSCAN", Value::Array(mut parts)) if parts.len() == 2 => {
            if let Value::Array(items) = parts.pop().unwrap() {
                parts.push(Value::Array(sort_chunks(items, 2)));
            }
            Value::Array(parts)
        }
        ("EXHGETALL", Value::Array(items)) => Value::Array(sort_chunks(items, 2)),
        ("EXHGETALLWITHVER", Value::Array(items)) => Value::Array(sort_chunks(items, 3)),
        (_, Value::Array(items)) => Value::Array(sort_chunks(items, 1)),
        (_, v) => v,
    }
}

/// Like [`run`], for single-connection transcripts that contain unordered replies: those commands
/// are run here and their reply compared sorted; the rest goes through the harness's runner.
fn run_sorting(conn: &mut Connection, script: &str) {
    let is_prompt = |l: &str| l.starts_with("> ") || l.trim().starts_with("(after ");
    let lines: Vec<&str> = script.lines().collect();
    let mut segment = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let cmdline = line.strip_prefix("> ").map(|l| match l.find("->") {
            Some(p) => l[..p].trim(),
            None => l.trim(),
        });
        let args = cmdline.map(split_line).unwrap_or_default();
        let name = args
            .first()
            .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
            .unwrap_or_default();
        if !UNORDERED.contains(&name.as_str()) {
            segment.push_str(line);
            segment.push('\n');
            i += 1;
            continue;
        }
        run(conn, &segment);
        segment.clear();
        let mut expected = Vec::new();
        i += 1;
        while i < lines.len() && !is_prompt(lines[i]) {
            if !lines[i].trim().is_empty() {
                expected.push(lines[i]);
            }
            i += 1;
        }
        let got = match cmd(conn, &args) {
            Ok(v) => format_reply(&sorted_reply(&name, v)),
            Err(e) => format!("(error) {}", err_text(&e)),
        };
        assert_eq!(got, expected.join("\n"), "\n  at: {line}\n");
    }
    run(conn, &segment);
}

// ---- §7 acceptance transcripts -------------------------------------------------------------------

#[test]
fn transcript_seed() {
    run_sorting(
        &mut fresh_db(),
        r#"
> EXHSET user:1001 name "Alice"
(integer) 1
> EXHSET user:1001 session "tok-xyz" EX 300
(integer) 1
> EXHSET user:1001 avatar_url "https://..." EX 86400
(integer) 1
> EXHGET user:1001 session
"tok-xyz"
> EXHGETALL user:1001
1) "avatar_url"
2) "https://..."
3) "name"
4) "Alice"
5) "session"
6) "tok-xyz"
> EXHEXPIRE user:1001 session 600
(integer) 1
> EXHTTL user:1001 session
(integer) 600
> EXHEXISTS user:1001 session
(integer) 1
> EXHTTL user:1001 name
(integer) -1
> EXHVER user:1001 session
(integer) 2
"#,
    );
}

#[test]
fn transcript_versions() {
    run(
        &mut fresh_db(),
        r#"
> EXHSET k f v XX
(integer) -1
> EXISTS k
(integer) 0
> EXHSET k f v VER 99999
(integer) 1
> EXHSET k f v1 NX
(integer) -1
> EXHSET k f v2 VER 99999
(error) ERR update version is stale
> EXHSET k f v2 VER 1
(integer) 0
> EXHSET k f v3 VER 0
(integer) 0
> EXHSET k f v4 ABS 10
(integer) 0
> EXHSET k f v5 GT 9
(error) ERR update version is stale
> EXHSET k f v5 GT 13
(integer) 0
> EXHGETWITHVER k f
1) "v5"
2) (integer) 13
> EXHSET k f v ABS 0
(error) ERR syntax error
> TYPE k
tairhash-
"#,
    );
}

const EXPIRE_ZERO: &str = r#"
> EXHSET k f v EX 3
(integer) 1
> EXHEXPIRE k f 0
(integer) 1
> EXHTTL k f
(integer) -3
> EXISTS k
(integer) 0
> EXHTTL k f
(integer) -2
> EXHVER k f
(integer) -1
> EXHINCRBY k f 1 EX 3
(integer) 1
> EXHINCRBY k f 1 EX 0
(integer) 2
> EXHEXISTS k f
(integer) 0
> EXISTS k
(integer) 0
"#;

#[test]
fn transcript_expire_zero() {
    run(&mut fresh_db_passive(), EXPIRE_ZERO);
    // With active expiry on the replies are the same (the 50 ms grace), when the commands follow each
    // other promptly.
    run(&mut fresh_db(), EXPIRE_ZERO);
}

#[test]
fn transcript_incrby() {
    run(
        &mut fresh_db(),
        r#"
> EXHINCRBY k f 1
(integer) 1
> EXHINCRBY k f 1 VER 2
(error) ERR update version is stale
> EXHINCRBY k f 1 VER 0
(integer) 2
> EXHINCRBY k f 1 ABS 10
(integer) 3
> EXHVER k f
(integer) 10
> EXHINCRBY k f 1 MIN 1 MAX 3
(error) ERR increment or decrement would overflow
> EXHINCRBY k f 1 MIN 10 MAX 1
(error) ERR min value is bigger than max value
> EXHINCRBY k f 1 MAX xxx
(error) ERR min or max is specified, but value is not an integer
> EXHINCRBY k f 1 XX
(error) ERR syntax error
> EXHSET k s " 11"
(integer) 1
> EXHINCRBY k s 1
(error) ERR value is not an integer
> EXHSET k n -9223372036854775484
(integer) 1
> EXHINCRBY k n -1
(integer) -9223372036854775485
> EXHINCRBY k n -10000
(error) ERR increment or decrement would overflow
"#,
    );
}

#[test]
fn transcript_incrbyfloat() {
    run(
        &mut fresh_db(),
        r#"
> EXHINCRBYFLOAT h f 0.9
"0.9"
> EXHINCRBYFLOAT h f 2.1
"3"
> EXHINCRBYFLOAT h g 3.1 MIN 1.1 MAX 10.1
"3.1"
> EXHINCRBYFLOAT h g -8.0 MIN -5.1 MAX 10.1
"-4.9"
> EXHINCRBYFLOAT h x 11.1 MIN 1.1 MAX 10.1
(error) ERR increment or decrement would overflow
> EXHEXISTS h x
(integer) 0
> EXHINCRBYFLOAT h g abc
(error) ERR value is not an float
> EXHINCRBYFLOAT h g 1 MAX xxx
(error) ERR min or max is specified, but value is not a float
> EXHSET h t 17179869184
(integer) 1
> EXHINCRBYFLOAT h t 1
"17179869185"
> EXHGETWITHVER h f
1) "3"
2) (integer) 2
"#,
    );
}

#[test]
fn transcript_keepttl() {
    run(
        &mut fresh_db(),
        r#"
> EXHSET k f v EX 100
(integer) 1
> EXHSET k f v2 KEEPTTL
(integer) 0
> EXHTTL k f                   -> an integer in 99..100
> EXHSET k f v3
(integer) 0
> EXHTTL k f
(integer) -1
> EXHINCRBY k c 1 EX 100
(integer) 1
> EXHINCRBY k c 1 KEEPTTL
(integer) 2
> EXHPTTL k c                  -> an integer in 1..100000
> EXHMSET k c 9
OK
> EXHTTL k c                   -> an integer in 99..100
> EXHINCRBY k c 1
(integer) 10
> EXHTTL k c
(integer) -1
> EXHSET k f v EX 3 KEEPTTL
(error) ERR syntax error
"#,
    );
}

#[test]
fn transcript_mget_after_expiry() {
    run(
        &mut fresh_db(),
        r#"
> EXHSET k f1 v1 PX 100
(integer) 1
> EXHSET k f2 v2 PX 100
(integer) 1
> EXHMGET k f1 f2 f3
1) "v1"
2) "v2"
3) (nil)
(after 200 ms)
> EXHMGET k f1 f2 f3
1) (nil)
2) (nil)
3) (nil)
> EXISTS k
(integer) 0
"#,
    );
}

#[test]
fn transcript_len_noexp_and_passive_counter() {
    let server = Server::builder()
        .module_args("tairhash", &["enable_active_expire", "0"])
        .start();
    let mut c = server.conn();
    run_sorting(
        &mut c,
        r#"
> EXHSET k f1 v
(integer) 1
> EXHSET k f2 v
(integer) 1
> EXHSET k f3 v PXAT 1
(integer) 1
> EXHLEN k
(integer) 3
> EXHLEN k NOEXP
(integer) 2
> EXHKEYS k
1) "f1"
2) "f2"
> EXHLEN k
(integer) 2
"#,
    );
    let info: String = query(&mut c, &["EXHEXPIREINFO"]);
    assert!(
        info.contains("db: 0, active_expired_fields: 0, passive_expired_fields: 1"),
        "{info}"
    );
    assert!(info.starts_with("\r\n# Active expire statistics\r\nenable_active_expire:0\r\n"));
    assert!(info.contains("\r\n# DB detail statistics\r\n"), "{info}");
}

#[test]
fn transcript_active_expiry_and_channel() {
    let server = Server::with_modules(&["tairhash"]);
    let mut c = server.conn();
    let mut c2 = Events::psubscribe(&server, &["tairhash*"]);
    run(
        &mut c,
        r#"
> EXHSET k f val EX 1
(integer) 1
(after 1600 ms)
> EXISTS k
(integer) 0
"#,
    );
    assert_eq!(
        c2.drain(),
        vec![("tairhash@0@k__:expired".to_string(), "f".to_string())]
    );
    let info: String = query(&mut c, &["EXHEXPIREINFO"]);
    assert!(
        info.contains("db: 0, active_expired_fields: 1, passive_expired_fields: 0"),
        "{info}"
    );
}

#[test]
fn transcript_rename_and_move() {
    let server = Server::with_modules(&["tairhash"]);
    run(
        &mut server.conn(),
        r#"
> EXHSET a f v PX 500
(integer) 1
> RENAME a b
OK
> EXHSET c f v PX 500
(integer) 1
> MOVE c 9
(integer) 1
(after 1100 ms)
> EXISTS b
(integer) 0
> SELECT 9
OK
> EXISTS c
(integer) 0
"#,
    );
}

#[test]
fn transcript_scan() {
    let mut c = fresh_db();
    run_sorting(
        &mut c,
        r#"
> EXHMSET k foo 1 fab 2 fiz 3 foobar 10 1 a 2 b 3 c 4 d
OK
> EXHSCAN k 0 MATCH foo* COUNT 10000
1) "0"
2) 1) "foo"
   2) "1"
   3) "foobar"
   4) "10"
> EXHSCAN nokey 0
1) "0"
2) (empty array)
> EXHSCAN k abc
(error) ERR invalid cursor
> EXHSCAN k 0 COUNT 0
(error) ERR syntax error
"#,
    );
    // A full iteration over 1000 fields returns every field, each with its own value.
    let mut p = redis::pipe();
    for j in 0..1000 {
        p.cmd("EXHSET")
            .arg("big")
            .arg(format!("key:{j}"))
            .arg(j.to_string())
            .ignore();
    }
    p.query::<()>(&mut c).unwrap();
    let mut seen = std::collections::HashMap::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, items): (String, Vec<String>) = query(&mut c, &["EXHSCAN", "big", &cursor]);
        calls += 1;
        for pair in items.chunks(2) {
            seen.insert(pair[0].clone(), pair[1].clone());
        }
        cursor = next;
        if cursor == "0" {
            break;
        }
        assert!(calls < 10_000, "EXHSCAN does not terminate");
    }
    assert_eq!(seen.len(), 1000);
    for (k, v) in &seen {
        assert_eq!(k.strip_prefix("key:"), Some(v.as_str()));
    }
    // Options repeat (last wins); MATCH with a class and an escape.
    let (_, items): (String, Vec<String>) = query(
        &mut c,
        &[
            "EXHSCAN",
            "big",
            "0",
            "COUNT",
            "1",
            "MATCH",
            "x",
            "COUNT",
            "2000",
            "MATCH",
            "key:99[0-3]",
        ],
    );
    let mut names: Vec<&String> = items.iter().step_by(2).collect();
    names.sort();
    assert_eq!(names, ["key:990", "key:991", "key:992", "key:993"]);
    assert_eq!(
        cmd_err(&mut c, &["EXHSCAN", "big", "-1"]),
        "ERR invalid cursor"
    );
    assert_eq!(
        cmd_err(&mut c, &["EXHSCAN", "big", "0", "FOO"]),
        "ERR syntax error"
    );
    assert_eq!(
        cmd_err(&mut c, &["EXHSCAN", "big", "0", "COUNT", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        cmd_err(&mut c, &["EXHSCAN", "big", "0", "MATCH"]),
        "ERR syntax error"
    );
}

#[test]
fn transcript_setnx_msetwithopts_delwithver() {
    run(
        &mut fresh_db(),
        r#"
> EXHSETNX k f1 v1
(integer) 1
> EXHSETNX k f1 v2
(integer) 0
> EXHMSETWITHOPTS k f1 x 4 10 f2 y 0 0
(error) ERR update version is stale
> EXHGET k f2
(nil)
> EXHMSETWITHOPTS k f1 x 1 1000 f2 y 0 0
OK
> EXHGETWITHVER k f1
1) "x"
2) (integer) 2
> EXHTTL k f2
(integer) -1
> EXHDELWITHVER k f1 0 f2 5
(integer) 1
> EXHEXISTS k f2
(integer) 1
"#,
    );
}

#[test]
fn transcript_exhdel() {
    run_sorting(
        &mut fresh_db(),
        r#"
> EXHMSET k f1 v1 f2 v2
OK
> EXHDEL k f1 f3
(integer) 1
> EXHDEL k f2 f2
(integer) 1
> EXISTS k
(integer) 0
> EXHDEL k f1
(integer) 0
> EXHGETALL k
(empty array)
> EXHMGETWITHVER k f1 f2
1) (nil)
2) (nil)
"#,
    );
}

#[test]
fn transcript_setver_expire_persist() {
    run(
        &mut fresh_db(),
        r#"
> EXHSET k f v
(integer) 1
> EXHSETVER k f 10
(integer) 1
> EXHSET k f v
(integer) 0
> EXHVER k f
(integer) 11
> EXHSETVER nokey f 10
(integer) 0
> EXHSETVER k nofield 10
(integer) 0
> EXHVER k nofield
(integer) -2
> EXHEXPIRE k f 100 VER 2
(error) ERR update version is stale
> EXHEXPIRE k f 100 VER 11
(integer) 1
> EXHPERSIST k f
(integer) 1
> EXHPERSIST k f
(integer) 0
> EXHVER k f
(integer) 12
> EXHEXPIREAT k f 100
(integer) 1
> EXHEXISTS k f
(integer) 0
"#,
    );
}

#[test]
fn transcript_wrongtype_and_arity() {
    run(
        &mut fresh_db(),
        r#"
> SET s x
OK
> EXHGET s f
(error) WRONGTYPE Operation against a key holding the wrong kind of value
> HSET h f v
(integer) 1
> EXHSET h f v
(error) WRONGTYPE Operation against a key holding the wrong kind of value
> EXHSET k f
(error) ERR wrong number of arguments for 'exhset' command
> EXHMSET k f1 v1 f2
(error) ERR wrong number of arguments for 'exhmset' command
> EXHSET k f v EX -1
(error) ERR syntax error
> EXHSET k f v EX 3 EXAT 10
(error) ERR syntax error
> EXHLEN k foo
(error) ERR syntax error
> EXISTS k
(integer) 0
"#,
    );
}

#[test]
fn transcript_replication_without_active_expiry() {
    let p = Server::builder()
        .module_args("tairhash", &["enable_active_expire", "0"])
        .start();
    let r = Server::replica_of(&p);
    r.wait_for_sync();
    let (mut pc, mut rc) = (p.conn(), r.conn());
    run_on(
        &mut [("P", &mut pc), ("R", &mut rc)],
        r#"
P> EXHSET k f v PX 100
(integer) 1
P> EXHSET k g v
(integer) 1
(after 200 ms)
P> WAIT 1 5000
(integer) 1
R> EXHGET k f
(nil)
R> EXHLEN k
(integer) 2
P> EXHGET k f
(nil)
P> WAIT 1 5000
(integer) 1
R> EXHLEN k
(integer) 1
P> EXHEXPIRE k g 100
(integer) 1
P> WAIT 1 5000
(integer) 1
R> EXHTTL k g                  -> an integer in 99..100
P> EXHDEL k g
(integer) 1
P> WAIT 1 5000
(integer) 1
R> EXISTS k
(integer) 0
"#,
    );
    assert_eq!(p.digest_now(), r.digest_now());
}

#[test]
fn transcript_replication_with_active_expiry() {
    let p = Server::with_modules(&["tairhash"]);
    let r = Server::replica_of(&p);
    r.wait_for_sync();
    let (mut pc, mut rc) = (p.conn(), r.conn());
    run_on(
        &mut [("P", &mut pc), ("R", &mut rc)],
        r#"
P> EXHSET k f val EX 2
(integer) 1
P> WAIT 1 5000
(integer) 1
R> EXHGET k f
"val"
(after 2600 ms)
R> EXHGET k f
(nil)
R> EXISTS k
(integer) 0
"#,
    );
    assert_eq!(p.digest_now(), r.digest_now());
}

#[test]
fn transcript_persistence_dump_restore_copy() {
    let mut server = Server::builder()
        .module("tairhash")
        .config("appendonly", "yes")
        .start();
    let mut c = server.conn();
    run(
        &mut c,
        r#"
> EXHSET k f val EX 50
(integer) 1
> EXHSET k f val EX 300
(integer) 0
> EXHSET k f2 val2
(integer) 1
"#,
    );
    server.rewrite_aof();
    let mut c = server.conn();
    server.debug_loadaof(&mut c);
    run(
        &mut c,
        r#"
> EXHVER k f
(integer) 2
> EXHTTL k f                   -> an integer in 299..300
> EXHVER k f2
(integer) 1
> DEBUG RELOAD
OK
> EXHGETWITHVER k f
1) "val"
2) (integer) 2
> EXHSET k g v EXAT 5
(integer) 1
> DEBUG RELOAD
OK
> EXHEXISTS k g
(integer) 0
"#,
    );
    // DUMP / DEL / RESTORE keeps versions and absolute times.
    let ttl_before: i64 = query(&mut c, &["EXHPTTL", "k", "f"]);
    let payload: Vec<u8> = query(&mut c, &["DUMP", "k"]);
    query::<i64, _>(&mut c, &["DEL", "k"]);
    cmd(&mut c, &[&b"RESTORE"[..], b"k", b"0", &payload]).unwrap();
    let got: (String, i64) = query(&mut c, &["EXHGETWITHVER", "k", "f"]);
    assert_eq!(got, ("val".to_string(), 2));
    let ttl_after: i64 = query(&mut c, &["EXHPTTL", "k", "f"]);
    assert!(
        (ttl_before - ttl_after).abs() <= 1000,
        "{ttl_before} {ttl_after}"
    );
    // COPY: same versions and expiries, and both keys' fields expire actively.
    query::<i64, _>(
        &mut c,
        &["EXHSET", "k", "short", "x", "PX", "200", "ABS", "7"],
    );
    query::<i64, _>(&mut c, &["COPY", "k", "k2"]);
    assert_eq!(digest_value(&mut c, "k"), digest_value(&mut c, "k2"));
    let v: i64 = query(&mut c, &["EXHVER", "k2", "short"]);
    assert_eq!(v, 7);
    wait_until(
        Duration::from_secs(3),
        "both copies lose the short field",
        || {
            query::<i64, _>(&mut c, &["EXHLEN", "k"]) == 2
                && query::<i64, _>(&mut c, &["EXHLEN", "k2"]) == 2
        },
    );
    assert_eq!(digest_value(&mut c, "k"), digest_value(&mut c, "k2"));
}

// ---- §6 bad input ------------------------------------------------------------------------------------

#[test]
fn bad_input_table() {
    let mut c = fresh_db();
    query::<i64, _>(&mut c, &["EXHSET", "k", "f", "1"]);
    query::<(), _>(&mut c, &["SET", "str", "x"]);
    query::<i64, _>(&mut c, &["HSET", "nh", "f", "v"]);
    let arity = |cmd: &str| format!("ERR wrong number of arguments for '{cmd}' command");
    let cases: Vec<(&str, String)> = vec![
        ("EXHSET k f", arity("exhset")),
        ("EXHGET k", arity("exhget")),
        ("EXHMSET k f", arity("exhmset")),
        ("EXHMSET k f1 v1 f2", arity("exhmset")),
        ("EXHMSETWITHOPTS k f v 1", arity("exhmsetwithopts")),
        ("EXHMSETWITHOPTS k f v 1 0 g", arity("exhmsetwithopts")),
        ("EXHDELWITHVER k f", arity("exhdelwithver")),
        ("EXHDELWITHVER k f 1 g", arity("exhdelwithver")),
        ("EXHLEN", arity("exhlen")),
        ("EXHLEN k NOEXP x", arity("exhlen")),
        ("EXHSCAN k", arity("exhscan")),
        ("EXHEXPIREINFO x", arity("exhexpireinfo")),
        ("EXHSET k f v xxxx", "ERR syntax error".into()),
        ("EXHSET k f v EX", "ERR syntax error".into()),
        ("EXHSET k f v EX noint", "ERR syntax error".into()),
        ("EXHSET k f v EX -1", "ERR syntax error".into()),
        ("EXHSET k f v PXAT -5", "ERR syntax error".into()),
        ("EXHSET k f v EX 3 EXAT 10", "ERR syntax error".into()),
        ("EXHSET k f v EX 3 KEEPTTL", "ERR syntax error".into()),
        ("EXHSET k f v KEEPTTL PX 3", "ERR syntax error".into()),
        ("EXHSET k f v NX XX", "ERR syntax error".into()),
        ("EXHSET k f v VER 3 ABS 10", "ERR syntax error".into()),
        ("EXHSET k f v ABS 10 GT 11", "ERR syntax error".into()),
        ("EXHSET k f v ABS 0", "ERR syntax error".into()),
        ("EXHSET k f v GT 0", "ERR syntax error".into()),
        ("EXHSET k f v VER -1", "ERR syntax error".into()),
        ("EXHSET k f v VER 01", "ERR syntax error".into()),
        (
            "EXHSET k f v EXAT 9300000000000000",
            "ERR invalid expire time in 'exhset' command".into(),
        ),
        (
            "EXHSET k f v EX 9223372036854775",
            "ERR invalid expire time in 'exhset' command".into(),
        ),
        ("EXHINCRBY k f 3 XX", "ERR syntax error".into()),
        ("EXHINCRBY k f 1 MAX", "ERR syntax error".into()),
        ("EXHINCRBY k f 1 MIN 1 MIN 2", "ERR syntax error".into()),
        ("EXHINCRBY k f val", "ERR value is not an integer".into()),
        ("EXHINCRBY k f +1", "ERR value is not an integer".into()),
        (
            "EXHINCRBY k f 1 MAX xxx",
            "ERR min or max is specified, but value is not an integer".into(),
        ),
        (
            "EXHINCRBYFLOAT k f 1.1 MIN xxx",
            "ERR min or max is specified, but value is not a float".into(),
        ),
        (
            "EXHINCRBY k f 1 MIN 10 MAX 1",
            "ERR min value is bigger than max value".into(),
        ),
        (
            "EXHINCRBYFLOAT k f 1 MIN 10 MAX 1",
            "ERR min value is bigger than max value".into(),
        ),
        ("EXHINCRBYFLOAT k f val", "ERR value is not an float".into()),
        ("EXHINCRBYFLOAT k f nan", "ERR value is not an float".into()),
        ("EXHINCRBYFLOAT k f inf", "ERR value is not an float".into()),
        (
            "EXHINCRBYFLOAT k f 1e400",
            "ERR value is not an float".into(),
        ),
        (
            "EXHINCRBY k f 9223372036854775807",
            "ERR increment or decrement would overflow".into(),
        ),
        ("EXHEXPIRE k f abc", "ERR syntax error".into()),
        ("EXHEXPIRE k f -1", "ERR syntax error".into()),
        ("EXHEXPIRE k f 10 VER", "ERR syntax error".into()),
        ("EXHEXPIRE k f 10 VER 1 ABS 2", "ERR syntax error".into()),
        ("EXHEXPIRE k f 10 NX", "ERR syntax error".into()),
        ("EXHPEXPIRE k f 10 GT 0", "ERR syntax error".into()),
        (
            "EXHEXPIREAT k f 9300000000000000",
            "ERR invalid expire time in 'exhexpireat' command".into(),
        ),
        (
            "EXHPEXPIRE k f 9223372036854775807",
            "ERR invalid expire time in 'exhpexpire' command".into(),
        ),
        ("EXHSETVER k f 0", "ERR syntax error".into()),
        ("EXHSETVER k f -1", "ERR syntax error".into()),
        ("EXHSETVER k f x", "ERR syntax error".into()),
        ("EXHLEN k foo", "ERR syntax error".into()),
        ("EXHSCAN k abc", "ERR invalid cursor".into()),
        ("EXHSCAN k -1", "ERR invalid cursor".into()),
        (
            "EXHSCAN k 18446744073709551616",
            "ERR invalid cursor".into(),
        ),
        ("EXHSCAN k 0 COUNT 0", "ERR syntax error".into()),
        ("EXHSCAN k 0 COUNT x", "ERR syntax error".into()),
        ("EXHSCAN k 0 FOO", "ERR syntax error".into()),
        ("EXHMSETWITHOPTS k f v x 10", "ERR syntax error".into()),
        ("EXHMSETWITHOPTS k f v 1 -1", "ERR syntax error".into()),
        ("EXHDELWITHVER k f x", "ERR syntax error".into()),
        ("EXHDELWITHVER k f -1", "ERR syntax error".into()),
    ];
    for (line, want) in &cases {
        let args = split_line(line);
        assert_eq!(&cmd_err(&mut c, &args), want, "{line}");
    }
    // State errors.
    query::<i64, _>(&mut c, &["EXHSET", "k", "s", " 11"]);
    query::<i64, _>(&mut c, &["EXHSET", "k", "t", "11 "]);
    query::<i64, _>(&mut c, &["EXHSET", "k", "a", "abc"]);
    for f in ["s", "t", "a"] {
        assert_eq!(
            cmd_err(&mut c, &["EXHINCRBY", "k", f, "1"]),
            "ERR value is not an integer"
        );
    }
    assert_eq!(
        cmd_err(&mut c, &["EXHINCRBYFLOAT", "k", "s", "1"]),
        "ERR value is not an float"
    );
    assert_eq!(
        cmd_err(
            &mut c,
            &["EXHINCRBYFLOAT", "k", "f", "1e308", "MAX", "1e300"]
        ),
        "ERR increment or decrement would overflow"
    );
    query::<i64, _>(
        &mut c,
        &["EXHSET", "k", "v", "x", "ABS", "9223372036854775807"],
    );
    assert_eq!(
        cmd_err(&mut c, &["EXHSET", "k", "v", "y"]),
        "ERR version overflow"
    );
    assert_eq!(
        cmd_err(&mut c, &["EXHMSET", "k", "v", "y"]),
        "ERR version overflow"
    );
    for stale in [
        vec!["EXHSET", "k", "f", "x", "VER", "5"],
        vec!["EXHSET", "k", "f", "x", "GT", "1"],
        vec!["EXHMSETWITHOPTS", "k", "f", "x", "5", "0"],
        vec!["EXHEXPIRE", "k", "f", "10", "VER", "5"],
        vec!["EXHINCRBY", "k", "f", "1", "GT", "1"],
    ] {
        assert_eq!(cmd_err(&mut c, &stale), "ERR update version is stale");
    }
    // Wrong types: every command but EXHEXPIREINFO.
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for key in ["str", "nh"] {
        for line in [
            "EXHSET $K f v",
            "EXHGET $K f",
            "EXHMSET $K f v",
            "EXHPEXPIREAT $K f 1",
            "EXHPEXPIRE $K f 1",
            "EXHEXPIREAT $K f 1",
            "EXHEXPIRE $K f 1",
            "EXHPERSIST $K f",
            "EXHPTTL $K f",
            "EXHTTL $K f",
            "EXHVER $K f",
            "EXHSETVER $K f 1",
            "EXHINCRBY $K f 1",
            "EXHINCRBYFLOAT $K f 1",
            "EXHGETWITHVER $K f",
            "EXHMGET $K f",
            "EXHMGETWITHVER $K f",
            "EXHDEL $K f",
            "EXHLEN $K",
            "EXHEXISTS $K f",
            "EXHSTRLEN $K f",
            "EXHKEYS $K",
            "EXHVALS $K",
            "EXHGETALL $K",
            "EXHGETALLWITHVER $K",
            "EXHSCAN $K 0",
            "EXHSETNX $K f v",
            "EXHMSETWITHOPTS $K f v 0 0",
            "EXHDELWITHVER $K f 0",
            "EXHDELREPL $K f",
        ] {
            let line = line.replace("$K", key);
            assert_eq!(cmd_err(&mut c, &split_line(&line)), wrongtype, "{line}");
        }
    }
    // Syntax errors come before WRONGTYPE.
    assert_eq!(
        cmd_err(&mut c, &["EXHSET", "str", "f", "v", "EX", "x"]),
        "ERR syntax error"
    );
    assert_eq!(query::<String, _>(&mut c, &["GET", "str"]), "x");
}

// ---- more command behaviour ------------------------------------------------------------------------

#[test]
fn reads_and_counts() {
    let mut c = fresh_db();
    query::<(), _>(&mut c, &["EXHMSET", "k", "a", "1", "b", "22", "c", "333"]);
    let all: Vec<Value> = query(&mut c, &["EXHGETALLWITHVER", "k"]);
    assert_eq!(all.len(), 9);
    assert_eq!(query::<i64, _>(&mut c, &["EXHSTRLEN", "k", "c"]), 3);
    assert_eq!(query::<i64, _>(&mut c, &["EXHSTRLEN", "k", "x"]), 0);
    assert_eq!(query::<i64, _>(&mut c, &["EXHSTRLEN", "nokey", "x"]), 0);
    let got = cmd(&mut c, &["EXHMGETWITHVER", "k", "a", "x", "c"]).unwrap();
    assert_eq!(show(&got), r#"[["1", 1], nil, ["333", 1]]"#);
    let got = cmd(&mut c, &["EXHMGET", "nokey", "a", "b"]).unwrap();
    assert_eq!(show(&got), "[nil, nil]");
    assert_eq!(query::<i64, _>(&mut c, &["EXHPTTL", "nokey", "a"]), -2);
    assert_eq!(query::<i64, _>(&mut c, &["EXHPTTL", "k", "x"]), -3);
    assert_eq!(query::<i64, _>(&mut c, &["EXHPTTL", "k", "a"]), -1);
    query::<i64, _>(&mut c, &["EXHPEXPIRE", "k", "a", "100000"]);
    let ms: i64 = query(&mut c, &["EXHPTTL", "k", "a"]);
    assert!((99_000..=100_000).contains(&ms), "{ms}");
    let at = server_ms(&mut c) + 50_000;
    query::<i64, _>(
        &mut c,
        &["EXHPEXPIREAT", "k", "b", &at.to_string(), "ABS", "9"],
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHVER", "k", "b"]), 9);
    assert_eq!(query::<i64, _>(&mut c, &["EXHTTL", "k", "b"]), 50);
    query::<i64, _>(
        &mut c,
        &[
            "EXHEXPIREAT",
            "k",
            "c",
            &(at / 1000 + 10).to_string(),
            "GT",
            "20",
        ],
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHVER", "k", "c"]), 20);
    assert_eq!(
        query::<i64, _>(&mut c, &["EXHEXPIRE", "k", "nofield", "10"]),
        0
    );
    assert_eq!(
        query::<i64, _>(&mut c, &["EXHEXPIRE", "nokey", "f", "10"]),
        0
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHPERSIST", "nokey", "f"]), 0);
    // EXHSET replies 1 for a field that was expired, and the version starts afresh.
    query::<i64, _>(&mut c, &["EXHSET", "k", "e", "x", "ABS", "50", "PXAT", "1"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHSET", "k", "e", "y"]), 1);
    assert_eq!(query::<i64, _>(&mut c, &["EXHVER", "k", "e"]), 1);
    // EXHMSET: a field named twice is written twice.
    query::<(), _>(&mut c, &["EXHMSET", "k", "d", "1", "d", "2"]);
    let got: (String, i64) = query(&mut c, &["EXHGETWITHVER", "k", "d"]);
    assert_eq!(got, ("2".to_string(), 2));
    // EXHDELREPL behaves as EXHDEL.
    assert_eq!(query::<i64, _>(&mut c, &["EXHDELREPL", "k", "d", "zz"]), 1);
    // EXHMSETWITHOPTS with an expiry; versions are checked before anything is written.
    query::<(), _>(
        &mut c,
        &[
            "EXHMSETWITHOPTS",
            "k",
            "m",
            "1",
            "0",
            "100",
            "n",
            "2",
            "0",
            "0",
        ],
    );
    let ttl: i64 = query(&mut c, &["EXHTTL", "k", "m"]);
    assert!((99..=100).contains(&ttl));
    assert_eq!(
        cmd_err(
            &mut c,
            &[
                "EXHMSETWITHOPTS",
                "k",
                "m",
                "3",
                "1",
                "0",
                "n",
                "9",
                "7",
                "0"
            ]
        ),
        "ERR update version is stale"
    );
    assert_eq!(query::<String, _>(&mut c, &["EXHGET", "k", "m"]), "1");
    // EXHSETNX creates fields without expiry, version 1.
    assert_eq!(query::<i64, _>(&mut c, &["EXHSETNX", "k", "nx", "v"]), 1);
    assert_eq!(query::<i64, _>(&mut c, &["EXHTTL", "k", "nx"]), -1);
    // Empty field names and values are fields like any other.
    assert_eq!(query::<i64, _>(&mut c, &["EXHSET", "k", "", ""]), 1);
    assert_eq!(query::<String, _>(&mut c, &["EXHGET", "k", ""]), "");
    // KEEPTTL on an absent field creates it without expiry; NX + time on a new field.
    assert_eq!(
        query::<i64, _>(&mut c, &["EXHSET", "k2", "f", "v", "KEEPTTL"]),
        1
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHTTL", "k2", "f"]), -1);
    assert_eq!(
        query::<i64, _>(&mut c, &["EXHSET", "k2", "g", "v", "NX", "EX", "10"]),
        1
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHTTL", "k2", "g"]), 10);
    assert_eq!(
        query::<i64, _>(&mut c, &["EXHSET", "k2", "g", "w", "xx", "px", "5000"]),
        0
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHTTL", "k2", "g"]), 5);
}

#[test]
fn write_commands_remove_a_few_more_expired_fields() {
    let mut c = fresh_db_passive();
    // Writes remove expired fields themselves: expire the fields with EXHPEXPIREAT, which does not.
    for i in 0..10 {
        query::<(), _>(&mut c, &["EXHMSET", "k", &format!("old{i}"), "v"]);
    }
    for i in 0..10 {
        query::<i64, _>(
            &mut c,
            &[
                "EXHPEXPIREAT",
                "k",
                &format!("old{i}"),
                &(i + 1).to_string(),
            ],
        );
    }
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 10);
    // A write removes up to 3 further expired fields (passive_expire_keys_per_loop), earliest first.
    query::<i64, _>(&mut c, &["EXHSET", "k", "new", "v"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 8);
    let keys: Vec<String> = query(&mut c, &["EXHKEYS", "k"]);
    assert_eq!(keys, ["new"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 1);
    // A read of an expired field removes just that field (EXH*EXPIRE* remove no further fields).
    query::<(), _>(&mut c, &["EXHMSET", "k", "x", "v", "y", "v"]);
    query::<i64, _>(&mut c, &["EXHPEXPIREAT", "k", "x", "1"]);
    query::<i64, _>(&mut c, &["EXHPEXPIREAT", "k", "y", "1"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 3);
    assert_eq!(
        query::<Option<String>, _>(&mut c, &["EXHGET", "k", "x"]),
        None
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 2);
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k", "NOEXP"]), 1);
    // EXHSCAN removes what it visits.
    let (_, items): (String, Vec<String>) = query(&mut c, &["EXHSCAN", "k", "0"]);
    assert_eq!(items, ["new", "v"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 1);
}

// ---- active expiry -------------------------------------------------------------------------------------

/// 200,000 fields over 100 keys, all due at the same moment, are removed by active expiry alone
/// within 3 s, while a PING loop measures how long the server keeps a client waiting.
#[test]
fn active_expiry_drains_a_burst_promptly() {
    let server = Server::with_modules(&["tairhash"]);
    let mut c = server.conn();
    let (keys, fields) = (100usize, 2_000usize);
    let start = server_ms(&mut c);
    let due = start + 6_000;
    for k in 0..keys {
        let mut p = redis::pipe();
        for f in 0..fields {
            p.cmd("EXHSET")
                .arg(format!("burst:{k}"))
                .arg(format!("field:{f:08}"))
                .arg("value-0123456789")
                .arg("PXAT")
                .arg(due)
                .ignore();
        }
        p.query::<()>(&mut c).unwrap();
    }
    let filled = server_ms(&mut c);
    assert!(
        filled < due - 300,
        "filling took {} ms, too slow for the test",
        filled - start
    );
    assert_eq!(query::<i64, _>(&mut c, &["DBSIZE"]), keys as i64);
    let stored: i64 = (0..keys)
        .map(|k| query::<i64, _>(&mut c, &["EXHLEN", &format!("burst:{k}")]))
        .sum();
    assert_eq!(stored, (keys * fields) as i64);

    // The PING loop runs from before the due time until the keys are gone.
    let stop = Arc::new(AtomicBool::new(false));
    let pinger = {
        let stop = Arc::clone(&stop);
        let mut pc = server.conn();
        std::thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let _: String = query(&mut pc, &["PING"]);
                worst = worst.max(t.elapsed());
                std::thread::sleep(Duration::from_millis(1));
            }
            worst
        })
    };
    let mut gone_at = None;
    while server_ms(&mut c) < due + 4_000 {
        if query::<i64, _>(&mut c, &["DBSIZE"]) == 0 {
            gone_at = Some(server_ms(&mut c));
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    let worst = pinger.join().unwrap();
    let gone_at = gone_at.expect("the burst was not removed within 4 s of its due time");
    let info: String = query(&mut c, &["EXHEXPIREINFO"]);
    println!(
        "active expiry: {} fields over {keys} keys gone {} ms after their due time; worst PING {:?}; \
         max cycle {} ms",
        keys * fields,
        gone_at - due,
        worst,
        info.lines()
            .find_map(|l| l.strip_prefix("tair_hash_active_expire_max_time_msec:"))
            .unwrap_or("?")
    );
    assert!(gone_at - due <= 3_000, "took {} ms", gone_at - due);
    assert!(worst < Duration::from_millis(500), "worst PING {worst:?}");
    assert!(
        info.contains(&format!(
            "db: 0, active_expired_fields: {}, passive_expired_fields: 0",
            keys * fields
        )),
        "{info}"
    );
}

/// A replica keeps expired fields until its primary deletes them, even with its own active expiry
/// configured on (the primary here never expires actively), and its digest follows the primary's.
#[test]
fn replica_never_expires_by_itself() {
    let p = Server::builder()
        .module_args("tairhash", &["enable_active_expire", "0"])
        .start();
    let r = Server::builder().module("tairhash").replica_of(&p).start();
    r.wait_for_sync();
    let (mut pc, mut rc) = (p.conn(), r.conn());
    for k in 0..5 {
        let key = format!("k{k}");
        for i in 0..10 {
            query::<i64, _>(
                &mut pc,
                &["EXHSET", &key, &format!("f{i}"), "v", "PX", "100"],
            );
        }
        query::<i64, _>(&mut pc, &["EXHSET", &key, "keep", "v"]);
    }
    wait_replicated(&mut pc, &r);
    // Several of the replica's cycles pass.
    std::thread::sleep(Duration::from_millis(700));
    for k in 0..5 {
        let key = format!("k{k}");
        // Hidden from the replica's readers …
        assert_eq!(
            query::<Option<String>, _>(&mut rc, &["EXHGET", &key, "f0"]),
            None
        );
        assert_eq!(query::<i64, _>(&mut rc, &["EXHLEN", &key, "NOEXP"]), 1);
        let all: Vec<String> = query(&mut rc, &["EXHGETALL", &key]);
        assert_eq!(all, ["keep", "v"]);
        // … but not removed.
        assert_eq!(query::<i64, _>(&mut rc, &["EXHLEN", &key]), 11, "{key}");
    }
    let info: String = query(&mut rc, &["EXHEXPIREINFO"]);
    assert!(
        !info.contains("db: 0"),
        "the replica counted removals: {info}"
    );
    assert_eq!(digest(&mut pc), digest(&mut rc));
    // The primary's removal reaches the replica.
    for k in 0..5 {
        let all: Vec<String> = query(&mut pc, &["EXHGETALL", &format!("k{k}")]);
        assert_eq!(all, ["keep", "v"]);
    }
    wait_replicated(&mut pc, &r);
    for k in 0..5 {
        assert_eq!(query::<i64, _>(&mut rc, &["EXHLEN", &format!("k{k}")]), 1);
    }
    assert_eq!(digest(&mut pc), digest(&mut rc));
    // A promoted replica expires by itself at once.
    query::<i64, _>(&mut pc, &["EXHSET", "late", "f", "v", "PX", "300"]);
    wait_replicated(&mut pc, &r);
    query::<(), _>(&mut rc, &["REPLICAOF", "NO", "ONE"]);
    wait_until(
        Duration::from_secs(3),
        "the promoted replica expires",
        || query::<i64, _>(&mut rc, &["EXISTS", "late"]) == 0,
    );
}

/// With active expiry on both sides, the replica follows the primary's deletions exactly.
#[test]
fn replica_digest_follows_active_expiry() {
    let p = Server::with_modules(&["tairhash"]);
    let r = Server::replica_of(&p);
    r.wait_for_sync();
    let (mut pc, mut rc) = (p.conn(), r.conn());
    let mut p2 = redis::pipe();
    for i in 0..2_000 {
        let key = format!("h{}", i % 20);
        p2.cmd("EXHSET").arg(&key).arg(format!("f{i}")).arg("v");
        if i % 3 != 0 {
            p2.arg("PX").arg(100 + (i % 7) * 50);
        }
        p2.ignore();
    }
    p2.query::<()>(&mut pc).unwrap();
    wait_until(Duration::from_secs(5), "expiry done on the primary", || {
        (0..20)
            .map(|k| query::<i64, _>(&mut pc, &["EXHLEN", &format!("h{k}")]))
            .sum::<i64>()
            == 667
    });
    wait_replicated(&mut pc, &r);
    assert_eq!(digest(&mut pc), digest(&mut rc));
}

// ---- persistence and replication -----------------------------------------------------------------

/// Fills a few keys with versions, field expiries (far away, so nothing expires during the test),
/// binary names and values. Returns the keys.
fn fill_durable(c: &mut Connection) -> Vec<Vec<u8>> {
    let far = server_ms(c) + 3_600_000;
    query::<i64, _>(
        c,
        &[
            "EXHSET",
            "d1",
            "a",
            "1",
            "ABS",
            "42",
            "PXAT",
            &far.to_string(),
        ],
    );
    query::<i64, _>(c, &["EXHSET", "d1", "b", "2"]);
    query::<i64, _>(c, &["EXHINCRBY", "d1", "b", "5", "EX", "7200"]);
    query::<i64, _>(c, &["EXHSETVER", "d1", "b", "1000"]);
    query::<(), _>(c, &["EXHMSET", "d2", "x", "1", "y", "2", "x", "3"]);
    query::<i64, _>(c, &["EXHEXPIRE", "d2", "y", "9000", "GT", "77"]);
    cmd(
        c,
        &[
            &b"EXHSET"[..],
            b"bin\x00key",
            b"f\x00\xff",
            b"\x00\r\n\xfe",
            b"EX",
            b"5000",
        ],
    )
    .unwrap();
    let mut p = redis::pipe();
    for i in 0..300 {
        p.cmd("EXHSET").arg("big").arg(format!("f{i}")).arg(i);
        if i % 2 == 0 {
            p.arg("PXAT").arg(far + i);
        }
        p.arg("ABS").arg(i + 1).ignore();
    }
    p.query::<()>(c).unwrap();
    vec![
        b"d1".to_vec(),
        b"d2".to_vec(),
        b"bin\x00key".to_vec(),
        b"big".to_vec(),
    ]
}

fn value_digests(c: &mut Connection, keys: &[Vec<u8>]) -> Vec<String> {
    keys.iter().map(|k| digest_value(c, k)).collect()
}

/// Versions and absolute expiry times (both are in DEBUG DIGEST-VALUE) survive DEBUG RELOAD, an AOF
/// rewrite without preamble and restart, and a replica's full sync.
#[test]
fn versions_and_expiries_survive_reload_aof_and_full_sync() {
    let mut server = Server::with_modules(&["tairhash"]);
    let mut c = server.conn();
    let keys = fill_durable(&mut c);
    let want = value_digests(&mut c, &keys);
    let whole = digest(&mut c);
    assert_ne!(want[0], digest_value(&mut c, "nokey"));
    let pttl: i64 = query(&mut c, &["EXHPTTL", "d1", "a"]);

    server.debug_reload(&mut c);
    assert_eq!(value_digests(&mut c, &keys), want, "after DEBUG RELOAD");

    server.rewrite_aof_and_restart();
    let mut c = server.conn();
    assert_eq!(
        value_digests(&mut c, &keys),
        want,
        "after AOF rewrite and restart"
    );
    assert_eq!(digest(&mut c), whole);
    let got: (String, i64) = query(&mut c, &["EXHGETWITHVER", "d1", "b"]);
    assert_eq!(got, ("7".to_string(), 1000));
    let pttl2: i64 = query(&mut c, &["EXHPTTL", "d1", "a"]);
    assert!(pttl2 <= pttl && pttl - pttl2 < 60_000, "{pttl} {pttl2}");

    let replica = Server::replica_of(&server);
    replica.wait_for_sync();
    let mut rc = replica.conn();
    assert_eq!(value_digests(&mut rc, &keys), want, "after a full sync");
    assert_eq!(digest(&mut rc), whole);
    // Writes after the sync replicate in absolute form.
    query::<String, _>(&mut c, &["EXHINCRBYFLOAT", "d1", "fl", "1.5", "EX", "100"]);
    query::<i64, _>(&mut c, &["EXHSETNX", "d1", "nx", "v"]);
    query::<i64, _>(&mut c, &["EXHPERSIST", "d1", "a"]);
    query::<i64, _>(&mut c, &["EXHDELWITHVER", "d2", "x", "0"]);
    wait_replicated(&mut c, &replica);
    assert_eq!(digest(&mut c), digest(&mut rc));
}

/// MEMORY USAGE grows with every field, and with expiries.
#[test]
fn memory_usage_grows_with_fields() {
    let mut c = fresh_db();
    query::<i64, _>(&mut c, &["EXHSET", "m", "f0", "v"]);
    let one: i64 = query(&mut c, &["MEMORY", "USAGE", "m"]);
    let mut p = redis::pipe();
    for i in 1..1000 {
        p.cmd("EXHSET")
            .arg("m")
            .arg(format!("f{i}"))
            .arg("v")
            .ignore();
    }
    p.query::<()>(&mut c).unwrap();
    let many: i64 = query(&mut c, &["MEMORY", "USAGE", "m"]);
    assert!(many > one + 999 * 20, "{one} {many}");
    let mut p = redis::pipe();
    for i in 0..1000 {
        p.cmd("EXHEXPIRE")
            .arg("m")
            .arg(format!("f{i}"))
            .arg(1000)
            .ignore();
    }
    p.query::<()>(&mut c).unwrap();
    let ttl: i64 = query(&mut c, &["MEMORY", "USAGE", "m"]);
    assert!(ttl > many, "{many} {ttl}");
}

// ---- key moves and active expiry ---------------------------------------------------------------------

fn len_in(c: &mut Connection, db: usize, key: &str) -> i64 {
    query::<(), _>(c, &["SELECT", &db.to_string()]);
    query(c, &["EXHLEN", key])
}

/// FLUSHALL ASYNC, SWAPDB, RENAME (also onto an expiring key), MOVE, COPY, RESTORE and an overwrite of
/// keys with expiring fields, then more writes and expiries: active expiry removes exactly the due
/// fields of the keys that hold them now, never a field of another key, and the server stays up.
#[test]
fn key_moves_keep_active_expiry_on_the_right_keys() {
    let server = Server::with_modules(&["tairhash"]);
    let mut c = server.conn();
    let set = |c: &mut Connection, db: usize, key: &str, field: &str, at: Option<i64>| {
        query::<(), _>(c, &["SELECT", &db.to_string()]);
        let mut a = vec!["EXHSET".to_string(), key.into(), field.into(), "v".into()];
        if let Some(t) = at {
            a.extend(["PXAT".to_string(), t.to_string()]);
        }
        query::<i64, _>(c, &a);
    };
    for round in 0..2 {
        let t = server_ms(&mut c) + 700;
        let far = Some(t + 3_600_000);
        // FLUSHALL ASYNC of keys with expiring fields (one big enough to be freed lazily), then the
        // same names again, one without expiring fields.
        let mut p = redis::pipe();
        p.cmd("SELECT").arg(2).ignore();
        for i in 0..2_000 {
            p.cmd("EXHSET")
                .arg("fa")
                .arg(i)
                .arg("v")
                .arg("PXAT")
                .arg(t)
                .ignore();
        }
        p.query::<()>(&mut c).unwrap();
        set(&mut c, 0, "fb", "old", Some(t));
        query::<(), _>(&mut c, &["FLUSHALL", "ASYNC"]);
        set(&mut c, 2, "fa", "p", None);
        set(&mut c, 0, "fb", "e", Some(t));
        set(&mut c, 0, "fb", "p", None);
        // SWAPDB: the expiring `x` (and `fb`) of db 0 go to db 1, db 1's persistent `x` comes to db 0.
        set(&mut c, 0, "x", "e1", Some(t));
        set(&mut c, 0, "x", "e2", Some(t));
        set(&mut c, 0, "x", "p", None);
        set(&mut c, 1, "x", "q", None);
        query::<(), _>(&mut c, &["SWAPDB", "0", "1"]);
        // RENAME onto a key with later expiring fields.
        set(&mut c, 0, "a", "f", Some(t));
        set(&mut c, 0, "a", "p", None);
        set(&mut c, 0, "b", "g", far);
        query::<(), _>(&mut c, &["RENAME", "a", "b"]);
        // RENAME of a key without expiring fields onto one with.
        set(&mut c, 0, "c", "p", None);
        set(&mut c, 0, "d", "e", Some(t));
        query::<(), _>(&mut c, &["RENAME", "c", "d"]);
        // MOVE.
        set(&mut c, 0, "m", "e", Some(t));
        set(&mut c, 0, "m", "p", None);
        query::<i64, _>(&mut c, &["MOVE", "m", "5"]);
        // COPY, also into another database.
        set(&mut c, 0, "cp", "e", Some(t));
        set(&mut c, 0, "cp", "p", None);
        query::<i64, _>(&mut c, &["COPY", "cp", "cp2"]);
        query::<i64, _>(&mut c, &["COPY", "cp", "cp3", "DB", "6"]);
        // Overwritten by a string: stays a string.
        set(&mut c, 0, "ov", "e", Some(t));
        query::<(), _>(&mut c, &["SET", "ov", "string"]);
        // RESTORE.
        set(&mut c, 0, "rs", "e", Some(t));
        set(&mut c, 0, "rs", "p", None);
        let payload: Vec<u8> = query(&mut c, &["DUMP", "rs"]);
        query::<i64, _>(&mut c, &["DEL", "rs"]);
        cmd(&mut c, &[&b"RESTORE"[..], b"rs", b"0", &payload]).unwrap();
        // Same name in another database, nothing expiring.
        set(&mut c, 7, "rs", "p", None);

        let mut lens = Vec::new();
        let done = poll_until(Duration::from_secs(4), || {
            lens = [
                (1, "x"),
                (1, "fb"),
                (0, "b"),
                (5, "m"),
                (0, "cp"),
                (0, "cp2"),
                (6, "cp3"),
                (0, "rs"),
            ]
            .iter()
            .map(|&(db, k)| (db, k, len_in(&mut c, db, k)))
            .collect::<Vec<_>>();
            lens.iter().all(|l| l.2 == 1)
        });
        assert!(done, "round {round}: due fields not removed: {lens:?}");
        query::<(), _>(&mut c, &["SELECT", "0"]);
        let x0: Vec<String> = query(&mut c, &["EXHKEYS", "x"]);
        assert_eq!(x0, ["q"], "round {round}");
        let b: Vec<String> = query(&mut c, &["EXHKEYS", "b"]);
        assert_eq!(b, ["p"]);
        let d: Vec<String> = query(&mut c, &["EXHKEYS", "d"]);
        assert_eq!(d, ["p"]);
        assert_eq!(query::<String, _>(&mut c, &["GET", "ov"]), "string");
        assert_eq!(len_in(&mut c, 2, "fa"), 1);
        assert_eq!(len_in(&mut c, 7, "rs"), 1);
        query::<(), _>(&mut c, &["SELECT", "1"]);
        let x1: Vec<String> = query(&mut c, &["EXHKEYS", "x"]);
        assert_eq!(x1, ["p"]);
        server.assert_alive();
    }
}

// ---- forged RESTORE payloads -------------------------------------------------------------------------

#[test]
fn forged_restore_payloads_are_refused() {
    let mut c = fresh_db();
    let far = (server_ms(&mut c) + 3_600_000).to_string();
    query::<i64, _>(
        &mut c,
        &["EXHSET", "src", "f1", "value-one", "ABS", "5", "PXAT", &far],
    );
    query::<i64, _>(&mut c, &["EXHSET", "src", "f2", "value-two"]);
    let payload: Vec<u8> = query(&mut c, &["DUMP", "src"]);
    let parsed = parse_module_value(&payload).expect("a module value");
    assert_eq!(parsed.type_name, "tairhash-");
    assert_eq!(parsed.encver, 0);
    // count, key name, then (name, version, expiry, value) per field.
    assert_eq!(parsed.fields.len(), 2 + 2 * 4, "{parsed}");
    let f = &parsed.fields;
    let mut forged: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in [
        1,
        3,
        5,
        f[2].value_offset,
        f[5].value_offset,
        parsed.eof_offset - 10,
    ] {
        forged.push((format!("truncated at {cut}"), truncate_value(&payload, cut)));
    }
    forged.push(("encoding version 1".into(), set_module_encver(&payload, 1)));
    forged.push((
        "encoding version 63".into(),
        set_module_encver(&payload, 63),
    ));
    forged.push((
        "field count 0".into(),
        set_len_at(&payload, f[0].value_offset, 0),
    ));
    forged.push((
        "field count 3".into(),
        set_len_at(&payload, f[0].value_offset, 3),
    ));
    forged.push((
        "field count 2^40".into(),
        set_len_at(&payload, f[0].value_offset, 1 << 40),
    ));
    forged.push((
        "name length 2^40".into(),
        set_len_at(&payload, f[2].value_offset, 1 << 40),
    ));
    forged.push((
        "version 0".into(),
        set_len_at(&payload, f[3].value_offset, 0),
    ));
    // (A version past 2^63-1 is not forged: the C module writes one when its counter wraps, and it
    // loads; see c_datasets.rs.)
    forged.push((
        "expiry past 2^63".into(),
        set_len_at(&payload, f[4].value_offset, (1 << 63) + 1),
    ));
    // Both names are two bytes after a one-byte length: make the second a copy of the first.
    let (n1, n2) = (f[2].value_offset, f[6].value_offset);
    assert_eq!((payload[n1], payload[n1 + 1]), (2, b'f'));
    assert_eq!((payload[n2], payload[n2 + 1]), (2, b'f'));
    let dup = patch_byte(&payload, n2 + 2, payload[n1 + 2]);
    forged.push(("duplicate field".into(), dup));
    for (what, p) in &forged {
        let r = cmd(&mut c, &[&b"RESTORE"[..], b"dst", b"0", p, b"REPLACE"]);
        assert!(
            r.is_err(),
            "{what}: RESTORE accepted a forged payload: {r:?}"
        );
        assert_eq!(show(&cmd(&mut c, &["PING"]).unwrap()), "PONG", "{what}");
        assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "dst"]), 0, "{what}");
    }
    // The genuine payload restores, and the saved key name is the key's.
    assert!(
        matches!(&f[1].value, FieldValue::String { bytes, .. } if bytes == b"src"),
        "{parsed}"
    );
    cmd(&mut c, &[&b"RESTORE"[..], b"dst", b"0", &payload]).unwrap();
    assert_eq!(digest_value(&mut c, "dst"), digest_value(&mut c, "src"));
    shared_n(0).assert_alive();
}

// ---- propagation, notifications, protocol ----------------------------------------------------------

/// What reaches the AOF (and replicas): absolute times, resolved versions, explicit deletions.
#[test]
fn propagated_forms_in_the_aof() {
    let server = Server::builder()
        .module("tairhash")
        .config("appendonly", "yes")
        .config("appendfsync", "always")
        .config("aof-use-rdb-preamble", "no")
        .start();
    let mut c = server.conn();
    let before = aof_text(&server);
    let run_all = |c: &mut Connection, cmds: &[&str]| {
        for line in cmds {
            let _ = cmd(c, &split_line(line));
        }
    };
    run_all(
        &mut c,
        &[
            "EXHSET k f v EX 100",
            "EXHGET k f",
            "EXHSET k f v NX",
            "EXHSET k f v VER 99",
            "EXHSET k f w KEEPTTL",
            "EXHSET k f w2",
            "EXHSETNX k g v",
            "EXHSETNX k g v",
            "EXHINCRBY k n 5 PX 100000",
            "EXHINCRBYFLOAT k fl 1.5",
            "EXHMSET k a 1 b 2",
            "EXHMSETWITHOPTS k a 1 0 100 c 3 0 0",
            "EXHEXPIRE k a 100",
            "EXHPEXPIREAT k b 99999999999999 ABS 50",
            "EXHPERSIST k a",
            "EXHPERSIST k a",
            "EXHSETVER k a 9",
            "EXHSETVER k zz 9",
            "EXHDEL k a zz",
            "EXHDELWITHVER k b 1 c 0",
            "EXHDEL k nothing",
            "EXHSET x f v PXAT 1",
            "EXHGET x f",
        ],
    );
    // Active expiry of an already expired field (after the grace).
    query::<i64, _>(&mut c, &["EXHSET", "y", "f", "v", "PXAT", "1"]);
    wait_until(Duration::from_secs(3), "y expires", || {
        query::<i64, _>(&mut c, &["EXISTS", "y"]) == 0
    });
    let aof = aof_text(&server);
    let norm: Vec<String> = parse_resp_commands(&aof[before.len()..])
        .iter()
        .filter(|c| !c.starts_with("SELECT") && c.as_str() != "MULTI" && c.as_str() != "EXEC")
        .map(|c| {
            c.split(' ')
                .map(|w| match w.parse::<i64>() {
                    Ok(t) if t > 1_700_000_000_000 && t < 99_999_999_999_999 => "<t>".to_string(),
                    _ => w.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        norm,
        vec![
            "EXHSET k f v ABS 1 PXAT <t>",
            "EXHSET k f w ABS 2 KEEPTTL",
            "EXHSET k f w2 ABS 3",
            "EXHSET k g v ABS 1",
            "EXHSET k n 5 ABS 1 PXAT <t>",
            "EXHSET k fl 1.5 ABS 1",
            "EXHMSET k a 1 b 2",
            "EXHSET k a 1 ABS 2 PXAT <t>",
            "EXHSET k c 3 ABS 1",
            "EXHPEXPIREAT k a <t> ABS 3",
            "EXHPEXPIREAT k b 99999999999999 ABS 50",
            "EXHPERSIST k a",
            "EXHSETVER k a 9",
            "EXHDEL k a",
            "EXHDEL k c",
            "EXHSET x f v ABS 1 PXAT 1",
            "EXHDEL x f",
            "EXHSET y f v ABS 1 PXAT 1",
            "EXHDEL y f",
        ]
    );
}

#[test]
fn keyspace_notifications() {
    let server = Server::with_modules(&["tairhash"]);
    let mut c = server.conn();
    let mut ev = Events::keyevents(&server, "KEA");
    for line in [
        "EXHSET k f v",
        "EXHSET k f v NX",
        "EXHMSET k a 1",
        "EXHSETNX k b 1",
        "EXHMSETWITHOPTS k c 1 0 0",
        "EXHINCRBY k n 1",
        "EXHINCRBYFLOAT k n 1",
        "EXHPEXPIREAT k a 99999999999999",
        "EXHPEXPIRE k a 100000",
        "EXHEXPIREAT k a 99999999999",
        "EXHEXPIRE k a 1000",
        "EXHPERSIST k a",
        "EXHSETVER k a 5",
        "EXHDEL k a b c n",
        "EXHDELWITHVER k f 0",
        "EXHDEL k f",
    ] {
        let _ = cmd(&mut c, &split_line(line));
    }
    let names: Vec<String> = ev
        .drain()
        .into_iter()
        .map(|(ch, key)| {
            assert_eq!(key, "k");
            ch.trim_start_matches("__keyevent@0__:").to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "exhset",
            "exhmset",
            "exhsetnx",
            "exhmsetwithopts",
            "exhincrby",
            "exhincrbyfloat",
            "exhpexpireat",
            "exhpexpire",
            "exhexpireat",
            "exhexpire",
            "exhpersist",
            "exhsetver",
            "exhdel",
            "exhdel",
            "del",
        ]
    );
    // Expiry: passive, then active (with Tair's channel).
    let mut tair = Events::psubscribe(&server, &["tairhash@*"]);
    query::<(), _>(&mut c, &["EXHMSET", "p", "f", "v", "g", "v"]);
    query::<i64, _>(&mut c, &["EXHPEXPIREAT", "p", "f", "1"]);
    query::<Option<String>, _>(&mut c, &["EXHGET", "p", "f"]);
    assert_eq!(
        ev.drain(),
        [
            ("__keyevent@0__:exhmset".to_string(), "p".to_string()),
            ("__keyevent@0__:exhpexpireat".into(), "p".into()),
            ("__keyevent@0__:exhexpired".into(), "p".into()),
        ]
    );
    // A write that removes the last (expired) field deletes the key before it adds its own.
    query::<i64, _>(&mut c, &["EXHSET", "q", "f", "v", "PXAT", "1"]);
    query::<i64, _>(&mut c, &["EXHSET", "q", "g", "v"]);
    assert_eq!(
        ev.drain(),
        [
            ("__keyevent@0__:exhset".to_string(), "q".to_string()),
            ("__keyevent@0__:exhexpired".into(), "q".into()),
            ("__keyevent@0__:del".into(), "q".into()),
            ("__keyevent@0__:exhset".into(), "q".into()),
        ]
    );
    assert_eq!(
        tair.drain(),
        [
            ("tairhash@0@p__:expired".to_string(), "f".to_string()),
            ("tairhash@0@q__:expired".to_string(), "f".to_string()),
        ]
    );
    query::<i64, _>(&mut c, &["EXHEXPIRE", "p", "g", "0"]);
    wait_until(Duration::from_secs(3), "p expires", || {
        query::<i64, _>(&mut c, &["EXISTS", "p"]) == 0
    });
    assert_eq!(
        ev.drain(),
        [
            ("__keyevent@0__:exhexpire".to_string(), "p".to_string()),
            ("__keyevent@0__:exhexpired".into(), "p".into()),
            ("__keyevent@0__:del".into(), "p".into()),
        ]
    );
    assert_eq!(
        tair.drain(),
        [("tairhash@0@p__:expired".to_string(), "g".to_string())]
    );
}

#[test]
fn expire_event_pubsub_can_be_turned_off() {
    let server = Server::builder()
        .module_args("tairhash", &["expire_event_pubsub", "0"])
        .start();
    let mut c = server.conn();
    let mut tair = Events::psubscribe(&server, &["tairhash@*"]);
    query::<i64, _>(&mut c, &["EXHSET", "p", "f", "v", "PXAT", "1"]);
    query::<Option<String>, _>(&mut c, &["EXHGET", "p", "f"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "p"]), 0);
    assert!(tair.drain().is_empty());
}

#[test]
fn resp3_and_binary_safety() {
    let server = shared_n(1);
    let mut c = server.conn_resp3();
    query::<(), _>(&mut c, &["SELECT", "15"]);
    query::<(), _>(&mut c, &["FLUSHDB"]);
    let (key, field, value) = (&b"k\x00\xff"[..], &b"f\x00\r\n"[..], &b"\xff\x00v"[..]);
    assert_eq!(
        cmd(&mut c, &[&b"EXHSET"[..], key, field, value]).unwrap(),
        Value::Int(1)
    );
    assert_eq!(
        cmd(&mut c, &[&b"EXHGET"[..], key, field]).unwrap(),
        Value::BulkString(value.to_vec())
    );
    assert_eq!(
        cmd(&mut c, &[&b"EXHGET"[..], key, b"x"]).unwrap(),
        Value::Nil
    );
    assert_eq!(
        cmd(&mut c, &["EXHGETWITHVER", "nokey", "x"]).unwrap(),
        Value::Nil
    );
    // Flat arrays, not maps; EXHINCRBYFLOAT stays a bulk string.
    assert_eq!(
        cmd(&mut c, &[&b"EXHGETALL"[..], key]).unwrap(),
        Value::Array(vec![
            Value::BulkString(field.to_vec()),
            Value::BulkString(value.to_vec())
        ])
    );
    assert_eq!(
        cmd(&mut c, &["EXHINCRBYFLOAT", "n", "f", "2.5"]).unwrap(),
        Value::BulkString(b"2.5".to_vec())
    );
    let scan = cmd(&mut c, &[&b"EXHSCAN"[..], key, b"0", b"MATCH", b"f\x00*"]).unwrap();
    assert_eq!(show(&scan), r#"["0", ["f\0\r\n", "\xff\0v"]]"#);
    let keys: Vec<Vec<u8>> = query(&mut c, &[&b"EXHKEYS"[..], key]);
    assert_eq!(keys, [field.to_vec()]);
}

#[test]
fn command_table_flags_and_keys() {
    let mut c = fresh_db();
    let info = cmd(
        &mut c,
        &[
            "COMMAND",
            "INFO",
            "exhset",
            "exhget",
            "exhexpireinfo",
            "exhscan",
        ],
    )
    .unwrap();
    let Value::Array(items) = info else { panic!() };
    let entry = |i: usize| match &items[i] {
        Value::Array(v) => v.clone(),
        other => panic!("{}", show(other)),
    };
    // name, arity, flags, first key, last key, step, ..., key specs
    let exhset = entry(0);
    assert_eq!(show(&exhset[1]), "-4");
    assert_eq!(show(&exhset[2]), "[write, denyoom, module, fast]");
    assert_eq!(show(&Value::Array(exhset[3..6].to_vec())), "[1, 1, 1]");
    assert!(
        show(&exhset[8]).contains(r#""flags", [RW, access, update], "begin_search", ["type", "index", "spec", ["index", 1]]"#),
        "{}",
        show(&exhset[8])
    );
    assert_eq!(show(&entry(1)[2]), "[readonly, module, fast]");
    let info_cmd = entry(2);
    assert_eq!(
        show(&Value::Array(info_cmd[1..6].to_vec())),
        "[1, [readonly, module, fast], 0, 0, 0]"
    );
    assert_eq!(show(&entry(3)[2]), "[readonly, module]");
    let keys: Vec<String> = query(&mut c, &["COMMAND", "GETKEYS", "EXHMSET", "key1", "f", "v"]);
    assert_eq!(keys, ["key1"]);
    assert!(cmd(&mut c, &["COMMAND", "GETKEYS", "EXHEXPIREINFO"]).is_err());
    // MULTI and scripts.
    query::<(), _>(&mut c, &["MULTI"]);
    query::<(), _>(&mut c, &["EXHSET", "k", "f", "v"]);
    query::<(), _>(&mut c, &["EXHGET", "k", "f"]);
    let r = cmd(&mut c, &["EXEC"]).unwrap();
    assert_eq!(show(&r), r#"[1, "v"]"#);
    let v: String = query(
        &mut c,
        &[
            "EVAL_RO",
            "return redis.call('EXHGET', KEYS[1], 'f')",
            "1",
            "k",
        ],
    );
    assert_eq!(v, "v");
    let e = cmd_err(
        &mut c,
        &[
            "EVAL_RO",
            "return redis.call('EXHSET', KEYS[1], 'f', 'w')",
            "1",
            "k",
        ],
    );
    assert!(e.contains("Write commands are not allowed"), "{e}");
}

/// Reads that meet expired fields and the active-expiry timer during CLIENT PAUSE WRITE (when the
/// server refuses propagation) hide the fields without removing them, and the server stays up.
#[test]
fn client_pause_write_defers_removal() {
    let server = Server::builder()
        .module("tairhash")
        .config("appendonly", "yes")
        .start();
    let r = Server::replica_of(&server);
    r.wait_for_sync();
    let mut c = server.conn();
    let due = server_ms(&mut c) + 200;
    let mut p = redis::pipe();
    for i in 0..100 {
        p.cmd("EXHSET")
            .arg("k")
            .arg(i)
            .arg("v")
            .arg("PXAT")
            .arg(due)
            .ignore();
    }
    p.cmd("EXHSET").arg("k").arg("keep").arg("v").ignore();
    p.query::<()>(&mut c).unwrap();
    query::<(), _>(&mut c, &["CLIENT", "PAUSE", "1500", "WRITE"]);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        query::<Option<String>, _>(&mut c, &["EXHGET", "k", "5"]),
        None
    );
    let all: Vec<String> = query(&mut c, &["EXHGETALL", "k"]);
    assert_eq!(all, ["keep", "v"]);
    let (_, items): (String, Vec<String>) = query(&mut c, &["EXHSCAN", "k", "0", "COUNT", "1000"]);
    assert_eq!(items, ["keep", "v"]);
    assert_eq!(query::<i64, _>(&mut c, &["EXHLEN", "k"]), 101);
    server.assert_alive();
    query::<(), _>(&mut c, &["CLIENT", "UNPAUSE"]);
    wait_until(Duration::from_secs(3), "removal after the pause", || {
        query::<i64, _>(&mut c, &["EXHLEN", "k"]) == 1
    });
    wait_replicated(&mut c, &r);
    assert_eq!(server.digest_now(), r.digest_now());
}

#[test]
fn load_arguments_are_checked() {
    let server = Server::start();
    let mut c = server.conn();
    let path = module_path("tairhash").to_string_lossy().into_owned();
    for bad in [
        vec!["bogus", "1"],
        vec!["enable_active_expire"],
        vec!["enable_active_expire", "2"],
        vec!["active_expire_period", "0"],
        vec!["active_expire_cycle_ms", "100"],
        vec!["active_expire_dbs_per_loop", "0"],
        vec!["passive_expire_keys_per_loop", "-1"],
        vec!["tair-compat", "maybe"],
    ] {
        let mut args = vec!["MODULE", "LOAD", path.as_str()];
        args.extend(bad.iter());
        assert!(cmd(&mut c, &args).is_err(), "{bad:?} was accepted");
    }
    query::<(), _>(
        &mut c,
        &[
            "MODULE",
            "LOAD",
            &path,
            "ACTIVE_EXPIRE_PERIOD",
            "50",
            "active_expire_keys_per_loop",
            "1000",
            "active_expire_dbs_per_loop",
            "4",
            "passive_expire_keys_per_loop",
            "7",
            "tair-compat",
            "yes",
        ],
    );
    let info: String = query(&mut c, &["EXHEXPIREINFO"]);
    for line in [
        "enable_active_expire:1",
        "tair_hash_active_expire_period:50",
        "tair_hash_active_expire_keys_per_loop:1000",
        "tair_hash_active_expire_dbs_per_loop:4",
        "tair_hash_passive_expire_keys_per_loop:7",
    ] {
        assert!(info.contains(&format!("{line}\r\n")), "{line}: {info}");
    }
    // With 4 databases per cycle, every database is still reached.
    for db in [0, 5, 10, 15] {
        query::<(), _>(&mut c, &["SELECT", &db.to_string()]);
        query::<i64, _>(&mut c, &["EXHSET", "k", "f", "v", "PX", "100"]);
    }
    wait_until(Duration::from_secs(3), "all databases expire", || {
        [0, 5, 10, 15].iter().all(|db| {
            query::<(), _>(&mut c, &["SELECT", &db.to_string()]);
            query::<i64, _>(&mut c, &["EXISTS", "k"]) == 0
        })
    });
    server.assert_alive();
}

/// A replica that got its data by a full sync (loaded from disk, or asynchronously into a side
/// dataset with `repl-diskless-load swapdb`) knows the expiring keys: promoted, it expires them itself.
#[test]
fn promoted_replica_expires_what_it_loaded() {
    let p = Server::builder()
        .module_args("tairhash", &["enable_active_expire", "0"])
        .start();
    let mut pc = p.conn();
    for k in 0..10 {
        query::<i64, _>(
            &mut pc,
            &["EXHSET", &format!("k{k}"), "f", "v", "PX", "1500"],
        );
        query::<i64, _>(&mut pc, &["EXHSET", &format!("k{k}"), "p", "v"]);
    }
    query::<(), _>(&mut pc, &["SELECT", "3"]);
    query::<i64, _>(&mut pc, &["EXHSET", "k0", "f", "v", "PX", "1500"]);
    for mode in ["disabled", "swapdb"] {
        let r = Server::builder()
            .module("tairhash")
            .config("repl-diskless-load", mode)
            .replica_of(&p)
            .start();
        r.wait_for_sync();
        let mut rc = r.conn();
        assert_eq!(query::<i64, _>(&mut rc, &["DBSIZE"]), 10, "{mode}");
        query::<(), _>(&mut rc, &["REPLICAOF", "NO", "ONE"]);
        let done = poll_until(Duration::from_secs(4), || {
            query::<(), _>(&mut rc, &["SELECT", "3"]);
            let gone3 = query::<i64, _>(&mut rc, &["EXISTS", "k0"]) == 0;
            query::<(), _>(&mut rc, &["SELECT", "0"]);
            gone3 && (0..10).all(|k| query::<i64, _>(&mut rc, &["EXHLEN", &format!("k{k}")]) == 1)
        });
        assert!(
            done,
            "{mode}: the promoted replica did not expire the loaded fields"
        );
    }
}

/// After DEBUG RELOAD, a restart from the RDB and a restart from a plain-command AOF, the loaded keys'
/// fields expire actively (nothing reads them: plain EXHLEN never removes).
#[test]
fn active_expiry_resumes_after_reload_and_restarts() {
    let mut server = Server::with_modules(&["tairhash"]);
    let mut c = server.conn();
    let fill = |c: &mut Connection, key: &str| {
        query::<i64, _>(c, &["EXHSET", key, "soon", "v", "PX", "1200"]);
        query::<i64, _>(c, &["EXHSET", key, "keep", "v"]);
    };
    let wait_one = |c: &mut Connection, key: &str, what: &str| {
        wait_until(Duration::from_secs(4), what, || {
            query::<i64, _>(c, &["EXHLEN", key]) == 1
        });
    };
    fill(&mut c, "r1");
    server.debug_reload(&mut c);
    wait_one(&mut c, "r1", "expiry after DEBUG RELOAD");
    fill(&mut c, "r2");
    query::<(), _>(&mut c, &["SAVE"]);
    server.restart();
    let mut c = server.conn();
    wait_one(&mut c, "r2", "expiry after a restart from the RDB");
    fill(&mut c, "r3");
    server.rewrite_aof_and_restart();
    let mut c = server.conn();
    wait_one(&mut c, "r3", "expiry after a restart from the AOF");
}
