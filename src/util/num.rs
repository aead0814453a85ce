//! Number parsing and formatting with Redis 7.0's exact rules.
//!
//! - [`parse_i64_strict`] is Redis's `string2ll`.
//! - [`parse_f64`] accepts what Redis's float parsing accepts (strtod/strtold syntax), computed
//!   in f64; for the double-valued arguments of later commands (scores). INCRBYFLOAT needs
//!   x87 long double precision and has its own exact emulation in `cmd::strings`.
//! - [`format_double`] is `%.17g`, Redis 7.0's text for doubles in replies (ZSCORE, ...).
//!
//! Invariants: nothing here allocates except by growing the caller's output `Vec`; every
//! function is total (no panics) on any input bytes and any f64.

/// Redis's `string2ll`: an optional '-', digits, no leading zeros (except "0"), no '+',
/// no spaces, fits in i64.
pub fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Redis's MAX_LONG_DOUBLE_CHARS: `string2ld` refuses inputs of this length or longer.
const LONG_DOUBLE_CHARS_MAX: usize = 5 * 1024;

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Redis 7.0's `string2ld`: the whole input must be a number `strtold` accepts (decimal, hex
/// such as `0x1p3`, `inf`/`infinity` with an optional sign), with no leading space, not NaN,
/// and not overflowing or underflowing to zero in x87 long double.
///
/// Computed in f64, so where long double and f64 differ the result differs from Redis:
/// a value beyond f64's range but inside long double's (e.g. `1e400`) returns `Some(±inf)`
/// (Redis accepts it as a finite number), and one below f64's smallest subnormal but above
/// long double's (e.g. `1e-400`) returns `Some(±0.0)`. The long double range limits are
/// checked to about 17 significant digits.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() >= LONG_DOUBLE_CHARS_MAX || is_c_space(s[0]) {
        return None;
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = if body.len() >= 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        parse_hex_float(&body[2..])?
    } else {
        parse_decimal_float(body)?
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// Unsigned decimal (or inf/infinity) in strtold's grammar.
fn parse_decimal_float(body: &[u8]) -> Option<f64> {
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(f64::INFINITY);
    }
    // Grammar: digits [ '.' digits ] [ ('e'|'E') [sign] digits ], at least one mantissa digit.
    // While checking it, find the decimal exponent of the first significant digit so the
    // long double range can be checked: value = 0.d1d2d3... * 10^point.
    let mut i = 0;
    let mut digits = 0usize;
    let mut point: i64 = 0;
    let mut seen_point = false;
    let mut lead = 0f64; // first significant digits as 0.d1d2...
    let mut lead_scale = 0.1f64;
    let mut significant = false;
    while i < body.len() {
        let c = body[i];
        if c.is_ascii_digit() {
            digits += 1;
            if c != b'0' || significant {
                if !significant {
                    significant = true;
                }
                if !seen_point {
                    point += 1;
                }
                if lead_scale > 1e-19 {
                    lead += f64::from(c - b'0') * lead_scale;
                    lead_scale /= 10.0;
                }
            } else if seen_point {
                point -= 1;
            }
        } else if c == b'.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < body.len() {
        if body[i] | 0x20 != b'e' {
            return None;
        }
        i += 1;
        let mut exp_neg = false;
        if i < body.len() && (body[i] == b'+' || body[i] == b'-') {
            exp_neg = body[i] == b'-';
            i += 1;
        }
        let exp_digits = &body[i..];
        if exp_digits.is_empty() || !exp_digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut e: i64 = 0;
        for &c in exp_digits {
            e = e.saturating_mul(10).saturating_add(i64::from(c - b'0'));
        }
        point = point.saturating_add(if exp_neg { -e } else { e });
    }
    // The grammar was checked above, so Rust's parser (correctly rounded) accepts it.
    let text = std::str::from_utf8(body).ok()?;
    let v: f64 = text.parse().ok()?;
    if !significant {
        return Some(0.0);
    }
    // Long double: largest 1.18973149535723176502e4932, smallest subnormal
    // 3.64519953188247460253e-4951; below half of that strtold returns 0 with ERANGE.
    if point > 4933 || (point == 4933 && lead > 0.118_973_149_535_723_18) {
        return None;
    }
    if point < -4950 || (point == -4950 && lead <= 0.182_259_976_594_123_73) {
        return None;
    }
    Some(v)
}

/// Unsigned hex float after the "0x": hexdigits [ '.' hexdigits ] [ ('p'|'P') [sign] digits ].
fn parse_hex_float(body: &[u8]) -> Option<f64> {
    let mut mant: u64 = 0;
    let mut sticky = false;
    // value = mant * 2^exp2 (plus the sticky bits below mant).
    let mut exp2: i64 = 0;
    let mut digits = 0usize;
    let mut seen_point = false;
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            b'.' if !seen_point => {
                seen_point = true;
                i += 1;
                continue;
            }
            _ => break,
        };
        digits += 1;
        if mant >> 60 == 0 {
            mant = (mant << 4) | u64::from(d);
            if seen_point {
                exp2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp2 += 4;
            }
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < body.len() {
        if body[i] | 0x20 != b'p' {
            return None;
        }
        i += 1;
        let mut neg = false;
        if i < body.len() && (body[i] == b'+' || body[i] == b'-') {
            neg = body[i] == b'-';
            i += 1;
        }
        let exp_digits = &body[i..];
        if exp_digits.is_empty() || !exp_digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut e: i64 = 0;
        for &c in exp_digits {
            e = e.saturating_mul(10).saturating_add(i64::from(c - b'0'));
        }
        exp2 = exp2.saturating_add(if neg { -e } else { e });
    }
    if mant == 0 {
        return Some(0.0);
    }
    // Normalize to 64 significant bits, then round to 53 (half to even, sticky included).
    let shift = mant.leading_zeros();
    let mant = mant << shift;
    let exp2 = exp2.saturating_sub(i64::from(shift)).saturating_add(63); // value = 1.f * 2^exp2
    if !(-16446..=16383).contains(&exp2) {
        return None; // outside long double's range: strtold reports ERANGE
    }
    let low = mant & 0x7ff;
    let mut top = mant >> 11;
    let half = 0x400;
    if low > half || (low == half && (sticky || top & 1 == 1)) {
        top += 1;
    }
    // top <= 2^53; scale by 2^(exp2 - 52) in steps that stay exact until the final one.
    // (A result in f64's subnormal range can be rounded twice; strtold would round once.)
    let mut v = top as f64;
    let mut e = exp2 - 52;
    while e > 0 {
        let step = e.min(1000);
        v *= f64::powi(2.0, step as i32);
        e -= step;
    }
    while e < 0 {
        let step = (-e).min(1000);
        v /= f64::powi(2.0, step as i32);
        e += step;
    }
    Some(v)
}

/// A fixed-size stack buffer for `core::fmt` output, so formatting allocates nothing.
struct StackBuf {
    bytes: [u8; 40],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes NaN and the infinities as glibc's printf does ("nan", or "-nan" with the sign bit
/// set; "inf", "-inf") and returns true; returns false, writing nothing, for a finite `v`.
pub fn write_non_finite(v: f64, out: &mut Vec<u8>) -> bool {
    if v.is_nan() {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
        return true;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        return true;
    }
    false
}

/// Redis 7.0's reply text for a double: C's `%.17g`, with infinities as "inf"/"-inf" and NaN
/// as glibc prints it ("nan", or "-nan" when the sign bit is set).
pub fn format_double(v: f64, out: &mut Vec<u8>) {
    use std::fmt::Write as _;
    if write_non_finite(v, out) {
        return;
    }
    // Integral values below 2^53 print as plain integers under %.17g (fewer than 17 digits,
    // no exponent): format them as integers, which is many times cheaper. Scores are mostly
    // such values (timestamps, counters, ranks).
    if v == v.trunc() && v.abs() < 9_007_199_254_740_992.0 {
        if v == 0.0 && v.is_sign_negative() {
            out.extend_from_slice(b"-0");
        } else {
            out.extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
        }
        return;
    }
    // 17 significant digits, correctly rounded (ties to even, as glibc does), as "d.ddde<x>".
    let mut sci = StackBuf {
        bytes: [0; 40],
        len: 0,
    };
    if write!(sci, "{v:.16e}").is_err() {
        return; // cannot happen: at most 1 + 1 + 1 + 16 + 1 + 4 bytes
    }
    let text = &sci.bytes[..sci.len];
    let (neg, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let e_at = text.iter().position(|&c| c == b'e').unwrap_or(text.len());
    let mut digits = [0u8; 17];
    let mut n = 0;
    for &c in &text[..e_at] {
        if c.is_ascii_digit() && n < digits.len() {
            digits[n] = c;
            n += 1;
        }
    }
    let exp: i32 = std::str::from_utf8(&text[(e_at + 1).min(text.len())..])
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    // %g drops trailing zeros (no '#' flag).
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    let digits = &digits[..n];
    if neg {
        out.push(b'-');
    }
    if !(-4..17).contains(&exp) {
        out.push(digits[0]);
        if n > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push(b'0');
        }
        let mut ib = itoa::Buffer::new();
        out.extend_from_slice(ib.format(a).as_bytes());
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        for _ in 0..(-exp - 1) {
            out.push(b'0');
        }
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        for k in 0..int_len {
            out.push(digits.get(k).copied().unwrap_or(b'0'));
        }
        if n > int_len {
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbl(v: f64) -> String {
        let mut out = Vec::new();
        format_double(v, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn integral_doubles_take_the_integer_path_with_glibc_text() {
        // Expected texts are what glibc's printf("%.17g") prints.
        for (v, want) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (123456789.0, "123456789"),
            (1e15, "1000000000000000"),
            (9007199254740991.0, "9007199254740991"),
            (-9007199254740991.0, "-9007199254740991"),
            // 2^53 and above take the general path; still no exponent below 1e17.
            (9007199254740992.0, "9007199254740992"),
            (1e17, "1e+17"),
            (0.5, "0.5"),
            (0.1, "0.10000000000000001"),
        ] {
            assert_eq!(dbl(v), want, "{v:e}");
        }
    }

    #[test]
    fn i64_strict() {
        assert_eq!(parse_i64_strict(b"0"), Some(0));
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"+1",
            b"01",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1x",
        ] {
            assert_eq!(parse_i64_strict(bad), None, "{bad:?}");
        }
    }

    /// Accept/reject decisions checked with INCRBYFLOAT on redis-server 7.0.15.
    #[test]
    fn f64_parsing_like_string2ld() {
        let ok: &[(&[u8], f64)] = &[
            (b"1e3", 1000.0),
            (b"0x1p3", 8.0),
            (b"0X1.8P1", 3.0),
            (b"0x.8p1", 1.0),
            (b"-0x10", -16.0),
            (b".5", 0.5),
            (b"5.", 5.0),
            (b"+5", 5.0),
            (b"-0", -0.0),
            (b"0e5000", 0.0),
            (b"1.7976931348623157e308", f64::MAX),
            (b"4.9e-324", 5e-324),
        ];
        for &(s, want) in ok {
            assert_eq!(parse_f64(s), Some(want), "{s:?}");
        }
        for s in [&b"inf"[..], b"+inf", b"INFINITY", b"infinity"] {
            assert_eq!(parse_f64(s), Some(f64::INFINITY), "{s:?}");
        }
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        let bad: &[&[u8]] = &[
            b"",
            b" 1",
            b"\t1",
            b"1 ",
            b"nan",
            b"-nan",
            b"NaN",
            b"infin",
            b"1e",
            b"1e+",
            b"e5",
            b".",
            b"0x",
            b"0x1p",
            b"1_0",
            b"1e5000",
            b"1e-5000",
            b"--1",
            b"1\x00",
            b"0x1p99999",
        ];
        for &s in bad {
            assert_eq!(parse_f64(s), None, "{s:?}");
        }
        // string2ld copies into a 5120-byte buffer: 5119 characters is the longest accepted.
        let mut long = b"1.".to_vec();
        long.resize(5119, b'0');
        assert_eq!(parse_f64(&long), Some(1.0));
        long.push(b'0');
        assert_eq!(parse_f64(&long), None);
        // Inside long double's range but not f64's: Redis accepts these as finite numbers.
        assert_eq!(parse_f64(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1e-400"), Some(0.0));
    }

    /// Each expected text is what redis-server 7.0.15 replied to ZSCORE (skiplist encoding).
    #[test]
    fn double_text_matches_redis() {
        let cases: &[(f64, &str)] = &[
            // 1 + 2^-17 = 1.00000762939453125 exactly: a tie at 17 digits, rounded to even.
            (1.0 + 1.0 / 131_072.0, "1.0000076293945312"),
            (0.1, "0.10000000000000001"),
            (1e20, "1e+20"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (123_456_789_012_345_678.0, "1.2345678901234568e+17"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (1.5, "1.5"),
            (3.0, "3"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e300, "1.0000000000000001e+300"),
            (2.5e-300, "2.5e-300"),
            (1e23, "9.9999999999999992e+22"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-12.25, "-12.25"),
            (5e-324, "4.9406564584124654e-324"),
        ];
        for &(v, want) in cases {
            assert_eq!(dbl(v), want, "{v:e}");
        }
        assert_eq!(dbl(f64::NAN), "nan");
    }
}
