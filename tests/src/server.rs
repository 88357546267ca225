//! Real `valkey-server` (or `redis-server`) processes for integration tests.
//!
//! A [`Server`] owns one child process listening on a free `127.0.0.1` port, in its own directory under
//! `tests/tmp/`, with its log in `<dir>/server.log`. It is killed (SIGKILL) and its directory removed on drop;
//! when the drop happens while a test panics, the directory is kept and the tail of the log is printed, so the
//! failure shows what the server said.
//!
//! Children are spawned from one long-lived thread with `PR_SET_PDEATHSIG = SIGKILL` (Linux), so a server held
//! in a `static` (never dropped) or left behind by an interrupted `cargo test` dies with the test process
//! instead of lingering. Directories of test processes that no longer run are removed at the first start.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use redis::{Connection, Value};

use crate::client::{cmd, config_get, err_text, info, info_field, poll_every, show};

/// How long a server may take to answer PING after being started (or restarted).
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// Deadline for background work the harness waits for: AOF rewrites, replica sync, shutdown.
pub const BACKGROUND_TIMEOUT: Duration = Duration::from_secs(30);
/// Read/write timeout set on every connection the harness hands out, so a hung server fails the test
/// instead of hanging it.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);

const LOG_FILE: &str = "server.log";
const STDIO_FILE: &str = "stdio.log";

/// What to start: binary, modules and configuration. Kept by the [`Server`] so that a restart, or a replica,
/// uses the same.
#[derive(Clone, Debug)]
struct Spec {
    binary: PathBuf,
    /// `(absolute .so path, load arguments)`.
    modules: Vec<(PathBuf, Vec<String>)>,
    /// `(name, values)`, applied after the harness defaults so they override them; one entry per name.
    config: Vec<(String, Vec<String>)>,
    replica_of: Option<u16>,
    /// Environment variables of the server process (e.g. an `LD_PRELOAD` shim).
    env: Vec<(String, String)>,
}

impl Spec {
    fn set_config(&mut self, name: &str, values: Vec<String>) {
        let name = name.to_ascii_lowercase();
        match self.config.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = values,
            None => self.config.push((name, values)),
        }
    }

    fn argv(&self, port: u16, dir: &Path) -> Vec<OsString> {
        let mut argv: Vec<OsString> = Vec::new();
        let mut opt = |name: &str, values: &[&str]| {
            argv.push(format!("--{name}").into());
            argv.extend(values.iter().map(OsString::from));
        };
        let port_s = port.to_string();
        let dir_s = dir.to_string_lossy().into_owned();
        let log_s = dir.join(LOG_FILE).to_string_lossy().into_owned();
        opt("port", &[&port_s]);
        opt("bind", &["127.0.0.1"]);
        opt("dir", &[&dir_s]);
        opt("logfile", &[&log_s]);
        opt("daemonize", &["no"]);
        opt("enable-debug-command", &["yes"]);
        opt("enable-module-command", &["yes"]);
        opt("save", &[""]);
        opt("appendonly", &["no"]);
        // A replica's full sync would otherwise wait 5 s for more replicas to show up.
        opt("repl-diskless-sync-delay", &["0"]);
        for (path, args) in &self.modules {
            let mut values = vec![path.to_string_lossy().into_owned()];
            values.extend(args.iter().cloned());
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            opt("loadmodule", &values);
        }
        if let Some(primary) = self.replica_of {
            opt("replicaof", &["127.0.0.1", &primary.to_string()]);
        }
        for (name, values) in &self.config {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            opt(name, &values);
        }
        argv
    }
}

/// Builder for [`Server`]; see [`Server::builder`].
#[must_use]
#[derive(Clone, Debug, Default)]
pub struct ServerBuilder {
    binary: Option<String>,
    modules: Vec<(PathBuf, Vec<String>)>,
    config: Vec<(String, Vec<String>)>,
    replica_of: Option<u16>,
    env: Vec<(String, String)>,
}

impl ServerBuilder {
    /// Sets an environment variable of the server process (kept for restarts).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// Load the workspace module `name` (file `lib<name>.so`, see [`module_path`]) without arguments.
    pub fn module(self, name: &str) -> Self {
        self.module_args(name, &[])
    }

    /// Load the workspace module `name` with load arguments, e.g. `&["tair-compat", "yes"]`.
    pub fn module_args(mut self, name: &str, args: &[&str]) -> Self {
        let path = module_path(name);
        self.modules
            .push((path, args.iter().map(|a| a.to_string()).collect()));
        self
    }

    /// Load a module from an explicit `.so` path.
    pub fn module_file(mut self, path: impl AsRef<Path>, args: &[&str]) -> Self {
        self.modules.push((
            path.as_ref().to_path_buf(),
            args.iter().map(|a| a.to_string()).collect(),
        ));
        self
    }

    /// Add `--<name> <value>` to the command line (after the harness defaults, so it overrides them).
    /// Setting the same name twice keeps the last value.
    pub fn config(self, name: &str, value: &str) -> Self {
        self.config_args(name, &[value])
    }

    /// Like [`config`](Self::config) for directives that take several arguments.
    pub fn config_args(mut self, name: &str, values: &[&str]) -> Self {
        let name = name.to_ascii_lowercase();
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        match self.config.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = values,
            None => self.config.push((name, values)),
        }
        self
    }

    /// The server binary: a path, or a name looked up on `PATH` (e.g. `"redis-server"`). Default: env
    /// `VALKEY_SERVER`, else `valkey-server` on `PATH`.
    pub fn binary(mut self, binary: &str) -> Self {
        self.binary = Some(binary.to_string());
        self
    }

    /// Start as a replica of `primary` (`--replicaof 127.0.0.1 <port>`).
    pub fn replica_of(mut self, primary: &Server) -> Self {
        self.replica_of = Some(primary.port);
        self
    }

    /// Start the server and wait until it answers PING. Panics (with the log tail) if it does not.
    pub fn start(self) -> Server {
        let binary = match &self.binary {
            Some(b) => find_binary(b),
            None => match std::env::var_os("VALKEY_SERVER") {
                Some(b) => find_binary(&b.to_string_lossy()),
                None => find_binary("valkey-server"),
            },
        };
        let spec = Spec {
            binary,
            modules: self.modules,
            config: self.config,
            replica_of: self.replica_of,
            env: self.env,
        };
        Server::launch(spec)
    }
}

/// A running server process. See the module documentation.
#[derive(Debug)]
pub struct Server {
    spec: Spec,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Server {
    /// A builder; `Server::builder().start()` is a plain server with the harness defaults:
    /// `--enable-debug-command yes --enable-module-command yes --save "" --appendonly no
    /// --repl-diskless-sync-delay 0`.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// A plain `valkey-server` without modules.
    pub fn start() -> Server {
        Self::builder().start()
    }

    /// A server loading the given workspace modules (no load arguments).
    pub fn with_modules(modules: &[&str]) -> Server {
        modules
            .iter()
            .fold(Self::builder(), |b, m| b.module(m))
            .start()
    }

    /// Start a replica of `primary`: same binary, modules (with their arguments) and configuration,
    /// plus `--replicaof 127.0.0.1 <primary port>`. Call [`wait_for_sync`](Self::wait_for_sync) before
    /// relying on it.
    pub fn replica_of(primary: &Server) -> Server {
        let mut spec = primary.spec.clone();
        spec.replica_of = Some(primary.port);
        Server::launch(spec)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's working directory (RDB, `appendonlydir/`, `server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `redis://127.0.0.1:<port>/`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Paths of the `.so` files this server loads.
    pub fn module_files(&self) -> Vec<PathBuf> {
        self.spec.modules.iter().map(|(p, _)| p.clone()).collect()
    }

    /// The whole log file (`--logfile`), across restarts.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join(LOG_FILE)).unwrap_or_default()
    }

    /// The last `n` lines of the log plus anything the process wrote to stdout/stderr.
    pub fn log_tail(&self, n: usize) -> String {
        log_tail(&self.dir, n)
    }

    /// Panic (with the log tail) unless the process still runs and answers PING on a new connection, and
    /// its log has no crash report. For "bad input must not crash the server" tests.
    pub fn assert_alive(&self) {
        let log = self.log();
        assert!(
            !log.contains("BUG REPORT START") && !log.contains("crashed by signal"),
            "server on port {} logged a crash:\n{}",
            self.port,
            self.log_tail(60)
        );
        let pong = connect(&self.url()).and_then(|mut c| cmd(&mut c, &["PING"]));
        match pong {
            Ok(Value::SimpleString(s)) if s == "PONG" => {}
            other => panic!(
                "server on port {} does not answer PING: {:?}\n{}",
                self.port,
                other.map(|v| show(&v)).map_err(|e| err_text(&e)),
                self.log_tail(60)
            ),
        }
    }

    /// A new RESP2 connection (read/write timeout [`IO_TIMEOUT`]).
    pub fn conn(&self) -> Connection {
        connect(&self.url()).unwrap_or_else(|e| {
            panic!(
                "cannot connect to server on port {}: {}\n{}",
                self.port,
                err_text(&e),
                self.log_tail(20)
            )
        })
    }

    /// A new RESP3 connection (`HELLO 3` is sent by the redis crate, `protocol=resp3`). Replies come back as
    /// RESP3 `redis::Value` variants: `Map`, `Set`, `Double`, `Boolean`, `VerbatimString`, `BigNumber`.
    /// Push messages (client tracking invalidations, pub/sub) are skipped by `req_command` and are not
    /// visible here.
    pub fn conn_resp3(&self) -> Connection {
        let url = format!("{}?protocol=resp3", self.url());
        connect(&url).unwrap_or_else(|e| {
            panic!(
                "cannot open a RESP3 connection to port {}: {}",
                self.port,
                err_text(&e)
            )
        })
    }

    /// `CONFIG SET name value`, also remembered for later restarts (a plain CONFIG SET is forgotten by a
    /// restart, as with a real server without CONFIG REWRITE).
    pub fn config_set(&mut self, name: &str, value: &str) {
        let mut c = self.conn();
        match cmd(&mut c, &["CONFIG", "SET", name, value]) {
            Ok(_) => {}
            Err(e) => panic!("CONFIG SET {name} {value:?}: {}", err_text(&e)),
        }
        self.spec.set_config(name, vec![value.to_string()]);
    }

    /// Stop the server (SHUTDOWN NOSAVE NOW FORCE, which flushes and fsyncs the AOF; SIGKILL if it does not
    /// exit in time) and start it again on the same port, directory and configuration, so it loads its
    /// RDB (`dump.rdb`; call `SAVE` first, the default is `save ""`) or its AOF (when appendonly is on).
    pub fn restart(&mut self) {
        self.shutdown();
        self.spawn_and_wait()
            .unwrap_or_else(|e| panic!("restart on port {} failed: {e}", self.port));
    }

    /// `DEBUG RELOAD`: save the RDB and load it again in place. Panics on an error reply.
    pub fn debug_reload(&self, conn: &mut Connection) {
        expect_ok(conn, &["DEBUG", "RELOAD"]);
    }

    /// `DEBUG LOADAOF`: flush the AOF and load it again in place (appendonly must be on).
    pub fn debug_loadaof(&self, conn: &mut Connection) {
        expect_ok(conn, &["DEBUG", "LOADAOF"]);
    }

    /// Rewrite the AOF as plain commands (`aof-use-rdb-preamble no`, so module types go through their
    /// `aof_rewrite` callback), then restart so the server loads the data from that AOF.
    ///
    /// Turns `appendonly` on first if it is off (waiting for the initial rewrite); both settings are kept
    /// for later restarts. Checks that the rewrite finished with status ok, that the rewrite counter
    /// moved, that the manifest's base file is a `.base.aof` that exists, and that the restarted server
    /// logged loading from the AOF.
    pub fn rewrite_aof_and_restart(&mut self) {
        self.rewrite_aof();
        let log_len = self.log().len();
        self.restart();
        let log = self.log();
        let new_part = log.get(log_len..).unwrap_or("");
        assert!(
            new_part.contains("loaded from append only file")
                || new_part.contains("DB loaded from base file"),
            "after rewrite_aof_and_restart the server did not log loading its AOF:\n{}",
            self.log_tail(30)
        );
    }

    /// The first half of [`rewrite_aof_and_restart`](Self::rewrite_aof_and_restart): turn appendonly on
    /// if needed and BGREWRITEAOF with `aof-use-rdb-preamble no`, waiting until it is done. Returns the
    /// path of the new base file.
    pub fn rewrite_aof(&mut self) -> PathBuf {
        let mut c = self.conn();
        self.config_set("aof-use-rdb-preamble", "no");
        if config_get(&mut c, "appendonly") != "yes" {
            self.config_set("appendonly", "yes");
        }
        // Wait out any rewrite in progress or scheduled (the initial one after turning appendonly on).
        wait_aof_idle(&mut c, self);
        let before = aof_rewrites(&mut c);
        match cmd(&mut c, &["BGREWRITEAOF"]) {
            Ok(_) => {}
            Err(e) => panic!("BGREWRITEAOF: {}", err_text(&e)),
        }
        let done = poll_every(BACKGROUND_TIMEOUT, || {
            let info = info(&mut c, "persistence");
            let field = |f: &str| info.get(f).map(String::as_str).unwrap_or("");
            field("aof_rewrite_in_progress") == "0"
                && field("aof_rewrite_scheduled") == "0"
                && (field("aof_last_bgrewrite_status") == "err"
                    || aof_rewrites_in(&info).is_some_and(|n| n > before))
        });
        assert!(
            done,
            "BGREWRITEAOF did not finish in {BACKGROUND_TIMEOUT:?}\n{}",
            self.log_tail(20)
        );
        let status = info_field(&mut c, "persistence", "aof_last_bgrewrite_status");
        assert_eq!(
            status.as_deref(),
            Some("ok"),
            "AOF rewrite failed\n{}",
            self.log_tail(30)
        );
        let base = self.aof_base_file().unwrap_or_else(|| {
            panic!(
                "no base file in {}/appendonlydir manifest",
                self.dir.display()
            )
        });
        assert!(
            base.to_string_lossy().ends_with(".base.aof") && base.is_file(),
            "AOF base file {} is not a plain-command AOF that exists",
            base.display()
        );
        base
    }

    /// The base file named by the AOF manifest (`appendonlydir/*.manifest`), if any.
    pub fn aof_base_file(&self) -> Option<PathBuf> {
        let aof_dir = self.dir.join("appendonlydir");
        let manifest = fs::read_dir(&aof_dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(".manifest"))?;
        let text = fs::read_to_string(manifest).ok()?;
        text.lines().find_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let is_base = words.windows(2).any(|w| w == ["type", "b"]);
            match (words.as_slice(), is_base) {
                (["file", name, ..], true) => Some(aof_dir.join(name)),
                _ => None,
            }
        })
    }

    /// `DEBUG DIGEST` (40 hex digits; all zeros for an empty dataset).
    pub fn digest(&self, conn: &mut Connection) -> String {
        crate::client::digest(conn)
    }

    /// `DEBUG DIGEST` on a fresh connection.
    pub fn digest_now(&self) -> String {
        crate::client::digest(&mut self.conn())
    }

    /// For a replica: poll `INFO replication` until `master_link_status:up` and the replica's
    /// `master_repl_offset` equals its primary's. Panics after [`BACKGROUND_TIMEOUT`].
    pub fn wait_for_sync(&self) {
        let primary_port = self
            .spec
            .replica_of
            .unwrap_or_else(|| panic!("wait_for_sync on a server that is not a replica"));
        let mut primary = connect(&format!("redis://127.0.0.1:{primary_port}/"))
            .unwrap_or_else(|e| panic!("cannot connect to the primary: {}", err_text(&e)));
        let mut replica = self.conn();
        let mut last = String::new();
        let synced = poll_every(BACKGROUND_TIMEOUT, || {
            let r = info(&mut replica, "replication");
            let p = info_field(&mut primary, "replication", "master_repl_offset");
            let link = r.get("master_link_status").map(String::as_str);
            let offset = r.get("master_repl_offset").map(String::as_str);
            last = format!("link {link:?}, replica offset {offset:?}, primary offset {p:?}");
            link == Some("up") && offset.is_some() && offset == p.as_deref()
        });
        assert!(
            synced,
            "replica on port {} not in sync after {BACKGROUND_TIMEOUT:?}: {last}\n{}",
            self.port,
            self.log_tail(20)
        );
    }

    fn launch(spec: Spec) -> Server {
        cleanup_stale_dirs();
        let dir = new_dir();
        // Another process may grab the port between our probe and the server's bind; retry on a new one.
        let mut last_err = String::new();
        for _ in 0..5 {
            let mut server = Server {
                spec: spec.clone(),
                port: free_port(),
                dir: dir.clone(),
                child: None,
            };
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(e) if e.contains("Address already in use") => last_err = e,
                Err(e) => {
                    // The message carries the log tail; dropping (not yet panicking) removes the dir.
                    drop(server);
                    panic!("{e}");
                }
            }
        }
        panic!("could not find a free port: {last_err}");
    }

    /// Spawn the process with the current spec and wait until it answers PING and is the process we
    /// started (guards against another process on the port).
    fn spawn_and_wait(&mut self) -> Result<(), String> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let argv = self.spec.argv(self.port, &self.dir);
        let child = spawn(SpawnRequest {
            program: self.spec.binary.clone(),
            args: argv.clone(),
            dir: self.dir.clone(),
            env: self.spec.env.clone(),
        })
        .map_err(|e| format!("cannot run {}: {e}", self.spec.binary.display()))?;
        let pid = child.id();
        self.child = Some(child);
        let started = Instant::now();
        let mut last_err;
        let binary = self.spec.binary.clone();
        let describe = |why: &str, dir: &Path| {
            let argv: Vec<String> = argv
                .iter()
                .map(|a| format!("{:?}", a.to_string_lossy()))
                .collect();
            format!(
                "{} {}\n{why}\n--- last lines of {} ---\n{}",
                binary.display(),
                argv.join(" "),
                dir.join(LOG_FILE).display(),
                log_tail(dir, 30)
            )
        };
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(describe(
                        &format!("server exited during startup ({status})"),
                        &self.dir,
                    ));
                }
            }
            match connect(&self.url()) {
                Ok(mut c) => match cmd(&mut c, &["PING"]) {
                    Ok(_) => {
                        let server_pid = info_field(&mut c, "server", "process_id");
                        if server_pid.as_deref() == Some(pid.to_string().as_str()) {
                            return Ok(());
                        }
                        last_err = format!(
                            "port {} is answered by process {server_pid:?}, not {pid}",
                            self.port
                        );
                    }
                    Err(e) => last_err = err_text(&e), // LOADING while it reads its RDB/AOF
                },
                Err(e) => last_err = err_text(&e),
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                self.kill();
                return Err(describe(
                    &format!("no PONG after {STARTUP_TIMEOUT:?}: {last_err}"),
                    &self.dir,
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// SHUTDOWN NOSAVE NOW FORCE and wait for the process to exit; SIGKILL after a deadline.
    fn shutdown(&mut self) {
        if let Ok(mut c) = connect(&self.url()) {
            // The server closes the connection instead of answering: an I/O error is the normal outcome.
            let _ = cmd(&mut c, &["SHUTDOWN", "NOSAVE", "NOW", "FORCE"]);
        }
        let deadline = Instant::now() + BACKGROUND_TIMEOUT;
        if let Some(child) = self.child.as_mut() {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    self.child = None;
                    return;
                }
                thread::sleep(Duration::from_millis(5));
            }
        }
        self.kill();
    }

    /// SIGKILL the process now (a crash, for failover tests); the directory stays until drop.
    pub fn kill_now(&mut self) {
        self.kill();
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            eprintln!(
                "--- server on port {} (kept {}) ---\n{}",
                self.port,
                self.dir.display(),
                self.log_tail(20)
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Run a command that must reply `+OK`.
fn expect_ok(conn: &mut Connection, args: &[&str]) {
    match cmd(conn, args) {
        Ok(Value::Okay) => {}
        Ok(other) => panic!("{}: expected OK, got {}", args.join(" "), show(&other)),
        Err(e) => panic!("{}: {}", args.join(" "), err_text(&e)),
    }
}

fn aof_rewrites_in(info: &std::collections::HashMap<String, String>) -> Option<u64> {
    info.get("aof_rewrites").and_then(|v| v.parse().ok())
}

fn aof_rewrites(conn: &mut Connection) -> u64 {
    aof_rewrites_in(&info(conn, "persistence"))
        .unwrap_or_else(|| panic!("INFO persistence has no aof_rewrites field"))
}

fn wait_aof_idle(conn: &mut Connection, server: &Server) {
    let idle = poll_every(BACKGROUND_TIMEOUT, || {
        let info = info(conn, "persistence");
        info.get("aof_rewrite_in_progress").map(String::as_str) == Some("0")
            && info.get("aof_rewrite_scheduled").map(String::as_str) == Some("0")
    });
    assert!(
        idle,
        "AOF rewrite still running after {BACKGROUND_TIMEOUT:?}\n{}",
        server.log_tail(20)
    );
}

/// Open a connection with the harness timeouts.
fn connect(url: &str) -> redis::RedisResult<Connection> {
    let client = redis::Client::open(url)?;
    let conn = client.get_connection_with_timeout(Duration::from_secs(5))?;
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(conn)
}

/// Wait until the replica has everything the primary has: `WAIT 1 5000` on the primary, then poll until
/// the replica's `master_repl_offset` equals the primary's. Panics after [`BACKGROUND_TIMEOUT`].
pub fn wait_replicated(primary: &mut Connection, replica: &Server) {
    if let Err(e) = cmd(primary, &["WAIT", "1", "5000"]) {
        panic!("WAIT 1 5000: {}", err_text(&e));
    }
    let mut r = replica.conn();
    let mut last = String::new();
    let ok = poll_every(BACKGROUND_TIMEOUT, || {
        let p = info_field(primary, "replication", "master_repl_offset");
        let o = info_field(&mut r, "replication", "master_repl_offset");
        last = format!("primary {p:?}, replica {o:?}");
        p.is_some() && p == o
    });
    assert!(
        ok,
        "replica on port {} did not catch up: {last}\n{}",
        replica.port,
        replica.log_tail(20)
    );
}

/// `<target>/release/lib<name>.so`, else `<target>/debug/lib<name>.so`; env `TAIR_MODULE_DIR` names the
/// directory instead. `<target>` is env `CARGO_TARGET_DIR` or `<workspace>/target`. The harness builds
/// nothing: a missing file panics and says to run `make build`.
pub fn module_path(name: &str) -> PathBuf {
    let file = format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    if let Some(dir) = std::env::var_os("TAIR_MODULE_DIR") {
        let path = PathBuf::from(dir).join(&file);
        assert!(
            path.is_file(),
            "module {} not found (TAIR_MODULE_DIR is set): run `make build`",
            path.display()
        );
        return path;
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => workspace_root().join(t),
        None => workspace_root().join("target"),
    };
    let release = target.join("release").join(&file);
    let debug = target.join("debug").join(&file);
    if release.is_file() {
        let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        if debug.is_file() && mtime(&debug) > mtime(&release) {
            eprintln!(
                "note: using {} although {} is newer",
                release.display(),
                debug.display()
            );
        }
        return release;
    }
    if debug.is_file() {
        return debug;
    }
    panic!(
        "module {file} not found in {} or {}: run `make build` (or `cargo build --release -p {name}`)",
        release.display(),
        debug.display()
    );
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn find_binary(name: &str) -> PathBuf {
    let candidate = Path::new(name);
    if candidate.components().count() > 1 {
        if candidate.is_file() {
            return candidate.to_path_buf();
        }
    } else if let Some(found) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    }) {
        return found;
    }
    panic!(
        "server binary `{name}` not found (set VALKEY_SERVER to its path, or install it: `make deps`, \
         or `apt-get install -t bookworm-backports valkey-server`)"
    );
}

/// Where server directories go: `tests/tmp/`.
fn tmp_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tmp")
}

fn new_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = tmp_root().join(format!("{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create server dir {}: {e}", dir.display()));
    dir
}

/// Remove `tests/tmp/<pid>-<n>` directories whose test process is gone (kept after failures, or left
/// by servers in statics). Once per process.
fn cleanup_stale_dirs() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let Ok(entries) = fs::read_dir(tmp_root()) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if !Path::new("/proc").join(pid.to_string()).exists() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    });
}

/// A free TCP port on 127.0.0.1, not handed out before by this process.
fn free_port() -> u16 {
    static USED: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut used = USED.lock().unwrap_or_else(|e| e.into_inner());
    let used = used.get_or_insert_with(HashSet::new);
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        if port != 0 && used.insert(port) {
            return port;
        }
    }
    panic!("no free port found");
}

fn log_tail(dir: &Path, n: usize) -> String {
    let mut out = String::new();
    for file in [LOG_FILE, STDIO_FILE] {
        let text = fs::read_to_string(dir.join(file)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(n);
        if let Some(tail) = lines.get(start..) {
            if !tail.is_empty() {
                out.push_str(&format!("[{file}]\n{}\n", tail.join("\n")));
            }
        }
    }
    out
}

struct SpawnRequest {
    program: PathBuf,
    args: Vec<OsString>,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

/// Spawn on the long-lived spawner thread: `PR_SET_PDEATHSIG` fires when the *thread* that forked the
/// child exits, and test threads exit after each test, so the children must come from a thread that lives
/// as long as the test process.
fn spawn(req: SpawnRequest) -> io::Result<Child> {
    type Job = (SpawnRequest, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("tair-tests-spawner".into())
            .spawn(move || {
                for (req, reply) in rx {
                    let _ = reply.send(spawn_here(&req));
                }
            })
            .unwrap_or_else(|e| panic!("cannot start the spawner thread: {e}"));
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((req, reply_tx))
        .map_err(|_| io::Error::other("spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("spawner thread is gone"))?
}

fn spawn_here(req: &SpawnRequest) -> io::Result<Child> {
    let stdio = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(req.dir.join(STDIO_FILE))?;
    let mut command = Command::new(&req.program);
    command
        .args(&req.args)
        .envs(req.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&req.dir)
        .stdin(Stdio::null())
        .stdout(stdio.try_clone()?)
        .stderr(stdio);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    command.spawn()
}
