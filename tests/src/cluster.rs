//! A Valkey Cluster of real `valkey-server` processes on loopback ports, and a small cluster-aware
//! client that follows `MOVED` and `ASK` the way cluster clients do.
//!
//! ```ignore
//! let cluster = Cluster::start(3, 1, &["tairstring", "tairhash"]);
//! let mut c = cluster.client();
//! c.cmd(&["EXSET", "k", "v"]).unwrap();
//! ```
//!
//! Nodes get `cluster-enabled yes`, their own `nodes.conf`, a cluster bus port picked free (the default
//! port + 10000 may be out of range for ephemeral ports) and a short node timeout, so a failover takes a
//! few seconds. The cluster is made by `valkey-cli --cluster create`, and is ready when every node says
//! `cluster_state:ok`, knows every other node, and every replica's link to its primary is up.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use redis::{Connection, RedisResult, Value};

use crate::client::{cmd, err_text, info_field, poll_until, show, value_text};
use crate::server::{Server, BACKGROUND_TIMEOUT};

/// How long a node waits before it considers another one failed (`cluster-node-timeout`).
pub const NODE_TIMEOUT_MS: u64 = 2000;

/// Number of hash slots.
pub const SLOTS: u16 = 16384;

/// A running cluster; nodes are killed on drop.
pub struct Cluster {
    /// Primaries first (in `valkey-cli --cluster create` order), then the replicas.
    pub nodes: Vec<Server>,
    pub primaries: usize,
}

fn free_bus_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .ok()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port())
        .unwrap_or_else(|| panic!("no free port for a cluster bus"))
}

/// `valkey-cli` with the given arguments; panics with its output if it fails.
pub fn valkey_cli(args: &[&str]) -> String {
    let out = Command::new("valkey-cli")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("valkey-cli: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "valkey-cli {args:?} failed:\n{text}");
    text
}

impl Cluster {
    /// `primaries` primaries with `replicas` replicas each, every node loading `modules`.
    pub fn start(primaries: usize, replicas: usize, modules: &[&str]) -> Cluster {
        Self::start_with(primaries, replicas, modules, &[])
    }

    /// [`start`](Self::start) with extra `--name value` settings on every node.
    pub fn start_with(
        primaries: usize,
        replicas: usize,
        modules: &[&str],
        config: &[(&str, &str)],
    ) -> Cluster {
        let total = primaries * (1 + replicas);
        let nodes: Vec<Server> = (0..total)
            .map(|_| {
                let mut b = Server::builder()
                    .config("cluster-enabled", "yes")
                    .config("cluster-config-file", "nodes.conf")
                    .config("cluster-port", &free_bus_port().to_string())
                    .config("cluster-node-timeout", &NODE_TIMEOUT_MS.to_string())
                    .config("repl-diskless-sync", "yes");
                for m in modules {
                    b = b.module(m);
                }
                for (k, v) in config {
                    b = b.config(k, v);
                }
                b.start()
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        let r = replicas.to_string();
        args.extend(["--cluster-replicas", &r, "--cluster-yes"]);
        valkey_cli(&args);
        let cluster = Cluster { nodes, primaries };
        cluster.wait_ready();
        cluster
    }

    /// Waits until every live node says `cluster_state:ok` with all slots served, knows every live
    /// node, and every replica's link is up.
    pub fn wait_ready(&self) {
        let mut last = String::new();
        let ok = poll_until(Duration::from_secs(60), || {
            for n in &self.nodes {
                let Ok(mut c) = redis::Client::open(n.url()).and_then(|c| c.get_connection())
                else {
                    continue; // a killed node
                };
                let info = cluster_info(&mut c);
                if info.get("cluster_state").map(String::as_str) != Some("ok")
                    || info.get("cluster_slots_ok").map(String::as_str) != Some("16384")
                {
                    last = format!("{}: {info:?}", n.port());
                    return false;
                }
                if info_field(&mut c, "replication", "role").as_deref() == Some("slave")
                    && info_field(&mut c, "replication", "master_link_status").as_deref()
                        != Some("up")
                {
                    last = format!("{}: replica link down", n.port());
                    return false;
                }
            }
            true
        });
        assert!(ok, "cluster not ready: {last}");
    }

    /// A cluster-aware client seeded with every node.
    pub fn client(&self) -> ClusterClient {
        ClusterClient::new(self.nodes.iter().map(Server::port).collect())
    }

    /// The node on `port`.
    pub fn node(&self, port: u16) -> &Server {
        self.nodes
            .iter()
            .find(|n| n.port() == port)
            .unwrap_or_else(|| panic!("no node on port {port}"))
    }

    /// The node on `port`, mutably (to kill it).
    pub fn node_mut(&mut self, port: u16) -> &mut Server {
        self.nodes
            .iter_mut()
            .find(|n| n.port() == port)
            .unwrap_or_else(|| panic!("no node on port {port}"))
    }

    /// `CLUSTER MYID` of the node on `port`.
    pub fn node_id(&self, port: u16) -> String {
        let mut c = self.node(port).conn();
        value_text(&cmd(&mut c, &["CLUSTER", "MYID"]).unwrap()).unwrap_or_default()
    }

    /// The ports of the nodes that are primaries now, and of each one's replicas.
    pub fn topology(&self) -> Vec<(u16, Vec<u16>)> {
        let mut out: Vec<(u16, Vec<u16>)> = Vec::new();
        for n in &self.nodes {
            let Ok(mut c) = redis::Client::open(n.url()).and_then(|c| c.get_connection()) else {
                continue;
            };
            if info_field(&mut c, "replication", "role").as_deref() != Some("master") {
                continue;
            }
            let replicas: Vec<u16> = (0..8)
                .filter_map(|i| info_field(&mut c, "replication", &format!("slave{i}")))
                .filter_map(|s| {
                    s.split(',')
                        .find_map(|kv| kv.strip_prefix("port="))
                        .and_then(|p| p.parse().ok())
                })
                .collect();
            out.push((n.port(), replicas));
        }
        out
    }
}

fn cluster_info(c: &mut Connection) -> HashMap<String, String> {
    let text = cmd(c, &["CLUSTER", "INFO"])
        .ok()
        .and_then(|v| value_text(&v))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---- slots ----------------------------------------------------------------------------------------------

/// CRC16/XMODEM, the cluster's key hash.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The hash slot of `key` (hash tags `{...}` included).
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        rest.iter()
            .position(|&b| b == b'}')
            .filter(|&close| close > 0)
            .map(|close| &rest[..close])
    });
    crc16(tagged.unwrap_or(key)) % SLOTS
}

// ---- client ---------------------------------------------------------------------------------------------

/// Follows `MOVED` (updating its slot map) and `ASK` (one `ASKING` + command on the target), and
/// retries on refused connections and `CLUSTERDOWN`/`TRYAGAIN` while a failover or a migration is
/// under way, up to [`ClusterClient::deadline`].
pub struct ClusterClient {
    seeds: Vec<u16>,
    conns: HashMap<u16, Connection>,
    owner: Vec<Option<u16>>,
    /// How long one command may keep retrying.
    pub deadline: Duration,
    /// Redirections followed so far (`MOVED`, `ASK`).
    pub moved: u64,
    pub asked: u64,
}

impl ClusterClient {
    pub fn new(seeds: Vec<u16>) -> Self {
        let mut c = ClusterClient {
            seeds,
            conns: HashMap::new(),
            owner: vec![None; usize::from(SLOTS)],
            deadline: Duration::from_secs(30),
            moved: 0,
            asked: 0,
        };
        c.refresh();
        c
    }

    fn conn(&mut self, port: u16) -> RedisResult<&mut Connection> {
        match self.conns.entry(port) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => {
                let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
                let conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
                conn.set_read_timeout(Some(Duration::from_secs(60)))?;
                Ok(e.insert(conn))
            }
        }
    }

    /// Re-reads the slot map from the first seed that answers `CLUSTER SLOTS`.
    pub fn refresh(&mut self) {
        for port in self.seeds.clone() {
            let Ok(c) = self.conn(port) else {
                self.conns.remove(&port);
                continue;
            };
            let Ok(Value::Array(ranges)) = cmd(c, &["CLUSTER", "SLOTS"]) else {
                self.conns.remove(&port);
                continue;
            };
            for r in ranges {
                let Value::Array(r) = r else { continue };
                let (Some(Value::Int(from)), Some(Value::Int(to)), Some(Value::Array(primary))) =
                    (r.first(), r.get(1), r.get(2))
                else {
                    continue;
                };
                let Some(Value::Int(p)) = primary.get(1) else {
                    continue;
                };
                for s in *from..=*to {
                    if let Some(slot) = self.owner.get_mut(s as usize) {
                        *slot = Some(*p as u16);
                    }
                }
            }
            return;
        }
    }

    /// The primary that serves `slot`, as this client knows it.
    pub fn owner_of(&self, slot: u16) -> Option<u16> {
        self.owner.get(usize::from(slot)).copied().flatten()
    }

    /// Runs a command whose key is argument 1 (or, with no argument, on any node).
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> RedisResult<Value> {
        let slot = args.get(1).map(|k| key_slot(k.as_ref()));
        self.cmd_in_slot(slot, args)
    }

    /// Runs a command routed by `slot` (any node when `None`), following redirections.
    pub fn cmd_in_slot<A: AsRef<[u8]>>(
        &mut self,
        slot: Option<u16>,
        args: &[A],
    ) -> RedisResult<Value> {
        let start = Instant::now();
        let mut target = slot
            .and_then(|s| self.owner_of(s))
            .or_else(|| self.seeds.first().copied());
        let mut asking = false;
        loop {
            let port = target.unwrap_or(0);
            let r = match self.conn(port) {
                Ok(c) => {
                    if asking {
                        let _ = cmd(c, &["ASKING"]);
                    }
                    cmd(c, args)
                }
                Err(e) => Err(e),
            };
            asking = false;
            let err = match r {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let text = err_text(&err);
            let retry_in_time = start.elapsed() < self.deadline;
            if let Some(rest) = text.strip_prefix("MOVED ") {
                self.moved += 1;
                let new = rest.rsplit(':').next().and_then(|p| p.parse().ok());
                if let (Some(s), Some(p)) = (slot, new) {
                    if let Some(o) = self.owner.get_mut(usize::from(s)) {
                        *o = Some(p);
                    }
                }
                target = new;
            } else if let Some(rest) = text.strip_prefix("ASK ") {
                self.asked += 1;
                target = rest.rsplit(':').next().and_then(|p| p.parse().ok());
                asking = true;
            } else if err.is_io_error()
                || err.is_connection_refusal()
                || text.starts_with("CLUSTERDOWN")
                || text.starts_with("TRYAGAIN")
                || text.starts_with("LOADING")
            {
                if !retry_in_time {
                    return Err(err);
                }
                self.conns.remove(&port);
                thread::sleep(Duration::from_millis(50));
                self.refresh();
                target = slot
                    .and_then(|s| self.owner_of(s))
                    .or_else(|| self.seeds.first().copied());
            } else {
                return Err(err);
            }
            if !retry_in_time {
                return Err(err);
            }
        }
    }

    /// [`cmd`](Self::cmd), panicking with the command and the error on failure.
    pub fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Value {
        self.cmd(args).unwrap_or_else(|e| {
            let shown: Vec<String> = args
                .iter()
                .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
                .collect();
            panic!("{shown:?}: {}", err_text(&e))
        })
    }
}

/// Waits until `f` holds, or panics after [`BACKGROUND_TIMEOUT`] with what `f` last said.
pub fn wait_for(what: &str, mut f: impl FnMut() -> Result<(), String>) {
    let mut last = String::new();
    let ok = poll_until(BACKGROUND_TIMEOUT, || match f() {
        Ok(()) => true,
        Err(e) => {
            last = e;
            false
        }
    });
    assert!(ok, "timed out waiting for {what}: {last}");
}

/// Renders a reply for messages.
pub fn shown(v: &RedisResult<Value>) -> String {
    match v {
        Ok(v) => show(v),
        Err(e) => err_text(e),
    }
}
