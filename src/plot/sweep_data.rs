//! A sweep folder's files as the tables the sweep charts draw: `sweep.json` (what was swept)
//! and `points.csv` (one row per grid point: parameter values, then each metric's mean and 95%
//! confidence interval over replications).
//!
//! Use `SweepData::load` on a sweep folder; the files are read through `report::sweep_files`'
//! record types. The parameters of `points.csv` must be those of `sweep.json`, in the same
//! order. A parameter whose values are all numbers is numeric; otherwise its values are
//! categories in order of first appearance. This file does no drawing.

use std::path::Path;

use crate::plot::PlotError;
use crate::report::ReadError;
use crate::report::files::{POINTS_CSV, SWEEP_JSON};
use crate::report::metrics::{
    latency_p99_service, service_requests_arrived, service_requests_failed,
    service_slo_max_failed_fraction,
};
use crate::report::sweep_files::{Interval, PointRow, PointsTable, SweepInfo};

/// A sweep's points.
#[derive(Debug, Clone)]
pub(crate) struct SweepData {
    /// Scenario name.
    pub(crate) scenario: String,
    /// Runs per point.
    pub(crate) replications: u64,
    /// Swept parameters, in grid order.
    pub(crate) params: Vec<Param>,
    /// Metrics, in column order.
    pub(crate) metrics: Vec<Metric>,
    /// p99 objective per service, ms, for the services that have one.
    pub(crate) slo_p99_ms: Vec<(String, f64)>,
    /// Number of points (rows).
    pub(crate) points: usize,
}

/// One swept parameter.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    /// Its dotted path in the scenario.
    pub(crate) path: String,
    /// A short name for labels and file names: the path's last segment (more segments when
    /// two parameters would share it).
    pub(crate) short: String,
    /// Its value at each point, as written.
    pub(crate) cells: Vec<String>,
    /// Its value at each point as a number, when every value is one.
    pub(crate) numbers: Option<Vec<f64>>,
    /// Its distinct values: ascending when numeric, in first-appearance order otherwise.
    pub(crate) levels: Vec<String>,
}

/// One metric: mean and 95% confidence interval at each point; NaN where a cell is empty.
#[derive(Debug, Clone)]
pub(crate) struct Metric {
    /// Dotted summary path, such as `cost.total_usd`.
    pub(crate) name: String,
    /// Mean over replications.
    pub(crate) mean: Vec<f64>,
    /// Lower end of the interval.
    pub(crate) ci_low: Vec<f64>,
    /// Upper end of the interval.
    pub(crate) ci_high: Vec<f64>,
}

/// The lower ends of a metric's intervals as charts draw them: a quantity whose every mean is at
/// least zero (a cost, a latency, a count) cannot be negative, so a Student-t interval that
/// reaches below zero (few replications, a wide spread) is drawn from zero. `points.csv` keeps
/// the interval as computed.
fn floor_at_zero(mean: &[f64], mut ci_low: Vec<f64>) -> Vec<f64> {
    if mean.iter().filter(|m| m.is_finite()).all(|m| *m >= 0.0) {
        for low in &mut ci_low {
            if *low < 0.0 {
                *low = 0.0;
            }
        }
    }
    ci_low
}

impl Param {
    /// The index in `levels` of the value at `point`.
    pub(crate) fn level(&self, point: usize) -> usize {
        let cell = &self.cells[point];
        self.levels.iter().position(|l| l == cell).unwrap_or(0)
    }

    /// `short=value` at `point`.
    pub(crate) fn label(&self, point: usize) -> String {
        format!("{}={}", self.short, self.cells[point])
    }
}

impl SweepData {
    /// Reads `dir/sweep.json` and `dir/points.csv`.
    ///
    /// # Errors
    /// A missing or malformed file, a `points.csv` without rows or whose parameters differ from
    /// `sweep.json`'s, or an SLO that is not a positive number.
    pub(crate) fn load(dir: &Path) -> Result<SweepData, PlotError> {
        let json_path = dir.join(SWEEP_JSON);
        let info = SweepInfo::read(&json_path)?;
        let mut slo_p99_ms = Vec::new();
        for (service, &ms) in &info.slo_p99_ms {
            if !(ms.is_finite() && ms > 0.0) {
                return Err(ReadError::Json {
                    path: json_path,
                    message: format!(
                        "slo_p99_ms.{service}: expected a positive number, found {ms}"
                    ),
                }
                .into());
            }
            slo_p99_ms.push((service.clone(), ms));
        }

        let csv_path = dir.join(POINTS_CSV);
        let table = PointsTable::read(&csv_path)?;
        let csv_error = |message: String| ReadError::Csv {
            path: csv_path.clone(),
            line: 1,
            message,
        };
        if table.parameters != info.parameters {
            return Err(csv_error(format!(
                "parameter columns [{}] differ from {SWEEP_JSON}'s parameters [{}]",
                table.parameters.join(", "),
                info.parameters.join(", ")
            ))
            .into());
        }
        if table.rows.is_empty() {
            return Err(csv_error("no data rows after the header".into()).into());
        }

        let shorts = short_names(&info.parameters);
        let params = info
            .parameters
            .iter()
            .zip(shorts)
            .enumerate()
            .map(|(i, (path, short))| {
                let cells = table.rows.iter().map(|r| r.values[i].clone()).collect();
                Param::new(path.clone(), short, cells)
            })
            .collect();
        let metrics = table
            .metrics
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let figure = |f: fn(&Interval) -> f64| -> Vec<f64> {
                    let at = |r: &PointRow| r.metrics[i].as_ref().map_or(f64::NAN, f);
                    table.rows.iter().map(at).collect()
                };
                let mean = figure(|i| i.mean);
                let ci_low = floor_at_zero(&mean, figure(|i| i.ci_low));
                Metric {
                    name: name.clone(),
                    mean,
                    ci_low,
                    ci_high: figure(|i| i.ci_high),
                }
            })
            .collect();

        Ok(SweepData {
            scenario: info.scenario,
            replications: u64::from(info.replications),
            params,
            metrics,
            slo_p99_ms,
            points: table.rows.len(),
        })
    }

    /// The metric named `name`, if `points.csv` has it.
    pub(crate) fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// The services with a p99 latency metric, in column order.
    pub(crate) fn p99_services(&self) -> Vec<&str> {
        self.metrics
            .iter()
            .filter_map(|m| latency_p99_service(&m.name))
            .collect()
    }

    /// The p99 objective of `service`, if the sweep gives one.
    pub(crate) fn slo(&self, service: &str) -> Option<f64> {
        self.slo_p99_ms
            .iter()
            .find(|(s, _)| s == service)
            .map(|&(_, ms)| ms)
    }

    /// The share of `service`'s requests that failed at each point (refused, timed out, lost
    /// with their pod): the mean failed over the mean arrived, which is the share of all the
    /// point's requests over its replications. 0 where none arrived; NaN where `points.csv` has
    /// no arrivals column or a figure is missing. A way of failing without a column (a file
    /// written before capsim counted it) counts as none.
    pub(crate) fn failed_fraction(&self, service: &str) -> Vec<f64> {
        let Some(arrived) = self.metric(&service_requests_arrived(service)) else {
            return vec![f64::NAN; self.points];
        };
        let failed: Vec<&Metric> = service_requests_failed(service)
            .iter()
            .filter_map(|name| self.metric(name))
            .collect();
        (0..self.points)
            .map(|p| {
                let lost: f64 = failed.iter().map(|m| m.mean[p]).sum();
                if arrived.mean[p] > 0.0 {
                    lost / arrived.mean[p]
                } else if lost == 0.0 && arrived.mean[p] == 0.0 {
                    0.0
                } else {
                    f64::NAN
                }
            })
            .collect()
    }

    /// `service`'s budget of failed requests at each point (`slo_max_failed_fraction`), where
    /// `points.csv` gives one.
    pub(crate) fn max_failed_fraction(&self, service: &str) -> Vec<Option<f64>> {
        let metric = self.metric(&service_slo_max_failed_fraction(service));
        (0..self.points)
            .map(|p| metric.map(|m| m.mean[p]).filter(|v| v.is_finite()))
            .collect()
    }

    /// Every parameter's `short=value` at `point`, comma-separated.
    pub(crate) fn point_label(&self, point: usize) -> String {
        let labels: Vec<String> = self.params.iter().map(|p| p.label(point)).collect();
        labels.join(", ")
    }
}

impl Param {
    fn new(path: String, short: String, cells: Vec<String>) -> Param {
        let numbers: Option<Vec<f64>> = cells
            .iter()
            .map(|c| c.parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect();
        let mut levels: Vec<String> = Vec::new();
        match &numbers {
            Some(values) => {
                let mut pairs: Vec<(f64, &String)> = values.iter().copied().zip(&cells).collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                for (_, cell) in pairs {
                    if !levels.contains(cell) {
                        levels.push(cell.clone());
                    }
                }
            }
            None => {
                for cell in &cells {
                    if !levels.contains(cell) {
                        levels.push(cell.clone());
                    }
                }
            }
        }
        Param {
            path,
            short,
            cells,
            numbers,
            levels,
        }
    }
}

/// The last segment of each dotted path; as many more segments as it takes for the names to
/// differ when two paths end alike.
pub(crate) fn short_names(paths: &[String]) -> Vec<String> {
    let segments: Vec<Vec<&str>> = paths.iter().map(|p| p.split('.').collect()).collect();
    let longest = segments.iter().map(Vec::len).max().unwrap_or(1);
    for k in 1..=longest {
        let names: Vec<String> = segments
            .iter()
            .map(|s| s[s.len().saturating_sub(k)..].join("."))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() == names.len() {
            return names;
        }
    }
    paths.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_of_a_quantity_that_cannot_be_negative_are_drawn_from_zero() {
        let mean = [0.5, 2.0, f64::NAN];
        assert_eq!(
            floor_at_zero(&mean, vec![-0.25, 1.5, f64::NAN])[..2],
            [0.0, 1.5]
        );
        // A quantity with a negative mean somewhere keeps its intervals as they are.
        assert_eq!(floor_at_zero(&[-1.0, 2.0], vec![-3.0, -0.5]), [-3.0, -0.5]);
    }

    #[test]
    fn short_names_are_last_segments_unless_they_collide() {
        let paths = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            short_names(&paths(&[
                "services.vs.hpa.target_cpu",
                "node_pools.c.machine_type"
            ])),
            ["target_cpu", "machine_type"]
        );
        assert_eq!(
            short_names(&paths(&[
                "node_pools.a.machine_type",
                "node_pools.b.machine_type"
            ])),
            ["a.machine_type", "b.machine_type"]
        );
        assert_eq!(short_names(&paths(&["seed"])), ["seed"]);
    }

    #[test]
    fn numeric_levels_ascend_and_categories_keep_first_appearance() {
        let cells = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let p = Param::new("a".into(), "a".into(), cells(&["80", "60", "70", "60"]));
        assert_eq!(p.numbers.as_deref(), Some(&[80.0, 60.0, 70.0, 60.0][..]));
        assert_eq!(p.levels, ["60", "70", "80"]);
        assert_eq!(p.level(0), 2);
        let p = Param::new(
            "m".into(),
            "m".into(),
            cells(&["n2-8", "c2-8", "n2-8", "1e3"]),
        );
        assert!(p.numbers.is_none());
        assert_eq!(p.levels, ["n2-8", "c2-8", "1e3"]);
        assert_eq!(p.label(1), "m=c2-8");
    }
}
