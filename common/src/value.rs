//! A module data type: the trait a value implements, and the guarded `extern "C"` callbacks the server
//! calls (rdb_load/save, aof_rewrite, mem_usage, digest, free, copy, free_effort, defrag), generated once
//! here; and [`Defrag`], what a value's `defrag` moves its blocks with.

use std::ffi::{c_int, c_ulong, c_void, CString};
use std::ptr::NonNull;
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

    /// True when the type implements [`defrag`](Self::defrag): the server then calls it during active
    /// defragmentation, and the value's own block (the `Box` the key points to) may move too. Leave it
    /// false for a type whose values' addresses are remembered elsewhere.
    const DEFRAG: bool = false;
    /// Active defragmentation: move the value's blocks with `d` ([`Defrag::vec`], [`Defrag::boxed`],
    /// ...). A value with much to move checks [`Defrag::should_stop`], keeps its place with
    /// [`Defrag::set_cursor`] and returns [`DefragStatus::More`] to be called again (then
    /// [`Defrag::cursor`] says where it stopped; the key may hold another value by then). The default
    /// moves nothing (the server still moves its own blocks of the key).
    fn defrag(&mut self, _d: &mut Defrag) -> DefragStatus {
        DefragStatus::Done
    }
}

/// What a value's [`ModuleValue::defrag`] left to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefragStatus {
    Done,
    /// Stopped early (time is up): call again, from [`Defrag::cursor`].
    More,
}

/// Moves the blocks of one value during active defragmentation (`RedisModule_DefragAlloc`: when the
/// allocator would rather have a block in a fuller page, the server allocates one of the same size
/// there, copies the bytes and frees the old block; each move counts in `active_defrag_hits`).
///
/// Only blocks of the global allocator may be moved (inside the server that is the server's allocator,
/// see `alloc.rs`); the safe helpers below take the containers that own such blocks and put the new
/// address in place, so nothing keeps pointing at the freed block. Blocks aligned to more than 16 bytes
/// are left alone (a block of the same size class is not guaranteed that alignment).
pub struct Defrag {
    /// The server's context; null for [`Defrag::relocating_every_block`].
    ctx: *mut raw::RedisModuleDefragCtx,
    moved: usize,
}

impl Defrag {
    fn new(ctx: *mut raw::RedisModuleDefragCtx) -> Self {
        Defrag { ctx, moved: 0 }
    }

    /// For unit tests outside the server (where the global allocator is the C library's): every block
    /// handed to it moves (malloc, copy, free), so a test sees that a value's `defrag` leaves no pointer
    /// to a freed block behind and the value unchanged. Never use it inside the server.
    pub fn relocating_every_block() -> Self {
        Defrag::new(std::ptr::null_mut())
    }

    /// Blocks moved so far.
    pub fn moved(&self) -> usize {
        self.moved
    }

    /// Moves the block at `ptr` if the allocator wants it elsewhere: `Some(new address)` (the bytes are
    /// copied and the old block is freed), else `None` (nothing changed).
    ///
    /// # Safety
    /// `ptr` is the start of a live block of at least one byte from the global allocator, owned by the
    /// caller, aligned to at most 16 bytes. On `Some`, the old block is gone: the caller must replace
    /// every pointer to it (and into it) with the new address before anything reads it.
    pub unsafe fn move_block(&mut self, ptr: NonNull<u8>) -> Option<NonNull<u8>> {
        let new = if self.ctx.is_null() {
            // SAFETY: the caller's contract; outside the server the global allocator is malloc, so the
            // block has a usable size and free() takes it. The new block is as large and 16-aligned.
            unsafe {
                let size = libc::malloc_usable_size(ptr.as_ptr().cast());
                let new = libc::malloc(size.max(1)).cast::<u8>();
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr.as_ptr(), new, size);
                    libc::free(ptr.as_ptr().cast());
                }
                new
            }
        } else {
            // SAFETY: plain read of a function pointer the server filled in (absent on servers without
            // defrag: nothing moves). The block is the server allocator's (alloc.rs).
            match unsafe { raw::RedisModule_DefragAlloc } {
                Some(f) => unsafe { f(self.ctx, ptr.as_ptr().cast()) }.cast::<u8>(),
                None => std::ptr::null_mut(),
            }
        };
        let new = NonNull::new(new)?;
        self.moved += 1;
        Some(new)
    }

    /// Moves the block a `Box` owns.
    pub fn boxed<T>(&mut self, b: &mut Box<T>) {
        if !movable::<T>() {
            return;
        }
        let old = NonNull::from(&mut **b).cast::<u8>();
        // SAFETY: a Box of a sized, non-zero-sized T owns a global-allocator block; on a move the Box is
        // overwritten (not dropped) with one owning the new block, which holds the same bytes.
        unsafe {
            if let Some(new) = self.move_block(old) {
                std::ptr::write(b, Box::from_raw(new.as_ptr().cast::<T>()));
            }
        }
    }

    /// Moves the block of a boxed slice (none when it is empty).
    pub fn boxed_slice<T>(&mut self, b: &mut Box<[T]>) {
        if !movable::<T>() || b.is_empty() {
            return;
        }
        let len = b.len();
        let old = NonNull::from(&mut **b).cast::<u8>();
        // SAFETY: as in `boxed`: a non-empty boxed slice of non-zero-sized T owns its block.
        unsafe {
            if let Some(new) = self.move_block(old) {
                let slice = std::ptr::slice_from_raw_parts_mut(new.as_ptr().cast::<T>(), len);
                std::ptr::write(b, Box::from_raw(slice));
            }
        }
    }

    /// Moves the buffer of a `Vec` (none while it has no capacity).
    pub fn vec<T>(&mut self, v: &mut Vec<T>) {
        if !movable::<T>() || v.capacity() == 0 {
            return;
        }
        let (len, cap) = (v.len(), v.capacity());
        let Some(old) = NonNull::new(v.as_mut_ptr().cast::<u8>()) else {
            return;
        };
        // SAFETY: a Vec with capacity of non-zero-sized T owns a block of cap elements; the new block
        // has the same size and bytes, so the rebuilt Vec has the same length, capacity and contents.
        unsafe {
            if let Some(new) = self.move_block(old) {
                std::ptr::write(v, Vec::from_raw_parts(new.as_ptr().cast::<T>(), len, cap));
            }
        }
    }

    /// Moves the buffer of a `SmallVec` that spilled to the heap (inline items move with their owner).
    pub fn small_vec<A: smallvec::Array>(&mut self, v: &mut smallvec::SmallVec<A>) {
        if !movable::<A::Item>() || !v.spilled() {
            return;
        }
        let (len, cap) = (v.len(), v.capacity());
        let Some(old) = NonNull::new(v.as_mut_ptr().cast::<u8>()) else {
            return;
        };
        // SAFETY: a spilled SmallVec owns a global-allocator block of `cap` items (cap > inline size);
        // from_raw_parts takes such a block back with the same length and capacity.
        unsafe {
            if let Some(new) = self.move_block(old) {
                let moved = smallvec::SmallVec::from_raw_parts(new.as_ptr().cast(), len, cap);
                std::ptr::write(v, moved);
            }
        }
    }

    /// True when the time of this step is up (only late defragmentation of a big value has a limit).
    pub fn should_stop(&self) -> bool {
        if self.ctx.is_null() {
            return false;
        }
        // SAFETY: plain read of a function pointer; a valid context for the callback's duration.
        match unsafe { raw::RedisModule_DefragShouldStop } {
            Some(f) => (unsafe { f(self.ctx) }) != 0,
            None => false,
        }
    }

    /// Where the previous step of this key stopped (`None` when not resuming).
    // `c_ulong` is `u64` on 64-bit Linux, 32 bits elsewhere: the conversions are not useless there.
    #[allow(clippy::useless_conversion)]
    pub fn cursor(&self) -> Option<u64> {
        if self.ctx.is_null() {
            return None;
        }
        let mut c: c_ulong = 0;
        // SAFETY: plain read of a function pointer; the server writes the cursor when it has one.
        let ok = match unsafe { raw::RedisModule_DefragCursorGet } {
            Some(f) => (unsafe { f(self.ctx, &mut c) }) == raw::REDISMODULE_OK as c_int,
            None => false,
        };
        ok.then_some(u64::from(c))
    }

    /// Remembers where to resume; false when this step cannot be resumed (then do all the work now).
    #[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
    pub fn set_cursor(&mut self, cursor: u64) -> bool {
        if self.ctx.is_null() {
            return false;
        }
        let Some(c) = c_ulong::try_from(cursor).ok() else {
            return false;
        };
        // SAFETY: plain read of a function pointer; a valid context for the callback's duration.
        match unsafe { raw::RedisModule_DefragCursorSet } {
            Some(f) => (unsafe { f(self.ctx, c) }) == raw::REDISMODULE_OK as c_int,
            None => false,
        }
    }
}

/// Blocks of `T` can move: they exist (non-zero size) and need no more alignment than any block has.
const fn movable<T>() -> bool {
    std::mem::size_of::<T>() > 0 && std::mem::align_of::<T>() <= 16
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

unsafe extern "C" fn cb_defrag<T: ModuleValue>(
    ctx: *mut raw::RedisModuleDefragCtx,
    _key: *mut raw::RedisModuleString,
    value: *mut *mut c_void,
) -> c_int {
    // A build whose global allocator is the system's (the `system-alloc` feature, for Valgrind) never
    // counts held bytes: its blocks are not the server's, and handing one to DefragAlloc would free it
    // with the wrong allocator. Inside the server with the server's allocator a live value holds bytes.
    if value.is_null() || !movable::<T>() || crate::alloc::held_bytes() == 0 {
        return 0;
    }
    let mut d = Defrag::new(ctx);
    // SAFETY: the server passes the address of its pointer to our Box<T>; after a move of that block
    // the server's pointer is replaced before anything reads it, and the value is used at its new place.
    let Some(holder) = NonNull::new(unsafe { *value }.cast::<u8>()) else {
        return 0;
    };
    // SAFETY: the Box<T>'s block (non-zero size, alignment <= 16).
    let holder = match unsafe { d.move_block(holder) } {
        Some(new) => {
            // SAFETY: see above.
            unsafe { *value = new.as_ptr().cast() };
            new
        }
        None => holder,
    };
    // SAFETY: the live value, owned by the key; the server runs no other callback of it meanwhile.
    let v = unsafe { &mut *holder.as_ptr().cast::<T>() };
    match catch(|| v.defrag(&mut d)) {
        Some(DefragStatus::More) => 1,
        Some(DefragStatus::Done) | None => 0,
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
    if T::DEFRAG {
        m.defrag = Some(cb_defrag::<T>);
    }
    // SAFETY: valid OnLoad ctx; the server copies the methods struct.
    let t = unsafe { api!(RedisModule_CreateDataType)(ctx, name.as_ptr(), T::ENCVER, &mut m) };
    if t.is_null() {
        return Err(format!("could not create data type {}", T::NAME));
    }
    T::data_type().ptr.store(t, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Defrag;

    #[test]
    fn every_container_keeps_its_contents_at_the_new_block() {
        let mut d = Defrag::relocating_every_block();
        let mut b = Box::new([7u64, 8, 9]);
        let mut s: Box<[u8]> = b"some bytes".to_vec().into_boxed_slice();
        let mut v: Vec<u32> = Vec::with_capacity(10);
        v.extend([1, 2, 3]);
        let mut sv: smallvec::SmallVec<[u8; 4]> = smallvec::SmallVec::from_slice(b"spilled!");
        d.boxed(&mut b);
        d.boxed_slice(&mut s);
        d.vec(&mut v);
        d.small_vec(&mut sv);
        assert_eq!(d.moved(), 4);
        // Contents, lengths and capacities unchanged, so the containers go on working (and free once).
        assert_eq!(*b, [7, 8, 9]);
        assert_eq!(&*s, b"some bytes");
        assert_eq!((v.as_slice(), v.capacity()), (&[1, 2, 3][..], 10));
        v.extend(4..=20);
        assert_eq!(v.len(), 20);
        assert_eq!(sv.as_slice(), b"spilled!");
        sv.push(b'x');
        assert!(sv.spilled());
    }

    #[test]
    fn empty_and_inline_containers_move_nothing() {
        let mut d = Defrag::relocating_every_block();
        let mut v: Vec<u8> = Vec::new();
        let mut s: Box<[u8]> = Box::new([]);
        let mut sv: smallvec::SmallVec<[u8; 8]> = smallvec::SmallVec::from_slice(b"inline");
        let mut z = Box::new(());
        d.vec(&mut v);
        d.boxed_slice(&mut s);
        d.small_vec(&mut sv);
        d.boxed(&mut z);
        assert_eq!(d.moved(), 0);
        assert!(!d.should_stop());
        assert_eq!(d.cursor(), None);
        assert!(!d.set_cursor(3));
        assert_eq!(sv.as_slice(), b"inline");
    }
}
