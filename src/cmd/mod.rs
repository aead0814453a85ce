//! Commands: the table, the shared argument helpers, and one file per command family.
//!
//! Every command is one row of `table::COMMANDS` (name, arity, flags, ACL categories, key
//! specs, docs, handler); commands with subcommands (CLIENT, CONFIG, OBJECT, COMMAND) carry
//! their own rows. `call::call` runs every command from any source: lookup, arity and the
//! checks the row's flags ask for, once, then the handler. Handlers parse their arguments,
//! call keyspace operations (`op_*` in each family file, which know nothing of RESP), write
//! one reply and state what they changed through the `Ctx` (`propagate`, `modified`) and the
//! keyspace events they fire, where Redis 7.0 fires them relative to the reply (`notify`,
//! `notify_new_since` for keys a write added, `miss`/`read_lookup` for read lookups).
//! COMMAND and its subcommands (`command`) are generated from the table.

pub mod acl;
pub mod args;
pub mod bitmaps;
pub mod blocking;
pub mod call;
pub mod cluster;
pub mod command;
pub mod debug;
pub mod docs;
pub mod dump;
pub mod error;
pub mod expire;
pub mod failover;
pub mod functions;
pub mod geo;
pub mod hashes;
pub mod hll;
pub mod info;
pub mod keys;
pub mod latency;
pub mod lists;
pub mod lolwut;
pub mod memory;
pub mod migrate;
pub mod monitor;
pub mod multi;
pub mod pause;
pub mod pubsub;
pub mod replicaof;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod sets;
pub mod slowlog;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod table;
pub mod tracking;
pub mod zsets;

pub use table::{flags, lookup, Command, COMMANDS};

use crate::keyspace::Db;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::server::Server;

pub type Handler = fn(&mut Ctx<'_>, &Argv<'_>);

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

    /// A HELP subcommand's reply: one status line per text line, as Redis's addReplyHelp.
    pub fn help(&mut self, lines: &[&str]) {
        self.reply.array(lines.len());
        for l in lines {
            self.reply.simple(l);
        }
    }

    pub fn wrong_type(&mut self) {
        self.reply.error(error::ERR_WRONGTYPE);
    }

    /// Counts a read lookup of `key` for INFO (`keyspace_hits`, `keyspace_misses`) and, when
    /// it found nothing, fires `keymiss` (class `m`), as Redis's `lookupKeyRead` does. Call it
    /// where Redis looks the key up, before writing the reply, so that a RESP3 client
    /// subscribed to its own misses gets the event where Redis puts it. A key of another
    /// type was found: a hit.
    #[inline]
    pub fn read_lookup(&mut self, found: bool, key: &[u8]) {
        if found {
            self.hit();
        } else {
            self.miss(key);
        }
    }

    /// A read lookup that found its key (see `read_lookup`).
    #[inline]
    pub fn hit(&mut self) {
        self.srv.stats.keyspace_hits += 1;
    }

    /// A read lookup of `key` that found nothing (see `read_lookup`).
    #[inline]
    pub fn miss(&mut self, key: &[u8]) {
        self.srv.stats.keyspace_misses += 1;
        self.notify(crate::notify::class::KEY_MISS, "keymiss", key);
    }

    /// A mark to pass to `notify_new_since` after a write: the client's database's count of
    /// keys created so far.
    #[inline]
    pub fn new_mark(&mut self) -> u64 {
        self.db().keys_created()
    }

    /// `new_mark` for database `db` (COPY … DB, MOVE).
    pub fn new_mark_db(&self, db: usize) -> u64 {
        self.srv.dbs[db].keys_created()
    }

    /// Fires `new` (class `n`) on `key` if the client's database created a key since `mark`
    /// (`new_mark`), as Redis's `dbAdd` does. The commands that create a key call it where
    /// Redis adds the key: after the lookups, before the command's own event and before
    /// the reply if Redis replies after adding.
    #[inline]
    pub fn notify_new_since(&mut self, mark: u64, key: &[u8]) {
        if self.srv.config.notify_keyspace_events & crate::notify::class::NEW != 0
            && self.db().keys_created() != mark
        {
            let db = self.db_index();
            self.notify_db(db, crate::notify::class::NEW, "new", key);
        }
    }

    /// `notify_new_since` for database `db`, with a mark from `new_mark_db`.
    pub fn notify_new_since_db(&mut self, db: usize, mark: u64, key: &[u8]) {
        if self.srv.dbs[db].keys_created() != mark {
            self.notify_db(db, crate::notify::class::NEW, "new", key);
        }
    }

    /// The command changed `n` things: the dirty counter (RDB save points) moves, and
    /// unless the command states its effects itself (`propagate`) its own arguments are
    /// its effect.
    pub fn dirty(&mut self, n: u64) {
        self.srv.stats.dirty += n;
    }

    /// States one effect of this command, in replicable form, in the client's database:
    /// what the AOF (and replicas) replay instead of the command's own arguments. Several
    /// calls state several effects; a command that calls this and changes nothing else has
    /// exactly these effects.
    pub fn propagate(&mut self, args: &[&[u8]]) {
        let db = self.db_index();
        self.propagate_db(db, args);
    }

    /// Whether what `propagate` is given is recorded: a command whose effect costs something
    /// to state may skip building it (and `propagate`) when not. Without a record, `call()`
    /// journals nothing of its own either.
    pub fn journaling(&self) -> bool {
        self.srv.journal.enabled && !self.srv.frame.no_effects()
    }

    /// `propagate` for a database other than the client's (MOVE, COPY … DB).
    pub fn propagate_db(&mut self, db: usize, args: &[&[u8]]) {
        self.srv.frame.set_propagated();
        if self.srv.journal.enabled {
            // Keys that expired on the way come before the effect that follows them.
            self.srv.drain_expired();
            // A script's command after `redis.set_repl(redis.REPL_NONE)`: not journaled.
            if !self.srv.frame.no_effects() {
                self.srv.journal.record(db, args);
            }
        }
    }

    /// States a pop from `key` as Redis 7.0 propagates the multi-key and blocking pops:
    /// `NAME key [count]` (the count popped, for the forms that take COUNT), and names the
    /// key as modified, since it is not in a key position of those commands.
    pub fn propagate_pop(&mut self, name: &[u8], key: &[u8], count: Option<usize>) {
        let mut n = itoa::Buffer::new();
        match count {
            Some(c) => self.propagate(&[name, key, n.format(c).as_bytes()]),
            None => self.propagate(&[name, key]),
        }
        self.modified(key);
    }

    /// Names a key this command modified (WATCH fails, blocked clients may be served). A
    /// command that names none and changed data is taken to have modified its key positions.
    pub fn modified(&mut self, key: &[u8]) {
        let db = self.db_index();
        self.srv.signal_modified(db, key);
    }

    /// States a keyspace event of this command on `key` of the client's database, at the
    /// point Redis 7.0 fires it (`notify::class` bits; `event` as Redis names it). Costs one
    /// test when the class is not enabled.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        if self.srv.config.notify_keyspace_events & class != 0 {
            let db = self.db_index();
            self.notify_db(db, class, event, key);
        }
    }

    /// Whether events of `class` are enabled: for work only an event needs (such as looking a
    /// key up to learn whether an op deleted it).
    #[inline]
    pub fn notifies(&self, class: u32) -> bool {
        self.srv.config.notify_keyspace_events & class != 0
    }

    /// Fires `del` on `key` if it no longer exists: a collection the command emptied, which
    /// the op deleted. Looks the key up only while `del` events are enabled.
    pub fn notify_del_if_gone(&mut self, key: &[u8]) {
        if self.notifies(crate::notify::class::GENERIC) {
            let now_ms = self.now_ms;
            if !self.db().contains(key, now_ms) {
                self.notify(crate::notify::class::GENERIC, "del", key);
            }
        }
    }

    /// `notify` for a key of another database (MOVE, COPY … DB, SWAPDB).
    #[inline(never)]
    pub fn notify_db(&mut self, db: usize, class: u32, event: &str, key: &[u8]) {
        self.notify_db_inner(db, class, event, key, true);
    }

    /// `notify` of an event that does not invalidate the key for client tracking: a change
    /// Redis does not signal (a stream's group bookkeeping, XSETID).
    pub fn notify_unsignalled(&mut self, class: u32, event: &str, key: &[u8]) {
        if self.srv.config.notify_keyspace_events & class != 0 {
            let db = self.db_index();
            self.notify_db_inner(db, class, event, key, false);
        }
    }

    fn notify_db_inner(&mut self, db: usize, class: u32, event: &str, key: &[u8], inval: bool) {
        // With nobody subscribed to anything there is nobody to tell, and no order to keep.
        if self.srv.config.notify_keyspace_events & class == 0 || self.srv.pubsub.is_empty() {
            return;
        }
        // Keys that expired on the way fire their events first, as they did in Redis.
        if self.srv.log_deletions {
            self.srv.drain_expired();
        }
        // An event (but a miss) means the key changed: clients caching it hear of that
        // before they hear the event, Redis's order.
        if inval && class != crate::notify::class::KEY_MISS && self.srv.tracking.on() {
            tracking::key_event(self.srv, key);
        }
        let mut caller = Some(pubsub::Caller {
            slot: self.slot,
            out: &mut *self.reply.buf,
        });
        crate::notify::fire(self.srv, &mut caller, class, event, db, key);
    }

    /// `modified` for a key of another database.
    pub fn modified_db(&mut self, db: usize, key: &[u8]) {
        self.srv.signal_modified(db, key);
    }
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
