//! Every module in a Valkey Cluster: key positions (CROSSSLOT, COMMAND GETKEYS), resharding under
//! load, a primary killed and its replica promoted, and a replication stream replayed into an
//! independent server (the cross-region sync tools' view of what we propagate).

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tair_tests::cluster::{key_slot, shown, valkey_cli, wait_for, Cluster, ClusterClient};
use tair_tests::*;

const MODULES: [&str; 6] = [
    "tairstring",
    "tairhash",
    "tairzset",
    "tairbloom",
    "tairdoc",
    "tairgis",
];

/// Two keys in different slots, and two that share one through a hash tag.
const APART: (&str, &str) = ("a", "b");
const TOGETHER: (&str, &str) = ("{t}a", "{t}b");

/// Every multi-key command, with `A`/`B` standing for its two keys and the positions COMMAND GETKEYS
/// must name (as indexes into the argument list).
fn multi_key_commands() -> Vec<(Vec<&'static str>, Vec<usize>)> {
    vec![
        (vec!["EXZUNIONSTORE", "A", "2", "A", "B"], vec![1, 3, 4]),
        (vec!["EXZINTERSTORE", "A", "2", "A", "B"], vec![1, 3, 4]),
        (vec!["EXZDIFFSTORE", "A", "2", "A", "B"], vec![1, 3, 4]),
        (vec!["EXZUNION", "2", "A", "B"], vec![2, 3]),
        (vec!["EXZINTER", "2", "A", "B"], vec![2, 3]),
        (vec!["EXZDIFF", "2", "A", "B"], vec![2, 3]),
        (vec!["EXZINTERCARD", "2", "A", "B"], vec![2, 3]),
        (vec!["EXBZPOPMIN", "A", "B", "0.01"], vec![1, 2]),
        (vec!["EXBZPOPMAX", "A", "B", "0.01"], vec![1, 2]),
        (vec!["EXJSONMGET", "A", "B", "$"], vec![1, 2]),
        (vec!["GISWITHIN", "A", "B"], vec![1, 2]),
    ]
}

fn with_keys(template: &[&'static str], (a, b): (&str, &str)) -> Vec<String> {
    template
        .iter()
        .map(|t| match *t {
            "A" => a.to_string(),
            "B" => b.to_string(),
            other => other.to_string(),
        })
        .collect()
}

#[test]
fn multi_key_commands_refuse_keys_of_different_slots() {
    assert_ne!(key_slot(APART.0.as_bytes()), key_slot(APART.1.as_bytes()));
    assert_eq!(
        key_slot(TOGETHER.0.as_bytes()),
        key_slot(TOGETHER.1.as_bytes())
    );
    let cluster = Cluster::start(3, 0, &MODULES);
    let mut cc = cluster.client();
    for (template, positions) in multi_key_commands() {
        // Keys of two slots: CROSSSLOT from whichever node serves the first key.
        let apart = with_keys(&template, APART);
        let first_key_slot = key_slot(apart[positions[0]].as_bytes());
        let r = cc.cmd_in_slot(Some(first_key_slot), &apart);
        let text = shown(&r);
        assert!(text.starts_with("CROSSSLOT"), "{apart:?}: {text}");
        // One slot through a hash tag: the command runs.
        let together = with_keys(&template, TOGETHER);
        let r = cc.cmd_in_slot(Some(key_slot(b"{t}")), &together);
        assert!(r.is_ok(), "{together:?}: {}", shown(&r));
        // COMMAND GETKEYS names exactly the declared positions.
        let mut getkeys = vec!["COMMAND".to_string(), "GETKEYS".to_string()];
        getkeys.extend(together.iter().cloned());
        let keys = cc.cmd_in_slot(None, &getkeys).unwrap();
        let want: Vec<String> = positions.iter().map(|&p| together[p].clone()).collect();
        let got: Vec<String> = match &keys {
            Value::Array(items) => items.iter().filter_map(value_text).collect(),
            other => panic!("GETKEYS {together:?}: {}", show(other)),
        };
        assert_eq!(got, want, "COMMAND GETKEYS {together:?}");
    }
    // Every other command of every module names exactly its one key (argument 1), or has none.
    let multi: Vec<String> = multi_key_commands()
        .iter()
        .map(|(t, _)| t[0].to_ascii_lowercase())
        .collect();
    let mut checked = 0;
    for module in MODULES {
        let list = cc
            .cmd_in_slot(None, &["COMMAND", "LIST", "FILTERBY", "MODULE", module])
            .unwrap();
        let Value::Array(names) = list else {
            panic!("COMMAND LIST: {}", show(&list))
        };
        for name in names.iter().filter_map(value_text) {
            if multi.contains(&name) {
                continue;
            }
            let info = cc.cmd_in_slot(None, &["COMMAND", "INFO", &name]).unwrap();
            let Value::Array(outer) = &info else {
                panic!("COMMAND INFO {name}: {}", show(&info))
            };
            let Some(Value::Array(f)) = outer.first() else {
                panic!("COMMAND INFO {name}: {}", show(&info))
            };
            let (Value::Int(arity), Value::Int(first), Value::Int(last)) = (&f[1], &f[3], &f[4])
            else {
                panic!("COMMAND INFO {name}: {}", show(&info))
            };
            let mut args = vec!["COMMAND".to_string(), "GETKEYS".to_string(), name.clone()];
            args.push("k1".to_string());
            while args.len() - 2 < arity.unsigned_abs() as usize {
                args.push("1".to_string());
            }
            let r = cc.cmd_in_slot(None, &args);
            if *first == 0 {
                assert!(
                    r.is_err(),
                    "{name} declares no key, GETKEYS said {}",
                    shown(&r)
                );
            } else {
                assert_eq!((*first, *last), (1, 1), "{name}: one key at argument 1");
                assert_eq!(shown(&r), "[\"k1\"]", "COMMAND GETKEYS {args:?}");
            }
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} commands checked");
    // Single-key commands of every module name their key.
    for args in [
        vec!["EXSET", "k1", "v"],
        vec!["EXHSET", "k2", "f", "v"],
        vec!["TFBFADD", "k3", "x"],
        vec!["EXJSONSET", "k4", "$", "1"],
        vec!["GIS.ADD", "k5", "p", "POINT (1 1)"],
        vec!["GISCONTAINS", "k5", "POINT (1 1)"],
    ] {
        let mut getkeys = vec!["COMMAND", "GETKEYS"];
        getkeys.extend(args.iter().copied());
        let keys = cc.cmd_in_slot(None, &getkeys).unwrap();
        assert_eq!(show(&keys), format!("[\"{}\"]", args[1]), "{args:?}");
    }
}

/// Writes and expected reads of one key of each module type, for round `i`.
fn typed_write(i: u64) -> Vec<(Vec<String>, Vec<String>, String)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let n = i.to_string();
    let key = |t: &str| format!("{t}:{}", i % 97);
    vec![
        (
            s(&["EXSET", &key("str"), &n]),
            s(&["EXGET", &key("str")]),
            n.clone(),
        ),
        (
            s(&["EXHSET", &key("hash"), "f", &n]),
            s(&["EXHGET", &key("hash"), "f"]),
            n.clone(),
        ),
        (
            s(&["EXZADD", &key("zset"), &n, "m"]),
            s(&["EXZSCORE", &key("zset"), "m"]),
            n.clone(),
        ),
        (
            s(&["TFBFADD", &key("bloom"), &n]),
            s(&["TFBFEXISTS", &key("bloom"), &n]),
            "1".to_string(),
        ),
        (
            s(&["EXJSONSET", &key("doc"), "$", &format!("{{\"n\":{n}}}")]),
            s(&["EXJSONGET", &key("doc"), ".n"]),
            n.clone(),
        ),
        (
            s(&[
                "GIS.ADD",
                &key("gis"),
                "p",
                &format!("POINT ({} 1)", i % 90),
            ]),
            s(&["GIS.GET", &key("gis"), "p"]),
            format!("POINT({} 1)", i % 90),
        ),
    ]
}

/// The text of a read reply with the spaces a WKT may carry removed (to compare geometry texts).
fn read_text(v: &Value) -> String {
    let t = match v {
        Value::Array(items) => items.first().and_then(|x| match x {
            Value::Int(n) => Some(n.to_string()),
            other => value_text(other),
        }),
        Value::Int(n) => Some(n.to_string()),
        other => value_text(other),
    }
    .unwrap_or_else(|| show(v));
    t.trim_matches('"').replace("POINT (", "POINT(")
}

#[test]
fn resharding_under_load_keeps_every_value() {
    let cluster = Cluster::start(3, 0, &MODULES);
    let mut cc = cluster.client();
    // Fixed values of every type, to compare byte for byte after the move.
    let mut fixed: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..60u64 {
        for (write, _, _) in typed_write(1_000_000 + i) {
            let key = format!("fixed:{}:{i}", write[0]);
            let mut w = write.clone();
            w[1] = key.clone();
            cc.ok(&w);
        }
    }
    for (slot_key, _) in (0..60u64).flat_map(|i| {
        typed_write(i)
            .into_iter()
            .map(move |(w, _, _)| (format!("fixed:{}:{i}", w[0]), ()))
    }) {
        let Value::BulkString(d) = cc.ok(&["DUMP", &slot_key]) else {
            panic!("DUMP {slot_key}")
        };
        fixed.insert(slot_key, d);
    }

    // A writer that keeps writing and reading every type while slots move.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<BTreeMap<Vec<String>, String>>> = Arc::default();
    let writer = {
        let stop = stop.clone();
        let acked = acked.clone();
        let seeds: Vec<u16> = cluster.nodes.iter().map(Server::port).collect();
        thread::spawn(move || {
            let mut c = ClusterClient::new(seeds);
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for (write, read, want) in typed_write(i) {
                    c.ok(&write);
                    acked.lock().unwrap().insert(read, want);
                }
                i += 1;
            }
            (i, c.moved, c.asked)
        })
    };

    // Move a third of the slots from the first primary to the second.
    let from = cluster.node_id(cluster.nodes[0].port());
    let to = cluster.node_id(cluster.nodes[1].port());
    let entry = format!("127.0.0.1:{}", cluster.nodes[0].port());
    let started = Instant::now();
    valkey_cli(&[
        "--cluster",
        "reshard",
        &entry,
        "--cluster-from",
        &from,
        "--cluster-to",
        &to,
        "--cluster-slots",
        "5461",
        "--cluster-yes",
        "--cluster-pipeline",
        "50",
    ]);
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (rounds, moved, asked) = writer.join().unwrap();
    eprintln!("reshard took {took:?}; writer: {rounds} rounds, {moved} MOVED, {asked} ASK");
    assert!(rounds > 0);
    cluster.wait_ready();

    // Every acknowledged write reads back (the last write of each key).
    let mut cc = cluster.client();
    for (read, want) in acked.lock().unwrap().iter() {
        let got = read_text(&cc.ok(read));
        assert_eq!(&got, want, "{read:?}");
    }
    // Every fixed value is byte for byte what it was, wherever it lives now.
    for (key, before) in &fixed {
        let Value::BulkString(after) = cc.ok(&["DUMP", key]) else {
            panic!("DUMP {key}")
        };
        assert_eq!(&after, before, "DUMP {key} changed across the move");
    }
    // Slots really moved: the second primary now serves keys it did not.
    let mut c1 = cluster.nodes[1].conn();
    let n: i64 = query(&mut c1, &["DBSIZE"]);
    assert!(n > 0);
}

#[test]
fn a_blocked_pop_on_a_moving_slot_ends() {
    let cluster = Cluster::start(3, 0, &["tairzset"]);
    let cc = cluster.client();
    let key = "blocked:z";
    let slot = key_slot(key.as_bytes());
    let owner = cc.owner_of(slot).unwrap();
    let other = cluster
        .nodes
        .iter()
        .map(Server::port)
        .find(|&p| p != owner)
        .unwrap();
    // A client blocked on the key on its current owner.
    let url = cluster.node(owner).url();
    let blocked = thread::spawn(move || {
        let client = redis::Client::open(url).unwrap();
        let mut c = client.get_connection().unwrap();
        let started = Instant::now();
        let r = cmd(&mut c, &["EXBZPOPMIN", key, "20"]);
        (shown(&r), started.elapsed())
    });
    let mut owner_conn = cluster.node(owner).conn();
    wait_until(Duration::from_secs(10), "the client blocks", || {
        info_field(&mut owner_conn, "clients", "blocked_clients").as_deref() == Some("1")
    });
    // Move the slot (it holds no key, so MIGRATE has nothing to carry): IMPORTING, MIGRATING, NODE.
    let from = cluster.node_id(owner);
    let to = cluster.node_id(other);
    let mut other_conn = cluster.node(other).conn();
    let s = slot.to_string();
    cmd(
        &mut other_conn,
        &["CLUSTER", "SETSLOT", &s, "IMPORTING", &from],
    )
    .unwrap();
    cmd(
        &mut owner_conn,
        &["CLUSTER", "SETSLOT", &s, "MIGRATING", &to],
    )
    .unwrap();
    cmd(&mut other_conn, &["CLUSTER", "SETSLOT", &s, "NODE", &to]).unwrap();
    cmd(&mut owner_conn, &["CLUSTER", "SETSLOT", &s, "NODE", &to]).unwrap();
    let (reply, waited) = blocked.join().unwrap();
    eprintln!("blocked pop after the slot moved: {reply} in {waited:?}");
    // An error (MOVED, as native blocking commands get) or its value, well before its 20 s timeout.
    assert!(
        reply.starts_with("MOVED") || reply.starts_with('['),
        "blocked client got {reply}"
    );
    assert!(waited < Duration::from_secs(15), "blocked for {waited:?}");
    cluster.node(owner).assert_alive();
}

#[test]
fn a_killed_primary_is_replaced_and_acknowledged_writes_survive() {
    let mut cluster = Cluster::start(3, 1, &MODULES);
    let mut cc = cluster.client();
    // Acknowledged writes of every type, each confirmed by a replica (WAIT 1).
    let mut acked: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for i in 0..200u64 {
        for (write, read, want) in typed_write(i) {
            let slot = key_slot(write[1].as_bytes());
            cc.ok(&write);
            let w = cc.cmd_in_slot(Some(slot), &["WAIT", "1", "2000"]).unwrap();
            assert_eq!(show(&w), "1", "WAIT 1 after {write:?}");
            acked.insert(read, want);
        }
    }
    // Fields that come due after the failover: the new primary's active expiry must remove them.
    let victim_slot = key_slot(b"exp:h");
    let victim = cc.owner_of(victim_slot).unwrap();
    let due = (clock_ms() + 4000).to_string();
    for f in 0..50 {
        cc.ok(&["EXHSET", "exp:h", &format!("f{f}"), "v", "PXAT", &due]);
    }
    cc.ok(&["EXHSET", "exp:h", "keep", "v"]);
    cc.cmd_in_slot(Some(victim_slot), &["WAIT", "1", "2000"])
        .unwrap();

    // Kill the primary that serves exp:h.
    let replica = cluster
        .topology()
        .into_iter()
        .find(|(p, _)| *p == victim)
        .and_then(|(_, r)| r.first().copied())
        .unwrap();
    cluster.node_mut(victim).kill_now();
    let mut rc = cluster.node(replica).conn();
    wait_for("the replica's promotion", || {
        match info_field(&mut rc, "replication", "role").as_deref() {
            Some("master") => Ok(()),
            other => Err(format!("role {other:?}")),
        }
    });
    // The cluster serves every slot again (the dead node stays known as failed).
    wait_for("cluster_state:ok on the promoted node", || {
        let v = cmd(&mut rc, &["CLUSTER", "INFO"]).unwrap();
        let t = value_text(&v).unwrap_or_default();
        if t.contains("cluster_state:ok") {
            Ok(())
        } else {
            Err(t)
        }
    });

    let mut cc = cluster.client();
    cc.deadline = Duration::from_secs(30);
    for (read, want) in &acked {
        let got = read_text(&cc.ok(read));
        assert_eq!(&got, want, "{read:?} after the failover");
    }
    // The new primary's active expiry removes the fields due after the failover.
    wait_for("active expiry on the new primary", || {
        let n = read_text(&cc.ok(&["EXHLEN", "exp:h"]));
        if n == "1" {
            Ok(())
        } else {
            Err(format!("EXHLEN {n}"))
        }
    });
    // Primaries and their replicas agree (the surviving pairs).
    for (primary, replicas) in cluster.topology() {
        let mut pc = cluster.node(primary).conn();
        for r in replicas {
            wait_replicated(&mut pc, cluster.node(r));
            assert_eq!(
                cluster.node(primary).digest_now(),
                cluster.node(r).digest_now(),
                "digest of {primary} and its replica {r}"
            );
        }
    }
}

fn clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

// ---- the replication stream replayed elsewhere ---------------------------------------------------------

/// Reads one RESP value's raw command (an array of bulk strings) from `r`.
fn read_command(r: &mut impl BufRead) -> std::io::Result<Vec<Vec<u8>>> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let line = line.trim_end();
    if line.is_empty() {
        return Ok(Vec::new()); // a keepalive newline
    }
    let Some(n) = line.strip_prefix('*') else {
        return Err(std::io::Error::other(format!("unexpected line {line:?}")));
    };
    let n: usize = n.parse().map_err(std::io::Error::other)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut len = String::new();
        r.read_line(&mut len)?;
        let len: usize = len
            .trim_end()
            .strip_prefix('$')
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad bulk header {len:?}")))?;
        let mut buf = vec![0u8; len + 2];
        r.read_exact(&mut buf)?;
        buf.truncate(len);
        out.push(buf);
    }
    Ok(out)
}

/// A random write of some module, with relative TTLs among them (they must travel as absolute times).
fn random_write(rng: &mut SmallRng, i: u64) -> Vec<String> {
    let slot = rng.gen_range(0..40u32);
    let k = |p: &str| format!("{p}:{slot}");
    let n = rng.gen_range(0..1000u32).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match i % 12 {
        0 => s(&["EXSET", &k("s"), &n, "EX", "3600"]),
        1 => s(&["EXINCRBY", &k("n"), "3"]),
        2 => s(&["EXHSET", &k("h"), &n, "v", "EX", "3600"]),
        3 => s(&["EXHINCRBY", &k("h"), "c", "2"]),
        4 => s(&["EXZADD", &k("z"), &n, &format!("m{n}")]),
        5 => s(&["EXZPOPMIN", &k("z")]),
        6 => s(&["TFBFADD", &k("b"), &n]),
        7 => s(&[
            "EXJSONSET",
            &k("d"),
            "$",
            &format!("{{\"a\":{n},\"l\":[1]}}"),
        ]),
        8 => s(&["EXJSONNUMINCRBY", &k("d"), "$.a", "1"]),
        9 => s(&["GIS.ADD", &k("g"), &format!("m{n}"), "POINT (10 20)"]),
        10 => s(&["GIS.DEL", &k("g"), &format!("m{n}")]),
        _ => s(&["EXHSETVER", &k("h"), "c", "7"]),
    }
}

#[test]
fn a_replication_stream_replayed_into_an_independent_server_gives_the_same_data() {
    let mut b = Server::builder().config("repl-diskless-sync", "no");
    for m in MODULES {
        b = b.module(m);
    }
    let primary = b.start();
    let mut replay = MODULES
        .iter()
        .fold(Server::builder(), |b, m| b.module(m))
        .start();
    let mut pc = primary.conn();
    let mut rng = SmallRng::seed_from_u64(7);
    // Data before the sync travels in the snapshot.
    for i in 0..300 {
        let _ = cmd(&mut pc, &random_write(&mut rng, i));
    }

    // Become a replica by hand: SYNC, the RDB as one bulk, then the command stream.
    let mut sock = TcpStream::connect(("127.0.0.1", primary.port())).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    sock.write_all(b"SYNC\r\n").unwrap();
    let mut r = BufReader::new(sock.try_clone().unwrap());
    let mut header = String::new();
    loop {
        header.clear();
        r.read_line(&mut header).unwrap();
        if header.starts_with('$') {
            break; // keepalive newlines come first while the RDB is made
        }
    }
    let len: usize = header.trim_end()[1..].parse().unwrap();
    let mut rdb = vec![0u8; len];
    r.read_exact(&mut rdb).unwrap();
    std::fs::write(replay.dir().join("dump.rdb"), &rdb).unwrap();
    let mut rc = replay.conn();
    cmd(&mut rc, &["DEBUG", "RELOAD", "NOSAVE"]).unwrap();

    // A random workload of every module on the primary while the stream is replayed.
    let stop_key = "__replay_end__";
    let workload = {
        let url = primary.url();
        thread::spawn(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut rng = SmallRng::seed_from_u64(11);
            for i in 0..3000u64 {
                let _ = cmd(&mut c, &random_write(&mut rng, i));
            }
            cmd(&mut c, &["SET", stop_key, "1"]).unwrap();
        })
    };
    let mut replayed = 0usize;
    loop {
        let c = read_command(&mut r).unwrap();
        let Some(name) = c.first() else { continue };
        let upper = name.to_ascii_uppercase();
        if upper == b"PING" || upper == b"REPLCONF" {
            continue;
        }
        cmd(&mut rc, &c).unwrap_or_else(|e| {
            panic!(
                "replaying {:?}: {}",
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>(),
                err_text(&e)
            )
        });
        replayed += 1;
        if upper == b"SET" && c.get(1).map(Vec::as_slice) == Some(stop_key.as_bytes()) {
            break;
        }
    }
    workload.join().unwrap();
    eprintln!("replayed {replayed} commands after a {len}-byte snapshot");
    assert!(replayed > 1000);
    assert_eq!(primary.digest_now(), replay.digest_now());
    replay.assert_alive();
    let _ = &mut replay;
}
