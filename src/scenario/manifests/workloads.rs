//! Deployments, StatefulSets and DaemonSets into capsim services and daemonsets: replicas, the
//! pod's effective resources, labels, node selector, node affinity, tolerations, grace period
//! readiness delay, and a Deployment's or StatefulSet's topology spread constraints and pod
//! (anti-)affinity. What capsim does not model (a DaemonSet's pod rules, extended resources)
//! is named in a warning.

use serde_yaml::{Mapping, Value};

use super::objects::{Object, list, lookup, scalar_text, string_map, whole};
use super::resources::{Amounts, LimitRange, Requirements, pod_resources, show_cpu, show_memory};
use super::{Issues, Note};

/// The pod template's spec.
const POD: &str = "spec.template.spec";

/// A Deployment or StatefulSet, translated.
#[derive(Debug, Clone)]
pub(super) struct Workload {
    /// `Deployment` or `StatefulSet`.
    pub(super) kind: String,
    /// `metadata.name`.
    pub(super) name: String,
    /// `metadata.namespace`.
    pub(super) namespace: String,
    /// The pod template's labels.
    pub(super) labels: Vec<(String, String)>,
    /// The service's fields in capsim's schema.
    pub(super) service: Mapping,
    /// Notes on assumed values, by path below the service.
    pub(super) notes: Vec<Note>,
    /// The pod's effective requests and limits.
    pub(super) resources: Requirements,
    /// Replicas.
    pub(super) replicas: u64,
}

/// Translates a Deployment or StatefulSet; `None` when it is skipped (with a warning) or has
/// errors (recorded in `issues`).
pub(super) fn workload(
    object: &Object,
    ranges: &[&LimitRange],
    issues: &mut Issues,
) -> Option<Workload> {
    let errors_before = issues.errors.len();
    let mut notes = Vec::new();
    let replicas = match whole(object, &object.value, "", "spec.replicas", issues) {
        Some(n) if n < 0 => {
            issues.warnings.push(format!(
                "{}: skipped: spec.replicas: {n} must be greater than or equal to 0",
                object.origin()
            ));
            return None;
        }
        Some(n) => n.unsigned_abs(),
        None => {
            notes.push(note(
                &["replicas"],
                "spec.replicas not set: Kubernetes' default, 1",
            ));
            1
        }
    };
    if lookup(&object.value, "metadata.namespace").is_none() {
        notes.push(note(
            &["namespace"],
            "metadata.namespace not set: the default namespace, unless applied with -n",
        ));
    }
    let mut service = Mapping::new();
    service.insert("namespace".into(), object.namespace.clone().into());
    service.insert("replicas".into(), replicas.into());
    let labels = string_map(
        object,
        &object.value,
        "",
        "spec.template.metadata.labels",
        issues,
    );
    let resources = pod(object, ranges, issues, &mut service, &mut notes)?;
    if !labels.is_empty() {
        let map: Mapping = labels
            .iter()
            .map(|(k, v)| (k.clone().into(), v.clone().into()))
            .collect();
        service.insert("labels".into(), Value::Mapping(map));
    }
    lifecycle_settings(object, issues, &mut service, &mut notes)?;
    (issues.errors.len() == errors_before).then(|| Workload {
        kind: object.kind.clone(),
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        labels,
        service,
        notes,
        resources,
        replicas,
    })
}

/// The pod template's termination grace period and readiness delay into `service`; `None`
/// (with a warning) when the API server would reject the grace period.
fn lifecycle_settings(
    object: &Object,
    issues: &mut Issues,
    service: &mut Mapping,
    notes: &mut Vec<Note>,
) -> Option<()> {
    if let Some(grace) = whole(
        object,
        &object.value,
        "",
        &format!("{POD}.terminationGracePeriodSeconds"),
        issues,
    ) {
        if grace < 0 {
            issues.warnings.push(format!(
                "{}: skipped: {POD}.terminationGracePeriodSeconds: {grace} must be greater than \
                 or equal to 0",
                object.origin()
            ));
            return None;
        }
        service.insert(
            "termination_grace_period".into(),
            format!("{grace}s").into(),
        );
    }
    if let Some(ready) = readiness_delay(object, issues) {
        let mut startup = Mapping::new();
        startup.insert("ready".into(), format!("{ready}s").into());
        service.insert("startup".into(), Value::Mapping(startup));
        notes.push(note(
            &["startup", "ready"],
            "the readiness probe's initialDelaySeconds; the image pull time is not in a manifest",
        ));
    }
    Some(())
}

/// Translates a DaemonSet into a `daemonsets` entry; `None` when skipped or in error.
pub(super) fn daemonset(
    object: &Object,
    ranges: &[&LimitRange],
    issues: &mut Issues,
) -> Option<(Mapping, Amounts)> {
    let errors_before = issues.errors.len();
    let mut out = Mapping::new();
    out.insert("namespace".into(), object.namespace.clone().into());
    let resources = pod(object, ranges, issues, &mut out, &mut Vec::new())?;
    (issues.errors.len() == errors_before).then_some((out, resources.requests))
}

/// The pod template's resources and placement into `out`; `None` (with a warning) when the API
/// server would reject the pod.
fn pod(
    object: &Object,
    ranges: &[&LimitRange],
    issues: &mut Issues,
    out: &mut Mapping,
    notes: &mut Vec<Note>,
) -> Option<Requirements> {
    let resources = match pod_resources(object, POD, ranges, issues) {
        Ok(r) => r,
        Err(rule) => {
            issues
                .warnings
                .push(format!("{}: skipped: {rule}", object.origin()));
            return None;
        }
    };
    if !resources.others.is_empty() {
        issues.warnings.push(format!(
            "{}: resources {} are not modelled: capsim places the pod by cpu, memory and \
             extended resources only, so it may land on nodes that do not offer them",
            object.origin(),
            resources.others.join(", ")
        ));
    }
    if !resources.from_limit_range.is_empty() {
        notes.push(note(
            &["resources"],
            &format!(
                "completed by the namespace's LimitRange {}",
                resources.from_limit_range.join(", ")
            ),
        ));
    }
    if let Some(r) = requirements(&resources.pod, &resources.extended) {
        out.insert("resources".into(), r);
    }
    placement(object, issues, out);
    Some(resources.pod)
}

/// `{requests: {cpu, memory, <extended>}, limits: {cpu, memory, <extended>}}` with what is
/// set, or `None`. Extended resources go to both sides, as Kubernetes requires them equal.
fn requirements(r: &Requirements, extended: &[(String, u64)]) -> Option<Value> {
    let side = |a: &Amounts| {
        let mut m = Mapping::new();
        if let Some(c) = a.cpu_m {
            m.insert("cpu".into(), show_cpu(c).into());
        }
        if let Some(b) = a.memory_bytes {
            m.insert("memory".into(), show_memory(b).into());
        }
        for (name, amount) in extended.iter().filter(|(_, a)| *a > 0) {
            m.insert(name.as_str().into(), (*amount).into());
        }
        (!m.is_empty()).then_some(Value::Mapping(m))
    };
    let mut out = Mapping::new();
    if let Some(q) = side(&r.requests) {
        out.insert("requests".into(), q);
    }
    if let Some(l) = side(&r.limits) {
        out.insert("limits".into(), l);
    }
    (!out.is_empty()).then_some(Value::Mapping(out))
}

/// Node selector, node affinity, tolerations, and (but for a DaemonSet) topology spread
/// constraints and pod (anti-)affinity into `out`.
fn placement(object: &Object, issues: &mut Issues, out: &mut Mapping) {
    let selector = string_map(object, &object.value, POD, "nodeSelector", issues);
    if !selector.is_empty() {
        let map: Mapping = selector
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        out.insert("node_selector".into(), Value::Mapping(map));
    }
    let spec = lookup(&object.value, POD).cloned().unwrap_or(Value::Null);
    let pod_rules = if object.kind == "DaemonSet" {
        let given = [
            "affinity.podAffinity",
            "affinity.podAntiAffinity",
            "topologySpreadConstraints",
        ];
        let ignored: Vec<&str> = given
            .into_iter()
            .filter(|f| lookup(&spec, f).is_some())
            .collect();
        if !ignored.is_empty() {
            issues.warnings.push(format!(
                "{}: {} ignored: capsim does not model them for DaemonSets",
                object.origin(),
                ignored.join(", ")
            ));
        }
        Mapping::new()
    } else {
        pod_rules(object, &spec, issues, out)
    };
    let mut affinity = pod_rules;
    if let Some(na) = lookup(&spec, "affinity.nodeAffinity") {
        let (value, dropped) = node_affinity(na);
        if dropped {
            issues.warnings.push(format!(
                "{}: {POD}.affinity.nodeAffinity: matchFields ignored: capsim matches node \
                 labels only",
                object.origin()
            ));
        }
        if let Some(value) = value {
            affinity.insert("nodeAffinity".into(), value);
        }
    }
    if !affinity.is_empty() {
        out.insert("affinity".into(), Value::Mapping(affinity));
    }
    let tolerations: Vec<Value> = list(object, &spec, POD, "tolerations", issues)
        .iter()
        .map(|t| Value::Mapping(keep(t, &["key", "operator", "value", "effect"])))
        .collect();
    if !tolerations.is_empty() {
        out.insert("tolerations".into(), Value::Sequence(tolerations));
    }
}

/// A Deployment's or StatefulSet's `topologySpreadConstraints` into `out`, and its pod
/// (anti-)affinity returned as entries of `affinity`, with the fields capsim reads; a warning
/// names what is dropped (`namespaceSelector`, `mismatchLabelKeys`, `matchLabelKeys` of
/// affinity terms).
fn pod_rules(object: &Object, spec: &Value, issues: &mut Issues, out: &mut Mapping) -> Mapping {
    const SPREAD: [&str; 8] = [
        "maxSkew",
        "topologyKey",
        "whenUnsatisfiable",
        "labelSelector",
        "matchLabelKeys",
        "minDomains",
        "nodeAffinityPolicy",
        "nodeTaintsPolicy",
    ];
    const TERM: [&str; 3] = ["labelSelector", "namespaces", "topologyKey"];
    let mut dropped = false;
    let spread: Vec<Value> = list(object, spec, POD, "topologySpreadConstraints", issues)
        .iter()
        .map(|c| Value::Mapping(keep(c, &SPREAD)))
        .collect();
    if !spread.is_empty() {
        out.insert("topologySpreadConstraints".into(), Value::Sequence(spread));
    }
    let mut term = |t: &Value| {
        dropped |= t
            .as_mapping()
            .is_some_and(|m| m.len() > keep(t, &TERM).len());
        Value::Mapping(keep(t, &TERM))
    };
    let mut affinity = Mapping::new();
    for field in ["podAffinity", "podAntiAffinity"] {
        let Some(rules) = lookup(spec, &format!("affinity.{field}")) else {
            continue;
        };
        let mut kept = Mapping::new();
        let required = "requiredDuringSchedulingIgnoredDuringExecution";
        if let Some(Value::Sequence(terms)) = lookup(rules, required) {
            kept.insert(required.into(), terms.iter().map(&mut term).collect());
        }
        let preferred = "preferredDuringSchedulingIgnoredDuringExecution";
        if let Some(Value::Sequence(terms)) = lookup(rules, preferred) {
            let weighted = terms.iter().map(|w| {
                let mut m = keep(w, &["weight"]);
                if let Some(t) = lookup(w, "podAffinityTerm") {
                    m.insert("podAffinityTerm".into(), term(t));
                }
                Value::Mapping(m)
            });
            kept.insert(preferred.into(), weighted.collect());
        }
        affinity.insert(field.into(), Value::Mapping(kept));
    }
    if dropped {
        issues.warnings.push(format!(
            "{}: {POD}.affinity: namespaceSelector, matchLabelKeys and mismatchLabelKeys of pod \
             affinity terms ignored: capsim reads labelSelector, namespaces and topologyKey",
            object.origin()
        ));
    }
    affinity
}

/// The node affinity in capsim's schema (matchExpressions only), and whether a matchFields
/// term was dropped.
fn node_affinity(na: &Value) -> (Option<Value>, bool) {
    let mut dropped = false;
    let mut term = |t: &Value| -> Option<Value> {
        dropped |= lookup(t, "matchFields").is_some();
        let exprs: Vec<Value> = lookup(t, "matchExpressions")
            .and_then(Value::as_sequence)
            .map(|e| {
                e.iter()
                    .map(|r| Value::Mapping(keep(r, &["key", "operator", "values"])))
                    .collect()
            })
            .unwrap_or_default();
        (!exprs.is_empty()).then(|| {
            let mut m = Mapping::new();
            m.insert("matchExpressions".into(), Value::Sequence(exprs));
            Value::Mapping(m)
        })
    };
    let mut out = Mapping::new();
    let required = "requiredDuringSchedulingIgnoredDuringExecution";
    let terms: Vec<Value> = lookup(na, &format!("{required}.nodeSelectorTerms"))
        .and_then(Value::as_sequence)
        .map(|ts| ts.iter().filter_map(&mut term).collect())
        .unwrap_or_default();
    if !terms.is_empty() {
        let mut selector = Mapping::new();
        selector.insert("nodeSelectorTerms".into(), Value::Sequence(terms));
        out.insert(required.into(), Value::Mapping(selector));
    }
    let preferred = "preferredDuringSchedulingIgnoredDuringExecution";
    let prefs: Vec<Value> = lookup(na, preferred)
        .and_then(Value::as_sequence)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    let preference = term(lookup(p, "preference")?)?;
                    let mut m = Mapping::new();
                    m.insert("weight".into(), lookup(p, "weight")?.clone());
                    m.insert("preference".into(), preference);
                    Some(Value::Mapping(m))
                })
                .collect()
        })
        .unwrap_or_default();
    if !prefs.is_empty() {
        out.insert(preferred.into(), Value::Sequence(prefs));
    }
    ((!out.is_empty()).then_some(Value::Mapping(out)), dropped)
}

/// The fields `keys` of the map `value`, in that order.
fn keep(value: &Value, keys: &[&str]) -> Mapping {
    keys.iter()
        .filter_map(|k| Some(((*k).into(), lookup(value, k)?.clone())))
        .collect()
}

/// The longest `readinessProbe.initialDelaySeconds` of the pod's containers: the pod is Ready
/// when every container is.
fn readiness_delay(object: &Object, issues: &mut Issues) -> Option<i64> {
    let spec = lookup(&object.value, POD)?;
    list(object, spec, POD, "containers", issues)
        .iter()
        .filter_map(|c| lookup(c, "readinessProbe.initialDelaySeconds"))
        .filter_map(|d| d.as_i64().or_else(|| scalar_text(d)?.parse().ok()))
        .max()
        .map(|d| d.max(0))
}

/// A note at `path` (below the object's entry).
pub(super) fn note(path: &[&str], text: &str) -> Note {
    Note {
        path: path.iter().map(ToString::to_string).collect(),
        text: text.to_string(),
    }
}
