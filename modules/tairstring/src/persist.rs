//! RDB (encoding version 0, Tair's layout: unsigned version, unsigned flags, string value), AOF rewrite,
//! digest, MEMORY USAGE and COPY of `exstrtype`.
//!
//! Every unsigned 64-bit version loads. Ours stay within 0 ..= 2^63-1, but the C module keeps a signed
//! counter that wraps past 2^63-1 (`EXSET k a ABS 9223372036854775807` then `EXSET k b`) and saves its
//! bits unsigned: such a value loads as it is, EXGET reports it as the C module does (the signed number
//! with the same bits, -9223372036854775808), and the next write that would raise it fails with
//! `ERR version overflow` (README, "Data from the C modules").

use tair_common::alloc::free_effort_of_bytes;
use tair_common::propagate::utoa;
use tair_common::rdb::{AofWriter, Digest, RdbError, Sink, Source};
use tair_common::value::{DataType, ModuleValue};

use crate::exstring::{ExString, MAX_LEN};

pub static EXSTRING_TYPE: DataType = DataType::new();

/// Reads Tair's layout from any source (the RDB, or a byte slice in tests and fuzzers).
pub fn load(src: &mut impl Source, encver: i32) -> Result<ExString, RdbError> {
    if encver != 0 {
        return Err(RdbError::msg(format!(
            "exstrtype: unknown encoding version {encver}"
        )));
    }
    let version = src.read_u64()?;
    let flags = u32::try_from(src.read_u64()?)
        .map_err(|_| RdbError::msg("exstrtype: flags out of range"))?;
    let value = src.read_bytes(MAX_LEN)?;
    Ok(ExString::new(&value, version, flags))
}

pub fn save(v: &ExString, sink: &mut impl Sink) {
    sink.write_u64(v.version());
    sink.write_u64(u64::from(v.flags()));
    sink.write_bytes(v.value());
}

impl ModuleValue for ExString {
    const NAME: &'static str = "exstrtype";
    const ENCVER: i32 = 0;

    fn data_type() -> &'static DataType {
        &EXSTRING_TYPE
    }

    fn rdb_load(r: &mut tair_common::rdb::RdbReader, encver: i32) -> Result<Self, RdbError> {
        load(r, encver)
    }

    fn rdb_save(&self, w: &mut tair_common::rdb::RdbWriter) {
        save(self, w);
    }

    fn aof_rewrite(&self, w: &mut AofWriter, key: &[u8]) {
        let (mut vb, mut fb) = ([0u8; 20], [0u8; 20]);
        let ver = utoa(self.version(), &mut vb);
        let flags = utoa(u64::from(self.flags()), &mut fb);
        w.emit(c"EXSET", &[key, self.value(), b"ABS", ver, b"FLAGS", flags]);
    }

    fn mem_usage(&self) -> usize {
        ExString::mem_usage(self)
    }

    fn digest(&self, d: &mut Digest) {
        d.add_bytes(self.value());
        d.add_i64(self.version() as i64);
        d.add_i64(i64::from(self.flags()));
        d.end_sequence();
    }

    fn copy_value(&self) -> Option<Self> {
        Some(self.clone())
    }

    fn free_effort(&self) -> usize {
        // a big value is freed on the lazy-free thread (one buffer, but a big one)
        free_effort_of_bytes(ExString::mem_usage(self))
    }

    const DEFRAG: bool = true;
    fn defrag(&mut self, d: &mut tair_common::value::Defrag) -> tair_common::value::DefragStatus {
        ExString::defrag(self, d);
        tair_common::value::DefragStatus::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tair_common::rdb::{SliceSource, VecSink};

    #[test]
    fn defrag_moves_the_heap_part_and_keeps_the_value() {
        use tair_common::value::{Defrag, DefragStatus};
        for (value, blocks) in [
            (&b"short"[..], 0),
            (&[b'h'; 20][..], 1),
            (&[b'x'; 300][..], 2),
        ] {
            let mut v = ExString::new(value, 9, 3);
            let want = v.clone();
            let mut d = Defrag::relocating_every_block();
            assert_eq!(ModuleValue::defrag(&mut v, &mut d), DefragStatus::Done);
            assert_eq!(d.moved(), blocks, "{} bytes", value.len());
            assert_eq!(v, want);
            v.set(b"then written again, longer than any inline form", 10, 3);
            assert_eq!(
                v.value(),
                b"then written again, longer than any inline form"
            );
        }
    }

    #[test]
    fn roundtrip_and_corruption() {
        let v = ExString::new(b"a\0\xffb", 42, u32::MAX);
        let mut s = VecSink::default();
        save(&v, &mut s);
        assert_eq!(load(&mut SliceSource::new(&s.data), 0), Ok(v));
        assert!(load(&mut SliceSource::new(&s.data), 1).is_err());
        for cut in 0..s.data.len() {
            assert!(
                load(&mut SliceSource::new(&s.data[..cut]), 0).is_err(),
                "cut {cut}"
            );
        }
        let mut bad = VecSink::default();
        bad.write_u64(1);
        bad.write_u64(1 << 32);
        bad.write_bytes(b"x");
        assert!(load(&mut SliceSource::new(&bad.data), 0).is_err());
    }

    /// What the C module writes once a version passed 2^63-1: loaded as it is, saved back the same.
    #[test]
    fn wrapped_versions_from_the_c_module_load() {
        for version in [1u64 << 63, (1 << 63) + 1, u64::MAX] {
            let mut s = VecSink::default();
            s.write_u64(version);
            s.write_u64(7);
            s.write_bytes(b"a");
            let v = load(&mut SliceSource::new(&s.data), 0).unwrap();
            assert_eq!(v, ExString::new(b"a", version, 7));
            let mut again = VecSink::default();
            save(&v, &mut again);
            assert_eq!(again.data, s.data);
        }
    }
}
