//! Lua scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT) against redis-server 7.0.15:
//! every script runs on both servers and the replies are compared byte for byte, on a
//! RESP2 and on a RESP3 connection. Scripts that print addresses (`tostring` of a table)
//! are avoided: those differ between any two processes.
//!
//! Covered: every conversion both ways (command replies to Lua in RESP2 and after
//! `redis.setresp(3)`, script results to replies in both protocols), error texts (runtime,
//! compile, `redis.call` raising and `redis.pcall` returning, arity, unknown and `noscript`
//! commands, bad arguments, shebang errors), the sandbox (missing and read-only globals,
//! library tables, `rawset`/`setmetatable`, binary chunks), the `redis` helpers, flags and
//! the read-only variants, SELECT inside a script, the script cache, OOM rules, blocking
//! commands, `math.random`'s sequence, commandstats, WATCH and keyspace events, a RESP3
//! caller's own messages before the EVAL's reply, the AOF after scripts (against the file
//! redis-server writes), and real library scripts (redis-py's lock, a token bucket, a queue
//! moving jobs between keys the script does not declare).

mod common;

use common::files::TempDir;

use common::{Reply, Server};
use std::time::Duration;

/// One ringkv and one redis-server, one connection to each.
struct Pair {
    ours: Server,
    redis: Server,
    o: common::Raw,
    r: common::Raw,
}

/// Arguments from string slices.
fn a(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|s| s.as_bytes().to_vec()).collect()
}

impl Pair {
    fn start(args: &[&str]) -> Pair {
        let ours = Server::start(args);
        let redis = Server::start_redis(args);
        let (o, r) = (ours.raw(), redis.raw());
        Pair { ours, redis, o, r }
    }

    /// Switches both connections to RESP3 (HELLO's reply differs by design).
    fn hello3(&mut self) {
        self.o.cmd_str(&["HELLO", "3"]);
        self.r.cmd_str(&["HELLO", "3"]);
    }

    /// Runs `args` on both and asserts the replies are the same bytes; returns them.
    #[track_caller]
    fn same(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let bytes = common::encode(&refs);
        self.o.send(&bytes);
        let ours = self.o.read_reply_bytes();
        self.r.send(&bytes);
        let redis = self.r.read_reply_bytes();
        assert_eq!(
            common::escape(&ours),
            common::escape(&redis),
            "replies differ for {}",
            common::show_cmd(args)
        );
        redis
    }

    #[track_caller]
    fn same_str(&mut self, args: &[&str]) -> Vec<u8> {
        self.same(&a(args))
    }

    /// EVAL `script` with no keys on both.
    #[track_caller]
    fn eval(&mut self, script: &str) -> Vec<u8> {
        self.same_str(&["EVAL", script, "0"])
    }

    /// Runs `args` on both without comparing (setup).
    fn both(&mut self, args: &[&str]) {
        let o = self.o.cmd_str(args);
        let r = self.r.cmd_str(args);
        assert!(!o.is_error() && !r.is_error(), "{args:?}: {o:?} / {r:?}");
    }
}

/// Keys of every type for the conversion scripts.
fn fixture(p: &mut Pair) {
    for cmd in [
        &["FLUSHALL"][..],
        &["SET", "s", "hello"],
        &["SET", "n", "41"],
        &["HSET", "h", "f", "v", "g", "w", "i", "1"],
        &["ZADD", "z", "1.5", "a", "2", "b", "-inf", "c"],
        &["SADD", "set", "x"],
        &["RPUSH", "l", "a", "b", "c"],
    ] {
        p.both(cmd);
    }
}

/// Scripts whose results cover every Lua → reply rule.
const RESULTS: &[&str] = &[
    "return 1",
    "return 1.9",
    "return -1.9",
    "return -0.5",
    "return 1e30",
    "return -1e30",
    "return 0/0",
    "return 1/0",
    "return 2^53 + 1",
    "return true",
    "return false",
    "return nil",
    "return",
    "return 1, 2",
    "return 'hello'",
    "return 'a\\0b'",
    "return ''",
    "return {}",
    "return {1, 2, nil, 3}",
    "return {[1]=1, [3]=3}",
    "return {a=1}",
    "return {1, 'a', {2, {3}}, true, false}",
    "return {true, false, nil}",
    "return {1.9, -2.5, 'x'}",
    "return {ok='fine'}",
    "return {ok=''}",
    "return {ok='a\\r\\nb'}",
    "return {ok=5}",
    "return {ok={}}",
    "return {err='bad thing'}",
    "return {err='MYERR bad thing'}",
    "return {err='a\\nb'}",
    "return {err=''}",
    "return {err='-X'}",
    "return {err=5}",
    "return {err='x', 1, 2}",
    "return {1, {err='x'}, 3}",
    "return {1, {ok='x'}, 3}",
    "return {double=1.5}",
    "return {double=3.0}",
    "return {double=0.1}",
    "return {double=1/0}",
    "return {double=-1/0}",
    "return {double='1.5'}",
    "return {double=1.5, ok='x'}",
    "return {ok='x', err='y'}",
    "return {map={a=1}}",
    "return {map={a=1, b={1, 2}}}",
    "return {map={1, 2}}",
    "return {map={}}",
    "return {map={[1]='a', x=false}}",
    "return {set={a=true}}",
    "return {set={}}",
    "return {set={[1]=true, x=false}}",
    "return {big_number='123'}",
    "return {big_number='1234567890123456789012345'}",
    "return {big_number='a\\r\\nb'}",
    "return {big_number=12}",
    "return {verbatim_string={format='txt', string='hello'}}",
    "return {verbatim_string={format='toolong', string='x'}}",
    "return {verbatim_string={format='a', string='x'}}",
    "return {verbatim_string={format='txt'}}",
    "return {verbatim_string='x'}",
    "return redis.status_reply('x y')",
    "return redis.error_reply('x y')",
    "return redis.error_reply('-x y')",
    "return redis.error_reply('')",
    "return redis.error_reply('-')",
    "return redis.error_reply('X')",
    "return redis.error_reply(' X')",
    "return redis.error_reply('a\\r\\nb')",
    "return redis.status_reply(1)",
    "return redis.error_reply()",
    "return redis.status_reply('a', 'b')",
    "return function() end",
    "return coroutine.create(function() end)",
];

/// Scripts whose results show how command replies become Lua values.
const CALLS: &[&str] = &[
    "return redis.call('get', 's')",
    "return redis.call('get', 'nokey')",
    "return type(redis.call('get', 'nokey'))",
    "return redis.call('incr', 'n')",
    "return redis.call('hgetall', 'h')",
    "return redis.call('zrange', 'z', 0, -1, 'withscores')",
    "return redis.call('zscore', 'z', 'a')",
    "return redis.call('smembers', 'set')",
    "return redis.call('lrange', 'l', 0, -1)",
    "return redis.call('set', 'k', 'v')",
    "return type(redis.call('set', 'k', 'v'))",
    "return redis.call('set', 'k', 'v').ok",
    "return redis.call('ping')",
    "return redis.call('echo', 'a\\0b')",
    "return redis.call('exists', 's', 'h', 'nokey')",
    "return redis.call('hmget', 'h', 'f', 'nofield', 'g')",
    "return redis.call('lpop', 'nolist', 2)",
    "return redis.call('type', 'z')",
    "return redis.call('incrbyfloat', 'fl', '1.5')",
    "return redis.pcall('incr', 's')",
    "local r = redis.pcall('incr', 's') return r['err']",
    "local r = redis.pcall('incr', 's') return r.ignore_error_stats_update",
    "local r = redis.pcall('incr', 's') local n = 0 for k in pairs(r) do n = n + 1 end return n",
    "return redis.call('GET', 's')",
    "return redis.call('set', 'num', 1.5)",
    "return redis.call('get', 'num')",
    "return redis.call('set', 'num', 1e20)",
    "return redis.call('get', 'num')",
    "return redis.call('set', 'num', 0.1)",
    "return redis.call('get', 'num')",
    "return redis.call('set', 'num', 2^60)",
    "return redis.call('get', 'num')",
    "redis.setresp(3) return redis.call('hgetall', 'h')",
    "redis.setresp(3) local r = redis.call('hgetall', 'h') return r.map.f",
    "redis.setresp(3) local r = redis.call('hgetall', 'h') local t = {} for k, v in pairs(r.map) do t[#t + 1] = k end return t",
    "redis.setresp(3) return redis.call('smembers', 'set')",
    "redis.setresp(3) return type(redis.call('smembers', 'set').set)",
    "redis.setresp(3) return redis.call('zscore', 'z', 'a')",
    "redis.setresp(3) return redis.call('zscore', 'z', 'a').double",
    "redis.setresp(3) return redis.call('zscore', 'z', 'c').double == -1/0",
    "redis.setresp(3) return redis.call('zrange', 'z', 0, -1, 'withscores')",
    "redis.setresp(3) return redis.call('get', 'nokey')",
    "redis.setresp(3) return type(redis.call('get', 'nokey'))",
    "redis.setresp(3) return redis.call('exists', 'h')",
    "redis.setresp(3) return true",
    "redis.setresp(3) return false",
    "redis.setresp(3) return {false, true}",
    "redis.setresp('3') return redis.call('hgetall', 'h')",
    "redis.setresp(3.7) return redis.call('hgetall', 'h')",
    "redis.setresp(3) redis.setresp(2) return redis.call('hgetall', 'h')",
    "redis.setresp(3) return redis.call('config', 'get', 'maxmemory')",
];

fn conversions(resp3: bool) {
    let mut p = Pair::start(&[]);
    if resp3 {
        p.hello3();
    }
    fixture(&mut p);
    for s in RESULTS.iter().chain(CALLS) {
        p.eval(s);
    }
    // KEYS and ARGV.
    p.same_str(&["EVAL", "return {KEYS, ARGV}", "2", "k1", "k2", "a1", "a2"]);
    p.same_str(&["EVAL", "return {#KEYS, #ARGV}", "0"]);
    p.same_str(&["EVAL", "return KEYS[1] .. ARGV[1]", "1", "k", "a"]);
    p.same_str(&["EVAL", "return {...}", "1", "k", "a"]);
    p.same_str(&["EVAL", "return select('#', ...)", "0"]);
    p.same_str(&[
        "EVAL",
        "KEYS[1] = 'x' ARGV[5] = 'y' return {KEYS[1], ARGV[5]}",
        "0",
    ]);
}

#[test]
fn conversions_resp2() {
    conversions(false);
}

#[test]
fn conversions_resp3() {
    conversions(true);
}

/// Every byte the server on `port` sends in answer to `bytes`, until it stays quiet (for
/// replies nested deeper than the test reader follows).
fn exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(bytes).expect("write");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 1 << 16];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Tables nested deeper than Redis's Lua stack allows (even one that contains itself) are
/// cut where Redis cuts them, with its error in place of the element.
#[test]
fn deep_results_stop_where_redis_stops() {
    let p = Pair::start(&[]);
    for (script, resp3) in [
        ("local t = {} local c = t for i = 1, 9000 do local n = {} c[1] = n c = n end return t", false),
        ("local t = {} t[1] = t return t", false),
        ("local t = {} local c = t for i = 1, 9000 do local n = {} c.map = n c = n end return t", false),
        ("local t = {} local c = t for i = 1, 9000 do local n = {} c[1] = {map = {x = n}} c = n end return t", true),
        ("local t = {} local c = t for i = 1, 9000 do local n = {} c.set = {[n] = true} c = n end return t", true),
    ] {
        let mut bytes = Vec::new();
        if resp3 {
            common::encode_into(&mut bytes, &[b"HELLO", b"3"]);
        }
        common::encode_into(&mut bytes, &[b"EVAL", script.as_bytes(), b"0"]);
        let ours = exchange(p.ours.port, &bytes);
        let redis = exchange(p.redis.port, &bytes);
        let skip = |b: &[u8]| -> usize {
            // HELLO's reply differs (id): compare from the EVAL's.
            if resp3 {
                memchr_after_modules(b)
            } else {
                0
            }
        };
        assert!(redis.ends_with(b"-ERR reached lua stack limit\r\n"));
        assert_eq!(
            common::escape(&ours[skip(&ours)..]),
            common::escape(&redis[skip(&redis)..]),
            "{script}"
        );
    }
}

/// The end of HELLO 3's reply (its last field is `modules`, an empty array).
fn memchr_after_modules(b: &[u8]) -> usize {
    let marker = b"$7\r\nmodules\r\n*0\r\n";
    b.windows(marker.len())
        .position(|w| w == marker)
        .map_or(0, |i| i + marker.len())
}

/// Scripts that fail, and how.
const ERRORS: &[&str] = &[
    // Runtime and compile errors.
    "error('boom')",
    "error('boom', 0)",
    "error({err='X boom'})",
    "error({err='boom'})",
    "error({err='a\\nb'})",
    "error({err=5})",
    "error({err=''})",
    "error(redis.error_reply('MY err'))",
    "error()",
    "error(nil)",
    "error(12)",
    "error(true)",
    "local t = nil; return t.x",
    "\n\nlocal x = nil\nreturn x.y",
    "#!lua\n\nlocal x = nil\nreturn x.y",
    "return (",
    "#!lua\nreturn (",
    "\nreturn (",
    "return 'a' .. ",
    "x(",
    "syntax error here",
    "\u{1b}Lua",
    "return loadstring(string.dump(function() return 1 end))()",
    "return {loadstring(string.dump(function() return 1 end))}",
    "return select(2, loadstring(string.dump(function() return 1 end)))",
    "return select(2, loadstring('return ('))",
    "return select(2, loadstring('\u{1b}'))",
    "local n = 0 return select(2, load(function() n = n + 1 if n == 1 then return string.dump(function() return 1 end) end return nil end))",
    "return loadstring('return 5')()",
    "return loadstring('x=1')()",
    "local f = loadstring('x = 5') return {pcall(f)}",
    "return {pcall(loadstring('error(\"e\")', 'nm'))}",
    // redis.call and redis.pcall.
    "return redis.call('nosuch')",
    "return redis.pcall('nosuch')",
    "return redis.call('get')",
    "return redis.pcall('get')",
    "redis.call('set', 's', 'x') return redis.call('incr', 's')",
    "redis.call('set', 's', 'x') local v = redis.call('incr', 's') return v",
    "return redis.pcall('incr', 's')",
    "return redis.call()",
    "return redis.pcall()",
    "return redis.call({})",
    "return redis.call('set', 'a', {})",
    "return redis.pcall('set', 'a', nil)",
    "return redis.call('client')",
    "return redis.call('client', 'nosuch')",
    "return redis.call('config', 'nosuch')",
    "return redis.call('select', 99)",
    "return redis.pcall('select', 99)",
    "return redis.call('zadd', 'zz', 'nan', 'a')",
    "return pcall(redis.call, 'lpush', 's', 'a')",
    "local ok, e = pcall(redis.call, 'lpush', 's', 'a') return e",
    "local ok, e = pcall(redis.call, 'nosuch') return e",
    "local ok, e = pcall(error, {err='x'}) return e",
    "local ok, e = pcall(error, {foo='x'}) return type(e)",
    "return select('#', pcall(error, {foo='x'}))",
    "local ok, e = pcall(error, 'x') return e",
    "local ok, e = pcall(function() local t = nil; return t.x end) return e",
    "local ok, e = pcall(redis.sha1hex) return e",
    "local ok, e = pcall(function() x = 1 end) return e",
    "local ok, e = pcall(function() return nosuchvar end) return e",
    "return {pcall(function() return 1, 2 end)}",
    "return {xpcall(function() error('q') end, function(e) return 'h:' .. e end)}",
    "return __redis__err__handler('x')",
    // Commands scripts may not call.
    "return redis.call('subscribe', 'a')",
    "return redis.call('eval', 'return 1', 0)",
    "return redis.call('multi')",
    "return redis.call('exec')",
    "return redis.call('watch', 'x')",
    "return redis.call('client', 'id')",
    "return redis.call('hello')",
    "return redis.call('auth', 'x')",
    "return redis.call('quit')",
    "return redis.call('shutdown')",
    "return redis.call('script', 'load', 'return 1')",
    "return redis.call('config', 'set', 'maxmemory', '0')",
    "return redis.call('blpop', 'nolist', 0)",
    "return redis.call('brpoplpush', 'nolist', 'x', 0)",
    "return redis.call('blmove', 'nolist', 'x', 'left', 'right', 0)",
    "return redis.call('bzpopmin', 'nolist', 0)",
    "return redis.call('save')",
    "return redis.call('bgsave')",
    "return redis.call('reset')",
    // Helpers.
    "return redis.sha1hex()",
    "return redis.sha1hex('a', 'b')",
    "return redis.log(redis.LOG_WARNING)",
    "return redis.log('x', 'y')",
    "return redis.log(9, 'y')",
    "return redis.log(-1, 'y')",
    "redis.setresp(4)",
    "redis.setresp()",
    "redis.setresp('x')",
    "return redis.set_repl(9)",
    "return redis.set_repl()",
    "return redis.set_repl(-1)",
    "return redis.acl_check_cmd('nosuch')",
    "return redis.acl_check_cmd()",
    "return redis.acl_check_cmd({})",
    "return math.random('x')",
    "return math.random(0)",
    "return math.random(3, 1)",
    "return math.random(1, 'y')",
    "return math.random(1, 2, 3)",
    "math.randomseed('x')",
    "math.randomseed()",
    "local r = math.random return r('x')",
    // The sandbox.
    "x = 1",
    "return y",
    "_G.x = 1",
    "return _G.x",
    "KEYS = 1",
    "function f() return 1 end",
    "string.len = nil",
    "string.x = 1",
    "math.pi = 3",
    "redis.call = 1",
    "table.insert = nil",
    "rawset(_G, 'x', 1)",
    "rawset(string, 'x', 1)",
    "rawset(redis, 'call', 1)",
    "rawset(nil, 'x', 1)",
    "rawset({}, 'x')",
    "setmetatable(_G, nil)",
    "setmetatable(string, {})",
    "setmetatable({}, 1)",
    "getmetatable('').__index = {}",
    "local mt = getmetatable('') mt.x = 1",
    "getmetatable('').__index.len = nil",
    "getmetatable(_G).__index = nil",
    "return table.insert(_G, 1)",
    "return table.insert(string, 1)",
    "return table.insert(nil, 1)",
    "return os",
    "return io",
    "return debug",
    "return loadfile",
    "return dofile",
    "return print",
    "return package",
    "return require",
    "return module",
    "return getfenv",
    "return setfenv",
    "return newproxy",
    "error(string)",
    "return _G[true]",
    "coroutine.wrap(function() error('in co') end)()",
    "return table.sort({3, 1, 2}, error)",
    // redis.call's error seen by pcall, xpcall handlers, coroutines and the handler.
    "redis.call('incr', 's')",
    "local t = {} t[1] = redis.call('nosuch')",
    "return {pcall(redis.call, 'nosuch')}",
    "return select('#', pcall(redis.call, 'incr', 's'))",
    "local ok, e = pcall(redis.pcall) return e",
    "return {xpcall(function() return redis.call('nosuch') end, \
     function(e) return type(e) .. ' ' .. e.err end)}",
    "return {xpcall(function() redis.call('incr', 's') end, function(e) return e end)}",
    "local ok, e = xpcall(function() redis.call('incr', 's') end, function(e) return e end) \
     return {type(e), e.err, tostring(e.ignore_error_stats_update)}",
    "local co = coroutine.create(function() redis.call('incr', 's') end) \
     local ok, e = coroutine.resume(co) \
     return {tostring(ok), type(e), e.err, tostring(e.ignore_error_stats_update)}",
    "local co = coroutine.create(function() return redis.call() end) \
     local ok, e = coroutine.resume(co) return {tostring(ok), e.err}",
    "local co = coroutine.create(function() return cjson.decode('x') end) \
     return {coroutine.resume(co)}",
    "local co = coroutine.create(function() return 1, 2 end) return {coroutine.resume(co)}",
    "local co = coroutine.create(function() end) coroutine.resume(co) \
     return {coroutine.resume(co)}",
    "return coroutine.resume(1)",
    "return coroutine.resume()",
    "local ok, e = pcall(coroutine.wrap(function() redis.call('nosuch') end)) return e",
    "coroutine.wrap(function() redis.call('nosuch') end)()",
    "local ok, e = pcall(function() redis.call('incr', 's') end) error(e)",
];

fn errors(resp3: bool) {
    let mut p = Pair::start(&[]);
    if resp3 {
        p.hello3();
    }
    fixture(&mut p);
    for s in ERRORS {
        p.eval(s);
    }
    // Errors before the script runs.
    for line in [
        &["EVAL", "return 1", "2", "k"][..],
        &["EVAL", "return 1", "-1"],
        &["EVAL", "return 1", "x"],
        &["EVAL", "return 1", "01"],
        &["EVAL", "return 1", "1.5"],
        &["EVAL", "return 1", "9223372036854775807"],
        &["EVAL"],
        &["EVAL", "return 1"],
        &["EVALSHA", "abc", "0"],
        &["EVALSHA", "abc", "x"],
        &["EVALSHA", "0123456789012345678901234567890123456789", "0"],
        &[
            "EVALSHA_RO",
            "0123456789012345678901234567890123456789",
            "0",
        ],
        &["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
        &["EVAL", "#!lua flags=no-writes,bogus\nreturn 1", "0"],
        &["EVAL", "#!lua flags=no-writes,\nreturn 1", "0"],
        &["EVAL", "#!lua name=x\nreturn 1", "0"],
        &["EVAL", "#!python\nreturn 1", "0"],
        &["EVAL", "#!lua", "0"],
        &["EVAL", "#!\nreturn 1", "0"],
        &["EVAL", "#! lua\nreturn 1", "0"],
        &["EVAL", "#!lua \"x\nreturn 1", "0"],
        &["EVAL", "#!lua flags=\nreturn 1", "0"],
        &["EVAL", "#!lua  flags=no-writes  \nreturn 1", "0"],
        &["EVAL", "#!lua \"flags=no-writes\"\nreturn 1", "0"],
        &[
            "EVAL",
            "#!lua flags=allow-cross-slot-keys,no-cluster,allow-stale\nreturn 1",
            "0",
        ],
        &["SCRIPT"],
        &["SCRIPT", "nosuch"],
        &["SCRIPT", "exists"],
        &["SCRIPT", "load"],
        &["SCRIPT", "load", "a", "b"],
        &["SCRIPT", "load", "return ("],
        &["SCRIPT", "load", "#!lua flags=bogus\nreturn 1"],
        &["SCRIPT", "flush", "x"],
        &["SCRIPT", "flush", "async", "x"],
        &["SCRIPT", "help", "x"],
    ] {
        p.same_str(line);
    }
}

#[test]
fn errors_resp2() {
    errors(false);
}

#[test]
fn errors_resp3() {
    errors(true);
}

/// Helpers and globals that succeed.
#[test]
fn redis_helpers_and_globals() {
    let mut p = Pair::start(&[]);
    for s in [
        "return redis.sha1hex('')",
        "return redis.sha1hex(12)",
        "return redis.sha1hex({})",
        "return redis.sha1hex(nil)",
        "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
        "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_REPLICA, redis.REPL_SLAVE, redis.REPL_ALL}",
        "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}",
        "return redis.replicate_commands()",
        "return redis.breakpoint()",
        "return redis.debug('x')",
        "return redis.set_repl(redis.REPL_ALL)",
        "return redis.log(redis.LOG_DEBUG, 'quiet')",
        "return redis.acl_check_cmd('get', 'x')",
        "return redis.acl_check_cmd('client', 'id')",
        "return type(redis.error_reply('x'))",
        "return redis.error_reply('x').err",
        "return type(redis.status_reply())",
        "return redis.status_reply().err",
        "local t = {} for k in pairs(redis) do t[#t + 1] = k end return t",
        "local t = {} for k in pairs(string) do t[#t + 1] = k end return t",
        "local t = {} for k in pairs(math) do t[#t + 1] = k end return t",
        "local t = {} for k in pairs(table) do t[#t + 1] = k end return t",
        "local t = {} for k in pairs(coroutine) do t[#t + 1] = k end return t",
        "local t = {} for k, v in next, redis do t[#t + 1] = k end return t",
        "return rawget(string, 'len') ~= nil",
        "return rawget(_G, 'x')",
        "return rawget(_G, 'redis') == redis",
        "return rawequal(_G, _G)",
        "return _G._G == _G",
        "return type(getmetatable(_G))",
        "return getmetatable(_G)",
        "return type(getmetatable(string))",
        "return type(getmetatable(KEYS))",
        "return type(getmetatable('').__index)",
        "return getmetatable('').__index == string",
        "return ('abc'):upper()",
        "return _VERSION",
        "return math.mod(7, 3)",
        "return string.format('%d %s %5.2f', 3, 'x', 1.5)",
        "return table.getn({1, 2})",
        "return unpack({1, 2})",
        "return collectgarbage('count') > 0",
        "return gcinfo() > 0",
        "local t = setmetatable({}, {__index = function() return 7 end}) return t.x",
        "local t = {} rawset(t, 'k', 'v') return t.k",
        "local t = {3, 1, 2} table.sort(t) return t",
        "local t = {} table.insert(t, 'a') table.insert(t, 1, 'b') return t",
        "local n = 0 table.foreach({a = 1, b = 2}, function() n = n + 1 end) return n",
        "local f = function() return 1 end return f()",
        "coroutine.wrap(function() redis.call('set', 'co', '1') end)() return redis.call('get', 'co')",
        "local n = 0 return {load(function() n = n + 1 if n == 1 then return 'return 7' end return nil end)()}",
        "return #string.rep('x', 100000)",
        "local ok, v = pcall(function() return 1, 2 end) return {ok, v}",
        "return select('#', pcall(error))",
    ] {
        p.eval(s);
    }
}

/// Each run's KEYS and ARGV hold exactly its own arguments, whatever the runs before did to
/// theirs (ringkv empties and refills the same two tables; Redis makes new ones): added
/// fields, metatables (also protected ones), grown and shrunk arrays, removed elements, a
/// run that failed after changing them; over more than one collection period (50 runs).
#[test]
fn keys_and_argv_are_fresh_in_every_run() {
    let mut p = Pair::start(&[]);
    let probe = "local function d(t) local n = 0 for _ in pairs(t) do n = n + 1 end \
        return {n, #t, type(getmetatable(t)), unpack(t)} end return {d(KEYS), d(ARGV)}";
    let changes = [
        "KEYS.x = 1 KEYS[10] = 'a' ARGV.y = {} return #KEYS",
        "setmetatable(ARGV, {__metatable = 'locked', __index = function() return 'z' end}) \
         return ARGV[7]",
        "setmetatable(KEYS, {__index = function() return 'm' end}) return KEYS[5]",
        "for i = 1, 1000 do KEYS[i] = i end for i = 1, 1000 do KEYS[i] = nil end return #KEYS",
        "KEYS[1] = nil ARGV[#ARGV] = nil return {#KEYS, #ARGV}",
        "table.insert(ARGV, 'more') KEYS[2] = KEYS return #ARGV",
        "KEYS.x = 1 ARGV[3] = 'c' error('after changing them')",
        "return 1",
    ];
    let arg_lists: [&[&str]; 4] = [
        &["0"],
        &["1", "k1"],
        &["2", "k1", "k2", "a1", "a2", "a3"],
        &["0", "a1"],
    ];
    let eval = |p: &mut Pair, script: &str, args: &[&str]| {
        let mut cmd = vec!["EVAL", script];
        cmd.extend_from_slice(args);
        p.same_str(&cmd);
    };
    for round in 0..3 {
        for (i, change) in changes.iter().enumerate() {
            eval(&mut p, change, arg_lists[(i + round) % arg_lists.len()]);
            for args in arg_lists {
                eval(&mut p, probe, args);
            }
        }
    }
}

/// `math.random` draws Redis's sequence: from a fresh server, after each seed, and across
/// scripts (Redis 7.0 does not reseed before each script).
#[test]
fn math_random_sequence() {
    let mut p = Pair::start(&[]);
    for s in [
        "return tostring(math.random())",
        "return {math.random(100), math.random(5, 10), math.random(1e10)}",
        "return tostring(math.random())",
        "math.randomseed(0) return tostring(math.random())",
        "math.randomseed(42) return {tostring(math.random()), math.random(7)}",
        "return tostring(math.random())",
        "math.randomseed(-5.9) return tostring(math.random())",
        "math.randomseed(2^40 + 3) return tostring(math.random())",
        "math.randomseed('17') return tostring(math.random())",
        "local t = {} for i = 1, 20 do t[i] = math.random(1000) end return t",
    ] {
        p.eval(s);
    }
    // SCRIPT FLUSH makes a new interpreter; the sequence goes on.
    p.same_str(&["SCRIPT", "FLUSH"]);
    p.eval("return tostring(math.random())");
}

/// `redis.log` writes to the server log at the level given.
#[test]
fn redis_log_reaches_the_log() {
    let ours = Server::start(&[]);
    let mut c = ours.raw();
    c.cmd_str(&[
        "EVAL",
        "redis.log(redis.LOG_WARNING, 'from', 'a', {}, 'script', 5)",
        "0",
    ]);
    c.cmd_str(&["EVAL", "redis.log(redis.LOG_DEBUG, 'not shown')", "0"]);
    std::thread::sleep(Duration::from_millis(100));
    let log = ours.log_tail();
    assert!(log.contains("# from a script 5"), "{log}");
    assert!(!log.contains("not shown"), "{log}");
}

/// EVAL_RO, EVALSHA_RO and `no-writes` refuse writes; a shebang script that may write is
/// refused by the _RO commands up front.
#[test]
fn read_only_scripts_refuse_writes() {
    let mut p = Pair::start(&[]);
    p.both(&["SET", "x", "1"]);
    let sha = p.same_str(&["SCRIPT", "LOAD", "return redis.call('set', 'x', '2')"]);
    let sha = String::from_utf8_lossy(&sha[5..45]).into_owned();
    for line in [
        &["EVAL_RO", "return redis.call('set', 'x', '1')", "0"][..],
        &["EVAL_RO", "return redis.pcall('set', 'x', '1')", "0"],
        &["EVAL_RO", "return redis.call('get', 'x')", "0"],
        &["EVAL_RO", "return redis.call('del', 'x')", "0"],
        &["EVALSHA_RO", &sha, "0"],
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('set', 'x', '1')",
            "0",
        ],
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('get', 'x')",
            "0",
        ],
        &["EVAL", "#!lua\nreturn redis.call('set', 'x', '3')", "0"],
        &["EVAL_RO", "#!lua\nreturn 1", "0"],
        &["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
        &["EVAL_RO", "#!lua flags=allow-oom\nreturn 1", "0"],
        &["GET", "x"],
    ] {
        p.same_str(line);
    }
}

/// SELECT inside a script moves the script only: the caller stays in its database, and the
/// script's keys land where it selected.
#[test]
fn select_inside_a_script() {
    let mut p = Pair::start(&[]);
    for line in [
        &["FLUSHALL"][..],
        &["SELECT", "1"],
        &[
            "EVAL",
            "redis.call('set', 'in1', 'a') redis.call('select', 3) redis.call('set', 'in3', 'b') return {redis.call('get', 'in3'), redis.call('get', 'in1')}",
            "0",
        ],
        &["GET", "in1"],
        &["GET", "in3"],
        &["SELECT", "3"],
        &["GET", "in3"],
        &["EVAL", "return redis.call('get', 'in3')", "0"],
        &["EVAL", "redis.call('select', 0) return redis.call('dbsize')", "0"],
        &["DBSIZE"],
        &["EVAL", "redis.call('swapdb', 1, 3) return redis.call('get', 'in1')", "0"],
        &["GET", "in1"],
    ] {
        p.same_str(line);
    }
}

/// SCRIPT LOAD, EXISTS, FLUSH and EVALSHA with the cache.
#[test]
fn script_cache() {
    let mut p = Pair::start(&[]);
    for line in [
        &["SCRIPT", "LOAD", "return 1"][..],
        &["SCRIPT", "LOAD", "return 1"],
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB",
            "x",
        ],
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
        &["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"],
        &[
            "EVALSHA_RO",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "0",
        ],
        &["EVAL", "return 2", "0"],
        &["EVALSHA", "7f923f79fe76194c868d7e1d0820de36700eb649", "0"],
        &["SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 3"],
        &[
            "SCRIPT",
            "EXISTS",
            "7f923f79fe76194c868d7e1d0820de36700eb649",
        ],
        &["SCRIPT", "FLUSH"],
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
        ],
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
        &["SCRIPT", "LOAD", "return 1"],
        // Run again in the new interpreter (ringkv keeps the last script run at hand).
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
        &["SCRIPT", "FLUSH", "ASYNC"],
        &["SCRIPT", "FLUSH", "sync"],
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
        ],
        &["EVAL", "return redis.sha1hex('return 5')", "0"],
    ] {
        p.same_str(line);
    }
    let mut ours = p.ours.raw();
    let cached = ours.info_int("memory", "number_of_cached_scripts");
    let mut redis = p.redis.raw();
    assert_eq!(cached, redis.info_int("memory", "number_of_cached_scripts"));
    assert_eq!(cached, 1);
    // The INFO memory fields Redis 7.0.15 shows for EVAL scripts.
    for field in [
        "used_memory_lua",
        "used_memory_vm_eval",
        "used_memory_scripts_eval",
    ] {
        assert!(ours.info_int("memory", field) > 0, "{field}");
    }
}

/// Over maxmemory: a legacy script's denyoom commands are refused until it has written; a
/// shebang script that may write is refused up front unless `allow-oom`; `no-writes` runs.
#[test]
fn out_of_memory_rules() {
    let mut p = Pair::start(&[]);
    p.both(&["SET", "k", "v"]);
    p.both(&["CONFIG", "RESETSTAT"]);
    p.both(&["CONFIG", "SET", "maxmemory", "1"]);
    for line in [
        &["EVAL", "return redis.call('set', 'a', 'b')", "0"][..],
        &["EVAL", "return redis.call('get', 'k')", "0"],
        &["EVAL", "return redis.pcall('set', 'a', 'b')", "0"],
        &[
            "EVAL",
            "redis.call('del', 'nokey') return redis.pcall('set', 'a', 'b')",
            "0",
        ],
        &["EVAL", "return 1", "0"],
        &["EVAL", "#!lua\nreturn 1", "0"],
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('get', 'k')",
            "0",
        ],
        &[
            "EVAL",
            "#!lua flags=allow-oom\nreturn redis.call('set', 'c', 'd')",
            "0",
        ],
        &["EVAL_RO", "return redis.call('get', 'k')", "0"],
        &["MULTI"],
        &["EVAL", "#!lua\nreturn 1", "0"],
        &["EXEC"],
    ] {
        p.same_str(line);
    }
    p.both(&["CONFIG", "SET", "maxmemory", "0"]);
    // A script refused up front for what it declares counts as a rejected call.
    same_stats(&p);
}

/// Inside a script blocking commands answer at once, as inside MULTI.
#[test]
fn blocking_commands_do_not_block() {
    let mut p = Pair::start(&[]);
    p.both(&["RPUSH", "l", "a"]);
    for s in [
        "return redis.call('blmpop', 0, 1, 'nolist', 'left')",
        "return redis.call('bzmpop', 0, 1, 'nozset', 'min')",
        "return redis.call('blmpop', 0, 1, 'l', 'left')",
    ] {
        p.eval(s);
    }
}

/// A script inside MULTI is queued and runs in EXEC; a script's writes make a watcher's
/// EXEC fail.
#[test]
fn transactions_and_watch() {
    let mut p = Pair::start(&[]);
    let mut other_o = p.ours.raw();
    let mut other_r = p.redis.raw();
    for line in [
        &["MULTI"][..],
        &["EVAL", "return redis.call('incr', 'n')", "0"],
        &["EVAL", "return redis.call('incr', 'n')", "0"],
        &["EXEC"],
        &["WATCH", "w"],
    ] {
        p.same_str(line);
    }
    let script = ["EVAL", "return redis.call('set', 'w', '1')", "0"];
    assert_eq!(other_o.cmd_str(&script), other_r.cmd_str(&script));
    for line in [&["MULTI"][..], &["PING"], &["EXEC"]] {
        p.same_str(line);
    }
}

/// Keyspace events fire for a script's commands as for a client's, and a RESP3 caller
/// subscribed to its own events gets them before the EVAL's reply.
#[test]
fn keyspace_events_and_own_pushes() {
    let mut p = Pair::start(&["--notify-keyspace-events", "KEA"]);
    let mut sub_o = p.ours.raw();
    let mut sub_r = p.redis.raw();
    for s in [&mut sub_o, &mut sub_r] {
        s.cmd_str(&["PSUBSCRIBE", "__key*__:*"]);
    }
    p.eval(
        "redis.call('set', 'k', 'v') redis.call('lpush', 'l', 'a') redis.call('del', 'k') return 1",
    );
    for _ in 0..6 {
        assert_eq!(sub_o.read_reply(), sub_r.read_reply());
    }
    // The caller subscribed to its own channel in RESP3: PUBLISH inside a script.
    p.hello3();
    p.same_str(&["SUBSCRIBE", "ch"]);
    let script = a(&[
        "EVAL",
        "redis.call('publish', 'ch', 'm') redis.call('set', 'k2', 'v') return 'done'",
        "0",
    ]);
    let refs: Vec<&[u8]> = script.iter().map(Vec::as_slice).collect();
    let bytes = common::encode(&refs);
    p.o.send(&bytes);
    p.r.send(&bytes);
    for _ in 0..2 {
        let ours = p.o.read_reply_bytes();
        let redis = p.r.read_reply_bytes();
        assert_eq!(common::escape(&ours), common::escape(&redis));
    }
    p.same_str(&["PING"]);
}

/// Commandstats count the script's commands (refused ones as rejected) and EVAL once, and
/// errors are counted once, where they arose.
#[test]
fn commandstats_and_error_counts() {
    let mut p = Pair::start(&[]);
    p.both(&["CONFIG", "RESETSTAT"]);
    for line in [
        &["EVAL", "redis.pcall('get') return 1", "0"][..],
        &["EVAL", "redis.pcall('nosuch') return 1", "0"],
        &["EVAL_RO", "redis.pcall('set', 'a', 'b') return 1", "0"],
        &["EVAL", "redis.pcall('blpop', 'a', 0) return 1", "0"],
        &[
            "EVAL",
            "redis.pcall('lpush', 's', 'x') redis.pcall('incr', 's') return 1",
            "0",
        ],
        &["EVAL", "return redis.pcall('incr', 's')", "0"],
        &["EVAL", "return redis.call('incr', 's')", "0"],
        &["EVAL", "return redis.call('get')", "0"],
        &["EVAL", "return {err='MY thing'}", "0"],
        &["EVAL", "error('x')", "0"],
        &["EVAL", "return redis.error_reply('FOO bar')", "0"],
        &[
            "EVAL",
            "return {redis.pcall('incr', 's'), redis.pcall('incr', 's'), {err='E x'}}",
            "0",
        ],
        &["EVAL", "return 1", "x"],
        &["EVALSHA", "x", "0"],
    ] {
        p.same_str(line);
    }
    same_stats(&p);
}

/// Commandstats without timings (and without CONFIG's, which set the stage), sorted.
fn stats(c: &mut common::Raw) -> Vec<String> {
    let Reply::Bulk(Some(b)) = c.cmd_str(&["INFO", "commandstats"]) else {
        panic!("INFO");
    };
    let mut lines: Vec<String> = String::from_utf8_lossy(&b)
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_config"))
        .map(|l| {
            let (name, rest) = l.split_once(':').unwrap();
            let kept: Vec<&str> = rest.split(',').filter(|f| !f.starts_with("usec")).collect();
            format!("{name}:{}", kept.join(","))
        })
        .collect();
    lines.sort();
    lines
}

/// Both servers count the same calls, rejections, failures and error replies.
#[track_caller]
fn same_stats(p: &Pair) {
    let (mut o, mut r) = (p.ours.raw(), p.redis.raw());
    assert_eq!(stats(&mut o), stats(&mut r));
    for field in ["total_error_replies", "total_commands_processed"] {
        assert_eq!(
            o.info_int("stats", field),
            r.info_int("stats", field),
            "{field}"
        );
    }
}

/// Client-side caching as Redis 7.0 does it around scripts: a read-only command inside a
/// script makes the caller remember the script's declared keys (KEYS), not the keys that
/// command read; EVAL_RO's own key positions are not reads; an invalidation for a key the
/// script itself modifies reaches the caller after the EVAL's reply.
#[test]
fn client_side_caching_around_scripts() {
    let mut p = Pair::start(&[]);
    p.hello3();
    p.same_str(&["CLIENT", "TRACKING", "on"]);
    let (mut other_o, mut other_r) = (p.ours.raw(), p.redis.raw());
    for line in [
        &["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"][..],
        &["EVAL", "return redis.call('get', 'k2')", "0"],
        &["EVAL_RO", "return 1", "1", "k3"],
        &[
            "EVAL",
            "redis.call('set', 'k4', '1') return redis.call('get', 'k4')",
            "0",
        ],
        &[
            "EVAL_RO",
            "return redis.call('get', 'other')",
            "2",
            "k5",
            "k6",
        ],
    ] {
        p.same_str(line);
    }
    for k in ["k", "k2", "k3", "k4", "k5", "k6", "other"] {
        assert_eq!(
            other_o.cmd_str(&["SET", k, "x"]),
            other_r.cmd_str(&["SET", k, "x"])
        );
    }
    // The invalidations that came, then PING's reply, frame by frame.
    let ping = common::encode(&[b"PING"]);
    p.o.send(&ping);
    p.r.send(&ping);
    let mut frames = 0;
    loop {
        let ours = p.o.read_reply_bytes();
        let redis = p.r.read_reply_bytes();
        assert_eq!(common::escape(&ours), common::escape(&redis));
        frames += 1;
        if redis.starts_with(b"+PONG") {
            break;
        }
    }
    assert_eq!(frames, 4, "invalidations of k, k5 and k6, then PONG");
    // A script that reads and then writes its own key: the invalidation follows the reply.
    let script = a(&[
        "EVAL",
        "redis.call('get', KEYS[1]) redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])",
        "1",
        "mine",
    ]);
    let refs: Vec<&[u8]> = script.iter().map(Vec::as_slice).collect();
    p.o.send(&common::encode(&refs));
    p.r.send(&common::encode(&refs));
    for _ in 0..2 {
        assert_eq!(
            common::escape(&p.o.read_reply_bytes()),
            common::escape(&p.r.read_reply_bytes())
        );
    }
}

/// The commands of the first incremental AOF file in `dir`, PXAT and PEXPIREAT times masked.
fn aof_commands(dir: &TempDir) -> Vec<Vec<String>> {
    let path = dir
        .0
        .join("appendonlydir")
        .join("appendonly.aof.1.incr.aof");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cmds = ringkv::persist::aof::parse_aof(&bytes).expect("a valid AOF");
    cmds.iter()
        .map(|c| {
            let mut words: Vec<String> = c
                .iter()
                .map(|w| String::from_utf8_lossy(w).to_lowercase())
                .collect();
            for i in 1..words.len() {
                if words[i - 1] == "pxat" {
                    words[i] = "<time>".into();
                }
            }
            // An EXPIRE's absolute deadline comes from each server's own clock.
            if words.len() == 3 && words[0] == "pexpireat" {
                words[2] = "<time>".into();
            }
            words
        })
        .collect()
}

/// A script's writes reach the AOF as its effects, several of them wrapped in MULTI/EXEC
/// (SELECT where the script changes database, SET EX as SET PXAT, nothing for writes that
/// changed nothing or after `redis.set_repl(REPL_NONE)`): the same file redis-server writes.
#[test]
fn aof_holds_the_effects_of_scripts() {
    let (od, rd) = (TempDir::new("ours"), TempDir::new("redis"));
    let ours = Server::start(&["--appendonly", "yes", "--dir", od.0.to_str().unwrap()]);
    let redis = Server::start_redis(&["--appendonly", "yes", "--dir", rd.0.to_str().unwrap()]);
    let mut p = Pair {
        o: ours.raw(),
        r: redis.raw(),
        ours,
        redis,
    };
    for s in [
        "redis.call('set', 'a', '1', 'ex', '100') redis.call('incr', 'n') return 1",
        "redis.call('set', 'b', '1') return 1",
        "return redis.call('get', 'b')",
        "redis.call('select', 2) redis.call('set', 'c', '1') redis.call('select', 0) redis.call('set', 'd', 1) return 1",
        "redis.set_repl(redis.REPL_NONE) redis.call('set', 'e', '1') redis.set_repl(redis.REPL_ALL) redis.call('set', 'f', '1') return 1",
        "redis.set_repl(redis.REPL_NONE) redis.call('set', 'g', '1') return 1",
        "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'g2', '1') redis.set_repl(redis.REPL_AOF) redis.call('set', 'g3', '1') return 1",
        "redis.call('set', 'h', '1') error('x')",
        "redis.call('lpush', 'l', 'a', 'b') redis.call('spop', 'nos') redis.call('del', 'nosuch') return redis.call('lpop', 'l')",
        "redis.call('incrbyfloat', 'f', '1.5') redis.call('expire', 'b', 100) return 1",
    ] {
        p.eval(s);
    }
    p.same_str(&["SELECT", "1"]);
    p.eval("redis.call('set', 'i', '1') redis.call('set', 'j', '1') return 1");
    p.same_str(&["MULTI"]);
    p.eval("redis.call('set', 'm1', '1') return 1");
    p.same_str(&["SET", "m2", "1"]);
    p.same_str(&["EXEC"]);
    // Both have written every acknowledged effect (appendfsync everysec writes at once).
    std::thread::sleep(Duration::from_millis(200));
    let ours = aof_commands(&od);
    let redis = aof_commands(&rd);
    assert_eq!(ours, redis);
    assert!(ours.iter().any(|c| c[0] == "multi"), "{ours:?}");
}

// ---------------------------------------------------------------------------------------------
// Library scripts

/// redis-py's Lock: acquire (SET NX PX), reacquire, extend and release scripts, run in the
/// orders a client uses them.
const LOCK_RELEASE: &str = "
    local token = redis.call('get', KEYS[1])
    if not token or token ~= ARGV[1] then
        return 0
    end
    redis.call('del', KEYS[1])
    return 1
";
const LOCK_EXTEND: &str = "
    local token = redis.call('get', KEYS[1])
    if not token or token ~= ARGV[1] then
        return 0
    end
    local expiration = redis.call('pttl', KEYS[1])
    if not expiration then
        expiration = 0
    end
    if expiration < 0 then
        return 0
    end

    local newttl = ARGV[2]
    if ARGV[3] == \"0\" then
        newttl = ARGV[2] + expiration
    end
    redis.call('pexpire', KEYS[1], newttl)
    return 1
";
const LOCK_REACQUIRE: &str = "
    local token = redis.call('get', KEYS[1])
    if not token or token ~= ARGV[1] then
        return 0
    end
    redis.call('pexpire', KEYS[1], ARGV[2])
    return 1
";

/// A token bucket (the Spring Cloud Gateway rate limiter's script).
const TOKEN_BUCKET: &str = "
local tokens_key = KEYS[1]
local timestamp_key = KEYS[2]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local fill_time = capacity/rate
local ttl = math.floor(fill_time*2)
local last_tokens = tonumber(redis.call(\"get\", tokens_key))
if last_tokens == nil then
  last_tokens = capacity
end
local last_refreshed = tonumber(redis.call(\"get\", timestamp_key))
if last_refreshed == nil then
  last_refreshed = 0
end
local delta = math.max(0, now-last_refreshed)
local filled_tokens = math.min(capacity, last_tokens+(delta*rate))
local allowed = filled_tokens >= requested
local new_tokens = filled_tokens
local allowed_num = 0
if allowed then
  new_tokens = filled_tokens - requested
  allowed_num = 1
end
if ttl > 0 then
  redis.call(\"setex\", tokens_key, ttl, new_tokens)
  redis.call(\"setex\", timestamp_key, ttl, now)
end
return { allowed_num, new_tokens }
";

/// A reliable queue step: moves a job between lists the script names itself (not in KEYS),
/// counting moves in a hash.
const QUEUE_MOVE: &str = "
local job = redis.call('rpop', 'queue:' .. ARGV[1])
if not job then
    return false
end
redis.call('lpush', 'queue:' .. ARGV[2], job)
redis.call('hincrby', 'stats:' .. ARGV[1], 'moved', 1)
return {job, redis.call('llen', 'queue:' .. ARGV[2])}
";

#[test]
fn library_scripts() {
    let mut p = Pair::start(&[]);
    // redis-py's Lock.
    let release =
        String::from_utf8(p.same_str(&["SCRIPT", "LOAD", LOCK_RELEASE])[5..45].to_vec()).unwrap();
    let extend =
        String::from_utf8(p.same_str(&["SCRIPT", "LOAD", LOCK_EXTEND])[5..45].to_vec()).unwrap();
    let reacquire =
        String::from_utf8(p.same_str(&["SCRIPT", "LOAD", LOCK_REACQUIRE])[5..45].to_vec()).unwrap();
    for line in [
        &["SET", "lock:x", "tok1", "NX", "PX", "100000"][..],
        &["SET", "lock:x", "tok2", "NX", "PX", "100000"],
        &["EVALSHA", &release, "1", "lock:x", "tok2"],
        &["EVALSHA", &extend, "1", "lock:x", "tok2", "5000", "0"],
        &["EVALSHA", &extend, "1", "lock:x", "tok1", "500000", "1"],
        &["EVALSHA", &reacquire, "1", "lock:x", "tok1", "600000"],
        &["EVALSHA", &release, "1", "lock:x", "tok1"],
        &["EXISTS", "lock:x"],
        &["EVALSHA", &extend, "1", "lock:x", "tok1", "5000", "0"],
        &["SET", "lock:y", "t", "NX"],
        &["EVALSHA", &extend, "1", "lock:y", "t", "5000", "0"],
    ] {
        p.same_str(line);
    }
    // The token bucket, with fixed timestamps so that both servers see the same clock.
    for (now, want) in [
        ("100", "1"),
        ("100", "1"),
        ("100", "1"),
        ("100", "0"),
        ("101", "1"),
    ] {
        let reply = p.same_str(&[
            "EVAL",
            TOKEN_BUCKET,
            "2",
            "rl.tokens",
            "rl.ts",
            "1",
            "3",
            now,
            "1",
        ]);
        assert!(
            reply.starts_with(format!("*2\r\n:{want}\r\n").as_bytes()),
            "{}",
            common::escape(&reply)
        );
    }
    p.same_str(&["GET", "rl.tokens"]);
    p.same_str(&["TTL", "rl.ts"]);
    // The queue.
    p.both(&["RPUSH", "queue:pending", "j1", "j2", "j3"]);
    for _ in 0..4 {
        p.same_str(&["EVAL", QUEUE_MOVE, "0", "pending", "processing:w1"]);
    }
    p.same_str(&["LRANGE", "queue:processing:w1", "0", "-1"]);
    p.same_str(&["HGETALL", "stats:pending"]);
}

/// A script running past 5 seconds (Redis's busy-reply-threshold) is logged as slow, once.
/// (Unlike Redis, ringkv cannot serve other clients meanwhile or kill it: see
/// `cmd::scripting`.)
#[test]
fn slow_scripts_are_logged() {
    let ours = Server::start(&[]);
    let mut c = ours.raw();
    let spin = "local function now() local t = redis.call('time') \
                return tonumber(t[1]) + tonumber(t[2]) / 1e6 end \
                local s = now() while now() - s < 5.3 do end return 1";
    assert_eq!(c.cmd_str(&["EVAL", spin, "0"]), Reply::Int(1));
    assert_eq!(c.cmd_str(&["EVAL", "return 2", "0"]), Reply::Int(2));
    let log = ours.log_tail();
    assert_eq!(log.matches("Slow script detected").count(), 1, "{log}");
}

/// A client blocked on a list is served by a script's push, once the script has ended (it
/// gets the first element: the script's second push is not popped in between).
#[test]
fn blocked_clients_are_served_after_the_script() {
    let p = Pair::start(&[]);
    let (mut wait_o, mut wait_r) = (p.ours.raw(), p.redis.raw());
    let blpop = common::encode(&[b"BLPOP", b"q", b"0"]);
    wait_o.send(&blpop);
    wait_r.send(&blpop);
    let (mut o, mut r) = (p.ours.raw(), p.redis.raw());
    o.wait_blocked(1);
    r.wait_blocked(1);
    let script = [
        "EVAL",
        "redis.call('rpush', 'q', 'x') redis.call('rpush', 'q', 'y') return redis.call('llen', 'q')",
        "0",
    ];
    assert_eq!(o.cmd_str(&script), r.cmd_str(&script));
    assert_eq!(wait_o.read_reply(), wait_r.read_reply());
    assert_eq!(
        o.cmd_str(&["LRANGE", "q", "0", "-1"]),
        r.cmd_str(&["LRANGE", "q", "0", "-1"])
    );
}
