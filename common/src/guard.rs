//! The net under every entry point: a panic becomes an error reply (commands) or a logged failure
//! (type callbacks) instead of unwinding into C, which would abort the server.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Once;

use crate::log;

static HOOK: Once = Once::new();

/// Installs (once per process) a panic hook that writes the panic to the server log.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = format!("tair-modules: internal error (bug): {info}");
            log::warning(&msg);
        }));
    });
}

/// Runs `f`, turning a panic into `None`.
#[inline(always)]
pub fn catch<R>(f: impl FnOnce() -> R) -> Option<R> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

/// Set at load by modules whose write paths keep two structures in step (a table and an expiry heap, a
/// table and an order tree): after a panic in the middle of such a write they cannot be shown
/// consistent, and going on could turn a bug into a use-after-free.
static WRITE_PANIC_ABORTS: AtomicBool = AtomicBool::new(false);

pub fn set_write_panic_aborts(on: bool) {
    WRITE_PANIC_ABORTS.store(on, Ordering::Relaxed);
}

pub fn write_panic_aborts() -> bool {
    WRITE_PANIC_ABORTS.load(Ordering::Relaxed)
}

/// Logs `what` and aborts the server: for a caught panic after which memory or a snapshot being
/// written cannot be trusted (the server's crash handling then runs, as for its own assertions).
pub fn fatal(what: &str) -> ! {
    log::warning(&format!(
        "tair-modules: {what}; aborting rather than going on with inconsistent data"
    ));
    std::process::abort()
}

// ---- fault injection -----------------------------------------------------------------------------------

/// Places where a test can make the module panic, to show what the net does there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A command opening a key named `tair-fault:*` for reading.
    Read = 1,
    /// A command opening a key named `tair-fault:*` for writing (after the write was marked begun).
    Write = 2,
    /// Saving any value (RDB, DUMP, a replica's sync).
    Save = 4,
}

static FAULTS: AtomicU8 = AtomicU8::new(0);

/// Reads `TAIR_FAULT` from the server's environment once, at load: a comma-separated list of `read`,
/// `write`, `save`. Meant for the tests of the panic net only (`tests/tests/panics.rs`); unset (always,
/// in production) every fault point costs one relaxed load.
pub fn load_faults() {
    let Ok(v) = std::env::var("TAIR_FAULT") else {
        return;
    };
    let mut bits = 0u8;
    for p in v.split(',') {
        bits |= match p.trim() {
            "read" => Fault::Read as u8,
            "write" => Fault::Write as u8,
            "save" => Fault::Save as u8,
            _ => 0,
        };
    }
    if bits != 0 {
        log::warning(&format!(
            "tair-modules: fault injection on ({v}): for tests of the panic net only"
        ));
    }
    FAULTS.store(bits, Ordering::Relaxed);
}

/// True when any fault point is armed.
#[inline(always)]
pub fn faults_on() -> bool {
    FAULTS.load(Ordering::Relaxed) != 0
}

/// Panics when `point` is armed and applies to `key` (read and write points: keys named `tair-fault:*`).
#[allow(clippy::panic)] // the point of it: an injected panic for the tests of the net
pub fn fault(point: Fault, key: &[u8]) {
    let armed = FAULTS.load(Ordering::Relaxed) & point as u8 != 0;
    if armed && (point == Fault::Save || key.starts_with(b"tair-fault:")) {
        panic!("injected fault at {point:?}");
    }
}
