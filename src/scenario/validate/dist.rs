//! Distributions: a bare value (a constant) or `{distribution: NAME, ...}` with the fields that
//! distribution takes, read as durations (service times, delays) or counts (tokens).
//!
//! Both kinds share one reader over a `Shape`, generic over the `Unit` of its values; the
//! model's type is given afterwards.

use crate::scenario::error::Error;
use crate::scenario::schema::{DistFile, DistOrScalar, Scalar};
use crate::units::{DurationDist, SimDuration};
use crate::workload::spec::CountDist;

use super::{Cx, Tag};

/// Distributions are named by their `distribution`; a list of their fields reads "min and max".
const DISTRIBUTION: Tag = Tag {
    field: "distribution",
    what: "distribution",
    join: " and ",
};

/// The distributions, as the file names them, each with the fields it takes.
const DISTRIBUTIONS: [(&str, &[&str]); 4] = [
    ("constant", &["value"]),
    ("exponential", &["mean"]),
    ("lognormal", &["mean", "p99"]),
    ("uniform", &["min", "max"]),
];

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
                format!("expected {}", self.fields.join(DISTRIBUTION.join)),
            )),
        }
    }
}

/// What a distribution's values are: how one is read, and how it measures for the comparisons
/// (above zero, p99 above the mean, max not below min).
trait Unit: Copy {
    /// Reads one value at `path`.
    fn read(cx: &Cx<'_>, path: &str, s: &Scalar) -> Result<Self, Error>;
    /// The value as a number, for the comparisons.
    fn measure(self) -> f64;
}

/// Durations (service times, delays), compared in seconds.
impl Unit for SimDuration {
    fn read(cx: &Cx<'_>, path: &str, s: &Scalar) -> Result<SimDuration, Error> {
        cx.duration(path, s)
    }

    fn measure(self) -> f64 {
        self.as_secs_f64()
    }
}

/// Counts (tokens per request).
impl Unit for f64 {
    fn read(cx: &Cx<'_>, path: &str, s: &Scalar) -> Result<f64, Error> {
        cx.count(path, s)
    }

    fn measure(self) -> f64 {
        self
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
        Ok(match self.dist(path, d, positive)? {
            Shape::Constant(v) => DurationDist::Constant(v),
            Shape::Exponential(mean) => DurationDist::Exponential { mean },
            Shape::Lognormal(mean, p99) => DurationDist::Lognormal { mean, p99 },
            Shape::Uniform(min, max) => DurationDist::Uniform { min, max },
        })
    }

    /// A count distribution whose values are above zero (tokens per request).
    pub(super) fn count_dist(&self, path: &str, d: &DistOrScalar) -> Result<CountDist, Error> {
        Ok(match self.dist(path, d, true)? {
            Shape::Constant(v) => CountDist::Constant(v),
            Shape::Exponential(mean) => CountDist::Exponential { mean },
            Shape::Lognormal(mean, p99) => CountDist::Lognormal { mean, p99 },
            Shape::Uniform(min, max) => CountDist::Uniform { min, max },
        })
    }

    /// The checks common to duration and count distributions. The name and fields are checked
    /// before any value is read, and a missing field before the values of the fields given.
    fn dist<T: Unit>(
        &self,
        path: &str,
        d: &DistOrScalar,
        positive: bool,
    ) -> Result<Shape<T>, Error> {
        let dist = match d {
            DistOrScalar::Scalar(s) => return self.value(path, s, positive).map(Shape::Constant),
            DistOrScalar::Dist(dist) => dist,
        };
        let checked = self.dist_fields(path, dist)?;
        match dist.distribution.as_str() {
            "constant" => {
                let (p, s) = checked.field(self, "value", &dist.value)?;
                self.value(&p, &s, positive).map(Shape::Constant)
            }
            "exponential" => {
                let (p, s) = checked.field(self, "mean", &dist.mean)?;
                self.value(&p, &s, true).map(Shape::Exponential)
            }
            "lognormal" => self.lognormal(&checked),
            _ => self.uniform(&checked, positive),
        }
    }

    /// Checks the distribution's name, then that every field given applies to it.
    fn dist_fields<'a>(&self, path: &'a str, dist: &'a DistFile) -> Result<Checked<'a>, Error> {
        let given = given_fields!(dist: value, mean, p99, min, max);
        let kind = &dist.distribution;
        let fields = self.kind_fields(path, &DISTRIBUTION, kind, &DISTRIBUTIONS, &given)?;
        Ok(Checked { path, dist, fields })
    }

    /// `{distribution: lognormal, mean, p99}`: a mean above zero and a p99 above the mean, but
    /// not so far above that no lognormal with that mean reaches it.
    fn lognormal<T: Unit>(&self, checked: &Checked<'_>) -> Result<Shape<T>, Error> {
        let dist = checked.dist;
        let (pm, sm) = checked.field(self, "mean", &dist.mean)?;
        let (pp, sp) = checked.field(self, "p99", &dist.p99)?;
        let mean: T = self.value(&pm, &sm, true)?;
        let p99 = T::read(self, &pp, &sp)?;
        let ratio = p99.measure() / mean.measure();
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
    fn uniform<T: Unit>(&self, checked: &Checked<'_>, positive: bool) -> Result<Shape<T>, Error> {
        let dist = checked.dist;
        let (pmin, smin) = checked.field(self, "min", &dist.min)?;
        let (pmax, smax) = checked.field(self, "max", &dist.max)?;
        let min = T::read(self, &pmin, &smin)?;
        let max = T::read(self, &pmax, &smax)?;
        if max.measure() < min.measure() {
            return Err(self.invalid(
                &pmax,
                format!("\"{}\" is below min \"{}\"", smax.text(), smin.text()),
                "expected max >= min",
            ));
        }
        if positive {
            self.above_zero(&pmax, &smax, max)?;
        }
        Ok(Shape::Uniform(min, max))
    }

    /// The value `s` at `path`, which must be above zero when `positive`.
    fn value<T: Unit>(&self, path: &str, s: &Scalar, positive: bool) -> Result<T, Error> {
        let v = T::read(self, path, s)?;
        if positive {
            self.above_zero(path, s, v)?;
        }
        Ok(v)
    }

    /// Rejects `v` unless it measures above zero; `s` is its text, quoted in the error.
    fn above_zero<T: Unit>(&self, path: &str, s: &Scalar, v: T) -> Result<(), Error> {
        if v.measure() > 0.0 {
            Ok(())
        } else {
            Err(self.invalid(
                path,
                format!("\"{}\" is zero", s.text()),
                "expected a value > 0",
            ))
        }
    }
}
