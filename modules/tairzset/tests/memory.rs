//! Bytes per member, measured with a counting allocator (requested sizes; jemalloc rounds a 16-byte
//! member to 16 and the big arena arrays to its large size classes). Prints the figures; asserts only a
//! generous ceiling so a layout regression is noticed. Run with `--nocapture` (release for speed).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use tairzset::{AddCondition, TairZset, ZsetBuilder};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// 16-byte members in a scattered order.
fn member(i: u64) -> [u8; 16] {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut m = [0u8; 16];
    m[..8].copy_from_slice(&x.to_be_bytes());
    m[8..].copy_from_slice(&i.to_le_bytes());
    m
}

fn measure(dims: usize, n: u64) -> (f64, f64, f64, std::time::Duration) {
    let base = LIVE.load(Ordering::Relaxed);
    let start = std::time::Instant::now();
    let mut z = TairZset::new(dims).unwrap();
    let mut score = vec![0.0; dims];
    for i in 0..n {
        score[0] = ((i * 7919) % 10_007) as f64;
        if dims > 1 {
            score[1] = -(i as f64);
        }
        z.add(&member(i), &score, AddCondition::Always, false)
            .unwrap();
    }
    let per_add = start.elapsed() / u32::try_from(n).unwrap();
    let incremental = (LIVE.load(Ordering::Relaxed) - base) as f64 / n as f64;
    let model = z.mem_usage() as f64 / n as f64;
    let base = LIVE.load(Ordering::Relaxed);
    let mut b = ZsetBuilder::new(dims, n as usize).unwrap();
    for (m, s) in z.iter() {
        b.push(m, &s).unwrap();
    }
    let copy = b.finish().unwrap();
    let loaded = (LIVE.load(Ordering::Relaxed) - base) as f64 / n as f64;
    drop(copy);
    (incremental, loaded, model, per_add)
}

#[test]
fn bytes_per_member() {
    for dims in [1, 2] {
        // The million-member run only in optimised builds (debug builds are slow and the machine is shared).
        let sizes: &[u64] = if cfg!(debug_assertions) {
            &[1_000, 100_000]
        } else {
            &[1_000, 100_000, 1_000_000]
        };
        for &n in sizes {
            let (inc, loaded, model, per_add) = measure(dims, n);
            eprintln!(
                "dims {dims}, {n} members of 16 bytes: {inc:.1} B/member after ZADDs, {loaded:.1} after a bulk load \
                 (RDB/set-op path), mem_usage model {model:.1}; {per_add:?} per add"
            );
            assert!(inc < 120.0, "{inc}");
        }
    }
}
