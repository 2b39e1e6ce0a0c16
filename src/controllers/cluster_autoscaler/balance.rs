//! `--balance-similar-node-groups`: which node groups are alike enough to share a scale-up,
//! and how a scale-up is split between them, as cluster-autoscaler's
//! `processors/nodegroupset` package decides it (`compare_nodegroups.go`,
//! `gce_nodegroups.go`, `aws_nodegroups.go`, `balancing_processor.go`).
//!
//! Use `NodeShape::of_pool` for each node group's template node, `similar` to compare two of
//! them, and `balance_scale_up` to spread a number of new nodes over the groups chosen, the
//! smallest first. What the orchestrator adds (a similar group counts only when it may grow
//! and the same pods fit it) is `scale_up`'s business.
//!
//! Two groups are similar when their template nodes have the same capacity (memory within
//! `MaxCapacityMemoryDifferenceRatio`, 1.5%), allocatable and free resources within 5% of each
//! other, and the same labels once hostname, zone and region labels (and the provider's own:
//! `topology.gke.io/zone` on GKE; the node group, zone id and a few more on EKS) are set aside.
//! On GKE the node pool label differs between pools, so only the zones of one pool are
//! similar; on EKS the node group label is ignored, so alike node groups are balanced too.
//! capsim's template nodes hold no pods: DaemonSets are already taken from their
//! allocatable, so its allocatable is upstream's free, and both are compared (and a DaemonSet
//! that runs on some groups only, having taken a slot from their pod limit, makes them differ in
//! pod capacity, which upstream would not count). A pair is
//! compared with EKS's list when either node carries `eks.amazonaws.com/nodegroup`, else
//! with GKE's.

use std::collections::BTreeMap;

use crate::cluster::pool::NodePool;
use crate::cluster::spec::Labels;
use crate::units::Resources;

/// `config.NodeGroupDifferenceRatios`: how far apart two similar groups' resources may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DifferenceRatios {
    /// `--max-allocatable-difference-ratio` (0.05).
    pub max_allocatable: f64,
    /// `--max-free-difference-ratio` (0.05).
    pub max_free: f64,
    /// `--memory-difference-ratio` (0.015), for memory capacity.
    pub max_capacity_memory: f64,
}

/// Upstream's default ratios (`config/autoscaling_options.go`).
pub const DEFAULT_RATIOS: DifferenceRatios = DifferenceRatios {
    max_allocatable: 0.05,
    max_free: 0.05,
    max_capacity_memory: 0.015,
};

/// `BasicIgnoredLabels`: labels that differ between similar groups.
pub const BASIC_IGNORED_LABELS: [&str; 7] = [
    "kubernetes.io/hostname",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "beta.kubernetes.io/fluentd-ds-ready",
    "kops.k8s.io/instancegroup",
];

/// What `CreateGceNodeInfoComparator` ignores beyond the basic labels.
pub const GCE_IGNORED_LABELS: [&str; 1] = ["topology.gke.io/zone"];

/// What `CreateAwsNodeInfoComparator` ignores beyond the basic labels.
pub const AWS_IGNORED_LABELS: [&str; 7] = [
    "alpha.eksctl.io/instance-id",
    "alpha.eksctl.io/nodegroup-name",
    "eks.amazonaws.com/nodegroup",
    "k8s.amazonaws.com/eniConfig",
    "lifecycle",
    "topology.ebs.csi.aws.com/zone",
    "topology.k8s.aws/zone-id",
];

/// The label an EKS managed node group's nodes carry, by which a pair is compared as EKS
/// compares it.
const EKS_NODEGROUP_LABEL: &str = "eks.amazonaws.com/nodegroup";

/// A node group's template node as the comparator sees it: resources by name in milli-units
/// (upstream's `MilliValue`), and labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeShape {
    /// `Status.Capacity`.
    pub capacity: BTreeMap<String, f64>,
    /// `Status.Allocatable`.
    pub allocatable: BTreeMap<String, f64>,
    /// What the node's pods request (cpu, memory, pods, ephemeral-storage and extended
    /// resources, as `ResourceToResourceList` lists them).
    pub requested: BTreeMap<String, f64>,
    /// The node's labels.
    pub labels: Labels,
}

/// `resources` as named milli-quantities: cpu, memory and each extended resource the node has.
fn resource_list(resources: &Resources, pods: u32) -> BTreeMap<String, f64> {
    let mut list = BTreeMap::new();
    list.insert("cpu".to_string(), resources.cpu.0 as f64);
    list.insert("memory".to_string(), resources.memory.0 as f64 * 1000.0);
    list.insert("pods".to_string(), f64::from(pods) * 1000.0);
    for (i, &count) in resources.extended.0.iter().enumerate() {
        if count > 0 {
            list.insert(format!("extended/{i}"), count as f64 * 1000.0);
        }
    }
    list
}

impl NodeShape {
    /// The template node of `pool`: its machine's capacity, its allocatable (DaemonSets'
    /// requests already taken), no pods, its labels.
    pub fn of_pool(pool: &NodePool) -> NodeShape {
        let allocatable = resource_list(&pool.allocatable, pool.max_pods);
        let requested = allocatable
            .keys()
            .chain(["ephemeral-storage".to_string()].iter())
            .map(|k| (k.clone(), 0.0))
            .collect();
        NodeShape {
            capacity: resource_list(&pool.machine.capacity, pool.max_pods),
            allocatable,
            requested,
            labels: pool.labels.clone(),
        }
    }
}

/// The labels a provider's comparator ignores: the basic ones, and EKS's (`eks`) or GKE's.
pub fn provider_ignored_labels(eks: bool) -> Vec<&'static str> {
    let mut ignored = BASIC_IGNORED_LABELS.to_vec();
    if eks {
        ignored.extend(AWS_IGNORED_LABELS);
    } else {
        ignored.extend(GCE_IGNORED_LABELS);
    }
    ignored
}

/// The labels ignored when comparing `n1` and `n2`: EKS's list when either is an EKS node,
/// else GKE's.
pub fn ignored_labels(n1: &NodeShape, n2: &NodeShape) -> Vec<&'static str> {
    let eks = [n1, n2]
        .iter()
        .any(|n| n.labels.contains_key(EKS_NODEGROUP_LABEL));
    provider_ignored_labels(eks)
}

/// `FindSimilarNodeGroups`: every group other than `group` whose shape `alike` judges similar
/// to its, in group order.
pub fn find_similar(
    group: usize,
    shapes: &[NodeShape],
    alike: impl Fn(&NodeShape, &NodeShape) -> bool,
) -> Vec<usize> {
    (0..shapes.len())
        .filter(|&g| g != group && alike(&shapes[group], &shapes[g]))
        .collect()
}

/// `resourceListWithinTolerance` for one resource's two quantities.
fn within_tolerance(a: f64, b: f64, max_difference_ratio: f64) -> bool {
    let (larger, smaller) = (a.max(b), a.min(b));
    larger - smaller <= larger * max_difference_ratio
}

/// Each resource's quantities in `n1` and `n2` (one when only one node has it), as upstream
/// gathers a `map[ResourceName][]Quantity`.
fn pairs(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> Vec<Vec<f64>> {
    let mut out: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for list in [a, b] {
        for (name, &q) in list {
            out.entry(name).or_default().push(q);
        }
    }
    out.into_values().collect()
}

/// `resourceMapsWithinTolerance`: every resource in both lists and within the ratio.
fn maps_within_tolerance(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>, r: f64) -> bool {
    pairs(a, b)
        .iter()
        .all(|q| q.len() == 2 && within_tolerance(q[0], q[1], r))
}

/// Free resources: allocatable less requested, for each requested resource.
fn free(n: &NodeShape) -> BTreeMap<String, f64> {
    n.requested
        .iter()
        .map(|(k, &req)| {
            (
                k.clone(),
                n.allocatable.get(k).copied().unwrap_or(0.0) - req,
            )
        })
        .collect()
}

/// `compareLabels`: every label not ignored is on both nodes with one value.
fn labels_match(n1: &NodeShape, n2: &NodeShape, ignored: &[&str]) -> bool {
    let kept = |n: &NodeShape| -> Vec<(String, String)> {
        (n.labels.iter())
            .filter(|(k, _)| !ignored.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    kept(n1) == kept(n2)
}

/// `IsCloudProviderNodeInfoSimilar`: whether the groups of `n1` and `n2` are alike enough to
/// balance, with `ignored` labels set aside.
pub fn is_similar(
    n1: &NodeShape,
    n2: &NodeShape,
    ignored: &[&str],
    ratios: &DifferenceRatios,
) -> bool {
    let mut names: Vec<&String> = n1.capacity.keys().chain(n2.capacity.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (Some(&a), Some(&b)) = (n1.capacity.get(name), n2.capacity.get(name)) else {
            return false;
        };
        let alike = if name == "memory" {
            within_tolerance(a, b, ratios.max_capacity_memory)
        } else {
            a == b
        };
        if !alike {
            return false;
        }
    }
    maps_within_tolerance(&n1.allocatable, &n2.allocatable, ratios.max_allocatable)
        && maps_within_tolerance(&free(n1), &free(n2), ratios.max_free)
        && labels_match(n1, n2, ignored)
}

/// Whether two node groups are similar as the cluster's provider's comparator judges them,
/// with upstream's default ratios.
pub fn similar(n1: &NodeShape, n2: &NodeShape) -> bool {
    is_similar(n1, n2, &ignored_labels(n1, n2), &DEFAULT_RATIOS)
}

/// One node group's share of a balanced scale-up (`ScaleUpInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleUpInfo {
    /// The group, as the caller numbers it.
    pub group: usize,
    /// Its target size before the scale-up.
    pub current_size: u32,
    /// Its target size after.
    pub new_size: u32,
    /// Its maximum size.
    pub max_size: u32,
}

/// `BalanceScaleUpBetweenGroups`: `new_nodes` spread over `groups` (group, target size, max
/// size), one node at a time to the smallest group, groups at their maximum left out; capped
/// at the groups' room. Returns the groups that grow, in the order the algorithm leaves them.
/// Groups of one size keep the order they are given in (upstream's sort is not stable; a
/// stable one makes the first group given, the expander's choice, win a tie).
pub fn balance_scale_up(groups: &[(usize, u32, u32)], new_nodes: u32) -> Vec<ScaleUpInfo> {
    let mut infos: Vec<ScaleUpInfo> = Vec::with_capacity(groups.len());
    let mut total_capacity: u64 = 0;
    for &(group, current_size, max_size) in groups {
        if current_size == max_size {
            continue;
        }
        total_capacity += u64::from(max_size.saturating_sub(current_size));
        infos.push(ScaleUpInfo {
            group,
            current_size,
            new_size: current_size,
            max_size,
        });
    }
    let mut new_nodes = u64::from(new_nodes).min(total_capacity);
    infos.sort_by_key(|i| i.current_size);
    let (mut start, mut current) = (0usize, 0usize);
    while new_nodes > 0 {
        if infos[current].new_size < infos[current].max_size {
            infos[current].new_size += 1;
            new_nodes -= 1;
        } else {
            infos.swap(start, current);
            start += 1;
        }
        // Upstream holds a pointer to the slot at `current`, so after a swap it compares the
        // group moved there.
        if current + 1 < infos.len() && infos[current].new_size > infos[current + 1].new_size {
            current += 1;
        } else {
            current = start;
        }
    }
    infos.retain(|i| i.new_size != i.current_size);
    infos
}

#[cfg(test)]
#[path = "balance_tests.rs"]
mod tests;
