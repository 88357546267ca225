//! tairstring against a real valkey-server: every transcript and bad-input case of
//! shared/spec/tairstring.md, persistence, replication, RESTORE of forged payloads, binary safety,
//! RESP3, notifications and the propagated forms.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use rand::{Rng, SeedableRng};
use tair_tests::dump::{
    parse_module_value, set_len_at, set_module_encver, truncate_value, FieldValue,
};
use tair_tests::redis::Connection;
use tair_tests::transcript::{run, run_on};
use tair_tests::*;

/// Shared servers: tests that only need an empty database get one of their own.
static POOL: DbPool = DbPool::new(|| Server::with_modules(&["tairstring"]), 16);

fn shared() -> &'static Server {
    POOL.server(0)
}

fn fresh_db() -> Connection {
    POOL.fresh_db()
}

#[test]
fn transcript_versions_basic() {
    run(
        &mut fresh_db(),
        r#"
> EXSET foo 100
OK
> EXGET foo
1) "100"
2) (integer) 1
> EXSET foo 200 VER 1
OK
> EXGET foo
1) "200"
2) (integer) 2
> EXSET foo 300 VER 1
(error) ERR update version is stale
> EXINCRBY foo 100
(integer) 300
> EXSETVER foo 100
(integer) 1
> EXCAS foo 400 100
1) OK
2) ""
3) (integer) 101
> EXCAD foo 101
(integer) 1
> EXGET foo
(nil)
"#,
    );
}

#[test]
fn transcript_nx_xx_abs_flags() {
    run(
        &mut fresh_db(),
        r#"
> EXSET k v XX
(nil)
> EXSET k v NX WITHVERSION
(integer) 1
> EXSET k v NX
(nil)
> EXSET k v2 VER 0
OK
> EXSET k v3 ABS 10 WITHVERSION
(integer) 10
> EXSET k v4 FLAGS 233
OK
> EXGET k WITHFLAGS
1) "v4"
2) (integer) 11
3) (integer) 233
> EXSET k v5
OK
> EXGET k WITHFLAGS
1) "v5"
2) (integer) 12
3) (integer) 233
> TYPE k
exstrtype
"#,
    );
}

#[test]
fn transcript_ttl() {
    run(
        &mut fresh_db(),
        r#"
> EXSET k v EX 10
OK
> EXSET k v2 KEEPTTL
OK
> TTL k                      -> an integer in 1..10
> EXSET k v3
OK
> TTL k
(integer) -1
> EXSET k v PXAT 1000
OK
> EXISTS k
(integer) 0
"#,
    );
}

#[test]
fn transcript_exincrby() {
    run(
        &mut fresh_db(),
        r#"
> EXINCRBY c 100 DEF 200 WITHVERSION
1) (integer) 200
2) (integer) 1
> EXINCRBY c 108
(integer) 308
> EXINCRBY c -208 DEF 300 WITHVERSION
1) (integer) 100
2) (integer) 3
> EXINCRBY c 100 MAX 150
(error) ERR increment or decrement would overflow
> EXINCRBY c 100 MIN 500 MAX 100
(error) ERR min or max is specified, but not valid
> EXINCRBY c -500 NONEGATIVE WITHVERSION
1) (integer) 0
2) (integer) 4
"#,
    );
}

#[test]
fn transcript_exincrby_overflow() {
    run(
        &mut fresh_db(),
        r#"
> EXINCRBY c 9223372036854775807 ABS 1
(integer) 9223372036854775807
> EXINCRBY c 1
(error) ERR increment or decrement would overflow
> EXINCRBY c 1 XX VER 7
(error) ERR update version is stale
> EXINCRBY missing 1 XX
(nil)
> EXISTS missing
(integer) 0
"#,
    );
}

#[test]
fn transcript_exincrbyfloat() {
    run(
        &mut fresh_db(),
        r#"
> EXINCRBYFLOAT f 10.1 VER 1
"10.1"
> EXINCRBYFLOAT f 10.1 VER 1
"20.2"
> EXINCRBYFLOAT f 10.1
"30.3"
> EXINCRBYFLOAT f 1 WITHVERSION
(error) ERR syntax error
> EXINCRBYFLOAT f abc
(error) ERR value is not a float
> EXINCRBYFLOAT f -40 MIN 0
(error) ERR increment or decrement would overflow
> EXINCRBYFLOAT f -3.3 ABS 50
"27"
> EXGET f
1) "27"
2) (integer) 50
"#,
    );
}

#[test]
fn transcript_exincrbyfloat_bounds() {
    run(
        &mut fresh_db(),
        r#"
> EXSET s 100
OK
> EXINCRBYFLOAT s 10.123
"110.123"
> EXINCRBYFLOAT s 20 MAX 100
(error) ERR increment or decrement would overflow
> EXINCRBYFLOAT s 20 MIN 100
"130.123"
"#,
    );
}

#[test]
fn transcript_excas_excad() {
    run(
        &mut fresh_db(),
        r#"
> EXCAS k v 1
(integer) -1
> EXSET k bar
OK
> EXCAS k bar1 1 EX 100
1) OK
2) ""
3) (integer) 2
> EXCAS k bar2 1
1) CAS_FAILED
2) "bar1"
3) (integer) 2
> EXCAS k bar2 -1
(error) ERR syntax error
> EXCAD k 1
(integer) 0
> EXCAD nokey 1
(integer) -1
> EXCAD k 2
(integer) 1
"#,
    );
}

#[test]
fn transcript_append_prepend() {
    run(
        &mut fresh_db(),
        r#"
> EXAPPEND k foo VER 10
(integer) 1
> EXPREPEND k bar
(integer) 2
> EXAPPEND k baz VER 1
(error) ERR update version is stale
> EXAPPEND k baz XX ABS 9
(integer) 9
> EXGET k
1) "barfoobaz"
2) (integer) 9
> EXPREPEND k x NX
(nil)
"#,
    );
}

#[test]
fn transcript_exgae() {
    run(
        &mut fresh_db(),
        r#"
> EXGAE k EX 2
(nil)
> EXSET k foo FLAGS 233
OK
> EXGAE k EX 100
1) "foo"
2) (integer) 1
3) (integer) 233
> TTL k                      -> an integer in 1..100
> EXGAE k
(error) ERR wrong number of arguments for 'exgae' command
"#,
    );
}

#[test]
fn transcript_cas_cad_native() {
    run(
        &mut fresh_db(),
        r#"
> CAS s a b
(integer) -1
> SET s bar1
OK
> CAS s bar9 bar2
(integer) 0
> CAS s bar1 bar2 PX 100000
(integer) 1
> GET s
"bar2"
> CAD s nope
(integer) 0
> CAD s bar2
(integer) 1
"#,
    );
}

#[test]
fn transcript_wrongtype() {
    run(
        &mut fresh_db(),
        r#"
> EXSET e v
OK
> CAS e v w
(error) WRONGTYPE Operation against a key holding the wrong kind of value
> EXGET s2
(nil)
> SET s2 x
OK
> EXGET s2
(error) WRONGTYPE Operation against a key holding the wrong kind of value
"#,
    );
}

#[test]
fn transcript_bad_options() {
    run(
        &mut fresh_db(),
        r#"
> EXSET k v EX 0
(error) ERR syntax error
> EXSET k v EX 10 PX 10
(error) ERR syntax error
> EXSET k v NX XX
(error) ERR syntax error
> EXSET k v VER 1 ABS 2
(error) ERR syntax error
> EXSET k v EX 10 KEEPTTL
(error) ERR syntax error
> EXSET k v FLAGS 4294967296
(error) ERR syntax error
> EXSETVER k 0
(error) ERR syntax error
> EXSETVER k 5
(integer) 0
> EXISTS k
(integer) 0
"#,
    );
}

#[test]
fn transcript_seed_inventory() {
    run(
        &mut fresh_db(),
        r#"
> EXSET inventory:SKU-A001 "500" VER 1
OK
> EXCAS inventory:SKU-A001 "498" 1
1) OK
2) ""
3) (integer) 2
> EXGET inventory:SKU-A001
1) "498"
2) (integer) 2
> EXCAS inventory:SKU-A001 "497" 1
1) CAS_FAILED
2) "498"
3) (integer) 2
"#,
    );
}

/// §6: every bad input gets exactly its error, and changes nothing.
#[test]
fn bad_input_table() {
    let mut c = fresh_db();
    let arity = |cmd: &str| format!("ERR wrong number of arguments for '{cmd}' command");
    let syntax = "ERR syntax error";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["EXSET", "k"], arity("exset")),
        (vec!["EXGET"], arity("exget")),
        (vec!["EXCAS", "k", "v"], arity("excas")),
        (vec!["EXGAE", "k"], arity("exgae")),
        (vec!["CAS", "k", "a"], arity("cas")),
        (vec!["CAD", "k"], arity("cad")),
        (vec!["EXGET", "k", "WITHFLAGS", "x"], arity("exget")),
        (vec!["EXGET", "k", "NX"], syntax.into()),
        (vec!["EXSET", "k", "v", "xxxx"], syntax.into()),
        (vec!["EXSET", "k", "v", "FLAGS"], syntax.into()),
        (vec!["EXSET", "k", "v", "EX", "0"], syntax.into()),
        (vec!["EXSET", "k", "v", "EX", "-1"], syntax.into()),
        (vec!["EXSET", "k", "v", "EXAT", "0"], syntax.into()),
        (vec!["EXSET", "k", "v", "PX", "abc"], syntax.into()),
        (
            vec!["EXSET", "k", "v", "EX", "10", "PX", "20"],
            syntax.into(),
        ),
        (
            vec!["EXSET", "k", "v", "EX", "10", "EX", "15"],
            syntax.into(),
        ),
        (
            vec!["EXSET", "k", "v", "EX", "10", "KEEPTTL"],
            syntax.into(),
        ),
        (vec!["EXSET", "k", "v", "NX", "XX"], syntax.into()),
        (
            vec!["EXSET", "k", "v", "VER", "1", "ABS", "2"],
            syntax.into(),
        ),
        (
            vec!["EXSET", "k", "v", "FLAGS", "3", "FLAGS", "4"],
            syntax.into(),
        ),
        (vec!["EXSET", "k", "v", "VER", "-1"], syntax.into()),
        (vec!["EXSET", "k", "v", "ABS", "-1"], syntax.into()),
        (
            vec!["EXSET", "k", "v", "FLAGS", "4294967296"],
            syntax.into(),
        ),
        (vec!["EXSET", "k", "v", "FLAGS", "-1"], syntax.into()),
        (vec!["EXSET", "k", "v", "DEF", "1"], syntax.into()),
        (vec!["EXSET", "k", "v", "MIN", "1"], syntax.into()),
        (vec!["EXSET", "k", "v", "WITHFLAGS"], syntax.into()),
        (
            vec!["EXSET", "k", "v", "EX", "9223372036854775807"],
            "ERR invalid expire time in 'exset' command".into(),
        ),
        (
            vec!["EXSET", "k", "v", "PX", "9223372036854775807"],
            "ERR invalid expire time in 'exset' command".into(),
        ),
        (
            vec!["EXINCRBY", "k", "abc"],
            "ERR value is not an integer".into(),
        ),
        (
            vec!["EXINCRBY", "k", "9223372036854775808"],
            "ERR value is not an integer".into(),
        ),
        (
            vec!["EXINCRBY", "k", "1", "DEF", "1.5"],
            "ERR value is not an integer".into(),
        ),
        (
            vec!["EXINCRBY", "k", "1", "MIN", "x"],
            "ERR min or max is specified, but not valid".into(),
        ),
        (
            vec!["EXINCRBY", "k", "1", "MIN", "10", "MAX", "1"],
            "ERR min or max is specified, but not valid".into(),
        ),
        (
            vec!["EXINCRBY", "k", "1", "MIN", "1", "MIN", "2"],
            syntax.into(),
        ),
        (vec!["EXINCRBY", "k", "1", "WITHFLAGS"], syntax.into()),
        (vec!["EXINCRBY", "k", "1", "NX", "XX"], syntax.into()),
        (
            vec!["EXINCRBYFLOAT", "k", "abc"],
            "ERR value is not a float".into(),
        ),
        (
            vec!["EXINCRBYFLOAT", "k", "nan"],
            "ERR value is not a float".into(),
        ),
        (
            vec!["EXINCRBYFLOAT", "k", "inf"],
            "ERR value is not a float".into(),
        ),
        (
            vec!["EXINCRBYFLOAT", "k", "1e400"],
            "ERR value is not a float".into(),
        ),
        (vec!["EXINCRBYFLOAT", "k", "1", "DEF", "3"], syntax.into()),
        (
            vec!["EXINCRBYFLOAT", "k", "1", "WITHVERSION"],
            syntax.into(),
        ),
        (vec!["EXINCRBYFLOAT", "k", "1", "NONEGATIVE"], syntax.into()),
        (
            vec!["EXINCRBYFLOAT", "k", "1", "MIN", "x"],
            "ERR min or max is specified, but not valid".into(),
        ),
        (
            vec!["EXCAS", "k", "v", "abc"],
            "ERR version should be integer".into(),
        ),
        (vec!["EXCAS", "k", "v", "-1"], syntax.into()),
        (vec!["EXCAS", "k", "v", "1", "NX"], syntax.into()),
        (vec!["EXCAD", "k", "abc"], syntax.into()),
        (vec!["EXSETVER", "k", "abc"], syntax.into()),
        (vec!["EXSETVER", "k", "0"], syntax.into()),
        (vec!["EXGAE", "k", "EX", "10", "PX", "10"], syntax.into()),
        (vec!["EXGAE", "k", "KEEPTTL", "x"], syntax.into()),
        (vec!["EXGAE", "k", "EX", "0"], syntax.into()),
        (vec!["EXAPPEND", "k", "NX", "100"], syntax.into()),
        (vec!["EXAPPEND", "k", "v", "EX", "10"], syntax.into()),
    ];
    for (args, want) in &cases {
        assert_eq!(&cmd_err(&mut c, args), want, "{args:?}");
    }
    let keys: i64 = query(&mut c, &["DBSIZE"]);
    assert_eq!(keys, 0, "a failing command created a key");

    // On an existing key: errors leave value, version and TTL as they were.
    query::<(), _>(&mut c, &["EXSET", "k", "5", "EX", "1000", "FLAGS", "7"]);
    query::<(), _>(&mut c, &["SET", "str", "x"]);
    let before = show(&cmd(&mut c, &["EXGET", "k", "WITHFLAGS"]).unwrap());
    let pttl: i64 = query(&mut c, &["PEXPIRETIME", "k"]);
    for (args, want) in [
        (
            vec!["EXSET", "k", "v", "VER", "9"],
            "ERR update version is stale",
        ),
        (
            vec!["EXINCRBY", "k", "1", "VER", "9"],
            "ERR update version is stale",
        ),
        (
            vec!["EXINCRBY", "k", "9223372036854775807"],
            "ERR increment or decrement would overflow",
        ),
        (
            vec!["EXINCRBYFLOAT", "k", "1", "MAX", "2"],
            "ERR increment or decrement would overflow",
        ),
        (
            vec!["EXAPPEND", "k", "x", "VER", "9"],
            "ERR update version is stale",
        ),
        (
            vec!["EXSET", "str", "v"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            vec!["EXGET", "str"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            vec!["EXCAD", "str", "1"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            vec!["EXGAE", "str", "EX", "5"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            vec!["CAD", "k", "5"],
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
    ] {
        assert_eq!(cmd_err(&mut c, &args), want, "{args:?}");
    }
    assert_eq!(
        show(&cmd(&mut c, &["EXGET", "k", "WITHFLAGS"]).unwrap()),
        before
    );
    assert_eq!(query::<i64, _>(&mut c, &["PEXPIRETIME", "k"]), pttl);
    query::<(), _>(&mut c, &["EXSET", "n", "abc"]);
    assert_eq!(
        cmd_err(&mut c, &["EXINCRBY", "n", "1"]),
        "ERR value is not an integer"
    );
    assert_eq!(
        cmd_err(&mut c, &["EXINCRBYFLOAT", "n", "1"]),
        "ERR value is not a float"
    );
    // Version overflow: a write past 2^63-1 fails and changes nothing.
    query::<(), _>(&mut c, &["EXSET", "v", "x", "ABS", "9223372036854775807"]);
    assert_eq!(
        cmd_err(&mut c, &["EXSET", "v", "y"]),
        "ERR version overflow"
    );
    assert_eq!(
        show(&cmd(&mut c, &["EXGET", "v"]).unwrap()),
        show(&cmd(&mut c, &["EXGET", "v"]).unwrap())
    );
    let got: (Vec<u8>, i64) = query(&mut c, &["EXGET", "v"]);
    assert_eq!(got, (b"x".to_vec(), i64::MAX));
}

/// Random and hostile argument lists never crash the server.
#[test]
fn fuzz_arguments_never_crash() {
    let mut c = fresh_db();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let cmds = [
        "EXSET",
        "EXGET",
        "EXSETVER",
        "EXINCRBY",
        "EXINCRBYFLOAT",
        "EXCAS",
        "EXCAD",
        "EXAPPEND",
        "EXPREPEND",
        "EXGAE",
        "CAS",
        "CAD",
    ];
    let words: &[&[u8]] = &[
        b"EX",
        b"PX",
        b"EXAT",
        b"PXAT",
        b"KEEPTTL",
        b"NX",
        b"XX",
        b"VER",
        b"ABS",
        b"FLAGS",
        b"WITHVERSION",
        b"MIN",
        b"MAX",
        b"NONEGATIVE",
        b"DEF",
        b"WITHFLAGS",
        b"0",
        b"1",
        b"-1",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"18446744073709551616",
        b"1.5",
        b"1e308",
        b"-1e308",
        b"nan",
        b"",
        b"\0",
        b"\xff\xfe",
        b"k",
        b"k2",
        b"s",
    ];
    query::<(), _>(&mut c, &["SET", "s", "x"]);
    for _ in 0..3000 {
        let mut args: Vec<Vec<u8>> = vec![cmds[rng.gen_range(0..cmds.len())].as_bytes().to_vec()];
        for _ in 0..rng.gen_range(0..8) {
            args.push(words[rng.gen_range(0..words.len())].to_vec());
        }
        let _ = cmd(&mut c, &args);
    }
    assert_eq!(show(&cmd(&mut c, &["PING"]).unwrap()), "PONG");
}

#[test]
fn binary_safe_keys_values_and_resp3() {
    let mut c = fresh_db();
    let key: &[u8] = b"k\0\xff";
    let val: &[u8] = b"\0v\xff\r\n";
    cmd(&mut c, &[&b"EXSET"[..], key, val, b"FLAGS", b"4294967295"]).unwrap();
    let got: (Vec<u8>, i64, i64) = query(&mut c, &[&b"EXGET"[..], key, b"WITHFLAGS"]);
    assert_eq!(got, (val.to_vec(), 1, 4_294_967_295));
    cmd(&mut c, &[&b"EXAPPEND"[..], key, b"\0"]).unwrap();
    cmd(&mut c, &[&b"EXPREPEND"[..], key, b"\xff"]).unwrap();
    let got: (Vec<u8>, i64) = query(&mut c, &[&b"EXGET"[..], key]);
    assert_eq!(got.0, [&b"\xff"[..], val, b"\0"].concat());
    // CAS/CAD compare bytes.
    cmd(&mut c, &[&b"SET"[..], b"s\0", b"a\0b"]).unwrap();
    assert_eq!(
        query::<i64, _>(&mut c, &[&b"CAS"[..], b"s\0", b"a\0c", b"x"]),
        0
    );
    assert_eq!(
        query::<i64, _>(&mut c, &[&b"CAS"[..], b"s\0", b"a\0b", b"\xff\0"]),
        1
    );
    assert_eq!(
        query::<i64, _>(&mut c, &[&b"CAD"[..], b"s\0", b"\xff\0"]),
        1
    );

    // RESP3: nil is the RESP3 null; the float result stays a bulk string.
    let mut r3 = shared().conn_resp3();
    assert_eq!(
        cmd(&mut r3, &["EXGET", "resp3-missing"]).unwrap(),
        Value::Nil
    );
    query::<(), _>(&mut r3, &["EXSET", "resp3-k", "v"]);
    let v = cmd(&mut r3, &["EXGET", "resp3-k"]).unwrap();
    assert_eq!(
        v,
        Value::Array(vec![Value::BulkString(b"v".to_vec()), Value::Int(1)])
    );
    let f = cmd(&mut r3, &["EXINCRBYFLOAT", "resp3-f", "1.5"]).unwrap();
    assert_eq!(f, Value::BulkString(b"1.5".to_vec()));
    let cas = cmd(&mut r3, &["EXCAS", "resp3-k", "w", "7"]).unwrap();
    assert_eq!(
        show(&cas),
        show(&Value::Array(vec![
            Value::SimpleString("CAS_FAILED".into()),
            Value::BulkString(b"v".to_vec()),
            Value::Int(1)
        ]))
    );
    query::<(), _>(&mut r3, &["DEL", "resp3-k", "resp3-f"]);
}

#[test]
fn memory_usage_copy_and_object() {
    let mut c = fresh_db();
    query::<(), _>(
        &mut c,
        &[
            "EXSET",
            "m",
            &"x".repeat(1000),
            "ABS",
            "5",
            "FLAGS",
            "3",
            "EX",
            "100",
        ],
    );
    let mem: i64 = query(&mut c, &["MEMORY", "USAGE", "m"]);
    assert!((1000..1300).contains(&mem), "MEMORY USAGE {mem}");
    assert_eq!(query::<i64, _>(&mut c, &["COPY", "m", "m2"]), 1);
    let a = show(&cmd(&mut c, &["EXGET", "m2", "WITHFLAGS"]).unwrap());
    assert_eq!(a, show(&cmd(&mut c, &["EXGET", "m", "WITHFLAGS"]).unwrap()));
    assert!(query::<i64, _>(&mut c, &["TTL", "m2"]) > 0);
    // The copy is deep: changing it leaves the original alone.
    query::<(), _>(&mut c, &["EXAPPEND", "m2", "y"]);
    let (v, ver): (Vec<u8>, i64) = query(&mut c, &["EXGET", "m"]);
    assert_eq!((v.len(), ver), (1000, 5));
    // RENAME keeps the version.
    query::<(), _>(&mut c, &["RENAME", "m", "m3"]);
    let (_, ver): (Vec<u8>, i64) = query(&mut c, &["EXGET", "m3"]);
    assert_eq!(ver, 5);
}

#[test]
fn keyspace_events() {
    let server = Server::with_modules(&["tairstring"]);
    let mut c = server.conn();
    let mut ev = Events::keyevents(&server, "KEAn");
    query::<(), _>(&mut c, &["EXSET", "k", "v", "EX", "100"]);
    query::<(), _>(&mut c, &["EXSETVER", "k", "5"]);
    query::<(), _>(&mut c, &["EXINCRBY", "n", "1"]);
    query::<(), _>(&mut c, &["EXINCRBYFLOAT", "n", "1.5"]);
    query::<(), _>(&mut c, &["EXCAS", "k", "w", "5"]);
    query::<(), _>(&mut c, &["EXAPPEND", "k", "a"]);
    query::<(), _>(&mut c, &["EXPREPEND", "k", "b"]);
    query::<(), _>(&mut c, &["EXGAE", "k", "EX", "50"]);
    query::<(), _>(&mut c, &["EXCAD", "k", "8"]);
    query::<(), _>(&mut c, &["SET", "s", "a"]);
    query::<(), _>(&mut c, &["CAS", "s", "a", "b", "EX", "10"]);
    query::<(), _>(&mut c, &["CAD", "s", "b"]);
    query::<(), _>(&mut c, &["EXSET", "p", "v", "PXAT", "1000"]);
    let want = [
        "new",
        "exset",
        "expire",
        "exsetver",
        "new",
        "exincrby",
        "exincrbyfloat",
        "excas",
        "exappend",
        "exprepend",
        "expire",
        "del",
        "new",
        "set",
        "set",
        "expire",
        "del",
        "new",
        "exset",
        "expire",
        "del",
    ];
    let mut got: Vec<String> = Vec::new();
    poll_until(Duration::from_secs(5), || {
        got.extend(
            ev.drain()
                .into_iter()
                .map(|(channel, _key)| channel.rsplit(':').next().unwrap_or_default().to_string()),
        );
        got.len() >= want.len()
    });
    assert_eq!(got, want);
}

#[test]
fn persistence_reload_aof_restore() {
    let mut server = Server::builder()
        .module("tairstring")
        .config("appendonly", "yes")
        .start();
    let mut c = server.conn();
    run(
        &mut c,
        r#"
> EXSET k bar ABS 100 FLAGS 10 EX 1000
OK
"#,
    );
    let bin: &[u8] = b"\0\xff bin";
    cmd(
        &mut c,
        &[
            &b"EXSET"[..],
            bin,
            bin,
            b"FLAGS",
            b"4294967295",
            b"ABS",
            b"0",
        ],
    )
    .unwrap();
    query::<(), _>(&mut c, &["EXSET", "kt", "x", "PX", "500000"]);
    query::<(), _>(&mut c, &["EXAPPEND", "ap", "x"]);
    let exp_before: i64 = query(&mut c, &["PEXPIRETIME", "kt"]);
    let digest_before = server.digest(&mut c);
    server.debug_reload(&mut c);
    run(
        &mut c,
        r#"
> EXGET k WITHFLAGS
1) "bar"
2) (integer) 100
3) (integer) 10
"#,
    );
    assert_eq!(server.digest(&mut c), digest_before);
    server.rewrite_aof_and_restart();
    let mut c = server.conn();
    run(
        &mut c,
        r#"
> EXGET k WITHFLAGS
1) "bar"
2) (integer) 100
3) (integer) 10
> TTL k                      -> an integer in 990..1000
> TYPE k
exstrtype
"#,
    );
    assert_eq!(server.digest(&mut c), digest_before);
    assert_eq!(
        query::<i64, _>(&mut c, &["PEXPIRETIME", "kt"]),
        exp_before,
        "AOF replay must keep the absolute time"
    );
    let got: (Vec<u8>, i64, i64) = query(&mut c, &[&b"EXGET"[..], bin, b"WITHFLAGS"]);
    assert_eq!(got, (bin.to_vec(), 0, 4_294_967_295));
    server.debug_loadaof(&mut c);
    assert_eq!(server.digest(&mut c), digest_before);

    // DUMP / RESTORE gives the same three values.
    let payload: Vec<u8> = query(&mut c, &["DUMP", "k"]);
    query::<(), _>(&mut c, &["DEL", "k"]);
    cmd(&mut c, &[&b"RESTORE"[..], b"k", b"0", &payload]).unwrap();
    let got: (Vec<u8>, i64, i64) = query(&mut c, &["EXGET", "k", "WITHFLAGS"]);
    assert_eq!(got, (b"bar".to_vec(), 100, 10));
}

#[test]
fn forged_restore_payloads_are_refused() {
    let mut c = fresh_db();
    query::<(), _>(
        &mut c,
        &["EXSET", "src", "hello-world", "ABS", "300", "FLAGS", "9"],
    );
    let payload: Vec<u8> = query(&mut c, &["DUMP", "src"]);
    let parsed = parse_module_value(&payload).expect("a module value");
    assert_eq!(parsed.type_name, "exstrtype");
    assert_eq!(parsed.encver, 0);
    assert_eq!(parsed.fields.len(), 3, "{parsed}");
    assert!(matches!(parsed.fields[0].value, FieldValue::Unsigned(300)));
    assert!(matches!(parsed.fields[1].value, FieldValue::Unsigned(9)));

    let mut forged: Vec<(String, Vec<u8>)> = Vec::new();
    let body_len = parsed.eof_offset + 1;
    for cut in [1, 5, 9, 10, body_len / 2, body_len - 3, body_len - 1] {
        forged.push((format!("truncated at {cut}"), truncate_value(&payload, cut)));
    }
    forged.push((
        "future encoding version".into(),
        set_module_encver(&payload, 1),
    ));
    forged.push((
        "encoding version 63".into(),
        set_module_encver(&payload, 63),
    ));
    let s = &parsed.fields[2];
    forged.push((
        "string length inflated".into(),
        set_len_at(&payload, s.value_offset, 1 << 40),
    ));
    forged.push((
        "string length +1".into(),
        set_len_at(&payload, s.value_offset, 12),
    ));
    // (A version past 2^63-1 is not forged: the C module writes one when its counter wraps, and it
    // loads; see c_datasets.rs.)
    forged.push((
        "flags past 2^32".into(),
        set_len_at(&payload, parsed.fields[1].value_offset, 1 << 33),
    ));
    for (what, p) in &forged {
        let r = cmd(&mut c, &[&b"RESTORE"[..], b"dst", b"0", p, b"REPLACE"]);
        assert!(
            r.is_err(),
            "{what}: RESTORE accepted a forged payload: {r:?}"
        );
        assert_eq!(show(&cmd(&mut c, &["PING"]).unwrap()), "PONG", "{what}");
        assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "dst"]), 0, "{what}");
    }
    // The genuine payload still restores.
    cmd(&mut c, &[&b"RESTORE"[..], b"dst", b"0", &payload]).unwrap();
    let got: (Vec<u8>, i64, i64) = query(&mut c, &["EXGET", "dst", "WITHFLAGS"]);
    assert_eq!(got, (b"hello-world".to_vec(), 300, 9));
}

#[test]
fn replication_transcript_and_random_workload() {
    let primary = Server::with_modules(&["tairstring"]);
    let replica = Server::replica_of(&primary);
    replica.wait_for_sync();
    let mut p = primary.conn();
    let mut r = replica.conn();
    run_on(
        &mut [("P", &mut p), ("R", &mut r)],
        r#"
P> EXSET k bar EX 100 FLAGS 10
OK
P> EXCAS k bar1 1 KEEPTTL
1) OK
2) ""
3) (integer) 2
P> WAIT 1 0
(integer) 1
R> EXGET k WITHFLAGS
1) "bar1"
2) (integer) 2
3) (integer) 10
R> TTL k                     -> an integer in 1..100
P> EXCAD k 2
(integer) 1
P> WAIT 1 0
(integer) 1
R> EXISTS k
(integer) 0
"#,
    );

    // A random workload of every write command, then equal digests and equal absolute expiry times.
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for i in 0..3000 {
        let k = format!("w{}", rng.gen_range(0..60));
        let n = rng.gen_range(-50..50).to_string();
        let args: Vec<String> = match rng.gen_range(0..13) {
            0 => vec![
                "EXSET".into(),
                k,
                format!("v{i}"),
                "EX".into(),
                "1000".into(),
            ],
            1 => vec![
                "EXSET".into(),
                k,
                n,
                "FLAGS".into(),
                "3".into(),
                "KEEPTTL".into(),
            ],
            2 => vec![
                "EXINCRBY".into(),
                k,
                n,
                "DEF".into(),
                "7".into(),
                "PX".into(),
                "900000".into(),
            ],
            3 => vec!["EXINCRBYFLOAT".into(), k, "0.1".into(), "KEEPTTL".into()],
            4 => vec![
                "EXCAS".into(),
                k,
                format!("c{i}"),
                rng.gen_range(0..5).to_string(),
                "EX".into(),
                "500".into(),
            ],
            5 => vec!["EXCAD".into(), k, rng.gen_range(0..5).to_string()],
            6 => vec!["EXAPPEND".into(), k, "a".into()],
            7 => vec!["EXPREPEND".into(), k, "b".into(), "ABS".into(), "3".into()],
            8 => vec![
                "EXGAE".into(),
                k,
                "EX".into(),
                rng.gen_range(100..200).to_string(),
            ],
            9 => vec!["EXSETVER".into(), k, rng.gen_range(1..9).to_string()],
            10 => vec!["EXSET".into(), k, "z".into(), "EXAT".into(), "1".into()],
            11 => vec![
                "CAS".into(),
                format!("s{}", rng.gen_range(0..5)),
                "a".into(),
                "b".into(),
                "EX".into(),
                "300".into(),
            ],
            _ => vec![
                "SET".into(),
                format!("s{}", rng.gen_range(0..5)),
                "a".into(),
            ],
        };
        let _ = cmd(&mut p, &args);
    }
    wait_replicated(&mut p, &replica);
    assert_eq!(
        primary.digest(&mut p),
        replica.digest(&mut r),
        "replica digest differs from the primary's"
    );
    for i in 0..60 {
        let k = format!("w{i}");
        let a: i64 = query(&mut p, &["PEXPIRETIME", &k]);
        let b: i64 = query(&mut r, &["PEXPIRETIME", &k]);
        assert_eq!(a, b, "absolute expiry of {k}");
    }
}

/// What is propagated (read from the AOF): absolute times, ABS/FLAGS, DEL for deletions, nothing for
/// reads, errors and nil replies.
#[test]
fn propagated_forms_in_the_aof() {
    let server = Server::builder()
        .module("tairstring")
        .config("appendonly", "yes")
        .config("appendfsync", "always")
        .config("aof-use-rdb-preamble", "no")
        .start();
    let mut c = server.conn();
    let before = aof_text(&server);
    for args in [
        vec!["EXSET", "k", "v", "EX", "100", "FLAGS", "4"],
        vec!["EXGET", "k"],
        vec!["EXSET", "k", "v", "NX"],
        vec!["EXSET", "k", "v", "VER", "99"],
        vec!["EXSET", "k", "w", "KEEPTTL"],
        vec!["EXINCRBY", "n", "5"],
        vec!["EXINCRBYFLOAT", "f", "1.5", "PX", "100000"],
        vec!["EXCAS", "k", "x", "2"],
        vec!["EXAPPEND", "k", "y"],
        vec!["EXSETVER", "k", "9"],
        vec!["EXGAE", "k", "EX", "100"],
        vec!["EXCAD", "k", "9"],
        vec!["SET", "s", "a"],
        vec!["CAS", "s", "a", "b", "KEEPTTL"],
        vec!["CAD", "s", "b"],
        vec!["EXSET", "gone", "v", "EXAT", "1"],
        vec!["EXSET", "n", "v", "EXAT", "1"],
    ] {
        let _ = cmd(&mut c, &args);
    }
    let aof = aof_text(&server);
    let added = &aof[before.len()..];
    let cmds: Vec<String> = parse_resp_commands(added);
    let norm: Vec<String> = cmds
        .iter()
        .filter(|c| !c.starts_with("SELECT") && !c.starts_with("MULTI") && !c.starts_with("EXEC"))
        .map(|c| {
            // Absolute times vary: replace the number after PXAT / PEXPIREAT key.
            let mut w: Vec<String> = c.split(' ').map(String::from).collect();
            let mut times: Vec<usize> = (1..w.len()).filter(|&i| w[i - 1] == "PXAT").collect();
            if w[0] == "PEXPIREAT" {
                times.push(2);
            }
            for j in times {
                let x = &mut w[j];
                assert!(
                    x.parse::<i64>().unwrap() > 1_700_000_000_000,
                    "absolute ms expected: {c}"
                );
                *x = "<t>".into();
            }
            w.join(" ")
        })
        .collect();
    assert_eq!(
        norm,
        vec![
            "EXSET k v ABS 1 FLAGS 4 PXAT <t>",
            "EXSET k w ABS 2 FLAGS 4 KEEPTTL",
            "EXSET n 5 ABS 1 FLAGS 0",
            "EXSET f 1.5 ABS 1 FLAGS 0 PXAT <t>",
            "EXSET k x ABS 3 FLAGS 4",
            "EXAPPEND k y ABS 4",
            "EXSETVER k 9",
            "PEXPIREAT k <t>",
            "DEL k",
            "SET s a",
            "SET s b KEEPTTL",
            "DEL s",
            "DEL n",
        ]
    );
}

/// A failed CAS or CAD only reads the native string: its encoding and MEMORY USAGE stay as they were
/// (a DMA read would turn an `int` string into `raw`).
#[test]
fn failed_cas_and_cad_leave_the_native_string_encoding_alone() {
    let mut c = fresh_db();
    query::<String, _>(&mut c, &["SET", "n", "12345"]);
    let enc = |c: &mut Connection| query::<String, _>(c, &["OBJECT", "ENCODING", "n"]);
    let mem = |c: &mut Connection| query::<i64, _>(c, &["MEMORY", "USAGE", "n"]);
    assert_eq!(enc(&mut c), "int");
    let before = mem(&mut c);
    assert_eq!(query::<i64, _>(&mut c, &["CAS", "n", "999", "1"]), 0);
    assert_eq!(query::<i64, _>(&mut c, &["CAD", "n", "999"]), 0);
    assert_eq!(enc(&mut c), "int");
    assert_eq!(mem(&mut c), before);
    assert_eq!(query::<String, _>(&mut c, &["GET", "n"]), "12345");
}
