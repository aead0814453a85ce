//! The harness shared by the differential tests (`tests/difftest*.rs`): each sends the same
//! seeded random command stream to the server under test ("ours") and to a real redis-server
//! ("redis") and compares the replies.
//!
//! What lives here is what those tests do the same way: reading `DIFFTEST_SEED`/`DIFFTEST_N`,
//! the server pair with a RESP2 and a RESP3 connection each, pipelining a batch, running a
//! SCAN-family command to completion, and the history of compared commands that a mismatch
//! report prints (seed, index, command, both replies, the commands before it). How replies are
//! compared stays in each test.
//!
//! Environment (besides `common`'s): `DIFFTEST_HISTORY` overrides how many preceding commands
//! a mismatch report shows.

use super::{encode_into, show_cmd, Raw, Reply, Server};
use std::collections::{BTreeMap, VecDeque};

/// `$name` parsed as a `T`, or `default` when unset; panics on a value that does not parse.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid number")),
        Err(_) => default,
    }
}

/// The command name of `args`, upper-cased ("" for an empty command).
pub fn name_of(args: &[Vec<u8>]) -> String {
    args.first()
        .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
        .unwrap_or_default()
}

/// Splits on single spaces; for commands without spaces or binary in their arguments.
pub fn words(s: &str) -> Vec<Vec<u8>> {
    s.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

impl Raw {
    /// Sends one command given as owned arguments and reads its reply.
    pub fn cmd_args(&mut self, args: &[Vec<u8>]) -> Reply {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        self.cmd(&refs)
    }

    /// Writes all of `cmds` at once, then reads one reply per command, in order.
    pub fn pipeline(&mut self, cmds: &[Vec<Vec<u8>>]) -> Vec<Reply> {
        let mut bytes = Vec::new();
        for args in cmds {
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            encode_into(&mut bytes, &refs);
        }
        self.send(&bytes);
        cmds.iter().map(|_| self.read_reply()).collect()
    }
}

/// One server of the pair, with a RESP2 connection and a RESP3 (`HELLO 3`) one.
pub struct Side {
    /// Kept so the server lives as long as the connections.
    pub server: Server,
    /// [RESP2, RESP3].
    conns: [Raw; 2],
}

impl Side {
    pub fn new(server: Server) -> Side {
        let resp2 = server.raw();
        let mut resp3 = server.raw();
        let hello = resp3.cmd_str(&["HELLO", "3"]);
        assert!(
            matches!(hello, Reply::Map(_)),
            "HELLO 3 on {} answered {hello:?}",
            server.bin
        );
        Side {
            server,
            conns: [resp2, resp3],
        }
    }

    pub fn conn(&mut self, resp3: bool) -> &mut Raw {
        &mut self.conns[usize::from(resp3)]
    }

    pub fn cmd(&mut self, resp3: bool, args: &[Vec<u8>]) -> Reply {
        self.conn(resp3).cmd_args(args)
    }

    pub fn pipeline(&mut self, resp3: bool, cmds: &[Vec<Vec<u8>>]) -> Vec<Reply> {
        self.conn(resp3).pipeline(cmds)
    }
}

/// The server under test ("ours") and redis-server, each with a RESP2 and a RESP3
/// connection, and the history of what was compared on them.
pub struct Pair {
    pub ours: Side,
    pub redis: Side,
    pub history: History,
}

impl Pair {
    /// Starts both servers; `test` and `seed` go into mismatch reports, which show the last
    /// `history_max` commands and the protocol of each.
    pub fn start(test: &'static str, seed: u64, history_max: usize) -> Pair {
        Pair {
            ours: Side::new(Server::start(&[])),
            redis: Side::new(Server::start_redis(&[])),
            history: History::new(test, seed, history_max, true),
        }
    }

    /// See `History::fail`.
    #[track_caller]
    pub fn fail(
        &self,
        what: &str,
        resp3: bool,
        args: &[Vec<u8>],
        ours: &Reply,
        redis: &Reply,
    ) -> ! {
        self.history.fail(what, resp3, args, ours, redis)
    }

    /// Sends `args` to both sides, fails (as `what`) unless the replies are equal, and returns
    /// Redis's. For side queries: nothing is pushed to the history.
    #[track_caller]
    pub fn both(&mut self, resp3: bool, args: &[Vec<u8>], what: &str) -> Reply {
        let o = self.ours.cmd(resp3, args);
        let r = self.redis.cmd(resp3, args);
        if o != r {
            self.fail(what, resp3, args, &o, &r);
        }
        r
    }

    /// Pipelines `batch` on one protocol to each side in turn (one after the other, so that
    /// neither can stall on a full socket buffer while the other is written), fails (as
    /// `what`) at the first pair of replies that differ, pushes each command to the history,
    /// and returns Redis's replies.
    #[track_caller]
    pub fn run_exact(&mut self, resp3: bool, batch: &[Vec<Vec<u8>>], what: &str) -> Vec<Reply> {
        let ours = self.ours.pipeline(resp3, batch);
        let redis = self.redis.pipeline(resp3, batch);
        for ((args, o), r) in batch.iter().zip(ours).zip(&redis) {
            if o != *r {
                self.fail(what, resp3, args, &o, r);
            }
            self.history.push(resp3, args, o, r.clone());
        }
        redis
    }
}

/// How a SCAN-family run to completion ended (see `scan_to_end`).
pub struct ScanEnd {
    /// The reply to the command as given, whatever it was.
    pub first: Reply,
    /// Ok when a page with cursor "0" was reached; otherwise the reply that ended the run:
    /// one that is not a page `[cursor, [items...]]`, or whose items `take` refused, or a
    /// harness error when `calls_max` pages did not reach the end.
    pub end: Result<(), Reply>,
}

/// Runs SCAN, HSCAN, SSCAN or ZSCAN to completion on one connection: sends `args` as given,
/// then again with each returned cursor at `args[cursor_at]` until the cursor is "0", at most
/// `calls_max` calls. `take` sees every page's items and returns false to stop on items it
/// cannot use.
pub fn scan_to_end(
    conn: &mut Raw,
    args: &[Vec<u8>],
    cursor_at: usize,
    calls_max: usize,
    mut take: impl FnMut(&[Reply]) -> bool,
) -> ScanEnd {
    let mut args = args.to_vec();
    let mut first = None;
    let end = 'scan: {
        for _ in 0..calls_max {
            let reply = conn.cmd_args(&args);
            first.get_or_insert_with(|| reply.clone());
            let Reply::Array(Some(parts)) = &reply else {
                break 'scan Err(reply);
            };
            let [Reply::Bulk(Some(cursor)), Reply::Array(Some(items))] = parts.as_slice() else {
                break 'scan Err(reply);
            };
            if !take(items) {
                break 'scan Err(reply);
            }
            if cursor == b"0" {
                break 'scan Ok(());
            }
            if cursor_at >= args.len() {
                break 'scan Err(reply);
            }
            args[cursor_at] = cursor.clone();
        }
        Err(Reply::Error(format!(
            "harness: {} did not finish within {calls_max} calls",
            name_of(&args)
        )))
    };
    ScanEnd {
        first: first.unwrap_or(Reply::Null),
        end,
    }
}

/// Per command name, what Redis answered (for coverage summaries).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub sent: u64,
    pub errors: u64,
    /// Nil bulk strings and RESP3 nulls.
    pub nils: u64,
}

struct Sent {
    index: usize,
    resp3: bool,
    args: Vec<Vec<u8>>,
    ours: Reply,
    redis: Reply,
}

/// The commands compared so far (the last few of them in full, for mismatch reports), and
/// per-name counts.
pub struct History {
    test: &'static str,
    seed: u64,
    /// Whether reports name the protocol of each command (tests that use only RESP2 do not).
    shows_proto: bool,
    max: usize,
    sent: VecDeque<Sent>,
    next_index: usize,
    /// Per upper-cased command name, every command `push`ed.
    pub stats: BTreeMap<String, Counts>,
}

impl History {
    /// `test` names the test binary in reports; `max` is how many preceding commands a report
    /// shows unless `DIFFTEST_HISTORY` says otherwise.
    pub fn new(test: &'static str, seed: u64, max: usize, shows_proto: bool) -> History {
        History {
            test,
            seed,
            shows_proto,
            max: env_or("DIFFTEST_HISTORY", max),
            sent: VecDeque::new(),
            next_index: 0,
            stats: BTreeMap::new(),
        }
    }

    /// How many commands were pushed: the index the next one gets.
    pub fn next_index(&self) -> usize {
        self.next_index
    }

    /// Records a compared command and both replies.
    pub fn push(&mut self, resp3: bool, args: &[Vec<u8>], ours: Reply, redis: Reply) {
        let counts = self.stats.entry(name_of(args)).or_default();
        counts.sent += 1;
        counts.errors += u64::from(redis.is_error());
        counts.nils += u64::from(matches!(redis, Reply::Bulk(None) | Reply::Null));
        while self.sent.len() >= self.max.max(1) {
            self.sent.pop_front();
        }
        self.sent.push_back(Sent {
            index: self.next_index,
            resp3,
            args: args.to_vec(),
            ours,
            redis,
        });
        self.next_index += 1;
    }

    fn proto(&self, resp3: bool) -> String {
        if self.shows_proto {
            format!(" RESP{}", if resp3 { 3 } else { 2 })
        } else {
            String::new()
        }
    }

    /// Panics with the mismatch report: what disagreed, the seed to rerun, the index the
    /// command would get, the command, both replies and the commands before it.
    #[track_caller]
    pub fn fail(
        &self,
        what: &str,
        resp3: bool,
        args: &[Vec<u8>],
        ours: &Reply,
        redis: &Reply,
    ) -> ! {
        let mut msg = format!(
            "{test} mismatch ({what})\n  seed:    {seed} (rerun: DIFFTEST_SEED={seed})\n  \
             index:   {index}\n",
            test = self.test,
            seed = self.seed,
            index = self.next_index,
        );
        if self.shows_proto {
            msg.push_str(&format!("  proto:  {}\n", self.proto(resp3)));
        }
        msg.push_str(&format!(
            "  command: {}\n  ours:    {ours:?}\n  redis:   {redis:?}\n",
            show_cmd(args)
        ));
        msg.push_str(&format!(
            "  preceding commands (index{}: command => ours | redis):\n",
            if self.shows_proto { " RESPn" } else { "" }
        ));
        for s in &self.sent {
            msg.push_str(&format!(
                "    {}{}: {} => {:?} | {:?}\n",
                s.index,
                self.proto(s.resp3),
                show_cmd(&s.args),
                s.ours,
                s.redis
            ));
        }
        panic!("{msg}");
    }
}
