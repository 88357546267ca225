//! What the commands share: error replies of the pure layer, score and member/score replies, the
//! WITHSCORES spellings, and deleting a key its last member left.

use tair_common::args::eq_ic;
use tair_common::error::CmdError;
use tair_common::{Ctx, ExactArray, WriteKey};

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

/// A reusable buffer for score texts: one allocation per command, not per score.
#[derive(Default)]
pub struct ScoreText(Vec<u8>);

impl ScoreText {
    /// The §2.5 text of `score` (valid until the next call).
    pub fn format(&mut self, score: &[f64]) -> &[u8] {
        self.0.clear();
        format_score(score, &mut self.0);
        &self.0
    }

    /// The text last formatted.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Replies `score` as a bulk string (scores are never RESP3 doubles).
    pub fn reply(&mut self, ctx: &Ctx, score: &[f64]) {
        ctx.reply_bulk(self.format(score));
    }
}

/// Replies with the members of `span` (and their scores, flat, when `withscores`). The array length is
/// announced up front (a postponed length costs the server an extra reply block); should the iterator
/// ever yield fewer items, nulls keep the reply well-formed.
pub fn reply_span(ctx: &Ctx, z: &TairZset, span: Span, withscores: bool) {
    let per = if withscores { 2 } else { 1 };
    let mut exact = ExactArray::new(ctx, span.len() * per);
    let mut text = ScoreText::default();
    for (member, score) in z.iter_span(span).take(span.len()) {
        exact.bulk(member);
        if withscores {
            exact.bulk(text.format(&score));
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
