//! The geo commands against redis-server 7.0.15: hand-written cases (every option and every
//! error), a seeded random stream compared reply by reply in RESP2 and RESP3 (with a variant
//! that also compares the keyspace events), the AOF form of each command, and geo sets
//! moved between ringkv and redis-server through RDB and AOF files.
//!
//! Usage:
//!   cargo test --test geo                                  default seed and length
//!   DIFFTEST_SEED=7 DIFFTEST_N=20000 cargo test --test geo random_stream
//!
//! The random stream draws positions over the whole valid range (longitude ±180, latitude
//! ±85.05112878, the limits themselves included), clusters of nearby positions so searches
//! find many members, and repeated positions so that members at equal distances test the
//! order Redis's sorts leave them in. Searches use every shape, unit, order, COUNT with and
//! without ANY, the WITH* options and the STORE forms; everything is compared exactly.

mod common;

use common::files::{incr_commands, lossy, TempDir};

use common::diff::{words, Pair};
use common::{Reply, Server};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DEFAULT_SEED: u64 = 0x6e0_5eed;
const DEFAULT_N: usize = 6_000;
const BATCH_MAX: usize = 40;
const HISTORY_MAX: usize = 12;

const KEYS: &[&str] = &["g1", "g2", "g3"];
/// Destinations of the STORE forms: their own keys, and (rarely, so that it keeps members
/// to search) a source.
const DESTS: &[&str] = &["d1", "d2", "d1", "d2", "d1", "d2", "d1", "d2", "g3"];

fn run(diff: &mut Pair, cmds: &[Vec<Vec<u8>>], resp3: bool) {
    for batch in cmds.chunks(BATCH_MAX) {
        diff.run_exact(resp3, batch, "exact");
    }
    diff.check_events();
}

fn check_state(diff: &mut Pair) {
    let mut cmds = Vec::new();
    for k in KEYS.iter().chain(&["d1", "d2", "str"]) {
        cmds.push(words(&format!("TYPE {k}")));
        cmds.push(words(&format!("OBJECT ENCODING {k}")));
        cmds.push(words(&format!("ZRANGE {k} 0 -1 WITHSCORES")));
    }
    cmds.push(words("DBSIZE"));
    run(diff, &cmds, false);
}

struct Gen {
    rng: StdRng,
    /// Positions already used, drawn again so that members share a position.
    used: Vec<(String, String)>,
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.gen_range(0..items.len())]
    }

    fn key(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=2 => "str".into(),
            3..=5 => "nokey".into(),
            _ => self.pick(KEYS).into(),
        }
    }

    fn member(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=2 => "nomember".into(),
            // Integer members (stored as integers in listpacks).
            3..=8 => format!("{}", self.rng.gen_range(-5..50)),
            _ => format!("m{}", self.rng.gen_range(0..25)),
        }
    }

    /// A float text with a random number of decimals (or an integer).
    fn num(&mut self, v: f64) -> String {
        match self.rng.gen_range(0..4) {
            0 => format!("{}", v.round()),
            1 => format!("{v:.3}"),
            2 => format!("{v:.6}"),
            _ => format!("{v}"),
        }
    }

    /// A longitude and latitude: anywhere, at the limits, near a few hubs, or reused.
    fn position(&mut self) -> (String, String) {
        const HUBS: &[(f64, f64)] = &[
            (13.361389, 38.115556),
            (-0.1276, 51.5072),
            (179.99, 0.0),
            (-179.99, -33.0),
            (0.0, 84.9),
            (151.2, -84.99),
        ];
        let p = match self.rng.gen_range(0..100) {
            0..=29 => {
                let lon = self.rng.gen_range(-180.0..=180.0);
                let lat = self.rng.gen_range(-85.05112878..=85.05112878);
                (self.num(lon), self.num(lat))
            }
            30..=34 => {
                let lon = *["180", "-180", "0", "179.9999999", "-179.9999999"]
                    .get(self.rng.gen_range(0..5))
                    .unwrap_or(&"0");
                let lat = *["85.05112878", "-85.05112878", "0", "85.05112877", "-85"]
                    .get(self.rng.gen_range(0..5))
                    .unwrap_or(&"0");
                (lon.to_string(), lat.to_string())
            }
            35..=54 if !self.used.is_empty() => {
                let i = self.rng.gen_range(0..self.used.len());
                return self.used[i].clone();
            }
            _ => {
                let (hx, hy) = HUBS[self.rng.gen_range(0..HUBS.len())];
                let lon = (hx + self.rng.gen_range(-2.0..2.0)).clamp(-180.0, 180.0);
                let lat = (hy + self.rng.gen_range(-2.0..2.0)).clamp(-85.05, 85.05);
                (self.num(lon), self.num(lat))
            }
        };
        if self.used.len() < 200 {
            self.used.push(p.clone());
        }
        p
    }

    /// A bad coordinate now and then.
    fn maybe_bad_position(&mut self) -> (String, String) {
        match self.rng.gen_range(0..100) {
            0 => ("181".into(), "0".into()),
            1 => ("0".into(), "85.06".into()),
            2 => ("abc".into(), "1".into()),
            3 => ("-inf".into(), "1".into()),
            _ => self.position(),
        }
    }

    fn unit(&mut self) -> String {
        let u = match self.rng.gen_range(0..100) {
            0 => "yd",
            1..=30 => "km",
            31..=50 => "m",
            51..=75 => "mi",
            _ => "ft",
        };
        if self.chance(0.2) {
            u.to_ascii_uppercase()
        } else {
            u.to_string()
        }
    }

    /// A radius (or box side) in meters' worth of the unit: tiny to half the Earth.
    fn size(&mut self, unit: &str) -> String {
        let meters: f64 = match self.rng.gen_range(0..100) {
            0 => 0.0,
            1 => -1.0,
            2..=30 => self.rng.gen_range(1.0..50_000.0),
            31..=80 => self.rng.gen_range(50_000.0..800_000.0),
            _ => self.rng.gen_range(800_000.0..21_000_000.0),
        };
        let per = match unit.to_ascii_lowercase().as_str() {
            "km" => 1000.0,
            "mi" => 1609.34,
            "ft" => 0.3048,
            _ => 1.0,
        };
        self.num(meters / per)
    }

    /// The options after the shape, in a random order.
    fn options(&mut self, v: &mut Vec<String>, with: bool, store: Option<&str>) {
        let mut opts: Vec<Vec<String>> = Vec::new();
        if self.chance(0.5) {
            opts.push(vec![self.pick(&["ASC", "DESC", "asc"]).into()]);
        }
        if self.chance(0.5) {
            let n = match self.rng.gen_range(0..30) {
                0 => "0".to_string(),
                1 => "x".to_string(),
                _ => self.rng.gen_range(1..12).to_string(),
            };
            opts.push(vec!["COUNT".into(), n]);
            if self.chance(0.3) {
                opts.push(vec!["ANY".into()]);
            }
        } else if self.chance(0.02) {
            opts.push(vec!["ANY".into()]);
        }
        let with_p = if with { 0.35 } else { 0.02 };
        for w in ["WITHCOORD", "WITHDIST", "WITHHASH"] {
            if self.chance(with_p) {
                opts.push(vec![w.into()]);
            }
        }
        if let Some(s) = store {
            opts.push(s.split(' ').map(str::to_string).collect());
        }
        for i in (1..opts.len()).rev() {
            let j = self.rng.gen_range(0..=i);
            opts.swap(i, j);
        }
        // COUNT's ANY must follow a COUNT to be read as one; elsewhere it is still ANY.
        for o in opts {
            v.extend(o);
        }
    }

    fn shape(&mut self, v: &mut Vec<String>) {
        let unit = self.unit();
        if self.chance(0.5) {
            let r = self.size(&unit);
            v.extend(["BYRADIUS".into(), r, unit]);
        } else {
            let w = self.size(&unit);
            let h = self.size(&unit);
            v.extend(["BYBOX".into(), w, h, unit]);
        }
    }

    fn from(&mut self, v: &mut Vec<String>) {
        if self.chance(0.5) {
            let m = self.member();
            v.extend(["FROMMEMBER".into(), m]);
        } else {
            let (lon, lat) = self.maybe_bad_position();
            v.extend(["FROMLONLAT".into(), lon, lat]);
        }
    }

    fn command(&mut self) -> Vec<Vec<u8>> {
        let mut v: Vec<String> = Vec::new();
        match self.rng.gen_range(0..100) {
            0..=29 => {
                v.extend(["GEOADD".into(), self.key()]);
                if self.chance(0.25) {
                    v.push(
                        self.pick(&["NX", "XX", "CH", "ch", "NX CH", "CH XX", "NX XX"])
                            .into(),
                    );
                }
                for _ in 0..self.rng.gen_range(1..6) {
                    let (lon, lat) = self.maybe_bad_position();
                    let m = self.member();
                    v.extend([lon, lat, m]);
                }
                if self.chance(0.01) {
                    v.pop();
                }
            }
            30..=35 => {
                v.extend([self.pick(&["GEOPOS", "GEOHASH"]).into(), self.key()]);
                for _ in 0..self.rng.gen_range(0..4) {
                    v.push(self.member());
                }
            }
            36..=41 => {
                v.extend(["GEODIST".into(), self.key(), self.member(), self.member()]);
                if self.chance(0.7) {
                    v.push(self.unit());
                }
            }
            42..=59 => {
                v.extend(["GEOSEARCH".into(), self.key()]);
                self.from(&mut v);
                self.shape(&mut v);
                self.options(&mut v, true, None);
            }
            60..=66 => {
                let dst = self.pick(DESTS).to_string();
                v.extend(["GEOSEARCHSTORE".into(), dst, self.key()]);
                self.from(&mut v);
                self.shape(&mut v);
                let storedist = self.chance(0.4).then_some("STOREDIST");
                self.options(&mut v, false, storedist);
            }
            67..=82 => {
                let ro = self.chance(0.3);
                let by_member = self.chance(0.5);
                let name = match (by_member, ro) {
                    (false, false) => "GEORADIUS",
                    (false, true) => "GEORADIUS_RO",
                    (true, false) => "GEORADIUSBYMEMBER",
                    (true, true) => "GEORADIUSBYMEMBER_RO",
                };
                v.extend([name.into(), self.key()]);
                if by_member {
                    v.push(self.member());
                } else {
                    let (lon, lat) = self.maybe_bad_position();
                    v.extend([lon, lat]);
                }
                let unit = self.unit();
                let r = self.size(&unit);
                v.extend([r, unit]);
                let store = if !ro && self.chance(0.4) {
                    let dst = self.pick(DESTS);
                    let word = self.pick(&["STORE", "STOREDIST"]);
                    Some(format!("{word} {dst}"))
                } else {
                    None
                };
                self.options(&mut v, store.is_none(), store.as_deref());
            }
            83..=87 => {
                v.extend(["ZREM".into(), self.key(), self.member(), self.member()]);
            }
            88..=90 => {
                // Scores GEOADD never writes: searches and GEOPOS must decode them as Redis.
                let score = self.pick(&["-1", "0", "1e20", "4503599627370496", "3.5", "inf"]);
                v.extend(["ZADD".into(), self.key(), score.into(), self.member()]);
            }
            91 => v.extend(["DEL".into(), self.pick(KEYS).into()]),
            92 => v.extend(["SET".into(), "str".into(), "x".into()]),
            93..=95 => {
                v.extend(["ZRANGE".into(), self.key(), "0".into(), "-1".into()]);
                v.push("WITHSCORES".into());
            }
            _ => {
                let k = self.pick(KEYS);
                v.extend(["ZCARD".into(), k.into()]);
            }
        }
        // Multi-word options were pushed as one string: split them.
        v.iter()
            .flat_map(|a| {
                if a.contains(' ') {
                    a.split(' ')
                        .map(|w| w.as_bytes().to_vec())
                        .collect::<Vec<_>>()
                } else {
                    vec![a.as_bytes().to_vec()]
                }
            })
            .collect()
    }
}

random_stream_tests!(stream, DEFAULT_SEED, DEFAULT_N);

fn stream(seed: u64, n: usize, events: Option<&str>) {
    eprintln!("geo: seed {seed}, {n} commands (DIFFTEST_SEED / DIFFTEST_N), events {events:?}");
    let mut diff = Pair::start("geo", seed, HISTORY_MAX);
    if let Some(classes) = events {
        diff.watch_events(classes);
    }
    let mut gen = Gen {
        rng: StdRng::seed_from_u64(seed),
        used: Vec::new(),
    };
    // Small listpacks, so sets and stored results cross to the skiplist encoding.
    run(
        &mut diff,
        &[
            words("CONFIG SET zset-max-listpack-entries 16"),
            words("CONFIG SET zset-max-listpack-value 8"),
        ],
        false,
    );
    let mut done = 0;
    let mut next_check = 1000;
    while done < n {
        let resp3 = gen.chance(0.35);
        let size = (n - done).min(BATCH_MAX);
        let cmds: Vec<Vec<Vec<u8>>> = (0..size).map(|_| gen.command()).collect();
        run(&mut diff, &cmds, resp3);
        done += size;
        if done >= next_check {
            check_state(&mut diff);
            next_check += 1000;
        }
    }
    check_state(&mut diff);
    eprintln!("geo: seed {seed}: {done} random commands agreed");
    if std::env::var_os("DIFFTEST_STATS").is_some() {
        eprintln!("{:<22} {:>8} {:>8}", "command", "count", "errors");
        for (name, c) in &diff.history.stats {
            eprintln!("{name:<22} {:>8} {:>8}", c.sent, c.errors);
        }
    }
}

/// Every option and every error of every command, compared exactly in RESP2 and RESP3.
#[test]
fn edge_cases() {
    let lines = [
        "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
        "ZRANGE Sicily 0 -1 WITHSCORES",
        "GEODIST Sicily Palermo Catania",
        "GEODIST Sicily Palermo Catania km",
        "GEODIST Sicily Palermo Catania MI",
        "GEODIST Sicily Palermo Catania ft",
        "GEODIST Sicily Palermo Catania yd",
        "GEODIST Sicily Palermo Catania km extra",
        "GEODIST Sicily Palermo nope",
        "GEODIST nokey a b",
        "GEODIST nokey a b yd",
        "GEOHASH Sicily Palermo Catania nope",
        "GEOHASH nokey a b",
        "GEOHASH Sicily",
        "GEOPOS Sicily Palermo Catania nope",
        "GEOPOS nokey a",
        "GEOPOS Sicily",
        "GEOADD Sicily 13.361389 38.115556",
        "GEOADD Sicily NX XX 1 2 a",
        "GEOADD Sicily CH CH CH",
        "GEOADD Sicily GT 1 2 a",
        "GEOADD Sicily 181 0 a",
        "GEOADD Sicily 0 85.06 a",
        "GEOADD Sicily -180.000001 0 a",
        "GEOADD Sicily 1e400 0 a",
        "GEOADD Sicily abc 0 a",
        "GEOADD Sicily 0 abc a",
        "GEOADD Sicily 0 inf a",
        "GEOADD Sicily 1 1 ok 200 1 bad",
        "EXISTS Sicily:ok",
        "GEOADD Sicily NX 13.361389 38.115556 Palermo 1 1 new1",
        "GEOADD Sicily XX 1 1 Palermo 2 2 new2",
        "GEOADD Sicily CH 13.361389 38.115556 Palermo 1 1 new1",
        "GEOADD Sicily XX CH 13.361389 38.115556 Palermo",
        "GEOADD limits 180 85.05112878 ne -180 -85.05112878 sw 0 0 zero -180 85.05112878 nw",
        "ZRANGE limits 0 -1 WITHSCORES",
        "GEOPOS limits ne sw zero nw",
        "GEOHASH limits ne sw zero nw",
        "GEODIST limits ne sw",
        "GEODIST limits ne nw km",
        "GEOADD meridian 10 10 a 10 20 b",
        "GEODIST meridian a b",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km DESC WITHCOORD WITHDIST WITHHASH",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 300 km WITHDIST",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 100 mi COUNT 2",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 500 km COUNT 2 ANY",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 500 km COUNT 2 ANY DESC",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 500 km COUNT 10",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 0 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS inf km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX inf 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1e400 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37",
        "GEOSEARCH Sicily BYRADIUS 200 km FROMLONLAT 15 37",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 200 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 200 km",
        "GEOSEARCH Sicily FROMLONLAT 1 2 FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCH Sicily FROMMEMBER nope BYRADIUS 200 km",
        "GEOSEARCH nokey FROMMEMBER nope BYRADIUS 200 km",
        "GEOSEARCH nokey FROMMEMBER nope BYRADIUS -1 km",
        "GEOSEARCH nokey FROMLONLAT 200 0 BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS -1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS x km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX x 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 x km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 kk",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 kk",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 0",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT -1",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT x",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ANY",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km foo",
        "geosearch Sicily fromlonlat 15 37 byradius 200 KM",
        "geosearch Sicily BYRADIUS 200 km",
        "GeoSearch Sicily FROMLONLAT 15 37 COUNT 1",
        "GEOSEARCH str FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST ASC COUNT 3",
        "ZRANGE dst 0 -1 WITHSCORES",
        "OBJECT ENCODING dst",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE dst",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 0 0 BYRADIUS 1 km",
        "EXISTS dst",
        "GEOSEARCHSTORE dst nokey FROMLONLAT 0 0 BYRADIUS 1 km",
        "GEOSEARCHSTORE str Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
        "TYPE str",
        "SET str x",
        "GEORADIUS Sicily 15 37 200 km",
        "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH COUNT 1 DESC",
        "GEORADIUS Sicily 15 37 200 km COUNT 1 ANY",
        "GEORADIUS Sicily 15 37 200 km STORE d2",
        "ZRANGE d2 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STOREDIST d2",
        "ZRANGE d2 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STORE d2 STOREDIST d3",
        "ZRANGE d3 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STORE d2 WITHDIST",
        "GEORADIUS Sicily 15 37 200 km STORE",
        "GEORADIUS Sicily 15 37 200 km FROMLONLAT 1 1",
        "GEORADIUS Sicily 15 37 200",
        "GEORADIUS Sicily 200 37 200 km",
        "GEORADIUS Sicily 15 37 -200 km",
        "GEORADIUS Sicily 15 37 200 kk",
        "GEORADIUS nokey 15 37 200 km",
        "GEORADIUS nokey 15 37 x km",
        "GEORADIUS nokey 15 37 200 km STORE d2",
        "EXISTS d2",
        "GEORADIUS_RO Sicily 15 37 200 km WITHDIST ASC",
        "GEORADIUS_RO Sicily 15 37 200 km STORE d2",
        "GEORADIUS_RO Sicily 15 37 200 km STOREDIST d2",
        "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST",
        "GEORADIUSBYMEMBER Sicily Palermo 200 km STORE d4",
        "ZRANGE d4 0 -1 WITHSCORES",
        "GEORADIUSBYMEMBER Sicily nope 200 km",
        "GEORADIUSBYMEMBER Sicily nope x km",
        "GEORADIUSBYMEMBER Sicily Palermo x km",
        "GEORADIUSBYMEMBER nokey nope x km",
        "GEORADIUSBYMEMBER nokey nope x km STORE d4",
        "EXISTS d4",
        "GEORADIUSBYMEMBER nokey nope x km STORE d4 WITHDIST",
        "GEORADIUSBYMEMBER nokey nope x km foo",
        "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km WITHCOORD",
        "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km STORE d4",
        "GEORADIUSBYMEMBER str a 1 km",
        "ZADD weird -1 neg 1e20 big 3.5 frac inf inf",
        "GEOPOS weird neg big frac inf",
        "GEOHASH weird neg big frac inf",
        "GEODIST weird neg big",
        "GEOSEARCH weird FROMLONLAT 0 0 BYRADIUS 20000 km WITHHASH WITHCOORD",
        "GEOSEARCH weird FROMMEMBER neg BYRADIUS 1 m WITHHASH WITHCOORD",
        "GEOADD dup 1 1 a 1 1 b 1 1 c 1 1 d 1 1 e 1 1 f 1 1 g 1 1 h 2 2 i 1 1 j",
        "GEOSEARCH dup FROMLONLAT 1.5 1.5 BYRADIUS 1000 km ASC",
        "GEOSEARCH dup FROMLONLAT 1.5 1.5 BYRADIUS 1000 km DESC",
        "GEOSEARCH dup FROMLONLAT 1.5 1.5 BYRADIUS 1000 km COUNT 3",
        "GEOSEARCH dup FROMLONLAT 1.5 1.5 BYRADIUS 1000 km COUNT 7 DESC",
        "GEOSEARCH dup FROMLONLAT 1.5 1.5 BYRADIUS 1000 km COUNT 9",
        "GEOSEARCH dup FROMLONLAT 1.5 1.5 BYRADIUS 1000 km",
        "GEOPOS str a",
        "GEOHASH str a",
        "GEODIST str a b",
        "GEOADD str 1 1 a",
    ];
    let cmds: Vec<Vec<Vec<u8>>> = lines.iter().map(|l| words(l)).collect();
    for resp3 in [false, true] {
        let mut diff = Pair::start("geo edge cases", 1, HISTORY_MAX);
        diff.watch_events("AKEmn");
        run(&mut diff, &[words("SET str x")], false);
        run(&mut diff, &cmds, resp3);
        check_state(&mut diff);
    }
}

/// Many members at a few positions in a skiplist-encoded set: COUNT cuts the sorted list
/// (Redis's partial quicksort) and members at equal distances must come out in Redis's
/// order, for every COUNT.
#[test]
fn partial_sort_order_of_equal_distances() {
    let mut diff = Pair::start("geo partial sort", 2, HISTORY_MAX);
    let mut add = vec!["GEOADD".to_string(), "many".to_string()];
    for i in 0..300 {
        let spot = i % 7;
        add.push(format!("{}", 10.0 + f64::from(spot) * 0.01));
        add.push(format!("{}", 20.0 + f64::from(spot % 3) * 0.01));
        add.push(format!("p{i}"));
    }
    let add: Vec<Vec<u8>> = add.into_iter().map(String::into_bytes).collect();
    run(&mut diff, &[add], false);
    let mut cmds = Vec::new();
    for count in [1, 2, 5, 7, 8, 40, 41, 100, 299, 300, 301] {
        for order in ["ASC", "DESC"] {
            cmds.push(words(&format!(
                "GEOSEARCH many FROMLONLAT 10.02 20.01 BYRADIUS 100 km {order} COUNT {count} WITHDIST"
            )));
            cmds.push(words(&format!(
                "GEORADIUS many 10.02 20.01 100 km COUNT {count} {order} STORE st{count}{order}"
            )));
        }
    }
    cmds.push(words(
        "GEOSEARCH many FROMLONLAT 10.02 20.01 BYRADIUS 100 km",
    ));
    cmds.push(words(
        "GEOSEARCH many FROMLONLAT 10.02 20.01 BYRADIUS 100 km ASC",
    ));
    cmds.push(words(
        "GEOSEARCH many FROMLONLAT 10.02 20.01 BYRADIUS 100 km DESC",
    ));
    run(&mut diff, &cmds, false);
    run(&mut diff, &cmds, true);
}

/// The keys COMMAND GETKEYS finds for the GEORADIUS family, including the lines whose key
/// specs fail and Redis falls back to its own key finder.
#[test]
fn getkeys_match_redis() {
    let mut diff = Pair::start("geo getkeys", 3, HISTORY_MAX);
    let lines = [
        "COMMAND GETKEYS GEORADIUS k 1 2 3 km",
        "COMMAND GETKEYS GEORADIUS k 1 2 3 km STORE d",
        "COMMAND GETKEYS GEORADIUS k 1 2 3 km STOREDIST d",
        "COMMAND GETKEYS GEORADIUS k 1 2 3 km STORE d STOREDIST e",
        "COMMAND GETKEYS GEORADIUS k 1 2 3 km STORE",
        "COMMAND GETKEYS GEORADIUS k 1 2 3 STORE d",
        "COMMAND GETKEYSANDFLAGS GEORADIUS k 1 2 3 km STORE d",
        "COMMAND GETKEYSANDFLAGS GEORADIUS k 1 2 3 km STORE d STORE",
        "COMMAND GETKEYS GEORADIUSBYMEMBER k m 3 km STORE d",
        "COMMAND GETKEYSANDFLAGS GEORADIUSBYMEMBER k m 3 km STOREDIST",
        "COMMAND GETKEYS GEOSEARCHSTORE d s FROMLONLAT 1 2 BYRADIUS 1 m",
        "COMMAND GETKEYSANDFLAGS GEOSEARCHSTORE d s FROMLONLAT 1 2 BYRADIUS 1 m",
        "COMMAND GETKEYS GEOADD k 1 2 m",
        "COMMAND GETKEYS GEORADIUS_RO k 1 2 3 km STORE d",
        "COMMAND INFO georadiusbymember_ro GEORADIUS geosearchstore",
    ];
    let cmds: Vec<Vec<Vec<u8>>> = lines.iter().map(|l| words(l)).collect();
    run(&mut diff, &cmds, false);
    run(&mut diff, &cmds, true);
}

// ---------------------------------------------------------------------------------------------
// Persistence

/// Geo sets small (listpack) and large (skiplist), plus stored search results.
fn geo_workload() -> Vec<Vec<Vec<u8>>> {
    let mut rng = StdRng::seed_from_u64(17);
    let mut cmds = vec![words(
        "GEOADD small 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    )];
    let mut big = vec!["GEOADD".to_string(), "big".to_string()];
    for i in 0..400 {
        big.push(format!("{}", rng.gen_range(-180.0..=180.0)));
        big.push(format!("{}", rng.gen_range(-85.05112878..=85.05112878)));
        big.push(format!("member:{i}"));
    }
    cmds.push(big.into_iter().map(String::into_bytes).collect());
    cmds.push(words("GEOADD big CH 180 85.05112878 corner"));
    cmds.push(words(
        "GEOSEARCHSTORE near big FROMLONLAT 0 0 BYRADIUS 5000 km STOREDIST",
    ));
    cmds.push(words("GEORADIUS big 100 10 4000 km STORE around"));
    cmds
}

/// What a test compares after a restart: every key's contents and every position.
fn geo_state(port: u16) -> Vec<Reply> {
    let mut c = common::Raw::connect(port);
    let mut out = Vec::new();
    for k in ["small", "big", "near", "around"] {
        out.push(c.cmd_str(&["OBJECT", "ENCODING", k]));
        out.push(c.cmd_str(&["ZRANGE", k, "0", "-1", "WITHSCORES"]));
    }
    let mut pos: Vec<String> = vec!["GEOPOS".into(), "big".into()];
    pos.extend((0..400).map(|i| format!("member:{i}")));
    let refs: Vec<&str> = pos.iter().map(String::as_str).collect();
    out.push(c.cmd_str(&refs));
    out.push(c.cmd_str(&[
        "GEOSEARCH",
        "big",
        "FROMMEMBER",
        "member:7",
        "BYBOX",
        "9000",
        "3000",
        "km",
        "ASC",
        "WITHDIST",
    ]));
    out
}

fn run_ok(port: u16, cmds: &[Vec<Vec<u8>>]) {
    let mut c = common::Raw::connect(port);
    for cmd in cmds {
        let r = c.cmd_args(cmd);
        assert!(!r.is_error(), "{} -> {r:?}", common::show_cmd(cmd));
    }
}

/// A geo set ringkv saved loads in redis-server with the same contents, and one Redis saved
/// loads in ringkv.
#[test]
fn rdb_round_trip_with_redis() {
    let work = geo_workload();
    // ringkv writes, redis-server reads.
    let dir = TempDir::new("rdb-ours");
    let ours = Server::start_bin(&common::ringkv_bin(), &["--dir", dir.s()]);
    run_ok(ours.port, &work);
    let expected = geo_state(ours.port);
    assert_eq!(
        common::Raw::connect(ours.port).cmd_str(&["SAVE"]),
        Reply::ok()
    );
    drop(ours);
    let redis = Server::start_redis(&["--dir", dir.s()]);
    assert_eq!(
        geo_state(redis.port),
        expected,
        "redis-server loading ringkv's dump"
    );
    drop(redis);
    // redis-server writes, ringkv reads.
    let dir2 = TempDir::new("rdb-redis");
    let redis = Server::start_redis(&["--dir", dir2.s()]);
    run_ok(redis.port, &work);
    let expected_redis = geo_state(redis.port);
    assert_eq!(expected_redis, expected, "the same commands, the same data");
    assert_eq!(
        common::Raw::connect(redis.port).cmd_str(&["SAVE"]),
        Reply::ok()
    );
    drop(redis);
    let ours = Server::start_bin(&common::ringkv_bin(), &["--dir", dir2.s()]);
    assert_eq!(
        geo_state(ours.port),
        expected,
        "ringkv loading Redis's dump"
    );
}

/// The AOF ringkv writes for geo commands loads in redis-server (and ringkv) with the same
/// data.
#[test]
fn aof_written_by_ringkv_loads_in_redis() {
    let work = geo_workload();
    let dir = TempDir::new("aof");
    let ours = Server::start_bin(
        &common::ringkv_bin(),
        &["--dir", dir.s(), "--appendonly", "yes"],
    );
    run_ok(ours.port, &work);
    let expected = geo_state(ours.port);
    drop(ours);
    let redis = Server::start_redis(&["--dir", dir.s(), "--appendonly", "yes"]);
    assert_eq!(
        geo_state(redis.port),
        expected,
        "redis-server loading ringkv's AOF"
    );
    drop(redis);
    let ours = Server::start_bin(
        &common::ringkv_bin(),
        &["--dir", dir.s(), "--appendonly", "yes"],
    );
    assert_eq!(geo_state(ours.port), expected, "ringkv reloading its AOF");
}

/// GEOADD reaches the AOF as the ZADD Redis propagates (only when it changed something); the
/// searches that store are written as given, those that change nothing not at all.
#[test]
fn propagation_matches_redis() {
    let script = [
        "GEOADD g ch NX 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEOADD g 13.361389 38.115556 Palermo",
        "GEOADD g XX 1 1 nope",
        "GEOADD g xx ch 1 1 Palermo",
        "GEOADD g 1 1 bad 200 0 worse",
        "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST COUNT 1 ANY",
        "GEORADIUS g 15 37 200 km STORE d2",
        "GEORADIUSBYMEMBER g Catania 10 km STOREDIST d2",
        "GEORADIUS nokey 15 37 200 km STORE d2",
        "GEORADIUS nokey 15 37 200 km STORE d2",
        "GEOSEARCHSTORE d g FROMLONLAT 0 0 BYRADIUS 1 m",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km",
        "SET last 1",
    ];
    let run_script = |port: u16| {
        let mut c = common::Raw::connect(port);
        for line in script {
            c.cmd_args(&words(line));
        }
    };
    let ours_dir = TempDir::new("prop-ours");
    let ours = Server::start_bin(
        &common::ringkv_bin(),
        &["--dir", ours_dir.s(), "--appendonly", "yes"],
    );
    run_script(ours.port);
    drop(ours);
    let redis_dir = TempDir::new("prop-redis");
    // appendfsync always: with everysec, redis-server postpones its AOF write while an
    // earlier fsync is still running (up to 2 s) and can reply first, so on a loaded
    // machine the file could miss the last commands when the server is stopped.
    let redis = Server::start_redis(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--aof-use-rdb-preamble",
        "no",
        "--dir",
        redis_dir.s(),
    ]);
    run_script(redis.port);
    // Both servers write the AOF before they reply: what was answered is in the files.
    drop(redis);
    let (a, b) = (
        incr_commands(&ours_dir.0, lossy),
        incr_commands(&redis_dir.0, lossy),
    );
    assert_eq!(a, b, "ringkv's AOF vs redis-server's");
}
