//! The slow log: the latest commands whose run took at least `slowlog-log-slower-than`
//! microseconds, newest first, as Redis 7.0 keeps it (`cmd::slowlog` has the SLOWLOG command;
//! `cmd::call` offers each finished command through `Server::observe_command`).
//!
//! An entry keeps a trimmed copy of the command line, as Redis's `slowlogCreateEntry`: at
//! most `ENTRY_ARGS_MAX` arguments, the last of them then replaced by
//! "... (N more arguments)", and each argument longer than `ENTRY_ARG_BYTES_MAX` cut there
//! with "... (N more bytes)" appended; so an entry's size is bounded whatever the command.
//!
//! Invariants: `entries.len() <= max_len` after every push (the oldest go first), ids are
//! unique and decrease from the front to the back, and RESET empties the log without
//! resetting the id counter (Redis keeps ids growing for the life of the process).

use std::collections::VecDeque;

/// Most arguments an entry keeps (Redis's SLOWLOG_ENTRY_MAX_ARGC).
pub const ENTRY_ARGS_MAX: usize = 32;
/// Longest argument an entry keeps whole (Redis's SLOWLOG_ENTRY_MAX_STRING).
pub const ENTRY_ARG_BYTES_MAX: usize = 128;

/// One logged command.
pub struct Entry {
    pub id: u64,
    /// Unix seconds at which it was logged.
    pub time_s: u64,
    pub duration_us: u64,
    /// The trimmed command line.
    pub argv: Vec<Box<[u8]>>,
    /// The client's address (`ip:port`, `path:0`; `?:0` for a script's commands).
    pub peer: String,
    /// The client's name, empty when it has none.
    pub name: Box<[u8]>,
}

/// A blocked command's line as an entry keeps it and the µs it ran before blocking, held
/// until it is served.
pub type Pending = Box<(Vec<Box<[u8]>>, u64)>;

#[derive(Default)]
pub struct SlowLog {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
}

/// The command line `args` (of `argc` arguments in all) as an entry keeps it.
pub fn trimmed_argv<'a>(argc: usize, args: impl Iterator<Item = &'a [u8]>) -> Vec<Box<[u8]>> {
    let kept = argc.min(ENTRY_ARGS_MAX);
    let mut out = Vec::with_capacity(kept);
    for (j, a) in args.take(kept).enumerate() {
        if kept != argc && j == kept - 1 {
            let more = argc - kept + 1;
            out.push(format!("... ({more} more arguments)").into_bytes().into());
        } else if a.len() > ENTRY_ARG_BYTES_MAX {
            let mut s = a[..ENTRY_ARG_BYTES_MAX].to_vec();
            let more = a.len() - ENTRY_ARG_BYTES_MAX;
            s.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
            out.push(s.into());
        } else {
            out.push(a.into());
        }
    }
    out
}

impl SlowLog {
    /// Adds an entry (its id is assigned here) and drops the oldest beyond `max_len`.
    pub fn push(&mut self, mut e: Entry, max_len: usize) {
        e.id = self.next_id;
        self.next_id += 1;
        self.entries.push_front(e);
        self.trim(max_len);
        self.check_invariants(max_len);
    }

    /// Drops the oldest entries beyond `max_len` (also after CONFIG SET slowlog-max-len).
    pub fn trim(&mut self, max_len: usize) {
        self.entries.truncate(max_len);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// The newest `count` entries, newest first.
    pub fn newest(&self, count: usize) -> impl Iterator<Item = &Entry> {
        self.entries.iter().take(count)
    }

    pub fn check_invariants(&self, max_len: usize) {
        debug_assert!(self.entries.len() <= max_len);
        debug_assert!(self
            .entries
            .iter()
            .zip(self.entries.iter().skip(1))
            .all(|(a, b)| a.id > b.id));
        debug_assert!(self.entries.front().is_none_or(|e| e.id < self.next_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            id: 0,
            time_s: 0,
            duration_us: 0,
            argv: Vec::new(),
            peer: String::new(),
            name: Box::default(),
        }
    }

    #[test]
    fn trimming_keeps_32_arguments_and_128_bytes_of_each() {
        let long = [b'x'; 200];
        let args: Vec<&[u8]> = std::iter::repeat_n(&long[..], 40).collect();
        let t = trimmed_argv(40, args.iter().copied());
        assert_eq!(t.len(), 32);
        assert_eq!(&*t[31], b"... (9 more arguments)");
        assert_eq!(t[0].len(), 128 + b"... (72 more bytes)".len());
        assert!(t[0].ends_with(b"... (72 more bytes)"));
        // Exactly 32 arguments are kept whole.
        let t = trimmed_argv(32, args.iter().copied().take(32));
        assert!(t[31].starts_with(b"xxx"));
    }

    #[test]
    fn the_log_keeps_the_newest_and_ids_go_on_after_reset() {
        let mut log = SlowLog::default();
        for _ in 0..5 {
            log.push(entry(), 3);
        }
        assert_eq!(log.len(), 3);
        let ids: Vec<u64> = log.newest(10).map(|e| e.id).collect();
        assert_eq!(ids, vec![4, 3, 2]);
        log.reset();
        assert!(log.is_empty());
        log.push(entry(), 3);
        assert_eq!(log.newest(1).next().map(|e| e.id), Some(5));
        log.trim(0);
        assert!(log.is_empty());
    }
}
