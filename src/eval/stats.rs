//! Significance between two runs' per-query values: the paired t-test (Student's t from `statrs`), a
//! seeded paired randomization test, a bootstrap 95% confidence interval of the mean difference, Holm's
//! correction for several comparisons, and win/tie/loss counts. Plain functions of slices; no I/O.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Differences smaller than this are ties.
const TIE: f64 = 1e-9;

/// One comparison of paired values (`after[i] - before[i]` per query).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Paired {
    pub queries: usize,
    pub mean_before: f64,
    pub mean_after: f64,
    pub mean_difference: f64,
    /// Bootstrap 95% interval of the mean difference (percentile method).
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided paired t-test.
    pub t: f64,
    pub p_t: f64,
    /// Two-sided paired randomization (sign-flip) test.
    pub p_randomization: f64,
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Two-sided paired t-test of the differences: (t, p). Differences that are all equal give p = 1 when they
/// are 0 and p = 0 otherwise.
pub fn paired_t(differences: &[f64]) -> (f64, f64) {
    let n = differences.len();
    if n < 2 {
        return (0.0, 1.0);
    }
    let m = mean(differences);
    let variance = differences.iter().map(|d| (d - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (variance / n as f64).sqrt();
    if se == 0.0 {
        return if m.abs() < TIE { (0.0, 1.0) } else { (f64::INFINITY.copysign(m), 0.0) };
    }
    let t = m / se;
    let p = match StudentsT::new(0.0, 1.0, (n - 1) as f64) {
        Ok(dist) => 2.0 * (1.0 - dist.cdf(t.abs())),
        Err(_) => 1.0,
    };
    (t, p.clamp(0.0, 1.0))
}

/// Two-sided paired randomization test: how often flipping the signs of the differences at random gives a
/// mean at least as far from 0 as the observed one, with `(count + 1) / (resamples + 1)`.
pub fn randomization(differences: &[f64], resamples: usize, seed: u64) -> f64 {
    if differences.is_empty() {
        return 1.0;
    }
    let observed = mean(differences).abs();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut extreme = 0usize;
    for _ in 0..resamples {
        let sum: f64 = differences.iter().map(|d| if rng.gen_bool(0.5) { *d } else { -*d }).sum();
        if (sum / differences.len() as f64).abs() >= observed - TIE {
            extreme += 1;
        }
    }
    (extreme + 1) as f64 / (resamples + 1) as f64
}

/// Bootstrap percentile interval (2.5%, 97.5%) of the mean of `differences`.
pub fn bootstrap_ci(differences: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
    let n = differences.len();
    if n == 0 || resamples == 0 {
        return (0.0, 0.0);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| differences[rng.gen_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    (at(0.025), at(0.975))
}

/// Holm's step-down adjustment of p-values (same order in and out).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Compares paired per-query values.
pub fn compare(before: &[f64], after: &[f64], resamples: usize, seed: u64) -> Paired {
    let differences: Vec<f64> = before.iter().zip(after).map(|(b, a)| a - b).collect();
    let (t, p_t) = paired_t(&differences);
    let (ci_low, ci_high) = bootstrap_ci(&differences, resamples, seed);
    Paired {
        queries: differences.len(),
        mean_before: mean(before),
        mean_after: mean(after),
        mean_difference: mean(&differences),
        ci_low,
        ci_high,
        t,
        p_t,
        p_randomization: randomization(&differences, resamples, seed),
        wins: differences.iter().filter(|d| **d > TIE).count(),
        ties: differences.iter().filter(|d| d.abs() <= TIE).count(),
        losses: differences.iter().filter(|d| **d < -TIE).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_test_matches_the_tables() {
        // Differences 1..5: mean 3, sd 1.5811, t = 4.2426 with 4 degrees of freedom, p = 0.0132.
        let (t, p) = paired_t(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((t - 4.2426).abs() < 1e-4, "{t}");
        assert!((p - 0.0132).abs() < 1e-4, "{p}");
        assert_eq!(paired_t(&[0.0, 0.0, 0.0]), (0.0, 1.0));
        assert_eq!(paired_t(&[0.5, 0.5]).1, 0.0);
    }

    #[test]
    fn randomization_is_seeded_and_sensible() {
        let strong = [0.3, 0.2, 0.4, 0.25, 0.35, 0.3, 0.2, 0.3, 0.25, 0.4, 0.3, 0.2];
        let p = randomization(&strong, 5000, 7);
        assert_eq!(p, randomization(&strong, 5000, 7), "same seed, same p");
        // All 12 signs positive: only the all-positive and all-negative flips are as extreme: 2/4096.
        assert!(p < 0.002, "{p}");
        let noise = [0.1, -0.1, 0.2, -0.2, 0.05, -0.05];
        assert!(randomization(&noise, 5000, 7) > 0.9);
    }

    #[test]
    fn bootstrap_interval_holds_the_mean() {
        let d: Vec<f64> = (0..50).map(|i| f64::from(i % 7) / 10.0 - 0.2).collect();
        let (lo, hi) = bootstrap_ci(&d, 2000, 3);
        let m = mean(&d);
        assert!(lo < m && m < hi && hi - lo < 0.3, "{lo} {m} {hi}");
        let (lo, hi) = bootstrap_ci(&[0.4; 10], 100, 1);
        assert!((lo - 0.4).abs() < 1e-12 && (hi - 0.4).abs() < 1e-12, "{lo} {hi}");
    }

    #[test]
    fn holm_steps_down() {
        let adjusted = holm(&[0.01, 0.04, 0.03]);
        let want = [0.03, 0.06, 0.06];
        for (a, w) in adjusted.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0], "capped at 1");
        assert_eq!(holm(&[0.02]), vec![0.02], "one comparison is not adjusted");
    }

    #[test]
    fn wins_ties_losses() {
        let c = compare(&[0.5, 0.5, 0.5], &[0.6, 0.5, 0.1], 100, 1);
        assert_eq!((c.wins, c.ties, c.losses), (1, 1, 1));
        assert!((c.mean_difference - (0.1 - 0.4) / 3.0).abs() < 1e-12);
    }
}
