//! Geohash arithmetic for the GEO commands, computed the way Redis 7.0 computes it so that
//! scores, coordinates, distances and search areas agree with redis-server bit for bit.
//!
//! A position is stored as a sorted set score: longitude and latitude are each scaled to a
//! 26-bit cell index over Redis's ranges (longitude ±180, latitude ±85.05112878, the limits
//! of the Web Mercator projection), and the two indexes are interleaved, longitude in the odd
//! bits and latitude in the even ones, into a 52-bit integer, which a double holds exactly.
//! Decoding gives the centre of the cell, clamped to the ranges.
//!
//! A search (radius or box) picks a cell size from the radius (`estimate_steps`), takes the
//! cell around the centre and its eight neighbours, drops the neighbours the shape cannot
//! reach, and scans each remaining cell as a score range `[min, max)` of the sorted set.
//! Every candidate is then tested against the exact shape with the haversine distance on a
//! sphere of radius 6372797.560856 m.
//!
//! Invariants: every float operation here is the one Redis performs, in the same order, with
//! the same libm functions (`sin`, `cos`, `asin`, `sqrt` are glibc's through std), because a
//! reordered expression can move a distance by one ulp and a point across a radius. Float to
//! integer conversions follow what C on x86-64 does (see [`score_to_bits`]).

/// Longitude limits.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Latitude limits: beyond them the Mercator projection used by geohash breaks down.
pub const LAT_MIN: f64 = -85.051_128_78;
pub const LAT_MAX: f64 = 85.051_128_78;
/// Bits per coordinate in a stored score (52 bits in all).
pub const STEP_MAX: u8 = 26;
/// The sphere the distances are measured on, in meters (Earth's quadratic mean radius).
pub const EARTH_RADIUS_M: f64 = 6_372_797.560_856;
/// Half the Equator, in meters: the largest radius a one-step cell covers.
const MERCATOR_MAX: f64 = 20_037_726.37;
/// Degrees to radians, as Redis writes it (`M_PI / 180.0`).
const D_R: f64 = std::f64::consts::PI / 180.0;

/// A cell: `step` bits per coordinate, interleaved into `bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// Redis's `HASHISZERO`: a neighbour the search dropped.
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A coordinate interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// Redis's ranges (what scores are encoded over).
pub const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// The bounds of a cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Spreads the low 32 bits of `x` to the even bits and those of `y` to the odd bits.
fn interleave64(x: u32, y: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555_5555_5555_5555,
        0x3333_3333_3333_3333,
        0x0F0F_0F0F_0F0F_0F0F,
        0x00FF_00FF_00FF_00FF,
        0x0000_FFFF_0000_FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = u64::from(x);
    let mut y = u64::from(y);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of `interleave64`: the even bits in the low word, the odd ones in the high.
fn deinterleave64(v: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555_5555_5555_5555,
        0x3333_3333_3333_3333,
        0x0F0F_0F0F_0F0F_0F0F,
        0x00FF_00FF_00FF_00FF,
        0x0000_FFFF_0000_FFFF,
        0x0000_0000_FFFF_FFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = v;
    let mut y = v >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// C's conversion of a non-negative double below 2^32 to `uint32_t` (truncation).
fn to_u32(v: f64) -> u32 {
    v as u32
}

/// The cell of `step` bits per coordinate holding (longitude, latitude) over the given
/// ranges; None outside Redis's limits or the ranges (Redis's `geohashEncode` failing).
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    debug_assert!((1..=32).contains(&step));
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let mut lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min);
    let mut lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min);
    let scale = (1u64 << step) as f64;
    lat_offset *= scale;
    lon_offset *= scale;
    Some(HashBits {
        bits: interleave64(to_u32(lat_offset), to_u32(lon_offset)),
        step,
    })
}

/// `encode` over Redis's ranges.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    encode(LONG_RANGE, LAT_RANGE, lon, lat, step)
}

/// The score GEOADD stores for a position inside the limits: the 52-bit cell index.
pub fn encode_score(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(align52)
}

/// The bounds of cell `hash` over the given ranges (None for a zero hash).
pub fn decode(lon_r: Range, lat_r: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_r.min + (f64::from(ilato) * 1.0 / div) * lat_scale,
            max: lat_r.min + ((f64::from(ilato) + 1.0) * 1.0 / div) * lat_scale,
        },
        longitude: Range {
            min: lon_r.min + (f64::from(ilono) * 1.0 / div) * lon_scale,
            max: lon_r.min + ((f64::from(ilono) + 1.0) * 1.0 / div) * lon_scale,
        },
    })
}

/// The centre of a cell, clamped to Redis's limits: `[longitude, latitude]`.
pub fn area_center(area: &Area) -> [f64; 2] {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// C's `(uint64_t)score` as gcc compiles it on x86-64, for any score a sorted set may hold
/// (a geo command can be pointed at a set ZADD filled): values in [2^63, 2^64) convert by
/// subtracting 2^63 first, negative ones through the signed conversion (wrapping), and what
/// the hardware cannot convert gives its "integer indefinite" 2^63 (or 0 past 2^64).
pub fn score_to_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    let signed = |v: f64| -> u64 {
        if v.is_nan() || !(-TWO63..TWO63).contains(&v) {
            1 << 63
        } else {
            (v as i64) as u64
        }
    };
    if score < TWO63 {
        signed(score)
    } else {
        signed(score - TWO63) ^ (1 << 63)
    }
}

/// The position a stored score stands for, as GEOPOS reports it: `[longitude, latitude]`.
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits {
        bits: score_to_bits(score),
        step: STEP_MAX,
    };
    match decode(LONG_RANGE, LAT_RANGE, hash) {
        Some(area) => area_center(&area),
        // A step-26 hash is never zero.
        None => [0.0, 0.0],
    }
}

/// The hash shifted to 52 bits (a score, or a score range bound for a coarser cell).
pub fn align52(hash: HashBits) -> u64 {
    hash.bits << (52 - u32::from(hash.step) * 2)
}

/// GEOHASH's text: the position re-encoded over the standard ranges (latitude ±90), as 11
/// base-32 characters, the last one always '0' (52 bits make only 10 full characters).
pub fn standard_geohash(lon: f64, lat: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let lon_r = Range {
        min: -180.0,
        max: 180.0,
    };
    let lat_r = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(lon_r, lat_r, lon, lat, 26).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

/// Longitude bits of an interleaved hash (the odd positions); latitude is the rest.
const LON_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;
const LAT_BITS: u64 = 0x5555_5555_5555_5555;

/// One cell east (`d > 0`) or west along the longitude bits, wrapping around.
fn move_x(hash: &mut HashBits, d: i8) {
    move_along(hash, d, LON_BITS);
}

/// One cell north (`d > 0`) or south along the latitude bits, wrapping around.
fn move_y(hash: &mut HashBits, d: i8) {
    move_along(hash, d, LAT_BITS);
}

/// One cell up (`d > 0`) or down along the axis whose bits are `axis` in the interleaved
/// hash, the other axis unchanged (Redis's geohash_move_x/_y): the other axis's bits are
/// set so that the carry of the increment (or the borrow of the decrement) runs through
/// them to the axis's next bit, then cleared.
fn move_along(hash: &mut HashBits, d: i8, axis: u64) {
    if d == 0 {
        return;
    }
    let mut a = hash.bits & axis;
    let other = hash.bits & !axis;
    let shift = 64 - u32::from(hash.step) * 2;
    let zz = !axis >> shift;
    if d > 0 {
        a = a.wrapping_add(zz + 1);
    } else {
        a |= zz;
        a = a.wrapping_sub(zz + 1);
    }
    a &= axis >> shift;
    hash.bits = a | other;
}

/// The eight neighbours of a cell.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub south: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub north_east: HashBits,
    pub north_west: HashBits,
    pub south_east: HashBits,
    pub south_west: HashBits,
}

pub fn neighbors(hash: HashBits) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

/// The cell size (bits per coordinate) whose 3x3 block covers a search of this radius
/// around this latitude, in 1..=26.
pub fn estimate_steps(range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut range_m = range_m;
    let mut step: i32 = 1;
    // Bounded: the range doubles each turn (a positive range passes MERCATOR_MAX within
    // about 1100 turns; NaN and infinity never enter).
    while range_m < MERCATOR_MAX {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    // Meridians converge towards the poles: use larger cells there.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// A search shape: its centre, the unit its sizes are in (meters per unit) and its kind.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// `[longitude, latitude]`.
    pub center: [f64; 2],
    /// Meters per unit of `kind`'s sizes (and of the distances replied).
    pub conversion: f64,
    pub kind: ShapeKind,
}

#[derive(Clone, Copy, Debug)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// The longitude and latitude bounds of the shape: `[min_lon, min_lat, max_lon, max_lat]`.
/// A box's top and bottom edges span different longitudes; the wider one is used.
pub fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [lon, lat] = shape.center;
    let (height, width) = match shape.kind {
        ShapeKind::Circle { radius } => (shape.conversion * radius, shape.conversion * radius),
        ShapeKind::Box { width, height } => (
            shape.conversion * (height / 2.0),
            shape.conversion * (width / 2.0),
        ),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_M);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_M / deg_rad(lat + lat_delta).cos());
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS_M / deg_rad(lat - lat_delta).cos());
    let southern = lat < 0.0;
    let delta = if southern {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [lon - delta, lat - lat_delta, lon + delta, lat + lat_delta]
}

/// The cells a search scans: the centre's and its neighbours (zeroed when the shape cannot
/// reach them).
#[derive(Clone, Copy, Debug)]
pub struct SearchAreas {
    pub hash: HashBits,
    pub neighbors: Neighbors,
}

impl SearchAreas {
    /// The nine cells in Redis's scanning order: centre, N, S, E, W, NE, NW, SE, SW.
    pub fn in_order(&self) -> [HashBits; 9] {
        let n = &self.neighbors;
        [
            self.hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

/// Redis's `geohashCalculateAreasByShapeWGS84`: the cell size and the 3x3 block for a shape.
pub fn areas_for_shape(shape: &Shape) -> SearchAreas {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [lon, lat] = shape.center;
    let mut radius_m = match shape.kind {
        ShapeKind::Circle { radius } => radius,
        ShapeKind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    };
    radius_m *= shape.conversion;
    let mut steps = estimate_steps(radius_m, lat);
    let cell = |steps: u8| {
        let hash = encode(LONG_RANGE, LAT_RANGE, lon, lat, steps).unwrap_or_default();
        let nb = neighbors(hash);
        (hash, nb, decode(LONG_RANGE, LAT_RANGE, hash))
    };
    let (mut hash, mut nb, mut area) = cell(steps);
    // Near a cell edge the estimated size may leave part of the shape outside the block:
    // then one size larger.
    let decode_nb = |h: HashBits| decode(LONG_RANGE, LAT_RANGE, h);
    let mut decrease = false;
    if let Some(north) = decode_nb(nb.north) {
        decrease |= north.latitude.max < max_lat;
    }
    if let Some(south) = decode_nb(nb.south) {
        decrease |= south.latitude.min > min_lat;
    }
    if let Some(east) = decode_nb(nb.east) {
        decrease |= east.longitude.max < max_lon;
    }
    if let Some(west) = decode_nb(nb.west) {
        decrease |= west.longitude.min > min_lon;
    }
    if steps > 1 && decrease {
        steps -= 1;
        (hash, nb, area) = cell(steps);
    }
    // Drop the neighbours the shape cannot reach.
    if steps >= 2 {
        if let Some(area) = area {
            let zero = HashBits::default();
            if area.latitude.min < min_lat {
                nb.south = zero;
                nb.south_west = zero;
                nb.south_east = zero;
            }
            if area.latitude.max > max_lat {
                nb.north = zero;
                nb.north_east = zero;
                nb.north_west = zero;
            }
            if area.longitude.min < min_lon {
                nb.west = zero;
                nb.south_west = zero;
                nb.north_west = zero;
            }
            if area.longitude.max > max_lon {
                nb.east = zero;
                nb.south_east = zero;
                nb.north_east = zero;
            }
        }
    }
    SearchAreas {
        hash,
        neighbors: nb,
    }
}

/// The score interval `[min, max)` holding every position inside cell `hash`.
pub fn score_range(hash: HashBits) -> (u64, u64) {
    let min = align52(hash);
    let next = HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    };
    (min, align52(next))
}

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// The distance along a meridian between two latitudes, in meters.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine great-circle distance in meters (Redis 7.0.6+: points on one meridian
/// take the cheaper meridian formula).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// The distance from the shape's centre to (lon, lat) in meters, if the point is inside
/// the shape.
pub fn distance_if_within(shape: &Shape, lon: f64, lat: f64) -> Option<f64> {
    let [cx, cy] = shape.center;
    match shape.kind {
        ShapeKind::Circle { radius } => {
            let d = distance(cx, cy, lon, lat);
            (d <= radius * shape.conversion).then_some(d)
        }
        ShapeKind::Box { width, height } => {
            let (width_m, height_m) = (width * shape.conversion, height * shape.conversion);
            if lat_distance(lat, cy) > height_m / 2.0 {
                return None;
            }
            if distance(lon, lat, cx, lat) > width_m / 2.0 {
                return None;
            }
            Some(distance(cx, cy, lon, lat))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores and positions redis-server 7.0.15 gave for the GEOADD documentation example.
    #[test]
    fn known_scores_and_positions_from_redis() {
        assert_eq!(
            encode_score(13.361389, 38.115556),
            Some(3_479_099_956_230_698)
        );
        assert_eq!(
            encode_score(15.087269, 37.502669),
            Some(3_479_447_370_796_909)
        );
        let [lon, lat] = decode_score(3_479_099_956_230_698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        assert_eq!(&standard_geohash(lon, lat), b"sqc8b49rny0");
        let [lon2, lat2] = decode_score(3_479_447_370_796_909.0);
        assert_eq!(&standard_geohash(lon2, lat2), b"sqdtr74hyu0");
        assert_eq!(
            format!("{:.4}", distance(lon, lat, lon2, lat2)),
            "166274.1516"
        );
    }

    #[test]
    fn limits_are_refused_outside_and_encoded_at_the_edges() {
        assert_eq!(encode_score(180.1, 0.0), None);
        assert_eq!(encode_score(0.0, 85.06), None);
        assert_eq!(encode_score(f64::INFINITY, 0.0), None);
        assert_eq!(encode_score(f64::NAN, 0.0), None);
        assert!(encode_score(-180.0, -85.05112878).is_some());
        // The maximum scales to 2^26 exactly, one past the last cell, as in Redis.
        let top = encode_score(180.0, 85.05112878).unwrap();
        assert_eq!(top, 3 << 52);
        let [lon, lat] = decode_score(top as f64);
        assert_eq!((lon, lat), (LONG_MAX, LAT_MAX));
    }

    #[test]
    fn encode_decode_round_trip_stays_in_the_cell() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let lon = (x % 3_600_000) as f64 / 10_000.0 - 180.0;
            let lat = ((x >> 24) % 1_701_022) as f64 / 10_000.0 - 85.05;
            let score = encode_score(lon, lat).unwrap();
            assert!(score < 1 << 52);
            let [dlon, dlat] = decode_score(score as f64);
            // A cell is 360/2^26 degrees wide and 170.1/2^26 high.
            assert!(
                (dlon - lon).abs() <= 360.0 / f64::from(1 << 26),
                "{lon} {dlon}"
            );
            assert!(
                (dlat - lat).abs() <= 171.0 / f64::from(1 << 26),
                "{lat} {dlat}"
            );
            // Re-encoding the centre gives the same cell.
            assert_eq!(encode_score(dlon, dlat), Some(score));
        }
    }

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let v = interleave64(a, b);
            let d = deinterleave64(v);
            assert_eq!((d as u32, (d >> 32) as u32), (a, b));
        }
    }

    #[test]
    fn neighbours_move_one_cell() {
        let h = encode_wgs84(10.0, 10.0, 10).unwrap();
        let a = decode(LONG_RANGE, LAT_RANGE, h).unwrap();
        let n = neighbors(h);
        let east = decode(LONG_RANGE, LAT_RANGE, n.east).unwrap();
        let north = decode(LONG_RANGE, LAT_RANGE, n.north).unwrap();
        assert_eq!(east.longitude.min, a.longitude.max);
        assert_eq!(east.latitude, a.latitude);
        assert_eq!(north.latitude.min, a.latitude.max);
        assert_eq!(north.longitude, a.longitude);
        let sw = decode(LONG_RANGE, LAT_RANGE, n.south_west).unwrap();
        assert_eq!(sw.longitude.max, a.longitude.min);
        assert_eq!(sw.latitude.max, a.latitude.min);
    }

    #[test]
    fn steps_follow_the_radius() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(1.0, 0.0), 24);
        assert_eq!(estimate_steps(1.0, 70.0), 23);
        assert_eq!(estimate_steps(1.0, -81.0), 22);
        assert_eq!(estimate_steps(5_000_000.0, 0.0), 2);
        assert_eq!(estimate_steps(10_000_000.0, 0.0), 1);
        assert_eq!(estimate_steps(f64::INFINITY, 0.0), 1);
    }

    #[test]
    fn scores_convert_like_c_on_x86_64() {
        assert_eq!(score_to_bits(3.7), 3);
        assert_eq!(score_to_bits(-1.0), u64::MAX);
        assert_eq!(score_to_bits(f64::INFINITY), 0);
        assert_eq!(score_to_bits(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(score_to_bits(1e19), 10_000_000_000_000_000_000);
        assert_eq!(score_to_bits(1e20), 0);
    }

    #[test]
    fn meridian_distances_use_the_meridian_formula() {
        assert_eq!(distance(1.0, 10.0, 1.0, 20.0), lat_distance(10.0, 20.0));
        assert_eq!(distance(0.0, 0.0, 0.0, 0.0), 0.0);
    }
}
