//! Differential test with several concurrent clients: one ringkv and one redis-server, and
//! `DIFFTEST_CLIENTS` threads (default 4), each with its own connection to each server and its
//! own keys (`c<thread>:<n>`), sending seeded random commands of every type in pipelined
//! batches to both and comparing every reply; at the end the whole datasets are compared.
//! Keys are disjoint per thread, so the interleaving of threads cannot change any reply, but
//! both servers handle many clients' batches in the same loop turns.
//!
//! Usage: `DIFFTEST_N=1000000 DIFFTEST_SEED=7 cargo test --release --test
//! difftest_concurrent` (or `scripts/difftest N SEED`); the default runs 8,000 commands.
//!
//! Replies whose order Redis leaves unspecified (SMEMBERS, SINTER, SUNION, HGETALL, HKEYS,
//! HVALS of hash-table encodings) are compared after sorting; everything else exactly. No
//! command here depends on time or randomness on the server's side.

mod common;

use common::diff::env_or;
use common::{show_cmd, Raw, Reply, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DEFAULT_N: usize = 8_000;
const DEFAULT_CLIENTS: usize = 4;
const DEFAULT_SEED: u64 = 0x636f_6e63;
/// Commands per pipelined batch.
const BATCH: usize = 64;
/// Keys per thread: few, so that types collide (WRONGTYPE) and collections grow.
const KEYS: u32 = 12;

fn key(t: usize, rng: &mut StdRng) -> String {
    format!("c{t}:{}", rng.gen_range(0..KEYS))
}

fn member(rng: &mut StdRng) -> String {
    // Small integers too, so sets can be intsets and values integers.
    if rng.gen_bool(0.4) {
        rng.gen_range(-20..200).to_string()
    } else {
        format!("m{}", rng.gen_range(0..150))
    }
}

/// One random command for thread `t`.
fn command(t: usize, rng: &mut StdRng) -> Vec<String> {
    let k = key(t, rng);
    let m = member(rng);
    let n = rng.gen_range(-5..30i64).to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match rng.gen_range(0..40) {
        0 => s(&["SET", &k, &m]),
        1 => s(&["GET", &k]),
        2 => s(&["APPEND", &k, &m]),
        3 => s(&["INCRBY", &k, &n]),
        4 => s(&["STRLEN", &k]),
        5 => s(&["DEL", &k]),
        6 => s(&["EXISTS", &k, &key(t, rng)]),
        7 => s(&["TYPE", &k]),
        8 => s(&["OBJECT", "ENCODING", &k]),
        9 => s(&["LPUSH", &k, &m, &member(rng)]),
        10 => s(&["RPUSH", &k, &m]),
        11 => s(&["LPOP", &k]),
        12 => s(&["RPOP", &k, "2"]),
        13 => s(&["LRANGE", &k, "0", "-1"]),
        14 => s(&["LINDEX", &k, &n]),
        15 => s(&["LREM", &k, "0", &m]),
        16 => s(&["LTRIM", &k, "0", &n]),
        17 => s(&["HSET", &k, &m, &n, &member(rng), "v"]),
        18 => s(&["HGET", &k, &m]),
        19 => s(&["HDEL", &k, &m]),
        20 => s(&["HINCRBY", &k, &m, &n]),
        21 => s(&["HGETALL", &k]),
        22 => s(&["HLEN", &k]),
        23 => s(&["SADD", &k, &m, &member(rng), &member(rng)]),
        24 => s(&["SREM", &k, &m]),
        25 => s(&["SISMEMBER", &k, &m]),
        26 => s(&["SMEMBERS", &k]),
        27 => s(&["SINTER", &k, &key(t, rng)]),
        28 => s(&["SUNIONSTORE", &key(t, rng), &k, &key(t, rng)]),
        29 => s(&["SCARD", &k]),
        30 => s(&["ZADD", &k, &n, &m]),
        31 => s(&["ZINCRBY", &k, "1.5", &m]),
        32 => s(&["ZREM", &k, &m]),
        33 => s(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
        34 => s(&["ZRANGEBYSCORE", &k, "-inf", &n, "LIMIT", "0", "5"]),
        35 => s(&["ZRANK", &k, &m]),
        36 => s(&["ZPOPMIN", &k]),
        37 => s(&["ZCARD", &k]),
        38 => s(&["RENAME", &k, &key(t, rng)]),
        _ => s(&["COPY", &k, &key(t, rng), "REPLACE"]),
    }
}

/// Replies of commands whose element order Redis does not specify, made comparable.
fn normalise(cmd: &[String], r: Reply) -> Reply {
    let name = cmd[0].to_ascii_uppercase();
    let sort = |mut v: Vec<Reply>| {
        v.sort_by_key(|x| format!("{x:?}"));
        v
    };
    match (name.as_str(), r) {
        ("SMEMBERS" | "SINTER", Reply::Array(Some(v))) => Reply::Array(Some(sort(v))),
        ("HGETALL", Reply::Array(Some(v))) => {
            let mut pairs: Vec<Vec<Reply>> = v.chunks(2).map(|c| c.to_vec()).collect();
            pairs.sort_by_key(|p| format!("{p:?}"));
            Reply::Array(Some(pairs.into_iter().flatten().collect()))
        }
        (_, r) => r,
    }
}

/// The thread's keys and a canonical view of their contents, for the final comparison.
fn dataset(c: &mut Raw, t: usize) -> Vec<(String, Reply, Reply)> {
    let mut out = Vec::new();
    for i in 0..KEYS {
        let k = format!("c{t}:{i}");
        let ty = c.cmd_str(&["TYPE", &k]);
        let body = match &ty {
            Reply::Status(s) if s == "string" => c.cmd_str(&["GET", &k]),
            Reply::Status(s) if s == "list" => c.cmd_str(&["LRANGE", &k, "0", "-1"]),
            Reply::Status(s) if s == "hash" => {
                normalise(&["HGETALL".into()], c.cmd_str(&["HGETALL", &k]))
            }
            Reply::Status(s) if s == "set" => {
                normalise(&["SMEMBERS".into()], c.cmd_str(&["SMEMBERS", &k]))
            }
            Reply::Status(s) if s == "zset" => c.cmd_str(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
            _ => Reply::Null,
        };
        out.push((k, ty, body));
    }
    out
}

fn run_thread(t: usize, n: usize, seed: u64, ours_port: u16, redis_port: u16) {
    let mut rng = StdRng::seed_from_u64(seed ^ (t as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut ours = Raw::connect(ours_port);
    let mut redis = Raw::connect(redis_port);
    let mut done = 0;
    while done < n {
        let batch: Vec<Vec<String>> = (0..BATCH.min(n - done))
            .map(|_| command(t, &mut rng))
            .collect();
        let args: Vec<Vec<Vec<u8>>> = batch
            .iter()
            .map(|c| c.iter().map(|a| a.as_bytes().to_vec()).collect())
            .collect();
        let a = ours.pipeline(&args);
        let b = redis.pipeline(&args);
        for (i, ((cmd, x), y)) in batch.iter().zip(a).zip(b).enumerate() {
            let (x, y) = (normalise(cmd, x), normalise(cmd, y));
            assert_eq!(
                x,
                y,
                "difftest_concurrent: seed {seed} (DIFFTEST_SEED), thread {t}, command {} of \
                 the thread: {}\n  ours:  {x:?}\n  redis: {y:?}",
                done + i,
                show_cmd(&args[i])
            );
        }
        done += batch.len();
    }
    assert_eq!(
        dataset(&mut ours, t),
        dataset(&mut redis, t),
        "difftest_concurrent: seed {seed}, thread {t}: final datasets differ"
    );
}

#[test]
fn concurrent_clients_agree_with_redis() {
    let n: usize = env_or("DIFFTEST_N", DEFAULT_N);
    let seed: u64 = env_or("DIFFTEST_SEED", DEFAULT_SEED);
    let clients: usize = env_or("DIFFTEST_CLIENTS", DEFAULT_CLIENTS).max(1);
    println!("difftest_concurrent: seed {seed}, {n} commands, {clients} clients");
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let (op, rp) = (ours.addr().1, redis.addr().1);
    let per = n.div_ceil(clients);
    let handles: Vec<_> = (0..clients)
        .map(|t| std::thread::spawn(move || run_thread(t, per, seed, op, rp)))
        .collect();
    for h in handles {
        if let Err(e) = h.join() {
            std::panic::resume_unwind(e);
        }
    }
    // Same dataset size on both (each thread compared its own keys).
    let mut o = ours.raw();
    let mut r = redis.raw();
    assert_eq!(o.cmd_str(&["DBSIZE"]), r.cmd_str(&["DBSIZE"]));
    println!(
        "difftest_concurrent: seed {seed}: {} commands agreed",
        per * clients
    );
}
