//! FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]: hand this primary's role
//! to one of its replicas (`repl::failover` runs it). The handler parses and checks, in Redis
//! 7.0.15's order and with its error texts: ABORT alone; then each option at most once (a
//! repeated or incomplete one is a syntax error, a TIMEOUT must be positive, numbers must be
//! integers); then the server's state (no failover already, a primary, with replicas); FORCE
//! needs both TO and TIMEOUT; a TO target must be an attached replica, and online.

use super::args::{arg_eq, arg_i64};
use super::Ctx;
use crate::repl::failover::{self, FailoverState};
use crate::repl::Role;
use crate::resp::Argv;

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]
pub fn cmd_failover(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() == 2 && arg_eq(argv.get(1), "abort") {
        if ctx.srv.repl.failover.state == FailoverState::NoFailover {
            ctx.err("ERR No failover in progress.");
            return;
        }
        failover::abort(ctx.srv, "Failover manually aborted");
        ctx.reply.ok();
        return;
    }
    let mut timeout_ms: i64 = 0;
    let mut force = false;
    let mut target: Option<(String, i64)> = None;
    let mut j = 1;
    // Bounded by the arguments: every turn consumes at least one.
    while j < argv.len() {
        let a = argv.get(j);
        if arg_eq(a, "timeout") && j + 1 < argv.len() && timeout_ms == 0 {
            let Some(t) = arg_i64(argv.get(j + 1)) else {
                ctx.err("ERR value is not an integer or out of range");
                return;
            };
            if t <= 0 {
                ctx.err("ERR FAILOVER timeout must be greater than 0");
                return;
            }
            timeout_ms = t;
            j += 2;
        } else if arg_eq(a, "to") && j + 2 < argv.len() && target.is_none() {
            let Some(port) = arg_i64(argv.get(j + 2)) else {
                ctx.err("ERR value is not an integer or out of range");
                return;
            };
            let host = String::from_utf8_lossy(argv.get(j + 1)).into_owned();
            target = Some((host, port));
            j += 3;
        } else if arg_eq(a, "force") && !force {
            force = true;
            j += 1;
        } else {
            ctx.syntax_error();
            return;
        }
    }
    if ctx.srv.repl.failover.active() {
        ctx.err("ERR FAILOVER already in progress.");
        return;
    }
    if matches!(ctx.srv.repl.role, Role::Replica { .. }) {
        ctx.err("ERR FAILOVER is not valid when server is a replica.");
        return;
    }
    if crate::repl::primary::replica_addrs(ctx.srv)
        .next()
        .is_none()
    {
        ctx.err("ERR FAILOVER requires connected replicas.");
        return;
    }
    if force && (timeout_ms == 0 || target.is_none()) {
        ctx.err("ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
        return;
    }
    if let Some((host, port)) = &target {
        match failover::find_replica(ctx.srv, host, *port) {
            None => {
                ctx.err("ERR FAILOVER target HOST and PORT is not a replica.");
                return;
            }
            Some((_, false)) => {
                ctx.err("ERR FAILOVER target replica is not online.");
                return;
            }
            Some((_, true)) => {}
        }
    }
    failover::start(ctx.srv, target, timeout_ms as u64, force);
    ctx.reply.ok();
}
