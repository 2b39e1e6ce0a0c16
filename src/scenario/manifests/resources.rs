//! A pod's effective requests and limits as Kubernetes computes them: a container's limit
//! without a request sets the request (pod defaulting), then each LimitRange of the namespace
//! fills in `default` limits and `defaultRequest` requests (with the API server's defaulting of
//! the LimitRange itself), then the pod is the sum of its containers and restartable (sidecar)
//! init containers, or its largest init container when that is more. Extended resources
//! (`nvidia.com/gpu`) follow the same sum and init-container rule, after the API server's own
//! rules for them: whole numbers, a limit required, and a request equal to it.

use serde_yaml::Value;

use crate::scenario::quantity;

use super::Issues;
use super::objects::{Object, join, list, lookup, scalar_text, show};

/// CPU (millicores) and memory (bytes), each possibly unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Amounts {
    /// Millicores.
    pub(super) cpu_m: Option<u64>,
    /// Bytes.
    pub(super) memory_bytes: Option<u64>,
}

impl Amounts {
    fn get(&self, r: Resource) -> Option<u64> {
        match r {
            Resource::Cpu => self.cpu_m,
            Resource::Memory => self.memory_bytes,
        }
    }

    fn set(&mut self, r: Resource, v: Option<u64>) {
        match r {
            Resource::Cpu => self.cpu_m = v,
            Resource::Memory => self.memory_bytes = v,
        }
    }
}

/// The two resources capsim models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Cpu,
    Memory,
}

const RESOURCES: [Resource; 2] = [Resource::Cpu, Resource::Memory];

impl Resource {
    fn name(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }
}

/// Requests and limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Requirements {
    /// `requests`.
    pub(super) requests: Amounts,
    /// `limits`.
    pub(super) limits: Amounts,
}

/// One LimitRange's `Container` and `Pod` items, after the API server's defaulting.
#[derive(Debug, Clone, Default)]
pub(super) struct LimitRange {
    /// `metadata.name`.
    pub(super) name: String,
    default_limit: Amounts,
    default_request: Amounts,
    container_max: Amounts,
    container_min: Amounts,
    pod_max: Amounts,
    pod_min: Amounts,
}

/// Reads a `v1` LimitRange.
pub(super) fn limit_range(object: &Object, issues: &mut Issues) -> LimitRange {
    let mut out = LimitRange {
        name: object.name.clone(),
        ..LimitRange::default()
    };
    let limits = list(object, &object.value, "", "spec.limits", issues);
    for (i, item) in limits.iter().enumerate() {
        let base = format!("spec.limits[{i}]");
        let kind = lookup(item, "type").and_then(Value::as_str).unwrap_or("");
        let read = |field: &str, issues: &mut Issues| amounts(object, item, &base, field, issues);
        match kind {
            "Container" => {
                let max = read("max", issues);
                let min = read("min", issues);
                let mut default = read("default", issues);
                let mut request = read("defaultRequest", issues);
                for r in RESOURCES {
                    // SetDefaults_LimitRangeItem: default <- max; defaultRequest <- default,
                    // then <- min.
                    if default.get(r).is_none() {
                        default.set(r, max.get(r));
                    }
                    if request.get(r).is_none() {
                        request.set(r, default.get(r).or(min.get(r)));
                    }
                }
                out.default_limit = default;
                out.default_request = request;
                out.container_max = max;
                out.container_min = min;
            }
            "Pod" => {
                out.pod_max = read("max", issues);
                out.pod_min = read("min", issues);
            }
            _ => {}
        }
    }
    out
}

/// The `cpu` and `memory` of the resource list at `field` of `value`; other resources are
/// named in `others`, except extended resources (read by `extended_amounts`).
fn amounts_with_others(
    object: &Object,
    value: &Value,
    base: &str,
    field: &str,
    issues: &mut Issues,
    others: &mut Vec<String>,
) -> Amounts {
    let mut out = Amounts::default();
    let Some(map) = lookup(value, field).and_then(Value::as_mapping) else {
        return out;
    };
    let path = join(base, field);
    for (key, v) in map {
        let Some(key) = key.as_str() else { continue };
        let text = scalar_text(v).unwrap_or_else(|| show(v));
        let at = format!("{path}.{key}");
        match key {
            "cpu" => match quantity::cpu_rounded_up(&text) {
                Ok(m) => out.cpu_m = Some(m.0),
                Err(p) => issues.errors.push(object.at(&at, &p.to_string())),
            },
            "memory" => match quantity::memory(&text) {
                Ok(b) => out.memory_bytes = Some(b.0),
                Err(p) => issues.errors.push(object.at(&at, &p.to_string())),
            },
            other if quantity::is_extended_resource(other) => {}
            other => {
                if !others.iter().any(|o| o == other) {
                    others.push(other.to_string());
                }
            }
        }
    }
    out
}

fn amounts(
    object: &Object,
    value: &Value,
    base: &str,
    field: &str,
    issues: &mut Issues,
) -> Amounts {
    amounts_with_others(object, value, base, field, issues, &mut Vec::new())
}

/// Extended resources of one container's requests or limits: `(name, whole units)`.
type Extended = Vec<(String, u64)>;

/// The extended resources of the resource list at `field` of `value`, each a whole number
/// (an error otherwise, as the API server gives).
fn extended_amounts(
    object: &Object,
    value: &Value,
    base: &str,
    field: &str,
    issues: &mut Issues,
) -> Extended {
    let Some(map) = lookup(value, field).and_then(Value::as_mapping) else {
        return Vec::new();
    };
    let path = join(base, field);
    let mut out = Vec::new();
    for (key, v) in map {
        let Some(key) = key.as_str().filter(|k| quantity::is_extended_resource(k)) else {
            continue;
        };
        let text = scalar_text(v).unwrap_or_else(|| show(v));
        match quantity::extended_amount(&text) {
            Ok(n) => out.push((key.to_string(), n)),
            Err(p) => issues
                .errors
                .push(object.at(&format!("{path}.{key}"), &p.to_string())),
        }
    }
    out
}

/// The API server's rule for extended resources, which cannot be overcommitted: each has a
/// limit and a request, when given, equal to it. Returns the container's amounts (its limits).
fn container_extended(
    requests: &Extended,
    limits: &Extended,
    path: &str,
) -> Result<Extended, String> {
    for (name, request) in requests {
        let at = format!("{path}.resources.requests.{name}");
        match limits.iter().find(|(n, _)| n == name) {
            None => {
                return Err(format!(
                    "{at}: Limit must be set for non overcommitable resources"
                ));
            }
            Some((_, limit)) if limit != request => {
                return Err(format!(
                    "{at}: {request} must be equal to {name} limit of {limit}"
                ));
            }
            Some(_) => {}
        }
    }
    Ok(limits.clone())
}

/// A pod's effective resources, or the API server's reason to reject the pod.
#[derive(Debug, Clone, Default)]
pub(super) struct PodResources {
    /// The effective requests and limits.
    pub(super) pod: Requirements,
    /// Whether some value came from a LimitRange (for the note on the imported value).
    pub(super) from_limit_range: Vec<String>,
    /// Resources other than cpu, memory and extended resources (`ephemeral-storage`).
    pub(super) others: Vec<String>,
    /// The pod's extended resources (`nvidia.com/gpu`) with their effective amounts, requests
    /// and limits alike, in the order the containers name them.
    pub(super) extended: Extended,
}

/// The effective resources of the pod spec at `base` of `object`, with `ranges` (the
/// namespace's LimitRanges); `Err` holds why the API server would reject the pod.
pub(super) fn pod_resources(
    object: &Object,
    base: &str,
    ranges: &[&LimitRange],
    issues: &mut Issues,
) -> Result<PodResources, String> {
    let spec = lookup(&object.value, base).cloned().unwrap_or(Value::Null);
    let mut out = PodResources::default();
    let mut containers = Containers::default();
    for field in ["containers", "initContainers"] {
        for (i, c) in list(object, &spec, base, field, issues).iter().enumerate() {
            let cbase = format!("{base}.{field}[{i}]");
            let mut read = |side: &str, issues: &mut Issues| {
                amounts_with_others(object, c, &cbase, side, issues, &mut out.others)
            };
            let mut req = Requirements {
                requests: read("resources.requests", issues),
                limits: read("resources.limits", issues),
            };
            container_defaults(&mut req, ranges, &mut out.from_limit_range);
            check_container(&req, ranges, &cbase)?;
            let ext_requests = extended_amounts(object, c, &cbase, "resources.requests", issues);
            let ext_limits = extended_amounts(object, c, &cbase, "resources.limits", issues);
            let ext = container_extended(&ext_requests, &ext_limits, &cbase)?;
            if field == "containers" {
                containers.main.push((req, ext));
            } else if lookup(c, "restartPolicy").and_then(Value::as_str) == Some("Always") {
                containers.sidecars.push((req, ext));
            } else {
                containers
                    .init
                    .push(((req, ext), containers.sidecars.len()));
            }
        }
    }
    out.pod = containers.combine();
    out.extended = containers.combine_extended();
    check_pod(&out.pod, ranges, base)?;
    Ok(out)
}

/// A container's requirements and extended resources.
type Container = (Requirements, Extended);

/// A pod's containers by role.
#[derive(Debug, Default)]
struct Containers {
    main: Vec<Container>,
    /// Restartable init containers, in order.
    sidecars: Vec<Container>,
    /// Regular init containers, each with the number of sidecars started before it.
    init: Vec<(Container, usize)>,
}

impl Containers {
    /// The pod's effective requirements. Requests: the containers and sidecars summed, or the
    /// largest regular init container plus the sidecars started before it, whichever is more.
    /// Limits likewise, but only when every container sets one (else the pod has no such
    /// limit).
    fn combine(&self) -> Requirements {
        let mut out = Requirements::default();
        for r in RESOURCES {
            out.requests
                .set(r, self.effective(|q| q.requests.get(r), false));
            out.limits.set(r, self.effective(|q| q.limits.get(r), true));
        }
        out
    }

    fn effective(
        &self,
        pick: impl Fn(&Requirements) -> Option<u64>,
        need_all: bool,
    ) -> Option<u64> {
        let every = self
            .main
            .iter()
            .chain(&self.sidecars)
            .chain(self.init.iter().map(|(q, _)| q));
        let (set, total) = every.fold((0, 0), |(set, total), (q, _)| {
            (set + usize::from(pick(q).is_some()), total + 1)
        });
        if set == 0 || (need_all && set < total) {
            return None;
        }
        Some(self.running_or_init_max(|(q, _)| pick(q)))
    }

    /// The pod's extended resources: for each name any container gives, the same rule as
    /// requests (containers and sidecars summed, or the largest init container plus the
    /// sidecars before it, whichever is more).
    fn combine_extended(&self) -> Extended {
        let mut names: Vec<&str> = Vec::new();
        let every = self
            .main
            .iter()
            .chain(&self.sidecars)
            .chain(self.init.iter().map(|(q, _)| q));
        for (_, ext) in every {
            for (name, _) in ext {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
            .into_iter()
            .map(|name| {
                let amount = self.running_or_init_max(|(_, ext)| {
                    ext.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
                });
                (name.to_string(), amount)
            })
            .collect()
    }

    /// `max(Σ main + Σ sidecars, max over init containers of (init + sidecars before it))`
    /// of the amount `pick` reads (unset counts as 0).
    fn running_or_init_max(&self, pick: impl Fn(&Container) -> Option<u64>) -> u64 {
        let sum = |items: &[Container]| items.iter().filter_map(&pick).sum::<u64>();
        let running = sum(&self.main) + sum(&self.sidecars);
        let init_max = self
            .init
            .iter()
            .map(|(q, before)| pick(q).unwrap_or(0) + sum(&self.sidecars[..*before]))
            .max()
            .unwrap_or(0);
        running.max(init_max)
    }
}

/// Pod defaulting (request <- limit), then each LimitRange's defaults for what is still unset.
fn container_defaults(req: &mut Requirements, ranges: &[&LimitRange], noted: &mut Vec<String>) {
    for r in RESOURCES {
        if req.requests.get(r).is_none() {
            req.requests.set(r, req.limits.get(r));
        }
        for range in ranges {
            if req.limits.get(r).is_none() && range.default_limit.get(r).is_some() {
                req.limits.set(r, range.default_limit.get(r));
                note(noted, &range.name);
            }
            if req.requests.get(r).is_none() && range.default_request.get(r).is_some() {
                req.requests.set(r, range.default_request.get(r));
                note(noted, &range.name);
            }
        }
    }
}

fn note(noted: &mut Vec<String>, name: &str) {
    if !noted.iter().any(|n| n == name) {
        noted.push(name.to_string());
    }
}

/// The API server's container rules: request <= limit, and each LimitRange's min and max.
fn check_container(req: &Requirements, ranges: &[&LimitRange], path: &str) -> Result<(), String> {
    for r in RESOURCES {
        let name = r.name();
        let (request, limit) = (req.requests.get(r), req.limits.get(r));
        if let (Some(q), Some(l)) = (request, limit)
            && q > l
        {
            return Err(format!(
                "{path}.resources.requests.{name}: {} must be less than or equal to {name} \
                 limit of {}",
                show_amount(r, q),
                show_amount(r, l)
            ));
        }
        for range in ranges {
            if let Some(max) = range.container_max.get(r)
                && limit.is_none_or(|l| l > max)
            {
                return Err(format!(
                    "{path}: LimitRange {}: maximum {name} usage per Container is {}, but limit \
                     is {}",
                    range.name,
                    show_amount(r, max),
                    limit.map_or_else(|| "unbounded".to_string(), |l| show_amount(r, l))
                ));
            }
            if let Some(min) = range.container_min.get(r)
                && request.is_none_or(|q| q < min)
            {
                return Err(format!(
                    "{path}: LimitRange {}: minimum {name} usage per Container is {}, but \
                     request is {}",
                    range.name,
                    show_amount(r, min),
                    show_amount(r, request.unwrap_or(0))
                ));
            }
        }
    }
    Ok(())
}

/// The LimitRanges' `Pod` items: the pod's limits within max, its requests above min.
fn check_pod(pod: &Requirements, ranges: &[&LimitRange], path: &str) -> Result<(), String> {
    for r in RESOURCES {
        let name = r.name();
        for range in ranges {
            if let Some(max) = range.pod_max.get(r)
                && pod.limits.get(r).is_none_or(|l| l > max)
            {
                return Err(format!(
                    "{path}: LimitRange {}: maximum {name} usage per Pod is {}",
                    range.name,
                    show_amount(r, max)
                ));
            }
            if let Some(min) = range.pod_min.get(r)
                && pod.requests.get(r).is_none_or(|q| q < min)
            {
                return Err(format!(
                    "{path}: LimitRange {}: minimum {name} usage per Pod is {}",
                    range.name,
                    show_amount(r, min)
                ));
            }
        }
    }
    Ok(())
}

/// A quantity in Kubernetes notation, exact: whole cores or millicores; memory with the largest
/// binary suffix that divides it, else bytes.
pub(super) fn show_cpu(milli: u64) -> String {
    if milli.is_multiple_of(1000) {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// Memory in Kubernetes notation, exact.
pub(super) fn show_memory(bytes: u64) -> String {
    for (suffix, shift) in [("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)] {
        if bytes > 0 && bytes.is_multiple_of(1u64 << shift) {
            return format!("{}{suffix}", bytes >> shift);
        }
    }
    bytes.to_string()
}

fn show_amount(r: Resource, v: u64) -> String {
    match r {
        Resource::Cpu => show_cpu(v),
        Resource::Memory => show_memory(v),
    }
}
