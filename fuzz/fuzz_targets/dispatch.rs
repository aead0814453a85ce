//! `dispatch`: random commands over the whole command table (`cmd::COMMANDS`, every name and
//! every subcommand) run through a live in-process `Server`'s real parse → lookup → arity
//! check → handler → reply path (`Server::bench_dispatch`) for two socketless clients, with
//! the clock advanced and housekeeping run (expiry, blocked-client timeouts, rehashing,
//! BGSAVE slices) at fuzzer-chosen points. After every command it calls `check_invariants()`
//! on every database and on the blocked-clients table, and checks that the command produced a
//! reply unless it blocked or shut the server down. Nothing may panic.
//!
//! The harness plays the event loop's part where a real client could not: a blocked client
//! is unblocked (as CLIENT UNBLOCK would) before it sends again, a client that asked to be
//! closed (QUIT) is replaced by a new one, and the run stops at SHUTDOWN. It keeps the server
//! inside a scratch directory: DEBUG SLEEP (which really sleeps) and CONFIG SET of a path
//! (dir, dbfilename, appenddirname, appendfilename, logfile) are not sent, and files that
//! SAVE, BGSAVE, DEBUG RELOAD or the AOF write are removed after each input.
//!
//! Input layout: a sequence of operations. An opcode byte >= 0xF0 advances the clock by
//! (next byte × 50 ms) and runs housekeeping. Otherwise bit 0 chooses the client, bits 1-3
//! the number of arguments; two bytes pick the command, and each argument is one byte: below
//! 0x80 it picks a word from a pool (keys, numbers, option words), else its low 4 bits give a
//! length of raw bytes taken from the input.
#![no_main]

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use ringkv::blocking::Unblock;
use ringkv::cmd::blocking;
use ringkv::cmd::COMMANDS;
use ringkv::config::Config;
use ringkv::server::Server;

/// A fixed clock (2023-11-14), so expiry does not depend on the day the fuzzer runs.
const NOW_MS: u64 = 1_700_000_000_000;
/// At most this many commands per input.
const STEPS_MAX: usize = 200;

/// Arguments the fuzzer picks by index: a few keys (so commands meet each other's values),
/// numbers of every kind, and the option words of the command table.
const WORDS: &[&[u8]] = &[
    b"k0",
    b"k1",
    b"k2",
    b"k3",
    b"{k}a",
    b"{k}b",
    b"",
    b"0",
    b"1",
    b"-1",
    b"2",
    b"3",
    b"5",
    b"10",
    b"100",
    b"1000",
    b"-100",
    b"0.5",
    b"-2.5",
    b"1e3",
    b"+inf",
    b"-inf",
    b"inf",
    b"nan",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"9223372036854775808",
    b"(1",
    b"(5",
    b"[a",
    b"(a",
    b"[z",
    b"-",
    b"+",
    b"*",
    b"a*",
    b"?",
    b"[a-c]",
    b"\\",
    b"EX",
    b"PX",
    b"EXAT",
    b"PXAT",
    b"NX",
    b"XX",
    b"GT",
    b"LT",
    b"CH",
    b"INCR",
    b"KEEPTTL",
    b"GET",
    b"PERSIST",
    b"LIMIT",
    b"WITHSCORES",
    b"WITHSCORE",
    b"BYSCORE",
    b"BYLEX",
    b"REV",
    b"LEFT",
    b"RIGHT",
    b"BEFORE",
    b"AFTER",
    b"COUNT",
    b"MATCH",
    b"TYPE",
    b"RANK",
    b"MAXLEN",
    b"MIN",
    b"MAX",
    b"WEIGHTS",
    b"AGGREGATE",
    b"SUM",
    b"ASYNC",
    b"SYNC",
    b"REPLACE",
    b"DB",
    b"IDX",
    b"LEN",
    b"MINMATCHLEN",
    b"WITHMATCHLEN",
    b"WITHVALUES",
    b"ENCODING",
    b"FREQ",
    b"IDLETIME",
    b"REFCOUNT",
    b"HELP",
    b"RESETSTAT",
    b"maxmemory",
    b"maxmemory-policy",
    b"allkeys-lfu",
    b"hash-max-listpack-entries",
    b"zset-max-listpack-entries",
    b"set-max-intset-entries",
    b"list-max-listpack-size",
    b"requirepass",
    b"appendonly",
    b"yes",
    b"no",
    b"save",
    b"hz",
    b"NOSAVE",
    b"SAVE",
    b"ABORT",
    b"FORCE",
    b"MERGE",
    b"NOFLUSH",
    b"digest",
    b"digest-value",
    b"reload",
    b"string",
    b"list",
    b"hash",
    b"set",
    b"zset",
    b"3",
    b"default",
    b"AUTH",
    b"SETNAME",
    b"id",
    b"server",
    b"keyspace",
    b"all",
    b"everything",
    b"persistence",
];

/// Config parameters naming a path: never set, so the server stays in its scratch directory.
const PATH_PARAMS: &[&[u8]] = &[
    b"dir",
    b"dbfilename",
    b"appenddirname",
    b"appendfilename",
    b"logfile",
    b"unixsocket",
];

/// (command name, subcommand) for every entry of the table; containers also appear alone.
fn table() -> &'static [(&'static str, Option<&'static str>)] {
    static TABLE: OnceLock<Vec<(&'static str, Option<&'static str>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Vec::new();
        for c in COMMANDS {
            t.push((c.name, None));
            for s in c.subcommands {
                t.push((c.name, Some(s.short_name())));
            }
        }
        t
    })
}

/// The scratch directory the server's files go to, one per process.
fn workdir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("ringkv-fuzz-dispatch-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch directory");
        d
    })
}

fn clean_workdir() {
    let d = workdir();
    let dirty = std::fs::read_dir(d).map_or(true, |mut it| it.next().is_some());
    if dirty {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d).expect("scratch directory");
    }
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u8_or0(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let (a, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        a
    }
}

fn eq(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Commands the harness does not send (see the module doc).
fn refused(argv: &[Vec<u8>]) -> bool {
    let name = argv[0].as_slice();
    let arg1 = argv.get(1).map_or(&b""[..], Vec::as_slice);
    if eq(name, b"debug") && eq(arg1, b"sleep") {
        return true;
    }
    if eq(name, b"config") && eq(arg1, b"set") {
        return argv[2..]
            .iter()
            .any(|a| PATH_PARAMS.iter().any(|p| eq(a, p)));
    }
    false
}

fn add_client(srv: &mut Server, peers: &mut Vec<UnixStream>) -> usize {
    let (ours, peer) = UnixStream::pair().expect("socketpair for a fake client");
    peers.push(peer);
    srv.bench_add_client(ours.into())
}

fn push_command(buf: &mut Vec<u8>, args: &[Vec<u8>]) {
    buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// What the event loop's housekeeping does between turns, for the parts a command can see.
fn housekeeping(srv: &mut Server) {
    blocking::expire_due(srv);
    let now_ms = srv.now_ms;
    let deadline = Instant::now() + Duration::from_millis(5);
    for db in &mut srv.dbs {
        if db.expires_len() > 0 {
            db.active_expire(now_ms, usize::MAX, deadline);
        }
        db.rehash_idle(Duration::from_micros(200));
    }
    srv.bgsave_step();
}

fn check(srv: &Server) {
    for db in &srv.dbs {
        db.check_invariants();
    }
    srv.blocking.check_invariants(&srv.conns);
    srv.watches.check_invariants(&srv.conns);
}

fuzz_target!(|data: &[u8]| {
    let table = table();
    let mut config = Config::default();
    config.dir = workdir().clone();
    config.enable_debug_command = "yes";
    config.save_params = Vec::new();
    let mut srv = Server::new(config);
    srv.now_ms = NOW_MS;
    let mut peers = Vec::new();
    let mut slots = [
        add_client(&mut srv, &mut peers),
        add_client(&mut srv, &mut peers),
    ];
    let mut inp = Input(data);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for _ in 0..STEPS_MAX {
        let Some(op) = inp.byte() else { break };
        if op >= 0xf0 {
            srv.now_ms += u64::from(inp.u8_or0()) * 50;
            housekeeping(&mut srv);
            check(&srv);
            continue;
        }
        let client = usize::from(op & 1);
        let nargs = usize::from((op >> 1) & 7);
        let pick = usize::from(u16::from_le_bytes([inp.u8_or0(), inp.u8_or0()]));
        let (name, sub) = table[pick % table.len()];
        let mut argv: Vec<Vec<u8>> = vec![name.as_bytes().to_vec()];
        if let Some(s) = sub {
            argv.push(s.as_bytes().to_vec());
        }
        for _ in 0..nargs {
            let b = inp.u8_or0();
            if b < 0x80 {
                argv.push(WORDS[usize::from(b) % WORDS.len()].to_vec());
            } else {
                argv.push(inp.bytes(usize::from(b & 0x0f)).to_vec());
            }
        }
        if refused(&argv) {
            continue;
        }
        let slot = slots[client];
        if srv.conns[slot].is_blocked() {
            // Another client's CLIENT UNBLOCK <id> TIMEOUT.
            blocking::unblock(&mut srv, slot, Unblock::ClientTimeout);
        }
        for (_, c) in srv.conns.iter_mut() {
            c.out.clear();
        }
        buf.clear();
        push_command(&mut buf, &argv);
        out.clear();
        let ran = srv.bench_dispatch(slot, &mut buf, &mut out);
        assert_eq!(ran, 1, "the command was not parsed as one command");
        assert!(
            // A successful SHUTDOWN closes the connection without a reply, as in Redis, and
            // SYNC makes it a replica whose first bytes are the snapshot, sent later (and a
            // replica's own commands get no replies), WAIT with a replica attached waits,
            // and a command during CLIENT PAUSE waits for its end.
            !out.is_empty()
                || srv.conns[slot].is_blocked()
                || srv.shutdown_requested
                || srv.conns[slot].is_replica()
                || srv.conns[slot].repl_waiting
                || srv.conns[slot].postponed,
            "no reply and not blocked: {:?}",
            argv.iter()
                .map(|a| String::from_utf8_lossy(a))
                .collect::<Vec<_>>()
        );
        check(&srv);
        if srv.shutdown_requested {
            break;
        }
        if srv.conns[slot].close_after_reply {
            srv.close(slot);
            slots[client] = add_client(&mut srv, &mut peers);
            check(&srv);
        }
    }
    srv.bgsave_abort();
    drop(srv);
    clean_workdir();
});
