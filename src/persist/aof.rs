//! The append-only file, in Redis 7.0's multi-part layout.
//!
//! On disk (`dir/appenddirname/`): one base file (`appendonly.aof.<n>.base.aof`, the dataset
//! as commands at the last rewrite), incr files (`appendonly.aof.<n>.incr.aof`, the write
//! commands since), and the manifest (`appendonly.aof.manifest`, one line per file:
//! `file <name> seq <n> type b|h|i`, base first, then history, then incr). The manifest is
//! only ever replaced whole: temp file, fsync, rename, fsync of the directory; files it no
//! longer names are deleted afterwards, so a crash at any point leaves a loadable set. The
//! files a rewrite replaces are listed as history (never loaded) and deleted at once, or,
//! under `aof-disable-auto-gc yes`, kept until the setting is `no` again or the next start
//! without it (`del_history_files`).
//!
//! Writing: the AOF is one consumer of the effects journal (`crate::journal`): what commands
//! state they changed, in the form Redis 7.0 propagates it (relative expiries as absolute
//! `PEXPIREAT` / `SET … PXAT`, `GETDEL` as `DEL`, a transaction as MULTI … EXEC, an expired
//! key as `DEL`, …), is appended to `Aof::buf` by [`Aof::feed`], preceded by `SELECT` when
//! the database differs from the one this file last selected. At the end of the loop turn the whole buffer is appended in ONE positional write, done
//! with pwrite(2) on the loop thread as Redis does (a buffered write of a turn's commands is
//! microseconds; on the ring it went to an io-wq worker thread on ext4, which cost more CPU and
//! a loop turn: docs/PERFORMANCE.md). The fsync, which blocks for a disk flush, runs on the
//! ring as fdatasync: under `appendfsync always` one at a time, covering everything written
//! when it starts, so a batch written while one is in flight waits for the next and one fsync
//! covers every turn since; `everysec` fsyncs at most once a second; `no` never fsyncs. Short
//! writes are resumed from where they stopped; a failed write keeps its bytes and is retried
//! at the same offset.
//!
//! Group commit: each buffer gets a sequence number. A connection that ran a write command
//! records the sequence its data went into (`Conn::aof_wait_seq`) and its output is held until
//! that sequence is acknowledged: written (`everysec`, `no`) or fsynced (`always`). Other
//! connections are served meanwhile. The held output is bounded because a connection stops
//! running commands once its output reaches `OUT_PAUSE_BYTES`.
//!
//! Invariants: `offset` is the length of the current incr file that the kernel has confirmed;
//! bytes of a sequence are written in order and never skipped; `seq_synced <= seq_written <
//! seq_next`; a file descriptor stays open until every ring operation on it has completed
//! (replaced files go to `retired`).
//!
//! Rewrites without fork. BGREWRITEAOF and the auto-rewrite trigger schedule an incremental
//! rewrite; it starts at the end of a turn with no fsync in flight: the turn's bytes are
//! written to the current incr file synchronously, a new incr file is opened and added to the
//! manifest (old base + old incrs + new incr: loadable at every instant), and every database
//! starts a copy-on-write snapshot of that instant (`keyspace::cow`, the one BGSAVE uses).
//! Each later turn serializes a bounded slice of keys into a temp base file while clients keep
//! writing to the new incr file. The `Db` itself keeps the old value of a key the walk has
//! not reached before any change to it, whatever makes the change (a command, expiry, a
//! blocked client served later, MOVE, FLUSHDB, SWAPDB), so the base is exactly the dataset
//! at the rewrite's start, keys past their deadline that nothing had reaped included (as
//! Redis's rewrite writes them; their DEL, when the expiry reaps them, is in the new incr
//! file). Because the copy-on-write log is per database, a rewrite and a BGSAVE never
//! run together: BGREWRITEAOF during a BGSAVE is scheduled, BGSAVE during a rewrite is
//! refused or (SCHEDULE) scheduled, as in Redis 7.0. When the walk ends the base is fsynced
//! (on the ring) and renamed, the manifest becomes new base + new incr (temp, fsync, rename,
//! fsync dir), and the old files are deleted. `CONFIG SET
//! appendonly yes` runs the same incremental rewrite for the first base, with the new incr
//! file joining the manifest only together with that base and acknowledgements held until
//! then (Redis's AOF_WAIT_REWRITE). BGREWRITEAOF with the AOF off, and the empty base of a
//! fresh start, are written in one go (`rewrite`).
//!
//! What this file sees of the server: the `Aof` (kept in the server), a `persist::Env` of
//! borrowed parts (settings, databases, clock), and whether a BGSAVE runs. What the server
//! must do in state it owns after a call (let held replies go, switch the journal, set
//! `appendonly no` after a failed start) is left in [`Effects`]; the server takes them after
//! every call (`Aof::take_effects`, applied in `server::persistence`). Held connections are
//! (slot, connection id) pairs to this file: the server says which still wait
//! ([`Aof::release_held`]). Loading replays commands through the server's [`Replay`].

use super::rdb_server::save_options;
use super::Env;
use crate::config::{AppendFsync, Config};
use crate::io::ring::{self, Completion, Ring};
use crate::keyspace::value::Value;
use crate::keyspace::Db;
use crate::resp::Argv;
use std::io::Write;
use std::ops::Range;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Ring token kinds (high numbers: the loop's own kinds are small).
pub const K_AOF_FSYNC: u8 = 0x42;
/// A zero timeout that keeps the loop turning while a rewrite has slices left.
pub const K_AOF_STEP: u8 = 0x43;
/// The fsync of a finished rewrite's base file.
pub const K_AOF_BASE_FSYNC: u8 = 0x44;

/// Keys a rewrite slice looks at per loop turn.
const REWRITE_SLICE_KEYS: usize = 1024;

/// Redis's AOF_REWRITE_ITEMS_PER_CMD.
const REWRITE_ITEMS_PER_CMD: usize = 64;
/// A failed write or fsync is retried this often.
const RETRY_MS: u64 = 100;
/// `everysec`: at most one fsync per this interval.
const EVERYSEC_MS: u64 = 1000;
/// Longest `*<n>` / `$<n>` header line the reader accepts (Redis reads them with a 128-byte
/// fgets).
const HEADER_LINE_MAX: usize = 128;
/// Longest manifest line (Redis's AOF_MANIFEST_LINE_MAX... 1024).
const MANIFEST_LINE_MAX: usize = 1024;

// ---- Reading -----------------------------------------------------------------------------

/// Why a file could not be read past `offset` (the start of the first unreadable command,
/// i.e. the last valid offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    /// The file ends inside a command (a torn tail), as opposed to bytes that are not a
    /// command at all.
    pub truncated: bool,
    pub message: String,
}

fn perr(offset: usize, truncated: bool, message: impl Into<String>) -> ParseError {
    ParseError {
        offset,
        truncated,
        message: message.into(),
    }
}

/// Reads one `<prefix><decimal>\r\n` line at `pos`. Returns the number and the position after
/// the line. `start` is the offset of the command being read, reported on errors.
fn header(bytes: &[u8], pos: usize, prefix: u8, start: usize) -> Result<(i64, usize), ParseError> {
    let rest = bytes.get(pos..).unwrap_or(&[]);
    let window = &rest[..rest.len().min(HEADER_LINE_MAX)];
    let Some(nl) = memchr::memchr(b'\n', window) else {
        if rest.len() < HEADER_LINE_MAX {
            return Err(perr(start, true, "unexpected end of file"));
        }
        return Err(perr(start, false, "header line too long"));
    };
    let line = &window[..nl];
    if line.first() != Some(&prefix) {
        return Err(perr(
            start,
            false,
            format!("expected '{}' at offset {pos}", prefix as char),
        ));
    }
    let Some(digits) = line[1..].strip_suffix(b"\r") else {
        return Err(perr(
            start,
            false,
            format!("expected \\r\\n at offset {pos}"),
        ));
    };
    let n = std::str::from_utf8(digits)
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| perr(start, false, format!("invalid number at offset {pos}")))?;
    Ok((n, pos + nl + 1))
}

/// Reads the command starting at `pos` (after any `#` annotation lines, which Redis writes
/// with aof-timestamp-enabled). On success `args` holds the argument ranges and the result is
/// the position after the command; `Ok(None)` means a clean end of file. Never panics; the
/// work is bounded by the input's length.
pub fn parse_command(
    bytes: &[u8],
    mut pos: usize,
    args: &mut Vec<Range<usize>>,
) -> Result<Option<usize>, ParseError> {
    args.clear();
    // Each annotation consumes at least one byte.
    while bytes.get(pos) == Some(&b'#') {
        match memchr::memchr(b'\n', &bytes[pos..]) {
            Some(nl) => pos += nl + 1,
            None => return Err(perr(pos, true, "unexpected end of file in an annotation")),
        }
    }
    if pos >= bytes.len() {
        return Ok(None);
    }
    let start = pos;
    if bytes[pos] != b'*' {
        return Err(perr(start, false, "expected '*' (a multibulk command)"));
    }
    let (argc, mut p) = header(bytes, pos, b'*', start)?;
    if argc < 1 {
        return Err(perr(start, false, "a command needs at least one argument"));
    }
    // Each argument takes at least 6 bytes ("$0\r\n\r\n"): a count larger than the rest of
    // the file allows is a torn tail, and no capacity is reserved from the count alone.
    let argc = argc as u64;
    args.reserve((argc as usize).min(1024));
    for _ in 0..argc {
        if p >= bytes.len() {
            return Err(perr(start, true, "unexpected end of file"));
        }
        let (len, q) = header(bytes, p, b'$', start)?;
        let len = len as usize;
        let end = q.checked_add(len).filter(|e| *e <= bytes.len());
        let Some(end) = end else {
            return Err(perr(start, true, "unexpected end of file"));
        };
        match bytes.get(end..end + 2) {
            Some(b"\r\n") => {}
            Some(_) => {
                return Err(perr(
                    start,
                    false,
                    format!("expected \\r\\n at offset {end}"),
                ));
            }
            None => return Err(perr(start, true, "unexpected end of file")),
        }
        args.push(q..end);
        p = end + 2;
    }
    Ok(Some(p))
}

/// Parses a whole AOF (or one file of it) into its commands. The fuzz-friendly entry point:
/// pure, no panics on any input.
pub fn parse_aof(bytes: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ParseError> {
    let mut out = Vec::new();
    let mut args = Vec::new();
    let mut pos = 0;
    while let Some(next) = parse_command(bytes, pos, &mut args)? {
        out.push(args.iter().map(|r| bytes[r.clone()].to_vec()).collect());
        pos = next;
    }
    Ok(out)
}

/// The result of checking one file: where the valid prefix ends, and why it ends there.
pub struct Check {
    pub valid_len: usize,
    pub commands: usize,
    pub error: Option<ParseError>,
}

/// Checks a file's bytes the way the loader reads them, including the rule that a MULTI
/// without its EXEC at the end of the file is a torn tail ending at the MULTI.
pub fn check_bytes(bytes: &[u8]) -> Check {
    let mut args = Vec::new();
    let mut pos = 0;
    let mut commands = 0;
    let mut multi_at: Option<usize> = None;
    loop {
        match parse_command(bytes, pos, &mut args) {
            Ok(Some(next)) => {
                let name = &bytes[args[0].clone()];
                if name.eq_ignore_ascii_case(b"multi") {
                    multi_at = Some(pos);
                } else if name.eq_ignore_ascii_case(b"exec") {
                    multi_at = None;
                }
                commands += 1;
                pos = next;
            }
            Ok(None) => {
                return match multi_at {
                    Some(at) => Check {
                        valid_len: at,
                        commands,
                        error: Some(perr(at, true, "MULTI without EXEC at the end of the file")),
                    },
                    None => Check {
                        valid_len: pos,
                        commands,
                        error: None,
                    },
                }
            }
            Err(mut e) => {
                if let (Some(at), true) = (multi_at, e.truncated) {
                    e.offset = at;
                }
                return Check {
                    valid_len: e.offset,
                    commands,
                    error: Some(e),
                };
            }
        }
    }
}

// ---- Manifest ----------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: FileType,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub history: Vec<AofFile>,
    pub incrs: Vec<AofFile>,
}

/// A file name as Redis writes it in the manifest: plain when it has no blanks, quotes or
/// control bytes, else quoted with escapes (`sdscatrepr`).
fn manifest_name(name: &str) -> String {
    if name
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\')
    {
        return name.to_string();
    }
    let mut s = String::from("\"");
    for b in name.bytes() {
        match b {
            b'\\' | b'"' => {
                s.push('\\');
                s.push(b as char);
            }
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// Length of the manifest line `render` writes for a file (without its newline).
fn manifest_line_len(name: &str, seq: u64) -> usize {
    format!("file {} seq {seq} type b", manifest_name(name)).len()
}

impl Manifest {
    /// Parses a manifest with Redis 7.0's rules: `#` comments, key/value pairs in any order,
    /// one base at most, sequence numbers increasing among incr files.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for line in text.lines() {
            if line.len() > MANIFEST_LINE_MAX {
                return Err("Invalid AOF manifest file format (line too long)".into());
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let args = crate::config::split_line(line)
                .map_err(|_| "Invalid AOF manifest file format".to_string())?;
            if args.len() % 2 != 0 {
                return Err("Invalid AOF manifest file format".into());
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for kv in args.chunks(2) {
                let v = String::from_utf8_lossy(&kv[1]).into_owned();
                match kv[0].as_slice() {
                    b"file" => name = Some(v),
                    b"seq" => seq = v.parse::<u64>().ok(),
                    b"type" => {
                        kind = match v.as_str() {
                            "b" => Some(FileType::Base),
                            "h" => Some(FileType::History),
                            "i" => Some(FileType::Incr),
                            _ => return Err(format!("Unknown AOF file type: {v}")),
                        }
                    }
                    _ => {} // Unknown keys are skipped, as Redis does.
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err("Invalid AOF manifest file format".into());
            };
            if name.contains('/') || name.is_empty() {
                return Err(format!("Invalid AOF file name in manifest: {name}"));
            }
            // Found by the aof_loader fuzzer: a name read from a line within the limit could
            // render (escaped) to a line over it, a manifest we could write but not read back.
            if manifest_line_len(&name, seq) > MANIFEST_LINE_MAX {
                return Err("Invalid AOF manifest file format (line too long)".into());
            }
            let f = AofFile { name, seq, kind };
            match kind {
                FileType::Base => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base = Some(f);
                }
                FileType::History => m.history.push(f),
                FileType::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= f.seq) {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.incrs.push(f);
                }
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err("Found an empty AOF manifest".into());
        }
        Ok(m)
    }

    /// The manifest's text, as Redis writes it: base, history, incr.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let all = self.base.iter().chain(&self.history).chain(&self.incrs);
        for f in all {
            let t = match f.kind {
                FileType::Base => 'b',
                FileType::History => 'h',
                FileType::Incr => 'i',
            };
            s.push_str(&format!(
                "file {} seq {} type {t}\n",
                manifest_name(&f.name),
                f.seq
            ));
        }
        s
    }

    fn base_seq(&self) -> u64 {
        self.base.as_ref().map_or(0, |b| b.seq)
    }

    fn incr_seq(&self) -> u64 {
        self.incrs.last().map_or(0, |i| i.seq)
    }
}

// ---- Writer state ------------------------------------------------------------------------

enum WriteState {
    Idle,
    /// The last attempt failed; retried from `done` at `retry_at_ms`.
    Failed {
        seq: u64,
        buf: Vec<u8>,
        done: usize,
        retry_at_ms: u64,
    },
}

/// The AOF writer: kept in the server state, driven by the loop.
pub struct Aof {
    /// Commands are being appended (appendonly is on and start-up loading is over).
    pub enabled: bool,
    /// The latency monitor is on, so each turn's write is timed (`submit` sets it from
    /// the config), and the longest timed write since the server last took it (µs).
    pub write_timed: bool,
    pub write_us: Option<u64>,
    /// This turn's commands, not yet on the ring.
    pub buf: Vec<u8>,
    /// An emptied buffer kept for reuse so steady writing does not allocate.
    spare: Vec<u8>,
    selected_db: Option<usize>,
    dir: PathBuf,
    manifest: Manifest,
    file: Option<OwnedFd>,
    file_gen: u32,
    offset: u64,
    state: WriteState,
    /// Sequence covered by the fsync on the ring, if one is.
    fsync_inflight: Option<u64>,
    fsync_retry_at_ms: Option<u64>,
    /// Replaced files with the number of ring operations still pending on them.
    retired: Vec<(u32, OwnedFd, usize)>,
    seq_next: u64,
    seq_written: u64,
    seq_synced: u64,
    last_fsync_ms: u64,
    /// errno of the last failed write or fsync, until one succeeds.
    pub write_errno: Option<i32>,
    /// Connections whose output waits for an acknowledgement: (slot, connection id).
    held: Vec<(usize, u64)>,
    /// Sizes for INFO and the auto-rewrite trigger.
    pub base_size: u64,
    incr_size_closed: u64,
    pub rewrite_base_size: u64,
    pub rewrites: u64,
    pub last_rewrite_time_s: i64,
    pub last_rewrite_ok: bool,
    pub rewrites_consecutive_failures: u64,
    pub delayed_fsync: u64,
    /// The incremental rewrite in progress, if any.
    rewrite: Option<Box<Rewrite>>,
    /// BGREWRITEAOF or the auto trigger asked for one; it starts at the end of a turn with
    /// no fsync in flight.
    pub rewrite_scheduled: bool,
    /// While set, nothing above this sequence is acknowledged: a rewrite started after a
    /// failed write, whose bytes exist only in the rewrite's base until it completes.
    ack_cap: Option<u64>,
    /// The highest sequence whose replies `release_held` has let out.
    released_seq: u64,
    step_armed: bool,
    /// A base file whose rewrite was abandoned while its fsync was on the ring: kept open
    /// until that completion arrives.
    base_fsync_orphan: Vec<(u32, std::fs::File)>,
    next_rewrite_id: u32,
    /// With aof-timestamp-enabled: the current unix second (set before commands are fed).
    timestamp_s: Option<u64>,
    last_timestamp_s: u64,
    /// The rewrite in progress writes the first base after `CONFIG SET appendonly yes`: its
    /// incr file is not in the manifest yet, and if it fails the AOF is turned off again.
    enabling: bool,
    /// `CONFIG SET appendonly yes` came during a BGSAVE: the AOF turns on (`start_enabling`)
    /// when the save ends, as Redis schedules the first rewrite; nothing is logged before.
    pub enable_pending: bool,
    /// What the calls since the last `take_effects` left for the server.
    effects: Effects,
}

/// What an AOF call leaves for the server to do in state the AOF does not own. Gathered
/// during the call; the server takes it with [`Aof::take_effects`] after every call into
/// this file and applies it before anything else runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Acknowledgements advanced: held connections whose data is acknowledged may send
    /// their replies ([`Aof::release_held`]).
    pub release: bool,
    /// The AOF started (true) or stopped (false) consuming the journal: the journal (and
    /// the logging of expired keys) follows.
    pub journal: Option<bool>,
    /// Turning the AOF on failed: the `appendonly` setting reads `no` again.
    pub appendonly_off: bool,
}

/// Capacity the rewrite's base buffer keeps between slices.
const REWRITE_BUF_KEEP_BYTES: usize = 256 * 1024;

/// An incremental rewrite: the snapshot walk and the base being written.
struct Rewrite {
    /// Keys written to the base so far (INFO's current_save_keys_processed).
    keys_done: usize,
    /// The walk over the databases' copy-on-write snapshots (`keyspace::cow`) is complete
    /// and their logs are gone.
    walked: bool,
    tmp_path: PathBuf,
    file: std::fs::File,
    autosync: super::IncrementalSync,
    out: BaseWriter,
    base_seq: u64,
    started: std::time::Instant,
    /// Files of the manifest before the rewrite; deleted once the new base is in.
    old_files: Vec<String>,
    /// Sequences up to here are in the base (acknowledged when it is in the manifest).
    covers_seq: u64,
    /// The walk is done and the base's fsync is on the ring.
    syncing: bool,
    /// Tells this rewrite's base fsync completion from an abandoned one's.
    id: u32,
    /// Keys in the dataset when it started (INFO's current_save_keys_total).
    keys_total: usize,
    /// RINGKV_AOF_REWRITE_SLICE_KEYS (a test knob, like RINGKV_BGSAVE_SLICE_KEYS): keys per
    /// slice, and one slice per housekeeping tick (`rewrite_tick`), so that a small rewrite
    /// stays in progress long enough for a test to act during it.
    paced: Option<usize>,
}

impl Default for Aof {
    fn default() -> Self {
        Self::new()
    }
}

impl Aof {
    pub fn new() -> Aof {
        Aof {
            enabled: false,
            write_timed: false,
            write_us: None,
            buf: Vec::new(),
            spare: Vec::new(),
            selected_db: None,
            dir: PathBuf::new(),
            manifest: Manifest::default(),
            file: None,
            file_gen: 0,
            offset: 0,
            state: WriteState::Idle,
            fsync_inflight: None,
            fsync_retry_at_ms: None,
            retired: Vec::new(),
            seq_next: 1,
            seq_written: 0,
            seq_synced: 0,
            last_fsync_ms: 0,
            write_errno: None,
            held: Vec::new(),
            base_size: 0,
            incr_size_closed: 0,
            rewrite_base_size: 0,
            rewrites: 0,
            last_rewrite_time_s: -1,
            last_rewrite_ok: true,
            rewrites_consecutive_failures: 0,
            delayed_fsync: 0,
            rewrite: None,
            rewrite_scheduled: false,
            ack_cap: None,
            released_seq: 0,
            step_armed: false,
            base_fsync_orphan: Vec::new(),
            next_rewrite_id: 0,
            timestamp_s: None,
            last_timestamp_s: 0,
            enabling: false,
            enable_pending: false,
            effects: Effects::default(),
        }
    }

    /// What the calls since the last take left for the server (see [`Effects`]).
    pub fn take_effects(&mut self) -> Effects {
        std::mem::take(&mut self.effects)
    }

    /// Whether calls left effects the server has not taken yet.
    pub fn has_effects(&self) -> bool {
        self.effects != Effects::default()
    }

    /// Forgets the held connections whose replies may go now, calling `release(slot)` for
    /// each. `wait_seq(slot, conn_id)` is that connection's `aof_wait_seq`, or None when the
    /// slot no longer holds it (the entry is dropped). The acknowledged sequence is the one
    /// the last call that advanced it computed ([`Effects::release`]).
    pub fn release_held(
        &mut self,
        wait_seq: impl Fn(usize, u64) -> Option<u64>,
        mut release: impl FnMut(usize),
    ) {
        let acked = self.released_seq;
        self.held.retain(|&(slot, id)| match wait_seq(slot, id) {
            Some(w) if w <= acked => {
                release(slot);
                false
            }
            Some(_) => true,
            None => false,
        });
    }

    /// Total size of the AOF (base + incr files), INFO's aof_current_size.
    pub fn current_size(&self) -> u64 {
        self.base_size + self.incr_size_closed + self.offset + self.pending_len() as u64
    }

    fn pending_len(&self) -> usize {
        match &self.state {
            WriteState::Failed { buf, done, .. } => buf.len() - done,
            WriteState::Idle => 0,
        }
    }

    /// Bytes the AOF's buffers hold allocated, the rewrite's base buffer included (not
    /// counted against maxmemory).
    pub fn buffer_bytes(&self) -> usize {
        let failed = match &self.state {
            WriteState::Failed { buf, .. } => buf.capacity(),
            WriteState::Idle => 0,
        };
        let rewrite = self.rewrite.as_ref().map_or(0, |rw| rw.out.buf.capacity());
        self.buf.capacity() + self.spare.capacity() + failed + rewrite
    }

    /// INFO's aof_buffer_length: bytes produced but not yet confirmed written.
    pub fn buffer_length(&self) -> usize {
        self.buf.len() + self.pending_len()
    }

    /// The highest sequence whose replies may be released under `policy`.
    fn acked(&self, policy: AppendFsync) -> u64 {
        let a = match policy {
            AppendFsync::Always => self.seq_synced,
            _ => self.seq_written,
        };
        // Never below what was already released: when the policy tightens (a rewrite under
        // `no-appendfsync-on-rewrite` ends, or CONFIG SET appendfsync always), a connection
        // whose writes went out as written would otherwise have its next reply held for a
        // sync with no entry in `held`, and nothing would ever release it.
        self.ack_cap.map_or(a, |c| a.min(c)).max(self.released_seq)
    }

    /// Keys written and keys to write of the rewrite in progress, for INFO.
    pub fn rewrite_progress(&self) -> Option<(usize, usize)> {
        self.rewrite.as_ref().map(|r| (r.keys_done, r.keys_total))
    }

    pub fn rewrite_in_progress(&self) -> bool {
        self.rewrite.is_some()
    }

    /// Seconds the rewrite in progress has run, -1 if none.
    pub fn current_rewrite_time_s(&self) -> i64 {
        self.rewrite
            .as_ref()
            .map_or(-1, |r| r.started.elapsed().as_secs() as i64)
    }

    /// True while ring operations or unwritten bytes remain (shutdown waits for this).
    pub fn busy(&self) -> bool {
        !matches!(self.state, WriteState::Idle)
            || self.fsync_inflight.is_some()
            || !self.retired.is_empty()
    }

    /// The MISCONF error write commands get while the AOF cannot be written, if any.
    pub fn misconf_error(&self) -> Option<String> {
        let e = self.write_errno?;
        if !self.enabled {
            return None;
        }
        Some(format!(
            "MISCONF Errors writing to the AOF file: {}",
            nix::errno::Errno::from_raw(e).desc()
        ))
    }

    /// Redis's aof-timestamp-enabled annotation, at most once per second.
    fn annotate(&mut self) {
        if let Some(now_s) = self.timestamp_s {
            if now_s > self.last_timestamp_s {
                self.buf
                    .extend_from_slice(format!("#TS:{now_s}\r\n").as_bytes());
                self.last_timestamp_s = now_s;
            }
        }
    }

    fn emit(&mut self, args: &[&[u8]]) {
        self.annotate();
        encode(&mut self.buf, args);
    }

    fn select(&mut self, db: usize) {
        if self.selected_db != Some(db) {
            let mut b = itoa::Buffer::new();
            let n = b.format(db).as_bytes().to_vec();
            self.emit(&[b"SELECT", &n]);
            self.selected_db = Some(db);
        }
    }
}

/// Appends one command in RESP multibulk form.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    crate::journal::encode(out, args.len(), args.iter().copied());
}

fn incr_name(base: &str, seq: u64) -> String {
    format!("{base}.{seq}.incr.aof")
}

/// The base file's name: `.base.rdb` when it is written as an RDB preamble
/// (`aof-use-rdb-preamble yes`, Redis's default), else `.base.aof`.
fn base_name(base: &str, seq: u64, rdb: bool) -> String {
    let ext = if rdb { "rdb" } else { "aof" };
    format!("{base}.{seq}.base.{ext}")
}

// ---- Propagation -------------------------------------------------------------------------

impl Aof {
    /// Appends what the journal published: each entry after a SELECT where its database is
    /// not the one this file last selected. With aof-timestamp-enabled, `now_s` is the
    /// current unix second (annotated at most once per second).
    pub fn feed(&mut self, journal: &crate::journal::Journal, now_s: Option<u64>) {
        self.timestamp_s = now_s;
        for (db, bytes) in journal.published() {
            if let Some(db) = db {
                self.select(db);
            }
            self.annotate();
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Holds the output of the connection in `slot` (id `conn_id`) until what was fed so far
    /// is acknowledged; `wait_seq` is the connection's `aof_wait_seq`.
    pub fn hold(&mut self, slot: usize, conn_id: u64, wait_seq: &mut u64) {
        let seq = self.seq_next;
        if *wait_seq < seq {
            // Once per connection and sequence: the list holds at most a few entries per
            // connection (one per sequence not yet acknowledged), and `release_held` drops
            // them all once the newest is acknowledged.
            self.held.push((slot, conn_id));
            *wait_seq = seq;
        }
    }
}

// ---- Ring I/O ----------------------------------------------------------------------------

/// The fsync policy in force: `no` while a rewrite runs with no-appendfsync-on-rewrite.
fn fsync_policy(config: &Config, aof: &Aof) -> AppendFsync {
    if config.no_appendfsync_on_rewrite && aof.rewrite.is_some() {
        AppendFsync::No
    } else {
        config.appendfsync
    }
}

fn tok(kind: u8, gen: u32) -> u64 {
    ring::token(kind, gen, 0)
}

/// Writes all of `bytes` at `offset` of `fd`: the count written, with the errno that stopped
/// it if it stopped short (a write of 0 bytes counts as ENOSPC).
fn pwrite_all(fd: &OwnedFd, bytes: &[u8], offset: u64) -> (usize, Option<i32>) {
    let mut done = 0;
    let mut interrupts = 0;
    // Bounded: each round writes at least one byte, or stops (EINTR retried a few times).
    while done < bytes.len() {
        match nix::sys::uio::pwrite(fd, &bytes[done..], (offset + done as u64) as i64) {
            Ok(0) => return (done, Some(libc::ENOSPC)),
            Ok(n) => done += n,
            Err(nix::errno::Errno::EINTR) if interrupts < 8 => interrupts += 1,
            Err(e) => return (done, Some(e as i32)),
        }
    }
    (done, None)
}

/// Appends `buf[done..]` at the end of the incr file with pwrite(2), on the loop thread as
/// Redis does: a buffered write of one turn's commands takes microseconds, while the same
/// write on the ring goes to an io-wq worker thread on filesystems without non-blocking
/// buffered writes (ext4), which cost ~30% more server CPU and one more loop turn before the
/// replies (docs/PERFORMANCE.md, "AOF writes"). The fsync, which does block, stays on the ring.
fn write_now(aof: &mut Aof, buf: Vec<u8>, done: usize, seq: u64, now_ms: u64) {
    let Some(fd) = aof.file.as_ref() else {
        return;
    };
    let started_ns = if aof.write_timed {
        crate::util::mono_ns()
    } else {
        0
    };
    let (n, failed) = pwrite_all(fd, &buf[done..], aof.offset + done as u64);
    if aof.write_timed {
        let us = crate::util::mono_ns().saturating_sub(started_ns) / 1000;
        aof.write_us = Some(aof.write_us.map_or(us, |m| m.max(us)));
    }
    let done = done + n;
    if let Some(errno) = failed {
        if aof.write_errno.is_none() {
            log::warn!(
                "Error writing to the AOF file: {}",
                nix::errno::Errno::from_raw(errno).desc()
            );
        }
        aof.write_errno = Some(errno);
        aof.state = WriteState::Failed {
            seq,
            buf,
            done,
            retry_at_ms: now_ms + RETRY_MS,
        };
        return;
    }
    aof.offset += buf.len() as u64;
    aof.seq_written = seq;
    let mut buf = buf;
    buf.clear();
    if buf.capacity() > aof.spare.capacity() {
        aof.spare = buf;
    }
    if aof.write_errno.is_some() && aof.fsync_retry_at_ms.is_none() {
        log::warn!("AOF write error looks solved, Redis can write again.");
        aof.write_errno = None;
    }
}

/// End of a loop turn: writes this turn's buffer (after retrying a failed write when due),
/// releases what is now acknowledged under `everysec`/`no`, and starts the fsync the policy
/// asks for. `bgsave_running`: a BGSAVE is in progress (a scheduled rewrite waits for it).
pub fn submit(ring: &mut Ring, aof: &mut Aof, env: &mut Env<'_>, bgsave_running: bool) {
    let policy = fsync_policy(env.config, aof);
    aof.write_timed = env.config.latency_monitor_threshold_ms != 0;
    let now = env.now_ms;
    if aof.file.is_none() {
        aof.buf.clear();
        return;
    }
    let always = policy == AppendFsync::Always;
    // A scheduled rewrite waits for a BGSAVE in progress, as Redis's waits for its child.
    if aof.rewrite_scheduled
        && aof.rewrite.is_none()
        && aof.enabled
        && aof.fsync_inflight.is_none()
        && !bgsave_running
    {
        aof.rewrite_scheduled = false;
        if let Err(e) = start_incremental(aof, env) {
            log::warn!("Can't rewrite append only file in background: {e}");
            aof.last_rewrite_ok = false;
            aof.rewrites_consecutive_failures += 1;
        }
    }
    let paced = aof.rewrite.as_ref().and_then(|r| r.paced);
    if aof.rewrite.as_ref().is_some_and(|r| !r.syncing) && paced.is_none() {
        rewrite_step(ring, aof, env, REWRITE_SLICE_KEYS);
        if aof.rewrite.as_ref().is_some_and(|r| !r.syncing) && !aof.step_armed {
            aof.step_armed = true;
            ring.timeout(tok(K_AOF_STEP, 0), std::time::Duration::ZERO);
        }
    }
    if aof.file.is_none() {
        aof.buf.clear();
        return;
    }
    let wrote_before = aof.seq_written;
    match std::mem::replace(&mut aof.state, WriteState::Idle) {
        WriteState::Failed {
            seq,
            buf,
            done,
            retry_at_ms,
        } => {
            if now >= retry_at_ms {
                write_now(aof, buf, done, seq, now);
            } else {
                aof.state = WriteState::Failed {
                    seq,
                    buf,
                    done,
                    retry_at_ms,
                };
            }
        }
        WriteState::Idle => {}
    }
    if matches!(aof.state, WriteState::Idle) && !aof.buf.is_empty() {
        let mut next = std::mem::take(&mut aof.spare);
        next.clear();
        let buf = std::mem::replace(&mut aof.buf, next);
        let seq = aof.seq_next;
        aof.seq_next += 1;
        write_now(aof, buf, 0, seq, now);
    }
    if aof.seq_written != wrote_before && !always {
        // everysec / no: written is acknowledged; the replies go out this turn.
        note_acked(aof, env.config);
    }
    // The fsync: under `always` one at a time, covering every byte written so far (group
    // commit: a batch written while an fsync is in flight waits for the next one, which
    // covers all of it); `everysec` once a second; a failed one retried when due.
    if aof.fsync_inflight.is_none() && aof.seq_written > aof.seq_synced && policy != AppendFsync::No
    {
        let due = match aof.fsync_retry_at_ms {
            Some(t) => now >= t,
            None => always || now.saturating_sub(aof.last_fsync_ms) >= EVERYSEC_MS,
        };
        if due {
            if let Some(fd) = aof.file.as_ref().map(|f| f.as_raw_fd()) {
                ring.fdatasync(fd, tok(K_AOF_FSYNC, aof.file_gen));
                aof.fsync_inflight = Some(aof.seq_written);
                aof.fsync_retry_at_ms = None;
            }
        }
    }
    if !aof.enabled && aof.buf.is_empty() && !aof.busy() {
        // appendonly was turned off: close the file once nothing is pending on it.
        aof.file = None;
    }
}

/// A completion of an AOF fsync or timer.
pub fn on_completion(aof: &mut Aof, env: &mut Env<'_>, c: Completion) {
    let gen = ring::token_generation(c.token);
    let now = env.now_ms;
    if ring::token_kind(c.token) == K_AOF_STEP {
        aof.step_armed = false;
        return;
    }
    if ring::token_kind(c.token) == K_AOF_BASE_FSYNC {
        if let Some(i) = aof.base_fsync_orphan.iter().position(|o| o.0 == gen) {
            aof.base_fsync_orphan.swap_remove(i);
            return;
        }
        if aof
            .rewrite
            .as_ref()
            .is_none_or(|r| r.id != gen || !r.syncing)
        {
            return;
        }
        if c.result < 0 {
            let e = nix::errno::Errno::from_raw(-c.result).desc();
            abort_rewrite(aof, env, &format!("fsync of the base: {e}"));
        } else if let Err(e) = complete_rewrite(aof, env) {
            abort_rewrite(aof, env, &e);
        }
        return;
    }
    if gen != aof.file_gen || aof.file.is_none() {
        // An operation on a replaced file: the data is in the newer base already.
        if let Some(i) = aof.retired.iter().position(|r| r.0 == gen) {
            aof.retired[i].2 = aof.retired[i].2.saturating_sub(1);
            if aof.retired[i].2 == 0 {
                aof.retired.swap_remove(i);
            }
        }
        return;
    }
    if ring::token_kind(c.token) != K_AOF_FSYNC {
        return;
    }
    let covered = aof.fsync_inflight.take().unwrap_or(0);
    if c.result < 0 {
        log::warn!(
            "Can't persist append only file to disk: {}",
            nix::errno::Errno::from_raw(-c.result).desc()
        );
        aof.write_errno = Some(-c.result);
        aof.fsync_retry_at_ms = Some(now + RETRY_MS);
        return;
    }
    aof.seq_synced = aof.seq_synced.max(covered);
    aof.last_fsync_ms = now;
    if aof.fsync_retry_at_ms.take().is_some() && !matches!(aof.state, WriteState::Failed { .. }) {
        log::warn!("AOF write error looks solved, Redis can write again.");
        aof.write_errno = None;
    }
    note_acked(aof, env.config);
}

/// Acknowledgements may have advanced: the output of connections whose data is now
/// acknowledged may go. The server lets it go once the call returns (`Effects::release`,
/// `Aof::release_held`); the acknowledged sequence never decreases, so releasing once at the
/// last one computed during a call releases what releasing at each would.
fn note_acked(aof: &mut Aof, config: &Config) {
    aof.released_seq = aof.acked(fsync_policy(config, aof));
    aof.effects.release = true;
}

impl Aof {
    /// The highest write sequence acknowledged under the current policy: a connection's
    /// output waits while its `aof_wait_seq` is above it.
    pub fn acked_seq(&self, config: &Config) -> u64 {
        self.acked(fsync_policy(config, self))
    }
}

/// Shutdown: writes what is left synchronously and fsyncs (the loop has waited for the ring
/// operations to finish).
pub fn shutdown_flush(aof: &mut Aof, env: &mut Env<'_>) {
    abort_rewrite(aof, env, "shutting down");
    let Some(fd) = aof.file.as_ref() else {
        return;
    };
    let mut pending = Vec::new();
    if let WriteState::Failed { buf, done, .. } = &aof.state {
        pending.extend_from_slice(&buf[*done..]);
    }
    pending.extend_from_slice(&aof.buf);
    let (n, failed) = pwrite_all(fd, &pending, aof.offset);
    if failed.is_some() {
        log::warn!("Error writing the AOF at shutdown: data since the last write is lost");
    }
    let off = aof.offset + n as u64;
    if let Err(e) = nix::unistd::fsync(fd.as_raw_fd()) {
        log::warn!("Can't fsync the AOF at shutdown: {e}");
    }
    aof.offset = off;
    aof.buf.clear();
    aof.state = WriteState::Idle;
}

// ---- Files -------------------------------------------------------------------------------

fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Sets the history list of `m`, the manifest that replaces `old` after a rewrite: the files
/// of `old` that `m` no longer names as base or incr, in the order of Redis 7.0's manifest:
/// `old`'s incr files, then its base, then its history (each file it marks history goes to
/// the head of the list: the base first, then the incr files newest first).
fn set_history_after_rewrite(m: &mut Manifest, old: &Manifest) {
    let keep: Vec<&str> = m
        .base
        .iter()
        .chain(&m.incrs)
        .map(|f| f.name.as_str())
        .collect();
    m.history = old
        .incrs
        .iter()
        .chain(&old.base)
        .chain(&old.history)
        .filter(|f| !keep.contains(&f.name.as_str()))
        .map(|f| AofFile {
            name: f.name.clone(),
            seq: f.seq,
            kind: FileType::History,
        })
        .collect();
}

/// Deletes the history files `m` lists and writes the manifest without them (Redis's
/// `aofDelHistoryFiles`). Nothing to do, nothing written. The manifest goes first: a crash
/// between the two leaves files no manifest names, never a manifest naming missing files.
fn del_history_files(dir: &Path, file_base: &str, m: &mut Manifest) -> std::io::Result<()> {
    if m.history.is_empty() {
        return Ok(());
    }
    let gone = std::mem::take(&mut m.history);
    persist_manifest(dir, file_base, m)?;
    for h in gone {
        log::info!("Removing the history file {}", h.name);
        let _ = std::fs::remove_file(dir.join(&h.name));
    }
    Ok(())
}

/// `CONFIG SET aof-disable-auto-gc no`: the history files kept so far are deleted now.
pub fn gc_history(aof: &mut Aof, config: &Config) -> Result<(), String> {
    if config.aof_disable_auto_gc || aof.manifest.history.is_empty() {
        return Ok(());
    }
    let dir = aof.dir.clone();
    del_history_files(&dir, &config.appendfilename, &mut aof.manifest)
        .map_err(|e| format!("writing the manifest: {e}"))
}

/// Replaces the manifest atomically: temp file, fsync, rename, fsync of the directory.
fn persist_manifest(dir: &Path, file_base: &str, m: &Manifest) -> std::io::Result<()> {
    let final_path = dir.join(format!("{file_base}.manifest"));
    let tmp = dir.join(format!("temp-{file_base}.manifest"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(m.render().as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &final_path)?;
    fsync_dir(dir)
}

/// Opens (creating) a file to extend it with positional writes at the returned length. Not
/// O_APPEND: every write names its offset, so a write retried after an error lands exactly
/// where the failed one should have, never after stray bytes.
fn open_append(path: &Path) -> std::io::Result<(OwnedFd, u64)> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(path)?;
    let len = f.metadata()?.len();
    Ok((OwnedFd::from(f), len))
}

/// Calls `f` for every stored key of every database (past its deadline too, as Redis's
/// rewrite writes it), with its value and absolute expiry: the consistent view a rewrite
/// (and an RDB save) serializes.
pub fn snapshot_for_each(dbs: &[Db], mut f: impl FnMut(usize, &[u8], &Value, Option<u64>)) {
    for (i, db) in dbs.iter().enumerate() {
        db.for_each_with_expiry(|k, v, e| f(i, k, v, e));
    }
}

/// Serializes the dataset as Redis's rewrite does: `SELECT`, then per key `SET` / `RPUSH` /
/// `SADD` / `HMSET` in batches of 64 items, then `PEXPIREAT` for keys with a TTL.
pub fn write_snapshot(dbs: &[Db], out: &mut impl Write) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut cur_db = None;
    let mut err = None;
    snapshot_for_each(dbs, |db, key, v, exp| {
        if err.is_some() {
            return;
        }
        if let Err(e) = serialize_key(&mut buf, &mut cur_db, db, key, v, exp) {
            err = Some(std::io::Error::other(e));
            return;
        }
        if buf.len() >= 64 * 1024 {
            if let Err(e) = out.write_all(&buf) {
                err = Some(e);
            }
            buf.clear();
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    out.write_all(&buf)
}

/// One key as rewrite commands (`SELECT` first when `db` differs from `cur_db`).
pub fn serialize_key(
    buf: &mut Vec<u8>,
    cur_db: &mut Option<usize>,
    db: usize,
    key: &[u8],
    v: &Value,
    exp: Option<u64>,
) -> Result<(), &'static str> {
    if *cur_db != Some(db) {
        let n = itoa::Buffer::new().format(db).as_bytes().to_vec();
        encode(buf, &[b"SELECT", &n]);
        *cur_db = Some(db);
    }
    match v {
        Value::List(l) => batched(buf, b"RPUSH", key, l.iter().map(|e| e.to_vec())),
        Value::Set(s) => {
            let mut items = Vec::with_capacity(s.len());
            s.for_each(|m| items.push(m.bytes(&mut itoa::Buffer::new()).to_vec()));
            batched(buf, b"SADD", key, items.into_iter());
        }
        Value::Hash(h) => {
            let mut items = Vec::with_capacity(h.len() * 2);
            h.for_each(|f, v| {
                items.push(f.to_vec());
                items.push(v.to_vec());
            });
            batched_pairs(buf, b"HMSET", key, items);
        }
        // ZADD score member pairs in the set's order, scores as %.17g (exact for every
        // double), 64 pairs per command.
        Value::ZSet(z) => {
            let mut items = Vec::with_capacity(z.len() * 2);
            for (member, score) in z.iter_from(0, false) {
                let mut text = Vec::with_capacity(24);
                crate::util::num::format_double(score, &mut text);
                items.push(text);
                items.push(member.to_vec());
            }
            batched_pairs(buf, b"ZADD", key, items);
        }
        Value::Stream(s) => rewrite_stream(buf, key, s),
        other => {
            let mut nb = itoa::Buffer::new();
            if let Some(bytes) = other.str_bytes(&mut nb) {
                encode(buf, &[b"SET", key, bytes]);
            }
        }
    }
    if let Some(at) = exp {
        encode(
            buf,
            &[b"PEXPIREAT", key, itoa::Buffer::new().format(at).as_bytes()],
        );
    }
    Ok(())
}

/// A stream as Redis's `rewriteStreamObject` writes it: one XADD per entry (an empty stream
/// as `XADD key MAXLEN 0 0-1 x y`), XSETID with the counters, then per group XGROUP CREATE
/// with ENTRIESREAD and, per consumer, an XCLAIM … JUSTID FORCE for each pending entry or
/// XGROUP CREATECONSUMER when it has none.
fn rewrite_stream(buf: &mut Vec<u8>, key: &[u8], s: &crate::types::stream::Stream) {
    use crate::types::stream::StreamId;
    let mut nb = itoa::Buffer::new();
    if s.is_empty() {
        encode(buf, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    for e in s.range(StreamId::ZERO, StreamId::MAX, false, 0) {
        let id = e.id.to_text();
        let mut args: Vec<&[u8]> = vec![b"XADD", key, &id];
        for (f, v) in &e.fields {
            args.push(f);
            args.push(v);
        }
        encode(buf, &args);
    }
    let added = nb.format(s.entries_added).as_bytes().to_vec();
    encode(
        buf,
        &[
            b"XSETID",
            key,
            &s.last_id.to_text(),
            b"ENTRIESADDED",
            &added,
            b"MAXDELETEDID",
            &s.max_deleted_id.to_text(),
        ],
    );
    for (name, g) in &s.groups {
        let read = nb.format(g.entries_read).as_bytes().to_vec();
        encode(
            buf,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                &g.last_id.to_text(),
                b"ENTRIESREAD",
                &read,
            ],
        );
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                encode(buf, &[b"XGROUP", b"CREATECONSUMER", key, name, cname]);
                continue;
            }
            for id in &c.pel {
                let Some(n) = g.pel.get(id) else { continue };
                let time = nb.format(n.delivery_time_ms).as_bytes().to_vec();
                let count = nb.format(n.delivery_count).as_bytes().to_vec();
                encode(
                    buf,
                    &[
                        b"XCLAIM",
                        key,
                        name,
                        cname,
                        b"0",
                        &id.to_text(),
                        b"TIME",
                        &time,
                        b"RETRYCOUNT",
                        &count,
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

/// A base being written: the serialized bytes not yet in the file, the database of the last
/// SELECT, and the first error (a value that cannot be serialized). With `rdb` the base is an
/// RDB file (header and aux fields already in `buf`; `finish` adds EOF and the checksum),
/// otherwise rewrite commands.
#[derive(Default)]
struct BaseWriter {
    buf: Vec<u8>,
    cur_db: Option<usize>,
    error: Option<&'static str>,
    rdb: Option<crate::persist::rdb::RdbWriter>,
    /// The base is an RDB file (`rdb` is taken by `finish`; this stays).
    is_rdb: bool,
}

impl BaseWriter {
    /// A base in the format `rdb` says; an RDB base gets the `rdb*` settings and Redis 7.0's
    /// aux fields with `aof-base 1`.
    fn new(env: &Env<'_>, rdb: bool) -> BaseWriter {
        let mut w = BaseWriter::default();
        if rdb {
            let mut r = crate::persist::rdb::RdbWriter::new(&save_options(env, true));
            w.buf = r.take_bytes();
            w.rdb = Some(r);
            w.is_rdb = true;
        } else {
            w.buf = function_loads(env.functions);
        }
        w
    }

    fn add(&mut self, db: usize, key: &[u8], v: &Value, exp: Option<u64>) {
        if let Some(r) = self.rdb.as_mut() {
            if self.cur_db != Some(db) {
                r.select(db);
                self.cur_db = Some(db);
            }
            r.key_value(key, v, exp);
            self.buf.extend_from_slice(&r.take_bytes());
            return;
        }
        if self.error.is_none() {
            if let Err(e) = serialize_key(&mut self.buf, &mut self.cur_db, db, key, v, exp) {
                self.error = Some(e);
            }
        }
    }

    /// The walk is done: an RDB base gets its EOF marker and checksum.
    fn finish(&mut self) {
        if let Some(r) = self.rdb.take() {
            self.buf.extend_from_slice(&r.finish());
        }
    }
}

fn batched(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: impl Iterator<Item = Vec<u8>>) {
    let items: Vec<Vec<u8>> = items.collect();
    for chunk in items.chunks(REWRITE_ITEMS_PER_CMD) {
        let mut args: Vec<&[u8]> = vec![cmd, key];
        args.extend(chunk.iter().map(|v| v.as_slice()));
        encode(buf, &args);
    }
}

fn batched_pairs(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: Vec<Vec<u8>>) {
    for chunk in items.chunks(REWRITE_ITEMS_PER_CMD * 2) {
        let mut args: Vec<&[u8]> = vec![cmd, key];
        args.extend(chunk.iter().map(|v| v.as_slice()));
        encode(buf, &args);
    }
}

/// The function libraries as a plain base starts, as Redis's `rewriteFunctions` writes them:
/// one `FUNCTION LOAD <code>` per library.
fn function_loads(functions: &crate::script::functions::Functions) -> Vec<u8> {
    let mut out = Vec::new();
    for code in functions.codes() {
        encode(&mut out, &[b"FUNCTION", b"LOAD", code]);
    }
    out
}

/// Writes a new base from the current dataset and (when the AOF is on) opens a new incr
/// file, then switches the manifest. Everything executed so far is in the new base, so all
/// held replies are acknowledged once it is durable.
pub fn rewrite(aof: &mut Aof, env: &mut Env<'_>) -> Result<(), String> {
    let started = std::time::Instant::now();
    let res = rewrite_inner(aof, env);
    aof.last_rewrite_time_s = started.elapsed().as_secs() as i64;
    match &res {
        Ok(()) => {
            aof.rewrites += 1;
            aof.last_rewrite_ok = true;
            aof.rewrites_consecutive_failures = 0;
            log::info!("Background AOF rewrite finished successfully");
        }
        Err(e) => {
            aof.last_rewrite_ok = false;
            aof.rewrites_consecutive_failures += 1;
            log::warn!("Background AOF rewrite failed: {e}");
        }
    }
    res
}

fn rewrite_inner(aof: &mut Aof, env: &mut Env<'_>) -> Result<(), String> {
    let dir = env.config.dir.join(&env.config.appenddirname);
    let fname = env.config.appendfilename.clone();
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("Can't create the AOF directory {}: {e}", dir.display()))?;
    let old = if aof.dir == dir {
        aof.manifest.clone()
    } else {
        read_manifest(&dir, &fname)?.unwrap_or_default()
    };
    let base_seq = old.base_seq() + 1;
    let rdb = env.config.aof_use_rdb_preamble;
    let bname = base_name(&fname, base_seq, rdb);
    let tmp = dir.join(format!("temp-rewriteaof-{}.aof", std::process::id()));
    let base_size = {
        let f = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, f);
        if rdb {
            let mut out = BaseWriter::new(env, true);
            let mut err = None;
            snapshot_for_each(env.dbs, |db, key, v, exp| {
                out.add(db, key, v, exp);
                if out.buf.len() >= 64 * 1024 && err.is_none() {
                    err = w.write_all(&out.buf).err();
                    out.buf.clear();
                }
            });
            out.finish();
            if let Some(e) = err {
                return Err(format!("writing the base: {e}"));
            }
            w.write_all(&out.buf)
                .map_err(|e| format!("writing the base: {e}"))?;
        } else {
            w.write_all(&function_loads(env.functions))
                .map_err(|e| format!("writing the base: {e}"))?;
            write_snapshot(env.dbs, &mut w).map_err(|e| format!("writing the base: {e}"))?;
        }
        let f = w
            .into_inner()
            .map_err(|e| format!("writing the base: {e}"))?;
        f.sync_all()
            .map_err(|e| format!("fsync of the base: {e}"))?;
        f.metadata().map(|m| m.len()).unwrap_or(0)
    };
    std::fs::rename(&tmp, dir.join(&bname)).map_err(|e| format!("rename of the base: {e}"))?;
    let mut m = Manifest {
        base: Some(AofFile {
            name: bname,
            seq: base_seq,
            kind: FileType::Base,
        }),
        history: Vec::new(),
        incrs: Vec::new(),
    };
    let mut new_file = None;
    if aof.enabled {
        let iseq = old.incr_seq() + 1;
        let iname = incr_name(&fname, iseq);
        let (fd, _) = open_append(&dir.join(&iname)).map_err(|e| format!("{iname}: {e}"))?;
        // EINVAL: a special file that cannot be synced (tests point the incr file at
        // /dev/full to provoke write errors); a regular file never answers it.
        match nix::unistd::fsync(fd.as_raw_fd()) {
            Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
            Err(e) => return Err(format!("fsync of {iname}: {e}")),
        }
        m.incrs.push(AofFile {
            name: iname,
            seq: iseq,
            kind: FileType::Incr,
        });
        new_file = Some(fd);
    }
    set_history_after_rewrite(&mut m, &old);
    persist_manifest(&dir, &fname, &m).map_err(|e| format!("writing the manifest: {e}"))?;
    // The switch is durable: the old files are history now, deleted unless
    // `aof-disable-auto-gc` keeps them.
    if !env.config.aof_disable_auto_gc {
        del_history_files(&dir, &fname, &mut m)
            .map_err(|e| format!("writing the manifest: {e}"))?;
    }
    aof.dir = dir;
    aof.manifest = m;
    aof.base_size = base_size;
    aof.rewrite_base_size = base_size;
    aof.incr_size_closed = 0;
    if let Some(fd) = new_file {
        switch_file(aof, fd, 0);
    }
    // Everything executed so far, buffered or in flight, is in the durable base.
    aof.buf.clear();
    aof.seq_written = aof.seq_next;
    aof.seq_synced = aof.seq_next;
    aof.seq_next += 1;
    note_acked(aof, env.config);
    Ok(())
}

/// Makes `fd` the current incr file; the old one is retired until its ring operations end.
fn switch_file(aof: &mut Aof, fd: OwnedFd, len: u64) {
    let pending = usize::from(aof.fsync_inflight.is_some());
    if let Some(old) = aof.file.take() {
        if pending > 0 {
            aof.retired.push((aof.file_gen, old, pending));
        }
    }
    aof.file_gen = (aof.file_gen + 1) & 0xff_ffff;
    aof.file = Some(fd);
    aof.offset = len;
    aof.state = WriteState::Idle;
    aof.fsync_inflight = None;
    aof.fsync_retry_at_ms = None;
    aof.write_errno = None;
    aof.selected_db = None;
}

fn read_manifest(dir: &Path, fname: &str) -> Result<Option<Manifest>, String> {
    let path = dir.join(format!("{fname}.manifest"));
    match std::fs::read(&path) {
        Ok(b) => {
            let text = String::from_utf8(b)
                .map_err(|_| format!("Invalid AOF manifest file format: {}", path.display()))?;
            Manifest::parse(&text)
                .map(Some)
                .map_err(|e| format!("{e} ({})", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "Can't open the AOF manifest {}: {e}",
            path.display()
        )),
    }
}

// ---- Start-up ----------------------------------------------------------------------------

/// Start-up with `appendonly yes`, in three steps so that the server runs the commands read
/// from the files: [`Startup::open`] finds the AOF (moving a single-file one into the
/// multi-part layout), [`Startup::load`] replays its files through the server's [`Replay`],
/// and [`start`] opens the last incr file for appending and turns logging on (or, with no
/// AOF yet, creates a fresh one with an empty base).
pub struct Startup {
    dir: PathBuf,
    /// The manifest of the AOF to load; None when there is no AOF yet.
    manifest: Option<Manifest>,
}

impl Startup {
    pub fn open(config: &Config) -> Result<Startup, String> {
        let dir = config.dir.join(&config.appenddirname);
        let fname = &config.appendfilename;
        let old = config.dir.join(fname);
        if old.is_file() {
            match read_manifest(&dir, fname)? {
                None => upgrade_single_file(&old, &dir, fname)?,
                // An upgrade interrupted between the manifest and the move: finish the move.
                Some(m)
                    if m.base.as_ref().is_some_and(|b| b.name == *fname)
                        && !dir.join(fname).exists() =>
                {
                    std::fs::rename(&old, dir.join(fname))
                        .map_err(|e| format!("Can't move {}: {e}", old.display()))?;
                }
                Some(_) => {}
            }
        }
        let manifest = read_manifest(&dir, fname)?;
        if manifest.is_some() {
            // Leftovers of a rewrite or manifest switch cut short by a crash.
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with("temp-rewriteaof-")
                        || name == format!("temp-{fname}.manifest")
                    {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
        }
        Ok(Startup { dir, manifest })
    }

    /// There is no AOF yet: nothing to load, `start` creates it.
    pub fn is_fresh(&self) -> bool {
        self.manifest.is_none()
    }

    /// Replays the base and incr files the manifest names through `replay`, in order.
    /// `load_truncated` is `aof-load-truncated`: a torn tail of the last file is cut off
    /// instead of stopping start-up.
    pub fn load(&self, load_truncated: bool, replay: &mut impl Replay) -> Result<(), String> {
        let Some(m) = &self.manifest else {
            return Ok(());
        };
        let started = std::time::Instant::now();
        let files: Vec<&AofFile> = m.base.iter().chain(&m.incrs).collect();
        for (i, f) in files.iter().enumerate() {
            let is_last = i + 1 == files.len();
            load_one(replay, &self.dir, f, is_last, load_truncated)?;
        }
        log::info!(
            "DB loaded from append only file: {:.3} seconds",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// The last step of start-up (after `Startup::load`): opens the last incr file for
/// appending and turns logging on, or creates a fresh AOF.
pub fn start(aof: &mut Aof, env: &mut Env<'_>, startup: Startup) -> Result<(), String> {
    let Startup { dir, manifest } = startup;
    let fname = env.config.appendfilename.clone();
    let Some(mut m) = manifest else {
        aof.enabled = true;
        aof.effects.journal = Some(true);
        // Not counted as a rewrite in INFO, as Redis's creation of the first base.
        return rewrite_inner(aof, env).map_err(|e| format!("Can't create the AOF: {e}"));
    };
    // History files are kept by `aof-disable-auto-gc`, or leftovers of an interrupted
    // cleanup.
    if !env.config.aof_disable_auto_gc {
        del_history_files(&dir, &fname, &mut m)
            .map_err(|e| format!("writing the manifest: {e}"))?;
    }
    let base_size = m
        .base
        .as_ref()
        .and_then(|b| std::fs::metadata(dir.join(&b.name)).ok())
        .map_or(0, |md| md.len());
    let mut closed = 0;
    let last = match m.incrs.last() {
        Some(l) => l.clone(),
        None => {
            let seq = m.incr_seq() + 1;
            let f = AofFile {
                name: incr_name(&fname, seq),
                seq,
                kind: FileType::Incr,
            };
            m.incrs.push(f.clone());
            open_append(&dir.join(&f.name)).map_err(|e| format!("{}: {e}", f.name))?;
            persist_manifest(&dir, &fname, &m).map_err(|e| format!("writing the manifest: {e}"))?;
            f
        }
    };
    for f in &m.incrs[..m.incrs.len() - 1] {
        closed += std::fs::metadata(dir.join(&f.name)).map_or(0, |md| md.len());
    }
    let (fd, len) =
        open_append(&dir.join(&last.name)).map_err(|e| format!("{}: {e}", last.name))?;
    aof.dir = dir;
    aof.manifest = m;
    aof.base_size = base_size;
    aof.rewrite_base_size = base_size + closed + len;
    aof.incr_size_closed = closed;
    switch_file(aof, fd, len);
    aof.enabled = true;
    aof.effects.journal = Some(true);
    Ok(())
}

/// A single-file AOF of Redis before 7.0 (`dir/appendonly.aof`) becomes the base of a
/// multi-part AOF, as Redis 7.0's `aofUpgradePrepare` does: the file moves into the AOF
/// directory unchanged and a manifest naming it as base seq 1 is written.
fn upgrade_single_file(old: &Path, dir: &Path, fname: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("Can't create the AOF directory {}: {e}", dir.display()))?;
    let m = Manifest {
        base: Some(AofFile {
            name: fname.to_string(),
            seq: 1,
            kind: FileType::Base,
        }),
        ..Default::default()
    };
    // Manifest first, then the move: a crash in between is finished by the next start.
    persist_manifest(dir, fname, &m).map_err(|e| format!("writing the manifest: {e}"))?;
    std::fs::rename(old, dir.join(fname))
        .map_err(|e| format!("Can't move {} into {}: {e}", old.display(), dir.display()))?;
    let _ = fsync_dir(dir);
    if let Some(parent) = old.parent() {
        let _ = fsync_dir(parent);
    }
    log::info!(
        "Successfully migrated an old-style AOF {} into the AOF directory {}",
        old.display(),
        dir.display()
    );
    Ok(())
}

/// The server's side of loading an AOF: it runs the commands read from the files (with a
/// client that has no socket, as Redis's fake client) and lends the databases an RDB base
/// loads into.
pub trait Replay {
    /// The databases an RDB base loads into.
    fn dbs(&mut self) -> &mut [Db];
    /// Creates the function libraries an RDB base holds (code and record offset).
    fn load_functions(
        &mut self,
        found: &[(usize, Vec<u8>)],
    ) -> Result<(), crate::persist::rdb::RdbError>;
    /// The clock an RDB base is loaded with (the replayed commands' clock).
    fn now_ms(&self) -> u64;
    /// Runs one command; `UnknownCommand` when no such command exists (nothing runs then).
    fn command(&mut self, argv: &Argv<'_>) -> Result<(), UnknownCommand>;
    /// The commands that follow, until `false`, are a MULTI/EXEC transaction's (replayed
    /// one by one once its EXEC was read).
    fn in_transaction(&mut self, _on: bool) {}
}

/// A command read from an AOF is not a command of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCommand;

fn load_one(
    replay: &mut impl Replay,
    dir: &Path,
    f: &AofFile,
    is_last: bool,
    load_truncated: bool,
) -> Result<(), String> {
    let path = dir.join(&f.name);
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))?;
    let kind = if f.kind == FileType::Base {
        "base"
    } else {
        "incr"
    };
    let started = std::time::Instant::now();
    let mut pos = 0;
    if f.kind == FileType::Base && (f.name.ends_with(".rdb") || bytes.starts_with(b"REDIS")) {
        log::info!("Reading RDB base file on AOF loading...");
        let now_ms = replay.now_ms();
        let (consumed, functions) =
            crate::persist::rdb_base_loader(replay.dbs(), now_ms, &path, &bytes)?;
        replay
            .load_functions(&functions)
            .map_err(|e| format!("Bad file format reading {}: {e}", path.display()))?;
        pos = consumed;
    }
    let mut args = Vec::new();
    let mut multi: Option<(usize, Vec<Vec<Range<usize>>>)> = None;
    let name = path.display().to_string();
    let fix_hint =
        format!("make a backup of your AOF file, then use `ringkv check-aof --fix {name}`");
    loop {
        let step = parse_command(&bytes, pos, &mut args);
        let err = match step {
            Ok(Some(next)) => {
                let cmd = &bytes[args[0].clone()];
                if cmd.eq_ignore_ascii_case(b"multi") {
                    multi = Some((pos, Vec::new()));
                } else if cmd.eq_ignore_ascii_case(b"exec") {
                    if let Some((_, queued)) = multi.take() {
                        replay.in_transaction(true);
                        for q in &queued {
                            replay_one(replay, &bytes, q, &name)?;
                        }
                        replay.in_transaction(false);
                    }
                } else if let Some((_, queued)) = multi.as_mut() {
                    queued.push(args.clone());
                } else {
                    replay_one(replay, &bytes, &args, &name)?;
                }
                pos = next;
                continue;
            }
            Ok(None) => match multi {
                None => break,
                Some((at, _)) => {
                    log::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
                    perr(at, true, "MULTI without EXEC")
                }
            },
            Err(mut e) => {
                if let (Some((at, _)), true) = (&multi, e.truncated) {
                    e.offset = *at;
                }
                e
            }
        };
        if !err.truncated {
            return Err(format!(
                "Bad file format reading the append only file {name} at offset {} ({}): {fix_hint}",
                err.offset, err.message
            ));
        }
        if !is_last {
            return Err(format!(
                "Fatal error: the truncated file {name} is not the last file of the AOF \
                 (unexpected end of file at offset {}): {fix_hint}",
                err.offset
            ));
        }
        if !load_truncated {
            return Err(format!(
                "Unexpected end of file reading the append only file {name} at offset {}. You \
                 can: 1) {fix_hint}. 2) Alternatively you can set the 'aof-load-truncated' \
                 configuration option to yes and restart the server.",
                err.offset
            ));
        }
        log::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
        log::warn!("!!! Truncating the AOF {name} at offset {} !!!", err.offset);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|fh| fh.set_len(err.offset as u64).and_then(|()| fh.sync_all()));
        if let Err(e) = file {
            return Err(format!("Error truncating the AOF file {name}: {e}"));
        }
        log::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
        break;
    }
    log::info!(
        "DB loaded from {kind} file {}: {:.3} seconds",
        f.name,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn replay_one(
    replay: &mut impl Replay,
    bytes: &[u8],
    args: &[Range<usize>],
    file: &str,
) -> Result<(), String> {
    let spans: Vec<crate::resp::Span> = args
        .iter()
        .map(|r| crate::resp::Span {
            start: r.start,
            end: r.end,
        })
        .collect();
    let argv = Argv::new(bytes, &spans);
    replay.command(&argv).map_err(|UnknownCommand| {
        format!(
            "Unknown command '{}' reading the append only file {file}",
            String::from_utf8_lossy(argv.get(0))
        )
    })
}

// ---- CONFIG SET appendonly, scheduled rewrites, auto rewrite --------------------------------

/// `CONFIG SET appendonly yes|no` at run time. `bgsave_running`: a BGSAVE is in progress
/// (turning on waits for it).
pub fn set_enabled(
    aof: &mut Aof,
    env: &mut Env<'_>,
    on: bool,
    bgsave_running: bool,
) -> Result<(), String> {
    if aof.enable_pending {
        // Not on yet: "no" just cancels it.
        aof.enable_pending = on;
        return Ok(());
    }
    if on == aof.enabled {
        return Ok(());
    }
    if on && bgsave_running {
        aof.enable_pending = true;
        log::info!(
            "AOF was enabled but there is already another background operation. An AOF \
             background was scheduled to start when possible."
        );
        return Ok(());
    }
    if on {
        start_enabling(aof, env, bgsave_running)?;
        log::info!("AOF enabled: the initial base is being written");
    } else {
        turn_off(aof, env);
    }
    Ok(())
}

/// `CONFIG SET appendonly no` with the AOF on: no more writes are logged, and nothing waits
/// for the AOF any more.
fn turn_off(aof: &mut Aof, env: &mut Env<'_>) {
    abort_rewrite(aof, env, "appendonly turned off");
    aof.rewrite_scheduled = false;
    aof.enabled = false;
    // With the AOF off nothing waits for it.
    aof.ack_cap = None;
    aof.seq_written = aof.seq_next;
    aof.seq_synced = aof.seq_next;
    aof.seq_next += 1;
    note_acked(aof, env.config);
    aof.effects.journal = Some(false);
    // Pending bytes still reach the file; `submit` closes it when nothing is left.
    log::info!("AOF disabled");
}

/// `CONFIG SET appendonly yes`: an incremental rewrite writes the first base while writes
/// are logged to a new incr file that joins the manifest only with that base (Redis's
/// AOF_WAIT_REWRITE). Until then a crash restarts from the previous manifest, if any, so
/// no write is acknowledged before the base is in.
fn start_enabling(aof: &mut Aof, env: &mut Env<'_>, bgsave_running: bool) -> Result<(), String> {
    let dir = env.config.dir.join(&env.config.appenddirname);
    let fname = env.config.appendfilename.clone();
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("Can't create the AOF directory {}: {e}", dir.display()))?;
    let old = read_manifest(&dir, &fname)?.unwrap_or_default();
    let iseq = old.incr_seq() + 1;
    let iname = incr_name(&fname, iseq);
    let (nfd, _) = open_append(&dir.join(&iname)).map_err(|e| format!("{iname}: {e}"))?;
    let tmp_path = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let file =
        std::fs::File::create(&tmp_path).map_err(|e| format!("{}: {e}", tmp_path.display()))?;
    let old_files: Vec<String> = old
        .base
        .iter()
        .chain(&old.history)
        .chain(&old.incrs)
        .map(|f| f.name.clone())
        .collect();
    let base_seq = old.base_seq() + 1;
    let mut m = old;
    m.incrs.push(AofFile {
        name: iname,
        seq: iseq,
        kind: FileType::Incr,
    });
    let base_out = BaseWriter::new(env, env.config.aof_use_rdb_preamble);
    aof.dir = dir;
    aof.manifest = m;
    aof.base_size = 0;
    aof.incr_size_closed = 0;
    switch_file(aof, nfd, 0);
    let covers_seq = aof.seq_next;
    aof.seq_next += 1;
    aof.ack_cap = Some(aof.acked_floor().max(covers_seq));
    aof.enabling = true;
    aof.enabled = true;
    install_rewrite(
        aof,
        env,
        bgsave_running,
        NewBase {
            tmp_path,
            file,
            out: base_out,
            base_seq,
            old_files,
            covers_seq,
        },
    );
    aof.effects.journal = Some(true);
    Ok(())
}

/// The base a rewrite is about to write: it goes to `file` (at `tmp_path`) through `out`, to
/// become base `base_seq` covering sequences up to `covers_seq`; `old_files` are the
/// manifest's files it replaces.
struct NewBase {
    tmp_path: PathBuf,
    file: std::fs::File,
    out: BaseWriter,
    base_seq: u64,
    old_files: Vec<String>,
    covers_seq: u64,
}

/// Starts the snapshot walk of a rewrite writing `base`. `bgsave_running` is false: the
/// callers have checked.
fn install_rewrite(aof: &mut Aof, env: &mut Env<'_>, bgsave_running: bool, base: NewBase) {
    let NewBase {
        tmp_path,
        file,
        out,
        base_seq,
        old_files,
        covers_seq,
    } = base;
    let keys_total = env.dbs.iter().map(|d| d.len()).sum();
    // One copy-on-write log per database serves BGSAVE or a rewrite, never both: each
    // waits for the other (`bgsave_in_progress`, `rewrite_in_progress`).
    debug_assert!(!bgsave_running);
    for (i, db) in env.dbs.iter_mut().enumerate() {
        debug_assert!(!db.snapshot_active());
        db.snapshot_begin(i);
    }
    aof.rewrite = Some(Box::new(Rewrite {
        keys_done: 0,
        walked: false,
        tmp_path,
        file,
        autosync: Default::default(),
        out,
        base_seq,
        started: std::time::Instant::now(),
        old_files,
        covers_seq,
        syncing: false,
        id: aof.next_rewrite_id,
        keys_total,
        paced: std::env::var("RINGKV_AOF_REWRITE_SLICE_KEYS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0),
    }));
    aof.next_rewrite_id = (aof.next_rewrite_id + 1) & 0xff_ffff;
}

/// From housekeeping: one slice of a rewrite paced by the test knob (see `Rewrite::paced`).
pub fn rewrite_tick(ring: &mut Ring, aof: &mut Aof, env: &mut Env<'_>) {
    let Some(keys) = aof
        .rewrite
        .as_ref()
        .filter(|r| !r.syncing)
        .and_then(|r| r.paced)
    else {
        return;
    };
    rewrite_step(ring, aof, env, keys);
}

/// From housekeeping: what was scheduled behind a BGSAVE and may start now that none runs
/// (`bgsave_running` false; a rewrite with the AOF on starts in `submit`).
pub fn run_scheduled(aof: &mut Aof, env: &mut Env<'_>, bgsave_running: bool) {
    if bgsave_running {
        return;
    }
    if std::mem::take(&mut aof.enable_pending) {
        match start_enabling(aof, env, bgsave_running) {
            Ok(()) => log::info!("AOF enabled: the initial base is being written"),
            Err(e) => {
                log::warn!("Can't turn the AOF on: {e}");
                aof.effects.appendonly_off = true;
            }
        }
    }
    if aof.rewrite_scheduled && !aof.enabled && aof.rewrite.is_none() {
        aof.rewrite_scheduled = false;
        // `rewrite` logs and counts its own outcome.
        let _ = rewrite(aof, env);
    }
}

impl Aof {
    /// The auto-aof-rewrite trigger, checked from housekeeping (`bgsave_running`: a BGSAVE
    /// is in progress, so a rewrite would have to wait anyway).
    pub fn auto_rewrite_due(&self, config: &Config, bgsave_running: bool) -> bool {
        let pct = u64::from(config.auto_aof_rewrite_percentage);
        if !self.enabled
            || pct == 0
            || self.rewrite.is_some()
            || self.rewrite_scheduled
            || bgsave_running
        {
            return false;
        }
        let size = self.current_size();
        if size < config.auto_aof_rewrite_min_size {
            return false;
        }
        let base = self.rewrite_base_size.max(1);
        size.saturating_sub(base) * 100 / base >= pct
    }
}

// ---- INFO --------------------------------------------------------------------------------

/// INFO persistence, with Redis 7.0's fields in its order: the RDB fields
/// (`rdb_server::info_fields`) then the AOF's. `loading`: the server is loading its data;
/// `dirty`: its write counter.
pub fn info_persistence(
    aof: &Aof,
    rdb: &crate::persist::rdb_server::RdbState,
    loading: bool,
    dirty: u64,
) -> String {
    let mut s = format!(
        "# Persistence\r\n{}aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\n\
         aof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\n\
         aof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\n\
         aof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\n\
         module_fork_last_cow_size:0\r\n",
        crate::persist::rdb_server::info_fields(rdb, aof, loading, dirty),
        u8::from(aof.enabled || aof.enable_pending),
        u8::from(aof.rewrite.is_some()),
        u8::from(aof.rewrite_scheduled || aof.enable_pending),
        aof.last_rewrite_time_s,
        aof.current_rewrite_time_s(),
        if aof.last_rewrite_ok { "ok" } else { "err" },
        aof.rewrites,
        aof.rewrites_consecutive_failures,
        if aof.write_errno.is_some() { "err" } else { "ok" },
    );
    if aof.enabled {
        s.push_str(&format!(
            "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\n\
             aof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
            aof.current_size(),
            aof.base_size,
            aof.buffer_length(),
            u8::from(aof.fsync_inflight.is_some()),
            aof.delayed_fsync,
        ));
    }
    s
}

// ---- check-aof ---------------------------------------------------------------------------

/// `ringkv check-aof [--fix] [--yes] FILE`: checks an AOF file, or every file a manifest
/// names, and with `--fix` truncates a file to its last valid command after confirmation.
/// Returns the process exit code.
pub fn check_aof_main(path: &Path, fix: bool, yes: bool) -> i32 {
    let files: Vec<PathBuf> = if path.to_string_lossy().ends_with(".manifest") {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                println!("Cannot open file {}: {e}", path.display());
                return 1;
            }
        };
        match Manifest::parse(&text) {
            Ok(m) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                m.base
                    .iter()
                    .chain(&m.incrs)
                    .map(|f| dir.join(&f.name))
                    .collect()
            }
            Err(e) => {
                println!("Invalid manifest {}: {e}", path.display());
                return 1;
            }
        }
    } else {
        vec![path.to_path_buf()]
    };
    let mut code = 0;
    for (i, f) in files.iter().enumerate() {
        let is_last = i + 1 == files.len();
        let bytes = match std::fs::read(f) {
            Ok(b) => b,
            Err(e) => {
                println!("Cannot open file {}: {e}", f.display());
                return 1;
            }
        };
        if bytes.starts_with(b"REDIS") {
            println!(
                "{} is an RDB file: RDB files need the RDB checker, not checked",
                f.display()
            );
            continue;
        }
        let c = check_bytes(&bytes);
        println!(
            "AOF analyzed: filename={}, size={}, ok_up_to={}, commands={}, diff={}",
            f.display(),
            bytes.len(),
            c.valid_len,
            c.commands,
            bytes.len() - c.valid_len
        );
        let Some(e) = c.error else {
            println!("AOF {} is valid", f.display());
            continue;
        };
        println!(
            "AOF {} is not valid at offset {}: {}",
            f.display(),
            e.offset,
            e.message
        );
        if !fix {
            println!(
                "Use `ringkv check-aof --fix {}` to truncate it to the last valid command",
                f.display()
            );
            code = 1;
            continue;
        }
        if !is_last {
            println!(
                "Not fixing {}: only the last file of an AOF may be truncated",
                f.display()
            );
            code = 1;
            continue;
        }
        println!(
            "This will shrink the AOF {} from {} bytes, with {} bytes, to {} bytes",
            f.display(),
            bytes.len(),
            bytes.len() - c.valid_len,
            c.valid_len
        );
        if !yes {
            print!("Continue? [y/N]: ");
            let _ = std::io::stdout().flush();
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !answer.trim().eq_ignore_ascii_case("y") {
                println!("Aborting...");
                code = 1;
                continue;
            }
        }
        let r = std::fs::OpenOptions::new()
            .write(true)
            .open(f)
            .and_then(|fh| fh.set_len(c.valid_len as u64).and_then(|()| fh.sync_all()));
        match r {
            Ok(()) => println!("Successfully truncated AOF {}", f.display()),
            Err(e) => {
                println!("Failed to truncate AOF {}: {e}", f.display());
                code = 1;
            }
        }
    }
    code
}

// ---- Incremental rewrite -----------------------------------------------------------------

/// Starts an incremental rewrite at the end of a turn (no fsync in flight): the turn's bytes
/// go to the current incr file synchronously, a new incr file takes every later write and is
/// added to the manifest (so a crash during the rewrite loads old base + old incrs + new
/// incr), and the snapshot of this instant starts.
fn start_incremental(aof: &mut Aof, env: &mut Env<'_>) -> Result<(), String> {
    let dir = aof.dir.clone();
    let fname = env.config.appendfilename.clone();
    let base_out = BaseWriter::new(env, env.config.aof_use_rdb_preamble);
    let Some(fd) = aof.file.as_ref() else {
        return Err("the AOF is not open".into());
    };
    // Everything up to this instant is in the snapshot; bring the current incr file up to
    // date too, so the transitional manifest describes this instant completely.
    let mut pending = Vec::new();
    if let WriteState::Failed { buf, done, .. } = &aof.state {
        pending.extend_from_slice(&buf[*done..]);
    }
    pending.extend_from_slice(&aof.buf);
    let covers_seq = aof.seq_next;
    let (n, failed) = pwrite_all(fd, &pending, aof.offset);
    let off = aof.offset + n as u64;
    let mut written_ok = failed.is_none();
    if written_ok && nix::unistd::fsync(fd.as_raw_fd()).is_err() {
        written_ok = false;
    }
    if written_ok {
        aof.offset = off;
        aof.seq_written = covers_seq;
        aof.seq_synced = covers_seq;
    } else {
        // These bytes exist only in memory and, soon, in the new base: nothing later may be
        // acknowledged before the base is in the manifest.
        aof.ack_cap = Some(aof.acked_floor());
    }
    aof.buf.clear();
    aof.seq_next += 1;
    // The new incr file, in the manifest before any write goes to it.
    let iseq = aof.manifest.incr_seq() + 1;
    let iname = incr_name(&fname, iseq);
    let (nfd, _) = open_append(&dir.join(&iname)).map_err(|e| format!("{iname}: {e}"))?;
    match nix::unistd::fsync(nfd.as_raw_fd()) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => return Err(format!("fsync of {iname}: {e}")),
    }
    let mut m = aof.manifest.clone();
    let old_files: Vec<String> = m
        .base
        .iter()
        .chain(&m.history)
        .chain(&m.incrs)
        .map(|f| f.name.clone())
        .collect();
    m.incrs.push(AofFile {
        name: iname,
        seq: iseq,
        kind: FileType::Incr,
    });
    persist_manifest(&dir, &fname, &m).map_err(|e| format!("writing the manifest: {e}"))?;
    aof.manifest = m;
    aof.incr_size_closed += aof.offset;
    switch_file(aof, nfd, 0);
    let base_seq = aof.manifest.base_seq() + 1;
    let tmp_path = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let file =
        std::fs::File::create(&tmp_path).map_err(|e| format!("{}: {e}", tmp_path.display()))?;
    // Called only with no BGSAVE running (`submit` checks).
    install_rewrite(
        aof,
        env,
        false,
        NewBase {
            tmp_path,
            file,
            out: base_out,
            base_seq,
            old_files,
            covers_seq,
        },
    );
    log::info!("Background append only file rewriting started");
    note_acked(aof, env.config);
    Ok(())
}

impl Aof {
    /// The acknowledged sequence ignoring any cap.
    fn acked_floor(&self) -> u64 {
        self.seq_synced.min(self.seq_written)
    }
}

/// One slice of the rewrite; completes it when the walk is done.
fn rewrite_step(ring: &mut Ring, aof: &mut Aof, env: &mut Env<'_>, keys_max: usize) {
    let dbs = &mut *env.dbs;
    let Some(rw) = aof.rewrite.as_mut() else {
        return;
    };
    let Rewrite { out, keys_done, .. } = &mut **rw;
    // The databases in order, so the base selects each one about once; a slice stops at
    // the first database with keys left (each call is bounded by `keys_max`).
    let mut done = true;
    for db in dbs.iter_mut() {
        debug_assert!(
            db.snapshot_active(),
            "a rewrite's copy-on-write log went missing"
        );
        if !db.snapshot_step(keys_max, |i, k, v, e| {
            out.add(i, k, v, e);
            *keys_done += 1;
        }) {
            done = false;
            break;
        }
    }
    if done {
        for db in dbs.iter_mut() {
            db.snapshot_end();
        }
        rw.walked = true;
        rw.out.finish();
    }
    let flushed = rw.file.write_all(&rw.out.buf);
    if flushed.is_ok() {
        let on = env.config.aof_rewrite_incremental_fsync;
        rw.autosync.wrote(&rw.file, rw.out.buf.len(), on);
    }
    rw.out.buf.clear();
    // A slice that emitted many saved copies at once grew the buffer: give most of it back
    // rather than hold it for the rest of the rewrite.
    rw.out.buf.shrink_to(REWRITE_BUF_KEEP_BYTES);
    if let Some(e) = rw.out.error {
        abort_rewrite(aof, env, e);
        return;
    }
    if let Err(e) = flushed {
        abort_rewrite(aof, env, &format!("writing the base: {e}"));
        return;
    }
    if done {
        // The base's fsync goes through the ring: a large base must not stall the loop.
        rw.syncing = true;
        ring.fdatasync(rw.file.as_raw_fd(), tok(K_AOF_BASE_FSYNC, rw.id));
    }
}

/// The walk is done: the base is made durable and becomes the manifest's base, with the
/// incr files opened since the rewrite started; the files before are deleted.
fn complete_rewrite(aof: &mut Aof, env: &Env<'_>) -> Result<(), String> {
    let fname = env.config.appendfilename.clone();
    let Some(rw) = aof.rewrite.take() else {
        return Ok(());
    };
    let rw = *rw;
    let dir = aof.dir.clone();
    let bname = base_name(&fname, rw.base_seq, rw.out.is_rdb);
    let res = (|| -> Result<u64, String> {
        let file = rw.file;
        // The slices wrote everything (the walk is done) and the ring fsynced it.
        debug_assert!(rw.out.buf.is_empty());
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        std::fs::rename(&rw.tmp_path, dir.join(&bname))
            .map_err(|e| format!("rename of the base: {e}"))?;
        Ok(size)
    })();
    let base_size = match res {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&rw.tmp_path);
            return Err(e);
        }
    };
    let mut m = aof.manifest.clone();
    m.base = Some(AofFile {
        name: bname.clone(),
        seq: rw.base_seq,
        kind: FileType::Base,
    });
    m.incrs.retain(|f| !rw.old_files.contains(&f.name));
    set_history_after_rewrite(&mut m, &aof.manifest);
    persist_manifest(&dir, &fname, &m).map_err(|e| format!("writing the manifest: {e}"))?;
    if !env.config.aof_disable_auto_gc {
        del_history_files(&dir, &fname, &mut m)
            .map_err(|e| format!("writing the manifest: {e}"))?;
    }
    aof.manifest = m;
    aof.base_size = base_size;
    aof.incr_size_closed = 0;
    aof.rewrite_base_size = aof.current_size();
    aof.seq_written = aof.seq_written.max(rw.covers_seq);
    aof.seq_synced = aof.seq_synced.max(rw.covers_seq);
    aof.ack_cap = None;
    aof.enabling = false;
    aof.rewrites += 1;
    aof.last_rewrite_ok = true;
    aof.rewrites_consecutive_failures = 0;
    aof.last_rewrite_time_s = rw.started.elapsed().as_secs() as i64;
    log::info!("Background AOF rewrite finished successfully");
    note_acked(aof, env.config);
    Ok(())
}

/// Gives up the rewrite in progress: the temp base is deleted; the manifest (old base, old
/// incr files, new incr file) stays valid. A cap on acknowledgements stays until a later
/// rewrite succeeds, because the bytes it protects are in no file.
fn abort_rewrite(aof: &mut Aof, env: &mut Env<'_>, why: &str) {
    let Some(rw) = aof.rewrite.take() else {
        return;
    };
    if !rw.walked {
        for db in env.dbs.iter_mut() {
            db.snapshot_end();
        }
    }
    let _ = std::fs::remove_file(&rw.tmp_path);
    if rw.syncing {
        aof.base_fsync_orphan.push((rw.id, rw.file));
    }
    aof.last_rewrite_ok = false;
    aof.rewrites_consecutive_failures += 1;
    aof.last_rewrite_time_s = rw.started.elapsed().as_secs() as i64;
    log::warn!("Background AOF rewrite terminated with error: {why}");
    if std::mem::take(&mut aof.enabling) && aof.enabled {
        log::warn!("The AOF could not be turned on: appendonly is no again");
        aof.effects.appendonly_off = true;
        // As `set_enabled(false)`: cancels a pending start, else turns the AOF off.
        if !std::mem::take(&mut aof.enable_pending) {
            turn_off(aof, env);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the aof_loader fuzzer (fuzz/regressions/aof_loader/manifest-name-hex-escape):
    /// a file name with bytes the manifest writes as \xHH did not parse back to itself.
    /// Found by the aof_loader fuzzer: a name whose escaped form is longer than the line
    /// limit is refused when read, so every manifest that parses renders to one that parses.
    #[test]
    fn manifest_names_too_long_once_escaped_are_refused() {
        // 'é' is 2 bytes in the file as read, 8 (\xc3\xa9) once rendered.
        let text = format!("file {} seq 1 type b\n", "é".repeat(300));
        assert!(text.len() <= MANIFEST_LINE_MAX);
        assert!(Manifest::parse(&text).is_err());
        let ok = format!("file {} seq 1 type b\n", "é".repeat(100));
        let m = Manifest::parse(&ok).unwrap();
        assert_eq!(Manifest::parse(&m.render()).unwrap(), m);
    }

    #[test]
    fn manifest_names_with_odd_bytes_round_trip() {
        let text = "file \"appendonly\\x01aof.2.base.rdb\" seq 2 type b\n\
                    file \"a b\\x7f\\\"q\\xc3\\xa9.incr\" seq 3 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(
            m.base.as_ref().unwrap().name,
            "appendonly\u{1}aof.2.base.rdb"
        );
        assert_eq!(m.incrs[0].name, "a b\u{7f}\"q\u{e9}.incr");
        assert_eq!(Manifest::parse(&m.render()).unwrap(), m);
    }

    fn cmd(args: &[&str]) -> Vec<u8> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        let mut out = Vec::new();
        encode(&mut out, &a);
        out
    }

    #[test]
    fn parse_round_trip_and_torn_tails() {
        let mut f = cmd(&["SELECT", "0"]);
        f.extend(cmd(&["SET", "k", "v"]));
        let good = f.len();
        f.extend(cmd(&["RPUSH", "l", "a", "b"]));
        assert_eq!(parse_aof(&f).unwrap().len(), 3);
        for cut in good + 1..f.len() {
            let e = parse_aof(&f[..cut]).unwrap_err();
            assert!(e.truncated, "cut {cut}: {e:?}");
            assert_eq!(e.offset, good);
        }
        assert_eq!(parse_aof(&f[..good]).unwrap().len(), 2);
    }

    #[test]
    fn parse_rejects_garbage_without_panicking() {
        let mut f = cmd(&["SET", "k", "v"]);
        let at = f.len();
        f.extend_from_slice(b"xyz\r\n");
        let e = parse_aof(&f).unwrap_err();
        assert!(!e.truncated);
        assert_eq!(e.offset, at);
        for junk in [
            &b"*0\r\n"[..],
            b"*-1\r\n",
            b"*1\r\n$-3\r\n",
            b"*1\r\n$1\r\nab",
            b"*99999999999999999999\r\n",
            b"*1\r\n$18446744073709551615\r\n",
        ] {
            let _ = parse_aof(junk);
        }
        // Every prefix and every single-byte corruption of a valid file is handled.
        let mut g = cmd(&["SET", "key", "value"]);
        g.extend(cmd(&["DEL", "key"]));
        for i in 0..g.len() {
            let _ = parse_aof(&g[..i]);
            let mut h = g.clone();
            h[i] ^= 0x5a;
            let _ = parse_aof(&h);
        }
    }

    /// Random inputs built from RESP-like fragments: the reader never panics, an accepted
    /// input re-encodes to the same commands, and an error's offset is within the input.
    #[test]
    fn parse_random_inputs() {
        let frags: &[&[u8]] = &[
            b"*", b"$", b"\r\n", b"1", b"3", b"0", b"-1", b"SET", b"k", b"\n", b"#TS\n", b"9999",
        ];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut input = Vec::new();
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            for _ in 0..(rng % 24) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                input.extend_from_slice(frags[(rng % frags.len() as u64) as usize]);
            }
            match parse_aof(&input) {
                Ok(cmds) => {
                    let mut again = Vec::new();
                    for c in &cmds {
                        let a: Vec<&[u8]> = c.iter().map(|x| x.as_slice()).collect();
                        encode(&mut again, &a);
                    }
                    assert_eq!(parse_aof(&again).unwrap(), cmds);
                }
                Err(e) => assert!(e.offset <= input.len()),
            }
            let c = check_bytes(&input);
            assert!(c.valid_len <= input.len());
        }
    }

    #[test]
    fn annotations_are_skipped() {
        let mut f = b"#TS:1700000000\r\n".to_vec();
        f.extend(cmd(&["SET", "k", "v"]));
        assert_eq!(parse_aof(&f).unwrap().len(), 1);
    }

    #[test]
    fn multi_without_exec_is_a_torn_tail() {
        let mut f = cmd(&["SET", "k", "v"]);
        let at = f.len();
        f.extend(cmd(&["MULTI"]));
        f.extend(cmd(&["SREM", "s", "a"]));
        let c = check_bytes(&f);
        assert_eq!(c.valid_len, at);
        assert!(c.error.unwrap().truncated);
        f.extend(cmd(&["EXEC"]));
        assert!(check_bytes(&f).error.is_none());
    }

    #[test]
    fn manifest_round_trip() {
        let text = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.render(), text);
        let odd = Manifest {
            base: Some(AofFile {
                name: "a b.aof".into(),
                seq: 2,
                kind: FileType::Base,
            }),
            ..Default::default()
        };
        assert_eq!(Manifest::parse(&odd.render()).unwrap(), odd);
        assert!(Manifest::parse("file x seq 1 type z\n").is_err());
        assert!(Manifest::parse("file x seq 2 type i\nfile y seq 1 type i\n").is_err());
        assert!(Manifest::parse("").is_err());
    }
}
