//! The Cluster Autoscaler's settings: the flags of `cluster-autoscaler` that capsim models, with
//! their upstream defaults, and the expanders it chains. Per-pool options live with the pool
//! (`cluster::pool::PoolAutoscaling`), as upstream's `NodeGroupAutoscalingOptions` do.
//!
//! Use `ClusterAutoscalerSpec` to build a `ClusterAutoscaler`. These are plain data: validation
//! (`scenario`) guarantees their invariants.

use crate::units::SimDuration;

/// How the Cluster Autoscaler picks among node pools that could host pending pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expander {
    /// Any pool.
    Random,
    /// The pool that schedules the most pending pods.
    MostPods,
    /// The pool that leaves the least CPU and memory idle.
    LeastWaste,
    /// The cheapest pool.
    Price,
    /// The pool with the highest user-given priority.
    Priority,
}

/// Cluster Autoscaler settings (flags of `cluster-autoscaler`, with its defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterAutoscalerSpec {
    /// `--scan-interval` (10s).
    pub scan_interval: SimDuration,
    /// `--expander`, a chain applied in order (default least-waste).
    pub expanders: Vec<Expander>,
    /// Priorities per pool name for the `priority` expander (higher wins).
    pub priorities: Vec<(String, i32)>,
    /// `--max-nodes-total` (0 = unlimited).
    pub max_nodes_total: u32,
    /// `--scale-down-enabled`.
    pub scale_down_enabled: bool,
    /// `--scale-down-utilization-threshold` (0.5), used where a pool sets no threshold.
    pub scale_down_utilization_threshold: f64,
    /// `--scale-down-gpu-utilization-threshold` (0.5): the threshold of a node with a GPU, used
    /// where its pool sets no `gpu_threshold_percent`.
    pub scale_down_gpu_utilization_threshold: f64,
    /// `--scale-down-unneeded-time` (10m).
    pub scale_down_unneeded_time: SimDuration,
    /// `--scale-down-delay-after-add` (10m).
    pub scale_down_delay_after_add: SimDuration,
    /// `--scale-down-delay-after-delete` (0).
    pub scale_down_delay_after_delete: SimDuration,
    /// `--scale-down-delay-after-failure` (3m).
    pub scale_down_delay_after_failure: SimDuration,
    /// `--max-node-provision-time` (15m).
    pub max_node_provision_time: SimDuration,
    /// `--balance-similar-node-groups`: split a scale-up between the chosen node group and
    /// those similar to it (upstream's flag defaults to false; capsim's to true, as GKE
    /// balances a regional pool's zones).
    pub balance_similar_node_groups: bool,
    /// `--max-scale-down-parallelism` (10): most node deletions in flight at once, and the N of
    /// the limit on how many nodes one scan may find unneeded (previous unneeded + 2N).
    pub max_scale_down_parallelism: u32,
    /// `--max-bulk-soft-taint-count` (10): most nodes whose `DeletionCandidateOfClusterAutoscaler`
    /// soft taint is put or taken off per scan; 0 turns soft taints off.
    pub max_bulk_soft_taint_count: u32,
}
