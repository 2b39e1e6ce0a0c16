//! A pod's own placement rules relative to other pods, in Kubernetes' terms: label selectors,
//! `topologySpreadConstraints`, and `podAffinity` / `podAntiAffinity` terms.
//!
//! Use `PodPlacement` (a `PodSpec` carries one) to say which labels and namespace a pod has
//! and which rules it declares; the PodTopologySpread and InterPodAffinity plugins of
//! `cluster::scheduler` read it for the pod being placed and for the pods already bound.

use crate::cluster::spec::Labels;

/// The operator of a label selector requirement (`metav1.LabelSelectorOperator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelSelectorOperator {
    /// The label's value is one of the values.
    In,
    /// The label is absent or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

/// One `matchExpressions` entry of a label selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LabelSelectorRequirement {
    /// Label key.
    pub key: String,
    /// How the label is compared.
    pub operator: LabelSelectorOperator,
    /// Values for `In`/`NotIn`; empty otherwise.
    pub values: Vec<String>,
}

/// A `metav1.LabelSelector`: `matchLabels` and `matchExpressions`, all ANDed. An empty selector
/// matches every pod, as `metav1.LabelSelectorAsSelector` makes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    /// Labels that must be present with these values.
    pub match_labels: Labels,
    /// Requirements on labels.
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl LabelSelector {
    /// Whether a pod with `labels` is selected.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator {
                    LabelSelectorOperator::In => value.is_some_and(|v| r.values.contains(v)),
                    LabelSelectorOperator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                    LabelSelectorOperator::Exists => value.is_some(),
                    LabelSelectorOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

/// `whenUnsatisfiable` of a topology spread constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WhenUnsatisfiable {
    /// A hard constraint: PodTopologySpread's filter rejects nodes that would break it.
    DoNotSchedule,
    /// A soft constraint: PodTopologySpread's score prefers nodes that keep it.
    ScheduleAnyway,
}

/// `nodeAffinityPolicy` / `nodeTaintsPolicy`: whether a node that the pod's node affinity (or
/// taints) would reject still counts in its domain's pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InclusionPolicy {
    /// Only nodes the pod could be placed on (by that filter) count.
    Honor,
    /// Every node counts.
    Ignore,
}

/// One entry of a pod's `topologySpreadConstraints`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopologySpreadConstraint {
    /// `maxSkew`: at least 1.
    pub max_skew: u32,
    /// The node label whose values are the topology domains.
    pub topology_key: String,
    /// Hard (filter) or soft (score).
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// Which pods (in the pod's namespace) are counted; `matchLabelKeys` already merged in as
    /// `matchLabels` from the pod's own labels, as the API server does since 1.34.
    pub selector: LabelSelector,
    /// `minDomains` (only with `DoNotSchedule`): below this many eligible domains, the global
    /// minimum counts as 0.
    pub min_domains: Option<u32>,
    /// `nodeAffinityPolicy`, `Honor` by default.
    pub node_affinity_policy: InclusionPolicy,
    /// `nodeTaintsPolicy`, `Ignore` by default.
    pub node_taints_policy: InclusionPolicy,
}

/// A `PodAffinityTerm`: the pods its selector matches in its namespaces, and the node label
/// whose value they must (or must not) share with the pod's node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodAffinityTerm {
    /// Which pods the term is about.
    pub selector: LabelSelector,
    /// Namespaces those pods are looked for in (the pod's own when the file gives none).
    pub namespaces: Vec<String>,
    /// The node label that defines "the same place".
    pub topology_key: String,
}

impl PodAffinityTerm {
    /// Whether a pod in `namespace` with `labels` is one of the term's pods.
    pub fn matches(&self, namespace: &str, labels: &Labels) -> bool {
        self.namespaces.iter().any(|n| n == namespace) && self.selector.matches(labels)
    }
}

/// A `WeightedPodAffinityTerm` of a preferred rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WeightedPodAffinityTerm {
    /// 1..=100.
    pub weight: u32,
    /// The term.
    pub term: PodAffinityTerm,
}

/// A pod's labels and namespace, and the rules it declares about other pods.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PodPlacement {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's labels (what other pods' selectors match).
    pub labels: Labels,
    /// `topologySpreadConstraints`.
    pub spread: Vec<TopologySpreadConstraint>,
    /// `podAffinity.requiredDuringSchedulingIgnoredDuringExecution`.
    pub required_affinity: Vec<PodAffinityTerm>,
    /// `podAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred_affinity: Vec<WeightedPodAffinityTerm>,
    /// `podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution`.
    pub required_anti_affinity: Vec<PodAffinityTerm>,
    /// `podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred_anti_affinity: Vec<WeightedPodAffinityTerm>,
}

impl PodPlacement {
    /// Whether the pod declares any inter-pod affinity or anti-affinity term.
    pub fn has_pod_affinity(&self) -> bool {
        !(self.required_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty())
    }

    /// Whether the pod's placement depends on where other pods are beyond what a bind can only
    /// tighten: it has hard spread constraints or required affinity (a pod arriving can make a
    /// node feasible), or any required rule (a pod leaving loosens a whole domain).
    pub fn has_required_rules(&self) -> bool {
        !self.required_affinity.is_empty()
            || !self.required_anti_affinity.is_empty()
            || self
                .spread
                .iter()
                .any(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_match_as_metav1_label_selectors_do() {
        let pod = labels(&[("app", "web"), ("tier", "front")]);
        let req = |key: &str, operator, values: &[&str]| LabelSelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        use LabelSelectorOperator::*;
        let cases = [
            (LabelSelector::default(), true),
            (
                LabelSelector {
                    match_labels: labels(&[("app", "web")]),
                    match_expressions: vec![],
                },
                true,
            ),
            (
                LabelSelector {
                    match_labels: labels(&[("app", "db")]),
                    match_expressions: vec![],
                },
                false,
            ),
            (
                LabelSelector {
                    match_labels: labels(&[("app", "web")]),
                    match_expressions: vec![req("tier", In, &["back"])],
                },
                false,
            ),
            (
                LabelSelector {
                    match_labels: Labels::new(),
                    match_expressions: vec![req("tier", NotIn, &["back"]), req("app", Exists, &[])],
                },
                true,
            ),
            (
                LabelSelector {
                    match_labels: Labels::new(),
                    match_expressions: vec![req("zone", DoesNotExist, &[])],
                },
                true,
            ),
            (
                LabelSelector {
                    match_labels: Labels::new(),
                    match_expressions: vec![req("app", DoesNotExist, &[])],
                },
                false,
            ),
        ];
        for (selector, want) in cases {
            assert_eq!(selector.matches(&pod), want, "{selector:?}");
        }
    }
}
