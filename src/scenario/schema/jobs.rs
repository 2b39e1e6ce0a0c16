//! The `jobs` section's shape: a batch Job's pod template, its Job keys or its pod trace.

use serde::Deserialize;

use super::{
    AffinityFile, DistOrScalar, NamedMap, ResourceRequirementsFile, Scalar, TolerationFile,
};

/// A batch Job: the pod template's placement (as a service's), and either the template keys
/// (`start`, `completions`, `parallelism`, `run_time`) or a pod `trace`; `validate` checks
/// which.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobFile {
    pub(crate) namespace: Option<String>,
    pub(crate) resources: Option<ResourceRequirementsFile>,
    #[serde(default)]
    pub(crate) node_selector: NamedMap<Scalar>,
    pub(crate) affinity: Option<AffinityFile>,
    #[serde(default)]
    pub(crate) tolerations: Vec<TolerationFile>,
    /// The pod template's labels.
    #[serde(default)]
    pub(crate) labels: NamedMap<Scalar>,
    /// From binding to the containers' start (0s when absent).
    pub(crate) image_pull: Option<DistOrScalar>,
    /// `terminationGracePeriodSeconds`, as a duration (30s when absent).
    pub(crate) termination_grace_period: Option<Scalar>,
    /// The pods' `cluster-autoscaler.kubernetes.io/safe-to-evict` annotation (true when absent).
    pub(crate) safe_to_evict: Option<bool>,
    /// When the Job object is created (0s when absent).
    pub(crate) start: Option<Scalar>,
    pub(crate) completions: Option<Scalar>,
    pub(crate) parallelism: Option<Scalar>,
    /// How long one pod runs; required for a template job.
    pub(crate) run_time: Option<DistOrScalar>,
    /// A recorded pod trace instead of the template keys.
    pub(crate) trace: Option<PodTraceFile>,
}

/// `jobs.<name>.trace`: a CSV (or .csv.gz) file of pods, one a row; the column names default to
/// those of Alibaba's `cluster-trace-gpu-v2023` pod lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PodTraceFile {
    pub(crate) file: String,
    pub(crate) time_column: Option<String>,
    pub(crate) end_column: Option<String>,
    pub(crate) scheduled_column: Option<String>,
    pub(crate) duration_column: Option<String>,
    pub(crate) cpu_column: Option<String>,
    pub(crate) memory_column: Option<String>,
    pub(crate) gpu_column: Option<String>,
    pub(crate) start: Option<Scalar>,
    pub(crate) time_scale: Option<Scalar>,
}
