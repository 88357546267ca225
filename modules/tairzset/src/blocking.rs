//! EXBZPOPMIN / EXBZPOPMAX key [key ...] timeout (spec §4.19): serve the first non-empty tairzset at
//! once, else block on every key with `RedisModule_BlockClientOnKeys`. A served pop is propagated as
//! `EXZPOPMIN key 1` / `EXZPOPMAX key 1`, never in the blocking form.
//!
//! New keys are signalled ready by the server itself (every key creation goes through its `dbAdd`), and
//! a key of ours is never empty, so a client only ever waits on missing keys; on wake-up the key may be
//! missing again or hold another type, and the client then keeps waiting.

use std::ffi::c_int;

use smallvec::SmallVec;
use tair_common::api;
use tair_common::error::{CmdError, CmdResult};
use tair_common::ffi::raw;
use tair_common::guard::catch;
use tair_common::propagate::{replicate_args, Arg, Word};
use tair_common::{Args, Ctx, Origin};

use crate::commands::{raw_arg, zset_of};
use crate::reply::{delete_if_empty, ScoreText};
use crate::score::parse_dim;

const TIMEOUT_NOT_FLOAT: CmdError = CmdError::Static(c"ERR timeout is not a float or out of range");
const TIMEOUT_NEGATIVE: CmdError = CmdError::Static(c"ERR timeout is negative");

static ONE: Word = Word::new(b"1");

/// Seconds (a double, ms precision, rounded up) to milliseconds; 0 = forever.
pub fn parse_timeout(a: &[u8]) -> CmdResult<i64> {
    let secs = parse_dim(a).ok_or(TIMEOUT_NOT_FLOAT)?;
    if secs < 0.0 {
        return Err(TIMEOUT_NEGATIVE);
    }
    let ms = (secs * 1000.0).ceil();
    // Far beyond any real wait, and the server adds the current time to it.
    if !ms.is_finite() || ms > 1e15 {
        return Err(TIMEOUT_NOT_FLOAT);
    }
    Ok(ms as i64)
}

/// Pops one member of `name` if it holds a non-empty tairzset: replies `[key, member, score]`, fires the
/// events, propagates `EXZPOP* key 1`. `Ok(false)` when the key is missing; WRONGTYPE for another type.
fn try_serve(ctx: &Ctx, name: *mut raw::RedisModuleString, max: bool) -> CmdResult<bool> {
    let key = ctx.open_write(name);
    let Some(z) = zset_of(&key)? else {
        return Ok(false);
    };
    let Some((member, score)) = z.pop(1, max).pop() else {
        return Ok(false);
    };
    ctx.reply_array(3);
    ctx.reply_string(name);
    ctx.reply_bulk(&member);
    ScoreText::default().reply(ctx, score.as_slice());
    ctx.notify_module(if max { c"exzpopmax" } else { c"exzpopmin" }, name);
    delete_if_empty(ctx, &key, z);
    replicate_args(
        ctx,
        if max { c"EXZPOPMAX" } else { c"EXZPOPMIN" },
        &[Arg::Str(name), Arg::Word(&ONE)],
    );
    Ok(true)
}

/// True when this call may not block: MULTI, scripts, a client that denies blocking, the replication
/// stream or AOF loading, or a server without the blocking API.
fn cannot_block(ctx: &Ctx) -> bool {
    let denied = raw::REDISMODULE_CTX_FLAGS_MULTI
        | raw::REDISMODULE_CTX_FLAGS_LUA
        | raw::REDISMODULE_CTX_FLAGS_DENY_BLOCKING;
    // SAFETY: plain reads of function pointers filled in by RedisModule_Init.
    let api_ok = unsafe { raw::RedisModule_BlockClientOnKeys }.is_some()
        // SAFETY: as above.
        && unsafe { raw::RedisModule_GetBlockedClientReadyKey }.is_some();
    ctx.flags() & denied != 0 || ctx.origin() != Origin::Client || !api_ok
}

fn bzpop(ctx: &Ctx, args: Args, max: bool) -> CmdResult {
    let last = args.len().saturating_sub(1);
    let timeout = parse_timeout(args.at(last))?;
    for i in 1..last {
        if try_serve(ctx, raw_arg(args, i)?, max)? {
            return Ok(());
        }
    }
    if cannot_block(ctx) {
        ctx.reply_null_array();
        return Ok(());
    }
    let mut keys: SmallVec<[*mut raw::RedisModuleString; 8]> =
        (1..last).filter_map(|i| args.raw(i)).collect();
    let reply_cb: raw::RedisModuleCmdFunc = if max {
        Some(served_max)
    } else {
        Some(served_min)
    };
    // SAFETY: valid ctx; the keys are live argument strings (the server keeps its own references);
    // no private data, so no free callback.
    let bc = unsafe {
        api!(RedisModule_BlockClientOnKeys)(
            ctx.as_ptr(),
            reply_cb,
            Some(timed_out),
            None,
            timeout,
            keys.as_mut_ptr(),
            c_int::try_from(keys.len()).unwrap_or(c_int::MAX),
            std::ptr::null_mut(),
        )
    };
    if bc.is_null() {
        ctx.reply_null_array();
    }
    Ok(())
}

/// Called when one of the keys was signalled ready: serve from it, or keep waiting (ERR).
fn on_ready(ctx: *mut raw::RedisModuleCtx, max: bool) -> c_int {
    let c = Ctx::from_raw(ctx);
    let served = catch(|| {
        // SAFETY: valid ctx of a reply callback of a client blocked on keys.
        let name = unsafe { api!(RedisModule_GetBlockedClientReadyKey)(ctx) };
        !name.is_null() && matches!(try_serve(&c, name, max), Ok(true))
    });
    if served == Some(true) {
        raw::REDISMODULE_OK as c_int
    } else {
        raw::REDISMODULE_ERR as c_int
    }
}

unsafe extern "C" fn served_min(
    ctx: *mut raw::RedisModuleCtx,
    _argv: *mut *mut raw::RedisModuleString,
    _argc: c_int,
) -> c_int {
    on_ready(ctx, false)
}

unsafe extern "C" fn served_max(
    ctx: *mut raw::RedisModuleCtx,
    _argv: *mut *mut raw::RedisModuleString,
    _argc: c_int,
) -> c_int {
    on_ready(ctx, true)
}

unsafe extern "C" fn timed_out(
    ctx: *mut raw::RedisModuleCtx,
    _argv: *mut *mut raw::RedisModuleString,
    _argc: c_int,
) -> c_int {
    let _ = catch(|| Ctx::from_raw(ctx).reply_null_array());
    raw::REDISMODULE_OK as c_int
}

/// EXBZPOPMIN key [key ...] timeout
pub fn exbzpopmin(ctx: &Ctx, args: Args) -> CmdResult {
    bzpop(ctx, args, false)
}

/// EXBZPOPMAX key [key ...] timeout
pub fn exbzpopmax(ctx: &Ctx, args: Args) -> CmdResult {
    bzpop(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout(b"0"), Ok(0));
        assert_eq!(parse_timeout(b"0.1"), Ok(100));
        assert_eq!(parse_timeout(b"1.0001"), Ok(1001));
        assert_eq!(parse_timeout(b"5"), Ok(5000));
        assert_eq!(parse_timeout(b"-1"), Err(TIMEOUT_NEGATIVE));
        assert_eq!(parse_timeout(b"abc"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(parse_timeout(b"nan"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(parse_timeout(b"inf"), Err(TIMEOUT_NOT_FLOAT));
        assert_eq!(parse_timeout(b"1e300"), Err(TIMEOUT_NOT_FLOAT));
    }
}
