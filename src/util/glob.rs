//! Glob-style matching with the semantics of redis-server 7.0's `stringmatchlen` (KEYS,
//! SCAN MATCH, PSUBSCRIBE, ...), quirks included.
//!
//! Invariants and the quirks kept on purpose, because clients see them:
//! - Reading past the end of the pattern yields 0, standing in for the NUL terminator the C
//!   code reads there (patterns are NUL-terminated sds strings in Redis).
//! - Range bounds and the subject byte are compared as C `char`, which is signed on the
//!   platforms Redis ships on: bytes 0x80..=0xFF sort below 0. So `[a-\xff]` is the range
//!   -1..=97 and matches bytes 0x00..=0x61 and 0xFF. Reversed ranges are swapped before the
//!   comparison and `nocase` lowercases the bounds after the swap.
//! - An unclosed `[` matches one byte against the set written up to the end of the pattern,
//!   and then the pattern is over; `[^` alone matches any single byte.
//! - Work is bounded: when the rest of the pattern after a `*` fails at every position of the
//!   rest of the subject, no earlier `*` can help either, so the whole match fails at once
//!   (Redis's skipLongerMatches); and `*` nesting deeper than 1000 fails, as in Redis.

/// Deepest `*` nesting Redis follows before giving up (returning no match).
const NESTING_MAX: u32 = 1000;

/// True if `s` matches the glob `pattern`; `nocase` folds ASCII letters.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, s, nocase, &mut skip_longer, 0)
}

/// C `tolower` in the C locale applied to a (signed) char value.
fn lower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// The byte as C's signed `char` promoted to int.
fn signed(b: u8) -> i32 {
    i32::from(b as i8)
}

fn eq_byte(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        lower(signed(a)) == lower(signed(b))
    } else {
        a == b
    }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > NESTING_MAX {
        return false;
    }
    // p and i index the pattern and the subject; at(p) reads 0 past the end like C does.
    let at = |p: usize| pat.get(p).copied().unwrap_or(0);
    let mut p = 0usize;
    let mut i = 0usize;
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p < pat.len() && at(p + 1) == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while i < s.len() {
                    if match_impl(&pat[p + 1..], &s[i..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                // The rest of the pattern matches nowhere in the rest of the subject, so a
                // longer match for any earlier '*' cannot succeed either.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                i += 1;
            }
            b'[' => {
                p += 1;
                let not = at(p) == b'^';
                if not {
                    p += 1;
                }
                let c = s[i];
                let mut matched = false;
                // Each turn advances p by at least one until the ']' or the end.
                loop {
                    if at(p) == b'\\' && pat.len() >= p + 2 {
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if p >= pat.len() {
                        // Unclosed: step back onto the last byte so the shared advance below
                        // ends the pattern.
                        p -= 1;
                        break;
                    } else if pat.len() >= p + 3 && pat[p + 1] == b'-' {
                        let (mut start, mut end) = (signed(pat[p]), signed(pat[p + 2]));
                        let mut ch = signed(c);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start);
                            end = lower(end);
                            ch = lower(ch);
                        }
                        p += 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if eq_byte(pat[p], c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            b => {
                let lit = if b == b'\\' && pat.len() >= p + 2 {
                    p += 1;
                    pat[p]
                } else {
                    b
                };
                if !eq_byte(lit, s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p == pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &[u8], s: &[u8]) -> bool {
        glob_match(p, s, false)
    }

    #[test]
    fn basics() {
        // The matcher itself says a lone '*' does not match "" (KEYS and SCAN special-case a
        // lone '*' before calling it).
        assert!(!m(b"*", b""));
        assert!(m(b"*", b"anything"));
        assert!(m(b"", b""));
        assert!(!m(b"", b"a"));
        assert!(m(b"h?llo", b"hello"));
        assert!(!m(b"h?llo", b"hllo"));
        assert!(m(b"h*llo", b"hllo"));
        assert!(m(b"h*llo", b"heeeello"));
        assert!(m(b"h[ae]llo", b"hallo"));
        assert!(!m(b"h[ae]llo", b"hillo"));
        assert!(m(b"h[^e]llo", b"hallo"));
        assert!(!m(b"h[^e]llo", b"hello"));
        assert!(m(b"h[a-b]llo", b"hbllo"));
        assert!(!m(b"h[a-b]llo", b"hcllo"));
        assert!(m(b"a\\*b", b"a*b"));
        assert!(!m(b"a\\*b", b"axb"));
        assert!(m(b"a*", b"a"));
        assert!(m(b"a**", b"a"));
        assert!(!m(b"a?", b"a"));
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(glob_match(b"[A-Z]", b"q", true));
    }

    /// Every row was checked with `KEYS` on redis-server 7.0.15 (key = subject). A random
    /// differential run of ~3800 pattern/subject pairs against KEYS also agreed.
    #[test]
    fn quirks_verified_against_redis() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"[z-a]", b"m", true),
            (b"[z-a]", b"A", false),
            (b"[abc", b"a", true),
            (b"[abc", b"c", true),
            (b"[abc", b"ab", false),
            (b"x[", b"x", false),
            (b"x[", b"xa", false),
            (b"[^", b"q", true),
            (b"[^", b"", false),
            (b"[a-]", b"]", true),
            (b"[a-]", b"-", false),
            (b"[a-]x", b"bx", false),
            (b"[a-]x", b"x", true),
            (b"[a-]x", b"^", true),
            (b"[a-]", b"b", false),
            (b"**", b"", false),
            (b"[\\]]", b"]", true),
            (b"[\\", b"\\", true),
            (b"[]]", b"]", false),
            (b"[]", b"]", false),
            (b"[-a]", b"-", true),
            (b"[a\\-z]", b"-", true),
            (b"[a\\-z]", b"m", false),
            (b"\\", b"\\", true),
            (b"a\\", b"a\\", true),
            (b"*\\", b"xx\\", true),
            (b"[a-\xff]", b"\xff", true),
            (b"[a-\xff]", b"\x80", false),
            (b"[a-\xff]", b"0", true),
            (b"[a-\xff]", b"z", false),
            (b"*a*", b"", false),
            (b"?*", b"", false),
            (b"*?", b"a", true),
        ];
        for &(p, s, want) in cases {
            assert_eq!(glob_match(p, s, false), want, "pattern {p:?} subject {s:?}");
        }
        // Ranges lowercase their bounds after swapping: [Z-a] folds to the empty range z..a.
        assert!(!glob_match(b"[Z-a]", b"_", true));
        assert!(glob_match(b"[Z-a]", b"_", false));
    }

    #[test]
    fn not_exponential() {
        let s = vec![b'a'; 10_000];
        assert!(!m(b"a*a*a*a*a*a*a*a*a*a*a*a*b", &s));
        let mut p = Vec::new();
        for _ in 0..2000 {
            p.extend_from_slice(b"*a");
        }
        p.push(b'b');
        assert!(!m(&p, &s[..3000]));
    }

    #[test]
    fn nesting_limit_like_redis() {
        // 1001 stars deep the match gives up, as Redis 7.0 does, even though it would match.
        let mut p = Vec::new();
        for _ in 0..1001 {
            p.extend_from_slice(b"*a");
        }
        let s = vec![b'a'; 1001];
        assert!(!m(&p, &s));
        let p1000 = &p[..2000];
        assert!(m(p1000, &s[..1000]));
    }
}
