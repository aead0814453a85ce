//! The command table: every command ringkv serves is one row here, and nothing about a command
//! is kept anywhere else. Dispatch reads a row's arity and flags; COMMAND, COMMAND INFO, DOCS,
//! LIST, COUNT, GETKEYS and GETKEYSANDFLAGS (`cmd::command`) are generated from the rows.
//!
//! A row is built with `Command::new(name, arity, flags, handler)` and states, explicitly:
//! - `acl`: its ACL categories, all of them (Redis adds some implicitly from the flags; here
//!   they are written out, and a unit test checks the implied ones are present);
//! - `key_specs`: where its keys are (begin_search: an index or a keyword; find_keys: a range
//!   or a numkeys argument) and how it uses them (RO/RW/OW/RM, access/update/insert/delete);
//! - `getkeys`: Redis's fallback key finder, for the few commands whose specs are not enough;
//! - `tips`, and the docs: `group`, `since`, `summary`, `complexity`, deprecation, `history`
//!   and the `args` tree (see `cmd::docs`);
//! - `subcommands`: the rows of a container's subcommands, named `container|sub`.
//!
//! Facts (names, arities, flags, categories, key specs, argument names and tokens, versions)
//! are Redis 7.0.15's, and tests/command_table.rs compares them with a live redis-server.
//! Summaries, complexity texts, history descriptions and key spec notes are our own words.
//!
//! The legacy `(first, last, step)` triple and the `movablekeys` flag of COMMAND INFO are
//! not stated in a row: the `key_specs` builder derives them at compile time the way Redis's
//! `populateCommandLegacyRangeSpec` does ([`legacy_range`]).
//!
//! Adding a command: its handler in the family file, one row here (copy a similar row; the
//! facts come from `COMMAND INFO name` and `COMMAND DOCS name` of redis-server 7.0.15), and a
//! test; tests/command_table.rs then compares the row with Redis by itself.
//!
//! Invariants (checked by this file's tests): names are lower case, at most 24 bytes, and a
//! subcommand's name starts with its container's; a key argument's `key_spec_index` names an
//! existing spec; the categories implied by the flags are present.

use super::acl as acl_cmd;
use super::docs::Arg;
use super::docs::{block, double, integer, key, oneof, pattern, pure_token, string, unix_time};
use super::Handler;
use super::{
    bitmaps, blocking, cluster, command, debug, dump, expire, failover, functions, geo, hashes,
    hll, info, keys, latency, lists, lolwut, memory, migrate, monitor, multi, pause, pubsub,
    replicaof, replication, scripting, server, sets, slowlog, sort, streams, strings, tracking,
    zsets,
};

/// Command flags, as Redis's `CMD_*`.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const NOSCRIPT: u32 = 1 << 4;
    pub const LOADING: u32 = 1 << 5;
    pub const STALE: u32 = 1 << 6;
    pub const FAST: u32 = 1 << 7;
    pub const NO_AUTH: u32 = 1 << 8;
    pub const SKIP_SLOWLOG: u32 = 1 << 9;
    pub const SKIP_MONITOR: u32 = 1 << 10;
    pub const MAY_REPLICATE: u32 = 1 << 11;
    pub const SENTINEL: u32 = 1 << 12;
    pub const NO_MULTI: u32 = 1 << 13;
    pub const ALLOW_BUSY: u32 = 1 << 14;
    pub const NO_ASYNC_LOADING: u32 = 1 << 15;
    /// May block the client (BLPOP...); ACL category @blocking.
    pub const BLOCKING: u32 = 1 << 16;
    /// A Pub/Sub command (Redis's CMD_PUBSUB).
    pub const PUBSUB: u32 = 1 << 17;
    /// May be called without any key even though it has key specs (EVAL with no keys).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 18;
    /// Accepted during a cluster slot import (RESTORE-ASKING); without cluster mode, a flag
    /// COMMAND shows and nothing else.
    pub const ASKING: u32 = 1 << 19;
    // Internal flags, not shown by COMMAND (Redis compares handler pointers instead).
    /// Runs even inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT,
    /// RESET).
    pub const TX_CONTROL: u32 = 1 << 24;
    /// Ends a transaction or the connection, so it is never refused for memory inside
    /// MULTI (DISCARD, QUIT, RESET; EXEC is checked against what it runs).
    pub const TX_END: u32 = 1 << 25;
    /// EXEC: checked against the flags of the commands it will run.
    pub const EXEC: u32 = 1 << 26;
    /// Allowed to a RESP2 connection in the Pub/Sub context ((P|S)(UN)SUBSCRIBE, PING,
    /// QUIT, RESET).
    pub const PUBSUB_CONTEXT: u32 = 1 << 27;
    /// Runs a script (EVAL, EVALSHA and their _RO forms): checked against the flags its
    /// shebang declares, and its key positions are not reads of its own (client tracking).
    pub const SCRIPT: u32 = 1 << 28;

    /// Flag names as COMMAND reports them, in Redis's order. SENTINEL is not among them: Redis
    /// shows it only when running as a sentinel. `movablekeys` is derived from the key specs.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories, one bit each, in Redis's order (the order COMMAND INFO and ACL CAT list
/// them in).
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;

    /// Category names without the `@`, in bit order.
    pub const NAMES: [(u32, &str); 21] = [
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];

    /// The bit of a category name (no `@`, any case), as ACL and COMMAND LIST read it.
    pub fn by_name(name: &[u8]) -> Option<u32> {
        NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(bit, _)| *bit)
    }
}

/// Key spec flags, as Redis's `CMD_KEY_*`: one of RO/RW/OW/RM (how the value is used), then
/// what is done to it (access, update, insert, delete), and the special markers.
pub mod key_flags {
    /// Read only.
    pub const RO: u32 = 1 << 0;
    /// Read and modified.
    pub const RW: u32 = 1 << 1;
    /// Overwritten without being read.
    pub const OW: u32 = 1 << 2;
    /// Removed.
    pub const RM: u32 = 1 << 3;
    /// The value's data is returned or copied.
    pub const ACCESS: u32 = 1 << 4;
    /// Existing data is changed.
    pub const UPDATE: u32 = 1 << 5;
    /// Data is added (no existing data changed).
    pub const INSERT: u32 = 1 << 6;
    /// Data is removed.
    pub const DELETE: u32 = 1 << 7;
    /// Not a key, though it hashes like one (cluster routing).
    pub const NOT_KEY: u32 = 1 << 8;
    /// The spec may miss keys; the command's `getkeys` finds them all.
    pub const INCOMPLETE: u32 = 1 << 9;
    /// The flags depend on the other arguments; the command's `getkeys` gives the real ones.
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    /// Names in Redis's order.
    pub const NAMES: [(u32, &str); 11] = [
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// The WEIGHTS and AGGREGATE options ZUNION, ZINTER, ZUNIONSTORE and ZINTERSTORE share.
const WEIGHTS_ARG: Arg = integer("weight").token("WEIGHTS").optional().multiple();
const AGGREGATE_ARG: Arg = oneof(
    "aggregate",
    &[
        pure_token("sum", "SUM"),
        pure_token("min", "MIN"),
        pure_token("max", "MAX"),
    ],
)
.token("AGGREGATE")
.optional();

/// The distance units the GEO commands take.
const GEO_UNIT_ARG: Arg = oneof(
    "unit",
    &[
        pure_token("m", "M"),
        pure_token("km", "KM"),
        pure_token("ft", "FT"),
        pure_token("mi", "MI"),
    ],
);
/// The GEORADIUS family's options, before their STORE arguments.
const GEO_WITH_ARGS: [Arg; 3] = [
    pure_token("withcoord", "WITHCOORD").optional(),
    pure_token("withdist", "WITHDIST").optional(),
    pure_token("withhash", "WITHHASH").optional(),
];
const GEO_ORDER_ARG: Arg = oneof(
    "order",
    &[pure_token("asc", "ASC"), pure_token("desc", "DESC")],
)
.optional();
/// SORT and SORT_RO's shared docs.
/// RESTORE and RESTORE-ASKING (the same command under its cluster name).
const RESTORE_COMPLEXITY: &str = "O(1) to create the key, then O(N*M) to load N items of average size M (O(N*M*log(N)) for a sorted set).";
const RESTORE_HISTORY: [(&str, &str); 3] = [
    ("3.0.0", "REPLACE overwrites an existing key."),
    (
        "5.0.0",
        "ABSTTL takes the TTL as a unix time in milliseconds.",
    ),
    ("5.0.0", "IDLETIME and FREQ set the key's access data."),
];
const RESTORE_ARGS: [Arg; 7] = [
    key("key", 0),
    integer("ttl"),
    string("serialized-value"),
    pure_token("replace", "REPLACE").since("3.0.0").optional(),
    pure_token("absttl", "ABSTTL").since("5.0.0").optional(),
    integer("seconds")
        .token("IDLETIME")
        .since("5.0.0")
        .optional(),
    integer("frequency").token("FREQ").since("5.0.0").optional(),
];
const SORT_COMPLEXITY: &str =
    "O(N+M*log(M)) for N elements of which M are returned; O(N) without sorting.";
const SORT_LIMIT_ARG: Arg = block("offset_count", &[integer("offset"), integer("count")])
    .token("LIMIT")
    .optional();
const SORT_ORDER_ARG: Arg = oneof(
    "order",
    &[pure_token("asc", "ASC"), pure_token("desc", "DESC")],
)
.optional();
/// `COUNT count [ANY]`; GEORADIUS and GEORADIUS_RO date ANY to 6.2.0.
const GEO_COUNT_ARG: Arg = block(
    "count",
    &[
        integer("count").token("COUNT"),
        pure_token("any", "ANY").optional(),
    ],
)
.optional();
const GEO_COUNT_ANY_SINCE_ARG: Arg = block(
    "count",
    &[
        integer("count").token("COUNT"),
        pure_token("any", "ANY").since("6.2.0").optional(),
    ],
)
.optional();
/// GEOSEARCH's `FROMMEMBER member | FROMLONLAT longitude latitude`.
const GEO_FROM_ARG: Arg = oneof(
    "from",
    &[
        string("member").token("FROMMEMBER"),
        block(
            "longitude_latitude",
            &[double("longitude"), double("latitude")],
        )
        .token("FROMLONLAT"),
    ],
);
/// GEOSEARCH's `BYRADIUS radius unit | BYBOX width height unit`.
const GEO_BY_ARG: Arg = oneof(
    "by",
    &[
        block(
            "circle",
            &[double("radius").token("BYRADIUS"), GEO_UNIT_ARG],
        ),
        block(
            "box",
            &[
                double("width").token("BYBOX"),
                double("height"),
                GEO_UNIT_ARG,
            ],
        ),
    ],
);
/// GEORADIUS and GEORADIUSBYMEMBER: the source, and the STORE / STOREDIST destinations,
/// found after the fixed arguments (`store_from`).
const fn georadius_specs(store_from: i32) -> [KeySpec; 3] {
    [
        spec(RO | ACCESS, index(1), range(0, 1, 0)),
        spec(OW | UPDATE, keyword("STORE", store_from), range(0, 1, 0)),
        spec(
            OW | UPDATE,
            keyword("STOREDIST", store_from),
            range(0, 1, 0),
        ),
    ]
}
const GEORADIUS_SPECS: [KeySpec; 3] = georadius_specs(6);
const GEORADIUSBYMEMBER_SPECS: [KeySpec; 3] = georadius_specs(5);

use flags::*;

/// REPLICAOF's (and SLAVEOF's) one argument: `host port` or `NO ONE`.
const REPLICAOF_ARGS: Arg = oneof(
    "args",
    &[
        block("host-port", &[string("host"), integer("port")]),
        block(
            "no-one",
            &[pure_token("no", "NO"), pure_token("one", "ONE")],
        ),
    ],
);
use key_flags::*;

/// Where the search for a spec's keys starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// After the first argument equal to `keyword` (any case), searching from argument
    /// `startfrom` (from the end when negative).
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    /// Not known from the arguments' positions (SORT's BY/GET/STORE): the command's
    /// `getkeys` finds the keys.
    Unknown,
}

/// How the keys are found from where the search began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys up to `lastkey` (relative to the start; negative counts from the end of argv),
    /// every `keystep` arguments; `limit` > 1 stops after 1/limit of the remaining arguments.
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// A numkeys argument at `keynumidx` (relative to the start), the first key `firstkey`
    /// after the start, then one every `keystep` arguments.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
    /// Not known (with `BeginSearch::Unknown`).
    Unknown,
}

/// One key spec, as Redis 7.0 describes a command's keys.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    /// Why the flags are what they are, when that is not obvious (our words).
    pub notes: Option<&'static str>,
    /// `key_flags::*`.
    pub flags: u32,
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// A key spec: `spec(RW | ACCESS, index(1), range(0, 1, 0))`.
pub const fn spec(flags: u32, begin_search: BeginSearch, find_keys: FindKeys) -> KeySpec {
    KeySpec {
        notes: None,
        flags,
        begin_search,
        find_keys,
    }
}

pub const fn index(pos: i32) -> BeginSearch {
    BeginSearch::Index(pos)
}

pub const fn keyword(keyword: &'static str, startfrom: i32) -> BeginSearch {
    BeginSearch::Keyword { keyword, startfrom }
}

/// A spec whose keys cannot be found from positions: `spec(RO, UNKNOWN_BEGIN, UNKNOWN_FIND)`.
pub const UNKNOWN_BEGIN: BeginSearch = BeginSearch::Unknown;
pub const UNKNOWN_FIND: FindKeys = FindKeys::Unknown;

pub const fn range(lastkey: i32, keystep: i32, limit: i32) -> FindKeys {
    FindKeys::Range {
        lastkey,
        keystep,
        limit,
    }
}

pub const fn keynum(keynumidx: i32, firstkey: i32, keystep: i32) -> FindKeys {
    FindKeys::Keynum {
        keynumidx,
        firstkey,
        keystep,
    }
}

impl KeySpec {
    pub const fn notes(self, notes: &'static str) -> KeySpec {
        KeySpec {
            notes: Some(notes),
            ..self
        }
    }
}

/// Redis's `getkeys_proc` for the commands whose key specs cannot always give the keys: used
/// when the specs fail (a numkeys that `string2ll` rejects) or have VARIABLE_FLAGS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetKeys {
    /// Redis's `genericGetKeys`: `numkeys` (read with `atoi`) at index `numkeys`, that many
    /// keys from `first`, then the destination at `store` (0: none). The keys carry no flags.
    NumKeys {
        store: i32,
        numkeys: i32,
        first: i32,
    },
    /// SET: the key at 1, RW|ACCESS|UPDATE when a GET argument follows the value, OW|UPDATE
    /// otherwise.
    Set,
    /// BITFIELD: the key at 1, RO|ACCESS when the subcommands are well-formed GETs and
    /// OVERFLOWs only, RW|ACCESS|UPDATE otherwise (Redis's `bitfieldGetKeys`).
    Bitfield,
    /// GEORADIUS and GEORADIUSBYMEMBER (Redis's `georadiusGetKeys`): the key at 1, then the
    /// argument after the last STORE or STOREDIST word from index 5 on; no flags.
    GeoRadius,
    /// SORT: the key at 1 (RO|ACCESS) and the last STORE's destination (OW|UPDATE), skipping
    /// the arguments of LIMIT, GET and BY (Redis's `sortGetKeys`).
    Sort,
    /// SORT_RO: the key at 1 (RO|ACCESS) only (Redis's `sortROGetKeys`).
    SortRo,
    /// MIGRATE: the key at 3, or everything after KEYS (found past COPY, REPLACE and the
    /// AUTH/AUTH2 arguments), none when KEYS comes with a non-empty key; RW|ACCESS|DELETE
    /// (Redis's `migrateGetKeys`).
    Migrate,
}

/// A command's group in COMMAND DOCS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    Pubsub,
    Transactions,
    Connection,
    Server,
    Scripting,
    Hyperloglog,
    Cluster,
    Sentinel,
    Geo,
    Stream,
    Bitmap,
}

impl Group {
    pub const fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::Pubsub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::Hyperloglog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Sentinel => "sentinel",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }
}

/// COMMAND DOCS `doc_flags`.
pub mod doc_flags {
    pub const DEPRECATED: u8 = 1 << 0;
    /// A system command, not meant for applications (DEBUG).
    pub const SYSCMD: u8 = 1 << 1;
    pub const NAMES: [(u8, &str); 2] = [(DEPRECATED, "deprecated"), (SYSCMD, "syscmd")];
}

/// One row of the command table.
#[derive(Clone, Copy)]
pub struct Command {
    /// Lower case; subcommands are written `container|sub` as Redis's full names.
    pub name: &'static str,
    /// N: exactly N arguments including the name; -N: at least N.
    pub arity: i32,
    /// `flags::*`.
    pub flags: u32,
    /// `acl::*`, every category (none is implied).
    pub acl: u32,
    pub key_specs: &'static [KeySpec],
    /// COMMAND INFO's first key, last key (negative: from the end) and step, derived from
    /// `key_specs` by the `key_specs` builder ([`legacy_range`]); 0, 0, 0 without keys.
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// COMMAND INFO's `movablekeys` flag, derived with the range.
    pub movablekeys: bool,
    pub getkeys: Option<GetKeys>,
    /// Hints for clients and proxies (`nondeterministic_output`, `request_policy:...`).
    pub tips: &'static [&'static str],
    pub group: Group,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    /// `doc_flags::*`.
    pub doc_flags: u8,
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    /// (version, what changed), oldest first.
    pub history: &'static [(&'static str, &'static str)],
    pub args: &'static [Arg],
    pub handler: Handler,
    pub subcommands: &'static [Command],
}

/// One key a command line names: its argument index and the key spec flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: u32,
}

impl Command {
    /// A row with no categories, keys or docs yet; the builder methods below add them.
    pub const fn new(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Command {
        Command {
            name,
            arity,
            flags,
            acl: 0,
            key_specs: &[],
            first_key: 0,
            last_key: 0,
            step: 0,
            movablekeys: false,
            getkeys: None,
            tips: &[],
            group: Group::Server,
            since: "",
            summary: "",
            complexity: "",
            doc_flags: 0,
            deprecated_since: None,
            replaced_by: None,
            history: &[],
            args: &[],
            handler,
            subcommands: &[],
        }
    }

    pub const fn acl(self, acl: u32) -> Command {
        Command { acl, ..self }
    }

    /// The key specs, and the legacy range and `movablekeys` derived from them.
    pub const fn key_specs(self, key_specs: &'static [KeySpec]) -> Command {
        let (first_key, last_key, step, movablekeys) = legacy_range(key_specs);
        Command {
            key_specs,
            first_key,
            last_key,
            step,
            movablekeys,
            ..self
        }
    }

    pub const fn getkeys(self, getkeys: GetKeys) -> Command {
        Command {
            getkeys: Some(getkeys),
            ..self
        }
    }

    pub const fn tips(self, tips: &'static [&'static str]) -> Command {
        Command { tips, ..self }
    }

    pub const fn group(self, group: Group) -> Command {
        Command { group, ..self }
    }

    pub const fn since(self, since: &'static str) -> Command {
        Command { since, ..self }
    }

    pub const fn summary(self, summary: &'static str) -> Command {
        Command { summary, ..self }
    }

    pub const fn complexity(self, complexity: &'static str) -> Command {
        Command { complexity, ..self }
    }

    /// Deprecated since `since`; `replaced_by` is Redis's pointer to the replacement.
    pub const fn deprecated(self, since: &'static str, replaced_by: &'static str) -> Command {
        Command {
            doc_flags: self.doc_flags | doc_flags::DEPRECATED,
            deprecated_since: Some(since),
            replaced_by: Some(replaced_by),
            ..self
        }
    }

    pub const fn syscmd(self) -> Command {
        Command {
            doc_flags: self.doc_flags | doc_flags::SYSCMD,
            ..self
        }
    }

    pub const fn history(self, history: &'static [(&'static str, &'static str)]) -> Command {
        Command { history, ..self }
    }

    pub const fn args(self, args: &'static [Arg]) -> Command {
        Command { args, ..self }
    }

    pub const fn subcommands(self, subcommands: &'static [Command]) -> Command {
        Command {
            subcommands,
            ..self
        }
    }

    /// The part after `|` for subcommands.
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= self.arity.unsigned_abs() as usize
        }
    }

    /// Whether some key spec names real keys (Redis's `doesCommandHaveKeys`).
    pub fn has_keys(&self) -> bool {
        self.getkeys.is_some() || self.key_specs.iter().any(|s| s.flags & NOT_KEY == 0)
    }

    /// The keys of the command line `args` (`args[0]` is the command name; for a
    /// subcommand, `args[1]` is the subcommand), with their flags, as Redis's
    /// `getKeysFromCommandWithSpecs`: the key specs when they are reliable, else `getkeys`.
    /// Empty when the arguments do not name the keys the specs promise.
    pub fn find_keys(&self, args: &[&[u8]]) -> Vec<KeyRef> {
        let has_spec = self.key_specs.iter().any(|s| s.flags & NOT_KEY == 0);
        let variable = self.key_specs.iter().any(|s| s.flags & VARIABLE_FLAGS != 0);
        if has_spec && !variable {
            if let Some(keys) = self.keys_from_specs(args) {
                return keys;
            }
        }
        match self.getkeys {
            Some(g) => g.find(args),
            None => Vec::new(),
        }
    }

    /// Redis's `getKeysUsingKeySpecs` without partial results: None when a spec does not fit
    /// the arguments.
    fn keys_from_specs(&self, args: &[&[u8]]) -> Option<Vec<KeyRef>> {
        let argc = args.len() as i64;
        let mut keys = Vec::new();
        for s in self.key_specs {
            if s.flags & NOT_KEY != 0 {
                continue;
            }
            let mut first: i64 = match s.begin_search {
                BeginSearch::Index(pos) => i64::from(pos),
                BeginSearch::Keyword { keyword, startfrom } => {
                    let startfrom = i64::from(startfrom);
                    let (start, end) = if startfrom > 0 {
                        (startfrom, argc - 1)
                    } else {
                        (argc + startfrom, 1)
                    };
                    let mut i = start;
                    let mut found = 0;
                    // Bounded: every turn moves i one step towards `end` or leaves argv.
                    while i != end && (1..argc).contains(&i) {
                        if args[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                            found = i + 1;
                            break;
                        }
                        i += if start <= end { 1 } else { -1 };
                    }
                    if found == 0 {
                        continue;
                    }
                    found
                }
                // Redis's `getKeysUsingKeySpecs` gives up (invalid spec): `getkeys` decides.
                BeginSearch::Unknown => return None,
            };
            let (last, step) = match s.find_keys {
                FindKeys::Range {
                    lastkey,
                    keystep,
                    limit,
                } => {
                    let lastkey = i64::from(lastkey);
                    let last = if lastkey >= 0 {
                        first + lastkey
                    } else if limit == 0 {
                        argc + lastkey
                    } else {
                        first + ((argc - first) / i64::from(limit) + lastkey)
                    };
                    (last, i64::from(keystep))
                }
                FindKeys::Keynum {
                    keynumidx,
                    firstkey,
                    keystep,
                } => {
                    let at = first + i64::from(keynumidx);
                    if at >= argc {
                        return None;
                    }
                    let numkeys = crate::util::num::parse_i64_strict(args[at as usize])
                        .filter(|&n| n >= 0)?;
                    first += i64::from(firstkey);
                    // Redis truncates numkeys to an int here.
                    (first + i64::from(numkeys as i32) - 1, i64::from(keystep))
                }
                FindKeys::Unknown => return None,
            };
            if last >= argc || last < first || first >= argc {
                return None;
            }
            let mut i = first;
            while i <= last {
                keys.push(KeyRef {
                    pos: i as usize,
                    flags: s.flags,
                });
                i += step.max(1);
            }
            if s.flags & INCOMPLETE != 0 {
                return None;
            }
        }
        Some(keys)
    }
}

impl GetKeys {
    fn find(self, args: &[&[u8]]) -> Vec<KeyRef> {
        match self {
            GetKeys::Set => {
                // C's strcmp on "get": a NUL inside the argument ends it.
                let is_get = |a: &[u8]| {
                    a.len() >= 3
                        && a[..3].eq_ignore_ascii_case(b"get")
                        && a.get(3).is_none_or(|&c| c == 0)
                };
                let flags = if args.iter().skip(3).any(|a| is_get(a)) {
                    RW | ACCESS | UPDATE
                } else {
                    OW | UPDATE
                };
                vec![KeyRef { pos: 1, flags }]
            }
            GetKeys::Bitfield => {
                let mut read_only = true;
                let mut i = 2;
                while i < args.len() {
                    let rest = args.len() - i - 1;
                    let a = args[i];
                    if super::args::opt_is(a, "GET") && rest >= 2 {
                        i += 3;
                    } else if super::args::opt_is(a, "OVERFLOW") && rest >= 1 {
                        i += 2;
                    } else {
                        // SET, INCRBY, or a syntax error, which is safer taken as a write.
                        read_only = false;
                        break;
                    }
                }
                let flags = if read_only {
                    RO | ACCESS
                } else {
                    RW | ACCESS | UPDATE
                };
                vec![KeyRef { pos: 1, flags }]
            }
            GetKeys::GeoRadius => {
                let mut keys = vec![KeyRef { pos: 1, flags: 0 }];
                let mut stored = None;
                let mut i = 5;
                while i < args.len() {
                    let a = super::args::c_str(args[i]);
                    let is_store =
                        a.eq_ignore_ascii_case(b"store") || a.eq_ignore_ascii_case(b"storedist");
                    if is_store && i + 1 < args.len() {
                        stored = Some(i + 1);
                        i += 1;
                    }
                    i += 1;
                }
                if let Some(pos) = stored {
                    keys.push(KeyRef { pos, flags: 0 });
                }
                keys
            }
            GetKeys::Sort => {
                let mut keys = vec![KeyRef {
                    pos: 1,
                    flags: RO | ACCESS,
                }];
                let mut store = None;
                let mut i = 2;
                while i < args.len() {
                    let a = args[i];
                    // C's strcasecmp: the argument is read up to a NUL.
                    if super::args::opt_is(a, "limit") {
                        i += 2;
                    } else if super::args::opt_is(a, "get") || super::args::opt_is(a, "by") {
                        i += 1;
                    } else if super::args::opt_is(a, "store") && i + 1 < args.len() {
                        // The last STORE wins, as in SORT itself.
                        store = Some(i + 1);
                    }
                    i += 1;
                }
                if let Some(pos) = store {
                    keys.push(KeyRef {
                        pos,
                        flags: OW | UPDATE,
                    });
                }
                keys
            }
            GetKeys::SortRo => vec![KeyRef {
                pos: 1,
                flags: RO | ACCESS,
            }],
            GetKeys::Migrate => {
                let (mut first, mut num) = (3, 1);
                if args.len() > 6 {
                    let mut i = 6;
                    while i < args.len() {
                        let a = super::args::c_str(args[i]);
                        if a.eq_ignore_ascii_case(b"keys") {
                            if !args[3].is_empty() {
                                return Vec::new();
                            }
                            first = i + 1;
                            num = args.len() - first;
                            break;
                        }
                        if a.eq_ignore_ascii_case(b"auth") {
                            i += 1;
                        } else if a.eq_ignore_ascii_case(b"auth2") {
                            i += 2;
                        }
                        i += 1;
                    }
                }
                (first..first + num)
                    .map(|pos| KeyRef {
                        pos,
                        flags: RW | ACCESS | DELETE,
                    })
                    .collect()
            }
            GetKeys::NumKeys {
                store,
                numkeys,
                first,
            } => {
                let argc = args.len() as i64;
                let Some(count) = args.get(numkeys as usize).map(|a| c_atoi(a)) else {
                    return Vec::new();
                };
                let count = i64::from(count);
                if count < 1 || count > argc - i64::from(first) {
                    return Vec::new();
                }
                let mut keys: Vec<KeyRef> = (0..count)
                    .map(|i| KeyRef {
                        pos: (i64::from(first) + i) as usize,
                        flags: 0,
                    })
                    .collect();
                if store > 0 {
                    keys.push(KeyRef {
                        pos: store as usize,
                        flags: 0,
                    });
                }
                keys
            }
        }
    }
}

/// C's `atoi` as glibc has it: leading spaces, a sign, digits up to the first other byte;
/// `strtol`'s clamping to a long, then truncation to an int.
fn c_atoi(a: &[u8]) -> i32 {
    let mut i = 0;
    while i < a.len() && matches!(a[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let negative = a.get(i) == Some(&b'-');
    if matches!(a.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    // Bounded by the argument's length; saturates well above the long range.
    let mut n: i128 = 0;
    while let Some(d) = a.get(i).filter(|c| c.is_ascii_digit()) {
        n = (n * 10 + i128::from(d - b'0')).min(1 << 64);
        i += 1;
    }
    let n = if negative { -n } else { n };
    let long = n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    long as i32
}

/// COMMAND INFO's (first key, last key, step) and `movablekeys`, derived from key specs as
/// Redis's `populateCommandLegacyRangeSpec` does: a lone index+range spec is used as is;
/// otherwise consecutive index+range specs of step 1 are merged, and any spec left out (a
/// keyword or numkeys spec, another step, a gap) or incomplete makes the keys movable.
pub const fn legacy_range(specs: &[KeySpec]) -> (i32, i32, i32, bool) {
    if specs.is_empty() {
        return (0, 0, 0, false);
    }
    if specs.len() == 1 {
        if let (
            BeginSearch::Index(pos),
            FindKeys::Range {
                lastkey, keystep, ..
            },
        ) = (specs[0].begin_search, specs[0].find_keys)
        {
            let last = if lastkey >= 0 { pos + lastkey } else { lastkey };
            return (pos, last, keystep, specs[0].flags & INCOMPLETE != 0);
        }
    }
    let mut movable = false;
    let mut first = i32::MAX;
    // Redis compares last keys as unsigned, so that one counted from the end wins.
    let mut last: u32 = 0;
    let mut prev_last: u32 = 0;
    let mut i = 0;
    while i < specs.len() {
        let s = specs[i];
        i += 1;
        let (
            BeginSearch::Index(pos),
            FindKeys::Range {
                lastkey, keystep, ..
            },
        ) = (s.begin_search, s.find_keys)
        else {
            movable = true;
            continue;
        };
        if keystep != 1 || (prev_last != 0 && prev_last as i32 != pos - 1) {
            movable = true;
            continue;
        }
        if s.flags & INCOMPLETE != 0 {
            movable = true;
        }
        if pos < first {
            first = pos;
        }
        let abs = (if lastkey >= 0 { pos + lastkey } else { lastkey }) as u32;
        if abs > last {
            last = abs;
        }
        prev_last = last;
    }
    if first == i32::MAX {
        return (0, 0, 0, true);
    }
    (first, last as i32, 1, movable)
}

/// Case-insensitive lookup of a command (or subcommand) by name.
pub fn lookup<'t>(table: &'t [Command], name: &[u8]) -> Option<&'t Command> {
    table
        .iter()
        .find(|c| c.short_name().as_bytes().eq_ignore_ascii_case(name))
}

/// Every row, each top-level command followed by its subcommands.
pub fn all_rows() -> impl Iterator<Item = &'static Command> {
    COMMANDS
        .iter()
        .flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
}

/// The command table: one row per top-level command.
///
/// The rows are laid out by hand (rustfmt cannot break their long strings, and would lay
/// out the tables it can differently from the others): one builder call per line, lists
/// broken one item per line when they pass 100 columns.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    // ---- connection and server (cmd/server.rs)
    Command::new("ping", -1, FAST | SENTINEL | PUBSUB_CONTEXT, server::cmd_ping)
        .acl(acl::FAST | acl::CONNECTION)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .group(Group::Connection)
        .since("1.0.0")
        .summary("Checks that the server answers, optionally echoing a message.")
        .complexity("O(1)")
        .args(&[string("message").optional()]),
    Command::new("echo", 2, LOADING | STALE | FAST, server::cmd_echo)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Connection)
        .since("1.0.0")
        .summary("Replies with its argument.")
        .complexity("O(1)")
        .args(&[string("message")]),
    Command::new("quit", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | TX_CONTROL | TX_END | PUBSUB_CONTEXT, server::cmd_quit)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Connection)
        .since("1.0.0")
        .summary("Asks the server to close this connection.")
        .complexity("O(1)"),
    Command::new("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | SENTINEL, server::cmd_hello)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Connection)
        .since("6.0.0")
        .summary("Picks the protocol, may log in and name the connection, and describes the server.")
        .complexity("O(1)")
        .history(&[("6.2.0", "The protocol version may be left out.")])
        .args(&[
            block("arguments", &[
                integer("protover"),
                block("username_password", &[string("username"), string("password")])
                    .token("AUTH")
                    .optional(),
                string("clientname").token("SETNAME").optional(),
            ])
            .optional(),
        ]),
    Command::new("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | SENTINEL, server::cmd_auth)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Connection)
        .since("1.0.0")
        .summary("Logs the connection in with a password, or a username and password.")
        .complexity("O(N), N being how many passwords the user has.")
        .history(&[("6.0.0", "Takes a username as well as a password (ACLs).")])
        .args(&[string("username").since("6.0.0").optional(), string("password")]),
    Command::new("select", 2, LOADING | STALE | FAST, server::cmd_select)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Connection)
        .since("1.0.0")
        .summary("Switches this connection to another database.")
        .complexity("O(1)")
        .args(&[integer("index")]),
    Command::new("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | TX_CONTROL | TX_END | PUBSUB_CONTEXT, multi::cmd_reset)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Connection)
        .since("6.2.0")
        .summary("Returns the connection to its initial state: database 0, RESP2, no transaction, no watched keys, no name.")
        .complexity("O(1)"),
    // ---- pub/sub (cmd/pubsub.rs)
    Command::new("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, pubsub::cmd_subscribe)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("2.0.0")
        .summary("Starts receiving the messages published to each of the channels.")
        .complexity("O(N), N being the number of channels.")
        .args(&[string("channel").multiple()]),
    Command::new("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, pubsub::cmd_unsubscribe)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("2.0.0")
        .summary("Stops receiving the messages of the channels named, or of all channels when none is named.")
        .complexity("O(N), N being the number of subscribers of a channel.")
        .args(&[string("channel").optional().multiple()]),
    Command::new("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, pubsub::cmd_psubscribe)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("2.0.0")
        .summary("Starts receiving the messages published to every channel matching each glob pattern.")
        .complexity("O(N), N being the number of patterns the connection already subscribes to.")
        .args(&[block("pattern", &[pattern("pattern")]).multiple()]),
    Command::new("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, pubsub::cmd_punsubscribe)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("2.0.0")
        .summary("Stops receiving the messages of the patterns named, or of all patterns when none is named.")
        .complexity("O(N+M), N being the connection's patterns and M all patterns subscribed to.")
        .args(&[pattern("pattern").optional().multiple()]),
    Command::new("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, pubsub::cmd_publish)
        .acl(acl::PUBSUB | acl::FAST)
        .group(Group::Pubsub)
        .since("2.0.0")
        .summary("Sends a message to the channel's subscribers and those of matching patterns; replies how many got it.")
        .complexity("O(N+M), N being the channel's subscribers and M the patterns subscribed to.")
        .args(&[string("channel"), string("message")]),
    Command::new("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, pubsub::cmd_ssubscribe)
        .acl(acl::PUBSUB | acl::SLOW)
        .key_specs(&[spec(NOT_KEY, index(1), range(-1, 1, 0))])
        .group(Group::Pubsub)
        .since("7.0.0")
        .summary("Starts receiving the messages published to each of the shard channels.")
        .complexity("O(N), N being the number of shard channels.")
        .args(&[string("shardchannel").multiple()]),
    Command::new("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | PUBSUB_CONTEXT, pubsub::cmd_sunsubscribe)
        .acl(acl::PUBSUB | acl::SLOW)
        .key_specs(&[spec(NOT_KEY, index(1), range(-1, 1, 0))])
        .group(Group::Pubsub)
        .since("7.0.0")
        .summary("Stops receiving the messages of the shard channels named, or of all of them when none is named.")
        .complexity("O(N), N being the number of subscribers of a shard channel.")
        .args(&[string("shardchannel").optional().multiple()]),
    Command::new("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, pubsub::cmd_spublish)
        .acl(acl::PUBSUB | acl::FAST)
        .key_specs(&[spec(NOT_KEY, index(1), range(0, 1, 0))])
        .group(Group::Pubsub)
        .since("7.0.0")
        .summary("Sends a message to the shard channel's subscribers; replies how many got it.")
        .complexity("O(N), N being the shard channel's subscribers.")
        .args(&[string("shardchannel"), string("message")]),
    Command::new("pubsub", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Pubsub)
        .since("2.8.0")
        .summary("Groups the commands that report on channels and their subscribers.")
        .complexity("Varies with the subcommand.")
        .subcommands(PUBSUB_SUBCOMMANDS),
    // ---- transactions (cmd/multi.rs)
    Command::new("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL, multi::cmd_multi)
        .acl(acl::FAST | acl::TRANSACTION)
        .group(Group::Transactions)
        .since("1.2.0")
        .summary("Opens a transaction: later commands are queued until EXEC.")
        .complexity("O(1)"),
    Command::new("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | TX_CONTROL | EXEC, multi::cmd_exec)
        .acl(acl::SLOW | acl::TRANSACTION)
        .group(Group::Transactions)
        .since("1.2.0")
        .summary("Runs the queued commands of a transaction as one unit, or none of them if a watched key changed.")
        .complexity("The sum of what the queued commands cost."),
    Command::new("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL | TX_END, multi::cmd_discard)
        .acl(acl::FAST | acl::TRANSACTION)
        .group(Group::Transactions)
        .since("2.0.0")
        .summary("Drops the queued commands of a transaction and forgets the watched keys.")
        .complexity("O(N), N being the number of queued commands."),
    Command::new("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL, multi::cmd_watch)
        .acl(acl::FAST | acl::TRANSACTION)
        .key_specs(&[spec(RO, index(1), range(-1, 1, 0))])
        .group(Group::Transactions)
        .since("2.2.0")
        .summary("Makes the next EXEC fail if any of these keys changes before it.")
        .complexity("O(1) per key.")
        .args(&[key("key", 0).multiple()]),
    Command::new("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, multi::cmd_unwatch)
        .acl(acl::FAST | acl::TRANSACTION)
        .group(Group::Transactions)
        .since("2.2.0")
        .summary("Stops watching every key this connection watches.")
        .complexity("O(1)"),
    // ---- scripting (cmd/scripting.rs)
    Command::new("eval", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | SCRIPT | MAY_REPLICATE, scripting::cmd_eval)
        .acl(acl::SLOW | acl::SCRIPTING)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(2), keynum(0, 1, 1))
            .notes("What the script does with its keys is unknown: the most a key can undergo.")])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 2, first: 3 })
        .group(Group::Scripting)
        .since("2.6.0")
        .summary("Runs a Lua script with the keys and arguments given.")
        .complexity("What the script does.")
        .args(&[
            string("script"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    Command::new("evalsha", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | SCRIPT | MAY_REPLICATE, scripting::cmd_evalsha)
        .acl(acl::SLOW | acl::SCRIPTING)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(2), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 2, first: 3 })
        .group(Group::Scripting)
        .since("2.6.0")
        .summary("Runs a cached Lua script, named by its SHA1, with the keys and arguments given.")
        .complexity("What the script does.")
        .args(&[
            string("sha1"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    Command::new("eval_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | SCRIPT, scripting::cmd_eval_ro)
        .acl(acl::SLOW | acl::SCRIPTING)
        .key_specs(&[spec(RO | ACCESS, index(2), keynum(0, 1, 1))
            .notes("A read-only script can only read its keys.")])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 2, first: 3 })
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Runs a Lua script that may not write, with the keys and arguments given.")
        .complexity("What the script does.")
        .args(&[
            string("script"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    Command::new("evalsha_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | SCRIPT, scripting::cmd_evalsha_ro)
        .acl(acl::SLOW | acl::SCRIPTING)
        .key_specs(&[spec(RO | ACCESS, index(2), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 2, first: 3 })
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Runs a cached Lua script that may not write, named by its SHA1.")
        .complexity("What the script does.")
        .args(&[
            string("sha1"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    // ---- functions (cmd/functions.rs)
    Command::new("fcall", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | SCRIPT | MAY_REPLICATE, functions::cmd_fcall)
        .acl(acl::SLOW | acl::SCRIPTING)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(2), keynum(0, 1, 1))
            .notes("What the function does with its keys is unknown: the most a key can undergo.")])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 2, first: 3 })
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Calls a library function by name with the keys and arguments given.")
        .complexity("What the function does.")
        .args(&[
            string("function"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    Command::new("fcall_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | SCRIPT, functions::cmd_fcall_ro)
        .acl(acl::SLOW | acl::SCRIPTING)
        .key_specs(&[spec(RO | ACCESS, index(2), keynum(0, 1, 1))
            .notes("A function flagged no-writes can only read its keys.")])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 2, first: 3 })
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Calls a library function flagged no-writes by name with the keys and arguments given.")
        .complexity("What the function does.")
        .args(&[
            string("function"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    Command::new("function", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Groups the commands that manage function libraries.")
        .complexity("Varies with the subcommand.")
        .subcommands(FUNCTION_SUBCOMMANDS),
    Command::new("script", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Scripting)
        .since("2.6.0")
        .summary("Groups the commands that manage the script cache.")
        .complexity("Varies with the subcommand.")
        .subcommands(SCRIPT_SUBCOMMANDS),
    Command::new("client", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Connection)
        .since("2.4.0")
        .summary("Groups the commands that inspect and manage client connections.")
        .complexity("Varies with the subcommand.")
        .subcommands(CLIENT_SUBCOMMANDS),
    Command::new("swapdb", 3, WRITE | FAST, server::cmd_swapdb)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST | acl::DANGEROUS)
        .group(Group::Server)
        .since("4.0.0")
        .summary("Exchanges the contents of two databases.")
        .complexity("O(N), N being the clients that watch or wait on keys of the two databases.")
        .args(&[integer("index1"), integer("index2")]),
    Command::new("dbsize", 1, READONLY | FAST, server::cmd_dbsize)
        .acl(acl::KEYSPACE | acl::READ | acl::FAST)
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
        .group(Group::Server)
        .since("1.0.0")
        .summary("Replies with how many keys the current database holds.")
        .complexity("O(1)"),
    Command::new("flushdb", -1, WRITE, server::cmd_flushdb)
        .acl(acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .group(Group::Server)
        .since("1.0.0")
        .summary("Empties the selected database.")
        .complexity("O(N), N being the number of keys in the database.")
        .history(&[("4.0.0", "ASYNC mode."), ("6.2.0", "SYNC mode.")])
        .args(&[
            oneof("async", &[
                pure_token("async", "ASYNC").since("4.0.0"),
                pure_token("sync", "SYNC").since("6.2.0"),
            ])
            .optional(),
        ]),
    Command::new("bgrewriteaof", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, debug::cmd_bgrewriteaof)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("1.0.0")
        .summary("Starts rewriting the append-only file in the background.")
        .complexity("O(1)"),
    Command::new("flushall", -1, WRITE, server::cmd_flushall)
        .acl(acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .group(Group::Server)
        .since("1.0.0")
        .summary("Empties every database.")
        .complexity("O(N), N being the number of keys in all databases.")
        .history(&[("4.0.0", "ASYNC mode."), ("6.2.0", "SYNC mode.")])
        .args(&[
            oneof("async", &[
                pure_token("async", "ASYNC").since("4.0.0"),
                pure_token("sync", "SYNC").since("6.2.0"),
            ])
            .optional(),
        ]),
    Command::new("time", 1, LOADING | STALE | FAST, server::cmd_time)
        .acl(acl::FAST)
        .tips(&["nondeterministic_output"])
        .group(Group::Server)
        .since("2.6.0")
        .summary("Replies with the server clock as seconds and microseconds.")
        .complexity("O(1)"),
    Command::new("info", -1, LOADING | STALE | SENTINEL, info::cmd_info)
        .acl(acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
        .group(Group::Server)
        .since("1.0.0")
        .summary("Reports the server's state and statistics, by section.")
        .complexity("O(1)")
        .history(&[("7.0.0", "Takes several sections.")])
        .args(&[string("section").optional().multiple()]),
    Command::new("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, monitor::cmd_monitor)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("1.0.0")
        .summary("Turns this connection into a monitor that is sent every command the server runs."),
    Command::new("acl", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Groups the commands that show and change users and their permissions.")
        .complexity("Varies with the subcommand.")
        .subcommands(ACL_SUBCOMMANDS),
    Command::new("slowlog", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("2.2.12")
        .summary("Groups the commands that read and clear the log of slow commands.")
        .complexity("Varies with the subcommand.")
        .subcommands(SLOWLOG_SUBCOMMANDS),
    Command::new("latency", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("2.8.13")
        .summary("Groups the commands that read and clear the latency monitor's samples.")
        .complexity("Varies with the subcommand.")
        .subcommands(LATENCY_SUBCOMMANDS),
    Command::new("lolwut", -1, READONLY | FAST, lolwut::cmd_lolwut)
        .acl(acl::READ | acl::FAST)
        .group(Group::Server)
        .since("5.0.0")
        .summary("Draws a picture and tells the version the server answers as.")
        .args(&[integer("version").token("VERSION").optional()]),
    Command::new("cluster", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Groups the Redis Cluster commands (ringkv runs without cluster mode).")
        .complexity("Varies with the subcommand.")
        .subcommands(CLUSTER_SUBCOMMANDS),
    Command::new("readonly", 1, LOADING | STALE | FAST, cluster::cmd_cluster_disabled)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Lets a connection read from a cluster replica (refused: no cluster mode).")
        .complexity("O(1)"),
    Command::new("readwrite", 1, LOADING | STALE | FAST, cluster::cmd_cluster_disabled)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Ends READONLY on a cluster replica connection (refused: no cluster mode).")
        .complexity("O(1)"),
    Command::new("asking", 1, FAST, cluster::cmd_cluster_disabled)
        .acl(acl::FAST | acl::CONNECTION)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Marks the next command as following an ASK redirect (refused: no cluster mode).")
        .complexity("O(1)"),
    Command::new("module", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("4.0.0")
        .summary("Groups the module commands (ringkv loads no modules).")
        .complexity("Varies with the subcommand.")
        .subcommands(MODULE_SUBCOMMANDS),
    Command::new("config", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("2.0.0")
        .summary("Groups the commands that read and change the server's settings.")
        .complexity("Varies with the subcommand.")
        .subcommands(CONFIG_SUBCOMMANDS),
    Command::new("command", -1, LOADING | STALE | SENTINEL, command::cmd_command)
        .acl(acl::SLOW | acl::CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .group(Group::Server)
        .since("2.8.13")
        .summary("Describes every command the server knows.")
        .complexity("O(N), N being the number of commands.")
        .subcommands(COMMAND_SUBCOMMANDS),
    Command::new("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY | SENTINEL, server::cmd_shutdown)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("1.0.0")
        .summary("Stops the server, saving a snapshot first when persistence asks for it.")
        .complexity("O(N) when it saves, N being the number of keys in all databases; O(1) otherwise.")
        .history(&[("7.0.0", "NOW, FORCE and ABORT options.")])
        .args(&[
            oneof("nosave_save", &[pure_token("nosave", "NOSAVE"), pure_token("save", "SAVE")])
                .optional(),
            pure_token("now", "NOW").since("7.0.0").optional(),
            pure_token("force", "FORCE").since("7.0.0").optional(),
            pure_token("abort", "ABORT").since("7.0.0").optional(),
        ]),
    // ---- snapshots and debugging (cmd/debug.rs)
    Command::new("save", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, debug::cmd_save)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("1.0.0")
        .summary("Writes a snapshot of all databases and waits until it is on disk.")
        .complexity("O(N), N being the number of keys in all databases."),
    Command::new("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, debug::cmd_bgsave)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("1.0.0")
        .summary("Starts writing a snapshot of all databases in the background.")
        .complexity("O(1)")
        .history(&[("3.2.2", "SCHEDULE option.")])
        .args(&[pure_token("schedule", "SCHEDULE").since("3.2.2").optional()]),
    Command::new("lastsave", 1, LOADING | STALE | FAST, debug::cmd_lastsave)
        .acl(acl::ADMIN | acl::FAST | acl::DANGEROUS)
        .tips(&["nondeterministic_output"])
        .group(Group::Server)
        .since("1.0.0")
        .summary("Replies with the Unix time of the last snapshot that was written successfully.")
        .complexity("O(1)"),
    Command::new(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        replicaof::cmd_replicaof,
    )
    .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
    .group(Group::Server)
    .since("5.0.0")
    .summary("Starts following a primary (this server becomes its replica), or stops following one.")
    .complexity("O(1)")
    .args(&[REPLICAOF_ARGS]),
    Command::new(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        replicaof::cmd_replicaof,
    )
    .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
    .group(Group::Server)
    .since("1.0.0")
    .summary("REPLICAOF's original name: starts or stops following a primary.")
    .complexity("O(1)")
    .deprecated("5.0.0", "`REPLICAOF`")
    .args(&[REPLICAOF_ARGS]),
    Command::new("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, debug::cmd_debug)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("1.0.0")
        .summary("Groups internal commands for testing and troubleshooting the server.")
        .complexity("Varies with the subcommand.")
        .syscmd(),
    // ---- replication (cmd/replication.rs)
    Command::new("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, replication::cmd_replconf)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("3.0.0")
        .summary("Sets up and drives a replication link (sent by replicas).")
        .complexity("O(1)")
        .syscmd(),
    Command::new("psync", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, replication::cmd_psync)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("2.8.0")
        .summary("Asks to become a replica, continuing from a replication id and offset when possible.")
        .args(&[string("replicationid"), integer("offset")]),
    Command::new("sync", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, replication::cmd_sync)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("1.0.0")
        .summary("Asks to become a replica with a full copy of the data (the pre-PSYNC form)."),
    Command::new("wait", 3, NOSCRIPT, replication::cmd_wait)
        .acl(acl::SLOW | acl::CONNECTION)
        .tips(&["request_policy:all_shards", "response_policy:agg_min"])
        .group(Group::Generic)
        .since("3.0.0")
        .summary("Waits until replicas have acknowledged the writes this connection made, or the time is up.")
        .complexity("O(1)")
        .args(&[integer("numreplicas"), integer("timeout")]),
    Command::new("failover", -1, ADMIN | NOSCRIPT | STALE, failover::cmd_failover)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.2.0")
        .summary("Hands this primary's role over to one of its replicas without losing writes.")
        .complexity("O(1)")
        .args(&[
            block(
                "target",
                &[
                    string("host"),
                    integer("port"),
                    pure_token("force", "FORCE").optional(),
                ],
            )
            .token("TO")
            .optional(),
            pure_token("abort", "ABORT").optional(),
            integer("milliseconds").token("TIMEOUT").optional(),
        ]),
    Command::new("role", 1, NOSCRIPT | LOADING | STALE | FAST, replication::cmd_role)
        .acl(acl::ADMIN | acl::FAST | acl::DANGEROUS)
        .group(Group::Server)
        .since("2.8.12")
        .summary("Tells whether this server is a primary or a replica, with its replication state.")
        .complexity("O(1)"),
    // ---- keys (cmd/keys.rs)
    Command::new("del", -2, WRITE, keys::cmd_del)
        .acl(acl::KEYSPACE | acl::WRITE | acl::SLOW)
        .key_specs(&[spec(RM | DELETE, index(1), range(-1, 1, 0))])
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Removes keys and their values.")
        .complexity("O(N) for N keys; a collection of M elements costs O(M), a string O(1).")
        .args(&[key("key", 0).multiple()]),
    Command::new("unlink", -2, WRITE | FAST, keys::cmd_unlink)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST)
        .key_specs(&[spec(RM | DELETE, index(1), range(-1, 1, 0))])
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .group(Group::Generic)
        .since("4.0.0")
        .summary("Removes keys at once and frees large values on a background thread.")
        .complexity("O(1) per key; freeing the memory happens on another thread.")
        .args(&[key("key", 0).multiple()]),
    Command::new("exists", -2, READONLY | FAST, keys::cmd_exists)
        .acl(acl::KEYSPACE | acl::READ | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(-1, 1, 0))])
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Counts how many of the given keys are present.")
        .complexity("O(N), N being the number of keys.")
        .history(&[("3.0.3", "Takes several keys.")])
        .args(&[key("key", 0).multiple()]),
    Command::new("type", 2, READONLY | FAST, keys::cmd_type)
        .acl(acl::KEYSPACE | acl::READ | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Names the kind of value stored at a key.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("keys", 2, READONLY, keys::cmd_keys)
        .acl(acl::KEYSPACE | acl::READ | acl::SLOW | acl::DANGEROUS)
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Lists the key names that match a glob pattern.")
        .complexity("O(N), N being the number of keys in the database.")
        .args(&[pattern("pattern")]),
    Command::new("scan", -2, READONLY, keys::cmd_scan)
        .acl(acl::KEYSPACE | acl::READ | acl::SLOW)
        .tips(&["nondeterministic_output", "request_policy:special"])
        .group(Group::Generic)
        .since("2.8.0")
        .summary("Walks the key names of the database a batch at a time with a cursor.")
        .complexity("O(1) per call; O(N) over a whole walk of N keys.")
        .history(&[("6.0.0", "TYPE filter.")])
        .args(&[
            integer("cursor"),
            pattern("pattern").token("MATCH").optional(),
            integer("count").token("COUNT").optional(),
            string("type").token("TYPE").since("6.0.0").optional(),
        ]),
    Command::new("randomkey", 1, READONLY, keys::cmd_randomkey)
        .acl(acl::KEYSPACE | acl::READ | acl::SLOW)
        .tips(&["request_policy:all_shards", "nondeterministic_output"])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Replies with a key name picked at random.")
        .complexity("O(1)"),
    Command::new("rename", 3, WRITE, keys::cmd_rename)
        .acl(acl::KEYSPACE | acl::WRITE | acl::SLOW)
        .key_specs(&[
            spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0)),
            spec(OW | UPDATE, index(2), range(0, 1, 0)),
        ])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Gives a key a new name, replacing any key that had it.")
        .complexity("O(1)")
        .args(&[key("key", 0), key("newkey", 1)]),
    Command::new("renamenx", 3, WRITE | FAST, keys::cmd_renamenx)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST)
        .key_specs(&[
            spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0)),
            spec(OW | INSERT, index(2), range(0, 1, 0)),
        ])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Gives a key a new name, but only if no key has that name yet.")
        .complexity("O(1)")
        .history(&[("3.2.0", "Renaming a key to its own name is no longer an error.")])
        .args(&[key("key", 0), key("newkey", 1)]),
    Command::new("copy", -3, WRITE | DENYOOM, keys::cmd_copy)
        .acl(acl::KEYSPACE | acl::WRITE | acl::SLOW)
        .key_specs(&[
            spec(RO | ACCESS, index(1), range(0, 1, 0)),
            spec(OW | UPDATE, index(2), range(0, 1, 0)),
        ])
        .group(Group::Generic)
        .since("6.2.0")
        .summary("Duplicates the value of a key under another name, possibly in another database.")
        .complexity("O(N) for a collection of N nested items, O(1) for a string.")
        .args(&[
            key("source", 0),
            key("destination", 1),
            integer("destination-db").token("DB").optional(),
            pure_token("replace", "REPLACE").optional(),
        ]),
    Command::new("dump", 2, READONLY, dump::cmd_dump)
        .acl(acl::KEYSPACE | acl::READ | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Generic)
        .since("2.6.0")
        .summary("Serializes a key's value in Redis's DUMP format.")
        .complexity("O(1) to find the key, then O(N*M) to serialize N items of average size M.")
        .args(&[key("key", 0)]),
    Command::new("migrate", -6, WRITE, migrate::cmd_migrate)
        .acl(acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS)
        .key_specs(&[
            spec(RW | ACCESS | DELETE, index(3), range(0, 1, 0)),
            spec(RW | ACCESS | DELETE | INCOMPLETE, keyword("KEYS", -2), range(-1, 1, 0)),
        ])
        .getkeys(GetKeys::Migrate)
        .tips(&["nondeterministic_output"])
        .group(Group::Generic)
        .since("2.6.0")
        .summary("Moves keys to another server: DUMP here, RESTORE there, then DEL here.")
        .complexity("The DUMP and DEL of each key here and its RESTORE on the target, plus sending the serialized values: O(N) in their total size.")
        .history(&[
            ("3.0.0", "COPY keeps the keys here; REPLACE overwrites them there."),
            ("3.0.6", "KEYS moves several keys at once."),
            ("4.0.7", "AUTH gives the target's password."),
            ("6.0.0", "AUTH2 gives the target's user and password."),
        ])
        .args(&[
            string("host"),
            integer("port"),
            oneof(
                "key_or_empty_string",
                &[key("key", 0), pure_token("empty_string", "")],
            ),
            integer("destination-db"),
            integer("timeout"),
            pure_token("copy", "COPY").since("3.0.0").optional(),
            pure_token("replace", "REPLACE").since("3.0.0").optional(),
            oneof(
                "authentication",
                &[
                    string("password").token("AUTH").since("4.0.7").optional(),
                    block("username_password", &[string("username"), string("password")])
                        .token("AUTH2")
                        .since("6.0.0")
                        .optional(),
                ],
            )
            .optional(),
            key("key", 1).token("KEYS").since("3.0.6").optional().multiple(),
        ]),
    Command::new("restore", -4, WRITE | DENYOOM, dump::cmd_restore)
        .acl(acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS)
        .key_specs(&[spec(OW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("2.6.0")
        .summary("Creates a key from a value serialized by DUMP.")
        .complexity(RESTORE_COMPLEXITY)
        .history(&RESTORE_HISTORY)
        .args(&RESTORE_ARGS),
    Command::new("restore-asking", -4, WRITE | DENYOOM | ASKING, dump::cmd_restore)
        .acl(acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS)
        .key_specs(&[spec(OW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Server)
        .since("3.0.0")
        .syscmd()
        .summary("RESTORE as a cluster's slot migration sends it; the same as RESTORE here.")
        .complexity(RESTORE_COMPLEXITY)
        .history(&RESTORE_HISTORY)
        .args(&RESTORE_ARGS),
    Command::new("sort", -2, WRITE | DENYOOM, sort::cmd_sort)
        .acl(acl::WRITE | acl::SET | acl::SORTEDSET | acl::LIST | acl::SLOW | acl::DANGEROUS)
        .key_specs(&[
            spec(RO | ACCESS, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, UNKNOWN_BEGIN, UNKNOWN_FIND)
                .notes("BY and GET patterns name keys made from the sorted elements."),
            spec(OW | UPDATE, UNKNOWN_BEGIN, UNKNOWN_FIND)
                .notes("STORE may come anywhere among the options."),
        ])
        .getkeys(GetKeys::Sort)
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Sorts a list, set or sorted set, or picks keys by its elements, and returns or stores the result.")
        .complexity(SORT_COMPLEXITY)
        .args(&[
            key("key", 0),
            pattern("pattern").key_spec_index(1).token("BY").optional(),
            SORT_LIMIT_ARG,
            pattern("pattern").key_spec_index(1).token("GET").optional().multiple().multiple_token(),
            SORT_ORDER_ARG,
            pure_token("sorting", "ALPHA").optional(),
            key("destination", 2).token("STORE").optional(),
        ]),
    Command::new("sort_ro", -2, READONLY, sort::cmd_sort_ro)
        .acl(acl::READ | acl::SET | acl::SORTEDSET | acl::LIST | acl::SLOW | acl::DANGEROUS)
        .key_specs(&[
            spec(RO | ACCESS, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, UNKNOWN_BEGIN, UNKNOWN_FIND)
                .notes("BY and GET patterns name keys made from the sorted elements."),
        ])
        .getkeys(GetKeys::SortRo)
        .group(Group::Generic)
        .since("7.0.0")
        .summary("Sorts a list, set or sorted set, or picks keys by its elements; never writes.")
        .complexity(SORT_COMPLEXITY)
        .args(&[
            key("key", 0),
            pattern("pattern").key_spec_index(1).token("BY").optional(),
            SORT_LIMIT_ARG,
            pattern("pattern").key_spec_index(1).token("GET").optional().multiple().multiple_token(),
            SORT_ORDER_ARG,
            pure_token("sorting", "ALPHA").optional(),
        ]),
    Command::new("move", 3, WRITE | FAST, keys::cmd_move)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Transfers a key to another database.")
        .complexity("O(1)")
        .args(&[key("key", 0), integer("db")]),
    Command::new("touch", -2, READONLY | FAST, keys::cmd_touch)
        .acl(acl::KEYSPACE | acl::READ | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(-1, 1, 0))])
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .group(Group::Generic)
        .since("3.2.1")
        .summary("Marks keys as just accessed and counts those that exist.")
        .complexity("O(N), N being the number of keys.")
        .args(&[key("key", 0).multiple()]),
    Command::new("object", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Generic)
        .since("2.2.3")
        .summary("Groups the commands that look at how a key's value is stored.")
        .complexity("Varies with the subcommand.")
        .subcommands(OBJECT_SUBCOMMANDS),
    Command::new("memory", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("4.0.0")
        .summary("Groups the commands that report on the server's memory.")
        .complexity("Varies with the subcommand.")
        .subcommands(MEMORY_SUBCOMMANDS),
    // ---- expiry (cmd/expire.rs)
    Command::new("expire", -3, WRITE | FAST, expire::cmd_expire)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Gives a key a time to live in seconds.")
        .complexity("O(1)")
        .history(&[("7.0.0", "NX, XX, GT and LT conditions.")])
        .args(&[
            key("key", 0),
            integer("seconds"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ])
            .since("7.0.0")
            .optional(),
        ]),
    Command::new("pexpire", -3, WRITE | FAST, expire::cmd_pexpire)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("2.6.0")
        .summary("Gives a key a time to live in milliseconds.")
        .complexity("O(1)")
        .history(&[("7.0.0", "NX, XX, GT and LT conditions.")])
        .args(&[
            key("key", 0),
            integer("milliseconds"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ])
            .since("7.0.0")
            .optional(),
        ]),
    Command::new("expireat", -3, WRITE | FAST, expire::cmd_expireat)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("1.2.0")
        .summary("Makes a key expire at a Unix time in seconds.")
        .complexity("O(1)")
        .history(&[("7.0.0", "NX, XX, GT and LT conditions.")])
        .args(&[
            key("key", 0),
            unix_time("unix-time-seconds"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ])
            .since("7.0.0")
            .optional(),
        ]),
    Command::new("pexpireat", -3, WRITE | FAST, expire::cmd_pexpireat)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("2.6.0")
        .summary("Makes a key expire at a Unix time in milliseconds.")
        .complexity("O(1)")
        .history(&[("7.0.0", "NX, XX, GT and LT conditions.")])
        .args(&[
            key("key", 0),
            unix_time("unix-time-milliseconds"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ])
            .since("7.0.0")
            .optional(),
        ]),
    Command::new("ttl", 2, READONLY | FAST, expire::cmd_ttl)
        .acl(acl::KEYSPACE | acl::READ | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Generic)
        .since("1.0.0")
        .summary("Replies with a key's remaining time to live in seconds.")
        .complexity("O(1)")
        .history(&[("2.8.0", "Replies -2 for a missing key.")])
        .args(&[key("key", 0)]),
    Command::new("pttl", 2, READONLY | FAST, expire::cmd_pttl)
        .acl(acl::KEYSPACE | acl::READ | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Generic)
        .since("2.6.0")
        .summary("Replies with a key's remaining time to live in milliseconds.")
        .complexity("O(1)")
        .history(&[("2.8.0", "Replies -2 for a missing key.")])
        .args(&[key("key", 0)]),
    Command::new("expiretime", 2, READONLY | FAST, expire::cmd_expiretime)
        .acl(acl::KEYSPACE | acl::READ | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("7.0.0")
        .summary("Replies with the Unix time in seconds at which a key expires.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("pexpiretime", 2, READONLY | FAST, expire::cmd_pexpiretime)
        .acl(acl::KEYSPACE | acl::READ | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("7.0.0")
        .summary("Replies with the Unix time in milliseconds at which a key expires.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("persist", 2, WRITE | FAST, expire::cmd_persist)
        .acl(acl::KEYSPACE | acl::WRITE | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Generic)
        .since("2.2.0")
        .summary("Clears a key's time to live so it no longer expires.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    // ---- strings (cmd/strings.rs)
    Command::new("get", 2, READONLY | FAST, strings::cmd_get)
        .acl(acl::READ | acl::STRING | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("1.0.0")
        .summary("Replies with the string stored at a key.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("set", -3, WRITE | DENYOOM, strings::cmd_set)
        .acl(acl::WRITE | acl::STRING | acl::SLOW)
        .key_specs(&[
            spec(RW | ACCESS | UPDATE | VARIABLE_FLAGS, index(1), range(0, 1, 0))
                .notes("GET reads the old value: RW and access, not just an overwrite."),
        ])
        .getkeys(GetKeys::Set)
        .group(Group::String)
        .since("1.0.0")
        .summary("Stores a string at a key, whatever it held, with optional conditions and expiry.")
        .complexity("O(1)")
        .history(&[
            ("2.6.12", "EX, PX, NX and XX options."),
            ("6.0.0", "KEEPTTL option."),
            ("6.2.0", "GET, EXAT and PXAT options."),
            ("7.0.0", "NX and GET may be combined."),
        ])
        .args(&[
            key("key", 0),
            string("value"),
            oneof("condition", &[pure_token("nx", "NX"), pure_token("xx", "XX")])
                .since("2.6.12")
                .optional(),
            pure_token("get", "GET").since("6.2.0").optional(),
            oneof("expiration", &[
                integer("seconds").token("EX").since("2.6.12"),
                integer("milliseconds").token("PX").since("2.6.12"),
                unix_time("unix-time-seconds").token("EXAT").since("6.2.0"),
                unix_time("unix-time-milliseconds").token("PXAT").since("6.2.0"),
                pure_token("keepttl", "KEEPTTL").since("6.0.0"),
            ])
            .optional(),
        ]),
    Command::new("setnx", 3, WRITE | DENYOOM | FAST, strings::cmd_setnx)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(OW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("1.0.0")
        .summary("Stores a string at a key only when the key is missing.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("value")]),
    Command::new("setex", 4, WRITE | DENYOOM, strings::cmd_setex)
        .acl(acl::WRITE | acl::STRING | acl::SLOW)
        .key_specs(&[spec(OW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("2.0.0")
        .summary("Stores a string at a key with a time to live in seconds.")
        .complexity("O(1)")
        .args(&[key("key", 0), integer("seconds"), string("value")]),
    Command::new("psetex", 4, WRITE | DENYOOM, strings::cmd_psetex)
        .acl(acl::WRITE | acl::STRING | acl::SLOW)
        .key_specs(&[spec(OW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("2.6.0")
        .summary("Stores a string at a key with a time to live in milliseconds.")
        .complexity("O(1)")
        .args(&[key("key", 0), integer("milliseconds"), string("value")]),
    Command::new("getset", 3, WRITE | DENYOOM | FAST, strings::cmd_getset)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("1.0.0")
        .summary("Stores a new string at a key and replies with the one it replaced.")
        .complexity("O(1)")
        .deprecated("6.2.0", "`SET` with the `!GET` argument")
        .args(&[key("key", 0), string("value")]),
    Command::new("getdel", 2, WRITE | FAST, strings::cmd_getdel)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("6.2.0")
        .summary("Replies with the string stored at a key and removes the key.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("getex", -2, WRITE | FAST, strings::cmd_getex)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[
            spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))
                .notes("RW and update: reading the value may also change its time to live."),
        ])
        .group(Group::String)
        .since("6.2.0")
        .summary("Replies with the string stored at a key and changes or clears its time to live.")
        .complexity("O(1)")
        .args(&[
            key("key", 0),
            oneof("expiration", &[
                integer("seconds").token("EX"),
                integer("milliseconds").token("PX"),
                unix_time("unix-time-seconds").token("EXAT"),
                unix_time("unix-time-milliseconds").token("PXAT"),
                pure_token("persist", "PERSIST"),
            ])
            .optional(),
        ]),
    Command::new("mget", -2, READONLY | FAST, strings::cmd_mget)
        .acl(acl::READ | acl::STRING | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(-1, 1, 0))])
        .tips(&["request_policy:multi_shard"])
        .group(Group::String)
        .since("1.0.0")
        .summary("Replies with the strings stored at several keys.")
        .complexity("O(N), N being the number of keys.")
        .args(&[key("key", 0).multiple()]),
    Command::new("mset", -3, WRITE | DENYOOM, strings::cmd_mset)
        .acl(acl::WRITE | acl::STRING | acl::SLOW)
        .key_specs(&[spec(OW | UPDATE, index(1), range(-1, 2, 0))])
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
        .group(Group::String)
        .since("1.0.1")
        .summary("Stores strings at several keys in one step.")
        .complexity("O(N), N being the number of keys.")
        .args(&[block("key_value", &[key("key", 0), string("value")]).multiple()]),
    Command::new("msetnx", -3, WRITE | DENYOOM, strings::cmd_msetnx)
        .acl(acl::WRITE | acl::STRING | acl::SLOW)
        .key_specs(&[spec(OW | INSERT, index(1), range(-1, 2, 0))])
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
        .group(Group::String)
        .since("1.0.1")
        .summary("Stores strings at several keys in one step, but only if none of the keys exists.")
        .complexity("O(N), N being the number of keys.")
        .args(&[block("key_value", &[key("key", 0), string("value")]).multiple()]),
    Command::new("append", 3, WRITE | DENYOOM | FAST, strings::cmd_append)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("2.0.0")
        .summary("Adds bytes to the end of a string value, creating the key when missing.")
        .complexity("O(1) amortized for a short value: the string grows geometrically.")
        .args(&[key("key", 0), string("value")]),
    Command::new("strlen", 2, READONLY | FAST, strings::cmd_strlen)
        .acl(acl::READ | acl::STRING | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("2.2.0")
        .summary("Replies with the length in bytes of the string stored at a key.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("getrange", 4, READONLY, strings::cmd_getrange)
        .acl(acl::READ | acl::STRING | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("2.4.0")
        .summary("Replies with a slice of the string stored at a key.")
        .complexity("O(N), N being the length of the slice (O(1) in practice for short slices).")
        .args(&[key("key", 0), integer("start"), integer("end")]),
    Command::new("substr", 4, READONLY, strings::cmd_getrange)
        .acl(acl::READ | acl::STRING | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("1.0.0")
        .summary("GETRANGE's original name: replies with a slice of the string at a key.")
        .complexity("O(N), N being the length of the slice (O(1) in practice for short slices).")
        .deprecated("2.0.0", "`GETRANGE`")
        .args(&[key("key", 0), integer("start"), integer("end")]),
    Command::new("setrange", 4, WRITE | DENYOOM, strings::cmd_setrange)
        .acl(acl::WRITE | acl::STRING | acl::SLOW)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("2.2.0")
        .summary("Overwrites part of a string at an offset, padding with zero bytes when needed.")
        .complexity("O(1) plus the copy of the new bytes: O(M) for a value of length M.")
        .args(&[key("key", 0), integer("offset"), string("value")]),
    Command::new("incr", 2, WRITE | DENYOOM | FAST, strings::cmd_incr)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("1.0.0")
        .summary("Adds one to the integer stored at a key, starting from 0 when missing.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("decr", 2, WRITE | DENYOOM | FAST, strings::cmd_decr)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("1.0.0")
        .summary("Subtracts one from the integer stored at a key, starting from 0 when missing.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("incrby", 3, WRITE | DENYOOM | FAST, strings::cmd_incrby)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("1.0.0")
        .summary("Adds an integer to the number at a key, starting from 0 when missing.")
        .complexity("O(1)")
        .args(&[key("key", 0), integer("increment")]),
    Command::new("decrby", 3, WRITE | DENYOOM | FAST, strings::cmd_decrby)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("1.0.0")
        .summary("Subtracts an amount from the integer at a key, starting from 0 when missing.")
        .complexity("O(1)")
        .args(&[key("key", 0), integer("decrement")]),
    Command::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, strings::cmd_incrbyfloat)
        .acl(acl::WRITE | acl::STRING | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::String)
        .since("2.6.0")
        .summary("Adds a float to the number at a key, starting from 0 when missing.")
        .complexity("O(1)")
        .args(&[key("key", 0), double("increment")]),
    Command::new("lcs", -3, READONLY, strings::cmd_lcs)
        .acl(acl::READ | acl::STRING | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(1, 1, 0))])
        .group(Group::String)
        .since("7.0.0")
        .summary("Computes the longest common subsequence of two strings.")
        .complexity("O(N*M), N and M being the two strings' lengths.")
        .args(&[
            key("key1", 0),
            key("key2", 0),
            pure_token("len", "LEN").optional(),
            pure_token("idx", "IDX").optional(),
            integer("len").token("MINMATCHLEN").optional(),
            pure_token("withmatchlen", "WITHMATCHLEN").optional(),
        ]),
    // ---- bitmaps (cmd/bitmaps.rs)
    Command::new("setbit", 4, WRITE | DENYOOM, bitmaps::cmd_setbit)
        .acl(acl::WRITE | acl::BITMAP | acl::SLOW)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Bitmap)
        .since("2.2.0")
        .summary("Sets one bit of a string to 0 or 1 and replies with its previous value.")
        .complexity("O(1), plus the zero bytes added when the string grows.")
        .args(&[key("key", 0), integer("offset"), integer("value")]),
    Command::new("getbit", 3, READONLY | FAST, bitmaps::cmd_getbit)
        .acl(acl::READ | acl::BITMAP | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Bitmap)
        .since("2.2.0")
        .summary("Replies with one bit of a string; bits past its end are 0.")
        .complexity("O(1)")
        .args(&[key("key", 0), integer("offset")]),
    Command::new("bitcount", -2, READONLY, bitmaps::cmd_bitcount)
        .acl(acl::READ | acl::BITMAP | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Bitmap)
        .since("2.6.0")
        .summary("Counts the bits set to 1 in a string, or in a range of its bytes or bits.")
        .complexity("O(N), N being the number of bytes counted.")
        .history(&[("7.0.0", "Ranges may be given in bits (BIT) or bytes (BYTE).")])
        .args(&[
            key("key", 0),
            block("index", &[
                integer("start"),
                integer("end"),
                oneof("index_unit", &[pure_token("byte", "BYTE"), pure_token("bit", "BIT")])
                    .since("7.0.0")
                    .optional(),
            ])
            .optional(),
        ]),
    Command::new("bitpos", -3, READONLY, bitmaps::cmd_bitpos)
        .acl(acl::READ | acl::BITMAP | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Bitmap)
        .since("2.8.7")
        .summary("Finds the first bit set to 1, or to 0, in a string or a range of it.")
        .complexity("O(N), N being the number of bytes searched.")
        .history(&[("7.0.0", "Ranges may be given in bits (BIT) or bytes (BYTE).")])
        .args(&[
            key("key", 0),
            integer("bit"),
            block("index", &[
                integer("start"),
                block("end_index", &[
                    integer("end"),
                    oneof("index_unit", &[pure_token("byte", "BYTE"), pure_token("bit", "BIT")])
                        .since("7.0.0")
                        .optional(),
                ])
                .optional(),
            ])
            .optional(),
        ]),
    Command::new("bitop", -4, WRITE | DENYOOM, bitmaps::cmd_bitop)
        .acl(acl::WRITE | acl::BITMAP | acl::SLOW)
        .key_specs(&[
            spec(OW | UPDATE, index(2), range(0, 1, 0)),
            spec(RO | ACCESS, index(3), range(-1, 1, 0)),
        ])
        .group(Group::Bitmap)
        .since("2.6.0")
        .summary("Stores the AND, OR or XOR of strings, or the NOT of one, at a key.")
        .complexity("O(N), N being the length of the longest source.")
        .args(&[string("operation"), key("destkey", 0), key("key", 1).multiple()]),
    Command::new("bitfield", -2, WRITE | DENYOOM, bitmaps::cmd_bitfield)
        .acl(acl::WRITE | acl::BITMAP | acl::SLOW)
        .key_specs(&[
            spec(RW | ACCESS | UPDATE | VARIABLE_FLAGS, index(1), range(0, 1, 0))
                .notes("Reads with GET, writes with SET and INCRBY: RW unless only GETs."),
        ])
        .getkeys(GetKeys::Bitfield)
        .group(Group::Bitmap)
        .since("3.2.0")
        .summary("Reads, sets and increments integer fields of any width at any bit offset.")
        .complexity("O(1) per subcommand.")
        .args(&[
            key("key", 0),
            oneof("operation", &[
                block("encoding_offset", &[string("encoding"), integer("offset")]).token("GET"),
                block("write", &[
                    oneof("wrap_sat_fail", &[
                        pure_token("wrap", "WRAP"),
                        pure_token("sat", "SAT"),
                        pure_token("fail", "FAIL"),
                    ])
                    .token("OVERFLOW")
                    .optional(),
                    oneof("write_operation", &[
                        block("encoding_offset_value", &[
                            string("encoding"),
                            integer("offset"),
                            integer("value"),
                        ])
                        .token("SET"),
                        block("encoding_offset_increment", &[
                            string("encoding"),
                            integer("offset"),
                            integer("increment"),
                        ])
                        .token("INCRBY"),
                    ]),
                ]),
            ])
            .optional()
            .multiple(),
        ]),
    Command::new("bitfield_ro", -2, READONLY | FAST, bitmaps::cmd_bitfield_ro)
        .acl(acl::READ | acl::BITMAP | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Bitmap)
        .since("6.0.0")
        .summary("BITFIELD limited to GET, for read-only contexts such as replicas.")
        .complexity("O(1) per subcommand.")
        .args(&[
            key("key", 0),
            block("encoding_offset", &[string("encoding"), integer("offset")])
                .token("GET")
                .optional()
                .multiple()
                .multiple_token(),
        ]),
    // ---- lists (cmd/lists.rs)
    Command::new("lpush", -3, WRITE | DENYOOM | FAST, lists::cmd_lpush)
        .acl(acl::WRITE | acl::LIST | acl::FAST)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Adds elements at the head of a list, creating it when missing.")
        .complexity("O(1) per element, so O(N) for N elements.")
        .history(&[("2.4.0", "Takes several elements.")])
        .args(&[key("key", 0), string("element").multiple()]),
    Command::new("rpush", -3, WRITE | DENYOOM | FAST, lists::cmd_rpush)
        .acl(acl::WRITE | acl::LIST | acl::FAST)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Adds elements at the tail of a list, creating it when missing.")
        .complexity("O(1) per element, so O(N) for N elements.")
        .history(&[("2.4.0", "Takes several elements.")])
        .args(&[key("key", 0), string("element").multiple()]),
    Command::new("lpushx", -3, WRITE | DENYOOM | FAST, lists::cmd_lpushx)
        .acl(acl::WRITE | acl::LIST | acl::FAST)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("2.2.0")
        .summary("Adds elements at the head of a list, but only if the list exists.")
        .complexity("O(1) per element, so O(N) for N elements.")
        .history(&[("4.0.0", "Takes several elements.")])
        .args(&[key("key", 0), string("element").multiple()]),
    Command::new("rpushx", -3, WRITE | DENYOOM | FAST, lists::cmd_rpushx)
        .acl(acl::WRITE | acl::LIST | acl::FAST)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("2.2.0")
        .summary("Adds elements at the tail of a list, but only if the list exists.")
        .complexity("O(1) per element, so O(N) for N elements.")
        .history(&[("4.0.0", "Takes several elements.")])
        .args(&[key("key", 0), string("element").multiple()]),
    Command::new("lpop", -2, WRITE | FAST, lists::cmd_lpop)
        .acl(acl::WRITE | acl::LIST | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Removes and replies with elements from the head of a list.")
        .complexity("O(N), N being the number of elements popped.")
        .history(&[("6.2.0", "Optional count.")])
        .args(&[key("key", 0), integer("count").since("6.2.0").optional()]),
    Command::new("rpop", -2, WRITE | FAST, lists::cmd_rpop)
        .acl(acl::WRITE | acl::LIST | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Removes and replies with elements from the tail of a list.")
        .complexity("O(N), N being the number of elements popped.")
        .history(&[("6.2.0", "Optional count.")])
        .args(&[key("key", 0), integer("count").since("6.2.0").optional()]),
    Command::new("llen", 2, READONLY | FAST, lists::cmd_llen)
        .acl(acl::READ | acl::LIST | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Replies with the length of a list.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("lrange", 4, READONLY, lists::cmd_lrange)
        .acl(acl::READ | acl::LIST | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Replies with the list elements between two positions.")
        .complexity("O(S+N): S to walk to the start from the nearer end, N elements returned.")
        .args(&[key("key", 0), integer("start"), integer("stop")]),
    Command::new("lindex", 3, READONLY, lists::cmd_lindex)
        .acl(acl::READ | acl::LIST | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Replies with the list element at a position.")
        .complexity("O(N), N being the elements walked to reach the position; the ends cost O(1).")
        .args(&[key("key", 0), integer("index")]),
    Command::new("lset", 4, WRITE | DENYOOM, lists::cmd_lset)
        .acl(acl::WRITE | acl::LIST | acl::SLOW)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Replaces the list element at a position.")
        .complexity("O(N), N being the list length; the ends cost O(1).")
        .args(&[key("key", 0), integer("index"), string("element")]),
    Command::new("linsert", 5, WRITE | DENYOOM, lists::cmd_linsert)
        .acl(acl::WRITE | acl::LIST | acl::SLOW)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("2.2.0")
        .summary("Inserts an element before or after the first occurrence of a pivot in a list.")
        .complexity("O(N), N being the elements walked to find the pivot.")
        .args(&[
            key("key", 0),
            oneof("where", &[pure_token("before", "BEFORE"), pure_token("after", "AFTER")]),
            string("pivot"),
            string("element"),
        ]),
    Command::new("lrem", 4, WRITE, lists::cmd_lrem)
        .acl(acl::WRITE | acl::LIST | acl::SLOW)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Removes the elements equal to a value from a list.")
        .complexity("O(N+M), N being the list length and M the number removed.")
        .args(&[key("key", 0), integer("count"), string("element")]),
    Command::new("ltrim", 4, WRITE, lists::cmd_ltrim)
        .acl(acl::WRITE | acl::LIST | acl::SLOW)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("1.0.0")
        .summary("Keeps only the list elements between two positions.")
        .complexity("O(N), N being the number of elements dropped.")
        .args(&[key("key", 0), integer("start"), integer("stop")]),
    Command::new("lpos", -3, READONLY, lists::cmd_lpos)
        .acl(acl::READ | acl::LIST | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::List)
        .since("6.0.6")
        .summary("Finds the positions of elements equal to a value in a list.")
        .complexity("O(N) for a list of N elements; less when matches are near the start or MAXLEN is given.")
        .args(&[
            key("key", 0),
            string("element"),
            integer("rank").token("RANK").optional(),
            integer("num-matches").token("COUNT").optional(),
            integer("len").token("MAXLEN").optional(),
        ]),
    Command::new("lmove", 5, WRITE | DENYOOM, lists::cmd_lmove)
        .acl(acl::WRITE | acl::LIST | acl::SLOW)
        .key_specs(&[
            spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0)),
            spec(RW | INSERT, index(2), range(0, 1, 0)),
        ])
        .group(Group::List)
        .since("6.2.0")
        .summary("Moves the head or tail element of one list onto another.")
        .complexity("O(1)")
        .args(&[
            key("source", 0),
            key("destination", 1),
            oneof("wherefrom", &[pure_token("left", "LEFT"), pure_token("right", "RIGHT")]),
            oneof("whereto", &[pure_token("left", "LEFT"), pure_token("right", "RIGHT")]),
        ]),
    Command::new("rpoplpush", 3, WRITE | DENYOOM, lists::cmd_rpoplpush)
        .acl(acl::WRITE | acl::LIST | acl::SLOW)
        .key_specs(&[
            spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0)),
            spec(RW | INSERT, index(2), range(0, 1, 0)),
        ])
        .group(Group::List)
        .since("1.2.0")
        .summary("Moves the tail element of one list to the head of another.")
        .complexity("O(1)")
        .deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments")
        .args(&[key("source", 0), key("destination", 1)]),
    Command::new("lmpop", -4, WRITE, lists::cmd_lmpop)
        .acl(acl::WRITE | acl::LIST | acl::SLOW)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 1, first: 2 })
        .group(Group::List)
        .since("7.0.0")
        .summary("Pops elements from the first non-empty list among the keys.")
        .complexity("O(N+M), N being the number of keys and M the number of elements popped.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            oneof("where", &[pure_token("left", "LEFT"), pure_token("right", "RIGHT")]),
            integer("count").token("COUNT").optional(),
        ]),
    // ---- hashes (cmd/hashes.rs)
    Command::new("hset", -4, WRITE | DENYOOM | FAST, hashes::cmd_hset)
        .acl(acl::WRITE | acl::HASH | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Stores one or more field-value pairs in a hash.")
        .complexity("O(1) per pair, so O(N) for N pairs.")
        .history(&[("4.0.0", "Takes several field-value pairs.")])
        .args(&[
            key("key", 0),
            block("field_value", &[string("field"), string("value")]).multiple(),
        ]),
    Command::new("hsetnx", 4, WRITE | DENYOOM | FAST, hashes::cmd_hsetnx)
        .acl(acl::WRITE | acl::HASH | acl::FAST)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Stores a hash field only when the hash lacks it.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("field"), string("value")]),
    Command::new("hget", 3, READONLY | FAST, hashes::cmd_hget)
        .acl(acl::READ | acl::HASH | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Replies with the value of one hash field.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("field")]),
    Command::new("hmget", -3, READONLY | FAST, hashes::cmd_hmget)
        .acl(acl::READ | acl::HASH | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Replies with the values of several hash fields.")
        .complexity("O(N), N being the number of fields asked for.")
        .args(&[key("key", 0), string("field").multiple()]),
    Command::new("hmset", -4, WRITE | DENYOOM | FAST, hashes::cmd_hmset)
        .acl(acl::WRITE | acl::HASH | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Stores several field-value pairs in a hash (HSET does the same).")
        .complexity("O(N), N being the number of fields stored.")
        .deprecated("4.0.0", "`HSET` with multiple field-value pairs")
        .args(&[
            key("key", 0),
            block("field_value", &[string("field"), string("value")]).multiple(),
        ]),
    Command::new("hdel", -3, WRITE | FAST, hashes::cmd_hdel)
        .acl(acl::WRITE | acl::HASH | acl::FAST)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Removes fields from a hash.")
        .complexity("O(N), N being the number of fields removed.")
        .history(&[("2.4.0", "Takes several fields.")])
        .args(&[key("key", 0), string("field").multiple()]),
    Command::new("hlen", 2, READONLY | FAST, hashes::cmd_hlen)
        .acl(acl::READ | acl::HASH | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Replies with how many fields a hash has.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("hstrlen", 3, READONLY | FAST, hashes::cmd_hstrlen)
        .acl(acl::READ | acl::HASH | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("3.2.0")
        .summary("Replies with the length of a hash field's value.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("field")]),
    Command::new("hexists", 3, READONLY | FAST, hashes::cmd_hexists)
        .acl(acl::READ | acl::HASH | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Tells whether a hash has a field.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("field")]),
    Command::new("hkeys", 2, READONLY, hashes::cmd_hkeys)
        .acl(acl::READ | acl::HASH | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output_order"])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Replies with the field names of a hash.")
        .complexity("O(N), N being the number of fields.")
        .args(&[key("key", 0)]),
    Command::new("hvals", 2, READONLY, hashes::cmd_hvals)
        .acl(acl::READ | acl::HASH | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output_order"])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Replies with the values of a hash.")
        .complexity("O(N), N being the number of fields.")
        .args(&[key("key", 0)]),
    Command::new("hgetall", 2, READONLY, hashes::cmd_hgetall)
        .acl(acl::READ | acl::HASH | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output_order"])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Replies with every field of a hash and its value.")
        .complexity("O(N), N being the number of fields.")
        .args(&[key("key", 0)]),
    Command::new("hincrby", 4, WRITE | DENYOOM | FAST, hashes::cmd_hincrby)
        .acl(acl::WRITE | acl::HASH | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.0.0")
        .summary("Adds an integer to the number in a hash field, starting from 0 when missing.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("field"), integer("increment")]),
    Command::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hashes::cmd_hincrbyfloat)
        .acl(acl::WRITE | acl::HASH | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Hash)
        .since("2.6.0")
        .summary("Adds a float to the number in a hash field, starting from 0 when missing.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("field"), double("increment")]),
    Command::new("hrandfield", -2, READONLY, hashes::cmd_hrandfield)
        .acl(acl::READ | acl::HASH | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Hash)
        .since("6.2.0")
        .summary("Picks random fields of a hash, optionally with their values.")
        .complexity("O(N), N being the number of fields returned.")
        .args(&[
            key("key", 0),
            block("options", &[integer("count"), pure_token("withvalues", "WITHVALUES").optional()])
                .optional(),
        ]),
    Command::new("hscan", -3, READONLY, hashes::cmd_hscan)
        .acl(acl::READ | acl::HASH | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Hash)
        .since("2.8.0")
        .summary("Walks the fields and values of a hash a batch at a time with a cursor.")
        .complexity("O(1) per call; O(N) over a whole walk of a hash with N fields.")
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").optional(),
            integer("count").token("COUNT").optional(),
        ]),
    // ---- sets (cmd/sets.rs)
    Command::new("sadd", -3, WRITE | DENYOOM | FAST, sets::cmd_sadd)
        .acl(acl::WRITE | acl::SET | acl::FAST)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Puts members into a set, creating it when missing.")
        .complexity("O(1) per member, so O(N) for N members.")
        .history(&[("2.4.0", "Takes several members.")])
        .args(&[key("key", 0), string("member").multiple()]),
    Command::new("srem", -3, WRITE | FAST, sets::cmd_srem)
        .acl(acl::WRITE | acl::SET | acl::FAST)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Takes members out of a set.")
        .complexity("O(N), N being the number of members removed.")
        .history(&[("2.4.0", "Takes several members.")])
        .args(&[key("key", 0), string("member").multiple()]),
    Command::new("sismember", 3, READONLY | FAST, sets::cmd_sismember)
        .acl(acl::READ | acl::SET | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Tells whether a value is a member of a set.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("member")]),
    Command::new("smismember", -3, READONLY | FAST, sets::cmd_smismember)
        .acl(acl::READ | acl::SET | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Set)
        .since("6.2.0")
        .summary("Tells for each of several values whether it is a member of a set.")
        .complexity("O(N), N being the number of values checked.")
        .args(&[key("key", 0), string("member").multiple()]),
    Command::new("scard", 2, READONLY | FAST, sets::cmd_scard)
        .acl(acl::READ | acl::SET | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Replies with how many members a set has.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("smembers", 2, READONLY, sets::cmd_smembers)
        .acl(acl::READ | acl::SET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output_order"])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Replies with every member of a set.")
        .complexity("O(N), N being the set's size.")
        .args(&[key("key", 0)]),
    Command::new("spop", -2, WRITE | FAST, sets::cmd_spop)
        .acl(acl::WRITE | acl::SET | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Removes and replies with random members of a set.")
        .complexity("O(1) without a count, O(N) for a count of N.")
        .history(&[("3.2.0", "Optional count.")])
        .args(&[key("key", 0), integer("count").since("3.2.0").optional()]),
    Command::new("srandmember", -2, READONLY, sets::cmd_srandmember)
        .acl(acl::READ | acl::SET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Picks random members of a set without removing them.")
        .complexity("O(1) without a count, O(N) for a count of N (or -N).")
        .history(&[("2.6.0", "Optional count.")])
        .args(&[key("key", 0), integer("count").since("2.6.0").optional()]),
    Command::new("smove", 4, WRITE | FAST, sets::cmd_smove)
        .acl(acl::WRITE | acl::SET | acl::FAST)
        .key_specs(&[
            spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0)),
            spec(RW | INSERT, index(2), range(0, 1, 0)),
        ])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Moves a member from one set to another.")
        .complexity("O(1)")
        .args(&[key("source", 0), key("destination", 1), string("member")]),
    Command::new("sinter", -2, READONLY, sets::cmd_sinter)
        .acl(acl::READ | acl::SET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(-1, 1, 0))])
        .tips(&["nondeterministic_output_order"])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Replies with the members that all the given sets share.")
        .complexity("O(N*M) at worst, N being the smallest set's size and M the number of sets.")
        .args(&[key("key", 0).multiple()]),
    Command::new("sintercard", -3, READONLY, sets::cmd_sintercard)
        .acl(acl::READ | acl::SET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 1, first: 2 })
        .group(Group::Set)
        .since("7.0.0")
        .summary("Counts the members all the given sets share, stopping at an optional limit.")
        .complexity("O(N*M) at worst, N being the smallest set's size and M the number of sets.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            integer("limit").token("LIMIT").optional(),
        ]),
    Command::new("sinterstore", -3, WRITE | DENYOOM, sets::cmd_sinterstore)
        .acl(acl::WRITE | acl::SET | acl::SLOW)
        .key_specs(&[
            spec(RW | UPDATE, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), range(-1, 1, 0)),
        ])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Stores the members that all the given sets share.")
        .complexity("O(N*M) at worst, N being the smallest set's size and M the number of sets.")
        .args(&[key("destination", 0), key("key", 1).multiple()]),
    Command::new("sunion", -2, READONLY, sets::cmd_sunion)
        .acl(acl::READ | acl::SET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(-1, 1, 0))])
        .tips(&["nondeterministic_output_order"])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Replies with the members found in any of the given sets.")
        .complexity("O(N), N being the total size of the sets.")
        .args(&[key("key", 0).multiple()]),
    Command::new("sunionstore", -3, WRITE | DENYOOM, sets::cmd_sunionstore)
        .acl(acl::WRITE | acl::SET | acl::SLOW)
        .key_specs(&[
            spec(OW | UPDATE, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), range(-1, 1, 0)),
        ])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Stores the members found in any of the given sets.")
        .complexity("O(N), N being the total size of the sets.")
        .args(&[key("destination", 0), key("key", 1).multiple()]),
    Command::new("sdiff", -2, READONLY, sets::cmd_sdiff)
        .acl(acl::READ | acl::SET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(-1, 1, 0))])
        .tips(&["nondeterministic_output_order"])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Replies with the members of the first set that none of the other sets has.")
        .complexity("O(N), N being the total size of the sets.")
        .args(&[key("key", 0).multiple()]),
    Command::new("sdiffstore", -3, WRITE | DENYOOM, sets::cmd_sdiffstore)
        .acl(acl::WRITE | acl::SET | acl::SLOW)
        .key_specs(&[
            spec(OW | UPDATE, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), range(-1, 1, 0)),
        ])
        .group(Group::Set)
        .since("1.0.0")
        .summary("Stores the members of the first set that none of the other sets has.")
        .complexity("O(N), N being the total size of the sets.")
        .args(&[key("destination", 0), key("key", 1).multiple()]),
    Command::new("sscan", -3, READONLY, sets::cmd_sscan)
        .acl(acl::READ | acl::SET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Set)
        .since("2.8.0")
        .summary("Walks the members of a set a batch at a time with a cursor.")
        .complexity("O(1) per call; O(N) over a whole walk of a set with N members.")
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").optional(),
            integer("count").token("COUNT").optional(),
        ]),
    // ---- streams (cmd/streams.rs)
    Command::new("xadd", -5, WRITE | DENYOOM | FAST, streams::cmd_xadd)
        .acl(acl::WRITE | acl::STREAM | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))
            .notes("UPDATE, not INSERT: the entry may be trimmed away at once.")])
        .tips(&["nondeterministic_output"])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Appends an entry to a stream, creating the stream unless told not to.")
        .complexity("O(1) to add, plus O(N), N entries removed.")
        .history(&[("6.2.0", "NOMKSTREAM, MINID and LIMIT options."), ("7.0.0", "IDs of the form ms-* (sequence chosen by the server).")])
        .args(&[
            key("key", 0),
            pure_token("nomkstream", "NOMKSTREAM").since("6.2.0").optional(),
            block("trim", &[
                oneof("strategy", &[
                    pure_token("maxlen", "MAXLEN"),
                    pure_token("minid", "MINID").since("6.2.0"),
                ]),
                oneof("operator", &[
                    pure_token("equal", "="),
                    pure_token("approximately", "~"),
                ]).optional(),
                string("threshold"),
                integer("count").token("LIMIT").since("6.2.0").optional(),
            ]).optional(),
            oneof("id_or_auto", &[
                pure_token("auto_id", "*"),
                string("id"),
            ]),
            block("field_value", &[
                string("field"),
                string("value"),
            ]).multiple(),
        ]),
    Command::new("xrange", -4, READONLY, streams::cmd_xrange)
        .acl(acl::READ | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Replies with the entries of a stream whose IDs fall in a range, lowest first.")
        .complexity("O(log(N)+M), M entries returned from a stream of N.")
        .history(&[("6.2.0", "Exclusive bounds with a leading (.")])
        .args(&[
            key("key", 0),
            string("start"),
            string("end"),
            integer("count").token("COUNT").optional(),
        ]),
    Command::new("xrevrange", -4, READONLY, streams::cmd_xrevrange)
        .acl(acl::READ | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Replies with the entries of a stream whose IDs fall in a range, highest first.")
        .complexity("O(log(N)+M), M entries returned from a stream of N.")
        .history(&[("6.2.0", "Exclusive bounds with a leading (.")])
        .args(&[
            key("key", 0),
            string("end"),
            string("start"),
            integer("count").token("COUNT").optional(),
        ]),
    Command::new("xlen", 2, READONLY | FAST, streams::cmd_xlen)
        .acl(acl::READ | acl::STREAM | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Replies with how many entries a stream holds.")
        .complexity("O(1)")
        .args(&[
            key("key", 0),
        ]),
    Command::new("xdel", -3, WRITE | FAST, streams::cmd_xdel)
        .acl(acl::WRITE | acl::STREAM | acl::FAST)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Takes entries out of a stream by ID.")
        .complexity("O(1) per ID, in nodes of bounded size.")
        .args(&[
            key("key", 0),
            string("id").multiple(),
        ]),
    Command::new("xtrim", -4, WRITE, streams::cmd_xtrim)
        .acl(acl::WRITE | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Removes the oldest entries of a stream down to a length or an ID.")
        .complexity("O(N), N entries removed.")
        .history(&[("6.2.0", "MINID and LIMIT options.")])
        .args(&[
            key("key", 0),
            block("trim", &[
                oneof("strategy", &[
                    pure_token("maxlen", "MAXLEN"),
                    pure_token("minid", "MINID").since("6.2.0"),
                ]),
                oneof("operator", &[
                    pure_token("equal", "="),
                    pure_token("approximately", "~"),
                ]).optional(),
                string("threshold"),
                integer("count").token("LIMIT").since("6.2.0").optional(),
            ]),
        ]),
    Command::new("xsetid", -3, WRITE | DENYOOM | FAST, streams::cmd_xsetid)
        .acl(acl::WRITE | acl::STREAM | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Sets a stream's last ID and, optionally, its added and deleted counters.")
        .complexity("O(1)")
        .history(&[("7.0.0", "ENTRIESADDED and MAXDELETEDID options.")])
        .args(&[
            key("key", 0),
            string("last-id"),
            integer("entries_added").token("ENTRIESADDED").since("7.0.0").optional(),
            string("max_deleted_entry_id").token("MAXDELETEDID").since("7.0.0").optional(),
        ]),
    Command::new("xack", -4, WRITE | FAST, streams::cmd_xack)
        .acl(acl::WRITE | acl::STREAM | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Acknowledges pending entries of a consumer group, taking them out of its PEL.")
        .complexity("O(1) per ID.")
        .args(&[
            key("key", 0),
            string("group"),
            string("id").multiple(),
        ]),
    Command::new("xpending", -3, READONLY, streams::cmd_xpending)
        .acl(acl::READ | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Replies with a summary of a group's pending entries, or lists them by ID range.")
        .complexity("O(N) for the listed entries, O(1) with a summary of at most a few consumers.")
        .history(&[("6.2.0", "IDLE option and exclusive bounds.")])
        .args(&[
            key("key", 0),
            string("group"),
            block("filters", &[
                integer("min-idle-time").token("IDLE").since("6.2.0").optional(),
                string("start"),
                string("end"),
                integer("count"),
                string("consumer").optional(),
            ]).optional(),
        ]),
    Command::new("xclaim", -6, WRITE | FAST, streams::cmd_xclaim)
        .acl(acl::WRITE | acl::STREAM | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Gives pending entries of a group to another consumer.")
        .complexity("O(log N) per ID, N the size of the group's PEL.")
        .args(&[
            key("key", 0),
            string("group"),
            string("consumer"),
            string("min-idle-time"),
            string("id").multiple(),
            integer("ms").token("IDLE").optional(),
            unix_time("unix-time-milliseconds").token("TIME").optional(),
            integer("count").token("RETRYCOUNT").optional(),
            pure_token("force", "FORCE").optional(),
            pure_token("justid", "JUSTID").optional(),
            string("id").token("LASTID").optional(),
        ]),
    Command::new("xautoclaim", -6, WRITE | FAST, streams::cmd_xautoclaim)
        .acl(acl::WRITE | acl::STREAM | acl::FAST)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Stream)
        .since("6.2.0")
        .summary("Gives the pending entries idle for long enough, from a start ID on, to another consumer.")
        .complexity("O(1) per entry looked at (COUNT bounds it).")
        .history(&[("7.0.0", "Replies with the IDs of deleted entries it dropped from the PEL.")])
        .args(&[
            key("key", 0),
            string("group"),
            string("consumer"),
            string("min-idle-time"),
            string("start"),
            integer("count").token("COUNT").optional(),
            pure_token("justid", "JUSTID").optional(),
        ]),
    Command::new("xreadgroup", -7, WRITE | BLOCKING, streams::cmd_xreadgroup)
        .acl(acl::WRITE | acl::STREAM | acl::SLOW | acl::BLOCKING)
        .key_specs(&[spec(RO | ACCESS, keyword("STREAMS", 4), range(-1, 1, 2))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Reads entries as a consumer of a group, new ones or its own pending ones, optionally blocking.")
        .complexity("O(M) for M entries returned, per stream.")
        .args(&[
            block("group_consumer", &[
                string("group"),
                string("consumer"),
            ]).token("GROUP"),
            integer("count").token("COUNT").optional(),
            integer("milliseconds").token("BLOCK").optional(),
            pure_token("noack", "NOACK").optional(),
            block("streams", &[
                key("key", 0).multiple(),
                string("id").multiple(),
            ]).token("STREAMS"),
        ]),
    Command::new("xread", -4, READONLY | BLOCKING, streams::cmd_xread)
        .acl(acl::READ | acl::STREAM | acl::SLOW | acl::BLOCKING)
        .key_specs(&[spec(RO | ACCESS, keyword("STREAMS", 1), range(-1, 1, 2))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Reads the entries after given IDs from one or more streams, optionally blocking.")
        .complexity("O(M) for M entries returned, per stream.")
        .args(&[
            integer("count").token("COUNT").optional(),
            integer("milliseconds").token("BLOCK").optional(),
            block("streams", &[
                key("key", 0).multiple(),
                string("id").multiple(),
            ]).token("STREAMS"),
        ]),
    Command::new("xgroup", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Groups the commands that manage a stream's consumer groups.")
        .complexity("Varies with the subcommand.")
        .subcommands(XGROUP_SUBCOMMANDS),
    Command::new("xinfo", -2, 0, server::cmd_container_without_sub)
        .acl(acl::SLOW)
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Groups the commands that describe streams, their groups and consumers.")
        .complexity("Varies with the subcommand.")
        .subcommands(XINFO_SUBCOMMANDS),
    // ---- sorted sets (cmd/zsets.rs)
    Command::new("zadd", -4, WRITE | DENYOOM | FAST, zsets::cmd_zadd)
        .acl(acl::WRITE | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.2.0")
        .summary("Puts members with scores into a sorted set, or changes their scores.")
        .complexity("O(log(N)) per member, N being the sorted set's size.")
        .history(&[
            ("2.4.0", "Takes several score-member pairs."),
            ("3.0.2", "XX, NX, CH and INCR options."),
            ("6.2.0", "GT and LT options."),
        ])
        .args(&[
            key("key", 0),
            oneof("condition", &[pure_token("nx", "NX"), pure_token("xx", "XX")])
                .since("3.0.2")
                .optional(),
            oneof("comparison", &[pure_token("gt", "GT"), pure_token("lt", "LT")])
                .since("6.2.0")
                .optional(),
            pure_token("change", "CH").since("3.0.2").optional(),
            pure_token("increment", "INCR").since("3.0.2").optional(),
            block("score_member", &[double("score"), string("member")]).multiple(),
        ]),
    Command::new("zincrby", 4, WRITE | DENYOOM | FAST, zsets::cmd_zincrby)
        .acl(acl::WRITE | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.2.0")
        .summary("Adds an amount to a sorted set member's score.")
        .complexity("O(log(N)), N being the sorted set's size.")
        .args(&[key("key", 0), integer("increment"), string("member")]),
    Command::new("zrem", -3, WRITE | FAST, zsets::cmd_zrem)
        .acl(acl::WRITE | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.2.0")
        .summary("Takes members out of a sorted set.")
        .complexity("O(M*log(N)), M members removed from a set of N.")
        .history(&[("2.4.0", "Takes several members.")])
        .args(&[key("key", 0), string("member").multiple()]),
    Command::new("zcard", 2, READONLY | FAST, zsets::cmd_zcard)
        .acl(acl::READ | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RO, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.2.0")
        .summary("Replies with how many members a sorted set has.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("zscore", 3, READONLY | FAST, zsets::cmd_zscore)
        .acl(acl::READ | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.2.0")
        .summary("Replies with a sorted set member's score.")
        .complexity("O(1)")
        .args(&[key("key", 0), string("member")]),
    Command::new("zmscore", -3, READONLY | FAST, zsets::cmd_zmscore)
        .acl(acl::READ | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("6.2.0")
        .summary("Replies with the scores of several sorted set members.")
        .complexity("O(N), N being the number of members asked for.")
        .args(&[key("key", 0), string("member").multiple()]),
    Command::new("zrank", 3, READONLY | FAST, zsets::cmd_zrank)
        .acl(acl::READ | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.0.0")
        .summary("Replies with a member's position in a sorted set, lowest score first.")
        .complexity("O(log(N))")
        .args(&[key("key", 0), string("member")]),
    Command::new("zrevrank", 3, READONLY | FAST, zsets::cmd_zrevrank)
        .acl(acl::READ | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.0.0")
        .summary("Replies with a member's position in a sorted set, highest score first.")
        .complexity("O(log(N))")
        .args(&[key("key", 0), string("member")]),
    Command::new("zcount", 4, READONLY | FAST, zsets::cmd_zcount)
        .acl(acl::READ | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.0.0")
        .summary("Counts the sorted set members whose scores fall in a range.")
        .complexity("O(log(N)), N being the sorted set's size.")
        .args(&[key("key", 0), double("min"), double("max")]),
    Command::new("zlexcount", 4, READONLY | FAST, zsets::cmd_zlexcount)
        .acl(acl::READ | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.8.9")
        .summary("Counts the sorted set members between two names (equal scores assumed).")
        .complexity("O(log(N)), N being the sorted set's size.")
        .args(&[key("key", 0), string("min"), string("max")]),
    Command::new("zrange", -4, READONLY, zsets::cmd_zrange)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.2.0")
        .summary("Replies with sorted set members by rank, score or name, in either direction.")
        .complexity("O(log(N)+M), M members returned from a set of N.")
        .history(&[("6.2.0", "REV, BYSCORE, BYLEX and LIMIT options.")])
        .args(&[
            key("key", 0),
            string("start"),
            string("stop"),
            oneof("sortby", &[pure_token("byscore", "BYSCORE"), pure_token("bylex", "BYLEX")])
                .since("6.2.0")
                .optional(),
            pure_token("rev", "REV").since("6.2.0").optional(),
            block("offset_count", &[integer("offset"), integer("count")])
                .token("LIMIT")
                .since("6.2.0")
                .optional(),
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    Command::new("zrangestore", -5, WRITE | DENYOOM, zsets::cmd_zrangestore)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[
            spec(OW | UPDATE, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), range(0, 1, 0)),
        ])
        .group(Group::SortedSet)
        .since("6.2.0")
        .summary("Stores a range of a sorted set, by rank, score or name, under another key.")
        .complexity("O(log(N)+M), M members stored from a set of N.")
        .args(&[
            key("dst", 0),
            key("src", 1),
            string("min"),
            string("max"),
            oneof("sortby", &[pure_token("byscore", "BYSCORE"), pure_token("bylex", "BYLEX")])
                .optional(),
            pure_token("rev", "REV").optional(),
            block("offset_count", &[integer("offset"), integer("count")]).token("LIMIT").optional(),
        ]),
    Command::new("zrevrange", -4, READONLY, zsets::cmd_zrevrange)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.2.0")
        .summary("Replies with sorted set members by position, highest score first.")
        .complexity("O(log(N)+M), M members returned from a set of N.")
        .deprecated("6.2.0", "`ZRANGE` with the `REV` argument")
        .args(&[
            key("key", 0),
            integer("start"),
            integer("stop"),
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    Command::new("zrangebyscore", -4, READONLY, zsets::cmd_zrangebyscore)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.0.5")
        .summary("Replies with the sorted set members whose scores fall in a range.")
        .complexity("O(log(N)+M), M members returned from a set of N.")
        .deprecated("6.2.0", "`ZRANGE` with the `BYSCORE` argument")
        .history(&[("2.0.0", "WITHSCORES option.")])
        .args(&[
            key("key", 0),
            double("min"),
            double("max"),
            pure_token("withscores", "WITHSCORES").since("2.0.0").optional(),
            block("offset_count", &[integer("offset"), integer("count")]).token("LIMIT").optional(),
        ]),
    Command::new("zrevrangebyscore", -4, READONLY, zsets::cmd_zrevrangebyscore)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.2.0")
        .summary("Replies with the sorted set members whose scores fall in a range, highest first.")
        .complexity("O(log(N)+M), M members returned from a set of N.")
        .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments")
        .history(&[("2.1.6", "Exclusive bounds with a ( prefix.")])
        .args(&[
            key("key", 0),
            double("max"),
            double("min"),
            pure_token("withscores", "WITHSCORES").optional(),
            block("offset_count", &[integer("offset"), integer("count")]).token("LIMIT").optional(),
        ]),
    Command::new("zrangebylex", -4, READONLY, zsets::cmd_zrangebylex)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.8.9")
        .summary("Replies with the sorted set members between two names (equal scores assumed).")
        .complexity("O(log(N)+M), M members returned from a set of N.")
        .deprecated("6.2.0", "`ZRANGE` with the `BYLEX` argument")
        .args(&[
            key("key", 0),
            string("min"),
            string("max"),
            block("offset_count", &[integer("offset"), integer("count")]).token("LIMIT").optional(),
        ]),
    Command::new("zrevrangebylex", -4, READONLY, zsets::cmd_zrevrangebylex)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.8.9")
        .summary("Replies with the sorted set members between two names, last name first.")
        .complexity("O(log(N)+M), M members returned from a set of N.")
        .deprecated("6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments")
        .args(&[
            key("key", 0),
            string("max"),
            string("min"),
            block("offset_count", &[integer("offset"), integer("count")]).token("LIMIT").optional(),
        ]),
    Command::new("zremrangebyrank", 4, WRITE, zsets::cmd_zremrangebyrank)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.0.0")
        .summary("Removes the sorted set members between two positions.")
        .complexity("O(log(N)+M), M members removed from a set of N.")
        .args(&[key("key", 0), integer("start"), integer("stop")]),
    Command::new("zremrangebyscore", 4, WRITE, zsets::cmd_zremrangebyscore)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("1.2.0")
        .summary("Removes the sorted set members whose scores fall in a range.")
        .complexity("O(log(N)+M), M members removed from a set of N.")
        .args(&[key("key", 0), double("min"), double("max")]),
    Command::new("zremrangebylex", 4, WRITE, zsets::cmd_zremrangebylex)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RW | DELETE, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("2.8.9")
        .summary("Removes the sorted set members between two names (equal scores assumed).")
        .complexity("O(log(N)+M), M members removed from a set of N.")
        .args(&[key("key", 0), string("min"), string("max")]),
    Command::new("zpopmin", -2, WRITE | FAST, zsets::cmd_zpopmin)
        .acl(acl::WRITE | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("5.0.0")
        .summary("Removes and replies with the lowest-scored members of a sorted set.")
        .complexity("O(log(N)*M), M members popped from a set of N.")
        .args(&[key("key", 0), integer("count").optional()]),
    Command::new("zpopmax", -2, WRITE | FAST, zsets::cmd_zpopmax)
        .acl(acl::WRITE | acl::SORTEDSET | acl::FAST)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("5.0.0")
        .summary("Removes and replies with the highest-scored members of a sorted set.")
        .complexity("O(log(N)*M), M members popped from a set of N.")
        .args(&[key("key", 0), integer("count").optional()]),
    Command::new("zmpop", -4, WRITE, zsets::cmd_zmpop)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 1, first: 2 })
        .group(Group::SortedSet)
        .since("7.0.0")
        .summary("Pops members by score from the first non-empty sorted set among the keys.")
        .complexity("O(K) + O(M*log(N)): K keys checked, M members popped from a set of N.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            oneof("where", &[pure_token("min", "MIN"), pure_token("max", "MAX")]),
            integer("count").token("COUNT").optional(),
        ]),
    Command::new("zrandmember", -2, READONLY, zsets::cmd_zrandmember)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::SortedSet)
        .since("6.2.0")
        .summary("Picks random members of a sorted set, optionally with their scores.")
        .complexity("O(N), N being the number of members returned.")
        .args(&[
            key("key", 0),
            block("options", &[integer("count"), pure_token("withscores", "WITHSCORES").optional()])
                .optional(),
        ]),
    Command::new("zunion", -3, READONLY, zsets::cmd_zunion)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 1, first: 2 })
        .group(Group::SortedSet)
        .since("6.2.0")
        .summary("Replies with the members of any of the given sorted sets, with combined scores.")
        .complexity("O(N)+O(M*log(M)): N elements in all inputs, M in the result.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            WEIGHTS_ARG,
            AGGREGATE_ARG,
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    Command::new("zinter", -3, READONLY, zsets::cmd_zinter)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 1, first: 2 })
        .group(Group::SortedSet)
        .since("6.2.0")
        .summary("Replies with the members all the given sorted sets share, with combined scores.")
        .complexity("O(N*K)+O(M*log(M)) at worst: K sets, N in the smallest, M in the result.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            WEIGHTS_ARG,
            AGGREGATE_ARG,
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    Command::new("zdiff", -3, READONLY, zsets::cmd_zdiff)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 1, first: 2 })
        .group(Group::SortedSet)
        .since("6.2.0")
        .summary("Replies with the members of the first sorted set that none of the others has.")
        .complexity("O(L + (N-K)log(N)) at worst: L elements in all, N in the first, K in the result.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    Command::new("zunionstore", -4, WRITE | DENYOOM, zsets::cmd_zunionstore)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[
            spec(OW | UPDATE, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), keynum(0, 1, 1)),
        ])
        .getkeys(GetKeys::NumKeys { store: 1, numkeys: 2, first: 3 })
        .group(Group::SortedSet)
        .since("2.0.0")
        .summary("Stores the members of any of the given sorted sets, with combined scores.")
        .complexity("O(N)+O(M*log(M)): N elements in all inputs, M in the result.")
        .args(&[
            key("destination", 0),
            integer("numkeys"),
            key("key", 1).multiple(),
            WEIGHTS_ARG,
            AGGREGATE_ARG,
        ]),
    Command::new("zinterstore", -4, WRITE | DENYOOM, zsets::cmd_zinterstore)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[
            spec(OW | UPDATE, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), keynum(0, 1, 1)),
        ])
        .getkeys(GetKeys::NumKeys { store: 1, numkeys: 2, first: 3 })
        .group(Group::SortedSet)
        .since("2.0.0")
        .summary("Stores the members all the given sorted sets share, with combined scores.")
        .complexity("O(N*K)+O(M*log(M)) at worst: K sets, N in the smallest, M in the result.")
        .args(&[
            key("destination", 0),
            integer("numkeys"),
            key("key", 1).multiple(),
            WEIGHTS_ARG,
            AGGREGATE_ARG,
        ]),
    Command::new("zdiffstore", -4, WRITE | DENYOOM, zsets::cmd_zdiffstore)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[
            spec(OW | UPDATE, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), keynum(0, 1, 1)),
        ])
        .getkeys(GetKeys::NumKeys { store: 1, numkeys: 2, first: 3 })
        .group(Group::SortedSet)
        .since("6.2.0")
        .summary("Stores the members of the first sorted set that none of the others has.")
        .complexity("O(L + (N-K)log(N)) at worst: L elements in all, N in the first, K in the result.")
        .args(&[key("destination", 0), integer("numkeys"), key("key", 1).multiple()]),
    Command::new("zintercard", -3, READONLY, zsets::cmd_zintercard)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 1, first: 2 })
        .group(Group::SortedSet)
        .since("7.0.0")
        .summary("Counts the members all the given sorted sets share, stopping at an optional limit.")
        .complexity("O(N*K) at worst: N the smallest set's size, K the number of sets.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            integer("limit").token("LIMIT").optional(),
        ]),
    Command::new("zscan", -3, READONLY, zsets::cmd_zscan)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::SortedSet)
        .since("2.8.0")
        .summary("Walks the members and scores of a sorted set a batch at a time with a cursor.")
        .complexity("O(1) per call; O(N) over a whole walk of a set with N members.")
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").optional(),
            integer("count").token("COUNT").optional(),
        ]),
    // ringkv's own command: no Redis counterpart.
    Command::new("zquery", 6, READONLY, zsets::cmd_zquery)
        .acl(acl::READ | acl::SORTEDSET | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::SortedSet)
        .since("7.0.0")
        .summary("Replies with members from a (score, member) position on, after an offset, up to a count.")
        .complexity("O(log(N)+M), M being the offset plus the count, in a set of N.")
        .args(&[
            key("key", 0),
            double("score"),
            string("member"),
            integer("offset"),
            integer("count"),
        ]),
    // ---- hyperloglog (cmd/hll.rs)
    Command::new("pfadd", -2, WRITE | DENYOOM | FAST, hll::cmd_pfadd)
        .acl(acl::WRITE | acl::HYPERLOGLOG | acl::FAST)
        .key_specs(&[spec(RW | INSERT, index(1), range(0, 1, 0))])
        .group(Group::Hyperloglog)
        .since("2.8.9")
        .summary("Adds elements to a HyperLogLog, creating it when missing.")
        .complexity("O(1) per element.")
        .args(&[key("key", 0), string("element").optional().multiple()]),
    Command::new("pfcount", -2, READONLY | MAY_REPLICATE, hll::cmd_pfcount)
        .acl(acl::READ | acl::HYPERLOGLOG | acl::SLOW)
        .key_specs(&[spec(RW | ACCESS, index(1), range(-1, 1, 0)).notes(
            "RW: counting one key writes the computed cardinality into its header, which is \
             propagated.",
        )])
        .group(Group::Hyperloglog)
        .since("2.8.9")
        .summary("Estimates how many distinct elements the HyperLogLogs at the keys saw together.")
        .complexity(
            "O(1) for one key (the cached count, or one pass over its registers); O(N) for N \
             keys, merged into a temporary.",
        )
        .args(&[key("key", 0).multiple()]),
    Command::new("pfmerge", -2, WRITE | DENYOOM, hll::cmd_pfmerge)
        .acl(acl::WRITE | acl::HYPERLOGLOG | acl::SLOW)
        .key_specs(&[
            spec(RW | ACCESS | INSERT, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), range(-1, 1, 0)),
        ])
        .group(Group::Hyperloglog)
        .since("2.8.9")
        .summary("Merges HyperLogLogs into the destination, which is counted as one of them.")
        .complexity("O(N) for N HyperLogLogs, each a pass over 16384 registers.")
        .args(&[key("destkey", 0), key("sourcekey", 1).multiple()]),
    Command::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, hll::cmd_pfdebug)
        .acl(acl::WRITE | acl::HYPERLOGLOG | acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .key_specs(&[spec(RW | ACCESS, index(2), range(0, 1, 0))])
        .group(Group::Hyperloglog)
        .since("2.8.9")
        .summary("Shows or changes a HyperLogLog's representation, for debugging.")
        .complexity("N/A")
        .syscmd()
        .args(&[string("subcommand"), key("key", 0)]),
    Command::new("pfselftest", 1, ADMIN, hll::cmd_pfselftest)
        .acl(acl::HYPERLOGLOG | acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Hyperloglog)
        .since("2.8.9")
        .summary("Tests the HyperLogLog implementation: register access and estimate error.")
        .complexity("N/A")
        .syscmd(),
    // ---- geo (cmd/geo.rs)
    Command::new("geoadd", -5, WRITE | DENYOOM, geo::cmd_geoadd)
        .acl(acl::WRITE | acl::GEO | acl::SLOW)
        .key_specs(&[spec(RW | UPDATE, index(1), range(0, 1, 0))])
        .group(Group::Geo)
        .since("3.2.0")
        .summary("Stores positions (longitude, latitude) of members in a geo sorted set.")
        .complexity("O(log(N)) per position, N being the sorted set's size.")
        .history(&[("6.2.0", "CH, NX and XX options.")])
        .args(&[
            key("key", 0),
            oneof("condition", &[pure_token("nx", "NX"), pure_token("xx", "XX")])
                .since("6.2.0")
                .optional(),
            pure_token("change", "CH").since("6.2.0").optional(),
            block(
                "longitude_latitude_member",
                &[double("longitude"), double("latitude"), string("member")],
            )
            .multiple(),
        ]),
    Command::new("geodist", -4, READONLY, geo::cmd_geodist)
        .acl(acl::READ | acl::GEO | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Geo)
        .since("3.2.0")
        .summary("Replies with the distance between two members of a geo sorted set.")
        .complexity("O(log(N))")
        .args(&[
            key("key", 0),
            string("member1"),
            string("member2"),
            GEO_UNIT_ARG.optional(),
        ]),
    Command::new("geohash", -2, READONLY, geo::cmd_geohash)
        .acl(acl::READ | acl::GEO | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Geo)
        .since("3.2.0")
        .summary("Replies with members' positions as 11-character standard geohash strings.")
        .complexity("O(log(N)) per member asked for, N being the sorted set's size.")
        .args(&[key("key", 0), string("member").multiple()]),
    Command::new("geopos", -2, READONLY, geo::cmd_geopos)
        .acl(acl::READ | acl::GEO | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Geo)
        .since("3.2.0")
        .summary("Replies with the longitude and latitude of members of a geo sorted set.")
        .complexity("O(N), N members asked for.")
        .args(&[key("key", 0), string("member").multiple()]),
    Command::new("geosearch", -7, READONLY, geo::cmd_geosearch)
        .acl(acl::READ | acl::GEO | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Geo)
        .since("6.2.0")
        .summary("Finds the members of a geo sorted set inside a circle or a box.")
        .complexity("O(N+log(M)): N members in the cells around the shape, M the set's size.")
        .history(&[("7.0.0", "Unit names in upper case.")])
        .args(&[
            key("key", 0),
            GEO_FROM_ARG,
            GEO_BY_ARG,
            GEO_ORDER_ARG,
            GEO_COUNT_ARG,
            GEO_WITH_ARGS[0],
            GEO_WITH_ARGS[1],
            GEO_WITH_ARGS[2],
        ]),
    Command::new("geosearchstore", -8, WRITE | DENYOOM, geo::cmd_geosearchstore)
        .acl(acl::WRITE | acl::GEO | acl::SLOW)
        .key_specs(&[
            spec(OW | UPDATE, index(1), range(0, 1, 0)),
            spec(RO | ACCESS, index(2), range(0, 1, 0)),
        ])
        .group(Group::Geo)
        .since("6.2.0")
        .summary("Stores the members of a geo sorted set inside a circle or a box under a key.")
        .complexity("O(N+log(M)): N members in the cells around the shape, M the set's size.")
        .history(&[("7.0.0", "Unit names in upper case.")])
        .args(&[
            key("destination", 0),
            key("source", 1),
            GEO_FROM_ARG,
            GEO_BY_ARG,
            GEO_ORDER_ARG,
            GEO_COUNT_ARG,
            pure_token("storedist", "STOREDIST").optional(),
        ]),
    Command::new("georadius", -6, WRITE | DENYOOM, geo::cmd_georadius)
        .acl(acl::WRITE | acl::GEO | acl::SLOW)
        .key_specs(&GEORADIUS_SPECS)
        .getkeys(GetKeys::GeoRadius)
        .group(Group::Geo)
        .since("3.2.0")
        .summary("Finds (or stores) the members of a geo sorted set within a radius of a point.")
        .complexity("O(N+log(M)): N members in the cells around the circle, M the set's size.")
        .deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument")
        .history(&[("6.2.0", "ANY option for COUNT."), ("7.0.0", "Unit names in upper case.")])
        .args(&[
            key("key", 0),
            double("longitude"),
            double("latitude"),
            double("radius"),
            GEO_UNIT_ARG,
            GEO_WITH_ARGS[0],
            GEO_WITH_ARGS[1],
            GEO_WITH_ARGS[2],
            GEO_COUNT_ANY_SINCE_ARG,
            GEO_ORDER_ARG,
            key("key", 1).token("STORE").optional(),
            key("key", 2).token("STOREDIST").optional(),
        ]),
    Command::new("georadiusbymember", -5, WRITE | DENYOOM, geo::cmd_georadiusbymember)
        .acl(acl::WRITE | acl::GEO | acl::SLOW)
        .key_specs(&GEORADIUSBYMEMBER_SPECS)
        .getkeys(GetKeys::GeoRadius)
        .group(Group::Geo)
        .since("3.2.0")
        .summary("Finds (or stores) the members of a geo sorted set within a radius of a member.")
        .complexity("O(N+log(M)): N members in the cells around the circle, M the set's size.")
        .deprecated(
            "6.2.0",
            "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
        )
        .history(&[("7.0.0", "Unit names in upper case.")])
        .args(&[
            key("key", 0),
            string("member"),
            double("radius"),
            GEO_UNIT_ARG,
            GEO_WITH_ARGS[0],
            GEO_WITH_ARGS[1],
            GEO_WITH_ARGS[2],
            GEO_COUNT_ARG,
            GEO_ORDER_ARG,
            key("key", 1).token("STORE").optional(),
            key("key", 2).token("STOREDIST").optional(),
        ]),
    Command::new("georadius_ro", -6, READONLY, geo::cmd_georadius_ro)
        .acl(acl::READ | acl::GEO | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Geo)
        .since("3.2.10")
        .summary("Finds the members of a geo sorted set within a radius of a point (no STORE).")
        .complexity("O(N+log(M)): N members in the cells around the circle, M the set's size.")
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument")
        .history(&[("6.2.0", "ANY option for COUNT.")])
        .args(&[
            key("key", 0),
            double("longitude"),
            double("latitude"),
            double("radius"),
            GEO_UNIT_ARG,
            GEO_WITH_ARGS[0],
            GEO_WITH_ARGS[1],
            GEO_WITH_ARGS[2],
            GEO_COUNT_ANY_SINCE_ARG,
            GEO_ORDER_ARG,
        ]),
    Command::new("georadiusbymember_ro", -5, READONLY, geo::cmd_georadiusbymember_ro)
        .acl(acl::READ | acl::GEO | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(1), range(0, 1, 0))])
        .group(Group::Geo)
        .since("3.2.10")
        .summary("Finds the members of a geo sorted set within a radius of a member (no STORE).")
        .complexity("O(N+log(M)): N members in the cells around the circle, M the set's size.")
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments")
        .args(&[
            key("key", 0),
            string("member"),
            double("radius"),
            GEO_UNIT_ARG,
            GEO_WITH_ARGS[0],
            GEO_WITH_ARGS[1],
            GEO_WITH_ARGS[2],
            GEO_COUNT_ARG,
            GEO_ORDER_ARG,
        ]),
    // ---- blocking pops and moves (cmd/blocking.rs)
    Command::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, blocking::cmd_blpop)
        .acl(acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(-2, 1, 0))])
        .group(Group::List)
        .since("2.0.0")
        .summary("Pops the head of the first non-empty list, waiting while all are empty.")
        .complexity("O(N), N being the number of keys.")
        .history(&[("6.0.0", "The timeout may have a fractional part.")])
        .args(&[key("key", 0).multiple(), double("timeout")]),
    Command::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, blocking::cmd_brpop)
        .acl(acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(-2, 1, 0))])
        .group(Group::List)
        .since("2.0.0")
        .summary("Pops the tail of the first non-empty list, waiting while all are empty.")
        .complexity("O(N), N being the number of keys.")
        .history(&[("6.0.0", "The timeout may have a fractional part.")])
        .args(&[key("key", 0).multiple(), double("timeout")]),
    Command::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, blocking::cmd_blmove)
        .acl(acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING)
        .key_specs(&[
            spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0)),
            spec(RW | INSERT, index(2), range(0, 1, 0)),
        ])
        .group(Group::List)
        .since("6.2.0")
        .summary("Moves an end element of one list onto another, waiting while the source is empty.")
        .complexity("O(1)")
        .args(&[
            key("source", 0),
            key("destination", 1),
            oneof("wherefrom", &[pure_token("left", "LEFT"), pure_token("right", "RIGHT")]),
            oneof("whereto", &[pure_token("left", "LEFT"), pure_token("right", "RIGHT")]),
            double("timeout"),
        ]),
    Command::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, blocking::cmd_brpoplpush)
        .acl(acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING)
        .key_specs(&[
            spec(RW | ACCESS | DELETE, index(1), range(0, 1, 0)),
            spec(RW | INSERT, index(2), range(0, 1, 0)),
        ])
        .group(Group::List)
        .since("2.2.0")
        .summary("Moves the tail of one list to the head of another, waiting while the source is empty.")
        .complexity("O(1)")
        .deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments")
        .history(&[("6.0.0", "The timeout may have a fractional part.")])
        .args(&[key("source", 0), key("destination", 1), double("timeout")]),
    Command::new("blmpop", -5, WRITE | BLOCKING, blocking::cmd_blmpop)
        .acl(acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(2), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 2, first: 3 })
        .group(Group::List)
        .since("7.0.0")
        .summary("Pops elements from the first non-empty list, waiting while all are empty.")
        .complexity("O(N+M), N being the number of keys and M the number of elements popped.")
        .args(&[
            double("timeout"),
            integer("numkeys"),
            key("key", 0).multiple(),
            oneof("where", &[pure_token("left", "LEFT"), pure_token("right", "RIGHT")]),
            integer("count").token("COUNT").optional(),
        ]),
    Command::new("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, blocking::cmd_bzpopmin)
        .acl(acl::WRITE | acl::SORTEDSET | acl::FAST | acl::BLOCKING)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(-2, 1, 0))])
        .group(Group::SortedSet)
        .since("5.0.0")
        .summary("Pops the lowest-scored member of the first non-empty sorted set, waiting while all are empty.")
        .complexity("O(log(N)), N being the size of the sorted set.")
        .history(&[("6.0.0", "The timeout may have a fractional part.")])
        .args(&[key("key", 0).multiple(), double("timeout")]),
    Command::new("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, blocking::cmd_bzpopmax)
        .acl(acl::WRITE | acl::SORTEDSET | acl::FAST | acl::BLOCKING)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(1), range(-2, 1, 0))])
        .group(Group::SortedSet)
        .since("5.0.0")
        .summary("Pops the top-scored member of the first non-empty sorted set, waiting while all are empty.")
        .complexity("O(log(N)), N being the size of the sorted set.")
        .history(&[("6.0.0", "The timeout may have a fractional part.")])
        .args(&[key("key", 0).multiple(), double("timeout")]),
    Command::new("bzmpop", -5, WRITE | BLOCKING, blocking::cmd_bzmpop)
        .acl(acl::WRITE | acl::SORTEDSET | acl::SLOW | acl::BLOCKING)
        .key_specs(&[spec(RW | ACCESS | DELETE, index(2), keynum(0, 1, 1))])
        .getkeys(GetKeys::NumKeys { store: 0, numkeys: 2, first: 3 })
        .group(Group::SortedSet)
        .since("7.0.0")
        .summary("Pops members by score from the first non-empty sorted set, waiting while all are empty.")
        .complexity("O(K) + O(M*log(N)): K keys checked, M members popped from a set of N.")
        .args(&[
            double("timeout"),
            integer("numkeys"),
            key("key", 0).multiple(),
            oneof("where", &[pure_token("min", "MIN"), pure_token("max", "MAX")]),
            integer("count").token("COUNT").optional(),
        ]),
];

/// CLIENT's subcommands.
#[rustfmt::skip]
pub static CLIENT_SUBCOMMANDS: &[Command] = &[
    Command::new("client|id", 2, NOSCRIPT | LOADING | STALE, server::cmd_client_id)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("5.0.0")
        .summary("Replies with this connection's numeric id.")
        .complexity("O(1)"),
    Command::new("client|setname", 3, NOSCRIPT | LOADING | STALE, server::cmd_client_setname)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("2.6.9")
        .summary("Gives this connection a name.")
        .complexity("O(1)")
        .args(&[string("connection-name")]),
    Command::new("client|getname", 2, NOSCRIPT | LOADING | STALE, server::cmd_client_getname)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("2.6.9")
        .summary("Replies with the name this connection was given.")
        .complexity("O(1)"),
    Command::new("client|list", -2, ADMIN | NOSCRIPT | LOADING | STALE, server::cmd_client_list)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION)
        .tips(&["nondeterministic_output"])
        .group(Group::Connection)
        .since("2.4.0")
        .summary("Describes every connection, or those of a type or with given ids, one line each.")
        .complexity("O(N), N being the number of connections.")
        .history(&[
            ("2.8.12", "Each line has an id field."),
            ("5.0.0", "TYPE filter."),
            ("6.0.0", "Each line has a user field."),
            ("6.2.0", "argv-mem, tot-mem, laddr and redir fields; ID filter."),
            ("7.0.0", "resp, multi-mem, rbs and rbp fields."),
            ("7.0.3", "ssub field."),
        ])
        .args(&[
            oneof("normal_master_replica_pubsub", &[
                pure_token("normal", "NORMAL"),
                pure_token("master", "MASTER"),
                pure_token("replica", "REPLICA"),
                pure_token("pubsub", "PUBSUB"),
            ])
            .token("TYPE")
            .since("5.0.0")
            .optional(),
            block("id", &[integer("client-id").multiple()]).token("ID").since("6.2.0").optional(),
        ]),
    Command::new("client|info", 2, NOSCRIPT | LOADING | STALE, server::cmd_client_info)
        .acl(acl::SLOW | acl::CONNECTION)
        .tips(&["nondeterministic_output"])
        .group(Group::Connection)
        .since("6.2.0")
        .summary("Describes this connection in one CLIENT LIST style line.")
        .complexity("O(1)"),
    Command::new("client|kill", -3, ADMIN | NOSCRIPT | LOADING | STALE, server::cmd_client_kill)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION)
        .group(Group::Connection)
        .since("2.4.0")
        .summary("Closes the connections that match an address or a set of filters.")
        .complexity("O(N), N being the number of connections.")
        .history(&[
            ("2.8.12", "Filters given as option-value pairs."),
            ("2.8.12", "ID filter."),
            ("3.2.0", "TYPE accepts master."),
            ("5.0.0", "TYPE replica; slave remains an alias."),
            ("6.2.0", "LADDR filter."),
        ])
        .args(&[
            oneof("filter", &[
                string("ip:port").deprecated_since("2.8.12"),
                oneof("new-format", &[
                    integer("client-id").token("ID").since("2.8.12").optional(),
                    oneof("normal_master_slave_pubsub", &[
                        pure_token("normal", "NORMAL"),
                        pure_token("master", "MASTER").since("3.2.0"),
                        pure_token("slave", "SLAVE"),
                        pure_token("replica", "REPLICA").since("5.0.0"),
                        pure_token("pubsub", "PUBSUB"),
                    ])
                    .token("TYPE")
                    .since("2.8.12")
                    .optional(),
                    string("username").token("USER").optional(),
                    string("ip:port").token("ADDR").optional(),
                    string("ip:port").token("LADDR").since("6.2.0").optional(),
                    string("yes/no").token("SKIPME").optional(),
                ])
                .multiple(),
            ]),
        ]),
    Command::new("client|unblock", -3, ADMIN | NOSCRIPT | LOADING | STALE, server::cmd_client_unblock)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION)
        .group(Group::Connection)
        .since("5.0.0")
        .summary("Wakes a connection waiting in a blocking command, as a timeout or an error.")
        .complexity("O(log N), N being the number of connections.")
        .args(&[
            integer("client-id"),
            oneof("timeout_error", &[
                pure_token("timeout", "TIMEOUT"),
                pure_token("error", "ERROR"),
            ])
            .optional(),
        ]),
    Command::new("client|no-evict", 3, ADMIN | NOSCRIPT | LOADING | STALE, server::cmd_client_no_evict)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION)
        .group(Group::Connection)
        .since("7.0.0")
        .summary("Exempts this connection from client eviction (maxmemory-clients), or makes it subject to it again.")
        .complexity("O(1)")
        .args(&[
            oneof("enabled", &[
                pure_token("on", "ON"),
                pure_token("off", "OFF"),
            ]),
        ]),
    Command::new("client|tracking", -3, NOSCRIPT | LOADING | STALE, tracking::cmd_client_tracking)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("6.0.0")
        .summary("Turns client-side caching support on or off for this connection, with its mode and where invalidations go.")
        .complexity("O(1); with PREFIX, O(N) in the prefixes given and already followed.")
        .args(&[
            oneof("status", &[
                pure_token("on", "ON"),
                pure_token("off", "OFF"),
            ]),
            integer("client-id").token("REDIRECT").optional(),
            string("prefix").token("PREFIX").optional().multiple().multiple_token(),
            pure_token("bcast", "BCAST").optional(),
            pure_token("optin", "OPTIN").optional(),
            pure_token("optout", "OPTOUT").optional(),
            pure_token("noloop", "NOLOOP").optional(),
        ]),
    Command::new("client|caching", 3, NOSCRIPT | LOADING | STALE, tracking::cmd_client_caching)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("6.0.0")
        .summary("Says whether the keys of the next command (or transaction) are to be tracked, in OPTIN or OPTOUT mode.")
        .complexity("O(1)")
        .args(&[
            oneof("mode", &[
                pure_token("yes", "YES"),
                pure_token("no", "NO"),
            ]),
        ]),
    Command::new("client|getredir", 2, NOSCRIPT | LOADING | STALE, tracking::cmd_client_getredir)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("6.0.0")
        .summary("Replies with the id of the client this connection's invalidations go to: 0 for none, -1 when tracking is off.")
        .complexity("O(1)"),
    Command::new("client|trackinginfo", 2, NOSCRIPT | LOADING | STALE, tracking::cmd_client_trackinginfo)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("6.2.0")
        .summary("Describes this connection's client-side caching: its flags, redirect and prefixes.")
        .complexity("O(N), N being the prefixes followed."),
    Command::new("client|pause", -3, ADMIN | NOSCRIPT | LOADING | STALE, pause::cmd_client_pause)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION)
        .group(Group::Connection)
        .since("2.9.50")
        .summary("Holds the commands of normal clients, every one or only writes, for a number of milliseconds.")
        .complexity("O(1)")
        .history(&[("6.2.0", "The WRITE mode and the mode argument.")])
        .args(&[
            integer("timeout"),
            oneof("mode", &[
                pure_token("write", "WRITE"),
                pure_token("all", "ALL"),
            ])
            .since("6.2.0")
            .optional(),
        ]),
    Command::new("client|unpause", 2, ADMIN | NOSCRIPT | LOADING | STALE, pause::cmd_client_unpause)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION)
        .group(Group::Connection)
        .since("6.2.0")
        .summary("Ends a CLIENT PAUSE at once; the held commands run in the order they came.")
        .complexity("O(N), N being the number of paused clients."),
    Command::new("client|reply", 3, NOSCRIPT | LOADING | STALE, pause::cmd_client_reply)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("3.2.0")
        .summary("Turns this connection's replies off or on, or drops the next one.")
        .complexity("O(1)")
        .args(&[
            oneof("on_off_skip", &[
                pure_token("on", "ON"),
                pure_token("off", "OFF"),
                pure_token("skip", "SKIP"),
            ]),
        ]),
    Command::new("client|help", 2, LOADING | STALE, server::cmd_client_help)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Connection)
        .since("5.0.0")
        .summary("Lists the CLIENT subcommands with a line on each.")
        .complexity("O(1)"),
];

/// PUBSUB's subcommands.
#[rustfmt::skip]
pub static PUBSUB_SUBCOMMANDS: &[Command] = &[
    Command::new("pubsub|channels", -2, PUBSUB | LOADING | STALE, pubsub::cmd_pubsub_channels)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("2.8.0")
        .summary("Lists the channels with at least one subscriber, optionally those matching a pattern.")
        .complexity("O(N), N being the number of channels with subscribers.")
        .args(&[pattern("pattern").optional()]),
    Command::new("pubsub|numsub", -2, PUBSUB | LOADING | STALE, pubsub::cmd_pubsub_numsub)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("2.8.0")
        .summary("Replies each channel named with its number of subscribers (pattern subscriptions not counted).")
        .complexity("O(N), N being the number of channels named.")
        .args(&[string("channel").optional().multiple()]),
    Command::new("pubsub|numpat", 2, PUBSUB | LOADING | STALE, pubsub::cmd_pubsub_numpat)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("2.8.0")
        .summary("Replies the number of distinct patterns with at least one subscriber.")
        .complexity("O(1)"),
    Command::new("pubsub|shardchannels", -2, PUBSUB | LOADING | STALE, pubsub::cmd_pubsub_shardchannels)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("7.0.0")
        .summary("Lists the shard channels with at least one subscriber, optionally those matching a pattern.")
        .complexity("O(N), N being the number of shard channels with subscribers.")
        .args(&[pattern("pattern").optional()]),
    Command::new("pubsub|shardnumsub", -2, PUBSUB | LOADING | STALE, pubsub::cmd_pubsub_shardnumsub)
        .acl(acl::PUBSUB | acl::SLOW)
        .group(Group::Pubsub)
        .since("7.0.0")
        .summary("Replies each shard channel named with its number of subscribers.")
        .complexity("O(N), N being the number of shard channels named.")
        .args(&[string("shardchannel").optional().multiple()]),
    Command::new("pubsub|help", 2, LOADING | STALE, pubsub::cmd_pubsub_help)
        .acl(acl::SLOW)
        .group(Group::Pubsub)
        .since("6.2.0")
        .summary("Lists the PUBSUB subcommands with a line on each.")
        .complexity("O(1)"),
];

/// SCRIPT's subcommands.
#[rustfmt::skip]
pub static SCRIPT_SUBCOMMANDS: &[Command] = &[
    Command::new("script|exists", -3, NOSCRIPT, scripting::cmd_script_exists)
        .acl(acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"])
        .group(Group::Scripting)
        .since("2.6.0")
        .summary("Replies, for each SHA1 given, whether the script cache holds that script.")
        .complexity("O(N), N being the number of SHA1s given.")
        .args(&[string("sha1").multiple()]),
    Command::new("script|flush", -2, NOSCRIPT | MAY_REPLICATE, scripting::cmd_script_flush)
        .acl(acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .group(Group::Scripting)
        .since("2.6.0")
        .summary("Empties the script cache.")
        .complexity("O(N), N being the number of cached scripts.")
        .history(&[("6.2.0", "ASYNC and SYNC modes.")])
        .args(&[
            oneof("async", &[
                pure_token("async", "ASYNC"),
                pure_token("sync", "SYNC"),
            ])
            .since("6.2.0")
            .optional(),
        ]),
    Command::new("script|help", 2, LOADING | STALE, scripting::cmd_script_help)
        .acl(acl::SLOW | acl::SCRIPTING)
        .group(Group::Scripting)
        .since("5.0.0")
        .summary("Lists the SCRIPT subcommands with a line on each.")
        .complexity("O(1)"),
    Command::new("script|kill", 2, NOSCRIPT | ALLOW_BUSY, scripting::cmd_script_kill)
        .acl(acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
        .group(Group::Scripting)
        .since("2.6.0")
        .summary("Stops the script running past busy-reply-threshold, if it has not written.")
        .complexity("O(1)"),
    Command::new("script|load", 3, NOSCRIPT | STALE | MAY_REPLICATE, scripting::cmd_script_load)
        .acl(acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .group(Group::Scripting)
        .since("2.6.0")
        .summary("Compiles a script into the script cache without running it, and replies its SHA1.")
        .complexity("O(N), N being the script's length in bytes.")
        .args(&[string("script")]),
];

/// FUNCTION's subcommands (KILL is not among them yet: see `cmd::functions`).
#[rustfmt::skip]
pub static FUNCTION_SUBCOMMANDS: &[Command] = &[
    Command::new("function|delete", 3, WRITE | NOSCRIPT, functions::cmd_function_delete)
        .acl(acl::WRITE | acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Removes a library and its functions.")
        .complexity("O(1)")
        .args(&[string("library-name")]),
    Command::new("function|dump", 2, NOSCRIPT, functions::cmd_function_dump)
        .acl(acl::SLOW | acl::SCRIPTING)
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Serializes every library into a payload FUNCTION RESTORE accepts.")
        .complexity("O(N), N being the number of libraries."),
    Command::new("function|flush", -2, WRITE | NOSCRIPT, functions::cmd_function_flush)
        .acl(acl::WRITE | acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Removes every library.")
        .complexity("O(N), N being the number of functions.")
        .args(&[
            oneof("async", &[
                pure_token("async", "ASYNC"),
                pure_token("sync", "SYNC"),
            ])
            .optional(),
        ]),
    Command::new("function|help", 2, LOADING | STALE, functions::cmd_function_help)
        .acl(acl::SLOW | acl::SCRIPTING)
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Lists the FUNCTION subcommands with a line on each.")
        .complexity("O(1)"),
    Command::new("function|kill", 2, NOSCRIPT | ALLOW_BUSY, functions::cmd_function_kill)
        .acl(acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Stops the function running past busy-reply-threshold, if it has not written.")
        .complexity("O(1)"),
    Command::new("function|list", -2, NOSCRIPT, functions::cmd_function_list)
        .acl(acl::SLOW | acl::SCRIPTING)
        .tips(&["nondeterministic_output_order"])
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Describes the libraries, their functions and optionally their code.")
        .complexity("O(N), N being the number of functions.")
        .args(&[
            string("library-name-pattern").token("LIBRARYNAME").optional(),
            pure_token("withcode", "WITHCODE").optional(),
        ]),
    Command::new("function|load", -3, WRITE | DENYOOM | NOSCRIPT, functions::cmd_function_load)
        .acl(acl::WRITE | acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Creates a library from its code and replies its name.")
        .complexity("O(1), plus what the library's code does when it runs.")
        .args(&[
            pure_token("replace", "REPLACE").optional(),
            string("function-code"),
        ]),
    Command::new("function|restore", -3, WRITE | DENYOOM | NOSCRIPT, functions::cmd_function_restore)
        .acl(acl::WRITE | acl::SLOW | acl::SCRIPTING)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Creates the libraries of a FUNCTION DUMP payload.")
        .complexity("O(N), N being the number of functions in the payload.")
        .args(&[
            string("serialized-value"),
            oneof("policy", &[
                pure_token("flush", "FLUSH"),
                pure_token("append", "APPEND"),
                pure_token("replace", "REPLACE"),
            ])
            .optional(),
        ]),
    Command::new("function|stats", 2, NOSCRIPT | ALLOW_BUSY, functions::cmd_function_stats)
        .acl(acl::SLOW | acl::SCRIPTING)
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
        .group(Group::Scripting)
        .since("7.0.0")
        .summary("Shows the function running now, if any, and the count of libraries and functions.")
        .complexity("O(1)"),
];

/// SLOWLOG's subcommands.
#[rustfmt::skip]
pub static SLOWLOG_SUBCOMMANDS: &[Command] = &[
    Command::new("slowlog|reset", 2, ADMIN | LOADING | STALE, slowlog::cmd_slowlog_reset)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .group(Group::Server)
        .since("2.2.12")
        .summary("Empties the slow log.")
        .complexity("O(N), N being the number of entries dropped."),
    Command::new("slowlog|help", 2, LOADING | STALE, slowlog::cmd_slowlog_help)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("6.2.0")
        .summary("Lists the SLOWLOG subcommands with a line on each.")
        .complexity("O(1)"),
    Command::new("slowlog|get", -2, ADMIN | LOADING | STALE, slowlog::cmd_slowlog_get)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["request_policy:all_nodes", "nondeterministic_output"])
        .group(Group::Server)
        .since("2.2.12")
        .summary("Replies with the newest entries of the slow log, newest first.")
        .complexity("O(N), N being the number of entries in the reply.")
        .history(&[("4.0.0", "Entries hold the client's address and name.")])
        .args(&[integer("count").optional()]),
    Command::new("slowlog|len", 2, ADMIN | LOADING | STALE, slowlog::cmd_slowlog_len)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"])
        .group(Group::Server)
        .since("2.2.12")
        .summary("Replies with the number of entries in the slow log.")
        .complexity("O(1)"),
];

/// ACL's subcommands (`cmd::acl`).
#[rustfmt::skip]
pub static ACL_SUBCOMMANDS: &[Command] = &[
    Command::new("acl|load", 2, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_load)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Replaces every user with the ACL file's.")
        .complexity("O(N), N being the number of users."),
    Command::new("acl|whoami", 2, NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_whoami)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Replies with the name of the connection's user.")
        .complexity("O(1)"),
    Command::new("acl|list", 2, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_list)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Replies with every user's rules, one config-file line each.")
        .complexity("O(N), N being the number of users."),
    Command::new("acl|users", 2, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_users)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Replies with the users' names.")
        .complexity("O(N), N being the number of users."),
    Command::new("acl|genpass", -2, NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_genpass)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Replies with a random password, 256 bits unless told otherwise, in hex.")
        .complexity("O(1)")
        .args(&[integer("bits").optional()]),
    Command::new("acl|help", 2, LOADING | STALE, acl_cmd::cmd_acl_help)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Lists the ACL subcommands with a line on each.")
        .complexity("O(1)"),
    Command::new("acl|save", 2, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_save)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Writes every user's rules to the ACL file.")
        .complexity("O(N), N being the number of users."),
    Command::new("acl|getuser", 3, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_getuser)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Replies with a user's flags, password hashes and selectors.")
        .complexity("O(N), N being the number of the user's passwords, commands and patterns.")
        .history(&[
            ("6.2.0", "Channel patterns."),
            ("7.0.0", "Selectors; key and channel patterns shown as rules."),
        ])
        .args(&[string("username")]),
    Command::new("acl|deluser", -3, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_deluser)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Deletes users and closes their connections.")
        .complexity("O(1) amortized for a typical user.")
        .args(&[string("username").multiple()]),
    Command::new("acl|dryrun", -4, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_dryrun)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("7.0.0")
        .summary("Tells whether a user may run a command line, without running it.")
        .complexity("O(1).")
        .args(&[string("username"), string("command"), string("arg").optional().multiple()]),
    Command::new("acl|cat", -2, NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_cat)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Lists the ACL categories, or the commands of one.")
        .complexity("O(1): categories and commands are a fixed set.")
        .args(&[string("categoryname").optional()]),
    Command::new("acl|setuser", -3, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_setuser)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Creates a user or changes its rules: all of them apply, or none.")
        .complexity("O(N), N being the number of rules.")
        .history(&[
            ("6.2.0", "Channel patterns."),
            ("7.0.0", "Selectors and key permissions."),
        ])
        .args(&[string("username"), string("rule").optional().multiple()]),
    Command::new("acl|log", -2, ADMIN | NOSCRIPT | LOADING | STALE, acl_cmd::cmd_acl_log)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("6.0.0")
        .summary("Replies with the newest denied commands and authentications, or empties the log.")
        .complexity("O(N), N being the number of entries shown.")
        .args(&[oneof("operation", &[integer("count"), pure_token("reset", "RESET")]).optional()]),
];

/// LATENCY's subcommands.
#[rustfmt::skip]
pub static LATENCY_SUBCOMMANDS: &[Command] = &[
    Command::new("latency|latest", 2, ADMIN | NOSCRIPT | LOADING | STALE, latency::cmd_latency_latest)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
        .group(Group::Server)
        .since("2.8.13")
        .summary("Replies with each event's newest sample and worst latency ever.")
        .complexity("O(1)"),
    Command::new("latency|history", 3, ADMIN | NOSCRIPT | LOADING | STALE, latency::cmd_latency_history)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
        .group(Group::Server)
        .since("2.8.13")
        .summary("Replies with an event's samples, oldest first, as time and latency pairs.")
        .complexity("O(1)")
        .args(&[string("event")]),
    Command::new("latency|reset", -2, ADMIN | NOSCRIPT | LOADING | STALE, latency::cmd_latency_reset)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .group(Group::Server)
        .since("2.8.13")
        .summary("Drops the samples of the named events, or of every event.")
        .complexity("O(1)")
        .args(&[string("event").optional().multiple()]),
    Command::new("latency|doctor", 2, ADMIN | NOSCRIPT | LOADING | STALE, latency::cmd_latency_doctor)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
        .group(Group::Server)
        .since("2.8.13")
        .summary("Replies with a text report on the recorded latency events and what may help.")
        .complexity("O(1)"),
    Command::new("latency|graph", 3, ADMIN | NOSCRIPT | LOADING | STALE, latency::cmd_latency_graph)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
        .group(Group::Server)
        .since("2.8.13")
        .summary("Replies with a text chart of an event's samples.")
        .complexity("O(1)")
        .args(&[string("event")]),
    Command::new("latency|histogram", -2, ADMIN | NOSCRIPT | LOADING | STALE, latency::cmd_latency_histogram)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
        .group(Group::Server)
        .since("7.0.0")
        .summary("Replies with the latency histograms of the named commands, or of all that ran.")
        .complexity("O(N), N being the number of commands in the reply.")
        .args(&[string("command").optional().multiple()]),
    Command::new("latency|help", 2, LOADING | STALE, latency::cmd_latency_help)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("2.8.13")
        .summary("Lists the LATENCY subcommands with a line on each.")
        .complexity("O(1)"),
];

/// CLUSTER's subcommands: all answered with the cluster-disabled error (`cmd::cluster`).
#[rustfmt::skip]
pub static CLUSTER_SUBCOMMANDS: &[Command] = &[
    Command::new("cluster|addslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Gives hash slots to this node.")
        .complexity("O(N), N being the number of slots given.")
        .args(&[integer("slot").multiple()]),
    Command::new("cluster|addslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("7.0.0")
        .summary("Gives ranges of hash slots to this node.")
        .complexity("O(N), N being the number of slots in the ranges.")
        .args(&[block("start-slot_end-slot", &[integer("start-slot"), integer("end-slot")]).multiple()]),
    Command::new("cluster|bumpepoch", 2, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Moves this node's configuration epoch forward.")
        .complexity("O(1)"),
    Command::new("cluster|count-failure-reports", 3, ADMIN | STALE, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Counts the live failure reports about a node.")
        .complexity("O(N), N being the number of reports.")
        .args(&[string("node-id")]),
    Command::new("cluster|countkeysinslot", 3, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Counts this node's keys in a hash slot.")
        .complexity("O(1)")
        .args(&[integer("slot")]),
    Command::new("cluster|delslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Takes hash slots away from this node.")
        .complexity("O(N), N being the number of slots given.")
        .args(&[integer("slot").multiple()]),
    Command::new("cluster|delslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("7.0.0")
        .summary("Takes ranges of hash slots away from this node.")
        .complexity("O(N), N being the number of slots in the ranges.")
        .args(&[block("start-slot_end-slot", &[integer("start-slot"), integer("end-slot")]).multiple()]),
    Command::new("cluster|failover", -2, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Makes this replica take over from its primary by hand.")
        .complexity("O(1)")
        .args(&[
            oneof("options", &[pure_token("force", "FORCE"), pure_token("takeover", "TAKEOVER")])
                .optional(),
        ]),
    Command::new("cluster|flushslots", 2, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Forgets every slot this node was given.")
        .complexity("O(1)"),
    Command::new("cluster|forget", 3, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Drops a node from this node's table of peers.")
        .complexity("O(1)")
        .args(&[string("node-id")]),
    Command::new("cluster|getkeysinslot", 4, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Lists some of this node's keys in a hash slot.")
        .complexity("O(log(N)), N being the number of keys asked for.")
        .args(&[integer("slot"), integer("count")]),
    Command::new("cluster|help", 2, LOADING | STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .group(Group::Cluster)
        .since("5.0.0")
        .summary("Describes the CLUSTER subcommands.")
        .complexity("O(1)"),
    Command::new("cluster|info", 2, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Reports the cluster's state as this node sees it.")
        .complexity("O(1)"),
    Command::new("cluster|keyslot", 3, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Computes the hash slot a key name belongs to.")
        .complexity("O(N), N being the key's length in bytes.")
        .args(&[string("key")]),
    Command::new("cluster|links", 2, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("7.0.0")
        .summary("Lists the cluster bus connections to and from peers.")
        .complexity("O(N), N being the number of nodes."),
    Command::new("cluster|meet", -4, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Introduces this node to another one at an address.")
        .complexity("O(1)")
        .history(&[("4.0.0", "An optional cluster bus port.")])
        .args(&[
            string("ip"),
            integer("port"),
            integer("cluster_bus_port").since("4.0.0").optional(),
        ]),
    Command::new("cluster|myid", 2, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Replies with this node's id.")
        .complexity("O(1)"),
    Command::new("cluster|nodes", 2, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Describes every node this node knows of, one line each.")
        .complexity("O(N), N being the number of nodes."),
    Command::new("cluster|replicas", 3, ADMIN | STALE, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("5.0.0")
        .summary("Lists the replicas of a primary node.")
        .complexity("O(1)")
        .args(&[string("node-id")]),
    Command::new("cluster|replicate", 3, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Makes this node a replica of a primary node.")
        .complexity("O(1)")
        .args(&[string("node-id")]),
    Command::new("cluster|reset", -2, ADMIN | NOSCRIPT | STALE, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Returns this node to a fresh cluster state (a primary's data is flushed).")
        .complexity("O(N), N being the number of known nodes; may flush every key.")
        .args(&[
            oneof("hard_soft", &[pure_token("hard", "HARD"), pure_token("soft", "SOFT")])
                .optional(),
        ]),
    Command::new("cluster|saveconfig", 2, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Writes this node's cluster configuration file.")
        .complexity("O(1)"),
    Command::new("cluster|set-config-epoch", 3, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Sets a new node's configuration epoch.")
        .complexity("O(1)")
        .args(&[integer("config-epoch")]),
    Command::new("cluster|setslot", -4, ADMIN | STALE | NO_ASYNC_LOADING, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Sets the migration state or the owner of a hash slot.")
        .complexity("O(1)")
        .args(&[
            integer("slot"),
            oneof("subcommand", &[
                string("node-id").token("IMPORTING"),
                string("node-id").token("MIGRATING"),
                string("node-id").token("NODE"),
                pure_token("stable", "STABLE"),
            ]),
        ]),
    Command::new("cluster|shards", 2, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("7.0.0")
        .summary("Describes the cluster's shards: their slots and nodes.")
        .complexity("O(N), N being the number of nodes."),
    Command::new("cluster|slaves", 3, ADMIN | STALE, cluster::cmd_cluster_disabled)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("CLUSTER REPLICAS' older name: lists a primary's replicas.")
        .complexity("O(1)")
        .deprecated("5.0.0", "`CLUSTER REPLICAS`")
        .args(&[string("node-id")]),
    Command::new("cluster|slots", 2, STALE, cluster::cmd_cluster_disabled)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output"])
        .group(Group::Cluster)
        .since("3.0.0")
        .summary("Maps slot ranges to the nodes that serve them.")
        .complexity("O(N), N being the number of nodes.")
        .deprecated("7.0.0", "`CLUSTER SHARDS`")
        .history(&[("4.0.0", "Node ids in the reply."), ("7.0.0", "More networking fields per node.")]),
];

/// MODULE's subcommands.
#[rustfmt::skip]
pub static MODULE_SUBCOMMANDS: &[Command] = &[
    Command::new("module|list", 2, ADMIN | NOSCRIPT, lolwut::cmd_module_list)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["nondeterministic_output_order"])
        .group(Group::Server)
        .since("4.0.0")
        .summary("Lists the loaded modules: always none.")
        .complexity("O(1)"),
    Command::new("module|load", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, lolwut::cmd_module_load)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("4.0.0")
        .summary("Fails: ringkv does not load modules.")
        .complexity("O(1)")
        .args(&[string("path"), string("arg").optional().multiple()]),
    Command::new("module|loadex", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, lolwut::cmd_module_load)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("7.0.0")
        .summary("Fails: ringkv does not load modules.")
        .complexity("O(1)")
        .args(&[
            string("path"),
            block("configs", &[string("name"), string("value")]).token("CONFIG").optional().multiple().multiple_token(),
            block("args", &[string("arg")]).token("ARGS").optional().multiple(),
        ]),
    Command::new("module|unload", 3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, lolwut::cmd_module_unload)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("4.0.0")
        .summary("Fails: no module is loaded.")
        .complexity("O(1)")
        .args(&[string("name")]),
    Command::new("module|help", 2, LOADING | STALE, lolwut::cmd_module_help)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("5.0.0")
        .summary("Lists the MODULE subcommands with a line on each.")
        .complexity("O(1)"),
];

/// CONFIG's subcommands.
#[rustfmt::skip]
pub static CONFIG_SUBCOMMANDS: &[Command] = &[
    Command::new("config|get", -3, ADMIN | NOSCRIPT | LOADING | STALE, server::cmd_config_get)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("2.0.0")
        .summary("Replies with the settings whose names match the patterns, and their values.")
        .complexity("O(N), N being the number of patterns.")
        .history(&[("7.0.0", "Takes several patterns.")])
        .args(&[block("parameter", &[string("parameter")]).multiple()]),
    Command::new("config|set", -4, ADMIN | NOSCRIPT | LOADING | STALE, server::cmd_config_set)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .group(Group::Server)
        .since("2.0.0")
        .summary("Changes one or more settings at once, all or none.")
        .complexity("O(N), N being the number of settings changed.")
        .history(&[("7.0.0", "Takes several settings.")])
        .args(&[block("parameter_value", &[string("parameter"), string("value")]).multiple()]),
    Command::new("config|resetstat", 2, ADMIN | NOSCRIPT | LOADING | STALE, server::cmd_config_resetstat)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("2.0.0")
        .summary("Zeroes the counters that INFO reports.")
        .complexity("O(1)"),
    Command::new("config|rewrite", 2, ADMIN | NOSCRIPT | LOADING | STALE, server::cmd_config_rewrite)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS)
        .group(Group::Server)
        .since("2.8.0")
        .summary("Writes the running settings back into the config file the server started with.")
        .complexity("O(1)"),
    Command::new("config|help", 2, LOADING | STALE, server::cmd_config_help)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("5.0.0")
        .summary("Lists the CONFIG subcommands with a line on each.")
        .complexity("O(1)"),
];

/// COMMAND's subcommands.
#[rustfmt::skip]
pub static COMMAND_SUBCOMMANDS: &[Command] = &[
    Command::new("command|count", 2, LOADING | STALE, command::cmd_command_count)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Server)
        .since("2.8.13")
        .summary("Replies with the number of top-level commands.")
        .complexity("O(1)"),
    Command::new("command|info", -2, LOADING | STALE, command::cmd_command_info)
        .acl(acl::SLOW | acl::CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .group(Group::Server)
        .since("2.8.13")
        .summary("Describes the named commands, or all commands when none is named.")
        .complexity("O(N), N being the number of commands asked about.")
        .history(&[("7.0.0", "Without names it describes every command.")])
        .args(&[string("command-name").optional().multiple()]),
    Command::new("command|docs", -2, LOADING | STALE, command::cmd_command_docs)
        .acl(acl::SLOW | acl::CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .group(Group::Server)
        .since("7.0.0")
        .summary("Replies with the documentation of the named commands, or of all of them.")
        .complexity("O(N), N being the number of commands asked about.")
        .args(&[string("command-name").optional().multiple()]),
    Command::new("command|list", -2, LOADING | STALE, command::cmd_command_list)
        .acl(acl::SLOW | acl::CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .group(Group::Server)
        .since("7.0.0")
        .summary("Replies with command names, filtered by module, ACL category or pattern.")
        .complexity("O(N), N being the number of commands.")
        .args(&[
            oneof("filterby", &[
                string("module-name").token("MODULE"),
                string("category").token("ACLCAT"),
                pattern("pattern").token("PATTERN"),
            ])
            .token("FILTERBY")
            .optional(),
        ]),
    Command::new("command|help", 2, LOADING | STALE, command::cmd_command_help)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Server)
        .since("5.0.0")
        .summary("Lists the COMMAND subcommands with a line on each.")
        .complexity("O(1)"),
    Command::new("command|getkeys", -4, LOADING | STALE, command::cmd_command_getkeys)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Server)
        .since("2.8.13")
        .summary("Names the key arguments of a full command line.")
        .complexity("O(N), N being the length of the command line."),
    Command::new("command|getkeysandflags", -4, LOADING | STALE, command::cmd_command_getkeysandflags)
        .acl(acl::SLOW | acl::CONNECTION)
        .group(Group::Server)
        .since("7.0.0")
        .summary("Names the key arguments of a full command line with how each key is used.")
        .complexity("O(N), N being the length of the command line."),
];

/// OBJECT's subcommands.
#[rustfmt::skip]
pub static XGROUP_SUBCOMMANDS: &[Command] = &[
    Command::new("xgroup|create", -5, WRITE | DENYOOM, streams::cmd_xgroup_create)
        .acl(acl::WRITE | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RW | INSERT, index(2), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Creates a consumer group on a stream.")
        .complexity("O(1)")
        .history(&[("7.0.0", "ENTRIESREAD option.")])
        .args(&[
            key("key", 0),
            string("groupname"),
            oneof("id", &[
                string("id"),
                pure_token("new_id", "$"),
            ]),
            pure_token("mkstream", "MKSTREAM").optional(),
            integer("entries_read").token("ENTRIESREAD").optional(),
        ]),
    Command::new("xgroup|setid", -5, WRITE, streams::cmd_xgroup_setid)
        .acl(acl::WRITE | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RW | UPDATE, index(2), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Moves a consumer group's last delivered ID.")
        .complexity("O(1)")
        .history(&[("7.0.0", "ENTRIESREAD option.")])
        .args(&[
            key("key", 0),
            string("groupname"),
            oneof("id", &[
                string("id"),
                pure_token("new_id", "$"),
            ]),
            integer("entries_read").token("ENTRIESREAD").optional(),
        ]),
    Command::new("xgroup|destroy", 4, WRITE, streams::cmd_xgroup_destroy)
        .acl(acl::WRITE | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RW | DELETE, index(2), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Deletes a consumer group with its consumers and pending entries.")
        .complexity("O(N), N the group's pending entries.")
        .args(&[
            key("key", 0),
            string("groupname"),
        ]),
    Command::new("xgroup|createconsumer", 5, WRITE | DENYOOM, streams::cmd_xgroup_createconsumer)
        .acl(acl::WRITE | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RW | INSERT, index(2), range(0, 1, 0))])
        .group(Group::Stream)
        .since("6.2.0")
        .summary("Adds a consumer to a consumer group.")
        .complexity("O(1)")
        .args(&[
            key("key", 0),
            string("groupname"),
            string("consumername"),
        ]),
    Command::new("xgroup|delconsumer", 5, WRITE, streams::cmd_xgroup_delconsumer)
        .acl(acl::WRITE | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RW | DELETE, index(2), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Removes a consumer from its group, dropping its pending entries.")
        .complexity("O(1)")
        .args(&[
            key("key", 0),
            string("groupname"),
            string("consumername"),
        ]),
    Command::new("xgroup|help", 2, LOADING | STALE, streams::cmd_xgroup_help)
        .acl(acl::STREAM | acl::SLOW)
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Lists the XGROUP subcommands.")
        .complexity("O(1)"),
];

pub static XINFO_SUBCOMMANDS: &[Command] = &[
    Command::new("xinfo|stream", -3, READONLY, streams::cmd_xinfo_stream)
        .acl(acl::READ | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(2), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Replies with a stream's counters, edges and, with FULL, its entries and groups.")
        .complexity("O(log N) plain, O(N) with FULL (bounded by COUNT).")
        .history(&[("6.0.0", "FULL option."), ("7.0.0", "Max deleted ID, entries added and recorded first ID fields, entries-read and lag of groups.")])
        .args(&[
            key("key", 0),
            block("full", &[
                integer("count").token("COUNT").optional(),
            ]).token("FULL").optional(),
        ]),
    Command::new("xinfo|groups", 3, READONLY, streams::cmd_xinfo_groups)
        .acl(acl::READ | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(2), range(0, 1, 0))])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Lists the consumer groups of a stream.")
        .complexity("O(1) per group.")
        .history(&[("7.0.0", "entries-read and lag fields.")])
        .args(&[
            key("key", 0),
        ]),
    Command::new("xinfo|consumers", 4, READONLY, streams::cmd_xinfo_consumers)
        .acl(acl::READ | acl::STREAM | acl::SLOW)
        .key_specs(&[spec(RO | ACCESS, index(2), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Lists the consumers of a group.")
        .complexity("O(1) per consumer.")
        .args(&[
            key("key", 0),
            string("groupname"),
        ]),
    Command::new("xinfo|help", 2, LOADING | STALE, streams::cmd_xinfo_help)
        .acl(acl::STREAM | acl::SLOW)
        .group(Group::Stream)
        .since("5.0.0")
        .summary("Lists the XINFO subcommands.")
        .complexity("O(1)"),
];

pub static OBJECT_SUBCOMMANDS: &[Command] = &[
    Command::new("object|encoding", 3, READONLY, keys::cmd_object_encoding)
        .acl(acl::KEYSPACE | acl::READ | acl::SLOW)
        .key_specs(&[spec(RO, index(2), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Generic)
        .since("2.2.3")
        .summary("Names the internal representation of a key's value.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("object|freq", 3, READONLY, keys::cmd_object_freq)
        .acl(acl::KEYSPACE | acl::READ | acl::SLOW)
        .key_specs(&[spec(RO, index(2), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Generic)
        .since("4.0.0")
        .summary("Replies with a key's logarithmic access-frequency counter (LFU policies).")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("object|help", 2, LOADING | STALE, keys::cmd_object_help)
        .acl(acl::KEYSPACE | acl::SLOW)
        .group(Group::Generic)
        .since("6.2.0")
        .summary("Lists the OBJECT subcommands with a line on each.")
        .complexity("O(1)"),
    Command::new("object|idletime", 3, READONLY, keys::cmd_object_idletime)
        .acl(acl::KEYSPACE | acl::READ | acl::SLOW)
        .key_specs(&[spec(RO, index(2), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Generic)
        .since("2.2.3")
        .summary("Replies with the seconds since a key was last read or written.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
    Command::new("object|refcount", 3, READONLY, keys::cmd_object_refcount)
        .acl(acl::KEYSPACE | acl::READ | acl::SLOW)
        .key_specs(&[spec(RO, index(2), range(0, 1, 0))])
        .tips(&["nondeterministic_output"])
        .group(Group::Generic)
        .since("2.2.3")
        .summary("Replies with how many references the value of a key has.")
        .complexity("O(1)")
        .args(&[key("key", 0)]),
];

/// MEMORY's subcommands (cmd/memory.rs).
#[rustfmt::skip]
pub static MEMORY_SUBCOMMANDS: &[Command] = &[
    Command::new("memory|doctor", 2, 0, memory::cmd_memory_doctor)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
        .group(Group::Server)
        .since("4.0.0")
        .summary("Reports memory problems found from the server's figures, with advice.")
        .complexity("O(1)"),
    Command::new("memory|help", 2, LOADING | STALE, memory::cmd_memory_help)
        .acl(acl::SLOW)
        .group(Group::Server)
        .since("4.0.0")
        .summary("Lists the MEMORY subcommands with a line on each.")
        .complexity("O(1)"),
    Command::new("memory|malloc-stats", 2, 0, memory::cmd_memory_malloc_stats)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
        .group(Group::Server)
        .since("4.0.0")
        .summary("Describes the allocator's heap.")
        .complexity("Depends on how much memory is allocated, could be slow"),
    Command::new("memory|purge", 2, 0, memory::cmd_memory_purge)
        .acl(acl::SLOW)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .group(Group::Server)
        .since("4.0.0")
        .summary("Asks the allocator to give free memory back to the system.")
        .complexity("Depends on how much memory is allocated, could be slow"),
    Command::new("memory|stats", 2, 0, memory::cmd_memory_stats)
        .acl(acl::SLOW)
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
        .group(Group::Server)
        .since("4.0.0")
        .summary("Reports where the server's memory goes.")
        .complexity("O(1)"),
    Command::new("memory|usage", -3, READONLY, memory::cmd_memory_usage)
        .acl(acl::READ | acl::SLOW)
        .key_specs(&[spec(RO, index(2), range(0, 1, 0))])
        .group(Group::Server)
        .since("4.0.0")
        .summary("Estimates the bytes a key and its value take.")
        .complexity("O(N) where N is the number of samples.")
        .args(&[key("key", 0), integer("count").token("SAMPLES").optional()]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::docs::ArgType;

    fn row(name: &str) -> &'static Command {
        all_rows()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
    }

    fn check_args(c: &Command, args: &[Arg]) {
        for a in args {
            if a.kind == ArgType::Key {
                assert!(
                    a.key_spec_index < c.key_specs.len(),
                    "{}: key argument {} names spec {} of {}",
                    c.name,
                    a.name,
                    a.key_spec_index,
                    c.key_specs.len()
                );
            }
            let nested = matches!(a.kind, ArgType::Oneof | ArgType::Block);
            assert_eq!(nested, !a.args.is_empty(), "{}: {}", c.name, a.name);
            if a.kind == ArgType::PureToken {
                assert!(
                    a.token.is_some(),
                    "{}: {} without its token",
                    c.name,
                    a.name
                );
            }
            check_args(c, a.args);
        }
    }

    /// Names, docs, argument trees and the ACL categories Redis would add implicitly from
    /// the flags: what a new row most easily gets wrong.
    #[test]
    fn every_row_is_complete_and_consistent() {
        let mut seen = std::collections::HashSet::new();
        for top in COMMANDS {
            assert!((1..=24).contains(&top.name.len()), "{}", top.name);
            for c in std::iter::once(top).chain(top.subcommands) {
                assert!(seen.insert(c.name), "{} twice", c.name);
                assert_eq!(c.name, c.name.to_ascii_lowercase());
                if !std::ptr::eq(c, top) {
                    assert!(c.name.starts_with(&format!("{}|", top.name)), "{}", c.name);
                    assert!(c.subcommands.is_empty(), "{}: nested subcommands", c.name);
                }
                assert!(c.arity != 0, "{}", c.name);
                for text in [c.since, c.summary, c.complexity] {
                    // Redis documents MONITOR, PSYNC, SYNC and LOLWUT without a complexity.
                    assert!(
                        !text.is_empty()
                            || matches!(c.name, "monitor" | "psync" | "sync" | "lolwut"),
                        "{}: missing docs",
                        c.name
                    );
                }
                for (implied_by, cats) in [
                    (WRITE, acl::WRITE),
                    (READONLY, acl::READ),
                    (ADMIN, acl::ADMIN | acl::DANGEROUS),
                    (FAST, acl::FAST),
                    (BLOCKING, acl::BLOCKING),
                ] {
                    // Redis leaves scripting commands out of @read (EVAL_RO is read-only).
                    let exempt = implied_by == READONLY && c.acl & acl::SCRIPTING != 0;
                    if c.flags & implied_by != 0 && !exempt {
                        assert_eq!(c.acl & cats, cats, "{}: categories", c.name);
                    }
                }
                assert_eq!(c.acl & acl::SLOW != 0, c.flags & FAST == 0, "{}", c.name);
                assert_eq!(
                    c.deprecated_since.is_some(),
                    c.doc_flags & doc_flags::DEPRECATED != 0
                );
                for s in c.key_specs {
                    // A spec of something that is not a key (a shard channel) has no access
                    // kind, as in Redis.
                    let access = s.flags & (RO | RW | OW | RM);
                    let want = u32::from(s.flags & NOT_KEY == 0);
                    assert_eq!(access.count_ones(), want, "{}: RO/RW/OW/RM", c.name);
                }
                check_args(c, c.args);
            }
        }
    }

    /// The legacy range and movablekeys follow Redis's derivation: a lone range is used as
    /// is (MSET keeps its step of 2), a numkeys spec makes the keys movable and, alone,
    /// leaves no range (LMPOP), a destination plus numkeys keeps the destination's range.
    #[test]
    fn legacy_range_is_derived_from_the_key_specs() {
        let cases = [
            ("get", (1, 1, 1), false),
            ("mset", (1, -1, 2), false),
            ("blpop", (1, -2, 1), false),
            ("rename", (1, 2, 1), false),
            ("lmove", (1, 2, 1), false),
            ("zunionstore", (1, 1, 1), true),
            ("lmpop", (0, 0, 0), true),
            ("zunion", (0, 0, 0), true),
            ("object|encoding", (2, 2, 1), false),
            ("ping", (0, 0, 0), false),
        ];
        for (name, range, movable) in cases {
            let c = row(name);
            assert_eq!((c.first_key, c.last_key, c.step), range, "{name}");
            assert_eq!(c.movablekeys, movable, "{name}");
        }
        // Specs with a gap or a step other than 1 are left out of the merged range.
        const GAP: [KeySpec; 2] = [
            spec(RO, index(1), range(0, 1, 0)),
            spec(RW, index(3), range(0, 1, 0)),
        ];
        assert_eq!(legacy_range(&GAP), (1, 1, 1, true));
        const TWO: [KeySpec; 2] = [
            spec(RO, index(1), range(0, 1, 0)),
            spec(RW, index(2), range(-1, 1, 0)),
        ];
        assert_eq!(legacy_range(&TWO), (1, -1, 1, false));
        const KW: [KeySpec; 1] = [spec(OW, keyword("STORE", 1), range(0, 1, 0))];
        assert_eq!(legacy_range(&KW), (0, 0, 0, true));
    }

    fn keys(name: &str, line: &[&str]) -> Vec<(usize, u32)> {
        let line: Vec<&[u8]> = line.iter().map(|a| a.as_bytes()).collect();
        row(name)
            .find_keys(&line)
            .into_iter()
            .map(|k| (k.pos, k.flags))
            .collect()
    }

    #[test]
    fn keys_are_found_from_the_specs_and_the_fallbacks() {
        assert_eq!(keys("get", &["get", "k"]), [(1, RO | ACCESS)]);
        assert_eq!(
            keys("mset", &["mset", "a", "1", "b", "2"]),
            [(1, OW | UPDATE), (3, OW | UPDATE)]
        );
        // SET's flags depend on GET (variable_flags): the fallback gives them.
        assert_eq!(keys("set", &["set", "k", "v"]), [(1, OW | UPDATE)]);
        assert_eq!(
            keys("set", &["set", "k", "v", "Get"]),
            [(1, RW | ACCESS | UPDATE)]
        );
        // The value itself is not an option.
        assert_eq!(keys("set", &["set", "k", "get"]), [(1, OW | UPDATE)]);
        let ro = RO | ACCESS;
        assert_eq!(
            keys("zunionstore", &["zunionstore", "d", "2", "a", "b"]),
            [(1, OW | UPDATE), (3, ro), (4, ro)]
        );
        // A numkeys string2ll rejects: genericGetKeys reads it with atoi, destination last.
        assert_eq!(
            keys("zunionstore", &["zunionstore", "d", " 2", "a", "b"]),
            [(3, 0), (4, 0), (1, 0)]
        );
        assert!(keys("zunionstore", &["zunionstore", "d", "3", "a", "b"]).is_empty());
        assert!(keys("lmpop", &["lmpop", "0", "a", "LEFT"]).is_empty());
        assert_eq!(
            keys("blmpop", &["blmpop", "0", "1", "a", "LEFT"]),
            [(3, RW | ACCESS | DELETE)]
        );
    }

    #[test]
    fn keyword_specs_search_in_both_directions() {
        fn found(begin: BeginSearch, line: &[&str]) -> Vec<usize> {
            let specs: &'static [KeySpec] = Box::leak(Box::new([spec(RO, begin, range(0, 1, 0))]));
            let c = Command::new("x", -1, 0, crate::cmd::server::cmd_ping).key_specs(specs);
            let line: Vec<&[u8]> = line.iter().map(|a| a.as_bytes()).collect();
            c.find_keys(&line).into_iter().map(|k| k.pos).collect()
        }
        let line = ["x", "a", "STORE", "k1", "store", "k2"];
        assert_eq!(found(keyword("STORE", 1), &line), [3]);
        assert_eq!(found(keyword("STORE", -1), &line), [5]);
        assert!(found(keyword("BY", 1), &line).is_empty());
    }

    #[test]
    fn atoi_reads_like_glibc() {
        for (s, n) in [
            ("12", 12),
            ("  -3x", -3),
            ("+7", 7),
            ("x", 0),
            ("", 0),
            ("4294967297", 1),
            ("99999999999999999999", -1),
            ("-99999999999999999999", 0),
        ] {
            assert_eq!(c_atoi(s.as_bytes()), n, "{s:?}");
        }
    }
}
