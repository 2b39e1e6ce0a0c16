//! Validation: turns the file's shape (`schema`) into the model (`model`), checking every
//! value and every cross-reference, so that nothing downstream has to.
//!
//! Each check reports the first problem it finds as an `Error` naming the YAML path, quoting the
//! bad value and saying what is allowed. This file holds the value readers every section uses
//! (whole numbers, reals, quantities, durations, distributions) and the top-level fields; the
//! sections live in the sibling files. Nothing here reads files or parses YAML.

mod autoscaling;
mod cluster_autoscaler;
mod limits;
mod load;
mod monitoring;
mod pools;
mod services;
mod sweep;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crate::scenario::error::{self, Error, Problem};
use crate::scenario::model::Scenario;
use crate::scenario::quantity;
use crate::scenario::schema::{DistOrScalar, File, Scalar};
use crate::units::DurationDist;
use crate::units::{Bytes, Millicores, SimDuration};
use crate::workload::spec::CountDist;

/// Validates a parsed file into a `Scenario`; `origin` names the file in messages.
pub(crate) fn scenario(origin: &str, file: File) -> Result<Scenario, Error> {
    let cx = Cx { origin };
    let name = cx.name(&file.name)?;
    let seed = match &file.seed {
        Some(s) => cx.whole("seed", s, "seed", 0, u64::MAX)?,
        None => 1,
    };
    let duration = cx.positive_duration("duration", &file.duration)?;
    let warmup = cx.optional_duration("warmup", file.warmup.as_ref(), SimDuration::ZERO)?;
    let resolution = match &file.resolution {
        Some(s) => cx.positive_duration("resolution", s)?,
        None => SimDuration::from_secs(60),
    };
    check_run_length(origin, duration, warmup, resolution)?;

    if file.node_pools.0.is_empty() {
        return Err(cx.invalid(
            "node_pools",
            "no node pool is given",
            "expected at least one pool, as `node_pools: {name: {machine_type: ...}}`",
        ));
    }
    let node_pools = file
        .node_pools
        .0
        .iter()
        .map(|(name, pool)| cx.pool(name, pool))
        .collect::<Result<Vec<_>, _>>()?;

    if file.services.0.is_empty() {
        return Err(cx.invalid(
            "services",
            "no service is given",
            "expected at least one service, as `services: {name: {replicas: 1}}`",
        ));
    }
    let services = file
        .services
        .0
        .iter()
        .map(|(name, service)| cx.service(name, service, &node_pools))
        .collect::<Result<Vec<_>, _>>()?;

    let quotas = cx.quotas(&file.quotas, &services)?;
    let mut namespaces: BTreeSet<String> = services.iter().map(|s| s.namespace.clone()).collect();
    namespaces.extend(quotas.iter().map(|q| q.namespace.clone()));

    let autoscaling = cx.autoscaling(file.autoscaling.as_ref(), &services, &node_pools)?;
    let monitoring = cx.monitoring(file.monitoring.as_ref(), &services)?;
    let sweep = file.sweep.as_ref().map(|s| cx.sweep(s)).transpose()?;
    let expectations = file
        .expect
        .iter()
        .enumerate()
        .map(|(i, text)| cx.expectation(&format!("expect[{i}]"), text))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Scenario {
        name,
        description: file.description.unwrap_or_default(),
        seed,
        duration,
        warmup,
        resolution,
        node_pools,
        services,
        namespaces: namespaces.into_iter().collect(),
        quotas,
        autoscaling,
        monitoring,
        sweep,
        expectations,
    })
}

/// Most rows a run's time series may have: a million rows of timeseries.csv is already a
/// file of hundreds of megabytes, and each row is an event of its own.
pub(crate) const MAX_TIMESERIES_ROWS: u64 = 1_000_000;

/// Most pods one service may ask for: Kubernetes' tested limit of pods per cluster.
pub(crate) const MAX_REPLICAS: u32 = 150_000;

/// The rules tying the run's length, warmup and resolution together.
fn check_run_length(
    origin: &str,
    duration: SimDuration,
    warmup: SimDuration,
    resolution: SimDuration,
) -> Result<(), Error> {
    if warmup >= duration {
        return Err(Problem::new(
            format!("\"{warmup}\" is not shorter than the duration {duration}"),
            "expected a warmup < duration, so that some of the run is measured",
        )
        .at(origin, "warmup"));
    }
    if resolution > duration {
        return Err(Problem::new(
            format!("\"{resolution}\" is longer than the duration {duration}"),
            "expected a resolution <= duration",
        )
        .at(origin, "resolution"));
    }
    let rows = duration.0 / resolution.0.max(1);
    if rows > MAX_TIMESERIES_ROWS {
        let finest = SimDuration(duration.0.div_ceil(MAX_TIMESERIES_ROWS));
        return Err(Problem::new(
            format!("\"{resolution}\" gives {rows} time-series rows over {duration}"),
            format!(
                "expected at most {MAX_TIMESERIES_ROWS} rows: a resolution of {finest} or coarser"
            ),
        )
        .at(origin, "resolution"));
    }
    Ok(())
}

/// Validation context: the file name, and readers that attach it and the path to errors.
pub(crate) struct Cx<'a> {
    origin: &'a str,
}

impl Cx<'_> {
    /// An `Invalid` error at `path`.
    fn invalid(&self, path: &str, what: impl Into<String>, allowed: impl Into<String>) -> Error {
        Problem::new(what, allowed).at(self.origin, path)
    }

    /// An `UnknownName` error at `path`.
    fn unknown(&self, path: &str, kind: &str, name: &str, allowed: &[&str]) -> Error {
        error::unknown_name(self.origin, path, kind, name, allowed)
    }

    /// The scenario name, usable as a folder name.
    fn name(&self, name: &str) -> Result<String, Error> {
        let ok = !name.is_empty()
            && name != "."
            && name != ".."
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(name.to_string())
        } else {
            Err(self.invalid(
                "name",
                format!("\"{name}\" is not a valid scenario name"),
                "expected letters, digits, '-', '_' and '.' (it names the output folder)",
            ))
        }
    }

    /// A Kubernetes object name (DNS label: lowercase letters, digits and '-', at most 63,
    /// starting with a letter and ending with a letter or digit).
    fn dns_label(&self, path: &str, what: &str, name: &str) -> Result<(), Error> {
        let bytes = name.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= 63
            && bytes[0].is_ascii_lowercase()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if ok {
            Ok(())
        } else {
            Err(self.invalid(
                path,
                format!("\"{name}\" is not a valid {what} name"),
                "expected at most 63 lowercase letters, digits and '-', starting with a letter \
                 and ending with a letter or digit",
            ))
        }
    }

    /// A whole number in `min..=max`; `what` names it in the message (`count`, `weight`).
    fn whole(&self, path: &str, s: &Scalar, what: &str, min: u64, max: u64) -> Result<u64, Error> {
        let text = s.text();
        let expected = if max == u64::MAX || max == u64::from(u32::MAX) {
            format!("expected a whole number >= {min}")
        } else {
            format!("expected a whole number from {min} to {max}")
        };
        match text.parse::<i128>() {
            Ok(v) if v >= 0 => match u64::try_from(v) {
                Ok(v) if (min..=max).contains(&v) => Ok(v),
                _ => Err(self.invalid(path, format!("\"{text}\" is out of range"), expected)),
            },
            _ => Err(self.invalid(path, format!("\"{text}\" is not a valid {what}"), expected)),
        }
    }

    /// A whole number that fits `u32`.
    fn whole_u32(
        &self,
        path: &str,
        s: &Scalar,
        what: &str,
        min: u32,
        max: u32,
    ) -> Result<u32, Error> {
        let v = self.whole(path, s, what, u64::from(min), u64::from(max))?;
        // `whole` checked v <= max, and max is a u32.
        Ok(u32::try_from(v).unwrap_or(max))
    }

    /// A finite real number accepted by `ok`; `expected` says which ones are.
    fn real(
        &self,
        path: &str,
        s: &Scalar,
        ok: impl Fn(f64) -> bool,
        expected: &str,
    ) -> Result<f64, Error> {
        let text = s.text();
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && ok(v) => Ok(v),
            Ok(v) if v.is_finite() => {
                Err(self.invalid(path, format!("\"{text}\" is out of range"), expected))
            }
            _ => Err(self.invalid(path, format!("\"{text}\" is not a number"), expected)),
        }
    }

    /// A duration `>= 0`.
    fn duration(&self, path: &str, s: &Scalar) -> Result<SimDuration, Error> {
        quantity::duration(s.text()).map_err(|p| p.at(self.origin, path))
    }

    /// A duration `> 0`.
    fn positive_duration(&self, path: &str, s: &Scalar) -> Result<SimDuration, Error> {
        let d = self.duration(path, s)?;
        if d == SimDuration::ZERO {
            return Err(self.invalid(
                path,
                format!("\"{}\" is zero", s.text()),
                "expected a duration > 0, such as \"15s\"",
            ));
        }
        Ok(d)
    }

    /// An optional duration `>= 0` with a default.
    fn optional_duration(
        &self,
        path: &str,
        s: Option<&Scalar>,
        default: SimDuration,
    ) -> Result<SimDuration, Error> {
        s.map_or(Ok(default), |s| self.duration(path, s))
    }

    /// An optional duration `> 0` with a default.
    fn optional_positive_duration(
        &self,
        path: &str,
        s: Option<&Scalar>,
        default: SimDuration,
    ) -> Result<SimDuration, Error> {
        s.map_or(Ok(default), |s| self.positive_duration(path, s))
    }

    /// A CPU quantity.
    fn cpu(&self, path: &str, s: &Scalar) -> Result<Millicores, Error> {
        quantity::cpu(s.text()).map_err(|p| p.at(self.origin, path))
    }

    /// A memory quantity.
    fn memory(&self, path: &str, s: &Scalar) -> Result<Bytes, Error> {
        quantity::memory(s.text()).map_err(|p| p.at(self.origin, path))
    }

    /// A count `>= 0`.
    fn count(&self, path: &str, s: &Scalar) -> Result<f64, Error> {
        quantity::count(s.text()).map_err(|p| p.at(self.origin, path))
    }

    /// A count `> 0`.
    fn positive_count(&self, path: &str, s: &Scalar) -> Result<f64, Error> {
        let v = self.count(path, s)?;
        if v <= 0.0 {
            return Err(self.invalid(
                path,
                format!("\"{}\" is zero", s.text()),
                "expected a number > 0",
            ));
        }
        Ok(v)
    }

    /// A duration distribution; `positive` requires its values to be above zero (service times).
    fn duration_dist(
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
    fn count_dist(&self, path: &str, d: &DistOrScalar) -> Result<CountDist, Error> {
        let read = |p: &str, s: &Scalar| self.count(p, s);
        let shape = self.dist(path, d, true, read, |v: f64| v)?;
        Ok(match shape {
            Shape::Constant(v) => CountDist::Constant(v),
            Shape::Exponential(mean) => CountDist::Exponential { mean },
            Shape::Lognormal(mean, p99) => CountDist::Lognormal { mean, p99 },
            Shape::Uniform(min, max) => CountDist::Uniform { min, max },
        })
    }

    /// The checks common to duration and count distributions.
    fn dist<T: Copy + std::fmt::Debug>(
        &self,
        path: &str,
        d: &DistOrScalar,
        positive: bool,
        read: impl Fn(&str, &Scalar) -> Result<T, Error>,
        value: impl Fn(T) -> f64,
    ) -> Result<Shape<T>, Error> {
        let must_be_positive = |p: &str, s: &Scalar, v: T| {
            if value(v) > 0.0 {
                Ok(v)
            } else {
                Err(self.invalid(
                    p,
                    format!("\"{}\" is zero", s.text()),
                    "expected a value > 0",
                ))
            }
        };
        let dist = match d {
            DistOrScalar::Scalar(s) => {
                let v = read(path, s)?;
                return if positive {
                    must_be_positive(path, s, v).map(Shape::Constant)
                } else {
                    Ok(Shape::Constant(v))
                };
            }
            DistOrScalar::Dist(dist) => dist,
        };
        const NAMES: [&str; 4] = ["constant", "exponential", "lognormal", "uniform"];
        let fields: &[&str] = match dist.distribution.as_str() {
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
        let field = |name: &str, v: &Option<Scalar>| -> Result<(String, Scalar), Error> {
            let p = format!("{path}.{name}");
            match v {
                Some(s) => Ok((p, s.clone())),
                None => Err(self.invalid(
                    &p,
                    format!("distribution {} needs \"{name}\"", dist.distribution),
                    format!("expected {}", fields.join(" and ")),
                )),
            }
        };
        match dist.distribution.as_str() {
            "constant" => {
                let (p, s) = field("value", &dist.value)?;
                let v = read(&p, &s)?;
                if positive {
                    must_be_positive(&p, &s, v)?;
                }
                Ok(Shape::Constant(v))
            }
            "exponential" => {
                let (p, s) = field("mean", &dist.mean)?;
                let mean = must_be_positive(&p, &s, read(&p, &s)?)?;
                Ok(Shape::Exponential(mean))
            }
            "lognormal" => {
                let (pm, sm) = field("mean", &dist.mean)?;
                let (pp, sp) = field("p99", &dist.p99)?;
                let mean = must_be_positive(&pm, &sm, read(&pm, &sm)?)?;
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
            _ => {
                let (pmin, smin) = field("min", &dist.min)?;
                let (pmax, smax) = field("max", &dist.max)?;
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
                    must_be_positive(&pmax, &smax, max)?;
                }
                Ok(Shape::Uniform(min, max))
            }
        }
    }
}

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
