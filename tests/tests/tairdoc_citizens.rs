//! tairdoc as a first-class citizen (issue #16), against real servers: the config `tairdoc.max-depth`
//! readable, settable, refused with a bad value (unchanged), effective at run time on every kind of
//! write, kept through CONFIG REWRITE + restart; INFO tairdoc's fields moving with it; COMMAND DOCS for
//! every command and JSON.* alias; MEMORY USAGE of a big document within 0.8x-1.25x of the used_memory
//! it added.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use tair_tests::citizen::*;
use tair_tests::redis::Connection;
use tair_tests::*;

const M: &str = "tairdoc";

#[test]
fn configs_readable_settable_refused() {
    check_configs(
        M,
        &[("max-depth", "128", "64", &["0", "129", "-1", "x", ""])],
    );
}

#[test]
fn max_depth_takes_effect_at_run_time() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let refusals = |c: &mut Connection| info_u64(c, M, "depth_refusals");
    assert_eq!(info_u64(&mut c, M, "max_depth"), 128);
    // depth 3 is fine under the default
    let _: () = query(&mut c, &["EXJSONSET", "a", ".", "[[[1]]]"]);
    let _: () = query(&mut c, &["CONFIG", "SET", "tairdoc.max-depth", "2"]);
    assert_eq!(info_u64(&mut c, M, "max_depth"), 2);
    assert_eq!(refusals(&mut c), 0);
    // a new key, a root replacement, a nested set and an array append past depth 2: refused, unchanged
    let e = cmd_err(&mut c, &["EXJSONSET", "b", ".", "[[[1]]]"]);
    assert_eq!(e, "ERR json nesting depth exceeds 2");
    let n: i64 = query(&mut c, &["EXISTS", "b"]);
    assert_eq!(n, 0);
    let _: () = query(&mut c, &["EXJSONSET", "b", ".", "[[1]]"]);
    let e = cmd_err(&mut c, &["EXJSONSET", "b", ".", "{\"x\":[[1]]}"]);
    assert!(e.contains("exceeds 2"), "{e}");
    let e = cmd_err(&mut c, &["EXJSONSET", "b", "/0/0", "[1]"]);
    assert!(e.contains("exceeds 2"), "{e}");
    let e = cmd_err(&mut c, &["EXJSONARRAPPEND", "b", "/0", "[1]"]);
    assert!(e.contains("exceeds 2"), "{e}");
    let got: String = query(&mut c, &["EXJSONGET", "b"]);
    assert_eq!(got, "[[1]]");
    assert_eq!(refusals(&mut c), 4);
    // within the limit still works; a document stored deeper before the change stays readable
    let n: i64 = query(&mut c, &["EXJSONARRAPPEND", "b", "/0", "2"]);
    assert_eq!(n, 2);
    let got: String = query(&mut c, &["EXJSONGET", "a"]);
    assert_eq!(got, "[[[1]]]");
    // back to the default: the deeper write goes through
    let _: () = query(&mut c, &["CONFIG", "SET", "tairdoc.max-depth", "128"]);
    let _: () = query(&mut c, &["EXJSONSET", "b", "/0/0", "[1]"]);
    let got: String = query(&mut c, &["EXJSONGET", "b"]);
    assert_eq!(got, "[[[1],2]]");
    let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
    let e = cmd_err(&mut c, &["EXJSONSET", "c", ".", &deep]);
    assert_eq!(e, "ERR json nesting depth exceeds 128");
    assert_eq!(refusals(&mut c), 5);
}

#[test]
fn configs_survive_rewrite_and_restart() {
    check_rewrite(M, &[("max-depth", "17")]);
}

#[test]
fn command_docs_cover_every_command_and_alias() {
    // 18 EXJSON* commands and 17 JSON.* names (EXJSONARRAYAPPEND has none)
    check_docs(M, 35);
}

#[test]
fn memory_usage_of_a_big_document() {
    let server = Server::with_modules(&[M]);
    let items: Vec<String> = (0..20_000)
        .map(|i| {
            format!(
                "{{\"id\":{i},\"name\":\"item{i}\",\"tags\":[\"a\",\"b\"],\"price\":{}.5}}",
                i * 3
            )
        })
        .collect();
    let doc = format!("{{\"items\":[{}]}}", items.join(","));
    check_mem_usage(&server, "d", |c| {
        let _: () = query(c, &["EXJSONSET", "d", ".", &doc]);
    });
}
