//! tairgis as a first-class citizen (issue #16) and its MEMORY USAGE (issue #15), against real servers:
//! the config `tairgis.relate-edge-budget` readable, settable, refused with a bad value (unchanged),
//! effective at run time, kept through CONFIG REWRITE + restart; INFO tairgis geometries moving with the
//! workload; COMMAND DOCS for every command; MEMORY USAGE of big areas (points, small polygons, large
//! polygons) within 0.8x-1.25x of the used_memory they added.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use tair_tests::citizen::*;
use tair_tests::redis::Connection;
use tair_tests::*;

const M: &str = "tairgis";

#[test]
fn configs_readable_settable_refused() {
    check_configs(
        M,
        &[(
            "relate-edge-budget",
            "16",
            "100",
            &["0", "-5", "x", "1048577"],
        )],
    );
}

/// A 1000-gon covers itself: found with the default budget; with a budget of 1 pair per edge the
/// relate is skipped and the answer is "not covered".
#[test]
fn edge_budget_takes_effect_at_run_time() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let n = 1000;
    let pts: Vec<String> = (0..=n)
        .map(|t| {
            let a = 2.0 * std::f64::consts::PI * f64::from(t % n) / f64::from(n);
            format!("{:.6} {:.6}", 10.0 * a.cos(), 10.0 * a.sin())
        })
        .collect();
    let wkt = format!("POLYGON (({}))", pts.join(", "));
    let _: i64 = query(&mut c, &["GIS.ADD", "circ", "c", &wkt]);
    let found = |c: &mut Connection| -> i64 {
        match query::<Value, _>(c, &["GIS.CONTAINS", "circ", &wkt]) {
            Value::Array(items) => match items.first() {
                Some(Value::Int(n)) => *n,
                other => panic!("{other:?}"),
            },
            other => panic!("{}", show(&other)),
        }
    };
    assert_eq!(found(&mut c), 1);
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairgis.relate-edge-budget", "1"],
    );
    assert_eq!(found(&mut c), 0);
    let _: () = query(
        &mut c,
        &["CONFIG", "SET", "tairgis.relate-edge-budget", "16"],
    );
    assert_eq!(found(&mut c), 1);
}

#[test]
fn configs_survive_rewrite_and_restart() {
    check_rewrite(M, &[("relate-edge-budget", "64")]);
}

#[test]
fn info_counts_geometries() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let geoms = |c: &mut Connection| info_u64(c, M, "geometries");
    assert_eq!(geoms(&mut c), 0);
    let _: i64 = query(
        &mut c,
        &["GIS.ADD", "g", "a", "POINT (1 2)", "b", "POINT (3 4)"],
    );
    assert_eq!(geoms(&mut c), 2);
    // a replaced member stays one
    let _: i64 = query(&mut c, &["GIS.ADD", "g", "a", "POINT (1 3)"]);
    assert_eq!(geoms(&mut c), 2);
    let copied: i64 = query(&mut c, &["COPY", "g", "h"]);
    assert_eq!(copied, 1);
    assert_eq!(geoms(&mut c), 4);
    let _: Value = query(&mut c, &["GIS.DEL", "g", "a"]);
    assert_eq!(geoms(&mut c), 3);
    server.debug_reload(&mut c);
    assert_eq!(geoms(&mut c), 3);
    let _: i64 = query(&mut c, &["DEL", "g", "h"]);
    assert_eq!(geoms(&mut c), 0);
}

#[test]
fn command_docs_cover_every_command() {
    check_docs(M, 12);
}

fn build_area(c: &mut Connection, key: &str, n: usize, geom: impl Fn(usize) -> String) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut args = vec!["GIS.ADD".to_string(), key.to_string()];
        for &i in chunk {
            args.push(format!("member:{i}"));
            args.push(geom(i));
        }
        let _: i64 = query(c, &args);
    }
}

#[test]
fn memory_usage_of_big_areas() {
    let server = Server::with_modules(&[M]);
    check_mem_usage(&server, "points", |c| {
        build_area(c, "points", 5000, |i| {
            format!("POINT ({} {})", i % 170, i % 80)
        })
    });
    check_mem_usage(&server, "squares", |c| {
        build_area(c, "squares", 20_000, |i| {
            let x = i % 170;
            format!("POLYGON (({x} 0, {} 0, {} 1, {x} 1, {x} 0))", x + 1, x + 1)
        })
    });
    check_mem_usage(&server, "circles", |c| {
        build_area(c, "circles", 2000, |i| {
            let pts: Vec<String> = (0..=50)
                .map(|t| {
                    let a = 2.0 * std::f64::consts::PI * f64::from(t % 50) / 50.0;
                    format!("{:.6} {:.6}", (i % 100) as f64 + a.cos(), a.sin())
                })
                .collect();
            format!("POLYGON (({}))", pts.join(", "))
        })
    });
}
