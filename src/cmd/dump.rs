//! DUMP and RESTORE: a key's value moved as Redis 7.0's serialized payload (the value's RDB
//! type byte and encoding, the RDB version 10 as u16 LE, and the CRC-64 of everything before
//! it as u64 LE; `persist::rdb::dump_payload` / `parse_dump_payload`, the snapshot codec's
//! own value writer and loader), so payloads move between ringkv and redis-server both ways.
//!
//! What the commands do, after Redis 7.0.15's `dumpCommand` and `restoreCommand`
//! (cluster.c):
//! - DUMP looks its key up for reading (touches it, counts a hit or a miss and fires
//!   `keymiss`), answers the payload or a null bulk. The payload's strings are LZF-compressed
//!   under `rdbcompression`, as the RDB writer does.
//! - RESTORE checks, in Redis's order: the options (REPLACE, ABSTTL, IDLETIME n, FREQ n;
//!   IDLETIME and FREQ exclude each other, a wrong one is a syntax error), the key (it must
//!   not exist without REPLACE: `BUSYKEY`), the TTL (an integer >= 0), the payload's
//!   trailer, then the value (any load failure, an empty collection included, is
//!   `ERR Bad data format`). The payload is never trusted: every length is checked against
//!   its size by the loader, so hostile input gets an error, never a panic or an allocation
//!   beyond the payload's bounds.
//! - A TTL of 0 means none; otherwise it is relative milliseconds (absolute with ABSTTL),
//!   added to the clock in C's wrapping arithmetic. A deadline at or before now creates no
//!   key: with REPLACE the old key is deleted (`del` event, propagated as `DEL key`),
//!   without it nothing changes; the answer is OK either way.
//! - Otherwise the key is created (`new` event), its TTL set, IDLETIME/FREQ applied when the
//!   policy tracks that kind of data (`Db::set_access_hint`), then `restore` fires and OK is
//!   answered. The command is propagated as given, except that a relative TTL becomes
//!   absolute with `ABSTTL` appended, as Redis rewrites it. WATCH, blocked clients and client
//!   tracking hear of the key through `Ctx::modified`.

use super::args::{arg_i64, opt_is};
use super::error::{ERR_NOT_INT, ERR_SYNTAX};
use super::Ctx;
use crate::notify::class;
use crate::persist::rdb;
use crate::resp::Argv;

/// RESTORE's options after the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RestoreOpts {
    replace: bool,
    absttl: bool,
    idle_s: Option<i64>,
    freq: Option<u8>,
}

/// Parses RESTORE's options as Redis's loop does: left to right, the first bad one answers.
fn parse_restore_opts(argv: &Argv<'_>) -> Result<RestoreOpts, &'static str> {
    let mut o = RestoreOpts::default();
    let mut j = 4;
    while j < argv.len() {
        let a = argv.get(j);
        let has_value = j + 1 < argv.len();
        if opt_is(a, "replace") {
            o.replace = true;
        } else if opt_is(a, "absttl") {
            o.absttl = true;
        } else if opt_is(a, "idletime") && has_value && o.freq.is_none() {
            let n = arg_i64(argv.get(j + 1)).ok_or(ERR_NOT_INT)?;
            if n < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0");
            }
            o.idle_s = Some(n);
            j += 1;
        } else if opt_is(a, "freq") && has_value && o.idle_s.is_none() {
            let n = arg_i64(argv.get(j + 1)).ok_or(ERR_NOT_INT)?;
            o.freq = Some(
                u8::try_from(n).map_err(|_| "ERR Invalid FREQ value, must be >= 0 and <= 255")?,
            );
            j += 1;
        } else {
            return Err(ERR_SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// `DUMP key`
pub fn cmd_dump(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let now_ms = ctx.now_ms;
    let compress = ctx.srv.config.rdbcompression;
    let key = argv.get(1);
    let payload = ctx
        .db()
        .get(key, now_ms)
        .map(|v| rdb::dump_payload(v, compress));
    ctx.read_lookup(payload.is_some(), key);
    match payload {
        Some(p) => ctx.reply.bulk(&p),
        None => ctx.reply.null(),
    }
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`
pub fn cmd_restore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let opts = match parse_restore_opts(argv) {
        Ok(o) => o,
        Err(e) => return ctx.err(e),
    };
    let now_ms = ctx.now_ms;
    let key = argv.get(1);
    // lookupKeyWrite: an expired key is reaped here and counts as absent.
    let exists = ctx.db().get(key, now_ms).is_some();
    if exists && !opts.replace {
        return ctx.err("BUSYKEY Target key name already exists.");
    }
    let ttl = match arg_i64(argv.get(2)) {
        None => return ctx.err(ERR_NOT_INT),
        Some(t) if t < 0 => return ctx.err("ERR Invalid TTL value, must be >= 0"),
        Some(t) => t,
    };
    let limits = rdb::Limits::from_config(&ctx.srv.config);
    let value = match rdb::parse_dump_payload(argv.get(3), true, &limits) {
        Ok(v) => v,
        Err(e) => return ctx.err(&format!("ERR {}", e.message())),
    };
    let deleted = opts.replace && ctx.db().remove(key, now_ms).is_some();
    // Milliseconds since the epoch fit an i64 for the next 292 million years.
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let deadline_ms = match ttl {
        0 => None,
        t if opts.absttl => Some(t),
        t => Some(t.wrapping_add(now)),
    };
    if let Some(d) = deadline_ms.filter(|&d| d <= now) {
        debug_assert!(d <= now);
        // Already expired: the key is not created. Dropping the value here is fine: it was
        // only ever a local.
        drop(value);
        if deleted {
            ctx.propagate(&[b"DEL", key]);
            ctx.modified(key);
            ctx.notify(class::GENERIC, "del", key);
            ctx.dirty(1);
        }
        return ctx.reply.ok();
    }
    let mark = ctx.new_mark();
    let db = ctx.db();
    db.set(key, value, now_ms, false);
    if let Some(d) = deadline_ms {
        // `d > now >= 0`: a live deadline.
        let stored = db.set_expire_at_ms(key, d as u64, now_ms);
        debug_assert!(stored, "RESTORE: key vanished after set");
    }
    db.set_access_hint(key, opts.freq, opts.idle_s, now_ms);
    if let (Some(d), false) = (deadline_ms, opts.absttl) {
        let mut n = itoa::Buffer::new();
        let mut args: Vec<&[u8]> = argv.iter().collect();
        args[2] = n.format(d).as_bytes();
        args.push(b"ABSTTL");
        ctx.propagate(&args);
    }
    ctx.notify_new_since(mark, key);
    ctx.modified(key);
    ctx.notify(class::GENERIC, "restore", key);
    ctx.dirty(1);
    ctx.reply.ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::Value;

    #[test]
    fn payload_round_trips_every_kind_of_value() {
        let values = [
            Value::from_bytes(b"hello"),
            Value::from_bytes(b"12345"),
            Value::from_bytes(&[b'x'; 200]),
        ];
        for v in &values {
            for compress in [false, true] {
                let p = rdb::dump_payload(v, compress);
                let back = rdb::parse_dump_payload(&p, true, &rdb::Limits::default()).unwrap();
                let mut a = itoa::Buffer::new();
                let mut b = itoa::Buffer::new();
                assert_eq!(back.str_bytes(&mut a), v.str_bytes(&mut b));
            }
        }
    }

    #[test]
    fn damaged_payloads_are_refused() {
        let p = rdb::dump_payload(&Value::from_bytes(b"hello"), false);
        let lim = rdb::Limits::default();
        let parse = |b: &[u8]| rdb::parse_dump_payload(b, true, &lim).map(|_| ());
        assert_eq!(parse(&p[..9]), Err(rdb::DumpPayloadError::Trailer));
        let mut bad = p.clone();
        bad[2] ^= 1;
        assert_eq!(parse(&bad), Err(rdb::DumpPayloadError::Trailer));
        // A newer RDB version is refused even with a matching checksum.
        let mut newer = p[..p.len() - 10].to_vec();
        newer.extend_from_slice(&11u16.to_le_bytes());
        let crc = rdb::crc64(&newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(parse(&newer), Err(rdb::DumpPayloadError::Trailer));
        // Right trailer, unknown type byte.
        let mut body = vec![8u8];
        body.extend_from_slice(&10u16.to_le_bytes());
        let crc = rdb::crc64(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            parse(&body),
            Err(rdb::DumpPayloadError::BadFormat(_))
        ));
    }
}
