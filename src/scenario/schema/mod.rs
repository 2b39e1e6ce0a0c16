//! The scenario file's shape, as serde types: what may be written where.
//!
//! These types accept anything of the right shape and check nothing else: numbers, quantities,
//! durations and names stay as the text the user wrote (`Scalar`, `String`) so that `validate`
//! can quote them in its errors along with their YAML path. Every struct denies unknown fields,
//! so a typo is reported with the list of allowed fields. There is no `#[serde(flatten)]` and no
//! untagged enum: both hide the real error behind "data did not match any variant"; fields that
//! take one of two shapes have a small visitor instead.

mod jobs;
mod pod_rules;
pub(crate) mod read;
mod visitors;

use serde::Deserialize;

pub(crate) use jobs::{JobFile, PodTraceFile};
pub(crate) use pod_rules::{
    LabelSelectorFile, PodAffinityFile, PodAffinityTermFile, SpreadConstraintFile,
};
pub(crate) use visitors::{NamedMap, Scalar};

/// The whole file. `name`, `duration` and `node_pools` are required: `read::file` checks that
/// they are given, so that one key of the file can be read alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    #[serde(default)]
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) seed: Option<Scalar>,
    #[serde(default)]
    pub(crate) duration: Scalar,
    pub(crate) warmup: Option<Scalar>,
    pub(crate) resolution: Option<Scalar>,
    /// The Kubernetes minor version whose behaviour is modelled where versions differ.
    pub(crate) kubernetes_version: Option<Scalar>,
    #[serde(default)]
    pub(crate) node_pools: NamedMap<PoolFile>,
    /// Services; may be empty when `jobs` has entries (a batch-only scenario).
    #[serde(default)]
    pub(crate) services: NamedMap<ServiceFile>,
    /// Batch Jobs: pods that run to completion, from a template or a pod trace.
    #[serde(default)]
    pub(crate) jobs: NamedMap<JobFile>,
    #[serde(default)]
    pub(crate) quotas: NamedMap<QuotaFile>,
    /// DaemonSets: each takes its pod's requests and one pod slot on every node it selects.
    #[serde(default)]
    pub(crate) daemonsets: NamedMap<DaemonSetFile>,
    /// Zone outages: every node of a zone unreachable for a while.
    #[serde(default)]
    pub(crate) outages: Vec<OutageFile>,
    pub(crate) autoscaling: Option<AutoscalingFile>,
    pub(crate) monitoring: Option<MonitoringFile>,
    pub(crate) sweep: Option<SweepFile>,
    #[serde(default)]
    pub(crate) expect: Vec<String>,
}

/// The `sweep` section: what to vary, and how many seeds per point.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepFile {
    /// Path -> values; the points are the cartesian product.
    #[serde(default)]
    pub(crate) grid: NamedMap<Vec<serde_yaml::Value>>,
    /// Groups of paths whose value lists vary together (the i-th values go together).
    #[serde(default)]
    pub(crate) zip: Vec<NamedMap<Vec<serde_yaml::Value>>>,
    pub(crate) replications: Option<Scalar>,
    pub(crate) seeds: Option<String>,
}

/// `machine_type`: a catalog name or an inline machine.
#[derive(Debug)]
pub(crate) enum MachineTypeFile {
    Named(String),
    Inline(InlineMachineFile),
}

/// An inline machine: `{cpu: 64, memory: 256Gi, price_per_hour: 1.0}`, optionally with a
/// relative per-vCPU `speed` (1.0 when absent) and a `name` (`custom` when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InlineMachineFile {
    pub(crate) name: Option<String>,
    pub(crate) cpu: Scalar,
    pub(crate) memory: Scalar,
    pub(crate) price_per_hour: Scalar,
    pub(crate) spot_price_per_hour: Option<Scalar>,
    pub(crate) speed: Option<Scalar>,
}

/// A duration or count: a scalar, or a distribution map.
#[derive(Debug)]
pub(crate) enum DistOrScalar {
    Scalar(Scalar),
    Dist(DistFile),
}

/// `{distribution: lognormal, mean: 15s, p99: 45s}` and the other distributions; which fields
/// apply depends on `distribution` and is checked by `validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DistFile {
    pub(crate) distribution: String,
    pub(crate) value: Option<Scalar>,
    pub(crate) mean: Option<Scalar>,
    pub(crate) p99: Option<Scalar>,
    pub(crate) min: Option<Scalar>,
    pub(crate) max: Option<Scalar>,
}

/// How often a spot pool's nodes are preempted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreemptionFile {
    pub(crate) mean_lifetime: Scalar,
}

/// How often a pool's nodes fail (go NotReady) and how long the cloud takes to repair them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailuresFile {
    pub(crate) mean_time_between: Scalar,
    pub(crate) repair_delay: Option<Scalar>,
}

/// `outages: [{zone: us-central1-b, at: 10h, duration: 2h}]`: one zone outage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutageFile {
    #[serde(default)]
    pub(crate) zone: Scalar,
    #[serde(default)]
    pub(crate) at: Scalar,
    #[serde(default)]
    pub(crate) duration: Scalar,
}

/// A node pool.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoolFile {
    pub(crate) machine_type: MachineTypeFile,
    pub(crate) initial_size: Option<Scalar>,
    pub(crate) autoscaling: Option<PoolAutoscalingFile>,
    #[serde(default)]
    pub(crate) spot: bool,
    pub(crate) preemption: Option<PreemptionFile>,
    pub(crate) failures: Option<FailuresFile>,
    #[serde(default)]
    pub(crate) labels: NamedMap<Scalar>,
    #[serde(default)]
    pub(crate) taints: Vec<TaintFile>,
    pub(crate) max_pods: Option<Scalar>,
    pub(crate) provisioning_delay: Option<DistOrScalar>,
    pub(crate) allocatable: Option<ResourcesFile>,
    /// Overrides the machine's relative per-vCPU speed.
    pub(crate) speed: Option<Scalar>,
    /// The zones the pool spans: one node group per zone (a regional GKE node pool, an EKS
    /// node group over subnets).
    pub(crate) zones: Option<Vec<String>>,
}

/// A pool's `autoscaling`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoolAutoscalingFile {
    pub(crate) enabled: Option<bool>,
    pub(crate) min_nodes: Option<Scalar>,
    pub(crate) max_nodes: Scalar,
    pub(crate) cpu_threshold: Option<Scalar>,
    pub(crate) memory_threshold: Option<Scalar>,
    pub(crate) gpu_threshold: Option<Scalar>,
}

/// A node taint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaintFile {
    pub(crate) key: String,
    pub(crate) value: Option<Scalar>,
    pub(crate) effect: String,
}

/// `{cpu, memory, <extended resource>: n}`: requests, limits or allocatable.
///
/// Read as a name-keyed map so that extended resources (`nvidia.com/gpu`) can be named; a name
/// other than cpu and memory is kept in `extended` for validation to accept or reject.
#[derive(Debug, Default)]
pub(crate) struct ResourcesFile {
    pub(crate) cpu: Option<Scalar>,
    pub(crate) memory: Option<Scalar>,
    /// Every other resource name with its amount, in file order.
    pub(crate) extended: Vec<(String, Scalar)>,
}

impl<'de> Deserialize<'de> for ResourcesFile {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ResourcesFile, D::Error> {
        let NamedMap(map) = NamedMap::<Scalar>::deserialize(deserializer)?;
        let mut out = ResourcesFile::default();
        for (name, amount) in map {
            match name.as_str() {
                "cpu" => out.cpu = Some(amount),
                "memory" => out.memory = Some(amount),
                _ => out.extended.push((name, amount)),
            }
        }
        Ok(out)
    }
}

/// A service: Deployment, Service and load.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceFile {
    pub(crate) namespace: Option<String>,
    pub(crate) replicas: Option<Scalar>,
    pub(crate) resources: Option<ResourceRequirementsFile>,
    #[serde(default)]
    pub(crate) node_selector: NamedMap<Scalar>,
    pub(crate) affinity: Option<AffinityFile>,
    #[serde(default)]
    pub(crate) tolerations: Vec<TolerationFile>,
    pub(crate) startup: Option<StartupFile>,
    pub(crate) server: Option<ServerFile>,
    pub(crate) load_balancer: Option<String>,
    pub(crate) load: Option<LoadFile>,
    pub(crate) slo: Option<SloFile>,
    pub(crate) disruption_budget: Option<DisruptionBudgetFile>,
    /// The pod template's labels.
    #[serde(default)]
    pub(crate) labels: NamedMap<Scalar>,
    /// `terminationGracePeriodSeconds`, as a duration (30s when absent).
    pub(crate) termination_grace_period: Option<Scalar>,
    /// `topologySpreadConstraints`, in Kubernetes' own form.
    #[serde(
        default,
        rename = "topologySpreadConstraints",
        alias = "topology_spread_constraints"
    )]
    pub(crate) topology_spread_constraints: Vec<SpreadConstraintFile>,
}

/// A DaemonSet: the pod it runs on every node it selects.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DaemonSetFile {
    pub(crate) namespace: Option<String>,
    pub(crate) resources: Option<ResourceRequirementsFile>,
    #[serde(default)]
    pub(crate) node_selector: NamedMap<Scalar>,
    pub(crate) affinity: Option<AffinityFile>,
    #[serde(default)]
    pub(crate) tolerations: Vec<TolerationFile>,
}

/// A service's PodDisruptionBudget spec, in Kubernetes' own form (snake_case accepted too).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct DisruptionBudgetFile {
    #[serde(alias = "min_available")]
    pub(crate) min_available: Option<Scalar>,
    #[serde(alias = "max_unavailable")]
    pub(crate) max_unavailable: Option<Scalar>,
}

/// A service's `slo`: the latency it should keep, and the share of its requests that may fail.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SloFile {
    pub(crate) latency_p99: Option<Scalar>,
    /// The fraction of arrived requests that may be refused, time out or be lost with their pod:
    /// a fraction (`0.001`) or a percentage (`0.1%`).
    pub(crate) max_failed: Option<Scalar>,
}

/// A container's `resources`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceRequirementsFile {
    pub(crate) requests: Option<ResourcesFile>,
    pub(crate) limits: Option<ResourcesFile>,
}

/// A pod's `affinity`: node affinity, and (for a service's pods) pod affinity and
/// anti-affinity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AffinityFile {
    pub(crate) node_affinity: Option<NodeAffinityFile>,
    pub(crate) pod_affinity: Option<PodAffinityFile>,
    pub(crate) pod_anti_affinity: Option<PodAffinityFile>,
}

/// `nodeAffinity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NodeAffinityFile {
    pub(crate) required_during_scheduling_ignored_during_execution: Option<NodeSelectorFile>,
    #[serde(default)]
    pub(crate) preferred_during_scheduling_ignored_during_execution: Vec<PreferredTermFile>,
}

/// A `NodeSelector`: terms ORed together.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NodeSelectorFile {
    pub(crate) node_selector_terms: Vec<TermFile>,
}

/// A `NodeSelectorTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TermFile {
    #[serde(default)]
    pub(crate) match_expressions: Vec<RequirementFile>,
}

/// A `NodeSelectorRequirement`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequirementFile {
    pub(crate) key: String,
    pub(crate) operator: String,
    #[serde(default)]
    pub(crate) values: Vec<Scalar>,
}

/// A `PreferredSchedulingTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreferredTermFile {
    pub(crate) weight: Scalar,
    pub(crate) preference: TermFile,
}

/// A pod toleration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TolerationFile {
    pub(crate) key: Option<String>,
    pub(crate) operator: Option<String>,
    pub(crate) value: Option<Scalar>,
    pub(crate) effect: Option<String>,
    #[serde(rename = "tolerationSeconds")]
    pub(crate) toleration_seconds: Option<Scalar>,
}

/// A service's `startup`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartupFile {
    pub(crate) image_pull: Option<DistOrScalar>,
    pub(crate) ready: Option<DistOrScalar>,
}

/// A service's `server`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerFile {
    pub(crate) concurrency: Option<Scalar>,
    pub(crate) queue_limit: Option<Scalar>,
    pub(crate) timeout: Option<Scalar>,
    pub(crate) cpu_per_worker: Option<Scalar>,
    pub(crate) memory_base: Option<Scalar>,
    pub(crate) memory_per_request: Option<Scalar>,
}

/// A service's `load`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoadFile {
    pub(crate) arrivals: ArrivalsFile,
    pub(crate) service_time: Option<DistOrScalar>,
    pub(crate) model: Option<ModelFile>,
}

/// `load.arrivals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArrivalsFile {
    pub(crate) rate: Option<Scalar>,
    pub(crate) profile: Option<OneOrMany<ProfileFile>>,
    pub(crate) trace: Option<TraceFile>,
}

/// `load.arrivals.trace`: a request trace or a rate series replayed from a CSV file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TraceFile {
    pub(crate) file: String,
    pub(crate) format: Option<String>,
    pub(crate) time_column: Option<String>,
    pub(crate) rate_column: Option<String>,
    pub(crate) tokens_columns: Option<Vec<String>>,
    pub(crate) service_time_column: Option<String>,
    pub(crate) start: Option<Scalar>,
    pub(crate) time_scale: Option<Scalar>,
    pub(crate) rate_scale: Option<Scalar>,
    #[serde(rename = "loop")]
    pub(crate) looped: Option<bool>,
}

/// One map, or a list of them.
#[derive(Debug)]
pub(crate) struct OneOrMany<T>(pub(crate) Vec<T>);

/// A rate profile; which fields apply depends on `type`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileFile {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) peak_to_trough: Option<Scalar>,
    pub(crate) peak_hour: Option<Scalar>,
    pub(crate) steps: Option<Vec<PointFile>>,
    pub(crate) spikes: Option<Vec<SpikeFile>>,
    pub(crate) points: Option<Vec<PointFile>>,
}

/// `{at, factor}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PointFile {
    pub(crate) at: Scalar,
    pub(crate) factor: Scalar,
}

/// `{at, duration, factor}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpikeFile {
    pub(crate) at: Scalar,
    pub(crate) duration: Scalar,
    pub(crate) factor: Scalar,
}

/// `load.model`; which fields apply depends on `type`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelFile {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) vectors: Option<Scalar>,
    pub(crate) dimension: Option<Scalar>,
    pub(crate) top_k: Option<Scalar>,
    pub(crate) recall: Option<Scalar>,
    pub(crate) ef: Option<Scalar>,
    pub(crate) jitter_cv: Option<Scalar>,
    pub(crate) tokens: Option<DistOrScalar>,
    pub(crate) tokens_per_core_second: Option<Scalar>,
    pub(crate) overhead: Option<Scalar>,
}

/// A namespace's ResourceQuota `spec.hard`.
///
/// Read as a name-keyed map so that extended resources (`requests.nvidia.com/gpu`) can be named:
/// a key holding a `/` (other than an object count, `count/<resource>`) is kept in `extended`
/// for validation to accept or reject; any other key not listed in `QUOTA_FIELDS` is an unknown
/// field.
#[derive(Debug, Default)]
pub(crate) struct QuotaFile {
    pub(crate) requests_cpu: Option<Scalar>,
    pub(crate) requests_memory: Option<Scalar>,
    pub(crate) cpu: Option<Scalar>,
    pub(crate) memory: Option<Scalar>,
    pub(crate) limits_cpu: Option<Scalar>,
    pub(crate) limits_memory: Option<Scalar>,
    pub(crate) pods: Option<Scalar>,
    /// Every key naming an extended resource, with its amount, in file order.
    pub(crate) extended: Vec<(String, Scalar)>,
}

/// The keys a quota may hold, for the unknown-field message.
const QUOTA_FIELDS: &[&str] = &[
    "requests.cpu",
    "requests.memory",
    "cpu",
    "memory",
    "limits.cpu",
    "limits.memory",
    "pods",
    "requests.nvidia.com/gpu",
];

impl<'de> Deserialize<'de> for QuotaFile {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<QuotaFile, D::Error> {
        deserializer.deserialize_map(QuotaVisitor)
    }
}

/// Reads a quota's keys inside the map, so that an unknown key's error carries the map's path.
struct QuotaVisitor;

impl<'de> serde::de::Visitor<'de> for QuotaVisitor {
    type Value = QuotaFile;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map from quota resource names to amounts")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<QuotaFile, A::Error> {
        use serde::de::Error;
        let mut out = QuotaFile::default();
        while let Some(name) = map.next_key::<String>()? {
            let field = match name.as_str() {
                "requests.cpu" => &mut out.requests_cpu,
                "requests.memory" => &mut out.requests_memory,
                "cpu" => &mut out.cpu,
                "memory" => &mut out.memory,
                "limits.cpu" => &mut out.limits_cpu,
                "limits.memory" => &mut out.limits_memory,
                "pods" => &mut out.pods,
                _ if name.contains('/') && !name.starts_with("count/") => {
                    if out.extended.iter().any(|(n, _)| *n == name) {
                        return Err(A::Error::custom(format_args!("duplicate entry `{name}`")));
                    }
                    let amount = map.next_value()?;
                    out.extended.push((name, amount));
                    continue;
                }
                _ => return Err(A::Error::unknown_field(&name, QUOTA_FIELDS)),
            };
            if field.is_some() {
                return Err(A::Error::custom(format_args!("duplicate field `{name}`")));
            }
            *field = Some(map.next_value()?);
        }
        Ok(out)
    }
}

/// The `autoscaling` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AutoscalingFile {
    pub(crate) metric_resolution: Option<Scalar>,
    #[serde(default)]
    pub(crate) hpa: NamedMap<HpaFile>,
    pub(crate) cluster_autoscaler: Option<ClusterAutoscalerFile>,
}

/// A HorizontalPodAutoscaler spec (autoscaling/v2), plus two capsim extensions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct HpaFile {
    pub(crate) scale_target_ref: Option<TargetRefFile>,
    pub(crate) min_replicas: Option<Scalar>,
    pub(crate) max_replicas: Scalar,
    #[serde(default)]
    pub(crate) metrics: Vec<MetricFile>,
    pub(crate) behavior: Option<BehaviorFile>,
    #[serde(rename = "sync_period")]
    pub(crate) sync_period: Option<Scalar>,
    #[serde(rename = "sync_offset")]
    pub(crate) sync_offset: Option<Scalar>,
    pub(crate) tolerance: Option<Scalar>,
}

/// `scaleTargetRef`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TargetRefFile {
    pub(crate) api_version: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) name: String,
}

/// A `MetricSpec`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricFile {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) resource: Option<ResourceMetricFile>,
    pub(crate) pods: Option<PodsMetricFile>,
}

/// A `ResourceMetricSource`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceMetricFile {
    pub(crate) name: String,
    pub(crate) target: TargetFile,
}

/// A `PodsMetricSource`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PodsMetricFile {
    pub(crate) metric: MetricIdentifierFile,
    pub(crate) target: TargetFile,
}

/// A `MetricIdentifier`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricIdentifierFile {
    pub(crate) name: String,
}

/// A `MetricTarget`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TargetFile {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) average_utilization: Option<Scalar>,
    pub(crate) average_value: Option<Scalar>,
    pub(crate) value: Option<Scalar>,
}

/// `behavior`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BehaviorFile {
    pub(crate) scale_up: Option<ScalingRulesFile>,
    pub(crate) scale_down: Option<ScalingRulesFile>,
}

/// `HPAScalingRules`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ScalingRulesFile {
    pub(crate) stabilization_window_seconds: Option<Scalar>,
    pub(crate) select_policy: Option<String>,
    pub(crate) policies: Option<Vec<ScalingPolicyFile>>,
    pub(crate) tolerance: Option<Scalar>,
}

/// `HPAScalingPolicy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ScalingPolicyFile {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) value: Scalar,
    pub(crate) period_seconds: Scalar,
}

/// `autoscaling.cluster_autoscaler`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClusterAutoscalerFile {
    pub(crate) enabled: Option<bool>,
    pub(crate) scan_interval: Option<Scalar>,
    pub(crate) expander: Option<ExpanderFile>,
    #[serde(default)]
    pub(crate) priorities: NamedMap<Scalar>,
    pub(crate) max_nodes_total: Option<Scalar>,
    pub(crate) scale_down_enabled: Option<bool>,
    pub(crate) scale_down_utilization_threshold: Option<Scalar>,
    pub(crate) scale_down_gpu_utilization_threshold: Option<Scalar>,
    pub(crate) scale_down_unneeded_time: Option<Scalar>,
    pub(crate) scale_down_delay_after_add: Option<Scalar>,
    pub(crate) scale_down_delay_after_delete: Option<Scalar>,
    pub(crate) scale_down_delay_after_failure: Option<Scalar>,
    pub(crate) max_node_provision_time: Option<Scalar>,
    /// `--balance-similar-node-groups`.
    pub(crate) balance_similar_node_groups: Option<bool>,
    pub(crate) max_scale_down_parallelism: Option<Scalar>,
    pub(crate) max_bulk_soft_taint_count: Option<Scalar>,
}

/// `expander`: `least-waste`, `priority,least-waste`, or a list of names.
#[derive(Debug)]
pub(crate) struct ExpanderFile(pub(crate) Vec<String>);

/// The `monitoring` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonitoringFile {
    #[serde(default)]
    pub(crate) scrape: Vec<ScrapeFile>,
    #[serde(default)]
    pub(crate) alerts: Vec<AlertFile>,
}

/// A scrape job.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScrapeFile {
    pub(crate) job: String,
    pub(crate) service: String,
    pub(crate) interval: Option<Scalar>,
}

/// An alert rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertFile {
    pub(crate) alert: String,
    pub(crate) service: String,
    pub(crate) metric: String,
    pub(crate) op: Option<String>,
    pub(crate) threshold: Scalar,
    #[serde(rename = "for")]
    pub(crate) for_duration: Option<Scalar>,
    pub(crate) severity: Option<String>,
}
