//! One function per command (spec tairbloom.md §4): parse -> act on the filter -> reply, notify,
//! propagate. Both the TFBF* and the BF.* names run these; what is propagated always uses the TFBF name
//! and spells out every property of a filter it creates, so a replica or an AOF replay never falls back on
//! its own defaults.
//!
//! Validation order (§4.0): arity → every argument → key type → existence → size limit; the first failure
//! is the reply and nothing changes.

use std::ffi::CStr;

use tair_common::args::{eq_ic, parse_f64, parse_i64};
use tair_common::error::INTERNAL;
use tair_common::error::{CmdError, CmdResult, SYNTAX};
use tair_common::propagate::{replicate_args, utoa, Arg, Word};
use tair_common::{Args, Ctx, RawStr, ReadKey, WriteKey};

use crate::{format_rate, BloomError, InfoField, InfoValue, ScalableBloom};

const BAD_RATE: CmdError = CmdError::Static(c"ERR bad error rate");
const RATE_RANGE: CmdError = CmdError::Static(c"ERR (0 < error rate range < 1)");
const BAD_CAPACITY: CmdError = CmdError::Static(c"ERR bad capacity");
const CAPACITY_RANGE: CmdError = CmdError::Static(c"ERR (capacity should be larger than 0)");
const SIZE_LIMIT: CmdError = CmdError::Static(c"ERR operation exceeds bloom filter size limit");
const ITEM_EXISTS: CmdError = CmdError::Static(c"ERR item exists");
const NOT_FOUND: CmdError = CmdError::Static(c"ERR not found");
const BAD_INFO: CmdError = CmdError::Static(c"ERR invalid information value");
const BAD_ITERATOR: CmdError = CmdError::Static(c"ERR invalid iterator");
const BAD_DATA: CmdError = CmdError::Static(c"ERR received bad data");

const EV_RESERVE: &CStr = c"tfbfreserve";
const EV_ADD: &CStr = c"tfbfadd";
const EV_LOADCHUNK: &CStr = c"tfbfloadchunk";

static CAPACITY: Word = Word::new(b"CAPACITY");
static ERROR: Word = Word::new(b"ERROR");
static ITEMS: Word = Word::new(b"ITEMS");

fn bloom_error(e: BloomError) -> CmdError {
    match e {
        BloomError::ErrorRateRange => RATE_RANGE,
        BloomError::CapacityRange => CAPACITY_RANGE,
        BloomError::SizeLimit => SIZE_LIMIT,
    }
}

/// error_rate (§4.0): a decimal double or ±inf/±infinity (the tairzset grammar); not a number →
/// `ERR bad error rate`; outside 0 < p < 1 → the range error.
pub fn parse_error_rate(arg: &[u8]) -> CmdResult<f64> {
    match parse_f64(arg) {
        Some(p) if p > 0.0 && p < 1.0 => Ok(p),
        Some(_) => Err(RATE_RANGE),
        None => {
            let unsigned = match arg.split_first() {
                Some((b'+' | b'-', rest)) => rest,
                _ => arg,
            };
            if eq_ic(unsigned, b"inf") || eq_ic(unsigned, b"infinity") {
                Err(RATE_RANGE)
            } else {
                Err(BAD_RATE)
            }
        }
    }
}

/// capacity (§4.0): a signed 64-bit integer, else `ERR bad capacity`; ≤ 0 → the range error.
pub fn parse_capacity(arg: &[u8]) -> CmdResult<u64> {
    match parse_i64(arg) {
        Some(c) if c > 0 => Ok(c.unsigned_abs()),
        Some(_) => Err(CAPACITY_RANGE),
        None => Err(BAD_CAPACITY),
    }
}

fn open_write(ctx: &Ctx, args: &Args) -> CmdResult<WriteKey> {
    Ok(ctx.open_write(args.raw(1).ok_or(SYNTAX)?))
}

fn open_read(ctx: &Ctx, args: &Args) -> CmdResult<ReadKey> {
    Ok(ctx.open_read(args.raw(1).ok_or(SYNTAX)?))
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

// ---- writes -----------------------------------------------------------------------------------------

/// The filter a write works on, and the (p, c) it was created with by this command.
type Target<'a> = (&'a mut ScalableBloom, Option<(f64, u64)>);

/// A new filter with (p, c) stored in the empty `key` (nothing stored on a size-limit error).
fn create(key: &mut WriteKey, p: f64, c: u64) -> CmdResult<Target<'_>> {
    let f = ScalableBloom::new(p, c).map_err(bloom_error)?;
    Ok((key.set_value(f)?, Some((p, c))))
}

/// The filter in `key`, or a new one with the defaults.
fn existing_or_default(key: &mut WriteKey) -> CmdResult<Target<'_>> {
    if key.is_empty() {
        return create(
            key,
            crate::configs::default_error_rate(),
            crate::configs::default_capacity(),
        );
    }
    Ok((key.value_mut::<ScalableBloom>()?.ok_or(INTERNAL)?, None))
}

/// What a write that added to an existing filter propagates: the command and the arguments before the
/// items.
struct Plain<'a> {
    cmd: &'static CStr,
    head: &'a [Arg<'a>],
}

/// Adds the items of `args` from `first` on with one reply per item (an item over the size limit gets
/// the error in its slot), then events and propagation.
fn add_many(ctx: &Ctx, name: RawStr, target: Target, args: &Args, first: usize, plain: Plain) {
    let (f, created) = target;
    let items = args.from(first);
    let mut added = false;
    ctx.reply_array(items.len());
    for item in items.iter() {
        match f.add(item) {
            Ok(fresh) => {
                added |= fresh;
                ctx.reply_int(i64::from(fresh));
            }
            Err(e) => ctx.reply_error(&bloom_error(e)),
        }
    }
    finish_add(ctx, name, created, added, args, first, plain);
}

/// Events and propagation of an add: created → `TFBFINSERT key CAPACITY c ERROR p ITEMS <items>`;
/// else if something was added → the plain form followed by the items; else nothing.
fn finish_add(
    ctx: &Ctx,
    name: RawStr,
    created: Option<(f64, u64)>,
    added: bool,
    args: &Args,
    first: usize,
    plain: Plain,
) {
    if created.is_some() {
        ctx.notify_module(EV_RESERVE, name);
    }
    if added {
        ctx.notify_module(EV_ADD, name);
    }
    let items = (first..args.len())
        .filter_map(|i| args.raw(i))
        .map(Arg::Str);
    let mut cbuf = [0u8; 20];
    if let Some((p, c)) = created {
        let rate = format_rate(p);
        let mut out: Vec<Arg> = Vec::with_capacity(args.len() + 6);
        out.extend([
            Arg::Str(name),
            Arg::Word(&CAPACITY),
            Arg::Bytes(utoa(c, &mut cbuf)),
            Arg::Word(&ERROR),
            Arg::Bytes(rate.as_bytes()),
            Arg::Word(&ITEMS),
        ]);
        out.extend(items);
        replicate_args(ctx, c"TFBFINSERT", &out);
    } else if added {
        let mut out: Vec<Arg> = Vec::with_capacity(args.len() + 2);
        out.extend_from_slice(plain.head);
        out.extend(items);
        replicate_args(ctx, plain.cmd, &out);
    }
}

/// TFBFRESERVE key error_rate [capacity]
pub fn reserve(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() > 4 {
        return Err(args.wrong_arity());
    }
    let p = parse_error_rate(args.at(2))?;
    let c = match args.get(3) {
        Some(a) => parse_capacity(a)?,
        None => crate::configs::default_capacity(),
    };
    let mut key = open_write(ctx, &args)?;
    if key.value::<ScalableBloom>()?.is_some() {
        return Err(ITEM_EXISTS);
    }
    let f = ScalableBloom::new(p, c).map_err(bloom_error)?;
    key.set_value(f)?;
    ctx.notify_module(EV_RESERVE, key.name());
    let rate = format_rate(p);
    let mut cbuf = [0u8; 20];
    replicate_args(
        ctx,
        c"TFBFRESERVE",
        &[
            Arg::Str(key.name()),
            Arg::Bytes(rate.as_bytes()),
            Arg::Bytes(utoa(c, &mut cbuf)),
        ],
    );
    ctx.reply_ok();
    Ok(())
}

/// TFBFADD key item
pub fn add(ctx: &Ctx, args: Args) -> CmdResult {
    let mut key = open_write(ctx, &args)?;
    let name = key.name();
    let (f, created) = existing_or_default(&mut key)?;
    let result = f.add(args.at(2));
    let head = [Arg::Str(name)];
    let plain = Plain {
        cmd: c"TFBFADD",
        head: &head,
    };
    finish_add(ctx, name, created, result == Ok(true), &args, 2, plain);
    ctx.reply_int(i64::from(result.map_err(bloom_error)?));
    Ok(())
}

/// TFBFMADD key item [item ...]
pub fn madd(ctx: &Ctx, args: Args) -> CmdResult {
    let mut key = open_write(ctx, &args)?;
    let name = key.name();
    let target = existing_or_default(&mut key)?;
    let head = [Arg::Str(name)];
    let plain = Plain {
        cmd: c"TFBFMADD",
        head: &head,
    };
    add_many(ctx, name, target, &args, 2, plain);
    Ok(())
}

/// TFBFINSERT key [CAPACITY c] [ERROR p] [NOCREATE] ITEMS item [item ...]
///
/// Options in any order before ITEMS, the last of a repeated one wins; their values are validated even
/// when the key exists (and they are ignored).
pub fn insert(ctx: &Ctx, args: Args) -> CmdResult {
    let mut p = crate::configs::default_error_rate();
    let mut c = crate::configs::default_capacity();
    let mut nocreate = false;
    let mut first = None;
    let mut i = 2;
    while let Some(kw) = args.get(i) {
        if eq_ic(kw, b"ITEMS") {
            first = Some(i + 1);
            break;
        } else if eq_ic(kw, b"NOCREATE") {
            nocreate = true;
            i += 1;
        } else if eq_ic(kw, b"CAPACITY") {
            c = parse_capacity(args.get(i + 1).ok_or(SYNTAX)?)?;
            i += 2;
        } else if eq_ic(kw, b"ERROR") {
            p = parse_error_rate(args.get(i + 1).ok_or(SYNTAX)?)?;
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    let first = first.filter(|&f| f < args.len()).ok_or(SYNTAX)?;
    let mut key = open_write(ctx, &args)?;
    let name = key.name();
    let target = if !key.is_empty() {
        (key.value_mut::<ScalableBloom>()?.ok_or(INTERNAL)?, None)
    } else if nocreate {
        return Err(NOT_FOUND);
    } else {
        create(&mut key, p, c)?
    };
    let head = [Arg::Str(name), Arg::Word(&ITEMS)];
    let plain = Plain {
        cmd: c"TFBFINSERT",
        head: &head,
    };
    add_many(ctx, name, target, &args, first, plain);
    Ok(())
}

/// TFBFLOADCHUNK key iterator data
pub fn loadchunk(ctx: &Ctx, args: Args) -> CmdResult {
    let it = parse_i64(args.at(2))
        .filter(|&i| i >= 1)
        .ok_or(BAD_ITERATOR)?
        .unsigned_abs();
    let data = args.at(3);
    let mut key = open_write(ctx, &args)?;
    if it == 1 {
        if key.value::<ScalableBloom>()?.is_some() {
            return Err(ITEM_EXISTS);
        }
        let f = ScalableBloom::from_header(data).map_err(|_| BAD_DATA)?;
        key.set_value(f)?;
    } else {
        let f = key.value_mut::<ScalableBloom>()?.ok_or(NOT_FOUND)?;
        f.load_chunk(it, data).map_err(|_| BAD_DATA)?;
    }
    ctx.notify_module(EV_LOADCHUNK, key.name());
    let rest: Vec<Arg> = (1..4).filter_map(|i| args.raw(i)).map(Arg::Str).collect();
    replicate_args(ctx, c"TFBFLOADCHUNK", &rest);
    ctx.reply_ok();
    Ok(())
}

// ---- reads ------------------------------------------------------------------------------------------

/// TFBFEXISTS key item
pub fn exists(ctx: &Ctx, args: Args) -> CmdResult {
    let key = open_read(ctx, &args)?;
    let hit = key
        .value::<ScalableBloom>()?
        .is_some_and(|f| f.exists(args.at(2)));
    ctx.reply_int(i64::from(hit));
    Ok(())
}

/// TFBFMEXISTS key item [item ...]
pub fn mexists(ctx: &Ctx, args: Args) -> CmdResult {
    let key = open_read(ctx, &args)?;
    let f = key.value::<ScalableBloom>()?;
    let items = args.from(2);
    ctx.reply_array(items.len());
    for item in items.iter() {
        let hit = f.as_ref().is_some_and(|f| f.exists(item));
        ctx.reply_int(i64::from(hit));
    }
    Ok(())
}

fn reply_info_value(ctx: &Ctx, v: InfoValue) {
    match v {
        InfoValue::Integer(n) => ctx.reply_int(int(n)),
        InfoValue::Rate(x) => ctx.reply_bulk(format_rate(x).as_bytes()),
    }
}

/// TFBFINFO key [CAPACITY|SIZE|FILTERS|ITEMS|ERROR|EXPANSION|TIGHTENING]
pub fn info(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() > 3 {
        return Err(args.wrong_arity());
    }
    let field = match args.get(2) {
        Some(a) => Some(InfoField::parse(a).ok_or(BAD_INFO)?),
        None => None,
    };
    let key = open_read(ctx, &args)?;
    let f = key.value::<ScalableBloom>()?.ok_or(NOT_FOUND)?;
    match field {
        Some(k) => reply_info_value(ctx, f.info(k)),
        None => {
            ctx.reply_map(InfoField::ALL.len());
            for k in InfoField::ALL {
                ctx.reply_bulk(k.label().as_bytes());
                reply_info_value(ctx, f.info(k));
            }
        }
    }
    Ok(())
}

/// TFBFCARD key
pub fn card(ctx: &Ctx, args: Args) -> CmdResult {
    let key = open_read(ctx, &args)?;
    let n = key.value::<ScalableBloom>()?.map_or(0, |f| f.card());
    ctx.reply_int(int(n));
    Ok(())
}

/// TFBFDEBUG key
pub fn debug(ctx: &Ctx, args: Args) -> CmdResult {
    let key = open_read(ctx, &args)?;
    let f = key.value::<ScalableBloom>()?.ok_or(NOT_FOUND)?;
    ctx.reply_array(f.filters().len());
    for s in f.filters() {
        ctx.reply_array(10);
        ctx.reply_bulk(b"capacity");
        ctx.reply_int(int(s.capacity()));
        ctx.reply_bulk(b"items");
        ctx.reply_int(int(s.items()));
        ctx.reply_bulk(b"error");
        ctx.reply_bulk(format_rate(s.error_rate()).as_bytes());
        ctx.reply_bulk(b"hashes");
        ctx.reply_int(i64::from(s.hashes()));
        ctx.reply_bulk(b"bits");
        ctx.reply_int(int(s.bits()));
    }
    Ok(())
}

/// TFBFSCANDUMP key iterator
pub fn scandump(ctx: &Ctx, args: Args) -> CmdResult {
    let it = parse_i64(args.at(2))
        .filter(|&i| i >= 0)
        .ok_or(BAD_ITERATOR)?
        .unsigned_abs();
    let key = open_read(ctx, &args)?;
    let f = key.value::<ScalableBloom>()?.ok_or(NOT_FOUND)?;
    let (next, chunk) = f.scandump(it);
    ctx.reply_array(2);
    ctx.reply_int(int(next));
    ctx.reply_bulk(&chunk);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: CmdError) -> String {
        e.text().into_owned()
    }

    #[test]
    fn error_texts_match_the_pure_layer() {
        for e in [
            BloomError::ErrorRateRange,
            BloomError::CapacityRange,
            BloomError::SizeLimit,
        ] {
            assert_eq!(text(bloom_error(e)), e.message());
        }
        assert_eq!(text(BAD_DATA), crate::LoadError::CHUNK_REPLY);
    }

    #[test]
    fn error_rates() {
        for (arg, want) in [
            ("0.01", Ok(0.01)),
            ("1e-3", Ok(0.001)),
            (".5", Ok(0.5)),
            ("+0.25", Ok(0.25)),
            ("0.999999", Ok(0.999999)),
            ("4.9e-324", Ok(4.9e-324)),
        ] {
            assert_eq!(parse_error_rate(arg.as_bytes()), want.map_err(|()| SYNTAX));
        }
        for arg in [
            "0", "1", "-0.1", "1.5", "inf", "-inf", "+INF", "Infinity", "-0", "1e300",
        ] {
            assert_eq!(parse_error_rate(arg.as_bytes()), Err(RATE_RANGE), "{arg}");
        }
        for arg in [
            "abc", "nan", "NaN", "", " 0.1", "0.1 ", "0x0.1", "1e400", "1e-400", "infx", "0.1.2",
        ] {
            assert_eq!(parse_error_rate(arg.as_bytes()), Err(BAD_RATE), "{arg}");
        }
    }

    #[test]
    fn capacities() {
        assert_eq!(parse_capacity(b"100"), Ok(100));
        assert_eq!(
            parse_capacity(b"9223372036854775807"),
            Ok(9_223_372_036_854_775_807)
        );
        for arg in ["0", "-5", "-9223372036854775808"] {
            assert_eq!(parse_capacity(arg.as_bytes()), Err(CAPACITY_RANGE), "{arg}");
        }
        for arg in ["abc", "1.5", "", "+5", "007", "9223372036854775808", "1e3"] {
            assert_eq!(parse_capacity(arg.as_bytes()), Err(BAD_CAPACITY), "{arg}");
        }
    }
}
