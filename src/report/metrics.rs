//! A summary as flat named numbers, and the mean and confidence interval of a metric over
//! replications.
//!
//! Use `summary_metrics` to turn a `Summary` into `(path, value)` pairs
//! (`services.web.latency_ms.p99`): the names `expect` assertions, `sweep.csv` and `points.csv`
//! columns and the sweep charts use. A metric's name is its field path in `summary.json`, so
//! adding a field to `Summary` adds a metric everywhere. Use `mean_ci95` to summarise one
//! metric over independent replications.

use serde_json::Value;

use crate::report::Summary;

/// One named number of a summary: its dotted path in `summary.json` and its value.
pub type Metric = (String, f64);

/// The metric of the total cost of the measured window, in USD.
pub const COST_TOTAL_USD: &str = "cost.total_usd";

/// The metric of a service's p99 latency over the measured window, in ms.
pub fn service_latency_p99_ms(service: &str) -> String {
    format!("services.{service}.latency_ms.p99")
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
pub fn summary_values(summary: &Summary) -> Result<Vec<(String, Option<f64>)>, serde_json::Error> {
    let value = serde_json::to_value(summary)?;
    let mut values = Vec::new();
    walk(&value, &mut String::new(), &mut values);
    values.retain(|(path, _)| path != "seed");
    Ok(values)
}

/// Every numeric leaf of `value`, with its dotted path, in document order. Booleans, strings
/// and nulls are left out.
pub fn flatten(value: &Value) -> Vec<Metric> {
    let mut out = Vec::new();
    walk(value, &mut String::new(), &mut out);
    out.into_iter()
        .filter_map(|(path, x)| Some((path, x?)))
        .collect()
}

fn walk(value: &Value, path: &mut String, out: &mut Vec<(String, Option<f64>)>) {
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
        assert_eq!(value("node_pools.p.nodes.max"), Some(3.0));
        assert_eq!(latency_p99_service(&p99), Some("web"));
        assert_eq!(latency_p99_service("services.web.latency_ms.p50"), None);
        assert_eq!(latency_p99_service("services.a.b.latency_ms.p99"), None);
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
