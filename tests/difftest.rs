//! Differential test: the same commands go to the server under test ("ours") and to a real
//! redis-server ("redis"), and the replies must agree.
//!
//! Usage:
//!   cargo test --test difftest                                 default seed, DEFAULT_N commands
//!   DIFFTEST_SEED=7 DIFFTEST_N=200000 cargo test --release --test difftest random_stream
//!   RINGKV_BIN=$(command -v redis-server) cargo test --test difftest   validates the harness
//!
//! Each `random_stream` run prints its seed first, so a script can loop over seeds and keep the
//! failing ones; a failure message names the seed, the index, the command, both replies and the
//! commands before it.
//!
//! Where Redis's reply is not a function of the command sequence alone, the comparison is
//! normalised (see `Check`):
//! - TTL/PTTL/EXPIRETIME/PEXPIRETIME: both servers run in real time, so non-negative values may
//!   differ by up to 2 s (2000 ms); negative codes (-1, -2) must match exactly.
//! - KEYS: compared as a sorted list (Redis's order depends on its hash table).
//! - SCAN: run to completion on each side from cursor 0; the sets of keys are compared.
//! - RANDOMKEY: only nil versus a key; a returned key must EXIST on both servers.
//! - Everything else, including OBJECT ENCODING and every error text, is compared exactly.
//!
//! Expire times in the random stream: every time argument targets a deadline that is unique in
//! the run and at least 10 s away from every other deadline (see `Gen::deadline_ms`). Relative
//! and absolute forms then land within ~1 s of that deadline on both servers, so the
//! comparisons made by GT/LT, and which key expires first, never depend on scheduling.
//! Deadlines are always at least 10,000 s ahead, so nothing set by the stream expires during a run.
//! Past times appear only where they delete the key at once (EXPIREAT/PEXPIREAT/GETEX EXAT, or
//! non-positive EXPIRE); `SET ... EXAT <past>` is left out because Redis then keeps an expired
//! key until its expiry cycle finds it, which makes DBSIZE depend on timing.

mod common;

use common::diff::{compare_events, name_of, scan_to_end, words, EventTap, History};
use common::{Raw, Reply, Server};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seed used when `DIFFTEST_SEED` is not set. StdRng is stable within rand 0.8, so a seed
/// reproduces the same stream as long as the rand version and this file do not change.
const DEFAULT_SEED: u64 = 0x7269_6e67_6b76;
/// Commands per run when `DIFFTEST_N` is not set.
const DEFAULT_N: usize = 20_000;
/// Commands per pipelined write.
const BATCH_MAX: usize = 100;
/// Commands shown before a mismatch.
const HISTORY_MAX: usize = 12;
/// Full-state comparison period, in commands.
const STATE_CHECK_EVERY: usize = 2_000;
/// Upper bound on SCAN calls for one full iteration (the key space holds ~20 keys per DB).
const SCAN_CALLS_MAX: usize = 10_000;
/// Databases compared by the state check (all of Redis's default 16).
const DB_COUNT: usize = 16;
/// Tolerance for TTL-like replies, which both servers compute from their own clock.
const TTL_TOLERANCE_S: i64 = 2;
const TTL_TOLERANCE_MS: i64 = 2_000;

/// How two replies to the same command are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Exact,
    /// Non-negative integers within `TTL_TOLERANCE_S`.
    Secs,
    /// Non-negative integers within `TTL_TOLERANCE_MS`.
    Millis,
    /// Arrays compared after sorting.
    Unordered,
    /// nil vs key; the key must exist on both sides.
    RandomKey,
    /// Iterate to completion on each side and compare the key sets.
    FullScan,
}

/// The comparison a command needs, from its name.
fn check_for(args: &[Vec<u8>]) -> Check {
    match name_of(args).as_str() {
        "TTL" | "EXPIRETIME" => Check::Secs,
        "PTTL" | "PEXPIRETIME" => Check::Millis,
        "KEYS" => Check::Unordered,
        "RANDOMKEY" => Check::RandomKey,
        "SCAN" => Check::FullScan,
        _ => Check::Exact,
    }
}

fn within(a: &Reply, b: &Reply, tolerance: i64) -> bool {
    match (a, b) {
        (Reply::Int(x), Reply::Int(y)) if *x >= 0 && *y >= 0 => (x - y).abs() <= tolerance,
        _ => a == b,
    }
}

fn sorted(r: &Reply) -> Reply {
    match r {
        Reply::Array(Some(items)) => {
            let mut items = items.clone();
            items.sort_by_key(|i| format!("{i:?}"));
            Reply::Array(Some(items))
        }
        other => other.clone(),
    }
}

/// Whether two replies agree under `check` (FullScan and the RANDOMKEY existence check are
/// handled by the runner, which needs more round trips).
fn agree(check: Check, ours: &Reply, redis: &Reply) -> bool {
    match check {
        Check::Exact | Check::FullScan => ours == redis,
        Check::Secs => within(ours, redis, TTL_TOLERANCE_S),
        Check::Millis => within(ours, redis, TTL_TOLERANCE_MS),
        Check::Unordered => sorted(ours) == sorted(redis),
        Check::RandomKey => match (ours, redis) {
            (Reply::Bulk(Some(_)), Reply::Bulk(Some(_))) => true,
            _ => ours == redis,
        },
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

// ---------------------------------------------------------------------------------------------
// The two servers and the comparison loop.
// ---------------------------------------------------------------------------------------------

/// One DB as the state check sees it: index, DBSIZE, and (key, GET, PEXPIRETIME) sorted by key.
type DbDump = (usize, Reply, Vec<(Vec<u8>, Reply, Reply)>);

struct Diff {
    // Kept so the servers live as long as the connections.
    _ours_server: Server,
    _redis_server: Server,
    ours: Raw,
    redis: Raw,
    /// Separate connections for state checks, so the main connections keep their SELECTed DB.
    ours_check: Raw,
    redis_check: Raw,
    /// With per-name (commands, error replies, nil replies), to show what a run covered.
    history: History,
    /// With keyspace notifications on: each server's event subscriber, compared after every
    /// batch.
    taps: Option<(EventTap, EventTap)>,
}

impl Diff {
    fn start(seed: u64) -> Diff {
        let ours_server = Server::start(&[]);
        let redis_server = Server::start_redis(&[]);
        Diff {
            ours: ours_server.raw(),
            redis: redis_server.raw(),
            ours_check: ours_server.raw(),
            redis_check: redis_server.raw(),
            _ours_server: ours_server,
            _redis_server: redis_server,
            history: History::new("difftest", seed, HISTORY_MAX, false),
            taps: None,
        }
    }

    /// Turns keyspace notifications of `classes` on in both servers; every batch's events
    /// are compared from now on.
    fn watch_events(&mut self, classes: &str) {
        self.taps = Some((
            EventTap::open(self._ours_server.port, classes),
            EventTap::open(self._redis_server.port, classes),
        ));
    }

    #[track_caller]
    fn fail(&self, what: &str, args: &[Vec<u8>], ours: &Reply, redis: &Reply) -> ! {
        self.history.fail(what, false, args, ours, redis)
    }

    /// Sends a pipelined batch to each server in turn and compares the replies in order.
    /// The servers are served one after the other rather than concurrently so that neither
    /// can stall on a full socket buffer while we write to the other.
    fn run_batch(&mut self, batch: &[Vec<Vec<u8>>]) {
        if batch.is_empty() {
            return;
        }
        let ours = self.ours.pipeline(batch);
        let redis = self.redis.pipeline(batch);
        for ((args, o), r) in batch.iter().zip(ours).zip(redis) {
            let check = check_for(args);
            if !agree(check, &o, &r) {
                self.fail(&format!("{check:?}"), args, &o, &r);
            }
            if check == Check::RandomKey {
                // The state right after this command is the state after the whole batch only
                // when RANDOMKEY ends its batch, which `run` guarantees.
                if let (Reply::Bulk(Some(a)), Reply::Bulk(Some(b))) = (&o, &r) {
                    let cmd: Vec<&[u8]> = vec![b"EXISTS", a, b];
                    let (eo, er) = (self.ours.cmd(&cmd), self.redis.cmd(&cmd));
                    if eo != Reply::Int(2) || er != Reply::Int(2) {
                        let args: Vec<Vec<u8>> = cmd.iter().map(|a| a.to_vec()).collect();
                        self.fail(
                            "RANDOMKEY returned a key that does not exist",
                            &args,
                            &eo,
                            &er,
                        );
                    }
                }
            }
            self.history.push(false, args, o, r);
        }
        if let Some((o, r)) = &mut self.taps {
            compare_events(&self.history, o, r);
        }
    }

    /// Runs `SCAN 0 <options>` to completion on one connection. Returns the keys, or the first
    /// error reply (whose text is then compared exactly).
    fn full_scan(conn: &mut Raw, args: &[Vec<u8>]) -> Result<BTreeSet<Vec<u8>>, Reply> {
        let mut keys = BTreeSet::new();
        let take = |batch: &[Reply]| {
            batch.iter().all(|k| match k {
                Reply::Bulk(Some(k)) => {
                    keys.insert(k.clone());
                    true
                }
                _ => false,
            })
        };
        scan_to_end(conn, args, 1, SCAN_CALLS_MAX, take).end?;
        Ok(keys)
    }

    fn run_scan(&mut self, args: &[Vec<u8>]) {
        let o = Diff::full_scan(&mut self.ours, args);
        let r = Diff::full_scan(&mut self.redis, args);
        let as_reply = |x: &Result<BTreeSet<Vec<u8>>, Reply>| match x {
            Ok(keys) => Reply::Array(Some(
                keys.iter().map(|k| Reply::Bulk(Some(k.clone()))).collect(),
            )),
            Err(e) => e.clone(),
        };
        let (o, r) = (as_reply(&o), as_reply(&r));
        if o != r {
            self.fail("SCAN to completion, key sets", args, &o, &r);
        }
        self.history.push(false, args, o, r);
    }

    /// Runs the commands in batches of at most BATCH_MAX. SCAN and RANDOMKEY end a batch
    /// because they need follow-up round trips that see the state right after them.
    fn run(&mut self, cmds: &[Vec<Vec<u8>>]) {
        let mut batch: Vec<Vec<Vec<u8>>> = Vec::with_capacity(BATCH_MAX);
        for args in cmds {
            match check_for(args) {
                Check::FullScan => {
                    self.run_batch(&batch);
                    batch.clear();
                    self.run_scan(args);
                }
                Check::RandomKey => {
                    batch.push(args.clone());
                    self.run_batch(&batch);
                    batch.clear();
                }
                _ => {
                    batch.push(args.clone());
                    if batch.len() == BATCH_MAX {
                        self.run_batch(&batch);
                        batch.clear();
                    }
                }
            }
        }
        self.run_batch(&batch);
    }

    /// Compares every key, value and TTL in every DB, on the side connections.
    fn check_state(&mut self) {
        let dump = |conn: &mut Raw| -> Vec<DbDump> {
            let mut out = Vec::new();
            for db in 0..DB_COUNT {
                let db_s = db.to_string();
                assert_eq!(conn.cmd(&[b"SELECT", db_s.as_bytes()]), Reply::ok());
                let size = conn.cmd(&[b"DBSIZE"]);
                let Reply::Array(Some(keys)) = conn.cmd(&[b"KEYS", b"*"]) else {
                    panic!("KEYS * did not return an array");
                };
                let mut keys: Vec<Vec<u8>> = keys
                    .into_iter()
                    .map(|k| match k {
                        Reply::Bulk(Some(k)) => k,
                        other => panic!("KEYS * returned {other:?}"),
                    })
                    .collect();
                keys.sort();
                let entries = keys
                    .into_iter()
                    .map(|k| {
                        let v = conn.cmd(&[b"GET", &k]);
                        let t = conn.cmd(&[b"PEXPIRETIME", &k]);
                        (k, v, t)
                    })
                    .collect();
                out.push((db, size, entries));
            }
            out
        };
        let ours = dump(&mut self.ours_check);
        let redis = dump(&mut self.redis_check);
        for ((db, os, oe), (_, rs, re)) in ours.iter().zip(&redis) {
            let select = vec![b"SELECT".to_vec(), db.to_string().into_bytes()];
            if os != rs {
                self.fail("state check: DBSIZE", &select, os, rs);
            }
            let names = |e: &[(Vec<u8>, Reply, Reply)]| {
                Reply::Array(Some(e.iter().map(|(k, _, _)| Reply::bulk(k)).collect()))
            };
            if names(oe) != names(re) {
                self.fail("state check: KEYS *", &select, &names(oe), &names(re));
            }
            for ((k, ov, ot), (_, rv, rt)) in oe.iter().zip(re) {
                let get = vec![b"GET".to_vec(), k.clone()];
                if ov != rv {
                    self.fail(&format!("state check: value in DB {db}"), &get, ov, rv);
                }
                if !within(ot, rt, TTL_TOLERANCE_MS) {
                    let cmd = vec![b"PEXPIRETIME".to_vec(), k.clone()];
                    self.fail(&format!("state check: expire in DB {db}"), &cmd, ot, rt);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The random command generator.
// ---------------------------------------------------------------------------------------------

/// About 20 keys: short, empty, binary, glob metacharacters, UTF-8, long.
fn key_space() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = (0..10).map(|i| format!("k{i}").into_bytes()).collect();
    keys.extend(
        [
            &b""[..],
            b"\x00\xffbin\r\n",
            b"key with spaces",
            b"k*",
            b"k?",
            b"[k]",
            b"K0",
            b"12",
            "\u{e9}t\u{e9}".as_bytes(),
        ]
        .iter()
        .map(|k| k.to_vec()),
    );
    keys.push(vec![b'x'; 60]);
    keys
}

/// Values stored by SET and friends: integers (incl. near and past the i64 limits and forms
/// that are not canonical integers), floats, binary, empty, the 44/45-byte embstr/raw border.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "42",
    "-42",
    "9999",
    "10000",
    "123456789",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "-9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "12345678901234567890",
    "007",
    "+1",
    "-0",
    " 1",
    "1 ",
    "1.5",
    "-0.25",
    "3e2",
    "0.125",
    "inf",
    "nan",
    "1.",
    ".5",
    "",
    "hello",
    "foobar",
    "ohmytext",
    "mynewtext",
    "a\u{0}b",
    "\r\n",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHI",
];

/// Integer arguments for INCRBY/DECRBY/GETRANGE/... including invalid and overflowing ones.
const INT_ARGS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "-3",
    "7",
    "100",
    "-100",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "9223372036854775808",
    "-9223372036854775809",
    "abc",
    "1.5",
    "",
    " 1",
    "+5",
    "-0",
    "007",
];

/// INCRBYFLOAT start values and increments. ringkv computes in f64 while Redis uses long double
/// and prints with "%.17Lf"; the two print the same text only when every value and sum is exact
/// in binary, so these are integers, halves, quarters and eighths of small magnitude.
const FLOAT_STARTS: &[&str] = &[
    "0", "1.5", "-0.25", "300", "10", "-7", "0.125", "1e3", "5.0",
];
const FLOAT_INCRS: &[&str] = &[
    "1", "-1", "1.5", "-0.25", "0.5", "3e2", "-2.5e-1", "0.125", "1024", "-8", "0", "2.0", "+4",
];
/// INCRBYFLOAT increments that must fail the same way (deterministic errors).
const FLOAT_BAD: &[&str] = &["abc", "", " 1", "1 ", "nan", "inf", "-inf", "1.5x", "--1"];

/// Edge values for expire arguments that do not depend on the clock (errors, or deletes).
/// No huge-but-valid relative value is listed: the same relative value sent twice gives
/// deadlines a few ms apart, and `EXPIRE k t GT` would then depend on scheduling.
const TIME_EDGE: &[&str] = &[
    "0",
    "-1",
    "-1000",
    "abc",
    "1.5",
    "",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
];
/// Absolute times in the past (delete the key at once for EXPIREAT/PEXPIREAT/GETEX).
const TIME_PAST: &[&str] = &["1", "1000", "1600000000"];

const KEY_PATTERNS: &[&[u8]] = &[
    b"*", b"k*", b"k?", b"k[0-4]", b"k[^0-4]", b"[a-z]*", b"*\\**", b"k\\?", b"\\[k\\]", b"*bin*",
    b"", b"x*x", b"K*", b"*[", b"[", b"k[!0]", b"*\x00*", b"?", b"??",
];

struct Gen {
    rng: StdRng,
    keys: Vec<Vec<u8>>,
    /// Wall-clock start of the run, whole seconds, in ms.
    base_ms: u64,
    used_deadline_units: HashSet<u64>,
}

/// Deadlines are `base_ms + unit * DEADLINE_UNIT_MS (+ < 1 s)`, each unit used once per run.
const DEADLINE_UNIT_MS: u64 = 10_000;
/// Smallest unit: deadlines are at least 10,000 s ahead of the moment they are generated.
const DEADLINE_UNIT_MIN: u64 = 1_000;
const DEADLINE_UNITS: u64 = 1 << 22;

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            rng: StdRng::seed_from_u64(seed),
            keys: key_space(),
            base_ms: now_ms() / 1000 * 1000,
            used_deadline_units: HashSet::new(),
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &'a [&'a T]) -> &'a T {
        items.choose(&mut self.rng).expect("non-empty")
    }

    fn key(&mut self) -> Vec<u8> {
        self.keys.choose(&mut self.rng).expect("keys").clone()
    }

    fn value(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..10) {
            0 => {
                let len = self.rng.gen_range(1..20);
                (0..len).map(|_| self.rng.gen_range(b'a'..=b'e')).collect()
            }
            1 => {
                let len = self.rng.gen_range(45..200);
                (0..len).map(|_| self.rng.gen_range(b'a'..=b'z')).collect()
            }
            2 => {
                let len = self.rng.gen_range(0..12);
                (0..len).map(|_| self.rng.gen()).collect()
            }
            3 => self
                .rng
                .gen_range(-20_000i64..20_000)
                .to_string()
                .into_bytes(),
            _ => self.pick(VALUES).as_bytes().to_vec(),
        }
    }

    fn short_value(&mut self) -> Vec<u8> {
        let len = self.rng.gen_range(0..8);
        (0..len).map(|_| self.rng.gen_range(b'a'..=b'f')).collect()
    }

    fn int_arg(&mut self) -> Vec<u8> {
        if self.chance(0.5) {
            self.rng.gen_range(-50i64..50).to_string().into_bytes()
        } else {
            self.pick(INT_ARGS).as_bytes().to_vec()
        }
    }

    fn db(&mut self) -> Vec<u8> {
        let s = match self.rng.gen_range(0..20) {
            0 => self.pick(&["16", "-1", "abc", "15", "", "1.0", "99999999999999999999"]),
            n => ["0", "1", "2", "3"][n % 4],
        };
        s.as_bytes().to_vec()
    }

    /// A deadline (unix ms) never used before in this run and at least DEADLINE_UNIT_MS - 1 s
    /// away from every other one, so GT/LT outcomes never hinge on a few ms of skew. The
    /// smallest unit moves up as the run goes on, so every deadline stays at least
    /// DEADLINE_UNIT_MIN units ahead of now however long the run is.
    fn deadline_ms(&mut self) -> u64 {
        let elapsed_units = now_ms().saturating_sub(self.base_ms) / DEADLINE_UNIT_MS;
        let lowest = DEADLINE_UNIT_MIN + elapsed_units;
        loop {
            let unit = self.rng.gen_range(lowest..lowest + DEADLINE_UNITS);
            if self.used_deadline_units.insert(unit) {
                return self.base_ms + unit * DEADLINE_UNIT_MS + self.rng.gen_range(0..1000);
            }
        }
    }

    /// A time argument for an option or command of the given unit and kind.
    /// `past_ok`: whether an absolute time in the past is allowed (it deletes the key at once).
    fn time_arg(&mut self, millis: bool, absolute: bool, past_ok: bool) -> Vec<u8> {
        if self.chance(0.1) {
            return self.pick(TIME_EDGE).as_bytes().to_vec();
        }
        if absolute && past_ok && self.chance(0.05) {
            return self.pick(TIME_PAST).as_bytes().to_vec();
        }
        let d = self.deadline_ms();
        let v = match (millis, absolute) {
            (true, true) => d,
            (false, true) => d / 1000,
            // Relative times are computed from the clock right before the batch is sent.
            (true, false) => d.saturating_sub(now_ms()),
            (false, false) => d.saturating_sub(now_ms()) / 1000,
        };
        v.to_string().into_bytes()
    }

    /// Randomly mixes the case of a command or option name.
    fn name(&mut self, s: &str) -> Vec<u8> {
        match self.rng.gen_range(0..4) {
            0 => s.to_ascii_lowercase().into_bytes(),
            1 => s
                .bytes()
                .map(|c| {
                    if self.rng.gen_bool(0.5) {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    }
                })
                .collect(),
            _ => s.as_bytes().to_vec(),
        }
    }

    /// One step: usually one command, sometimes a short sequence (INCRBYFLOAT, LCS setups).
    fn step(&mut self) -> Vec<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        let roll = self.rng.gen_range(0..1000);
        let cmd = self.command(roll, &mut out);
        if let Some(mut cmd) = cmd {
            // Wrong arity and stray arguments: drop the last argument or add one.
            if self.chance(0.03) && cmd.len() > 1 {
                cmd.pop();
            } else if self.chance(0.02) {
                let extra = if self.chance(0.5) {
                    b"x".to_vec()
                } else {
                    self.key()
                };
                cmd.push(extra);
            }
            out.push(cmd);
        }
        out
    }

    #[allow(clippy::too_many_lines)]
    fn command(&mut self, roll: u32, out: &mut Vec<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
        let c = |g: &mut Gen, name: &str| vec![g.name(name)];
        Some(match roll {
            0..=9 => {
                let mut v = c(self, "PING");
                if self.chance(0.5) {
                    v.push(self.value());
                }
                v
            }
            10..=19 => {
                let mut v = c(self, "ECHO");
                v.push(self.value());
                v
            }
            20..=39 => {
                let mut v = c(self, "SELECT");
                v.push(self.db());
                v
            }
            40..=44 => {
                let mut v = c(self, "SWAPDB");
                v.push(self.db());
                v.push(self.db());
                v
            }
            45..=54 => c(self, "DBSIZE"),
            55..=58 => {
                let mut v = c(self, "FLUSHDB");
                if self.chance(0.5) {
                    let opt = self.pick(&["ASYNC", "SYNC", "async", "FOO"]);
                    v.push(opt.as_bytes().to_vec());
                }
                v
            }
            59..=60 => {
                let mut v = c(self, "FLUSHALL");
                if self.chance(0.5) {
                    let opt = self.pick(&["ASYNC", "SYNC", "Sync", "BAR"]);
                    v.push(opt.as_bytes().to_vec());
                }
                v
            }
            61..=90 => {
                let name = self.pick(&["DEL", "UNLINK", "EXISTS", "TOUCH"]);
                let mut v = c(self, name);
                for _ in 0..self.rng.gen_range(1..4) {
                    v.push(self.key());
                }
                v
            }
            91..=105 => {
                let mut v = c(self, "TYPE");
                v.push(self.key());
                v
            }
            106..=115 => {
                let mut v = c(self, "KEYS");
                v.push(self.pick(KEY_PATTERNS).to_vec());
                v
            }
            116..=127 => self.scan(),
            128..=132 => c(self, "RANDOMKEY"),
            133..=150 => {
                let name = self.pick(&["RENAME", "RENAMENX"]);
                let mut v = c(self, name);
                v.push(self.key());
                v.push(self.key());
                v
            }
            151..=165 => {
                let mut v = c(self, "COPY");
                v.push(self.key());
                v.push(self.key());
                let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
                if self.chance(0.5) {
                    opts.push(vec![self.name("DB"), self.db()]);
                }
                if self.chance(0.5) {
                    opts.push(vec![self.name("REPLACE")]);
                }
                if self.chance(0.05) {
                    opts.push(vec![b"FOO".to_vec()]);
                }
                opts.shuffle(&mut self.rng);
                v.extend(opts.into_iter().flatten());
                v
            }
            166..=175 => {
                let mut v = c(self, "MOVE");
                v.push(self.key());
                v.push(self.db());
                v
            }
            176..=195 => {
                let mut v = c(self, "OBJECT");
                match self.rng.gen_range(0..20) {
                    0 => v.push(b"FOO".to_vec()),
                    1 => v.push(self.name("ENCODING")),
                    _ => {
                        v.push(self.name("ENCODING"));
                        v.push(self.key());
                    }
                }
                v
            }
            196..=255 => {
                let (name, millis, absolute) = *self.pick(&[
                    &("EXPIRE", false, false),
                    &("PEXPIRE", true, false),
                    &("EXPIREAT", false, true),
                    &("PEXPIREAT", true, true),
                ]);
                let mut v = c(self, name);
                v.push(self.key());
                v.push(self.time_arg(millis, absolute, true));
                let flags = match self.rng.gen_range(0..10) {
                    0..=3 => 0,
                    4..=8 => 1,
                    _ => 2,
                };
                for _ in 0..flags {
                    let f = self.pick(&["NX", "XX", "GT", "LT", "nx", "gt", "FOO"]);
                    v.push(self.name(f));
                }
                v
            }
            256..=295 => {
                let name = self.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"]);
                let mut v = c(self, name);
                v.push(self.key());
                v
            }
            296..=365 => {
                let mut v = c(self, "GET");
                v.push(self.key());
                v
            }
            366..=465 => self.set(),
            466..=485 => {
                let name = self.pick(&["SETNX", "GETSET"]);
                let mut v = c(self, name);
                v.push(self.key());
                v.push(self.value());
                v
            }
            486..=500 => {
                let (name, millis) = *self.pick(&[&("SETEX", false), &("PSETEX", true)]);
                let mut v = c(self, name);
                v.push(self.key());
                v.push(self.time_arg(millis, false, false));
                v.push(self.value());
                v
            }
            501..=515 => {
                let mut v = c(self, "GETDEL");
                v.push(self.key());
                v
            }
            516..=540 => {
                let mut v = c(self, "GETEX");
                v.push(self.key());
                match self.rng.gen_range(0..8) {
                    0 => {}
                    1 => v.push(self.name("PERSIST")),
                    2 => v.push(b"FOO".to_vec()),
                    3 => {
                        v.push(self.name("PERSIST"));
                        v.push(self.name("EX"));
                        v.push(b"100000".to_vec());
                    }
                    _ => {
                        let (opt, millis, absolute) = *self.pick(&[
                            &("EX", false, false),
                            &("PX", true, false),
                            &("EXAT", false, true),
                            &("PXAT", true, true),
                        ]);
                        v.push(self.name(opt));
                        v.push(self.time_arg(millis, absolute, true));
                    }
                }
                v
            }
            541..=565 => {
                let mut v = c(self, "MGET");
                for _ in 0..self.rng.gen_range(1..5) {
                    v.push(self.key());
                }
                v
            }
            566..=590 => {
                let name = self.pick(&["MSET", "MSETNX"]);
                let mut v = c(self, name);
                for _ in 0..self.rng.gen_range(1..4) {
                    v.push(self.key());
                    v.push(self.value());
                }
                v
            }
            591..=610 => {
                let mut v = c(self, "APPEND");
                v.push(self.key());
                v.push(self.short_value());
                v
            }
            611..=625 => {
                let mut v = c(self, "STRLEN");
                v.push(self.key());
                v
            }
            626..=650 => {
                let mut v = c(self, "GETRANGE");
                v.push(self.key());
                v.push(self.int_arg());
                v.push(self.int_arg());
                v
            }
            651..=665 => {
                let mut v = c(self, "SETRANGE");
                v.push(self.key());
                let off = match self.rng.gen_range(0..20) {
                    0 => self.pick(&["-1", "536870912", "abc", "9223372036854775807"]),
                    1..=14 => return Some(self.setrange_small(v)),
                    _ => self.pick(&["0", "1", "5", "44", "45", "100"]),
                };
                v.push(off.as_bytes().to_vec());
                v.push(self.short_value());
                v
            }
            666..=730 => {
                let name = self.pick(&["INCR", "DECR"]);
                let mut v = c(self, name);
                v.push(self.key());
                v
            }
            731..=780 => {
                let name = self.pick(&["INCRBY", "DECRBY"]);
                let mut v = c(self, name);
                v.push(self.key());
                v.push(self.int_arg());
                v
            }
            781..=830 => {
                self.incrbyfloat(out);
                return None;
            }
            831..=870 => {
                self.lcs(out);
                return None;
            }
            871..=885 => {
                // Unknown commands, including an empty name and a long argument (Redis quotes
                // at most 128 bytes of each argument in the error).
                let mut v = vec![self
                    .pick(&["FOO", "foo", "GETT", "", "SETT", "CONFIGX"])
                    .as_bytes()
                    .to_vec()];
                for _ in 0..self.rng.gen_range(0..3) {
                    v.push(self.value());
                }
                if self.chance(0.2) {
                    v.push(vec![b'y'; 200]);
                }
                v
            }
            _ => {
                // Anything else: GET on a key, to keep reads frequent.
                let mut v = c(self, "GET");
                v.push(self.key());
                v
            }
        })
    }

    fn setrange_small(&mut self, mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        v.push(self.rng.gen_range(0..60).to_string().into_bytes());
        v.push(self.short_value());
        v
    }

    fn scan(&mut self) -> Vec<Vec<u8>> {
        let mut v = vec![self.name("SCAN")];
        v.push(match self.rng.gen_range(0..30) {
            0 => b"abc".to_vec(),
            1 => b"18446744073709551616".to_vec(),
            _ => b"0".to_vec(),
        });
        let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
        if self.chance(0.5) {
            opts.push(vec![self.name("MATCH"), self.pick(KEY_PATTERNS).to_vec()]);
        }
        if self.chance(0.5) {
            let n = self.pick(&["1", "2", "5", "10", "100", "0", "-1", "abc"]);
            opts.push(vec![self.name("COUNT"), n.as_bytes().to_vec()]);
        }
        if self.chance(0.3) {
            let t = self.pick(&["string", "STRING", "list", "hash", "foo"]);
            opts.push(vec![self.name("TYPE"), t.as_bytes().to_vec()]);
        }
        if self.chance(0.05) {
            opts.push(vec![b"BAR".to_vec()]);
        }
        opts.shuffle(&mut self.rng);
        v.extend(opts.into_iter().flatten());
        v
    }

    fn set(&mut self) -> Vec<Vec<u8>> {
        let mut v = vec![self.name("SET"), self.key(), self.value()];
        let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
        if self.chance(0.3) {
            let o = self.pick(&["NX", "XX"]);
            opts.push(vec![self.name(o)]);
        }
        if self.chance(0.2) {
            opts.push(vec![self.name("GET")]);
        }
        match self.rng.gen_range(0..10) {
            0..=4 => {}
            5 => opts.push(vec![self.name("KEEPTTL")]),
            _ => {
                let (opt, millis, absolute) = *self.pick(&[
                    &("EX", false, false),
                    &("PX", true, false),
                    &("EXAT", false, true),
                    &("PXAT", true, true),
                ]);
                let t = self.time_arg(millis, absolute, false);
                opts.push(vec![self.name(opt), t]);
            }
        }
        if self.chance(0.03) {
            // Conflicting or unknown options: syntax errors.
            let o = self.pick(&["NX", "XX", "KEEPTTL", "EX", "FOO", "GET"]);
            opts.push(vec![self.name(o)]);
        }
        opts.shuffle(&mut self.rng);
        v.extend(opts.into_iter().flatten());
        v
    }

    /// INCRBYFLOAT is emitted after a SET to a value whose sums stay exact in binary (see
    /// FLOAT_STARTS), or after DEL (a missing key counts as 0), or on a non-number (error).
    fn incrbyfloat(&mut self, out: &mut Vec<Vec<Vec<u8>>>) {
        let key = self.key();
        match self.rng.gen_range(0..10) {
            0 => out.push(vec![b"DEL".to_vec(), key.clone()]),
            1 => out.push(vec![b"SET".to_vec(), key.clone(), b"abc".to_vec()]),
            _ => {
                let start = self.pick(FLOAT_STARTS).as_bytes().to_vec();
                out.push(vec![b"SET".to_vec(), key.clone(), start]);
            }
        }
        for _ in 0..self.rng.gen_range(1..4) {
            let inc = if self.chance(0.1) {
                self.pick(FLOAT_BAD)
            } else {
                self.pick(FLOAT_INCRS)
            };
            out.push(vec![
                self.name("INCRBYFLOAT"),
                key.clone(),
                inc.as_bytes().to_vec(),
            ]);
        }
    }

    /// LCS, sometimes after setting both keys to strings with interesting common subsequences.
    fn lcs(&mut self, out: &mut Vec<Vec<Vec<u8>>>) {
        let (a, b) = (self.key(), self.key());
        if self.chance(0.5) {
            for k in [&a, &b] {
                let len = self.rng.gen_range(0..30);
                let s: Vec<u8> = (0..len).map(|_| self.rng.gen_range(b'a'..=b'd')).collect();
                out.push(vec![b"SET".to_vec(), k.clone(), s]);
            }
        }
        let mut v = vec![self.name("LCS"), a, b];
        let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
        if self.chance(0.3) {
            opts.push(vec![self.name("LEN")]);
        }
        if self.chance(0.4) {
            opts.push(vec![self.name("IDX")]);
        }
        if self.chance(0.3) {
            let n = self.pick(&["0", "1", "2", "3", "5", "-1", "abc"]);
            opts.push(vec![self.name("MINMATCHLEN"), n.as_bytes().to_vec()]);
        }
        if self.chance(0.3) {
            opts.push(vec![self.name("WITHMATCHLEN")]);
        }
        if self.chance(0.03) {
            opts.push(vec![b"FOO".to_vec()]);
        }
        opts.shuffle(&mut self.rng);
        v.extend(opts.into_iter().flatten());
        out.push(v);
    }
}

// ---------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!(
        "difftest: seed {seed}, {n} commands (DIFFTEST_SEED / DIFFTEST_N), events {events:?}"
    );
    let started = Instant::now();
    let mut diff = Diff::start(seed);
    if let Some(classes) = events {
        diff.watch_events(classes);
    }
    let mut gen = Gen::new(seed);
    let mut generated = 0;
    let mut next_state_check = STATE_CHECK_EVERY;
    while generated < n {
        // Generate one batch's worth right before sending it, so that relative expire times
        // are computed from a fresh clock.
        let mut chunk = Vec::with_capacity(BATCH_MAX + 8);
        while chunk.len() < BATCH_MAX && generated + chunk.len() < n {
            chunk.extend(gen.step());
        }
        generated += chunk.len();
        diff.run(&chunk);
        if generated >= next_state_check {
            diff.check_state();
            next_state_check += STATE_CHECK_EVERY;
        }
    }
    diff.check_state();
    eprintln!(
        "difftest: seed {seed}: {generated} commands agreed in {:.1?}",
        started.elapsed()
    );
    if std::env::var_os("DIFFTEST_STATS").is_some() {
        eprintln!(
            "{:<14} {:>8} {:>8} {:>8}",
            "command", "count", "errors", "nil"
        );
        for (name, c) in &diff.history.stats {
            eprintln!("{name:<14} {:>8} {:>8} {:>8}", c.sent, c.errors, c.nils);
        }
    }
}

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// Hand-written edge cases, compared like the random stream. The test also asserts that Redis
/// answered each error text in `EXPECTED_ERRORS` at least once, so the list keeps exercising
/// what it claims to.
#[test]
fn edge_cases() {
    let mut c: Vec<Vec<Vec<u8>>> = [
        "FLUSHALL",
        // Arity.
        "GET",
        "GET a b",
        "SET k",
        "MSET a",
        "MSET a 1 b",
        "MSETNX a 1 b",
        "PING a b",
        "ECHO",
        "EXISTS",
        "DEL",
        "KEYS",
        "DBSIZE x",
        "SELECT 0 1",
        "INCRBYFLOAT k",
        "OBJECT ENCODING",
        "OBJECT",
        "LCS a",
        "GETEX",
        "SCAN",
        "RANDOMKEY x",
        "COPY a",
        // SET options.
        "SET k v EX",
        "SET k v NX XX",
        "SET k v EX 10 PX 10",
        "SET k v KEEPTTL EX 10",
        "SET k v EX 10 EX 10",
        "SET k v FOO",
        "SET k v EX 0",
        "SET k v EX -5",
        "SET k v PX 0",
        "SET k v EXAT 0",
        "SET k v PXAT -1",
        "SET k v EX abc",
        "SET k v EX 1.5",
        "SET k v EX 9223372036854775807",
        "SET k v PX 9223372036854775807",
        "SET k v EXAT 9223372036854776",
        "SET k v EXAT 9223372036854775",
        "TTL k",
        "EXPIRETIME k",
        "SET k v PXAT 9223372036854775807",
        "PEXPIRETIME k",
        "SET k v GET",
        "SET k w NX GET",
        "SET k2 w XX GET",
        "SET k2 w NX GET",
        "GET k2",
        "SET k v KEEPTTL",
        "PTTL k",
        "SET k v EX 100000 GET",
        "SET k v2 KEEPTTL GET",
        "TTL k",
        "SETEX k 0 v",
        "PSETEX k -1 v",
        "SETEX k abc v",
        "SETEX k 100000 v",
        "TTL k",
        "SETNX k v",
        "SETNX newk v",
        // GETEX.
        "GETEX k EX 0",
        "GETEX k PX -1",
        "GETEX k PERSIST EX 10",
        "GETEX k FOO",
        "GETEX k PERSIST",
        "TTL k",
        "GETEX k EXAT 1",
        "EXISTS k",
        "GETEX missing EX 10",
        // Integers.
        "SET n 9223372036854775807",
        "INCR n",
        "INCRBY n 0",
        "SET n -9223372036854775808",
        "DECR n",
        "INCRBY n 9223372036854775808",
        "INCRBY n -1",
        "DECRBY n -9223372036854775808",
        "SET n 0",
        "DECRBY n -9223372036854775808",
        "DECRBY n -9223372036854775807",
        "INCRBY n abc",
        "INCRBY n 1.5",
        "INCRBY n 007",
        "SET s abc",
        "INCR s",
        "SET s 007",
        "INCR s",
        "SET s -0",
        "INCR s",
        "SET s 12345678901234567890",
        "INCR s",
        "SET s 99",
        "INCR s",
        "OBJECT ENCODING s",
        "INCR newcounter",
        // Floats (see FLOAT_STARTS for why values are exact in binary).
        "SET s abc",
        "INCRBYFLOAT s 1",
        "INCRBYFLOAT f abc",
        "SET f 1.5",
        "INCRBYFLOAT f inf",
        "INCRBYFLOAT f -inf",
        "INCRBYFLOAT f nan",
        "INCRBYFLOAT f 1e3",
        "INCRBYFLOAT f -1001.5",
        "INCRBYFLOAT f 0.25",
        "INCRBYFLOAT f 3e2",
        "INCRBYFLOAT f 1.5x",
        "INCRBYFLOAT f 5.0e0",
        "INCRBYFLOAT missingf 0.5",
        "SET f inf",
        "INCRBYFLOAT f 1",
        "SET f 1.",
        "INCRBYFLOAT f 1",
        "SET f .5",
        "INCRBYFLOAT f .5",
        "OBJECT ENCODING f",
        // Ranges.
        "SETRANGE k 536870912 x",
        "SETRANGE k -1 x",
        "SETRANGE k abc x",
        "SET k hello",
        "SETRANGE k 536870912 ",
        "SETRANGE missing 0 ",
        "SETRANGE missing 10 ",
        "EXISTS missing",
        "SETRANGE k 10 x",
        "GET k",
        "SETRANGE newr 3 abc",
        "GET newr",
        "GETRANGE k 0 -1",
        "GETRANGE k -100 100",
        "GETRANGE k 5 2",
        "GETRANGE k -1 -1",
        "GETRANGE k -3 -5",
        "GETRANGE k 0 9223372036854775807",
        "GETRANGE k -9223372036854775808 2",
        "GETRANGE k abc 1",
        "GETRANGE missing 0 -1",
        "APPEND k abc",
        "APPEND newa abc",
        "STRLEN k",
        "STRLEN missing",
        "OBJECT ENCODING k",
        // DBs.
        "SELECT 16",
        "SELECT -1",
        "SELECT abc",
        "SELECT 15",
        "SET k15 v",
        "SELECT 0",
        "SWAPDB 0 16",
        "SWAPDB x 1",
        "SWAPDB 1 x",
        "SWAPDB 0 15",
        "GET k15",
        "SWAPDB 0 0",
        "SWAPDB 15 0",
        "MOVE k 16",
        "MOVE k 0",
        "MOVE k abc",
        "MOVE k 1",
        "MOVE k 1",
        "MOVE missing 1",
        "SELECT 1",
        "GET k",
        "MOVE k 0",
        "SELECT 0",
        "SET a 1",
        "COPY a a",
        "COPY a b DB 16",
        "COPY a b FOO",
        "COPY a b DB",
        "COPY a b DB abc",
        "COPY a b",
        "COPY a b",
        "COPY a b REPLACE",
        "COPY a b DB 1 REPLACE",
        "COPY a a DB 1",
        "COPY missing b",
        "DBSIZE",
        // Keys.
        "RENAME missing x",
        "RENAMENX missing x",
        "RENAME a a",
        "RENAMENX a a",
        "RENAMENX a b",
        "RENAME a c",
        "TYPE c",
        "TYPE missing",
        "TOUCH c missing c",
        "EXISTS c c missing",
        "UNLINK c missing",
        "DEL b b",
        // Expire.
        "SET e v",
        "EXPIRE e 10 NX XX",
        "EXPIRE e 10 GT LT",
        "EXPIRE e 10 NX GT",
        "EXPIRE e 10 FOO",
        "EXPIRE e abc",
        "EXPIRE e 9223372036854775807",
        "PEXPIRE e 9223372036854775807",
        "EXPIREAT e 9223372036854775807",
        "EXPIREAT e -9223372036854775808",
        "EXPIRE e 100000 XX",
        "EXPIRE e 100000 GT",
        "TTL e",
        "EXPIRE e 100000 NX",
        "EXPIRE e 200000 XX",
        "EXPIRE e 100000 GT",
        "EXPIRE e 300000 GT",
        "EXPIRE e 300000 LT",
        "EXPIRE e 100000 LT",
        "TTL e",
        "PEXPIREAT e 9223372036854775807",
        "PEXPIRETIME e",
        "PERSIST e",
        "PERSIST e",
        "TTL e",
        "PTTL e",
        "EXPIRETIME e",
        "TTL missing",
        "PTTL missing",
        "EXPIRETIME missing",
        "PEXPIRETIME missing",
        "EXPIRE missing 100",
        "EXPIREAT e 1 GT",
        "EXISTS e",
        "EXPIREAT e 1 LT",
        "EXISTS e",
        "SET e v",
        "EXPIRE e 0",
        "EXISTS e",
        "SET e v",
        "EXPIRE e -1 NX",
        "EXISTS e",
        "SET e v",
        "PEXPIREAT e 1000",
        "EXISTS e",
        // FLUSH / SCAN / KEYS / OBJECT.
        "FLUSHALL FOO",
        "FLUSHDB ASYNC x",
        "FLUSHDB FOO",
        "SCAN abc",
        "SCAN -1x",
        "SCAN 0 COUNT 0",
        "SCAN 0 COUNT -1",
        "SCAN 0 COUNT abc",
        "SCAN 0 MATCH",
        "SCAN 0 FOO",
        "SCAN 0 TYPE string",
        "SCAN 0 TYPE foo",
        "SCAN 0 MATCH k* COUNT 1",
        "KEYS *",
        "KEYS [",
        "OBJECT foo k",
        "OBJECT ENCODING missing",
        "OBJECT ENCODING a",
        "OBJECT ENCODING a b",
        "RANDOMKEY",
        // LCS.
        "SET la ohmytext",
        "SET lb mynewtext",
        "LCS la lb",
        "LCS la lb LEN",
        "LCS la lb IDX",
        "LCS la lb IDX MINMATCHLEN 4 WITHMATCHLEN",
        "LCS la lb IDX WITHMATCHLEN",
        "LCS la lb LEN IDX",
        "LCS la lb MINMATCHLEN x",
        "LCS la lb MINMATCHLEN -1 IDX",
        "LCS la lb MINMATCHLEN",
        "LCS la lb FOO",
        "LCS la missing",
        "LCS missing missing2 IDX",
        "LCS la la IDX WITHMATCHLEN",
        // Unknown commands.
        "FOO a b",
        "foo",
        "GETT k",
        "FLUSHALL",
        "DBSIZE",
        "RANDOMKEY",
        "FLUSHALL ASYNC",
        "FLUSHALL SYNC",
        "FLUSHDB SYNC",
        "FLUSHDB ASYNC",
    ]
    .iter()
    .map(|s| words(s))
    .collect();

    // Cases that need bytes the word splitter cannot express.
    c.extend([
        cmd(&[b"SET", b"", b"empty key"]),
        cmd(&[b"GET", b""]),
        cmd(&[b"SET", b"\x00\xff", b"\x00bin\r\nary"]),
        cmd(&[b"GET", b"\x00\xff"]),
        cmd(&[b"STRLEN", b"\x00\xff"]),
        cmd(&[b"SET", b"bigint", b"9223372036854775808"]),
        cmd(&[b"OBJECT", b"ENCODING", b"bigint"]),
        cmd(&[b"SET", b"e44", &[b'a'; 44]]),
        cmd(&[b"OBJECT", b"ENCODING", b"e44"]),
        cmd(&[b"SET", b"e45", &[b'a'; 45]]),
        cmd(&[b"OBJECT", b"ENCODING", b"e45"]),
        cmd(&[b"APPEND", b"e44", b"b"]),
        cmd(&[b"OBJECT", b"ENCODING", b"e44"]),
        cmd(&[b"SET", b"i", b"123"]),
        cmd(&[b"APPEND", b"i", b"4"]),
        cmd(&[b"OBJECT", b"ENCODING", b"i"]),
        cmd(&[b"INCR", b"i"]),
        cmd(&[b"OBJECT", b"ENCODING", b"i"]),
        cmd(&[b"SETRANGE", b"i", b"0", b"9"]),
        cmd(&[b"OBJECT", b"ENCODING", b"i"]),
        cmd(&[b"MGET", b"", b"\x00\xff", b"missing", b"i"]),
        cmd(&[b"MSET", b"m1", b"", b"m2", b"\x00"]),
        cmd(&[b"MSETNX", b"m1", b"x", b"m3", b"y"]),
        cmd(&[b"MSETNX", b"m3", b"x", b"m4", b"y"]),
        cmd(&[b""]),
        cmd(&[b"", b"a"]),
        cmd(&[b"FOO", &[b'z'; 200], b"\r\n"]),
        cmd(&[b"gEt", b"m1"]),
        cmd(&[b"SeT", b"m1", b"v", b"ex", b"100000", b"gEt"]),
        cmd(&[b"ECHO", b"\x00\r\n"]),
        cmd(&[b"PING", b""]),
        cmd(&[b"KEYS", b"*\x00*"]),
        cmd(&[b"KEYS", b"\\"]),
        cmd(&[b"KEYS", b"m[1-3"]),
        cmd(&[b"KEYS", b"m[3-1]"]),
        cmd(&[b"KEYS", b"m[\\]"]),
        cmd(&[b"KEYS", b"*m*[0-9]"]),
    ]);

    let mut diff = Diff::start(0);
    // Run one by one so a failure names the exact command.
    for args in &c {
        diff.run(std::slice::from_ref(args));
    }
    diff.check_state();

    // Every error text the list claims to cover must have come from Redis at least once.
    const EXPECTED_ERRORS: &[&str] = &[
        "ERR wrong number of arguments for 'get' command",
        "ERR wrong number of arguments for 'object|encoding' command",
        "ERR syntax error",
        "ERR value is not an integer or out of range",
        "ERR invalid expire time in 'set' command",
        "ERR invalid expire time in 'setex' command",
        "ERR invalid expire time in 'psetex' command",
        "ERR invalid expire time in 'getex' command",
        "ERR invalid expire time in 'expire' command",
        "ERR increment or decrement would overflow",
        "ERR decrement would overflow",
        "ERR value is not a valid float",
        "ERR increment would produce NaN or Infinity",
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        "ERR offset is out of range",
        "ERR unknown command 'FOO', with args beginning with: 'a' 'b' ",
        "ERR DB index is out of range",
        "ERR invalid first DB index",
        "ERR invalid second DB index",
        "ERR source and destination objects are the same",
        "ERR no such key",
        "ERR NX and XX, GT or LT options at the same time are not compatible",
        "ERR GT and LT options at the same time are not compatible",
        "ERR Unsupported option FOO",
        "ERR invalid cursor",
        "ERR unknown subcommand 'foo'. Try OBJECT HELP.",
        "ERR If you want both the length and indexes, please just use IDX.",
    ];
    let all_errors = collect_redis_errors(&c);
    for e in EXPECTED_ERRORS {
        assert!(
            all_errors.contains(*e),
            "edge list no longer makes Redis answer {e:?}"
        );
    }
}

/// Replays `cmds` on a fresh redis-server and returns every distinct error text.
fn collect_redis_errors(cmds: &[Vec<Vec<u8>>]) -> HashSet<String> {
    let redis = Server::start_redis(&[]);
    let mut conn = redis.raw();
    let mut errors = HashSet::new();
    for args in cmds {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        if let Reply::Error(e) = conn.cmd(&refs) {
            errors.insert(e);
        }
    }
    errors
}

/// Short TTLs really expire, on both servers, both when read (lazily) and when nobody reads
/// them (the server's own expiry cycle).
#[test]
fn short_ttls_expire() {
    let mut diff = Diff::start(0);
    let soon_ms = (now_ms() + 300).to_string();
    let setup: Vec<Vec<Vec<u8>>> = vec![
        words("SET a v PX 300"),
        words("PSETEX b 300 v"),
        words("SET c v"),
        words("PEXPIRE c 300"),
        words("SET d v"),
        words("GETEX d PX 300"),
        cmd(&[b"SET", b"e", b"v", b"PXAT", soon_ms.as_bytes()]),
        words("SET f v"),
        words("PEXPIRE f 300 NX"),
        words("SET keep v"),
        words("SET keepttl v PX 300"),
        words("SET keepttl w KEEPTTL"),
        words("SET persisted v PX 300"),
        words("PERSIST persisted"),
    ];
    let set_at = Instant::now();
    diff.run(&setup);
    // Before the deadline all seven exist on both. Checked only when the machine was quick
    // enough, so that a stalled test runner cannot make this flaky.
    let exists = [
        &b"EXISTS"[..],
        b"a",
        b"b",
        b"c",
        b"d",
        b"e",
        b"f",
        b"keepttl",
    ];
    let (o, r) = (diff.ours.cmd(&exists), diff.redis.cmd(&exists));
    if set_at.elapsed() < Duration::from_millis(200) {
        if o != Reply::Int(7) || r != Reply::Int(7) {
            diff.fail(
                "keys with a 300 ms TTL before it ran out",
                &cmd(&exists),
                &o,
                &r,
            );
        }
    } else {
        eprintln!("short_ttls_expire: slow machine, skipped the check before expiry");
    }
    std::thread::sleep(Duration::from_millis(600));
    diff.run(&[
        words("GET a"),
        words("EXISTS a b c d e f keepttl"),
        words("TTL b"),
        words("PTTL c"),
        words("GET keep"),
        words("GET persisted"),
        words("TTL persisted"),
        words("KEYS *"),
        words("SCAN 0"),
        words("RANDOMKEY"),
    ]);

    // Keys nobody touches must still go away: Redis's active expiry samples them 10 times a
    // second. Poll DBSIZE on both, bounded in time.
    let mut unread: Vec<Vec<Vec<u8>>> = vec![words("SELECT 1")];
    for i in 0..50 {
        unread.push(cmd(&[
            b"SET",
            format!("u{i}").as_bytes(),
            b"v",
            b"PX",
            b"100",
        ]));
    }
    diff.run(&unread);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let o = diff.ours.cmd(&[b"DBSIZE"]);
        let r = diff.redis.cmd(&[b"DBSIZE"]);
        if o == Reply::Int(0) && r == Reply::Int(0) {
            break;
        }
        if Instant::now() > deadline {
            diff.fail(
                "keys with a 100 ms TTL still counted after 5 s without access",
                &words("DBSIZE"),
                &o,
                &r,
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    diff.run(&[words("SELECT 0"), words("DBSIZE")]);
}
