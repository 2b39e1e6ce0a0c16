//! `summary.json`: the simulated results of one run, for people and for CI.
//!
//! Use `Summary` as the one place the run's headline figures live. It holds only simulated
//! quantities (never wall time), with maps in scenario order, so the same scenario and seed give
//! byte-identical files. Figures cover the measured window: from the end of the warm-up to the
//! end of the run.

use indexmap::IndexMap;
use serde::Serialize;

use crate::report::stats::LatencySummary;
use crate::report::timeseries::round;

/// The whole summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Seed of the run.
    pub seed: u64,
    /// The simulated span.
    pub simulated: SimulatedSpan,
    /// What the nodes cost over the measured window.
    pub cost: Cost,
    /// Per node pool.
    pub node_pools: IndexMap<String, PoolSummary>,
    /// Per service.
    pub services: IndexMap<String, ServiceSummary>,
    /// Per namespace with a quota or a service.
    pub quotas: IndexMap<String, QuotaSummary>,
    /// Per alert rule (absent without rules): what it did in the measured window.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub alerts: IndexMap<String, AlertSummary>,
}

/// The simulated span of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulatedSpan {
    /// Length of the run.
    pub duration_s: f64,
    /// Warm-up excluded from the figures.
    pub warmup_s: f64,
    /// The measured window: duration minus warm-up.
    pub measured_s: f64,
}

/// Cost of the measured window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cost {
    /// All pools, in USD.
    pub total_usd: f64,
    /// Per pool.
    pub by_pool: IndexMap<String, PoolCost>,
}

/// One pool's cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolCost {
    /// USD.
    pub usd: f64,
    /// Node-hours billed.
    pub node_hours: f64,
}

/// Minimum, maximum and time-weighted mean of a level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    /// Smallest value held.
    pub min: u64,
    /// Largest value held.
    pub max: u64,
    /// Time-weighted mean.
    pub mean: f64,
}

impl Level {
    /// A level with its mean rounded for reading.
    pub fn new(min: u64, max: u64, mean: f64) -> Level {
        Level {
            min,
            max,
            mean: round(mean, 4),
        }
    }
}

/// One pool's nodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolSummary {
    /// Machine type name.
    pub machine_type: String,
    /// Price billed per node-hour, USD.
    pub price_usd_per_hour: f64,
    /// Nodes billed (provisioning or registered).
    pub nodes: Level,
    /// Nodes registered and Ready.
    pub nodes_ready: Level,
    /// Nodes asked for in the measured window: by the Cluster Autoscaler, or to replace a
    /// preempted Spot VM.
    pub nodes_added: u64,
    /// Nodes removed: scaled down, preempted, or given up on while provisioning.
    pub nodes_removed: u64,
    /// Spot nodes the cloud preempted.
    pub preempted: u64,
    /// Requests of the pods on the pool's nodes over their allocatable, time-weighted: how much
    /// of what is paid for the scheduler could hand out.
    pub allocation_efficiency: AllocationEfficiency,
}

/// Requested over allocatable, integrated over time (0..1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationEfficiency {
    /// CPU.
    pub cpu: f64,
    /// Memory.
    pub memory: f64,
}

/// Request outcomes of a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestCounts {
    /// Requests that arrived in the measured window.
    pub arrived: u64,
    /// Of those, served to completion.
    pub completed: u64,
    /// Refused: queue full, or no Ready pod.
    pub rejected: u64,
    /// Refused because the chosen pod's queue was full.
    pub rejected_queue_full: u64,
    /// Refused because the service had no Ready pod.
    pub rejected_no_ready_pod: u64,
    /// Dropped after waiting longer than the timeout.
    pub timed_out: u64,
    /// Lost when their pod was killed before finishing them.
    pub killed: u64,
    /// Still queued or in service when the run ended.
    pub in_flight_at_end: u64,
}

/// Latency figures in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyMs {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl From<LatencySummary> for LatencyMs {
    fn from(s: LatencySummary) -> LatencyMs {
        LatencyMs {
            mean: round(s.mean_ms, 4),
            p50: round(s.p50_ms, 4),
            p90: round(s.p90_ms, 4),
            p95: round(s.p95_ms, 4),
            p99: round(s.p99_ms, 4),
            max: round(s.max_ms, 4),
        }
    }
}

/// Queue-wait figures in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitMs {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl From<LatencySummary> for WaitMs {
    fn from(s: LatencySummary) -> WaitMs {
        WaitMs {
            mean: round(s.mean_ms, 4),
            p50: round(s.p50_ms, 4),
            p99: round(s.p99_ms, 4),
        }
    }
}

/// CPU of a service's pods over the measured window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuSummary {
    /// Mean cores used.
    pub used_cores_mean: f64,
    /// Mean cores requested by bound pods.
    pub requested_cores_mean: f64,
    /// Used over requested (what a CPU HPA compares with its target).
    pub utilization_of_requests: f64,
}

/// One service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSummary {
    /// Namespace.
    pub namespace: String,
    /// The scenario's p99 latency objective in ms, when it states one (null otherwise).
    pub slo_p99_ms: Option<f64>,
    /// Request outcomes.
    pub requests: RequestCounts,
    /// Completed requests per second of the measured window.
    pub throughput_per_s: f64,
    /// Arrival to completion, completed requests only.
    pub latency_ms: LatencyMs,
    /// Arrival to start of service, requests that started.
    pub wait_ms: WaitMs,
    /// Ready pods.
    pub replicas: Level,
    /// Integral of the number of Pending (unbound) pods over time, in pod-seconds.
    pub pending_pod_seconds: f64,
    /// CPU.
    pub cpu: CpuSummary,
    /// What the HPA did (all zero for a service without one).
    pub scaling: ScalingSummary,
}

/// HPA rescales of a service in the measured window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingSummary {
    /// Rescales that added replicas.
    pub scale_ups: u64,
    /// Rescales that removed replicas.
    pub scale_downs: u64,
    /// Rescales in the opposite direction to the one before: flapping shows here.
    pub direction_changes: u64,
    /// Time the HPA's desired replicas sat at its maxReplicas, in seconds.
    pub time_at_max_replicas_s: f64,
    /// How long after each metrics-server sample the HPA synced, in seconds (absent without an
    /// HPA): the age of the sample it read, which explains part of the spread between seeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hpa_sync_offset_s: Option<f64>,
}

/// What one alert rule did in the measured window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertSummary {
    /// Times it started firing.
    pub fired: u64,
    /// Time it spent firing, in seconds.
    pub firing_s: f64,
}

/// One namespace's quota outcomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaSummary {
    /// Pod creations the quota refused in the measured window.
    pub rejected_pods: u64,
}
