//! Access to the server's module API function pointers.
//!
//! `RedisModule_Init` fills a table of function pointers. Every pointer this crate calls is checked once at
//! load time by [`check_api`]; a module refuses to load on a server that lacks one, so the `None` arm of
//! [`api!`] is unreachable once a module has loaded.

pub use redis_module::alloc::RedisAlloc;
pub use redis_module::raw;

/// Calls a module API function: `api!(RedisModule_OpenKey)(ctx, name, mode)`.
#[macro_export]
macro_rules! api {
    ($name:ident) => {{
        // SAFETY: reading a copy of a function pointer the server wrote once during RedisModule_Init.
        #[allow(unused_unsafe)]
        let f = match unsafe { $crate::ffi::raw::$name } {
            Some(f) => f,
            None => $crate::ffi::missing_api(stringify!($name)),
        };
        f
    }};
}

/// Reached only if a server function checked at load time disappeared: abort without unwinding into C.
#[cold]
pub fn missing_api(name: &str) -> ! {
    eprintln!("tair-modules: module API function {name} is missing");
    std::process::abort()
}

macro_rules! required {
    ($($name:ident),* $(,)?) => {
        /// Names of required API functions the server does not provide (empty on Valkey 8 and Redis 7.0+).
        pub fn check_api() -> Vec<&'static str> {
            let mut missing = Vec::new();
            $(
                // SAFETY: plain read of a function pointer filled in by RedisModule_Init.
                if unsafe { raw::$name }.is_none() {
                    missing.push(stringify!($name));
                }
            )*
            missing
        }
    };
}

required!(
    RedisModule_CreateCommand,
    RedisModule_GetCommand,
    RedisModule_SetCommandInfo,
    RedisModule_CreateDataType,
    RedisModule_SetModuleOptions,
    RedisModule_StringPtrLen,
    RedisModule_CreateString,
    RedisModule_FreeString,
    RedisModule_OpenKey,
    RedisModule_CloseKey,
    RedisModule_KeyType,
    RedisModule_DeleteKey,
    RedisModule_ModuleTypeGetType,
    RedisModule_ModuleTypeGetValue,
    RedisModule_ModuleTypeSetValue,
    RedisModule_GetExpire,
    RedisModule_SetExpire,
    RedisModule_StringDMA,
    RedisModule_StringSet,
    RedisModule_StringTruncate,
    RedisModule_ReplyWithError,
    RedisModule_ReplyWithSimpleString,
    RedisModule_ReplyWithStringBuffer,
    RedisModule_ReplyWithLongLong,
    RedisModule_ReplyWithDouble,
    RedisModule_ReplyWithNull,
    RedisModule_ReplyWithArray,
    RedisModule_ReplyWithMap,
    RedisModule_ReplySetArrayLength,
    RedisModule_ReplySetMapLength,
    RedisModule_Replicate,
    RedisModule_ReplicateVerbatim,
    RedisModule_NotifyKeyspaceEvent,
    RedisModule_GetContextFlags,
    RedisModule_Milliseconds,
    RedisModule_Log,
    RedisModule_SaveUnsigned,
    RedisModule_LoadUnsigned,
    RedisModule_SaveSigned,
    RedisModule_LoadSigned,
    RedisModule_SaveDouble,
    RedisModule_LoadDouble,
    RedisModule_SaveStringBuffer,
    RedisModule_LoadStringBuffer,
    RedisModule_IsIOError,
    RedisModule_EmitAOF,
    RedisModule_DigestAddStringBuffer,
    RedisModule_DigestAddLongLong,
    RedisModule_DigestEndSequence,
    RedisModule_Free,
    RedisModule_Alloc,
    RedisModule_GetSelectedDb,
    RedisModule_CreateTimer,
    RedisModule_SelectDb,
    RedisModule_SignalModifiedKey,
    RedisModule_Call,
    RedisModule_CallReplyType,
    RedisModule_CallReplyStringPtr,
    RedisModule_FreeCallReply,
);
