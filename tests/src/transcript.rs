//! Runs the specs' acceptance transcripts verbatim against a real server.
//!
//! A transcript is what `valkey-cli` shows: lines `> CMD args` (or `P> ...` / `R> ...` for named
//! connections) followed by the expected reply in valkey-cli's TTY format. Also understood:
//! - `> CMD ...   -> an integer in A..B` : the reply must be an integer in that range;
//! - `(after N ms)` : wait N ms (the transcript's own clock step, not a synchronisation);
//! - text after `(` on a command line such as `(wait until done)` is dropped.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use redis::{Connection, Value};

/// Splits a command line like valkey-cli: spaces separate, `"..."` quotes with `\n \r \t \" \\ \xHH`.
pub fn split_line(line: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut cur = Vec::new();
        if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    match b[i] {
                        b'n' => cur.push(b'\n'),
                        b'r' => cur.push(b'\r'),
                        b't' => cur.push(b'\t'),
                        b'x' if i + 2 < b.len() => {
                            let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                            cur.push(u8::from_str_radix(h, 16).unwrap());
                            i += 2;
                        }
                        c => cur.push(c),
                    }
                } else {
                    cur.push(b[i]);
                }
                i += 1;
            }
            i += 1;
        } else {
            while i < b.len() && b[i] != b' ' {
                cur.push(b[i]);
                i += 1;
            }
        }
        out.push(cur);
    }
    out
}

fn quote(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in bytes {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// Formats a reply as valkey-cli does on a terminal (one string, lines joined by '\n').
pub fn format_reply(v: &Value) -> String {
    format_indented(v, 0)
}

fn format_indented(v: &Value, indent: usize) -> String {
    match v {
        Value::Nil => "(nil)".into(),
        Value::Int(i) => format!("(integer) {i}"),
        Value::BulkString(b) => quote(b),
        Value::Okay => "OK".into(),
        Value::SimpleString(s) if s.is_empty() => "\"\"".into(),
        Value::SimpleString(s) => s.clone(),
        Value::Double(d) => format!("(double) {d}"),
        Value::Boolean(b) => format!("({})", if *b { "true" } else { "false" }),
        Value::ServerError(_) => match crate::client::server_error_text(v) {
            Some(t) => format!("(error) {t}"),
            None => format!("{v:?}"),
        },
        Value::Array(items) | Value::Set(items) => format_list(items.iter(), indent, ")"),
        Value::Map(pairs) => {
            if pairs.is_empty() {
                return "(empty hash)".into();
            }
            let mut lines = Vec::new();
            let w = pairs.len().to_string().len();
            for (i, (k, val)) in pairs.iter().enumerate() {
                let prefix = format!("{:>w$}# ", i + 1);
                let pad = indent + prefix.len();
                let key = format_indented(k, pad);
                let value = format_indented(val, pad + key.len() + 4);
                lines.push(format!("{prefix}{key} => {value}"));
            }
            lines.join(&format!("\n{}", " ".repeat(indent)))
        }
        other => format!("{other:?}"),
    }
}

fn format_list<'a>(
    items: impl ExactSizeIterator<Item = &'a Value>,
    indent: usize,
    mark: &str,
) -> String {
    let n = items.len();
    if n == 0 {
        return "(empty array)".into();
    }
    let w = n.to_string().len();
    let mut lines = Vec::new();
    for (i, item) in items.enumerate() {
        let prefix = format!("{:>w$}{mark} ", i + 1);
        lines.push(format!(
            "{prefix}{}",
            format_indented(item, indent + prefix.len())
        ));
    }
    lines.join(&format!("\n{}", " ".repeat(indent)))
}

/// The reply as valkey-cli shows it; a top-level error as `(error) TEXT`.
fn exec(conn: &mut Connection, args: &[Vec<u8>]) -> (String, Option<Value>) {
    match crate::client::cmd(conn, args) {
        Ok(v) => (format_reply(&v), Some(v)),
        Err(e) => (format!("(error) {}", crate::client::err_text(&e)), None),
    }
}

struct Step {
    conn: String,
    line: String,
    args: Vec<Vec<u8>>,
    range: Option<(i64, i64)>,
    expected: Vec<String>,
}

fn parse(script: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for raw in script.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        if let Some(ms) = line
            .trim()
            .strip_prefix("(after ")
            .and_then(|r| r.strip_suffix(" ms)"))
        {
            steps.push(Step {
                conn: String::new(),
                line: line.into(),
                args: vec![b"__SLEEP".to_vec(), ms.as_bytes().to_vec()],
                range: None,
                expected: vec![],
            });
            continue;
        }
        if let Some(pos) = line.find("> ") {
            let name = &line[..pos];
            if name.chars().all(|c| c.is_ascii_alphanumeric()) && !line.starts_with(' ') {
                let mut cmdline = line[pos + 2..].to_string();
                let mut range = None;
                if let Some(arrow) = cmdline.find("->") {
                    let spec = cmdline[arrow + 2..].trim().to_string();
                    cmdline.truncate(arrow);
                    if let Some(r) = spec.strip_prefix("an integer in ") {
                        let r = r.split_whitespace().next().unwrap();
                        let (a, b) = r.split_once("..").unwrap();
                        range = Some((a.parse().unwrap(), b.parse().unwrap()));
                    }
                }
                if let Some(paren) = cmdline.find("  (") {
                    cmdline.truncate(paren);
                }
                steps.push(Step {
                    conn: name.to_string(),
                    line: line.to_string(),
                    args: split_line(cmdline.trim()),
                    range,
                    expected: vec![],
                });
                continue;
            }
        }
        steps
            .last_mut()
            .unwrap_or_else(|| panic!("transcript starts with a reply line: {line}"))
            .expected
            .push(line.to_string());
    }
    steps
}

/// Runs a transcript on one connection (prompt `> `).
pub fn run(conn: &mut Connection, script: &str) {
    run_on(&mut [("", conn)], script);
}

/// Runs a transcript whose prompts name connections (`P> `, `R> `).
pub fn run_on(conns: &mut [(&str, &mut Connection)], script: &str) {
    for step in parse(script) {
        if step.args.first().map(|a| a.as_slice()) == Some(b"__SLEEP") {
            let ms: u64 = std::str::from_utf8(&step.args[1]).unwrap().parse().unwrap();
            std::thread::sleep(Duration::from_millis(ms));
            continue;
        }
        let conn = conns
            .iter_mut()
            .find(|(n, _)| *n == step.conn)
            .map(|(_, c)| &mut **c)
            .unwrap_or_else(|| panic!("no connection named {:?}", step.conn));
        let (got, reply) = exec(conn, &step.args);
        if let Some((lo, hi)) = step.range {
            match reply {
                Some(Value::Int(i)) if (lo..=hi).contains(&i) => {}
                _ => panic!(
                    "{}\n  expected an integer in {lo}..{hi}, got {got}",
                    step.line
                ),
            }
            continue;
        }
        if step.expected.is_empty() {
            continue;
        }
        let want = step.expected.join("\n");
        assert_eq!(got, want, "\n  at: {}\n", step.line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_formats() {
        assert_eq!(
            split_line(r#"EXSET k "a b" "\x00\xff""#),
            vec![
                b"EXSET".to_vec(),
                b"k".to_vec(),
                b"a b".to_vec(),
                vec![0, 0xff]
            ]
        );
        let v = Value::Array(vec![
            Value::Okay,
            Value::SimpleString(String::new()),
            Value::Int(101),
        ]);
        assert_eq!(format_reply(&v), "1) OK\n2) \"\"\n3) (integer) 101");
        let nested = Value::Array(vec![Value::Array(vec![
            Value::BulkString(b"a".to_vec()),
            Value::Int(1),
        ])]);
        assert_eq!(format_reply(&nested), "1) 1) \"a\"\n   2) (integer) 1");
    }
}
