//! Queueing theory as the judge: one pod with `c` workers, Poisson arrivals and exponential
//! service is an M/M/c queue, whose mean wait and wait tail Erlang's C formula gives exactly.
//!
//! Each check runs 20 independent replications (seeds 1..=20, 10 minutes of warm-up each) and
//! requires the theoretical value to fall in the 95% confidence interval of the replication
//! means (Student t). The seeds are fixed, so each check is deterministic: a failure after a
//! model change means the mean moved by more than its sampling noise.

use capsim::report::metrics::mean_ci95;

use crate::util::{scenario, simulate};

/// Erlang C: the probability that an arrival waits, for `c` servers at offered load `a = λ/μ`.
fn erlang_c(c: u32, a: f64) -> f64 {
    // Erlang B by its stable recursion, then C from B.
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho + rho * b)
}

/// Mean wait in ms of an M/M/c queue.
pub(crate) fn mean_wait_ms(c: u32, lambda: f64, mean_service_ms: f64) -> f64 {
    let mu = 1_000.0 / mean_service_ms;
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) * 1_000.0
}

/// The wait exceeded by a fraction `p` of arrivals, in ms: P(W > t) = C·e^-(cμ-λ)t.
fn wait_quantile_ms(c: u32, lambda: f64, mean_service_ms: f64, p: f64) -> f64 {
    let mu = 1_000.0 / mean_service_ms;
    let waiting = erlang_c(c, lambda / mu);
    if waiting <= p {
        return 0.0;
    }
    (waiting / p).ln() / (f64::from(c) * mu - lambda) * 1_000.0
}

/// Mean and 95% half-width of `xs`.
pub(crate) fn confidence_interval(xs: &[f64]) -> (f64, f64) {
    let (mean, _, high) = mean_ci95(xs);
    (mean, high - mean)
}

fn mmc_yaml(seed: u64, c: u32, lambda: f64, mean_ms: f64, duration: &str) -> String {
    format!(
        r#"
name: mmc
seed: {seed}
duration: {duration}
warmup: 10m
node_pools:
  big: {{machine_type: {{cpu: 64, memory: 256Gi, price_per_hour: 1.0}}, initial_size: 1}}
services:
  queue:
    replicas: 1
    resources: {{requests: {{cpu: "{c}", memory: 1Gi}}}}
    server: {{concurrency: {c}}}
    load:
      arrivals: {{rate: {lambda}}}
      service_time: {{distribution: exponential, mean: {mean_ms}ms}}
"#
    )
}

/// Replication means of the mean wait and the p99 wait, in ms.
fn replicate(
    c: u32,
    lambda: f64,
    mean_ms: f64,
    duration: &str,
    seeds: u64,
) -> (Vec<f64>, Vec<f64>) {
    (1..=seeds)
        .map(|seed| {
            let outcome = simulate(&scenario(&mmc_yaml(seed, c, lambda, mean_ms, duration)));
            let wait = &outcome.summary.services["queue"].wait_ms;
            (wait.mean.unwrap_or(f64::NAN), wait.p99.unwrap_or(f64::NAN))
        })
        .unzip()
}

#[test]
fn erlang_c_matches_known_values() {
    // Textbook values: c = 2, a = 1 → C = 1/3; c = 8, a = 7.2 → C ≈ 0.7015.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    assert!((erlang_c(8, 7.2) - 0.701_533).abs() < 1e-6);
    // M/M/1: C = ρ, Wq = ρ/(μ-λ).
    assert!((erlang_c(1, 0.9) - 0.9).abs() < 1e-12);
    assert!((mean_wait_ms(1, 90.0, 10.0) - 90.0).abs() < 1e-9);
}

#[test]
fn mmc_mean_wait_is_erlang_c_at_several_loads() {
    for (c, lambda, mean_ms) in [(8, 720.0, 10.0), (8, 560.0, 10.0), (4, 200.0, 10.0)] {
        let (means, _) = replicate(c, lambda, mean_ms, "40m", 20);
        let (mean, half) = confidence_interval(&means);
        let theory = mean_wait_ms(c, lambda, mean_ms);
        eprintln!(
            "M/M/{c} λ={lambda}: mean wait {mean:.4} ± {half:.4} ms, Erlang C {theory:.4} ms"
        );
        assert!(
            (mean - theory).abs() <= half,
            "M/M/{c} at λ={lambda}: simulated {mean:.4} ± {half:.4} ms, Erlang C {theory:.4} ms"
        );
    }
}

#[test]
fn mm1_mean_wait_at_rho_0_9() {
    let (means, _) = replicate(1, 90.0, 10.0, "2h", 20);
    let (mean, half) = confidence_interval(&means);
    let theory = mean_wait_ms(1, 90.0, 10.0);
    eprintln!("M/M/1 ρ=0.9: mean wait {mean:.3} ± {half:.3} ms, theory {theory:.3} ms");
    assert!(
        (mean - theory).abs() <= half,
        "M/M/1 ρ=0.9: simulated {mean:.3} ± {half:.3} ms, theory {theory:.3} ms"
    );
}

#[test]
fn mmc_p99_wait_follows_the_exponential_tail() {
    let (_, p99s) = replicate(8, 720.0, 10.0, "40m", 20);
    let (mean, half) = confidence_interval(&p99s);
    let theory = wait_quantile_ms(8, 720.0, 10.0, 0.01);
    eprintln!("M/M/8 ρ=0.9: p99 wait {mean:.3} ± {half:.3} ms, theory {theory:.3} ms");
    // The histogram rounds up by at most 0.1%; allow that on top of the sampling interval.
    assert!(
        (mean - theory).abs() <= half + theory * 1e-3,
        "p99 wait: simulated {mean:.3} ± {half:.3} ms, theory {theory:.3} ms"
    );
}
