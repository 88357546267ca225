//! TFBFLOADCHUNK on arbitrary input: a header (`it = 1`) followed by chunks at arbitrary iterators, as a
//! client may send them. Never crashes; a refused chunk changes nothing; a filter that loads keeps its
//! sizes and counts consistent, dumps (TFBFSCANDUMP) chunks that rebuild an equal filter, and answers
//! lookups and adds.
//! Input: `u16 LE header length, header, then records (u32 LE iterator, u16 LE length, bytes)`; the
//! bytes of a last, short record are probe items.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tairbloom::ScalableBloom;

struct Input {
    header: Vec<u8>,
    chunks: Vec<(u64, Vec<u8>)>,
    probes: Vec<Vec<u8>>,
}

fn split(data: &[u8]) -> Option<Input> {
    let (l, rest) = data.split_first_chunk::<2>()?;
    let (header, mut rest) = rest.split_at_checked(usize::from(u16::from_le_bytes(*l)))?;
    let mut chunks = Vec::new();
    while let Some((it, r)) = rest.split_first_chunk::<4>() {
        let Some((len, r)) = r.split_first_chunk::<2>() else { break };
        let Some((bytes, r)) = r.split_at_checked(usize::from(u16::from_le_bytes(*len))) else { break };
        chunks.push((u64::from(u32::from_le_bytes(*it)), bytes.to_vec()));
        rest = r;
    }
    let probes = rest.chunks(3).map(<[u8]>::to_vec).collect();
    Some(Input { header: header.to_vec(), chunks, probes })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = split(data) else {
        return;
    };
    let Ok(mut f) = ScalableBloom::from_header(&input.header) else {
        return;
    };
    assert_eq!(f.header(), input.header, "headers are canonical");
    assert_eq!(f.data_len(), f.size());
    for (it, data) in &input.chunks {
        // Also iterators counted from the end, which hit the valid range more often.
        for it in [*it, f.data_len().wrapping_sub(*it % 64).wrapping_add(1)] {
            let before = f.clone();
            if f.load_chunk(it, data).is_err() {
                assert_eq!(f, before, "a refused chunk changes nothing");
            } else {
                assert!(it > data.len() as u64 && it - 1 <= f.data_len());
            }
        }
    }
    assert_eq!(f.card(), f.filters().iter().map(|s| s.items()).sum::<u64>());
    let mut rebuilt: Option<ScalableBloom> = None;
    let mut it = 0;
    loop {
        let (next, chunk) = f.scandump(it);
        if next == 0 {
            assert!(chunk.is_empty());
            break;
        }
        match &mut rebuilt {
            None => rebuilt = Some(ScalableBloom::from_header(&chunk).expect("own header loads")),
            Some(r) => r.load_chunk(next, &chunk).expect("own chunk loads"),
        }
        assert!(next > it);
        it = next;
    }
    assert_eq!(rebuilt.as_ref(), Some(&f));
    for p in &input.probes {
        let _ = f.exists(p);
        let before = f.card();
        if let Ok(added) = f.add(p) {
            assert!(f.exists(p));
            assert_eq!(f.card(), before + u64::from(added));
        }
    }
});
