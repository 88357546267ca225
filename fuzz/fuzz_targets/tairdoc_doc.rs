//! The document parser with the depth limit: never crashes; the stored form (fast path or serde_json
//! path) accepts exactly what serde_json's `Value` parser with the pre-scan accepts, prints the same
//! text, and the fast path agrees byte for byte with the serde path; what parses re-parses equal, walks,
//! and renders as XML/YAML.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tairdoc::{doc, fast, store};

fuzz_target!(|data: &[u8]| {
    let reference = doc::parse_json(data);
    let stored = store::parse(data);
    match (&reference, &stored) {
        (Ok(v), Ok(p)) => {
            assert!(p.depth <= doc::MAX_DEPTH);
            assert_eq!(p.depth, doc::depth(v));
            assert_eq!(store::depth(&p.buf, 0), p.depth);
            let t = store::text(&p.buf, 0);
            assert_eq!(t, doc::to_text(v));
            assert_eq!(store::parse(&t).unwrap().buf, p.buf);
            assert_eq!(&store::to_value(&p.buf, 0), v);
            let _ = doc::to_xml(v, "root", "array");
            let _ = doc::to_yaml(v);
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("{reference:?} vs {stored:?}"),
    }
    let mut out = Vec::new();
    if let Some(depth) = fast::parse(data, &mut out) {
        let p = stored.unwrap();
        assert_eq!((out, depth), (p.buf, p.depth));
    }
});
