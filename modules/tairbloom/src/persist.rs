//! The module type `tairbloom` (spec §5): RDB (encoding version 1: header H, then one string buffer per
//! sub-filter), AOF rewrite as TFBFLOADCHUNK chunks, digest, MEMORY USAGE, COPY and free effort.
//!
//! The pure layer's [`crate::Source`]/[`crate::Sink`] (length-delimited byte buffers) map onto the
//! server's string buffers through two small adapters, so the same code is tested on byte slices.

use tair_common::propagate::utoa;
use tair_common::rdb::{self, AofWriter, Digest, RdbError, RdbReader, RdbWriter};
use tair_common::value::{DataType, Defrag, DefragStatus, ModuleValue};

use crate::{ScalableBloom, SourceError, ENCODING_VERSION};

pub static BLOOM_TYPE: DataType = DataType::new();

/// Reads the pure layer's buffers from a server-side source (the RDB, or a slice in tests).
struct FromRdb<'a, S: rdb::Source>(&'a mut S);

impl<S: rdb::Source> crate::Source for FromRdb<'_, S> {
    fn get_bytes(&mut self, max_len: usize) -> Result<Vec<u8>, SourceError> {
        self.0.read_bytes(max_len).map_err(|_| SourceError)
    }
}

/// Writes the pure layer's buffers as string buffers.
struct ToRdb<'a, S: rdb::Sink>(&'a mut S);

impl<S: rdb::Sink> crate::Sink for ToRdb<'_, S> {
    fn put_bytes(&mut self, bytes: &[u8]) {
        self.0.write_bytes(bytes);
    }
}

/// Loads a filter written with encoding version `encver`, validating everything (a forged or truncated
/// payload is an error, never a crash, and never allocates past the per-key size limit).
pub fn load(src: &mut impl rdb::Source, encver: i32) -> Result<ScalableBloom, RdbError> {
    ScalableBloom::rdb_load(&mut FromRdb(src), encver).map_err(|e| RdbError::msg(e.reason()))
}

pub fn save(f: &ScalableBloom, sink: &mut impl rdb::Sink) {
    f.rdb_save(&mut ToRdb(sink));
}

/// The AOF form: `TFBFLOADCHUNK key 1 <H>`, then `TFBFLOADCHUNK key <it> <chunk>` for every chunk exactly
/// as TFBFSCANDUMP returns them. Each command is handed to `emit` as its arguments.
pub fn rewrite_commands(f: &ScalableBloom, key: &[u8], mut emit: impl FnMut(&[&[u8]])) {
    let mut buf = [0u8; 20];
    let (mut it, header) = f.scandump(0);
    emit(&[key, utoa(it, &mut buf), &header]);
    loop {
        let (next, chunk) = f.scandump(it);
        if next == 0 {
            return;
        }
        emit(&[key, utoa(next, &mut buf), &chunk]);
        it = next;
    }
}

impl ModuleValue for ScalableBloom {
    const NAME: &'static str = "tairbloom";
    const ENCVER: i32 = ENCODING_VERSION;

    fn data_type() -> &'static DataType {
        &BLOOM_TYPE
    }

    fn rdb_load(r: &mut RdbReader, encver: i32) -> Result<Self, RdbError> {
        load(r, encver)
    }

    fn rdb_save(&self, w: &mut RdbWriter) {
        save(self, w);
    }

    fn aof_rewrite(&self, w: &mut AofWriter, key: &[u8]) {
        rewrite_commands(self, key, |args| w.emit(c"TFBFLOADCHUNK", args));
    }

    fn mem_usage(&self) -> usize {
        usize::try_from(ScalableBloom::mem_usage(self)).unwrap_or(usize::MAX)
    }

    /// H, then every bit array, as one sequence.
    fn digest(&self, d: &mut Digest) {
        self.digest_parts(|part| d.add_bytes(part));
        d.end_sequence();
    }

    fn copy_value(&self) -> Option<Self> {
        Some(self.clone())
    }

    fn free_effort(&self) -> usize {
        usize::try_from(ScalableBloom::free_effort(self)).unwrap_or(usize::MAX)
    }

    const DEFRAG: bool = true;
    /// Sub-filter by sub-filter; a chain of many resumes at the next one when time is up.
    fn defrag(&mut self, d: &mut Defrag) -> DefragStatus {
        let from = d
            .cursor()
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(0);
        match ScalableBloom::defrag(self, d, from) {
            Some(next) if d.set_cursor(next as u64) => DefragStatus::More,
            _ => DefragStatus::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tair_common::rdb::{SliceSource, VecSink};

    fn grown() -> ScalableBloom {
        let mut f = ScalableBloom::new(0.01, 10).unwrap();
        for i in 0..500 {
            f.add(format!("item:{i}").as_bytes()).unwrap();
        }
        f
    }

    #[test]
    fn defrag_moves_the_list_and_every_bit_array_and_keeps_the_filter() {
        let mut f = grown();
        let n = f.filters().len();
        assert!(n > 1);
        let want = f.clone();
        let mut d = Defrag::relocating_every_block();
        assert_eq!(ModuleValue::defrag(&mut f, &mut d), DefragStatus::Done);
        // The list of sub-filters and one page per sub-filter.
        assert_eq!(d.moved(), 1 + n);
        assert_eq!(f, want);
        assert!(f.exists(b"item:7"));
        f.add(b"after").unwrap();
        assert!(f.exists(b"after"));
        // A resumed step starts at its sub-filter: the list and the earlier ones stay.
        let mut d = Defrag::relocating_every_block();
        assert_eq!(ScalableBloom::defrag(&mut f, &mut d, n - 1), None);
        assert_eq!(d.moved(), 1);
        assert_eq!(ScalableBloom::defrag(&mut f, &mut d, n + 5), None);
        assert_eq!(d.moved(), 1);
    }

    #[test]
    fn rdb_round_trip_and_corruption() {
        let f = grown();
        let mut s = VecSink::default();
        save(&f, &mut s);
        assert_eq!(load(&mut SliceSource::new(&s.data), 1).unwrap(), f);
        assert!(load(&mut SliceSource::new(&s.data), 0).is_err());
        assert!(load(&mut SliceSource::new(&s.data), 2).is_err());
        for cut in (0..s.data.len()).step_by(7) {
            assert!(
                load(&mut SliceSource::new(&s.data[..cut]), 1).is_err(),
                "cut {cut}"
            );
        }
        // an inflated first length is refused before anything is allocated
        let mut bad = s.data.clone();
        bad[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(load(&mut SliceSource::new(&bad), 1).is_err());
    }

    /// The AOF commands, replayed through the pure LOADCHUNK path, rebuild the filter bit for bit.
    #[test]
    fn rewrite_rebuilds_exactly() {
        let f = grown();
        let mut cmds: Vec<Vec<Vec<u8>>> = vec![];
        rewrite_commands(&f, b"k\0", |a| {
            cmds.push(a.iter().map(|x| x.to_vec()).collect())
        });
        assert_eq!(cmds.len(), 2);
        assert!(cmds.iter().all(|c| c[0] == b"k\0"));
        assert_eq!(cmds[0][1], b"1");
        let mut g = ScalableBloom::from_header(&cmds[0][2]).unwrap();
        for c in &cmds[1..] {
            let it: u64 = std::str::from_utf8(&c[1]).unwrap().parse().unwrap();
            g.load_chunk(it, &c[2]).unwrap();
        }
        assert_eq!(g, f);
    }
}
