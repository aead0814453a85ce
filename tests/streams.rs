//! Streams against a real redis-server 7.0.15: hand-written edge cases compared exactly (RESP2
//! and RESP3), a random command stream compared reply by reply (with and without keyspace
//! events), and a few integration checks of ringkv alone.
//!
//! Usage:
//!   cargo test --test streams
//!   DIFFTEST_SEED=7 DIFFTEST_N=50000 cargo test --test streams random_stream
//!
//! The random stream uses explicit IDs (`ms-seq` and `ms-*`) so both servers pick the same
//! ones; `*` appears only where the reply is not compared as a value (its ID is read back from
//! each side). Small `stream-node-max-entries` / `-bytes` values are set during the run, so
//! node boundaries — which decide what `~` trimming removes — are compared too.

mod common;

use common::diff::{name_of, words, Pair};
use common::Reply;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DEFAULT_SEED: u64 = 0x57_2ea3;
const DEFAULT_N: usize = 6_000;
const BATCH_MAX: usize = 50;
const HISTORY_MAX: usize = 12;

const KEYS: &[&str] = &["s1", "s2", "s3"];

/// Replaces the values that depend on a rax's shape in an XINFO STREAM reply
/// (`radix-tree-nodes`), which ringkv does not model.
fn mask_xinfo(r: &mut Reply) {
    if let Reply::Array(Some(v)) = r {
        for i in 0..v.len().saturating_sub(1) {
            if v[i] == Reply::Bulk(Some(b"radix-tree-nodes".to_vec())) {
                v[i + 1] = Reply::Int(0);
            }
        }
    }
    if let Reply::Map(kv) = r {
        for (k, v) in kv.iter_mut() {
            if *k == Reply::Bulk(Some(b"radix-tree-nodes".to_vec())) {
                *v = Reply::Int(0);
            }
        }
    }
}

/// Fails naming the first reply where two state dumps differ (a whole dump is too long to read).
#[track_caller]
fn assert_same_state(a: &[Reply], b: &[Reply], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            let (xs, ys) = (format!("{x:?}"), format!("{y:?}"));
            let at = xs
                .bytes()
                .zip(ys.bytes())
                .take_while(|(p, q)| p == q)
                .count();
            let from = at.saturating_sub(300);
            panic!(
                "{what}: reply {i} ({}) differs at char {at}:\n  left:  {}\n  right: {}",
                PERSIST_KEYS[i / 4],
                &xs[from..(at + 300).min(xs.len())],
                &ys[from..(at + 300).min(ys.len())]
            );
        }
    }
}

/// Replaces what depends on the servers' clocks: unix-ms timestamps (delivery and seen
/// times), XPENDING's idle times and XINFO CONSUMERS' `idle`.
fn mask_times(args: &[Vec<u8>], r: &mut Reply) {
    fn walk(r: &mut Reply, idle_at_2: bool) {
        match r {
            Reply::Int(v) if *v > 1_000_000_000_000 => *v = 0,
            Reply::Array(Some(v)) | Reply::Set(v) | Reply::Push(v) => {
                if idle_at_2 && v.len() == 4 && matches!(v[2], Reply::Int(_)) {
                    v[2] = Reply::Int(0);
                }
                for i in 0..v.len() {
                    let key = v[i].clone();
                    if i + 1 < v.len()
                        && (key == Reply::Bulk(Some(b"idle".to_vec()))
                            || key == Reply::Bulk(Some(b"seen-time".to_vec())))
                    {
                        v[i + 1] = Reply::Int(0);
                    }
                    walk(&mut v[i], idle_at_2);
                }
            }
            Reply::Map(kv) => {
                for (k, v) in kv.iter_mut() {
                    if *k == Reply::Bulk(Some(b"idle".to_vec()))
                        || *k == Reply::Bulk(Some(b"seen-time".to_vec()))
                    {
                        *v = Reply::Int(0);
                    }
                    walk(v, idle_at_2);
                }
            }
            _ => {}
        }
    }
    let name = name_of(args);
    let xpending_ext = name == "XPENDING" && args.len() > 3;
    if name.starts_with('X') {
        walk(r, xpending_ext);
    }
}

fn run(diff: &mut Pair, batch: &[Vec<Vec<u8>>], resp3: bool) {
    if batch.is_empty() {
        return;
    }
    let ours = diff.ours.pipeline(resp3, batch);
    let redis = diff.redis.pipeline(resp3, batch);
    for ((args, mut o), mut r) in batch.iter().zip(ours).zip(redis) {
        if name_of(args) == "XINFO" {
            mask_xinfo(&mut o);
            mask_xinfo(&mut r);
        }
        mask_times(args, &mut o);
        mask_times(args, &mut r);
        if o != r {
            diff.fail("exact", resp3, args, &o, &r);
        }
        diff.history.push(resp3, args, o, r);
    }
    diff.check_events();
}

struct Gen {
    rng: StdRng,
    /// IDs given to XADD, so group commands name entries that may exist.
    added: Vec<String>,
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn key(&mut self) -> String {
        if self.chance(0.03) {
            return "str".into();
        }
        KEYS[self.rng.gen_range(0..KEYS.len())].to_string()
    }

    fn ms(&mut self) -> u64 {
        self.rng.gen_range(0..60)
    }

    fn id(&mut self) -> String {
        match self.rng.gen_range(0..10) {
            0 => format!("{}", self.ms()),
            1 => "-".into(),
            2 => "+".into(),
            3 => "x-1".into(),
            _ => format!("{}-{}", self.ms(), self.rng.gen_range(0..4)),
        }
    }

    fn range_bound(&mut self, low: bool) -> String {
        match self.rng.gen_range(0..8) {
            0 => if low { "-" } else { "+" }.into(),
            1 => format!("({}-{}", self.ms(), self.rng.gen_range(0..4)),
            2 => format!("({}", self.ms()),
            3 => "(-".into(),
            _ => format!("{}", self.ms()),
        }
    }

    fn fields(&mut self) -> String {
        let n = if self.chance(0.7) {
            1
        } else {
            self.rng.gen_range(1..4)
        };
        let mut out = String::new();
        for i in 0..n {
            let f = if self.chance(0.8) {
                format!("f{i}")
            } else {
                format!("g{}", self.rng.gen_range(0..3))
            };
            let v = match self.rng.gen_range(0..4) {
                0 => format!("{}", self.rng.gen_range(-5000..100000)),
                1 => "v".repeat(self.rng.gen_range(0..80)),
                _ => format!("val{}", self.rng.gen_range(0..10)),
            };
            let v = if v.is_empty() { "e".into() } else { v };
            out.push_str(&format!(" {f} {v}"));
        }
        out
    }

    fn trim(&mut self) -> String {
        let op = ["", " =", " ~"][self.rng.gen_range(0..3)];
        let limit = if op == " ~" && self.chance(0.3) {
            format!(" LIMIT {}", self.rng.gen_range(0..12))
        } else {
            String::new()
        };
        if self.chance(0.5) {
            format!("MAXLEN{op} {}{limit}", self.rng.gen_range(0..30))
        } else {
            format!("MINID{op} {}{limit}", self.id())
        }
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key();
        let line = match self.rng.gen_range(0..100) {
            0..=39 => {
                let id = match self.rng.gen_range(0..10) {
                    0 => format!("{}-*", self.ms()),
                    1 => self.id(),
                    _ => {
                        // Mostly increasing IDs so that streams grow.
                        format!(
                            "{}-{}",
                            60 + self.rng.gen_range(0..600),
                            self.rng.gen_range(0..3)
                        )
                    }
                };
                let nomk = if self.chance(0.1) { "NOMKSTREAM " } else { "" };
                let trim = if self.chance(0.2) {
                    format!("{} ", self.trim())
                } else {
                    String::new()
                };
                format!("XADD {k} {nomk}{trim}{id}{}", self.fields())
            }
            40..=51 => {
                let count = if self.chance(0.4) {
                    format!(" COUNT {}", self.rng.gen_range(-1..6))
                } else {
                    String::new()
                };
                let (a, b) = (self.range_bound(true), self.range_bound(false));
                if self.chance(0.5) {
                    format!("XRANGE {k} {a} {b}{count}")
                } else {
                    format!("XREVRANGE {k} {b} {a}{count}")
                }
            }
            52..=59 => {
                let n = self.rng.gen_range(1..4);
                let ids: Vec<String> = (0..n).map(|_| self.id()).collect();
                format!("XDEL {k} {}", ids.join(" "))
            }
            60..=67 => format!("XTRIM {k} {}", self.trim()),
            68..=71 => format!("XLEN {k}"),
            72..=75 => {
                let mut l = format!("XSETID {k} {}", self.id());
                if self.chance(0.3) {
                    l.push_str(&format!(" ENTRIESADDED {}", self.rng.gen_range(-1..40)));
                }
                if self.chance(0.3) {
                    l.push_str(&format!(" MAXDELETEDID {}", self.id()));
                }
                l
            }
            76..=80 => format!("XINFO STREAM {k}"),
            81..=83 => format!("TYPE {k}"),
            84..=85 => format!("OBJECT ENCODING {k}"),
            86 => format!("DEL {k}"),
            87..=88 => format!(
                "CONFIG SET stream-node-max-entries {}",
                [0, 1, 3, 5, 100][self.rng.gen_range(0..5)]
            ),
            89 => format!(
                "CONFIG SET stream-node-max-bytes {}",
                [0, 60, 200, 4096][self.rng.gen_range(0..4)]
            ),
            90..=99 => return self.group_command(),
            _ => format!("XRANGE {k} - +"),
        };
        words(&line)
    }

    fn group(&mut self) -> &'static str {
        ["g1", "g2", "g1", "nog"][self.rng.gen_range(0..4)]
    }

    fn consumer(&mut self) -> &'static str {
        ["c1", "c2", "c3"][self.rng.gen_range(0..3)]
    }

    /// An ID that was added (it may since be deleted), or any ID.
    fn known_id(&mut self) -> String {
        if !self.added.is_empty() && self.chance(0.8) {
            let i = self.rng.gen_range(0..self.added.len());
            return self.added[i].clone();
        }
        self.id()
    }

    fn group_command(&mut self) -> Vec<Vec<u8>> {
        let k = self.key();
        let g = self.group();
        let c = self.consumer();
        let line = match self.rng.gen_range(0..100) {
            0..=7 => {
                let id = ["$", "0", "-", "+"][self.rng.gen_range(0..4)].to_string();
                let id = if self.chance(0.3) {
                    self.known_id()
                } else {
                    id
                };
                let mk = if self.chance(0.3) { " MKSTREAM" } else { "" };
                let er = if self.chance(0.2) {
                    format!(" ENTRIESREAD {}", self.rng.gen_range(-2..10))
                } else {
                    String::new()
                };
                format!("XGROUP CREATE {k} {g} {id}{mk}{er}")
            }
            8..=11 => {
                let id = if self.chance(0.3) {
                    "$".into()
                } else {
                    self.known_id()
                };
                let er = if self.chance(0.3) {
                    format!(" ENTRIESREAD {}", self.rng.gen_range(-1..10))
                } else {
                    String::new()
                };
                format!("XGROUP SETID {k} {g} {id}{er}")
            }
            12 => format!("XGROUP DESTROY {k} {g}"),
            13..=14 => format!("XGROUP CREATECONSUMER {k} {g} {c}"),
            15 => format!("XGROUP DELCONSUMER {k} {g} {c}"),
            16..=39 => {
                let count = if self.chance(0.6) {
                    format!(" COUNT {}", self.rng.gen_range(0..5))
                } else {
                    String::new()
                };
                let noack = if self.chance(0.15) { " NOACK" } else { "" };
                let id = if self.chance(0.75) {
                    ">".to_string()
                } else {
                    self.known_id()
                };
                if self.chance(0.2) {
                    let k2 = self.key();
                    format!("XREADGROUP GROUP {g} {c}{count}{noack} STREAMS {k} {k2} {id} >")
                } else {
                    format!("XREADGROUP GROUP {g} {c}{count}{noack} STREAMS {k} {id}")
                }
            }
            40..=45 => {
                let count = if self.chance(0.5) {
                    format!("COUNT {} ", self.rng.gen_range(0..5))
                } else {
                    String::new()
                };
                let id = if self.chance(0.2) {
                    "$".into()
                } else {
                    self.known_id()
                };
                format!("XREAD {count}STREAMS {k} {id}")
            }
            46..=55 => {
                let n = self.rng.gen_range(1..4);
                let ids: Vec<String> = (0..n).map(|_| self.known_id()).collect();
                format!("XACK {k} {g} {}", ids.join(" "))
            }
            56..=63 => {
                if self.chance(0.4) {
                    format!("XPENDING {k} {g}")
                } else {
                    let idle = if self.chance(0.2) {
                        format!("IDLE {} ", [0, 1_000_000_000][self.rng.gen_range(0..2)])
                    } else {
                        String::new()
                    };
                    let (a, b) = (self.range_bound(true), self.range_bound(false));
                    let cons = if self.chance(0.4) {
                        format!(" {c}")
                    } else {
                        String::new()
                    };
                    format!(
                        "XPENDING {k} {g} {idle}{a} {b} {}{cons}",
                        self.rng.gen_range(-1..6)
                    )
                }
            }
            64..=75 => {
                let n = self.rng.gen_range(1..3);
                let ids: Vec<String> = (0..n).map(|_| self.known_id()).collect();
                let minidle = [0, 0, 1_000_000_000][self.rng.gen_range(0..3)];
                let mut l = format!("XCLAIM {k} {g} {c} {minidle} {}", ids.join(" "));
                if self.chance(0.2) {
                    l.push_str(&format!(" TIME {}", self.rng.gen_range(-5..5000)));
                }
                if self.chance(0.1) {
                    l.push_str(" IDLE 2000000000");
                }
                if self.chance(0.2) {
                    l.push_str(&format!(" RETRYCOUNT {}", self.rng.gen_range(-1..5)));
                }
                if self.chance(0.3) {
                    l.push_str(" FORCE");
                }
                if self.chance(0.3) {
                    l.push_str(" JUSTID");
                }
                if self.chance(0.15) {
                    l.push_str(&format!(" LASTID {}", self.known_id()));
                }
                if self.chance(0.03) {
                    l.push_str(" BOGUS");
                }
                l
            }
            76..=85 => {
                let minidle = [0, 0, 1_000_000_000][self.rng.gen_range(0..3)];
                let start = if self.chance(0.5) {
                    "0".to_string()
                } else {
                    self.range_bound(true)
                };
                let mut l = format!("XAUTOCLAIM {k} {g} {c} {minidle} {start}");
                if self.chance(0.5) {
                    l.push_str(&format!(" COUNT {}", self.rng.gen_range(0..5)));
                }
                if self.chance(0.3) {
                    l.push_str(" JUSTID");
                }
                l
            }
            86..=89 => format!("XINFO GROUPS {k}"),
            90..=93 => format!("XINFO CONSUMERS {k} {g}"),
            _ => {
                let count = if self.chance(0.5) {
                    format!(" COUNT {}", self.rng.gen_range(-1..4))
                } else {
                    String::new()
                };
                format!("XINFO STREAM {k} FULL{count}")
            }
        };
        words(&line)
    }
}

fn check_state(diff: &mut Pair) {
    let mut cmds = Vec::new();
    for k in KEYS {
        cmds.push(words(&format!("XRANGE {k} - +")));
        cmds.push(words(&format!("XINFO STREAM {k}")));
        cmds.push(words(&format!("XINFO STREAM {k} FULL COUNT 0")));
    }
    cmds.push(words("DBSIZE"));
    run(diff, &cmds, false);
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!("streams: seed {seed}, {n} commands (DIFFTEST_SEED / DIFFTEST_N), events {events:?}");
    let mut diff = Pair::start("streams", seed, HISTORY_MAX);
    if let Some(classes) = events {
        diff.watch_events(classes);
    }
    let mut gen = Gen {
        rng: StdRng::seed_from_u64(seed),
        added: Vec::new(),
    };
    run(&mut diff, &[words("SET str x")], false);
    let mut done = 0;
    let mut next_check = 1000;
    while done < n {
        let resp3 = gen.chance(0.35);
        let size = (n - done).min(BATCH_MAX);
        let cmds: Vec<Vec<Vec<u8>>> = (0..size).map(|_| gen.command()).collect();
        run(&mut diff, &cmds, resp3);
        done += size;
        if done >= next_check {
            check_state(&mut diff);
            next_check += 1000;
        }
    }
    check_state(&mut diff);
    eprintln!("streams: seed {seed}: {done} random commands agreed");
}

/// Hand-written edge cases, compared exactly on RESP2 and again on RESP3.
#[test]
fn edge_cases() {
    let lines = [
        "FLUSHALL",
        "SET str x",
        "XADD s 1-1 a 1",
        "XRANGE s - + COUNT 0",
        "XRANGE s - + COUNT -1",
        "XRANGE nokey - + COUNT 0",
        "XRANGE s (- +",
        "XRANGE s (18446744073709551615-18446744073709551615 +",
        "XRANGE s - (0-0",
        "XRANGE s - + COUNT",
        "XRANGE s - + foo 1",
        "XRANGE s - + COUNT x",
        "XRANGE str - +",
        "XADD s 0-0 a 1",
        "XADD s2 0-0 a 1",
        "EXISTS s2",
        "XADD s 1-1 a 1",
        "XADD s MAXLEN -1 * a 1",
        "XADD s LIMIT 5 * a 1",
        "XADD s2 LIMIT 0 * a 1",
        "XADD s MAXLEN 1 LIMIT 5 * a 1",
        "XADD s MINID 1 MAXLEN 2 * a 1",
        "XADD s a",
        "XADD s 5-*",
        "XADD s 1-1 a 1 b",
        "XADD s MAXLEN ~ 5 LIMIT -1 5-1 a 1",
        "XADD s 1 a b",
        "XADD s 1-x a b",
        "XADD s 00002-2 a b",
        "XADD s \t3-01 a b",
        "XADD s 4-* a b",
        "XADD s 4-* a b",
        "XADD s 3-* a b",
        "XADD s 18446744073709551615-* a b",
        "XADD s 18446744073709551615-* a b",
        "XADD s 18446744073709551615-* a b",
        "XSETID s 18446744073709551615-18446744073709551615",
        "XADD s * a b",
        "XADD s NOMKSTREAM * a b",
        "XADD nokey NOMKSTREAM * a b",
        "EXISTS nokey",
        "XADD str * a b",
        "XTRIM s",
        "XTRIM s MAXLEN",
        "XTRIM s foo 1",
        "XTRIM s LIMIT 0",
        "XTRIM s LIMIT 5",
        "XTRIM s MAXLEN = 0 LIMIT 0",
        "XTRIM s MAXLEN ~ 0 LIMIT -1",
        "XTRIM nokey MAXLEN x",
        "XTRIM nokey MAXLEN 1",
        "XTRIM str MAXLEN 1",
        "XTRIM s MINID -",
        "XTRIM s MINID 3",
        "XRANGE s - +",
        "XINFO STREAM s",
        "XTRIM s MAXLEN 0",
        "XINFO STREAM s",
        "XLEN s",
        "TYPE s",
        "OBJECT ENCODING s",
        "XSETID s 0-1",
        "XSETID s 1-1 ENTRIESADDED -1",
        "XSETID s 1-1 MAXDELETEDID 2-2",
        "XSETID nokey 1-1",
        "XSETID s +",
        "XSETID s 5-5 foo",
        "XSETID str 5-5",
        "DEL s",
        "XADD s 1-1 a 1",
        "XADD s 2-1 a 1",
        "XADD s 3-1 b 1",
        "XSETID s 2-2",
        "XSETID s 9-9 ENTRIESADDED 2",
        "XSETID s 9-9 ENTRIESADDED 3 MAXDELETEDID 10-0",
        "XDEL s 1-1 1-1 3-1",
        "XDEL s +",
        "XDEL nokey +",
        "XDEL str 1",
        "XINFO STREAM s",
        "XSETID s 1-9",
        "XADD s 20-1 a 1",
        "XADD s 21-1 a 1",
        "XDEL s 20-1",
        "XSETID s 20-0 ENTRIESADDED 1",
        "XSETID s 20-0",
        "XSETID s 21-1 ENTRIESADDED 1",
        "XDEL s 2-1",
        "XINFO STREAM s",
        "XLEN s",
        "XLEN nokey",
        "XLEN str",
        "CONFIG SET stream-node-max-entries 3",
        "DEL t",
        "XADD t 1-0 a 1",
        "XADD t 2-0 a 2",
        "XADD t 3-0 b 2",
        "XADD t 4-0 a 2 b 3",
        "XADD t 5-0 a 2",
        "XADD t 6-0 a 2",
        "XADD t 7-0 a 2",
        "XTRIM t MAXLEN ~ 2",
        "XRANGE t - +",
        "XTRIM t MINID ~ 7",
        "XRANGE t - +",
        "XADD t MAXLEN ~ 0 8-0 a 1",
        "XINFO STREAM t",
        "XREVRANGE t + - COUNT 2",
        "XREVRANGE t (8 - COUNT 2",
        "CONFIG SET stream-node-max-entries 100",
    ];
    let cmds: Vec<Vec<Vec<u8>>> = lines.iter().map(|l| words(l)).collect();
    let mut diff = Pair::start("streams", 1, HISTORY_MAX);
    for resp3 in [false, true] {
        for c in &cmds {
            let mut o = diff.ours.cmd(resp3, c);
            let mut r = diff.redis.cmd(resp3, c);
            // `*` IDs are the servers' clocks: equal shapes are enough.
            let starred = c.iter().any(|a| a == b"*");
            if name_of(c) == "XINFO" {
                mask_xinfo(&mut o);
                mask_xinfo(&mut r);
            }
            let same = if starred {
                std::mem::discriminant(&o) == std::mem::discriminant(&r)
                    && o.is_error() == r.is_error()
                    && (!o.is_error() || o == r)
            } else {
                o == r
            };
            if !same {
                diff.fail("edge case", resp3, c, &o, &r);
            }
            diff.history.push(resp3, c, o, r);
        }
    }
}

/// Runs `script` on ringkv and on redis-server: each step is (connection, command, expect a
/// reply now); a command sent without reading blocks, and its reply is read at the step that
/// names the connection with an empty command. Replies are compared step by step.
fn blocking_script(name: &str, setup: &[&str], script: &[(usize, &str, bool)]) {
    let ours = common::Server::start(&[]);
    let redis = common::Server::start_redis(&[]);
    let mut results: Vec<Vec<Reply>> = Vec::new();
    for srv in [&ours, &redis] {
        let mut conns: Vec<common::Raw> = (0..3).map(|_| srv.raw()).collect();
        for c in &mut conns {
            c.set_read_timeout(std::time::Duration::from_secs(5));
        }
        for l in setup {
            let args = words(l);
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            conns[0].cmd(&refs);
        }
        let mut out = Vec::new();
        for (c, line, now) in script {
            if line.is_empty() {
                out.push(conns[*c].read_reply());
                continue;
            }
            let args = words(line);
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            if *now {
                out.push(conns[*c].cmd(&refs));
            } else {
                conns[*c].send(&common::encode(&refs));
                // Let it block before the next step.
                conns[2].wait_blocked(1);
            }
        }
        results.push(out);
    }
    let mut masked = results.clone();
    for r in &mut masked {
        for x in r.iter_mut() {
            // As XPENDING's extended form: idle times are masked too.
            mask_times(&words("XPENDING k g - + 1"), x);
        }
    }
    if std::env::var_os("STREAMS_SHOW").is_some() {
        eprintln!("{name}: {:?}", masked[0]);
    }
    assert_eq!(masked[0], masked[1], "{name}: ringkv vs redis-server");
}

#[test]
fn blocking_xread_is_served_by_xadd() {
    blocking_script(
        "xread",
        &["XADD s 1-1 a 1"],
        &[
            (0, "XREAD BLOCK 0 STREAMS s nokey $ 0", false),
            (1, "XADD s 2-1 b 2", true),
            (0, "", false),
            (0, "XREAD BLOCK 0 STREAMS nokey 0", false),
            (1, "XADD nokey 5-5 c 3", true),
            (0, "", false),
            (0, "XREAD COUNT 1 BLOCK 0 STREAMS s 2-1", false),
            (1, "SET s x", true),
            (1, "DEL s", true),
            (1, "XADD s 1-0 d 4 e 5", true),
            (1, "XADD s 3-0 d 4", true),
            (0, "", false),
            (0, "XREAD BLOCK 50 STREAMS s $", true),
            (0, "MULTI", true),
            (0, "XREAD BLOCK 0 STREAMS s $", true),
            (0, "EXEC", true),
            (
                0,
                "EVAL return(redis.call('xread','block','0','streams','s','$')) 0",
                true,
            ),
        ],
    );
}

#[test]
fn blocking_xreadgroup_is_served_and_fails_when_its_group_goes() {
    blocking_script(
        "xreadgroup",
        &[
            "XGROUP CREATE s g $ MKSTREAM",
            "XGROUP CREATE s2 g $ MKSTREAM",
        ],
        &[
            (0, "XREADGROUP GROUP g c1 BLOCK 0 STREAMS s >", false),
            (1, "XADD s 1-1 a 1", true),
            (0, "", false),
            (1, "XPENDING s g - + 10", true),
            (1, "XINFO CONSUMERS s g", true),
            (0, "XREADGROUP GROUP g c2 NOACK BLOCK 0 STREAMS s >", false),
            (1, "XADD s 2-1 a 2", true),
            (0, "", false),
            (1, "XPENDING s g", true),
            (0, "XREADGROUP GROUP g c1 BLOCK 0 STREAMS s >", false),
            (1, "DEL s", true),
            (0, "", false),
            (0, "XREADGROUP GROUP g c1 BLOCK 0 STREAMS s2 >", false),
            (1, "XGROUP DESTROY s2 g", true),
            (0, "", false),
            (1, "XGROUP CREATE s3 g $ MKSTREAM", true),
            (0, "XREADGROUP GROUP g c1 BLOCK 0 STREAMS s3 >", false),
            (1, "SET s3 x", true),
            (0, "", false),
            (0, "XREADGROUP GROUP g c1 STREAMS s3 >", true),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Persistence: RDB and AOF both ways with redis-server, DEBUG RELOAD, and what is propagated

/// A temporary directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("ringkv-streams-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PERSIST_KEYS: &[&str] = &["s1", "e", "big", "nums", "solo"];

/// Streams with several nodes, tombstones, integer-looking fields and values, a long value,
/// an emptied stream with counters, groups with pending entries, consumers with and without
/// them, and a group with an unknown read counter.
fn populate_streams(c: &mut common::Raw) {
    let mut lines: Vec<String> = vec![
        "XADD s1 1-1 a 1 b 2".into(),
        "XADD s1 1-2 a 3 b 4".into(),
        "XADD s1 2-0 c 5".into(),
        "XADD s1 3-0 a x b y".into(),
    ];
    for i in 4..260 {
        lines.push(format!("XADD s1 {i}-0 f {i} g v{i}"));
    }
    lines.extend(
        [
            "XDEL s1 2-0 150-0",
            "XGROUP CREATE s1 g1 0",
            "XGROUP CREATE s1 g2 $",
            "XGROUP CREATE s1 g3 10-0 ENTRIESREAD -1",
            "XREADGROUP GROUP g1 c1 COUNT 3 STREAMS s1 >",
            "XREADGROUP GROUP g1 c2 COUNT 2 STREAMS s1 >",
            "XACK s1 g1 1-1",
            "XGROUP CREATECONSUMER s1 g1 c3",
            "XCLAIM s1 g1 c3 0 1-2 TIME 1000 RETRYCOUNT 7",
            "XGROUP CREATECONSUMER s1 g2 idle",
            "XSETID s1 999-0 ENTRIESADDED 400 MAXDELETEDID 150-0",
            "XADD e 1-1 a 1",
            "XDEL e 1-1",
            "XGROUP CREATE e g $",
            "XADD nums 1-1 123 456 -7 8 0 -0",
            "XADD nums 1-2 123 9",
            "XADD solo 5-5 only one",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    lines.push(format!("XADD big 1-1 field {}", "x".repeat(5000)));
    lines.push(format!("XADD big 1-2 field {}", "ab".repeat(3000)));
    for l in &lines {
        let args = words(l);
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let r = c.cmd(&refs);
        assert!(!r.is_error(), "{l}: {r:?}");
    }
}

/// Everything observable about the streams (times masked when `mask_seen`: an AOF replay
/// creates consumers anew).
fn stream_state(port: u16, mask_seen: bool) -> Vec<Reply> {
    let mut c = common::Raw::connect(port);
    c.wait_loaded();
    let mut out = Vec::new();
    for k in PERSIST_KEYS {
        for line in [
            format!("TYPE {k}"),
            format!("XRANGE {k} - +"),
            format!("XINFO STREAM {k} FULL COUNT 0"),
            format!("XINFO GROUPS {k}"),
        ] {
            let args = words(&line);
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let mut r = c.cmd(&refs);
            mask_xinfo(&mut r);
            if mask_seen {
                mask_times(&args, &mut r);
            }
            out.push(r);
        }
    }
    out
}

fn wait_saved(c: &mut common::Raw) {
    let r = c.cmd(&[b"SAVE"]);
    assert_eq!(r, Reply::ok());
}

#[test]
fn rdb_round_trips_with_redis_both_ways() {
    // Ours → redis-server (and redis-check-rdb).
    let dir = TempDir::new("rdb-ours");
    let ours = common::Server::start(&["--dir", dir.s(), "--enable-debug-command", "yes"]);
    let mut c = ours.raw();
    populate_streams(&mut c);
    let before = stream_state(ours.port, false);
    wait_saved(&mut c);
    // DEBUG RELOAD keeps every stream as it was.
    assert_eq!(c.cmd(&[b"DEBUG", b"RELOAD"]), Reply::ok());
    assert_same_state(&stream_state(ours.port, false), &before, "DEBUG RELOAD");
    drop(c);
    drop(ours);
    let path = dir.0.join("dump.rdb");
    let check = std::process::Command::new("redis-check-rdb")
        .arg(&path)
        .output()
        .expect("redis-check-rdb runs");
    let text = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(
        check.status.success() && text.contains("RDB looks OK"),
        "{text}"
    );
    let redis = common::Server::start_redis(&["--dir", dir.s()]);
    assert_same_state(
        &stream_state(redis.port, false),
        &before,
        "redis-server loading ringkv's RDB",
    );
    drop(redis);

    // redis-server → ours.
    let dir = TempDir::new("rdb-redis");
    let redis = common::Server::start_redis(&["--dir", dir.s()]);
    let mut c = redis.raw();
    populate_streams(&mut c);
    let theirs = stream_state(redis.port, false);
    wait_saved(&mut c);
    drop(c);
    drop(redis);
    let ours = common::Server::start(&["--dir", dir.s()]);
    assert_same_state(
        &stream_state(ours.port, false),
        &theirs,
        "ringkv loading redis-server's RDB",
    );
    // And the same data, written by ringkv, is byte-for-byte what Redis wrote? Not required
    // (LZF and allocation details may differ); loading it back is.
}

#[test]
fn aof_rewrite_round_trips_with_redis_both_ways() {
    for preamble in ["no", "yes"] {
        let dir = TempDir::new("aof-ours");
        let ours = common::Server::start(&[
            "--dir",
            dir.s(),
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            preamble,
        ]);
        let mut c = ours.raw();
        populate_streams(&mut c);
        let before = stream_state(ours.port, true);
        c.cmd(&[b"BGREWRITEAOF"]);
        // More commands after the rewrite go to the new incr file.
        c.cmd_str(&[
            "XREADGROUP",
            "GROUP",
            "g1",
            "c9",
            "COUNT",
            "1",
            "STREAMS",
            "s1",
            ">",
        ]);
        let after = stream_state(ours.port, true);
        assert_ne!(before, after);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let Reply::Bulk(Some(info)) = c.cmd(&[b"INFO", b"persistence"]) else {
                panic!("INFO");
            };
            let info = String::from_utf8_lossy(&info).into_owned();
            if info.contains("aof_rewrite_in_progress:0")
                && info.contains("aof_rewrite_scheduled:0")
            {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "rewrite did not end");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(c);
        drop(ours);
        let redis = common::Server::start_redis(&["--dir", dir.s(), "--appendonly", "yes"]);
        assert_same_state(
            &stream_state(redis.port, true),
            &after,
            "redis-server loading ringkv's AOF (preamble {preamble})",
        );
        drop(redis);
        let ours = common::Server::start(&["--dir", dir.s(), "--appendonly", "yes"]);
        assert_same_state(
            &stream_state(ours.port, true),
            &after,
            "ringkv reloading its AOF",
        );
    }

    // redis-server's AOF (incr commands, then a rewrite) → ours.
    let dir = TempDir::new("aof-redis");
    let redis = common::Server::start_redis(&[
        "--dir",
        dir.s(),
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--appendfsync",
        "always",
    ]);
    let mut c = redis.raw();
    populate_streams(&mut c);
    let theirs = stream_state(redis.port, true);
    drop(c);
    drop(redis);
    let ours = common::Server::start(&["--dir", dir.s(), "--appendonly", "yes"]);
    assert_same_state(
        &stream_state(ours.port, true),
        &theirs,
        "ringkv loading redis-server's incr AOF",
    );
}

/// The commands the AOF records for stream writes are Redis's, command for command (times of
/// delivery, which are the servers' clocks, masked).
#[test]
fn propagated_effects_equal_redis() {
    let mut files = Vec::new();
    for redis in [false, true] {
        let dir = TempDir::new("prop");
        let args = [
            "--dir",
            dir.s(),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ];
        let srv = if redis {
            common::Server::start_redis(&args)
        } else {
            common::Server::start(&args)
        };
        let mut c = srv.raw();
        for l in [
            "XADD s 1-1 a 1",
            "XADD s 2-* a 2",
            "XADD s MAXLEN ~ 1 3-0 a 3",
            "XADD s MINID = 2 4-0 a 4",
            "XTRIM s MAXLEN = 10",
            "XTRIM s MAXLEN ~ 0",
            "XGROUP CREATE s g 0",
            "XREADGROUP GROUP g c1 COUNT 1 STREAMS s >",
            "XREADGROUP GROUP g c2 NOACK STREAMS s >",
            "XREADGROUP GROUP g c1 STREAMS s 0",
            "XADD s 5-0 b 1",
            "XADD s 6-0 b 1",
            "XREADGROUP GROUP g c1 STREAMS s >",
            "XDEL s 5-0",
            "XACK s g 6-0",
            "XCLAIM s g c3 0 5-0 4-0",
            "XADD s 7-0 b 1",
            "XREADGROUP GROUP g c1 STREAMS s >",
            "XCLAIM s g c3 0 7-0 TIME 1000 RETRYCOUNT 3 LASTID 9-0",
            "XCLAIM s g c3 0 1-1 LASTID 10-0",
            "XAUTOCLAIM s g c4 0 0 COUNT 5",
            "XGROUP SETID s g 1-0 ENTRIESREAD 1",
            "XGROUP CREATECONSUMER s g c5",
            "XGROUP DELCONSUMER s g c4",
            "XSETID s 20-0",
            "XGROUP DESTROY s g",
        ] {
            let a = words(l);
            let refs: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
            c.cmd(&refs);
        }
        drop(c);
        drop(srv);
        let mut cmds = Vec::new();
        for e in std::fs::read_dir(dir.0.join("appendonlydir")).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().ends_with(".incr.aof") {
                let bytes = std::fs::read(&p).unwrap();
                cmds = ringkv::persist::aof::parse_aof(&bytes).unwrap();
            }
        }
        // Delivery times are clocks; SELECT is written once by both.
        for c in &mut cmds {
            for a in c.iter_mut() {
                if a.len() == 13 && a.iter().all(u8::is_ascii_digit) {
                    *a = b"<ms>".to_vec();
                }
            }
        }
        files.push(cmds);
    }
    let show =
        |v: &Vec<Vec<Vec<u8>>>| -> Vec<String> { v.iter().map(|c| common::show_cmd(c)).collect() };
    assert_eq!(
        show(&files[0]),
        show(&files[1]),
        "ringkv's AOF vs redis-server's"
    );
}

/// Which stream writes abort a WATCHing transaction and invalidate a tracking client's cached
/// key: only those Redis 7.0 signals, compared with redis-server.
#[test]
fn watch_and_tracking_follow_redis() {
    let setup = [
        "FLUSHALL",
        "XADD s 1-1 a 1",
        "XADD s 2-1 a 1",
        "XADD s 3-1 a 1",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g c1 COUNT 1 STREAMS s >",
    ];
    let writes = [
        "XADD s 9-1 b 2",
        "XTRIM s MAXLEN 1",
        "XTRIM s MAXLEN 100",
        "XDEL s 2-1",
        "XDEL s 8-8",
        "XSETID s 99-0",
        "XGROUP CREATE s g2 0",
        "XGROUP CREATE new g $ MKSTREAM",
        "XGROUP SETID s g 0",
        "XGROUP CREATECONSUMER s g c9",
        "XGROUP DELCONSUMER s g c1",
        "XGROUP DESTROY s g",
        "XACK s g 1-1",
        "XCLAIM s g c2 0 1-1",
        "XAUTOCLAIM s g c2 0 0",
        "XREADGROUP GROUP g c1 STREAMS s >",
        "XREADGROUP GROUP g c1 STREAMS s 0",
    ];
    let ours = common::Server::start(&[]);
    let redis = common::Server::start_redis(&[]);
    let mut mismatches = Vec::new();
    // Once without and once with keyspace events (which must not invalidate by themselves).
    for (w, events) in writes.iter().flat_map(|w| [(*w, ""), (*w, "KEA")]) {
        let mut got = Vec::new();
        for srv in [&ours, &redis] {
            let mut a = srv.raw();
            let mut b = srv.raw();
            a.set_read_timeout(std::time::Duration::from_secs(5));
            for l in setup {
                let args = words(l);
                let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                a.cmd(&refs);
            }
            a.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", events]);
            // Someone listens, so the events are really published.
            let mut listener = srv.raw();
            if !events.is_empty() {
                listener.cmd_str(&["PSUBSCRIBE", "*"]);
            }
            // Tracking on `a` (RESP3, invalidations pushed on the same connection).
            a.cmd_str(&["HELLO", "3"]);
            a.cmd_str(&["CLIENT", "TRACKING", "on"]);
            a.cmd_str(&["XLEN", "s"]);
            a.cmd_str(&["XLEN", "new"]);
            a.cmd_str(&["WATCH", "s", "new"]);
            let args = words(w);
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let r = b.cmd(&refs);
            assert!(!r.is_error(), "{w}: {r:?}");
            // Invalidation pushes arrive between replies: keep everything up to EXEC's reply.
            let mut batch = common::encode(&[b"MULTI"]);
            batch.extend(common::encode(&[b"PING"]));
            batch.extend(common::encode(&[b"EXEC"]));
            a.send(&batch);
            let mut replies = Vec::new();
            let mut plain = 0;
            while plain < 3 {
                let x = a.read_reply();
                if !matches!(x, Reply::Push(_)) {
                    plain += 1;
                }
                replies.push(x);
            }
            got.push(replies);
        }
        if got[0] != got[1] {
            mismatches.push(format!(
                "{w}:\n  ours:  {:?}\n  redis: {:?}",
                got[0], got[1]
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
