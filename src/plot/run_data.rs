//! A run folder's files as the series the run charts draw: `timeseries.csv` read column by
//! column, cross-checked with `summary.json`.
//!
//! Use `RunData::load` on a run folder. Services and pools are found from the CSV header (a
//! service is the prefix of a `.arrivals_per_s` column, a pool of a `.nodes_ready` column) and
//! must be the same as `summary.json`'s `services` and `node_pools`. This file does no drawing
//! and derives nothing but the cost rate and latency gaps.

use std::path::Path;

use serde_json::Value;

use crate::plot::csv::Csv;
use crate::plot::{PlotError, read_text};

/// The time series file of a run folder.
pub(crate) const TIMESERIES: &str = "timeseries.csv";
/// The summary file of a run folder.
pub(crate) const SUMMARY: &str = "summary.json";

const TIME: &str = "time_s";
const COST: &str = "cost_usd_cumulative";
const ARRIVALS: &str = "arrivals_per_s";
const READY: &str = "ready_replicas";
const DESIRED: &str = "desired_replicas";
const P99: &str = "latency_p99_ms";
const NODES: &str = "nodes";
const NODES_READY: &str = "nodes_ready";

/// Everything the run charts draw, one value per interval.
#[derive(Debug, Clone)]
pub(crate) struct RunData {
    /// Scenario name, from `summary.json`.
    pub(crate) scenario: String,
    /// Warm-up excluded from the summary, in hours (0 when the summary does not say).
    pub(crate) warmup_h: f64,
    /// End of each interval, in hours.
    pub(crate) time_h: Vec<f64>,
    /// Per service, in file order.
    pub(crate) services: Vec<ServiceSeries>,
    /// Per pool, in file order.
    pub(crate) pools: Vec<PoolSeries>,
    /// Cost rate over each interval, USD per hour; NaN where it cannot be derived.
    pub(crate) cost_usd_per_h: Vec<f64>,
    /// Cumulative cost at the end of the run, USD.
    pub(crate) cost_total_usd: f64,
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

/// The services and pools a time-series header holds, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Columns {
    /// Service names.
    pub(crate) services: Vec<String>,
    /// Pool names.
    pub(crate) pools: Vec<String>,
}

impl RunData {
    /// Reads `dir/timeseries.csv` and `dir/summary.json`.
    ///
    /// # Errors
    /// A missing file, a malformed row or cell (named by line and column), a missing column, a
    /// time that does not increase, or a summary whose services or pools differ from the
    /// header's.
    pub(crate) fn load(dir: &Path) -> Result<RunData, PlotError> {
        let csv_path = dir.join(TIMESERIES);
        let csv = Csv::parse(&csv_path, &read_text(&csv_path)?)?;
        let summary_path = dir.join(SUMMARY);
        let summary = read_text(&summary_path)?;
        let summary: Value = serde_json::from_str(&summary).map_err(|e| PlotError::Json {
            path: summary_path.clone(),
            message: format!("not valid JSON: {e}"),
        })?;
        let json_error = |message: String| PlotError::Json {
            path: summary_path.clone(),
            message,
        };

        let columns = discover(&csv)?;
        check_names("services", &summary, &columns.services).map_err(json_error)?;
        check_names("node_pools", &summary, &columns.pools).map_err(json_error)?;
        if csv.rows.is_empty() {
            return Err(csv.error(1, "no data rows after the header"));
        }

        let time_s = csv.numbers(csv.require(TIME)?)?;
        for (i, (row, &t)) in csv.rows.iter().zip(&time_s).enumerate() {
            let ok = match i {
                0 => t >= 0.0,
                _ => t > time_s[i - 1],
            };
            if !ok || !t.is_finite() {
                return Err(csv.error(
                    row.line,
                    format!("{TIME}: {t}: times must be finite, at least 0 and increasing"),
                ));
            }
        }

        let column = |owner: &str, suffix: &str| -> Result<Vec<f64>, PlotError> {
            csv.numbers(csv.require(&format!("{owner}.{suffix}"))?)
        };
        let mut services = Vec::new();
        for name in &columns.services {
            let slo_p99_ms = slo(&summary, name).map_err(json_error)?;
            let p99_ms = column(name, P99)?
                .into_iter()
                // No request completed in the interval: a gap, not a zero.
                .map(|v| if v > 0.0 { v } else { f64::NAN })
                .collect();
            services.push(ServiceSeries {
                name: name.clone(),
                arrivals_per_s: column(name, ARRIVALS)?,
                ready: column(name, READY)?,
                desired: column(name, DESIRED)?,
                p99_ms,
                slo_p99_ms,
            });
        }
        let mut pools = Vec::new();
        for name in &columns.pools {
            pools.push(PoolSeries {
                name: name.clone(),
                nodes: column(name, NODES)?,
                nodes_ready: column(name, NODES_READY)?,
            });
        }
        let cost = csv.numbers(csv.require(COST)?)?;

        Ok(RunData {
            scenario: summary
                .get("scenario")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            warmup_h: summary
                .pointer("/simulated/warmup_s")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
                / 3600.0,
            cost_usd_per_h: cost_rate(&time_s, &cost),
            cost_total_usd: cost
                .iter()
                .rev()
                .copied()
                .find(|c| c.is_finite())
                .unwrap_or(0.0),
            time_h: time_s.iter().map(|t| t / 3600.0).collect(),
            services,
            pools,
        })
    }
}

/// The services and pools of a time-series header.
///
/// # Errors
/// A header without `time_s` or `cost_usd_cumulative`.
pub(crate) fn discover(csv: &Csv) -> Result<Columns, PlotError> {
    csv.require(TIME)?;
    csv.require(COST)?;
    let owners = |suffix: &str| -> Vec<String> {
        csv.header
            .iter()
            .filter_map(|c| c.strip_suffix(suffix)?.strip_suffix('.'))
            .filter(|owner| is_dns_label(owner))
            .map(str::to_string)
            .collect()
    };
    Ok(Columns {
        services: owners(ARRIVALS),
        pools: owners(NODES_READY),
    })
}

/// Letters, digits and '-', as Kubernetes names services and pools; never a dotted path such
/// as `svc.hpa`.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Checks that `summary[key]`'s keys are `names` (in any order).
fn check_names(key: &str, summary: &Value, names: &[String]) -> Result<(), String> {
    let Some(map) = summary.get(key).and_then(Value::as_object) else {
        return Err(format!("{key}: missing or not an object"));
    };
    let mut in_summary: Vec<&str> = map.keys().map(String::as_str).collect();
    let mut in_csv: Vec<&str> = names.iter().map(String::as_str).collect();
    in_summary.sort_unstable();
    in_csv.sort_unstable();
    if in_summary != in_csv {
        return Err(format!(
            "{key} [{}] differ from those of {TIMESERIES} [{}]",
            in_summary.join(", "),
            in_csv.join(", ")
        ));
    }
    Ok(())
}

/// `services.<name>.slo_p99_ms`: absent or null is no SLO.
fn slo(summary: &Value, name: &str) -> Result<Option<f64>, String> {
    match summary
        .get("services")
        .and_then(|s| s.get(name))
        .and_then(|s| s.get("slo_p99_ms"))
    {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(ms) if ms.is_finite() && ms > 0.0 => Ok(Some(ms)),
            _ => Err(format!(
                "services.{name}.slo_p99_ms: expected a positive number, found {v}"
            )),
        },
    }
}

/// USD per hour over each interval: the increase of the cumulative cost over the interval's
/// width (the first interval starts at time 0).
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
    use crate::report::timeseries::{Layout, SERVICE_COLUMNS, csv_header};

    #[test]
    fn the_columns_read_are_those_report_writes() {
        for suffix in [ARRIVALS, READY, DESIRED, P99] {
            assert!(SERVICE_COLUMNS.contains(&suffix), "{suffix}");
        }
        let header = csv_header(&Layout {
            services: vec![("a".into(), vec![]), ("b-2".into(), vec!["x".into()])],
            pools: vec!["p".into()],
        });
        let csv = Csv::parse(Path::new("t.csv"), &header).unwrap();
        for column in [TIME, COST, "p.nodes", "p.nodes_ready"] {
            assert!(csv.column(column).is_some(), "{column}");
        }
        let columns = discover(&csv).unwrap();
        assert_eq!(columns.services, ["a", "b-2"]);
        assert_eq!(columns.pools, ["p"]);
    }

    #[test]
    fn discovery_skips_hpa_columns_and_reads_rows_with_empty_hpa_cells() {
        // `a.hpa.nodes_ready` is not a pool: its prefix is not a DNS label. Empty HPA cells do
        // not matter to the columns the charts read.
        let text = "time_s,a.arrivals_per_s,a.hpa.cpu_utilization_pct,a.hpa.nodes_ready,\
                    p-1.nodes,p-1.nodes_ready,p-1.cpu_requested_pct,cost_usd_cumulative\n\
                    60,10,,,2,1,50,0.5\n120,12,71.5,,2,2,55,1\n";
        let csv = Csv::parse(Path::new("t.csv"), text).unwrap();
        let columns = discover(&csv).unwrap();
        assert_eq!(
            columns,
            Columns {
                services: vec!["a".into()],
                pools: vec!["p-1".into()],
            }
        );
        let hpa = csv.numbers(csv.require("a.hpa.cpu_utilization_pct").unwrap());
        let hpa = hpa.unwrap();
        assert!(hpa[0].is_nan());
        assert_eq!(hpa[1], 71.5);
    }

    #[test]
    fn a_header_without_time_is_an_error() {
        let csv = Csv::parse(Path::new("t.csv"), "t,cost_usd_cumulative\n1,2\n").unwrap();
        assert_eq!(
            discover(&csv).unwrap_err().to_string(),
            "t.csv: line 1: missing column time_s"
        );
    }

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
        let summary: Value = serde_json::from_str(
            r#"{"services": {"a": {"slo_p99_ms": 250}, "b": {"slo_p99_ms": null}, "c": {},
                             "d": {"slo_p99_ms": "fast"}}}"#,
        )
        .unwrap();
        assert_eq!(slo(&summary, "a"), Ok(Some(250.0)));
        assert_eq!(slo(&summary, "b"), Ok(None));
        assert_eq!(slo(&summary, "c"), Ok(None));
        assert_eq!(
            slo(&summary, "d").unwrap_err(),
            "services.d.slo_p99_ms: expected a positive number, found \"fast\""
        );
    }
}
