//! RESP protocol layer: the incremental request parser ([`parse`]) and the argument view
//! ([`Argv`]) it hands to dispatch.
//!
//! Invariants: the protocol layer depends on nothing in the server. Arguments are never
//! copied out of the connection's input buffer; a command is a list of [`Span`]s (byte
//! ranges) into that buffer, and [`Argv`] pairs the buffer with the spans for as long as
//! the caller holds the borrow. Every span of a completed command lies inside the buffer
//! the parser was last called with, at or after `Parser::consumed()`.
pub mod parse;
pub mod reply;

/// A byte range `start..end` of one argument inside the connection's input buffer.
/// `start <= end` always; `end` is exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// The arguments of one parsed command, borrowed from the input buffer.
#[derive(Clone, Copy, Debug)]
pub struct Argv<'a> {
    buf: &'a [u8],
    spans: &'a [Span],
}

impl<'a> Argv<'a> {
    /// Pairs a buffer with spans that lie inside it (checked in debug builds).
    pub fn new(buf: &'a [u8], spans: &'a [Span]) -> Argv<'a> {
        debug_assert!(spans.iter().all(|s| s.start <= s.end && s.end <= buf.len()));
        Argv { buf, spans }
    }

    /// Number of arguments, the command name included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i`. Panics if `i >= len()`, like slice indexing: dispatch checks the
    /// arity before any handler reads an argument.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let s = self.spans[i];
        &self.buf[s.start..s.end]
    }

    /// The buffer and the spans into it (to copy a command in one piece).
    pub fn raw_parts(&self) -> (&'a [u8], &'a [Span]) {
        (self.buf, self.spans)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let buf = self.buf;
        self.spans.iter().map(move |s| &buf[s.start..s.end])
    }
}
