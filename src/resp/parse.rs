//! Incremental RESP request parser with redis-server 7.0's exact acceptance rules and error
//! texts (`processMultibulkBuffer` / `processInlineBuffer` in Redis's networking.c).
//!
//! One [`Parser`] lives as long as its connection. The connection keeps its unconsumed input
//! in one buffer and calls [`Parser::parse`] with all of it whenever more bytes arrive; the
//! parser remembers where it stopped (position, multibulk count still expected, bulk length,
//! how far it has searched for the end of a line, and the spans found so far), so a command
//! that arrives in pieces is never re-scanned from its start.
//!
//! Invariants:
//! - `consumed <= pos <= buf.len()`, and `scan` lies between `pos` and the end of the buffer
//!   last seen. `consumed` is the start of the command in progress (or of the completed
//!   command still held), so removing `consumed()` bytes never invalidates a span.
//! - Nothing is allocated per command: `spans` is reused, and it grows one entry per argument
//!   that has actually arrived, never by the announced count (`*2147483647` allocates nothing).
//! - Quirks kept on purpose because clients see them: a NUL byte stops the search for a line
//!   end (Redis uses `strchr`), the byte after `\r` in a length line and the two bytes after
//!   bulk data are skipped without being checked, and `\r`/`\n` in the "expected '$'" error
//!   are sent as spaces. The 64 KiB limits apply to the unconsumed bytes seen when no line end
//!   has been found, as in Redis, so a line just over the limit is accepted or refused
//!   depending on how the bytes arrived.
//! - Commands parsed ahead ([`Parser::parse_ahead`], for the pipeline lookahead) are whole
//!   commands after the current one, checked by the same fast path under the limits they were
//!   parsed with; `parse` takes one only when it starts exactly at `pos` and the limits are
//!   still those, and `rebase` drops them all, so a command is never taken stale. What is kept
//!   is bounded: at most the lookahead's command count, each of at most `AHEAD_ARGS_MAX`
//!   arguments.

use super::{Argv, Span};
use crate::util::num::parse_i64_strict;

/// Redis's PROTO_INLINE_MAX_SIZE: most bytes a length line or an inline request may span
/// before its line end is seen.
pub const INLINE_MAX_BYTES: usize = 64 * 1024;
/// Largest multibulk count Redis accepts (INT_MAX).
pub const MULTIBULK_COUNT_MAX: i64 = i32::MAX as i64;
/// Most arguments an unauthenticated client may announce.
pub const UNAUTH_MULTIBULK_COUNT_MAX: i64 = 10;
/// Longest bulk an unauthenticated client may announce, in bytes.
pub const UNAUTH_BULK_LEN_MAX: i64 = 16384;
/// Default proto-max-bulk-len, in bytes.
pub const BULK_LEN_MAX_DEFAULT: usize = 512 * 1024 * 1024;
/// Above this many retained span slots, `next_command` gives the memory back, so one huge
/// command does not pin its argument table for the life of the connection.
const SPANS_RETAINED_MAX: usize = 1024;
/// Commands of more arguments end a lookahead (`Parser::parse_ahead`): what it keeps stays
/// small, and a long command is not worth a prefetch.
const AHEAD_ARGS_MAX: usize = 64;

/// Limits that depend on the configuration and on the client's state.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// proto-max-bulk-len.
    pub bulk_len_max: usize,
    /// False when requirepass is set and the client has not authenticated yet.
    pub authenticated: bool,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            bulk_len_max: BULK_LEN_MAX_DEFAULT,
            authenticated: true,
        }
    }
}

/// A malformed request. Redis replies `-ERR <message>` and closes the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigMultibulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    /// The byte found where a `$` should start a bulk length line.
    ExpectedDollar(u8),
    TooBigBulkCount,
    InvalidBulkLength,
    UnauthenticatedBulkLength,
    TooBigInline,
    UnbalancedQuotes,
}

const EXPECTED_PREFIX: &[u8; 35] = b"Protocol error: expected '$', got '";
const EXPECTED_LEN: usize = EXPECTED_PREFIX.len() + 2;

/// "Protocol error: expected '$', got 'c'" for every byte c, with `\r` and `\n` replaced by
/// spaces as Redis's addReplyErrorFormat does.
static EXPECTED_DOLLAR: [[u8; EXPECTED_LEN]; 256] = build_expected_dollar();

const fn build_expected_dollar() -> [[u8; EXPECTED_LEN]; 256] {
    let mut table = [[0u8; EXPECTED_LEN]; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < EXPECTED_PREFIX.len() {
            table[b][j] = EXPECTED_PREFIX[j];
            j += 1;
        }
        let c = b as u8;
        table[b][EXPECTED_PREFIX.len()] = if c == b'\r' || c == b'\n' { b' ' } else { c };
        table[b][EXPECTED_PREFIX.len() + 1] = b'\'';
        b += 1;
    }
    table
}

impl ProtocolError {
    /// Redis's exact error text (without the `ERR ` prefix). For `ExpectedDollar` with a byte
    /// of 0x80 or above, Redis sends the raw byte, which a `str` cannot hold; this returns the
    /// text with U+FFFD there, and [`ProtocolError::message_bytes`] gives the exact bytes.
    pub fn message(&self) -> &'static str {
        match self {
            ProtocolError::TooBigMultibulkCount => "Protocol error: too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            ProtocolError::ExpectedDollar(c) => {
                match std::str::from_utf8(&EXPECTED_DOLLAR[*c as usize]) {
                    Ok(s) => s,
                    Err(_) => "Protocol error: expected '$', got '\u{FFFD}'",
                }
            }
            ProtocolError::TooBigBulkCount => "Protocol error: too big bulk count string",
            ProtocolError::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => {
                "Protocol error: unauthenticated bulk length"
            }
            ProtocolError::TooBigInline => "Protocol error: too big inline request",
            ProtocolError::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
        }
    }

    /// The exact bytes Redis sends after `-ERR `, for every variant.
    pub fn message_bytes(&self) -> &'static [u8] {
        match self {
            ProtocolError::ExpectedDollar(c) => &EXPECTED_DOLLAR[*c as usize],
            other => other.message().as_bytes(),
        }
    }
}

/// Outcome of one [`Parser::parse`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A command is ready: read it with [`Parser::argv`], then call [`Parser::next_command`].
    Complete,
    /// More bytes are needed.
    Incomplete,
    /// The stream is malformed; reply with the message and close the connection.
    Error(ProtocolError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between commands, at `pos`.
    Idle,
    /// Looking for the end of the `*<count>` line that starts at `pos`.
    MultibulkCount,
    /// Looking for the end of the `$<len>` line that starts at `pos`.
    BulkLen,
    /// Waiting for `bulk_len` bytes plus two at `pos`.
    BulkData,
    /// Looking for the `\n` ending the inline request that starts at `pos`.
    Inline,
    /// `spans` holds a complete command until `next_command`.
    Complete,
    /// A protocol error was found; the parser stays here.
    Failed(ProtocolError),
}

/// Result of searching for a line end.
enum LineEnd {
    /// Not found (or a NUL stopped the search); `scan` remembers where to resume.
    Missing,
    /// Found at this index but the byte Redis skips after it has not arrived.
    Partial,
    Found(usize),
}

/// Per-connection incremental request parser. See the module documentation.
#[derive(Debug)]
pub struct Parser {
    state: State,
    /// Start of the command in progress or held; everything before it is finished with.
    consumed: usize,
    /// Start of the next element (length line, bulk data, inline line) to parse.
    pos: usize,
    /// Where the search for the current line's end resumes (bytes before it hold no
    /// terminator, or it is the NUL/`\r` found last time).
    scan: usize,
    /// Arguments of the multibulk in progress that have not arrived yet.
    args_remaining: usize,
    /// Length of the bulk being read, in bytes.
    bulk_len: usize,
    /// Length of the buffer at the last `parse` call (after rebasing), for `bytes_wanted`.
    seen_len: usize,
    spans: Vec<Span>,
    /// Commands parsed ahead (`parse_ahead`), in order, taken by `parse` one at a time.
    ahead: Ahead,
}

/// Whole commands `Parser::parse_ahead` parsed past the current one: their arguments'
/// spans, one after another, and per command where it starts and ends and how many spans
/// it has. Valid while the buffer is unchanged below their ends and the limits are those
/// they were checked against; `parse` drops them at the first mismatch, `rebase` at once.
#[derive(Default, Debug)]
struct Ahead {
    spans: Vec<Span>,
    commands: Vec<AheadCommand>,
    /// Index in `commands` of the next one to take.
    next: usize,
    /// Index in `spans` of its first span.
    next_span: usize,
    /// The held command was taken from here: its spans are `spans[current.0..current.1]`
    /// (not copied into `Parser::spans`) until `next_command`.
    current: Option<(usize, usize)>,
    /// The limits they were checked against.
    bulk_len_max: usize,
    authenticated: bool,
}

#[derive(Clone, Copy, Debug)]
struct AheadCommand {
    start: usize,
    end: usize,
    args: usize,
}

impl Ahead {
    fn clear(&mut self) {
        self.spans.clear();
        self.commands.clear();
        self.next = 0;
        self.next_span = 0;
        self.current = None;
    }
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

/// The usual length line, read without a search: at `from`, 1 to 18 digits with no leading
/// zero (or a lone `0`), then `\r` and one more byte already received. Returns the value and
/// the index of the `\r`; None sends the caller to the general path (memchr for the line
/// end, then `parse_i64_strict`), which gives the same result for every line this accepts and
/// handles everything else (signs, long numbers, NULs, partial lines, errors).
#[inline]
fn short_number_line(buf: &[u8], from: usize) -> Option<(i64, usize)> {
    // One or two digits (every count and length of the usual command): three bytes, no loop.
    if let Some(&[a, b, c]) = buf.get(from..from + 3) {
        let (d0, d1) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
        if d0 < 10 && b == b'\r' {
            return Some((i64::from(d0), from + 1));
        }
        if d0 < 10 && d0 != 0 && d1 < 10 && c == b'\r' && buf.len() > from + 3 {
            return Some((i64::from(d0 * 10 + d1), from + 2));
        }
    }
    let end = buf.len().min(from + 18);
    let mut at = from;
    let mut v: i64 = 0;
    // At most 18 digits: the value stays below 10^18, far from overflow.
    while at < end && buf[at].is_ascii_digit() {
        v = v * 10 + i64::from(buf[at] - b'0');
        at += 1;
    }
    let digits = at - from;
    if digits == 0 || at + 1 >= buf.len() || buf[at] != b'\r' || (buf[from] == b'0' && digits > 1) {
        return None;
    }
    Some((v, at))
}

/// The fast path's parse of a whole multibulk command at `pos`: short length lines, within
/// the limits, at most `args_max` arguments, all in `buf`. Appends its argument spans to
/// `spans` and returns where it ends; otherwise (partial, unusual, over a limit, empty)
/// leaves `spans` as it was and returns None.
#[inline(always)]
fn multibulk_spans(
    buf: &[u8],
    pos: usize,
    limits: &ParseLimits,
    spans: &mut Vec<Span>,
    args_max: usize,
) -> Option<usize> {
    let (count, cr) = short_number_line(buf, pos + 1)?;
    let count_max = if limits.authenticated {
        MULTIBULK_COUNT_MAX
    } else {
        UNAUTH_MULTIBULK_COUNT_MAX
    };
    let len_max = if limits.authenticated {
        limits.bulk_len_max
    } else {
        limits.bulk_len_max.min(UNAUTH_BULK_LEN_MAX as usize)
    };
    // Each argument takes at least 6 bytes ("$0\r\n\r\n"), so a count the buffer cannot
    // hold goes the general way without a loop over it.
    if count <= 0
        || count > count_max
        || count as usize > buf.len() / 6
        || count as usize > args_max
    {
        return None;
    }
    let first = spans.len();
    let mut at = cr + 2;
    // Bounded by `count`, itself at most buf.len() / 6.
    for _ in 0..count {
        let arg = (buf.get(at) == Some(&b'$'))
            .then(|| short_number_line(buf, at + 1))
            .flatten()
            .map(|(len, cr)| (len as usize, cr + 2))
            .filter(|&(len, start)| len <= len_max && buf.len() - start.min(buf.len()) >= len + 2);
        let Some((len, start)) = arg else {
            spans.truncate(first);
            return None;
        };
        spans.push(Span {
            start,
            end: start + len,
        });
        at = start + len + 2;
    }
    Some(at)
}

fn is_c_space(c: u8) -> bool {
    // C isspace() in the C locale.
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Parser {
    pub fn new() -> Parser {
        Parser {
            state: State::Idle,
            consumed: 0,
            pos: 0,
            scan: 0,
            args_remaining: 0,
            bulk_len: 0,
            seen_len: 0,
            spans: Vec::new(),
            ahead: Ahead::default(),
        }
    }

    /// Parses up to `commands_max` whole multibulk commands after the current position (the
    /// parser idle or holding a complete command, nothing parsed ahead yet), exactly as
    /// `parse` would (its fast path, with `limits`), and gives `seen` each one's argument
    /// spans in `buf`, so that the caller can start loading their keys from memory before it
    /// runs them. `parse` then takes them in order without parsing them again. Stops at the
    /// first command its fast path would not take (inline, partial, unusual). Returns how
    /// many it parsed.
    pub fn parse_ahead<'a>(
        &mut self,
        buf: &'a [u8],
        limits: &ParseLimits,
        commands_max: usize,
        mut seen: impl FnMut(&'a [u8], &[Span]),
    ) -> usize {
        if !matches!(self.state, State::Idle | State::Complete) || self.ahead_pending() {
            return 0;
        }
        // The held command may be the last one taken from the previous lookahead: its spans
        // move to `spans` before that is cleared (once per lookahead, not per command).
        if let Some((from, to)) = self.ahead.current.take() {
            self.spans.clear();
            self.spans.extend_from_slice(&self.ahead.spans[from..to]);
        }
        self.ahead.clear();
        self.ahead.bulk_len_max = limits.bulk_len_max;
        self.ahead.authenticated = limits.authenticated;
        let mut pos = self.pos;
        let mut n = 0;
        while n < commands_max && buf.get(pos) == Some(&b'*') {
            let first = self.ahead.spans.len();
            let Some(end) =
                multibulk_spans(buf, pos, limits, &mut self.ahead.spans, AHEAD_ARGS_MAX)
            else {
                break;
            };
            seen(buf, &self.ahead.spans[first..]);
            self.ahead.commands.push(AheadCommand {
                start: pos,
                end,
                args: self.ahead.spans.len() - first,
            });
            pos = end;
            n += 1;
        }
        n
    }

    /// The next command parsed ahead, if it starts at `pos` and was checked against these
    /// limits: its spans become the current command's. Anything else drops what was parsed
    /// ahead.
    #[inline]
    fn take_ahead(&mut self, limits: &ParseLimits) -> bool {
        let a = &mut self.ahead;
        let Some(c) = a.commands.get(a.next).copied() else {
            return false;
        };
        if c.start != self.pos
            || a.bulk_len_max != limits.bulk_len_max
            || a.authenticated != limits.authenticated
        {
            a.clear();
            return false;
        }
        // The spans stay where the lookahead put them (`argv` reads them there).
        a.current = Some((a.next_span, a.next_span + c.args));
        a.next += 1;
        a.next_span += c.args;
        self.pos = c.end;
        self.state = State::Complete;
        true
    }

    /// Parses one command from `buf[self.consumed()..]`. `buf` must start with the same bytes
    /// as at the previous call (plus any that arrived since), minus what was reported through
    /// [`Parser::rebase`]. On `Complete`, [`Parser::argv`] gives the arguments until
    /// [`Parser::next_command`]; calling `parse` again before that returns `Complete` again.
    /// Inline arguments with quotes or escapes are unescaped in place, inside the bytes of
    /// their own line. Empty commands (`*0`, `*-1`, blank inline lines) are skipped.
    #[inline(always)]
    pub fn parse(&mut self, buf: &mut [u8], limits: &ParseLimits) -> Status {
        // The usual case, inlined into the caller: a whole multibulk command (or the next one
        // parsed ahead) at the start of an idle parser. The state machine's function costs a
        // large prologue even when its first state takes the same path.
        if self.state == State::Idle && buf.get(self.pos) == Some(&b'*') {
            debug_assert!(buf.len() >= self.seen_len);
            self.seen_len = buf.len();
            self.consumed = self.pos;
            if self.start_multibulk(buf, limits) {
                return Status::Complete;
            }
        }
        self.parse_states(buf, limits)
    }

    /// `parse`'s state machine: everything but the whole command at an idle start.
    #[inline(never)]
    fn parse_states(&mut self, buf: &mut [u8], limits: &ParseLimits) -> Status {
        debug_assert!(self.consumed <= self.pos && self.pos <= buf.len());
        debug_assert!(buf.len() >= self.seen_len);
        self.seen_len = buf.len();
        // Every turn of the loop either returns or moves `pos` forward by at least one byte,
        // so it runs at most buf.len() + 1 times.
        loop {
            match self.state {
                State::Complete => return Status::Complete,
                State::Failed(e) => return Status::Error(e),
                State::Idle => {
                    self.consumed = self.pos;
                    let Some(&first) = buf.get(self.pos) else {
                        return Status::Incomplete;
                    };
                    if first != b'*' {
                        self.scan = self.pos;
                        self.state = State::Inline;
                        continue;
                    }
                    if self.start_multibulk(buf, limits) {
                        return Status::Complete;
                    }
                }
                State::MultibulkCount => {
                    let (count, cr) = if let Some((n, cr)) = short_number_line(buf, self.pos + 1) {
                        (n, cr)
                    } else {
                        let cr =
                            match self.length_line_end(buf, ProtocolError::TooBigMultibulkCount) {
                                Ok(cr) => cr,
                                Err(status) => return status,
                            };
                        match parse_i64_strict(&buf[self.pos + 1..cr]) {
                            Some(n) => (n, cr),
                            None => return self.fail(ProtocolError::InvalidMultibulkLength),
                        }
                    };
                    if count > MULTIBULK_COUNT_MAX {
                        return self.fail(ProtocolError::InvalidMultibulkLength);
                    }
                    if count > UNAUTH_MULTIBULK_COUNT_MAX && !limits.authenticated {
                        return self.fail(ProtocolError::UnauthenticatedMultibulkLength);
                    }
                    // Redis skips the byte after '\r' without checking it is '\n'.
                    self.pos = cr + 2;
                    if count <= 0 {
                        self.state = State::Idle;
                        continue;
                    }
                    // count is in 1..=i32::MAX, so the conversion cannot fail.
                    self.args_remaining = usize::try_from(count).unwrap_or(usize::MAX);
                    self.spans.clear();
                    self.scan = self.pos;
                    self.state = State::BulkLen;
                }
                State::BulkLen => {
                    let fast = match buf.get(self.pos) {
                        Some(b'$') => short_number_line(buf, self.pos + 1),
                        _ => None,
                    };
                    let (len, cr) = if let Some((n, cr)) = fast {
                        (n as usize, cr)
                    } else {
                        let cr = match self.length_line_end(buf, ProtocolError::TooBigBulkCount) {
                            Ok(cr) => cr,
                            Err(status) => return status,
                        };
                        let first = buf[self.pos];
                        if first != b'$' {
                            return self.fail(ProtocolError::ExpectedDollar(first));
                        }
                        match parse_i64_strict(&buf[self.pos + 1..cr])
                            .and_then(|n| usize::try_from(n).ok())
                        {
                            Some(n) => (n, cr),
                            None => return self.fail(ProtocolError::InvalidBulkLength),
                        }
                    };
                    if len > limits.bulk_len_max {
                        return self.fail(ProtocolError::InvalidBulkLength);
                    }
                    if len > UNAUTH_BULK_LEN_MAX as usize && !limits.authenticated {
                        return self.fail(ProtocolError::UnauthenticatedBulkLength);
                    }
                    self.pos = cr + 2;
                    self.bulk_len = len;
                    self.state = State::BulkData;
                }
                State::BulkData => {
                    let needed = self.bulk_len.saturating_add(2);
                    if buf.len() - self.pos < needed {
                        return Status::Incomplete;
                    }
                    self.spans.push(Span {
                        start: self.pos,
                        end: self.pos + self.bulk_len,
                    });
                    // The two bytes after the data are skipped unchecked, as Redis does.
                    self.pos += needed;
                    self.args_remaining -= 1;
                    if self.args_remaining == 0 {
                        self.state = State::Complete;
                    } else {
                        self.scan = self.pos;
                        self.state = State::BulkLen;
                    }
                }
                State::Inline => {
                    let nl = match self.find_line_end(buf, b'\n') {
                        LineEnd::Found(nl) => nl,
                        LineEnd::Partial | LineEnd::Missing => {
                            return self.incomplete_or(buf, ProtocolError::TooBigInline)
                        }
                    };
                    let end = if nl > self.pos && buf[nl - 1] == b'\r' {
                        nl - 1
                    } else {
                        nl
                    };
                    self.spans.clear();
                    if !split_inline(buf, self.pos, end, &mut self.spans) {
                        self.spans.clear();
                        return self.fail(ProtocolError::UnbalancedQuotes);
                    }
                    self.pos = nl + 1;
                    self.state = if self.spans.is_empty() {
                        State::Idle
                    } else {
                        State::Complete
                    };
                }
            }
        }
    }

    /// A multibulk command starts at `pos`: taken from the lookahead or parsed whole by the
    /// fast path (true, `Complete`), or else left to the state machine from its count line.
    #[inline(always)]
    fn start_multibulk(&mut self, buf: &[u8], limits: &ParseLimits) -> bool {
        self.scan = self.pos;
        if self.take_ahead(limits) || self.whole_multibulk(buf, limits) {
            return true;
        }
        self.state = State::MultibulkCount;
        false
    }

    /// The arguments of the completed command (empty if none is held).
    pub fn argv<'a>(&'a self, buf: &'a [u8]) -> Argv<'a> {
        if self.state == State::Complete {
            match self.ahead.current {
                Some((from, to)) => Argv::new(buf, &self.ahead.spans[from..to]),
                None => Argv::new(buf, &self.spans),
            }
        } else {
            Argv::new(buf, &[])
        }
    }

    /// Forgets the completed command's arguments; parsing continues after it.
    pub fn next_command(&mut self) {
        if self.state == State::Complete {
            self.state = State::Idle;
            self.consumed = self.pos;
        }
        if self.ahead.current.take().is_some() {
            if !self.ahead_pending() {
                self.ahead.clear();
            }
            return;
        }
        self.spans.clear();
        if self.spans.capacity() > SPANS_RETAINED_MAX {
            self.spans.shrink_to(SPANS_RETAINED_MAX);
        }
    }

    /// Bytes of `buf` after the current position (after the complete command, if one is
    /// held): what a lookahead could parse.
    pub fn bytes_after(&self, buf: &[u8]) -> usize {
        buf.len() - self.pos
    }

    /// Whether commands parsed ahead are waiting to be taken (a lookahead now does nothing).
    #[inline]
    pub fn ahead_pending(&self) -> bool {
        self.ahead.next < self.ahead.commands.len()
    }

    /// Heap bytes the parser holds of its own (the argument spans; the arguments themselves
    /// are ranges of the caller's buffer), for the client's memory figure.
    pub fn held_bytes(&self) -> usize {
        (self.spans.capacity() + self.ahead.spans.capacity()) * std::mem::size_of::<Span>()
            + self.ahead.commands.capacity() * std::mem::size_of::<AheadCommand>()
    }

    /// Bytes at the front of the buffer that no pending or held command needs: finished
    /// commands and skipped empty ones. A held (completed, not yet released) command is not
    /// counted until [`Parser::next_command`].
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// The caller emptied its buffer after `used_up` said every byte of it was parsed: the
    /// usual end of a batch, `rebase` of the whole length without its span walk.
    #[inline]
    pub fn rebase_used_up(&mut self) {
        debug_assert!(self.state == State::Idle && self.consumed == self.pos);
        debug_assert!(self.ahead.current.is_none());
        self.ahead.clear();
        self.consumed = 0;
        self.pos = 0;
        self.scan = 0;
        self.seen_len = 0;
    }

    /// The caller removed `removed` (at most `consumed()`) bytes from the front of its buffer.
    pub fn rebase(&mut self, removed: usize) {
        assert!(
            removed <= self.consumed,
            "rebase past consumed: {removed} > {}",
            self.consumed
        );
        // A held command taken from the lookahead keeps its spans (moved to `spans`).
        if let Some((from, to)) = self.ahead.current.take() {
            self.spans.clear();
            self.spans.extend_from_slice(&self.ahead.spans[from..to]);
        }
        self.ahead.clear();
        self.consumed -= removed;
        self.pos -= removed;
        self.scan = self.scan.saturating_sub(removed);
        self.seen_len = self.seen_len.saturating_sub(removed);
        for s in &mut self.spans {
            s.start -= removed;
            s.end -= removed;
        }
    }

    /// Inside a bulk: how many more bytes must arrive to finish it (data plus the two bytes
    /// after it), so the caller can reserve room for a big value. 0 otherwise.
    pub fn bytes_wanted(&self) -> usize {
        if self.state == State::BulkData {
            (self.pos + self.bulk_len.saturating_add(2)).saturating_sub(self.seen_len)
        } else {
            0
        }
    }

    /// The usual case in one pass: a whole multibulk command with short length lines, within
    /// the limits, already in `buf` at `pos`. Then its spans are set, `pos` moves past it and
    /// the state is `Complete`. Anything else (partial, unusual length lines, over a limit,
    /// empty) returns false with nothing changed but `spans`, and the state machine parses it
    /// the general way, giving the same result.
    #[inline(always)]
    fn whole_multibulk(&mut self, buf: &[u8], limits: &ParseLimits) -> bool {
        self.spans.clear();
        match multibulk_spans(buf, self.pos, limits, &mut self.spans, usize::MAX) {
            Some(end) => {
                self.pos = end;
                self.state = State::Complete;
                true
            }
            None => false,
        }
    }

    /// Whether `parse` would only answer `Incomplete`: idle, with every byte of `buf` parsed.
    /// Asking is cheaper than the call (the usual end of a batch).
    #[inline]
    pub fn used_up(&self, buf: &[u8]) -> bool {
        self.idle_at() == Some(buf.len())
    }

    /// Where the next command starts, if the parser is between commands.
    #[inline]
    pub fn idle_at(&self) -> Option<usize> {
        (self.state == State::Idle).then_some(self.pos)
    }

    /// True when no partial or completed command is pending.
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle && self.pos == self.consumed
    }

    fn fail(&mut self, e: ProtocolError) -> Status {
        self.state = State::Failed(e);
        Status::Error(e)
    }

    /// No line end yet: an error if more than INLINE_MAX_BYTES are waiting, else wait.
    fn incomplete_or(&mut self, buf: &[u8], e: ProtocolError) -> Status {
        if buf.len() - self.pos > INLINE_MAX_BYTES {
            self.fail(e)
        } else {
            Status::Incomplete
        }
    }

    /// The `\r` ending the length line at `pos`, found by search; Err is what `parse` answers
    /// meanwhile: incomplete, or `too_big` once more than the inline limit waits without one.
    fn length_line_end(&mut self, buf: &[u8], too_big: ProtocolError) -> Result<usize, Status> {
        match self.find_line_end(buf, b'\r') {
            LineEnd::Found(cr) => Ok(cr),
            LineEnd::Partial => Err(Status::Incomplete),
            LineEnd::Missing => Err(self.incomplete_or(buf, too_big)),
        }
    }

    /// Searches for `term` from `self.scan`, stopping at a NUL as C's strchr does. For `\r`
    /// the byte after it must also have arrived (Redis requires the whole "\r\n").
    fn find_line_end(&mut self, buf: &[u8], term: u8) -> LineEnd {
        let from = self.scan.max(self.pos);
        match memchr::memchr2(term, 0, &buf[from..]) {
            None => {
                self.scan = buf.len();
                LineEnd::Missing
            }
            Some(off) => {
                let at = from + off;
                self.scan = at;
                if buf[at] == 0 {
                    // strchr stops here for good: the line can never end.
                    LineEnd::Missing
                } else if term == b'\r' && at + 1 >= buf.len() {
                    LineEnd::Partial
                } else {
                    LineEnd::Found(at)
                }
            }
        }
    }
}

/// Splits the inline request `buf[start..end]` like Redis's `sdssplitargs`, writing the
/// unescaped arguments in place (output never outruns input) and pushing their spans.
/// Returns false on unbalanced quotes. The line holds no NUL (as a C string could not); reads
/// past `end` see 0, standing in for the C string terminator. This is the one sdssplitargs:
/// `config::split_line` (config files, the AOF manifest) calls it on a copy of its line, so
/// the network path stays free of allocation.
pub(crate) fn split_inline(
    buf: &mut [u8],
    start: usize,
    end: usize,
    spans: &mut Vec<Span>,
) -> bool {
    let at = |buf: &[u8], i: usize| if i < end { buf[i] } else { 0 };
    let mut r = start;
    let mut w = start;
    // Each outer turn consumes at least one byte or returns; each inner turn consumes one.
    loop {
        while r < end && is_c_space(buf[r]) {
            r += 1;
        }
        if r >= end {
            return true;
        }
        let token_start = w;
        let mut in_double = false;
        let mut in_single = false;
        let mut done = false;
        while !done {
            debug_assert!(w <= r);
            let c = at(buf, r);
            if in_double {
                if c == b'\\' && at(buf, r + 1) == b'x' {
                    if let (Some(hi), Some(lo)) =
                        (hex_value(at(buf, r + 2)), hex_value(at(buf, r + 3)))
                    {
                        buf[w] = hi * 16 + lo;
                        w += 1;
                        r += 3;
                    } else {
                        // "\x" without two hex digits is an ordinary escape: 'x'.
                        r += 1;
                        buf[w] = b'x';
                        w += 1;
                    }
                } else if c == b'\\' && at(buf, r + 1) != 0 {
                    r += 1;
                    buf[w] = match buf[r] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    };
                    w += 1;
                } else if c == b'"' {
                    // A closing quote must be followed by a space or the end.
                    let next = at(buf, r + 1);
                    if next != 0 && !is_c_space(next) {
                        return false;
                    }
                    done = true;
                } else if c == 0 {
                    return false;
                } else {
                    buf[w] = c;
                    w += 1;
                }
            } else if in_single {
                if c == b'\\' && at(buf, r + 1) == b'\'' {
                    r += 1;
                    buf[w] = b'\'';
                    w += 1;
                } else if c == b'\'' {
                    let next = at(buf, r + 1);
                    if next != 0 && !is_c_space(next) {
                        return false;
                    }
                    done = true;
                } else if c == 0 {
                    return false;
                } else {
                    buf[w] = c;
                    w += 1;
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => {
                        buf[w] = c;
                        w += 1;
                    }
                }
            }
            if r < end {
                r += 1;
            }
        }
        spans.push(Span {
            start: token_start,
            end: w,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parsed_ahead_are_taken_in_order_without_parsing_again() {
        let mut buf = b"*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n*1\r\n$4\r\nPING\r\n\
*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$1\r\nv\r\nGET k3\r\n"
            .to_vec();
        let limits = ParseLimits::default();
        let mut p = Parser::new();
        let mut keys: Vec<Vec<Vec<u8>>> = Vec::new();
        assert_eq!(
            p.parse_ahead(&buf, &limits, 16, |b, spans| keys
                .push(spans.iter().map(|s| b[s.start..s.end].to_vec()).collect())),
            3
        );
        assert_eq!(
            keys,
            [
                vec![b"GET".to_vec(), b"k1".to_vec()],
                vec![b"PING".to_vec()],
                vec![b"SET".to_vec(), b"k2".to_vec(), b"v".to_vec()]
            ]
        );
        // A second lookahead while some are queued does nothing.
        assert_eq!(p.parse_ahead(&buf, &limits, 16, |_, _| panic!("queued")), 0);
        let mut seen = Vec::new();
        for i in 0..4 {
            assert_eq!(p.parse(&mut buf, &limits), Status::Complete);
            if i < 2 {
                assert_eq!(p.ahead.next, i + 1, "command {i} taken from the lookahead");
            }
            let argv = p.argv(&buf);
            seen.push(
                (0..argv.len())
                    .map(|i| argv.get(i).to_vec())
                    .collect::<Vec<_>>(),
            );
            p.next_command();
        }
        assert_eq!(seen[0], [b"GET".to_vec(), b"k1".to_vec()]);
        assert_eq!(seen[1], [b"PING".to_vec()]);
        assert_eq!(seen[2], [b"SET".to_vec(), b"k2".to_vec(), b"v".to_vec()]);
        assert_eq!(seen[3], [b"GET".to_vec(), b"k3".to_vec()]);
        assert!(p.ahead.commands.is_empty());
        // Taken only under the limits they were checked against.
        let mut buf = b"*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\n".to_vec();
        let mut p = Parser::new();
        assert_eq!(p.parse_ahead(&buf, &limits, 16, |_, _| {}), 2);
        let strict = ParseLimits {
            bulk_len_max: 1,
            ..limits
        };
        assert!(matches!(p.parse(&mut buf, &strict), Status::Error(_)));
        assert!(p.ahead.commands.is_empty());
    }

    fn open() -> ParseLimits {
        ParseLimits::default()
    }

    fn unauth() -> ParseLimits {
        ParseLimits {
            authenticated: false,
            ..ParseLimits::default()
        }
    }

    /// Parses everything in `input` at once; returns the commands and the final status.
    fn parse_all(input: &[u8], limits: &ParseLimits) -> (Vec<Vec<Vec<u8>>>, Status) {
        let mut buf = input.to_vec();
        let mut p = Parser::new();
        let mut cmds = Vec::new();
        loop {
            match p.parse(&mut buf, limits) {
                Status::Complete => {
                    cmds.push(p.argv(&buf).iter().map(|a| a.to_vec()).collect());
                    p.next_command();
                }
                other => return (cmds, other),
            }
        }
    }

    fn one(input: &[u8]) -> Vec<Vec<u8>> {
        let (mut cmds, st) = parse_all(input, &open());
        assert_eq!(st, Status::Incomplete, "input {input:?}");
        assert_eq!(cmds.len(), 1, "input {input:?}");
        cmds.pop().unwrap_or_default()
    }

    fn err(input: &[u8], limits: &ParseLimits) -> &'static str {
        match parse_all(input, limits).1 {
            Status::Error(e) => e.message(),
            other => panic!("expected an error for {input:?}, got {other:?}"),
        }
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    /// The length-line fast path agrees with the general one (line end by search, then
    /// `parse_i64_strict`) on every line over a small alphabet up to 5 bytes and on long digit
    /// runs: whenever it answers, the general path would give the same value and line end.
    #[test]
    fn short_number_line_agrees_with_the_general_path() {
        fn check(line: &[u8]) {
            let Some((v, at)) = short_number_line(line, 0) else {
                return;
            };
            let end = line
                .iter()
                .position(|&c| c == b'\r' || c == 0)
                .expect("a line end");
            assert_eq!(at, end, "line end of {line:?}");
            assert_eq!(line[at], b'\r');
            assert!(at + 1 < line.len(), "the byte after \\r has arrived");
            assert_eq!(parse_i64_strict(&line[..at]), Some(v), "value of {line:?}");
        }
        const ALPHABET: &[u8] = b"0190-+\r\n\x00 ";
        let mut line = Vec::new();
        for len in 0..=5u32 {
            for mut code in 0..ALPHABET.len().pow(len) {
                line.clear();
                for _ in 0..len {
                    line.push(ALPHABET[code % ALPHABET.len()]);
                    code /= ALPHABET.len();
                }
                check(&line);
            }
        }
        for digits in 1..=22 {
            for first in [b'0', b'1', b'9'] {
                let mut l = vec![first];
                l.extend(std::iter::repeat_n(b'9', digits - 1));
                l.extend_from_slice(b"\r\n");
                check(&l);
                if digits <= 18 && (first != b'0' || digits == 1) {
                    assert!(
                        short_number_line(&l, 0).is_some(),
                        "{l:?} takes the fast path"
                    );
                }
            }
        }
    }

    #[test]
    fn multibulk_basic_and_pipelined() {
        assert_eq!(one(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), v(&["GET", "k"]));
        let (cmds, st) = parse_all(
            b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
            &open(),
        );
        assert_eq!(st, Status::Incomplete);
        assert_eq!(cmds, vec![v(&["PING"]), v(&["ECHO", ""])]);
    }

    #[test]
    fn multibulk_quirks_match_redis() {
        // Verified against redis-server 7.0.15: the byte after '\r' and the two bytes after
        // bulk data are not checked.
        assert_eq!(one(b"*1\r\n$4\r\nPINGxx"), v(&["PING"]));
        assert_eq!(one(b"*1\rX$4\rXPING\r\n"), v(&["PING"]));
        // Empty multibulks are skipped.
        assert_eq!(one(b"*-5\r\n*0\r\n*1\r\n$4\r\nPING\r\n"), v(&["PING"]));
        // Bulk data may contain anything, NUL and CRLF included.
        assert_eq!(one(b"*1\r\n$4\r\n\0\r\n\0\r\n"), vec![b"\0\r\n\0".to_vec()]);
    }

    #[test]
    fn nul_blocks_line_search_like_strchr() {
        // Redis 7.0 never finds the line end past a NUL and waits (until 64 KiB).
        let (cmds, st) = parse_all(b"*1\0\r\n$4\r\nPING\r\n", &open());
        assert!(cmds.is_empty());
        assert_eq!(st, Status::Incomplete);
        let (cmds, st) = parse_all(b"PING\0\n", &open());
        assert!(cmds.is_empty());
        assert_eq!(st, Status::Incomplete);
        let mut big = b"*1\r\n$4\0".to_vec();
        big.extend(std::iter::repeat_n(b'\r', INLINE_MAX_BYTES));
        assert_eq!(
            err(&big, &open()),
            "Protocol error: too big bulk count string"
        );
    }

    #[test]
    fn huge_announced_count_allocates_nothing() {
        let mut buf = b"*2147483647\r\n$1\r\na\r\n".to_vec();
        let mut p = Parser::new();
        assert_eq!(p.parse(&mut buf, &open()), Status::Incomplete);
        assert!(p.spans.capacity() < 64);
        assert!(!p.is_idle());
    }

    #[test]
    fn error_texts() {
        let big = |prefix: &[u8], n: usize, fill: u8| {
            let mut b = prefix.to_vec();
            b.extend(std::iter::repeat_n(fill, n));
            b
        };
        // Exactly 64 KiB of unterminated line is still waited for; one byte more fails.
        assert_eq!(
            parse_all(&big(b"*", INLINE_MAX_BYTES - 1, b'1'), &open()).1,
            Status::Incomplete
        );
        assert_eq!(
            err(&big(b"*", INLINE_MAX_BYTES, b'1'), &open()),
            "Protocol error: too big mbulk count string"
        );
        assert_eq!(
            parse_all(&big(b"*1\r\n$", INLINE_MAX_BYTES - 1, b'1'), &open()).1,
            Status::Incomplete
        );
        assert_eq!(
            err(&big(b"*1\r\n$", INLINE_MAX_BYTES, b'1'), &open()),
            "Protocol error: too big bulk count string"
        );
        // The length line is searched for before its first byte is checked.
        assert_eq!(
            err(&big(b"*1\r\nX", INLINE_MAX_BYTES, b'1'), &open()),
            "Protocol error: too big bulk count string"
        );
        assert_eq!(
            parse_all(&big(b"", INLINE_MAX_BYTES, b'A'), &open()).1,
            Status::Incomplete
        );
        assert_eq!(
            err(&big(b"", INLINE_MAX_BYTES + 1, b'A'), &open()),
            "Protocol error: too big inline request"
        );

        for bad in [
            &b"*2147483648\r\n"[..],
            b"*+1\r\n",
            b"*01\r\n",
            b"*-0\r\n",
            b"*\r\n",
            b"*1x\r\n",
            b"*99999999999999999999\r\n",
        ] {
            assert_eq!(
                err(bad, &open()),
                "Protocol error: invalid multibulk length",
                "{bad:?}"
            );
        }
        assert_eq!(
            err(b"*11\r\n", &unauth()),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(parse_all(b"*10\r\n", &unauth()).1, Status::Incomplete);
        assert_eq!(parse_all(b"*-20\r\n", &unauth()).1, Status::Incomplete);

        assert_eq!(
            err(b"*1\r\nX\r\n", &open()),
            "Protocol error: expected '$', got 'X'"
        );
        assert_eq!(
            err(b"*1\r\n\r\nxx", &open()),
            "Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(0xe9).message_bytes(),
            b"Protocol error: expected '$', got '\xe9'"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\n').message_bytes(),
            b"Protocol error: expected '$', got ' '"
        );

        for bad in [
            &b"*1\r\n$-1\r\n"[..],
            b"*1\r\n$\r\n",
            b"*1\r\n$+1\r\n",
            b"*1\r\n$01\r\n",
            b"*1\r\n$536870913\r\n",
        ] {
            assert_eq!(
                err(bad, &open()),
                "Protocol error: invalid bulk length",
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_all(b"*1\r\n$536870912\r\n", &open()).1,
            Status::Incomplete
        );
        let small = ParseLimits {
            bulk_len_max: 3,
            authenticated: true,
        };
        assert_eq!(
            err(b"*1\r\n$4\r\n", &small),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$16385\r\n", &unauth()),
            "Protocol error: unauthenticated bulk length"
        );
        assert_eq!(
            parse_all(b"*1\r\n$16384\r\n", &unauth()).1,
            Status::Incomplete
        );

        for bad in [
            &b"ECHO \"abc\r\n"[..],
            b"ECHO \"a\"b\r\n",
            b"ECHO 'a'b\n",
            b"ECHO 'abc\n",
            b"\"\\\"\n",
        ] {
            assert_eq!(
                err(bad, &open()),
                "Protocol error: unbalanced quotes in request",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn errors_stick_and_earlier_commands_survive() {
        let (cmds, st) = parse_all(b"PING\r\n*1\r\nX\r\n", &open());
        assert_eq!(cmds, vec![v(&["PING"])]);
        assert_eq!(st, Status::Error(ProtocolError::ExpectedDollar(b'X')));
    }

    #[test]
    fn inline_splitting_matches_sdssplitargs() {
        assert_eq!(one(b"SET  k   v\r\n"), v(&["SET", "k", "v"]));
        assert_eq!(one(b"PING\n"), v(&["PING"]));
        // Checked against redis-server 7.0.15 with ECHO.
        assert_eq!(one(b"ECHO \"a\\x41\\x4\\q\"\r\n"), v(&["ECHO", "aAx4q"]));
        assert_eq!(
            one(b"ECHO \"a\\tb\\x4A\\x4g\\\\\\\"\"\r\n"),
            v(&["ECHO", "a\tbJx4g\\\""])
        );
        assert_eq!(one(b"ECHO a\"b c\"\r\n"), v(&["ECHO", "ab c"]));
        assert_eq!(
            one(b"ECHO \x0bfo\x0bo\x0b\r\n"),
            v(&["ECHO", "fo\x0bo\x0b"])
        );
        assert_eq!(one(b"ECHO \"x\"\x0b\r\n"), v(&["ECHO", "x"]));
        assert_eq!(one(b"ECHO a\rb\r\r\n"), v(&["ECHO", "a", "b"]));
        assert_eq!(
            one(b"ECHO 'a\\'b\\\\c\\n'\r\n"),
            v(&["ECHO", "a'b\\\\c\\n"])
        );
        assert_eq!(one(b"ECHO \"\" ''\r\n"), v(&["ECHO", "", ""]));
        assert_eq!(
            one(b"ECHO \"\\n\\r\\b\\a\"\n"),
            vec![b"ECHO".to_vec(), b"\n\r\x08\x07".to_vec()]
        );
        // A backslash at the very end of a quoted string escapes nothing: unbalanced.
        assert_eq!(
            err(b"ECHO \"ab\\\"\n", &open()),
            "Protocol error: unbalanced quotes in request"
        );
        // Blank lines are skipped silently.
        let (cmds, st) = parse_all(b"\r\n   \t\r\n\n\x0b\nPING\r\n", &open());
        assert_eq!((cmds, st), (vec![v(&["PING"])], Status::Incomplete));
    }

    #[test]
    fn consumed_rebase_and_bytes_wanted() {
        let mut buf = b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$10\r\nabc".to_vec();
        let mut p = Parser::new();
        assert!(p.is_idle());
        assert_eq!(p.parse(&mut buf, &open()), Status::Complete);
        assert_eq!(p.consumed(), 0, "a held command is still in use");
        assert_eq!(p.argv(&buf).get(0), b"PING");
        p.next_command();
        assert_eq!(p.consumed(), 14);
        assert_eq!(p.parse(&mut buf, &open()), Status::Incomplete);
        assert_eq!(p.bytes_wanted(), 9);
        assert!(!p.is_idle());
        let n = p.consumed();
        buf.drain(..n);
        p.rebase(n);
        assert_eq!(p.consumed(), 0);
        buf.extend_from_slice(b"defghij\r\n");
        assert_eq!(p.parse(&mut buf, &open()), Status::Complete);
        let argv = p.argv(&buf);
        assert_eq!(argv.len(), 2);
        assert_eq!(argv.get(1), b"abcdefghij");
        assert_eq!(p.bytes_wanted(), 0);
        p.next_command();
        assert!(p.is_idle());
        assert_eq!(p.consumed(), buf.len());
    }

    /// A small deterministic generator so the test needs no seed plumbing.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> usize {
            (self.next() % n) as usize
        }
    }

    fn pipelined_stream(rng: &mut Lcg, commands: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..commands {
            match rng.below(6) {
                0 => out.extend_from_slice(
                    format!("SET key:{i} \"va\\x41l ue\" 'x\\'y'\r\n").as_bytes(),
                ),
                1 => out.extend_from_slice(b"\r\n"),
                2 => out.extend_from_slice(b"*0\r\n"),
                _ => {
                    let argc = 1 + rng.below(5);
                    out.extend_from_slice(format!("*{argc}\r\n").as_bytes());
                    for _ in 0..argc {
                        let max_len = if rng.below(10) == 0 { 3000 } else { 12 };
                        let len = rng.below(max_len);
                        out.extend_from_slice(format!("${len}\r\n").as_bytes());
                        out.extend((0..len).map(|_| rng.below(256) as u8));
                        out.extend_from_slice(b"\r\n");
                    }
                }
            }
        }
        out
    }

    /// Feeds `stream` in pieces, compacting the buffer as a connection would.
    fn parse_in_pieces(stream: &[u8], rng: &mut Lcg, max_piece: u64) -> Vec<Vec<Vec<u8>>> {
        let mut p = Parser::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut cmds = Vec::new();
        let mut fed = 0;
        while fed < stream.len() {
            let n = (1 + rng.below(max_piece)).min(stream.len() - fed);
            buf.extend_from_slice(&stream[fed..fed + n]);
            fed += n;
            loop {
                match p.parse(&mut buf, &open()) {
                    Status::Complete => {
                        cmds.push(p.argv(&buf).iter().map(|a| a.to_vec()).collect());
                        p.next_command();
                    }
                    Status::Incomplete => break,
                    Status::Error(e) => panic!("unexpected {e:?}"),
                }
            }
            if rng.below(3) == 0 {
                let c = p.consumed();
                buf.drain(..c);
                p.rebase(c);
            }
        }
        assert!(p.is_idle());
        cmds
    }

    #[test]
    fn any_split_gives_the_same_commands() {
        let mut rng = Lcg(0x5eed);
        let stream = pipelined_stream(&mut rng, 3000);
        let (whole, st) = parse_all(&stream, &open());
        assert_eq!(st, Status::Incomplete);
        assert!(whole.len() > 1500);
        for max_piece in [1, 2, 3, 7, 64, 4096] {
            assert_eq!(
                parse_in_pieces(&stream, &mut rng, max_piece),
                whole,
                "max piece {max_piece}"
            );
        }
    }
}
