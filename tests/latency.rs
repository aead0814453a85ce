//! The latency monitor against redis-server 7.0.15: LATENCY's reply shapes and error texts
//! on both servers (times and latencies differ, so replies are compared with them masked),
//! `latency-monitor-threshold` as a setting and a flag, the events ringkv times (`command`
//! from DEBUG SLEEP, `fast-command`, `expire-cycle`, `eviction-cycle`, `aof-write`)
//! appearing as in Redis; and the
//! per-command histograms: LATENCY HISTOGRAM, INFO `latencystats`, `latency-tracking` and
//! `latency-tracking-info-percentiles`.

mod common;

use common::{Raw, Reply, Server};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn s(c: &mut Raw, line: &str) -> Reply {
    let args: Vec<&str> = line.split(' ').collect();
    c.cmd_str(&args)
}

fn items(r: &Reply) -> Vec<Reply> {
    match r {
        Reply::Array(Some(v)) => v.clone(),
        other => panic!("expected an array, got {other:?}"),
    }
}

fn int(r: &Reply) -> i64 {
    match r {
        Reply::Int(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
        Reply::Status(s) => s.clone(),
        Reply::Verbatim { text, .. } => String::from_utf8_lossy(text).into_owned(),
        other => panic!("expected a string, got {other:?}"),
    }
}

fn unix_now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Both servers, with DEBUG allowed (DEBUG SLEEP makes `command` events).
fn pair(extra: &[&str]) -> (Server, Server) {
    let mut args = vec!["--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    (Server::start(&args), Server::start_redis(&args))
}

/// A LATEST reply with times and latencies checked and masked: (event, latest ≥ min).
fn latest_events(r: &Reply, min_ms: i64) -> Vec<String> {
    let now = unix_now_s();
    items(r)
        .iter()
        .map(|e| {
            let f = items(e);
            assert_eq!(f.len(), 4, "entry {e:?}");
            let (t, last, max) = (int(&f[1]), int(&f[2]), int(&f[3]));
            assert!(
                (now - 5..=now + 1).contains(&t),
                "time {t} vs now {now}: {e:?}"
            );
            assert!(last >= min_ms && max >= last, "{e:?}");
            text(&f[0])
        })
        .collect()
}

#[test]
fn replies_and_errors_without_samples_match_redis() {
    let (ours, redis) = pair(&[]);
    let lines = [
        "CONFIG GET latency-monitor-threshold",
        "LATENCY LATEST",
        "LATENCY HISTORY command",
        "LATENCY GRAPH command",
        "LATENCY GRAPH nothere",
        "LATENCY RESET",
        "LATENCY RESET command fast-command",
        "LATENCY FOO",
        "LATENCY",
        "LATENCY HISTORY",
        "LATENCY HISTORY a b",
        "LATENCY LATEST x",
        "LATENCY GRAPH",
        "LATENCY DOCTOR x",
        "LATENCY HELP x",
        "CONFIG SET latency-monitor-threshold -1",
        "CONFIG SET latency-monitor-threshold abc",
        // High enough that nothing in this test reaches it, even on a loaded machine.
        "CONFIG SET latency-monitor-threshold 5000",
        "CONFIG GET latency-monitor-threshold",
        "LATENCY LATEST",
        "CONFIG SET latency-monitor-threshold 0",
    ];
    for resp3 in [false, true] {
        let mut a = ours.raw();
        let mut b = redis.raw();
        if resp3 {
            s(&mut a, "HELLO 3");
            s(&mut b, "HELLO 3");
        }
        for line in lines {
            assert_eq!(s(&mut a, line), s(&mut b, line), "{line} (resp3 {resp3})");
        }
        // DOCTOR is text (verbatim `txt` in RESP3) on both; the words are ours.
        let (x, y) = (s(&mut a, "LATENCY DOCTOR"), s(&mut b, "LATENCY DOCTOR"));
        match (&x, &y) {
            (Reply::Verbatim { format: f, .. }, Reply::Verbatim { format: g, .. }) => {
                assert_eq!(f, g);
            }
            (Reply::Bulk(Some(_)), Reply::Bulk(Some(_))) => {}
            _ => panic!("DOCTOR: {x:?} vs {y:?}"),
        }
        assert!(text(&x).contains("latency-monitor-threshold"), "{x:?}");
    }
}

#[test]
fn help_matches_redis() {
    let (ours, redis) = pair(&[]);
    assert_eq!(
        s(&mut ours.raw(), "LATENCY HELP"),
        s(&mut redis.raw(), "LATENCY HELP")
    );
}

/// The three settings as `--` flags (one value or several for the percentiles, as a
/// config-file line gives them).
#[test]
fn settings_are_flags() {
    let ours = Server::start(&[
        "--latency-monitor-threshold",
        "25",
        "--latency-tracking",
        "no",
        "--latency-tracking-info-percentiles",
        "50",
        "90.5",
    ]);
    let r = s(&mut ours.raw(), "CONFIG GET latency*");
    let mut got: Vec<(String, String)> =
        pairs(&r).iter().map(|(k, v)| (text(k), text(v))).collect();
    got.sort();
    let want = [
        ("latency-monitor-threshold", "25"),
        ("latency-tracking", "no"),
        ("latency-tracking-info-percentiles", "50 90.5"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// DEBUG SLEEP over the threshold is a `command` event (DEBUG is not FAST) on both
/// servers, alone and inside EXEC (EXEC itself is timed too); one sample a second, the
/// worst; HISTORY, GRAPH and RESET then agree in shape.
#[test]
fn slow_commands_are_command_events_as_in_redis() {
    let (ours, redis) = pair(&["--latency-monitor-threshold", "10"]);
    let mut sides = [ours.raw(), redis.raw()];
    let mut got = Vec::new();
    for c in &mut sides {
        assert_eq!(s(c, "LATENCY HISTORY command"), Reply::Array(Some(vec![])));
        s(c, "DEBUG SLEEP 0.05");
        s(c, "DEBUG SLEEP 0.02");
        s(c, "MULTI");
        s(c, "DEBUG SLEEP 0.03");
        s(c, "EXEC");
        let latest = s(c, "LATENCY LATEST");
        // On a loaded machine another event may pass 10 ms too: only `command` is sure.
        let events: Vec<String> = latest_events(&latest, 10)
            .into_iter()
            .filter(|e| e == "command")
            .collect();
        let at = items(&latest)
            .iter()
            .position(|e| text(&items(e)[0]) == "command")
            .expect("a command event");
        let f = items(&items(&latest)[at]);
        assert!(int(&f[2]) >= 20 && int(&f[3]) >= 50, "{latest:?}");
        let history = items(&s(c, "LATENCY HISTORY command"));
        assert!(!history.is_empty() && history.len() <= 2, "{history:?}");
        for h in &history {
            assert_eq!(items(h).len(), 2, "{h:?}");
        }
        // HISTORY looks the name up exactly; RESET in any case.
        assert_eq!(s(c, "LATENCY HISTORY COMMAND"), Reply::Array(Some(vec![])));
        let graph = text(&s(c, "LATENCY GRAPH command"));
        let first = graph.lines().next().unwrap_or_default().to_string();
        assert!(first.starts_with("command - high "), "{graph}");
        assert!(first.contains("(all time high "), "{graph}");
        assert_eq!(
            graph.lines().nth(1),
            Some("-".repeat(80).as_str()),
            "{graph}"
        );
        let doctor = text(&s(c, "LATENCY DOCTOR"));
        assert!(doctor.contains("1. command: "), "{doctor}");
        assert_eq!(s(c, "LATENCY RESET COMMAND nothere"), Reply::Int(1));
        assert_eq!(s(c, "LATENCY HISTORY command"), Reply::Array(Some(vec![])));
        got.push(events);
    }
    assert_eq!(got[0], got[1]);
    assert_eq!(got[0], ["command"]);
}

/// A sample is the worst of its second: three sleeps in one second leave one sample.
#[test]
fn one_sample_per_second_holds_the_worst() {
    let ours = Server::start(&[
        "--enable-debug-command",
        "yes",
        "--latency-monitor-threshold",
        "10",
    ]);
    let mut c = ours.raw();
    // Start just after a second begins, so the three sleeps (~90 ms) share it.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    std::thread::sleep(Duration::from_nanos(
        1_000_000_000 - u64::from(now.subsec_nanos()),
    ));
    s(&mut c, "DEBUG SLEEP 0.02");
    s(&mut c, "DEBUG SLEEP 0.04");
    s(&mut c, "DEBUG SLEEP 0.02");
    let history = items(&s(&mut c, "LATENCY HISTORY command"));
    assert_eq!(history.len(), 1, "{history:?}");
    let ms = int(&items(&history[0])[1]);
    assert!((40..100).contains(&ms), "{history:?}");
}

/// Waits until LATENCY LATEST on `c` lists `event`.
fn wait_for_event(c: &mut Raw, event: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let latest = s(c, "LATENCY LATEST");
        if latest_events(&latest, 1).iter().any(|e| e == event) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Writes `n` keys `k:i` with 100-byte values (and a TTL of `px` ms if given), pipelined.
fn fill(c: &mut Raw, n: usize, px: Option<u64>) {
    let value = "v".repeat(100);
    let px = px.map(|p| p.to_string());
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut out = Vec::new();
        for &i in chunk {
            let key = format!("k:{i}");
            match &px {
                Some(p) => common::encode_into(
                    &mut out,
                    &[
                        b"SET",
                        key.as_bytes(),
                        value.as_bytes(),
                        b"PX",
                        p.as_bytes(),
                    ],
                ),
                None => common::encode_into(&mut out, &[b"SET", key.as_bytes(), value.as_bytes()]),
            }
        }
        c.send(&out);
        for _ in chunk {
            assert_eq!(c.read_reply(), Reply::ok());
        }
    }
}

/// Many keys expiring at once make the active expiry pass last over 1 ms: an
/// `expire-cycle` event on both servers.
#[test]
fn a_long_expiry_pass_is_an_expire_cycle_event() {
    let (ours, redis) = pair(&[]);
    for srv in [&ours, &redis] {
        let mut c = srv.raw();
        fill(&mut c, 100_000, Some(300));
        s(&mut c, "CONFIG SET latency-monitor-threshold 1");
        assert!(wait_for_event(&mut c, "expire-cycle"), "{}", srv.bin);
    }
}

/// Lowering maxmemory far under what is used makes an eviction pass last over 1 ms: an
/// `eviction-cycle` event on both servers.
#[test]
fn a_long_eviction_pass_is_an_eviction_cycle_event() {
    let (ours, redis) = pair(&["--maxmemory-policy", "allkeys-random"]);
    for srv in [&ours, &redis] {
        let mut c = srv.raw();
        fill(&mut c, 100_000, None);
        s(&mut c, "CONFIG SET latency-monitor-threshold 1");
        s(&mut c, "CONFIG SET maxmemory 2mb");
        s(&mut c, "SET trigger x");
        assert!(wait_for_event(&mut c, "eviction-cycle"), "{}", srv.bin);
    }
}

/// The (key, value) pairs of a map: a RESP3 map or a RESP2 flat array.
fn pairs(r: &Reply) -> Vec<(Reply, Reply)> {
    match r {
        Reply::Map(kv) => kv.clone(),
        Reply::Array(Some(v)) => {
            assert!(v.len() % 2 == 0, "odd map {r:?}");
            v.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
        }
        other => panic!("expected a map, got {other:?}"),
    }
}

/// A LATENCY HISTOGRAM reply with each histogram checked (bucket bounds increasing,
/// cumulative counts non-decreasing and ending at `calls`; powers of two on ringkv) and
/// masked: (command, calls) in reply order.
fn histogram_calls(r: &Reply, ours: bool) -> Vec<(String, i64)> {
    pairs(r)
        .iter()
        .map(|(name, v)| {
            let fields = pairs(v);
            assert_eq!(fields.len(), 2, "{v:?}");
            assert_eq!(text(&fields[0].0), "calls");
            assert_eq!(text(&fields[1].0), "histogram_usec");
            let calls = int(&fields[0].1);
            let buckets: Vec<(i64, i64)> = pairs(&fields[1].1)
                .iter()
                .map(|(k, n)| (int(k), int(n)))
                .collect();
            assert!(!buckets.is_empty(), "{v:?}");
            for w in buckets.windows(2) {
                assert!(w[0].0 < w[1].0 && w[0].1 <= w[1].1, "{v:?}");
            }
            assert_eq!(buckets.last().map(|b| b.1), Some(calls), "{v:?}");
            if ours {
                assert!(
                    buckets.iter().all(|b| (b.0 as u64).is_power_of_two()),
                    "{v:?}"
                );
            }
            (text(name), calls)
        })
        .collect()
}

/// The same commands on both servers give the same LATENCY HISTOGRAM commands and calls
/// (the latencies differ), in RESP2 and RESP3: named commands, a container for its
/// subcommands, unknown names skipped, a repeated name answered twice; with
/// `latency-tracking no` nothing more is recorded but the histograms stay; CONFIG
/// RESETSTAT drops them.
#[test]
fn histograms_match_redis() {
    let (ours, redis) = pair(&[]);
    let queries = [
        "LATENCY HISTOGRAM get set",
        "LATENCY HISTOGRAM GET nosuch get",
        "LATENCY HISTOGRAM config",
        "LATENCY HISTOGRAM CONFIG|GET",
        "LATENCY HISTOGRAM config|nosuch",
        "LATENCY HISTOGRAM nosuch",
    ];
    for resp3 in [false, true] {
        let mut got = Vec::new();
        for (srv, is_ours) in [(&ours, true), (&redis, false)] {
            let mut c = srv.raw();
            if resp3 {
                s(&mut c, "HELLO 3");
            }
            s(&mut c, "CONFIG RESETSTAT");
            s(&mut c, "SET a b");
            for _ in 0..3 {
                s(&mut c, "GET a");
            }
            s(&mut c, "CONFIG GET maxmemory");
            s(&mut c, "CONFIG SET latency-tracking no");
            s(&mut c, "GET a");
            s(&mut c, "CONFIG SET latency-tracking yes");
            // Named commands come in the order named; a container's subcommands and "all"
            // in Redis's dict order, so those are compared sorted.
            let mut seen: Vec<Vec<(String, i64)>> = queries
                .iter()
                .map(|q| {
                    let mut r = histogram_calls(&s(&mut c, q), is_ours);
                    if q.ends_with("config") {
                        r.sort();
                    }
                    r
                })
                .collect();
            let mut all = histogram_calls(&s(&mut c, "LATENCY HISTOGRAM"), is_ours);
            all.sort();
            seen.push(all);
            s(&mut c, "CONFIG RESETSTAT");
            seen.push(histogram_calls(
                &s(&mut c, "LATENCY HISTOGRAM get"),
                is_ours,
            ));
            got.push(seen);
        }
        assert_eq!(got[0], got[1], "resp3 {resp3}");
        let get3 = [("get".to_string(), 3)];
        assert_eq!(got[0][0], [get3[0].clone(), ("set".to_string(), 1)]);
        assert_eq!(got[0][1], [get3[0].clone(), get3[0].clone()]);
        assert!(got[0][7].is_empty());
    }
}

/// INFO latencystats: a line per command, `latency_percentiles_usec_<name>:` then
/// `p<percentile>=<µs with 3 decimals>` for each configured percentile, as Redis; none with
/// `latency-tracking no`; the setting's values and errors as Redis's.
#[test]
fn latencystats_lines_match_redis() {
    let (ours, redis) = pair(&[]);
    let setting_lines = [
        "CONFIG GET latency-tracking",
        "CONFIG GET latency-tracking-info-percentiles",
        "CONFIG SET latency-tracking maybe",
        "CONFIG SET latency-tracking-info-percentiles abc",
        "CONFIG SET latency-tracking-info-percentiles 101",
        "CONFIG SET latency-tracking-info-percentiles -1",
    ];
    let mut shapes = Vec::new();
    for srv in [&ours, &redis] {
        let mut c = srv.raw();
        for line in setting_lines {
            shapes.push((line.to_string(), format!("{:?}", s(&mut c, line))));
        }
        s(&mut c, "CONFIG RESETSTAT");
        s(&mut c, "SET a b");
        s(&mut c, "GET a");
        let mut per_setting = Vec::new();
        for pcts in ["50 99 99.9", "0 100 99.999", ""] {
            c.cmd_str(&["CONFIG", "SET", "latency-tracking-info-percentiles", pcts]);
            let got = c.cmd_str(&["CONFIG", "GET", "latency-tracking-info-percentiles"]);
            let info = text(&s(&mut c, "INFO latencystats"));
            let mut lines: Vec<String> = info
                .lines()
                .filter(|l| l.starts_with("latency_percentiles_usec_get:"))
                .map(|l| {
                    let (name, values) = l.split_once(':').unwrap_or_default();
                    let labels: Vec<&str> = values
                        .split(',')
                        .filter(|v| !v.is_empty())
                        .map(|v| {
                            let (label, us) = v.split_once('=').unwrap_or_default();
                            let (_, decimals) = us.split_once('.').unwrap_or_default();
                            assert_eq!(decimals.len(), 3, "{l}");
                            assert!(us.parse::<f64>().is_ok_and(|x| x >= 0.0), "{l}");
                            label
                        })
                        .collect();
                    format!("{name}:{}", labels.join(","))
                })
                .collect();
            lines.sort();
            per_setting.push((format!("{got:?}"), lines));
        }
        c.cmd_str(&[
            "CONFIG",
            "SET",
            "latency-tracking-info-percentiles",
            "50 99 99.9",
        ]);
        s(&mut c, "CONFIG SET latency-tracking no");
        let info = text(&s(&mut c, "INFO latencystats"));
        per_setting.push((info.trim().to_string(), Vec::new()));
        s(&mut c, "CONFIG SET latency-tracking yes");
        shapes.push(("latencystats".into(), format!("{per_setting:?}")));
    }
    let half = shapes.len() / 2;
    assert_eq!(shapes[..half], shapes[half..]);
    // INFO (default) leaves the section out, INFO ALL has it, on both.
    for srv in [&ours, &redis] {
        let mut c = srv.raw();
        assert!(
            !text(&s(&mut c, "INFO")).contains("# Latencystats"),
            "{}",
            srv.bin
        );
        assert!(
            text(&s(&mut c, "INFO ALL")).contains("# Latencystats"),
            "{}",
            srv.bin
        );
    }
}

/// Blocked commands go into their histogram when served or ended by CLIENT UNBLOCK (either
/// mode), not when they time out, as in Redis 7.0.15 (whose commandstats count all four).
#[test]
fn blocked_commands_in_histograms_as_redis() {
    let (ours, redis) = pair(&[]);
    let mut got = Vec::new();
    for (srv, is_ours) in [(&ours, true), (&redis, false)] {
        let mut admin = srv.raw();
        s(&mut admin, "CONFIG RESETSTAT");
        // Timed out.
        let mut a = srv.raw();
        assert_eq!(s(&mut a, "BLPOP q 0.05"), Reply::Array(None));
        // Served.
        let mut b = srv.raw();
        b.send(&common::encode(&[b"BLPOP", b"q", b"5"]));
        let deadline = Instant::now() + Duration::from_secs(5);
        while admin.info_int("clients", "blocked_clients") < 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        s(&mut admin, "RPUSH q x");
        assert!(matches!(b.read_reply(), Reply::Array(Some(_))));
        // Ended by CLIENT UNBLOCK, in both modes.
        for mode in ["ERROR", "TIMEOUT"] {
            let mut d = srv.raw();
            let id = int(&s(&mut d, "CLIENT ID"));
            d.send(&common::encode(&[b"BLPOP", b"q2", b"5"]));
            let deadline = Instant::now() + Duration::from_secs(5);
            while admin.info_int("clients", "blocked_clients") < 1 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(
                s(&mut admin, &format!("CLIENT UNBLOCK {id} {mode}")),
                Reply::Int(1)
            );
            d.read_reply();
        }
        let r = s(&mut admin, "LATENCY HISTOGRAM blpop");
        got.push(histogram_calls(&r, is_ours));
    }
    assert_eq!(got[0], got[1]);
    assert_eq!(got[0], [("blpop".to_string(), 3)]);
}

/// CONFIG RESETSTAT zeroed the processed-commands counter under the figure the cron had
/// kept at its last tick, and the next tick's subtraction overflowed (a panic in debug
/// builds). The histogram tests reset stats, so this is checked here.
#[test]
fn resetstat_between_ticks_keeps_the_server_up() {
    let ours = Server::start(&[]);
    let mut c = ours.raw();
    for _ in 0..50 {
        s(&mut c, "PING");
    }
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(s(&mut c, "CONFIG RESETSTAT"), Reply::ok());
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(s(&mut c, "PING"), Reply::Status("PONG".into()));
}

/// GET is FAST: a GET of a 64 MB string (copied into the reply on both servers) over the
/// threshold is a `fast-command` event, not a `command` one, as in Redis.
#[test]
fn a_slow_fast_command_is_a_fast_command_event() {
    let (ours, redis) = pair(&[]);
    let mut got = Vec::new();
    for srv in [&ours, &redis] {
        let mut c = srv.raw();
        assert_eq!(s(&mut c, "SETRANGE big 67108863 x"), Reply::Int(67_108_864));
        s(&mut c, "CONFIG SET latency-monitor-threshold 1");
        match s(&mut c, "GET big") {
            Reply::Bulk(Some(b)) => assert_eq!(b.len(), 67_108_864),
            other => panic!("{other:?}"),
        }
        got.push(latest_events(&s(&mut c, "LATENCY LATEST"), 1));
    }
    // Only the GET is sure to pass 1 ms (a loaded machine may add other events).
    for events in &got {
        assert!(events.contains(&"fast-command".to_string()), "{got:?}");
    }
}

/// With appendonly on, a turn whose AOF write passes the threshold (a 64 MB SET) is an
/// `aof-write` event on both servers (Redis adds `aof-write-alone`, which ringkv does
/// not time).
#[test]
fn a_long_aof_write_is_an_aof_write_event() {
    let dirs = [
        common::files::TempDir::new("lat-aof-ours"),
        common::files::TempDir::new("lat-aof-redis"),
    ];
    let args = |d: &common::files::TempDir| {
        vec![
            "--dir".to_string(),
            d.s().to_string(),
            "--appendonly".to_string(),
            "yes".to_string(),
            "--latency-monitor-threshold".to_string(),
            "1".to_string(),
        ]
    };
    let a0 = args(&dirs[0]);
    let a1 = args(&dirs[1]);
    let ours = Server::start(&a0.iter().map(String::as_str).collect::<Vec<_>>());
    let redis = Server::start_redis(&a1.iter().map(String::as_str).collect::<Vec<_>>());
    let big = vec![b'x'; 64 << 20];
    for srv in [&ours, &redis] {
        let mut c = srv.raw();
        assert_eq!(c.cmd(&[b"SET", b"big", &big]), Reply::ok());
        assert!(wait_for_event(&mut c, "aof-write"), "{}", srv.bin);
    }
}
