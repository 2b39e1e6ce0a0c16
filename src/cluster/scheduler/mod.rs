//! A model of kube-scheduler's default profile: filter plugins decide which nodes can run a pod,
//! score plugins rank them, the highest weighted total wins and ties are broken at random.
//!
//! Use `filter` to ask whether one node (real or a Cluster Autoscaler template) can run a pod and
//! why not; use `Scheduler::schedule` to place a pod on the best of a list of nodes, and
//! `Scheduler::schedule_replica_classified` with the nodes' `LabelClasses` when many pods are
//! placed on the same nodes (label-only work is then done once per class). The score
//! functions are public so that tests can hold each one against Kubernetes' own vectors.
//!
//! One plugin per file, each a set of pure functions over read-only views:
//!
//! | plugin | filter | score (default weight) |
//! |---|---|---|
//! | `node_unschedulable` | cordoned nodes | — |
//! | `taint_toleration` | NoSchedule/NoExecute taints | PreferNoSchedule taints (3) |
//! | `node_affinity` | node selector, required terms | preferred terms (2) |
//! | `node_resources_fit` | cpu, memory, extended resources, pod count | LeastAllocated or MostAllocated (1) |
//! | `balanced_allocation` | — | cpu/memory balance, as of the `KubernetesVersion` (1) |
//! | `pod_topology_spread`, `pod_topology_spread_filter` | the pod's hard constraints | its soft constraints, or the system default spreading of a workload's replicas (2) |
//! | `inter_pod_affinity` | required pod (anti-)affinity, both sides | preferred terms, both sides (2) |
//!
//! Filters run in the default profile's order (the table's order), which matters for the
//! `FitError` message: kube-scheduler stops at the first plugin that rejects a node. The first
//! four look at one node; the last two count the pods bound across the nodes
//! (`PodGroups`), so `filter`, `fits` and `first_failing_plugin` leave them out and
//! `fits_among` adds them.
//!
//! Not modelled, and named here so a reader of the results knows: NodeName, NodePorts, the volume
//! plugins, ImageLocality, preemption, extenders, nominated nodes, pod-level resources, and
//! `namespaceSelector` in pod affinity terms.

pub mod balanced_allocation;
mod fit_error;
pub mod inter_pod_affinity;
pub mod label_class;
pub mod node_affinity;
pub mod node_resources_fit;
pub mod node_unschedulable;
mod normalize;
#[cfg(test)]
mod placement_score_tests;
#[cfg(test)]
mod placement_tests;
mod pod_groups;
pub mod pod_topology_spread;
pub mod pod_topology_spread_filter;
mod schedule;
pub mod taint_toleration;
mod version;

use std::fmt;

use crate::cluster::node::Node;
use crate::cluster::spec::PodSpec;

pub use balanced_allocation::balanced_allocation_score;
pub use fit_error::FitError;
pub use label_class::{ClassifiedNodes, LabelClassId, LabelClasses};
pub use node_affinity::node_affinity_raw_score;
pub use node_resources_fit::{
    ResourceWeights, ScoringStrategy, least_allocated_score, most_allocated_score,
};
pub use normalize::{MAX_NODE_SCORE, default_normalize_score};
pub use pod_groups::PodGroups;
pub use schedule::{
    MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, MIN_FEASIBLE_NODES_TO_FIND, PluginWeights, Scheduler,
    SchedulerConfig, num_feasible_nodes_to_find,
};
pub use taint_toleration::taint_toleration_raw_score;
pub use version::KubernetesVersion;

/// Why one node cannot run a pod, in kube-scheduler's words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// NodeResourcesFit: not enough CPU left.
    InsufficientCpu,
    /// NodeResourcesFit: not enough memory left.
    InsufficientMemory,
    /// NodeResourcesFit: the node runs `max_pods` already.
    TooManyPods,
    /// NodeResourcesFit: not enough of an extended resource (`nvidia.com/gpu`) left.
    InsufficientExtended {
        /// The resource's name.
        name: String,
    },
    /// NodeAffinity: the node selector or required node affinity does not match.
    NodeAffinityMismatch,
    /// TaintToleration: a NoSchedule or NoExecute taint is not tolerated. The first such taint is
    /// kept for diagnosis; the message no longer names it (see `Display`).
    UntoleratedTaint {
        /// Taint key.
        key: String,
        /// Taint value.
        value: String,
    },
    /// NodeUnschedulable: the node is cordoned.
    Unschedulable,
    /// PodTopologySpread: the node lacks a hard constraint's topology key.
    SpreadMissingLabel,
    /// PodTopologySpread: the pod there would exceed a hard constraint's `maxSkew`.
    SpreadConstraintsNotMatch,
    /// InterPodAffinity: a bound pod's required anti-affinity rejects the pod there.
    ExistingPodsAntiAffinity,
    /// InterPodAffinity: the pod's required affinity finds no matching pod there.
    PodAffinityNotMatch,
    /// InterPodAffinity: the pod's required anti-affinity finds a matching pod there.
    PodAntiAffinityNotMatch,
}

impl Reason {
    /// The name of the filter plugin that gives this reason, as kube-scheduler names it.
    pub fn plugin(&self) -> &'static str {
        match self {
            Reason::InsufficientCpu
            | Reason::InsufficientMemory
            | Reason::TooManyPods
            | Reason::InsufficientExtended { .. } => node_resources_fit::NAME,
            Reason::NodeAffinityMismatch => node_affinity::NAME,
            Reason::UntoleratedTaint { .. } => taint_toleration::NAME,
            Reason::Unschedulable => node_unschedulable::NAME,
            Reason::SpreadMissingLabel | Reason::SpreadConstraintsNotMatch => {
                pod_topology_spread_filter::NAME
            }
            Reason::ExistingPodsAntiAffinity
            | Reason::PodAffinityNotMatch
            | Reason::PodAntiAffinityNotMatch => inter_pod_affinity::NAME,
        }
    }

    /// Whether kube-scheduler marks the rejection `UnschedulableAndUnresolvable`: evicting pods
    /// from the node would not help, so preemption skips it.
    ///
    /// The NodeResourcesFit reasons return false here: they are resolvable unless the request
    /// exceeds the node's whole allocatable, which `node_resources_fit::is_unresolvable` tells.
    pub fn is_unresolvable(&self) -> bool {
        match self {
            Reason::InsufficientCpu
            | Reason::InsufficientMemory
            | Reason::TooManyPods
            | Reason::InsufficientExtended { .. }
            | Reason::SpreadConstraintsNotMatch
            | Reason::ExistingPodsAntiAffinity
            | Reason::PodAntiAffinityNotMatch => false,
            Reason::NodeAffinityMismatch
            | Reason::UntoleratedTaint { .. }
            | Reason::Unschedulable
            | Reason::SpreadMissingLabel
            | Reason::PodAffinityNotMatch => true,
        }
    }
}

impl fmt::Display for Reason {
    /// The status message kube-scheduler gives. Since kubernetes/kubernetes#134740 (1.35, and
    /// back-ported to 1.34 patch releases) an untolerated taint is no longer named in pod status,
    /// so every `UntoleratedTaint` prints the same text and counts together in a `FitError`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::InsufficientCpu => f.write_str("Insufficient cpu"),
            Reason::InsufficientMemory => f.write_str("Insufficient memory"),
            Reason::TooManyPods => f.write_str("Too many pods"),
            Reason::InsufficientExtended { name } => write!(f, "Insufficient {name}"),
            Reason::NodeAffinityMismatch => {
                f.write_str("node(s) didn't match Pod's node affinity/selector")
            }
            Reason::UntoleratedTaint { .. } => f.write_str("node(s) had untolerated taint(s)"),
            Reason::Unschedulable => f.write_str("node(s) were unschedulable"),
            Reason::SpreadMissingLabel => f.write_str(
                "node(s) didn't match pod topology spread constraints (missing required label)",
            ),
            Reason::SpreadConstraintsNotMatch => {
                f.write_str("node(s) didn't match pod topology spread constraints")
            }
            Reason::ExistingPodsAntiAffinity => {
                f.write_str("node(s) didn't satisfy existing pods anti-affinity rules")
            }
            Reason::PodAffinityNotMatch => f.write_str("node(s) didn't match pod affinity rules"),
            Reason::PodAntiAffinityNotMatch => {
                f.write_str("node(s) didn't match pod anti-affinity rules")
            }
        }
    }
}

/// A filter plugin: `Ok` when the node can run the pod, else every reason the plugin rejects it.
pub type FilterFn = fn(&PodSpec, &Node) -> Result<(), Vec<Reason>>;

/// The default profile's filter plugins, by name, in the order kube-scheduler runs them.
pub const FILTER_PLUGINS: [(&str, FilterFn); 4] = [
    (node_unschedulable::NAME, node_unschedulable::filter),
    (taint_toleration::NAME, taint_toleration::filter),
    (node_affinity::NAME, node_affinity::filter),
    (node_resources_fit::NAME, node_resources_fit::filter),
];

/// Runs every filter plugin of the default profile on one node and returns all the reasons it
/// rejects the pod (empty when the pod fits), in plugin order.
///
/// kube-scheduler itself stops at the first plugin that rejects a node; this function goes on so
/// that a caller (the Cluster Autoscaler, a report) sees everything that is wrong with a node.
/// `first_failing_plugin` gives kube-scheduler's view.
pub fn filter(pod: &PodSpec, node: &Node) -> Vec<Reason> {
    let mut reasons = Vec::new();
    for (_, plugin) in FILTER_PLUGINS {
        if let Err(mut r) = plugin(pod, node) {
            reasons.append(&mut r);
        }
    }
    reasons
}

/// Whether every filter plugin of the default profile passes: `filter(pod, node).is_empty()`
/// without building reasons or allocating.
///
/// Use it where only the verdict matters and nodes are checked many times, as in the Cluster
/// Autoscaler's simulations.
pub fn fits(pod: &PodSpec, node: &Node) -> bool {
    // The toleration of the unschedulable taint is only looked up on cordoned nodes.
    (!node.unschedulable || node_unschedulable::tolerates_unschedulable(pod))
        && taint_toleration::passes(pod, node)
        && node_affinity::passes(pod, node)
        && node_resources_fit::passes(pod, node)
}

/// The filters that count the pods bound across the nodes (PodTopologySpread's and
/// InterPodAffinity's), prepared once for a pod over a set of nodes as their PreFilter does,
/// then checked per node.
#[derive(Debug)]
pub struct PlacementFilters<'a> {
    spread: Option<pod_topology_spread_filter::SpreadFilter<'a>>,
    affinity: Option<inter_pod_affinity::AffinityFilter<'a>>,
}

impl<'a> PlacementFilters<'a> {
    /// PreFilter of both plugins for `pod` over `nodes`, whose bound pods `groups` describes.
    pub fn new(pod: &'a PodSpec, nodes: &'a [Node], groups: &PodGroups<'a>) -> Self {
        if !groups.matter_for(pod) {
            return PlacementFilters {
                spread: None,
                affinity: None,
            };
        }
        PlacementFilters {
            spread: pod_topology_spread_filter::SpreadFilter::new(pod, nodes, groups),
            affinity: inter_pod_affinity::AffinityFilter::new(pod, nodes, groups),
        }
    }

    /// Whether neither plugin has anything to check.
    pub fn is_empty(&self) -> bool {
        self.spread.is_none() && self.affinity.is_none()
    }

    /// The first reason either plugin rejects `node` for (PodTopologySpread first, as the
    /// default profile orders them).
    ///
    /// # Errors
    /// That reason.
    pub fn check(&self, node: &Node) -> Result<(), Reason> {
        if let Some(spread) = &self.spread {
            spread.check(node)?;
        }
        if let Some(affinity) = &self.affinity {
            affinity.check(node)?;
        }
        Ok(())
    }
}

/// `fits` with the filters that count bound pods: whether `nodes[i]` can run `pod` given the
/// pods bound on `nodes`. Prepare `PlacementFilters` once instead when many nodes are checked
/// for one pod.
pub fn fits_among(pod: &PodSpec, nodes: &[Node], i: usize, groups: &PodGroups<'_>) -> bool {
    fits(pod, &nodes[i])
        && PlacementFilters::new(pod, nodes, groups)
            .check(&nodes[i])
            .is_ok()
}

/// The reasons of the first filter plugin that rejects the node, as kube-scheduler records them
/// (its framework stops at the first failure); empty when the pod fits.
pub fn first_failing_plugin(pod: &PodSpec, node: &Node) -> Vec<Reason> {
    FILTER_PLUGINS
        .iter()
        .find_map(|(_, plugin)| plugin(pod, node).err())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::spec::TaintEffect;
    use crate::cluster::testing::{NodeBuilder, PodBuilder};

    #[test]
    fn filter_returns_every_reason_in_plugin_order() {
        // A cordoned, tainted, full node that does not match the selector and lacks resources.
        let node = NodeBuilder::new("n")
            .allocatable(1_000, 1 << 30)
            .max_pods(0)
            .unschedulable()
            .taint("dedicated", "gpu", TaintEffect::NoSchedule)
            .build();
        let pod = PodBuilder::new()
            .cpu_m(2_000)
            .memory(2 << 30)
            .node_selector("pool", "a")
            .build();
        let reasons = filter(&pod, &node);
        assert_eq!(
            reasons,
            vec![
                Reason::Unschedulable,
                Reason::UntoleratedTaint {
                    key: "dedicated".into(),
                    value: "gpu".into()
                },
                Reason::NodeAffinityMismatch,
                Reason::TooManyPods,
                Reason::InsufficientCpu,
                Reason::InsufficientMemory,
            ]
        );
        assert_eq!(
            first_failing_plugin(&pod, &node),
            vec![Reason::Unschedulable]
        );
    }

    #[test]
    fn first_failing_plugin_keeps_all_reasons_of_that_plugin() {
        let node = NodeBuilder::new("n").allocatable(1_000, 1 << 30).build();
        let pod = PodBuilder::new().cpu_m(2_000).memory(2 << 30).build();
        assert_eq!(
            first_failing_plugin(&pod, &node),
            vec![Reason::InsufficientCpu, Reason::InsufficientMemory]
        );
        let fits = PodBuilder::new().cpu_m(500).build();
        assert!(filter(&fits, &node).is_empty());
        assert!(first_failing_plugin(&fits, &node).is_empty());
    }

    #[test]
    fn reasons_print_as_kube_scheduler_does_and_name_their_plugin() {
        let taint = Reason::UntoleratedTaint {
            key: "k".into(),
            value: "v".into(),
        };
        let cases = [
            (
                Reason::InsufficientCpu,
                "Insufficient cpu",
                "NodeResourcesFit",
                false,
            ),
            (
                Reason::InsufficientMemory,
                "Insufficient memory",
                "NodeResourcesFit",
                false,
            ),
            (
                Reason::TooManyPods,
                "Too many pods",
                "NodeResourcesFit",
                false,
            ),
            (
                Reason::NodeAffinityMismatch,
                "node(s) didn't match Pod's node affinity/selector",
                "NodeAffinity",
                true,
            ),
            (
                taint,
                "node(s) had untolerated taint(s)",
                "TaintToleration",
                true,
            ),
            (
                Reason::Unschedulable,
                "node(s) were unschedulable",
                "NodeUnschedulable",
                true,
            ),
        ];
        for (reason, text, plugin, unresolvable) in cases {
            assert_eq!(reason.to_string(), text);
            assert_eq!(reason.plugin(), plugin, "{reason:?}");
            assert_eq!(reason.is_unresolvable(), unresolvable, "{reason:?}");
        }
    }
}
