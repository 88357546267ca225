//! One function per command (spec tairdoc.md §6). Order of checks: arity → options → path → argument
//! values → key type → semantics. Everything is validated before the document is changed.

use std::cell::RefCell;
use std::ffi::CStr;
use std::rc::Rc;

use serde_json::Value;
use tair_common::args::{eq_ic, parse_i64};
use tair_common::error::{CmdError, CmdResult, NOT_INTEGER_OR_OUT_OF_RANGE, SYNTAX};
use tair_common::propagate::{replicate_args, Arg};
use tair_common::{Args, Ctx};

use crate::doc::{self, Incr, JsonError, NumError, PathError, PathKind, Step};
use crate::store::{self, SetError, T_ARR, T_OBJ};
use crate::Doc;

const ILLEGAL: CmdError = CmdError::Static(c"ERR JSONPointer or JSONPath illegal");
const DOT_FAIL: CmdError = CmdError::Static(c"ERR json path to json pointer fail");
const EMPTY_JSON: CmdError = CmdError::Static(c"ERR the empty string is not a valid JSON value");
const DEPTH: CmdError = CmdError::Static(c"ERR json nesting depth exceeds 128");
const NO_KEY: CmdError = CmdError::Static(c"ERR no such key");
const AT_ROOT: CmdError = CmdError::Static(c"ERR new objects must be created at the root");
const NO_PARENT: CmdError =
    CmdError::Static(c"ERR could not find object to add, please check path");
const BAD_INSERT: CmdError = CmdError::Static(c"ERR insert item in array error, index error");
const GET_MISSING: CmdError = CmdError::Static(
    c"ERR pointer illegal or array index error or object type is not array or map",
);
const DEL_MISSING: CmdError = CmdError::Static(c"ERR old item is null for remove or replace");
const NOT_NUMBER: CmdError = CmdError::Static(c"ERR node not exists or not number type");
const NOT_STRING: CmdError = CmdError::Static(c"ERR node not exists or not string type");
const NOT_ARRAY: CmdError = CmdError::Static(c"ERR node not exists or not array type");
const OUTFLOW: CmdError = CmdError::Static(c"ERR array index outflow");
const OVERFLOW: CmdError = CmdError::Static(c"ERR increment or decrement would overflow");
const NAN: CmdError = CmdError::Static(c"ERR increment would produce NaN or Infinity");
const NOT_UTF8: CmdError = CmdError::Static(c"ERR json-string must be valid UTF-8");
const FORMAT: CmdError = CmdError::Static(c"ERR format error, must be yaml or xml");
const XML_NAME: CmdError = CmdError::Static(c"ERR invalid XML element name");
const INTERNAL: CmdError = CmdError::Static(c"ERR internal error");
const TOO_BIG: CmdError = CmdError::Static(c"ERR document too large");

fn path_err(e: PathError) -> CmdError {
    match e {
        PathError::Illegal => ILLEGAL,
        PathError::DotFail => DOT_FAIL,
    }
}

use crate::configs::max_depth;

fn json_err(e: JsonError) -> CmdError {
    match e {
        JsonError::Empty => EMPTY_JSON,
        JsonError::Depth => depth_error(),
        JsonError::Lexer(l, c) => {
            CmdError::msg(format!("ERR json lexer error at line {l} column {c}"))
        }
    }
}

fn set_err(e: SetError) -> CmdError {
    match e {
        SetError::NoParent => NO_PARENT,
        SetError::BadIndex => BAD_INSERT,
        SetError::TooBig => TOO_BIG,
    }
}

fn path(b: &[u8]) -> CmdResult<PathKind> {
    doc::parse_path(b, false).map_err(path_err)
}

fn json(b: &[u8]) -> CmdResult<store::Parsed> {
    let v = store::parse(b).map_err(json_err)?;
    if v.depth > max_depth() {
        return Err(depth_error());
    }
    Ok(v)
}

/// The depth error of the current limit (`tairdoc.max-depth`), counted in INFO.
fn depth_error() -> CmdError {
    crate::configs::DEPTH_REFUSALS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match max_depth() {
        doc::MAX_DEPTH => DEPTH,
        n => CmdError::msg(format!("ERR json nesting depth exceeds {n}")),
    }
}

/// Paths up to this length are kept parsed in [`PATHS`].
const CACHED_PATH: usize = 256;
/// How many parsed paths [`PATHS`] keeps.
const CACHED_PATHS: usize = 8;

/// A cached path: its bytes, whether a bare `$` was a JSONPath, the parsed path.
type CachedPath = (Box<[u8]>, bool, Rc<PathKind>);

thread_local! {
    /// The last few read paths, parsed (a read by the same path, the common case, skips parsing and its
    /// allocations).
    static PATHS: RefCell<Vec<CachedPath>> = const { RefCell::new(Vec::new()) };
}

/// [`doc::parse_path`] through the cache of parsed paths.
fn cached_path(b: &[u8], dollar_root: bool) -> CmdResult<Rc<PathKind>> {
    if b.len() > CACHED_PATH {
        return Ok(Rc::new(doc::parse_path(b, dollar_root).map_err(path_err)?));
    }
    PATHS.with(|c| {
        if let Ok(c) = c.try_borrow() {
            if let Some((_, _, p)) = c.iter().find(|(k, d, _)| **k == *b && *d == dollar_root) {
                return Ok(Rc::clone(p));
            }
        }
        let p = Rc::new(doc::parse_path(b, dollar_root).map_err(path_err)?);
        if let Ok(mut c) = c.try_borrow_mut() {
            if c.len() >= CACHED_PATHS {
                c.remove(0);
            }
            c.push((b.into(), dollar_root, Rc::clone(&p)));
        }
        Ok(p)
    })
}

fn wrong_arity(args: &Args) -> CmdError {
    args.wrong_arity()
}

/// Replicates the received arguments under the canonical name (the server strings, no copies).
fn propagate(ctx: &Ctx, name: &CStr, args: &Args) {
    let a: Vec<Arg> = (1..args.len())
        .filter_map(|i| args.raw(i))
        .map(Arg::Str)
        .collect();
    replicate_args(ctx, name, &a);
}

fn notify(ctx: &Ctx, ev: &CStr, args: &Args) {
    if let Some(k) = args.raw(1) {
        ctx.notify_module(ev, k);
    }
}

fn text(v: &Value) -> Vec<u8> {
    doc::to_text(v)
}

/// A single-mode target: root (no steps) or a step list.
fn single_steps(p: &PathKind) -> Option<&[Step]> {
    match p {
        PathKind::Root => Some(&[]),
        PathKind::Pointer(s) | PathKind::Singular(s) => Some(s),
        PathKind::Multi(_) => None,
    }
}

/// Distinct locations with their nodelist slot, in write order.
type Located = Vec<(usize, Vec<Step>)>;

/// A multi path on a `serde_json::Value` view of the document (built for this query only): the nodelist
/// length, and the distinct locations in write order (reverse document order).
fn multi_locations(d: &Doc, p: &str) -> CmdResult<(usize, Located)> {
    let view = store::to_value(&d.buf, 0);
    let locs = doc::query_locations(&view, p).map_err(path_err)?;
    Ok((locs.len(), doc::write_order(&view, &locs)))
}

fn delete_if_empty(ctx: &Ctx, key: &mut tair_common::WriteKey, args: &Args) -> CmdResult {
    let empty = match key.value::<Doc>()? {
        Some(d) => {
            matches!(store::tag(&d.buf, 0), Some(T_OBJ | T_ARR))
                && store::count(&d.buf, 0) == Some(0)
        }
        None => false,
    };
    if empty {
        key.delete()?;
        if let Some(k) = args.raw(1) {
            ctx.notify_generic(c"del", k);
        }
    }
    Ok(())
}

// ---- EXJSONSET ----------------------------------------------------------------------------------------

pub fn set(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() > 5 {
        return Err(wrong_arity(&args));
    }
    let (nx, xx) = match args.get(4) {
        None => (false, false),
        Some(f) if eq_ic(f, b"nx") => (true, false),
        Some(f) if eq_ic(f, b"xx") => (false, true),
        Some(_) => return Err(SYNTAX),
    };
    let p = path(args.at(2))?;
    let v = json(args.at(3))?;
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        if xx {
            ctx.reply_null();
            return Ok(());
        }
        if p != PathKind::Root {
            return Err(AT_ROOT);
        }
        key.set_value(Doc { buf: v.buf })?;
        finish_set(ctx, &args);
        return Ok(());
    };
    match &p {
        PathKind::Multi(mp) => {
            let (_, locs) = multi_locations(d, mp)?;
            if nx || locs.is_empty() {
                ctx.reply_null();
                return Ok(());
            }
            for (_, l) in &locs {
                if l.len().saturating_add(v.depth) > max_depth() {
                    return Err(depth_error());
                }
            }
            for (_, l) in &locs {
                if store::walk(&d.buf, l, None).is_some() {
                    store::set_at(&mut d.buf, l, &v.buf).map_err(set_err)?;
                }
            }
        }
        PathKind::Root => {
            if nx {
                ctx.reply_null();
                return Ok(());
            }
            // the parsed buffer becomes the document; the old one is freed whole
            d.buf = v.buf;
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            let exists = store::walk(&d.buf, steps, None).is_some();
            if (exists && nx) || (!exists && xx) {
                ctx.reply_null();
                return Ok(());
            }
            if !exists {
                store::check_set(&d.buf, steps).map_err(set_err)?;
            }
            if steps.len().saturating_add(v.depth) > max_depth() {
                return Err(depth_error());
            }
            store::set_at(&mut d.buf, steps, &v.buf).map_err(set_err)?;
        }
    }
    finish_set(ctx, &args);
    Ok(())
}

fn finish_set(ctx: &Ctx, args: &Args) {
    ctx.reply_ok();
    notify(ctx, c"exjsonset", args);
    propagate(ctx, c"EXJSONSET", args);
}

// ---- EXJSONGET / EXJSONMGET ---------------------------------------------------------------------------

/// What a GET at a path replies.
enum Got {
    /// A node of the document (root / pointer).
    Node(usize),
    /// A singular `$` path: `[node]` or `[]`.
    Wrapped(Option<usize>),
    /// A multi path's nodelist.
    List(Vec<Value>),
}

/// The reply of a GET at `p`: Ok(None) = single-mode missing node.
fn get_at(b: &[u8], p: &PathKind) -> CmdResult<Option<Got>> {
    Ok(match p {
        PathKind::Root => store::walk(b, &[], None).map(Got::Node),
        PathKind::Pointer(s) => store::walk(b, s, None).map(Got::Node),
        PathKind::Singular(s) => Some(Got::Wrapped(store::walk(b, s, None))),
        PathKind::Multi(m) => {
            let view = store::to_value(b, 0);
            Some(Got::List(
                doc::query_values(&view, m)
                    .map_err(path_err)?
                    .into_iter()
                    .cloned()
                    .collect(),
            ))
        }
    })
}

fn got_text(b: &[u8], g: Got) -> Vec<u8> {
    match g {
        Got::Node(at) => store::text(b, at),
        Got::Wrapped(None) => b"[]".to_vec(),
        Got::Wrapped(Some(at)) => {
            let mut out =
                Vec::with_capacity(store::end(b, at).unwrap_or(at).saturating_sub(at) + 16);
            out.push(b'[');
            store::write_text(b, at, &mut out);
            out.push(b']');
            out
        }
        Got::List(l) => text(&Value::Array(l)),
    }
}

fn got_value(b: &[u8], g: Got) -> Value {
    match g {
        Got::Node(at) => store::to_value(b, at),
        Got::Wrapped(n) => Value::Array(n.map(|at| store::to_value(b, at)).into_iter().collect()),
        Got::List(l) => Value::Array(l),
    }
}

pub fn get(ctx: &Ctx, args: Args) -> CmdResult {
    let is_opt = |a: &[u8]| eq_ic(a, b"format") || eq_ic(a, b"rootname") || eq_ic(a, b"arrname");
    let mut i = 2;
    let p = match args.get(2) {
        Some(a) if !is_opt(a) => {
            i = 3;
            cached_path(a, true)?
        }
        _ => cached_path(b"", true)?,
    };
    let mut format: Option<bool> = None; // Some(true) = xml
    let mut rootname: &[u8] = b"root";
    let mut arrname: &[u8] = b"array";
    while i < args.len() {
        let a = args.at(i);
        let val = args.get(i + 1).ok_or(SYNTAX)?;
        if eq_ic(a, b"format") {
            format = Some(if eq_ic(val, b"xml") {
                true
            } else if eq_ic(val, b"yaml") {
                false
            } else {
                return Err(FORMAT);
            });
        } else if eq_ic(a, b"rootname") {
            rootname = val;
        } else if eq_ic(a, b"arrname") {
            arrname = val;
        } else {
            return Err(SYNTAX);
        }
        i += 2;
    }
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(d) = key.value::<Doc>()? else {
        ctx.reply_null();
        return Ok(());
    };
    let g = get_at(&d.buf, &p)?.ok_or(GET_MISSING)?;
    match format {
        None => ctx.reply_bulk(&got_text(&d.buf, g)),
        Some(true) => {
            let r = std::str::from_utf8(rootname).map_err(|_| XML_NAME)?;
            let a = std::str::from_utf8(arrname).map_err(|_| XML_NAME)?;
            let v = got_value(&d.buf, g);
            ctx.reply_bulk(doc::to_xml(&v, r, a).ok_or(XML_NAME)?.as_bytes());
        }
        Some(false) => ctx.reply_bulk(doc::to_yaml(&got_value(&d.buf, g)).as_bytes()),
    }
    Ok(())
}

pub fn mget(ctx: &Ctx, args: Args) -> CmdResult {
    let last = args.len().checked_sub(1).ok_or(SYNTAX)?;
    let p = cached_path(args.at(last), true)?;
    ctx.reply_array(last.saturating_sub(1));
    for i in 1..last {
        let key = ctx.open_read(args.raw_arg(i)?);
        match key.value::<Doc>() {
            Ok(Some(d)) => match get_at(&d.buf, &p) {
                Ok(Some(g)) => ctx.reply_bulk(&got_text(&d.buf, g)),
                _ => ctx.reply_null(),
            },
            _ => ctx.reply_null(),
        }
    }
    Ok(())
}

// ---- EXJSONDEL ----------------------------------------------------------------------------------------

pub fn del(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() > 3 {
        return Err(wrong_arity(&args));
    }
    let p = match args.get(2) {
        Some(a) => path(a)?,
        None => PathKind::Root,
    };
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        ctx.reply_int(0);
        return Ok(());
    };
    let n = match &p {
        PathKind::Root => {
            key.delete()?;
            ctx.reply_int(1);
            notify(ctx, c"exjsondel", &args);
            if let Some(k) = args.raw(1) {
                ctx.notify_generic(c"del", k);
            }
            propagate(ctx, c"EXJSONDEL", &args);
            return Ok(());
        }
        PathKind::Multi(m) => {
            let (_, locs) = multi_locations(d, m)?;
            let mut n = 0i64;
            for (_, l) in &locs {
                if l.is_empty() {
                    continue;
                }
                if store::remove_at(&mut d.buf, l).is_some() {
                    n += 1;
                }
            }
            n
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            store::remove_at(&mut d.buf, steps).ok_or(DEL_MISSING)?;
            1
        }
    };
    ctx.reply_int(n);
    if n > 0 {
        notify(ctx, c"exjsondel", &args);
        propagate(ctx, c"EXJSONDEL", &args);
        delete_if_empty(ctx, &mut key, &args)?;
    }
    Ok(())
}

// ---- EXJSONTYPE ---------------------------------------------------------------------------------------

pub fn type_(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() > 3 {
        return Err(wrong_arity(&args));
    }
    let p = match args.get(2) {
        Some(a) => path(a)?,
        None => PathKind::Root,
    };
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(d) = key.value::<Doc>()? else {
        ctx.reply_null();
        return Ok(());
    };
    match &p {
        PathKind::Multi(m) => {
            let view = store::to_value(&d.buf, 0);
            let vals = doc::query_values(&view, m).map_err(path_err)?;
            ctx.reply_array(vals.len());
            for v in vals {
                ctx.reply_bulk(doc::type_name(v));
            }
        }
        other => match store::walk(&d.buf, single_steps(other).ok_or(INTERNAL)?, None) {
            Some(at) => ctx.reply_bulk(store::type_name(&d.buf, at)),
            None => ctx.reply_null(),
        },
    }
    Ok(())
}

// ---- increments ---------------------------------------------------------------------------------------

/// Adds `inc` to the number at `at` in place (numbers have a fixed width); returns the new number.
fn incr_node(b: &mut [u8], at: usize, inc: Incr) -> Result<Value, NumError> {
    let n = store::number(b, at).ok_or(NumError::NotNumber)?;
    let mut v = Value::Number(n);
    let nv = doc::incr(&mut v, inc)?;
    if let Value::Number(n) = &nv {
        store::write_number(b, at, n);
    }
    Ok(nv)
}

fn incr_common(
    ctx: &Ctx,
    args: Args,
    int_only: bool,
    name: &'static CStr,
    ev: &'static CStr,
) -> CmdResult {
    if args.len() > 4 {
        return Err(wrong_arity(&args));
    }
    let (p, vi) = if args.len() == 4 {
        (path(args.at(2))?, 3)
    } else {
        (PathKind::Root, 2)
    };
    let inc = doc::parse_incr(args.at(vi)).ok_or(NOT_INTEGER_OR_OUT_OF_RANGE)?;
    if int_only && !matches!(inc, Incr::Int(_)) {
        return Err(NOT_INTEGER_OR_OUT_OF_RANGE);
    }
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let d = key.value_mut::<Doc>()?.ok_or(NO_KEY)?;
    match &p {
        PathKind::Multi(m) => {
            let (n, locs) = multi_locations(d, m)?;
            let mut res: Vec<Value> = vec![Value::Null; n];
            let mut changed = false;
            for (slot, l) in &locs {
                if let Some(at) = store::walk(&d.buf, l, None) {
                    if let Ok(nv) = incr_node(&mut d.buf, at, inc) {
                        changed = true;
                        if let Some(r) = res.get_mut(*slot) {
                            *r = nv;
                        }
                    }
                }
            }
            // duplicates in the nodelist report the value of their location
            let view = store::to_value(&d.buf, 0);
            let all = doc::query_locations(&view, m).map_err(path_err)?;
            for (i, l) in all.iter().enumerate() {
                if res.get(i).is_some_and(Value::is_null) {
                    if let Some((s, _)) = locs.iter().find(|(_, x)| x == l) {
                        if let Some(v) = res.get(*s).cloned() {
                            if let Some(r) = res.get_mut(i) {
                                *r = v;
                            }
                        }
                    }
                }
            }
            ctx.reply_bulk(&text(&Value::Array(res)));
            if changed {
                notify(ctx, ev, &args);
                propagate(ctx, name, &args);
            }
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            let at = store::walk(&d.buf, steps, None).ok_or(NOT_NUMBER)?;
            let nv = incr_node(&mut d.buf, at, inc).map_err(|e| match e {
                NumError::NotNumber => NOT_NUMBER,
                NumError::Overflow => OVERFLOW,
                NumError::NonFinite => NAN,
            })?;
            ctx.reply_bulk(&text(&nv));
            notify(ctx, ev, &args);
            propagate(ctx, name, &args);
        }
    }
    Ok(())
}

pub fn numincrby(ctx: &Ctx, args: Args) -> CmdResult {
    incr_common(ctx, args, false, c"EXJSONNUMINCRBY", c"exjsonnumincrby")
}

pub fn incrby(ctx: &Ctx, args: Args) -> CmdResult {
    incr_common(ctx, args, true, c"EXJSONINCRBY", c"exjsonincrby")
}

pub fn incrbyfloat(ctx: &Ctx, args: Args) -> CmdResult {
    incr_common(ctx, args, false, c"EXJSONINCRBYFLOAT", c"exjsonincrbyfloat")
}

// ---- strings ------------------------------------------------------------------------------------------

fn len_i(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Appends `s` to the string at `steps`; the new byte length, or None when not a string.
fn append_at(b: &mut Vec<u8>, steps: &[Step], s: &str) -> CmdResult<Option<usize>> {
    let mut anc = Vec::with_capacity(steps.len());
    let Some(at) = store::walk(b, steps, Some(&mut anc)) else {
        return Ok(None);
    };
    let Some(old) = store::str_bytes(b, at) else {
        return Ok(None);
    };
    let len = old.len().saturating_add(s.len());
    if s.is_empty() {
        return Ok(Some(len));
    }
    let mut joined = Vec::with_capacity(len);
    joined.extend_from_slice(old);
    joined.extend_from_slice(s.as_bytes());
    let mut new = Vec::with_capacity(len + 6);
    store::put_str(&mut new, &joined).map_err(|_| TOO_BIG)?;
    let e = store::end(b, at).ok_or(INTERNAL)?;
    store::splice(b, &anc, at..e, &new, 0).map_err(|_| TOO_BIG)?;
    Ok(Some(len))
}

pub fn strappend(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() > 4 {
        return Err(wrong_arity(&args));
    }
    let (p, si) = if args.len() == 4 {
        (path(args.at(2))?, 3)
    } else {
        (PathKind::Root, 2)
    };
    let s = std::str::from_utf8(args.at(si)).map_err(|_| NOT_UTF8)?;
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    let mut changed = false;
    match &p {
        PathKind::Multi(m) => {
            let view = store::to_value(&d.buf, 0);
            let locs = doc::query_locations(&view, m).map_err(path_err)?;
            let order = doc::write_order(&view, &locs);
            drop(view);
            for (_, l) in &order {
                if append_at(&mut d.buf, l, s)?.is_some() {
                    changed |= !s.is_empty();
                }
            }
            ctx.reply_array(locs.len());
            for l in &locs {
                match store::walk(&d.buf, l, None).and_then(|at| store::str_bytes(&d.buf, at)) {
                    Some(x) => ctx.reply_int(len_i(x.len())),
                    None => ctx.reply_null(),
                }
            }
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            let len = append_at(&mut d.buf, steps, s)?.ok_or(NOT_STRING)?;
            changed = !s.is_empty();
            ctx.reply_int(len_i(len));
        }
    }
    if changed {
        notify(ctx, c"exjsonstrappend", &args);
        propagate(ctx, c"EXJSONSTRAPPEND", &args);
    }
    Ok(())
}

/// Read-only per-node integer commands (STRLEN, ARRLEN): `fv` on a multi path's values, `fb` on a node.
fn read_len(
    ctx: &Ctx,
    args: Args,
    fv: fn(&Value) -> Option<usize>,
    fb: fn(&[u8], usize) -> Option<usize>,
    err: CmdError,
) -> CmdResult {
    if args.len() > 3 {
        return Err(wrong_arity(&args));
    }
    let p = match args.get(2) {
        Some(a) => path(a)?,
        None => PathKind::Root,
    };
    let key = ctx.open_read(args.raw_arg(1)?);
    let Some(d) = key.value::<Doc>()? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    match &p {
        PathKind::Multi(m) => {
            let view = store::to_value(&d.buf, 0);
            let vals = doc::query_values(&view, m).map_err(path_err)?;
            ctx.reply_array(vals.len());
            for v in vals {
                match fv(v) {
                    Some(n) => ctx.reply_int(len_i(n)),
                    None => ctx.reply_null(),
                }
            }
        }
        other => {
            let at = store::walk(&d.buf, single_steps(other).ok_or(INTERNAL)?, None);
            ctx.reply_int(len_i(at.and_then(|at| fb(&d.buf, at)).ok_or(err)?));
        }
    }
    Ok(())
}

pub fn strlen(ctx: &Ctx, args: Args) -> CmdResult {
    read_len(
        ctx,
        args,
        |v| v.as_str().map(str::len),
        |b, at| store::str_bytes(b, at).map(<[u8]>::len),
        NOT_STRING,
    )
}

pub fn arrlen(ctx: &Ctx, args: Args) -> CmdResult {
    read_len(
        ctx,
        args,
        |v| v.as_array().map(Vec::len),
        |b, at| {
            if store::tag(b, at) == Some(T_ARR) {
                store::count(b, at)
            } else {
                None
            }
        },
        NOT_ARRAY,
    )
}

// ---- arrays -------------------------------------------------------------------------------------------

/// An array of the document being changed: the buffer, the array's offset and its ancestors (root
/// first, the array itself last).
struct ArrayAt<'a> {
    b: &'a mut Vec<u8>,
    anc: Vec<usize>,
    at: usize,
}

impl ArrayAt<'_> {
    fn len(&self) -> usize {
        store::count(self.b, self.at).unwrap_or(0)
    }

    /// Offset of element `i`, or the end of the array for `i == len`.
    fn offset(&self, i: usize) -> CmdResult<usize> {
        if i == self.len() {
            store::end(self.b, self.at).ok_or(INTERNAL)
        } else {
            store::elem(self.b, self.at, i).ok_or(INTERNAL)
        }
    }

    fn splice(&mut self, r: std::ops::Range<usize>, new: &[u8], dcount: i64) -> CmdResult {
        store::splice(self.b, &self.anc, r, new, dcount).map_err(|_| TOO_BIG)
    }
}

/// The array at `steps` for an edit; None when the node is missing or not an array.
fn array_at<'a>(b: &'a mut Vec<u8>, steps: &[Step]) -> Option<ArrayAt<'a>> {
    let mut anc = Vec::with_capacity(steps.len() + 1);
    let at = store::walk(b, steps, Some(&mut anc))?;
    if store::tag(b, at) != Some(T_ARR) {
        return None;
    }
    anc.push(at);
    Some(ArrayAt { b, anc, at })
}

/// Applies `op` to every array location (single or multi); replies integer / array of integer-or-nil.
/// `op` returns Ok(new len) when applied, Err for a per-location skip (multi) or the error (single).
fn array_op(
    ctx: &Ctx,
    p: &PathKind,
    d: &mut Doc,
    depth_add: usize,
    mut op: impl FnMut(&mut ArrayAt) -> CmdResult<i64>,
) -> CmdResult<bool> {
    match p {
        PathKind::Multi(m) => {
            let (n, locs) = multi_locations(d, m)?;
            let mut res: Vec<Option<i64>> = vec![None; n];
            let mut changed = false;
            for (slot, l) in &locs {
                if l.len().saturating_add(1).saturating_add(depth_add) > max_depth()
                    && depth_add > 0
                {
                    continue;
                }
                if let Some(mut a) = array_at(&mut d.buf, l) {
                    if let Ok(len) = op(&mut a) {
                        changed = true;
                        if let Some(r) = res.get_mut(*slot) {
                            *r = Some(len);
                        }
                    }
                }
            }
            ctx.reply_array(n);
            for r in res {
                match r {
                    Some(v) => ctx.reply_int(v),
                    None => ctx.reply_null(),
                }
            }
            Ok(changed)
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            if depth_add > 0
                && steps.len().saturating_add(1).saturating_add(depth_add) > max_depth()
            {
                if let Some(at) = store::walk(&d.buf, steps, None) {
                    if store::tag(&d.buf, at) == Some(T_ARR) {
                        return Err(depth_error());
                    }
                }
            }
            let mut a = array_at(&mut d.buf, steps).ok_or(NOT_ARRAY)?;
            let len = op(&mut a)?;
            ctx.reply_int(len);
            Ok(true)
        }
    }
}

/// The JSON arguments from `from` on, encoded one after the other: (bytes, count, max depth).
fn parse_values(args: &Args, from: usize) -> CmdResult<(Vec<u8>, usize, usize)> {
    let mut vals = Vec::new();
    let mut depth = 0;
    let mut n = 0usize;
    for a in args.iter().skip(from) {
        let v = json(a)?;
        depth = depth.max(v.depth);
        vals.extend_from_slice(&v.buf);
        n += 1;
    }
    Ok((vals, n, depth))
}

fn count_i(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn arrappend(ctx: &Ctx, args: Args) -> CmdResult {
    let p = path(args.at(2))?;
    let (vals, n, depth) = parse_values(&args, 3)?;
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    let changed = array_op(ctx, &p, d, depth, |a| {
        let e = a.offset(a.len())?;
        a.splice(e..e, &vals, count_i(n))?;
        Ok(len_i(a.len()))
    })?;
    if changed {
        notify(ctx, c"exjsonarrappend", &args);
        propagate(ctx, c"EXJSONARRAPPEND", &args);
    }
    Ok(())
}

fn adjust(len: usize, i: i64) -> Option<usize> {
    if i < 0 {
        len.checked_sub(usize::try_from(i.unsigned_abs()).ok()?)
    } else {
        usize::try_from(i).ok()
    }
}

pub fn arrinsert(ctx: &Ctx, args: Args) -> CmdResult {
    let p = path(args.at(2))?;
    let idx = parse_i64(args.at(3)).ok_or(NOT_INTEGER_OR_OUT_OF_RANGE)?;
    let (vals, n, depth) = parse_values(&args, 4)?;
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    let changed = array_op(ctx, &p, d, depth, |a| {
        let len = a.len();
        let at = adjust(len, idx).filter(|&i| i <= len).ok_or(OUTFLOW)?;
        let off = a.offset(at)?;
        a.splice(off..off, &vals, count_i(n))?;
        Ok(len_i(a.len()))
    })?;
    if changed {
        notify(ctx, c"exjsonarrinsert", &args);
        propagate(ctx, c"EXJSONARRINSERT", &args);
    }
    Ok(())
}

pub fn arrtrim(ctx: &Ctx, args: Args) -> CmdResult {
    let p = path(args.at(2))?;
    let start = parse_i64(args.at(3)).ok_or(NOT_INTEGER_OR_OUT_OF_RANGE)?;
    let stop = parse_i64(args.at(4)).ok_or(NOT_INTEGER_OR_OUT_OF_RANGE)?;
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    let changed = array_op(ctx, &p, d, 0, |a| {
        let len = a.len();
        let (s, e) = match (usize::try_from(start), usize::try_from(stop)) {
            (Ok(s), Ok(e)) if s <= e && e < len => (s, e),
            _ => return Err(OUTFLOW),
        };
        // the tail first, so the head's offsets stay valid
        let tail = a.offset(e + 1)?;
        let end = a.offset(len)?;
        a.splice(tail..end, &[], -count_i(len - e - 1))?;
        let first = a.offset(0)?;
        let keep = a.offset(s)?;
        a.splice(first..keep, &[], -count_i(s))?;
        Ok(len_i(a.len()))
    })?;
    if changed {
        notify(ctx, c"exjsonarrtrim", &args);
        propagate(ctx, c"EXJSONARRTRIM", &args);
    }
    Ok(())
}

pub fn arrpop(ctx: &Ctx, args: Args) -> CmdResult {
    if args.len() > 4 {
        return Err(wrong_arity(&args));
    }
    let p = path(args.at(2))?;
    let idx = match args.get(3) {
        Some(a) => parse_i64(a).ok_or(NOT_INTEGER_OR_OUT_OF_RANGE)?,
        None => -1,
    };
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let d = key.value_mut::<Doc>()?.ok_or(NO_KEY)?;
    // the popped element's text, or None when the index is out of range
    let pop = |a: &mut ArrayAt| -> CmdResult<Option<Vec<u8>>> {
        let len = a.len();
        let Some(i) = adjust(len, idx).filter(|&i| i < len) else {
            return Ok(None);
        };
        let e = a.offset(i)?;
        let t = store::text(a.b, e);
        let ee = store::end(a.b, e).ok_or(INTERNAL)?;
        a.splice(e..ee, &[], -1)?;
        Ok(Some(t))
    };
    let changed = match &p {
        PathKind::Multi(m) => {
            let (n, locs) = multi_locations(d, m)?;
            let mut res: Vec<Option<Vec<u8>>> = vec![None; n];
            for (slot, l) in &locs {
                if let Some(mut a) = array_at(&mut d.buf, l) {
                    if let Some(t) = pop(&mut a)? {
                        if let Some(r) = res.get_mut(*slot) {
                            *r = Some(t);
                        }
                    }
                }
            }
            ctx.reply_array(n);
            let mut changed = false;
            for r in res {
                match r {
                    Some(t) => {
                        changed = true;
                        ctx.reply_bulk(&t);
                    }
                    None => ctx.reply_null(),
                }
            }
            changed
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            let mut a = array_at(&mut d.buf, steps).ok_or(NOT_ARRAY)?;
            let t = pop(&mut a)?.ok_or(OUTFLOW)?;
            ctx.reply_bulk(&t);
            true
        }
    };
    if changed {
        notify(ctx, c"exjsonarrpop", &args);
        propagate(ctx, c"EXJSONARRPOP", &args);
        delete_if_empty(ctx, &mut key, &args)?;
    }
    Ok(())
}
