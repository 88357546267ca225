//! The allocator of every module: the server's (so `used_memory`, `maxmemory` and eviction see every
//! byte) once the module API is initialised, the system's before that (unit tests, integration tests of
//! the pure parts, fuzzers and benchmarks, which have no server).
//!
//! Inside the server nothing allocates before `RedisModule_Init` fills the API table (OnLoad calls it
//! first), so a block is always freed by the allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use redis_module::alloc::RedisAlloc;

use crate::ffi::raw;

pub struct TairAlloc;

/// Bytes this module's code holds from the allocator (requested sizes; each module library has its
/// own copy of this counter). INFO shows it as `<module>_memory`.
static HELD: AtomicIsize = AtomicIsize::new(0);

/// Bytes the module's code holds now (requested sizes, without the allocator's rounding).
pub fn held_bytes() -> u64 {
    u64::try_from(HELD.load(Ordering::Relaxed)).unwrap_or(0)
}

#[inline(always)]
fn count(delta: isize) {
    HELD.fetch_add(delta, Ordering::Relaxed);
}

#[inline(always)]
fn in_server() -> bool {
    // SAFETY: a plain read of a function pointer the server writes once, during RedisModule_Init.
    unsafe { raw::RedisModule_Alloc }.is_some()
}

/// The size of the block jemalloc (the server's allocator) hands out for a request of `n` bytes: its
/// size classes are 8, then steps of 16 up to 128, then four classes between each power of two. For
/// `mem_usage` figures that match what `used_memory` sees.
pub fn size_class(n: usize) -> usize {
    if n <= 8 {
        return if n == 0 { 0 } else { 8 };
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    // Four classes between 2^k and 2^(k+1): spacing 2^(k-2).
    let k = usize::BITS - 1 - (n - 1).leading_zeros();
    let spacing = 1usize << (k - 2);
    n.div_ceil(spacing).saturating_mul(spacing)
}

/// `free_effort` of a value whose memory is mostly a few big buffers of `bytes` in all: one unit per
/// KiB, so a value above 64 KiB passes the server's lazy-free threshold (64) and UNLINK, FLUSHALL ASYNC
/// or a lazy overwrite release it on the background thread, as for a collection of more than 64
/// elements. Below that, a free on the main thread costs less than handing the value over.
pub fn free_effort_of_bytes(bytes: usize) -> usize {
    1 + bytes / 1024
}

/// The server's allocator (jemalloc or libc malloc) aligns every block to 16 bytes at least, so
/// realloc and calloc can go to it directly for layouts that need no more.
const SERVER_ALIGN: usize = 16;

// SAFETY: forwards to one of two sound allocators, chosen the same way for a block's alloc and free.
unsafe impl GlobalAlloc for TairAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if in_server() {
            count(layout.size() as isize);
            // SAFETY: forwarded contract.
            unsafe { RedisAlloc.alloc(layout) }
        } else {
            // SAFETY: forwarded contract.
            unsafe { System.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain read of a function pointer.
        match unsafe { raw::RedisModule_Calloc } {
            Some(calloc) if layout.align() <= SERVER_ALIGN => {
                count(layout.size() as isize);
                // SAFETY: the server's calloc; a size of at least one byte (Layout of a ZST is never
                // allocated by the standard collections).
                unsafe { calloc(1, layout.size().max(1)) }.cast()
            }
            // SAFETY: forwarded contract.
            _ => unsafe { self.alloc(layout) }.map_zeroed(layout.size()),
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_server() {
            count(-(layout.size() as isize));
            // SAFETY: forwarded contract.
            unsafe { RedisAlloc.dealloc(ptr, layout) }
        } else {
            // SAFETY: forwarded contract.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: plain read of a function pointer.
        match unsafe { raw::RedisModule_Realloc } {
            Some(realloc) if layout.align() <= SERVER_ALIGN => {
                count(new_size as isize - layout.size() as isize);
                // SAFETY: `ptr` came from the server's allocator with this alignment (in_server is
                // fixed once the API is filled in, and realloc exists only then).
                unsafe { realloc(ptr.cast(), new_size.max(1)) }.cast()
            }
            _ if in_server() => {
                // SAFETY: forwarded contract (alloc, copy, free through the counted paths).
                unsafe { default_realloc(self, ptr, layout, new_size) }
            }
            // SAFETY: forwarded contract.
            _ => unsafe { System.realloc(ptr, layout, new_size) },
        }
    }
}

/// The standard library's default `realloc`: a new block, a copy, the old block freed.
///
/// # Safety
/// The contract of [`GlobalAlloc::realloc`].
unsafe fn default_realloc(a: &TairAlloc, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
    // SAFETY: the caller's contract guarantees a valid layout for new_size.
    let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
    // SAFETY: forwarded contract.
    let new = unsafe { a.alloc(new_layout) };
    if !new.is_null() {
        // SAFETY: both blocks are valid for the smaller size and do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            a.dealloc(ptr, layout);
        }
    }
    new
}

trait Zeroed {
    /// Zeroes `len` bytes of a freshly allocated block (a no-op on NULL).
    fn map_zeroed(self, len: usize) -> Self;
}

impl Zeroed for *mut u8 {
    fn map_zeroed(self, len: usize) -> *mut u8 {
        if !self.is_null() {
            // SAFETY: a fresh block of at least `len` bytes.
            unsafe { std::ptr::write_bytes(self, 0, len) };
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn jemalloc_size_classes() {
        let want = [
            (0, 0),
            (1, 8),
            (9, 16),
            (17, 32),
            (100, 112),
            (128, 128),
            (129, 160),
            (144, 160),
            (161, 192),
            (256, 256),
            (257, 320),
            (312, 320),
            (40_000, 40_960),
            (65_536, 65_536),
        ];
        for (n, c) in want {
            assert_eq!(size_class(n), c, "{n}");
        }
    }
}
