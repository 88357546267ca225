//! Helpers for fault tests (issue 15): a server with all six modules, big values of every type, a PING
//! latency probe on its own connection, and the forked children of a server process.

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use redis::Connection;

use crate::client::{cmd, err_text, show};
use crate::server::{Server, ServerBuilder};

/// The six workspace modules, in load order.
pub const ALL_MODULES: [&str; 6] = [
    "tairstring",
    "tairhash",
    "tairzset",
    "tairbloom",
    "tairdoc",
    "tairgis",
];

/// A builder loading all six modules (no load arguments).
pub fn all_modules() -> ServerBuilder {
    ALL_MODULES
        .iter()
        .fold(Server::builder(), |b, m| b.module(m))
}

/// Send `cmds` as one pipeline; panics on the first error reply (with the command).
pub fn pipeline(conn: &mut Connection, cmds: &[Vec<String>]) {
    let mut p = redis::pipe();
    for c in cmds {
        let mut one = redis::cmd(c.first().map(String::as_str).unwrap_or("PING"));
        for a in c.iter().skip(1) {
            one.arg(a.as_bytes());
        }
        p.add_command(one);
    }
    let replies: Vec<redis::Value> = p
        .query(conn)
        .unwrap_or_else(|e| panic!("pipeline of {} commands: {}", cmds.len(), err_text(&e)));
    for (c, r) in cmds.iter().zip(&replies) {
        if let redis::Value::ServerError(_) = r {
            panic!("{:?}: {}", c.iter().take(3).collect::<Vec<_>>(), show(r));
        }
    }
}

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Commands that build one big value of module type `module` (a name of [`ALL_MODULES`]) under `key`,
/// with about `n` elements (hash fields, zset members, bloom items, JSON array elements, GIS points; for
/// tairstring one value of `n` * 16 bytes). Batched, so a pipeline of them is cheap.
pub fn big_value_commands(module: &str, key: &str, n: usize) -> Vec<Vec<String>> {
    const BATCH: usize = 500;
    let mut out = Vec::new();
    match module {
        "tairstring" => out.push(words(&["EXSET", key, &"s".repeat(n * 16)])),
        "tairhash" => {
            for start in (0..n).step_by(BATCH) {
                let mut c = words(&["EXHMSET", key]);
                for i in start..(start + BATCH).min(n) {
                    c.push(format!("field:{i}"));
                    c.push(format!("value:{i}"));
                }
                out.push(c);
            }
        }
        "tairzset" => {
            for start in (0..n).step_by(BATCH) {
                let mut c = words(&["EXZADD", key]);
                for i in start..(start + BATCH).min(n) {
                    c.push(format!("{}#{}", i % 1000, i));
                    c.push(format!("member:{i}"));
                }
                out.push(c);
            }
        }
        "tairbloom" => {
            out.push(words(&["TFBFRESERVE", key, "0.01", &n.to_string()]));
            for start in (0..n).step_by(BATCH) {
                let mut c = words(&["TFBFMADD", key]);
                for i in start..(start + BATCH).min(n) {
                    c.push(format!("item:{i}"));
                }
                out.push(c);
            }
        }
        "tairdoc" => {
            let mut doc = String::from("{\"items\":[");
            for i in 0..n {
                if i > 0 {
                    doc.push(',');
                }
                doc.push_str(&format!("{{\"id\":{i},\"name\":\"n{i}\"}}"));
            }
            doc.push_str("]}");
            out.push(words(&["EXJSONSET", key, "$", &doc]));
        }
        "tairgis" => {
            for start in (0..n).step_by(BATCH) {
                let mut c = words(&["GIS.ADD", key]);
                for i in start..(start + BATCH).min(n) {
                    c.push(format!("m{i}"));
                    c.push(format!(
                        "POINT ({} {})",
                        (i % 3600) as f64 / 10.0 - 180.0,
                        (i / 3600 % 1700) as f64 / 10.0 - 85.0
                    ));
                }
                out.push(c);
            }
        }
        other => panic!("unknown module {other}"),
    }
    out
}

/// Build a big value (see [`big_value_commands`]) in pipelines of 20 commands.
pub fn build_big_value(conn: &mut Connection, module: &str, key: &str, n: usize) {
    for chunk in big_value_commands(module, key, n).chunks(20) {
        pipeline(conn, chunk);
    }
}

/// A thread sending PING on its own connection in a loop, recording the slowest round trip.
pub struct PingProbe {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<(u64, Duration)>>,
}

impl PingProbe {
    /// Start pinging `server` now (the connection is opened before this returns).
    pub fn start(server: &Server) -> PingProbe {
        let mut c = server.conn();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let (mut count, mut worst) = (0u64, Duration::ZERO);
            while !flag.load(Ordering::Relaxed) {
                let t = Instant::now();
                if let Err(e) = cmd(&mut c, &["PING"]) {
                    panic!("PING failed: {}", err_text(&e));
                }
                worst = worst.max(t.elapsed());
                count += 1;
            }
            (count, worst)
        });
        PingProbe {
            stop,
            handle: Some(handle),
        }
    }

    /// Stop and return (PINGs answered, slowest round trip).
    pub fn finish(mut self) -> (u64, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => panic!("the PING probe thread panicked"),
            None => (0, Duration::ZERO),
        }
    }
}

impl Drop for PingProbe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Process ids of the direct children of process `pid` (e.g. a server's RDB fork), from
/// `/proc/<pid>/task/*/children`.
pub fn child_pids(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.filter_map(Result::ok) {
        let text = fs::read_to_string(t.path().join("children")).unwrap_or_default();
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}
