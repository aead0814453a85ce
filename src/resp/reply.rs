//! Reply encoder: writes RESP2 or RESP3 straight into a connection's output buffer.
//!
//! Every function appends one complete reply element, so a handler that returns early after an
//! error has still written a well-formed reply. Where RESP2 has no type (maps, sets, doubles,
//! booleans, null), the RESP2 form Redis uses is written instead, so handlers never branch on
//! the protocol themselves. Nothing here allocates except the output buffer growing.

use std::io::Write;

pub struct Reply<'a> {
    pub buf: &'a mut Vec<u8>,
    pub resp3: bool,
}

/// A position in the buffer where an aggregate header will be inserted once its length is
/// known (KEYS, SCAN: the number of elements is found while writing them).
pub struct Deferred(usize);

impl<'a> Reply<'a> {
    pub fn new(buf: &'a mut Vec<u8>, resp3: bool) -> Self {
        Reply { buf, resp3 }
    }

    /// `<prefix><n>\r\n`. Lengths and counts below 100 (most replies') are written from
    /// their digits without the formatter, each line as one append.
    #[inline]
    fn line(&mut self, prefix: u8, n: i64) {
        if (0..10).contains(&n) {
            self.buf
                .extend_from_slice(&[prefix, b'0' + n as u8, b'\r', b'\n']);
        } else if (10..100).contains(&n) {
            let (tens, ones) = (n as u8 / 10, n as u8 % 10);
            self.buf
                .extend_from_slice(&[prefix, b'0' + tens, b'0' + ones, b'\r', b'\n']);
        } else {
            self.line_formatted(prefix, n);
        }
    }

    #[inline(never)]
    fn line_formatted(&mut self, prefix: u8, n: i64) {
        let mut b = itoa::Buffer::new();
        let digits = b.format(n).as_bytes();
        self.buf.reserve(digits.len() + 3);
        self.buf.push(prefix);
        self.buf.extend_from_slice(digits);
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// An error reply; `msg` includes its code, e.g. `ERR syntax error`. Newlines in the
    /// message would break the protocol, so they become spaces, as Redis does.
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    /// An error reply from raw bytes (Redis echoes client bytes in some errors as they are).
    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        let start = self.buf.len();
        self.buf.extend_from_slice(msg);
        for c in &mut self.buf[start..] {
            if *c == b'\r' || *c == b'\n' {
                *c = b' ';
            }
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, n: i64) {
        self.line(b':', n);
    }

    pub fn bulk(&mut self, s: &[u8]) {
        // One reservation for the whole reply (a length line is at most 23 bytes).
        self.buf.reserve(s.len() + 25);
        self.line(b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    pub fn bulk_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        // Formatted bulk strings are rare (INFO, CLIENT LIST): format in place, then patch in
        // the length header.
        let start = self.buf.len();
        let _ = self.buf.write_fmt(args);
        let body = self.buf.split_off(start);
        self.bulk(&body);
    }

    /// Null bulk string (RESP2 `$-1`, RESP3 `_`).
    pub fn null(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// Null array (RESP2 `*-1`, RESP3 `_`).
    pub fn null_array(&mut self) {
        if self.resp3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    pub fn array(&mut self, n: usize) {
        self.line(b'*', n as i64);
    }

    /// A push frame of `n` elements (Pub/Sub messages and confirmations, invalidations);
    /// RESP2 has no push type, so there it is an array.
    pub fn push(&mut self, n: usize) {
        if self.resp3 {
            self.line(b'>', n as i64);
        } else {
            self.line(b'*', n as i64);
        }
    }

    /// A map of `n` pairs (RESP2: a flat array of 2n elements).
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.line(b'%', n as i64);
        } else {
            self.line(b'*', 2 * n as i64);
        }
    }

    /// A set of `n` elements (RESP2: an array).
    pub fn set(&mut self, n: usize) {
        if self.resp3 {
            self.line(b'~', n as i64);
        } else {
            self.line(b'*', n as i64);
        }
    }

    pub fn bool(&mut self, b: bool) {
        if self.resp3 {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A double (RESP2: bulk string with Redis's `%.17g` text).
    pub fn double(&mut self, v: f64) {
        let start = self.buf.len();
        crate::util::num::format_double(v, self.buf);
        if self.resp3 {
            let text = self.buf.split_off(start);
            self.buf.push(b',');
            self.buf.extend_from_slice(&text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            let text = self.buf.split_off(start);
            self.bulk(&text);
        }
    }

    /// Verbatim text (INFO, CLIENT INFO): RESP3 `=` with a 3-letter format, RESP2 bulk.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3 {
            self.line(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Starts an array whose length is not known yet.
    pub fn defer(&mut self) -> Deferred {
        Deferred(self.buf.len())
    }

    /// Inserts the header of a deferred array (or set, in RESP3) of `n` elements.
    pub fn finish_array(&mut self, d: Deferred, n: usize, as_set: bool) {
        let mut hdr = [0u8; 24];
        let prefix = if as_set && self.resp3 { b'~' } else { b'*' };
        let mut b = itoa::Buffer::new();
        let digits = b.format(n).as_bytes();
        hdr[0] = prefix;
        hdr[1..1 + digits.len()].copy_from_slice(digits);
        hdr[1 + digits.len()..3 + digits.len()].copy_from_slice(b"\r\n");
        let len = 3 + digits.len();
        self.buf.splice(d.0..d.0, hdr[..len].iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let mut v = Vec::new();
        let mut r = Reply::new(&mut v, false);
        r.ok();
        r.int(-3);
        r.bulk(b"ab");
        r.null();
        r.map(2);
        r.bool(true);
        r.error("ERR a\nb");
        assert_eq!(
            v,
            b"+OK\r\n:-3\r\n$2\r\nab\r\n$-1\r\n*4\r\n:1\r\n-ERR a b\r\n"
        );
        let mut v = Vec::new();
        let mut r = Reply::new(&mut v, true);
        r.null();
        r.map(2);
        r.bool(false);
        r.verbatim(b"x");
        assert_eq!(v, b"_\r\n%2\r\n#f\r\n=5\r\ntxt:x\r\n");
    }

    #[test]
    fn deferred() {
        let mut v = b"+A\r\n".to_vec();
        let mut r = Reply::new(&mut v, false);
        let d = r.defer();
        r.bulk(b"k");
        r.bulk(b"l");
        r.finish_array(d, 2, false);
        assert_eq!(v, b"+A\r\n*2\r\n$1\r\nk\r\n$1\r\nl\r\n");
    }
}
