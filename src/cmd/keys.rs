//! Generic key commands: DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY RENAME RENAMENX COPY MOVE
//! TOUCH, and OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT|HELP.
//!
//! Invariants and the Redis 7.0 behaviour they copy (`db.c`, `object.c`):
//! - Keyspace operations (`op_*`) take databases and return values or an [`OpError`]; only
//!   the `cmd_*` functions parse arguments and write replies. [`OpError::message`] is the one
//!   place a status becomes an error text.
//! - Read lookups (EXISTS TYPE TOUCH OBJECT, COPY's source, SCAN's TYPE filter) count
//!   keyspace hits and misses; write lookups (DEL RENAME MOVE, COPY's destination) do not.
//! - Lookups for writing and TOUCH/COPY-source update the access clock (LRU or LFU);
//!   EXISTS TYPE OBJECT and SCAN do not.
//! - RENAME and MOVE carry the value's TTL and its access data (LRU clock / LFU counter)
//!   with it, as Redis moves the object itself; COPY creates a fresh object (fresh access
//!   data) and copies the TTL.
//! - A DB index is an `int`: beyond i32 it is a range error with Redis's own text, then it
//!   must name an existing database.
//! - Keyspace events, all before the reply: DEL and UNLINK fire `del` per deleted key, in
//!   turn; RENAME `new` for the destination (Redis deletes it and adds it anew), then
//!   `rename_from` and `rename_to`; COPY `new` and `copy_to`, MOVE `new`, `move_from` and
//!   `move_to`, each in its own database. EXISTS, TOUCH, TYPE, COPY's source and SCAN's
//!   TYPE filter fire `keymiss` when they miss; OBJECT does not (Redis's LOOKUP_NONOTIFY).
//!   SCAN deletes (`expired`) only the expired keys that pass MATCH.

use super::args::{arg_eq, arg_i64, parse_scan_cursor, SCAN_COUNT_DEFAULT};
use super::error::{OpError, ERR_DB_RANGE, ERR_NOT_INT, ERR_SYNTAX};
use super::Ctx;
use crate::keyspace::value::{Value, ValueType};
use crate::keyspace::Db;
use crate::lazyfree::LAZYFREE_THRESHOLD;
use crate::notify::class;
use crate::resp::Argv;
use crate::util::glob::glob_match;

/// Redis's OBJ_SHARED_REFCOUNT: the refcount shared objects report.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis's OBJ_SHARED_INTEGERS: integers 0..10000 are shared objects.
const SHARED_INTEGERS: i64 = 10_000;

// ---- operations -------------------------------------------------------------------------

/// Deletes each key that exists (repeats count once); `on_removed` receives the values.
/// Returns the number deleted.
pub fn op_del<'k>(
    db: &mut Db,
    keys: impl IntoIterator<Item = &'k [u8]>,
    now_ms: u64,
    mut on_removed: impl FnMut(&'k [u8], Value),
) -> usize {
    let mut deleted = 0;
    for key in keys {
        if let Some(v) = db.remove(key, now_ms) {
            on_removed(key, v);
            deleted += 1;
        }
    }
    deleted
}

/// EXISTS: live keys among `keys`, repeats counted each time. Does not touch.
pub fn op_exists<'k>(db: &mut Db, keys: impl IntoIterator<Item = &'k [u8]>, now_ms: u64) -> usize {
    keys.into_iter().filter(|k| db.contains(k, now_ms)).count()
}

/// TOUCH: like EXISTS but updates the access clock of each live key.
pub fn op_touch<'k>(db: &mut Db, keys: impl IntoIterator<Item = &'k [u8]>, now_ms: u64) -> usize {
    keys.into_iter()
        .filter(|k| db.get(k, now_ms).is_some())
        .count()
}

/// TYPE: the type of a live key, without touching.
pub fn op_type(db: &mut Db, key: &[u8], now_ms: u64) -> Option<ValueType> {
    db.peek(key, now_ms).map(Value::value_type)
}

/// KEYS: calls `f` for every live key matching `pattern` (expired keys are skipped, not
/// reaped, as in Redis).
pub fn op_keys(db: &Db, pattern: &[u8], now_ms: u64, mut f: impl FnMut(&[u8])) {
    let all = pattern == b"*";
    db.for_each(now_ms, |k, _| {
        if all || glob_match(pattern, k, false) {
            f(k);
        }
    });
}

/// SCAN's options after parsing.
#[derive(Clone, Copy, Debug)]
pub struct ScanOpts<'a> {
    pub count: usize,
    pub pattern: Option<&'a [u8]>,
    pub type_name: Option<&'a [u8]>,
}

/// One SCAN step: the next cursor, the keys that passed the filters, how many live keys the
/// TYPE filter looked up (Redis counts each as a keyspace hit), and the keys met past their
/// deadline that passed MATCH, in scan order: still stored, for the command to delete.
#[derive(Debug, Default)]
pub struct ScanPage {
    pub cursor: u64,
    pub keys: Vec<Vec<u8>>,
    pub type_lookups: u64,
    pub expired: Vec<Vec<u8>>,
}

/// SCAN: fetches about `count` keys from `cursor`, then filters them by pattern and type,
/// so a filtered page may be empty while the cursor is not 0 (as in Redis).
pub fn op_scan(db: &mut Db, cursor: u64, opts: ScanOpts<'_>, now_ms: u64) -> ScanPage {
    let mut page = ScanPage::default();
    page.cursor = db.scan_with_expired(cursor, opts.count, now_ms, |k, v| {
        if let Some(p) = opts.pattern {
            if !glob_match(p, k, false) {
                return;
            }
        }
        let Some(v) = v else {
            page.expired.push(k.to_vec());
            return;
        };
        if let Some(t) = opts.type_name {
            page.type_lookups += 1;
            if !t.eq_ignore_ascii_case(v.value_type().name().as_bytes()) {
                return;
            }
        }
        page.keys.push(k.to_vec());
    });
    page
}

/// RENAME / RENAMENX. Ok(true): renamed (or `src == dst`, which keeps the key and renames
/// nothing); Ok(false): NX and the destination exists.
pub fn op_rename(
    db: &mut Db,
    src: &[u8],
    dst: &[u8],
    nx: bool,
    now_ms: u64,
) -> Result<RenameOutcome, OpError> {
    // lookupKeyWrite: touches the source.
    if db.get(src, now_ms).is_none() {
        return Err(OpError::NoSuchKey);
    }
    if src == dst {
        return Ok(RenameOutcome::SameKey);
    }
    if db.get(dst, now_ms).is_some() && nx {
        return Ok(RenameOutcome::DestinationExists);
    }
    let access = db.access_word(src, now_ms);
    let Some((value, deadline_ms)) = db.take(src, now_ms) else {
        return Err(OpError::NoSuchKey);
    };
    // Redis deletes the destination and adds the source's object under the new name.
    drop(db.remove(dst, now_ms));
    db.set(dst, value, now_ms, false);
    restore_meta(db, dst, access, deadline_ms, now_ms);
    Ok(RenameOutcome::Renamed)
}

/// What RENAME did; Redis answers SameKey as OK / 0 without changing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameOutcome {
    Renamed,
    SameKey,
    DestinationExists,
}

/// Gives a key just added the access data and TTL it had under its old name or database.
fn restore_meta(
    db: &mut Db,
    key: &[u8],
    access: Option<u32>,
    deadline_ms: Option<u64>,
    now_ms: u64,
) {
    if let Some(a) = access {
        db.set_access_word(key, a, now_ms);
    }
    if let Some(d) = deadline_ms {
        // The deadline was live when taken at the same `now_ms`, so the key is still live.
        let stored = db.set_expire_at_ms(key, d, now_ms);
        debug_assert!(stored, "restore_meta: key vanished after set");
    }
}

/// Checks a DB index the way Redis's `getIntFromObjectOrReply` + `selectDb` do.
pub fn parse_db_index(arg: &[u8], dbs_len: usize) -> Result<usize, &'static str> {
    let n = arg_i64(arg).ok_or(ERR_NOT_INT)?;
    if i32::try_from(n).is_err() {
        return Err("ERR value is out of range, value must between -2147483648 and 2147483647");
    }
    usize::try_from(n)
        .ok()
        .filter(|&i| i < dbs_len)
        .ok_or(ERR_DB_RANGE)
}

/// What COPY did. The source lookup counts as a keyspace read: a miss for `NoSource`, a hit
/// otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyOutcome {
    Copied,
    NoSource,
    /// The destination exists and REPLACE was not given.
    DestinationExists,
}

/// COPY `src` of database `src_db` to `dst` of database `dst_db`, with its TTL.
pub fn op_copy(
    dbs: &mut [Db],
    (src_db, src): (usize, &[u8]),
    (dst_db, dst): (usize, &[u8]),
    replace: bool,
    now_ms: u64,
) -> Result<CopyOutcome, OpError> {
    if src_db == dst_db && src == dst {
        return Err(OpError::SameObject);
    }
    let from = dbs.get_mut(src_db).ok_or(OpError::DbRange)?;
    // lookupKeyRead: touches the source.
    let Some(value) = from.get(src, now_ms).cloned() else {
        return Ok(CopyOutcome::NoSource);
    };
    let deadline_ms = from.expire_at_ms(src, now_ms).flatten();
    let to = dbs.get_mut(dst_db).ok_or(OpError::DbRange)?;
    if to.get(dst, now_ms).is_some() {
        if !replace {
            return Ok(CopyOutcome::DestinationExists);
        }
        // Redis deletes the old destination, then adds a new object: fresh access data.
        drop(to.remove(dst, now_ms));
    }
    to.set(dst, value, now_ms, false);
    restore_meta(to, dst, None, deadline_ms, now_ms);
    Ok(CopyOutcome::Copied)
}

/// MOVE key to another database. Ok(true): moved; Ok(false): no such key, or the target
/// database has the key.
pub fn op_move(
    dbs: &mut [Db],
    src_db: usize,
    dst_db: usize,
    key: &[u8],
    now_ms: u64,
) -> Result<bool, OpError> {
    if src_db == dst_db {
        return Err(OpError::SameObject);
    }
    if dst_db >= dbs.len() {
        return Err(OpError::DbRange);
    }
    let from = dbs.get_mut(src_db).ok_or(OpError::DbRange)?;
    if from.get(key, now_ms).is_none() {
        return Ok(false);
    }
    let access = from.access_word(key, now_ms);
    if dbs[dst_db].get(key, now_ms).is_some() {
        return Ok(false);
    }
    let Some((value, deadline_ms)) = dbs[src_db].take(key, now_ms) else {
        return Ok(false);
    };
    let to = &mut dbs[dst_db];
    to.set(key, value, now_ms, false);
    restore_meta(to, key, access, deadline_ms, now_ms);
    Ok(true)
}

/// What OBJECT reports about a live key (looked up without touching).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    pub encoding: &'static str,
    /// Redis's refcount: shared small integers report i32::MAX, other values 1.
    pub refcount: i64,
}

/// OBJECT ENCODING / REFCOUNT. `shared_integers`: whether Redis would store small integers
/// as shared objects (maxmemory off, or a policy that is neither LRU nor LFU).
pub fn op_object(
    db: &mut Db,
    key: &[u8],
    shared_integers: bool,
    now_ms: u64,
) -> Option<ObjectInfo> {
    let v = db.peek(key, now_ms)?;
    Some(object_info(v, shared_integers))
}

/// OBJECT's figures of a value.
pub fn object_info(v: &Value, shared_integers: bool) -> ObjectInfo {
    // Redis's value objects are not shared except the integers 0..9999 that string
    // commands encode as `shared.integers[n]`; our Int values are that case.
    let refcount = match v {
        Value::Int(n) if shared_integers && (0..SHARED_INTEGERS).contains(n) => SHARED_REFCOUNT,
        _ => 1,
    };
    ObjectInfo {
        encoding: v.encoding(),
        refcount,
    }
}

// ---- commands ---------------------------------------------------------------------------

fn key_args<'a>(argv: &'a Argv<'a>) -> impl Iterator<Item = &'a [u8]> + 'a {
    argv.iter().skip(1)
}

/// DEL and UNLINK: each key that existed is deleted, named as modified and fires `del` in
/// turn, as Redis's delGenericCommand (keys found expired on the way fire `expired` between
/// them). `lazy`: large values are dropped on the lazy-free thread, small ones inline, as
/// Redis's dbAsyncDelete decides by the free effort.
fn del_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, unlink: bool) {
    // DEL frees in the background like UNLINK with `lazyfree-lazy-user-del`, and on the
    // loop thread without it, as Redis.
    let lazy = unlink || ctx.srv.config.lazyfree_lazy_user_del;
    let now_ms = ctx.now_ms;
    let i = ctx.db_index();
    let signals = ctx.srv.key_signals_wanted();
    let mut n = 0;
    for k in key_args(argv) {
        let srv = &mut *ctx.srv;
        let lazyfree = &srv.lazyfree;
        let removed = op_del(&mut srv.dbs[i], [k], now_ms, |_, v| {
            if lazy && v.element_count() > LAZYFREE_THRESHOLD {
                lazyfree.free(v);
            } else {
                crate::lazyfree::drop_inline(v);
            }
        });
        if removed == 0 {
            continue;
        }
        n += 1;
        if signals {
            ctx.modified(k);
        }
        ctx.notify(class::GENERIC, "del", k);
    }
    ctx.dirty(n as u64);
    ctx.reply.int(n as i64);
}

pub fn cmd_del(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    del_generic(ctx, argv, false);
}

pub fn cmd_unlink(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    del_generic(ctx, argv, true);
}

pub fn cmd_exists(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let mut n = 0;
    for k in key_args(argv) {
        let found = op_exists(ctx.db(), [k], now_ms) == 1;
        ctx.read_lookup(found, k);
        n += usize::from(found);
    }
    ctx.reply.int(n as i64);
}

pub fn cmd_touch(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let mut n = 0;
    for k in key_args(argv) {
        let found = op_touch(ctx.db(), [k], now_ms) == 1;
        ctx.read_lookup(found, k);
        n += usize::from(found);
    }
    ctx.reply.int(n as i64);
}

pub fn cmd_type(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let t = op_type(ctx.db(), argv.get(1), now_ms);
    ctx.read_lookup(t.is_some(), argv.get(1));
    ctx.reply.simple(t.map_or("none", ValueType::name));
}

pub fn cmd_keys(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let i = ctx.db_index();
    let db = &ctx.srv.dbs[i];
    let reply = &mut ctx.reply;
    let d = reply.defer();
    let mut n = 0;
    op_keys(db, argv.get(1), now_ms, |k| {
        reply.bulk(k);
        n += 1;
    });
    reply.finish_array(d, n, false);
}

fn parse_scan_opts<'a>(argv: &Argv<'a>) -> Result<ScanOpts<'a>, &'static str> {
    let mut opts = ScanOpts {
        count: SCAN_COUNT_DEFAULT,
        pattern: None,
        type_name: None,
    };
    let mut i = 2;
    while i < argv.len() {
        let opt = argv.get(i);
        let has_value = argv.len() - i >= 2;
        if arg_eq(opt, "count") && has_value {
            let n = arg_i64(argv.get(i + 1)).ok_or(ERR_NOT_INT)?;
            if n < 1 {
                return Err(ERR_SYNTAX);
            }
            opts.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if arg_eq(opt, "match") && has_value {
            let p = argv.get(i + 1);
            // "*" matches everything: Redis skips the matching then.
            opts.pattern = if p == b"*" { None } else { Some(p) };
        } else if arg_eq(opt, "type") && has_value {
            opts.type_name = Some(argv.get(i + 1));
        } else {
            return Err(ERR_SYNTAX);
        }
        i += 2;
    }
    Ok(opts)
}

pub fn cmd_scan(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(cursor) = parse_scan_cursor(argv.get(1)) else {
        return ctx.err("ERR invalid cursor");
    };
    let opts = match parse_scan_opts(argv) {
        Ok(o) => o,
        Err(e) => return ctx.err(e),
    };
    let now_ms = ctx.now_ms;
    let page = op_scan(ctx.db(), cursor, opts, now_ms);
    // Redis looks up each candidate with lookupKeyRead to learn its type: a hit for a live
    // key. A key past its deadline that passed MATCH is deleted there (`expired`), by the
    // TYPE filter's lookup (which then misses: `keymiss`) or else by the expiry filter.
    ctx.srv.stats.keyspace_hits += page.type_lookups;
    for k in &page.expired {
        let reaped = !ctx.db().contains(k, now_ms);
        debug_assert!(reaped, "SCAN: an expired key was live");
        if opts.type_name.is_some() {
            ctx.miss(k);
        }
    }
    let r = &mut ctx.reply;
    r.array(2);
    r.bulk(itoa::Buffer::new().format(page.cursor).as_bytes());
    r.array(page.keys.len());
    for k in &page.keys {
        r.bulk(k);
    }
}

pub fn cmd_randomkey(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let replica = crate::repl::replica::is_replica(ctx.srv);
    match ctx.db().random_key(now_ms, replica) {
        Some(k) => ctx.reply.bulk(&k),
        None => ctx.reply.null(),
    }
}

fn rename_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, nx: bool) {
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark();
    match op_rename(ctx.db(), argv.get(1), argv.get(2), nx, now_ms) {
        Err(e) => ctx.err(e.message()),
        Ok(RenameOutcome::Renamed) => {
            // Redis adds the destination (`new`, even over an existing key, which it deletes
            // first), then names both ends.
            ctx.notify_new_since(mark, argv.get(2));
            ctx.notify(class::GENERIC, "rename_from", argv.get(1));
            ctx.notify(class::GENERIC, "rename_to", argv.get(2));
            ctx.dirty(1);
            if nx {
                ctx.reply.int(1);
            } else {
                ctx.reply.ok();
            }
        }
        Ok(RenameOutcome::SameKey) if !nx => ctx.reply.ok(),
        Ok(RenameOutcome::SameKey | RenameOutcome::DestinationExists) => ctx.reply.int(0),
    }
}

pub fn cmd_rename(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    rename_generic(ctx, argv, false);
}

pub fn cmd_renamenx(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    rename_generic(ctx, argv, true);
}

pub fn cmd_copy(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let src_db = ctx.db_index();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < argv.len() {
        let opt = argv.get(i);
        if arg_eq(opt, "replace") {
            replace = true;
        } else if arg_eq(opt, "db") && i + 1 < argv.len() {
            match parse_db_index(argv.get(i + 1), ctx.srv.dbs.len()) {
                Ok(d) => dst_db = d,
                Err(e) => return ctx.err(e),
            }
            i += 1;
        } else {
            return ctx.syntax_error();
        }
        i += 1;
    }
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark_db(dst_db);
    match op_copy(
        &mut ctx.srv.dbs,
        (src_db, argv.get(1)),
        (dst_db, argv.get(2)),
        replace,
        now_ms,
    ) {
        Err(e) => ctx.err(e.message()),
        Ok(outcome) => {
            ctx.read_lookup(outcome != CopyOutcome::NoSource, argv.get(1));
            if outcome == CopyOutcome::Copied {
                ctx.notify_new_since_db(dst_db, mark, argv.get(2));
                ctx.notify_db(dst_db, class::GENERIC, "copy_to", argv.get(2));
                ctx.dirty(1);
                ctx.modified_db(dst_db, argv.get(2));
                ctx.reply.int(1);
            } else {
                ctx.reply.int(0);
            }
        }
    }
}

pub fn cmd_move(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let dst_db = match parse_db_index(argv.get(2), ctx.srv.dbs.len()) {
        Ok(d) => d,
        Err(e) => return ctx.err(e),
    };
    let src_db = ctx.db_index();
    let now_ms = ctx.now_ms;
    let mark = ctx.new_mark_db(dst_db);
    match op_move(&mut ctx.srv.dbs, src_db, dst_db, argv.get(1), now_ms) {
        Err(e) => ctx.err(e.message()),
        Ok(moved) => {
            if moved {
                ctx.notify_new_since_db(dst_db, mark, argv.get(1));
                ctx.notify_db(src_db, class::GENERIC, "move_from", argv.get(1));
                ctx.notify_db(dst_db, class::GENERIC, "move_to", argv.get(1));
                ctx.dirty(1);
                ctx.modified_db(src_db, argv.get(1));
                ctx.modified_db(dst_db, argv.get(1));
            }
            ctx.reply.int(i64::from(moved));
        }
    }
}

// ---- OBJECT -----------------------------------------------------------------------------

fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    ctx.srv.config.maxmemory_policy.is_lfu()
}

/// Redis's MAXMEMORY_FLAG_NO_SHARED_INTEGERS: with a memory limit and an LRU or LFU policy
/// each value carries its own access data, so small integers are not shared.
pub(super) fn shared_integers(ctx: &Ctx<'_>) -> bool {
    let p = ctx.srv.config.maxmemory_policy;
    ctx.srv.config.maxmemory_bytes == 0 || !(p.is_lru() || p.is_lfu())
}

/// The lookup every OBJECT subcommand starts with: no touch, counts a hit or miss (a miss
/// fires no `keymiss`: Redis looks up with LOOKUP_NONOTIFY), and answers null for a
/// missing key (before any policy check).
fn object_lookup(ctx: &mut Ctx<'_>, key: &[u8]) -> Option<ObjectInfo> {
    let shared = shared_integers(ctx);
    let now_ms = ctx.now_ms;
    let info = op_object(ctx.db(), key, shared, now_ms);
    if info.is_some() {
        ctx.hit();
    } else {
        ctx.srv.stats.keyspace_misses += 1;
        ctx.reply.null();
    }
    info
}

pub fn cmd_object_encoding(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if let Some(info) = object_lookup(ctx, argv.get(2)) {
        ctx.reply.bulk(info.encoding.as_bytes());
    }
}

pub fn cmd_object_refcount(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if let Some(info) = object_lookup(ctx, argv.get(2)) {
        ctx.reply.int(info.refcount);
    }
}

pub fn cmd_object_idletime(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if object_lookup(ctx, argv.get(2)).is_none() {
        return;
    }
    if lfu_policy(ctx) {
        return ctx.err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    let now_ms = ctx.now_ms;
    let idle_s = ctx.db().idle_seconds(argv.get(2), now_ms).unwrap_or(0);
    ctx.reply.int(i64::try_from(idle_s).unwrap_or(i64::MAX));
}

pub fn cmd_object_freq(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if object_lookup(ctx, argv.get(2)).is_none() {
        return;
    }
    if !lfu_policy(ctx) {
        return ctx.err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    let now_ms = ctx.now_ms;
    let freq = ctx.db().lfu_freq(argv.get(2), now_ms).unwrap_or(0);
    ctx.reply.int(i64::from(freq));
}

pub fn cmd_object_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    ctx.help(LINES);
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: u64 = 1_700_000_000_000;

    fn s(v: &str) -> Value {
        Value::from_bytes(v.as_bytes())
    }

    fn dbs(n: usize) -> Vec<Db> {
        (0..n).map(|_| Db::new()).collect()
    }

    fn keys_of(db: &Db) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        op_keys(db, b"*", NOW_MS, |k| out.push(k.to_vec()));
        out.sort();
        out
    }

    #[test]
    fn del_exists_touch_count_like_redis() {
        let mut db = Db::new();
        db.set(b"a", s("1"), NOW_MS, false);
        db.set(b"b", s("x"), NOW_MS, false);
        assert_eq!(
            op_exists(&mut db, [&b"a"[..], b"a", b"b", b"zz"], NOW_MS),
            3
        );
        assert_eq!(op_touch(&mut db, [&b"a"[..], b"a", b"zz"], NOW_MS), 2);
        let mut freed = 0;
        assert_eq!(
            op_del(&mut db, [&b"a"[..], b"a", b"zz"], NOW_MS, |_, _| freed += 1),
            1
        );
        assert_eq!(freed, 1);
        assert_eq!(op_type(&mut db, b"a", NOW_MS), None);
        assert_eq!(op_type(&mut db, b"b", NOW_MS), Some(ValueType::String));
        db.check_invariants();
    }

    #[test]
    fn expired_keys_are_invisible() {
        let mut db = Db::new();
        db.set(b"a", s("1"), NOW_MS, false);
        db.set(b"b", s("1"), NOW_MS, false);
        db.set_expire_at_ms(b"a", NOW_MS + 10, NOW_MS);
        let later = NOW_MS + 11;
        let mut seen = Vec::new();
        op_keys(&db, b"*", later, |k| seen.push(k.to_vec()));
        assert_eq!(seen, vec![b"b".to_vec()]);
        assert_eq!(op_exists(&mut db, [&b"a"[..]], later), 0);
        assert_eq!(
            op_rename(&mut db, b"a", b"c", false, later),
            Err(OpError::NoSuchKey)
        );
        db.check_invariants();
    }

    #[test]
    fn keys_pattern() {
        let mut db = Db::new();
        for k in ["hello", "hallo", "hxllo", "world"] {
            db.set(k.as_bytes(), s("v"), NOW_MS, false);
        }
        let mut seen = Vec::new();
        op_keys(&db, b"h[ae]llo", NOW_MS, |k| {
            seen.push(String::from_utf8_lossy(k).into_owned())
        });
        seen.sort();
        assert_eq!(seen, ["hallo", "hello"]);
    }

    #[test]
    fn scan_visits_every_key_once_with_filters() {
        let mut db = Db::new();
        for i in 0..500 {
            db.set(format!("key:{i}").as_bytes(), s("v"), NOW_MS, false);
        }
        for i in 0..50 {
            db.set(format!("other:{i}").as_bytes(), s("v"), NOW_MS, false);
        }
        let mut cursor = 0;
        let mut seen = std::collections::HashSet::new();
        let opts = ScanOpts {
            count: 7,
            pattern: Some(b"other:*"),
            type_name: Some(b"STRING"),
        };
        // A full iteration takes a bounded number of calls.
        for _ in 0..10_000 {
            let page = op_scan(&mut db, cursor, opts, NOW_MS);
            for k in page.keys {
                assert!(k.starts_with(b"other:"));
                seen.insert(k);
            }
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(cursor, 0);
        assert_eq!(seen.len(), 50);
        let page = op_scan(
            &mut db,
            0,
            ScanOpts {
                count: 1000,
                pattern: None,
                type_name: Some(b"list"),
            },
            NOW_MS,
        );
        assert!(page.keys.is_empty());
        assert!(page.type_lookups > 0);
    }

    #[test]
    fn rename_keeps_ttl_and_overwrites() {
        let mut db = Db::new();
        db.set(b"a", s("va"), NOW_MS, false);
        db.set(b"b", s("vb"), NOW_MS, false);
        db.set_expire_at_ms(b"a", NOW_MS + 5000, NOW_MS);
        db.set_expire_at_ms(b"b", NOW_MS + 9000, NOW_MS);
        assert_eq!(
            op_rename(&mut db, b"a", b"a", true, NOW_MS),
            Ok(RenameOutcome::SameKey)
        );
        assert_eq!(
            op_rename(&mut db, b"a", b"b", true, NOW_MS),
            Ok(RenameOutcome::DestinationExists)
        );
        assert_eq!(
            op_rename(&mut db, b"a", b"b", false, NOW_MS),
            Ok(RenameOutcome::Renamed)
        );
        assert_eq!(db.peek(b"b", NOW_MS), Some(&s("va")));
        assert_eq!(db.expire_at_ms(b"b", NOW_MS), Some(Some(NOW_MS + 5000)));
        assert_eq!(db.expire_at_ms(b"a", NOW_MS), None);
        assert_eq!(
            op_rename(&mut db, b"zz", b"zz", false, NOW_MS),
            Err(OpError::NoSuchKey)
        );
        // Renaming onto a key with a TTL, from one without: the result has no TTL.
        db.set(b"c", s("vc"), NOW_MS, false);
        assert_eq!(
            op_rename(&mut db, b"c", b"b", true, NOW_MS),
            Ok(RenameOutcome::DestinationExists)
        );
        assert_eq!(
            op_rename(&mut db, b"c", b"b", false, NOW_MS),
            Ok(RenameOutcome::Renamed)
        );
        assert_eq!(db.expire_at_ms(b"b", NOW_MS), Some(None));
        assert_eq!(keys_of(&db), vec![b"b".to_vec()]);
        db.check_invariants();
    }

    #[test]
    fn rename_and_move_keep_lfu_counter() {
        let mut all = dbs(2);
        for db in &mut all {
            db.set_access_params(crate::keyspace::AccessParams {
                lfu: true,
                ..Default::default()
            });
        }
        all[0].set(b"a", s("v"), NOW_MS, false);
        for _ in 0..200 {
            all[0].get(b"a", NOW_MS);
        }
        let before = all[0].lfu_freq(b"a", NOW_MS).unwrap_or(0);
        assert!(before > 5);
        assert_eq!(
            op_rename(&mut all[0], b"a", b"b", false, NOW_MS),
            Ok(RenameOutcome::Renamed)
        );
        let after = all[0].lfu_freq(b"b", NOW_MS).unwrap_or(0);
        // The lookup for writing may add one more increment.
        assert!(
            after == before || after == before + 1,
            "{before} -> {after}"
        );
        assert_eq!(op_move(&mut all, 0, 1, b"b", NOW_MS), Ok(true));
        let moved = all[1].lfu_freq(b"b", NOW_MS).unwrap_or(0);
        assert!(moved >= after && moved <= after + 1, "{after} -> {moved}");
    }

    #[test]
    fn copy_semantics() {
        let mut all = dbs(3);
        all[0].set(b"a", s("va"), NOW_MS, false);
        all[0].set_expire_at_ms(b"a", NOW_MS + 7000, NOW_MS);
        all[0].set(b"b", s("vb"), NOW_MS, false);
        let copy =
            |all: &mut Vec<Db>, (sd, sk): (usize, &[u8]), (dd, dk): (usize, &[u8]), replace| {
                op_copy(all, (sd, sk), (dd, dk), replace, NOW_MS)
            };
        assert_eq!(
            copy(&mut all, (0, b"a"), (0, b"a"), false),
            Err(OpError::SameObject)
        );
        assert_eq!(
            copy(&mut all, (0, b"zz"), (0, b"zz"), false),
            Err(OpError::SameObject)
        );
        assert_eq!(
            copy(&mut all, (0, b"zz"), (0, b"c"), false),
            Ok(CopyOutcome::NoSource)
        );
        assert_eq!(
            copy(&mut all, (0, b"a"), (0, b"b"), false),
            Ok(CopyOutcome::DestinationExists)
        );
        assert_eq!(all[0].peek(b"b", NOW_MS), Some(&s("vb")));
        assert_eq!(
            copy(&mut all, (0, b"a"), (0, b"b"), true),
            Ok(CopyOutcome::Copied)
        );
        assert_eq!(all[0].peek(b"b", NOW_MS), Some(&s("va")));
        assert_eq!(all[0].expire_at_ms(b"b", NOW_MS), Some(Some(NOW_MS + 7000)));
        // Same name, other database: allowed.
        assert_eq!(
            copy(&mut all, (0, b"a"), (2, b"a"), false),
            Ok(CopyOutcome::Copied)
        );
        assert_eq!(all[2].expire_at_ms(b"a", NOW_MS), Some(Some(NOW_MS + 7000)));
        assert_eq!(all[0].peek(b"a", NOW_MS), Some(&s("va")));
        for db in &all {
            db.check_invariants();
        }
    }

    #[test]
    fn move_semantics() {
        let mut all = dbs(2);
        all[0].set(b"a", s("va"), NOW_MS, false);
        all[0].set_expire_at_ms(b"a", NOW_MS + 3000, NOW_MS);
        all[0].set(b"b", s("vb"), NOW_MS, false);
        all[1].set(b"b", s("other"), NOW_MS, false);
        assert_eq!(
            op_move(&mut all, 0, 0, b"a", NOW_MS),
            Err(OpError::SameObject)
        );
        assert_eq!(
            op_move(&mut all, 0, 0, b"zz", NOW_MS),
            Err(OpError::SameObject)
        );
        assert_eq!(op_move(&mut all, 0, 1, b"zz", NOW_MS), Ok(false));
        assert_eq!(op_move(&mut all, 0, 1, b"b", NOW_MS), Ok(false));
        assert_eq!(all[0].peek(b"b", NOW_MS), Some(&s("vb")));
        assert_eq!(op_move(&mut all, 0, 1, b"a", NOW_MS), Ok(true));
        assert_eq!(all[0].peek(b"a", NOW_MS), None);
        assert_eq!(all[1].peek(b"a", NOW_MS), Some(&s("va")));
        assert_eq!(all[1].expire_at_ms(b"a", NOW_MS), Some(Some(NOW_MS + 3000)));
        for db in &all {
            db.check_invariants();
        }
    }

    #[test]
    fn db_index_parsing() {
        assert_eq!(parse_db_index(b"3", 16), Ok(3));
        assert_eq!(parse_db_index(b"16", 16), Err(ERR_DB_RANGE));
        assert_eq!(parse_db_index(b"-1", 16), Err(ERR_DB_RANGE));
        assert_eq!(parse_db_index(b"abc", 16), Err(ERR_NOT_INT));
        assert_eq!(
            parse_db_index(b"99999999999999999999", 16),
            Err(ERR_NOT_INT)
        );
        assert!(parse_db_index(b"2147483648", 16)
            .is_err_and(|e| e.starts_with("ERR value is out of range")));
    }

    #[test]
    fn object_info() {
        let mut db = Db::new();
        db.set(b"i", s("5"), NOW_MS, false);
        db.set(b"big", s("123456"), NOW_MS, false);
        db.set(b"e", s("hello"), NOW_MS, false);
        db.set(b"r", s(&"x".repeat(50)), NOW_MS, false);
        let info = |db: &mut Db, k: &[u8], shared| op_object(db, k, shared, NOW_MS);
        assert_eq!(
            info(&mut db, b"i", true),
            Some(ObjectInfo {
                encoding: "int",
                refcount: SHARED_REFCOUNT
            })
        );
        assert_eq!(
            info(&mut db, b"i", false),
            Some(ObjectInfo {
                encoding: "int",
                refcount: 1
            })
        );
        assert_eq!(
            info(&mut db, b"big", true),
            Some(ObjectInfo {
                encoding: "int",
                refcount: 1
            })
        );
        assert_eq!(
            info(&mut db, b"e", true),
            Some(ObjectInfo {
                encoding: "embstr",
                refcount: 1
            })
        );
        assert_eq!(
            info(&mut db, b"r", true),
            Some(ObjectInfo {
                encoding: "raw",
                refcount: 1
            })
        );
        assert_eq!(info(&mut db, b"zz", true), None);
    }
}
