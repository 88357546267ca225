//! The net under every entry point: a panic becomes an error reply (commands) or a logged failure
//! (type callbacks) instead of unwinding into C, which would abort the server.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
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
