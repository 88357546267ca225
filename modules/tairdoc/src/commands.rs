//! One function per command (spec tairdoc.md §6). Order of checks: arity → options → path → argument
//! values → key type → semantics. Everything is validated before the document is changed.

use std::ffi::CStr;

use serde_json::Value;
use tair_common::args::{eq_ic, parse_i64};
use tair_common::error::{CmdError, CmdResult, NOT_INTEGER_OR_OUT_OF_RANGE, SYNTAX};
use tair_common::propagate::replicate;
use tair_common::{Args, Ctx};

use crate::doc::{self, Incr, JsonError, NumError, PathError, PathKind, SetError, Step};
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

fn path_err(e: PathError) -> CmdError {
    match e {
        PathError::Illegal => ILLEGAL,
        PathError::DotFail => DOT_FAIL,
    }
}

fn json_err(e: JsonError) -> CmdError {
    match e {
        JsonError::Empty => EMPTY_JSON,
        JsonError::Depth => DEPTH,
        JsonError::Lexer(l, c) => {
            CmdError::msg(format!("ERR json lexer error at line {l} column {c}"))
        }
    }
}

fn path(b: &[u8]) -> CmdResult<PathKind> {
    doc::parse_path(b, false).map_err(path_err)
}

fn json(b: &[u8]) -> CmdResult<Value> {
    doc::parse_json(b).map_err(json_err)
}

fn wrong_arity(args: &Args) -> CmdError {
    args.wrong_arity()
}

fn propagate(ctx: &Ctx, name: &CStr, args: &Args) {
    let a: Vec<&[u8]> = args.iter().skip(1).collect();
    replicate(ctx, name, &a);
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

/// Locations of a multi path in write order (reverse document order), with nodelist slots.
/// Distinct locations with their nodelist slot, in write order.
type Located = Vec<(usize, Vec<Step>)>;

fn multi_locations(root: &Value, p: &str) -> CmdResult<(usize, Located)> {
    let locs = doc::query_locations(root, p).map_err(path_err)?;
    Ok((locs.len(), doc::write_order(root, &locs)))
}

fn delete_if_empty(ctx: &Ctx, key: &mut tair_common::WriteKey, args: &Args) -> CmdResult {
    let empty = match key.value::<Doc>()? {
        Some(d) => match &d.root {
            Value::Object(o) => o.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        },
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
    let vdepth = doc::depth(&v);
    let vnodes = doc::count_nodes(&v);
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        if xx {
            ctx.reply_null();
            return Ok(());
        }
        if p != PathKind::Root {
            return Err(AT_ROOT);
        }
        key.set_value(Doc {
            root: v,
            nodes: vnodes,
        })?;
        finish_set(ctx, &args);
        return Ok(());
    };
    match &p {
        PathKind::Multi(mp) => {
            let (_, locs) = multi_locations(&d.root, mp)?;
            if nx || locs.is_empty() {
                ctx.reply_null();
                return Ok(());
            }
            for (_, l) in &locs {
                if l.len().saturating_add(vdepth) > doc::MAX_DEPTH {
                    return Err(DEPTH);
                }
            }
            for (_, l) in &locs {
                if doc::exists(&d.root, l) {
                    let old = doc::set_at(&mut d.root, l, v.clone()).map_err(|_| INTERNAL)?;
                    d.nodes = d.nodes.saturating_sub(old).saturating_add(vnodes);
                }
            }
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            let exists = doc::exists(&d.root, steps);
            if (exists && nx) || (!exists && xx) {
                ctx.reply_null();
                return Ok(());
            }
            if !exists {
                doc::check_set(&d.root, steps).map_err(|e| match e {
                    SetError::NoParent => NO_PARENT,
                    SetError::BadIndex => BAD_INSERT,
                })?;
            }
            if steps.len().saturating_add(vdepth) > doc::MAX_DEPTH {
                return Err(DEPTH);
            }
            let old = doc::set_at(&mut d.root, steps, v).map_err(|e| match e {
                SetError::NoParent => NO_PARENT,
                SetError::BadIndex => BAD_INSERT,
            })?;
            d.nodes = d.nodes.saturating_sub(old).saturating_add(vnodes);
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

enum Fmt<'a> {
    Json,
    Xml(&'a str, &'a str),
    Yaml,
}

/// The reply value of a GET at `p`: Ok(None) = single-mode missing node.
fn get_value(root: &Value, p: &PathKind) -> CmdResult<Option<Value>> {
    Ok(match p {
        PathKind::Root => Some(root.clone()),
        PathKind::Pointer(s) => doc::walk(root, s).cloned(),
        PathKind::Singular(s) => Some(Value::Array(
            doc::walk(root, s).cloned().into_iter().collect(),
        )),
        PathKind::Multi(m) => Some(Value::Array(
            doc::query_values(root, m)
                .map_err(path_err)?
                .into_iter()
                .cloned()
                .collect(),
        )),
    })
}

pub fn get(ctx: &Ctx, args: Args) -> CmdResult {
    let is_opt = |a: &[u8]| eq_ic(a, b"format") || eq_ic(a, b"rootname") || eq_ic(a, b"arrname");
    let mut i = 2;
    let p = match args.get(2) {
        Some(a) if !is_opt(a) => {
            i = 3;
            doc::parse_path(a, true).map_err(path_err)?
        }
        _ => PathKind::Root,
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
    let v = get_value(&d.root, &p)?.ok_or(GET_MISSING)?;
    let fmt = match format {
        None => Fmt::Json,
        Some(true) => Fmt::Xml(
            std::str::from_utf8(rootname).map_err(|_| XML_NAME)?,
            std::str::from_utf8(arrname).map_err(|_| XML_NAME)?,
        ),
        Some(false) => Fmt::Yaml,
    };
    match fmt {
        Fmt::Json => ctx.reply_bulk(&text(&v)),
        Fmt::Xml(r, a) => ctx.reply_bulk(doc::to_xml(&v, r, a).ok_or(XML_NAME)?.as_bytes()),
        Fmt::Yaml => ctx.reply_bulk(doc::to_yaml(&v).as_bytes()),
    }
    Ok(())
}

pub fn mget(ctx: &Ctx, args: Args) -> CmdResult {
    let last = args.len().checked_sub(1).ok_or(SYNTAX)?;
    let p = doc::parse_path(args.at(last), true).map_err(path_err)?;
    ctx.reply_array(last.saturating_sub(1));
    for i in 1..last {
        let key = ctx.open_read(args.raw_arg(i)?);
        match key.value::<Doc>() {
            Ok(Some(d)) => match get_value(&d.root, &p) {
                Ok(Some(v)) => ctx.reply_bulk(&text(&v)),
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
            let (_, locs) = multi_locations(&d.root, m)?;
            let mut n = 0i64;
            for (_, l) in &locs {
                if l.is_empty() {
                    continue;
                }
                if let Some(c) = doc::remove_at(&mut d.root, l) {
                    d.nodes = d.nodes.saturating_sub(c);
                    n += 1;
                }
            }
            n
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            let c = doc::remove_at(&mut d.root, steps).ok_or(DEL_MISSING)?;
            d.nodes = d.nodes.saturating_sub(c);
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
            let vals = doc::query_values(&d.root, m).map_err(path_err)?;
            ctx.reply_array(vals.len());
            for v in vals {
                ctx.reply_bulk(doc::type_name(v));
            }
        }
        other => match doc::walk(&d.root, single_steps(other).ok_or(INTERNAL)?) {
            Some(v) => ctx.reply_bulk(doc::type_name(v)),
            None => ctx.reply_null(),
        },
    }
    Ok(())
}

// ---- increments ---------------------------------------------------------------------------------------

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
            let (n, locs) = multi_locations(&d.root, m)?;
            let mut res: Vec<Value> = vec![Value::Null; n];
            let mut changed = false;
            for (slot, l) in &locs {
                if let Some(node) = doc::walk_mut(&mut d.root, l) {
                    if let Ok(nv) = doc::incr(node, inc) {
                        changed = true;
                        if let Some(r) = res.get_mut(*slot) {
                            *r = nv;
                        }
                    }
                }
            }
            // duplicates in the nodelist report the value of their location
            let all = doc::query_locations(&d.root, m).map_err(path_err)?;
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
            let node = doc::walk_mut(&mut d.root, steps).ok_or(NOT_NUMBER)?;
            let nv = doc::incr(node, inc).map_err(|e| match e {
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
            let locs = doc::query_locations(&d.root, m).map_err(path_err)?;
            let order = doc::write_order(&d.root, &locs);
            for (_, l) in &order {
                if let Some(Value::String(x)) = doc::walk_mut(&mut d.root, l) {
                    x.push_str(s);
                    changed |= !s.is_empty();
                }
            }
            ctx.reply_array(locs.len());
            for l in &locs {
                match doc::walk(&d.root, l) {
                    Some(Value::String(x)) => ctx.reply_int(len_i(x.len())),
                    _ => ctx.reply_null(),
                }
            }
        }
        other => {
            let steps = single_steps(other).ok_or(INTERNAL)?;
            let Some(Value::String(x)) = doc::walk_mut(&mut d.root, steps) else {
                return Err(NOT_STRING);
            };
            x.push_str(s);
            changed = !s.is_empty();
            ctx.reply_int(len_i(x.len()));
        }
    }
    if changed {
        notify(ctx, c"exjsonstrappend", &args);
        propagate(ctx, c"EXJSONSTRAPPEND", &args);
    }
    Ok(())
}

/// Read-only per-node integer commands (STRLEN, ARRLEN).
fn read_len(ctx: &Ctx, args: Args, f: fn(&Value) -> Option<usize>, err: CmdError) -> CmdResult {
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
            let vals = doc::query_values(&d.root, m).map_err(path_err)?;
            ctx.reply_array(vals.len());
            for v in vals {
                match f(v) {
                    Some(n) => ctx.reply_int(len_i(n)),
                    None => ctx.reply_null(),
                }
            }
        }
        other => {
            let v = doc::walk(&d.root, single_steps(other).ok_or(INTERNAL)?);
            ctx.reply_int(len_i(v.and_then(f).ok_or(err)?));
        }
    }
    Ok(())
}

pub fn strlen(ctx: &Ctx, args: Args) -> CmdResult {
    read_len(ctx, args, |v| v.as_str().map(str::len), NOT_STRING)
}

pub fn arrlen(ctx: &Ctx, args: Args) -> CmdResult {
    read_len(ctx, args, |v| v.as_array().map(Vec::len), NOT_ARRAY)
}

// ---- arrays -------------------------------------------------------------------------------------------

/// Applies `op` to every array location (single or multi); replies integer / array of integer-or-nil.
/// `op` returns Ok(Some(new len)) when applied, Ok(None) for a per-location skip, Err for a single-mode
/// error.
fn array_op(
    ctx: &Ctx,
    args: &Args,
    p: &PathKind,
    d: &mut Doc,
    depth_add: usize,
    mut op: impl FnMut(&mut Vec<Value>) -> Result<(i64, isize), CmdError>,
) -> CmdResult<bool> {
    match p {
        PathKind::Multi(m) => {
            let (n, locs) = multi_locations(&d.root, m)?;
            let mut res: Vec<Option<i64>> = vec![None; n];
            let mut changed = false;
            for (slot, l) in &locs {
                if l.len().saturating_add(1).saturating_add(depth_add) > doc::MAX_DEPTH
                    && depth_add > 0
                {
                    continue;
                }
                if let Some(Value::Array(a)) = doc::walk_mut(&mut d.root, l) {
                    if let Ok((len, dn)) = op(a) {
                        changed = true;
                        d.nodes = d.nodes.saturating_add_signed(dn);
                        if let Some(r) = res.get_mut(*slot) {
                            *r = Some(len);
                        }
                    }
                }
            }
            let _ = args;
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
                && steps.len().saturating_add(1).saturating_add(depth_add) > doc::MAX_DEPTH
            {
                if let Some(Value::Array(_)) = doc::walk(&d.root, steps) {
                    return Err(DEPTH);
                }
            }
            let Some(Value::Array(a)) = doc::walk_mut(&mut d.root, steps) else {
                return Err(NOT_ARRAY);
            };
            let (len, dn) = op(a)?;
            d.nodes = d.nodes.saturating_add_signed(dn);
            ctx.reply_int(len);
            Ok(true)
        }
    }
}

fn parse_values(args: &Args, from: usize) -> CmdResult<(Vec<Value>, usize, usize)> {
    let mut vals = Vec::new();
    let mut depth = 0;
    let mut nodes = 0usize;
    for a in args.iter().skip(from) {
        let v = json(a)?;
        depth = depth.max(doc::depth(&v));
        nodes = nodes.saturating_add(doc::count_nodes(&v));
        vals.push(v);
    }
    Ok((vals, depth, nodes))
}

pub fn arrappend(ctx: &Ctx, args: Args) -> CmdResult {
    let p = path(args.at(2))?;
    let (vals, depth, nodes) = parse_values(&args, 3)?;
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    let changed = array_op(ctx, &args, &p, d, depth, |a| {
        a.extend(vals.iter().cloned());
        Ok((len_i(a.len()), isize::try_from(nodes).unwrap_or(isize::MAX)))
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
    let (vals, depth, nodes) = parse_values(&args, 4)?;
    let mut key = ctx.open_write(args.raw_arg(1)?);
    let Some(d) = key.value_mut::<Doc>()? else {
        ctx.reply_int(-1);
        return Ok(());
    };
    let changed = array_op(ctx, &args, &p, d, depth, |a| {
        let at = adjust(a.len(), idx)
            .filter(|&i| i <= a.len())
            .ok_or(OUTFLOW)?;
        let tail = a.split_off(at);
        a.extend(vals.iter().cloned());
        a.extend(tail);
        Ok((len_i(a.len()), isize::try_from(nodes).unwrap_or(isize::MAX)))
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
    let changed = array_op(ctx, &args, &p, d, 0, |a| {
        let (s, e) = match (usize::try_from(start), usize::try_from(stop)) {
            (Ok(s), Ok(e)) if s <= e && e < a.len() => (s, e),
            _ => return Err(OUTFLOW),
        };
        let mut removed = 0usize;
        for v in a.drain(e + 1..) {
            removed = removed.saturating_add(doc::count_nodes(&v));
            doc::drop_deep(v);
        }
        for v in a.drain(..s) {
            removed = removed.saturating_add(doc::count_nodes(&v));
            doc::drop_deep(v);
        }
        Ok((
            len_i(a.len()),
            -isize::try_from(removed).unwrap_or(isize::MAX),
        ))
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
    let pop = |a: &mut Vec<Value>| -> Option<Value> {
        let i = adjust(a.len(), idx).filter(|&i| i < a.len())?;
        Some(a.remove(i))
    };
    let changed = match &p {
        PathKind::Multi(m) => {
            let (n, locs) = multi_locations(&d.root, m)?;
            let mut res: Vec<Option<Vec<u8>>> = vec![None; n];
            for (slot, l) in &locs {
                if let Some(Value::Array(a)) = doc::walk_mut(&mut d.root, l) {
                    if let Some(v) = pop(a) {
                        d.nodes = d.nodes.saturating_sub(doc::count_nodes(&v));
                        if let Some(r) = res.get_mut(*slot) {
                            *r = Some(text(&v));
                        }
                        doc::drop_deep(v);
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
            let Some(Value::Array(a)) = doc::walk_mut(&mut d.root, steps) else {
                return Err(NOT_ARRAY);
            };
            let v = pop(a).ok_or(OUTFLOW)?;
            d.nodes = d.nodes.saturating_sub(doc::count_nodes(&v));
            ctx.reply_bulk(&text(&v));
            doc::drop_deep(v);
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
