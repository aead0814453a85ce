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
//! Also here: waiting for a server-side state (`Raw::wait_blocked`, `Raw::assert_silent`,
//! `Raw::info_int`), and the whole-dataset dump (`dump`) that tests compare after a run or a
//! restart.
//!
//! Environment (besides `common`'s): `DIFFTEST_HISTORY` overrides how many preceding commands
//! a mismatch report shows.

use super::{encode_into, show_cmd, Raw, Reply, Server};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// How long a wait for a server-side state change (a client blocking, a load ending) may take.
pub const SETTLE_MAX: Duration = Duration::from_secs(5);

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

    /// The `field` of `INFO <section>`; panics when it is missing.
    pub fn info_field(&mut self, section: &str, field: &str) -> String {
        let Reply::Bulk(Some(text)) = self.cmd_str(&["INFO", section]) else {
            panic!("INFO {section} is not a bulk string");
        };
        let text = String::from_utf8(text).expect("utf-8 INFO");
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .unwrap_or_else(|| panic!("INFO {section} has no {field}: {text}"))
            .trim()
            .to_string()
    }

    /// The integer `field` of `INFO <section>`; panics when it is missing or not an integer.
    pub fn info_int(&mut self, section: &str, field: &str) -> i64 {
        self.info_field(section, field)
            .parse()
            .unwrap_or_else(|_| panic!("INFO {section}: {field} is not an integer"))
    }

    /// Waits (at most `SETTLE_MAX`) until `INFO clients` reports `n` blocked clients.
    pub fn wait_blocked(&mut self, n: i64) {
        let deadline = Instant::now() + SETTLE_MAX;
        loop {
            let got = self.info_int("clients", "blocked_clients");
            if got == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "blocked_clients stayed {got}, wanted {n}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits (at most 10 s) while the server answers -LOADING, as redis-server does while it
    /// loads its files (it answers PING before it is done).
    pub fn wait_loaded(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.cmd_str(&["DBSIZE"]), Reply::Error(e) if e.starts_with("LOADING")) {
            assert!(Instant::now() < deadline, "still loading");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asserts that no reply arrives within `quiet`.
    pub fn assert_silent(&mut self, quiet: Duration) {
        self.set_read_timeout(quiet);
        if let Ok(r) = self.try_read_reply() {
            panic!("expected no reply, got {r:?}");
        }
        self.set_read_timeout(super::READ_TIMEOUT);
    }
}

/// A reply as text: bulk strings, status lines and integers as they read; anything else in
/// its debug form.
pub fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Status(s) => s.clone(),
        Reply::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// The items of an array (or RESP3 set) reply as text; panics on any other reply.
pub fn strings(r: Reply) -> Vec<String> {
    match r {
        Reply::Array(Some(items)) | Reply::Set(items) => items.iter().map(text).collect(),
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Every key of every database: (db, key) → (type, value, PEXPIRETIME). Values of sets and
/// hashes are sorted, so that two servers holding the same data dump the same.
pub type Dump = BTreeMap<(u32, String), (String, String, i64)>;

/// Dumps every database of the server on `port` (KEYS, TYPE and a read per type, on a
/// connection of its own); waits while the server answers -LOADING.
pub fn dump(port: u16) -> Dump {
    let mut c = Raw::connect(port);
    c.wait_loaded();
    let mut out = BTreeMap::new();
    for db in 0..16u32 {
        c.cmd_str(&["SELECT", &db.to_string()]);
        for k in strings(c.cmd_str(&["KEYS", "*"])) {
            let t = text(&c.cmd_str(&["TYPE", &k]));
            let v = match t.as_str() {
                "string" => text(&c.cmd_str(&["GET", &k])),
                "list" => strings(c.cmd_str(&["LRANGE", &k, "0", "-1"])).join(","),
                "set" => {
                    let mut m = strings(c.cmd_str(&["SMEMBERS", &k]));
                    m.sort();
                    m.join(",")
                }
                "hash" => {
                    let f = strings(c.cmd_str(&["HGETALL", &k]));
                    let mut pairs: Vec<String> =
                        f.chunks(2).map(|p| format!("{}={}", p[0], p[1])).collect();
                    pairs.sort();
                    pairs.join(",")
                }
                "zset" => strings(c.cmd_str(&["ZRANGE", &k, "0", "-1", "WITHSCORES"])).join(","),
                "stream" => format!("{:?}", c.cmd_str(&["XRANGE", &k, "-", "+"])),
                other => panic!("unexpected type {other}"),
            };
            let Reply::Int(at) = c.cmd_str(&["PEXPIRETIME", &k]) else {
                panic!("PEXPIRETIME");
            };
            out.insert((db, k), (t, v, at));
        }
    }
    out
}

/// Panics, listing every difference, unless the two dumps are equal.
#[track_caller]
pub fn assert_same(a: &Dump, b: &Dump, what: &str) {
    if a != b {
        for (k, v) in a {
            if b.get(k) != Some(v) {
                eprintln!("{k:?}: {v:?} vs {:?}", b.get(k));
            }
        }
        for k in b.keys() {
            if !a.contains_key(k) {
                eprintln!("{k:?} only in the second");
            }
        }
        panic!("{what}: datasets differ");
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
    /// With keyspace notifications on (`watch_events`): each server's event subscriber.
    taps: Option<(EventTap, EventTap)>,
}

impl Pair {
    /// Starts both servers; `test` and `seed` go into mismatch reports, which show the last
    /// `history_max` commands and the protocol of each.
    pub fn start(test: &'static str, seed: u64, history_max: usize) -> Pair {
        Pair {
            ours: Side::new(Server::start(&[])),
            redis: Side::new(Server::start_redis(&[])),
            history: History::new(test, seed, history_max, true),
            taps: None,
        }
    }

    /// Turns keyspace notifications of `classes` on in both servers; `check_events` then
    /// compares what they published.
    pub fn watch_events(&mut self, classes: &str) {
        self.taps = Some((
            EventTap::open(self.ours.server.port, classes),
            EventTap::open(self.redis.server.port, classes),
        ));
    }

    /// With `watch_events` on: drops what both published since the last check (commands a
    /// test sent to one side only, to bring ours back in step with Redis).
    pub fn skip_events(&mut self) {
        if let Some((o, r)) = &mut self.taps {
            o.take();
            r.take();
        }
    }

    /// With `watch_events` on: fails unless both servers published the same events since the
    /// last check. Does nothing otherwise.
    #[track_caller]
    pub fn check_events(&mut self) {
        if let Some((o, r)) = &mut self.taps {
            compare_events(&self.history, o, r);
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
    /// The client that sent it, in tests with several (see `History::push_client`).
    client: Option<usize>,
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
        self.push_client(None, resp3, args, ours, redis);
    }

    /// `push` for tests with several clients: reports name the client (`c<n>`) of each command.
    pub fn push_client(
        &mut self,
        client: Option<usize>,
        resp3: bool,
        args: &[Vec<u8>],
        ours: Reply,
        redis: Reply,
    ) {
        let counts = self.stats.entry(name_of(args)).or_default();
        counts.sent += 1;
        counts.errors += u64::from(redis.is_error());
        counts.nils += u64::from(matches!(redis, Reply::Bulk(None) | Reply::Null));
        while self.sent.len() >= self.max.max(1) {
            self.sent.pop_front();
        }
        self.sent.push_back(Sent {
            index: self.next_index,
            client,
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
        self.fail_client(None, what, resp3, args, ours, redis)
    }

    /// `fail` naming the client that sent the command (see `push_client`).
    #[track_caller]
    pub fn fail_client(
        &self,
        client: Option<usize>,
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
        if let Some(c) = client {
            msg.push_str(&format!("  client:  c{c}\n"));
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
                "    {}{}{}: {} => {:?} | {:?}\n",
                s.index,
                self.proto(s.resp3),
                s.client.map(|c| format!(" c{c}")).unwrap_or_default(),
                show_cmd(&s.args),
                s.ours,
                s.redis
            ));
        }
        panic!("{msg}");
    }
}

/// The keyspace events one server publishes, read by a subscriber of every keyspace and
/// keyevent channel: what the differential tests compare after each batch when they run with
/// notifications on.
pub struct EventTap {
    sub: Raw,
    ctl: Raw,
    marker: u64,
}

/// The channel that ends a batch's events: not a keyspace channel, so the pattern never
/// matches it.
const TAP_MARKER: &str = "difftest-event-marker";
/// Events read for one batch at most (a runaway stream fails instead of hanging).
const TAP_EVENTS_MAX: usize = 1_000_000;

impl EventTap {
    /// Sets `notify-keyspace-events` to `classes` on the server at `port` and subscribes to
    /// every keyspace and keyevent channel of every database.
    pub fn open(port: u16, classes: &str) -> EventTap {
        let mut ctl = Raw::connect(port);
        assert_eq!(
            ctl.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", classes]),
            Reply::ok()
        );
        let mut sub = Raw::connect(port);
        sub.cmd_str(&["PSUBSCRIBE", "__key*@*__:*"]);
        sub.cmd_str(&["SUBSCRIBE", TAP_MARKER]);
        EventTap {
            sub,
            ctl,
            marker: 0,
        }
    }

    /// The events published since the last call, in order, each as `[channel, message]`: it
    /// publishes a marker and reads until the marker arrives, so nothing published before
    /// the call is missed and no sleep is needed.
    pub fn take(&mut self) -> Vec<Reply> {
        self.marker += 1;
        let marker = self.marker.to_string();
        assert_eq!(
            self.ctl.cmd_str(&["PUBLISH", TAP_MARKER, &marker]),
            Reply::Int(1)
        );
        let mut events = Vec::new();
        while events.len() < TAP_EVENTS_MAX {
            match self.sub.read_reply() {
                Reply::Array(Some(mut f)) if f.len() == 4 && f[0] == Reply::bulk(b"pmessage") => {
                    let msg = f.pop().expect("message");
                    let chan = f.pop().expect("channel");
                    events.push(Reply::Array(Some(vec![chan, msg])));
                }
                Reply::Array(Some(f)) if f.len() == 3 && f[0] == Reply::bulk(b"message") => {
                    assert_eq!(f[2], Reply::bulk(marker.as_bytes()), "markers out of order");
                    return events;
                }
                other => panic!("event tap read {other:?}"),
            }
        }
        panic!("more than {TAP_EVENTS_MAX} events in one batch");
    }
}

/// Compares the events both taps saw since their last call; on a difference fails through
/// `history` (the commands before it are the batch that fired them).
#[track_caller]
pub fn compare_events(history: &History, ours: &mut EventTap, redis: &mut EventTap) {
    let o = ours.take();
    let r = redis.take();
    if o != r {
        let at = o
            .iter()
            .zip(&r)
            .position(|(a, b)| a != b)
            .unwrap_or(o.len().min(r.len()));
        let from = at.saturating_sub(3);
        let show = |v: &[Reply]| {
            Reply::Array(Some(
                v[from.min(v.len())..(from + 12).min(v.len())].to_vec(),
            ))
        };
        history.fail(
            &format!(
                "keyspace events differ from event {at} on (shown: {from} to {})",
                from + 11
            ),
            false,
            &[b"(events of the batch above)".to_vec()],
            &show(&o),
            &show(&r),
        );
    }
}

/// The notification classes the event-comparing streams turn on: every class there is.
pub const EVENTS_ALL: &str = "AKEmn";

/// The two random-stream tests of a difftest file, around its `stream(seed, n, events)`:
/// `random_stream` (`DIFFTEST_SEED`, `DIFFTEST_N`) compares replies; `random_stream_events`
/// runs a quarter as many commands (`DIFFTEST_EVENTS_N`) with every keyspace notification
/// class on and also compares the events each batch fired, in order.
#[macro_export]
macro_rules! random_stream_tests {
    ($stream:ident, $seed:expr, $n:expr) => {
        #[test]
        fn random_stream() {
            use $crate::common::diff::env_or;
            $stream(
                env_or("DIFFTEST_SEED", $seed),
                env_or("DIFFTEST_N", $n),
                None,
            );
        }

        #[test]
        fn random_stream_events() {
            use $crate::common::diff::{env_or, EVENTS_ALL};
            let n = env_or("DIFFTEST_EVENTS_N", $n / 4);
            $stream(env_or("DIFFTEST_SEED", $seed), n, Some(EVENTS_ALL));
        }
    };
}
