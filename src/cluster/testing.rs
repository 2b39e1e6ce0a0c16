//! Builders for the cluster module's unit tests: nodes and pods described in one line each.
//!
//! Test-only; nothing here is compiled into the library.

use crate::cluster::node::{Node, NodeId};
use crate::cluster::spec::{
    Labels, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PreferredTerm, SelectorOperator,
    Taint, TaintEffect, Toleration, TolerationOperator,
};
use crate::units::{Bytes, Resources};

/// Labels from `(key, value)` pairs.
pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Builds a `Node`: 4 CPUs, 16Gi, 110 pods, no labels, taints or pods unless told otherwise.
pub(crate) struct NodeBuilder(Node);

impl NodeBuilder {
    pub(crate) fn new(name: &str) -> NodeBuilder {
        NodeBuilder(Node::bare(
            NodeId(0),
            name,
            Resources::new(4_000, 16 * Bytes::GIB),
            110,
        ))
    }

    pub(crate) fn allocatable(mut self, cpu_m: u64, memory: u64) -> NodeBuilder {
        self.0.allocatable = Resources::new(cpu_m, memory);
        self
    }

    pub(crate) fn max_pods(mut self, max_pods: u32) -> NodeBuilder {
        self.0.max_pods = max_pods;
        self
    }

    pub(crate) fn label(mut self, key: &str, value: &str) -> NodeBuilder {
        self.0.labels.insert(key.to_string(), value.to_string());
        self
    }

    pub(crate) fn taint(mut self, key: &str, value: &str, effect: TaintEffect) -> NodeBuilder {
        self.0.taints.push(Taint {
            key: key.to_string(),
            value: value.to_string(),
            effect,
        });
        self
    }

    pub(crate) fn unschedulable(mut self) -> NodeBuilder {
        self.0.unschedulable = true;
        self
    }

    /// Binds `pod` to the node, as the simulation does.
    pub(crate) fn with_pod(mut self, pod: &PodSpec) -> NodeBuilder {
        self.0.add_pod(pod);
        self
    }

    pub(crate) fn build(self) -> Node {
        self.0
    }
}

/// Builds a `PodSpec` that requests nothing and declares no request unless told otherwise.
pub(crate) struct PodBuilder(PodSpec);

impl PodBuilder {
    pub(crate) fn new() -> PodBuilder {
        PodBuilder(PodSpec::default())
    }

    /// Declares a CPU request of `millicores`.
    pub(crate) fn cpu_m(mut self, millicores: u64) -> PodBuilder {
        self.0.requests.cpu.0 = millicores;
        self.0.has_cpu_request = true;
        self
    }

    /// Declares a memory request of `bytes`.
    pub(crate) fn memory(mut self, bytes: u64) -> PodBuilder {
        self.0.requests.memory.0 = bytes;
        self.0.has_memory_request = true;
        self
    }

    pub(crate) fn limits(mut self, cpu_m: u64, memory: u64) -> PodBuilder {
        self.0.limits = Resources::new(cpu_m, memory);
        self
    }

    pub(crate) fn node_selector(mut self, key: &str, value: &str) -> PodBuilder {
        self.0
            .affinity
            .node_selector
            .insert(key.to_string(), value.to_string());
        self
    }

    /// Adds a required term with one `key In [value]` expression.
    pub(crate) fn required_in(mut self, key: &str, value: &str) -> PodBuilder {
        self.0.affinity.required.push(term_in(key, value));
        self
    }

    /// Adds a preferred term `key In [value]` of `weight`.
    pub(crate) fn preferred_in(mut self, weight: u32, key: &str, value: &str) -> PodBuilder {
        self.0.affinity.preferred.push(PreferredTerm {
            weight,
            preference: term_in(key, value),
        });
        self
    }

    pub(crate) fn toleration(
        mut self,
        key: &str,
        operator: TolerationOperator,
        value: &str,
        effect: Option<TaintEffect>,
    ) -> PodBuilder {
        self.0.tolerations.push(Toleration {
            key: key.to_string(),
            operator,
            value: value.to_string(),
            effect,
            toleration_seconds: None,
        });
        self
    }

    pub(crate) fn build(self) -> PodSpec {
        self.0
    }
}

fn term_in(key: &str, value: &str) -> NodeSelectorTerm {
    NodeSelectorTerm {
        match_expressions: vec![NodeSelectorRequirement {
            key: key.to_string(),
            operator: SelectorOperator::In,
            values: vec![value.to_string()],
        }],
    }
}
