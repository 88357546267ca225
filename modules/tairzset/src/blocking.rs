//! EXBZPOPMIN / EXBZPOPMAX key [key ...] timeout (spec §4.19): serve the first non-empty tairzset at
//! once, else block on every key with `RedisModule_BlockClientOnKeys`. A served pop is propagated as
//! `EXZPOPMIN key 1` / `EXZPOPMAX key 1`, never in the blocking form.
//!
//! New keys are signalled ready by the server itself (every key creation goes through its `dbAdd`), and
//! a key of ours is never empty, so a client only ever waits on missing keys; on wake-up the key may be
//! missing again or hold another type, and the client then keeps waiting.

use smallvec::SmallVec;
use tair_common::error::{CmdResult, TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
use tair_common::propagate::{replicate_args, Arg, Word};
use tair_common::{Args, BlockOnKeys, Ctx, Origin, RawStr};

use crate::commands::zset_mut;
use crate::reply::{delete_if_empty, ScoreText};
use crate::score::parse_dim;

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
fn try_serve(ctx: &Ctx, name: RawStr, max: bool) -> CmdResult<bool> {
    let mut key = ctx.open_write(name);
    let Some(z) = zset_mut(&mut key)? else {
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
    delete_if_empty(ctx, &mut key);
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
    use tair_common::ctx::flag;
    let denied = flag::MULTI | flag::LUA | flag::DENY_BLOCKING;
    ctx.flags() & denied != 0 || ctx.origin() != Origin::Client || !ctx.can_block_on_keys()
}

fn timed_out(ctx: &Ctx) {
    ctx.reply_null_array();
}

static BLOCKED_MIN: BlockOnKeys = BlockOnKeys {
    ready: |ctx, name| matches!(try_serve(ctx, name, false), Ok(true)),
    timeout: timed_out,
};

static BLOCKED_MAX: BlockOnKeys = BlockOnKeys {
    ready: |ctx, name| matches!(try_serve(ctx, name, true), Ok(true)),
    timeout: timed_out,
};

fn bzpop(ctx: &Ctx, args: Args, max: bool) -> CmdResult {
    let last = args.len().saturating_sub(1);
    let timeout = parse_timeout(args.at(last))?;
    for i in 1..last {
        if try_serve(ctx, args.raw_arg(i)?, max)? {
            return Ok(());
        }
    }
    if cannot_block(ctx) {
        ctx.reply_null_array();
        return Ok(());
    }
    let keys: SmallVec<[RawStr; 8]> = (1..last).filter_map(|i| args.raw(i)).collect();
    let on = if max { &BLOCKED_MAX } else { &BLOCKED_MIN };
    if !ctx.block_on_keys(&keys, timeout, on) {
        ctx.reply_null_array();
    }
    Ok(())
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
