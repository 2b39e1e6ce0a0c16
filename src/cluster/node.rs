//! Nodes as the scheduler and the Cluster Autoscaler see them: labels, taints, allocatable and
//! the running sum of what the pods bound to the node request.
//!
//! Use `Node::from_pool` for both real nodes and the Cluster Autoscaler's template nodes, so that
//! a hypothetical node is built exactly like a real one. A node never decides anything: binding,
//! eviction and removal are done to it by the simulation.

use crate::cluster::pool::NodePool;
use crate::cluster::spec::{Labels, PodSpec, Taint};
use crate::units::{Resources, SimTime};

/// Index of a node pool in `Scenario::node_pools`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId(pub u16);

/// A node's identity, unique over the whole run (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// The well-known label Kubernetes sets to the node's name.
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// A registered node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Identity.
    pub id: NodeId,
    /// The pool the node belongs to.
    pub pool: PoolId,
    /// Node name, `<pool>-<serial>`.
    pub name: String,
    /// Labels, including `kubernetes.io/hostname`.
    pub labels: Labels,
    /// Taints, including ones the simulation adds (for example while a node is being drained).
    pub taints: Vec<Taint>,
    /// What pods may request in total.
    pub allocatable: Resources,
    /// Most pods the node runs.
    pub max_pods: u32,
    /// Sum of the requests of pods bound to the node.
    pub requested: Resources,
    /// Same sum with Kubernetes' non-zero defaults for pods that request nothing (for scoring).
    pub non_zero_requested: Resources,
    /// Pods bound to the node.
    pub pod_count: u32,
    /// When the node was requested from the cloud (billing starts here).
    pub created_at: SimTime,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// Pods bound to the node per placement group (`PodSpec::group`), as `(group, count)`
    /// sorted by group, without zero counts: what the PodTopologySpread and InterPodAffinity
    /// plugins count pods with, the group standing for the pods' labels and rules.
    pub pod_groups: Vec<(u32, u32)>,
}

impl Node {
    /// A node of `pool` with no pods, named `<pool>-<serial>`.
    pub fn from_pool(
        id: NodeId,
        pool_id: PoolId,
        pool: &NodePool,
        serial: u32,
        now: SimTime,
    ) -> Node {
        let name = format!("{}-{serial}", pool.name);
        let mut labels = pool.labels.clone();
        labels.insert(HOSTNAME_LABEL.to_string(), name.clone());
        Node {
            id,
            pool: pool_id,
            name,
            labels,
            taints: pool.taints.clone(),
            allocatable: pool.allocatable,
            max_pods: pool.max_pods,
            requested: Resources::ZERO,
            non_zero_requested: Resources::ZERO,
            pod_count: 0,
            created_at: now,
            unschedulable: false,
            pod_groups: Vec::new(),
        }
    }

    /// A node with no labels, taints or pods: the starting point for nodes described by hand,
    /// as in Kubernetes' scheduler test vectors.
    pub fn bare(id: NodeId, name: &str, allocatable: Resources, max_pods: u32) -> Node {
        Node {
            id,
            pool: PoolId(0),
            name: name.to_string(),
            labels: Labels::new(),
            taints: Vec::new(),
            allocatable,
            max_pods,
            requested: Resources::ZERO,
            non_zero_requested: Resources::ZERO,
            pod_count: 0,
            created_at: SimTime::ZERO,
            unschedulable: false,
            pod_groups: Vec::new(),
        }
    }

    /// Accounts for a pod bound to this node.
    pub fn add_pod(&mut self, pod: &PodSpec) {
        self.requested += pod.requests;
        self.non_zero_requested += pod.non_zero_requests();
        self.pod_count += 1;
        match self
            .pod_groups
            .binary_search_by_key(&pod.group, |&(g, _)| g)
        {
            Ok(k) => self.pod_groups[k].1 += 1,
            Err(k) => self.pod_groups.insert(k, (pod.group, 1)),
        }
    }

    /// How many pods of placement group `group` are bound to the node.
    pub fn pods_of_group(&self, group: u32) -> u32 {
        self.pod_groups
            .binary_search_by_key(&group, |&(g, _)| g)
            .map_or(0, |k| self.pod_groups[k].1)
    }

    /// Accounts for a pod leaving this node.
    ///
    /// # Panics
    /// If the node holds no pod: removing a pod that was never added is a simulation bug.
    pub fn remove_pod(&mut self, pod: &PodSpec) {
        assert!(
            self.pod_count > 0,
            "removing a pod from empty node {}",
            self.name
        );
        self.requested -= pod.requests;
        self.non_zero_requested -= pod.non_zero_requests();
        self.pod_count -= 1;
        if let Ok(k) = self
            .pod_groups
            .binary_search_by_key(&pod.group, |&(g, _)| g)
        {
            self.pod_groups[k].1 -= 1;
            if self.pod_groups[k].1 == 0 {
                self.pod_groups.remove(k);
            }
        }
    }

    /// Allocatable minus requested: what is left for new pods.
    pub fn free(&self) -> Resources {
        self.allocatable.saturating_sub(&self.requested)
    }
}
