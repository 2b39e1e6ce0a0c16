//! Spot VMs preempted by the cloud: how often, and what happens to their pods and pools.

use capsim::report::{Collect, EventKind};
use capsim::simulation::Simulation;

use crate::util::scenario;

/// Ten spot nodes of 8 CPU, preempted after 2 hours on average, running one small pod each
/// (spread by the scheduler) for two days.
const SPOT: &str = r#"
name: spot
seed: 12
duration: 48h
node_pools:
  spot:
    machine_type: {cpu: 8, memory: 32Gi, price_per_hour: 1.0, spot_price_per_hour: 0.3}
    initial_size: 10
    spot: true
    preemption: {mean_lifetime: 2h}
services:
  web:
    replicas: 10
    resources: {requests: {cpu: "1", memory: 1Gi}}
    startup: {image_pull: 20s, ready: 5s}
    load:
      arrivals: {rate: 20}
      service_time: 5ms
"#;

#[test]
fn spot_nodes_are_preempted_at_their_rate_and_replaced() {
    let s = scenario(SPOT);
    let mut seen = Collect::default();
    let outcome = Simulation::new(&s).run(&mut seen);
    let pool = &outcome.summary.node_pools["spot"];
    let at = |kind: EventKind| -> Vec<f64> {
        seen.events
            .iter()
            .filter(|e| e.event == kind)
            .map(|e| e.time_s)
            .collect()
    };
    let preempted = at(EventKind::NodePreempted);
    assert_eq!(preempted.len() as u64, pool.preempted);

    // About 10 nodes x 48 h / 2 h = 240 preemptions: the rate, estimated over the node-hours
    // the nodes were registered, is within 25% (four standard deviations) of 1 per 2 hours.
    let node_hours = pool.nodes_ready.mean * 48.0;
    let rate_per_hour = pool.preempted as f64 / node_hours;
    assert!(
        (rate_per_hour - 0.5).abs() < 0.125,
        "{} preemptions over {node_hours:.1} node-hours",
        pool.preempted
    );

    // Each preemption asks for a replacement at once, which is Ready after the 90 s
    // provisioning delay; the preempted node is gone within the 30 s grace period.
    let added = at(EventKind::NodeAdded);
    let removed: Vec<f64> = seen
        .events
        .iter()
        .filter(|e| e.event == EventKind::NodeRemoved && e.reason.as_deref() == Some("preempted"))
        .map(|e| e.time_s)
        .collect();
    for t in &preempted {
        assert!(added.contains(t), "no replacement asked for at {t}");
        assert!(
            removed.iter().any(|r| *r >= *t && *r <= t + 30.0),
            "the node preempted at {t} outlived its grace period"
        );
    }
    // Billing never drops below the pool's size (the replacement is billed from its request,
    // the preempted VM until it is gone), while Ready capacity dips during each replacement.
    assert_eq!(pool.nodes.min, 10);
    assert!(pool.nodes.max > 10 && pool.nodes_ready.min < 10, "{pool:?}");

    // The pods on preempted nodes are evicted and replaced; requests keep being served.
    let evicted = seen
        .events
        .iter()
        .filter(|e| e.event == EventKind::PodEvicted)
        .count();
    assert!(evicted as u64 >= pool.preempted, "{evicted}");
    let web = &outcome.summary.services["web"];
    assert!(web.replicas.mean > 9.9, "{:?}", web.replicas);
    assert!(web.requests.completed as f64 > 0.999 * web.requests.arrived as f64);
    // Billed at the spot price.
    assert!((outcome.summary.cost.total_usd / (pool.nodes.mean * 48.0) - 0.3).abs() < 1e-3);
}
