//! ACL categories: every module command is in its module's category (`@tairhash` ...) and in the
//! standard ones its flags imply (`@write` or `@read`, `@fast` or `@slow`, `@blocking`), so that
//! `ACL SETUSER u +@tairhash` grants exactly one module's commands.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use tair_tests::*;

/// One command of each module that a user of that module's category may run.
const MODULES: [(&str, &[&str]); 6] = [
    ("tairstring", &["EXSET", "acl:s", "v"]),
    ("tairhash", &["EXHSET", "acl:h", "f", "v"]),
    ("tairzset", &["EXZADD", "acl:z", "1", "m"]),
    ("tairbloom", &["TFBFADD", "acl:b", "x"]),
    ("tairdoc", &["EXJSONSET", "acl:d", "$", "{}"]),
    ("tairgis", &["GIS.ADD", "acl:g", "p", "POINT (120.1 30.2)"]),
];

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) | Value::Set(items) => items.iter().filter_map(value_text).collect(),
        other => panic!("not an array: {}", show(other)),
    }
}

fn server() -> Server {
    let mut b = Server::builder();
    for (m, _) in MODULES {
        b = b.module(m);
    }
    b.start()
}

#[test]
fn every_command_has_its_module_category_and_the_implied_ones() {
    let s = server();
    let mut c = s.conn();
    for (module, _) in MODULES {
        let names =
            strings(&cmd(&mut c, &["COMMAND", "LIST", "FILTERBY", "MODULE", module]).unwrap());
        assert!(!names.is_empty(), "{module} registers no command");
        for name in names {
            let info = cmd(&mut c, &["COMMAND", "INFO", &name]).unwrap();
            let Value::Array(outer) = info else {
                panic!("COMMAND INFO {name}: {}", show(&info))
            };
            let Some(Value::Array(fields)) = outer.first() else {
                panic!("COMMAND INFO {name}: {}", show(&outer[0]))
            };
            let flags: BTreeSet<String> = strings(&fields[2]).into_iter().collect();
            let cats: BTreeSet<String> = strings(&fields[6]).into_iter().collect();
            let has = |c: &str| cats.contains(c);
            assert!(has(&format!("@{module}")), "{name}: {cats:?}");
            assert_eq!(has("@write"), flags.contains("write"), "{name}: {cats:?}");
            assert_eq!(has("@read"), flags.contains("readonly"), "{name}: {cats:?}");
            assert_eq!(has("@fast"), flags.contains("fast"), "{name}: {cats:?}");
            assert_eq!(has("@slow"), !flags.contains("fast"), "{name}: {cats:?}");
            assert_eq!(
                has("@blocking"),
                flags.contains("blocking"),
                "{name}: {cats:?}"
            );
        }
    }
    // The categories are listed as the server's own.
    let all = strings(&cmd(&mut c, &["ACL", "CAT"]).unwrap());
    for (module, _) in MODULES {
        assert!(all.iter().any(|x| x == module), "ACL CAT lacks {module}");
    }
}

#[test]
fn a_user_of_one_module_category_is_refused_the_others() {
    let s = server();
    let mut admin = s.conn();
    for (module, allowed) in MODULES {
        let user = format!("only-{module}");
        cmd(
            &mut admin,
            &[
                "ACL",
                "SETUSER",
                &user,
                "on",
                ">pw",
                "~*",
                &format!("+@{module}"),
            ],
        )
        .unwrap();
        let mut c = s.conn();
        cmd(&mut c, &["AUTH", &user, "pw"]).unwrap();
        cmd(&mut c, allowed).unwrap_or_else(|e| panic!("{user} {allowed:?}: {}", err_text(&e)));
        for (other, refused) in MODULES {
            if other == module {
                continue;
            }
            let e = cmd_err(&mut c, refused);
            assert!(e.starts_with("NOPERM"), "{user} {refused:?}: {e}");
        }
        // Native commands are not in a module's category.
        assert!(cmd_err(&mut c, &["SET", "k", "v"]).starts_with("NOPERM"));
    }
    // And a category can be taken away from a user who has everything else.
    cmd(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "no-zset",
            "on",
            ">pw",
            "~*",
            "+@all",
            "-@tairzset",
        ],
    )
    .unwrap();
    let mut c = s.conn();
    cmd(&mut c, &["AUTH", "no-zset", "pw"]).unwrap();
    assert!(cmd_err(&mut c, &["EXZADD", "acl:z2", "1", "m"]).starts_with("NOPERM"));
    cmd(&mut c, &["EXSET", "acl:s2", "v"]).unwrap();
}
