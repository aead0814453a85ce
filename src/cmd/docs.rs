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
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "value",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "auth",
        &[
            Arg {
                name: "username",
                kind: "string",
                token: None,
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "password",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "client|kill",
        &[Arg {
            name: "filter",
            kind: "oneof",
            token: None,
            flags: 0,
            args: &[
                Arg {
                    name: "ip:port",
                    kind: "string",
                    token: None,
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "new-format",
                    kind: "oneof",
                    token: None,
                    flags: MULTIPLE,
                    args: &[
                        Arg {
                            name: "client-id",
                            kind: "integer",
                            token: Some("ID"),
                            flags: OPTIONAL,
                            args: &[],
                        },
                        Arg {
                            name: "normal_master_slave_pubsub",
                            kind: "oneof",
                            token: Some("TYPE"),
                            flags: OPTIONAL,
                            args: &[
                                Arg {
                                    name: "normal",
                                    kind: "pure-token",
                                    token: Some("NORMAL"),
                                    flags: 0,
                                    args: &[],
                                },
                                Arg {
                                    name: "master",
                                    kind: "pure-token",
                                    token: Some("MASTER"),
                                    flags: 0,
                                    args: &[],
                                },
                                Arg {
                                    name: "slave",
                                    kind: "pure-token",
                                    token: Some("SLAVE"),
                                    flags: 0,
                                    args: &[],
                                },
                                Arg {
                                    name: "replica",
                                    kind: "pure-token",
                                    token: Some("REPLICA"),
                                    flags: 0,
                                    args: &[],
                                },
                                Arg {
                                    name: "pubsub",
                                    kind: "pure-token",
                                    token: Some("PUBSUB"),
                                    flags: 0,
                                    args: &[],
                                },
                            ],
                        },
                        Arg {
                            name: "username",
                            kind: "string",
                            token: Some("USER"),
                            flags: OPTIONAL,
                            args: &[],
                        },
                        Arg {
                            name: "ip:port",
                            kind: "string",
                            token: Some("ADDR"),
                            flags: OPTIONAL,
                            args: &[],
                        },
                        Arg {
                            name: "ip:port",
                            kind: "string",
                            token: Some("LADDR"),
                            flags: OPTIONAL,
                            args: &[],
                        },
                        Arg {
                            name: "yes/no",
                            kind: "string",
                            token: Some("SKIPME"),
                            flags: OPTIONAL,
                            args: &[],
                        },
                    ],
                },
            ],
        }],
    ),
    (
        "client|list",
        &[
            Arg {
                name: "normal_master_replica_pubsub",
                kind: "oneof",
                token: Some("TYPE"),
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "normal",
                        kind: "pure-token",
                        token: Some("NORMAL"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "master",
                        kind: "pure-token",
                        token: Some("MASTER"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "replica",
                        kind: "pure-token",
                        token: Some("REPLICA"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "pubsub",
                        kind: "pure-token",
                        token: Some("PUBSUB"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
            Arg {
                name: "id",
                kind: "block",
                token: Some("ID"),
                flags: OPTIONAL,
                args: &[Arg {
                    name: "client-id",
                    kind: "integer",
                    token: None,
                    flags: MULTIPLE,
                    args: &[],
                }],
            },
        ],
    ),
    (
        "client|setname",
        &[Arg {
            name: "connection-name",
            kind: "string",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "command|docs",
        &[Arg {
            name: "command-name",
            kind: "string",
            token: None,
            flags: OPTIONAL | MULTIPLE,
            args: &[],
        }],
    ),
    (
        "command|info",
        &[Arg {
            name: "command-name",
            kind: "string",
            token: None,
            flags: OPTIONAL | MULTIPLE,
            args: &[],
        }],
    ),
    (
        "command|list",
        &[Arg {
            name: "filterby",
            kind: "oneof",
            token: Some("FILTERBY"),
            flags: OPTIONAL,
            args: &[
                Arg {
                    name: "module-name",
                    kind: "string",
                    token: Some("MODULE"),
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "category",
                    kind: "string",
                    token: Some("ACLCAT"),
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "pattern",
                    kind: "pattern",
                    token: Some("PATTERN"),
                    flags: 0,
                    args: &[],
                },
            ],
        }],
    ),
    (
        "config|get",
        &[Arg {
            name: "parameter",
            kind: "block",
            token: None,
            flags: MULTIPLE,
            args: &[Arg {
                name: "parameter",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            }],
        }],
    ),
    (
        "config|set",
        &[Arg {
            name: "parameter_value",
            kind: "block",
            token: None,
            flags: MULTIPLE,
            args: &[
                Arg {
                    name: "parameter",
                    kind: "string",
                    token: None,
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "value",
                    kind: "string",
                    token: None,
                    flags: 0,
                    args: &[],
                },
            ],
        }],
    ),
    (
        "copy",
        &[
            Arg {
                name: "source",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "destination",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "destination-db",
                kind: "integer",
                token: Some("DB"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "replace",
                kind: "pure-token",
                token: Some("REPLACE"),
                flags: OPTIONAL,
                args: &[],
            },
        ],
    ),
    (
        "decr",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "decrby",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "decrement",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "del",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: MULTIPLE,
            args: &[],
        }],
    ),
    (
        "echo",
        &[Arg {
            name: "message",
            kind: "string",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "exists",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: MULTIPLE,
            args: &[],
        }],
    ),
    (
        "expire",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "seconds",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "condition",
                kind: "oneof",
                token: None,
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "nx",
                        kind: "pure-token",
                        token: Some("NX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "xx",
                        kind: "pure-token",
                        token: Some("XX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "gt",
                        kind: "pure-token",
                        token: Some("GT"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "lt",
                        kind: "pure-token",
                        token: Some("LT"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
        ],
    ),
    (
        "expireat",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "unix-time-seconds",
                kind: "unix-time",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "condition",
                kind: "oneof",
                token: None,
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "nx",
                        kind: "pure-token",
                        token: Some("NX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "xx",
                        kind: "pure-token",
                        token: Some("XX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "gt",
                        kind: "pure-token",
                        token: Some("GT"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "lt",
                        kind: "pure-token",
                        token: Some("LT"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
        ],
    ),
    (
        "expiretime",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "flushall",
        &[Arg {
            name: "async",
            kind: "oneof",
            token: None,
            flags: OPTIONAL,
            args: &[
                Arg {
                    name: "async",
                    kind: "pure-token",
                    token: Some("ASYNC"),
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "sync",
                    kind: "pure-token",
                    token: Some("SYNC"),
                    flags: 0,
                    args: &[],
                },
            ],
        }],
    ),
    (
        "flushdb",
        &[Arg {
            name: "async",
            kind: "oneof",
            token: None,
            flags: OPTIONAL,
            args: &[
                Arg {
                    name: "async",
                    kind: "pure-token",
                    token: Some("ASYNC"),
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "sync",
                    kind: "pure-token",
                    token: Some("SYNC"),
                    flags: 0,
                    args: &[],
                },
            ],
        }],
    ),
    (
        "get",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "getdel",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "getex",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "expiration",
                kind: "oneof",
                token: None,
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "seconds",
                        kind: "integer",
                        token: Some("EX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "milliseconds",
                        kind: "integer",
                        token: Some("PX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "unix-time-seconds",
                        kind: "unix-time",
                        token: Some("EXAT"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "unix-time-milliseconds",
                        kind: "unix-time",
                        token: Some("PXAT"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "persist",
                        kind: "pure-token",
                        token: Some("PERSIST"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
        ],
    ),
    (
        "getrange",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "start",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "end",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "getset",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "value",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "hello",
        &[Arg {
            name: "arguments",
            kind: "block",
            token: None,
            flags: OPTIONAL,
            args: &[
                Arg {
                    name: "protover",
                    kind: "integer",
                    token: None,
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "username_password",
                    kind: "block",
                    token: Some("AUTH"),
                    flags: OPTIONAL,
                    args: &[
                        Arg {
                            name: "username",
                            kind: "string",
                            token: None,
                            flags: 0,
                            args: &[],
                        },
                        Arg {
                            name: "password",
                            kind: "string",
                            token: None,
                            flags: 0,
                            args: &[],
                        },
                    ],
                },
                Arg {
                    name: "clientname",
                    kind: "string",
                    token: Some("SETNAME"),
                    flags: OPTIONAL,
                    args: &[],
                },
            ],
        }],
    ),
    (
        "incr",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "incrby",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "increment",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "incrbyfloat",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "increment",
                kind: "double",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "info",
        &[Arg {
            name: "section",
            kind: "string",
            token: None,
            flags: OPTIONAL | MULTIPLE,
            args: &[],
        }],
    ),
    (
        "keys",
        &[Arg {
            name: "pattern",
            kind: "pattern",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "lcs",
        &[
            Arg {
                name: "key1",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "key2",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "len",
                kind: "pure-token",
                token: Some("LEN"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "idx",
                kind: "pure-token",
                token: Some("IDX"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "len",
                kind: "integer",
                token: Some("MINMATCHLEN"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "withmatchlen",
                kind: "pure-token",
                token: Some("WITHMATCHLEN"),
                flags: OPTIONAL,
                args: &[],
            },
        ],
    ),
    (
        "mget",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: MULTIPLE,
            args: &[],
        }],
    ),
    (
        "move",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "db",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "mset",
        &[Arg {
            name: "key_value",
            kind: "block",
            token: None,
            flags: MULTIPLE,
            args: &[
                Arg {
                    name: "key",
                    kind: "key",
                    token: None,
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "value",
                    kind: "string",
                    token: None,
                    flags: 0,
                    args: &[],
                },
            ],
        }],
    ),
    (
        "msetnx",
        &[Arg {
            name: "key_value",
            kind: "block",
            token: None,
            flags: MULTIPLE,
            args: &[
                Arg {
                    name: "key",
                    kind: "key",
                    token: None,
                    flags: 0,
                    args: &[],
                },
                Arg {
                    name: "value",
                    kind: "string",
                    token: None,
                    flags: 0,
                    args: &[],
                },
            ],
        }],
    ),
    (
        "object|encoding",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "object|freq",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "object|idletime",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "object|refcount",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "persist",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "pexpire",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "milliseconds",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "condition",
                kind: "oneof",
                token: None,
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "nx",
                        kind: "pure-token",
                        token: Some("NX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "xx",
                        kind: "pure-token",
                        token: Some("XX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "gt",
                        kind: "pure-token",
                        token: Some("GT"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "lt",
                        kind: "pure-token",
                        token: Some("LT"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
        ],
    ),
    (
        "pexpireat",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "unix-time-milliseconds",
                kind: "unix-time",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "condition",
                kind: "oneof",
                token: None,
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "nx",
                        kind: "pure-token",
                        token: Some("NX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "xx",
                        kind: "pure-token",
                        token: Some("XX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "gt",
                        kind: "pure-token",
                        token: Some("GT"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "lt",
                        kind: "pure-token",
                        token: Some("LT"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
        ],
    ),
    (
        "pexpiretime",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "ping",
        &[Arg {
            name: "message",
            kind: "string",
            token: None,
            flags: OPTIONAL,
            args: &[],
        }],
    ),
    (
        "psetex",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "milliseconds",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "value",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "pttl",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "rename",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "newkey",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "renamenx",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "newkey",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "scan",
        &[
            Arg {
                name: "cursor",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "pattern",
                kind: "pattern",
                token: Some("MATCH"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "count",
                kind: "integer",
                token: Some("COUNT"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "type",
                kind: "string",
                token: Some("TYPE"),
                flags: OPTIONAL,
                args: &[],
            },
        ],
    ),
    (
        "select",
        &[Arg {
            name: "index",
            kind: "integer",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "set",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "value",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "condition",
                kind: "oneof",
                token: None,
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "nx",
                        kind: "pure-token",
                        token: Some("NX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "xx",
                        kind: "pure-token",
                        token: Some("XX"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
            Arg {
                name: "get",
                kind: "pure-token",
                token: Some("GET"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "expiration",
                kind: "oneof",
                token: None,
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "seconds",
                        kind: "integer",
                        token: Some("EX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "milliseconds",
                        kind: "integer",
                        token: Some("PX"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "unix-time-seconds",
                        kind: "unix-time",
                        token: Some("EXAT"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "unix-time-milliseconds",
                        kind: "unix-time",
                        token: Some("PXAT"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "keepttl",
                        kind: "pure-token",
                        token: Some("KEEPTTL"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
        ],
    ),
    (
        "setex",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "seconds",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "value",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "setnx",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "value",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "setrange",
        &[
            Arg {
                name: "key",
                kind: "key",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "offset",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "value",
                kind: "string",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "shutdown",
        &[
            Arg {
                name: "nosave_save",
                kind: "oneof",
                token: None,
                flags: OPTIONAL,
                args: &[
                    Arg {
                        name: "nosave",
                        kind: "pure-token",
                        token: Some("NOSAVE"),
                        flags: 0,
                        args: &[],
                    },
                    Arg {
                        name: "save",
                        kind: "pure-token",
                        token: Some("SAVE"),
                        flags: 0,
                        args: &[],
                    },
                ],
            },
            Arg {
                name: "now",
                kind: "pure-token",
                token: Some("NOW"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "force",
                kind: "pure-token",
                token: Some("FORCE"),
                flags: OPTIONAL,
                args: &[],
            },
            Arg {
                name: "abort",
                kind: "pure-token",
                token: Some("ABORT"),
                flags: OPTIONAL,
                args: &[],
            },
        ],
    ),
    (
        "strlen",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "swapdb",
        &[
            Arg {
                name: "index1",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
            Arg {
                name: "index2",
                kind: "integer",
                token: None,
                flags: 0,
                args: &[],
            },
        ],
    ),
    (
        "touch",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: MULTIPLE,
            args: &[],
        }],
    ),
    (
        "ttl",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "type",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: 0,
            args: &[],
        }],
    ),
    (
        "unlink",
        &[Arg {
            name: "key",
            kind: "key",
            token: None,
            flags: MULTIPLE,
            args: &[],
        }],
    ),
];
