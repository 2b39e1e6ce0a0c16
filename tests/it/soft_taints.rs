//! The Cluster Autoscaler's soft taint in whole runs: nodes it finds unneeded are tainted
//! `DeletionCandidateOfClusterAutoscaler:PreferNoSchedule`, so pods created while they wait
//! out the unneeded time go elsewhere and the nodes leave empty, on time.

use capsim::report::{ClusterEvent, Collect, EventKind};
use capsim::simulation::{Outcome, Simulation};

use crate::util::scenario;

fn run(yaml: &str) -> (Outcome, Collect) {
    let scenario = scenario(yaml);
    let mut seen = Collect::default();
    let outcome = Simulation::new(&scenario).run(&mut seen);
    (outcome, seen)
}

fn events(seen: &Collect, kind: EventKind) -> Vec<&ClusterEvent> {
    seen.events.iter().filter(|e| e.event == kind).collect()
}

/// Three 8-CPU nodes and one 1-CPU web pod: a dip. At 5m a Job starts four 1-CPU pods that
/// run 10 minutes. `soft_taints` is `max_bulk_soft_taint_count`.
fn dip(soft_taints: u32) -> String {
    format!(
        r#"
name: soft-taints
seed: 3
duration: 20m
node_pools:
  pool:
    machine_type: {{cpu: 8, memory: 32Gi, price_per_hour: 1.0}}
    initial_size: 3
    autoscaling: {{min_nodes: 1, max_nodes: 5}}
services:
  web:
    replicas: 1
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
jobs:
  batch:
    resources: {{requests: {{cpu: "1", memory: 1Gi}}}}
    start: 5m
    completions: 4
    parallelism: 4
    run_time: 10m
autoscaling:
  cluster_autoscaler: {{max_bulk_soft_taint_count: {soft_taints}}}
"#
    )
}

/// The nodes the job's pods were bound to.
fn job_nodes(seen: &Collect) -> Vec<String> {
    events(seen, EventKind::PodScheduled)
        .into_iter()
        .filter(|e| e.job.as_deref() == Some("batch"))
        .filter_map(|e| e.node.clone())
        .collect()
}

#[test]
fn pods_created_in_a_dip_avoid_soft_tainted_nodes_which_leave_after_the_unneeded_time() {
    let (outcome, seen) = run(&dip(10));
    // The web pod's node; the other two are empty from the start.
    let web = events(&seen, EventKind::PodScheduled)
        .into_iter()
        .find(|e| e.service.as_deref() == Some("web"))
        .and_then(|e| e.node.clone())
        .expect("the web pod was bound");
    // At the first scan (10 s) the two empty nodes are unneeded (the web node is not: its pod
    // would have nowhere to go once they are gone) and get the soft taint. At 300 s the Job's
    // four pods are scheduled: every node fits them, and TaintToleration (weight 3) scores the
    // untainted web node 100 and the tainted ones 0, 300 points that the resource scores
    // (at most 100 each) cannot make up. All four join the web pod: 5 of 8 CPU.
    assert_eq!(job_nodes(&seen), vec![web.clone(); 4]);
    // The empty nodes are deleted at the first scan past 10 s + 10m (610 s is not past it):
    // 620 s, in bulk, and nothing is evicted.
    let removed = events(&seen, EventKind::NodeRemoved);
    assert_eq!(removed.len(), 2, "{removed:?}");
    for event in &removed {
        assert_eq!(event.time_s, 620.0, "{event:?}");
        assert_ne!(event.node.as_deref(), Some(web.as_str()));
    }
    assert!(events(&seen, EventKind::PodEvicted).is_empty());
    let pool = &outcome.summary.node_pools["pool"];
    assert_eq!((pool.nodes_removed, pool.nodes.min), (2, 1));
}

#[test]
fn without_soft_taints_the_dip_spreads_pods_onto_nodes_about_to_go() {
    let (_, seen) = run(&dip(0));
    let web = events(&seen, EventKind::PodScheduled)
        .into_iter()
        .find(|e| e.service.as_deref() == Some("web"))
        .and_then(|e| e.node.clone())
        .expect("the web pod was bound");
    // LeastAllocated prefers the empty nodes: the Job's pods land on the unneeded ones, which
    // must then be drained, evicting them.
    let elsewhere = job_nodes(&seen).iter().filter(|n| **n != web).count();
    assert!(elsewhere >= 2, "{:?}", job_nodes(&seen));
    assert!(!events(&seen, EventKind::PodEvicted).is_empty());
}
