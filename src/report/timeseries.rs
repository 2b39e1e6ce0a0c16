//! The per-interval time series: one row per `resolution` of simulated time.
//!
//! Use `IntervalRow` as the simulation hands it to an `Observer`, and `csv_header` / `csv_line`
//! to write it as `timeseries.csv` (one column per service metric and per pool).

use std::fmt::Write as _;

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
    /// Ready pods at the end of the interval.
    pub ready: u32,
    /// Desired replicas (the Deployment's `spec.replicas`) at the end of the interval.
    pub desired: u32,
    /// Pods not yet bound to a node at the end of the interval.
    pub pending: u32,
    /// Median latency of requests completed in the interval, in ms (0 if none).
    pub latency_p50_ms: f64,
    /// 99th-percentile latency of requests completed in the interval, in ms (0 if none).
    pub latency_p99_ms: f64,
    /// Average CPU the service's pods used over the interval, in cores.
    pub cpu_used_cores: f64,
    /// CPU requested by the service's bound pods at the end of the interval, in cores.
    pub cpu_requested_cores: f64,
    /// The value of each of the service's HPA metrics as the HPA last saw it (in the order of
    /// the spec's metrics); NaN before the first sync or when the metric was unavailable.
    pub hpa_metrics: Vec<f64>,
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
    /// Per pool, in scenario order.
    pub pools: Vec<PoolInterval>,
    /// Cost of all nodes from the start of the run to the end of the interval, in USD.
    pub cost_usd_cumulative: f64,
}

/// Column suffixes written for each service, in order.
pub const SERVICE_COLUMNS: [&str; 11] = [
    "arrivals_per_s",
    "completed",
    "rejected",
    "timed_out",
    "ready_replicas",
    "desired_replicas",
    "pending_pods",
    "latency_p50_ms",
    "latency_p99_ms",
    "cpu_used_cores",
    "cpu_requested_cores",
];

/// The columns of a run's time series: each service with the names of its HPA metrics, and
/// each pool.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Service name and its HPA metric column names (`MetricSpec::column_name`), in order.
    pub services: Vec<(String, Vec<String>)>,
    /// Pool names.
    pub pools: Vec<String>,
}

/// The CSV header line (with its newline) for a layout. HPA metric columns are named
/// `<service>.hpa.<metric>`.
pub fn csv_header(layout: &Layout) -> String {
    let mut line = String::from("time_s");
    for (service, hpa_metrics) in &layout.services {
        for column in SERVICE_COLUMNS {
            let _ = write!(line, ",{service}.{column}");
        }
        for metric in hpa_metrics {
            let _ = write!(line, ",{service}.hpa.{metric}");
        }
    }
    let pools = &layout.pools;
    for pool in pools {
        let _ = write!(
            line,
            ",{pool}.nodes,{pool}.nodes_ready,{pool}.cpu_requested_pct"
        );
    }
    line.push_str(",cost_usd_cumulative\n");
    line
}

/// One CSV line (with its newline) for `row`, appended to `out`.
pub fn csv_line(row: &IntervalRow, out: &mut String) {
    let _ = write!(out, "{}", round(row.time_s, 6));
    for s in &row.services {
        let _ = write!(
            out,
            ",{},{},{},{},{},{},{},{},{},{},{}",
            round(s.arrivals_per_s, 3),
            s.completed,
            s.rejected,
            s.timed_out,
            s.ready,
            s.desired,
            s.pending,
            round(s.latency_p50_ms, 3),
            round(s.latency_p99_ms, 3),
            round(s.cpu_used_cores, 3),
            round(s.cpu_requested_cores, 3),
        );
        for value in &s.hpa_metrics {
            // An empty cell where the HPA had no value.
            if value.is_finite() {
                let _ = write!(out, ",{}", round(*value, 3));
            } else {
                out.push(',');
            }
        }
    }
    for p in &row.pools {
        let _ = write!(
            out,
            ",{},{},{}",
            p.nodes,
            p.nodes_ready,
            round(p.cpu_requested_pct, 2)
        );
    }
    let _ = writeln!(out, ",{}", round(row.cost_usd_cumulative, 4));
}

/// `x` rounded to `digits` decimals, for outputs people read. Deterministic for equal inputs.
pub fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    let r = (x * scale).round() / scale;
    if r == 0.0 { 0.0 } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_line_have_the_same_number_of_columns() {
        let layout = Layout {
            services: vec![
                ("a".into(), vec![]),
                ("b".into(), vec!["cpu_utilization_pct".into()]),
            ],
            pools: vec!["p".into()],
        };
        let header = csv_header(&layout);
        assert!(header.contains(",b.hpa.cpu_utilization_pct,"), "{header}");
        let row = IntervalRow {
            time_s: 60.0,
            width_s: 60.0,
            services: vec![
                ServiceInterval::default(),
                ServiceInterval {
                    hpa_metrics: vec![f64::NAN],
                    ..ServiceInterval::default()
                },
            ],
            pools: vec![PoolInterval {
                nodes: 3,
                nodes_ready: 2,
                cpu_requested_pct: 12.5,
            }],
            cost_usd_cumulative: 0.123456,
        };
        let mut line = String::new();
        csv_line(&row, &mut line);
        assert_eq!(header.split(',').count(), line.split(',').count());
        assert_eq!(
            header.split(',').count(),
            1 + 2 * SERVICE_COLUMNS.len() + 1 + 3 + 1
        );
        assert!(line.starts_with("60,"), "{line}");
        assert!(line.ends_with(",3,2,12.5,0.1235\n"), "{line}");
    }

    #[test]
    fn rounding_drops_negative_zero() {
        assert_eq!(round(-0.00001, 3).to_string(), "0");
        assert_eq!(round(2.0005, 3), 2.001);
    }
}
