//! The module type `tairhash-` (spec §5.4): RDB / DUMP in Tair's layout (encoding version 0, see
//! `codec`), AOF rewrite as `EXHSET key field value ABS <ver> [PXAT <T>]` per live field, digest,
//! MEMORY USAGE, COPY and free effort.
//!
//! The layout itself (`codec`) is written against `tair-common`'s `rdb::Source` / `rdb::Sink`, so the
//! same code runs on the server's RDB IO and on byte buffers in tests.

use tair_common::propagate::utoa;
use tair_common::rdb::{self, AofWriter, Digest, RdbError, RdbReader, RdbWriter};
use tair_common::value::{DataType, ModuleValue};

use crate::{TairHash, ENCODING_VERSION, TYPE_NAME};

pub static HASH_TYPE: DataType = DataType::new();

/// Loads a value written with encoding `encver` at time `now` (ms), validating everything: a forged
/// or truncated payload is an error, never a crash.
pub fn load(src: &mut impl rdb::Source, encver: i32, now: u64) -> Result<TairHash, RdbError> {
    TairHash::load(src, encver, now).map_err(|e| RdbError::msg(e.to_string()))
}

pub fn save(h: &TairHash, sink: &mut impl rdb::Sink, key: &[u8]) {
    h.save(sink, key);
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

/// The loading / rewriting moment: the server's clock in ms (never 0).
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
        rdb::Sink::write_u64(&mut zero, 0);
        rdb::Sink::write_bytes(&mut zero, b"k");
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
