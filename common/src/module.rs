//! Module loading: the shared body of `RedisModule_OnLoad` (see [`crate::tair_module!`]).

use std::ffi::{c_int, CStr};

use crate::api;
use crate::command::{self, Args, CommandDef};
use crate::ctx::Ctx;
use crate::ffi::{self, raw};
use crate::load_args::LoadArgs;
use crate::log;

pub type TypeCreator = fn(*mut raw::RedisModuleCtx) -> Result<(), String>;
pub type InitFn = fn(&Ctx, &LoadArgs) -> Result<(), String>;

/// Everything a module declares.
pub struct ModuleDef {
    /// NUL-terminated module name.
    pub name: &'static CStr,
    pub version: i32,
    pub types: &'static [TypeCreator],
    pub commands: &'static [CommandDef],
    /// Load-argument names accepted besides `tair-compat`.
    pub load_args: &'static [&'static str],
    /// Runs last (extra commands that depend on load arguments, timers ...).
    pub init: Option<InitFn>,
}

/// The body of `RedisModule_OnLoad`.
///
/// # Safety
/// Called by the server with a valid context and `argc` arguments.
pub unsafe fn on_load(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
    def: &ModuleDef,
) -> c_int {
    let err = raw::REDISMODULE_ERR as c_int;
    // SAFETY: the server's ctx during OnLoad; the name is NUL-terminated.
    if unsafe {
        raw::Export_RedisModule_Init(
            ctx,
            def.name.as_ptr(),
            def.version,
            raw::REDISMODULE_APIVER_1 as c_int,
        )
    } == err
    {
        return err;
    }
    let name = def.name.to_string_lossy();
    let missing = ffi::check_api();
    if !missing.is_empty() {
        command::log_failure(&name, &format!("the server lacks {}", missing.join(", ")));
        return err;
    }
    crate::guard::install_panic_hook();
    let r = crate::guard::catch(|| {
        // SAFETY: valid ctx during OnLoad.
        unsafe {
            api!(RedisModule_SetModuleOptions)(
                ctx,
                (raw::REDISMODULE_OPTIONS_HANDLE_IO_ERRORS
                    | raw::REDISMODULE_OPTIONS_HANDLE_REPL_ASYNC_LOAD) as c_int,
            )
        };
        // SAFETY: the server passes argc valid arguments.
        let args = unsafe { Args::from_raw(argv, argc) };
        let load_args = LoadArgs::from_args(args, def.load_args)?;
        for t in def.types {
            t(ctx)?;
        }
        command::register(ctx, def.commands)?;
        if let Some(init) = def.init {
            init(&Ctx::from_raw(ctx), &load_args)?;
        }
        crate::propagate::watch_listeners(ctx);
        Ok::<(), String>(())
    });
    match r {
        Some(Ok(())) => {
            log::notice(&format!("{name}: loaded"));
            raw::REDISMODULE_OK as c_int
        }
        Some(Err(e)) => {
            command::log_failure(&name, &e);
            err
        }
        None => {
            command::log_failure(&name, "panic during load");
            err
        }
    }
}

/// Declares a module: its allocator ([`crate::alloc::TairAlloc`]: the server's inside the server, the
/// system's elsewhere; plain `System` under `cfg(test)` or the `system-alloc` feature) and its
/// `RedisModule_OnLoad`.
///
/// ```ignore
/// tair_common::tair_module!(MODULE);   // MODULE: tair_common::module::ModuleDef
/// ```
#[macro_export]
macro_rules! tair_module {
    ($def:expr) => {
        #[cfg(not(any(test, feature = "system-alloc")))]
        #[global_allocator]
        static __TAIR_ALLOCATOR: $crate::alloc::TairAlloc = $crate::alloc::TairAlloc;

        /// # Safety
        /// Called by the server when the module is loaded.
        #[no_mangle]
        #[allow(non_snake_case)]
        pub unsafe extern "C" fn RedisModule_OnLoad(
            ctx: *mut $crate::ffi::raw::RedisModuleCtx,
            argv: *mut *mut $crate::ffi::raw::RedisModuleString,
            argc: ::std::ffi::c_int,
        ) -> ::std::ffi::c_int {
            // SAFETY: forwarded from the server.
            unsafe { $crate::module::on_load(ctx, argv, argc, &$def) }
        }
    };
}
