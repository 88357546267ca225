//! The module type `tair-json` (spec §8): RDB version 1 = compact JSON text; version 0 (C TairDoc) =
//! the same text plus one NUL byte. AOF rewrite `EXJSONSET key $ <text>`, digest of the text,
//! MEMORY USAGE from the buffer, COPY, free_effort one per KiB of the buffer (a big document is freed
//! on the lazy-free thread).

use tair_common::alloc::{free_effort_of_bytes, size_class};
use tair_common::rdb::{self, AofWriter, Digest, RdbError, RdbReader, RdbWriter};
use tair_common::value::{DataType, Defrag, DefragStatus, ModuleValue};

use crate::{store, Doc};

pub static DOC_TYPE: DataType = DataType::new();

/// Largest text accepted from an RDB (Valkey's default proto-max-bulk-len).
const MAX_TEXT: usize = 512 << 20;

pub fn load(src: &mut impl rdb::Source, encver: i32) -> Result<Doc, RdbError> {
    let mut text = src.read_bytes(MAX_TEXT)?;
    match encver {
        1 => {}
        0 => {
            if text.last() == Some(&0) {
                text.pop();
            }
        }
        v => return Err(RdbError::msg(format!("unknown encoding version {v}"))),
    }
    let p = store::parse(&text).map_err(|e| RdbError::msg(format!("bad document: {e:?}")))?;
    Ok(Doc { buf: p.buf })
}

pub fn save(d: &Doc, sink: &mut impl rdb::Sink) {
    sink.write_bytes(&d.text());
}

impl Doc {
    /// Compact JSON text of the whole document.
    pub fn text(&self) -> Vec<u8> {
        store::text(&self.buf, 0)
    }
}

impl ModuleValue for Doc {
    const NAME: &'static str = "tair-json";
    const ENCVER: i32 = 1;

    fn data_type() -> &'static DataType {
        &DOC_TYPE
    }

    fn rdb_load(r: &mut RdbReader, encver: i32) -> Result<Self, RdbError> {
        load(r, encver)
    }

    fn rdb_save(&self, w: &mut RdbWriter) {
        save(self, w);
    }

    fn aof_rewrite(&self, w: &mut AofWriter, key: &[u8]) {
        w.emit(c"EXJSONSET", &[key, b"$", &self.text()]);
    }

    fn mem_usage(&self) -> usize {
        // the value block and the buffer as the allocator holds them (jemalloc's size classes round a
        // 900 KB buffer up to 1 MiB); at least the compact text (spec §8), which the binary form can
        // undercut
        size_class(std::mem::size_of::<Doc>())
            .saturating_add(size_class(self.buf.capacity()))
            .max(self.text().len())
    }

    fn digest(&self, d: &mut Digest) {
        d.add_bytes(&self.text());
        d.end_sequence();
    }

    fn copy_value(&self) -> Option<Self> {
        Some(self.clone())
    }

    fn free_effort(&self) -> usize {
        // one allocation whatever the node count; a big one is freed on the lazy-free thread
        free_effort_of_bytes(self.buf.capacity())
    }

    const DEFRAG: bool = true;
    /// The document is one buffer: it moves in one step.
    fn defrag(&mut self, d: &mut Defrag) -> DefragStatus {
        d.vec(&mut self.buf);
        DefragStatus::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tair_common::rdb::{SliceSource, VecSink};

    #[test]
    fn defrag_moves_the_buffer_and_keeps_the_document() {
        use tair_common::value::{Defrag, DefragStatus};
        let mut doc = Doc {
            buf: store::parse(br#"{"a":[1,2.5,"x"],"b":{"c":null}}"#)
                .unwrap()
                .buf,
        };
        let want = doc.clone();
        let mut d = Defrag::relocating_every_block();
        assert_eq!(ModuleValue::defrag(&mut doc, &mut d), DefragStatus::Done);
        assert_eq!(d.moved(), 1);
        assert_eq!(doc, want);
        assert_eq!(doc.text(), br#"{"a":[1,2.5,"x"],"b":{"c":null}}"#);
    }

    #[test]
    fn rdb_round_trip() {
        let d = Doc {
            buf: store::parse(br#"{"a":[1,2.5,"x\u0000y"],"b":{"c":null}}"#)
                .unwrap()
                .buf,
        };
        let mut s = VecSink::default();
        save(&d, &mut s);
        assert_eq!(load(&mut SliceSource::new(&s.data), 1).unwrap(), d);
        assert!(load(&mut SliceSource::new(&s.data), 2).is_err());
        for cut in 0..s.data.len() {
            assert!(load(&mut SliceSource::new(&s.data[..cut]), 1).is_err());
        }
    }
}
