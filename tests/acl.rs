//! ACL against redis-server 7.0.15: the same commands on both servers, replies compared.
//! Covered: every rule type (passwords, on/off, commands, categories, subcommands, first
//! arguments, key patterns with read/write permissions, channels, selectors, reset) through
//! SETUSER, GETUSER (RESP2 and RESP3), LIST, USERS, DRYRUN and their errors; NOPERM for
//! commands, keys and channels at the top level, inside MULTI (at queue and at EXEC time)
//! and inside EVAL; ACL LOG entries; AUTH and HELLO forms and `requirepass`; closing a
//! deleted user's connections; `aclfile` with LOAD and SAVE; CLIENT LIST/KILL by user; and
//! the raw bytes of a few replies.
//!
//! Two things differ by design and are normalized before comparing: Redis lists single
//! commands in a rule description in its hash table's order (ringkv: the command table's),
//! so runs of single-command rules are compared as sets; and ACL LOG's `age-seconds` and
//! the connection details of `client-info` differ, so only its `cmd=` and `user=` are kept.

mod common;

use common::{Raw, Reply, Server};
use std::time::Duration;

/// Both servers.
struct Two {
    ours: Server,
    redis: Server,
}

impl Two {
    fn start(args: &[&str]) -> Two {
        Two {
            ours: Server::start(args),
            redis: Server::start_redis(args),
        }
    }

    fn conns(&self) -> Conns {
        Conns {
            ours: self.ours.raw(),
            redis: self.redis.raw(),
        }
    }
}

/// One connection to each server.
struct Conns {
    ours: Raw,
    redis: Raw,
}

impl Conns {
    /// Runs a command on both and asserts the (normalized) replies are equal.
    fn same(&mut self, args: &[&str]) -> Reply {
        let a = norm(self.ours.cmd_str(args));
        let b = norm(self.redis.cmd_str(args));
        assert_eq!(a, b, "{args:?}: ringkv (left) vs redis-server (right)");
        a
    }

    /// `same` for a line of space-separated words.
    fn line(&mut self, line: &str) -> Reply {
        let args: Vec<&str> = line.split(' ').collect();
        self.same(&args)
    }

    /// HELLO 3 on both (its reply holds the connection id, which differs).
    fn hello3(&mut self) {
        for r in [&mut self.ours, &mut self.redis] {
            assert!(matches!(r.cmd_str(&["HELLO", "3"]), Reply::Map(_)));
        }
    }

    fn lines(&mut self, lines: &[&str]) {
        for l in lines {
            self.line(l);
        }
    }
}

/// Sorts each run of single-command rules (`+get`, `-config|set`, `+select|0`) in a rule
/// description; categories and everything else keep their place.
fn norm_rules(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut Vec<String>| {
        if run.is_empty() {
            return;
        }
        let closes = run.last().is_some_and(|t| t.ends_with(')'));
        let mut items: Vec<String> = run
            .drain(..)
            .map(|t| t.trim_end_matches(')').to_string())
            .collect();
        items.sort();
        if closes {
            if let Some(l) = items.last_mut() {
                l.push(')');
            }
        }
        out.extend(items);
    };
    for tok in text.split(' ') {
        let single = (tok.starts_with('+') || tok.starts_with('-'))
            && !tok.starts_with("+@")
            && !tok.starts_with("-@");
        if single {
            run.push(tok.to_string());
            if tok.ends_with(')') {
                flush(&mut run, &mut out);
            }
        } else {
            flush(&mut run, &mut out);
            out.push(tok.to_string());
        }
    }
    flush(&mut run, &mut out);
    out.join(" ")
}

/// Keeps only `cmd=` and `user=` of a CLIENT LIST line.
fn norm_client_info(text: &str) -> String {
    text.split(' ')
        .filter(|f| f.starts_with("cmd=") || f.starts_with("user="))
        .collect::<Vec<_>>()
        .join(" ")
}

fn norm(r: Reply) -> Reply {
    norm_in(r, "")
}

fn norm_in(r: Reply, key: &str) -> Reply {
    match r {
        Reply::Bulk(Some(b)) => {
            let s = String::from_utf8_lossy(&b).into_owned();
            if key == "client-info" {
                Reply::bulk(norm_client_info(&s).as_bytes())
            } else if key == "age-seconds" {
                Reply::bulk(b"<age>")
            } else if s.contains("@all") {
                Reply::bulk(norm_rules(&s).as_bytes())
            } else {
                Reply::Bulk(Some(b))
            }
        }
        Reply::Double(_) if key == "age-seconds" => Reply::bulk(b"<age>"),
        // HELLO's connection id.
        Reply::Int(_) if key == "id" => Reply::Int(0),
        Reply::Array(Some(items)) => {
            // A RESP2 map is a flat array of pairs: normalize each value by its key.
            let mut out = Vec::with_capacity(items.len());
            let mut prev = String::new();
            for it in items {
                let k = prev.clone();
                prev = match &it {
                    Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
                    _ => String::new(),
                };
                out.push(norm_in(it, &k));
            }
            Reply::Array(Some(out))
        }
        Reply::Map(kv) => Reply::Map(
            kv.into_iter()
                .map(|(k, v)| {
                    let name = match &k {
                        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
                        _ => String::new(),
                    };
                    (k, norm_in(v, &name))
                })
                .collect(),
        ),
        Reply::Set(items) => Reply::Set(items.into_iter().map(norm).collect()),
        other => other,
    }
}

fn auth(c: &mut Conns, user: &str, pass: &str) {
    assert_eq!(c.same(&["AUTH", user, pass]), Reply::ok());
}

#[test]
fn rules_getuser_list_and_errors_match_redis() {
    let two = Two::start(&[]);
    let mut c = two.conns();
    let mut c3 = two.conns();
    c3.hello3();
    c.lines(&[
        "ACL SETUSER app on >pw ~app:* +@read +@write",
        "ACL GETUSER app",
        "ACL SETUSER u2 on nopass %R~r* %W~w* %RW~rw* &ch* +get +set +select|0 +config|get",
        "ACL GETUSER u2",
        "ACL SETUSER u3 allkeys allchannels allcommands -@dangerous -debug",
        "ACL GETUSER u3",
        "ACL SETUSER u4 on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 >other <other nocommands resetkeys resetchannels +@hash -hdel",
        "ACL GETUSER u4",
        "ACL SETUSER u4 !30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 resetpass",
        "ACL SETUSER u5 reset",
        "ACL SETUSER u5 on skip-sanitize-payload +client|id +client|setname -client|kill",
        "ACL SETUSER u6 +@all -@keyspace +del ~a ~b %R~c off",
        "ACL SETUSER u6 clearselectors",
        "ACL GETUSER nosuch",
        "ACL USERS",
        "ACL LIST",
        "ACL WHOAMI",
        "ACL CAT",
        "ACL CAT nosuch",
        // Errors: nothing of a failing SETUSER applies.
        "ACL SETUSER app +config|get|x",
        "ACL SETUSER app -select|0",
        "ACL SETUSER app +nosuch",
        "ACL SETUSER app +@nosuch",
        "ACL SETUSER app #abc",
        "ACL SETUSER app <nope",
        "ACL SETUSER app ~* ~x",
        "ACL SETUSER app &* &x",
        "ACL SETUSER app bogus",
        "ACL SETUSER app %X~x",
        "ACL SETUSER app +debug|",
        "ACL SETUSER app off -@all +get bogus",
        "ACL GETUSER app",
        "ACL DELUSER default",
        "ACL DELUSER u6 nosuch",
        "ACL GENPASS 0",
        "ACL GENPASS 4097",
        "ACL GENPASS x",
        "ACL LOG x",
        "ACL LOAD",
        "ACL SAVE",
        "ACL HELP",
        "ACL NOSUCH",
        "CONFIG GET acl-pubsub-default",
        "CONFIG GET acllog-max-len",
        "CONFIG GET aclfile",
        "CONFIG SET acl-pubsub-default foo",
        "CONFIG SET acllog-max-len -1",
        "CONFIG SET aclfile x",
    ]);
    c.same(&["ACL", "SETUSER", "a b"]);
    c.same(&[
        "ACL",
        "SETUSER",
        "sel",
        "on",
        "(+get ~x*)",
        "(",
        "+set",
        "~y*",
        ")",
    ]);
    c.same(&["ACL", "SETUSER", "sel", "(+get"]);
    c.same(&["ACL", "SETUSER", "sel", "on", "(+get", "~x)", "(+set"]);
    c.line("ACL GETUSER sel");
    c.line("ACL LIST");
    // RESP3 shapes: GETUSER is a map with a set of flags and maps for selectors.
    c3.line("ACL GETUSER sel");
    c3.line("ACL GETUSER u2");
    c3.line("ACL GETUSER nosuch");
    // New users take acl-pubsub-default.
    c.lines(&[
        "CONFIG SET acl-pubsub-default allchannels",
        "ACL SETUSER pub1 on",
        "ACL SETUSER pub1 reset",
        "ACL GETUSER pub1",
        "CONFIG SET acl-pubsub-default resetchannels",
        "ACL SETUSER pub2 on",
        "ACL GETUSER pub2",
    ]);
    // GENPASS: hex of the asked size.
    for (bits, len) in [("", 64), ("1", 1), ("5", 2), ("255", 64), ("4096", 1024)] {
        let r = if bits.is_empty() {
            c.ours.cmd_str(&["ACL", "GENPASS"])
        } else {
            c.ours.cmd_str(&["ACL", "GENPASS", bits])
        };
        let Reply::Bulk(Some(b)) = r else {
            panic!("GENPASS {bits}: {r:?}")
        };
        assert_eq!(b.len(), len, "GENPASS {bits}");
        assert!(b.iter().all(u8::is_ascii_hexdigit));
    }
    // ACL CAT <category>: the same commands, among those both servers have.
    let names = |r: Reply| -> Vec<Vec<u8>> {
        match r {
            Reply::Array(Some(v)) => v
                .into_iter()
                .map(|x| match x {
                    Reply::Bulk(Some(b)) => b,
                    o => panic!("{o:?}"),
                })
                .collect(),
            o => panic!("{o:?}"),
        }
    };
    let ours_all = names(c.ours.cmd_str(&["COMMAND", "LIST"]));
    let redis_all = names(c.redis.cmd_str(&["COMMAND", "LIST"]));
    for cat in [
        "read",
        "write",
        "keyspace",
        "dangerous",
        "pubsub",
        "scripting",
        "admin",
    ] {
        let mut ours = names(c.ours.cmd_str(&["ACL", "CAT", cat]));
        let mut theirs = names(c.redis.cmd_str(&["ACL", "CAT", cat]));
        ours.retain(|n| redis_all.contains(n));
        theirs.retain(|n| ours_all.contains(n));
        ours.sort();
        theirs.sort();
        assert!(!ours.is_empty());
        assert_eq!(ours, theirs, "ACL CAT {cat}");
    }
}

#[test]
fn noperm_for_commands_keys_and_channels_matches_redis() {
    let two = Two::start(&[]);
    let mut admin = two.conns();
    admin.lines(&[
        "ACL SETUSER u on >pw %R~r* %W~w* ~rw* &ch* +get +set +incr +publish +subscribe +psubscribe +select|0 +config|get +client|list +mget",
        "ACL SETUSER s on >pw ~k* -@all +get (+set ~w*) (+incr ~x*)",
        "ACL LOG RESET",
        "CONFIG RESETSTAT",
    ]);
    let mut u = two.conns();
    auth(&mut u, "u", "pw");
    u.lines(&[
        "ACL WHOAMI",
        "GET r1",
        "SET r1 v",
        "GET w1",
        "SET w1 v",
        "SET w1 v GET",
        "SET rw1 v GET",
        "INCR w1",
        "INCR r1",
        "MGET r1 rw1",
        "MGET r1 w1 rw1",
        "DEL r1",
        "SELECT 0",
        "SELECT 1",
        "CONFIG GET maxmemory",
        "CONFIG SET maxmemory 0",
        "PUBLISH ch1 m",
        "PUBLISH other m",
        "PSUBSCRIBE ch*",
    ]);
    // A separate connection for subscribing, as the subscribe context changes the reply shape.
    let mut sub = two.conns();
    auth(&mut sub, "u", "pw");
    sub.line("SUBSCRIBE nope");
    sub.line("PSUBSCRIBE ch?");
    sub.line("SUBSCRIBE ch1");
    // Selectors: each selector allows a part.
    let mut s = two.conns();
    auth(&mut s, "s", "pw");
    s.lines(&[
        "GET k1", "GET w1", "SET w1 v", "SET k1 v", "INCR x1", "INCR k1", "DEL k1",
    ]);
    admin.lines(&[
        "ACL DRYRUN u get r1",
        "ACL DRYRUN u set r1 v",
        "ACL DRYRUN u publish other m",
        "ACL DRYRUN u incr nope",
        "ACL DRYRUN s incr x1",
        "ACL DRYRUN s incr w1",
        "ACL DRYRUN nouser get",
        "ACL DRYRUN u nocmd",
        "ACL DRYRUN u get",
        "ACL DRYRUN u config get",
        "ACL DRYRUN u config nosub",
        "ACL LOG",
        "ACL LOG 2",
        "ACL LOG 0",
        "ACL LOG -5",
    ]);
    let mut admin3 = two.conns();
    admin3.hello3();
    admin3.line("ACL LOG 3");
    // Refusals count as rejected calls.
    for field in ["cmdstat_set", "cmdstat_incr", "cmdstat_get"] {
        let get = |c: &mut Raw| -> String {
            let Reply::Bulk(Some(b)) = c.cmd_str(&["INFO", "commandstats"]) else {
                panic!("INFO")
            };
            let t = String::from_utf8_lossy(&b).into_owned();
            t.lines()
                .find(|l| l.starts_with(&format!("{field}:")))
                .map(|l| {
                    l.split(',')
                        .filter(|f| f.starts_with("rejected_calls") || f.starts_with("failed"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default()
        };
        assert_eq!(get(&mut admin.ours), get(&mut admin.redis), "{field}");
    }
    admin.line("ACL LOG RESET");
    admin.line("ACL LOG");
}

#[test]
fn multi_and_scripts_check_the_calling_user_as_redis() {
    let two = Two::start(&[]);
    let mut admin = two.conns();
    admin.line(
        "ACL SETUSER s1 on nopass ~k* &c1 +get +set +eval +evalsha +multi +exec +discard +publish",
    );
    let mut s = two.conns();
    auth(&mut s, "s1", "x");
    // Queue time: the denied command is refused and the transaction aborts.
    s.lines(&["MULTI", "GET zz", "GET k1", "INCR k1", "EXEC"]);
    // EXEC time: the rules changed after queueing.
    s.lines(&["MULTI", "GET k1", "SET k1 2", "GET kk", "PUBLISH c1 m"]);
    admin.same(&[
        "ACL",
        "SETUSER",
        "s1",
        "-set",
        "resetkeys",
        "%R~kk",
        "resetchannels",
    ]);
    s.line("EXEC");
    admin.line("ACL SETUSER s1 ~k* &c1 +set");
    // Scripts run as their caller.
    s.same(&["EVAL", "return redis.call('get','zz')", "0"]);
    s.same(&["EVAL", "return redis.call('incr','k1')", "0"]);
    s.same(&["EVAL", "return redis.pcall('get','zz')", "0"]);
    s.same(&["EVAL", "return redis.call('publish','zz','x')", "0"]);
    s.same(&["EVAL", "return redis.call('set','k1','v')", "0"]);
    s.same(&["EVAL", "return redis.call('get','k1')", "0"]);
    // redis.acl_check_cmd answers for the calling user, without logging.
    for line in [
        "return redis.acl_check_cmd('get','k1')",
        "return redis.acl_check_cmd('get','zz')",
        "return redis.acl_check_cmd('incr','k1')",
        "return redis.acl_check_cmd('get')",
        "return redis.acl_check_cmd('publish','c1','m')",
        "return redis.acl_check_cmd('publish','c2','m')",
        "return redis.acl_check_cmd('config','get','x')",
        "return redis.acl_check_cmd('config','nosub')",
    ] {
        s.same(&["EVAL", line, "0"]);
    }
    admin.line("ACL LOG");
}

#[test]
fn auth_and_hello_forms_match_redis() {
    let two = Two::start(&[]);
    let mut c = two.conns();
    c.lines(&[
        "AUTH x",
        "AUTH default anything",
        "AUTH nosuch x",
        "ACL SETUSER u on >pw +@all ~*",
        "ACL SETUSER off1 off >pw +@all ~*",
        "AUTH u wrong",
        "AUTH off1 pw",
        "HELLO 2 AUTH u wrong",
        "ACL WHOAMI",
        "AUTH u pw",
        "ACL WHOAMI",
        "RESET",
        "ACL WHOAMI",
        "HELLO 2 AUTH u pw",
        "ACL WHOAMI",
        "CONFIG SET requirepass secret",
        "ACL GETUSER default",
        "ACL WHOAMI",
    ]);
    // A new connection must authenticate now.
    let mut n = two.conns();
    n.lines(&[
        "GET k",
        "HELLO 2",
        "AUTH wrong",
        "AUTH secret",
        "ACL WHOAMI",
        "GET k",
        "RESET",
        "GET k",
        "HELLO 3 AUTH default secret",
        "ACL WHOAMI",
    ]);
    let mut m = two.conns();
    m.lines(&["AUTH default secret", "MULTI", "AUTH u nope", "EXEC"]);
    m.lines(&[
        "ACL SETUSER default nopass",
        "CONFIG GET requirepass",
        "ACL LOG",
    ]);
    // CONFIG SET requirepass to the value it has changes nothing, as in Redis.
    m.lines(&[
        "CONFIG SET requirepass s2",
        "ACL SETUSER default nopass",
        "CONFIG SET requirepass s2",
        "ACL GETUSER default",
    ]);
    m.same(&["CONFIG", "SET", "requirepass", ""]);
    m.line("ACL GETUSER default");
    let mut fresh = two.conns();
    fresh.line("GET k");
    fresh.line("AUTH x");
    let stat = |c: &mut Raw| -> String {
        let Reply::Bulk(Some(b)) = c.cmd_str(&["INFO", "stats"]) else {
            panic!()
        };
        String::from_utf8_lossy(&b)
            .lines()
            .find(|l| l.starts_with("total_error_replies:"))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(stat(&mut fresh.ours), stat(&mut fresh.redis));
}

#[test]
fn deleted_or_replaced_users_lose_their_connections() {
    let two = Two::start(&[]);
    let mut admin = two.conns();
    admin.line("ACL SETUSER k on nopass +@all ~* &a*");
    // Deleting one's own user: the reply, then the connection closes.
    let mut own = two.conns();
    auth(&mut own, "k", "x");
    own.line("ACL DELUSER k");
    for r in [&mut own.ours, &mut own.redis] {
        assert!(
            r.wait_closed(Duration::from_secs(5)),
            "closed after DELUSER"
        );
    }
    // Another connection of a deleted user is closed.
    admin.line("ACL SETUSER k on nopass +@all ~* &a*");
    let mut other = two.conns();
    auth(&mut other, "k", "x");
    other.line("CLIENT SETNAME victim");
    admin.line("CLIENT LIST USER k");
    admin.line("CLIENT KILL USER nosuch");
    admin.line("ACL DELUSER k");
    for r in [&mut other.ours, &mut other.redis] {
        assert!(
            r.wait_closed(Duration::from_secs(5)),
            "closed after DELUSER"
        );
    }
    // Turning a user off keeps its connections; revoking a subscriber's channel closes it.
    admin.line("ACL SETUSER k on nopass +@all ~* &a*");
    let mut off = two.conns();
    auth(&mut off, "k", "x");
    admin.line("ACL SETUSER k off");
    off.line("PING");
    off.line("AUTH k x");
    admin.line("ACL SETUSER k on");
    let mut sub = two.conns();
    auth(&mut sub, "k", "x");
    sub.line("SUBSCRIBE a1");
    admin.line("ACL SETUSER k resetchannels &b*");
    for r in [&mut sub.ours, &mut sub.redis] {
        assert!(
            r.wait_closed(Duration::from_secs(5)),
            "closed after revoking"
        );
    }
    // CLIENT KILL USER closes the user's connections.
    let mut killed = two.conns();
    auth(&mut killed, "k", "x");
    admin.line("CLIENT KILL USER k");
    for r in [&mut killed.ours, &mut killed.redis] {
        assert!(
            r.wait_closed(Duration::from_secs(5)),
            "closed by CLIENT KILL USER"
        );
    }
}

#[test]
fn aclfile_load_and_save_round_trip() {
    let dir = std::env::temp_dir().join(format!("ringkv-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ours_file = dir.join("ours.acl");
    let redis_file = dir.join("redis.acl");
    let initial = "user default on nopass ~* &* +@all\nuser app on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~app:* resetchannels -@all +@read +@write\n";
    std::fs::write(&ours_file, initial).unwrap();
    std::fs::write(&redis_file, initial).unwrap();
    let ours = Server::start(&["--aclfile", ours_file.to_str().unwrap()]);
    let redis = Server::start_redis(&["--aclfile", redis_file.to_str().unwrap()]);
    let mut c = Conns {
        ours: ours.raw(),
        redis: redis.raw(),
    };
    c.lines(&["ACL LIST"]);
    let mut app = Conns {
        ours: ours.raw(),
        redis: redis.raw(),
    };
    auth(&mut app, "app", "pw");
    c.lines(&[
        "ACL SETUSER extra on >x ~e* +get (+set ~f*)",
        "ACL SETUSER default >dpw",
        "ACL SAVE",
    ]);
    let saved_ours = std::fs::read_to_string(&ours_file).unwrap();
    let saved_redis = std::fs::read_to_string(&redis_file).unwrap();
    let norm_file = |t: &str| -> Vec<String> { t.lines().map(norm_rules).collect() };
    assert_eq!(norm_file(&saved_ours), norm_file(&saved_redis));
    // LOAD replaces the users: app's connection is closed, default's rules change in place.
    let changed = "user default on nopass ~* &* +@all\nuser app on nopass ~* +@all\n";
    std::fs::write(&ours_file, changed).unwrap();
    std::fs::write(&redis_file, changed).unwrap();
    c.lines(&["ACL LOAD", "ACL LIST", "ACL WHOAMI"]);
    for r in [&mut app.ours, &mut app.redis] {
        assert!(r.wait_closed(Duration::from_secs(5)), "closed by ACL LOAD");
    }
    // A bad file changes nothing; the errors name the file, so each server's is compared
    // with its own path replaced.
    let bad =
        "user default on nopass ~* &* +@all\nuser x on +nosuch bogus\nnot a user line\nuser x on\n";
    std::fs::write(&ours_file, bad).unwrap();
    std::fs::write(&redis_file, bad).unwrap();
    let load_error = |r: &mut Raw, path: &std::path::Path| -> String {
        match r.cmd_str(&["ACL", "LOAD"]) {
            Reply::Error(e) => e.replace(path.to_str().unwrap(), "<file>"),
            other => panic!("ACL LOAD of a bad file: {other:?}"),
        }
    };
    assert_eq!(
        load_error(&mut c.ours, &ours_file),
        load_error(&mut c.redis, &redis_file)
    );
    c.line("ACL LIST");
    std::fs::remove_file(&ours_file).unwrap();
    std::fs::remove_file(&redis_file).unwrap();
    assert_eq!(
        load_error(&mut c.ours, &ours_file),
        load_error(&mut c.redis, &redis_file)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_file_user_lines_and_startup_rules() {
    let dir = std::env::temp_dir().join(format!("ringkv-aclconf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("users.conf");
    std::fs::write(
        &conf,
        "user app on >pw ~app:* +@read +@write\nuser default on nopass ~* &* +@all -flushall\n",
    )
    .unwrap();
    let user_args = [
        "--user",
        "app",
        "on",
        ">pw",
        "~app:*",
        "+@read",
        "+@write",
        "--user",
        "default",
        "on",
        "nopass",
        "~*",
        "&*",
        "+@all",
        "-flushall",
    ];
    let two = Two::start(&user_args);
    let mut c = two.conns();
    c.lines(&[
        "ACL LIST",
        "ACL DRYRUN app set app:1 v",
        "ACL DRYRUN default flushall",
    ]);
    // An ACL file and user lines together stop the server, as Redis.
    let out = std::process::Command::new(common::ringkv_bin())
        .args([conf.to_str().unwrap(), "--port", "0", "--aclfile", "x.acl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "define either an ACL file or declare users directly in your redis.conf, but not both"
    ));
    // A bad rule in a user line stops it too.
    std::fs::write(&conf, "user app on bogus\n").unwrap();
    let out = std::process::Command::new(common::ringkv_bin())
        .args([conf.to_str().unwrap(), "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Error in user declaration 'bogus': Syntax error"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn raw_resp_bytes_match_redis() {
    let two = Two::start(&[]);
    let mut o = two.ours.raw();
    let mut r = two.redis.raw();
    let setup = [
        "ACL",
        "SETUSER",
        "u",
        "on",
        ">pw",
        "%R~r*",
        "&c",
        "+get",
        "(+set ~w*)",
    ];
    assert_eq!(o.cmd_exact(&setup), r.cmd_exact(&setup));
    for (n, line) in [
        "ACL GETUSER u",
        "ACL WHOAMI",
        "ACL USERS",
        "ACL DRYRUN u get x",
        "ACL DRYRUN u get r1",
        "ACL GETUSER nope",
        "ACL CAT",
        "ACL GETUSER u",
        "ACL GETUSER nope",
        "AUTH u pw",
        "SET r1 v",
        "GET x",
        "ACL LOG 0",
    ]
    .into_iter()
    .enumerate()
    {
        if n == 7 {
            // The rest in RESP3 (HELLO's reply holds the connection id, which differs).
            o.cmd_str(&["HELLO", "3"]);
            r.cmd_str(&["HELLO", "3"]);
        }
        let args: Vec<&str> = line.split(' ').collect();
        assert_eq!(
            String::from_utf8_lossy(&o.cmd_exact(&args)),
            String::from_utf8_lossy(&r.cmd_exact(&args)),
            "{line}"
        );
    }
}
