//! `scheduler_scores`: kube-scheduler score plugins against Kubernetes' score test vectors.

use serde_json::{Map, Value};

use capsim::cluster::node::{Node, NodeId};
use capsim::cluster::scheduler::{
    KubernetesVersion, ResourceWeights, ScoringStrategy, balanced_allocation,
    balanced_allocation_score, default_normalize_score, node_resources_fit, taint_toleration,
    taint_toleration_raw_score,
};
use capsim::cluster::spec::{PodSpec, Taint, TaintEffect, Toleration, TolerationOperator};
use capsim::units::Resources;

use super::{Mismatch, SectionReport, field, list, optional_u64, string};

/// `scheduler_scores`: per-plugin scores (0..=100, before the plugin weight) of each node.
pub(super) fn scheduler_scores(cases: &[Value], _meta: &Value) -> SectionReport {
    let mut report = SectionReport::default();
    for (i, case) in cases.iter().enumerate() {
        let plugin = case.get("plugin").and_then(Value::as_str).unwrap_or("?");
        let title = case
            .get("case")
            .and_then(Value::as_str)
            .map_or_else(|| format!("case {i}"), str::to_string);
        let label = format!("scheduler_scores / {plugin} / {title}");
        let scores = match plugin_scores(case) {
            Ok(scores) => scores,
            Err(problem) => {
                report.mismatches.push(Mismatch::bad_data(&label, &problem));
                continue;
            }
        };
        let expected = match case.get("expectedScores").and_then(Value::as_object) {
            Some(expected) => expected,
            None => {
                let problem = "expectedScores is missing or not an object";
                report.mismatches.push(Mismatch::bad_data(&label, problem));
                continue;
            }
        };
        compare_scores(&label, &scores, expected, &mut report);
    }
    report
}

fn compare_scores(
    label: &str,
    scores: &[(String, u64)],
    expected: &Map<String, Value>,
    report: &mut SectionReport,
) {
    let mismatch = |node: &str, expected: String, actual: String| Mismatch {
        case: label.to_string(),
        place: format!("node {node}"),
        expected,
        actual,
    };
    for (node, actual) in scores {
        report.checked += 1;
        match expected.get(node).map(Value::as_u64) {
            Some(Some(want)) if want == *actual => {}
            Some(Some(want)) => {
                let m = mismatch(node, want.to_string(), actual.to_string());
                report.mismatches.push(m);
            }
            Some(None) => {
                let m = mismatch(node, "a whole score".into(), actual.to_string());
                report.mismatches.push(m);
            }
            None => {
                let m = mismatch(node, "an expected score".into(), actual.to_string());
                report.mismatches.push(m);
            }
        }
    }
    for (node, want) in expected {
        if !scores.iter().any(|(name, _)| name == node) {
            let m = mismatch(node, want.to_string(), "no such node in the case".into());
            report.mismatches.push(m);
        }
    }
}

/// Each node's score under the case's plugin, in the case's node order.
fn plugin_scores(case: &Value) -> Result<Vec<(String, u64)>, String> {
    let plugin = field(case, "plugin")?
        .as_str()
        .ok_or("plugin is not a string")?;
    let (name, variant) = match plugin.split_once('/') {
        Some((name, variant)) => (name, Some(variant)),
        None => (plugin, None),
    };
    match (name, variant) {
        (node_resources_fit::NAME, Some(variant)) => {
            let strategy = [
                ScoringStrategy::LeastAllocated,
                ScoringStrategy::MostAllocated,
            ]
            .into_iter()
            .find(|s| s.name() == variant)
            .ok_or_else(|| format!("no runner for scoring strategy {variant}"))?;
            let weights = resource_weights(case)?;
            // meta.scheduler_units: cpu numbers are raw quantity strings, whole cores.
            let pod = pod_requests(field(case, "podRequest")?, CpuUnit::Cores)?;
            let nodes = resource_nodes(case, CpuUnit::Cores)?;
            Ok(nodes
                .iter()
                .map(|n| {
                    let score = strategy.score(pod.non_zero_requests(), n, &weights);
                    (n.name.clone(), score)
                })
                .collect())
        }
        (balanced_allocation::NAME, None) => {
            // meta.scheduler_units: makeNode(name, milliCPU, memoryBytes). The vectors were
            // transcribed before kubernetes/kubernetes#135573 (their `source` says so): they
            // hold 1.35's formula, so they run with 1.35.
            let pod = pod_requests(field(case, "podRequest")?, CpuUnit::Millicores)?;
            let nodes = resource_nodes(case, CpuUnit::Millicores)?;
            Ok(nodes
                .iter()
                .map(|n| {
                    let score =
                        balanced_allocation_score(KubernetesVersion::V1_35, pod.requests, n);
                    (n.name.clone(), score)
                })
                .collect())
        }
        (taint_toleration::NAME, None) => {
            let tolerations = list(case, "podTolerations")?
                .iter()
                .map(toleration)
                .collect::<Result<Vec<_>, _>>()?;
            let nodes = list(case, "nodes")?
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let mut node = empty_node(i, n)?;
                    node.taints = list(n, "taints")?
                        .iter()
                        .map(taint)
                        .collect::<Result<_, _>>()?;
                    Ok(node)
                })
                .collect::<Result<Vec<_>, String>>()?;
            let mut scores: Vec<u64> = nodes
                .iter()
                .map(|n| taint_toleration_raw_score(&tolerations, n))
                .collect();
            default_normalize_score(&mut scores, true);
            Ok(nodes.into_iter().map(|n| n.name).zip(scores).collect())
        }
        _ => Err(format!("no runner for plugin {plugin}")),
    }
}

/// The unit of a bare `cpu` number in a case (`cpu_milli` is always millicores).
#[derive(Clone, Copy)]
enum CpuUnit {
    Cores,
    Millicores,
}

/// A pod that declares exactly the requests the object lists, an explicit zero included
/// (Kubernetes substitutes its non-zero defaults only for requests that are absent).
fn pod_requests(requests: &Value, unit: CpuUnit) -> Result<PodSpec, String> {
    let cpu = millicores(requests, unit)?;
    let memory = optional_u64(requests, "memory")?;
    Ok(PodSpec {
        requests: Resources::new(cpu.unwrap_or(0), memory.unwrap_or(0)),
        has_cpu_request: cpu.is_some(),
        has_memory_request: memory.is_some(),
        ..PodSpec::default()
    })
}

/// The case's nodes with their allocatable and their existing pods bound.
fn resource_nodes(case: &Value, unit: CpuUnit) -> Result<Vec<Node>, String> {
    list(case, "nodes")?
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut node = empty_node(i, n)?;
            let allocatable = field(n, "allocatable")?;
            node.allocatable = Resources::new(
                millicores(allocatable, unit)?.unwrap_or(0),
                optional_u64(allocatable, "memory")?.unwrap_or(0),
            );
            for existing in list(n, "existingPodRequests")? {
                node.add_pod(&pod_requests(existing, unit)?);
            }
            Ok(node)
        })
        .collect()
}

fn empty_node(index: usize, node: &Value) -> Result<Node, String> {
    let name = field(node, "name")?
        .as_str()
        .ok_or("node name is not a string")?;
    let id = NodeId(u32::try_from(index).map_err(|_| "too many nodes")?);
    Ok(Node::bare(id, name, Resources::ZERO, 110))
}

fn resource_weights(case: &Value) -> Result<ResourceWeights, String> {
    let Some(weights) = case.get("weights") else {
        return Ok(ResourceWeights::default());
    };
    let default = ResourceWeights::default();
    Ok(ResourceWeights {
        cpu: optional_u64(weights, "cpu")?.unwrap_or(default.cpu),
        memory: optional_u64(weights, "memory")?.unwrap_or(default.memory),
    })
}

fn millicores(object: &Value, unit: CpuUnit) -> Result<Option<u64>, String> {
    if let Some(milli) = optional_u64(object, "cpu_milli")? {
        return Ok(Some(milli));
    }
    match (optional_u64(object, "cpu")?, unit) {
        (None, _) => Ok(None),
        (Some(m), CpuUnit::Millicores) => Ok(Some(m)),
        (Some(cores), CpuUnit::Cores) => cores
            .checked_mul(1_000)
            .map(Some)
            .ok_or_else(|| format!("cpu {cores} cores overflows millicores")),
    }
}

fn taint(value: &Value) -> Result<Taint, String> {
    Ok(Taint {
        key: string(value, "key")?.unwrap_or_default(),
        value: string(value, "value")?.unwrap_or_default(),
        effect: effect(&string(value, "effect")?.unwrap_or_default())?
            .ok_or("a taint needs an effect")?,
    })
}

fn toleration(value: &Value) -> Result<Toleration, String> {
    let operator = match string(value, "operator")?.as_deref() {
        None | Some("") | Some("Equal") => TolerationOperator::Equal,
        Some("Exists") => TolerationOperator::Exists,
        Some(other) => return Err(format!("unknown toleration operator {other}")),
    };
    Ok(Toleration {
        key: string(value, "key")?.unwrap_or_default(),
        operator,
        value: string(value, "value")?.unwrap_or_default(),
        effect: effect(&string(value, "effect")?.unwrap_or_default())?,
        toleration_seconds: None,
    })
}

/// A taint effect by its Kubernetes name; the empty string is "any effect".
fn effect(name: &str) -> Result<Option<TaintEffect>, String> {
    if name.is_empty() {
        return Ok(None);
    }
    [
        TaintEffect::NoSchedule,
        TaintEffect::PreferNoSchedule,
        TaintEffect::NoExecute,
    ]
    .into_iter()
    .find(|e| e.as_str() == name)
    .map(Some)
    .ok_or_else(|| format!("unknown taint effect {name}"))
}
