//! The container backend: the `tair-modules` image (`make docker`) run through the `docker` CLI, beside
//! the process backend of [`server`](crate::server). A [`Container`] hands out the same
//! `redis::Connection`s as a [`Server`](crate::Server), so every client helper ([`cmd`](crate::cmd),
//! [`info`](crate::info), [`digest`](crate::digest), [`wait_until`](crate::wait_until), ...) drives both;
//! [`Valkey`] names what the two have in common for helpers written once for either.
//!
//! ```ignore
//! let net = Network::new();
//! let primary = Container::builder().network(&net, "primary").start();
//! let replica = Container::builder()
//!     .network(&net, "replica")
//!     .env("VALKEY_REPLICAOF", "primary 6379")
//!     .start();
//! wait_in_sync(&primary, &replica, BACKGROUND_TIMEOUT);
//! assert_eq!(digest(&mut primary.conn()), digest(&mut replica.conn()));
//! ```
//!
//! - Only `127.0.0.1` is ever connected to: port 6379 (or 26379) of a container is published on a port
//!   Docker picks on `127.0.0.1`, read back with `docker port` after every start, restart and network
//!   reconnect (the port can change).
//! - Names are unique per run (`tairtest-<pid>-<start time>-<n>`), so runs and tests never collide.
//! - Containers, networks and compose projects are removed on drop, also when the test fails (the last
//!   lines of the container's log are printed then). Leftovers of test processes that no longer run
//!   (killed before their drops ran) are removed at the first use in a later run.
//! - The image is env `TAIR_IMAGE`, default `tair-modules:latest`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::{ConnectionAddr, ConnectionInfo, ProtocolVersion, RedisConnectionInfo, Value};

use crate::client::{cmd, err_text, info, poll_every, show, value_text};
use crate::server::{workspace_root, Server, IO_TIMEOUT};

/// Label put on every container and network this module creates: the test process id.
const PID_LABEL: &str = "tair-tests.pid";
/// How long a container may take from `docker run`/`start`/`restart` to answering PING.
pub const CONTAINER_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The image under test: env `TAIR_IMAGE`, else `tair-modules:latest`.
pub fn image() -> String {
    std::env::var("TAIR_IMAGE").unwrap_or_else(|_| "tair-modules:latest".to_string())
}

/// What [`Server`] and [`Container`] have in common, for helpers that drive either.
pub trait Valkey {
    /// A new RESP2 connection (authenticated where a password is set).
    fn conn(&self) -> redis::Connection;
    /// A line naming the server, for failure messages.
    fn describe(&self) -> String;
    /// The last lines of its log.
    fn log_tail(&self, n: usize) -> String;
}

impl Valkey for Server {
    fn conn(&self) -> redis::Connection {
        Server::conn(self)
    }
    fn describe(&self) -> String {
        format!("server on port {}", self.port())
    }
    fn log_tail(&self, n: usize) -> String {
        Server::log_tail(self, n)
    }
}

impl Valkey for Container {
    fn conn(&self) -> redis::Connection {
        Container::conn(self)
    }
    fn describe(&self) -> String {
        format!("container {} (127.0.0.1:{})", self.name, self.port())
    }
    fn log_tail(&self, n: usize) -> String {
        self.logs_tail(n)
    }
}

/// Wait until `replica` reports `master_link_status:up` and the same `master_repl_offset` as `primary`;
/// panics after `timeout` with both sides' state and the replica's log.
pub fn wait_in_sync(primary: &impl Valkey, replica: &impl Valkey, timeout: Duration) {
    let mut p = primary.conn();
    let mut last = String::new();
    let ok = poll_every(timeout, || {
        // A replica's connection can drop while it resyncs: reconnect on every round.
        let mut r = replica.conn();
        let ri = info(&mut r, "replication");
        let po = info(&mut p, "replication").remove("master_repl_offset");
        let link = ri.get("master_link_status").cloned();
        let ro = ri.get("master_repl_offset").cloned();
        last = format!("link {link:?}, replica offset {ro:?}, primary offset {po:?}");
        link.as_deref() == Some("up") && ro.is_some() && ro == po
    });
    assert!(
        ok,
        "{} not in sync with {} after {timeout:?}: {last}\n{}",
        replica.describe(),
        primary.describe(),
        replica.log_tail(30)
    );
}

/// Run `docker <args>`; stdout (trimmed) on success, else a message with the command and its stderr.
pub fn docker(args: &[&str]) -> Result<String, String> {
    run_tool("docker", args, &[])
}

/// [`docker`], panicking on failure.
pub fn docker_ok(args: &[&str]) -> String {
    docker(args).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether a Docker engine answers (`docker info`).
pub fn docker_available() -> bool {
    docker(&["info", "--format", "{{.ServerVersion}}"]).is_ok()
}

fn run_tool(program: &str, args: &[&str], env: &[(String, String)]) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let out: Output = command
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "{program} {} failed ({}): {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        ))
    }
}

/// A name unique to this run: `<prefix>-<pid>-<start time>-<n>` (Docker names: `[a-zA-Z0-9_.-]`).
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    static START: OnceLock<u64> = OnceLock::new();
    let start = *START.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64 % 100_000_000)
            .unwrap_or(0)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{start}-{n}", std::process::id())
}

/// Remove containers, networks and compose projects left by test processes that no longer run. Once
/// per process.
fn cleanup_stale() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dead = |pid: &str| {
            pid.parse::<u32>()
                .is_ok_and(|p| !Path::new("/proc").join(p.to_string()).exists())
        };
        let format = format!("{{{{.ID}}}} {{{{.Label \"{PID_LABEL}\"}}}}");
        let label = format!("label={PID_LABEL}");
        for (what, rm) in [
            ("ps", ["rm", "-f", "-v"]),
            ("network", ["network", "rm", ""]),
        ] {
            let list = match what {
                "ps" => docker(&["ps", "-a", "--filter", &label, "--format", &format]),
                _ => docker(&["network", "ls", "--filter", &label, "--format", &format]),
            };
            for line in list.unwrap_or_default().lines() {
                let mut parts = line.split_whitespace();
                let (Some(id), Some(pid)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if dead(pid) {
                    let mut args: Vec<&str> =
                        rm.iter().copied().filter(|a| !a.is_empty()).collect();
                    args.push(id);
                    let _ = docker(&args);
                }
            }
        }
        // Compose projects are named `tairtestx<pid>x<start>x<n>`; remove what is left of dead ones.
        let projects = docker(&[
            "ps",
            "-a",
            "--filter",
            "label=com.docker.compose.project",
            "--format",
            "{{.ID}} {{.Label \"com.docker.compose.project\"}}",
        ])
        .unwrap_or_default();
        let mut stale: HashMap<String, Vec<String>> = HashMap::new();
        for line in projects.lines() {
            let mut parts = line.split_whitespace();
            let (Some(id), Some(project)) = (parts.next(), parts.next()) else {
                continue;
            };
            let pid = project
                .strip_prefix("tairtestx")
                .and_then(|rest| rest.split('x').next());
            if pid.is_some_and(dead) {
                stale
                    .entry(project.to_string())
                    .or_default()
                    .push(id.to_string());
            }
        }
        for (project, ids) in stale {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids.iter().map(String::as_str));
            let _ = docker(&args);
            let nets = docker(&[
                "network",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ])
            .unwrap_or_default();
            for net in nets.lines() {
                let _ = docker(&["network", "rm", net]);
            }
            let vols = docker(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ])
            .unwrap_or_default();
            for vol in vols.lines() {
                let _ = docker(&["volume", "rm", vol]);
            }
        }
    });
}

/// A private Docker network (bridge), removed on drop.
#[derive(Debug)]
pub struct Network {
    name: String,
}

impl Network {
    /// `docker network create <unique name>`.
    pub fn new() -> Network {
        cleanup_stale();
        let name = unique_name("tairtest-net");
        docker_ok(&[
            "network",
            "create",
            "--label",
            &format!("{PID_LABEL}={}", std::process::id()),
            &name,
        ]);
        Network { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Default for Network {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        // Containers on it are dropped first by the tests that own both (declared after the network);
        // retry briefly in case one is still being removed.
        let _ = poll_every(Duration::from_secs(10), || {
            docker(&["network", "rm", &self.name]).is_ok()
                || docker(&["network", "inspect", &self.name]).is_err()
        });
    }
}

/// Builder for [`Container`]; see [`Container::builder`].
#[must_use]
#[derive(Clone, Debug)]
pub struct ContainerBuilder {
    image: String,
    env: Vec<(String, String)>,
    args: Vec<String>,
    network: Option<(String, String)>,
    password: Option<String>,
    port: u16,
    command: Vec<String>,
}

impl ContainerBuilder {
    /// `-e name=value`.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// `VALKEY_PASSWORD=<password>`; connections then authenticate with it.
    pub fn password(mut self, password: &str) -> Self {
        self.password = Some(password.to_string());
        self.env("VALKEY_PASSWORD", password)
    }

    /// Extra arguments after the image name, passed through to `valkey-server` by the entrypoint
    /// (e.g. `&["--repl-timeout", "2"]`).
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Attach to `network` (instead of Docker's default bridge) with a DNS `alias` other containers use.
    pub fn network(mut self, network: &Network, alias: &str) -> Self {
        self.network = Some((network.name.clone(), alias.to_string()));
        self
    }

    /// Another image than [`image()`].
    pub fn image(mut self, image: &str) -> Self {
        self.image = image.to_string();
        self
    }

    /// `docker run -d` and wait until the server answers PING (with the password if set). Panics with
    /// the container's log if it does not.
    pub fn start(self) -> Container {
        cleanup_stale();
        let name = unique_name("tairtest");
        let pid_label = format!("{PID_LABEL}={}", std::process::id());
        let publish = format!("127.0.0.1::{}", self.port);
        let mut argv: Vec<String> = ["run", "-d", "--name", &name, "--label", &pid_label, "-p"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        argv.push(publish);
        if let Some((net, alias)) = &self.network {
            argv.extend([
                "--network".into(),
                net.clone(),
                "--network-alias".into(),
                alias.clone(),
            ]);
        }
        for (k, v) in &self.env {
            argv.push("-e".into());
            argv.push(format!("{k}={v}"));
        }
        argv.push(self.image.clone());
        argv.extend(self.command.iter().cloned());
        argv.extend(self.args.iter().cloned());
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let id = docker_ok(&argv);
        let container = Container {
            name,
            id,
            password: self.password,
            container_port: self.port,
            port: AtomicU16::new(0),
            owned: true,
        };
        container.refresh_port();
        container.wait_ready();
        container
    }
}

/// One running container of the image (or a compose service, see [`Compose::service`]). Removed
/// (`docker rm -f -v`) on drop when this handle created it.
#[derive(Debug)]
pub struct Container {
    name: String,
    id: String,
    password: Option<String>,
    container_port: u16,
    /// The published port on 127.0.0.1 (re-read after start, restart and reconnect).
    port: AtomicU16,
    owned: bool,
}

impl Container {
    /// A builder for a server container of [`image()`]: port 6379 published on 127.0.0.1.
    pub fn builder() -> ContainerBuilder {
        ContainerBuilder {
            image: image(),
            env: Vec::new(),
            args: Vec::new(),
            network: None,
            password: None,
            port: 6379,
            command: Vec::new(),
        }
    }

    /// The container's name (unique to this run).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The port on 127.0.0.1 that reaches the container's server port (0 while none is published).
    pub fn port(&self) -> u16 {
        self.port.load(Ordering::Relaxed)
    }

    /// Read the published port again (`docker port`); 0 when none (e.g. while cut off from every network).
    pub fn refresh_port(&self) -> u16 {
        let out = docker(&["port", &self.id, &format!("{}/tcp", self.container_port)])
            .unwrap_or_default();
        let port = out
            .lines()
            .filter_map(|l| l.strip_prefix("127.0.0.1:"))
            .find_map(|p| p.trim().parse::<u16>().ok())
            .unwrap_or(0);
        self.port.store(port, Ordering::Relaxed);
        port
    }

    /// Connect to the published port, authenticating with `password` when given.
    pub fn connect_as(&self, password: Option<&str>) -> redis::RedisResult<redis::Connection> {
        connect_local(self.port(), password)
    }

    /// A new RESP2 connection, authenticated with the container's password if it has one.
    pub fn conn(&self) -> redis::Connection {
        self.connect_as(self.password.as_deref())
            .unwrap_or_else(|e| {
                panic!(
                    "cannot connect to container {} on 127.0.0.1:{}: {}\n{}",
                    self.name,
                    self.port(),
                    err_text(&e),
                    self.logs_tail(20)
                )
            })
    }

    /// Poll until the server answers PING with PONG (through the published port); panics after
    /// [`CONTAINER_STARTUP_TIMEOUT`] with the log.
    pub fn wait_ready(&self) {
        let mut last = String::new();
        let ok = poll_every(CONTAINER_STARTUP_TIMEOUT, || {
            if self.port() == 0 && self.refresh_port() == 0 {
                last = "no port published".into();
                return false;
            }
            match self
                .connect_as(self.password.as_deref())
                .and_then(|mut c| cmd(&mut c, &["PING"]))
            {
                Ok(Value::SimpleString(s)) if s == "PONG" => true,
                Ok(v) => {
                    last = show(&v);
                    false
                }
                Err(e) => {
                    last = err_text(&e); // LOADING while it reads its AOF, or not listening yet
                                         // A restarted container may publish another port.
                    self.refresh_port();
                    false
                }
            }
        });
        assert!(
            ok,
            "container {} does not answer PING after {CONTAINER_STARTUP_TIMEOUT:?}: {last}\n{}",
            self.name,
            self.logs_tail(40)
        );
    }

    /// `docker restart` (SIGTERM: the server saves and exits; then it starts again) and wait until ready.
    pub fn restart(&self) {
        docker_ok(&["restart", "-t", "30", &self.id]);
        self.refresh_port();
        self.wait_ready();
    }

    /// `docker kill -s <signal>` (e.g. `KILL`).
    pub fn kill(&self, signal: &str) {
        docker_ok(&["kill", "-s", signal, &self.id]);
    }

    /// `docker start` a stopped container and wait until ready.
    pub fn start_again(&self) {
        docker_ok(&["start", &self.id]);
        self.refresh_port();
        self.wait_ready();
    }

    /// `docker exec <container> <args>`: its stdout.
    pub fn exec(&self, args: &[&str]) -> String {
        let mut argv = vec!["exec", self.id.as_str()];
        argv.extend_from_slice(args);
        docker_ok(&argv)
    }

    /// `INFO <section>` through `docker exec ... valkey-cli` (works while the container has no network).
    pub fn info_exec(&self, section: &str) -> HashMap<String, String> {
        let mut argv = vec!["exec"];
        let auth;
        if let Some(pw) = &self.password {
            auth = format!("REDISCLI_AUTH={pw}");
            argv.extend(["-e", auth.as_str()]);
        }
        let port = self.container_port.to_string();
        argv.extend([self.id.as_str(), "valkey-cli", "-p", &port, "INFO", section]);
        docker_ok(&argv)
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
            .collect()
    }

    /// `docker inspect -f <format>`.
    pub fn inspect(&self, format: &str) -> String {
        docker_ok(&["inspect", "-f", format, &self.id])
    }

    /// The healthcheck's state: `starting`, `healthy` or `unhealthy`.
    pub fn health(&self) -> String {
        self.inspect("{{if .State.Health}}{{.State.Health.Status}}{{end}}")
    }

    /// `docker network disconnect <network> <container>`; the published port goes away with it.
    pub fn disconnect(&self, network: &Network) {
        docker_ok(&["network", "disconnect", &network.name, &self.id]);
        self.port.store(0, Ordering::Relaxed);
    }

    /// `docker network connect --alias <alias> <network> <container>`, then read the (new) port.
    pub fn reconnect(&self, network: &Network, alias: &str) {
        docker_ok(&[
            "network",
            "connect",
            "--alias",
            alias,
            &network.name,
            &self.id,
        ]);
        let published = poll_every(Duration::from_secs(10), || self.refresh_port() != 0);
        assert!(
            published,
            "no port published for {} after reconnecting",
            self.name
        );
    }

    /// The last `n` lines of `docker logs` (stdout and stderr).
    pub fn logs_tail(&self, n: usize) -> String {
        let out = Command::new("docker")
            .args(["logs", "--tail", &n.to_string(), &self.id])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => format!("(docker logs failed: {e})"),
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        if thread::panicking() {
            eprintln!(
                "--- container {} ({}) ---\n{}",
                self.name,
                image(),
                self.logs_tail(30)
            );
        }
        let _ = docker(&["rm", "-f", "-v", &self.id]);
    }
}

/// A connection to `127.0.0.1:<port>` with the harness timeouts, authenticated with `password` if given
/// (no URL, so any password bytes work).
pub fn connect_local(port: u16, password: Option<&str>) -> redis::RedisResult<redis::Connection> {
    let info = ConnectionInfo {
        addr: ConnectionAddr::Tcp("127.0.0.1".to_string(), port),
        redis: RedisConnectionInfo {
            db: 0,
            username: None,
            password: password.map(str::to_string),
            protocol: ProtocolVersion::RESP2,
        },
    };
    let client = redis::Client::open(info)?;
    let conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(conn)
}

/// A `docker-compose` project from a compose file of this repository, brought down (`down -v`) on drop.
#[derive(Debug)]
pub struct Compose {
    project: String,
    file: PathBuf,
    env: Vec<(String, String)>,
}

impl Compose {
    /// `docker-compose -p <unique project> -f <file> up -d` with extra environment (e.g. port variables
    /// set to `""` so Docker picks free ports). `file` is relative to the workspace root.
    pub fn up(file: &str, env: &[(&str, &str)]) -> Compose {
        cleanup_stale();
        // Compose v1 project names: lower-case letters and digits.
        let project = unique_name("tairtest").replace('-', "x");
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.push(("TAIR_IMAGE".into(), image()));
        let compose = Compose {
            project,
            file: workspace_root().join(file),
            env,
        };
        if let Err(e) = compose.run(&["up", "-d"]) {
            // Drop brings down what did start.
            panic!("{e}");
        }
        compose
    }

    /// The project name (container names are `<project>_<service>_1`).
    pub fn project(&self) -> &str {
        &self.project
    }

    /// `docker-compose -p <project> -f <file> <args>`: stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let file = self.file.to_string_lossy().into_owned();
        let mut argv = vec!["-p", self.project.as_str(), "-f", file.as_str()];
        argv.extend_from_slice(args);
        run_tool("docker-compose", &argv, &self.env)
    }

    /// A handle on the container of `service` whose server listens on `container_port` (6379, or 26379
    /// for a Sentinel); `password` for its connections. The project owns it: dropping the handle leaves
    /// it running.
    pub fn service(&self, service: &str, container_port: u16, password: Option<&str>) -> Container {
        let id = self
            .run(&["ps", "-q", service])
            .unwrap_or_else(|e| panic!("{e}"));
        let id = id.lines().next().unwrap_or("").to_string();
        assert!(!id.is_empty(), "compose service {service} has no container");
        let container = Container {
            name: format!("{}_{service}_1", self.project),
            id,
            password: password.map(str::to_string),
            container_port,
            port: AtomicU16::new(0),
            owned: false,
        };
        container.refresh_port();
        container
    }

    /// The service whose container has the given compose service name or IP address on the project's
    /// network (what a Sentinel reports), if any.
    pub fn service_named_or_at(&self, host: &str, services: &[&str]) -> Option<String> {
        services
            .iter()
            .find(|s| {
                **s == host || {
                    let id = self.run(&["ps", "-q", s]).unwrap_or_default();
                    !id.is_empty()
                        && docker(&[
                            "inspect",
                            "-f",
                            "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                            id.trim(),
                        ])
                        .unwrap_or_default()
                        .split_whitespace()
                        .any(|ip| ip == host)
                }
            })
            .map(|s| s.to_string())
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        if thread::panicking() {
            if let Ok(logs) = self.run(&["logs", "--no-color", "--tail", "25"]) {
                eprintln!("--- compose project {} ---\n{logs}", self.project);
            }
        }
        let _ = self.run(&["down", "-v", "--remove-orphans", "-t", "5"]);
    }
}

/// Poll `f` until it returns `Some`, or panic with `what` after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let mut out = None;
    let start = Instant::now();
    let ok = poll_every(timeout, || {
        out = f();
        out.is_some()
    });
    match out {
        Some(v) if ok => v,
        _ => panic!("timed out after {:?}: {what}", start.elapsed()),
    }
}

/// `INFO <section>` field as an integer (panics if missing or not a number).
pub fn info_int(conn: &mut redis::Connection, section: &str, field: &str) -> i64 {
    let all = info(conn, section);
    all.get(field)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no integer field {field}"))
}

/// A reply's text, panicking on anything that is not a string.
pub fn text(v: &Value) -> String {
    value_text(v).unwrap_or_else(|| panic!("expected a string reply, got {}", show(v)))
}
