//! Keyspace events of every command family, compared with redis-server 7.0.15: each scenario
//! runs the same commands on ringkv ("ours") and on redis-server ("redis") and compares the
//! whole event stream a separate subscriber receives (channel and message of every pmessage,
//! in order) and every reply.
//!
//! How a run goes: a subscriber PSUBSCRIBEs `__key*__:*` and SUBSCRIBEs a marker channel;
//! another connection sets `notify-keyspace-events`, writes the whole command sequence at
//! once and reads the replies, then PUBLISHes to the marker. The subscriber reads until the
//! marker arrives, so no sleep is needed to know every event was delivered. Writing the
//! sequence at once also keeps both servers from running their cron (active expiry) between
//! its commands: keys are given a past deadline with `SET … PXAT 1` (which Redis 7.0 stores
//! as is) and the commands after it in the same sequence meet them expired, on both servers.
//!
//! Each family's sequence covers every command and option of the family that fires events,
//! and is run with `KEA` and with `KEAmn` (key misses and new keys too). Besides the
//! comparison, a scenario asserts that Redis's stream holds the events it is there to cover
//! (so that a sequence cannot silently stop testing them) and, for the key-miss and new-key
//! scenarios, how many there are.
//!
//! `self_subscribed_order` checks where a RESP3 client subscribed to its own events gets them
//! inside its reply stream, byte for byte: Redis 7.0 writes an event where it fires it,
//! before or after the command's reply (or inside it, for MGET and ZPOPMIN).
//!
//! Lines of a sequence: one command, arguments split on spaces (`''` is an empty argument);
//! a leading `~ ` marks a command whose reply is random (SPOP with a count, SRANDMEMBER…):
//! its reply is not compared, its events are.

mod common;

use common::{encode, Raw, Reply, Server};

/// The channel the subscriber waits on to know it has read every event.
const MARKER: &str = "notify-events-marker";

/// One command of a sequence.
struct Step {
    args: Vec<Vec<u8>>,
    /// False for a command with a random reply.
    compare_reply: bool,
}

fn parse(text: &str) -> Vec<Step> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (compare_reply, l) = match l.strip_prefix("~ ") {
                Some(rest) => (false, rest),
                None => (true, l),
            };
            let args = l
                .split(' ')
                .map(|w| {
                    if w == "''" {
                        Vec::new()
                    } else {
                        w.as_bytes().to_vec()
                    }
                })
                .collect();
            Step {
                args,
                compare_reply,
            }
        })
        .collect()
}

fn show(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A subscriber to every keyspace and keyevent channel, and to the marker.
struct Subscriber(Raw);

impl Subscriber {
    fn connect(port: u16) -> Subscriber {
        let mut sub = Raw::connect(port);
        sub.cmd_str(&["PSUBSCRIBE", "__key*__:*"]);
        sub.cmd_str(&["SUBSCRIBE", MARKER]);
        Subscriber(sub)
    }

    /// Reads events until the marker message, which `publisher` sends now.
    fn drain(&mut self, publisher: &mut Raw) -> Vec<String> {
        publisher.cmd_str(&["PUBLISH", MARKER, "end"]);
        let mut events = Vec::new();
        loop {
            let Reply::Array(Some(items)) = self.0.read_reply() else {
                panic!("the subscriber got something else than a message");
            };
            let words: Vec<String> = items
                .iter()
                .map(|r| match r {
                    Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
                    other => format!("{other:?}"),
                })
                .collect();
            match words.first().map(String::as_str) {
                Some("pmessage") if words.len() == 4 => {
                    events.push(format!("{} {}", words[2], words[3]));
                }
                Some("message") if words.get(1).map(String::as_str) == Some(MARKER) => {
                    return events;
                }
                _ => panic!("unexpected message {words:?}"),
            }
        }
    }
}

/// What one server did with a sequence.
struct Run {
    events: Vec<String>,
    replies: Vec<Reply>,
}

/// Runs `steps` with `notify-keyspace-events` set to `flags` on an emptied server.
fn run(port: u16, flags: &str, steps: &[Step]) -> Run {
    let mut c = Raw::connect(port);
    assert_eq!(c.cmd_str(&["FLUSHALL"]), Reply::ok());
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", flags]),
        Reply::ok()
    );
    let mut sub = Subscriber::connect(port);
    let cmds: Vec<Vec<Vec<u8>>> = steps.iter().map(|s| s.args.clone()).collect();
    let replies = c.pipeline(&cmds);
    let events = sub.drain(&mut c);
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", ""]),
        Reply::ok()
    );
    Run { events, replies }
}

/// The two servers of a scenario.
struct Twins {
    ours: Server,
    redis: Server,
}

impl Twins {
    fn start() -> Twins {
        Twins {
            ours: Server::start(&[]),
            redis: Server::start_redis(&[]),
        }
    }

    /// Runs `text` on both servers with each of `flag_sets`, compares events and replies,
    /// and returns Redis's events of the last run.
    fn compare(&self, what: &str, flag_sets: &[&str], text: &str) -> Vec<String> {
        let steps = parse(text);
        let mut last = Vec::new();
        for flags in flag_sets {
            let ours = run(self.ours.port, flags, &steps);
            let redis = run(self.redis.port, flags, &steps);
            for (i, s) in steps.iter().enumerate() {
                if s.compare_reply {
                    assert_eq!(
                        ours.replies[i],
                        redis.replies[i],
                        "{what} ({flags}): reply to `{}`",
                        show(&s.args)
                    );
                }
            }
            assert_events_eq(&ours.events, &redis.events, &format!("{what} ({flags})"));
            last = redis.events;
        }
        last
    }
}

/// Compares two event streams, showing where they part.
fn assert_events_eq(ours: &[String], redis: &[String], what: &str) {
    if ours == redis {
        return;
    }
    let at = ours
        .iter()
        .zip(redis)
        .position(|(a, b)| a != b)
        .unwrap_or(ours.len().min(redis.len()));
    let from = at.saturating_sub(6);
    panic!(
        "{what}: the event streams differ at event {at} (ours {} events, redis {})\n\
         ours : {:#?}\nredis: {:#?}",
        ours.len(),
        redis.len(),
        &ours[from..(at + 6).min(ours.len())],
        &redis[from..(at + 6).min(redis.len())],
    );
}

/// Asserts that `events` (Redis's) holds each of `names` as a keyevent channel.
fn assert_covers(events: &[String], names: &[&str], what: &str) {
    for name in names {
        let needle = format!("__:{name} ");
        assert!(
            events
                .iter()
                .any(|e| e.starts_with("__keyevent@") && e.contains(&needle)),
            "{what}: the sequence no longer fires `{name}` on redis-server"
        );
    }
}

/// How many `name` events (keyevent channel) `events` holds.
fn count(events: &[String], name: &str) -> usize {
    let needle = format!("__:{name} ");
    events
        .iter()
        .filter(|e| e.starts_with("__keyevent@") && e.contains(&needle))
        .count()
}

const FLAGS: &[&str] = &["KEA", "KEAmn"];

#[test]
fn strings_fire_as_redis() {
    let t = Twins::start();
    let events = t.compare(
        "strings",
        FLAGS,
        "
        SET s1 v
        SET s1 v2
        SET s1 v3 EX 100
        SET s1 v4 PX 100000
        SET s1 v5 EXAT 99999999999
        SET s1 v6 PXAT 99999999999999
        SET s1 v7 KEEPTTL
        SET s1 v8 NX
        SET s2 v NX
        SET s2 v XX
        SET s3 v XX
        SET s3 v GET
        SET s3 w GET
        SET s4 w NX GET
        SET s3 x NX GET
        SET s3 y XX GET EX 50
        SET s1 bad EX 0
        LPUSH lst a
        SET lst v GET
        SETNX s5 v
        SETNX s5 v
        SETEX s6 100 v
        SETEX s6 0 v
        PSETEX s7 100000 v
        GETSET s7 w
        GETSET s8 w
        GETSET lst w
        GETDEL s8
        GETDEL s8
        GETDEL lst
        GETEX s7
        GETEX s7 EX 100
        GETEX s7 PX 100000
        GETEX s7 EXAT 99999999999
        GETEX s7 PXAT 99999999999999
        GETEX s7 PERSIST
        GETEX s7 PERSIST
        GETEX s9 EX 100
        GETEX s7 EX abc
        GETEX lst
        GETEX s7 PXAT 1
        GETEX s7
        MGET s1 s2 nope s3 lst nope2
        MSET m1 a m2 b m1 c
        MSETNX m1 a m3 b
        MSETNX m3 a m4 b
        APPEND a1 hello
        APPEND a1 world
        APPEND lst x
        STRLEN a1
        STRLEN nope
        STRLEN lst
        GETRANGE a1 0 2
        GETRANGE nope 0 2
        SETRANGE r1 5 hi
        SETRANGE r1 0 yo
        SETRANGE r1 0 ''
        SETRANGE r2 0 ''
        SETRANGE lst 0 x
        INCR i1
        DECR i1
        INCRBY i1 10
        DECRBY i1 3
        INCR a1
        INCRBY i2 5
        DECR i3
        DECRBY i4 2
        INCRBYFLOAT f1 1.5
        INCRBYFLOAT f1 2
        INCRBYFLOAT a1 1
        LCS a1 nope
        LCS nope1 nope2
        LCS nope lst
        LCS a1 r1
        GET nope
        GET a1
        GET lst
        # Keys past their deadline: met by a read, overwritten, modified, set again.
        SET x1 v PXAT 1
        GET x1
        SET x2 v PXAT 1
        SET x2 again
        SET x3 v PXAT 1
        INCR x3
        SET x4 v PXAT 1
        MSET x4 a x5 b
        SET x6 v PXAT 1
        APPEND x6 tail
        SET x7 v PXAT 1
        SETRANGE x7 2 ab
        SET x8 v PXAT 1
        INCRBYFLOAT x8 1
        SET x9 v PXAT 1
        GETSET x9 new
        SET x10 v PXAT 1
        MGET x10 x10
        ",
    );
    assert_covers(
        &events,
        &[
            "set",
            "expire",
            "del",
            "persist",
            "append",
            "setrange",
            "incrby",
            "incrbyfloat",
            "expired",
            "keymiss",
            "new",
        ],
        "strings",
    );
}

#[test]
fn generic_and_expiry_commands_fire_as_redis() {
    let t = Twins::start();
    let events = t.compare(
        "keys and expire",
        FLAGS,
        "
        SET a 1
        SET b 2
        SET c 3
        LPUSH l x
        DEL a nope b a
        UNLINK c nope
        EXISTS a b l nope l
        TOUCH l nope l
        TYPE l
        TYPE nope
        SET k1 v
        RENAME k1 k2
        RENAME k2 k2
        RENAME nope k2
        SET k3 v
        RENAME k3 k2
        RENAMENX k2 k3
        SET k4 v
        RENAMENX k2 k4
        RENAMENX k2 k2
        SET t1 v EX 100
        RENAME t1 t2
        COPY t2 t3
        COPY t2 t3
        COPY t2 t3 REPLACE
        COPY nope t4
        COPY t2 t2
        COPY t2 t2 DB 1
        COPY t2 t5 DB 2
        MOVE t3 1
        MOVE t3 1
        MOVE nope 1
        MOVE t2 0
        SET t2 x
        MOVE t2 1
        OBJECT ENCODING l
        OBJECT ENCODING nope
        OBJECT FREQ nope
        EXPIRE l 100
        EXPIRE l 100 NX
        EXPIRE l 200 XX
        EXPIRE l 50 GT
        EXPIRE l 50 LT
        PEXPIRE l 100000
        EXPIREAT l 99999999999
        PEXPIREAT l 99999999999999
        EXPIRE nope 100
        TTL nope
        PTTL nope
        EXPIRETIME l
        PEXPIRETIME l
        EXPIRETIME nope
        PERSIST l
        PERSIST l
        PERSIST nope
        EXPIRE l 0
        SET e1 v
        EXPIRE e1 -5
        SET e2 v
        PEXPIREAT e2 1
        SET e3 v
        EXPIREAT e3 abc
        EXPIRE e3 100 FOO
        # Keys past their deadline.
        SET x1 v PXAT 1
        DEL k2 x1 k4
        SET x2 v PXAT 1
        EXISTS x2
        SET x3 v PXAT 1
        RENAME x3 x4
        SET x5 v
        SET x6 v PXAT 1
        RENAME x5 x6
        SET x7 v PXAT 1
        TTL x7
        SET x8 v PXAT 1
        EXPIRE x8 100
        SET x9 v PXAT 1
        COPY x6 x9
        # One key per database, so that SCAN and RANDOMKEY answer the same on both.
        SELECT 5
        SET a 1
        SET b 2 PXAT 1
        SCAN 0 MATCH a* COUNT 100
        SCAN 0 MATCH [ab] TYPE string COUNT 100
        SET c 3 PXAT 1
        SCAN 0 COUNT 100
        SELECT 6
        SET r 1 PXAT 1
        RANDOMKEY
        SET r 1
        RANDOMKEY
        ",
    );
    assert_covers(
        &events,
        &[
            "del",
            "rename_from",
            "rename_to",
            "copy_to",
            "move_from",
            "move_to",
            "expire",
            "persist",
            "expired",
            "keymiss",
            "new",
        ],
        "keys",
    );
}

#[test]
fn lists_fire_as_redis() {
    let t = Twins::start();
    let events = t.compare(
        "lists",
        FLAGS,
        "
        LPUSH l1 a b c
        RPUSH l1 d e
        LPUSHX l1 x
        RPUSHX l1 y
        LPUSHX nope x
        RPUSHX nope y
        SET str v
        LPUSH str a
        LPUSHX str a
        LPOP l1
        RPOP l1
        LPOP l1 2
        RPOP l1 0
        LPOP nope
        LPOP nope 2
        LPOP str
        LLEN l1
        LLEN nope
        LLEN str
        LINDEX l1 0
        LINDEX l1 100
        LINDEX nope 0
        LRANGE l1 0 -1
        LRANGE nope 0 -1
        LSET l1 0 z
        LSET l1 100 z
        LSET nope 0 z
        LINSERT l1 BEFORE z w
        LINSERT l1 AFTER nopivot w
        LINSERT nope AFTER z w
        LPOS l1 z
        LPOS nope z
        RPUSH l2 a b a c a
        LREM l2 2 a
        LREM l2 0 nomatch
        LREM nope 0 a
        LREM l2 0 a
        LREM l2 0 b
        LREM l2 0 c
        RPUSH l3 a b c d
        LTRIM l3 0 -1
        LTRIM l3 1 2
        LTRIM nope 0 1
        LTRIM l3 5 10
        RPUSH l4 a b
        LMOVE l4 l5 LEFT RIGHT
        LMOVE l4 l5 RIGHT LEFT
        LMOVE l4 l5 LEFT LEFT
        RPOPLPUSH l5 l6
        RPOPLPUSH l5 l5
        RPOPLPUSH l6 l6
        RPOPLPUSH nope l6
        LMOVE l5 str LEFT LEFT
        LMOVE str l5 LEFT LEFT
        RPUSH m1 a
        RPUSH m2 a b c
        LMPOP 3 nope m1 m2 LEFT
        LMPOP 2 nope m2 RIGHT COUNT 5
        LMPOP 2 nope nope2 LEFT
        LMPOP 2 str m2 LEFT
        # The blocking forms when they need not block (or answer at once: timeouts).
        RPUSH b1 x y
        BLPOP nope b1 0
        BRPOP b1 0
        RPUSH b2 x
        BLMOVE b2 b3 RIGHT LEFT 0
        BRPOPLPUSH b3 b4 0
        BLMPOP 0 2 nope b4 LEFT COUNT 3
        # Keys past their deadline.
        SET x1 v PXAT 1
        LPUSH x1 a
        SET x2 v PXAT 1
        LRANGE x2 0 -1
        SET x3 v PXAT 1
        RPOPLPUSH x1 x3
        ",
    );
    assert_covers(
        &events,
        &[
            "lpush", "rpush", "lpop", "rpop", "lset", "linsert", "lrem", "ltrim", "del", "expired",
            "keymiss", "new",
        ],
        "lists",
    );
}

#[test]
fn hashes_fire_as_redis() {
    let t = Twins::start();
    let events = t.compare(
        "hashes",
        FLAGS,
        "
        HSET h1 a 1 b 2
        HSET h1 a 1
        HSET h1 c 3
        HMSET h1 d 4
        HMSET h2 a 1
        HSET h1 a
        SET str v
        HSET str a 1
        HSETNX h1 a 9
        HSETNX h1 z 9
        HSETNX h3 a 1
        HSETNX str a 1
        HGET h1 a
        HGET h1 nofield
        HGET nope a
        HGET str a
        HMGET h1 a b x
        HMGET nope a b
        HLEN h1
        HLEN nope
        HSTRLEN h1 a
        HSTRLEN nope a
        HEXISTS h1 a
        HEXISTS nope a
        HKEYS nope
        HVALS nope
        HGETALL nope
        HGETALL h2
        HINCRBY h1 n 5
        HINCRBY h1 n -2
        HINCRBY h4 n 1
        HINCRBY h1 a x
        HINCRBY h1 b 9223372036854775807
        HINCRBY h1 b 9223372036854775807
        HINCRBY str a 1
        HINCRBYFLOAT h1 f 1.5
        HINCRBYFLOAT h5 f 2.5
        HINCRBYFLOAT h1 f inf
        HSET h1 s abc
        HINCRBYFLOAT h1 s 1
        HRANDFIELD nope
        HRANDFIELD nope 2
        HRANDFIELD h2
        HRANDFIELD h2 1 WITHVALUES
        HSCAN nope 0
        HSCAN h2 0
        HDEL h1 a nofield
        HDEL h1 nofield
        HDEL nope a
        HDEL str a
        HDEL h2 a
        HDEL h3 a z
        # Keys past their deadline.
        SET x1 v PXAT 1
        HSET x1 a 1
        SET x2 v PXAT 1
        HGET x2 a
        SET x3 v PXAT 1
        HINCRBY x3 a 1
        ",
    );
    assert_covers(
        &events,
        &[
            "hset",
            "hdel",
            "hincrby",
            "hincrbyfloat",
            "del",
            "expired",
            "keymiss",
            "new",
        ],
        "hashes",
    );
}

#[test]
fn sets_fire_as_redis() {
    let t = Twins::start();
    let events = t.compare(
        "sets",
        FLAGS,
        "
        SADD s1 a b c
        SADD s1 a
        SADD s1 d
        SET str v
        SADD str a
        SREM s1 x
        SREM s1 a
        SREM nope a
        SREM str a
        SADD s2 x
        SREM s2 x y
        SISMEMBER s1 b
        SISMEMBER nope b
        SMISMEMBER s1 b x
        SMISMEMBER nope b x
        SCARD s1
        SCARD nope
        SMEMBERS nope
        SADD s3 1
        SMEMBERS s3
        SADD m1 a b
        SMOVE m1 m2 a
        SMOVE m1 m2 x
        SMOVE m1 m2 b
        SMOVE m2 m2 a
        SMOVE m2 m2 x
        SMOVE nope m2 a
        SADD m3 a
        SMOVE m2 m3 a
        SMOVE m3 str a
        SADD p1 a
        SPOP p1
        SPOP p1
        SADD p2 1 2 3 4 5 6 7 8 9 10
        SPOP p2 0
        SPOP nope 0
        SPOP nope 2
        ~ SPOP p2 2
        ~ SPOP p2 100
        SADD r1 1
        SRANDMEMBER r1
        SRANDMEMBER nope
        SRANDMEMBER nope 3
        SRANDMEMBER r1 -3
        SADD i1 1 2 3
        SADD i2 2 3 4
        SINTER i1 i2
        SINTER i1 nope i2 nope2
        SINTER nope str
        SINTERCARD 2 i1 nope
        SINTERCARD 2 i1 i2 LIMIT 1
        SINTERSTORE d1 i1 i2
        SINTERSTORE d1 i1 i2
        SINTERSTORE d1 i1 nope
        SINTERSTORE d1 i1 nope
        SINTERSTORE d2 i1 i2
        SADD i3 9
        SINTERSTORE d2 i1 i3
        SINTERSTORE d2 i1 i3
        SUNION i1 nope i2
        SUNIONSTORE d3 i1 nope i2
        SUNIONSTORE d3 i1 i2
        SUNIONSTORE d3 nope nope2
        SUNIONSTORE d3 nope nope2
        SDIFF i1 i2 nope
        SDIFFSTORE d4 i1 i2
        SDIFFSTORE d4 i1 i1
        SDIFFSTORE d4 nope i1
        SDIFFSTORE str i1 i2
        SSCAN nope 0
        SSCAN i1 0
        # Keys past their deadline.
        SET x1 v PXAT 1
        SADD x1 a
        SET x2 v PXAT 1
        SINTER i1 x2
        SET x3 v PXAT 1
        SMOVE i1 x3 1
        ",
    );
    assert_covers(
        &events,
        &[
            "sadd",
            "srem",
            "spop",
            "sinterstore",
            "sunionstore",
            "sdiffstore",
            "del",
            "expired",
            "keymiss",
            "new",
        ],
        "sets",
    );
}

#[test]
fn sorted_sets_fire_as_redis() {
    let t = Twins::start();
    let events = t.compare(
        "sorted sets",
        FLAGS,
        "
        ZADD z1 1 a 2 b
        ZADD z1 1 a
        ZADD z1 3 a
        ZADD z1 NX 5 a 6 c
        ZADD z1 XX 7 a 8 d
        ZADD z1 XX CH 7 a
        ZADD z1 GT 1 a
        ZADD z1 LT 1 a
        ZADD z1 INCR 2 a
        ZADD z1 NX INCR 2 a
        ZADD nz XX 1 a
        ZADD z2 INCR 5 x
        ZINCRBY z1 1 b
        ZINCRBY z3 1 b
        ZADD z4 inf x
        ZINCRBY z4 -inf x
        SET str v
        ZADD str 1 a
        ZADD z1 x a
        ZREM z1 nope
        ZREM z1 a
        ZREM nope a
        ZREM z3 b
        ZCARD z1
        ZCARD nope
        ZSCORE nope a
        ZMSCORE nope a b
        ZRANK nope a
        ZREVRANK z1 b
        ZCOUNT nope 0 1
        ZLEXCOUNT nope - +
        ZRANGE nope 0 -1
        ZRANGE z1 0 -1 WITHSCORES
        ZRANGEBYSCORE nope 0 1
        ZREVRANGEBYLEX nope + -
        ZRANGESTORE d1 z1 0 -1
        ZRANGESTORE d1 z1 0 0
        ZRANGESTORE d1 nope 0 -1
        ZRANGESTORE d1 nope 0 -1
        ZRANGESTORE d2 z1 5 10
        ZRANGESTORE d2 str 0 -1
        ZADD r1 1 a 2 b 3 c 4 d
        ZREMRANGEBYRANK r1 0 0
        ZREMRANGEBYRANK r1 10 20
        ZREMRANGEBYSCORE r1 2 2
        ZREMRANGEBYLEX r1 - +
        ZREMRANGEBYLEX nope - +
        ZADD lx 0 a 0 b
        ZREMRANGEBYLEX lx [a [a
        ZADD p1 1 a 2 b 3 c
        ZPOPMIN p1
        ZPOPMAX p1 0
        ZPOPMAX p1 5
        ZPOPMIN nope
        ZPOPMIN nope 2
        ZADD p2 1 a 2 b
        ZMPOP 2 nope p2 MIN
        ZMPOP 2 nope p2 MAX COUNT 10
        ZMPOP 1 nope MIN
        ZADD q1 1 a
        ZRANDMEMBER q1
        ZRANDMEMBER nope
        ZRANDMEMBER nope 2
        ZADD u1 1 a 2 b
        ZADD u2 2 b 3 c
        ZUNION 3 u1 nope u2
        ZINTER 2 u1 nope
        ZDIFF 2 u1 u2
        ZINTERCARD 2 u1 nope
        ZUNION 3 nope str u1
        ZUNIONSTORE s1 2 u1 u2
        ZUNIONSTORE s1 2 u1 u2
        ZINTERSTORE s2 2 u1 u2
        ZINTERSTORE s2 2 u1 nope
        ZINTERSTORE s2 2 u1 nope
        ZDIFFSTORE s3 2 u1 u2
        ZDIFFSTORE s3 2 u1 u1
        ZUNIONSTORE s4 2 nope nope2
        ZUNIONSTORE str 1 u1
        ZINTERSTORE s5 2 nope str
        ZSCAN nope 0
        ZSCAN u1 0
        # The blocking forms when they need not block.
        ZADD bz 1 a 2 b 3 c
        BZPOPMIN nope bz 0
        BZPOPMAX bz 0
        BZMPOP 0 2 nope bz MIN COUNT 5
        # Keys past their deadline.
        SET x1 v PXAT 1
        ZADD x1 1 a
        SET x2 v PXAT 1
        ZSCORE x2 a
        SET x3 v PXAT 1
        ZUNIONSTORE x3 2 u1 x2
        ",
    );
    assert_covers(
        &events,
        &[
            "zadd",
            "zincr",
            "zrem",
            "zrangestore",
            "zremrangebyrank",
            "zremrangebyscore",
            "zremrangebylex",
            "zpopmin",
            "zpopmax",
            "zunionstore",
            "zinterstore",
            "zdiffstore",
            "del",
            "expired",
            "keymiss",
            "new",
        ],
        "sorted sets",
    );
}

/// Sends a command without reading its reply.
fn send(c: &mut Raw, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&encode(&args));
}

/// Blocked clients served by another client's push: the served pop's events come after the
/// pushing command's, in the served client's database, as Redis's `handleClientsBlockedOnKeys`
/// fires them (BLMOVE's destination gets `new` and its push first).
fn served_blocking(port: u16, flags: &str) -> Run {
    let mut a = Raw::connect(port);
    assert_eq!(a.cmd_str(&["FLUSHALL"]), Reply::ok());
    a.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", flags]);
    let mut sub = Subscriber::connect(port);
    let mut b = Raw::connect(port);
    let mut replies = Vec::new();
    let scenarios: &[(&[&str], &[&str])] = &[
        (&["BLPOP", "q1", "q2", "0"], &["RPUSH q2 a b"]),
        (&["BRPOP", "q3", "0"], &["LPUSH q3 only"]),
        (
            &["BLMOVE", "s1", "d1", "LEFT", "RIGHT", "0"],
            &["RPUSH s1 x"],
        ),
        (&["BRPOPLPUSH", "s2", "d1", "0"], &["RPUSH s2 x y"]),
        (
            &["BLMPOP", "0", "2", "m1", "m2", "RIGHT", "COUNT", "5"],
            &["RPUSH m2 a b c"],
        ),
        (
            &["BLMOVE", "s3", "s3", "LEFT", "RIGHT", "0"],
            &["RPUSH s3 a"],
        ),
        (
            &["BLMOVE", "s4", "str", "LEFT", "RIGHT", "0"],
            &["SET str v", "RPUSH s4 a", "DEL str"],
        ),
        (&["BZPOPMIN", "z1", "0"], &["ZADD z1 1 a 2 b"]),
        (&["BZPOPMAX", "z2", "0"], &["ZADD z2 1 a"]),
        (
            &["BZMPOP", "0", "2", "z3", "z4", "MIN", "COUNT", "5"],
            &["ZADD z4 1 a 2 b"],
        ),
        (
            &["BLPOP", "t1", "0"],
            &["MULTI", "RPUSH t1 a", "RPUSH t1 b", "EXEC"],
        ),
        // The waiter in another database: its events name that database.
        (&["BLPOP", "w", "0"], &["SELECT 3", "RPUSH w a", "SELECT 0"]),
    ];
    for (i, (blocking, pushes)) in scenarios.iter().enumerate() {
        if i == scenarios.len() - 1 {
            b.cmd_str(&["SELECT", "3"]);
        }
        send(&mut b, blocking);
        a.wait_blocked(1);
        for p in pushes.iter() {
            let args: Vec<&str> = p.split(' ').collect();
            replies.push(a.cmd_str(&args));
        }
        replies.push(b.read_reply());
        // Whatever the pop left behind (BLMOVE's source when the destination is a string).
        replies.push(a.cmd_str(&["FLUSHALL"]));
    }
    let events = sub.drain(&mut a);
    Run { events, replies }
}

#[test]
fn served_blocking_pops_fire_as_redis() {
    let t = Twins::start();
    for flags in FLAGS {
        let ours = served_blocking(t.ours.port, flags);
        let redis = served_blocking(t.redis.port, flags);
        assert_eq!(
            ours.replies, redis.replies,
            "served pops ({flags}): replies"
        );
        assert_events_eq(
            &ours.events,
            &redis.events,
            &format!("served pops ({flags})"),
        );
        assert_covers(
            &redis.events,
            &[
                "lpop", "rpop", "lpush", "rpush", "del", "zpopmin", "zpopmax", "zadd",
            ],
            "served pops",
        );
        assert!(
            redis.events.iter().any(|e| e == "__keyevent@3__:lpop w"),
            "served pops: the waiter's database"
        );
        if flags.contains('n') {
            assert!(
                redis.events.iter().any(|e| e == "__keyevent@0__:new d1"),
                "served pops: BLMOVE's destination is new"
            );
        }
    }
}

#[test]
fn key_misses_fire_once_per_read_lookup() {
    let t = Twins::start();
    // Only `m`: no other class leaks in, and each read lookup that misses fires once.
    let events = t.compare(
        "keymiss",
        &["KEm", "Km", "Em"],
        "
        MGET a b c
        GET a
        SET k v
        GET k
        EXISTS a k b
        HGET h f
        SMEMBERS s
        SINTER s1 s2 s3
        ZUNIONSTORE d 2 z1 z2
        LRANGE l 0 -1
        TTL a
        TYPE a
        OBJECT ENCODING a
        LPUSH a x
        LPOP nope
        SET e v PXAT 1
        GET e
        ",
    );
    // Em is the last flag set: keyevent channels only.
    assert_eq!(events.iter().filter(|e| e.contains("keymiss")).count(), 17);
    assert!(events
        .iter()
        .all(|e| e.starts_with("__keyevent@0__:keymiss ")));
    let mget: Vec<&String> = events.iter().take(3).collect();
    assert_eq!(
        mget,
        [
            "__keyevent@0__:keymiss a",
            "__keyevent@0__:keymiss b",
            "__keyevent@0__:keymiss c"
        ]
    );
}

#[test]
fn new_keys_fire_before_their_first_event() {
    let t = Twins::start();
    let text = "
        SET k v
        SET k w
        LPUSH l a
        LPUSH l b
        RENAME l l2
        SET d v
        RENAME k d
        COPY d d2
        COPY d d2 REPLACE
        MOVE d 1
        SADD s a
        SMOVE s s2 a
        HSET h f v
        HINCRBY h2 f 1
        ZADD z 1 a
        ZINCRBY z2 1 a
        INCR i
        APPEND ap x
        SETRANGE sr 2 x
        MSET m1 a m2 b m1 c
        SET x v PXAT 1
        SET x w
        SUNIONSTORE su s2 nope
        ZUNIONSTORE zu 1 z
        ZRANGESTORE zr z 0 -1
        RPOPLPUSH l2 l3
        GETSET g v
        ";
    let events = t.compare("new", &["KEn", "KEA"], text);
    assert_eq!(count(&events, "new"), 0, "KEA does not include n");
    let events = t.compare("new", &["KEAn"], text);
    // Every key the sequence adds: k l l2 d, d again (RENAME deletes its destination and
    // adds it anew), d2 twice (COPY … REPLACE too), d in database 1 (MOVE), s s2 h h2 z z2 i
    // ap sr m1 m2, x twice (overwriting an expired key adds a new one), su zu zr l3 g.
    assert_eq!(count(&events, "new"), 26, "{events:#?}");
    // `new` comes right before the command's own event on the key.
    let at = events
        .iter()
        .position(|e| e == "__keyevent@0__:new k")
        .expect("new k");
    assert_eq!(events[at + 2], "__keyevent@0__:set k");
    assert!(events.iter().any(|e| e == "__keyevent@1__:new d"));
}

/// The bytes a RESP3 client subscribed to its own events reads for each command, up to the
/// reply of a PING that follows it.
fn self_subscribed(port: u16, flags: &str, steps: &[Step]) -> Vec<Vec<u8>> {
    let mut c = Raw::connect(port);
    assert_eq!(c.cmd_str(&["FLUSHALL"]), Reply::ok());
    c.cmd_str(&["HELLO", "3"]);
    c.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", flags]);
    c.cmd_str(&["PSUBSCRIBE", "__key*__:*"]);
    let marker = b"$11\r\nself-marker\r\n".to_vec();
    let mut out = Vec::new();
    for s in steps {
        let refs: Vec<&[u8]> = s.args.iter().map(Vec::as_slice).collect();
        let mut bytes = encode(&refs);
        bytes.extend_from_slice(&encode(&[b"PING", b"self-marker"]));
        c.send(&bytes);
        // Values are read one at a time; a push inside an array may end up read as one of
        // its elements, but the bytes, concatenated up to the marker, are the stream.
        let mut got = Vec::new();
        loop {
            let v = c.read_reply_bytes();
            if v == marker {
                break;
            }
            got.extend_from_slice(&v);
        }
        out.push(got);
    }
    out
}

#[test]
fn self_subscribed_order() {
    let t = Twins::start();
    let steps = parse(
        "
        SET k v
        SET k v2 EX 100
        SET k v3 GET
        EXPIRE k 100
        EXPIRE k -1
        LPUSH l a b
        HSET h f v
        HINCRBY h n 1
        DEL l h nope
        MGET a b c
        GET a
        SADD s a
        SINTERSTORE d s nope
        SINTERSTORE d s s
        SADD s2 b
        SINTERSTORE d s s2
        RPUSH src x y
        LMOVE src dst LEFT RIGHT
        LPOP src
        ZADD z 1 a 2 b 3 c
        ZPOPMIN z
        ZPOPMAX z 1
        ZMPOP 1 z MIN
        SET g v
        GETEX g EX 100
        GETEX g PERSIST
        GETDEL g
        ",
    );
    let ours = self_subscribed(t.ours.port, "KEAmn", &steps);
    let redis = self_subscribed(t.redis.port, "KEAmn", &steps);
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(
            String::from_utf8_lossy(&ours[i]),
            String::from_utf8_lossy(&redis[i]),
            "self-subscribed RESP3 stream of `{}`",
            show(&s.args)
        );
    }
    // The orders this test is about, as Redis has them: SET fires before its +OK, EXPIRE
    // after its :1, LPUSH's `new` before and its `lpush` after the reply.
    let text = |i: usize| String::from_utf8_lossy(&redis[i]).into_owned();
    let set = text(0);
    assert!(set.find(">4").unwrap() < set.find("+OK").unwrap(), "{set}");
    let expire = text(3);
    assert!(expire.starts_with(":1\r\n>4"), "{expire}");
    let lpush = text(5);
    let (new_at, reply_at, push_at) = (
        lpush.find("new").unwrap(),
        lpush.find(":2\r\n").unwrap(),
        lpush.find("lpush").unwrap(),
    );
    assert!(new_at < reply_at && reply_at < push_at, "{lpush}");
}
