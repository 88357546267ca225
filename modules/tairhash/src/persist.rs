//! The module type `tairhash-` (spec §5.4): RDB / DUMP in Tair's layout (encoding version 0, see
//! `codec`), AOF rewrite as `EXHSET key field value ABS <ver> [PXAT <T>]` per live field, digest,
//! MEMORY USAGE, COPY and free effort.
//!
//! The pure layer's [`crate::Source`] / [`crate::Sink`] map onto the server's RDB IO through two thin
//! adapters, so the same code is tested on byte buffers.

use tair_common::propagate::utoa;
use tair_common::rdb::{self, AofWriter, Digest, RdbError, RdbReader, RdbWriter};
use tair_common::value::{DataType, ModuleValue};

use crate::{LoadError, TairHash, ENCODING_VERSION, TYPE_NAME};

pub static HASH_TYPE: DataType = DataType::new();

/// Reads the pure layer's items from a server-side source (the RDB, or a slice in tests).
struct FromRdb<'a, S: rdb::Source>(&'a mut S);

fn io_error(e: RdbError) -> LoadError {
    LoadError::Io(e.0)
}

impl<S: rdb::Source> crate::Source for FromRdb<'_, S> {
    fn read_u64(&mut self) -> Result<u64, LoadError> {
        self.0.read_u64().map_err(io_error)
    }
    fn read_i64(&mut self) -> Result<i64, LoadError> {
        self.0.read_i64().map_err(io_error)
    }
    fn read_f64(&mut self) -> Result<f64, LoadError> {
        self.0.read_f64().map_err(io_error)
    }
    fn read_bytes(&mut self, max: usize) -> Result<Vec<u8>, LoadError> {
        self.0.read_bytes(max).map_err(io_error)
    }
}

/// Writes the pure layer's items to a server-side sink.
struct ToRdb<'a, S: rdb::Sink>(&'a mut S);

impl<S: rdb::Sink> crate::Sink for ToRdb<'_, S> {
    fn write_u64(&mut self, v: u64) {
        self.0.write_u64(v);
    }
    fn write_i64(&mut self, v: i64) {
        self.0.write_i64(v);
    }
    fn write_f64(&mut self, v: f64) {
        self.0.write_f64(v);
    }
    fn write_bytes(&mut self, b: &[u8]) {
        self.0.write_bytes(b);
    }
}

/// Loads a value written with encoding `encver` at time `now` (ms), validating everything: a forged
/// or truncated payload is an error, never a crash.
pub fn load(src: &mut impl rdb::Source, encver: i32, now: u64) -> Result<TairHash, RdbError> {
    TairHash::load(&mut FromRdb(src), encver, now).map_err(|e| RdbError::msg(e.to_string()))
}

pub fn save(h: &TairHash, sink: &mut impl rdb::Sink, key: &[u8]) {
    h.save(&mut ToRdb(sink), key);
}

/// The AOF form of `h` at time `now`: one `EXHSET key field value ABS <ver> [PXAT <T>]` per live
/// field, each handed to `emit` as its arguments.
pub fn rewrite_commands(h: &TairHash, key: &[u8], now: u64, mut emit: impl FnMut(&[&[u8]])) {
    let (mut vb, mut tb) = ([0u8; 20], [0u8; 20]);
    for f in h.iter_live(now) {
        let ver = utoa(f.version, &mut vb);
        match f.expiry {
            Some(t) => emit(&[key, f.name, f.value, b"ABS", ver, b"PXAT", utoa(t, &mut tb)]),
            None => emit(&[key, f.name, f.value, b"ABS", ver]),
        }
    }
}

/// The key an RDB save is writing, through the module IO inside `w`.
///
/// `RdbWriter` keeps its IO pointer private; it is a struct of exactly that one pointer (checked at
/// compile time below: a one-field struct of the field's size holds it at offset 0), so reading the
/// pointer out is sound. If `tair-common` ever changes the struct this fails to compile.
fn clock_now() -> u64 {
    u64::try_from(tair_common::clock::now_ms())
        .unwrap_or(0)
        .max(1)
}

impl ModuleValue for TairHash {
    const NAME: &'static str = TYPE_NAME;
    const ENCVER: i32 = ENCODING_VERSION;

    fn data_type() -> &'static DataType {
        &HASH_TYPE
    }

    fn rdb_load(r: &mut RdbReader, encver: i32) -> Result<Self, RdbError> {
        load(r, encver, clock_now())
    }

    fn rdb_save(&self, w: &mut RdbWriter) {
        let key = w.key_name();
        save(self, w, &key);
    }

    fn aof_rewrite(&self, w: &mut AofWriter, key: &[u8]) {
        rewrite_commands(self, key, clock_now(), |a| w.emit(c"EXHSET", a));
    }

    fn mem_usage(&self) -> usize {
        TairHash::mem_usage(self)
    }

    fn digest(&self, d: &mut Digest) {
        d.add_bytes(&TairHash::digest(self));
        d.end_sequence();
    }

    fn copy_value(&self) -> Option<Self> {
        Some(self.clone())
    }

    fn free_effort(&self) -> usize {
        self.len().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExpiryChange, SetOptions, VersionRule};
    use tair_common::rdb::{SliceSource, VecSink};

    fn sample() -> TairHash {
        let mut h = TairHash::new();
        let now = 1_000_000;
        let o = |expiry| SetOptions {
            expiry,
            version: VersionRule::Abs(7),
            ..Default::default()
        };
        h.set(b"a\0b", b"v\xff", o(ExpiryChange::Clear), now)
            .unwrap();
        h.set(b"", b"", o(ExpiryChange::At(now + 5_000)), now)
            .unwrap();
        h.set(b"gone", b"x", o(ExpiryChange::At(10)), now).unwrap();
        h
    }

    #[test]
    fn roundtrip_and_corruption() {
        let h = sample();
        let mut s = VecSink::default();
        save(&h, &mut s, b"the key");
        let back = load(&mut SliceSource::new(&s.data), 0, 2_000_000).unwrap();
        assert_eq!(back.digest(), h.digest());
        assert_eq!(back.len(), 3);
        assert!(load(&mut SliceSource::new(&s.data), 1, 0).is_err());
        for cut in 0..s.data.len() {
            assert!(
                load(&mut SliceSource::new(&s.data[..cut]), 0, 0).is_err(),
                "cut {cut}"
            );
        }
        let mut zero = VecSink::default();
        crate::Sink::write_u64(&mut ToRdb(&mut zero), 0);
        crate::Sink::write_bytes(&mut ToRdb(&mut zero), b"k");
        assert!(load(&mut SliceSource::new(&zero.data), 0, 0).is_err());
    }

    #[test]
    fn aof_form() {
        let h = sample();
        let mut cmds = Vec::new();
        rewrite_commands(&h, b"k", 1_000_001, |a| {
            cmds.push(a.iter().map(|x| x.to_vec()).collect::<Vec<_>>())
        });
        cmds.sort();
        assert_eq!(
            cmds,
            vec![
                vec![
                    b"k".to_vec(),
                    b"".to_vec(),
                    b"".to_vec(),
                    b"ABS".to_vec(),
                    b"7".to_vec(),
                    b"PXAT".to_vec(),
                    b"1005000".to_vec()
                ],
                vec![
                    b"k".to_vec(),
                    b"a\0b".to_vec(),
                    b"v\xff".to_vec(),
                    b"ABS".to_vec(),
                    b"7".to_vec()
                ],
            ]
        );
    }
}
