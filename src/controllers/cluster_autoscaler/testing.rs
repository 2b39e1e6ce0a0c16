//! Builders for the Cluster Autoscaler's unit tests: pools, nodes and pods in one line each.
//!
//! Test-only; nothing here is compiled into the library.

use crate::cluster::spec::PodSpec;
use crate::scenario::model::{MachineType, NodePool, PoolAutoscaling};
use crate::units::{Bytes, Resources, SimDuration};
use crate::workload::spec::DurationDist;

/// An autoscaled pool of `cpu` cores and `memory_gib` GiB nodes (allocatable = capacity),
/// `min..=max` nodes, 1 USD per hour, 110 pods per node, no per-pool thresholds.
pub(crate) fn pool(name: &str, cpu: u64, memory_gib: u64, min: u32, max: u32) -> NodePool {
    let capacity = Resources::new(cpu * 1_000, memory_gib * Bytes::GIB);
    NodePool {
        name: name.into(),
        machine: MachineType {
            name: "custom".into(),
            capacity,
            on_demand_usd_per_hour: 1.0,
            spot_usd_per_hour: None,
        },
        allocatable: capacity,
        initial_size: min,
        min_nodes: min,
        max_nodes: max,
        autoscaling: Some(PoolAutoscaling {
            cpu_threshold_percent: None,
            memory_threshold_percent: None,
        }),
        spot: false,
        price_usd_per_hour: 1.0,
        labels: Default::default(),
        taints: vec![],
        max_pods: 110,
        provisioning_delay: DurationDist::Constant(SimDuration::from_secs(60)),
    }
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
