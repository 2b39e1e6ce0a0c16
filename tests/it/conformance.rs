//! Conformance of capsim's Kubernetes models against vectors transcribed from Kubernetes' own
//! unit tests (`k8s-vectors.json`).
//!
//! One runner per section, found through `RUNNERS`. Every case of a section with a runner is
//! checked, and the test fails listing every mismatch (case, node, expected, actual), not only
//! the first; a section without a runner yet is listed as not covered and does not fail. Cases
//! are built from their own data, read through the units the file's `meta` states; none is
//! special-cased.
//!
//! The file read is `$CAPSIM_K8S_VECTORS` when set, else `../shared/reference/k8s-vectors.json`
//! beside the crate when it exists, else the copy vendored in `tests/data/`; the test prints
//! which.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use capsim::cluster::node::{Node, NodeId};
use capsim::cluster::scheduler::{
    ResourceWeights, ScoringStrategy, balanced_allocation, balanced_allocation_score,
    default_normalize_score, node_resources_fit, taint_toleration, taint_toleration_raw_score,
};
use capsim::cluster::spec::{PodSpec, Taint, TaintEffect, Toleration, TolerationOperator};
use capsim::units::Resources;

/// Section runners, by section name. A runner checks every case of its section.
const RUNNERS: &[(&str, Runner)] = &[("scheduler_scores", scheduler_scores)];

type Runner = fn(&[Value]) -> SectionReport;

#[test]
fn kubernetes_vectors() {
    let (path, origin) = vectors_path();
    println!("k8s vectors: {} ({origin})", path.display());
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let vectors: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let Some(sections) = vectors.as_object() else {
        panic!("{}: the top level is not an object", path.display());
    };
    note_vendored_drift(&text);

    let mut mismatches = Vec::new();
    for (name, runner) in RUNNERS {
        let Some(cases) = sections.get(*name).and_then(Value::as_array) else {
            mismatches.push(Mismatch::bad_data(
                name,
                "the section is missing or not a list",
            ));
            continue;
        };
        let report = runner(cases);
        println!(
            "  {name}: {} cases, {} values checked, {} mismatches",
            cases.len(),
            report.checked,
            report.mismatches.len()
        );
        mismatches.extend(report.mismatches);
    }
    let uncovered: Vec<String> = sections
        .iter()
        .filter(|(name, _)| *name != "meta" && !RUNNERS.iter().any(|(r, _)| r == name))
        .map(|(name, cases)| {
            let count = cases.as_array().map_or(0, Vec::len);
            let noun = if count == 1 { "case" } else { "cases" };
            format!("{name} ({count} {noun})")
        })
        .collect();
    if !uncovered.is_empty() {
        println!("  not covered yet: {}", uncovered.join(", "));
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches against {}:\n{}",
        mismatches.len(),
        path.display(),
        mismatches
            .iter()
            .map(|m| format!("  {m}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_mismatching_node_is_reported() {
    // Two nodes with wrong expectations and one case the runner cannot read: three mismatches.
    let cases: Value = serde_json::from_str(
        r#"[
          {"plugin": "TaintToleration", "case": "tampered",
           "podTolerations": [],
           "nodes": [{"name": "a", "taints": []},
                     {"name": "b", "taints": [{"key": "k", "value": "v",
                                               "effect": "PreferNoSchedule"}]}],
           "expectedScores": {"a": 0, "b": 100}},
          {"plugin": "NoSuchPlugin", "case": "unknown", "nodes": [], "expectedScores": {}}
        ]"#,
    )
    .expect("valid JSON");
    let report = scheduler_scores(cases.as_array().expect("a list"));
    let lines: Vec<String> = report.mismatches.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        lines,
        [
            "scheduler_scores / TaintToleration / tampered: node a: expected 0, got 100",
            "scheduler_scores / TaintToleration / tampered: node b: expected 100, got 0",
            "scheduler_scores / NoSuchPlugin / unknown: case data: expected a case capsim can \
             read, got no runner for plugin NoSuchPlugin",
        ]
    );
}

/// Where the vectors come from, and a word on why that file.
fn vectors_path() -> (PathBuf, &'static str) {
    if let Some(path) = std::env::var_os("CAPSIM_K8S_VECTORS").filter(|p| !p.is_empty()) {
        return (PathBuf::from(path), "from CAPSIM_K8S_VECTORS");
    }
    let shared = shared_copy();
    if shared.exists() {
        return (shared, "the shared reference");
    }
    (vendored_copy(), "the vendored copy")
}

fn shared_copy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/k8s-vectors.json")
}

fn vendored_copy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/k8s-vectors.json")
}

/// Says so when the vendored copy differs from the file under test, so it can be refreshed.
fn note_vendored_drift(text: &str) {
    if let Ok(vendored) = std::fs::read_to_string(vendored_copy())
        && vendored != text
    {
        println!("  note: tests/data/k8s-vectors.json differs from the file under test");
    }
}

/// What a runner found in one section.
#[derive(Default)]
struct SectionReport {
    /// Expected values compared.
    checked: usize,
    /// Every disagreement, and every case that could not be read.
    mismatches: Vec<Mismatch>,
}

/// One expected value capsim does not reproduce.
struct Mismatch {
    case: String,
    node: String,
    expected: String,
    actual: String,
}

impl Mismatch {
    fn bad_data(case: &str, problem: &str) -> Mismatch {
        Mismatch {
            case: case.to_string(),
            node: String::new(),
            expected: "a case capsim can read".to_string(),
            actual: problem.to_string(),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = if self.node.is_empty() {
            "case data".to_string()
        } else {
            format!("node {}", self.node)
        };
        write!(
            f,
            "{}: {place}: expected {}, got {}",
            self.case, self.expected, self.actual
        )
    }
}

/// `scheduler_scores`: per-plugin scores (0..=100, before the plugin weight) of each node.
fn scheduler_scores(cases: &[Value]) -> SectionReport {
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
        node: node.to_string(),
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
            // meta.scheduler_units: makeNode(name, milliCPU, memoryBytes).
            let pod = pod_requests(field(case, "podRequest")?, CpuUnit::Millicores)?;
            let nodes = resource_nodes(case, CpuUnit::Millicores)?;
            Ok(nodes
                .iter()
                .map(|n| (n.name.clone(), balanced_allocation_score(pod.requests, n)))
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

fn field<'v>(object: &'v Value, key: &str) -> Result<&'v Value, String> {
    object.get(key).ok_or_else(|| format!("{key} is missing"))
}

fn list<'v>(object: &'v Value, key: &str) -> Result<&'v [Value], String> {
    field(object, key)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{key} is not a list"))
}

fn optional_u64(object: &Value, key: &str) -> Result<Option<u64>, String> {
    object
        .get(key)
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| format!("{key} is not a whole number: {v}"))
        })
        .transpose()
}

fn string(object: &Value, key: &str) -> Result<Option<String>, String> {
    object
        .get(key)
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{key} is not a string: {v}"))
        })
        .transpose()
}
