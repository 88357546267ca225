//! Integration-test harness for the tair modules: real `valkey-server` processes with the built modules.
//!
//! ```ignore
//! use tair_tests::*;
//!
//! let server = Server::builder()
//!     .module("tairstring")
//!     .module_args("tairhash", &["tair-compat", "yes"])
//!     .config("rdbcompression", "no")
//!     .start();
//! let mut c = server.conn();
//! let reply = cmd(&mut c, &["EXSET", "k", "v"]).unwrap();
//! assert_eq!(show(&reply), "OK");
//! assert_eq!(cmd_err(&mut c, &["EXSET", "k"]), "ERR wrong number of arguments for 'exset' command");
//! ```
//!
//! - [`Server`]: start (builder), connections (RESP2/RESP3), restart on the same dir, `DEBUG RELOAD`,
//!   AOF rewrite + restart, replicas, digests; killed and cleaned up on drop.
//! - [`defrag`]: the defrag-capable server (env `TAIR_DEFRAG_SERVER`, `make defrag-server`), allocator
//!   fragmentation figures, and waiting until active defrag stops by itself.
//! - [`dump`]: parse and forge `DUMP` payloads (valid CRC, truncated, patched, other encoding version,
//!   inflated lengths) for `RESTORE` tests.
//! - Client helpers: [`cmd`] (binary-safe, raw reply), [`query`], [`cmd_err`] / [`err_text`] (exact error
//!   line), [`show`] (compact reply rendering), [`info_field`], [`used_memory`], [`digest_value`],
//!   [`poll_until`] / [`wait_until`], [`Events`] (keyspace notifications).
//!
//! Servers are cheap (tens of milliseconds to start): give a test its own server when it restarts,
//! reloads, flushes or changes configuration. Tests run in parallel threads, so tests sharing one
//! server (e.g. through a `static OnceLock<Server>`) must use distinct keys and never `FLUSHALL`.
//!
//! Lints: `make lint` warns on `unwrap`, `panic!` and indexing workspace-wide (flags on the command line,
//! which a `[lints]` table cannot override). In test code a panic with context is the right way to fail,
//! so the harness and every `tests/tests/*.rs` file start with
//! `#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]`.
//!
//! Modules are found in `target/release` (else `target/debug`; env `TAIR_MODULE_DIR` overrides). The
//! harness never builds anything: run `make build` first. The server binary is env `VALKEY_SERVER`, else
//! `valkey-server` on `PATH`.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

pub mod aof;
pub mod citizen;
pub mod client;
pub mod clock_shift;
pub mod cluster;
pub mod container;
pub mod defrag;
pub mod dump;
pub mod faults;
pub mod pool;
pub mod server;
pub mod transcript;

pub use aof::{aof_text, parse_resp_commands};
pub use client::{
    cmd, cmd_err, config_get, digest, digest_value, err_text, escape_bytes, info, info_field,
    poll_until, query, server_error_text, show, used_memory, value_text, wait_until, Events,
};
pub use clock_shift::ClockShift;
pub use dump::Dump;
pub use pool::DbPool;
pub use redis;
pub use redis::Value;
pub use server::{
    module_path, wait_replicated, workspace_root, Server, ServerBuilder, BACKGROUND_TIMEOUT,
    IO_TIMEOUT, STARTUP_TIMEOUT,
};
