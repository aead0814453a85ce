//! Statistics the tests use to check that random picks are uniform (the dict's fair pick,
//! SRANDMEMBER and friends): Pearson's chi-square and the value a uniform sampler exceeds
//! only with probability ~1e-9. Kept in the library so unit and integration tests share one
//! definition.

/// Pearson's chi-square statistic of `counts` against equal expected counts.
pub fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// The chi-square value a uniform sampler exceeds with probability ~1e-9 (z = 6 in the
/// Wilson-Hilferty approximation), for `df` degrees of freedom. Picks without repetition
/// vary less than independent ones, so the limit holds for them too.
pub fn chi_square_limit(df: usize) -> f64 {
    let df = df as f64;
    let a = 2.0 / (9.0 * df);
    df * (1.0 - a + 6.0 * a.sqrt()).powi(3)
}
