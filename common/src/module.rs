//! Module loading: the shared body of `RedisModule_OnLoad` (see [`crate::tair_module!`]).

use std::ffi::{c_char, c_int, c_longlong, c_void, CStr, CString};
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::api;
use crate::command::{self, CommandDef};
use crate::ctx::Ctx;
use crate::ffi::{self, raw};
use crate::load_args::LoadArgs;
use crate::log;
use crate::string::Args;

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
    /// Configs `<module>.<name>` (CONFIG GET/SET/REWRITE), registered before `init` runs.
    pub configs: &'static [ConfigDef],
    /// Fields of the module's INFO section (`INFO <module>`; the server prefixes each name with the
    /// module's). Every module's section also has `keys` (its values alive) and `memory` (bytes its
    /// code holds), added by common.
    pub info: &'static [InfoField],
    /// COMMAND DOCS of the commands, matched to the command table by name.
    pub docs: &'static [CommandDoc],
    /// A panic after a command opened a key for writing aborts the server (the module's write paths
    /// keep structures in step that a half-done write could leave out of step).
    pub write_panic_aborts: bool,
}

impl ModuleDef {
    /// A declaration with nothing in it, for `..ModuleDef::EMPTY` in a module's `static MODULE`.
    pub const EMPTY: ModuleDef = ModuleDef {
        name: c"",
        version: 1,
        types: &[],
        commands: &[],
        load_args: &[],
        init: None,
        configs: &[],
        info: &[],
        docs: &[],
        write_panic_aborts: false,
    };
}

// ---- configs -------------------------------------------------------------------------------------------

/// One module config, `<module>.<name>`. The module keeps the value (an atomic, usually); the server
/// calls `get`/`set` for CONFIG GET/SET and at load (config file or `--<module>.<name>`).
pub struct ConfigDef {
    /// Lower-case name without the module prefix.
    pub name: &'static str,
    pub value: ConfigValue,
    /// Settable only at load (`CONFIG SET` refuses it).
    pub immutable: bool,
}

/// The type, default and accessors of a config.
pub enum ConfigValue {
    Bool {
        default: bool,
        get: fn() -> bool,
        set: fn(bool) -> Result<(), String>,
    },
    Number {
        default: i64,
        min: i64,
        max: i64,
        get: fn() -> i64,
        set: fn(i64) -> Result<(), String>,
    },
    /// A string (also for values with their own syntax, such as a float): `set` parses and refuses.
    Text {
        default: &'static str,
        get: fn() -> String,
        set: fn(&str) -> Result<(), String>,
    },
}

fn config_err(err: *mut *mut raw::RedisModuleString, msg: &str) -> c_int {
    if !err.is_null() {
        // SAFETY: the server passes a slot for an error string it frees; a NULL ctx string is owned
        // by the caller.
        unsafe {
            *err =
                api!(RedisModule_CreateString)(std::ptr::null_mut(), msg.as_ptr().cast(), msg.len())
        };
    }
    raw::REDISMODULE_ERR as c_int
}

fn config_of<'a>(privdata: *mut c_void) -> Option<&'a ConfigDef> {
    // SAFETY: the private data registered with every config is a `&'static ConfigDef`.
    unsafe { privdata.cast::<ConfigDef>().as_ref() }
}

unsafe extern "C" fn get_bool(_name: *const c_char, privdata: *mut c_void) -> c_int {
    let v = crate::guard::catch(|| match config_of(privdata).map(|c| &c.value) {
        Some(ConfigValue::Bool { get, .. }) => get(),
        _ => false,
    });
    c_int::from(v.unwrap_or(false))
}

unsafe extern "C" fn set_bool(
    _name: *const c_char,
    val: c_int,
    privdata: *mut c_void,
    err: *mut *mut raw::RedisModuleString,
) -> c_int {
    let r = crate::guard::catch(|| match config_of(privdata).map(|c| &c.value) {
        Some(ConfigValue::Bool { set, .. }) => set(val != 0),
        _ => Err("not a bool config".into()),
    });
    match r {
        Some(Ok(())) => raw::REDISMODULE_OK as c_int,
        Some(Err(e)) => config_err(err, &e),
        None => config_err(err, "internal error"),
    }
}

unsafe extern "C" fn get_number(_name: *const c_char, privdata: *mut c_void) -> c_longlong {
    let v = crate::guard::catch(|| match config_of(privdata).map(|c| &c.value) {
        Some(ConfigValue::Number { get, .. }) => get(),
        _ => 0,
    });
    v.unwrap_or(0)
}

unsafe extern "C" fn set_number(
    _name: *const c_char,
    val: c_longlong,
    privdata: *mut c_void,
    err: *mut *mut raw::RedisModuleString,
) -> c_int {
    let r = crate::guard::catch(|| match config_of(privdata).map(|c| &c.value) {
        Some(ConfigValue::Number { set, .. }) => set(val),
        _ => Err("not a numeric config".into()),
    });
    match r {
        Some(Ok(())) => raw::REDISMODULE_OK as c_int,
        Some(Err(e)) => config_err(err, &e),
        None => config_err(err, "internal error"),
    }
}

/// The strings `get_text` handed out, one per config: the server borrows each until the next call.
static TEXTS: std::sync::Mutex<Vec<(usize, usize)>> = std::sync::Mutex::new(Vec::new());

unsafe extern "C" fn get_text(
    _name: *const c_char,
    privdata: *mut c_void,
) -> *mut raw::RedisModuleString {
    let text = crate::guard::catch(|| match config_of(privdata).map(|c| &c.value) {
        Some(ConfigValue::Text { get, .. }) => get(),
        _ => String::new(),
    })
    .unwrap_or_default();
    // SAFETY: a NULL-ctx string, owned here until this config's next call frees it.
    let s = unsafe {
        api!(RedisModule_CreateString)(std::ptr::null_mut(), text.as_ptr().cast(), text.len())
    };
    let mut texts = TEXTS.lock().unwrap_or_else(|e| e.into_inner());
    let key = privdata as usize;
    match texts.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => {
            let old = std::mem::replace(&mut slot.1, s as usize);
            // SAFETY: the string this config handed out before; the server no longer uses it.
            unsafe { api!(RedisModule_FreeString)(std::ptr::null_mut(), old as *mut _) };
        }
        None => texts.push((key, s as usize)),
    }
    s
}

unsafe extern "C" fn set_text(
    _name: *const c_char,
    val: *mut raw::RedisModuleString,
    privdata: *mut c_void,
    err: *mut *mut raw::RedisModuleString,
) -> c_int {
    let text = String::from_utf8_lossy(crate::string::str_bytes(val)).into_owned();
    let r = crate::guard::catch(|| match config_of(privdata).map(|c| &c.value) {
        Some(ConfigValue::Text { set, .. }) => set(&text),
        _ => Err("not a string config".into()),
    });
    match r {
        Some(Ok(())) => raw::REDISMODULE_OK as c_int,
        Some(Err(e)) => config_err(err, &e),
        None => config_err(err, "internal error"),
    }
}

fn register_configs(
    ctx: *mut raw::RedisModuleCtx,
    configs: &'static [ConfigDef],
) -> Result<(), String> {
    if configs.is_empty() {
        return Ok(());
    }
    // SAFETY: plain reads of function pointers (module configs exist from Redis 7.0).
    let (Some(reg_bool), Some(reg_num), Some(reg_str), Some(load)) = (unsafe {
        (
            raw::RedisModule_RegisterBoolConfig,
            raw::RedisModule_RegisterNumericConfig,
            raw::RedisModule_RegisterStringConfig,
            raw::RedisModule_LoadConfigs,
        )
    }) else {
        log::warning("the server lacks module configs; using defaults and load arguments");
        return Ok(());
    };
    for c in configs {
        let name = CString::new(c.name).map_err(|_| format!("bad config name {}", c.name))?;
        let flags = if c.immutable {
            raw::REDISMODULE_CONFIG_IMMUTABLE
        } else {
            raw::REDISMODULE_CONFIG_DEFAULT
        } as c_int;
        let private = (c as *const ConfigDef).cast_mut().cast::<c_void>();
        // SAFETY: valid OnLoad ctx; the server copies the name; callbacks are plain functions; the
        // private data is 'static.
        let rc = unsafe {
            match c.value {
                ConfigValue::Bool { default, .. } => reg_bool(
                    ctx,
                    name.as_ptr(),
                    c_int::from(default),
                    flags as u32,
                    Some(get_bool),
                    Some(set_bool),
                    None,
                    private,
                ),
                ConfigValue::Number {
                    default, min, max, ..
                } => reg_num(
                    ctx,
                    name.as_ptr(),
                    default,
                    flags as u32,
                    min,
                    max,
                    Some(get_number),
                    Some(set_number),
                    None,
                    private,
                ),
                ConfigValue::Text { default, .. } => {
                    let default = CString::new(default)
                        .map_err(|_| format!("bad default of config {}", c.name))?;
                    reg_str(
                        ctx,
                        name.as_ptr(),
                        default.as_ptr(),
                        flags as u32,
                        Some(get_text),
                        Some(set_text),
                        None,
                        private,
                    )
                }
            }
        };
        if rc != raw::REDISMODULE_OK as c_int {
            return Err(format!("could not register config {}", c.name));
        }
    }
    // SAFETY: valid OnLoad ctx, after every config is registered.
    if unsafe { load(ctx) } != raw::REDISMODULE_OK as c_int {
        return Err("could not load the module configs".into());
    }
    Ok(())
}

// ---- INFO ----------------------------------------------------------------------------------------------

/// One field of the module's INFO section.
pub struct InfoField {
    pub name: &'static str,
    pub value: fn() -> InfoValue,
}

pub enum InfoValue {
    Int(i64),
    Uint(u64),
    Double(f64),
    Text(String),
}

/// The loaded module's declaration, for the INFO callback.
static LOADED: AtomicPtr<ModuleDef> = AtomicPtr::new(std::ptr::null_mut());

unsafe extern "C" fn info_cb(ctx: *mut raw::RedisModuleInfoCtx, _for_crash_report: c_int) {
    let _ = crate::guard::catch(|| {
        // SAFETY: set once at load to a `&'static ModuleDef`.
        let Some(def) = (unsafe { LOADED.load(Ordering::Relaxed).as_ref() }) else {
            return;
        };
        // SAFETY: plain reads of function pointers.
        let fns = unsafe {
            (
                raw::RedisModule_InfoAddSection,
                raw::RedisModule_InfoAddFieldLongLong,
                raw::RedisModule_InfoAddFieldULongLong,
                raw::RedisModule_InfoAddFieldDouble,
                raw::RedisModule_InfoAddFieldCString,
            )
        };
        let (Some(section), Some(int), Some(uint), Some(double), Some(text)) = fns else {
            return;
        };
        // SAFETY: valid info ctx; an empty section name is the module's default section.
        unsafe { section(ctx, c"".as_ptr()) };
        // Every module: its values alive and the bytes its code holds.
        // SAFETY: valid info ctx; NUL-terminated names.
        unsafe {
            uint(ctx, c"keys".as_ptr(), crate::value::live_values());
            uint(ctx, c"memory".as_ptr(), crate::alloc::held_bytes());
        }
        for f in def.info {
            let Ok(name) = CString::new(f.name) else {
                continue;
            };
            // SAFETY: valid info ctx; NUL-terminated strings copied by the server.
            unsafe {
                match (f.value)() {
                    InfoValue::Int(v) => int(ctx, name.as_ptr(), v),
                    InfoValue::Uint(v) => uint(ctx, name.as_ptr(), v),
                    InfoValue::Double(v) => double(ctx, name.as_ptr(), v),
                    InfoValue::Text(s) => {
                        let s = CString::new(s.replace('\0', "")).unwrap_or_default();
                        text(ctx, name.as_ptr(), s.as_ptr())
                    }
                };
            }
        }
    });
}

fn register_info(ctx: *mut raw::RedisModuleCtx, def: &'static ModuleDef) -> Result<(), String> {
    LOADED.store((def as *const ModuleDef).cast_mut(), Ordering::Relaxed);
    // SAFETY: plain read of a function pointer.
    let Some(reg) = (unsafe { raw::RedisModule_RegisterInfoFunc }) else {
        return Ok(());
    };
    // SAFETY: valid OnLoad ctx; the callback is a plain function.
    if unsafe { reg(ctx, Some(info_cb)) } != raw::REDISMODULE_OK as c_int {
        return Err("could not register the INFO callback".into());
    }
    Ok(())
}

// ---- command docs --------------------------------------------------------------------------------------

/// COMMAND DOCS of one command.
pub struct CommandDoc {
    /// The command's name as in the command table.
    pub command: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub since: &'static str,
    pub args: &'static [ArgDoc],
}

impl CommandDoc {
    /// The docs of a command that every module has had since its first release (1.0.0).
    pub const fn new(
        command: &'static str,
        summary: &'static str,
        complexity: &'static str,
        args: &'static [ArgDoc],
    ) -> CommandDoc {
        CommandDoc {
            command,
            summary,
            complexity,
            since: "1.0.0",
            args,
        }
    }
}

/// One argument in COMMAND DOCS.
pub struct ArgDoc {
    pub name: &'static str,
    pub kind: ArgKind,
    /// The keyword before the value (`EX`, `MATCH` ...), if any.
    pub token: Option<&'static str>,
    pub optional: bool,
    pub multiple: bool,
}

impl ArgDoc {
    /// A required argument.
    pub const fn arg(name: &'static str, kind: ArgKind) -> ArgDoc {
        ArgDoc {
            name,
            kind,
            token: None,
            optional: false,
            multiple: false,
        }
    }

    /// An optional argument, after its keyword when `token` is given.
    pub const fn opt(name: &'static str, kind: ArgKind, token: Option<&'static str>) -> ArgDoc {
        ArgDoc {
            name,
            kind,
            token,
            optional: true,
            multiple: false,
        }
    }

    /// An optional keyword alone (`NX`, `WITHSCORES` ...), named after it in lower case by the caller.
    pub const fn flag(name: &'static str, token: &'static str) -> ArgDoc {
        ArgDoc::opt(name, ArgKind::PureToken, Some(token))
    }

    /// One or more of the argument.
    pub const fn many(name: &'static str, kind: ArgKind) -> ArgDoc {
        ArgDoc {
            name,
            kind,
            token: None,
            optional: false,
            multiple: true,
        }
    }
}

/// Arguments documented alike by several modules.
pub mod arg_docs {
    use super::{ArgDoc, ArgKind};

    pub const KEY: ArgDoc = ArgDoc::arg("key", ArgKind::Key);
    /// The expiry options shared by EXSET, EXHSET ... (`EX`/`EXAT`/`PX`/`PXAT`/`KEEPTTL`).
    pub const EX: ArgDoc = ArgDoc::opt("seconds", ArgKind::Integer, Some("EX"));
    pub const EXAT: ArgDoc = ArgDoc::opt("unix-time-seconds", ArgKind::UnixTime, Some("EXAT"));
    pub const PX: ArgDoc = ArgDoc::opt("milliseconds", ArgKind::Integer, Some("PX"));
    pub const PXAT: ArgDoc = ArgDoc::opt("unix-time-milliseconds", ArgKind::UnixTime, Some("PXAT"));
    pub const KEEPTTL: ArgDoc = ArgDoc::flag("keepttl", "KEEPTTL");
    pub const NX: ArgDoc = ArgDoc::flag("nx", "NX");
    pub const XX: ArgDoc = ArgDoc::flag("xx", "XX");
    /// SCAN-style cursor options.
    pub const MATCH: ArgDoc = ArgDoc::opt("pattern", ArgKind::Pattern, Some("MATCH"));
    pub const COUNT: ArgDoc = ArgDoc::opt("count", ArgKind::Integer, Some("COUNT"));
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
}

/// The C strings of one command's docs, alive while the server copies them.
pub(crate) struct DocTexts {
    summary: CString,
    complexity: CString,
    since: CString,
    args: Vec<(CString, Option<CString>)>,
}

impl DocTexts {
    pub(crate) fn of(d: &CommandDoc) -> Result<DocTexts, String> {
        let c = |s: &str| CString::new(s).map_err(|_| format!("bad doc text {s:?}"));
        let mut args = Vec::with_capacity(d.args.len());
        for a in d.args {
            args.push((c(a.name)?, a.token.map(c).transpose()?));
        }
        Ok(DocTexts {
            summary: c(d.summary)?,
            complexity: c(d.complexity)?,
            since: c(d.since)?,
            args,
        })
    }

    pub(crate) fn summary(&self) -> *const c_char {
        self.summary.as_ptr()
    }
    pub(crate) fn complexity(&self) -> *const c_char {
        self.complexity.as_ptr()
    }
    pub(crate) fn since(&self) -> *const c_char {
        self.since.as_ptr()
    }

    /// The zero-terminated argument array (borrowing these texts).
    pub(crate) fn args(&self, d: &CommandDoc) -> Vec<raw::RedisModuleCommandArg> {
        let mut out = Vec::with_capacity(d.args.len() + 1);
        for (a, (name, token)) in d.args.iter().zip(&self.args) {
            // SAFETY: an all-zero argument is a valid "empty" value of this plain C struct.
            let mut r: raw::RedisModuleCommandArg = unsafe { std::mem::zeroed() };
            r.name = name.as_ptr();
            r.type_ = match a.kind {
                ArgKind::String => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
                ArgKind::Integer => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
                ArgKind::Double => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_DOUBLE,
                ArgKind::Key => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY,
                ArgKind::Pattern => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PATTERN,
                ArgKind::UnixTime => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_UNIX_TIME,
                ArgKind::PureToken => {
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN
                }
            };
            r.key_spec_index = if a.kind == ArgKind::Key { 0 } else { -1 };
            r.token = token.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
            let mut flags = 0;
            if a.optional {
                flags |= raw::REDISMODULE_CMD_ARG_OPTIONAL;
            }
            if a.multiple {
                flags |= raw::REDISMODULE_CMD_ARG_MULTIPLE;
            }
            r.flags = flags as _;
            out.push(r);
        }
        if !out.is_empty() {
            // SAFETY: the zero terminator entry.
            out.push(unsafe { std::mem::zeroed() });
        }
        out
    }
}

/// The body of `RedisModule_OnLoad`.
///
/// # Safety
/// Called by the server with a valid context and `argc` arguments.
pub unsafe fn on_load(
    ctx: *mut raw::RedisModuleCtx,
    argv: *mut *mut raw::RedisModuleString,
    argc: c_int,
    def: &'static ModuleDef,
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
    crate::guard::load_faults();
    let r = crate::guard::catch(|| {
        // SAFETY: valid ctx during OnLoad.
        unsafe {
            api!(RedisModule_SetModuleOptions)(
                ctx,
                // No implicit signal when a write-opened key is closed: `Ctx::notify*` signals the
                // key after a real change, so WATCH and client tracking see only real changes.
                (raw::REDISMODULE_OPTIONS_HANDLE_IO_ERRORS
                    | raw::REDISMODULE_OPTIONS_HANDLE_REPL_ASYNC_LOAD
                    | raw::REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED) as c_int,
            )
        };
        // SAFETY: the server passes argc valid arguments.
        let args = unsafe { Args::from_raw(argv, argc) };
        let load_args = LoadArgs::from_args(args, def.load_args)?;
        crate::guard::set_write_panic_aborts(def.write_panic_aborts);
        for t in def.types {
            t(ctx)?;
        }
        command::add_acl_category(ctx, def.name);
        command::register(ctx, def.commands, def.docs)?;
        register_configs(ctx, def.configs)?;
        register_info(ctx, def)?;
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
