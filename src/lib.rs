//! ringkv: a Redis-compatible in-memory key-value server on io_uring.
//!
//! The modules, in the order a request travels, then the data below the commands:
//!
//! `main.rs` (the binary) reads the command line and the config file, sets up logging and
//! starts the event loop. `config` holds every setting and limit in one table that the file,
//! the flags and CONFIG GET/SET share; a setting is honoured or refused, never ignored.
//! `config::rewrite` writes the running settings back into that file (CONFIG REWRITE).
//!
//! `event_loop` is the loop turn: it submits to the ring and reaps completions (accepts,
//! receives, sends, the housekeeping tick, the signal fd, the blocked-client timer), hands each
//! connection's received bytes to the server, and queues one send per connection with output
//! and one receive per connection ready for more. It holds no command logic. The listener
//! sockets (bind, keepalive, protected mode) are set up there too.
//!
//! `server` is the state commands see: the databases, the client registry (add, close,
//! resume), stats, the command lookup, the journal and WATCH registry, and `process_input`,
//! which parses a connection's buffered commands and hands each to `cmd::call`; its
//! `housekeeping` is the cron (active expiry, idle clients, idle rehashing, scheduled saves).
//! Its `server::persistence` part is the glue to `persist`: it lends persistence the server
//! parts it needs and applies what persistence reports back. `server::client_eviction` keeps
//! the connections' memory total and closes the largest connections when it reaches
//! `maxmemory-clients`.
//!
//! `io::ring` is the io_uring ring and the only `unsafe` of the I/O path: in-flight operations
//! own their buffers until their completion arrives, and tokens are slot + generation, never
//! pointers. `net::conn` is one client: input buffer, parser cursor, output buffers and
//! settings. `resp::parse` and `resp::reply` are the incremental request parser (arguments as
//! byte ranges of the input buffer; it can parse a pipeline's next commands ahead, so that
//! `Server::process_input` prefetches their keys) and the RESP2/RESP3 reply encoder; they
//! depend on nothing in the server.
//!
//! `acl` is the users (passwords, command/key/channel rules, selectors), the permission
//! check `cmd::call` asks before a restricted user's command runs, and the ACL log;
//! `cmd::acl` has the ACL command and AUTH/HELLO use it.
//!
//! `cmd` is the commands. `cmd::table` holds every command as one row (arity, flags, ACL
//! categories, key specs, docs and argument tree, handler), the single source of COMMAND's
//! replies (`cmd::command`: COMMAND INFO, DOCS, LIST, GETKEYS). `cmd::call` is the one path
//! every command takes, from a client, from EXEC, from a script or from the AOF loader:
//! lookup, arity, the table-driven checks (auth, `no_multi`, `denyoom`, MISCONF, `loading`),
//! queueing inside MULTI, the handler, commandstats, then the command's effects to the
//! journal and its modified keys to WATCH and blocked clients. One file per command family
//! holds the handlers (`strings`, `bitmaps`, `lists`, `hashes`, `sets`, `zsets`, `geo`, `hll`,
//! `streams`, `keys`, `expire`, `blocking`, `multi` for transactions, `scripting`, `functions`,
//! `server`, `info` for INFO, `lolwut` for LOLWUT and MODULE, `debug`). In a family, `op_*`
//! functions work on a `Db` and return a value or a `cmd::error::OpError`, knowing nothing of
//! RESP, and `cmd_*` handlers parse arguments, call the op, write the reply and state what
//! they changed (`Ctx::propagate`, `Ctx::modified`). `cmd::args` holds the argument helpers
//! every family shares; `cmd::error` holds `OpError`, the one place it becomes Redis's error
//! text, and the `ERR_*` texts argument parsers answer.
//!
//! `script` is Lua scripting: one Lua 5.1 interpreter (mlua, vendored) for every EVAL script,
//! with Redis 7.0's sandbox (read-only globals and libraries, Redis's `pcall` and
//! `math.random`), the script cache by SHA1, the conversions between command replies, Lua
//! values and script results, and the `#!lua` flags; `script::functions` is Redis 7.0's
//! function libraries in a second interpreter of their own (FUNCTION and FCALL are in
//! `cmd::functions`; `persist` saves and loads the libraries' code). `cmd::scripting` has the
//! commands: EVAL and its forms run a script inside their journal unit, and its `redis.call`
//! runs each command through `cmd::call` as `Source::Script` (the script checks, the script's
//! database and protocol, the caller's connection), so a script's effects, keyspace events,
//! WATCH and tracking signals are a client's.
//!
//! `journal` is the effects journal: what commands changed, in replicable form (SET … EX as
//! SET … PXAT, a served BLPOP as LPOP, an expired key as DEL), gathered per execution unit
//! and published with MULTI/EXEC around a unit of several effects. It knows nothing of the
//! server or the commands; the AOF and the replication stream are its consumers.
//!
//! `repl` is replication: the replication ids, offsets and backlog both sides share
//! (`repl::ReplState`). `repl::primary` is the primary side (attached replicas, the full
//! sync streamed from a forkless snapshot, the stream fed from the journal, WAIT,
//! `min-replicas-to-write`, INFO replication); `cmd::replication` has REPLCONF, PSYNC, SYNC,
//! WAIT and ROLE. `repl::replica` is the link of a replica to its primary (connect,
//! handshake, full sync or +CONTINUE, the stream applied through `cmd::call` as the master
//! client, ACKs), driven by the loop's completions and the housekeeping tick; the bytes it
//! applies go on, as they are, to this server's own replicas (`primary::feed_replicas`);
//! `cmd::replicaof` has REPLICAOF and SLAVEOF. `repl::failover` is FAILOVER's hand-over
//! (writes paused, wait for the target's ACK, then follow it with `PSYNC ... FAILOVER`);
//! `cmd::failover` parses and checks the command.
//!
//! `pubsub` is the registry of Pub/Sub subscriptions (channels, patterns, shard channels, in
//! both directions); `cmd::pubsub` has the commands and `publish`, the one delivery path of
//! messages, which copies an encoded message into each subscriber's output for the turn's
//! flush and enforces the `pubsub` output limit.
//!
//! `tracking` is client-side caching: the keys tracking clients read (key → client ids), the
//! prefixes broadcasting clients follow, and invalidations held until a command ends;
//! `cmd::tracking` has CLIENT TRACKING and friends and delivers invalidations through
//! `cmd::pubsub::send_to`, fed by `Server::signal_modified`, `Server::record_deletion`,
//! FLUSHDB/FLUSHALL and the end of each loop turn.
//!
//! `notify` is keyspace notifications: the `notify-keyspace-events` classes, and `fire`,
//! which publishes an event commands state (`Ctx::notify`) or the server's own deletions
//! (expired, evicted) on the `__keyspace@…` and `__keyevent@…` channels.
//!
//! `blocking` is the registry of clients blocked on keys (BLPOP and friends): wait queues per
//! key, ready keys, deadlines. It is plain data; blocking, serving and timing out clients are
//! in `cmd::blocking`, with the commands that block.
//!
//! `slowlog` and `latency` are observability state: the slow log, and the latency monitor's
//! per-event samples with the per-command latency histograms. `cmd::call` feeds both from
//! the one clock read it makes per command; `cmd::slowlog` and `cmd::latency` have the
//! commands (and `cmd::latency` INFO's `latencystats` lines).
//!
//! `keyspace` is one database (`Db`): a `ds::dict::Dict<Value>` of keys, the TTL heap
//! (`keyspace::expire`) with lazy and active expiry, the LRU/LFU access data, the values
//! (`keyspace::value`: strings in their encodings and boxed collections), and the
//! copy-on-write log that snapshots walk (`keyspace::cow`).
//!
//! `types` are the collection values (list as a quicklist; hash, set and sorted set in Redis's
//! two encodings each, the sorted set's order on an AVL tree in `types::avl`, the stream as
//! Redis's listpack nodes with its consumer groups in `types::stream`) and the
//! HyperLogLog layout of string values (`types::hll`). They know
//! nothing of RESP or the keyspace.
//!
//! `ds` holds the data structures below both `keyspace` and `types`, generic over what they
//! store: `ds::dict`, the intrusive hash table with incremental rehashing (all its `unsafe` is
//! in that file), and `ds::small_str`, a short string stored inline.
//!
//! `persist` is persistence: RDB snapshots (the codec in `persist::rdb` and `persist::rdb_lp`,
//! SAVE, the schedule and start-up load in `persist::rdb_server`, the forkless BGSAVE in
//! `persist::rdb_snapshot`) and the append-only file (`persist::aof`: the multi-part layout,
//! its loader, and a forkless rewrite that walks the same `keyspace::cow` snapshots as
//! BGSAVE). docs/PERSISTENCE.md and docs/AOF.md draw the formats. It imports neither `server`
//! nor `cmd`: each call takes its own state (`Aof`, `RdbState`) and a `persist::Env` of
//! borrowed server parts, consumes the journal's published effects, reports back what the
//! server must do (`aof::Effects`), and replays AOF commands through the server's
//! `aof::Replay`.
//!
//! `lazyfree` drops large values on a background thread. `alloc` is the counting global
//! allocator behind INFO's used_memory and maxmemory. `logging` writes Redis-style log
//! lines. `util` holds small shared helpers: glob matching (`util::glob`), Redis's number
//! parsing and formatting (`util::num`), Redis's `long double` emulated exactly for
//! INCRBYFLOAT and HINCRBYFLOAT (`util::f80`), Redis's geohash and distance arithmetic for
//! the GEO commands (`util::geohash`), the monotonic clock and the page size.
pub mod acl;
pub mod alloc;
pub mod blocking;
pub mod cmd;
pub mod config;
pub mod ds;
pub mod event_loop;
pub mod evict;
pub mod io;
pub mod journal;
pub mod keyspace;
pub mod latency;
pub mod lazyfree;
pub mod logging;
pub mod monitor;
pub mod net;
pub mod notify;
pub mod pause;
pub mod persist;
pub mod proctitle;
pub mod pubsub;
pub mod repl;
pub mod resp;
pub mod script;
pub mod server;
pub mod slowlog;
pub mod supervise;
pub mod tracking;
pub mod types;
pub mod util;
