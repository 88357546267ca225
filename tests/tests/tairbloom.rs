//! tairbloom against a real valkey-server: every transcript and bad-input case of
//! shared/spec/tairbloom.md, the seed's crawler, the tair-compat names, quality at scale (false-positive
//! rate and bytes per item as the server accounts them), persistence (DEBUG RELOAD, AOF rewrite and
//! restart, DUMP/RESTORE, SCANDUMP/LOADCHUNK), replication, forged payloads and chunks, notifications and
//! the propagated forms.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashSet;

use tair_tests::dump::{
    edit_value, parse_module_value, set_len_at, set_module_encver, truncate_value, FieldValue,
};
use tair_tests::redis::Connection;
use tair_tests::transcript::{run, run_on};
use tair_tests::*;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// Servers for the tests that only need a database of their own: `tair-compat yes` (the BF.* names),
/// 64 databases, uncompressed RDB strings (so DUMP payloads can be forged field by field).
static POOL: DbPool = DbPool::new(compat_builder, 64);

fn shared() -> &'static Server {
    POOL.server(0)
}

fn compat_builder() -> Server {
    Server::builder()
        .module_args("tairbloom", &["tair-compat", "yes"])
        .config("databases", "64")
        .config("rdbcompression", "no")
        .start()
}

fn fresh_db() -> Connection {
    POOL.fresh_db()
}

/// A tiny deterministic generator (xorshift64*), so the workloads are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn ints(v: &Value) -> Vec<i64> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|x| match x {
                Value::Int(i) => *i,
                other => panic!("not an integer: {}", show(other)),
            })
            .collect(),
        other => panic!("not an array: {}", show(other)),
    }
}

/// `cmd key item...` in batches of 1000 items, 25 batches per pipeline; the concatenated integer replies.
fn pipelined(
    c: &mut Connection,
    cmd: &str,
    key: &str,
    items: impl Iterator<Item = String>,
) -> Vec<i64> {
    let items: Vec<String> = items.collect();
    let mut out = Vec::with_capacity(items.len());
    for group in items.chunks(25_000) {
        let mut p = redis::pipe();
        for batch in group.chunks(1000) {
            p.cmd(cmd).arg(key).arg(batch);
        }
        let replies: Vec<Vec<i64>> = p
            .query(c)
            .unwrap_or_else(|e| panic!("{cmd} pipeline: {}", err_text(&e)));
        out.extend(replies.into_iter().flatten());
    }
    out
}

fn count_ones(v: &[i64]) -> usize {
    v.iter().filter(|&&x| x == 1).count()
}

/// `[it, bytes]` of TFBFSCANDUMP.
fn scandump(c: &mut Connection, key: &[u8], it: u64) -> (u64, Vec<u8>) {
    let (next, data): (u64, Vec<u8>) =
        query(c, &[&b"TFBFSCANDUMP"[..], key, it.to_string().as_bytes()]);
    (next, data)
}

/// Copies `src` into `dst` with SCANDUMP/LOADCHUNK, pair by pair as the spec says; returns the number of
/// data chunks.
fn copy_by_chunks(c: &mut Connection, src: &[u8], dst: &[u8]) -> usize {
    let mut it = 0;
    let mut chunks = 0usize;
    loop {
        let (next, data) = scandump(c, src, it);
        if next == 0 {
            assert!(data.is_empty());
            return chunks.saturating_sub(1);
        }
        let ok = cmd(
            c,
            &[
                &b"TFBFLOADCHUNK"[..],
                dst,
                next.to_string().as_bytes(),
                &data,
            ],
        )
        .unwrap();
        assert_eq!(ok, Value::Okay);
        chunks += 1;
        it = next;
    }
}

/// Everything a client can observe of a filter, to compare before and after reloads and copies.
fn observe(c: &mut Connection, key: &[u8], queries: &[Vec<u8>]) -> String {
    let debug = show(&cmd(c, &[&b"TFBFDEBUG"[..], key]).unwrap());
    let info = show(&cmd(c, &[&b"TFBFINFO"[..], key]).unwrap());
    let mut args: Vec<&[u8]> = vec![b"TFBFMEXISTS", key];
    args.extend(queries.iter().map(Vec::as_slice));
    let hits = ints(&cmd(c, &args).unwrap());
    let ones: Vec<usize> = hits
        .iter()
        .enumerate()
        .filter(|(_, &h)| h == 1)
        .map(|(i, _)| i)
        .collect();
    format!("{debug}\n{info}\nhits at {ones:?}")
}

fn query_set() -> Vec<Vec<u8>> {
    (0..3000)
        .map(|i| format!("item:{i}").into_bytes())
        .chain((0..3000).map(|i| format!("other:{i}").into_bytes()))
        .collect()
}

// ---- §7 transcripts -----------------------------------------------------------------------------------

#[test]
fn t1_to_t4_seed_crawler_filter() {
    run(
        &mut fresh_db(),
        r#"
> TFBFRESERVE crawler:visited 0.001
OK
> TFBFADD crawler:visited "https://example.com/page1"
(integer) 1
> TFBFMADD crawler:visited "https://example.com/page2" "https://example.com/page3"
1) (integer) 1
2) (integer) 1
> TFBFEXISTS crawler:visited "https://example.com/page1"
(integer) 1
> TFBFEXISTS crawler:visited "https://example.com/new"
(integer) 0
> TFBFMEXISTS crawler:visited "https://a.com" "https://b.com" "https://c.com"
1) (integer) 0
2) (integer) 0
3) (integer) 0
> TFBFMADD crawler:visited "https://a.com" "https://c.com"
1) (integer) 1
2) (integer) 1
> TFBFMEXISTS crawler:visited "https://a.com" "https://b.com" "https://c.com"
1) (integer) 1
2) (integer) 0
3) (integer) 1
> TFBFINFO crawler:visited
 1) "Capacity"
 2) (integer) 100
 3) "Size"
 4) (integer) 200
 5) "Number of filters"
 6) (integer) 1
 7) "Number of items inserted"
 8) (integer) 5
 9) "Error rate"
10) "0.001"
11) "Expansion rate"
12) (integer) 2
13) "Tightening ratio"
14) "0.5"
> TFBFCARD crawler:visited
(integer) 5
> TFBFDEBUG crawler:visited
1)  1) "capacity"
    2) (integer) 100
    3) "items"
    4) (integer) 5
    5) "error"
    6) "0.0005"
    7) "hashes"
    8) (integer) 11
    9) "bits"
   10) (integer) 1600
> TFBFRESERVE crawler:visited 0.01
(error) ERR item exists
"#,
    );
}

#[test]
fn t5_seed_sized_first_sub_filter() {
    run(
        &mut fresh_db(),
        r#"
> TFBFRESERVE seedsized 0.001 10000
OK
> TFBFINFO seedsized SIZE
(integer) 19776
> TFBFDEBUG seedsized
1)  1) "capacity"
    2) (integer) 10000
    3) "items"
    4) (integer) 0
    5) "error"
    6) "0.0005"
    7) "hashes"
    8) (integer) 11
    9) "bits"
   10) (integer) 158208
"#,
    );
}

#[test]
fn t6_t7_tair_py_reserve_add_madd_mexists() {
    run(
        &mut fresh_db(),
        r#"
> BF.RESERVE k 0.01 100
OK
> BF.ADD k item2
(integer) 1
> BF.ADD k item2
(integer) 0
"#,
    );
    run(
        &mut fresh_db(),
        r#"
> BF.RESERVE k 0.01 100
OK
> BF.ADD k item2
(integer) 1
> BF.MADD k item1 item2 item3
1) (integer) 1
2) (integer) 0
3) (integer) 1
> BF.MEXISTS k item1 item2 item3
1) (integer) 1
2) (integer) 1
3) (integer) 1
> BF.EXISTS k item4
(integer) 0
"#,
    );
}

#[test]
fn t8_t9_insert_and_nocreate() {
    run(
        &mut fresh_db(),
        r#"
> BF.INSERT k2 CAPACITY 100 ERROR 0.01 ITEMS a b c
1) (integer) 1
2) (integer) 1
3) (integer) 1
> BF.INSERT k2 CAPACITY 100 ERROR 0.01 ITEMS a b c
1) (integer) 0
2) (integer) 0
3) (integer) 0
> BF.INSERT k2 CAPACITY 5 ERROR 0.5 ITEMS d
1) (integer) 1
> TFBFINFO k2 CAPACITY
(integer) 100
> TFBFRESERVE k3 0.01 100
OK
> TFBFINSERT k3 NOCREATE ITEMS x y z
1) (integer) 1
2) (integer) 1
3) (integer) 1
> TFBFINSERT nokey NOCREATE ITEMS a
(error) ERR not found
> EXISTS nokey
(integer) 0
"#,
    );
}

#[test]
fn t10_t11_missing_keys_and_defaults() {
    run(
        &mut fresh_db(),
        r#"
> TFBFEXISTS nokey a
(integer) 0
> TFBFMEXISTS nokey a b
1) (integer) 0
2) (integer) 0
> TFBFCARD nokey
(integer) 0
> TFBFINFO nokey
(error) ERR not found
> TFBFADD fresh x
(integer) 1
> TFBFINFO fresh CAPACITY
(integer) 100
> TFBFINFO fresh ERROR
"0.01"
> TFBFINFO fresh SIZE
(integer) 144
> TFBFINFO fresh FILTERS
(integer) 1
> TFBFINFO fresh FOO
(error) ERR invalid information value
> TFBFRESERVE r2 0.05
OK
> TFBFINFO r2 CAPACITY
(integer) 100
> TFBFINFO r2 ITEMS
(integer) 0
> TFBFINFO r2 EXPANSION
(integer) 2
> TFBFINFO r2 tightening
"0.5"
"#,
    );
}

#[test]
fn t12_growth() {
    let items: Vec<String> = (0..100).map(|i| format!("item:{i}")).collect();
    let replies: Vec<String> = (1..=100).map(|i| format!("{i:>3}) (integer) 1")).collect();
    let script = format!(
        r#"
> TFBFRESERVE g 0.01 100
OK
> TFBFMADD g {}
{}
> TFBFINFO g FILTERS
(integer) 1
> TFBFADD g item:100
(integer) 1
> TFBFINFO g FILTERS
(integer) 2
> TFBFINFO g CAPACITY
(integer) 300
> TFBFINFO g SIZE
(integer) 456
> TFBFCARD g
(integer) 101
> TFBFDEBUG g
1)  1) "capacity"
    2) (integer) 100
    3) "items"
    4) (integer) 100
    5) "error"
    6) "0.005"
    7) "hashes"
    8) (integer) 8
    9) "bits"
   10) (integer) 1152
2)  1) "capacity"
    2) (integer) 200
    3) "items"
    4) (integer) 1
    5) "error"
    6) "0.0025"
    7) "hashes"
    8) (integer) 9
    9) "bits"
   10) (integer) 2496
> TFBFEXISTS g item:5
(integer) 1
> TFBFEXISTS g item:100
(integer) 1
> TFBFEXISTS g nope
(integer) 0
"#,
        items.join(" "),
        replies.join("\n")
    );
    let mut c = fresh_db();
    run(&mut c, &script);
    // MEMORY USAGE is the value's blocks in jemalloc size classes (value 80, the list of two sub-filters
    // 128, bit arrays 144 -> 160 and 312 -> 320) plus the server's own per-key overhead.
    let g: i64 = query(&mut c, &["MEMORY", "USAGE", "g"]);
    query::<(), _>(&mut c, &["TFBFADD", "h", "x"]);
    let h: i64 = query(&mut c, &["MEMORY", "USAGE", "h"]);
    assert_eq!(
        g - h,
        (80 + 128 + 160 + 320) - (80 + 160),
        "MEMORY USAGE g={g} h={h}"
    );
    assert!((688..688 + 100).contains(&g), "MEMORY USAGE g = {g}");
}

#[test]
fn t13_false_positive_rate_within_target() {
    let mut c = fresh_db();
    query::<(), _>(&mut c, &["TFBFRESERVE", "fp", "0.01", "100"]);
    let added = pipelined(
        &mut c,
        "TFBFMADD",
        "fp",
        (0..10_000).map(|i| format!("k:{i}")),
    );
    assert_eq!(added.len(), 10_000);
    let hits = pipelined(
        &mut c,
        "TFBFMEXISTS",
        "fp",
        (0..100_000).map(|i| format!("q:{i}")),
    );
    let fp = count_ones(&hits);
    assert!(fp <= 1000, "{fp} false positives in 100000");
    assert_eq!(fp, 913, "the reference model of §2 gives 913 (0.913%)");
    assert_eq!(query::<i64, _>(&mut c, &["TFBFINFO", "fp", "FILTERS"]), 7);
    // no false negatives
    let back = pipelined(
        &mut c,
        "TFBFMEXISTS",
        "fp",
        (0..10_000).map(|i| format!("k:{i}")),
    );
    assert_eq!(count_ones(&back), 10_000);
}

#[test]
fn t14_to_t18_validation_syntax_and_types() {
    run(
        &mut fresh_db(),
        r#"
> TFBFRESERVE e1 0 100
(error) ERR (0 < error rate range < 1)
> TFBFRESERVE e1 1
(error) ERR (0 < error rate range < 1)
> TFBFRESERVE e1 inf
(error) ERR (0 < error rate range < 1)
> TFBFRESERVE e1 abc
(error) ERR bad error rate
> TFBFINSERT e1 ERROR nan ITEMS a
(error) ERR bad error rate
> EXISTS e1
(integer) 0
> TFBFRESERVE e2 0.01 0
(error) ERR (capacity should be larger than 0)
> TFBFRESERVE e2 0.01 abc
(error) ERR bad capacity
> TFBFRESERVE big 0.01 1000000000
(error) ERR operation exceeds bloom filter size limit
> EXISTS e2 big
(integer) 0
> TFBFINSERT e3 CAPACITY 10
(error) ERR syntax error
> TFBFINSERT e3 ITEMS
(error) ERR syntax error
> TFBFINSERT e3 BOGUS ITEMS a
(error) ERR syntax error
> TFBFADD e3
(error) ERR wrong number of arguments for 'tfbfadd' command
> TFBFEXISTS e3 a b
(error) ERR wrong number of arguments for 'tfbfexists' command
> TFBFRESERVE e3 0.01 100 extra
(error) ERR wrong number of arguments for 'tfbfreserve' command
> TFBFINSERT k4 ITEMS NOCREATE CAPACITY
1) (integer) 1
2) (integer) 1
> TFBFEXISTS k4 NOCREATE
(integer) 1
> SET s v
OK
> TFBFADD s x
(error) WRONGTYPE Operation against a key holding the wrong kind of value
> TFBFEXISTS s x
(error) WRONGTYPE Operation against a key holding the wrong kind of value
> TFBFRESERVE s 0.01
(error) WRONGTYPE Operation against a key holding the wrong kind of value
"#,
    );
}

/// T19 (module loaded without tair-compat), and the load arguments.
#[test]
fn t19_compat_names_are_opt_in() {
    let plain = Server::with_modules(&["tairbloom"]);
    let mut c = plain.conn();
    let e = cmd_err(&mut c, &["BF.ADD", "k", "x"]);
    assert!(e.starts_with("ERR unknown command 'BF.ADD'"), "{e}");
    assert_eq!(query::<i64, _>(&mut c, &["TFBFADD", "k", "x"]), 1);
    let names = [
        "RESERVE",
        "ADD",
        "MADD",
        "INSERT",
        "EXISTS",
        "MEXISTS",
        "INFO",
        "CARD",
        "DEBUG",
        "SCANDUMP",
        "LOADCHUNK",
    ];
    for n in names {
        let info = cmd(&mut c, &["COMMAND", "INFO", &format!("BF.{n}")]).unwrap();
        assert_eq!(show(&info), "[nil]", "BF.{n} exists without tair-compat");
        let info = cmd(&mut c, &["COMMAND", "INFO", &format!("TFBF{n}")]).unwrap();
        assert_ne!(show(&info), "[nil]", "TFBF{n}");
    }
    // With tair-compat yes every BF.* name exists, with the TFBF command's arity, flags and keys.
    let mut s = shared().conn();
    for n in names {
        let bf = show(&cmd(&mut s, &["COMMAND", "INFO", &format!("BF.{n}")]).unwrap());
        let tf = show(&cmd(&mut s, &["COMMAND", "INFO", &format!("TFBF{n}")]).unwrap());
        let lower = n.to_ascii_lowercase();
        assert_eq!(
            bf.replace(&format!("bf.{lower}"), "X"),
            tf.replace(&format!("tfbf{lower}"), "X")
        );
    }
    let getkeys = show(
        &cmd(
            &mut s,
            &["COMMAND", "GETKEYS", "BF.INSERT", "key1", "ITEMS", "a"],
        )
        .unwrap(),
    );
    assert_eq!(getkeys, r#"["key1"]"#);
    let flags = show(&cmd(&mut s, &["COMMAND", "INFO", "TFBFADD"]).unwrap());
    for f in ["write", "denyoom", "fast"] {
        assert!(flags.contains(f), "TFBFADD flags: {flags}");
    }
    let flags = show(&cmd(&mut s, &["COMMAND", "INFO", "TFBFMEXISTS"]).unwrap());
    assert!(
        flags.contains("readonly") && !flags.contains("fast"),
        "TFBFMEXISTS flags: {flags}"
    );

    // Load arguments: `tair-compat yes|no` only.
    let bare = Server::start();
    let mut b = bare.conn();
    let path = module_path("tairbloom").to_string_lossy().into_owned();
    for bad in [
        vec!["tair-compat", "maybe"],
        vec!["bogus", "1"],
        vec!["tair-compat"],
    ] {
        let mut args = vec!["MODULE", "LOAD", path.as_str()];
        args.extend(bad.iter().copied());
        assert!(
            cmd(&mut b, &args).is_err(),
            "MODULE LOAD with {bad:?} succeeded"
        );
    }
    query::<(), _>(&mut b, &["MODULE", "LOAD", &path, "TAIR-COMPAT", "YES"]);
    assert_eq!(query::<i64, _>(&mut b, &["BF.ADD", "k", "x"]), 1);
    bare.assert_alive();
}

/// T20: SCANDUMP/LOADCHUNK round trip, and a filter larger than one 16 MiB chunk.
#[test]
fn t20_dump_and_restore_by_chunks() {
    let mut c = fresh_db();
    assert_eq!(query::<i64, _>(&mut c, &["TFBFADD", "fresh", "x"]), 1);
    let (it, header) = scandump(&mut c, b"fresh", 0);
    assert_eq!((it, header.len()), (1, 80));
    assert_eq!(&header[..6], b"TFBF\x01\x01");
    let (it, bits) = scandump(&mut c, b"fresh", 1);
    assert_eq!((it, bits.len()), (145, 144));
    assert_eq!(scandump(&mut c, b"fresh", 145), (0, vec![]));
    assert_eq!(scandump(&mut c, b"fresh", 1_000_000), (0, vec![]));
    let load = |c: &mut Connection, key: &[u8], it: &str, data: &[u8]| {
        cmd(c, &[&b"TFBFLOADCHUNK"[..], key, it.as_bytes(), data])
    };
    assert_eq!(load(&mut c, b"copy", "1", &header).unwrap(), Value::Okay);
    assert_eq!(load(&mut c, b"copy", "145", &bits).unwrap(), Value::Okay);
    assert_eq!(query::<i64, _>(&mut c, &["TFBFEXISTS", "copy", "x"]), 1);
    let a = show(&cmd(&mut c, &["TFBFDEBUG", "copy"]).unwrap());
    assert_eq!(a, show(&cmd(&mut c, &["TFBFDEBUG", "fresh"]).unwrap()));
    assert_eq!(digest_value(&mut c, "copy"), digest_value(&mut c, "fresh"));
    assert_eq!(
        err_text(&load(&mut c, b"copy", "1", &header).unwrap_err()),
        "ERR item exists"
    );
    assert_eq!(
        err_text(&load(&mut c, b"other", "1", b"garbage").unwrap_err()),
        "ERR received bad data"
    );
    assert_eq!(
        err_text(&load(&mut c, b"other2", "145", &bits).unwrap_err()),
        "ERR not found"
    );
    assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "other", "other2"]), 0);

    // Several sub-filters, and more than one data chunk (sub-filter 0 of 13M items at 0.01 is 17.9 MB).
    query::<(), _>(&mut c, &["TFBFRESERVE", "grown", "0.02", "7"]);
    pipelined(
        &mut c,
        "TFBFMADD",
        "grown",
        (0..3000).map(|i| format!("item:{i}")),
    );
    assert_eq!(copy_by_chunks(&mut c, b"grown", b"grown-copy"), 1);
    let q = query_set();
    assert_eq!(
        observe(&mut c, b"grown-copy", &q),
        observe(&mut c, b"grown", &q)
    );
    assert_eq!(
        digest_value(&mut c, "grown-copy"),
        digest_value(&mut c, "grown")
    );

    query::<(), _>(&mut c, &["TFBFRESERVE", "big", "0.01", "13000000"]);
    pipelined(
        &mut c,
        "TFBFMADD",
        "big",
        (0..3000).map(|i| format!("item:{i}")),
    );
    assert_eq!(copy_by_chunks(&mut c, b"big", b"big-copy"), 2);
    assert_eq!(
        observe(&mut c, b"big-copy", &q),
        observe(&mut c, b"big", &q)
    );
    assert_eq!(
        digest_value(&mut c, "big-copy"),
        digest_value(&mut c, "big")
    );
    query::<(), _>(&mut c, &["DEL", "big", "big-copy"]);
}

/// T21 and more: identical answers after DEBUG RELOAD, AOF rewrite (plain commands) and restart,
/// DEBUG LOADAOF, COPY and DUMP/RESTORE; TTLs survive.
#[test]
fn t21_persistence_and_copies() {
    let mut server = Server::builder()
        .module("tairbloom")
        .config("appendonly", "yes")
        .start();
    let mut c = server.conn();
    run(
        &mut c,
        r#"
> TFBFMADD p a b c
1) (integer) 1
2) (integer) 1
3) (integer) 1
> TYPE p
tairbloom
"#,
    );
    query::<(), _>(&mut c, &["TFBFRESERVE", "grown", "0.001", "10"]);
    pipelined(
        &mut c,
        "TFBFMADD",
        "grown",
        (0..3000).map(|i| format!("item:{i}")),
    );
    // more than 16 MiB of bits: two LOADCHUNK data commands in the rewritten AOF
    query::<(), _>(&mut c, &["TFBFRESERVE", "big", "0.01", "13000000"]);
    pipelined(
        &mut c,
        "TFBFMADD",
        "big",
        (0..1000).map(|i| format!("item:{i}")),
    );
    let bin_key: &[u8] = b"bin\0\xff";
    cmd(
        &mut c,
        &[
            &b"TFBFMADD"[..],
            bin_key,
            b"\0",
            b"\xff\xfe",
            b"",
            b"a\r\nb",
        ],
    )
    .unwrap();
    query::<(), _>(&mut c, &["TFBFADD", "ttl", "x"]);
    query::<(), _>(&mut c, &["PEXPIRE", "ttl", "5000000"]);
    let expire_at: i64 = query(&mut c, &["PEXPIRETIME", "ttl"]);
    // writes keep the TTL
    query::<(), _>(&mut c, &["TFBFMADD", "ttl", "y", "z"]);
    query::<(), _>(&mut c, &["TFBFINSERT", "ttl", "ITEMS", "w"]);
    assert_eq!(query::<i64, _>(&mut c, &["PEXPIRETIME", "ttl"]), expire_at);

    let q = query_set();
    let keys: Vec<&[u8]> = vec![b"p", b"grown", b"big", bin_key, b"ttl"];
    let snapshot = |c: &mut Connection| -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|k| observe(c, k, &q)).collect();
        v.extend(keys.iter().map(|k| digest_value(c, k)));
        v.push(digest(c));
        let bin = ints(
            &cmd(
                c,
                &[
                    &b"TFBFMEXISTS"[..],
                    bin_key,
                    b"\0",
                    b"\xff\xfe",
                    b"",
                    b"a\r\nb",
                    b"a",
                ],
            )
            .unwrap(),
        );
        v.push(format!("{bin:?}"));
        v
    };
    let before = snapshot(&mut c);
    assert_eq!(before.last().unwrap(), "[1, 1, 1, 1, 0]");

    server.debug_reload(&mut c);
    assert_eq!(snapshot(&mut c), before, "after DEBUG RELOAD");

    server.rewrite_aof_and_restart();
    let mut c = server.conn();
    assert_eq!(snapshot(&mut c), before, "after AOF rewrite and restart");
    assert_eq!(query::<i64, _>(&mut c, &["PEXPIRETIME", "ttl"]), expire_at);
    let base = std::fs::read(server.aof_base_file().unwrap()).unwrap();
    let loadchunks = parse_resp(&base)
        .iter()
        .filter(|c| c[0] == b"TFBFLOADCHUNK")
        .count();
    assert_eq!(
        loadchunks,
        2 * 5 + 1,
        "one header and one data command per key, two for the big one"
    );

    server.debug_loadaof(&mut c);
    assert_eq!(snapshot(&mut c), before, "after DEBUG LOADAOF");

    // COPY is deep.
    run(
        &mut c,
        r#"
> COPY p p2
(integer) 1
> TFBFEXISTS p2 a
(integer) 1
> TFBFADD p2 d
(integer) 1
> TFBFEXISTS p d
(integer) 0
> TFBFCARD p
(integer) 3
"#,
    );
    // DUMP / RESTORE
    let payload: Vec<u8> = query(&mut c, &["DUMP", "grown"]);
    cmd(&mut c, &[&b"RESTORE"[..], b"restored", b"0", &payload]).unwrap();
    assert_eq!(
        observe(&mut c, b"restored", &q),
        observe(&mut c, b"grown", &q)
    );
    assert_eq!(
        digest_value(&mut c, "restored"),
        digest_value(&mut c, "grown")
    );
}

/// T22 with a replica that does not load tair-compat: everything propagated uses the TFBF names. The
/// replica first syncs an RDB holding filters, then follows a random workload of every write.
#[test]
fn t22_replication() {
    let primary = compat_builder();
    let mut p = primary.conn();
    query::<(), _>(&mut p, &["TFBFRESERVE", "pre", "0.001", "50"]);
    pipelined(
        &mut p,
        "TFBFMADD",
        "pre",
        (0..500).map(|i| format!("item:{i}")),
    );
    let replica = Server::builder()
        .module("tairbloom")
        .replica_of(&primary)
        .start();
    replica.wait_for_sync();
    let mut r = replica.conn();
    run_on(
        &mut [("P", &mut p), ("R", &mut r)],
        r#"
P> TFBFADD r x
(integer) 1
P> TFBFMADD r y z
1) (integer) 1
2) (integer) 1
P> WAIT 1 0
(integer) 1
R> TFBFMEXISTS r x y z
1) (integer) 1
2) (integer) 1
3) (integer) 1
"#,
    );
    assert_eq!(
        show(&cmd(&mut r, &["TFBFINFO", "r"]).unwrap()),
        show(&cmd(&mut p, &["TFBFINFO", "r"]).unwrap())
    );
    assert_eq!(digest_value(&mut r, "r"), digest_value(&mut p, "r"));
    assert_eq!(digest_value(&mut r, "pre"), digest_value(&mut p, "pre"));

    // Every write command, under both names, with creations, no-ops and errors.
    let mut rng = Rng(42);
    query::<(), _>(
        &mut p,
        &[
            "TFBFINSERT",
            "src",
            "CAPACITY",
            "20",
            "ERROR",
            "0.05",
            "ITEMS",
            "a",
        ],
    );
    let (_, header) = scandump(&mut p, b"src", 0);
    for i in 0..2000 {
        let k = format!("w{}", rng.below(40));
        let item = format!("i{}", rng.below(3000));
        let bf = rng.below(2) == 0;
        let name = |n: &str| {
            if bf {
                format!("BF.{n}")
            } else {
                format!("TFBF{n}")
            }
        };
        let args: Vec<Vec<u8>> = match rng.below(8) {
            0 => vec![
                name("RESERVE").into(),
                k.into(),
                format!("0.0{}", 1 + rng.below(9)).into(),
                (1 + rng.below(300)).to_string().into(),
            ],
            1 => vec![name("ADD").into(), k.into(), item.into()],
            2 => {
                let mut a = vec![name("MADD").into_bytes(), k.into_bytes()];
                a.extend(
                    (0..1 + rng.below(20)).map(|_| format!("i{}", rng.below(3000)).into_bytes()),
                );
                a
            }
            3 => vec![
                name("INSERT").into(),
                k.into(),
                "CAPACITY".into(),
                (1 + rng.below(50)).to_string().into(),
                "ERROR".into(),
                "0.3".into(),
                "ITEMS".into(),
                item.into(),
                format!("{i}").into(),
            ],
            4 => vec![
                name("INSERT").into(),
                k.into(),
                "NOCREATE".into(),
                "ITEMS".into(),
                item.into(),
            ],
            5 => vec![
                name("LOADCHUNK").into(),
                format!("c{i}").into(),
                "1".into(),
                header.clone(),
            ],
            6 => vec!["DEL".into(), k.into()],
            _ => vec![name("EXISTS").into(), k.into(), item.into()],
        };
        let _ = cmd(&mut p, &args);
    }
    wait_replicated(&mut p, &replica);
    assert_eq!(
        primary.digest(&mut p),
        replica.digest(&mut r),
        "replica digest differs from the primary's"
    );
    for i in 0..40 {
        let k = format!("w{i}");
        let a = cmd(&mut p, &["TFBFDEBUG", &k])
            .map(|v| show(&v))
            .map_err(|e| err_text(&e));
        let b = cmd(&mut r, &["TFBFDEBUG", &k])
            .map(|v| show(&v))
            .map_err(|e| err_text(&e));
        assert_eq!(a, b, "{k}");
    }
    let e = cmd_err(&mut r, &["BF.EXISTS", "r", "x"]);
    assert!(
        e.starts_with("ERR unknown command"),
        "the replica has no BF.* names: {e}"
    );
}

// ---- bad input ------------------------------------------------------------------------------------------

/// §6: every bad input gets exactly its error, under both names where it matters, and creates nothing.
#[test]
fn bad_input_table() {
    let mut c = fresh_db();
    let arity = |cmd: &str| format!("ERR wrong number of arguments for '{cmd}' command");
    let syntax = "ERR syntax error".to_string();
    let bad_rate = "ERR bad error rate".to_string();
    let rate_range = "ERR (0 < error rate range < 1)".to_string();
    let bad_cap = "ERR bad capacity".to_string();
    let cap_range = "ERR (capacity should be larger than 0)".to_string();
    let not_found = "ERR not found".to_string();
    let bad_iter = "ERR invalid iterator".to_string();
    let mut cases: Vec<(Vec<String>, String)> = vec![];
    for (prefix, lower) in [("TFBF", "tfbf"), ("BF.", "bf.")] {
        let n = |s: &str| format!("{prefix}{s}");
        let a = |s: &str| arity(&format!("{lower}{s}"));
        let owned: Vec<(Vec<String>, String)> = vec![
            (vec![n("RESERVE"), "k".into()], a("reserve")),
            (
                vec![
                    n("RESERVE"),
                    "k".into(),
                    "0.01".into(),
                    "100".into(),
                    "x".into(),
                ],
                a("reserve"),
            ),
            (vec![n("ADD"), "k".into()], a("add")),
            (vec![n("ADD"), "k".into(), "a".into(), "b".into()], a("add")),
            (vec![n("MADD"), "k".into()], a("madd")),
            (vec![n("INSERT"), "k".into()], a("insert")),
            (vec![n("EXISTS"), "k".into()], a("exists")),
            (
                vec![n("EXISTS"), "k".into(), "a".into(), "b".into()],
                a("exists"),
            ),
            (vec![n("MEXISTS"), "k".into()], a("mexists")),
            (vec![n("INFO")], a("info")),
            (
                vec![n("INFO"), "k".into(), "SIZE".into(), "x".into()],
                a("info"),
            ),
            (vec![n("CARD")], a("card")),
            (vec![n("CARD"), "k".into(), "x".into()], a("card")),
            (vec![n("DEBUG")], a("debug")),
            (vec![n("DEBUG"), "k".into(), "x".into()], a("debug")),
            (vec![n("SCANDUMP"), "k".into()], a("scandump")),
            (
                vec![n("SCANDUMP"), "k".into(), "0".into(), "x".into()],
                a("scandump"),
            ),
            (vec![n("LOADCHUNK"), "k".into(), "1".into()], a("loadchunk")),
            (
                vec![
                    n("LOADCHUNK"),
                    "k".into(),
                    "1".into(),
                    "a".into(),
                    "b".into(),
                ],
                a("loadchunk"),
            ),
        ];
        cases.extend(owned);
    }
    let more: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["tfbfreserve", "k", "0.01", "100", "x"],
            arity("tfbfreserve"),
        ),
        (vec!["TfBfInfo", "k", "a", "b"], arity("tfbfinfo")),
        (vec!["TFBFRESERVE", "k", "abc"], bad_rate.clone()),
        (vec!["TFBFRESERVE", "k", "nan"], bad_rate.clone()),
        (vec!["TFBFRESERVE", "k", "NaN"], bad_rate.clone()),
        (vec!["TFBFRESERVE", "k", ""], bad_rate.clone()),
        (vec!["TFBFRESERVE", "k", "0.1x"], bad_rate.clone()),
        (vec!["TFBFRESERVE", "k", " 0.1"], bad_rate.clone()),
        (vec!["TFBFRESERVE", "k", "0"], rate_range.clone()),
        (vec!["TFBFRESERVE", "k", "1"], rate_range.clone()),
        (vec!["TFBFRESERVE", "k", "-0.1"], rate_range.clone()),
        (vec!["TFBFRESERVE", "k", "1.5"], rate_range.clone()),
        (vec!["TFBFRESERVE", "k", "inf"], rate_range.clone()),
        (vec!["TFBFRESERVE", "k", "-inf"], rate_range.clone()),
        (vec!["TFBFRESERVE", "k", "+Infinity"], rate_range.clone()),
        (vec!["TFBFRESERVE", "k", "0.01", "abc"], bad_cap.clone()),
        (vec!["TFBFRESERVE", "k", "0.01", "1.5"], bad_cap.clone()),
        (
            vec!["TFBFRESERVE", "k", "0.01", "9223372036854775808"],
            bad_cap.clone(),
        ),
        (vec!["TFBFRESERVE", "k", "0.01", "0"], cap_range.clone()),
        (vec!["TFBFRESERVE", "k", "0.01", "-5"], cap_range.clone()),
        // error rate first, then capacity
        (vec!["TFBFRESERVE", "k", "abc", "0"], bad_rate.clone()),
        (
            vec!["TFBFRESERVE", "k", "0.01", "9223372036854775807"],
            "ERR operation exceeds bloom filter size limit".into(),
        ),
        (
            vec!["TFBFRESERVE", "k", "1e-300", "10000000"],
            "ERR operation exceeds bloom filter size limit".into(),
        ),
        (vec!["TFBFINSERT", "k", "CAPACITY", "10"], syntax.clone()),
        (vec!["TFBFINSERT", "k", "ITEMS"], syntax.clone()),
        (
            vec!["TFBFINSERT", "k", "BOGUS", "ITEMS", "a"],
            syntax.clone(),
        ),
        (vec!["TFBFINSERT", "k", "CAPACITY"], syntax.clone()),
        (vec!["TFBFINSERT", "k", "ERROR"], syntax.clone()),
        (vec!["TFBFINSERT", "k", "NOCREATE"], syntax.clone()),
        (vec!["TFBFINSERT", "k", "a", "b"], syntax.clone()),
        (
            vec!["TFBFINSERT", "k", "CAPACITY", "abc", "ITEMS", "a"],
            bad_cap.clone(),
        ),
        (
            vec!["TFBFINSERT", "k", "CAPACITY", "0", "ITEMS", "a"],
            cap_range.clone(),
        ),
        (
            vec!["TFBFINSERT", "k", "ERROR", "2", "ITEMS", "a"],
            rate_range.clone(),
        ),
        (
            vec!["TFBFINSERT", "k", "ERROR", "x", "ITEMS", "a"],
            bad_rate.clone(),
        ),
        (
            vec!["TFBFINSERT", "k", "CAPACITY", "1000000000", "ITEMS", "a"],
            "ERR operation exceeds bloom filter size limit".into(),
        ),
        (
            vec!["TFBFINSERT", "k", "NOCREATE", "ITEMS", "a"],
            not_found.clone(),
        ),
        (
            vec![
                "TFBFINSERT",
                "k",
                "NOCREATE",
                "CAPACITY",
                "1000000000",
                "ITEMS",
                "a",
            ],
            not_found.clone(),
        ),
        (vec!["TFBFINFO", "k"], not_found.clone()),
        (
            vec!["TFBFINFO", "k", "FOO"],
            "ERR invalid information value".into(),
        ),
        (vec!["TFBFINFO", "k", "SIZE"], not_found.clone()),
        (vec!["TFBFDEBUG", "k"], not_found.clone()),
        (vec!["TFBFSCANDUMP", "k", "0"], not_found.clone()),
        (vec!["TFBFSCANDUMP", "k", "-1"], bad_iter.clone()),
        (vec!["TFBFSCANDUMP", "k", "abc"], bad_iter.clone()),
        (vec!["TFBFSCANDUMP", "k", "1.5"], bad_iter.clone()),
        (vec!["TFBFSCANDUMP", "k", ""], bad_iter.clone()),
        (vec!["TFBFLOADCHUNK", "k", "0", "x"], bad_iter.clone()),
        (vec!["TFBFLOADCHUNK", "k", "-1", "x"], bad_iter.clone()),
        (vec!["TFBFLOADCHUNK", "k", "abc", "x"], bad_iter.clone()),
        (vec!["TFBFLOADCHUNK", "k", "2", "x"], not_found.clone()),
        (
            vec!["TFBFLOADCHUNK", "k", "1", "x"],
            "ERR received bad data".into(),
        ),
    ];
    cases.extend(
        more.into_iter()
            .map(|(a, w)| (a.iter().map(|x| x.to_string()).collect(), w)),
    );
    for (args, want) in &cases {
        assert_eq!(&cmd_err(&mut c, args), want, "{args:?}");
    }
    assert_eq!(
        query::<i64, _>(&mut c, &["DBSIZE"]),
        0,
        "a failing command created a key"
    );

    // On existing keys: errors change nothing; CAPACITY/ERROR are still validated.
    query::<(), _>(&mut c, &["TFBFADD", "b", "x"]);
    query::<(), _>(&mut c, &["SET", "s", "v"]);
    let before = show(&cmd(&mut c, &["TFBFDEBUG", "b"]).unwrap());
    for (args, want) in [
        (vec!["TFBFRESERVE", "b", "0.01"], "ERR item exists"),
        (
            vec!["TFBFRESERVE", "b", "0.01", "1000000000"],
            "ERR item exists",
        ),
        (
            vec!["TFBFRESERVE", "b", "2"],
            "ERR (0 < error rate range < 1)",
        ),
        (
            vec!["TFBFINSERT", "b", "CAPACITY", "abc", "ITEMS", "y"],
            "ERR bad capacity",
        ),
        (
            vec!["TFBFINSERT", "b", "ERROR", "nan", "ITEMS", "y"],
            "ERR bad error rate",
        ),
        (vec!["TFBFLOADCHUNK", "b", "1", "x"], "ERR item exists"),
        (
            vec!["TFBFLOADCHUNK", "b", "146", "x"],
            "ERR received bad data",
        ),
        (
            vec!["TFBFLOADCHUNK", "b", "1000", ""],
            "ERR received bad data",
        ),
        (
            vec!["TFBFLOADCHUNK", "b", "3", "xyz"],
            "ERR received bad data",
        ),
    ] {
        assert_eq!(cmd_err(&mut c, &args), want, "{args:?}");
    }
    assert_eq!(show(&cmd(&mut c, &["TFBFDEBUG", "b"]).unwrap()), before);
    // Every command on a key of another type (arguments otherwise valid).
    for args in [
        vec!["TFBFRESERVE", "s", "0.01", "100"],
        vec!["TFBFADD", "s", "x"],
        vec!["TFBFMADD", "s", "x", "y"],
        vec!["TFBFINSERT", "s", "ITEMS", "x"],
        vec!["TFBFINSERT", "s", "NOCREATE", "ITEMS", "x"],
        vec!["TFBFEXISTS", "s", "x"],
        vec!["TFBFMEXISTS", "s", "x", "y"],
        vec!["TFBFINFO", "s"],
        vec!["TFBFINFO", "s", "SIZE"],
        vec!["TFBFCARD", "s"],
        vec!["TFBFDEBUG", "s"],
        vec!["TFBFSCANDUMP", "s", "0"],
        vec!["TFBFLOADCHUNK", "s", "1", "x"],
        vec!["TFBFLOADCHUNK", "s", "2", "x"],
        vec!["BF.ADD", "s", "x"],
    ] {
        assert_eq!(cmd_err(&mut c, &args), WRONGTYPE, "{args:?}");
    }
    // Argument errors come before the key type (§4.0).
    assert_eq!(
        cmd_err(&mut c, &["TFBFRESERVE", "s", "abc"]),
        "ERR bad error rate"
    );
    assert_eq!(
        cmd_err(&mut c, &["TFBFINFO", "s", "FOO"]),
        "ERR invalid information value"
    );
    assert_eq!(
        cmd_err(&mut c, &["TFBFSCANDUMP", "s", "x"]),
        "ERR invalid iterator"
    );
    assert_eq!(query::<Vec<u8>, _>(&mut c, &["GET", "s"]), b"v");
}

/// INSERT's options: any order, the last of a repeated one wins, ITEMS ends them; empty and binary items.
#[test]
fn insert_options_and_binary_items() {
    run(
        &mut fresh_db(),
        r#"
> TFBFINSERT a CAPACITY 10 ERROR 0.5 CAPACITY 20 ERROR 0.1 ITEMS x
1) (integer) 1
> TFBFINFO a CAPACITY
(integer) 20
> TFBFINFO a ERROR
"0.1"
> TFBFINSERT b error 1e-3 nocreate capacity 5 items x
(error) ERR not found
> TFBFINSERT b error 1e-3 capacity 5 items x x ITEMS
1) (integer) 1
2) (integer) 0
3) (integer) 1
> TFBFINFO b
 1) "Capacity"
 2) (integer) 5
 3) "Size"
 4) (integer) 16
 5) "Number of filters"
 6) (integer) 1
 7) "Number of items inserted"
 8) (integer) 2
 9) "Error rate"
10) "0.001"
11) "Expansion rate"
12) (integer) 2
13) "Tightening ratio"
14) "0.5"
> TFBFEXISTS b ITEMS
(integer) 1
> TFBFADD e ""
(integer) 1
> TFBFEXISTS e ""
(integer) 1
> TFBFMADD e "" "\x00" "\xff\x00"
1) (integer) 0
2) (integer) 1
3) (integer) 1
> TFBFMEXISTS e "\x00" "\xff\x00" "\xff"
1) (integer) 1
2) (integer) 1
3) (integer) 0
"#,
    );
    // RESP3: TFBFINFO is a map; the rates stay strings.
    let mut r3 = shared().conn_resp3();
    query::<(), _>(&mut r3, &["TFBFRESERVE", "resp3:bf", "1e-7", "3"]);
    let v = cmd(&mut r3, &["TFBFINFO", "resp3:bf"]).unwrap();
    assert_eq!(
        show(&v),
        r#"{"Capacity": 3, "Size": 16, "Number of filters": 1, "Number of items inserted": 0, "Error rate": "0.0000001", "Expansion rate": 2, "Tightening ratio": "0.5"}"#
    );
    assert_eq!(
        cmd(&mut r3, &["TFBFEXISTS", "resp3:bf", "x"]).unwrap(),
        Value::Int(0)
    );
    query::<(), _>(&mut r3, &["DEL", "resp3:bf"]);
}

/// A filter whose last sub-filter is full and whose next one would take it over 512 MiB: every add of a
/// new item fails with the size-limit error (in its slot for MADD/INSERT) and nothing changes.
#[test]
fn growth_stops_at_the_size_limit() {
    let mut c = fresh_db();
    // Sub-filter 0 of 560M items at 0.99 is 115 MB; sub-filter 1 would add 425 MB (> 512 MiB in all).
    query::<(), _>(&mut c, &["TFBFRESERVE", "big", "0.99", "560000000"]);
    let (_, mut header) = scandump(&mut c, b"big", 0);
    query::<(), _>(&mut c, &["DEL", "big"]);
    let n0 = header[40..48].to_vec();
    header[48..56].copy_from_slice(&n0); // items_0 = n_0: full
    cmd(&mut c, &[&b"TFBFLOADCHUNK"[..], b"full", b"1", &header]).unwrap();
    assert_eq!(query::<i64, _>(&mut c, &["TFBFCARD", "full"]), 560_000_000);
    let limit = "ERR operation exceeds bloom filter size limit";
    assert_eq!(cmd_err(&mut c, &["TFBFADD", "full", "x"]), limit);
    let v = cmd(&mut c, &["TFBFMADD", "full", "x", "y"]).unwrap();
    let slots: Vec<Option<String>> = match &v {
        Value::Array(items) => items.iter().map(server_error_text).collect(),
        other => panic!("{}", show(other)),
    };
    assert_eq!(
        slots,
        vec![Some(limit.to_string()), Some(limit.to_string())]
    );
    let v = cmd(&mut c, &["TFBFINSERT", "full", "ITEMS", "z"]).unwrap();
    assert_eq!(show(&v), format!("[(error) {limit}]"));
    assert_eq!(query::<i64, _>(&mut c, &["TFBFINFO", "full", "FILTERS"]), 1);
    assert_eq!(query::<i64, _>(&mut c, &["TFBFCARD", "full"]), 560_000_000);
    assert_eq!(query::<i64, _>(&mut c, &["TFBFEXISTS", "full", "x"]), 0);
    query::<(), _>(&mut c, &["DEL", "full"]);
}

/// Random and hostile argument lists, and headers with random bytes flipped, never crash the server.
#[test]
fn fuzz_arguments_and_chunks_never_crash() {
    let mut c = fresh_db();
    query::<(), _>(&mut c, &["SET", "s", "x"]);
    query::<(), _>(&mut c, &["TFBFRESERVE", "src", "0.01", "5"]);
    pipelined(
        &mut c,
        "TFBFMADD",
        "src",
        (0..200).map(|i| format!("item:{i}")),
    );
    let (_, header) = scandump(&mut c, b"src", 0);
    let (_, data) = scandump(&mut c, b"src", 1);
    let mut rng = Rng(7);
    let cmds = [
        "RESERVE",
        "ADD",
        "MADD",
        "INSERT",
        "EXISTS",
        "MEXISTS",
        "INFO",
        "CARD",
        "DEBUG",
        "SCANDUMP",
        "LOADCHUNK",
    ];
    let words: &[&[u8]] = &[
        b"ITEMS",
        b"CAPACITY",
        b"ERROR",
        b"NOCREATE",
        b"SIZE",
        b"FILTERS",
        b"0",
        b"1",
        b"2",
        b"-1",
        b"100",
        b"100000",
        b"0.01",
        b"0.5",
        b"0.999",
        b"1e-300",
        b"inf",
        b"nan",
        b"abc",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"",
        b"\0",
        b"\xff\xfe",
        b"k",
        b"k2",
        b"s",
        b"src",
    ];
    for _ in 0..3000 {
        let name = cmds[rng.below(cmds.len())];
        let mut args: Vec<Vec<u8>> = vec![if rng.below(2) == 0 {
            format!("TFBF{name}")
        } else {
            format!("BF.{name}")
        }
        .into_bytes()];
        for _ in 0..rng.below(7) {
            args.push(words[rng.below(words.len())].to_vec());
        }
        if name == "LOADCHUNK" && args.len() >= 2 {
            // a header or a chunk with a few random bytes changed, at a random iterator
            let mut blob = if rng.below(2) == 0 {
                header.clone()
            } else {
                data.clone()
            };
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(blob.len());
                blob[i] = rng.next() as u8;
            }
            if rng.below(4) == 0 {
                blob.truncate(rng.below(blob.len() + 1));
            }
            let it = if rng.below(2) == 0 {
                1
            } else {
                rng.below(blob.len() + 300)
            };
            args.truncate(2);
            args.push(it.to_string().into_bytes());
            args.push(blob);
        }
        let _ = cmd(&mut c, &args);
    }
    assert_eq!(show(&cmd(&mut c, &["PING"]).unwrap()), "PONG");
    shared().assert_alive();
}

/// Forged DUMP payloads (truncated, other encoding versions, inflated lengths, corrupt headers) and forged
/// LOADCHUNK headers and chunks get an error; PING still answers and nothing is created.
#[test]
fn forged_payloads_and_chunks_are_refused() {
    let mut c = fresh_db();
    query::<(), _>(&mut c, &["TFBFRESERVE", "src", "0.01", "100"]);
    pipelined(
        &mut c,
        "TFBFMADD",
        "src",
        (0..150).map(|i| format!("item:{i}")),
    );
    let payload: Vec<u8> = query(&mut c, &["DUMP", "src"]);
    let parsed = parse_module_value(&payload).expect("a module value");
    assert_eq!(parsed.type_name, "tairbloom");
    assert_eq!(parsed.encver, 1);
    assert_eq!(
        parsed.fields.len(),
        3,
        "header and two bit arrays: {parsed}"
    );
    let bytes_of = |i: usize| match &parsed.fields[i].value {
        FieldValue::String { bytes, .. } => bytes.clone(),
        other => panic!("field {i} is not a string: {other:?}"),
    };
    let header = bytes_of(0);
    assert_eq!(header.len(), 120);
    assert_eq!(bytes_of(1).len(), 144);
    assert_eq!(bytes_of(2).len(), 312);
    let h_at = parsed.fields[0].end - header.len(); // where the header bytes start in the payload value

    let mut forged: Vec<(String, Vec<u8>)> = Vec::new();
    let body_len = parsed.eof_offset + 1;
    for cut in [
        1,
        5,
        10,
        h_at + 3,
        h_at + 60,
        parsed.fields[1].end - 20,
        parsed.fields[2].opcode_offset + 2,
        body_len - 40,
    ] {
        forged.push((format!("truncated at {cut}"), truncate_value(&payload, cut)));
    }
    forged.push(("encoding version 2".into(), set_module_encver(&payload, 2)));
    forged.push(("encoding version 0".into(), set_module_encver(&payload, 0)));
    forged.push((
        "encoding version 1023".into(),
        set_module_encver(&payload, 1023),
    ));
    forged.push((
        "header length 2^40".into(),
        set_len_at(&payload, parsed.fields[0].value_offset, 1 << 40),
    ));
    forged.push((
        "header length +1".into(),
        set_len_at(&payload, parsed.fields[0].value_offset, 121),
    ));
    forged.push((
        "header length -40".into(),
        set_len_at(&payload, parsed.fields[0].value_offset, 80),
    ));
    forged.push((
        "bits length 2^40".into(),
        set_len_at(&payload, parsed.fields[1].value_offset, 1 << 40),
    ));
    forged.push((
        "bits length +8".into(),
        set_len_at(&payload, parsed.fields[1].value_offset, 152),
    ));
    forged.push((
        "bits length -8".into(),
        set_len_at(&payload, parsed.fields[2].value_offset, 304),
    ));
    let patches: Vec<(&str, usize, Vec<u8>)> = vec![
        ("magic", 0, b"XFBF".to_vec()),
        ("version byte", 4, vec![2]),
        ("hash scheme", 5, vec![9]),
        ("error rate 0", 8, 0f64.to_le_bytes().to_vec()),
        ("error rate NaN", 8, f64::NAN.to_le_bytes().to_vec()),
        ("capacity 0", 16, 0u64.to_le_bytes().to_vec()),
        ("growth 3", 24, 3u32.to_le_bytes().to_vec()),
        ("3 sub-filters", 28, 3u32.to_le_bytes().to_vec()),
        ("0 sub-filters", 28, 0u32.to_le_bytes().to_vec()),
        ("tightening", 32, 0.25f64.to_le_bytes().to_vec()),
        ("older filter not full", 48, 99u64.to_le_bytes().to_vec()),
        ("k = 0", 64, 0u32.to_le_bytes().to_vec()),
        (
            "k = 4000000000",
            64,
            4_000_000_000u32.to_le_bytes().to_vec(),
        ),
        ("m = 2^40", 72, (1u64 << 40).to_le_bytes().to_vec()),
        ("m not a multiple of 64", 72, 1151u64.to_le_bytes().to_vec()),
        ("items > n", 88, 201u64.to_le_bytes().to_vec()),
        ("m_1 = 2^33", 112, (1u64 << 33).to_le_bytes().to_vec()),
    ];
    for (what, off, bytes) in &patches {
        let p = edit_value(&payload, |v| {
            v[h_at + off..h_at + off + bytes.len()].copy_from_slice(bytes)
        });
        forged.push((format!("header: {what}"), p));
    }
    for (what, p) in &forged {
        let r = cmd(&mut c, &[&b"RESTORE"[..], b"dst", b"0", p, b"REPLACE"]);
        assert!(
            r.is_err(),
            "{what}: RESTORE accepted a forged payload: {r:?}"
        );
        assert_eq!(show(&cmd(&mut c, &["PING"]).unwrap()), "PONG", "{what}");
        assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "dst"]), 0, "{what}");
    }
    // The same corrupt headers through LOADCHUNK.
    for (what, off, bytes) in &patches {
        let mut h = header.clone();
        h[*off..off + bytes.len()].copy_from_slice(bytes);
        let e = cmd(&mut c, &[&b"TFBFLOADCHUNK"[..], b"dst", b"1", &h]).unwrap_err();
        assert_eq!(err_text(&e), "ERR received bad data", "{what}");
    }
    for len in [0, 1, 39, 40, 79, 80, 119, 121, 160] {
        let mut h = header.clone();
        h.resize(len, 0);
        let e = cmd(&mut c, &[&b"TFBFLOADCHUNK"[..], b"dst", b"1", &h]).unwrap_err();
        assert_eq!(
            err_text(&e),
            "ERR received bad data",
            "header of {len} bytes"
        );
    }
    assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "dst"]), 0);
    // Chunks outside the data.
    cmd(&mut c, &[&b"TFBFLOADCHUNK"[..], b"dst", b"1", &header]).unwrap();
    let total: u64 = 144 + 312;
    for (it, len) in [
        (2u64, 2usize),
        (total + 2, 1),
        (total + 1, 457),
        (u64::MAX / 2, 10),
        (i64::MAX as u64, 1),
    ] {
        let data = vec![0xffu8; len];
        let e = cmd(
            &mut c,
            &[
                &b"TFBFLOADCHUNK"[..],
                b"dst",
                it.to_string().as_bytes(),
                &data,
            ],
        )
        .unwrap_err();
        assert_eq!(err_text(&e), "ERR received bad data", "it {it} len {len}");
    }
    assert_eq!(
        cmd_err(
            &mut c,
            &["TFBFLOADCHUNK", "dst", "9223372036854775808", "x"]
        ),
        "ERR invalid iterator"
    );
    // the last byte, exactly
    cmd(
        &mut c,
        &[
            &b"TFBFLOADCHUNK"[..],
            b"dst",
            (total + 1).to_string().as_bytes(),
            b"\x01",
        ],
    )
    .unwrap();
    assert_eq!(show(&cmd(&mut c, &["PING"]).unwrap()), "PONG");
    // The genuine payload still restores, bit for bit.
    cmd(&mut c, &[&b"RESTORE"[..], b"ok", b"0", &payload]).unwrap();
    let q = query_set();
    assert_eq!(observe(&mut c, b"ok", &q), observe(&mut c, b"src", &q));
    shared().assert_alive();
}

// ---- quality at scale -----------------------------------------------------------------------------------

/// 1,000,000 items in a filter reserved for 1,000,000 at 0.001: the measured false-positive rate on a
/// million items never added is at most 0.0011, and the server's used_memory grows by 15.82 bits per item
/// (the size of sub-filter 0 at p/2) within 5 %.
#[test]
fn quality_one_million_items() {
    let server = Server::with_modules(&["tairbloom"]);
    let mut c = server.conn();
    let n = 1_000_000u64;
    let before = used_memory(&mut c);
    query::<(), _>(&mut c, &["TFBFRESERVE", "q", "0.001", "1000000"]);
    let after = used_memory(&mut c);
    let bits_per_item = (after - before) as f64 * 8.0 / n as f64;
    eprintln!(
        "used_memory: +{} bytes = {bits_per_item:.3} bits/item",
        after - before
    );
    assert!(
        (bits_per_item / 15.82 - 1.0).abs() <= 0.05,
        "{bits_per_item} bits per item"
    );
    assert_eq!(
        query::<i64, _>(&mut c, &["TFBFINFO", "q", "SIZE"]),
        1_977_544
    );

    let added = pipelined(&mut c, "TFBFMADD", "q", (0..n).map(|i| format!("u:{i}")));
    let fresh = count_ones(&added) as i64;
    assert_eq!(query::<i64, _>(&mut c, &["TFBFCARD", "q"]), fresh);
    assert!(fresh > 999_000, "{fresh} items counted as new");
    assert_eq!(query::<i64, _>(&mut c, &["TFBFINFO", "q", "FILTERS"]), 1);
    let hits = pipelined(&mut c, "TFBFMEXISTS", "q", (0..n).map(|i| format!("v:{i}")));
    let rate = count_ones(&hits) as f64 / n as f64;
    eprintln!("false-positive rate at 1M/1M, p = 0.001: {rate:.6}");
    assert!(rate <= 0.0011, "false-positive rate {rate}");
    let back = pipelined(
        &mut c,
        "TFBFMEXISTS",
        "q",
        (0..n).step_by(10).map(|i| format!("u:{i}")),
    );
    assert_eq!(count_ones(&back), back.len(), "false negatives");
}

/// A filter reserved for 1,000 items and grown 1000x still meets its target rate.
#[test]
fn quality_grown_a_thousand_times() {
    let server = Server::with_modules(&["tairbloom"]);
    let mut c = server.conn();
    let n = 1_000_000u64;
    query::<(), _>(&mut c, &["TFBFRESERVE", "g", "0.001", "1000"]);
    pipelined(&mut c, "TFBFMADD", "g", (0..n).map(|i| format!("u:{i}")));
    assert_eq!(query::<i64, _>(&mut c, &["TFBFINFO", "g", "FILTERS"]), 10);
    let hits = pipelined(&mut c, "TFBFMEXISTS", "g", (0..n).map(|i| format!("v:{i}")));
    let rate = count_ones(&hits) as f64 / n as f64;
    let size: i64 = query(&mut c, &["TFBFINFO", "g", "SIZE"]);
    eprintln!(
        "grown 1000x, p = 0.001: false-positive rate {rate:.6}, {:.2} bits/item",
        size as f64 * 8.0 / n as f64
    );
    // The expected compound rate is Σ p_i = 0.001·(1 − 2^−10) ≈ 0.000999; one million queries measure
    // it to about ±3 % (one standard deviation), hence the same 10 % allowance as for the sized filter.
    assert!(rate <= 0.0011, "false-positive rate {rate}");
    let back = pipelined(
        &mut c,
        "TFBFMEXISTS",
        "g",
        (0..n).step_by(10).map(|i| format!("u:{i}")),
    );
    assert_eq!(count_ones(&back), back.len(), "false negatives");
}

// ---- the seed's and tair-py's examples ------------------------------------------------------------------

/// §1 crawler dedup: reserve once at 0.001, mark each discovered URL, skip it when EXISTS says 1. Every
/// page is fetched at most once, and false positives skip at most a few tenths of a percent of them.
#[test]
fn crawler_and_recommendation_examples() {
    let mut c = fresh_db();
    query::<(), _>(&mut c, &["TFBFRESERVE", "crawler:visited", "0.001"]);
    let pages = 6000usize;
    let url = |i: usize| format!("https://example.com/page{i}");
    let mut rng = Rng(3);
    let mut frontier = vec![0usize];
    query::<(), _>(&mut c, &["TFBFADD", "crawler:visited", &url(0)]);
    let mut fetched: HashSet<usize> = HashSet::new();
    while let Some(page) = frontier.pop() {
        assert!(fetched.insert(page), "page {page} fetched twice");
        // each page links to a few others
        let links: Vec<usize> = (0..5)
            .map(|j| {
                if j == 0 {
                    (page + 1) % pages
                } else {
                    rng.below(pages)
                }
            })
            .collect();
        let mut args: Vec<String> = vec!["TFBFMEXISTS".into(), "crawler:visited".into()];
        args.extend(links.iter().map(|&l| url(l)));
        let seen = ints(&cmd(&mut c, &args).unwrap());
        let new: Vec<usize> = links
            .iter()
            .zip(&seen)
            .filter(|(_, &s)| s == 0)
            .map(|(&l, _)| l)
            .collect();
        if new.is_empty() {
            continue;
        }
        let mut args: Vec<String> = vec!["TFBFMADD".into(), "crawler:visited".into()];
        args.extend(new.iter().map(|&l| url(l)));
        let added = ints(&cmd(&mut c, &args).unwrap());
        frontier.extend(
            new.iter()
                .zip(&added)
                .filter(|(_, &a)| a == 1)
                .map(|(&l, _)| l),
        );
    }
    let skipped = pages - fetched.len();
    eprintln!(
        "crawler: fetched {} of {pages} pages, {skipped} skipped as false positives",
        fetched.len()
    );
    assert!(skipped <= pages / 200, "{skipped} pages never fetched");
    assert_eq!(
        query::<i64, _>(&mut c, &["TFBFCARD", "crawler:visited"]),
        fetched.len() as i64
    );
    let filters: i64 = query(&mut c, &["TFBFINFO", "crawler:visited", "FILTERS"]);
    assert!(
        filters >= 6,
        "the default capacity of 100 grew: {filters} sub-filters"
    );
    assert_eq!(
        query::<String, _>(&mut c, &["TFBFINFO", "crawler:visited", "ERROR"]),
        "0.001"
    );

    // tair-py: recommend a document only if BF.EXISTS says 0, then BF.ADD it (the first BF.ADD creates
    // the filter with the defaults).
    let mut recommended: HashSet<usize> = HashSet::new();
    for _ in 0..6000 {
        let doc = rng.below(800);
        if query::<i64, _>(&mut c, &["BF.EXISTS", "user:42", &format!("doc{doc}")]) == 0 {
            assert!(recommended.insert(doc), "doc{doc} recommended twice");
            query::<(), _>(&mut c, &["BF.ADD", "user:42", &format!("doc{doc}")]);
        }
    }
    assert!(
        recommended.len() > 780,
        "{} documents recommended",
        recommended.len()
    );
    assert_eq!(
        query::<i64, _>(&mut c, &["TFBFCARD", "user:42"]),
        recommended.len() as i64
    );
    assert_eq!(
        query::<String, _>(&mut c, &["TFBFINFO", "user:42", "ERROR"]),
        "0.01"
    );
}

// ---- notifications and propagation ------------------------------------------------------------------

#[test]
fn keyspace_events() {
    let server = compat_builder();
    let mut c = server.conn();
    let mut ev = Events::keyevents(&server, "Ed");
    query::<(), _>(&mut c, &["TFBFADD", "src", "x"]);
    let (_, header) = scandump(&mut c, b"src", 0);
    let (_, data) = scandump(&mut c, b"src", 1);
    ev.drain();
    let ops: Vec<Vec<Vec<u8>>> = vec![
        vec![b"TFBFRESERVE".to_vec(), b"r".to_vec(), b"0.01".to_vec()],
        vec![b"TFBFRESERVE".to_vec(), b"r".to_vec(), b"0.01".to_vec()],
        vec![b"TFBFADD".to_vec(), b"a".to_vec(), b"x".to_vec()],
        vec![b"TFBFADD".to_vec(), b"a".to_vec(), b"x".to_vec()],
        vec![
            b"BF.MADD".to_vec(),
            b"a".to_vec(),
            b"y".to_vec(),
            b"z".to_vec(),
        ],
        vec![
            b"TFBFMADD".to_vec(),
            b"a".to_vec(),
            b"y".to_vec(),
            b"z".to_vec(),
        ],
        vec![b"TFBFMADD".to_vec(), b"m".to_vec(), b"y".to_vec()],
        vec![
            b"TFBFINSERT".to_vec(),
            b"i".to_vec(),
            b"ITEMS".to_vec(),
            b"p".to_vec(),
            b"q".to_vec(),
        ],
        vec![
            b"TFBFINSERT".to_vec(),
            b"i".to_vec(),
            b"NOCREATE".to_vec(),
            b"ITEMS".to_vec(),
            b"p".to_vec(),
        ],
        vec![
            b"TFBFINSERT".to_vec(),
            b"none".to_vec(),
            b"NOCREATE".to_vec(),
            b"ITEMS".to_vec(),
            b"p".to_vec(),
        ],
        vec![b"TFBFEXISTS".to_vec(), b"a".to_vec(), b"x".to_vec()],
        vec![
            b"TFBFLOADCHUNK".to_vec(),
            b"c".to_vec(),
            b"1".to_vec(),
            header.clone(),
        ],
        vec![
            b"TFBFLOADCHUNK".to_vec(),
            b"c".to_vec(),
            b"145".to_vec(),
            data,
        ],
        vec![
            b"TFBFLOADCHUNK".to_vec(),
            b"c".to_vec(),
            b"1".to_vec(),
            header,
        ],
    ];
    for op in &ops {
        let _ = cmd(&mut c, op);
    }
    let got: Vec<String> = ev
        .drain()
        .into_iter()
        .map(|(ch, key)| format!("{} {key}", ch.rsplit(':').next().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            "tfbfreserve r",
            "tfbfreserve a",
            "tfbfadd a",
            "tfbfadd a",
            "tfbfreserve m",
            "tfbfadd m",
            "tfbfreserve i",
            "tfbfadd i",
            "tfbfloadchunk c",
            "tfbfloadchunk c",
        ]
    );
}

/// What is propagated (read from the AOF): TFBF names only, explicit CAPACITY/ERROR when a command
/// creates a filter, nothing for reads, errors and adds that changed nothing. Replaying it (a restart)
/// rebuilds the same data.
#[test]
fn propagated_forms_in_the_aof() {
    let mut server = Server::builder()
        .module_args("tairbloom", &["tair-compat", "yes"])
        .config("appendonly", "yes")
        .config("appendfsync", "always")
        .config("aof-use-rdb-preamble", "no")
        .start();
    let mut c = server.conn();
    query::<(), _>(&mut c, &["TFBFADD", "src", "x"]);
    let (_, header) = scandump(&mut c, b"src", 0);
    let (_, data) = scandump(&mut c, b"src", 1);
    let before = aof_commands(&server).len();
    let s = |x: &str| x.as_bytes().to_vec();
    let ops: Vec<Vec<Vec<u8>>> = vec![
        vec![s("TFBFRESERVE"), s("r"), s("1e-3")],
        vec![s("tfbfreserve"), s("r2"), s("0.05"), s("5000")],
        vec![s("BF.RESERVE"), s("r3"), s(".5"), s("7")],
        vec![s("TFBFRESERVE"), s("r"), s("0.01")],
        vec![s("TFBFADD"), s("a"), s("x")],
        vec![s("TFBFADD"), s("a"), s("x")],
        vec![s("BF.ADD"), s("a"), s("y")],
        vec![s("TFBFMADD"), s("m"), s("p"), s("q"), s("p")],
        vec![s("TFBFMADD"), s("m"), s("p"), s("q")],
        vec![s("bf.madd"), s("m"), s("p"), s("z")],
        vec![
            s("TFBFINSERT"),
            s("i"),
            s("CAPACITY"),
            s("50"),
            s("ERROR"),
            s("0.002"),
            s("ITEMS"),
            s("u"),
            s("v"),
        ],
        vec![
            s("BF.INSERT"),
            s("i"),
            s("CAPACITY"),
            s("9"),
            s("NOCREATE"),
            s("ITEMS"),
            s("u"),
            s("w"),
        ],
        vec![s("TFBFINSERT"), s("i"), s("ITEMS"), s("u")],
        vec![
            s("TFBFINSERT"),
            s("nokey"),
            s("NOCREATE"),
            s("ITEMS"),
            s("u"),
        ],
        vec![
            s("TFBFINSERT"),
            s("j"),
            s("NOCREATE"),
            s("ERROR"),
            s("0.3"),
            s("ITEMS"),
            s("u"),
        ],
        vec![
            s("TFBFINSERT"),
            s("j"),
            s("ERROR"),
            s("0.3"),
            s("ITEMS"),
            s("u"),
        ],
        vec![s("TFBFEXISTS"), s("a"), s("x")],
        vec![s("TFBFMEXISTS"), s("a"), s("x")],
        vec![s("TFBFINFO"), s("a")],
        vec![s("TFBFCARD"), s("a")],
        vec![s("TFBFDEBUG"), s("a")],
        vec![s("TFBFSCANDUMP"), s("a"), s("0")],
        vec![s("BF.LOADCHUNK"), s("c"), s("1"), header.clone()],
        vec![s("TFBFLOADCHUNK"), s("c"), s("145"), data.clone()],
        vec![s("TFBFLOADCHUNK"), s("c"), s("1"), header.clone()],
    ];
    for op in &ops {
        let _ = cmd(&mut c, op);
    }
    let all = aof_commands(&server);
    let got: Vec<String> = all[before..]
        .iter()
        .filter(|c| !matches!(&c[0][..], b"SELECT" | b"MULTI" | b"EXEC"))
        .map(|c| {
            c.iter()
                .map(|w| escape_bytes(w))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let h = escape_bytes(&header);
    let d = escape_bytes(&data);
    let want: Vec<String> = vec![
        "TFBFRESERVE r 0.001 100".into(),
        "TFBFRESERVE r2 0.05 5000".into(),
        "TFBFRESERVE r3 0.5 7".into(),
        "TFBFINSERT a CAPACITY 100 ERROR 0.01 ITEMS x".into(),
        "TFBFADD a y".into(),
        "TFBFINSERT m CAPACITY 100 ERROR 0.01 ITEMS p q p".into(),
        "TFBFMADD m p z".into(),
        "TFBFINSERT i CAPACITY 50 ERROR 0.002 ITEMS u v".into(),
        "TFBFINSERT i ITEMS u w".into(),
        "TFBFINSERT j CAPACITY 100 ERROR 0.3 ITEMS u".into(),
        format!("TFBFLOADCHUNK c 1 {h}"),
        format!("TFBFLOADCHUNK c 145 {d}"),
    ];
    assert_eq!(got, want);

    // Replaying the AOF on a server without tair-compat rebuilds everything.
    let digest_before = server.digest(&mut c);
    let q = query_set();
    let keys: [&[u8]; 7] = [b"r", b"r2", b"r3", b"a", b"m", b"i", b"c"];
    let seen: Vec<String> = keys.iter().map(|k| observe(&mut c, k, &q)).collect();
    drop(c);
    server.restart();
    let mut c = server.conn();
    assert_eq!(server.digest(&mut c), digest_before);
    let again: Vec<String> = keys.iter().map(|k| observe(&mut c, k, &q)).collect();
    assert_eq!(again, seen);
}

/// The commands in the AOF's incremental files, in order.
fn aof_commands(server: &Server) -> Vec<Vec<Vec<u8>>> {
    let dir = server.dir().join("appendonlydir");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.to_string_lossy().contains(".incr."));
    files.sort();
    files
        .iter()
        .flat_map(|p| parse_resp(&std::fs::read(p).unwrap()))
        .collect()
}

/// Commands of a RESP stream (`*N` then N bulk strings), binary-safe.
fn parse_resp(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
    fn line(data: &[u8], at: &mut usize) -> usize {
        let start = *at;
        let end = start + data[start..].windows(2).position(|w| w == b"\r\n").unwrap();
        *at = end + 2;
        std::str::from_utf8(&data[start + 1..end])
            .unwrap()
            .parse()
            .unwrap()
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        assert_eq!(data[at], b'*', "not a command at byte {at}");
        let n = line(data, &mut at);
        let mut words = Vec::with_capacity(n);
        for _ in 0..n {
            assert_eq!(data[at], b'$');
            let len = line(data, &mut at);
            words.push(data[at..at + len].to_vec());
            at += len + 2;
        }
        out.push(words);
    }
    out
}
