//! What the commands share: error replies of the pure layer, score and member/score replies, the
//! WITHSCORES spellings, and deleting a key its last member left.

use smallvec::SmallVec;
use tair_common::args::eq_ic;
use tair_common::ctx::flag::RESP3;
use tair_common::error::CmdError;
use tair_common::{Ctx, WriteKey};

use crate::error::ZsetError;
use crate::score::format_score;
use crate::zset::{Span, TairZset};

pub const INVALID_SCORE: CmdError = CmdError::Static(c"ERR score is not a valid format");

/// The error reply of a pure-layer error (texts of spec §6).
pub fn zerr(e: ZsetError) -> CmdError {
    CmdError::Static(match e {
        ZsetError::InvalidScore => c"ERR score is not a valid format",
        ZsetError::BoundNotFloat => c"ERR min or max is not a float",
        ZsetError::InvalidLexBound => c"ERR min or max not valid string range item",
        ZsetError::ScoreNaN => c"ERR resulting score is not a number (NaN)",
        ZsetError::WeightNotFloat => c"ERR weight value is not a float",
        ZsetError::TooManyMembers => c"ERR tairzset has too many members",
        ZsetError::CorruptValue => c"ERR tairzset value is corrupt",
    })
}

/// `WITHSCORES` or the seed's `EXWITHSCORES`.
pub fn is_withscores(a: &[u8]) -> bool {
    eq_ic(a, b"WITHSCORES") || eq_ic(a, b"EXWITHSCORES")
}

/// A reusable buffer for score texts, on the stack (a score of a few dimensions never allocates).
#[derive(Default)]
pub struct ScoreText {
    buf: SmallVec<[u8; 64]>,
    /// The client speaks RESP2, where the server's own double reply is a bulk string.
    resp2: bool,
}

/// True when the server's RESP2 double reply (`d2string`: integers through `ll2string`, `0`/`-0`,
/// `inf`/`-inf`) prints `v` exactly as §2.5 does: every integral value below 1e17 and the infinities.
/// Such a score then goes out in one protocol write instead of three (length, text, CRLF).
fn server_prints_alike(v: f64) -> bool {
    // `as` truncates (no libm call, unlike `fract`); -0 passes and the server prints it `-0` too.
    v.is_infinite() || (v.abs() < 1e17 && (v as i64) as f64 == v)
}

impl ScoreText {
    /// A buffer for replies to `ctx`'s client (reads the context flags once).
    pub fn for_client(ctx: &Ctx) -> Self {
        ScoreText {
            buf: SmallVec::new(),
            resp2: ctx.flags() & RESP3 == 0,
        }
    }

    /// The §2.5 text of `score` (valid until the next call).
    pub fn format(&mut self, score: &[f64]) -> &[u8] {
        self.buf.clear();
        format_score(score, &mut self.buf);
        &self.buf
    }

    /// The text last formatted.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Replies `score` as a bulk string (scores are never RESP3 doubles).
    pub fn reply(&mut self, ctx: &Ctx, score: &[f64]) {
        match score {
            [v] if self.resp2 && server_prints_alike(*v) => ctx.reply_double(*v),
            _ => ctx.reply_bulk(self.format(score)),
        }
    }
}

/// Replies with the members of `span` (and their scores, flat, when `withscores`). The array length is
/// announced up front (a postponed length costs the server an extra reply block); should the iterator
/// yield fewer items, nulls keep the reply well-formed.
pub fn reply_span(ctx: &Ctx, z: &TairZset, span: Span, withscores: bool) {
    let n = span.len();
    let mut sent = 0;
    if withscores {
        ctx.reply_array(n * 2);
        let mut text = ScoreText::for_client(ctx);
        z.for_each_in_span(span, |member, score| {
            if sent < n {
                ctx.reply_bulk(member);
                text.reply(ctx, score);
                sent += 1;
            }
        });
        for _ in sent..n {
            ctx.reply_null();
            ctx.reply_null();
        }
    } else {
        ctx.reply_array(n);
        z.for_each_in_span(span, |member, _| {
            if sent < n {
                ctx.reply_bulk(member);
                sent += 1;
            }
        });
        for _ in sent..n {
            ctx.reply_null();
        }
    }
}

/// After a write removed members: deletes the key when it is empty (firing `del`). Returns true when
/// the key was deleted (the value must not be used afterwards).
pub fn delete_if_empty(ctx: &Ctx, key: &mut WriteKey) -> bool {
    if !matches!(key.value::<TairZset>(), Ok(Some(z)) if z.is_empty()) {
        return false;
    }
    if key.delete().is_err() {
        return false;
    }
    ctx.notify_generic(c"del", key.name());
    true
}
