//! Redis glob patterns (`* ? [abc] [^a-z] \x`), binary-safe, for EXZSCAN MATCH. Iterative with one
//! backtracking point per `*`, so any pattern costs O(len(pattern) · len(text)) at worst.

/// True when `text` matches `pattern` as Redis's `stringmatchlen` (case-sensitive) would.
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut s) = (0usize, 0usize);
    // Where to resume after a mismatch: the pattern just past the last `*`, and the text position it
    // was tried at.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(s) {
        let step = match pattern.get(p) {
            Some(b'*') => {
                while pattern.get(p) == Some(&b'*') {
                    p += 1;
                }
                if p == pattern.len() {
                    return true;
                }
                star = Some((p, s));
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => {
                let (ok, next) = class(pattern, p, c);
                ok.then_some(next)
            }
            Some(b'\\') if p + 1 < pattern.len() => {
                (pattern.get(p + 1) == Some(&c)).then_some(p + 2)
            }
            Some(&lit) => (lit == c).then_some(p + 1),
            None => None,
        };
        match step {
            Some(next) => {
                p = next;
                s += 1;
            }
            None => match star {
                Some((sp, ss)) => {
                    star = Some((sp, ss + 1));
                    p = sp;
                    s = ss + 1;
                }
                None => return false,
            },
        }
    }
    while pattern.get(p) == Some(&b'*') {
        p += 1;
    }
    p == pattern.len()
}

/// Matches `c` against the class starting at `pattern[open] == '['`; returns the verdict and the index
/// just past the class (an unterminated class runs to the end of the pattern, as in Redis).
fn class(pattern: &[u8], open: usize, c: u8) -> (bool, usize) {
    let mut i = open + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    loop {
        match pattern.get(i) {
            None => break,
            Some(b'\\') if i + 1 < pattern.len() => {
                hit |= pattern.get(i + 1) == Some(&c);
                i += 2;
            }
            Some(b']') => {
                i += 1;
                break;
            }
            Some(&a) if pattern.get(i + 1) == Some(&b'-') && i + 2 < pattern.len() => {
                let b = pattern.get(i + 2).copied().unwrap_or(a);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                hit |= (lo..=hi).contains(&c);
                i += 3;
            }
            Some(&a) => {
                hit |= a == c;
                i += 1;
            }
        }
    }
    (hit != negate, i)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_glob() {
        let yes = [
            ("*", ""),
            ("*", "abc"),
            ("foo*", "foo"),
            ("foo*", "foobar"),
            ("f?o", "fzo"),
            ("*bar", "foobar"),
            ("a*b*c", "aXbYc"),
            ("a*b*c", "abbbc"),
            ("[abc]x", "bx"),
            ("[^abc]x", "dx"),
            ("[a-c]", "b"),
            ("[c-a]", "b"),
            ("\\*", "*"),
            ("[\\]]", "]"),
            ("h[ae]llo", "hello"),
            ("**a", "ba"),
            ("[ab", "a"),
            ("a\\", "a\\"),
        ];
        for (p, t) in yes {
            assert!(matches(p.as_bytes(), t.as_bytes()), "{p} ~ {t}");
        }
        let no = [
            ("foo*", "fo"),
            ("f?o", "fo"),
            ("[abc]x", "dx"),
            ("[^abc]x", "ax"),
            ("\\*", "a"),
            ("a*b", "acd"),
            ("[]", "a"),
            ("abc", "abcd"),
            ("", "a"),
        ];
        for (p, t) in no {
            assert!(!matches(p.as_bytes(), t.as_bytes()), "{p} !~ {t}");
        }
        assert!(matches(b"\xff*", b"\xff\x00"));
        // Many stars do not blow up.
        let p = "*a".repeat(50) + "b";
        assert!(!matches(p.as_bytes(), "a".repeat(200).as_bytes()));
    }
}
