//! Tests of the harness itself, against plain servers without modules.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;
use std::time::Duration;

use tair_tests::dump::{self, Dump};
use tair_tests::*;

fn get(c: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    query(c, &["GET", key])
}

fn panic_text(e: Box<dyn std::any::Any + Send>) -> String {
    match e.downcast::<String>() {
        Ok(s) => *s,
        Err(e) => e
            .downcast::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn start_ping_drop() {
    let server = Server::start();
    let mut c = server.conn();
    assert_eq!(show(&cmd(&mut c, &["PING"]).unwrap()), "PONG");
    assert!(server.log().contains("Ready to accept connections"));
    assert_eq!(
        info_field(&mut c, "server", "tcp_port"),
        Some(server.port().to_string())
    );
    assert_eq!(config_get(&mut c, "enable-debug-command"), "yes");
    assert_eq!(config_get(&mut c, "appendonly"), "no");
    let (pid, dir) = (server.pid(), server.dir().to_path_buf());
    assert!(dir.is_dir());
    drop(server);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "still running"
    );
    assert!(!dir.exists(), "directory not removed");
}

#[test]
fn restart_keeps_data_with_appendonly() {
    let mut server = Server::builder().config("appendonly", "yes").start();
    let mut c = server.conn();
    query::<(), _>(&mut c, &["SET", "k", "v"]);
    query::<(), _>(&mut c, &["RPUSH", "l", "a", "b"]);
    let before = server.digest(&mut c);
    let pid = server.pid();
    server.restart();
    assert_ne!(server.pid(), pid);
    let mut c = server.conn();
    assert_eq!(get(&mut c, "k"), Some(b"v".to_vec()));
    assert_eq!(server.digest(&mut c), before);
}

#[test]
fn restart_keeps_saved_rdb() {
    let mut server = Server::start();
    let mut c = server.conn();
    query::<(), _>(&mut c, &["SET", "k", "v"]);
    query::<(), _>(&mut c, &["SAVE"]);
    server.restart();
    assert_eq!(get(&mut server.conn(), "k"), Some(b"v".to_vec()));
}

#[test]
fn debug_reload_keeps_data() {
    let server = Server::start();
    let mut c = server.conn();
    query::<(), _>(&mut c, &["HSET", "h", "f", "1", "g", "2"]);
    query::<(), _>(&mut c, &["SET", "s", "x", "PX", "100000"]);
    let before = server.digest(&mut c);
    assert_ne!(before, "0".repeat(40));
    server.debug_reload(&mut c);
    assert_eq!(server.digest(&mut c), before);
    assert_eq!(digest_value(&mut c, "nokey"), "0".repeat(40));
    assert_eq!(digest_value(&mut c, "h").len(), 40);
}

#[test]
fn rewrite_aof_and_restart_keeps_key_with_ttl() {
    let mut server = Server::start(); // appendonly off: the helper turns it on
    let mut c = server.conn();
    query::<(), _>(&mut c, &["SET", "k", "v", "PX", "100000"]);
    query::<(), _>(&mut c, &["ZADD", "z", "1.5", "a"]);
    let before = server.digest(&mut c);
    server.rewrite_aof_and_restart();
    let base = server.aof_base_file().expect("base file");
    let aof = std::fs::read(&base).unwrap();
    assert!(
        aof.windows(9).any(|w| w == b"PEXPIREAT"),
        "the rewritten AOF keeps the TTL as an absolute time"
    );
    let mut c = server.conn();
    assert_eq!(config_get(&mut c, "appendonly"), "yes");
    assert_eq!(config_get(&mut c, "aof-use-rdb-preamble"), "no");
    assert_eq!(get(&mut c, "k"), Some(b"v".to_vec()));
    let pttl: i64 = query(&mut c, &["PTTL", "k"]);
    assert!(pttl > 0 && pttl <= 100_000, "pttl {pttl}");
    assert_eq!(server.digest(&mut c), before);
    // Writes after the restart go to the AOF too: DEBUG LOADAOF reads them back.
    query::<(), _>(&mut c, &["SET", "after", "1"]);
    let with_after = server.digest(&mut c);
    server.debug_loadaof(&mut c);
    assert_eq!(server.digest(&mut c), with_after);
}

#[test]
fn replica_syncs_and_digests_match() {
    let primary = Server::start();
    let mut p = primary.conn();
    query::<(), _>(&mut p, &["SET", "before", "1"]);
    let replica = Server::replica_of(&primary);
    replica.wait_for_sync();
    let mut r = replica.conn();
    assert_eq!(get(&mut r, "before"), Some(b"1".to_vec()));
    for i in 0..50 {
        let k = format!("k{i}");
        query::<(), _>(&mut p, &["SADD", &k, "a", "b", &i.to_string()]);
    }
    query::<(), _>(&mut p, &["SET", "ttl", "v", "EX", "1000"]);
    wait_replicated(&mut p, &replica);
    assert_eq!(replica.digest(&mut r), primary.digest(&mut p));
    assert_eq!(
        info_field(&mut r, "replication", "role").as_deref(),
        Some("slave")
    );
    assert!(cmd_err(&mut r, &["SET", "x", "y"]).starts_with("READONLY "));
}

#[test]
fn dump_of_native_string_parses_and_restores() {
    let server = Server::start();
    let mut c = server.conn();
    query::<(), _>(&mut c, &["SET", "k", "hello"]);
    let payload: Vec<u8> = query(&mut c, &["DUMP", "k"]);
    // The crc64 crate's crc64(0, ..) is Redis's crc64 (checked by Dump::parse against the real payload).
    let d = Dump::parse(&payload).unwrap();
    assert_eq!(d.value, b"\x00\x05hello");
    assert_eq!(d.rdb_type(), Some(dump::RDB_TYPE_STRING));
    assert_eq!(d.rdb_version, 11, "Valkey 8.0 writes RDB version 11");
    assert_eq!(d.to_payload(), payload);
    assert_eq!(dump::fix_crc(&payload), payload);

    let restore = |c: &mut redis::Connection, key: &str, p: &[u8]| {
        cmd(c, &[b"RESTORE".as_slice(), key.as_bytes(), b"0", p])
    };
    restore(&mut c, "copy", &d.to_payload()).unwrap();
    assert_eq!(get(&mut c, "copy"), Some(b"hello".to_vec()));
    // A patched byte with a recomputed CRC is accepted ...
    let jello = dump::patch_byte(&payload, 2, b'j');
    restore(&mut c, "jello", &jello).unwrap();
    assert_eq!(get(&mut c, "jello"), Some(b"jello".to_vec()));
    // ... and without it, refused.
    let mut bad_crc = payload.clone();
    bad_crc[2] = b'j';
    let e = err_text(&restore(&mut c, "bad", &bad_crc).unwrap_err());
    assert_eq!(e, "ERR DUMP payload version or checksum are wrong");
    assert!(Dump::parse(&bad_crc).is_err());
}

#[test]
fn forged_payloads_are_rejected_and_server_survives() {
    let server = Server::builder().config("rdbcompression", "no").start();
    let mut c = server.conn();
    let text = "abcdefghijklmnopqrstuvwxyz0123";
    query::<(), _>(&mut c, &["SET", "k", text]);
    let payload: Vec<u8> = query(&mut c, &["DUMP", "k"]);
    assert_eq!(payload.len(), 2 + text.len() + 10);
    let forged = [
        dump::truncate_value(&payload, 5),
        dump::truncate_value(&payload, 1),
        dump::set_len_at(&payload, 1, 1000),
        dump::set_len_at(&payload, 1, 1 << 40),
        dump::patch_byte(&payload, 0, 0x55), // unknown RDB type
    ];
    for (i, p) in forged.iter().enumerate() {
        assert!(Dump::parse(p).is_ok(), "forged payload {i} has a valid CRC");
        let e = cmd_err(&mut c, &[b"RESTORE".as_slice(), b"x", b"0", p]);
        assert_eq!(e, "ERR Bad data format", "forged payload {i}");
        assert_eq!(show(&cmd(&mut c, &["PING"]).unwrap()), "PONG");
    }
    assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "x"]), 0);
    server.assert_alive();
}

/// RESTORE loads from a buffer holding the whole payload, trailer included: a value cut short by less
/// than the 10 trailer bytes is completed with the RDB version and CRC bytes and may load.
#[test]
fn short_truncation_reads_into_the_trailer() {
    let server = Server::start();
    let mut c = server.conn();
    query::<(), _>(&mut c, &["SET", "k", "hello"]);
    let payload: Vec<u8> = query(&mut c, &["DUMP", "k"]);
    let cut = dump::truncate_value(&payload, 3); // 00 05 'h' | 0b 00 | crc...
    cmd(&mut c, &[b"RESTORE".as_slice(), b"x", b"0", &cut]).unwrap();
    let got = get(&mut c, "x").unwrap();
    assert_eq!(got.len(), 5);
    assert_eq!(&got[..3], b"h\x0b\x00");
}

#[test]
fn error_texts_are_exact() {
    let server = Server::start();
    let mut c = server.conn();
    assert_eq!(
        cmd_err(&mut c, &["SET", "k", "v", "NX", "XX"]),
        "ERR syntax error"
    );
    query::<(), _>(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        cmd_err(&mut c, &["LPUSH", "k", "x"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(
        cmd_err(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        cmd_err(&mut c, &["INCRBY", "k", "1"]),
        "ERR value is not an integer or out of range"
    );
    // Errors nested in an EXEC reply stay in the value.
    query::<(), _>(&mut c, &["MULTI"]);
    cmd(&mut c, &["SET", "k", "w"]).unwrap();
    cmd(&mut c, &["LPUSH", "k", "x"]).unwrap();
    let exec = cmd(&mut c, &["EXEC"]).unwrap();
    assert_eq!(
        show(&exec),
        "[OK, (error) WRONGTYPE Operation against a key holding the wrong kind of value]"
    );
}

#[test]
fn binary_safe_commands_and_rendering() {
    let server = Server::start();
    let mut c = server.conn();
    let key: &[u8] = b"k\x00\xff";
    let val: &[u8] = b"a\"b\\c\n\x00\x80";
    cmd(&mut c, &[b"SET".as_slice(), key, val]).unwrap();
    let got = cmd(&mut c, &[b"GET".as_slice(), key]).unwrap();
    assert_eq!(got, Value::BulkString(val.to_vec()));
    assert_eq!(show(&got), r#""a\"b\\c\n\0\x80""#);
    query::<(), _>(&mut c, &["RPUSH", "l", "1", "two"]);
    let v = cmd(
        &mut c,
        &[b"MGET".as_slice(), key, b"missing", b"k\x00\xff", b"\x01"],
    )
    .unwrap();
    assert_eq!(
        show(&v),
        r#"["a\"b\\c\n\0\x80", nil, "a\"b\\c\n\0\x80", nil]"#
    );
    assert_eq!(
        show(&cmd(&mut c, &["LRANGE", "l", "0", "-1"]).unwrap()),
        r#"["1", "two"]"#
    );
    assert_eq!(show(&cmd(&mut c, &["LLEN", "l"]).unwrap()), "2");
}

#[test]
fn resp3_connection_gets_resp3_types() {
    let server = Server::start();
    let mut c = server.conn_resp3();
    query::<(), _>(&mut c, &["HSET", "h", "f", "1"]);
    assert_eq!(
        show(&cmd(&mut c, &["HGETALL", "h"]).unwrap()),
        r#"{"f": "1"}"#
    );
    assert_eq!(
        show(&cmd(&mut c, &["DEBUG", "PROTOCOL", "double"]).unwrap()),
        "(double) 3.141"
    );
    assert_eq!(
        show(&cmd(&mut c, &["DEBUG", "PROTOCOL", "true"]).unwrap()),
        "true"
    );
    assert_eq!(cmd(&mut c, &["ZSCORE", "nokey", "m"]).unwrap(), Value::Nil);
    // A RESP2 connection on the same server still gets flat arrays.
    let mut c2 = server.conn();
    assert_eq!(
        show(&cmd(&mut c2, &["HGETALL", "h"]).unwrap()),
        r#"["f", "1"]"#
    );
    assert_eq!(
        info_field(&mut c, "server", "tcp_port"),
        Some(server.port().to_string())
    );
    assert!(used_memory(&mut c) > 0);
}

#[test]
fn keyspace_events_are_captured() {
    let server = Server::start();
    let mut events = Events::keyevents(&server, "KEA");
    let mut c = server.conn();
    assert!(events.drain().is_empty());
    query::<(), _>(&mut c, &["SET", "k", "v"]);
    query::<(), _>(&mut c, &["DEL", "k"]);
    assert_eq!(
        events.drain(),
        vec![
            ("__keyevent@0__:set".to_string(), "k".to_string()),
            ("__keyevent@0__:del".to_string(), "k".to_string()),
        ]
    );
    assert!(events.drain().is_empty());
}

#[test]
fn polling_and_startup_failures() {
    assert!(poll_until(Duration::from_millis(50), || true));
    assert!(!poll_until(Duration::from_millis(20), || false));
    let mut n = 0;
    wait_until(Duration::from_secs(5), "counter reaches 3", || {
        n += 1;
        n >= 3
    });

    let e = std::panic::catch_unwind(|| module_path("no_such_module")).unwrap_err();
    assert!(panic_text(e).contains("run `make build`"));

    let e = std::panic::catch_unwind(|| Server::builder().config("no-such-directive", "1").start())
        .unwrap_err();
    let text = panic_text(e);
    assert!(text.contains("exited during startup"), "{text}");
    assert!(text.contains("no-such-directive"), "{text}");

    let e = std::panic::catch_unwind(|| Server::builder().binary("no-such-server-binary").start())
        .unwrap_err();
    assert!(panic_text(e).contains("valkey-server"));
}

#[test]
fn server_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Server>();
}

#[test]
fn redis_7_0_smoke() {
    let has_redis = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| d.join("redis-server").is_file())
    });
    if !has_redis {
        eprintln!("redis-server not on PATH: skipping the Redis 7.0 smoke test");
        return;
    }
    let mut server = Server::builder()
        .binary("redis-server")
        .config("appendonly", "yes")
        .start();
    let mut c = server.conn();
    let version = info_field(&mut c, "server", "redis_version").unwrap();
    assert!(version.starts_with("7."), "{version}");
    query::<(), _>(&mut c, &["SET", "k", "v"]);
    let payload: Vec<u8> = query(&mut c, &["DUMP", "k"]);
    assert_eq!(Dump::parse(&payload).unwrap().rdb_version, 10);
    server.rewrite_aof_and_restart();
    assert_eq!(get(&mut server.conn(), "k"), Some(b"v".to_vec()));
}
