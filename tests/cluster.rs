//! The cluster family (CLUSTER and its subcommands, READONLY, READWRITE, ASKING) against
//! redis-server 7.0.15 without cluster mode, in RESP2 and RESP3: the cluster-disabled error
//! for every subcommand, the argument-count and unknown-subcommand errors before it, the same
//! inside MULTI, from scripts (CLUSTER RESET is `noscript`), under an ACL user without
//! @admin, and what INFO commandstats and errorstats count; and the `cluster-*` settings'
//! CONFIG SET and GET replies (their config file and CONFIG REWRITE: tests/config_rewrite.rs).

mod common;

use common::{raw_pair as conns, same_reply as same, Raw, Reply, Server};

/// Every CLUSTER subcommand with arguments of the right count.
const SUBCOMMANDS: &[&[&str]] = &[
    &["CLUSTER", "ADDSLOTS", "1", "2"],
    &["CLUSTER", "ADDSLOTSRANGE", "1", "5"],
    &["CLUSTER", "BUMPEPOCH"],
    &["CLUSTER", "COUNT-FAILURE-REPORTS", "abc"],
    &["CLUSTER", "COUNTKEYSINSLOT", "7"],
    &["CLUSTER", "DELSLOTS", "1"],
    &["CLUSTER", "DELSLOTSRANGE", "1", "5"],
    &["CLUSTER", "FAILOVER"],
    &["CLUSTER", "FAILOVER", "FORCE"],
    &["CLUSTER", "FLUSHSLOTS"],
    &["CLUSTER", "FORGET", "abc"],
    &["CLUSTER", "GETKEYSINSLOT", "7", "10"],
    &["CLUSTER", "HELP"],
    &["CLUSTER", "INFO"],
    &["CLUSTER", "KEYSLOT", "foo"],
    &["CLUSTER", "LINKS"],
    &["CLUSTER", "MEET", "127.0.0.1", "7000"],
    &["CLUSTER", "MYID"],
    &["CLUSTER", "NODES"],
    &["CLUSTER", "REPLICAS", "abc"],
    &["CLUSTER", "REPLICATE", "abc"],
    &["CLUSTER", "RESET", "HARD"],
    &["CLUSTER", "SAVECONFIG"],
    &["CLUSTER", "SET-CONFIG-EPOCH", "3"],
    &["CLUSTER", "SETSLOT", "7", "STABLE"],
    &["CLUSTER", "SHARDS"],
    &["CLUSTER", "SLAVES", "abc"],
    &["CLUSTER", "SLOTS"],
    &["readonly"],
    &["READWRITE"],
    &["asking"],
    &["cluster", "info"],
];

/// Lines refused before the cluster check: argument counts and unknown subcommands.
const REFUSED: &[&[&str]] = &[
    &["CLUSTER"],
    &["CLUSTER", "NOSUCH"],
    &["CLUSTER", "INFO", "extra"],
    &["CLUSTER", "KEYSLOT"],
    &["CLUSTER", "ADDSLOTS"],
    &["CLUSTER", "ADDSLOTSRANGE", "1"],
    &["CLUSTER", "MEET", "127.0.0.1"],
    &["CLUSTER", "SETSLOT", "7"],
    &["READONLY", "x"],
    &["ASKING", "x"],
];

const DISABLED: &str = "ERR This instance has cluster support disabled";

fn error_text(r: &Reply) -> String {
    match r {
        Reply::Error(e) => e.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The `name:value` lines of an INFO section whose names start with `prefix`.
fn info_lines(c: &mut Raw, section: &str, prefix: &str) -> Vec<String> {
    let text = match c.cmd_str(&["INFO", section]) {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        Reply::Verbatim { text, .. } => String::from_utf8_lossy(&text).into_owned(),
        other => panic!("INFO {section}: {other:?}"),
    };
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with(prefix))
        // usec and usec_per_call are times, not counts.
        .map(|l| {
            l.split(',')
                .filter(|f| !f.contains("usec"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_subcommand_answers_cluster_disabled_as_redis() {
    let (ours, redis) = (Server::start(&[]), Server::start_redis(&[]));
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        for args in SUBCOMMANDS {
            let r = same(&mut a, &mut b, args);
            assert_eq!(error_text(&r), DISABLED, "{args:?}");
        }
        for args in REFUSED {
            let r = same(&mut a, &mut b, args);
            assert_ne!(error_text(&r), DISABLED, "{args:?}");
        }
    }
    // The calls counted per subcommand, failed or rejected, and the ERR errors.
    let (mut a, mut b) = conns(&ours, &redis, false);
    assert_eq!(
        info_lines(&mut a, "commandstats", "cmdstat_cluster"),
        info_lines(&mut b, "commandstats", "cmdstat_cluster")
    );
    assert_eq!(
        info_lines(&mut a, "commandstats", "cmdstat_asking"),
        info_lines(&mut b, "commandstats", "cmdstat_asking")
    );
    assert_eq!(
        info_lines(&mut a, "errorstats", "errorstat_ERR"),
        info_lines(&mut b, "errorstats", "errorstat_ERR")
    );
    assert!(!info_lines(&mut a, "commandstats", "cmdstat_cluster|info").is_empty());
}

#[test]
fn multi_scripts_and_acl_treat_the_family_as_redis_does() {
    let (ours, redis) = (Server::start(&[]), Server::start_redis(&[]));
    for resp3 in [false, true] {
        let (mut a, mut b) = conns(&ours, &redis, resp3);
        // Queued, then each fails inside EXEC; a wrong count aborts the transaction.
        same(&mut a, &mut b, &["MULTI"]);
        same(&mut a, &mut b, &["CLUSTER", "INFO"]);
        same(&mut a, &mut b, &["READONLY"]);
        same(&mut a, &mut b, &["SET", "k", "v"]);
        let exec = same(&mut a, &mut b, &["EXEC"]);
        assert!(matches!(exec, Reply::Array(Some(ref items)) if items.len() == 3));
        same(&mut a, &mut b, &["MULTI"]);
        same(&mut a, &mut b, &["CLUSTER", "KEYSLOT"]);
        same(&mut a, &mut b, &["EXEC"]);
        // From scripts: the error comes back to pcall; RESET may not run in a script.
        for script in [
            "return redis.pcall('CLUSTER', 'INFO')",
            "return redis.pcall('CLUSTER', 'KEYSLOT', 'foo')",
            "return redis.pcall('ASKING')",
            "return redis.pcall('CLUSTER', 'RESET')",
            "return redis.pcall('CLUSTER', 'NOSUCH')",
            "return redis.call('CLUSTER', 'MYID')",
        ] {
            same(&mut a, &mut b, &["EVAL", script, "0"]);
        }
    }
    // A user without @admin may not run the admin subcommands; the others fail as usual.
    let (mut a, mut b) = conns(&ours, &redis, false);
    same(
        &mut a,
        &mut b,
        &[
            "ACL", "SETUSER", "app", "on", ">pw", "~*", "+@all", "-@admin",
        ],
    );
    same(&mut a, &mut b, &["AUTH", "app", "pw"]);
    for args in [
        &["CLUSTER", "INFO"][..],
        &["CLUSTER", "ADDSLOTS", "1"],
        &["CLUSTER", "RESET"],
        &["CLUSTER", "SLOTS"],
        &["READONLY"],
    ] {
        same(&mut a, &mut b, args);
    }
}

/// The `cluster-*` settings: CONFIG SET of good and bad values (immutable ones, ranges,
/// hostnames, memory amounts, enumerations, the old `slave` names) and CONFIG GET of them all
/// answer as redis-server 7.0 without cluster mode.
#[test]
fn cluster_settings_answer_as_redis() {
    let (ours, redis) = (Server::start(&[]), Server::start_redis(&[]));
    let (mut a, mut b) = conns(&ours, &redis, false);
    for (name, value) in [
        ("cluster-enabled", "yes"),
        ("cluster-enabled", "no"),
        ("cluster-config-file", "x.conf"),
        ("cluster-port", "5"),
        ("cluster-node-timeout", "100"),
        ("cluster-node-timeout", "-1"),
        ("cluster-node-timeout", "abc"),
        ("cluster-announce-ip", "1.2.3.4"),
        ("cluster-announce-hostname", "foo.bar"),
        ("cluster-announce-hostname", "bad_host!"),
        ("cluster-announce-port", "70000"),
        ("cluster-announce-bus-port", "7001"),
        ("cluster-announce-tls-port", "7002"),
        ("cluster-require-full-coverage", "maybe"),
        ("cluster-require-full-coverage", "no"),
        ("cluster-slave-no-failover", "yes"),
        ("cluster-replica-validity-factor", "-1"),
        ("cluster-slave-validity-factor", "6"),
        ("cluster-migration-barrier", "3"),
        ("cluster-allow-replica-migration", "no"),
        ("cluster-allow-reads-when-down", "yes"),
        ("cluster-allow-pubsubshard-when-down", "no"),
        ("cluster-link-sendbuf-limit", "1mb"),
        ("cluster-link-sendbuf-limit", "-5"),
        ("cluster-preferred-endpoint-type", "HOSTNAME"),
        ("cluster-preferred-endpoint-type", "foo"),
    ] {
        same(&mut a, &mut b, &["CONFIG", "SET", name, value]);
    }
    let sorted = |r: Reply| -> Vec<String> {
        let Reply::Array(Some(items)) = r else {
            panic!("CONFIG GET: {r:?}")
        };
        let mut pairs: Vec<String> = items
            .chunks(2)
            .map(|p| format!("{:?} {:?}", p[0], p[1]))
            .collect();
        pairs.sort();
        pairs
    };
    let (x, y) = (
        a.cmd_str(&["CONFIG", "GET", "cluster-*"]),
        b.cmd_str(&["CONFIG", "GET", "cluster-*"]),
    );
    let (x, y) = (sorted(x), sorted(y));
    assert_eq!(x.len(), 20, "{x:?}");
    assert_eq!(x, y);
}
