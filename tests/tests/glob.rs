//! One MATCH matcher: EXHSCAN and EXZSCAN answer exactly as `SCAN MATCH` does on the same bytes,
//! including ranges across 0x80 (Valkey compares range bytes as signed chars).

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use tair_tests::*;

fn names(v: &Value, step: usize) -> BTreeSet<Vec<u8>> {
    let Value::Array(page) = v else {
        panic!("not a scan page: {}", show(v))
    };
    let Some(Value::Array(items)) = page.get(1) else {
        panic!("not a scan page: {}", show(v))
    };
    items
        .iter()
        .step_by(step)
        .map(|x| match x {
            Value::BulkString(b) => b.clone(),
            other => panic!("not a name: {}", show(other)),
        })
        .collect()
}

#[test]
fn module_scans_match_as_scan_match_does() {
    let s = Server::builder()
        .module("tairhash")
        .module("tairzset")
        .start();
    let mut c = s.conn();
    let subjects: [&[u8]; 7] = [
        b"k\xfe", b"k\xff", b"k\x01", b"kA", b"k\x80", b"k\x7f", b"x",
    ];
    for n in subjects {
        cmd(&mut c, &[b"SET".as_slice(), n, b"v"]).unwrap();
        cmd(&mut c, &[b"EXHSET".as_slice(), b"h", n, b"v"]).unwrap();
        cmd(&mut c, &[b"EXZADD".as_slice(), b"z", b"1", n]).unwrap();
    }
    let patterns: [&[u8]; 6] = [
        b"k[\x01-\xfe]*",
        b"k[\xfe-\x01]",
        b"k[^\x80-\xff]",
        b"k[\x7f-\x80]",
        b"k?",
        b"k[A\\]]*",
    ];
    for p in patterns {
        let scan = cmd(
            &mut c,
            &[b"SCAN".as_slice(), b"0", b"MATCH", p, b"COUNT", b"1000"],
        )
        .unwrap();
        let mut want = names(&scan, 1);
        want.remove(b"h".as_slice());
        want.remove(b"z".as_slice());
        let h = cmd(
            &mut c,
            &[
                b"EXHSCAN".as_slice(),
                b"h",
                b"0",
                b"MATCH",
                p,
                b"COUNT",
                b"1000",
            ],
        )
        .unwrap();
        let z = cmd(
            &mut c,
            &[
                b"EXZSCAN".as_slice(),
                b"z",
                b"0",
                b"MATCH",
                p,
                b"COUNT",
                b"1000",
            ],
        )
        .unwrap();
        assert_eq!(names(&h, 2), want, "EXHSCAN MATCH {}", escape_bytes(p));
        assert_eq!(names(&z, 2), want, "EXZSCAN MATCH {}", escape_bytes(p));
    }
}
