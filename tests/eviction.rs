//! Eviction under maxmemory, end to end: every policy's choice of victims, the OOM error when
//! nothing is evictable, a limit lowered below the current use, WATCH, eviction while a
//! snapshot runs, and the AOF an evicting server writes — each scenario run against ringkv
//! and, where it is on PATH, against redis-server 7.0 with the same expectations.

mod common;

use common::files::TempDir;

use common::diff::{assert_same, dump, text};
use common::{Reply, Server};
use std::time::{Duration, Instant};

fn int(r: Reply) -> i64 {
    match r {
        Reply::Int(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn ok(r: Reply) {
    assert!(!r.is_error(), "{r:?}");
}

fn have_redis() -> bool {
    std::process::Command::new(common::redis_bin())
        .arg("--version")
        .output()
        .is_ok()
}

/// ringkv, then redis-server if it is installed.
fn servers(args: &[&str]) -> Vec<Server> {
    let mut v = vec![Server::start(args)];
    if have_redis() {
        v.push(Server::start_redis(args));
    }
    v
}

fn used_memory(c: &mut common::Raw) -> i64 {
    c.info_int("memory", "used_memory")
}

/// Writes `n` keys `prefix:i` with 100-byte values, pipelined in batches small enough that
/// the connection's buffers stay small next to the data; `ex` gives each a TTL of `ex(i)`
/// seconds.
fn fill(c: &mut common::Raw, prefix: &str, n: usize, ex: Option<&dyn Fn(usize) -> u64>) {
    let value = "v".repeat(100);
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let mut out = Vec::new();
        for &i in chunk {
            let key = format!("{prefix}:{i}");
            match ex {
                Some(f) => common::encode_into(
                    &mut out,
                    &[
                        b"SET",
                        key.as_bytes(),
                        value.as_bytes(),
                        b"EX",
                        f(i).to_string().as_bytes(),
                    ],
                ),
                None => common::encode_into(&mut out, &[b"SET", key.as_bytes(), value.as_bytes()]),
            }
        }
        c.send(&out);
        for _ in chunk {
            ok(c.read_reply());
        }
    }
}

/// How many of `prefix:0..n` still exist.
fn surviving(c: &mut common::Raw, prefix: &str, n: usize) -> Vec<bool> {
    let mut out = Vec::new();
    for i in 0..n {
        common::encode_into(&mut out, &[b"EXISTS", format!("{prefix}:{i}").as_bytes()]);
    }
    c.send(&out);
    (0..n).map(|_| int(c.read_reply()) == 1).collect()
}

fn count(v: &[bool]) -> usize {
    v.iter().filter(|&&b| b).count()
}

/// Sets maxmemory so that `fraction` of the memory the data took (above `base`) must go,
/// waits until eviction is done, and lifts the limit again so that the checks that follow
/// (whose own buffers take memory) evict nothing more.
fn squeeze(c: &mut common::Raw, base: i64, fraction: f64) {
    let used = used_memory(c);
    let limit = used - ((used - base) as f64 * fraction) as i64;
    ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", &limit.to_string()]));
    settle(c, limit);
    ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]));
}

/// Waits (bounded) until used memory is within `limit`, sending commands that each run an
/// eviction pass.
fn settle(c: &mut common::Raw, limit: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while used_memory(c) > limit + 8192 {
        assert!(Instant::now() < deadline, "memory never went under {limit}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl_then_refuse() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        for s in servers(&["--maxmemory-policy", policy]) {
            let mut c = s.raw();
            let base = used_memory(&mut c);
            fill(&mut c, "p", 2000, None);
            fill(&mut c, "t", 2000, Some(&|_| 10_000));
            squeeze(&mut c, base, 0.25);
            let p = surviving(&mut c, "p", 2000);
            let t = surviving(&mut c, "t", 2000);
            assert_eq!(
                count(&p),
                2000,
                "{policy} on {}: a key without TTL went",
                s.bin
            );
            assert!(count(&t) < 2000, "{policy} on {}: nothing evicted", s.bin);
            assert!(c.info_int("stats", "evicted_keys") > 0);
            // A limit below what the keys without TTL take: every volatile key goes, then
            // writes are refused and reads still served.
            ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", &(base + 1000).to_string()]));
            // Passes are time-limited (a write is accepted while one is still running), so
            // the refusal comes once a pass finds nothing left to evict.
            let deadline = Instant::now() + Duration::from_secs(10);
            let r = loop {
                let r = c.cmd_str(&["SET", "new", "x"]);
                if r.is_error() || Instant::now() > deadline {
                    break r;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            assert_eq!(
                text(&r),
                "-OOM command not allowed when used memory > 'maxmemory'.",
                "{policy} on {}",
                s.bin
            );
            assert_eq!(count(&surviving(&mut c, "t", 2000)), 0, "{policy}");
            assert_eq!(count(&surviving(&mut c, "p", 2000)), 2000, "{policy}");
            assert_eq!(text(&c.cmd_str(&["GET", "p:1"])), "v".repeat(100));
            // Commands that do not grow memory still run.
            ok(c.cmd_str(&["DEL", "p:1"]));
        }
    }
}

#[test]
fn volatile_ttl_evicts_the_nearest_deadlines_first() {
    for s in servers(&["--maxmemory-policy", "volatile-ttl"]) {
        let mut c = s.raw();
        let base = used_memory(&mut c);
        // Deadlines in a shuffled order, so insertion order says nothing.
        let ttl = |i: usize| 1000 + ((i * 7919) % 3000) as u64;
        fill(&mut c, "t", 3000, Some(&ttl));
        squeeze(&mut c, base, 0.3);
        let alive = surviving(&mut c, "t", 3000);
        let gone_max = (0..3000).filter(|&i| !alive[i]).map(ttl).max().unwrap();
        let alive_min = (0..3000).filter(|&i| alive[i]).map(ttl).min().unwrap();
        if s.bin.contains("redis-server") {
            // Redis samples: most, not all, of the nearest deadlines go first.
            let gone: Vec<u64> = (0..3000).filter(|&i| !alive[i]).map(ttl).collect();
            let mean = gone.iter().sum::<u64>() / gone.len() as u64;
            assert!(mean < 1800, "redis-server mean TTL of evicted keys {mean}");
        } else {
            assert!(
                gone_max < alive_min,
                "an evicted key's TTL {gone_max} is after a surviving one's {alive_min}"
            );
        }
    }
}

/// Fills `stale:*` and `fresh:*` (with TTLs under the volatile policies), lets `between`
/// make the fresh side the one the policy keeps, squeezes 30% of the data out and returns
/// how many of each side went.
fn evicted_split(
    s: &Server,
    policy: &str,
    between: impl Fn(&mut common::Raw),
    after: impl Fn(&mut common::Raw),
) -> (usize, usize) {
    let mut c = s.raw();
    let base = used_memory(&mut c);
    let ex = |_| 100_000;
    let ex: Option<&dyn Fn(usize) -> u64> = if policy.starts_with("volatile") {
        Some(&ex)
    } else {
        None
    };
    fill(&mut c, "stale", 2000, ex);
    between(&mut c);
    fill(&mut c, "fresh", 2000, ex);
    after(&mut c);
    squeeze(&mut c, base, 0.3);
    let stale = 2000 - count(&surviving(&mut c, "stale", 2000));
    let fresh = 2000 - count(&surviving(&mut c, "fresh", 2000));
    (stale, fresh)
}

#[test]
fn lru_evicts_the_least_recently_used_side() {
    for policy in ["allkeys-lru", "volatile-lru"] {
        for s in servers(&["--maxmemory-policy", policy]) {
            // The LRU clock counts seconds, in ringkv as in Redis.
            let (old, new) = evicted_split(
                &s,
                policy,
                |_| std::thread::sleep(Duration::from_millis(2100)),
                |_| {},
            );
            assert!(
                old > 0 && new * 10 < old + new,
                "{policy} on {}: evicted {old} old, {new} new",
                s.bin
            );
        }
    }
}

#[test]
fn lfu_evicts_the_least_frequently_used_side() {
    for policy in ["allkeys-lfu", "volatile-lfu"] {
        for s in servers(&["--maxmemory-policy", policy]) {
            // Ten reads of every fresh key make it the frequently used side.
            let read_fresh = |c: &mut common::Raw| {
                for _ in 0..10 {
                    let mut out = Vec::new();
                    for i in 0..2000 {
                        common::encode_into(&mut out, &[b"GET", format!("fresh:{i}").as_bytes()]);
                    }
                    c.send(&out);
                    for _ in 0..2000 {
                        c.read_reply();
                    }
                }
            };
            let (cold, hot) = evicted_split(&s, policy, |_| {}, read_fresh);
            // The squeeze counts the connection's buffers too (the 2,000-GET pipelines grew
            // them), so it may evict more keys than the 2,000 cold ones: those extra ones
            // must come from the hot side and do not count against the policy.
            let forced = (cold + hot).saturating_sub(2000);
            assert!(
                cold > 0 && (hot - forced) * 10 < cold + hot,
                "{policy} on {}: evicted {cold} cold, {hot} hot",
                s.bin
            );
        }
    }
}

#[test]
fn allkeys_random_takes_from_both_sides_and_noeviction_refuses() {
    for s in servers(&["--maxmemory-policy", "allkeys-random"]) {
        let mut c = s.raw();
        let base = used_memory(&mut c);
        fill(&mut c, "a", 2000, None);
        fill(&mut c, "b", 2000, Some(&|_| 100_000));
        squeeze(&mut c, base, 0.4);
        let a = 2000 - count(&surviving(&mut c, "a", 2000));
        let b = 2000 - count(&surviving(&mut c, "b", 2000));
        assert!(a > 200 && b > 200, "{}: evicted {a} and {b}", s.bin);
    }
    for s in servers(&["--maxmemory-policy", "noeviction"]) {
        let mut c = s.raw();
        let base = used_memory(&mut c);
        fill(&mut c, "a", 1000, None);
        ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", &(base + 1000).to_string()]));
        assert_eq!(
            text(&c.cmd_str(&["SET", "x", "y"])),
            "-OOM command not allowed when used memory > 'maxmemory'."
        );
        assert_eq!(count(&surviving(&mut c, "a", 1000)), 1000);
        assert_eq!(c.info_int("stats", "evicted_keys"), 0);
    }
}

#[test]
fn lowering_maxmemory_evicts_in_bounded_steps_while_serving() {
    let s = Server::start(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = s.raw();
    let base = used_memory(&mut c);
    fill(&mut c, "k", 100_000, None);
    let limit = base + (used_memory(&mut c) - base) / 10;
    ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", &limit.to_string()]));
    // The eviction runs in passes of maxmemory-eviction-tenacity's time: a client is
    // answered before it is done.
    let mut c2 = s.raw();
    assert_eq!(text(&c2.cmd_str(&["PING"])), "PONG");
    let first = c2.info_int("stats", "evicted_keys");
    assert!(first < 90_000, "all evicted in one pass: {first}");
    let mut seen_progress = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let used = used_memory(&mut c2);
        let evicted = c2.info_int("stats", "evicted_keys");
        seen_progress |= evicted > first;
        // INFO's own reply is allocated while it reads used_memory, after the eviction
        // that ran before it: a few KB of slack.
        if used <= limit + 8192 {
            break;
        }
        assert!(Instant::now() < deadline, "stuck at {used} > {limit}");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(seen_progress);
    assert!(c2.info_int("stats", "total_eviction_exceeded_time") >= 0);
    assert_eq!(c2.info_int("stats", "current_eviction_exceeded_time"), 0);
    // Writes go on under the new limit, each evicting what it needs.
    fill(&mut c2, "after", 5000, None);
    assert!(used_memory(&mut c2) <= limit + 64 * 1024);
}

#[test]
fn an_evicted_key_aborts_a_watching_transaction() {
    for s in servers(&["--maxmemory-policy", "allkeys-random"]) {
        let mut c = s.raw();
        let base = used_memory(&mut c);
        fill(&mut c, "w", 1, None);
        ok(c.cmd_str(&["WATCH", "w:0"]));
        let mut other = s.raw();
        ok(other.cmd_str(&["CONFIG", "SET", "maxmemory", &(base + 1000).to_string()]));
        // Everything goes: w:0 with it.
        ok(other.cmd_str(&["PING"]));
        assert_eq!(int(other.cmd_str(&["EXISTS", "w:0"])), 0, "{}", s.bin);
        ok(other.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]));
        ok(c.cmd_str(&["MULTI"]));
        c.cmd_str(&["SET", "w:0", "x"]);
        assert_eq!(c.cmd_str(&["EXEC"]), Reply::Array(None), "{}", s.bin);
    }
}

#[test]
fn object_freq_and_idletime_answer_as_redis() {
    let mut answers = Vec::new();
    for s in servers(&[]) {
        let mut c = s.raw();
        let mut got = Vec::new();
        ok(c.cmd_str(&["SET", "k", "v"]));
        got.push(format!("{:?}", c.cmd_str(&["OBJECT", "FREQ", "k"])));
        // Just written: 0, or 1 where the server's one-second clock ticked in between
        // (redis-server's cached clock does so on a loaded machine).
        let idle = int(c.cmd_str(&["OBJECT", "IDLETIME", "k"]));
        assert!((0..=1).contains(&idle), "{idle}");
        ok(c.cmd_str(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]));
        ok(c.cmd_str(&["CONFIG", "SET", "lfu-log-factor", "0"]));
        ok(c.cmd_str(&["SET", "f", "v"]));
        got.push(format!("{:?}", c.cmd_str(&["OBJECT", "FREQ", "f"])));
        for _ in 0..7 {
            c.cmd_str(&["GET", "f"]);
        }
        // Factor 0: every access counts; OBJECT itself does not.
        got.push(format!("{:?}", c.cmd_str(&["OBJECT", "FREQ", "f"])));
        got.push(format!("{:?}", c.cmd_str(&["OBJECT", "FREQ", "f"])));
        c.cmd_str(&["TOUCH", "f"]);
        got.push(format!("{:?}", c.cmd_str(&["OBJECT", "FREQ", "f"])));
        got.push(format!("{:?}", c.cmd_str(&["OBJECT", "IDLETIME", "f"])));
        ok(c.cmd_str(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]));
        ok(c.cmd_str(&["SET", "i", "v"]));
        std::thread::sleep(Duration::from_millis(2100));
        let idle = int(c.cmd_str(&["OBJECT", "IDLETIME", "i"]));
        assert!((2..=3).contains(&idle), "{idle}");
        c.cmd_str(&["TOUCH", "i"]);
        got.push(format!("{:?}", c.cmd_str(&["OBJECT", "IDLETIME", "i"])));
        answers.push(got);
    }
    if answers.len() == 2 {
        assert_eq!(answers[0], answers[1]);
    }
    assert_eq!(answers[0][1], ":5");
    assert_eq!(answers[0][2], ":12");
}

#[test]
fn eviction_during_bgsave_keeps_the_snapshot_whole() {
    let s = Server::start(&[
        "--maxmemory-policy",
        "allkeys-random",
        "--enable-debug-command",
        "yes",
    ]);
    let mut c = s.raw();
    let base = used_memory(&mut c);
    fill(&mut c, "k", 50_000, None);
    let digest = text(&c.cmd_str(&["DEBUG", "DIGEST"]));
    let dbsize = int(c.cmd_str(&["DBSIZE"]));
    ok(c.cmd_str(&["BGSAVE"]));
    // Evict most of it while the snapshot is taken, and keep writing.
    let limit = base + (used_memory(&mut c) - base) / 4;
    ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", &limit.to_string()]));
    fill(&mut c, "more", 5000, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while c.info_int("persistence", "rdb_bgsave_in_progress") == 1 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(c.info_int("stats", "evicted_keys") > 0);
    assert!(int(c.cmd_str(&["DBSIZE"])) < dbsize);
    // The file holds the data as it was when BGSAVE started.
    ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]));
    ok(c.cmd_str(&["DEBUG", "RELOAD", "NOSAVE"]));
    assert_eq!(int(c.cmd_str(&["DBSIZE"])), dbsize);
    assert_eq!(text(&c.cmd_str(&["DEBUG", "DIGEST"])), digest);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn aof_after_evictions_loads_the_same_in_both_servers() {
    for lazy in ["no", "yes"] {
        let dir = TempDir::new(&format!("aof-{lazy}"));
        let before = {
            let s = Server::start(&[
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                dir.s(),
                "--maxmemory-policy",
                "allkeys-lru",
                "--lazyfree-lazy-eviction",
                lazy,
            ]);
            let mut c = s.raw();
            let base = used_memory(&mut c);
            fill(&mut c, "a", 3000, None);
            ok(c.cmd_str(&["SELECT", "3"]));
            fill(&mut c, "b", 3000, Some(&|_| 100_000));
            let limit = base + (used_memory(&mut c) - base) / 2;
            ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", &limit.to_string()]));
            fill(&mut c, "c", 3000, None);
            assert!(c.info_int("stats", "evicted_keys") > 3000);
            ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]));
            dump(s.port)
        };
        let incr = std::fs::read_dir(dir.0.join("appendonlydir"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
            .unwrap();
        let bytes = String::from_utf8_lossy(&std::fs::read(incr).unwrap()).to_string();
        let verb = if lazy == "yes" { "UNLINK" } else { "DEL" };
        assert!(
            bytes.contains(&format!("${}\r\n{verb}\r\n", verb.len())),
            "no {verb} in the AOF"
        );
        let ours = TempDir::new(&format!("aof-ours-{lazy}"));
        copy_dir(&dir.0.join("appendonlydir"), &ours.0.join("appendonlydir"));
        let s = Server::start(&["--appendonly", "yes", "--dir", ours.s()]);
        assert_same(&before, &dump(s.port), "ringkv loading its AOF");
        if have_redis() {
            let theirs = TempDir::new(&format!("aof-redis-{lazy}"));
            copy_dir(
                &dir.0.join("appendonlydir"),
                &theirs.0.join("appendonlydir"),
            );
            let r = Server::start_redis(&["--appendonly", "yes", "--dir", theirs.s()]);
            assert_same(&before, &dump(r.port), "redis-server loading ringkv's AOF");
        }
    }
}

#[test]
fn config_round_trips_like_redis() {
    let mut answers = Vec::new();
    for s in servers(&[]) {
        let mut c = s.raw();
        let mut got = Vec::new();
        for (k, v) in [
            ("maxmemory-samples", "10"),
            ("maxmemory-samples", "0"),
            ("maxmemory-eviction-tenacity", "100"),
            ("maxmemory-eviction-tenacity", "101"),
            ("lazyfree-lazy-eviction", "yes"),
            ("lazyfree-lazy-eviction", "maybe"),
            ("maxmemory-clients", "10%"),
            ("maxmemory-clients", "101%"),
            ("maxmemory-clients", "-5"),
            ("maxmemory-policy", "volatile-ttl"),
            ("maxmemory-policy", "lru"),
            ("lfu-decay-time", "5"),
        ] {
            got.push(format!("{:?}", c.cmd_str(&["CONFIG", "SET", k, v])));
            got.push(format!("{:?}", c.cmd_str(&["CONFIG", "GET", k])));
        }
        answers.push(got);
    }
    assert_eq!(answers[0][0], format!("{:?}", Reply::ok()));
    if answers.len() == 2 {
        assert_eq!(answers[0], answers[1]);
    }
}

#[test]
fn eviction_during_an_aof_rewrite_keeps_the_aof_whole() {
    let dir = TempDir::new("rewrite");
    let before = {
        let s = Server::start_bin_env(
            &common::ringkv_bin(),
            &[
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                dir.s(),
                "--hz",
                "100",
                "--maxmemory-policy",
                "allkeys-lru",
            ],
            // A slow rewrite (a few keys a turn), so that eviction runs while it walks.
            &[("RINGKV_AOF_REWRITE_SLICE_KEYS", "3")],
        );
        let mut c = s.raw();
        let base = used_memory(&mut c);
        fill(&mut c, "k", 5000, None);
        ok(c.cmd_str(&["BGREWRITEAOF"]));
        assert_eq!(c.info_int("persistence", "aof_rewrite_in_progress"), 1);
        let limit = base + (used_memory(&mut c) - base) / 3;
        ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", &limit.to_string()]));
        fill(&mut c, "more", 2000, None);
        assert!(c.info_int("stats", "evicted_keys") > 0);
        assert_eq!(
            c.info_int("persistence", "aof_rewrite_in_progress"),
            1,
            "the rewrite ended before the evictions: the test proves nothing"
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while c.info_int("persistence", "aof_rewrite_in_progress") == 1 {
            assert!(Instant::now() < deadline, "rewrite did not finish");
            std::thread::sleep(Duration::from_millis(10));
        }
        ok(c.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]));
        dump(s.port)
    };
    // The new base plus the incr file written meanwhile give the live data exactly.
    let copy = TempDir::new("rewrite-load");
    copy_dir(&dir.0.join("appendonlydir"), &copy.0.join("appendonlydir"));
    let s = Server::start(&["--appendonly", "yes", "--dir", copy.s()]);
    assert_same(&before, &dump(s.port), "ringkv loading the rewritten AOF");
    if have_redis() {
        let theirs = TempDir::new("rewrite-redis");
        copy_dir(
            &dir.0.join("appendonlydir"),
            &theirs.0.join("appendonlydir"),
        );
        let r = Server::start_redis(&["--appendonly", "yes", "--dir", theirs.s()]);
        assert_same(
            &before,
            &dump(r.port),
            "redis-server loading the rewritten AOF",
        );
    }
}
