//! The Kubernetes objects a pod and a node declare about placement: taints, tolerations, node
//! affinity and labels, with Kubernetes' own matching rules.
//!
//! Use these types to describe where a pod may run; the scheduler decides where it does run.
//! The matching functions follow `k8s.io/api/core/v1` `Toleration.ToleratesTaint` and
//! `k8s.io/component-helpers/scheduling/corev1/nodeaffinity`. Nothing here parses YAML: the
//! scenario module builds these values after validating them.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cluster::placement::PodPlacement;
use crate::units::Resources;

/// Node labels, ordered so that every iteration over them is deterministic.
pub type Labels = BTreeMap<String, String>;

/// What a taint does to pods that do not tolerate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaintEffect {
    /// New pods that do not tolerate the taint are not scheduled on the node.
    NoSchedule,
    /// The scheduler avoids the node for such pods, but may still use it.
    PreferNoSchedule,
    /// Like `NoSchedule`, and running pods that do not tolerate it are evicted.
    NoExecute,
}

impl TaintEffect {
    /// The name Kubernetes uses for the effect.
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// A node taint (`key=value:Effect`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Taint {
    /// Taint key.
    pub key: String,
    /// Taint value; empty when the taint has none.
    pub value: String,
    /// What the taint does.
    pub effect: TaintEffect,
}

/// How a toleration compares its value with a taint's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TolerationOperator {
    /// The taint value must equal the toleration value (Kubernetes' default).
    Equal,
    /// Any value matches; with an empty key, every taint matches.
    Exists,
}

/// A pod toleration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Toleration {
    /// Taint key to match; empty matches every key (only with `Exists`).
    pub key: String,
    /// Comparison of values.
    pub operator: TolerationOperator,
    /// Value compared under `Equal`.
    pub value: String,
    /// Effect to match; `None` matches every effect.
    pub effect: Option<TaintEffect>,
    /// For a NoExecute toleration: how long, in seconds, the pod stays bound to a node after
    /// the taint appears (`None`: for ever).
    pub toleration_seconds: Option<u64>,
}

impl Toleration {
    /// Whether this toleration tolerates `taint`, as `Toleration.ToleratesTaint` decides.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if let Some(effect) = self.effect
            && effect != taint.effect
        {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
        }
    }
}

/// Whether any of `tolerations` tolerates `taint`.
pub fn taint_tolerated(taint: &Taint, tolerations: &[Toleration]) -> bool {
    tolerations.iter().any(|t| t.tolerates(taint))
}

/// The operator of a node selector requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectorOperator {
    /// The label's value is one of the values.
    In,
    /// The label is absent or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
    /// The label's value, as an integer, is greater than the single value.
    Gt,
    /// The label's value, as an integer, is less than the single value.
    Lt,
}

/// One `matchExpressions` entry of a node selector term.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeSelectorRequirement {
    /// Label key.
    pub key: String,
    /// How the label is compared.
    pub operator: SelectorOperator,
    /// Values for `In`/`NotIn`; one integer for `Gt`/`Lt`; empty otherwise.
    pub values: Vec<String>,
}

impl NodeSelectorRequirement {
    /// Whether a node with `labels` satisfies this requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            SelectorOperator::In => value.is_some_and(|v| self.values.contains(v)),
            SelectorOperator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
            SelectorOperator::Gt | SelectorOperator::Lt => {
                let (Some(label), Some(bound)) = (value, self.values.first()) else {
                    return false;
                };
                let (Ok(label), Ok(bound)) = (label.parse::<i64>(), bound.parse::<i64>()) else {
                    return false;
                };
                if self.operator == SelectorOperator::Gt {
                    label > bound
                } else {
                    label < bound
                }
            }
        }
    }
}

/// A node selector term: its requirements are ANDed. An empty term matches no node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodeSelectorTerm {
    /// The `matchExpressions` of the term.
    pub match_expressions: Vec<NodeSelectorRequirement>,
}

impl NodeSelectorTerm {
    /// Whether every requirement matches; false for an empty term, as in Kubernetes.
    pub fn matches(&self, labels: &Labels) -> bool {
        !self.match_expressions.is_empty()
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }
}

/// A preferred scheduling term and its weight (1..=100).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreferredTerm {
    /// Weight added to a node's raw NodeAffinity score when the term matches.
    pub weight: u32,
    /// The term to match.
    pub preference: NodeSelectorTerm,
}

/// A pod's node affinity and node selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodeAffinity {
    /// `spec.nodeSelector`: every pair must be a node label.
    pub node_selector: Labels,
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`, ORed; empty means no
    /// requirement.
    pub required: Vec<NodeSelectorTerm>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred: Vec<PreferredTerm>,
}

impl NodeAffinity {
    /// Whether a node with `labels` satisfies the node selector and the required terms.
    pub fn required_matches(&self, labels: &Labels) -> bool {
        let selector_ok = self
            .node_selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v));
        selector_ok && (self.required.is_empty() || self.required.iter().any(|t| t.matches(labels)))
    }

    /// The raw preferred-affinity score of a node: the sum of the weights of matching terms.
    pub fn preferred_score(&self, labels: &Labels) -> u64 {
        self.preferred
            .iter()
            .filter(|t| t.preference.matches(labels))
            .map(|t| u64::from(t.weight))
            .sum()
    }
}

/// What the scheduler needs to know about a pod: the part of its spec that decides placement.
/// All pods of a service share one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PodSpec {
    /// Resource requests, after Kubernetes' defaulting (a limit without a request sets it).
    pub requests: Resources,
    /// Resource limits; zero where the pod sets none.
    pub limits: Resources,
    /// Whether the pod declares a CPU request. Scoring substitutes Kubernetes' non-zero default
    /// (100m) for pods without one.
    pub has_cpu_request: bool,
    /// Whether the pod declares a memory request (else scoring uses 200 MB).
    pub has_memory_request: bool,
    /// Node selector and node affinity.
    pub affinity: NodeAffinity,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
    /// The scenario's extended resource names (`nvidia.com/gpu`), indexed as the amounts in
    /// `requests.extended` are: what the scheduler's messages call them.
    pub extended_names: ExtendedNames,
    /// The pod's labels, namespace, topology spread constraints and inter-pod (anti-)affinity.
    pub placement: Arc<PodPlacement>,
    /// The pod's placement group: its index in the table of specs the scheduler is given with
    /// the nodes (`scheduler::PodGroups`), where the pods a node counts per group find their
    /// labels and rules. 0 where no such table is kept.
    pub group: u32,
}

/// A scenario's table of extended resource names: entry `i` names the amounts at index `i` of
/// `units::ExtendedResources`. Shared, so that every pod spec can name them cheaply.
pub type ExtendedNames = Arc<[String]>;

/// The extended resource GPU machine types offer, as NVIDIA's device plugin names it.
pub const NVIDIA_GPU: &str = "nvidia.com/gpu";

/// Where the extended resource `name` is in `names`, if the scenario names it.
pub fn extended_index(names: &[String], name: &str) -> Option<usize> {
    names.iter().position(|n| n == name)
}

/// The name of extended resource `index` in `names`, or a placeholder when the table lacks it.
pub fn extended_name(names: &[String], index: usize) -> String {
    names
        .get(index)
        .cloned()
        .unwrap_or_else(|| format!("extended-resource-{index}"))
}

/// Kubernetes' `DefaultMilliCPURequest`: the CPU a pod without a request counts for in scoring.
pub const DEFAULT_MILLI_CPU_REQUEST: u64 = 100;
/// Kubernetes' `DefaultMemoryRequest`: the memory a pod without a request counts for in scoring.
pub const DEFAULT_MEMORY_REQUEST: u64 = 200 * 1024 * 1024;

impl PodSpec {
    /// Requests with Kubernetes' non-zero defaults substituted, as `NonZeroRequested` is computed
    /// for the LeastAllocated score.
    pub fn non_zero_requests(&self) -> Resources {
        Resources::new(
            if self.has_cpu_request {
                self.requests.cpu.0
            } else {
                DEFAULT_MILLI_CPU_REQUEST
            },
            if self.has_memory_request {
                self.requests.memory.0
            } else {
                DEFAULT_MEMORY_REQUEST
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::labels;

    fn req(key: &str, op: SelectorOperator, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn selector_operators_follow_kubernetes() {
        use SelectorOperator::*;
        let node = labels(&[("node-type", "memory-optimized"), ("gpus", "4")]);
        let cases = [
            (req("node-type", In, &["memory-optimized", "x"]), true),
            (req("node-type", In, &["compute-optimized"]), false),
            (req("missing", In, &["a"]), false),
            (req("node-type", NotIn, &["compute-optimized"]), true),
            (req("missing", NotIn, &["a"]), true),
            (req("node-type", NotIn, &["memory-optimized"]), false),
            (req("gpus", Exists, &[]), true),
            (req("missing", Exists, &[]), false),
            (req("missing", DoesNotExist, &[]), true),
            (req("gpus", DoesNotExist, &[]), false),
            (req("gpus", Gt, &["3"]), true),
            (req("gpus", Gt, &["4"]), false),
            (req("gpus", Lt, &["5"]), true),
            (req("gpus", Lt, &["4"]), false),
            (req("node-type", Gt, &["1"]), false), // not an integer: no match
            (req("missing", Lt, &["1"]), false),
        ];
        for (r, want) in cases {
            assert_eq!(r.matches(&node), want, "{r:?}");
        }
    }

    #[test]
    fn empty_term_matches_nothing_and_terms_are_ored() {
        let node = labels(&[("a", "1")]);
        assert!(!NodeSelectorTerm::default().matches(&node));
        let affinity = NodeAffinity {
            required: vec![
                NodeSelectorTerm {
                    match_expressions: vec![req("b", SelectorOperator::Exists, &[])],
                },
                NodeSelectorTerm {
                    match_expressions: vec![req("a", SelectorOperator::In, &["1"])],
                },
            ],
            ..Default::default()
        };
        assert!(affinity.required_matches(&node));
        assert!(!affinity.required_matches(&labels(&[("a", "2")])));
    }

    #[test]
    fn node_selector_requires_every_pair() {
        let affinity = NodeAffinity {
            node_selector: labels(&[("a", "1"), ("b", "2")]),
            ..Default::default()
        };
        assert!(affinity.required_matches(&labels(&[("a", "1"), ("b", "2"), ("c", "3")])));
        assert!(!affinity.required_matches(&labels(&[("a", "1")])));
    }

    #[test]
    fn tolerations_follow_tolerates_taint() {
        let taint = Taint {
            key: "dedicated".into(),
            value: "inference".into(),
            effect: TaintEffect::NoSchedule,
        };
        let tol = |key: &str, op, value: &str, effect| Toleration {
            key: key.into(),
            operator: op,
            value: value.into(),
            effect,
            toleration_seconds: None,
        };
        use TolerationOperator::*;
        let cases = [
            (tol("dedicated", Equal, "inference", None), true),
            (
                tol(
                    "dedicated",
                    Equal,
                    "inference",
                    Some(TaintEffect::NoSchedule),
                ),
                true,
            ),
            (
                tol(
                    "dedicated",
                    Equal,
                    "inference",
                    Some(TaintEffect::NoExecute),
                ),
                false,
            ),
            (tol("dedicated", Equal, "other", None), false),
            (tol("dedicated", Exists, "", None), true),
            (tol("", Exists, "", None), true),
            (tol("other", Exists, "", None), false),
        ];
        for (t, want) in cases {
            assert_eq!(t.tolerates(&taint), want, "{t:?}");
        }
    }

    #[test]
    fn non_zero_defaults_apply_only_to_missing_requests() {
        let mut spec = PodSpec {
            requests: Resources::new(0, 0),
            ..Default::default()
        };
        assert_eq!(
            spec.non_zero_requests(),
            Resources::new(DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST)
        );
        spec.has_cpu_request = true;
        spec.has_memory_request = true;
        assert_eq!(spec.non_zero_requests(), Resources::new(0, 0));
    }
}
