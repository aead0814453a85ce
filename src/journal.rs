//! The effects journal: what commands changed, in replicable form, for the consumers that
//! replay it elsewhere (the AOF today; replicas later).
//!
//! A command states its effects as it runs ([`Journal::record`]): usually its own arguments,
//! sometimes a rewritten form (SET … EX as SET … PXAT, INCRBYFLOAT as SET … KEEPTTL, a served
//! BLPOP as LPOP, an expired key as DEL), never reconstructed from its reply. Effects are
//! gathered per *execution unit*: one command from a client, a whole EXEC, one served blocked
//! client, one expiry cycle. When the unit ends ([`Journal::end_unit`]) its effects are
//! published: a unit with more than one effect is wrapped in MULTI … EXEC so that a consumer
//! applies all of it or none (Redis 7.0's `propagatePendingCommands`), a unit with none
//! publishes nothing.
//!
//! Published entries are `(database, RESP command)` in order; MULTI carries the database of
//! the first effect (so that a consumer switching databases does it before MULTI) and EXEC
//! none. Consumers track their own selected database and write SELECT where it changes, since
//! each may start at a different point of the stream (a new AOF file, a new replica).
//!
//! Invariants: nothing is recorded while no consumer is attached (`enabled` false), so the
//! journal costs one branch per command then; unit bytes and published bytes are reused
//! buffers, so steady recording allocates nothing; `depth` counts nested units (EXEC runs
//! commands inside its own unit) and only the outermost `end_unit` publishes.
//! The journal knows nothing of the server, connections or commands.

use std::ops::Range;

/// One published effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The database the command applies to; `None` for EXEC (no SELECT needed).
    pub db: Option<usize>,
    /// The command's RESP encoding inside [`Journal::published`].
    pub bytes: Range<usize>,
}

#[derive(Default)]
pub struct Journal {
    /// Some consumer wants the effects (AOF on). While false nothing is recorded.
    pub enabled: bool,
    /// Nesting of open units.
    depth: u32,
    /// RESP bytes of the open unit's effects.
    unit_bytes: Vec<u8>,
    /// (database, byte range in `unit_bytes`) of each effect of the open unit.
    unit_ops: Vec<(usize, Range<usize>)>,
    /// Published effects, read by consumers and then cleared with [`Journal::clear`].
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

impl Journal {
    pub fn new() -> Journal {
        Journal::default()
    }

    /// Opens an execution unit (nested units join the outermost one).
    #[inline]
    pub fn begin_unit(&mut self) {
        self.depth += 1;
    }

    /// Records one effect of the open unit: `args` applied to database `db`.
    pub fn record(&mut self, db: usize, args: &[&[u8]]) {
        self.record_iter(db, args.len(), args.iter().copied());
    }

    /// Records one effect given as an iterator of arguments (a command's own argv).
    pub fn record_iter<'a>(&mut self, db: usize, n: usize, args: impl Iterator<Item = &'a [u8]>) {
        if !self.enabled {
            return;
        }
        let start = self.unit_bytes.len();
        encode(&mut self.unit_bytes, n, args);
        self.unit_ops.push((db, start..self.unit_bytes.len()));
    }

    /// Closes a unit; the outermost one publishes its effects. Returns the number of effects
    /// published (0 for an inner unit).
    #[inline]
    pub fn end_unit(&mut self) -> usize {
        debug_assert!(self.depth > 0, "end_unit without begin_unit");
        self.depth -= 1;
        if self.depth > 0 || self.unit_ops.is_empty() {
            return 0;
        }
        self.publish_unit()
    }

    /// Moves the closed outermost unit's effects to the published entries.
    fn publish_unit(&mut self) -> usize {
        let n = self.unit_ops.len();
        let wrap = n > 1;
        if wrap {
            let first_db = self.unit_ops[0].0;
            self.push_entry(Some(first_db), b"MULTI");
        }
        for (db, r) in self.unit_ops.drain(..) {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(&self.unit_bytes[r]);
            self.entries.push(Entry {
                db: Some(db),
                bytes: start..self.bytes.len(),
            });
        }
        if wrap {
            self.push_entry(None, b"EXEC");
        }
        self.unit_bytes.clear();
        n
    }

    fn push_entry(&mut self, db: Option<usize>, name: &[u8]) {
        let start = self.bytes.len();
        encode(&mut self.bytes, 1, std::iter::once(name));
        self.entries.push(Entry {
            db,
            bytes: start..self.bytes.len(),
        });
    }

    /// True when no unit is open (a consumer may read what is published).
    #[inline]
    pub fn idle(&self) -> bool {
        self.depth == 0
    }

    /// Published entries with their bytes, in order.
    pub fn published(&self) -> impl Iterator<Item = (Option<usize>, &[u8])> + '_ {
        self.entries
            .iter()
            .map(|e| (e.db, &self.bytes[e.bytes.clone()]))
    }

    #[inline]
    pub fn has_published(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Forgets what was published (every consumer has read it).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes.clear();
    }

    /// Drops everything recorded and published (a consumer detached mid-unit, or the
    /// journal was switched off).
    pub fn discard(&mut self) {
        self.unit_ops.clear();
        self.unit_bytes.clear();
        self.clear();
    }
}

/// Appends one command in RESP multibulk form.
pub fn encode<'a>(out: &mut Vec<u8>, n: usize, args: impl Iterator<Item = &'a [u8]>) {
    let mut b = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(b.format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        out.push(b'$');
        out.extend_from_slice(b.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(j: &Journal) -> Vec<(Option<usize>, String)> {
        j.published()
            .map(|(db, b)| (db, String::from_utf8_lossy(b).into_owned()))
            .collect()
    }

    #[test]
    fn nothing_is_recorded_without_a_consumer() {
        let mut j = Journal::new();
        j.begin_unit();
        j.record(0, &[b"SET", b"k", b"v"]);
        assert_eq!(j.end_unit(), 0);
        assert!(!j.has_published());
    }

    #[test]
    fn one_effect_is_published_bare_and_several_are_wrapped() {
        let mut j = Journal {
            enabled: true,
            ..Journal::default()
        };
        j.begin_unit();
        j.record(3, &[b"SET", b"k", b"v"]);
        assert_eq!(j.end_unit(), 1);
        assert_eq!(
            entries(&j),
            vec![(Some(3), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n".into())]
        );
        j.clear();
        // EXEC: an inner unit per queued command, published once at the outer end.
        j.begin_unit();
        j.begin_unit();
        j.record(1, &[b"DEL", b"a"]);
        assert_eq!(j.end_unit(), 0);
        j.begin_unit();
        j.record(2, &[b"DEL", b"b"]);
        assert_eq!(j.end_unit(), 0);
        assert!(!j.has_published());
        assert_eq!(j.end_unit(), 2);
        let e = entries(&j);
        assert_eq!(e.len(), 4);
        assert_eq!(e[0], (Some(1), "*1\r\n$5\r\nMULTI\r\n".into()));
        assert_eq!(e[1].0, Some(1));
        assert_eq!(e[2].0, Some(2));
        assert_eq!(e[3], (None, "*1\r\n$4\r\nEXEC\r\n".into()));
    }

    #[test]
    fn an_empty_unit_publishes_nothing() {
        let mut j = Journal {
            enabled: true,
            ..Journal::default()
        };
        j.begin_unit();
        assert_eq!(j.end_unit(), 0);
        assert!(!j.has_published());
        assert!(j.idle());
    }
}
