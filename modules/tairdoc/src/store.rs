//! The stored form of a document: one contiguous byte buffer in a binary layout of our own (issue 10).
//!
//! Every value is a tag byte and a payload, in document order (pre-order):
//!
//! | tag | value | payload |
//! |-----|-------|---------|
//! | 0 / 1 / 2 | null / false / true | none |
//! | 3 / 4 / 5 | i64 / u64 above i64::MAX / f64 | 8 bytes little endian (fixed width: increments edit in place) |
//! | 6 | string | length (1 byte below 255, else 255 + u32 LE) and the UTF-8 bytes |
//! | 7 | array | u32 LE byte size of the whole value, u32 LE element count, the elements |
//! | 8 | object | u32 size, u32 count, then per member: name (length + bytes as a string) and value |
//!
//! A container's byte size makes skipping it O(1), so a walk costs one header per sibling before the
//! target at each level, with no pointer chasing; the whole document is one allocation (a whole-document
//! write is one parse into a scratch buffer, one exact-size allocation and one free). Edits splice the
//! buffer and fix the sizes of the ancestors on the path (O(depth) headers, one memmove of the tail);
//! numbers have a fixed width, so increments are written in place without moving anything.
//!
//! serde_json parses straight into this layout (a [`DeserializeSeed`], no intermediate `Value`) and prints
//! it ([`Node`] implements `Serialize`), so number formatting and string escaping are serde_json's.
//! Multi-mode JSONPath queries run jsonpath-rust on a `serde_json::Value` built from the buffer for that
//! query only ([`to_value`]).

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::doc::{array_index, prescan_depth, token_index, JsonError, Step, MAX_DEPTH};

pub const T_NULL: u8 = 0;
pub const T_FALSE: u8 = 1;
pub const T_TRUE: u8 = 2;
pub const T_INT: u8 = 3;
pub const T_UINT: u8 = 4;
pub const T_FLOAT: u8 = 5;
pub const T_STR: u8 = 6;
pub const T_ARR: u8 = 7;
pub const T_OBJ: u8 = 8;

/// Container header: tag, u32 size, u32 count.
pub const HDR: usize = 9;

/// Objects with more members than this detect duplicate names with a hash set while parsing.
const DUP_SCAN: u32 = 32;

/// A change would make the document (or a container) larger than the u32 sizes of the layout allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig;

// ---- reading ------------------------------------------------------------------------------------------

fn rd_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn rd_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

fn wr_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at.saturating_add(4)) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// A string / name length prefix at `at`: (length, prefix size).
fn rd_len(b: &[u8], at: usize) -> Option<(usize, usize)> {
    match *b.get(at)? {
        255 => Some((usize::try_from(rd_u32(b, at + 1)?).ok()?, 5)),
        n => Some((usize::from(n), 1)),
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) -> Result<(), TooBig> {
    if n < 255 {
        out.push(n as u8);
    } else {
        out.push(255);
        out.extend_from_slice(&u32::try_from(n).map_err(|_| TooBig)?.to_le_bytes());
    }
    Ok(())
}

/// Appends a string (tag, length, bytes).
pub fn put_str(out: &mut Vec<u8>, s: &[u8]) -> Result<(), TooBig> {
    out.push(T_STR);
    put_len(out, s.len())?;
    out.extend_from_slice(s);
    Ok(())
}

/// Appends a member name (length, bytes).
fn put_name(out: &mut Vec<u8>, s: &[u8]) -> Result<(), TooBig> {
    put_len(out, s.len())?;
    out.extend_from_slice(s);
    Ok(())
}

pub fn tag(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// End offset of the value at `at` (O(1)).
pub fn end(b: &[u8], at: usize) -> Option<usize> {
    let e = match *b.get(at)? {
        T_NULL | T_FALSE | T_TRUE => at + 1,
        T_INT | T_UINT | T_FLOAT => at + 9,
        T_STR => {
            let (n, h) = rd_len(b, at + 1)?;
            at.checked_add(1 + h)?.checked_add(n)?
        }
        T_ARR | T_OBJ => at.checked_add(usize::try_from(rd_u32(b, at + 1)?).ok()?)?,
        _ => return None,
    };
    (e <= b.len()).then_some(e)
}

/// Element / member count of the container at `at`.
pub fn count(b: &[u8], at: usize) -> Option<usize> {
    match *b.get(at)? {
        T_ARR | T_OBJ => usize::try_from(rd_u32(b, at + 5)?).ok(),
        _ => None,
    }
}

/// The bytes of the string at `at`.
pub fn str_bytes(b: &[u8], at: usize) -> Option<&[u8]> {
    if *b.get(at)? != T_STR {
        return None;
    }
    let (n, h) = rd_len(b, at + 1)?;
    let s = at + 1 + h;
    b.get(s..s.checked_add(n)?)
}

pub fn as_str(b: &[u8], at: usize) -> Option<&str> {
    std::str::from_utf8(str_bytes(b, at)?).ok()
}

/// A member name at `at`: (name, offset of its value).
pub(crate) fn name_at(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let (n, h) = rd_len(b, at)?;
    let s = at + h;
    let e = s.checked_add(n)?;
    Some((b.get(s..e)?, e))
}

/// Iterates the members of the object at `at`: (name offset, name, value offset).
pub struct Members<'a> {
    b: &'a [u8],
    at: usize,
    end: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (usize, &'a [u8], usize);
    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.end {
            return None;
        }
        let k = self.at;
        let (name, v) = name_at(self.b, k)?;
        self.at = end(self.b, v)?;
        Some((k, name, v))
    }
}

pub fn members(b: &[u8], at: usize) -> Members<'_> {
    let e = match tag(b, at) {
        Some(T_OBJ) => end(b, at).unwrap_or(0),
        _ => 0,
    };
    Members {
        b,
        at: at + HDR,
        end: e,
    }
}

/// Iterates the element offsets of the array at `at`.
pub struct Elems<'a> {
    b: &'a [u8],
    at: usize,
    end: usize,
}

impl Iterator for Elems<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.at >= self.end {
            return None;
        }
        let e = self.at;
        self.at = end(self.b, e)?;
        Some(e)
    }
}

pub fn elems(b: &[u8], at: usize) -> Elems<'_> {
    let e = match tag(b, at) {
        Some(T_ARR) => end(b, at).unwrap_or(0),
        _ => 0,
    };
    Elems {
        b,
        at: at + HDR,
        end: e,
    }
}

/// The member `name` of the object at `at`: (name offset, value offset).
pub fn member(b: &[u8], at: usize, name: &[u8]) -> Option<(usize, usize)> {
    members(b, at)
        .find(|(_, n, _)| *n == name)
        .map(|(k, _, v)| (k, v))
}

/// Element `i` of the array at `at`.
pub fn elem(b: &[u8], at: usize, i: usize) -> Option<usize> {
    if i >= count(b, at)? {
        return None;
    }
    elems(b, at).nth(i)
}

/// One step from the value at `at`.
pub fn child(b: &[u8], at: usize, s: &Step) -> Option<usize> {
    match (tag(b, at)?, s) {
        (T_OBJ, Step::Token(t) | Step::Name(t)) => member(b, at, t.as_bytes()).map(|(_, v)| v),
        (T_ARR, Step::Token(t)) => elem(b, at, token_index(t)?),
        (T_ARR, Step::Index(i)) => elem(b, at, array_index(count(b, at)?, *i)?),
        _ => None,
    }
}

/// The value at `steps` from the root; `anc` (if given) receives the offsets of the containers passed
/// through (root first), i.e. the ancestors of the result.
pub fn walk(b: &[u8], steps: &[Step], mut anc: Option<&mut Vec<usize>>) -> Option<usize> {
    if b.is_empty() {
        return None;
    }
    let mut at = 0;
    for s in steps {
        if let Some(a) = anc.as_deref_mut() {
            a.push(at);
        }
        at = child(b, at, s)?;
    }
    Some(at)
}

pub fn type_name(b: &[u8], at: usize) -> &'static [u8] {
    match tag(b, at) {
        Some(T_FALSE | T_TRUE) => b"boolean",
        Some(T_INT | T_UINT | T_FLOAT) => b"number",
        Some(T_STR) => b"string",
        Some(T_ARR) => b"array",
        Some(T_OBJ) => b"object",
        _ => b"null",
    }
}

/// The number at `at` as a serde_json number.
pub fn number(b: &[u8], at: usize) -> Option<serde_json::Number> {
    let x = rd_u64(b, at + 1)?;
    match tag(b, at)? {
        T_INT => Some((x as i64).into()),
        T_UINT => Some(x.into()),
        T_FLOAT => serde_json::Number::from_f64(f64::from_bits(x)),
        _ => None,
    }
}

/// Encodes a number (always 9 bytes).
pub fn number_bytes(n: &serde_json::Number) -> [u8; 9] {
    let (t, x) = if let Some(i) = n.as_i64() {
        (T_INT, i as u64)
    } else if let Some(u) = n.as_u64() {
        (T_UINT, u)
    } else {
        (T_FLOAT, n.as_f64().unwrap_or(0.0).to_bits())
    };
    let mut out = [0u8; 9];
    out[0] = t;
    out[1..].copy_from_slice(&x.to_le_bytes());
    out
}

/// Overwrites the number at `at` with `n` (same width: nothing moves).
pub fn write_number(b: &mut [u8], at: usize, n: &serde_json::Number) {
    if let Some(s) = b.get_mut(at..at.saturating_add(9)) {
        s.copy_from_slice(&number_bytes(n));
    }
}

// ---- printing -----------------------------------------------------------------------------------------

/// A value of a buffer, printed by serde_json (depth is bounded by 128, so the recursion is too).
#[derive(Clone, Copy)]
pub struct Node<'a> {
    pub b: &'a [u8],
    pub at: usize,
}

fn name_str<E: serde::ser::Error>(n: &[u8]) -> Result<&str, E> {
    std::str::from_utf8(n).map_err(|_| E::custom("corrupt document"))
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.b;
        let at = self.at;
        let bad = || S::Error::custom("corrupt document");
        match tag(b, at).ok_or_else(bad)? {
            T_NULL => s.serialize_unit(),
            T_FALSE => s.serialize_bool(false),
            T_TRUE => s.serialize_bool(true),
            T_INT => s.serialize_i64(rd_u64(b, at + 1).ok_or_else(bad)? as i64),
            T_UINT => s.serialize_u64(rd_u64(b, at + 1).ok_or_else(bad)?),
            T_FLOAT => s.serialize_f64(f64::from_bits(rd_u64(b, at + 1).ok_or_else(bad)?)),
            T_STR => s.serialize_str(name_str(str_bytes(b, at).ok_or_else(bad)?)?),
            T_ARR => {
                let mut q = s.serialize_seq(count(b, at))?;
                for e in elems(b, at) {
                    q.serialize_element(&Node { b, at: e })?;
                }
                q.end()
            }
            T_OBJ => {
                let mut m = s.serialize_map(count(b, at))?;
                for (_, n, v) in members(b, at) {
                    m.serialize_entry(name_str::<S::Error>(n)?, &Node { b, at: v })?;
                }
                m.end()
            }
            _ => Err(bad()),
        }
    }
}

/// Compact JSON text of the value at `at`, appended to `out`.
pub fn write_text(b: &[u8], at: usize, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, &Node { b, at });
}

/// Compact JSON text of the value at `at`.
pub fn text(b: &[u8], at: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(end(b, at).unwrap_or(at).saturating_sub(at) + 16);
    write_text(b, at, &mut out);
    out
}

/// The value at `at` as a `serde_json::Value` (for jsonpath-rust and the XML/YAML renderers).
pub fn to_value(b: &[u8], at: usize) -> Value {
    serde_json::to_value(Node { b, at }).unwrap_or(Value::Null)
}

// ---- parsing ------------------------------------------------------------------------------------------

struct State {
    out: Vec<u8>,
    depth: usize,
    max_depth: usize,
    /// A duplicate member name replaced a value: `max_depth` may count the replaced one.
    replaced: bool,
}

struct Enc<'s>(&'s mut State);

fn too_big<E: serde::de::Error>(_: TooBig) -> E {
    E::custom("document too large")
}

/// Patches the header of the container that starts at `start` and ends at the buffer's end.
fn close(out: &mut [u8], start: usize, n: u32) -> Result<(), TooBig> {
    let size = u32::try_from(out.len() - start).map_err(|_| TooBig)?;
    wr_u32(out, start + 1, size);
    wr_u32(out, start + 5, n);
    Ok(())
}

impl<'de> DeserializeSeed<'de> for Enc<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Enc<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.0.out.push(T_NULL);
        Ok(())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.out.push(if v { T_TRUE } else { T_FALSE });
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.out.push(T_INT);
        self.0.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        let t = if i64::try_from(v).is_ok() {
            T_INT
        } else {
            T_UINT
        };
        self.0.out.push(t);
        self.0.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // as serde_json's Value: a non-finite double becomes null
        if v.is_finite() {
            self.0.out.push(T_FLOAT);
            self.0.out.extend_from_slice(&v.to_bits().to_le_bytes());
        } else {
            self.0.out.push(T_NULL);
        }
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        put_str(&mut self.0.out, v.as_bytes()).map_err(too_big)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.0;
        st.depth += 1;
        if st.depth > MAX_DEPTH {
            // bounds the recursion; `parse` reports it as the depth error
            return Err(A::Error::custom("depth"));
        }
        st.max_depth = st.max_depth.max(st.depth);
        let start = st.out.len();
        st.out.push(T_ARR);
        st.out.extend_from_slice(&[0; 8]);
        let mut n: u32 = 0;
        while seq.next_element_seed(Enc(&mut *st))?.is_some() {
            n = n
                .checked_add(1)
                .ok_or_else(|| A::Error::custom("array too large"))?;
        }
        close(&mut st.out, start, n).map_err(too_big)?;
        st.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.0;
        st.depth += 1;
        if st.depth > MAX_DEPTH {
            // bounds the recursion; `parse` reports it as the depth error
            return Err(A::Error::custom("depth"));
        }
        st.max_depth = st.max_depth.max(st.depth);
        let start = st.out.len();
        st.out.push(T_OBJ);
        st.out.extend_from_slice(&[0; 8]);
        let mut n: u32 = 0;
        let mut big: Option<HashSet<Vec<u8>>> = None;
        loop {
            let kpos = st.out.len();
            if map.next_key_seed(NameEnc(&mut st.out))?.is_none() {
                break;
            }
            let (name, vpos) = name_at(&st.out, kpos).ok_or_else(|| A::Error::custom("name"))?;
            let dup = if n < DUP_SCAN {
                find_member(&st.out, start, kpos, name)
            } else {
                let set = big.get_or_insert_with(|| {
                    let mut s = HashSet::new();
                    let mut at = start + HDR;
                    while at < kpos {
                        let Some((nm, v)) = name_at(&st.out, at) else {
                            break;
                        };
                        s.insert(nm.to_vec());
                        at = end(&st.out, v).unwrap_or(kpos);
                    }
                    s
                });
                if set.insert(name.to_vec()) {
                    None
                } else {
                    find_member(&st.out, start, kpos, name)
                }
            };
            map.next_value_seed(Enc(&mut *st))?;
            match dup {
                None => {
                    n = n
                        .checked_add(1)
                        .ok_or_else(|| A::Error::custom("object too large"))?;
                }
                Some(old_v) => {
                    // the last value wins, at the position of the first occurrence
                    let new_val = st.out.get(vpos..).unwrap_or_default().to_vec();
                    st.out.truncate(kpos);
                    let old_end = end(&st.out, old_v).ok_or_else(|| A::Error::custom("dup"))?;
                    st.out.splice(old_v..old_end, new_val);
                    st.replaced = true;
                }
            }
        }
        close(&mut st.out, start, n).map_err(too_big)?;
        st.depth -= 1;
        Ok(())
    }
}

/// The value offset of member `name` among the members of the object at `start` before `limit`.
fn find_member(b: &[u8], start: usize, limit: usize, name: &[u8]) -> Option<usize> {
    let mut at = start + HDR;
    while at < limit {
        let (nm, v) = name_at(b, at)?;
        if nm == name {
            return Some(v);
        }
        at = end(b, v)?;
    }
    None
}

struct NameEnc<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for NameEnc<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameEnc<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        put_name(self.0, v.as_bytes()).map_err(too_big)
    }
}

thread_local! {
    /// Parse scratch: the encoding is built here, then copied into an exact-size buffer.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Scratch kept between parses is trimmed back to this.
const SCRATCH_KEEP: usize = 1 << 16;

/// A parsed value: its encoding (exact capacity) and its depth.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub buf: Vec<u8>,
    pub depth: usize,
}

/// Parses one complete JSON text (surrounding whitespace allowed) with the limits of spec §3, straight
/// into the stored layout.
///
/// The depth limit is enforced while parsing: the visitor refuses to open a container deeper than 128, so
/// the recursion never goes deeper than that whatever the input. Only a failed parse runs the pre-scan
/// (`[`/`{` outside strings over the whole text), so the error is the one the spec's "pre-scan, then
/// parse" order gives: the depth error for any text deeper than 128, else serde_json's position. A valid
/// text's parsed depth equals its pre-scan depth, so successes are the same too, without a second pass.
pub fn parse(text: &[u8]) -> Result<Parsed, JsonError> {
    if text.is_empty() {
        return Err(JsonError::Empty);
    }
    parse_unchecked_depth(text).map_err(|e| {
        if prescan_depth(text) > MAX_DEPTH {
            JsonError::Depth
        } else {
            e
        }
    })
}

fn parse_unchecked_depth(text: &[u8]) -> Result<Parsed, JsonError> {
    SCRATCH.with(|cell| {
        let mut out = cell
            .try_borrow_mut()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        out.clear();
        let (r, mut out) = match crate::fast::parse(text, &mut out) {
            Some(depth) => (
                Ok(Parsed {
                    buf: out.as_slice().to_vec(),
                    depth,
                }),
                out,
            ),
            None => {
                out.clear();
                let (r, out) = parse_serde(text, out);
                (r, out)
            }
        };
        out.clear();
        if out.capacity() > SCRATCH_KEEP {
            out.shrink_to(SCRATCH_KEEP);
        }
        if let Ok(mut v) = cell.try_borrow_mut() {
            *v = out;
        }
        r
    })
}

/// The serde_json path (see [`crate::fast`] for when it runs): parses into `out`, which it gives back.
pub fn parse_serde(text: &[u8], out: Vec<u8>) -> (Result<Parsed, JsonError>, Vec<u8>) {
    let mut st = State {
        out,
        depth: 0,
        max_depth: 0,
        replaced: false,
    };
    let mut de = serde_json::Deserializer::from_slice(text);
    de.disable_recursion_limit();
    let r = Enc(&mut st)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| JsonError::Lexer(e.line(), e.column()))
        .map(|()| Parsed {
            buf: st.out.as_slice().to_vec(),
            // the depth of what is kept, not of a value a later duplicate replaced
            depth: if st.replaced {
                depth(&st.out, 0)
            } else {
                st.max_depth
            },
        });
    (r, st.out)
}

/// Encodes a `serde_json::Value` (tests and tools).
pub fn from_value(v: &Value) -> Vec<u8> {
    let mut st = State {
        out: Vec::new(),
        depth: 0,
        max_depth: 0,
        replaced: false,
    };
    let _ = Enc(&mut st).deserialize(v);
    st.out
}

// ---- editing ------------------------------------------------------------------------------------------

/// Replaces `range` of the buffer with `new`; `anc` are the containers that hold the range (root first),
/// whose sizes change by the difference; the count of the last one changes by `dcount`. Checks first,
/// then changes.
pub fn splice(
    b: &mut Vec<u8>,
    anc: &[usize],
    range: std::ops::Range<usize>,
    new: &[u8],
    dcount: i64,
) -> Result<(), TooBig> {
    let delta = new.len() as i64 - (range.end - range.start) as i64;
    let mut sizes = Vec::with_capacity(anc.len());
    for &a in anc {
        let s = i64::from(rd_u32(b, a + 1).ok_or(TooBig)?) + delta;
        sizes.push(u32::try_from(s).map_err(|_| TooBig)?);
    }
    let new_count = match anc.last() {
        Some(&p) => Some(
            u32::try_from(i64::from(rd_u32(b, p + 5).ok_or(TooBig)?) + dcount)
                .map_err(|_| TooBig)?,
        ),
        None => None,
    };
    if range.end > b.len() || range.start > range.end {
        return Err(TooBig);
    }
    for (&a, s) in anc.iter().zip(sizes) {
        wr_u32(b, a + 1, s);
    }
    if let (Some(&p), Some(c)) = (anc.last(), new_count) {
        wr_u32(b, p + 5, c);
    }
    if new.len() == range.end - range.start {
        if let Some(dst) = b.get_mut(range) {
            dst.copy_from_slice(new);
        }
    } else {
        b.splice(range, new.iter().copied());
    }
    Ok(())
}

/// Why a create-or-replace cannot be done (spec 4.3, 4.5).
#[derive(Debug, PartialEq, Eq)]
pub enum SetError {
    NoParent,
    BadIndex,
    TooBig,
}

impl From<TooBig> for SetError {
    fn from(_: TooBig) -> Self {
        SetError::TooBig
    }
}

/// Where a set at `steps` goes: the parent (with its ancestors) and the position.
enum Target {
    Root,
    /// Existing member: (ancestors incl. the object, name offset, value offset).
    Member(Vec<usize>, usize, usize),
    /// New member at the end of the object.
    NewMember(Vec<usize>),
    /// Replace array element at offset.
    Elem(Vec<usize>, usize),
    /// Append to the array.
    Push(Vec<usize>),
}

fn target(b: &[u8], steps: &[Step]) -> Result<Target, SetError> {
    let Some((last, parent_steps)) = steps.split_last() else {
        return Ok(Target::Root);
    };
    let mut anc = Vec::with_capacity(steps.len());
    let parent = walk(b, parent_steps, Some(&mut anc)).ok_or(SetError::NoParent)?;
    anc.push(parent);
    match (tag(b, parent), last) {
        (Some(T_OBJ), Step::Token(t) | Step::Name(t)) => {
            Ok(match member(b, parent, t.as_bytes()) {
                Some((k, v)) => Target::Member(anc, k, v),
                None => Target::NewMember(anc),
            })
        }
        (Some(T_ARR), s) => {
            let len = count(b, parent).ok_or(SetError::NoParent)?;
            let idx = match s {
                Step::Token(t) if t == "-" => len,
                Step::Token(t) => token_index(t).ok_or(SetError::BadIndex)?,
                Step::Index(i) if *i < 0 => array_index(len, *i).ok_or(SetError::BadIndex)?,
                Step::Index(i) => usize::try_from(*i).map_err(|_| SetError::BadIndex)?,
                Step::Name(_) => return Err(SetError::NoParent),
            };
            if idx == len {
                Ok(Target::Push(anc))
            } else if idx < len {
                Ok(Target::Elem(
                    anc,
                    elem(b, parent, idx).ok_or(SetError::BadIndex)?,
                ))
            } else {
                Err(SetError::BadIndex)
            }
        }
        _ => Err(SetError::NoParent),
    }
}

/// Validates that [`set_at`] would succeed (parent exists and accepts the last step).
pub fn check_set(b: &[u8], steps: &[Step]) -> Result<(), SetError> {
    target(b, steps).map(|_| ())
}

/// Sets (creates / replaces) the encoded value `v` at `steps`; an existing object member moves to the end
/// (4.5).
pub fn set_at(b: &mut Vec<u8>, steps: &[Step], v: &[u8]) -> Result<(), SetError> {
    match target(b, steps)? {
        Target::Root => {
            // a new exact-size buffer; the old one is freed whole
            *b = v.to_vec();
        }
        Target::Member(anc, k, val) => {
            let parent = *anc.last().ok_or(SetError::NoParent)?;
            let vend = end(b, val).ok_or(SetError::NoParent)?;
            let pend = end(b, parent).ok_or(SetError::NoParent)?;
            if vend == pend {
                // already the last member: replace the value where it is
                splice(b, &anc, val..vend, v, 0)?;
            } else {
                let mut m = Vec::with_capacity(val - k + v.len());
                m.extend_from_slice(b.get(k..val).ok_or(SetError::NoParent)?);
                m.extend_from_slice(v);
                splice(b, &anc, k..vend, &[], -1)?;
                let pend = end(b, parent).ok_or(SetError::NoParent)?;
                splice(b, &anc, pend..pend, &m, 1)?;
            }
        }
        Target::NewMember(anc) => {
            let parent = *anc.last().ok_or(SetError::NoParent)?;
            let Some(Step::Token(t) | Step::Name(t)) = steps.last() else {
                return Err(SetError::NoParent);
            };
            let mut m = Vec::with_capacity(t.len() + 5 + v.len());
            put_name(&mut m, t.as_bytes())?;
            m.extend_from_slice(v);
            let pend = end(b, parent).ok_or(SetError::NoParent)?;
            splice(b, &anc, pend..pend, &m, 1)?;
        }
        Target::Elem(anc, e) => {
            let eend = end(b, e).ok_or(SetError::NoParent)?;
            splice(b, &anc, e..eend, v, 0)?;
        }
        Target::Push(anc) => {
            let parent = *anc.last().ok_or(SetError::NoParent)?;
            let pend = end(b, parent).ok_or(SetError::NoParent)?;
            splice(b, &anc, pend..pend, v, 1)?;
        }
    }
    Ok(())
}

/// Removes the value at non-empty `steps`; `None` if missing.
pub fn remove_at(b: &mut Vec<u8>, steps: &[Step]) -> Option<()> {
    let (last, parent_steps) = steps.split_last()?;
    let mut anc = Vec::with_capacity(steps.len());
    let parent = walk(b, parent_steps, Some(&mut anc))?;
    anc.push(parent);
    let range = match (tag(b, parent)?, last) {
        (T_OBJ, Step::Token(t) | Step::Name(t)) => {
            let (k, v) = member(b, parent, t.as_bytes())?;
            k..end(b, v)?
        }
        (T_ARR, Step::Token(t)) => {
            let e = elem(b, parent, token_index(t)?)?;
            e..end(b, e)?
        }
        (T_ARR, Step::Index(i)) => {
            let e = elem(b, parent, array_index(count(b, parent)?, *i)?)?;
            e..end(b, e)?
        }
        _ => return None,
    };
    splice(b, &anc, range, &[], -1).ok()
}

/// Depth of the value at `at` (iterative: a stack of container ends).
pub fn depth(b: &[u8], at: usize) -> usize {
    let Some(stop) = end(b, at) else {
        return 0;
    };
    // (end, is object)
    let mut stack: Vec<(usize, bool)> = Vec::new();
    let mut max = 0;
    let mut p = at;
    while p < stop {
        while stack.last().is_some_and(|&(e, _)| p >= e) {
            stack.pop();
        }
        if stack.last().is_some_and(|&(_, obj)| obj) {
            match name_at(b, p) {
                Some((_, v)) => p = v,
                None => break,
            }
        }
        match tag(b, p) {
            Some(T_ARR | T_OBJ) => {
                let Some(e) = end(b, p) else { break };
                stack.push((e, tag(b, p) == Some(T_OBJ)));
                max = max.max(stack.len());
                p += HDR;
            }
            _ => match end(b, p) {
                Some(e) => p = e,
                None => break,
            },
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: &str) -> Vec<u8> {
        parse(t.as_bytes()).unwrap().buf
    }

    fn s(b: &[u8]) -> String {
        String::from_utf8(text(b, 0)).unwrap()
    }

    #[test]
    fn round_trip_and_duplicates() {
        for t in [
            r#"{"a":[1,2.5,"x\u0000y",-3,18446744073709551615,true,false,null],"b":{"c":null},"d":{}}"#,
            "[]",
            "\"\"",
            "-0",
        ] {
            let b = p(t);
            assert_eq!(
                s(&b).as_bytes(),
                crate::doc::to_text(&crate::doc::parse_json(t.as_bytes()).unwrap())
            );
        }
        assert_eq!(
            s(&p(r#"{"a":1,"b":2,"a":{"x":[3]}}"#)),
            r#"{"a":{"x":[3]},"b":2}"#
        );
        // the depth is the kept value's (found by fuzzing: it counted the replaced one)
        let d = parse(br#"{"a":1,"a":{"b":[[1]]},"a":2}"#).unwrap();
        assert_eq!((s(&d.buf).as_str(), d.depth), (r#"{"a":2}"#, 1));
        let mut many = String::from("{");
        for i in 0..100 {
            many.push_str(&format!("\"k{i}\":{i},"));
        }
        many.push_str("\"k7\":\"last\"}");
        let v = crate::doc::parse_json(many.as_bytes()).unwrap();
        assert_eq!(text(&p(&many), 0), crate::doc::to_text(&v));
        let long = "y".repeat(300);
        assert_eq!(
            s(&p(&format!("{{\"{long}\":\"{long}\"}}"))),
            format!("{{\"{long}\":\"{long}\"}}")
        );
    }

    /// The depth limit checked while parsing gives the errors and results of pre-scan-then-parse.
    #[test]
    fn limits_match_prescan() {
        let texts = [
            "[".repeat(100_000),
            format!("{}{}", "[".repeat(128), "]".repeat(128)),
            format!("{}{}", "[".repeat(129), "]".repeat(129)),
            format!("{}1{}", "{\"a\":[".repeat(64), "]}".repeat(64)),
            format!("{}1{}", "{\"a\":[".repeat(65), "]}".repeat(65)),
            format!("[1,,{}", "[".repeat(200)),
            format!("[1]{}", "{".repeat(200)),
            format!("[\"{}\"]", "[".repeat(200)),
            "[1,]".into(),
            "\"\\uD800\"".into(),
            " ".into(),
            "{\"a\":1}x".into(),
            "1e400".into(),
        ];
        for t in texts {
            let a = crate::doc::parse_json(t.as_bytes()).map(|v| crate::doc::to_text(&v));
            let b = parse(t.as_bytes()).map(|p| text(&p.buf, 0));
            assert_eq!(a, b, "{:.40}", t);
        }
    }

    #[test]
    fn edits() {
        let mut b = p(r#"{"a":[1,2,3],"b":{"c":"x"},"d":true}"#);
        let one = p("[9]");
        set_at(&mut b, &[Step::Name("a".into())], &one).unwrap();
        assert_eq!(s(&b), r#"{"b":{"c":"x"},"d":true,"a":[9]}"#);
        set_at(
            &mut b,
            &[Step::Name("b".into()), Step::Name("e".into())],
            &p("1"),
        )
        .unwrap();
        assert_eq!(s(&b), r#"{"b":{"c":"x","e":1},"d":true,"a":[9]}"#);
        set_at(
            &mut b,
            &[Step::Name("a".into()), Step::Token("-".into())],
            &p("\"z\""),
        )
        .unwrap();
        assert_eq!(s(&b), r#"{"b":{"c":"x","e":1},"d":true,"a":[9,"z"]}"#);
        remove_at(&mut b, &[Step::Name("b".into()), Step::Name("c".into())]).unwrap();
        assert_eq!(s(&b), r#"{"b":{"e":1},"d":true,"a":[9,"z"]}"#);
        remove_at(&mut b, &[Step::Name("a".into()), Step::Index(-2)]).unwrap();
        assert_eq!(s(&b), r#"{"b":{"e":1},"d":true,"a":["z"]}"#);
        assert_eq!(depth(&b, 0), 2);
        assert_eq!(end(&b, 0), Some(b.len()));
        assert_eq!(from_value(&to_value(&b, 0)), b);
    }
}
