//! Alert rules in whole runs: when they fire and resolve against a load whose CPU use is known.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::simulation::Simulation;

use crate::util::scenario;

/// Two pods of 1 CPU at 100 requests/s x 10 ms: 50% of requests, 150% from 10 to 30 minutes.
const STEP: &str = r#"
name: alert-step
seed: 8
duration: 50m
warmup: 2m
node_pools:
  pool: {machine_type: {cpu: 16, memory: 64Gi, price_per_hour: 1.0}, initial_size: 1}
services:
  web:
    replicas: 2
    resources: {requests: {cpu: "1", memory: 1Gi}}
    server: {concurrency: 8, cpu_per_worker: "1"}
    load_balancer: round-robin
    load:
      arrivals:
        rate: 100
        profile: {type: steps, steps: [{at: 10m, factor: 3}, {at: 30m, factor: 1}]}
      service_time: 10ms
monitoring:
  scrape:
    - {job: web, service: web}
  alerts:
    - {alert: HighCPUUsage, service: web, metric: cpu_utilization, op: ">", threshold: 0.8, for: 5m}
    - {alert: SlowRequests, service: web, metric: latency_p99_ms, op: ">", threshold: 1000}
    - {alert: Idle, service: web, metric: cpu_utilization, op: "<", threshold: 0.6}
"#;

fn times(events: &[ClusterEvent], kind: EventKind, alert: &str) -> Vec<f64> {
    events
        .iter()
        .filter(|e| e.event == kind && e.reason.as_deref().is_some_and(|r| r.starts_with(alert)))
        .map(|e| e.time_s)
        .collect()
}

#[test]
fn alert_rules_fire_after_their_duration_and_resolve() {
    let s = scenario(STEP);
    let mut seen = Collect::default();
    let outcome = Simulation::new(&s).run(&mut seen);
    let alerts = &outcome.summary.alerts;

    // Rules are evaluated each minute over the minute before. The first interval over the
    // step (600-660 s) makes HighCPUUsage pending; it fires 5 minutes later, at 960 s, and
    // resolves at the first interval after the load falls back (1800-1860 s).
    let firing = times(&seen.events, EventKind::AlertFiring, "HighCPUUsage");
    let resolved = times(&seen.events, EventKind::AlertResolved, "HighCPUUsage");
    assert_eq!((firing, resolved), (vec![960.0], vec![1860.0]));
    assert_eq!(alerts["HighCPUUsage"].fired, 1);
    assert_eq!(alerts["HighCPUUsage"].firing_s, 900.0);

    // Without `for`, Idle fires at the first evaluation (60 s, in the warm-up, so not
    // counted), resolves at the step and fires again after it (1860 s) until the end.
    assert_eq!(
        times(&seen.events, EventKind::AlertFiring, "Idle"),
        [60.0, 1860.0]
    );
    assert_eq!(
        times(&seen.events, EventKind::AlertResolved, "Idle"),
        [660.0]
    );
    assert_eq!(alerts["Idle"].fired, 1);
    // Measured from 120 s: 120-660 and 1860-3000.
    assert_eq!(alerts["Idle"].firing_s, 540.0 + 1140.0);

    // A p99 of about 50 ms never reaches 1 s.
    assert_eq!(
        (
            alerts["SlowRequests"].fired,
            alerts["SlowRequests"].firing_s
        ),
        (0, 0.0)
    );
}
