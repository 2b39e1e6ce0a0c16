//! Whole scans of a pool over three zones (three similar node groups): a scale-up is spread
//! over the zones, smallest first; a zone in backoff, or one the pods cannot go to, is left out.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::*;
use crate::cluster::spec::Labels;
use crate::controllers::cluster_autoscaler::spec::Expander;
use crate::controllers::cluster_autoscaler::testing::{pod, pool, registered, spec};

const ZONES: [&str; 3] = ["us-central1-a", "us-central1-b", "us-central1-c"];

/// The node groups of pool `web` (4 CPU / 16 GiB, at most 10 nodes a zone) in each zone.
fn zone_groups() -> Vec<NodePool> {
    ZONES
        .iter()
        .map(|zone| {
            let mut g = pool(&format!("web-{zone}"), 4, 16, 0, 10);
            g.group_of = "web".into();
            g.zone = Some(zone.to_string());
            let labels: Labels = [
                ("cloud.google.com/gke-nodepool", "web"),
                ("topology.kubernetes.io/zone", zone),
                ("topology.kubernetes.io/region", "us-central1"),
                ("topology.gke.io/zone", zone),
            ]
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect();
            g.labels = labels;
            g
        })
        .collect()
}

/// What one scan asks for, as (group, nodes) per `ScaleUp`, with `sizes` registered nodes in
/// each group (full ones: each holds a pod of 4 CPU) and `pending` pods of `pod_spec`.
fn scale_ups(
    balance: bool,
    sizes: [u32; 3],
    pending: usize,
    pod_spec: PodSpec,
    backed_off: Option<usize>,
) -> Vec<(usize, u32)> {
    let pools = zone_groups();
    let mut ca_spec = spec(vec![Expander::LeastWaste], 0);
    ca_spec.balance_similar_node_groups = balance;
    let mut ca = ClusterAutoscaler::new(&ca_spec, &pools);
    if let Some(p) = backed_off {
        ca.backoff.backoff(p, SimTime::ZERO);
    }
    let specs = vec![pod_spec];
    let mut nodes = Vec::new();
    for (p, &size) in sizes.iter().enumerate() {
        for _ in 0..size {
            let mut node = registered(&pools, p, nodes.len() as u32);
            node.add_pod(&specs[0]);
            nodes.push(node);
        }
    }
    let pods_on_node = vec![vec![0]; nodes.len()];
    let unschedulable = vec![0; pending];
    let terminating_on_node = vec![Vec::new(); nodes.len()];
    let obs = ClusterObservation {
        now: SimTime::ZERO,
        pools: &pools,
        pod_specs: &specs,
        nodes: &nodes,
        pods_on_node: &pods_on_node,
        terminating_on_node: &terminating_on_node,
        unschedulable: &unschedulable,
        upcoming: &[Vec::new(), Vec::new(), Vec::new()],
        creation_errors: &[0, 0, 0],
        disruptions_allowed: &[None],
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    ca.scan(&obs, &mut rng)
        .actions
        .into_iter()
        .filter_map(|a| match a {
            CaAction::ScaleUp { pool, count, .. } => Some((pool, count)),
            _ => None,
        })
        .collect()
}

/// A pod that takes a whole 4-CPU node.
fn whole_node_pod() -> PodSpec {
    pod(4_000, 1)
}

#[test]
fn three_nodes_on_a_balanced_three_zone_pool_are_one_per_zone() {
    // 2 nodes a zone, 3 pods needing a node each: the estimate is 3 nodes of the chosen
    // group, split 1/1/1 over the three similar groups.
    assert_eq!(
        scale_ups(true, [2, 2, 2], 3, whole_node_pod(), None),
        [(0, 1), (1, 1), (2, 1)]
    );
    // Without balancing, the chosen group takes all three.
    assert_eq!(
        scale_ups(false, [2, 2, 2], 3, whole_node_pod(), None),
        [(0, 3)]
    );
}

#[test]
fn the_smallest_zones_grow_first() {
    // Sizes 1, 2, 2 and 4 new nodes: a to 2, a to 3, then b and c to 3 (smallest first).
    assert_eq!(
        scale_ups(true, [1, 2, 2], 4, whole_node_pod(), None),
        [(0, 2), (1, 1), (2, 1)]
    );
}

#[test]
fn a_zone_in_backoff_is_left_out_of_the_balance() {
    // b backed off: 3 nodes over a and c (2 each): a 3, c 3, a 4.
    assert_eq!(
        scale_ups(true, [2, 2, 2], 3, whole_node_pod(), Some(1)),
        [(0, 2), (2, 1)]
    );
}

#[test]
fn a_zone_the_pods_cannot_go_to_is_left_out() {
    // Pods that select zone b: only b's template fits them, so no other group is similar
    // for this scale-up.
    let mut zonal = whole_node_pod();
    zonal.affinity.node_selector = Labels::from([(
        "topology.kubernetes.io/zone".to_string(),
        ZONES[1].to_string(),
    )]);
    assert_eq!(scale_ups(true, [2, 2, 2], 3, zonal, None), [(1, 3)]);
}

#[test]
fn groups_of_two_pools_are_not_similar_on_gke() {
    // The node pool label differs between pools: two pools of one machine are not balanced.
    let mut pools = zone_groups();
    pools[1]
        .labels
        .insert("cloud.google.com/gke-nodepool".into(), "other".into());
    let mut ca_spec = spec(vec![Expander::LeastWaste], 0);
    ca_spec.balance_similar_node_groups = true;
    let ca = ClusterAutoscaler::new(&ca_spec, &pools);
    assert_eq!(ca.similar_pools, [vec![2], vec![], vec![0]]);
}
