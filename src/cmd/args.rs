//! Argument helpers shared by the command families: option names compared the way Redis
//! compares them, integer arguments, and the argument shapes several commands share (the
//! `numkeys ... LEFT|RIGHT [COUNT n]` of the *MPOP commands, SCAN cursors and the COUNT/MATCH
//! options of SSCAN, HSCAN and ZSCAN).
//!
//! Redis compares option names with `strcasecmp` on NUL-terminated buffers, so an argument
//! ends, for that purpose, at its first NUL byte ([`c_str`], [`opt_is`]). A few commands
//! compare the whole argument instead ([`arg_eq`]); which one a command uses is part of its
//! behaviour.

use super::error::{ERR_COUNT_POSITIVE, ERR_NOT_INT, ERR_NUMKEYS, ERR_SYNTAX};
use super::Ctx;
use crate::keyspace::Db;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::types::list::End;

/// COUNT of SCAN, SSCAN, HSCAN and ZSCAN when the option is not given.
pub const SCAN_COUNT_DEFAULT: usize = 10;

/// The selected database and the reply, borrowed together (they are disjoint fields).
pub fn parts<'c, 'a>(ctx: &'c mut Ctx<'a>) -> (&'c mut Db, &'c mut Reply<'a>) {
    let i = ctx.srv.conns[ctx.slot].db;
    (&mut ctx.srv.dbs[i], &mut ctx.reply)
}

/// An argument as C code sees it: up to the first NUL.
pub fn c_str(a: &[u8]) -> &[u8] {
    match memchr::memchr(0, a) {
        Some(i) => &a[..i],
        None => a,
    }
}

/// C's `%.Ns` of a byte string: stops at the first NUL, at most `max` bytes.
pub fn c_str_max(a: &[u8], max: usize) -> &[u8] {
    let s = c_str(a);
    &s[..s.len().min(max)]
}

/// Whether the argument names the option `name`, as Redis's `strcasecmp` decides: ASCII case
/// ignored, the argument read up to its first NUL.
pub fn opt_is(a: &[u8], name: &str) -> bool {
    c_str(a).eq_ignore_ascii_case(name.as_bytes())
}

/// Whether the whole argument (NUL bytes included) equals `name`, ASCII case ignored.
pub fn arg_eq(a: &[u8], name: &str) -> bool {
    a.eq_ignore_ascii_case(name.as_bytes())
}

/// Parses an integer argument with Redis's strict rules.
pub fn arg_i64(a: &[u8]) -> Option<i64> {
    crate::util::num::parse_i64_strict(a)
}

/// LEFT or RIGHT (Redis's `getListPositionFromObjectOrReply`).
pub fn parse_end(a: &[u8]) -> Option<End> {
    if opt_is(a, "LEFT") {
        Some(End::Left)
    } else if opt_is(a, "RIGHT") {
        Some(End::Right)
    } else {
        None
    }
}

/// The `numkeys key [key ...] WORD [COUNT count]` part of LMPOP, BLMPOP, ZMPOP and BZMPOP,
/// checked in Redis's order (numkeys, then the direction word, then COUNT), with `numkeys` at
/// `argv[numkeys_at]` and WORD one of `words`. Returns the index of WORD, whether it is the
/// first word, and the count (1 without COUNT).
pub fn parse_mpop(
    argv: &Argv<'_>,
    numkeys_at: usize,
    words: (&[u8], &[u8]),
) -> Result<(usize, bool, usize), &'static str> {
    let numkeys = arg_i64(argv.get(numkeys_at))
        .filter(|&n| n >= 1)
        .ok_or(ERR_NUMKEYS)?;
    // numkeys + the keys' start may overflow (Redis then also answers a syntax error).
    let where_idx = match usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(numkeys_at + 1))
    {
        Some(w) if w < argv.len() => w,
        _ => return Err(ERR_SYNTAX),
    };
    let word = c_str(argv.get(where_idx));
    let first = if word.eq_ignore_ascii_case(words.0) {
        true
    } else if word.eq_ignore_ascii_case(words.1) {
        false
    } else {
        return Err(ERR_SYNTAX);
    };
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let opt = c_str(argv.get(j));
        if count.is_none() && opt.eq_ignore_ascii_case(b"COUNT") && j + 1 < argv.len() {
            j += 1;
            count = Some(
                arg_i64(argv.get(j))
                    .filter(|&c| c >= 1)
                    .ok_or(ERR_COUNT_POSITIVE)?,
            );
        } else {
            return Err(ERR_SYNTAX);
        }
        j += 1;
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok((where_idx, first, count))
}

/// Redis's `parseScanCursorOrReply`: C `strtoul` base 10, so an optional sign ('-' negates
/// modulo 2^64), no leading space, nothing after the digits; the C string ends at a NUL,
/// and an empty string is cursor 0.
pub fn parse_scan_cursor(arg: &[u8]) -> Option<u64> {
    let s = c_str(arg);
    if s.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The COUNT and MATCH options of SSCAN, HSCAN and ZSCAN.
#[derive(Debug, Clone, Copy)]
pub struct ScanArgs<'a> {
    pub count: usize,
    /// None for no pattern, and for "*", which matches everything (Redis skips the matching).
    pub pattern: Option<&'a [u8]>,
}

/// SSCAN, HSCAN and ZSCAN options from `argv[first..]`, as Redis's `scanGenericCommand`
/// parses them (these commands parse them after the key lookup; TYPE is only for SCAN).
pub fn parse_scan_args<'a>(argv: &Argv<'a>, first: usize) -> Result<ScanArgs<'a>, &'static str> {
    let mut opts = ScanArgs {
        count: SCAN_COUNT_DEFAULT,
        pattern: None,
    };
    let mut i = first;
    while i < argv.len() {
        let opt = argv.get(i);
        let has_value = i + 1 < argv.len();
        if opt_is(opt, "COUNT") && has_value {
            let n = arg_i64(argv.get(i + 1)).ok_or(ERR_NOT_INT)?;
            if n < 1 {
                return Err(ERR_SYNTAX);
            }
            opts.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if opt_is(opt, "MATCH") && has_value {
            let p = argv.get(i + 1);
            opts.pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return Err(ERR_SYNTAX);
        }
        i += 2;
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_strings_end_at_nul() {
        assert_eq!(c_str(b"count\0x"), b"count");
        assert_eq!(c_str(b"abc"), b"abc");
        assert_eq!(c_str_max(b"abcdef", 3), b"abc");
        assert_eq!(c_str_max(b"ab\0cdef", 5), b"ab");
        assert!(opt_is(b"CoUnT\0junk", "count"));
        assert!(!arg_eq(b"count\0junk", "count"));
        assert!(arg_eq(b"CoUnT", "count"));
    }

    #[test]
    fn scan_cursor_is_strtoul() {
        assert_eq!(parse_scan_cursor(b"0"), Some(0));
        assert_eq!(parse_scan_cursor(b""), Some(0));
        assert_eq!(parse_scan_cursor(b"+0"), Some(0));
        assert_eq!(parse_scan_cursor(b"-0"), Some(0));
        assert_eq!(parse_scan_cursor(b"007"), Some(7));
        assert_eq!(parse_scan_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_scan_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_scan_cursor(b"5\0junk"), Some(5));
        for bad in [&b"abc"[..], b"-", b"+", b" 1", b"1 ", b"1a", b"- 1"] {
            assert_eq!(
                parse_scan_cursor(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
