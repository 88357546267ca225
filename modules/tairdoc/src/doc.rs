//! The pure layer: parsing JSON texts with the depth pre-scan, path classification (root, JSON Pointer,
//! dot path, singular / multi JSONPath), the step walker, and the multi-mode location list.
//! Nothing here knows the server.

use serde::Deserialize;
use serde_json::Value;

pub const MAX_DEPTH: usize = 128;
pub const MAX_PATH: usize = 16384;
pub const MAX_BRACKETS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    Empty,
    Lexer(usize, usize),
    Depth,
}

/// Depth of a JSON text by counting `[`/`{` outside strings (O(n), no recursion).
pub fn prescan_depth(b: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for &c in b {
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parses one complete JSON text (surrounding whitespace allowed) with the limits of spec §3.
pub fn parse_json(b: &[u8]) -> Result<Value, JsonError> {
    if b.is_empty() {
        return Err(JsonError::Empty);
    }
    if prescan_depth(b) > MAX_DEPTH {
        return Err(JsonError::Depth);
    }
    let mut de = serde_json::Deserializer::from_slice(b);
    de.disable_recursion_limit();
    let v = Value::deserialize(&mut de).map_err(|e| JsonError::Lexer(e.line(), e.column()))?;
    de.end()
        .map_err(|e| JsonError::Lexer(e.line(), e.column()))?;
    Ok(v)
}

/// depth(scalar) = 0, depth(container) = 1 + max child depth (iterative).
pub fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((n, d)) = stack.pop() {
        match n {
            Value::Array(a) => {
                max = max.max(d + 1);
                stack.extend(a.iter().map(|c| (c, d + 1)));
            }
            Value::Object(o) => {
                max = max.max(d + 1);
                stack.extend(o.values().map(|c| (c, d + 1)));
            }
            _ => {}
        }
    }
    max
}

/// Number of nodes of a value (iterative).
pub fn count_nodes(v: &Value) -> usize {
    let mut n = 0usize;
    let mut stack: Vec<&Value> = vec![v];
    while let Some(x) = stack.pop() {
        n = n.saturating_add(1);
        match x {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    n
}

/// Compact serde_json text.
pub fn to_text(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

// ---- paths --------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Pointer / dot token: a member name on an object, a decimal index or `-` on an array.
    Token(String),
    /// JSONPath name selector: objects only.
    Name(String),
    /// JSONPath index selector: arrays only, negative from the end.
    Index(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathKind {
    Root,
    /// Pointer or dot path.
    Pointer(Vec<Step>),
    /// A `$` path that is singular (bare `$` has no steps).
    Singular(Vec<Step>),
    /// Any other `$` path: evaluated by jsonpath-rust.
    Multi(String),
}

impl PathKind {
    pub fn is_dollar(&self) -> bool {
        matches!(self, PathKind::Singular(_) | PathKind::Multi(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    Illegal,
    DotFail,
}

/// Classifies and parses a path argument. `dollar_root`: whether a bare `$` is a JSONPath (GET/MGET)
/// rather than the root.
pub fn parse_path(p: &[u8], dollar_root: bool) -> Result<PathKind, PathError> {
    if p.len() > MAX_PATH {
        return Err(PathError::Illegal);
    }
    if p.is_empty() || p == b"." {
        return Ok(PathKind::Root);
    }
    if p == b"$" && !dollar_root {
        return Ok(PathKind::Root);
    }
    let s = std::str::from_utf8(p).map_err(|_| PathError::Illegal)?;
    match p.first() {
        Some(b'/') => parse_pointer(s).map(PathKind::Pointer),
        Some(b'.') | Some(b'[') => parse_dot(s).map(PathKind::Pointer),
        Some(b'$') => {
            if bracket_nesting(p) > MAX_BRACKETS {
                return Err(PathError::Illegal);
            }
            if let Some(steps) = parse_singular(s) {
                return Ok(PathKind::Singular(steps));
            }
            jsonpath_rust::parser::parse_json_path(s).map_err(|_| PathError::Illegal)?;
            Ok(PathKind::Multi(s.to_string()))
        }
        _ => Err(PathError::Illegal),
    }
}

/// Deepest nesting of `[`/`(` outside string literals.
pub fn bracket_nesting(p: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut quote: Option<u8> = None;
    let mut esc = false;
    for &c in p {
        if let Some(q) = quote {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            b'\'' | b'"' => quote = Some(c),
            b'[' | b'(' => {
                depth = depth.saturating_add(1);
                max = max.max(depth);
            }
            b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn parse_pointer(s: &str) -> Result<Vec<Step>, PathError> {
    let mut out = Vec::new();
    for tok in s.split('/').skip(1) {
        let mut t = String::with_capacity(tok.len());
        let mut it = tok.chars();
        while let Some(c) = it.next() {
            if c == '~' {
                match it.next() {
                    Some('0') => t.push('~'),
                    Some('1') => t.push('/'),
                    _ => return Err(PathError::Illegal),
                }
            } else {
                t.push(c);
            }
        }
        out.push(Step::Token(t));
    }
    Ok(out)
}

fn parse_dot(s: &str) -> Result<Vec<Step>, PathError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < b.len() {
        match b.get(i) {
            Some(b'.') => {
                let start = i + 1;
                let mut j = start;
                while let Some(&c) = b.get(j) {
                    if c == b'.' || c == b'[' {
                        break;
                    }
                    j += 1;
                }
                if j == start {
                    return Err(PathError::DotFail);
                }
                out.push(Step::Token(
                    s.get(start..j).ok_or(PathError::DotFail)?.to_string(),
                ));
                i = j;
            }
            Some(b'[') => match b.get(i + 1) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let start = i + 2;
                    let mut j = start;
                    while let Some(&c) = b.get(j) {
                        if c == q {
                            break;
                        }
                        j += 1;
                    }
                    if b.get(j) != Some(&q) || b.get(j + 1) != Some(&b']') {
                        return Err(PathError::DotFail);
                    }
                    out.push(Step::Token(
                        s.get(start..j).ok_or(PathError::DotFail)?.to_string(),
                    ));
                    i = j + 2;
                }
                _ => {
                    let start = i + 1;
                    let mut j = start;
                    while let Some(c) = b.get(j) {
                        if !c.is_ascii_digit() {
                            break;
                        }
                        j += 1;
                    }
                    if j == start || b.get(j) != Some(&b']') {
                        return Err(PathError::DotFail);
                    }
                    out.push(Step::Token(
                        s.get(start..j).ok_or(PathError::DotFail)?.to_string(),
                    ));
                    i = j + 1;
                }
            },
            _ => return Err(PathError::DotFail),
        }
    }
    Ok(out)
}

fn is_name_first(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

/// `$` followed by `.name`, `['..']`, `[".."]` or `[n]` segments only; `None` when not singular.
pub fn parse_singular(s: &str) -> Option<Vec<Step>> {
    if s.contains(['\'', '"']) {
        parse_singular_chars(s)
    } else {
        parse_singular_plain(s)
    }
}

/// [`parse_singular`] for paths without quoted names (the common `$.store.book[1].title`), on bytes:
/// the same grammar as [`parse_singular_chars`] (a non-ASCII character is a name character, and its
/// bytes are all non-ASCII, so slices end on character boundaries).
fn parse_singular_plain(s: &str) -> Option<Vec<Step>> {
    let b = s.as_bytes();
    if b.first() != Some(&b'$') {
        return None;
    }
    let name_first = |c: u8| c.is_ascii_alphabetic() || c == b'_' || c >= 0x80;
    let mut i = 1usize;
    let mut out = Vec::with_capacity(4);
    while i < b.len() {
        match *b.get(i)? {
            b'.' => {
                if !name_first(*b.get(i + 1)?) {
                    return None;
                }
                let mut j = i + 1;
                while b
                    .get(j)
                    .is_some_and(|&c| name_first(c) || c.is_ascii_digit())
                {
                    j += 1;
                }
                out.push(Step::Name(s.get(i + 1..j)?.to_string()));
                i = j;
            }
            b'[' => {
                let j = i + 1 + b.get(i + 1..)?.iter().position(|&c| c == b']')?;
                let num = s.get(i + 1..j)?;
                let digits = num.strip_prefix('-').unwrap_or(num);
                if digits.is_empty()
                    || !digits.bytes().all(|c| c.is_ascii_digit())
                    || (digits.len() > 1 && digits.starts_with('0'))
                    || num == "-0"
                {
                    return None;
                }
                out.push(Step::Index(num.parse().ok()?));
                i = j + 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// [`parse_singular`] on characters (quoted names with escapes).
fn parse_singular_chars(s: &str) -> Option<Vec<Step>> {
    let rest = s.strip_prefix('$')?;
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0usize;
    let mut out = Vec::new();
    while i < chars.len() {
        match chars.get(i)? {
            '.' => {
                let first = *chars.get(i + 1)?;
                if !is_name_first(first) {
                    return None;
                }
                let mut j = i + 1;
                let mut name = String::new();
                while let Some(&c) = chars.get(j) {
                    if is_name_first(c) || c.is_ascii_digit() {
                        name.push(c);
                        j += 1;
                    } else {
                        break;
                    }
                }
                out.push(Step::Name(name));
                i = j;
            }
            '[' => {
                let q = *chars.get(i + 1)?;
                if q == '\'' || q == '"' {
                    let mut j = i + 2;
                    let mut name = String::new();
                    loop {
                        let c = *chars.get(j)?;
                        j += 1;
                        if c == q {
                            break;
                        }
                        if c == '\\' {
                            let e = *chars.get(j)?;
                            j += 1;
                            match e {
                                'b' => name.push('\u{8}'),
                                'f' => name.push('\u{c}'),
                                'n' => name.push('\n'),
                                'r' => name.push('\r'),
                                't' => name.push('\t'),
                                '/' => name.push('/'),
                                '\\' => name.push('\\'),
                                '\'' if q == '\'' => name.push('\''),
                                '"' if q == '"' => name.push('"'),
                                'u' => {
                                    let hex: String = chars.get(j..j + 4)?.iter().collect();
                                    j += 4;
                                    let cp = u32::from_str_radix(&hex, 16).ok()?;
                                    if (0xD800..0xDC00).contains(&cp) {
                                        if chars.get(j) != Some(&'\\')
                                            || chars.get(j + 1) != Some(&'u')
                                        {
                                            return None;
                                        }
                                        let hex2: String =
                                            chars.get(j + 2..j + 6)?.iter().collect();
                                        j += 6;
                                        let lo = u32::from_str_radix(&hex2, 16).ok()?;
                                        if !(0xDC00..0xE000).contains(&lo) {
                                            return None;
                                        }
                                        let c = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                        name.push(char::from_u32(c)?);
                                    } else {
                                        name.push(char::from_u32(cp)?);
                                    }
                                }
                                _ => return None,
                            }
                        } else if (c as u32) < 0x20 {
                            return None;
                        } else {
                            name.push(c);
                        }
                    }
                    if chars.get(j) != Some(&']') {
                        return None;
                    }
                    out.push(Step::Name(name));
                    i = j + 1;
                } else {
                    let mut j = i + 1;
                    let mut num = String::new();
                    while let Some(&c) = chars.get(j) {
                        if c == ']' {
                            break;
                        }
                        num.push(c);
                        j += 1;
                    }
                    if chars.get(j) != Some(&']') {
                        return None;
                    }
                    let digits = num.strip_prefix('-').unwrap_or(&num);
                    if digits.is_empty()
                        || !digits.bytes().all(|c| c.is_ascii_digit())
                        || (digits.len() > 1 && digits.starts_with('0'))
                        || num == "-0"
                    {
                        return None;
                    }
                    out.push(Step::Index(num.parse().ok()?));
                    i = j + 1;
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Array index of a pointer token: `0` or `[1-9][0-9]*`.
pub(crate) fn token_index(t: &str) -> Option<usize> {
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) || (t.len() > 1 && t.starts_with('0'))
    {
        return None;
    }
    t.parse().ok()
}

pub(crate) fn array_index(len: usize, i: i64) -> Option<usize> {
    if i < 0 {
        let back = usize::try_from(i.unsigned_abs()).ok()?;
        len.checked_sub(back)
    } else {
        let i = usize::try_from(i).ok()?;
        (i < len).then_some(i)
    }
}

/// One step from `v`.
pub fn step<'a>(v: &'a Value, s: &Step) -> Option<&'a Value> {
    match (v, s) {
        (Value::Object(o), Step::Token(t) | Step::Name(t)) => o.get(t),
        (Value::Array(a), Step::Token(t)) => a.get(token_index(t)?),
        (Value::Array(a), Step::Index(i)) => a.get(array_index(a.len(), *i)?),
        _ => None,
    }
}

pub fn walk<'a>(mut v: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    for s in steps {
        v = step(v, s)?;
    }
    Some(v)
}

// ---- multi mode ---------------------------------------------------------------------------------------

/// The nodelist of a multi path as step lists (jsonpath-rust's normalized paths), in its order.
pub fn query_locations(root: &Value, path: &str) -> Result<Vec<Vec<Step>>, PathError> {
    let refs = jsonpath_rust::query::js_path(path, root).map_err(|_| PathError::Illegal)?;
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        out.push(parse_singular(&r.path).ok_or(PathError::Illegal)?);
    }
    Ok(out)
}

/// The nodelist values of a multi path.
pub fn query_values<'a>(root: &'a Value, path: &str) -> Result<Vec<&'a Value>, PathError> {
    jsonpath_rust::query::js_path_vals(path, root).map_err(|_| PathError::Illegal)
}

/// Positions (member index / element index) of a location, for document order.
fn positions(root: &Value, steps: &[Step]) -> Vec<usize> {
    let mut v = root;
    let mut out = Vec::with_capacity(steps.len());
    for s in steps {
        let pos = match (v, s) {
            (Value::Object(o), Step::Token(t) | Step::Name(t)) => o.keys().position(|k| k == t),
            (Value::Array(a), Step::Index(i)) => array_index(a.len(), *i),
            (Value::Array(_), Step::Token(t)) => token_index(t),
            _ => None,
        };
        out.push(pos.unwrap_or(usize::MAX));
        match step(v, s) {
            Some(n) => v = n,
            None => break,
        }
    }
    out
}

/// Distinct locations (first occurrence wins) paired with their nodelist slot, sorted in reverse
/// document order (descendants and later siblings first). Indexes are normalised to non-negative.
pub fn write_order(root: &Value, locs: &[Vec<Step>]) -> Vec<(usize, Vec<Step>)> {
    let mut seen: Vec<(Vec<usize>, usize)> = Vec::new();
    for (slot, l) in locs.iter().enumerate() {
        let p = positions(root, l);
        if !seen.iter().any(|(q, _)| *q == p) {
            seen.push((p, slot));
        }
    }
    seen.sort_by(|a, b| b.0.cmp(&a.0));
    seen.into_iter()
        .filter_map(|(p, slot)| {
            let l = locs.get(slot)?;
            let steps = l
                .iter()
                .zip(p.iter())
                .map(|(s, &i)| match s {
                    Step::Index(_) => Step::Index(i64::try_from(i).unwrap_or(i64::MAX)),
                    other => other.clone(),
                })
                .collect();
            Some((slot, steps))
        })
        .collect()
}

// ---- numbers ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Incr {
    Int(i64),
    Float(f64),
}

/// The increment grammar of spec 6.6.
pub fn parse_incr(b: &[u8]) -> Option<Incr> {
    let s = std::str::from_utf8(b).ok()?;
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(i) = s.parse::<i64>() {
            return Some(Incr::Int(i));
        }
    }
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(p) => (body.get(..p)?, Some(body.get(p + 1..)?)),
        None => (body, None),
    };
    let (ip, fp) = match mant.find('.') {
        Some(p) => (mant.get(..p)?, Some(mant.get(p + 1..)?)),
        None => (mant, None),
    };
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    let ok_mant = match fp {
        None => !ip.is_empty() && digits(ip),
        Some(f) => {
            digits(ip)
                && digits(f)
                && (!ip.is_empty() || !f.is_empty())
                && !(ip.is_empty() && f.is_empty())
        }
    };
    if !ok_mant || (ip.is_empty() && fp.is_some_and(|f| f.is_empty())) {
        return None;
    }
    if let Some(e) = exp {
        let eb = e.strip_prefix(['+', '-']).unwrap_or(e);
        if eb.is_empty() || !digits(eb) {
            return None;
        }
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(Incr::Float(f))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumError {
    NotNumber,
    Overflow,
    NonFinite,
}

/// Adds `inc` to the number node `v` in place; returns the new number.
pub fn incr(v: &mut Value, inc: Incr) -> Result<Value, NumError> {
    let Value::Number(n) = v else {
        return Err(NumError::NotNumber);
    };
    let new = match (n.as_i64(), n.as_u64(), inc) {
        (Some(a), _, Incr::Int(b)) => int_result(i128::from(a) + i128::from(b))?,
        (None, Some(a), Incr::Int(b)) => int_result(i128::from(a) + i128::from(b))?,
        _ => {
            let a = n.as_f64().ok_or(NumError::NotNumber)?;
            let b = match inc {
                Incr::Int(i) => i as f64,
                Incr::Float(f) => f,
            };
            let r = a + b;
            if !r.is_finite() {
                return Err(NumError::NonFinite);
            }
            serde_json::Number::from_f64(r).ok_or(NumError::NonFinite)?
        }
    };
    *v = Value::Number(new.clone());
    Ok(Value::Number(new))
}

fn int_result(r: i128) -> Result<serde_json::Number, NumError> {
    if let Ok(i) = i64::try_from(r) {
        Ok(i.into())
    } else if let Ok(u) = u64::try_from(r) {
        Ok(u.into())
    } else {
        Err(NumError::Overflow)
    }
}

pub fn type_name(v: &Value) -> &'static [u8] {
    match v {
        Value::Null => b"null",
        Value::Bool(_) => b"boolean",
        Value::Number(_) => b"number",
        Value::String(_) => b"string",
        Value::Array(_) => b"array",
        Value::Object(_) => b"object",
    }
}

// ---- formats ------------------------------------------------------------------------------------------

fn valid_xml_name(n: &str) -> bool {
    let mut it = n.bytes();
    match it.next() {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' => {}
        _ => return false,
    }
    it.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// XML rendering of spec §7 (iterative); `None` for an invalid element name.
pub fn to_xml(v: &Value, root: &str, arr: &str) -> Option<String> {
    enum Job<'a> {
        Open(&'a str, &'a Value),
        Close(&'a str),
    }
    if !valid_xml_name(root) || !valid_xml_name(arr) {
        return None;
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let mut stack = vec![Job::Open(root, v)];
    while let Some(j) = stack.pop() {
        match j {
            Job::Close(n) => {
                out.push_str("</");
                out.push_str(n);
                out.push('>');
            }
            Job::Open(n, v) => {
                if !valid_xml_name(n) {
                    return None;
                }
                out.push('<');
                out.push_str(n);
                out.push('>');
                stack.push(Job::Close(n));
                match v {
                    Value::Object(o) => {
                        for (k, c) in o.iter().rev() {
                            stack.push(Job::Open(k, c));
                        }
                    }
                    Value::Array(a) => {
                        for c in a.iter().rev() {
                            stack.push(Job::Open(arr, c));
                        }
                    }
                    Value::String(s) => {
                        for c in s.chars() {
                            match c {
                                '&' => out.push_str("&amp;"),
                                '<' => out.push_str("&lt;"),
                                '>' => out.push_str("&gt;"),
                                '\t' | '\n' | '\r' => out.push(c),
                                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                                    out.push_str(&format!("&#x{:X};", c as u32))
                                }
                                c => out.push(c),
                            }
                        }
                    }
                    Value::Null => {}
                    other => out.push_str(&other.to_string()),
                }
            }
        }
    }
    Some(out)
}

fn yaml_scalar(v: &Value) -> Option<String> {
    match v {
        Value::Array(a) if a.is_empty() => Some("[]".into()),
        Value::Object(o) if o.is_empty() => Some("{}".into()),
        Value::Array(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    }
}

/// YAML rendering of spec §7 (iterative).
pub fn to_yaml(v: &Value) -> String {
    if let Some(s) = yaml_scalar(v) {
        return s;
    }
    let mut lines: Vec<String> = Vec::new();
    // (value, indent)
    let mut stack: Vec<(Option<String>, &Value, usize)> = Vec::new();
    push_children(&mut stack, v, 0);
    while let Some((prefix, node, ind)) = stack.pop() {
        let pre = prefix.unwrap_or_default();
        match yaml_scalar(node) {
            Some(s) => lines.push(format!("{pre} {s}")),
            None => {
                lines.push(pre);
                push_children(&mut stack, node, ind + 2);
            }
        }
    }
    lines.join("\n")
}

fn push_children<'a>(
    stack: &mut Vec<(Option<String>, &'a Value, usize)>,
    v: &'a Value,
    ind: usize,
) {
    let pad = " ".repeat(ind);
    match v {
        Value::Object(o) => {
            for (k, c) in o.iter().rev() {
                let key = Value::String(k.clone()).to_string();
                stack.push((Some(format!("{pad}{key}:")), c, ind));
            }
        }
        Value::Array(a) => {
            for c in a.iter().rev() {
                stack.push((Some(format!("{pad}-")), c, ind));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_text_rejected() {
        let t = "[".repeat(100_000);
        assert_eq!(parse_json(t.as_bytes()), Err(JsonError::Depth));
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(parse_json(ok.as_bytes()).is_ok());
        let bad = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert_eq!(parse_json(bad.as_bytes()), Err(JsonError::Depth));
    }

    #[test]
    fn numbers_print() {
        for (i, o) in [
            ("1E2", "100.0"),
            ("-0", "-0.0"),
            ("1.7E307", "1.7e+307"),
            ("0.1", "0.1"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            let v = parse_json(i.as_bytes()).unwrap();
            assert_eq!(String::from_utf8(to_text(&v)).unwrap(), o, "{i}");
        }
        assert!(matches!(parse_json(b"1e400"), Err(JsonError::Lexer(..))));
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path(b"$", false), Ok(PathKind::Root));
        assert_eq!(parse_path(b"foo", false), Err(PathError::Illegal));
        assert_eq!(parse_path(b".a..b", false), Err(PathError::DotFail));
        assert_eq!(parse_path(b"[x]", false), Err(PathError::DotFail));
        assert_eq!(parse_path(b"/a~2", false), Err(PathError::Illegal));
        assert_eq!(
            parse_path(b"$.store.book[1]['ti\\'t']", false),
            Ok(PathKind::Singular(vec![
                Step::Name("store".into()),
                Step::Name("book".into()),
                Step::Index(1),
                Step::Name("ti't".into())
            ]))
        );
        assert!(matches!(parse_path(b"$..a", false), Ok(PathKind::Multi(_))));
        let deep = format!("${}", "[?(".repeat(5000));
        assert_eq!(parse_path(deep.as_bytes(), false), Err(PathError::Illegal));
    }

    #[test]
    fn walker_matches_jsonpath() {
        let doc = parse_json(
            br#"{"store":{"book":[{"t":"a"},{"t":"b","x y":[1,2,{"z":null}]}]},"k":"v"}"#,
        )
        .unwrap();
        for p in [
            "$.store",
            "$.store.book[1].t",
            "$.store.book[-1]['x y'][2].z",
            "$.store.book[5]",
            "$.k[0]",
            "$['k']",
        ] {
            let Ok(PathKind::Singular(steps)) = parse_path(p.as_bytes(), true) else {
                panic!("{p}")
            };
            let mine: Vec<&Value> = walk(&doc, &steps).into_iter().collect();
            assert_eq!(mine, query_values(&doc, p).unwrap(), "{p}");
        }
    }

    #[test]
    fn singular_fast_path_matches() {
        let mut r = Rng(7);
        let parts = [
            ".a",
            ".b1",
            "._x",
            ".\u{e9}t\u{e9}",
            "[0]",
            "[12]",
            "[-1]",
            "[-0]",
            "[01]",
            "[",
            "]",
            ".",
            ".1",
            "[x]",
            "[ 1]",
            "$",
            "..",
            "[99999999999999999999]",
            "-",
            "a",
        ];
        for _ in 0..20_000 {
            let mut p = String::from(if r.below(8) == 0 { "" } else { "$" });
            for _ in 0..r.below(5) {
                p.push_str(parts[r.below(parts.len() as u64) as usize]);
            }
            assert_eq!(parse_singular_plain(&p), parse_singular_chars(&p), "{p}");
        }
    }

    /// Whatever the fast parser accepts, serde_json parses to the same bytes and depth; on texts from
    /// random documents, their mutations, and number / string edge cases.
    #[test]
    fn fast_parser_agrees_with_serde() {
        fn check(t: &[u8]) -> bool {
            let mut fast = Vec::new();
            let Some(depth) = crate::fast::parse(t, &mut fast) else {
                return false;
            };
            let (r, _) = crate::store::parse_serde(t, Vec::new());
            let p = r.unwrap_or_else(|e| panic!("{e:?} {:?}", String::from_utf8_lossy(t)));
            let lossy = String::from_utf8_lossy(t);
            assert_eq!((p.buf, p.depth), (fast, depth), "{lossy:?}");
            true
        }
        for t in [
            "0",
            "-0",
            "-0.0",
            "1E2",
            "1e-400",
            "1e400",
            "-9223372036854775808",
            "-9223372036854775809",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "0.1",
            "1.7E307",
            "2.2250738585072014e-308",
            "123456789012345678901234567890",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e+",
            "\"\\u00e9\\ud83d\\ude00\\n\\/\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"a\u{1}\"",
            " [ 1 , {\"a\" : [ ] } ] ",
            "{\"a\":1,\"a\":2}",
            "[1,]",
            "{,}",
            "{\"a\"}",
            "tru",
            "nulll",
            "[1]x",
            "\"\u{e9}\u{1F600}\"",
        ] {
            check(t.as_bytes());
        }
        for t in [
            &b"\"\xff\""[..],
            b"\"ab\xc3\"",
            b"[\"\xe2\x82\"]",
            b"\"\\n\xff\"",
            b"\"\xed\xa0\x80\"",
            b"[1,\xc3\xa9]",
            b"{\"\xc3\xa9t\xc3\xa9 long enough for a word\xf0\x9f\x98\x80\":1}",
        ] {
            check(t);
        }
        assert!(check(
            b"{\"\xc3\xa9t\xc3\xa9 long enough\":\"\\n\xc3\xa9\"}"
        ));
        let mut r = Rng(0xDEAD_BEEF);
        let mut accepted = 0;
        for _ in 0..3000 {
            let doc = gen(&mut r, 0);
            let mut text = to_text(&doc);
            assert!(check(&text), "{doc}");
            accepted += 1;
            for _ in 0..4 {
                if text.is_empty() {
                    break;
                }
                let i = r.below(text.len() as u64) as usize;
                match r.below(3) {
                    0 => text[i] = b"[]{}\",:0-e.\\ u"[r.below(14) as usize],
                    1 => text.truncate(i),
                    _ => text.insert(i, b"1\"[]{}, "[r.below(8) as usize]),
                }
                accepted += usize::from(check(&text));
            }
        }
        assert!(accepted > 4000, "{accepted}");
    }

    #[test]
    fn yaml_xml() {
        let v = parse_json(br#"{"a":[1,{"b":null}],"c":"x"}"#).unwrap();
        assert_eq!(
            to_yaml(&v),
            "\"a\":\n  - 1\n  -\n    \"b\": null\n\"c\": \"x\""
        );
        let v = parse_json(br#"{"foo":"bar","baz":42}"#).unwrap();
        assert_eq!(
            to_xml(&v, "ROOT", "ARR").unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?><ROOT><foo>bar</foo><baz>42</baz></ROOT>"#
        );
    }

    #[test]
    fn incr_grammar() {
        assert_eq!(parse_incr(b"10"), Some(Incr::Int(10)));
        assert_eq!(parse_incr(b"3.2"), Some(Incr::Float(3.2)));
        assert_eq!(parse_incr(b"inf"), None);
        assert_eq!(parse_incr(b"1e400"), None);
        assert_eq!(parse_incr(b".5"), Some(Incr::Float(0.5)));
        assert_eq!(parse_incr(b"."), None);
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const NAMES: [&str; 5] = ["a", "b", "x y", "it's", "\u{e9}t\u{e9}"];

    fn gen(r: &mut Rng, depth: u32) -> Value {
        match if depth > 3 { r.below(4) } else { r.below(6) } {
            0 => Value::Null,
            1 => Value::from(r.next() as i64),
            2 => Value::from((r.below(100_000) as f64) / 7.0),
            3 => Value::from(NAMES[r.below(5) as usize]),
            4 => Value::Array((0..r.below(4)).map(|_| gen(r, depth + 1)).collect()),
            _ => Value::Object(
                (0..r.below(4))
                    .map(|_| (NAMES[r.below(5) as usize].to_string(), gen(r, depth + 1)))
                    .collect(),
            ),
        }
    }

    fn quote(n: &str) -> String {
        n.replace('\\', "\\\\").replace('\'', "\\'")
    }

    /// For random documents and random singular paths, the step walker and jsonpath-rust return the
    /// same node; print(parse(x)) round-trips.
    #[test]
    fn property_walker_vs_jsonpath_and_round_trip() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2000 {
            let doc = gen(&mut r, 0);
            let text = to_text(&doc);
            let back = parse_json(&text).unwrap();
            assert_eq!(back, doc);
            assert_eq!(to_text(&back), text);
            let mut p = String::from("$");
            for _ in 0..r.below(4) {
                match r.below(3) {
                    0 => p.push_str(&format!("[{}]", r.below(5) as i64 - 2)),
                    1 => p.push_str(&format!("['{}']", quote(NAMES[r.below(5) as usize]))),
                    _ => p.push_str(&format!(".{}", ["a", "b"][r.below(2) as usize])),
                }
            }
            let Ok(PathKind::Singular(steps)) = parse_path(p.as_bytes(), true) else {
                panic!("{p}")
            };
            let mine: Vec<&Value> = walk(&doc, &steps).into_iter().collect();
            let theirs = query_values(&doc, &p).unwrap();
            assert_eq!(mine, theirs, "{p} on {doc}");
            // the stored form: same text, same node from its walker
            let b = crate::store::parse(&text).unwrap().buf;
            assert_eq!(crate::store::text(&b, 0), text);
            let stored: Vec<Value> = crate::store::walk(&b, &steps, None)
                .map(|at| crate::store::to_value(&b, at))
                .into_iter()
                .collect();
            let theirs: Vec<Value> = theirs.into_iter().cloned().collect();
            assert_eq!(stored, theirs, "{p} on {doc}");
        }
    }
}
