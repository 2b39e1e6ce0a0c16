//! Builders for the Cluster Autoscaler's unit tests: pools, nodes and pods in one line each.
//!
//! Test-only; nothing here is compiled into the library.

use crate::cluster::node::{Node, NodeId, PoolId};
use crate::cluster::pool::{MachineType, NodePool, PoolAutoscaling};
use crate::cluster::spec::PodSpec;
use crate::controllers::cluster_autoscaler::spec::{ClusterAutoscalerSpec, Expander};
use crate::units::{Bytes, DurationDist, Resources, SimDuration, SimTime};

/// An autoscaled pool of `cpu` cores and `memory_gib` GiB nodes (allocatable = capacity),
/// `min..=max` nodes, 1 USD per hour, 110 pods per node, no per-pool thresholds.
pub(crate) fn pool(name: &str, cpu: u64, memory_gib: u64, min: u32, max: u32) -> NodePool {
    let capacity = Resources::new(cpu * 1_000, memory_gib * Bytes::GIB);
    NodePool {
        name: name.into(),
        group_of: name.into(),
        zone: None,
        machine: MachineType {
            name: "custom".into(),
            capacity,
            on_demand_usd_per_hour: 1.0,
            spot_usd_per_hour: None,
            speed: 1.0,
        },
        allocatable: capacity,
        initial_size: min,
        min_nodes: min,
        max_nodes: max,
        autoscaling: Some(PoolAutoscaling {
            cpu_threshold_percent: None,
            memory_threshold_percent: None,
            gpu_threshold_percent: None,
        }),
        spot: false,
        preemption_mean_lifetime: None,
        price_usd_per_hour: 1.0,
        labels: Default::default(),
        taints: vec![],
        max_pods: 110,
        provisioning_delay: DurationDist::Constant(SimDuration::from_secs(60)),
    }
}

/// A registered node of `pools[p]` with identity `id`, named `<pool>-<id>`, created at 0.
pub(crate) fn registered(pools: &[NodePool], p: usize, id: u32) -> Node {
    Node::from_pool(NodeId(id), PoolId(p as u16), &pools[p], id, SimTime::ZERO)
}

/// A pod requesting `cpu_m` millicores and `memory_gib` GiB.
pub(crate) fn pod(cpu_m: u64, memory_gib: u64) -> PodSpec {
    PodSpec {
        requests: Resources::new(cpu_m, memory_gib * Bytes::GIB),
        has_cpu_request: true,
        has_memory_request: true,
        ..PodSpec::default()
    }
}

/// cluster-autoscaler's default flags with the given expander chain and `--max-nodes-total`.
pub(crate) fn spec(expanders: Vec<Expander>, max_nodes_total: u32) -> ClusterAutoscalerSpec {
    ClusterAutoscalerSpec {
        scan_interval: SimDuration::from_secs(10),
        expanders,
        priorities: Vec::new(),
        max_nodes_total,
        scale_down_enabled: true,
        scale_down_utilization_threshold: 0.5,
        scale_down_gpu_utilization_threshold: 0.5,
        scale_down_unneeded_time: SimDuration::from_secs(600),
        scale_down_delay_after_add: SimDuration::from_secs(600),
        scale_down_delay_after_delete: SimDuration::from_secs(10),
        scale_down_delay_after_failure: SimDuration::from_secs(180),
        max_node_provision_time: SimDuration::from_secs(900),
        // Off, as upstream's flag: these pools carry no labels, so alike machines would be
        // similar; the balancing tests turn it on.
        balance_similar_node_groups: false,
    }
}
