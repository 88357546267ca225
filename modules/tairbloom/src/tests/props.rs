//! Property tests: no false negatives; bit-exact round trips; forged, truncated and mutated input is
//! refused (or accepted only when it is a canonical encoding), never a panic.

use crate::dump::HEADER_MAX_LEN;
use crate::{ScalableBloom, Sink, SliceSource, SIZE_LIMIT_BYTES};
use proptest::collection::vec;
use proptest::prelude::*;

fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.01),
        Just(0.001),
        Just(0.5),
        Just(0.999_999),
        1e-9f64..0.9,
        (1u32..60).prop_map(|e| 2f64.powi(-(e as i32))),
    ]
}

fn filter() -> impl Strategy<Value = (ScalableBloom, Vec<Vec<u8>>)> {
    (rate(), 1u64..50, vec(vec(any::<u8>(), 0..24), 0..400)).prop_map(|(p, c, items)| {
        let mut f = ScalableBloom::new(p, c).unwrap();
        for it in &items {
            f.add(it).unwrap();
        }
        (f, items)
    })
}

fn rdb(f: &ScalableBloom) -> Vec<u8> {
    let mut buf = Vec::new();
    f.rdb_save(&mut buf);
    buf
}

fn dump(f: &ScalableBloom) -> Vec<(u64, Vec<u8>)> {
    let mut out = vec![];
    let mut it = 0;
    loop {
        let (next, chunk) = f.scandump(it);
        if next == 0 {
            assert!(chunk.is_empty());
            return out;
        }
        out.push((next, chunk));
        it = next;
    }
}

fn check_invariants(f: &ScalableBloom) {
    assert!(f.size() <= SIZE_LIMIT_BYTES);
    assert_eq!(f.size(), f.filters().iter().map(|s| s.bytes()).sum::<u64>());
    assert_eq!(f.card(), f.filters().iter().map(|s| s.items()).sum::<u64>());
    for s in f.filters() {
        assert!(s.bits().is_multiple_of(64) && s.bits() > 0 && s.bytes() * 8 == s.bits());
        assert!(s.hashes() >= 1 && s.items() <= s.capacity());
    }
    // queries work and do not panic
    let _ = f.exists(b"probe");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn no_false_negatives((f, items) in filter()) {
        for it in &items {
            prop_assert!(f.exists(it));
        }
        prop_assert!(f.card() <= items.len() as u64);
        check_invariants(&f);
    }

    #[test]
    fn add_then_exists_at_every_step(p in rate(), c in 1u64..8, items in vec(any::<u64>(), 1..300)) {
        let mut f = ScalableBloom::new(p, c).unwrap();
        for (n, it) in items.iter().enumerate() {
            let before = f.card();
            let added = f.add(&it.to_le_bytes()).unwrap();
            prop_assert_eq!(f.card(), before + u64::from(added));
            prop_assert!(f.exists(&it.to_le_bytes()));
            prop_assert!(!f.add(&it.to_le_bytes()).unwrap());
            for old in &items[..n] {
                prop_assert!(f.exists(&old.to_le_bytes()));
            }
        }
    }

    #[test]
    fn rdb_round_trip_is_bit_exact((f, items) in filter()) {
        let buf = rdb(&f);
        let mut src = SliceSource::new(&buf);
        let g = ScalableBloom::rdb_load(&mut src, 1).unwrap();
        prop_assert_eq!(src.remaining(), 0);
        prop_assert_eq!(&g, &f);
        prop_assert_eq!(rdb(&g), buf);
        for it in &items {
            prop_assert!(g.exists(it));
        }
    }

    #[test]
    fn chunk_round_trip_is_bit_exact((f, _items) in filter(), order in any::<u64>()) {
        let chunks = dump(&f);
        prop_assert_eq!(chunks[0].0, 1);
        let mut g = ScalableBloom::from_header(&chunks[0].1).unwrap();
        let mut data = chunks[1..].to_vec();
        // any order of data chunks rebuilds the same filter
        let len = data.len().max(1);
        data.rotate_left((order as usize) % len);
        for (it, chunk) in &data {
            g.load_chunk(*it, chunk).unwrap();
        }
        prop_assert_eq!(&g, &f);
        let mut a = Vec::new();
        let mut b = Vec::new();
        f.digest_parts(|p| a.extend_from_slice(p));
        g.digest_parts(|p| b.extend_from_slice(p));
        prop_assert_eq!(a, b);
    }

    /// Every strict prefix of a valid RDB payload is an error.
    #[test]
    fn truncated_rdb_is_refused((f, _items) in filter(), cut in any::<prop::sample::Index>()) {
        let buf = rdb(&f);
        let cut = cut.index(buf.len());
        prop_assert!(ScalableBloom::rdb_load(&mut SliceSource::new(&buf[..cut]), 1).is_err());
    }

    /// Mutated RDB payloads never panic; whatever is accepted is canonical (re-saves to the same bytes).
    #[test]
    fn mutated_rdb_is_refused_or_canonical(
        (f, _items) in filter(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut buf = rdb(&f);
        for (at, byte) in edits {
            let i = at.index(buf.len());
            buf[i] = byte;
        }
        let mut src = SliceSource::new(&buf);
        if let Ok(g) = ScalableBloom::rdb_load(&mut src, 1) {
            check_invariants(&g);
            let rest = src.remaining();
            prop_assert_eq!(rdb(&g), buf[..buf.len() - rest].to_vec());
        }
    }

    /// Mutated headers: refused, or accepted only as exactly what they encode.
    #[test]
    fn mutated_header_is_refused_or_canonical(
        (f, _items) in filter(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut h = f.header();
        for (at, byte) in edits {
            let i = at.index(h.len());
            h[i] = byte;
        }
        if truncate {
            h.truncate(cut.index(h.len()));
        }
        if let Ok(g) = ScalableBloom::from_header(&h) {
            check_invariants(&g);
            prop_assert_eq!(g.header(), h);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..600), encver in -2i32..4) {
        let _ = ScalableBloom::from_header(&bytes);
        if let Ok(g) = ScalableBloom::rdb_load(&mut SliceSource::new(&bytes), encver) {
            check_invariants(&g);
        }
    }

    /// A random header-shaped blob (right magic and lengths) with random fields.
    #[test]
    fn random_header_fields_never_panic(
        count in 0u32..70,
        fields in vec(any::<u64>(), 0..((HEADER_MAX_LEN / 8) + 8)),
        small in any::<bool>(),
    ) {
        let mut h = b"TFBF\x01\x01\x00\x00".to_vec();
        for (i, v) in fields.iter().enumerate() {
            // keep some values small so deeper checks are reached
            let v = if small { v % 1024 } else { *v };
            if i == 2 {
                h.extend_from_slice(&2u32.to_le_bytes());
                h.extend_from_slice(&count.to_le_bytes());
            } else {
                h.extend_from_slice(&v.to_le_bytes());
            }
        }
        if let Ok(g) = ScalableBloom::from_header(&h) {
            check_invariants(&g);
        }
        let mut buf = Vec::new();
        buf.put_bytes(&h);
        let _ = ScalableBloom::rdb_load(&mut SliceSource::new(&buf), 1);
    }

    /// Chunks at random iterators: accepted exactly when in range, and then they only write there.
    #[test]
    fn random_chunks(
        (f, _items) in filter(),
        it in prop_oneof![0u64..2000, any::<u64>()],
        data in vec(any::<u8>(), 0..300),
    ) {
        let mut g = f.clone();
        let t = f.data_len();
        let len = data.len() as u64;
        let in_range = it > len && it - 1 <= t;
        let r = g.load_chunk(it, &data);
        prop_assert_eq!(r.is_ok(), in_range, "it={} len={} t={}", it, len, t);
        if r.is_ok() {
            let (_, d) = g.scandump(it - len);
            prop_assert_eq!(&d[..data.len()], &data[..]);
        } else {
            prop_assert_eq!(&g, &f);
        }
    }
}
