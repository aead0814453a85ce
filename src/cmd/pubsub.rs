//! Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE,
//! PUBLISH SPUBLISH, and PUBSUB CHANNELS NUMSUB NUMPAT SHARDCHANNELS SHARDNUMSUB HELP; and
//! [`publish`], the delivery every message takes (keyspace notifications included).
//!
//! Delivery. A message is encoded once per publish (once more per matching pattern, whose
//! frame names the pattern) and copied into each subscriber's output buffer; a RESP3
//! subscriber gets the same bytes with `>` (push) in place of `*`. Each subscriber is queued
//! once for the flush that ends the loop turn, so a turn's messages to one subscriber leave in
//! one send. The running command's own client is written to through the reply buffer the
//! command is writing ([`Caller`]), so that a message to oneself lands where Redis puts it
//! relative to the command's reply.
//!
//! Limits. After each delivery the receiver's unsent output is checked against the `pubsub`
//! class of `client-output-buffer-limit` (the `normal` class for a connection subscribed to
//! nothing, such as a tracking client's invalidations); one over it is marked, gets nothing
//! more, and is closed at the end of the turn with its unsent output dropped
//! (`Server::close_over_limit`), as Redis's `freeClientAsync`, so a subscriber that stops
//! reading never grows without bound.
//!
//! PUBLISH changes no data, so it is never journaled (the AOF does not log it; Redis sends it
//! to replicas only).

use super::Ctx;
use crate::journal::encode;
use crate::pubsub::Kind;
use crate::resp::Argv;
use crate::server::Server;
use crate::util::glob::glob_match;

/// The client whose command is running and the buffer its reply is being written to.
pub struct Caller<'a> {
    pub slot: usize,
    pub out: &'a mut Vec<u8>,
}

/// Writes a RESP2 array `frame` to one connection: as is for RESP2, as a push for RESP3.
#[inline]
fn write_frame(out: &mut Vec<u8>, frame: &[u8], resp3: bool) {
    if resp3 {
        out.push(b'>');
        out.extend_from_slice(&frame[1..]);
    } else {
        out.extend_from_slice(frame);
    }
}

/// Sends `frame` (a RESP2 array) to the connection in `slot`, out of band: into its output
/// buffer (or the caller's reply buffer when it is the running client), queued for this
/// turn's flush, checked against its output limit.
pub fn send_to(srv: &mut Server, caller: &mut Option<Caller<'_>>, slot: usize, frame: &[u8]) {
    let Some(conn) = srv.conns.get_mut(slot) else {
        return;
    };
    if conn.closed || conn.obuf_closing {
        return;
    }
    if let Some(c) = caller.as_mut().filter(|c| c.slot == slot) {
        write_frame(c.out, frame, conn.resp3);
        return;
    }
    write_frame(&mut conn.out, frame, conn.resp3);
    if !conn.flush_queued {
        conn.flush_queued = true;
        srv.touched.push(slot);
    }
    let class = usize::from(conn.subs.is_some()) * 2;
    let lim = srv.config.client_obuf_limits[class];
    let pending = conn.output_pending(conn.out.len()) as u64;
    if conn.output_limit_reached(lim, pending, srv.now_ms) {
        conn.obuf_closing = true;
        srv.obuf_closing.push((slot, conn.generation));
    }
}

/// Delivers `msg` published to `channel`: to the channel's (or shard channel's) subscribers
/// and, for a plain channel, to the subscribers of every matching pattern. Returns the number
/// of deliveries (a client subscribed to the channel and to a matching pattern counts twice,
/// as in Redis).
pub fn publish(
    srv: &mut Server,
    caller: &mut Option<Caller<'_>>,
    kind: Kind,
    channel: &[u8],
    msg: &[u8],
) -> usize {
    if srv.pubsub.is_empty() {
        return 0;
    }
    // Reused buffers: the frame and a copy of the receivers' slots (a delivery needs the
    // whole server, so the registry cannot stay borrowed while it runs).
    let mut frame = std::mem::take(&mut srv.pub_frame);
    let mut slots = std::mem::take(&mut srv.pub_slots);
    let mut receivers = 0;
    let word: &[u8] = if kind == Kind::Shard {
        b"smessage"
    } else {
        b"message"
    };
    if let Some(list) = srv.pubsub.subscribers(kind, channel) {
        slots.clear();
        slots.extend_from_slice(list);
        frame.clear();
        encode(&mut frame, 3, [word, channel, msg].into_iter());
        for &slot in &slots {
            send_to(srv, caller, slot, &frame);
        }
        receivers += slots.len();
    }
    if kind == Kind::Channel {
        // Bounded by the number of patterns subscribed to.
        for p in 0..srv.pubsub.patterns().len() {
            let pattern = &srv.pubsub.patterns()[p];
            if !glob_match(pattern, channel, false) {
                continue;
            }
            frame.clear();
            encode(
                &mut frame,
                4,
                [&b"pmessage"[..], pattern, channel, msg].into_iter(),
            );
            slots.clear();
            if let Some(list) = srv.pubsub.subscribers(Kind::Pattern, pattern) {
                slots.extend_from_slice(list);
            }
            for &slot in &slots {
                send_to(srv, caller, slot, &frame);
            }
            receivers += slots.len();
        }
    }
    srv.pub_frame = frame;
    srv.pub_slots = slots;
    receivers
}

/// Subscribes the caller to each name of `argv[1..]`, confirming each.
fn subscribe(ctx: &mut Ctx<'_>, argv: &Argv<'_>, kind: Kind) {
    let slot = ctx.slot;
    for i in 1..argv.len() {
        let name = argv.get(i);
        let srv = &mut *ctx.srv;
        let subs = srv.conns[slot].subs.get_or_insert_with(Box::default);
        srv.pubsub.subscribe(subs, slot, kind, name);
        let count = subs.count_for(kind);
        confirm(ctx, kind.subscribe_word(), Some(name), count);
    }
}

/// One (un)subscribe confirmation: `[word, name, count]`, a push in RESP3.
fn confirm(ctx: &mut Ctx<'_>, word: &[u8], name: Option<&[u8]>, count: usize) {
    ctx.reply.push(3);
    ctx.reply.bulk(word);
    match name {
        Some(n) => ctx.reply.bulk(n),
        None => ctx.reply.null(),
    }
    ctx.reply.int(count as i64);
}

/// Removes one subscription of the connection in `slot`; drops its `ClientSubs` once the last
/// is gone. Returns whether it was subscribed and the count a confirmation of `kind` carries.
fn remove_one(srv: &mut Server, slot: usize, kind: Kind, name: &[u8]) -> (bool, usize) {
    let Some(subs) = srv.conns[slot].subs.as_deref_mut() else {
        return (false, 0);
    };
    let removed = srv.pubsub.unsubscribe(subs, slot, kind, name);
    let count = subs.count_for(kind);
    if subs.total() == 0 {
        srv.conns[slot].subs = None;
    }
    (removed, count)
}

/// The caller's names of one kind (for unsubscribing from all of them).
fn names_of(srv: &Server, slot: usize, kind: Kind) -> Vec<Box<[u8]>> {
    srv.conns[slot]
        .subs
        .as_deref()
        .map(|s| s.names(kind))
        .unwrap_or_default()
}

/// Unsubscribes the caller from each name of `argv[1..]`, or from all its names of `kind`,
/// confirming each (and once with a null name when there was none).
fn unsubscribe(ctx: &mut Ctx<'_>, argv: &Argv<'_>, kind: Kind) {
    let slot = ctx.slot;
    let word = kind.unsubscribe_word();
    if argv.len() > 1 {
        for i in 1..argv.len() {
            let name = argv.get(i);
            let (_, count) = remove_one(ctx.srv, slot, kind, name);
            confirm(ctx, word, Some(name), count);
        }
        return;
    }
    let names = names_of(ctx.srv, slot, kind);
    if names.is_empty() {
        let count = ctx.srv.conns[slot]
            .subs
            .as_deref()
            .map_or(0, |s| s.count_for(kind));
        confirm(ctx, word, None, count);
        return;
    }
    for name in names {
        let (_, count) = remove_one(ctx.srv, slot, kind, &name);
        confirm(ctx, word, Some(&name), count);
    }
}

/// Drops every subscription of the connection in `slot`, answering nothing (RESET, close).
pub fn unsubscribe_all(srv: &mut Server, slot: usize) {
    let Some(mut subs) = srv.conns.get_mut(slot).and_then(|c| c.subs.take()) else {
        return;
    };
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in subs.names(kind) {
            srv.pubsub.unsubscribe(&mut subs, slot, kind, &name);
        }
    }
    debug_assert_eq!(subs.total(), 0);
}

pub fn cmd_subscribe(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    subscribe(ctx, argv, Kind::Channel);
}

pub fn cmd_psubscribe(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    subscribe(ctx, argv, Kind::Pattern);
}

pub fn cmd_ssubscribe(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    subscribe(ctx, argv, Kind::Shard);
}

pub fn cmd_unsubscribe(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    unsubscribe(ctx, argv, Kind::Channel);
}

pub fn cmd_punsubscribe(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    unsubscribe(ctx, argv, Kind::Pattern);
}

pub fn cmd_sunsubscribe(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    unsubscribe(ctx, argv, Kind::Shard);
}

fn publish_cmd(ctx: &mut Ctx<'_>, argv: &Argv<'_>, kind: Kind) {
    let mut caller = Some(Caller {
        slot: ctx.slot,
        out: &mut *ctx.reply.buf,
    });
    let n = publish(ctx.srv, &mut caller, kind, argv.get(1), argv.get(2));
    ctx.reply.int(n as i64);
}

pub fn cmd_publish(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    publish_cmd(ctx, argv, Kind::Channel);
}

pub fn cmd_spublish(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    publish_cmd(ctx, argv, Kind::Shard);
}

/// PUBSUB CHANNELS / SHARDCHANNELS: the names with subscribers, those matching the optional
/// pattern. A second argument gets Redis's combined unknown-subcommand-or-arity error.
fn list_channels(ctx: &mut Ctx<'_>, argv: &Argv<'_>, kind: Kind) {
    if argv.len() > 3 {
        let sub = String::from_utf8_lossy(argv.get(1)).into_owned();
        ctx.err(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try PUBSUB HELP."
        ));
        return;
    }
    let pattern = (argv.len() == 3).then(|| argv.get(2));
    let names: Vec<&[u8]> = ctx
        .srv
        .pubsub
        .names(kind)
        .filter(|n| pattern.is_none_or(|p| glob_match(p, n, false)))
        .collect();
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(n);
    }
}

/// PUBSUB NUMSUB / SHARDNUMSUB: each name followed by its subscriber count.
fn count_subscribers(ctx: &mut Ctx<'_>, argv: &Argv<'_>, kind: Kind) {
    let n = argv.len() - 2;
    ctx.reply.array(2 * n);
    for i in 2..argv.len() {
        let name = argv.get(i);
        let count = ctx
            .srv
            .pubsub
            .subscribers(kind, name)
            .map_or(0, <[usize]>::len);
        ctx.reply.bulk(name);
        ctx.reply.int(count as i64);
    }
}

pub fn cmd_pubsub_channels(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    list_channels(ctx, argv, Kind::Channel);
}

pub fn cmd_pubsub_shardchannels(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    list_channels(ctx, argv, Kind::Shard);
}

pub fn cmd_pubsub_numsub(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    count_subscribers(ctx, argv, Kind::Channel);
}

pub fn cmd_pubsub_shardnumsub(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    count_subscribers(ctx, argv, Kind::Shard);
}

pub fn cmd_pubsub_numpat(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    let n = ctx.srv.pubsub.len(Kind::Pattern);
    ctx.reply.int(n as i64);
}

pub fn cmd_pubsub_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.help(&[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]);
}
