//! Geo commands, as Redis 7.0's `geo.c` does them: GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH
//! GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER GEORADIUS_RO GEORADIUSBYMEMBER_RO.
//!
//! A geo set is a plain sorted set whose scores are 52-bit geohashes (`util::geohash`), so
//! every Z* command sees it and this file keeps no type of its own: GEOADD goes through the
//! sorted set module's ZADD core (and reaches the journal as the ZADD Redis propagates), the
//! searches read the set with its rank API (`count_before`, `iter_from`), and the STORE forms
//! build their result with `ZSet::from_sorted`.
//!
//! Invariants kept here, from Redis:
//! - Arguments are parsed in Redis's order, so the same error wins: GEORADIUS checks its
//!   position and radius before the options, GEORADIUSBYMEMBER its member (on an existing
//!   key) before the radius; GEOSEARCH reads FROMMEMBER's member as it meets it; the option
//!   conflicts (STORE with WITH*, missing FROM/BY, ANY without COUNT) are checked after the
//!   loop and before the missing-key answer.
//! - A search collects candidates cell by cell in Redis's order (centre, N, S, E, W, NE, NW,
//!   SE, SW; each cell in score order), so unsorted replies and ANY's early stop pick the
//!   same members. Sorting is glibc's stable merge sort when every result is returned, and a
//!   port of Redis's partial quicksort (`pqsort`) when COUNT cuts the list, so members at
//!   equal distances come out in Redis's order too.
//! - Distances are replied with Redis's fixed-point text (4 decimals, `llrint` rounding),
//!   coordinates with `ld2string`'s human `long double` text; both match redis-server's
//!   bytes, in RESP2 (bulk strings) and RESP3 (coordinates as doubles).
//! - Keyspace events: GEOADD fires ZADD's (`new` before the reply, `zadd` after it, only if
//!   something changed); a store fires `new` if it created the destination, then
//!   `georadiusstore`/`geosearchstore`, then replies; an empty result deletes the
//!   destination with `del` before the reply. Read lookups fire `keymiss` on a miss.

use super::args::{arg_i64, c_str, opt_is};
use super::error::{ERR_NOT_FLOAT, ERR_NOT_INT};
use super::zsets::{lookup, lookup_again, parse_score, zadd_reply, ZADD_NX, ZADD_XX};
use super::Ctx;
use crate::keyspace::value::Value;
use crate::notify::class;
use crate::resp::reply::Reply;
use crate::resp::Argv;
use crate::types::avl::cmp_entry;
use crate::types::zset::ZSet;
use crate::util::f80::LongDouble;
use crate::util::geohash::{self, Shape, ShapeKind};

const ERR_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const ERR_MEMBER: &str = "ERR could not decode requested zset member";
const ERR_RADIUS_NEGATIVE: &str = "ERR radius cannot be negative";
const ERR_BOX_NEGATIVE: &str = "ERR height or width cannot be negative";
const ERR_COUNT: &str = "ERR COUNT must be > 0";
const ERR_ANY: &str = "ERR the ANY argument requires COUNT argument";

// ---------------------------------------------------------------------------------------------
// Argument helpers

/// Meters per unit of a unit argument (any case, read as a C string), or None.
fn parse_unit(a: &[u8]) -> Option<f64> {
    let u = c_str(a);
    if u.eq_ignore_ascii_case(b"m") {
        Some(1.0)
    } else if u.eq_ignore_ascii_case(b"km") {
        Some(1000.0)
    } else if u.eq_ignore_ascii_case(b"ft") {
        Some(0.3048)
    } else if u.eq_ignore_ascii_case(b"mi") {
        Some(1609.34)
    } else {
        None
    }
}

/// A float argument with `getDoubleFromObject`'s rules; `msg` is the error text without
/// its "ERR " (Redis's default is "value is not a valid float").
fn parse_float(a: &[u8], msg: Option<&str>) -> Result<f64, String> {
    parse_score(a).ok_or_else(|| match msg {
        Some(m) => format!("ERR {m}"),
        None => ERR_NOT_FLOAT.to_string(),
    })
}

/// A longitude and latitude at `argv[i]`, `argv[i + 1]` (Redis's `extractLongLatOrReply`):
/// both parsed first, then the range checked.
fn parse_lon_lat(argv: &Argv<'_>, i: usize) -> Result<[f64; 2], String> {
    let lon = parse_float(argv.get(i), None)?;
    let lat = parse_float(argv.get(i + 1), None)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&lon)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        ));
    }
    Ok([lon, lat])
}

/// `radius unit` at `argv[i]`: (radius, meters per unit).
fn parse_distance(argv: &Argv<'_>, i: usize) -> Result<(f64, f64), String> {
    let radius = parse_float(argv.get(i), Some("need numeric radius"))?;
    if radius < 0.0 {
        return Err(ERR_RADIUS_NEGATIVE.to_string());
    }
    let conv = parse_unit(argv.get(i + 1)).ok_or_else(|| ERR_UNIT.to_string())?;
    Ok((radius, conv))
}

/// `width height unit` at `argv[i]`: (width, height, meters per unit).
fn parse_box(argv: &Argv<'_>, i: usize) -> Result<(f64, f64, f64), String> {
    let width = parse_float(argv.get(i), Some("need numeric width"))?;
    let height = parse_float(argv.get(i + 1), Some("need numeric height"))?;
    if height < 0.0 || width < 0.0 {
        return Err(ERR_BOX_NEGATIVE.to_string());
    }
    let conv = parse_unit(argv.get(i + 2)).ok_or_else(|| ERR_UNIT.to_string())?;
    Ok((width, height, conv))
}

// ---------------------------------------------------------------------------------------------
// Reply helpers

/// A distance as Redis's `fixedpoint_d2string(.., 4)` writes it: the value times 10^4
/// rounded half to even (`llrint`), then printed with four decimals.
pub fn format_distance(d: f64, out: &mut Vec<u8>) {
    if d == 0.0 {
        out.extend_from_slice(b"0.0000");
        return;
    }
    let scaled = (d * 10_000.0).round_ties_even();
    // llrint's result for what a long cannot hold (x86-64: the "integer indefinite").
    let svalue = if scaled.is_finite() && scaled.abs() < 9.223_372_036_854_775e18 {
        scaled as i64
    } else {
        i64::MIN
    };
    if svalue < 0 {
        out.push(b'-');
    }
    let value = svalue.unsigned_abs();
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(value / 10_000).as_bytes());
    out.push(b'.');
    let frac = value % 10_000;
    let text = b.format(frac);
    out.extend(std::iter::repeat_n(b'0', 4 - text.len()));
    out.extend_from_slice(text.as_bytes());
}

fn reply_distance(r: &mut Reply<'_>, d: f64) {
    let mut text = Vec::with_capacity(24);
    format_distance(d, &mut text);
    r.bulk(&text);
}

/// A coordinate as Redis's `addReplyHumanLongDouble`: the `long double` text (`%.17Lf`,
/// trailing zeros trimmed), a bulk string in RESP2 and a double in RESP3.
fn reply_coord(r: &mut Reply<'_>, v: f64) {
    let mut text = Vec::with_capacity(24);
    LongDouble::from_f64(v).format_human(&mut text);
    if r.resp3 {
        r.buf.push(b',');
        r.buf.extend_from_slice(&text);
        r.buf.extend_from_slice(b"\r\n");
    } else {
        r.bulk(&text);
    }
}

/// C's `(long long)score` on x86-64 (WITHHASH): truncation, or the "integer indefinite"
/// for what does not fit.
fn score_as_i64(score: f64) -> i64 {
    if score.is_finite() && score.abs() < 9.223_372_036_854_775e18 {
        score as i64
    } else {
        i64::MIN
    }
}

/// Runs `f` on the zset at `key` for a read command, counting the keyspace hit or miss.
/// Err(WRONGTYPE text) for a key of another type; Ok(None) when there is no key.
fn read<T>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut ZSet) -> T,
) -> Result<Option<T>, &'static str> {
    let now_ms = ctx.now_ms;
    let r = lookup(ctx.db(), key, now_ms).map(|z| z.map(f));
    ctx.read_lookup(!matches!(r, Ok(None)), key);
    r.map_err(|e| e.message())
}

// ---------------------------------------------------------------------------------------------
// GEOADD

/// `GEOADD key [NX|XX] [CH] longitude latitude member [...]`: ZADD with the positions'
/// geohashes as scores, stated to the journal as that ZADD (Redis rewrites the command).
pub fn cmd_geoadd(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut first = 2;
    while first < argv.len() {
        let a = argv.get(first);
        if opt_is(a, "nx") {
            nx = true;
        } else if opt_is(a, "xx") {
            xx = true;
        } else if opt_is(a, "ch") {
            ch = true;
        } else {
            break;
        }
        first += 1;
    }
    let rest = argv.len() - first;
    // No elements at all is ZADD's syntax error in Redis (it gets an empty pair list).
    if !rest.is_multiple_of(3) || (nx && xx) || rest == 0 {
        return ctx.syntax_error();
    }
    let mut scores = Vec::with_capacity(rest / 3);
    for j in (first..argv.len()).step_by(3) {
        match parse_lon_lat(argv, j) {
            Ok([lon, lat]) => {
                let Some(score) = geohash::encode_score(lon, lat) else {
                    // parse_lon_lat checked the limits encode_score refuses.
                    return ctx.syntax_error();
                };
                scores.push(score);
            }
            Err(msg) => return ctx.err(&msg),
        }
    }
    let pairs: Vec<(f64, &[u8])> = scores
        .iter()
        .zip((first..argv.len()).step_by(3))
        .map(|(&s, j)| (s as f64, argv.get(j + 2)))
        .collect();
    let flags = if nx { ZADD_NX } else { 0 } | if xx { ZADD_XX } else { 0 };
    let key = argv.get(1);
    let changed = zadd_reply(ctx, key, flags, &pairs, ch);
    if changed > 0 {
        // Redis propagates `zadd key <options as given> score member ...`.
        let texts: Vec<String> = scores.iter().map(u64::to_string).collect();
        let mut zadd: Vec<&[u8]> = Vec::with_capacity(first + 2 * pairs.len());
        zadd.push(b"zadd");
        zadd.extend((1..first).map(|i| argv.get(i)));
        for (t, (_, m)) in texts.iter().zip(&pairs) {
            zadd.push(t.as_bytes());
            zadd.push(m);
        }
        ctx.propagate(&zadd);
        ctx.modified(key);
    }
}

// ---------------------------------------------------------------------------------------------
// GEODIST GEOHASH GEOPOS

pub fn cmd_geodist(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut to_meters = 1.0;
    if argv.len() == 5 {
        match parse_unit(argv.get(4)) {
            Some(u) => to_meters = u,
            None => return ctx.err(ERR_UNIT),
        }
    } else if argv.len() > 5 {
        return ctx.syntax_error();
    }
    let (m1, m2) = (argv.get(2), argv.get(3));
    match read(ctx, argv.get(1), |z| (z.score(m1), z.score(m2))) {
        Err(e) => ctx.err(e),
        Ok(Some((Some(s1), Some(s2)))) => {
            let [lon1, lat1] = geohash::decode_score(s1);
            let [lon2, lat2] = geohash::decode_score(s2);
            let d = geohash::distance(lon1, lat1, lon2, lat2) / to_meters;
            reply_distance(&mut ctx.reply, d);
        }
        Ok(_) => ctx.reply.null(),
    }
}

/// The scores of `argv[2..]` in the zset at argv[1] (None for a missing member), or None
/// for a missing key; the error text for a key of another type.
fn member_scores(ctx: &mut Ctx<'_>, argv: &Argv<'_>) -> Result<Vec<Option<f64>>, &'static str> {
    let members: Vec<&[u8]> = argv.iter().skip(2).collect();
    let n = members.len();
    read(ctx, argv.get(1), |z| {
        members.iter().map(|m| z.score(m)).collect::<Vec<_>>()
    })
    .map(|s| s.unwrap_or_else(|| vec![None; n]))
}

/// Replies one element per member named after the key (GEOHASH, GEOPOS): `found` writes a
/// member's element from its position, `missing` the element of a member (or key) not there.
fn reply_per_member(
    ctx: &mut Ctx<'_>,
    argv: &Argv<'_>,
    found: impl Fn(&mut Reply<'_>, f64, f64),
    missing: impl Fn(&mut Reply<'_>),
) {
    let scores = match member_scores(ctx, argv) {
        Ok(s) => s,
        Err(e) => return ctx.err(e),
    };
    let r = &mut ctx.reply;
    r.array(scores.len());
    for s in scores {
        match s {
            Some(score) => {
                let [lon, lat] = geohash::decode_score(score);
                found(r, lon, lat);
            }
            None => missing(r),
        }
    }
}

pub fn cmd_geohash(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    reply_per_member(
        ctx,
        argv,
        |r, lon, lat| r.bulk(&geohash::standard_geohash(lon, lat)),
        |r| r.null(),
    );
}

pub fn cmd_geopos(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    reply_per_member(
        ctx,
        argv,
        |r, lon, lat| {
            r.array(2);
            reply_coord(r, lon);
            reply_coord(r, lat);
        },
        |r| r.null_array(),
    );
}

// ---------------------------------------------------------------------------------------------
// The searches

/// A member a search found.
#[derive(Clone, Debug)]
pub struct GeoPoint {
    pub member: Box<[u8]>,
    pub lon: f64,
    pub lat: f64,
    /// Meters from the shape's centre.
    pub dist: f64,
    pub score: f64,
}

/// The members of `z` inside `shape`, in Redis's collection order (cell by cell, each in
/// score order); with `limit` > 0, stops once that many were found (ANY).
pub fn op_search(z: &ZSet, shape: &Shape, limit: usize) -> Vec<GeoPoint> {
    let areas = geohash::areas_for_shape(shape);
    let cells = areas.in_order();
    let mut out: Vec<GeoPoint> = Vec::new();
    let full = |out: &Vec<GeoPoint>| limit > 0 && out.len() >= limit;
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // With a huge radius neighbouring cells can be the same cell: scan it once.
        if let Some(l) = last {
            if l > 0 && cells[l] == *cell {
                continue;
            }
        }
        if full(&out) {
            break;
        }
        let (min, max) = geohash::score_range(*cell);
        let (min, max) = (min as f64, max as f64);
        let start = z.count_before(|s, _| s < min);
        for (m, s) in z.iter_from(start, false) {
            if s >= max {
                break;
            }
            let [lon, lat] = geohash::decode_score(s);
            if let Some(dist) = geohash::distance_if_within(shape, lon, lat) {
                out.push(GeoPoint {
                    member: m.into(),
                    lon,
                    lat,
                    dist,
                    score: s,
                });
            }
            if full(&out) {
                break;
            }
        }
        last = Some(i);
    }
    out
}

/// Redis's comparator on distances (`sort_gp_asc`), as qsort sees it.
fn cmp_dist(a: &GeoPoint, b: &GeoPoint) -> i32 {
    if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    }
}

/// Sorts the points by distance as Redis does: all of them (`upto == len`) with glibc's
/// qsort, a stable merge sort; only the first `upto` with Redis's partial quicksort.
pub fn sort_points(points: &mut [GeoPoint], desc: bool, upto: usize) {
    let cmp = |a: &GeoPoint, b: &GeoPoint| {
        let c = cmp_dist(a, b);
        if desc {
            -c
        } else {
            c
        }
    };
    if upto >= points.len() {
        points.sort_by(|a, b| cmp(a, b).cmp(&0));
    } else if upto > 0 {
        crate::util::pqsort::partial_qsort(points, &|a, b| cmp(a, b).cmp(&0), 0, upto - 1);
    }
}

/// Which search command runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    Radius,
    RadiusRo,
    ByMember,
    ByMemberRo,
    Search,
    SearchStore,
}

impl Variant {
    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }
    fn no_store(self) -> bool {
        matches!(self, Variant::RadiusRo | Variant::ByMemberRo)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// The position of `member` in the zset at `key` (which exists), or None.
fn member_position(ctx: &mut Ctx<'_>, key: &[u8], member: &[u8]) -> Option<[f64; 2]> {
    let now_ms = ctx.now_ms;
    // The search looked the key up (and touched it) already.
    let score = lookup_again(ctx.db(), key, now_ms).ok()??.score(member)?;
    Some(geohash::decode_score(score))
}

/// GEORADIUS, GEORADIUSBYMEMBER, their _RO forms, GEOSEARCH and GEOSEARCHSTORE, as Redis's
/// `georadiusGeneric`.
fn search_generic(ctx: &mut Ctx<'_>, argv: &Argv<'_>, variant: Variant) {
    let src_idx = if variant == Variant::SearchStore {
        2
    } else {
        1
    };
    let src = argv.get(src_idx);
    let exists = match read(ctx, src, |_| ()) {
        Err(e) => return ctx.err(e),
        Ok(found) => found.is_some(),
    };
    let mut center = [0.0f64; 2];
    let mut conversion = 1.0;
    let mut kind = ShapeKind::Circle { radius: 0.0 };
    let mut store: Option<&[u8]> = None;
    let mut storedist = false;
    let base = match variant {
        Variant::Radius | Variant::RadiusRo => {
            match parse_lon_lat(argv, 2) {
                Ok(c) => center = c,
                Err(e) => return ctx.err(&e),
            }
            match parse_distance(argv, 4) {
                Ok((radius, conv)) => {
                    kind = ShapeKind::Circle { radius };
                    conversion = conv;
                }
                Err(e) => return ctx.err(&e),
            }
            6
        }
        // Without a key the member and radius are not read: the reply only depends on
        // whether STORE is given.
        Variant::ByMember | Variant::ByMemberRo if !exists => 5,
        Variant::ByMember | Variant::ByMemberRo => {
            match member_position(ctx, src, argv.get(2)) {
                Some(c) => center = c,
                None => return ctx.err(ERR_MEMBER),
            }
            match parse_distance(argv, 3) {
                Ok((radius, conv)) => {
                    kind = ShapeKind::Circle { radius };
                    conversion = conv;
                }
                Err(e) => return ctx.err(&e),
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            store = Some(argv.get(1));
            3
        }
    };
    let (mut withdist, mut withhash, mut withcoord) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let search = variant.is_search();
    let mut i = base;
    // Bounded: every turn consumes at least one argument.
    while i < argv.len() {
        let a = argv.get(i);
        let left = argv.len() - i - 1;
        if opt_is(a, "withdist") {
            withdist = true;
        } else if opt_is(a, "withhash") {
            withhash = true;
        } else if opt_is(a, "withcoord") {
            withcoord = true;
        } else if opt_is(a, "any") {
            any = true;
        } else if opt_is(a, "asc") {
            sort = Sort::Asc;
        } else if opt_is(a, "desc") {
            sort = Sort::Desc;
        } else if opt_is(a, "count") && left >= 1 {
            match arg_i64(argv.get(i + 1)) {
                None => return ctx.err(ERR_NOT_INT),
                Some(c) if c <= 0 => return ctx.err(ERR_COUNT),
                Some(c) => count = c,
            }
            i += 1;
        } else if opt_is(a, "store") && left >= 1 && !variant.no_store() && !search {
            store = Some(argv.get(i + 1));
            storedist = false;
            i += 1;
        } else if opt_is(a, "storedist") && left >= 1 && !variant.no_store() && !search {
            store = Some(argv.get(i + 1));
            storedist = true;
            i += 1;
        } else if opt_is(a, "storedist") && variant == Variant::SearchStore {
            storedist = true;
        } else if opt_is(a, "frommember") && left >= 1 && search && !fromloc {
            if exists {
                match member_position(ctx, src, argv.get(i + 1)) {
                    Some(c) => center = c,
                    None => return ctx.err(ERR_MEMBER),
                }
            }
            frommember = true;
            i += 1;
        } else if opt_is(a, "fromlonlat") && left >= 2 && search && !frommember {
            match parse_lon_lat(argv, i + 1) {
                Ok(c) => center = c,
                Err(e) => return ctx.err(&e),
            }
            fromloc = true;
            i += 2;
        } else if opt_is(a, "byradius") && left >= 2 && search && !bybox {
            match parse_distance(argv, i + 1) {
                Ok((radius, conv)) => {
                    kind = ShapeKind::Circle { radius };
                    conversion = conv;
                }
                Err(e) => return ctx.err(&e),
            }
            byradius = true;
            i += 2;
        } else if opt_is(a, "bybox") && left >= 3 && search && !byradius {
            match parse_box(argv, i + 1) {
                Ok((width, height, conv)) => {
                    kind = ShapeKind::Box { width, height };
                    conversion = conv;
                }
                Err(e) => return ctx.err(&e),
            }
            bybox = true;
            i += 3;
        } else {
            return ctx.syntax_error();
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoord) {
        let who = if variant == Variant::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return ctx.err(&format!(
            "ERR {who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        ));
    }
    let name = String::from_utf8_lossy(argv.get(0)).into_owned();
    if search && !(frommember || fromloc) {
        return ctx.err(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if search && !(byradius || bybox) {
        return ctx.err(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
    }
    if any && count == 0 {
        return ctx.err(ERR_ANY);
    }
    let now_ms = ctx.now_ms;
    if !exists {
        match store {
            Some(dst) => {
                if ctx.db().remove(dst, now_ms).is_some() {
                    ctx.modified(dst);
                    ctx.notify(class::GENERIC, "del", dst);
                    ctx.dirty(1);
                }
                ctx.reply.int(0);
            }
            None => ctx.reply.array(0),
        }
        return;
    }
    // COUNT needs an order to mean "the nearest": ascending unless ANY.
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape {
        center,
        conversion,
        kind,
    };
    let limit = if any { count as usize } else { 0 };
    let mut points = match lookup_again(ctx.db(), src, now_ms) {
        Ok(Some(z)) => op_search(z, &shape, limit),
        _ => Vec::new(),
    };
    if points.is_empty() && store.is_none() {
        return ctx.reply.array(0);
    }
    let returned = if count == 0 {
        points.len()
    } else {
        points
            .len()
            .min(usize::try_from(count).unwrap_or(usize::MAX))
    };
    if sort != Sort::None {
        sort_points(&mut points, sort == Sort::Desc, returned);
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }
    match store {
        None => reply_points(&mut ctx.reply, &points, withdist, withhash, withcoord),
        Some(dst) => {
            let event = if search {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            store_points(ctx, dst, points, storedist, event);
        }
    }
}

fn reply_points(r: &mut Reply<'_>, points: &[GeoPoint], dist: bool, hash: bool, coord: bool) {
    let options = usize::from(dist) + usize::from(hash) + usize::from(coord);
    r.array(points.len());
    for p in points {
        if options > 0 {
            r.array(options + 1);
        }
        r.bulk(&p.member);
        if dist {
            reply_distance(r, p.dist);
        }
        if hash {
            r.int(score_as_i64(p.score));
        }
        if coord {
            r.array(2);
            reply_coord(r, p.lon);
            reply_coord(r, p.lat);
        }
    }
}

/// Writes a search's result to `dst` (scores: the geohashes, or the distances for
/// STOREDIST) and replies with its size, with Redis's events and dirty count.
fn store_points(ctx: &mut Ctx<'_>, dst: &[u8], points: Vec<GeoPoint>, dist: bool, event: &str) {
    let now_ms = ctx.now_ms;
    let n = points.len();
    if n == 0 {
        if ctx.db().remove(dst, now_ms).is_some() {
            ctx.modified(dst);
            ctx.notify(class::GENERIC, "del", dst);
            ctx.dirty(1);
        }
        return ctx.reply.int(0);
    }
    let mut pairs: Vec<(Box<[u8]>, f64)> = points
        .into_iter()
        .map(|p| (p.member, if dist { p.dist } else { p.score }))
        .collect();
    pairs.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    let z = ZSet::from_sorted(pairs, super::zsets::limits(ctx));
    let created = ctx
        .db()
        .set(dst, Value::ZSet(Box::new(z)), now_ms, false)
        .is_none();
    // Only the destination changed (the source is a key position too).
    ctx.modified(dst);
    if created {
        ctx.notify(class::NEW, "new", dst);
    }
    ctx.notify(class::ZSET, event, dst);
    ctx.dirty(n as u64);
    ctx.reply.int(n as i64);
}

pub fn cmd_georadius(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    search_generic(ctx, argv, Variant::Radius);
}

pub fn cmd_georadius_ro(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    search_generic(ctx, argv, Variant::RadiusRo);
}

pub fn cmd_georadiusbymember(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    search_generic(ctx, argv, Variant::ByMember);
}

pub fn cmd_georadiusbymember_ro(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    search_generic(ctx, argv, Variant::ByMemberRo);
}

pub fn cmd_geosearch(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    search_generic(ctx, argv, Variant::Search);
}

pub fn cmd_geosearchstore(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    search_generic(ctx, argv, Variant::SearchStore);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist_text(d: f64) -> String {
        let mut v = Vec::new();
        format_distance(d, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn distances_print_like_fixedpoint_d2string() {
        assert_eq!(dist_text(0.0), "0.0000");
        assert_eq!(dist_text(166_274.151_6), "166274.1516");
        assert_eq!(dist_text(0.000_04), "0.0000");
        assert_eq!(dist_text(0.000_06), "0.0001");
        assert_eq!(dist_text(12.5), "12.5000");
        // Ties go to even, as llrint does in the default rounding mode.
        assert_eq!(dist_text(0.000_125), "0.0001");
        assert_eq!(dist_text(-1.5), "-1.5000");
    }

    fn point(dist: f64, tag: u8) -> GeoPoint {
        GeoPoint {
            member: Box::new([tag]),
            lon: 0.0,
            lat: 0.0,
            dist,
            score: 0.0,
        }
    }

    #[test]
    fn partial_sort_orders_the_requested_prefix() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for n in [1usize, 5, 7, 8, 9, 40, 41, 100, 1000] {
            for upto in [1, 2, n / 2, n.saturating_sub(1)] {
                if upto == 0 || upto >= n {
                    continue;
                }
                let mut v: Vec<GeoPoint> = (0..n)
                    .map(|i| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        point((x % 50) as f64, i as u8)
                    })
                    .collect();
                let mut all: Vec<f64> = v.iter().map(|p| p.dist).collect();
                all.sort_by(f64::total_cmp);
                sort_points(&mut v, false, upto);
                let got: Vec<f64> = v.iter().take(upto).map(|p| p.dist).collect();
                assert_eq!(got, all[..upto].to_vec(), "n {n} upto {upto}");
                let mut rest: Vec<f64> = v.iter().map(|p| p.dist).collect();
                rest.sort_by(f64::total_cmp);
                assert_eq!(rest, all, "a permutation");
            }
        }
    }

    #[test]
    fn full_sort_is_stable_both_ways() {
        let mut v = vec![point(2.0, 0), point(1.0, 1), point(2.0, 2), point(1.0, 3)];
        sort_points(&mut v, true, 4);
        let tags: Vec<u8> = v.iter().map(|p| p.member[0]).collect();
        assert_eq!(tags, vec![0, 2, 1, 3]);
    }

    #[test]
    fn units() {
        assert_eq!(parse_unit(b"KM"), Some(1000.0));
        assert_eq!(parse_unit(b"mi\0x"), Some(1609.34));
        assert_eq!(parse_unit(b"kms"), None);
    }
}
