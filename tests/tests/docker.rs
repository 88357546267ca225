//! The container suite: the `tair-modules` image (`make docker`) in real containers (`make test-docker`).
//!
//! 1. One container: every module answers through the published port; a value of every type survives
//!    `docker restart` (DUMP identical) and `docker kill -s KILL` (every write acknowledged more than two
//!    seconds before the kill is there after `docker start`).
//! 2. A primary and a replica on a private network: digests equal; the replica is cut off with `docker
//!    network disconnect` during writes, reconnected, resyncs partially, and the digests are equal again.
//! 3. `docker/compose.yml`: the primary is killed, the Sentinels promote the replica, a client that asks
//!    the Sentinels goes on writing, every write acknowledged by `WAIT 1` is on the new primary, and
//!    tairhash fields that come due after the failover are removed by it.
//! 4. `TAIR_COMPAT=yes` registers the Tair names, `VALKEY_PASSWORD` refuses unauthenticated clients while
//!    the healthcheck still reports healthy, `VALKEY_MAXMEMORY` sets maxmemory.
//!
//! Needs a Docker engine and the image (env `TAIR_IMAGE`, default `tair-modules:latest`); the modules in
//! the image are env `TAIR_DOCKER_MODULES` (default: all six), as `make test-docker` sets them.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tair_tests::container::{
    connect_local, docker_available, info_int, wait_in_sync, Compose, Container, Network,
};
use tair_tests::*;

const ALL_MODULES: [&str; 6] = [
    "tairstring",
    "tairhash",
    "tairzset",
    "tairdoc",
    "tairbloom",
    "tairgis",
];

/// The modules the image carries: env `TAIR_DOCKER_MODULES`, else all six.
fn modules() -> Vec<String> {
    match std::env::var("TAIR_DOCKER_MODULES") {
        Ok(list) if !list.trim().is_empty() => {
            list.split_whitespace().map(str::to_string).collect()
        }
        _ => ALL_MODULES.iter().map(|m| m.to_string()).collect(),
    }
}

fn has(module: &str) -> bool {
    modules().iter().any(|m| m == module)
}

fn require_docker() {
    assert!(
        docker_available(),
        "no Docker engine answers `docker info`: the container suite needs one (run `make test-docker`)"
    );
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Run a command that must succeed and render its reply with [`show`].
fn ok(c: &mut redis::Connection, args: &[&str]) -> String {
    match cmd(c, args) {
        Ok(v) => show(&v),
        Err(e) => panic!("{}: {}", args.join(" "), err_text(&e)),
    }
}

/// `MODULE LIST` as module name -> its load arguments joined by spaces.
fn module_list(c: &mut redis::Connection) -> HashMap<String, String> {
    let list = cmd(c, &["MODULE", "LIST"]).unwrap();
    let Value::Array(mods) = &list else {
        panic!("MODULE LIST: {}", show(&list));
    };
    mods.iter()
        .map(|m| {
            let Value::Array(fields) = m else {
                panic!("MODULE LIST entry: {}", show(m));
            };
            let field = |name: &str| {
                fields
                    .chunks(2)
                    .find(|p| value_text(&p[0]).as_deref() == Some(name))
                    .map(|p| p[1].clone())
            };
            let name = field("name")
                .as_ref()
                .and_then(value_text)
                .unwrap_or_default();
            let args = match field("args") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(value_text)
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
            (name, args)
        })
        .collect()
}

/// One value per module: a write, a read and what both reply, and the type name.
struct TypedValue {
    module: &'static str,
    key: &'static str,
    write: &'static [&'static str],
    write_reply: &'static str,
    read: &'static [&'static str],
    read_reply: &'static str,
    type_name: &'static str,
}

const MODULE_VALUES: &[TypedValue] = &[
    TypedValue {
        module: "tairstring",
        key: "t:exstr",
        write: &["EXSET", "t:exstr", "v1", "FLAGS", "7"],
        write_reply: "OK",
        read: &["EXGET", "t:exstr", "WITHFLAGS"],
        read_reply: r#"["v1", 1, 7]"#,
        type_name: "exstrtype",
    },
    TypedValue {
        module: "tairhash",
        key: "t:exhash",
        write: &["EXHSET", "t:exhash", "f", "v", "EX", "100000"],
        write_reply: "1",
        read: &["EXHGET", "t:exhash", "f"],
        read_reply: r#""v""#,
        type_name: "tairhash-",
    },
    TypedValue {
        module: "tairzset",
        key: "t:exzset",
        write: &["EXZADD", "t:exzset", "1#2", "m"],
        write_reply: "1",
        read: &["EXZSCORE", "t:exzset", "m"],
        read_reply: r#""1#2""#,
        type_name: "tairzset_",
    },
    TypedValue {
        module: "tairdoc",
        key: "t:doc",
        write: &["EXJSONSET", "t:doc", "$", r#"{"a":[1,2],"b":"x"}"#],
        write_reply: "OK",
        read: &["EXJSONGET", "t:doc", "$.b"],
        read_reply: r#""[\"x\"]""#,
        type_name: "tair-json",
    },
    TypedValue {
        module: "tairbloom",
        key: "t:bloom",
        write: &["TFBFADD", "t:bloom", "item"],
        write_reply: "1",
        read: &["TFBFEXISTS", "t:bloom", "item"],
        read_reply: "1",
        type_name: "tairbloom",
    },
    TypedValue {
        module: "tairgis",
        key: "t:gis",
        write: &["GIS.ADD", "t:gis", "p", "POINT (13.5 38.25)"],
        write_reply: "1",
        read: &["GIS.GET", "t:gis", "p"],
        read_reply: r#""POINT(13.5 38.25)""#,
        type_name: "exgistype",
    },
];

/// Write a value of every native type and of every module's type; returns the keys. Checks each
/// module's write and read replies and `TYPE`.
fn write_every_type(c: &mut redis::Connection) -> Vec<String> {
    let native: &[(&str, &[&str])] = &[
        ("n:string", &["SET", "n:string", "hello"]),
        ("n:list", &["RPUSH", "n:list", "a", "b", "c"]),
        ("n:hash", &["HSET", "n:hash", "f1", "v1", "f2", "v2"]),
        ("n:set", &["SADD", "n:set", "x", "y"]),
        ("n:zset", &["ZADD", "n:zset", "1", "a", "2.5", "b"]),
        ("n:stream", &["XADD", "n:stream", "1-1", "f", "v"]),
    ];
    let mut keys = Vec::new();
    for (key, args) in native {
        ok(c, args);
        keys.push(key.to_string());
    }
    for v in MODULE_VALUES.iter().filter(|v| has(v.module)) {
        assert_eq!(ok(c, v.write), v.write_reply, "{}: {:?}", v.module, v.write);
        assert_eq!(ok(c, v.read), v.read_reply, "{}: {:?}", v.module, v.read);
        assert_eq!(ok(c, &["TYPE", v.key]), v.type_name, "{}: TYPE", v.module);
        keys.push(v.key.to_string());
    }
    keys
}

fn dumps(c: &mut redis::Connection, keys: &[String]) -> HashMap<String, Vec<u8>> {
    keys.iter()
        .map(|k| {
            let v: Option<Vec<u8>> = query(c, &["DUMP", k.as_str()]);
            (
                k.clone(),
                v.unwrap_or_else(|| panic!("DUMP {k}: key is missing")),
            )
        })
        .collect()
}

/// The `i`-th write of a stream of writes over every type the image has, and how to check it:
/// `(write, read, expected read reply)`.
fn indexed_write(i: u64) -> (Vec<String>, Vec<String>, String) {
    let kinds: Vec<&str> = ["native"]
        .into_iter()
        .chain(
            [
                "tairstring",
                "tairhash",
                "tairzset",
                "tairbloom",
                "tairdoc",
                "tairgis",
            ]
            .into_iter()
            .filter(|m| has(m)),
        )
        .collect();
    let kind = kinds[(i as usize) % kinds.len()];
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let n = i.to_string();
    match kind {
        "tairstring" => {
            let key = format!("w:ex:{i}");
            (
                s(&["EXSET", &key, &n]),
                s(&["EXGET", &key]),
                format!(r#"["{i}", 1]"#),
            )
        }
        "tairhash" => {
            let field = format!("f:{i}");
            (
                s(&["EXHSET", "w:exhash", &field, &n]),
                s(&["EXHGET", "w:exhash", &field]),
                format!(r#""{i}""#),
            )
        }
        "tairzset" => {
            let member = format!("m:{i}");
            let score = format!("{i}#1");
            (
                s(&["EXZADD", "w:exzset", &score, &member]),
                s(&["EXZSCORE", "w:exzset", &member]),
                format!(r#""{i}#1""#),
            )
        }
        "tairbloom" => {
            let item = format!("item:{i}");
            (
                s(&["TFBFADD", "w:bloom", &item]),
                s(&["TFBFEXISTS", "w:bloom", &item]),
                "1".to_string(),
            )
        }
        "tairdoc" => {
            let key = format!("w:doc:{i}");
            let doc = format!(r#"{{"i":{i}}}"#);
            (
                s(&["EXJSONSET", &key, "$", &doc]),
                s(&["EXJSONGET", &key, "$.i"]),
                format!(r#""[{i}]""#),
            )
        }
        "tairgis" => {
            let name = format!("p:{i}");
            let wkt = format!("POINT({} 1)", i % 180);
            (
                s(&["GIS.ADD", "w:gis", &name, &wkt]),
                s(&["GIS.GET", "w:gis", &name]),
                format!(r#""{wkt}""#),
            )
        }
        _ => {
            let key = format!("w:s:{i}");
            (
                s(&["SET", &key, &n]),
                s(&["GET", &key]),
                format!(r#""{i}""#),
            )
        }
    }
}

/// Scenario 1: one container with the production configuration.
#[test]
fn one_container_modules_restart_and_kill() {
    require_docker();
    // An extra argument passes through the entrypoint to valkey-server.
    let c = Container::builder().args(&["--hz", "25"]).start();
    let mut conn = c.conn();

    // Every module is loaded, through the published port on 127.0.0.1.
    let mut loaded: Vec<String> = module_list(&mut conn).into_keys().collect();
    loaded.sort();
    let mut expected = modules();
    expected.sort();
    assert_eq!(loaded, expected, "modules loaded in the image");

    // Production defaults and the unprivileged user.
    for (name, want) in [
        ("dir", "/data"),
        ("appendonly", "yes"),
        ("appendfsync", "everysec"),
        ("save", "3600 1 300 100 60 10000"),
        ("maxmemory-policy", "volatile-lru"),
        ("logfile", ""),
        ("hz", "25"),
    ] {
        assert_eq!(config_get(&mut conn, name), want, "CONFIG GET {name}");
    }
    let status = c.exec(&["cat", "/proc/1/status"]);
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid_line.split_whitespace().skip(1).all(|u| u == "999"),
        "valkey-server runs as uid 999: {uid_line}"
    );
    assert!(
        c.exec(&["cat", "/proc/1/cmdline"])
            .starts_with("valkey-server"),
        "PID 1 is valkey-server"
    );
    // Without TAIR_COMPAT the Tair names are not registered.
    if has("tairbloom") {
        let e = cmd_err(&mut conn, &["BF.ADD", "x", "y"]);
        assert!(e.starts_with("ERR unknown command"), "{e}");
    }

    // A value of every type survives `docker restart`, byte for byte.
    let keys = write_every_type(&mut conn);
    let before = dumps(&mut conn, &keys);
    drop(conn);
    c.restart();
    let mut conn = c.conn();
    let after = dumps(&mut conn, &keys);
    for k in &keys {
        assert_eq!(before[k], after[k], "DUMP {k} after docker restart");
    }

    // Writes acknowledged more than 2 s before a SIGKILL survive it (appendfsync everysec).
    let start = Instant::now();
    let mut acked: Vec<(u64, Instant)> = Vec::new();
    let mut i = 0u64;
    while start.elapsed() < Duration::from_secs(4) {
        let (write, _, _) = indexed_write(i);
        cmd(&mut conn, &write).unwrap_or_else(|e| panic!("{write:?}: {}", err_text(&e)));
        acked.push((i, Instant::now()));
        i += 1;
    }
    let kill_at = Instant::now();
    c.kill("KILL");
    let state = c.inspect("{{.State.Status}} {{.State.ExitCode}}");
    assert_eq!(state, "exited 137", "after docker kill -s KILL");
    c.start_again();
    let mut conn = c.conn();
    let cutoff = kill_at - Duration::from_secs(2);
    let required: Vec<u64> = acked
        .iter()
        .filter(|(_, at)| *at < cutoff)
        .map(|(i, _)| *i)
        .collect();
    assert!(
        required.len() > 100,
        "only {} writes in the first 2 s: too few to tell",
        required.len()
    );
    let mut lost = Vec::new();
    for &i in &required {
        let (_, read, want) = indexed_write(i);
        let got = show(&cmd(&mut conn, &read).unwrap());
        if got != want {
            lost.push(format!("{read:?}: {got}, want {want}"));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} writes acknowledged > 2 s before the kill are lost, e.g. {:?}",
        lost.len(),
        required.len(),
        &lost[..lost.len().min(5)]
    );
    let survived_all = (0..i).all(|i| {
        let (_, read, want) = indexed_write(i);
        show(&cmd(&mut conn, &read).unwrap()) == want
    });
    eprintln!(
        "kill -s KILL: {} writes, {} acknowledged > 2 s before the kill, all present; all {i} present: {survived_all}",
        acked.len(),
        required.len()
    );
    // The values written before the restart are still there too.
    let again = dumps(&mut conn, &keys);
    for k in &keys {
        assert_eq!(before[k], again[k], "DUMP {k} after docker kill and start");
    }
}

/// Scenario 2: a primary and a replica on a private Docker network; the replica is cut off and comes
/// back with a partial resync.
#[test]
fn replica_cut_off_from_the_network_resyncs_partially() {
    require_docker();
    let net = Network::new();
    // DEBUG DIGEST needs the debug command; short timeouts so both sides notice the cut quickly.
    let args = [
        "--enable-debug-command",
        "yes",
        "--repl-timeout",
        "3",
        "--repl-ping-replica-period",
        "1",
        "--repl-diskless-sync-delay",
        "0",
    ];
    let primary = Container::builder()
        .network(&net, "primary")
        .args(&args)
        .start();
    let replica = Container::builder()
        .network(&net, "replica")
        .env("VALKEY_REPLICAOF", "primary 6379")
        .args(&args)
        .start();
    let mut p = primary.conn();
    write_every_type(&mut p);
    wait_in_sync(&primary, &replica, BACKGROUND_TIMEOUT);
    let d = digest(&mut p);
    assert_ne!(d, "0".repeat(40));
    assert_eq!(
        digest(&mut replica.conn()),
        d,
        "replica digest after the first sync"
    );
    assert_eq!(
        info_field(&mut replica.conn(), "replication", "role").as_deref(),
        Some("slave")
    );
    let partial_before = info_int(&mut p, "stats", "sync_partial_ok");
    let full_before = info_int(&mut p, "stats", "sync_full");

    // A writer on the primary for the whole cut.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, written) = (stop.clone(), written.clone());
        let mut c = primary.conn();
        thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (write, _, _) = indexed_write(i);
                cmd(&mut c, &write).unwrap_or_else(|e| panic!("{write:?}: {}", err_text(&e)));
                i += 1;
                written.store(i, Ordering::Relaxed);
                // Pace the writer (about 2,000 writes/s), so the backlog is not the limit being tested.
                thread::sleep(Duration::from_micros(500));
            }
            i
        })
    };
    let wait_writes = |n: u64, what: &str| {
        let target = written.load(Ordering::Relaxed) + n;
        wait_until(BACKGROUND_TIMEOUT, what, || {
            written.load(Ordering::Relaxed) >= target
        });
    };
    wait_writes(200, "writes before the cut");
    replica.disconnect(&net);
    // Both sides notice: the primary drops the replica, the replica's link goes down.
    wait_until(
        BACKGROUND_TIMEOUT,
        "primary drops the cut-off replica",
        || info_int(&mut p, "replication", "connected_slaves") == 0,
    );
    wait_until(BACKGROUND_TIMEOUT, "replica notices the cut", || {
        replica
            .info_exec("replication")
            .get("master_link_status")
            .map(String::as_str)
            == Some("down")
    });
    wait_writes(500, "writes while the replica is cut off");
    replica.reconnect(&net, "replica");
    wait_writes(200, "writes after reconnecting");
    stop.store(true, Ordering::Relaxed);
    let total = writer.join().unwrap();

    wait_in_sync(&primary, &replica, BACKGROUND_TIMEOUT);
    let partial_after = info_int(&mut p, "stats", "sync_partial_ok");
    let full_after = info_int(&mut p, "stats", "sync_full");
    assert!(
        partial_after > partial_before,
        "sync_partial_ok {partial_before} -> {partial_after}\n{}",
        replica.logs_tail(20)
    );
    assert_eq!(full_after, full_before, "no full resync after the cut");
    assert_eq!(
        digest(&mut replica.conn()),
        digest(&mut p),
        "digests after the partial resync ({total} writes)"
    );
}

/// `[k1, v1, k2, v2, ...]` as a map.
fn kv(v: &Value) -> HashMap<String, String> {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .filter_map(|p| Some((value_text(p.first()?)?, value_text(p.get(1)?)?)))
            .collect(),
        Value::Map(pairs) => pairs
            .iter()
            .filter_map(|(k, v)| Some((value_text(k)?, value_text(v)?)))
            .collect(),
        _ => HashMap::new(),
    }
}

fn list_of_kv(v: &Value) -> Vec<HashMap<String, String>> {
    match v {
        Value::Array(items) => items.iter().map(kv).collect(),
        _ => Vec::new(),
    }
}

/// A client that finds the primary by asking the Sentinels, as Sentinel-aware clients do, and checks
/// `ROLE` before trusting the answer. It connects only to ports published on 127.0.0.1.
struct SentinelClient<'a> {
    compose: &'a Compose,
    sentinels: Vec<u16>,
    servers: HashMap<String, Container>,
    password: String,
    current: Option<(String, redis::Connection)>,
}

impl SentinelClient<'_> {
    fn ask_primary(&self) -> Option<String> {
        for &port in &self.sentinels {
            let Ok(mut s) = connect_local(port, None) else {
                continue;
            };
            if let Ok(Value::Array(addr)) =
                cmd(&mut s, &["SENTINEL", "get-master-addr-by-name", "mymaster"])
            {
                if let Some(host) = addr.first().and_then(value_text) {
                    return self
                        .compose
                        .service_named_or_at(&host, &["primary", "replica"]);
                }
            }
        }
        None
    }

    /// The current primary's service and a connection to it, if the Sentinels name one that answers
    /// `ROLE` with master.
    fn connect(&mut self) -> bool {
        let Some(service) = self.ask_primary() else {
            return false;
        };
        let Some(container) = self.servers.get(&service) else {
            return false;
        };
        if container.refresh_port() == 0 {
            return false; // the named primary's container is gone (not failed over yet)
        }
        let Ok(mut c) = container.connect_as(Some(&self.password)) else {
            return false;
        };
        match cmd(&mut c, &["ROLE"]) {
            Ok(Value::Array(role))
                if role.first().and_then(value_text).as_deref() == Some("master") =>
            {
                self.current = Some((service, c));
                true
            }
            _ => false,
        }
    }

    /// Run `args` on the primary, finding it again (and retrying) after any error, until `timeout`.
    fn write(&mut self, args: &[&str], timeout: Duration) -> (String, Value) {
        let mut last = String::new();
        let mut result = None;
        let ok = poll_until(timeout, || {
            if self.current.is_none() && !self.connect() {
                last = "no primary".into();
                return false;
            }
            let Some((service, c)) = self.current.as_mut() else {
                return false;
            };
            match cmd(c, args) {
                Ok(v) => {
                    result = Some((service.clone(), v));
                    true
                }
                Err(e) => {
                    last = err_text(&e);
                    self.current = None;
                    false
                }
            }
        });
        assert!(ok, "{args:?}: no primary took it in {timeout:?}: {last}");
        result.unwrap()
    }
}

/// Scenario 3: the compose file's HA pair with three Sentinels fails over when the primary is killed.
#[test]
fn sentinels_promote_the_replica_and_it_expires_fields() {
    require_docker();
    let password = format!("pw-{}", std::process::id());
    let compose = Compose::up(
        "docker/compose.yml",
        &[
            ("TAIR_PRIMARY_PORT", ""),
            ("TAIR_REPLICA_PORT", ""),
            ("TAIR_SENTINEL1_PORT", ""),
            ("TAIR_SENTINEL2_PORT", ""),
            ("TAIR_SENTINEL3_PORT", ""),
            ("TAIR_SENTINEL_DOWN_AFTER_MS", "1000"),
            ("TAIR_SENTINEL_FAILOVER_TIMEOUT_MS", "10000"),
            ("VALKEY_PASSWORD", &password),
        ],
    );
    let primary = compose.service("primary", 6379, Some(&password));
    let replica = compose.service("replica", 6379, Some(&password));
    primary.wait_ready();
    replica.wait_ready();
    let sentinels: Vec<Container> = ["sentinel1", "sentinel2", "sentinel3"]
        .iter()
        .map(|s| compose.service(s, 26379, None))
        .collect();
    for s in &sentinels {
        s.wait_ready();
    }
    // Every Sentinel knows the replica (link ok) and the two other Sentinels before the kill.
    for s in &sentinels {
        wait_until(
            Duration::from_secs(60),
            &format!("{} sees the replica and 2 other Sentinels", s.name()),
            || {
                let mut c = s.conn();
                let replicas = cmd(&mut c, &["SENTINEL", "replicas", "mymaster"])
                    .map(|v| list_of_kv(&v))
                    .unwrap_or_default();
                let others = cmd(&mut c, &["SENTINEL", "sentinels", "mymaster"])
                    .map(|v| list_of_kv(&v))
                    .unwrap_or_default();
                replicas.len() == 1
                    && replicas[0].get("master-link-status").map(String::as_str) == Some("ok")
                    && !replicas[0]["flags"].contains("down")
                    && others.len() == 2
            },
        );
    }
    let mut client = SentinelClient {
        compose: &compose,
        sentinels: sentinels.iter().map(Container::port).collect(),
        servers: [
            ("primary".to_string(), primary),
            ("replica".to_string(), replica),
        ]
        .into_iter()
        .collect(),
        password: password.clone(),
        current: None,
    };
    let timeout = Duration::from_secs(60);
    let (first, _) = client.write(&["PING"], timeout);
    assert_eq!(first, "primary");

    // tairhash fields that come due 4 to 15 s from now, acknowledged by the replica.
    let base = now_ms();
    let dues: Vec<u64> = (0..12).map(|k| base + 4_000 + k * 1_000).collect();
    if has("tairhash") {
        for (k, due) in dues.iter().enumerate() {
            let (_, v) = client.write(
                &[
                    "EXHSET",
                    "ttl:h",
                    &format!("f{k}"),
                    "v",
                    "PXAT",
                    &due.to_string(),
                ],
                timeout,
            );
            assert_eq!(show(&v), "1");
        }
        let (_, n) = client.write(&["WAIT", "1", "5000"], timeout);
        assert_eq!(show(&n), "1", "WAIT 1 for the expiring fields");
    }

    // Writes acknowledged with WAIT 1, then the kill.
    let mut acked = Vec::new();
    for i in 0..300u64 {
        let (write, read, want) = indexed_write(i);
        let args: Vec<&str> = write.iter().map(String::as_str).collect();
        client.write(&args, timeout);
        let (service, n) = client.write(&["WAIT", "1", "2000"], timeout);
        assert_eq!(service, "primary");
        if show(&n) == "1" {
            acked.push((read, want));
        }
    }
    assert!(
        acked.len() > 250,
        "only {} of 300 writes reached the replica",
        acked.len()
    );
    let kill = Instant::now();
    client.servers["primary"].kill("KILL");

    // The client goes on writing; its writes land on the promoted replica.
    let mut after = Vec::new();
    let mut failover_ms = 0;
    for i in 300..400u64 {
        let (write, read, want) = indexed_write(i);
        let args: Vec<&str> = write.iter().map(String::as_str).collect();
        let (service, _) = client.write(&args, timeout);
        assert_eq!(
            service, "replica",
            "write {i} after the kill went to the promoted replica"
        );
        if failover_ms == 0 {
            failover_ms = now_ms();
            eprintln!(
                "failover: first write on the new primary {:?} after the kill",
                kill.elapsed()
            );
        }
        after.push((read, want));
    }
    let mut newp = client.servers["replica"].conn();
    assert_eq!(
        info_field(&mut newp, "replication", "role").as_deref(),
        Some("master")
    );
    let mut missing = Vec::new();
    for (read, want) in acked.iter().chain(after.iter()) {
        let got = show(&cmd(&mut newp, read).unwrap());
        if &got != want {
            missing.push(format!("{read:?}: {got}, want {want}"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged writes are not on the new primary, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );

    if has("tairhash") {
        // The fields due after the failover are still stored then, and the new primary removes them
        // by itself (EXHLEN counts stored fields and never removes one, so only active expiry can).
        let later = dues.iter().filter(|d| **d > failover_ms + 500).count() as i64;
        assert!(
            later >= 3,
            "the failover took until {} ms after the first due time: too late to tell",
            failover_ms.saturating_sub(dues[0])
        );
        let stored: i64 = query(&mut newp, &["EXHLEN", "ttl:h"]);
        assert!(
            stored >= later,
            "EXHLEN {stored} right after the failover, {later} fields not due yet"
        );
        let last_due = *dues.last().unwrap();
        let deadline =
            Duration::from_millis(last_due.saturating_sub(now_ms())) + BACKGROUND_TIMEOUT;
        wait_until(
            deadline,
            "the new primary removes the expired fields",
            || query::<i64, _>(&mut newp, &["EXHLEN", "ttl:h"]) == 0,
        );
        assert!(
            now_ms() >= last_due,
            "fields were removed before they came due"
        );
    }
}

/// Scenario 4: environment variables: TAIR_COMPAT, VALKEY_PASSWORD (and the healthcheck), VALKEY_MAXMEMORY.
#[test]
fn environment_compat_password_and_health() {
    require_docker();
    let password = "s3cr\"t \\pass";
    let c = Container::builder()
        .env("TAIR_COMPAT", "yes")
        .env("VALKEY_MAXMEMORY", "64mb")
        .password(password)
        .start();

    // Unauthenticated and wrongly authenticated clients are refused.
    let mut anon = c.connect_as(None).unwrap();
    let e = cmd_err(&mut anon, &["PING"]);
    assert!(e.starts_with("NOAUTH"), "{e}");
    let e = cmd_err(&mut anon, &["SET", "k", "v"]);
    assert!(e.starts_with("NOAUTH"), "{e}");
    assert!(
        c.connect_as(Some("wrong")).is_err(),
        "a wrong password is refused"
    );

    let mut conn = c.conn();
    assert_eq!(ok(&mut conn, &["PING"]), "PONG");
    assert_eq!(config_get(&mut conn, "maxmemory"), "67108864");

    // TAIR_COMPAT=yes: the Tair names answer beside the canonical ones.
    if has("tairbloom") {
        assert_eq!(ok(&mut conn, &["BF.ADD", "bf", "a"]), "1");
        assert_eq!(ok(&mut conn, &["BF.EXISTS", "bf", "a"]), "1");
        assert_eq!(ok(&mut conn, &["TFBFEXISTS", "bf", "a"]), "1");
    }
    if has("tairdoc") {
        assert_eq!(ok(&mut conn, &["JSON.SET", "doc", "$", r#"{"a":1}"#]), "OK");
        assert_eq!(ok(&mut conn, &["JSON.GET", "doc", "$.a"]), r#""[1]""#);
        assert_eq!(ok(&mut conn, &["EXJSONGET", "doc", "$.a"]), r#""[1]""#);
    }
    let loaded = module_list(&mut conn);
    for m in ["tairbloom", "tairdoc"].iter().filter(|m| has(m)) {
        assert_eq!(
            loaded.get(*m).map(String::as_str),
            Some("tair-compat yes"),
            "{m}'s load arguments"
        );
    }

    // The healthcheck authenticates and reports healthy.
    let mut last = String::new();
    let healthy = poll_until(Duration::from_secs(60), || {
        last = c.health();
        last == "healthy"
    });
    assert!(
        healthy,
        "health {last:?}: {}",
        c.inspect("{{json .State.Health}}")
    );
}
