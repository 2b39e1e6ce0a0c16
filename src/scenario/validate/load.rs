//! A service's load: the arrival rate and its profiles, and the per-request cost (an explicit
//! service time, or a vector-search or inference model).

use crate::scenario::error::Error;
use crate::scenario::schema::{LoadFile, ModelFile, PointFile, ProfileFile, Scalar, SpikeFile};
use crate::units::{DurationDist, SimDuration, SimTime};
use crate::workload::spec::{
    Arrivals, CostModel, CountDist, InferenceModel, Load, ProfilePoint, RateProfile, Spike,
    TraceCost, VectorSearchModel,
};

use super::trace::TraceInfo;

/// The largest `jitter_cv` of a vector-search model: the lognormal of a larger coefficient of
/// variation has its median below a hundredth of its mean, and past about 1e154 its variance
/// overflows and every query takes no time at all.
const MAX_JITTER_CV: f64 = 100.0;
use super::{Cx, Tag, each, optional};

/// Rate profiles are named by their `type`.
const PROFILE: Tag = Tag::by_type("profile type");

/// The rate profile types, each with the fields it takes.
const PROFILE_TYPES: [(&str, &[&str]); 5] = [
    ("constant", &[]),
    ("diurnal", &["peak_to_trough", "peak_hour"]),
    ("steps", &["steps"]),
    ("spikes", &["spikes"]),
    ("points", &["points"]),
];

/// Cost models are named by their `type`.
const MODEL: Tag = Tag::by_type("model type");

/// The cost model types, each with the fields it takes.
const MODEL_TYPES: [(&str, &[&str]); 2] = [
    (
        "vector-search",
        &["vectors", "dimension", "top_k", "recall", "ef", "jitter_cv"],
    ),
    (
        "inference",
        &["tokens", "tokens_per_core_second", "overhead"],
    ),
];

/// The longest work of one request, in seconds: Go's longest duration, as for `service_time`.
const MAX_WORK_S: f64 = 9.2e9;

impl Cx<'_> {
    /// A service's `load`.
    pub(super) fn load(&self, path: &str, l: &LoadFile) -> Result<Load, Error> {
        let apath = format!("{path}.arrivals");
        let trace = match &l.arrivals.trace {
            Some(t) => Some(self.trace(&format!("{apath}.trace"), t)?),
            None => None,
        };
        let arrivals = match (&trace, &l.arrivals.rate) {
            (Some(info), None) if l.arrivals.profile.is_none() => Arrivals {
                rate_per_s: info.mean_rate_per_s,
                profile: Vec::new(),
            },
            (Some(_), _) => {
                let key = if l.arrivals.rate.is_some() {
                    "rate"
                } else {
                    "profile"
                };
                return Err(self.invalid(
                    &format!("{apath}.{key}"),
                    format!("both {key} and trace are given"),
                    "expected either rate (with an optional profile) or trace",
                ));
            }
            (None, None) => {
                return Err(self.invalid(
                    &apath,
                    "neither rate nor trace is given",
                    "expected rate (requests per second, such as 100) or trace: {file, time_column}",
                ));
            }
            (None, Some(rate)) => {
                let arrivals = Arrivals {
                    rate_per_s: self.positive_count(&format!("{apath}.rate"), rate)?,
                    profile: self.profiles(&apath, l)?,
                };
                self.peak_rate(&apath, &arrivals)?;
                arrivals
            }
        };
        let cost = self.cost(path, l, trace.as_ref())?;
        Ok(Load {
            arrivals,
            cost,
            trace: trace.map(|info| info.trace),
        })
    }

    /// The rate profiles of `load.arrivals`, if any.
    fn profiles(&self, apath: &str, l: &LoadFile) -> Result<Vec<RateProfile>, Error> {
        match &l.arrivals.profile {
            None => Ok(Vec::new()),
            Some(list) if list.0.is_empty() => Err(self.invalid(
                &format!("{apath}.profile"),
                "the list of profiles is empty",
                "expected a profile or a non-empty list of profiles (omit it for a constant rate)",
            )),
            Some(list) => {
                let single = list.0.len() == 1;
                list.0
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let ppath = if single {
                            format!("{apath}.profile")
                        } else {
                            format!("{apath}.profile[{i}]")
                        };
                        self.profile(&ppath, p)
                    })
                    .collect()
            }
        }
    }

    /// Checks that the highest rate the profiles can reach (the base rate times each
    /// profile's largest factor) is a finite number of requests per second: an infinite one
    /// would bring every request at the same instant, and the run would never move on.
    fn peak_rate(&self, apath: &str, arrivals: &Arrivals) -> Result<(), Error> {
        let most = |points: &[ProfilePoint]| points.iter().map(|p| p.factor).fold(1.0, f64::max);
        let peak = arrivals
            .profile
            .iter()
            .fold(arrivals.rate_per_s, |rate, profile| {
                rate * match profile {
                    RateProfile::Constant | RateProfile::Diurnal { .. } => 1.0,
                    RateProfile::Steps(points) | RateProfile::Points(points) => most(points),
                    RateProfile::Spikes(spikes) => {
                        spikes.iter().map(|s| s.factor.max(1.0)).product()
                    }
                }
            });
        if peak.is_finite() {
            return Ok(());
        }
        Err(self.invalid(
            &format!("{apath}.profile"),
            "the rate times the profile's largest factors is too large a number",
            "expected factors whose product with the rate is a finite rate, such as 1.5",
        ))
    }

    /// The per-request cost: `service_time` or `model`, unless a request trace's column gives
    /// each request's service time (then the column's mean stands for the model).
    fn cost(
        &self,
        path: &str,
        l: &LoadFile,
        trace: Option<&TraceInfo>,
    ) -> Result<CostModel, Error> {
        let from_trace = trace.map(|info| (info.trace.cost, info.mean_value));
        let trace_tokens = match from_trace {
            Some((TraceCost::Tokens, mean)) => Some(mean),
            _ => None,
        };
        match (&l.service_time, &l.model, from_trace) {
            (None, None, Some((TraceCost::ServiceTimeS, mean_s))) => Ok(CostModel::ServiceTime(
                DurationDist::Constant(SimDuration::from_secs_f64(mean_s)),
            )),
            (Some(_), _, Some((TraceCost::ServiceTimeS, _)))
            | (_, Some(_), Some((TraceCost::ServiceTimeS, _))) => Err(self.invalid(
                path,
                "service_time_column and a service_time or model are given",
                "expected the trace's service_time_column alone to give the cost",
            )),
            (Some(_), _, Some((TraceCost::Tokens, _))) => Err(self.invalid(
                &format!("{path}.service_time"),
                "tokens_columns need the inference model",
                "expected model: {type: inference, tokens_per_core_second: ...} without tokens",
            )),
            (Some(st), None, _) => Ok(CostModel::ServiceTime(self.duration_dist(
                &format!("{path}.service_time"),
                st,
                true,
            )?)),
            (None, Some(m), _) => self.model(&format!("{path}.model"), m, trace_tokens),
            (Some(_), Some(_), _) => Err(self.invalid(
                path,
                "both service_time and model are given",
                "expected exactly one of service_time and model",
            )),
            (None, None, _) => Err(self.invalid(
                path,
                "neither service_time nor model is given",
                "expected exactly one of service_time (such as 10ms) and model",
            )),
        }
    }

    /// One rate profile.
    fn profile(&self, path: &str, p: &ProfileFile) -> Result<RateProfile, Error> {
        let given = given_fields!(p: peak_to_trough, peak_hour, steps, spikes, points);
        self.kind_fields(path, &PROFILE, &p.kind, &PROFILE_TYPES, &given)?;
        match p.kind.as_str() {
            "constant" => Ok(RateProfile::Constant),
            "diurnal" => self.diurnal(path, p),
            "steps" => Ok(RateProfile::Steps(self.points(
                &format!("{path}.steps"),
                p.steps.as_deref().unwrap_or_default(),
            )?)),
            "points" => Ok(RateProfile::Points(self.points(
                &format!("{path}.points"),
                p.points.as_deref().unwrap_or_default(),
            )?)),
            _ => self
                .spikes(
                    &format!("{path}.spikes"),
                    p.spikes.as_deref().unwrap_or_default(),
                )
                .map(RateProfile::Spikes),
        }
    }

    /// A `diurnal` profile: the peak-to-trough ratio (default 3) and the peak's hour of the
    /// day (default 14).
    fn diurnal(&self, path: &str, p: &ProfileFile) -> Result<RateProfile, Error> {
        let peak_to_trough = match &p.peak_to_trough {
            Some(s) => self.real(
                &format!("{path}.peak_to_trough"),
                s,
                |v| v >= 1.0,
                "expected a ratio >= 1 of the peak rate to the trough rate",
            )?,
            None => 3.0,
        };
        let peak_hour = match &p.peak_hour {
            Some(s) => self.real(
                &format!("{path}.peak_hour"),
                s,
                |v| (0.0..24.0).contains(&v),
                "expected an hour of the day in [0, 24), such as 14 or 14.5",
            )?,
            None => 14.0,
        };
        Ok(RateProfile::Diurnal {
            peak_to_trough,
            peak_hour,
        })
    }

    /// The spikes of a `spikes` profile: at least one, each with a start, a duration above
    /// zero and a rate factor.
    fn spikes(&self, path: &str, spikes: &[SpikeFile]) -> Result<Vec<Spike>, Error> {
        if spikes.is_empty() {
            return Err(self.invalid(
                path,
                "no spike is given",
                "expected at least one {at, duration, factor}",
            ));
        }
        each(path, spikes, |p, s| {
            Ok(Spike {
                start: SimTime(self.duration(&format!("{p}.at"), &s.at)?.as_micros()),
                duration: self.positive_duration(&format!("{p}.duration"), &s.duration)?,
                factor: self.factor(&format!("{p}.factor"), &s.factor)?,
            })
        })
    }

    /// Points of a `steps` or `points` profile: at least one, strictly increasing in time.
    fn points(&self, path: &str, points: &[PointFile]) -> Result<Vec<ProfilePoint>, Error> {
        if points.is_empty() {
            return Err(self.invalid(
                path,
                "no point is given",
                "expected at least one {at, factor}",
            ));
        }
        let mut out: Vec<ProfilePoint> = Vec::with_capacity(points.len());
        for (i, point) in points.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let at = SimTime(self.duration(&format!("{p}.at"), &point.at)?.as_micros());
            if let Some(previous) = out.last()
                && at <= previous.at
            {
                return Err(self.invalid(
                    &format!("{p}.at"),
                    format!(
                        "\"{}\" is not after the previous point's {}",
                        point.at.text(),
                        previous.at
                    ),
                    "expected strictly increasing times",
                ));
            }
            let factor = self.factor(&format!("{p}.factor"), &point.factor)?;
            out.push(ProfilePoint { at, factor });
        }
        Ok(out)
    }

    /// A rate factor `>= 0`.
    fn factor(&self, path: &str, s: &Scalar) -> Result<f64, Error> {
        self.real(
            path,
            s,
            |v| v >= 0.0,
            "expected a rate factor >= 0, such as 1.5",
        )
    }

    /// `load.model`.
    fn model(
        &self,
        path: &str,
        m: &ModelFile,
        trace_tokens: Option<f64>,
    ) -> Result<CostModel, Error> {
        let given = given_fields!(
            m: vectors, dimension, top_k, recall, ef, jitter_cv,
            tokens, tokens_per_core_second, overhead
        );
        self.kind_fields(path, &MODEL, &m.kind, &MODEL_TYPES, &given)?;
        if m.kind == "inference" {
            return self.inference_model(path, m, trace_tokens);
        }
        if trace_tokens.is_some() {
            return Err(self.invalid(
                &format!("{path}.type"),
                format!("\"{}\" does not take tokens from a trace", m.kind),
                "expected type inference with the trace's tokens_columns",
            ));
        }
        self.vector_search_model(path, m)
    }

    /// The value of a field the model type needs.
    fn required(
        &self,
        path: &str,
        m: &ModelFile,
        field: &str,
        v: &Option<Scalar>,
    ) -> Result<Scalar, Error> {
        v.clone().ok_or_else(|| {
            self.invalid(
                &format!("{path}.{field}"),
                format!("model type {} needs \"{field}\"", m.kind),
                format!("expected {field} to be set"),
            )
        })
    }

    /// An `inference` model: tokens per request (a count or a distribution), the tokens a core
    /// processes per second, and a fixed overhead per request.
    /// With a trace's `tokens_columns`, `trace_tokens` is their mean per request and each
    /// request's own count replaces `tokens`.
    fn inference_model(
        &self,
        path: &str,
        m: &ModelFile,
        trace_tokens: Option<f64>,
    ) -> Result<CostModel, Error> {
        let tokens = match (&m.tokens, trace_tokens) {
            (Some(tokens), None) => self.count_dist(&format!("{path}.tokens"), tokens)?,
            (None, Some(mean)) => CountDist::Constant(mean),
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    &format!("{path}.tokens"),
                    "tokens are given both here and by the trace's tokens_columns",
                    "expected no tokens: each request's come from its trace row",
                ));
            }
            (None, None) => {
                return Err(self.invalid(
                    &format!("{path}.tokens"),
                    "model type inference needs \"tokens\"",
                    "expected a count such as 250, or a distribution such as \
                     {distribution: lognormal, mean: 250, p99: 1500}",
                ));
            }
        };
        let tps = self.required(path, m, "tokens_per_core_second", &m.tokens_per_core_second)?;
        let tokens_per_core_second =
            self.positive_count(&format!("{path}.tokens_per_core_second"), &tps)?;
        let overhead = self.optional_duration(
            &format!("{path}.overhead"),
            m.overhead.as_ref(),
            SimDuration::ZERO,
        )?;
        // The work of a large request must be a duration: at most Go's longest (about 292 years),
        // as any `service_time` is, so that no request's work is infinite.
        let largest_tokens = match tokens {
            CountDist::Constant(v) | CountDist::Exponential { mean: v } => v,
            CountDist::Lognormal { p99, .. } => p99,
            CountDist::Uniform { max, .. } => max,
        };
        let work_s = largest_tokens / tokens_per_core_second;
        if work_s.is_nan() || work_s > MAX_WORK_S {
            return Err(self.invalid(
                &format!("{path}.tokens_per_core_second"),
                format!(
                    "{largest_tokens:e} tokens at {tokens_per_core_second:e} tokens per core-second \
                     is {work_s:.3e} s of work for one request"
                ),
                "expected a request's work of at most 9.2e9 s (the longest duration, about 292 years)",
            ));
        }
        Ok(CostModel::Inference(InferenceModel {
            tokens,
            tokens_per_core_second,
            overhead,
        }))
    }

    /// A `vector-search` model: the index's size and dimension, and the query's `top_k`,
    /// recall, HNSW `ef` and jitter, with their defaults.
    fn vector_search_model(&self, path: &str, m: &ModelFile) -> Result<CostModel, Error> {
        let vectors = self.positive_count(
            &format!("{path}.vectors"),
            &self.required(path, m, "vectors", &m.vectors)?,
        )?;
        let dimension = self.whole_u32(
            &format!("{path}.dimension"),
            &self.required(path, m, "dimension", &m.dimension)?,
            "dimension",
            1,
            u32::MAX,
        )?;
        let top_k = match &m.top_k {
            Some(s) => self.whole_u32(&format!("{path}.top_k"), s, "count", 1, u32::MAX)?,
            None => 10,
        };
        let recall = match &m.recall {
            Some(s) => self.real(
                &format!("{path}.recall"),
                s,
                |v| v > 0.0 && v < 1.0,
                "expected a recall strictly between 0 and 1, such as 0.95",
            )?,
            None => 0.95,
        };
        let ef = optional(path, "ef", m.ef.as_ref(), |p, s| self.ef(p, s, top_k))?;
        let jitter_cv = match &m.jitter_cv {
            Some(s) => self.real(
                &format!("{path}.jitter_cv"),
                s,
                |v| (0.0..=MAX_JITTER_CV).contains(&v),
                &format!(
                    "expected a coefficient of variation from 0 to {MAX_JITTER_CV}, such as 0.25 \
                     (with a larger one the median query would take under a hundredth of the mean)"
                ),
            )?,
            None => 0.25,
        };
        Ok(CostModel::VectorSearch(VectorSearchModel {
            vectors,
            dimension,
            top_k,
            recall,
            ef,
            jitter_cv,
        }))
    }

    /// HNSW's `ef`: at least `top_k`, as the search keeps at least k candidates.
    fn ef(&self, path: &str, s: &Scalar, top_k: u32) -> Result<u32, Error> {
        let ef = self.whole_u32(path, s, "count", 1, u32::MAX)?;
        if ef < top_k {
            return Err(self.invalid(
                path,
                format!("\"{}\" is below top_k {top_k}", s.text()),
                "expected ef >= top_k (HNSW keeps at least k candidates)",
            ));
        }
        Ok(ef)
    }
}
