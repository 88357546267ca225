//! Hostile snapshots and memory limits: an RDB holding every module type, cut short or with a flipped
//! byte (checksum recomputed), is refused with exit status 1 and a log line, or loads and then answers
//! every command; with `maxmemory` every growing command is refused with OOM (`noeviction`) or module
//! keys are evicted (`allkeys-lru`).

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tair_tests::*;

const MODULES: [&str; 6] = [
    "tairstring",
    "tairhash",
    "tairzset",
    "tairbloom",
    "tairdoc",
    "tairgis",
];

/// One small value of every type (small so that every offset of the snapshot can be tried).
const WRITES: [&[&str]; 6] = [
    &["EXSET", "s", "value", "VER", "3", "FLAGS", "7"],
    &["EXHSET", "h", "field", "v", "EX", "10000"],
    &["EXZADD", "z", "1#2", "a", "3#4", "b"],
    &["TFBFRESERVE", "b", "0.01", "20"],
    &["EXJSONSET", "d", "$", r#"{"a":[1,{"b":"c"}],"n":1.5}"#],
    &["GIS.ADD", "g", "p", "POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))"],
];

/// Reads of every key, for a loaded (possibly damaged) dataset.
const READS: [&[&str]; 10] = [
    &["EXGET", "s", "WITHFLAGS"],
    &["EXHGETALL", "h"],
    &["EXHTTL", "h", "field"],
    &["EXZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["TFBFINFO", "b"],
    &["TFBFEXISTS", "b", "x"],
    &["EXJSONGET", "d", "$"],
    &["GIS.GETALL", "g"],
    &["GIS.CONTAINS", "g", "POINT (1 1)"],
    &["DEBUG", "DIGEST"],
];

fn server_binary() -> String {
    std::env::var("VALKEY_SERVER").unwrap_or_else(|_| "valkey-server".to_string())
}

/// A snapshot of one value of every type, written by a real server.
fn snapshot() -> Vec<u8> {
    let mut b = Server::builder();
    for m in MODULES {
        b = b.module(m);
    }
    let s = b.start();
    let mut c = s.conn();
    for w in WRITES {
        cmd(&mut c, w).unwrap();
    }
    cmd(&mut c, &["TFBFADD", "b", "item"]).unwrap();
    cmd(&mut c, &["SAVE"]).unwrap();
    fs::read(s.dir().join("dump.rdb")).unwrap()
}

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

fn scratch_dir() -> PathBuf {
    let d = workspace_root().join("tests/tmp").join(format!(
        "hostile-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// How a server fed `rdb` through a FIFO named dump.rdb ended: `Err(log)` when it exited (the status
/// must be 1, never a signal), `Ok(port)` when it loaded and is running (the caller shuts it down).
enum Outcome {
    Refused(String),
    Loaded(std::process::Child, u16, PathBuf),
}

fn feed(rdb: &[u8]) -> Outcome {
    let dir = scratch_dir();
    let fifo = dir.join("dump.rdb");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    // Another process may take the probed port before the server binds it: retry on a new one.
    let mut attempt = 0;
    let (mut child, port, mut w, deadline) = 'start: loop {
        attempt += 1;
        let _ = fs::remove_file(dir.join("server.log"));
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            dir.to_string_lossy().into_owned(),
            "--logfile".into(),
            "server.log".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--enable-debug-command".into(),
            "yes".into(),
        ];
        for m in MODULES {
            args.push("--loadmodule".into());
            args.push(module_path(m).to_string_lossy().into_owned());
        }
        let mut child = Command::new(server_binary())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A non-blocking open for writing fails (ENXIO) until the server opens the FIFO for reading.
        let deadline = Instant::now() + Duration::from_secs(20);
        let w = loop {
            use std::os::unix::fs::OpenOptionsExt;
            match fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo)
            {
                Ok(w) => break w,
                Err(e) => {
                    if let Some(status) = child.try_wait().unwrap() {
                        let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                        if log.contains("Address already in use") && attempt < 5 {
                            continue 'start;
                        }
                        panic!("server exited ({status:?}) before reading its snapshot:\n{log}");
                    }
                    assert!(
                        Instant::now() < deadline,
                        "server did not open its snapshot in 20 s ({e}):\n{}",
                        fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        };
        break (child, port, w, deadline);
    };
    // The snapshot fits the pipe buffer, so this does not block; the server may stop reading early.
    let _ = w.write_all(rdb);
    drop(w);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            assert!(
                status.signal().is_none() && status.code() == Some(1),
                "server died with {status:?} on a damaged snapshot:\n{log}"
            );
            let _ = fs::remove_dir_all(&dir);
            return Outcome::Refused(log);
        }
        // After a successful load the server opens dump.rdb once more (to drop its page cache):
        // give that open a writer that closes at once.
        {
            use std::os::unix::fs::OpenOptionsExt;
            let _ = fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo);
        }
        if pong(port) {
            return Outcome::Loaded(child, port, dir);
        }
        assert!(
            Instant::now() < deadline,
            "server neither loaded nor exited in 20 s:\n{}",
            fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// True when a server answers PING on `port` (a plain socket with short timeouts: a server still
/// loading accepts connections but answers nothing).
fn pong(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// Every read on every key answers (a value or an error), then the server saves and stops cleanly.
fn exercise_and_stop(mut child: std::process::Child, port: u16, dir: &Path) {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut c = client.get_connection().unwrap();
    for r in READS {
        let _ = cmd(&mut c, r);
    }
    for w in WRITES {
        let _ = cmd(&mut c, w);
    }
    let _ = cmd(&mut c, &["SAVE"]);
    let _ = cmd(&mut c, &["SHUTDOWN", "NOSAVE"]);
    let status = child.wait().unwrap();
    let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    assert!(
        status.signal().is_none() && !log.contains("crashed by signal"),
        "server crashed after loading a damaged snapshot: {status:?}\n{log}"
    );
    let _ = fs::remove_dir_all(dir);
}

/// RDB type bytes of module values (`RDB_TYPE_MODULE_2`): the module payloads start after them.
fn module_value_span(rdb: &[u8]) -> (usize, usize) {
    // The first module value starts at the first key entry of type 7 after the header and the aux
    // fields; search for the module type byte followed by a short key we wrote. Keys are 1 byte.
    let mut first = rdb.len();
    for (i, w) in rdb.windows(3).enumerate() {
        if w[0] == 7 && w[1] == 1 && b"shzbdg".contains(&w[2]) {
            first = first.min(i);
        }
    }
    (first, rdb.len() - 9) // up to the EOF opcode and the CRC
}

#[test]
fn a_truncated_snapshot_is_refused_cleanly() {
    let rdb = snapshot();
    let (from, to) = module_value_span(&rdb);
    assert!(from < to, "no module value found in the snapshot");
    // Every offset inside the module values, and every 7th one elsewhere.
    let cuts: Vec<usize> = (1..rdb.len())
        .filter(|&i| (from..to).contains(&i) || i % 7 == 0)
        .collect();
    let mut refused = 0;
    for cut in &cuts {
        match feed(&rdb[..*cut]) {
            Outcome::Refused(log) => {
                assert!(
                    log.contains("Short read")
                        || log.contains("Bad file format")
                        || log.contains("Internal error in RDB")
                        || log.contains("Unexpected EOF"),
                    "cut at {cut}: no reason in the log:\n{log}"
                );
                refused += 1;
            }
            // A cut may leave a loadable prefix only if it falls in the trailer; never inside.
            Outcome::Loaded(child, port, dir) => {
                exercise_and_stop(child, port, &dir);
                panic!("a snapshot cut at {cut} of {} loaded", rdb.len());
            }
        }
    }
    eprintln!(
        "{} cuts of a {}-byte snapshot ({} inside module values), all refused with exit 1",
        refused,
        rdb.len(),
        to - from
    );
}

#[test]
fn a_flipped_byte_is_refused_or_loads_into_a_working_server() {
    let rdb = snapshot();
    let (from, to) = module_value_span(&rdb);
    let (mut refused, mut loaded) = (0, 0);
    // Every 5th byte of the module values, each flipped one of three ways in turn.
    for (n, i) in (from..to).step_by(5).enumerate() {
        {
            let flip = [0x01u8, 0x80, 0xff][n % 3];
            let mut bad = rdb.clone();
            bad[i] ^= flip;
            // Recompute the CRC64 trailer so the server gets to the module payloads.
            let len = bad.len();
            let crc = crc64::crc64(0, &bad[..len - 8]);
            bad[len - 8..].copy_from_slice(&crc.to_le_bytes());
            let t = Instant::now();
            let outcome = feed(&bad);
            if t.elapsed() > Duration::from_secs(1) {
                eprintln!("flip {flip:#x} at {i}: {:?}", t.elapsed());
            }
            match outcome {
                Outcome::Refused(_) => refused += 1,
                Outcome::Loaded(child, port, dir) => {
                    loaded += 1;
                    exercise_and_stop(child, port, &dir);
                }
            }
        }
    }
    eprintln!(
        "flipped bytes: {refused} refused with exit 1, {loaded} loaded and answered every read"
    );
    assert!(refused > 0);
}

// ---- maxmemory -----------------------------------------------------------------------------------------

/// A growing write of every module for round `i`.
fn growing(i: usize) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let n = i.to_string();
    let big = "x".repeat(2000);
    vec![
        s(&["EXSET", &format!("s{n}"), &big]),
        s(&["EXHSET", "h", &n, &big]),
        s(&["EXZADD", "z", &n, &format!("{n}{big}")]),
        s(&["TFBFADD", "b", &format!("{n}{big}")]),
        s(&[
            "EXJSONSET",
            &format!("d{n}"),
            "$",
            &format!("{{\"a\":\"{big}\"}}"),
        ]),
        s(&[
            "GIS.ADD",
            "g",
            &format!("{n}{big}"),
            &format!("POINT ({} 1)", i % 170),
        ]),
    ]
}

#[test]
fn with_noeviction_every_growing_command_is_refused_before_the_limit() {
    let limit: u64 = 8 << 20;
    let mut b = Server::builder()
        .config("maxmemory", &limit.to_string())
        .config("maxmemory-policy", "noeviction");
    for m in MODULES {
        b = b.module(m);
    }
    let s = b.start();
    let mut c = s.conn();
    let mut refused = [false; 6];
    let mut i = 0;
    while refused.iter().any(|r| !r) && i < 100_000 {
        for (k, w) in growing(i).iter().enumerate() {
            if let Err(e) = cmd(&mut c, w) {
                let t = err_text(&e);
                assert!(t.starts_with("OOM"), "{w:?}: {t}");
                refused[k] = true;
            }
        }
        i += 1;
    }
    assert!(
        refused.iter().all(|r| *r),
        "not every command was refused: {refused:?}"
    );
    // Memory passed the limit by at most the last command's value (a few KB), not by more.
    let used = used_memory(&mut c);
    assert!(
        used < limit + (256 << 10),
        "used_memory {used} far past maxmemory {limit}"
    );
    s.assert_alive();
}

#[test]
fn with_allkeys_lru_module_keys_are_evicted_and_memory_stays_under_the_limit() {
    let limit: u64 = 8 << 20;
    let mut b = Server::builder()
        .config("maxmemory", &limit.to_string())
        .config("maxmemory-policy", "allkeys-lru");
    for m in MODULES {
        b = b.module(m);
    }
    let s = b.start();
    let mut c = s.conn();
    // Many small keys of every type (one key per write, so that eviction has keys to take).
    let s_ = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let big = "y".repeat(1000);
    for i in 0..20_000 {
        let n = i.to_string();
        for w in [
            s_(&["EXSET", &format!("s{n}"), &big]),
            s_(&["EXHSET", &format!("h{n}"), "f", &big]),
            s_(&["EXZADD", &format!("z{n}"), "1", &big]),
            s_(&["TFBFADD", &format!("b{n}"), &big]),
            s_(&["EXJSONSET", &format!("d{n}"), "$", &format!("\"{big}\"")]),
            s_(&["GIS.ADD", &format!("g{n}"), &big, "POINT (1 1)"]),
        ] {
            cmd(&mut c, &w).unwrap_or_else(|e| panic!("{:?}: {}", &w[..2], err_text(&e)));
        }
    }
    let evicted: u64 = info_field(&mut c, "stats", "evicted_keys")
        .unwrap()
        .parse()
        .unwrap();
    assert!(evicted > 0, "nothing was evicted");
    let used = used_memory(&mut c);
    assert!(
        used <= limit + (512 << 10),
        "used_memory {used} past {limit}"
    );
    // Keys of every module type were among the evicted (the early ones are gone).
    for p in ["s0", "h0", "z0", "b0", "d0", "g0"] {
        let e: i64 = query(&mut c, &["EXISTS", p]);
        assert_eq!(e, 0, "{p} was not evicted");
    }
    s.assert_alive();
}
