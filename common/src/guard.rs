//! The net under every entry point: a panic becomes an error reply (commands) or a logged failure
//! (type callbacks) instead of unwinding into C, which would abort the server.

use std::panic::{catch_unwind, AssertUnwindSafe};
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
