//! Multi-dimensional scores (spec §2.3–§2.7): parsing `s1#s2#...`, `%.17g` formatting, the tuple order,
//! INCR addition, and the score / lex range bounds.
//!
//! Stored scores live in the member table as a flat `f64` array (exactly 8·N bytes per member, see
//! `table.rs`); [`ScoreTuple`] is the owned form used for arguments, bounds and results.

use std::cmp::Ordering;

use crate::error::ZsetError;

/// Most dimensions a score may have.
pub const MAX_DIMS: usize = 255;

/// A validated score: 1..=255 dimensions, none NaN (±inf and -0 allowed).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreTuple(Box<[f64]>);

impl ScoreTuple {
    /// Parses `dim(#dim){0,254}` per §2.4. Any violation is [`ZsetError::InvalidScore`].
    pub fn parse(text: &[u8]) -> Result<Self, ZsetError> {
        let mut dims = Vec::new();
        for part in text.split(|&b| b == b'#') {
            if dims.len() == MAX_DIMS {
                return Err(ZsetError::InvalidScore);
            }
            dims.push(parse_dim(part).ok_or(ZsetError::InvalidScore)?);
        }
        Ok(ScoreTuple(dims.into_boxed_slice()))
    }

    /// Wraps values that are already scores; `None` if empty, wider than 255 or containing NaN.
    pub fn from_slice(values: &[f64]) -> Option<Self> {
        if values.is_empty() || values.len() > MAX_DIMS || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        Some(ScoreTuple(values.into()))
    }

    /// The all-zero tuple of `dims` dimensions (`None` outside 1..=255).
    pub fn zeros(dims: usize) -> Option<Self> {
        if dims == 0 || dims > MAX_DIMS {
            return None;
        }
        Some(ScoreTuple(vec![0.0; dims].into_boxed_slice()))
    }

    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }

    /// Number of dimensions (1..=255).
    pub fn dims(&self) -> usize {
        self.0.len()
    }

    /// The §2.5 text, e.g. `1.1000000000000001#-0`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * 24);
        format_score(&self.0, &mut out);
        out
    }
}

/// Parses one dimension (§2.4); `None` if invalid. Also the grammar of a WEIGHTS value.
pub fn parse_dim(s: &[u8]) -> Option<f64> {
    let (negative, body) = match s.first() {
        Some(b'+') => (false, s.get(1..)?),
        Some(b'-') => (true, s.get(1..)?),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let mut i = 0;
    let mut mantissa_digits = 0usize;
    let mut nonzero = false;
    let mut scan_digits = |i: &mut usize| {
        while let Some(c) = body.get(*i).filter(|c| c.is_ascii_digit()) {
            nonzero |= *c != b'0';
            mantissa_digits += 1;
            *i += 1;
        }
    };
    scan_digits(&mut i);
    // A plain integer of at most 15 digits is exact in a double: no need for the general parser.
    if i == body.len() && (1..=15).contains(&i) {
        let n = body
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d.wrapping_sub(b'0')));
        let v = n as f64;
        return Some(if negative { -v } else { v });
    }
    if body.get(i) == Some(&b'.') {
        i += 1;
        scan_digits(&mut i);
    }
    if mantissa_digits == 0 {
        return None;
    }
    if matches!(body.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(body.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while body.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != body.len() {
        return None;
    }
    // Validated ASCII: the standard parser rounds correctly.
    let value: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    if value.is_infinite() || value.is_nan() || (value == 0.0 && nonzero) {
        return None;
    }
    Some(value)
}

/// Parses a WEIGHTS value: one `dim`; otherwise [`ZsetError::WeightNotFloat`].
pub fn parse_weight(s: &[u8]) -> Result<f64, ZsetError> {
    parse_dim(s).ok_or(ZsetError::WeightNotFloat)
}

/// Where formatted scores go: a `Vec` (persistence, digests) or a stack buffer (replies).
pub trait ByteSink {
    fn put(&mut self, bytes: &[u8]);
    fn put_byte(&mut self, b: u8);
}

impl ByteSink for Vec<u8> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    #[inline]
    fn put_byte(&mut self, b: u8) {
        self.push(b);
    }
}

impl<const N: usize> ByteSink for smallvec::SmallVec<[u8; N]> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    #[inline]
    fn put_byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// A fixed stack buffer for one `{:.16e}` rendering (at most 1 + 1 + 16 + 5 bytes).
struct Stack {
    buf: [u8; 32],
    len: usize,
}

impl std::fmt::Write for Stack {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Appends the decimal digits of `n`.
fn put_u64(mut n: u64, out: &mut impl ByteSink) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    loop {
        pos -= 1;
        if let Some(d) = buf.get_mut(pos) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || pos == 0 {
            break;
        }
    }
    out.put(buf.get(pos..).unwrap_or(&[]));
}

/// Appends one dimension formatted like C `printf("%.17g", v)` (§2.5).
pub fn format_dim(v: f64, out: &mut impl ByteSink) {
    if v.is_nan() {
        out.put(b"nan");
        return;
    }
    if v.is_infinite() {
        out.put(if v < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if v == 0.0 {
        out.put(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Integral values below 1e17 have at most 17 digits: `%.17g` prints them exactly, as integers.
    if v.abs() < 1e17 && (v as i64) as f64 == v {
        if v < 0.0 {
            out.put_byte(b'-');
        }
        put_u64(v.abs() as u64, out);
        return;
    }
    // Rust's exact formatting rounds the binary value half-to-even, as glibc does.
    let mut text = Stack {
        buf: [0; 32],
        len: 0,
    };
    if std::fmt::Write::write_fmt(&mut text, format_args!("{:.16e}", v.abs())).is_err() {
        return;
    }
    let mut digits = [b'0'; 17];
    let mut n = 0;
    let mut exp: i32 = 0;
    let mut exp_negative = false;
    let mut in_exp = false;
    for &c in text.buf.get(..text.len).unwrap_or(&[]) {
        match c {
            b'e' => in_exp = true,
            b'-' if in_exp => exp_negative = true,
            b'0'..=b'9' if in_exp => {
                exp = exp.saturating_mul(10).saturating_add(i32::from(c - b'0'))
            }
            b'0'..=b'9' => {
                if let Some(d) = digits.get_mut(n) {
                    *d = c;
                    n += 1;
                }
            }
            _ => {}
        }
    }
    if exp_negative {
        exp = -exp;
    }
    if v < 0.0 {
        out.put_byte(b'-');
    }
    // Significant digits once trailing zeros are stripped (at least one).
    let sig = digits.iter().rposition(|&d| d != b'0').map_or(1, |p| p + 1);
    let sig_digits = digits.get(..sig).unwrap_or(&[]);
    if (-4..17).contains(&exp) {
        if exp >= 0 {
            let int_len = usize::try_from(exp).unwrap_or(0) + 1;
            out.put(digits.get(..int_len).unwrap_or(&[]));
            if sig > int_len {
                out.put_byte(b'.');
                out.put(digits.get(int_len..sig).unwrap_or(&[]));
            }
        } else {
            out.put(b"0.");
            for _ in 0..(-exp - 1) {
                out.put_byte(b'0');
            }
            out.put(sig_digits);
        }
    } else {
        out.put_byte(digits[0]);
        if sig > 1 {
            out.put_byte(b'.');
            out.put(sig_digits.get(1..).unwrap_or(&[]));
        }
        out.put_byte(b'e');
        out.put_byte(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.put_byte(b'0');
        }
        put_u64(u64::from(e), out);
    }
}

/// Appends a whole score: dimensions formatted per §2.5, joined with `#`.
pub fn format_score(score: &[f64], out: &mut impl ByteSink) {
    for (i, &v) in score.iter().enumerate() {
        if i > 0 {
            out.put_byte(b'#');
        }
        format_dim(v, out);
    }
}

/// The §2.5 text of a score.
pub fn score_to_bytes(score: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(score.len() * 24);
    format_score(score, &mut out);
    out
}

/// The §2.3 order on tuples: the first differing dimension decides (numeric; -0 == 0). Over the common
/// prefix when lengths differ, which is exactly the prefix comparison of §2.6 when `b` is a bound.
pub fn compare(a: &[f64], b: &[f64]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x < y {
            return Ordering::Less;
        }
        if x > y {
            return Ordering::Greater;
        }
    }
    Ordering::Equal
}

/// Numeric equality of two tuples of the same width (an "update" only happens when this is false).
pub fn equal(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// `current + increment` per dimension (EXZADD INCR / EXZINCRBY). NaN in any dimension is an error;
/// overflow to ±inf is allowed. Widths must match.
pub fn checked_add(current: &[f64], increment: &[f64]) -> Result<ScoreTuple, ZsetError> {
    if current.len() != increment.len() {
        return Err(ZsetError::InvalidScore);
    }
    let sum: Vec<f64> = current.iter().zip(increment).map(|(a, b)| a + b).collect();
    if sum.iter().any(|v| v.is_nan()) {
        return Err(ZsetError::ScoreNaN);
    }
    ScoreTuple::from_slice(&sum).ok_or(ZsetError::InvalidScore)
}

/// One end of a score range (§2.6): a tuple of 1..=255 dimensions compared as a prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreBound {
    pub tuple: ScoreTuple,
    pub exclusive: bool,
}

impl ScoreBound {
    /// Parses `[(]tuple`; any violation is [`ZsetError::BoundNotFloat`].
    pub fn parse(text: &[u8]) -> Result<Self, ZsetError> {
        let (exclusive, body) = match text.split_first() {
            Some((b'(', rest)) => (true, rest),
            _ => (false, text),
        };
        let tuple = ScoreTuple::parse(body).map_err(|_| ZsetError::BoundNotFloat)?;
        Ok(ScoreBound { tuple, exclusive })
    }

    /// Number of dimensions of the bound (k).
    pub fn dims(&self) -> usize {
        self.tuple.dims()
    }
}

/// A score range `min max` (§2.6). Matching members are contiguous in the order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRange {
    pub min: ScoreBound,
    pub max: ScoreBound,
}

impl ScoreRange {
    /// Parses both bounds (ascending argument order: min first).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<Self, ZsetError> {
        Ok(ScoreRange {
            min: ScoreBound::parse(min)?,
            max: ScoreBound::parse(max)?,
        })
    }

    /// The widest bound; a key with fewer dimensions than this answers [`ZsetError::InvalidScore`].
    pub fn dims(&self) -> usize {
        self.min.dims().max(self.max.dims())
    }

    /// True when a score lies before the range (fails the min bound). Monotone along the order.
    pub fn below_min(&self, score: &[f64]) -> bool {
        match compare(score, self.min.tuple.as_slice()) {
            Ordering::Less => true,
            Ordering::Equal => self.min.exclusive,
            Ordering::Greater => false,
        }
    }

    /// True when a score satisfies the max bound. Monotone (true then false) along the order.
    pub fn within_max(&self, score: &[f64]) -> bool {
        match compare(score, self.max.tuple.as_slice()) {
            Ordering::Less => true,
            Ordering::Equal => !self.max.exclusive,
            Ordering::Greater => false,
        }
    }
}

/// One end of a lex range (§2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`
    Min,
    /// `+`
    Max,
    /// `[bytes`
    Inclusive(Box<[u8]>),
    /// `(bytes`
    Exclusive(Box<[u8]>),
}

impl LexBound {
    /// Parses `-`, `+`, `[bytes` or `(bytes`; anything else is [`ZsetError::InvalidLexBound`].
    pub fn parse(text: &[u8]) -> Result<Self, ZsetError> {
        match text.split_first() {
            Some((b'-', [])) => Ok(LexBound::Min),
            Some((b'+', [])) => Ok(LexBound::Max),
            Some((b'[', rest)) => Ok(LexBound::Inclusive(rest.into())),
            Some((b'(', rest)) => Ok(LexBound::Exclusive(rest.into())),
            _ => Err(ZsetError::InvalidLexBound),
        }
    }
}

/// A lex range `min max` (§2.7), meaningful when all members share one score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    /// Parses both bounds (ascending argument order: min first).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<Self, ZsetError> {
        Ok(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    /// True when a member lies before the range (fails the min bound).
    pub fn below_min(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(b) => member < &b[..],
            LexBound::Exclusive(b) => member <= &b[..],
        }
    }

    /// True when a member satisfies the max bound.
    pub fn within_max(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(b) => member <= &b[..],
            LexBound::Exclusive(b) => member < &b[..],
        }
    }
}

#[cfg(test)]
#[path = "score_tests.rs"]
mod tests;
