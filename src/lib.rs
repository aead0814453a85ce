//! ringkv: a Redis-compatible in-memory key-value server on io_uring.
//!
//! Module map, in the order a request travels:
//! - `main.rs` (binary): command line and config file, logging, start-up.
//! - `config`: every setting and limit, one table shared by the file, flags and CONFIG.
//! - `event_loop`: the loop turn: ring completions → accept/receive/send, flush, timers.
//! - `server`: the server state commands see, the client registry, housekeeping; its
//!   `persistence` part is the glue to `persist` (lends it server parts, applies its effects).
//! - `io::ring`: the io_uring ring; the only `unsafe` on the I/O path; owns in-flight buffers.
//! - `net::conn`: one client: input buffer, parser cursor, output buffers, client settings.
//! - `resp::parse` / `resp::reply`: incremental request parser and RESP2/RESP3 encoder.
//! - `cmd`: commands. `cmd::table` holds every command as one row (arity, flags, ACL
//!   categories, key specs, docs); dispatch and `cmd::command` (COMMAND INFO/DOCS/GETKEYS...)
//!   read it; one file per command family holds the handlers.
//! - `blocking`: clients blocked on keys (BLPOP...): wait queues, ready keys, deadlines.
//! - `keyspace`: databases: intrusive hash table (`dict`), TTL heap (`expire`), values.
//! - `types`: collection values (list, hash, set, sorted set on an AVL tree).
//! - `persist`: RDB snapshots (codec in `persist::rdb`; SAVE, BGSAVE, start-up load around it;
//!   docs/PERSISTENCE.md draws the format and the forkless BGSAVE) and the append-only file
//!   (multi-part AOF: manifest, base, incr; its loader; a forkless rewrite walking the same
//!   `keyspace::cow` snapshots as BGSAVE). It imports neither `server` nor `cmd`: each call
//!   takes its own state (`Aof`, `RdbState`) and a `persist::Env` of borrowed server parts,
//!   consumes the `journal`'s published effects, reports back what the server must do
//!   (`aof::Effects`), and replays AOF commands through the server's `aof::Replay`.
//! - `lazyfree`: drops large values on a background thread.
//! - `alloc`, `logging`, `util`: counting allocator, Redis-style log lines, glob and numbers.
pub mod alloc;
pub mod blocking;
pub mod cmd;
pub mod config;
pub mod ds;
pub mod event_loop;
pub mod io;
pub mod journal;
pub mod keyspace;
pub mod lazyfree;
pub mod logging;
pub mod net;
pub mod persist;
pub mod resp;
pub mod server;
pub mod types;
pub mod util;
