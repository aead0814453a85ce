//! Differential tests of transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH, RESET) with
//! several clients per server: every step goes to the server under test ("ours") and to
//! redis-server 7.0 ("redis") on the matching client's connection, one step at a time so
//! that both servers see the clients interleaved the same way, and the replies are compared
//! exactly. Each hand-written scenario runs twice: with every client on RESP2, and with every
//! client switched to RESP3 (`HELLO 3`) first.
//!
//! Usage:
//!   cargo test --test difftest_multi
//!   DIFFTEST_SEED=7 DIFFTEST_N=100000 cargo test --release --test difftest_multi random_stream
//!   RINGKV_BIN=$(command -v redis-server) cargo test --test difftest_multi   validates the tests
//!
//! Besides the comparison, a scenario asserts the outcome its name promises (this EXEC
//! aborts, that client stays blocked) on Redis's reply: those outcomes were checked against
//! redis-server 7.0.15, and asserting them keeps a scenario from silently testing nothing.
//!
//! Where replies cannot be equal byte for byte: HELLO's reply (server name, version, client
//! id) is compared by its field names, INFO commandstats by the calls, rejected_calls and
//! failed_calls of the commands the scenario used, and nothing else reads the clock.
//!
//! `random_stream` interleaves transactions, WATCH, UNWATCH, SELECT, RESET and plain commands
//! of `CLIENTS` clients over a small shared keyspace of every type, compares every reply, and
//! the whole datasets every `STATE_CHECK_EVERY` steps and at the end. Expire times in it are
//! absolute (EXPIREAT, EXAT) so that they are the same on both servers.

mod common;

use common::diff::{assert_same, dump, env_or, name_of, History};
use common::{Raw, Reply, Server};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seed of `random_stream` when `DIFFTEST_SEED` is not set.
const DEFAULT_SEED: u64 = 0x6d75_6c74_6978;
/// Steps of `random_stream` when `DIFFTEST_N` is not set.
const DEFAULT_N: usize = 10_000;
/// Clients of `random_stream`.
const CLIENTS: usize = 3;
/// Full-dataset comparison period of `random_stream`, in steps.
const STATE_CHECK_EVERY: usize = 2_000;
/// Commands shown before a mismatch.
const HISTORY_MAX: usize = 30;
/// How long a client must stay without a reply to count as still blocked.
const QUIET: Duration = Duration::from_millis(200);

/// Arguments of a command line split on spaces; `''` stands for an empty argument.
fn args(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .map(|w| {
            if w == "''" {
                Vec::new()
            } else {
                w.as_bytes().to_vec()
            }
        })
        .collect()
}

fn bulk(s: &str) -> Reply {
    Reply::bulk(s.as_bytes())
}

fn status(s: &str) -> Reply {
    Reply::Status(s.into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

fn array(items: Vec<Reply>) -> Reply {
    Reply::Array(Some(items))
}

/// What a reply looks like once the parts that differ between two servers by design are
/// left out: HELLO's map (server name, version, client id) is reduced to its field names.
fn comparable(args: &[Vec<u8>], r: &Reply) -> Reply {
    if name_of(args) != "HELLO" {
        return r.clone();
    }
    hello_fields(r)
}

/// A HELLO reply reduced to its field names (RESP3 map or RESP2 flat array).
fn hello_fields(r: &Reply) -> Reply {
    match r {
        Reply::Map(kv) => Reply::Map(kv.iter().map(|(k, _)| (k.clone(), Reply::Null)).collect()),
        Reply::Array(Some(items)) => array(items.iter().step_by(2).cloned().collect()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// The two servers and their clients.
// ---------------------------------------------------------------------------------------------

/// One ringkv and one redis-server, and clients that each hold one connection to both.
struct Twins {
    ours: Server,
    redis: Server,
    /// Per client: [ours, redis].
    conns: Vec<[Raw; 2]>,
    /// Per client, whether it speaks RESP3 now (followed through HELLO and RESET).
    resp3: Vec<bool>,
    /// Per client, a command sent without reading its reply yet (a blocking command).
    pending: Vec<Option<Vec<Vec<u8>>>>,
    /// Per side, a connection for INFO polls that no scenario step uses.
    ctl: [Raw; 2],
    history: History,
}

impl Twins {
    /// Starts both servers with `server_args` and `clients` clients, each switched to RESP3
    /// when `resp3`.
    fn start(
        test: &'static str,
        seed: u64,
        clients: usize,
        resp3: bool,
        server_args: &[&str],
    ) -> Twins {
        let ours = Server::start(server_args);
        let redis = Server::start_redis(server_args);
        let ctl = [ours.raw(), redis.raw()];
        let mut t = Twins {
            ours,
            redis,
            conns: Vec::new(),
            resp3: Vec::new(),
            pending: Vec::new(),
            ctl,
            history: History::new(test, seed, HISTORY_MAX, true),
        };
        for _ in 0..clients {
            t.conns.push([t.ours.raw(), t.redis.raw()]);
            t.resp3.push(false);
            t.pending.push(None);
        }
        if resp3 {
            for c in 0..clients {
                t.run(c, "HELLO 3");
            }
        }
        t
    }

    /// Replaces client `c`'s connections with new RESP2 ones (after the server closed them).
    fn reconnect(&mut self, c: usize) {
        self.conns[c] = [self.ours.raw(), self.redis.raw()];
        self.resp3[c] = false;
        self.pending[c] = None;
    }

    #[track_caller]
    fn fail(&self, c: usize, what: &str, args: &[Vec<u8>], ours: &Reply, redis: &Reply) -> ! {
        self.history
            .fail_client(Some(c), what, self.resp3[c], args, ours, redis)
    }

    /// Compares the replies of both servers to `args` from client `c`, records them, follows
    /// protocol switches, and returns Redis's reply.
    #[track_caller]
    fn compare(&mut self, c: usize, args: &[Vec<u8>], o: Reply, r: Reply) -> Reply {
        if comparable(args, &o) != comparable(args, &r) {
            self.fail(c, "replies differ", args, &o, &r);
        }
        self.history
            .push_client(Some(c), self.resp3[c], args, o, r.clone());
        match (name_of(args).as_str(), &r) {
            ("HELLO", Reply::Map(_)) => self.resp3[c] = true,
            ("HELLO", Reply::Array(Some(_))) => self.resp3[c] = false,
            ("RESET", Reply::Status(_)) => self.resp3[c] = false,
            _ => {}
        }
        r
    }

    /// Sends `args` from client `c` to ours, then to redis, and compares the replies.
    #[track_caller]
    fn run_args(&mut self, c: usize, args: &[Vec<u8>]) -> Reply {
        assert!(self.pending[c].is_none(), "c{c} has a reply pending");
        let o = self.conns[c][0].cmd_args(args);
        let r = self.conns[c][1].cmd_args(args);
        self.compare(c, args, o, r)
    }

    #[track_caller]
    fn run(&mut self, c: usize, line: &str) -> Reply {
        self.run_args(c, &args(line))
    }

    /// Runs each line from client `c`.
    #[track_caller]
    fn script(&mut self, c: usize, lines: &[&str]) {
        for line in lines {
            self.run(c, line);
        }
    }

    /// Runs `line` and asserts Redis's reply (see the header).
    #[track_caller]
    fn expect(&mut self, c: usize, line: &str, want: Reply) {
        let r = self.run(c, line);
        if r != want {
            panic!(
                "scenario expectation: c{c} `{line}` answered {r:?} on both servers, the \
                 scenario expects {want:?} (as redis-server 7.0.15 answered when it was written)"
            );
        }
    }

    /// Runs `line` and asserts that Redis answered a nil (in client `c`'s protocol).
    #[track_caller]
    fn expect_nil(&mut self, c: usize, line: &str) {
        let nil = if self.resp3[c] {
            Reply::Null
        } else {
            Reply::Bulk(None)
        };
        self.expect(c, line, nil);
    }

    /// Queues `line` inside a transaction: +QUEUED.
    #[track_caller]
    fn queue(&mut self, c: usize, line: &str) {
        self.expect(c, line, status("QUEUED"));
    }

    /// The reply of an EXEC that a touched WATCH aborted, in client `c`'s protocol.
    fn aborted(&self, c: usize) -> Reply {
        if self.resp3[c] {
            Reply::Null
        } else {
            Reply::Array(None)
        }
    }

    /// MULTI, PING, EXEC from client `c`; asserts whether a WATCH aborted it.
    #[track_caller]
    fn exec_ping(&mut self, c: usize, aborts: bool) {
        self.expect(c, "MULTI", Reply::ok());
        self.queue(c, "PING");
        let want = if aborts {
            self.aborted(c)
        } else {
            array(vec![status("PONG")])
        };
        self.expect(c, "EXEC", want);
    }

    /// Pipelines `cmds` from client `c` to ours, then to redis, and compares the replies.
    #[track_caller]
    fn pipeline(&mut self, c: usize, cmds: &[Vec<Vec<u8>>]) -> Vec<Reply> {
        assert!(self.pending[c].is_none(), "c{c} has a reply pending");
        let o = self.conns[c][0].pipeline(cmds);
        let r = self.conns[c][1].pipeline(cmds);
        cmds.iter()
            .zip(o)
            .zip(r)
            .map(|((a, o), r)| self.compare(c, a, o, r))
            .collect()
    }

    /// Sends `line` from client `c` to both servers without reading the replies.
    fn send(&mut self, c: usize, line: &str) {
        assert!(self.pending[c].is_none(), "c{c} has a reply pending");
        let a = args(line);
        let refs: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
        for conn in &mut self.conns[c] {
            conn.send(&common::encode(&refs));
        }
        self.pending[c] = Some(a);
    }

    /// Reads the reply to client `c`'s pending command on both and compares them.
    #[track_caller]
    fn read(&mut self, c: usize) -> Reply {
        let a = self.pending[c].take().expect("a pending command");
        let o = self.conns[c][0].read_reply();
        let r = self.conns[c][1].read_reply();
        self.compare(c, &a, o, r)
    }

    /// Asserts that client `c` gets no reply on either server for `QUIET`.
    fn assert_silent(&mut self, c: usize) {
        for conn in &mut self.conns[c] {
            conn.assert_silent(QUIET);
        }
    }

    /// Waits until both servers report `n` blocked clients.
    fn wait_blocked(&mut self, n: i64) {
        for conn in &mut self.ctl {
            conn.wait_blocked(n);
        }
    }

    /// Both servers' replies to `line` on the INFO connections, not compared.
    fn side(&mut self, line: &str) -> [Reply; 2] {
        let a = args(line);
        [self.ctl[0].cmd_args(&a), self.ctl[1].cmd_args(&a)]
    }
}

/// Runs `scenario` on a fresh pair of servers with `clients` clients over RESP2, then again
/// over RESP3.
fn both_protocols(test: &'static str, clients: usize, scenario: impl Fn(&mut Twins)) {
    for resp3 in [false, true] {
        let mut t = Twins::start(test, 0, clients, resp3, &[]);
        scenario(&mut t);
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written scenarios.
// ---------------------------------------------------------------------------------------------

#[test]
fn exec_returns_every_reply_type() {
    both_protocols("exec_returns_every_reply_type", 1, |t| {
        t.expect(0, "FLUSHALL", Reply::ok());
        t.expect(0, "MULTI", Reply::ok());
        let queued = [
            "SET s hello",
            "GET s",
            "GET missing",
            "INCR n",
            "INCRBYFLOAT f 1.5",
            "APPEND s !",
            "STRLEN s",
            "RPUSH l a b c",
            "LRANGE l 0 -1",
            "LPOP missing",
            "LPOP l 2",
            "SADD t x y",
            "SISMEMBER t x",
            "SMISMEMBER t x z",
            "SCARD t",
            "HSET h f v",
            "HGET h f",
            "HMGET h f g",
            "HGETALL h",
            "ZADD z 1.5 a 2 b",
            "ZSCORE z a",
            "ZSCORE z nobody",
            "ZRANGE z 0 -1 WITHSCORES",
            "ZRANK z nobody",
            "ZINCRBY z 1 a",
            "ZPOPMIN z",
            "ZMPOP 1 z MAX",
            "TYPE s",
            "EXISTS s l nope",
            "EXPIRE s 100",
            "TTL s",
            "PERSIST s",
            "PING",
            "PING msg",
            "ECHO e",
            "OBJECT ENCODING l",
            "DBSIZE",
            "LPOS l c",
            "COPY l l2",
            "GETDEL s",
            "DEL n f",
        ];
        for line in queued {
            t.queue(0, line);
        }
        let Reply::Array(Some(items)) = t.run(0, "EXEC") else {
            panic!("EXEC did not answer an array");
        };
        assert_eq!(items.len(), queued.len());
        // An empty transaction answers an empty array.
        t.expect(0, "MULTI", Reply::ok());
        t.expect(0, "EXEC", array(vec![]));
        // Command names in any case.
        t.expect(0, "multi", Reply::ok());
        t.queue(0, "set k v");
        t.expect(0, "eXeC", array(vec![Reply::ok()]));
    });
}

#[test]
fn discard_nesting_and_misuse() {
    both_protocols("discard_nesting_and_misuse", 1, |t| {
        t.run(0, "FLUSHALL");
        t.expect(0, "EXEC", err("ERR EXEC without MULTI"));
        t.expect(0, "DISCARD", err("ERR DISCARD without MULTI"));
        t.expect(0, "MULTI", Reply::ok());
        t.queue(0, "SET a 1");
        t.queue(0, "SET b 2");
        t.expect(0, "DISCARD", Reply::ok());
        t.expect_nil(0, "GET a");
        t.expect(0, "EXEC", err("ERR EXEC without MULTI"));
        // A nested MULTI and a WATCH inside MULTI are errors that do not abort the
        // transaction.
        t.expect(0, "MULTI", Reply::ok());
        t.expect(0, "MULTI", err("ERR MULTI calls can not be nested"));
        t.queue(0, "SET a 1");
        t.expect(0, "WATCH x", err("ERR WATCH inside MULTI is not allowed"));
        t.queue(0, "UNWATCH");
        t.expect(0, "EXEC", array(vec![Reply::ok(), Reply::ok()]));
        t.expect(0, "GET a", bulk("1"));
        // Wrong arity of the transaction commands themselves, outside a transaction.
        t.script(
            0,
            &["MULTI x", "WATCH", "UNWATCH x", "DISCARD x", "RESET x"],
        );
        t.expect(
            0,
            "EXEC x",
            err("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"),
        );
        // EXEC with the wrong arity inside a transaction discards it.
        t.expect(0, "MULTI", Reply::ok());
        t.queue(0, "SET b 1");
        t.run(0, "EXEC x");
        t.expect(0, "EXEC", err("ERR EXEC without MULTI"));
        t.expect_nil(0, "GET b");
        // Inside a transaction, the other ones' arity errors make EXEC fail.
        for bad in ["MULTI x", "DISCARD x", "WATCH", "UNWATCH x"] {
            t.expect(0, "MULTI", Reply::ok());
            t.queue(0, "SET b 1");
            t.run(0, bad);
            t.expect(
                0,
                "EXEC",
                err("EXECABORT Transaction discarded because of previous errors."),
            );
        }
        t.expect_nil(0, "GET b");
        t.expect(0, "MULTI", Reply::ok());
        t.expect(0, "DISCARD", Reply::ok());
        t.expect(0, "DISCARD", err("ERR DISCARD without MULTI"));
    });
}

#[test]
fn errors_at_queue_time_abort_the_transaction() {
    both_protocols("errors_at_queue_time_abort_the_transaction", 2, |t| {
        t.run(0, "FLUSHALL");
        let abort = err("EXECABORT Transaction discarded because of previous errors.");
        for bad in [
            "NOSUCH x y",
            "SET a",
            "GET",
            "CONFIG NOSUCH",
            "OBJECT NOSUCH k",
            "CLIENT NOSUCH",
            "OBJECT",
        ] {
            t.expect(0, "MULTI", Reply::ok());
            t.queue(0, "SET a 1");
            let r = t.run(0, bad);
            assert!(r.is_error(), "{bad}: {r:?}");
            t.queue(0, "SET b 1");
            t.expect(0, "EXEC", abort.clone());
            t.expect(0, "EXISTS a b", Reply::Int(0));
            t.expect(0, "EXEC", err("ERR EXEC without MULTI"));
        }
        // EXECABORT wins over a touched WATCH, and unwatches like any EXEC.
        t.run(0, "WATCH a");
        t.run(1, "SET a 2");
        t.expect(0, "MULTI", Reply::ok());
        t.run(0, "NOSUCH");
        t.expect(0, "EXEC", abort.clone());
        t.run(0, "WATCH a");
        t.expect(0, "MULTI", Reply::ok());
        t.run(0, "SET");
        t.expect(0, "EXEC", abort);
        t.run(1, "SET a 3");
        t.exec_ping(0, false);
    });
}

#[test]
fn errors_inside_exec_do_not_stop_the_rest() {
    both_protocols("errors_inside_exec_do_not_stop_the_rest", 1, |t| {
        t.run(0, "FLUSHALL");
        t.expect(0, "MULTI", Reply::ok());
        for line in [
            "SET s str",
            "LPUSH s x",
            "INCR s",
            "INCR n",
            "HSET s f v",
            "GET s",
            "ZADD z nan m",
            "ZADD z 1 m",
            "SELECT 99",
            "SELECT abc",
            "SET after 1",
            "EXPIRE s abc",
            "LSET nolist 0 x",
            "RENAME nokey other",
            "BLPOP l -1",
            "BLPOP l abc",
            "BLMPOP 0 0 l LEFT",
            "INCR n",
        ] {
            t.queue(0, line);
        }
        let Reply::Array(Some(items)) = t.run(0, "EXEC") else {
            panic!("EXEC did not answer an array");
        };
        assert!(items.iter().filter(|r| r.is_error()).count() >= 10);
        assert_eq!(items.last(), Some(&Reply::Int(2)));
        t.expect(0, "GET after", bulk("1"));
    });
}

#[test]
fn watch_across_clients() {
    both_protocols("watch_across_clients", 2, |t| {
        t.run(0, "FLUSHALL");
        // Another client's write aborts, and nothing queued runs.
        t.run(0, "SET k 0");
        t.expect(0, "WATCH k", Reply::ok());
        t.run(1, "SET k 1");
        t.expect(0, "MULTI", Reply::ok());
        t.queue(0, "SET q 1");
        let aborted = t.aborted(0);
        t.expect(0, "EXEC", aborted);
        t.expect_nil(0, "GET q");
        // Writing the same value still counts as a write.
        t.run(0, "WATCH k");
        t.run(1, "SET k 1");
        t.exec_ping(0, true);
        // Writes that changed nothing do not abort.
        t.run(0, "SADD s a");
        t.run(0, "WATCH s missing");
        t.expect(1, "SADD s a", Reply::Int(0));
        t.expect(1, "DEL missing", Reply::Int(0));
        t.exec_ping(0, false);
        // The watching client's own write aborts.
        t.run(0, "WATCH k");
        t.run(0, "SET k 2");
        t.exec_ping(0, true);
        // A write after MULTI, before EXEC, aborts.
        t.run(0, "WATCH k");
        t.expect(0, "MULTI", Reply::ok());
        t.queue(0, "PING");
        t.run(1, "SET k 3");
        let aborted = t.aborted(0);
        t.expect(0, "EXEC", aborted);
        // Another client's transaction writing the key aborts.
        t.run(0, "WATCH k");
        t.script(1, &["MULTI", "INCR k", "EXEC"]);
        t.exec_ping(0, true);
        // The transaction's own writes to its watched key run.
        t.run(0, "WATCH k");
        t.expect(0, "MULTI", Reply::ok());
        t.queue(0, "SET k mine");
        t.expect(0, "EXEC", array(vec![Reply::ok()]));
        // Creating a watched key that did not exist, deleting one, renaming onto one.
        t.run(0, "WATCH new");
        t.run(1, "SET new 1");
        t.exec_ping(0, true);
        t.run(0, "WATCH new");
        t.run(1, "DEL new");
        t.exec_ping(0, true);
        t.run(1, "SET src 1");
        t.run(0, "WATCH dst");
        t.run(1, "RENAME src dst");
        t.exec_ping(0, true);
        // Several keys, one touched; the same key watched twice.
        t.run(0, "WATCH a b c");
        t.run(1, "LPUSH b x");
        t.exec_ping(0, true);
        t.run(0, "WATCH k");
        t.run(0, "WATCH k");
        t.run(1, "SET k again");
        t.exec_ping(0, true);
        // UNWATCH forgets; EXEC and DISCARD unwatch.
        t.run(0, "WATCH k");
        t.run(1, "SET k 4");
        t.expect(0, "UNWATCH", Reply::ok());
        t.exec_ping(0, false);
        t.run(0, "WATCH k");
        t.exec_ping(0, false);
        t.run(1, "SET k 5");
        t.exec_ping(0, false);
        t.run(0, "WATCH k");
        t.script(0, &["MULTI", "PING", "DISCARD"]);
        t.run(1, "SET k 6");
        t.exec_ping(0, false);
        // A WATCH is on the key of the database it was sent in.
        t.script(0, &["SELECT 2", "WATCH k", "SELECT 0"]);
        t.run(1, "SET k 7");
        t.exec_ping(0, false);
        t.script(0, &["SELECT 2", "WATCH k", "SELECT 0"]);
        t.script(1, &["SELECT 2", "SET k 7", "SELECT 0"]);
        t.exec_ping(0, true);
        // Reads do not abort.
        t.run(0, "WATCH k");
        t.script(
            1,
            &[
                "GET k",
                "EXISTS k",
                "TYPE k",
                "TOUCH k",
                "OBJECT ENCODING k",
            ],
        );
        t.exec_ping(0, false);
    });
}

/// For each (setup by the watching client, command of another client, whether the EXEC
/// aborts) as redis-server 7.0.15 decides it: writes that change nothing do not abort, but
/// several commands signal a change whatever they did (SET to the same value, HSET of the
/// same value, LTRIM keeping everything, INCRBY 0, APPEND of nothing, LSET of the same
/// value, a *STORE that deleted its destination, ...). `SLEEP` waits 50 ms, so that the key
/// set with PX 20 is already expired when it is watched.
const TOUCHES: &[(&str, &str, bool)] = &[
    ("SADD s a", "SADD s a", false),
    ("SADD s a", "SADD s b", true),
    ("", "DEL s", false),
    ("SADD s a", "SREM s zz", false),
    ("SADD s a b", "SREM s a b", true),
    ("HSET s f v", "HDEL s zz", false),
    ("HSET s f v", "HSET s f v", true),
    ("HSET s f v", "HSETNX s f w", false),
    ("HSET s f 1", "HINCRBY s f 0", true),
    ("HSET s a 1", "HINCRBYFLOAT s a 0", true),
    ("ZADD s 1 m", "ZADD s 1 m", false),
    ("ZADD s 1 m", "ZADD s XX 2 n", false),
    ("ZADD s 1 m", "ZADD s GT 0 m", false),
    ("ZADD s 1 m", "ZADD s INCR 0 m", false),
    ("ZADD s 1 m", "ZINCRBY s 0 m", false),
    ("ZADD s 1 m", "ZREM s zz", false),
    ("ZADD s 1 m", "ZREMRANGEBYSCORE s 5 6", false),
    ("ZADD s 1 m", "ZPOPMIN s 0", false),
    ("", "ZPOPMIN s", false),
    ("", "ZMPOP 1 s MIN", false),
    ("", "ZRANGESTORE s nx 0 -1", false),
    ("ZADD s 1 m", "ZRANGESTORE s nx 0 -1", true),
    ("", "LPOP s", false),
    ("", "LPUSHX s a", false),
    ("", "LMPOP 1 s LEFT", false),
    ("", "RPOPLPUSH s d", false),
    ("RPUSH s a", "LREM s 0 zz", false),
    ("RPUSH s a b", "LTRIM s 0 -1", true),
    ("RPUSH s a", "LSET s 0 a", true),
    ("RPUSH s a", "LINSERT s BEFORE zz x", false),
    ("RPUSH s a b", "LMOVE s s LEFT RIGHT", true),
    ("RPUSH s a", "LMOVE s s LEFT LEFT", true),
    ("RPUSH s a", "RPOP s 0", false),
    ("RPUSH s a", "LPOS s a", false),
    ("RPUSH s a", "BLPOP s 0", true),
    ("", "BLPOP s 0.01", false),
    ("", "EXPIRE s 100", false),
    ("SET s v", "PERSIST s", false),
    ("SET s v EX 100", "PERSIST s", true),
    ("SET s v", "EXPIRE s 100", true),
    ("SET s v", "EXPIRE s 100 GT", false),
    ("SET s v EX 100", "EXPIRE s 200 NX", false),
    ("SET s v", "EXPIRE s -1", true),
    ("", "PEXPIREAT s 1", false),
    ("SET s 1", "INCRBY s 0", true),
    ("SET s 1", "DECRBY s 0", true),
    ("SET s 1", "INCRBYFLOAT s 0", true),
    ("SET s 5", "INCR s", true),
    ("SET s v", "APPEND s ''", true),
    ("SET s v", "SETRANGE s 0 ''", false),
    ("SET s v", "SETRANGE s 0 v", true),
    ("SET s v", "SET s w NX", false),
    ("SET s v", "SET s v NX GET", false),
    ("", "SET s v XX", false),
    ("SET s v", "SET s v KEEPTTL", true),
    ("SET s v", "SET s v GET", true),
    ("SET s v", "SETNX s w", false),
    ("SET s v", "GETSET s v", true),
    ("SET s v", "MSETNX s w t w", false),
    ("SET s v", "MSET s v", true),
    ("", "MSET s v", true),
    ("SET s v", "GET s", false),
    ("SET s v", "GETEX s", false),
    ("SET s v", "GETEX s PERSIST", false),
    ("", "GETDEL s", false),
    ("SET s v", "TOUCH s", false),
    ("SET s v", "UNLINK s", true),
    ("SET s v", "DEL s s", true),
    ("SET s v", "RENAME s s", false),
    ("SET s v|SET x v", "RENAMENX s x", false),
    ("SET x v", "RENAME x s", true),
    ("SET s v|SELECT 1|SET s v|SELECT 0", "MOVE s 1", false),
    ("SET s v", "MOVE s 1", true),
    ("SET s v|SET x v", "COPY x s", false),
    ("SET s v", "COPY s s2", false),
    ("SADD s a", "SMOVE s s2 zz", false),
    ("SET s v", "SINTERSTORE s nx1 nx2", true),
    ("", "SINTERSTORE s nx1 nx2", false),
    ("SADD s a|SADD x a", "SUNIONSTORE s x", true),
    ("", "SPOP s", false),
    ("SADD s a b", "SPOP s 0", false),
    ("SET s v", "SWAPDB 0 0", false),
    ("SET s v", "SWAPDB 1 2", false),
    ("SET s v", "SELECT 1|FLUSHDB|SELECT 0", false),
    ("", "FLUSHALL", false),
    ("SET s v", "FLUSHALL", true),
    ("SET s v", "FLUSHDB ASYNC", true),
    ("SADD s a", "SADD s", false),
    ("SET s v", "SET s", false),
    ("SET s v PX 20|SLEEP", "GET s", false),
    ("SET s v PX 20|SLEEP", "EXISTS s", false),
    ("SET s v PX 20|SLEEP", "DEL s", false),
    ("SET s v PX 20|SLEEP", "FLUSHDB", false),
    ("SET s v PX 20|SLEEP", "SET s w", true),
];

/// Runs `|`-separated lines from client `c` (`SLEEP` waits 50 ms).
fn run_steps(t: &mut Twins, c: usize, steps: &str) {
    for line in steps.split('|').filter(|l| !l.is_empty()) {
        if line == "SLEEP" {
            std::thread::sleep(Duration::from_millis(50));
        } else {
            t.run(c, line);
        }
    }
}

#[test]
fn which_writes_abort_a_watch() {
    both_protocols("which_writes_abort_a_watch", 2, |t| {
        for &(setup, other, aborts) in TOUCHES {
            t.run(0, "FLUSHALL");
            run_steps(t, 0, setup);
            t.expect(0, "WATCH s", Reply::ok());
            run_steps(t, 1, other);
            let r = {
                t.expect(0, "MULTI", Reply::ok());
                t.queue(0, "PING");
                t.run(0, "EXEC")
            };
            let did_abort = r == t.aborted(0);
            assert_eq!(
                did_abort,
                aborts,
                "scenario expectation: after [{setup}] WATCH s, another client's `{other}` \
                 should {}abort the EXEC (redis-server 7.0.15); both answered {r:?}",
                if aborts { "" } else { "not " }
            );
        }
    });
}

#[test]
fn watch_and_expiry() {
    both_protocols("watch_and_expiry", 2, |t| {
        t.run(0, "FLUSHALL");
        // A watched key that expires before EXEC aborts it, whether or not anyone read it.
        for read_it in [false, true] {
            let mut attempt = 0;
            loop {
                let key = format!("e{attempt}{read_it}");
                let set_at = Instant::now();
                t.run(0, &format!("SET {key} v"));
                t.run(0, &format!("PEXPIRE {key} 300"));
                t.run(0, &format!("WATCH {key}"));
                // Both servers must have watched the key well before it expired, or the
                // scenario is not the one intended: then it is retried with a new key.
                if set_at.elapsed() > Duration::from_millis(200) {
                    t.run(0, "UNWATCH");
                    attempt += 1;
                    assert!(attempt < 5, "the machine is too slow for a 300 ms TTL");
                    continue;
                }
                std::thread::sleep(Duration::from_millis(500));
                if read_it {
                    t.expect_nil(1, &format!("GET {key}"));
                }
                t.exec_ping(0, true);
                break;
            }
        }
        // A key already expired when watched: its deletion (by a read, by FLUSHDB) changes
        // nothing, but writing it does.
        for (other, aborts) in [
            ("", false),
            ("GET x", false),
            ("EXISTS x", false),
            ("FLUSHDB", false),
            ("SET x new", true),
            ("LPUSH x a", true),
        ] {
            t.run(0, "SET x v PX 20");
            std::thread::sleep(Duration::from_millis(50));
            t.run(0, "WATCH x");
            run_steps(t, 1, other);
            t.exec_ping(0, aborts);
            t.run(0, "DEL x");
        }
        // A watched key with a TTL that does not run out.
        t.run(0, "SET y v EX 1000");
        t.run(0, "WATCH y");
        t.exec_ping(0, false);
    });
}

#[test]
fn watch_and_flushdb_flushall_swapdb() {
    both_protocols("watch_and_flushdb_flushall_swapdb", 2, |t| {
        t.run(0, "FLUSHALL");
        // (setup by the watcher, command of the other client, whether the EXEC aborts)
        let cases: &[(&str, &str, bool)] = &[
            ("SET f v", "FLUSHDB", true),
            ("", "FLUSHDB", false),
            ("SET f v", "SELECT 3|FLUSHDB|SELECT 0", false),
            ("SET f v", "FLUSHALL", true),
            ("", "FLUSHALL", false),
            ("SET f v", "SELECT 1|SET f other|SELECT 0|FLUSHALL", true),
            ("SET f v", "SWAPDB 0 1", true),
            ("", "SWAPDB 0 1", false),
            ("", "SELECT 1|SET f v|SELECT 0|SWAPDB 0 1", true),
            ("", "SELECT 1|SET f v|SELECT 0|SWAPDB 1 0", true),
            ("SET f v", "SWAPDB 1 2", false),
            ("SET f v|SELECT 1|SET f v|SELECT 0", "SWAPDB 0 1", true),
        ];
        for &(setup, other, aborts) in cases {
            t.run(0, "FLUSHALL");
            run_steps(t, 0, setup);
            t.run(0, "WATCH f");
            run_steps(t, 1, other);
            t.exec_ping(0, aborts);
        }
        // A key watched in database 1.
        t.run(0, "FLUSHALL");
        t.script(0, &["SELECT 1", "SET f v", "WATCH f"]);
        t.run(1, "FLUSHDB");
        t.exec_ping(0, false);
        t.run(0, "WATCH f");
        t.script(1, &["SELECT 1", "FLUSHDB", "SELECT 0"]);
        t.exec_ping(0, true);
        t.run(0, "SELECT 0");
    });
}

#[test]
fn select_inside_multi() {
    both_protocols("select_inside_multi", 1, |t| {
        t.run(0, "FLUSHALL");
        t.expect(0, "MULTI", Reply::ok());
        for line in ["SET a db0", "SELECT 5", "SET a db5", "GET a", "SELECT 6"] {
            t.queue(0, line);
        }
        t.run(0, "EXEC");
        // The database the transaction selected last stays selected.
        t.expect_nil(0, "GET a");
        t.expect(0, "SELECT 5", Reply::ok());
        t.expect(0, "GET a", bulk("db5"));
        t.expect(0, "SELECT 0", Reply::ok());
        t.expect(0, "GET a", bulk("db0"));
        // A failed SELECT inside leaves the database as it was; a discarded one never ran.
        t.script(0, &["MULTI", "SELECT 99", "SELECT x", "GET a", "EXEC"]);
        t.script(0, &["MULTI", "SELECT 5", "DISCARD"]);
        t.expect(0, "GET a", bulk("db0"));
        // A WATCH stays on the database it was sent in.
        t.script(
            0,
            &[
                "SELECT 5", "WATCH a", "MULTI", "SELECT 0", "SET a x", "SELECT 5",
            ],
        );
        t.script(0, &["GET a", "EXEC", "GET a", "SELECT 0", "GET a"]);
    });
}

#[test]
fn blocking_commands_inside_multi_do_not_block() {
    both_protocols("blocking_commands_inside_multi_do_not_block", 1, |t| {
        t.run(0, "FLUSHALL");
        let on_empty = [
            "BLPOP e 0",
            "BRPOP e e2 1",
            "BLMOVE e d LEFT RIGHT 0",
            "BRPOPLPUSH e d 0",
            "BLMPOP 0 1 e LEFT",
            "BLMPOP 0 1 e LEFT COUNT 2",
            "BZPOPMIN e 0",
            "BZPOPMAX e 0",
            "BZMPOP 0 1 e MIN",
            "BZMPOP 0 1 e MAX COUNT 3",
        ];
        t.expect(0, "MULTI", Reply::ok());
        for line in on_empty {
            t.queue(0, line);
        }
        let started = Instant::now();
        let Reply::Array(Some(items)) = t.run(0, "EXEC") else {
            panic!("EXEC did not answer an array");
        };
        assert!(started.elapsed() < Duration::from_secs(1));
        let nil = t.aborted(0);
        let nil_bulk = if t.resp3[0] {
            Reply::Null
        } else {
            Reply::Bulk(None)
        };
        for (line, r) in on_empty.iter().zip(&items) {
            let want = if line.starts_with("BLMOVE") || line.starts_with("BRPOPLPUSH") {
                &nil_bulk
            } else {
                &nil
            };
            assert_eq!(r, want, "{line}");
        }
        // On keys that hold elements they pop as their non-blocking forms do.
        t.run(0, "RPUSH l a b c");
        t.run(0, "ZADD z 1 x 2 y 3 w");
        t.expect(0, "MULTI", Reply::ok());
        for line in [
            "BLPOP l 0",
            "BRPOP l 0",
            "BLMOVE l d LEFT RIGHT 0",
            "BZPOPMIN z 0",
            "BZMPOP 0 1 z MAX COUNT 5",
            "BLPOP l 0",
            "BRPOPLPUSH d l 0",
            "BLMPOP 0 2 e l RIGHT COUNT 3",
            "BZPOPMAX z 0",
        ] {
            t.queue(0, line);
        }
        t.run(0, "EXEC");
        t.script(0, &["EXISTS l d z", "DBSIZE"]);
    });
}

#[test]
fn blocked_clients_are_served_after_exec() {
    both_protocols("blocked_clients_are_served_after_exec", 3, |t| {
        t.run(0, "FLUSHALL");
        // A push and a pop in one transaction: the waiter sees neither.
        t.send(1, "BLPOP k 0");
        t.wait_blocked(1);
        t.script(0, &["MULTI", "LPUSH k a", "LPOP k"]);
        t.expect(0, "EXEC", array(vec![Reply::Int(1), bulk("a")]));
        t.assert_silent(1);
        t.wait_blocked(1);
        // Two pushes: the waiter is served once EXEC is done, with the head then.
        t.script(0, &["MULTI", "LPUSH k a", "LPUSH k b"]);
        t.expect(0, "EXEC", array(vec![Reply::Int(1), Reply::Int(2)]));
        t.read(1);
        t.expect(0, "LRANGE k 0 -1", array(vec![bulk("a")]));
        // Created, deleted and created again within one transaction.
        t.send(1, "BLPOP k2 0");
        t.wait_blocked(1);
        t.script(
            0,
            &["MULTI", "RPUSH k2 a b", "DEL k2", "RPUSH k2 c", "EXEC"],
        );
        t.read(1);
        t.expect(0, "EXISTS k2", Reply::Int(0));
        // Two waiters, served in the order they blocked.
        t.send(1, "BLPOP q 0");
        t.wait_blocked(1);
        t.send(2, "BRPOP q 0");
        t.wait_blocked(2);
        t.script(0, &["MULTI", "RPUSH q 1 2 3", "LRANGE q 0 -1", "EXEC"]);
        t.read(1);
        t.read(2);
        t.expect(0, "LRANGE q 0 -1", array(vec![bulk("2")]));
        // A sorted-set waiter.
        t.send(1, "BZPOPMIN z 0");
        t.wait_blocked(1);
        t.script(0, &["MULTI", "ZADD z 1 a 2 b", "ZREM z a", "EXEC"]);
        t.read(1);
        // A waiter served by another client moves an element into a watched key.
        t.send(1, "BLMOVE src dst LEFT RIGHT 0");
        t.wait_blocked(1);
        t.run(0, "WATCH dst");
        t.run(2, "RPUSH src x");
        t.read(1);
        t.exec_ping(0, true);
        // A waiter on a key in another database is not served by a push in database 0.
        t.script(1, &["SELECT 1"]);
        t.send(1, "BLPOP k3 0");
        t.wait_blocked(1);
        t.script(
            0,
            &[
                "MULTI",
                "RPUSH k3 a",
                "SELECT 1",
                "RPUSH k3 b",
                "SELECT 0",
                "EXEC",
            ],
        );
        t.read(1);
        t.wait_blocked(0);
    });
}

#[test]
fn reset_clears_the_connection_state() {
    both_protocols("reset_clears_the_connection_state", 2, |t| {
        t.run(0, "FLUSHALL");
        t.expect(0, "RESET", status("RESET"));
        // From inside a transaction: discarded.
        t.script(0, &["MULTI", "SET a 1"]);
        t.expect(0, "RESET", status("RESET"));
        t.expect(0, "EXEC", err("ERR EXEC without MULTI"));
        t.expect_nil(0, "GET a");
        // Watches are forgotten.
        t.run(0, "WATCH k");
        t.expect(0, "RESET", status("RESET"));
        t.run(1, "SET k 1");
        t.exec_ping(0, false);
        // Back to database 0.
        t.script(0, &["SELECT 5", "SET db5 x"]);
        t.expect(0, "RESET", status("RESET"));
        t.expect_nil(0, "GET db5");
        t.script(0, &["SELECT 5", "GET db5", "SELECT 0"]);
        // A SELECT queued in the transaction RESET discards never runs.
        t.script(0, &["MULTI", "SELECT 5"]);
        t.expect(0, "RESET", status("RESET"));
        t.expect_nil(0, "GET db5");
        // The name is cleared.
        t.run(0, "CLIENT SETNAME foo");
        t.expect(0, "CLIENT GETNAME", bulk("foo"));
        t.expect(0, "RESET", status("RESET"));
        t.expect(0, "CLIENT GETNAME", Reply::Bulk(None));
        // Back to RESP2.
        t.run(0, "HSET h f v");
        t.run(0, "HELLO 3");
        t.script(0, &["GET missing", "HGETALL h", "ZSCORE nz m"]);
        t.expect(0, "RESET", status("RESET"));
        t.expect(0, "GET missing", Reply::Bulk(None));
        t.run(0, "HGETALL h");
        // RESET inside a transaction runs at once, also with HELLO 3 queued before it.
        t.script(0, &["MULTI", "HELLO 3", "SET in 1"]);
        t.expect(0, "RESET", status("RESET"));
        t.expect(0, "GET missing", Reply::Bulk(None));
        t.expect_nil(0, "GET in");
        t.expect(
            0,
            "RESET x",
            err("ERR wrong number of arguments for 'reset' command"),
        );
    });
}

#[test]
fn hello_inside_multi_switches_protocol_mid_exec() {
    for resp3 in [false, true] {
        let mut t = Twins::start("hello_inside_multi", 0, 1, resp3, &[]);
        t.run(0, "FLUSHALL");
        for proto in ["3", "2"] {
            t.script(0, &["MULTI", &format!("HELLO {proto}"), "GET missing"]);
            // EXEC's reply holds HELLO's map: compared without its values.
            let a = args("EXEC");
            let o = t.conns[0][0].cmd_args(&a);
            let r = t.conns[0][1].cmd_args(&a);
            let shape = |x: &Reply| match x {
                Reply::Array(Some(items)) if items.len() == 2 => {
                    array(vec![hello_fields(&items[0]), items[1].clone()])
                }
                other => other.clone(),
            };
            if shape(&o) != shape(&r) {
                t.fail(0, "EXEC holding HELLO", &a, &o, &r);
            }
            t.resp3[0] = proto == "3";
            // The rest of the connection speaks the new protocol.
            t.run(0, "GET missing");
        }
    }
}

#[test]
fn reset_logs_out_with_requirepass() {
    let mut t = Twins::start(
        "reset_logs_out_with_requirepass",
        0,
        1,
        false,
        &["--requirepass", "sekret"],
    );
    let noauth = err("NOAUTH Authentication required.");
    t.expect(0, "MULTI", noauth.clone());
    t.expect(
        0,
        "EXEC",
        err("EXECABORT Transaction discarded because of: NOAUTH Authentication required."),
    );
    t.expect(0, "WATCH a", noauth.clone());
    t.expect(0, "RESET", status("RESET"));
    t.expect(0, "PING", noauth.clone());
    t.expect(0, "AUTH sekret", Reply::ok());
    t.script(0, &["MULTI", "SET a 1"]);
    t.expect(0, "RESET", status("RESET"));
    t.expect(0, "PING", noauth.clone());
    t.run(0, "EXEC");
    t.expect(0, "GET a", noauth.clone());
    t.expect(0, "AUTH sekret", Reply::ok());
    t.expect_nil(0, "GET a");
    t.script(0, &["SELECT 3", "SET in3 v", "WATCH in3"]);
    t.expect(0, "RESET", status("RESET"));
    t.expect(0, "AUTH sekret", Reply::ok());
    t.expect_nil(0, "GET in3");
    // HELLO 3 with AUTH, then RESET: logged out and back on RESP2.
    t.run(0, "RESET");
    t.run(0, "HELLO 3 AUTH default sekret");
    t.expect(0, "GET missing", Reply::Null);
    t.expect(0, "RESET", status("RESET"));
    t.expect(0, "GET missing", noauth);
    t.expect(0, "AUTH sekret", Reply::ok());
    t.expect(0, "GET missing", Reply::Bulk(None));
}

#[test]
fn commands_refused_inside_multi() {
    // The commands flagged no_multi in redis-server 7.0.15's COMMAND INFO are SAVE, SHUTDOWN,
    // SYNC and PSYNC; ringkv has the first two (the others are unknown commands there, which
    // abort a transaction too but with another error text).
    both_protocols("commands_refused_inside_multi", 1, |t| {
        t.run(0, "FLUSHALL");
        let refused = err("ERR Command not allowed inside a transaction");
        let abort = err("EXECABORT Transaction discarded because of previous errors.");
        for line in ["SAVE", "SHUTDOWN", "SHUTDOWN NOSAVE"] {
            t.expect(0, "MULTI", Reply::ok());
            t.queue(0, "SET a 1");
            t.expect(0, line, refused.clone());
            t.expect(0, "EXEC", abort.clone());
        }
        t.script(0, &["MULTI", "SHUTDOWN NOSAVE", "DISCARD"]);
        t.expect_nil(0, "GET a");
        t.expect(0, "PING", status("PONG"));
    });
}

#[test]
fn quit_inside_multi_closes_without_exec() {
    both_protocols("quit_inside_multi_closes_without_exec", 2, |t| {
        t.run(0, "FLUSHALL");
        t.script(0, &["MULTI", "SET q 1"]);
        t.expect(0, "QUIT", Reply::ok());
        for conn in &mut t.conns[0] {
            conn.expect_closed(Duration::from_secs(2))
                .expect("closed after QUIT");
        }
        t.reconnect(0);
        t.expect_nil(1, "GET q");
        t.exec_ping(0, false);
    });
}

#[test]
fn pipelined_and_large_transactions() {
    both_protocols("pipelined_and_large_transactions", 2, |t| {
        t.run(0, "FLUSHALL");
        // Many transactions in one write, with another client's writes between batches.
        for batch in 0..4 {
            let mut cmds = Vec::new();
            for i in 0..50 {
                cmds.push(args("MULTI"));
                cmds.push(args("INCR a"));
                cmds.push(args(&format!("RPUSH l {batch}:{i}")));
                cmds.push(args("LLEN l"));
                cmds.push(args("EXEC"));
            }
            t.pipeline(0, &cmds);
            t.run(1, "INCR a");
        }
        // One transaction of 20,000 commands, and one holding a 1 MB value.
        let mut cmds = vec![args("MULTI")];
        cmds.extend((0..20_000).map(|i| args(&format!("SET k:{i} {i}"))));
        cmds.push(args("DBSIZE"));
        cmds.push(args("EXEC"));
        let replies = t.pipeline(0, &cmds);
        assert!(matches!(replies.last(), Some(Reply::Array(Some(items))) if items.len() == 20_001));
        let big = vec![b'x'; 1 << 20];
        let cmds = vec![
            args("MULTI"),
            vec![b"SET".to_vec(), b"big".to_vec(), big],
            args("STRLEN big"),
            args("APPEND big y"),
            args("EXEC"),
        ];
        t.pipeline(0, &cmds);
        t.run(0, "DBSIZE");
    });
}

/// Transactions are atomic: `CLIENTS_ATOMIC` threads each pipeline transactions that
/// increment two counters and push to a list, on the same keys; in every EXEC reply the two
/// counters agree (nothing of another client ran between them), and at the end both
/// counters and the list length equal the number of transactions. Checked on both servers.
#[test]
fn transactions_are_atomic_under_concurrent_pipelines() {
    const CLIENTS_ATOMIC: usize = 4;
    const TX_PER_CLIENT: usize = 1_000;
    const BATCH: usize = 50;
    for server in [Server::start(&[]), Server::start_redis(&[])] {
        let port = server.port;
        let threads: Vec<_> = (0..CLIENTS_ATOMIC)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut c = Raw::connect(port);
                    for b in 0..TX_PER_CLIENT / BATCH {
                        let mut cmds = Vec::new();
                        for i in 0..BATCH {
                            cmds.push(args("MULTI"));
                            cmds.push(args("INCR a"));
                            cmds.push(args("INCR b"));
                            cmds.push(args(&format!("RPUSH l {t}:{b}:{i}")));
                            cmds.push(args("EXEC"));
                        }
                        for (i, r) in c.pipeline(&cmds).into_iter().enumerate() {
                            if i % 5 != 4 {
                                continue;
                            }
                            let Reply::Array(Some(items)) = &r else {
                                panic!("EXEC answered {r:?}");
                            };
                            assert_eq!(items[0], items[1], "counters apart inside one EXEC");
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            if let Err(e) = t.join() {
                std::panic::resume_unwind(e);
            }
        }
        let total = (CLIENTS_ATOMIC * TX_PER_CLIENT) as i64;
        let mut c = server.raw();
        let n = bulk(&total.to_string());
        assert_eq!(
            c.cmd_str(&["MGET", "a", "b"]),
            array(vec![n.clone(), n]),
            "{}",
            server.bin
        );
        assert_eq!(
            c.cmd_str(&["LLEN", "l"]),
            Reply::Int(total),
            "{}",
            server.bin
        );
    }
}

/// The `wanted` fields of client `name`'s CLIENT LIST line. Transactions change flags (x in
/// MULTI, d once a watched key was touched), multi (commands queued, -1 outside MULTI) and
/// cmd (the last command, queued ones included).
fn client_fields(list: &Reply, name: &str, wanted: &[&str]) -> Reply {
    let Reply::Bulk(Some(text)) = list else {
        return list.clone();
    };
    let text = String::from_utf8_lossy(text);
    let Some(line) = text
        .lines()
        .find(|l| l.split(' ').any(|f| f == format!("name={name}")))
    else {
        return err(&format!("no client named {name}"));
    };
    let fields = line
        .split(' ')
        .filter(|f| wanted.iter().any(|w| f.split('=').next() == Some(w)))
        .map(bulk)
        .collect();
    array(fields)
}

#[test]
fn client_list_shows_the_transaction() {
    both_protocols("client_list_shows_the_transaction", 2, |t| {
        t.run(0, "FLUSHALL");
        t.run(0, "CLIENT SETNAME txc");
        let all = ["flags", "db", "multi", "cmd", "resp"];
        let check_fields = |t: &mut Twins, what: &str, wanted: &[&str]| {
            let [o, r] = t.side("CLIENT LIST");
            let (o, r) = (
                client_fields(&o, "txc", wanted),
                client_fields(&r, "txc", wanted),
            );
            if o != r {
                t.fail(
                    0,
                    &format!("CLIENT LIST fields {what}"),
                    &args("CLIENT LIST"),
                    &o,
                    &r,
                );
            }
        };
        let check = |t: &mut Twins, what: &str| check_fields(t, what, &all);
        check(t, "before");
        t.run(0, "WATCH a");
        check(t, "after WATCH");
        t.run(1, "SET a 1");
        check(t, "after the watched key was touched");
        // A transaction already doomed by a touched WATCH keeps nothing it queues: Redis
        // shows multi=0 here.
        t.script(0, &["MULTI", "SET x 1", "SELECT 2", "GET x"]);
        check(t, "with three commands queued");
        t.run(0, "NOSUCH");
        // (cmd= after an unknown command is NULL in Redis, in or out of MULTI: not a
        // transaction matter, left out here.)
        check_fields(
            t,
            "after an unknown command in MULTI",
            &["flags", "db", "multi", "resp"],
        );
        t.run(0, "EXEC");
        check(t, "after EXEC");
        t.script(0, &["MULTI", "PING"]);
        check(t, "in a second MULTI");
        t.run(0, "DISCARD");
        check(t, "after DISCARD");
    });
}

/// calls, rejected_calls, failed_calls per command name, from INFO commandstats.
fn command_stats(info: &Reply) -> BTreeMap<String, [u64; 3]> {
    let Reply::Bulk(Some(text)) = info else {
        panic!("INFO commandstats answered {info:?}");
    };
    let mut out = BTreeMap::new();
    for line in String::from_utf8_lossy(text).lines() {
        let Some((name, fields)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        let field = |f: &str| -> u64 {
            fields
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{f}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("cmdstat_{name} has no {f}: {line}"))
        };
        out.insert(
            name.to_string(),
            [
                field("calls"),
                field("rejected_calls"),
                field("failed_calls"),
            ],
        );
    }
    out
}

#[test]
fn commandstats_count_transactions_like_redis() {
    both_protocols("commandstats_count_transactions_like_redis", 2, |t| {
        t.run(0, "FLUSHALL");
        t.side("CONFIG RESETSTAT");
        t.script(
            0,
            &["MULTI", "SET a 1", "SET b 2", "LPUSH a x", "INCR n", "EXEC"],
        );
        t.script(0, &["MULTI", "SET a", "EXEC"]);
        t.script(0, &["MULTI", "NOSUCH", "EXEC"]);
        t.script(0, &["EXEC", "DISCARD", "MULTI", "DISCARD"]);
        t.run(0, "WATCH a");
        t.run(1, "SET a z");
        t.script(0, &["MULTI", "SET q 1", "GET a", "EXEC"]);
        t.script(0, &["MULTI", "MULTI", "DISCARD"]);
        t.script(0, &["MULTI", "WATCH x", "UNWATCH", "DISCARD"]);
        t.script(0, &["MULTI", "SAVE", "DISCARD"]);
        t.script(0, &["MULTI", "GET a", "RESET", "UNWATCH"]);
        t.script(0, &["MULTI", "EXEC x"]);
        let [o, r] = t.side("INFO commandstats");
        let (o, r) = (command_stats(&o), command_stats(&r));
        let names = [
            "multi", "exec", "discard", "watch", "unwatch", "set", "get", "lpush", "incr", "save",
            "reset",
        ];
        let pick = |m: &BTreeMap<String, [u64; 3]>| -> Vec<(&str, [u64; 3])> {
            names
                .iter()
                .map(|n| (*n, m.get(*n).copied().unwrap_or_default()))
                .collect()
        };
        assert_eq!(
            pick(&o),
            pick(&r),
            "INFO commandstats [calls, rejected_calls, failed_calls]: ours (left) vs redis"
        );
        assert_eq!(r.get("exec").copied(), Some([5, 1, 3]));
    });
}

#[test]
fn maxmemory_refuses_queueing_any_command() {
    both_protocols("maxmemory_refuses_queueing_any_command", 2, |t| {
        t.run(0, "FLUSHALL");
        let oom = err("OOM command not allowed when used memory > 'maxmemory'.");
        // Over the limit, every command is refused inside MULTI (queueing takes memory),
        // reads included; DISCARD and EXEC are not.
        t.run(1, "CONFIG SET maxmemory 1");
        t.expect(0, "MULTI", Reply::ok());
        t.expect(0, "SET a 1", oom.clone());
        t.expect(0, "GET a", oom.clone());
        t.expect(0, "DEL a", oom.clone());
        t.expect(
            0,
            "EXEC",
            err("EXECABORT Transaction discarded because of previous errors."),
        );
        t.script(0, &["MULTI", "GET a", "DISCARD"]);
        // Queued before the limit was lowered: EXEC of a write is refused as a whole, EXEC of
        // reads runs.
        t.run(1, "CONFIG SET maxmemory 0");
        t.script(0, &["MULTI", "GET a", "SET a 1"]);
        t.run(1, "CONFIG SET maxmemory 1");
        t.expect(
            0,
            "EXEC",
            err("EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'."),
        );
        t.run(1, "CONFIG SET maxmemory 0");
        t.script(0, &["MULTI", "GET a"]);
        t.run(1, "CONFIG SET maxmemory 1");
        t.run(0, "EXEC");
        t.run(1, "CONFIG SET maxmemory 0");
        t.expect_nil(0, "GET a");
    });
}

// ---------------------------------------------------------------------------------------------
// The random stream.
// ---------------------------------------------------------------------------------------------

/// Where a client of the random stream stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// In MULTI, with this many more commands to queue before EXEC or DISCARD.
    Queuing(u32),
}

struct Gen {
    rng: StdRng,
    /// Absolute expire times (unix seconds) far in the future, so that EXPIREAT and EXAT give
    /// both servers the same deadlines and nothing expires during a run.
    deadlines: [u64; 3],
}

const STRINGS: &[&str] = &["s0", "s1", "s2"];
const LISTS: &[&str] = &["l0", "l1", "l2"];
const SETS: &[&str] = &["t0", "t1", "t2"];
const HASHES: &[&str] = &["h0", "h1"];
const ZSETS: &[&str] = &["z0", "z1"];

impl Gen {
    fn new(seed: u64) -> Gen {
        let now_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        Gen {
            rng: StdRng::seed_from_u64(seed),
            deadlines: [now_s + 1_000_000, now_s + 2_000_000, now_s + 3_000_000],
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn pick(&mut self, items: &[&str]) -> String {
        items.choose(&mut self.rng).expect("non-empty").to_string()
    }

    /// A key of the given pool, or (sometimes) of any pool, so that types collide.
    fn key(&mut self, pool: &[&str]) -> String {
        if self.chance(0.12) {
            self.any_key()
        } else {
            self.pick(pool)
        }
    }

    fn any_key(&mut self) -> String {
        let pools = [STRINGS, LISTS, SETS, HASHES, ZSETS];
        let pool = pools[self.rng.gen_range(0..pools.len())];
        self.pick(pool)
    }

    fn member(&mut self) -> String {
        if self.chance(0.3) {
            self.rng.gen_range(1..6).to_string()
        } else {
            format!("m{}", self.rng.gen_range(0..6))
        }
    }

    fn value(&mut self) -> String {
        match self.rng.gen_range(0..4) {
            0 => self.rng.gen_range(-3..20).to_string(),
            1 => "x".repeat(self.rng.gen_range(1..50)),
            _ => format!("v{}", self.rng.gen_range(0..5)),
        }
    }

    fn small_int(&mut self) -> i64 {
        self.rng.gen_range(-2..4)
    }

    fn deadline(&mut self) -> u64 {
        self.deadlines[self.rng.gen_range(0..3)]
    }

    /// One command on data, of any type; reads, writes, and writes that change nothing.
    /// No reply depends on the server's hash order or clock.
    fn data_command(&mut self) -> String {
        let s = self.key(STRINGS);
        let l = self.key(LISTS);
        let t = self.key(SETS);
        let h = self.key(HASHES);
        let z = self.key(ZSETS);
        let k = self.any_key();
        let k2 = self.any_key();
        let (m, m2, v, n) = (self.member(), self.member(), self.value(), self.small_int());
        let d = self.deadline();
        let flag = self.pick(&["NX", "XX", "GT", "LT"]);
        match self.rng.gen_range(0..64) {
            0 => format!("SET {s} {v}"),
            1 => format!("SET {s} {v} NX"),
            2 => format!("SET {s} {v} XX GET"),
            3 => format!("GET {s}"),
            4 => format!("INCR {s}"),
            5 => format!("INCRBY {s} {n}"),
            6 => format!("APPEND {s} {v}"),
            7 => format!("SETRANGE {s} 1 {v}"),
            8 => format!("GETDEL {s}"),
            9 => format!("MSET {s} {v} {k} {v}"),
            10 => format!("MGET {s} {k}"),
            11 => format!("SET {s} {v} EXAT {d}"),
            12 => format!("GETEX {s} EXAT {d}"),
            13 => format!("DEL {k} {k2}"),
            14 => format!("EXISTS {k} {k2}"),
            15 => format!("TYPE {k}"),
            16 => format!("RENAME {k} {k2}"),
            17 => format!("COPY {k} {k2} REPLACE"),
            18 => format!("EXPIREAT {k} {d} {flag}"),
            19 => format!("EXPIREAT {k} {d}"),
            20 => format!("PEXPIREAT {k} 1"),
            21 => format!("PERSIST {k}"),
            22 => format!("EXPIRETIME {k}"),
            23 => format!("MOVE {k} {}", self.rng.gen_range(0..3)),
            24 => format!("LPUSH {l} {m} {m2}"),
            25 => format!("RPUSH {l} {m}"),
            26 => format!("LPOP {l}"),
            27 => format!("RPOP {l} 2"),
            28 => format!("LRANGE {l} 0 -1"),
            29 => format!("LREM {l} 0 {m}"),
            30 => format!("LTRIM {l} 0 {}", n + 2),
            31 => format!("LSET {l} 0 {m}"),
            32 => format!("LMOVE {l} {} LEFT RIGHT", self.key(LISTS)),
            33 => format!("LPUSHX {l} {m}"),
            34 => format!("LINSERT {l} BEFORE {m} {m2}"),
            35 => format!("LLEN {l}"),
            36 => format!("SADD {t} {m} {m2}"),
            37 => format!("SREM {t} {m}"),
            38 => format!("SISMEMBER {t} {m}"),
            39 => format!("SMISMEMBER {t} {m} {m2}"),
            40 => format!("SCARD {t}"),
            41 => format!("SMOVE {t} {} {m}", self.key(SETS)),
            42 => format!("SINTERSTORE {t} {} {}", self.key(SETS), self.key(SETS)),
            43 => format!("SUNIONSTORE {t} {} {}", self.key(SETS), self.key(SETS)),
            44 => format!("SINTERCARD 2 {t} {}", self.key(SETS)),
            45 => format!("HSET {h} {m} {v}"),
            46 => format!("HSET {h} {m} {v} {m2} {v}"),
            47 => format!("HDEL {h} {m}"),
            48 => format!("HGET {h} {m}"),
            49 => format!("HMGET {h} {m} {m2}"),
            50 => format!("HINCRBY {h} {m} {n}"),
            51 => format!("HSETNX {h} {m} {v}"),
            52 => format!("HLEN {h}"),
            53 => format!("ZADD {z} {n} {m}"),
            54 => format!(
                "ZADD {z} {} {n} {m} 2.5 {m2}",
                self.pick(&["NX", "XX", "GT", "LT", "CH"])
            ),
            55 => format!("ZINCRBY {z} {n} {m}"),
            56 => format!("ZREM {z} {m}"),
            57 => format!("ZSCORE {z} {m}"),
            58 => format!("ZRANGE {z} 0 -1 WITHSCORES"),
            59 => format!("ZRANK {z} {m}"),
            60 => format!("ZPOPMIN {z}"),
            61 => format!("ZRANGESTORE {z} {} 0 1", self.key(ZSETS)),
            62 => format!("ZREMRANGEBYSCORE {z} 0 1"),
            _ => format!("ZCARD {z}"),
        }
    }

    /// A blocking command, which inside MULTI answers at once.
    fn blocking_command(&mut self) -> String {
        let l = self.key(LISTS);
        let z = self.key(ZSETS);
        match self.rng.gen_range(0..5) {
            0 => format!("BLPOP {l} {} 0", self.key(LISTS)),
            1 => format!("BRPOP {l} 0"),
            2 => format!("BLMOVE {l} {} RIGHT LEFT 0", self.key(LISTS)),
            3 => format!("BZPOPMIN {z} 0"),
            _ => format!("BLMPOP 0 1 {l} LEFT COUNT 2"),
        }
    }

    /// The next command of a client in `state`, and the state after it.
    fn step(&mut self, state: State) -> (String, State) {
        let roll = self.rng.gen_range(0..1000);
        match state {
            State::Idle => {
                let line = match roll {
                    0..=429 => self.data_command(),
                    430..=549 => {
                        let n = self.rng.gen_range(1..4);
                        let keys: Vec<String> = (0..n).map(|_| self.any_key()).collect();
                        format!("WATCH {}", keys.join(" "))
                    }
                    550..=579 => "UNWATCH".into(),
                    580..=899 => {
                        let n = self.rng.gen_range(0..7);
                        return ("MULTI".into(), State::Queuing(n));
                    }
                    900..=939 => format!("SELECT {}", self.rng.gen_range(0..3)),
                    940..=954 => "RESET".into(),
                    955..=964 => self.pick(&["EXEC", "DISCARD"]),
                    965..=974 => self.pick(&["HELLO 3", "HELLO 2"]),
                    975..=984 => "SWAPDB 0 1".into(),
                    985..=994 => "FLUSHDB".into(),
                    _ => "FLUSHALL".into(),
                };
                (line, State::Idle)
            }
            State::Queuing(0) => {
                let end = if roll < 850 { "EXEC" } else { "DISCARD" };
                (end.into(), State::Idle)
            }
            State::Queuing(left) => {
                let next = State::Queuing(left - 1);
                let line = match roll {
                    0..=829 => self.data_command(),
                    830..=879 => format!("SELECT {}", self.rng.gen_range(0..3)),
                    880..=919 => self.blocking_command(),
                    // Errors at queue time: EXEC then answers EXECABORT.
                    920..=929 => format!("SET {}", self.any_key()),
                    930..=934 => "NOSUCHCOMMAND x".into(),
                    // Errors that do not abort.
                    935..=944 => "MULTI".into(),
                    945..=954 => format!("WATCH {}", self.any_key()),
                    955..=969 => "UNWATCH".into(),
                    970..=979 => "PING".into(),
                    980..=984 => return ("RESET".into(), State::Idle),
                    985..=989 => return ("EXEC x".into(), State::Idle),
                    _ => "SWAPDB 0 1".into(),
                };
                (line, next)
            }
        }
    }
}

/// How EXECs ended on Redis, for the run's summary and its coverage checks.
#[derive(Default)]
struct ExecOutcomes {
    committed: u64,
    watch_aborted: u64,
    execabort: u64,
    other: u64,
}

#[test]
fn random_stream() {
    let seed: u64 = env_or("DIFFTEST_SEED", DEFAULT_SEED);
    let n: usize = env_or("DIFFTEST_N", DEFAULT_N);
    eprintln!("difftest_multi: seed {seed}, {n} steps (DIFFTEST_SEED / DIFFTEST_N)");
    let started = Instant::now();
    let mut t = Twins::start("difftest_multi random_stream", seed, CLIENTS, false, &[]);
    t.run(1, "HELLO 3");
    let mut gen = Gen::new(seed);
    let mut states = [State::Idle; CLIENTS];
    let mut outcomes = ExecOutcomes::default();
    for step in 1..=n {
        let c = gen.rng.gen_range(0..CLIENTS);
        let (line, next) = gen.step(states[c]);
        states[c] = next;
        let r = t.run(c, &line);
        if line == "EXEC" {
            match &r {
                Reply::Array(Some(_)) => outcomes.committed += 1,
                Reply::Array(None) | Reply::Null => outcomes.watch_aborted += 1,
                Reply::Error(e) if e.starts_with("EXECABORT") => outcomes.execabort += 1,
                _ => outcomes.other += 1,
            }
        }
        if step % STATE_CHECK_EVERY == 0 || step == n {
            assert_same(
                &dump(t.ours.port),
                &dump(t.redis.port),
                &format!("difftest_multi: seed {seed}, datasets after step {step}"),
            );
        }
    }
    eprintln!(
        "difftest_multi: seed {seed}: {n} steps agreed in {:.1?}; EXEC: {} committed, {} aborted \
         by WATCH, {} EXECABORT, {} without MULTI",
        started.elapsed(),
        outcomes.committed,
        outcomes.watch_aborted,
        outcomes.execabort,
        outcomes.other
    );
    if n >= 2_000 {
        assert!(
            outcomes.committed > 0 && outcomes.watch_aborted > 0 && outcomes.execabort > 0,
            "the stream no longer exercises every way an EXEC ends"
        );
    }
}
