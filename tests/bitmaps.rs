//! Bitmaps (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO, and SUBSTR) against a
//! real redis-server 7.0.15: every reply must be the same, byte for byte.
//!
//! Usage:
//!   cargo test --test bitmaps                          every test, default seed
//!   DIFFTEST_SEED=7 DIFFTEST_N=20000 cargo test --test bitmaps random_stream
//!
//! - `random_stream` sends a seeded random stream (RESP2 and RESP3 runs) over a few keys that
//!   start as raw, embstr, int-encoded or missing strings, a list for WRONGTYPE, with offsets
//!   up to and past `proto-max-bulk-len` (lowered to 1mb on both servers so the limit is cheap
//!   to reach), `#` offsets, every BITFIELD type and overflow mode, and invalid arguments;
//!   every few hundred commands each key's bytes, encoding and expiry are compared.
//!   `random_stream_events` runs a quarter as many with every keyspace event class on and
//!   compares the events of each batch too (`setbit`, `set`/`del` of BITOP, `new`, `keymiss`).
//! - `edge_cases`: hand-written commands, compared the same way.
//! - `propagation_matches_redis`: the AOF both servers write for the same commands (an
//!   unchanged SETBIT and a BITFIELD of GETs are not written).
//! - `bitmaps_move_between_servers_by_rdb_and_aof`: bitmaps ringkv wrote load in redis-server
//!   (dump.rdb, and an AOF directory) and back, with the same bytes.

mod common;

use common::files::{incr_commands, lossy, TempDir};

use common::diff::{words, Pair};
use common::{Raw, Reply, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const DEFAULT_SEED: u64 = 0xb175_b175;
const DEFAULT_N: usize = 6_000;
const BATCH_MAX: usize = 50;
const HISTORY_MAX: usize = 12;
const STATE_CHECK_EVERY: usize = 400;
/// The keys the stream writes; `lst` is a list (WRONGTYPE), `gone` is never written.
const KEYS: &[&str] = &["b1", "b2", "b3", "b4", "int", "lst", "gone"];
/// `proto-max-bulk-len` on both servers: bit offsets stop at 8 * this.
const BULK_MAX: u64 = 1024 * 1024;

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

struct Gen {
    rng: StdRng,
}

impl Gen {
    fn key(&mut self) -> Vec<u8> {
        // Mostly bitmap keys; sometimes the int, list or never-written key.
        let i = if self.rng.gen_ratio(4, 5) {
            self.rng.gen_range(0..4)
        } else {
            self.rng.gen_range(0..KEYS.len())
        };
        b(KEYS[i])
    }

    /// A bit offset: mostly small, sometimes far, rarely at or past the limit or invalid.
    fn offset(&mut self) -> Vec<u8> {
        let limit = BULK_MAX * 8;
        match self.rng.gen_range(0..100) {
            0..=64 => self.rng.gen_range(0..96u64).to_string(),
            65..=89 => self.rng.gen_range(0..4096u64).to_string(),
            90..=93 => self.rng.gen_range(0..200_000u64).to_string(),
            94 => (limit - self.rng.gen_range(1..64u64)).to_string(),
            95 => (limit + self.rng.gen_range(0..64u64)).to_string(),
            96 => "-1".into(),
            97 => ["abc", "", "1.5", "#3", " 1", "01"][self.rng.gen_range(0..6)].into(),
            98 => "9223372036854775807".into(),
            _ => "18446744073709551616".into(),
        }
        .into_bytes()
    }

    /// A range index for BITCOUNT/BITPOS.
    fn index(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..20) {
            0 => b(["x", "9223372036854775807", "-9223372036854775808"][self.rng.gen_range(0..3)]),
            1..=4 => self.rng.gen_range(-200..200i64).to_string().into_bytes(),
            _ => self.rng.gen_range(-20..20i64).to_string().into_bytes(),
        }
    }

    fn unit(&mut self) -> Vec<u8> {
        b(["BIT", "BYTE", "bit", "byte", "bits"][self.rng.gen_range(0..5)])
    }

    fn bitfield_type(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..30) {
            0 => b(["u64", "i65", "i0", "x8", "I8", "u", "i08", "u-1"][self.rng.gen_range(0..8)]),
            1..=10 => format!("u{}", self.rng.gen_range(1..=63)).into_bytes(),
            11..=20 => format!("i{}", self.rng.gen_range(1..=64)).into_bytes(),
            _ => b(["u8", "i8", "u1", "i64", "u63", "i16", "u4"][self.rng.gen_range(0..7)]),
        }
    }

    fn bitfield_offset(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..10) {
            0 => format!("#{}", self.rng.gen_range(0..40)).into_bytes(),
            1 => self.offset(),
            _ => self.rng.gen_range(0..200u64).to_string().into_bytes(),
        }
    }

    fn bitfield_value(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..12) {
            0 => b(["9223372036854775807", "-9223372036854775808", "x"][self.rng.gen_range(0..3)]),
            1 => self.rng.gen::<i64>().to_string().into_bytes(),
            2..=4 => self.rng.gen_range(-300..300i64).to_string().into_bytes(),
            _ => self.rng.gen_range(-5..300i64).to_string().into_bytes(),
        }
    }

    fn bitfield(&mut self, read_only: bool) -> Vec<Vec<u8>> {
        let mut c = vec![
            b(if read_only { "BITFIELD_RO" } else { "BITFIELD" }),
            self.key(),
        ];
        for _ in 0..self.rng.gen_range(0..5) {
            match self.rng.gen_range(0..24) {
                0..=7 => {
                    c.push(b(["GET", "get"][self.rng.gen_range(0..2)]));
                    c.push(self.bitfield_type());
                    c.push(self.bitfield_offset());
                }
                8..=19 if !read_only || self.rng.gen_ratio(1, 8) => {
                    c.push(b(["SET", "INCRBY", "incrby"][self.rng.gen_range(0..3)]));
                    c.push(self.bitfield_type());
                    c.push(self.bitfield_offset());
                    c.push(self.bitfield_value());
                }
                8..=21 => {
                    c.push(b("OVERFLOW"));
                    let kinds = ["WRAP", "SAT", "FAIL", "fail", "sat", "bogus"];
                    let k = if self.rng.gen_ratio(1, 20) {
                        5
                    } else {
                        self.rng.gen_range(0..5)
                    };
                    c.push(b(kinds[k]));
                }
                // Truncated or unknown subcommands.
                _ => {
                    let tail = ["GET u8", "SET i8 0", "FOO", "OVERFLOW"];
                    c.extend(words(tail[self.rng.gen_range(0..tail.len())]));
                    return c;
                }
            }
        }
        c
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let key = self.key();
        match self.rng.gen_range(0..100) {
            0..=21 => {
                let v = match self.rng.gen_range(0..30) {
                    0 => b(["2", "-1", "x", ""][self.rng.gen_range(0..4)]),
                    n => (n % 2).to_string().into_bytes(),
                };
                vec![b("SETBIT"), key, self.offset(), v]
            }
            22..=30 => vec![b("GETBIT"), key, self.offset()],
            31..=40 => {
                let mut c = vec![b("BITCOUNT"), key];
                match self.rng.gen_range(0..10) {
                    0..=2 => {}
                    3 => c.push(self.index()),
                    4..=6 => c.extend([self.index(), self.index()]),
                    7..=8 => c.extend([self.index(), self.index(), self.unit()]),
                    _ => c.extend([self.index(), self.index(), self.unit(), self.index()]),
                }
                c
            }
            41..=50 => {
                let bit = match self.rng.gen_range(0..20) {
                    0 => b(["2", "-1", "x"][self.rng.gen_range(0..3)]),
                    n => (n % 2).to_string().into_bytes(),
                };
                let mut c = vec![b("BITPOS"), key, bit];
                match self.rng.gen_range(0..10) {
                    0..=2 => {}
                    3..=4 => c.push(self.index()),
                    5..=6 => c.extend([self.index(), self.index()]),
                    7..=8 => c.extend([self.index(), self.index(), self.unit()]),
                    _ => c.extend([self.index(), self.index(), self.unit(), self.index()]),
                }
                c
            }
            51..=60 => {
                let ops = ["AND", "OR", "XOR", "NOT", "and", "xor", "NAND"];
                let op = if self.rng.gen_ratio(1, 30) {
                    6
                } else {
                    self.rng.gen_range(0..6)
                };
                let mut c = vec![b("BITOP"), b(ops[op]), key];
                let n = if op == 3 && self.rng.gen_ratio(9, 10) {
                    1
                } else {
                    self.rng.gen_range(1..5)
                };
                for _ in 0..n {
                    c.push(self.key());
                }
                c
            }
            61..=72 => self.bitfield(false),
            73..=76 => self.bitfield(true),
            77..=79 => vec![b("GET"), key],
            80 => vec![b("STRLEN"), key],
            81..=82 => vec![b("OBJECT"), b("ENCODING"), key],
            83 => {
                let v = match self.rng.gen_range(0..4) {
                    0 => self.rng.gen_range(-1000..100_000i64).to_string(),
                    1 => "x".repeat(self.rng.gen_range(0..60)),
                    2 => String::new(),
                    _ => "foobar".into(),
                };
                vec![b("SET"), key, v.into_bytes()]
            }
            84 => vec![b("INCR"), b("int")],
            85 => vec![b("APPEND"), key, b("\x00\x7f")],
            86 => vec![b("DEL"), key],
            87 => vec![b("PEXPIREAT"), key, b("4000000000000")],
            88 => vec![b("PEXPIRETIME"), key],
            89 => {
                let name = ["SUBSTR", "GETRANGE", "substr"][self.rng.gen_range(0..3)];
                vec![b(name), key, self.index(), self.index()]
            }
            90 => vec![b("RPUSH"), b("lst"), b("x")],
            91 => vec![b("EXISTS"), key],
            // Wrong arity.
            92 => words(
                [
                    "SETBIT k 1",
                    "GETBIT k",
                    "BITCOUNT",
                    "BITPOS k",
                    "BITOP AND d",
                    "BITFIELD",
                    "BITFIELD_RO",
                    "SUBSTR k 0",
                    "SETBIT k 1 1 1",
                    "GETBIT k 1 2",
                ][self.rng.gen_range(0..10)],
            ),
            _ => vec![
                b("GETBIT"),
                key,
                self.rng.gen_range(0..64u32).to_string().into_bytes(),
            ],
        }
    }
}

/// Every key's bytes, encoding and expiry, compared on both servers (they go through the
/// history like the stream's own commands).
fn check_state(pair: &mut Pair, resp3: bool) {
    let cmds: Vec<Vec<Vec<u8>>> = KEYS
        .iter()
        .flat_map(|k| {
            [
                vec![b("TYPE"), b(k)],
                vec![b("GET"), b(k)],
                vec![b("OBJECT"), b("ENCODING"), b(k)],
                vec![b("PEXPIRETIME"), b(k)],
            ]
        })
        .collect();
    pair.run_exact(resp3, &cmds, "state");
}

fn run(pair: &mut Pair, resp3: bool, cmds: &[Vec<Vec<u8>>]) {
    for chunk in cmds.chunks(BATCH_MAX) {
        pair.run_exact(resp3, chunk, "exact");
    }
    pair.check_events();
}

/// The same start on both servers: the offset limit lowered, one key of each encoding.
fn setup() -> Vec<Vec<Vec<u8>>> {
    vec![
        words("FLUSHALL"),
        words(&format!("CONFIG SET proto-max-bulk-len {BULK_MAX}")),
        words("SET b1 foobar"),
        words("SET b2 123"),
        vec![b("SET"), b("b3"), vec![0xff; 50]],
        words("INCR int"),
        words("RPUSH lst a"),
    ]
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!("bitmaps: seed {seed}, {n} commands, events {events:?}");
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
    };
    let mut pair = Pair::start("bitmaps", seed, HISTORY_MAX);
    if let Some(classes) = events {
        pair.watch_events(classes);
    }
    run(&mut pair, false, &setup());
    let mut resp3 = false;
    let mut i = 0;
    while i < n {
        let len = g.rng.gen_range(1..40).min(n - i);
        let cmds: Vec<Vec<Vec<u8>>> = (0..len).map(|_| g.command()).collect();
        run(&mut pair, resp3, &cmds);
        let before = i / STATE_CHECK_EVERY;
        i += len;
        if i / STATE_CHECK_EVERY != before {
            check_state(&mut pair, resp3);
            pair.check_events();
        }
        if g.rng.gen_ratio(1, 3) {
            resp3 = !resp3;
        }
        // Now and then start over, so that keys are created again and stay short.
        if g.rng.gen_ratio(1, 60) {
            run(&mut pair, resp3, &setup());
        }
    }
    check_state(&mut pair, resp3);
    pair.check_events();
    let stats = &pair.history.stats;
    for (name, c) in stats {
        eprintln!(
            "  {name:<14} {:>6} ({} errors, {} nils)",
            c.sent, c.errors, c.nils
        );
    }
    for name in [
        "SETBIT",
        "GETBIT",
        "BITCOUNT",
        "BITPOS",
        "BITOP",
        "BITFIELD",
        "BITFIELD_RO",
        "SUBSTR",
    ] {
        let c = stats.get(name).copied().unwrap_or_default();
        assert!(
            c.sent > c.errors && c.errors > 0,
            "{name}: the stream must reach both the command and its errors ({c:?})"
        );
    }
}

/// Hand-written cases, compared exactly, on RESP2 and then from scratch on RESP3.
#[test]
fn edge_cases() {
    let lines: &[&str] = &[
        "FLUSHALL",
        // Lookups before or after parsing, per command.
        "BITCOUNT nokey a b",
        "BITCOUNT nokey 0",
        "BITCOUNT nokey 0 1 2 3",
        "BITPOS nokey 0",
        "BITPOS nokey 1",
        "BITPOS nokey 2",
        "BITPOS nokey a",
        "BITPOS nokey 1 a",
        "GETBIT nokey 1",
        "GETBIT nokey a",
        "SET s foobar",
        "BITCOUNT s 0",
        "BITCOUNT s a b",
        "BITCOUNT s a 0 xx",
        "BITCOUNT s 0 1 2",
        "BITCOUNT s 1 1 bit",
        "BITCOUNT s -1 -2",
        "BITCOUNT s 5 1",
        "BITCOUNT s 0 -1 BIT",
        "BITCOUNT s -100 -50",
        "BITCOUNT s 0 0 0 0",
        "BITCOUNT s -9223372036854775808 9223372036854775807 BIT",
        "BITPOS s 2",
        "BITPOS s 1 0 -1 bit",
        "BITPOS s 1 0 -1 xx",
        "BITPOS s 1 a 0 xx",
        "BITPOS s 1 0 a xx",
        "BITPOS s 1 0 1 2 3",
        "BITPOS s 0 10",
        "BITPOS s 1 10",
        "BITPOS s 0 3 20 bit",
        "BITPOS s 1 7 7 bit",
        "SET ff \u{ff}",
        "SETBIT ff 8 1",
        "SETBIT ff 9 1",
        "BITPOS ff 0",
        "BITPOS ff 0 0",
        "BITPOS ff 0 0 -1",
        "BITPOS ff 0 0 -1 bit",
        "BITPOS ff 0 0 5 bit",
        "BITPOS ff 0 1 1",
        "BITPOS ff 0 9 bit",
        "BITPOS ff 0 9 9 bit",
        "BITPOS ff 0 9 10 bit",
        "SET e \"\"",
        "BITPOS e 0",
        "BITPOS e 1",
        "BITCOUNT e",
        // SETBIT on every encoding.
        "SET n 12",
        "OBJECT ENCODING n",
        "SETBIT n 0 0",
        "OBJECT ENCODING n",
        "GET n",
        "SETBIT n 100 0",
        "STRLEN n",
        "SETBIT n -1 1",
        "SETBIT n 1 2",
        "SETBIT n 1 -1",
        "SETBIT n 1 a",
        "SETBIT n #1 1",
        "SETBIT n 8388608 1",
        "GETBIT n 8388607",
        "GETBIT n 99999999999",
        "SET emb hello",
        "SETBIT emb 0 1",
        "OBJECT ENCODING emb",
        "GET emb",
        "RPUSH l a",
        "SETBIT l 1 1",
        "SETBIT l a 1",
        "SETBIT l 1 5",
        "GETBIT l 1",
        "BITCOUNT l",
        "BITCOUNT l a b",
        "BITPOS l 1",
        "BITPOS l 2",
        // TTLs: kept by SETBIT and BITFIELD, dropped by BITOP's destination.
        "PEXPIREAT n 4000000000000",
        "SETBIT n 3 1",
        "PEXPIRETIME n",
        "BITFIELD n SET u8 0 7",
        "PEXPIRETIME n",
        "BITOP OR n n",
        "PEXPIRETIME n",
        "OBJECT ENCODING n",
        // BITOP.
        "SET a abc",
        "SET b2 12",
        "BITOP AND d a b2",
        "GET d",
        "OBJECT ENCODING d",
        "BITOP OR d a b2 nokey",
        "GET d",
        "BITOP XOR d a b2",
        "GET d",
        "BITOP NOT d a",
        "GET d",
        "BITOP NOT d a b2",
        "BITOP NAND d a",
        "BITOP and d nokey",
        "EXISTS d",
        "BITOP and d nokey",
        "BITOP OR d a l",
        "BITOP OR d l a",
        "BITOP NOT d e",
        "EXISTS d",
        "BITOP XOR a a a",
        "GET a",
        // BITFIELD.
        "SET s foobar",
        "BITFIELD s get u8 0 set i64 0 5 incrby u2 100 1 overflow sat incrby u2 102 5 overflow fail incrby i8 0 200",
        "GET s",
        "BITFIELD s get u64 0",
        "BITFIELD s get i65 0",
        "BITFIELD s get i0 0",
        "BITFIELD s get x8 0",
        "BITFIELD s get I8 0",
        "BITFIELD s get i08 0",
        "BITFIELD s get u+8 0",
        "BITFIELD s overflow foo get u8 0",
        "BITFIELD s get u8 -1",
        "BITFIELD s get u8 #2",
        "BITFIELD s set u8 #2 x",
        "BITFIELD s set u8 0",
        "BITFIELD s get u8",
        "BITFIELD s overflow",
        "BITFIELD s foo",
        "BITFIELD s",
        "BITFIELD s set u8 #-1 1",
        "BITFIELD s get u8 #4611686018427387904",
        "BITFIELD s get i8 #1152921504606846976",
        "BITFIELD s get i1 #",
        "BITFIELD s get i64 40",
        "BITFIELD s get u63 1",
        "BITFIELD s overflow fail set u8 0 256 set u8 0 -1 set i8 0 128 set i8 0 -129 get u8 0",
        "BITFIELD s overflow sat set u8 0 256 get u8 0 set u8 0 -1 set i8 0 128 set i8 0 -129",
        "BITFIELD s overflow wrap set u8 0 256 set u8 0 -1 set i8 0 128 set i8 0 -129",
        "BITFIELD s overflow wrap incrby i64 0 9223372036854775807 incrby i64 0 9223372036854775807",
        "BITFIELD s overflow sat incrby i64 0 9223372036854775807 incrby i64 0 9223372036854775807",
        "BITFIELD s overflow sat incrby i64 0 -9223372036854775808 incrby i64 0 -9223372036854775808",
        "BITFIELD s overflow fail incrby u63 0 -1 incrby u63 0 9223372036854775807",
        "BITFIELD s overflow sat incrby u63 0 -9223372036854775808 incrby u1 7 5 incrby i1 7 -3",
        "GET s",
        // Redis saturates a SET of a very negative value into a narrow signed field to its
        // maximum (its overflow check computes `max - value` in 64 bits).
        "BITFIELD q overflow sat set i8 0 -9223372036854775808 get i8 0 set i8 0 -9223372036854775681 get i8 0 set i8 0 -9223372036854775680 get i8 0",
        "BITFIELD q overflow sat set i53 0 -9223372036854775808 get i53 0 set i64 0 -9223372036854775808 get i64 0",
        "BITFIELD nokey get u8 0 get i4 #3",
        "BITFIELD nokey2 overflow fail incrby u8 100 300",
        "GET nokey2",
        "BITFIELD l get u8 0",
        "BITFIELD l set u8 0 1",
        "BITFIELD_RO s set u8 0 1",
        "BITFIELD_RO s get u8 0 foo",
        "BITFIELD_RO s overflow sat get u8 0",
        "BITFIELD_RO l set u8 0 1",
        "BITFIELD_RO l get u8 0",
        "BITFIELD_RO nokey get u8 0",
        "BITFIELD_RO s",
        "BITFIELD n get u8 8388607",
        "BITFIELD n get u8 8388608",
        "BITFIELD n set u8 8388607 1",
        "STRLEN n",
        // SUBSTR is GETRANGE.
        "SUBSTR s 0 2",
        "SUBSTR s -3 -1",
        "SUBSTR s 0 -100",
        "SUBSTR nokey 0 1",
        "SUBSTR l 0 1",
        "SUBSTR s a 1",
        "substr s 1",
    ];
    let mut cmds: Vec<Vec<Vec<u8>>> =
        vec![words(&format!("CONFIG SET proto-max-bulk-len {BULK_MAX}"))];
    for l in lines {
        // `""` stands for an empty argument; `\u{ff}` is the byte 0xff.
        let args = words(l)
            .into_iter()
            .map(|a| match a.as_slice() {
                b"\"\"" => Vec::new(),
                b"\xc3\xbf" => vec![0xff],
                _ => a,
            })
            .collect();
        cmds.push(args);
    }
    for resp3 in [false, true] {
        let mut pair = Pair::start("bitmaps edge_cases", 0, 200);
        for c in &cmds {
            pair.run_exact(resp3, std::slice::from_ref(c), "edge case");
        }
    }
}

/// Keyspace events of the bitmap commands, byte for byte with Redis's, for a RESP3 client
/// subscribed to its own events (so that where each event falls relative to the replies is
/// compared too).
#[test]
fn events_interleave_with_replies_as_redis() {
    let script: &[&str] = &[
        "SETBIT k 7 1",
        "SETBIT k 7 1",
        "SETBIT k 100 0",
        "SET n 12",
        "SETBIT n 0 0",
        "GETBIT nokey 1",
        "BITCOUNT nokey",
        "BITPOS nokey 1",
        "BITFIELD nokey get u8 0",
        "BITFIELD_RO nokey get u8 0",
        "BITFIELD f set u8 0 1 get u8 0",
        "BITFIELD f overflow fail incrby u8 0 300",
        "BITFIELD f get u8 0",
        "BITOP OR d k nokey f",
        "BITOP OR d k",
        "BITOP AND d nokey nokey2",
        "BITOP AND d nokey",
        "PEXPIREAT k 1",
        "SETBIT k 1 1",
    ];
    let setup = &[
        "HELLO 3",
        "CONFIG SET notify-keyspace-events KEAmn",
        "PSUBSCRIBE __key*__:*",
    ];
    let run = |srv: &Server| replies_and_pushes(srv, setup, script);
    let ours = run(&Server::start(&[]));
    let redis = run(&Server::start_redis(&[]));
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&redis)
    );
}

/// Runs `setup` then `script` on one connection of `srv`, and returns, as raw bytes, every
/// reply and push of the script in arrival order (a PING after each command fences it).
fn replies_and_pushes(srv: &Server, setup: &[&str], script: &[&str]) -> Vec<u8> {
    let mut c = srv.raw();
    for l in setup {
        let r = c.cmd_args(&words(l));
        assert!(!r.is_error(), "{l}: {r:?}");
    }
    let mut out = Vec::new();
    for l in script {
        let args = words(l);
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        c.send(&common::encode(&refs));
        c.send(&common::encode(&[b"PING"]));
        loop {
            let r = c.read_reply_bytes();
            if r == b"+PONG\r\n" {
                break;
            }
            out.extend_from_slice(&r);
        }
    }
    out
}

/// Client-side caching: a RESP3 client tracking its own reads is told of exactly the writes
/// Redis tells it of (not of a SETBIT that changed nothing, nor of BITFIELD's GETs).
#[test]
fn tracking_invalidations_match_redis() {
    let script: &[&str] = &[
        "SET k foobar",
        "GET k",
        "SETBIT k 0 0",
        "GETBIT k 1",
        "SETBIT k 1 0",
        "BITCOUNT k",
        "BITFIELD k get u8 0",
        "BITFIELD k set u8 0 1",
        "BITFIELD_RO k get u8 0",
        "BITFIELD k incrby u8 0 0",
        "BITPOS k 1",
        "BITFIELD k overflow fail incrby u8 0 300",
        "GET d",
        "GET k",
        "BITOP OR d k",
        "GET d",
        "BITOP AND d nokey",
        "GET d",
        "BITOP AND d nokey",
    ];
    let setup = &["HELLO 3", "CLIENT TRACKING on"];
    let ours = replies_and_pushes(&Server::start(&[]), setup, script);
    let redis = replies_and_pushes(&Server::start_redis(&[]), setup, script);
    let text = String::from_utf8_lossy(&redis);
    assert!(text.matches("invalidate").count() >= 4, "{text}");
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&redis)
    );
}

// ---------------------------------------------------------------------------------------------
// Persistence

/// Waits until the server on `port` has exited after SHUTDOWN (it flushes its AOF).
fn shutdown(srv: &Server) {
    let mut c = srv.raw();
    c.send(&common::encode(&[b"SHUTDOWN"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(format!("/proc/{}/stat", srv.pid()))
        .map(
            |s| !matches!(s.rsplit(')').next().map(str::trim_start), Some(t) if t.starts_with('Z')),
        )
        .unwrap_or(false)
    {
        assert!(Instant::now() < deadline, "server did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The same commands against both servers: the incr files must hold the same commands.
#[test]
fn propagation_matches_redis() {
    let script: &[&str] = &[
        "SETBIT k 7 1",
        "SETBIT k 7 1",
        "SETBIT k 6 0",
        "SETBIT k 100 0",
        "SET n 12",
        "SETBIT n 0 0",
        "SETBIT n 2 0",
        "GETBIT k 7",
        "BITCOUNT k",
        "BITPOS k 1",
        "BITFIELD k get u8 0 get i4 #3",
        "BITFIELD_RO k get u8 0",
        "BITFIELD k set u8 0 255 incrby i4 #3 1",
        "BITFIELD k overflow fail incrby u8 0 1",
        "BITFIELD k get u8 0 overflow sat incrby u8 0 1",
        "BITFIELD k set u8 bad 1",
        "BITOP OR d k n",
        "BITOP AND d nokey",
        "BITOP AND d nokey",
        "BITOP NOT d2 k",
        "PEXPIREAT d2 4000000000000",
        "BITOP XOR d2 d2 k",
    ];
    let run = |srv: &Server| {
        let mut c = srv.raw();
        for l in script {
            let _ = c.cmd_str(&l.split(' ').collect::<Vec<_>>());
        }
    };
    let ours_dir = TempDir::new("prop-ours");
    let ours = Server::start(&["--appendonly", "yes", "--dir", ours_dir.s()]);
    run(&ours);
    shutdown(&ours);
    let redis_dir = TempDir::new("prop-redis");
    let redis = Server::start_redis(&["--appendonly", "yes", "--dir", redis_dir.s()]);
    run(&redis);
    shutdown(&redis);
    let (a, r) = (
        incr_commands(&ours_dir.0, lossy),
        incr_commands(&redis_dir.0, lossy),
    );
    assert_eq!(a, r, "ringkv's incr file vs redis-server's");
    assert!(!a.iter().any(|c| c.contains("get u8 0 get i4")), "{a:#?}");
}

/// Every key's (type, bytes of GET) on the server at `port`.
fn strings_of(port: u16) -> BTreeMap<Vec<u8>, Reply> {
    let mut c = Raw::connect(port);
    c.wait_loaded();
    let Reply::Array(Some(keys)) = c.cmd_str(&["KEYS", "*"]) else {
        panic!("KEYS");
    };
    keys.into_iter()
        .map(|k| {
            let Reply::Bulk(Some(k)) = k else {
                panic!("key {k:?}");
            };
            let v = c.cmd(&[b"GET", &k]);
            (k, v)
        })
        .collect()
}

/// Bitmaps of several shapes: sparse and long, dense, grown from an integer, BITOP's and
/// BITFIELD's results, one with a TTL.
fn write_bitmaps(port: u16) {
    let mut c = Raw::connect(port);
    let mut rng = StdRng::seed_from_u64(99);
    for i in 0..2_000 {
        let off = rng.gen_range(0..800_000u64).to_string();
        assert!(!c.cmd_str(&["SETBIT", "sparse", &off, "1"]).is_error());
        assert!(!c
            .cmd_str(&["SETBIT", "dense", &(i % 300).to_string(), "1"])
            .is_error());
    }
    let ok = |r: Reply| assert!(!r.is_error(), "{r:?}");
    ok(c.cmd_str(&["SET", "num", "4242"]));
    ok(c.cmd_str(&["SETBIT", "num", "3", "1"]));
    ok(c.cmd_str(&["SETBIT", "zeros", "4000", "0"]));
    ok(c.cmd_str(&["BITOP", "XOR", "x", "sparse", "dense"]));
    ok(c.cmd_str(&["BITOP", "NOT", "notnum", "num"]));
    ok(c.cmd_str(&[
        "BITFIELD",
        "bf",
        "SET",
        "i5",
        "#7",
        "-3",
        "INCRBY",
        "u63",
        "100",
        "12345678901",
    ]));
    ok(c.cmd_str(&["SETBIT", "ttl", "9", "1"]));
    ok(c.cmd_str(&["PEXPIREAT", "ttl", "4000000000000"]));
}

#[test]
fn bitmaps_move_between_servers_by_rdb_and_aof() {
    // ringkv's dump.rdb → redis-server, and redis-server's → ringkv.
    for ours_first in [true, false] {
        let dir = TempDir::new("rdb");
        let args = ["--dir", dir.s()];
        let writer = if ours_first {
            Server::start(&args)
        } else {
            Server::start_redis(&args)
        };
        write_bitmaps(writer.port);
        let written = strings_of(writer.port);
        assert_eq!(writer.raw().cmd_str(&["SAVE"]), Reply::ok());
        drop(writer);
        let reader = Server::start_either(ours_first, &args);
        assert_eq!(
            strings_of(reader.port),
            written,
            "dump.rdb, ours first: {ours_first}"
        );
        let Reply::Int(at) = reader.raw().cmd_str(&["PEXPIRETIME", "ttl"]) else {
            panic!("PEXPIRETIME");
        };
        assert_eq!(at, 4_000_000_000_000);
    }
    // The same through an AOF directory (commands, no RDB preamble), both ways.
    for ours_first in [true, false] {
        let dir = TempDir::new("aof");
        let args = [
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
            "--dir",
            dir.s(),
        ];
        let writer = if ours_first {
            Server::start(&args)
        } else {
            Server::start_redis(&args)
        };
        write_bitmaps(writer.port);
        let written = strings_of(writer.port);
        shutdown(&writer);
        drop(writer);
        let reader = Server::start_either(ours_first, &args);
        assert_eq!(
            strings_of(reader.port),
            written,
            "AOF, ours first: {ours_first}"
        );
    }
}

/// SETBIT far past the end of a value grows it in place with zeros; the limit follows
/// `proto-max-bulk-len` as CONFIG SET changes it.
#[test]
fn offset_limit_follows_proto_max_bulk_len() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]),
        Reply::ok()
    );
    let err = Reply::Error("ERR bit offset is not an integer or out of range".into());
    assert_eq!(c.cmd_str(&["SETBIT", "k", "8388608", "1"]), err);
    assert_eq!(c.cmd_str(&["SETBIT", "k", "8388607", "1"]), Reply::Int(0));
    assert_eq!(c.cmd_str(&["STRLEN", "k"]), Reply::Int(1024 * 1024));
    assert_eq!(c.cmd_str(&["BITCOUNT", "k"]), Reply::Int(1));
    assert_eq!(c.cmd_str(&["BITPOS", "k", "1"]), Reply::Int(8388607));
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]),
        Reply::ok()
    );
    assert_eq!(c.cmd_str(&["SETBIT", "k", "8388608", "1"]), Reply::Int(0));
    assert_eq!(c.cmd_str(&["BITCOUNT", "k", "-2", "-1"]), Reply::Int(2));
    assert_eq!(c.cmd_str(&["OBJECT", "ENCODING", "k"]), Reply::bulk(b"raw"));
}
