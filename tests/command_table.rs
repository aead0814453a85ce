//! The command table against redis-server 7.0's: for every command (and subcommand) ringkv
//! has, COMMAND INFO's name, arity, flags, key positions and ACL categories must equal Redis's.
//! Clients and redis-cli read these to route keys, detect write commands and pick hints, so a
//! wrong row is a real bug even when the command itself works.

mod common;

use common::{Reply, Server};
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

fn strings(r: &Reply) -> BTreeSet<String> {
    match r {
        Reply::Array(Some(v)) | Reply::Set(v) => v.iter().map(text).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// (name, arity, flags, first, last, step, categories) of one COMMAND INFO entry.
type Row = (
    String,
    i64,
    BTreeSet<String>,
    i64,
    i64,
    i64,
    BTreeSet<String>,
);

fn row(info: &Reply) -> Row {
    let Reply::Array(Some(f)) = info else {
        panic!("COMMAND INFO entry is not an array: {info:?}");
    };
    let int = |r: &Reply| match r {
        Reply::Int(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    };
    (
        text(&f[0]),
        int(&f[1]),
        strings(&f[2]),
        int(&f[3]),
        int(&f[4]),
        int(&f[5]),
        strings(&f[6]),
    )
}

/// Every row of COMMAND INFO `name`, subcommands included.
fn rows(info: &Reply, out: &mut Vec<Row>) {
    out.push(row(info));
    if let Reply::Array(Some(f)) = info {
        if let Some(Reply::Array(Some(subs))) = f.get(9) {
            for s in subs {
                rows(s, out);
            }
        }
    }
}

#[test]
fn command_info_rows_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let mut o = ours.raw();
    let mut r = redis.raw();
    let names = strings(&o.cmd_str(&["COMMAND", "LIST"]));
    assert!(names.len() > 150, "only {} commands listed", names.len());
    let mut mismatches = Vec::new();
    for name in &names {
        if OURS_ONLY.contains(&name.as_str()) {
            continue;
        }
        let (Reply::Array(Some(a)), Reply::Array(Some(b))) = (
            o.cmd_str(&["COMMAND", "INFO", name]),
            r.cmd_str(&["COMMAND", "INFO", name]),
        ) else {
            panic!("COMMAND INFO {name} did not answer arrays");
        };
        assert_eq!(a.len(), 1);
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        rows(&a[0], &mut ra);
        rows(&b[0], &mut rb);
        // Compare the subcommands we have; Redis may have more.
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
