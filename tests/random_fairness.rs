//! Statistical tests of the random picks the commands make: SRANDMEMBER (with and without a
//! count), SPOP, HRANDFIELD, ZRANDMEMBER and RANDOMKEY, each on a 500-element collection in
//! its large encoding (hashtable, or skiplist for the sorted set). Every mode's picks are
//! counted per element and must pass a chi-square test for uniformity (499 degrees of
//! freedom, a limit a uniform sampler exceeds with probability ~1e-9).
//!
//! SRANDMEMBER on a hash-table set was measurably non-uniform: the pick took a random
//! non-empty bucket and then a random member of its chain, so members of short chains came up
//! more often (chi-square in the thousands here). The same for RANDOMKEY and HRANDFIELD.
//!
//! When redis-server is on PATH (or REDIS_SERVER_BIN names it) the same picks are made there
//! and both chi-square values are printed (`cargo test --test random_fairness -- --nocapture`);
//! only ringkv's are asserted, since Redis 7.0's `dictGetFairRandomKey` is only approximately
//! uniform. Without redis-server that half is skipped with a message.

mod common;

use common::diff::words;
use common::{is_redis_server, redis_bin, Raw, Reply, Server};
use std::process::{Command, Stdio};

/// Elements of each collection (and keys for RANDOMKEY).
const ELEMENTS: usize = 500;
/// Commands written per pipelined batch.
const BATCH_MAX: usize = 200;

use ringkv::util::stats::{chi_square, chi_square_limit};

/// Whether the reference server can be run.
fn redis_available() -> bool {
    Command::new(redis_bin())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The element index in a name like `m:17` (the number after the last ':').
fn index_of(name: &[u8]) -> usize {
    let text = std::str::from_utf8(name).expect("utf-8 name");
    let (_, n) = text.rsplit_once(':').expect("name with a ':'");
    n.parse().expect("numeric suffix")
}

/// The picked names in one reply: a bulk string, or every `stride`-th item of an array
/// (stride 2 skips the values of WITHVALUES).
fn picked(reply: &Reply, stride: usize) -> Vec<Vec<u8>> {
    match reply {
        Reply::Bulk(Some(b)) => vec![b.clone()],
        Reply::Array(Some(items)) => items
            .iter()
            .step_by(stride)
            .flat_map(|item| picked(item, 1))
            .collect(),
        other => panic!("unexpected reply {other:?}"),
    }
}

/// Sends `m.cmd` `m.calls` times and counts the picks of its replies. A read is pipelined in
/// batches; a pop is undone by adding the popped members back to `m.restore_key`, in the same
/// write as the next pop, so that every pop sees the same collection.
fn count_picks(c: &mut Raw, m: &Mode) -> Vec<u64> {
    let mut counts = vec![0u64; ELEMENTS];
    let mut tally = |r: &Reply| {
        for name in picked(r, m.stride) {
            counts[index_of(&name)] += 1;
        }
    };
    match m.restore_key {
        None => {
            let mut done = 0;
            while done < m.calls {
                let n = (m.calls - done).min(BATCH_MAX);
                let batch = vec![words(m.cmd); n];
                c.pipeline(&batch).iter().for_each(&mut tally);
                done += n;
            }
        }
        Some(key) => {
            let mut popped: Vec<Vec<u8>> = Vec::new();
            for _ in 0..m.calls {
                let mut batch = Vec::new();
                if !popped.is_empty() {
                    let mut sadd = vec![b"SADD".to_vec(), key.as_bytes().to_vec()];
                    sadd.append(&mut popped);
                    batch.push(sadd);
                }
                batch.push(words(m.cmd));
                let replies = c.pipeline(&batch);
                let pop = replies.last().expect("one reply per command");
                assert!(replies.iter().all(|r| !r.is_error()), "{replies:?}");
                tally(pop);
                popped = picked(pop, 1);
            }
        }
    }
    counts
}

/// One pick mode: its command, how many calls, the reply stride, and for a pop, the key to
/// add the popped members back to.
struct Mode {
    cmd: &'static str,
    calls: usize,
    stride: usize,
    restore_key: Option<&'static str>,
}

impl Mode {
    fn new(cmd: &'static str, calls: usize) -> Mode {
        Mode {
            cmd,
            calls,
            stride: 1,
            restore_key: None,
        }
    }
}

/// The data the picks are made from: commands that create it, and a key with the encoding
/// OBJECT ENCODING must report for it (None for RANDOMKEY's strings).
struct Setup {
    cmds: Vec<Vec<Vec<u8>>>,
    encoding: Option<(&'static str, &'static str)>,
}

/// Runs the setup and then every mode on `server`; returns each mode's chi-square.
fn measure(server: &Server, setup: &Setup, modes: &[Mode]) -> Vec<f64> {
    let mut c = server.raw();
    for r in c.pipeline(&setup.cmds) {
        assert!(!r.is_error(), "setup on {}: {r:?}", server.bin);
    }
    if let Some((key, encoding)) = setup.encoding {
        assert_eq!(
            c.cmd_str(&["OBJECT", "ENCODING", key]),
            Reply::bulk(encoding.as_bytes()),
            "{key} on {}",
            server.bin
        );
    }
    modes
        .iter()
        .map(|m| {
            let counts = count_picks(&mut c, m);
            let total: u64 = counts.iter().sum();
            assert!(
                total as usize >= m.calls,
                "{}: only {total} picks from {} calls",
                m.cmd,
                m.calls
            );
            chi_square(&counts)
        })
        .collect()
}

/// Measures the modes on ringkv and, when available, on redis-server; prints both and asserts
/// ringkv's (unless the binary under test is itself a redis-server, see common's RINGKV_BIN).
fn check(setup: &Setup, modes: &[Mode]) {
    let ours_server = Server::start(&[]);
    let ours = measure(&ours_server, setup, modes);
    drop(ours_server);
    let redis = if redis_available() {
        let s = Server::start_redis(&[]);
        Some(measure(&s, setup, modes))
    } else {
        eprintln!(
            "redis-server not found ({}): comparison skipped",
            redis_bin()
        );
        None
    };
    let limit = chi_square_limit(ELEMENTS - 1);
    let mut failures = Vec::new();
    for (i, m) in modes.iter().enumerate() {
        let theirs = redis
            .as_ref()
            .map_or("-".to_string(), |r| format!("{:.0}", r[i]));
        eprintln!(
            "{:<32} chi-square (df {}, limit {limit:.0}): ringkv {:.0}, redis-server {theirs}",
            m.cmd,
            ELEMENTS - 1,
            ours[i]
        );
        if ours[i] >= limit {
            failures.push(format!("{}: {:.0}", m.cmd, ours[i]));
        }
    }
    if is_redis_server(&common::ringkv_bin()) {
        return;
    }
    assert!(
        failures.is_empty(),
        "non-uniform picks (limit {limit:.0}): {failures:?}"
    );
}

/// `prefix` followed by the names `name_prefix:0` … `name_prefix:499`, each followed by
/// `value(i)` when given.
fn with_elements(
    prefix: &[&str],
    name_prefix: &str,
    value: Option<fn(usize) -> String>,
) -> Vec<Vec<u8>> {
    let mut cmd: Vec<Vec<u8>> = prefix.iter().map(|w| w.as_bytes().to_vec()).collect();
    for i in 0..ELEMENTS {
        let name = format!("{name_prefix}:{i}").into_bytes();
        match value {
            Some(v) => {
                let v = v(i).into_bytes();
                // ZADD takes score then member; HSET and MSET field/key then value.
                if prefix[0] == "ZADD" {
                    cmd.push(v);
                    cmd.push(name);
                } else {
                    cmd.push(name);
                    cmd.push(v);
                }
            }
            None => cmd.push(name),
        }
    }
    cmd
}

/// SRANDMEMBER (every count mode) and SPOP favoured members of short chains: chi-square
/// 2,400-21,000 here before the picks became uniform.
#[test]
fn srandmember_and_spop_are_uniform() {
    // Not integers, so a hash table from the start.
    let setup = Setup {
        cmds: vec![with_elements(&["SADD", "s"], "m", None)],
        encoding: Some(("s", "hashtable")),
    };
    let modes = [
        Mode::new("SRANDMEMBER s", 20_000),
        Mode::new("SRANDMEMBER s -1000", 100),
        Mode::new("SRANDMEMBER s 20", 2_500),
        Mode {
            restore_key: Some("s"),
            ..Mode::new("SPOP s", 10_000)
        },
        Mode {
            restore_key: Some("s"),
            ..Mode::new("SPOP s 10", 2_000)
        },
    ];
    check(&setup, &modes);
}

/// HRANDFIELD on a hash table had the same bias (chi-square 9,500-47,000 here).
#[test]
fn hrandfield_is_uniform() {
    let setup = Setup {
        cmds: vec![
            words("CONFIG SET hash-max-listpack-entries 64"),
            with_elements(&["HSET", "h"], "f", Some(|i| format!("v{i}"))),
        ],
        encoding: Some(("h", "hashtable")),
    };
    let modes = [
        Mode::new("HRANDFIELD h", 20_000),
        Mode::new("HRANDFIELD h -1000", 100),
        Mode {
            stride: 2,
            ..Mode::new("HRANDFIELD h -500 WITHVALUES", 100)
        },
        Mode::new("HRANDFIELD h 20", 2_500),
    ];
    check(&setup, &modes);
}

/// ZRANDMEMBER picks ranks in the sorted set's tree, which was uniform already; this keeps
/// it so.
#[test]
fn zrandmember_is_uniform() {
    let setup = Setup {
        cmds: vec![with_elements(&["ZADD", "z"], "m", Some(|i| i.to_string()))],
        encoding: Some(("z", "skiplist")),
    };
    let modes = [
        Mode::new("ZRANDMEMBER z", 20_000),
        Mode::new("ZRANDMEMBER z -1000", 100),
        Mode::new("ZRANDMEMBER z 20", 2_500),
    ];
    check(&setup, &modes);
}

/// RANDOMKEY had the chain bias too (chi-square ~10,000 here); database 9 holds only the
/// test's keys.
#[test]
fn randomkey_is_uniform() {
    let setup = Setup {
        cmds: vec![
            words("SELECT 9"),
            with_elements(&["MSET"], "k", Some(|i| i.to_string())),
        ],
        encoding: None,
    };
    check(&setup, &[Mode::new("RANDOMKEY", 20_000)]);
}
