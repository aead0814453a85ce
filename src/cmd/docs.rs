//! Argument documentation: the `Arg` tree each row of the command table carries, and its
//! writer for COMMAND DOCS. redis-cli turns these trees into its interactive hints and client
//! libraries read them to learn a command's syntax, so their shapes (names, types, tokens,
//! flags, `since`, nesting) are the ones Redis 7.0.15 reports.
//!
//! A tree is written with the constructors below, one per argument type, and modifiers:
//! `integer("count").token("COUNT").optional()` is Redis's `[COUNT count]`;
//! `block("score_member", &[double("score"), string("member")]).multiple()` is its
//! `score member [score member ...]`.

use crate::resp::reply::Reply;

/// An argument's type, as COMMAND DOCS names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    /// A key name; `Arg::key_spec_index` says which key spec finds it.
    Key,
    Pattern,
    UnixTime,
    /// A word with no value (`NX`); its text is the token.
    PureToken,
    /// Exactly one of the nested arguments.
    Oneof,
    /// The nested arguments, in order.
    Block,
}

impl ArgType {
    pub const fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::Oneof => "oneof",
            ArgType::Block => "block",
        }
    }
}

pub const OPTIONAL: u8 = 1;
pub const MULTIPLE: u8 = 2;
pub const MULTIPLE_TOKEN: u8 = 4;

/// Argument flag names in Redis's order.
const FLAG_NAMES: [(u8, &str); 3] = [
    (OPTIONAL, "optional"),
    (MULTIPLE, "multiple"),
    (MULTIPLE_TOKEN, "multiple_token"),
];

/// One documented argument.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgType,
    /// For `ArgType::Key`, and a pattern that names keys (SORT's BY and GET): the index of
    /// the key spec (in the row's `key_specs`) that finds those keys.
    pub key_spec_index: usize,
    /// Whether COMMAND DOCS shows `key_spec_index` (keys, and patterns given one).
    pub has_key_spec: bool,
    /// The word that introduces the argument (`EX seconds`), if any.
    pub token: Option<&'static str>,
    /// The version that added the argument, when later than the command.
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    /// OPTIONAL | MULTIPLE | MULTIPLE_TOKEN.
    pub flags: u8,
    /// The nested arguments of a `Oneof` or `Block`.
    pub args: &'static [Arg],
}

const fn new(name: &'static str, kind: ArgType) -> Arg {
    Arg {
        name,
        kind,
        key_spec_index: 0,
        has_key_spec: false,
        token: None,
        since: None,
        deprecated_since: None,
        flags: 0,
        args: &[],
    }
}

pub const fn string(name: &'static str) -> Arg {
    new(name, ArgType::String)
}

pub const fn integer(name: &'static str) -> Arg {
    new(name, ArgType::Integer)
}

pub const fn double(name: &'static str) -> Arg {
    new(name, ArgType::Double)
}

pub const fn pattern(name: &'static str) -> Arg {
    new(name, ArgType::Pattern)
}

pub const fn unix_time(name: &'static str) -> Arg {
    new(name, ArgType::UnixTime)
}

/// A key argument found by the row's key spec number `key_spec_index`.
pub const fn key(name: &'static str, key_spec_index: usize) -> Arg {
    Arg {
        key_spec_index,
        has_key_spec: true,
        ..new(name, ArgType::Key)
    }
}

/// A bare word such as `NX`.
pub const fn pure_token(name: &'static str, token: &'static str) -> Arg {
    new(name, ArgType::PureToken).token(token)
}

pub const fn oneof(name: &'static str, args: &'static [Arg]) -> Arg {
    Arg {
        args,
        ..new(name, ArgType::Oneof)
    }
}

pub const fn block(name: &'static str, args: &'static [Arg]) -> Arg {
    Arg {
        args,
        ..new(name, ArgType::Block)
    }
}

impl Arg {
    /// A pattern whose expansions are keys, found by the key spec `i`.
    pub const fn key_spec_index(self, i: usize) -> Arg {
        Arg {
            key_spec_index: i,
            has_key_spec: true,
            ..self
        }
    }

    pub const fn token(self, token: &'static str) -> Arg {
        Arg {
            token: Some(token),
            ..self
        }
    }

    pub const fn since(self, version: &'static str) -> Arg {
        Arg {
            since: Some(version),
            ..self
        }
    }

    pub const fn deprecated_since(self, version: &'static str) -> Arg {
        Arg {
            deprecated_since: Some(version),
            ..self
        }
    }

    pub const fn optional(self) -> Arg {
        Arg {
            flags: self.flags | OPTIONAL,
            ..self
        }
    }

    pub const fn multiple(self) -> Arg {
        Arg {
            flags: self.flags | MULTIPLE,
            ..self
        }
    }

    pub const fn multiple_token(self) -> Arg {
        Arg {
            flags: self.flags | MULTIPLE_TOKEN,
            ..self
        }
    }
}

/// Writes an `arguments` array of COMMAND DOCS: one map per argument, its fields in Redis's
/// order (name, type, key_spec_index, token, since, deprecated_since, flags, arguments).
pub fn write_args(r: &mut Reply<'_>, args: &[Arg]) {
    r.array(args.len());
    for a in args {
        let nested = matches!(a.kind, ArgType::Oneof | ArgType::Block);
        let fields = 2
            + usize::from(a.has_key_spec)
            + usize::from(a.token.is_some())
            + usize::from(a.since.is_some())
            + usize::from(a.deprecated_since.is_some())
            + usize::from(a.flags != 0)
            + usize::from(nested);
        r.map(fields);
        r.bulk(b"name");
        r.bulk(a.name.as_bytes());
        r.bulk(b"type");
        r.bulk(a.kind.name().as_bytes());
        if a.has_key_spec {
            r.bulk(b"key_spec_index");
            r.int(a.key_spec_index as i64);
        }
        for (field, value) in [
            ("token", a.token),
            ("since", a.since),
            ("deprecated_since", a.deprecated_since),
        ] {
            if let Some(v) = value {
                r.bulk(field.as_bytes());
                r.bulk(v.as_bytes());
            }
        }
        if a.flags != 0 {
            r.bulk(b"flags");
            r.set(a.flags.count_ones() as usize);
            for (f, name) in FLAG_NAMES {
                if a.flags & f != 0 {
                    r.simple(name);
                }
            }
        }
        if nested {
            r.bulk(b"arguments");
            write_args(r, a.args);
        }
    }
}
