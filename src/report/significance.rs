//! Whether two sets of replications differ by more than noise: Student's t distribution for
//! any (fractional) degrees of freedom, Welch's two-sample t-test and the paired t-test.
//!
//! Use `welch` for two independent sets of replications (different seeds, or different
//! numbers of runs), and `paired` when replication `i` of both sides ran with the same seed
//! (capsim's common random numbers: the same arrivals, so the differences pair up and the
//! seed-to-seed noise cancels). `t_quantile` and `two_sided_p` are exact to about 1e-9
//! (regularized incomplete beta function by continued fraction), so Welch–Satterthwaite's
//! fractional degrees of freedom need no table. Everything here is a pure function of numbers.

/// The outcome of a t-test: the statistic, its degrees of freedom and two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// The t statistic (`b - a` over its standard error; positive when `b` is larger).
    pub t: f64,
    /// Degrees of freedom (fractional for Welch's test).
    pub df: f64,
    /// Two-sided p-value: the chance of a |t| at least this large when both sides have the
    /// same mean.
    pub p: f64,
}

impl TTest {
    /// Whether the difference is significant at level `alpha` (0.05 for 95%).
    pub fn significant(&self, alpha: f64) -> bool {
        self.p < alpha
    }
}

/// Welch's t-test of `b` against `a` (unequal variances, Welch–Satterthwaite degrees of
/// freedom); `None` with fewer than two values on either side. Two sides with no spread at
/// all are significantly different exactly when their means differ (`t` infinite, `p` 0).
pub fn welch(a: &[f64], b: &[f64]) -> Option<TTest> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ma, va) = mean_var(a);
    let (mb, vb) = mean_var(b);
    let (sa, sb) = (va / a.len() as f64, vb / b.len() as f64);
    let se2 = sa + sb;
    let df = if se2 > 0.0 {
        se2 * se2
            / (sa * sa / (a.len() - 1) as f64 + sb * sb / (b.len() - 1) as f64)
                .max(f64::MIN_POSITIVE)
    } else {
        (a.len() + b.len() - 2) as f64
    };
    Some(test(mb - ma, se2.sqrt(), df))
}

/// The paired t-test of `b[i] - a[i]`; `None` unless both sides have the same length of at
/// least two. With differences all equal, significant exactly when they are not zero.
pub fn paired(a: &[f64], b: &[f64]) -> Option<TTest> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let (md, vd) = mean_var(&d);
    let n = d.len() as f64;
    Some(test(md, (vd / n).sqrt(), n - 1.0))
}

/// The test of a mean difference `diff` with standard error `se`.
fn test(diff: f64, se: f64, df: f64) -> TTest {
    let t = if se > 0.0 {
        diff / se
    } else if diff == 0.0 {
        0.0
    } else {
        diff.signum() * f64::INFINITY
    };
    TTest {
        t,
        df,
        p: two_sided_p(t, df),
    }
}

/// Mean and sample variance (n - 1 in the denominator).
fn mean_var(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// The two-sided p-value of `t` under Student's t with `df` degrees of freedom:
/// `P(|T| >= |t|) = I_{df/(df+t²)}(df/2, 1/2)`.
pub fn two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    let x = df / (df + t * t);
    regularized_beta(x, df / 2.0, 0.5)
}

/// The quantile `q` (0.5 < q < 1) of Student's t with `df` (> 0, fractional allowed) degrees of
/// freedom: `t_quantile(0.975, 10.0)` is 2.2281, the two-sided 95% critical value.
pub fn t_quantile(q: f64, df: f64) -> f64 {
    if !(0.5..1.0).contains(&q) || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    let alpha = 2.0 * (1.0 - q);
    // The two-sided p falls as t grows: find where it crosses alpha.
    let (mut low, mut high) = (0.0_f64, 1.0_f64);
    while two_sided_p(high, df) > alpha {
        high *= 2.0;
        if high > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if two_sided_p(mid, df) > alpha {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-12 * high {
            break;
        }
    }
    0.5 * (low + high)
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error below 1e-13).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        sum += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularized incomplete beta function `I_x(a, b)`.
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The continued fraction converges fast for x below (a + 1) / (a + b + 2); use the
    // symmetry I_x(a, b) = 1 - I_{1-x}(b, a) above it.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        for coefficient in [
            even,
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ] {
            d = 1.0 + coefficient * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::metrics::t95;

    fn close(actual: f64, expected: f64, within: f64) {
        assert!(
            (actual - expected).abs() <= within,
            "{actual} is not {expected} within {within}"
        );
    }

    #[test]
    fn quantiles_match_the_table_at_whole_degrees_of_freedom() {
        for df in 1..=30 {
            close(t_quantile(0.975, df as f64), t95(df), 0.0006);
        }
        // Standard tables: t(0.95, 5) = 2.015, t(0.995, 12) = 3.055, t(0.975, 120) = 1.980.
        close(t_quantile(0.95, 5.0), 2.015, 0.0005);
        close(t_quantile(0.995, 12.0), 3.055, 0.0005);
        close(t_quantile(0.975, 120.0), 1.980, 0.0005);
        close(t_quantile(0.975, 1e7), 1.959_964, 1e-5);
    }

    #[test]
    fn quantiles_at_fractional_degrees_of_freedom() {
        // t(0.975, 2.5) and t(0.975, 7.3), found by integrating the density numerically
        // (Simpson's rule, 20,000 intervals, and bisection): 3.57465 and 2.34507.
        close(t_quantile(0.975, 2.5), 3.57465, 0.0001);
        close(t_quantile(0.975, 7.3), 2.34507, 0.0001);
        // Between its whole neighbours, as the table would interpolate.
        let q = t_quantile(0.975, 4.5);
        assert!(q < t95(4) && q > t95(5), "{q}");
        // The two-sided p of a quantile is its tail mass.
        close(two_sided_p(t_quantile(0.975, 3.7), 3.7), 0.05, 1e-9);
        // df = 1 is Cauchy: P(|T| >= 1) = 1/2.
        close(two_sided_p(1.0, 1.0), 0.5, 1e-12);
    }

    #[test]
    fn welch_matches_the_textbook_example() {
        // Welch's t-test, first example of its Wikipedia article (two samples of 15):
        // t = 2.46 (b above a), ν = 25.0, p = 0.021.
        let a = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let b = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let w = welch(&a, &b).unwrap_or_else(|| panic!("two samples of 15"));
        close(w.t, 2.46, 0.005);
        close(w.df, 25.0, 0.05);
        close(w.p, 0.021, 0.0005);
        assert!(w.significant(0.05));
        // Two small samples far apart and of unequal spread: the df is fractional.
        // a = {1, 2, 3}: mean 2, var 1; b = {10, 14}: mean 12, var 8.
        // se² = 1/3 + 8/2 = 4.3333; t = 10 / 2.0817 = 4.8038;
        // ν = 4.3333² / ((1/3)²/2 + 4²/1) = 18.778 / 16.0556 = 1.1696.
        let w = welch(&[1.0, 2.0, 3.0], &[10.0, 14.0]).unwrap_or_else(|| panic!("2 and 3"));
        close(w.t, 4.8038, 1e-4);
        close(w.df, 1.1696, 1e-4);
        assert!(!w.significant(0.05), "p = {}", w.p);
        assert_eq!(welch(&[1.0], &[2.0, 3.0]), None);
    }

    #[test]
    fn paired_differences_cancel_the_common_noise() {
        // Noisy sides that move together: Welch sees noise, the paired test sees the shift.
        let a = [10.0, 20.0, 30.0, 40.0];
        let b = [11.0, 21.2, 30.9, 41.1];
        assert!(!welch(&a, &b).is_some_and(|w| w.significant(0.05)));
        // d = {1, 1.2, 0.9, 1.1}: mean 1.05, sd 0.1291, se 0.06455, t = 16.27 on 3 df.
        let p = paired(&a, &b).unwrap_or_else(|| panic!("four pairs"));
        close(p.t, 16.266, 1e-3);
        assert_eq!(p.df, 3.0);
        assert!(p.significant(0.05));
        assert_eq!(paired(&a, &b[..3]), None);
    }

    #[test]
    fn identical_sides_are_not_significant_and_constant_shifts_are() {
        let a = [5.0, 5.0, 5.0];
        for test in [welch(&a, &a), paired(&a, &a)] {
            let test = test.unwrap_or_else(|| panic!("three values"));
            assert_eq!((test.t, test.p), (0.0, 1.0));
            assert!(!test.significant(0.05));
        }
        let shifted = [6.0, 6.0, 6.0];
        let w = welch(&a, &shifted).unwrap_or_else(|| panic!("three values"));
        assert!(w.t.is_infinite() && w.significant(0.05));
    }
}
