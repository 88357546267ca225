//! Command sequences on the pure `exstrtype` value (EXSET, EXAPPEND / EXPREPEND, EXSETVER, EXINCRBY,
//! EXCAD, reload), applied as `commands.rs` applies them (`VersionArg::check` / `next` / `initial`,
//! `ExString::set` / `extend` / `set_version`, save / load), against a model that states the spec's rules directly: a plain byte
//! vector, a version and flags. After every step: same value, version and flags; the RDB form loads back
//! equal; MEMORY USAGE covers the bytes.
#![no_main]
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tair_common::args::parse_i64;
use tair_common::rdb::{SliceSource, VecSink};
use tairstring::exstring::{ExString, VersionArg, VersionError, MAX_VERSION};
use tairstring::persist;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Ver {
    None,
    /// Small, so that checks often match.
    Ver(u8),
    Abs(u64),
    AbsNear(u8),
}

impl Ver {
    fn arg(self) -> VersionArg {
        match self {
            Ver::None => VersionArg::None,
            Ver::Ver(v) => VersionArg::Ver(u64::from(v)),
            // Clients are limited to 0 ..= 2^63-1; the AOF / primary may carry any u64.
            Ver::Abs(v) => VersionArg::Abs(v),
            Ver::AbsNear(d) => VersionArg::Abs(MAX_VERSION - u64::from(d % 4)),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Set {
        value: Vec<u8>,
        ver: Ver,
        flags: Option<u32>,
        nx: bool,
        xx: bool,
    },
    Extend {
        data: Vec<u8>,
        prepend: bool,
        ver: Ver,
    },
    SetVer(u64),
    Incr {
        delta: i64,
        ver: Ver,
    },
    /// EXCAD: delete if the version matches.
    Cad(u8),
    Reload,
}

#[derive(Debug, Clone, PartialEq)]
struct Model {
    value: Vec<u8>,
    version: u64,
    flags: u32,
}

/// The spec's version rules, written out: `VER v` must name the current version (0 = any); a write
/// sets `ABS v` or raises by one, refusing to pass 2^63-1.
fn model_next(cur: u64, ver: Ver) -> Result<u64, VersionError> {
    let arg = ver.arg();
    if let VersionArg::Ver(v) = arg {
        if v != 0 && v != cur {
            return Err(VersionError::Stale);
        }
    }
    match arg {
        VersionArg::Abs(v) => Ok(v),
        _ if cur >= MAX_VERSION => Err(VersionError::Overflow),
        _ => Ok(cur + 1),
    }
}

fn model_initial(ver: Ver) -> u64 {
    match ver.arg() {
        VersionArg::Abs(v) => v,
        _ => 1,
    }
}

/// What a write does to the value once the version rules passed (as `commands.rs` applies it).
enum Change<'a> {
    /// EXSET / EXINCRBY's `store`: value, and flags if given.
    Set(&'a [u8], Option<u32>),
    /// EXAPPEND / EXPREPEND.
    Extend(&'a [u8], bool),
}

/// The value side, in the order `commands.rs` uses the pure API.
fn real_write(cur: &mut Option<ExString>, ver: Ver, change: Change) -> Result<u64, VersionError> {
    let arg = ver.arg();
    match cur {
        Some(v) => {
            arg.check(v.version())?;
            let next = arg.next(v.version())?;
            match change {
                Change::Set(value, flags) => {
                    let f = flags.unwrap_or(v.flags());
                    v.set(value, next, f);
                }
                Change::Extend(data, prepend) => {
                    v.extend(data, prepend).expect("far below the limit");
                    v.set_version(next);
                }
            }
            Ok(next)
        }
        None => {
            let v = match change {
                Change::Set(value, flags) => ExString::new(value, arg.initial(), flags.unwrap_or(0)),
                Change::Extend(data, _) => ExString::new(data, arg.initial(), 0),
            };
            let version = v.version();
            *cur = Some(v);
            Ok(version)
        }
    }
}

fn skip_form() -> bool {
    static SKIP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SKIP.get_or_init(|| std::env::var_os("FUZZ_SKIP_FORM").is_some_and(|v| v == "1"))
}

fn check(real: &Option<ExString>, model: &Option<Model>) {
    match (real, model) {
        (None, None) => {}
        (Some(r), Some(m)) => {
            assert_eq!(r.value(), &m.value[..]);
            assert_eq!(r.version(), m.version);
            assert_eq!(r.flags(), m.flags);
            let size = std::mem::size_of::<ExString>();
            assert!(r.mem_usage() >= size);
            assert!(r.mem_usage() >= r.value().len());
            // "Every write keeps the canonical form (inline whenever it fits)": the value is inline
            // (MEMORY USAGE = the value block alone) exactly when a fresh one with the same content is.
            // (FUZZ_SKIP_FORM=1 skips this check, to fuzz past a known finding of it.)
            let fresh = ExString::new(r.value(), r.version(), r.flags());
            if !skip_form() {
                assert_eq!(r.mem_usage() == size, fresh.mem_usage() == size, "form of {r:?}");
            }
            let mut out = VecSink::default();
            persist::save(r, &mut out);
            let back = persist::load(&mut SliceSource::new(&out.data), 0).expect("saved value loads");
            assert_eq!(&back, r);
        }
        _ => panic!("presence differs: {real:?} vs {model:?}"),
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut real: Option<ExString> = None;
    let mut model: Option<Model> = None;
    for op in ops {
        match op {
            Op::Set { value, ver, flags, nx, xx } => {
                if (nx && real.is_some()) || (xx && real.is_none()) {
                    continue;
                }
                let r = real_write(&mut real, ver, Change::Set(&value, flags));
                let m = match &mut model {
                    Some(m) => model_next(m.version, ver).map(|n| {
                        *m = Model { value: value.clone(), version: n, flags: flags.unwrap_or(m.flags) };
                        n
                    }),
                    None => {
                        let version = model_initial(ver);
                        model = Some(Model { value: value.clone(), version, flags: flags.unwrap_or(0) });
                        Ok(version)
                    }
                };
                assert_eq!(r, m);
            }
            Op::Extend { data, prepend, ver } => {
                let r = real_write(&mut real, ver, Change::Extend(&data, prepend));
                let m = match &mut model {
                    Some(m) => model_next(m.version, ver).map(|n| {
                        m.value = if prepend {
                            [&data[..], &m.value[..]].concat()
                        } else {
                            [&m.value[..], &data[..]].concat()
                        };
                        m.version = n;
                        n
                    }),
                    None => {
                        let version = model_initial(ver);
                        model = Some(Model { value: data.clone(), version, flags: 0 });
                        Ok(version)
                    }
                };
                assert_eq!(r, m);
            }
            Op::SetVer(v) => {
                let v = v.clamp(1, MAX_VERSION);
                if let Some(r) = &mut real {
                    r.set_version(v);
                }
                if let Some(m) = &mut model {
                    m.version = v;
                }
            }
            Op::Incr { delta, ver } => {
                // EXINCRBY: the stored text must be an integer; the version is checked before the sum.
                let stored = match &real {
                    Some(r) => match parse_i64(r.value()) {
                        Some(n) => Some(n),
                        None => continue,
                    },
                    None => None,
                };
                if let (Some(r), Err(_)) = (&real, ver.arg().check(real.as_ref().map_or(0, |r| r.version()))) {
                    assert_eq!(model_next(r.version(), ver), Err(VersionError::Stale));
                    continue;
                }
                let Some(sum) = stored.map_or(Some(delta), |n| n.checked_add(delta)) else {
                    continue;
                };
                let text = sum.to_string();
                let r = real_write(&mut real, ver, Change::Set(text.as_bytes(), None));
                let m = match &mut model {
                    Some(m) => {
                        let n: i64 = std::str::from_utf8(&m.value).unwrap().parse().unwrap();
                        assert_eq!(n.checked_add(delta), Some(sum));
                        model_next(m.version, ver).map(|nv| {
                            m.value = text.clone().into_bytes();
                            m.version = nv;
                            nv
                        })
                    }
                    None => {
                        let version = model_initial(ver);
                        model = Some(Model { value: text.clone().into_bytes(), version, flags: 0 });
                        Ok(version)
                    }
                };
                assert_eq!(r, m);
            }
            Op::Cad(v) => {
                let v = u64::from(v);
                if real.as_ref().is_some_and(|r| r.version() == v) {
                    real = None;
                }
                if model.as_ref().is_some_and(|m| m.version == v) {
                    model = None;
                }
            }
            Op::Reload => {
                if let Some(r) = &real {
                    let mut out = VecSink::default();
                    persist::save(r, &mut out);
                    real = Some(persist::load(&mut SliceSource::new(&out.data), 0).expect("reload"));
                }
            }
        }
        check(&real, &model);
    }
});
