//! A module data type: the trait a value implements, and the guarded `extern "C"` callbacks the server
//! calls (rdb_load/save, aof_rewrite, mem_usage, digest, free, copy, free_effort), generated once here.

use std::ffi::{c_int, c_void, CString};
use std::sync::atomic::{AtomicI64, AtomicPtr, Ordering};

use crate::api;
use crate::ffi::raw;
use crate::guard::catch;
use crate::log;
use crate::rdb::{AofWriter, Digest, RdbError, RdbReader, RdbWriter};
use crate::string::str_bytes;

/// The registered server type of a module value.
pub struct DataType {
    ptr: AtomicPtr<raw::RedisModuleType>,
}

impl DataType {
    pub const fn new() -> Self {
        DataType {
            ptr: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    pub fn get(&self) -> *mut raw::RedisModuleType {
        self.ptr.load(Ordering::Relaxed)
    }
}

impl Default for DataType {
    fn default() -> Self {
        Self::new()
    }
}

/// A value stored in a key by a module.
pub trait ModuleValue: Sized + 'static {
    /// The 9-character type name `TYPE` replies.
    const NAME: &'static str;
    /// The encoding version written by this build.
    const ENCVER: i32;

    fn data_type() -> &'static DataType;

    /// Reads a value written with encoding version `encver` (any version ever written).
    fn rdb_load(r: &mut RdbReader, encver: i32) -> Result<Self, RdbError>;
    fn rdb_save(&self, w: &mut RdbWriter);
    /// Emits commands that rebuild the value exactly.
    fn aof_rewrite(&self, w: &mut AofWriter, key: &[u8]);
    /// Bytes used, as MEMORY USAGE reports.
    fn mem_usage(&self) -> usize;
    /// Feeds DEBUG DIGEST.
    fn digest(&self, d: &mut Digest);
    /// A deep copy for COPY; `None` refuses the copy.
    fn copy_value(&self) -> Option<Self>;
    /// How much work freeing takes (elements); small values are freed synchronously.
    fn free_effort(&self) -> usize {
        1
    }
    /// Called when the key is removed from the key space (before `free`), with its name.
    fn unlink(&self, _key: &[u8]) {}
}

/// Values of this module's types alive in the server (key space, and datasets being loaded): each
/// module library has its own copy. INFO shows it as `<module>_keys`.
static LIVE: AtomicI64 = AtomicI64::new(0);

/// Counts a value handed to the server (+1) or freed by it (-1).
#[inline]
pub(crate) fn count_live(delta: i64) {
    LIVE.fetch_add(delta, Ordering::Relaxed);
}

/// Values of this module's types alive now.
pub fn live_values() -> u64 {
    u64::try_from(LIVE.load(Ordering::Relaxed)).unwrap_or(0)
}

unsafe extern "C" fn cb_rdb_load<T: ModuleValue>(
    rdb: *mut raw::RedisModuleIO,
    encver: c_int,
) -> *mut c_void {
    let r = catch(|| {
        if encver > T::ENCVER || encver < 0 {
            return Err(RdbError::msg(format!("unknown encoding version {encver}")));
        }
        let mut reader = RdbReader::new(rdb);
        T::rdb_load(&mut reader, encver)
    });
    match r {
        Some(Ok(v)) => {
            count_live(1);
            Box::into_raw(Box::new(v)).cast()
        }
        Some(Err(e)) => {
            log::warning(&format!("{}: rdb load failed: {e}", T::NAME));
            std::ptr::null_mut()
        }
        None => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn cb_rdb_save<T: ModuleValue>(rdb: *mut raw::RedisModuleIO, value: *mut c_void) {
    // SAFETY: the server passes a value of our type created as Box<T>.
    if let Some(v) = unsafe { value.cast::<T>().as_ref() } {
        let mut w = RdbWriter::new(rdb);
        // A value cut short would be reported saved: a snapshot that cannot load, or a replica
        // that cannot sync. Better no snapshot (in a fork child: BGSAVE fails) than a corrupt one.
        let save = || {
            if crate::guard::faults_on() {
                crate::guard::fault(crate::guard::Fault::Save, b"");
            }
            v.rdb_save(&mut w)
        };
        if catch(save).is_none() {
            crate::guard::fatal(&format!("{}: a panic while saving a value", T::NAME));
        }
    }
}

unsafe extern "C" fn cb_aof_rewrite<T: ModuleValue>(
    aof: *mut raw::RedisModuleIO,
    key: *mut raw::RedisModuleString,
    value: *mut c_void,
) {
    // SAFETY: value of our type.
    if let Some(v) = unsafe { value.cast::<T>().as_ref() } {
        let mut w = AofWriter::new(aof);
        let k = str_bytes(key);
        if catch(|| v.aof_rewrite(&mut w, k)).is_none() {
            crate::guard::fatal(&format!("{}: a panic while rewriting a value", T::NAME));
        }
    }
}

unsafe extern "C" fn cb_mem_usage<T: ModuleValue>(value: *const c_void) -> usize {
    // SAFETY: value of our type.
    match unsafe { value.cast::<T>().as_ref() } {
        Some(v) => catch(|| v.mem_usage()).unwrap_or(0),
        None => 0,
    }
}

unsafe extern "C" fn cb_digest<T: ModuleValue>(
    md: *mut raw::RedisModuleDigest,
    value: *mut c_void,
) {
    // SAFETY: value of our type.
    if let Some(v) = unsafe { value.cast::<T>().as_ref() } {
        let mut d = Digest::new(md);
        let _ = catch(|| v.digest(&mut d));
    }
}

unsafe extern "C" fn cb_free<T: ModuleValue>(value: *mut c_void) {
    if value.is_null() {
        return;
    }
    // SAFETY: created by Box::into_raw of a T; the server frees each value exactly once. May run on a
    // background thread (lazy free): dropping touches only memory the value owns.
    let b = unsafe { Box::from_raw(value.cast::<T>()) };
    count_live(-1);
    let _ = catch(move || drop(b));
}

unsafe extern "C" fn cb_copy<T: ModuleValue>(
    _from: *mut raw::RedisModuleString,
    _to: *mut raw::RedisModuleString,
    value: *const c_void,
) -> *mut c_void {
    // SAFETY: value of our type.
    match unsafe { value.cast::<T>().as_ref() } {
        Some(v) => match catch(|| v.copy_value()).flatten() {
            Some(c) => {
                count_live(1);
                Box::into_raw(Box::new(c)).cast()
            }
            None => std::ptr::null_mut(),
        },
        None => std::ptr::null_mut(),
    }
}

unsafe extern "C" fn cb_free_effort<T: ModuleValue>(
    _key: *mut raw::RedisModuleString,
    value: *const c_void,
) -> usize {
    // SAFETY: value of our type.
    match unsafe { value.cast::<T>().as_ref() } {
        Some(v) => catch(|| v.free_effort()).unwrap_or(1),
        None => 1,
    }
}

unsafe extern "C" fn cb_unlink<T: ModuleValue>(
    key: *mut raw::RedisModuleString,
    value: *const c_void,
) {
    // SAFETY: value of our type.
    if let Some(v) = unsafe { value.cast::<T>().as_ref() } {
        let k = str_bytes(key);
        let _ = catch(|| v.unlink(k));
    }
}

/// Creates the data type `T` during OnLoad.
pub fn create_type<T: ModuleValue>(ctx: *mut raw::RedisModuleCtx) -> Result<(), String> {
    if T::NAME.len() != 9 {
        return Err(format!("type name {} must have 9 characters", T::NAME));
    }
    let name = CString::new(T::NAME).map_err(|_| "bad type name".to_string())?;
    // SAFETY: an all-zero methods struct is "no callbacks"; we fill in what we implement.
    let mut m: raw::RedisModuleTypeMethods = unsafe { std::mem::zeroed() };
    m.version = u64::from(raw::REDISMODULE_TYPE_METHOD_VERSION);
    m.rdb_load = Some(cb_rdb_load::<T>);
    m.rdb_save = Some(cb_rdb_save::<T>);
    m.aof_rewrite = Some(cb_aof_rewrite::<T>);
    m.mem_usage = Some(cb_mem_usage::<T>);
    m.digest = Some(cb_digest::<T>);
    m.free = Some(cb_free::<T>);
    m.copy = Some(cb_copy::<T>);
    m.free_effort = Some(cb_free_effort::<T>);
    m.unlink = Some(cb_unlink::<T>);
    // SAFETY: valid OnLoad ctx; the server copies the methods struct.
    let t = unsafe { api!(RedisModule_CreateDataType)(ctx, name.as_ptr(), T::ENCVER, &mut m) };
    if t.is_null() {
        return Err(format!("could not create data type {}", T::NAME));
    }
    T::data_type().ptr.store(t, Ordering::Relaxed);
    Ok(())
}
