//! One function per command: parse -> act on the value -> reply, and propagate (spec: tairstring.md).

use std::ffi::CStr;

use tair_common::args::{
    eq_ic, format_double, parse_bound, parse_f64, parse_i64, parse_u64, ArgCursor,
};
use tair_common::clock::{ExpireOption, ExpireSpec};
use tair_common::error::{
    invalid_expire, wrong_arity, CmdError, CmdResult, INCR_OVERFLOW, NOT_AN_INTEGER, NOT_A_FLOAT,
    SYNTAX, VERSION_OVERFLOW, VERSION_STALE, WRONGTYPE,
};
use tair_common::propagate::{itoa, replicate_args, words, Arg};
use tair_common::{Args, Ctx, KeyKind, Origin, RawStr, WriteKey};

use crate::exstring::{ExString, VersionArg, VersionError, MAX_VERSION};

const BAD_BOUNDS: CmdError = CmdError::Static(c"ERR min or max is specified, but not valid");
const TOO_BIG: CmdError = CmdError::Static(c"ERR string exceeds maximum allowed size");
const VER_NOT_INT: CmdError = CmdError::Static(c"ERR version should be integer");

fn version_err(e: VersionError) -> CmdError {
    match e {
        VersionError::Stale => {
            crate::info::count(&crate::info::STALE_VERSIONS);
            VERSION_STALE
        }
        VersionError::Overflow => VERSION_OVERFLOW,
    }
}

// ---- options -------------------------------------------------------------------------------------------

/// Which options a command accepts.
#[derive(Clone, Copy)]
struct Accepts {
    expire: bool,
    keepttl: bool,
    nx_xx: bool,
    version: bool,
    flags: bool,
    withversion: bool,
    /// MIN/MAX/NONEGATIVE/DEF as integers (EXINCRBY).
    int_bounds: bool,
    /// MIN/MAX as floats (EXINCRBYFLOAT).
    float_bounds: bool,
    /// `ABS` may name any unsigned 64-bit value (EXSET only; the command then refuses one above 2^63-1
    /// unless it comes from the AOF or the primary, see [`exset`]).
    wide_abs: bool,
}

const NONE: Accepts = Accepts {
    expire: false,
    keepttl: false,
    nx_xx: false,
    version: false,
    flags: false,
    withversion: false,
    int_bounds: false,
    float_bounds: false,
    wide_abs: false,
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ttl {
    Keep,
    At(ExpireSpec),
}

#[derive(Default)]
struct Opts {
    ttl: Option<Ttl>,
    nx: bool,
    xx: bool,
    ver: VersionArg,
    flags: Option<u32>,
    withversion: bool,
    min_i: Option<i64>,
    max_i: Option<i64>,
    min_f: Option<f64>,
    max_f: Option<f64>,
    nonegative: bool,
    def: Option<i64>,
}

/// `VER/ABS` value: an integer >= 0, else a syntax error.
fn non_negative(c: &mut ArgCursor) -> CmdResult<u64> {
    match parse_i64(c.value()?) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(SYNTAX),
    }
}

fn parse_opts(c: &mut ArgCursor, acc: Accepts) -> CmdResult<Opts> {
    let mut o = Opts::default();
    let mut seen_ver = false;
    while let Some(kw) = c.next_arg() {
        let is = |k: &[u8]| eq_ic(kw, k);
        let expiry_kw = if is(b"KEEPTTL") {
            acc.keepttl
        } else {
            acc.expire && ExpireSpec::unit(kw).is_some()
        };
        if expiry_kw {
            // KEEPTTL may repeat; anything else with another expiry option is a syntax error.
            o.ttl = match (o.ttl, ExpireOption::parse(kw, || c.next_arg(), 1)?) {
                (None, Some(ExpireOption::At(spec))) => Some(Ttl::At(spec)),
                (None | Some(Ttl::Keep), Some(ExpireOption::KeepTtl)) => Some(Ttl::Keep),
                _ => return Err(SYNTAX),
            };
        } else if acc.nx_xx && is(b"NX") {
            if o.xx {
                return Err(SYNTAX);
            }
            o.nx = true;
        } else if acc.nx_xx && is(b"XX") {
            if o.nx {
                return Err(SYNTAX);
            }
            o.xx = true;
        } else if acc.version && (is(b"VER") || is(b"ABS")) {
            if seen_ver {
                return Err(SYNTAX);
            }
            seen_ver = true;
            let v = if acc.wide_abs && is(b"ABS") {
                parse_u64(c.value()?).ok_or(SYNTAX)?
            } else {
                non_negative(c)?
            };
            o.ver = if is(b"VER") {
                VersionArg::Ver(v)
            } else {
                VersionArg::Abs(v)
            };
        } else if acc.flags && is(b"FLAGS") {
            if o.flags.is_some() {
                return Err(SYNTAX);
            }
            let f = parse_i64(c.value()?)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or(SYNTAX)?;
            o.flags = Some(f);
        } else if acc.withversion && is(b"WITHVERSION") {
            o.withversion = true;
        } else if acc.int_bounds && (is(b"MIN") || is(b"MAX")) {
            parse_bound(kw, c, (&mut o.min_i, &mut o.max_i), parse_i64, BAD_BOUNDS)?;
        } else if acc.float_bounds && (is(b"MIN") || is(b"MAX")) {
            parse_bound(kw, c, (&mut o.min_f, &mut o.max_f), parse_f64, BAD_BOUNDS)?;
        } else if acc.int_bounds && is(b"NONEGATIVE") {
            o.nonegative = true;
        } else if acc.int_bounds && is(b"DEF") {
            if o.def.is_some() {
                return Err(SYNTAX);
            }
            o.def = Some(parse_i64(c.value()?).ok_or(NOT_AN_INTEGER)?);
        } else {
            return Err(SYNTAX);
        }
    }
    if let (Some(a), Some(b)) = (o.min_i, o.max_i) {
        if a > b {
            return Err(BAD_BOUNDS);
        }
    }
    if let (Some(a), Some(b)) = (o.min_f, o.max_f) {
        if a > b {
            return Err(BAD_BOUNDS);
        }
    }
    Ok(o)
}

/// The TTL decision with the absolute time resolved (checked for overflow before any key is touched).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TtlAbs {
    Clear,
    Keep,
    /// Absolute ms, and whether the client gave an absolute time (which may already be past).
    At(i64),
}

fn resolve_ttl(ttl: Option<Ttl>, ctx: &Ctx, cmd: &str) -> CmdResult<TtlAbs> {
    Ok(match ttl {
        None => TtlAbs::Clear,
        Some(Ttl::Keep) => TtlAbs::Keep,
        Some(Ttl::At(spec)) => TtlAbs::At(
            spec.to_abs_ms(ctx.now_ms())
                .ok_or_else(|| invalid_expire(cmd))?,
        ),
    })
}

/// Opens `key` for writing and returns its exstrtype value (None if missing), WRONGTYPE otherwise.
fn open_ex(key: &mut WriteKey) -> CmdResult<Option<&mut ExString>> {
    key.value_mut::<ExString>()
}

/// Applies the TTL decision to a key just written.
fn apply_ttl(ctx: &Ctx, key: &mut WriteKey, ttl: TtlAbs) {
    match ttl {
        TtlAbs::Clear => key.remove_expire(),
        TtlAbs::Keep => {}
        TtlAbs::At(ms) => {
            key.set_abs_expire(ms);
            ctx.notify_generic(c"expire", key.name());
        }
    }
}

/// After a write with an absolute time already past (client on a primary only): delete the key at once,
/// propagate `DEL` if it existed before. Returns true when the key was removed (the caller then
/// propagates nothing else).
fn expire_if_past(ctx: &Ctx, key: &mut WriteKey, ttl: TtlAbs, existed: bool) -> bool {
    let TtlAbs::At(ms) = ttl else { return false };
    if ms > ctx.now_ms() || ctx.origin() != Origin::Client {
        return false;
    }
    if key.delete().is_err() {
        return false;
    }
    ctx.notify_generic(c"del", key.name());
    if existed {
        replicate_args(ctx, c"DEL", &[Arg::Str(key.name())]);
    }
    true
}

/// Propagates `EXSET key <value> ABS <ver> FLAGS <flags> [PXAT t | KEEPTTL]`.
fn propagate_exset(ctx: &Ctx, name: RawStr, value: Arg, v: &ExString, ttl: TtlAbs) {
    let mut tb = [0u8; 20];
    let mut args = [
        Arg::Str(name),
        value,
        Arg::Word(&words::ABS),
        Arg::Uint(v.version()),
        Arg::Word(&words::FLAGS),
        Arg::Uint(u64::from(v.flags())),
        Arg::Bytes(b""),
        Arg::Bytes(b""),
    ];
    let n = match ttl {
        TtlAbs::Clear => 6,
        TtlAbs::Keep => {
            args[6] = Arg::Word(&words::KEEPTTL);
            7
        }
        TtlAbs::At(ms) => {
            args[6] = Arg::Word(&words::PXAT);
            args[7] = Arg::Bytes(itoa(ms, &mut tb));
            8
        }
    };
    replicate_args(ctx, c"EXSET", args.get(..n).unwrap_or(&args));
}

/// The common end of EXSET-like writes: TTL, events, past-time deletion, propagation.
fn finish_write(
    ctx: &Ctx,
    key: &mut WriteKey,
    event: &CStr,
    ttl: TtlAbs,
    existed: bool,
    value: Arg,
) {
    ctx.notify_module(event, key.name());
    apply_ttl(ctx, key, ttl);
    if expire_if_past(ctx, key, ttl, existed) {
        return;
    }
    if let Ok(Some(v)) = key.value::<ExString>() {
        propagate_exset(ctx, key.name(), value, v, ttl);
    }
}

/// Writes `new_value` into `key` (creating it when missing) with the version rules; returns the version.
fn store(
    key: &mut WriteKey,
    new_value: &[u8],
    ver: VersionArg,
    flags: Option<u32>,
) -> CmdResult<u64> {
    match open_ex(key)? {
        Some(v) => {
            let next = ver.next(v.version()).map_err(version_err)?;
            let f = flags.unwrap_or(v.flags());
            v.set(new_value, next, f);
            Ok(next)
        }
        None => {
            let v = key.set_value(ExString::new(new_value, ver.initial(), flags.unwrap_or(0)))?;
            Ok(v.version())
        }
    }
}

// ---- commands ------------------------------------------------------------------------------------------

/// EXSET key value [EX s|PX ms|EXAT ts|PXAT ts|KEEPTTL] [NX|XX] [VER v|ABS v] [FLAGS f] [WITHVERSION]
pub fn exset(ctx: &Ctx, args: Args) -> CmdResult {
    let mut c = ArgCursor::new(args, 3);
    let o = parse_opts(
        &mut c,
        Accepts {
            expire: true,
            keepttl: true,
            nx_xx: true,
            version: true,
            flags: true,
            withversion: true,
            wide_abs: true,
            ..NONE
        },
    )?;
    // A version above 2^63-1 exists only when loaded from a C module's data (README, "Data from the C
    // modules"); the AOF rewrite of such a key says `ABS <it>`, so the AOF and the replication stream
    // may set one. Clients keep the spec's range.
    if matches!(o.ver, VersionArg::Abs(v) if v > MAX_VERSION) && ctx.origin() == Origin::Client {
        return Err(SYNTAX);
    }
    let ttl = resolve_ttl(o.ttl, ctx, "exset")?;
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    let cur = key.value::<ExString>()?;
    let existed = cur.is_some();
    if (existed && o.nx) || (!existed && o.xx) {
        ctx.reply_null();
        return Ok(());
    }
    if let Some(v) = cur {
        o.ver.check(v.version()).map_err(version_err)?;
    }
    let version = store(&mut key, args.at(2), o.ver, o.flags)?;
    if o.withversion {
        ctx.reply_int(version as i64);
    } else {
        ctx.reply_ok();
    }
    finish_write(
        ctx,
        &mut key,
        c"exset",
        ttl,
        existed,
        Arg::Str(args.raw(2).ok_or(SYNTAX)?),
    );
    Ok(())
}

/// EXGET key [WITHFLAGS]
pub fn exget(ctx: &Ctx, args: Args) -> CmdResult {
    let withflags = match args.len() {
        2 => false,
        3 if eq_ic(args.at(2), b"WITHFLAGS") => true,
        3 => return Err(SYNTAX),
        _ => return Err(wrong_arity("exget")),
    };
    let key = ctx.open_read(args.raw(1).ok_or(SYNTAX)?);
    match key.value::<ExString>()? {
        None => ctx.reply_null(),
        Some(v) => {
            ctx.reply_array(if withflags { 3 } else { 2 });
            ctx.reply_bulk(v.value());
            ctx.reply_int(v.version() as i64);
            if withflags {
                ctx.reply_int(i64::from(v.flags()));
            }
        }
    }
    Ok(())
}

/// EXSETVER key version
pub fn exsetver(ctx: &Ctx, args: Args) -> CmdResult {
    let ver = match parse_i64(args.at(2)) {
        Some(v) if v >= 1 => v as u64,
        _ => return Err(SYNTAX),
    };
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    let name = key.name();
    match open_ex(&mut key)? {
        None => ctx.reply_int(0),
        Some(v) => {
            v.set_version(ver);
            ctx.reply_int(1);
            ctx.notify_module(c"exsetver", name);
            ctx.replicate_verbatim();
        }
    }
    Ok(())
}

/// EXINCRBY key num [EX|PX|EXAT|PXAT|KEEPTTL] [NX|XX] [VER|ABS] [MIN] [MAX] [NONEGATIVE] [DEF] [WITHVERSION]
pub fn exincrby(ctx: &Ctx, args: Args) -> CmdResult {
    let num = parse_i64(args.at(2)).ok_or(NOT_AN_INTEGER)?;
    let mut c = ArgCursor::new(args, 3);
    let o = parse_opts(
        &mut c,
        Accepts {
            expire: true,
            keepttl: true,
            nx_xx: true,
            version: true,
            withversion: true,
            int_bounds: true,
            ..NONE
        },
    )?;
    let ttl = resolve_ttl(o.ttl, ctx, "exincrby")?;
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    let cur = key.value::<ExString>()?;
    let existed = cur.is_some();
    if (existed && o.nx) || (!existed && o.xx) {
        ctx.reply_null();
        return Ok(());
    }
    let candidate = match cur {
        Some(v) => {
            let stored = parse_i64(v.value()).ok_or(NOT_AN_INTEGER)?;
            o.ver.check(v.version()).map_err(version_err)?;
            stored.checked_add(num).ok_or(INCR_OVERFLOW)?
        }
        None => o.def.unwrap_or(num),
    };
    if o.min_i.is_some_and(|m| candidate < m) || o.max_i.is_some_and(|m| candidate > m) {
        return Err(INCR_OVERFLOW);
    }
    let result = if o.nonegative && candidate < 0 {
        0
    } else {
        candidate
    };
    let mut nb = [0u8; 20];
    let text = itoa(result, &mut nb);
    let version = store(&mut key, text, o.ver, None)?;
    if o.withversion {
        ctx.reply_array(2);
        ctx.reply_int(result);
        ctx.reply_int(version as i64);
    } else {
        ctx.reply_int(result);
    }
    finish_write(ctx, &mut key, c"exincrby", ttl, existed, Arg::Bytes(text));
    Ok(())
}

/// EXINCRBYFLOAT key num [EX|PX|EXAT|PXAT|KEEPTTL] [NX|XX] [VER|ABS] [MIN] [MAX]
pub fn exincrbyfloat(ctx: &Ctx, args: Args) -> CmdResult {
    let num = parse_f64(args.at(2)).ok_or(NOT_A_FLOAT)?;
    let mut c = ArgCursor::new(args, 3);
    let o = parse_opts(
        &mut c,
        Accepts {
            expire: true,
            keepttl: true,
            nx_xx: true,
            version: true,
            float_bounds: true,
            ..NONE
        },
    )?;
    let ttl = resolve_ttl(o.ttl, ctx, "exincrbyfloat")?;
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    let cur = key.value::<ExString>()?;
    let existed = cur.is_some();
    if (existed && o.nx) || (!existed && o.xx) {
        ctx.reply_null();
        return Ok(());
    }
    let base = match cur {
        Some(v) => {
            let stored = parse_f64(v.value()).ok_or(NOT_A_FLOAT)?;
            o.ver.check(v.version()).map_err(version_err)?;
            stored
        }
        None => 0.0,
    };
    let r = base + num;
    if !r.is_finite() || o.min_f.is_some_and(|m| r < m) || o.max_f.is_some_and(|m| r > m) {
        return Err(INCR_OVERFLOW);
    }
    let text = format_double(r, 15).into_bytes();
    store(&mut key, &text, o.ver, None)?;
    ctx.reply_bulk(&text);
    finish_write(
        ctx,
        &mut key,
        c"exincrbyfloat",
        ttl,
        existed,
        Arg::Bytes(&text),
    );
    Ok(())
}

/// EXCAS key newvalue version [EX|PX|EXAT|PXAT|KEEPTTL]
pub fn excas(ctx: &Ctx, args: Args) -> CmdResult {
    let want = parse_i64(args.at(3)).ok_or(VER_NOT_INT)?;
    if want < 0 {
        return Err(SYNTAX);
    }
    let mut c = ArgCursor::new(args, 4);
    let o = parse_opts(
        &mut c,
        Accepts {
            expire: true,
            keepttl: true,
            ..NONE
        },
    )?;
    let ttl = resolve_ttl(o.ttl, ctx, "excas")?;
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    let Some(v) = open_ex(&mut key)? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    if v.version() != want as u64 {
        ctx.reply_array(3);
        crate::info::count(&crate::info::CAS_FAILURES);
        ctx.reply_simple(c"CAS_FAILED");
        ctx.reply_bulk(v.value());
        ctx.reply_int(v.version() as i64);
        return Ok(());
    }
    let next = VersionArg::None.next(v.version()).map_err(version_err)?;
    let f = v.flags();
    v.set(args.at(2), next, f);
    ctx.reply_array(3);
    ctx.reply_ok();
    ctx.reply_simple(c"");
    ctx.reply_int(next as i64);
    finish_write(
        ctx,
        &mut key,
        c"excas",
        ttl,
        true,
        Arg::Str(args.raw(2).ok_or(SYNTAX)?),
    );
    Ok(())
}

/// EXCAD key version
pub fn excad(ctx: &Ctx, args: Args) -> CmdResult {
    let want = parse_i64(args.at(2)).ok_or(SYNTAX)?;
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    let Some(v) = key.value::<ExString>()? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    // Compared as the signed number EXGET reports, so a version loaded from a C module's data above
    // 2^63-1 (reported negative, as the C module does) is deleted by the number the client was shown.
    if v.version() as i64 != want {
        crate::info::count(&crate::info::CAS_FAILURES);
        ctx.reply_int(0);
        return Ok(());
    }
    key.delete()?;
    ctx.reply_int(1);
    ctx.notify_generic(c"del", key.name());
    replicate_args(ctx, c"DEL", &[Arg::Str(key.name())]);
    Ok(())
}

fn append_like(ctx: &Ctx, args: Args, prepend: bool) -> CmdResult {
    let mut c = ArgCursor::new(args, 3);
    let o = parse_opts(
        &mut c,
        Accepts {
            nx_xx: true,
            version: true,
            ..NONE
        },
    )?;
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    let existed = key.value::<ExString>()?.is_some();
    if (existed && o.nx) || (!existed && o.xx) {
        ctx.reply_null();
        return Ok(());
    }
    let data = args.at(2);
    let version = match open_ex(&mut key)? {
        Some(v) => {
            o.ver.check(v.version()).map_err(version_err)?;
            let next = o.ver.next(v.version()).map_err(version_err)?;
            v.extend(data, prepend).map_err(|_| TOO_BIG)?;
            v.set_version(next);
            next
        }
        None => key
            .set_value(ExString::new(data, o.ver.initial(), 0))?
            .version(),
    };
    ctx.reply_int(version as i64);
    let (event, cmd) = if prepend {
        (c"exprepend", c"EXPREPEND")
    } else {
        (c"exappend", c"EXAPPEND")
    };
    ctx.notify_module(event, key.name());
    replicate_args(
        ctx,
        cmd,
        &[
            Arg::Str(key.name()),
            Arg::Str(args.raw(2).ok_or(SYNTAX)?),
            Arg::Word(&words::ABS),
            Arg::Uint(version),
        ],
    );
    Ok(())
}

/// EXAPPEND key value [NX|XX] [VER v|ABS v]
pub fn exappend(ctx: &Ctx, args: Args) -> CmdResult {
    append_like(ctx, args, false)
}

/// EXPREPEND key value [NX|XX] [VER v|ABS v]
pub fn exprepend(ctx: &Ctx, args: Args) -> CmdResult {
    append_like(ctx, args, true)
}

/// EXGAE key EX s | PX ms | EXAT ts | PXAT ts
pub fn exgae(ctx: &Ctx, args: Args) -> CmdResult {
    let mut c = ArgCursor::new(args, 2);
    let o = parse_opts(
        &mut c,
        Accepts {
            expire: true,
            ..NONE
        },
    )?;
    let Some(Ttl::At(_)) = o.ttl else {
        return Err(SYNTAX);
    };
    let TtlAbs::At(ms) = resolve_ttl(o.ttl, ctx, "exgae")? else {
        return Err(SYNTAX);
    };
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    let Some(v) = key.value::<ExString>()? else {
        ctx.reply_null();
        return Ok(());
    };
    ctx.reply_array(3);
    ctx.reply_bulk(v.value());
    ctx.reply_int(v.version() as i64);
    ctx.reply_int(i64::from(v.flags()));
    key.set_abs_expire(ms);
    ctx.notify_generic(c"expire", key.name());
    if expire_if_past(ctx, &mut key, TtlAbs::At(ms), true) {
        return Ok(());
    }
    let mut tb = [0u8; 20];
    replicate_args(
        ctx,
        c"PEXPIREAT",
        &[Arg::Str(key.name()), Arg::Bytes(itoa(ms, &mut tb))],
    );
    Ok(())
}

/// CAS key oldvalue newvalue [EX|PX|EXAT|PXAT|KEEPTTL] (native strings)
pub fn cas(ctx: &Ctx, args: Args) -> CmdResult {
    let mut c = ArgCursor::new(args, 4);
    let o = parse_opts(
        &mut c,
        Accepts {
            expire: true,
            keepttl: true,
            ..NONE
        },
    )?;
    let ttl = resolve_ttl(o.ttl, ctx, "cas")?;
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    match key.kind() {
        KeyKind::Empty => {
            ctx.reply_int(-1);
            return Ok(());
        }
        KeyKind::String => {}
        _ => return Err(WRONGTYPE),
    }
    // Compared without DMA, which would re-encode a stored int string as raw even on a failed CAS.
    if ctx.string_value(key.name()).as_deref() != Some(args.at(2)) {
        crate::info::count(&crate::info::CAS_FAILURES);
        ctx.reply_int(0);
        return Ok(());
    }
    let newval = args.raw(3).ok_or(SYNTAX)?;
    key.string_overwrite(args.at(3))?;
    ctx.reply_int(1);
    ctx.notify_string(c"set", key.name());
    apply_ttl(ctx, &mut key, ttl);
    if expire_if_past(ctx, &mut key, ttl, true) {
        return Ok(());
    }
    let mut tb = [0u8; 20];
    let mut a = vec![Arg::Str(key.name()), Arg::Str(newval)];
    match ttl {
        TtlAbs::Clear => {}
        TtlAbs::Keep => a.push(Arg::Word(&words::KEEPTTL)),
        TtlAbs::At(ms) => {
            a.push(Arg::Word(&words::PXAT));
            a.push(Arg::Bytes(itoa(ms, &mut tb)));
        }
    }
    replicate_args(ctx, c"SET", &a);
    Ok(())
}

/// CAD key value (native strings)
pub fn cad(ctx: &Ctx, args: Args) -> CmdResult {
    let mut key = ctx.open_write(args.raw(1).ok_or(SYNTAX)?);
    match key.kind() {
        KeyKind::Empty => {
            ctx.reply_int(-1);
            return Ok(());
        }
        KeyKind::String => {}
        _ => return Err(WRONGTYPE),
    }
    if ctx.string_value(key.name()).as_deref() != Some(args.at(2)) {
        crate::info::count(&crate::info::CAS_FAILURES);
        ctx.reply_int(0);
        return Ok(());
    }
    key.delete()?;
    ctx.reply_int(1);
    ctx.notify_generic(c"del", key.name());
    replicate_args(ctx, c"DEL", &[Arg::Str(key.name())]);
    Ok(())
}
