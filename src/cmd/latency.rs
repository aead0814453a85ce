//! LATENCY LATEST / HISTORY / RESET / DOCTOR / GRAPH / HISTOGRAM / HELP: the latency
//! monitor's samples (kept by `crate::latency`, fed by `Server::latency_sample`) and the
//! per-command histograms of `latency-tracking` (fed by `cmd::call`), in Redis 7.0's reply
//! shapes; and INFO `latencystats`.
//!
//! LATEST, HISTORY, RESET and HISTOGRAM reply as Redis (HISTOGRAM's buckets are our
//! histogram's powers of two, each counting the calls that took less than it). DOCTOR and
//! GRAPH are text built from the same samples, in our own words and layout: DOCTOR gives
//! each event's figures (spikes, average, mean deviation, range, worst ever) and a hint per
//! event ringkv times; GRAPH draws one column per sample, scaled to the highest, with each
//! sample's age under it.

use super::Ctx;
use crate::latency::{Event, Series};
use crate::resp::Argv;
use std::fmt::Write as _;

pub fn cmd_latency_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.help(&[
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    ]);
}

/// LATENCY LATEST: per event, its name, the time and latency of its newest sample and its
/// worst latency ever.
pub fn cmd_latency_latest(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let n = ctx.srv.latency.events().count();
    ctx.reply.array(n);
    for (event, series) in ctx.srv.latency.events() {
        let last = series.latest().unwrap_or(crate::latency::Sample {
            time_s: 0,
            latency_ms: 0,
        });
        ctx.reply.array(4);
        ctx.reply.bulk(event.name().as_bytes());
        ctx.reply.int(last.time_s as i64);
        ctx.reply.int(last.latency_ms as i64);
        ctx.reply.int(series.max_ms as i64);
    }
}

/// LATENCY HISTORY event: the event's samples, oldest first, as [time, latency] pairs; an
/// empty array for an event with none.
pub fn cmd_latency_history(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some((_, series)) = ctx.srv.latency.get(argv.get(2)) else {
        return ctx.reply.array(0);
    };
    ctx.reply.array(series.samples().count());
    for s in series.samples() {
        ctx.reply.array(2);
        ctx.reply.int(s.time_s as i64);
        ctx.reply.int(s.latency_ms as i64);
    }
}

/// LATENCY RESET [event ...]: drops the named events (any case), or all of them; replies
/// with how many were dropped.
pub fn cmd_latency_reset(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let dropped = if argv.len() == 2 {
        ctx.srv.latency.reset(None)
    } else {
        (2..argv.len())
            .map(|i| ctx.srv.latency.reset(Some(argv.get(i))))
            .sum()
    };
    ctx.reply.int(dropped as i64);
}

/// LATENCY HISTOGRAM [command ...]: per command (each named one, a container standing for
/// its subcommands; every command with a histogram when none is named), its calls and the
/// cumulative count of calls under each power of two of µs. Unknown names are skipped and
/// a name given twice is answered twice, as Redis does.
pub fn cmd_latency_histogram(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let srv = &*ctx.srv;
    let has = |i: usize| srv.cmd_latency.get(i).is_some_and(Option::is_some);
    let mut wanted: Vec<usize> = Vec::new();
    if argv.len() == 2 {
        wanted.extend((0..srv.all_commands.len()).filter(|&i| has(i)));
    }
    for j in 2..argv.len() {
        let name = argv.get(j);
        let Some(i) = srv
            .all_commands
            .iter()
            .position(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
        else {
            continue;
        };
        if has(i) {
            wanted.push(i);
        }
        // A container's subcommands follow it in `all_commands`.
        let subs = srv.all_commands[i].subcommands.len();
        wanted.extend((i + 1..=i + subs).filter(|&k| has(k)));
    }
    let reply = &mut ctx.reply;
    reply.map(wanted.len());
    for i in wanted {
        let Some(Some(h)) = srv.cmd_latency.get(i) else {
            continue;
        };
        reply.bulk(srv.all_commands[i].name.as_bytes());
        reply.map(2);
        reply.bulk(b"calls");
        reply.int(h.total() as i64);
        reply.bulk(b"histogram_usec");
        let buckets = h.cumulative_pow2();
        reply.map(buckets.len());
        for (bound_us, calls) in buckets {
            reply.int(bound_us as i64);
            reply.int(calls as i64);
        }
    }
}

/// INFO `latencystats`: a line per command with a histogram, with the percentiles of
/// `latency-tracking-info-percentiles`, in µs.
pub(crate) fn info_latencystats(srv: &crate::server::Server, s: &mut String) {
    for (i, h) in srv.cmd_latency.iter().enumerate() {
        let Some(h) = h else {
            continue;
        };
        let _ = write!(s, "latency_percentiles_usec_{}:", srv.all_commands[i].name);
        for (k, &p) in srv
            .config
            .latency_tracking_info_percentiles
            .iter()
            .enumerate()
        {
            let sep = if k == 0 { "" } else { "," };
            let _ = write!(s, "{sep}p{p}={:.3}", h.percentile_us(p) as f64);
        }
        s.push_str("\r\n");
    }
}

/// LATENCY GRAPH event.
pub fn cmd_latency_graph(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some((event, series)) = ctx.srv.latency.get(argv.get(2)) else {
        let mut msg = b"ERR No samples available for event '".to_vec();
        msg.extend_from_slice(argv.get(2));
        msg.push(b'\'');
        return ctx.reply.error_bytes(&msg);
    };
    let text = graph(event, series, unix_now_s(ctx.now_ms));
    ctx.reply.verbatim(text.as_bytes());
}

/// LATENCY DOCTOR.
pub fn cmd_latency_doctor(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let text = doctor(ctx, unix_now_s(ctx.now_ms));
    ctx.reply.verbatim(text.as_bytes());
}

fn unix_now_s(now_ms: u64) -> u64 {
    now_ms / 1000
}

/// Columns of a graph before it wraps (Redis's width).
const GRAPH_COLS: usize = 80;
/// Rows a bar can fill.
const GRAPH_ROWS: u64 = 4;

/// How long ago `time_s` was, as a short label: seconds, minutes, hours or days.
fn age_label(now_s: u64, time_s: u64) -> String {
    let age = now_s.saturating_sub(time_s);
    match age {
        0..60 => format!("{age}s"),
        60..3600 => format!("{}m", age / 60),
        3600..86400 => format!("{}h", age / 3600),
        _ => format!("{}d", age / 86400),
    }
}

/// The graph of `series`: a title line with the highest and lowest samples and the worst
/// ever, a rule, then blocks of up to `GRAPH_COLS` columns, one per sample (oldest first),
/// whose bar of `#` is its latency scaled to the highest sample (at least one row), with
/// its age written downwards under it.
fn graph(event: Event, series: &Series, now_s: u64) -> String {
    let (_, _, _, low, high) = series.stats();
    let mut out = format!(
        "{} - high {high} ms, low {low} ms (all time high {} ms)\n",
        event.name(),
        series.max_ms
    );
    out.push_str(&"-".repeat(GRAPH_COLS));
    out.push('\n');
    let samples: Vec<_> = series.samples().copied().collect();
    for block in samples.chunks(GRAPH_COLS) {
        let heights: Vec<u64> = block
            .iter()
            .map(|s| {
                (s.latency_ms * GRAPH_ROWS)
                    .div_ceil(high.max(1))
                    .clamp(1, GRAPH_ROWS)
            })
            .collect();
        for row in (1..=GRAPH_ROWS).rev() {
            let line: String = heights
                .iter()
                .map(|&h| if h >= row { '#' } else { ' ' })
                .collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let labels: Vec<Vec<char>> = block
            .iter()
            .map(|s| age_label(now_s, s.time_s).chars().collect())
            .collect();
        let depth = labels.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..depth {
            let line: String = labels
                .iter()
                .map(|l| l.get(i).copied().unwrap_or(' '))
                .collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// The doctor's report: each event's figures from its samples, then a hint per event.
fn doctor(ctx: &Ctx<'_>, now_s: u64) -> String {
    let srv = &*ctx.srv;
    let threshold_ms = srv.config.latency_monitor_threshold_ms;
    let mut out = String::new();
    if srv.latency.is_empty() {
        if threshold_ms == 0 {
            out.push_str(
                "The latency monitor is off and has recorded nothing. Turn it on with \
                 CONFIG SET latency-monitor-threshold <milliseconds>: events that take at \
                 least that long are then recorded.\n",
            );
        } else {
            let _ = writeln!(
                out,
                "No event has taken {threshold_ms} ms or more since the latency monitor was \
                 turned on or last reset."
            );
        }
        return out;
    }
    let _ = writeln!(
        out,
        "Latency spikes recorded (threshold {threshold_ms} ms{}):\n",
        if threshold_ms == 0 {
            ", monitor now off"
        } else {
            ""
        }
    );
    for (i, (event, series)) in srv.latency.events().enumerate() {
        let (n, avg, mad, low, high) = series.stats();
        let since = series
            .samples()
            .next()
            .map_or(0, |s| now_s.saturating_sub(s.time_s))
            .max(1);
        let _ = writeln!(
            out,
            "{}. {}: {n} spike{} in the last {since} s (average {avg} ms, mean deviation \
             {mad} ms, lowest {low} ms, highest {high} ms). Worst ever {} ms.",
            i + 1,
            event.name(),
            if n == 1 { "" } else { "s" },
            series.max_ms
        );
    }
    out.push_str("\nWhat may help:\n\n");
    let slow_us = srv.config.slowlog_log_slower_than_us;
    for (event, _) in srv.latency.events() {
        match event {
            Event::Command => {
                out.push_str(
                    "- command: slow commands ran. SLOWLOG GET shows which; O(N) commands on \
                     big values (KEYS, SMEMBERS, LRANGE 0 -1, SORT, deleting a large key) are \
                     the usual cause: split big values or use SCAN-style iteration.\n",
                );
                if slow_us < 0 {
                    out.push_str(
                        "  The slow log is off: turn it on with CONFIG SET \
                         slowlog-log-slower-than <microseconds>.\n",
                    );
                } else if threshold_ms != 0 && slow_us as u64 / 1000 > threshold_ms {
                    let _ = writeln!(
                        out,
                        "  The slow log only keeps commands of {slow_us} µs or more, above \
                         this monitor's threshold: lower slowlog-log-slower-than to see them \
                         all."
                    );
                }
            }
            Event::FastCommand => out.push_str(
                "- fast-command: O(1) or O(log N) commands were slow, so the process was \
                 probably not running (an overloaded host, a noisy neighbour, swapping). \
                 redis-cli --intrinsic-latency on the host measures what it can offer.\n",
            ),
            Event::ExpireCycle => out.push_str(
                "- expire-cycle: active expiry took long; many keys expiring at once or \
                 freeing big expired values are the usual causes: spread the TTLs, split big \
                 values.\n",
            ),
            Event::AofWrite => out.push_str(
                "- aof-write: writing a turn's commands to the AOF took long: the disk or the \
                 page cache was busy (other writers, a slow or remote disk), or one turn \
                 wrote a lot (big values).\n",
            ),
            Event::EvictionCycle => out.push_str(
                "- eviction-cycle: an eviction pass took long; memory went well over \
                 maxmemory at once (a lower maxmemory set at run time, a big write) or big \
                 values were freed (lazyfree-lazy-eviction moves the freeing off the loop).\n",
            ),
        }
    }
    out
}
