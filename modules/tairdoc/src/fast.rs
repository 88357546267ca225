//! A fast path for parsing a JSON text into the stored layout of [`crate::store`]: one iterative pass
//! over the bytes (no recursion, no serde dispatch), for the texts that are plainly valid. It gives up
//! (`None`) on anything unusual — any syntax error, a lone surrogate, an integer outside i64/u64, a
//! double out of range, `-0`, a duplicate member name, an object of more than [`MAX_SCAN`] members,
//! nesting deeper than 128 — and the caller then parses with serde_json, which gives serde_json's
//! result or error for exactly those. So the fast path only has to agree with serde_json on what it
//! accepts: the property test and the `doc` fuzz target compare the two.

use crate::doc::MAX_DEPTH;
use crate::store::{HDR, T_ARR, T_FALSE, T_FLOAT, T_INT, T_NULL, T_OBJ, T_STR, T_TRUE, T_UINT};

/// Objects larger than this go to the serde path (duplicate detection with a hash set there).
const MAX_SCAN: u32 = 64;

struct Frame {
    start: usize,
    obj: bool,
    n: u32,
    /// One bit per member name (a cheap hash): a name whose bit is clear is new without a scan.
    mask: u64,
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
    out: &'a mut Vec<u8>,
    tmp: Vec<u8>,
}

/// Bytes that end a plain run in a string: `"`, `\\`, control bytes. (Built at compile time: an
/// out-of-range index there would fail the build, not panic.)
#[allow(clippy::indexing_slicing)]
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `w` is `"`, `\` or below 0x20.
#[inline]
fn special(w: u64) -> bool {
    let lt = w.wrapping_sub(LO * 0x20) & !w & HI;
    let q = w ^ (LO * u64::from(b'"'));
    let bs = w ^ (LO * u64::from(b'\\'));
    let zq = q.wrapping_sub(LO) & !q & HI;
    let zb = bs.wrapping_sub(LO) & !bs & HI;
    lt | zq | zb != 0
}

fn put_len(out: &mut Vec<u8>, n: usize) -> Option<()> {
    if n < 255 {
        out.push(n as u8);
    } else {
        out.push(255);
        out.extend_from_slice(&u32::try_from(n).ok()?.to_le_bytes());
    }
    Some(())
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(..4)? {
        v = v * 16 + char::from(c).to_digit(16)?;
    }
    Some(v)
}

impl P<'_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// A string whose opening quote is at `i`: its decoded bytes go to `out` with a length prefix, and their length (the
    /// caller writes the tag byte of a string value; a member name has none).
    fn string(&mut self) -> Option<usize> {
        self.i += 1;
        let start = self.i;
        // the plain run up to the first quote, backslash or control byte
        let mut j = start;
        // the OR of the bytes scanned: a high bit means non-ASCII, validated as UTF-8 below (the text is
        // not validated as a whole: outside strings a non-ASCII byte is a syntax error anyway)
        let mut any = 0u64;
        while let Some(w) = self.b.get(j..j + 8) {
            let w = u64::from_le_bytes(w.try_into().ok()?);
            if special(w) {
                break;
            }
            any |= w;
            j += 8;
        }
        while let Some(&c) = self.b.get(j) {
            if STOP.get(usize::from(c)).copied().unwrap_or(true) {
                break;
            }
            any |= u64::from(c);
            j += 1;
        }
        match self.b.get(j) {
            Some(b'"') => {
                let s = self.b.get(start..j)?;
                if any & HI != 0 {
                    std::str::from_utf8(s).ok()?;
                }
                put_len(self.out, s.len())?;
                self.out.extend_from_slice(s);
                self.i = j + 1;
                Some(s.len())
            }
            Some(b'\\') => {
                self.tmp.clear();
                self.tmp.extend_from_slice(self.b.get(start..j)?);
                self.i = j;
                loop {
                    let c = self.peek()?;
                    self.i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let e = self.peek()?;
                            self.i += 1;
                            let simple = match e {
                                b'"' => Some(b'"'),
                                b'\\' => Some(b'\\'),
                                b'/' => Some(b'/'),
                                b'b' => Some(8),
                                b'f' => Some(12),
                                b'n' => Some(b'\n'),
                                b'r' => Some(b'\r'),
                                b't' => Some(b'\t'),
                                b'u' => None,
                                _ => return None,
                            };
                            match simple {
                                Some(x) => self.tmp.push(x),
                                None => {
                                    let cp = hex4(self.b.get(self.i..)?)?;
                                    self.i += 4;
                                    let ch = if (0xD800..0xDC00).contains(&cp) {
                                        if self.b.get(self.i..self.i + 2)? != b"\\u" {
                                            return None;
                                        }
                                        let lo = hex4(self.b.get(self.i + 2..)?)?;
                                        if !(0xDC00..0xE000).contains(&lo) {
                                            return None;
                                        }
                                        self.i += 6;
                                        char::from_u32(
                                            0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00),
                                        )?
                                    } else {
                                        char::from_u32(cp)?
                                    };
                                    let mut buf = [0u8; 4];
                                    self.tmp
                                        .extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                                }
                            }
                        }
                        c if c < 0x20 => return None,
                        c => self.tmp.push(c),
                    }
                }
                std::str::from_utf8(&self.tmp).ok()?;
                put_len(self.out, self.tmp.len())?;
                self.out.extend_from_slice(&self.tmp);
                Some(self.tmp.len())
            }
            _ => None,
        }
    }

    fn number(&mut self) -> Option<()> {
        let start = self.i;
        let neg = self.peek() == Some(b'-');
        if neg {
            self.i += 1;
        }
        let int_start = self.i;
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        let int_end = self.i;
        let mut float = false;
        if self.peek() == Some(b'.') {
            float = true;
            self.i += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            float = true;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        let lit = std::str::from_utf8(self.b.get(start..self.i)?).ok()?;
        if float {
            let f: f64 = lit.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            self.out.push(T_FLOAT);
            self.out.extend_from_slice(&f.to_bits().to_le_bytes());
        } else {
            let mag: u64 = std::str::from_utf8(self.b.get(int_start..int_end)?)
                .ok()?
                .parse()
                .ok()?;
            if neg {
                // -0 is a double in serde_json, and beyond -2^63 too: the serde path has them
                if mag == 0 || mag > 1 << 63 {
                    return None;
                }
                self.out.push(T_INT);
                self.out
                    .extend_from_slice(&(mag.wrapping_neg() as i64).to_le_bytes());
            } else {
                self.out.push(if i64::try_from(mag).is_ok() {
                    T_INT
                } else {
                    T_UINT
                });
                self.out.extend_from_slice(&mag.to_le_bytes());
            }
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8], tag: u8) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? != word {
            return None;
        }
        self.i += word.len();
        self.out.push(tag);
        Some(())
    }

    /// A member name at `i` (opening quote) for the object `f`; None on a duplicate.
    fn name(&mut self, f: &mut Frame) -> Option<()> {
        if self.peek() != Some(b'"') || f.n >= MAX_SCAN {
            return None;
        }
        let at = self.out.len();
        let n = self.string()?;
        let e = self.out.len();
        let name = self.out.get(e - n..e)?;
        let bit = 1u64
            << ((n as u64)
                .wrapping_mul(31)
                .wrapping_add(u64::from(*name.first().unwrap_or(&0)))
                .wrapping_add(u64::from(*name.last().unwrap_or(&0)) << 3)
                & 63);
        if f.mask & bit != 0 {
            let mut p = f.start + HDR;
            while p < at {
                let (m, v) = crate::store::name_at(self.out, p)?;
                if m == name {
                    return None;
                }
                p = crate::store::end(self.out, v)?;
            }
        }
        f.mask |= bit;
        Some(())
    }
}

/// Parses `text` into `out` (appended); the depth, or None to let serde_json decide.
pub fn parse(text: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    let mut p = P {
        b: text,
        i: 0,
        out,
        tmp: Vec::new(),
    };
    let mut stack: Vec<Frame> = Vec::with_capacity(16);
    let mut max = 0usize;
    'value: loop {
        p.ws();
        match p.peek()? {
            c @ (b'{' | b'[') => {
                let obj = c == b'{';
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                p.i += 1;
                let mut f = Frame {
                    start: p.out.len(),
                    obj,
                    n: 0,
                    mask: 0,
                };
                p.out.push(if obj { T_OBJ } else { T_ARR });
                p.out.extend_from_slice(&[0; 8]);
                max = max.max(stack.len() + 1);
                p.ws();
                let close = if obj { b'}' } else { b']' };
                if p.peek() == Some(close) {
                    p.i += 1;
                    close_frame(p.out, &f)?;
                } else {
                    if obj {
                        p.name(&mut f)?;
                        p.ws();
                        if p.peek() != Some(b':') {
                            return None;
                        }
                        p.i += 1;
                    }
                    stack.push(f);
                    continue 'value;
                }
            }
            b'"' => {
                p.out.push(T_STR);
                p.string()?;
            }
            b't' => p.literal(b"true", T_TRUE)?,
            b'f' => p.literal(b"false", T_FALSE)?,
            b'n' => p.literal(b"null", T_NULL)?,
            b'-' | b'0'..=b'9' => p.number()?,
            _ => return None,
        }
        // after a value: close containers or move to the next element / member
        loop {
            let Some(f) = stack.last_mut() else {
                p.ws();
                return (p.i == p.b.len()).then_some(max);
            };
            f.n = f.n.checked_add(1)?;
            p.ws();
            match p.peek()? {
                b',' => {
                    p.i += 1;
                    if f.obj {
                        p.ws();
                        p.name(f)?;
                        p.ws();
                        if p.peek() != Some(b':') {
                            return None;
                        }
                        p.i += 1;
                    }
                    continue 'value;
                }
                c if c == if f.obj { b'}' } else { b']' } => {
                    p.i += 1;
                    let f = stack.pop()?;
                    close_frame(p.out, &f)?;
                }
                _ => return None,
            }
        }
    }
}

fn close_frame(out: &mut [u8], f: &Frame) -> Option<()> {
    let size = u32::try_from(out.len() - f.start).ok()?;
    out.get_mut(f.start + 1..f.start + 5)?
        .copy_from_slice(&size.to_le_bytes());
    out.get_mut(f.start + 5..f.start + 9)?
        .copy_from_slice(&f.n.to_le_bytes());
    Some(())
}
