//! Table tests of the replica calculator, each with the arithmetic it expects.

use super::*;
use crate::controllers::hpa::observation::{ResourceSample, to_milli};
use crate::units::{Bytes, Millicores, Resources};

/// The instant every test looks from; pods started at 0 are long past initialization.
const NOW: SimTime = SimTime(3_600_000_000);

fn calc() -> ReplicaCalculator {
    ReplicaCalculator {
        cpu_initialization_period: SimDuration::from_secs(120),
        delay_of_initial_readiness_status: SimDuration::from_secs(10),
    }
}

/// A ready running pod requesting `request_m` CPU and 1 GiB, using `usage_m` (or no sample).
fn pod(request_m: u64, usage_m: Option<u64>) -> PodObservation {
    PodObservation {
        phase: ObservedPhase::Running,
        deleting: false,
        start_time: Some(SimTime::ZERO),
        ready: true,
        ready_transition: SimTime::ZERO,
        requests: Resources::new(request_m, Bytes::GIB),
        has_cpu_request: true,
        has_memory_request: true,
        usage: usage_m.map(|m| ResourceSample {
            timestamp: SimTime::ZERO,
            window: SimDuration::from_secs(60),
            cpu: Millicores(m),
            memory: Bytes(m * Bytes::MIB),
        }),
        requests_per_second: None,
        in_flight_requests: None,
    }
}

fn unready(mut p: PodObservation) -> PodObservation {
    p.ready = false;
    p
}

fn cpu(
    current: u32,
    target: u32,
    tolerances: Tolerances,
    pods: &[PodObservation],
) -> Result<ResourceReplicas, CalcError> {
    calc().get_resource_replicas(NOW, current, target, ResourceName::Cpu, tolerances, pods)
}

fn tol() -> Tolerances {
    Tolerances::symmetric(0.1)
}

#[test]
fn tolerance_band_edges() {
    // 10 pods requesting 1000m each; usage u per pod gives utilization u/10 % of a 100% target.
    let cases = [
        // 1100m: ratio 110/100 = 1.1 <= 1 + 0.1: inside the band (1.33+), hold 10.
        (1_100, 10),
        // 1110m: ratio 1.11: ceil(1.11 * 10) = 12 (11.100000000000001 in floating point).
        (1_110, 12),
        // 900m: ratio 0.9 >= 1 - 0.1: inside, hold.
        (900, 10),
        // 890m: ratio 0.89: ceil(8.9) = 9.
        (890, 9),
    ];
    for (usage, want) in cases {
        let pods = vec![pod(1_000, Some(usage)); 10];
        let got = cpu(10, 100, tol(), &pods).expect("samples");
        assert_eq!(got.replicas, want, "usage {usage}m");
        assert_eq!(i64::from(got.utilization_percent), (usage / 10) as i64);
        assert_eq!(got.raw_average_milli, usage as i64);
    }
}

#[test]
fn per_direction_tolerances() {
    let pods = vec![pod(1_000, Some(1_010)); 4];
    // Ratio 1.01 with no scale-up tolerance: ceil(1.01 * 4) = ceil(4.04) = 5.
    let eager_up = Tolerances {
        scale_down: 0.2,
        scale_up: 0.0,
    };
    assert_eq!(cpu(4, 100, eager_up, &pods).unwrap().replicas, 5);
    // Ratio 0.85 on 10 pods with a 20% scale-down tolerance: 0.8 <= 0.85, hold 10.
    let pods = vec![pod(1_000, Some(850)); 10];
    assert_eq!(cpu(10, 100, eager_up, &pods).unwrap().replicas, 10);
    // The same ratio with the default 10%: outside the band, ceil(0.85 * 10) = ceil(8.5) = 9.
    assert_eq!(cpu(10, 100, tol(), &pods).unwrap().replicas, 9);
}

#[test]
fn missing_metrics_in_both_directions() {
    // Scale-down: 2 pods at 100m of 1000m (10%), 2 without samples counted at 100% of request:
    // (100 + 100 + 1000 + 1000) * 100 / 4000 = 55% -> ratio 0.55 -> ceil(0.55 * 4) = ceil(2.2) = 3.
    let pods = [
        pod(1_000, Some(100)),
        pod(1_000, Some(100)),
        pod(1_000, None),
        pod(1_000, None),
    ];
    let got = cpu(4, 100, tol(), &pods).unwrap();
    assert_eq!((got.replicas, got.utilization_percent), (3, 10));
    // Scale-up: 2 pods at 3000m (300%), 2 missing counted as 0:
    // 6000 * 100 / 4000 = 150% -> ceil(1.5 * 4) = 6.
    let pods = [
        pod(1_000, Some(3_000)),
        pod(1_000, Some(3_000)),
        pod(1_000, None),
        pod(1_000, None),
    ];
    let got = cpu(4, 100, tol(), &pods).unwrap();
    assert_eq!((got.replicas, got.utilization_percent), (6, 300));
    // Scale-up whose fill-in lands inside the band: 1 pod at 2100m, 1 missing:
    // 2100 * 100 / 2000 = 105% -> within 10%: hold 2.
    let pods = [pod(1_000, Some(2_100)), pod(1_000, None)];
    assert_eq!(cpu(2, 100, tol(), &pods).unwrap().replicas, 2);
}

#[test]
fn missing_pods_count_at_the_target_above_100_percent() {
    // Target 200%. 2 pods at 500m of 1000m (50%: ratio 0.25), 2 missing counted at
    // max(100, 200)% = 2000m each: 5000 * 100 / 4000 = 125% -> ratio 0.625 -> ceil(2.5) = 3.
    // (At 100% they would make 75%, ratio 0.375, ceil(1.5) = 2.)
    let pods = [
        pod(1_000, Some(500)),
        pod(1_000, Some(500)),
        pod(1_000, None),
        pod(1_000, None),
    ];
    assert_eq!(cpu(4, 200, tol(), &pods).unwrap().replicas, 3);
}

#[test]
fn unready_pods_count_as_idle_only_on_scale_up() {
    // Scale-up: 2 ready pods at 1500m (150%), 1 unready pod's 1000m sample replaced by 0:
    // 3000 * 100 / 3000 = 100% ... inside the band: hold 3.
    let pods = [
        pod(1_000, Some(1_500)),
        pod(1_000, Some(1_500)),
        unready(pod(1_000, Some(1_000))),
    ];
    let got = cpu(3, 100, tol(), &pods).unwrap();
    assert_eq!((got.replicas, got.utilization_percent), (3, 150));
    // With the ready pods at 3000m: 6000 * 100 / 3000 = 200% -> ceil(2 * 3) = 6.
    let pods = [
        pod(1_000, Some(3_000)),
        pod(1_000, Some(3_000)),
        unready(pod(1_000, Some(1_000))),
    ];
    assert_eq!(cpu(3, 100, tol(), &pods).unwrap().replicas, 6);
    // Scale-down: the unready pod is left out, not filled in: 2 ready pods at 200m (20%)
    // -> ceil(0.2 * 2) = 1.
    let pods = [
        pod(1_000, Some(200)),
        pod(1_000, Some(200)),
        unready(pod(1_000, Some(900))),
    ];
    let got = cpu(3, 100, tol(), &pods).unwrap();
    assert_eq!((got.replicas, got.raw_average_milli), (1, 200));
}

#[test]
fn pending_failed_and_terminating_pods() {
    let mut pending = pod(1_000, None);
    pending.phase = ObservedPhase::Pending;
    let mut failed = pod(1_000, Some(5_000));
    failed.phase = ObservedPhase::Failed;
    let mut terminating = pod(1_000, Some(5_000));
    terminating.deleting = true;
    // Failed and terminating pods are ignored even with samples; the pending pod counts as 0 on
    // the scale-up: (1600 + 0) * 100 / 2000 = 80%... so first the ready pod alone is 160% (> 1),
    // then 1600 / 2000 = 80% flips the direction: hold 2.
    let pods = [pod(1_000, Some(1_600)), pending, failed, terminating];
    let got = cpu(2, 100, tol(), &pods).unwrap();
    assert_eq!((got.replicas, got.utilization_percent), (2, 160));
    // Alone, the ready pod at 3000m: 300% -> with the pending pod 150% -> ceil(1.5 * 2) = 3.
    let pods = [pod(1_000, Some(3_000)), pending, failed, terminating];
    assert_eq!(cpu(2, 100, tol(), &pods).unwrap().replicas, 3);
}

#[test]
fn scale_down_never_raises_the_count() {
    // Current 2 but 4 pods: 1 at 100m (10%), 3 missing at 100%:
    // 3100 * 100 / 4000 = 77% -> ceil(0.77 * 4) = 4 > 2 while the ratio is below 1: hold 2.
    let pods = [
        pod(1_000, Some(100)),
        pod(1_000, None),
        pod(1_000, None),
        pod(1_000, None),
    ];
    assert_eq!(cpu(2, 100, tol(), &pods).unwrap().replicas, 2);
}

#[test]
fn cpu_readiness_during_and_after_initialization() {
    let window = SimDuration::from_secs(60);
    let sampled = |mut p: PodObservation, at: SimTime| {
        if let Some(s) = p.usage.as_mut() {
            s.timestamp = at;
            s.window = window;
        }
        p
    };
    let started = |mut p: PodObservation, at: SimTime| {
        p.start_time = Some(at);
        p
    };
    let became_ready = |mut p: PodObservation, at: SimTime| {
        p.ready_transition = at;
        p
    };
    let secs = |s: u64| SimTime(NOW.0 - s * 1_000_000);
    let cases = [
        // Started 60s ago (inside the 120s initialization), ready 50s ago, sampled now:
        // the sample ends 50s after the transition, less than a 60s window: set aside.
        (
            sampled(
                became_ready(started(pod(1_000, Some(1)), secs(60)), secs(50)),
                NOW,
            ),
            true,
        ),
        // Same, ready 70s ago: a whole window since the transition: counted.
        (
            sampled(
                became_ready(started(pod(1_000, Some(1)), secs(100)), secs(70)),
                NOW,
            ),
            false,
        ),
        // Inside initialization and not ready: set aside.
        (unready(started(pod(1_000, Some(1)), secs(60))), true),
        // Past initialization, not ready, last transition 5s after start (< 10s delay): never
        // was ready, set aside.
        (
            became_ready(unready(started(pod(1_000, Some(1)), secs(600))), secs(595)),
            true,
        ),
        // Past initialization, not ready since long after start: it was ready once, counted.
        (
            became_ready(unready(started(pod(1_000, Some(1)), secs(600))), secs(300)),
            false,
        ),
        // No start time: set aside.
        (
            {
                let mut p = pod(1_000, Some(1));
                p.start_time = None;
                p
            },
            true,
        ),
    ];
    for (i, (p, set_aside)) in cases.into_iter().enumerate() {
        let metrics = [p.usage_milli(ResourceName::Cpu)];
        let cpu_groups = calc().group_pods(NOW, &[p], &metrics, Some(ResourceName::Cpu));
        assert_eq!(cpu_groups.unready.len(), usize::from(set_aside), "case {i}");
        assert_eq!(cpu_groups.ready_count, usize::from(!set_aside), "case {i}");
        // Memory samples are never readiness-checked.
        let mem = [p.usage_milli(ResourceName::Memory)];
        let mem_groups = calc().group_pods(NOW, &[p], &mem, Some(ResourceName::Memory));
        assert_eq!(mem_groups.ready_count, 1, "case {i}");
    }
}

#[test]
fn errors_in_upstream_words() {
    let cases: Vec<(Vec<PodObservation>, &str)> = vec![
        (
            vec![],
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
        ),
        (
            vec![pod(1_000, None)],
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
        ),
        (
            vec![unready(pod(1_000, Some(5))), {
                let mut p = pod(1_000, None);
                p.phase = ObservedPhase::Pending;
                p
            }],
            "did not receive metrics for targeted pods (pods might be unready)",
        ),
        (
            vec![pod(1_000, Some(5)), {
                let mut p = pod(0, Some(5));
                p.has_cpu_request = false;
                p
            }],
            "missing request for cpu in a container of pod 1",
        ),
        (
            vec![pod(0, Some(5))],
            "no metrics returned matched known pods",
        ),
    ];
    for (pods, message) in cases {
        let err = cpu(1, 50, tol(), &pods).expect_err(message);
        assert_eq!(err.to_string(), message);
    }
    let in_flight = AverageValueMetric::Pods(PodMetricName::InFlightRequests);
    let err = calc()
        .get_average_value_replicas(NOW, 1, 1_000, in_flight, tol(), &[])
        .expect_err("no pods");
    assert_eq!(
        err.to_string(),
        "unable to get metric in_flight_requests: no metrics returned from custom metrics API"
    );
}

#[test]
fn pod_metrics_average_value() {
    let with_rps = |rps: Option<f64>| {
        let mut p = pod(1_000, None);
        p.requests_per_second = rps;
        p
    };
    let rps = |current, target: f64, pods: &[PodObservation]| {
        calc()
            .get_average_value_replicas(
                NOW,
                current,
                to_milli(target),
                AverageValueMetric::Pods(PodMetricName::RequestsPerSecond),
                tol(),
                pods,
            )
            .unwrap()
    };
    // 15 and 25 req/s against 10: average 20000 milli -> ratio 2 -> ceil(2 * 2) = 4.
    let got = rps(2, 10.0, &[with_rps(Some(15.0)), with_rps(Some(25.0))]);
    assert_eq!((got.replicas, got.average_milli), (4, 20_000));
    // Scale-down with a missing pod counted at the target: 2 req/s on one pod, the other at
    // 10: average (2000 + 10000) / 2 = 6000 -> ratio 0.6 -> ceil(0.6 * 2) = ceil(1.2) = 2;
    // the reported average is the first one's, 2000.
    let got = rps(2, 10.0, &[with_rps(Some(2.0)), with_rps(None)]);
    assert_eq!((got.replicas, got.average_milli), (2, 2_000));
    // Unready pods are not readiness-checked for pod metrics: the unready pod's sample counts.
    // 3 and 1 req/s: average 2000 -> ratio 0.2 -> ceil(0.4) = 1.
    let got = rps(
        2,
        10.0,
        &[with_rps(Some(3.0)), unready(with_rps(Some(1.0)))],
    );
    assert_eq!(got.replicas, 1);
    // Integer average: 1, 1 and 2 milli-requests average to 4 / 3 = 1.
    let got = rps(
        3,
        0.001,
        &[
            with_rps(Some(0.001)),
            with_rps(Some(0.001)),
            with_rps(Some(0.002)),
        ],
    );
    assert_eq!(got.average_milli, 1);
}

#[test]
fn raw_resource_average_value() {
    // Memory target 512 MiB per pod; pods use 1024 and 512 MiB: average 768 MiB (in milli-bytes)
    // -> ratio 1.5 -> ceil(1.5 * 2) = 3.
    let pods = [pod(1_000, Some(1_024)), pod(1_000, Some(512))];
    let target = i128::from(512 * Bytes::MIB) * 1000;
    let memory = AverageValueMetric::Resource(ResourceName::Memory);
    let got = calc()
        .get_average_value_replicas(NOW, 2, target, memory, tol(), &pods)
        .unwrap();
    assert_eq!(got.replicas, 3);
    assert_eq!(got.average_milli, (768 * Bytes::MIB * 1000) as i64);
}
