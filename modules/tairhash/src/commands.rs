//! The write commands (spec §4): parse -> open (WRONGTYPE, passive expiry) -> act on the hash -> reply,
//! register, notify, propagate in absolute form (§5.5). The read commands are in `reads`.

use std::ffi::CStr;

use tair_common::clock::ExpireSpec;
use tair_common::error::{wrong_arity, CmdResult, NOT_AN_FLOAT, NOT_AN_INTEGER, SYNTAX};
use tair_common::propagate::{replicate_args, words, Arg};
use tair_common::{Args, Ctx, Origin, RawStr};

use crate::access::{delete_emptied, open_for_write, reregister, write_extra, Env, Slot};
use crate::cmd_args::{
    absolute_ms, expire_version, parse_opts, state_error, time_value, version_arg, Bounds, Ttl,
};
use crate::number::{parse_f64, parse_i64};
use crate::{
    Condition, ExpiryChange, IncrOptions, MsetEntry, SetOptions, SetOutcome, TairHash, VersionRule,
    Written, MAX_VERSION,
};

/// The expiry part of a propagated EXHSET.
#[derive(Clone, Copy)]
enum PropTtl {
    None,
    Keep,
    At(u64),
}

impl PropTtl {
    /// What EXHSET / EXHINCRBY* propagate for the client's time option and the stored result.
    fn of(ttl: Ttl, w: &Written) -> PropTtl {
        match (ttl, w.expiry) {
            (Ttl::Clear, _) => PropTtl::None,
            (Ttl::Keep, _) => PropTtl::Keep,
            (Ttl::At(_), Some(t)) => PropTtl::At(t),
            (Ttl::At(t), None) => PropTtl::At(t),
        }
    }
}

/// Propagates `EXHSET key field value ABS <ver> [PXAT <T> | KEEPTTL]`.
fn propagate_exhset(ctx: &Ctx, name: RawStr, field: Arg, value: Arg, version: u64, ttl: PropTtl) {
    let mut a = [
        Arg::Str(name),
        field,
        value,
        Arg::Word(&words::ABS),
        Arg::Uint(version),
        Arg::Bytes(b""),
        Arg::Bytes(b""),
    ];
    let n = match ttl {
        PropTtl::None => 5,
        PropTtl::Keep => {
            a[5] = Arg::Word(&words::KEEPTTL);
            6
        }
        PropTtl::At(t) => {
            a[5] = Arg::Word(&words::PXAT);
            a[6] = Arg::Uint(t);
            7
        }
    };
    replicate_args(ctx, c"EXHSET", a.get(..n).unwrap_or(&a));
}

/// The end of a successful single-field write: registry, event, propagation.
#[allow(clippy::too_many_arguments)]
fn finish_set(
    ctx: &Ctx,
    env: &Env,
    name: RawStr,
    h: Option<&mut TairHash>,
    event: &CStr,
    field: Arg,
    value: Arg,
    w: &Written,
    ttl: PropTtl,
) {
    reregister(env, name, h);
    ctx.notify_module(event, name);
    propagate_exhset(ctx, name, field, value, w.version, ttl);
}

/// EXHSET key field value [EX s|EXAT s|PX ms|PXAT ms|KEEPTTL] [NX|XX] [VER v|ABS v|GT v]
pub fn exhset(ctx: &Ctx, args: Args) -> CmdResult {
    let env = Env::of(ctx);
    let o = parse_opts(args, 4, "exhset", true, Bounds::None, env.clock, true)?;
    // A version above 2^63-1 exists only when loaded from a C module's data (README, "Data from the C
    // modules"); the AOF rewrite of such a field says `ABS <it>`, so the AOF and the replication stream
    // may set one. Clients keep the spec's range.
    if matches!(o.version, VersionRule::Abs(v) if v > MAX_VERSION) && ctx.origin() == Origin::Client
    {
        return Err(SYNTAX);
    }
    let field = args.at(2);
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &[field], write_extra())?;
    let name = key.name();
    let mut slot = Slot::of(&mut key)?;
    let opts = SetOptions {
        condition: o.condition,
        version: o.version,
        expiry: o.ttl.change(),
    };
    let w = match slot
        .hash()
        .set(field, args.at(3), opts, env.now)
        .map_err(state_error)?
    {
        SetOutcome::Skipped => {
            ctx.reply_int(-1);
            return Ok(());
        }
        SetOutcome::Written(w) => w,
    };
    let h = slot.commit()?;
    ctx.reply_int(i64::from(w.created));
    finish_set(
        ctx,
        &env,
        name,
        h,
        c"exhset",
        Arg::Str(args.raw_arg(2)?),
        Arg::Str(args.raw_arg(3)?),
        &w,
        PropTtl::of(o.ttl, &w),
    );
    Ok(())
}

/// EXHSETNX key field value
pub fn exhsetnx(ctx: &Ctx, args: Args) -> CmdResult {
    let env = Env::of(ctx);
    let field = args.at(2);
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &[field], write_extra())?;
    let name = key.name();
    let mut slot = Slot::of(&mut key)?;
    let opts = SetOptions {
        condition: Condition::IfAbsent,
        version: VersionRule::Bump,
        expiry: ExpiryChange::Clear,
    };
    let w = match slot
        .hash()
        .set(field, args.at(3), opts, env.now)
        .map_err(state_error)?
    {
        SetOutcome::Skipped => {
            ctx.reply_int(0);
            return Ok(());
        }
        SetOutcome::Written(w) => w,
    };
    let h = slot.commit()?;
    ctx.reply_int(1);
    finish_set(
        ctx,
        &env,
        name,
        h,
        c"exhsetnx",
        Arg::Str(args.raw_arg(2)?),
        Arg::Str(args.raw_arg(3)?),
        &w,
        PropTtl::None,
    );
    Ok(())
}

/// EXHMSET key field value [field value ...]
pub fn exhmset(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(wrong_arity("exhmset"));
    }
    let env = Env::of(ctx);
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len())
        .step_by(2)
        .map(|i| (args.at(i), args.at(i + 1)))
        .collect();
    let names: Vec<&[u8]> = pairs.iter().map(|p| p.0).collect();
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &names, write_extra())?;
    let name = key.name();
    let mut slot = Slot::of(&mut key)?;
    slot.hash().mset(&pairs, env.now).map_err(state_error)?;
    let h = slot.commit()?;
    ctx.reply_ok();
    reregister(&env, name, h);
    ctx.notify_module(c"exhmset", name);
    ctx.replicate_verbatim();
    Ok(())
}

/// EXHMSETWITHOPTS key field value ver expire [field value ver expire ...]
pub fn exhmsetwithopts(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() < 6 || !(args.len() - 2).is_multiple_of(4) {
        return Err(wrong_arity("exhmsetwithopts"));
    }
    let env = Env::of(ctx);
    let mut entries = Vec::with_capacity((args.len() - 2) / 4);
    for i in (2..args.len()).step_by(4) {
        let version = version_arg(args.at(i + 2), 0)?;
        let secs = time_value(args.at(i + 3))?;
        let expiry = match secs {
            0 => None,
            s => Some(absolute_ms(
                ExpireSpec::Ex(s),
                env.clock,
                "exhmsetwithopts",
            )?),
        };
        entries.push(MsetEntry {
            name: args.at(i),
            value: args.at(i + 1),
            version,
            expiry,
        });
    }
    let names: Vec<&[u8]> = entries.iter().map(|e| e.name).collect();
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &names, write_extra())?;
    let name = key.name();
    let mut slot = Slot::of(&mut key)?;
    let written = slot
        .hash()
        .mset_with_options(&entries, env.now)
        .map_err(state_error)?;
    let h = slot.commit()?;
    ctx.reply_ok();
    reregister(&env, name, h);
    ctx.notify_module(c"exhmsetwithopts", name);
    for (j, w) in written.iter().enumerate() {
        let i = 2 + 4 * j;
        let ttl = w.expiry.map_or(PropTtl::None, PropTtl::At);
        propagate_exhset(
            ctx,
            name,
            Arg::Str(args.raw_arg(i)?),
            Arg::Str(args.raw_arg(i + 1)?),
            w.version,
            ttl,
        );
    }
    Ok(())
}

/// EXHPEXPIREAT / EXHPEXPIRE / EXHEXPIREAT / EXHEXPIRE key field time [VER v|ABS v|GT v]
fn expire_generic(
    ctx: &Ctx,
    args: Args,
    unit: fn(i64) -> ExpireSpec,
    cmd: &str,
    event: &CStr,
) -> CmdResult {
    let env = Env::of(ctx);
    let t = time_value(args.at(3))?;
    let rule = expire_version(args, 4)?;
    let at = absolute_ms(unit(t), env.clock, cmd)?;
    let field = args.at(2);
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &[field], 0)?;
    let name = key.name();
    let Some(h) = key.value_mut::<TairHash>()? else {
        ctx.reply_int(0);
        return Ok(());
    };
    let Some(w) = h.expire_at(field, at, rule, env.now).map_err(state_error)? else {
        ctx.reply_int(0);
        return Ok(());
    };
    ctx.reply_int(1);
    reregister(&env, name, Some(h));
    ctx.notify_module(event, name);
    replicate_args(
        ctx,
        c"EXHPEXPIREAT",
        &[
            Arg::Str(name),
            Arg::Str(args.raw_arg(2)?),
            Arg::Uint(w.expiry.unwrap_or(at)),
            Arg::Word(&words::ABS),
            Arg::Uint(w.version),
        ],
    );
    Ok(())
}

pub fn exhpexpireat(ctx: &Ctx, args: Args) -> CmdResult {
    expire_generic(ctx, args, ExpireSpec::PxAt, "exhpexpireat", c"exhpexpireat")
}

pub fn exhpexpire(ctx: &Ctx, args: Args) -> CmdResult {
    expire_generic(ctx, args, ExpireSpec::Px, "exhpexpire", c"exhpexpire")
}

pub fn exhexpireat(ctx: &Ctx, args: Args) -> CmdResult {
    expire_generic(ctx, args, ExpireSpec::ExAt, "exhexpireat", c"exhexpireat")
}

pub fn exhexpire(ctx: &Ctx, args: Args) -> CmdResult {
    expire_generic(ctx, args, ExpireSpec::Ex, "exhexpire", c"exhexpire")
}

/// EXHPERSIST key field
pub fn exhpersist(ctx: &Ctx, args: Args) -> CmdResult {
    let env = Env::of(ctx);
    let field = args.at(2);
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &[field], 0)?;
    let name = key.name();
    let Some(h) = key.value_mut::<TairHash>()? else {
        ctx.reply_int(0);
        return Ok(());
    };
    if !h.persist(field, env.now) {
        ctx.reply_int(0);
        return Ok(());
    }
    ctx.reply_int(1);
    reregister(&env, name, Some(h));
    ctx.notify_module(c"exhpersist", name);
    ctx.replicate_verbatim();
    Ok(())
}

/// EXHSETVER key field version
pub fn exhsetver(ctx: &Ctx, args: Args) -> CmdResult {
    let version = version_arg(args.at(3), 1)?;
    let env = Env::of(ctx);
    let field = args.at(2);
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &[field], write_extra())?;
    let name = key.name();
    let Some(h) = key.value_mut::<TairHash>()? else {
        ctx.reply_int(0);
        return Ok(());
    };
    if !h.set_version(field, version, env.now) {
        ctx.reply_int(0);
        return Ok(());
    }
    ctx.reply_int(1);
    ctx.notify_module(c"exhsetver", name);
    ctx.replicate_verbatim();
    Ok(())
}

/// EXHINCRBY key field num [EX|EXAT|PX|PXAT|KEEPTTL] [VER|ABS|GT v] [MIN min] [MAX max]
pub fn exhincrby(ctx: &Ctx, args: Args) -> CmdResult {
    let delta = parse_i64(args.at(3)).ok_or(NOT_AN_INTEGER)?;
    let env = Env::of(ctx);
    let o = parse_opts(args, 4, "exhincrby", false, Bounds::Int, env.clock, false)?;
    let field = args.at(2);
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &[field], write_extra())?;
    let name = key.name();
    let mut slot = Slot::of(&mut key)?;
    let opts = IncrOptions {
        version: o.version,
        expiry: o.ttl.change(),
        min: o.min_i,
        max: o.max_i,
    };
    let (r, w) = slot
        .hash()
        .incr_by(field, delta, opts, env.now)
        .map_err(state_error)?;
    let h = slot.commit()?;
    ctx.reply_int(r);
    let text = r.to_string();
    finish_set(
        ctx,
        &env,
        name,
        h,
        c"exhincrby",
        Arg::Str(args.raw_arg(2)?),
        Arg::Bytes(text.as_bytes()),
        &w,
        PropTtl::of(o.ttl, &w),
    );
    Ok(())
}

/// EXHINCRBYFLOAT key field num [EX|EXAT|PX|PXAT|KEEPTTL] [VER|ABS|GT v] [MIN min] [MAX max]
pub fn exhincrbyfloat(ctx: &Ctx, args: Args) -> CmdResult {
    let delta = parse_f64(args.at(3)).ok_or(NOT_AN_FLOAT)?;
    let env = Env::of(ctx);
    let o = parse_opts(
        args,
        4,
        "exhincrbyfloat",
        false,
        Bounds::Float,
        env.clock,
        false,
    )?;
    let field = args.at(2);
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &[field], write_extra())?;
    let name = key.name();
    let mut slot = Slot::of(&mut key)?;
    let opts = IncrOptions {
        version: o.version,
        expiry: o.ttl.change(),
        min: o.min_f,
        max: o.max_f,
    };
    let (text, w) = slot
        .hash()
        .incr_by_float(field, delta, opts, env.now)
        .map_err(state_error)?;
    let h = slot.commit()?;
    ctx.reply_bulk(text.as_bytes());
    finish_set(
        ctx,
        &env,
        name,
        h,
        c"exhincrbyfloat",
        Arg::Str(args.raw_arg(2)?),
        Arg::Bytes(text.as_bytes()),
        &w,
        PropTtl::of(o.ttl, &w),
    );
    Ok(())
}

/// Deletes the fields at argument positions `fields` for which `delete` says so; replies the count,
/// propagates `EXHDEL key <deleted>`, fires `exhdel` (and `del` when the key went).
fn delete_generic(
    ctx: &Ctx,
    args: Args,
    fields: &[usize],
    mut delete: impl FnMut(&mut TairHash, usize, u64) -> bool,
) -> CmdResult {
    let env = Env::of(ctx);
    let names: Vec<&[u8]> = fields.iter().map(|&i| args.at(i)).collect();
    let mut key = open_for_write(ctx, &env, args.raw_arg(1)?, &names, 0)?;
    let name = key.name();
    let Some(h) = key.value_mut::<TairHash>()? else {
        ctx.reply_int(0);
        return Ok(());
    };
    let deleted: Vec<usize> = fields
        .iter()
        .copied()
        .filter(|&i| delete(h, i, env.now))
        .collect();
    ctx.reply_int(deleted.len() as i64);
    if deleted.is_empty() {
        return Ok(());
    }
    let emptied = h.is_empty();
    let mut prop = Vec::with_capacity(deleted.len() + 1);
    prop.push(Arg::Str(name));
    for &i in &deleted {
        prop.push(Arg::Str(args.raw_arg(i)?));
    }
    replicate_args(ctx, c"EXHDEL", &prop);
    ctx.notify_module(c"exhdel", name);
    if emptied {
        delete_emptied(ctx, &env, &mut key);
    } else {
        reregister(&env, name, Some(h));
    }
    Ok(())
}

/// EXHDEL key field [field ...] (also EXHDELREPL, §4.30)
pub fn exhdel(ctx: &Ctx, args: Args) -> CmdResult {
    let fields: Vec<usize> = (2..args.len()).collect();
    delete_generic(ctx, args, &fields, |h, i, now| h.delete(args.at(i), now))
}

/// EXHDELWITHVER key field version [field version ...]
pub fn exhdelwithver(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(wrong_arity("exhdelwithver"));
    }
    let mut versions = vec![0u64; args.len()];
    for i in (2..args.len()).step_by(2) {
        if let Some(v) = versions.get_mut(i) {
            *v = version_arg(args.at(i + 1), 0)?;
        }
    }
    let fields: Vec<usize> = (2..args.len()).step_by(2).collect();
    delete_generic(ctx, args, &fields, |h, i, now| {
        let v = versions.get(i).copied().unwrap_or(0);
        h.delete_with_version(args.at(i), v, now)
    })
}
