//! Valgrind memcheck of every module (issue 15), run by `scripts/valgrind.sh` (see scripts/valgrind.md):
//! a workload of every command of every module, persistence (SAVE, BGSAVE, DEBUG RELOAD, AOF rewrite and
//! a restart from it), DUMP/RESTORE, COPY, lazy free and a replica, on servers started through a
//! memcheck wrapper (`VALKEY_SERVER`). Then both servers shut down cleanly and the memcheck logs
//! (`TAIR_VALGRIND_LOGS`) must hold no error and no definite/indirect leak with a frame in module code.
//!
//! Ignored by `cargo test`: it needs the wrapper and takes minutes.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use tair_tests::faults::{all_modules, build_big_value, ALL_MODULES};
use tair_tests::*;

/// Every command of every module at least once (errors included: their paths are code too).
const WORKLOAD: &[&[&str]] = &[
    // tairstring
    &["EXSET", "s", "v1", "EX", "1000", "FLAGS", "3"],
    &["EXGET", "s", "WITHFLAGS"],
    &["EXSETVER", "s", "7"],
    &["EXCAS", "s", "v2", "7"],
    &["EXCAS", "s", "v3", "1"],
    &["EXAPPEND", "s", "-tail", "VER", "8"],
    &["EXPREPEND", "s", "head-"],
    &["EXGAE", "s", "EX", "2000"],
    &["EXINCRBY", "si", "5"],
    &["EXINCRBYFLOAT", "sf", "1.5"],
    &["EXCAD", "si", "1"],
    &["SET", "plain", "a"],
    &["CAS", "plain", "a", "b"],
    &["CAD", "plain", "b"],
    &["EXSET", "s2", "x"],
    // tairhash
    &["EXHSET", "h", "f1", "v1", "EX", "1000"],
    &["EXHSETNX", "h", "f2", "v2"],
    &["EXHMSET", "h", "f3", "v3", "f4", "v4"],
    &[
        "EXHMSETWITHOPTS",
        "h",
        "f5",
        "v5",
        "0",
        "100",
        "f6",
        "v6",
        "0",
        "0",
    ],
    &["EXHGET", "h", "f1"],
    &["EXHMGET", "h", "f1", "f2", "nof"],
    &["EXHGETWITHVER", "h", "f1"],
    &["EXHMGETWITHVER", "h", "f1", "f3"],
    &["EXHSETVER", "h", "f1", "9"],
    &["EXHVER", "h", "f1"],
    &["EXHLEN", "h"],
    &["EXHEXISTS", "h", "f2"],
    &["EXHSTRLEN", "h", "f2"],
    &["EXHKEYS", "h"],
    &["EXHVALS", "h"],
    &["EXHGETALL", "h"],
    &["EXHGETALLWITHVER", "h"],
    &["EXHINCRBY", "h", "n", "3"],
    &["EXHINCRBYFLOAT", "h", "nf", "2.5"],
    &["EXHEXPIRE", "h", "f2", "100"],
    &["EXHPEXPIRE", "h", "f3", "100000"],
    &["EXHEXPIREAT", "h", "f4", "4000000000"],
    &["EXHPEXPIREAT", "h", "f5", "4000000000000"],
    &["EXHTTL", "h", "f2"],
    &["EXHPTTL", "h", "f3"],
    &["EXHPERSIST", "h", "f2"],
    &["EXHSCAN", "h", "0", "MATCH", "f*", "COUNT", "10"],
    &["EXHDELWITHVER", "h", "f6", "1"],
    &["EXHDEL", "h", "f4"],
    &["EXHEXPIREINFO"],
    &["EXHSET", "h2", "a", "1", "PX", "1"],
    &["EXHDELREPL", "h2", "a"],
    // tairzset
    &[
        "EXZADD", "z", "1#2", "a", "3#4", "b", "5#6", "c", "7#8", "d",
    ],
    &["EXZADD", "z2", "1#1", "b", "2#2", "c", "3#3", "x"],
    &["EXZINCRBY", "z", "1#1", "a"],
    &["EXZSCORE", "z", "a"],
    &["EXZMSCORE", "z", "a", "nobody"],
    &["EXZCARD", "z"],
    &["EXZCOUNT", "z", "-inf", "+inf"],
    &["EXZLEXCOUNT", "z", "-", "+"],
    &["EXZRANK", "z", "b"],
    &["EXZREVRANK", "z", "b"],
    &["EXZRANKBYSCORE", "z", "4#4"],
    &["EXZREVRANKBYSCORE", "z", "4#4"],
    &["EXZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["EXZREVRANGE", "z", "0", "-1", "WITHSCORES"],
    &[
        "EXZRANGEBYSCORE",
        "z",
        "-inf",
        "+inf",
        "WITHSCORES",
        "LIMIT",
        "0",
        "3",
    ],
    &["EXZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"],
    &["EXZRANGEBYLEX", "z", "-", "+"],
    &["EXZREVRANGEBYLEX", "z", "+", "-"],
    &["EXZRANDMEMBER", "z", "-5", "WITHSCORES"],
    &["EXZSCAN", "z", "0", "COUNT", "10"],
    &["EXZUNION", "2", "z", "z2", "WITHSCORES"],
    &["EXZINTER", "2", "z", "z2", "WITHSCORES"],
    &["EXZDIFF", "2", "z", "z2", "WITHSCORES"],
    &["EXZINTERCARD", "2", "z", "z2", "LIMIT", "1"],
    &["EXZUNIONSTORE", "zu", "2", "z", "z2", "WEIGHTS", "2", "3"],
    &["EXZINTERSTORE", "zi", "2", "z", "z2", "AGGREGATE", "MAX"],
    &["EXZDIFFSTORE", "zd", "2", "z", "z2"],
    &["EXZPOPMIN", "zu"],
    &["EXZPOPMAX", "zu", "2"],
    &["EXBZPOPMIN", "zu", "0.01"],
    &["EXBZPOPMAX", "nokey", "zu", "0.01"],
    &["EXZREM", "z", "d"],
    &["EXZREMRANGEBYRANK", "zi", "0", "0"],
    &["EXZREMRANGEBYSCORE", "zd", "-inf", "+inf"],
    &["EXZREMRANGEBYLEX", "z2", "[x", "[x"],
    // tairbloom
    &["TFBFRESERVE", "b", "0.01", "1000"],
    &["TFBFADD", "b", "item1"],
    &["TFBFMADD", "b", "item2", "item3"],
    &["TFBFEXISTS", "b", "item1"],
    &["TFBFMEXISTS", "b", "item1", "nope"],
    &[
        "TFBFINSERT",
        "b2",
        "CAPACITY",
        "100",
        "ERROR",
        "0.001",
        "ITEMS",
        "a",
        "b",
    ],
    &["TFBFINFO", "b"],
    &["TFBFCARD", "b"],
    &["TFBFDEBUG", "b"],
    &["TFBFSCANDUMP", "b", "0"],
    &["TFBFLOADCHUNK", "b3", "1", "garbage"],
    // tairdoc
    &[
        "EXJSONSET",
        "d",
        "$",
        r#"{"a":[1,2,3],"s":"str","n":1,"o":{"k":"v"}}"#,
    ],
    &["EXJSONGET", "d", "$"],
    &["EXJSONGET", "d", ".", "FORMAT", "YAML"],
    &[
        "EXJSONGET",
        "d",
        ".",
        "FORMAT",
        "XML",
        "ROOTNAME",
        "R",
        "ARRNAME",
        "A",
    ],
    &["EXJSONMGET", "d", "nokey", "$.n"],
    &["EXJSONTYPE", "d", "$.*"],
    &["EXJSONDEL", "d", "$.o.k"],
    &["EXJSONFORGET", "d", "$.o"],
    &["EXJSONINCRBY", "d", "$.n", "2"],
    &["EXJSONINCRBYFLOAT", "d", "$.n", "0.5"],
    &["EXJSONNUMINCRBY", "d", "$.a[*]", "1"],
    &["EXJSONSTRAPPEND", "d", "$.s", "\"more\""],
    &["EXJSONSTRLEN", "d", "$.s"],
    &["EXJSONARRAPPEND", "d", "$.a", "4", "5"],
    &["EXJSONARRAYAPPEND", "d", "$.a", "6"],
    &["EXJSONARRPUSH", "d", "$.a", "7"],
    &["EXJSONARRINSERT", "d", ".a", "0", "0"],
    &["EXJSONARRLEN", "d", "$.a"],
    &["EXJSONARRPOP", "d", ".a"],
    &["EXJSONARRTRIM", "d", ".a", "0", "3"],
    &["EXJSONSET", "d", "$.bad", "{abc"],
    // tairgis
    &[
        "GIS.ADD",
        "g",
        "p1",
        "POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))",
        "p2",
        "POINT (5 5)",
    ],
    &["GISADD", "g", "l1", "LINESTRING (0 0, 10 10)"],
    &["GIS.GET", "g", "p1"],
    &["GIS.GETALL", "g", "WITHOUTWKT"],
    &["GIS.CONTAINS", "g", "POINT (1 1)"],
    &["GISCONTAINS", "g", "POINT (1 1)"],
    &[
        "GIS.WITHIN",
        "g",
        "POLYGON ((-1 -1, 20 -1, 20 20, -1 20, -1 -1))",
    ],
    &[
        "GISWITHIN",
        "g",
        "POLYGON ((-1 -1, 20 -1, 20 20, -1 20, -1 -1))",
    ],
    &["GIS.INTERSECTS", "g", "LINESTRING (0 1, 3 1)"],
    &["GISINTERSECTS", "g", "POINT (5 5)"],
    &[
        "GIS.SEARCH",
        "g",
        "RADIUS",
        "1",
        "1",
        "500",
        "km",
        "WITHDIST",
        "ASC",
        "COUNT",
        "10",
    ],
    &["GIS.DEL", "g", "l1"],
    &["GIS.ADD", "g", "bad", "POLYGON ((0 0, 1"],
];

/// Keys to round-trip through DUMP/RESTORE and COPY.
const KEYS: [&str; 7] = ["s", "h", "z", "b", "b2", "d", "g"];

fn run_workload(c: &mut redis::Connection) -> Vec<String> {
    let mut errors = Vec::new();
    for w in WORKLOAD {
        if let Err(e) = cmd(c, w) {
            errors.push(format!("{}: {}", w.join(" "), err_text(&e)));
        }
    }
    // Chunks of a filter's dump loaded into a new key, as an AOF rewrite would.
    query::<i64, _>(c, &["DEL", "b4"]);
    let mut it = 0i64;
    loop {
        let (next, data): (i64, Vec<u8>) = query(c, &["TFBFSCANDUMP", "b", &it.to_string()]);
        if next == 0 {
            break;
        }
        query::<(), _>(
            c,
            &[
                b"TFBFLOADCHUNK".as_slice(),
                b"b4",
                next.to_string().as_bytes(),
                &data,
            ],
        );
        it = next;
    }
    for k in KEYS {
        let dump: Vec<u8> = query(c, &["DUMP", k]);
        let copy = format!("{k}:restored");
        query::<(), _>(
            c,
            &[
                b"RESTORE".as_slice(),
                copy.as_bytes(),
                b"0",
                &dump,
                b"REPLACE",
            ],
        );
        query::<i64, _>(c, &["COPY", k, &format!("{k}:copy"), "REPLACE"]);
        let _: Option<i64> = query(c, &["MEMORY", "USAGE", k]);
        let _ = cmd(c, &["DEBUG", "DIGEST-VALUE", k]);
    }
    errors
}

/// Every module command must appear in the workload.
fn check_coverage(c: &mut redis::Connection) {
    let used: BTreeSet<String> = WORKLOAD.iter().map(|w| w[0].to_ascii_lowercase()).collect();
    for m in ALL_MODULES {
        let names: Vec<String> = query(c, &["COMMAND", "LIST", "FILTERBY", "MODULE", m]);
        assert!(!names.is_empty(), "{m} registers no command");
        let missing: Vec<&String> = names.iter().filter(|n| !used.contains(*n)).collect();
        assert!(
            missing.is_empty(),
            "{m} commands missing from the workload: {missing:?}"
        );
    }
}

/// SHUTDOWN NOSAVE and wait until the process (memcheck writes its leak report first) has exited.
fn stop(server: &mut Server) {
    let mut c = server.conn();
    let _ = cmd(&mut c, &["SHUTDOWN", "NOSAVE"]);
    let exited = poll_until(Duration::from_secs(300), || !server.is_running());
    assert!(exited, "server under memcheck did not exit");
}

/// One memcheck log's findings: errors and definite/indirect leak records, each as its text, split by
/// whether a stack frame is module code (Rust source, a `tair` symbol, or a `libtair*.so` object).
#[derive(Default, Debug)]
struct Findings {
    module_errors: Vec<String>,
    other_errors: usize,
    module_leaks: Vec<String>,
    other_leaks: usize,
    leaked_bytes_other: u64,
}

fn is_module_frame(line: &str) -> bool {
    let l = line.trim_start_matches(|c: char| c == '=' || c.is_ascii_digit() || c == ' ');
    (l.starts_with("at ") || l.starts_with("by "))
        && (l.contains("libtair")
            || l.contains(".rs:")
            || l.contains("tair_")
            || l.contains("tair"))
}

fn scan_log(text: &str, f: &mut Findings) {
    // Records are separated by an empty `==pid== ` line.
    let mut blocks: Vec<Vec<&str>> = vec![Vec::new()];
    for line in text.lines() {
        let body = line
            .trim_start_matches(|c: char| c == '=' || c.is_ascii_digit())
            .trim();
        if body.is_empty() {
            blocks.push(Vec::new());
        } else if let Some(b) = blocks.last_mut() {
            b.push(line);
        }
    }
    for b in blocks.iter().filter(|b| !b.is_empty()) {
        let head = b[0];
        let has_frames = b
            .iter()
            .any(|l| l.contains(" at 0x") || l.contains(" by 0x"));
        if !has_frames {
            continue;
        }
        let module = b.iter().any(|l| is_module_frame(l));
        let is_leak = head.contains("definitely lost") || head.contains("indirectly lost");
        let is_error = !is_leak
            && !head.contains("possibly lost")
            && !head.contains("still reachable")
            && !head.contains("Process terminating");
        if is_leak {
            if module {
                f.module_leaks.push(b.join("\n"));
            } else {
                f.other_leaks += 1;
                f.leaked_bytes_other += head
                    .split_whitespace()
                    .find_map(|w| w.replace(',', "").parse::<u64>().ok())
                    .unwrap_or(0);
            }
        } else if is_error {
            if module {
                f.module_errors.push(b.join("\n"));
            } else {
                f.other_errors += 1;
            }
        }
    }
}

#[test]
#[ignore = "run by scripts/valgrind.sh (needs the memcheck wrapper as VALKEY_SERVER)"]
fn every_module_under_memcheck_has_no_error_and_no_leak() {
    let logs = std::env::var("TAIR_VALGRIND_LOGS")
        .expect("TAIR_VALGRIND_LOGS: run this through scripts/valgrind.sh");
    let logs = Path::new(&logs);

    let mut p = all_modules()
        .config("lazyfree-lazy-user-del", "yes")
        .config("repl-diskless-sync", "yes")
        .start();
    let mut c = p.conn();
    check_coverage(&mut c);
    let errors = run_workload(&mut c);
    eprintln!(
        "workload: {} commands, {} error replies:",
        WORKLOAD.len(),
        errors.len()
    );
    for e in &errors {
        eprintln!("  {e}");
    }
    // Big values freed in the background (lazy free) and a second round on existing keys.
    for m in ALL_MODULES {
        build_big_value(&mut c, m, &format!("big:{m}"), 2000);
    }
    let _ = run_workload(&mut c);

    // A replica (also under memcheck): full sync loads every type through rdb_load.
    let r = Server::replica_of(&p);
    r.wait_for_sync();
    query::<(), _>(&mut c, &["EXSET", "after-sync", "1"]);
    wait_replicated(&mut c, &r);
    let d = digest(&mut c);
    assert_eq!(digest(&mut r.conn()), d, "replica digest");

    for m in ALL_MODULES {
        query::<i64, _>(&mut c, &["UNLINK", &format!("big:{m}")]);
    }
    query::<(), _>(&mut c, &["SAVE"]);
    query::<String, _>(&mut c, &["BGSAVE"]);
    wait_until(BACKGROUND_TIMEOUT * 4, "BGSAVE done", || {
        info_field(&mut c, "persistence", "rdb_bgsave_in_progress").as_deref() == Some("0")
    });
    let d = digest(&mut c);
    p.debug_reload(&mut c);
    assert_eq!(digest(&mut c), d, "digest after DEBUG RELOAD");
    p.rewrite_aof_and_restart();
    let mut c = p.conn();
    assert_eq!(digest(&mut c), d, "digest after the AOF restart");
    let _ = run_workload(&mut c);

    let mut r = r;
    stop(&mut r);
    stop(&mut p);

    let mut f = Findings::default();
    let mut files = 0;
    for e in fs::read_dir(logs).unwrap().filter_map(Result::ok) {
        let text = fs::read_to_string(e.path()).unwrap_or_default();
        files += 1;
        scan_log(&text, &mut f);
        let summary = text
            .lines()
            .filter(|l| {
                l.contains("ERROR SUMMARY")
                    || l.contains("definitely lost:")
                    || l.contains("indirectly lost:")
            })
            .map(|l| {
                l.trim_start_matches(|c: char| c == '=' || c.is_ascii_digit())
                    .trim()
            })
            .collect::<Vec<_>>()
            .join("; ");
        eprintln!("{}: {summary}", e.file_name().to_string_lossy());
    }
    eprintln!(
        "memcheck: {files} logs; errors in module code {}, elsewhere {}; definite/indirect leak records \
         in module code {}, elsewhere {} ({} bytes)",
        f.module_errors.len(),
        f.other_errors,
        f.module_leaks.len(),
        f.other_leaks,
        f.leaked_bytes_other
    );
    assert!(files >= 2, "no memcheck logs in {}", logs.display());
    assert!(
        f.module_errors.is_empty() && f.module_leaks.is_empty(),
        "memcheck findings in module code:\n{}\n{}",
        f.module_errors.join("\n\n"),
        f.module_leaks.join("\n\n")
    );
}

/// The log reader itself (runs in `cargo test`): a module frame makes a finding count against the
/// modules, a server-only stack does not, and summaries without frames are skipped.
#[test]
fn the_memcheck_log_reader_attributes_findings_to_module_frames() {
    let log = "\
==7== Memcheck, a memory error detector
==7== Command: valkey-server --port 1
==7== 
==7== Invalid read of size 8
==7==    at 0x1: tairhash::hash::Hash::get (hash.rs:10)
==7==    by 0x2: call (in /usr/bin/valkey-server)
==7== 
==7== Conditional jump or move depends on uninitialised value(s)
==7==    at 0x3: dictFind (in /usr/bin/valkey-server)
==7==    by 0x4: main (in /usr/bin/valkey-server)
==7== 
==7== 48 bytes in 1 blocks are definitely lost in loss record 1 of 2
==7==    at 0x5: malloc (vg_replace_malloc.c:381)
==7==    by 0x6: alloc::alloc::alloc (in /x/target/valgrind/release/libtairzset.so)
==7== 
==7== 1,024 bytes in 2 blocks are indirectly lost in loss record 2 of 2
==7==    at 0x7: malloc (vg_replace_malloc.c:381)
==7==    by 0x8: zmalloc (in /usr/bin/valkey-server)
==7== 
==7== 64 bytes in 1 blocks are possibly lost in loss record 1 of 1
==7==    at 0x9: malloc (vg_replace_malloc.c:381)
==7==    by 0xa: tair_common::module::on_load (module.rs:1)
==7== 
==7== LEAK SUMMARY:
==7==    definitely lost: 48 bytes in 1 blocks
==7== ERROR SUMMARY: 4 errors from 4 contexts (suppressed: 0 from 0)
";
    let mut f = Findings::default();
    scan_log(log, &mut f);
    assert_eq!(f.module_errors.len(), 1, "{f:?}");
    assert!(f.module_errors[0].contains("Invalid read"));
    assert_eq!(f.other_errors, 1);
    assert_eq!(f.module_leaks.len(), 1);
    assert!(f.module_leaks[0].contains("libtairzset.so"));
    assert_eq!((f.other_leaks, f.leaked_bytes_other), (1, 1024));
}
