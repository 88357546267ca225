//! tairbloom as a first-class citizen (issue #16) and its memory figures (issues #13, #15), against real
//! servers: the configs `tairbloom.*` readable, settable, refused with a bad value (unchanged), effective
//! at run time, set by load arguments and kept through CONFIG REWRITE + restart; INFO tairbloom's
//! filters, sub-filters and bits moving with the workload; COMMAND DOCS for every command and BF.* alias;
//! MEMORY USAGE of a big scaled filter within 0.8x-1.25x of the used_memory it added.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

// ---- shared shape of the citizen tests (the same in each of tairstring/tairbloom/tairdoc/tairgis) ----

fn info_u64(c: &mut Connection, module: &str, field: &str) -> u64 {
    let v = info_field(c, module, &format!("{module}_{field}"))
        .unwrap_or_else(|| panic!("INFO {module} has no {module}_{field}"));
    v.parse().unwrap()
}

/// Every config of `module`: the default, a valid other value (also effective after CONFIG SET), and
/// bad values refused with nothing changed.
#[allow(dead_code)]
fn check_configs(module: &str, configs: &[(&str, &str, &str, &[&str])]) {
    let server = Server::with_modules(&[module]);
    let mut c = server.conn();
    let all: Vec<String> = query(&mut c, &["CONFIG", "GET", &format!("{module}.*")]);
    assert_eq!(all.len(), 2 * configs.len(), "{all:?}");
    for (name, default, other, bad) in configs {
        let full = format!("{module}.{name}");
        assert_eq!(config_get(&mut c, &full), *default, "{full}");
        let _: () = query(&mut c, &["CONFIG", "SET", &full, other]);
        assert_eq!(config_get(&mut c, &full), *other, "{full}");
        for b in *bad {
            let e = cmd_err(&mut c, &["CONFIG", "SET", &full, b]);
            assert!(e.contains("CONFIG SET failed"), "{full} {b:?}: {e}");
            assert_eq!(config_get(&mut c, &full), *other, "{full} changed by {b:?}");
        }
        let _: () = query(&mut c, &["CONFIG", "SET", &full, default]);
    }
}

/// COMMAND DOCS of every command the module registered (with `tair-compat yes`, aliases included):
/// a summary, a since, a complexity and at least one argument.
fn check_docs(module: &str, expected: usize) {
    let server = Server::builder()
        .module_args(module, &["tair-compat", "yes"])
        .start();
    let mut c = server.conn();
    let names: Vec<String> = query(&mut c, &["COMMAND", "LIST", "FILTERBY", "MODULE", module]);
    assert_eq!(names.len(), expected, "{names:?}");
    for name in names {
        let docs = cmd(&mut c, &["COMMAND", "DOCS", &name]).unwrap();
        let text = show(&docs);
        let doc = match &docs {
            Value::Map(top) => top[0].1.clone(),
            Value::Array(items) if items.len() == 2 => items[1].clone(),
            _ => panic!("{name}: {text}"),
        };
        let Value::Array(kv) = doc else {
            panic!("{name}: {text}")
        };
        let field = |k: &str| {
            kv.chunks(2)
                .find(|p| value_text(&p[0]).as_deref() == Some(k))
                .map(|p| p[1].clone())
        };
        let summary = field("summary")
            .and_then(|v| value_text(&v))
            .unwrap_or_default();
        assert!(!summary.is_empty(), "{name}: no summary in {text}");
        assert!(
            field("complexity").is_some(),
            "{name}: no complexity in {text}"
        );
        assert!(field("since").is_some(), "{name}: no since in {text}");
        match field("arguments") {
            Some(Value::Array(a)) => assert!(!a.is_empty(), "{name}: no arguments in {text}"),
            _ => panic!("{name}: no arguments in {text}"),
        }
    }
}

/// MEMORY USAGE of `key` against the used_memory that building it added: within 0.8x-1.25x. The key
/// is built on a connection of its own, closed before measuring (its query buffer would count).
fn check_mem_usage(server: &Server, key: &str, build: impl FnOnce(&mut Connection)) {
    let mut c = server.conn();
    let clients = |c: &mut Connection| -> u64 {
        info_field(c, "clients", "connected_clients")
            .unwrap()
            .parse()
            .unwrap()
    };
    let alone = clients(&mut c);
    let before = used_memory(&mut c);
    {
        let mut b = server.conn();
        build(&mut b);
    }
    wait_until(
        Duration::from_secs(10),
        "the building connection closed",
        || clients(&mut c) == alone,
    );
    let added = used_memory(&mut c) - before;
    let reported: u64 = query(&mut c, &["MEMORY", "USAGE", key, "SAMPLES", "0"]);
    let ratio = reported as f64 / added as f64;
    assert!(
        (0.8..=1.25).contains(&ratio),
        "{key}: MEMORY USAGE {reported} vs used_memory added {added} ({ratio:.3})"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn connect(port: u16) -> Connection {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}/")) {
            if let Ok(mut c) = client.get_connection() {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return c;
                }
            }
        }
        assert!(Instant::now() < deadline, "server on {port} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(mut child: Child, c: &mut Connection) {
    let _ = cmd(c, &["SHUTDOWN", "NOSAVE"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sets `values` with CONFIG SET on a server started from a config file, CONFIG REWRITE, restart: the
/// values are back.
fn check_rewrite(module: &str, values: &[(&str, &str)]) {
    let dir = std::env::temp_dir().join(format!("{module}-citizens-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let conf = dir.join("valkey.conf");
    fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsave \"\"\nappendonly no\nloadmodule {}\n",
            dir.display(),
            module_path(module).display()
        ),
    )
    .unwrap();
    let spawn = || {
        Command::new("valkey-server")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let child = spawn();
    let mut c = connect(port);
    for (name, v) in values {
        let _: () = query(&mut c, &["CONFIG", "SET", &format!("{module}.{name}"), v]);
    }
    let _: () = query(&mut c, &["CONFIG", "REWRITE"]);
    stop(child, &mut c);
    let text = fs::read_to_string(&conf).unwrap();
    let child = spawn();
    let mut c = connect(port);
    for (name, v) in values {
        assert_eq!(
            config_get(&mut c, &format!("{module}.{name}")),
            *v,
            "{name} after restart; config file:\n{text}"
        );
    }
    stop(child, &mut c);
    let _ = fs::remove_dir_all(&dir);
}
