//! Persistence and debugging commands: SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF, and DEBUG with
//! the subcommands ringkv implements (DIGEST, DIGEST-VALUE, OBJECT, RELOAD, SLEEP, PROTOCOL,
//! SET-ACTIVE-EXPIRE, QUICKLIST-PACKED-THRESHOLD, STRINGMATCH-TEST, CHANGE-REPL-ID,
//! CONFIG-REWRITE-FORCE-ALL, LISTPACK, PANIC, HELP); any other DEBUG subcommand gets Redis's
//! unknown-subcommand error. Left out: those about Redis's own internals (JMAP, STRUCTSIZE,
//! MALLCTL, ...). The persistence commands call
//! the server's wrappers (`server::persistence`) around `persist`.
//!
//! DEBUG DIGEST is Redis 7.0's `computeDatasetDigest`, bit for bit, so the same data gives the
//! same 40 hex digits on ringkv and redis-server. Order-free parts are combined by XOR of
//! SHA1s, ordered parts by "mixing" (digest = SHA1(digest XOR SHA1(data))):
//! ```text
//! final = 0^20
//! for each non-empty db j:  mix(final, htonl(j));  for each key: final ^= SHA1(key_digest)
//! key_digest = mix(0^20, key); mix(htonl(type)); value part; [xor SHA1("!!expire!!")]
//!   string: mix(bytes)           list: mix(each element, head to tail)
//!   set:    xor SHA1(member)     hash: xor SHA1(mix(mix(0^20, field), value))
//!   zset:   xor SHA1(mix(mix(0^20, member), printf("%.17g", score)))
//! ```
//! DEBUG DIGEST-VALUE gives the value part (type, value, expire) per key, zeros for a missing
//! key.
//!
//! DEBUG OBJECT is Redis 7.0's one status line about a key's value, read without touching it
//! (no access-clock update, no keyspace hit or miss):
//! ```text
//! Value at:<address> refcount:N encoding:E serializedlength:N lru:N lru_seconds_idle:N
//!   and for a list: ql_nodes:N ql_avg_node:F.2 ql_listpack_max:FILL ql_compressed:0|1
//!                   ql_uncompressed_size:N
//! ```
//! `refcount` and `encoding` are OBJECT's; `serializedlength` is the value's bytes in an RDB
//! written now (`rdb::saved_value_len`, with rdbcompression); `lru` is the raw 24-bit access
//! word, which holds LFU data under an LFU policy, and `lru_seconds_idle` is computed from it
//! as from an LRU clock whatever the policy, as Redis does. The `ql_` fields describe the
//! list's own nodes, each sized as the listpack Redis would hold for its entries;
//! `ql_compressed` is 1 when the list was made with a `list-compress-depth`, as Redis's
//! (whether it compresses, not whether a node is compressed now). Our nodes are filled by our entry encoding, not
//! by listpack sizes, so a list of many small integers has more nodes here than in Redis (and
//! a larger `ql_uncompressed_size`, 7 bytes a node); `serializedlength` follows the RDB
//! writer, which groups nodes as Redis does for appended elements. A key past its deadline that
//! nothing has reaped is shown and left in place, as Redis shows it (`Db::stored_with_lru`).

use super::args::{arg_eq, c_str_max};
use super::keys::{object_info, op_object, shared_integers};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::persist::rdb::{self, fmt_g17};
use crate::persist::rdb_lp::LpWriter;
use crate::resp::Argv;
use crate::types::list::List;

type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// Redis's `xorDigest`: digest ^= SHA1(data).
fn xor_digest(d: &mut Digest, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// Redis's `mixDigest`: digest = SHA1(digest ^ SHA1(data)).
fn mix_digest(d: &mut Digest, data: &[u8]) {
    xor_digest(d, data);
    *d = sha1(d);
}

/// Redis's object type numbers (OBJ_STRING ... OBJ_HASH).
fn type_number(v: &Value) -> u32 {
    match v {
        Value::Int(_) | Value::Small(_) | Value::Emb(_) | Value::Raw(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Redis's `xorObjectDigest`: the type, the value and the expire flag mixed into `d`.
fn value_digest(d: &mut Digest, v: &Value, has_ttl: bool) {
    mix_digest(d, &type_number(v).to_be_bytes());
    let mut ibuf = itoa::Buffer::new();
    match v {
        Value::Int(_) | Value::Small(_) | Value::Emb(_) | Value::Raw(_) => {
            mix_digest(d, v.str_bytes(&mut ibuf).unwrap_or_default());
        }
        Value::List(l) => l.iter().for_each(|e| mix_digest(d, &e)),
        Value::Set(s) => s.for_each(|m| xor_digest(d, m.bytes(&mut ibuf))),
        Value::ZSet(z) => {
            for (m, score) in z.iter_from(0, false) {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, m);
                mix_digest(&mut ele, fmt_g17(score).as_bytes());
                xor_digest(d, &ele);
            }
        }
        Value::Hash(h) => h.for_each(|f, val| {
            let mut ele = [0u8; 20];
            mix_digest(&mut ele, f);
            mix_digest(&mut ele, val);
            xor_digest(d, &ele);
        }),
        // Entries only (`ms.seq`, then fields and values), as Redis; groups are not digested.
        Value::Stream(s) => {
            use crate::types::stream::StreamId;
            for e in s.range(StreamId::ZERO, StreamId::MAX, false, 0) {
                mix_digest(d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
                for (f, v) in &e.fields {
                    mix_digest(d, f);
                    mix_digest(d, v);
                }
            }
        }
    }
    if has_ttl {
        xor_digest(d, b"!!expire!!");
    }
}

/// The digest of every database (Redis's `computeDatasetDigest`).
pub fn dataset_digest(dbs: &[crate::keyspace::Db]) -> Digest {
    let mut fin = [0u8; 20];
    for (j, db) in dbs.iter().enumerate() {
        let mut keys_xor = [0u8; 20];
        let mut any = false;
        db.for_each_with_expiry(|k, v, deadline| {
            any = true;
            let mut d = [0u8; 20];
            mix_digest(&mut d, k);
            value_digest(&mut d, v, deadline.is_some());
            xor_digest(&mut keys_xor, &d);
        });
        if any {
            // XOR commutes, so adding the keys after mixing in the db id is the same as
            // Redis adding them one by one.
            mix_digest(&mut fin, &(j as u32).to_be_bytes());
            for (a, b) in fin.iter_mut().zip(keys_xor) {
                *a ^= b;
            }
        }
    }
    fin
}

/// The `ql_` fields of DEBUG OBJECT for a list.
#[derive(Clone, Copy, Debug, PartialEq)]
struct QuicklistInfo {
    nodes: usize,
    len: usize,
    fill: i32,
    /// Made with a compression depth.
    compressed: bool,
    /// The sum of the nodes' listpack sizes (Redis's `node->sz`).
    listpack_bytes: usize,
}

impl QuicklistInfo {
    fn of(l: &List) -> QuicklistInfo {
        let mut elements = l.iter();
        let mut listpack_bytes = 0;
        for count in l.node_lens() {
            let mut w = LpWriter::new();
            for e in elements.by_ref().take(count) {
                w.push(&e);
            }
            listpack_bytes += w.finish().len();
        }
        QuicklistInfo {
            nodes: l.node_count(),
            len: l.len(),
            fill: l.fill(),
            compressed: l.compress_depth() != 0,
            listpack_bytes,
        }
    }
}

/// What DEBUG OBJECT reports about a live key.
#[derive(Clone, Debug, PartialEq)]
struct DebugObject {
    address: usize,
    refcount: i64,
    encoding: &'static str,
    serialized_len: usize,
    access: u32,
    idle_s: u64,
    quicklist: Option<QuicklistInfo>,
}

impl DebugObject {
    /// Redis's reply text, field for field (`%p`, `%d`, `%zu`, `%.2f`).
    fn line(&self) -> String {
        use std::fmt::Write;
        let mut s = format!(
            "Value at:{:#x} refcount:{} encoding:{} serializedlength:{} lru:{} \
             lru_seconds_idle:{}",
            self.address,
            self.refcount,
            self.encoding,
            self.serialized_len,
            self.access,
            self.idle_s
        );
        if let Some(q) = self.quicklist {
            // A list always has a node, so the average is finite.
            let avg = q.len as f64 / q.nodes.max(1) as f64;
            let _ = write!(
                s,
                " ql_nodes:{} ql_avg_node:{avg:.2} ql_listpack_max:{} ql_compressed:{} \
                 ql_uncompressed_size:{}",
                q.nodes,
                q.fill,
                u8::from(q.compressed),
                q.listpack_bytes
            );
        }
        s
    }
}

/// DEBUG OBJECT's operation: the key's details without touching it, or None when it is not
/// stored. A key past its deadline that nothing has reaped is shown and left in place, as
/// Redis's (its `dictFind`, no expiry). `shared_integers` and `rdb_compression` are the
/// settings OBJECT REFCOUNT and the RDB writer follow.
fn op_debug_object(
    db: &mut Db,
    key: &[u8],
    shared_integers: bool,
    rdb_compression: bool,
    now_ms: u64,
) -> Option<DebugObject> {
    let (v, access) = db.stored_with_lru(key)?;
    let info = object_info(v, shared_integers);
    Some(DebugObject {
        address: std::ptr::from_ref(v) as usize,
        refcount: info.refcount,
        encoding: info.encoding,
        serialized_len: rdb::saved_value_len(v, rdb_compression),
        access,
        idle_s: crate::keyspace::estimate_idle_s(access, now_ms),
        quicklist: match v {
            Value::List(l) => Some(QuicklistInfo::of(l)),
            _ => None,
        },
    })
}

fn debug_object(ctx: &mut Ctx<'_>, key: &[u8]) {
    let shared = shared_integers(ctx);
    let compression = ctx.srv.config.rdbcompression;
    let now_ms = ctx.now_ms;
    match op_debug_object(ctx.db(), key, shared, compression, now_ms) {
        Some(o) => ctx.reply.simple(&o.line()),
        None => ctx.err("ERR no such key"),
    }
}

fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn cmd_save(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    if ctx.srv.bgsave_in_progress() {
        ctx.err("ERR Background save already in progress");
        return;
    }
    match ctx.srv.rdb_save() {
        Ok(()) => ctx.reply.ok(),
        Err(_) => ctx.err("ERR"),
    }
}

/// BGSAVE [SCHEDULE]: a point-in-time snapshot written in slices (persist::rdb_snapshot).
pub fn cmd_bgsave(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() > 2 || (argv.len() == 2 && !arg_eq(argv.get(1), "schedule")) {
        ctx.syntax_error();
        return;
    }
    if ctx.srv.bgsave_in_progress() {
        ctx.err("ERR Background save already in progress");
        return;
    }
    if ctx.srv.aof.rewrite_in_progress() {
        // As Redis 7.0 answers while its AOF child runs: both walk the same copy-on-write
        // logs (keyspace::cow), so the save starts when the rewrite ends.
        if argv.len() == 2 {
            ctx.srv.rdb.bgsave_scheduled = true;
            ctx.reply.simple("Background saving scheduled");
        } else {
            ctx.err(
                "ERR Another child process is active (AOF?): can't BGSAVE right now. Use \
                 BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
            );
        }
        return;
    }
    match ctx.srv.bgsave_start() {
        Ok(()) => ctx.reply.simple("Background saving started"),
        Err(e) => {
            // The save could not open its file: Redis's child fails the same way after the
            // reply, so the reply is the same and the failure is recorded (writes may now
            // be refused: `stop-writes-on-bgsave-error`).
            log::warn!("Background saving error: {e}");
            ctx.srv.rdb.last_ok = false;
            ctx.reply.simple("Background saving started");
        }
    }
}

pub fn cmd_lastsave(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.reply.int(ctx.srv.rdb.lastsave_s as i64);
}

/// BGREWRITEAOF: schedules an incremental rewrite (or, with the AOF off, writes a base now).
pub fn cmd_bgrewriteaof(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    if ctx.srv.aof.rewrite_in_progress() {
        ctx.err("ERR Background append only file rewriting already in progress");
        return;
    }
    if ctx.srv.bgsave_in_progress() {
        // As Redis: it runs when the save ends (`persist::aof::submit`, or
        // `persist::aof::run_scheduled` with the AOF off), since both walk the same
        // copy-on-write logs.
        ctx.srv.aof.rewrite_scheduled = true;
        ctx.reply
            .simple("Background append only file rewriting scheduled");
        return;
    }
    if ctx.srv.aof.enabled {
        // Starts at the end of this turn (see `persist::aof::submit`), then runs in slices.
        ctx.srv.aof.rewrite_scheduled = true;
        ctx.reply
            .simple("Background append only file rewriting started");
        return;
    }
    match ctx.srv.aof_rewrite() {
        Ok(()) => ctx
            .reply
            .simple("Background append only file rewriting started"),
        Err(e) => ctx.err(&format!(
            "ERR Background append only file rewriting failed: {e}"
        )),
    }
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "OBJECT <key>",
    "    Show how the value at <key> is stored: encoding, RDB size, access data.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "PANIC",
    "    Stop the server the way a bug would: crash report in the log, then abort.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "HELP",
    "    Prints this help.",
];

/// An enable-* setting's verdict for the running client (Redis's allowProtectedAction):
/// "yes" allows, "local" allows Unix sockets and loopback clients, "no" refuses.
pub(crate) fn protected_action_allowed(ctx: &mut Ctx<'_>, setting: &str) -> bool {
    match setting {
        "yes" => true,
        "local" => {
            // Redis's islocalClient: a Unix socket, or exactly 127.0.0.1 or ::1.
            let c = ctx.conn();
            let ip = c.addr.rsplit_once(':').map_or("", |(ip, _port)| ip);
            matches!(c.kind, crate::net::conn::Kind::Unix) || ip == "127.0.0.1" || ip == "::1"
        }
        _ => false,
    }
}

fn debug_allowed(ctx: &mut Ctx<'_>) -> bool {
    let setting = ctx.srv.config.enable_debug_command;
    protected_action_allowed(ctx, setting)
}

pub fn cmd_debug(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if !debug_allowed(ctx) {
        ctx.err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
        return;
    }
    let sub = argv.get(1);
    let argc = argv.len();
    if arg_eq(sub, "help") && argc == 2 {
        ctx.help(DEBUG_HELP);
    } else if arg_eq(sub, "digest") && argc == 2 {
        let d = dataset_digest(&ctx.srv.dbs);
        ctx.reply.simple(&hex(&d));
    } else if arg_eq(sub, "digest-value") && argc >= 2 {
        ctx.reply.array(argc - 2);
        let now_ms = ctx.now_ms;
        for i in 2..argc {
            let key = argv.get(i);
            let mut d = [0u8; 20];
            let db = ctx.db();
            let deadline = db.expire_at_ms(key, now_ms).flatten();
            if let Some(v) = db.peek(key, now_ms) {
                value_digest(&mut d, v, deadline.is_some());
            }
            ctx.reply.simple(&hex(&d));
        }
    } else if arg_eq(sub, "object") && argc == 3 {
        debug_object(ctx, argv.get(2));
    } else if arg_eq(sub, "sleep") && argc == 3 {
        // strtod semantics: anything unparsable sleeps 0 s.
        let secs = std::str::from_utf8(argv.get(2))
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(0.0);
        std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(1e9)));
        ctx.reply.ok();
    } else if arg_eq(sub, "reload") {
        debug_reload(ctx, argv);
    } else if arg_eq(sub, "protocol") && argc == 3 {
        debug_protocol(ctx, argv.get(2));
    } else if arg_eq(sub, "set-active-expire") && argc == 3 {
        // atoi: anything but a number starting with a non-zero digit turns it off.
        ctx.srv.active_expire_enabled = atoi(argv.get(2)) != 0;
        ctx.reply.ok();
    } else if arg_eq(sub, "quicklist-packed-threshold") && argc == 3 {
        // Elements of at least this size live alone in their list node (Redis's plain
        // nodes); process-wide, as in Redis.
        let ok = crate::config::parse_memory(argv.get(2))
            .is_some_and(crate::types::list::set_packed_threshold);
        if ok {
            ctx.reply.ok();
        } else {
            ctx.err("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
        }
    } else if arg_eq(sub, "stringmatch-test") && argc == 2 {
        stringmatch_test();
        ctx.reply
            .simple("Apparently Redis did not crash: test passed");
    } else if arg_eq(sub, "change-repl-id") && argc == 2 {
        // A new history: new replication id, no previous one (Redis's changeReplicationId
        // and clearReplicationId2).
        log::warn!("Changing replication IDs after receiving DEBUG change-repl-id");
        let srv = &mut *ctx.srv;
        srv.repl.shift_replid(crate::server::random_hex(40));
        srv.repl.clear_replid2();
        ctx.reply.ok();
    } else if arg_eq(sub, "config-rewrite-force-all") && argc == 2 {
        debug_config_rewrite_force_all(ctx);
    } else if arg_eq(sub, "listpack") && argc == 3 {
        debug_listpack(ctx, argv.get(2));
    } else if arg_eq(sub, "panic") && argc == 2 {
        // Redis's DEBUG PANIC: the crash report (`logging::install_crash_handler`), then the
        // process aborts.
        panic!(
            "DEBUG PANIC called at Unix time {}",
            crate::util::unix_ms() / 1000
        );
    } else {
        let name = c_str_max(sub, 128);
        let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
        msg.extend_from_slice(name);
        msg.extend_from_slice(b"'. Try DEBUG HELP.");
        ctx.reply.error_bytes(&msg);
    }
}

/// DEBUG CONFIG-REWRITE-FORCE-ALL: CONFIG REWRITE writing every setting, defaults included.
fn debug_config_rewrite_force_all(ctx: &mut Ctx<'_>) {
    let Some(path) = ctx.srv.config.config_file.clone() else {
        // Redis's text here (its rewrite is handed no file name: EFAULT).
        return ctx.err("ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address");
    };
    let users = crate::acl::config_user_lines(ctx.srv);
    match crate::config::rewrite::rewrite_file(&path, &ctx.srv.config, &users, true) {
        Ok(()) => ctx.reply.ok(),
        Err(e) => {
            let why = e.raw_os_error().map_or_else(
                || e.to_string(),
                |n| nix::errno::Errno::from_raw(n).desc().to_string(),
            );
            ctx.err(&format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {why}"));
        }
    }
}

/// C's atoi: optional blanks and sign, then digits up to the first non-digit (0 if none).
fn atoi(a: &[u8]) -> i64 {
    let s = std::str::from_utf8(a).unwrap_or("").trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits: String = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .take(18)
        .collect();
    let n: i64 = digits.parse().unwrap_or(0);
    if neg {
        -n
    } else {
        n
    }
}

/// DEBUG PROTOCOL <type>: Redis's fixed test value of each reply type, for client tests
/// (RESP2 gets each type's RESP2 form; a push there is an error, as in Redis).
fn debug_protocol(ctx: &mut Ctx<'_>, kind: &[u8]) {
    const BIG: &[u8] = b"1234567999999999999999999999999999999";
    let resp3 = ctx.reply.resp3;
    let r = &mut ctx.reply;
    let k = kind.to_ascii_lowercase();
    match k.as_slice() {
        b"string" => r.bulk(b"Hello World"),
        b"integer" => r.int(12345),
        // Redis's literal, not pi.
        #[allow(clippy::approx_constant)]
        b"double" => r.double(3.141),
        b"bignum" => {
            if resp3 {
                r.buf.push(b'(');
                r.buf.extend_from_slice(BIG);
                r.buf.extend_from_slice(b"\r\n");
            } else {
                r.bulk(BIG);
            }
        }
        b"null" => r.null(),
        b"array" | b"set" => {
            if k == b"set" {
                r.set(3);
            } else {
                r.array(3);
            }
            for j in 0..3 {
                r.int(j);
            }
        }
        b"map" => {
            r.map(3);
            for j in 0..3 {
                r.int(j);
                r.bool(j == 1);
            }
        }
        b"attrib" => {
            // RESP2 has no attributes: only the reply that follows.
            if resp3 {
                r.buf.extend_from_slice(b"|1\r\n");
                r.bulk(b"key-popularity");
                r.array(2);
                r.bulk(b"key:123");
                r.int(90);
            }
            r.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !resp3 {
                return ctx.err("ERR RESP2 is not supported by this command");
            }
            r.push(2);
            r.bulk(b"server-cpu-usage");
            r.int(42);
            r.bulk(b"Some real reply following the push reply");
        }
        b"verbatim" => r.verbatim(b"This is a verbatim\nstring"),
        b"true" => r.bool(true),
        b"false" => r.bool(false),
        _ => ctx.err(
            "ERR Wrong protocol type name. Please use one of the following: \
             string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ),
    }
}

/// DEBUG STRINGMATCH-TEST: the glob matcher fed random patterns and strings (Redis's
/// stringmatchlen fuzzer): it must return, whatever the input.
fn stringmatch_test() {
    const ROUNDS: usize = 100_000;
    const ALPHABET: &[u8] = b"*?[]^-\\abc";
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d ^ crate::util::mono_ns();
    let mut next = move || {
        // xorshift64: cheap and good enough to shake the matcher.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut pat = Vec::with_capacity(32);
    let mut text = Vec::with_capacity(32);
    for _ in 0..ROUNDS {
        pat.clear();
        text.clear();
        let (pl, tl) = (next() % 32, next() % 32);
        for _ in 0..pl {
            pat.push(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
        }
        for _ in 0..tl {
            text.push((next() % 256) as u8);
        }
        std::hint::black_box(crate::util::glob::glob_match(&pat, &text, false));
    }
}

/// DEBUG LISTPACK <key>: a listpack-encoded value's entries written to the log (Redis prints
/// them on stdout), then Redis's status reply.
fn debug_listpack(ctx: &mut Ctx<'_>, key: &[u8]) {
    let now_ms = ctx.now_ms;
    let shared = shared_integers(ctx);
    let Some(info) = op_object(ctx.db(), key, shared, now_ms) else {
        return ctx.err("ERR no such key");
    };
    if info.encoding != "listpack" {
        return ctx.err("ERR Not a listpack encoded object.");
    }
    let Some(v) = ctx.db().peek(key, now_ms) else {
        return ctx.err("ERR no such key");
    };
    let mut entries: Vec<Vec<u8>> = Vec::new();
    match v {
        Value::Hash(h) => h.for_each(|f, val| {
            entries.push(f.to_vec());
            entries.push(val.to_vec());
        }),
        Value::ZSet(z) => {
            for (m, score) in z.iter_from(0, false) {
                entries.push(m.to_vec());
                entries.push(fmt_g17(score).into_bytes());
            }
        }
        Value::List(l) => entries.extend(l.iter().map(|e| e.to_vec())),
        _ => {}
    }
    let mut w = LpWriter::new();
    for e in &entries {
        w.push(e);
    }
    let bytes = w.finish().len();
    log::info!(
        "{{total bytes {bytes}}} {{num entries {}}} of key {}",
        entries.len(),
        String::from_utf8_lossy(key)
    );
    for (i, e) in entries.iter().enumerate() {
        log::info!("{{entry {i}}} {}", String::from_utf8_lossy(e));
    }
    ctx.reply.simple("Listpack structure printed on stdout");
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, flush, load back.
fn debug_reload(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for i in 2..argv.len() {
        let a = argv.get(i);
        if arg_eq(a, "merge") {
            merge = true;
        } else if arg_eq(a, "noflush") {
            flush = false;
        } else if arg_eq(a, "nosave") {
            save = false;
        } else {
            ctx.err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    ctx.srv.bgsave_abort();
    if save && ctx.srv.rdb_save().is_err() {
        ctx.err("ERR");
        return;
    }
    let path = ctx.srv.rdb_path();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            log::warn!("DEBUG RELOAD: cannot read {}: {e}", path.display());
            ctx.err("ERR Error trying to load the RDB dump, check server logs.");
            return;
        }
    };
    if flush {
        for db in &mut ctx.srv.dbs {
            drop(db.take_all());
        }
    }
    if let Err(e) = ctx.srv.rdb_load_bytes(&bytes, merge) {
        log::warn!("DEBUG RELOAD: error loading {}: {e}", path.display());
        ctx.err("ERR Error trying to load the RDB dump, check server logs.");
        return;
    }
    log::info!("DB reloaded by DEBUG RELOAD");
    ctx.reply.ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_redis_fields_and_formats() {
        let mut o = DebugObject {
            address: 0x7f2a_520b_d780,
            refcount: i64::from(i32::MAX),
            encoding: "int",
            serialized_len: 2,
            access: 1_433_792,
            idle_s: 3,
            quicklist: None,
        };
        assert_eq!(
            o.line(),
            "Value at:0x7f2a520bd780 refcount:2147483647 encoding:int serializedlength:2 \
             lru:1433792 lru_seconds_idle:3"
        );
        // 17 / 8 = 2.125 is a tie, which printf's %.2f rounds to even.
        o.quicklist = Some(QuicklistInfo {
            nodes: 8,
            len: 17,
            fill: -2,
            compressed: false,
            listpack_bytes: 100,
        });
        assert!(o.line().ends_with(
            " lru_seconds_idle:3 ql_nodes:8 ql_avg_node:2.12 ql_listpack_max:-2 \
             ql_compressed:0 ql_uncompressed_size:100"
        ));
    }

    #[test]
    fn quicklist_sizes_are_listpack_bytes_per_node() {
        let mut l = List::new(2);
        for e in [&b"a"[..], b"b", b"c", b"12", b"-5000"] {
            l.push_back(e);
        }
        let q = QuicklistInfo::of(&l);
        assert_eq!((q.nodes, q.len, q.fill), (3, 5, 2));
        // Per node: 7 bytes of header and end marker, then "a", "b" as 1-byte strings
        // (3 bytes each), "c" (3) and 12 (a 7-bit int: 2), -5000 (a 16-bit int: 4).
        assert_eq!(q.listpack_bytes, (7 + 6) + (7 + 5) + (7 + 4));
    }
}
