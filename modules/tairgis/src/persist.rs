//! The module type `exgistype` (spec §9): RDB encoding version 1 = u64 member count, then per member in
//! insertion order its name and canonical WKT. Load re-validates every geometry and bulk-loads the
//! R-tree. AOF rewrite `GIS.ADD key name wkt` per member in insertion order; digest of names and WKT in
//! that order; MEMORY USAGE from the contents; COPY; free_effort = member count.

use tair_common::rdb::{self, AofWriter, Digest, RdbError, RdbReader, RdbWriter};
use tair_common::value::{DataType, ModuleValue};

use crate::area::GisArea;
use crate::geom;

pub static GIS_TYPE: DataType = DataType::new();

/// Largest name or WKT text accepted from an RDB (Valkey's default proto-max-bulk-len).
const MAX_TEXT: usize = 512 << 20;

pub fn load(src: &mut impl rdb::Source, encver: i32) -> Result<GisArea, RdbError> {
    if encver != 1 {
        return Err(RdbError::msg(format!(
            "unsupported encoding version {encver} (TairGis's encoding 0 is not supported)"
        )));
    }
    let n = src.read_u64()?;
    let mut members = Vec::new();
    for _ in 0..n {
        let name = src.read_bytes(MAX_TEXT)?;
        let wkt = src.read_bytes(MAX_TEXT)?;
        let shape = geom::parse(&wkt)
            .map_err(|e| RdbError::msg(format!("bad geometry: {}", e.reason())))?;
        members.push((name.into_boxed_slice(), shape));
    }
    Ok(GisArea::from_members(members))
}

pub fn save(a: &GisArea, sink: &mut impl rdb::Sink) {
    sink.write_u64(a.len() as u64);
    for (_, m) in a.iter() {
        sink.write_bytes(&m.name);
        sink.write_bytes(&m.shape.wkt);
    }
}

/// MEMORY USAGE: [`GisArea::mem_usage`] (the spec's Σ texts + 16 per position + a constant reported
/// about half of what a big area added to used_memory; issue #15).
pub fn mem_usage(a: &GisArea) -> usize {
    a.mem_usage()
}

impl ModuleValue for GisArea {
    const NAME: &'static str = "exgistype";
    const ENCVER: i32 = 1;

    fn data_type() -> &'static DataType {
        &GIS_TYPE
    }

    fn rdb_load(r: &mut RdbReader, encver: i32) -> Result<Self, RdbError> {
        load(r, encver)
    }

    fn rdb_save(&self, w: &mut RdbWriter) {
        save(self, w);
    }

    fn aof_rewrite(&self, w: &mut AofWriter, key: &[u8]) {
        for (_, m) in self.iter() {
            w.emit(c"GIS.ADD", &[key, &m.name, &m.shape.wkt]);
        }
    }

    fn mem_usage(&self) -> usize {
        mem_usage(self)
    }

    fn digest(&self, d: &mut Digest) {
        for (_, m) in self.iter() {
            d.add_bytes(&m.name);
            d.add_bytes(&m.shape.wkt);
        }
        d.end_sequence();
    }

    fn copy_value(&self) -> Option<Self> {
        Some(self.clone())
    }

    fn free_effort(&self) -> usize {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tair_common::rdb::{Sink, SliceSource, VecSink};

    #[test]
    fn rdb_round_trip_and_every_truncation() {
        let mut a = GisArea::new();
        for (n, w) in [
            ("b", "POLYGON((0 0,1 0,1 1))"),
            ("a\0x", "POINT(1 2)"),
            ("c", "MULTIPOINT(1 2,3 4)"),
            ("b", "LINESTRING(0 0,5 5)"),
        ] {
            a.insert(n.as_bytes(), geom::parse(w.as_bytes()).unwrap());
        }
        let mut s = VecSink::default();
        save(&a, &mut s);
        let b = load(&mut SliceSource::new(&s.data), 1).unwrap();
        b.check().unwrap();
        assert_eq!(a, b);
        let order: Vec<_> = b.iter().map(|(_, m)| m.name.to_vec()).collect();
        assert_eq!(order, [b"a\0x".to_vec(), b"c".to_vec(), b"b".to_vec()]);
        assert!(load(&mut SliceSource::new(&s.data), 0).is_err());
        assert!(load(&mut SliceSource::new(&s.data), 2).is_err());
        for cut in 0..s.data.len() {
            assert!(load(&mut SliceSource::new(&s.data[..cut]), 1).is_err());
        }
        // a corrupt geometry is an error
        let mut s = VecSink::default();
        s.write_u64(1);
        s.write_bytes(b"x");
        s.write_bytes(b"POINT(500 1)");
        assert!(load(&mut SliceSource::new(&s.data), 1).is_err());
        // an inflated count fails on the first missing member, without allocating for it
        let mut s = VecSink::default();
        s.write_u64(u64::MAX);
        assert!(load(&mut SliceSource::new(&s.data), 1).is_err());
        assert!(mem_usage(&a) > mem_usage(&GisArea::new()));
    }
}
