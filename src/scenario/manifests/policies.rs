//! PodDisruptionBudgets (`policy/v1` and `v1beta1`: a label selector over the namespace's pods
//! and a budget) and ResourceQuotas (`spec.hard`; several in one namespace all hold, so the
//! smallest of each limit is the one that binds).

use serde_yaml::{Mapping, Value};

use crate::scenario::quantity;

use super::objects::{Object, list, lookup, scalar_text, show, string_map};
use super::resources::{show_cpu, show_memory};
use super::workloads::Workload;
use super::{Issues, extended_request_of};

/// A label selector's requirement.
#[derive(Debug, Clone)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A PodDisruptionBudget, translated.
#[derive(Debug, Clone)]
pub(super) struct Pdb {
    /// `file: document N (PodDisruptionBudget name)`.
    pub(super) origin: String,
    /// `metadata.namespace`.
    pub(super) namespace: String,
    /// `matchLabels` and `matchExpressions`, ANDed.
    selector: Vec<Requirement>,
    /// Whether an empty selector selects every pod (policy/v1) or none (v1beta1).
    empty_selects_all: bool,
    /// `{minAvailable: ...}` or `{maxUnavailable: ...}`.
    pub(super) budget: Mapping,
}

impl Pdb {
    /// Whether the selector matches pods with `labels`.
    pub(super) fn selects(&self, labels: &[(String, String)]) -> bool {
        if self.selector.is_empty() {
            return self.empty_selects_all;
        }
        let get = |k: &str| labels.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        self.selector.iter().all(|r| match r {
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

/// Translates a PodDisruptionBudget; `None` when skipped (with a warning) or in error.
pub(super) fn pdb(object: &Object, issues: &mut Issues) -> Option<Pdb> {
    let skip = |issues: &mut Issues, rule: &str| {
        issues
            .warnings
            .push(format!("{}: skipped: {rule}", object.origin()));
        None
    };
    let mut budget = Mapping::new();
    for field in ["minAvailable", "maxUnavailable"] {
        let Some(v) = lookup(&object.value, &format!("spec.{field}")) else {
            continue;
        };
        let ok = match v {
            Value::Number(n) => n.as_u64().is_some(),
            Value::String(s) => s
                .strip_suffix('%')
                .is_some_and(|p| p.parse::<u32>().is_ok_and(|p| p <= 100)),
            _ => false,
        };
        if !ok {
            issues.errors.push(object.at(
                &format!("spec.{field}"),
                &format!(
                    "{} is not a pod count; expected a whole number >= 0 or a percentage such \
                     as \"50%\"",
                    show(v)
                ),
            ));
            return None;
        }
        budget.insert(field.into(), v.clone());
    }
    match budget.len() {
        0 => {
            return skip(
                issues,
                "spec: neither minAvailable nor maxUnavailable is set",
            );
        }
        2 => {
            return skip(
                issues,
                "spec: minAvailable and maxUnavailable cannot both be set",
            );
        }
        _ => {}
    }
    let selector = label_selector(object, issues)?;
    Some(Pdb {
        origin: object.origin(),
        namespace: object.namespace.clone(),
        selector,
        empty_selects_all: object.api_version == "policy/v1",
        budget,
    })
}

/// The ResourceQuota keys capsim enforces, and how each is read.
const QUOTA_KEYS: [(&str, QuotaKind); 7] = [
    ("requests.cpu", QuotaKind::Cpu),
    ("requests.memory", QuotaKind::Memory),
    ("cpu", QuotaKind::Cpu),
    ("memory", QuotaKind::Memory),
    ("limits.cpu", QuotaKind::Cpu),
    ("limits.memory", QuotaKind::Memory),
    ("pods", QuotaKind::Count),
];

#[derive(Debug, Clone, Copy)]
enum QuotaKind {
    Cpu,
    Memory,
    Count,
}

/// How the quota key `key` is read: one of `QUOTA_KEYS`, or `requests.<domain>/<name>` for an
/// extended resource (a whole count); `None` for a key capsim does not enforce.
fn quota_kind(key: &str) -> Option<QuotaKind> {
    QUOTA_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, kind)| *kind)
        .or_else(|| extended_request(key).map(|_| QuotaKind::Count))
}

/// The extended resource a quota key `requests.<domain>/<name>` limits.
fn extended_request(key: &str) -> Option<&str> {
    key.strip_prefix("requests.")
        .filter(|name| name.contains('/'))
}

/// Adds a ResourceQuota's `spec.hard` to `limits` (key -> smallest amount so far).
pub(super) fn quota(object: &Object, limits: &mut Vec<(String, u64)>, issues: &mut Issues) {
    let Some(hard) = lookup(&object.value, "spec.hard").and_then(Value::as_mapping) else {
        return;
    };
    let (mut ignored, mut uncounted) = (Vec::new(), Vec::new());
    for (key, value) in hard {
        let Some(key) = key.as_str() else { continue };
        let Some(kind) = quota_kind(key) else {
            // The API server accepts any qualified name with a `/`, but its pod evaluator
            // counts an extended resource only as `requests.<name>`; `count/<resource>` is an
            // object count.
            let extended = key.contains('/') && !key.starts_with("count/");
            let list = if extended {
                &mut uncounted
            } else {
                &mut ignored
            };
            list.push(key.to_string());
            continue;
        };
        let text = scalar_text(value).unwrap_or_else(|| show(value));
        let amount = match kind {
            QuotaKind::Cpu => quantity::cpu_rounded_up(&text).map(|m| m.0),
            QuotaKind::Memory => quantity::memory(&text).map(|b| b.0),
            QuotaKind::Count => quantity::count(&text).map(|c| c.floor() as u64),
        };
        // `cpu` and `memory` are the same limits as `requests.cpu` and `requests.memory`.
        let key = match key {
            "cpu" => "requests.cpu",
            "memory" => "requests.memory",
            other => other,
        };
        match amount {
            Ok(v) => match limits.iter_mut().find(|(k, _)| k == key) {
                Some((_, old)) => *old = (*old).min(v),
                None => limits.push((key.to_string(), v)),
            },
            Err(p) => issues
                .errors
                .push(object.at(&format!("spec.hard.{key}"), &p.to_string())),
        }
    }
    if !ignored.is_empty() {
        issues.warnings.push(format!(
            "{}: spec.hard: {} not enforced: capsim enforces {}",
            object.origin(),
            ignored.join(", "),
            QUOTA_KEYS.map(|(k, _)| k).join(", ") + ", requests.<extended resource>"
        ));
    }
    if !uncounted.is_empty() {
        issues.warnings.push(format!(
            "{}: spec.hard: {} limit nothing: Kubernetes counts an extended resource in a quota \
             only as requests.<name>, such as requests.nvidia.com/gpu",
            object.origin(),
            uncounted.join(", ")
        ));
    }
    if lookup(&object.value, "spec.scopes").is_some()
        || lookup(&object.value, "spec.scopeSelector").is_some()
    {
        issues.warnings.push(format!(
            "{}: scopes ignored: the quota counts every pod of the namespace",
            object.origin()
        ));
    }
}

/// A namespace's quota limits as a `quotas` entry.
pub(super) fn quota_entry(limits: &[(String, u64)]) -> Mapping {
    limits
        .iter()
        .map(|(key, v)| {
            let text: Value = match quota_kind(key) {
                Some(QuotaKind::Cpu) => show_cpu(*v).into(),
                Some(QuotaKind::Memory) => show_memory(*v).into(),
                _ => (*v).into(),
            };
            (key.clone().into(), text)
        })
        .collect()
}

/// Whether the namespace's quota can ever admit the workload's pods. The quota admission
/// plugin rejects a pod that sets no request or limit the quota constrains (no LimitRange
/// default gave it one) and a pod asking for more than the whole quota; such a workload is
/// skipped with a warning, as it never runs a pod.
pub(super) fn quota_admits(
    w: &Workload,
    limits: Option<&Vec<(String, u64)>>,
    issues: &mut Issues,
) -> bool {
    let Some(limits) = limits else { return true };
    let r = &w.resources;
    for (key, hard) in limits {
        let wanted = match key.as_str() {
            "requests.cpu" => r.requests.cpu_m,
            "requests.memory" => r.requests.memory_bytes,
            "limits.cpu" => r.limits.cpu_m,
            "limits.memory" => r.limits.memory_bytes,
            // Not required of a pod (Kubernetes requires only cpu and memory), so 0 without.
            key => match extended_request(key) {
                Some(name) => Some(extended_request_of(&w.service, name)),
                None => Some(1),
            },
        };
        let problem = match wanted {
            None => format!("must specify {}", key.replace('.', " ")),
            Some(v) if v > *hard => format!(
                "exceeded quota: {key} is limited to {}",
                show_hard(key, *hard)
            ),
            Some(_) => continue,
        };
        issues.warnings.push(format!(
            "{} {} (namespace {}): skipped: the ResourceQuota rejects its pods: {problem}",
            w.kind, w.name, w.namespace
        ));
        return false;
    }
    true
}

fn show_hard(key: &str, v: u64) -> String {
    match quota_kind(key) {
        Some(QuotaKind::Cpu) => show_cpu(v),
        Some(QuotaKind::Memory) => show_memory(v),
        _ => v.to_string(),
    }
}

/// A PodDisruptionBudget's `spec.selector` (matchLabels and matchExpressions) as requirements;
/// `None` when an expression's operator is unknown (an error is recorded).
fn label_selector(object: &Object, issues: &mut Issues) -> Option<Vec<Requirement>> {
    let mut selector: Vec<Requirement> = string_map(
        object,
        &object.value,
        "",
        "spec.selector.matchLabels",
        issues,
    )
    .into_iter()
    .map(|(k, v)| Requirement::In(k, vec![v]))
    .collect();
    let exprs = list(
        object,
        &object.value,
        "",
        "spec.selector.matchExpressions",
        issues,
    );
    for (i, e) in exprs.iter().enumerate() {
        let key = lookup(e, "key").and_then(scalar_text).unwrap_or_default();
        let values: Vec<String> = lookup(e, "values")
            .and_then(Value::as_sequence)
            .map(|vs| vs.iter().filter_map(scalar_text).collect())
            .unwrap_or_default();
        let operator = lookup(e, "operator").and_then(Value::as_str).unwrap_or("");
        selector.push(match operator {
            "In" => Requirement::In(key, values),
            "NotIn" => Requirement::NotIn(key, values),
            "Exists" => Requirement::Exists(key),
            "DoesNotExist" => Requirement::DoesNotExist(key),
            other => {
                issues.errors.push(object.at(
                    &format!("spec.selector.matchExpressions[{i}].operator"),
                    &format!(
                        "{other:?} is not an operator; expected In, NotIn, Exists or DoesNotExist"
                    ),
                ));
                return None;
            }
        });
    }
    Some(selector)
}
