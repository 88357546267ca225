//! Bytes per field, measured with a counting allocator. It is the global allocator of the crate's unit
//! test binary (the module's own allocator is off under `cfg(test)`) and counts per thread, so tests
//! running in parallel do not disturb the figures. Reports requested bytes and the same requests rounded
//! to jemalloc's size classes (the allocator Valkey uses), for 16-byte names and values, with and
//! without a TTL.
//!
//! Run `cargo test -p tairhash --release memory -- --nocapture` to see the table.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crate::{ExpiryChange, SetOptions, TairHash};

struct Counting;

thread_local! {
    static RAW: Cell<isize> = const { Cell::new(0) };
    static CLASSED: Cell<isize> = const { Cell::new(0) };
}

fn raw() -> isize {
    RAW.with(Cell::get)
}

fn classed() -> isize {
    CLASSED.with(Cell::get)
}

/// jemalloc's size class of a request (x86-64: 8, then multiples of 16 up to 128, then four classes
/// per doubling).
fn class(n: usize) -> usize {
    if n <= 8 {
        8
    } else if n <= 128 {
        n.div_ceil(16) * 16
    } else {
        let k = usize::BITS - 1 - (n - 1).leading_zeros();
        let step = 1usize << (k - 2);
        n.div_ceil(step) * step
    }
}

fn add(n: usize, sign: isize) {
    // `try_with`: a thread being torn down has no counters any more.
    let _ = RAW.try_with(|c| c.set(c.get() + sign * n as isize));
    let _ = CLASSED.try_with(|c| c.set(c.get() + sign * class(n) as isize));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        add(l.size(), 1);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        add(l.size(), -1);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        add(l.size(), -1);
        add(new, 1);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const NOW: u64 = 1_700_000_000_000;

/// (requested, jemalloc-classed) bytes per field of a hash of `n` fields.
fn per_field(n: usize, ttl: bool) -> (f64, f64) {
    let (raw0, cls0) = (raw(), classed());
    let mut h = TairHash::new();
    let expiry = if ttl {
        ExpiryChange::At(NOW + 3_600_000)
    } else {
        ExpiryChange::Clear
    };
    let opts = SetOptions {
        expiry,
        ..Default::default()
    };
    let mut name = *b"field:0000000000";
    for i in 0..n {
        let digits = format!("{i:010}");
        name[6..].copy_from_slice(digits.as_bytes());
        let value = [b'v'; 16];
        assert!(h.set(&name, &value, opts, NOW).is_ok());
    }
    let (raw, cls) = (raw() - raw0, classed() - cls0);
    assert_eq!(h.len(), n);
    assert!(h.mem_usage() as isize <= raw + 64);
    drop(h);
    (raw as f64 / n as f64, cls as f64 / n as f64)
}

#[test]
fn bytes_per_field() {
    // Sizes spread over the load-factor range of the bucket array and the heap vector.
    let sizes = [65_000usize, 80_000, 100_000, 120_000, 131_000];
    println!("fields    | no TTL: requested / jemalloc | TTL: requested / jemalloc");
    let (mut sum_plain, mut sum_ttl) = (0.0, 0.0);
    for n in sizes {
        let (pr, pc) = per_field(n, false);
        let (tr, tc) = per_field(n, true);
        println!("{n:>9} | {pr:6.1} / {pc:6.1}                | {tr:6.1} / {tc:6.1}");
        sum_plain += pc;
        sum_ttl += tc;
        // Hard ceiling: 1.3x of a native Valkey hashtable field (~70-90 bytes), TTL included.
        assert!(tc <= 1.3 * 80.0, "{tc} bytes per field with TTL");
        assert!(pc <= tc);
    }
    println!(
        "mean jemalloc bytes per field: {:.1} without TTL, {:.1} with TTL",
        sum_plain / sizes.len() as f64,
        sum_ttl / sizes.len() as f64
    );
}
