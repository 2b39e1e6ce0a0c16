//! What the HPA sees of its target's pods: one `PodObservation` per pod, as the API server
//! (phase, readiness, start time, requests) and the metrics APIs (metrics-server samples, per-pod
//! custom metrics) would show it.
//!
//! Use these types to hand the controller a snapshot; they hold data only. Turning samples into
//! the milli-units Kubernetes computes with is done here; grouping pods and deciding what counts
//! is the replica calculator's business.

use crate::controllers::hpa::spec::{PodMetricName, ResourceName};
use crate::units::{Bytes, Millicores, Resources, SimDuration, SimTime};

/// The pod phases the HPA distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObservedPhase {
    /// Not running yet: unscheduled, or bound and pulling its image.
    Pending,
    /// Containers started.
    Running,
    /// Terminated in failure.
    Failed,
}

/// One metrics-server sample of a pod: usage averaged over `window`, ending at `timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceSample {
    /// End of the window the usage was averaged over.
    pub timestamp: SimTime,
    /// Length of that window (metrics-server's resolution).
    pub window: SimDuration,
    /// CPU used (sum over containers).
    pub cpu: Millicores,
    /// Memory used (sum over containers).
    pub memory: Bytes,
}

/// What the HPA observes about one pod of its target, as the API server and metrics APIs show it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodObservation {
    /// `status.phase`.
    pub phase: ObservedPhase,
    /// `metadata.deletionTimestamp` is set: the pod is terminating.
    pub deleting: bool,
    /// `status.startTime`: set when the kubelet starts the pod.
    pub start_time: Option<SimTime>,
    /// Status of the `PodReady` condition.
    pub ready: bool,
    /// `lastTransitionTime` of the `PodReady` condition.
    pub ready_transition: SimTime,
    /// Sum of the containers' requests (0 where unset).
    pub requests: Resources,
    /// Every container requests CPU. Without it a CPU utilization metric is invalid, as upstream.
    pub has_cpu_request: bool,
    /// Every container requests memory.
    pub has_memory_request: bool,
    /// The pod's metrics-server sample; `None` when metrics-server has none for it.
    pub usage: Option<ResourceSample>,
    /// Per-pod custom metric `requests_per_second` for `type: Pods` metrics; `None` = missing.
    pub requests_per_second: Option<f64>,
    /// Per-pod custom metric `in_flight_requests`; `None` = missing.
    pub in_flight_requests: Option<f64>,
}

impl PodObservation {
    /// The pod's request for `resource` in milli-units (millicores, or thousandths of a byte as
    /// Kubernetes' `MilliValue`), or `None` when some container does not request it.
    pub fn request_milli(&self, resource: ResourceName) -> Option<i128> {
        match resource {
            ResourceName::Cpu => self
                .has_cpu_request
                .then_some(i128::from(self.requests.cpu.0)),
            ResourceName::Memory => self
                .has_memory_request
                .then(|| i128::from(self.requests.memory.0) * 1000),
        }
    }

    /// The pod's metrics-server usage of `resource` in milli-units, if it has a sample.
    pub fn usage_milli(&self, resource: ResourceName) -> Option<i128> {
        self.usage.map(|s| sample_milli(&s, resource))
    }

    /// The pod's sample of a per-pod custom metric in milli-units, if it has one.
    pub fn pod_metric_milli(&self, metric: PodMetricName) -> Option<i128> {
        let value = match metric {
            PodMetricName::RequestsPerSecond => self.requests_per_second,
            PodMetricName::InFlightRequests => self.in_flight_requests,
        };
        value.map(to_milli)
    }
}

/// A sample's usage of `resource` in milli-units.
fn sample_milli(sample: &ResourceSample, resource: ResourceName) -> i128 {
    match resource {
        ResourceName::Cpu => i128::from(sample.cpu.0),
        ResourceName::Memory => i128::from(sample.memory.0) * 1000,
    }
}

/// A real value in milli-units, rounded to the nearest (NaN is 0).
///
/// Kubernetes reads custom metrics as quantities whose `MilliValue` rounds up; a simulated
/// rate is not a quantity, and rounding up `0.7 * 1000 = 700.000…01` would turn it into 701, so
/// capsim rounds to the nearest milli-unit instead.
pub fn to_milli(value: f64) -> i128 {
    // A float-to-integer cast saturates and maps NaN to 0.
    (value * 1000.0).round() as i64 as i128
}

/// The lowercase name Kubernetes uses for a resource (`cpu`, `memory`).
pub const fn resource_name(resource: ResourceName) -> &'static str {
    match resource {
        ResourceName::Cpu => "cpu",
        ResourceName::Memory => "memory",
    }
}

/// The name of a per-pod metric as the scenario file spells it.
pub const fn pod_metric_name(metric: PodMetricName) -> &'static str {
    match metric {
        PodMetricName::RequestsPerSecond => "requests_per_second",
        PodMetricName::InFlightRequests => "in_flight_requests",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> PodObservation {
        PodObservation {
            phase: ObservedPhase::Running,
            deleting: false,
            start_time: Some(SimTime::ZERO),
            ready: true,
            ready_transition: SimTime::ZERO,
            requests: Resources::new(1_500, 2 * Bytes::GIB),
            has_cpu_request: true,
            has_memory_request: false,
            usage: Some(ResourceSample {
                timestamp: SimTime::ZERO,
                window: SimDuration::from_secs(60),
                cpu: Millicores(700),
                memory: Bytes(3),
            }),
            requests_per_second: Some(0.7),
            in_flight_requests: None,
        }
    }

    #[test]
    fn values_are_read_in_milli_units() {
        let p = pod();
        assert_eq!(p.request_milli(ResourceName::Cpu), Some(1_500));
        // No memory request on some container: the request is unknown, not zero.
        assert_eq!(p.request_milli(ResourceName::Memory), None);
        assert_eq!(p.usage_milli(ResourceName::Cpu), Some(700));
        // 3 bytes = 3000 milli-bytes, as Quantity.MilliValue().
        assert_eq!(p.usage_milli(ResourceName::Memory), Some(3_000));
        // 0.7 * 1000 is 700.0000000000001 in floating point: rounded, not ceiled.
        assert_eq!(
            p.pod_metric_milli(PodMetricName::RequestsPerSecond),
            Some(700)
        );
        assert_eq!(p.pod_metric_milli(PodMetricName::InFlightRequests), None);
        assert_eq!(to_milli(f64::NAN), 0);
        assert_eq!(to_milli(1e300), i128::from(i64::MAX));
    }
}
