//! The tairhash value: fields with a value, a version and an optional expiry, and the operations the
//! commands need (spec `tairhash.md` §2, §4).
//!
//! Every operation takes `now` (Unix ms) and treats a field whose expiry is `<= now` as absent. Reads
//! never remove anything; removing expired fields is an explicit call ([`TairHash::remove_expired`],
//! [`TairHash::pop_due`]) so the command layer decides when it may (a writable primary) and publishes
//! the effects (§5.1, §5.3). Writes that meet a stored-but-expired field replace it as a new field.

use std::collections::HashMap;
use std::fmt;
use std::ptr::NonNull;

use xxhash_rust::xxh3::xxh3_128;

use crate::big::Big;
use crate::compact::{self, Compact, Entry, Thresholds, TAG_BIG};
use crate::field::{Expiry, FieldBox};
use crate::number::{format_f64, parse_f64, parse_i64};
use crate::options::{
    Condition, ExpiryChange, FieldTtl, FieldView, HashError, IncrOptions, MsetEntry, ScanPage,
    SetOptions, SetOutcome, VersionRule, Written, MAX_VERSION,
};

/// The `VER`/`GT` check against a live field's version (an absent field is never stale). `GT` compares
/// with the signed number EXHVER reports, so a version loaded from a C module's data above 2^63-1
/// (reported negative, as the C module does) is below every `GT` value, as in the C module.
pub(crate) fn check_version(current: Option<u64>, rule: VersionRule) -> Result<(), HashError> {
    match (rule, current) {
        (VersionRule::Ver(v), Some(cur)) if v != 0 && v != cur => Err(HashError::VersionStale),
        (VersionRule::Gt(v), Some(cur)) if (v as i64) <= (cur as i64) => {
            Err(HashError::VersionStale)
        }
        _ => Ok(()),
    }
}

/// The version after a successful modification. A current version at or above 2^63-1 cannot be
/// raised. `ABS` above 2^63-1 comes only from the AOF or the primary (the AOF rewrite of a field
/// loaded from a C module's data); the command layer refuses it from clients.
pub(crate) fn next_version(current: Option<u64>, rule: VersionRule) -> Result<u64, HashError> {
    match (rule, current) {
        (VersionRule::Gt(v), _) if v > MAX_VERSION => Err(HashError::VersionOverflow),
        (VersionRule::Abs(v) | VersionRule::Gt(v), _) => Ok(v.max(1)),
        (_, None) => Ok(1),
        (_, Some(cur)) if cur >= MAX_VERSION => Err(HashError::VersionOverflow),
        (_, Some(cur)) => Ok(cur + 1),
    }
}

pub(crate) fn resolve_expiry(
    change: ExpiryChange,
    current: Option<Expiry>,
    now: u64,
) -> Option<Expiry> {
    match change {
        ExpiryChange::Clear => None,
        ExpiryChange::Keep => current,
        ExpiryChange::At(t) => Some(Expiry::written(t, now)),
    }
}

/// A stored field of either encoding, expired or not.
#[derive(Clone, Copy, Debug)]
struct Stored<'a> {
    name: &'a [u8],
    value: &'a [u8],
    version: u64,
    expiry: Option<Expiry>,
}

impl<'a> Stored<'a> {
    fn of_box(f: &'a FieldBox) -> Self {
        let (name, value) = f.name_value();
        Stored {
            name,
            value,
            version: f.version(),
            expiry: f.expiry(),
        }
    }

    fn of_entry(e: Entry<'a>) -> Self {
        Stored {
            name: e.name,
            value: e.value,
            version: e.version,
            expiry: e.expiry,
        }
    }

    fn is_live(&self, now: u64) -> bool {
        self.expiry.is_none_or(|e| e.at > now)
    }

    fn view(self) -> FieldView<'a> {
        FieldView {
            name: self.name,
            value: self.value,
            version: self.version,
            expiry: self.expiry.map(|e| e.at),
        }
    }
}

/// The value's one pointer: to a compact block (first byte `compact::TAG_COMPACT`) or to a [`BigBlock`]
/// (first byte [`TAG_BIG`]). Eight bytes, so the box tair-common keeps per key is the smallest
/// allocator class.
struct Repr {
    raw: NonNull<u8>,
}

/// The encoding, borrowed.
enum R<'a> {
    Compact(&'a Compact),
    Big(&'a Big),
}

/// The encoding, borrowed mutably (a compact write may move the block: it updates the pointer).
enum M<'a> {
    Compact(&'a mut Compact),
    Big(&'a mut Big),
}

impl Repr {
    fn compact(c: Compact) -> Self {
        Repr { raw: c.into_raw() }
    }

    fn big(big: Big) -> Self {
        let block = Box::new(BigBlock { tag: TAG_BIG, big });
        let raw = NonNull::from(Box::leak(block)).cast::<u8>();
        Repr { raw }
    }

    fn is_compact(&self) -> bool {
        // SAFETY: `raw` points to a live block whose first byte is its tag.
        unsafe { *self.raw.as_ptr() != TAG_BIG }
    }

    fn get(&self) -> R<'_> {
        if self.is_compact() {
            // SAFETY: a compact block owned by this value.
            R::Compact(unsafe { Compact::from_raw_ref(&self.raw) })
        } else {
            // SAFETY: a `BigBlock` leaked by `Repr::big`, owned by this value; the reference
            // borrows `self`.
            R::Big(unsafe { &(*self.raw.cast::<BigBlock>().as_ptr()).big })
        }
    }

    fn get_mut(&mut self) -> M<'_> {
        if self.is_compact() {
            // SAFETY: as in `get`; `&mut self` is the only access.
            M::Compact(unsafe { Compact::from_raw_mut(&mut self.raw) })
        } else {
            // SAFETY: as in `get`; `&mut self` is the only access.
            M::Big(unsafe { &mut (*self.raw.cast::<BigBlock>().as_ptr()).big })
        }
    }
}

impl Drop for Repr {
    fn drop(&mut self) {
        if self.is_compact() {
            // SAFETY: the compact block this value owns, freed once.
            drop(unsafe { Compact::from_raw(self.raw) });
        } else {
            // SAFETY: the `BigBlock` leaked by `Repr::big`, owned by this value, freed once.
            drop(unsafe { Box::from_raw(self.raw.cast::<BigBlock>().as_ptr()) });
        }
    }
}

/// The block of a big value: its tag first, so one pointer tells the encodings apart.
#[repr(C)]
struct BigBlock {
    tag: u8,
    big: Big,
}

/// Values alive in each encoding (INFO `keys_compact` / `keys_big`; values being built count too).
pub mod census {
    use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

    pub(super) static COMPACT: AtomicI64 = AtomicI64::new(0);
    pub(super) static BIG: AtomicI64 = AtomicI64::new(0);

    pub fn compact() -> u64 {
        u64::try_from(COMPACT.load(Relaxed)).unwrap_or(0)
    }

    pub fn big() -> u64 {
        u64::try_from(BIG.load(Relaxed)).unwrap_or(0)
    }

    pub(super) fn add(compact: bool, n: i64) {
        if compact { &COMPACT } else { &BIG }.fetch_add(n, Relaxed);
    }
}

impl Repr {
    fn counted(self) -> Self {
        census::add(self.is_compact(), 1);
        self
    }
}

impl Drop for TairHash {
    fn drop(&mut self) {
        census::add(self.is_compact(), -1);
        if self.stamp().is_some() {
            stamps::add(-1);
        }
    }
}

/// Values that hold a stamp (registered for active expiry), all databases: the number of valid
/// registry entries there can be. Changed on the main thread, and by `free` on the lazy-free thread.
pub mod stamps {
    use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

    static STAMPED: AtomicI64 = AtomicI64::new(0);

    pub fn live() -> u64 {
        u64::try_from(STAMPED.load(Relaxed)).unwrap_or(0)
    }

    pub(super) fn add(n: i64) {
        STAMPED.fetch_add(n, Relaxed);
    }
}

/// The stored fields of either encoding.
enum FieldIter<'a> {
    Compact(compact::Iter<'a>),
    Big(crate::table::Iter<'a>),
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = Stored<'a>;

    fn next(&mut self) -> Option<Stored<'a>> {
        match self {
            FieldIter::Compact(it) => it.next().map(Stored::of_entry),
            FieldIter::Big(it) => it.next().map(Stored::of_box),
        }
    }
}

/// A tairhash value. Never empty while stored under a key (the command layer deletes the key when
/// [`is_empty`](Self::is_empty) becomes true).
///
/// Two encodings, invisible in every reply and in persistence: a small value keeps its fields in one
/// buffer (`compact`); the first write that leaves it with more than `compact-max-entries` fields or
/// a name or value longer than `compact-max-value` bytes converts it once to the field table and the
/// expiry heap (`Big`).
pub struct TairHash {
    repr: Repr,
}

// SAFETY: the hash uniquely owns every block its table and heap point to; the heap's raw pointers are
// only dereferenced through `&self`/`&mut self` of this hash. Sending it (lazy free on a background
// thread) or sharing `&TairHash` (read-only, no interior mutability) is as safe as for a Box tree.
unsafe impl Send for TairHash {}
// SAFETY: see above.
unsafe impl Sync for TairHash {}

impl Default for TairHash {
    fn default() -> Self {
        Self::new()
    }
}

impl TairHash {
    pub fn new() -> Self {
        TairHash {
            repr: Repr::compact(Compact::default()).counted(),
        }
    }

    /// Is the value in the compact encoding?
    pub fn is_compact(&self) -> bool {
        self.repr.is_compact()
    }

    /// Fields stored, expired-but-not-removed included (plain EXHLEN). O(1).
    pub fn len(&self) -> usize {
        match self.repr.get() {
            R::Compact(c) => c.len(),
            R::Big(b) => b.table.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn stored(&self, name: &[u8]) -> Option<Stored<'_>> {
        match self.repr.get() {
            R::Compact(c) => c.get(name).map(Stored::of_entry),
            R::Big(b) => b.table.get(name).map(Stored::of_box),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        match self.repr.get() {
            R::Compact(c) => FieldIter::Compact(c.iter()),
            R::Big(b) => FieldIter::Big(b.table.iter()),
        }
    }

    /// Is `name` stored but expired at `now`? One lookup.
    pub fn is_stored_expired(&self, name: &[u8], now: u64) -> bool {
        if let R::Compact(c) = self.repr.get() {
            if !c.may_expire() {
                return false;
            }
        }
        self.stored(name).is_some_and(|f| !f.is_live(now))
    }

    /// Fields stored with an expiry (T).
    pub fn expiring_len(&self) -> usize {
        match self.repr.get() {
            R::Compact(c) => c.expiring_len(),
            R::Big(b) => b.expiry.len(),
        }
    }

    /// Live fields (EXHLEN NOEXP). O(1 + E), E = stored expired fields.
    pub fn len_live(&self, now: u64) -> usize {
        let due = match self.repr.get() {
            R::Compact(c) => c.count_due(now),
            R::Big(b) => b.expiry.count_due(now),
        };
        self.len().saturating_sub(due)
    }

    fn live(&self, name: &[u8], now: u64) -> Option<Stored<'_>> {
        self.stored(name).filter(|f| f.is_live(now))
    }

    /// Writes `name` in either encoding (see [`Big::write`]).
    fn write(&mut self, name: &[u8], value: Option<&[u8]>, version: u64, expiry: Option<Expiry>) {
        match self.repr.get_mut() {
            M::Compact(c) => c.write(name, value, version, expiry),
            M::Big(b) => b.write(name, value, version, expiry),
        }
    }

    /// Unlinks and frees a stored field.
    fn remove_stored(&mut self, name: &[u8]) -> bool {
        match self.repr.get_mut() {
            M::Compact(c) => c.remove(name),
            M::Big(b) => b.remove_stored(name),
        }
    }

    /// After a write whose longest name or value was `longest` bytes: converts a compact value that
    /// passed a threshold to the big encoding (once; a big value stays big).
    fn grow(&mut self, longest: usize) {
        if let R::Compact(c) = self.repr.get() {
            if longest > Thresholds::max_value() || c.len() > Thresholds::max_entries() {
                self.convert();
            }
        }
    }

    /// Converts a compact value to the big encoding (fields, versions, expiries and due times kept).
    fn convert(&mut self) {
        let R::Compact(c) = self.repr.get() else {
            return;
        };
        let mut big = Big::with_capacity(c.len(), c.expiring_len());
        for e in c.iter() {
            big.insert_new(FieldBox::new(e.name, e.value, e.version, e.expiry));
        }
        big.stamp = c.stamp();
        census::add(true, -1);
        census::add(false, 1);
        self.repr = Repr::big(big);
    }

    // ----- writes -----

    /// EXHSET (and EXHSETNX as `IfAbsent` + `Bump` + `Clear`). O(1) am. + O(log T) if the expiry changes.
    pub fn set(
        &mut self,
        name: &[u8],
        value: &[u8],
        opts: SetOptions,
        now: u64,
    ) -> Result<SetOutcome, HashError> {
        let c = match self.repr.get_mut() {
            M::Big(b) => return b.set(name, value, opts, now),
            M::Compact(c) => c,
        };
        // One walk: the stored field (live or not) and where it is.
        let (at, stored) = c.lookup(name);
        let live = stored
            .map(Stored::of_entry)
            .filter(|f| f.is_live(now))
            .map(|f| (f.version, f.expiry));
        let created = live.is_none();
        match opts.condition {
            Condition::IfAbsent if !created => return Ok(SetOutcome::Skipped),
            Condition::IfPresent if created => return Ok(SetOutcome::Skipped),
            _ => {}
        }
        let current = live.map(|f| f.0);
        let current_expiry = live.and_then(|f| f.1);
        check_version(current, opts.version)?;
        let version = next_version(current, opts.version)?;
        let expiry = resolve_expiry(opts.expiry, current_expiry, now);
        c.write_at(at, name, Some(value), version, expiry);
        self.grow(name.len().max(value.len()));
        Ok(SetOutcome::Written(Written {
            created,
            version,
            expiry: expiry.map(|e| e.at),
        }))
    }

    /// Checks that `names` (applied left to right, each +1) overflow no version. O(M).
    fn check_bumps<'n, I>(&self, names: I, now: u64) -> Result<(), HashError>
    where
        I: Iterator<Item = &'n [u8]> + Clone,
    {
        let m = names.clone().count() as u64;
        let near = |n: &[u8]| {
            self.live(n, now)
                .is_some_and(|f| f.version > MAX_VERSION.saturating_sub(m))
        };
        if !names.clone().any(near) {
            return Ok(());
        }
        let mut counts: HashMap<&[u8], u64> = HashMap::new();
        for n in names {
            *counts.entry(n).or_default() += 1;
        }
        for (n, k) in counts {
            if let Some(f) = self.live(n, now) {
                if f.version.checked_add(k).is_none_or(|v| v > MAX_VERSION) {
                    return Err(HashError::VersionOverflow);
                }
            }
        }
        Ok(())
    }

    /// EXHMSET: pairs left to right, version + 1 (new: 1), a live field keeps its expiry. Fails
    /// (writing nothing) only on version overflow. O(M) am.
    pub fn mset(&mut self, pairs: &[(&[u8], &[u8])], now: u64) -> Result<(), HashError> {
        self.check_bumps(pairs.iter().map(|p| p.0), now)?;
        let mut longest = 0;
        for &(name, value) in pairs {
            let live = self.live(name, now);
            let version = live.map_or(1, |f| f.version.saturating_add(1).min(MAX_VERSION));
            let expiry = live.and_then(|f| f.expiry);
            self.write(name, Some(value), version, expiry);
            longest = longest.max(name.len()).max(value.len());
            self.grow(longest);
        }
        Ok(())
    }

    /// EXHMSETWITHOPTS: every `version != 0` is checked against the live field first (nothing is
    /// written on a mismatch); then left to right: value, version + 1 (new: 1), expiry set or removed.
    /// O(M log T).
    pub fn mset_with_options(
        &mut self,
        entries: &[MsetEntry<'_>],
        now: u64,
    ) -> Result<Vec<Written>, HashError> {
        for e in entries {
            check_version(
                self.live(e.name, now).map(|f| f.version),
                VersionRule::Ver(e.version),
            )?;
        }
        self.check_bumps(entries.iter().map(|e| e.name), now)?;
        let mut out = Vec::with_capacity(entries.len());
        let mut longest = 0;
        for e in entries {
            let live = self.live(e.name, now);
            let created = live.is_none();
            let version = live.map_or(1, |f| f.version.saturating_add(1).min(MAX_VERSION));
            let expiry = e.expiry.map(|t| Expiry::written(t, now));
            self.write(e.name, Some(e.value), version, expiry);
            longest = longest.max(e.name.len()).max(e.value.len());
            self.grow(longest);
            out.push(Written {
                created,
                version,
                expiry: expiry.map(|x| x.at),
            });
        }
        Ok(out)
    }

    /// EXH[P]EXPIRE[AT] with an absolute time: `Ok(None)` if the field is absent or expired (reply 0).
    /// O(log T).
    pub fn expire_at(
        &mut self,
        name: &[u8],
        at: u64,
        rule: VersionRule,
        now: u64,
    ) -> Result<Option<Written>, HashError> {
        let Some(current) = self.live(name, now).map(|f| f.version) else {
            return Ok(None);
        };
        check_version(Some(current), rule)?;
        let version = next_version(Some(current), rule)?;
        let e = Expiry::written(at, now);
        self.write(name, None, version, Some(e));
        Ok(Some(Written {
            created: false,
            version,
            expiry: Some(e.at),
        }))
    }

    /// EXHPERSIST: true if a live field lost its expiry. Version unchanged. O(log T).
    pub fn persist(&mut self, name: &[u8], now: u64) -> bool {
        let Some(version) = self
            .live(name, now)
            .filter(|f| f.expiry.is_some())
            .map(|f| f.version)
        else {
            return false;
        };
        self.write(name, None, version, None);
        true
    }

    /// EXHSETVER: true if a live field got the version (clamped to 1 ..= 2^63-1). O(1).
    pub fn set_version(&mut self, name: &[u8], version: u64, now: u64) -> bool {
        let version = version.clamp(1, MAX_VERSION);
        match self.repr.get_mut() {
            M::Big(b) => match b.table.get_mut(name) {
                Some(f) if f.expiry().is_none_or(|e| e.at > now) => {
                    f.set_version(version);
                    true
                }
                _ => false,
            },
            M::Compact(c) => {
                if c.get(name)
                    .is_some_and(|e| Stored::of_entry(e).is_live(now))
                {
                    c.set_version(name, version);
                    true
                } else {
                    false
                }
            }
        }
    }

    /// EXHINCRBY: returns the new integer. Errors in the spec's order: stored value not an integer,
    /// version stale, increment overflow / MIN / MAX, version overflow. O(1) am. (+ O(log T)).
    pub fn incr_by(
        &mut self,
        name: &[u8],
        delta: i64,
        opts: IncrOptions<i64>,
        now: u64,
    ) -> Result<(i64, Written), HashError> {
        let live = self.live(name, now);
        let base = match live {
            None => 0,
            Some(f) => parse_i64(f.value).ok_or(HashError::NotInteger)?,
        };
        let current = live.map(|f| f.version);
        let current_expiry = live.and_then(|f| f.expiry);
        check_version(current, opts.version)?;
        let r = base
            .checked_add(delta)
            .filter(|r| opts.min.is_none_or(|m| *r >= m) && opts.max.is_none_or(|m| *r <= m))
            .ok_or(HashError::IncrOverflow)?;
        let version = next_version(current, opts.version)?;
        let expiry = resolve_expiry(opts.expiry, current_expiry, now);
        let text = r.to_string();
        self.write(name, Some(text.as_bytes()), version, expiry);
        self.grow(name.len().max(text.len()));
        Ok((
            r,
            Written {
                created: current.is_none(),
                version,
                expiry: expiry.map(|e| e.at),
            },
        ))
    }

    /// EXHINCRBYFLOAT: returns the stored text of the result (§2.3). Same rules as [`incr_by`].
    ///
    /// [`incr_by`]: Self::incr_by
    pub fn incr_by_float(
        &mut self,
        name: &[u8],
        delta: f64,
        opts: IncrOptions<f64>,
        now: u64,
    ) -> Result<(String, Written), HashError> {
        let live = self.live(name, now);
        let base = match live {
            None => 0.0,
            Some(f) => parse_f64(f.value).ok_or(HashError::NotFloat)?,
        };
        let current = live.map(|f| f.version);
        let current_expiry = live.and_then(|f| f.expiry);
        check_version(current, opts.version)?;
        let r = base + delta;
        if !r.is_finite() || opts.min.is_some_and(|m| r < m) || opts.max.is_some_and(|m| r > m) {
            return Err(HashError::IncrOverflow);
        }
        let version = next_version(current, opts.version)?;
        let expiry = resolve_expiry(opts.expiry, current_expiry, now);
        let text = format_f64(r);
        self.write(name, Some(text.as_bytes()), version, expiry);
        self.grow(name.len().max(text.len()));
        Ok((
            text,
            Written {
                created: current.is_none(),
                version,
                expiry: expiry.map(|e| e.at),
            },
        ))
    }

    /// EXHDEL of one field: true if a live field was deleted. O(1) am. (+ O(log T)).
    pub fn delete(&mut self, name: &[u8], now: u64) -> bool {
        self.live(name, now).is_some() && self.remove_stored(name)
    }

    /// EXHDELWITHVER of one field: deleted if live and its version is `version` (0 = any).
    pub fn delete_with_version(&mut self, name: &[u8], version: u64, now: u64) -> bool {
        self.live(name, now)
            .is_some_and(|f| version == 0 || f.version == version)
            && self.remove_stored(name)
    }

    // ----- expiry -----

    /// Passive expiry of one named field: removes it if stored and expired. O(1) am. + O(log T).
    pub fn remove_expired(&mut self, name: &[u8], now: u64) -> bool {
        self.is_stored_expired(name, now) && self.remove_stored(name)
    }

    /// The earliest field in (due, name) order, with its due time.
    fn earliest(&self) -> Option<(u64, &[u8])> {
        match self.repr.get() {
            R::Compact(c) => c.earliest(),
            // SAFETY: heap entries point to live blocks of this hash; the name borrows `self`.
            R::Big(b) => b.expiry.peek().map(|r| unsafe { (r.due(), r.name()) }),
        }
    }

    /// Removes up to `max` fields whose due time is `<= threshold`, in (due, name) order, and returns
    /// their names. Passive expiry passes `now`, active expiry `now - grace`. O(k log T).
    pub fn pop_due(&mut self, threshold: u64, max: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while out.len() < max {
            let Some((due, name)) = self.earliest() else {
                break;
            };
            if due > threshold {
                break;
            }
            let name = name.to_vec();
            if !self.remove_stored(&name) {
                // Not reachable with consistent indexes; guarantees progress regardless.
                if let M::Big(b) = self.repr.get_mut() {
                    if let Some(r) = b.expiry.peek() {
                        b.expiry.remove(0, r);
                    }
                } else {
                    break;
                }
            }
            out.push(name);
        }
        out
    }

    /// The earliest due time of the key's fields (what the registry orders keys by). O(1).
    pub fn earliest_due(&self) -> Option<u64> {
        self.earliest().map(|(due, _)| due)
    }

    /// The registry bucket this value is registered under, if it is (see `registry`). A copy starts
    /// without one. Invisible in replies, persistence and digests.
    pub fn stamp(&self) -> Option<u64> {
        match self.repr.get() {
            R::Compact(c) => c.stamp(),
            R::Big(b) => b.stamp,
        }
    }

    /// Sets or clears the stamp (keeping [`stamps::live`] exact). A stamp is at most
    /// [`crate::registry::MAX_BUCKET`] (larger ones are taken as it).
    pub fn set_stamp(&mut self, stamp: Option<u64>) {
        let stamp = stamp.map(|s| s.min(crate::registry::MAX_BUCKET));
        let old = self.stamp();
        if old == stamp {
            return;
        }
        match self.repr.get_mut() {
            M::Compact(c) => c.set_stamp(stamp),
            M::Big(b) => b.stamp = stamp,
        }
        match (old, stamp) {
            (None, Some(_)) => stamps::add(1),
            (Some(_), None) => stamps::add(-1),
            _ => {}
        }
    }

    // ----- reads -----

    /// EXHGET / EXHGETWITHVER / EXHEXISTS / EXHSTRLEN / EXHVER: the live field. O(1).
    pub fn get(&self, name: &[u8], now: u64) -> Option<FieldView<'_>> {
        self.live(name, now).map(Stored::view)
    }

    /// EXHTTL / EXHPTTL. O(1).
    pub fn ttl(&self, name: &[u8], now: u64) -> FieldTtl {
        match self.live(name, now) {
            None => FieldTtl::Absent,
            Some(f) => match f.expiry {
                None => FieldTtl::Persistent,
                Some(e) => FieldTtl::Remaining(e.at.saturating_sub(now)),
            },
        }
    }

    /// Every stored field, expired ones included, in the encoding's order (stable while the hash is
    /// not modified): persistence, digest, copy.
    pub fn iter(&self) -> impl Iterator<Item = FieldView<'_>> {
        self.fields().map(Stored::view)
    }

    /// The live fields, in the same order (EXHKEYS, EXHVALS, EXHGETALL[WITHVER], AOF rewrite). O(N).
    pub fn iter_live(&self, now: u64) -> impl Iterator<Item = FieldView<'_>> {
        self.fields()
            .filter(move |f| f.is_live(now))
            .map(Stored::view)
    }

    /// One EXHSCAN step from `cursor` (0 starts). Visits whole buckets until `count` fields were met or
    /// 10 * `count` buckets were visited; if `cursor` is 0 and at most `count` fields are stored, returns
    /// them all with cursor 0. A compact value is one bucket: any cursor returns all of it and 0.
    /// Guarantees as HSCAN (see `table`).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, now: u64) -> ScanPage<'a> {
        let (mut fields, mut expired) = (Vec::new(), Vec::new());
        let mut take = |f: Stored<'a>| {
            if f.is_live(now) {
                fields.push(f.view());
            } else {
                expired.push(f.name.to_vec());
            }
        };
        let mut cur = 0;
        match self.repr.get() {
            R::Big(b) if !(cursor == 0 && self.len() <= count) => {
                let count = count.max(1);
                let max_visits = count.saturating_mul(10);
                let (mut visits, mut met) = (0usize, 0usize);
                cur = cursor;
                loop {
                    cur = b.table.scan_step(cur, |f| {
                        met += 1;
                        take(Stored::of_box(f));
                    });
                    visits += 1;
                    if cur == 0 || met >= count || visits >= max_visits {
                        break;
                    }
                }
            }
            _ => self.fields().for_each(&mut take),
        }
        ScanPage {
            cursor: cur,
            fields,
            expired,
        }
    }

    // ----- type callbacks -----

    /// Bytes used: the buffer (compact), or blocks, bucket array, heap and the table struct (big);
    /// plus this struct. O(N).
    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<Self>()
            + match self.repr.get() {
                R::Compact(c) => c.bytes(),
                R::Big(b) => {
                    std::mem::size_of::<BigBlock>()
                        + b.table.bucket_count() * std::mem::size_of::<usize>()
                        + b.expiry.capacity() * std::mem::size_of::<usize>()
                        + b.table.iter().map(FieldBox::block_size).sum::<usize>()
                }
            }
    }

    /// An order-independent digest of every stored field's name, value, version and expiry (equal on a
    /// primary and its replicas; independent of the hash seed, of due times and of the encoding). O(N).
    pub fn digest(&self) -> [u8; 16] {
        let mut sum: u128 = 0;
        let mut buf = Vec::new();
        for f in self.iter() {
            buf.clear();
            buf.extend_from_slice(&(f.name.len() as u64).to_le_bytes());
            buf.extend_from_slice(f.name);
            buf.extend_from_slice(&(f.value.len() as u64).to_le_bytes());
            buf.extend_from_slice(f.value);
            buf.extend_from_slice(&f.version.to_le_bytes());
            buf.extend_from_slice(&f.expiry.unwrap_or(0).to_le_bytes());
            sum = sum.wrapping_add(xxh3_128(&buf));
        }
        sum.to_le_bytes()
    }

    /// An empty hash for a load of `count` fields: big from the start when `count` is past the
    /// entries threshold (no capacity reserved: the count is not trusted yet).
    pub(crate) fn for_load(count: u64) -> Self {
        if count > Thresholds::max_entries() as u64 {
            TairHash {
                repr: Repr::big(Big::with_capacity(0, 0)).counted(),
            }
        } else {
            Self::new()
        }
    }

    /// Adds a loaded field; false if the name is already present. Due time per §2.1 (`now` = the
    /// loading moment).
    pub(crate) fn insert_loaded(
        &mut self,
        name: &[u8],
        value: &[u8],
        version: u64,
        expiry: Option<u64>,
        now: u64,
    ) -> bool {
        if self.stored(name).is_some() {
            return false;
        }
        let expiry = expiry.map(|t| Expiry::written(t, now));
        match self.repr.get_mut() {
            M::Compact(c) => c.write(name, Some(value), version, expiry),
            M::Big(b) => b.insert_new(FieldBox::new(name, value, version, expiry)),
        }
        self.grow(name.len().max(value.len()));
        true
    }

    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        match self.repr.get() {
            R::Big(b) => {
                b.expiry.check();
                let with_expiry = b.table.iter().filter(|f| f.expiry().is_some()).count();
                assert_eq!(with_expiry, b.expiry.len());
                assert_eq!(b.table.iter().count(), self.len());
            }
            R::Compact(c) => {
                assert_eq!(c.iter().count(), c.len());
                let mut names: Vec<&[u8]> = c.iter().map(|e| e.name).collect();
                names.sort();
                names.dedup();
                assert_eq!(names.len(), c.len(), "duplicate names");
            }
        }
    }
}

impl Clone for TairHash {
    /// COPY: a deep copy with versions, expiries and due times, in the same encoding.
    fn clone(&self) -> Self {
        match self.repr.get() {
            R::Compact(c) => {
                let mut c = c.clone();
                c.set_stamp(None);
                TairHash {
                    repr: Repr::compact(c).counted(),
                }
            }
            R::Big(b) => {
                let mut big = Big::with_capacity(b.table.len(), b.expiry.len());
                for f in b.table.iter() {
                    big.insert_new(f.duplicate());
                }
                TairHash {
                    repr: Repr::big(big).counted(),
                }
            }
        }
    }
}

impl fmt::Debug for TairHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
#[path = "hash_tests.rs"]
mod tests;
