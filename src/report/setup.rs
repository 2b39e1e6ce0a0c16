//! What a run was asked to simulate, in `run.json`: the scenario's description, its pools with
//! their machines, prices and size limits, and its services with their replicas and HPAs.
//!
//! Use `RunSetup` to describe a finished run's scenario to a reader without the scenario file
//! (the HTML report's "scenario" section reads it back from `run.json`). The runner fills it
//! from the validated scenario; `report` defines only the record, so that readers need not
//! know the scenario module. It is absent from `run.json` files written before it existed.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The scenario of a run, as far as a reader of its results needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSetup {
    /// The scenario's own description (empty when it has none).
    pub description: String,
    /// Length of the run, seconds.
    pub duration_s: f64,
    /// Warm-up excluded from the summary, seconds.
    pub warmup_s: f64,
    /// Interval of the time series, seconds.
    pub resolution_s: f64,
    /// The Kubernetes minor version modelled where versions differ (`1.36`); empty in the
    /// `run.json` of a capsim that did not record it.
    #[serde(default)]
    pub kubernetes_version: String,
    /// Whether a Cluster Autoscaler resizes the autoscaled pools.
    pub cluster_autoscaler: bool,
    /// Per node pool, in scenario order.
    pub node_pools: IndexMap<String, PoolSetup>,
    /// Per service, in scenario order.
    pub services: IndexMap<String, ServiceSetup>,
    /// The Jobs' names, in scenario order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<String>,
}

/// One node pool as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolSetup {
    /// Machine type name.
    pub machine_type: String,
    /// The machine's vCPUs.
    pub cpu_cores: f64,
    /// The machine's memory, GiB.
    pub memory_gib: f64,
    /// Spot (preemptible) VMs.
    pub spot: bool,
    /// Price billed per node-hour, USD.
    pub price_usd_per_hour: f64,
    /// Nodes at the start of the run.
    pub initial_nodes: u32,
    /// Least nodes the Cluster Autoscaler keeps.
    pub min_nodes: u32,
    /// Most nodes the Cluster Autoscaler adds up to.
    pub max_nodes: u32,
    /// Whether the Cluster Autoscaler manages the pool.
    pub autoscaled: bool,
    /// For a zone's node group of a pool over zones: the scenario's pool it belongs to
    /// (absent for a pool without zones, whose entry is the pool itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// For a zone's node group: its zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// One service as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSetup {
    /// Namespace.
    pub namespace: String,
    /// Replicas at the start (the Deployment's `replicas`).
    pub replicas: u32,
    /// CPU request of one pod, cores.
    pub cpu_request_cores: f64,
    /// Memory request of one pod, GiB.
    pub memory_request_gib: f64,
    /// Its HPA, when it has one.
    pub hpa: Option<HpaSetup>,
}

/// An HPA as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HpaSetup {
    /// `minReplicas`.
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// Each metric with its target, such as `cpu_utilization_pct 70`.
    pub metrics: Vec<String>,
}
