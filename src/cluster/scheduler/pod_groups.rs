//! The pods already bound, as the PodTopologySpread and InterPodAffinity plugins see them:
//! each node counts its pods per placement group (`Node::pod_groups`), and a group's spec
//! holds the labels, namespace and rules all its pods share.
//!
//! Use `PodGroups` to hand the table of specs to the scheduler with the nodes. Counting a
//! selector's pods on a node visits only the groups present there, so a cycle costs the
//! nodes times the groups per node, never the pods squared.

use std::collections::BTreeMap;

use crate::cluster::node::Node;
use crate::cluster::placement::{PodAffinityTerm, PodPlacement};
use crate::cluster::spec::PodSpec;

/// The specs that nodes count their pods by: `specs[g]` is placement group `g`'s.
#[derive(Debug, Clone, Copy)]
pub struct PodGroups<'a> {
    /// One spec per group, indexed by `PodSpec::group`.
    pub specs: &'a [PodSpec],
    /// The groups whose spec declares any inter-pod affinity or anti-affinity term (what
    /// `PodGroups::with_pod_affinity` lists), so that a cycle for a pod without rules of its
    /// own can tell at once that no bound pod has rules about it either.
    pub with_pod_affinity: &'a [u32],
}

impl<'a> PodGroups<'a> {
    /// The groups of `specs` whose pods declare inter-pod (anti-)affinity, in index order.
    pub fn with_pod_affinity(specs: &[PodSpec]) -> Vec<u32> {
        (0..specs.len())
            .filter(|&g| specs[g].placement.has_pod_affinity())
            .map(|g| u32::try_from(g).expect("fewer pod specs than 2^32"))
            .collect()
    }

    /// The placement of group `g`; the empty one for a group outside the table.
    pub fn placement(&self, g: u32) -> &'a PodPlacement {
        static EMPTY: std::sync::OnceLock<PodPlacement> = std::sync::OnceLock::new();
        self.specs.get(g as usize).map_or_else(
            || EMPTY.get_or_init(PodPlacement::default),
            |s| &s.placement,
        )
    }

    /// Whether the cycle for `pod` needs the inter-pod plugins at all: the pod has spread
    /// constraints or pod (anti-)affinity, or some bound pod may have rules about it.
    pub fn matter_for(&self, pod: &PodSpec) -> bool {
        let p = &pod.placement;
        !p.spread.is_empty() || p.has_pod_affinity() || !self.with_pod_affinity.is_empty()
    }

    /// Pods on `node` whose group `select` accepts.
    pub fn count_on(&self, node: &Node, mut select: impl FnMut(&PodPlacement) -> bool) -> u32 {
        node.pod_groups
            .iter()
            .filter(|&&(g, _)| select(self.placement(g)))
            .map(|&(_, n)| n)
            .sum()
    }
}

/// Pod counts per topology pair (label key, label value), as kube-scheduler's
/// `topologyToMatchedTermCount`; ordered, so that iterating it is deterministic.
pub(crate) type PairCounts<'n> = BTreeMap<(&'n str, &'n str), i64>;

/// Adds `count` to the pair of `term`'s topology key on `node`, when the node has the key.
pub(crate) fn add_pair<'n>(
    counts: &mut PairCounts<'n>,
    node: &'n Node,
    term: &PodAffinityTerm,
    count: i64,
) {
    if let Some((key, value)) = node.labels.get_key_value(&term.topology_key) {
        *counts.entry((key.as_str(), value.as_str())).or_insert(0) += count;
    }
}
