//! The monitoring stack's configuration: Prometheus scrape jobs over a service's pods, and
//! alerting rules in structured form (a metric of one service, a comparison, a threshold and a
//! `for` duration).
//!
//! Use `AlertRule` with `alerts::AlertState` to evaluate a rule over time. These are plain data:
//! validation (`scenario`) guarantees their invariants.

use crate::units::SimDuration;

/// Prometheus scraping and alerting.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Monitoring {
    /// Scrape jobs.
    pub scrapes: Vec<ScrapeJob>,
    /// Alert rules.
    pub alerts: Vec<AlertRule>,
}

/// A Prometheus scrape job over one service's pods.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeJob {
    /// Job name.
    pub job: String,
    /// Index of the scraped service in `Scenario::services`.
    pub service: usize,
    /// `scrape_interval` (default 30s).
    pub interval: SimDuration,
}

/// A metric an alert rule can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertMetric {
    /// CPU used over CPU requested across the service's Ready pods (1.0 = at request).
    CpuUtilization,
    /// Memory used over memory requested.
    MemoryUtilization,
    /// p99 latency in milliseconds.
    LatencyP99Ms,
    /// Pending pods of the service.
    PendingPods,
}

impl AlertMetric {
    /// The metric's name in a rule (`cpu_utilization`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertMetric::CpuUtilization => "cpu_utilization",
            AlertMetric::MemoryUtilization => "memory_utilization",
            AlertMetric::LatencyP99Ms => "latency_p99_ms",
            AlertMetric::PendingPods => "pending_pods",
        }
    }
}

/// A comparison an alert rule makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `>`.
    Greater,
    /// `<`.
    Less,
}

impl Comparison {
    /// The operator in a rule (`>`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::Less => "<",
        }
    }
}

/// A Prometheus alerting rule in structured form: fires when the condition has held for `for`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// `alert` name (`HighCPUUsage`).
    pub name: String,
    /// Index of the watched service.
    pub service: usize,
    /// Watched metric.
    pub metric: AlertMetric,
    /// Comparison with the threshold.
    pub comparison: Comparison,
    /// Threshold in the metric's unit.
    pub threshold: f64,
    /// How long the condition must hold before the alert fires.
    pub for_duration: SimDuration,
    /// `labels.severity`.
    pub severity: String,
}

impl AlertRule {
    /// What an evaluation saw, for the event log:
    /// `HighCPUUsage (warning): cpu_utilization 0.9312, rule > 0.8 for 5m0s`, or `no data` in
    /// place of the value.
    pub fn describe(&self, value: Option<f64>) -> String {
        let metric = self.metric.as_str();
        let op = self.comparison.as_str();
        let value = value.map_or_else(|| "no data".to_string(), |v| format!("{v:.4}"));
        format!(
            "{} ({}): {metric} {value}, rule {op} {} for {}",
            self.name, self.severity, self.threshold, self.for_duration
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_describes_what_it_saw() {
        let rule = AlertRule {
            name: "HighCPUUsage".into(),
            service: 0,
            metric: AlertMetric::CpuUtilization,
            comparison: Comparison::Greater,
            threshold: 0.8,
            for_duration: SimDuration::from_secs(300),
            severity: "warning".into(),
        };
        assert_eq!(
            rule.describe(Some(0.93125)),
            "HighCPUUsage (warning): cpu_utilization 0.9313, rule > 0.8 for 5m0s"
        );
        assert_eq!(
            rule.describe(None),
            "HighCPUUsage (warning): cpu_utilization no data, rule > 0.8 for 5m0s"
        );
    }
}
