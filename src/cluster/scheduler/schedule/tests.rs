//! The scheduling cycle against hand-built clusters: feasible-node search, scoring, ties.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::*;
use crate::cluster::scheduler::{ClassifiedNodes, LabelClassId, LabelClasses, filter, fits};
use crate::cluster::spec::TaintEffect::{NoSchedule, PreferNoSchedule};
use crate::cluster::spec::TolerationOperator::Exists;
use crate::cluster::testing::{NodeBuilder, PodBuilder};
use crate::units::Bytes;

const GIB: u64 = Bytes::GIB;

fn rng() -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(7)
}

fn identical_nodes(n: usize) -> Vec<Node> {
    (0..n)
        .map(|i| NodeBuilder::new(&format!("n{i}")).build())
        .collect()
}

#[test]
fn feasible_nodes_to_find_follows_the_adaptive_rule() {
    let cases = [
        // (percentage, nodes, to find)
        (0, 0, 0),
        (0, 99, 99),
        // 100 nodes: 50% = 50, raised to the minimum of 100.
        (0, 100, 100),
        // 50 - 1000/125 = 42% of 1000 = 420.
        (0, 1_000, 420),
        // 50 - 5000/125 = 10% of 5000 = 500.
        (0, 5_000, 500),
        // 50 - 6000/125 = 2% -> floor of 5% of 6000 = 300.
        (0, 6_000, 300),
        // 50 - 10000/125 would be negative -> 5% = 500.
        (0, 10_000, 500),
        // An explicit percentage: 30% of 1000 = 300; 30% of 200 = 60 -> 100.
        (30, 1_000, 300),
        (30, 200, 100),
        (30, 50, 50),
        // Above 100 acts as 100.
        (150, 1_000, 1_000),
    ];
    for (percentage, nodes, want) in cases {
        assert_eq!(
            num_feasible_nodes_to_find(percentage, nodes),
            want,
            "{percentage}% of {nodes}"
        );
    }
}

#[test]
fn least_allocated_spreads_and_most_allocated_packs() {
    let busy = PodBuilder::new().cpu_m(2_000).memory(8 * GIB).build();
    let nodes = vec![
        NodeBuilder::new("busy").with_pod(&busy).build(),
        NodeBuilder::new("empty").build(),
    ];
    let pod = PodBuilder::new().cpu_m(1_000).memory(4 * GIB).build();
    let mut spread = Scheduler::default();
    assert_eq!(spread.schedule(&pod, &nodes, &mut rng()), Ok(1));
    let mut pack = Scheduler::new(SchedulerConfig {
        scoring_strategy: ScoringStrategy::MostAllocated,
        ..SchedulerConfig::default()
    });
    assert_eq!(pack.schedule(&pod, &nodes, &mut rng()), Ok(0));
}

#[test]
fn preferred_affinity_outweighs_free_room() {
    // "memory" is busier: LeastAllocated prefers "compute" by (75+75)/2 - (50+50)/2 = 25
    // points, weight 1; the preferred term gives "memory" 100 points, weight 2.
    let busy = PodBuilder::new().cpu_m(1_000).memory(4 * GIB).build();
    let nodes = vec![
        NodeBuilder::new("compute")
            .label("node-type", "compute-optimized")
            .build(),
        NodeBuilder::new("memory")
            .label("node-type", "memory-optimized")
            .with_pod(&busy)
            .build(),
    ];
    let pod = PodBuilder::new()
        .cpu_m(1_000)
        .memory(4 * GIB)
        .preferred_in(100, "node-type", "memory-optimized")
        .build();
    assert_eq!(
        Scheduler::default().schedule(&pod, &nodes, &mut rng()),
        Ok(1)
    );
    // Without the preference, free room decides.
    let plain = PodBuilder::new().cpu_m(1_000).memory(4 * GIB).build();
    assert_eq!(
        Scheduler::default().schedule(&plain, &nodes, &mut rng()),
        Ok(0)
    );
}

#[test]
fn prefer_no_schedule_taints_are_avoided_unless_tolerated() {
    let nodes = vec![
        NodeBuilder::new("tainted")
            .taint("spot", "true", PreferNoSchedule)
            .build(),
        NodeBuilder::new("plain")
            .with_pod(&PodBuilder::new().cpu_m(1_000).build())
            .build(),
    ];
    let pod = PodBuilder::new().cpu_m(500).memory(GIB).build();
    // plain: TaintToleration 100×3; tainted: 0×3. Free room favours tainted by a few points.
    assert_eq!(
        Scheduler::default().schedule(&pod, &nodes, &mut rng()),
        Ok(1)
    );
    let tolerant = PodBuilder::new()
        .cpu_m(500)
        .memory(GIB)
        .toleration("spot", Exists, "", None)
        .build();
    assert_eq!(
        Scheduler::default().schedule(&tolerant, &nodes, &mut rng()),
        Ok(0)
    );
}

#[test]
fn a_single_feasible_node_is_chosen_without_drawing() {
    let nodes = vec![
        NodeBuilder::new("small").allocatable(500, GIB).build(),
        NodeBuilder::new("big").build(),
        NodeBuilder::new("tainted")
            .taint("a", "b", NoSchedule)
            .build(),
    ];
    let pod = PodBuilder::new().cpu_m(1_000).build();
    let mut r = rng();
    let before = r.clone();
    assert_eq!(Scheduler::default().schedule(&pod, &nodes, &mut r), Ok(1));
    assert_eq!(r, before);
}

#[test]
fn ties_are_broken_uniformly() {
    let nodes = identical_nodes(3);
    let pod = PodBuilder::new().cpu_m(100).build();
    let mut scheduler = Scheduler::default();
    let mut r = rng();
    let mut picks = [0u32; 3];
    for _ in 0..3_000 {
        let i = scheduler.schedule(&pod, &nodes, &mut r).expect("fits");
        picks[i] += 1;
    }
    for count in picks {
        assert!((900..=1_100).contains(&count), "{picks:?}");
    }
}

#[test]
fn same_seed_same_choices() {
    let nodes = identical_nodes(5);
    let pod = PodBuilder::new().cpu_m(100).build();
    let run = || {
        let mut scheduler = Scheduler::default();
        let mut r = rng();
        (0..50)
            .map(|_| scheduler.schedule(&pod, &nodes, &mut r).expect("fits"))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn large_clusters_are_searched_from_a_rotating_start() {
    // 200 nodes: 50 - 200/125 = 49% = 98, raised to 100 feasible nodes per cycle.
    let nodes = identical_nodes(200);
    let pod = PodBuilder::new().cpu_m(100).build();
    let mut scheduler = Scheduler::default();
    let mut r = rng();
    let first = scheduler.schedule(&pod, &nodes, &mut r).expect("fits");
    assert!(first < 100, "{first}");
    assert_eq!(scheduler.next_start_node_index(), 100);
    let second = scheduler.schedule(&pod, &nodes, &mut r).expect("fits");
    assert!((100..200).contains(&second), "{second}");
    assert_eq!(scheduler.next_start_node_index(), 0);
    // Infeasible nodes count as processed too: with the first 50 cordoned, the search from 0
    // visits 150 nodes to find 100 feasible ones.
    let mut nodes = nodes;
    for node in &mut nodes[..50] {
        node.unschedulable = true;
    }
    let third = scheduler.schedule(&pod, &nodes, &mut r).expect("fits");
    assert!((50..150).contains(&third), "{third}");
    assert_eq!(scheduler.next_start_node_index(), 150);
    // A shrunken node list does not break the rotation.
    let few = identical_nodes(3);
    scheduler.schedule(&pod, &few, &mut r).expect("fits");
    assert_eq!(scheduler.next_start_node_index(), 0);
}

#[test]
fn fit_error_counts_the_first_failing_plugin_per_node() {
    let nodes = vec![
        NodeBuilder::new("small-1")
            .label("pool", "a")
            .allocatable(500, GIB)
            .build(),
        NodeBuilder::new("small-2")
            .label("pool", "a")
            .allocatable(500, GIB)
            .build(),
        NodeBuilder::new("other-1").label("pool", "b").build(),
        NodeBuilder::new("other-2").label("pool", "b").build(),
        // Wrong pool and too small: only NodeAffinity, which runs first, is counted.
        NodeBuilder::new("other-3")
            .label("pool", "b")
            .allocatable(500, GIB)
            .build(),
    ];
    let pod = PodBuilder::new()
        .cpu_m(1_000)
        .node_selector("pool", "a")
        .build();
    let error = Scheduler::default()
        .schedule(&pod, &nodes, &mut rng())
        .expect_err("nothing fits");
    assert_eq!(
        error.to_string(),
        "0/5 nodes are available: 2 Insufficient cpu, \
         3 node(s) didn't match Pod's node affinity/selector."
    );
    // A cordoned node is reported as such, whatever else is wrong with it.
    let cordoned = vec![
        NodeBuilder::new("c")
            .allocatable(500, GIB)
            .unschedulable()
            .build(),
    ];
    let error = Scheduler::default()
        .schedule(&pod, &cordoned, &mut rng())
        .expect_err("nothing fits");
    assert_eq!(
        error.to_string(),
        "0/1 nodes are available: 1 node(s) were unschedulable."
    );
    let error = Scheduler::default()
        .schedule(&pod, &[], &mut rng())
        .expect_err("no nodes");
    assert_eq!(error.to_string(), "no nodes available to schedule pods");
}

#[test]
fn fast_feasibility_agrees_with_the_filters() {
    let nodes = vec![
        NodeBuilder::new("plain").build(),
        NodeBuilder::new("cordoned").unschedulable().build(),
        NodeBuilder::new("tainted")
            .taint("a", "b", NoSchedule)
            .build(),
        NodeBuilder::new("soft")
            .taint("a", "b", PreferNoSchedule)
            .build(),
        NodeBuilder::new("labelled").label("pool", "a").build(),
        NodeBuilder::new("small").allocatable(500, GIB).build(),
        NodeBuilder::new("full").max_pods(0).build(),
    ];
    let pods = [
        PodBuilder::new().build(),
        PodBuilder::new().cpu_m(1_000).memory(GIB).build(),
        PodBuilder::new().node_selector("pool", "a").build(),
        PodBuilder::new().toleration("", Exists, "", None).build(),
        PodBuilder::new()
            .toleration(
                node_unschedulable::UNSCHEDULABLE_TAINT_KEY,
                Exists,
                "",
                None,
            )
            .build(),
        PodBuilder::new().memory(17 * GIB).build(),
    ];
    for pod in &pods {
        let state = CycleState::new(pod, None);
        for (i, node) in nodes.iter().enumerate() {
            assert_eq!(
                state.is_feasible(&nodes, i),
                filter(pod, node).is_empty(),
                "{pod:?} on {}",
                node.name
            );
            assert_eq!(
                fits(pod, node),
                filter(pod, node).is_empty(),
                "{pod:?} on {}",
                node.name
            );
        }
    }
}

#[test]
fn zero_weights_take_the_first_feasible_node() {
    let nodes = identical_nodes(4);
    let pod = PodBuilder::new().cpu_m(100).build();
    let mut scheduler = Scheduler::new(SchedulerConfig {
        plugin_weights: PluginWeights {
            taint_toleration: 0,
            node_affinity: 0,
            node_resources_fit: 0,
            balanced_allocation: 0,
            pod_topology_spread: 0,
            inter_pod_affinity: 0,
        },
        ..SchedulerConfig::default()
    });
    let mut r = rng();
    let picks: Vec<usize> = (0..5)
        .map(|_| scheduler.schedule(&pod, &nodes, &mut r).expect("fits"))
        .collect();
    assert_eq!(picks, [0, 1, 2, 3, 0]);
}

#[test]
fn balanced_allocation_follows_the_configured_version() {
    // Node a is balanced (0.2/0.2) and the pod unbalances it a little (0.3/0.2: 95); node b is
    // unbalanced (0/0.4: 80) and the pod improves it (0.1/0.4: 85). LeastAllocated gives a
    // 74 and b 73 (b's memory-only pod counts 100m of cpu), taints nothing.
    // 1.35 scores the balance with the pod: a 74 + 95 = 169 against b 73 + 85 = 158.
    // 1.36 scores its change: a 50 + (50 + 95 - 100) / 2 = 72, b 50 + (50 + 85 - 80) / 2 = 77,
    // so a 146 against b 150.
    let nodes = [
        NodeBuilder::new("a")
            .allocatable(10_000, 10 * GIB)
            .with_pod(&PodBuilder::new().cpu_m(2_000).memory(2 * GIB).build())
            .build(),
        NodeBuilder::new("b")
            .allocatable(10_000, 10 * GIB)
            .with_pod(&PodBuilder::new().memory(4 * GIB).build())
            .build(),
    ];
    let pod = PodBuilder::new().cpu_m(1_000).build();
    for (version, want) in [(KubernetesVersion::V1_35, 0), (KubernetesVersion::V1_36, 1)] {
        let mut scheduler = Scheduler::new(SchedulerConfig {
            kubernetes_version: version,
            ..SchedulerConfig::default()
        });
        let pick = scheduler.schedule(&pod, &nodes, &mut rng()).expect("fits");
        assert_eq!(pick, want, "{version:?}");
    }
    // The default is the newest release.
    let pick = Scheduler::default().schedule(&pod, &nodes, &mut rng());
    assert_eq!(pick.expect("fits"), 1);
}

#[test]
fn replicas_of_a_workload_spread_over_nodes() {
    // Two nodes with the same requests; one already runs a replica of the workload, the
    // other a pod of something else. Only PodTopologySpread tells them apart.
    let pod = PodBuilder::new().cpu_m(500).build();
    let nodes: Vec<Node> = (0..2)
        .map(|i| {
            let name = format!("n{i}");
            let mut node = NodeBuilder::new(&name)
                .label(crate::cluster::node::HOSTNAME_LABEL, &name)
                .build();
            node.add_pod(&pod);
            node
        })
        .collect();
    let workload_pods = [1, 0];
    let mut r = rng();
    let mut scheduler = Scheduler::default();
    for _ in 0..20 {
        let pick = scheduler.schedule_replica(&pod, &nodes, &workload_pods, &mut r);
        assert_eq!(pick, Ok(1));
    }
    // A bare pod sees a tie, broken at random.
    let picks: std::collections::BTreeSet<usize> = (0..20)
        .map(|_| scheduler.schedule(&pod, &nodes, &mut r).expect("fits"))
        .collect();
    assert_eq!(picks.len(), 2);
}

/// Nodes of three pools (two zones, one zoneless, one with an empty zone) with their label
/// classes, and a varied load of workload pods on them.
fn classified_cluster() -> (Vec<Node>, LabelClasses, Vec<LabelClassId>, Vec<u32>) {
    use crate::cluster::node::HOSTNAME_LABEL;
    use crate::cluster::scheduler::pod_topology_spread::ZONE_LABEL;
    let pools: [(&str, Option<&str>, &str); 4] = [
        ("a", Some("z1"), "general"),
        ("b", Some("z2"), "memory"),
        ("c", None, "general"),
        ("d", Some(""), "memory"),
    ];
    let mut nodes = Vec::new();
    for k in 0..40u32 {
        let (pool, zone, kind) = pools[(k % 4) as usize];
        let name = format!("{pool}-{k}");
        let mut builder = NodeBuilder::new(&name)
            .label(HOSTNAME_LABEL, &name)
            .label("pool", pool)
            .label("kind", kind);
        if let Some(zone) = zone {
            builder = builder.label(ZONE_LABEL, zone);
        }
        if k % 7 == 3 {
            builder = builder.taint("soft", "x", PreferNoSchedule);
        }
        let mut node = builder.build();
        for _ in 0..(k * 5 % 9) {
            node.add_pod(&PodBuilder::new().cpu_m(250).memory(GIB / 2).build());
        }
        nodes.push(node);
    }
    let mut classes = LabelClasses::new();
    let of_node = nodes.iter().map(|n| classes.classify(&n.labels)).collect();
    let workload_pods = (0..40u32).map(|k| (k * 3) % 5).collect();
    (nodes, classes, of_node, workload_pods)
}

#[test]
fn classified_nodes_get_the_same_decisions() {
    use crate::cluster::node::HOSTNAME_LABEL;
    let (nodes, classes, of_node, workload_pods) = classified_cluster();
    let pods = [
        PodBuilder::new().cpu_m(500).memory(GIB).build(),
        PodBuilder::new()
            .cpu_m(300)
            .required_in("kind", "memory")
            .preferred_in(50, "pool", "b")
            .build(),
        PodBuilder::new().node_selector("pool", "c").build(),
        PodBuilder::new()
            .required_in(HOSTNAME_LABEL, "a-0")
            .required_in("pool", "d")
            .preferred_in(30, HOSTNAME_LABEL, "d-3")
            .build(),
        PodBuilder::new().node_selector("pool", "none").build(),
    ];
    let classified = ClassifiedNodes {
        classes: &classes,
        class_of_node: &of_node,
    };
    for pod in &pods {
        let (mut plain, mut by_class) = (Scheduler::default(), Scheduler::default());
        let (mut r1, mut r2) = (rng(), rng());
        for _ in 0..30 {
            let want = plain.schedule_replica(pod, &nodes, &workload_pods, &mut r1);
            let got = by_class.schedule_replica_classified(
                pod,
                &nodes,
                classified,
                &workload_pods,
                &mut r2,
            );
            assert_eq!(got, want, "{:?}", pod.affinity);
        }
    }
}

/// Soft taints come and go between cycles (the Cluster Autoscaler's
/// `DeletionCandidateOfClusterAutoscaler`, put on nodes it finds unneeded and taken off when
/// they are needed again) while pods are bound: label classes ignore taints, cached resource
/// scores ignore them, and TaintToleration's score is computed afresh each cycle, so the
/// classified, cached path decides as a plain path that forgets its cached scores every cycle.
#[test]
fn soft_taint_changes_between_cycles_change_no_shortcut_decision() {
    use crate::cluster::spec::Taint;
    let (mut nodes, classes, of_node, mut workload_pods) = classified_cluster();
    let pods = [
        PodBuilder::new().cpu_m(250).memory(GIB / 2).build(),
        PodBuilder::new()
            .cpu_m(300)
            .required_in("kind", "memory")
            .preferred_in(50, "pool", "b")
            .build(),
        PodBuilder::new()
            .cpu_m(100)
            .toleration("DeletionCandidateOfClusterAutoscaler", Exists, "", None)
            .build(),
    ];
    let (mut plain, mut by_class) = (Scheduler::default(), Scheduler::default());
    let (mut r1, mut r2) = (rng(), rng());
    let mut steered = 0;
    for cycle in 0..120usize {
        // Mark one node and clean another, as a scan's soft-taint changes would.
        let mark = (cycle * 7) % nodes.len();
        let clean = (cycle * 11 + 5) % nodes.len();
        let key = "DeletionCandidateOfClusterAutoscaler";
        if !nodes[mark].taints.iter().any(|t| t.key == key) {
            nodes[mark].taints.push(Taint {
                key: key.into(),
                value: cycle.to_string(),
                effect: PreferNoSchedule,
            });
        }
        nodes[clean].taints.retain(|t| t.key != key);
        let pod = &pods[cycle % pods.len()];
        plain.resource_scores = resource_scores::ResourceScores::default();
        let want = plain.schedule_replica(pod, &nodes, &workload_pods, &mut r1);
        let classified = ClassifiedNodes {
            classes: &classes,
            class_of_node: &of_node,
        };
        let got =
            by_class.schedule_replica_classified(pod, &nodes, classified, &workload_pods, &mut r2);
        assert_eq!(got, want, "cycle {cycle}");
        if let Ok(i) = got {
            if nodes.iter().any(|n| n.taints.iter().any(|t| t.key == key))
                && !nodes[i].taints.iter().any(|t| t.key == key)
            {
                steered += 1;
            }
            nodes[i].add_pod(pod);
            workload_pods[i] += 1;
        }
    }
    assert!(steered > 60, "most pods land on untainted nodes: {steered}");
}
