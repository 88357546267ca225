//! A server whose wall clock the test moves: [`ClockShift`] builds the `LD_PRELOAD` shim in
//! `tests/shim/timeshift.c` with the system C compiler (once per test process) and hands the builder
//! the environment that loads it; [`ClockShift::set_ms`] moves the clock (back or forth) at once.

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::server::{workspace_root, ServerBuilder};

fn shim() -> &'static PathBuf {
    static SHIM: OnceLock<PathBuf> = OnceLock::new();
    SHIM.get_or_init(|| {
        let src = workspace_root().join("tests/shim/timeshift.c");
        let out = std::env::temp_dir().join(format!("tair-timeshift-{}.so", std::process::id()));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = Command::new(&cc)
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&out)
            .arg(&src)
            .arg("-ldl")
            .status()
            .unwrap_or_else(|e| panic!("cannot run {cc} to build the clock shim: {e}"));
        assert!(status.success(), "{cc} failed to build {}", src.display());
        out
    })
}

/// The offset file of one server (8 bytes, the shift in microseconds).
pub struct ClockShift {
    file: fs::File,
    path: PathBuf,
}

impl ClockShift {
    pub fn new() -> ClockShift {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tair-clock-{}-{n}", std::process::id()));
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        file.write_all_at(&0i64.to_ne_bytes(), 0).unwrap();
        ClockShift { file, path }
    }

    /// `builder` with the shim preloaded and this offset file.
    pub fn apply(&self, builder: ServerBuilder) -> ServerBuilder {
        builder
            .env("LD_PRELOAD", &shim().to_string_lossy())
            .env("TIMESHIFT_FILE", &self.path.to_string_lossy())
    }

    /// Sets the server's wall clock to real time + `ms` (negative: in the past).
    pub fn set_ms(&self, ms: i64) {
        let us = ms.saturating_mul(1000);
        self.file.write_all_at(&us.to_ne_bytes(), 0).unwrap();
    }
}

impl Default for ClockShift {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ClockShift {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
