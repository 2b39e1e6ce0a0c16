//! PodTopologySpread's filter for a pod's own hard constraints (`whenUnsatisfiable:
//! DoNotSchedule`), as `pkg/scheduler/framework/plugins/podtopologyspread/filtering.go` does it,
//! and the matching-pod counts its score reads for the soft ones.
//!
//! Use `SpreadFilter::new` once per cycle (upstream's PreFilter: every node that carries all
//! the constraints' keys and passes each constraint's inclusion policies adds its matching pods
//! to its domain), then `SpreadFilter::check` per node. A node passes a constraint when
//! `pods in its domain + (1 if the pod matches its own selector) - global minimum <= maxSkew`,
//! the global minimum being 0 while fewer than `minDomains` domains are eligible.

use std::collections::BTreeMap;

use crate::cluster::node::Node;
use crate::cluster::placement::{InclusionPolicy, TopologySpreadConstraint, WhenUnsatisfiable};
use crate::cluster::scheduler::pod_groups::PodGroups;
use crate::cluster::scheduler::{Reason, node_affinity, taint_toleration};
use crate::cluster::spec::PodSpec;

/// The plugin's name, as kube-scheduler's profile lists it.
pub const NAME: &str = "PodTopologySpread";

/// One hard constraint and the matching pods of each of its domains.
#[derive(Debug)]
struct Hard<'a> {
    constraint: &'a TopologySpreadConstraint,
    /// The pod matches its own selector: it adds 1 to the domain it lands in.
    self_match: i64,
    /// Matching pods per domain (label value), over the eligible nodes.
    per_domain: BTreeMap<&'a str, i64>,
}

impl Hard<'_> {
    /// The global minimum (`minMatchNum`): the fewest matching pods of any eligible domain, 0
    /// while fewer domains than `minDomains` are eligible; `None` without any domain.
    fn min_match(&self) -> Option<i64> {
        let below_min_domains = self
            .constraint
            .min_domains
            .is_some_and(|m| self.per_domain.len() < m as usize);
        if below_min_domains {
            return Some(0);
        }
        self.per_domain.values().copied().min()
    }
}

/// PreFilter's state for a pod with hard spread constraints.
#[derive(Debug)]
pub struct SpreadFilter<'a> {
    hard: Vec<Hard<'a>>,
}

/// Whether `node` counts towards constraint `c`'s domains for `pod`: its inclusion policies
/// (`nodeAffinityPolicy: Honor` by default: the pod's node selector and required node affinity
/// match; `nodeTaintsPolicy: Honor`: every NoSchedule/NoExecute taint is tolerated).
pub(crate) fn included(c: &TopologySpreadConstraint, pod: &PodSpec, node: &Node) -> bool {
    (c.node_affinity_policy == InclusionPolicy::Ignore || node_affinity::passes(pod, node))
        && (c.node_taints_policy == InclusionPolicy::Ignore || taint_toleration::passes(pod, node))
}

/// The pods on `node` that constraint `c` of `pod` counts: in the pod's namespace, matched by
/// the constraint's selector.
pub(crate) fn matching_on(
    c: &TopologySpreadConstraint,
    pod: &PodSpec,
    node: &Node,
    groups: &PodGroups<'_>,
) -> u32 {
    let namespace = &pod.placement.namespace;
    groups.count_on(node, |p| {
        &p.namespace == namespace && c.selector.matches(&p.labels)
    })
}

/// Whether `node` carries the topology key of every constraint in `constraints`.
pub(crate) fn has_all_keys<'c>(
    mut constraints: impl Iterator<Item = &'c TopologySpreadConstraint>,
    node: &Node,
) -> bool {
    constraints.all(|c| node.labels.contains_key(&c.topology_key))
}

impl<'a> SpreadFilter<'a> {
    /// PreFilter over every node; `None` when the pod has no hard constraint (the plugin skips
    /// it).
    pub fn new(pod: &'a PodSpec, nodes: &'a [Node], groups: &PodGroups<'_>) -> Option<Self> {
        let hard_constraints = || {
            (pod.placement.spread.iter())
                .filter(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
        };
        let mut hard: Vec<Hard<'a>> = hard_constraints()
            .map(|constraint| Hard {
                constraint,
                self_match: i64::from(constraint.selector.matches(&pod.placement.labels)),
                per_domain: BTreeMap::new(),
            })
            .collect();
        if hard.is_empty() {
            return None;
        }
        for node in nodes {
            if !has_all_keys(hard_constraints(), node) {
                continue;
            }
            for h in &mut hard {
                if !included(h.constraint, pod, node) {
                    continue;
                }
                let value = node.labels[&h.constraint.topology_key].as_str();
                let count = matching_on(h.constraint, pod, node, groups);
                *h.per_domain.entry(value).or_insert(0) += i64::from(count);
            }
        }
        Some(SpreadFilter { hard })
    }

    /// Filter: whether `node` keeps every hard constraint, else the reason.
    ///
    /// # Errors
    /// `Reason::SpreadMissingLabel` when the node lacks a constraint's key (unresolvable),
    /// `Reason::SpreadConstraintsNotMatch` when the pod there would exceed a `maxSkew`.
    pub fn check(&self, node: &Node) -> Result<(), Reason> {
        for h in &self.hard {
            let Some(value) = node.labels.get(&h.constraint.topology_key) else {
                return Err(Reason::SpreadMissingLabel);
            };
            let Some(min) = h.min_match() else {
                continue;
            };
            let here = h.per_domain.get(value.as_str()).copied().unwrap_or(0);
            if here + h.self_match - min > i64::from(h.constraint.max_skew) {
                return Err(Reason::SpreadConstraintsNotMatch);
            }
        }
        Ok(())
    }
}
