//! Client-side helpers: binary-safe commands, exact error texts, reply rendering, INFO fields, polling,
//! and keyspace-notification capture.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::thread;
use std::time::{Duration, Instant};

use redis::{
    Connection, ConnectionLike, ErrorKind, FromRedisValue, RedisError, RedisResult, Value,
};

use crate::server::Server;

/// Send one command with raw byte (or `&str`) arguments and return the raw reply.
///
/// Only a top-level error reply becomes `Err` (use [`err_text`] for its exact text); errors nested in an
/// array (e.g. inside an `EXEC` reply) stay in the value as `Value::ServerError`. (`redis::Cmd::query`
/// would turn any nested error into an `Err` for the whole reply.)
///
/// ```ignore
/// cmd(&mut c, &["SET", "k", "v"])?;
/// cmd(&mut c, &[b"SET".as_slice(), b"k\0bin", &[0xff, 0x00]])?;
/// ```
pub fn cmd<A: AsRef<[u8]>>(conn: &mut Connection, args: &[A]) -> RedisResult<Value> {
    let mut c = redis::Cmd::new();
    for a in args {
        c.arg(a.as_ref());
    }
    match conn.req_command(&c)? {
        Value::ServerError(e) => Err(e.into()),
        v => Ok(v),
    }
}

/// [`cmd`] and convert the reply with `FromRedisValue`; panics with the command and the error text on an
/// error reply or a failed conversion.
///
/// ```ignore
/// let n: i64 = query(&mut c, &["INCRBY", "k", "5"]);
/// let v: Option<Vec<u8>> = query(&mut c, &["GET", "k"]);
/// ```
pub fn query<T: FromRedisValue, A: AsRef<[u8]>>(conn: &mut Connection, args: &[A]) -> T {
    let v = cmd(conn, args)
        .unwrap_or_else(|e| panic!("{}: error reply: {}", show_args(args), err_text(&e)));
    T::from_redis_value(&v).unwrap_or_else(|e| {
        panic!(
            "{}: cannot convert reply {}: {}",
            show_args(args),
            show(&v),
            err_text(&e)
        )
    })
}

/// Run a command that must fail and return its exact error text (e.g. `"ERR syntax error"`); panics if it
/// succeeds.
pub fn cmd_err<A: AsRef<[u8]>>(conn: &mut Connection, args: &[A]) -> String {
    match cmd(conn, args) {
        Ok(v) => panic!(
            "{}: expected an error reply, got {}",
            show_args(args),
            show(&v)
        ),
        Err(e) => err_text(&e),
    }
}

/// The error line exactly as the server sent it, without the leading `-`: `"ERR syntax error"`,
/// `"WRONGTYPE Operation against a key holding the wrong kind of value"`.
///
/// redis-rs splits a server error into a code (first word) and a detail (the rest, verbatim); this joins
/// them back. Client-side errors (I/O, type conversion) are rendered with their `Display`.
pub fn err_text(e: &RedisError) -> String {
    let code = match e.kind() {
        ErrorKind::NoSub => Some("NOSUB"),
        _ => e.code(),
    };
    let from_server = !matches!(
        e.kind(),
        ErrorKind::IoError | ErrorKind::TypeError | ErrorKind::ClientError | ErrorKind::ParseError
    );
    match (code, e.detail()) {
        (Some(code), Some(detail)) if from_server => format!("{code} {detail}"),
        (Some(code), None) if from_server => code.to_string(),
        _ => e.to_string(),
    }
}

/// The text of an error nested in a reply (`Value::ServerError`, e.g. an element of an `EXEC` reply), as
/// the server sent it; `None` for any other value. (redis 0.27 does not export the `ServerError` type.)
pub fn server_error_text(v: &Value) -> Option<String> {
    match v {
        Value::ServerError(e) => Some(match e.details() {
            Some(d) => format!("{} {d}", e.code()),
            None => e.code().to_string(),
        }),
        _ => None,
    }
}

/// A compact one-line rendering of a reply, for assertions on nested structures:
///
/// | reply | rendering |
/// |---|---|
/// | nil | `nil` |
/// | integer | `42` |
/// | bulk string | `"abc"` (Rust-style escapes: `\"`, `\\`, `\n`, `\r`, `\t`, `\0`, `\xNN` for other bytes) |
/// | simple string / `+OK` | `OK` (bare) |
/// | array | `[1, "a", nil]` |
/// | RESP3 map | `{"k": 1, "j": 2}` (server order) |
/// | RESP3 set | `~["a", "b"]` |
/// | RESP3 double | `(double) 1.5` (`inf`, `-inf`, `nan`) |
/// | RESP3 boolean | `true` / `false` |
/// | RESP3 verbatim | `"text"` |
/// | RESP3 big number | `(big) 123` |
/// | push | `>[kind, ...]` |
/// | nested error | `(error) ERR text` |
pub fn show(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

fn write_value(out: &mut String, v: &Value) {
    let list = |out: &mut String, open: &str, items: &[Value], close: &str| {
        out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_value(out, item);
        }
        out.push_str(close);
    };
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::BulkString(b) => write_quoted(out, b),
        Value::SimpleString(s) => out.push_str(s),
        Value::Okay => out.push_str("OK"),
        Value::Array(items) => list(out, "[", items, "]"),
        Value::Set(items) => list(out, "~[", items, "]"),
        Value::Map(pairs) => {
            out.push('{');
            for (i, (k, val)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, k);
                out.push_str(": ");
                write_value(out, val);
            }
            out.push('}');
        }
        Value::Attribute { data, .. } => write_value(out, data),
        Value::Double(d) => {
            let _ = write!(out, "(double) {d}");
        }
        Value::Boolean(b) => {
            let _ = write!(out, "{b}");
        }
        Value::VerbatimString { text, .. } => write_quoted(out, text.as_bytes()),
        Value::BigNumber(n) => {
            let _ = write!(out, "(big) {n}");
        }
        Value::Push { kind, data } => {
            let _ = write!(out, ">[{kind:?}");
            for item in data {
                out.push_str(", ");
                write_value(out, item);
            }
            out.push(']');
        }
        Value::ServerError(_) => {
            let _ = write!(out, "(error) {}", server_error_text(v).unwrap_or_default());
        }
    }
}

fn write_quoted(out: &mut String, bytes: &[u8]) {
    out.push('"');
    out.push_str(&escape_bytes(bytes));
    out.push('"');
}

/// Bytes as text with Rust-style escapes for quotes, backslashes and non-printable or non-ASCII bytes.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0 => out.push_str("\\0"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

fn show_args<A: AsRef<[u8]>>(args: &[A]) -> String {
    args.iter()
        .map(|a| escape_bytes(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reply's text: bulk, simple and verbatim strings (and `+OK`); `None` for anything else.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Okay => Some("OK".into()),
        _ => None,
    }
}

/// `INFO <section>` as a map of `field -> value` (works on RESP2 and RESP3 connections).
pub fn info(conn: &mut Connection, section: &str) -> HashMap<String, String> {
    let v = cmd(conn, &["INFO", section])
        .unwrap_or_else(|e| panic!("INFO {section}: {}", err_text(&e)));
    let text = value_text(&v).unwrap_or_else(|| panic!("INFO {section}: got {}", show(&v)));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim_end().to_string()))
        .collect()
}

/// One field of `INFO <section>`, e.g. `info_field(c, "persistence", "aof_rewrite_in_progress")`.
pub fn info_field(conn: &mut Connection, section: &str, field: &str) -> Option<String> {
    info(conn, section).remove(field)
}

/// `used_memory` from `INFO memory`, in bytes.
pub fn used_memory(conn: &mut Connection) -> u64 {
    info_field(conn, "memory", "used_memory")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("INFO memory has no numeric used_memory"))
}

/// `CONFIG GET name` (the value; panics if there is no such parameter).
pub fn config_get(conn: &mut Connection, name: &str) -> String {
    let v = cmd(conn, &["CONFIG", "GET", name])
        .unwrap_or_else(|e| panic!("CONFIG GET {name}: {}", err_text(&e)));
    let text = match &v {
        Value::Array(items) => items.get(1).and_then(value_text),
        Value::Map(pairs) => pairs.first().and_then(|(_, val)| value_text(val)),
        _ => None,
    };
    text.unwrap_or_else(|| panic!("CONFIG GET {name}: got {}", show(&v)))
}

/// `DEBUG DIGEST`: 40 hex digits, all zeros for an empty dataset.
pub fn digest(conn: &mut Connection) -> String {
    let v = cmd(conn, &["DEBUG", "DIGEST"])
        .unwrap_or_else(|e| panic!("DEBUG DIGEST: {}", err_text(&e)));
    value_text(&v).unwrap_or_else(|| panic!("DEBUG DIGEST: got {}", show(&v)))
}

/// `DEBUG DIGEST-VALUE key`: the digest of one value (all zeros if the key does not exist).
pub fn digest_value(conn: &mut Connection, key: impl AsRef<[u8]>) -> String {
    let key = key.as_ref();
    let v = cmd(conn, &[b"DEBUG".as_slice(), b"DIGEST-VALUE", key])
        .unwrap_or_else(|e| panic!("DEBUG DIGEST-VALUE: {}", err_text(&e)));
    match &v {
        Value::Array(items) => items.first().and_then(value_text),
        other => value_text(other),
    }
    .unwrap_or_else(|| panic!("DEBUG DIGEST-VALUE: got {}", show(&v)))
}

/// Call `f` until it returns true or `timeout` passes; returns whether it became true. Polls at growing
/// intervals from 1 ms to 50 ms (never a single blind sleep).
pub fn poll_until(timeout: Duration, f: impl FnMut() -> bool) -> bool {
    poll_every(timeout, f)
}

/// [`poll_until`], panicking with `what` if the deadline passes.
pub fn wait_until(timeout: Duration, what: &str, f: impl FnMut() -> bool) {
    assert!(
        poll_every(timeout, f),
        "timed out after {timeout:?}: {what}"
    );
}

pub(crate) fn poll_every(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// A pub/sub connection capturing keyspace notifications (or any pattern subscription).
///
/// ```ignore
/// let mut events = Events::keyevents(&server, "KEA");   // CONFIG SET notify-keyspace-events KEA
/// cmd(&mut c, &["SET", "k", "v"])?;
/// assert_eq!(events.drain(), vec![("__keyevent@0__:set".into(), "k".into())]);
/// ```
///
/// [`drain`](Self::drain) needs no timeout: it sends `PING` on the subscribed connection and collects
/// messages until the `pong`. A server publishes a notification before it answers the command that
/// caused it, so everything caused by commands already answered is there.
pub struct Events {
    conn: Connection,
    pings: u64,
}

impl Events {
    /// `PSUBSCRIBE` to `patterns` on a new RESP2 connection.
    pub fn psubscribe(server: &Server, patterns: &[&str]) -> Events {
        let mut conn = server.conn();
        let mut c = redis::cmd("PSUBSCRIBE");
        for p in patterns {
            c.arg(*p);
        }
        conn.send_packed_command(&c.get_packed_command())
            .unwrap_or_else(|e| panic!("PSUBSCRIBE: {}", err_text(&e)));
        for _ in patterns {
            match conn.recv_response() {
                Ok(Value::Array(items))
                    if items.first().and_then(value_text).as_deref() == Some("psubscribe") => {}
                Ok(other) => panic!("PSUBSCRIBE: unexpected reply {}", show(&other)),
                Err(e) => panic!("PSUBSCRIBE: {}", err_text(&e)),
            }
        }
        Events { conn, pings: 0 }
    }

    /// `CONFIG SET notify-keyspace-events <flags>` and subscribe to the key-event channels of all
    /// databases (`__keyevent@*__:*`): each message is `("__keyevent@<db>__:<event>", key)`.
    pub fn keyevents(server: &Server, flags: &str) -> Events {
        let mut c = server.conn();
        if let Err(e) = cmd(&mut c, &["CONFIG", "SET", "notify-keyspace-events", flags]) {
            panic!("CONFIG SET notify-keyspace-events: {}", err_text(&e));
        }
        Self::psubscribe(server, &["__keyevent@*__:*"])
    }

    /// All messages received so far, as `(channel, payload)` (lossy UTF-8), oldest first.
    pub fn drain(&mut self) -> Vec<(String, String)> {
        self.drain_raw()
            .into_iter()
            .map(|(c, p)| {
                (
                    String::from_utf8_lossy(&c).into_owned(),
                    String::from_utf8_lossy(&p).into_owned(),
                )
            })
            .collect()
    }

    /// Like [`drain`](Self::drain), binary-safe.
    pub fn drain_raw(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.pings += 1;
        let token = format!("tair-tests-barrier-{}", self.pings);
        let ping = redis::cmd("PING").arg(&token).get_packed_command();
        self.conn
            .send_packed_command(&ping)
            .unwrap_or_else(|e| panic!("PING on the subscribed connection: {}", err_text(&e)));
        let mut out = Vec::new();
        loop {
            let v = self
                .conn
                .recv_response()
                .unwrap_or_else(|e| panic!("reading notifications: {}", err_text(&e)));
            let Value::Array(items) = &v else {
                panic!(
                    "unexpected message on the subscribed connection: {}",
                    show(&v)
                );
            };
            let bytes = |i: usize| match items.get(i) {
                Some(Value::BulkString(b)) => b.clone(),
                Some(other) => value_text(other).unwrap_or_default().into_bytes(),
                None => Vec::new(),
            };
            match items.first().and_then(value_text).as_deref() {
                Some("pong") if bytes(1) == token.as_bytes() => return out,
                Some("pmessage") => out.push((bytes(2), bytes(3))),
                Some("message") => out.push((bytes(1), bytes(2))),
                _ => panic!(
                    "unexpected message on the subscribed connection: {}",
                    show(&v)
                ),
            }
        }
    }
}
