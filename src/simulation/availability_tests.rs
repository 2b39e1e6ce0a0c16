//! What a node failure costs a service, with answers worked out by hand: the time its Ready
//! pods were fewer than its minimum replicas and than its disruption budget asks for, and the
//! requests lost with the failed node's pods. The failure is forced at a known time on a node
//! known to hold one pod; the pool's own random failures are set too rare to happen.

use crate::cluster::disruption::{DisruptionBudget, PodCount};
use crate::cluster::pool::{NodeFailures, NodePool};
use crate::report::summary::ServiceSummary;
use crate::report::{Collect, EventKind};
use crate::simulation::Simulation;
use crate::simulation::tests::{pool, scenario, service};
use crate::units::{SimDuration, SimTime};

/// The failure of node 0, at this many seconds.
const FAILURE_S: u64 = 1_000;
/// The node lifecycle controller notices the failure after its grace period: the pods leave
/// the endpoints then.
const GRACE_S: u64 = 50;
/// The taint manager evicts a failed node's pods after the default toleration.
const EVICTION_S: u64 = 300;
/// The test service's readiness delay and image pull (`tests::service`).
const READY_S: u64 = 5;
const PULL_S: u64 = 10;
/// The pool's provisioning delay (`tests::pool`) and the repair delay set here.
const PROVISION_S: u64 = 90;
const REPAIR_S: u64 = 1_200;

/// `nodes` nodes of `cpu_cores` that fail only when a test says so, repaired after
/// `REPAIR_S`.
fn failing_pool(cpu_cores: u64, nodes: u32) -> NodePool {
    let mut p = pool("p", cpu_cores, 32, nodes);
    p.failures = Some(NodeFailures {
        mean_time_between: SimDuration::from_secs(1_000_000_000),
        repair_delay: SimDuration::from_secs(REPAIR_S),
    });
    p
}

/// Runs three replicas of 3 CPU, busy enough that every pod holds requests, on 3 nodes of
/// `cpu_cores`, with `budget`, for an hour after `warmup_s`, failing node 0 at `failure_s` when
/// given. Returns the service's summary and the number of node failures.
fn run(
    cpu_cores: u64,
    budget: Option<DisruptionBudget>,
    warmup_s: u64,
    failure_s: Option<u64>,
) -> (ServiceSummary, usize) {
    let mut web = service("web", 3, 3_000, 8, 60.0, 250);
    web.disruption_budget = budget;
    let sc = scenario(vec![failing_pool(cpu_cores, 3)], vec![web], 3_600, warmup_s);
    let mut sim = Simulation::new(&sc);
    if let Some(at) = failure_s {
        sim.fail_node_at(SimTime::ZERO + SimDuration::from_secs(at), 0);
    }
    let mut seen = Collect::default();
    let out = sim.run(&mut seen);
    let failures = (seen.events.iter())
        .filter(|e| e.event == EventKind::NodeNotReady)
        .count();
    (out.summary.services["web"].clone(), failures)
}

/// Three nodes of 8 CPU hold one 3-CPU pod each (the scheduler spreads them) and have room
/// for a second: the failed node's pod is replaced on a node that has the image.
const ROOMY_CPU: u64 = 8;

#[test]
fn a_failed_node_s_pod_is_short_from_the_failure_to_its_replacement_s_readiness() {
    let min3 = Some(DisruptionBudget::MinAvailable(PodCount::Count(3)));
    let (web, failures) = run(ROOMY_CPU, min3, 0, Some(FAILURE_S));
    assert_eq!(failures, 1);
    // Failure at 1000 s: the pod leaves the endpoints at once, is evicted 300 s later, its
    // replacement is bound at once on a node that already has the image, and Ready 5 s on.
    let short = (EVICTION_S + READY_S) as f64;
    assert_eq!(web.availability.below_min_replicas_s, short, "{web:?}");
    assert_eq!(web.availability.below_min_available_s, Some(short));
    assert_eq!(web.replicas.min, 2);
    // The requests the pod held are lost to the failure, not to a grace period.
    let r = &web.requests;
    assert!(r.lost_node_failure > 0, "{r:?}");
    assert_eq!(r.killed, 0, "{r:?}");
    assert_eq!(r.arrived, r.accounted(), "{r:?}");
}

#[test]
fn a_budget_that_asks_for_fewer_pods_is_not_short_while_the_service_is() {
    let half = Some(DisruptionBudget::MinAvailable(PodCount::Percent(50)));
    let (web, _) = run(ROOMY_CPU, half, 0, Some(FAILURE_S));
    // desiredHealthy is 50% of 3, rounded up: 2, which the two pods left keep.
    assert_eq!(web.availability.below_min_available_s, Some(0.0));
    assert_eq!(
        web.availability.below_min_replicas_s,
        (EVICTION_S + READY_S) as f64
    );
}

#[test]
fn with_no_room_left_the_pod_waits_for_the_repaired_node() {
    // Nodes of 4 CPU hold one 3-CPU pod: the service is short from the end of the grace
    // period (1050 s); the evicted pod waits for auto-repair's new VM at 1050 + 1200 s,
    // registered 90 s later, where it pulls its image (10 s) and is Ready 5 s after that.
    let none_down = Some(DisruptionBudget::MaxUnavailable(PodCount::Count(0)));
    let (web, failures) = run(4, none_down, 0, Some(FAILURE_S));
    assert_eq!(failures, 1);
    let short = (REPAIR_S + PROVISION_S + PULL_S + READY_S) as f64;
    assert_eq!(web.availability.below_min_replicas_s, short, "{web:?}");
    assert_eq!(web.availability.below_min_available_s, Some(short));
    let r = &web.requests;
    assert!(r.lost_node_failure > 0 && r.killed == 0, "{r:?}");
    assert_eq!(r.arrived, r.accounted(), "{r:?}");
}

#[test]
fn only_the_measured_window_counts() {
    let min3 = Some(DisruptionBudget::MinAvailable(PodCount::Count(3)));
    // The warm-up ends 200 s into the 305 s the service is short (from the end of the grace
    // period): 105 s count.
    let (web, _) = run(ROOMY_CPU, min3, FAILURE_S + GRACE_S + 200, Some(FAILURE_S));
    assert_eq!(web.availability.below_min_replicas_s, 105.0, "{web:?}");
    assert_eq!(web.availability.below_min_available_s, Some(105.0));
    // Failed and replaced within the warm-up: nothing counts, nor do the lost requests.
    let (web, _) = run(ROOMY_CPU, min3, FAILURE_S + 400, Some(FAILURE_S));
    assert_eq!(web.availability.below_min_replicas_s, 0.0, "{web:?}");
    assert_eq!(web.availability.below_min_available_s, Some(0.0));
    assert_eq!(web.requests.lost_node_failure, 0);
    assert_eq!(web.replicas.min, 3);
}

#[test]
fn without_a_failure_nothing_is_short_or_lost() {
    let min3 = Some(DisruptionBudget::MinAvailable(PodCount::Count(3)));
    let (web, failures) = run(ROOMY_CPU, min3, 0, None);
    assert_eq!(failures, 0);
    assert_eq!(web.availability.below_min_replicas_s, 0.0);
    assert_eq!(web.availability.below_min_available_s, Some(0.0));
    assert_eq!(web.requests.lost_node_failure, 0);
    // Without a budget the figure is absent, not zero.
    let (web, _) = run(ROOMY_CPU, None, 0, None);
    assert_eq!(web.availability.below_min_available_s, None);
}

#[test]
fn a_budget_s_desired_healthy_follows_the_deployment_s_replicas() {
    let mut web = service("web", 3, 3_000, 8, 0.0, 250);
    web.load = None;
    web.disruption_budget = Some(DisruptionBudget::MinAvailable(PodCount::Percent(100)));
    let sc = scenario(vec![failing_pool(ROOMY_CPU, 3)], vec![web], 3_600, 0);
    let mut sim = Simulation::new(&sc);
    let at = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
    // Up to 4 at 1000 s: 100% of 4 is 4 healthy pods, and the fourth pod is Ready 5 s later
    // (its node has the image). Back to 3 at 2000 s: the budget asks for 3 before the pod
    // removed leaves, so nothing more is short.
    sim.set_replicas_at(at(1_000), 0, 4);
    sim.set_replicas_at(at(2_000), 0, 3);
    let out = sim.run(&mut Collect::default());
    let web = &out.summary.services["web"];
    assert_eq!(web.availability.below_min_available_s, Some(READY_S as f64));
    // The minimum replicas of a service without an HPA is its scenario's `replicas`, 3.
    assert_eq!(web.availability.below_min_replicas_s, 0.0);
    assert_eq!(web.replicas.max, 4);
}
