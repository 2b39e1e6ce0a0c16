//! A pod template's rules about other pods, in Kubernetes' own form: `topologySpreadConstraints`
//! and `affinity.podAffinity` / `affinity.podAntiAffinity`.

use serde::Deserialize;

use super::{NamedMap, RequirementFile, Scalar};

/// A `metav1.LabelSelector`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LabelSelectorFile {
    #[serde(default)]
    pub(crate) match_labels: NamedMap<Scalar>,
    #[serde(default)]
    pub(crate) match_expressions: Vec<RequirementFile>,
}

/// One entry of `topologySpreadConstraints`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SpreadConstraintFile {
    pub(crate) max_skew: Option<Scalar>,
    pub(crate) topology_key: Option<String>,
    pub(crate) when_unsatisfiable: Option<String>,
    pub(crate) label_selector: Option<LabelSelectorFile>,
    #[serde(default)]
    pub(crate) match_label_keys: Vec<String>,
    pub(crate) min_domains: Option<Scalar>,
    pub(crate) node_affinity_policy: Option<String>,
    pub(crate) node_taints_policy: Option<String>,
}

/// `podAffinity` or `podAntiAffinity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PodAffinityFile {
    #[serde(default)]
    pub(crate) required_during_scheduling_ignored_during_execution: Vec<PodAffinityTermFile>,
    #[serde(default)]
    pub(crate) preferred_during_scheduling_ignored_during_execution:
        Vec<WeightedPodAffinityTermFile>,
}

/// A `PodAffinityTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PodAffinityTermFile {
    pub(crate) label_selector: Option<LabelSelectorFile>,
    #[serde(default)]
    pub(crate) namespaces: Vec<String>,
    pub(crate) topology_key: Option<String>,
}

/// A `WeightedPodAffinityTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct WeightedPodAffinityTermFile {
    pub(crate) weight: Scalar,
    pub(crate) pod_affinity_term: PodAffinityTermFile,
}
