//! The command table against redis-server 7.0.15's: for every command and subcommand ringkv
//! has, COMMAND INFO (name, arity, flags with movablekeys, first/last/step, ACL categories,
//! tips, key specs, subcommands) and COMMAND DOCS (since, group, doc_flags, deprecation,
//! history versions, argument trees) must equal Redis's, in RESP2 and in RESP3. Clients,
//! cluster proxies and redis-cli read these to route keys, detect writes and show hints, so a
//! wrong row is a real bug even when the command itself works.
//!
//! The prose is ours: summaries, complexity texts, history descriptions and key spec notes
//! are not compared, except that a summary equal to Redis's fails (copied text).
//! COMMAND GETKEYS / GETKEYSANDFLAGS and COMMAND LIST's filters are compared reply for reply.

mod common;

use common::{Raw, Reply, Server};
use std::collections::BTreeSet;

/// ringkv's own commands, which Redis does not have.
const OURS_ONLY: &[&str] = &["zquery"];

fn text(r: &Reply) -> String {
    match r {
        Reply::Status(s) => s.clone(),
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a string, got {other:?}"),
    }
}

/// The elements of an array or set reply.
fn items(r: &Reply) -> &[Reply] {
    match r {
        Reply::Array(Some(v)) | Reply::Set(v) => v,
        other => panic!("expected an array, got {other:?}"),
    }
}

fn strings(r: &Reply) -> BTreeSet<String> {
    items(r).iter().map(text).collect()
}

/// The (key, value) pairs of a map: a RESP3 map or a RESP2 flat array.
fn pairs(r: &Reply) -> Vec<(Reply, Reply)> {
    match r {
        Reply::Map(kv) => kv.clone(),
        Reply::Array(Some(v)) => {
            assert!(v.len() % 2 == 0, "odd map {r:?}");
            v.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
        }
        other => panic!("expected a map, got {other:?}"),
    }
}

/// Records where `a` and `b` first differ below `path` (same reply types, same lengths,
/// same values).
fn diff(path: &str, a: &Reply, b: &Reply, out: &mut Vec<String>) {
    match (a, b) {
        (Reply::Array(Some(x)), Reply::Array(Some(y))) | (Reply::Set(x), Reply::Set(y))
            if x.len() == y.len() =>
        {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), p, q, out);
            }
        }
        (Reply::Map(x), Reply::Map(y)) if x.len() == y.len() => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y) {
                diff(&format!("{path}.key"), k1, k2, out);
                diff(&format!("{path}.{}", show(k1)), v1, v2, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}:\n  ours  {a:?}\n  redis {b:?}")),
    }
}

fn show(r: &Reply) -> String {
    match r {
        Reply::Status(s) => s.clone(),
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

const INFO_FIELDS: [&str; 10] = [
    "name",
    "arity",
    "flags",
    "first_key",
    "last_key",
    "step",
    "acl_categories",
    "tips",
    "key_specs",
    "subcommands",
];

/// Compares one COMMAND INFO entry; `ours` may have fewer subcommands than Redis, but each it
/// has must match Redis's.
fn compare_info(path: &str, ours: &Reply, redis: &Reply, out: &mut Vec<String>) {
    let (Reply::Array(Some(a)), Reply::Array(Some(b))) = (ours, redis) else {
        return diff(path, ours, redis, out);
    };
    if a.len() != 10 || b.len() != 10 {
        return diff(path, ours, redis, out);
    }
    for i in 0..8 {
        diff(&format!("{path}.{}", INFO_FIELDS[i]), &a[i], &b[i], out);
    }
    // Key specs: everything but the notes' text (ours), whose presence must match.
    let specs_path = format!("{path}.key_specs");
    let mask = |specs: &Reply| -> Reply {
        let masked = |spec: &Reply| -> Reply {
            let kv: Vec<(Reply, Reply)> = pairs(spec)
                .into_iter()
                .map(|(k, v)| {
                    if k == Reply::bulk(b"notes") {
                        (k, Reply::bulk(b"(notes)"))
                    } else {
                        (k, v)
                    }
                })
                .collect();
            match spec {
                Reply::Map(_) => Reply::Map(kv),
                _ => Reply::Array(Some(kv.into_iter().flat_map(|(k, v)| [k, v]).collect())),
            }
        };
        match specs {
            Reply::Set(v) => Reply::Set(v.iter().map(masked).collect()),
            Reply::Array(Some(v)) => Reply::Array(Some(v.iter().map(masked).collect())),
            other => other.clone(),
        }
    };
    diff(&specs_path, &mask(&a[8]), &mask(&b[8]), out);
    let subs_path = format!("{path}.subcommands");
    match (&a[9], &b[9]) {
        (Reply::Array(Some(x)), Reply::Array(Some(y))) => {
            for s in x {
                let name = text(&items(s)[0]);
                match y.iter().find(|t| text(&items(t)[0]) == name) {
                    Some(t) => compare_info(&format!("{subs_path}.{name}"), s, t, out),
                    None => out.push(format!("{subs_path}: {name} is not a Redis subcommand")),
                }
            }
        }
        (x, y) => diff(&subs_path, x, y, out),
    }
}

/// Compares one COMMAND DOCS map: every field of Redis's in its order, the summary's and
/// complexity's values and the history texts excepted; subcommands as in `compare_info`.
fn compare_docs(path: &str, ours: &Reply, redis: &Reply, out: &mut Vec<String>) {
    let (a, b) = (pairs(ours), pairs(redis));
    let keys = |kv: &[(Reply, Reply)]| kv.iter().map(|(k, _)| show(k)).collect::<Vec<_>>();
    if keys(&a) != keys(&b) {
        out.push(format!(
            "{path} fields:\n  ours  {:?}\n  redis {:?}",
            keys(&a),
            keys(&b)
        ));
        return;
    }
    if std::mem::discriminant(ours) != std::mem::discriminant(redis) {
        out.push(format!(
            "{path}: a map is sent as {ours:?}, Redis's as {redis:?}"
        ));
    }
    for ((k, x), (_, y)) in a.iter().zip(&b) {
        let field = show(k);
        let p = format!("{path}.{field}");
        match field.as_str() {
            "summary" => {
                if x == y {
                    out.push(format!("{p}: Redis's text, copied: {x:?}"));
                }
                if text(x).is_empty() {
                    out.push(format!("{p}: empty"));
                }
            }
            "complexity" => {
                if text(x).is_empty() {
                    out.push(format!("{p}: empty"));
                }
            }
            "history" => {
                // (version, text) pairs: the versions are facts, the texts ours.
                let versions = |h: &Reply| -> Reply {
                    let v: Vec<Reply> = items(h).iter().map(|e| items(e)[0].clone()).collect();
                    match h {
                        Reply::Set(_) => Reply::Set(v),
                        _ => Reply::Array(Some(v)),
                    }
                };
                diff(&p, &versions(x), &versions(y), out);
                for e in items(x) {
                    let entry = items(e);
                    if entry.len() != 2 || text(&entry[1]).is_empty() {
                        out.push(format!("{p}: bad entry {e:?}"));
                    }
                }
            }
            "subcommands" => {
                let (xs, ys) = (pairs(x), pairs(y));
                for (name, doc) in &xs {
                    match ys.iter().find(|(n, _)| n == name) {
                        Some((_, d)) => compare_docs(&format!("{p}.{}", show(name)), doc, d, out),
                        None => out.push(format!("{p}: {} is not a Redis subcommand", show(name))),
                    }
                }
            }
            _ => diff(&p, x, y, out),
        }
    }
}

/// A connection speaking RESP3 when `resp3`.
fn connect(s: &Server, resp3: bool) -> Raw {
    let mut c = s.raw();
    if resp3 {
        let hello = c.cmd_str(&["HELLO", "3"]);
        assert!(!hello.is_error(), "{hello:?}");
    }
    c
}

/// Every full name ringkv lists, without its own commands.
fn our_names(c: &mut Raw) -> Vec<String> {
    let names = strings(&c.cmd_str(&["COMMAND", "LIST"]));
    assert!(names.len() > 150, "only {} commands listed", names.len());
    names
        .into_iter()
        .filter(|n| !OURS_ONLY.contains(&n.as_str()))
        .collect()
}

fn check_every_row(resp3: bool) {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let (mut o, mut r) = (connect(&ours, resp3), connect(&redis, resp3));
    let mut mismatches = Vec::new();
    for name in our_names(&mut o) {
        let (a, b) = (
            o.cmd_str(&["COMMAND", "INFO", &name]),
            r.cmd_str(&["COMMAND", "INFO", &name]),
        );
        let (a, b) = (items(&a), items(&b));
        assert_eq!(a.len(), 1, "COMMAND INFO {name}");
        compare_info(&format!("INFO {name}"), &a[0], &b[0], &mut mismatches);

        let (a, b) = (
            o.cmd_str(&["COMMAND", "DOCS", &name]),
            r.cmd_str(&["COMMAND", "DOCS", &name]),
        );
        let (a, b) = (pairs(&a), pairs(&b));
        assert_eq!(a.len(), 1, "COMMAND DOCS {name}");
        assert_eq!(b.len(), 1, "redis COMMAND DOCS {name}");
        diff(
            &format!("DOCS {name}.name"),
            &a[0].0,
            &b[0].0,
            &mut mismatches,
        );
        compare_docs(&format!("DOCS {name}"), &a[0].1, &b[0].1, &mut mismatches);
    }
    assert!(
        mismatches.is_empty(),
        "{} differences:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn command_info_and_docs_match_redis_resp2() {
    check_every_row(false);
}

#[test]
fn command_info_and_docs_match_redis_resp3() {
    check_every_row(true);
}

/// Compares the replies of both servers to each command line, exactly.
fn same_replies(resp3: bool, lines: &[&[&str]]) {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let (mut o, mut r) = (connect(&ours, resp3), connect(&redis, resp3));
    let mut mismatches = Vec::new();
    for line in lines {
        let (a, b) = (o.cmd_str(line), r.cmd_str(line));
        diff(&line.join(" "), &a, &b, &mut mismatches);
    }
    assert!(
        mismatches.is_empty(),
        "{} differences:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Command lines for GETKEYS: single keys, ranges, a step of 2, numkeys specs (with and
/// without a destination, numkeys after a timeout), SET's variable flags, subcommands, and
/// every error.
const GETKEYS_LINES: &[&[&str]] = &[
    &["get", "k"],
    &["set", "k", "v"],
    &["set", "k", "v", "GET"],
    &["set", "k", "v", "EX", "10", "get"],
    &["set", "k", "v", "get\0"],
    &["getex", "k", "PERSIST"],
    &["del", "a", "b", "c"],
    &["mget", "a", "b"],
    &["mset", "a", "1", "b", "2"],
    &["mset", "a", "1", "b"],
    &["msetnx", "a", "1"],
    &["rename", "a", "b"],
    &["copy", "a", "b", "DB", "1"],
    &["lmove", "a", "b", "LEFT", "RIGHT"],
    &["smove", "a", "b", "m"],
    &["blpop", "a", "b", "0"],
    &["brpoplpush", "a", "b", "0"],
    &["zrangestore", "d", "s", "0", "-1"],
    &["sinterstore", "d", "a", "b"],
    &["zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
    &["zinterstore", "d", "1", "a"],
    &["zdiffstore", "d", "2", "a", "b"],
    &["zunion", "2", "a", "b", "WITHSCORES"],
    &["zinter", "3", "a", "b", "c"],
    &["zdiff", "1", "a"],
    &["zintercard", "2", "a", "b", "LIMIT", "1"],
    &["sintercard", "2", "a", "b"],
    &["lmpop", "2", "a", "b", "LEFT", "COUNT", "2"],
    &["blmpop", "0", "2", "a", "b", "RIGHT"],
    &["zmpop", "1", "a", "MIN"],
    &["bzmpop", "1.5", "2", "a", "b", "MAX"],
    // numkeys that string2ll rejects but atoi reads: Redis's getkeys procs answer, flagless.
    &["zunionstore", "d", " 2", "a", "b"],
    &["zunion", "2x", "a", "b"],
    &["lmpop", "+1", "a", "LEFT"],
    &["blmpop", "0", " 1", "a", "LEFT"],
    &["sintercard", "1junk", "a"],
    // numkeys out of range or not a number.
    &["zunionstore", "d", "3", "a", "b"],
    &["zunionstore", "d", "0", "a", "b"],
    &["zunionstore", "d", "-1", "a", "b"],
    &["zunion", "x", "a"],
    &["lmpop", "5", "a", "LEFT"],
    &["sintercard", "99999999999", "a"],
    // BITFIELD's flags depend on its subcommands; BITOP's destination comes first.
    &[
        "bitfield", "k", "GET", "u8", "0", "overflow", "sat", "get", "i4", "#1",
    ],
    &["bitfield", "k", "get", "u8", "0", "INCRBY", "u8", "0", "1"],
    &["bitfield", "k", "get", "u8"],
    &["bitfield", "k"],
    &["bitfield_ro", "k", "get", "u8", "0"],
    &["bitop", "and", "d", "a", "b"],
    &["setbit", "k", "1", "1"],
    &["substr", "k", "0", "1"],
    // Case, subcommands, containers.
    &["GET", "k"],
    &["object", "encoding", "k"],
    &["OBJECT", "FREQ", "k"],
    &["object", "help"],
    &["object", "nosuch", "k"],
    &["client", "kill", "x"],
    &["client", "nosuch"],
    &["command", "info", "get"],
    // Errors.
    &["nosuch", "k"],
    &["ping", "x"],
    &["echo", "x"],
    &["get"],
    &["get", "a", "b"],
    &["set", "k"],
    &["mset", "a"],
    &["zunionstore", "d", "1"],
];

fn getkeys_lines(sub: &str) -> Vec<Vec<&str>> {
    let mut lines: Vec<Vec<&str>> = GETKEYS_LINES
        .iter()
        .map(|l| {
            let mut v = vec!["COMMAND", sub];
            v.extend_from_slice(l);
            v
        })
        .collect();
    // Too few arguments for the subcommand itself.
    lines.push(vec!["COMMAND", sub]);
    lines.push(vec!["COMMAND", sub, "get"]);
    lines
}

#[test]
fn command_getkeys_matches_redis() {
    let lines = getkeys_lines("GETKEYS");
    let lines: Vec<&[&str]> = lines.iter().map(|l| l.as_slice()).collect();
    same_replies(false, &lines);
}

#[test]
fn command_getkeysandflags_matches_redis() {
    let lines = getkeys_lines("GETKEYSANDFLAGS");
    let lines: Vec<&[&str]> = lines.iter().map(|l| l.as_slice()).collect();
    same_replies(false, &lines);
    same_replies(true, &lines);
}

/// COMMAND's other subcommands where both servers answer alike, including their errors and
/// unknown names, in both protocols.
#[test]
fn command_subcommand_replies_match_redis() {
    let lines: &[&[&str]] = &[
        &["COMMAND", "HELP"],
        &["COMMAND", "HELP", "x"],
        &["COMMAND", "INFO", "nosuch"],
        &[
            "COMMAND",
            "INFO",
            "get",
            "nosuch",
            "CLIENT|KILL",
            "client|nosuch",
            "get|x",
        ],
        &["COMMAND", "DOCS", "nosuch"],
        &["COMMAND", "DOCS", "nosuch", "client|nosuch"],
        &["COMMAND", "COUNT", "x"],
        &["COMMAND", "LIST", "FILTERBY"],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT"],
        &["COMMAND", "LIST", "FILTERBY", "NOSUCH", "x"],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "a", "b"],
        &["COMMAND", "LIST", "x"],
        &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"],
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "@read"],
        &["COMMAND", "NOSUCH"],
        &["COMMAND", "GETKEYS"],
    ];
    same_replies(false, lines);
    same_replies(true, lines);
}

/// COMMAND LIST with ACLCAT and PATTERN filters lists exactly the names of ours that Redis
/// lists.
#[test]
fn command_list_filters_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let (mut o, mut r) = (ours.raw(), redis.raw());
    let all = strings(&o.cmd_str(&["COMMAND", "LIST"]));
    let mut filters: Vec<(&str, &str)> = [
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "SLOW",
        "Write",
        "pubsub",
    ]
    .iter()
    .map(|c| ("ACLCAT", *c))
    .collect();
    filters.extend(
        [
            "*", "z*", "client|*", "*|*", "CONFIG|*", "?et", "[gs]et*", "*store", "nosuch*",
        ]
        .iter()
        .map(|p| ("PATTERN", *p)),
    );
    for (kind, value) in filters {
        let line = ["COMMAND", "LIST", "FILTERBY", kind, value];
        let a = strings(&o.cmd_str(&line));
        let b: BTreeSet<String> = strings(&r.cmd_str(&line))
            .intersection(&all)
            .cloned()
            .collect();
        let a: BTreeSet<String> = a
            .into_iter()
            .filter(|n| !OURS_ONLY.contains(&n.as_str()))
            .collect();
        assert_eq!(a, b, "{}", line.join(" "));
    }
}

/// COMMAND, COMMAND INFO and COMMAND DOCS without names cover every top-level row, as many as
/// COMMAND COUNT says, and each INFO entry's name is the one DOCS gives.
#[test]
fn whole_table_replies_agree() {
    let s = Server::start(&[]);
    let mut c = s.raw();
    let Reply::Int(count) = c.cmd_str(&["COMMAND", "COUNT"]) else {
        panic!("COMMAND COUNT")
    };
    let all = c.cmd_str(&["COMMAND"]);
    let info = c.cmd_str(&["COMMAND", "INFO"]);
    assert_eq!(all, info);
    let names: Vec<String> = items(&all).iter().map(|e| text(&items(e)[0])).collect();
    assert_eq!(names.len() as i64, count);
    let docs = pairs(&c.cmd_str(&["COMMAND", "DOCS"]));
    let doc_names: Vec<String> = docs.iter().map(|(k, _)| text(k)).collect();
    assert_eq!(names, doc_names);
    let listed = strings(&c.cmd_str(&["COMMAND", "LIST"]));
    for n in &names {
        assert!(listed.contains(n), "{n} missing from COMMAND LIST");
    }
    // ringkv's own ZQUERY is described like any other row.
    let zq = c.cmd_str(&["COMMAND", "INFO", "zquery"]);
    let zq = items(&items(&zq)[0]);
    assert_eq!(zq[3..6], [Reply::Int(1), Reply::Int(1), Reply::Int(1)]);
    assert_eq!(strings(&zq[2]), BTreeSet::from(["readonly".to_string()]));
    assert_eq!(items(&zq[8]).len(), 1);
    assert_eq!(
        c.cmd_str(&["COMMAND", "GETKEYS", "zquery", "k", "1", "m", "0", "10"]),
        Reply::Array(Some(vec![Reply::bulk(b"k")]))
    );
}

#[test]
fn command_info_rows_match_redis() {
    // The first seven fields again, compared as sets: kept from before the full comparison
    // above, as a coarse check that reads well when many rows go wrong at once.
    type Row = (String, i64, BTreeSet<String>, Vec<Reply>, BTreeSet<String>);
    fn rows(info: &Reply, out: &mut Vec<Row>) {
        let f = items(info);
        let Reply::Int(arity) = f[1] else {
            panic!("arity {:?}", f[1])
        };
        out.push((
            text(&f[0]),
            arity,
            strings(&f[2]),
            f[3..6].to_vec(),
            strings(&f[6]),
        ));
        for s in items(&f[9]) {
            rows(s, out);
        }
    }
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let (mut o, mut r) = (ours.raw(), redis.raw());
    let mut mismatches = Vec::new();
    for name in our_names(&mut o) {
        let (a, b) = (
            o.cmd_str(&["COMMAND", "INFO", &name]),
            r.cmd_str(&["COMMAND", "INFO", &name]),
        );
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        rows(&items(&a)[0], &mut ra);
        rows(&items(&b)[0], &mut rb);
        for x in &ra {
            match rb.iter().find(|y| y.0 == x.0) {
                Some(y) if y == x => {}
                Some(y) => mismatches.push(format!("ours  {x:?}\nredis {y:?}")),
                None => mismatches.push(format!("{} is not a Redis 7.0 command", x.0)),
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} rows differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
