//! Stream commands, as Redis 7.0's `t_stream.c` does them, on the type in `types::stream`:
//! XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID; the consumer groups (XGROUP and its
//! subcommands, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM); XREAD; XINFO. Blocking reads
//! go through `cmd::blocking::block` with `serve_blocked` as their serve function.
//!
//! Invariants kept here, all taken from Redis 7.0 (and checked against redis-server 7.0.15 by
//! tests/streams.rs):
//! - A stream key exists until deleted: XDEL and XTRIM may leave it empty; only XADD (without
//!   NOMKSTREAM) and XGROUP CREATE … MKSTREAM create one.
//! - IDs are parsed as `streamGenericParseIDOrReply` does (`string2ull` on each side of the
//!   first `-`, `-`/`+` only where not strict, `ms-*` only in XADD); every ID argument is
//!   checked before anything is changed; arguments, key lookups (hits, misses, `keymiss`) and
//!   errors come in Redis's order (XAUTOCLAIM and XCLAIM look the key up first).
//! - Propagation states what a replica must do to reach the same state, as Redis 7.0 does:
//!   XADD with the ID it generated and `~` trims rewritten as `=` with the exact MAXLEN/MINID
//!   reached; XREADGROUP, XCLAIM and XAUTOCLAIM as one `XCLAIM … FORCE JUSTID LASTID` per
//!   pending entry created, moved or dropped (plus `XGROUP SETID … ENTRIESREAD` where Redis
//!   sends it, and `XGROUP CREATECONSUMER` for a NOACK reader's new consumer); nothing else.
//! - Only the writes Redis signals touch WATCH and client tracking (XADD, XTRIM/XDEL that
//!   removed entries, XGROUP CREATE that created the stream); XSETID and the group bookkeeping
//!   do not (`no_key_signal`). XGROUP DESTROY wakes blocked readers without signalling.
//! - Keyspace events in `t_stream.c`'s places: `new` before XADD's reply, `xadd` and then
//!   `xtrim` after it; `xtrim`, `xdel`, `xsetid`, `xgroup-*` where the change happens;
//!   `xgroup-createconsumer` when XREADGROUP, XCLAIM or XAUTOCLAIM create a consumer.
//! - Times stamped into groups (delivery, seen) are wall-clock ms (`clock_ms`), also during an
//!   AOF replay, when the loop's clock reads 0.

use super::args::{arg_i64, c_str, opt_is};
use super::error::{ERR_NOT_INT, ERR_NO_KEY, ERR_SYNTAX, ERR_WRONGTYPE};
use super::Ctx;
use crate::blocking::{Request, Serve, StreamWait};
use crate::keyspace::value::{Value, ValueType};
use crate::keyspace::Db;
use crate::notify::class;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::types::list::End;
use crate::types::stream::{
    Consumer, Entry, Group, Nack, Stream, StreamId, Trim, ENTRIES_READ_INVALID,
};

pub const ERR_INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// Redis's `string2ull`: a strict decimal integer that is not negative, else what `strtoull`
/// accepts in full (blanks, a sign, leading zeros; a `-` negates modulo 2^64).
pub fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = arg_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = i;
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add(u64::from(s[i] - b'0'))?;
        i += 1;
    }
    if i == digits || i != s.len() {
        return None;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A parsed ID argument: the ID and whether its sequence was given (false for `ms-*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedId {
    pub id: StreamId,
    pub seq_given: bool,
}

/// `streamGenericParseIDOrReply`: `missing_seq` fills `ms` alone; `strict` refuses `-` and
/// `+`; `seq_star` accepts `ms-*`.
pub fn parse_id(arg: &[u8], missing_seq: u64, strict: bool, seq_star: bool) -> Option<ParsedId> {
    if arg.len() > 127 {
        return None;
    }
    let a = c_str(arg);
    if a == b"-" || a == b"+" {
        if strict {
            return None;
        }
        let id = if a == b"-" {
            StreamId::ZERO
        } else {
            StreamId::MAX
        };
        return Some(ParsedId {
            id,
            seq_given: true,
        });
    }
    let (ms_part, seq_part) = match memchr::memchr(b'-', a) {
        Some(i) => (&a[..i], Some(&a[i + 1..])),
        None => (a, None),
    };
    let ms = string2ull(ms_part)?;
    let (seq, seq_given) = match seq_part {
        Some(b"*") if seq_star => (0, false),
        Some(s) => (string2ull(s)?, true),
        None => (missing_seq, true),
    };
    Some(ParsedId {
        id: StreamId::new(ms, seq),
        seq_given,
    })
}

/// A strict ID with sequence 0 when missing (`streamParseStrictIDOrReply`).
pub fn parse_strict_id(arg: &[u8]) -> Option<StreamId> {
    parse_id(arg, 0, true, false).map(|p| p.id)
}

pub fn reply_id(r: &mut Reply<'_>, id: StreamId) {
    r.bulk(id.text_in(&mut [0; 41]));
}

/// One entry: `[id, [field, value, ...]]`.
pub fn reply_entry(r: &mut Reply<'_>, e: &Entry) {
    r.array(2);
    reply_id(r, e.id);
    r.array(e.fields.len() * 2);
    for (f, v) in &e.fields {
        r.bulk(f);
        r.bulk(v);
    }
}

pub fn reply_entries(r: &mut Reply<'_>, entries: &[Entry]) {
    r.array(entries.len());
    for e in entries {
        reply_entry(r, e);
    }
}

/// The stream at `key`: Ok(None) if missing, an error if the key holds another type.
pub fn op_stream<'d>(
    db: &'d mut Db,
    key: &[u8],
    now_ms: u64,
) -> Result<Option<&'d mut Stream>, &'static str> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(ERR_WRONGTYPE),
    }
}

/// `op_stream` without the touch, for a key the command has already looked up once (Redis
/// touches a key once per lookup; a command here that checks the key and then works on it
/// looks it up twice).
fn stream_again<'d>(db: &'d mut Db, key: &[u8], now_ms: u64) -> Option<&'d mut Stream> {
    match db.peek_mut(key, now_ms) {
        Some(Value::Stream(s)) => Some(s),
        _ => None,
    }
}

/// The time stream commands stamp (delivery and seen times, `*` IDs): the loop's clock,
/// except while an AOF is replayed, when that clock reads 0 so that nothing expires, and
/// these wall-clock stamps read the wall clock instead (as Redis's do).
fn clock_ms(ctx: &Ctx<'_>) -> u64 {
    if ctx.srv.loading && ctx.now_ms == 0 {
        crate::util::unix_ms()
    } else {
        ctx.now_ms
    }
}

fn node_limits(ctx: &Ctx<'_>) -> (usize, usize) {
    (
        ctx.srv.config.stream_node_max_bytes,
        ctx.srv.config.stream_node_max_entries,
    )
}

/// What XADD's and XTRIM's options asked for (`streamAddTrimArgs`).
#[derive(Default)]
struct AddTrimArgs {
    trim: Option<Trim>,
    approx: bool,
    /// 0: no limit.
    limit: u64,
    /// Index of the MAXLEN/MINID value (the `~`/`=` is just before it when given).
    trim_arg: usize,
    /// Whether a `~` or `=` was written (so there is an argument to rewrite as `=`).
    trim_op_given: bool,
    id: Option<ParsedId>,
    nomkstream: bool,
}

/// `streamParseAddOrTrimArgsOrReply`: the options from index 2; for XADD stops at the ID and
/// returns its index.
fn parse_add_trim(
    ctx: &Ctx<'_>,
    argv: &Argv<'_>,
    xadd: bool,
) -> Result<(AddTrimArgs, usize), &'static str> {
    let mut a = AddTrimArgs::default();
    let mut limit_given = false;
    let mut i = 2;
    let argc = argv.len();
    while i < argc {
        let moreargs = argc - 1 - i;
        let opt = argv.get(i);
        if xadd && c_str(opt) == b"*" {
            break;
        } else if (opt_is(opt, "maxlen") || opt_is(opt, "minid")) && moreargs > 0 {
            let maxlen = opt_is(opt, "maxlen");
            if a.trim.is_some() {
                return Err(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                );
            }
            a.approx = false;
            a.trim_op_given = false;
            let next = c_str(argv.get(i + 1));
            if moreargs >= 2 && next == b"~" {
                a.approx = true;
                a.trim_op_given = true;
                i += 1;
            } else if moreargs >= 2 && next == b"=" {
                a.trim_op_given = true;
                i += 1;
            }
            if maxlen {
                let n = arg_i64(argv.get(i + 1)).ok_or(ERR_NOT_INT)?;
                if n < 0 {
                    return Err("ERR The MAXLEN argument must be >= 0.");
                }
                a.trim = Some(Trim::MaxLen(n as u64));
            } else {
                let id = parse_strict_id(argv.get(i + 1)).ok_or(ERR_INVALID_ID)?;
                a.trim = Some(Trim::MinId(id));
            }
            i += 1;
            a.trim_arg = i;
        } else if opt_is(opt, "limit") && moreargs > 0 {
            let n = arg_i64(argv.get(i + 1)).ok_or(ERR_NOT_INT)?;
            if n < 0 {
                return Err("ERR The LIMIT argument must be >= 0.");
            }
            a.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && opt_is(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            a.id = Some(parse_id(opt, 0, true, true).ok_or(ERR_INVALID_ID)?);
            break;
        } else {
            return Err(ERR_SYNTAX);
        }
        i += 1;
    }
    if a.limit != 0 && a.trim.is_none() {
        return Err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        );
    }
    if !xadd && a.trim.is_none() {
        return Err("ERR syntax error, XTRIM must be called with a trimming strategy");
    }
    if ctx.srv.loading {
        // The AOF's trimming arguments were rewritten to be exact: no limit applies.
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            return Err("ERR syntax error, LIMIT cannot be used without the special ~ option");
        }
    } else if a.approx {
        let n = 100u64.saturating_mul(ctx.srv.config.stream_node_max_entries as u64);
        a.limit = if n == 0 || n > 10_000 { 10_000 } else { n };
    } else {
        a.limit = 0;
    }
    Ok((a, i))
}

/// The argv to propagate after `~` trimming: `~` as `=` and the trim value as the exact one
/// the trim reached (`streamRewriteApproxSpecifier`, `streamRewriteTrimArgument`).
fn rewrite_trim(args: &mut [Vec<u8>], a: &AddTrimArgs, s: &Stream) {
    if a.trim_op_given {
        args[a.trim_arg - 1] = b"=".to_vec();
    }
    args[a.trim_arg] = match a.trim {
        Some(Trim::MaxLen(_)) => itoa::Buffer::new().format(s.len()).as_bytes().to_vec(),
        _ => s.edge_id(true, false).to_text(),
    };
}

// ---------------------------------------------------------------------------------------------
// XADD XTRIM XDEL XSETID XLEN XRANGE XREVRANGE

pub fn cmd_xadd(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (a, idpos) = match parse_add_trim(ctx, argv, true) {
        Ok(x) => x,
        Err(e) => return ctx.err(e),
    };
    let field_pos = idpos + 1;
    let nargs = argv.len().saturating_sub(field_pos);
    if nargs < 2 || nargs % 2 == 1 {
        return ctx.err("ERR wrong number of arguments for 'xadd' command");
    }
    if let Some(p) = a.id {
        if p.seq_given && p.id.is_zero() {
            return ctx.err("ERR The ID specified in XADD must be greater than 0-0");
        }
    }
    let key = argv.get(1);
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    let (max_bytes, max_entries) = node_limits(ctx);
    let mark = ctx.new_mark();
    let journaling = ctx.journaling();
    let db = ctx.db();
    match op_stream(db, key, now_ms) {
        Err(e) => return ctx.err(e),
        Ok(None) if a.nomkstream => return ctx.reply.null(),
        Ok(None) => {
            db.set(key, Value::Stream(Box::default()), now_ms, false);
        }
        Ok(Some(_)) => {}
    }
    ctx.notify_new_since(mark, key);
    let Some(s) = stream_again(ctx.db(), key, now_ms) else {
        return;
    };
    if s.last_id == StreamId::MAX {
        return ctx
            .err("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    let id = match a.id {
        None => {
            // The loop turn's clock stands for Redis's mstime().
            let ms = clock;
            if ms > s.last_id.ms {
                Some(StreamId::new(ms, 0))
            } else {
                s.last_id.incr()
            }
        }
        Some(p) if p.seq_given => Some(p.id),
        Some(p) if p.id.ms == s.last_id.ms => s.last_id.incr().filter(|i| i.ms == p.id.ms),
        Some(p) => Some(p.id),
    };
    let Some(id) = id.filter(|id| *id > s.last_id) else {
        return ctx.err(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        );
    };
    let pairs: Vec<&[u8]> = (field_pos..argv.len()).map(|j| argv.get(j)).collect();
    s.append(id, &pairs, max_bytes, max_entries);
    let trimmed = a.trim.map(|t| s.trim(t, a.approx, a.limit));
    // The effect as Redis propagates it (the ID it chose, `~` made exact), built only when
    // the journal records it: without an AOF or replicas this copy was a sixth of XADD.
    let args = journaling.then(|| {
        let mut args: Vec<Vec<u8>> = argv.iter().map(<[u8]>::to_vec).collect();
        if a.approx {
            rewrite_trim(&mut args, &a, s);
        }
        if a.id.is_none_or(|p| !p.seq_given) {
            args[idpos] = id.to_text();
        }
        args
    });
    reply_id(&mut ctx.reply, id);
    ctx.notify(class::STREAM, "xadd", key);
    if trimmed.is_some_and(|n| n > 0) {
        ctx.notify(class::STREAM, "xtrim", key);
    }
    ctx.dirty(1);
    if let Some(args) = args {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        ctx.propagate(&refs);
    }
    ctx.modified(key);
}

pub fn cmd_xtrim(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (a, _) = match parse_add_trim(ctx, argv, false) {
        Ok(x) => x,
        Err(e) => return ctx.err(e),
    };
    let key = argv.get(1);
    let now_ms = ctx.now_ms;
    let s = match op_stream(ctx.db(), key, now_ms) {
        Err(e) => return ctx.err(e),
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(s)) => s,
    };
    let deleted = match a.trim {
        Some(t) => s.trim(t, a.approx, a.limit),
        None => 0,
    };
    if deleted > 0 {
        let mut args: Vec<Vec<u8>> = argv.iter().map(<[u8]>::to_vec).collect();
        if a.approx {
            rewrite_trim(&mut args, &a, s);
        }
        ctx.notify(class::STREAM, "xtrim", key);
        ctx.dirty(deleted);
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        ctx.propagate(&refs);
        ctx.modified(key);
    }
    ctx.reply.int(deleted as i64);
}

pub fn cmd_xdel(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let key = argv.get(1);
    let now_ms = ctx.now_ms;
    match op_stream(ctx.db(), key, now_ms) {
        Err(e) => return ctx.err(e),
        Ok(None) => return ctx.reply.int(0),
        Ok(Some(_)) => {}
    }
    let mut ids = Vec::with_capacity(argv.len() - 2);
    for j in 2..argv.len() {
        match parse_strict_id(argv.get(j)) {
            Some(id) => ids.push(id),
            None => return ctx.err(ERR_INVALID_ID),
        }
    }
    let Some(s) = stream_again(ctx.db(), key, now_ms) else {
        return;
    };
    let mut deleted = 0u64;
    let mut first_entry = false;
    for id in ids {
        if s.delete(id) {
            if id == s.first_id {
                first_entry = true;
            }
            if id > s.max_deleted_id {
                s.max_deleted_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.is_empty() {
            s.first_id = StreamId::ZERO;
        } else if first_entry {
            s.first_id = s.edge_id(true, true);
        }
        ctx.notify(class::STREAM, "xdel", key);
        ctx.dirty(deleted);
    }
    ctx.reply.int(deleted as i64);
}

pub fn cmd_xsetid(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(id) = parse_strict_id(argv.get(2)) else {
        return ctx.err(ERR_INVALID_ID);
    };
    let mut entries_added: Option<u64> = None;
    let mut max_xdel = StreamId::ZERO;
    let mut i = 3;
    while i < argv.len() {
        let moreargs = argv.len() - 1 - i;
        let opt = argv.get(i);
        if opt_is(opt, "ENTRIESADDED") && moreargs > 0 {
            match arg_i64(argv.get(i + 1)) {
                None => return ctx.err(ERR_NOT_INT),
                Some(n) if n < 0 => return ctx.err("ERR entries_added must be positive"),
                Some(n) => entries_added = Some(n as u64),
            }
            i += 2;
        } else if opt_is(opt, "MAXDELETEDID") && moreargs > 0 {
            let Some(m) = parse_strict_id(argv.get(i + 1)) else {
                return ctx.err(ERR_INVALID_ID);
            };
            if id < m {
                return ctx.err(
                    "ERR The ID specified in XSETID is smaller than the provided \
                     max_deleted_entry_id",
                );
            }
            max_xdel = m;
            i += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    let key = argv.get(1);
    let now_ms = ctx.now_ms;
    let s = match op_stream(ctx.db(), key, now_ms) {
        Err(e) => return ctx.err(e),
        Ok(None) => return ctx.err(ERR_NO_KEY),
        Ok(Some(s)) => s,
    };
    if !s.is_empty() {
        if id < s.edge_id(false, true) {
            return ctx
                .err("ERR The ID specified in XSETID is smaller than the target stream top item");
        }
        if entries_added.is_some_and(|n| s.len() > n) {
            return ctx.err(
                "ERR The entries_added specified in XSETID is smaller than the target stream \
                 length",
            );
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_id = max_xdel;
    }
    no_key_signal(ctx);
    ctx.reply.ok();
    ctx.notify_unsignalled(class::STREAM, "xsetid", key);
    ctx.dirty(1);
}

/// Runs a read command on the stream at `key`: counts the hit or miss, answers WRONGTYPE or
/// `missing` itself, and calls `found` otherwise.
fn read_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    missing: impl FnOnce(&mut Reply<'_>),
    found: impl FnOnce(&mut Stream, &mut Reply<'_>),
) {
    let now_ms = ctx.now_ms;
    let (db, reply) = super::args::parts(ctx);
    match op_stream(db, key, now_ms) {
        Ok(Some(s)) => found(s, reply),
        Ok(None) => {
            ctx.miss(key);
            return missing(&mut ctx.reply);
        }
        Err(e) => reply.error(e),
    }
    ctx.hit();
}

pub fn cmd_xlen(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    read_generic(ctx, argv.get(1), |r| r.int(0), |s, r| r.int(s.len() as i64));
}

/// XRANGE / XREVRANGE (`xrangeGenericCommand`).
fn xrange_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, rev: bool) {
    let (mut startarg, mut endarg) = (argv.get(2), argv.get(3));
    if rev {
        std::mem::swap(&mut startarg, &mut endarg);
    }
    let startex = startarg.len() > 1 && startarg[0] == b'(';
    if startex {
        startarg = &startarg[1..];
    }
    let endex = endarg.len() > 1 && endarg[0] == b'(';
    if endex {
        endarg = &endarg[1..];
    }
    let Some(start) = parse_id(startarg, 0, startex, false) else {
        return ctx.err(ERR_INVALID_ID);
    };
    let mut start = start.id;
    if startex {
        match start.incr() {
            Some(s) => start = s,
            None => return ctx.err("ERR invalid start ID for the interval"),
        }
    }
    let Some(end) = parse_id(endarg, u64::MAX, endex, false) else {
        return ctx.err(ERR_INVALID_ID);
    };
    let mut end = end.id;
    if endex {
        match end.decr() {
            Some(e) => end = e,
            None => return ctx.err("ERR invalid end ID for the interval"),
        }
    }
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        let additional = argv.len() - j - 1;
        if opt_is(argv.get(j), "COUNT") && additional >= 1 {
            match arg_i64(argv.get(j + 1)) {
                Some(n) => count = n.max(0),
                None => return ctx.err(ERR_NOT_INT),
            }
            j += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    read_generic(
        ctx,
        argv.get(1),
        |r| r.array(0),
        |s, r| {
            if count == 0 {
                r.null_array();
            } else {
                let entries = s.range(start, end, rev, count.max(0) as usize);
                reply_entries(r, &entries);
            }
        },
    );
}

pub fn cmd_xrange(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xrange_generic(ctx, argv, false);
}

pub fn cmd_xrevrange(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xrange_generic(ctx, argv, true);
}

// ---------------------------------------------------------------------------------------------
// Consumer groups: XGROUP XREADGROUP XREAD XACK XPENDING XCLAIM XAUTOCLAIM XINFO

fn nogroup_key_group(key: &[u8], group: &[u8]) -> Vec<u8> {
    let mut m = b"NOGROUP No such key '".to_vec();
    m.extend_from_slice(c_str(key));
    m.extend_from_slice(b"' or consumer group '");
    m.extend_from_slice(c_str(group));
    m.push(b'\'');
    m
}

fn nogroup_for_key(group: &[u8], key: &[u8]) -> Vec<u8> {
    let mut m = b"NOGROUP No such consumer group '".to_vec();
    m.extend_from_slice(c_str(group));
    m.extend_from_slice(b"' for key name '");
    m.extend_from_slice(c_str(key));
    m.push(b'\'');
    m
}

/// Redis's `addReplySubcommandSyntaxError`.
fn subcommand_syntax_error(ctx: &mut Ctx<'_>, container: &str, sub: &[u8]) {
    let mut m = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    m.extend_from_slice(super::args::c_str_max(sub, 128));
    m.extend_from_slice(b"'. Try ");
    m.extend_from_slice(container.as_bytes());
    m.extend_from_slice(b" HELP.");
    ctx.reply.error_bytes(&m);
}

/// The command names the keys it modified itself, possibly none: Redis 7.0 signals no key
/// (WATCH, client tracking) for group bookkeeping (XGROUP but a stream-creating CREATE, XACK,
/// XCLAIM, XAUTOCLAIM, XREADGROUP) nor for XSETID.
fn no_key_signal(ctx: &mut Ctx<'_>) {
    ctx.srv.frame.set_signalled();
}

/// The command states its effects itself, possibly none (Redis's `preventCommandPropagation`).
fn own_propagation(ctx: &mut Ctx<'_>) {
    ctx.srv.frame.set_propagated();
}

/// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last`: what
/// Redis propagates for a pending entry created, moved or dropped (`streamPropagateXCLAIM`).
fn propagate_xclaim(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    group_name: &[u8],
    group_last: StreamId,
    id: &[u8],
    nack: &Nack,
) {
    let mut b1 = itoa::Buffer::new();
    let mut b2 = itoa::Buffer::new();
    let mut last = [0; 41];
    let last = group_last.text_in(&mut last);
    ctx.propagate(&[
        b"XCLAIM",
        key,
        group_name,
        &nack.consumer,
        b"0",
        id,
        b"TIME",
        b1.format(nack.delivery_time_ms).as_bytes(),
        b"RETRYCOUNT",
        b2.format(nack.delivery_count).as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        last,
    ]);
}

/// `XGROUP SETID key group last ENTRIESREAD n` (`streamPropagateGroupID`).
fn propagate_group_id(ctx: &mut Ctx<'_>, key: &[u8], group_name: &[u8], g: &GroupPos) {
    let mut last = [0; 41];
    let last = g.last_id.text_in(&mut last);
    let mut b = itoa::Buffer::new();
    ctx.propagate(&[
        b"XGROUP",
        b"SETID",
        key,
        group_name,
        last,
        b"ENTRIESREAD",
        b.format(g.entries_read).as_bytes(),
    ]);
}

/// A group's position: what XGROUP SETID restores.
struct GroupPos {
    last_id: StreamId,
    entries_read: i64,
}

impl GroupPos {
    fn of(g: &Group) -> GroupPos {
        GroupPos {
            last_id: g.last_id,
            entries_read: g.entries_read,
        }
    }
}

/// Looks up a consumer (refreshing its seen time) or creates it (`streamLookupConsumer` then
/// `streamCreateConsumer`); true if created.
fn lookup_or_create_consumer(g: &mut Group, name: &[u8], clock: u64) -> bool {
    match g.consumers.get_mut(name) {
        Some(c) => {
            c.seen_time_ms = clock;
            false
        }
        None => {
            g.consumers.insert(
                name.into(),
                Consumer {
                    seen_time_ms: clock,
                    pel: Default::default(),
                },
            );
            true
        }
    }
}

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

pub fn cmd_xgroup_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.help(XGROUP_HELP);
}

/// XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER (`xgroupCommand`).
fn xgroup_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let sub = argv.get(1);
    let create = opt_is(sub, "CREATE");
    let setid = opt_is(sub, "SETID");
    let key = argv.get(2);
    let grp = argv.get(3);
    let mut mkstream = false;
    let mut entries_read = ENTRIES_READ_INVALID;
    let mut i = 5;
    while i < argv.len() {
        let a = argv.get(i);
        if create && opt_is(a, "MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if (create || setid) && opt_is(a, "ENTRIESREAD") && i + 1 < argv.len() {
            match arg_i64(argv.get(i + 1)) {
                None => return ctx.err(ERR_NOT_INT),
                Some(n) if n < 0 && n != ENTRIES_READ_INVALID => {
                    return ctx.err("ERR value for ENTRIESREAD must be positive or -1")
                }
                Some(n) => entries_read = n,
            }
            i += 2;
        } else {
            return subcommand_syntax_error(ctx, "XGROUP", sub);
        }
    }
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    let exists = match op_stream(ctx.db(), key, now_ms) {
        Err(e) => return ctx.err(e),
        Ok(s) => s.is_some(),
    };
    if !(exists || create && mkstream) {
        return ctx.err(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may \
             want to use the MKSTREAM option to create an empty stream automatically.",
        );
    }
    no_key_signal(ctx);
    if exists && !create && !opt_is(sub, "DESTROY") {
        let Some(s) = stream_again(ctx.db(), key, now_ms) else {
            return;
        };
        if !s.groups.contains_key(grp) {
            return ctx.reply.error_bytes(&nogroup_for_key(grp, key));
        }
    }
    if create && (5..=8).contains(&argv.len()) {
        let last = if argv.get(4) == b"$" {
            None
        } else {
            match parse_strict_id(argv.get(4)) {
                Some(id) => Some(id),
                None => return ctx.err(ERR_INVALID_ID),
            }
        };
        let mark = ctx.new_mark();
        if !exists {
            ctx.db()
                .set(key, Value::Stream(Box::default()), now_ms, false);
            ctx.modified(key);
        }
        ctx.notify_new_since(mark, key);
        let Some(s) = stream_again(ctx.db(), key, now_ms) else {
            return;
        };
        let last = last.unwrap_or(s.last_id);
        if s.groups.contains_key(grp) {
            if !exists {
                ctx.dirty(1);
            }
            return ctx.err("BUSYGROUP Consumer Group name already exists");
        }
        s.groups.insert(grp.into(), Group::new(last, entries_read));
        ctx.reply.ok();
        ctx.dirty(1);
        ctx.notify_unsignalled(class::STREAM, "xgroup-create", key);
    } else if setid && (argv.len() == 5 || argv.len() == 7) {
        let Some(s) = stream_again(ctx.db(), key, now_ms) else {
            return;
        };
        let id = if argv.get(4) == b"$" {
            s.last_id
        } else {
            match parse_id(argv.get(4), 0, false, false) {
                Some(p) => p.id,
                None => return ctx.err(ERR_INVALID_ID),
            }
        };
        let g = s.groups.get_mut(grp).expect("group checked");
        g.last_id = id;
        g.entries_read = entries_read;
        ctx.reply.ok();
        ctx.dirty(1);
        ctx.notify_unsignalled(class::STREAM, "xgroup-setid", key);
    } else if opt_is(sub, "DESTROY") && argv.len() == 4 {
        let Some(s) = stream_again(ctx.db(), key, now_ms) else {
            return;
        };
        if s.groups.remove(grp).is_some() {
            ctx.reply.int(1);
            ctx.dirty(1);
            ctx.notify_unsignalled(class::STREAM, "xgroup-destroy", key);
            // Clients blocked in XREADGROUP on this group get NOGROUP.
            let db = ctx.db_index();
            super::blocking::signal_if_exists(ctx.srv, db, key);
        } else {
            ctx.reply.int(0);
        }
    } else if opt_is(sub, "CREATECONSUMER") && argv.len() == 5 {
        let Some(s) = stream_again(ctx.db(), key, now_ms) else {
            return;
        };
        let g = s.groups.get_mut(grp).expect("group checked");
        let name = argv.get(4);
        if g.consumers.contains_key(name) {
            ctx.reply.int(0);
        } else {
            lookup_or_create_consumer(g, name, clock);
            ctx.reply.int(1);
            ctx.dirty(1);
            ctx.notify_unsignalled(class::STREAM, "xgroup-createconsumer", key);
        }
    } else if opt_is(sub, "DELCONSUMER") && argv.len() == 5 {
        let Some(s) = stream_again(ctx.db(), key, now_ms) else {
            return;
        };
        let g = s.groups.get_mut(grp).expect("group checked");
        match g.consumers.remove(argv.get(4)) {
            Some(c) => {
                for id in &c.pel {
                    g.pel.remove(id);
                }
                ctx.reply.int(c.pel.len() as i64);
                ctx.dirty(1);
                ctx.notify_unsignalled(class::STREAM, "xgroup-delconsumer", key);
            }
            None => ctx.reply.int(0),
        }
    } else {
        subcommand_syntax_error(ctx, "XGROUP", sub);
    }
}

pub fn cmd_xgroup_create(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xgroup_generic(ctx, argv);
}

pub fn cmd_xgroup_setid(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xgroup_generic(ctx, argv);
}

pub fn cmd_xgroup_destroy(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xgroup_generic(ctx, argv);
}

pub fn cmd_xgroup_createconsumer(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xgroup_generic(ctx, argv);
}

pub fn cmd_xgroup_delconsumer(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xgroup_generic(ctx, argv);
}

/// The lookup XACK, XPENDING and XCLAIM start with, counted as Redis's read lookup: whether
/// the stream at `key` holds group `grp` (false when the key or the group is missing), or
/// None after answering the key's WRONGTYPE.
fn lookup_group(ctx: &mut Ctx<'_>, key: &[u8], grp: &[u8]) -> Option<bool> {
    let now_ms = ctx.now_ms;
    let found = match op_stream(ctx.db(), key, now_ms) {
        Err(e) => {
            ctx.hit();
            ctx.err(e);
            return None;
        }
        Ok(s) => s.map(|s| s.groups.contains_key(grp)),
    };
    ctx.read_lookup(found.is_some(), key);
    Some(found == Some(true))
}

pub fn cmd_xack(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let key = argv.get(1);
    match lookup_group(ctx, key, argv.get(2)) {
        None => return,
        Some(false) => return ctx.reply.int(0),
        Some(true) => {}
    }
    let now_ms = ctx.now_ms;
    let mut ids = Vec::with_capacity(argv.len() - 3);
    for j in 3..argv.len() {
        match parse_strict_id(argv.get(j)) {
            Some(id) => ids.push(id),
            None => return ctx.err(ERR_INVALID_ID),
        }
    }
    let Some(s) = stream_again(ctx.db(), key, now_ms) else {
        return;
    };
    let g = s.groups.get_mut(argv.get(2)).expect("group checked");
    let acked = ids.into_iter().filter(|id| g.ack(*id)).count();
    no_key_signal(ctx);
    ctx.dirty(acked as u64);
    ctx.reply.int(acked as i64);
}

/// An interval bound (`streamParseIntervalIDOrReply`): `(` makes it exclusive (and strict).
fn parse_interval(arg: &[u8], missing_seq: u64) -> Option<(StreamId, bool)> {
    if arg.len() > 1 && arg[0] == b'(' {
        parse_id(&arg[1..], missing_seq, true, false).map(|p| (p.id, true))
    } else {
        parse_id(arg, missing_seq, false, false).map(|p| (p.id, false))
    }
}

pub fn cmd_xpending(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let argc = argv.len();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return ctx.syntax_error();
    }
    let mut minidle = 0i64;
    let (mut start, mut end, mut count) = (StreamId::ZERO, StreamId::MAX, 0i64);
    let mut consumer: Option<&[u8]> = None;
    if argc >= 6 {
        let mut startidx = 3;
        if opt_is(argv.get(3), "IDLE") {
            match arg_i64(argv.get(4)) {
                Some(n) => minidle = n,
                None => return ctx.err(ERR_NOT_INT),
            }
            if argc < 8 {
                return ctx.syntax_error();
            }
            startidx += 2;
        }
        match arg_i64(argv.get(startidx + 2)) {
            Some(n) => count = n.max(0),
            None => return ctx.err(ERR_NOT_INT),
        }
        let Some((s, startex)) = parse_interval(argv.get(startidx), 0) else {
            return ctx.err(ERR_INVALID_ID);
        };
        start = s;
        if startex {
            match start.incr() {
                Some(s) => start = s,
                None => return ctx.err("ERR invalid start ID for the interval"),
            }
        }
        let Some((e, endex)) = parse_interval(argv.get(startidx + 1), u64::MAX) else {
            return ctx.err(ERR_INVALID_ID);
        };
        end = e;
        if endex {
            match end.decr() {
                Some(e) => end = e,
                None => return ctx.err("ERR invalid end ID for the interval"),
            }
        }
        if startidx + 3 < argc {
            consumer = Some(argv.get(startidx + 3));
        }
    }
    let key = argv.get(1);
    let grp = argv.get(2);
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    match lookup_group(ctx, key, grp) {
        None => return,
        Some(false) => return ctx.reply.error_bytes(&nogroup_key_group(key, grp)),
        Some(true) => {}
    }
    let (db, r) = super::args::parts(ctx);
    let Some(s) = stream_again(db, key, now_ms) else {
        return;
    };
    let g = &s.groups[grp];
    if justinfo {
        r.array(4);
        r.int(g.pel.len() as i64);
        match (g.pel.first_key_value(), g.pel.last_key_value()) {
            (Some((first, _)), Some((last, _))) => {
                reply_id(r, *first);
                reply_id(r, *last);
                let owners: Vec<(&Box<[u8]>, &Consumer)> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                r.array(owners.len());
                for (name, c) in owners {
                    r.array(2);
                    r.bulk(name);
                    r.bulk_int(c.pel.len() as i64);
                }
            }
            _ => {
                r.null();
                r.null();
                r.null_array();
            }
        }
        return;
    }
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(name) {
            None => return r.array(0),
            Some(c) => c.pel.range(start..).copied().collect(),
        },
        None => g.pel.range(start..).map(|(id, _)| *id).collect(),
    };
    let mut out = Vec::new();
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let n = &g.pel[&id];
        let idle = clock as i64 - n.delivery_time_ms as i64;
        if minidle != 0 && idle < minidle {
            continue;
        }
        count -= 1;
        out.push((id, n, idle.max(0)));
    }
    r.array(out.len());
    for (id, n, idle) in out {
        r.array(4);
        reply_id(r, id);
        r.bulk(&n.consumer);
        r.int(idle);
        r.int(n.delivery_count as i64);
    }
}

pub fn cmd_xclaim(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let key = argv.get(1);
    let grp = argv.get(2);
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    match lookup_group(ctx, key, grp) {
        None => return,
        Some(false) => return ctx.reply.error_bytes(&nogroup_key_group(key, grp)),
        Some(true) => {}
    }
    let Some(minidle) = arg_i64(argv.get(4)) else {
        return ctx.err("ERR Invalid min-idle-time argument for XCLAIM");
    };
    let minidle = minidle.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match parse_strict_id(argv.get(j)) {
            Some(id) => ids.push((id, j)),
            None => break,
        }
        j += 1;
    }
    let now = clock as i64;
    let (mut force, mut justid) = (false, false);
    let mut retrycount: i64 = -1;
    let mut deliverytime: i64 = -1;
    let mut last_id = StreamId::ZERO;
    while j < argv.len() {
        let moreargs = argv.len() - 1 - j;
        let opt = argv.get(j);
        if opt_is(opt, "FORCE") {
            force = true;
        } else if opt_is(opt, "JUSTID") {
            justid = true;
        } else if opt_is(opt, "IDLE") && moreargs > 0 {
            j += 1;
            match arg_i64(argv.get(j)) {
                Some(n) => deliverytime = now.wrapping_sub(n),
                None => return ctx.err("ERR Invalid IDLE option argument for XCLAIM"),
            }
        } else if opt_is(opt, "TIME") && moreargs > 0 {
            j += 1;
            match arg_i64(argv.get(j)) {
                Some(n) => deliverytime = n,
                None => return ctx.err("ERR Invalid TIME option argument for XCLAIM"),
            }
        } else if opt_is(opt, "RETRYCOUNT") && moreargs > 0 {
            j += 1;
            match arg_i64(argv.get(j)) {
                Some(n) => retrycount = n,
                None => return ctx.err("ERR Invalid RETRYCOUNT option argument for XCLAIM"),
            }
        } else if opt_is(opt, "LASTID") && moreargs > 0 {
            j += 1;
            match parse_strict_id(argv.get(j)) {
                Some(id) => last_id = id,
                None => return ctx.err(ERR_INVALID_ID),
            }
        } else {
            let mut m = b"ERR Unrecognized XCLAIM option '".to_vec();
            m.extend_from_slice(c_str(opt));
            m.push(b'\'');
            return ctx.reply.error_bytes(&m);
        }
        j += 1;
    }
    own_propagation(ctx);
    no_key_signal(ctx);
    let deliverytime = if deliverytime < 0 || deliverytime > now {
        now
    } else {
        deliverytime
    } as u64;
    let name = argv.get(3);
    let mut created = false;
    let mut have_consumer = false;
    let mut replies: Vec<Option<Entry>> = Vec::new();
    let mut reply_ids: Vec<StreamId> = Vec::new();
    let mut effects: Vec<(Vec<u8>, Nack)> = Vec::new();
    let mut dirty = 0u64;
    let Some(s) = stream_again(ctx.db(), key, now_ms) else {
        return;
    };
    let mut propagate_last_id = false;
    {
        let g = s.groups.get_mut(grp).expect("group checked");
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    for (id, argj) in ids {
        let exists = s.contains(id);
        let g = s.groups.get_mut(grp).expect("group checked");
        if !exists {
            if let Some(n) = g.pel.get(&id).cloned() {
                effects.push((argv.get(argj).to_vec(), n));
                propagate_last_id = false;
                dirty += 1;
                g.ack(id);
            }
            continue;
        }
        let mut nack = g.pel.get(&id).cloned();
        let mut fresh = false;
        if force && nack.is_none() {
            nack = Some(Nack {
                delivery_time_ms: clock,
                delivery_count: 1,
                consumer: Box::default(),
            });
            fresh = true;
        }
        let Some(mut n) = nack else { continue };
        if !fresh && minidle != 0 && now - (n.delivery_time_ms as i64) < minidle {
            continue;
        }
        if !have_consumer {
            created |= lookup_or_create_consumer(g, name, clock);
            have_consumer = true;
        }
        n.delivery_time_ms = deliverytime;
        if retrycount >= 0 {
            n.delivery_count = retrycount as u64;
        } else if !justid {
            n.delivery_count += 1;
        }
        let count = n.delivery_count;
        g.assign(id, name, deliverytime, count);
        n.consumer = name.into();
        if justid {
            reply_ids.push(id);
        } else {
            replies.push(s.get(id));
        }
        effects.push((argv.get(argj).to_vec(), n));
        propagate_last_id = false;
        dirty += 1;
    }
    let g_last = s.groups[grp].last_id;
    let g_snapshot = GroupPos::of(&s.groups[grp]);
    if created {
        ctx.dirty(1);
        ctx.notify_unsignalled(class::STREAM, "xgroup-createconsumer", key);
    }
    let r = &mut ctx.reply;
    if justid {
        r.array(reply_ids.len());
        for id in &reply_ids {
            reply_id(r, *id);
        }
    } else {
        r.array(replies.len());
        for e in &replies {
            match e {
                Some(e) => reply_entry(r, e),
                None => r.null(),
            }
        }
    }
    for (id, n) in &effects {
        propagate_xclaim(ctx, key, grp, g_last, id, n);
    }
    if propagate_last_id {
        propagate_group_id(ctx, key, grp, &g_snapshot);
        dirty += 1;
    }
    if dirty > 0 {
        ctx.dirty(dirty);
        // Redis signals no key here (no WATCH or tracking effect).
    }
}

pub fn cmd_xautoclaim(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let key = argv.get(1);
    let grp = argv.get(2);
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    // Redis looks the key up (a hit or a miss) before it parses the arguments.
    let found = match op_stream(ctx.db(), key, now_ms) {
        Err(_) => Some(None),
        Ok(s) => s.map(|s| Some(s.groups.contains_key(grp))),
    };
    ctx.read_lookup(found.is_some(), key);
    let Some(minidle) = arg_i64(argv.get(4)) else {
        return ctx.err("ERR Invalid min-idle-time argument for XAUTOCLAIM");
    };
    let minidle = minidle.max(0);
    let Some((mut start, startex)) = parse_interval(argv.get(5), 0) else {
        return ctx.err(ERR_INVALID_ID);
    };
    if startex {
        match start.incr() {
            Some(s) => start = s,
            None => return ctx.err("ERR invalid start ID for the interval"),
        }
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let moreargs = argv.len() - 1 - j;
        let opt = argv.get(j);
        if opt_is(opt, "COUNT") && moreargs > 0 {
            match arg_i64(argv.get(j + 1)) {
                Some(n) if n >= 1 => count = n,
                _ => return ctx.err("ERR COUNT must be > 0"),
            }
            j += 1;
        } else if opt_is(opt, "JUSTID") {
            justid = true;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    let found = match found {
        Some(None) => return ctx.wrong_type(),
        Some(Some(g)) => Some(g),
        None => None,
    };
    if found != Some(true) {
        return ctx.reply.error_bytes(&nogroup_key_group(key, grp));
    }
    if count > i64::MAX / 16 {
        return ctx.err("ERR COUNT must be > 0");
    }
    own_propagation(ctx);
    no_key_signal(ctx);
    let mut attempts = count * 10;
    let now = clock as i64;
    let name = argv.get(3);
    let Some(s) = stream_again(ctx.db(), key, now_ms) else {
        return;
    };
    let mut claimed: Vec<(StreamId, Option<Entry>)> = Vec::new();
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut effects: Vec<(StreamId, Nack)> = Vec::new();
    let mut created = false;
    let mut have_consumer = false;
    let mut last_seen: Option<StreamId> = None;
    let mut eof = false;
    loop {
        if attempts == 0 {
            break;
        }
        attempts -= 1;
        if count == 0 {
            break;
        }
        let from = match last_seen {
            None => std::ops::Bound::Included(start),
            Some(l) => std::ops::Bound::Excluded(l),
        };
        let next = s.groups[grp]
            .pel
            .range((from, std::ops::Bound::Unbounded))
            .next()
            .map(|(id, n)| (*id, n.clone()));
        let Some((id, mut n)) = next else {
            eof = true;
            break;
        };
        last_seen = Some(id);
        let exists = s.contains(id);
        let g = s.groups.get_mut(grp).expect("group checked");
        if !exists {
            effects.push((id, n));
            g.ack(id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        if minidle != 0 && now - (n.delivery_time_ms as i64) < minidle {
            continue;
        }
        if !have_consumer {
            created |= lookup_or_create_consumer(g, name, clock);
            have_consumer = true;
        }
        n.delivery_time_ms = clock;
        if !justid {
            n.delivery_count += 1;
        }
        g.assign(id, name, clock, n.delivery_count);
        n.consumer = name.into();
        let e = if justid { None } else { s.get(id) };
        claimed.push((id, e));
        effects.push((id, n));
        count -= 1;
    }
    let g = &s.groups[grp];
    let cursor = if eof {
        StreamId::ZERO
    } else {
        let from = match last_seen {
            None => std::ops::Bound::Included(start),
            Some(l) => std::ops::Bound::Excluded(l),
        };
        g.pel
            .range((from, std::ops::Bound::Unbounded))
            .next()
            .map_or(StreamId::ZERO, |(id, _)| *id)
    };
    let g_last = g.last_id;
    if created {
        ctx.dirty(1);
        ctx.notify_unsignalled(class::STREAM, "xgroup-createconsumer", key);
    }
    let r = &mut ctx.reply;
    r.array(3);
    reply_id(r, cursor);
    r.array(claimed.len());
    for (id, e) in &claimed {
        match e {
            Some(e) => reply_entry(r, e),
            None if justid => reply_id(r, *id),
            None => r.null(),
        }
    }
    r.array(deleted.len());
    for id in &deleted {
        reply_id(r, *id);
    }
    for (id, n) in &effects {
        propagate_xclaim(ctx, key, grp, g_last, &id.to_text(), n);
    }
    if !effects.is_empty() {
        ctx.dirty(effects.len() as u64);
        // Redis signals no key here (no WATCH or tracking effect).
    }
}

// ---------------------------------------------------------------------------------------------
// XREAD / XREADGROUP

/// XREAD's or XREADGROUP's parsed command line.
pub struct ReadArgs {
    /// -1: no BLOCK.
    pub timeout_ms: i64,
    pub count: usize,
    pub noack: bool,
    pub group: Option<(Vec<u8>, Vec<u8>)>,
    /// Index of the first key.
    pub streams_arg: usize,
    pub streams_count: usize,
}

/// The ID a read starts after, per stream: an ID, or `>` (new entries of the group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFrom {
    After(StreamId),
    New,
}

fn parse_read_args(ctx: &Ctx<'_>, argv: &Argv<'_>, xreadgroup: bool) -> Result<ReadArgs, Vec<u8>> {
    let name = if xreadgroup { "xreadgroup" } else { "xread" };
    let mut a = ReadArgs {
        timeout_ms: -1,
        count: 0,
        noack: false,
        group: None,
        streams_arg: 0,
        streams_count: 0,
    };
    let argc = argv.len();
    let mut i = 1;
    while i < argc {
        let moreargs = argc - i - 1;
        let o = argv.get(i);
        if opt_is(o, "BLOCK") && moreargs > 0 {
            if ctx.srv.frame.in_script() {
                let mut m = b"ERR ".to_vec();
                m.extend_from_slice(c_str(argv.get(0)));
                m.extend_from_slice(b" command is not allowed with BLOCK option from scripts");
                return Err(m);
            }
            i += 1;
            match arg_i64(argv.get(i)) {
                None => return Err(b"ERR timeout is not an integer or out of range".to_vec()),
                Some(n) if n < 0 => return Err(b"ERR timeout is negative".to_vec()),
                Some(n) if n > 0 && n > i64::MAX - ctx.now_ms as i64 => {
                    return Err(b"ERR timeout is out of range".to_vec())
                }
                Some(n) => a.timeout_ms = n,
            }
        } else if opt_is(o, "COUNT") && moreargs > 0 {
            i += 1;
            match arg_i64(argv.get(i)) {
                None => return Err(ERR_NOT_INT.as_bytes().to_vec()),
                Some(n) => a.count = n.max(0) as usize,
            }
        } else if opt_is(o, "STREAMS") && moreargs > 0 {
            a.streams_arg = i + 1;
            let n = argc - a.streams_arg;
            if !n.is_multiple_of(2) {
                let symbol = if xreadgroup { '>' } else { '$' };
                return Err(format!(
                    "ERR Unbalanced '{name}' list of streams: for each stream key an ID or \
                     '{symbol}' must be specified."
                )
                .into_bytes());
            }
            a.streams_count = n / 2;
            break;
        } else if opt_is(o, "GROUP") && moreargs >= 2 {
            if !xreadgroup {
                return Err(
                    b"ERR The GROUP option is only supported by XREADGROUP. You called \
                             XREAD instead."
                        .to_vec(),
                );
            }
            a.group = Some((argv.get(i + 1).to_vec(), argv.get(i + 2).to_vec()));
            i += 2;
        } else if opt_is(o, "NOACK") {
            if !xreadgroup {
                return Err(
                    b"ERR The NOACK option is only supported by XREADGROUP. You called \
                             XREAD instead."
                        .to_vec(),
                );
            }
            a.noack = true;
        } else {
            return Err(ERR_SYNTAX.as_bytes().to_vec());
        }
        i += 1;
    }
    if a.streams_arg == 0 {
        return Err(ERR_SYNTAX.as_bytes().to_vec());
    }
    if xreadgroup && a.group.is_none() {
        return Err(b"ERR Missing GROUP option for XREADGROUP".to_vec());
    }
    Ok(a)
}

/// What one stream of a read delivered: its entries (None for a PEL entry whose message was
/// deleted) and, for a group, the effects to propagate.
struct Served {
    entries: Vec<(StreamId, Option<Entry>)>,
}

/// Serves one stream of XREAD / XREADGROUP (`streamReplyWithRange` with a group, or
/// `streamReplyWithRangeFromConsumerPEL` for a history read): entries after `from`, at most
/// `count` (0: all). With a group, moves its last ID and read counter, records the pending
/// entries (unless `noack`) and states the XCLAIM / XGROUP SETID effects.
#[allow(clippy::too_many_arguments)]
fn serve_stream(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    from: StreamId,
    count: usize,
    group: Option<(&[u8], &[u8])>,
    noack: bool,
    history: bool,
) -> Served {
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    let Some(s) = stream_again(ctx.db(), key, now_ms) else {
        return Served {
            entries: Vec::new(),
        };
    };
    let Some(start) = from.incr() else {
        return Served {
            entries: Vec::new(),
        };
    };
    let Some((gname, cname)) = group else {
        let entries = s.range(start, StreamId::MAX, false, count);
        return Served {
            entries: entries.into_iter().map(|e| (e.id, Some(e))).collect(),
        };
    };
    if history {
        let ids: Vec<StreamId> = match s.groups.get(gname).and_then(|g| g.consumers.get(cname)) {
            Some(c) => c
                .pel
                .range(start..)
                .take(if count == 0 { usize::MAX } else { count })
                .copied()
                .collect(),
            None => Vec::new(),
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let e = s.get(id);
            if e.is_some() {
                let g = s.groups.get_mut(gname).expect("group");
                if let Some(n) = g.pel.get_mut(&id) {
                    n.delivery_time_ms = clock;
                    n.delivery_count += 1;
                }
            }
            out.push((id, e));
        }
        return Served { entries: out };
    }
    let entries = s.range(start, StreamId::MAX, false, count);
    // Each XCLAIM carries the group's last ID as it was after that entry.
    let mut effects: Vec<(Vec<u8>, Nack, StreamId)> = Vec::new();
    let mut propagate_last_id = false;
    for e in &entries {
        if e.id > s.groups[gname].last_id {
            let has_tomb = s.range_has_tombstones(e.id, StreamId::MAX);
            let added = s.entries_added;
            let estimate = s.estimate_distance(e.id);
            let g = s.groups.get_mut(gname).expect("group");
            if g.entries_read != ENTRIES_READ_INVALID && !has_tomb {
                g.entries_read += 1;
            } else if added != 0 {
                g.entries_read = estimate;
            }
            g.last_id = e.id;
            // Without NOACK the XCLAIMs carry the last ID (Redis 7.0 sends no SETID then).
            propagate_last_id = noack;
        }
        if !noack {
            let g = s.groups.get_mut(gname).expect("group");
            g.assign(e.id, cname, clock, 1);
            effects.push((e.id.to_text(), g.pel[&e.id].clone(), g.last_id));
        }
    }
    let g = GroupPos::of(&s.groups[gname]);
    for (id, n, last) in &effects {
        propagate_xclaim(ctx, key, gname, *last, id, n);
    }
    if propagate_last_id {
        propagate_group_id(ctx, key, gname, &g);
    }
    Served {
        entries: entries.into_iter().map(|e| (e.id, Some(e))).collect(),
    }
}

fn reply_served(r: &mut Reply<'_>, key: &[u8], served: &Served) {
    if !r.resp3 {
        r.array(2);
    }
    r.bulk(key);
    r.array(served.entries.len());
    for (id, e) in &served.entries {
        match e {
            Some(e) => reply_entry(r, e),
            None => {
                r.array(2);
                reply_id(r, *id);
                r.null_array();
            }
        }
    }
}

/// XREAD and XREADGROUP (`xreadCommand`).
fn xread_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, xreadgroup: bool) {
    let a = match parse_read_args(ctx, argv, xreadgroup) {
        Ok(a) => a,
        Err(m) => return ctx.reply.error_bytes(&m),
    };
    own_propagation(ctx);
    no_key_signal(ctx);
    let now_ms = ctx.now_ms;
    let n = a.streams_count;
    let mut froms: Vec<ReadFrom> = Vec::with_capacity(n);
    for i in 0..n {
        let key = argv.get(a.streams_arg + i);
        let idarg = argv.get(a.streams_arg + n + i);
        let (found, last, has_group) = match op_stream(ctx.db(), key, now_ms) {
            Err(e) => {
                ctx.hit();
                return ctx.err(e);
            }
            Ok(None) => (false, StreamId::ZERO, false),
            Ok(Some(s)) => (
                true,
                s.last_id,
                a.group
                    .as_ref()
                    .is_some_and(|(g, _)| s.groups.contains_key(g.as_slice())),
            ),
        };
        ctx.read_lookup(found, key);
        if let Some((g, _)) = &a.group {
            if !has_group {
                let mut m = b"NOGROUP No such key '".to_vec();
                m.extend_from_slice(c_str(key));
                m.extend_from_slice(b"' or consumer group '");
                m.extend_from_slice(c_str(g));
                m.extend_from_slice(b"' in XREADGROUP with GROUP option");
                return ctx.reply.error_bytes(&m);
            }
        }
        if idarg == b"$" {
            if xreadgroup {
                return ctx.err(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read \
                     the history of this consumer by specifying a proper ID, or use the > ID to \
                     get new messages. The $ ID would just return an empty result set.",
                );
            }
            froms.push(ReadFrom::After(last));
            continue;
        }
        if idarg == b">" {
            if !xreadgroup {
                return ctx.err(
                    "ERR The > ID can be specified only when calling XREADGROUP using the \
                     GROUP <group> <consumer> option.",
                );
            }
            froms.push(ReadFrom::New);
            continue;
        }
        match parse_strict_id(idarg) {
            Some(id) => froms.push(ReadFrom::After(id)),
            None => return ctx.err(ERR_INVALID_ID),
        }
    }
    let keys: Vec<&[u8]> = (0..n).map(|i| argv.get(a.streams_arg + i)).collect();
    if read_streams(ctx, &keys, &froms, &a) {
        return;
    }
    if a.timeout_ms != -1 {
        let deadline_ms = if a.timeout_ms == 0 {
            0
        } else {
            now_ms.saturating_add(a.timeout_ms as u64)
        };
        // The ID each key waits after: `>` is the group's last ID at serve time.
        let after = keys
            .iter()
            .zip(&froms)
            .map(|(k, f)| {
                let id = match f {
                    ReadFrom::After(id) => *id,
                    ReadFrom::New => StreamId::MAX,
                };
                (Box::<[u8]>::from(*k), id)
            })
            .collect();
        let req = Request {
            keys: Vec::new(),
            wants: ValueType::Stream,
            from: End::Left,
            to: End::Left,
            count: None,
            target: None,
            deadline_ms,
            serve: Serve::XRead,
            stream: Some(Box::new(StreamWait {
                after,
                group: a.group,
                noack: a.noack,
                count: if a.count == 0 {
                    XREAD_BLOCKED_COUNT
                } else {
                    a.count
                },
            })),
        };
        // Inside MULTI this answers the timeout reply at once.
        return super::blocking::block(ctx, keys.iter().copied(), req);
    }
    ctx.reply.null_array();
}

/// Entries a blocked read without COUNT gets at most (Redis's `XREAD_BLOCKED_DEFAULT_COUNT`).
const XREAD_BLOCKED_COUNT: usize = 1000;

/// Serves a client blocked in XREAD / XREADGROUP on `key` (`serveClientsBlockedOnStreamKey`):
/// true if it was answered (entries, or an error for a group reader whose stream or group is
/// gone), false if the stream still has nothing after its ID.
pub fn serve_blocked(ctx: &mut Ctx<'_>, key: &[u8], req: &Request) -> bool {
    let Some(w) = req.stream.as_deref() else {
        return false;
    };
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    let Some(mut after) = w.after.iter().find(|(k, _)| &**k == key).map(|(_, id)| *id) else {
        return false;
    };
    let group = w.group.as_ref().map(|(g, c)| (g.as_slice(), c.as_slice()));
    let last_id = match op_stream(ctx.db(), key, now_ms) {
        Ok(Some(s)) => {
            if let Some((g, _)) = group {
                match s.groups.get(g) {
                    Some(g) => after = g.last_id,
                    None => {
                        ctx.err(
                            "NOGROUP the consumer group this client was blocked on no longer \
                             exists",
                        );
                        return true;
                    }
                }
            }
            s.last_id
        }
        _ if group.is_some() => {
            ctx.err("UNBLOCKED the stream key no longer exists");
            return true;
        }
        _ => return false,
    };
    if last_id <= after {
        return false;
    }
    if let Some((g, c)) = group {
        let Some(s) = stream_again(ctx.db(), key, now_ms) else {
            return false;
        };
        if let Some(grp) = s.groups.get_mut(g) {
            if lookup_or_create_consumer(grp, c, clock) {
                ctx.dirty(1);
                ctx.notify_unsignalled(class::STREAM, "xgroup-createconsumer", key);
            }
        }
    }
    let served = serve_stream(ctx, key, after, w.count, group, w.noack, false);
    if group.is_some() {
        ctx.dirty(1);
        // Redis signals no key here (no WATCH or tracking effect).
    }
    own_propagation(ctx);
    no_key_signal(ctx);
    let r = &mut ctx.reply;
    if r.resp3 {
        r.map(1);
    } else {
        r.array(1);
    }
    reply_served(r, key, &served);
    true
}

/// The synchronous part of XREAD / XREADGROUP: serves every stream that has something for
/// the reader and answers; false (nothing written) if none had.
pub fn read_streams(ctx: &mut Ctx<'_>, keys: &[&[u8]], froms: &[ReadFrom], a: &ReadArgs) -> bool {
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    let mut out: Vec<(usize, Served)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let group = a.group.as_ref().map(|(g, c)| (g.as_slice(), c.as_slice()));
        let (found, serve, from, history) = {
            let s = match op_stream(ctx.db(), key, now_ms) {
                Ok(Some(s)) => s,
                _ => {
                    ctx.read_lookup(false, key);
                    continue;
                }
            };
            let last_valid = if s.is_empty() {
                None
            } else {
                Some(s.edge_id(false, true))
            };
            match (group, froms[i]) {
                (Some(_), ReadFrom::After(id)) => (true, true, id, true),
                (Some((g, _)), ReadFrom::New) => {
                    let glast = s.groups.get(g).map_or(StreamId::MAX, |g| g.last_id);
                    let serve = last_valid.is_some_and(|m| m > glast);
                    (true, serve, glast, false)
                }
                (None, ReadFrom::After(id)) => {
                    (true, last_valid.is_some_and(|m| m > id), id, false)
                }
                (None, ReadFrom::New) => (true, false, StreamId::MAX, false),
            }
        };
        ctx.read_lookup(found, key);
        if !serve {
            continue;
        }
        if let Some((g, c)) = group {
            let Some(s) = stream_again(ctx.db(), key, now_ms) else {
                continue;
            };
            let Some(grp) = s.groups.get_mut(g) else {
                continue;
            };
            if lookup_or_create_consumer(grp, c, clock) {
                ctx.dirty(1);
                ctx.notify_unsignalled(class::STREAM, "xgroup-createconsumer", key);
                if a.noack {
                    ctx.propagate(&[b"XGROUP", b"CREATECONSUMER", key, g, c]);
                }
            }
        }
        let served = serve_stream(ctx, key, from, a.count, group, a.noack, history);
        if group.is_some() {
            ctx.dirty(1);
            // Redis signals no key here (no WATCH or tracking effect).
        }
        out.push((i, served));
    }
    if out.is_empty() {
        return false;
    }
    let r = &mut ctx.reply;
    if r.resp3 {
        r.map(out.len());
    } else {
        r.array(out.len());
    }
    for (i, served) in &out {
        reply_served(r, keys[*i], served);
    }
    true
}

pub fn cmd_xread(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xread_generic(ctx, argv, false);
}

pub fn cmd_xreadgroup(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    xread_generic(ctx, argv, true);
}

// ---------------------------------------------------------------------------------------------
// XINFO

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

pub fn cmd_xinfo_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.help(XINFO_HELP);
}

/// Number of nodes of a rax holding `keys` (sorted, equal lengths), each compressed run one
/// node: what XINFO's `radix-tree-nodes` counts for a tree built by insertions only.
fn rax_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    if keys.is_empty() {
        return 1;
    }
    if depth == 16 {
        return 1;
    }
    // The common prefix from `depth` of all keys (sorted: first and last bound it).
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let mut d = depth;
    while d < 16 && first[d] == last[d] {
        d += 1;
    }
    if d > depth {
        return 1 + rax_nodes(keys, d);
    }
    let mut n = 1;
    let mut i = 0;
    while i < keys.len() {
        let c = keys[i][depth];
        let mut j = i;
        while j < keys.len() && keys[j][depth] == c {
            j += 1;
        }
        n += rax_nodes(&keys[i..j], depth + 1);
        i = j;
    }
    n
}

fn reply_group_lag(r: &mut Reply<'_>, s: &Stream, g: &Group) {
    match s.group_lag(g) {
        Some(l) => r.int(l),
        None => r.null(),
    }
}

fn reply_entries_read(r: &mut Reply<'_>, g: &Group) {
    if g.entries_read == ENTRIES_READ_INVALID {
        r.null();
    } else {
        r.int(g.entries_read);
    }
}

fn xinfo_stream(s: &Stream, r: &mut Reply<'_>, full: Option<usize>) {
    let keys: Vec<[u8; 16]> = s.nodes().map(|(k, _)| k.to_be_bytes()).collect();
    r.map(if full.is_some() { 9 } else { 10 });
    r.bulk(b"length");
    r.int(s.len() as i64);
    r.bulk(b"radix-tree-keys");
    r.int(s.node_count() as i64);
    r.bulk(b"radix-tree-nodes");
    r.int(if keys.is_empty() {
        1
    } else {
        rax_nodes(&keys, 0)
    } as i64);
    r.bulk(b"last-generated-id");
    reply_id(r, s.last_id);
    r.bulk(b"max-deleted-entry-id");
    reply_id(r, s.max_deleted_id);
    r.bulk(b"entries-added");
    r.int(s.entries_added as i64);
    r.bulk(b"recorded-first-entry-id");
    reply_id(r, s.first_id);
    let Some(count) = full else {
        r.bulk(b"groups");
        r.int(s.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            r.bulk(name);
            match s.range(StreamId::ZERO, StreamId::MAX, rev, 1).first() {
                Some(e) => reply_entry(r, e),
                None => r.null(),
            }
        }
        return;
    };
    r.bulk(b"entries");
    reply_entries(r, &s.range(StreamId::ZERO, StreamId::MAX, false, count));
    r.bulk(b"groups");
    r.array(s.groups.len());
    let limit = if count == 0 { usize::MAX } else { count };
    for (name, g) in &s.groups {
        r.map(7);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"last-delivered-id");
        reply_id(r, g.last_id);
        r.bulk(b"entries-read");
        reply_entries_read(r, g);
        r.bulk(b"lag");
        reply_group_lag(r, s, g);
        r.bulk(b"pel-count");
        r.int(g.pel.len() as i64);
        r.bulk(b"pending");
        r.array(g.pel.len().min(limit));
        for (id, n) in g.pel.iter().take(limit) {
            r.array(4);
            reply_id(r, *id);
            r.bulk(&n.consumer);
            r.int(n.delivery_time_ms as i64);
            r.int(n.delivery_count as i64);
        }
        r.bulk(b"consumers");
        r.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            r.map(4);
            r.bulk(b"name");
            r.bulk(cname);
            r.bulk(b"seen-time");
            r.int(c.seen_time_ms as i64);
            r.bulk(b"pel-count");
            r.int(c.pel.len() as i64);
            r.bulk(b"pending");
            r.array(c.pel.len().min(limit));
            for id in c.pel.iter().take(limit) {
                let n = &g.pel[id];
                r.array(3);
                reply_id(r, *id);
                r.int(n.delivery_time_ms as i64);
                r.int(n.delivery_count as i64);
            }
        }
    }
}

/// The stream of an XINFO subcommand: counts the lookup, answers "no such key" or WRONGTYPE.
fn xinfo_lookup(ctx: &mut Ctx<'_>, key: &[u8]) -> bool {
    let now_ms = ctx.now_ms;
    match op_stream(ctx.db(), key, now_ms) {
        Err(e) => {
            ctx.hit();
            ctx.err(e);
            false
        }
        Ok(None) => {
            ctx.miss(key);
            ctx.err(ERR_NO_KEY);
            false
        }
        Ok(Some(_)) => {
            ctx.hit();
            true
        }
    }
}

pub fn cmd_xinfo_stream(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let key = argv.get(2);
    if !xinfo_lookup(ctx, key) {
        return;
    }
    let argc = argv.len() - 2;
    let mut full = None;
    if argc > 1 {
        if !(argc == 2 || argc == 4) || !opt_is(argv.get(3), "FULL") {
            return subcommand_syntax_error(ctx, "XINFO", argv.get(1));
        }
        let mut count = 10;
        if argc == 4 {
            if !opt_is(argv.get(4), "COUNT") {
                return subcommand_syntax_error(ctx, "XINFO", argv.get(1));
            }
            match arg_i64(argv.get(5)) {
                None => return ctx.err(ERR_NOT_INT),
                Some(n) if n < 0 => count = 0,
                Some(n) => count = n as usize,
            }
        }
        full = Some(count);
    }
    let now_ms = ctx.now_ms;
    let (db, r) = super::args::parts(ctx);
    if let Some(s) = stream_again(db, key, now_ms) {
        xinfo_stream(s, r, full);
    }
}

pub fn cmd_xinfo_groups(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let key = argv.get(2);
    if !xinfo_lookup(ctx, key) {
        return;
    }
    let now_ms = ctx.now_ms;
    let (db, r) = super::args::parts(ctx);
    let Some(s) = stream_again(db, key, now_ms) else {
        return;
    };
    r.array(s.groups.len());
    for (name, g) in &s.groups {
        r.map(6);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"consumers");
        r.int(g.consumers.len() as i64);
        r.bulk(b"pending");
        r.int(g.pel.len() as i64);
        r.bulk(b"last-delivered-id");
        reply_id(r, g.last_id);
        r.bulk(b"entries-read");
        reply_entries_read(r, g);
        r.bulk(b"lag");
        reply_group_lag(r, s, g);
    }
}

pub fn cmd_xinfo_consumers(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let key = argv.get(2);
    if !xinfo_lookup(ctx, key) {
        return;
    }
    let now_ms = ctx.now_ms;
    let clock = clock_ms(ctx);
    let grp = argv.get(3);
    let (db, r) = super::args::parts(ctx);
    let Some(s) = stream_again(db, key, now_ms) else {
        return;
    };
    let Some(g) = s.groups.get(grp) else {
        return r.error_bytes(&nogroup_for_key(grp, key));
    };
    r.array(g.consumers.len());
    for (name, c) in &g.consumers {
        r.map(3);
        r.bulk(b"name");
        r.bulk(name);
        r.bulk(b"pending");
        r.int(c.pel.len() as i64);
        r.bulk(b"idle");
        r.int((clock as i64 - c.seen_time_ms as i64).max(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis() {
        let p = |s: &str| parse_id(s.as_bytes(), 0, true, true);
        assert_eq!(p("1-2").map(|p| p.id), Some(StreamId::new(1, 2)));
        assert_eq!(p("5").map(|p| p.id), Some(StreamId::new(5, 0)));
        assert_eq!(p("5-*").map(|p| p.seq_given), Some(false));
        assert_eq!(p("00001-2").map(|p| p.id), Some(StreamId::new(1, 2)));
        assert_eq!(p(" 3-01").map(|p| p.id), Some(StreamId::new(3, 1)));
        assert_eq!(p("-01-0").map(|p| p.id), None);
        assert_eq!(p("-"), None);
        assert_eq!(p("1-x"), None);
        assert_eq!(p("18446744073709551616"), None);
        assert_eq!(
            parse_id(b"+", 0, false, false).map(|p| p.id),
            Some(StreamId::MAX)
        );
        assert_eq!(string2ull(b"-1"), None);
        assert_eq!(string2ull(b"-01"), Some(u64::MAX));
        assert_eq!(string2ull(b"+5"), Some(5));
        assert_eq!(string2ull(b""), None);
    }
}
