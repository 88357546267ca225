//! Shared servers for tests that only need an empty database of their own: one `static` pool per test
//! file, started lazily, one database per test, spilling onto another server when the databases run out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use redis::Connection;

use crate::client::query;
use crate::server::Server;

const MAX_SERVERS: usize = 8;

pub struct DbPool {
    start: fn() -> Server,
    databases: usize,
    servers: [OnceLock<Server>; MAX_SERVERS],
    next: AtomicUsize,
}

impl DbPool {
    /// A pool of servers made by `start`, each with `databases` databases (its `databases` config).
    pub const fn new(start: fn() -> Server, databases: usize) -> Self {
        DbPool {
            start,
            databases,
            servers: [const { OnceLock::new() }; MAX_SERVERS],
            next: AtomicUsize::new(1),
        }
    }

    /// Server `i` of the pool (started on first use). Database 0 of server 0 is never handed out by
    /// [`DbPool::fresh_db`], so tests may use it directly with keys of their own.
    pub fn server(&self, i: usize) -> &Server {
        let slot = self
            .servers
            .get(i)
            .unwrap_or_else(|| panic!("a DbPool has at most {MAX_SERVERS} servers"));
        slot.get_or_init(self.start)
    }

    /// A connection on a database of its own, emptied (transcripts start from an empty database).
    pub fn fresh_db(&self) -> Connection {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let (server, db) = (n / self.databases, n % self.databases);
        let mut c = self.server(server).conn();
        query::<(), _>(&mut c, &["SELECT", &db.to_string()]);
        query::<(), _>(&mut c, &["FLUSHDB"]);
        c
    }
}
