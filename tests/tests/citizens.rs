//! What every module gets from tair-common by declaring tables, checked across all six: COMMAND DOCS for
//! every registered command (a summary, a since, a complexity, the module's group, and an argument tree
//! wherever the command takes arguments), and the INFO section with the fields every module has
//! (`<module>_keys`, `<module>_memory`) moving with the workload. Module-specific configs and INFO fields
//! are tested in each module's own file.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use tair_tests::*;

const MODULES: [&str; 6] = [
    "tairstring",
    "tairhash",
    "tairzset",
    "tairbloom",
    "tairdoc",
    "tairgis",
];

/// One command per module that creates a key of the module's type named by `{}`.
fn create(module: &str, key: &str) -> Vec<String> {
    let v: Vec<&str> = match module {
        "tairstring" => vec!["EXSET", key, "value"],
        "tairhash" => vec!["EXHSET", key, "field", "value"],
        "tairzset" => vec!["EXZADD", key, "1", "member"],
        "tairbloom" => vec!["TFBFADD", key, "item"],
        "tairdoc" => vec!["EXJSONSET", key, "$", r#"{"a":[1,2,3]}"#],
        "tairgis" => vec!["GIS.ADD", key, "p", "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"],
        other => panic!("no creator for {other}"),
    };
    v.into_iter().map(String::from).collect()
}

fn server() -> Server {
    Server::with_modules(&MODULES)
}

/// A RESP2 flat [name, value, name, value ...] array as a map.
fn pairs(v: &Value) -> BTreeMap<String, Value> {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .filter_map(|p| Some((value_text(p.first()?)?, p.get(1)?.clone())))
            .collect(),
        Value::Map(items) => items
            .iter()
            .filter_map(|(k, v)| Some((value_text(k)?, v.clone())))
            .collect(),
        other => panic!("not a map: {}", show(other)),
    }
}

#[test]
fn every_module_command_has_complete_docs() {
    let s = server();
    let mut c = s.conn();
    let mut missing = Vec::new();
    let mut checked = 0;
    for module in MODULES {
        let names = match cmd(&mut c, &["COMMAND", "LIST", "FILTERBY", "MODULE", module]).unwrap() {
            Value::Array(v) | Value::Set(v) => v.iter().filter_map(value_text).collect::<Vec<_>>(),
            other => panic!("{}", show(&other)),
        };
        assert!(names.len() > 2, "{module}: {names:?}");
        for name in names {
            checked += 1;
            let docs = cmd(&mut c, &["COMMAND", "DOCS", &name]).unwrap();
            let outer = pairs(&docs);
            let Some(doc) = outer.get(&name) else {
                missing.push(format!("{module} {name}: no COMMAND DOCS entry"));
                continue;
            };
            let doc = pairs(doc);
            for field in ["summary", "since", "complexity"] {
                match doc.get(field).and_then(value_text) {
                    Some(t) if !t.trim().is_empty() => {}
                    _ => missing.push(format!("{module} {name}: no {field}")),
                }
            }
            if doc.get("group").and_then(value_text).as_deref() != Some("module") {
                missing.push(format!("{module} {name}: group {:?}", doc.get("group")));
            }
            // Arity from COMMAND INFO: a command that takes arguments documents them.
            let info = cmd(&mut c, &["COMMAND", "INFO", &name]).unwrap();
            let arity = match &info {
                Value::Array(o) => match o.first() {
                    Some(Value::Array(f)) => match f.get(1) {
                        Some(Value::Int(a)) => *a,
                        _ => 0,
                    },
                    _ => 0,
                },
                _ => 0,
            };
            let takes_args = !(-1..=1).contains(&arity);
            let args = match doc.get("arguments") {
                Some(Value::Array(a)) => a.len(),
                _ => 0,
            };
            if takes_args && args == 0 {
                missing.push(format!("{module} {name}: arity {arity} and no arguments"));
            }
        }
    }
    assert!(checked > 60, "only {checked} commands");
    assert!(
        missing.is_empty(),
        "{} of {checked} commands lack docs:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let text = value_text(&cmd(c, &["INFO", section]).unwrap()).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn every_module_info_section_counts_its_keys_and_memory() {
    let s = server();
    let mut c = s.conn();
    cmd(&mut c, &["CONFIG", "SET", "lazyfree-lazy-user-flush", "no"]).unwrap();
    for module in MODULES {
        let keys = format!("{module}_keys");
        let memory = format!("{module}_memory");
        assert_eq!(info_field(&mut c, module, &keys), 0, "{module}");
        let m0 = info_field(&mut c, module, &memory);
        for i in 0..200 {
            let args = create(module, &format!("ck:{module}:{i}"));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cmd(&mut c, &args).unwrap();
        }
        assert_eq!(info_field(&mut c, module, &keys), 200, "{module}");
        let m1 = info_field(&mut c, module, &memory);
        assert!(m1 >= m0 + 200 * 8, "{module}: memory {m0} -> {m1}");
        // The section is also in INFO modules' neighbourhood: `INFO everything` lists it.
        let all = value_text(&cmd(&mut c, &["INFO", "everything"]).unwrap()).unwrap();
        assert!(all.contains(&format!("# {module}")), "{module}");
        // COPY and RESTORE make values too; DEL frees them.
        cmd(&mut c, &["COPY", &format!("ck:{module}:0"), "ck:copy"]).unwrap();
        let dump = cmd(&mut c, &["DUMP", &format!("ck:{module}:1")]).unwrap();
        let Value::BulkString(dump) = dump else {
            panic!("{module}")
        };
        redis::cmd("RESTORE")
            .arg("ck:restored")
            .arg(0)
            .arg(dump)
            .query::<()>(&mut c)
            .unwrap();
        assert_eq!(info_field(&mut c, module, &keys), 202, "{module}");
        cmd(
            &mut c,
            &["DEL", "ck:copy", "ck:restored", &format!("ck:{module}:2")],
        )
        .unwrap();
        assert_eq!(info_field(&mut c, module, &keys), 199, "{module}");
        // A reload keeps the count; FLUSHALL returns keys and memory to where they were.
        s.debug_reload(&mut c);
        assert_eq!(
            info_field(&mut c, module, &keys),
            199,
            "{module} after DEBUG RELOAD"
        );
        cmd(&mut c, &["FLUSHALL", "SYNC"]).unwrap();
        assert_eq!(info_field(&mut c, module, &keys), 0, "{module}");
        let m2 = info_field(&mut c, module, &memory);
        assert!(
            m2 <= m0 + 4096,
            "{module}: memory {m0} -> {m1} -> {m2} after FLUSHALL"
        );
    }
}
