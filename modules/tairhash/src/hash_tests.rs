//! The spec's examples (§7) decided at the value layer, and edge cases.

use super::*;

const NOW: u64 = 1_700_000_000_000;

fn opts(condition: Condition, version: VersionRule, expiry: ExpiryChange) -> SetOptions {
    SetOptions {
        condition,
        version,
        expiry,
    }
}

fn set(h: &mut TairHash, f: &[u8], v: &[u8], o: SetOptions, now: u64) -> Result<i64, HashError> {
    h.set(f, v, o, now).map(|out| match out {
        SetOutcome::Skipped => -1,
        SetOutcome::Written(w) => i64::from(w.created),
    })
}

fn plain(h: &mut TairHash, f: &[u8], v: &[u8]) -> i64 {
    set(h, f, v, SetOptions::default(), NOW).unwrap_or(-99)
}

fn version(h: &TairHash, f: &[u8], now: u64) -> Option<u64> {
    h.get(f, now).map(|v| v.version)
}

fn incr(o: IncrOptions<i64>) -> IncrOptions<i64> {
    o
}

#[test]
fn seed_example() {
    let mut h = TairHash::new();
    assert_eq!(plain(&mut h, b"name", b"Alice"), 1);
    let ex = |s: u64| {
        opts(
            Condition::Always,
            VersionRule::Bump,
            ExpiryChange::At(NOW + s * 1000),
        )
    };
    assert_eq!(set(&mut h, b"session", b"tok-xyz", ex(300), NOW), Ok(1));
    assert_eq!(
        set(&mut h, b"avatar_url", b"https://...", ex(86400), NOW),
        Ok(1)
    );
    assert_eq!(
        h.get(b"session", NOW).map(|f| f.value),
        Some(&b"tok-xyz"[..])
    );
    let mut all: Vec<_> = h.iter_live(NOW).map(|f| (f.name, f.value)).collect();
    all.sort();
    assert_eq!(
        all,
        vec![
            (&b"avatar_url"[..], &b"https://..."[..]),
            (b"name", b"Alice"),
            (b"session", b"tok-xyz")
        ]
    );
    let w = h.expire_at(b"session", NOW + 600_000, VersionRule::Bump, NOW);
    assert_eq!(
        w,
        Ok(Some(Written {
            created: false,
            version: 2,
            expiry: Some(NOW + 600_000)
        }))
    );
    assert_eq!(h.ttl(b"session", NOW).seconds_reply(), 600);
    assert!(h.get(b"session", NOW).is_some());
    assert_eq!(h.ttl(b"name", NOW).seconds_reply(), -1);
    assert_eq!(version(&h, b"session", NOW), Some(2));
    h.check_invariants();
}

#[test]
fn conditions_and_versions() {
    let mut h = TairHash::new();
    let o = |c, r| opts(c, r, ExpiryChange::Clear);
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v",
            o(Condition::IfPresent, VersionRule::Bump),
            NOW
        ),
        Ok(-1)
    );
    assert!(h.is_empty());
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v",
            o(Condition::Always, VersionRule::Ver(99999)),
            NOW
        ),
        Ok(1)
    );
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v1",
            o(Condition::IfAbsent, VersionRule::Bump),
            NOW
        ),
        Ok(-1)
    );
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v2",
            o(Condition::Always, VersionRule::Ver(99999)),
            NOW
        ),
        Err(HashError::VersionStale)
    );
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v2",
            o(Condition::Always, VersionRule::Ver(1)),
            NOW
        ),
        Ok(0)
    );
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v3",
            o(Condition::Always, VersionRule::Ver(0)),
            NOW
        ),
        Ok(0)
    );
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v4",
            o(Condition::Always, VersionRule::Abs(10)),
            NOW
        ),
        Ok(0)
    );
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v5",
            o(Condition::Always, VersionRule::Gt(9)),
            NOW
        ),
        Err(HashError::VersionStale)
    );
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"v5",
            o(Condition::Always, VersionRule::Gt(13)),
            NOW
        ),
        Ok(0)
    );
    let f = h.get(b"f", NOW);
    assert_eq!(f.map(|f| (f.value, f.version)), Some((&b"v5"[..], 13)));
    // NX on a live field with a stale VER: -1 comes first (step 5 before step 6).
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"x",
            o(Condition::IfAbsent, VersionRule::Ver(1)),
            NOW
        ),
        Ok(-1)
    );
    // Overflow.
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"x",
            o(Condition::Always, VersionRule::Abs(MAX_VERSION)),
            NOW
        ),
        Ok(0)
    );
    assert_eq!(
        set(&mut h, b"f", b"y", SetOptions::default(), NOW),
        Err(HashError::VersionOverflow)
    );
    assert_eq!(h.get(b"f", NOW).map(|f| f.value), Some(&b"x"[..]));
    assert_eq!(
        h.mset(&[(b"f", b"z")], NOW),
        Err(HashError::VersionOverflow)
    );
    assert_eq!(
        set(
            &mut h,
            b"f",
            b"y",
            o(Condition::Always, VersionRule::Abs(1)),
            NOW
        ),
        Ok(0)
    );
    assert_eq!(
        h.mset(&[(b"g", b"1"), (b"f", b"2"), (b"f", b"3")], NOW),
        Ok(())
    );
    assert_eq!(version(&h, b"f", NOW), Some(3));
    assert!(h.set_version(b"f", MAX_VERSION - 1, NOW));
    assert_eq!(
        h.mset(&[(b"f", b"4"), (b"g", b"2"), (b"f", b"5")], NOW),
        Err(HashError::VersionOverflow)
    );
    assert_eq!(
        h.get(b"g", NOW).map(|f| (f.value, f.version)),
        Some((&b"1"[..], 1))
    );
    assert_eq!(h.mset(&[(b"f", b"4"), (b"g", b"2")], NOW), Ok(()));
    assert_eq!(version(&h, b"f", NOW), Some(MAX_VERSION));
    h.check_invariants();
}

#[test]
fn expire_zero_and_passive_removal() {
    let mut h = TairHash::new();
    let ex3 = opts(
        Condition::Always,
        VersionRule::Bump,
        ExpiryChange::At(NOW + 3000),
    );
    assert_eq!(set(&mut h, b"f", b"v", ex3, NOW), Ok(1));
    assert_eq!(
        h.expire_at(b"f", 0, VersionRule::Bump, NOW)
            .map(|w| w.map(|w| w.expiry)),
        Ok(Some(Some(1)))
    );
    assert_eq!(h.ttl(b"f", NOW), FieldTtl::Absent);
    assert_eq!(h.ttl(b"f", NOW).millis_reply(), -3);
    // Still stored (plain EXHLEN counts it), due now: the active-expiry grace keeps it for 50 ms.
    assert_eq!((h.len(), h.len_live(NOW)), (1, 0));
    assert_eq!(h.earliest_due(), Some(NOW));
    assert!(h.pop_due(NOW - 50, usize::MAX).is_empty());
    assert!(h.remove_expired(b"f", NOW));
    assert!(h.is_empty());
    assert_eq!(h.earliest_due(), None);

    let mut h = TairHash::new();
    let ex = |t| IncrOptions {
        expiry: ExpiryChange::At(t),
        ..Default::default()
    };
    assert_eq!(h.incr_by(b"f", 1, ex(NOW + 3000), NOW).map(|r| r.0), Ok(1));
    assert_eq!(
        h.incr_by(b"f", 1, ex(0), NOW).map(|r| (r.0, r.1.expiry)),
        Ok((2, Some(1)))
    );
    assert!(h.get(b"f", NOW).is_none());
    assert_eq!(h.pop_due(NOW, 3), vec![b"f".to_vec()]);
    assert!(h.is_empty());
}

#[test]
fn incr_by_rules() {
    let mut h = TairHash::new();
    let with = |version| {
        incr(IncrOptions {
            version,
            ..Default::default()
        })
    };
    assert_eq!(
        h.incr_by(b"f", 1, with(VersionRule::Bump), NOW)
            .map(|r| r.0),
        Ok(1)
    );
    assert_eq!(
        h.incr_by(b"f", 1, with(VersionRule::Ver(2)), NOW),
        Err(HashError::VersionStale)
    );
    assert_eq!(
        h.incr_by(b"f", 1, with(VersionRule::Ver(0)), NOW)
            .map(|r| r.0),
        Ok(2)
    );
    assert_eq!(
        h.incr_by(b"f", 1, with(VersionRule::Abs(10)), NOW)
            .map(|r| r.0),
        Ok(3)
    );
    assert_eq!(version(&h, b"f", NOW), Some(10));
    let bounds = IncrOptions {
        min: Some(1),
        max: Some(3),
        ..Default::default()
    };
    assert_eq!(
        h.incr_by(b"f", 1, bounds, NOW),
        Err(HashError::IncrOverflow)
    );
    assert_eq!(
        h.get(b"f", NOW).map(|f| (f.value, f.version)),
        Some((&b"3"[..], 10))
    );
    assert_eq!(plain(&mut h, b"s", b" 11"), 1);
    assert_eq!(
        h.incr_by(b"s", 1, IncrOptions::default(), NOW),
        Err(HashError::NotInteger)
    );
    for bad in [&b"11 "[..], b"abc", b"1.0", b""] {
        plain(&mut h, b"s", bad);
        assert_eq!(
            h.incr_by(b"s", 1, IncrOptions::default(), NOW),
            Err(HashError::NotInteger)
        );
    }
    assert_eq!(plain(&mut h, b"n", b"-9223372036854775484"), 1);
    assert_eq!(
        h.incr_by(b"n", -1, IncrOptions::default(), NOW)
            .map(|r| r.0),
        Ok(-9223372036854775485)
    );
    assert_eq!(
        h.incr_by(b"n", -10000, IncrOptions::default(), NOW),
        Err(HashError::IncrOverflow)
    );
    // Order of state errors: not numeric, then stale, then overflow.
    assert_eq!(
        h.incr_by(b"s", 1, with(VersionRule::Ver(77)), NOW),
        Err(HashError::NotInteger)
    );
    assert_eq!(
        h.incr_by(b"n", i64::MIN, with(VersionRule::Ver(77)), NOW),
        Err(HashError::VersionStale)
    );
    assert_eq!(
        h.get(b"n", NOW).map(|f| f.value),
        Some(&b"-9223372036854775485"[..])
    );
}

#[test]
fn incr_by_float_rules() {
    let mut h = TairHash::new();
    let d = IncrOptions::default();
    let b = |min, max| IncrOptions {
        min: Some(min),
        max: Some(max),
        ..Default::default()
    };
    assert_eq!(
        h.incr_by_float(b"f", 0.9, d, NOW).map(|r| r.0),
        Ok("0.9".into())
    );
    assert_eq!(
        h.incr_by_float(b"f", 2.1, d, NOW).map(|r| r.0),
        Ok("3".into())
    );
    assert_eq!(
        h.incr_by_float(b"g", 3.1, b(1.1, 10.1), NOW).map(|r| r.0),
        Ok("3.1".into())
    );
    assert_eq!(
        h.incr_by_float(b"g", -8.0, b(-5.1, 10.1), NOW).map(|r| r.0),
        Ok("-4.9".into())
    );
    assert_eq!(
        h.incr_by_float(b"x", 11.1, b(1.1, 10.1), NOW),
        Err(HashError::IncrOverflow)
    );
    assert!(h.get(b"x", NOW).is_none());
    assert_eq!(plain(&mut h, b"t", b"17179869184"), 1);
    assert_eq!(
        h.incr_by_float(b"t", 1.0, d, NOW).map(|r| r.0),
        Ok("17179869185".into())
    );
    assert_eq!(
        h.get(b"f", NOW).map(|f| (f.value, f.version)),
        Some((&b"3"[..], 2))
    );
    assert_eq!(plain(&mut h, b"s", b" 11"), 1);
    assert_eq!(h.incr_by_float(b"s", 1.0, d, NOW), Err(HashError::NotFloat));
    assert_eq!(plain(&mut h, b"big", b"1.7e308"), 1);
    assert_eq!(
        h.incr_by_float(b"big", 1.7e308, d, NOW),
        Err(HashError::IncrOverflow)
    );
    assert_eq!(
        h.incr_by_float(b"t", f64::NAN, d, NOW),
        Err(HashError::IncrOverflow)
    );
    let mut h = TairHash::new();
    for _ in 0..3 {
        assert!(h.incr_by_float(b"f", 10.1, d, NOW).is_ok());
    }
    assert_eq!(h.get(b"f", NOW).map(|f| f.value), Some(&b"30.3"[..]));
}

#[test]
fn keepttl_and_mset_keep_expiry() {
    let mut h = TairHash::new();
    let t = NOW + 100_000;
    let at = opts(Condition::Always, VersionRule::Bump, ExpiryChange::At(t));
    let keep = opts(Condition::Always, VersionRule::Bump, ExpiryChange::Keep);
    assert_eq!(set(&mut h, b"f", b"v", at, NOW), Ok(1));
    assert_eq!(set(&mut h, b"f", b"v2", keep, NOW + 500), Ok(0));
    assert_eq!(h.ttl(b"f", NOW + 500).seconds_reply(), 100);
    assert_eq!(h.ttl(b"f", NOW + 501).seconds_reply(), 99);
    assert_eq!(plain(&mut h, b"f", b"v3"), 0);
    assert_eq!(h.ttl(b"f", NOW).seconds_reply(), -1);
    let ix = |expiry| IncrOptions {
        expiry,
        ..Default::default()
    };
    assert_eq!(
        h.incr_by(b"c", 1, ix(ExpiryChange::At(t)), NOW)
            .map(|r| r.0),
        Ok(1)
    );
    assert_eq!(
        h.incr_by(b"c", 1, ix(ExpiryChange::Keep), NOW).map(|r| r.0),
        Ok(2)
    );
    assert_eq!(h.ttl(b"c", NOW + 1), FieldTtl::Remaining(99_999));
    assert_eq!(h.mset(&[(b"c", b"9")], NOW), Ok(()));
    assert_eq!(h.ttl(b"c", NOW).seconds_reply(), 100);
    assert_eq!(
        h.incr_by(b"c", 1, ix(ExpiryChange::Clear), NOW)
            .map(|r| r.0),
        Ok(10)
    );
    assert_eq!(h.ttl(b"c", NOW).seconds_reply(), -1);
    assert_eq!(h.expiring_len(), 0);
    // KEEPTTL on an absent field: no expiry.
    assert_eq!(set(&mut h, b"new", b"v", keep, NOW), Ok(1));
    assert_eq!(h.ttl(b"new", NOW), FieldTtl::Persistent);
    h.check_invariants();
}

#[test]
fn expired_fields_read_as_absent() {
    let mut h = TairHash::new();
    let px = opts(
        Condition::Always,
        VersionRule::Bump,
        ExpiryChange::At(NOW + 100),
    );
    assert_eq!(set(&mut h, b"f1", b"v1", px, NOW), Ok(1));
    assert_eq!(set(&mut h, b"f2", b"v2", px, NOW), Ok(1));
    assert!(h.get(b"f1", NOW + 99).is_some());
    let later = NOW + 200;
    assert!(h.get(b"f1", later).is_none() && h.get(b"f2", later).is_none());
    // Writes on a stored-but-expired field start it afresh.
    assert_eq!(
        set(
            &mut h,
            b"f1",
            b"x",
            opts(Condition::IfAbsent, VersionRule::Gt(5), ExpiryChange::Keep),
            later
        ),
        Ok(1)
    );
    assert_eq!(
        h.get(b"f1", later).map(|f| (f.version, f.expiry)),
        Some((5, None))
    );
    assert_eq!(
        h.expire_at(b"f2", NOW + 10_000, VersionRule::Bump, later),
        Ok(None)
    );
    assert!(!h.persist(b"f2", later));
    assert!(!h.set_version(b"f2", 9, later));
    assert!(!h.delete(b"f2", later));
    assert_eq!(h.ttl(b"f2", later), FieldTtl::Absent);
    // now = 0 ignores expiry (replicated and replayed commands).
    assert_eq!(h.get(b"f2", 0).map(|f| f.value), Some(&b"v2"[..]));
    assert_eq!(h.pop_due(later, usize::MAX), vec![b"f2".to_vec()]);
    assert_eq!(h.len(), 1);
}

#[test]
fn exhlen_noexp() {
    let mut h = TairHash::new();
    plain(&mut h, b"f1", b"v");
    plain(&mut h, b"f2", b"v");
    let pxat1 = opts(Condition::Always, VersionRule::Bump, ExpiryChange::At(1));
    assert_eq!(set(&mut h, b"f3", b"v", pxat1, NOW), Ok(1));
    assert_eq!((h.len(), h.len_live(NOW)), (3, 2));
    assert_eq!(h.pop_due(NOW, usize::MAX), vec![b"f3".to_vec()]);
    let mut keys: Vec<_> = h.iter_live(NOW).map(|f| f.name).collect();
    keys.sort();
    assert_eq!(keys, vec![&b"f1"[..], b"f2"]);
    assert_eq!(h.len(), 2);
}

#[test]
fn setnx_mset_with_options_delete_with_version() {
    let mut h = TairHash::new();
    let nx = opts(Condition::IfAbsent, VersionRule::Bump, ExpiryChange::Clear);
    assert_eq!(set(&mut h, b"f1", b"v1", nx, NOW), Ok(1));
    assert_eq!(set(&mut h, b"f1", b"v2", nx, NOW), Ok(-1));
    let e = |name, value, version, expiry| MsetEntry {
        name,
        value,
        version,
        expiry,
    };
    let stale = [
        e(&b"f1"[..], &b"x"[..], 4, Some(NOW + 10_000)),
        e(b"f2", b"y", 0, None),
    ];
    assert_eq!(
        h.mset_with_options(&stale, NOW),
        Err(HashError::VersionStale)
    );
    assert!(h.get(b"f2", NOW).is_none());
    let ok = [
        e(&b"f1"[..], &b"x"[..], 1, Some(NOW + 1_000_000)),
        e(b"f2", b"y", 0, None),
    ];
    let w = h.mset_with_options(&ok, NOW);
    assert_eq!(
        w,
        Ok(vec![
            Written {
                created: false,
                version: 2,
                expiry: Some(NOW + 1_000_000)
            },
            Written {
                created: true,
                version: 1,
                expiry: None
            }
        ])
    );
    assert_eq!(
        h.get(b"f1", NOW).map(|f| (f.value, f.version)),
        Some((&b"x"[..], 2))
    );
    assert_eq!(h.ttl(b"f2", NOW), FieldTtl::Persistent);
    assert!(h.delete_with_version(b"f1", 0, NOW));
    assert!(!h.delete_with_version(b"f2", 5, NOW));
    assert!(h.get(b"f2", NOW).is_some());
    assert!(h.delete_with_version(b"f2", 1, NOW));
    assert!(h.is_empty());
    h.check_invariants();
}

#[test]
fn delete_counts_once() {
    let mut h = TairHash::new();
    assert_eq!(h.mset(&[(b"f1", b"v1"), (b"f2", b"v2")], NOW), Ok(()));
    let del = |h: &mut TairHash, names: &[&[u8]]| names.iter().filter(|n| h.delete(n, NOW)).count();
    assert_eq!(del(&mut h, &[b"f1", b"f3"]), 1);
    assert_eq!(del(&mut h, &[b"f2", b"f2"]), 1);
    assert!(h.is_empty());
}

#[test]
fn setver_expire_persist() {
    let mut h = TairHash::new();
    plain(&mut h, b"f", b"v");
    assert!(h.set_version(b"f", 10, NOW));
    assert_eq!(plain(&mut h, b"f", b"v"), 0);
    assert_eq!(version(&h, b"f", NOW), Some(11));
    assert!(!h.set_version(b"nofield", 10, NOW));
    assert_eq!(version(&h, b"nofield", NOW), None);
    assert_eq!(
        h.expire_at(b"f", NOW + 100_000, VersionRule::Ver(2), NOW),
        Err(HashError::VersionStale)
    );
    assert!(matches!(
        h.expire_at(b"f", NOW + 100_000, VersionRule::Ver(11), NOW),
        Ok(Some(_))
    ));
    assert!(h.persist(b"f", NOW));
    assert!(!h.persist(b"f", NOW));
    assert_eq!(version(&h, b"f", NOW), Some(12));
    assert!(matches!(
        h.expire_at(b"f", 100 * 1000, VersionRule::Bump, NOW),
        Ok(Some(_))
    ));
    assert!(h.get(b"f", NOW).is_none());
    assert_eq!(h.earliest_due(), Some(NOW));
    h.check_invariants();
}

#[test]
fn scan_small_and_large() {
    let mut h = TairHash::new();
    let pairs: Vec<(&[u8], &[u8])> = vec![
        (b"foo", b"1"),
        (b"fab", b"2"),
        (b"fiz", b"3"),
        (b"foobar", b"10"),
        (b"1", b"a"),
        (b"2", b"b"),
        (b"3", b"c"),
        (b"4", b"d"),
    ];
    assert_eq!(h.mset(&pairs, NOW), Ok(()));
    let page = h.scan(0, 10_000, NOW);
    assert_eq!(page.cursor, 0);
    assert_eq!(page.fields.len(), 8);
    assert!(
        TairHash::new().scan(0, 10, NOW)
            == ScanPage {
                cursor: 0,
                fields: vec![],
                expired: vec![]
            }
    );

    let mut h = TairHash::new();
    for j in 0..1000 {
        let name = format!("key:{j}");
        plain(&mut h, name.as_bytes(), j.to_string().as_bytes());
    }
    let expired = opts(Condition::Always, VersionRule::Bump, ExpiryChange::At(1));
    assert_eq!(set(&mut h, b"gone", b"x", expired, NOW), Ok(1));
    let mut seen = std::collections::HashMap::new();
    let mut expired_seen = Vec::new();
    let mut cursor = 0;
    loop {
        let page = h.scan(cursor, 10, NOW);
        assert!(page.fields.len() + page.expired.len() <= 100);
        for f in page.fields {
            seen.insert(f.name.to_vec(), f.value.to_vec());
        }
        expired_seen.extend(page.expired);
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    for (k, v) in seen {
        assert_eq!(k.strip_prefix(b"key:"), Some(&v[..]));
    }
    assert_eq!(expired_seen, vec![b"gone".to_vec()]);
}

#[test]
fn clone_digest_mem_usage() {
    let mut h = TairHash::new();
    for i in 0..100u32 {
        let expiry = if i % 3 == 0 {
            ExpiryChange::At(NOW + u64::from(i))
        } else {
            ExpiryChange::Clear
        };
        let o = opts(
            Condition::Always,
            VersionRule::Abs(u64::from(i) + 1),
            expiry,
        );
        assert!(h.set(&i.to_be_bytes(), &[b'v'; 16], o, NOW).is_ok());
    }
    let c = h.clone();
    c.check_invariants();
    assert_eq!(c.digest(), h.digest());
    assert_eq!(c.earliest_due(), h.earliest_due());
    assert_eq!(c.len(), 100);
    let before = h.mem_usage();
    assert!(h.set_version(&7u32.to_be_bytes(), 1000, NOW));
    assert_ne!(h.digest(), c.digest());
    plain(&mut h, b"one more", b"x");
    assert!(h.mem_usage() > before);
    let empty_digest = TairHash::new().digest();
    assert_eq!(empty_digest, [0; 16]);
}

#[test]
fn pop_due_order_and_limit() {
    let mut h = TairHash::new();
    for (name, at) in [
        (&b"c"[..], 30),
        (b"a", 30),
        (b"b", 10),
        (b"d", 40),
        (b"e", 5),
    ] {
        let o = opts(
            Condition::Always,
            VersionRule::Bump,
            ExpiryChange::At(NOW + at),
        );
        assert_eq!(set(&mut h, name, b"", o, NOW), Ok(1));
    }
    plain(&mut h, b"p", b"");
    assert_eq!(h.earliest_due(), Some(NOW + 5));
    assert_eq!(h.pop_due(NOW + 30, 2), vec![b"e".to_vec(), b"b".to_vec()]);
    assert_eq!(h.pop_due(NOW + 30, 10), vec![b"a".to_vec(), b"c".to_vec()]);
    assert_eq!(h.pop_due(NOW + 30, 10), Vec::<Vec<u8>>::new());
    assert_eq!(h.earliest_due(), Some(NOW + 40));
    assert_eq!(h.len(), 2);
    h.check_invariants();
}

/// The stamp: kept by every write, by removals down to the last field and by the conversion to the
/// big encoding; not copied by COPY (clone); invisible in the digest; and [`stamps::live`] counts the
/// stamped values exactly (set, cleared, dropped). The only test that stamps `TairHash` values, so
/// the process-wide count moves only here.
#[test]
fn stamp_follows_the_value() {
    Thresholds::set_for_thread(4, 64);
    let live = stamps::live;
    let base = live();
    let ex = |s: u64| {
        opts(
            Condition::Always,
            VersionRule::Bump,
            ExpiryChange::At(NOW + s),
        )
    };
    let mut h = TairHash::new();
    set(&mut h, b"a", b"1", ex(100), NOW).unwrap();
    let digest = h.digest();
    h.set_stamp(Some(NOW / 128));
    assert_eq!(live(), base + 1);
    assert_eq!(h.digest(), digest);
    h.set_stamp(Some(NOW / 128 - 1));
    assert_eq!((h.stamp(), live()), (Some(NOW / 128 - 1), base + 1));
    set(&mut h, b"b", b"2", ex(200), NOW).unwrap();
    plain(&mut h, b"c", b"3");
    assert_eq!(h.stamp(), Some(NOW / 128 - 1));
    let copy = h.clone();
    assert_eq!((copy.stamp(), live()), (None, base + 1));
    assert_eq!(copy.digest(), h.digest());
    drop(copy);
    assert_eq!(live(), base + 1);
    // Past 4 fields: the big encoding, stamp kept.
    for f in [&b"d"[..], b"e", b"f"] {
        set(&mut h, f, b"x", ex(300), NOW).unwrap();
    }
    assert!(!h.is_compact());
    assert_eq!(h.stamp(), Some(NOW / 128 - 1));
    h.set_stamp(Some(u64::MAX));
    assert_eq!(h.stamp(), Some(crate::registry::MAX_BUCKET));
    h.set_stamp(Some(NOW / 128 - 1));
    let big_copy = h.clone();
    assert_eq!(big_copy.stamp(), None);
    drop(big_copy);
    assert_eq!(live(), base + 1);
    drop(h);
    assert_eq!(live(), base);
    // A compact value emptied by expiry keeps its stamp until cleared or dropped.
    let mut h = TairHash::new();
    set(&mut h, b"a", b"1", ex(1), NOW).unwrap();
    h.set_stamp(Some(5));
    assert_eq!(h.pop_due(NOW + 1, 10), vec![b"a".to_vec()]);
    assert!(h.is_empty());
    assert_eq!((h.stamp(), live()), (Some(5), base + 1));
    h.set_stamp(None);
    assert_eq!(live(), base);
    h.set_stamp(Some(u64::MAX));
    assert_eq!(h.stamp(), Some(crate::registry::MAX_BUCKET));
    drop(h);
    assert_eq!(live(), base);
}
