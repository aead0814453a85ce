//! The look-aside cache stream shared by examples/cache_load.rs (which sends it to a server)
//! and examples/cache_sim.rs (which replays it against simulated eviction policies): key
//! ranks drawn from Zipf(s) over `keys` ranks (rank r has weight 1 / (r + 1)^s) by inverting
//! a precomputed CDF with a binary search, random numbers from splitmix64 seeded with
//! `seed`, and each rank mapped to the id (rank * MULT + OFFSET) mod keys, a permutation, so
//! hot keys are spread over the id range.

/// The stream's options, flattened into each example's own.
#[derive(clap::Args)]
pub struct StreamArgs {
    /// Requests in the stream.
    #[arg(long, default_value_t = 3_000_000)]
    pub requests: usize,
    /// Distinct keys the ranks map to.
    #[arg(long, default_value_t = 1_000_000)]
    pub keys: u64,
    /// The Zipf exponent s.
    #[arg(long, default_value_t = 0.99)]
    pub zipf: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl StreamArgs {
    /// The options' own checks: 1 to 2^32 - 1 keys, at least one request, s above 0.
    pub fn check(&self) -> Result<(), String> {
        if self.keys == 0 || self.keys > u64::from(u32::MAX) {
            return Err("--keys must be in 1..=2^32-1".into());
        }
        if self.requests == 0 || self.zipf.is_nan() || self.zipf <= 0.0 {
            return Err("--requests must be at least 1 and --zipf above 0".into());
        }
        Ok(())
    }

    /// The key ids of the stream, in order.
    pub fn ids(&self) -> Vec<u32> {
        key_stream(self.keys, self.requests, self.zipf, self.seed)
    }
}

/// Multiplier of the rank → id permutation (Knuth's 2^32 / phi, a prime). If it shares a factor
/// with the number of keys, the next number that does not is used.
const MULT: u64 = 2_654_435_761;
const OFFSET: u64 = 104_729;

pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform double in [0, 1) from 53 random bits.
pub fn unit(state: &mut u64) -> f64 {
    (splitmix64(state) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The key ids of the whole stream of `requests`, in order (`keys` ≥ 1).
pub fn key_stream(keys: u64, requests: usize, s: f64, seed: u64) -> Vec<u32> {
    let n = keys as usize;
    let mut cdf = Vec::with_capacity(n);
    let mut sum = 0.0f64;
    for rank in 0..n {
        sum += 1.0 / ((rank + 1) as f64).powf(s);
        cdf.push(sum);
    }
    for c in &mut cdf {
        *c /= sum;
    }
    let mut mult = MULT % keys;
    while gcd(mult.max(1), keys) != 1 {
        mult += 1;
    }
    let mult = mult.max(1);
    let mut rng = seed;
    let mut ids = Vec::with_capacity(requests);
    for _ in 0..requests {
        let u = unit(&mut rng);
        // The first rank whose cumulative weight exceeds u (the last, should rounding leave
        // cdf[n - 1] a hair below u).
        let rank = cdf.partition_point(|&c| c <= u).min(n - 1) as u64;
        ids.push(((rank * mult + OFFSET) % keys) as u32);
    }
    ids
}
