//! `summary.json`: the simulated results of one run, for people and for CI.
//!
//! Use `Summary` as the one place the run's headline figures live: the simulation builds it,
//! `report` writes it, and `plot` and `capsim check --baseline` read it back with `Summary::read`
//! (the same type, deserialized). It holds only simulated
//! quantities (never wall time), with maps in scenario order, so the same scenario and seed give
//! byte-identical files. Figures cover the measured window: from the end of the warm-up to the
//! end of the run.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use std::path::Path;

use crate::report::files::{ReadError, read_json};
use crate::report::stats::LatencySummary;
use crate::report::timeseries::round;

/// The whole summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Per Job (absent without jobs), in scenario order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub jobs: IndexMap<String, JobSummary>,
    /// Per namespace with a quota or a service.
    pub quotas: IndexMap<String, QuotaSummary>,
    /// Per alert rule (absent without rules): what it did in the measured window.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub alerts: IndexMap<String, AlertSummary>,
}

impl Summary {
    /// Reads a `summary.json` back into the `Summary` that wrote it.
    ///
    /// # Errors
    /// A missing or unreadable file, text that is not JSON, or JSON that is not a summary (a
    /// missing field is named).
    pub fn read(path: &Path) -> Result<Summary, ReadError> {
        read_json(path, "summary.json")
    }
}

/// The simulated span of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedSpan {
    /// Length of the run.
    pub duration_s: f64,
    /// Warm-up excluded from the figures.
    pub warmup_s: f64,
    /// The measured window: duration minus warm-up.
    pub measured_s: f64,
}

/// Cost of the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// All pools, in USD.
    pub total_usd: f64,
    /// Per pool.
    pub by_pool: IndexMap<String, PoolCost>,
}

/// One pool's cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolCost {
    /// USD.
    pub usd: f64,
    /// Node-hours billed.
    pub node_hours: f64,
}

/// Minimum, maximum and time-weighted mean of a level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// How the pool's CPU was shared.
    pub cpu: PoolCpuSummary,
}

/// The CPU of a pool's nodes in use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolCpuSummary {
    /// Share of node-time in which a node's pods wanted more CPU (each up to its limit) than
    /// the node has, so that CFS divided it by their requests and every one of them slowed down
    /// (0..1); absent (null) when the pool had no Ready node in the window.
    pub contended_fraction: Option<f64>,
}

/// Requested over allocatable, integrated over time (0..1); absent (null) when the pool had no
/// registered node in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationEfficiency {
    /// CPU.
    pub cpu: Option<f64>,
    /// Memory.
    pub memory: Option<f64>,
}

/// Request outcomes of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Lost when their pod was killed at the end of its termination grace period.
    pub killed: u64,
    /// Lost when their pod's container was OOM-killed for going over its memory limit.
    #[serde(default)]
    pub oom_killed: u64,
    /// Lost when the kubelet evicted their pod under node memory pressure.
    #[serde(default)]
    pub evicted: u64,
    /// Lost when their pod's node failed (its kubelet stopped reporting): the requests its
    /// pods held at the failure, and any left on them when auto-repair re-created the VM.
    #[serde(default)]
    pub lost_node_failure: u64,
    /// Still queued or in service when the run ended.
    pub in_flight_at_end: u64,
}

impl RequestCounts {
    /// Every outcome summed: each request that arrived ends in exactly one of them, so this
    /// equals `arrived` (the conservation tests check it).
    pub fn accounted(&self) -> u64 {
        self.completed
            + self.rejected
            + self.timed_out
            + self.killed
            + self.oom_killed
            + self.evicted
            + self.lost_node_failure
            + self.in_flight_at_end
    }
}

/// Latency figures in milliseconds; every one is absent (null) when no request completed, since
/// a statistic over no requests has no value (0 would pass any `p99 <=` gate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyMs {
    /// Mean.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

impl From<LatencySummary> for LatencyMs {
    fn from(s: LatencySummary) -> LatencyMs {
        LatencyMs {
            mean: s.mean_ms.map(|v| round(v, 4)),
            p50: s.p50_ms.map(|v| round(v, 4)),
            p90: s.p90_ms.map(|v| round(v, 4)),
            p95: s.p95_ms.map(|v| round(v, 4)),
            p99: s.p99_ms.map(|v| round(v, 4)),
            max: s.max_ms.map(|v| round(v, 4)),
        }
    }
}

/// Queue-wait figures in milliseconds; absent (null) when no request started service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitMs {
    /// Mean.
    pub mean: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

impl From<LatencySummary> for WaitMs {
    fn from(s: LatencySummary) -> WaitMs {
        WaitMs {
            mean: s.mean_ms.map(|v| round(v, 4)),
            p50: s.p50_ms.map(|v| round(v, 4)),
            p99: s.p99_ms.map(|v| round(v, 4)),
        }
    }
}

/// CPU of a service's pods over the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuSummary {
    /// Mean cores used.
    pub used_cores_mean: f64,
    /// Mean cores requested by bound pods.
    pub requested_cores_mean: f64,
    /// Used over requested (what a CPU HPA compares with its target); absent (null) when no
    /// CPU was requested (no bound pod, or pods without a CPU request).
    pub utilization_of_requests: Option<f64>,
    /// Share of the time its pods had work in which they wanted more CPU than their limit, so
    /// that CFS throttled them: `container_cpu_cfs_throttled_periods_total` over
    /// `container_cpu_cfs_periods_total` (0..1); absent (null) when its pods never had work.
    pub throttled_fraction: Option<f64>,
}

/// One service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Namespace.
    pub namespace: String,
    /// The scenario's p99 latency objective in ms, when it states one (null otherwise).
    pub slo_p99_ms: Option<f64>,
    /// The fraction of arrived requests that may fail (refused, timed out, or lost with their
    /// pod: killed, OOM-killed, evicted, lost to a node failure): the scenario's `slo.max_failed`, or its default. Null
    /// in summaries written before capsim recorded it.
    #[serde(default)]
    pub slo_max_failed_fraction: Option<f64>,
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
    /// Time with fewer Ready pods than the service should keep.
    #[serde(default)]
    pub availability: Availability,
    /// Integral of the number of Pending (unbound) pods over time, in pod-seconds.
    pub pending_pod_seconds: f64,
    /// Why those pods waited.
    #[serde(default)]
    pub unschedulable: Unschedulable,
    /// Container restarts: OOM-killed containers the kubelet started again after their
    /// back-off.
    #[serde(default)]
    pub restarts: u64,
    /// Pods the kubelet evicted under node memory pressure (drains and Spot preemptions are
    /// not counted here).
    #[serde(default)]
    pub evictions: u64,
    /// CPU.
    pub cpu: CpuSummary,
    /// What the HPA did (all zero for a service without one).
    pub scaling: ScalingSummary,
}

/// How long a service had fewer Ready pods than it should keep, over the measured window.
/// The smallest number of Ready pods is `replicas.min`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    /// Seconds with fewer Ready pods (the Service's endpoints) than the service's minimum: its
    /// HPA's `minReplicas`, or its `replicas` without an HPA.
    pub below_min_replicas_s: f64,
    /// Seconds with fewer healthy pods (Ready, not terminating) than its PodDisruptionBudget
    /// asks for (the disruption controller's `desiredHealthy`); absent (null) for a service
    /// without a budget.
    pub below_min_available_s: Option<f64>,
}

/// Why a workload's pods waited unbound in the measured window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Unschedulable {
    /// Pod-seconds of waiting by reason, in kube-scheduler's words without the node counts
    /// (`Insufficient cpu`) or the Cluster Autoscaler's (`waiting for a node to provision`,
    /// `pod didn't trigger scale-up: ...`): the most first, ties by name. Each wait counts under
    /// one reason at a time (of the scheduler's message, the part that covers the most nodes,
    /// ties to the first in the message), so the figures sum to `pending_pod_seconds`.
    pub pod_seconds_by_reason: IndexMap<String, f64>,
    /// Pod-seconds of pods the workload's controller could not create because its namespace's
    /// ResourceQuota refused them: from a sync refused by the quota, the pods it still lacked,
    /// until a sync creates them all or wants none. They are not pods, so they are outside
    /// `pending_pod_seconds` and `pod_seconds_by_reason`.
    #[serde(default)]
    pub quota_refused_seconds: f64,
}

/// HPA rescales of a service in the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpa_sync_offset_s: Option<f64>,
}

/// What one alert rule did in the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    /// Times it started firing.
    pub fired: u64,
    /// Time it spent firing, in seconds.
    pub firing_s: f64,
}

/// One Job's pods over the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    /// The Job's namespace.
    pub namespace: String,
    /// Its pods, counted when each thing happened.
    pub pods: JobPodCounts,
    /// From a pod's creation to its binding to a node, over the pods bound in the window;
    /// absent (null) when none was.
    pub scheduling_delay_s: Option<DelaySummary>,
    /// Pods waiting for a node, integrated over the window (pod-seconds).
    pub pending_pod_seconds: f64,
    /// Why those pods waited.
    #[serde(default)]
    pub unschedulable: Unschedulable,
    /// Pods running their containers over the window.
    pub running_pods: Level,
    /// Nodes the Cluster Autoscaler asked for at scans where the Job had pods no node could
    /// take (a scale-up for several Jobs' pods counts for each).
    pub nodes_requested: u64,
}

/// A Job's pods, counted in the measured window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPodCounts {
    /// Created.
    pub submitted: u64,
    /// Containers started.
    pub started: u64,
    /// Ran to the end of their run time.
    pub completed: u64,
    /// Evicted before the end (each replaced by a new pod that runs its whole time again).
    pub evicted: u64,
    /// Creations the namespace's quota refused.
    pub quota_rejected: u64,
}

/// Quantiles of a delay, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DelaySummary {
    /// Median (within 0.1%).
    pub p50: f64,
    /// 99th percentile (within 0.1%).
    pub p99: f64,
    /// Exact maximum.
    pub max: f64,
    /// Exact mean.
    pub mean: f64,
}

/// One namespace's quota outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaSummary {
    /// Pod creations the quota refused in the measured window.
    pub rejected_pods: u64,
}

/// A small but complete summary, for tests of the files that hold or are checked against one.
#[cfg(test)]
pub(crate) fn example(services: &[(&str, Option<f64>)], pools: &[&str]) -> Summary {
    let level = |min, max, mean| Level { min, max, mean };
    let service = |k: f64, slo_p99_ms: Option<f64>| ServiceSummary {
        namespace: "default".into(),
        slo_p99_ms,
        slo_max_failed_fraction: Some(0.001),
        requests: RequestCounts {
            arrived: 1000,
            completed: 988,
            rejected: 6,
            rejected_queue_full: 4,
            rejected_no_ready_pod: 2,
            timed_out: 3,
            killed: 0,
            oom_killed: 0,
            evicted: 0,
            lost_node_failure: 2,
            in_flight_at_end: 1,
        },
        throughput_per_s: 16.5,
        latency_ms: LatencyMs {
            mean: Some(4.5 * k),
            p50: Some(3.25),
            p90: Some(9.0),
            p95: Some(12.0),
            p99: Some(40.125 * k),
            max: Some(120.0),
        },
        wait_ms: WaitMs {
            mean: Some(0.5),
            p50: Some(0.0),
            p99: Some(6.0),
        },
        replicas: level(2, 4, 2.75),
        availability: Availability {
            below_min_replicas_s: 45.0,
            below_min_available_s: None,
        },
        pending_pod_seconds: 30.0,
        unschedulable: Unschedulable {
            pod_seconds_by_reason: [("Insufficient cpu".to_string(), 30.0)]
                .into_iter()
                .collect(),
            quota_refused_seconds: 0.0,
        },
        restarts: 0,
        evictions: 0,
        cpu: CpuSummary {
            used_cores_mean: 1.5,
            requested_cores_mean: 2.0,
            utilization_of_requests: Some(0.75),
            throttled_fraction: Some(0.1),
        },
        scaling: ScalingSummary {
            scale_ups: 2,
            scale_downs: 1,
            direction_changes: 1,
            time_at_max_replicas_s: 0.0,
            hpa_sync_offset_s: slo_p99_ms.map(|_| 7.5),
        },
    };
    Summary {
        scenario: "example".into(),
        seed: 7,
        simulated: SimulatedSpan {
            duration_s: 3600.0,
            warmup_s: 600.0,
            measured_s: 3000.0,
        },
        cost: Cost {
            total_usd: 1.25 * pools.len() as f64,
            by_pool: pools
                .iter()
                .map(|p| {
                    let cost = PoolCost {
                        usd: 1.25,
                        node_hours: 2.5,
                    };
                    (p.to_string(), cost)
                })
                .collect(),
        },
        node_pools: pools
            .iter()
            .map(|p| {
                let pool = PoolSummary {
                    machine_type: "c2-standard-8".into(),
                    price_usd_per_hour: 0.5,
                    nodes: level(2, 3, 2.5),
                    nodes_ready: level(2, 3, 2.4),
                    nodes_added: 1,
                    nodes_removed: 0,
                    preempted: 0,
                    allocation_efficiency: AllocationEfficiency {
                        cpu: Some(0.6),
                        memory: Some(0.3),
                    },
                    cpu: PoolCpuSummary {
                        contended_fraction: Some(0.05),
                    },
                };
                (p.to_string(), pool)
            })
            .collect(),
        services: services
            .iter()
            .enumerate()
            .map(|(i, &(name, slo))| (name.to_string(), service(1.0 + i as f64, slo)))
            .collect(),
        jobs: IndexMap::new(),
        quotas: [("default".to_string(), QuotaSummary { rejected_pods: 2 })]
            .into_iter()
            .collect(),
        alerts: IndexMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_written_reads_back_equal() {
        let mut summary = example(&[("web", Some(250.0)), ("batch", None)], &["p"]);
        summary.alerts.insert(
            "HighLatency".into(),
            AlertSummary {
                fired: 1,
                firing_s: 90.0,
            },
        );
        for summary in [example(&[("web", None)], &["p", "q"]), summary] {
            let text = serde_json::to_string_pretty(&summary).unwrap_or_else(|e| panic!("{e}"));
            let read: Summary = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(read, summary);
            // And writing what was read gives the same text.
            let again = serde_json::to_string_pretty(&read).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(again, text);
        }
    }

    #[test]
    fn fields_left_out_when_empty_read_back_empty() {
        let summary = example(&[("web", None)], &["p"]);
        let text = serde_json::to_string(&summary).unwrap_or_else(|e| panic!("{e}"));
        assert!(!text.contains("alerts") && !text.contains("hpa_sync_offset_s"));
        assert!(
            text.contains(r#""slo_p99_ms":null"#),
            "an absent SLO is written as null"
        );
        let read: Summary = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert!(read.alerts.is_empty());
        assert_eq!(read.services["web"].scaling.hpa_sync_offset_s, None);
        assert_eq!(read.services["web"].slo_p99_ms, None);
    }
}
