//! A summary as flat named numbers, and the mean and confidence interval of a metric over
//! replications.
//!
//! Use `summary_metrics` to turn a `Summary` into `(path, value)` pairs
//! (`services.web.latency_ms.p99`): the names `expect` assertions, `sweep.csv` and `points.csv`
//! columns and the sweep charts use. A metric's name is its field path in `summary.json`, so
//! adding a field to `Summary` adds a metric everywhere. Use `mean_ci95` to summarise one
//! metric over independent replications.

pub mod planner;

use serde_json::Value;

use crate::report::Summary;
use crate::report::summary::DelaySummary;

/// One named number of a summary: its dotted path in `summary.json` and its value.
pub type Metric = (String, f64);

/// One named figure of a summary that may be null: `None` where `summary.json` holds null.
pub type MaybeMetric = (String, Option<f64>);

/// The metric of the total cost of the measured window, in USD.
pub const COST_TOTAL_USD: &str = "cost.total_usd";

/// The metric of a service's p99 latency over the measured window, in ms.
pub fn service_latency_p99_ms(service: &str) -> String {
    format!("services.{service}.latency_ms.p99")
}

/// The metric of the requests that arrived at a service in the measured window.
pub fn service_requests_arrived(service: &str) -> String {
    format!("services.{service}.requests.arrived")
}

/// The metrics of a service's failed requests, one per way of failing: refused (queue full or
/// no Ready pod, counted once), timed out, and lost with their pod (killed at the end of its
/// grace period, OOM-killed, evicted, lost when its node failed). Their sum over `service_requests_arrived` is what
/// `slo.max_failed` budgets.
pub fn service_requests_failed(service: &str) -> Vec<String> {
    [
        "rejected",
        "timed_out",
        "killed",
        "oom_killed",
        "evicted",
        "lost_node_failure",
    ]
    .iter()
    .map(|outcome| format!("services.{service}.requests.{outcome}"))
    .collect()
}

/// The metric of a service's failure budget: the fraction of its requests that may fail.
pub fn service_slo_max_failed_fraction(service: &str) -> String {
    format!("services.{service}.slo_max_failed_fraction")
}

/// The service whose p99 latency `metric` is, if it is one (the inverse of
/// `service_latency_p99_ms`).
pub fn latency_p99_service(metric: &str) -> Option<&str> {
    metric
        .strip_prefix("services.")?
        .strip_suffix(".latency_ms.p99")
        .filter(|s| !s.contains('.'))
}

/// Every numeric figure of `summary` with its dotted path, in `summary.json`'s order, without
/// the seed (it names the run; it is not a result).
///
/// # Errors
/// When the summary cannot be serialized (it always can: the error is serde's contract).
pub fn summary_metrics(summary: &Summary) -> Result<Vec<Metric>, serde_json::Error> {
    let value = serde_json::to_value(summary)?;
    let mut metrics = flatten(&value);
    metrics.retain(|(path, _)| path != "seed");
    Ok(metrics)
}

/// Every figure of `summary` with its dotted path, in `summary.json`'s order, without the seed:
/// `summary_metrics` with the figures that do not exist in this run (null, such as the latency
/// of a service that completed no request) kept as `None`, so that runs of the same scenario
/// name the same metrics whatever each one served. A null object (a Job's
/// `scheduling_delay_s` when no pod was bound) is one `None` under the object's own path.
///
/// # Errors
/// When the summary cannot be serialized (it always can: the error is serde's contract).
pub fn summary_values(summary: &Summary) -> Result<Vec<MaybeMetric>, serde_json::Error> {
    let value = serde_json::to_value(summary)?;
    let mut values = flatten_values(&value);
    values.retain(|(path, _)| path != "seed");
    Ok(values)
}

/// Every metric name a summary of the same scenario has, whatever happens in the run:
/// `summary`'s own leaves, null ones included, and the figures of the sections a run fills
/// only when something happened (a Job's `scheduling_delay_s`, null when no pod was bound).
/// Give it the summary of a run that has not started to know the names before running.
///
/// # Errors
/// When the summary cannot be serialized (it always can: the error is serde's contract).
pub fn metric_names(summary: &Summary) -> Result<Vec<String>, serde_json::Error> {
    let mut shape = summary.clone();
    for job in shape.jobs.values_mut() {
        job.scheduling_delay_s.get_or_insert(DelaySummary {
            p50: 0.0,
            p99: 0.0,
            max: 0.0,
            mean: 0.0,
        });
    }
    Ok(summary_values(&shape)?
        .into_iter()
        .map(|(n, _)| n)
        .collect())
}

/// Every numeric leaf of `value`, with its dotted path, in document order. Booleans, strings
/// and nulls are left out (`flatten_values` keeps the nulls).
pub fn flatten(value: &Value) -> Vec<Metric> {
    flatten_values(value)
        .into_iter()
        .filter_map(|(path, v)| Some((path, v?)))
        .collect()
}

/// Every numeric or null leaf of `value`, with its dotted path, in document order; a null
/// (a statistic over nothing, such as the latency of a service that completed no request) is
/// `None`. Booleans and strings are left out.
pub fn flatten_values(value: &Value) -> Vec<MaybeMetric> {
    let mut out = Vec::new();
    walk(value, &mut String::new(), &mut out);
    out
}

fn walk(value: &Value, path: &mut String, out: &mut Vec<MaybeMetric>) {
    match value {
        Value::Number(n) => {
            if let Some(x) = n.as_f64() {
                out.push((path.clone(), Some(x)));
            }
        }
        Value::Null => out.push((path.clone(), None)),
        Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(child, path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&i.to_string());
                walk(child, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Two-sided 95% Student t quantiles for 1..=30 degrees of freedom; 1.96 beyond.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The two-sided 95% Student t quantile for `df` degrees of freedom (1.96 above 30, the normal
/// approximation, within 1% from there on).
pub fn t95(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T95[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// Mean and 95% confidence interval `(mean, low, high)` of independent observations; with one
/// observation the interval is the point itself.
pub fn mean_ci95(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, mean, mean);
    }
    let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t95(n - 1) * (variance / n as f64).sqrt();
    (mean, mean - half, mean + half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_keeps_numbers_in_document_order() {
        let value: Value = serde_json::from_str(
            r#"{"cost": {"total_usd": 4.5}, "scenario": "x", "services": {"web": {"ok": true,
                "latency_ms": {"p99": 12.0, "p50": 3}}}, "list": [1, {"a": 2}], "none": null}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let flat = flatten(&value);
        let names: Vec<&str> = flat.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "cost.total_usd",
                "services.web.latency_ms.p99",
                "services.web.latency_ms.p50",
                "list.0",
                "list.1.a"
            ]
        );
        assert_eq!(flat[2].1, 3.0);
    }

    #[test]
    fn a_summary_s_metrics_are_its_numbers_by_path_without_the_seed() {
        let summary = crate::report::summary::example(&[("web", Some(250.0))], &["p"]);
        let metrics = summary_metrics(&summary).unwrap_or_else(|e| panic!("{e}"));
        let value = |name: &str| metrics.iter().find(|(n, _)| n == name).map(|&(_, v)| v);
        assert_eq!(metrics[0].0, "simulated.duration_s");
        assert_eq!(value("seed"), None);
        assert_eq!(value(COST_TOTAL_USD), Some(summary.cost.total_usd));
        let p99 = service_latency_p99_ms("web");
        assert_eq!(value(&p99), summary.services["web"].latency_ms.p99);
        assert_eq!(value("services.web.slo_p99_ms"), Some(250.0));
        let requests = &summary.services["web"].requests;
        assert_eq!(
            value(&service_requests_arrived("web")),
            Some(requests.arrived as f64)
        );
        // Every way of failing is a metric, and with completions and those in flight they
        // account for every arrival.
        let failed: f64 = service_requests_failed("web")
            .iter()
            .map(|m| value(m).unwrap_or_else(|| panic!("no {m}")))
            .sum();
        let rest = requests.completed + requests.in_flight_at_end;
        assert_eq!(failed, (requests.accounted() - rest) as f64);
        assert_eq!(value(&service_slo_max_failed_fraction("web")), Some(0.001));
        assert_eq!(value("node_pools.p.nodes.max"), Some(3.0));
        assert_eq!(latency_p99_service(&p99), Some("web"));
        assert_eq!(latency_p99_service("services.web.latency_ms.p50"), None);
        assert_eq!(latency_p99_service("services.a.b.latency_ms.p99"), None);
    }

    #[test]
    fn null_figures_keep_their_names() {
        let value: Value =
            serde_json::from_str(r#"{"web": {"latency_ms": {"p99": null, "p50": 3}}, "s": "x"}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            flatten_values(&value),
            [
                ("web.latency_ms.p99".to_string(), None),
                ("web.latency_ms.p50".to_string(), Some(3.0))
            ]
        );
        assert_eq!(flatten(&value), [("web.latency_ms.p50".to_string(), 3.0)]);
        // A Job whose pods were never bound has a null delay, yet its figures are names.
        let mut summary = crate::report::summary::example(&[("web", None)], &["p"]);
        let job: crate::report::summary::JobSummary = serde_json::from_str(
            r#"{"namespace": "batch", "pods": {"submitted": 0, "started": 0, "completed": 0,
                "evicted": 0, "quota_rejected": 0}, "scheduling_delay_s": null,
                "pending_pod_seconds": 0, "running_pods": {"min": 0, "max": 0, "mean": 0},
                "nodes_requested": 0}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        summary.jobs.insert("train".into(), job);
        let names = metric_names(&summary).unwrap_or_else(|e| panic!("{e}"));
        assert!(names.contains(&"jobs.train.scheduling_delay_s.p99".to_string()));
        assert!(names.contains(&"services.web.slo_p99_ms".to_string()));
        assert!(!names.contains(&"seed".to_string()));
    }

    #[test]
    fn summary_values_keep_the_figures_a_run_does_not_have() {
        let mut summary = crate::report::summary::example(&[("web", None)], &["p"]);
        summary.services["web"].latency_ms.p99 = None;
        let values = summary_values(&summary).unwrap_or_else(|e| panic!("{e}"));
        let value = |name: &str| values.iter().find(|(n, _)| n == name).map(|&(_, v)| v);
        assert_eq!(value("services.web.latency_ms.p99"), Some(None));
        assert_eq!(value("services.web.slo_p99_ms"), Some(None));
        assert_eq!(value("services.web.latency_ms.p50"), Some(Some(3.25)));
        assert_eq!(value("seed"), None);
        // The metrics are the values that exist, in the same order.
        let metrics = summary_metrics(&summary).unwrap_or_else(|e| panic!("{e}"));
        let existing: Vec<Metric> = (values.into_iter())
            .filter_map(|(n, v)| Some((n, v?)))
            .collect();
        assert_eq!(metrics, existing);
    }

    #[test]
    fn confidence_interval_uses_student_t() {
        // Mean 2, sample sd 1, n = 3: half-width 4.303 / sqrt(3) = 2.4843.
        let (mean, low, high) = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!(mean, 2.0);
        assert!((high - mean - 2.484_338).abs() < 1e-5, "{high}");
        assert!((mean - low - (high - mean)).abs() < 1e-12);
        assert_eq!(mean_ci95(&[5.0]), (5.0, 5.0, 5.0));
        assert!(mean_ci95(&[]).0.is_nan());
        assert_eq!(t95(200), 1.96);
    }
}
