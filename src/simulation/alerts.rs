//! The monitoring stack's alert rules at work: each is evaluated at the end of every
//! time-series interval, over that interval's measurements of its service, as a Prometheus rule
//! over `[resolution]` windows evaluated every resolution would be.
//!
//! The state machine is `monitoring::alerts`; this file reads the metric a rule watches and logs
//! what the rule does.

use crate::monitoring::alerts::{AlertTransition, condition_holds};
use crate::monitoring::rules::{AlertMetric, AlertRule};
use crate::report::{ClusterEvent, EventKind, ServiceInterval};
use crate::simulation::Simulation;

impl Simulation<'_> {
    /// Evaluates every alert rule at the end of an interval whose per-service rows are `rows`.
    pub(super) fn evaluate_alerts(&mut self, rows: &[ServiceInterval]) {
        let now = self.clock.now();
        for (a, rule) in self.scenario.monitoring.alerts.iter().enumerate() {
            let value = self.alert_metric(rule, &rows[rule.service]);
            let holds = condition_holds(rule.comparison, value, rule.threshold);
            let transition =
                self.alerts[a].evaluate(holds, now, rule.for_duration, self.warmup_end);
            let kind = match transition {
                Some(AlertTransition::Firing) => EventKind::AlertFiring,
                Some(AlertTransition::Resolved) => EventKind::AlertResolved,
                Some(AlertTransition::Pending) | None => continue,
            };
            let mut event = ClusterEvent::new(self.now_s(), kind);
            event.service = Some(self.scenario.services[rule.service].name.clone());
            event.reason = Some(rule.describe(value));
            self.log.push(event);
        }
    }

    /// The value a rule watches, or `None` when there is none (no requests completed, nothing
    /// requested).
    fn alert_metric(&self, rule: &AlertRule, row: &ServiceInterval) -> Option<f64> {
        let ratio = |used: f64, requested: f64| (requested > 0.0).then(|| used / requested);
        match rule.metric {
            AlertMetric::CpuUtilization => ratio(row.cpu_used_cores, row.cpu_requested_cores),
            AlertMetric::MemoryUtilization => {
                let spec = &self.scenario.services[rule.service];
                let ready = (self.cluster.workload(rule.service).ready.iter())
                    .filter_map(|r| self.cluster.pod(*r));
                let (mut used, mut requested) = (0u64, 0u64);
                for pod in ready {
                    used += spec.server.memory_in_use(pod.server.in_flight()).0;
                    requested += spec.pod.requests.memory.0;
                }
                ratio(used as f64, requested as f64)
            }
            AlertMetric::LatencyP99Ms => row.latency_p99_ms,
            AlertMetric::PendingPods => Some(f64::from(row.pending)),
        }
    }
}
