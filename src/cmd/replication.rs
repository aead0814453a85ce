//! Replication commands, primary side: REPLCONF, PSYNC and SYNC (a connection becoming a
//! replica), WAIT and ROLE. They parse and answer; the replicas, the full sync and the stream
//! are `repl::primary`'s.
//!
//! A replica's connection gets no replies once it is attached (REPLCONF ACK and GETACK
//! answer nothing, as in Redis): its output is the replication stream.

use super::args::{arg_eq, arg_i64};
use super::Ctx;
use crate::repl::primary;
use crate::repl::Role;
use crate::resp::Argv;

/// Longest `REPLCONF ip-address` (Redis's NET_HOST_STR_LEN - 1).
const IP_ADDRESS_MAX: usize = 255;

/// REPLCONF <option> <value> [<option> <value> ...]
pub fn cmd_replconf(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len().is_multiple_of(2) {
        ctx.syntax_error();
        return;
    }
    let mut i = 1;
    // Bounded by the arguments.
    while i + 1 < argv.len() {
        let opt = argv.get(i);
        let val = argv.get(i + 1);
        if arg_eq(opt, "listening-port") {
            let Some(port) = arg_i64(val) else {
                ctx.err("ERR value is not an integer or out of range");
                return;
            };
            // Redis keeps it as an int: a value out of the port range is stored truncated.
            primary::replica_conf(ctx).listening_port = port as u16;
        } else if arg_eq(opt, "ip-address") {
            if val.len() > IP_ADDRESS_MAX {
                ctx.err(&format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    val.len()
                ));
                return;
            }
            primary::replica_conf(ctx).ip_address = Some(String::from_utf8_lossy(val).into());
        } else if arg_eq(opt, "capa") {
            // Unknown capabilities are ignored, as in Redis.
            if arg_eq(val, "eof") {
                primary::replica_conf(ctx).capa_eof = true;
            } else if arg_eq(val, "psync2") {
                primary::replica_conf(ctx).capa_psync2 = true;
            }
        } else if arg_eq(opt, "ack") {
            // From an attached replica only, and never answered.
            let attached = ctx.srv.conns[ctx.slot].is_replica();
            if !attached {
                return;
            }
            if let Some(off) = arg_i64(val).filter(|&o| o >= 0) {
                primary::ack(ctx.srv, ctx.slot, off as u64);
            }
            return;
        } else if arg_eq(opt, "getack") {
            // Only a replica answers GETACK (with an ACK to its primary), and never with a
            // reply; the replica side handles it on its link.
            return;
        } else if arg_eq(opt, "rdb-filter-only") {
            // Include filters, split like arguments; none means everything.
            let Ok(filters) = crate::config::split_line(&String::from_utf8_lossy(val)) else {
                ctx.err("ERR Missing rdb-filter-only values");
                return;
            };
            let mut functions_only = false;
            for f in &filters {
                if arg_eq(f, "functions") {
                    functions_only = true;
                } else {
                    ctx.err(&format!(
                        "ERR Unsupported rdb-filter-only option: {}",
                        String::from_utf8_lossy(f)
                    ));
                    return;
                }
            }
            primary::replica_conf(ctx).functions_only = functions_only;
        } else if arg_eq(opt, "rdb-only") {
            match arg_i64(val) {
                Some(n @ 0..=1) => primary::replica_conf(ctx).rdb_only = n == 1,
                Some(_) => {
                    ctx.err("ERR value is out of range, value must between 0 and 1");
                    return;
                }
                None => {
                    ctx.err("ERR value is not an integer or out of range");
                    return;
                }
            }
        } else {
            ctx.err(&format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            ));
            return;
        }
        i += 2;
    }
    ctx.reply.ok();
}

/// Checks shared by PSYNC and SYNC; false when the command was answered with an error or
/// must be ignored.
fn sync_allowed(ctx: &mut Ctx<'_>) -> bool {
    let c = &ctx.srv.conns[ctx.slot];
    // Already a replica: a repeated SYNC is ignored, as in Redis.
    if c.is_replica() {
        return false;
    }
    // Replicas wait until a failover of this server is over (they follow the new primary,
    // or this server again).
    if ctx.srv.repl.failover.active() {
        ctx.err("NOMASTERLINK Can't SYNC while failing over");
        return false;
    }
    // A replica serves replicas of its own (a chain) only while its link is up.
    if matches!(ctx.srv.repl.role, Role::Replica { .. })
        && ctx.srv.replica.state != crate::repl::replica::LinkState::Connected
    {
        ctx.err("NOMASTERLINK Can't SYNC while not connected with my master");
        return false;
    }
    if !ctx.reply.buf.is_empty() || c.send_inflight || !c.out.is_empty() {
        ctx.err("ERR SYNC and PSYNC are invalid with pending output");
        return false;
    }
    true
}

/// PSYNC <replicationid> <offset> [FAILOVER]
///
/// FAILOVER comes from this replica's primary handing its role over (its FAILOVER command,
/// `repl::failover`): when the id is this server's own, it becomes a primary first (as
/// REPLICAOF NO ONE, its old id kept as replid2), so the PSYNC that follows continues.
pub fn cmd_psync(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if ctx.srv.conns[ctx.slot].is_replica() {
        return;
    }
    if argv.len() > 3 && arg_eq(argv.get(3), "failover") {
        let id = argv.get(1);
        log::warn!(
            "Failover request received for replid {}.",
            String::from_utf8_lossy(id)
        );
        if !matches!(ctx.srv.repl.role, Role::Replica { .. }) {
            ctx.err("ERR PSYNC FAILOVER can't be sent to a master.");
            return;
        }
        if !id.eq_ignore_ascii_case(ctx.srv.repl.replid.as_bytes()) {
            ctx.err("ERR PSYNC FAILOVER replid must match my replid.");
            return;
        }
        crate::repl::replica::unset_master(ctx.srv);
        let mut who = String::new();
        super::server::client_info_line(ctx.srv, ctx.slot, 0, &mut who);
        log::info!(
            "MASTER MODE enabled (failover request from '{}')",
            who.trim_end()
        );
    }
    if !sync_allowed(ctx) {
        return;
    }
    primary::sync(
        ctx.srv,
        ctx.slot,
        ctx.reply.buf,
        Some((argv.get(1), argv.get(2))),
    );
}

/// SYNC: the old full sync (no +FULLRESYNC line).
pub fn cmd_sync(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    if !sync_allowed(ctx) {
        return;
    }
    primary::sync(ctx.srv, ctx.slot, ctx.reply.buf, None);
}

/// WAIT numreplicas timeout
pub fn cmd_wait(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if matches!(ctx.srv.repl.role, Role::Replica { .. }) {
        ctx.err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
        return;
    }
    let Some(want) = arg_i64(argv.get(1)) else {
        ctx.err("ERR value is not an integer or out of range");
        return;
    };
    let Some(timeout_ms) = arg_i64(argv.get(2)) else {
        ctx.err("ERR timeout is not an integer or out of range");
        return;
    };
    if timeout_ms < 0 {
        ctx.err("ERR timeout is negative");
        return;
    }
    let offset = ctx.srv.conns[ctx.slot].repl_woff;
    let acked = primary::acked_count(ctx.srv, offset);
    if acked as i64 >= want || ctx.srv.frame.in_exec() {
        ctx.reply.int(acked as i64);
        return;
    }
    let deadline_ms = if timeout_ms == 0 {
        0
    } else {
        ctx.now_ms.saturating_add(timeout_ms as u64)
    };
    primary::block_wait(ctx.srv, ctx.slot, offset, want as u64, deadline_ms);
}

/// ROLE
pub fn cmd_role(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    match ctx.srv.repl.role.clone() {
        Role::Primary => {
            let views: Vec<_> = primary::replicas_view(ctx.srv)
                .into_iter()
                .filter(|v| v.state == "online")
                .collect();
            ctx.reply.array(3);
            ctx.reply.bulk(b"master");
            ctx.reply.int(ctx.srv.repl.master_repl_offset as i64);
            ctx.reply.array(views.len());
            for v in views {
                ctx.reply.array(3);
                ctx.reply.bulk(v.ip.as_bytes());
                ctx.reply.bulk_int(i64::from(v.port));
                ctx.reply.bulk_int(v.offset as i64);
            }
        }
        Role::Replica { .. } => crate::repl::replica::role_reply(ctx.srv, &mut ctx.reply),
    }
}
