//! RDB snapshots, version 10 (Redis 7.0): a pure codec between `&[Db]` and bytes, with no I/O
//! inside. [`save_to`] writes what redis-server 7.0 writes for the same data (so
//! redis-server, redis-check-rdb and ringkv load each other's files with the same OBJECT
//! ENCODING answers); [`load`] reads every encoding Redis 7.0 still loads (plain, ziplist,
//! listpack, intset, zipmap, quicklist 1 and 2, zset 1 and 2, streams 1 and 2, the stream
//! codec being `rdb_stream.rs`) and function libraries (the
//! pre-release record of Redis 7.0's release candidates too, as 7.0.15 reads it), rejecting
//! modules, which ringkv does not have. The function libraries' codes are handed to the caller,
//! which creates them (the codec knows no Lua); [`function_payload`] and
//! [`parse_function_payload`] are FUNCTION DUMP / RESTORE's format, the same records;
//! [`dump_payload`] and [`parse_dump_payload`] are DUMP / RESTORE's, one value with its type
//! byte. Both payloads end with the RDB version (u16 LE) and a CRC-64 (u64 LE).
//!
//! ```text
//! "REDIS0010"
//! 0xFA aux-key aux-value          redis-ver, redis-bits, ctime, used-mem, aof-base
//! 0xF5 <string>                   FUNCTION2: one library's code, before any database
//!                                 (0xF6 <name> <engine> <len> [<desc>] <code>: pre-release)
//! 0xFE <db len>                   SELECTDB, for each non-empty database
//! 0xFB <keys len> <expires len>   RESIZEDB
//! [0xFC <u64 LE unix ms>]         EXPIRETIME_MS, before a key with a TTL
//! <type u8> <key string> <value>  0 string, 18 quicklist2, 16 hash listpack, 4 hash,
//!                                 11 intset, 2 set, 17 zset listpack, 5 zset2,
//!                                 19 stream listpacks 2
//! 0xFF <u64 LE CRC-64/Jones of everything before it; 0 = not computed>
//!
//! length:  00xxxxxx | 01xxxxxx xxxxxxxx | 0x80 <u32 BE> | 0x81 <u64 BE>
//! string:  <length> bytes | 0xC0 i8 | 0xC1 i16 LE | 0xC2 i32 LE | 0xC3 <clen> <len> LZF
//! ```
//!
//! Invariants of the loader: every read is bounds-checked against the input (an error names
//! the byte offset where it happened); a length read from the file never sizes an allocation
//! before the bytes it promises have been checked to exist (collections grow as elements
//! parse, LZF output is bounded by the compressed size times LZF's best ratio); every loop
//! consumes input on each turn, so it ends within the input's length. A value that would break
//! an invariant of ringkv's types (a NaN score, a duplicate member, an empty collection) is an
//! error or, for empty collections, skipped as Redis 7.0 skips them.

use std::borrow::Cow;

#[path = "rdb_stream.rs"]
mod stream_codec;

use super::rdb_lp::{self, Entry, LpWriter};
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::types::hash::{self, Hash};
use crate::types::list::List;
use crate::types::set::{Member, Set};
use crate::types::zset::{self, ZSet};

/// The version this codec writes (Redis 7.0's `RDB_VERSION`).
pub const RDB_VERSION: u32 = 10;
/// The Redis version written into the `redis-ver` aux field (INFO says the same).
pub const REDIS_VER: &str = "7.0.15";

const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_MODULE: u8 = 6;
const TYPE_MODULE_2: u8 = 7;
const TYPE_HASH_ZIPMAP: u8 = 9;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_ZSET_ZIPLIST: u8 = 12;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_STREAM_LISTPACKS: u8 = 15;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;

const OP_FUNCTION2: u8 = 245;
const OP_FUNCTION: u8 = 246;
const OP_MODULE_AUX: u8 = 247;
const OP_IDLE: u8 = 248;
const OP_FREQ: u8 = 249;
const OP_AUX: u8 = 250;
const OP_RESIZEDB: u8 = 251;
/// The fewest bytes a key takes in an RDB (type, key length, value length): a RESIZEDB hint
/// sizes a table for no more keys than the rest of the file can hold, as the hint may be
/// corrupt and mapped buckets count in used memory.
const KEY_RECORD_MIN_BYTES: usize = 3;
const OP_EXPIRETIME_MS: u8 = 252;
const OP_EXPIRETIME: u8 = 253;
const OP_SELECTDB: u8 = 254;
const OP_EOF: u8 = 255;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Quicklist 2 node containers.
const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// LZF's best case turns 3 bytes into 264, so no valid input expands by more than this.
const LZF_RATIO_MAX: usize = 90;
/// Redis compresses only strings longer than this.
const LZF_MIN_LEN: usize = 20;
/// Byte bound of a listpack node for fill -1..-5 (Redis's `optimization_level`), and the
/// safety bound for positive fills.
const LIST_NODE_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
const LIST_NODE_SAFETY_BYTES: usize = 8192;
/// Redis 7.0's `SIZE_ESTIMATE_OVERHEAD`: the bytes a quicklist assumes an element adds to a
/// listpack beyond its length when deciding whether it still fits in a node.
const LIST_ENTRY_OVERHEAD_EST: usize = 8;

/// A malformed or unsupported input, with the byte offset where reading failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at offset {})", self.message, self.offset)
    }
}

impl std::error::Error for RdbError {}

/// CRC-64/Jones as Redis computes it over a whole file (`crc64(0, buf, len)`).
pub fn crc64(bytes: &[u8]) -> u64 {
    CRC64_STATIC.checksum(bytes)
}

// =============================================================================================
// Saving

/// How to write a snapshot.
#[derive(Clone, Debug)]
pub struct SaveOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it saves 4+ bytes.
    pub compression: bool,
    /// `rdbchecksum`: write the CRC-64 trailer (else eight zero bytes).
    pub checksum: bool,
    /// Aux fields written after the header, in order (see [`SaveOptions::aux_redis_7`]).
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// The function libraries' codes, written after the aux fields.
    pub functions: Vec<Vec<u8>>,
}

impl SaveOptions {
    /// The aux fields Redis 7.0 writes outside replication: redis-ver, redis-bits, ctime,
    /// used-mem, aof-base.
    pub fn aux_redis_7(ctime_s: u64, used_mem: u64, aof_base: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
        let kv = |k: &str, v: String| (k.as_bytes().to_vec(), v.into_bytes());
        vec![
            kv("redis-ver", REDIS_VER.to_string()),
            kv("redis-bits", "64".to_string()),
            kv("ctime", ctime_s.to_string()),
            kv("used-mem", used_mem.to_string()),
            kv("aof-base", u8::from(aof_base).to_string()),
        ]
    }
}

fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Writes a string as Redis's `rdbSaveRawString`: a short canonical integer that fits 32 bits
/// in an integer encoding, a long one LZF-compressed when that saves at least 4 bytes.
fn put_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(n) = crate::util::num::parse_i64_strict(s) {
            if let Ok(v) = i8::try_from(n) {
                out.push(0xC0 | ENC_INT8);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            } else if let Ok(v) = i16::try_from(n) {
                out.push(0xC0 | ENC_INT16);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            } else if let Ok(v) = i32::try_from(n) {
                out.push(0xC0 | ENC_INT32);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    if compress && s.len() > LZF_MIN_LEN {
        if let Ok(c) = lzf::compress(s) {
            if c.len() + 4 <= s.len() {
                out.push(0xC0 | ENC_LZF);
                put_len(out, c.len() as u64);
                put_len(out, s.len() as u64);
                out.extend_from_slice(&c);
                return;
            }
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// C's `printf("%.17g", x)`, the form Redis uses for scores in DEBUG DIGEST and listpacks.
pub fn fmt_g17(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // 17 significant digits, correctly rounded; its exponent decides the style as in C.
    let e_form = format!("{x:.16e}");
    let (mant, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..17).contains(&exp) {
        let prec = (16 - exp) as usize;
        strip(&format!("{x:.prec$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mant), exp.abs())
    }
}

/// Redis's `d2string` for a listpack score: an integral value below 2^52 as an integer, any
/// other as `%.17g`.
fn score_string(score: f64) -> String {
    const LIMIT: f64 = 4_503_599_627_370_496.0;
    if score == 0.0 {
        // Redis's listpacks hold no negative zero (zset.rs keeps +0.0 there too).
        return "0".into();
    }
    if score > -LIMIT && score < LIMIT && score == score.trunc() {
        return (score as i64).to_string();
    }
    fmt_g17(score)
}

/// Groups list elements into listpack nodes as a Redis 7.0 quicklist with the list's fill
/// (`list-max-listpack-size` when the list was made) groups elements appended one by one
/// (`_quicklistNodeAllowInsert`): an element joins the last node unless the node's listpack
/// bytes plus the element's length plus `LIST_ENTRY_OVERHEAD_EST` would pass the byte bound,
/// or, under a positive fill, the node already holds `fill` entries. Redis keeps the nodes its
/// history made, so a list it built from the head (LPUSH) or edited in the middle may have
/// other node boundaries than these; the elements are the same. With a compression depth the
/// interior nodes are written LZF-compressed, as Redis 7.0 writes the nodes its quicklist
/// keeps compressed.
fn put_list(out: &mut Vec<u8>, l: &List, compress: bool) {
    let fill = l.fill();
    let (bytes_max, count_max) = if fill < 0 {
        let i = ((-fill) as usize).clamp(1, LIST_NODE_BYTES.len()) - 1;
        (LIST_NODE_BYTES[i], usize::MAX)
    } else {
        (LIST_NODE_SAFETY_BYTES, (fill as usize).max(1))
    };
    let mut nodes: Vec<Vec<u8>> = Vec::new();
    let mut cur = LpWriter::new();
    for e in l.iter() {
        // Redis's node size (`lpBytes`) counts the end marker, which `bytes_len` does not.
        let grows_past = cur.bytes_len() + 1 + e.len() + LIST_ENTRY_OVERHEAD_EST > bytes_max;
        if !cur.is_empty() && (grows_past || cur.len() >= count_max) {
            nodes.push(std::mem::take(&mut cur).finish());
        }
        cur.push(&e);
    }
    if !cur.is_empty() {
        nodes.push(cur.finish());
    }
    // Redis writes a node its quicklist holds compressed (all but `list-compress-depth` nodes
    // at each end) as that LZF blob, whatever `rdbcompression` says, and the others as
    // strings (`rdbSaveLzfBlob` / `rdbSaveRawString`).
    let depth = l.compress_depth() as usize;
    put_len(out, nodes.len() as u64);
    for (i, n) in nodes.iter().enumerate() {
        put_len(out, QUICKLIST_NODE_PACKED);
        let interior = depth > 0 && i >= depth && i + depth < nodes.len();
        match interior
            .then(|| crate::types::list::lzf_compress_node(n))
            .flatten()
        {
            Some(c) => {
                out.push(0xC0 | ENC_LZF);
                put_len(out, c.len() as u64);
                put_len(out, n.len() as u64);
                out.extend_from_slice(&c);
            }
            None => put_string(out, n, compress),
        }
    }
}

/// Appends the type byte, the key and the value's bytes.
fn put_value(out: &mut Vec<u8>, key: &[u8], v: &Value, c: bool) {
    let type_at = out.len();
    out.push(0);
    put_string(out, key, c);
    out[type_at] = put_object(out, v, c);
}

/// Appends the value's bytes (Redis's `rdbSaveObject`) and returns its type byte.
fn put_object(out: &mut Vec<u8>, v: &Value, c: bool) -> u8 {
    let mut ibuf = itoa::Buffer::new();
    match v {
        Value::Int(_) | Value::Small(_) | Value::Emb(_) | Value::Raw(_) => {
            put_string(out, v.str_bytes(&mut ibuf).unwrap_or_default(), c);
            TYPE_STRING
        }
        Value::List(l) => {
            put_list(out, l, c);
            TYPE_LIST_QUICKLIST_2
        }
        Value::Hash(h) if h.is_listpack() => {
            let mut w = LpWriter::new();
            h.for_each(|f, v| {
                w.push(f);
                w.push(v);
            });
            put_string(out, &w.finish(), c);
            TYPE_HASH_LISTPACK
        }
        Value::Hash(h) => {
            put_len(out, h.len() as u64);
            h.for_each(|f, v| {
                put_string(out, f, c);
                put_string(out, v, c);
            });
            TYPE_HASH
        }
        Value::Set(s) if s.is_intset() => {
            let mut ints = Vec::with_capacity(s.len());
            s.for_each(|m| ints.extend(m.as_int()));
            put_string(out, &rdb_lp::intset_encode(&ints), c);
            TYPE_SET_INTSET
        }
        Value::Set(s) => {
            put_len(out, s.len() as u64);
            s.for_each(|m| put_string(out, m.bytes(&mut ibuf), c));
            TYPE_SET
        }
        Value::ZSet(z) if z.encoding() == "listpack" => {
            let mut w = LpWriter::new();
            for (m, s) in z.iter_from(0, false) {
                w.push(m);
                w.push(score_string(s).as_bytes());
            }
            put_string(out, &w.finish(), c);
            TYPE_ZSET_LISTPACK
        }
        Value::ZSet(z) => {
            put_len(out, z.len() as u64);
            // Greatest first, as Redis writes it (its loader then inserts at the head).
            let last = z.len().saturating_sub(1);
            for (m, s) in z.iter_from(last, true) {
                put_string(out, m, c);
                out.extend_from_slice(&s.to_le_bytes());
            }
            TYPE_ZSET_2
        }
        Value::Stream(s) => {
            stream_codec::put_stream(out, s, c);
            TYPE_STREAM_LISTPACKS_2
        }
    }
}

/// The bytes `v`'s value part takes in a snapshot written with `compression` (rdbcompression):
/// no type byte, no key, no expiry (Redis's `rdbSavedObjectLen`, which DEBUG OBJECT reports as
/// `serializedlength`). The value is written out to be measured, as LZF's output size is only
/// known by compressing.
pub fn saved_value_len(v: &Value, compression: bool) -> usize {
    let mut out = Vec::new();
    put_value(&mut out, b"", v, compression);
    // The type byte and the empty key's one length byte.
    const PREFIX_LEN: usize = 2;
    debug_assert!(out.len() > PREFIX_LEN && out[1] == 0);
    out.len() - PREFIX_LEN
}

/// An RDB written record by record, for callers that produce a snapshot in slices (a
/// background save walking the keyspace a bit per loop turn, an AOF rewrite writing its RDB
/// preamble): `new` writes the header and aux fields, then any sequence of `select_db` and
/// `key_value` (SELECTDB may repeat; a key belongs to the last database selected), then
/// `finish` adds EOF and the checksum. `take_bytes` hands out what is buffered so far, so the
/// caller can write it out and keep memory bounded; the checksum covers every byte either way.
pub struct RdbWriter {
    buf: Vec<u8>,
    crc: crc::Digest<'static, u64, crc::Table<16>>,
    compression: bool,
    checksum: bool,
    /// Per database, the (keys, keys with a TTL) a RESIZEDB after its first SELECT
    /// announces (`with_db_sizes`); taken when written.
    db_sizes: Vec<Option<(usize, usize)>>,
}

/// Slice-by-16 tables (16 KiB): the bytewise table's one lookup per byte was 6.6% of loading
/// a 1M-key RDB (the whole file is checksummed) and ~4% of writing one.
static CRC64_STATIC: crc::Crc<u64, crc::Table<16>> =
    crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

impl RdbWriter {
    pub fn new(opts: &SaveOptions) -> RdbWriter {
        let mut buf = format!("REDIS{RDB_VERSION:04}").into_bytes();
        for (k, v) in &opts.aux {
            buf.push(OP_AUX);
            put_string(&mut buf, k, false);
            put_string(&mut buf, v, false);
        }
        put_functions(
            &mut buf,
            opts.functions.iter().map(Vec::as_slice),
            opts.compression,
        );
        RdbWriter {
            buf,
            crc: CRC64_STATIC.digest(),
            compression: opts.compression,
            checksum: opts.checksum,
            db_sizes: Vec::new(),
        }
    }

    /// Has `select` follow the first SELECTDB of database i with RESIZEDB `sizes[i]` (keys,
    /// keys with a TTL), as Redis's saves do: its loader, and ours, size the tables from it
    /// instead of growing them key by key. A sliced snapshot passes the sizes at its start.
    pub fn with_db_sizes(mut self, sizes: Vec<(usize, usize)>) -> RdbWriter {
        self.db_sizes = sizes.into_iter().map(Some).collect();
        self
    }

    /// SELECTDB and RESIZEDB (sizes are hints for the loader).
    pub fn select_db(&mut self, index: usize, keys: usize, expires: usize) {
        self.buf.push(OP_SELECTDB);
        put_len(&mut self.buf, index as u64);
        self.buf.push(OP_RESIZEDB);
        put_len(&mut self.buf, keys as u64);
        put_len(&mut self.buf, expires as u64);
    }

    /// SELECTDB, for a writer that switches between databases as keys arrive; the first
    /// time for a database given sizes (`with_db_sizes`), RESIZEDB too.
    pub fn select(&mut self, index: usize) {
        match self.db_sizes.get_mut(index).and_then(Option::take) {
            Some((keys, expires)) => self.select_db(index, keys, expires),
            None => {
                self.buf.push(OP_SELECTDB);
                put_len(&mut self.buf, index as u64);
            }
        }
    }

    /// One key: its absolute expiry if any, then type, key and value.
    pub fn key_value(&mut self, key: &[u8], value: &Value, deadline_ms: Option<u64>) {
        if let Some(ms) = deadline_ms {
            self.buf.push(OP_EXPIRETIME_MS);
            self.buf.extend_from_slice(&ms.to_le_bytes());
        }
        put_value(&mut self.buf, key, value, self.compression);
    }

    /// Bytes buffered and not yet taken.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The bytes written since the last call (folded into the checksum).
    pub fn take_bytes(&mut self) -> Vec<u8> {
        self.crc.update(&self.buf);
        std::mem::take(&mut self.buf)
    }

    /// EOF and the checksum trailer (zero when checksums are off); returns the bytes not yet
    /// taken, trailer included.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(OP_EOF);
        self.crc.update(&self.buf);
        let sum = if self.checksum {
            self.crc.finalize()
        } else {
            0
        };
        self.buf.extend_from_slice(&sum.to_le_bytes());
        self.buf
    }
}

/// Writes a whole snapshot of `dbs` to `out`: header, aux fields, each non-empty database,
/// EOF and the checksum trailer. Keys past their deadline but not reaped are written too, as
/// Redis writes them (the loader decides: `LoadOptions::skip_expired`).
pub fn save_to(dbs: &[Db], out: &mut Vec<u8>, opts: &SaveOptions) {
    let mut w = RdbWriter::new(opts);
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.select_db(i, db.len(), db.expires_len());
        db.for_each_with_expiry(|k, v, deadline_ms| w.key_value(k, v, deadline_ms));
    }
    out.extend_from_slice(&w.finish());
}

/// One FUNCTION2 record per library code (Redis's `rdbSaveFunctions`).
pub fn put_functions<'a>(out: &mut Vec<u8>, codes: impl Iterator<Item = &'a [u8]>, compress: bool) {
    for code in codes {
        out.push(OP_FUNCTION2);
        put_string(out, code, compress);
    }
}

/// Appends the trailer of a DUMP payload (key or FUNCTION): the RDB version (u16 LE) and the
/// CRC-64 of everything before it, trailer's version included (u64 LE), as Redis's
/// `createDumpPayload` writes it.
fn put_dump_trailer(out: &mut Vec<u8>) {
    out.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = crc64(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Redis 7.0's `verifyDumpPayload`: at least the 10 trailer bytes, a version this codec
/// reads, and (when `verify_checksum`) a CRC-64 that matches. A zero CRC is checked like any
/// other, as 7.0 does.
fn dump_trailer_ok(data: &[u8], verify_checksum: bool) -> bool {
    let Some(footer_at) = data.len().checked_sub(10) else {
        return false;
    };
    let footer = &data[footer_at..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if u32::from(version) > RDB_VERSION {
        return false;
    }
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&footer[2..]);
    !verify_checksum || crc64(&data[..data.len() - 8]) == u64::from_le_bytes(stored)
}

/// Redis's text for a payload whose trailer is wrong (without `ERR `).
const DUMP_TRAILER_BAD: &str = "DUMP payload version or checksum are wrong";

/// FUNCTION DUMP's payload: the FUNCTION2 records and the DUMP trailer, as Redis's
/// `functionDumpCommand` writes it.
pub fn function_payload<'a>(codes: impl Iterator<Item = &'a [u8]>, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    put_functions(&mut out, codes, compress);
    put_dump_trailer(&mut out);
    out
}

/// The library codes of a FUNCTION RESTORE payload, or Redis's error text (without `ERR `).
/// `verify_checksum` is false when Redis's `skip_checksum_validation` would be set.
pub fn parse_function_payload(data: &[u8], verify_checksum: bool) -> Result<Vec<Vec<u8>>, String> {
    if !dump_trailer_ok(data, verify_checksum) {
        return Err(DUMP_TRAILER_BAD.into());
    }
    let mut r = Reader { buf: data, pos: 0 };
    let mut codes = Vec::new();
    // Records up to the last 10 bytes (Redis reads from the whole payload, trailer
    // included, so a record may run into it, as there).
    while data.len() - r.pos > 10 {
        let Ok(t) = r.u8() else {
            return Err("can not read data type".into());
        };
        if t != OP_FUNCTION && t != OP_FUNCTION2 {
            return Err("given type is not a function".into());
        }
        codes.push(read_function(&mut r, t).map_err(|(_, e)| e.to_string())?);
    }
    Ok(codes)
}

/// DUMP's payload for one value: its type byte, the value as an RDB holds it (no key, no
/// expiry) and the DUMP trailer, as Redis's `createDumpPayload` writes it.
pub fn dump_payload(v: &Value, compress: bool) -> Vec<u8> {
    let mut out = vec![0];
    out[0] = put_object(&mut out, v, compress);
    put_dump_trailer(&mut out);
    out
}

/// Why RESTORE refuses a payload, each one of Redis's texts (without `ERR `).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DumpPayloadError {
    /// Too short, a newer RDB version, or a CRC-64 that does not match.
    Trailer,
    /// The trailer is right but the value does not load (the RDB error says why, for logs
    /// and tests; Redis answers the same text for every cause).
    BadFormat(RdbError),
}

impl DumpPayloadError {
    pub fn message(&self) -> &'static str {
        match self {
            DumpPayloadError::Trailer => DUMP_TRAILER_BAD,
            DumpPayloadError::BadFormat(_) => "Bad data format",
        }
    }
}

/// The value of a RESTORE payload, loaded with `lim` (the server's encoding settings). The
/// value is read from the start of the whole payload, trailer included, as Redis reads it, so
/// a value that runs into the trailer loads what it finds there and bytes left between the
/// value and the trailer are ignored, as in Redis 7.0. An empty collection is refused (Redis
/// 7.0's loader reports it as an empty key). Every read is bounded by the payload (the
/// loader's invariants, above).
pub fn parse_dump_payload(
    data: &[u8],
    verify_checksum: bool,
    lim: &Limits,
) -> Result<Value, DumpPayloadError> {
    if !dump_trailer_ok(data, verify_checksum) {
        return Err(DumpPayloadError::Trailer);
    }
    let mut r = Reader { buf: data, pos: 0 };
    let t = r.u8().map_err(DumpPayloadError::BadFormat)?;
    match load_value(&mut r, t, 0, lim).map_err(DumpPayloadError::BadFormat)? {
        Loaded::Value(v) => Ok(v),
        Loaded::Empty => Err(DumpPayloadError::BadFormat(RdbError {
            offset: 0,
            message: "empty collection".into(),
        })),
    }
}

/// One library record after its opcode, as Redis 7.0's `rdbFunctionLoad` reads it: the code
/// (FUNCTION2), or the pre-release record (FUNCTION: name, engine, an optional description
/// and the code after the shebang) turned into the code it stands for. An error carries the
/// offset where reading failed and Redis's text.
fn read_function(r: &mut Reader<'_>, opcode: u8) -> Result<Vec<u8>, (usize, &'static str)> {
    let at = r.pos;
    if opcode == OP_FUNCTION2 {
        return r
            .string()
            .map(Cow::into_owned)
            .map_err(|_| (at, "Failed loading library payload"));
    }
    let name = r
        .string()
        .map_err(|_| (at, "Failed loading library name"))?;
    let at = r.pos;
    let engine = r.string().map_err(|_| (at, "Failed loading engine name"))?;
    let at = r.pos;
    let has_desc = r
        .len()
        .map_err(|_| (at, "Failed loading library description indicator"))?;
    if has_desc != 0 {
        let at = r.pos;
        r.string()
            .map_err(|_| (at, "Failed loading library description"))?;
    }
    let at = r.pos;
    let blob = r
        .string()
        .map_err(|_| (at, "Failed loading library blob"))?;
    // Redis's "#!%s name=%s\n%s", each part as a C string.
    let c = |s: &[u8]| s.split(|&b| b == 0).next().unwrap_or_default().to_vec();
    let mut code = b"#!".to_vec();
    code.extend_from_slice(&c(&engine));
    code.extend_from_slice(b" name=");
    code.extend_from_slice(&c(&name));
    code.push(b'\n');
    code.extend_from_slice(&c(&blob));
    Ok(code)
}

// =============================================================================================
// Loading

/// Encoding thresholds applied to loaded values (from the config, as Redis does on load).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub list_fill: i32,
    pub list_compress_depth: u32,
    pub hash: hash::Limits,
    pub set_intset_entries_max: usize,
    pub zset: zset::Limits,
}

impl Limits {
    /// The shape of a loaded list: the current `list-max-listpack-size` and
    /// `list-compress-depth`, as Redis applies them to the quicklists it loads.
    pub fn list_shape(&self) -> crate::types::list::Shape {
        crate::types::list::Shape {
            fill: self.list_fill,
            compress_depth: self.list_compress_depth,
        }
    }
}

impl Default for Limits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        Limits {
            list_fill: -2,
            list_compress_depth: 0,
            hash: hash::Limits {
                entries_max: 512,
                value_len_max: 64,
            },
            set_intset_entries_max: 512,
            zset: zset::Limits {
                entries_max: 128,
                value_max: 64,
            },
        }
    }
}

/// How to load.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The loop's clock, for expiry decisions.
    pub now_ms: u64,
    /// Leave out keys whose deadline has passed (Redis does for a master, except in an AOF
    /// preamble, where the AOF's own commands decide).
    pub skip_expired: bool,
    /// `rdbchecksum`: check the trailer (a zero trailer is never checked, as in Redis).
    pub verify_checksum: bool,
    /// A key already in the database is replaced (DEBUG RELOAD MERGE) instead of an error.
    pub merge: bool,
    pub limits: Limits,
}

impl LoadOptions {
    pub fn new(now_ms: u64) -> LoadOptions {
        LoadOptions {
            now_ms,
            skip_expired: true,
            verify_checksum: true,
            merge: false,
            limits: Limits::default(),
        }
    }
}

/// What a load found besides the keys.
#[derive(Clone, Debug, Default)]
pub struct LoadStats {
    pub version: u32,
    pub keys_loaded: u64,
    pub keys_expired: u64,
    /// Keys skipped because their collection was empty.
    pub keys_empty: u64,
    /// Bytes of input the RDB occupied (up to and including the checksum trailer).
    pub consumed: usize,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// The function libraries' codes, each with the offset of its record (the caller
    /// creates them and reports a failure at that offset).
    pub functions: FoundLibraries,
}

/// Function library codes read from an RDB, each with the offset of its record.
pub type FoundLibraries = Vec<(usize, Vec<u8>)>;

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

type R<T> = Result<T, RdbError>;

impl<'a> Reader<'a> {
    fn err<T>(&self, at: usize, message: impl Into<String>) -> R<T> {
        Err(RdbError {
            offset: at,
            message: message.into(),
        })
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        match self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end))
        {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => self.err(
                self.pos,
                format!(
                    "unexpected end of file: {n} bytes needed, {} left",
                    self.buf.len() - self.pos
                ),
            ),
        }
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    fn u64_le(&mut self) -> R<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A length or, when `Err(kind)`, the special-encoding marker of a string.
    fn len_or_enc(&mut self) -> R<Result<u64, u8>> {
        let at = self.pos;
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => Ok(u64::from(b & 0x3F)),
            1 => Ok((u64::from(b & 0x3F) << 8) | u64::from(self.u8()?)),
            3 => Err(b & 0x3F),
            _ => match b {
                0x80 => {
                    let s = self.take(4)?;
                    Ok(u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])))
                }
                0x81 => {
                    let s = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(s);
                    Ok(u64::from_be_bytes(a))
                }
                _ => return self.err(at, format!("unknown length encoding 0x{b:02x}")),
            },
        })
    }

    fn len(&mut self) -> R<u64> {
        let at = self.pos;
        match self.len_or_enc()? {
            Ok(n) => Ok(n),
            Err(_) => self.err(at, "string encoding where a length was expected"),
        }
    }

    /// A length that counts bytes still to be read: checked against what is left.
    fn byte_len(&mut self) -> R<usize> {
        let at = self.pos;
        let n = self.len()?;
        if n > (self.buf.len() - self.pos) as u64 {
            return self.err(at, format!("length {n} runs past the end of the file"));
        }
        Ok(n as usize)
    }

    fn string(&mut self) -> R<Cow<'a, [u8]>> {
        let at = self.pos;
        match self.len_or_enc()? {
            Ok(n) => {
                if n > (self.buf.len() - self.pos) as u64 {
                    return self.err(
                        at,
                        format!("string length {n} runs past the end of the file"),
                    );
                }
                Ok(Cow::Borrowed(self.take(n as usize)?))
            }
            Err(ENC_INT8) => Ok(Cow::Owned((self.u8()? as i8).to_string().into_bytes())),
            Err(ENC_INT16) => {
                let b = self.take(2)?;
                Ok(Cow::Owned(
                    i16::from_le_bytes([b[0], b[1]]).to_string().into_bytes(),
                ))
            }
            Err(ENC_INT32) => {
                let b = self.take(4)?;
                let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                Ok(Cow::Owned(v.to_string().into_bytes()))
            }
            Err(ENC_LZF) => {
                let clen = self.byte_len()?;
                let ulen_at = self.pos;
                let ulen = self.len()?;
                if clen == 0 || ulen == 0 || ulen > (clen as u64) * LZF_RATIO_MAX as u64 {
                    return self.err(ulen_at, format!("bad LZF lengths {clen} -> {ulen}"));
                }
                let data = self.take(clen)?;
                match lzf::decompress(data, ulen as usize) {
                    Ok(v) if v.len() == ulen as usize => Ok(Cow::Owned(v)),
                    _ => self.err(at, "LZF data does not decompress"),
                }
            }
            Err(e) => self.err(at, format!("unknown string encoding {e}")),
        }
    }

    /// A score of the old ZSET type: a length byte, 253/254/255 for nan/+inf/-inf.
    fn text_double(&mut self) -> R<f64> {
        let at = self.pos;
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let s = self.take(usize::from(n))?;
                match parse_double(s) {
                    Some(v) => Ok(v),
                    None => self.err(at, "bad double value"),
                }
            }
        }
    }
}

fn parse_double(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.trim().parse::<f64>().ok()
}

/// A loaded value, or a collection that turned out empty (Redis skips those keys).
enum Loaded {
    Value(Value),
    Empty,
}

/// Adds a score/member to a zset under construction; rejects NaN and duplicates.
fn zset_push(
    seen: &mut std::collections::HashSet<Box<[u8]>>,
    entries: &mut Vec<(Box<[u8]>, f64)>,
    member: Box<[u8]>,
    score: f64,
) -> Result<(), String> {
    if score.is_nan() {
        return Err("sorted set score is NaN".into());
    }
    if !seen.insert(member.clone()) {
        return Err("duplicate sorted set member".into());
    }
    entries.push((member, score));
    Ok(())
}

fn zset_build(mut entries: Vec<(Box<[u8]>, f64)>, limits: zset::Limits) -> Loaded {
    if entries.is_empty() {
        return Loaded::Empty;
    }
    entries.sort_by(|a, b| crate::types::avl::cmp_entry(a.1, &a.0, b.1, &b.0));
    Loaded::Value(Value::ZSet(Box::new(ZSet::from_sorted(entries, limits))))
}

fn list_value(l: List) -> Loaded {
    if l.is_empty() {
        Loaded::Empty
    } else {
        Loaded::Value(Value::List(Box::new(l)))
    }
}

fn hash_value(h: Hash) -> Loaded {
    if h.is_empty() {
        Loaded::Empty
    } else {
        Loaded::Value(Value::Hash(Box::new(h)))
    }
}

fn set_value(s: Set) -> Loaded {
    if s.is_empty() {
        Loaded::Empty
    } else {
        Loaded::Value(Value::Set(Box::new(s)))
    }
}

/// Reads one value of type `t` (whose type byte sat at `type_at`, before the key).
fn load_value(r: &mut Reader<'_>, t: u8, type_at: usize, lim: &Limits) -> R<Loaded> {
    let at = r.pos;
    // Errors inside a blob name the blob's start.
    let blob_err = |m: String| RdbError {
        offset: at,
        message: m,
    };
    let mut ibuf = itoa::Buffer::new();
    Ok(match t {
        TYPE_STRING => Loaded::Value(Value::from_bytes(&r.string()?)),
        TYPE_LIST => {
            let n = r.len()?;
            let mut l = List::with_shape(lim.list_shape());
            for _ in 0..n {
                l.push_back(&r.string()?);
            }
            list_value(l)
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let nodes = r.len()?;
            let mut l = List::with_shape(lim.list_shape());
            for _ in 0..nodes {
                let container = if t == TYPE_LIST_QUICKLIST_2 {
                    let c_at = r.pos;
                    let c = r.len()?;
                    if c != QUICKLIST_NODE_PLAIN && c != QUICKLIST_NODE_PACKED {
                        return r.err(c_at, format!("unknown quicklist node container {c}"));
                    }
                    c
                } else {
                    QUICKLIST_NODE_PACKED
                };
                let node_at = r.pos;
                let blob = r.string()?;
                if container == QUICKLIST_NODE_PLAIN {
                    l.push_back(&blob);
                    continue;
                }
                let push = |e: Entry<'_>| {
                    let mut b = itoa::Buffer::new();
                    l.push_back(e.bytes(&mut b));
                    Ok(())
                };
                let res = if t == TYPE_LIST_QUICKLIST_2 {
                    rdb_lp::listpack_for_each(&blob, push)
                } else {
                    rdb_lp::ziplist_for_each(&blob, push)
                };
                res.map_err(|m| RdbError {
                    offset: node_at,
                    message: format!("bad quicklist node: {m}"),
                })?;
            }
            list_value(l)
        }
        TYPE_LIST_ZIPLIST => {
            let blob = r.string()?;
            let mut l = List::with_shape(lim.list_shape());
            rdb_lp::ziplist_for_each(&blob, |e| {
                l.push_back(e.bytes(&mut ibuf));
                Ok(())
            })
            .map_err(|m| blob_err(format!("bad list ziplist: {m}")))?;
            list_value(l)
        }
        TYPE_SET => {
            let n = r.len()?;
            let mut s = Set::new();
            for _ in 0..n {
                let m_at = r.pos;
                let m = r.string()?;
                if !s.add(&m, lim.set_intset_entries_max) {
                    return r.err(m_at, "duplicate set member");
                }
            }
            set_value(s)
        }
        TYPE_SET_INTSET => {
            let blob = r.string()?;
            let ints =
                rdb_lp::intset_values(&blob).map_err(|m| blob_err(format!("bad intset: {m}")))?;
            let mut s = Set::new();
            for v in ints {
                s.add_member(Member::Int(v), lim.set_intset_entries_max);
            }
            set_value(s)
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.len()?;
            let mut seen = std::collections::HashSet::new();
            let mut entries = Vec::new();
            for _ in 0..n {
                let m_at = r.pos;
                let m: Box<[u8]> = r.string()?.into_owned().into_boxed_slice();
                let score = if t == TYPE_ZSET_2 {
                    f64::from_bits(r.u64_le()?)
                } else {
                    r.text_double()?
                };
                zset_push(&mut seen, &mut entries, m, score).map_err(|message| RdbError {
                    offset: m_at,
                    message,
                })?;
            }
            zset_build(entries, lim.zset)
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let blob = r.string()?;
            let mut flat: Vec<Vec<u8>> = Vec::new();
            let res = if t == TYPE_ZSET_LISTPACK {
                rdb_lp::listpack_for_each(&blob, |e| {
                    flat.push(e.to_vec());
                    Ok(())
                })
            } else {
                rdb_lp::ziplist_for_each(&blob, |e| {
                    flat.push(e.to_vec());
                    Ok(())
                })
            };
            res.map_err(|m| blob_err(format!("bad sorted set blob: {m}")))?;
            if !flat.len().is_multiple_of(2) {
                return Err(blob_err("sorted set blob has an odd entry count".into()));
            }
            let mut seen = std::collections::HashSet::new();
            let mut entries = Vec::new();
            let mut it = flat.into_iter();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                let score = parse_double(&s)
                    .ok_or_else(|| blob_err("bad score in sorted set blob".into()))?;
                zset_push(&mut seen, &mut entries, m.into_boxed_slice(), score)
                    .map_err(&blob_err)?;
            }
            // Redis keeps a loaded listpack unless it has too many entries (not too long ones).
            let limits = zset::Limits {
                entries_max: lim.zset.entries_max,
                value_max: usize::MAX,
            };
            zset_build(entries, limits)
        }
        TYPE_HASH => {
            let n = r.len()?;
            let mut h = Hash::new();
            for _ in 0..n {
                let f_at = r.pos;
                let f = r.string()?;
                let v = r.string()?;
                if !h.set(&f, &v, lim.hash) {
                    return r.err(f_at, "duplicate hash field");
                }
            }
            hash_value(h)
        }
        TYPE_HASH_ZIPMAP | TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
            let blob = r.string()?;
            let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let res = match t {
                TYPE_HASH_ZIPMAP => rdb_lp::zipmap_for_each(&blob, |k, v| {
                    pairs.push((k.to_vec(), v.to_vec()));
                    Ok(())
                }),
                _ => {
                    let mut pending: Option<Vec<u8>> = None;
                    let mut each = |e: Entry<'_>| {
                        match pending.take() {
                            None => pending = Some(e.to_vec()),
                            Some(f) => pairs.push((f, e.to_vec())),
                        }
                        Ok(())
                    };
                    let r2 = if t == TYPE_HASH_LISTPACK {
                        rdb_lp::listpack_for_each(&blob, &mut each)
                    } else {
                        rdb_lp::ziplist_for_each(&blob, &mut each)
                    };
                    match r2 {
                        Ok(_) if pending.is_some() => {
                            Err("hash blob has an odd entry count".into())
                        }
                        other => other,
                    }
                }
            };
            res.map_err(|m| blob_err(format!("bad hash blob: {m}")))?;
            let mut h = Hash::new();
            // Redis 7.0 keeps a loaded ziplist/listpack unless it has too many entries; a
            // zipmap converts when it is over either limit (a long field or value too).
            let too_long = t == TYPE_HASH_ZIPMAP
                && pairs.iter().any(|(f, v)| {
                    f.len() > lim.hash.value_len_max || v.len() > lim.hash.value_len_max
                });
            let too_big = pairs.len() > lim.hash.entries_max || too_long;
            if too_big {
                h.convert_to_table();
            }
            let keep = hash::Limits {
                entries_max: usize::MAX,
                value_len_max: usize::MAX,
            };
            for (f, v) in &pairs {
                if !h.set(f, v, keep) {
                    return Err(blob_err("duplicate hash field".into()));
                }
            }
            hash_value(h)
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 => {
            stream_codec::load_stream(r, t == TYPE_STREAM_LISTPACKS_2)?
        }
        TYPE_MODULE | TYPE_MODULE_2 => {
            return r.err(type_at, "module values are not supported by ringkv");
        }
        _ => return r.err(type_at, format!("unknown value type {t}")),
    })
}

/// Loads an RDB file (or an AOF's RDB preamble) from the start of `bytes` into `dbs`.
/// Returns what it found, including `consumed`: the bytes the RDB took, so an AOF loader can
/// go on with the commands after it. On error the databases hold the keys loaded before it.
pub fn load(bytes: &[u8], dbs: &mut [Db], opts: &LoadOptions) -> Result<LoadStats, RdbError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let magic = r.take(9).map_err(|mut e| {
        e.message = "file too short for an RDB header".into();
        e
    })?;
    if &magic[..5] != b"REDIS" {
        return r.err(0, "wrong signature trying to load DB from file");
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u32>().ok());
    let version = match version {
        Some(v) if (1..=RDB_VERSION).contains(&v) => v,
        _ => {
            return r.err(
                5,
                format!(
                    "can't handle RDB format version {}",
                    String::from_utf8_lossy(&magic[5..])
                ),
            )
        }
    };
    let mut stats = LoadStats {
        version,
        ..LoadStats::default()
    };
    let mut db_index = 0usize;
    let mut expire_ms: Option<u64> = None;
    // Every turn consumes at least one byte.
    loop {
        let op_at = r.pos;
        let op = r.u8()?;
        match op {
            OP_EOF => break,
            OP_SELECTDB => {
                let n = r.len()?;
                if n >= dbs.len() as u64 {
                    return r.err(
                        op_at,
                        format!(
                            "data file was created with more databases than the {} configured",
                            dbs.len()
                        ),
                    );
                }
                db_index = n as usize;
            }
            OP_RESIZEDB => {
                // Sizes the table for the keys announced, as Redis's loader does
                // (`dictExpand`), so that it does not grow and rehash all the way up.
                let keys = r.len()?;
                r.len()?;
                let room = bytes.len().saturating_sub(r.pos) / KEY_RECORD_MIN_BYTES;
                if let Some(db) = dbs.get_mut(db_index) {
                    db.reserve(usize::try_from(keys).unwrap_or(usize::MAX).min(room));
                }
            }
            OP_EXPIRETIME_MS => expire_ms = Some(r.u64_le()?),
            OP_EXPIRETIME => {
                let b = r.take(4)?;
                // Signed, as Redis's rdbLoadTime reads it: a negative time is long past.
                let s = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                expire_ms = Some(u64::try_from(s).unwrap_or(0) * 1000);
            }
            OP_IDLE => {
                r.len()?;
            }
            OP_FREQ => {
                r.u8()?;
            }
            OP_AUX => {
                let k = r.string()?.into_owned();
                let v = r.string()?.into_owned();
                stats.aux.push((k, v));
            }
            OP_MODULE_AUX => return r.err(op_at, "module data is not supported by ringkv"),
            OP_FUNCTION | OP_FUNCTION2 => match read_function(&mut r, op) {
                Ok(code) => stats.functions.push((op_at, code)),
                Err((at, e)) => return r.err(at, format!("Failed loading library, {e}")),
            },
            t => {
                let type_at = op_at;
                if dbs.is_empty() {
                    return r.err(op_at, "a key but no database to load it into");
                }
                let key_at = r.pos;
                let key = r.string()?;
                let value = load_value(&mut r, t, type_at, &opts.limits)?;
                let deadline = expire_ms.take();
                let Loaded::Value(value) = value else {
                    stats.keys_empty += 1;
                    continue;
                };
                if opts.skip_expired && deadline.is_some_and(|d| d < opts.now_ms) {
                    stats.keys_expired += 1;
                    continue;
                }
                let db = &mut dbs[db_index];
                // Load time is the access time of every key; deadlines in the past stay as
                // given for an AOF preamble, and the keyspace reaps them lazily.
                let now = opts.now_ms;
                if db.contains(&key, now) && !opts.merge {
                    return r.err(
                        key_at,
                        format!("duplicate key '{}'", String::from_utf8_lossy(&key)),
                    );
                }
                db.set(&key, value, now, false);
                if let Some(d) = deadline {
                    db.set_expire_at_ms(&key, d, now);
                }
                stats.keys_loaded += 1;
            }
        }
    }
    if version >= 5 {
        let sum_at = r.pos;
        let expected = crc64(&bytes[..sum_at]);
        let stored = r.u64_le()?;
        if opts.verify_checksum && stored != 0 && stored != expected {
            return r.err(
                sum_at,
                format!("wrong RDB checksum expected: ({expected:x}) got: ({stored:x})"),
            );
        }
    }
    stats.consumed = r.pos;
    Ok(stats)
}

/// The entry point for the AOF loader: loads an RDB (preamble) at the start of `bytes` into
/// `dbs` with Redis's default encoding limits, keeping keys whose deadline has passed (an AOF
/// preamble is loaded as is, as Redis does; the keyspace reaps them lazily). Returns the bytes
/// the RDB part consumed; the AOF's commands start there.
pub fn load_into(bytes: &[u8], dbs: &mut [Db], now_ms: u64) -> Result<usize, RdbError> {
    let mut opts = LoadOptions::new(now_ms);
    opts.skip_expired = false;
    load(bytes, dbs, &opts).map(|s| s.consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_printf() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (2.0, "2"),
            (-0.0, "-0"),
            (1e20, "1e+20"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (1.0e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (123456.789, "123456.789"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (3.0e-300, "3.0000000000000002e-300"),
        ];
        for &(x, want) in cases {
            assert_eq!(fmt_g17(x), want, "{x:e}");
        }
    }

    #[test]
    fn writer_in_slices_equals_one_piece() {
        let opts = SaveOptions {
            compression: true,
            checksum: true,
            aux: SaveOptions::aux_redis_7(1, 2, false),
            functions: vec![b"#!lua name=l\nredis.register_function('f', function() end)".to_vec()],
        };
        let mut whole = RdbWriter::new(&opts);
        let mut sliced = RdbWriter::new(&opts);
        let mut out = sliced.take_bytes();
        for w in [&mut whole, &mut sliced] {
            w.select_db(0, 2, 0);
            w.key_value(b"a", &Value::Int(5), None);
        }
        out.extend(sliced.take_bytes());
        for w in [&mut whole, &mut sliced] {
            w.select_db(3, 1, 1);
            w.key_value(b"b", &Value::from_bytes(&[b'x'; 100]), Some(7));
        }
        out.extend(sliced.finish());
        let one = whole.finish();
        assert_eq!(out, one);
        let mut dbs: Vec<Db> = (0..4).map(|_| Db::new()).collect();
        let st = load(&one, &mut dbs, &LoadOptions::new(0)).unwrap();
        assert_eq!((st.keys_loaded, st.consumed), (2, one.len()));
    }

    fn load_bytes(b: &[u8]) -> Result<LoadStats, RdbError> {
        let mut dbs: Vec<Db> = (0..2).map(|_| Db::new()).collect();
        load(b, &mut dbs, &LoadOptions::new(0))
    }

    /// RESIZEDB sizes the table up front (no growth on the way), but never for more keys
    /// than the rest of the file can hold.
    #[test]
    fn resizedb_hint_sizes_the_table_within_the_file() {
        let opts = SaveOptions {
            compression: false,
            checksum: true,
            aux: Vec::new(),
            functions: Vec::new(),
        };
        let dump = |announced: usize, keys: usize| {
            let mut w = RdbWriter::new(&opts);
            w.select_db(0, announced, 0);
            for i in 0..keys {
                w.key_value(
                    format!("key:{i:012}").as_bytes(),
                    &Value::Int(i as i64),
                    None,
                );
            }
            w.finish()
        };
        let sized = |bytes: &[u8]| {
            let mut dbs: Vec<Db> = (0..1).map(|_| Db::new()).collect();
            let stats = load(bytes, &mut dbs, &LoadOptions::new(0)).expect("loads");
            (
                stats.keys_loaded,
                dbs[0].bucket_count(),
                dbs[0].is_rehashing(),
            )
        };
        // 1000 keys alone end in 1024 buckets; announced as 3000, the table has 4096.
        assert_eq!(sized(&dump(1000, 1000)), (1000, 1024, false));
        assert_eq!(sized(&dump(3000, 1000)), (1000, 4096, false));
        // A sliced writer given the sizes announces them at the first SELECT of each db.
        let mut w = RdbWriter::new(&opts).with_db_sizes(vec![(3000, 0)]);
        for i in 0..1000 {
            w.select(0);
            w.key_value(format!("key:{i:012}").as_bytes(), &Value::Int(i), None);
        }
        assert_eq!(sized(&w.finish()), (1000, 4096, false));
        // A hint of 2^40 keys in a file of ~20 KB sizes for what the file can hold.
        let (n, buckets, _) = sized(&dump(1 << 40, 1000));
        assert_eq!(n, 1000);
        assert!(buckets <= 8192, "{buckets} buckets");
    }

    #[test]
    fn old_versions_and_opcodes() {
        // Version 4: no checksum trailer; IDLE and FREQ opcodes are read and ignored.
        let mut b = b"REDIS0004".to_vec();
        b.extend_from_slice(&[
            OP_IDLE,
            5,
            OP_FREQ,
            7,
            TYPE_STRING,
            1,
            b'k',
            1,
            b'v',
            OP_EOF,
        ]);
        let st = load_bytes(&b).unwrap();
        assert_eq!((st.version, st.keys_loaded, st.consumed), (4, 1, b.len()));
        // A zero checksum is not checked.
        let mut b = b"REDIS0010".to_vec();
        b.push(OP_EOF);
        b.extend_from_slice(&[0; 8]);
        assert!(load_bytes(&b).is_ok());
        let cases: &[(&[u8], &str)] = &[
            (b"REDIS0011\xff", "can't handle RDB format version"),
            (b"RADIS0010\xff", "wrong signature"),
            (b"REDIS0010\xfe\x05", "more databases"),
            (b"REDIS0010\xf7", "module data"),
            (
                b"REDIS0010\xf5",
                "Failed loading library, Failed loading library payload",
            ),
            (
                b"REDIS0010\xf6\x01n",
                "Failed loading library, Failed loading engine name",
            ),
            (b"REDIS0010\x0f\x01k", "unexpected end of file"),
            (b"REDIS0010\x07\x01k", "module values"),
            (b"REDIS0010\x08\x01k", "unknown value type 8"),
            (b"REDIS0010\x00\x01k\x01v\x00\x01k\x01v", "duplicate key"),
            (b"REDIS0010\x02\x01k\x02\x01a\x01a", "duplicate set member"),
            (
                b"REDIS0010\x05\x01k\x01\x01m\x00\x00\x00\x00\x00\x00\xf8\x7f",
                "NaN",
            ),
        ];
        for (input, want) in cases {
            let e = load_bytes(input).expect_err(want);
            assert!(e.message.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn crc64_check_value() {
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn lengths_round_trip() {
        for n in [
            0u64,
            63,
            64,
            16383,
            16384,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_len(&mut b, n);
            let mut r = Reader { buf: &b, pos: 0 };
            assert_eq!(r.len().unwrap(), n);
            assert_eq!(r.pos, b.len());
        }
    }

    #[test]
    fn strings_round_trip() {
        let long = b"abcabcabcabcabcabcabcabcabcabcabcabcabc".to_vec();
        for s in [
            &b""[..],
            b"0",
            b"-128",
            b"127",
            b"-32768",
            b"2147483647",
            b"2147483648",
            b"007",
            &long,
            b"x",
        ] {
            for compress in [false, true] {
                let mut b = Vec::new();
                put_string(&mut b, s, compress);
                let mut r = Reader { buf: &b, pos: 0 };
                assert_eq!(&r.string().unwrap()[..], s);
                assert_eq!(r.pos, b.len());
            }
        }
        let mut b = Vec::new();
        put_string(&mut b, &long, true);
        assert_eq!(b[0], 0xC3, "a repetitive 39-byte string is compressed");
    }
}
