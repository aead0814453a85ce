//! `math.random` and `math.randomseed` of scripts: Redis's `redisLrand48` / `redisSrand48`
//! (src/rand.c), the 48-bit linear congruential generator of POSIX `lrand48`, so that a
//! script draws the same numbers on ringkv as on redis-server.
//!
//! Redis 7.0 keeps one generator for the whole process: it is not reseeded before each
//! script (Redis 6 did that) nor by SCRIPT FLUSH, so a script sees the sequence continue
//! where the previous one left it, and `math.randomseed(n)` moves every later script too.
//! The generator starts from POSIX's default state, as Redis's does.

/// The multiplier and increment of lrand48: X(n+1) = (A * X(n) + C) mod 2^48.
const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
const MASK_48: u64 = (1 << 48) - 1;
/// Redis's X2, X1, X0: the state before any seed.
const INITIAL: u64 = 0x1234_ABCD_330E;
/// Redis's REDIS_LRAND48_MAX (INT32_MAX): `math.random()` is `(lrand48() % MAX) / MAX`.
const LRAND48_MAX: i32 = i32::MAX;

#[derive(Clone, Copy, Debug)]
pub struct Rand48 {
    state: u64,
}

impl Default for Rand48 {
    fn default() -> Self {
        Rand48 { state: INITIAL }
    }
}

impl Rand48 {
    /// `redisSrand48(seed)`: the seed's 32 bits above the fixed low 16 (0x330E).
    pub fn seed(&mut self, seed: i32) {
        let s = u64::from(seed as u32);
        self.state = (s << 16) | 0x330E;
    }

    /// `redisLrand48()`: the next 31-bit value.
    pub fn next_i31(&mut self) -> i32 {
        self.state = (A.wrapping_mul(self.state).wrapping_add(C)) & MASK_48;
        (self.state >> 17) as i32
    }

    /// The value `math.random` starts from: `(lrand48() % MAX) / MAX`, in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        f64::from(self.next_i31() % LRAND48_MAX) / f64::from(LRAND48_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The figures are what redis-server 7.0.15 answers to
    /// `EVAL "return tostring(math.random())" 0` on a fresh server, and after
    /// `math.randomseed(0)` and `math.randomseed(42)` (Lua prints 14 significant digits).
    #[test]
    fn same_sequence_as_redis() {
        let lua14 = |v: f64| format!("{v:.14}");
        let mut r = Rand48::default();
        assert_eq!(lua14(r.next_unit()), "0.39646477363839");
        assert_eq!(lua14(r.next_unit()), "0.84048536971234");
        r.seed(0);
        assert_eq!(lua14(r.next_unit()), "0.17082803611217");
        r.seed(42);
        assert_eq!(lua14(r.next_unit()), "0.74452500033403");
        assert_eq!(lua14(r.next_unit()), "0.34270147855519");
    }
}
