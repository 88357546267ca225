//! Every built module loads into Debian's stock `redis-server` (Redis 7.0) and answers a few commands.
//! The full suites run on Valkey; this shows the same .so files work on Redis 7.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use tair_tests::*;

/// A few commands per module and the replies they must give (valkey-cli transcript form).
const SMOKE: &[(&str, &str)] = &[
    (
        "tairstring",
        r#"
> EXSET k v EX 100 FLAGS 3
OK
> EXGET k WITHFLAGS
1) "v"
2) (integer) 1
3) (integer) 3
> EXCAS k w 1 KEEPTTL
1) OK
2) ""
3) (integer) 2
> TTL k                      -> an integer in 1..100
> EXINCRBYFLOAT f 1.5
"1.5"
> SET s a
OK
> CAS s a b
(integer) 1
> CAD s b
(integer) 1
> TYPE k
exstrtype
"#,
    ),
    (
        "tairbloom",
        r#"
> TFBFRESERVE bf 0.01 1000
OK
> TFBFADD bf a
(integer) 1
> TFBFMADD bf a b
1) (integer) 0
2) (integer) 1
> TFBFEXISTS bf b
(integer) 1
> TFBFEXISTS bf zz
(integer) 0
> TYPE bf
tairbloom
"#,
    ),
    (
        "tairzset",
        r#"
> EXZADD z 10#2 a 10#1 b 9#9 c
(integer) 3
> EXZRANGE z 0 -1 WITHSCORES
1) "c"
2) "9#9"
3) "b"
4) "10#1"
5) "a"
6) "10#2"
> EXZRANK z a
(integer) 2
> EXZSCORE z b
"10#1"
"#,
    ),
    (
        "tairhash",
        r#"
> EXHSET h f v EX 100
(integer) 1
> EXHGET h f
"v"
> EXHVER h f
(integer) 1
> EXHTTL h f                 -> an integer in 1..100
> EXHLEN h
(integer) 1
> TYPE h
tairhash-
> EXHSET r1 f v PX 300
(integer) 1
> RENAME r1 r2
OK
> COPY r2 r3
(integer) 1
(after 1200 ms)
> EXISTS r2 r3                (active expiry found both keys through the registry the events keep)
(integer) 0
"#,
    ),
];

#[test]
fn every_built_module_works_on_redis_7() {
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("redis-server (Redis 7.0) is not installed: run `make deps`");
    }
    let built: Vec<&(&str, &str)> = SMOKE
        .iter()
        .filter(|(m, _)| module_path(m).exists())
        .collect();
    assert!(!built.is_empty(), "no module is built: run `make build`");
    let mut b = Server::builder().binary("redis-server");
    for (m, _) in &built {
        b = b.module(m);
    }
    let mut server = b.config("appendonly", "yes").start();
    let mut c = server.conn();
    let version = info_field(&mut c, "server", "redis_version").unwrap_or_default();
    assert!(version.starts_with("7."), "expected Redis 7, got {version}");
    for (m, script) in &built {
        eprintln!("redis {version}: {m}");
        transcript::run(&mut c, script);
    }
    let before = server.digest(&mut c);
    server.debug_reload(&mut c);
    assert_eq!(server.digest(&mut c), before, "DEBUG RELOAD on Redis 7");
    server.rewrite_aof_and_restart();
    let mut c = server.conn();
    assert_eq!(
        server.digest(&mut c),
        before,
        "AOF rewrite + restart on Redis 7"
    );
}
