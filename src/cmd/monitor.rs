//! MONITOR, and `feed`: the line every monitor gets for each command the server runs, as
//! Redis 7.0's `replicationFeedMonitors` writes it:
//! `+<unix seconds>.<µs> [<db> <address>] "arg" "arg" …`, each argument quoted as Redis's
//! `sdscatrepr` (`\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, other unprintable bytes as
//! `\xHH`), the address being `ip:port`, `unix:<socket path>`, or `lua` for a command a
//! script called.
//!
//! What is shown, as Redis: a command after it ran (`cmd::call`, so SELECT shows its new
//! database and EXEC comes after the commands it ran), except `admin` and `skip_monitor`
//! commands and the AOF loader's; a script command (EVAL, FCALL…, flagged `skip_monitor`)
//! before its script runs, then each command the script calls; secrets redacted as in the
//! slow log (`cmd::slowlog::redacted`). Commands refused before running are not shown.
//!
//! A monitor stays a client: its commands run, except those that touch the keyspace (Redis
//! treats a monitor as a replica: "Replica can't interact with the keyspace", checked in
//! `cmd::call`); RESET ends the mode. Its output is bounded: the `normal` class of
//! `client-output-buffer-limit` applies (a monitor is a normal client in Redis 7.0), and
//! when that class has no limit `OUTPUT_MAX_BYTES` does, so a monitor that does not read is
//! disconnected instead of growing without bound.

use super::Ctx;
use crate::resp::Argv;
use crate::server::Server;

/// Unsent output at which a monitor is disconnected when the `normal` class sets no limit.
pub const OUTPUT_MAX_BYTES: u64 = 64 << 20;

pub fn cmd_monitor(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    if ctx.srv.frame.in_exec() {
        return ctx.err("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    let slot = ctx.slot;
    let conn = ctx.conn();
    // Already a monitor: no reply at all, as Redis.
    if conn.monitor {
        return;
    }
    conn.monitor = true;
    let generation = conn.generation;
    ctx.srv.monitors.add(slot, generation);
    ctx.reply.ok();
}

/// Leaves MONITOR mode (RESET, closing).
pub fn stop(srv: &mut Server, slot: usize) {
    if let Some(c) = srv.conns.get_mut(slot) {
        if !c.monitor {
            return;
        }
        c.monitor = false;
    }
    srv.monitors.remove(slot);
}

/// Appends `a` quoted as Redis's `sdscatrepr`.
fn repr(out: &mut Vec<u8>, a: &[u8]) {
    out.push(b'"');
    for &b in a {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ]);
            }
        }
    }
    out.push(b'"');
}

/// Sends every monitor the line of `argv`, run by the client in `slot` (`from_script`: a
/// script called it).
#[cold]
#[inline(never)]
pub(crate) fn feed(srv: &mut Server, slot: usize, argv: &Argv<'_>, from_script: bool) {
    let mut line = std::mem::take(&mut srv.monitors.line);
    line.clear();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let (db, kind, addr) = match srv.conns.get(slot) {
        Some(c) => (c.db, c.kind, c.addr.as_str()),
        None => (0, crate::net::conn::Kind::Tcp, "?:0"),
    };
    use std::io::Write;
    let _ = write!(
        line,
        "+{}.{:06} [{} ",
        now.as_secs(),
        now.subsec_micros(),
        db
    );
    if from_script {
        line.extend_from_slice(b"lua");
    } else if kind == crate::net::conn::Kind::Unix {
        let path = srv
            .config
            .unixsocket
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let _ = write!(line, "unix:{path}");
    } else {
        line.extend_from_slice(addr.as_bytes());
    }
    line.push(b']');
    let hidden = super::slowlog::redacted(argv);
    for (i, a) in argv.iter().enumerate() {
        line.push(b' ');
        repr(
            &mut line,
            if hidden.contains(&i) {
                super::slowlog::REDACTED
            } else {
                a
            },
        );
    }
    line.extend_from_slice(b"\r\n");
    let mut i = 0;
    // Bounded by the number of monitors; stale entries are removed as they are met.
    while let Some(&(m, generation)) = srv.monitors.entries().get(i) {
        let live = srv
            .conns
            .get(m)
            .is_some_and(|c| c.generation == generation && c.monitor && !c.closed);
        if !live {
            srv.monitors.remove(m);
            continue;
        }
        send(srv, m, &line);
        i += 1;
    }
    srv.monitors.line = line;
}

/// Appends `line` to the output of the monitor in `slot`, queued for this turn's flush, and
/// marks it for closing when its unsent output reaches its limit.
fn send(srv: &mut Server, slot: usize, line: &[u8]) {
    let limits = srv.config.client_obuf_limits[0];
    let now_ms = srv.now_ms;
    let conn = &mut srv.conns[slot];
    if conn.obuf_closing {
        return;
    }
    conn.out.extend_from_slice(line);
    if !conn.flush_queued {
        conn.flush_queued = true;
        srv.touched.push(slot);
    }
    let pending = conn.output_pending(conn.out.len()) as u64;
    let over = if limits.hard_bytes == 0 && limits.soft_bytes == 0 {
        pending >= OUTPUT_MAX_BYTES
    } else {
        conn.output_limit_reached(limits, pending, now_ms)
    };
    if over {
        conn.obuf_closing = true;
        srv.obuf_closing.push((slot, conn.generation));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repr_quotes_as_sdscatrepr() {
        let mut out = Vec::new();
        super::repr(&mut out, b"a b\"\\\n\r\t\x07\x08\x01\xff~");
        assert_eq!(out, b"\"a b\\\"\\\\\\n\\r\\t\\a\\b\\x01\\xff~\"".to_vec());
    }
}
