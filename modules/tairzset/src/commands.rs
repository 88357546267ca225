//! The single-key EXZ* commands: parse every argument -> check the key's type -> check dimensions ->
//! act on the value -> reply, fire events, propagate (spec tairzset.md §4.0–§4.16, §4.18).

use rand::thread_rng;
use smallvec::SmallVec;
use tair_common::args::{eq_ic, parse_i64, parse_u64, ArgCursor, ScanOptions};
use tair_common::error::{
    CmdError, CmdResult, INVALID_CURSOR, NOT_INTEGER_OR_OUT_OF_RANGE, SYNTAX, VALUE_OUT_OF_RANGE,
};
use tair_common::propagate::{replicate_args, utoa, Arg};
use tair_common::{Args, Ctx, ExactArray, ReadKey, WriteKey};

use crate::reply::{delete_if_empty, is_withscores, reply_span, zerr, ScoreText, INVALID_SCORE};
use crate::score::{parse_dim, LexRange, ScoreRange, ScoreTuple, MAX_DIMS};
use crate::zset::{AddCondition, AddOutcome, Limit, ScoreRef, Span, TairZset};

const NX_AND_XX: CmdError =
    CmdError::Static(c"ERR XX and NX options at the same time are not compatible");
const INCR_ONE_PAIR: CmdError =
    CmdError::Static(c"ERR INCR option supports a single increment-element pair");

/// The largest |count| EXZRANDMEMBER accepts (2^62).
const RANDMEMBER_MAX: u64 = 1 << 62;

fn int_arg(a: &[u8]) -> CmdResult<i64> {
    parse_i64(a).ok_or(NOT_INTEGER_OR_OUT_OF_RANGE)
}

/// The tairzset in `key`, `None` when the key is missing, WRONGTYPE for any other type.
pub(crate) fn zset_of(key: &ReadKey) -> CmdResult<Option<&TairZset>> {
    key.value::<TairZset>()
}

/// The tairzset in `key` to change, `None` when the key is missing, WRONGTYPE for any other type.
pub(crate) fn zset_mut(key: &mut WriteKey) -> CmdResult<Option<&mut TairZset>> {
    key.value_mut::<TairZset>()
}

/// Parses one score tuple (§2.4) into `out`; returns its width.
fn parse_score_into(text: &[u8], out: &mut SmallVec<[f64; 8]>) -> CmdResult<usize> {
    let mut dims = 0;
    for part in text.split(|&b| b == b'#') {
        if dims == MAX_DIMS {
            return Err(INVALID_SCORE);
        }
        out.push(parse_dim(part).ok_or(INVALID_SCORE)?);
        dims += 1;
    }
    Ok(dims)
}

// ---- EXZADD / EXZINCRBY ----------------------------------------------------------------------------

/// EXZADD key [NX|XX] [CH] [INCR] score member [score member ...]
pub fn exzadd(ctx: &Ctx, args: Args) -> CmdResult {
    let (mut nx, mut xx, mut ch, mut incr) = (false, false, false, false);
    let mut first = 2;
    while let Some(a) = args.get(first) {
        if eq_ic(a, b"NX") {
            nx = true;
        } else if eq_ic(a, b"XX") {
            xx = true;
        } else if eq_ic(a, b"CH") {
            ch = true;
        } else if eq_ic(a, b"INCR") {
            incr = true;
        } else {
            break;
        }
        first += 1;
    }
    let elements = args.len().saturating_sub(first);
    if elements == 0 || elements % 2 != 0 {
        return Err(SYNTAX);
    }
    if nx && xx {
        return Err(NX_AND_XX);
    }
    if incr && elements > 2 {
        return Err(INCR_ONE_PAIR);
    }
    let cond = if nx {
        AddCondition::IfAbsent
    } else if xx {
        AddCondition::IfPresent
    } else {
        AddCondition::Always
    };
    let mut flat: SmallVec<[f64; 8]> = SmallVec::new();
    let mut dims = 0;
    for i in (first..args.len()).step_by(2) {
        let d = parse_score_into(args.at(i), &mut flat)?;
        if dims != 0 && d != dims {
            return Err(INVALID_SCORE);
        }
        dims = d;
    }
    let name = args.raw_arg(1)?;
    let mut key = ctx.open_write(name);
    if key.value::<TairZset>()?.is_some_and(|z| z.dims() != dims) {
        return Err(INVALID_SCORE);
    }
    if incr {
        let member = args.at(first + 1);
        return incr_one(ctx, &mut key, member, &flat, cond);
    }
    let pairs: SmallVec<[(&[f64], &[u8]); 4]> = flat
        .chunks_exact(dims)
        .zip((first + 1..args.len()).step_by(2).map(|i| args.at(i)))
        .collect();
    let summary = match zset_mut(&mut key)? {
        Some(z) => z.add_many(&pairs, cond).map_err(zerr)?,
        None if xx => {
            ctx.reply_int(0);
            return Ok(());
        }
        None => {
            // The first pair of a new key is always added (XX returned above): build the value with it.
            let Some(((score, member), rest)) = pairs.split_first() else {
                return Err(SYNTAX);
            };
            let mut z = TairZset::with_first(member, score).map_err(zerr)?;
            let mut s = z.add_many(rest, cond).map_err(zerr)?;
            s.added += 1;
            key.set_value(z)?;
            s
        }
    };
    let changed = summary.added + summary.updated;
    ctx.reply_int(if ch { changed } else { summary.added } as i64);
    if changed > 0 {
        ctx.notify_module(c"exzadd", name);
        ctx.replicate_verbatim();
    }
    Ok(())
}

/// EXZADD ... INCR and EXZINCRBY: adds `incr` to one member's score (an absent member gets `incr`).
/// Replies the new score, or nil when NX/XX prevented the operation.
fn incr_one(
    ctx: &Ctx,
    key: &mut WriteKey,
    member: &[u8],
    incr: &[f64],
    cond: AddCondition,
) -> CmdResult {
    let name = key.name();
    let mut text = ScoreText::default();
    let outcome = match zset_mut(key)? {
        Some(z) => {
            let o = z.add(member, incr, cond, true).map_err(zerr)?;
            if let Some(s) = z.score(member) {
                text.format(&s);
            }
            o
        }
        None if cond == AddCondition::IfPresent => AddOutcome::Skipped,
        None => {
            // An absent member starts from the all-zero tuple: 0 + (-0) is 0.
            let start: SmallVec<[f64; 8]> = incr.iter().map(|v| 0.0 + v).collect();
            let z = TairZset::with_first(member, &start).map_err(zerr)?;
            text.format(&start);
            key.set_value(z)?;
            AddOutcome::Added
        }
    };
    match outcome {
        AddOutcome::Skipped => ctx.reply_null(),
        AddOutcome::Added | AddOutcome::Updated | AddOutcome::Unchanged => {
            ctx.reply_bulk(text.bytes())
        }
    }
    if matches!(outcome, AddOutcome::Added | AddOutcome::Updated) {
        ctx.notify_module(c"exzincr", name);
        ctx.replicate_verbatim();
    }
    Ok(())
}

/// EXZINCRBY key increment member
pub fn exzincrby(ctx: &Ctx, args: Args) -> CmdResult {
    let mut incr: SmallVec<[f64; 8]> = SmallVec::new();
    let dims = parse_score_into(args.at(2), &mut incr)?;
    let name = args.raw_arg(1)?;
    let mut key = ctx.open_write(name);
    if key.value::<TairZset>()?.is_some_and(|z| z.dims() != dims) {
        return Err(INVALID_SCORE);
    }
    incr_one(ctx, &mut key, args.at(3), &incr, AddCondition::Always)
}

// ---- scores --------------------------------------------------------------------------------------------

/// EXZSCORE key member
pub fn exzscore(ctx: &Ctx, args: Args) -> CmdResult {
    let key = ctx.open_read(args.raw_arg(1)?);
    match zset_of(&key)?.and_then(|z| z.score(args.at(2))) {
        Some(s) => ScoreText::default().reply(ctx, &s),
        None => ctx.reply_null(),
    }
    Ok(())
}

/// EXZMSCORE key member [member ...]
pub fn exzmscore(ctx: &Ctx, args: Args) -> CmdResult {
    let key = ctx.open_read(args.raw_arg(1)?);
    let z = zset_of(&key)?;
    let members = args.from(2);
    ctx.reply_array(members.len());
    let mut text = ScoreText::for_client(ctx);
    for m in members.iter() {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => text.reply(ctx, &s),
            None => ctx.reply_null(),
        }
    }
    Ok(())
}

// ---- ranges --------------------------------------------------------------------------------------------

/// EXZRANGE / EXZREVRANGE key start stop [WITHSCORES]
fn range_by_rank(ctx: &Ctx, args: Args, reverse: bool) -> CmdResult {
    let start = int_arg(args.at(2))?;
    let stop = int_arg(args.at(3))?;
    let withscores = match args.len() {
        4 => false,
        5 if is_withscores(args.at(4)) => true,
        _ => return Err(SYNTAX),
    };
    let key = ctx.open_read(args.raw_arg(1)?);
    match zset_of(&key)? {
        Some(z) => reply_span(ctx, z, z.rank_span(start, stop, reverse), withscores),
        None => ctx.reply_array(0),
    }
    Ok(())
}

pub fn exzrange(ctx: &Ctx, args: Args) -> CmdResult {
    range_by_rank(ctx, args, false)
}

pub fn exzrevrange(ctx: &Ctx, args: Args) -> CmdResult {
    range_by_rank(ctx, args, true)
}

/// `[WITHSCORES] [LIMIT offset count]` in any order, repeats allowed (last wins).
fn range_options(
    args: Args,
    from: usize,
    allow_withscores: bool,
) -> CmdResult<(bool, Option<Limit>)> {
    let mut c = ArgCursor::new(args, from);
    let (mut withscores, mut limit) = (false, None);
    while let Some(a) = c.next_arg() {
        if allow_withscores && is_withscores(a) {
            withscores = true;
        } else if eq_ic(a, b"LIMIT") {
            if c.remaining() < 2 {
                return Err(SYNTAX);
            }
            let offset = int_arg(c.value()?)?;
            let count = int_arg(c.value()?)?;
            limit = Some(Limit { offset, count });
        } else {
            return Err(SYNTAX);
        }
    }
    Ok((withscores, limit))
}

/// The score range of a BYSCORE command (REV forms take max first).
fn score_range(args: Args, reverse: bool) -> CmdResult<ScoreRange> {
    let (min, max) = if reverse {
        (args.at(3), args.at(2))
    } else {
        (args.at(2), args.at(3))
    };
    ScoreRange::parse(min, max).map_err(zerr)
}

fn lex_range(args: Args, reverse: bool) -> CmdResult<LexRange> {
    let (min, max) = if reverse {
        (args.at(3), args.at(2))
    } else {
        (args.at(2), args.at(3))
    };
    LexRange::parse(min, max).map_err(zerr)
}

/// EXZRANGEBYSCORE key min max / EXZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn range_by_score(ctx: &Ctx, args: Args, reverse: bool) -> CmdResult {
    let range = score_range(args, reverse)?;
    let (withscores, limit) = range_options(args, 4, true)?;
    let key = ctx.open_read(args.raw_arg(1)?);
    match zset_of(&key)? {
        Some(z) => {
            let span = z.score_span(&range, reverse, limit).map_err(zerr)?;
            reply_span(ctx, z, span, withscores);
        }
        None => ctx.reply_array(0),
    }
    Ok(())
}

pub fn exzrangebyscore(ctx: &Ctx, args: Args) -> CmdResult {
    range_by_score(ctx, args, false)
}

pub fn exzrevrangebyscore(ctx: &Ctx, args: Args) -> CmdResult {
    range_by_score(ctx, args, true)
}

/// EXZRANGEBYLEX key min max / EXZREVRANGEBYLEX key max min [LIMIT offset count]
fn range_by_lex(ctx: &Ctx, args: Args, reverse: bool) -> CmdResult {
    let range = lex_range(args, reverse)?;
    let (_, limit) = range_options(args, 4, false)?;
    let key = ctx.open_read(args.raw_arg(1)?);
    match zset_of(&key)? {
        Some(z) => reply_span(ctx, z, z.lex_span(&range, reverse, limit), false),
        None => ctx.reply_array(0),
    }
    Ok(())
}

pub fn exzrangebylex(ctx: &Ctx, args: Args) -> CmdResult {
    range_by_lex(ctx, args, false)
}

pub fn exzrevrangebylex(ctx: &Ctx, args: Args) -> CmdResult {
    range_by_lex(ctx, args, true)
}

// ---- removal -------------------------------------------------------------------------------------------

/// EXZREM key member [member ...]
pub fn exzrem(ctx: &Ctx, args: Args) -> CmdResult {
    let name = args.raw_arg(1)?;
    let mut key = ctx.open_write(name);
    let Some(z) = zset_mut(&mut key)? else {
        ctx.reply_int(0);
        return Ok(());
    };
    let mut removed = 0i64;
    for m in args.from(2).iter() {
        if z.remove(m) {
            removed += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    ctx.reply_int(removed);
    if removed > 0 {
        ctx.notify_module(c"exzrem", name);
        delete_if_empty(ctx, &mut key);
        ctx.replicate_verbatim();
    }
    Ok(())
}

/// The common end of EXZREMRANGEBY*: remove the span, reply the count, events, propagation.
fn remove_span(ctx: &Ctx, key: &mut WriteKey, span: Span, event: &std::ffi::CStr) {
    let removed = match zset_mut(key) {
        Ok(Some(z)) => z.remove_span(span),
        _ => 0,
    };
    ctx.reply_int(removed as i64);
    if removed > 0 {
        ctx.notify_module(event, key.name());
        delete_if_empty(ctx, key);
        ctx.replicate_verbatim();
    }
}

/// EXZREMRANGEBYSCORE key min max
pub fn exzremrangebyscore(ctx: &Ctx, args: Args) -> CmdResult {
    let range = score_range(args, false)?;
    let name = args.raw_arg(1)?;
    let mut key = ctx.open_write(name);
    let Some(z) = zset_mut(&mut key)? else {
        ctx.reply_int(0);
        return Ok(());
    };
    let span = z.score_span(&range, false, None).map_err(zerr)?;
    remove_span(ctx, &mut key, span, c"exzremrangebyscore");
    Ok(())
}

/// EXZREMRANGEBYRANK key start stop
pub fn exzremrangebyrank(ctx: &Ctx, args: Args) -> CmdResult {
    let start = int_arg(args.at(2))?;
    let stop = int_arg(args.at(3))?;
    let name = args.raw_arg(1)?;
    let mut key = ctx.open_write(name);
    let Some(z) = zset_mut(&mut key)? else {
        ctx.reply_int(0);
        return Ok(());
    };
    let span = z.rank_span(start, stop, false);
    remove_span(ctx, &mut key, span, c"exzremrangebyrank");
    Ok(())
}

/// EXZREMRANGEBYLEX key min max
pub fn exzremrangebylex(ctx: &Ctx, args: Args) -> CmdResult {
    let range = lex_range(args, false)?;
    let name = args.raw_arg(1)?;
    let mut key = ctx.open_write(name);
    let Some(z) = zset_mut(&mut key)? else {
        ctx.reply_int(0);
        return Ok(());
    };
    let span = z.lex_span(&range, false, None);
    if span.is_empty() || scores_uniform(z) {
        remove_span(ctx, &mut key, span, c"exzremrangebylex");
        return Ok(());
    }
    // Scores differ: which members the bounds select depends on the tree's shape, which a replica that
    // loaded an RDB does not share. Propagate the effect (EXZREM of those members), not the command.
    let doomed: Vec<Box<[u8]>> = z.iter_span(span).map(|(m, _)| m.into()).collect();
    let removed = z.remove_span(span);
    ctx.reply_int(removed as i64);
    ctx.notify_module(c"exzremrangebylex", name);
    delete_if_empty(ctx, &mut key);
    let mut out: Vec<Arg> = Vec::with_capacity(doomed.len() + 1);
    out.push(Arg::Str(name));
    out.extend(doomed.iter().map(|m| Arg::Bytes(m)));
    replicate_args(ctx, c"EXZREM", &out);
    Ok(())
}

/// True when every member has the same score (the lowest equals the highest): lex bounds then select
/// a well-defined, shape-independent run of members.
fn scores_uniform(z: &TairZset) -> bool {
    match (
        z.get_by_rank(0),
        z.len().checked_sub(1).and_then(|r| z.get_by_rank(r)),
    ) {
        (Some((_, lo)), Some((_, hi))) => crate::score::equal(&lo, &hi),
        _ => true,
    }
}

// ---- counts and ranks ----------------------------------------------------------------------------------

/// EXZCARD key
pub fn exzcard(ctx: &Ctx, args: Args) -> CmdResult {
    let key = ctx.open_read(args.raw_arg(1)?);
    ctx.reply_int(zset_of(&key)?.map_or(0, |z| z.len()) as i64);
    Ok(())
}

/// EXZRANK / EXZREVRANK key member [WITHSCORE]
fn rank(ctx: &Ctx, args: Args, reverse: bool) -> CmdResult {
    let withscore = match args.len() {
        3 => false,
        4 if is_withscores(args.at(3)) || eq_ic(args.at(3), b"WITHSCORE") => true,
        _ => return Err(SYNTAX),
    };
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(z) = zset_of(&key)? else {
        ctx.reply_null();
        return Ok(());
    };
    let member = args.at(2);
    let r = if reverse {
        z.rev_rank(member)
    } else {
        z.rank(member)
    };
    match (r, withscore) {
        (None, _) => ctx.reply_null(),
        (Some(r), false) => ctx.reply_int(r as i64),
        (Some(r), true) => {
            ctx.reply_array(2);
            ctx.reply_int(r as i64);
            match z.score(member) {
                Some(s) => ScoreText::default().reply(ctx, &s),
                None => ctx.reply_null(),
            }
        }
    }
    Ok(())
}

pub fn exzrank(ctx: &Ctx, args: Args) -> CmdResult {
    rank(ctx, args, false)
}

pub fn exzrevrank(ctx: &Ctx, args: Args) -> CmdResult {
    rank(ctx, args, true)
}

/// EXZRANKBYSCORE / EXZREVRANKBYSCORE key score
fn rank_by_score(ctx: &Ctx, args: Args, reverse: bool) -> CmdResult {
    let score = ScoreTuple::parse(args.at(2)).map_err(zerr)?;
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(z) = zset_of(&key)? else {
        ctx.reply_null();
        return Ok(());
    };
    let n = if reverse {
        z.rev_rank_by_score(score.as_slice())
    } else {
        z.rank_by_score(score.as_slice())
    }
    .map_err(zerr)?;
    ctx.reply_int(n as i64);
    Ok(())
}

pub fn exzrankbyscore(ctx: &Ctx, args: Args) -> CmdResult {
    rank_by_score(ctx, args, false)
}

pub fn exzrevrankbyscore(ctx: &Ctx, args: Args) -> CmdResult {
    rank_by_score(ctx, args, true)
}

/// EXZCOUNT key min max
pub fn exzcount(ctx: &Ctx, args: Args) -> CmdResult {
    let range = score_range(args, false)?;
    let key = ctx.open_read(args.raw_arg(1)?);
    let n = match zset_of(&key)? {
        Some(z) => z.count_in_score(&range).map_err(zerr)?,
        None => 0,
    };
    ctx.reply_int(n as i64);
    Ok(())
}

/// EXZLEXCOUNT key min max
pub fn exzlexcount(ctx: &Ctx, args: Args) -> CmdResult {
    let range = lex_range(args, false)?;
    let key = ctx.open_read(args.raw_arg(1)?);
    let n = zset_of(&key)?.map_or(0, |z| z.count_in_lex(&range));
    ctx.reply_int(n as i64);
    Ok(())
}

// ---- random members and scan ---------------------------------------------------------------------------

/// EXZRANDMEMBER key [count [WITHSCORES]]
pub fn exzrandmember(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() == 2 {
        let key = ctx.open_read(args.raw_arg(1)?);
        match zset_of(&key)?.and_then(|z| z.random_member(&mut thread_rng())) {
            Some((m, _)) => ctx.reply_bulk(m),
            None => ctx.reply_null(),
        }
        return Ok(());
    }
    let count = int_arg(args.at(2))?;
    let withscores = match args.len() {
        3 => false,
        4 if is_withscores(args.at(3)) => true,
        _ => return Err(SYNTAX),
    };
    if count.unsigned_abs() > RANDMEMBER_MAX {
        return Err(VALUE_OUT_OF_RANGE);
    }
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(z) = zset_of(&key)? else {
        ctx.reply_array(0);
        return Ok(());
    };
    // count > 0: min(count, card) distinct members; count < 0: exactly |count| draws.
    let draws = if count > 0 {
        usize::try_from(count).unwrap_or(usize::MAX).min(z.len())
    } else {
        usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
    };
    // Only |count| = 2^62 WITHSCORES overflows the server's signed reply length.
    let len = draws
        .checked_mul(if withscores { 2 } else { 1 })
        .filter(|&n| i64::try_from(n).is_ok())
        .ok_or(VALUE_OUT_OF_RANGE)?;
    let mut out = ExactArray::new(ctx, len);
    let mut text = ScoreText::default();
    z.random_members(count, &mut thread_rng(), |m, s| {
        out.bulk(m);
        if withscores {
            out.bulk(text.format(s));
        }
    });
    Ok(())
}

/// EXZSCAN key cursor [MATCH pattern] [COUNT count]
pub fn exzscan(ctx: &Ctx, args: Args) -> CmdResult {
    let cursor = parse_u64(args.at(2)).ok_or(INVALID_CURSOR)?;
    let scan = ScanOptions::parse(args, 3, NOT_INTEGER_OR_OUT_OF_RANGE)?;
    let key = ctx.open_read(args.raw_arg(1)?);
    let z = zset_of(&key)?;
    ctx.reply_array(2);
    let Some(z) = z else {
        ctx.reply_bulk(b"0");
        ctx.reply_array(0);
        return Ok(());
    };
    let mut found: Vec<(&[u8], ScoreRef)> = Vec::new();
    let next = z.scan(cursor, scan.count, |m, s| {
        if scan.matches(m) {
            found.push((m, s));
        }
    });
    let mut cb = [0u8; 20];
    ctx.reply_bulk(utoa(next, &mut cb));
    ctx.reply_array(found.len() * 2);
    let mut text = ScoreText::for_client(ctx);
    for (m, s) in found {
        ctx.reply_bulk(m);
        text.reply(ctx, &s);
    }
    Ok(())
}

// ---- pops ----------------------------------------------------------------------------------------------

/// EXZPOPMIN / EXZPOPMAX key [count]
fn pop(ctx: &Ctx, args: Args, max: bool) -> CmdResult {
    let count = match args.len() {
        2 => 1,
        3 => usize::try_from(int_arg(args.at(2))?).map_err(|_| NOT_INTEGER_OR_OUT_OF_RANGE)?,
        _ => return Err(SYNTAX),
    };
    let name = args.raw_arg(1)?;
    let mut key = ctx.open_write(name);
    let Some(z) = zset_mut(&mut key)? else {
        ctx.reply_array(0);
        return Ok(());
    };
    let popped = z.pop(count, max);
    ctx.reply_array(popped.len() * 2);
    let mut text = ScoreText::for_client(ctx);
    for (m, s) in &popped {
        ctx.reply_bulk(m);
        text.reply(ctx, s.as_slice());
    }
    if !popped.is_empty() {
        ctx.notify_module(if max { c"exzpopmax" } else { c"exzpopmin" }, name);
        delete_if_empty(ctx, &mut key);
        ctx.replicate_verbatim();
    }
    Ok(())
}

pub fn exzpopmin(ctx: &Ctx, args: Args) -> CmdResult {
    pop(ctx, args, false)
}

pub fn exzpopmax(ctx: &Ctx, args: Args) -> CmdResult {
    pop(ctx, args, true)
}
