//! tairdoc against a real valkey-server: the acceptance transcript of shared/spec/tairdoc.md §10, the
//! tair-compat names, bad input, deep inputs, persistence (DEBUG RELOAD, AOF rewrite without the RDB
//! preamble + restart, replica digest) and forged RESTORE payloads.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use tair_tests::redis::Connection;
use tair_tests::*;

/// A compact rendering of a reply: bulk as its text, `(integer) n`, `(nil)`, `(error) text`, arrays
/// as `[a, b]`.
fn r(c: &mut Connection, args: &[&str]) -> String {
    match cmd(c, args) {
        Ok(v) => fmt(&v),
        Err(e) => format!("(error) {}", err_text(&e)),
    }
}

fn fmt(v: &Value) -> String {
    match v {
        Value::Nil => "(nil)".into(),
        Value::Int(i) => format!("(integer) {i}"),
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(fmt).collect::<Vec<_>>().join(", ")),
        other => format!("{other:?}"),
    }
}

fn server() -> Server {
    Server::builder().module("tairdoc").start()
}

#[test]
fn acceptance_transcript() {
    let s = server();
    let mut c = s.conn();
    let rows: &[(&[&str], &str)] = &[
        (
            &[
                "EXJSONSET",
                "user:1001",
                "$",
                r#"{"name":"Alice","prefs":{"theme":"dark","lang":"zh"},"scores":[95,87,92]}"#,
            ],
            "OK",
        ),
        (&["EXJSONGET", "user:1001", "$.name"], r#"["Alice"]"#),
        (&["EXJSONGET", "user:1001", "$.prefs.theme"], r#"["dark"]"#),
        (
            &["EXJSONSET", "user:1001", "$.prefs.theme", r#""light""#],
            "OK",
        ),
        (
            &["EXJSONARRAYAPPEND", "user:1001", "$.scores", "88"],
            "(integer) 4",
        ),
        (&["EXJSONARRLEN", "user:1001", "$.scores"], "(integer) 4"),
        (&["EXJSONNUMINCRBY", "user:1001", "$.scores[0]", "5"], "100"),
        (
            &["EXJSONGET", "user:1001"],
            r#"{"name":"Alice","prefs":{"lang":"zh","theme":"light"},"scores":[100,87,92,88]}"#,
        ),
        (&["EXJSONGET", "user:1001", "$.nope"], "[]"),
        (
            &["EXJSONGET", "user:1001", "/nope"],
            "(error) ERR pointer illegal or array index error or object type is not array or map",
        ),
        (
            &["EXJSONTYPE", "user:1001", "$.*"],
            "[string, object, array]",
        ),
        (
            &["EXJSONSTRLEN", "user:1001", "$.*"],
            "[(integer) 5, (nil), (nil)]",
        ),
        (
            &["EXJSONNUMINCRBY", "user:1001", "$.scores[*]", "1"],
            "[101,88,93,89]",
        ),
        (
            &["EXJSONDEL", "user:1001", "$.scores[?@ > 90]"],
            "(integer) 2",
        ),
        (&["EXJSONGET", "user:1001", "$.scores"], "[[88,89]]"),
        (
            &["EXJSONSET", "user:1001", "$.prefs.theme", r#""x""#, "NX"],
            "(nil)",
        ),
        (
            &["EXJSONSET", "user:1001", "/missing/x", "1"],
            "(error) ERR could not find object to add, please check path",
        ),
        (
            &["EXJSONSET", "user:1001", "/scores/5", "1"],
            "(error) ERR insert item in array error, index error",
        ),
        (
            &["EXJSONARRINSERT", "user:1001", ".scores", "-1", "70", "71"],
            "(integer) 4",
        ),
        (
            &["EXJSONARRPOP", "user:1001", ".scores", "7"],
            "(error) ERR array index outflow",
        ),
        (
            &["EXJSONARRTRIM", "user:1001", ".scores", "1", "2"],
            "(integer) 2",
        ),
        (&["EXJSONGET", "user:1001", ".scores"], "[70,71]"),
        (
            &["EXJSONSTRAPPEND", "user:1001", ".name", " B."],
            "(integer) 8",
        ),
        (
            &["EXJSONDEL", "user:1001", "/nope"],
            "(error) ERR old item is null for remove or replace",
        ),
        (
            &["EXJSONINCRBY", "user:1001", ".scores[0]", "3.2"],
            "(error) ERR value is not an integer or out of range",
        ),
        (
            &["EXJSONSET", "fresh", "$.a", "1"],
            "(error) ERR new objects must be created at the root",
        ),
        (
            &["EXJSONSET", "fresh", "$", "{abc:abc}"],
            "(error) ERR json lexer error at line 1 column 2",
        ),
        (&["EXJSONARRPOP", "fresh", "$"], "(error) ERR no such key"),
        (&["EXJSONSET", "one", "$", "[1]"], "OK"),
        (&["EXJSONARRPOP", "one", "$"], "1"),
        (&["EXISTS", "one"], "(integer) 0"),
        (
            &["EXJSONSET", "doc", ".", r#"{"foo": "bar", "baz" : 42}"#],
            "OK",
        ),
        (
            &[
                "EXJSONGET",
                "doc",
                ".",
                "FORMAT",
                "XML",
                "ROOTNAME",
                "ROOT",
                "ARRNAME",
                "ARR",
            ],
            r#"<?xml version="1.0" encoding="UTF-8"?><ROOT><foo>bar</foo><baz>42</baz></ROOT>"#,
        ),
        (
            &["EXJSONGET", "doc", ".", "FORMAT", "YAML"],
            "\"foo\": \"bar\"\n\"baz\": 42",
        ),
        (
            &["EXJSONMGET", "doc", "user:1001", "fresh", ".baz"],
            "[42, (nil), (nil)]",
        ),
        (&["TYPE", "doc"], "tair-json"),
    ];
    for (args, want) in rows {
        assert_eq!(r(&mut c, args), *want, "{args:?}");
    }
    let e = r(&mut c, &["JSON.SET", "doc", ".", "1"]);
    assert!(
        e.starts_with("(error) ERR unknown command 'JSON.SET'"),
        "{e}"
    );
    s.assert_alive();
}

#[test]
fn tair_compat_names() {
    let s = Server::builder()
        .module_args("tairdoc", &["tair-compat", "yes"])
        .start();
    let mut c = s.conn();
    assert_eq!(
        r(&mut c, &["JSON.SET", "k", ".", r#"{"id":[1,2,3]}"#]),
        "OK"
    );
    assert_eq!(
        r(
            &mut c,
            &["JSON.ARRAPPEND", "k", ".id", "null", "false", "true"]
        ),
        "(integer) 6"
    );
    assert_eq!(r(&mut c, &["JSON.DEL", "k", ".id"]), "(integer) 1");
    assert_eq!(r(&mut c, &["EXISTS", "k"]), "(integer) 0");
}

#[test]
fn bad_input_and_limits() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(
        r(&mut c, &["EXJSONSET", "k", "$", r#"{"a":[1,2],"s":"x"}"#]),
        "OK"
    );
    let rows: &[(&[&str], &str)] = &[
        (
            &["EXJSONSET", "k", "$"],
            "(error) ERR wrong number of arguments for 'exjsonset' command",
        ),
        (
            &["EXJSONSET", "k", "$", "1", "NX", "x"],
            "(error) ERR wrong number of arguments for 'exjsonset' command",
        ),
        (
            &["EXJSONSET", "k", "$", ""],
            "(error) ERR the empty string is not a valid JSON value",
        ),
        (
            &["EXJSONSET", "k", "$", "1e400"],
            "(error) ERR json lexer error at line 1 column 5",
        ),
        (
            &["EXJSONSET", "k", "foo", "1"],
            "(error) ERR JSONPointer or JSONPath illegal",
        ),
        (
            &["EXJSONSET", "k", "/a~2", "1"],
            "(error) ERR JSONPointer or JSONPath illegal",
        ),
        (
            &["EXJSONSET", "k", ".a..b", "1"],
            "(error) ERR json path to json pointer fail",
        ),
        (
            &["EXJSONSET", "k", "[x]", "1"],
            "(error) ERR json path to json pointer fail",
        ),
        (
            &["EXJSONSET", "k", "$", "1", "YY"],
            "(error) ERR syntax error",
        ),
        (
            &["EXJSONGET", "k", "$", "FORMAT", "TOML"],
            "(error) ERR format error, must be yaml or xml",
        ),
        (
            &["EXJSONGET", "k", "$", "BOGUS"],
            "(error) ERR syntax error",
        ),
        (
            &["EXJSONGET", "k", ".", "FORMAT", "XML", "ROOTNAME", "1x"],
            "(error) ERR invalid XML element name",
        ),
        (
            &["EXJSONNUMINCRBY", "k", ".a[0]", "inf"],
            "(error) ERR value is not an integer or out of range",
        ),
        (&["EXJSONNUMINCRBY", "k", ".a[0]", "1e308"], "1e+308"),
        (
            &["EXJSONNUMINCRBY", "k", ".a[0]", "1.7e308"],
            "(error) ERR increment would produce NaN or Infinity",
        ),
        (
            &["EXJSONINCRBY", "k", ".a[1]", "9223372036854775807"],
            "9223372036854775809",
        ),
        (
            &["EXJSONINCRBY", "k", ".a[1]", "9223372036854775807"],
            "(error) ERR increment or decrement would overflow",
        ),
        (
            &["EXJSONSTRAPPEND", "k", ".a", "x"],
            "(error) ERR node not exists or not string type",
        ),
        (
            &["EXJSONARRLEN", "k", ".s"],
            "(error) ERR node not exists or not array type",
        ),
        (&["EXJSONGET", "k", "$.a"], "[[1e+308,9223372036854775809]]"),
    ];
    for (args, want) in rows {
        assert_eq!(r(&mut c, args), *want, "{args:?}");
    }
    // not UTF-8
    let e = cmd(&mut c, &[&b"EXJSONSTRAPPEND"[..], b"k", b".s", b"\xff"]).unwrap_err();
    assert_eq!(err_text(&e), "ERR json-string must be valid UTF-8");
    // wrong type
    let _: () = query(&mut c, &["SET", "str", "x"]);
    assert_eq!(
        r(&mut c, &["EXJSONGET", "str"]),
        "(error) WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    // 100,000-deep text and a 5,000-deep filter path
    let deep = "[".repeat(100_000);
    assert_eq!(
        r(&mut c, &["EXJSONSET", "d", "$", &deep]),
        "(error) ERR json nesting depth exceeds 128"
    );
    let fp = format!("$.a[?{}@ > 1{}]", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        r(&mut c, &["EXJSONGET", "k", &fp]),
        "(error) ERR JSONPointer or JSONPath illegal"
    );
    let long = format!("/{}", "a".repeat(16384));
    assert_eq!(
        r(&mut c, &["EXJSONGET", "k", &long]),
        "(error) ERR JSONPointer or JSONPath illegal"
    );
    // a write that would exceed depth 128
    let d127 = format!("{}{}", "[".repeat(127), "]".repeat(127));
    assert_eq!(
        r(&mut c, &["EXJSONSET", "k", ".a[0]", &d127]),
        "(error) ERR json nesting depth exceeds 128"
    );
    assert_eq!(r(&mut c, &["EXJSONGET", "k", ".s"]), r#""x""#);
    s.assert_alive();
}

fn fill(c: &mut Connection) -> Vec<(String, String)> {
    let docs = [
        (
            "a",
            r#"{"store":{"book":[{"t":"x","p":8.95},{"t":"y","p":12.99}],"bicycle":{"c":"red","p":19.95}},"n":-0.0,"u":18446744073709551615}"#,
        ),
        ("b", r#"[1,"два",{"z":null,"e":{}},[]]"#),
        ("c", r#""just a string""#),
    ];
    let mut out = vec![];
    for (k, v) in docs {
        assert_eq!(r(c, &["EXJSONSET", k, "$", v]), "OK");
        out.push((k.to_string(), r(c, &["EXJSONGET", k])));
    }
    out
}

#[test]
fn debug_reload_and_aof_rewrite() {
    let mut s = Server::builder()
        .config("appendonly", "yes")
        .config("aof-use-rdb-preamble", "no")
        .module("tairdoc")
        .start();
    let mut c = s.conn();
    let want = fill(&mut c);
    let d0 = s.digest(&mut c);
    s.debug_reload(&mut c);
    for (k, v) in &want {
        assert_eq!(&r(&mut c, &["EXJSONGET", k]), v);
    }
    assert_eq!(s.digest(&mut c), d0);
    s.rewrite_aof_and_restart();
    let mut c = s.conn();
    for (k, v) in &want {
        assert_eq!(&r(&mut c, &["EXJSONGET", k]), v);
    }
    assert_eq!(s.digest(&mut c), d0);
}

#[test]
fn replica_digest() {
    let p = server();
    let mut pc = p.conn();
    fill(&mut pc);
    let rep = Server::builder().module("tairdoc").replica_of(&p).start();
    rep.wait_for_sync();
    assert!(r(&mut pc, &["EXJSONNUMINCRBY", "a", "$..p", "1"]).starts_with('['));
    assert_eq!(
        r(&mut pc, &["EXJSONARRAPPEND", "b", "$[3]", "1", "2"]),
        "(integer) 2"
    );
    wait_replicated(&mut pc, &rep);
    assert_eq!(p.digest_now(), rep.digest_now());
}

#[test]
fn forged_restore_payloads() {
    let s = server();
    let mut c = s.conn();
    fill(&mut c);
    // truncated payloads: every cut is an error, the server lives
    let full: Vec<u8> = query(&mut c, &["DUMP", "b"]);
    for cut in 0..full.len() {
        let res = cmd(&mut c, &[&b"RESTORE"[..], b"x", b"0", &full[..cut]]);
        assert!(res.is_err(), "cut {cut}");
    }
    let ok = cmd(&mut c, &[&b"RESTORE"[..], b"y", b"0", &full[..]]);
    assert!(ok.is_ok());
    assert_eq!(
        r(&mut c, &["EXJSONGET", "y"]),
        r(&mut c, &["EXJSONGET", "b"])
    );
    s.assert_alive();
}

/// Events (lower-case canonical names, only when something changed; `del` after a deleting command) and
/// key TTLs kept by writes, including the root-replacing EXJSONSET.
#[test]
fn notifications_and_ttl() {
    let s = Server::builder()
        .module_args("tairdoc", &["tair-compat", "yes"])
        .start();
    let mut c = s.conn();
    let mut ev = Events::keyevents(&s, "KEdg");
    assert_eq!(
        r(
            &mut c,
            &["EXJSONSET", "k", "$", r#"{"a":[1],"s":"x","n":1}"#]
        ),
        "OK"
    );
    assert_eq!(r(&mut c, &["JSON.ARRPUSH", "k", ".a", "2"]), "(integer) 2");
    assert_eq!(
        r(&mut c, &["EXJSONSTRAPPEND", "k", ".s", ""]),
        "(integer) 1"
    );
    assert_eq!(r(&mut c, &["EXJSONNUMINCRBY", "k", ".n", "2"]), "3");
    assert_eq!(r(&mut c, &["EXJSONSET", "k", ".n", "5", "NX"]), "(nil)");
    assert_eq!(r(&mut c, &["EXPIRE", "k", "1000"]), "(integer) 1");
    assert_eq!(r(&mut c, &["EXJSONSET", "k", "$", "[7]"]), "OK");
    let ttl: i64 = query(&mut c, &["TTL", "k"]);
    assert!(ttl > 900, "ttl {ttl}");
    assert_eq!(r(&mut c, &["JSON.ARRPOP", "k", "$"]), "7");
    assert_eq!(r(&mut c, &["EXISTS", "k"]), "(integer) 0");
    let _: () = query(&mut c, &["PING"]);
    let got: Vec<String> = ev
        .drain()
        .into_iter()
        .filter(|(_, k)| k == "k")
        .map(|(ch, _)| ch.rsplit(':').next().unwrap().to_string())
        .collect();
    assert_eq!(
        got,
        [
            "exjsonset",
            "exjsonarrappend",
            "exjsonnumincrby",
            "expire",
            "exjsonset",
            "exjsonarrpop",
            "del"
        ]
    );
}

/// Edits of the stored form (one buffer: splices that fix the sizes of the containers on the path):
/// a string growing past the 255-byte short length, an integer growing into u64 and a double in place,
/// inserts/trims/pops in a nested array, a replaced member moving to the end, deletes; the document
/// survives DEBUG RELOAD and MEMORY USAGE is at least its text.
#[test]
fn stored_form_edits() {
    let s = server();
    let mut c = s.conn();
    let long = "x".repeat(250);
    let doc = format!(
        r#"{{"a":{{"s":"{long}","n":9223372036854775807,"arr":[1,[2,3],{{"x":[4]}}]}},"b":[]}}"#
    );
    assert_eq!(r(&mut c, &["EXJSONSET", "k", "$", &doc]), "OK");
    assert_eq!(
        r(&mut c, &["EXJSONSTRAPPEND", "k", ".a.s", "yyyyyyyyyy"]),
        "(integer) 260"
    );
    assert_eq!(r(&mut c, &["EXJSONSTRLEN", "k", "$.a.s"]), "(integer) 260");
    assert_eq!(
        r(&mut c, &["EXJSONNUMINCRBY", "k", ".a.n", "1"]),
        "9223372036854775808"
    );
    assert_eq!(
        r(&mut c, &["EXJSONNUMINCRBY", "k", "/a/n", "0.5"]),
        "9.223372036854776e+18"
    );
    assert_eq!(
        r(
            &mut c,
            &[
                "EXJSONARRINSERT",
                "k",
                ".a.arr",
                "1",
                r#""i""#,
                r#"{"j":[]}"#
            ]
        ),
        "(integer) 5"
    );
    assert_eq!(
        r(&mut c, &["EXJSONARRTRIM", "k", ".a.arr", "1", "3"]),
        "(integer) 3"
    );
    assert_eq!(
        r(&mut c, &["EXJSONGET", "k", ".a.arr"]),
        r#"["i",{"j":[]},[2,3]]"#
    );
    assert_eq!(r(&mut c, &["EXJSONARRPOP", "k", ".a.arr", "0"]), r#""i""#);
    assert_eq!(
        r(&mut c, &["EXJSONARRAPPEND", "k", "$..arr[1]", "4", "[5]"]),
        "[(integer) 4]"
    );
    assert_eq!(r(&mut c, &["EXJSONSET", "k", "/a/s", r#""short""#]), "OK");
    assert_eq!(
        r(&mut c, &["EXJSONARRAPPEND", "k", ".b", "1", "[2]"]),
        "(integer) 2"
    );
    let want =
        r#"{"a":{"n":9.223372036854776e+18,"arr":[{"j":[]},[2,3,4,[5]]],"s":"short"},"b":[1,[2]]}"#;
    assert_eq!(r(&mut c, &["EXJSONGET", "k"]), want);
    assert_eq!(r(&mut c, &["EXJSONDEL", "k", "$.a.arr[*]"]), "(integer) 2");
    assert_eq!(r(&mut c, &["EXJSONDEL", "k", "/b/0"]), "(integer) 1");
    let want = r#"{"a":{"n":9.223372036854776e+18,"arr":[],"s":"short"},"b":[[2]]}"#;
    assert_eq!(r(&mut c, &["EXJSONGET", "k"]), want);
    let usage: i64 = cmd(&mut c, &["MEMORY", "USAGE", "k"])
        .map(|v| match v {
            Value::Int(i) => i,
            _ => 0,
        })
        .unwrap();
    assert!(usage >= want.len() as i64, "{usage}");
    s.debug_reload(&mut c);
    assert_eq!(r(&mut c, &["EXJSONGET", "k"]), want);
    assert_eq!(
        r(&mut c, &["EXJSONTYPE", "k", "$.a.*"]),
        "[number, array, string]"
    );
}
