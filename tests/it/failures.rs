//! Random node failures: a node goes NotReady, its pods are evicted after the default 300 s
//! toleration of `node.kubernetes.io/unreachable` and rescheduled elsewhere, and auto-repair
//! replaces the node after the pool's repair delay.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::simulation::Simulation;

use crate::util::scenario;

/// Three nodes of 4 CPU failing every 8 hours on average, repaired after 20 minutes, running
/// three pods of 1 CPU for two days.
const FAILING: &str = r#"
name: failing
seed: 7
duration: 48h
node_pools:
  pool:
    machine_type: {cpu: 4, memory: 16Gi, price_per_hour: 1.0}
    initial_size: 3
    failures: {mean_time_between: 8h, repair_delay: 20m}
services:
  web:
    replicas: 3
    resources: {requests: {cpu: "1", memory: 1Gi}}
    startup: {image_pull: 20s, ready: 5s}
    load:
      arrivals: {rate: 50}
      service_time: 20ms
"#;

fn run(text: &str) -> (Collect, capsim::simulation::Outcome) {
    let s = scenario(text);
    let mut seen = Collect::default();
    let outcome = Simulation::new(&s).run(&mut seen);
    (seen, outcome)
}

fn of(events: &[ClusterEvent], kind: EventKind) -> Vec<&ClusterEvent> {
    events.iter().filter(|e| e.event == kind).collect()
}

fn taint_evictions(events: &[ClusterEvent]) -> impl Iterator<Item = &ClusterEvent> {
    events.iter().filter(|e| {
        e.event == EventKind::PodEvicted
            && e.reason.as_deref() == Some("taint-based eviction: node.kubernetes.io/unreachable")
    })
}

#[test]
fn a_failed_node_loses_its_pods_after_300s_and_is_repaired_after_its_delay() {
    let (seen, outcome) = run(FAILING);
    let events = &seen.events;
    let failed = of(events, EventKind::NodeNotReady);
    // 3 nodes x 48 h / 8 h: about 18 failures; this seed gives some.
    assert!(failed.len() >= 5, "{} failures", failed.len());
    let mut evictions = 0;
    for f in &failed {
        let (t, node) = (f.time_s, f.node.clone());
        // Nothing is scheduled on the node once it is NotReady.
        assert!(
            !events
                .iter()
                .any(|e| e.event == EventKind::PodScheduled && e.node == node && e.time_s > t),
            "a pod landed on {node:?} after its failure at {t}"
        );
        // The taint manager evicts its pods 300 s later (the default toleration), and each
        // one's replacement is scheduled at once on another node.
        let evicted = taint_evictions(events)
            .filter(|e| e.time_s == t + 300.0)
            .count();
        if evicted > 0 {
            let placed = events.iter().any(|p| {
                p.event == EventKind::PodScheduled && p.time_s == t + 300.0 && p.node != node
            });
            assert!(placed, "no replacement scheduled for the pods of {node:?}");
        }
        evictions += evicted;
        // Auto-repair replaces the node 20 minutes after the failure (when the run lasts).
        if t + 1200.0 < 48.0 * 3600.0 {
            let repaired = of(events, EventKind::NodeRepaired)
                .into_iter()
                .any(|e| e.node == node && e.time_s == t + 1200.0);
            assert!(
                repaired,
                "{node:?} failed at {t} was not repaired at {}",
                t + 1200.0
            );
            let removed = of(events, EventKind::NodeRemoved)
                .into_iter()
                .any(|e| e.node == node && e.time_s == t + 1200.0);
            assert!(removed, "{node:?} was not removed at its repair");
            let added = of(events, EventKind::NodeAdded)
                .into_iter()
                .any(|e| e.time_s == t + 1200.0);
            assert!(added, "no new VM asked for at the repair of {node:?}");
        }
    }
    assert!(evictions >= 1, "no pod was ever on a failed node");
    // Every taint-based eviction is 300 s after a failure.
    for e in taint_evictions(events) {
        assert!(failed.iter().any(|f| f.time_s + 300.0 == e.time_s), "{e:?}");
    }
    let pool = &outcome.summary.node_pools["pool"];
    // The new VM keeps the pool at its size in billing; Ready nodes dip while one is NotReady
    // or re-created.
    assert_eq!(pool.nodes.min, 3);
    let web = &outcome.summary.services["web"];
    // Requests in flight on a failing node are lost; the rest are served.
    assert!(web.requests.completed as f64 > 0.99 * web.requests.arrived as f64);
}

#[test]
fn a_toleration_of_the_unreachable_taint_sets_when_the_pods_go() {
    let text = FAILING.replace(
        "    startup:",
        "    tolerations:\n    - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}\n    startup:",
    );
    let (seen, _) = run(&text);
    let events = &seen.events;
    let failed = of(events, EventKind::NodeNotReady);
    let evictions: Vec<_> = taint_evictions(events).collect();
    assert!(!evictions.is_empty());
    for e in evictions {
        assert!(failed.iter().any(|f| f.time_s + 30.0 == e.time_s), "{e:?}");
    }
    // Tolerating it for ever keeps the pods until the repair takes them with the VM.
    let text = text.replace(", tolerationSeconds: 30", "");
    let (seen, _) = run(&text);
    assert_eq!(taint_evictions(&seen.events).count(), 0);
    assert!(!of(&seen.events, EventKind::NodeRepaired).is_empty());
}

#[test]
fn a_failing_pool_runs_the_same_twice() {
    let (a, _) = run(FAILING);
    let (b, _) = run(FAILING);
    let line = |e: &ClusterEvent| serde_json::to_string(e).unwrap_or_default();
    let a: Vec<String> = a.events.iter().map(line).collect();
    let b: Vec<String> = b.events.iter().map(line).collect();
    assert_eq!(a, b);
}

#[test]
fn a_repair_before_the_toleration_runs_out_takes_the_pods_with_the_vm() {
    let (seen, _) = run(&FAILING.replace("repair_delay: 20m", "repair_delay: 100s"));
    let events = &seen.events;
    let failed = of(events, EventKind::NodeNotReady);
    assert!(!failed.is_empty());
    // No taint-based eviction: every pod goes with the VM 100 s after the failure.
    assert!(of(events, EventKind::PodEvicted).is_empty());
    let mut gone = 0;
    for f in &failed {
        gone += of(events, EventKind::PodDeleted)
            .into_iter()
            .filter(|e| e.node == f.node && e.time_s == f.time_s + 100.0)
            .count();
    }
    assert!(gone >= 1);
}
