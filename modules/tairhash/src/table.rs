//! The field table: a power-of-two chained hash table of [`FieldBox`]es keyed by the name stored inside
//! each block (so a name is stored once), with Valkey's reverse-binary cursor for resumable scans.
//!
//! Chaining (rather than open addressing) is what makes the cursor hold across resizes: a field always
//! lives in bucket `hash & mask`, so the reverse-binary walk of the bucket indexes visits, across any
//! number of grows and shrinks between calls, every field present for the whole iteration (at least
//! once), exactly as Valkey's dict scan does.
//!
//! The load factor stays in (1/8, 1]: the table doubles when it would exceed one field per bucket and
//! halves (to the next power of two of the length) when below one eighth. Cost per field: 8 bytes of
//! chain link inside the block plus 8–16 bytes of bucket array.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::field::FieldBox;

const MIN_BUCKETS: usize = 4;

/// Up to this many fields live in one chain headed inside the table itself (no bucket array, no
/// hashing): a small hash costs one memory access less per command, like a native listpack hash. The
/// third field moves them into [`MIN_BUCKETS`] buckets; removal back down to one field returns to the
/// chain. For scans the chain is a table of one bucket (cursor 0 visits it all and returns 0), so the
/// reverse-binary cursor holds across the switch like across any other resize.
const SMALL_MAX: usize = 2;

/// The process-wide hash seed (random per process, like Valkey's dict seed, against flooding).
fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| RandomState::new().hash_one(0x7461_6972_6861_7368_u64))
}

fn hash_name(name: &[u8]) -> u64 {
    xxh3_64_with_seed(name, seed())
}

pub(crate) struct FieldTable {
    /// Empty (the small form: every field in `head`'s chain), or a power of two of chain heads.
    buckets: Box<[Option<FieldBox>]>,
    /// The chain of a small table; `None` while `buckets` is in use.
    head: Option<FieldBox>,
    len: usize,
}

fn empty_buckets(n: usize) -> Box<[Option<FieldBox>]> {
    std::iter::repeat_with(|| None).take(n).collect()
}

impl FieldTable {
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        FieldTable {
            buckets: empty_buckets(0),
            head: None,
            len: 0,
        }
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        let buckets = if n <= SMALL_MAX {
            0
        } else {
            n.checked_next_power_of_two()
                .unwrap_or(1 << (usize::BITS - 1))
                .max(MIN_BUCKETS)
        };
        FieldTable {
            buckets: empty_buckets(buckets),
            head: None,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Buckets in the bucket array (0 for the small form).
    pub(crate) fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn is_small(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The head of the chain that holds (or would hold) `name`.
    fn chain(&self, name: &[u8]) -> Option<&Option<FieldBox>> {
        if self.is_small() {
            return Some(&self.head);
        }
        let i = (hash_name(name) as usize) & (self.buckets.len() - 1);
        self.buckets.get(i)
    }

    fn chain_mut(&mut self, name: &[u8]) -> Option<&mut Option<FieldBox>> {
        if self.is_small() {
            return Some(&mut self.head);
        }
        let i = (hash_name(name) as usize) & (self.buckets.len() - 1);
        self.buckets.get_mut(i)
    }

    pub(crate) fn get(&self, name: &[u8]) -> Option<&FieldBox> {
        let mut cur = self.chain(name)?.as_ref();
        while let Some(f) = cur {
            if f.name() == name {
                return Some(f);
            }
            cur = f.next();
        }
        None
    }

    /// The chain link holding the field `name`, if present.
    fn link_mut(&mut self, name: &[u8]) -> Option<&mut Option<FieldBox>> {
        let mut link = self.chain_mut(name)?;
        loop {
            let found = match link.as_ref() {
                None => return None,
                Some(f) => f.name() == name,
            };
            if found {
                return Some(link);
            }
            link = match link {
                Some(f) => f.next_mut(),
                None => return None,
            };
        }
    }

    pub(crate) fn get_mut(&mut self, name: &[u8]) -> Option<&mut FieldBox> {
        self.link_mut(name)?.as_mut()
    }

    /// Inserts a field whose name is not present. Returns false (and leaks the block rather than
    /// freeing memory someone may point at) only if the table is internally inconsistent.
    pub(crate) fn insert(&mut self, mut f: FieldBox) -> bool {
        if self.is_small() {
            if self.len >= SMALL_MAX {
                self.resize(MIN_BUCKETS);
            }
        } else if self.len >= self.buckets.len() {
            self.resize(self.buckets.len().saturating_mul(2).max(MIN_BUCKETS));
        }
        match self.chain_mut(f.name()) {
            Some(head) => {
                *f.next_mut() = head.take();
                *head = Some(f);
                self.len += 1;
                true
            }
            None => {
                std::mem::forget(f);
                false
            }
        }
    }

    /// Unlinks and returns the field `name`.
    pub(crate) fn remove(&mut self, name: &[u8]) -> Option<FieldBox> {
        let link = self.link_mut(name)?;
        let mut removed = link.take()?;
        *link = removed.take_next();
        self.len -= 1;
        let n = self.buckets.len();
        if n > MIN_BUCKETS && self.len < n / 8 {
            self.resize(self.len.next_power_of_two().max(MIN_BUCKETS));
        } else if n == MIN_BUCKETS && self.len <= 1 {
            self.resize(0);
        }
        Some(removed)
    }

    /// Moves every field into `n` buckets (a power of two), or into the small form's chain for 0.
    fn resize(&mut self, n: usize) {
        let mut new = empty_buckets(n);
        let mask = n.wrapping_sub(1);
        let mut old = std::mem::replace(&mut self.buckets, empty_buckets(0));
        let mut small = self.head.take();
        for head in std::iter::once(&mut small).chain(old.iter_mut()) {
            let mut cur = head.take();
            while let Some(mut f) = cur {
                cur = f.take_next();
                let dst = if n == 0 {
                    Some(&mut self.head)
                } else {
                    new.get_mut((hash_name(f.name()) as usize) & mask)
                };
                match dst {
                    Some(dst) => {
                        *f.next_mut() = dst.take();
                        *dst = Some(f);
                    }
                    // Unreachable (`n` is 0 or a power of two); never free a field the heap may
                    // still point at.
                    None => std::mem::forget(f),
                }
            }
        }
        self.buckets = new;
    }

    pub(crate) fn iter(&self) -> Iter<'_> {
        Iter {
            buckets: self.buckets.iter(),
            cur: self.head.as_ref(),
        }
    }

    /// Visits every field of the bucket the cursor designates and returns the next cursor (0 when the
    /// iteration is complete).
    pub(crate) fn scan_step<'a>(&'a self, cursor: u64, mut visit: impl FnMut(&'a FieldBox)) -> u64 {
        if self.is_small() {
            let mut cur = self.head.as_ref();
            while let Some(f) = cur {
                visit(f);
                cur = f.next();
            }
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut cur = self
            .buckets
            .get((cursor & mask) as usize)
            .and_then(Option::as_ref);
        while let Some(f) = cur {
            visit(f);
            cur = f.next();
        }
        // Increment the reversed cursor over the bits of the mask.
        let v = (cursor | !mask).reverse_bits().wrapping_add(1);
        v.reverse_bits()
    }
}

pub(crate) struct Iter<'a> {
    buckets: std::slice::Iter<'a, Option<FieldBox>>,
    cur: Option<&'a FieldBox>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a FieldBox;

    fn next(&mut self) -> Option<&'a FieldBox> {
        loop {
            if let Some(f) = self.cur {
                self.cur = f.next();
                return Some(f);
            }
            self.cur = self.buckets.next()?.as_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn name(i: u32) -> Vec<u8> {
        format!("field:{i}").into_bytes()
    }

    #[test]
    fn insert_get_remove_resize() {
        let mut t = FieldTable::new();
        assert!(t.get(b"x").is_none());
        assert!(t.remove(b"x").is_none());
        for i in 0..1000 {
            assert!(t.insert(FieldBox::new(&name(i), &i.to_le_bytes(), 1, None)));
            assert!(t.len() <= t.bucket_count().max(SMALL_MAX));
        }
        assert_eq!(t.len(), 1000);
        assert_eq!(t.bucket_count(), 1024);
        for i in 0..1000 {
            assert_eq!(
                t.get(&name(i)).map(FieldBox::value),
                Some(&i.to_le_bytes()[..])
            );
        }
        if let Some(f) = t.get_mut(&name(5)) {
            f.set_value(b"five, longer");
        }
        assert_eq!(
            t.get(&name(5)).map(FieldBox::value),
            Some(&b"five, longer"[..])
        );
        assert_eq!(t.iter().count(), 1000);
        for i in 0..990 {
            assert!(t.remove(&name(i)).is_some());
            assert!(t.get(&name(i)).is_none());
        }
        assert_eq!(t.len(), 10);
        assert!(t.bucket_count() <= 64);
        let left: HashSet<Vec<u8>> = t.iter().map(|f| f.name().to_vec()).collect();
        assert_eq!(left, (990..1000).map(name).collect());
    }

    /// Small tables keep their fields in the inline chain (no bucket array) and move in and out of
    /// the bucket array as they grow past and shrink back to the small size; a scan of a small table
    /// is one step.
    #[test]
    fn small_form_round_trip() {
        let mut t = FieldTable::new();
        for i in 0..SMALL_MAX as u32 {
            assert!(t.insert(FieldBox::new(&name(i), b"v", 1, None)));
            assert_eq!(t.bucket_count(), 0);
        }
        let mut seen = Vec::new();
        assert_eq!(t.scan_step(0, |f| seen.push(f.name().to_vec())), 0);
        assert_eq!(seen.len(), SMALL_MAX);
        assert!(t.insert(FieldBox::new(&name(99), b"v", 1, None)));
        assert_eq!(t.bucket_count(), MIN_BUCKETS);
        assert_eq!(t.iter().count(), SMALL_MAX + 1);
        for i in 0..SMALL_MAX as u32 {
            assert!(t.get(&name(i)).is_some());
        }
        assert!(t.remove(&name(0)).is_some());
        assert!(t.remove(&name(1)).is_some());
        assert_eq!(t.bucket_count(), 0);
        assert_eq!(t.len(), 1);
        assert_eq!(t.get(&name(99)).map(FieldBox::value), Some(&b"v"[..]));
        assert_eq!(t.iter().count(), 1);
        // A cursor from the bucketed form still ends the scan of the small form.
        let mut n = 0;
        assert_eq!(t.scan_step(2, |_| n += 1), 0);
        assert_eq!(n, 1);
        assert!(t.remove(&name(99)).is_some());
        assert_eq!(t.len(), 0);
        assert!(t.get(&name(99)).is_none());
        assert_eq!(FieldTable::with_capacity(SMALL_MAX).bucket_count(), 0);
        assert_eq!(
            FieldTable::with_capacity(SMALL_MAX + 1).bucket_count(),
            MIN_BUCKETS
        );
    }

    /// Every field present for the whole iteration is returned, across grows and shrinks between
    /// calls.
    #[test]
    fn scan_survives_resizes() {
        let mut t = FieldTable::new();
        for i in 0..100 {
            t.insert(FieldBox::new(&name(i), b"", 1, None));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0u32;
        loop {
            cursor = t.scan_step(cursor, |f| {
                seen.insert(f.name().to_vec());
            });
            step += 1;
            // Grow a lot, then shrink back, while the scan runs (fields 1000.. come and go).
            if step == 10 {
                for i in 1000..5000 {
                    t.insert(FieldBox::new(&name(i), b"", 1, None));
                }
            }
            if step == 2000 {
                for i in 1000..5000 {
                    t.remove(&name(i));
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(&name(i)), "field {i} missed");
        }
    }
}
