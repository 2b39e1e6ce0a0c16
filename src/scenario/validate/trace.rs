//! `load.arrivals.trace`: the keys, and the file itself, read in full once (`scenario::trace`).

use crate::scenario::error::Error;
use crate::scenario::schema::TraceFile;
use crate::scenario::trace::{Scan, scan};
use crate::units::SimDuration;
use crate::workload::spec::{Trace, TraceCost, TraceKind};

use super::Cx;

/// The trace formats, as the file spells them.
const FORMATS: [(&str, TraceKind); 2] = [
    ("requests", TraceKind::Requests),
    ("rates", TraceKind::Rates),
];

/// A validated trace, and the mean of its value (tokens, seconds or rate) per row.
#[derive(Debug)]
pub(super) struct TraceInfo {
    pub(super) trace: Trace,
    pub(super) mean_value: f64,
    /// The mean arrival rate it offers over one period, in requests per simulated second.
    pub(super) mean_rate_per_s: f64,
}

impl Cx<'_> {
    /// `load.arrivals.trace` at `path`: its keys, then every row of its file.
    pub(super) fn trace(&self, path: &str, t: &TraceFile) -> Result<TraceInfo, Error> {
        let kind = match &t.format {
            Some(name) => self.one_of(&format!("{path}.format"), "trace format", name, &FORMATS)?,
            None => TraceKind::Requests,
        };
        let (time_column, value_columns, cost) = self.trace_columns(path, t, kind)?;
        let start = self.optional_duration(
            &format!("{path}.start"),
            t.start.as_ref(),
            SimDuration::ZERO,
        )?;
        let scale = |key: &str, s: Option<&crate::scenario::schema::Scalar>| match s {
            Some(s) => self.positive_count(&format!("{path}.{key}"), s),
            None => Ok(1.0),
        };
        let time_scale = scale("time_scale", t.time_scale.as_ref())?;
        let rate_scale = scale("rate_scale", t.rate_scale.as_ref())?;
        if rate_scale > 1_000.0 {
            return Err(self.invalid(
                &format!("{path}.rate_scale"),
                format!("\"{rate_scale}\" is more than 1000"),
                "expected a traffic multiplier in (0, 1000]",
            ));
        }
        let file = self.resolve(&t.file);
        let found = match scan(&file, &time_column, &value_columns) {
            Err(problem) => {
                return Err(self.invalid(
                    &format!("{path}.file"),
                    format!("\"{}\": {problem}", file.display()),
                    "expected a CSV (or .csv.gz) file, relative to the scenario file, with a \
                     header naming its columns",
                ));
            }
            Ok(result) => result?,
        };
        let looped = t.looped.unwrap_or(false);
        let period_ns = self.trace_period(path, &found, kind, looped)?;
        let rows = found.rows as f64;
        let mean_value = found.value_sum / rows;
        let per_period = match kind {
            TraceKind::Requests => rows,
            TraceKind::Rates => mean_value * period_ns as f64 / 1e9,
        };
        Ok(TraceInfo {
            trace: Trace {
                file,
                kind,
                cost,
                time_column,
                value_columns,
                start,
                time_scale,
                rate_scale,
                looped,
                period_ns,
            },
            mean_value,
            mean_rate_per_s: per_period * rate_scale * time_scale / (period_ns.max(1) as f64 / 1e9),
        })
    }

    /// The time column, the value columns and what they mean, checked against the format.
    fn trace_columns(
        &self,
        path: &str,
        t: &TraceFile,
        kind: TraceKind,
    ) -> Result<(String, Vec<String>, TraceCost), Error> {
        let wrong = |key: &str, why: &str| {
            Err(self.invalid(&format!("{path}.{key}"), why.to_string(), match kind {
                TraceKind::Requests => "expected at most one of tokens_columns and service_time_column, and no rate_column (it belongs to format: rates)",
                TraceKind::Rates => "expected time_column and rate_column only: a rate series carries no per-request cost",
            }))
        };
        match kind {
            TraceKind::Rates => {
                if t.tokens_columns.is_some() {
                    return wrong("tokens_columns", "a rate series has no per-request tokens");
                }
                if t.service_time_column.is_some() {
                    return wrong(
                        "service_time_column",
                        "a rate series has no per-request service time",
                    );
                }
                let time = t.time_column.clone().unwrap_or_else(|| "time".to_string());
                let rate = t.rate_column.clone().unwrap_or_else(|| "rate".to_string());
                Ok((time, vec![rate], TraceCost::Drawn))
            }
            TraceKind::Requests => {
                if t.rate_column.is_some() {
                    return wrong("rate_column", "a request trace has no rate column");
                }
                let Some(time) = t.time_column.clone() else {
                    return Err(self.invalid(
                        &format!("{path}.time_column"),
                        "a request trace needs \"time_column\"",
                        "expected the name of the column holding each request's time",
                    ));
                };
                match (&t.tokens_columns, &t.service_time_column) {
                    (Some(_), Some(_)) => wrong(
                        "service_time_column",
                        "both tokens_columns and service_time_column are given",
                    ),
                    (Some(columns), None) if columns.is_empty() => {
                        wrong("tokens_columns", "the list of columns is empty")
                    }
                    (Some(columns), None) => Ok((time, columns.clone(), TraceCost::Tokens)),
                    (None, Some(column)) => {
                        Ok((time, vec![column.clone()], TraceCost::ServiceTimeS))
                    }
                    (None, None) => Ok((time, Vec::new(), TraceCost::Drawn)),
                }
            }
        }
    }

    /// The trace's period: its last row's time plus the mean gap between rows. A rate series
    /// needs two rows (its last step lasts the mean step), and a loop a period above zero.
    fn trace_period(
        &self,
        path: &str,
        found: &Scan,
        kind: TraceKind,
        looped: bool,
    ) -> Result<u64, Error> {
        let spread = found.last_ns - found.first_ns;
        let needs_span = looped || kind == TraceKind::Rates;
        if found.rows == 0 || (needs_span && (found.rows < 2 || spread == 0)) {
            let what = if found.rows == 0 {
                "the trace has no rows"
            } else {
                "the trace's rows are all at one instant"
            };
            return Err(self.invalid(
                &format!("{path}.file"),
                what,
                "expected at least one row, and for a rate series or a loop rows at two \
                 different times or more",
            ));
        }
        let mean_gap = if found.rows > 1 {
            spread / (found.rows - 1)
        } else {
            0
        };
        Ok(found.last_ns + mean_gap)
    }
}
