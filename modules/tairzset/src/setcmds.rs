//! EXZUNION / EXZINTER / EXZDIFF, their STORE forms, and EXZINTERCARD (spec §4.17): parse numkeys and
//! the options, open every source (WRONGTYPE), compute with `setops` (dimension check), then reply or
//! replace the destination.

use tair_common::args::{eq_ic, parse_i64, ArgCursor};
use tair_common::error::{CmdError, CmdResult, NOT_INTEGER_OR_OUT_OF_RANGE, SYNTAX};
use tair_common::{Args, Ctx, ReadKey};

use crate::commands::zset_of;
use crate::reply::{is_withscores, zerr, ScoreText};
use crate::score::parse_weight;
use crate::setops::{self, Aggregate};
use crate::zset::TairZset;

const NO_KEYS: CmdError = CmdError::Static(c"ERR at least 1 input key is needed");
const LIMIT_NEGATIVE: CmdError = CmdError::Static(c"ERR LIMIT can't be negative");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
    InterCard,
}

/// The parsed arguments after `numkeys`.
struct SetArgs {
    /// Index of the first source key.
    first: usize,
    numkeys: usize,
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    /// EXZINTERCARD LIMIT (0 = unlimited).
    limit: usize,
}

fn parse(args: Args, numkeys_at: usize, op: Op, store: bool) -> CmdResult<SetArgs> {
    let numkeys = parse_i64(args.at(numkeys_at)).ok_or(NOT_INTEGER_OR_OUT_OF_RANGE)?;
    if numkeys < 1 {
        return Err(NO_KEYS);
    }
    let first = numkeys_at + 1;
    let available = args.len().saturating_sub(first);
    let numkeys = usize::try_from(numkeys)
        .ok()
        .filter(|&n| n <= available)
        .ok_or(SYNTAX)?;
    let mut o = SetArgs {
        first,
        numkeys,
        weights: Vec::new(),
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let weighted = matches!(op, Op::Union | Op::Inter);
    let mut c = ArgCursor::new(args, first + numkeys);
    while let Some(a) = c.next_arg() {
        if weighted && eq_ic(a, b"WEIGHTS") {
            if c.remaining() < numkeys {
                return Err(SYNTAX);
            }
            o.weights.clear();
            for _ in 0..numkeys {
                o.weights.push(parse_weight(c.value()?).map_err(zerr)?);
            }
        } else if weighted && eq_ic(a, b"AGGREGATE") {
            let v = c.value()?;
            o.aggregate = if eq_ic(v, b"SUM") {
                Aggregate::Sum
            } else if eq_ic(v, b"MIN") {
                Aggregate::Min
            } else if eq_ic(v, b"MAX") {
                Aggregate::Max
            } else {
                return Err(SYNTAX);
            };
        } else if !store && op != Op::InterCard && is_withscores(a) {
            o.withscores = true;
        } else if op == Op::InterCard && eq_ic(a, b"LIMIT") {
            let v = parse_i64(c.value()?)
                .and_then(|v| usize::try_from(v).ok())
                .ok_or(LIMIT_NEGATIVE)?;
            o.limit = v;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(o)
}

/// What a set operation produces.
enum Outcome {
    Set(Option<Box<TairZset>>),
    Card(usize),
}

/// Opens the sources, checks their types, computes. The source keys are closed before returning, so
/// a STORE may then replace one of them.
fn compute(ctx: &Ctx, args: Args, op: Op, a: &SetArgs) -> CmdResult<Outcome> {
    let keys: Vec<ReadKey> = (a.first..a.first + a.numkeys)
        .map(|i| args.raw_arg(i).map(|k| ctx.open_read(k)))
        .collect::<CmdResult<_>>()?;
    let sets: Vec<Option<&TairZset>> = keys.iter().map(zset_of).collect::<CmdResult<_>>()?;
    let r = match op {
        Op::Union => Outcome::Set(
            setops::union(&sets, &a.weights, a.aggregate)
                .map_err(zerr)?
                .map(Box::new),
        ),
        Op::Inter => Outcome::Set(
            setops::inter(&sets, &a.weights, a.aggregate)
                .map_err(zerr)?
                .map(Box::new),
        ),
        Op::Diff => Outcome::Set(setops::diff(&sets).map_err(zerr)?.map(Box::new)),
        Op::InterCard => Outcome::Card(setops::inter_card(&sets, a.limit).map_err(zerr)?),
    };
    drop(sets);
    drop(keys);
    Ok(r)
}

/// The non-STORE forms: members ascending, flat pairs with WITHSCORES; EXZINTERCARD: an integer.
fn read_form(ctx: &Ctx, args: Args, op: Op) -> CmdResult {
    let a = parse(args, 1, op, false)?;
    match compute(ctx, args, op, &a)? {
        Outcome::Card(n) => ctx.reply_int(n as i64),
        Outcome::Set(None) => ctx.reply_array(0),
        Outcome::Set(Some(z)) => {
            ctx.reply_array(z.len() * if a.withscores { 2 } else { 1 });
            let mut text = ScoreText::for_client(ctx);
            for (m, s) in z.iter() {
                ctx.reply_bulk(m);
                if a.withscores {
                    text.reply(ctx, &s);
                }
            }
        }
    }
    Ok(())
}

/// The STORE forms: `dest` (any type) is replaced by the result, or deleted when it is empty.
fn store_form(ctx: &Ctx, args: Args, op: Op, event: &std::ffi::CStr) -> CmdResult {
    let a = parse(args, 2, op, true)?;
    let Outcome::Set(result) = compute(ctx, args, op, &a)? else {
        return Err(SYNTAX);
    };
    let mut dest = ctx.open_write(args.raw_arg(1)?);
    match result {
        Some(z) => {
            let n = z.len();
            dest.set_value(*z)?;
            ctx.reply_int(n as i64);
            ctx.notify_module(event, dest.name());
        }
        None => {
            if !dest.is_empty() {
                dest.delete()?;
                ctx.notify_generic(c"del", dest.name());
            }
            ctx.reply_int(0);
        }
    }
    ctx.replicate_verbatim();
    Ok(())
}

/// EXZUNIONSTORE dest numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
pub fn exzunionstore(ctx: &Ctx, args: Args) -> CmdResult {
    store_form(ctx, args, Op::Union, c"exzunionstore")
}

/// EXZINTERSTORE dest numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
pub fn exzinterstore(ctx: &Ctx, args: Args) -> CmdResult {
    store_form(ctx, args, Op::Inter, c"exzinterstore")
}

/// EXZDIFFSTORE dest numkeys key [key ...]
pub fn exzdiffstore(ctx: &Ctx, args: Args) -> CmdResult {
    store_form(ctx, args, Op::Diff, c"exzdiffstore")
}

/// EXZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn exzunion(ctx: &Ctx, args: Args) -> CmdResult {
    read_form(ctx, args, Op::Union)
}

/// EXZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn exzinter(ctx: &Ctx, args: Args) -> CmdResult {
    read_form(ctx, args, Op::Inter)
}

/// EXZDIFF numkeys key [key ...] [WITHSCORES]
pub fn exzdiff(ctx: &Ctx, args: Args) -> CmdResult {
    read_form(ctx, args, Op::Diff)
}

/// EXZINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn exzintercard(ctx: &Ctx, args: Args) -> CmdResult {
    read_form(ctx, args, Op::InterCard)
}
