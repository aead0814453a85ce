//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted numerically or
//! lexicographically, by themselves or by weights looked up through a BY pattern, cut by
//! LIMIT, each replaced by the values of GET patterns, answered or (SORT only) stored as a
//! list with STORE.
//!
//! The rules are Redis 7.0.15's (`sort.c`):
//! - Options are read left to right (`ASC`, `DESC`, `ALPHA`, `LIMIT offset count`,
//!   `STORE key` for SORT only, `BY pattern`, `GET pattern` any number of times); anything
//!   else, or an option without its arguments, is a syntax error. A LIMIT number that is not
//!   an integer is `ERR value is not an integer or out of range`. Only then is the key looked
//!   up (for reading: a miss fires `keymiss`); a missing key sorts as an empty list, a string
//!   or hash is WRONGTYPE.
//! - A pattern is expanded by replacing its first `*` with the element; `->field` after the
//!   `*` reads that field of a hash instead of a string. `#` alone is the element itself. A
//!   pattern without `*` names no key: as BY it means "do not sort" (`nosort` by
//!   convention), as GET it gives null. Each expansion is a read lookup of its own.
//! - Without BY or with a BY pattern, elements are sorted: numerically by the weight as C's
//!   `strtod` reads it (leading spaces allowed, the whole rest must be the number, `nan`,
//!   overflow and underflow refused: `ERR One or more scores can't be converted into
//!   double`; a missing weight key counts as 0), ties broken by comparing the elements'
//!   bytes; or with ALPHA by the bytes of the weight (missing weights first) or of the
//!   element. ALPHA compares C strings (up to a NUL) as Redis's `strcoll` does in the C
//!   locale, except with STORE, where the whole byte strings are compared. The sort is
//!   stable, as glibc's `qsort` is, so equal ALPHA weights keep the input order; with a BY
//!   pattern and a LIMIT that leaves something out, Redis sorts only the range it returns
//!   with its partial quicksort, ported step for step in `util::pqsort` ([`partial_qsort`]) so that equal
//!   weights land where Redis puts them.
//! - "Do not sort" keeps a list's or sorted set's own order (DESC walks it backwards, LIMIT
//!   picks the range directly); a set has no order of its own, so with STORE or inside a
//!   script it is sorted ALPHA by its elements instead, as Redis does so that replicas and
//!   the AOF get the same list.
//! - Any sorted set is converted to the skiplist encoding first, as Redis does (even by
//!   SORT_RO).
//! - LIMIT: a negative offset is 0, a negative count means all; the range is clamped to the
//!   collection without overflow.
//! - STORE replaces the destination (any type, its TTL dropped) with the result as a list
//!   (GET misses stored as empty strings), fires `new` if it was created and `sortstore`,
//!   and answers the list's length; an empty result deletes the destination instead (`del`).
//!   SORT … STORE reaches the AOF as given; SORT without STORE and SORT_RO write nothing.

use super::args::{c_str, opt_is};
use super::error::{ERR_NOT_INT, ERR_SYNTAX, ERR_WRONGTYPE};
use super::zsets::{mantissa_nonzero, strtod_whole};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::notify::class;
use crate::resp::Argv;
use crate::types::list::List;
use crate::util::pqsort::partial_qsort;

const ERR_SCORE: &str = "ERR One or more scores can't be converted into double";

/// SORT's options, as parsed.
struct SortOpts<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// BY without `*`: keep the collection's order.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

fn parse_opts<'a>(argv: &Argv<'a>, readonly: bool) -> Result<SortOpts<'a>, &'static str> {
    let mut o = SortOpts {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < argv.len() {
        let a = argv.get(j);
        let left = argv.len() - j - 1;
        if opt_is(a, "asc") {
            o.desc = false;
        } else if opt_is(a, "desc") {
            o.desc = true;
        } else if opt_is(a, "alpha") {
            o.alpha = true;
        } else if opt_is(a, "limit") && left >= 2 {
            let n = |i: usize| super::args::arg_i64(argv.get(i)).ok_or(ERR_NOT_INT);
            o.limit_start = n(j + 1)?;
            o.limit_count = n(j + 2)?;
            j += 2;
        } else if !readonly && opt_is(a, "store") && left >= 1 {
            o.store = Some(argv.get(j + 1));
            j += 1;
        } else if opt_is(a, "by") && left >= 1 {
            let p = argv.get(j + 1);
            o.by = Some(p);
            // strchr on the C string: a `*` after a NUL does not count. Once a BY without
            // `*` was seen the result is not sorted, whatever BY comes later (Redis only
            // ever sets its flag).
            o.dontsort |= !c_str(p).contains(&b'*');
            j += 1;
        } else if opt_is(a, "get") && left >= 1 {
            o.gets.push(argv.get(j + 1));
            j += 1;
        } else {
            return Err(ERR_SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// The key a pattern names for `elem`, and the hash field when it has `->field` after its
/// `*` (Redis's `lookupKeyByPattern`). None: the pattern has no `*` (in its C string).
fn expand_pattern(pattern: &[u8], elem: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let star = c_str(pattern).iter().position(|&c| c == b'*')?;
    // strstr on the C string after the `*`, and a field only if something follows "->".
    let after = c_str(&pattern[star + 1..]);
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&i| i + 2 < after.len())
        .map(|i| star + 1 + i);
    let (post_end, field) = match arrow {
        Some(i) => (i, Some(pattern[i + 2..].to_vec())),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + post_end - star);
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..post_end]);
    Some((key, field))
}

/// The value a BY or GET pattern gives for `elem`: the element for `#`, a string key's
/// value, a hash field's value, or None. Each key looked up is a read lookup (hit or miss,
/// `keymiss` on a miss), as Redis's `lookupKeyRead`.
fn lookup_by_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    // `#` as a C string: "#" followed by the end or a NUL.
    if pattern.first() == Some(&b'#') && pattern.get(1).is_none_or(|&c| c == 0) {
        return Some(elem.to_vec());
    }
    let (key, field) = expand_pattern(pattern, elem)?;
    let now_ms = ctx.now_ms;
    let mut ibuf = itoa::Buffer::new();
    let (found, out) = match ctx.db().get_mut(&key, now_ms) {
        None => (false, None),
        Some(Value::Hash(h)) => (true, field.and_then(|f| h.get(&f).map(<[u8]>::to_vec))),
        Some(v) if field.is_none() => (true, v.str_bytes(&mut ibuf).map(<[u8]>::to_vec)),
        Some(_) => (true, None),
    };
    ctx.read_lookup(found, &key);
    out
}

/// A weight as Redis reads it with C's `strtod`: leading spaces skipped, the rest of the C
/// string must be the number; an empty string is 0; NaN, overflow to infinity and underflow
/// (a non-zero number read as zero or subnormal) are errors (strtod's ERANGE).
fn parse_weight(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s
        .iter()
        .position(|&c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let t = &s[start..];
    let v = strtod_whole(t)?;
    if v.is_nan() {
        return None;
    }
    if v.is_infinite() {
        let body = t
            .strip_prefix(b"-")
            .or_else(|| t.strip_prefix(b"+"))
            .unwrap_or(t);
        if !body.eq_ignore_ascii_case(b"inf") && !body.eq_ignore_ascii_case(b"infinity") {
            return None;
        }
    }
    if (v == 0.0 || v.is_subnormal()) && mantissa_nonzero(t) {
        return None;
    }
    Some(v)
}

/// C's `strcmp` of two byte strings read up to their first NUL (`strcoll` in the C locale).
fn cmp_c_strings(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    c_str(a).cmp(c_str(b))
}

/// One element of the vector being sorted, with its weight.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// ALPHA with BY: the weight's bytes (None when the weight key is missing).
    cmp: Option<Vec<u8>>,
}

/// What the sorted key holds: its elements in the order SORT reads them (a list's and a
/// sorted set's own order, a set's iteration order).
enum Source {
    Missing,
    WrongType,
    Elems(Vec<Vec<u8>>),
}

pub fn cmd_sort(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    sort_generic(ctx, argv, false);
}

pub fn cmd_sort_ro(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    sort_generic(ctx, argv, true);
}

/// Redis's LIMIT clamping: (start, end) inclusive over `len` elements; `end < start` when
/// nothing is selected.
fn limit_range(len: i64, limit_start: i64, limit_count: i64) -> (i64, i64) {
    let mut start = limit_start.clamp(0, len);
    let count = limit_count.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

fn sort_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, readonly: bool) {
    let mut o = match parse_opts(argv, readonly) {
        Ok(o) => o,
        Err(e) => return ctx.err(e),
    };
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    let mut is_set = false;
    let src = match ctx.db().get_mut(key, now_ms) {
        None => Source::Missing,
        Some(Value::List(l)) => Source::Elems(l.iter().map(|e| e.into_owned()).collect()),
        Some(Value::Set(s)) => {
            is_set = true;
            let mut v = Vec::with_capacity(s.len());
            let mut ibuf = itoa::Buffer::new();
            s.for_each(|m| v.push(m.bytes(&mut ibuf).to_vec()));
            Source::Elems(v)
        }
        Some(Value::ZSet(z)) => {
            z.convert_to_skiplist();
            Source::Elems(z.iter_from(0, false).map(|(m, _)| m.to_vec()).collect())
        }
        Some(_) => Source::WrongType,
    };
    ctx.read_lookup(!matches!(src, Source::Missing), key);
    let mut elems = match src {
        Source::WrongType => return ctx.err(ERR_WRONGTYPE),
        Source::Missing => Vec::new(),
        Source::Elems(v) => v,
    };
    // A set has no order of its own to keep where the result must be reproducible.
    if o.dontsort && is_set && (o.store.is_some() || ctx.srv.frame.in_script()) {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = elems.len() as i64;
    let (mut start, mut end) = limit_range(len, o.limit_start, o.limit_count);
    if o.dontsort && !is_set {
        // Lists and sorted sets keep their order: take the range directly, from the tail
        // with DESC.
        if o.desc {
            elems.reverse();
        }
        let (s, e) = (start.max(0) as usize, (end + 1).max(0) as usize);
        elems = if e > s {
            elems.drain(s..e).collect()
        } else {
            Vec::new()
        };
        end -= start;
        start = 0;
    }
    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();
    let mut score_error = false;
    if !o.dontsort {
        for it in &mut items {
            let by_weight;
            let weight: &[u8] = match o.by {
                Some(p) => match lookup_by_pattern(ctx, p, &it.elem) {
                    Some(w) => {
                        by_weight = w;
                        &by_weight
                    }
                    // A missing weight: 0, or first under ALPHA.
                    None => continue,
                },
                // ALPHA by the elements themselves needs no weight.
                None if o.alpha => continue,
                None => &it.elem,
            };
            if o.alpha {
                it.cmp = Some(weight.to_vec());
            } else {
                match parse_weight(weight) {
                    Some(s) => it.score = s,
                    None => score_error = true,
                }
            }
        }
        let (alpha, by, store, desc) = (o.alpha, o.by.is_some(), o.store.is_some(), o.desc);
        let cmp = |a: &Item, b: &Item| {
            use std::cmp::Ordering;
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .filter(|c| *c != Ordering::Equal)
                    .unwrap_or_else(|| a.elem.cmp(&b.elem))
            } else if by {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) if store => x.cmp(y),
                    (Some(x), Some(y)) => cmp_c_strings(x, y),
                }
            } else if store {
                a.elem.cmp(&b.elem)
            } else {
                cmp_c_strings(&a.elem, &b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        };
        let whole = start == 0 && end == items.len() as i64 - 1;
        if by && !whole && end >= start {
            // Redis sorts only the range it returns, with its partial quicksort; equal
            // ALPHA weights then end up in that algorithm's order.
            partial_qsort(&mut items, &cmp, start as usize, end as usize);
        } else {
            // glibc's qsort, a merge sort: stable.
            items.sort_by(cmp);
        }
    }
    if score_error {
        return ctx.err(ERR_SCORE);
    }
    let picked: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let out_len = picked.len() * o.gets.len().max(1);
    let Some(dest) = o.store else {
        ctx.reply.array(out_len);
        for it in picked {
            if o.gets.is_empty() {
                ctx.reply.bulk(&it.elem);
            }
            for g in &o.gets {
                match lookup_by_pattern(ctx, g, &it.elem) {
                    Some(v) => ctx.reply.bulk(&v),
                    None => ctx.reply.null(),
                }
            }
        }
        return;
    };
    let mut list = List::new(ctx.srv.config.list_max_listpack_size);
    for it in picked {
        if o.gets.is_empty() {
            list.push_back(&it.elem);
        }
        for g in &o.gets {
            let v = lookup_by_pattern(ctx, g, &it.elem);
            list.push_back(v.as_deref().unwrap_or_default());
        }
    }
    if out_len > 0 {
        let mark = ctx.new_mark();
        drop(
            ctx.db()
                .set(dest, Value::List(Box::new(list)), now_ms, false),
        );
        ctx.notify_new_since(mark, dest);
        ctx.modified(dest);
        ctx.notify(class::LIST, "sortstore", dest);
        ctx.dirty(out_len as u64);
    } else if ctx.db().remove(dest, now_ms).is_some() {
        ctx.modified(dest);
        ctx.notify(class::GENERIC, "del", dest);
        ctx.dirty(1);
    }
    ctx.reply.int(out_len as i64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_expand_as_redis() {
        let e = |p: &str| expand_pattern(p.as_bytes(), b"E");
        assert_eq!(e("w_*"), Some((b"w_E".to_vec(), None)));
        assert_eq!(e("h_*->f"), Some((b"h_E".to_vec(), Some(b"f".to_vec()))));
        assert_eq!(
            e("h_*x->f->g"),
            Some((b"h_Ex".to_vec(), Some(b"f->g".to_vec())))
        );
        // Nothing after the arrow: no field, the arrow is part of the key.
        assert_eq!(e("h_*->"), Some((b"h_E->".to_vec(), None)));
        // An arrow before the star is part of the key.
        assert_eq!(e("a->*"), Some((b"a->E".to_vec(), None)));
        assert_eq!(e("nosort"), None);
        assert_eq!(e("a\0*"), None);
    }

    #[test]
    fn weights_parse_as_strtod() {
        for (s, w) in [
            ("", Some(0.0)),
            (" 2", Some(2.0)),
            ("\t5", Some(5.0)),
            ("+5", Some(5.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("0x10", Some(16.0)),
            ("inf", Some(f64::INFINITY)),
            ("-infinity", Some(f64::NEG_INFINITY)),
            ("5\0x", Some(5.0)),
            ("2 ", None),
            ("nan", None),
            ("1e400", None),
            ("1e-400", None),
            ("1e-310", None),
            ("1_0", None),
            (" ", None),
        ] {
            assert_eq!(parse_weight(s.as_bytes()), w, "{s:?}");
        }
    }

    #[test]
    fn partial_sort_sorts_the_range() {
        // A deterministic pseudo-random sequence; the range must equal a full sort's.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in [0usize, 1, 6, 7, 8, 40, 41, 100, 1000] {
            let v: Vec<u32> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 50) as u32
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            for (lo, hi) in [
                (0, 0),
                (0, 5),
                (3, 9),
                (len / 2, len / 2 + 3),
                (len.saturating_sub(1), len.saturating_sub(1)),
            ] {
                if len == 0 || hi >= len {
                    continue;
                }
                let mut w = v.clone();
                partial_qsort(&mut w, &|a: &u32, b: &u32| a.cmp(b), lo, hi);
                assert_eq!(&w[lo..=hi], &sorted[lo..=hi], "len {len} range {lo}..={hi}");
                let mut all = w.clone();
                all.sort();
                assert_eq!(all, sorted, "a permutation");
            }
        }
    }

    #[test]
    fn partial_sort_leaves_ties_where_redis_does() {
        // Keys, range, and the order Redis 7.0's pqsort.c leaves the indices in (computed by
        // compiling it); the first is a SORT … BY … ALPHA DESC LIMIT 0 6 the difftest met.
        let cases: &[(&[u8], usize, usize, &[usize])] = &[
            (
                &[3, 0, 3, 2, 0, 1, 1, 4, 1, 1, 3],
                0,
                5,
                &[1, 4, 6, 8, 9, 5, 3, 10, 2, 0, 7],
            ),
            (
                &[6, 2, 1, 0, 4, 1, 2, 1, 2],
                8,
                8,
                &[7, 1, 2, 3, 8, 5, 6, 4, 0],
            ),
            (
                &[
                    0, 21, 0, 2, 6, 1, 1, 1, 1, 39, 2, 31, 3, 2, 25, 0, 34, 2, 21, 0, 17, 0, 4, 1,
                    4, 3, 2, 1, 1, 2, 3, 4, 2, 2, 22, 2, 23, 4, 2, 0, 30, 9,
                ],
                30,
                41,
                &[],
            ),
        ];
        for (keys, lo, hi, want) in cases {
            let mut v: Vec<(u8, usize)> = keys.iter().copied().zip(0..).collect();
            partial_qsort(
                &mut v,
                &|a: &(u8, usize), b: &(u8, usize)| a.0.cmp(&b.0),
                *lo,
                *hi,
            );
            let got: Vec<usize> = v.iter().map(|x| x.1).collect();
            if !want.is_empty() {
                assert_eq!(&got, want, "keys {keys:?}");
            }
            let mut sorted = keys.to_vec();
            sorted.sort();
            let range: Vec<u8> = v[*lo..=*hi].iter().map(|x| x.0).collect();
            assert_eq!(range, sorted[*lo..=*hi], "keys {keys:?}");
        }
    }

    #[test]
    fn limit_clamps_like_redis() {
        assert_eq!(limit_range(3, 0, -1), (0, 2));
        assert_eq!(limit_range(3, 1, i64::MAX), (1, 2));
        assert_eq!(limit_range(3, -5, 2), (0, 1));
        assert_eq!(limit_range(3, 5, 2), (2, 1));
        assert_eq!(limit_range(3, i64::MAX, i64::MAX), (2, 1));
        assert_eq!(limit_range(3, 2, 0), (2, 1));
        assert_eq!(limit_range(0, 0, -1), (-1, -2));
    }
}
