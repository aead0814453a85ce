//! Redis's partial quicksort (`pqsort.c`), shared by the commands whose replies depend on
//! where it leaves elements that compare equal: SORT … LIMIT and the GEO searches with COUNT.
//! Rust's sorts would order the requested range the same but put ties elsewhere, so this is
//! a step-for-step port. Invariant: after `partial_qsort(v, cmp, lo, hi)`, `v[lo..=hi]` holds
//! what a full sort would put there; the work is bounded (each partition step fixes its pivot,
//! and the stack holds disjoint partitions only).

/// Redis 7.0's `pqsort` (NetBSD's qsort, Bentley and McIlroy's, without the switch to
/// insertion sort after a pass without swaps, changed by Redis to skip the partitions outside
/// `lo..=hi`), step for step, so that elements the comparison calls equal
/// end up where Redis puts them. Afterwards `v[lo..=hi]` holds what a full sort would put
/// there.
pub fn partial_qsort<T>(
    v: &mut [T],
    cmp: &impl Fn(&T, &T) -> std::cmp::Ordering,
    lo: usize,
    hi: usize,
) {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let med3 = |v: &[T], a: usize, b: usize, c: usize| {
        if cmp(&v[a], &v[b]) == Less {
            if cmp(&v[b], &v[c]) == Less {
                b
            } else if cmp(&v[a], &v[c]) == Less {
                c
            } else {
                a
            }
        } else if cmp(&v[b], &v[c]) == Greater {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            a
        } else {
            c
        }
    };
    let insertion = |v: &mut [T], a: usize, n: usize| {
        for m in a + 1..a + n {
            let mut l = m;
            while l > a && cmp(&v[l - 1], &v[l]) == Greater {
                v.swap(l, l - 1);
                l -= 1;
            }
        }
    };
    // Whether the partition [s, s + n) holds nothing of lo..=hi.
    let outside = |s: usize, n: usize| (lo < s && hi < s) || (lo >= s + n && hi >= s + n);
    let vecswap = |v: &mut [T], a: usize, b: usize, n: usize| {
        for i in 0..n {
            v.swap(a + i, b + i);
        }
    };
    // (start, length) of the partitions still to sort. Redis recurses on the left one and
    // loops on the right one; partitions are disjoint, so the order they are sorted in does
    // not change the result.
    let mut todo = vec![(0usize, v.len())];
    while let Some((mut a, mut n)) = todo.pop() {
        loop {
            if n < 7 {
                insertion(v, a, n);
                break;
            }
            let mut pm = a + n / 2;
            if n > 7 {
                let mut pl = a;
                let mut pn = a + n - 1;
                if n > 40 {
                    let d = n / 8;
                    pl = med3(v, pl, pl + d, pl + 2 * d);
                    pm = med3(v, pm - d, pm, pm + d);
                    pn = med3(v, pn - 2 * d, pn - d, pn);
                }
                pm = med3(v, pl, pm, pn);
            }
            v.swap(a, pm);
            let (mut pa, mut pb) = (a + 1, a + 1);
            let (mut pc, mut pd) = (a + n - 1, a + n - 1);
            // Invariant: a < pb and pc >= pb - 1 >= a, so no index leaves the partition.
            loop {
                while pb <= pc {
                    let c = cmp(&v[pb], &v[a]);
                    if c == Greater {
                        break;
                    }
                    if c == Equal {
                        v.swap(pa, pb);
                        pa += 1;
                    }
                    pb += 1;
                }
                while pb <= pc {
                    let c = cmp(&v[pc], &v[a]);
                    if c == Less {
                        break;
                    }
                    if c == Equal {
                        v.swap(pc, pd);
                        pd -= 1;
                    }
                    pc -= 1;
                }
                if pb > pc {
                    break;
                }
                v.swap(pb, pc);
                pb += 1;
                pc -= 1;
            }
            let pn = a + n;
            let r = (pa - a).min(pb - pa);
            vecswap(v, a, pb - r, r);
            let r = (pd - pc).min(pn - pd - 1);
            vecswap(v, pb, pn - r, r);
            let left = pb - pa;
            let right = pd - pc;
            let right_start = pn - right;
            let right_next = right > 1 && !outside(right_start, right);
            if left > 1 && !outside(a, left) {
                if right_next {
                    todo.push((right_start, right));
                }
                n = left;
                continue;
            }
            if right_next {
                a = right_start;
                n = right;
                continue;
            }
            break;
        }
    }
}
