//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, with Redis 7.0.15's replies,
//! field names and errors, and ringkv's own figures.
//!
//! USAGE sizes a key from ringkv's real structures, each block at the size the allocator
//! counts for it (`alloc::usable`, glibc's chunk rounding): the key's table entry (header and
//! key bytes in one allocation), the value's box, and the value's contents — a string's heap
//! bytes (none for integers and strings inline in the entry), a list's node array and node
//! buffers at their capacities (compressed nodes at their compressed size), a listpack or
//! intset buffer, a table's bucket arrays and entries, a sorted set's tree arena. As Redis's
//! `objectComputeSize` does, the elements of a large value are averaged over the first
//! `SAMPLES` of them (default 5, 0 for all) and multiplied by their count. It leaves out, as
//! Redis does, the key's share of the database's bucket array and its TTL heap item; MEMORY
//! STATS reports those as the database's overheads.
//!
//! STATS reports Redis's fields in Redis's order and types. The allocator is glibc malloc
//! (src/alloc.rs), so `allocator.allocated` and `allocator.active` are glibc's own figures
//! (`mallinfo2`: bytes in blocks handed out, bytes its arenas took from the system; both plus
//! the hash tables' directly mapped bucket arrays), and `allocator.resident` is the process's
//! RSS, which is what Redis falls back to with an allocator that cannot tell (so
//! `rss-overhead` is 1 and 0 here). glibc's figures include the Lua interpreters, which
//! `total.allocated` (INFO's used_memory) leaves out, as Redis does. DOCTOR applies Redis's
//! rules to these figures and answers Redis's texts.
//!
//! MALLOC-STATS describes glibc's heap from `mallinfo2` in our own words (Redis prints
//! jemalloc's report, or "Stats not supported for the current allocator" with libc).
//! PURGE calls `malloc_trim(0)`, which gives the free memory at the top of glibc's arenas and
//! the free whole pages inside them back to the kernel, and answers OK whether or not there
//! was any to give (as Redis answers OK with an allocator it cannot purge).

use super::args::{arg_eq, arg_i64};
use super::error::{ERR_NOT_INT, ERR_SYNTAX};
use super::Ctx;
use crate::alloc::{block_bytes, heap_info};
use crate::ds::dict::Dict;
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::resp::Argv;

/// Redis's `OBJ_COMPUTE_SIZE_DEF_SAMPLES`.
const SAMPLES_DEFAULT: usize = 5;

/// DOCTOR's thresholds, Redis's.
const DOCTOR_EMPTY_BYTES: usize = 5 << 20;
const DOCTOR_BYTES_MIN: i64 = 10 << 20;
const DOCTOR_CLIENT_BYTES_MAX: usize = 200 << 10;
const DOCTOR_SCRIPTS_MAX: usize = 1000;

/// Heap bytes of a value's contents beyond the table entry that holds it.
pub fn value_bytes(v: &Value, samples: usize) -> usize {
    use std::mem::size_of;
    match v {
        Value::Int(_) | Value::Small(_) => 0,
        Value::Emb(b) | Value::Raw(b) => block_bytes(b.len()),
        Value::List(l) => {
            block_bytes(size_of::<crate::types::list::List>())
                + l.heap_bytes_sampled(samples, crate::alloc::usable)
        }
        Value::Hash(h) => {
            block_bytes(size_of::<crate::types::hash::Hash>()) + h.heap_bytes(samples)
        }
        Value::Set(s) => block_bytes(size_of::<crate::types::set::Set>()) + s.heap_bytes(samples),
        Value::ZSet(z) => {
            block_bytes(size_of::<crate::types::zset::ZSet>()) + z.heap_bytes(samples)
        }
        Value::Stream(st) => {
            block_bytes(size_of::<crate::types::stream::Stream>())
                + st.heap_bytes(crate::alloc::usable)
        }
    }
}

/// MEMORY USAGE's figure for `key`, or None when it is not stored. Reads without touching
/// the key (no access-clock update, no hit or miss) and without expiring it: a key past its
/// deadline that nothing has reaped is measured and left in place, as Redis's `dictFind`.
pub fn op_usage(db: &mut Db, key: &[u8], samples: usize) -> Option<usize> {
    let v = db.stored(key)?;
    Some(Dict::<Value>::entry_bytes(key.len()) + value_bytes(v, samples))
}

pub fn cmd_memory_usage(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut samples = SAMPLES_DEFAULT;
    let mut j = 3;
    while j < argv.len() {
        if arg_eq(argv.get(j), "samples") && j + 1 < argv.len() {
            let Some(n) = arg_i64(argv.get(j + 1)) else {
                return ctx.err(ERR_NOT_INT);
            };
            if n < 0 {
                return ctx.err(ERR_SYNTAX);
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            j += 2;
        } else {
            return ctx.err(ERR_SYNTAX);
        }
    }
    match op_usage(ctx.db(), argv.get(2), samples) {
        Some(n) => ctx.reply.int(n as i64),
        None => ctx.reply.null(),
    }
}

/// Per-database overheads (MEMORY STATS `db.N`).
pub(crate) struct DbOverhead {
    index: usize,
    main: usize,
    expires: usize,
}

/// The figures MEMORY STATS and DOCTOR read (Redis's `redisMemOverhead`).
pub(crate) struct Overhead {
    pub(crate) peak: usize,
    pub(crate) total: usize,
    pub(crate) startup: usize,
    pub(crate) clients_normal: usize,
    pub(crate) aof_buffer: usize,
    pub(crate) lua_caches: usize,
    pub(crate) functions_caches: usize,
    pub(crate) dbs: Vec<DbOverhead>,
    pub(crate) overhead_total: usize,
    pub(crate) keys: usize,
    pub(crate) bytes_per_key: usize,
    pub(crate) dataset: i64,
    pub(crate) dataset_perc: f32,
    pub(crate) peak_perc: f32,
    pub(crate) allocator_allocated: usize,
    pub(crate) allocator_active: usize,
    pub(crate) allocator_resident: usize,
    pub(crate) rss: usize,
    pub(crate) clients: usize,
    pub(crate) scripts: usize,
}

impl Overhead {
    pub(crate) fn of(ctx: &Ctx<'_>) -> Overhead {
        let srv = &*ctx.srv;
        let total = srv.used_memory() as usize;
        let startup = crate::alloc::startup();
        // The peak is sampled over all counted bytes; take the Lua interpreters' share out
        // as used_memory does.
        let lua_vm = crate::alloc::allocated().saturating_sub(total);
        let peak = crate::alloc::peak().saturating_sub(lua_vm).max(total);
        let clients_normal = srv.clients_memory_bytes();
        let aof_buffer = srv.aof.buffer_bytes();
        let lua_caches = srv.scripts.cache_memory();
        let functions_caches = srv.scripts.functions.overhead_memory();
        let mut overhead_total =
            startup + clients_normal + aof_buffer + lua_caches + functions_caches;
        let mut dbs = Vec::new();
        let mut keys = 0;
        for (index, db) in srv.dbs.iter().enumerate() {
            if db.is_empty() {
                continue;
            }
            keys += db.len();
            let (main, expires) = db.overhead_bytes();
            overhead_total += main + expires;
            dbs.push(DbOverhead {
                index,
                main,
                expires,
            });
        }
        let net = if total > startup { total - startup } else { 1 };
        let dataset = total as i64 - overhead_total as i64;
        let heap = heap_info();
        let mapped = crate::alloc::mapped();
        Overhead {
            peak,
            total,
            startup,
            clients_normal,
            aof_buffer,
            lua_caches,
            functions_caches,
            dbs,
            overhead_total,
            keys,
            bytes_per_key: net.checked_div(keys).unwrap_or(0),
            dataset,
            dataset_perc: dataset as f32 * 100.0 / net as f32,
            peak_perc: total as f32 * 100.0 / peak.max(1) as f32,
            allocator_allocated: heap.in_use + heap.mmapped + mapped,
            allocator_active: heap.arena + heap.mmapped + mapped,
            allocator_resident: crate::alloc::rss() as usize,
            rss: crate::alloc::rss() as usize,
            clients: srv.connected_clients(),
            scripts: srv.scripts.cached(),
        }
    }

    pub(crate) fn ratio(a: usize, b: usize) -> f32 {
        a as f32 / b.max(1) as f32
    }

    pub(crate) fn diff(a: usize, b: usize) -> i64 {
        a as i64 - b as i64
    }
}

pub fn cmd_memory_stats(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let o = Overhead::of(ctx);
    let r = &mut ctx.reply;
    r.map(27 + o.dbs.len());
    let int = |r: &mut crate::resp::reply::Reply<'_>, name: &str, v: i64| {
        r.bulk(name.as_bytes());
        r.int(v);
    };
    int(r, "peak.allocated", o.peak as i64);
    int(r, "total.allocated", o.total as i64);
    int(r, "startup.allocated", o.startup as i64);
    int(r, "replication.backlog", 0);
    int(r, "clients.slaves", 0);
    int(r, "clients.normal", o.clients_normal as i64);
    int(r, "cluster.links", 0);
    int(r, "aof.buffer", o.aof_buffer as i64);
    int(r, "lua.caches", o.lua_caches as i64);
    int(r, "functions.caches", o.functions_caches as i64);
    for d in &o.dbs {
        r.bulk(format!("db.{}", d.index).as_bytes());
        r.map(3);
        int(r, "overhead.hashtable.main", d.main as i64);
        int(r, "overhead.hashtable.expires", d.expires as i64);
        int(r, "overhead.hashtable.slot-to-keys", 0);
    }
    int(r, "overhead.total", o.overhead_total as i64);
    int(r, "keys.count", o.keys as i64);
    int(r, "keys.bytes-per-key", o.bytes_per_key as i64);
    int(r, "dataset.bytes", o.dataset);
    let double = |r: &mut crate::resp::reply::Reply<'_>, name: &str, v: f32| {
        r.bulk(name.as_bytes());
        r.double(f64::from(v));
    };
    double(r, "dataset.percentage", o.dataset_perc);
    double(r, "peak.percentage", o.peak_perc);
    int(r, "allocator.allocated", o.allocator_allocated as i64);
    int(r, "allocator.active", o.allocator_active as i64);
    int(r, "allocator.resident", o.allocator_resident as i64);
    let (alloc, active, resident) = (
        o.allocator_allocated,
        o.allocator_active,
        o.allocator_resident,
    );
    double(
        r,
        "allocator-fragmentation.ratio",
        Overhead::ratio(active, alloc),
    );
    int(
        r,
        "allocator-fragmentation.bytes",
        Overhead::diff(active, alloc),
    );
    double(r, "allocator-rss.ratio", Overhead::ratio(resident, active));
    int(r, "allocator-rss.bytes", Overhead::diff(resident, active));
    double(r, "rss-overhead.ratio", Overhead::ratio(o.rss, resident));
    int(r, "rss-overhead.bytes", Overhead::diff(o.rss, resident));
    double(r, "fragmentation", Overhead::ratio(o.rss, o.total));
    int(r, "fragmentation.bytes", Overhead::diff(o.rss, o.total));
}

/// Redis 7.0.15's MEMORY DOCTOR texts.
mod doctor_text {
    pub const FINE: &str = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
    pub const EMPTY: &str = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
    pub const HEAD: &str =
        "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
    pub const BIG_PEAK: &str = " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n";
    /// Followed by the allocator's name and `"DOCTOR_HIGH_FRAG_END`.
    pub const HIGH_FRAG: &str = " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"";
    pub const HIGH_FRAG_END: &str = "\".\n\n";
    pub const HIGH_ALLOC_FRAG: &str = " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n";
    pub const HIGH_ALLOC_RSS: &str = " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n";
    pub const HIGH_PROC_RSS: &str = " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n";
    pub const BIG_CLIENT_BUF: &str = " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n";
    pub const MANY_SCRIPTS: &str = " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n";
    pub const TAIL: &str = "I'm here to keep you safe, Sam. I want to help you.\n";
}

/// The allocator's name as DOCTOR's fragmentation text gives it (Redis's `ZMALLOC_LIB`).
const ALLOCATOR_NAME: &str = "libc";

/// MEMORY DOCTOR's report: Redis's rules (`getMemoryDoctorReport`) on ringkv's figures.
/// ringkv has no replicas, so the replica-buffer finding never applies.
fn doctor_report(o: &Overhead) -> String {
    use doctor_text::*;
    if o.total < DOCTOR_EMPTY_BYTES {
        return EMPTY.to_string();
    }
    let big = |ratio: f32, limit: f32, bytes: i64| ratio > limit && bytes > DOCTOR_BYTES_MIN;
    let (alloc, active, resident) = (
        o.allocator_allocated,
        o.allocator_active,
        o.allocator_resident,
    );
    let findings: [(bool, &str); 7] = [
        (Overhead::ratio(o.peak, o.total) > 1.5, BIG_PEAK),
        (
            big(
                Overhead::ratio(o.rss, o.total),
                1.4,
                Overhead::diff(o.rss, o.total),
            ),
            HIGH_FRAG,
        ),
        (
            big(
                Overhead::ratio(active, alloc),
                1.1,
                Overhead::diff(active, alloc),
            ),
            HIGH_ALLOC_FRAG,
        ),
        (
            big(
                Overhead::ratio(resident, active),
                1.1,
                Overhead::diff(resident, active),
            ),
            HIGH_ALLOC_RSS,
        ),
        (
            big(
                Overhead::ratio(o.rss, resident),
                1.1,
                Overhead::diff(o.rss, resident),
            ),
            HIGH_PROC_RSS,
        ),
        (
            o.clients_normal / o.clients.max(1) > DOCTOR_CLIENT_BYTES_MAX,
            BIG_CLIENT_BUF,
        ),
        (o.scripts > DOCTOR_SCRIPTS_MAX, MANY_SCRIPTS),
    ];
    if !findings.iter().any(|f| f.0) {
        return FINE.to_string();
    }
    let mut s = HEAD.to_string();
    for (found, text) in findings {
        if found {
            s.push_str(text);
            if text == HIGH_FRAG {
                s.push_str(ALLOCATOR_NAME);
                s.push_str(HIGH_FRAG_END);
            }
        }
    }
    s.push_str(TAIL);
    s
}

pub fn cmd_memory_doctor(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let report = doctor_report(&Overhead::of(ctx));
    ctx.reply.verbatim(report.as_bytes());
}

pub fn cmd_memory_malloc_stats(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    use std::fmt::Write;
    let h = heap_info();
    let mut s = String::new();
    let _ = write!(
        s,
        "ringkv allocator: glibc malloc, every block counted at its usable size\n\
         bytes counted by ringkv's allocator wrapper (INFO's used_memory, plus the Lua \
         interpreters): {}\n\
         hash-table bucket arrays mapped outside malloc: {}\n\
         glibc heap (mallinfo2):\n\
         \x20 arena bytes taken with brk/sbrk: {}\n\
         \x20 bytes in blocks served by their own mmap: {} ({} blocks)\n\
         \x20 bytes in blocks handed out: {}\n\
         \x20 free bytes inside the arenas: {} ({} free chunks)\n\
         \x20 free bytes in fastbins: {} ({} chunks)\n\
         \x20 free bytes at the top of the main heap (MEMORY PURGE gives these back): {}\n",
        crate::alloc::allocated(),
        crate::alloc::mapped(),
        h.arena,
        h.mmapped,
        h.mmapped_blocks,
        h.in_use,
        h.free,
        h.free_chunks,
        h.fastbin_bytes,
        h.fastbin_chunks,
        h.top_releasable,
    );
    ctx.reply.verbatim(s.as_bytes());
}

pub fn cmd_memory_purge(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let released = crate::alloc::trim();
    log::debug!(
        "MEMORY PURGE: malloc_trim {}",
        if released {
            "gave memory back"
        } else {
            "found nothing to give back"
        }
    );
    ctx.reply.ok();
}

pub fn cmd_memory_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    const LINES: &[&str] = &[
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ];
    ctx.help(LINES);
}
