//! Distributions: a bare value (a constant) or `{distribution: NAME, ...}` with the fields that
//! distribution takes, read as durations (service times, delays) or counts (tokens).
//!
//! Both kinds share one reader over a `Shape`; the unit is given afterwards.

use crate::scenario::error::Error;
use crate::scenario::schema::{DistFile, DistOrScalar, Scalar};
use crate::units::{DurationDist, SimDuration};
use crate::workload::spec::CountDist;

use super::Cx;

/// The distributions, as the file names them.
const NAMES: [&str; 4] = ["constant", "exponential", "lognormal", "uniform"];

/// The largest p99 / mean ratio a lognormal can have is `exp(z99^2 / 2)` with `z99 = 2.326`,
/// about 14.96; the bound leaves a margin for fitting.
const MAX_LOGNORMAL_P99_RATIO: f64 = 14.9;

/// A distribution before it is given its unit.
#[derive(Debug, Clone, Copy)]
enum Shape<T> {
    Constant(T),
    Exponential(T),
    Lognormal(T, T),
    Uniform(T, T),
}

/// A `{distribution: ...}` map whose name is known and whose fields all apply to it.
struct Checked<'a> {
    path: &'a str,
    dist: &'a DistFile,
    /// The fields the distribution takes.
    fields: &'static [&'static str],
}

impl Checked<'_> {
    /// The YAML path and value of the field `name`, which the distribution needs.
    fn field(
        &self,
        cx: &Cx<'_>,
        name: &str,
        v: &Option<Scalar>,
    ) -> Result<(String, Scalar), Error> {
        let p = format!("{}.{name}", self.path);
        match v {
            Some(s) => Ok((p, s.clone())),
            None => Err(cx.invalid(
                &p,
                format!("distribution {} needs \"{name}\"", self.dist.distribution),
                format!("expected {}", self.fields.join(" and ")),
            )),
        }
    }
}

impl Cx<'_> {
    /// A duration distribution; `positive` requires its values to be above zero (service times).
    pub(super) fn duration_dist(
        &self,
        path: &str,
        d: &DistOrScalar,
        positive: bool,
    ) -> Result<DurationDist, Error> {
        let read = |p: &str, s: &Scalar| self.duration(p, s);
        let shape = self.dist(path, d, positive, read, |d: SimDuration| d.as_secs_f64())?;
        Ok(match shape {
            Shape::Constant(v) => DurationDist::Constant(v),
            Shape::Exponential(mean) => DurationDist::Exponential { mean },
            Shape::Lognormal(mean, p99) => DurationDist::Lognormal { mean, p99 },
            Shape::Uniform(min, max) => DurationDist::Uniform { min, max },
        })
    }

    /// A count distribution whose values are above zero (tokens per request).
    pub(super) fn count_dist(&self, path: &str, d: &DistOrScalar) -> Result<CountDist, Error> {
        let read = |p: &str, s: &Scalar| self.count(p, s);
        let shape = self.dist(path, d, true, read, |v: f64| v)?;
        Ok(match shape {
            Shape::Constant(v) => CountDist::Constant(v),
            Shape::Exponential(mean) => CountDist::Exponential { mean },
            Shape::Lognormal(mean, p99) => CountDist::Lognormal { mean, p99 },
            Shape::Uniform(min, max) => CountDist::Uniform { min, max },
        })
    }

    /// The checks common to duration and count distributions: `read` reads one value, `value`
    /// measures it for the comparisons. The name and fields are checked before any value is
    /// read, and a missing field before the values of the fields given.
    fn dist<T: Copy + std::fmt::Debug>(
        &self,
        path: &str,
        d: &DistOrScalar,
        positive: bool,
        read: impl Fn(&str, &Scalar) -> Result<T, Error>,
        value: impl Fn(T) -> f64,
    ) -> Result<Shape<T>, Error> {
        let dist = match d {
            DistOrScalar::Scalar(s) => {
                let v = read(path, s)?;
                if positive {
                    self.above_zero(path, s, v, &value)?;
                }
                return Ok(Shape::Constant(v));
            }
            DistOrScalar::Dist(dist) => dist,
        };
        let checked = self.dist_fields(path, dist)?;
        match dist.distribution.as_str() {
            "constant" => {
                let (p, s) = checked.field(self, "value", &dist.value)?;
                let v = read(&p, &s)?;
                if positive {
                    self.above_zero(&p, &s, v, &value)?;
                }
                Ok(Shape::Constant(v))
            }
            "exponential" => {
                let (p, s) = checked.field(self, "mean", &dist.mean)?;
                let mean = self.above_zero(&p, &s, read(&p, &s)?, &value)?;
                Ok(Shape::Exponential(mean))
            }
            "lognormal" => self.lognormal(&checked, &read, &value),
            _ => self.uniform(&checked, positive, &read, &value),
        }
    }

    /// Checks the distribution's name, then that every field given applies to it.
    fn dist_fields<'a>(&self, path: &'a str, dist: &'a DistFile) -> Result<Checked<'a>, Error> {
        let fields: &'static [&'static str] = match dist.distribution.as_str() {
            "constant" => &["value"],
            "exponential" => &["mean"],
            "lognormal" => &["mean", "p99"],
            "uniform" => &["min", "max"],
            other => {
                return Err(self.unknown(
                    &format!("{path}.distribution"),
                    "distribution",
                    other,
                    &NAMES,
                ));
            }
        };
        let given = [
            ("value", &dist.value),
            ("mean", &dist.mean),
            ("p99", &dist.p99),
            ("min", &dist.min),
            ("max", &dist.max),
        ];
        for (field, v) in given {
            if v.is_some() && !fields.contains(&field) {
                return Err(self.invalid(
                    &format!("{path}.{field}"),
                    format!(
                        "\"{field}\" does not apply to distribution {}",
                        dist.distribution
                    ),
                    format!("expected only {}", fields.join(" and ")),
                ));
            }
        }
        Ok(Checked { path, dist, fields })
    }

    /// `{distribution: lognormal, mean, p99}`: a mean above zero and a p99 above the mean, but
    /// not so far above that no lognormal with that mean reaches it.
    fn lognormal<T: Copy>(
        &self,
        checked: &Checked<'_>,
        read: &impl Fn(&str, &Scalar) -> Result<T, Error>,
        value: &impl Fn(T) -> f64,
    ) -> Result<Shape<T>, Error> {
        let dist = checked.dist;
        let (pm, sm) = checked.field(self, "mean", &dist.mean)?;
        let (pp, sp) = checked.field(self, "p99", &dist.p99)?;
        let mean = self.above_zero(&pm, &sm, read(&pm, &sm)?, value)?;
        let p99 = read(&pp, &sp)?;
        let ratio = value(p99) / value(mean);
        if ratio <= 1.0 {
            return Err(self.invalid(
                &pp,
                format!("\"{}\" is not above the mean \"{}\"", sp.text(), sm.text()),
                "expected p99 > mean (a lognormal is skewed to the right)",
            ));
        }
        if ratio >= MAX_LOGNORMAL_P99_RATIO {
            return Err(self.invalid(
                &pp,
                format!(
                    "\"{}\" is {ratio:.1} times the mean \"{}\"",
                    sp.text(),
                    sm.text()
                ),
                "expected p99 / mean < 14.9 (no lognormal with that mean reaches \
                 a higher p99)",
            ));
        }
        Ok(Shape::Lognormal(mean, p99))
    }

    /// `{distribution: uniform, min, max}`: max not below min, and above zero when `positive`.
    fn uniform<T: Copy>(
        &self,
        checked: &Checked<'_>,
        positive: bool,
        read: &impl Fn(&str, &Scalar) -> Result<T, Error>,
        value: &impl Fn(T) -> f64,
    ) -> Result<Shape<T>, Error> {
        let dist = checked.dist;
        let (pmin, smin) = checked.field(self, "min", &dist.min)?;
        let (pmax, smax) = checked.field(self, "max", &dist.max)?;
        let min = read(&pmin, &smin)?;
        let max = read(&pmax, &smax)?;
        if value(max) < value(min) {
            return Err(self.invalid(
                &pmax,
                format!("\"{}\" is below min \"{}\"", smax.text(), smin.text()),
                "expected max >= min",
            ));
        }
        if positive {
            self.above_zero(&pmax, &smax, max, value)?;
        }
        Ok(Shape::Uniform(min, max))
    }

    /// `v`, when `value` measures it above zero; `s` is its text, quoted in the error.
    fn above_zero<T: Copy>(
        &self,
        path: &str,
        s: &Scalar,
        v: T,
        value: &impl Fn(T) -> f64,
    ) -> Result<T, Error> {
        if value(v) > 0.0 {
            Ok(v)
        } else {
            Err(self.invalid(
                path,
                format!("\"{}\" is zero", s.text()),
                "expected a value > 0",
            ))
        }
    }
}
