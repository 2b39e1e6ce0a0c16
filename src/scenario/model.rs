//! The validated scenario: what the rest of capsim simulates.
//!
//! Every value here has passed validation, so nothing downstream needs to check it again: counts
//! are in range, names resolve, every service's and template job's pod fits on at least one
//! pool's empty node (a pod trace's rows need not: real traces hold pods no pool can run). These types know
//! nothing of YAML or serde; `schema` holds the file's shape and `validate` turns one into the
//! other.
//!
//! A `Scenario` assembles the domains' own types (node pools and quotas from `cluster`, HPA and
//! Cluster Autoscaler specs from `controllers`, load and serving from `workload`, alert rules from
//! `monitoring`); what is defined here is only what belongs to the scenario as a whole: the
//! service that ties a pod template to its load, the run's length and seed, and the `sweep` and
//! `expect` sections.

use crate::cluster::disruption::DisruptionBudget;
use crate::cluster::pool::{NodePool, ZoneOutage};
use crate::cluster::quota::Quota;
use crate::cluster::scheduler::KubernetesVersion;
use crate::cluster::spec::{Labels, PodSpec};
use crate::controllers::cluster_autoscaler::spec::ClusterAutoscalerSpec;
use crate::controllers::hpa::spec::HpaSpec;
use crate::controllers::job::JobSpec;
use crate::monitoring::rules::Monitoring;
use crate::units::{DurationDist, SimDuration};
use crate::workload::spec::{Load, LoadBalancerPolicy, ServerSpec};
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
    /// The Kubernetes minor version whose kube-scheduler is modelled where versions differ
    /// (`kubernetes_version`; the newest modelled when the file names none).
    pub kubernetes_version: KubernetesVersion,
    /// Node pools in file order.
    pub node_pools: Vec<NodePool>,
    /// Zone outages (`outages`), in file order.
    pub outages: Vec<ZoneOutage>,
    /// Services in file order; empty in a scenario of batch jobs only.
    pub services: Vec<Service>,
    /// Batch Jobs (`jobs`), in file order: pods that run to completion.
    pub jobs: Vec<JobSpec>,
    /// Every namespace used by a service, a job or a quota, in the order the scenario first
    /// names each: the services' in file order, then the jobs', then the quotas'.
    pub namespaces: Vec<String>,
    /// ResourceQuotas, one per namespace that has one, in file order.
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
    pub const fn as_str(self) -> &'static str {
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
    /// The fraction of the requests that arrive which may fail (be refused, time out or be lost
    /// with their pod), `slo.max_failed`; `DEFAULT_SLO_MAX_FAILED` when the scenario states none.
    /// A sweep point over it is not on the Pareto frontier.
    pub slo_max_failed: f64,
    /// The PodDisruptionBudget covering the service's pods, if any: the Cluster Autoscaler's
    /// drains respect it.
    pub disruption_budget: Option<DisruptionBudget>,
    /// The pod template's labels (what PodDisruptionBudget selectors match).
    pub labels: Labels,
    /// How long a terminating pod may drain before it is killed
    /// (`terminationGracePeriodSeconds`).
    pub termination_grace: SimDuration,
}

/// The failure budget of a service whose scenario gives no `slo.max_failed` (with or without an
/// `slo`): 0.1% of its requests, three nines of availability. A configuration that refuses more
/// is no answer to a capacity question, however cheap.
pub const DEFAULT_SLO_MAX_FAILED: f64 = 0.001;

/// Kubernetes' default `terminationGracePeriodSeconds`.
pub const DEFAULT_TERMINATION_GRACE: SimDuration = SimDuration::from_secs(30);

/// The delays between a pod being bound to a node and it being Ready.
#[derive(Debug, Clone, PartialEq)]
pub struct Startup {
    /// Image pull, paid the first time the node runs a pod of this service.
    pub image_pull: DurationDist,
    /// From container start to the readiness probe passing.
    pub ready: DurationDist,
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
