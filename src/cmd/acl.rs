//! The ACL command: SETUSER, GETUSER, DELUSER, USERS, LIST, WHOAMI, CAT, GENPASS, DRYRUN,
//! LOG, LOAD, SAVE, HELP. The users and their rules are `acl::Acl`; this file parses
//! arguments, writes Redis 7.0.15's replies and applies what a change means for the
//! connections: a deleted or replaced user's connections are closed (after this command's
//! reply when it is the caller's own), and a subscriber whose channels a SETUSER revoked is
//! closed at once, as Redis does. A user turned `off` keeps its authenticated connections.

use super::args::arg_i64;
use super::Ctx;
use crate::acl::{Acl, DEFAULT_USER};
use crate::resp::Argv;
use crate::server::Server;

/// Most bits ACL GENPASS gives.
const GENPASS_BITS_MAX: i64 = 4096;

pub fn cmd_acl_setuser(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let name = argv.get(2);
    if name
        .iter()
        .any(|&b| b == 0 || b == b' ' || (b'\t'..=b'\r').contains(&b))
    {
        return ctx.err("ERR Usernames can't contain spaces or null characters");
    }
    let args: Vec<Vec<u8>> = argv.iter().skip(3).map(<[u8]>::to_vec).collect();
    let rules = match crate::acl::merge_selector_args(&args) {
        Ok(r) => r,
        Err(i) => {
            return ctx.err(&format!(
                "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(&args[i])
            ))
        }
    };
    let pubsub_all = ctx.srv.config.acl_pubsub_default_all;
    match ctx.srv.acl.set_user(name, &rules, pubsub_all) {
        Ok((id, old)) => {
            if let Some(old) = old {
                let new = ctx.srv.acl.user(id).clone();
                if let Some(allowed) = Acl::pubsub_revoked(&old, &new) {
                    close_revoked_subscribers(ctx.srv, id, &allowed);
                }
            }
            ctx.reply.ok();
        }
        Err((i, e)) => ctx.err(&format!(
            "ERR Error in ACL SETUSER modifier '{}': {}",
            String::from_utf8_lossy(&rules[i]),
            e.text()
        )),
    }
}

/// Closes the user's subscribers holding a channel or pattern the user's new rules no longer
/// allow (Redis's `ACLKillPubsubClientsIfNeeded`).
fn close_revoked_subscribers(srv: &mut Server, id: usize, allowed: &[Vec<u8>]) {
    let victims: Vec<usize> = srv
        .conns
        .iter()
        .filter(|(_, c)| !c.closed && c.user == id)
        .filter(|(_, c)| {
            c.subs.as_deref().is_some_and(|s| {
                s.patterns
                    .iter()
                    .any(|p| !Acl::channel_allowed(allowed, p, true))
                    || s.channels
                        .iter()
                        .chain(s.shard.iter())
                        .any(|ch| !Acl::channel_allowed(allowed, ch, false))
            })
        })
        .map(|(s, _)| s)
        .collect();
    for s in victims {
        srv.close_after_reply(s);
    }
}

/// Moves the connections of a user that no longer exists to `default`, unauthenticated, and
/// closes them (the caller's own after this command's reply).
fn close_user_clients(srv: &mut Server, id: usize) {
    let victims: Vec<usize> = srv
        .conns
        .iter()
        .filter(|(_, c)| !c.closed && c.user == id)
        .map(|(s, _)| s)
        .collect();
    for s in victims {
        let c = &mut srv.conns[s];
        c.user = DEFAULT_USER;
        c.authenticated = false;
        srv.close_after_reply(s);
    }
}

pub fn cmd_acl_deluser(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.iter().skip(2).any(|n| n == b"default") {
        return ctx.err("ERR The 'default' user cannot be removed");
    }
    let mut deleted = 0;
    for name in argv.iter().skip(2) {
        if let Some(id) = ctx.srv.acl.delete(name) {
            close_user_clients(ctx.srv, id);
            deleted += 1;
        }
    }
    ctx.reply.int(deleted);
}

pub fn cmd_acl_getuser(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(id) = ctx.srv.acl.find(argv.get(2)) else {
        return ctx.reply.null();
    };
    let v = ctx.srv.acl.view(id);
    let r = &mut ctx.reply;
    r.map(6);
    r.bulk(b"flags");
    r.set(v.flags.len());
    for f in &v.flags {
        r.bulk(f.as_bytes());
    }
    r.bulk(b"passwords");
    r.array(v.passwords.len());
    for p in v.passwords {
        r.bulk(p.as_bytes());
    }
    let (root, rest) = v
        .selectors
        .split_first()
        .expect("a user has a root selector");
    write_selector(r, root);
    r.bulk(b"selectors");
    r.array(rest.len());
    for s in rest {
        r.map(3);
        write_selector(r, s);
    }
}

fn write_selector(r: &mut crate::resp::reply::Reply<'_>, s: &(String, String, String)) {
    r.bulk(b"commands");
    r.bulk(s.0.as_bytes());
    r.bulk(b"keys");
    r.bulk(s.1.as_bytes());
    r.bulk(b"channels");
    r.bulk(s.2.as_bytes());
}

pub fn cmd_acl_users(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let names: Vec<Vec<u8>> = ctx.srv.acl.names().map(<[u8]>::to_vec).collect();
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(&n);
    }
}

pub fn cmd_acl_list(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let lines = ctx.srv.acl.list_lines();
    ctx.reply.array(lines.len());
    for l in lines {
        ctx.reply.bulk(l.as_bytes());
    }
}

pub fn cmd_acl_whoami(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let id = ctx.srv.conns[ctx.slot].user;
    let name = ctx.srv.acl.user_name(id).to_vec();
    ctx.reply.bulk(&name);
}

pub fn cmd_acl_cat(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    use super::table::acl as cat;
    if argv.len() == 2 {
        ctx.reply.array(cat::NAMES.len());
        for (_, n) in cat::NAMES {
            ctx.reply.bulk(n.as_bytes());
        }
        return;
    }
    let Some(bit) = cat::by_name(argv.get(2)) else {
        let name = String::from_utf8_lossy(argv.get(2));
        let name: String = name.chars().take(128).collect();
        return ctx.err(&format!("ERR Unknown category '{name}'"));
    };
    let names: Vec<&'static str> = ctx
        .srv
        .all_commands
        .iter()
        .filter(|c| c.acl & bit != 0)
        .map(|c| c.name)
        .collect();
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(n.as_bytes());
    }
}

pub fn cmd_acl_genpass(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let bits = if argv.len() == 3 {
        match arg_i64(argv.get(2)) {
            Some(b) => b,
            None => return ctx.err(super::error::ERR_NOT_INT),
        }
    } else {
        256
    };
    if bits <= 0 || bits > GENPASS_BITS_MAX {
        return ctx.err(&format!("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GENPASS_BITS_MAX}"));
    }
    let chars = ((bits + 3) / 4) as usize;
    let mut raw = vec![0u8; chars.div_ceil(2)];
    if let Err(e) = random_bytes(&mut raw) {
        return ctx.err(&format!("ERR {e}"));
    }
    let mut hex = Vec::with_capacity(raw.len() * 2);
    for b in raw {
        hex.push(b"0123456789abcdef"[usize::from(b >> 4)]);
        hex.push(b"0123456789abcdef"[usize::from(b & 15)]);
    }
    hex.truncate(chars);
    ctx.reply.bulk(&hex);
}

/// Bytes from the kernel's random source.
fn random_bytes(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

pub fn cmd_acl_dryrun(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let Some(user) = ctx.srv.acl.find(argv.get(2)) else {
        let u = String::from_utf8_lossy(argv.get(2)).into_owned();
        return ctx.err(&format!("ERR User '{u}' not found"));
    };
    let (buf, spans) = argv.raw_parts();
    let line = Argv::new(buf, &spans[3..]);
    let Some(mut idx) = ctx.srv.find_command(line.get(0)) else {
        let c = String::from_utf8_lossy(line.get(0)).into_owned();
        return ctx.err(&format!("ERR Command '{c}' not found"));
    };
    let mut c = ctx.srv.all_commands[idx];
    if !c.subcommands.is_empty() && line.len() >= 2 {
        match c
            .subcommands
            .iter()
            .position(|s| s.short_name().as_bytes().eq_ignore_ascii_case(line.get(1)))
        {
            Some(i) => {
                idx += 1 + i;
                c = ctx.srv.all_commands[idx];
            }
            None => {
                let n = String::from_utf8_lossy(line.get(0)).into_owned();
                return ctx.err(&format!("ERR Command '{n}' not found"));
            }
        }
    }
    if !c.arity_ok(line.len()) {
        return ctx.err(&format!(
            "ERR wrong number of arguments for '{}' command",
            c.name
        ));
    }
    match ctx.srv.acl.check(user, idx, c, &line) {
        Ok(()) => ctx.reply.ok(),
        Err((why, pos)) => {
            let text = match why {
                crate::acl::Denied::Cmd => format!(
                    "This user has no permissions to run the '{}' command",
                    c.name
                ),
                crate::acl::Denied::Key => format!(
                    "This user has no permissions to access the '{}' key",
                    String::from_utf8_lossy(line.get(pos))
                ),
                _ => format!(
                    "This user has no permissions to access the '{}' channel",
                    String::from_utf8_lossy(line.get(pos))
                ),
            };
            ctx.reply.bulk(text.as_bytes());
        }
    }
}

pub fn cmd_acl_log(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut count: i64 = 10;
    if argv.len() == 3 {
        if argv.get(2).eq_ignore_ascii_case(b"reset") {
            ctx.srv.acl.log.clear();
            return ctx.reply.ok();
        }
        match arg_i64(argv.get(2)) {
            Some(n) => count = n.max(0),
            None => return ctx.err(super::error::ERR_NOT_INT),
        }
    }
    let now_ms = crate::util::unix_ms();
    let n = (count as usize).min(ctx.srv.acl.log.len());
    let r = &mut ctx.reply;
    r.array(n);
    for e in ctx.srv.acl.log.iter().take(n) {
        r.map(7);
        r.bulk(b"count");
        r.int(e.count as i64);
        r.bulk(b"reason");
        r.bulk(e.reason_name().as_bytes());
        r.bulk(b"context");
        r.bulk(e.context_name().as_bytes());
        r.bulk(b"object");
        r.bulk(&e.object);
        r.bulk(b"username");
        r.bulk(&e.username);
        r.bulk(b"age-seconds");
        r.double(now_ms.saturating_sub(e.ctime_ms) as f64 / 1000.0);
        r.bulk(b"client-info");
        r.bulk(e.client_info.as_bytes());
    }
}

/// LOAD and SAVE need an ACL file.
fn no_aclfile(ctx: &mut Ctx<'_>) -> bool {
    if ctx.srv.config.aclfile.is_empty() {
        ctx.err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.");
        return true;
    }
    false
}

pub fn cmd_acl_load(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    if no_aclfile(ctx) {
        return;
    }
    let path = ctx.srv.config.aclfile.clone();
    let pubsub_all = ctx.srv.config.acl_pubsub_default_all;
    match ctx.srv.acl.load_file(&path, pubsub_all) {
        Ok(replaced) => {
            for id in replaced {
                close_user_clients(ctx.srv, id);
            }
            ctx.reply.ok();
        }
        Err(e) => ctx.err(&format!("ERR {e}")),
    }
}

pub fn cmd_acl_save(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    if no_aclfile(ctx) {
        return;
    }
    let path = ctx.srv.config.aclfile.clone();
    match ctx.srv.acl.save_file(&path) {
        Ok(()) => ctx.reply.ok(),
        Err(e) => {
            log::warn!("Saving the ACL file {path}: {e}");
            ctx.err("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
        }
    }
}

pub fn cmd_acl_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    const LINES: &[&str] = &[
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ];
    ctx.help(LINES);
}
