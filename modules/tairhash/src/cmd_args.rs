//! Argument parsing of the commands (spec §2.2): options after the positional arguments, in any order,
//! case-insensitive; every syntax and numeric error with the spec's text, detected in argument order
//! before any key is touched.

use tair_common::args::{eq_ic, parse_bound, parse_f64, parse_i64, parse_u64, ArgCursor};
use tair_common::clock::{ExpireOption, ExpireSpec};
use tair_common::error::{
    invalid_expire, CmdError, CmdResult, INCR_OVERFLOW, NOT_AN_FLOAT, NOT_AN_INTEGER, SYNTAX,
    VERSION_OVERFLOW, VERSION_STALE,
};
use tair_common::Args;

use crate::{Condition, ExpiryChange, HashError, VersionRule};

const BOUND_NOT_INTEGER: CmdError =
    CmdError::Static(c"ERR min or max is specified, but value is not an integer");
const BOUND_NOT_FLOAT: CmdError =
    CmdError::Static(c"ERR min or max is specified, but value is not a float");
const MIN_ABOVE_MAX: CmdError = CmdError::Static(c"ERR min value is bigger than max value");

/// The state errors of §2.2 step 6 as replies.
pub fn state_error(e: HashError) -> CmdError {
    match e {
        HashError::VersionStale => VERSION_STALE,
        HashError::VersionOverflow => VERSION_OVERFLOW,
        HashError::NotInteger => NOT_AN_INTEGER,
        HashError::NotFloat => NOT_AN_FLOAT,
        HashError::IncrOverflow => INCR_OVERFLOW,
    }
}

/// An expiry time value: an integer >= 0, else `ERR syntax error`.
pub fn time_value(arg: &[u8]) -> CmdResult<i64> {
    parse_i64(arg).filter(|v| *v >= 0).ok_or(SYNTAX)
}

/// The absolute expiry (ms) of `spec` (its value >= 0) given at `clock`. 0 means "expire at once" and
/// is stored as 1 (§2); a result above 2^63-1 is `ERR invalid expire time in '<cmd>' command`.
pub fn absolute_ms(spec: ExpireSpec, clock: i64, cmd: &str) -> CmdResult<u64> {
    if spec.value() == 0 {
        return Ok(1);
    }
    spec.to_abs_ms(clock)
        .and_then(|t| u64::try_from(t.max(1)).ok())
        .ok_or_else(|| invalid_expire(cmd))
}

/// A `VER`/`ABS`/`GT` value: an integer, `VER` >= 0, `ABS`/`GT` >= 1; else `ERR syntax error`.
/// With `wide_abs`, `ABS` may be any unsigned 64-bit value >= 1 (see [`parse_opts`]).
fn version_rule(kw: &[u8], arg: &[u8], wide_abs: bool) -> CmdResult<VersionRule> {
    if wide_abs && eq_ic(kw, b"ABS") {
        return match parse_u64(arg) {
            Some(v) if v >= 1 => Ok(VersionRule::Abs(v)),
            _ => Err(SYNTAX),
        };
    }
    let v = parse_i64(arg).ok_or(SYNTAX)?;
    if eq_ic(kw, b"VER") && v >= 0 {
        Ok(VersionRule::Ver(v as u64))
    } else if eq_ic(kw, b"ABS") && v >= 1 {
        Ok(VersionRule::Abs(v as u64))
    } else if eq_ic(kw, b"GT") && v >= 1 {
        Ok(VersionRule::Gt(v as u64))
    } else {
        Err(SYNTAX)
    }
}

fn is_version_kw(kw: &[u8]) -> bool {
    eq_ic(kw, b"VER") || eq_ic(kw, b"ABS") || eq_ic(kw, b"GT")
}

/// What the client asked for the field's expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ttl {
    /// No time option: EXHSET / EXHINCRBY* remove the expiry.
    #[default]
    Clear,
    /// `KEEPTTL`.
    Keep,
    /// A time option, resolved to absolute ms.
    At(u64),
}

impl Ttl {
    pub fn change(self) -> ExpiryChange {
        match self {
            Ttl::Clear => ExpiryChange::Clear,
            Ttl::Keep => ExpiryChange::Keep,
            Ttl::At(t) => ExpiryChange::At(t),
        }
    }
}

/// Which bounds a command accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bounds {
    None,
    Int,
    Float,
}

/// The options of EXHSET (`nx_xx`) and EXHINCRBY[FLOAT] (`bounds`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Opts {
    pub ttl: Ttl,
    pub condition: Condition,
    pub version: VersionRule,
    pub min_i: Option<i64>,
    pub max_i: Option<i64>,
    pub min_f: Option<f64>,
    pub max_f: Option<f64>,
}

/// Parses the options from argument `from` on. `clock` resolves relative times. `wide_abs` lets `ABS`
/// name a version above 2^63-1 (EXHSET only, which refuses it from clients: only the AOF rewrite of a
/// field loaded from a C module's data writes one).
pub fn parse_opts(
    args: Args,
    from: usize,
    cmd: &str,
    nx_xx: bool,
    bounds: Bounds,
    clock: i64,
    wide_abs: bool,
) -> CmdResult<Opts> {
    let mut o = Opts::default();
    let (mut has_ttl, mut has_ver, mut has_cond) = (false, false, false);
    let mut c = ArgCursor::new(args, from);
    while let Some(kw) = c.next_arg() {
        let is = |k: &[u8]| eq_ic(kw, k);
        if has_ttl && (is(b"KEEPTTL") || ExpireSpec::unit(kw).is_some()) {
            return Err(SYNTAX);
        }
        if let Some(opt) = ExpireOption::parse(kw, || c.next_arg(), 0)? {
            has_ttl = true;
            o.ttl = match opt {
                ExpireOption::At(spec) => Ttl::At(absolute_ms(spec, clock, cmd)?),
                ExpireOption::KeepTtl => Ttl::Keep,
            };
        } else if nx_xx && (is(b"NX") || is(b"XX")) {
            let cond = if is(b"NX") {
                Condition::IfAbsent
            } else {
                Condition::IfPresent
            };
            if has_cond && o.condition != cond {
                return Err(SYNTAX);
            }
            has_cond = true;
            o.condition = cond;
        } else if is_version_kw(kw) {
            if has_ver {
                return Err(SYNTAX);
            }
            has_ver = true;
            o.version = version_rule(kw, c.value()?, wide_abs)?;
        } else if bounds == Bounds::Int && (is(b"MIN") || is(b"MAX")) {
            parse_bound(
                kw,
                &mut c,
                (&mut o.min_i, &mut o.max_i),
                parse_i64,
                BOUND_NOT_INTEGER,
            )?;
        } else if bounds == Bounds::Float && (is(b"MIN") || is(b"MAX")) {
            parse_bound(
                kw,
                &mut c,
                (&mut o.min_f, &mut o.max_f),
                parse_f64,
                BOUND_NOT_FLOAT,
            )?;
        } else {
            return Err(SYNTAX);
        }
    }
    let ints = matches!((o.min_i, o.max_i), (Some(a), Some(b)) if a > b);
    let floats = matches!((o.min_f, o.max_f), (Some(a), Some(b)) if a > b);
    if ints || floats {
        return Err(MIN_ABOVE_MAX);
    }
    Ok(o)
}

/// The optional `VER|ABS|GT <v>` pair after the time of the EXH*EXPIRE* commands (nothing else).
pub fn expire_version(args: Args, from: usize) -> CmdResult<VersionRule> {
    match args.len().saturating_sub(from) {
        0 => Ok(VersionRule::Bump),
        2 if is_version_kw(args.at(from)) => version_rule(args.at(from), args.at(from + 1), false),
        _ => Err(SYNTAX),
    }
}

/// A version argument that must be an integer >= `min`, else `ERR syntax error`.
pub fn version_arg(arg: &[u8], min: i64) -> CmdResult<u64> {
    match parse_i64(arg) {
        Some(v) if v >= min => Ok(v as u64),
        _ => Err(SYNTAX),
    }
}
