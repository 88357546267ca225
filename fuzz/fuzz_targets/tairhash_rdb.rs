//! rdb_load of `tairhash-` on arbitrary bytes (through a slice source), at a loading moment taken from
//! the first byte, for version 0 and refused ones: what loads has no duplicate, only versions >= 1 and
//! expiries in range; it saves to a payload of the same length (fields in table order) that loads to
//! the same fields and digest; its AOF form names every live field.
#![no_main]
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use tair_common::rdb::{SliceSource, VecSink};
use tairhash::{persist, TairHash, MAX_EXPIRE_MS, MAX_VERSION};

type Row = (Vec<u8>, u64, Option<u64>);

fn rows(h: &TairHash) -> BTreeMap<Vec<u8>, Row> {
    h.iter().map(|f| (f.name.to_vec(), (f.value.to_vec(), f.version, f.expiry))).collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&t, payload)) = data.split_first() else {
        return;
    };
    let now = match t % 4 {
        0 => 1,
        1 => 1_000,
        2 => 1_700_000_000_000,
        _ => MAX_EXPIRE_MS,
    };
    for v in [-1, 1, 2] {
        assert!(persist::load(&mut SliceSource::new(payload), v, now).is_err());
    }
    let mut src = SliceSource::new(payload);
    let Ok(h) = persist::load(&mut src, 0, now) else {
        return;
    };
    let used = payload.len() - src.remaining();
    let r = rows(&h);
    assert_eq!(r.len(), h.len());
    assert!(!h.is_empty());
    for (_, version, expiry) in r.values() {
        assert!(*version >= 1);
        let _ = MAX_VERSION; // versions above 2^63-1 load (the C module's wrapped counters)
        assert!(expiry.is_none_or(|e| (1..=MAX_EXPIRE_MS).contains(&e)));
    }
    assert_eq!(h.len_live(now), h.iter_live(now).count());
    let mut out = VecSink::default();
    persist::save(&h, &mut out, b"");
    // The key name is saved empty here; the input's may have been longer.
    let key_len = u64::from_le_bytes(payload[8..16].try_into().unwrap()) as usize;
    assert_eq!(out.data.len() + key_len, used);
    let back = persist::load(&mut SliceSource::new(&out.data), 0, now).expect("saved payload loads");
    assert_eq!(rows(&back), r);
    assert_eq!(back.digest(), h.digest());
    assert_eq!(back.earliest_due(), h.earliest_due());
    let copy = h.clone();
    assert_eq!(rows(&copy), r);
    let mut aof = 0usize;
    persist::rewrite_commands(&h, b"k", now, |args| {
        aof += 1;
        assert!(args.len() == 5 || args.len() == 7);
        let (value, version, expiry) = &r[args[1]];
        assert_eq!(args[2], &value[..]);
        assert_eq!(args[4], version.to_string().as_bytes());
        assert_eq!(args.get(6).map(|t| t.to_vec()), expiry.map(|e| e.to_string().into_bytes()));
    });
    assert_eq!(aof, h.len_live(now));
});
