//! Conformance of capsim's Kubernetes models against vectors transcribed from Kubernetes' own
//! unit tests (`k8s-vectors.json`).
//!
//! One runner per section, found through `RUNNERS`. Every case of a section with a runner is
//! checked, and the test fails listing every mismatch (case, what, expected, actual), not only
//! the first; a section without a runner yet is listed as not covered and does not fail. Cases
//! are built from their own data, read through the units and conventions the file's `meta`
//! states (each runner receives it); none is special-cased.
//!
//! The file read is `$CAPSIM_K8S_VECTORS` when set, else `../shared/reference/k8s-vectors.json`
//! beside the crate when it exists, else the copy vendored in `tests/data/`; the test prints
//! which.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod cluster_autoscaler;
mod hpa;
mod scheduler;

use cluster_autoscaler::cluster_autoscaler;
use scheduler::scheduler_scores;

/// Section runners, by section name. A runner checks every case of its section.
/// Each runner lives in the module named for its model.
const RUNNERS: &[(&str, Runner)] = &[
    ("scheduler_scores", scheduler_scores),
    ("hpa_replica_calculator", hpa::hpa_replica_calculator),
    ("hpa_behavior_rate_limits", hpa::hpa_behavior_rate_limits),
    (
        "hpa_behavior_stabilization",
        hpa::hpa_behavior_stabilization,
    ),
    ("hpa_legacy_stabilization", hpa::hpa_legacy_stabilization),
    ("hpa_legacy_convert_rules", hpa::hpa_legacy_convert_rules),
    (
        "hpa_policy_limit_functions",
        hpa::hpa_policy_limit_functions,
    ),
    ("hpa_controller_clamp", hpa::hpa_controller_clamp),
    ("cluster_autoscaler", cluster_autoscaler),
];

/// A section's runner: its cases, and the file's `meta` object (`Null` when absent).
type Runner = fn(&[Value], &Value) -> SectionReport;

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
    let meta = sections.get("meta").unwrap_or(&Value::Null);

    let mut mismatches = Vec::new();
    for (name, runner) in RUNNERS {
        let Some(cases) = sections.get(*name).and_then(Value::as_array) else {
            mismatches.push(Mismatch::bad_data(
                name,
                "the section is missing or not a list",
            ));
            continue;
        };
        let report = runner(cases, meta);
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
    let report = scheduler_scores(cases.as_array().expect("a list"), &Value::Null);
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
pub(super) struct SectionReport {
    /// Expected values compared.
    checked: usize,
    /// Every disagreement, and every case that could not be read.
    mismatches: Vec<Mismatch>,
}

/// One expected value capsim does not reproduce.
pub(super) struct Mismatch {
    case: String,
    /// Which value of the case (`node a`, `replicas`); empty for the case's data as a whole.
    place: String,
    expected: String,
    actual: String,
}

impl Mismatch {
    pub(super) fn bad_data(case: &str, problem: &str) -> Mismatch {
        Mismatch {
            case: case.to_string(),
            place: String::new(),
            expected: "a case capsim can read".to_string(),
            actual: problem.to_string(),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = if self.place.is_empty() {
            "case data"
        } else {
            &self.place
        };
        write!(
            f,
            "{}: {place}: expected {}, got {}",
            self.case, self.expected, self.actual
        )
    }
}

pub(super) fn field<'v>(object: &'v Value, key: &str) -> Result<&'v Value, String> {
    object.get(key).ok_or_else(|| format!("{key} is missing"))
}

pub(super) fn list<'v>(object: &'v Value, key: &str) -> Result<&'v [Value], String> {
    field(object, key)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{key} is not a list"))
}

pub(super) fn optional_u64(object: &Value, key: &str) -> Result<Option<u64>, String> {
    object
        .get(key)
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| format!("{key} is not a whole number: {v}"))
        })
        .transpose()
}

pub(super) fn string(object: &Value, key: &str) -> Result<Option<String>, String> {
    object
        .get(key)
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("{key} is not a string: {v}"))
        })
        .transpose()
}
