//! CLIENT PAUSE / UNPAUSE and CLIENT REPLY: commands that change when, or whether, a
//! client's commands are answered (the pause state is `crate::pause`).
//!
//! A pause postpones, as Redis 7.0's `processCommand`, a normal client's command that passed
//! every other check: under ALL every command, under WRITE those that write or may replicate
//! (the table's `write` and `may_replicate` flags; EXEC by the commands it queued; a script
//! by what it declares, a script without a shebang counting as a write). The command stays
//! in the client's input, unparsed further, and the client runs nothing until the pause
//! ends (its time passes, `check_end` on the loop's tick, or CLIENT UNPAUSE); then the
//! postponed clients run again in the order they were stopped. Monitors (replicas for
//! Redis) are never paused. While paused, active expiry and eviction do not run, and a lookup
//! that meets an expired key answers as if it were gone without deleting it (`Db`'s
//! `expiry_paused`), so no deletion is made or propagated in the server's name
//! (`Server::housekeeping`, `evict::perform`).
//!
//! CLIENT REPLY OFF drops every later reply of the client until CLIENT REPLY ON; SKIP drops
//! the reply of the next command only. Pushes are not replies and still arrive, as in
//! Redis 7.0.15: Pub/Sub messages, tracking invalidations and the confirmations of the
//! subscribe commands. `Server::process_input` applies it after each command
//! (`after_command`).

use super::args::arg_i64;
use super::{flags, Command, Ctx};
use crate::pause::PauseKind;
use crate::resp::Argv;
use crate::server::Server;

/// `Conn::reply_mode` values.
pub mod reply_mode {
    pub const ON: u8 = 0;
    pub const OFF: u8 = 1;
    /// CLIENT REPLY SKIP just ran: the next command's reply is dropped.
    pub const SKIP_NEXT: u8 = 2;
    /// The running command's reply is dropped.
    pub const SKIP: u8 = 3;
}

/// CLIENT PAUSE timeout [WRITE|ALL].
pub fn cmd_client_pause(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() > 4 {
        let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
        msg.extend_from_slice(argv.get(1));
        msg.extend_from_slice(b"'. Try CLIENT HELP.");
        return ctx.reply.error_bytes(&msg);
    }
    let Some(ms) = arg_i64(argv.get(2)) else {
        return ctx.err("ERR timeout is not an integer or out of range");
    };
    if ms < 0 {
        return ctx.err("ERR timeout is negative");
    }
    let kind = if argv.len() == 4 {
        let m = argv.get(3);
        if m.eq_ignore_ascii_case(b"write") {
            PauseKind::Write
        } else if m.eq_ignore_ascii_case(b"all") {
            PauseKind::All
        } else {
            return ctx.err("ERR CLIENT PAUSE mode must be WRITE or ALL");
        }
    } else {
        PauseKind::All
    };
    let end = ctx.srv.now_ms.saturating_add(ms as u64);
    ctx.srv.pause.start(end, kind);
    apply_expiry_pause(ctx.srv);
    ctx.reply.ok();
}

/// CLIENT UNPAUSE.
pub fn cmd_client_unpause(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    unpause(ctx.srv);
    ctx.reply.ok();
}

/// CLIENT REPLY ON|OFF|SKIP.
pub fn cmd_client_reply(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let m = argv.get(2);
    let conn = ctx.conn();
    if m.eq_ignore_ascii_case(b"on") {
        conn.reply_mode = reply_mode::ON;
        ctx.reply.ok();
    } else if m.eq_ignore_ascii_case(b"off") {
        conn.reply_mode = reply_mode::OFF;
        ctx.srv.reply_modes_used = true;
    } else if m.eq_ignore_ascii_case(b"skip") {
        if conn.reply_mode != reply_mode::OFF {
            conn.reply_mode = reply_mode::SKIP_NEXT;
        }
        ctx.srv.reply_modes_used = true;
    } else {
        ctx.syntax_error();
    }
}

/// After a command of the client in `slot` whose reply started at `start` in `out`: drops
/// the reply if CLIENT REPLY says so, and moves SKIP on by one command.
#[cold]
pub(crate) fn after_command(srv: &mut Server, slot: usize, out: &mut Vec<u8>, start: usize) {
    // The confirmations of (P|S)(UN)SUBSCRIBE are pushes, which CLIENT REPLY does not hold
    // back (Redis 7.0.15's CLIENT_PUSHING); an error reply of those commands is a reply.
    let pushed = out.get(start).is_some_and(|&b| b != b'-')
        && matches!(
            srv.all_commands[srv.current_cmd].name,
            "subscribe"
                | "psubscribe"
                | "ssubscribe"
                | "unsubscribe"
                | "punsubscribe"
                | "sunsubscribe"
        );
    let c = &mut srv.conns[slot];
    match c.reply_mode {
        reply_mode::OFF if !pushed => out.truncate(start),
        reply_mode::SKIP => {
            if !pushed {
                out.truncate(start);
            }
            c.reply_mode = reply_mode::ON;
        }
        reply_mode::SKIP_NEXT => c.reply_mode = reply_mode::SKIP,
        _ => {}
    }
}

/// Whether the pause postpones command `c` (`argv`) of the client in `slot`;
/// `queued_flags` are the or-ed flags of its transaction, if it is in one.
#[cold]
pub(crate) fn postpones(
    srv: &mut Server,
    slot: usize,
    c: &Command,
    argv: &Argv<'_>,
    queued_flags: Option<u32>,
) -> bool {
    if srv.now_ms >= srv.pause.end_ms {
        unpause(srv);
        return false;
    }
    if srv.conns[slot].monitor {
        return false;
    }
    match srv.pause.kind {
        PauseKind::Off => false,
        PauseKind::All => true,
        PauseKind::Write => {
            let writes = flags::WRITE | flags::MAY_REPLICATE;
            let mut f = c.flags;
            if c.flags & flags::EXEC != 0 {
                f |= queued_flags.unwrap_or(0);
            }
            if c.flags & flags::SCRIPT != 0 {
                f = super::scripting::declared_flags(srv, c, argv);
            }
            f & writes != 0
        }
    }
}

/// Stops the client in `slot` until the pause ends, its command left in its input.
#[cold]
pub(crate) fn postpone(srv: &mut Server, slot: usize) {
    let c = &mut srv.conns[slot];
    c.postponed = true;
    let generation = c.generation;
    srv.pause.postpone(slot, generation);
}

/// Whether lookups may delete expired keys: not while anything is paused (Redis 7.0 pauses
/// expiry under WRITE and ALL), nor on a replica (a key past its deadline looks absent to
/// its readers, but only the primary's DEL deletes it: Redis's `expireIfNeeded` on a
/// replica, so the replica holds what its primary holds). Applied at each start and end of a
/// pause and at each change of role, and re-applied on every tick (`check_end`) so a
/// database replaced meanwhile follows too.
pub fn apply_expiry_pause(srv: &mut Server) {
    let paused = srv.pause.active() || crate::repl::replica::is_replica(srv);
    for db in &mut srv.dbs {
        db.expiry_paused = paused;
    }
}

/// Ends the user's pause (CLIENT UNPAUSE, or its time passed) and lets the postponed clients
/// go on, in the order they were stopped (a FAILOVER's pause stays: see `crate::pause`).
pub fn unpause(srv: &mut Server) {
    let waiting = srv.pause.end();
    release(srv, waiting);
}

/// Lets the postponed clients `waiting` go on (those still paused wait anew).
pub fn release(srv: &mut Server, waiting: std::collections::VecDeque<(usize, u32)>) {
    apply_expiry_pause(srv);
    for (slot, generation) in waiting {
        let Some(c) = srv.conns.get_mut(slot) else {
            continue;
        };
        if c.generation != generation || !c.postponed {
            continue;
        }
        c.postponed = false;
        srv.resume_client(slot);
    }
}

/// Ends the pause if its time has passed (the loop's tick).
pub fn check_end(srv: &mut Server) {
    if srv.pause.active() && srv.now_ms >= srv.pause.end_ms {
        unpause(srv);
    }
    apply_expiry_pause(srv);
}
