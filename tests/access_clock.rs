//! How many times each command touches a key's access clock, compared with redis-server 7.0.
//!
//! Under an LFU policy with `lfu-log-factor 0` every touch raises a key's counter by exactly
//! one, so `OBJECT FREQ` before and after a command counts its touches deterministically. The
//! counts matter because LFU eviction and `redis-cli --hotkeys` rank keys by them: a command
//! that looks a key up twice where Redis looks it up once makes that key look twice as hot.
//!
//! Values are never small integers: redis-server shares one object for them, so their counter
//! would be shared between keys there.

mod common;

use common::{Raw, Reply, Server};

/// (setup commands, the command measured, the key whose counter is compared).
const CASES: &[(&[&str], &str, &str)] = &[
    // Creation: a new key starts at LFU_INIT_VAL (5) with no extra touch.
    (&[], "SET k v", "k"),
    (&[], "ZADD z 1 a", "z"),
    (&[], "ZINCRBY z 1 a", "z"),
    (&[], "XADD x 1-1 a v", "x"),
    (&[], "XGROUP CREATE x g $ MKSTREAM", "x"),
    (&[], "GEOADD g 1 1 a", "g"),
    (&[], "SADD s a", "s"),
    (&[], "HSET h a v", "h"),
    (&[], "RPUSH l a", "l"),
    (&[], "PFADD p a", "p"),
    (&[], "SETBIT b 1 1", "b"),
    // Strings.
    (&["SET k v"], "GET k", "k"),
    (&["SET k v"], "SET k w", "k"),
    (&["SET k v"], "SET k w NX", "k"),
    (&["SET k v"], "SET k w GET", "k"),
    (&["SET k v"], "SETNX k w", "k"),
    (&["SET k v"], "MSETNX k w", "k"),
    (&["SET k v"], "GETSET k w", "k"),
    (&["SET k v"], "APPEND k w", "k"),
    (&["SET k v"], "LCS k k", "k"),
    (&["SET k v"], "BITOP OR d k", "k"),
    (&["SET k v"], "COPY k d", "k"),
    (&["SET k v"], "TYPE k", "k"),
    (&["SET k v"], "TTL k", "k"),
    (&["SET k v"], "EXISTS k", "k"),
    (&["SET k v"], "TOUCH k", "k"),
    (&["SET k v"], "OBJECT ENCODING k", "k"),
    (&["SET k v"], "RENAME k d", "d"),
    // Lists.
    (&["RPUSH l a b c"], "LRANGE l 0 -1", "l"),
    (&["RPUSH l a b c"], "RPOPLPUSH l m", "l"),
    (&["RPUSH l a b c"], "RPOPLPUSH l m", "m"),
    (&["RPUSH l a b c", "RPUSH m x"], "RPOPLPUSH l m", "m"),
    (&["RPUSH l a b c"], "LMOVE l l LEFT RIGHT", "l"),
    (&["RPUSH l a b c"], "LINSERT l BEFORE a b", "l"),
    (&["RPUSH l a b c"], "BLPOP l 0", "l"),
    (&["RPUSH l a b c"], "SORT l ALPHA STORE d", "l"),
    // Sets.
    (&["SADD s a b"], "SMEMBERS s", "s"),
    (&["SADD s a b"], "SINTER s", "s"),
    (&["SADD s a b"], "SUNION s", "s"),
    (&["SADD s a b"], "SDIFF s", "s"),
    (&["SADD s a b"], "SINTERSTORE d s", "s"),
    (&["SADD s a b"], "SUNIONSTORE d s", "s"),
    (&["SADD s a b"], "SDIFFSTORE d s", "s"),
    (&["SADD s a b"], "SINTERCARD 1 s", "s"),
    (&["SADD s a b"], "SMOVE s t a", "s"),
    (&["SADD s a b", "SADD t c"], "SMOVE s t a", "t"),
    (&["SADD s a b"], "SSCAN s 0", "s"),
    (&["SADD s a b"], "SISMEMBER s a", "s"),
    (&["SADD s a b"], "SRANDMEMBER s 0", "s"),
    // Sorted sets.
    (&["ZADD z 1 a 2 b"], "ZADD z 3 c", "z"),
    (&["ZADD z 1 a 2 b"], "ZINCRBY z 1 a", "z"),
    (&["ZADD z 1 a 2 b"], "ZRANGE z 0 -1", "z"),
    (&["ZADD z 1 a 2 b"], "ZSCORE z a", "z"),
    (&["ZADD z 1 a 2 b"], "ZUNIONSTORE d 1 z", "z"),
    (&["ZADD z 1 a 2 b"], "ZINTERSTORE d 1 z", "z"),
    (&["ZADD z 1 a 2 b"], "ZDIFFSTORE d 1 z", "z"),
    (&["ZADD z 1 a 2 b"], "ZUNION 1 z", "z"),
    (&["ZADD z 1 a 2 b"], "ZINTER 1 z", "z"),
    (&["ZADD z 1 a 2 b"], "ZDIFF 1 z", "z"),
    (&["ZADD z 1 a 2 b"], "ZINTERCARD 1 z", "z"),
    (&["ZADD z 1 a 2 b"], "ZRANGESTORE d z 0 -1", "z"),
    (&["ZADD z 1 a 2 b"], "ZSCAN z 0", "z"),
    (&["ZADD z 1 a 2 b"], "ZPOPMIN z", "z"),
    (&["ZADD z 1 a 2 b"], "BZPOPMIN z 0", "z"),
    (&["ZADD z 1 a 2 b"], "ZMPOP 1 z MIN", "z"),
    // Geo.
    (&["GEOADD g 1 1 a"], "GEOADD g 2 2 b", "g"),
    (&["GEOADD g 1 1 a"], "GEODIST g a a", "g"),
    (&["GEOADD g 1 1 a"], "GEORADIUS g 1 1 10 km", "g"),
    (&["GEOADD g 1 1 a"], "GEORADIUS g 1 1 10 km STORE d", "g"),
    (&["GEOADD g 1 1 a"], "GEORADIUSBYMEMBER g a 10 km", "g"),
    (
        &["GEOADD g 1 1 a"],
        "GEOSEARCH g FROMLONLAT 1 1 BYRADIUS 10 km",
        "g",
    ),
    (
        &["GEOADD g 1 1 a"],
        "GEOSEARCHSTORE d g FROMMEMBER a BYRADIUS 10 km",
        "g",
    ),
    // Streams.
    (&["XADD x 1-1 a v"], "XADD x 1-2 a v", "x"),
    (&["XADD x 1-1 a v"], "XRANGE x - +", "x"),
    (&["XADD x 1-1 a v"], "XREAD STREAMS x 0", "x"),
    (&["XADD x 1-1 a v"], "XLEN x", "x"),
    (&["XADD x 1-1 a v"], "XDEL x 1-1", "x"),
    (&["XADD x 1-1 a v"], "XTRIM x MAXLEN 0", "x"),
    (&["XADD x 1-1 a v"], "XSETID x 5-5", "x"),
    (&["XADD x 1-1 a v"], "XGROUP CREATE x g 0", "x"),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XREADGROUP GROUP g c STREAMS x >",
        "x",
    ),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XREADGROUP GROUP g c STREAMS x 0",
        "x",
    ),
    (
        &[
            "XADD x 1-1 a v",
            "XGROUP CREATE x g 0",
            "XREADGROUP GROUP g c STREAMS x >",
        ],
        "XACK x g 1-1",
        "x",
    ),
    (
        &[
            "XADD x 1-1 a v",
            "XGROUP CREATE x g 0",
            "XREADGROUP GROUP g c STREAMS x >",
        ],
        "XCLAIM x g d 0 1-1",
        "x",
    ),
    (
        &[
            "XADD x 1-1 a v",
            "XGROUP CREATE x g 0",
            "XREADGROUP GROUP g c STREAMS x >",
        ],
        "XAUTOCLAIM x g d 0 0",
        "x",
    ),
    (
        &[
            "XADD x 1-1 a v",
            "XGROUP CREATE x g 0",
            "XREADGROUP GROUP g c STREAMS x >",
        ],
        "XPENDING x g - + 10",
        "x",
    ),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XINFO STREAM x",
        "x",
    ),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XINFO STREAM x FULL",
        "x",
    ),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XINFO GROUPS x",
        "x",
    ),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XINFO CONSUMERS x g",
        "x",
    ),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XGROUP SETID x g 0",
        "x",
    ),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XGROUP DESTROY x g",
        "x",
    ),
    (
        &["XADD x 1-1 a v", "XGROUP CREATE x g 0"],
        "XGROUP CREATECONSUMER x g c",
        "x",
    ),
    (
        &[
            "XADD x 1-1 a v",
            "XGROUP CREATE x g 0",
            "XGROUP CREATECONSUMER x g c",
        ],
        "XGROUP DELCONSUMER x g c",
        "x",
    ),
    // Blocking forms served at once.
    (&["ZADD z 1 a 2 b"], "BZMPOP 0 1 z MIN", "z"),
    (&["ZADD z 1 a 2 b"], "BZPOPMAX z 0", "z"),
    (&["RPUSH l a b c"], "BLMPOP 0 1 l LEFT", "l"),
    (&["RPUSH l a b c"], "BRPOPLPUSH l m 0", "l"),
    (
        &["RPUSH l a b c", "RPUSH m x"],
        "BLMOVE l m LEFT LEFT 0",
        "m",
    ),
    (&["RPUSH l a b c"], "LMPOP 1 l LEFT", "l"),
    (&["XADD x 1-1 a v"], "XREAD BLOCK 0 STREAMS x 0", "x"),
    // Keys.
    (&["SET k v"], "RENAMENX k d", "d"),
    (&["SET k v"], "MOVE k 1", "k"),
    (&["SET k v"], "DUMP k", "k"),
    (&["SET k v"], "GETEX k PERSIST", "k"),
    (&["SET k v"], "SETRANGE k 1 w", "k"),
    (&["SET k v"], "BITFIELD k SET u8 0 1", "k"),
    (&["SET k v"], "EXPIRE k 100", "k"),
    (&["RPUSH l b a"], "SORT_RO l ALPHA", "l"),
    (
        &["RPUSH l b a", "SET w_a 1.5", "SET w_b 2.5"],
        "SORT l BY w_* GET w_*",
        "w_a",
    ),
    (&["RPUSH l b a"], "SORT l BY nosort", "l"),
    (
        &["SET k v"],
        "EVAL return(redis.call('get',KEYS[1])) 1 k",
        "k",
    ),
    // Hashes, HyperLogLogs, scripts.
    (&["HSET h a v"], "HGETALL h", "h"),
    (&["HSET h a v"], "HINCRBYFLOAT h n 1.5", "h"),
    (&["HSET h a v"], "HSETNX h a w", "h"),
    (&["HSET h a v"], "HRANDFIELD h 2", "h"),
    (&["HSET h a v"], "HSCAN h 0", "h"),
    (&["PFADD p a"], "PFCOUNT p", "p"),
    (&["PFADD p a"], "PFMERGE d p", "p"),
    (&["PFADD p a"], "PFADD p b", "p"),
    (&["PFADD p a"], "PFMERGE p p", "p"),
    (&["PFADD p a", "PFADD q b"], "PFCOUNT p q", "p"),
];

fn run(c: &mut Raw, line: &str) -> Reply {
    let args: Vec<&str> = line.split_whitespace().collect();
    c.cmd_str(&args)
}

/// The key's counter, or None when it does not exist.
fn freq(c: &mut Raw, key: &str) -> Option<i64> {
    match c.cmd_str(&["OBJECT", "FREQ", key]) {
        Reply::Int(n) => Some(n),
        _ => None,
    }
}

/// (counter before, counter after) for one case.
fn measure(c: &mut Raw, setup: &[&str], cmd: &str, key: &str) -> (Option<i64>, Option<i64>) {
    assert_eq!(run(c, "FLUSHALL"), Reply::ok());
    for s in setup {
        let r = run(c, s);
        assert!(!r.is_error(), "{s}: {r:?}");
    }
    let before = freq(c, key);
    let r = run(c, cmd);
    assert!(!r.is_error(), "{cmd}: {r:?}");
    (before, freq(c, key))
}

#[test]
fn every_command_touches_a_key_as_often_as_redis_does() {
    let args = ["--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0"];
    let ours = Server::start(&args);
    let redis = Server::start_redis(&args);
    let (mut a, mut b) = (ours.raw(), redis.raw());
    let mut diffs = Vec::new();
    for (setup, cmd, key) in CASES {
        let got = measure(&mut a, setup, cmd, key);
        let want = measure(&mut b, setup, cmd, key);
        if got != want {
            diffs.push(format!(
                "{setup:?} then {cmd}: {key} went {got:?} here, {want:?} in redis"
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The counter under the default factor grows with use: the same command run a thousand
/// times leaves a key far above one created and never read.
#[test]
fn counters_rank_keys_by_use() {
    let ours = Server::start(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = ours.raw();
    run(&mut c, "SET cold v");
    run(&mut c, "SET hot v");
    for _ in 0..1000 {
        run(&mut c, "GET hot");
    }
    let (hot, cold) = (freq(&mut c, "hot").unwrap(), freq(&mut c, "cold").unwrap());
    assert_eq!(cold, 5, "a new key starts at LFU_INIT_VAL");
    assert!(hot > 10, "1000 reads left the counter at {hot}");
}
