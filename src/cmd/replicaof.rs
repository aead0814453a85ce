//! REPLICAOF / SLAVEOF (follow a primary, or stop following one) and ROLE.
//!
//! The handlers only parse and answer; the link itself is `repl::replica`. As Redis 7.0:
//! REPLICAOF NO ONE on a primary is a no-op answering OK, REPLICAOF to the primary already
//! followed answers `+OK Already connected to specified master`, and a port that is not an
//! integer in 0..=65535 is `Invalid master port`. ROLE answers for either side: a primary's
//! replicas are the primary side's (none are listed until it exists in this build).

use super::Ctx;
use crate::repl::replica;
use crate::repl::Role;
use crate::resp::Argv;

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// REPLICAOF host port | NO ONE (SLAVEOF is the same command under its old name).
pub fn cmd_replicaof(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (a1, a2) = (argv.get(1), argv.get(2));
    // Only FAILOVER ABORT changes the role while a failover runs (`repl::failover`).
    if ctx.srv.repl.failover.active() {
        ctx.err("ERR REPLICAOF not allowed while failing over.");
        return;
    }
    let who = requester(ctx);
    if eq(a1, "no") && eq(a2, "one") {
        if replica::is_replica(ctx.srv) {
            replica::unset_master(ctx.srv);
            log::info!("MASTER MODE enabled (user request from '{who}')");
        }
        ctx.reply.ok();
        return;
    }
    let port = std::str::from_utf8(a2)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|p| (0..=65535).contains(p));
    let Some(port) = port else {
        ctx.err("ERR Invalid master port");
        return;
    };
    let host = String::from_utf8_lossy(a1).into_owned();
    if let Role::Replica { host: h, port: p } = &ctx.srv.repl.role {
        // A link stopped for a stream ringkv cannot apply starts again with REPLICAOF.
        if h.eq_ignore_ascii_case(&host)
            && i64::from(*p) == port
            && ctx.srv.replica.halted.is_none()
        {
            log::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            ctx.reply.simple("OK Already connected to specified master");
            return;
        }
    }
    replica::set_master(ctx.srv, host.clone(), port as u16);
    log::info!("REPLICAOF {host}:{port} enabled (user request from '{who}')");
    ctx.reply.ok();
}

/// The requesting client's CLIENT LIST line, for the log (as Redis).
fn requester(ctx: &Ctx<'_>) -> String {
    let mut s = String::new();
    super::server::client_info_line(ctx.srv, ctx.slot, 0, &mut s);
    s.trim_end().to_string()
}
