//! Label classes: the nodes of one pool carry the same labels apart from the value of
//! `kubernetes.io/hostname`, so whatever the scheduler derives from a node's labels alone (node
//! selector, required and preferred node affinity, the zone a node spreads in) is the same for
//! every node of a class, and is computed once per class instead of once per node.
//!
//! Use `LabelClasses::classify` when a node is registered and keep its `LabelClassId` next to
//! it (a node's labels never change once it is registered); hand both to
//! `Scheduler::schedule_replica_classified`. Classes are only an index: the decisions are the
//! same as `Scheduler::schedule_replica` makes from the labels themselves.

use std::collections::BTreeMap;

use crate::cluster::node::HOSTNAME_LABEL;
use crate::cluster::scheduler::pod_topology_spread::{
    EMPTY_DOMAIN, SpreadConstraint, Topology, ZONE_LABEL, count_included_by_node,
};
use crate::cluster::spec::{Labels, NodeAffinity};

/// Identity of a label class in its `LabelClasses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelClassId(pub u32);

/// One class: the labels its nodes share and what the scheduler reads from them.
#[derive(Debug, Clone)]
struct Class {
    /// The labels without `kubernetes.io/hostname`.
    labels: Labels,
    /// Whether the nodes carry `kubernetes.io/hostname` (each with its own value).
    has_hostname: bool,
    /// The zone domain (an index into `LabelClasses::zones`), or `None` without a zone label.
    zone: Option<u32>,
}

/// The distinct label sets of a cluster's nodes, ignoring the hostname's value, with their
/// zones interned into dense domain ids.
#[derive(Debug, Clone)]
pub struct LabelClasses {
    classes: Vec<Class>,
    /// Class of each (has hostname, labels without hostname).
    index: BTreeMap<(bool, Labels), LabelClassId>,
    /// Distinct zone values; the empty value, which also stands for a missing zone label, is
    /// always domain 0.
    zones: Vec<String>,
}

impl Default for LabelClasses {
    fn default() -> LabelClasses {
        LabelClasses::new()
    }
}

impl LabelClasses {
    /// No classes yet.
    pub fn new() -> LabelClasses {
        LabelClasses {
            classes: Vec::new(),
            index: BTreeMap::new(),
            zones: vec![String::new()],
        }
    }

    /// The class of a node with `labels`, added if it is new.
    pub fn classify(&mut self, labels: &Labels) -> LabelClassId {
        let has_hostname = labels.contains_key(HOSTNAME_LABEL);
        let mut shared = labels.clone();
        shared.remove(HOSTNAME_LABEL);
        let key = (has_hostname, shared);
        if let Some(&id) = self.index.get(&key) {
            return id;
        }
        let zone = key.1.get(ZONE_LABEL).map(|value| self.zone_domain(value));
        let id =
            LabelClassId(u32::try_from(self.classes.len()).expect("fewer label sets than 2^32"));
        self.classes.push(Class {
            labels: key.1.clone(),
            has_hostname,
            zone,
        });
        self.index.insert(key, id);
        id
    }

    /// How many classes there are; ids run from 0 to `len() - 1`.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// Whether no node has been classified.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// How many zone domains the classes name, counting the empty one.
    pub(crate) fn zone_domains(&self) -> usize {
        self.zones.len()
    }

    /// The zone domain of a class's nodes, `None` when they carry no zone label.
    pub(crate) fn zone(&self, id: LabelClassId) -> Option<u32> {
        self.classes[id.0 as usize].zone
    }

    /// Whether a class's nodes carry `kubernetes.io/hostname`.
    pub(crate) fn has_hostname(&self, id: LabelClassId) -> bool {
        self.classes[id.0 as usize].has_hostname
    }

    /// The labels a class's nodes share (all but the hostname).
    pub(crate) fn labels(&self, index: usize) -> &Labels {
        &self.classes[index].labels
    }

    fn zone_domain(&mut self, value: &str) -> u32 {
        let position = match self.zones.iter().position(|z| z == value) {
            Some(p) => p,
            None => {
                self.zones.push(value.to_string());
                self.zones.len() - 1
            }
        };
        u32::try_from(position).expect("fewer zones than 2^32")
    }
}

/// Nodes with the label class of each, as `Scheduler::schedule_replica_classified` takes them.
#[derive(Debug, Clone, Copy)]
pub struct ClassifiedNodes<'a> {
    /// The classes.
    pub classes: &'a LabelClasses,
    /// The class of each node, parallel to the node list.
    pub class_of_node: &'a [LabelClassId],
}

impl ClassifiedNodes<'_> {
    /// The class of node `i`, as an index.
    fn class(&self, i: usize) -> usize {
        self.class_of_node[i].0 as usize
    }
}

/// NodeAffinity's verdict on each class for one pod: whether its nodes pass the filter, and
/// their raw score. Kept between cycles so that scheduling allocates nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClassVerdicts {
    passes: Vec<bool>,
    raw_scores: Vec<u64>,
}

impl ClassVerdicts {
    /// Evaluates `affinity` on every class; the raw scores only when `score`. `affinity` must
    /// not read the hostname (`reads_hostname`).
    pub(crate) fn fill(&mut self, affinity: &NodeAffinity, classes: &LabelClasses, score: bool) {
        debug_assert!(!reads_hostname(affinity));
        self.passes.clear();
        self.raw_scores.clear();
        for k in 0..classes.len() {
            let labels = classes.labels(k);
            self.passes.push(affinity.required_matches(labels));
            self.raw_scores.push(if score {
                affinity.preferred_score(labels)
            } else {
                0
            });
        }
    }

    /// Whether node `i` of `nodes` passes NodeAffinity's filter.
    pub(crate) fn passes(&self, nodes: &ClassifiedNodes<'_>, i: usize) -> bool {
        self.passes[nodes.class(i)]
    }

    /// Node `i`'s raw NodeAffinity score.
    pub(crate) fn raw_score(&self, nodes: &ClassifiedNodes<'_>, i: usize) -> u64 {
        self.raw_scores[nodes.class(i)]
    }
}

/// The system default spreading constraints' view of classified nodes: the hostname's presence
/// and the zone come from each node's class.
pub(crate) struct ClassTopology<'a, F> {
    nodes: ClassifiedNodes<'a>,
    /// Whether each constraint is the hostname one (else it is the zone one).
    hostname: Vec<bool>,
    /// The inclusion policy per class, when it is the same for every node of a class.
    verdicts: Option<&'a ClassVerdicts>,
    /// The inclusion policy node by node.
    included: F,
}

impl<'a, F: Fn(usize) -> bool> ClassTopology<'a, F> {
    /// The topology of `nodes` for `constraints`, whose keys must be the hostname or the zone
    /// label, with `included(i)` the inclusion policy of node `i`, which `verdicts` gives per
    /// class when present.
    ///
    /// # Panics
    /// On any other topology key.
    pub(crate) fn new(
        nodes: ClassifiedNodes<'a>,
        constraints: &[SpreadConstraint<'_>],
        verdicts: Option<&'a ClassVerdicts>,
        included: F,
    ) -> ClassTopology<'a, F> {
        let hostname = constraints
            .iter()
            .map(|c| match c.topology_key {
                HOSTNAME_LABEL => true,
                ZONE_LABEL => false,
                other => panic!("label classes do not index the topology key {other}"),
            })
            .collect();
        ClassTopology {
            nodes,
            hostname,
            verdicts,
            included,
        }
    }
}

impl<F: Fn(usize) -> bool> Topology for ClassTopology<'_, F> {
    fn nodes(&self) -> usize {
        self.nodes.class_of_node.len()
    }

    fn domain(&self, c: usize, i: usize) -> Option<u32> {
        let class = self.nodes.class_of_node[i];
        if self.hostname[c] {
            self.nodes
                .classes
                .has_hostname(class)
                .then_some(EMPTY_DOMAIN)
        } else {
            self.nodes.classes.zone(class)
        }
    }

    fn domains(&self, c: usize) -> usize {
        if self.hostname[c] {
            1
        } else {
            self.nodes.classes.zone_domains()
        }
    }

    fn included(&self, i: usize) -> bool {
        match self.verdicts {
            Some(verdicts) => verdicts.passes(&self.nodes, i),
            None => (self.included)(i),
        }
    }

    /// With the inclusion policy per class, sums the pods per class first: one pass of
    /// additions over the nodes, then one domain lookup per class.
    fn count_included(&self, c: usize, matching_pods: &[u32], domains: &mut [Option<i64>]) {
        let Some(verdicts) = self.verdicts.filter(|_| !self.hostname[c]) else {
            return count_included_by_node(self, c, matching_pods, domains);
        };
        let mut per_class = vec![0i64; self.nodes.classes.len()];
        for (class, &pods) in self.nodes.class_of_node.iter().zip(matching_pods) {
            per_class[class.0 as usize] += i64::from(pods);
        }
        for (k, pods) in per_class.into_iter().enumerate() {
            if !verdicts.passes[k] {
                continue;
            }
            let class = LabelClassId(k as u32);
            let domain = self.nodes.classes.zone(class).unwrap_or(EMPTY_DOMAIN) as usize;
            if let Some(count) = &mut domains[domain] {
                *count += pods;
            }
        }
    }
}

/// Whether `affinity` reads the hostname label, so that its verdict can differ between nodes
/// of one class and must be taken node by node.
pub(crate) fn reads_hostname(affinity: &NodeAffinity) -> bool {
    let in_term = |term: &crate::cluster::spec::NodeSelectorTerm| {
        term.match_expressions
            .iter()
            .any(|r| r.key == HOSTNAME_LABEL)
    };
    affinity.node_selector.contains_key(HOSTNAME_LABEL)
        || affinity.required.iter().any(in_term)
        || affinity.preferred.iter().any(|t| in_term(&t.preference))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::{PodBuilder, labels};

    #[test]
    fn nodes_differing_only_by_hostname_share_a_class() {
        let mut classes = LabelClasses::new();
        let a1 = classes.classify(&labels(&[(HOSTNAME_LABEL, "a-1"), (ZONE_LABEL, "z1")]));
        let a2 = classes.classify(&labels(&[(HOSTNAME_LABEL, "a-2"), (ZONE_LABEL, "z1")]));
        let b = classes.classify(&labels(&[(HOSTNAME_LABEL, "b-1"), (ZONE_LABEL, "z2")]));
        let bare = classes.classify(&labels(&[(ZONE_LABEL, "z1")]));
        let empty_zone = classes.classify(&labels(&[(ZONE_LABEL, "")]));
        let no_zone = classes.classify(&Labels::new());
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, bare);
        assert_eq!(classes.len(), 5);
        assert_eq!(classes.zone(a1), classes.zone(bare));
        assert_ne!(classes.zone(a1), classes.zone(b));
        // The empty zone and a missing one are the same domain; only the latter lacks the key.
        assert_eq!(classes.zone(empty_zone), Some(0));
        assert_eq!(classes.zone(no_zone), None);
        assert_eq!(classes.zone_domains(), 3);
        assert!(classes.has_hostname(a1) && !classes.has_hostname(bare));
    }

    #[test]
    fn affinity_reading_the_hostname_is_told_apart() {
        assert!(!reads_hostname(&PodBuilder::new().build().affinity));
        let selector = PodBuilder::new()
            .node_selector(HOSTNAME_LABEL, "a-1")
            .build();
        assert!(reads_hostname(&selector.affinity));
        let required = PodBuilder::new().required_in(HOSTNAME_LABEL, "a-1").build();
        assert!(reads_hostname(&required.affinity));
        let preferred = PodBuilder::new()
            .preferred_in(10, HOSTNAME_LABEL, "a-1")
            .build();
        assert!(reads_hostname(&preferred.affinity));
        let zone = PodBuilder::new().required_in(ZONE_LABEL, "z1").build();
        assert!(!reads_hostname(&zone.affinity));
    }
}
