//! The read commands (spec §4): expired fields are hidden everywhere and, on a writable primary,
//! removed when a command meets them (§5.1, with the effects of §5.3). EXHLEN never removes.

use tair_common::args::{eq_ic, parse_u64, ScanOptions};
use tair_common::error::{wrong_arity, CmdResult, INVALID_CURSOR, SYNTAX};
use tair_common::{Args, Ctx};

use crate::access::{expired_removed, open_for_read, Env, Meets};
use crate::active::{self, config, Removal};
use crate::{FieldTtl, FieldView, TairHash};

/// What a one-field read found.
struct Lookup<'a> {
    /// The key existed before passive expiry.
    existed: bool,
    /// The live field.
    field: Option<FieldView<'a>>,
    hash: Option<&'a TairHash>,
    now: u64,
}

/// Opens the key of a one-field read (passive expiry of that field) and hands the lookup to `read`.
fn one_field(ctx: &Ctx, args: Args, read: impl FnOnce(Lookup<'_>)) -> CmdResult {
    let env = Env::for_read(ctx);
    let field = args.at(2);
    let (key, existed) = open_for_read(ctx, &env, args.raw_arg(1)?, Meets::Fields(&[field]))?;
    let hash = key.value()?;
    read(Lookup {
        existed,
        field: hash.and_then(|h| h.get(field, env.now)),
        hash,
        now: env.now,
    });
    Ok(())
}

/// EXHGET key field
pub fn exhget(ctx: &Ctx, args: Args) -> CmdResult {
    one_field(ctx, args, |l| match l.field {
        Some(f) => ctx.reply_bulk(f.value),
        None => ctx.reply_null(),
    })
}

/// EXHGETWITHVER key field
pub fn exhgetwithver(ctx: &Ctx, args: Args) -> CmdResult {
    one_field(ctx, args, |l| match l.field {
        Some(f) => {
            ctx.reply_array(2);
            ctx.reply_bulk(f.value);
            ctx.reply_int(f.version as i64);
        }
        None => ctx.reply_null(),
    })
}

/// EXHEXISTS key field
pub fn exhexists(ctx: &Ctx, args: Args) -> CmdResult {
    one_field(ctx, args, |l| ctx.reply_int(i64::from(l.field.is_some())))
}

/// EXHSTRLEN key field
pub fn exhstrlen(ctx: &Ctx, args: Args) -> CmdResult {
    one_field(ctx, args, |l| {
        ctx.reply_int(l.field.map_or(0, |f| f.value.len()) as i64)
    })
}

/// EXHVER key field: -1 key missing, -2 field absent or expired.
pub fn exhver(ctx: &Ctx, args: Args) -> CmdResult {
    one_field(ctx, args, |l| {
        ctx.reply_int(match (l.existed, l.field) {
            (false, _) => -1,
            (true, None) => -2,
            (true, Some(f)) => f.version as i64,
        })
    })
}

fn ttl_generic(ctx: &Ctx, args: Args, seconds: bool) -> CmdResult {
    let field = args.at(2);
    one_field(ctx, args, |l| {
        let ttl = l.hash.map_or(FieldTtl::Absent, |h| h.ttl(field, l.now));
        ctx.reply_int(match ttl {
            _ if !l.existed => -2,
            t if seconds => t.seconds_reply(),
            t => t.millis_reply(),
        })
    })
}

/// EXHPTTL key field: -2 key missing, -3 field absent or expired, -1 no expiry, else ms left.
pub fn exhpttl(ctx: &Ctx, args: Args) -> CmdResult {
    ttl_generic(ctx, args, false)
}

/// EXHTTL key field: as EXHPTTL, in seconds (rounded).
pub fn exhttl(ctx: &Ctx, args: Args) -> CmdResult {
    ttl_generic(ctx, args, true)
}

/// EXHMGET / EXHMGETWITHVER key field [field ...]
fn mget_generic(ctx: &Ctx, args: Args, with_version: bool) -> CmdResult {
    let env = Env::for_read(ctx);
    let names: Vec<&[u8]> = args.iter().skip(2).collect();
    let (key, _) = open_for_read(ctx, &env, args.raw_arg(1)?, Meets::Fields(&names))?;
    let h = key.value()?;
    ctx.reply_array(names.len());
    for n in &names {
        match h.as_ref().and_then(|h| h.get(n, env.now)) {
            None => ctx.reply_null(),
            Some(f) if with_version => {
                ctx.reply_array(2);
                ctx.reply_bulk(f.value);
                ctx.reply_int(f.version as i64);
            }
            Some(f) => ctx.reply_bulk(f.value),
        }
    }
    Ok(())
}

pub fn exhmget(ctx: &Ctx, args: Args) -> CmdResult {
    mget_generic(ctx, args, false)
}

pub fn exhmgetwithver(ctx: &Ctx, args: Args) -> CmdResult {
    mget_generic(ctx, args, true)
}

/// EXHLEN key [NOEXP]: fields stored (expired ones included), or live ones; never removes.
pub fn exhlen(ctx: &Ctx, args: Args) -> CmdResult {
    let noexp = match args.len() {
        2 => false,
        3 if eq_ic(args.at(2), b"NOEXP") => true,
        3 => return Err(SYNTAX),
        _ => return Err(wrong_arity("exhlen")),
    };
    let env = Env::for_read(ctx);
    let key = ctx.open_read(args.raw_arg(1)?);
    let n = match key.value::<TairHash>()? {
        None => 0,
        Some(h) if noexp => h.len_live(env.now),
        Some(h) => h.len(),
    };
    ctx.reply_int(n as i64);
    Ok(())
}

/// The whole-hash readers.
#[derive(Clone, Copy)]
enum Whole {
    Keys,
    Vals,
    All,
    AllWithVer,
}

fn whole_generic(ctx: &Ctx, args: Args, what: Whole) -> CmdResult {
    let env = Env::for_read(ctx);
    let (key, _) = open_for_read(ctx, &env, args.raw_arg(1)?, Meets::All)?;
    let Some(h) = key.value()? else {
        ctx.reply_array(0);
        return Ok(());
    };
    ctx.reply_array_postponed();
    let mut n = 0usize;
    for f in h.iter_live(env.now) {
        match what {
            Whole::Keys => ctx.reply_bulk(f.name),
            Whole::Vals => ctx.reply_bulk(f.value),
            Whole::All => {
                ctx.reply_bulk(f.name);
                ctx.reply_bulk(f.value);
            }
            Whole::AllWithVer => {
                ctx.reply_bulk(f.name);
                ctx.reply_bulk(f.value);
                ctx.reply_int(f.version as i64);
            }
        }
        n += 1;
    }
    let per = match what {
        Whole::Keys | Whole::Vals => 1,
        Whole::All => 2,
        Whole::AllWithVer => 3,
    };
    ctx.set_array_len(n * per);
    Ok(())
}

pub fn exhkeys(ctx: &Ctx, args: Args) -> CmdResult {
    whole_generic(ctx, args, Whole::Keys)
}

pub fn exhvals(ctx: &Ctx, args: Args) -> CmdResult {
    whole_generic(ctx, args, Whole::Vals)
}

pub fn exhgetall(ctx: &Ctx, args: Args) -> CmdResult {
    whole_generic(ctx, args, Whole::All)
}

pub fn exhgetallwithver(ctx: &Ctx, args: Args) -> CmdResult {
    whole_generic(ctx, args, Whole::AllWithVer)
}

/// EXHSCAN key cursor [MATCH pattern] [COUNT count]
pub fn exhscan(ctx: &Ctx, args: Args) -> CmdResult {
    let cursor = parse_u64(args.at(2)).ok_or(INVALID_CURSOR)?;
    let scan = ScanOptions::parse(args, 3, SYNTAX)?;
    let env = Env::for_read(ctx);
    let (key, _) = open_for_read(ctx, &env, args.raw_arg(1)?, Meets::Scan)?;
    let Some(h) = key.value()? else {
        ctx.reply_array(2);
        ctx.reply_bulk(b"0");
        ctx.reply_array(0);
        return Ok(());
    };
    let page = h.scan(cursor, scan.count, env.now);
    ctx.reply_array(2);
    ctx.reply_bulk(page.cursor.to_string().as_bytes());
    ctx.reply_array_postponed();
    let mut n = 0usize;
    for f in &page.fields {
        if !scan.matches(f.name) {
            continue;
        }
        ctx.reply_bulk(f.name);
        ctx.reply_bulk(f.value);
        n += 2;
    }
    ctx.set_array_len(n);
    let expired = page.expired;
    if !expired.is_empty() && env.can_expire(ctx) {
        // Removal goes through a key opened for writing (reopened here if it was read-only), so the
        // server sees the change and an emptied key is deleted, never left stored with no field.
        let mut key = key.into_write(ctx);
        let removed: Vec<Vec<u8>> = match key.value_mut::<TairHash>()? {
            Some(h) => expired
                .into_iter()
                .filter(|name| h.remove_expired(name, env.now))
                .collect(),
            None => Vec::new(),
        };
        expired_removed(ctx, env.db, &mut key, &removed, Removal::Passive);
    }
    Ok(())
}

/// EXHEXPIREINFO
pub fn exhexpireinfo(ctx: &Ctx, _args: Args) -> CmdResult {
    let text = active::with(|s| s.info(&config())).unwrap_or_default();
    ctx.reply_bulk(text.as_bytes());
    Ok(())
}
