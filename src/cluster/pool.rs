//! Node pools as a cloud's node groups describe them (a GKE node pool, an EKS managed node
//! group): the machine type with its prices and per-vCPU speed, what one node leaves
//! allocatable to pods, the pool's size bounds, its nodes' labels and taints, Spot preemption,
//! and the Cluster Autoscaler's per-pool options.
//!
//! Use `NodePool` as the description every node of a pool is built from (`Node::from_pool`).
//! These are plain data: validation (`scenario`) guarantees their invariants, and nothing here
//! decides anything.

use crate::cluster::spec::{Labels, Taint};
use crate::units::{DurationDist, Resources, SimDuration};

/// The label of a node's zone (`topology.kubernetes.io/zone`).
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// The label of a node's region (`topology.kubernetes.io/region`).
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";
/// The zone label GKE's Compute Engine persistent disk CSI driver puts on every GKE node.
pub const GKE_ZONE_LABEL: &str = "topology.gke.io/zone";

/// A machine type: capacity and hourly prices.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineType {
    /// Catalog name (`c2-standard-8`), or `custom` for an inline machine.
    pub name: String,
    /// vCPUs and memory of the machine.
    pub capacity: Resources,
    /// On-demand price in USD per hour.
    pub on_demand_usd_per_hour: f64,
    /// Spot price in USD per hour, where the catalog or the scenario gives one.
    pub spot_usd_per_hour: Option<f64>,
    /// Relative per-vCPU speed: work runs this many times faster than on the reference
    /// machine (1.0, a vCPU of GCE's N2 series). A request's CPU cost is work at reference
    /// speed, so it takes `cost / speed` of CPU time on this machine. Finite and above zero.
    pub speed: f64,
}

/// A node pool (GKE node pool, cloud node group).
#[derive(Debug, Clone, PartialEq)]
pub struct NodePool {
    /// Node group name, unique in the scenario: the pool's own name, or `<pool>-<zone>` for
    /// each zone's group of a pool that spans zones.
    pub name: String,
    /// The pool as the scenario names it (`node_pools.<pool>`): `name` itself for a pool
    /// without zones, else the pool every zone's node group was made from. Node selectors on
    /// the provider's pool label, the priority expander and a pool's YAML paths use it.
    pub group_of: String,
    /// The zone every node of the group is in (its `topology.kubernetes.io/zone` label), for
    /// a pool that spans zones; `None` for one that names no zone.
    pub zone: Option<String>,
    /// Machine of every node in the pool.
    pub machine: MachineType,
    /// What the scheduler may give to pods on one node: capacity minus system reservations.
    pub allocatable: Resources,
    /// Nodes at the start of the run.
    pub initial_size: u32,
    /// Lower bound on the pool's size (the Cluster Autoscaler's `min_nodes`).
    pub min_nodes: u32,
    /// Upper bound on the pool's size.
    pub max_nodes: u32,
    /// Cluster Autoscaler settings for this pool, when autoscaling is enabled for it.
    pub autoscaling: Option<PoolAutoscaling>,
    /// Whether nodes are spot (preemptible) VMs, billed at the spot price.
    pub spot: bool,
    /// For spot pools that are preempted: the mean time from a node's registration to its
    /// preemption (lifetimes are exponential).
    pub preemption_mean_lifetime: Option<SimDuration>,
    /// Random node failures, when the pool declares them.
    pub failures: Option<NodeFailures>,
    /// Price actually billed per node-hour, in USD.
    pub price_usd_per_hour: f64,
    /// Node labels: the user's, plus the well-known ones GKE sets (`node.kubernetes.io/instance-type`,
    /// `cloud.google.com/gke-nodepool`, `cloud.google.com/gke-spot`).
    pub labels: Labels,
    /// Taints every node of the pool carries.
    pub taints: Vec<Taint>,
    /// Most pods one node runs.
    pub max_pods: u32,
    /// Time from the request for a node to the node being Ready.
    pub provisioning_delay: DurationDist,
}

/// Per-pool Cluster Autoscaler settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolAutoscaling {
    /// Scale-down CPU utilization threshold in percent of allocatable (requests / allocatable).
    pub cpu_threshold_percent: Option<f64>,
    /// Scale-down memory utilization threshold in percent of allocatable.
    pub memory_threshold_percent: Option<f64>,
    /// Scale-down GPU utilization threshold in percent of allocatable GPUs: the one that counts
    /// for a node with a GPU (`nvidia.com/gpu`), whose CPU and memory then do not.
    pub gpu_threshold_percent: Option<f64>,
}

/// Random failures of a pool's nodes: each node, independently, goes NotReady (its kubelet
/// stops reporting) after an exponential time, and the cloud's auto-repair replaces its VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeFailures {
    /// The mean time from a node's registration to its failure.
    pub mean_time_between: SimDuration,
    /// The time from a failure to the repair: GKE's auto-repair starts after a node has been
    /// NotReady for about 10 minutes, then deletes the VM and creates a new one.
    pub repair_delay: SimDuration,
}

impl NodePool {
    /// The zone of the group's nodes: its `zones` entry, or the `topology.kubernetes.io/zone`
    /// label its nodes carry (a pool read from a node list).
    pub fn zone_name(&self) -> Option<&str> {
        self.zone
            .as_deref()
            .or_else(|| self.labels.get(ZONE_LABEL).map(String::as_str))
    }
}

/// The taint the node lifecycle controller puts on a node whose kubelet stopped reporting
/// (with effect NoExecute once the controller's rate limiter lets it through).
pub const UNREACHABLE_TAINT_KEY: &str = "node.kubernetes.io/unreachable";

/// A zone outage (`outages`): from `start` for `duration`, every node of the zone is
/// unreachable and no VM can be created there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneOutage {
    /// The zone, as a pool's `zones` names it.
    pub zone: String,
    /// When it begins, from the start of the run.
    pub start: SimDuration,
    /// How long it lasts.
    pub duration: SimDuration,
}
