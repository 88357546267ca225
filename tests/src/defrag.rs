//! Active defragmentation (issue 15): the server binary the defrag tests run against, and the figures a
//! defrag run is judged by.
//!
//! Debian's `valkey-server` and `redis-server` link the system jemalloc, which lacks the defrag hint the
//! server needs (`CONFIG SET activedefrag yes` is refused). `make defrag-server` builds Redis 7.0 with
//! its bundled jemalloc into `target/redis-jemalloc/redis-server`, and `make test` passes its path in env
//! [`DEFRAG_SERVER_ENV`]. The server runs with `loglevel verbose`, so each finished defrag pass logs
//! `Active defrag done in <ms>ms, reallocated=<n>, frag=<pct>%, frag_bytes=<bytes>`, which
//! [`wait_defrag_settled`] reads.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use redis::Connection;

use crate::client::{cmd, err_text, info, show};
use crate::server::{workspace_root, Server, ServerBuilder};

/// Env var naming a server binary whose allocator supports active defragmentation.
pub const DEFRAG_SERVER_ENV: &str = "TAIR_DEFRAG_SERVER";

/// Where `make defrag-server` puts the binary, relative to the workspace root.
pub const DEFRAG_SERVER_DEFAULT: &str = "target/redis-jemalloc/redis-server";

/// The defrag-capable server binary: env [`DEFRAG_SERVER_ENV`] (which must name an existing file: a
/// set variable never means "skip"), else [`DEFRAG_SERVER_DEFAULT`] when `make defrag-server` has built
/// it, else `None`.
pub fn defrag_server() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(DEFRAG_SERVER_ENV) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{DEFRAG_SERVER_ENV}={} is not a file: run `make defrag-server`",
            path.display()
        );
        return Some(path);
    }
    let built = workspace_root().join(DEFRAG_SERVER_DEFAULT);
    built.is_file().then_some(built)
}

/// A builder for the defrag-capable server `binary` with the workspace modules `modules` loaded and
/// `loglevel verbose` (the pass summaries). Active defrag stays off until [`enable_active_defrag`].
pub fn defrag_builder(binary: &std::path::Path, modules: &[&str]) -> ServerBuilder {
    modules
        .iter()
        .fold(Server::builder(), |b, m| b.module(m))
        .binary(&binary.to_string_lossy())
        .config("loglevel", "verbose")
        .config("activedefrag", "no")
}

/// Allocator and defrag figures from `INFO memory` and `INFO stats`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefragStats {
    /// `allocator_active / allocator_allocated`: bytes in pages that hold live blocks per live byte.
    pub frag_ratio: f64,
    /// `allocator_active - allocator_allocated`.
    pub frag_bytes: u64,
    pub allocated: u64,
    pub used_memory: u64,
    /// Blocks the server moved (`active_defrag_hits`), and blocks it looked at and left.
    pub hits: u64,
    pub misses: u64,
    /// Keys of which at least one block moved (`active_defrag_key_hits`), and keys that moved nothing.
    pub key_hits: u64,
    pub key_misses: u64,
}

impl DefragStats {
    pub fn read(conn: &mut Connection) -> DefragStats {
        let mut all = info(conn, "memory");
        all.extend(info(conn, "stats"));
        let num = |f: &str| -> f64 {
            all.get(f)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("INFO has no numeric {f}"))
        };
        DefragStats {
            frag_ratio: num("allocator_frag_ratio"),
            frag_bytes: num("allocator_frag_bytes") as u64,
            allocated: num("allocator_allocated") as u64,
            used_memory: num("used_memory") as u64,
            hits: num("active_defrag_hits") as u64,
            misses: num("active_defrag_misses") as u64,
            key_hits: num("active_defrag_key_hits") as u64,
            key_misses: num("active_defrag_key_misses") as u64,
        }
    }

    /// One line for the test output.
    pub fn line(&self) -> String {
        format!(
            "allocator_frag_ratio {:.2} ({} frag bytes, {} allocated, used_memory {}), \
             active_defrag_hits {}, misses {}, key hits {}, key misses {}",
            self.frag_ratio,
            self.frag_bytes,
            self.allocated,
            self.used_memory,
            self.hits,
            self.misses,
            self.key_hits,
            self.key_misses
        )
    }
}

/// Settings that let defrag start on a dataset of tens of MB (the defaults wait for 100 MB of waste),
/// then `CONFIG SET activedefrag yes`. Panics with the server's reply if the server refuses: on the
/// defrag-capable build a refusal is a failure, never a reason to skip.
pub fn enable_active_defrag(conn: &mut Connection) {
    for (k, v) in [
        ("active-defrag-ignore-bytes", "1mb"),
        ("active-defrag-threshold-lower", "5"),
        ("active-defrag-cycle-min", "50"),
        ("active-defrag-cycle-max", "75"),
    ] {
        if let Err(e) = cmd(conn, &["CONFIG", "SET", k, v]) {
            panic!("CONFIG SET {k} {v}: {}", err_text(&e));
        }
    }
    match cmd(conn, &["CONFIG", "SET", "activedefrag", "yes"]) {
        Ok(redis::Value::Okay) => {}
        Ok(other) => panic!("CONFIG SET activedefrag yes: {}", show(&other)),
        Err(e) => panic!(
            "CONFIG SET activedefrag yes refused by the defrag server: {}",
            err_text(&e)
        ),
    }
}

/// One finished pass over the key space, from its log line.
#[derive(Clone, Debug, PartialEq)]
pub struct DefragPass {
    pub ms: u64,
    /// Blocks moved in this pass.
    pub reallocated: u64,
    /// Fragmentation in percent when the pass ended.
    pub frag_pct: u64,
    pub frag_bytes: u64,
}

/// The passes logged in `log`, in order.
pub fn defrag_passes(log: &str) -> Vec<DefragPass> {
    log.lines()
        .filter_map(|line| {
            let rest = line.split("Active defrag done in ").nth(1)?;
            let (ms, rest) = rest.split_once("ms, reallocated=")?;
            let (reallocated, rest) = rest.split_once(", frag=")?;
            let (pct, rest) = rest.split_once("%, frag_bytes=")?;
            Some(DefragPass {
                ms: ms.trim().parse().ok()?,
                reallocated: reallocated.trim().parse().ok()?,
                frag_pct: pct.trim().parse().ok()?,
                frag_bytes: rest.trim().parse().ok()?,
            })
        })
        .collect()
}

/// Wait until active defrag has stopped by itself, and return the passes it logged.
///
/// Stopped means: at least one full pass finished, and then either the server started no further pass
/// (`active_defrag_running` stayed 0 for 2.5 s, past its once-a-second check; fragmentation is under
/// the threshold) or a whole pass found nothing left to move (`reallocated=0`: what stays is
/// fragmentation the server cannot move). Panics with the passes so far after `timeout`.
pub fn wait_defrag_settled(
    server: &Server,
    conn: &mut Connection,
    timeout: Duration,
) -> Vec<DefragPass> {
    let deadline = Instant::now() + timeout;
    let mut idle_since: Option<Instant> = None;
    loop {
        let passes = defrag_passes(&server.log());
        let running = info(conn, "memory")
            .get("active_defrag_running")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("INFO memory has no active_defrag_running"));
        if passes.is_empty() || running != 0 {
            idle_since = None;
        } else if idle_since.is_none() {
            idle_since = Some(Instant::now());
        }
        let idle = idle_since.is_some_and(|t| t.elapsed() >= Duration::from_millis(2500));
        let nothing_left = passes.last().is_some_and(|p| p.reallocated == 0);
        if idle || nothing_left {
            return passes;
        }
        assert!(
            Instant::now() < deadline,
            "active defrag did not stop within {timeout:?} (running {running}); passes: {passes:?}\n{}",
            server.log_tail(10)
        );
        thread::sleep(Duration::from_millis(100));
    }
}
