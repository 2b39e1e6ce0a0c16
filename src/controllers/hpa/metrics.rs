//! `computeReplicasForMetrics` and `computeReplicasForMetric` of `horizontal.go`: each metric
//! of the spec asks the replica calculator for a proposal, the largest valid proposal wins, and
//! invalid metrics set ScalingActive and the sync's error as upstream words them.

use super::observation::{PodObservation, pod_metric_name, resource_name, to_milli};
use super::replica_calculator::{AverageValueMetric, PlainReplicas, ResourceReplicas};
use super::{
    CalcError, ConditionStatus, ConditionType, Hpa, MetricStatus, MetricValue, ReplicaCalculator,
};
use crate::controllers::hpa::spec::{HpaMetric, ResourceName};
use crate::units::SimTime;

/// One metric's proposal (`computeReplicasForMetric`'s result).
struct Proposal {
    replicas: u32,
    metric_name: String,
    value: MetricValue,
}

impl Proposal {
    /// What a utilization target on `resource` proposed.
    fn utilization(resource: ResourceName, r: ResourceReplicas) -> Proposal {
        let name = resource_name(resource);
        let metric_name = format!("{name} resource utilization (percentage of request)");
        Proposal::new(
            r.replicas,
            metric_name,
            Some(r.utilization_percent),
            r.raw_average_milli,
        )
    }

    /// What an average-value target on `metric` proposed.
    fn average_value(metric: AverageValueMetric, r: PlainReplicas) -> Proposal {
        let metric_name = match metric {
            AverageValueMetric::Resource(resource) => {
                format!("{} resource", resource_name(resource))
            }
            AverageValueMetric::Pods(m) => format!("pods metric {}", pod_metric_name(m)),
        };
        Proposal::new(r.replicas, metric_name, None, r.average_milli)
    }

    /// `replicas` proposed by `metric_name`, with what the metric measured.
    fn new(
        replicas: u32,
        metric_name: String,
        average_utilization_percent: Option<i32>,
        average_value_milli: i64,
    ) -> Proposal {
        Proposal {
            replicas,
            metric_name,
            value: MetricValue {
                average_utilization_percent,
                average_value_milli,
                proposed_replicas: replicas,
            },
        }
    }
}

/// Why one metric is invalid: the condition it would set and the error it returns.
struct Invalid {
    reason: &'static str,
    condition_message: String,
    error: String,
}

impl Invalid {
    /// A metric the HPA could not compute: `wrapped` is the cause as the condition quotes it,
    /// `error` as the sync returns it.
    fn unable(reason: &'static str, wrapped: String, error: String) -> Invalid {
        Invalid {
            reason,
            condition_message: format!(
                "the HPA was unable to compute the replica count: {wrapped}"
            ),
            error,
        }
    }

    /// A resource metric of `resource` the HPA could not compute: reading its `what`
    /// (`utilization` or `usage`) failed with `e`.
    fn resource(resource: ResourceName, what: &str, e: &CalcError) -> Invalid {
        let name = resource_name(resource);
        let wrapped = format!("failed to get {name} {what}: {e}");
        let error = format!("failed to get {name} resource metric value: {wrapped}");
        Invalid::unable("FailedGetResourceMetric", wrapped, error)
    }

    /// An average-value target on `metric` the HPA could not compute, for the cause `e`.
    fn average_value(metric: AverageValueMetric, e: &CalcError) -> Invalid {
        match metric {
            AverageValueMetric::Resource(resource) => Invalid::resource(resource, "usage", e),
            AverageValueMetric::Pods(_) => {
                let error = format!("failed to get pods metric value: {e}");
                Invalid::unable("FailedGetPodsMetric", e.to_string(), error)
            }
        }
    }
}

impl Hpa {
    /// `computeReplicasForMetrics`: the largest proposal over the valid metrics, with its metric
    /// name, the per-metric statuses, and the error. No proposal when every metric is invalid,
    /// or when some are and the valid ones would scale down.
    pub(super) fn compute_replicas_for_metrics(
        &mut self,
        now: SimTime,
        current_replicas: u32,
        pods: &[PodObservation],
    ) -> (Option<(u32, String)>, Vec<MetricStatus>, Option<String>) {
        let mut statuses = Vec::with_capacity(self.spec.metrics.len());
        let mut replicas = 0;
        let mut metric = String::new();
        let mut invalid_count = 0;
        let mut first_invalid: Option<Invalid> = None;
        for spec in &self.spec.metrics {
            match self.compute_replicas_for_metric(now, current_replicas, spec, pods) {
                Ok(p) => {
                    if replicas == 0 || p.replicas > replicas {
                        replicas = p.replicas;
                        metric = p.metric_name;
                    }
                    statuses.push(MetricStatus {
                        spec: spec.clone(),
                        outcome: Ok(p.value),
                    });
                }
                Err(invalid) => {
                    statuses.push(MetricStatus {
                        spec: spec.clone(),
                        outcome: Err(invalid.condition_message.clone()),
                    });
                    invalid_count += 1;
                    first_invalid.get_or_insert(invalid);
                }
            }
        }
        let total = self.spec.metrics.len();
        let error = first_invalid.as_ref().map(|i| {
            format!(
                "invalid metrics ({invalid_count} invalid out of {total}), first error is: {}",
                i.error
            )
        });
        if let Some(invalid) = first_invalid
            && (invalid_count >= total || replicas < current_replicas)
        {
            self.condition(
                now,
                ConditionType::ScalingActive,
                ConditionStatus::False,
                invalid.reason,
                invalid.condition_message,
            );
            return (None, statuses, error);
        }
        self.condition(
            now,
            ConditionType::ScalingActive,
            ConditionStatus::True,
            "ValidMetricFound",
            format!("the HPA was able to successfully calculate a replica count from {metric}"),
        );
        (Some((replicas, metric)), statuses, error)
    }

    /// `computeReplicasForMetric` for the metric types a scenario can give.
    fn compute_replicas_for_metric(
        &self,
        now: SimTime,
        current_replicas: u32,
        spec: &HpaMetric,
        pods: &[PodObservation],
    ) -> Result<Proposal, Invalid> {
        let calc = ReplicaCalculator {
            cpu_initialization_period: self.timings.cpu_initialization_period,
            delay_of_initial_readiness_status: self.timings.delay_of_initial_readiness_status,
        };
        let tolerances = self.tolerances;
        let (metric, target) = match *spec {
            HpaMetric::ResourceUtilization {
                resource,
                average_utilization_percent: target,
            } => {
                return calc
                    .get_resource_replicas(
                        now,
                        current_replicas,
                        target,
                        resource,
                        tolerances,
                        pods,
                    )
                    .map(|r| Proposal::utilization(resource, r))
                    .map_err(|e| Invalid::resource(resource, "utilization", &e));
            }
            HpaMetric::ResourceAverageValue {
                resource,
                average_value,
            } => (
                AverageValueMetric::Resource(resource),
                milli_value(resource, average_value),
            ),
            HpaMetric::Pods {
                metric,
                average_value,
            } => (AverageValueMetric::Pods(metric), to_milli(average_value)),
        };
        calc.get_average_value_replicas(now, current_replicas, target, metric, tolerances, pods)
            .map(|r| Proposal::average_value(metric, r))
            .map_err(|e| Invalid::average_value(metric, &e))
    }
}

/// `averageValue.MilliValue()` of a resource target: millicores as they are, bytes times 1000.
fn milli_value(resource: ResourceName, average_value: u64) -> i128 {
    match resource {
        ResourceName::Cpu => i128::from(average_value),
        ResourceName::Memory => i128::from(average_value) * 1000,
    }
}
