//! Differential test of the set commands: the same commands go to ringkv ("ours") and to a
//! real redis-server ("redis"), and the replies must agree.
//!
//! Usage:
//!   cargo test --test difftest_sets                       default seed, DEFAULT_N commands
//!   DIFFTEST_SEED=7 DIFFTEST_N=20000 cargo test --test difftest_sets random_stream
//!   RINGKV_BIN=$(command -v redis-server) cargo test --test difftest_sets   checks the harness
//!
//! Each command goes either to a RESP2 or to a RESP3 (HELLO 3) connection, the same on both
//! sides. A few set keys grow past set-max-intset-entries (which the stream also changes with
//! CONFIG SET) and shrink to empty; a string key gives WRONGTYPE; invalid arguments check
//! error texts; OBJECT ENCODING is compared exactly.
//!
//! Where Redis's reply is not a function of the command sequence alone, the comparison is
//! normalised (see `Check`):
//! - SMEMBERS / SINTER / SUNION / SDIFF: exact when Redis iterates an intset (ascending order),
//!   sorted otherwise. Which one is learned from Redis itself: OBJECT ENCODING of the keys for
//!   SMEMBERS/SINTER, and the encoding SUNIONSTORE/SDIFFSTORE gives a scratch key (same
//!   algorithm) for SUNION/SDIFF, compared on both sides too.
//! - SSCAN: run to completion on each side from cursor 0; the member sets are compared (and the
//!   single reply exactly when Redis's set is an intset).
//! - SRANDMEMBER: same reply shape and length; members must belong to the set (SMISMEMBER on
//!   each side), distinct for a positive count, the whole set when the count covers it.
//! - SPOP: same shape and length; popped members distinct and taken from the set as it was
//!   (read with SMEMBERS before, which is also compared). Ours is then re-synchronised to
//!   Redis's remaining members and encoding, out of band, so the streams stay comparable.

mod common;

use common::diff::{name_of, scan_to_end, words, Pair, Side};
use common::Reply;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeSet, HashSet};

/// Seed used when `DIFFTEST_SEED` is not set.
const DEFAULT_SEED: u64 = 0x5e75_5e75;
/// Commands per run when `DIFFTEST_N` is not set.
const DEFAULT_N: usize = 4_000;
/// Commands per pipelined write.
const BATCH_MAX: usize = 50;
/// Commands shown before a mismatch.
const HISTORY_MAX: usize = 12;
/// Full-state comparison period, in commands.
const STATE_CHECK_EVERY: usize = 500;
/// Upper bound on SSCAN calls for one full iteration.
const SCAN_CALLS_MAX: usize = 10_000;
/// Members per resync SADD.
const RESYNC_CHUNK: usize = 100;
/// The set keys of the stream.
const SET_KEYS: &[&str] = &["s1", "s2", "s3", "s4", "s5"];
/// A string key, for WRONGTYPE.
const STR_KEY: &str = "str";
/// Scratch key for learning the encoding of SUNION/SDIFF results; never used by the stream.
const TMP_KEY: &str = "__difftest_tmp";
/// A member no stream ever adds, used to force a hash table when resynchronising.
const RESYNC_MARKER: &[u8] = b"\x00resync";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Exact,
    /// A set-valued reply whose order is Redis's iteration order (see the module doc).
    Ordered,
    Scan,
    RandMember,
    Pop,
}

fn check_for(args: &[Vec<u8>]) -> Check {
    if args.len() < 2 {
        return Check::Exact;
    }
    match name_of(args).as_str() {
        "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" => Check::Ordered,
        "SSCAN" => Check::Scan,
        "SRANDMEMBER" => Check::RandMember,
        "SPOP" => Check::Pop,
        _ => Check::Exact,
    }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// The elements of an array or set reply, or None for other replies.
fn items(r: &Reply) -> Option<&[Reply]> {
    match r {
        Reply::Array(Some(v)) | Reply::Set(v) => Some(v),
        _ => None,
    }
}

fn sorted(r: &Reply) -> Reply {
    let sort = |v: &[Reply]| {
        let mut v = v.to_vec();
        v.sort_by_key(|i| format!("{i:?}"));
        v
    };
    match r {
        Reply::Array(Some(v)) => Reply::Array(Some(sort(v))),
        Reply::Set(v) => Reply::Set(sort(v)),
        other => other.clone(),
    }
}

/// Same variant and same length (nil replies must match exactly).
fn same_shape(a: &Reply, b: &Reply) -> bool {
    match (a, b) {
        (Reply::Array(Some(x)), Reply::Array(Some(y))) | (Reply::Set(x), Reply::Set(y)) => {
            x.len() == y.len()
        }
        (Reply::Bulk(Some(_)), Reply::Bulk(Some(_))) => true,
        _ => a == b,
    }
}

fn bulk_bytes(r: &Reply) -> Option<Vec<u8>> {
    match r {
        Reply::Bulk(Some(b)) => Some(b.clone()),
        _ => None,
    }
}

impl Side {
    /// Sorted members of a key, via SMEMBERS on the RESP2 connection.
    fn members(&mut self, key: &[u8]) -> Result<BTreeSet<Vec<u8>>, Reply> {
        let r = self.cmd(false, &[b("SMEMBERS"), key.to_vec()]);
        match items(&r) {
            Some(v) => Ok(v.iter().filter_map(bulk_bytes).collect()),
            None => Err(r),
        }
    }

    fn encoding(&mut self, key: &[u8]) -> Reply {
        self.cmd(false, &[b("OBJECT"), b("ENCODING"), key.to_vec()])
    }
}

struct Diff {
    /// Its history's stats also count, as "OBJECT ENCODING=<encoding>", the encodings Redis
    /// answered.
    pair: Pair,
    resyncs: u64,
}

impl Diff {
    fn start(seed: u64) -> Diff {
        Diff {
            pair: Pair::start("difftest_sets", seed, HISTORY_MAX),
            resyncs: 0,
        }
    }

    /// Counts the encoding Redis answered to an OBJECT (ENCODING) command.
    fn count_encoding(&mut self, args: &[Vec<u8>], redis: &Reply) {
        if name_of(args) == "OBJECT" {
            if let Reply::Bulk(Some(e)) = redis {
                let e = format!("OBJECT ENCODING={}", String::from_utf8_lossy(e));
                self.pair.history.stats.entry(e).or_default().sent += 1;
            }
        }
    }

    fn remember(&mut self, resp3: bool, args: &[Vec<u8>], ours: Reply, redis: Reply) {
        self.count_encoding(args, &redis);
        self.pair.history.push(resp3, args, ours, redis);
    }

    fn run_exact_batch(&mut self, resp3: bool, batch: &[Vec<Vec<u8>>]) {
        if batch.is_empty() {
            return;
        }
        let redis = self.pair.run_exact(resp3, batch, "exact");
        for (args, r) in batch.iter().zip(&redis) {
            self.count_encoding(args, r);
        }
    }

    /// Runs commands: exact ones pipelined, the others one by one with their checks.
    fn run(&mut self, resp3: bool, cmds: &[Vec<Vec<u8>>]) {
        let mut batch: Vec<Vec<Vec<u8>>> = Vec::new();
        for args in cmds {
            let check = check_for(args);
            if check == Check::Exact {
                batch.push(args.clone());
                if batch.len() == BATCH_MAX {
                    self.run_exact_batch(resp3, &batch);
                    batch.clear();
                }
                continue;
            }
            self.run_exact_batch(resp3, &batch);
            batch.clear();
            match check {
                Check::Ordered => self.run_ordered(resp3, args),
                Check::Scan => self.run_scan(resp3, args),
                Check::RandMember => self.run_randmember(resp3, args),
                Check::Pop => self.run_pop(resp3, args),
                Check::Exact => unreachable!(),
            }
        }
        self.run_exact_batch(resp3, &batch);
        self.pair.check_events();
    }

    /// Whether Redis answers `args` (SMEMBERS/SINTER/SUNION/SDIFF) by iterating an intset.
    fn iterates_intset(&mut self, args: &[Vec<u8>]) -> bool {
        let name = name_of(args);
        let keys = &args[1..];
        if name == "SMEMBERS" || name == "SINTER" {
            // Every present source an intset (a missing one makes the reply empty anyway).
            let mut all = true;
            for k in keys {
                let e = self
                    .pair
                    .both(false, &[b("OBJECT"), b("ENCODING"), k.clone()], "encoding");
                all &=
                    matches!(&e, Reply::Bulk(Some(x)) if x == b"intset") || e == Reply::Bulk(None);
            }
            return all;
        }
        let store = if name == "SUNION" {
            "SUNIONSTORE"
        } else {
            "SDIFFSTORE"
        };
        let mut cmd = vec![b(store), b(TMP_KEY)];
        cmd.extend(keys.iter().cloned());
        let n = self.pair.both(false, &cmd, "store into the scratch key");
        let e = self.pair.both(
            false,
            &[b("OBJECT"), b("ENCODING"), b(TMP_KEY)],
            "scratch encoding",
        );
        self.pair
            .both(false, &[b("DEL"), b(TMP_KEY)], "scratch DEL");
        n == Reply::Int(0) || e == Reply::bulk(b"intset")
    }

    fn run_ordered(&mut self, resp3: bool, args: &[Vec<u8>]) {
        let o = self.pair.ours.cmd(resp3, args);
        let r = self.pair.redis.cmd(resp3, args);
        // Errors, and intset iteration, must match exactly; hash order only as a set.
        let exact = r.is_error() || o.is_error() || self.iterates_intset(args);
        let ok = if exact {
            o == r
        } else {
            sorted(&o) == sorted(&r)
        };
        if !ok {
            self.pair.fail(
                "set reply (exact for intsets, else sorted)",
                resp3,
                args,
                &o,
                &r,
            );
        }
        self.remember(resp3, args, o, r);
    }

    /// SSCAN from the given cursor's command to completion on one side: the first reply, and
    /// every member seen (or the reply that ended the iteration).
    fn full_scan(side: &mut Side, resp3: bool, args: &[Vec<u8>]) -> (Reply, Reply) {
        let mut members = BTreeSet::new();
        let take = |batch: &[Reply]| {
            members.extend(batch.iter().filter_map(bulk_bytes));
            true
        };
        let scan = scan_to_end(side.conn(resp3), args, 2, SCAN_CALLS_MAX, take);
        let all = match scan.end {
            Ok(()) => Reply::Array(Some(members.into_iter().map(|m| Reply::bulk(&m)).collect())),
            Err(e) => e,
        };
        (scan.first, all)
    }

    fn run_scan(&mut self, resp3: bool, args: &[Vec<u8>]) {
        let (of, o) = Diff::full_scan(&mut self.pair.ours, resp3, args);
        let (rf, r) = Diff::full_scan(&mut self.pair.redis, resp3, args);
        if o != r {
            self.pair
                .fail("SSCAN to completion, member sets", resp3, args, &o, &r);
        }
        let intset = self.pair.redis.encoding(&args[1]) == Reply::bulk(b"intset");
        if (intset || rf.is_error()) && of != rf {
            self.pair.fail(
                "SSCAN of an intset (one exact reply)",
                resp3,
                args,
                &of,
                &rf,
            );
        }
        self.remember(resp3, args, of, rf);
    }

    /// Checks that every member in `reply` belongs to `key` on that side.
    fn all_members(side: &mut Side, key: &[u8], elems: &[Vec<u8>]) -> bool {
        if elems.is_empty() {
            return true;
        }
        let mut cmd = vec![b("SMISMEMBER"), key.to_vec()];
        cmd.extend(elems.iter().cloned());
        match side.cmd(false, &cmd) {
            Reply::Array(Some(v)) => v.iter().all(|x| *x == Reply::Int(1)),
            _ => false,
        }
    }

    fn run_randmember(&mut self, resp3: bool, args: &[Vec<u8>]) {
        let o = self.pair.ours.cmd(resp3, args);
        let r = self.pair.redis.cmd(resp3, args);
        if !same_shape(&o, &r) {
            self.pair.fail("SRANDMEMBER shape", resp3, args, &o, &r);
        }
        let key = &args[1];
        let elems = |x: &Reply| -> Vec<Vec<u8>> {
            match x {
                Reply::Bulk(Some(m)) => vec![m.clone()],
                _ => items(x)
                    .map(|v| v.iter().filter_map(bulk_bytes).collect())
                    .unwrap_or_default(),
            }
        };
        let (oe, re) = (elems(&o), elems(&r));
        if !Diff::all_members(&mut self.pair.ours, key, &oe)
            || !Diff::all_members(&mut self.pair.redis, key, &re)
        {
            self.pair
                .fail("SRANDMEMBER returned a non-member", resp3, args, &o, &r);
        }
        let positive = args.len() == 3 && !args[2].starts_with(b"-");
        if positive && items(&o).is_some() {
            let distinct: HashSet<&Vec<u8>> = oe.iter().collect();
            if distinct.len() != oe.len() {
                self.pair.fail(
                    "SRANDMEMBER positive count repeated a member",
                    resp3,
                    args,
                    &o,
                    &r,
                );
            }
            let card = self.pair.both(false, &[b("SCARD"), key.clone()], "SCARD");
            if card == Reply::Int(oe.len() as i64) && sorted(&o) != sorted(&r) {
                self.pair
                    .fail("SRANDMEMBER of the whole set", resp3, args, &o, &r);
            }
        }
        self.remember(resp3, args, o, r);
    }

    fn run_pop(&mut self, resp3: bool, args: &[Vec<u8>]) {
        let key = args[1].clone();
        let before_o = self.pair.ours.members(&key);
        let before_r = self.pair.redis.members(&key);
        if before_o != before_r {
            self.pair.fail(
                "SMEMBERS before SPOP",
                resp3,
                args,
                &Reply::Null,
                &Reply::Null,
            );
        }
        let o = self.pair.ours.cmd(resp3, args);
        let r = self.pair.redis.cmd(resp3, args);
        if !same_shape(&o, &r) {
            self.pair.fail("SPOP shape", resp3, args, &o, &r);
        }
        let popped = |x: &Reply| -> Vec<Vec<u8>> {
            match x {
                Reply::Bulk(Some(m)) => vec![m.clone()],
                _ => items(x)
                    .map(|v| v.iter().filter_map(bulk_bytes).collect())
                    .unwrap_or_default(),
            }
        };
        let before = before_r.unwrap_or_default();
        let po = popped(&o);
        let distinct: HashSet<&Vec<u8>> = po.iter().collect();
        if distinct.len() != po.len() || !po.iter().all(|m| before.contains(m)) {
            self.pair
                .fail("SPOP popped a non-member or twice", resp3, args, &o, &r);
        }
        // The encoding after a rebuild depends on which members stay only when the set mixed
        // integers and strings; otherwise it must match.
        let is_int = |m: &Vec<u8>| {
            std::str::from_utf8(m)
                .ok()
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|n| n.to_string().as_bytes() == m.as_slice())
        };
        let ints = before.iter().filter(|m| is_int(m)).count();
        if ints == 0 || ints == before.len() {
            let (eo, er) = (
                self.pair.ours.encoding(&key),
                self.pair.redis.encoding(&key),
            );
            if eo != er {
                let enc = vec![b("OBJECT"), b("ENCODING"), key.clone()];
                self.remember(resp3, args, o, r);
                self.pair.fail("encoding after SPOP", false, &enc, &eo, &er);
            }
        }
        self.remember(resp3, args, o, r);
        self.resync(&key);
    }

    /// Makes ours hold exactly Redis's members of `key`, in Redis's encoding.
    fn resync(&mut self, key: &[u8]) {
        let want = self.pair.redis.members(key).unwrap_or_default();
        let have = self.pair.ours.members(key).unwrap_or_default();
        let want_enc = self.pair.redis.encoding(key);
        if want == have && self.pair.ours.encoding(key) == want_enc {
            return;
        }
        self.resyncs += 1;
        // The events so far are compared; the rebuild's own, on ours alone, are not.
        self.pair.check_events();
        self.pair.ours.cmd(false, &[b("DEL"), key.to_vec()]);
        let table = want_enc == Reply::bulk(b"hashtable");
        if table {
            self.pair
                .ours
                .cmd(false, &[b("SADD"), key.to_vec(), RESYNC_MARKER.to_vec()]);
        }
        // Redis's intset may be larger than the current limit (set before the limit was
        // lowered): lift the limit on ours while rebuilding.
        let limit = match self
            .pair
            .ours
            .cmd(false, &words("CONFIG GET set-max-intset-entries"))
        {
            Reply::Array(Some(v)) if v.len() == 2 => bulk_bytes(&v[1]).unwrap_or_default(),
            other => panic!("CONFIG GET answered {other:?}"),
        };
        self.pair
            .ours
            .cmd(false, &words("CONFIG SET set-max-intset-entries 1000000"));
        let want: Vec<Vec<u8>> = want.into_iter().collect();
        for chunk in want.chunks(RESYNC_CHUNK) {
            let mut cmd = vec![b("SADD"), key.to_vec()];
            cmd.extend(chunk.iter().cloned());
            self.pair.ours.cmd(false, &cmd);
        }
        let mut restore = words("CONFIG SET set-max-intset-entries");
        restore.push(limit);
        self.pair.ours.cmd(false, &restore);
        if table {
            self.pair
                .ours
                .cmd(false, &[b("SREM"), key.to_vec(), RESYNC_MARKER.to_vec()]);
        }
        // The rebuilt key gets Redis's deadline back.
        if let Reply::Int(at_ms @ 1..) = self
            .pair
            .redis
            .cmd(false, &[b("PEXPIRETIME"), key.to_vec()])
        {
            let at = at_ms.to_string().into_bytes();
            self.pair
                .ours
                .cmd(false, &[b("PEXPIREAT"), key.to_vec(), at]);
        }
        let got = self.pair.ours.encoding(key);
        if got != want_enc {
            let args = vec![b("OBJECT"), b("ENCODING"), key.to_vec()];
            self.pair
                .fail("resync after SPOP", false, &args, &got, &want_enc);
        }
        self.pair.skip_events();
    }

    /// Compares type, encoding and members of every key of the stream.
    fn check_state(&mut self) {
        let mut keys: Vec<&str> = SET_KEYS.to_vec();
        keys.push(STR_KEY);
        for k in keys {
            let key = b(k);
            self.pair
                .both(false, &[b("TYPE"), key.clone()], "state check: TYPE");
            self.pair.both(
                false,
                &[b("OBJECT"), b("ENCODING"), key.clone()],
                "state check: encoding",
            );
            let (o, r) = (self.pair.ours.members(&key), self.pair.redis.members(&key));
            if o != r {
                let show = |x: &Result<BTreeSet<Vec<u8>>, Reply>| match x {
                    Ok(m) => Reply::Array(Some(m.iter().map(|e| Reply::bulk(e)).collect())),
                    Err(e) => e.clone(),
                };
                self.pair.fail(
                    "state check: members",
                    false,
                    &[b("SMEMBERS"), key],
                    &show(&o),
                    &show(&r),
                );
            }
        }
        self.pair.both(false, &[b("DBSIZE")], "state check: DBSIZE");
    }
}

// ---------------------------------------------------------------------------------------------
// The random command generator.

/// Members: integers around the intset limits and i64's edges, forms that look numeric but
/// are strings in Redis, and plain strings.
const ODD_MEMBERS: &[&str] = &[
    "0",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "007",
    "-0",
    "+1",
    " 1",
    "1.5",
    "",
    "a",
    "b",
    "hello",
    "a\u{0}b",
    "\r\n",
    "m*",
    "[m]",
];

/// Integer arguments for counts, including invalid ones. No large negative count: SRANDMEMBER
/// would answer that many members on both servers.
const COUNT_ARGS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "5",
    "10",
    "50",
    "300",
    "1000",
    "-1",
    "-3",
    "-20",
    "abc",
    "1.5",
    "",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
];

struct Gen {
    rng: StdRng,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs.choose(&mut self.rng).copied().unwrap_or("")
    }

    fn set_key(&mut self) -> Vec<u8> {
        if self.rng.gen_ratio(1, 25) {
            return b(STR_KEY);
        }
        if self.rng.gen_ratio(1, 40) {
            return b("missing");
        }
        b(self.pick(SET_KEYS))
    }

    fn member(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..100) {
            0..=64 => self.rng.gen_range(-50i64..700).to_string().into_bytes(),
            65..=84 => format!("m{}", self.rng.gen_range(0..60)).into_bytes(),
            _ => b(self.pick(ODD_MEMBERS)),
        }
    }

    fn members(&mut self, n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|_| self.member()).collect()
    }

    /// Members for `key`: s1..s3 hold integers nearly always, so they stay intsets until they
    /// pass the limit; the others mix in strings.
    fn members_for(&mut self, key: &[u8], n: usize) -> Vec<Vec<u8>> {
        if [&b"s1"[..], b"s2", b"s3"].contains(&key) {
            (0..n)
                .map(|_| {
                    if self.rng.gen_ratio(1, 100) {
                        self.member()
                    } else {
                        self.rng.gen_range(-20i64..600).to_string().into_bytes()
                    }
                })
                .collect()
        } else {
            self.members(n)
        }
    }

    fn keys(&mut self, n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|_| self.set_key()).collect()
    }

    /// A member count: mostly small, sometimes large enough to cross 512.
    fn bulk_count(&mut self) -> usize {
        if self.rng.gen_ratio(1, 8) {
            self.rng.gen_range(50..250)
        } else {
            self.rng.gen_range(1..8)
        }
    }

    fn count_arg(&mut self) -> Vec<u8> {
        if self.rng.gen_ratio(3, 4) {
            self.rng.gen_range(0..40).to_string().into_bytes()
        } else {
            b(self.pick(COUNT_ARGS))
        }
    }

    fn with(name: &str, mut rest: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        let mut v = vec![b(name)];
        v.append(&mut rest);
        v
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let r = self.rng.gen_range(0..1000);
        let key = self.set_key();
        match r {
            0..=219 => {
                let n = self.bulk_count();
                let m = self.members_for(&key, n);
                let mut a = vec![key];
                a.extend(m);
                Gen::with("SADD", a)
            }
            220..=339 => {
                let n = self.bulk_count();
                let m = self.members_for(&key, n);
                let mut a = vec![key];
                a.extend(m);
                Gen::with("SREM", a)
            }
            340..=379 => Gen::with("SISMEMBER", vec![key, self.member()]),
            380..=409 => {
                let n = self.rng.gen_range(1..6);
                let mut a = vec![key];
                a.extend(self.members(n));
                Gen::with("SMISMEMBER", a)
            }
            410..=439 => Gen::with("SCARD", vec![key]),
            440..=479 => Gen::with("SMEMBERS", vec![key]),
            480..=519 => {
                if self.rng.gen_ratio(1, 3) {
                    Gen::with("SPOP", vec![key])
                } else {
                    Gen::with("SPOP", vec![key, self.count_arg()])
                }
            }
            520..=569 => {
                if self.rng.gen_ratio(1, 3) {
                    Gen::with("SRANDMEMBER", vec![key])
                } else {
                    Gen::with("SRANDMEMBER", vec![key, self.count_arg()])
                }
            }
            570..=619 => {
                let dst = self.set_key();
                Gen::with("SMOVE", vec![key, dst, self.member()])
            }
            620..=659 => {
                let n = self.rng.gen_range(1..4);
                Gen::with("SINTER", self.keys(n))
            }
            660..=689 => {
                let n = self.rng.gen_range(1..4);
                let mut a = vec![n.to_string().into_bytes()];
                a.extend(self.keys(n));
                if self.rng.gen_ratio(1, 2) {
                    a.push(b("LIMIT"));
                    a.push(self.count_arg());
                }
                Gen::with("SINTERCARD", a)
            }
            690..=729 => {
                let n = self.rng.gen_range(1..4);
                Gen::with("SUNION", self.keys(n))
            }
            730..=769 => {
                let n = self.rng.gen_range(1..5);
                Gen::with("SDIFF", self.keys(n))
            }
            770..=859 => {
                let store = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][self.rng.gen_range(0..3)];
                let n = self.rng.gen_range(1..5);
                let mut a = vec![key];
                a.extend(self.keys(n));
                Gen::with(store, a)
            }
            860..=909 => {
                let mut a = vec![key, b("0")];
                if self.rng.gen_ratio(1, 2) {
                    a.push(b("COUNT"));
                    a.push(self.rng.gen_range(1..30).to_string().into_bytes());
                }
                if self.rng.gen_ratio(1, 3) {
                    a.push(b("MATCH"));
                    a.push(b(self.pick(&["1*", "*5", "m?", "*", "[0-3]*", "m*"])));
                }
                Gen::with("SSCAN", a)
            }
            910..=939 => Gen::with("OBJECT", vec![b("ENCODING"), key]),
            940..=949 => Gen::with("DEL", vec![key]),
            950..=954 => Gen::with("SET", vec![b(STR_KEY), b("x")]),
            955..=959 => Gen::with("TYPE", vec![key]),
            _ => self.invalid(key),
        }
    }

    /// Commands with bad arguments: arity, counts, options.
    fn invalid(&mut self, key: Vec<u8>) -> Vec<Vec<u8>> {
        let k = String::from_utf8_lossy(&key).into_owned();
        let s = match self.rng.gen_range(0..16) {
            0 => format!("SADD {k}"),
            1 => format!("SISMEMBER {k}"),
            2 => format!("SMOVE {k} s1"),
            3 => format!("SPOP {k} 1 2"),
            4 => format!("SRANDMEMBER {k} 1 2"),
            5 => format!("SINTERCARD 0 {k}"),
            6 => format!("SINTERCARD 3 {k}"),
            7 => format!("SINTERCARD 1 {k} LIMIT"),
            8 => format!("SINTERCARD 1 {k} LIMIT -1"),
            9 => format!("SINTERCARD 1 {k} FOO 1"),
            10 => format!("SSCAN {k} abc"),
            11 => format!("SSCAN {k} 0 COUNT 0"),
            12 => format!("SSCAN {k} 0 TYPE set"),
            13 => format!("SSCAN {k} 0 MATCH"),
            14 => format!("SCARD {k} x"),
            _ => "SINTERSTORE d".to_string(),
        };
        words(&s)
    }
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!("difftest_sets: seed {seed}, {n} commands, events {events:?}");
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
    };
    let mut diff = Diff::start(seed);
    if let Some(classes) = events {
        diff.pair.watch_events(classes);
    }
    diff.run(false, &[words("SET str x")]);
    let mut resp3 = false;
    let mut i = 0;
    while i < n {
        // A run of commands on one connection, then maybe a switch of protocol.
        let run_len = g.rng.gen_range(1..40).min(n - i);
        if i % 1000 < run_len && i > 0 {
            let limit = ["512", "16", "4", "512", "1", "0", "128"][(i / 1000) % 7];
            diff.run(
                false,
                &[words(&format!("CONFIG SET set-max-intset-entries {limit}"))],
            );
        }
        let cmds: Vec<Vec<Vec<u8>>> = (0..run_len).map(|_| g.command()).collect();
        diff.run(resp3, &cmds);
        let before = i / STATE_CHECK_EVERY;
        i += run_len;
        if i / STATE_CHECK_EVERY != before {
            diff.check_state();
        }
        if g.rng.gen_ratio(1, 3) {
            resp3 = !resp3;
        }
    }
    diff.check_state();
    eprintln!(
        "difftest_sets: {} commands compared, {} SPOP resyncs",
        diff.pair.history.next_index(),
        diff.resyncs
    );
    for (name, c) in &diff.pair.history.stats {
        eprintln!("  {name:<12} {:>6} ({} errors)", c.sent, c.errors);
    }
    // The stream must really cover both encodings and the error paths.
    let covered: HashSet<&str> = diff.pair.history.stats.keys().map(String::as_str).collect();
    for name in [
        "OBJECT ENCODING=intset",
        "OBJECT ENCODING=hashtable",
        "SADD",
        "SREM",
        "SISMEMBER",
        "SMISMEMBER",
        "SCARD",
        "SMEMBERS",
        "SPOP",
        "SRANDMEMBER",
        "SMOVE",
        "SINTER",
        "SINTERCARD",
        "SINTERSTORE",
        "SUNION",
        "SUNIONSTORE",
        "SDIFF",
        "SDIFFSTORE",
        "SSCAN",
    ] {
        assert!(covered.contains(name), "the stream never sent {name}");
    }
}

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// Hand-written edge cases, compared exactly (or by the rules of the module doc), on RESP2 and
/// then again from scratch on RESP3.
#[test]
fn edge_cases() {
    let mut c: Vec<Vec<Vec<u8>>> = [
        "FLUSHALL",
        // Arity and argument errors.
        "SADD k",
        "SREM k",
        "SISMEMBER k",
        "SISMEMBER k a b",
        "SMISMEMBER k",
        "SCARD",
        "SMEMBERS",
        "SMEMBERS a b",
        "SPOP",
        "SRANDMEMBER",
        "SMOVE a b",
        "SINTER",
        "SINTERCARD 1",
        "SINTERSTORE d",
        "SUNIONSTORE d",
        "SDIFFSTORE d",
        "SSCAN k",
        "SPOP k -1",
        "SPOP k abc",
        "SPOP k 1 2",
        "SPOP k 0",
        "SPOP k 9223372036854775808",
        "SRANDMEMBER k abc",
        "SRANDMEMBER k -9223372036854775808",
        "SRANDMEMBER k 1 2",
        "SRANDMEMBER k 5",
        "SRANDMEMBER k",
        "SINTERCARD 0 a",
        "SINTERCARD abc a",
        "SINTERCARD -1 a",
        "SINTERCARD 3 a b",
        "SINTERCARD 1 a LIMIT -1",
        "SINTERCARD 1 a LIMIT abc",
        "SINTERCARD 1 a LIMIT",
        "SINTERCARD 1 a FOO",
        "SINTERCARD 1 a LIMIT 1 LIMIT 2",
        "SSCAN missing abc",
        "SSCAN missing 0 COUNT 0",
        "SSCAN missing 0 FOO",
        // Missing keys.
        "SCARD missing",
        "SISMEMBER missing a",
        "SMISMEMBER missing a b",
        "SMEMBERS missing",
        "SPOP missing",
        "SPOP missing 3",
        "SRANDMEMBER missing",
        "SRANDMEMBER missing -3",
        "SINTER missing",
        "SUNION missing",
        "SDIFF missing",
        "SINTERCARD 1 missing",
        "SMOVE missing dst a",
        "EXISTS dst",
        "SREM missing a",
        // Wrong types.
        "SET str x",
        "SADD str a",
        "SREM str a",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SCARD str",
        "SMEMBERS str",
        "SPOP str",
        "SPOP str 2",
        "SPOP str 0",
        "SPOP str abc",
        "SRANDMEMBER str",
        "SRANDMEMBER str 2",
        "SINTER missing str",
        "SUNION missing str",
        "SDIFF missing str",
        "SINTERCARD 2 missing str",
        "SINTERSTORE d missing str",
        "SSCAN str 0",
        "SSCAN str 0 COUNT 0",
        "SMOVE missing str a",
        "SMOVE str missing a",
        // Intsets: ascending order, conversions.
        "SADD i 5 3 -1 9223372036854775807 -9223372036854775808 0",
        "SADD i 3",
        "OBJECT ENCODING i",
        "SMEMBERS i",
        "SSCAN i 0",
        "SSCAN i 0 MATCH *7",
        "SSCAN i 0 COUNT 1 MATCH -*",
        "SSCAN i 0 TYPE set",
        "SSCAN i 0 COUNT abc",
        "SISMEMBER i 5",
        "SISMEMBER i 05",
        "SISMEMBER i abc",
        "SMISMEMBER i 5 6 -1",
        "SCARD i",
        "SREM i 05 +5 5 abc",
        "SADD i 007",
        "OBJECT ENCODING i",
        "SREM i 007",
        "OBJECT ENCODING i",
        "SMEMBERS i",
        "TYPE i",
        "SADD j 9223372036854775808",
        "OBJECT ENCODING j",
        "SADD j2 -0",
        "OBJECT ENCODING j2",
        "SADD j3 1.0",
        "OBJECT ENCODING j3",
        // SMOVE.
        "SADD a 1 2 3",
        "SMOVE a a 1",
        "SMOVE a a 9",
        "SMOVE a b 9",
        "SMOVE a b 1",
        "OBJECT ENCODING b",
        "SMOVE a b x",
        "SADD c x",
        "SMOVE c a x",
        "OBJECT ENCODING a",
        "EXISTS c",
        "SMOVE a b 2",
        "SMOVE a b 2",
        "SMOVE a str 3",
        "SMEMBERS b",
        // Algebra on intsets.
        "FLUSHALL",
        "SADD a 1 2 3 4 5",
        "SADD b 4 5 6 7",
        "SADD c 5 7 9",
        "SINTER a b",
        "SINTER a b c",
        "SINTER a a",
        "SINTER a missing",
        "SINTERCARD 2 a b",
        "SINTERCARD 2 a b LIMIT 1",
        "SINTERCARD 2 a b LIMIT 0",
        "SINTERCARD 1 a LIMIT 100",
        "SUNION a b c",
        "SUNION a missing",
        "SDIFF a b",
        "SDIFF a b c",
        "SDIFF a a",
        "SDIFF b missing a",
        "SDIFF missing a",
        "SINTERSTORE d a b",
        "OBJECT ENCODING d",
        "SMEMBERS d",
        "SUNIONSTORE d a b c",
        "SMEMBERS d",
        "SDIFFSTORE d a b",
        "SMEMBERS d",
        "SDIFFSTORE d a a",
        "EXISTS d",
        "SET d x",
        "EXPIRE d 1000",
        "SUNIONSTORE d a",
        "TTL d",
        "TYPE d",
        "SINTERSTORE d a missing",
        "EXISTS d",
        "SET str x",
        "SUNIONSTORE str a",
        "TYPE str",
        "SDIFFSTORE a a b",
        "SMEMBERS a",
        "SUNIONSTORE a a c",
        "SMEMBERS a",
        // SPOP / SRANDMEMBER shapes on a deterministic set.
        "SADD p 1",
        "SPOP p 0",
        "SRANDMEMBER p 0",
        "SRANDMEMBER p 1",
        "SRANDMEMBER p -2",
        "SRANDMEMBER p 5",
        "SPOP p 5",
        "EXISTS p",
        "SADD p 1",
        "SPOP p",
        "EXISTS p",
        // Thresholds from CONFIG.
        "CONFIG SET set-max-intset-entries 3",
        "SADD t 1 2 3",
        "OBJECT ENCODING t",
        "SADD t 4",
        "OBJECT ENCODING t",
        "SREM t 1 2 3",
        "OBJECT ENCODING t",
        "SINTERSTORE d t t",
        "OBJECT ENCODING d",
        "SADD big 1 2 3 4 5 6 7 8 9 10 x",
        "SADD o1 x",
        "SADD o2 y",
        "SADD o3 z",
        "CONFIG SET set-max-intset-entries 512",
        "SDIFFSTORE d big o1",
        "OBJECT ENCODING d",
        "SDIFFSTORE d big o1 o2 o3",
        "OBJECT ENCODING d",
        "SDIFF big o1",
        // A tie of the two cost estimates picks algorithm 1: an intset result.
        "SADD tie 1 2 3 x",
        "SDIFFSTORE d tie o1 o2",
        "OBJECT ENCODING d",
        // SPOP with a count: one at a time while the members that stay are more than a fifth
        // of those popped (the table stays), else the rest is rebuilt (an intset again).
        "CONFIG SET set-max-intset-entries 4",
        "SADD p10 1 2 3 4 5 6 7 8 9 10",
        "SPOP p10 7",
        "OBJECT ENCODING p10",
        "SADD p20 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
        "SPOP p20 18",
        "OBJECT ENCODING p20",
        "SADD p30 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29",
        "EXPIRE p30 1000",
        "SPOP p30 25",
        "OBJECT ENCODING p30",
        "TTL p30",
        "CONFIG SET set-max-intset-entries 0",
        "SADD z 1",
        "OBJECT ENCODING z",
        "SUNIONSTORE d a",
        "OBJECT ENCODING d",
        "CONFIG SET set-max-intset-entries 512",
        "SADD dup a a b b",
        "SREM dup a a",
        "SREM dup b x",
        "EXISTS dup",
    ]
    .iter()
    .map(|s| words(s))
    .collect();
    c.extend([
        cmd(&[b"SADD", b"bin", b"", b"\x00", b"\xff\r\n"]),
        cmd(&[b"SISMEMBER", b"bin", b""]),
        cmd(&[b"SMISMEMBER", b"bin", b"\x00", b"\x01"]),
        cmd(&[b"SCARD", b"bin"]),
        cmd(&[b"SSCAN", b"bin", b"0", b"COUNT\x00x", b"100"]),
        cmd(&[b"SINTERCARD", b"1", b"bin", b"limit\x00", b"1"]),
        cmd(&[b"SREM", b"bin", b"", b"\x00", b"\xff\r\n"]),
        cmd(&[b"EXISTS", b"bin"]),
    ]);
    // 600 integers: past the intset limit, then drained.
    let many: Vec<Vec<u8>> = (0..600).map(|i: i32| i.to_string().into_bytes()).collect();
    let mut sadd = vec![b("SADD"), b("many")];
    sadd.extend(many.iter().cloned());
    let mut srem = vec![b("SREM"), b("many")];
    srem.extend(many[..599].iter().cloned());
    c.push(sadd.clone());
    c.push(words("OBJECT ENCODING many"));
    c.push(words("SCARD many"));
    c.push(srem);
    c.push(words("OBJECT ENCODING many"));
    c.push(words("SMEMBERS many"));
    c.push(words("SUNIONSTORE d many"));
    c.push(words("OBJECT ENCODING d"));
    c.push(words("SINTERSTORE d many many"));
    c.push(words("OBJECT ENCODING d"));
    c.push(words("SSCAN many 0"));
    c.push(words("DEL many"));
    let mut sadd511 = vec![b("SADD"), b("many")];
    sadd511.extend(many[..512].iter().cloned());
    c.push(sadd511);
    c.push(words("OBJECT ENCODING many"));
    c.push(words("SADD many 512"));
    c.push(words("OBJECT ENCODING many"));
    c.push(words("SPOP many 600"));
    c.push(words("EXISTS many"));

    for resp3 in [false, true] {
        let mut diff = Diff::start(0);
        for args in &c {
            diff.run(resp3, std::slice::from_ref(args));
        }
    }
}
