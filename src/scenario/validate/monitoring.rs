//! The `monitoring` section: Prometheus scrape jobs and alert rules over services.

use crate::monitoring::rules::{AlertMetric, AlertRule, Comparison, Monitoring, ScrapeJob};
use crate::scenario::error::Error;
use crate::scenario::model::Service;
use crate::scenario::schema::MonitoringFile;
use crate::units::SimDuration;

use super::Cx;

const ALERT_METRICS: [&str; 4] = [
    "cpu_utilization",
    "memory_utilization",
    "latency_p99_ms",
    "pending_pods",
];
const COMPARISONS: [&str; 2] = [">", "<"];

impl Cx<'_> {
    /// Validates `monitoring` against the services.
    pub(super) fn monitoring(
        &self,
        m: Option<&MonitoringFile>,
        services: &[Service],
    ) -> Result<Monitoring, Error> {
        let Some(m) = m else {
            return Ok(Monitoring::default());
        };
        let service_names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        let resolve = |path: &str, name: &str| {
            service_names
                .iter()
                .position(|s| *s == name)
                .ok_or_else(|| self.unknown(path, "service", name, &service_names))
        };
        let mut scrapes: Vec<ScrapeJob> = Vec::with_capacity(m.scrape.len());
        for (i, s) in m.scrape.iter().enumerate() {
            let path = format!("monitoring.scrape[{i}]");
            if s.job.is_empty() {
                return Err(self.invalid(
                    &format!("{path}.job"),
                    "the job name is empty",
                    "expected a name",
                ));
            }
            if scrapes.iter().any(|j| j.job == s.job) {
                return Err(self.invalid(
                    &format!("{path}.job"),
                    format!("\"{}\" is used by an earlier job", s.job),
                    "expected unique job names, as Prometheus requires",
                ));
            }
            scrapes.push(ScrapeJob {
                job: s.job.clone(),
                service: resolve(&format!("{path}.service"), &s.service)?,
                interval: self.optional_positive_duration(
                    &format!("{path}.interval"),
                    s.interval.as_ref(),
                    SimDuration::from_secs(30),
                )?,
            });
        }
        let mut alerts = Vec::with_capacity(m.alerts.len());
        for (i, a) in m.alerts.iter().enumerate() {
            let path = format!("monitoring.alerts[{i}]");
            if a.alert.is_empty() {
                return Err(self.invalid(
                    &format!("{path}.alert"),
                    "the alert name is empty",
                    "expected a name, such as HighCPUUsage",
                ));
            }
            if alerts.iter().any(|r: &AlertRule| r.name == a.alert) {
                return Err(self.invalid(
                    &format!("{path}.alert"),
                    format!("\"{}\" is used by an earlier rule", a.alert),
                    "expected unique alert names, which summary.json reports them by",
                ));
            }
            let service = resolve(&format!("{path}.service"), &a.service)?;
            let metric = match a.metric.as_str() {
                "cpu_utilization" => AlertMetric::CpuUtilization,
                "memory_utilization" => AlertMetric::MemoryUtilization,
                "latency_p99_ms" => AlertMetric::LatencyP99Ms,
                "pending_pods" => AlertMetric::PendingPods,
                other => {
                    return Err(self.unknown(
                        &format!("{path}.metric"),
                        "alert metric",
                        other,
                        &ALERT_METRICS,
                    ));
                }
            };
            let comparison = match a.op.as_deref() {
                None | Some(">") => Comparison::Greater,
                Some("<") => Comparison::Less,
                Some(other) => {
                    return Err(self.unknown(
                        &format!("{path}.op"),
                        "comparison",
                        other,
                        &COMPARISONS,
                    ));
                }
            };
            let threshold = self.real(
                &format!("{path}.threshold"),
                &a.threshold,
                |_| true,
                "expected a number, such as 0.8",
            )?;
            let for_duration = self.optional_duration(
                &format!("{path}.for"),
                a.for_duration.as_ref(),
                SimDuration::ZERO,
            )?;
            alerts.push(AlertRule {
                name: a.alert.clone(),
                service,
                metric,
                comparison,
                threshold,
                for_duration,
                severity: a.severity.clone().unwrap_or_else(|| "warning".to_string()),
            });
        }
        Ok(Monitoring { scrapes, alerts })
    }
}
