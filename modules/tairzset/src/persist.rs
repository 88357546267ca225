//! The `tairzset_` data type (spec §5): RDB encoding version 0 in open-source TairZset's layout, AOF
//! rewrite as batches of EXZADD, digest, MEMORY USAGE, COPY and free effort.
//!
//! RDB v0: unsigned member count; unsigned N; then every member in descending order: string member,
//! N doubles.

use tair_common::rdb::{AofWriter, Digest, RdbError, RdbReader, RdbWriter, Sink, Source};
use tair_common::value::{DataType, ModuleValue};

use crate::score::{format_score, MAX_DIMS};
use crate::zset::{Span, TairZset, ZsetBuilder};

pub static ZSET_TYPE: DataType = DataType::new();

/// Longest member accepted from an RDB (the server's default `proto-max-bulk-len`).
pub const MAX_MEMBER_LEN: usize = 512 << 20;
/// Pairs per EXZADD emitted by an AOF rewrite.
pub const AOF_BATCH: usize = 64;
/// Bytes reserved up front while loading. The count comes from the payload and is not trusted, and an
/// RDB stream cannot say how many bytes remain, so the reservation is bounded in bytes: a forged count
/// with 255 dimensions reserves at most this much before a member has been read; a real big set grows
/// from there (amortised doubling).
const PRESIZE_BYTES: usize = 1 << 20;

/// Members to reserve for a payload that declares `count` members of `dims` dimensions.
fn presize(count: u64, dims: usize) -> usize {
    let per_member = dims.saturating_mul(8).saturating_add(32);
    usize::try_from(count)
        .unwrap_or(usize::MAX)
        .min(PRESIZE_BYTES / per_member.max(1))
}

/// Reads the v0 layout from any source (the RDB, or a byte slice in tests and fuzzers). A count of 0,
/// N outside 1..=255, a NaN, a duplicate member or a short read is an error.
pub fn load(src: &mut impl Source, encver: i32) -> Result<TairZset, RdbError> {
    if encver != 0 {
        return Err(RdbError::msg(format!(
            "tairzset_: unknown encoding version {encver}"
        )));
    }
    let count = src.read_u64()?;
    if count == 0 {
        return Err(RdbError::msg("tairzset_: empty set"));
    }
    let dims = src.read_u64()?;
    let dims = usize::try_from(dims)
        .ok()
        .filter(|d| (1..=MAX_DIMS).contains(d))
        .ok_or_else(|| RdbError::msg(format!("tairzset_: {dims} dimensions")))?;
    let mut b =
        ZsetBuilder::new(dims, presize(count, dims)).map_err(|e| RdbError::msg(e.message()))?;
    let mut score = vec![0.0; dims];
    // The v0 layout puts each member before its score: the member is kept in `member` (one buffer
    // reused for the whole set) until its score is read.
    let mut member: smallvec::SmallVec<[u8; 64]> = smallvec::SmallVec::new();
    for _ in 0..count {
        src.with_bytes(MAX_MEMBER_LEN, |m| {
            member.clear();
            member.extend_from_slice(m);
        })?;
        for d in score.iter_mut() {
            *d = src.read_f64()?;
        }
        b.push(&member, &score)
            .map_err(|e| RdbError::msg(format!("tairzset_: {}", e.message())))?;
    }
    b.finish().map_err(|e| RdbError::msg(e.message()))
}

/// Writes the v0 layout.
pub fn save(z: &TairZset, sink: &mut impl Sink) {
    sink.write_u64(z.len() as u64);
    sink.write_u64(z.dims() as u64);
    let all = Span {
        start: 0,
        end: z.len(),
        reverse: true,
    };
    for (member, score) in z.iter_span(all) {
        sink.write_bytes(member);
        for &v in score.iter() {
            sink.write_f64(v);
        }
    }
}

/// The EXZADD argument lists that rebuild `z` under `key`: ascending, at most [`AOF_BATCH`] pairs each,
/// scores in the exact §2.5 text.
pub fn rewrite_commands(z: &TairZset, key: &[u8], mut emit: impl FnMut(&[&[u8]])) {
    let mut texts: Vec<Vec<u8>> = Vec::with_capacity(AOF_BATCH);
    let mut members: Vec<&[u8]> = Vec::with_capacity(AOF_BATCH);
    let mut flush = |texts: &mut Vec<Vec<u8>>, members: &mut Vec<&[u8]>| {
        if members.is_empty() {
            return;
        }
        let mut args: Vec<&[u8]> = Vec::with_capacity(1 + 2 * members.len());
        args.push(key);
        for (t, m) in texts.iter().zip(members.iter()) {
            args.push(t);
            args.push(m);
        }
        emit(&args);
        texts.clear();
        members.clear();
    };
    for (member, score) in z.iter() {
        let mut t = Vec::with_capacity(24 * score.len());
        format_score(&score, &mut t);
        texts.push(t);
        members.push(member);
        if members.len() == AOF_BATCH {
            flush(&mut texts, &mut members);
        }
    }
    flush(&mut texts, &mut members);
}

impl ModuleValue for TairZset {
    const NAME: &'static str = "tairzset_";
    const ENCVER: i32 = 0;

    fn data_type() -> &'static DataType {
        &ZSET_TYPE
    }

    fn rdb_load(r: &mut RdbReader, encver: i32) -> Result<Self, RdbError> {
        load(r, encver)
    }

    fn rdb_save(&self, w: &mut RdbWriter) {
        save(self, w);
    }

    fn aof_rewrite(&self, w: &mut AofWriter, key: &[u8]) {
        rewrite_commands(self, key, |args| w.emit(c"EXZADD", args));
    }

    fn mem_usage(&self) -> usize {
        TairZset::mem_usage(self)
    }

    fn digest(&self, d: &mut Digest) {
        let mut text = Vec::with_capacity(32);
        for (member, score) in self.iter() {
            d.add_bytes(member);
            text.clear();
            format_score(&score, &mut text);
            d.add_bytes(&text);
            d.end_sequence();
        }
    }

    fn copy_value(&self) -> Option<Self> {
        Some(self.clone())
    }

    fn free_effort(&self) -> usize {
        self.len()
    }

    const DEFRAG: bool = true;
    /// A big set member by member; it resumes at the next member slot when late defrag's time is up.
    fn defrag(&mut self, d: &mut tair_common::value::Defrag) -> tair_common::value::DefragStatus {
        use tair_common::value::DefragStatus;
        let from = d
            .cursor()
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(0);
        match TairZset::defrag(self, d, from) {
            Some(next) if d.set_cursor(next as u64) => DefragStatus::More,
            _ => DefragStatus::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn defrag_moves_a_compact_buffer_and_keeps_the_set() {
        use super::{save, TairZset};
        use crate::zset::AddCondition;
        use tair_common::rdb::VecSink;
        use tair_common::value::{Defrag, DefragStatus, ModuleValue};
        let bytes = |z: &TairZset| {
            let mut s = VecSink::default();
            save(z, &mut s);
            s.data
        };
        let mut z = TairZset::with_first(b"a", &[1.0, 2.0]).unwrap();
        z.add(b"b", &[0.5, 9.0], AddCondition::Always, false)
            .unwrap();
        assert!(z.is_compact());
        let want = bytes(&z);
        let mut d = Defrag::relocating_every_block();
        assert_eq!(ModuleValue::defrag(&mut z, &mut d), DefragStatus::Done);
        assert_eq!(d.moved(), 1);
        assert_eq!(bytes(&z), want);
        z.check().unwrap();
        z.add(b"c", &[3.0, 0.0], AddCondition::Always, false)
            .unwrap();
        assert_eq!(z.len(), 3);
    }

    #[test]
    fn defrag_moves_a_big_set_its_arrays_and_heap_members_and_keeps_it() {
        use super::{save, TairZset};
        use crate::zset::AddCondition;
        use tair_common::rdb::VecSink;
        use tair_common::value::{Defrag, DefragStatus, ModuleValue};
        let bytes = |z: &TairZset| {
            let mut s = VecSink::default();
            save(z, &mut s);
            s.data
        };
        let mut big = TairZset::new_big(2).unwrap();
        for i in 0..300 {
            // Every third member is longer than the 16 bytes kept inline.
            let m = if i % 3 == 0 {
                format!("a long member name {i:04}")
            } else {
                format!("m{i}")
            };
            big.add(
                m.as_bytes(),
                &[f64::from(i % 17), 1.0],
                AddCondition::Always,
                false,
            )
            .unwrap();
        }
        // A free slot (its member empty) among the used ones.
        assert!(big.remove(b"m1"));
        assert!(!big.is_compact());
        let want = bytes(&big);
        let mut d = Defrag::relocating_every_block();
        assert_eq!(ModuleValue::defrag(&mut big, &mut d), DefragStatus::Done);
        // The BigBox, the table's three arrays, the tree's leaves and inner nodes, 100 heap members.
        assert!(d.moved() >= 1 + 3 + 2 + 100, "{} moved", d.moved());
        assert_eq!(bytes(&big), want);
        big.check().unwrap();
        // A resumed step moves the members from its slot on, and no array.
        let mut d = Defrag::relocating_every_block();
        assert_eq!(TairZset::defrag(&mut big, &mut d, 150), None);
        assert_eq!(d.moved(), 1 + 50);
        assert_eq!(TairZset::defrag(&mut big, &mut d, 10_000), None);
        assert_eq!(bytes(&big), want);
        big.check().unwrap();
        big.add(b"after", &[1.0, 2.0], AddCondition::Always, false)
            .unwrap();
        assert_eq!(big.len(), 300);
    }

    #[test]
    fn presize_is_bounded_in_bytes() {
        // The forged RESTORE of the review: count 65536, 255 dimensions, one member.
        let n = super::presize(65_536, 255);
        assert!(
            n * (255 * 8) <= super::PRESIZE_BYTES,
            "reserves {n} members"
        );
        assert_eq!(super::presize(10, 1), 10);
        assert_eq!(super::presize(u64::MAX, 1), super::PRESIZE_BYTES / 40);
    }

    use super::*;
    use crate::zset::AddCondition;
    use tair_common::rdb::{SliceSource, VecSink};

    fn sample() -> TairZset {
        let mut z = TairZset::new(2).unwrap();
        for (i, m) in [&b"a"[..], b"", b"\0\xff", b"zz"].iter().enumerate() {
            let s = [i as f64 * 0.1, -(i as f64)];
            z.add(m, &s, AddCondition::Always, false).unwrap();
        }
        z.add(b"inf", &[f64::INFINITY, -0.0], AddCondition::Always, false)
            .unwrap();
        z
    }

    fn entries(z: &TairZset) -> Vec<(Vec<u8>, Vec<u64>)> {
        z.iter()
            .map(|(m, s)| (m.to_vec(), s.iter().map(|v| v.to_bits()).collect()))
            .collect()
    }

    #[test]
    fn roundtrip_descending_and_corruption() {
        let z = sample();
        let mut s = VecSink::default();
        save(&z, &mut s);
        let back = load(&mut SliceSource::new(&s.data), 0).unwrap();
        assert_eq!(entries(&back), entries(&z));
        back.check().unwrap();
        // Descending on disk: the first member written is the highest.
        let mut src = SliceSource::new(&s.data);
        assert_eq!(src.read_u64().unwrap(), 5);
        assert_eq!(src.read_u64().unwrap(), 2);
        assert_eq!(src.read_bytes(100).unwrap(), b"inf");
        assert!(load(&mut SliceSource::new(&s.data), 1).is_err());
        for cut in 0..s.data.len() {
            assert!(
                load(&mut SliceSource::new(&s.data[..cut]), 0).is_err(),
                "cut {cut}"
            );
        }
        let forge = |count: u64, dims: u64, items: &[(&[u8], &[f64])]| {
            let mut v = VecSink::default();
            v.write_u64(count);
            v.write_u64(dims);
            for (m, sc) in items {
                v.write_bytes(m);
                for &d in *sc {
                    v.write_f64(d);
                }
            }
            v.data
        };
        let bad = [
            forge(0, 1, &[]),
            forge(1, 0, &[(b"a", &[])]),
            forge(1, 256, &[(b"a", &[1.0])]),
            forge(2, 1, &[(b"a", &[1.0]), (b"a", &[2.0])]),
            forge(1, 1, &[(b"a", &[f64::NAN])]),
            forge(u64::MAX, 1, &[(b"a", &[1.0])]),
            forge(3, 1, &[(b"a", &[1.0]), (b"b", &[2.0])]),
        ];
        for (i, data) in bad.iter().enumerate() {
            assert!(load(&mut SliceSource::new(data), 0).is_err(), "forged {i}");
        }
        assert!(load(&mut SliceSource::new(&forge(1, 1, &[(b"a", &[1.0])])), 0).is_ok());
    }

    #[test]
    fn rewrite_batches_round_trip() {
        let mut z = TairZset::new(1).unwrap();
        for i in 0..150u32 {
            let s = [f64::from(i) / 7.0];
            z.add(&i.to_be_bytes(), &s, AddCondition::Always, false)
                .unwrap();
        }
        let mut batches = Vec::new();
        rewrite_commands(&z, b"k", |args| {
            batches.push(args.iter().map(|a| a.to_vec()).collect::<Vec<_>>())
        });
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [129, 129, 45]
        );
        let mut back = TairZset::new(1).unwrap();
        for b in &batches {
            assert_eq!(b[0], b"k");
            for pair in b[1..].chunks(2) {
                let s = crate::ScoreTuple::parse(&pair[0]).unwrap();
                back.add(&pair[1], s.as_slice(), AddCondition::Always, false)
                    .unwrap();
            }
        }
        assert_eq!(entries(&back), entries(&z));
    }
}
