//! The `MATCH` pattern of every module scan: Valkey's glob syntax (`*`, `?`, `[...]`, `[^...]`, ranges,
//! `\` escapes), case-sensitive, on bytes, answering as `SCAN MATCH` does (ranges compare bytes as the
//! signed `char` of Valkey's `stringmatchlen`).
//!
//! Every token except `*` matches exactly one byte, so the classic two-pointer matcher with one
//! backtracking point for the last `*` is exact; it runs in O(pattern × subject) time and constant
//! space, without the recursion of Valkey's `stringmatchlen` (a hostile pattern cannot blow the stack).

/// Matches the one-byte token at `p[i..]` against `c`: returns (accepted, token length). The walk of a
/// `[...]` class follows Valkey's exactly (a range needs three bytes left in the pattern, so `[a-]`
/// is the range `a`..`]`; an unterminated class runs to the end of the pattern).
fn token(p: &[u8], i: usize, c: u8) -> (bool, usize) {
    match p.get(i) {
        Some(b'?') => (true, 1),
        Some(b'\\') if i + 1 < p.len() => (p.get(i + 1) == Some(&c), 2),
        Some(b'[') => {
            let mut j = i + 1;
            let negate = p.get(j) == Some(&b'^');
            if negate {
                j += 1;
            }
            let mut hit = false;
            loop {
                match p.get(j) {
                    None => return (hit != negate, p.len() - i),
                    Some(b'\\') if j + 1 < p.len() => {
                        hit |= p.get(j + 1) == Some(&c);
                        j += 2;
                    }
                    Some(b']') => return (hit != negate, j + 1 - i),
                    Some(&b) if j + 2 < p.len() && p.get(j + 1) == Some(&b'-') => {
                        // Reversed ranges are swapped; bytes compare as the C `char` Valkey uses
                        // (signed on x86), which only matters for ranges across 0x80.
                        let e = p.get(j + 2).copied().unwrap_or(b) as i8;
                        let (lo, hi) = if (b as i8) <= e {
                            (b as i8, e)
                        } else {
                            (e, b as i8)
                        };
                        hit |= (lo..=hi).contains(&(c as i8));
                        j += 3;
                    }
                    Some(&b) => {
                        hit |= b == c;
                        j += 1;
                    }
                }
            }
        }
        Some(&b) => (b == c, 1),
        None => (false, 0),
    }
}

/// True if `subject` matches the glob `pattern` in full.
pub fn glob_match(pattern: &[u8], subject: &[u8]) -> bool {
    let (mut p, mut s) = (0usize, 0usize);
    // The last `*` seen (pattern index after it) and the subject position it currently absorbs to.
    let mut star: Option<(usize, usize)> = None;
    while s < subject.len() {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                star = Some((p, s));
                continue;
            }
            Some(_) => {
                let c = subject.get(s).copied().unwrap_or_default();
                let (ok, len) = token(pattern, p, c);
                if ok {
                    p += len;
                    s += 1;
                    continue;
                }
            }
            None => {}
        }
        // Mismatch: let the last star absorb one more byte, or fail.
        match star {
            Some((sp, ss)) => {
                p = sp;
                s = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        let yes = [
            ("*", ""),
            ("*", "abc"),
            ("foo*", "foo"),
            ("foo*", "foobar"),
            ("f?o", "foo"),
            ("*bar", "foobar"),
            ("a*b*c", "aXXbYYc"),
            ("[abc]x", "bx"),
            ("[^abc]x", "dx"),
            ("[a-c]", "b"),
            ("[c-a]", "b"),
            ("h\\*llo", "h*llo"),
            ("[\\]]", "]"),
            ("key:[0-9]*", "key:7xyz"),
            ("*a*a*a*a*", "aaaa"),
            ("[abc", "b"),
        ];
        for (p, s) in yes {
            assert!(glob_match(p.as_bytes(), s.as_bytes()), "{p} ~ {s}");
        }
        let no = [
            ("foo*", "fo"),
            ("f?o", "fo"),
            ("[abc]x", "dx"),
            ("[^abc]x", "ax"),
            ("[a-c]", "d"),
            ("h\\*llo", "hello"),
            ("abc", "abcd"),
            ("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("Foo", "foo"),
        ];
        for (p, s) in no {
            assert!(!glob_match(p.as_bytes(), s.as_bytes()), "{p} !~ {s}");
        }
    }

    /// Valkey: `SCAN MATCH 'k[\x01-\xfe]*'` matches `k\xfe`, `k\xff`, `k\x01` and not `kA` (signed
    /// chars: 0x01..=-2 is empty as a range, so it is swapped to -2..=1, which holds 0xfe, 0xff, 0x01).
    #[test]
    fn ranges_compare_signed_chars() {
        let p = b"k[\x01-\xfe]*";
        for s in [&b"k\xfe"[..], b"k\xff", b"k\x01", b"k\x00"] {
            assert!(glob_match(p, s), "{s:?}");
        }
        for s in [&b"kA"[..], b"k\x7f", b"k\x80", b"k\x02"] {
            assert!(!glob_match(p, s), "{s:?}");
        }
    }
}
