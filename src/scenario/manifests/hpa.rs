//! HorizontalPodAutoscalers of `autoscaling/v2`, `v2beta2` and `v1` into capsim's
//! `autoscaling.hpa` entries (autoscaling/v2 form). v1's `targetCPUUtilizationPercentage` is a
//! CPU Utilization metric; an HPA without metrics gets Kubernetes' default, 80% CPU.

use serde_yaml::{Mapping, Value};

use super::objects::{Object, list, lookup, scalar_text, whole};
use super::workloads::note;
use super::{Issues, Note};

/// Kubernetes' default CPU utilization target.
const DEFAULT_CPU_UTILIZATION_PERCENT: i64 = 80;

/// An HPA, translated, with the workload it scales.
#[derive(Debug, Clone)]
pub(super) struct Hpa {
    /// `file: document N (HorizontalPodAutoscaler name)`.
    pub(super) origin: String,
    /// `metadata.name`.
    pub(super) name: String,
    /// `metadata.namespace`.
    pub(super) namespace: String,
    /// `scaleTargetRef.kind`.
    pub(super) target_kind: String,
    /// `scaleTargetRef.name`.
    pub(super) target_name: String,
    /// The spec in capsim's schema.
    pub(super) spec: Mapping,
    /// Notes on assumed values, by path below the entry.
    pub(super) notes: Vec<Note>,
}

/// Translates an HPA; `None` when skipped (with a warning) or in error.
pub(super) fn hpa(object: &Object, issues: &mut Issues) -> Option<Hpa> {
    let version = object.api_version.as_str();
    if !matches!(
        version,
        "autoscaling/v1" | "autoscaling/v2" | "autoscaling/v2beta2"
    ) {
        issues.warnings.push(format!(
            "{}: skipped: apiVersion {version} is not read; expected autoscaling/v2, v2beta2 or v1",
            object.origin()
        ));
        return None;
    }
    let skip = |issues: &mut Issues, rule: String| {
        issues
            .warnings
            .push(format!("{}: skipped: {rule}", object.origin()));
        None
    };
    let target =
        |f: &str| lookup(&object.value, &format!("spec.scaleTargetRef.{f}")).and_then(scalar_text);
    let (Some(target_kind), Some(target_name)) = (target("kind"), target("name")) else {
        return skip(
            issues,
            "spec.scaleTargetRef: kind and name are required".into(),
        );
    };
    let mut notes = Vec::new();
    let min = match whole(object, &object.value, "", "spec.minReplicas", issues) {
        Some(n) => n,
        None => {
            notes.push(note(
                &["minReplicas"],
                "spec.minReplicas not set: Kubernetes' default, 1",
            ));
            1
        }
    };
    let max = whole(object, &object.value, "", "spec.maxReplicas", issues);
    let Some(max) = max else {
        return skip(issues, "spec.maxReplicas: Required value".into());
    };
    if min < 1 {
        return skip(
            issues,
            format!("spec.minReplicas: {min} must be greater than or equal to 1"),
        );
    }
    if max < min {
        return skip(
            issues,
            format!("spec.maxReplicas: {max} must be greater than or equal to minReplicas {min}"),
        );
    }
    let mut spec = Mapping::new();
    spec.insert("minReplicas".into(), min.into());
    spec.insert("maxReplicas".into(), max.into());
    let metrics = match spec_metrics(object, issues, &mut notes) {
        Ok(metrics) => metrics,
        Err(rule) => return skip(issues, rule),
    };
    spec.insert("metrics".into(), Value::Sequence(metrics));
    if let Some(behavior) = lookup(&object.value, "spec.behavior") {
        spec.insert("behavior".into(), self::behavior(behavior));
    }
    Some(Hpa {
        origin: object.origin(),
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        target_kind,
        target_name,
        spec,
        notes,
    })
}

/// The HPA's metrics in autoscaling/v2 form: v1's CPU target, or v2's Resource and Pods
/// metrics; Kubernetes' default (80% CPU) when none is given. `Err` when every metric given is
/// of a type capsim does not compute.
fn spec_metrics(
    object: &Object,
    issues: &mut Issues,
    notes: &mut Vec<Note>,
) -> Result<Vec<Value>, String> {
    if object.api_version == "autoscaling/v1" {
        let field = "spec.targetCPUUtilizationPercentage";
        let percent = whole(object, &object.value, "", field, issues);
        if percent.is_none() {
            notes.push(note(
                &["metrics"],
                "no target given: Kubernetes' default, 80% CPU",
            ));
        }
        return Ok(vec![cpu_utilization(
            percent.unwrap_or(DEFAULT_CPU_UTILIZATION_PERCENT),
        )]);
    }
    let given = list(object, &object.value, "", "spec.metrics", issues);
    let kept = metrics(object, given, issues);
    if kept.is_empty() && !given.is_empty() {
        return Err("no metric capsim computes (Resource or Pods)".into());
    }
    if kept.is_empty() {
        notes.push(note(
            &["metrics"],
            "no metric given: Kubernetes' default, 80% CPU",
        ));
        return Ok(vec![cpu_utilization(DEFAULT_CPU_UTILIZATION_PERCENT)]);
    }
    Ok(kept)
}

/// A `Resource` metric on CPU utilization.
fn cpu_utilization(percent: i64) -> Value {
    let mut target = Mapping::new();
    target.insert("type".into(), "Utilization".into());
    target.insert("averageUtilization".into(), percent.into());
    let mut resource = Mapping::new();
    resource.insert("name".into(), "cpu".into());
    resource.insert("target".into(), Value::Mapping(target));
    let mut metric = Mapping::new();
    metric.insert("type".into(), "Resource".into());
    metric.insert("resource".into(), Value::Mapping(resource));
    Value::Mapping(metric)
}

/// The Resource and Pods metrics, in capsim's schema; a warning names the others.
fn metrics(object: &Object, given: &[Value], issues: &mut Issues) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, m) in given.iter().enumerate() {
        let kind = lookup(m, "type").and_then(Value::as_str).unwrap_or("");
        let kept = match kind {
            "Resource" => lookup(m, "resource").map(|r| {
                let mut resource = Mapping::new();
                if let Some(name) = lookup(r, "name") {
                    resource.insert("name".into(), name.clone());
                }
                resource.insert("target".into(), target(r));
                ("resource", resource)
            }),
            "Pods" => lookup(m, "pods").map(|p| {
                let mut pods = Mapping::new();
                if let Some(name) = lookup(p, "metric.name") {
                    let mut id = Mapping::new();
                    id.insert("name".into(), name.clone());
                    pods.insert("metric".into(), Value::Mapping(id));
                }
                pods.insert("target".into(), target(p));
                ("pods", pods)
            }),
            _ => None,
        };
        match kept {
            Some((field, source)) => {
                let mut metric = Mapping::new();
                metric.insert("type".into(), kind.into());
                metric.insert(field.into(), Value::Mapping(source));
                out.push(Value::Mapping(metric));
            }
            None => issues.warnings.push(format!(
                "{}: spec.metrics[{i}]: {kind} metric ignored: capsim computes Resource and Pods \
                 metrics only",
                object.origin()
            )),
        }
    }
    out
}

/// A `MetricTarget`'s fields capsim reads.
fn target(source: &Value) -> Value {
    let mut out = Mapping::new();
    for key in ["type", "averageUtilization", "averageValue", "value"] {
        if let Some(v) = lookup(source, &format!("target.{key}")) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Mapping(out)
}

/// `behavior`, with the fields capsim reads.
fn behavior(b: &Value) -> Value {
    let mut out = Mapping::new();
    for side in ["scaleUp", "scaleDown"] {
        let Some(rules) = lookup(b, side) else {
            continue;
        };
        let mut r = Mapping::new();
        for key in ["stabilizationWindowSeconds", "selectPolicy", "tolerance"] {
            if let Some(v) = lookup(rules, key) {
                r.insert(key.into(), v.clone());
            }
        }
        if let Some(policies) = lookup(rules, "policies").and_then(Value::as_sequence) {
            let kept: Vec<Value> = policies
                .iter()
                .map(|p| {
                    let mut m = Mapping::new();
                    for key in ["type", "value", "periodSeconds"] {
                        if let Some(v) = lookup(p, key) {
                            m.insert(key.into(), v.clone());
                        }
                    }
                    Value::Mapping(m)
                })
                .collect();
            r.insert("policies".into(), Value::Sequence(kept));
        }
        out.insert(side.into(), Value::Mapping(r));
    }
    Value::Mapping(out)
}
