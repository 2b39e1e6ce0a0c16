//! Whole-scan tests of the planner's limits and soft taints, and of terminating pods, on
//! clusters driven by hand.

use super::*;
use crate::controllers::cluster_autoscaler::CaAction;
use crate::controllers::cluster_autoscaler::spec::Expander;
use crate::controllers::cluster_autoscaler::testing::{World, mins, pod, pool, secs, spec};

fn marked(actions: &[CaAction]) -> Vec<NodeId> {
    (actions.iter())
        .filter_map(|a| match a {
            CaAction::MarkDeletionCandidate { node } => Some(*node),
            _ => None,
        })
        .collect()
}

fn cleaned(actions: &[CaAction]) -> Vec<NodeId> {
    (actions.iter())
        .filter_map(|a| match a {
            CaAction::CleanDeletionCandidate { node } => Some(*node),
            _ => None,
        })
        .collect()
}

/// `TestUpdateClusterStatUnneededNodesLimit` (cluster-autoscaler 1.37,
/// `core/scaledown/planner/planner_test.go`), its cases without atomic node groups (which
/// capsim does not model): 100 removable nodes, some found unneeded before.
#[test]
fn unneeded_nodes_limit_follows_upstream_cases() {
    let s = SimDuration::from_secs;
    // (name, previously unneeded, parallelism, unneeded time, update interval, want)
    let cases = [
        ("no unneeded, default settings", 0, 10, s(60), s(10), 20),
        ("some unneeded, default settings", 3, 10, s(60), s(10), 23),
        ("max unneeded, default settings", 70, 10, s(60), s(10), 70),
        (
            "too many unneeded, default settings",
            77,
            10,
            s(60),
            s(10),
            70,
        ),
        ("instant kill nodes", 0, 10, s(0), s(10), 20),
        ("quick loops", 13, 10, s(60), s(1), 33),
        ("slow loops", 13, 10, s(60), s(30), 30),
    ];
    for (name, previously, n, unneeded, interval, want) in cases {
        let nodes = 100;
        let got = unneeded_nodes_limit(previously, n, unneeded, interval).min(nodes);
        assert_eq!(got, want, "{name}");
    }
}

/// The limit at work over whole scans: 100 empty nodes with `--scale-down-unneeded-time` 1m
/// and 10s scans. Each scan finds at most the previous count + 2 × 10 unneeded, and never
/// more than 10 × 60/10 + 10 = 70; the first scans are in the delay after add, so nothing is
/// deleted meanwhile.
#[test]
fn each_scan_finds_at_most_twice_the_parallelism_more_unneeded_nodes() {
    let mut ca = spec(vec![Expander::LeastWaste], 0);
    ca.scale_down_unneeded_time = SimDuration::from_secs(60);
    let mut w = World::new(ca, vec![pool("p", 4, 16, 0, 200)], vec![pod(1_000, 1)]);
    let ids: Vec<NodeId> = (0..100).map(|_| w.add_node(0, &[])).collect();
    let count = |w: &World| {
        ids.iter()
            .filter(|&&id| w.ca.unneeded_since(id).is_some())
            .count()
    };
    for (k, want) in [20, 40, 60, 70, 70].into_iter().enumerate() {
        let t = secs(10 * (k as u64 + 1));
        let a = w.scan(t);
        assert_eq!(count(&w), want, "scan at {t}");
        // Soft taints: at most 10 a scan, the first unneeded nodes without one.
        let m = marked(&a);
        assert_eq!(m, ids[10 * k..10 * (k + 1)], "scan at {t}");
        w.apply(&a, t);
    }
    // The first nodes stay unneeded from the first scan on: the ones found earlier come first.
    assert_eq!(w.ca.unneeded_since(ids[0]), Some(secs(10)));
    assert_eq!(w.ca.unneeded_since(ids[69]), Some(secs(40)));
    assert_eq!(w.ca.unneeded_since(ids[70]), None);
}

/// Soft-taint marking in the planner (the `UpdateSoftDeletionTaints` steps of a scan): a node
/// found unneeded is marked at once, long before its unneeded time is up, and is cleaned when
/// a scan finds it needed again; with `max_bulk_soft_taint_count: 0` nothing is marked.
#[test]
fn unneeded_nodes_are_soft_tainted_and_cleaned_when_needed_again() {
    // Pool min 1: a busy node (3 of 4 CPU), and a second node with a 1-CPU pod (25%).
    let mut w = World::new(
        spec(vec![Expander::LeastWaste], 0),
        vec![pool("p", 4, 16, 1, 10)],
        vec![pod(3_000, 1), pod(1_000, 1)],
    );
    w.add_node(0, &[0]);
    let light = w.add_node(0, &[1]);
    let a = w.scan(mins(1));
    assert_eq!(marked(&a), [light]);
    w.apply(&a, mins(1));
    let i = w.index(light);
    assert_eq!(
        w.nodes[i].taints,
        [deletion_candidate_taint(mins(1))],
        "DeletionCandidateOfClusterAutoscaler=60:PreferNoSchedule"
    );
    // Still unneeded: nothing more to do.
    let a = w.scan(mins(2));
    assert!(marked(&a).is_empty() && cleaned(&a).is_empty());
    // Two more 1-CPU pods land there: 3 of 4 CPU, needed again.
    w.nodes[i].add_pod(&w.specs[1]);
    w.nodes[i].add_pod(&w.specs[1]);
    w.pods[i].extend([1, 1]);
    let a = w.scan(mins(3));
    assert_eq!(w.ca.unneeded_since(light), None);
    assert_eq!(cleaned(&a), [light]);
    w.apply(&a, mins(3));
    assert!(w.nodes[w.index(light)].taints.is_empty());

    // Soft taints off.
    let mut off = spec(vec![Expander::LeastWaste], 0);
    off.max_bulk_soft_taint_count = 0;
    let mut w = World::new(
        off,
        vec![pool("p", 4, 16, 1, 10)],
        vec![pod(3_000, 1), pod(1_000, 1)],
    );
    w.add_node(0, &[0]);
    let light = w.add_node(0, &[1]);
    let a = w.scan(mins(1));
    assert_eq!(w.ca.unneeded_since(light), Some(mins(1)));
    assert!(marked(&a).is_empty());
}

/// A terminating pod counts on its node (utilization and pods to move) until it is long
/// terminating: deletion + grace (30s) + 30s.
#[test]
fn terminating_pods_count_until_they_are_long_terminating() {
    let mut w = World::new(
        spec(vec![Expander::LeastWaste], 0),
        vec![pool("p", 4, 16, 1, 10)],
        vec![pod(3_000, 1), pod(1_000, 1)],
    );
    // A node whose 3-CPU pod is terminating since 10m (75%: above the 0.5 threshold while it
    // counts), beside a node with room for 1 CPU only.
    w.add_node(0, &[0]);
    let node = w.add_node(0, &[]);
    let i = w.index(node);
    w.nodes[i].add_pod(&w.specs[0]);
    w.terminating[i].push(TerminatingPod {
        spec: 0,
        deleted_at: mins(10),
        grace: SimDuration::from_secs(30),
    });
    w.scan(mins(10) + SimDuration::from_secs(60));
    assert_eq!(
        w.ca.unneeded_since(node),
        None,
        "60s after deletion: still counts"
    );
    // Past 10m + 30s + 30s it is skipped: the node is empty to the planner, and unneeded.
    let t = mins(10) + SimDuration::from_secs(61);
    w.scan(t);
    assert_eq!(w.ca.unneeded_since(node), Some(t));

    // A light terminating pod (1 CPU, 25%) must still find a place elsewhere, and the other
    // node is full (3 + 1 of 4 CPU): the node is not unneeded, where it would be empty if the
    // pod were not counted.
    let mut w = World::new(
        spec(vec![Expander::LeastWaste], 0),
        vec![pool("p", 4, 16, 1, 10)],
        vec![pod(3_000, 1), pod(1_000, 1)],
    );
    w.add_node(0, &[0, 1]);
    let node = w.add_node(0, &[]);
    let i = w.index(node);
    w.nodes[i].add_pod(&w.specs[1]);
    w.terminating[i].push(TerminatingPod {
        spec: 1,
        deleted_at: mins(1),
        grace: SimDuration::from_secs(30),
    });
    w.scan(mins(1) + SimDuration::from_secs(10));
    assert_eq!(
        w.ca.unneeded_since(node),
        None,
        "its terminating pod fits nowhere else"
    );
}
