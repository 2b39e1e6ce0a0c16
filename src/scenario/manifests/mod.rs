//! Kubernetes manifests into capsim's own schema: the `manifests:` key of a scenario and
//! `capsim import`.
//!
//! `translate` reads the files and returns a fragment of a scenario document (`services`,
//! `daemonsets`, `quotas`, `autoscaling.hpa`) with warnings for what it skipped or ignored and
//! notes on the values it assumed; `expand` merges that fragment under a scenario's own keys
//! (the scenario wins). Malformed values are errors naming the file, the document and the
//! field, all of them at once; an object the API server would reject is skipped with a warning
//! naming the rule, and every kind capsim does not read is listed once. What a manifest cannot
//! say (load, server, start-up delays) comes from the scenario's `services.<name>`.

mod emit;
mod hpa;
mod import;
mod merge;
mod objects;
mod policies;
mod resources;
mod workloads;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_yaml::{Mapping, Value};

use crate::scenario::admission::NVIDIA_GPU;
use crate::scenario::error::Error;

pub use import::Imported;
pub use import::import;
pub(crate) use merge::expand;

use objects::Object;
use resources::{Amounts, LimitRange};
use workloads::Workload;

/// What went wrong (errors) and what was skipped or ignored (warnings), in input order.
#[derive(Debug, Default)]
pub(super) struct Issues {
    /// Malformed values: the load fails.
    pub(super) errors: Vec<String>,
    /// Skipped objects and ignored fields: the load goes on.
    pub(super) warnings: Vec<String>,
}

/// A comment on an assumed value, at a path of the scenario document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    /// Map keys from the root.
    pub(crate) path: Vec<String>,
    /// What was assumed, and why.
    pub(crate) text: String,
}

/// The scenario fragment the manifests make.
#[derive(Debug, Default)]
pub(crate) struct Translation {
    /// `services`, `daemonsets`, `quotas` and `autoscaling.hpa`, as capsim's schema has them.
    pub(crate) fragment: Mapping,
    /// Skipped objects, ignored fields and kinds, in input order.
    pub(crate) warnings: Vec<String>,
    /// Assumed values.
    pub(crate) notes: Vec<Note>,
    /// The largest cpu (millicores) and memory (bytes) any one pod requests.
    pub(crate) largest_pod: (u64, u64),
    /// The cpu and memory every replica of every service requests together.
    pub(crate) total: (u64, u64),
    /// The cpu and memory every DaemonSet's pod requests together (on each node).
    pub(crate) daemons: (u64, u64),
    /// The largest cpu, memory and `nvidia.com/gpu` count any one GPU pod requests (GPU pods
    /// are left out of `largest_pod` and `total`: they need a pool of their own).
    pub(crate) largest_gpu_pod: (u64, u64, u64),
    /// The GPUs every replica of every service requests together.
    pub(crate) total_gpus: u64,
}

/// The kinds read, by API group.
fn read_kind(o: &Object) -> Option<Kind> {
    let group = o.api_version.split('/').next().unwrap_or("");
    let core = !o.api_version.contains('/');
    match (o.kind.as_str(), group) {
        ("Deployment" | "StatefulSet", "apps") => Some(Kind::Workload),
        ("DaemonSet", "apps") => Some(Kind::DaemonSet),
        ("HorizontalPodAutoscaler", "autoscaling") => Some(Kind::Hpa),
        ("PodDisruptionBudget", "policy") => Some(Kind::Pdb),
        ("ResourceQuota", _) if core => Some(Kind::Quota),
        ("LimitRange", _) if core => Some(Kind::LimitRange),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Workload,
    DaemonSet,
    Hpa,
    Pdb,
    Quota,
    LimitRange,
}

/// Reads the manifests `paths` (each with the name messages use for it).
///
/// # Errors
/// `Error::Manifests` with every malformed value of the input.
pub(crate) fn translate(paths: &[(PathBuf, String)]) -> Result<Translation, Error> {
    let mut issues = Issues::default();
    let mut all = Vec::new();
    for (path, shown) in objects::files(paths, &mut issues) {
        all.extend(objects::read_file(&path, &shown, &mut issues));
    }
    let t = from_objects(&all, &mut issues);
    if issues.errors.is_empty() {
        Ok(Translation {
            warnings: issues.warnings,
            ..t
        })
    } else {
        Err(Error::Manifests {
            problems: issues.errors,
        })
    }
}

/// The objects read, by kind, before they are tied together.
#[derive(Default)]
struct Gathered<'a> {
    workloads: Vec<Workload>,
    daemonsets: Mapping,
    daemons: (u64, u64),
    quotas: BTreeMap<String, Vec<(String, u64)>>,
    hpas: Vec<hpa::Hpa>,
    pdbs: Vec<policies::Pdb>,
    skipped: BTreeMap<&'a str, usize>,
}

/// Reads every object of `all` by its kind; LimitRanges first, as they apply to every pod of
/// their namespace wherever they are written.
fn gather<'a>(all: &'a [Object], issues: &mut Issues) -> Gathered<'a> {
    let mut g = Gathered::default();
    let mut ranges: Vec<(String, LimitRange)> = Vec::new();
    for o in all {
        match read_kind(o) {
            Some(Kind::LimitRange) => {
                ranges.push((o.namespace.clone(), resources::limit_range(o, issues)));
            }
            Some(_) => {}
            None => *g.skipped.entry(o.kind.as_str()).or_default() += 1,
        }
    }
    let ranges_of = |ns: &str| -> Vec<&LimitRange> {
        ranges
            .iter()
            .filter(|(n, _)| n == ns)
            .map(|(_, r)| r)
            .collect()
    };
    for o in all {
        let ranges = ranges_of(&o.namespace);
        match read_kind(o) {
            Some(Kind::Workload) => {
                let Some(w) = workloads::workload(o, &ranges, issues) else {
                    continue;
                };
                if g.workloads
                    .iter()
                    .any(|x| x.name == w.name && x.namespace == w.namespace)
                {
                    issues.warnings.push(format!(
                        "{}: skipped: another workload of namespace {} is called {}",
                        o.origin(),
                        w.namespace,
                        w.name
                    ));
                } else {
                    g.workloads.push(w);
                }
            }
            Some(Kind::DaemonSet) => {
                if let Some((d, requests)) = workloads::daemonset(o, &ranges, issues) {
                    add(&mut g.daemons, requests);
                    g.daemonsets
                        .insert(o.name.clone().into(), Value::Mapping(d));
                }
            }
            Some(Kind::Hpa) => g.hpas.extend(hpa::hpa(o, issues)),
            Some(Kind::Pdb) => g.pdbs.extend(policies::pdb(o, issues)),
            Some(Kind::Quota) => {
                policies::quota(o, g.quotas.entry(o.namespace.clone()).or_default(), issues);
            }
            Some(Kind::LimitRange) | None => {}
        }
    }
    g
}

/// What a translated service's pod requests of extended resource `name` (0 without).
pub(super) fn extended_request_of(service: &Mapping, name: &str) -> u64 {
    service
        .get("resources")
        .and_then(|r| r.get("requests")?.get(name)?.as_u64())
        .unwrap_or(0)
}

/// The translation of `all`, objects in input order.
fn from_objects(all: &[Object], issues: &mut Issues) -> Translation {
    let mut g = gather(all, issues);
    let mut t = Translation {
        daemons: g.daemons,
        ..Translation::default()
    };
    g.workloads
        .retain(|w| policies::quota_admits(w, g.quotas.get(&w.namespace), issues));
    let keys = service_keys(&g.workloads);
    let mut services = Mapping::new();
    for (w, key) in g.workloads.iter_mut().zip(&keys) {
        attach_budget(w, key, &g.pdbs, issues);
        t.notes
            .extend(w.notes.iter().map(|n| at(&["services", key], n)));
        let requests = w.resources.requests;
        let (cpu, memory) = (
            requests.cpu_m.unwrap_or(0),
            requests.memory_bytes.unwrap_or(0),
        );
        let gpus = extended_request_of(&w.service, NVIDIA_GPU);
        if gpus > 0 {
            let largest = t.largest_gpu_pod;
            t.largest_gpu_pod = (
                largest.0.max(cpu),
                largest.1.max(memory),
                largest.2.max(gpus),
            );
            t.total_gpus += gpus * w.replicas;
        } else {
            t.largest_pod = (t.largest_pod.0.max(cpu), t.largest_pod.1.max(memory));
            t.total.0 += cpu * w.replicas;
            t.total.1 += memory * w.replicas;
        }
        services.insert(key.clone().into(), Value::Mapping(w.service.clone()));
    }
    let hpa_entries = bind_hpas(&g.hpas, &g.workloads, &keys, issues, &mut t.notes);
    let quotas: Mapping = (g.quotas.iter())
        .filter(|(_, l)| !l.is_empty())
        .map(|(ns, l)| (ns.clone().into(), Value::Mapping(policies::quota_entry(l))))
        .collect();
    let mut autoscaling = Mapping::new();
    if !hpa_entries.is_empty() {
        autoscaling.insert("hpa".into(), Value::Mapping(hpa_entries));
    }
    let sections = [
        ("services", services),
        ("daemonsets", std::mem::take(&mut g.daemonsets)),
        ("quotas", quotas),
        ("autoscaling", autoscaling),
    ];
    for (name, section) in sections {
        if !section.is_empty() {
            t.fragment.insert(name.into(), Value::Mapping(section));
        }
    }
    if !g.skipped.is_empty() {
        let list: Vec<String> = g
            .skipped
            .iter()
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        issues.warnings.push(format!(
            "manifests: kinds capsim does not model, skipped: {}",
            list.join(", ")
        ));
    }
    t
}

fn add(sum: &mut (u64, u64), r: Amounts) {
    sum.0 += r.cpu_m.unwrap_or(0);
    sum.1 += r.memory_bytes.unwrap_or(0);
}

/// A workload's note at an absolute path.
fn at(prefix: &[&str], n: &Note) -> Note {
    Note {
        path: prefix
            .iter()
            .map(ToString::to_string)
            .chain(n.path.iter().cloned())
            .collect(),
        text: n.text.clone(),
    }
}

/// Each workload's service name: its own, or `<namespace>/<name>` when another namespace has a
/// workload of the same name.
fn service_keys(workloads: &[Workload]) -> Vec<String> {
    workloads
        .iter()
        .map(|w| {
            let shared = workloads
                .iter()
                .any(|x| x.name == w.name && x.namespace != w.namespace);
            if shared {
                format!("{}/{}", w.namespace, w.name)
            } else {
                w.name.clone()
            }
        })
        .collect()
}

/// Sets the workload's `disruption_budget` from the PDB whose selector matches its pods; a
/// workload two PDBs select keeps the first (the eviction API refuses to evict its pods).
fn attach_budget(w: &mut Workload, key: &str, pdbs: &[policies::Pdb], issues: &mut Issues) {
    let matching: Vec<&policies::Pdb> = pdbs
        .iter()
        .filter(|p| p.namespace == w.namespace && p.selects(&w.labels))
        .collect();
    let Some(first) = matching.first() else {
        return;
    };
    if matching.len() > 1 {
        issues.warnings.push(format!(
            "service {key}: {} PodDisruptionBudgets select its pods ({}); the first is used, \
             while Kubernetes refuses every eviction of such a pod",
            matching.len(),
            matching
                .iter()
                .map(|p| p.origin.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    w.service.insert(
        "disruption_budget".into(),
        Value::Mapping(first.budget.clone()),
    );
}

/// `autoscaling.hpa` entries: each HPA under its target's service. Two HPAs on one workload
/// are refused by Kubernetes (`AmbiguousSelector`): neither acts.
fn bind_hpas(
    hpas: &[hpa::Hpa],
    workloads: &[Workload],
    keys: &[String],
    issues: &mut Issues,
    notes: &mut Vec<Note>,
) -> Mapping {
    let mut out = Mapping::new();
    for (w, key) in workloads.iter().zip(keys) {
        let mine: Vec<&hpa::Hpa> = hpas
            .iter()
            .filter(|h| {
                h.target_name == w.name && h.target_kind == w.kind && h.namespace == w.namespace
            })
            .collect();
        match mine.as_slice() {
            [] => {}
            [h] => {
                for n in &h.notes {
                    notes.push(at(&["autoscaling", "hpa", key], n));
                }
                out.insert(key.clone().into(), Value::Mapping(h.spec.clone()));
            }
            many => issues.warnings.push(format!(
                "service {key}: HorizontalPodAutoscalers {} all target {} {}: Kubernetes \
                 refuses them (AmbiguousSelector), so none of them scales it",
                many.iter()
                    .map(|h| h.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                w.kind,
                w.name
            )),
        }
    }
    for h in hpas {
        let bound = workloads.iter().any(|w| {
            h.target_name == w.name && h.target_kind == w.kind && h.namespace == w.namespace
        });
        if !bound {
            issues.warnings.push(format!(
                "{}: skipped: its target {} {} is not among the manifests",
                h.origin, h.target_kind, h.target_name
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
