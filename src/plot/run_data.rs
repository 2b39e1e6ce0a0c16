//! A run folder's files as the series the run charts draw: `timeseries.csv` and `summary.json`
//! read back through `report`'s record types, and cross-checked.
//!
//! Use `RunData::load` on a run folder. Services and pools are those of the time series'
//! header (`timeseries::Layout`) and must be the same as `summary.json`'s `services` and
//! `node_pools`. This file does no drawing and derives nothing but latency gaps (and the cost
//! rate of a file written before it had its own column); it names no column:
//! `report::timeseries` does.

use std::path::Path;

use crate::plot::PlotError;
use crate::report::IntervalRow;
use crate::report::files::{SUMMARY_JSON, TIMESERIES_CSV};
use crate::report::timeseries::TimeSeries;
use crate::report::{ReadError, Summary};

/// Everything the run charts draw, one value per interval.
#[derive(Debug, Clone)]
pub(crate) struct RunData {
    /// Scenario name, from `summary.json`.
    pub(crate) scenario: String,
    /// Warm-up excluded from the summary, in hours.
    pub(crate) warmup_h: f64,
    /// End of each interval, in hours.
    pub(crate) time_h: Vec<f64>,
    /// Per service, in file order.
    pub(crate) services: Vec<ServiceSeries>,
    /// Per Job, in file order.
    pub(crate) jobs: Vec<JobSeries>,
    /// Per pool, in file order.
    pub(crate) pools: Vec<PoolSeries>,
    /// Cost rate over each interval, USD per hour, as the time series gives it; NaN where it
    /// has none.
    pub(crate) cost_usd_per_h: Vec<f64>,
    /// Cost of the measured window (after the warm-up), USD: `summary.json`'s `cost.total_usd`.
    pub(crate) cost_measured_usd: f64,
    /// Length of the measured window, in hours.
    pub(crate) measured_h: f64,
}

/// One service's series.
#[derive(Debug, Clone)]
pub(crate) struct ServiceSeries {
    /// Service name.
    pub(crate) name: String,
    /// Arrivals per second.
    pub(crate) arrivals_per_s: Vec<f64>,
    /// Ready replicas.
    pub(crate) ready: Vec<f64>,
    /// Replicas the Deployment asks for.
    pub(crate) desired: Vec<f64>,
    /// p99 latency in ms of requests completed in the interval; NaN when none completed.
    pub(crate) p99_ms: Vec<f64>,
    /// The service's p99 objective, when the summary gives one.
    pub(crate) slo_p99_ms: Option<f64>,
}

/// One Job's series.
#[derive(Debug, Clone)]
pub(crate) struct JobSeries {
    /// Job name.
    pub(crate) name: String,
    /// Pods running their containers.
    pub(crate) running: Vec<f64>,
    /// Pods waiting for a node.
    pub(crate) pending: Vec<f64>,
}

/// One pool's series.
#[derive(Debug, Clone)]
pub(crate) struct PoolSeries {
    /// Pool name.
    pub(crate) name: String,
    /// Billed nodes.
    pub(crate) nodes: Vec<f64>,
    /// Ready nodes.
    pub(crate) nodes_ready: Vec<f64>,
}

impl RunData {
    /// Reads `dir/timeseries.csv` and `dir/summary.json`.
    ///
    /// # Errors
    /// A missing or malformed file (named by line and column), a time series without rows, or
    /// a summary whose services or pools differ from the time series'.
    pub(crate) fn load(dir: &Path) -> Result<RunData, PlotError> {
        let series_path = dir.join(TIMESERIES_CSV);
        let series = TimeSeries::read(&series_path)?;
        let summary_path = dir.join(SUMMARY_JSON);
        let summary = Summary::read(&summary_path)?;
        let json_error = |message: String| ReadError::Json {
            path: summary_path.clone(),
            message,
        };
        let layout = &series.layout;
        let services: Vec<&str> = layout.services.iter().map(|(s, _)| s.as_str()).collect();
        let pools: Vec<&str> = layout.pools.iter().map(String::as_str).collect();
        check_names("services", summary.services.keys(), &services).map_err(json_error)?;
        check_names("node_pools", summary.node_pools.keys(), &pools).map_err(json_error)?;
        if series.rows.is_empty() {
            return Err(ReadError::Csv {
                path: series_path,
                line: 1,
                message: "no data rows after the header".into(),
            }
            .into());
        }

        let rows = &series.rows;
        let mut service_series = Vec::new();
        for (i, &name) in services.iter().enumerate() {
            let values = |f: &dyn Fn(&crate::report::ServiceInterval) -> f64| -> Vec<f64> {
                rows.iter().map(|r| f(&r.services[i])).collect()
            };
            service_series.push(ServiceSeries {
                name: name.to_string(),
                arrivals_per_s: values(&|s| s.arrivals_per_s),
                ready: values(&|s| f64::from(s.ready)),
                desired: values(&|s| f64::from(s.desired)),
                // No request completed in the interval (an empty cell): a gap, not a zero.
                p99_ms: values(&|s| s.latency_p99_ms.unwrap_or(f64::NAN)),
                slo_p99_ms: slo(&summary, name).map_err(json_error)?,
            });
        }
        let pool_series = pools
            .iter()
            .enumerate()
            .map(|(i, &name)| PoolSeries {
                name: name.to_string(),
                nodes: rows.iter().map(|r| f64::from(r.pools[i].nodes)).collect(),
                nodes_ready: rows
                    .iter()
                    .map(|r| f64::from(r.pools[i].nodes_ready))
                    .collect(),
            })
            .collect();
        let job_series = (layout.jobs.iter().enumerate())
            .map(|(j, name)| JobSeries {
                name: name.clone(),
                running: rows.iter().map(|r| f64::from(r.jobs[j].running)).collect(),
                pending: rows.iter().map(|r| f64::from(r.jobs[j].pending)).collect(),
            })
            .collect();
        let time_s: Vec<f64> = rows.iter().map(|r| r.time_s).collect();
        Ok(RunData {
            scenario: summary.scenario.clone(),
            warmup_h: summary.simulated.warmup_s / 3600.0,
            cost_usd_per_h: cost_rates(rows, &time_s),
            cost_measured_usd: summary.cost.total_usd,
            measured_h: summary.simulated.measured_s / 3600.0,
            time_h: time_s.iter().map(|t| t / 3600.0).collect(),
            services: service_series,
            jobs: job_series,
            pools: pool_series,
        })
    }
}

/// Checks that the summary's `key` names are `names` (in any order).
fn check_names<'a>(
    key: &str,
    in_summary: impl Iterator<Item = &'a String>,
    names: &[&str],
) -> Result<(), String> {
    let mut in_summary: Vec<&str> = in_summary.map(String::as_str).collect();
    let mut in_csv: Vec<&str> = names.to_vec();
    in_summary.sort_unstable();
    in_csv.sort_unstable();
    if in_summary != in_csv {
        return Err(format!(
            "{key} [{}] differ from those of {TIMESERIES_CSV} [{}]",
            in_summary.join(", "),
            in_csv.join(", ")
        ));
    }
    Ok(())
}

/// `services.<name>.slo_p99_ms`: null is no SLO; otherwise a positive number.
fn slo(summary: &Summary, name: &str) -> Result<Option<f64>, String> {
    match summary.services.get(name).and_then(|s| s.slo_p99_ms) {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms > 0.0 => Ok(Some(ms)),
        Some(ms) => Err(format!(
            "services.{name}.slo_p99_ms: expected a positive number, found {ms}"
        )),
    }
}

/// The cost rate of each row, USD per hour: the file's own column, or for a file written before
/// it had one, the rate derived from the rounded cumulative cost (which wobbles by the rounding
/// over each interval's width).
fn cost_rates(rows: &[IntervalRow], time_s: &[f64]) -> Vec<f64> {
    if rows.iter().all(|r| r.cost_usd_per_hour.is_nan()) {
        let cost: Vec<f64> = rows.iter().map(|r| r.cost_usd_cumulative).collect();
        cost_rate(time_s, &cost)
    } else {
        rows.iter().map(|r| r.cost_usd_per_hour).collect()
    }
}

/// USD per hour over each interval: the increase of the cumulative cost over the interval's
/// width (the first interval starts at time 0). Only for files without the rate's own column.
pub(crate) fn cost_rate(time_s: &[f64], cumulative_usd: &[f64]) -> Vec<f64> {
    let mut previous = (0.0, 0.0);
    time_s
        .iter()
        .zip(cumulative_usd)
        .map(|(&t, &c)| {
            let width_h = (t - previous.0) / 3600.0;
            let rate = (c - previous.1) / width_h;
            previous = (t, c);
            if width_h > 0.0 && rate.is_finite() {
                rate
            } else {
                f64::NAN
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::example;

    #[test]
    fn cost_rate_is_the_increase_over_the_interval_width() {
        // 0.5 USD over the first minute = 30 USD/h; 0.25 USD over the next 30 s = 30 USD/h;
        // then nothing for a minute.
        let rate = cost_rate(&[60.0, 90.0, 150.0], &[0.5, 0.75, 0.75]);
        assert_eq!(rate, [30.0, 30.0, 0.0]);
        assert!(cost_rate(&[0.0], &[0.0])[0].is_nan(), "zero width");
    }

    #[test]
    fn slo_is_optional_but_must_be_a_positive_number() {
        let mut summary = example(&[("a", Some(250.0)), ("b", None), ("d", Some(-1.0))], &[]);
        assert_eq!(slo(&summary, "a"), Ok(Some(250.0)));
        assert_eq!(slo(&summary, "b"), Ok(None));
        assert_eq!(slo(&summary, "c"), Ok(None));
        assert_eq!(
            slo(&summary, "d").unwrap_err(),
            "services.d.slo_p99_ms: expected a positive number, found -1"
        );
        summary.services["d"].slo_p99_ms = Some(f64::NAN);
        assert!(slo(&summary, "d").is_err());
    }

    #[test]
    fn names_must_agree_in_any_order() {
        let names = ["a".to_string(), "b".to_string()];
        assert_eq!(check_names("services", names.iter(), &["b", "a"]), Ok(()));
        assert_eq!(
            check_names("services", names.iter(), &["a"]).unwrap_err(),
            "services [a, b] differ from those of timeseries.csv [a]"
        );
    }
}
