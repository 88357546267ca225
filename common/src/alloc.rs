//! The allocator of every module: the server's (so `used_memory`, `maxmemory` and eviction see every
//! byte) once the module API is initialised, the system's before that (unit tests, integration tests of
//! the pure parts, fuzzers and benchmarks, which have no server).
//!
//! Inside the server nothing allocates before `RedisModule_Init` fills the API table (OnLoad calls it
//! first), so a block is always freed by the allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};

use redis_module::alloc::RedisAlloc;

use crate::ffi::raw;

pub struct TairAlloc;

#[inline(always)]
fn in_server() -> bool {
    // SAFETY: a plain read of a function pointer the server writes once, during RedisModule_Init.
    unsafe { raw::RedisModule_Alloc }.is_some()
}

// SAFETY: forwards to one of two sound allocators, chosen the same way for a block's alloc and free.
unsafe impl GlobalAlloc for TairAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if in_server() {
            // SAFETY: forwarded contract.
            unsafe { RedisAlloc.alloc(layout) }
        } else {
            // SAFETY: forwarded contract.
            unsafe { System.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_server() {
            // SAFETY: forwarded contract.
            unsafe { RedisAlloc.dealloc(ptr, layout) }
        } else {
            // SAFETY: forwarded contract.
            unsafe { System.dealloc(ptr, layout) }
        }
    }
}
