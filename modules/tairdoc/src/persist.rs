//! The module type `tair-json` (spec §8): RDB version 1 = compact JSON text; version 0 (C TairDoc) =
//! the same text plus one NUL byte. AOF rewrite `EXJSONSET key $ <text>`, digest of the text,
//! MEMORY USAGE from a walk, COPY, free_effort = node count.

use serde_json::Value;
use tair_common::rdb::{self, AofWriter, Digest, RdbError, RdbReader, RdbWriter};
use tair_common::value::{DataType, ModuleValue};

use crate::{doc, Doc};

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
    let root = doc::parse_json(&text).map_err(|e| RdbError::msg(format!("bad document: {e:?}")))?;
    let nodes = doc::count_nodes(&root);
    Ok(Doc { root, nodes })
}

pub fn save(d: &Doc, sink: &mut impl rdb::Sink) {
    sink.write_bytes(&doc::to_text(&d.root));
}

/// Estimate: per node a tree node, plus string / member-name bytes and per-member map overhead.
pub fn mem_usage(v: &Value) -> usize {
    let mut total = std::mem::size_of::<Doc>();
    let mut stack = vec![v];
    while let Some(x) = stack.pop() {
        total = total.saturating_add(std::mem::size_of::<Value>());
        match x {
            Value::String(s) => total = total.saturating_add(s.capacity()),
            Value::Array(a) => {
                total = total.saturating_add(
                    a.capacity().saturating_sub(a.len()) * std::mem::size_of::<Value>(),
                );
                stack.extend(a.iter());
            }
            Value::Object(o) => {
                for (k, c) in o {
                    total = total.saturating_add(k.capacity() + 24 + 16);
                    stack.push(c);
                }
            }
            _ => {}
        }
    }
    total
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
        w.emit(c"EXJSONSET", &[key, b"$", &doc::to_text(&self.root)]);
    }

    fn mem_usage(&self) -> usize {
        mem_usage(&self.root).max(doc::to_text(&self.root).len())
    }

    fn digest(&self, d: &mut Digest) {
        d.add_bytes(&doc::to_text(&self.root));
        d.end_sequence();
    }

    fn copy_value(&self) -> Option<Self> {
        Some(self.clone())
    }

    fn free_effort(&self) -> usize {
        self.nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tair_common::rdb::{SliceSource, VecSink};

    #[test]
    fn rdb_round_trip() {
        let root = doc::parse_json(br#"{"a":[1,2.5,"x\u0000y"],"b":{"c":null}}"#).unwrap();
        let d = Doc {
            nodes: doc::count_nodes(&root),
            root,
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
