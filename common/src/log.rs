//! Writing to the server log (usable with or without a context, e.g. from a panic hook).

use std::ffi::CString;

use crate::ffi::raw;

fn log_at(level: &'static [u8], msg: &str) {
    // SAFETY: a plain read of a function pointer; None before the module is loaded (unit tests).
    let Some(log) = (unsafe { raw::RedisModule_Log }) else {
        eprintln!("{msg}");
        return;
    };
    let text = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: level and format are NUL-terminated; "%s" consumes exactly the one C string passed.
    unsafe {
        log(
            std::ptr::null_mut(),
            level.as_ptr().cast(),
            c"%s".as_ptr(),
            text.as_ptr(),
        )
    };
}

pub fn warning(msg: &str) {
    log_at(b"warning\0", msg);
}

pub fn notice(msg: &str) {
    log_at(b"notice\0", msg);
}
