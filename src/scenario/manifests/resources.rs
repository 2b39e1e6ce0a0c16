//! A pod's effective requests and limits as Kubernetes computes them: a container's limit
//! without a request sets the request (pod defaulting), then each LimitRange of the namespace
//! fills in `default` limits and `defaultRequest` requests (with the API server's defaulting of
//! the LimitRange itself), then the pod is the sum of its containers and restartable (sidecar)
//! init containers, or its largest init container when that is more.

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
/// named in `others`.
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

/// A pod's effective resources, or the API server's reason to reject the pod.
#[derive(Debug, Clone, Default)]
pub(super) struct PodResources {
    /// The effective requests and limits.
    pub(super) pod: Requirements,
    /// Whether some value came from a LimitRange (for the note on the imported value).
    pub(super) from_limit_range: Vec<String>,
    /// Resources other than cpu and memory (`nvidia.com/gpu`, `ephemeral-storage`).
    pub(super) others: Vec<String>,
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
            if field == "containers" {
                containers.main.push(req);
            } else if lookup(c, "restartPolicy").and_then(Value::as_str) == Some("Always") {
                containers.sidecars.push(req);
            } else {
                containers.init.push((req, containers.sidecars.len()));
            }
        }
    }
    out.pod = containers.combine();
    check_pod(&out.pod, ranges, base)?;
    Ok(out)
}

/// A pod's containers by role.
#[derive(Debug, Default)]
struct Containers {
    main: Vec<Requirements>,
    /// Restartable init containers, in order.
    sidecars: Vec<Requirements>,
    /// Regular init containers, each with the number of sidecars started before it.
    init: Vec<(Requirements, usize)>,
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
        let (set, total) = every.fold((0, 0), |(set, total), q| {
            (set + usize::from(pick(q).is_some()), total + 1)
        });
        if set == 0 || (need_all && set < total) {
            return None;
        }
        let sum = |items: &[Requirements]| items.iter().filter_map(&pick).sum::<u64>();
        let running = sum(&self.main) + sum(&self.sidecars);
        let init_max = self
            .init
            .iter()
            .map(|(q, before)| pick(q).unwrap_or(0) + sum(&self.sidecars[..*before]))
            .max()
            .unwrap_or(0);
        Some(running.max(init_max))
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
