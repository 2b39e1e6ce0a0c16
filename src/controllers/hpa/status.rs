//! What one HPA sync reports: the decision, what each metric saw, and the status conditions
//! (`AbleToScale`, `ScalingActive`, `ScalingLimited`) as `horizontal.go`'s `setCondition` keeps
//! them.
//!
//! Use `HpaDecision` to apply a sync (its `desired_replicas`) and to report it; this module
//! computes nothing beyond keeping the condition list.

use std::fmt;

use crate::controllers::hpa::spec::{HpaMetric, ResourceName};
use crate::units::SimTime;

/// The result of one sync.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaDecision {
    /// The target's `spec.replicas` when the sync began.
    pub current_replicas: u32,
    /// What `spec.replicas` becomes (equal to `current_replicas` when nothing changes).
    pub desired_replicas: u32,
    /// Whether the HPA rescales the target.
    pub rescale: bool,
    /// Why, in the words of upstream's `SuccessfulRescale` event: `"<metric> above target"`,
    /// `"All metrics below target"`, `"Current number of replicas above Spec.MaxReplicas"`,
    /// `"Current number of replicas below Spec.MinReplicas"`; empty when no metric could be used.
    pub reason: String,
    /// Per metric of the spec, in order: what the HPA saw and proposed, or why it could not.
    /// Empty when the replica count alone decided (outside min/max, or zero).
    pub metrics: Vec<MetricStatus>,
    /// The HPA's status conditions after the sync.
    pub conditions: Vec<HpaCondition>,
    /// The error the sync ends with, as `reconcileAutoscaler` returns it: set when some metric
    /// is invalid, also when the HPA still scaled on the others.
    pub error: Option<String>,
}

/// One metric's part in a sync.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricStatus {
    /// The metric as the spec gives it.
    pub spec: HpaMetric,
    /// What it saw and proposed, or the error that made it invalid.
    pub outcome: Result<MetricValue, String>,
}

impl MetricStatus {
    /// The value the HPA compared with the target, in the unit of
    /// `HpaMetric::column_name`: percent for utilization, millicores for CPU averages, bytes
    /// for memory averages, the metric's own unit for per-pod metrics; NaN when invalid.
    pub fn value(&self) -> f64 {
        let Ok(value) = &self.outcome else {
            return f64::NAN;
        };
        match (&self.spec, value.average_utilization_percent) {
            (HpaMetric::ResourceUtilization { .. }, Some(percent)) => f64::from(percent),
            (
                HpaMetric::ResourceAverageValue {
                    resource: ResourceName::Cpu,
                    ..
                },
                _,
            ) => value.average_value_milli as f64,
            _ => value.average_value_milli as f64 / 1_000.0,
        }
    }
}

impl fmt::Display for MetricStatus {
    /// `cpu_utilization_pct 85 (target 70) -> 6 replicas`, or the metric's error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.spec.column_name();
        let target = match &self.spec {
            HpaMetric::ResourceUtilization {
                average_utilization_percent,
                ..
            } => average_utilization_percent.to_string(),
            HpaMetric::ResourceAverageValue { average_value, .. } => average_value.to_string(),
            HpaMetric::Pods { average_value, .. } => average_value.to_string(),
        };
        match &self.outcome {
            Ok(value) => write!(
                f,
                "{name} {} (target {target}) -> {} replicas",
                self.value(),
                value.proposed_replicas
            ),
            Err(error) => write!(f, "{name}: {error}"),
        }
    }
}

impl fmt::Display for HpaCondition {
    /// `ScalingLimited=True TooManyReplicas: the desired replica count is more than the maximum`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
        };
        write!(
            f,
            "{}={status} {}: {}",
            self.kind.as_str(),
            self.reason,
            self.message
        )
    }
}

/// What a valid metric saw (`MetricValueStatus`) and the replica count it proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricValue {
    /// Current utilization in percent of requests, for `Utilization` targets.
    pub average_utilization_percent: Option<i32>,
    /// Current average value per pod in milli-units: millicores, thousandths of a byte, or
    /// thousandths of the custom metric (upstream's raw `MilliValue`).
    pub average_value_milli: i64,
    /// Replicas this metric proposed.
    pub proposed_replicas: u32,
}

/// The kind of an HPA status condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionType {
    /// Whether the HPA can read and update the target's scale, and is not held by stabilization.
    AbleToScale,
    /// Whether a valid metric gave a replica count.
    ScalingActive,
    /// Whether the desired count was limited by min/max or a rate.
    ScalingLimited,
}

impl ConditionType {
    /// The Kubernetes name of the condition.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionType::AbleToScale => "AbleToScale",
            ConditionType::ScalingActive => "ScalingActive",
            ConditionType::ScalingLimited => "ScalingLimited",
        }
    }
}

/// Status of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
}

/// One status condition, as upstream sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaCondition {
    /// Which condition.
    pub kind: ConditionType,
    /// True or False.
    pub status: ConditionStatus,
    /// Machine-readable reason (`ScaleUpLimit`, `ValidMetricFound`, `FailedGetResourceMetric`, ...).
    pub reason: &'static str,
    /// Human-readable message.
    pub message: String,
    /// When the status last changed.
    pub last_transition: SimTime,
}

/// `setConditionInList`: updates the condition of this kind in place, or appends it; the
/// transition time moves only when the status changes.
pub fn set_condition(
    conditions: &mut Vec<HpaCondition>,
    now: SimTime,
    kind: ConditionType,
    status: ConditionStatus,
    reason: &'static str,
    message: String,
) {
    match conditions.iter_mut().find(|c| c.kind == kind) {
        Some(existing) => {
            if existing.status != status {
                existing.last_transition = now;
            }
            existing.status = status;
            existing.reason = reason;
            existing.message = message;
        }
        None => conditions.push(HpaCondition {
            kind,
            status,
            reason,
            message,
            last_transition: now,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_update_in_place_and_keep_transition_times() {
        let mut list = Vec::new();
        let t = |s: u64| SimTime(s * 1_000_000);
        set_condition(
            &mut list,
            t(1),
            ConditionType::AbleToScale,
            ConditionStatus::True,
            "A",
            "a".into(),
        );
        set_condition(
            &mut list,
            t(2),
            ConditionType::ScalingActive,
            ConditionStatus::True,
            "B",
            "b".into(),
        );
        // Same status, new reason: the transition time stays at 1.
        set_condition(
            &mut list,
            t(3),
            ConditionType::AbleToScale,
            ConditionStatus::True,
            "C",
            "c".into(),
        );
        assert_eq!(list.len(), 2);
        assert_eq!((list[0].reason, list[0].last_transition), ("C", t(1)));
        // New status: the transition time moves.
        set_condition(
            &mut list,
            t(4),
            ConditionType::ScalingActive,
            ConditionStatus::False,
            "D",
            "d".into(),
        );
        assert_eq!(
            (list[1].status, list[1].last_transition),
            (ConditionStatus::False, t(4))
        );
        assert_eq!(ConditionType::ScalingLimited.as_str(), "ScalingLimited");
    }
}
