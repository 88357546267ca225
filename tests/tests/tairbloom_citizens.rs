//! tairbloom as a first-class citizen (issue #16) and its memory figures (issues #13, #15), against real
//! servers: the configs `tairbloom.*` readable, settable, refused with a bad value (unchanged), effective
//! at run time, set by load arguments and kept through CONFIG REWRITE + restart; INFO tairbloom's
//! filters, sub-filters and bits moving with the workload; COMMAND DOCS for every command and BF.* alias;
//! MEMORY USAGE of a big scaled filter within 0.8x-1.25x of the used_memory it added.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use tair_tests::citizen::*;
use tair_tests::redis::Connection;
use tair_tests::*;

const M: &str = "tairbloom";

#[test]
fn configs_readable_settable_refused() {
    check_configs(
        M,
        &[
            (
                "default-error-rate",
                "0.01",
                "0.001",
                &["0", "1", "-0.5", "x", "1.5", ""],
            ),
            (
                "default-capacity",
                "100",
                "1000",
                // 10^10 items at p = 0.01 would pass the 512 MiB size limit.
                &["0", "-1", "x", "10000000000"],
            ),
        ],
    );
}

/// The configs change what ADD/INSERT create and what RESERVE without a capacity uses; an explicit
/// argument still wins.
#[test]
fn configs_take_effect_at_run_time() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let info = |c: &mut Connection, k: &str, f: &str| -> String {
        let v: Value = query(c, &["TFBFINFO", k, f]);
        value_text(&v).unwrap_or_else(|| show(&v))
    };
    let _: i64 = query(&mut c, &["TFBFADD", "before", "x"]);
    assert_eq!(info(&mut c, "before", "capacity"), "100");
    assert_eq!(info(&mut c, "before", "error"), "0.01");
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairbloom.default-capacity", "1000"],
    );
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairbloom.default-error-rate", "0.001"],
    );
    let _: i64 = query(&mut c, &["TFBFADD", "after", "x"]);
    assert_eq!(info(&mut c, "after", "capacity"), "1000");
    assert_eq!(info(&mut c, "after", "error"), "0.001");
    let _: Vec<i64> = query(&mut c, &["TFBFMADD", "m", "x", "y"]);
    assert_eq!(info(&mut c, "m", "capacity"), "1000");
    let _: () = query(&mut c, &["TFBFRESERVE", "r", "0.05"]);
    assert_eq!(info(&mut c, "r", "capacity"), "1000");
    assert_eq!(info(&mut c, "r", "error"), "0.05");
    let _: Vec<i64> = query(&mut c, &["TFBFINSERT", "i", "CAPACITY", "7", "ITEMS", "x"]);
    assert_eq!(info(&mut c, "i", "capacity"), "7");
    assert_eq!(info(&mut c, "i", "error"), "0.001");
    // the filter made before the change keeps its parameters
    assert_eq!(info(&mut c, "before", "capacity"), "100");
}

#[test]
fn load_arguments_set_the_configs() {
    let server = Server::builder()
        .module_args(
            M,
            &["default-capacity", "500", "default-error-rate", "0.05"],
        )
        .start();
    let mut c = server.conn();
    assert_eq!(config_get(&mut c, "tairbloom.default-capacity"), "500");
    assert_eq!(config_get(&mut c, "tairbloom.default-error-rate"), "0.05");
    let _: i64 = query(&mut c, &["TFBFADD", "k", "x"]);
    let cap: i64 = query(&mut c, &["TFBFINFO", "k", "capacity"]);
    assert_eq!(cap, 500);
}

#[test]
fn configs_survive_rewrite_and_restart() {
    check_rewrite(
        M,
        &[
            ("default-error-rate", "0.002"),
            ("default-capacity", "4321"),
        ],
    );
}

#[test]
fn info_counts_filters_sub_filters_and_bits() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let read = |c: &mut Connection| {
        (
            info_u64(c, M, "filters"),
            info_u64(c, M, "sub_filters"),
            info_u64(c, M, "bits"),
        )
    };
    assert_eq!(read(&mut c), (0, 0, 0));
    let _: i64 = query(&mut c, &["TFBFADD", "a", "x"]);
    assert_eq!(read(&mut c), (1, 1, 1152));
    // 150 items in a filter of capacity 100: a second sub-filter of 2496 bits
    let items: Vec<String> = (0..150).map(|i| format!("item:{i}")).collect();
    let mut args = vec!["TFBFMADD".to_string(), "b".into()];
    args.extend(items);
    let _: Vec<i64> = query(&mut c, &args);
    assert_eq!(read(&mut c), (2, 3, 1152 * 2 + 2496));
    let copied: i64 = query(&mut c, &["COPY", "b", "b2"]);
    assert_eq!(copied, 1);
    assert_eq!(read(&mut c), (3, 5, 1152 * 3 + 2496 * 2));
    let _: i64 = query(&mut c, &["DEL", "a", "b", "b2"]);
    assert_eq!(read(&mut c), (0, 0, 0));
    // a reload frees and loads them back
    let _: i64 = query(&mut c, &["TFBFADD", "a", "x"]);
    server.debug_reload(&mut c);
    assert_eq!(read(&mut c), (1, 1, 1152));
}

#[test]
fn command_docs_cover_every_command_and_alias() {
    // 11 TFBF* commands and their 11 BF.* names
    check_docs(M, 22);
}

#[test]
fn memory_usage_of_a_big_scaled_filter() {
    let server = Server::with_modules(&[M]);
    check_mem_usage(&server, "big", |c| {
        let _: () = query(c, &["TFBFRESERVE", "big", "0.01", "1000"]);
        for j in 0..200 {
            let mut args = vec!["TFBFMADD".to_string(), "big".into()];
            args.extend((0..1000).map(|i| format!("i{j}_{i}")));
            let _: Vec<i64> = query(c, &args);
        }
    });
    let mut c = server.conn();
    let filters: i64 = query(&mut c, &["TFBFINFO", "big", "filters"]);
    assert!(filters >= 8, "{filters} sub-filters");
}
