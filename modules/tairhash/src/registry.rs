//! The per-database [`ExpiryRegistry`] (spec §2.1): the keys that have fields with an expiry, ordered
//! coarsely by each key's earliest due time, without a copy of any key name beyond one packed entry.
//!
//! Entries are grouped in *buckets* of [`BUCKET_MS`] milliseconds of due time: bucket `b` holds the
//! keys registered with an earliest due time in `[b * BUCKET_MS, (b + 1) * BUCKET_MS)`, so an entry's
//! time (its bucket's start) is never later than the key's earliest due time. A bucket is an
//! append-only queue of length-prefixed key names (LEB128 length, then the bytes) packed in chunks of
//! [`CHUNK_BYTES`] (a name longer than a chunk gets a chunk of its own), consumed from the front: the
//! active-expiry cycle takes entries of the earliest bucket once the bucket's end is past its threshold,
//! and a cycle that runs out of budget resumes inside the bucket. A key costs its name plus one or
//! two length bytes, and the chunks' slack is at most one chunk per bucket.
//!
//! The registry knows nothing of values: it is a *hint*. The value remembers the bucket it is
//! registered under (its *stamp*, [`crate::TairHash::stamp`]); an entry `(b, k)` is valid iff key `k`
//! of the database holds a tairhash whose stamp is `b`. Anything else (a deleted, overwritten or renamed
//! key, an entry superseded by an earlier one) is stale: the server glue drops it when it meets it and
//! never acts on it, and compacts buckets (keeping only valid entries) when stale entries pile up.

use std::collections::{BTreeMap, VecDeque};

/// Width of a bucket in milliseconds of due time.
pub const BUCKET_MS: u64 = 128;

/// Bytes of a chunk of a bucket's queue.
pub const CHUNK_BYTES: usize = 4096;

/// The last bucket: due times from `MAX_BUCKET * BUCKET_MS` on (the year 6400) share it, so a
/// bucket (a value's stamp) fits 40 bits.
pub const MAX_BUCKET: u64 = (1 << 40) - 1;

/// The bucket of a due time.
pub fn bucket_of(due: u64) -> u64 {
    (due / BUCKET_MS).min(MAX_BUCKET)
}

/// The first millisecond after bucket `b` (saturating).
pub fn bucket_end(b: u64) -> u64 {
    b.saturating_add(1).saturating_mul(BUCKET_MS)
}

// Key-name lengths in the chunks are LEB128, with the compact encoding's codec.
fn varint_len(v: usize) -> usize {
    crate::compact::varint_len(v as u64)
}

fn put_varint(out: &mut Vec<u8>, v: usize) {
    crate::compact::push_varint(out, v as u64);
}

/// Reads a LEB128 length at `*pos`; `None` past the end.
fn get_varint(buf: &[u8], pos: &mut usize) -> Option<usize> {
    crate::compact::get_varint(buf, pos).and_then(|v| usize::try_from(v).ok())
}

/// One bucket: a queue of packed entries.
#[derive(Clone, Debug, Default)]
struct Bucket {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the front chunk already taken.
    pos: usize,
    /// Entries not taken yet.
    len: usize,
}

impl Bucket {
    fn push(&mut self, key: &[u8]) {
        let need = varint_len(key.len()) + key.len();
        let fits = self
            .chunks
            .back()
            .is_some_and(|c| c.capacity() - c.len() >= need);
        if !fits {
            self.chunks
                .push_back(Vec::with_capacity(need.max(CHUNK_BYTES)));
        }
        if let Some(c) = self.chunks.back_mut() {
            put_varint(c, key.len());
            c.extend_from_slice(key);
            self.len += 1;
        }
    }

    /// Drops the front chunk (consumed), shrinking the queue when it is mostly empty.
    fn drop_front(&mut self) {
        self.chunks.pop_front();
        self.pos = 0;
        if self.chunks.capacity() > 4 * self.chunks.len().max(4) {
            self.chunks.shrink_to(self.chunks.len() * 2);
        }
    }

    /// Takes the front entry.
    fn pop(&mut self) -> Option<Vec<u8>> {
        loop {
            let front = self.chunks.front()?;
            if self.pos >= front.len() {
                self.drop_front();
                continue;
            }
            let mut p = self.pos;
            let entry = get_varint(front, &mut p)
                .and_then(|n| Some((p, p.checked_add(n)?)))
                .and_then(|(s, e)| Some((front.get(s..e)?.to_vec(), e)));
            match entry {
                Some((k, end)) => {
                    self.pos = end;
                    self.len = self.len.saturating_sub(1);
                    if self.pos >= front.len() {
                        self.drop_front();
                    }
                    return Some(k);
                }
                // Unreachable (only `push` writes chunks): drop the damaged chunk.
                None => self.drop_front(),
            }
        }
    }

    fn bytes(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum::<usize>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<u8>>()
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let pos = self.pos;
        self.chunks.iter().enumerate().flat_map(move |(i, c)| {
            let mut p = if i == 0 { pos } else { 0 };
            std::iter::from_fn(move || {
                let n = get_varint(c, &mut p)?;
                let s = p;
                p = s.checked_add(n)?;
                c.get(s..p)
            })
        })
    }
}

/// The registry of one database (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct ExpiryRegistry {
    buckets: BTreeMap<u64, Bucket>,
    /// Entries not taken yet, over all buckets (stale ones included).
    len: usize,
}

impl ExpiryRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Entries (valid and stale).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds the entry `(bucket, key)`. O(log buckets) plus the name's bytes.
    pub fn push(&mut self, bucket: u64, key: &[u8]) {
        self.buckets.entry(bucket).or_default().push(key);
        self.len += 1;
    }

    /// Entries of `bucket` not taken yet.
    pub fn bucket_len(&self, bucket: u64) -> usize {
        self.buckets.get(&bucket).map_or(0, |b| b.len)
    }

    /// The earliest bucket, if it has ended by `threshold` (`end <= threshold`).
    pub fn due_bucket(&self, threshold: u64) -> Option<u64> {
        let (&b, _) = self.buckets.first_key_value()?;
        (bucket_end(b) <= threshold).then_some(b)
    }

    /// The first bucket at or after `from`.
    pub fn bucket_from(&self, from: u64) -> Option<u64> {
        self.buckets.range(from..).next().map(|(&b, _)| b)
    }

    /// Takes up to `limit` entries from the front of `bucket`, in push order. A bucket left empty goes.
    pub fn take(&mut self, bucket: u64, limit: usize) -> Vec<Vec<u8>> {
        let Some(b) = self.buckets.get_mut(&bucket) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(limit.min(b.len));
        while out.len() < limit {
            match b.pop() {
                Some(k) => out.push(k),
                None => break,
            }
        }
        if b.len == 0 {
            self.buckets.remove(&bucket);
        }
        self.len = self.len.saturating_sub(out.len());
        out
    }

    /// FLUSHDB.
    pub fn clear(&mut self) {
        self.buckets.clear();
        self.len = 0;
    }

    /// All entries, bucket by bucket, each bucket in push order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.buckets
            .iter()
            .flat_map(|(&b, bucket)| bucket.iter().map(move |k| (b, k)))
    }

    /// Bytes allocated (chunks, queues and the map's nodes, approximately), for statistics.
    pub fn mem_usage(&self) -> usize {
        let node = std::mem::size_of::<(u64, Bucket)>() + 16;
        self.buckets
            .values()
            .map(|b| b.bytes() + node)
            .sum::<usize>()
            + std::mem::size_of::<Self>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn buckets_and_queues() {
        let mut r = ExpiryRegistry::new();
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(BUCKET_MS - 1), 0);
        assert_eq!(bucket_of(BUCKET_MS), 1);
        assert_eq!(bucket_end(0), BUCKET_MS);
        assert_eq!(bucket_of(u64::MAX), MAX_BUCKET);
        assert!(MAX_BUCKET * BUCKET_MS <= i64::MAX as u64);
        assert_eq!(MAX_BUCKET, crate::compact::MAX_STAMP);
        assert_eq!(bucket_end(u64::MAX), u64::MAX);
        r.push(3, b"a");
        r.push(1, b"b");
        r.push(3, b"");
        r.push(3, b"a");
        assert_eq!(r.len(), 4);
        assert_eq!(r.bucket_len(3), 3);
        assert_eq!(r.due_bucket(bucket_end(1) - 1), None);
        assert_eq!(r.due_bucket(bucket_end(1)), Some(1));
        assert_eq!(r.bucket_from(2), Some(3));
        assert_eq!(r.bucket_from(4), None);
        let all: Vec<(u64, Vec<u8>)> = r.iter().map(|(b, k)| (b, k.to_vec())).collect();
        assert_eq!(
            all,
            vec![
                (1, b"b".to_vec()),
                (3, b"a".to_vec()),
                (3, b"".to_vec()),
                (3, b"a".to_vec())
            ]
        );
        assert_eq!(r.take(1, 10), vec![b"b".to_vec()]);
        assert_eq!(r.due_bucket(u64::MAX), Some(3));
        assert_eq!(r.take(3, 2), vec![b"a".to_vec(), b"".to_vec()]);
        assert_eq!(r.len(), 1);
        assert_eq!(r.take(9, 2), Vec::<Vec<u8>>::new());
        r.clear();
        assert!(r.is_empty() && r.due_bucket(u64::MAX).is_none());
    }

    /// Names longer than a chunk, names spanning many chunks, and the memory bound: a bucket's slack
    /// is at most one chunk.
    #[test]
    fn chunks_and_memory() {
        let mut r = ExpiryRegistry::new();
        let long = vec![7u8; CHUNK_BYTES * 2 + 3];
        r.push(5, b"x");
        r.push(5, &long);
        r.push(5, b"y");
        assert_eq!(
            r.take(5, 3),
            vec![b"x".to_vec(), long.clone(), b"y".to_vec()]
        );
        assert!(r.is_empty());
        for i in 0..100_000u32 {
            r.push(7, format!("sm:{i:012}").as_bytes());
        }
        // 15-byte names and a length byte: 16 bytes an entry, plus at most a chunk of slack and the
        // queue of chunks (24 bytes per 4 KiB).
        let used = r.mem_usage();
        assert!(used <= 100_000 * 16 * 101 / 100 + 2 * CHUNK_BYTES, "{used}");
        // Taking from the front frees the consumed chunks.
        let got = r.take(7, 99_000);
        assert_eq!(got.len(), 99_000);
        assert_eq!(got.last().map(Vec::as_slice), Some(&b"sm:000000098999"[..]));
        assert!(r.mem_usage() <= 1_000 * 16 + 2 * CHUNK_BYTES + 4096);
        assert_eq!(r.take(7, usize::MAX).len(), 1_000);
        assert_eq!(r.mem_usage(), std::mem::size_of::<ExpiryRegistry>());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(u8, Vec<u8>),
        Take(u8, usize),
        TakeDue(u64, usize),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..6, proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(b, k)| Op::Push(b, k)),
            1 => (0u8..6, 0usize..5).prop_map(|(b, n)| Op::Take(b, n)),
            1 => (0u64..1000, 0usize..5).prop_map(|(t, n)| Op::TakeDue(t, n)),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        /// The registry against a model: a map bucket -> queue of names.
        #[test]
        fn registry_matches_model(ops in proptest::collection::vec(op(), 1..200)) {
            let mut r = ExpiryRegistry::new();
            let mut model: BTreeMap<u64, VecDeque<Vec<u8>>> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Push(b, k) => {
                        r.push(u64::from(b), &k);
                        model.entry(u64::from(b)).or_default().push_back(k);
                    }
                    Op::Take(b, n) => {
                        let b = u64::from(b);
                        let got = r.take(b, n);
                        let q = model.entry(b).or_default();
                        let want: Vec<Vec<u8>> = (0..n).map_while(|_| q.pop_front()).collect();
                        prop_assert_eq!(got, want);
                    }
                    Op::TakeDue(t, n) => {
                        let want_b = model
                            .iter()
                            .find(|(_, q)| !q.is_empty())
                            .map(|(&b, _)| b)
                            .filter(|&b| bucket_end(b) <= t);
                        prop_assert_eq!(r.due_bucket(t), want_b);
                        if let Some(b) = want_b {
                            let q = model.entry(b).or_default();
                            let want: Vec<Vec<u8>> = (0..n).map_while(|_| q.pop_front()).collect();
                            prop_assert_eq!(r.take(b, n), want);
                        }
                    }
                    Op::Clear => {
                        r.clear();
                        model.clear();
                    }
                }
                model.retain(|_, q| !q.is_empty());
                let want: Vec<(u64, Vec<u8>)> = model
                    .iter()
                    .flat_map(|(&b, q)| q.iter().map(move |k| (b, k.clone())))
                    .collect();
                let got: Vec<(u64, Vec<u8>)> = r.iter().map(|(b, k)| (b, k.to_vec())).collect();
                prop_assert_eq!(r.len(), want.len());
                prop_assert_eq!(got, want);
            }
        }
    }
}
