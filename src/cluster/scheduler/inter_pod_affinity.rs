//! InterPodAffinity, as `pkg/scheduler/framework/plugins/interpodaffinity/{filtering,scoring}.go`
//! do it: required pod affinity and anti-affinity of the pod being placed, the required
//! anti-affinity of the pods already bound against it (filter), and the weighted preferences of
//! both sides (score).
//!
//! Use `AffinityFilter::new` once per cycle (PreFilter: every bound pod counted into the
//! topology pairs of its node), then `AffinityFilter::check` per node; `scores` for the
//! normalized score of the feasible nodes. Terms' namespaces are explicit lists (the pod's own
//! when a file gives none); `namespaceSelector` is not modelled.

use crate::cluster::node::Node;
use crate::cluster::placement::{PodAffinityTerm, PodPlacement, WeightedPodAffinityTerm};
use crate::cluster::scheduler::pod_groups::{PairCounts, PodGroups, add_pair};
use crate::cluster::scheduler::{MAX_NODE_SCORE, Reason};
use crate::cluster::spec::PodSpec;

/// The plugin's name, as kube-scheduler's profile lists it.
pub const NAME: &str = "InterPodAffinity";

/// `hardPodAffinityWeight`'s default: what an existing pod's required affinity term that the
/// incoming pod matches adds to the score.
pub const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

/// Whether a pod with `placement` matches every term (kube-scheduler's
/// `podMatchesAllAffinityTerms`); false without terms.
fn matches_all(terms: &[PodAffinityTerm], placement: &PodPlacement) -> bool {
    !terms.is_empty()
        && terms
            .iter()
            .all(|t| t.matches(&placement.namespace, &placement.labels))
}

/// PreFilter's state: bound pods counted per topology pair.
#[derive(Debug)]
pub struct AffinityFilter<'a> {
    pod: &'a PodPlacement,
    /// Pairs where a bound pod's required anti-affinity term matches the pod.
    existing_anti: PairCounts<'a>,
    /// Pairs of the pod's required affinity terms, where bound pods match all of them.
    affinity: PairCounts<'a>,
    /// Pairs of the pod's required anti-affinity terms, where bound pods match the term.
    anti: PairCounts<'a>,
}

impl<'a> AffinityFilter<'a> {
    /// PreFilter over every node; `None` when neither the pod nor any bound pod has a required
    /// term that concerns it (the plugin then passes every node).
    pub fn new(pod: &'a PodSpec, nodes: &'a [Node], groups: &PodGroups<'a>) -> Option<Self> {
        let p = &*pod.placement;
        // The groups whose required anti-affinity has a term the pod matches.
        let against: Vec<u32> = (groups.with_pod_affinity.iter().copied())
            .filter(|&g| {
                (groups.placement(g).required_anti_affinity.iter())
                    .any(|t| t.matches(&p.namespace, &p.labels))
            })
            .collect();
        if against.is_empty()
            && p.required_affinity.is_empty()
            && p.required_anti_affinity.is_empty()
        {
            return None;
        }
        let mut state = AffinityFilter {
            pod: p,
            existing_anti: PairCounts::new(),
            affinity: PairCounts::new(),
            anti: PairCounts::new(),
        };
        for node in nodes {
            for &(g, n) in &node.pod_groups {
                let n = i64::from(n);
                let other = groups.placement(g);
                if against.binary_search(&g).is_ok() {
                    for t in &other.required_anti_affinity {
                        if t.matches(&p.namespace, &p.labels) {
                            add_pair(&mut state.existing_anti, node, t, n);
                        }
                    }
                }
                if matches_all(&p.required_affinity, other) {
                    for t in &p.required_affinity {
                        add_pair(&mut state.affinity, node, t, n);
                    }
                }
                for t in &p.required_anti_affinity {
                    if t.matches(&other.namespace, &other.labels) {
                        add_pair(&mut state.anti, node, t, n);
                    }
                }
            }
        }
        Some(state)
    }

    /// Filter: bound pods' anti-affinity first, then the pod's affinity, then its
    /// anti-affinity, as upstream orders them.
    ///
    /// # Errors
    /// The first rule `node` breaks.
    pub fn check(&self, node: &Node) -> Result<(), Reason> {
        let count = |counts: &PairCounts<'_>, key: &str, value: &str| {
            counts.get(&(key, value)).copied().unwrap_or(0)
        };
        if !self.existing_anti.is_empty()
            && (node.labels.iter()).any(|(k, v)| count(&self.existing_anti, k, v) > 0)
        {
            return Err(Reason::ExistingPodsAntiAffinity);
        }
        if !self.satisfies_affinity(node, count) {
            return Err(Reason::PodAffinityNotMatch);
        }
        for t in &self.pod.required_anti_affinity {
            if let Some(value) = node.labels.get(&t.topology_key)
                && count(&self.anti, &t.topology_key, value) > 0
            {
                return Err(Reason::PodAntiAffinityNotMatch);
            }
        }
        Ok(())
    }

    /// `satisfyPodAffinity`: the node has every term's key and matching pods in each term's
    /// pair; or no pod anywhere matches the terms and the pod matches them itself (the first
    /// pod of a group with affinity to itself).
    fn satisfies_affinity(
        &self,
        node: &Node,
        count: impl Fn(&PairCounts<'_>, &str, &str) -> i64,
    ) -> bool {
        let mut pods_exist = true;
        for t in &self.pod.required_affinity {
            let Some(value) = node.labels.get(&t.topology_key) else {
                return false;
            };
            if count(&self.affinity, &t.topology_key, value) <= 0 {
                pods_exist = false;
            }
        }
        pods_exist
            || (self.affinity.is_empty() && matches_all(&self.pod.required_affinity, self.pod))
    }
}

/// Adds `sign × weight × count` to the pair of every term of `terms` that a pod with
/// `placement` matches (`processTerms`).
fn weighted<'n>(
    scores: &mut PairCounts<'n>,
    terms: &[WeightedPodAffinityTerm],
    placement: &PodPlacement,
    node: &'n Node,
    sign: i64,
    count: i64,
) {
    for w in terms {
        if w.term.matches(&placement.namespace, &placement.labels) {
            add_pair(scores, node, &w.term, sign * i64::from(w.weight) * count);
        }
    }
}

/// InterPodAffinity's normalized scores of `feasible` (indices into `nodes`), appended to `out`
/// in order; nothing when the plugin skips the pod (no preferred terms of its own and no bound
/// pod with terms).
///
/// PreScore counts, over every bound pod, the pod's preferred terms the bound pod matches
/// (+weight, anti-affinity −weight), and the bound pod's required affinity (+1), preferred
/// affinity (+weight) and preferred anti-affinity (−weight) terms the pod matches, into the
/// pair of the bound pod's node; a node scores the sum over the pairs of its labels, and
/// NormalizeScore maps min..max to 0..100.
pub fn scores(
    pod: &PodSpec,
    nodes: &[Node],
    groups: &PodGroups<'_>,
    feasible: &[usize],
    out: &mut Vec<u64>,
) {
    let p = &*pod.placement;
    let own = !p.preferred_affinity.is_empty() || !p.preferred_anti_affinity.is_empty();
    if !own && groups.with_pod_affinity.is_empty() {
        return;
    }
    let mut pairs = PairCounts::new();
    for node in nodes.iter().filter(|n| !n.labels.is_empty()) {
        for &(g, n) in &node.pod_groups {
            let n = i64::from(n);
            let other = groups.placement(g);
            weighted(&mut pairs, &p.preferred_affinity, other, node, 1, n);
            weighted(&mut pairs, &p.preferred_anti_affinity, other, node, -1, n);
            if groups.with_pod_affinity.binary_search(&g).is_err() {
                continue;
            }
            for t in &other.required_affinity {
                if t.matches(&p.namespace, &p.labels) {
                    add_pair(&mut pairs, node, t, HARD_POD_AFFINITY_WEIGHT * n);
                }
            }
            weighted(&mut pairs, &other.preferred_affinity, p, node, 1, n);
            weighted(&mut pairs, &other.preferred_anti_affinity, p, node, -1, n);
        }
    }
    let raw: Vec<i64> = (feasible.iter())
        .map(|&i| {
            (nodes[i].labels.iter())
                .map(|(k, v)| pairs.get(&(k.as_str(), v.as_str())).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let min = raw.iter().copied().min().unwrap_or(0);
    let max = raw.iter().copied().max().unwrap_or(0);
    out.extend(raw.iter().map(|&s| {
        if max > min {
            (MAX_NODE_SCORE as f64 * ((s - min) as f64 / (max - min) as f64)) as u64
        } else {
            0
        }
    }));
}
