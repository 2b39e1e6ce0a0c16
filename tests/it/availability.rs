//! Per-service availability in the summary, from scenario files: the time a service had fewer
//! Ready pods than its minimum replicas (its HPA's `minReplicas`, or its `replicas`) or than
//! its PodDisruptionBudget asks for, and the requests lost to node failures, counted apart
//! from those killed at the end of a grace period.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::simulation::{Outcome, Simulation};

use crate::util::scenario;

fn run(text: &str) -> (Vec<ClusterEvent>, Outcome) {
    let s = scenario(text);
    let mut seen = Collect::default();
    let outcome = Simulation::new(&s).run(&mut seen);
    (seen.events, outcome)
}

/// Four idle replicas under an HPA whose floor is 2: it scales them down to 2.
const IDLE_HPA: &str = r#"
name: idle-hpa
seed: 3
duration: 1h
warmup: 0s
node_pools:
  pool: {machine_type: {cpu: 16, memory: 64Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  web:
    replicas: 4
    resources: {requests: {cpu: "1", memory: 1Gi}}
    disruption_budget: {minAvailable: 50%}
autoscaling:
  hpa:
    web:
      minReplicas: 2
      maxReplicas: 10
      metrics:
        - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}
"#;

#[test]
fn a_service_with_an_hpa_is_held_to_its_min_replicas_not_its_initial_replicas() {
    let (events, outcome) = run(IDLE_HPA);
    let down = events.iter().find(|e| e.event == EventKind::HpaRescale);
    let down = down.unwrap_or_else(|| panic!("the HPA never scaled the idle service down"));
    assert_eq!(down.to_replicas, Some(2), "{down:?}");
    let web = &outcome.summary.services["web"];
    assert_eq!(web.replicas.min, 2);
    // Two Ready pods are the HPA's floor: never below it, though below the 4 it started with.
    assert_eq!(web.availability.below_min_replicas_s, 0.0, "{web:?}");
    // 50% of the Deployment's replicas, 4 then 2, is met throughout.
    assert_eq!(web.availability.below_min_available_s, Some(0.0));
    // A service that received no request lost none.
    assert_eq!(web.requests.lost_node_failure, 0);
}

/// Three nodes of 4 CPU that each hold one 3-CPU pod, failing every 6 hours on average and
/// repaired after 10 minutes, for two days.
const FAILING: &str = r#"
name: failing
seed: 11
duration: 48h
warmup: 1h
node_pools:
  pool:
    machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 1.0}
    initial_size: 3
    failures: {mean_time_between: 6h, repair_delay: 10m}
services:
  web:
    replicas: 3
    resources: {requests: {cpu: "3", memory: 1Gi}}
    startup: {image_pull: 20s, ready: 5s}
    disruption_budget: {maxUnavailable: 0}
    server: {concurrency: 8, cpu_per_worker: "1"}
    load:
      arrivals: {rate: 30}
      service_time: {distribution: exponential, mean: 200ms}
"#;

#[test]
fn node_failures_lose_requests_of_their_own_kind_and_leave_the_service_short() {
    let (events, outcome) = run(FAILING);
    let web = &outcome.summary.services["web"];
    let r = &web.requests;
    let failures: Vec<f64> = (events.iter())
        .filter(|e| e.event == EventKind::NodeNotReady && e.time_s >= 3_600.0)
        .map(|e| e.time_s)
        .collect();
    assert!(failures.len() >= 3, "{failures:?}");
    assert!(r.lost_node_failure > 0, "{r:?}");
    assert_eq!(r.killed, 0, "no pod ran out of its grace period: {r:?}");
    assert_eq!(r.arrived, r.accounted(), "{r:?}");
    // No node has room for a second pod: each failed node's pod waits for the repaired VM
    // (10 minutes), its registration and its image pull, so from each failure the service is
    // short for at least the repair delay, and the budget with it (it allows no pod down).
    let end = 48.0 * 3_600.0;
    let mut at_least = 0.0;
    let mut covered_to = 0.0_f64;
    for t in &failures {
        let (from, to) = (t.max(covered_to), (t + 600.0).min(end));
        at_least += (to - from).max(0.0);
        covered_to = covered_to.max(to);
    }
    let a = &web.availability;
    assert!(
        a.below_min_replicas_s >= at_least - 1e-6,
        "{a:?} with failures at {failures:?}"
    );
    assert_eq!(a.below_min_available_s, Some(a.below_min_replicas_s));
    assert!(a.below_min_replicas_s < outcome.summary.simulated.measured_s);
}
