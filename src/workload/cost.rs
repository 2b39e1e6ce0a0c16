//! Per-request cost: how long a request occupies one worker of a pod.
//!
//! Use `ServiceTimeSampler::new` once per service and `sample` per request. The named models
//! turn domain parameters into a service-time distribution:
//!
//! - **vector-search** (an HNSW index): CPU-ms per query
//!   `≈ 1.1 + 0.0114 · max(ef, k) · (d / 768) · (ln N / ln 8.8e6)`, times a lognormal jitter of
//!   mean 1. Search cost grows with the candidate-list size `ef` and the distance-computation cost
//!   `d`, and logarithmically with `N` (Malkov and Yashunin, "Efficient and robust approximate
//!   nearest neighbor search using HNSW graphs", 2018). The constants are fitted to single-thread
//!   HNSW query times on an 8.8M x 768-dimension corpus (MS MARCO passages) as published by
//!   ann-benchmarks-style studies; `ef` follows the recall target from the same benchmarks
//!   (recall 0.95 → ef 64, 0.97 → ef 128). Measured numbers should replace it via `service_time`.
//! - **inference** (token generation on CPU): `overhead + tokens / (tokens_per_core_second ·
//!   cores_per_worker)`.
//!
//! Samples are whole microseconds, rounded to the nearest. This module knows nothing of pods.

use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::engine::rng::SimRng;
use crate::units::{DurationDist, Millicores, SimDuration, round_to_u64};
use crate::workload::spec::{CostModel, CountDist, InferenceModel, VectorSearchModel};

/// The standard normal quantile of 0.99, used to fit a lognormal to a mean and a p99.
pub const Z_99: f64 = 2.326_347_874_040_841;

/// Recall targets and the HNSW `ef_search` that reaches them (recall@10, ann-benchmarks).
/// Between points, `log2(ef)` is interpolated linearly in recall.
pub const RECALL_TO_EF: [(f64, f64); 6] = [
    (0.80, 16.0),
    (0.90, 32.0),
    (0.95, 64.0),
    (0.97, 128.0),
    (0.99, 256.0),
    (0.999, 512.0),
];

/// A lognormal's (mu, sigma) from its mean and 99th percentile.
///
/// `ln p99 - ln mean = z·σ - σ²/2` has a real root while `p99 / mean < e^(z²/2) ≈ 14.97`; the
/// smaller root is the one whose median lies below the mean.
pub fn lognormal_from_mean_p99(mean: f64, p99: f64) -> Option<(f64, f64)> {
    let gap = (p99 / mean).ln();
    let discriminant = Z_99 * Z_99 - 2.0 * gap;
    if !(mean > 0.0 && p99 > mean && discriminant >= 0.0) {
        return None;
    }
    let sigma = Z_99 - discriminant.sqrt();
    Some((mean.ln() - sigma * sigma / 2.0, sigma))
}

/// The HNSW `ef_search` a vector-search model uses.
pub fn vector_search_ef(model: &VectorSearchModel) -> f64 {
    if let Some(ef) = model.ef {
        return f64::from(ef);
    }
    let r = model.recall;
    let (first, last) = (RECALL_TO_EF[0], RECALL_TO_EF[RECALL_TO_EF.len() - 1]);
    if r <= first.0 {
        return first.1;
    }
    if r >= last.0 {
        return last.1;
    }
    RECALL_TO_EF
        .windows(2)
        .find(|w| r <= w[1].0)
        .map_or(last.1, |w| {
            let ((r0, ef0), (r1, ef1)) = (w[0], w[1]);
            (ef0.log2() + (ef1.log2() - ef0.log2()) * (r - r0) / (r1 - r0)).exp2()
        })
}

/// The mean CPU milliseconds of one query under the vector-search model.
pub fn vector_search_cpu_ms(model: &VectorSearchModel) -> f64 {
    let breadth = vector_search_ef(model).max(f64::from(model.top_k));
    let dimension_factor = f64::from(model.dimension) / 768.0;
    let size_factor = model.vectors.max(2.0).ln() / 8.8e6_f64.ln();
    1.1 + 0.0114 * breadth * dimension_factor * size_factor
}

/// Microseconds one worker of `cpu_per_worker` spends per token under the inference `model`.
pub fn micros_per_token(model: &InferenceModel, cpu_per_worker: Millicores) -> f64 {
    let cores = cpu_per_worker.as_cores_f64().max(1e-3);
    1e6 / (model.tokens_per_core_second * cores)
}

/// Draws service times in microseconds, without allocation or dynamic dispatch.
#[derive(Debug, Clone)]
pub enum ServiceTimeSampler {
    /// Always the same.
    Constant(f64),
    /// Exponential with this mean.
    Exponential(f64),
    /// `exp(mu + sigma·Z)`.
    Lognormal {
        /// Location.
        mu: f64,
        /// Scale.
        sigma: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// `overhead + tokens · micros_per_token`.
    Tokens {
        /// Tokens per request.
        tokens: Box<ServiceTimeSampler>,
        /// Microseconds per token on one worker.
        micros_per_token: f64,
        /// Fixed microseconds per request.
        overhead: f64,
    },
}

impl ServiceTimeSampler {
    /// The sampler for a service whose workers each use `cpu_per_worker`.
    pub fn new(model: &CostModel, cpu_per_worker: Millicores) -> ServiceTimeSampler {
        match model {
            CostModel::ServiceTime(dist) => Self::from_duration(dist),
            CostModel::VectorSearch(model) => {
                let mean_us = vector_search_cpu_ms(model) * 1_000.0;
                if model.jitter_cv <= 0.0 {
                    return ServiceTimeSampler::Constant(mean_us);
                }
                // A lognormal of this mean and coefficient of variation.
                let sigma2 = (1.0 + model.jitter_cv * model.jitter_cv).ln();
                ServiceTimeSampler::Lognormal {
                    mu: mean_us.ln() - sigma2 / 2.0,
                    sigma: sigma2.sqrt(),
                }
            }
            CostModel::Inference(model) => ServiceTimeSampler::Tokens {
                tokens: Box::new(Self::from_count(&model.tokens)),
                micros_per_token: micros_per_token(model, cpu_per_worker),
                overhead: model.overhead.0 as f64,
            },
        }
    }

    /// A sampler of a duration distribution, in microseconds.
    pub fn from_duration(dist: &DurationDist) -> ServiceTimeSampler {
        let us = |d: &SimDuration| d.0 as f64;
        match dist {
            DurationDist::Constant(d) => ServiceTimeSampler::Constant(us(d)),
            DurationDist::Exponential { mean } => ServiceTimeSampler::Exponential(us(mean)),
            DurationDist::Lognormal { mean, p99 } => Self::lognormal(us(mean), us(p99)),
            DurationDist::Uniform { min, max } => ServiceTimeSampler::Uniform {
                min: us(min),
                max: us(max),
            },
        }
    }

    fn from_count(dist: &CountDist) -> ServiceTimeSampler {
        match *dist {
            CountDist::Constant(n) => ServiceTimeSampler::Constant(n),
            CountDist::Exponential { mean } => ServiceTimeSampler::Exponential(mean),
            CountDist::Lognormal { mean, p99 } => Self::lognormal(mean, p99),
            CountDist::Uniform { min, max } => ServiceTimeSampler::Uniform { min, max },
        }
    }

    fn lognormal(mean: f64, p99: f64) -> ServiceTimeSampler {
        // Validation guarantees a fit; a degenerate pair falls back to the mean.
        match lognormal_from_mean_p99(mean, p99) {
            Some((mu, sigma)) => ServiceTimeSampler::Lognormal { mu, sigma },
            None => ServiceTimeSampler::Constant(mean),
        }
    }

    /// The distribution's mean in microseconds.
    pub fn mean(&self) -> f64 {
        match self {
            ServiceTimeSampler::Constant(v) | ServiceTimeSampler::Exponential(v) => *v,
            ServiceTimeSampler::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            ServiceTimeSampler::Uniform { min, max } => (min + max) / 2.0,
            ServiceTimeSampler::Tokens {
                tokens,
                micros_per_token,
                overhead,
            } => overhead + tokens.mean() * micros_per_token,
        }
    }

    /// One draw, as a duration rounded to the nearest microsecond.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> SimDuration {
        SimDuration(round_to_u64(self.sample_f64(rng)))
    }

    #[inline]
    fn sample_f64(&self, rng: &mut SimRng) -> f64 {
        match self {
            ServiceTimeSampler::Constant(v) => *v,
            ServiceTimeSampler::Exponential(mean) => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            ServiceTimeSampler::Lognormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            ServiceTimeSampler::Uniform { min, max } => {
                let u: f64 = rand::RngExt::random(rng);
                min + (max - min) * u
            }
            ServiceTimeSampler::Tokens {
                tokens,
                micros_per_token,
                overhead,
            } => overhead + tokens.sample_f64(rng).round().max(1.0) * micros_per_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn sample_mean(s: &ServiceTimeSampler, n: usize) -> f64 {
        let mut rng = stream(11, "cost");
        (0..n).map(|_| s.sample(&mut rng).0 as f64).sum::<f64>() / n as f64
    }

    #[test]
    fn lognormal_fit_reproduces_mean_and_p99() {
        let (mu, sigma) = lognormal_from_mean_p99(10.0, 40.0).expect("fits");
        assert!(((mu + sigma * sigma / 2.0).exp() - 10.0).abs() < 1e-9);
        assert!(((mu + Z_99 * sigma).exp() - 40.0).abs() < 1e-9);
        assert!(
            lognormal_from_mean_p99(10.0, 9.0).is_none(),
            "p99 below mean"
        );
        assert!(
            lognormal_from_mean_p99(1.0, 15.0).is_none(),
            "beyond e^(z^2/2)"
        );
    }

    #[test]
    fn vector_search_follows_the_documented_formula() {
        let mut model = VectorSearchModel {
            vectors: 8.8e6,
            dimension: 768,
            top_k: 10,
            recall: 0.95,
            ef: None,
            jitter_cv: 0.0,
        };
        // ef 64 at recall 0.95: 1.1 + 0.0114 * 64 = 1.8296 ms.
        assert!((vector_search_cpu_ms(&model) - 1.8296).abs() < 1e-9);
        model.recall = 0.97; // ef 128: 1.1 + 1.4592
        assert!((vector_search_cpu_ms(&model) - 2.5592).abs() < 1e-9);
        model.recall = 0.96; // halfway in log2: ef = 2^6.5 = 90.51
        assert!((vector_search_ef(&model) - 90.5097).abs() < 1e-3);
        model.ef = Some(5); // k = 10 dominates: 1.1 + 0.114
        assert!((vector_search_cpu_ms(&model) - 1.214).abs() < 1e-9);
        model.ef = Some(64);
        model.dimension = 1536; // twice the distance cost: 1.1 + 2 * 0.7296
        assert!((vector_search_cpu_ms(&model) - 2.5592).abs() < 1e-9);
    }

    #[test]
    fn samplers_have_the_requested_means() {
        let model = VectorSearchModel {
            vectors: 8.8e6,
            dimension: 768,
            top_k: 10,
            recall: 0.95,
            ef: None,
            jitter_cv: 0.3,
        };
        let cases = [
            (ServiceTimeSampler::Exponential(10_000.0), 10_000.0),
            (ServiceTimeSampler::lognormal(10_000.0, 40_000.0), 10_000.0),
            (
                ServiceTimeSampler::Uniform {
                    min: 5_000.0,
                    max: 15_000.0,
                },
                10_000.0,
            ),
            (
                ServiceTimeSampler::new(&CostModel::VectorSearch(model), Millicores(1_000)),
                1_829.6,
            ),
        ];
        for (sampler, mean) in cases {
            assert!((sampler.mean() - mean).abs() / mean < 1e-9, "{sampler:?}");
            let got = sample_mean(&sampler, 200_000);
            assert!((got - mean).abs() / mean < 0.01, "{sampler:?}: {got}");
        }
    }

    #[test]
    fn inference_time_grows_with_tokens_and_shrinks_with_cores() {
        let model = |tokens| {
            CostModel::Inference(InferenceModel {
                tokens: CountDist::Constant(tokens),
                tokens_per_core_second: 10.0,
                overhead: SimDuration::from_millis(50),
            })
        };
        let mut rng = stream(1, "t");
        // 200 tokens at 10/s per core on 4 cores: 5 s + 50 ms.
        let s = ServiceTimeSampler::new(&model(200.0), Millicores(4_000));
        assert_eq!(s.sample(&mut rng), SimDuration(5_050_000));
        let s = ServiceTimeSampler::new(&model(400.0), Millicores(4_000));
        assert_eq!(s.sample(&mut rng), SimDuration(10_050_000));
        let s = ServiceTimeSampler::new(&model(400.0), Millicores(8_000));
        assert_eq!(s.sample(&mut rng), SimDuration(5_050_000));
    }
}
