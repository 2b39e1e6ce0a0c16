//! How many new nodes of a pool the pending pods need: cluster-autoscaler's
//! `estimator/binpacking_estimator.go` with the default `DecreasingPodOrderer` and the
//! threshold-based limiter.
//!
//! Use `estimate` with the pending pods grouped by service (`pod_groups`, upstream's pod
//! equivalence groups) and the pool's template node. Groups are ordered by decreasing
//! `cpu/allocatable + memory/allocatable`; each group's pods first go to the first new node they
//! fit on, and the rest to the node added last, then to further new nodes, first-fit decreasing.
//! A pod that does not fit an empty new node ends its group; so does reaching the node limit.
//! The count is the number of new nodes that received a pod.
//!
//! Not modelled: the limiter's time budget (`--max-node-group-binpacking-duration`), which
//! depends on wall time. Upstream sorts groups with an unstable sort and visits existing new
//! nodes from a rotating start; here ties keep the groups' order of first appearance and the
//! search starts at the first new node, so the same inputs always give the same estimate.

use crate::cluster::node::{HOSTNAME_LABEL, Node, NodeId, PoolId};
use crate::cluster::pool::NodePool;
use crate::cluster::scheduler::{PodGroups, fits_among};
use crate::cluster::spec::PodSpec;
use crate::units::{Resources, SimTime};

/// `--max-nodes-per-scaleup` (1000): the static cap on one estimate.
pub const MAX_NODES_PER_SCALE_UP: i64 = 1000;

/// The identity given to template nodes (they are never registered, so never compared).
pub const TEMPLATE_NODE_ID: NodeId = NodeId(u32::MAX);

/// A node of `pool` as it would register, with no pods: what upstream calls the node group's
/// template node. `name` becomes its name and hostname label.
pub fn template_node(pool_index: usize, pool: &NodePool, name: String) -> Node {
    let pool_id = PoolId(u16::try_from(pool_index).unwrap_or(u16::MAX));
    let mut node = Node::from_pool(TEMPLATE_NODE_ID, pool_id, pool, 0, SimTime::ZERO);
    node.labels.insert(HOSTNAME_LABEL.to_string(), name.clone());
    node.name = name;
    node
}

/// Pending pods of one service: they share a pod spec, so the autoscaler treats them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodGroup {
    /// Service index.
    pub service: usize,
    /// Pending pods of the service.
    pub count: u32,
}

/// The result of one estimate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Estimate {
    /// New nodes that received at least one pod.
    pub node_count: u32,
    /// Service index of every pod placed, in the order placed.
    pub pods: Vec<usize>,
}

/// Groups pending pods (service indices) by service, in order of first appearance.
pub fn pod_groups(pending: &[usize]) -> Vec<PodGroup> {
    let mut groups: Vec<PodGroup> = Vec::new();
    for &service in pending {
        match groups.iter_mut().find(|g| g.service == service) {
            Some(group) => group.count += 1,
            None => groups.push(PodGroup { service, count: 1 }),
        }
    }
    groups
}

/// `DecreasingPodOrderer`'s score of a pod: `cpu request / allocatable cpu + memory request /
/// allocatable memory` of the template node, each term left out where allocatable is zero.
pub fn decreasing_score(requests: Resources, allocatable: Resources) -> f64 {
    let mut score = 0.0;
    if allocatable.cpu.0 > 0 {
        score += requests.cpu.0 as f64 / allocatable.cpu.0 as f64;
    }
    if allocatable.memory.0 > 0 {
        score += requests.memory.0 as f64 / allocatable.memory.0 as f64;
    }
    score
}

/// The node limit of the threshold-based limiter from each threshold's limit, as
/// `getMinLimit` folds them: any negative limit forbids new nodes (-1), zero means no limit, and
/// otherwise the smallest positive limit wins.
pub fn combine_node_limits(limits: &[i64]) -> i64 {
    limits.iter().fold(0, |base, &limit| {
        if base < 0 || limit < 0 {
            -1
        } else if (base == 0 || base > limit) && limit > 0 {
            limit
        } else {
            base
        }
    })
}

/// Bin-packs `groups` onto fresh copies of `template`, adding at most `node_limit` nodes (as
/// `combine_node_limits` gives it: negative none, zero unlimited). Pods of unknown services are
/// left out. `cluster` is the autoscaler's snapshot of the nodes already there, with their
/// pods: no pod is packed onto them, but the scheduler's filters that count pods across nodes
/// (PodTopologySpread, InterPodAffinity) see them, as upstream's estimator runs on the
/// cluster snapshot; they are copied only when those filters matter for a pod of `groups`.
/// `placement` holds the pod specs (indexed by `PodGroup::service`) and which of them declare
/// inter-pod affinity.
pub fn estimate(
    groups: &[PodGroup],
    placement: &PodGroups<'_>,
    template: &Node,
    node_limit: i64,
    cluster: &[Node],
) -> Estimate {
    let pod_specs = placement.specs;
    let mut ordered: Vec<(f64, PodGroup)> = groups
        .iter()
        .filter(|g| g.service < pod_specs.len())
        .map(|g| {
            let score = decreasing_score(pod_specs[g.service].requests, template.allocatable);
            (score, *g)
        })
        .collect();
    // Decreasing score; a stable sort keeps equal scores in their first-appearance order.
    ordered.sort_by(|a, b| b.0.total_cmp(&a.0));

    let matters = ordered
        .iter()
        .any(|(_, g)| placement.matter_for(&pod_specs[g.service]));
    let cluster = if matters { cluster } else { &[] };
    // The scheduler's filters over the cluster's nodes and the new ones (from `base` on).
    let base = cluster.len();
    let fits =
        |pod: &PodSpec, nodes: &[Node], i: usize| fits_among(pod, nodes, base + i, placement);
    let mut all: Vec<Node> = cluster.to_vec();
    let mut has_pods: Vec<bool> = Vec::new();
    let mut pods = Vec::new();
    let mut permitted = 0i64;
    for (_, group) in ordered {
        let pod = &pod_specs[group.service];
        let mut remaining = group.count;
        // tryToScheduleOnExistingNodes: until the first pod that fits no new node.
        while remaining > 0 {
            let Some(i) = (0..has_pods.len()).find(|&i| fits(pod, &all, i)) else {
                break;
            };
            all[base + i].add_pod(pod);
            has_pods[i] = true;
            pods.push(group.service);
            remaining -= 1;
        }
        // tryToScheduleOnNewNodes: the node added last, else a new node.
        for _ in 0..remaining {
            if let Some(last) = has_pods.len().checked_sub(1) {
                if fits(pod, &all, last) {
                    all[base + last].add_pod(pod);
                    has_pods[last] = true;
                    pods.push(group.service);
                    continue;
                }
                // An empty node that cannot take the pod: no new node could.
                if !has_pods[last] {
                    break;
                }
            }
            // PermissionToAddNode.
            if node_limit < 0 || (node_limit > 0 && permitted >= node_limit) {
                break;
            }
            permitted += 1;
            all.push(template.clone());
            has_pods.push(false);
            let last = has_pods.len() - 1;
            if !fits(pod, &all, last) {
                break;
            }
            all[base + last].add_pod(pod);
            has_pods[last] = true;
            pods.push(group.service);
        }
    }
    let node_count = has_pods.iter().filter(|&&h| h).count();
    Estimate {
        node_count: u32::try_from(node_count).unwrap_or(u32::MAX),
        pods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::cluster_autoscaler::testing::{pod, pool};
    use crate::units::Bytes;

    fn template(cpu: u64, memory_gib: u64, max_pods: u32) -> Node {
        let mut p = pool("t", cpu, memory_gib, 0, 10);
        p.max_pods = max_pods;
        template_node(0, &p, "t-template".into())
    }

    /// `specs` as placement groups, none with inter-pod affinity.
    fn plain(specs: &[PodSpec]) -> PodGroups<'_> {
        PodGroups {
            specs,
            with_pod_affinity: &[],
        }
    }

    fn groups(spec: &[(usize, u32)]) -> Vec<PodGroup> {
        spec.iter()
            .map(|&(service, count)| PodGroup { service, count })
            .collect()
    }

    #[test]
    fn groups_follow_first_appearance() {
        assert_eq!(pod_groups(&[2, 0, 2, 2, 0]), groups(&[(2, 3), (0, 2)]));
        assert!(pod_groups(&[]).is_empty());
    }

    #[test]
    fn limits_combine_as_get_min_limit() {
        let cases: [(&[i64], i64); 6] = [
            (&[], 0),
            (&[1000, 0, 0], 1000),
            (&[1000, 7, 0], 7),
            (&[1000, 7, 3], 3),
            (&[1000, 7, -1], -1),
            (&[0, 0], 0),
        ];
        for (limits, want) in cases {
            assert_eq!(combine_node_limits(limits), want, "{limits:?}");
        }
    }

    #[test]
    fn first_fit_decreasing_on_the_template() {
        // Template: 4 CPU, 16 GiB, 110 pods. Services: 0 = 3 CPU/1 GiB, 1 = 1 CPU/1 GiB,
        // 2 = 2 CPU/8 GiB, 3 = 5 CPU (fits no template).
        let specs = [pod(3_000, 1), pod(1_000, 1), pod(2_000, 8), pod(5_000, 1)];
        let t = template(4, 16, 110);
        let cases: [(&str, Vec<PodGroup>, i64, u32, usize); 6] = [
            // Scores: 3/4+1/16 = 0.8125; 1/4+1/16 = 0.3125; 2/4+8/16 = 1.0.
            // Order: svc 2 (1.0), svc 0, svc 1.
            // 2×svc2 -> node A (4 CPU, 16 GiB full); 2×svc0 -> B, C; 2×svc1 -> B, C (first fit).
            ("mixed", groups(&[(1, 2), (0, 2), (2, 2)]), 0, 3, 6),
            // 5 pods of 1 CPU: 4 on the first node, 1 on a second.
            ("one group", groups(&[(1, 5)]), 0, 2, 5),
            // The 5-CPU pod fits no template: its group ends at once, others still pack.
            ("too big is skipped", groups(&[(3, 2), (1, 1)]), 0, 1, 1),
            // A limit of 1 node: 4 of the 5 pods.
            ("node limit", groups(&[(1, 5)]), 1, 1, 4),
            // A negative limit forbids any node.
            ("no capacity", groups(&[(1, 5)]), -1, 0, 0),
            ("nothing pending", groups(&[]), 0, 0, 0),
        ];
        for (name, g, limit, want_nodes, want_pods) in cases {
            let e = estimate(&g, &plain(&specs), &t, limit, &[]);
            assert_eq!(e.node_count, want_nodes, "{name}");
            assert_eq!(e.pods.len(), want_pods, "{name}");
        }
        let e = estimate(
            &groups(&[(1, 2), (0, 2), (2, 2)]),
            &plain(&specs),
            &t,
            0,
            &[],
        );
        assert_eq!(e.pods, [2, 2, 0, 0, 1, 1], "placed in decreasing order");
    }

    #[test]
    fn max_pods_caps_pods_per_node() {
        // 7 tiny pods, 3 pods per node: ceil(7/3) = 3 nodes.
        let specs = [pod(10, 0)];
        let e = estimate(
            &groups(&[(0, 7)]),
            &plain(&specs),
            &template(4, 16, 3),
            0,
            &[],
        );
        assert_eq!((e.node_count, e.pods.len()), (3, 7));
    }

    #[test]
    fn later_groups_fill_earlier_nodes_before_new_ones() {
        // svc 0: 3 CPU, svc 1: 1 CPU, 3 pods each. 3×svc0 -> A, B, C (1 CPU left each);
        // 3×svc1 -> A, B, C: still 3 nodes.
        let specs = [pod(3_000, 1), pod(1_000, 1)];
        let e = estimate(
            &groups(&[(1, 3), (0, 3)]),
            &plain(&specs),
            &template(4, 16, 110),
            0,
            &[],
        );
        assert_eq!(e.node_count, 3);
        assert_eq!(e.pods, [0, 0, 0, 1, 1, 1]);
    }

    /// cluster-autoscaler's `TestBinpackingEstimate` cases that need neither host ports nor
    /// topology spreading: a template of `millicores` and `memory` MiB with 10 pods at most.
    #[test]
    fn upstream_binpacking_estimate_cases() {
        let template = |millicores: u64, memory_mib: u64| {
            let mut t = template(1, 1, 10);
            t.allocatable = Resources::new(millicores, memory_mib * Bytes::MIB);
            t
        };
        let pod = |millicores: u64, memory_mib: u64| PodSpec {
            requests: Resources::new(millicores, memory_mib * Bytes::MIB),
            has_cpu_request: true,
            has_memory_request: true,
            ..PodSpec::default()
        };
        struct Case {
            name: &'static str,
            template: Node,
            specs: Vec<PodSpec>,
            groups: Vec<PodGroup>,
            max_nodes: i64,
            want: (u32, usize),
        }
        let cases = [
            Case {
                name: "simple resource-based binpacking",
                template: template(350 * 3 - 50, 2 * 1000),
                specs: vec![pod(350, 1000)],
                groups: groups(&[(0, 10)]),
                max_nodes: 0,
                want: (5, 10),
            },
            Case {
                name: "pods-per-node bound binpacking",
                template: template(10_000, 20_000),
                specs: vec![pod(10, 100)],
                groups: groups(&[(0, 20)]),
                max_nodes: 0,
                want: (2, 20),
            },
            Case {
                name: "limiter cuts binpacking",
                template: template(1000, 5000),
                specs: vec![pod(500, 1000)],
                groups: groups(&[(0, 20)]),
                max_nodes: 5,
                want: (5, 10),
            },
            Case {
                name: "decreasing ordered pods are processed first",
                template: template(1000, 5000),
                specs: vec![pod(50, 1000), pod(500, 1000)],
                groups: groups(&[(0, 10), (1, 10)]),
                max_nodes: 5,
                want: (5, 10),
            },
        ];
        for c in cases {
            let e = estimate(&c.groups, &plain(&c.specs), &c.template, c.max_nodes, &[]);
            assert_eq!((e.node_count, e.pods.len()), c.want, "{}", c.name);
            if c.name.starts_with("decreasing") {
                assert!(
                    e.pods.iter().all(|&s| s == 1),
                    "the big pods only: {:?}",
                    e.pods
                );
            }
        }
    }
}
