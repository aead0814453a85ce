//! Client-side caching against redis-server 7.0: CLIENT TRACKING in default, BCAST, OPTIN and
//! OPTOUT modes, NOLOOP, REDIRECT to a RESP2 subscriber or a RESP3 client and a redirect
//! target that goes away, invalidations on the same RESP3 connection (after the reply of the
//! command that caused them, after the whole EXEC inside a transaction), FLUSHDB/FLUSHALL,
//! expiry, served blocked clients, the `tracking-table-max-keys` limit, CLIENT CACHING,
//! GETREDIR, TRACKINGINFO, CLIENT LIST and INFO fields, RESET, closed clients and errors.
//!
//! The differential scenarios run every step on both servers, client by client, and compare
//! what each client reads byte for byte. Client ids differ between the servers: `$ID<n>` in
//! an argument is client n's id, and steps marked `ids` compare frames with each client's id
//! written as `ID<n>`. Every scenario ends with a PING from each client, so a message one
//! server sent and the other did not shows up as a difference.
//!
//! `RINGKV_BIN=$(command -v redis-server) cargo test --test tracking` runs it redis-vs-redis.

mod common;

use common::{encode, escape, Raw, Reply, Server};
use std::time::{Duration, Instant};

/// How a step's frames are compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Exact,
    /// Client ids written as `ID<n>`.
    Ids,
    /// A HELLO reply: its `id` field written as `?`.
    Hello,
    /// The key named by an invalidation replaced by `?` (keys dropped by the table limit are
    /// picked at random).
    AnyKey,
}

/// One step: client `who` sends `cmd` (none when empty) or the commands of `pipeline` (in
/// one write), then reads `frames` frames.
struct Step {
    who: usize,
    cmd: &'static [&'static str],
    pipeline: &'static [&'static [&'static str]],
    frames: usize,
    cmp: Cmp,
}

const fn s(who: usize, cmd: &'static [&'static str], frames: usize) -> Step {
    Step {
        who,
        cmd,
        pipeline: &[],
        frames,
        cmp: Cmp::Exact,
    }
}

/// A step whose frames hold client ids.
const fn ids(who: usize, cmd: &'static [&'static str], frames: usize) -> Step {
    Step {
        cmp: Cmp::Ids,
        ..s(who, cmd, frames)
    }
}

/// A HELLO step (the reply holds the client's id).
const fn hello(who: usize, cmd: &'static [&'static str], frames: usize) -> Step {
    Step {
        cmp: Cmp::Hello,
        ..s(who, cmd, frames)
    }
}

/// A step whose invalidations may name any key.
const fn any_key(who: usize, cmd: &'static [&'static str], frames: usize) -> Step {
    Step {
        cmp: Cmp::AnyKey,
        ..s(who, cmd, frames)
    }
}

/// Several commands in one write.
const fn pipe(who: usize, cmds: &'static [&'static [&'static str]], frames: usize) -> Step {
    Step {
        who,
        cmd: &[],
        pipeline: cmds,
        frames,
        cmp: Cmp::Exact,
    }
}

/// The connections of a scenario: `protocols[n]` is client n's protocol (2 or 3).
struct Clients {
    conns: Vec<Raw>,
    ids: Vec<u64>,
}

impl Clients {
    fn open(port: u16, protocols: &[u8]) -> Clients {
        let mut conns = Vec::new();
        let mut ids = Vec::new();
        for &p in protocols {
            let mut c = Raw::connect(port);
            match c.cmd_str(&["CLIENT", "ID"]) {
                Reply::Int(id) => ids.push(id as u64),
                other => panic!("CLIENT ID: {other:?}"),
            }
            if p == 3 {
                assert!(!c.cmd_str(&["HELLO", "3"]).is_error());
            }
            conns.push(c);
        }
        Clients { conns, ids }
    }

    /// `$ID<n>` → client n's id.
    fn arg(&self, a: &str) -> Vec<u8> {
        match a.strip_prefix("$ID") {
            Some(n) => self.ids[n.parse::<usize>().expect("client index")]
                .to_string()
                .into_bytes(),
            None => a.as_bytes().to_vec(),
        }
    }

    /// Runs one step, returning its frames as compared.
    fn step(&mut self, st: &Step) -> Vec<Vec<u8>> {
        let mut wire = Vec::new();
        let single = [st.cmd];
        let cmds: &[&[&str]] = if st.cmd.is_empty() {
            st.pipeline
        } else {
            &single
        };
        for cmd in cmds {
            let args: Vec<Vec<u8>> = cmd.iter().map(|a| self.arg(a)).collect();
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            wire.extend_from_slice(&encode(&refs));
        }
        let c = &mut self.conns[st.who];
        if !wire.is_empty() {
            c.send(&wire);
        }
        let frames: Vec<Vec<u8>> = (0..st.frames).map(|_| c.read_reply_bytes()).collect();
        frames
            .into_iter()
            .map(|f| self.normalize(f, st.cmp))
            .collect()
    }

    fn normalize(&self, f: Vec<u8>, cmp: Cmp) -> Vec<u8> {
        match cmp {
            Cmp::Exact => f,
            Cmp::Ids => {
                let mut s = f;
                for (n, id) in self.ids.iter().enumerate() {
                    let from = format!(":{id}\r\n").into_bytes();
                    let to = format!(":ID{n}\r\n").into_bytes();
                    s = replace(&s, &from, &to);
                }
                s
            }
            Cmp::Hello => {
                let field = b"$2\r\nid\r\n:";
                match find(&f, field) {
                    Some(i) => {
                        let start = i + field.len();
                        let end = start + find(&f[start..], b"\r\n").expect("id line");
                        let mut out = f[..start].to_vec();
                        out.push(b'?');
                        out.extend_from_slice(&f[end..]);
                        out
                    }
                    None => f,
                }
            }
            Cmp::AnyKey => {
                let head = b"\r\ninvalidate\r\n*1\r\n";
                match find(&f, head) {
                    Some(i) => {
                        let mut out = f[..i + head.len()].to_vec();
                        out.extend_from_slice(b"?");
                        out
                    }
                    None => f,
                }
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Runs the steps, then a PING from each client, returning every step's frames.
fn run(port: u16, protocols: &[u8], steps: &[Step]) -> Vec<Vec<Vec<u8>>> {
    let mut clients = Clients::open(port, protocols);
    let mut out: Vec<Vec<Vec<u8>>> = steps.iter().map(|st| clients.step(st)).collect();
    // A client the scenario closed (CLIENT KILL) shows as closed.
    for c in &mut clients.conns {
        let frame = match c.try_send(&encode(&[b"PING"])) {
            Ok(()) => match c.try_read_reply() {
                Ok(r) => format!("{r:?}"),
                Err(_) => "closed".to_string(),
            },
            Err(_) => "closed".to_string(),
        };
        out.push(vec![frame.into_bytes()]);
    }
    out
}

/// Starts both servers (with `args`), runs the scenario on each and compares every step.
fn differential(name: &str, args: &[&str], protocols: &[u8], steps: &[Step]) {
    let ours = Server::start(args);
    let redis = Server::start_redis(args);
    let a = run(ours.port, protocols, steps);
    let b = run(redis.port, protocols, steps);
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let show = |f: &Vec<Vec<u8>>| f.iter().map(|b| escape(b)).collect::<Vec<_>>();
        let what = match steps.get(i) {
            Some(st) if st.cmd.is_empty() => {
                format!("client {} sent {:?}", st.who, st.pipeline)
            }
            Some(st) => format!("client {} sent {:?}", st.who, st.cmd),
            None => format!("client {} sent the final PING", i - steps.len()),
        };
        assert_eq!(show(x), show(y), "{name} step {i}: {what}");
    }
}

#[test]
fn default_mode_on_the_same_resp3_connection() {
    // Client 0 tracks in RESP3; client 1 writes. Invalidations of the client's own writes
    // come after the reply of the command (after EXEC's whole reply in a transaction).
    differential(
        "default",
        &[],
        &[3, 2],
        &[
            s(0, &["CLIENT", "TRACKING", "on"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            s(0, &["CLIENT", "GETREDIR"], 1),
            s(0, &["GET", "k"], 1),
            s(0, &["SET", "k", "1"], 2),
            // Not read since: no message.
            s(1, &["SET", "k", "2"], 1),
            s(0, &["GET", "k"], 1),
            s(1, &["SET", "k", "3"], 1),
            s(0, &[], 1),
            s(0, &["MGET", "x", "y", "k"], 1),
            s(0, &["MULTI"], 1),
            s(0, &["SET", "x", "1"], 1),
            s(0, &["INCR", "y"], 1),
            s(0, &["GET", "k"], 1),
            s(0, &["EXEC"], 3),
            // Pipelined: each invalidation follows the reply of the command that caused it.
            s(0, &["MGET", "x", "y", "k"], 1),
            pipe(
                0,
                &[&["DEL", "x", "nosuch"], &["APPEND", "y", "z"], &["PING"]],
                5,
            ),
            // Keys are not per database.
            s(0, &["GET", "k"], 1),
            s(1, &["SELECT", "3"], 1),
            s(1, &["SET", "k", "db3"], 1),
            s(0, &[], 1),
            // SWAPDB invalidates nothing, as in Redis 7.0.
            s(0, &["GET", "k"], 1),
            s(1, &["SWAPDB", "0", "3"], 1),
            // Read-only commands of other families, and a container subcommand's key.
            s(0, &["STRLEN", "k"], 1),
            s(0, &["OBJECT", "ENCODING", "k"], 1),
            s(0, &["EXISTS", "h", "s"], 1),
            s(0, &["HGET", "h", "f"], 1),
            s(0, &["SISMEMBER", "s", "m"], 1),
            s(0, &["ZUNION", "2", "z1", "z2"], 1),
            s(1, &["SELECT", "0"], 1),
            s(1, &["HSET", "h", "f", "v"], 1),
            s(0, &[], 1),
            s(1, &["SADD", "s", "m"], 1),
            s(0, &[], 1),
            s(1, &["ZADD", "z2", "1", "a"], 1),
            s(0, &[], 1),
            s(1, &["SET", "k", "4"], 1),
            s(0, &[], 1),
            // A failed write invalidates nothing; a read that errors still tracks its key.
            s(0, &["GET", "h"], 1),
            s(1, &["SET", "h", "x", "NX"], 1),
            s(1, &["HSET", "h", "g", "w"], 1),
            s(0, &[], 1),
            // INFO counts.
            s(1, &["CONFIG", "GET", "tracking-table-max-keys"], 1),
        ],
    );
}

#[test]
fn invalidations_come_before_the_keyspace_events_of_the_same_change() {
    // Client 0 tracks and is subscribed to every keyspace event on one RESP3 connection:
    // another client's write reaches it as the invalidation, then the events (Redis signals
    // a key modified before it notifies); its own write as the events, the reply, then the
    // invalidation.
    differential(
        "events",
        &["--notify-keyspace-events", "KEA"],
        &[3, 2],
        &[
            s(0, &["CLIENT", "TRACKING", "on"], 1),
            s(0, &["PSUBSCRIBE", "__key*"], 1),
            s(0, &["GET", "k"], 1),
            s(0, &["LRANGE", "l", "0", "-1"], 1),
            s(0, &["HGET", "h", "f"], 1),
            s(1, &["SET", "k", "v"], 1),
            s(0, &[], 3),
            s(1, &["RPUSH", "l", "a"], 1),
            s(0, &[], 3),
            s(1, &["MSET", "k", "1", "h", "2"], 1),
            s(0, &[], 5),
            s(0, &["GET", "k"], 1),
            s(0, &["SET", "k", "x"], 4),
        ],
    );
}

#[test]
fn flushdb_and_flushall_invalidate_everything_with_a_null() {
    differential(
        "flush",
        &[],
        &[3, 2, 3],
        &[
            s(0, &["CLIENT", "TRACKING", "on"], 1),
            s(2, &["CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"], 1),
            s(0, &["GET", "a"], 1),
            // The flushing client's own null comes after its +OK; NOLOOP does not apply.
            s(0, &["FLUSHDB"], 2),
            s(2, &[], 1),
            s(1, &["FLUSHALL"], 1),
            s(0, &[], 1),
            s(2, &[], 1),
            s(2, &["FLUSHDB", "ASYNC"], 2),
            s(0, &[], 1),
            // A flush of another database too: tracking is not per database.
            s(1, &["SELECT", "5"], 1),
            s(1, &["FLUSHDB", "SYNC"], 1),
            s(0, &[], 1),
            s(2, &[], 1),
            s(0, &["MULTI"], 1),
            s(0, &["FLUSHALL"], 1),
            s(0, &["PING"], 1),
            s(0, &["EXEC"], 2),
            s(2, &[], 1),
            // A syntax error flushes nothing.
            s(1, &["FLUSHALL", "NOW"], 1),
        ],
    );
}

#[test]
fn resp2_redirect_to_a_subscribed_client() {
    // Client 0 tracks in RESP2 and redirects to client 1 (RESP2, subscribed), then to
    // client 2 (RESP2, not subscribed: nothing arrives), then to client 3 (RESP3).
    differential(
        "redirect",
        &[],
        &[2, 2, 2, 3, 2],
        &[
            s(1, &["SUBSCRIBE", "__redis__:invalidate"], 1),
            s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "$ID1"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            ids(0, &["CLIENT", "GETREDIR"], 1),
            s(0, &["GET", "k"], 1),
            s(4, &["SET", "k", "1"], 1),
            s(1, &[], 1),
            // Its own writes too (no NOLOOP), and a null for a flush in its protocol.
            s(0, &["GET", "k"], 1),
            s(0, &["SET", "k", "2"], 1),
            s(1, &[], 1),
            s(0, &["GET", "k"], 1),
            s(4, &["FLUSHALL"], 1),
            s(1, &[], 1),
            hello(0, &["HELLO", "3"], 1),
            s(0, &["GET", "k"], 1),
            s(4, &["FLUSHALL"], 1),
            s(1, &[], 1),
            hello(0, &["HELLO", "2"], 1),
            // Any subscription will do, a shard channel included.
            s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "$ID2"], 1),
            s(0, &["GET", "k"], 1),
            s(4, &["SET", "k", "3"], 1),
            s(2, &["SSUBSCRIBE", "x"], 1),
            s(0, &["GET", "k"], 1),
            s(4, &["SET", "k", "4"], 1),
            s(2, &[], 1),
            s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "$ID3"], 1),
            s(0, &["GET", "k"], 1),
            s(4, &["SET", "k", "5"], 1),
            s(3, &[], 1),
            s(0, &["GET", "k"], 1),
            s(4, &["FLUSHDB"], 1),
            s(3, &[], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            // Broadcasting through a redirect.
            s(0, &["CLIENT", "TRACKING", "off"], 1),
            s(
                0,
                &[
                    "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "REDIRECT", "$ID1",
                ],
                1,
            ),
            s(4, &["MSET", "b2", "x", "a", "y", "b1", "z"], 1),
            s(1, &[], 1),
        ],
    );
}

#[test]
fn a_redirect_target_that_goes_away_breaks_the_redirect() {
    differential(
        "broken",
        &[],
        &[2, 2, 2, 2],
        &[
            s(1, &["SUBSCRIBE", "__redis__:invalidate"], 1),
            hello(0, &["HELLO", "3"], 1),
            s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "$ID1"], 1),
            s(0, &["GET", "k"], 1),
            s(3, &["CLIENT", "KILL", "ID", "$ID1"], 1),
            // The first delivery finds the target gone: the client (RESP3) is told, after the
            // reply of its own command.
            ids(0, &["SET", "k", "1"], 2),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            ids(0, &["CLIENT", "GETREDIR"], 1),
            s(0, &["GET", "k"], 1),
            s(3, &["SET", "k", "2"], 1),
            ids(0, &[], 1),
            s(0, &["GET", "k"], 1),
            s(3, &["FLUSHALL"], 1),
            ids(0, &[], 1),
            // In RESP2 it is told nothing; the flag stays until tracking is turned on again.
            hello(0, &["HELLO", "2"], 1),
            s(0, &["GET", "k"], 1),
            s(3, &["SET", "k", "3"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "$ID2"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            s(2, &["SUBSCRIBE", "c"], 1),
            s(0, &["GET", "k"], 1),
            s(3, &["SET", "k", "4"], 1),
            s(2, &[], 1),
            // REDIRECT to a client that no longer exists is refused.
            s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "$ID1"], 1),
        ],
    );
}

#[test]
fn bcast_prefixes_and_noloop() {
    differential(
        "bcast",
        &[],
        &[3, 2, 3],
        &[
            s(
                0,
                &[
                    "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:",
                ],
                1,
            ),
            s(1, &["SET", "user:1", "x"], 1),
            s(0, &[], 1),
            // Keys modified in one loop turn arrive together, one message per prefix, prefixes
            // and keys in byte order, each key once.
            pipe(
                1,
                &[
                    &["SET", "user:2", "x"],
                    &["SET", "obj:1", "y"],
                    &["SET", "user:1", "z"],
                    &["SET", "other", "q"],
                    &["DEL", "user:2"],
                ],
                5,
            ),
            s(0, &[], 2),
            // Its own changes too, after the replies of the turn.
            pipe(0, &[&["SET", "user:9", "x"], &["SET", "user:8", "x"]], 3),
            s(0, &["MSET", "user:7", "1", "obj:3", "2", "user:6", "3"], 3),
            // Reads remember nothing in BCAST mode.
            s(0, &["GET", "user:1"], 1),
            // ON again adds the empty prefix and NOLOOP.
            s(0, &["CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            s(0, &["SET", "user:5", "1"], 1),
            pipe(0, &[&["SET", "user:4", "x"], &["SET", "zzz", "x"]], 2),
            s(1, &["SET", "user:5", "2"], 1),
            s(0, &[], 2),
            pipe(1, &[&["SET", "user:4", "x"], &["SET", "zzz", "x"]], 2),
            s(0, &[], 2),
            // A second broadcasting client with an overlapping prefix.
            s(2, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "us"], 1),
            s(1, &["INCR", "user:0"], 1),
            s(0, &[], 2),
            s(2, &[], 1),
            // Expiry and other databases count; SWAPDB does not.
            s(1, &["SELECT", "2"], 1),
            s(1, &["SET", "usb", "1"], 1),
            s(2, &[], 1),
            s(0, &[], 1),
            s(1, &["SWAPDB", "0", "2"], 1),
            s(
                1,
                &[
                    "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b",
                ],
                1,
            ),
            s(1, &["SET", "a1", "x"], 1),
            s(1, &["SET", "c1", "x"], 1),
            s(0, &[], 1),
            s(1, &["CLIENT", "TRACKING", "off"], 1),
            s(0, &["CLIENT", "TRACKING", "off"], 1),
            s(0, &["SET", "user:1", "x"], 1),
            s(2, &[], 1),
        ],
    );
}

#[test]
fn optin_optout_and_client_caching() {
    differential(
        "optin",
        &[],
        &[3, 2],
        &[
            s(0, &["CLIENT", "TRACKING", "on", "OPTIN"], 1),
            s(0, &["GET", "k1"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["GET", "k2"], 1),
            s(0, &["GET", "k3"], 1),
            // Another CLIENT subcommand keeps the flag (Redis compares the handler, which they
            // all share); any other command spends it.
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            ids(0, &["CLIENT", "ID"], 1),
            s(0, &["GET", "k4"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["PING"], 1),
            s(0, &["GET", "k5"], 1),
            // A whole transaction, also when CACHING is queued inside it.
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["MULTI"], 1),
            s(0, &["GET", "k6"], 1),
            s(0, &["GET", "k7"], 1),
            s(0, &["EXEC"], 1),
            s(0, &["GET", "k8"], 1),
            s(0, &["MULTI"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["GET", "k9"], 1),
            s(0, &["EXEC"], 1),
            // Refused commands spend it too: unknown, arity, unknown subcommand; a CLIENT
            // subcommand refused for its arity does not.
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["GETX", "k10"], 1),
            s(0, &["GET", "k10"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["GET"], 1),
            s(0, &["GET", "k11"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["CLIENT", "FOO"], 1),
            s(0, &["GET", "k12"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["CLIENT"], 1),
            s(0, &["GET", "k13"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["CLIENT", "TRACKING"], 1),
            s(0, &["GET", "k14"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            s(0, &["MULTI"], 1),
            s(0, &["DISCARD"], 1),
            s(0, &["GET", "k15"], 1),
            s(0, &["CLIENT", "CACHING", "yes"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            // ON again keeps the flag.
            s(0, &["CLIENT", "TRACKING", "on", "OPTIN"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            s(0, &["GET", "k16"], 1),
            s(1, &["INFO", "keyspace"], 1),
            pipe(
                1,
                &[
                    &[
                        "MSET", "k1", "v", "k2", "v", "k3", "v", "k4", "v", "k5", "v", "k6", "v",
                    ],
                    &[
                        "MSET", "k7", "v", "k8", "v", "k9", "v", "k10", "v", "k11", "v",
                    ],
                    &[
                        "MSET", "k12", "v", "k13", "v", "k14", "v", "k15", "v", "k16", "v",
                    ],
                ],
                3,
            ),
            // k2 k4 k6 k7 k9 k14 k16, one message each, in the order MSET wrote them.
            s(0, &[], 7),
            s(0, &["CLIENT", "TRACKING", "off"], 1),
            s(0, &["CLIENT", "TRACKING", "on", "OPTOUT"], 1),
            s(0, &["GET", "o1"], 1),
            s(0, &["CLIENT", "CACHING", "no"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            s(0, &["GET", "o2"], 1),
            s(0, &["GET", "o3"], 1),
            s(1, &["MSET", "o1", "v", "o2", "v", "o3", "v"], 1),
            s(0, &[], 2),
        ],
    );
}

#[test]
fn noloop_skips_the_clients_own_changes() {
    differential(
        "noloop",
        &[],
        &[3, 2],
        &[
            s(0, &["CLIENT", "TRACKING", "on", "NOLOOP"], 1),
            s(0, &["GET", "n1"], 1),
            s(0, &["SET", "n1", "1"], 1),
            s(0, &["GET", "n1"], 1),
            s(1, &["SET", "n1", "2"], 1),
            s(0, &[], 1),
            s(0, &["GET", "n1"], 1),
            s(0, &["MULTI"], 1),
            s(0, &["DEL", "n1"], 1),
            s(0, &["EXEC"], 1),
            s(0, &["GET", "n1"], 1),
            // A flush is not a change of one key: NOLOOP does not apply.
            s(0, &["FLUSHALL"], 2),
        ],
    );
}

#[test]
fn tracked_keys_that_expire_are_invalidated() {
    differential(
        "expiry",
        &[],
        &[3, 2, 3, 3],
        &[
            s(0, &["CLIENT", "TRACKING", "on"], 1),
            s(2, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "e"], 1),
            s(3, &["CLIENT", "TRACKING", "on", "NOLOOP"], 1),
            // Active expiry: the message comes on its own, to a NOLOOP client too (the
            // server deleted the key, not the client).
            s(1, &["SET", "e1", "v", "PX", "100"], 1),
            s(0, &["GET", "e1"], 1),
            s(3, &["GET", "e1"], 1),
            s(0, &[], 1),
            s(3, &[], 1),
            // The broadcasting client heard of the SET, then of the expiry.
            s(2, &[], 2),
            // A key whose TTL is changed, then removed: both are changes.
            s(1, &["SET", "e2", "v"], 1),
            s(2, &[], 1),
            s(0, &["GET", "e2"], 1),
            s(1, &["EXPIRE", "e2", "100"], 1),
            s(0, &[], 1),
            s(2, &[], 1),
            s(0, &["TTL", "e2"], 1),
            s(1, &["PERSIST", "e2"], 1),
            s(0, &[], 1),
            s(2, &[], 1),
            s(0, &["PTTL", "e2"], 1),
            s(1, &["PEXPIRE", "e2", "-1"], 1),
            s(0, &[], 1),
            s(2, &[], 1),
        ],
    );
}

/// Reads from `c` until `n` replies have come.
fn read_n(c: &mut Raw, n: usize) -> Vec<Reply> {
    (0..n).map(|_| c.read_reply()).collect()
}

#[test]
fn a_key_found_expired_by_the_clients_own_read_is_invalidated_after_the_reply() {
    // The expiry of a key found by a read is a change like any other, made while the
    // client's own command runs: its message follows the reply, and the read tracks the key
    // again. Whether a read or the periodic expiry finds the key first is a matter of timing
    // (and ringkv reads its clock once per loop turn, so a pipeline cannot see a key expire
    // half way, as Redis can): each server is tried until a read finds it.
    for server in [
        Server::start(&["--hz", "1"]),
        Server::start_redis(&["--hz", "1"]),
    ] {
        let mut lazy_seen = false;
        for attempt in 0..20 {
            let mut c = server.raw();
            c.cmd_str(&["HELLO", "3"]);
            c.cmd_str(&["CLIENT", "TRACKING", "on"]);
            let key = format!("lazy{attempt}");
            c.cmd_str(&["SET", &key, "v", "PX", "40"]);
            assert_eq!(c.cmd_str(&["GET", &key]), Reply::bulk(b"v"));
            std::thread::sleep(Duration::from_millis(80));
            c.send(&encode(&[b"GET", key.as_bytes()]));
            let got = read_n(&mut c, 2);
            let invalidation = Reply::Push(vec![
                Reply::bulk(b"invalidate"),
                Reply::Array(Some(vec![Reply::bulk(key.as_bytes())])),
            ]);
            if got == vec![invalidation.clone(), Reply::Null] {
                // The periodic expiry came first: try again.
                continue;
            }
            assert_eq!(got, vec![Reply::Null, invalidation], "{}", server.bin);
            // Tracked again by that read.
            assert_eq!(c.cmd_str(&["SET", &key, "w"]), Reply::ok());
            assert!(matches!(c.read_reply(), Reply::Push(_)), "{}", server.bin);
            lazy_seen = true;
            break;
        }
        assert!(
            lazy_seen,
            "{}: no read ever found the key expired",
            server.bin
        );
    }
}

#[test]
fn served_blocked_clients_get_their_reply_and_invalidations() {
    differential(
        "blocked",
        &[],
        &[3, 2, 3],
        &[
            s(0, &["CLIENT", "TRACKING", "on"], 1),
            s(2, &["CLIENT", "TRACKING", "on"], 1),
            s(0, &["LRANGE", "dst", "0", "-1"], 1),
            s(0, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"], 0),
            s(1, &["LPUSH", "src", "x"], 1),
            s(0, &[], 2),
            s(0, &["LRANGE", "src", "0", "-1"], 1),
            s(0, &["BLPOP", "src", "0"], 0),
            s(1, &["LPUSH", "src", "y"], 1),
            s(0, &[], 2),
            s(0, &["LRANGE", "dst", "0", "-1"], 1),
            s(2, &["LRANGE", "dst", "0", "-1"], 1),
            s(0, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"], 0),
            s(1, &["LPUSH", "src", "z"], 1),
            s(0, &[], 2),
            s(2, &[], 1),
        ],
    );
}

#[test]
fn errors_and_reply_types_match_redis() {
    for proto in [2, 3] {
        differential(
            "errors",
            &[],
            &[proto, 2],
            &[
                s(0, &["CLIENT", "TRACKING"], 1),
                s(0, &["CLIENT", "TRACKING", "maybe"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "FOO"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "REDIRECT"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "PREFIX"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "abc"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "0"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "-1"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "REDIRECT", "99999"], 1),
                s(
                    0,
                    &[
                        "CLIENT", "TRACKING", "on", "REDIRECT", "$ID1", "REDIRECT", "x",
                    ],
                    1,
                ),
                s(0, &["CLIENT", "TRACKING", "off", "REDIRECT", "99999"], 1),
                s(
                    0,
                    &[
                        "CLIENT", "TRACKING", "off", "PREFIX", "x", "OPTIN", "OPTOUT",
                    ],
                    1,
                ),
                s(0, &["CLIENT", "TRACKING", "on", "PREFIX", "a"], 1),
                s(
                    0,
                    &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT", "PREFIX", "x"],
                    1,
                ),
                s(0, &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"], 1),
                s(
                    0,
                    &["CLIENT", "TRACKING", "on", "BCAST", "OPTIN", "OPTOUT"],
                    1,
                ),
                s(0, &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"], 1),
                s(
                    0,
                    &[
                        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab",
                    ],
                    1,
                ),
                s(
                    0,
                    &[
                        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a",
                    ],
                    1,
                ),
                // Redis answers the clash of two prefixes other than the first with the
                // error and then OK, with every prefix followed.
                s(
                    0,
                    &[
                        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "a",
                        "PREFIX", "ab",
                    ],
                    2,
                ),
                ids(0, &["CLIENT", "TRACKINGINFO"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "xy"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"], 1),
                s(
                    0,
                    &[
                        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "", "PREFIX", "q",
                    ],
                    1,
                ),
                s(
                    0,
                    &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "q\r\nr"],
                    1,
                ),
                s(
                    0,
                    &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "q\r\nrs"],
                    1,
                ),
                s(0, &["CLIENT", "TRACKING", "on"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "OPTIN"], 1),
                s(0, &["CLIENT", "TRACKING", "off"], 1),
                s(0, &["CLIENT", "TRACKING", "ON", "optin", "noloop"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "OPTOUT"], 1),
                s(0, &["CLIENT", "TRACKING", "on", "BCAST"], 1),
                s(0, &["CLIENT", "CACHING", "no"], 1),
                s(0, &["CLIENT", "CACHING", "maybe"], 1),
                s(0, &["CLIENT", "CACHING"], 1),
                s(0, &["CLIENT", "CACHING", "yes", "no"], 1),
                s(0, &["CLIENT", "TRACKING", "off"], 1),
                s(0, &["CLIENT", "CACHING", "yes"], 1),
                s(0, &["CLIENT", "TRACKING", "on"], 1),
                s(0, &["CLIENT", "CACHING", "yes"], 1),
                s(0, &["CLIENT", "CACHING", "no"], 1),
                s(0, &["CLIENT", "TRACKING", "off"], 1),
                s(0, &["CLIENT", "GETREDIR", "x"], 1),
                s(0, &["CLIENT", "TRACKINGINFO", "x"], 1),
                ids(0, &["CLIENT", "TRACKINGINFO"], 1),
                s(0, &["CLIENT", "GETREDIR"], 1),
                s(0, &["CONFIG", "SET", "tracking-table-max-keys", "-1"], 1),
                s(0, &["CONFIG", "SET", "tracking-table-max-keys", "abc"], 1),
                s(
                    0,
                    &[
                        "CONFIG",
                        "SET",
                        "tracking-table-max-keys",
                        "9223372036854775808",
                    ],
                    1,
                ),
                s(
                    0,
                    &[
                        "CONFIG",
                        "SET",
                        "tracking-table-max-keys",
                        "9223372036854775807",
                    ],
                    1,
                ),
                s(0, &["CONFIG", "GET", "tracking-table-max-keys"], 1),
                s(0, &["CONFIG", "SET", "tracking-table-max-keys", "0"], 1),
                s(0, &["CONFIG", "GET", "tracking*"], 1),
            ],
        );
    }
}

/// The value of `field` in an INFO reply.
fn info_field(reply: &Reply, field: &str) -> String {
    let Reply::Bulk(Some(text)) = reply else {
        panic!("INFO: {reply:?}");
    };
    let text = String::from_utf8_lossy(text);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .to_string()
}

/// INFO's tracking fields.
fn tracking_info(c: &mut Raw) -> Vec<String> {
    let clients = c.cmd_str(&["INFO", "clients"]);
    let stats = c.cmd_str(&["INFO", "stats"]);
    let mut v = vec![info_field(&clients, "tracking_clients")];
    for f in [
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
    ] {
        v.push(info_field(&stats, f));
    }
    v
}

/// The flags= and redir= fields of client `id`'s CLIENT LIST line.
fn list_fields(c: &mut Raw, id: u64, ids: &[u64]) -> String {
    let reply = c.cmd_str(&["CLIENT", "LIST", "ID", &id.to_string()]);
    let Reply::Bulk(Some(text)) = reply else {
        panic!("CLIENT LIST: {reply:?}");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    let mut out = Vec::new();
    for part in text.split_whitespace() {
        if let Some(f) = part.strip_prefix("flags=") {
            out.push(format!("flags={f}"));
        }
        if let Some(r) = part.strip_prefix("redir=") {
            let shown = match ids.iter().position(|i| i.to_string() == r) {
                Some(n) => format!("ID{n}"),
                None => r.to_string(),
            };
            out.push(format!("redir={shown}"));
        }
    }
    out.join(" ")
}

/// One server's view of a scenario with several tracking clients coming and going: INFO's
/// tracking fields and CLIENT LIST's flags and redirect after each step.
fn counts_scenario(port: u16) -> Vec<String> {
    let mut c: Vec<Raw> = (0..5).map(|_| Raw::connect(port)).collect();
    let ids: Vec<u64> = c
        .iter_mut()
        .map(|r| match r.cmd_str(&["CLIENT", "ID"]) {
            Reply::Int(i) => i as u64,
            other => panic!("CLIENT ID: {other:?}"),
        })
        .collect();
    let mut seen = Vec::new();
    let mut look = |c: &mut Vec<Raw>, what: &str| {
        let info = tracking_info(&mut c[4]);
        let lists: Vec<String> = (0..3)
            .map(|n| list_fields(&mut c[4], ids[n], &ids))
            .collect();
        seen.push(format!("{what}: {info:?} {lists:?}"));
    };
    look(&mut c, "start");
    assert_eq!(c[0].cmd_str(&["CLIENT", "TRACKING", "on"]), Reply::ok());
    c[0].cmd_str(&["MGET", "a", "b", "c"]);
    look(&mut c, "one client, three keys");
    c[1].cmd_str(&["HELLO", "3"]);
    c[1].cmd_str(&["CLIENT", "TRACKING", "on", "REDIRECT", &ids[2].to_string()]);
    c[1].cmd_str(&["MGET", "b", "c", "d"]);
    look(&mut c, "two clients");
    c[2].cmd_str(&[
        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b",
    ]);
    look(&mut c, "a broadcasting client");
    // Client 1's redirect target goes away: seen on the next delivery.
    drop(c.remove(2));
    c.insert(2, Raw::connect(port));
    let deadline = Instant::now() + Duration::from_secs(5);
    while info_field(&c[4].cmd_str(&["INFO", "clients"]), "connected_clients") != "5" {
        assert!(Instant::now() < deadline, "the closed client stayed");
        std::thread::sleep(Duration::from_millis(10));
    }
    look(&mut c, "the broadcasting client closed");
    c[3].cmd_str(&["SET", "d", "x"]);
    // Client 1 (RESP3) is told its redirect broke.
    assert!(matches!(c[1].read_reply(), Reply::Push(_)));
    look(&mut c, "redirect broken");
    // Client 0 stops tracking: its ids stay in the table until their keys change.
    c[0].cmd_str(&["CLIENT", "TRACKING", "off"]);
    look(&mut c, "client 0 off");
    c[3].cmd_str(&["SET", "a", "x"]);
    look(&mut c, "a changed");
    c[1].cmd_str(&["RESET"]);
    look(&mut c, "client 1 reset");
    c[3].cmd_str(&["FLUSHALL"]);
    look(&mut c, "flushed");
    seen
}

#[test]
fn info_counts_and_client_list_fields_match_redis() {
    let ours = Server::start(&[]);
    let redis = Server::start_redis(&[]);
    let a = counts_scenario(ours.port);
    let b = counts_scenario(redis.port);
    assert_eq!(a, b);
}

#[test]
fn the_table_limit_invalidates_random_keys() {
    differential(
        "limit",
        &[],
        &[3, 2],
        &[
            s(0, &["CONFIG", "SET", "tracking-table-max-keys", "2"], 1),
            s(0, &["CLIENT", "TRACKING", "on"], 1),
            s(0, &["MGET", "a", "b"], 1),
            // Three keys: one is dropped, told like a change, right after the reply.
            any_key(0, &["GET", "c"], 2),
            any_key(0, &["MGET", "d", "e"], 3),
            s(0, &["CONFIG", "SET", "tracking-table-max-keys", "0"], 1),
            s(0, &["MGET", "f", "g", "h", "i"], 1),
            // Lowered below the table: dropped until it fits.
            any_key(1, &["CONFIG", "SET", "tracking-table-max-keys", "1"], 1),
            any_key(0, &[], 5),
            // Back within the limit: reads add no more messages.
            s(0, &["GET", "j"], 1),
            any_key(0, &[], 1),
        ],
    );
    // Which keys went is random; that they were the tracked ones is checked here.
    let ours = Server::start(&[]);
    let mut c = ours.raw();
    c.cmd_str(&["CONFIG", "SET", "tracking-table-max-keys", "1"]);
    c.cmd_str(&["HELLO", "3"]);
    c.cmd_str(&["CLIENT", "TRACKING", "on"]);
    c.cmd_str(&["GET", "a"]);
    c.cmd_str(&["GET", "b"]);
    match c.read_reply() {
        Reply::Push(v) => {
            let key = &v[1];
            assert!(
                *key == Reply::Array(Some(vec![Reply::bulk(b"a")]))
                    || *key == Reply::Array(Some(vec![Reply::bulk(b"b")])),
                "{v:?}"
            );
        }
        other => panic!("expected an invalidation, got {other:?}"),
    }
    assert_eq!(tracking_info(&mut ours.raw())[1], "1");
}

/// Starts `bin` with a config file first (the place both servers read it from), then
/// `--port N`; killed when dropped.
struct Started(std::process::Child, u16);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_with_config(bin: &str, conf_text: &str, name: &str) -> Started {
    let dir = std::env::temp_dir().join(format!("ringkv-tracking-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let conf = dir.join("server.conf");
    std::fs::write(&conf, conf_text).expect("write config");
    let port = common::free_port();
    let child = std::process::Command::new(bin)
        .arg(&conf)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
    let started = Started(child, port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{bin} did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    started
}

#[test]
fn the_table_limit_is_read_from_the_config_file() {
    let conf = "tracking-table-max-keys 7\n";
    let ours = start_with_config(&common::ringkv_bin(), conf, "ours");
    let redis = start_with_config(&common::redis_bin(), conf, "redis");
    let get =
        |port: u16| Raw::connect(port).cmd_exact(&["CONFIG", "GET", "tracking-table-max-keys"]);
    assert_eq!(escape(&get(ours.1)), escape(&get(redis.1)));
    assert_eq!(
        get(ours.1),
        b"*2\r\n$23\r\ntracking-table-max-keys\r\n$1\r\n7\r\n"
    );
    let bad = "tracking-table-max-keys -1\n";
    let out = std::process::Command::new(common::ringkv_bin())
        .arg({
            let dir =
                std::env::temp_dir().join(format!("ringkv-tracking-bad-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("dir");
            let p = dir.join("bad.conf");
            std::fs::write(&p, bad).expect("write");
            p
        })
        .output()
        .expect("run");
    assert!(!out.status.success(), "a negative limit was accepted");
    // And as a command-line flag.
    let ours = Server::start(&["--tracking-table-max-keys", "5"]);
    let redis = Server::start_redis(&["--tracking-table-max-keys", "5"]);
    assert_eq!(escape(&get(ours.port)), escape(&get(redis.port)));
}

#[test]
fn reset_and_close_end_tracking_and_hello_changes_the_framing() {
    differential(
        "reset",
        &[],
        &[3, 2, 3],
        &[
            s(0, &["CLIENT", "TRACKING", "on", "BCAST"], 1),
            s(0, &["RESET"], 1),
            ids(0, &["CLIENT", "TRACKINGINFO"], 1),
            s(1, &["SET", "k", "1"], 1),
            // HELLO 2 silences invalidations on the connection itself; HELLO 3 brings them back.
            s(2, &["CLIENT", "TRACKING", "on"], 1),
            s(2, &["GET", "h"], 1),
            hello(2, &["HELLO", "2"], 1),
            s(1, &["SET", "h", "1"], 1),
            s(2, &["GET", "h"], 1),
            hello(2, &["HELLO", "3"], 1),
            s(1, &["SET", "h", "2"], 1),
            s(2, &[], 1),
            ids(2, &["CLIENT", "TRACKINGINFO"], 1),
        ],
    );
}

#[test]
fn geo_reads_track_and_geo_writes_invalidate() {
    // GEOPOS, GEOHASH, GEODIST, GEOSEARCH and the _RO forms are read-only and track their
    // key; GEORADIUS and GEORADIUSBYMEMBER are write commands (STORE), so Redis does not
    // track what they read. GEOADD invalidates its key, the STORE forms their destination.
    differential(
        "geo",
        &[],
        &[3, 2],
        &[
            s(0, &["CLIENT", "TRACKING", "on"], 1),
            s(0, &["GEOPOS", "g", "a"], 1),
            s(1, &["GEOADD", "g", "1", "1", "a"], 1),
            s(0, &[], 1),
            s(
                0,
                &[
                    "GEOSEARCH",
                    "g",
                    "FROMLONLAT",
                    "1",
                    "1",
                    "BYRADIUS",
                    "10",
                    "km",
                ],
                1,
            ),
            s(1, &["GEOADD", "g", "1", "1", "a"], 1),
            s(1, &["GEOADD", "g", "2", "2", "b"], 1),
            s(0, &[], 1),
            s(0, &["GEODIST", "g", "a", "b"], 1),
            s(0, &["GEOHASH", "d", "a"], 1),
            s(
                1,
                &[
                    "GEOSEARCHSTORE",
                    "d",
                    "g",
                    "FROMLONLAT",
                    "1",
                    "1",
                    "BYRADIUS",
                    "500",
                    "km",
                ],
                1,
            ),
            s(0, &[], 1),
            s(0, &["GEORADIUS_RO", "d", "1", "1", "10", "km"], 1),
            s(
                1,
                &["GEORADIUS", "g", "1", "1", "10", "km", "STORE", "d"],
                1,
            ),
            s(0, &[], 1),
            s(0, &["GEORADIUSBYMEMBER_RO", "d", "a", "10", "km"], 1),
            s(
                1,
                &["GEORADIUSBYMEMBER", "g", "a", "10", "km", "STOREDIST", "d"],
                1,
            ),
            s(0, &[], 1),
            s(1, &["GEOADD", "g", "CH", "3", "3", "b"], 1),
            s(0, &[], 1),
            // Read by a write command only: no invalidation follows the next change.
            s(0, &["GEORADIUS", "g", "1", "1", "10", "km"], 1),
            s(1, &["GEOADD", "g", "CH", "4", "4", "b"], 1),
        ],
    );
}
