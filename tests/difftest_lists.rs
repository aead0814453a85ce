//! Differential test of the list commands: the same commands go to ringkv ("ours") and to a
//! real redis-server ("redis"), on a RESP2 and a RESP3 connection each, and every reply must
//! be identical (every list command is deterministic, so nothing is sorted or loosened).
//!
//! Usage:
//!   cargo test --test difftest_lists                       default seed, DEFAULT_N commands
//!   DIFFTEST_SEED=7 DIFFTEST_N=100000 cargo test --test difftest_lists random_stream
//!
//! The random stream works on a few list keys that grow past several nodes (long values and
//! CONFIG SET list-max-listpack-size changes vary the node bounds) and shrink to empty, a
//! string key for WRONGTYPE, and invalid arguments for the error texts. Every STATE_CHECK_EVERY
//! commands TYPE, LRANGE 0 -1 and OBJECT ENCODING of every key are compared; at the end the
//! keyspace hit/miss counters are compared too. A mismatch prints the seed, the index, the
//! command, both replies and the commands before it.

mod common;

use common::diff::{words, Pair};
use common::{Raw, Reply};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Seed used when `DIFFTEST_SEED` is not set.
const DEFAULT_SEED: u64 = 0x006c_6973_7473;
/// Commands per run when `DIFFTEST_N` is not set.
const DEFAULT_N: usize = 6_000;
/// Commands per pipelined write.
const BATCH_MAX: usize = 50;
/// Commands shown before a mismatch.
const HISTORY_MAX: usize = 16;
/// State comparison period, in commands.
const STATE_CHECK_EVERY: usize = 500;

struct Diff {
    pair: Pair,
    /// Error replies and nil replies seen, and the longest list a state check saw, to show
    /// what a run covered.
    errors: usize,
    nils: usize,
    longest: usize,
}

impl Diff {
    fn start(seed: u64) -> Diff {
        Diff {
            pair: Pair::start("difftest_lists", seed, HISTORY_MAX),
            errors: 0,
            nils: 0,
            longest: 0,
        }
    }

    /// Sends a pipelined batch on one protocol to each server and compares replies in order.
    fn run_batch(&mut self, resp3: bool, batch: &[Vec<Vec<u8>>]) {
        if batch.is_empty() {
            return;
        }
        let replies = self.pair.run_exact(resp3, batch, "reply");
        self.pair.check_events();
        for r in replies {
            self.errors += usize::from(r.is_error());
            self.nils += usize::from(matches!(
                r,
                Reply::Null | Reply::Bulk(None) | Reply::Array(None)
            ));
            if let Reply::Array(Some(items)) = &r {
                self.longest = self.longest.max(items.len());
            }
        }
    }

    /// Compares TYPE, full contents and encoding of every key of the stream.
    fn check_state(&mut self) {
        let mut cmds = Vec::new();
        for k in KEYS {
            cmds.push(vec![b"TYPE".to_vec(), k.to_vec()]);
            cmds.push(vec![
                b"LRANGE".to_vec(),
                k.to_vec(),
                b"0".to_vec(),
                b"-1".to_vec(),
            ]);
            cmds.push(vec![b"OBJECT".to_vec(), b"ENCODING".to_vec(), k.to_vec()]);
        }
        self.run_batch(false, &cmds);
    }

    /// keyspace_hits / keyspace_misses lines of INFO stats, and the dirty counter (INFO
    /// persistence's rdb_changes_since_last_save).
    fn hit_counters(conn: &mut Raw) -> String {
        let Reply::Bulk(Some(info)) = conn.cmd_str(&["INFO", "all"]) else {
            panic!("INFO all did not answer a bulk string");
        };
        String::from_utf8_lossy(&info)
            .lines()
            .filter(|l| l.starts_with("keyspace_") || l.starts_with("rdb_changes_since"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn check_hits(&mut self) {
        let o = Diff::hit_counters(self.pair.ours.conn(false));
        let r = Diff::hit_counters(self.pair.redis.conn(false));
        assert!(
            r.contains("keyspace_hits:") && r.contains("rdb_changes_since_last_save:"),
            "INFO lacks the counters: {r}"
        );
        eprintln!("difftest_lists: counters agree: {r}");
        if o != r {
            let args = vec![b"INFO".to_vec(), b"stats".to_vec()];
            self.pair.fail(
                "keyspace hit counters and dirty",
                false,
                &args,
                &Reply::Status(o),
                &Reply::Status(r),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The random command generator.

/// List keys (two get most of the traffic so they grow), a string key, a key never written.
const KEYS: &[&[u8]] = &[b"l0", b"l1", b"l2", b"l\x00bin", b"str", b"never"];

struct Gen {
    rng: StdRng,
}

impl Gen {
    fn key(&mut self) -> Vec<u8> {
        let i = match self.rng.gen_range(0..100) {
            0..=39 => 0,
            40..=69 => 1,
            70..=84 => 2,
            85..=91 => 3,
            92..=96 => 4,
            _ => 5,
        };
        KEYS[i].to_vec()
    }

    /// Elements: a small alphabet (so LREM/LPOS/LINSERT match), integers, empty, binary, and
    /// now and then a long value that fills a node on its own.
    fn elem(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..100) {
            0..=59 => vec![b"abcde"[self.rng.gen_range(0..5)]],
            60..=74 => self.rng.gen_range(-20..1000).to_string().into_bytes(),
            75..=79 => Vec::new(),
            80..=84 => b"\x00\r\n\xff".to_vec(),
            85..=96 => {
                let n = self.rng.gen_range(10..300);
                vec![b'm'; n]
            }
            _ => {
                let n = self.rng.gen_range(3_000..20_000);
                vec![b'L'; n]
            }
        }
    }

    /// An integer argument, sometimes invalid or extreme.
    fn int(&mut self, lo: i64, hi: i64) -> Vec<u8> {
        match self.rng.gen_range(0..100) {
            0..=87 => self.rng.gen_range(lo..=hi).to_string().into_bytes(),
            88..=90 => b"x".to_vec(),
            91 => b"1.5".to_vec(),
            92 => b"".to_vec(),
            93 => b"9223372036854775808".to_vec(),
            94 => i64::MIN.to_string().into_bytes(),
            95 => i64::MAX.to_string().into_bytes(),
            96 => b" 1".to_vec(),
            97 => b"+1".to_vec(),
            98 => b"-0".to_vec(),
            _ => b"007".to_vec(),
        }
    }

    fn end(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..20) {
            0..=8 => b"LEFT".to_vec(),
            9..=17 => b"right".to_vec(),
            18 => b"UP".to_vec(),
            _ => b"left\x00x".to_vec(),
        }
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let w = |s: &str| s.as_bytes().to_vec();
        let roll = self.rng.gen_range(0..200);
        let mut v: Vec<Vec<u8>> = Vec::new();
        match roll {
            0..=39 => {
                v.push(w(
                    ["LPUSH", "RPUSH", "lpush", "RPUSH"][self.rng.gen_range(0..4)]
                ));
                v.push(self.key());
                let n = if self.rng.gen_bool(0.2) {
                    self.rng.gen_range(10..60)
                } else {
                    self.rng.gen_range(1..4)
                };
                for _ in 0..n {
                    v.push(self.elem());
                }
            }
            40..=47 => {
                v.push(w(["LPUSHX", "RPUSHX"][self.rng.gen_range(0..2)]));
                v.push(self.key());
                for _ in 0..self.rng.gen_range(1..4) {
                    v.push(self.elem());
                }
            }
            48..=69 => {
                v.push(w(["LPOP", "RPOP"][self.rng.gen_range(0..2)]));
                v.push(self.key());
                match self.rng.gen_range(0..10) {
                    0..=4 => {}
                    5..=8 => v.push(self.int(-1, 12)),
                    _ => {
                        v.push(w("1"));
                        v.push(w("2"));
                    }
                }
            }
            70..=77 => {
                v.push(w("LLEN"));
                v.push(self.key());
            }
            78..=91 => {
                v.push(w("LRANGE"));
                v.push(self.key());
                v.push(self.int(-30, 30));
                v.push(self.int(-30, 30));
            }
            92..=101 => {
                v.push(w("LINDEX"));
                v.push(self.key());
                v.push(self.int(-40, 40));
            }
            102..=109 => {
                v.push(w("LSET"));
                v.push(self.key());
                v.push(self.int(-40, 40));
                v.push(self.elem());
            }
            110..=117 => {
                v.push(w("LINSERT"));
                v.push(self.key());
                v.push(w(
                    ["BEFORE", "after", "Before", "MIDDLE"][self.rng.gen_range(0..4)]
                ));
                v.push(self.elem());
                v.push(self.elem());
            }
            118..=125 => {
                v.push(w("LREM"));
                v.push(self.key());
                v.push(self.int(-3, 3));
                v.push(self.elem());
            }
            126..=131 => {
                v.push(w("LTRIM"));
                v.push(self.key());
                v.push(self.int(-10, 10));
                v.push(self.int(-60, 60));
            }
            132..=145 => {
                v.push(w("LPOS"));
                v.push(self.key());
                v.push(self.elem());
                for _ in 0..self.rng.gen_range(0..4) {
                    match self.rng.gen_range(0..8) {
                        0..=2 => {
                            v.push(w("RANK"));
                            v.push(self.int(-4, 4));
                        }
                        3..=4 => {
                            v.push(w("count"));
                            v.push(self.int(-1, 4));
                        }
                        5..=6 => {
                            v.push(w("MAXLEN"));
                            v.push(self.int(-1, 30));
                        }
                        _ => v.push(w(["RANK", "FOO"][self.rng.gen_range(0..2)])),
                    }
                }
            }
            146..=159 => {
                v.push(w("LMOVE"));
                v.push(self.key());
                v.push(self.key());
                v.push(self.end());
                v.push(self.end());
            }
            160..=165 => {
                v.push(w("RPOPLPUSH"));
                v.push(self.key());
                v.push(self.key());
            }
            166..=179 => {
                v.push(w("LMPOP"));
                let n = self.rng.gen_range(1..4);
                match self.rng.gen_range(0..12) {
                    0 => v.push(self.int(-1, 5)),
                    1 => v.push(w("9223372036854775807")),
                    _ => v.push(n.to_string().into_bytes()),
                }
                for _ in 0..n {
                    v.push(self.key());
                }
                v.push(self.end());
                match self.rng.gen_range(0..6) {
                    0..=2 => {}
                    3..=4 => {
                        v.push(w("COUNT"));
                        v.push(self.int(-1, 12));
                    }
                    _ => {
                        v.push(w("COUNT"));
                        v.push(w("1"));
                        v.push(w("COUNT"));
                    }
                }
            }
            180..=183 => {
                v.push(w("OBJECT"));
                v.push(w("ENCODING"));
                v.push(self.key());
            }
            184..=186 => {
                v.push(w("TYPE"));
                v.push(self.key());
            }
            187..=188 => {
                // Shrinks a list to empty now and then, so creation paths run again.
                v.push(w("DEL"));
                v.push(self.key());
            }
            189..=190 => {
                v.push(w("SET"));
                v.push(w("str"));
                v.push(self.elem());
            }
            191..=192 => {
                v.push(w("CONFIG"));
                v.push(w("SET"));
                v.push(w("list-max-listpack-size"));
                let fills = ["-1", "-2", "-5", "0", "1", "3", "128", "-9"];
                v.push(w(fills[self.rng.gen_range(0..fills.len())]));
            }
            193..=194 => {
                v.push(w("COPY"));
                v.push(self.key());
                v.push(self.key());
                v.push(w("REPLACE"));
            }
            _ => {
                // Arity errors.
                let names = [
                    "LPUSH", "LLEN", "LRANGE", "LINSERT", "LMOVE", "LMPOP", "LPOS",
                ];
                v.push(w(names[self.rng.gen_range(0..names.len())]));
                v.push(self.key());
            }
        }
        v
    }
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    stream_compressed(seed, n, events, 0);
}

/// The random stream with `list-compress-depth` 1 and 2 on both servers: lists made by the
/// stream keep their interior nodes LZF-compressed, and every reply must still agree.
#[test]
fn random_stream_compress_depth() {
    let seed = common::diff::env_or("DIFFTEST_SEED", DEFAULT_SEED);
    let n = common::diff::env_or("DIFFTEST_N", DEFAULT_N);
    for depth in [1, 2] {
        stream_compressed(seed + u64::from(depth), n / 2, None, depth);
    }
}

fn stream_compressed(seed: u64, n: usize, events: Option<&str>, compress_depth: u32) {
    eprintln!(
        "difftest_lists: seed {seed}, {n} commands (DIFFTEST_SEED / DIFFTEST_N), events \
         {events:?}, list-compress-depth {compress_depth}"
    );
    let mut d = Diff::start(seed);
    if let Some(classes) = events {
        d.pair.watch_events(classes);
    }
    let depth = compress_depth.to_string();
    for side in [&mut d.pair.ours, &mut d.pair.redis] {
        for resp3 in [false, true] {
            assert_eq!(
                side.conn(resp3).cmd_str(&["CONFIG", "RESETSTAT"]),
                Reply::ok()
            );
        }
        assert_eq!(
            side.conn(false)
                .cmd_str(&["CONFIG", "SET", "list-compress-depth", &depth]),
            Reply::ok()
        );
    }
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
    };
    let mut sent = 0;
    while sent < n {
        let resp3 = g.rng.gen_bool(0.4);
        let size = g.rng.gen_range(1..=BATCH_MAX).min(n - sent);
        let batch: Vec<Vec<Vec<u8>>> = (0..size).map(|_| g.command()).collect();
        d.run_batch(resp3, &batch);
        let before = sent;
        sent += size;
        if sent / STATE_CHECK_EVERY != before / STATE_CHECK_EVERY {
            d.check_state();
        }
    }
    d.check_state();
    d.check_hits();
    eprintln!(
        "difftest_lists: {} commands agreed ({} errors, {} nils, longest array {})",
        d.pair.history.next_index(),
        d.errors,
        d.nils,
        d.longest
    );
}

/// Hand-written edge cases, each run on both protocols against fresh keys.
#[test]
fn edge_cases() {
    let mut d = Diff::start(0);
    let script: &[&str] = &[
        "RPUSH e a b c a b c a",
        "SET s x",
        "LPOP e 0",
        "LPOP nokey 0",
        "LPOP nokey",
        "RPOP e -1",
        "LPOP e x",
        "LPOP s x",
        "LPOP s 0",
        "LPOP e 1 2",
        "LPOS e a RANK 0",
        "LPOS e a RANK -9223372036854775808",
        "LPOS e a RANK -9223372036854775808 COUNT 1",
        "LPOS e a RANK -9223372036854775807 COUNT 0",
        "LPOS e a RANK 9223372036854775807",
        "LPOS e a RANK x",
        "LPOS e a COUNT x",
        "LPOS e a MAXLEN -1",
        "LPOS e a RANK 2 COUNT 2 MAXLEN 4",
        "LPOS e a COUNT 2 COUNT 1",
        "LPOS e zz",
        "LPOS e zz COUNT 0",
        "LPOS nokey a",
        "LPOS nokey a COUNT 0",
        "LPOS s a",
        "LPOS s a COUNT x",
        "LMPOP 0 e LEFT",
        "LMPOP x e LEFT",
        "LMPOP 1 e",
        "LMPOP 1 e UP",
        "LMPOP 1 e LEFT COUNT 0",
        "LMPOP 1 e LEFT COUNT 1 COUNT 1",
        "LMPOP 9223372036854775807 e LEFT",
        "LMPOP 9223372036854775806 e LEFT",
        "LMPOP 2 nokey e RIGHT COUNT 2",
        "LMPOP 1 nokey LEFT",
        "LMPOP 2 s e LEFT",
        "LMPOP 2 e s LEFT",
        "LINSERT e MIDDLE a x",
        "LINSERT nokey BEFORE a x",
        "LINSERT s BEFORE a x",
        "LINSERT e BEFORE zz x",
        "LINSERT e after\x00junk b y",
        "LSET nokey 0 x",
        "LSET nokey x x",
        "LSET e 100 x",
        "LSET e -100 x",
        "LSET e x x",
        "LSET s x x",
        "LINDEX nokey x",
        "LINDEX s x",
        "LINDEX e x",
        "LINDEX e -1",
        "LRANGE nokey x 1",
        "LRANGE s 0 1",
        "LRANGE e -9223372036854775808 9223372036854775807",
        "LTRIM nokey x 1",
        "LTRIM nokey 0 1",
        "LREM nokey x a",
        "LREM e -9223372036854775808 a",
        "LMOVE e e UP LEFT",
        "LMOVE nokey e LEFT UP",
        "LMOVE e s LEFT LEFT",
        "LMOVE s e LEFT LEFT",
        "LMOVE e e LEFT RIGHT",
        "RPOPLPUSH nokey e",
        "RPOPLPUSH e s",
        "RPOPLPUSH e e",
        "LPUSHX nokey a",
        "LPUSHX s a",
        "RPOP s",
        "LLEN s",
        "LRANGE e 0 -1",
        "LTRIM e 1 0",
        "EXISTS e",
        "RPUSH one x",
        "EXPIRE one 100",
        "LMOVE one one RIGHT LEFT",
        "TTL one",
        "RPOPLPUSH one other",
        "EXISTS one",
        "OBJECT ENCODING other",
        "LPUSH",
        "LMPOP 1",
        "LPOS k",
    ];
    for resp3 in [false, true] {
        let cmds: Vec<Vec<Vec<u8>>> = script.iter().map(|s| words(s)).collect();
        d.run_batch(resp3, &cmds);
        d.run_batch(resp3, &[words("FLUSHALL")]);
    }
}
