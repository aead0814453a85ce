//! The command table and dispatch.
//!
//! Every command is one row of `COMMANDS` (name, arity, flags, key positions, docs, handler);
//! commands with subcommands (CLIENT, CONFIG, OBJECT, COMMAND) carry their own rows. Dispatch
//! looks a command up case-insensitively, checks arity once, authentication and the memory
//! limit, then calls the handler. Handlers parse their arguments, call keyspace operations
//! (`op_*` in each family file, which know nothing of RESP) and write one reply.
//! COMMAND, COMMAND INFO/DOCS/COUNT/LIST are generated from this table.

pub mod args;
pub mod blocking;
pub mod debug;
pub mod docs;
pub mod error;
pub mod expire;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod server;
pub mod sets;
pub mod strings;
pub mod zsets;

use crate::keyspace::Db;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::server::Server;

pub type Handler = fn(&mut Ctx<'_>, &Argv<'_>);

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

    /// Flag names as COMMAND reports them, in Redis's order. SENTINEL is not among them: Redis
    /// shows it only when running as a sentinel.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Commands whose keys follow a `numkeys` argument (Redis's `movablekeys`), with that
/// argument's position. COMMAND INFO reports the flag and a keynum key spec for them.
pub const MOVABLE_KEYS: &[(&str, i32)] = &[
    ("lmpop", 1),
    ("blmpop", 2),
    ("sintercard", 1),
    ("zunion", 1),
    ("zinter", 1),
    ("zdiff", 1),
    ("zintercard", 1),
    ("zmpop", 1),
    ("bzmpop", 2),
    ("zunionstore", 2),
    ("zinterstore", 2),
    ("zdiffstore", 2),
];

/// Position of the `numkeys` argument of a movablekeys command.
pub fn numkeys_index(name: &str) -> Option<i32> {
    MOVABLE_KEYS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, i)| *i)
}

/// One row of the command table.
pub struct Command {
    /// Lower case; subcommands are written `container|sub` as Redis's full names.
    pub name: &'static str,
    /// N: exactly N arguments including the name; -N: at least N.
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub group: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub summary: &'static str,
    pub handler: Handler,
    pub subcommands: &'static [Command],
}

impl Command {
    /// The part after `|` for subcommands.
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }
}

/// State a handler works with: the server (keyspaces, config, clients), the calling
/// connection's slot, the time of this loop turn, and the reply being written.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub slot: usize,
    pub now_ms: u64,
    pub reply: Reply<'a>,
}

impl Ctx<'_> {
    pub fn conn(&mut self) -> &mut crate::net::conn::Conn {
        &mut self.srv.conns[self.slot]
    }

    pub fn db_index(&self) -> usize {
        self.srv.conns[self.slot].db
    }

    /// The database the client has selected.
    pub fn db(&mut self) -> &mut Db {
        let i = self.srv.conns[self.slot].db;
        &mut self.srv.dbs[i]
    }

    pub fn err(&mut self, msg: &str) {
        self.reply.error(msg);
    }

    pub fn syntax_error(&mut self) {
        self.reply.error(error::ERR_SYNTAX);
    }

    pub fn wrong_type(&mut self) {
        self.reply.error(error::ERR_WRONGTYPE);
    }

    /// Counts a keyspace lookup for INFO stats.
    pub fn hit(&mut self, found: bool) {
        if found {
            self.srv.stats.keyspace_hits += 1;
        } else {
            self.srv.stats.keyspace_misses += 1;
        }
    }

    /// The key was changed: bump the dirty counter (the save schedule and the AOF read it).
    pub fn dirty(&mut self, n: u64) {
        self.srv.stats.dirty += n;
    }
}

const G_STRING: &str = "string";
const G_GENERIC: &str = "generic";
const G_CONN: &str = "connection";
const G_SERVER: &str = "server";
const G_LIST: &str = "list";
const G_HASH: &str = "hash";
const G_SET: &str = "set";
const G_ZSET: &str = "sorted-set";

use flags::*;

macro_rules! cmd {
    ($name:expr, $arity:expr, $flags:expr, $fk:expr, $lk:expr, $step:expr, $group:expr, $since:expr, $cx:expr, $summary:expr, $h:expr) => {
        Command {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $fk,
            last_key: $lk,
            step: $step,
            group: $group,
            since: $since,
            complexity: $cx,
            summary: $summary,
            handler: $h,
            subcommands: &[],
        }
    };
}

macro_rules! container {
    ($name:expr, $group:expr, $since:expr, $summary:expr, $subs:expr) => {
        Command {
            name: $name,
            arity: -2,
            flags: 0,
            first_key: 0,
            last_key: 0,
            step: 0,
            group: $group,
            since: $since,
            complexity: "Depends on subcommand.",
            summary: $summary,
            handler: server::cmd_container_without_sub,
            subcommands: $subs,
        }
    };
}

const O1: &str = "O(1)";

/// The command table.
pub static COMMANDS: &[Command] = &[
    // connection
    cmd!("ping", -1, FAST | SENTINEL, 0, 0, 0, G_CONN, "1.0.0", O1, "Returns the server's liveliness response.", server::cmd_ping),
    cmd!("echo", 2, LOADING | STALE | FAST, 0, 0, 0, G_CONN, "1.0.0", O1, "Returns the given string.", server::cmd_echo),
    cmd!("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH, 0, 0, 0, G_CONN, "1.0.0", O1, "Closes the connection.", server::cmd_quit),
    cmd!("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, 0, 0, 0, G_CONN, "6.0.0", O1, "Handshakes with the Redis server.", server::cmd_hello),
    cmd!("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, 0, 0, 0, G_CONN, "1.0.0", "O(N) where N is the number of passwords defined for the user", "Authenticates the connection.", server::cmd_auth),
    cmd!("select", 2, LOADING | STALE | FAST, 0, 0, 0, G_CONN, "1.0.0", O1, "Changes the selected database.", server::cmd_select),
    container!("client", G_CONN, "2.4.0", "A container for client connection commands.", server::CLIENT_SUBCOMMANDS),
    // server
    cmd!("swapdb", 3, WRITE | FAST, 0, 0, 0, G_SERVER, "4.0.0", "O(N) where N is the count of clients watching or blocking on keys from both databases.", "Swaps two Redis databases.", server::cmd_swapdb),
    cmd!("dbsize", 1, READONLY | FAST, 0, 0, 0, G_SERVER, "1.0.0", O1, "Returns the number of keys in the database.", server::cmd_dbsize),
    cmd!("flushdb", -1, WRITE, 0, 0, 0, G_SERVER, "1.0.0", "O(N) where N is the number of keys in the selected database", "Removes all keys from the current database.", server::cmd_flushdb),
    cmd!("bgrewriteaof", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, 0, 0, 0, G_SERVER, "1.0.0", O1, "Asynchronously rewrites the append-only file to disk.", crate::persist::aof::cmd_bgrewriteaof),
    cmd!("flushall", -1, WRITE, 0, 0, 0, G_SERVER, "1.0.0", "O(N) where N is the total number of keys in all databases", "Removes all keys from all databases.", server::cmd_flushall),
    cmd!("time", 1, LOADING | STALE | FAST, 0, 0, 0, G_SERVER, "2.6.0", O1, "Returns the server time.", server::cmd_time),
    cmd!("info", -1, LOADING | STALE | SENTINEL, 0, 0, 0, G_SERVER, "1.0.0", O1, "Returns information and statistics about the server.", server::cmd_info),
    container!("config", G_SERVER, "2.0.0", "A container for server configuration commands.", server::CONFIG_SUBCOMMANDS),
    Command {
        name: "command",
        arity: -1,
        flags: LOADING | STALE | SENTINEL,
        first_key: 0,
        last_key: 0,
        step: 0,
        group: G_SERVER,
        since: "2.8.13",
        complexity: "O(N) where N is the total number of Redis commands",
        summary: "Returns detailed information about all commands.",
        handler: server::cmd_command,
        subcommands: server::COMMAND_SUBCOMMANDS,
    },
    cmd!("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY, 0, 0, 0, G_SERVER, "1.0.0", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)", "Synchronously saves the database(s) to disk and shuts down the Redis server.", server::cmd_shutdown),
    // snapshots and debugging (debug.rs)
    cmd!("save", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, 0, 0, 0, G_SERVER, "1.0.0", "O(N) where N is the total number of keys in all databases", "Synchronously saves the database(s) to disk.", debug::cmd_save),
    cmd!("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, 0, 0, 0, G_SERVER, "1.0.0", O1, "Asynchronously saves the database(s) to disk.", debug::cmd_bgsave),
    cmd!("lastsave", 1, LOADING | STALE | FAST, 0, 0, 0, G_SERVER, "1.0.0", O1, "Returns the Unix timestamp of the last successful save to disk.", debug::cmd_lastsave),
    cmd!("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, G_SERVER, "1.0.0", "Depends on subcommand.", "A container for debugging commands.", debug::cmd_debug),
    // generic (keys)
    cmd!("del", -2, WRITE, 1, -1, 1, G_GENERIC, "1.0.0", "O(N) where N is the number of keys that will be removed.", "Deletes one or more keys.", keys::cmd_del),
    cmd!("unlink", -2, WRITE | FAST, 1, -1, 1, G_GENERIC, "4.0.0", "O(1) for each key removed regardless of its size.", "Asynchronously deletes one or more keys.", keys::cmd_unlink),
    cmd!("exists", -2, READONLY | FAST, 1, -1, 1, G_GENERIC, "1.0.0", "O(N) where N is the number of keys to check.", "Determines whether one or more keys exist.", keys::cmd_exists),
    cmd!("type", 2, READONLY | FAST, 1, 1, 1, G_GENERIC, "1.0.0", O1, "Determines the type of value stored at a key.", keys::cmd_type),
    cmd!("keys", 2, READONLY, 0, 0, 0, G_GENERIC, "1.0.0", "O(N) with N being the number of keys in the database", "Returns all key names that match a pattern.", keys::cmd_keys),
    cmd!("scan", -2, READONLY, 0, 0, 0, G_GENERIC, "2.8.0", "O(1) for every call. O(N) for a complete iteration.", "Iterates over the key names in the database.", keys::cmd_scan),
    cmd!("randomkey", 1, READONLY, 0, 0, 0, G_GENERIC, "1.0.0", O1, "Returns a random key name from the database.", keys::cmd_randomkey),
    cmd!("rename", 3, WRITE, 1, 2, 1, G_GENERIC, "1.0.0", O1, "Renames a key and overwrites the destination.", keys::cmd_rename),
    cmd!("renamenx", 3, WRITE | FAST, 1, 2, 1, G_GENERIC, "1.0.0", O1, "Renames a key only when the target key name doesn't exist.", keys::cmd_renamenx),
    cmd!("copy", -3, WRITE | DENYOOM, 1, 2, 1, G_GENERIC, "6.2.0", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", "Copies the value of a key to a new key.", keys::cmd_copy),
    cmd!("move", 3, WRITE | FAST, 1, 1, 1, G_GENERIC, "1.0.0", O1, "Moves a key to another database.", keys::cmd_move),
    cmd!("touch", -2, READONLY | FAST, 1, -1, 1, G_GENERIC, "3.2.1", "O(N) where N is the number of keys that will be touched.", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", keys::cmd_touch),
    container!("object", G_GENERIC, "2.2.3", "A container for object introspection commands.", keys::OBJECT_SUBCOMMANDS),
    // expiry
    cmd!("expire", -3, WRITE | FAST, 1, 1, 1, G_GENERIC, "1.0.0", O1, "Sets the expiration time of a key in seconds.", expire::cmd_expire),
    cmd!("pexpire", -3, WRITE | FAST, 1, 1, 1, G_GENERIC, "2.6.0", O1, "Sets the expiration time of a key in milliseconds.", expire::cmd_pexpire),
    cmd!("expireat", -3, WRITE | FAST, 1, 1, 1, G_GENERIC, "1.2.0", O1, "Sets the expiration time of a key to a Unix timestamp.", expire::cmd_expireat),
    cmd!("pexpireat", -3, WRITE | FAST, 1, 1, 1, G_GENERIC, "2.6.0", O1, "Sets the expiration time of a key to a Unix milliseconds timestamp.", expire::cmd_pexpireat),
    cmd!("ttl", 2, READONLY | FAST, 1, 1, 1, G_GENERIC, "1.0.0", O1, "Returns the expiration time in seconds of a key.", expire::cmd_ttl),
    cmd!("pttl", 2, READONLY | FAST, 1, 1, 1, G_GENERIC, "2.6.0", O1, "Returns the expiration time in milliseconds of a key.", expire::cmd_pttl),
    cmd!("expiretime", 2, READONLY | FAST, 1, 1, 1, G_GENERIC, "7.0.0", O1, "Returns the expiration time of a key as a Unix timestamp.", expire::cmd_expiretime),
    cmd!("pexpiretime", 2, READONLY | FAST, 1, 1, 1, G_GENERIC, "7.0.0", O1, "Returns the expiration time of a key as a Unix milliseconds timestamp.", expire::cmd_pexpiretime),
    cmd!("persist", 2, WRITE | FAST, 1, 1, 1, G_GENERIC, "2.2.0", O1, "Removes the expiration time of a key.", expire::cmd_persist),
    // strings
    cmd!("get", 2, READONLY | FAST, 1, 1, 1, G_STRING, "1.0.0", O1, "Returns the string value of a key.", strings::cmd_get),
    cmd!("set", -3, WRITE | DENYOOM, 1, 1, 1, G_STRING, "1.0.0", O1, "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", strings::cmd_set),
    cmd!("setnx", 3, WRITE | DENYOOM | FAST, 1, 1, 1, G_STRING, "1.0.0", O1, "Set the string value of a key only when the key doesn't exist.", strings::cmd_setnx),
    cmd!("setex", 4, WRITE | DENYOOM, 1, 1, 1, G_STRING, "2.0.0", O1, "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", strings::cmd_setex),
    cmd!("psetex", 4, WRITE | DENYOOM, 1, 1, 1, G_STRING, "2.6.0", O1, "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", strings::cmd_psetex),
    cmd!("getset", 3, WRITE | DENYOOM | FAST, 1, 1, 1, G_STRING, "1.0.0", O1, "Returns the previous string value of a key after setting it to a new value.", strings::cmd_getset),
    cmd!("getdel", 2, WRITE | FAST, 1, 1, 1, G_STRING, "6.2.0", O1, "Returns the string value of a key after deleting the key.", strings::cmd_getdel),
    cmd!("getex", -2, WRITE | FAST, 1, 1, 1, G_STRING, "6.2.0", O1, "Returns the string value of a key after setting its expiration time.", strings::cmd_getex),
    cmd!("mget", -2, READONLY | FAST, 1, -1, 1, G_STRING, "1.0.0", "O(N) where N is the number of keys to retrieve.", "Atomically returns the string values of one or more keys.", strings::cmd_mget),
    cmd!("mset", -3, WRITE | DENYOOM, 1, -1, 2, G_STRING, "1.0.1", "O(N) where N is the number of keys to set.", "Atomically creates or modifies the string values of one or more keys.", strings::cmd_mset),
    cmd!("msetnx", -3, WRITE | DENYOOM, 1, -1, 2, G_STRING, "1.0.1", "O(N) where N is the number of keys to set.", "Atomically modifies the string values of one or more keys only when all keys don't exist.", strings::cmd_msetnx),
    cmd!("append", 3, WRITE | DENYOOM | FAST, 1, 1, 1, G_STRING, "2.0.0", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", "Appends a string to the value of a key. Creates the key if it doesn't exist.", strings::cmd_append),
    cmd!("strlen", 2, READONLY | FAST, 1, 1, 1, G_STRING, "2.2.0", O1, "Returns the length of a string value.", strings::cmd_strlen),
    cmd!("getrange", 4, READONLY, 1, 1, 1, G_STRING, "2.4.0", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", "Returns a substring of the string stored at a key.", strings::cmd_getrange),
    cmd!("setrange", 4, WRITE | DENYOOM, 1, 1, 1, G_STRING, "2.2.0", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", strings::cmd_setrange),
    cmd!("incr", 2, WRITE | DENYOOM | FAST, 1, 1, 1, G_STRING, "1.0.0", O1, "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", strings::cmd_incr),
    cmd!("decr", 2, WRITE | DENYOOM | FAST, 1, 1, 1, G_STRING, "1.0.0", O1, "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", strings::cmd_decr),
    cmd!("incrby", 3, WRITE | DENYOOM | FAST, 1, 1, 1, G_STRING, "1.0.0", O1, "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", strings::cmd_incrby),
    cmd!("decrby", 3, WRITE | DENYOOM | FAST, 1, 1, 1, G_STRING, "1.0.0", O1, "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", strings::cmd_decrby),
    cmd!("incrbyfloat", 3, WRITE | DENYOOM | FAST, 1, 1, 1, G_STRING, "2.6.0", O1, "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", strings::cmd_incrbyfloat),
    cmd!("lcs", -3, READONLY, 1, 2, 1, G_STRING, "7.0.0", "O(N*M) where N and M are the lengths of s1 and s2, respectively", "Finds the longest common substring.", strings::cmd_lcs),
    // lists
    cmd!("lpush", -3, WRITE | DENYOOM | FAST, 1, 1, 1, G_LIST, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Prepend one or multiple elements to a list", lists::cmd_lpush),
    cmd!("rpush", -3, WRITE | DENYOOM | FAST, 1, 1, 1, G_LIST, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Append one or multiple elements to a list", lists::cmd_rpush),
    cmd!("lpushx", -3, WRITE | DENYOOM | FAST, 1, 1, 1, G_LIST, "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Prepend an element to a list, only if the list exists", lists::cmd_lpushx),
    cmd!("rpushx", -3, WRITE | DENYOOM | FAST, 1, 1, 1, G_LIST, "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Append an element to a list, only if the list exists", lists::cmd_rpushx),
    cmd!("lpop", -2, WRITE | FAST, 1, 1, 1, G_LIST, "1.0.0", "O(N) where N is the number of elements returned", "Remove and get the first elements in a list", lists::cmd_lpop),
    cmd!("rpop", -2, WRITE | FAST, 1, 1, 1, G_LIST, "1.0.0", "O(N) where N is the number of elements returned", "Remove and get the last elements in a list", lists::cmd_rpop),
    cmd!("llen", 2, READONLY | FAST, 1, 1, 1, G_LIST, "1.0.0", O1, "Get the length of a list", lists::cmd_llen),
    cmd!("lrange", 4, READONLY, 1, 1, 1, G_LIST, "1.0.0", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", "Get a range of elements from a list", lists::cmd_lrange),
    cmd!("lindex", 3, READONLY, 1, 1, 1, G_LIST, "1.0.0", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", "Get an element from a list by its index", lists::cmd_lindex),
    cmd!("lset", 4, WRITE | DENYOOM, 1, 1, 1, G_LIST, "1.0.0", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", "Set the value of an element in a list by its index", lists::cmd_lset),
    cmd!("linsert", 5, WRITE | DENYOOM, 1, 1, 1, G_LIST, "2.2.0", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", "Insert an element before or after another element in a list", lists::cmd_linsert),
    cmd!("lrem", 4, WRITE, 1, 1, 1, G_LIST, "1.0.0", "O(N+M) where N is the length of the list and M is the number of elements removed.", "Remove elements from a list", lists::cmd_lrem),
    cmd!("ltrim", 4, WRITE, 1, 1, 1, G_LIST, "1.0.0", "O(N) where N is the number of elements to be removed by the operation.", "Trim a list to the specified range", lists::cmd_ltrim),
    cmd!("lpos", -3, READONLY, 1, 1, 1, G_LIST, "6.0.6", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", "Return the index of matching elements on a list", lists::cmd_lpos),
    cmd!("lmove", 5, WRITE | DENYOOM, 1, 2, 1, G_LIST, "6.2.0", O1, "Pop an element from a list, push it to another list and return it", lists::cmd_lmove),
    cmd!("rpoplpush", 3, WRITE | DENYOOM, 1, 2, 1, G_LIST, "1.2.0", O1, "Remove the last element in a list, prepend it to another list and return it", lists::cmd_rpoplpush),
    cmd!("lmpop", -4, WRITE, 0, 0, 0, G_LIST, "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "Pop elements from a list", lists::cmd_lmpop),
    // hashes
    cmd!("hset", -4, WRITE | DENYOOM | FAST, 1, 1, 1, G_HASH, "2.0.0", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", "Set the string value of a hash field", hashes::cmd_hset),
    cmd!("hsetnx", 4, WRITE | DENYOOM | FAST, 1, 1, 1, G_HASH, "2.0.0", O1, "Set the value of a hash field, only if the field does not exist", hashes::cmd_hsetnx),
    cmd!("hget", 3, READONLY | FAST, 1, 1, 1, G_HASH, "2.0.0", O1, "Get the value of a hash field", hashes::cmd_hget),
    cmd!("hmget", -3, READONLY | FAST, 1, 1, 1, G_HASH, "2.0.0", "O(N) where N is the number of fields being requested.", "Get the values of all the given hash fields", hashes::cmd_hmget),
    cmd!("hmset", -4, WRITE | DENYOOM | FAST, 1, 1, 1, G_HASH, "2.0.0", "O(N) where N is the number of fields being set.", "Set multiple hash fields to multiple values", hashes::cmd_hmset),
    cmd!("hdel", -3, WRITE | FAST, 1, 1, 1, G_HASH, "2.0.0", "O(N) where N is the number of fields to be removed.", "Delete one or more hash fields", hashes::cmd_hdel),
    cmd!("hlen", 2, READONLY | FAST, 1, 1, 1, G_HASH, "2.0.0", O1, "Get the number of fields in a hash", hashes::cmd_hlen),
    cmd!("hstrlen", 3, READONLY | FAST, 1, 1, 1, G_HASH, "3.2.0", O1, "Get the length of the value of a hash field", hashes::cmd_hstrlen),
    cmd!("hexists", 3, READONLY | FAST, 1, 1, 1, G_HASH, "2.0.0", O1, "Determine if a hash field exists", hashes::cmd_hexists),
    cmd!("hkeys", 2, READONLY, 1, 1, 1, G_HASH, "2.0.0", "O(N) where N is the size of the hash.", "Get all the fields in a hash", hashes::cmd_hkeys),
    cmd!("hvals", 2, READONLY, 1, 1, 1, G_HASH, "2.0.0", "O(N) where N is the size of the hash.", "Get all the values in a hash", hashes::cmd_hvals),
    cmd!("hgetall", 2, READONLY, 1, 1, 1, G_HASH, "2.0.0", "O(N) where N is the size of the hash.", "Get all the fields and values in a hash", hashes::cmd_hgetall),
    cmd!("hincrby", 4, WRITE | DENYOOM | FAST, 1, 1, 1, G_HASH, "2.0.0", O1, "Increment the integer value of a hash field by the given number", hashes::cmd_hincrby),
    cmd!("hincrbyfloat", 4, WRITE | DENYOOM | FAST, 1, 1, 1, G_HASH, "2.6.0", O1, "Increment the float value of a hash field by the given amount", hashes::cmd_hincrbyfloat),
    cmd!("hrandfield", -2, READONLY, 1, 1, 1, G_HASH, "6.2.0", "O(N) where N is the number of fields returned", "Get one or multiple random fields from a hash", hashes::cmd_hrandfield),
    cmd!("hscan", -3, READONLY, 1, 1, 1, G_HASH, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate hash fields and associated values", hashes::cmd_hscan),
    // sets
    cmd!("sadd", -3, WRITE | DENYOOM | FAST, 1, 1, 1, G_SET, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Add one or more members to a set", sets::cmd_sadd),
    cmd!("srem", -3, WRITE | FAST, 1, 1, 1, G_SET, "1.0.0", "O(N) where N is the number of members to be removed.", "Remove one or more members from a set", sets::cmd_srem),
    cmd!("sismember", 3, READONLY | FAST, 1, 1, 1, G_SET, "1.0.0", O1, "Determine if a given value is a member of a set", sets::cmd_sismember),
    cmd!("smismember", -3, READONLY | FAST, 1, 1, 1, G_SET, "6.2.0", "O(N) where N is the number of elements being checked for membership", "Returns the membership associated with the given elements for a set", sets::cmd_smismember),
    cmd!("scard", 2, READONLY | FAST, 1, 1, 1, G_SET, "1.0.0", O1, "Get the number of members in a set", sets::cmd_scard),
    cmd!("smembers", 2, READONLY, 1, 1, 1, G_SET, "1.0.0", "O(N) where N is the set cardinality.", "Get all the members in a set", sets::cmd_smembers),
    cmd!("spop", -2, WRITE | FAST, 1, 1, 1, G_SET, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", "Remove and return one or multiple random members from a set", sets::cmd_spop),
    cmd!("srandmember", -2, READONLY, 1, 1, 1, G_SET, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", "Get one or multiple random members from a set", sets::cmd_srandmember),
    cmd!("smove", 4, WRITE | FAST, 1, 2, 1, G_SET, "1.0.0", O1, "Move a member from one set to another", sets::cmd_smove),
    cmd!("sinter", -2, READONLY, 1, -1, 1, G_SET, "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets", sets::cmd_sinter),
    cmd!("sintercard", -3, READONLY, 0, 0, 0, G_SET, "7.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets and return the cardinality of the result", sets::cmd_sintercard),
    cmd!("sinterstore", -3, WRITE | DENYOOM, 1, -1, 1, G_SET, "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets and store the resulting set in a key", sets::cmd_sinterstore),
    cmd!("sunion", -2, READONLY, 1, -1, 1, G_SET, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Add multiple sets", sets::cmd_sunion),
    cmd!("sunionstore", -3, WRITE | DENYOOM, 1, -1, 1, G_SET, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Add multiple sets and store the resulting set in a key", sets::cmd_sunionstore),
    cmd!("sdiff", -2, READONLY, 1, -1, 1, G_SET, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Subtract multiple sets", sets::cmd_sdiff),
    cmd!("sdiffstore", -3, WRITE | DENYOOM, 1, -1, 1, G_SET, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Subtract multiple sets and store the resulting set in a key", sets::cmd_sdiffstore),
    cmd!("sscan", -3, READONLY, 1, 1, 1, G_SET, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate Set elements", sets::cmd_sscan),
    // zsets
    cmd!("zadd", -4, WRITE | DENYOOM | FAST, 1, 1, 1, G_ZSET, "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "Add one or more members to a sorted set, or update its score if it already exists", zsets::cmd_zadd),
    cmd!("zincrby", 4, WRITE | DENYOOM | FAST, 1, 1, 1, G_ZSET, "1.2.0", "O(log(N)) where N is the number of elements in the sorted set.", "Increment the score of a member in a sorted set", zsets::cmd_zincrby),
    cmd!("zrem", -3, WRITE | FAST, 1, 1, 1, G_ZSET, "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", "Remove one or more members from a sorted set", zsets::cmd_zrem),
    cmd!("zcard", 2, READONLY | FAST, 1, 1, 1, G_ZSET, "1.2.0", O1, "Get the number of members in a sorted set", zsets::cmd_zcard),
    cmd!("zscore", 3, READONLY | FAST, 1, 1, 1, G_ZSET, "1.2.0", O1, "Get the score associated with the given member in a sorted set", zsets::cmd_zscore),
    cmd!("zmscore", -3, READONLY | FAST, 1, 1, 1, G_ZSET, "6.2.0", "O(N) where N is the number of members being requested.", "Get the score associated with the given members in a sorted set", zsets::cmd_zmscore),
    cmd!("zrank", 3, READONLY | FAST, 1, 1, 1, G_ZSET, "2.0.0", "O(log(N))", "Determine the index of a member in a sorted set", zsets::cmd_zrank),
    cmd!("zrevrank", 3, READONLY | FAST, 1, 1, 1, G_ZSET, "2.0.0", "O(log(N))", "Determine the index of a member in a sorted set, with scores ordered from high to low", zsets::cmd_zrevrank),
    cmd!("zcount", 4, READONLY | FAST, 1, 1, 1, G_ZSET, "2.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Count the members in a sorted set with scores within the given values", zsets::cmd_zcount),
    cmd!("zlexcount", 4, READONLY | FAST, 1, 1, 1, G_ZSET, "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.", "Count the number of members in a sorted set between a given lexicographical range", zsets::cmd_zlexcount),
    cmd!("zrange", -4, READONLY, 1, 1, 1, G_ZSET, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "Return a range of members in a sorted set", zsets::cmd_zrange),
    cmd!("zrangestore", -5, WRITE | DENYOOM, 1, 2, 1, G_ZSET, "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", "Store a range of members from sorted set into another key", zsets::cmd_zrangestore),
    cmd!("zrevrange", -4, READONLY, 1, 1, 1, G_ZSET, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "Return a range of members in a sorted set, by index, with scores ordered from high to low", zsets::cmd_zrevrange),
    cmd!("zrangebyscore", -4, READONLY, 1, 1, 1, G_ZSET, "1.0.5", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by score", zsets::cmd_zrangebyscore),
    cmd!("zrevrangebyscore", -4, READONLY, 1, 1, 1, G_ZSET, "2.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by score, with scores ordered from high to low", zsets::cmd_zrevrangebyscore),
    cmd!("zrangebylex", -4, READONLY, 1, 1, 1, G_ZSET, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by lexicographical range", zsets::cmd_zrangebylex),
    cmd!("zrevrangebylex", -4, READONLY, 1, 1, 1, G_ZSET, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", zsets::cmd_zrevrangebylex),
    cmd!("zremrangebyrank", 4, WRITE, 1, 1, 1, G_ZSET, "2.0.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set within the given indexes", zsets::cmd_zremrangebyrank),
    cmd!("zremrangebyscore", 4, WRITE, 1, 1, 1, G_ZSET, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set within the given scores", zsets::cmd_zremrangebyscore),
    cmd!("zremrangebylex", 4, WRITE, 1, 1, 1, G_ZSET, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Remove all members in a sorted set between the given lexicographical range", zsets::cmd_zremrangebylex),
    cmd!("zpopmin", -2, WRITE | FAST, 1, 1, 1, G_ZSET, "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with the lowest scores in a sorted set", zsets::cmd_zpopmin),
    cmd!("zpopmax", -2, WRITE | FAST, 1, 1, 1, G_ZSET, "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with the highest scores in a sorted set", zsets::cmd_zpopmax),
    cmd!("zmpop", -4, WRITE, 0, 0, 0, G_ZSET, "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with scores in a sorted set", zsets::cmd_zmpop),
    cmd!("zrandmember", -2, READONLY, 1, 1, 1, G_ZSET, "6.2.0", "O(N) where N is the number of elements returned", "Get one or multiple random elements from a sorted set", zsets::cmd_zrandmember),
    cmd!("zunion", -3, READONLY, 0, 0, 0, G_ZSET, "6.2.0", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "Add multiple sorted sets", zsets::cmd_zunion),
    cmd!("zinter", -3, READONLY, 0, 0, 0, G_ZSET, "6.2.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "Intersect multiple sorted sets", zsets::cmd_zinter),
    cmd!("zdiff", -3, READONLY, 0, 0, 0, G_ZSET, "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "Subtract multiple sorted sets", zsets::cmd_zdiff),
    cmd!("zunionstore", -4, WRITE | DENYOOM, 1, 1, 1, G_ZSET, "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "Add multiple sorted sets and store the resulting sorted set in a new key", zsets::cmd_zunionstore),
    cmd!("zinterstore", -4, WRITE | DENYOOM, 1, 1, 1, G_ZSET, "2.0.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "Intersect multiple sorted sets and store the resulting sorted set in a new key", zsets::cmd_zinterstore),
    cmd!("zdiffstore", -4, WRITE | DENYOOM, 1, 1, 1, G_ZSET, "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "Subtract multiple sorted sets and store the resulting sorted set in a new key", zsets::cmd_zdiffstore),
    cmd!("zintercard", -3, READONLY, 0, 0, 0, G_ZSET, "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", "Intersect multiple sorted sets and return the cardinality of the result", zsets::cmd_zintercard),
    cmd!("zscan", -3, READONLY, 1, 1, 1, G_ZSET, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", "Incrementally iterate sorted sets elements and associated scores", zsets::cmd_zscan),
    cmd!("zquery", 6, READONLY, 1, 1, 1, G_ZSET, "7.0.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the offset plus the number of elements returned.", "Returns members at or after a (score, member) position of a sorted set, with an offset and a count (ringkv extension).", zsets::cmd_zquery),
    // blocking
    cmd!("blpop", -3, WRITE | NOSCRIPT | BLOCKING, 1, -2, 1, G_LIST, "2.0.0", "O(N) where N is the number of provided keys.", "Remove and get the first element in a list, or block until one is available", blocking::cmd_blpop),
    cmd!("brpop", -3, WRITE | NOSCRIPT | BLOCKING, 1, -2, 1, G_LIST, "2.0.0", "O(N) where N is the number of provided keys.", "Remove and get the last element in a list, or block until one is available", blocking::cmd_brpop),
    cmd!("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, 1, 2, 1, G_LIST, "6.2.0", O1, "Pop an element from a list, push it to another list and return it; or block until one is available", blocking::cmd_blmove),
    cmd!("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, 1, 2, 1, G_LIST, "2.2.0", O1, "Pop an element from a list, push it to another list and return it; or block until one is available", blocking::cmd_brpoplpush),
    cmd!("blmpop", -5, WRITE | BLOCKING, 0, 0, 0, G_LIST, "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "Pop elements from a list, or block until one is available", blocking::cmd_blmpop),
    cmd!("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, 1, -2, 1, G_ZSET, "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", blocking::cmd_bzpopmin),
    cmd!("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, 1, -2, 1, G_ZSET, "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", blocking::cmd_bzpopmax),
    cmd!("bzmpop", -5, WRITE | BLOCKING, 0, 0, 0, G_ZSET, "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "Remove and return members with scores in a sorted set or block until one is available", blocking::cmd_bzmpop),
];

/// Case-insensitive lookup of a command (or subcommand) by name.
pub fn lookup<'t>(table: &'t [Command], name: &[u8]) -> Option<&'t Command> {
    table
        .iter()
        .find(|c| c.short_name().as_bytes().eq_ignore_ascii_case(name))
}

/// Redis 7.0's text for an unknown command, byte for byte: the name and the first arguments,
/// each quoted, until about 128 bytes of them were written.
pub fn unknown_command_error(argv: &Argv<'_>) -> Vec<u8> {
    let mut args: Vec<u8> = Vec::new();
    let mut i = 1;
    while i < argv.len() && args.len() < 128 {
        let room = 128 - args.len();
        args.push(b'\'');
        args.extend_from_slice(args::c_str_max(argv.get(i), room));
        args.extend_from_slice(b"' ");
        i += 1;
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(args::c_str_max(argv.get(0), 128));
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&args);
    msg
}

/// Redis 7.0's text for an unknown subcommand of a container command.
pub fn unknown_subcommand_error(container: &str, sub: &[u8]) -> Vec<u8> {
    let mut msg = b"ERR unknown subcommand '".to_vec();
    msg.extend_from_slice(args::c_str_max(sub, 128));
    msg.extend_from_slice(b"'. Try ");
    msg.extend_from_slice(container.to_ascii_uppercase().as_bytes());
    msg.extend_from_slice(b" HELP.");
    msg
}
