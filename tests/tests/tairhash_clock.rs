//! tairhash when the server's wall clock steps back (an `LD_PRELOAD` shim moves it): a field written
//! already expired has its due time at the write, its expiry earlier. After the step back the field
//! reads as expired (by its expiry time) while it is not yet due; EXHSCAN must then remove it through a
//! key opened for writing, delete the emptied key, and leave a dataset that saves and loads.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use tair_tests::*;

#[test]
fn exhscan_after_a_clock_step_back_never_leaves_an_empty_hash() {
    let clock = ClockShift::new();
    let s = clock
        .apply(Server::builder().module_args("tairhash", &["enable_active_expire", "0"]))
        .start();
    let mut c = s.conn();
    let now: i64 = {
        let t: Vec<String> = query(&mut c, &["TIME"]);
        t[0].parse::<i64>().unwrap() * 1000 + t[1].parse::<i64>().unwrap() / 1000
    };
    // Expired 20 s before it is written: due at the write.
    let past = (now - 20_000).to_string();
    assert_eq!(
        query::<i64, _>(&mut c, &["EXHSET", "h", "f", "v", "PXAT", &past]),
        1
    );
    query::<i64, _>(&mut c, &["EXHSET", "keep", "f", "v"]);
    clock.set_ms(-10_000);
    let t: Vec<String> = query(&mut c, &["TIME"]);
    assert!(
        t[0].parse::<i64>().unwrap() * 1000 < now - 5_000,
        "the shim did not move the server's clock"
    );
    assert_eq!(show(&cmd(&mut c, &["EXHGET", "h", "f"]).unwrap()), "nil");
    let page = cmd(&mut c, &["EXHSCAN", "h", "0"]).unwrap();
    assert_eq!(show(&page), "[\"0\", []]");
    // The emptied key is gone, not stored with zero fields.
    assert_eq!(query::<i64, _>(&mut c, &["EXISTS", "h"]), 0);
    assert_eq!(query::<i64, _>(&mut c, &["DBSIZE"]), 1);
    // And the dataset saves and loads.
    query::<String, _>(&mut c, &["DEBUG", "RELOAD"]);
    assert_eq!(query::<i64, _>(&mut c, &["DBSIZE"]), 1);
    assert_eq!(
        show(&cmd(&mut c, &["EXHGET", "keep", "f"]).unwrap()),
        "\"v\""
    );
}
