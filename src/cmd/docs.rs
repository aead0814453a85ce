//! Argument documentation for COMMAND DOCS, per command of the table: what redis-cli turns
//! into its interactive hints and what clients read to learn a command's syntax.
//!
//! The shapes (names, types, tokens, optional/multiple flags, nesting) describe the same
//! syntax as Redis 7.0 documents for each command, so hints read the same as with Redis.

use crate::resp::reply::Reply;

pub const OPTIONAL: u8 = 1;
pub const MULTIPLE: u8 = 2;
pub const MULTIPLE_TOKEN: u8 = 4;

pub struct Arg {
    pub name: &'static str,
    /// key, string, integer, double, pattern, unix-time, pure-token, oneof, block.
    pub kind: &'static str,
    pub token: Option<&'static str>,
    pub flags: u8,
    pub args: &'static [Arg],
}

/// One documented argument (the table rows below, and each family's `ARGS`, are built with
/// this).
pub const fn arg(
    name: &'static str,
    kind: &'static str,
    token: Option<&'static str>,
    flags: u8,
    args: &'static [Arg],
) -> Arg {
    Arg {
        name,
        kind,
        token,
        flags,
        args,
    }
}

/// Argument docs by family: the core commands here, the collection families in their files.
static FAMILY_ARGS: &[&[(&str, &[Arg])]] = &[
    ARGS,
    super::lists::ARGS,
    super::hashes::ARGS,
    super::sets::ARGS,
];

/// The documented arguments of a command by full name (`config|get`).
pub fn args_of(name: &str) -> &'static [Arg] {
    FAMILY_ARGS
        .iter()
        .flat_map(|a| a.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, a)| *a)
        .unwrap_or(&[])
}

/// Writes the `arguments` array of COMMAND DOCS.
pub fn write_args(r: &mut Reply<'_>, args: &[Arg]) {
    r.array(args.len());
    for a in args {
        let flag_names: Vec<&str> = [
            (OPTIONAL, "optional"),
            (MULTIPLE, "multiple"),
            (MULTIPLE_TOKEN, "multiple_token"),
        ]
        .iter()
        .filter(|(f, _)| a.flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
        let fields = 2
            + (a.kind == "key") as usize
            + a.token.is_some() as usize
            + !flag_names.is_empty() as usize
            + !a.args.is_empty() as usize;
        r.map(fields);
        r.bulk(b"name");
        r.bulk(a.name.as_bytes());
        r.bulk(b"type");
        r.bulk(a.kind.as_bytes());
        if a.kind == "key" {
            r.bulk(b"key_spec_index");
            r.int(0);
        }
        if let Some(t) = a.token {
            r.bulk(b"token");
            r.bulk(t.as_bytes());
        }
        if !flag_names.is_empty() {
            r.bulk(b"flags");
            r.set(flag_names.len());
            for f in flag_names {
                r.simple(f);
            }
        }
        if !a.args.is_empty() {
            r.bulk(b"arguments");
            write_args(r, a.args);
        }
    }
}

pub static ARGS: &[(&str, &[Arg])] = &[
    (
        "append",
        &[
            arg("key", "key", None, 0, &[]),
            arg("value", "string", None, 0, &[]),
        ],
    ),
    (
        "auth",
        &[
            arg("username", "string", None, OPTIONAL, &[]),
            arg("password", "string", None, 0, &[]),
        ],
    ),
    (
        "client|kill",
        &[arg(
            "filter",
            "oneof",
            None,
            0,
            &[
                arg("ip:port", "string", None, 0, &[]),
                arg(
                    "new-format",
                    "oneof",
                    None,
                    MULTIPLE,
                    &[
                        arg("client-id", "integer", Some("ID"), OPTIONAL, &[]),
                        arg(
                            "normal_master_slave_pubsub",
                            "oneof",
                            Some("TYPE"),
                            OPTIONAL,
                            &[
                                arg("normal", "pure-token", Some("NORMAL"), 0, &[]),
                                arg("master", "pure-token", Some("MASTER"), 0, &[]),
                                arg("slave", "pure-token", Some("SLAVE"), 0, &[]),
                                arg("replica", "pure-token", Some("REPLICA"), 0, &[]),
                                arg("pubsub", "pure-token", Some("PUBSUB"), 0, &[]),
                            ],
                        ),
                        arg("username", "string", Some("USER"), OPTIONAL, &[]),
                        arg("ip:port", "string", Some("ADDR"), OPTIONAL, &[]),
                        arg("ip:port", "string", Some("LADDR"), OPTIONAL, &[]),
                        arg("yes/no", "string", Some("SKIPME"), OPTIONAL, &[]),
                    ],
                ),
            ],
        )],
    ),
    (
        "client|list",
        &[
            arg(
                "normal_master_replica_pubsub",
                "oneof",
                Some("TYPE"),
                OPTIONAL,
                &[
                    arg("normal", "pure-token", Some("NORMAL"), 0, &[]),
                    arg("master", "pure-token", Some("MASTER"), 0, &[]),
                    arg("replica", "pure-token", Some("REPLICA"), 0, &[]),
                    arg("pubsub", "pure-token", Some("PUBSUB"), 0, &[]),
                ],
            ),
            arg(
                "id",
                "block",
                Some("ID"),
                OPTIONAL,
                &[arg("client-id", "integer", None, MULTIPLE, &[])],
            ),
        ],
    ),
    (
        "client|setname",
        &[arg("connection-name", "string", None, 0, &[])],
    ),
    (
        "command|docs",
        &[arg(
            "command-name",
            "string",
            None,
            OPTIONAL | MULTIPLE,
            &[],
        )],
    ),
    (
        "command|info",
        &[arg(
            "command-name",
            "string",
            None,
            OPTIONAL | MULTIPLE,
            &[],
        )],
    ),
    (
        "command|list",
        &[arg(
            "filterby",
            "oneof",
            Some("FILTERBY"),
            OPTIONAL,
            &[
                arg("module-name", "string", Some("MODULE"), 0, &[]),
                arg("category", "string", Some("ACLCAT"), 0, &[]),
                arg("pattern", "pattern", Some("PATTERN"), 0, &[]),
            ],
        )],
    ),
    (
        "config|get",
        &[arg(
            "parameter",
            "block",
            None,
            MULTIPLE,
            &[arg("parameter", "string", None, 0, &[])],
        )],
    ),
    (
        "config|set",
        &[arg(
            "parameter_value",
            "block",
            None,
            MULTIPLE,
            &[
                arg("parameter", "string", None, 0, &[]),
                arg("value", "string", None, 0, &[]),
            ],
        )],
    ),
    (
        "copy",
        &[
            arg("source", "key", None, 0, &[]),
            arg("destination", "key", None, 0, &[]),
            arg("destination-db", "integer", Some("DB"), OPTIONAL, &[]),
            arg("replace", "pure-token", Some("REPLACE"), OPTIONAL, &[]),
        ],
    ),
    ("decr", &[arg("key", "key", None, 0, &[])]),
    (
        "decrby",
        &[
            arg("key", "key", None, 0, &[]),
            arg("decrement", "integer", None, 0, &[]),
        ],
    ),
    ("del", &[arg("key", "key", None, MULTIPLE, &[])]),
    ("echo", &[arg("message", "string", None, 0, &[])]),
    ("exists", &[arg("key", "key", None, MULTIPLE, &[])]),
    (
        "expire",
        &[
            arg("key", "key", None, 0, &[]),
            arg("seconds", "integer", None, 0, &[]),
            arg(
                "condition",
                "oneof",
                None,
                OPTIONAL,
                &[
                    arg("nx", "pure-token", Some("NX"), 0, &[]),
                    arg("xx", "pure-token", Some("XX"), 0, &[]),
                    arg("gt", "pure-token", Some("GT"), 0, &[]),
                    arg("lt", "pure-token", Some("LT"), 0, &[]),
                ],
            ),
        ],
    ),
    (
        "expireat",
        &[
            arg("key", "key", None, 0, &[]),
            arg("unix-time-seconds", "unix-time", None, 0, &[]),
            arg(
                "condition",
                "oneof",
                None,
                OPTIONAL,
                &[
                    arg("nx", "pure-token", Some("NX"), 0, &[]),
                    arg("xx", "pure-token", Some("XX"), 0, &[]),
                    arg("gt", "pure-token", Some("GT"), 0, &[]),
                    arg("lt", "pure-token", Some("LT"), 0, &[]),
                ],
            ),
        ],
    ),
    ("expiretime", &[arg("key", "key", None, 0, &[])]),
    (
        "flushall",
        &[arg(
            "async",
            "oneof",
            None,
            OPTIONAL,
            &[
                arg("async", "pure-token", Some("ASYNC"), 0, &[]),
                arg("sync", "pure-token", Some("SYNC"), 0, &[]),
            ],
        )],
    ),
    (
        "flushdb",
        &[arg(
            "async",
            "oneof",
            None,
            OPTIONAL,
            &[
                arg("async", "pure-token", Some("ASYNC"), 0, &[]),
                arg("sync", "pure-token", Some("SYNC"), 0, &[]),
            ],
        )],
    ),
    ("get", &[arg("key", "key", None, 0, &[])]),
    ("getdel", &[arg("key", "key", None, 0, &[])]),
    (
        "getex",
        &[
            arg("key", "key", None, 0, &[]),
            arg(
                "expiration",
                "oneof",
                None,
                OPTIONAL,
                &[
                    arg("seconds", "integer", Some("EX"), 0, &[]),
                    arg("milliseconds", "integer", Some("PX"), 0, &[]),
                    arg("unix-time-seconds", "unix-time", Some("EXAT"), 0, &[]),
                    arg("unix-time-milliseconds", "unix-time", Some("PXAT"), 0, &[]),
                    arg("persist", "pure-token", Some("PERSIST"), 0, &[]),
                ],
            ),
        ],
    ),
    (
        "getrange",
        &[
            arg("key", "key", None, 0, &[]),
            arg("start", "integer", None, 0, &[]),
            arg("end", "integer", None, 0, &[]),
        ],
    ),
    (
        "getset",
        &[
            arg("key", "key", None, 0, &[]),
            arg("value", "string", None, 0, &[]),
        ],
    ),
    (
        "hello",
        &[arg(
            "arguments",
            "block",
            None,
            OPTIONAL,
            &[
                arg("protover", "integer", None, 0, &[]),
                arg(
                    "username_password",
                    "block",
                    Some("AUTH"),
                    OPTIONAL,
                    &[
                        arg("username", "string", None, 0, &[]),
                        arg("password", "string", None, 0, &[]),
                    ],
                ),
                arg("clientname", "string", Some("SETNAME"), OPTIONAL, &[]),
            ],
        )],
    ),
    ("incr", &[arg("key", "key", None, 0, &[])]),
    (
        "incrby",
        &[
            arg("key", "key", None, 0, &[]),
            arg("increment", "integer", None, 0, &[]),
        ],
    ),
    (
        "incrbyfloat",
        &[
            arg("key", "key", None, 0, &[]),
            arg("increment", "double", None, 0, &[]),
        ],
    ),
    (
        "info",
        &[arg("section", "string", None, OPTIONAL | MULTIPLE, &[])],
    ),
    ("keys", &[arg("pattern", "pattern", None, 0, &[])]),
    (
        "lcs",
        &[
            arg("key1", "key", None, 0, &[]),
            arg("key2", "key", None, 0, &[]),
            arg("len", "pure-token", Some("LEN"), OPTIONAL, &[]),
            arg("idx", "pure-token", Some("IDX"), OPTIONAL, &[]),
            arg("len", "integer", Some("MINMATCHLEN"), OPTIONAL, &[]),
            arg(
                "withmatchlen",
                "pure-token",
                Some("WITHMATCHLEN"),
                OPTIONAL,
                &[],
            ),
        ],
    ),
    ("mget", &[arg("key", "key", None, MULTIPLE, &[])]),
    (
        "move",
        &[
            arg("key", "key", None, 0, &[]),
            arg("db", "integer", None, 0, &[]),
        ],
    ),
    (
        "mset",
        &[arg(
            "key_value",
            "block",
            None,
            MULTIPLE,
            &[
                arg("key", "key", None, 0, &[]),
                arg("value", "string", None, 0, &[]),
            ],
        )],
    ),
    (
        "msetnx",
        &[arg(
            "key_value",
            "block",
            None,
            MULTIPLE,
            &[
                arg("key", "key", None, 0, &[]),
                arg("value", "string", None, 0, &[]),
            ],
        )],
    ),
    ("object|encoding", &[arg("key", "key", None, 0, &[])]),
    ("object|freq", &[arg("key", "key", None, 0, &[])]),
    ("object|idletime", &[arg("key", "key", None, 0, &[])]),
    ("object|refcount", &[arg("key", "key", None, 0, &[])]),
    ("persist", &[arg("key", "key", None, 0, &[])]),
    (
        "pexpire",
        &[
            arg("key", "key", None, 0, &[]),
            arg("milliseconds", "integer", None, 0, &[]),
            arg(
                "condition",
                "oneof",
                None,
                OPTIONAL,
                &[
                    arg("nx", "pure-token", Some("NX"), 0, &[]),
                    arg("xx", "pure-token", Some("XX"), 0, &[]),
                    arg("gt", "pure-token", Some("GT"), 0, &[]),
                    arg("lt", "pure-token", Some("LT"), 0, &[]),
                ],
            ),
        ],
    ),
    (
        "pexpireat",
        &[
            arg("key", "key", None, 0, &[]),
            arg("unix-time-milliseconds", "unix-time", None, 0, &[]),
            arg(
                "condition",
                "oneof",
                None,
                OPTIONAL,
                &[
                    arg("nx", "pure-token", Some("NX"), 0, &[]),
                    arg("xx", "pure-token", Some("XX"), 0, &[]),
                    arg("gt", "pure-token", Some("GT"), 0, &[]),
                    arg("lt", "pure-token", Some("LT"), 0, &[]),
                ],
            ),
        ],
    ),
    ("pexpiretime", &[arg("key", "key", None, 0, &[])]),
    ("ping", &[arg("message", "string", None, OPTIONAL, &[])]),
    (
        "psetex",
        &[
            arg("key", "key", None, 0, &[]),
            arg("milliseconds", "integer", None, 0, &[]),
            arg("value", "string", None, 0, &[]),
        ],
    ),
    ("pttl", &[arg("key", "key", None, 0, &[])]),
    (
        "rename",
        &[
            arg("key", "key", None, 0, &[]),
            arg("newkey", "key", None, 0, &[]),
        ],
    ),
    (
        "renamenx",
        &[
            arg("key", "key", None, 0, &[]),
            arg("newkey", "key", None, 0, &[]),
        ],
    ),
    (
        "scan",
        &[
            arg("cursor", "integer", None, 0, &[]),
            arg("pattern", "pattern", Some("MATCH"), OPTIONAL, &[]),
            arg("count", "integer", Some("COUNT"), OPTIONAL, &[]),
            arg("type", "string", Some("TYPE"), OPTIONAL, &[]),
        ],
    ),
    ("select", &[arg("index", "integer", None, 0, &[])]),
    (
        "set",
        &[
            arg("key", "key", None, 0, &[]),
            arg("value", "string", None, 0, &[]),
            arg(
                "condition",
                "oneof",
                None,
                OPTIONAL,
                &[
                    arg("nx", "pure-token", Some("NX"), 0, &[]),
                    arg("xx", "pure-token", Some("XX"), 0, &[]),
                ],
            ),
            arg("get", "pure-token", Some("GET"), OPTIONAL, &[]),
            arg(
                "expiration",
                "oneof",
                None,
                OPTIONAL,
                &[
                    arg("seconds", "integer", Some("EX"), 0, &[]),
                    arg("milliseconds", "integer", Some("PX"), 0, &[]),
                    arg("unix-time-seconds", "unix-time", Some("EXAT"), 0, &[]),
                    arg("unix-time-milliseconds", "unix-time", Some("PXAT"), 0, &[]),
                    arg("keepttl", "pure-token", Some("KEEPTTL"), 0, &[]),
                ],
            ),
        ],
    ),
    (
        "setex",
        &[
            arg("key", "key", None, 0, &[]),
            arg("seconds", "integer", None, 0, &[]),
            arg("value", "string", None, 0, &[]),
        ],
    ),
    (
        "setnx",
        &[
            arg("key", "key", None, 0, &[]),
            arg("value", "string", None, 0, &[]),
        ],
    ),
    (
        "setrange",
        &[
            arg("key", "key", None, 0, &[]),
            arg("offset", "integer", None, 0, &[]),
            arg("value", "string", None, 0, &[]),
        ],
    ),
    (
        "shutdown",
        &[
            arg(
                "nosave_save",
                "oneof",
                None,
                OPTIONAL,
                &[
                    arg("nosave", "pure-token", Some("NOSAVE"), 0, &[]),
                    arg("save", "pure-token", Some("SAVE"), 0, &[]),
                ],
            ),
            arg("now", "pure-token", Some("NOW"), OPTIONAL, &[]),
            arg("force", "pure-token", Some("FORCE"), OPTIONAL, &[]),
            arg("abort", "pure-token", Some("ABORT"), OPTIONAL, &[]),
        ],
    ),
    ("strlen", &[arg("key", "key", None, 0, &[])]),
    (
        "swapdb",
        &[
            arg("index1", "integer", None, 0, &[]),
            arg("index2", "integer", None, 0, &[]),
        ],
    ),
    ("touch", &[arg("key", "key", None, MULTIPLE, &[])]),
    ("ttl", &[arg("key", "key", None, 0, &[])]),
    ("type", &[arg("key", "key", None, 0, &[])]),
    ("unlink", &[arg("key", "key", None, MULTIPLE, &[])]),
];
