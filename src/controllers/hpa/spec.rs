//! A HorizontalPodAutoscaler's spec (autoscaling/v2): its target, bounds, metrics and
//! `behavior`, as the user wrote them. Kubernetes' defaults for what is left out are filled in
//! by the controller (`behavior`), not here.
//!
//! Use `HpaSpec` to build an `Hpa`. These are plain data: validation (`scenario`) guarantees
//! their invariants.

use crate::units::SimDuration;

/// A HorizontalPodAutoscaler (autoscaling/v2) targeting one service's Deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// Index of the target service in `Scenario::services`.
    pub service: usize,
    /// `minReplicas` (default 1).
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// `metrics`, at least one.
    pub metrics: Vec<HpaMetric>,
    /// `behavior`, when given.
    pub behavior: Option<HpaBehavior>,
    /// How often the controller syncs (`--horizontal-pod-autoscaler-sync-period`, default 15s).
    pub sync_period: SimDuration,
    /// Where the syncs fall relative to metrics-server's samples: a fixed offset in
    /// `[0, sync_period)`, or drawn per run, as a real HPA's phase is whatever it started with.
    pub sync_offset: SyncOffset,
    /// Relative change below which the HPA does nothing (default 0.1).
    pub tolerance: f64,
}

impl HpaSpec {
    /// The time-series columns of this HPA's metrics: each distinct `HpaMetric::column_name`
    /// once, in the order the metrics first name it. Kubernetes accepts the same metric
    /// twice (with different targets, say) and acts on the largest proposal; both measure the
    /// same value, so they share a column.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut columns: Vec<&'static str> = Vec::new();
        for metric in &self.metrics {
            let name = metric.column_name();
            if !columns.contains(&name) {
                columns.push(name);
            }
        }
        columns
    }

    /// For each metric, in order, the index in `columns` of the column its value goes to.
    pub fn column_slots(&self) -> Vec<usize> {
        let columns = self.columns();
        self.metrics
            .iter()
            .map(|m| {
                columns
                    .iter()
                    .position(|c| *c == m.column_name())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// Where an HPA's syncs fall within its period, relative to metrics-server's samples (which
/// are taken at whole multiples of the metric resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOffset {
    /// Drawn uniformly in `[0, sync_period)` from the run's seed: the sample an HPA reads is
    /// between 0 and one resolution old, as in a real cluster.
    Random,
    /// Syncs this long after each sample instant (`0s`: every sync reads a sample taken at that
    /// instant, the quickest reaction possible).
    Fixed(SimDuration),
}

/// A resource an HPA can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceName {
    /// CPU.
    Cpu,
    /// Memory.
    Memory,
}

/// A per-pod metric taken from the simulated load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PodMetricName {
    /// Requests per second arriving at the pod.
    RequestsPerSecond,
    /// Requests queued or in service at the pod.
    InFlightRequests,
}

/// An HPA metric and its target.
#[derive(Debug, Clone, PartialEq)]
pub enum HpaMetric {
    /// `type: Resource`, with a `Utilization` target in percent of requests.
    ResourceUtilization {
        /// cpu or memory.
        resource: ResourceName,
        /// `averageUtilization` in percent.
        average_utilization_percent: u32,
    },
    /// `type: Resource`, with an `AverageValue` target (millicores for cpu, bytes for memory).
    ResourceAverageValue {
        /// cpu or memory.
        resource: ResourceName,
        /// `averageValue` in millicores (cpu) or bytes (memory).
        average_value: u64,
    },
    /// `type: Pods`, with an `AverageValue` target.
    Pods {
        /// Which per-pod metric.
        metric: PodMetricName,
        /// `averageValue` per pod.
        average_value: f64,
    },
}

impl HpaMetric {
    /// The target in the unit of `column_name`: percent, millicores, bytes or a per-pod value.
    pub fn target_value(&self) -> f64 {
        match self {
            HpaMetric::ResourceUtilization {
                average_utilization_percent,
                ..
            } => f64::from(*average_utilization_percent),
            HpaMetric::ResourceAverageValue { average_value, .. } => *average_value as f64,
            HpaMetric::Pods { average_value, .. } => *average_value,
        }
    }

    /// A short name with its unit, for the time-series column of the value the HPA saw:
    /// `cpu_utilization_pct`, `memory_average_bytes`, `requests_per_second`, ...
    pub fn column_name(&self) -> &'static str {
        match self {
            HpaMetric::ResourceUtilization {
                resource: ResourceName::Cpu,
                ..
            } => "cpu_utilization_pct",
            HpaMetric::ResourceUtilization {
                resource: ResourceName::Memory,
                ..
            } => "memory_utilization_pct",
            HpaMetric::ResourceAverageValue {
                resource: ResourceName::Cpu,
                ..
            } => "cpu_average_millicores",
            HpaMetric::ResourceAverageValue {
                resource: ResourceName::Memory,
                ..
            } => "memory_average_bytes",
            HpaMetric::Pods {
                metric: PodMetricName::RequestsPerSecond,
                ..
            } => "requests_per_second",
            HpaMetric::Pods {
                metric: PodMetricName::InFlightRequests,
                ..
            } => "in_flight_requests",
        }
    }
}

/// `behavior` of an HPA.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HpaBehavior {
    /// `scaleUp`, when given.
    pub scale_up: Option<HpaScalingRules>,
    /// `scaleDown`, when given.
    pub scale_down: Option<HpaScalingRules>,
}

/// `HPAScalingRules`: what the user wrote; Kubernetes' defaults are filled in by the HPA.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HpaScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window_seconds: Option<u32>,
    /// `selectPolicy`.
    pub select_policy: Option<SelectPolicy>,
    /// `policies`; `None` when the field is absent (Kubernetes then uses its defaults).
    pub policies: Option<Vec<HpaScalingPolicy>>,
    /// `tolerance`, the per-direction tolerance of Kubernetes 1.33+.
    pub tolerance: Option<f64>,
}

/// `selectPolicy` of scaling rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// The kind of an HPA scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalingPolicyKind {
    /// An absolute number of pods per period.
    Pods,
    /// A percentage of the current replicas per period.
    Percent,
}

/// One HPA scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HpaScalingPolicy {
    /// Pods or Percent.
    pub kind: ScalingPolicyKind,
    /// Pods or percent allowed per period (`> 0`).
    pub value: u32,
    /// Length of the period in seconds (1..=1800).
    pub period_seconds: u32,
}
