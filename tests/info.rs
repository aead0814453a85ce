//! INFO against redis-server 7.0.15: the field names of every section and their order (the
//! fields ringkv leaves out, and its own, are listed below with their reasons), the sections each form of
//! the command selects, the reply types in RESP2 and RESP3, and the values that must agree
//! after the same known sequence of commands on two fresh servers (keyspace hits and misses,
//! errors per code, calls, failed and rejected calls per command, keys), before and after
//! CONFIG RESETSTAT.

mod common;

use common::{Raw, Reply, Server};
use std::collections::BTreeMap;

/// Redis 7.0.15 fields ringkv does not print, per section, and why.
const OMITTED: &[(&str, &str, &str)] = &[
    ("Server", "atomicvar_api", "how Redis's C code was built"),
    ("Server", "gcc_version", "Redis's C compiler"),
    (
        "Stats",
        "expired_stale_perc",
        "an estimate from Redis's random sampling; ringkv's active expiry walks the keys with a TTL in order, it does not sample",
    ),
    ("Stats", "migrate_cached_sockets", "no MIGRATE in ringkv"),
    (
        "Stats",
        "slave_expires_tracked_keys",
        "no writable replicas",
    ),
    ("Stats", "active_defrag_hits", "no active defragmentation"),
    ("Stats", "active_defrag_misses", "no active defragmentation"),
    ("Stats", "active_defrag_key_hits", "no active defragmentation"),
    ("Stats", "active_defrag_key_misses", "no active defragmentation"),
    ("Stats", "total_active_defrag_time", "no active defragmentation"),
    ("Stats", "current_active_defrag_time", "no active defragmentation"),
    (
        "Stats",
        "dump_payload_sanitizations",
        "Redis counts its optional deep checks per blob; ringkv checks every payload fully whatever sanitize-dump-payload says, so there is no optional check to count",
    ),
    (
        "Stats",
        "total_reads_processed",
        "socket reads are io_uring completions, not counted as read events",
    ),
    (
        "Stats",
        "total_writes_processed",
        "socket writes are io_uring completions, not counted as write events",
    ),
    (
        "Stats",
        "reply_buffer_shrinks",
        "Redis's reply-buffer resizing; ringkv's output buffers are managed differently",
    ),
    (
        "Stats",
        "reply_buffer_expands",
        "Redis's reply-buffer resizing; ringkv's output buffers are managed differently",
    ),
    (
        "Replication",
        "repl_backlog_size",
        "the replication section comes with replication (another change)",
    ),
    (
        "Replication",
        "repl_backlog_first_byte_offset",
        "the replication section comes with replication (another change)",
    ),
    (
        "Replication",
        "repl_backlog_histlen",
        "the replication section comes with replication (another change)",
    ),
];

/// ringkv's own fields.
const OURS_ONLY: &[(&str, &str)] = &[
    ("Server", "ringkv_version"),
    ("Stats", "expired_keys_active"),
    ("Stats", "auth_failures"),
    ("Stats", "busy_poll_hits"),
];

/// Sections whose field names depend on what ran (compared by value instead).
const DYNAMIC: &[&str] = &["Commandstats", "Errorstats", "Latencystats", "Keyspace"];

type Sections = BTreeMap<String, Vec<(String, String)>>;

fn info_text(c: &mut Raw, args: &[&str]) -> String {
    let mut all = vec!["INFO"];
    all.extend_from_slice(args);
    match c.cmd_str(&all) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        Reply::Verbatim { format, text } => {
            assert_eq!(format, "txt");
            String::from_utf8(text).unwrap()
        }
        other => panic!("INFO {args:?}: {other:?}"),
    }
}

fn parse(text: &str) -> (Vec<String>, Sections) {
    let mut order = Vec::new();
    let mut sections = Sections::new();
    let mut cur = String::new();
    for line in text.split("\r\n") {
        if let Some(h) = line.strip_prefix("# ") {
            cur = h.to_string();
            order.push(cur.clone());
            sections.entry(cur.clone()).or_default();
        } else if let Some((k, v)) = line.split_once(':') {
            sections
                .get_mut(&cur)
                .unwrap_or_else(|| panic!("field {k} outside a section"))
                .push((k.to_string(), v.to_string()));
        } else {
            assert!(line.is_empty(), "odd INFO line {line:?}");
        }
    }
    (order, sections)
}

fn value<'a>(s: &'a Sections, section: &str, name: &str) -> &'a str {
    s[section]
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {section}/{name}"))
}

/// The same known sequence on a fresh server: hits, misses, errors of three codes, a
/// refused command, keys with and without TTLs.
fn known_sequence(c: &mut Raw) {
    for line in [
        "SET a 1",
        "SET b 2",
        "GET a",
        "GET nosuch",
        "EXISTS a nosuch",
        "LPUSH l x",
        "GET l",
        "INCR a",
        "SET e 1 PX 50",
        "EXPIRE b 1000",
        "NOSUCHCOMMAND",
        "GET",
        "CONFIG SET nosuch 1",
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        c.cmd_str(&args);
    }
    std::thread::sleep(std::time::Duration::from_millis(120));
    // Expired on access (lazily) on both servers.
    c.cmd_str(&["GET", "e"]);
}

#[test]
fn field_names_per_section_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let (mut a, mut b) = (ours.raw(), redis.raw());
    known_sequence(&mut a);
    known_sequence(&mut b);
    let (order_a, sa) = parse(&info_text(&mut a, &["everything"]));
    let (order_b, sb) = parse(&info_text(&mut b, &["everything"]));
    assert_eq!(order_a, order_b, "sections of INFO everything");
    let mut problems = Vec::new();
    for (section, fields) in &sb {
        if DYNAMIC.contains(&section.as_str()) {
            continue;
        }
        let want: Vec<&str> = fields
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !OMITTED.iter().any(|(s, f, _)| s == section && f == k))
            .collect();
        // An omitted field ringkv prints after all (e.g. once replication lands) is fine.
        let got: Vec<&str> = sa[section]
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !OURS_ONLY.iter().any(|(s, f)| s == section && f == k))
            .filter(|k| !OMITTED.iter().any(|(s, f, _)| s == section && f == k))
            .collect();
        // The fields both have come in the same order.
        let common_w: Vec<&&str> = want.iter().filter(|f| got.contains(f)).collect();
        let common_g: Vec<&&str> = got.iter().filter(|f| want.contains(f)).collect();
        if common_w != common_g {
            problems.push(format!(
                "{section}: order {common_g:?} vs Redis {common_w:?}"
            ));
        }
        let mut w = want.clone();
        let mut g = got.clone();
        w.sort();
        g.sort();
        if w != g {
            problems.push(format!(
                "{section}: missing {:?}, extra {:?}",
                w.iter().filter(|f| !g.contains(f)).collect::<Vec<_>>(),
                g.iter().filter(|f| !w.contains(f)).collect::<Vec<_>>()
            ));
        }
    }
    // Every omission names a field Redis really has.
    for (section, f, why) in OMITTED {
        assert!(!why.is_empty());
        assert!(
            sb[*section].iter().any(|(k, _)| k == f),
            "{section}/{f} is not a Redis field"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn values_after_a_known_sequence_agree_with_redis_and_resetstat_clears_them() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let (mut a, mut b) = (ours.raw(), redis.raw());
    known_sequence(&mut a);
    known_sequence(&mut b);
    let (_, sa) = parse(&info_text(&mut a, &["everything"]));
    let (_, sb) = parse(&info_text(&mut b, &["everything"]));
    for (section, name) in [
        ("Stats", "keyspace_hits"),
        ("Stats", "keyspace_misses"),
        ("Stats", "total_error_replies"),
        ("Stats", "expired_keys"),
        ("Stats", "total_commands_processed"),
        ("Stats", "evicted_keys"),
        ("Clients", "connected_clients"),
        ("Cluster", "cluster_enabled"),
    ] {
        assert_eq!(
            value(&sa, section, name),
            value(&sb, section, name),
            "{section}/{name}"
        );
    }
    assert_eq!(sa["Errorstats"], sb["Errorstats"], "errorstats");
    // keyspace: keys and expires (avg_ttl depends on timing).
    let ks = |s: &Sections| -> Vec<String> {
        s["Keyspace"]
            .iter()
            .map(|(k, v)| format!("{k}:{}", v.rsplit_once(",avg_ttl").unwrap().0))
            .collect()
    };
    assert_eq!(ks(&sa), ks(&sb), "keyspace");
    // commandstats: the same commands with the same calls, rejected and failed calls
    // (Redis lists them in its hash table's order: compared sorted).
    let cs = |s: &Sections| -> Vec<String> {
        let mut v: Vec<String> = s["Commandstats"]
            .iter()
            .map(|(k, v)| {
                let keep: Vec<&str> = v.split(',').filter(|p| !p.starts_with("usec")).collect();
                format!("{k}:{}", keep.join(","))
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(cs(&sa), cs(&sb), "commandstats");
    assert!(
        sa["Commandstats"]
            .iter()
            .any(|(k, v)| k == "cmdstat_get" && v.contains("failed_calls=1")),
        "{:?}",
        sa["Commandstats"]
    );

    // RESETSTAT: the counters start again on both.
    for c in [&mut a, &mut b] {
        assert_eq!(c.cmd_str(&["CONFIG", "RESETSTAT"]), Reply::ok());
    }
    let (_, sa) = parse(&info_text(&mut a, &["everything"]));
    let (_, sb) = parse(&info_text(&mut b, &["everything"]));
    for name in [
        "keyspace_hits",
        "keyspace_misses",
        "total_error_replies",
        "expired_keys",
        "evicted_keys",
        "total_commands_processed",
        "total_connections_received",
    ] {
        assert_eq!(
            value(&sa, "Stats", name),
            value(&sb, "Stats", name),
            "{name}"
        );
    }
    assert_eq!(value(&sa, "Stats", "keyspace_hits"), "0");
    assert!(sa["Errorstats"].is_empty(), "{:?}", sa["Errorstats"]);
    assert_eq!(cs(&sa), cs(&sb), "commandstats after RESETSTAT");
    let names = |s: &Sections| -> Vec<String> {
        let mut v: Vec<String> = s["Latencystats"].iter().map(|(k, _)| k.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&sa), names(&sb), "latencystats after RESETSTAT");
}

#[test]
fn section_selection_and_reply_types_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let (mut a, mut b) = (ours.raw(), redis.raw());
    for c in [&mut a, &mut b] {
        c.cmd_str(&["SET", "k", "v"]);
    }
    for args in [
        &[][..],
        &["default"],
        &["all"],
        &["everything"],
        &["server", "CLIENTS"],
        &["keyspace", "server"],
        &["commandstats", "default"],
        &["nosuch"],
        &["Memory", "nosuch", "cpu"],
        &["modules"],
        &["cluster", "errorstats", "latencystats"],
    ] {
        let (oa, _) = parse(&info_text(&mut a, args));
        let (ob, _) = parse(&info_text(&mut b, args));
        assert_eq!(oa, ob, "sections of INFO {args:?}");
    }
    // RESP2: a bulk string; RESP3: a verbatim string of format txt.
    for c in [&mut a, &mut b] {
        assert!(matches!(
            c.cmd_str(&["INFO", "server"]),
            Reply::Bulk(Some(_))
        ));
        c.cmd_str(&["HELLO", "3"]);
        assert!(matches!(
            c.cmd_str(&["INFO", "server"]),
            Reply::Verbatim { .. }
        ));
    }
    let (_, sa) = parse(&info_text(&mut a, &["cluster", "modules"]));
    assert_eq!(sa["Cluster"], vec![("cluster_enabled".into(), "0".into())]);
    assert!(sa["Modules"].is_empty());
}

#[test]
fn errorstats_count_the_errors_of_blocked_commands_as_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let mut stats = Vec::new();
    for s in [&ours, &redis] {
        let (mut a, mut b) = (s.raw(), s.raw());
        let id = match a.cmd_str(&["CLIENT", "ID"]) {
            Reply::Int(n) => n.to_string(),
            other => panic!("{other:?}"),
        };
        // Ended by CLIENT UNBLOCK ... ERROR.
        a.send(b"*3\r\n$5\r\nBLPOP\r\n$6\r\nnolist\r\n$1\r\n0\r\n");
        b.wait_blocked(1);
        assert_eq!(
            b.cmd_str(&["CLIENT", "UNBLOCK", &id, "ERROR"]),
            Reply::Int(1)
        );
        assert!(matches!(a.read_reply(), Reply::Error(e) if e.starts_with("UNBLOCKED")));
        // Served with an error: the destination is not a list.
        b.cmd_str(&["SET", "dst", "x"]);
        a.send(b"*6\r\n$6\r\nBLMOVE\r\n$3\r\nsrc\r\n$3\r\ndst\r\n$4\r\nLEFT\r\n$5\r\nRIGHT\r\n$1\r\n0\r\n");
        b.wait_blocked(1);
        b.cmd_str(&["RPUSH", "src", "e"]);
        assert!(matches!(a.read_reply(), Reply::Error(e) if e.starts_with("WRONGTYPE")));
        let (_, sa) = parse(&info_text(&mut b, &["errorstats", "stats"]));
        stats.push((
            sa["Errorstats"].clone(),
            value(&sa, "Stats", "total_error_replies").to_string(),
        ));
    }
    assert_eq!(stats[0], stats[1]);
}
