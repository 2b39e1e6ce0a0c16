//! Services: the pod template (requests and limits with Kubernetes' defaulting; node selector,
//! node affinity and tolerations are read in `placement`), startup, server and load balancer,
//! and the check that an empty node of some pool accepts the pod.

use std::sync::Arc;

use crate::cluster::disruption::{DisruptionBudget, PodCount};
use crate::cluster::node::{Node, NodeId, PoolId};
use crate::cluster::pool::NodePool;
use crate::cluster::scheduler;
use crate::cluster::spec::{Labels, PodSpec};
use crate::scenario::error::Error;
use crate::scenario::model::{DEFAULT_TERMINATION_GRACE, Service, Startup};
use crate::scenario::schema::{
    DisruptionBudgetFile, DistOrScalar, NamedMap, ResourceRequirementsFile, ResourcesFile, Scalar,
    ServiceFile, StartupFile,
};
use crate::units::{
    Bytes, DurationDist, ExtendedResources, Millicores, Resources, SimDuration, SimTime,
};
use crate::workload::spec::ServerSpec;

use super::{Cx, MAX_REPLICAS, keep, none_of, optional};

impl Cx<'_> {
    /// Validates the service `name`; `pools` are the validated node pools.
    pub(super) fn service(
        &self,
        name: &str,
        s: &ServiceFile,
        pools: &[NodePool],
    ) -> Result<Service, Error> {
        let path = format!("services.{name}");
        let mut errors = Vec::new();
        keep(&mut errors, self.service_name(&path, name));
        let namespace = keep(&mut errors, self.namespace(&path, s.namespace.as_ref()));
        let replicas = optional(&path, "replicas", s.replicas.as_ref(), |p, r| {
            self.whole_u32(p, r, "count", 0, MAX_REPLICAS)
        });
        let replicas = keep(&mut errors, replicas).map(|r| r.unwrap_or(1));
        let (pod, server) = self.pod_and_server(&path, s, pools, &mut errors);
        let startup = self.startup(&format!("{path}.startup"), s.startup.as_ref());
        let startup = keep(&mut errors, startup);
        let load_balancer = keep(&mut errors, self.load_balancer(&path, s));
        let load = optional(&path, "load", s.load.as_ref(), |p, l| self.load(p, l));
        let load = keep(&mut errors, load);
        let (slo_p99, slo_max_failed) = self.slo(&path, s, &mut errors);
        let budget = s.disruption_budget.as_ref();
        let disruption_budget = optional(&path, "disruption_budget", budget, |p, b| {
            self.disruption_budget(p, b)
        });
        let disruption_budget = keep(&mut errors, disruption_budget);
        let grace = self.termination_grace(&path, s.termination_grace_period.as_ref());
        let termination_grace = keep(&mut errors, grace);
        let (labels, placement) = self.labels_and_rules(&path, name, s, &mut errors);
        none_of(errors)?;
        let (
            Some(namespace),
            Some(replicas),
            Some(pod),
            Some(startup),
            Some(server),
            Some(load_balancer),
            Some(load),
            Some(slo_p99),
            Some(slo_max_failed),
            Some(disruption_budget),
            Some(termination_grace),
            Some(labels),
            Some(placement),
        ) = (
            namespace,
            replicas,
            pod,
            startup,
            server,
            load_balancer,
            load,
            slo_p99,
            slo_max_failed,
            disruption_budget,
            termination_grace,
            labels,
            placement,
        )
        else {
            unreachable!("a service value is missing without an error");
        };
        let mut pod = pod;
        pod.placement = Arc::new(placement);
        Ok(Service {
            name: name.to_string(),
            namespace,
            replicas,
            pod,
            startup,
            server,
            load_balancer,
            load,
            slo_p99,
            slo_max_failed,
            disruption_budget,
            labels,
            termination_grace,
        })
    }

    /// A service's pod, which must fit some pool, and its server, whose base memory must fit
    /// the pod's limit; their problems go to `errors`.
    fn pod_and_server(
        &self,
        path: &str,
        s: &ServiceFile,
        pools: &[NodePool],
        errors: &mut Vec<Error>,
    ) -> (Option<PodSpec>, Option<ServerSpec>) {
        let template = pod_template_of!(s);
        let pod = keep(errors, self.pod_template(path, &template, pools));
        if let Some(pod) = &pod {
            keep(errors, self.fits_some_pool(path, pod, pools));
        }
        let server = keep(errors, self.server(path, s));
        if let (Some(pod), Some(server)) = (&pod, &server) {
            keep(errors, self.base_within_limit(path, pod, server));
        }
        (pod, server)
    }

    fn service_name(&self, path: &str, name: &str) -> Result<(), Error> {
        match name.split_once('/') {
            Some((namespace, workload)) => {
                self.dns_label(path, "namespace", namespace)?;
                self.dns_label(path, "service", workload)
            }
            None => self.dns_label(path, "service", name),
        }
    }

    /// `termination_grace_period` at `path`: `terminationGracePeriodSeconds` as a duration,
    /// Kubernetes' 30s when absent.
    pub(super) fn termination_grace(
        &self,
        path: &str,
        grace: Option<&Scalar>,
    ) -> Result<SimDuration, Error> {
        let field = format!("{path}.termination_grace_period");
        self.optional_duration(&field, grace, DEFAULT_TERMINATION_GRACE)
    }

    /// Pod labels: non-empty keys, values as written.
    pub(super) fn labels(&self, path: &str, labels: &NamedMap<Scalar>) -> Result<Labels, Error> {
        let mut out = Labels::new();
        for (key, value) in &labels.0 {
            if key.is_empty() {
                return Err(self.invalid(
                    path,
                    "a label key is empty",
                    "expected non-empty label keys",
                ));
            }
            out.insert(key.clone(), value.text().to_string());
        }
        Ok(out)
    }

    /// `startup`: the image pull and readiness delays, zero when not given.
    fn startup(&self, path: &str, startup: Option<&StartupFile>) -> Result<Startup, Error> {
        let image_pull = startup.and_then(|st| st.image_pull.as_ref());
        let ready = startup.and_then(|st| st.ready.as_ref());
        Ok(Startup {
            image_pull: self.delay(&format!("{path}.image_pull"), image_pull)?,
            ready: self.delay(&format!("{path}.ready"), ready)?,
        })
    }

    /// A delay at `path` (a duration or a distribution of them), zero when not given.
    pub(super) fn delay(
        &self,
        path: &str,
        d: Option<&DistOrScalar>,
    ) -> Result<DurationDist, Error> {
        match d {
            Some(d) => self.duration_dist(path, d, false),
            None => Ok(DurationDist::Constant(SimDuration::ZERO)),
        }
    }

    /// A PodDisruptionBudget: exactly one of `minAvailable` and `maxUnavailable`, each a whole
    /// number of pods or a percentage.
    fn disruption_budget(
        &self,
        path: &str,
        b: &DisruptionBudgetFile,
    ) -> Result<DisruptionBudget, Error> {
        match (&b.min_available, &b.max_unavailable) {
            (Some(min), None) => Ok(DisruptionBudget::MinAvailable(
                self.pod_count(&format!("{path}.minAvailable"), min)?,
            )),
            (None, Some(max)) => Ok(DisruptionBudget::MaxUnavailable(
                self.pod_count(&format!("{path}.maxUnavailable"), max)?,
            )),
            (Some(_), Some(_)) => Err(self.invalid(
                path,
                "both minAvailable and maxUnavailable are given",
                "expected exactly one of them, as in a PodDisruptionBudget",
            )),
            (None, None) => Err(self.invalid(
                path,
                "neither minAvailable nor maxUnavailable is given",
                "expected exactly one of them, as in a PodDisruptionBudget",
            )),
        }
    }

    /// `slo.max_failed`: a fraction from 0 to 1 (`0.001`) or a percentage from 0% to 100%
    /// (`0.1%`).
    pub(super) fn failed_fraction(&self, path: &str, s: &Scalar) -> Result<f64, Error> {
        let text = s.text();
        let (number, scale) = match text.strip_suffix('%') {
            Some(percent) => (percent.trim_end(), 100.0),
            None => (text, 1.0),
        };
        match number.parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=scale).contains(&v) => Ok(v / scale),
            _ => Err(self.invalid(
                path,
                format!("\"{text}\" is not a fraction of requests"),
                "expected a fraction from 0 to 1 such as 0.001, or a percentage from 0% to 100% such as \"0.1%\"",
            )),
        }
    }

    /// A whole number of pods or a percentage from 0% to 100% (`IntOrString`).
    fn pod_count(&self, path: &str, s: &Scalar) -> Result<PodCount, Error> {
        let text = s.text();
        match text.strip_suffix('%') {
            Some(percent) => match percent.parse::<u32>() {
                Ok(p) if p <= 100 => Ok(PodCount::Percent(p)),
                _ => Err(self.invalid(
                    path,
                    format!("\"{text}\" is not a valid percentage"),
                    "expected a whole number of pods such as 1, or a percentage from 0% to 100% such as \"50%\"",
                )),
            },
            None => Ok(PodCount::Count(self.whole_u32(
                path,
                s,
                "number of pods",
                0,
                u32::MAX,
            )?)),
        }
    }

    /// Requests and limits, with Kubernetes' defaulting: a limit without a request sets the
    /// request to the limit; a request above its limit is rejected.
    pub(super) fn resources(
        &self,
        path: &str,
        r: Option<&ResourceRequirementsFile>,
    ) -> Result<PodSpec, Error> {
        let rpath = format!("{path}.resources");
        let field = |side: &str, name: &str| format!("{rpath}.{side}.{name}");
        let requests = r.and_then(|r| r.requests.as_ref());
        let limits = r.and_then(|r| r.limits.as_ref());
        let read_cpu = |side: &str, s: Option<&Scalar>| -> Result<Option<Millicores>, Error> {
            s.map(|s| self.cpu(&field(side, "cpu"), s)).transpose()
        };
        let read_memory = |side: &str, s: Option<&Scalar>| -> Result<Option<Bytes>, Error> {
            s.map(|s| self.memory(&field(side, "memory"), s))
                .transpose()
        };
        let mut errors = Vec::new();
        let request_cpu = read_cpu("requests", requests.and_then(|r| r.cpu.as_ref()));
        let request_cpu = keep(&mut errors, request_cpu);
        let request_memory = read_memory("requests", requests.and_then(|r| r.memory.as_ref()));
        let request_memory = keep(&mut errors, request_memory);
        let limit_cpu = keep(
            &mut errors,
            read_cpu("limits", limits.and_then(|r| r.cpu.as_ref())),
        );
        let limit_memory = read_memory("limits", limits.and_then(|r| r.memory.as_ref()));
        let limit_memory = keep(&mut errors, limit_memory);
        none_of(errors)?;
        let (Some(request_cpu), Some(request_memory), Some(limit_cpu), Some(limit_memory)) =
            (request_cpu, request_memory, limit_cpu, limit_memory)
        else {
            unreachable!("a resource is missing without an error");
        };

        if let (Some(req), Some(lim)) = (request_cpu, limit_cpu)
            && req > lim
        {
            return Err(self.invalid(
                &field("requests", "cpu"),
                format!("{req} is above the cpu limit {lim}"),
                "expected requests.cpu <= limits.cpu (Kubernetes rejects the pod otherwise)",
            ));
        }
        if let (Some(req), Some(lim)) = (request_memory, limit_memory)
            && req > lim
        {
            return Err(self.invalid(
                &field("requests", "memory"),
                format!(
                    "{} is above the memory limit {}",
                    show_bytes(req),
                    show_bytes(lim)
                ),
                "expected requests.memory <= limits.memory (Kubernetes rejects the pod otherwise)",
            ));
        }
        let cpu = request_cpu.or(limit_cpu);
        let memory = request_memory.or(limit_memory);
        let extended = self.extended_requests(&rpath, requests, limits)?;
        Ok(PodSpec {
            requests: Resources {
                cpu: cpu.unwrap_or(Millicores::ZERO),
                memory: memory.unwrap_or(Bytes::ZERO),
                extended,
            },
            limits: Resources {
                cpu: limit_cpu.unwrap_or(Millicores::ZERO),
                memory: limit_memory.unwrap_or(Bytes::ZERO),
                extended,
            },
            has_cpu_request: cpu.is_some(),
            has_memory_request: memory.is_some(),
            extended_names: self.extended_names(),
            ..PodSpec::default()
        })
    }

    /// The extended resources of `requests` and `limits` at `rpath`, with Kubernetes' rules for
    /// resources that cannot be overcommitted: each must have a limit, a request given too must
    /// equal it, and the limit alone sets the request.
    fn extended_requests(
        &self,
        rpath: &str,
        requests: Option<&ResourcesFile>,
        limits: Option<&ResourcesFile>,
    ) -> Result<ExtendedResources, Error> {
        let none: &[(String, Scalar)] = &[];
        let requested = requests.map_or(none, |r| r.extended.as_slice());
        let limited = limits.map_or(none, |r| r.extended.as_slice());
        let request = self.extended_amounts(&format!("{rpath}.requests"), requested)?;
        let limit = self.extended_amounts(&format!("{rpath}.limits"), limited)?;
        for (name, _) in requested {
            let i = self.extended_index(rpath, name)?;
            let field = format!("{rpath}.requests.{name}");
            if !limited.iter().any(|(n, _)| n == name) {
                return Err(self.invalid(
                    &field,
                    format!("{name} is requested without a limit"),
                    format!(
                        "expected limits.{name} too, equal to the request (Kubernetes requires a \
                         limit for extended resources, which cannot be overcommitted)"
                    ),
                ));
            }
            if request.0[i] != limit.0[i] {
                return Err(self.invalid(
                    &field,
                    format!(
                        "{} differs from the {name} limit {}",
                        request.0[i], limit.0[i]
                    ),
                    format!(
                        "expected requests.{name} == limits.{name} (Kubernetes rejects the pod \
                         otherwise: extended resources cannot be overcommitted)"
                    ),
                ));
            }
        }
        Ok(limit)
    }

    /// Checks that a pod's containers can start: the memory they use with no request in
    /// flight is within the memory limit, when there is one.
    fn base_within_limit(
        &self,
        path: &str,
        pod: &PodSpec,
        server: &ServerSpec,
    ) -> Result<(), Error> {
        let limit = pod.limits.memory;
        if limit > Bytes::ZERO && server.memory_base > limit {
            return Err(self.invalid(
                &format!("{path}.server.memory_base"),
                format!(
                    "{} is above the memory limit {}: the container would be OOM-killed as it starts",
                    show_bytes(server.memory_base),
                    show_bytes(limit)
                ),
                "expected memory_base <= resources.limits.memory",
            ));
        }
        Ok(())
    }

    /// Checks that an empty node of at least one pool accepts the pod; not when some pool was
    /// bad, as what a bad pool would offer is unknown.
    pub(super) fn fits_some_pool(
        &self,
        path: &str,
        pod: &PodSpec,
        pools: &[NodePool],
    ) -> Result<(), Error> {
        if self.pools_incomplete.get() {
            return Ok(());
        }
        let mut rejections = Vec::with_capacity(pools.len());
        for (i, pool) in pools.iter().enumerate() {
            let reasons = scheduler::filter(pod, &empty_node(i, pool));
            if reasons.is_empty() {
                return Ok(());
            }
            // Unlike pod status, a scenario error names the taint: the user has to add its
            // toleration.
            let mut texts: Vec<String> = reasons
                .iter()
                .map(|r| match r {
                    scheduler::Reason::UntoleratedTaint { key, value } => {
                        format!("node(s) had untolerated taint {{{key}: {value}}}")
                    }
                    other => other.to_string(),
                })
                .collect();
            if reasons.contains(&scheduler::Reason::NodeAffinityMismatch) {
                texts.push(format!("node labels {}", show_labels(&pool.labels)));
            }
            let free = &pool.allocatable;
            if !pod.requests.fits_within(free) {
                texts.push(format!("allocatable {}", show_resources(free, pod)));
            }
            rejections.push((pool.name.clone(), texts));
        }
        Err(Error::Unschedulable {
            origin: self.origin.to_string(),
            path: path.to_string(),
            requests: show_resources(&pod.requests, pod),
            pools: rejections,
        })
    }

    /// A service's `server`.
    fn server(&self, path: &str, s: &ServiceFile) -> Result<ServerSpec, Error> {
        let spath = format!("{path}.server");
        let Some(server) = &s.server else {
            return Ok(ServerSpec {
                concurrency: 1,
                queue_limit: None,
                timeout: None,
                cpu_per_worker: Millicores::from_cores(1),
                memory_base: Bytes::ZERO,
                memory_per_request: Bytes::ZERO,
            });
        };
        let concurrency = match &server.concurrency {
            Some(c) => self.whole_u32(&format!("{spath}.concurrency"), c, "count", 1, u32::MAX)?,
            None => 1,
        };
        let queue_limit = optional(
            &spath,
            "queue_limit",
            server.queue_limit.as_ref(),
            |p, q| self.whole_u32(p, q, "count", 0, u32::MAX),
        )?;
        let timeout = optional(&spath, "timeout", server.timeout.as_ref(), |p, t| {
            self.positive_duration(p, t)
        })?;
        let cpu_per_worker = match &server.cpu_per_worker {
            Some(c) => {
                let p = format!("{spath}.cpu_per_worker");
                let cpu = self.cpu(&p, c)?;
                if cpu.0 == 0 {
                    return Err(self.invalid(
                        &p,
                        format!("\"{}\" is zero", c.text()),
                        "expected the cpu one busy worker uses, > 0, such as \"1\" or \"500m\"",
                    ));
                }
                cpu
            }
            None => Millicores::from_cores(1),
        };
        let memory = |field: &str, value: &Option<Scalar>| {
            optional(&spath, field, value.as_ref(), |p, m| self.memory(p, m))
                .map(Option::unwrap_or_default)
        };
        Ok(ServerSpec {
            concurrency,
            queue_limit,
            timeout,
            cpu_per_worker,
            memory_base: memory("memory_base", &server.memory_base)?,
            memory_per_request: memory("memory_per_request", &server.memory_per_request)?,
        })
    }
}

/// CPU in Kubernetes notation: whole cores as `2`, otherwise millicores as `2500m`.
pub(super) fn show_cpu(cpu: Millicores) -> String {
    if cpu.0.is_multiple_of(1_000) {
        (cpu.0 / 1_000).to_string()
    } else {
        format!("{}m", cpu.0)
    }
}

/// Memory in Kubernetes notation: the largest binary suffix that divides it exactly, else an
/// approximate number of GiB.
pub(super) fn show_bytes(memory: Bytes) -> String {
    const SUFFIXES: [(&str, u32); 5] = [("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)];
    if memory.0 == 0 {
        return "0".to_string();
    }
    for (suffix, shift) in SUFFIXES {
        if memory.0.is_multiple_of(1u64 << shift) {
            return format!("{}{suffix}", memory.0 >> shift);
        }
    }
    if memory.0 < Bytes::MIB {
        memory.0.to_string()
    } else if memory.0 < Bytes::GIB {
        format!("~{:.1}Mi", memory.0 as f64 / Bytes::MIB as f64)
    } else {
        format!("~{:.2}Gi", memory.as_gib_f64())
    }
}

/// Labels as `{a: b, c: d}`, for messages.
pub(super) fn show_labels(labels: &Labels) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Whether an empty node of at least one of `pools` accepts `pod`.
pub(super) fn fits_any_pool(pod: &PodSpec, pools: &[NodePool]) -> bool {
    !fitting_pools(pod, pools).is_empty()
}

/// The pools an empty node of which accepts `pod`, in file order.
pub(super) fn fitting_pools<'p>(pod: &PodSpec, pools: &'p [NodePool]) -> Vec<&'p NodePool> {
    let fits = |(i, pool)| scheduler::filter(pod, &empty_node(i, pool)).is_empty();
    pools
        .iter()
        .enumerate()
        .filter(|&p| fits(p))
        .map(|(_, p)| p)
        .collect()
}

/// A new node of the `i`-th pool, with nothing on it.
fn empty_node(i: usize, pool: &NodePool) -> Node {
    let id = PoolId(u16::try_from(i).unwrap_or(u16::MAX));
    Node::from_pool(NodeId(0), id, pool, 0, SimTime::ZERO)
}

/// `cpu 1, memory 2Gi`, then each extended resource `pod` names with its amount in `r`.
pub(super) fn show_resources(r: &Resources, pod: &PodSpec) -> String {
    let mut text = format!("cpu {}, memory {}", show_cpu(r.cpu), show_bytes(r.memory));
    for (i, name) in pod.extended_names.iter().enumerate() {
        if pod.requests.extended.0[i] > 0 {
            text.push_str(&format!(", {name} {}", r.extended.0[i]));
        }
    }
    text
}
