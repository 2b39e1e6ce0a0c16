//! A run's time series in OpenMetrics text, with timestamps, for Prometheus and Grafana.
//!
//! Use `from_timeseries` to turn a `timeseries.csv` into the text `capsim run --openmetrics`
//! writes, ready for `promtool tsdb create-blocks-from openmetrics FILE DIR`. Each column becomes
//! a metric family named `capsim_<owner>_<column>` with the owner as a label
//! (`capsim_service_latency_p99_ms{scenario="ai-infra",service="vector-store"}`), an HPA metric
//! `capsim_hpa_metric_value{service=…,metric=…}`, and the cumulative cost the counter
//! `capsim_cost_usd_total`. Simulated time `t` is stamped `start + t` (Unix seconds), so a run can
//! be laid on a real time axis; an empty cell (a value that does not exist in that interval) is
//! no sample. The families are in the file's column order, each series' samples in time order, as
//! OpenMetrics requires.

use std::fmt::Write as _;
use std::path::Path;

use crate::report::csv::CsvFile;
use crate::report::files::{ReadError, read_text};
use crate::report::timeseries::{ColumnKind, Layout};

/// What every series of a run is labelled with, so that several runs can share one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLabels {
    /// The scenario's name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
}

/// One metric family being assembled: its name, type, help, and the columns that are its
/// series (with each series' own labels).
struct Family {
    name: String,
    counter: bool,
    help: String,
    series: Vec<(usize, Vec<(&'static str, String)>)>,
}

/// The OpenMetrics text of the `timeseries.csv` at `path`, each sample stamped
/// `start_unix_s` plus its simulated time.
///
/// # Errors
/// The file cannot be read, is not a time series capsim wrote, or holds a cell that is not a
/// number (named by line and column).
pub fn from_timeseries(
    path: &Path,
    labels: &RunLabels,
    start_unix_s: i64,
) -> Result<String, ReadError> {
    let file = CsvFile::parse(path, &read_text(path)?)?;
    let layout = Layout::from_columns(&file.header).map_err(|message| ReadError::Csv {
        path: path.to_path_buf(),
        line: 1,
        message,
    })?;
    let times = sample_times(&file, start_unix_s)?;
    let families = families(&layout, &file.header, labels);
    let mut out = String::new();
    for family in &families {
        let kind = if family.counter { "counter" } else { "gauge" };
        let _ = writeln!(out, "# TYPE {} {kind}", family.name);
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let sample = if family.counter {
            format!("{}_total", family.name)
        } else {
            family.name.clone()
        };
        for (column, series_labels) in &family.series {
            let label_text = label_set(series_labels);
            for (row, time) in file.rows.iter().zip(&times) {
                let cell = &row.cells[*column];
                if cell.is_empty() {
                    continue;
                }
                let value: f64 = cell.parse().map_err(|_| ReadError::Csv {
                    path: path.to_path_buf(),
                    line: row.line,
                    message: format!("column {}: {cell:?} is not a number", file.header[*column]),
                })?;
                if value.is_finite() {
                    let _ = writeln!(out, "{sample}{label_text} {cell} {time}");
                }
            }
        }
    }
    out.push_str("# EOF\n");
    Ok(out)
}

/// Each row's timestamp, `start_unix_s` plus its `time_s`, written exactly to the microsecond.
fn sample_times(file: &CsvFile, start_unix_s: i64) -> Result<Vec<String>, ReadError> {
    let start_us = i128::from(start_unix_s) * 1_000_000;
    file.rows
        .iter()
        .map(|row| {
            let seconds: f64 = row.cells[0].parse().map_err(|_| ReadError::Csv {
                path: file.path.clone(),
                line: row.line,
                message: "column time_s: not a number".to_string(),
            })?;
            let us = start_us + (seconds * 1e6).round() as i128;
            let (whole, micros) = (us.div_euclid(1_000_000), us.rem_euclid(1_000_000));
            Ok(if micros == 0 {
                whole.to_string()
            } else {
                let fraction = format!("{micros:06}");
                format!("{whole}.{}", fraction.trim_end_matches('0'))
            })
        })
        .collect()
}

/// The metric families of `layout`'s columns, in column order (a family first met at its first
/// column), each series labelled with the run and its owner. A column the layout knows but the
/// file's `header` lacks (a file written before the column existed) is left out.
fn families(layout: &Layout, header: &[String], run: &RunLabels) -> Vec<Family> {
    let mut families: Vec<Family> = Vec::new();
    let kinds = layout.column_kinds().into_iter().enumerate();
    for (column, kind) in kinds.filter(|(i, k)| header.get(*i) == Some(&k.column_name())) {
        let Some((name, counter, help, owner)) = describe(&kind) else {
            continue;
        };
        let mut labels = vec![
            ("scenario", run.scenario.clone()),
            ("seed", run.seed.to_string()),
        ];
        labels.extend(owner);
        match families.iter_mut().find(|f| f.name == name) {
            Some(family) => family.series.push((column, labels)),
            None => families.push(Family {
                name,
                counter,
                help,
                series: vec![(column, labels)],
            }),
        }
    }
    families
}

/// A column's family name, whether it is a counter, its help text and its owner's labels;
/// `None` for the time column.
#[allow(clippy::type_complexity)]
fn describe(kind: &ColumnKind<'_>) -> Option<(String, bool, String, Vec<(&'static str, String)>)> {
    let (name, owner): (String, Vec<(&'static str, String)>) = match *kind {
        ColumnKind::Time => return None,
        ColumnKind::Service { service, name } => (
            format!("capsim_service_{name}"),
            vec![("service", service.to_string())],
        ),
        ColumnKind::HpaMetric { service, metric } => (
            "capsim_hpa_metric_value".to_string(),
            vec![
                ("service", service.to_string()),
                ("metric", metric.to_string()),
            ],
        ),
        ColumnKind::Job { job, name } => {
            (format!("capsim_job_{name}"), vec![("job", job.to_string())])
        }
        ColumnKind::Pool { pool, name } => (
            format!("capsim_pool_{name}"),
            vec![("pool", pool.to_string())],
        ),
        ColumnKind::Run { name } => (format!("capsim_{name}"), Vec::new()),
    };
    // OpenMetrics counters are named without `_total`, which each sample then carries.
    let (name, counter) = match name.strip_suffix("_cumulative") {
        Some(base) => (base.to_string(), true),
        None => (name, false),
    };
    let help = help(kind);
    Some((name, counter, help, owner))
}

/// What a column measures, in the words of `timeseries`' own documentation.
fn help(kind: &ColumnKind<'_>) -> String {
    let column = match *kind {
        ColumnKind::Service { name, .. }
        | ColumnKind::Job { name, .. }
        | ColumnKind::Pool { name, .. }
        | ColumnKind::Run { name } => name,
        ColumnKind::HpaMetric { .. } => {
            return "The value of an HPA metric as the HPA last saw it.".to_string();
        }
        ColumnKind::Time => "time_s",
    };
    let text = match column {
        "arrivals_per_s" => "Requests that arrived, per second of the interval.",
        "completed" => "Requests that completed in the interval.",
        "rejected" => "Requests refused (queue full or no Ready pod) in the interval.",
        "timed_out" => "Requests dropped after waiting past the timeout in the interval.",
        "oom_killed" => "Requests failed in the interval because their container was OOM-killed.",
        "ready_replicas" => "Ready pods at the end of the interval.",
        "desired_replicas" => "Desired replicas (the Deployment's spec.replicas).",
        "pending_pods" => "Pods not yet bound to a node at the end of the interval.",
        "latency_p50_ms" => "Median latency of requests completed in the interval, in ms.",
        "latency_p99_ms" => "99th-percentile latency of requests completed in the interval, in ms.",
        "cpu_used_cores" => "Average CPU used over the interval, in cores.",
        "cpu_requested_cores" => {
            "CPU requested by bound pods at the end of the interval, in cores."
        }
        "running_pods" => "Job pods running their containers at the end of the interval.",
        "completed_pods" => "Job pods that ran to completion in the interval.",
        "nodes" => "Nodes billed (provisioning or registered).",
        "nodes_ready" => "Nodes registered and Ready.",
        "cpu_requested_pct" => "CPU requested on Ready nodes over their allocatable, in percent.",
        "cost_usd_cumulative" => "Cost of all nodes since the start of the run, in USD.",
        "cost_usd_per_hour" => "Cost rate of all nodes over the interval, in USD per hour.",
        other => return format!("The time-series column {other}."),
    };
    text.to_string()
}

/// `{a="x",b="y"}`, each value escaped as OpenMetrics requires.
fn label_set(labels: &[(&'static str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Parses the start of an OpenMetrics time axis: Unix seconds (`1764460800`) or an RFC 3339
/// UTC time (`2026-11-30T00:00:00Z`).
///
/// # Errors
/// Anything else, with what is allowed.
pub fn parse_start(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    rfc3339_utc(text).ok_or_else(|| {
        format!(
            "{text:?} is not a time; expected Unix seconds (1764460800) or a UTC time such as \
             2026-11-30T00:00:00Z"
        )
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` as Unix seconds.
fn rfc3339_utc(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':'
        && matches!(b[19], b'Z' | b'z');
    if !shape_ok {
        return None;
    }
    let field = |from: usize, to: usize| text.get(from..to)?.parse::<i64>().ok();
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second) = (field(11, 13)?, field(14, 16)?, field(17, 19)?);
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_parse_as_unix_seconds() {
        assert_eq!(parse_start("0"), Ok(0));
        assert_eq!(parse_start("1764460800"), Ok(1_764_460_800));
        assert_eq!(parse_start("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_start("2000-03-01T00:00:00Z"), Ok(951_868_800));
        assert_eq!(parse_start("2026-11-30T12:34:56Z"), Ok(1_796_042_096));
        assert_eq!(parse_start("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
    }

    #[test]
    fn impossible_start_times_are_refused() {
        for bad in [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "yesterday",
            "",
        ] {
            let error = parse_start(bad).expect_err(bad);
            assert!(error.contains("expected Unix seconds"), "{error}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let labels = [("service", "a\"b\\c\nd".to_string())];
        assert_eq!(label_set(&labels), r#"{service="a\"b\\c\nd"}"#);
    }
}
