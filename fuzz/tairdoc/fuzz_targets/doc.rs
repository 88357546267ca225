//! The document parser with the depth pre-scan: never crashes; what parses prints and re-parses equal,
//! and renders as XML/YAML.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tairdoc::doc;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = doc::parse_json(data) {
        assert!(doc::depth(&v) <= doc::MAX_DEPTH);
        let t = doc::to_text(&v);
        assert_eq!(doc::parse_json(&t).unwrap(), v);
        let _ = doc::to_xml(&v, "root", "array");
        let _ = doc::to_yaml(&v);
    }
});
