//! Differential test of the sorted set family: the same commands go to ringkv ("ours") and to
//! a real redis-server ("redis"), and the replies must agree.
//!
//! Usage:
//!   cargo test --test difftest_zsets                      default seed, DEFAULT_N commands
//!   DIFFTEST_SEED=7 DIFFTEST_N=50000 cargo test --test difftest_zsets random_stream
//!
//! Every batch goes over either a RESP2 or a RESP3 connection (scores are doubles in RESP3,
//! WITHSCORES replies nest pairs). The listpack thresholds are lowered and changed during the
//! run so sets cross between encodings both ways; OBJECT ENCODING is compared exactly.
//!
//! Normalised comparisons (everything else is exact, error texts included):
//! - ZRANDMEMBER: same shape and length; every returned member (and score) must be in the set,
//!   checked against `ZRANGE key 0 -1 WITHSCORES` right after; distinct for a positive count.
//! - ZSCAN: iterated to completion from cursor 0 on each side; the (member, score) sets agree.
//! - ZQUERY (ours only): Redis is sent `ZRANGE key 0 -1 WITHSCORES` instead and the expected
//!   page is computed from that whole-set reply.
//!
//! Lex commands target keys whose members all have score 0 (Redis leaves BYLEX on mixed
//! scores unspecified). On mismatch the failure names the seed, index, command, both replies
//! and the commands before it.

mod common;

use common::diff::{name_of, scan_to_end, words, Pair};
use common::{Raw, Reply};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;

const DEFAULT_SEED: u64 = 0x7a_5e75;
const DEFAULT_N: usize = 6_000;
const BATCH_MAX: usize = 50;
const HISTORY_MAX: usize = 12;
const SCAN_CALLS_MAX: usize = 10_000;

/// The servers and what was compared on them (the history's per-name stats are printed with
/// DIFFTEST_STATS=1); the comparisons are this file's `impl`.
type Diff = Pair;

impl Diff {
    fn conns(&mut self, resp3: bool) -> (&mut Raw, &mut Raw) {
        (self.ours.conn(resp3), self.redis.conn(resp3))
    }

    /// Pipelines a batch on one protocol and compares replies in order.
    fn run_batch(&mut self, batch: &[Vec<Vec<u8>>], resp3: bool) {
        if batch.is_empty() {
            return;
        }
        // Redis has no ZQUERY: it answers the whole set instead, and the expected ZQUERY
        // reply is computed from that below.
        let redis_batch: Vec<Vec<Vec<u8>>> = batch
            .iter()
            .map(|args| {
                if name_of(args) == "ZQUERY" {
                    let whole: [&[u8]; 5] = [b"ZRANGE", &args[1], b"0", b"-1", b"WITHSCORES"];
                    whole.iter().map(|a| a.to_vec()).collect()
                } else {
                    args.clone()
                }
            })
            .collect();
        let ours = self.ours.pipeline(resp3, batch);
        let redis = self.redis.pipeline(resp3, &redis_batch);
        for ((args, o), r) in batch.iter().zip(ours).zip(redis) {
            let r = if name_of(args) == "ZQUERY" {
                expected_zquery(args, r, resp3)
            } else {
                r
            };
            if name_of(args) == "ZRANDMEMBER" {
                self.check_randmember(args, &o, &r, resp3);
            } else if o != r {
                self.fail("exact", resp3, args, &o, &r);
            }
            self.history.push(resp3, args, o, r);
        }
    }

    /// ZRANDMEMBER: shape, length, membership (the state is the same on both sides, and this
    /// command always ends its batch, so the set read now is the one it picked from).
    fn check_randmember(&mut self, args: &[Vec<u8>], o: &Reply, r: &Reply, resp3: bool) {
        let shape = |x: &Reply| -> String {
            match x {
                Reply::Array(Some(v)) => format!("array {}", v.len()),
                Reply::Bulk(Some(_)) => "bulk".into(),
                other => format!("{other:?}"),
            }
        };
        if shape(o) != shape(r) {
            self.fail("ZRANDMEMBER shape", resp3, args, o, r);
        }
        if args.len() < 2 {
            return;
        }
        let key = args[1].clone();
        let withscores = args.len() == 4;
        let count: Option<i64> = args
            .get(2)
            .and_then(|c| std::str::from_utf8(c).ok()?.parse().ok());
        // This read goes to ours only: the events before it are compared, its own skipped.
        self.check_events();
        let (oc, _) = self.conns(resp3);
        let content = oc.cmd(&[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"]);
        self.skip_events();
        let Reply::Array(Some(items)) = content else {
            return; // WRONGTYPE etc.: the replies were already compared by shape.
        };
        let mut pairs: Vec<(Reply, Reply)> = Vec::new();
        if resp3 {
            for it in items {
                if let Reply::Array(Some(p)) = it {
                    pairs.push((p[0].clone(), p[1].clone()));
                }
            }
        } else {
            for p in items.chunks(2) {
                pairs.push((p[0].clone(), p[1].clone()));
            }
        }
        for (side, reply) in [("ours", o), ("redis", r)] {
            let got: Vec<(Reply, Option<Reply>)> = match reply {
                Reply::Bulk(Some(_)) => vec![(reply.clone(), None)],
                Reply::Array(Some(v)) if withscores && resp3 => v
                    .iter()
                    .map(|p| match p {
                        Reply::Array(Some(p)) => (p[0].clone(), Some(p[1].clone())),
                        other => (other.clone(), None),
                    })
                    .collect(),
                Reply::Array(Some(v)) if withscores => v
                    .chunks(2)
                    .map(|p| (p[0].clone(), p.get(1).cloned()))
                    .collect(),
                Reply::Array(Some(v)) => v.iter().map(|m| (m.clone(), None)).collect(),
                _ => continue,
            };
            for (m, s) in &got {
                let ok = pairs
                    .iter()
                    .any(|(pm, ps)| pm == m && s.as_ref().is_none_or(|s| s == ps));
                if !ok {
                    self.fail(
                        &format!("ZRANDMEMBER ({side}) returned a non-member"),
                        resp3,
                        args,
                        o,
                        r,
                    );
                }
            }
            if count.is_some_and(|c| c > 0) {
                let distinct: BTreeSet<String> =
                    got.iter().map(|(m, _)| format!("{m:?}")).collect();
                if distinct.len() != got.len() {
                    self.history
                        .fail(&format!("ZRANDMEMBER ({side}) repeated"), resp3, args, o, r);
                }
            }
        }
    }

    /// ZSCAN to completion; each (member, score) page chunk as its debug text.
    fn full_scan(conn: &mut Raw, args: &[Vec<u8>]) -> Result<BTreeSet<String>, Reply> {
        let mut out = BTreeSet::new();
        let take = |items: &[Reply]| {
            out.extend(items.chunks(2).map(|p| format!("{p:?}")));
            true
        };
        scan_to_end(conn, args, 2, SCAN_CALLS_MAX, take).end?;
        Ok(out)
    }

    fn run_scan(&mut self, args: &[Vec<u8>], resp3: bool) {
        let (o, r) = self.conns(resp3);
        let o = Diff::full_scan(o, args);
        let r = Diff::full_scan(r, args);
        let as_reply = |x: Result<BTreeSet<String>, Reply>| match x {
            Ok(s) => Reply::Array(Some(
                s.into_iter().map(|t| Reply::bulk(t.as_bytes())).collect(),
            )),
            Err(e) => e,
        };
        let (o, r) = (as_reply(o), as_reply(r));
        if o != r {
            self.history
                .fail("ZSCAN to completion", resp3, args, &o, &r);
        }
        self.history.push(resp3, args, o, r);
    }

    fn run(&mut self, cmds: &[Vec<Vec<u8>>], resp3: bool) {
        let mut batch = Vec::new();
        for args in cmds {
            match name_of(args).as_str() {
                "ZSCAN" => {
                    self.run_batch(&batch, resp3);
                    batch.clear();
                    self.run_scan(args, resp3);
                }
                "ZRANDMEMBER" => {
                    batch.push(args.clone());
                    self.run_batch(&batch, resp3);
                    batch.clear();
                }
                _ => {
                    batch.push(args.clone());
                    if batch.len() >= BATCH_MAX {
                        self.run_batch(&batch, resp3);
                        batch.clear();
                    }
                }
            }
        }
        self.run_batch(&batch, resp3);
        self.check_events();
    }

    /// Compares every key's type, encoding and full contents.
    fn check_state(&mut self) {
        let mut cmds = Vec::new();
        for k in KEYS.iter().chain(LEX_KEYS).chain(&["str"]) {
            cmds.push(words(&format!("TYPE {k}")));
            cmds.push(words(&format!("OBJECT ENCODING {k}")));
            cmds.push(words(&format!("ZRANGE {k} 0 -1 WITHSCORES")));
            cmds.push(words(&format!("ZCARD {k}")));
        }
        cmds.push(words("DBSIZE"));
        self.run(&cmds, false);
    }
}

/// A score reply's value ("inf", "-inf" or a number), as RESP2 text or a RESP3 double.
fn score_of(r: &Reply) -> f64 {
    let text = match r {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Double(t) => t.clone(),
        other => panic!("not a score: {other:?}"),
    };
    match text.as_str() {
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        t => t.parse().expect("score text"),
    }
}

/// What `ZQUERY key score member offset limit` must answer, computed from Redis's
/// `ZRANGE key 0 -1 WITHSCORES` reply: the pairs at or after (score, member), skipping
/// `offset`, at most `limit`, in the same reply shape.
fn expected_zquery(args: &[Vec<u8>], whole: Reply, resp3: bool) -> Reply {
    let Reply::Array(Some(items)) = whole else {
        return whole; // WRONGTYPE
    };
    let num = |i: usize| -> String { String::from_utf8_lossy(&args[i]).into_owned() };
    let score: f64 = match num(2).as_str() {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        t => t.parse().expect("ZQUERY score in the stream is valid"),
    };
    let member = &args[3];
    let offset: usize = num(4).parse().expect("offset");
    let limit: usize = num(5).parse().expect("limit");
    let pairs: Vec<(Reply, Reply)> = if resp3 {
        items
            .into_iter()
            .map(|p| match p {
                Reply::Array(Some(mut p)) => {
                    let s = p.pop().expect("score");
                    (p.pop().expect("member"), s)
                }
                other => panic!("RESP3 pair expected: {other:?}"),
            })
            .collect()
    } else {
        items
            .chunks(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect()
    };
    let at_or_after = |(m, s): &(Reply, Reply)| {
        let sv = score_of(s);
        let Reply::Bulk(Some(mb)) = m else {
            return false;
        };
        sv > score || (sv == score && mb.as_slice() >= member.as_slice())
    };
    let chosen: Vec<(Reply, Reply)> = pairs
        .into_iter()
        .filter(at_or_after)
        .skip(offset)
        .take(limit)
        .collect();
    let mut out = Vec::new();
    for (m, s) in chosen {
        if resp3 {
            out.push(Reply::Array(Some(vec![m, s])));
        } else {
            out.push(m);
            out.push(s);
        }
    }
    Reply::Array(Some(out))
}

const KEYS: &[&str] = &["z1", "z2", "z3", "z4"];
const LEX_KEYS: &[&str] = &["lex1", "lex2"];

struct Gen {
    rng: StdRng,
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.gen_range(0..items.len())]
    }

    /// Mostly sorted-set keys; sometimes a string key or a missing key. Never a lex key:
    /// those only ever hold score 0.
    fn key(&mut self) -> Vec<u8> {
        let r: u32 = self.rng.gen_range(0..100);
        match r {
            0..=3 => b"str".to_vec(),
            4..=6 => b"nokey".to_vec(),
            _ => self.pick(KEYS).as_bytes().to_vec(),
        }
    }

    fn zkey(&mut self) -> Vec<u8> {
        self.pick(KEYS).as_bytes().to_vec()
    }

    fn member(&mut self) -> Vec<u8> {
        let r: u32 = self.rng.gen_range(0..100);
        match r {
            0..=1 => Vec::new(),
            2..=3 => b"\x00bin\xff".to_vec(),
            4..=7 => format!("long-member-{:02}-xxxxxxxxxx", self.rng.gen_range(0..4)).into_bytes(),
            8..=17 => format!("m{}", self.rng.gen_range(0..400)).into_bytes(),
            _ => format!("m{}", self.rng.gen_range(0..40)).into_bytes(),
        }
    }

    fn lex_member(&mut self) -> Vec<u8> {
        let letters = [
            "a", "b", "c", "d", "e", "f", "g", "aa", "ab", "ba", "", "zz",
        ];
        self.pick(&letters).as_bytes().to_vec()
    }

    fn score(&mut self) -> Vec<u8> {
        let r: u32 = self.rng.gen_range(0..100);
        match r {
            0 => self
                .pick(&["inf", "-inf", "+inf", "-0", "0x10", "1e3", "1.5e-3"])
                .into(),
            1 => self.pick(&["abc", "nan", "1e400", "", " 1", "1 "]).into(),
            2..=20 => format!(
                "{}.{}",
                self.rng.gen_range(-10..10),
                self.rng.gen_range(0..100)
            )
            .into(),
            _ => self.rng.gen_range(-10..20).to_string().into_bytes(),
        }
    }

    fn bound(&mut self) -> Vec<u8> {
        let r: u32 = self.rng.gen_range(0..100);
        match r {
            0..=9 => self.pick(&["-inf", "+inf", "inf", "(-inf", "(+inf"]).into(),
            10..=11 => self
                .pick(&["abc", "(", "", "((1", "nan", "1e400", " 2"])
                .into(),
            12..=40 => format!("({}", self.rng.gen_range(-10..20)).into_bytes(),
            41..=50 => format!("{}.5", self.rng.gen_range(-10..20)).into_bytes(),
            _ => self.rng.gen_range(-10..20).to_string().into_bytes(),
        }
    }

    fn lex_bound(&mut self) -> Vec<u8> {
        let r: u32 = self.rng.gen_range(0..100);
        match r {
            0..=14 => self.pick(&["-", "+"]).into(),
            15..=17 => self.pick(&["a", "", "+a", "-a", "(", "["]).into(),
            _ => {
                let p = if self.chance(0.5) { "(" } else { "[" };
                let m = self.lex_member();
                let mut v = p.as_bytes().to_vec();
                v.extend_from_slice(&m);
                v
            }
        }
    }

    fn index(&mut self) -> Vec<u8> {
        if self.chance(0.03) {
            return self
                .pick(&["a", "1.5", "9223372036854775807", "-9223372036854775808"])
                .into();
        }
        self.rng.gen_range(-25..25).to_string().into_bytes()
    }

    fn count(&mut self) -> Vec<u8> {
        if self.chance(0.05) {
            return self.pick(&["a", "-1", "0", "-5"]).into();
        }
        self.rng.gen_range(1..8).to_string().into_bytes()
    }

    fn keys_numkeys(&mut self, v: &mut Vec<Vec<u8>>) -> usize {
        let n = self.rng.gen_range(1..4);
        if self.chance(0.03) {
            v.push(self.pick(&["0", "-1", "a", "9"]).into());
        } else {
            v.push(n.to_string().into_bytes());
        }
        for _ in 0..n {
            let k = if self.chance(0.85) {
                self.zkey()
            } else {
                self.key()
            };
            v.push(k);
        }
        n
    }

    fn setop(&mut self, name: &str, store: bool, diff: bool, card: bool) -> Vec<Vec<u8>> {
        let mut v = vec![name.as_bytes().to_vec()];
        if store {
            v.push(self.zkey());
        }
        let n = self.keys_numkeys(&mut v);
        if !diff && !card && self.chance(0.4) {
            v.push(b"WEIGHTS".to_vec());
            let m = if self.chance(0.95) { n } else { n + 1 };
            for _ in 0..m {
                let w = self.pick(&["1", "2", "0", "-1", "0.5", "inf", "x", "-inf"]);
                v.push(w.into());
            }
        }
        if !diff && !card && self.chance(0.4) {
            v.push(b"AGGREGATE".to_vec());
            v.push(self.pick(&["SUM", "MIN", "MAX", "min", "avg"]).into());
        }
        if card && self.chance(0.5) {
            v.push(b"LIMIT".to_vec());
            v.push(self.pick(&["0", "1", "2", "-1", "x"]).into());
        }
        if !store && !card && self.chance(0.5) {
            v.push(b"WITHSCORES".to_vec());
        }
        if diff && self.chance(0.03) {
            v.push(b"WEIGHTS".to_vec());
            v.push(b"1".to_vec());
        }
        v
    }

    fn zrange_opts(&mut self, v: &mut Vec<Vec<u8>>, lex: bool, score: bool, store: bool) {
        if !lex && !store && self.chance(0.5) {
            v.push(b"WITHSCORES".to_vec());
        }
        if (lex || score) && self.chance(0.4) {
            v.push(b"LIMIT".to_vec());
            v.push(self.pick(&["0", "1", "2", "-1", "5"]).into());
            v.push(self.pick(&["1", "2", "3", "-1", "0", "10"]).into());
        }
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let roll: u32 = self.rng.gen_range(0..200);
        let mut v: Vec<Vec<u8>> = Vec::new();
        let b = |s: &str| s.as_bytes().to_vec();
        match roll {
            0..=39 => {
                // ZADD with options.
                let key = if self.chance(0.9) {
                    self.zkey()
                } else {
                    self.key()
                };
                v.push(b("ZADD"));
                v.push(key);
                for opt in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                    if self.chance(0.08) {
                        v.push(b(opt));
                    }
                }
                let n = if self.chance(0.5) {
                    1
                } else {
                    self.rng.gen_range(1..12)
                };
                for _ in 0..n {
                    v.push(self.score());
                    v.push(self.member());
                }
                if self.chance(0.02) {
                    v.push(b("1"));
                }
            }
            40..=47 => {
                let key = self.pick(LEX_KEYS).as_bytes().to_vec();
                v.push(b("ZADD"));
                v.push(key);
                for _ in 0..self.rng.gen_range(1..6) {
                    v.push(b("0"));
                    v.push(self.lex_member());
                }
            }
            48..=55 => {
                v = vec![b("ZINCRBY"), self.key(), self.score(), self.member()];
            }
            56..=65 => {
                v = vec![b("ZREM"), self.key()];
                for _ in 0..self.rng.gen_range(1..4) {
                    v.push(self.member());
                }
            }
            66..=69 => v = vec![b("ZCARD"), self.key()],
            70..=74 => v = vec![b("ZSCORE"), self.key(), self.member()],
            75..=77 => {
                v = vec![b("ZMSCORE"), self.key()];
                for _ in 0..self.rng.gen_range(1..4) {
                    v.push(self.member());
                }
            }
            78..=81 => {
                let n = self.pick(&["ZRANK", "ZREVRANK"]);
                v = vec![b(n), self.key(), self.member()];
            }
            82..=85 => v = vec![b("ZCOUNT"), self.key(), self.bound(), self.bound()],
            86..=88 => {
                let k = self.pick(LEX_KEYS).as_bytes().to_vec();
                v = vec![b("ZLEXCOUNT"), k, self.lex_bound(), self.lex_bound()];
            }
            89..=100 => {
                // ZRANGE in its three forms.
                let form: u32 = self.rng.gen_range(0..3);
                match form {
                    0 => {
                        v = vec![b("ZRANGE"), self.key(), self.index(), self.index()];
                        if self.chance(0.3) {
                            v.push(b("REV"));
                        }
                        self.zrange_opts(&mut v, false, false, false);
                        if self.chance(0.03) {
                            v.push(b("LIMIT"));
                            v.push(b("0"));
                            v.push(b("1"));
                        }
                    }
                    1 => {
                        v = vec![
                            b("ZRANGE"),
                            self.key(),
                            self.bound(),
                            self.bound(),
                            b("BYSCORE"),
                        ];
                        if self.chance(0.4) {
                            v.push(b("REV"));
                        }
                        self.zrange_opts(&mut v, false, true, false);
                    }
                    _ => {
                        let k = self.pick(LEX_KEYS).as_bytes().to_vec();
                        v = vec![
                            b("ZRANGE"),
                            k,
                            self.lex_bound(),
                            self.lex_bound(),
                            b("BYLEX"),
                        ];
                        if self.chance(0.4) {
                            v.push(b("REV"));
                        }
                        self.zrange_opts(&mut v, true, false, false);
                        if self.chance(0.03) {
                            v.push(b("WITHSCORES"));
                        }
                    }
                }
                if self.chance(0.02) {
                    v.push(b(self.pick(&["BYSCORE", "REV", "FOO", "LIMIT"])));
                }
            }
            101..=106 => {
                let name = self.pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]);
                v = vec![b(name), self.key(), self.bound(), self.bound()];
                self.zrange_opts(&mut v, false, true, false);
            }
            107..=110 => {
                let name = self.pick(&["ZRANGEBYLEX", "ZREVRANGEBYLEX"]);
                let k = self.pick(LEX_KEYS).as_bytes().to_vec();
                v = vec![b(name), k, self.lex_bound(), self.lex_bound()];
                self.zrange_opts(&mut v, true, false, false);
            }
            111..=113 => {
                v = vec![b("ZREVRANGE"), self.key(), self.index(), self.index()];
                self.zrange_opts(&mut v, false, false, false);
            }
            114..=119 => {
                let src = if self.chance(0.8) {
                    self.zkey()
                } else {
                    self.key()
                };
                let form: u32 = self.rng.gen_range(0..3);
                v = vec![b("ZRANGESTORE"), self.zkey(), src];
                match form {
                    0 => {
                        v.push(self.index());
                        v.push(self.index());
                    }
                    1 => {
                        v.push(self.bound());
                        v.push(self.bound());
                        v.push(b("BYSCORE"));
                    }
                    _ => {
                        v[2] = self.pick(LEX_KEYS).as_bytes().to_vec();
                        v.push(self.lex_bound());
                        v.push(self.lex_bound());
                        v.push(b("BYLEX"));
                    }
                }
                if self.chance(0.3) {
                    v.push(b("REV"));
                }
                self.zrange_opts(&mut v, form == 2, form == 1, true);
                if self.chance(0.03) {
                    v.push(b("WITHSCORES"));
                }
            }
            120..=122 => v = vec![b("ZREMRANGEBYRANK"), self.key(), self.index(), self.index()],
            123..=125 => {
                v = vec![
                    b("ZREMRANGEBYSCORE"),
                    self.key(),
                    self.bound(),
                    self.bound(),
                ]
            }
            126..=127 => {
                let k = self.pick(LEX_KEYS).as_bytes().to_vec();
                v = vec![b("ZREMRANGEBYLEX"), k, self.lex_bound(), self.lex_bound()];
            }
            128..=135 => {
                let n = self.pick(&["ZPOPMIN", "ZPOPMAX"]);
                v = vec![b(n), self.key()];
                if self.chance(0.6) {
                    v.push(self.count());
                }
                if self.chance(0.02) {
                    v.push(b("1"));
                }
            }
            136..=141 => {
                v = vec![b("ZMPOP")];
                self.keys_numkeys(&mut v);
                v.push(b(self.pick(&["MIN", "MAX", "max", "mid"])));
                if self.chance(0.5) {
                    v.push(b("COUNT"));
                    v.push(self.count());
                }
            }
            142..=149 => {
                v = vec![b("ZRANDMEMBER"), self.key()];
                if self.chance(0.7) {
                    v.push(
                        self.pick(&["1", "3", "-3", "0", "100", "-20", "x", "5"])
                            .into(),
                    );
                    if self.chance(0.4) {
                        v.push(b(if self.chance(0.95) {
                            "WITHSCORES"
                        } else {
                            "FOO"
                        }));
                    }
                }
            }
            150..=155 => v = self.setop("ZUNION", false, false, false),
            156..=160 => v = self.setop("ZINTER", false, false, false),
            161..=164 => v = self.setop("ZDIFF", false, true, false),
            165..=170 => v = self.setop("ZUNIONSTORE", true, false, false),
            171..=174 => v = self.setop("ZINTERSTORE", true, false, false),
            175..=177 => v = self.setop("ZDIFFSTORE", true, true, false),
            178..=181 => v = self.setop("ZINTERCARD", false, false, true),
            182..=186 => {
                v = vec![b("ZSCAN"), self.key(), b("0")];
                if self.chance(0.3) {
                    v.push(b("COUNT"));
                    v.push(self.pick(&["1", "5", "100"]).into());
                }
                if self.chance(0.3) {
                    v.push(b("MATCH"));
                    v.push(self.pick(&["m1*", "*", "long*", "m?"]).into());
                }
            }
            187..=190 => v = vec![b("OBJECT"), b("ENCODING"), self.key()],
            191 => {
                v = vec![b("CONFIG"), b("SET"), b("zset-max-listpack-entries")];
                v.push(self.pick(&["4", "8", "16", "128", "0"]).into());
            }
            192 => {
                v = vec![b("CONFIG"), b("SET"), b("zset-max-listpack-value")];
                v.push(self.pick(&["8", "64", "0"]).into());
            }
            193..=194 => v = vec![b("DEL"), self.zkey()],
            195 => v = vec![b("SET"), b("str"), b("x")],
            197..=198 => {
                // Our extension, checked against Redis's whole-set reply (see run_batch).
                let score = self.pick(&["-inf", "inf", "0", "1", "5.5", "-3", "10"]);
                v = vec![b("ZQUERY"), self.key(), b(score), self.member()];
                v.push(self.rng.gen_range(0..5).to_string().into_bytes());
                v.push(self.rng.gen_range(0..8).to_string().into_bytes());
            }
            196 => {
                // COPY clones a zset in either encoding; the copy must behave the same.
                v = vec![b("COPY"), self.zkey(), self.zkey()];
                if self.chance(0.7) {
                    v.push(b("REPLACE"));
                }
            }
            _ => {
                // Arity and unknown-option errors.
                let cmds = [
                    "ZADD z1",
                    "ZADD z1 1",
                    "ZINCRBY z1 1",
                    "ZCARD",
                    "ZSCORE z1",
                    "ZRANGE z1 0",
                    "ZPOPMIN",
                    "ZMPOP 1",
                    "ZUNION",
                    "ZINTERCARD",
                    "ZRANGESTORE d z1 0",
                    "ZSCAN z1",
                    "ZRANDMEMBER",
                ];
                v = words(self.pick(&cmds));
            }
        }
        v
    }
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!(
        "difftest_zsets: seed {seed}, {n} commands (DIFFTEST_SEED / DIFFTEST_N), events {events:?}"
    );
    let mut diff = Pair::start("difftest_zsets", seed, HISTORY_MAX);
    if let Some(classes) = events {
        diff.watch_events(classes);
    }
    let mut gen = Gen {
        rng: StdRng::seed_from_u64(seed),
    };
    diff.run(
        &[
            words("CONFIG SET zset-max-listpack-entries 8"),
            words("CONFIG SET zset-max-listpack-value 16"),
        ],
        false,
    );
    let mut done = 0;
    let mut next_check = 1000;
    while done < n {
        let resp3 = gen.chance(0.35);
        let size = (n - done).min(BATCH_MAX);
        let cmds: Vec<Vec<Vec<u8>>> = (0..size).map(|_| gen.command()).collect();
        diff.run(&cmds, resp3);
        done += size;
        if done >= next_check {
            diff.check_state();
            next_check += 1000;
        }
    }
    diff.check_state();
    eprintln!("difftest_zsets: seed {seed}: {done} random commands agreed");
    if std::env::var_os("DIFFTEST_STATS").is_some() {
        eprintln!("{:<18} {:>8} {:>8}", "command", "count", "errors");
        for (name, c) in &diff.history.stats {
            eprintln!("{name:<18} {:>8} {:>8}", c.sent, c.errors);
        }
    }
}

/// Hand-written edge cases, compared exactly on RESP2 and again on RESP3.
#[test]
fn edge_cases() {
    let lines = [
        "FLUSHALL",
        "SET str x",
        "ZADD z 1 a 2 b 3 c -0 d",
        "ZSCORE z d",
        "ZADD z nx xx 1 a",
        "ZADD z nx gt 1 a",
        "ZADD z gt lt 1 a",
        "ZADD z incr 1 a 2 b",
        "ZADD z 1 a 2",
        "ZADD z nan a",
        "ZADD z incr 1",
        "ZADD z 1e400 a",
        "ZADD z 2.4e-324 a",
        "ZADD z 4.9e-324 tiny",
        "ZADD z 0x1p3 hex",
        "ZADD z Infinity big",
        "ZADD z -INF small",
        "ZADD z 1. dot",
        "ZADD z .5 dot2",
        "ZADD z incr inf inc",
        "ZADD z incr -inf inc",
        "ZINCRBY z -inf big",
        "ZADD z xx 5 nosuch",
        "ZADD z xx ch 5 a 6 nosuch",
        "ZADD z gt ch 0 a 9 b",
        "ZADD z lt ch 0 a 9 b",
        "ZADD z nx incr 1 a",
        "ZADD z xx incr 1 nosuch",
        "ZADD z gt incr -1 a",
        "ZADD nokey xx 1 a",
        "EXISTS nokey",
        "ZADD str 1 a",
        "ZADD str a a",
        "ZINCRBY z a m",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZRANGE z 0 1 limit 0 1",
        "ZRANGE z a b bylex withscores",
        "ZRANGE z a b bylex",
        "ZRANGE z 0 1 byscore bylex",
        "ZRANGE z (a 1 byscore",
        "ZRANGE z 0 1 rev rev",
        "ZRANGE z 0 1 foo",
        "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES",
        "ZRANGEBYSCORE z -inf +inf LIMIT -1 2",
        "ZRANGEBYSCORE z -inf +inf LIMIT 1 -5",
        "ZRANGEBYSCORE z -inf +inf LIMIT 1 0",
        "ZRANGEBYSCORE z -inf +inf LIMIT 100 1",
        "ZRANGEBYSCORE z 0 1 limit 0",
        "ZRANGEBYSCORE z 0 1 limit a b",
        "ZRANGEBYSCORE z 0 1 withscores foo",
        "ZRANGEBYSCORE z (1 (1",
        "ZRANGEBYSCORE z 1 1",
        "ZRANGEBYSCORE z ( (",
        "ZRANGEBYSCORE z 3 1",
        "ZREVRANGEBYSCORE z 1 3",
        "ZREVRANGEBYSCORE z 3 1 WITHSCORES",
        "ZREVRANGE z 0 1 WITHSCORES",
        "ZREVRANGE z -2 -1",
        "ZREVRANGE z 5 1",
        "ZRANGE z -100 100",
        "ZCOUNT z -inf +inf",
        "ZCOUNT z (1 3",
        "ZCOUNT z a b",
        "ZRANK z c",
        "ZREVRANK z c",
        "ZRANK z nosuch",
        "ZRANK nokey a",
        "ZRANK str a",
        "ZMSCORE z a nosuch b",
        "ZMSCORE nokey a",
        "ZMSCORE str a",
        "ZCARD z",
        "ZCARD nokey",
        "ZCARD str",
        "ZADD lex 0 a 0 b 0 c 0 d 0 e 0 aa",
        "ZRANGEBYLEX lex - +",
        "ZRANGEBYLEX lex [b (d",
        "ZRANGEBYLEX lex (a [aa",
        "ZREVRANGEBYLEX lex + - LIMIT 1 2",
        "ZRANGEBYLEX lex a b",
        "ZRANGEBYLEX lex +a -",
        "ZLEXCOUNT lex - +",
        "ZLEXCOUNT lex [c +",
        "ZLEXCOUNT lex (e [a",
        "ZREMRANGEBYLEX lex [a [b",
        "ZRANGE lex 0 -1",
        "ZREMRANGEBYRANK lex 0 0",
        "ZREMRANGEBYRANK lex a 1",
        "ZREMRANGEBYSCORE lex (0 +inf",
        "ZREMRANGEBYSCORE lex -inf +inf",
        "EXISTS lex",
        "ZPOPMIN z",
        "ZPOPMAX z 2",
        "ZPOPMIN z 0",
        "ZPOPMIN z -1",
        "ZPOPMIN z a",
        "ZPOPMIN nokey",
        "ZPOPMIN nokey 3",
        "ZPOPMIN str",
        "ZPOPMIN z 1 2",
        "ZMPOP 0 z min",
        "ZMPOP 1 z foo",
        "ZMPOP 1 z min count 0",
        "ZMPOP 1 z min count 1 count 2",
        "ZMPOP 2 z min",
        "ZMPOP abc z min",
        "ZMPOP 2 nokey z max COUNT 2",
        "ZMPOP 1 nokey min",
        "ZMPOP 2 str z min",
        "ZMPOP 2 nokey str min",
        "ZRANDMEMBER nokey",
        "ZRANDMEMBER nokey 3",
        "ZRANDMEMBER z a",
        "ZRANDMEMBER z 0",
        "ZRANDMEMBER z 1 foo",
        "ZRANDMEMBER z 1 withscores extra",
        "ZRANDMEMBER z -9223372036854775808",
        "ZRANDMEMBER z -4611686018427387904 withscores",
        "ZRANDMEMBER z 9223372036854775807 withscores",
        "ZRANDMEMBER str 1",
        "ZRANDMEMBER str a",
        "ZADD a 1 x 2 y 3 z",
        "ZADD b 10 y 20 z 30 w",
        "ZUNION 2 a b WITHSCORES",
        "ZUNION 2 a b WEIGHTS 2 3 AGGREGATE MAX WITHSCORES",
        "ZUNION 2 a b WEIGHTS 1",
        "ZUNION 2 a b WEIGHTS 1 2 3",
        "ZUNION 2 a b WEIGHTS 1 x",
        "ZUNION 2 a b AGGREGATE foo",
        "ZUNION 2 a b AGGREGATE",
        "ZUNION 0 a",
        "ZUNION -1 a",
        "ZUNION 3 a b",
        "ZUNION abc a",
        "ZUNION 2 a str WEIGHTS x y",
        "ZINTER 2 a b WITHSCORES",
        "ZINTER 2 a b AGGREGATE MIN WITHSCORES",
        "ZINTER 2 a nokey",
        "ZINTER 2 nokey str",
        "ZDIFF 2 a b WITHSCORES",
        "ZDIFF 2 a b WEIGHTS 1 1",
        "ZDIFF 1 nokey",
        "ZUNIONSTORE d 2 a b",
        "ZRANGE d 0 -1 WITHSCORES",
        "OBJECT ENCODING d",
        "ZUNIONSTORE d 2 a b WITHSCORES",
        "ZINTERSTORE d 2 a b WEIGHTS 1 -1",
        "ZRANGE d 0 -1 WITHSCORES",
        "ZDIFFSTORE d 2 a a",
        "EXISTS d",
        "ZUNIONSTORE str2 0 a",
        "ZINTERCARD 2 a b",
        "ZINTERCARD 2 a b LIMIT 1",
        "ZINTERCARD 2 a b LIMIT 0",
        "ZINTERCARD 2 a b LIMIT -1",
        "ZINTERCARD 2 a b LIMIT x",
        "ZINTERCARD 0 a",
        "ZINTERCARD 1 a WITHSCORES",
        "ZADD inf 1 a",
        "ZUNION 2 inf inf WEIGHTS inf -inf WITHSCORES",
        "ZINTER 2 inf inf WEIGHTS inf -inf WITHSCORES",
        "ZUNION 1 inf WEIGHTS 0 WITHSCORES",
        "ZRANGESTORE d a 0 -1",
        "OBJECT ENCODING d",
        "ZRANGESTORE d a 5 10",
        "EXISTS d",
        "ZRANGESTORE d nokey 0 -1",
        "ZRANGESTORE d a 0 -1 WITHSCORES",
        "ZRANGESTORE d a (1 +inf BYSCORE LIMIT 0 1",
        "ZRANGE d 0 -1 WITHSCORES",
        "ZRANGESTORE d str 0 -1",
        "ZSCAN z a",
        "ZSCAN nokey a",
        "ZSCAN nokey 0 foo",
        "ZSCAN z 0 count 0",
        "ZSCAN z 0 foo",
        "ZSCAN z 0 MATCH *",
        "ZSCAN str 0",
        "CONFIG SET zset-max-listpack-entries 2",
        "ZADD big 1 a 2 b 3 c",
        "OBJECT ENCODING big",
        "ZREM big a b",
        "OBJECT ENCODING big",
        "ZADD neg -0 a",
        "ZSCORE neg a",
        "ZADD neg 1 b 2 c",
        "ZSCORE neg a",
        "ZUNIONSTORE negu 1 neg",
        "OBJECT ENCODING negu",
        "CONFIG SET zset-max-listpack-entries 0",
        "ZADD zero 1 a",
        "OBJECT ENCODING zero",
        "ZRANGESTORE zero2 zero 0 -1",
        "OBJECT ENCODING zero2",
        "CONFIG SET zset-max-listpack-entries 128",
        "CONFIG SET zset-max-listpack-value 3",
        "ZADD lv 1 abc 2 abcd",
        "OBJECT ENCODING lv",
        "ZADD lv2 1 abc",
        "ZADD lv2 2 abcd",
        "OBJECT ENCODING lv2",
        "ZUNIONSTORE lv3 1 lv",
        "OBJECT ENCODING lv3",
        "ZREM lv abcd",
        "ZUNIONSTORE lv3 1 lv",
        "OBJECT ENCODING lv3",
        "CONFIG SET zset-max-listpack-value 64",
        "ZREM nokey a",
        "ZREM str a",
        "ZREM z a a b",
        "ZADD dup 1 a 2 a 3 a",
        "ZRANGE dup 0 -1 WITHSCORES",
        "ZADD ch ch 1 a 1 a 2 a",
    ];
    let cmds: Vec<Vec<Vec<u8>>> = lines.iter().map(|l| words(l)).collect();
    let mut diff = Pair::start("difftest_zsets", 1, HISTORY_MAX);
    let mut all = cmds.clone();
    // Binary and empty members, and arguments with NUL.
    all.push(vec![
        b"ZADD".to_vec(),
        b"bin".to_vec(),
        b"1".to_vec(),
        b"".to_vec(),
    ]);
    all.push(vec![
        b"ZADD".to_vec(),
        b"bin".to_vec(),
        b"NX\x00junk".to_vec(),
        b"2".to_vec(),
        b"\x00\xff".to_vec(),
    ]);
    all.push(vec![
        b"ZRANGEBYLEX".to_vec(),
        b"bin".to_vec(),
        b"+\x00x".to_vec(),
        b"-".to_vec(),
    ]);
    all.push(vec![
        b"ZCOUNT".to_vec(),
        b"bin".to_vec(),
        b"1\x00x".to_vec(),
        b"+inf".to_vec(),
    ]);
    all.push(words("ZRANGE bin 0 -1 WITHSCORES"));
    diff.run(&all, false);
    diff.run(&all, true);
}
