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
