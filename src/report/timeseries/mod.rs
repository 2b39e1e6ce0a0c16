//! The per-interval time series: one row per `resolution` of simulated time, and its file,
//! `timeseries.csv`.
//!
//! Use `IntervalRow` as the simulation hands it to an `Observer`, `csv_header` / `csv_line` to
//! write it, and `TimeSeries::read` to read the file back into the same rows. The columns are
//! `time_s`, then for each service its `SERVICE` columns (`<service>.arrivals_per_s`, …) and its
//! HPA metrics (`<service>.hpa.<metric>`), then for each Job its `JOB` columns
//! (`<job>.running_pods`, …), then for each pool its `POOL` columns
//! (`<pool>.nodes`, …), then `cost_usd_cumulative` and `cost_usd_per_hour`: each column is
//! declared once, below, with how its cell is written and read, so adding one is one edit.

use std::fmt::{Display, Write as _};
use std::str::FromStr;

mod read;

pub use read::TimeSeries;

/// One service's figures over one interval.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceInterval {
    /// Requests that arrived, per second of the interval.
    pub arrivals_per_s: f64,
    /// Requests that completed in the interval.
    pub completed: u64,
    /// Requests refused (queue full or no Ready pod) in the interval.
    pub rejected: u64,
    /// Requests dropped after waiting past the timeout in the interval.
    pub timed_out: u64,
    /// Requests that failed in the interval because their pod's container was OOM-killed.
    pub oom_killed: u64,
    /// Ready pods at the end of the interval.
    pub ready: u32,
    /// Desired replicas (the Deployment's `spec.replicas`) at the end of the interval.
    pub desired: u32,
    /// Pods not yet bound to a node at the end of the interval.
    pub pending: u32,
    /// Median latency of requests completed in the interval, in ms; none (an empty cell) when
    /// none completed.
    pub latency_p50_ms: Option<f64>,
    /// 99th-percentile latency of requests completed in the interval, in ms; none (an empty
    /// cell) when none completed.
    pub latency_p99_ms: Option<f64>,
    /// Average CPU the service's pods used over the interval, in cores.
    pub cpu_used_cores: f64,
    /// CPU requested by the service's bound pods at the end of the interval, in cores.
    pub cpu_requested_cores: f64,
    /// The value of each of the service's HPA metrics as the HPA last saw it (in the order of
    /// the spec's metrics); NaN before the first sync or when the metric was unavailable.
    pub hpa_metrics: Vec<f64>,
}

/// One Job's pods over one interval.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobInterval {
    /// Pods running their containers at the end of the interval.
    pub running: u32,
    /// Pods waiting for a node at the end of the interval.
    pub pending: u32,
    /// Pods that ran to completion in the interval.
    pub completed: u64,
    /// CPU requested by the Job's bound pods at the end of the interval, in cores.
    pub cpu_requested_cores: f64,
}

/// One node pool's figures at the end of an interval.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PoolInterval {
    /// Nodes billed (provisioning or registered).
    pub nodes: u32,
    /// Nodes registered and Ready.
    pub nodes_ready: u32,
    /// CPU requested by pods on the Ready nodes over their allocatable, in percent.
    pub cpu_requested_pct: f64,
}

/// One row of the time series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntervalRow {
    /// End of the interval, in simulated seconds.
    pub time_s: f64,
    /// Length of the interval in seconds (the last one may be shorter).
    pub width_s: f64,
    /// Per service, in scenario order.
    pub services: Vec<ServiceInterval>,
    /// Per Job, in scenario order.
    pub jobs: Vec<JobInterval>,
    /// Per pool, in scenario order.
    pub pools: Vec<PoolInterval>,
    /// Cost of all nodes from the start of the run to the end of the interval, in USD.
    pub cost_usd_cumulative: f64,
    /// Cost rate of all nodes over the interval, USD per hour: what the interval's billed
    /// node-time cost over its width, from unrounded figures (the difference of two rounded
    /// cumulative costs wobbles). NaN when read from a file written without the column.
    pub cost_usd_per_hour: f64,
}

/// The first column: end of the interval, in simulated seconds.
pub const TIME_COLUMN: &str = "time_s";
/// The column after the pools': cost of all nodes from the start of the run, in USD.
pub const COST_COLUMN: &str = "cost_usd_cumulative";
/// The last column: cost rate of all nodes over the interval, USD per hour (absent from files
/// written before capsim wrote it).
pub const COST_RATE_COLUMN: &str = "cost_usd_per_hour";
/// The infix of a service's HPA metric columns: `<service>.hpa.<metric>`.
const HPA: &str = "hpa";

/// One column of a service's or a pool's group: its name after `<owner>.`, and how its cell is
/// written (with its leading comma) and read back into the record.
struct Column<R> {
    name: &'static str,
    write: fn(&R, &mut String),
    /// On a cell that does not parse, says what it must be.
    read: fn(&mut R, &str) -> Result<(), &'static str>,
}

/// A `Column` of the record's field `$field`, named `$name`, its cell written with `whole` or
/// with `real` to `$digits` decimals, and read back with `parse`; or, after `optional`, an
/// `Option<f64>` field written with `real_or_empty` and read back with `parse_optional`, so
/// that a value that does not exist is an empty cell both ways.
macro_rules! column {
    ($name:literal, $field:ident, optional($digits:literal)) => {
        Column {
            name: $name,
            write: |r, out| real_or_empty(out, r.$field, $digits),
            read: |r, cell| parse_optional(&mut r.$field, cell),
        }
    };
    ($name:literal, $field:ident, $write:ident $(($digits:literal))?) => {
        Column {
            name: $name,
            write: |r, out| $write(out, r.$field $(, $digits)?),
            read: |r, cell| parse(&mut r.$field, cell),
        }
    };
}

/// The columns of each service, in file order.
const SERVICE: [Column<ServiceInterval>; 12] = [
    column!("arrivals_per_s", arrivals_per_s, real(3)),
    column!("completed", completed, whole),
    column!("rejected", rejected, whole),
    column!("timed_out", timed_out, whole),
    column!("oom_killed", oom_killed, whole),
    column!("ready_replicas", ready, whole),
    column!("desired_replicas", desired, whole),
    column!("pending_pods", pending, whole),
    column!("latency_p50_ms", latency_p50_ms, optional(3)),
    column!("latency_p99_ms", latency_p99_ms, optional(3)),
    column!("cpu_used_cores", cpu_used_cores, real(3)),
    column!("cpu_requested_cores", cpu_requested_cores, real(3)),
];

/// The columns of each Job, in file order.
const JOB: [Column<JobInterval>; 4] = [
    column!("running_pods", running, whole),
    column!("pending_pods", pending, whole),
    column!("completed_pods", completed, whole),
    column!("cpu_requested_cores", cpu_requested_cores, real(3)),
];

/// The columns of each pool, in file order.
const POOL: [Column<PoolInterval>; 3] = [
    column!("nodes", nodes, whole),
    column!("nodes_ready", nodes_ready, whole),
    column!("cpu_requested_pct", cpu_requested_pct, real(2)),
];

/// Decimals written for the time, the HPA metrics and the cost (cumulative and rate).
const TIME_DIGITS: i32 = 6;
const HPA_DIGITS: i32 = 3;
const COST_DIGITS: i32 = 4;

fn real(out: &mut String, x: f64, digits: i32) {
    let _ = write!(out, ",{}", round(x, digits));
}

/// `x` to `digits` decimals, or an empty cell when there is no value.
fn real_or_empty(out: &mut String, x: Option<f64>, digits: i32) {
    match x {
        Some(x) => real(out, x, digits),
        None => out.push(','),
    }
}

fn whole(out: &mut String, x: impl Display) {
    let _ = write!(out, ",{x}");
}

/// Parses `cell` into `field`; on failure says what the cell must be.
fn parse<T: FromStr + Cellular>(field: &mut T, cell: &str) -> Result<(), &'static str> {
    *field = cell.parse().map_err(|_| T::EXPECTED)?;
    Ok(())
}

/// Parses `cell` into `field`: an empty cell is no value; otherwise it must be a number.
fn parse_optional(field: &mut Option<f64>, cell: &str) -> Result<(), &'static str> {
    *field = if cell.is_empty() {
        None
    } else {
        Some(cell.parse().map_err(|_| "a number or nothing")?)
    };
    Ok(())
}

/// What a cell of a type must hold, for error messages.
trait Cellular {
    const EXPECTED: &'static str;
}

impl Cellular for f64 {
    const EXPECTED: &'static str = "a number";
}

impl Cellular for u64 {
    const EXPECTED: &'static str = "a whole number";
}

impl Cellular for u32 {
    const EXPECTED: &'static str = "a whole number";
}

/// The columns of a run's time series: each service with the names of its HPA metrics, each
/// Job, and each pool.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Service name and its HPA metric column names (`MetricSpec::column_name`), in order.
    pub services: Vec<(String, Vec<String>)>,
    /// Job names.
    pub jobs: Vec<String>,
    /// Pool names.
    pub pools: Vec<String>,
}

/// What one column of the time series holds and whose it is, as the header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind<'a> {
    /// `time_s`: the end of the interval, in simulated seconds.
    Time,
    /// `<service>.<name>`: one of a service's figures.
    Service {
        /// The service.
        service: &'a str,
        /// The figure (`latency_p99_ms`).
        name: &'static str,
    },
    /// `<service>.hpa.<metric>`: the value of one of a service's HPA metrics.
    HpaMetric {
        /// The service.
        service: &'a str,
        /// The metric's column name (`cpu_utilization_pct`).
        metric: &'a str,
    },
    /// `<job>.<name>`: one of a Job's figures.
    Job {
        /// The Job.
        job: &'a str,
        /// The figure (`running_pods`).
        name: &'static str,
    },
    /// `<pool>.<name>`: one of a node pool's figures.
    Pool {
        /// The pool.
        pool: &'a str,
        /// The figure (`nodes`).
        name: &'static str,
    },
    /// A figure of the whole run (`cost_usd_cumulative`).
    Run {
        /// The column name.
        name: &'static str,
    },
}

impl ColumnKind<'_> {
    /// The column's name in the header.
    pub fn column_name(&self) -> String {
        match *self {
            ColumnKind::Time => TIME_COLUMN.to_string(),
            ColumnKind::Service { service, name } => format!("{service}.{name}"),
            ColumnKind::HpaMetric { service, metric } => format!("{service}.{HPA}.{metric}"),
            ColumnKind::Job { job, name } => format!("{job}.{name}"),
            ColumnKind::Pool { pool, name } => format!("{pool}.{name}"),
            ColumnKind::Run { name } => name.to_string(),
        }
    }
}

impl Layout {
    /// Every column, in file order, with what it holds.
    pub fn column_kinds(&self) -> Vec<ColumnKind<'_>> {
        let mut kinds = vec![ColumnKind::Time];
        for (service, hpa_metrics) in &self.services {
            kinds.extend(SERVICE.iter().map(|c| ColumnKind::Service {
                service,
                name: c.name,
            }));
            kinds.extend(
                hpa_metrics
                    .iter()
                    .map(|metric| ColumnKind::HpaMetric { service, metric }),
            );
        }
        for job in &self.jobs {
            kinds.extend(JOB.iter().map(|c| ColumnKind::Job { job, name: c.name }));
        }
        for pool in &self.pools {
            kinds.extend(POOL.iter().map(|c| ColumnKind::Pool { pool, name: c.name }));
        }
        kinds.push(ColumnKind::Run { name: COST_COLUMN });
        kinds.push(ColumnKind::Run {
            name: COST_RATE_COLUMN,
        });
        kinds
    }

    /// Every column name, in file order.
    pub fn columns(&self) -> Vec<String> {
        self.column_kinds()
            .iter()
            .map(ColumnKind::column_name)
            .collect()
    }
}

/// The CSV header line (with its newline) for a layout.
pub fn csv_header(layout: &Layout) -> String {
    let mut line = layout.columns().join(",");
    line.push('\n');
    line
}

/// One CSV line (with its newline) for `row`, appended to `out`.
pub fn csv_line(row: &IntervalRow, out: &mut String) {
    let _ = write!(out, "{}", round(row.time_s, TIME_DIGITS));
    for s in &row.services {
        for column in &SERVICE {
            (column.write)(s, out);
        }
        for &value in &s.hpa_metrics {
            // An empty cell where the HPA had no value.
            if value.is_finite() {
                real(out, value, HPA_DIGITS);
            } else {
                out.push(',');
            }
        }
    }
    for j in &row.jobs {
        for column in &JOB {
            (column.write)(j, out);
        }
    }
    for p in &row.pools {
        for column in &POOL {
            (column.write)(p, out);
        }
    }
    real(out, row.cost_usd_cumulative, COST_DIGITS);
    real(out, row.cost_usd_per_hour, COST_DIGITS);
    out.push('\n');
}

/// `x` rounded to `digits` decimals, for outputs people read. Deterministic for equal inputs.
pub fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    let r = (x * scale).round() / scale;
    if r == 0.0 { 0.0 } else { r }
}

#[cfg(test)]
mod tests;
