//! Quick add/exists throughput of the pure filter (a measurement, not a check; ignored by default):
//! `cargo test --release -p tairbloom throughput -- --ignored --nocapture` (set `ONLY=<name part>` to run
//! some cases).

use std::hint::black_box;
use std::time::Instant;

use crate::ScalableBloom;

fn item(buf: &mut [u8; 24], i: u64) -> &[u8] {
    // "https://e.com/" + 8 bytes: a URL-ish 22-byte item
    buf[..14].copy_from_slice(b"https://e.com/");
    buf[14..22].copy_from_slice(&i.to_le_bytes());
    &buf[..22]
}

fn run(name: &str, p: f64, c: u64, n: u64) {
    let mut f = ScalableBloom::new(p, c).unwrap();
    let mut buf = [0u8; 24];
    let t = Instant::now();
    for i in 0..n {
        black_box(f.add(item(&mut buf, i)).unwrap());
    }
    let add = n as f64 / t.elapsed().as_secs_f64();
    // at least 3M queries each, so small filters are timed long enough
    let q = n.max(3_000_000);
    let t = Instant::now();
    let mut hits = 0u64;
    for i in 0..q {
        hits += u64::from(f.exists(item(&mut buf, i % n)));
    }
    let hit = q as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut fps = 0u64;
    for i in 0..q {
        fps += u64::from(f.exists(item(&mut buf, n + i)));
    }
    let miss = q as f64 / t.elapsed().as_secs_f64();
    println!(
        "{name:<34} add {:>6.1} M/s   exists(hit) {:>6.1} M/s   exists(miss) {:>6.1} M/s   ({} filters, {} KiB, {hits} hits, fp rate {:.5})",
        add / 1e6,
        hit / 1e6,
        miss / 1e6,
        f.filters().len(),
        f.size() / 1024,
        fps as f64 / q as f64
    );
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn throughput() {
    let only = std::env::var("ONLY").unwrap_or_default();
    let run = |name: &str, p, c, n| {
        if name.contains(&only) {
            run(name, p, c, n)
        }
    };
    run("10K into default (p=0.01,c=100)", 0.01, 100, 10_000);
    run("100K into default (p=0.01,c=100)", 0.01, 100, 100_000);
    run("1M into c=1M p=0.01", 0.01, 1_000_000, 1_000_000);
    run("1M into c=1M p=0.001", 0.001, 1_000_000, 1_000_000);
    run("1M into c=1K p=0.001 (grown)", 0.001, 1_000, 1_000_000);
    run("10M into c=10M p=0.01", 0.01, 10_000_000, 10_000_000);
}
