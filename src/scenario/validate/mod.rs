//! Validation: turns the file's shape (`schema`) into the model (`model`), checking every
//! value and every cross-reference, so that nothing downstream has to.
//!
//! Each check reports a problem as an `Error` naming the YAML path, quoting the bad value and
//! saying what is allowed; a reader of several values goes on past a bad one (`keep`), so that
//! every problem of the file is reported at once. This file holds the value readers every
//! section uses (whole numbers, reals, quantities, durations; distributions are in `dist`);
//! the top level is in `top` and the sections live in the sibling files. Nothing here reads
//! files or parses YAML.

/// A name table for `Cx::one_of` over an enum whose variants Kubernetes spells exactly as they
/// are named (`Max`, `NotIn`, `NoSchedule`): each name is written once, as its variant.
macro_rules! variant_names {
    ($ty:ident: $($variant:ident),+) => {
        [$((stringify!($variant), $ty::$variant)),+]
    };
}

/// Which of a map's optional fields are given, each with its name as the file spells it
/// (`given_fields!(p: steps, points)`): the `given` list of `Cx::kind_fields`.
macro_rules! given_fields {
    ($map:ident: $($field:ident),+) => {
        [$((stringify!($field), $map.$field.is_some())),+]
    };
}

/// The pod template keys (`placement::PodTemplateFile`) of a workload's schema struct, which
/// spells them alike for services, DaemonSets and Jobs.
macro_rules! pod_template_of {
    ($file:expr) => {
        super::placement::PodTemplateFile {
            resources: $file.resources.as_ref(),
            node_selector: &$file.node_selector,
            affinity: $file.affinity.as_ref(),
            tolerations: &$file.tolerations,
        }
    };
}

/// A name table for `Cx::one_of` whose names are the ones `$spell` gives the variants of `$ty`:
/// the spelling the domain type owns and prints, so that reading and writing cannot disagree.
macro_rules! spelled {
    ($spell:expr, $ty:ident: $($variant:ident),+) => {
        [$(($spell($ty::$variant), $ty::$variant)),+]
    };
}

mod autoscaling;
mod cluster_autoscaler;
mod daemonsets;
mod dist;
mod extended;
mod hpa_metrics;
mod jobs;
mod limits;
mod load;
mod monitoring;
mod outages;
mod placement;
mod pod_rules;
mod pools;
mod service_parts;
mod services;
mod sweep;
mod top;
mod zones;

pub(crate) use top::scenario;
#[cfg(test)]
mod tests;
mod trace;

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use crate::scenario::error::{self, Error, Problem};
use crate::scenario::quantity;
use crate::scenario::schema::{NamedMap, Scalar};
use crate::units::{Bytes, Millicores, SimDuration};

/// Keeps the value of `result`, or its error(s) in `errors`: the way every reader here goes on
/// past a bad value to report the next.
fn keep<T>(errors: &mut Vec<Error>, result: Result<T, Error>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Error::Many(more)) => {
            errors.extend(more);
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// `Ok` when `errors` is empty, else all of them.
fn none_of(errors: Vec<Error>) -> Result<(), Error> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(error::all(errors))
    }
}

/// A top-level map that needs at least one entry, and what to say when it has none.
struct Required {
    path: &'static str,
    none: &'static str,
    expected: &'static str,
}

const NODE_POOLS: Required = Required {
    path: "node_pools",
    none: "no node pool is given",
    expected: "expected at least one pool, as `node_pools: {name: {machine_type: ...}}`",
};

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

/// Whether `name` is non-empty and made of letters, digits, '-', '_' and '.' only: a name
/// that can be a folder name or a label value.
fn name_chars(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Reads every item of a list with `read`, each at `{path}[i]`, reporting every bad one.
fn each<T, U>(
    path: &str,
    items: &[T],
    read: impl Fn(&str, &T) -> Result<U, Error>,
) -> Result<Vec<U>, Error> {
    let mut errors = Vec::new();
    let read: Vec<Option<U>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| keep(&mut errors, read(&format!("{path}[{i}]"), item)))
        .collect();
    none_of(errors)?;
    Ok(read.into_iter().flatten().collect())
}

/// Reads the optional field `field` of the section at `path` with `read`, at `{path}.{field}`.
fn optional<S: ?Sized, T>(
    path: &str,
    field: &str,
    value: Option<&S>,
    read: impl FnOnce(&str, &S) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    value
        .map(|v| read(&format!("{path}.{field}"), v))
        .transpose()
}

/// How messages speak of a map that one of its fields names the kind of (rate profiles, cost
/// models, distributions), for `Cx::kind_fields`.
struct Tag {
    /// The field that names the kind.
    field: &'static str,
    /// What a kind is called, as in "does not apply to profile type steps".
    what: &'static str,
    /// Joins the fields a kind takes, as in "expected only min and max".
    join: &'static str,
}

impl Tag {
    /// A map whose `type` names its kind, called `what`; lists of fields are comma-separated.
    const fn by_type(what: &'static str) -> Tag {
        Tag {
            field: "type",
            what,
            join: ", ",
        }
    }
}

/// Validation context: the file name, and readers that attach it and the path to errors.
pub(crate) struct Cx<'a> {
    origin: &'a str,
    /// The scenario file's folder and its bases', against which the file paths it names are
    /// resolved.
    dirs: &'a [PathBuf],
    /// Extended resource names in the order the file first names them: index `i` is the
    /// resource at index `i` of `units::ExtendedResources`.
    extended: RefCell<Vec<String>>,
    /// What the user should hear about though nothing is wrong, one line each.
    warnings: RefCell<Vec<String>>,
    /// Whether some node pool or DaemonSet was bad, so that whether a pod fits a pool cannot
    /// be judged.
    pools_incomplete: Cell<bool>,
}

impl Cx<'_> {
    /// A file the scenario names: as is when absolute, else in the first of the scenario's
    /// folders that holds it (the first when none does, for the error to name).
    fn resolve(&self, file: &str) -> PathBuf {
        let candidates = self.dirs.iter().map(|d| d.join(file));
        let mut first = None;
        for candidate in candidates {
            if candidate.exists() {
                return candidate;
            }
            first.get_or_insert(candidate);
        }
        first.unwrap_or_else(|| Path::new(file).to_path_buf())
    }

    /// Records a warning for the user.
    fn warn(&self, warning: String) {
        self.warnings.borrow_mut().push(warning);
    }

    /// An `Invalid` error at `path`.
    fn invalid(&self, path: &str, what: impl Into<String>, allowed: impl Into<String>) -> Error {
        Problem::new(what, allowed).at(self.origin, path)
    }

    /// An `UnknownName` error at `path`.
    fn unknown(&self, path: &str, kind: &str, name: &str, allowed: &[&str]) -> Error {
        error::unknown_name(self.origin, path, kind, name, allowed)
    }

    /// The value `name` stands for in `table`, pairs of a name as the file spells it and its
    /// value; an unknown name is an `UnknownName` error (`kind` says what it names) listing the
    /// table's names in order.
    fn one_of<T: Copy>(
        &self,
        path: &str,
        kind: &str,
        name: &str,
        table: &[(&str, T)],
    ) -> Result<T, Error> {
        match table.iter().find(|(n, _)| *n == name) {
            Some(&(_, value)) => Ok(value),
            None => {
                let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
                Err(self.unknown(path, kind, name, &names))
            }
        }
    }

    /// Checks the `kind` of a map tagged as `tag` says against `kinds` (each kind's name with
    /// the fields it takes), then rejects the fields in `given` that the kind does not take.
    /// Returns the kind's fields.
    fn kind_fields(
        &self,
        path: &str,
        tag: &Tag,
        kind: &str,
        kinds: &[(&str, &'static [&'static str])],
        given: &[(&str, bool)],
    ) -> Result<&'static [&'static str], Error> {
        let Some(&(_, fields)) = kinds.iter().find(|(name, _)| *name == kind) else {
            let names: Vec<&str> = kinds.iter().map(|(name, _)| *name).collect();
            return Err(self.unknown(&format!("{path}.{}", tag.field), tag.what, kind, &names));
        };
        for &(field, present) in given {
            if present && !fields.contains(&field) {
                let allowed = if fields.is_empty() {
                    "expected no other field".to_string()
                } else {
                    format!("expected only {}", fields.join(tag.join))
                };
                return Err(self.invalid(
                    &format!("{path}.{field}"),
                    format!("\"{field}\" does not apply to {} {kind}", tag.what),
                    allowed,
                ));
            }
        }
        Ok(fields)
    }

    /// Reads every entry of a top-level map that may not be empty, reporting every bad one.
    fn entries<T, U>(
        &self,
        section: &Required,
        map: &NamedMap<T>,
        read: impl Fn(&str, &T) -> Result<U, Error>,
    ) -> Result<Vec<U>, Error> {
        if map.0.is_empty() {
            return Err(self.invalid(section.path, section.none, section.expected));
        }
        let mut errors = Vec::new();
        let read: Vec<Option<U>> = map
            .0
            .iter()
            .map(|(name, entry)| keep(&mut errors, read(name, entry)))
            .collect();
        none_of(errors)?;
        Ok(read.into_iter().flatten().collect())
    }

    /// The scenario name, usable as a folder name.
    fn name(&self, name: &str) -> Result<String, Error> {
        let ok = name != "." && name != ".." && name_chars(name);
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

    /// A control loop's period, at least `floor`: `why` says what makes a shorter one pointless
    /// (it would cost a run its time and change no decision).
    fn period_at_least(
        &self,
        path: &str,
        s: Option<&Scalar>,
        default: SimDuration,
        floor: SimDuration,
        why: &str,
    ) -> Result<SimDuration, Error> {
        let Some(s) = s else { return Ok(default) };
        let d = self.duration(path, s)?;
        if d < floor {
            return Err(self.invalid(
                path,
                format!("\"{}\" is shorter than {floor}", s.text()),
                format!("expected a period of at least {floor}: {why}"),
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
}
