//! Tests of whole syncs: clamps, the legacy and behavior paths, several metrics.

use super::*;
use crate::controllers::hpa::spec::{
    HpaBehavior, HpaMetric, HpaScalingRules, PodMetricName, ResourceName, SyncOffset,
};
use crate::units::{Bytes, Millicores, Resources};

const CPU_50: HpaMetric = HpaMetric::ResourceUtilization {
    resource: ResourceName::Cpu,
    average_utilization_percent: 50,
};

fn spec(min: u32, max: u32, metrics: Vec<HpaMetric>, behavior: Option<HpaBehavior>) -> HpaSpec {
    HpaSpec {
        service: 0,
        min_replicas: min,
        max_replicas: max,
        metrics,
        behavior,
        sync_period: SimDuration::from_secs(15),
        sync_offset: SyncOffset::Fixed(SimDuration::ZERO),
        tolerance: 0.1,
    }
}

/// `s` seconds after the tests' origin, an hour into the run: the pods, started at time zero,
/// are past their CPU initialization period.
fn at(s: u64) -> SimTime {
    SimTime((3_600 + s) * 1_000_000)
}

/// `n` ready pods requesting 1000m, each using `usage_m`, started at time zero.
fn pods(n: usize, usage_m: u64) -> Vec<PodObservation> {
    let pod = PodObservation {
        phase: ObservedPhase::Running,
        deleting: false,
        start_time: Some(SimTime::ZERO),
        ready: true,
        ready_transition: SimTime::ZERO,
        requests: Resources::new(1_000, Bytes::GIB),
        has_cpu_request: true,
        has_memory_request: true,
        usage: Some(ResourceSample {
            timestamp: SimTime::ZERO,
            window: SimDuration::from_secs(60),
            cpu: Millicores(usage_m),
            memory: Bytes(Bytes::GIB / 2),
        }),
        requests_per_second: None,
        in_flight_requests: None,
    };
    vec![pod; n]
}

/// (condition, status, reason) of each condition, in order.
fn summary(conditions: &[HpaCondition]) -> Vec<(&'static str, ConditionStatus, &'static str)> {
    conditions
        .iter()
        .map(|c| (c.kind.as_str(), c.status, c.reason))
        .collect()
}

use ConditionStatus::{False, True};

#[test]
fn outside_min_max_goes_straight_to_the_bound() {
    // Kubernetes' TestScaleUpRCImmediately and TestScaleDownRCImmediately: no metric is read,
    // and AbleToScale is the only condition.
    let cases = [
        (
            2,
            6,
            1,
            2,
            "Current number of replicas below Spec.MinReplicas",
        ),
        (
            2,
            5,
            6,
            5,
            "Current number of replicas above Spec.MaxReplicas",
        ),
    ];
    for (min, max, current, want, reason) in cases {
        let mut hpa = Hpa::new(spec(min, max, vec![CPU_50], None), HpaTimings::default());
        let d = hpa.reconcile(at(1000), current, &[]);
        assert_eq!((d.desired_replicas, d.rescale), (want, true));
        assert_eq!(d.reason, reason);
        assert!(d.metrics.is_empty());
        assert_eq!(
            summary(&d.conditions),
            [("AbleToScale", True, "SucceededRescale")]
        );
        assert_eq!(hpa.last_scale_time(), Some(at(1000)));
    }
}

#[test]
fn zero_replicas_disables_scaling() {
    let mut hpa = Hpa::new(spec(1, 5, vec![CPU_50], None), HpaTimings::default());
    let d = hpa.reconcile(at(1000), 0, &pods(2, 900));
    assert_eq!((d.desired_replicas, d.rescale), (0, false));
    assert_eq!(
        summary(&d.conditions),
        [
            ("AbleToScale", True, "SucceededGetScale"),
            ("ScalingActive", False, "ScalingDisabled"),
        ]
    );
}

#[test]
fn legacy_scale_up_is_limited_to_twice_current() {
    // 2 pods at 2000m of 1000m: 200% against 50% -> ratio 4 -> ceil(4 × 2) = 8 proposed;
    // the legacy limit is max(2 × 2, 4) = 4.
    let mut hpa = Hpa::new(spec(1, 20, vec![CPU_50], None), HpaTimings::default());
    let d = hpa.reconcile(at(1000), 2, &pods(2, 2_000));
    assert_eq!((d.desired_replicas, d.rescale), (4, true));
    assert_eq!(
        d.reason,
        "cpu resource utilization (percentage of request) above target"
    );
    assert_eq!(
        summary(&d.conditions),
        [
            ("AbleToScale", True, "SucceededRescale"),
            ("ScalingActive", True, "ValidMetricFound"),
            ("ScalingLimited", True, "ScaleUpLimit"),
        ]
    );
    let value = d.metrics[0].outcome.clone().expect("valid metric");
    assert_eq!(
        (
            value.average_utilization_percent,
            value.average_value_milli,
            value.proposed_replicas
        ),
        (Some(200), 2_000, 8)
    );
    // The legacy path records no scale events.
    assert!(hpa.scale_up_events().is_empty());
}

#[test]
fn legacy_scale_down_waits_for_the_stabilization_window() {
    let mut hpa = Hpa::new(spec(1, 20, vec![CPU_50], None), HpaTimings::default());
    // t = 0: 4 pods at 500m (50%): ratio 1, hold 4. The history holds 4 (initial) and 4.
    let d = hpa.reconcile(at(0), 4, &pods(4, 500));
    assert_eq!((d.desired_replicas, d.rescale), (4, false));
    // t = 60 s: 4 pods at 100m (10%): ratio 0.2 -> ceil(0.8) = 1, but 4 was recommended within
    // the 5-minute window: hold 4, AbleToScale ScaleDownStabilized.
    let d = hpa.reconcile(at(60), 4, &pods(4, 100));
    assert_eq!((d.desired_replicas, d.rescale), (4, false));
    assert_eq!(d.reason, "All metrics below target");
    assert_eq!(
        summary(&d.conditions)[0],
        ("AbleToScale", True, "ScaleDownStabilized")
    );
    // t = 301 s: the two 4s at t = 0 are strictly older than 5 minutes; the 1 of t = 60 s stays.
    let d = hpa.reconcile(at(301), 4, &pods(4, 100));
    assert_eq!((d.desired_replicas, d.rescale), (1, true));
}

#[test]
fn behavior_defaults_limit_scale_up_per_15_seconds() {
    let behavior = HpaBehavior::default();
    let mut hpa = Hpa::new(
        spec(1, 100, vec![CPU_50], Some(behavior)),
        HpaTimings::default(),
    );
    // 2 pods at 5000m: 500% / 50% = ratio 10 -> 20 proposed; defaults allow
    // max(2 + 4, 2 × 2) = 6.
    let d = hpa.reconcile(at(100), 2, &pods(2, 5_000));
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(
        summary(&d.conditions)[2],
        ("ScalingLimited", True, "ScaleUpLimit")
    );
    assert_eq!(hpa.scale_up_events().len(), 1);
    // 10 s later the 4 added are within the 15 s period: the period started at 2, limit 6: hold.
    let d = hpa.reconcile(at(110), 6, &pods(6, 5_000));
    assert_eq!((d.desired_replicas, d.rescale), (6, false));
    // 16 s after the first: the event left the period: max(6 + 4, 12) = 12.
    let d = hpa.reconcile(at(116), 6, &pods(6, 5_000));
    assert_eq!(d.desired_replicas, 12);
}

#[test]
fn behavior_scale_down_window_and_per_direction_tolerance() {
    let behavior = HpaBehavior {
        scale_up: Some(HpaScalingRules {
            tolerance: Some(0.0),
            ..HpaScalingRules::default()
        }),
        scale_down: Some(HpaScalingRules {
            stabilization_window_seconds: Some(60),
            ..HpaScalingRules::default()
        }),
    };
    let mut hpa = Hpa::new(
        spec(1, 100, vec![CPU_50], Some(behavior)),
        HpaTimings::default(),
    );
    assert_eq!(
        hpa.tolerances(),
        Tolerances {
            scale_down: 0.1,
            scale_up: 0.0
        }
    );
    // 4 pods at 510m: 51% -> ratio 1.02, outside a zero scale-up tolerance: ceil(4.08) = 5.
    let d = hpa.reconcile(at(0), 4, &pods(4, 510));
    assert_eq!(d.desired_replicas, 5);
    // Load drops at t = 30 s: 5 pods at 100m -> ratio 0.2 -> 1; the 5 recommended 30 s ago
    // holds the count (60 s window).
    let d = hpa.reconcile(at(30), 5, &pods(5, 100));
    assert_eq!((d.desired_replicas, d.rescale), (5, false));
    assert_eq!(
        summary(&d.conditions)[0],
        ("AbleToScale", True, "ScaleDownStabilized")
    );
    // At t = 61 s the window only holds the 1 of t = 30 s: down to 1 (100% per 15 s allowed).
    let d = hpa.reconcile(at(61), 5, &pods(5, 100));
    assert_eq!(d.desired_replicas, 1);
    assert_eq!(hpa.scale_down_events().len(), 1);
}

#[test]
fn several_metrics_take_the_largest_proposal() {
    let rps = HpaMetric::Pods {
        metric: PodMetricName::RequestsPerSecond,
        average_value: 10.0,
    };
    let mut with_rps = pods(4, 500);
    for p in &mut with_rps {
        p.requests_per_second = Some(15.0);
    }
    let mut hpa = Hpa::new(spec(1, 100, vec![CPU_50, rps], None), HpaTimings::default());
    // CPU 50% holds 4; 15 req/s against 10 -> ratio 1.5 -> 6. The largest wins.
    let d = hpa.reconcile(at(0), 4, &with_rps);
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(d.reason, "pods metric requests_per_second above target");
    let proposals: Vec<u32> = d
        .metrics
        .iter()
        .map(|m| m.outcome.clone().map_or(0, |v| v.proposed_replicas))
        .collect();
    assert_eq!(proposals, [4, 6]);
}

#[test]
fn an_invalid_metric_blocks_scale_down_but_not_scale_up() {
    let memory = HpaMetric::ResourceUtilization {
        resource: ResourceName::Memory,
        average_utilization_percent: 50,
    };
    let mut no_memory_request = pods(4, 2_000);
    for p in &mut no_memory_request {
        p.has_memory_request = false;
    }
    // CPU proposes a scale-up (2000m / 50% -> ratio 4 -> 16, limited to 8): it proceeds, and the
    // sync still reports the invalid memory metric.
    let mut hpa = Hpa::new(
        spec(1, 100, vec![CPU_50, memory.clone()], None),
        HpaTimings::default(),
    );
    let d = hpa.reconcile(at(0), 4, &no_memory_request);
    assert_eq!((d.desired_replicas, d.rescale), (8, true));
    assert_eq!(
        summary(&d.conditions)[1],
        ("ScalingActive", True, "ValidMetricFound")
    );
    assert_eq!(
        d.error.as_deref(),
        Some(
            "invalid metrics (1 invalid out of 2), first error is: failed to get memory resource \
             metric value: failed to get memory utilization: missing request for memory in a \
             container of pod 0"
        )
    );
    // CPU proposes a scale-down: the invalid metric stops it.
    for p in &mut no_memory_request {
        p.usage = p.usage.map(|s| ResourceSample {
            cpu: Millicores(100),
            ..s
        });
    }
    let mut hpa = Hpa::new(
        spec(1, 100, vec![CPU_50, memory], None),
        HpaTimings::default(),
    );
    let d = hpa.reconcile(at(0), 4, &no_memory_request);
    assert_eq!((d.desired_replicas, d.rescale), (4, false));
    let active = &d.conditions[1];
    assert_eq!(
        (active.status, active.reason),
        (False, "FailedGetResourceMetric")
    );
    assert_eq!(
        active.message,
        "the HPA was unable to compute the replica count: failed to get memory utilization: \
         missing request for memory in a container of pod 0"
    );
    assert!(d.metrics[1].outcome.is_err());
}

#[test]
fn no_samples_leaves_the_count_alone() {
    let mut hpa = Hpa::new(spec(1, 10, vec![CPU_50], None), HpaTimings::default());
    let mut starting = pods(3, 0);
    for p in &mut starting {
        p.usage = None;
    }
    let d = hpa.reconcile(at(0), 3, &starting);
    assert_eq!(
        (d.desired_replicas, d.rescale, d.reason.as_str()),
        (3, false, "")
    );
    assert_eq!(
        summary(&d.conditions)[1],
        ("ScalingActive", False, "FailedGetResourceMetric")
    );
    assert!(d.error.is_some());
}

#[test]
fn average_value_targets_in_milli_units() {
    // Memory AverageValue 256 MiB; pods use 512 MiB: ratio 2 -> ceil(2 × 3) = 6.
    let memory = HpaMetric::ResourceAverageValue {
        resource: ResourceName::Memory,
        average_value: 256 * Bytes::MIB,
    };
    let mut hpa = Hpa::new(spec(1, 10, vec![memory], None), HpaTimings::default());
    let d = hpa.reconcile(at(0), 3, &pods(3, 0));
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(d.reason, "memory resource above target");
    let value = d.metrics[0].outcome.clone().expect("valid");
    assert_eq!(value.average_value_milli, (512 * Bytes::MIB * 1000) as i64);
    assert_eq!(value.average_utilization_percent, None);
}
