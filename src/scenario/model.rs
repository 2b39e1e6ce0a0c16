//! The validated scenario: what the rest of capsim simulates.
//!
//! Every value here has passed validation, so nothing downstream needs to check it again: counts
//! are in range, names resolve, every pod fits on at least one pool's empty node. These types know
//! nothing of YAML or serde; `schema` holds the file's shape and `validate` turns one into the
//! other.

use crate::cluster::disruption::DisruptionBudget;
use crate::cluster::spec::{Labels, PodSpec, Taint};
use crate::units::{Bytes, Millicores, Resources, SimDuration};
use crate::workload::spec::{DurationDist, Load, LoadBalancerPolicy};

/// A whole validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Scenario name; also the default output folder name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Seed from which every random stream is derived.
    pub seed: u64,
    /// Simulated length of the run.
    pub duration: SimDuration,
    /// Initial part of the run that statistics ignore (`< duration`).
    pub warmup: SimDuration,
    /// Width of one time-series row.
    pub resolution: SimDuration,
    /// Node pools in file order.
    pub node_pools: Vec<NodePool>,
    /// Services in file order.
    pub services: Vec<Service>,
    /// Every namespace used by a service or a quota, sorted by name.
    pub namespaces: Vec<String>,
    /// ResourceQuotas, one per namespace that has one, sorted by namespace.
    pub quotas: Vec<Quota>,
    /// HPA and Cluster Autoscaler settings.
    pub autoscaling: Autoscaling,
    /// Prometheus scraping and alert rules.
    pub monitoring: Monitoring,
    /// What a sweep of this scenario varies, when the file has a `sweep` section.
    pub sweep: Option<SweepSpec>,
    /// The `expect` assertions `capsim check` evaluates.
    pub expectations: Vec<Expectation>,
}

/// The `sweep` section: the dimensions of the parameter grid and the replications per point.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SweepSpec {
    /// The grid's dimensions; the points are their cartesian product, first dimension slowest.
    pub dimensions: Vec<SweepDimension>,
    /// Runs per point, each with its own seed (at least 1).
    pub replications: u32,
    /// How seeds are chosen across points.
    pub seeds: SeedPolicy,
}

/// One dimension of a sweep: one path (a grid axis) or several varying together (a zip).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepDimension {
    /// Dotted paths into the scenario document.
    pub paths: Vec<String>,
    /// The dimension's settings: each is one YAML value text per path.
    pub values: Vec<Vec<String>>,
}

/// How a sweep seeds its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SeedPolicy {
    /// Replication r of every point uses the same seed (common random numbers): points differ by
    /// their parameters, not by their noise, so comparisons between points are sharper.
    #[default]
    Common,
    /// Every run gets its own seed, derived from the point and the replication.
    Independent,
}

/// A comparison of `capsim check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `<=`.
    Le,
    /// `<`.
    Lt,
    /// `>=`.
    Ge,
    /// `>`.
    Gt,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
}

impl CompareOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Le => "<=",
            CompareOp::Lt => "<",
            CompareOp::Ge => ">=",
            CompareOp::Gt => ">",
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
        }
    }

    /// Whether `actual OP expected` holds.
    pub fn holds(self, actual: f64, expected: f64) -> bool {
        match self {
            CompareOp::Le => actual <= expected,
            CompareOp::Lt => actual < expected,
            CompareOp::Ge => actual >= expected,
            CompareOp::Gt => actual > expected,
            CompareOp::Eq => actual == expected,
            CompareOp::Ne => actual != expected,
        }
    }
}

/// One `expect` assertion: `PATH OP VALUE` on a summary metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The assertion as written.
    pub text: String,
    /// Dotted path of a numeric summary.json value (`services.web.latency_ms.p99`).
    pub metric: String,
    /// The comparison.
    pub op: CompareOp,
    /// The value compared with.
    pub value: f64,
}

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
}

/// A node pool (GKE node pool, cloud node group).
#[derive(Debug, Clone, PartialEq)]
pub struct NodePool {
    /// Pool name, unique in the scenario.
    pub name: String,
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
}

/// A Deployment with the Service in front of it and the load it receives.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Service (and Deployment) name, unique in the scenario.
    pub name: String,
    /// Namespace of the Deployment's pods.
    pub namespace: String,
    /// Replicas of the Deployment (the initial value when an HPA manages it).
    pub replicas: u32,
    /// The pod template's scheduling-relevant part.
    pub pod: PodSpec,
    /// How a pod becomes Ready.
    pub startup: Startup,
    /// How each pod serves requests.
    pub server: ServerSpec,
    /// How the Service picks a pod for each request.
    pub load_balancer: LoadBalancerPolicy,
    /// The offered load; `None` for a service that receives none.
    pub load: Option<Load>,
    /// The p99 latency the service should keep, when the scenario states one (drawn on plots).
    pub slo_p99: Option<SimDuration>,
    /// The PodDisruptionBudget covering the service's pods, if any: the Cluster Autoscaler's
    /// drains respect it.
    pub disruption_budget: Option<DisruptionBudget>,
}

/// The delays between a pod being bound to a node and it being Ready.
#[derive(Debug, Clone, PartialEq)]
pub struct Startup {
    /// Image pull, paid the first time the node runs a pod of this service.
    pub image_pull: DurationDist,
    /// From container start to the readiness probe passing.
    pub ready: DurationDist,
}

/// How one pod serves requests.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSpec {
    /// Requests served at once (worker threads).
    pub concurrency: u32,
    /// Requests that may wait in the pod's queue; `None` is unbounded.
    pub queue_limit: Option<u32>,
    /// Longest a request may wait in the queue before it is dropped; `None` waits forever.
    pub timeout: Option<SimDuration>,
    /// CPU one busy worker uses (pod usage is capped at the CPU limit).
    pub cpu_per_worker: Millicores,
    /// Memory a running pod uses with no request in flight (code, model weights, index).
    pub memory_base: Bytes,
    /// Memory each request queued or in service adds.
    pub memory_per_request: Bytes,
}

/// A namespace's ResourceQuota (`spec.hard`). Absent entries are unlimited.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Quota {
    /// Namespace the quota applies to.
    pub namespace: String,
    /// `requests.cpu`.
    pub requests_cpu: Option<Millicores>,
    /// `requests.memory`.
    pub requests_memory: Option<Bytes>,
    /// `limits.cpu`.
    pub limits_cpu: Option<Millicores>,
    /// `limits.memory`.
    pub limits_memory: Option<Bytes>,
    /// `pods`.
    pub pods: Option<u32>,
}

/// metrics-server's default `--metric-resolution`.
pub const DEFAULT_METRIC_RESOLUTION: SimDuration = SimDuration::from_secs(15);

/// HPA and Cluster Autoscaler settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaling {
    /// How often metrics-server samples pods (`--metric-resolution`, 15s): each sample is the
    /// average CPU over the window since the last one and the memory in use at the sample.
    pub metric_resolution: SimDuration,
    /// HorizontalPodAutoscalers, at most one per service, in file order.
    pub hpa: Vec<HpaSpec>,
    /// The Cluster Autoscaler, when enabled.
    pub cluster_autoscaler: Option<ClusterAutoscalerSpec>,
}

impl Default for Autoscaling {
    fn default() -> Autoscaling {
        Autoscaling {
            metric_resolution: DEFAULT_METRIC_RESOLUTION,
            hpa: Vec::new(),
            cluster_autoscaler: None,
        }
    }
}

/// A HorizontalPodAutoscaler (autoscaling/v2) targeting one service's Deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// Index of the target service in `Scenario::services`.
    pub service: usize,
    /// `minReplicas` (default 1).
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// `metrics`, at least one.
    pub metrics: Vec<HpaMetric>,
    /// `behavior`, when given.
    pub behavior: Option<HpaBehavior>,
    /// How often the controller syncs (`--horizontal-pod-autoscaler-sync-period`, default 15s).
    pub sync_period: SimDuration,
    /// Where the syncs fall relative to metrics-server's samples: a fixed offset in
    /// `[0, sync_period)`, or drawn per run, as a real HPA's phase is whatever it started with.
    pub sync_offset: SyncOffset,
    /// Relative change below which the HPA does nothing (default 0.1).
    pub tolerance: f64,
}

/// Where an HPA's syncs fall within its period, relative to metrics-server's samples (which
/// are taken at whole multiples of the metric resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOffset {
    /// Drawn uniformly in `[0, sync_period)` from the run's seed: the sample an HPA reads is
    /// between 0 and one resolution old, as in a real cluster.
    Random,
    /// Syncs this long after each sample instant (`0s`: every sync reads a sample taken at that
    /// instant, the quickest reaction possible).
    Fixed(SimDuration),
}

/// A resource an HPA can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceName {
    /// CPU.
    Cpu,
    /// Memory.
    Memory,
}

/// A per-pod metric taken from the simulated load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PodMetricName {
    /// Requests per second arriving at the pod.
    RequestsPerSecond,
    /// Requests queued or in service at the pod.
    InFlightRequests,
}

/// An HPA metric and its target.
#[derive(Debug, Clone, PartialEq)]
pub enum HpaMetric {
    /// `type: Resource`, with a `Utilization` target in percent of requests.
    ResourceUtilization {
        /// cpu or memory.
        resource: ResourceName,
        /// `averageUtilization` in percent.
        average_utilization_percent: u32,
    },
    /// `type: Resource`, with an `AverageValue` target (millicores for cpu, bytes for memory).
    ResourceAverageValue {
        /// cpu or memory.
        resource: ResourceName,
        /// `averageValue` in millicores (cpu) or bytes (memory).
        average_value: u64,
    },
    /// `type: Pods`, with an `AverageValue` target.
    Pods {
        /// Which per-pod metric.
        metric: PodMetricName,
        /// `averageValue` per pod.
        average_value: f64,
    },
}

impl HpaMetric {
    /// A short name with its unit, for the time-series column of the value the HPA saw:
    /// `cpu_utilization_pct`, `memory_average_bytes`, `requests_per_second`, ...
    pub fn column_name(&self) -> &'static str {
        match self {
            HpaMetric::ResourceUtilization {
                resource: ResourceName::Cpu,
                ..
            } => "cpu_utilization_pct",
            HpaMetric::ResourceUtilization {
                resource: ResourceName::Memory,
                ..
            } => "memory_utilization_pct",
            HpaMetric::ResourceAverageValue {
                resource: ResourceName::Cpu,
                ..
            } => "cpu_average_millicores",
            HpaMetric::ResourceAverageValue {
                resource: ResourceName::Memory,
                ..
            } => "memory_average_bytes",
            HpaMetric::Pods {
                metric: PodMetricName::RequestsPerSecond,
                ..
            } => "requests_per_second",
            HpaMetric::Pods {
                metric: PodMetricName::InFlightRequests,
                ..
            } => "in_flight_requests",
        }
    }
}

/// `behavior` of an HPA.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HpaBehavior {
    /// `scaleUp`, when given.
    pub scale_up: Option<HpaScalingRules>,
    /// `scaleDown`, when given.
    pub scale_down: Option<HpaScalingRules>,
}

/// `HPAScalingRules`: what the user wrote; Kubernetes' defaults are filled in by the HPA.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HpaScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window_seconds: Option<u32>,
    /// `selectPolicy`.
    pub select_policy: Option<SelectPolicy>,
    /// `policies`; `None` when the field is absent (Kubernetes then uses its defaults).
    pub policies: Option<Vec<HpaScalingPolicy>>,
    /// `tolerance`, the per-direction tolerance of Kubernetes 1.33+.
    pub tolerance: Option<f64>,
}

/// `selectPolicy` of scaling rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// The kind of an HPA scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalingPolicyKind {
    /// An absolute number of pods per period.
    Pods,
    /// A percentage of the current replicas per period.
    Percent,
}

/// One HPA scaling policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HpaScalingPolicy {
    /// Pods or Percent.
    pub kind: ScalingPolicyKind,
    /// Pods or percent allowed per period (`> 0`).
    pub value: u32,
    /// Length of the period in seconds (1..=1800).
    pub period_seconds: u32,
}

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
    /// `--scale-down-unneeded-time` (10m).
    pub scale_down_unneeded_time: SimDuration,
    /// `--scale-down-delay-after-add` (10m).
    pub scale_down_delay_after_add: SimDuration,
    /// `--scale-down-delay-after-delete` (defaults to the scan interval).
    pub scale_down_delay_after_delete: SimDuration,
    /// `--scale-down-delay-after-failure` (3m).
    pub scale_down_delay_after_failure: SimDuration,
    /// `--max-node-provision-time` (15m).
    pub max_node_provision_time: SimDuration,
}

/// Prometheus scraping and alerting.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Monitoring {
    /// Scrape jobs.
    pub scrapes: Vec<ScrapeJob>,
    /// Alert rules.
    pub alerts: Vec<AlertRule>,
}

/// A Prometheus scrape job over one service's pods.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeJob {
    /// Job name.
    pub job: String,
    /// Index of the scraped service in `Scenario::services`.
    pub service: usize,
    /// `scrape_interval` (default 30s).
    pub interval: SimDuration,
}

/// A metric an alert rule can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertMetric {
    /// CPU used over CPU requested across the service's Ready pods (1.0 = at request).
    CpuUtilization,
    /// Memory used over memory requested.
    MemoryUtilization,
    /// p99 latency in milliseconds.
    LatencyP99Ms,
    /// Pending pods of the service.
    PendingPods,
}

/// A comparison an alert rule makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `>`.
    Greater,
    /// `<`.
    Less,
}

/// A Prometheus alerting rule in structured form: fires when the condition has held for `for`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// `alert` name (`HighCPUUsage`).
    pub name: String,
    /// Index of the watched service.
    pub service: usize,
    /// Watched metric.
    pub metric: AlertMetric,
    /// Comparison with the threshold.
    pub comparison: Comparison,
    /// Threshold in the metric's unit.
    pub threshold: f64,
    /// How long the condition must hold before the alert fires.
    pub for_duration: SimDuration,
    /// `labels.severity`.
    pub severity: String,
}
