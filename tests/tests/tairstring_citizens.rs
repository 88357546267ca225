//! tairstring as a first-class citizen (issue #16) and its per-value overhead (issue #13), against real
//! servers: no configs (the module has no load argument or tunable), INFO tairstring's counters moving
//! with the workload, COMMAND DOCS for every command, MEMORY USAGE of a big value within 0.8x-1.25x of
//! the used_memory it added, small values at most 1.4x native SET's bytes per key, and values across the
//! inline/heap boundary of the 16-byte form answering alike through writes and DEBUG RELOAD.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tair_tests::redis::Connection;
use tair_tests::*;

const M: &str = "tairstring";

#[test]
fn no_configs() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let all: Vec<String> = query(&mut c, &["CONFIG", "GET", "tairstring.*"]);
    assert!(all.is_empty(), "{all:?}");
    // nothing to rewrite, but the shared helper still proves a config file round trip loads the module
    check_rewrite(M, &[]);
}

#[test]
fn info_counts_stale_versions_and_cas_failures() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let read = |c: &mut Connection| {
        (
            info_u64(c, M, "stale_version_errors"),
            info_u64(c, M, "cas_failures"),
        )
    };
    assert_eq!(read(&mut c), (0, 0));
    let _: () = query(&mut c, &["EXSET", "k", "v"]);
    let e = cmd_err(&mut c, &["EXSET", "k", "w", "VER", "5"]);
    assert!(e.contains("stale"), "{e}");
    let e = cmd_err(&mut c, &["EXAPPEND", "k", "z", "VER", "9"]);
    assert!(e.contains("stale"), "{e}");
    assert_eq!(read(&mut c).0, 2);
    let _: () = query(&mut c, &["EXSET", "k", "w", "VER", "1"]);
    assert_eq!(read(&mut c), (2, 0));
    let r: Value = query(&mut c, &["EXCAS", "k", "x", "7"]);
    assert!(show(&r).contains("CAS_FAILED"), "{}", show(&r));
    let n: i64 = query(&mut c, &["EXCAD", "k", "7"]);
    assert_eq!(n, 0);
    let _: () = query(&mut c, &["SET", "s", "a"]);
    let n: i64 = query(&mut c, &["CAS", "s", "b", "c"]);
    assert_eq!(n, 0);
    let n: i64 = query(&mut c, &["CAD", "s", "b"]);
    assert_eq!(n, 0);
    assert_eq!(read(&mut c), (2, 4));
    // successes do not count
    let n: i64 = query(&mut c, &["CAD", "s", "a"]);
    assert_eq!(n, 1);
    assert_eq!(read(&mut c), (2, 4));
}

#[test]
fn command_docs_cover_every_command() {
    check_docs(M, 12);
}

#[test]
fn memory_usage_of_a_big_value() {
    let server = Server::with_modules(&[M]);
    let big = "x".repeat(1 << 20);
    check_mem_usage(&server, "big", |c| {
        let _: () = query(c, &["EXSET", "big", &big]);
    });
    let mut c = server.conn();
    // appended past the first block
    let before = used_memory(&mut c);
    let _: i64 = query(&mut c, &["EXAPPEND", "big", &big]);
    let added = used_memory(&mut c) - before;
    assert!(added >= 1 << 20, "{added}");
    let reported: u64 = query(&mut c, &["MEMORY", "USAGE", "big"]);
    assert!(reported >= 2 << 20, "{reported}");
}

/// Bytes per key of `n` keys made by `make(i)` in database `db` (each case in its own database, so
/// every case's table grows alike).
fn bytes_per_key(
    c: &mut Connection,
    db: usize,
    n: usize,
    make: impl Fn(usize) -> Vec<String>,
) -> f64 {
    let _: () = query(c, &["SELECT", &db.to_string()]);
    let before = used_memory(c);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut p = redis::pipe();
        for &i in chunk {
            let args = make(i);
            let mut cmd = redis::cmd(&args[0]);
            for a in &args[1..] {
                cmd.arg(a);
            }
            p.add_command(cmd).ignore();
        }
        let _: () = p.query(c).unwrap();
    }
    (used_memory(c) - before) as f64 / n as f64
}

/// EXSET of a 7-byte value costs at most 1.4x native SET per key (issue #13); the 16-byte inline form
/// makes it about 1.2x.
#[test]
fn small_values_cost_at_most_1_4x_native() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let n = 50_000;
    let native = bytes_per_key(&mut c, 1, n, |i| {
        vec![
            "SET".into(),
            format!("s:{i:08}"),
            format!("v{:06}", i % 1_000_000),
        ]
    });
    let module = bytes_per_key(&mut c, 2, n, |i| {
        vec![
            "EXSET".into(),
            format!("x:{i:08}"),
            format!("v{:06}", i % 1_000_000),
        ]
    });
    assert!(
        module <= 1.4 * native,
        "EXSET {module:.1} B/key vs SET {native:.1} B/key"
    );
}

/// Values, versions and flags around the inline form's bound (value, length byte and varint version
/// and flags within 15 bytes) read back the same after every kind of write and a reload.
#[test]
fn inline_and_heap_forms_answer_alike() {
    let server = Server::with_modules(&[M]);
    let mut c = server.conn();
    let mut want = Vec::new();
    for len in [0usize, 1, 11, 12, 13, 14, 24, 25, 40] {
        for (ver, flags) in [(1u64, 0u32), (127, 127), (128, 128), (1 << 40, u32::MAX)] {
            let key = format!("k{len}:{ver}:{flags}");
            let value: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let _: () = query(
                &mut c,
                &[
                    "EXSET",
                    &key,
                    &value,
                    "ABS",
                    &ver.to_string(),
                    "FLAGS",
                    &flags.to_string(),
                ],
            );
            // grow across the bound and back: append 2 bytes, then set the original again
            let v2: i64 = query(&mut c, &["EXAPPEND", &key, "zz"]);
            assert_eq!(v2 as u64, ver + 1);
            let _: () = query(&mut c, &["EXSET", &key, &value, "ABS", &ver.to_string()]);
            let _: i64 = query(&mut c, &["EXSETVER", &key, &(ver + 2).to_string()]);
            want.push((key, value, ver + 2, flags));
        }
    }
    let check = |c: &mut Connection| {
        for (key, value, ver, flags) in &want {
            let got: (Vec<u8>, i64, i64) = query(c, &["EXGET", key, "WITHFLAGS"]);
            assert_eq!(
                (got.0, got.1 as u64, got.2 as u32),
                (value.as_bytes().to_vec(), *ver, *flags),
                "{key}"
            );
        }
    };
    check(&mut c);
    server.debug_reload(&mut c);
    check(&mut c);
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
