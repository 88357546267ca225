//! The shape every module's citizen tests share (configs, INFO, COMMAND DOCS, MEMORY USAGE, CONFIG
//! REWRITE across a restart), so each module's test file lists only its own configs and fields.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::{Connection, Value};

use crate::*;

pub fn info_u64(c: &mut Connection, module: &str, field: &str) -> u64 {
    let v = info_field(c, module, &format!("{module}_{field}"))
        .unwrap_or_else(|| panic!("INFO {module} has no {module}_{field}"));
    v.parse().unwrap()
}

/// Every config of `module`: the default, a valid other value (also effective after CONFIG SET), and
/// bad values refused with nothing changed.
pub fn check_configs(module: &str, configs: &[(&str, &str, &str, &[&str])]) {
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
pub fn check_docs(module: &str, expected: usize) {
    check_docs_with(module, expected, &[]);
}

/// [`check_docs`], where the commands named in `no_args` (lower case) must document no argument.
pub fn check_docs_with(module: &str, expected: usize, no_args: &[&str]) {
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
        let args = match field("arguments") {
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        };
        if no_args.contains(&name.to_lowercase().as_str()) {
            assert_eq!(args, 0, "{name}: arguments in {text}");
        } else {
            assert!(args > 0, "{name}: no arguments in {text}");
        }
    }
}

/// MEMORY USAGE of `key` against the used_memory that building it added: within 0.8x-1.25x. The key
/// is built on a connection of its own, closed before measuring (its query buffer would count).
pub fn check_mem_usage(server: &Server, key: &str, build: impl FnOnce(&mut Connection)) {
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
pub fn check_rewrite(module: &str, values: &[(&str, &str)]) {
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
