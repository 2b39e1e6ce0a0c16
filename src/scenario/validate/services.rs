//! Services: the pod template (requests and limits with Kubernetes' defaulting, node selector,
//! node affinity, tolerations), startup, server and load balancer, and the check that an empty
//! node of some pool accepts the pod.

use crate::cluster::disruption::{DisruptionBudget, PodCount};
use crate::cluster::node::{Node, NodeId, PoolId};
use crate::cluster::pool::NodePool;
use crate::cluster::scheduler;
use crate::cluster::spec::{
    Labels, NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PreferredTerm,
    SelectorOperator, Toleration, TolerationOperator,
};
use crate::scenario::error::Error;
use crate::scenario::model::{Service, Startup};
use crate::scenario::schema::{
    AffinityFile, DisruptionBudgetFile, NamedMap, RequirementFile, ResourceRequirementsFile,
    Scalar, ServiceFile, TermFile, TolerationFile,
};
use crate::units::DurationDist;
use crate::units::{Bytes, Millicores, Resources, SimDuration, SimTime};
use crate::workload::spec::LoadBalancerPolicy;
use crate::workload::spec::ServerSpec;

use super::pools::{TAINT_EFFECTS, taint_effect};
use super::{Cx, MAX_REPLICAS};

const LOAD_BALANCERS: [&str; 3] = ["round-robin", "random", "least-requests"];
const SELECTOR_OPERATORS: [&str; 6] = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const TOLERATION_OPERATORS: [&str; 2] = ["Equal", "Exists"];

impl Cx<'_> {
    /// Validates the service `name`; `pools` are the validated node pools.
    pub(super) fn service(
        &self,
        name: &str,
        s: &ServiceFile,
        pools: &[NodePool],
    ) -> Result<Service, Error> {
        let path = format!("services.{name}");
        self.dns_label(&path, "service", name)?;
        let namespace = s.namespace.clone().unwrap_or_else(|| "default".to_string());
        self.dns_label(&format!("{path}.namespace"), "namespace", &namespace)?;
        let replicas = match &s.replicas {
            Some(r) => self.whole_u32(&format!("{path}.replicas"), r, "count", 0, MAX_REPLICAS)?,
            None => 1,
        };

        let mut pod = self.resources(&path, s.resources.as_ref())?;
        pod.affinity = self.affinity(&path, &s.node_selector, s.affinity.as_ref())?;
        pod.tolerations = s
            .tolerations
            .iter()
            .enumerate()
            .map(|(i, t)| self.toleration(&format!("{path}.tolerations[{i}]"), t))
            .collect::<Result<Vec<_>, _>>()?;
        self.fits_some_pool(&path, &pod, pools)?;

        let zero = || DurationDist::Constant(SimDuration::ZERO);
        let startup = match &s.startup {
            None => Startup {
                image_pull: zero(),
                ready: zero(),
            },
            Some(st) => Startup {
                image_pull: match &st.image_pull {
                    Some(d) => {
                        self.duration_dist(&format!("{path}.startup.image_pull"), d, false)?
                    }
                    None => zero(),
                },
                ready: match &st.ready {
                    Some(d) => self.duration_dist(&format!("{path}.startup.ready"), d, false)?,
                    None => zero(),
                },
            },
        };

        let server = self.server(&path, s)?;
        let load_balancer = match s.load_balancer.as_deref() {
            None | Some("random") => LoadBalancerPolicy::Random,
            Some("round-robin") => LoadBalancerPolicy::RoundRobin,
            Some("least-requests") => LoadBalancerPolicy::LeastRequests,
            Some(other) => {
                return Err(self.unknown(
                    &format!("{path}.load_balancer"),
                    "load balancer",
                    other,
                    &LOAD_BALANCERS,
                ));
            }
        };
        let load = s
            .load
            .as_ref()
            .map(|l| self.load(&format!("{path}.load"), l))
            .transpose()?;
        let slo_p99 = s
            .slo
            .as_ref()
            .map(|slo| self.positive_duration(&format!("{path}.slo.latency_p99"), &slo.latency_p99))
            .transpose()?;
        let disruption_budget = s
            .disruption_budget
            .as_ref()
            .map(|b| self.disruption_budget(&format!("{path}.disruption_budget"), b))
            .transpose()?;

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
            disruption_budget,
        })
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
    fn resources(
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
        let request_cpu = read_cpu("requests", requests.and_then(|r| r.cpu.as_ref()))?;
        let request_memory = read_memory("requests", requests.and_then(|r| r.memory.as_ref()))?;
        let limit_cpu = read_cpu("limits", limits.and_then(|r| r.cpu.as_ref()))?;
        let limit_memory = read_memory("limits", limits.and_then(|r| r.memory.as_ref()))?;

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
        Ok(PodSpec {
            requests: Resources {
                cpu: cpu.unwrap_or(Millicores::ZERO),
                memory: memory.unwrap_or(Bytes::ZERO),
            },
            limits: Resources {
                cpu: limit_cpu.unwrap_or(Millicores::ZERO),
                memory: limit_memory.unwrap_or(Bytes::ZERO),
            },
            has_cpu_request: cpu.is_some(),
            has_memory_request: memory.is_some(),
            ..PodSpec::default()
        })
    }

    /// `node_selector` and `affinity.nodeAffinity`.
    fn affinity(
        &self,
        path: &str,
        node_selector: &NamedMap<Scalar>,
        affinity: Option<&AffinityFile>,
    ) -> Result<NodeAffinity, Error> {
        let mut out = NodeAffinity::default();
        for (key, value) in &node_selector.0 {
            if key.is_empty() {
                return Err(self.invalid(
                    &format!("{path}.node_selector"),
                    "a label key is empty",
                    "expected non-empty label keys",
                ));
            }
            out.node_selector
                .insert(key.clone(), value.text().to_string());
        }
        let Some(na) = affinity.and_then(|a| a.node_affinity.as_ref()) else {
            return Ok(out);
        };
        let npath = format!("{path}.affinity.nodeAffinity");
        if let Some(required) = &na.required_during_scheduling_ignored_during_execution {
            let rpath =
                format!("{npath}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
            if required.node_selector_terms.is_empty() {
                return Err(self.invalid(
                    &rpath,
                    "no term is given",
                    "expected at least one term (terms are ORed)",
                ));
            }
            for (i, term) in required.node_selector_terms.iter().enumerate() {
                let tpath = format!("{rpath}[{i}]");
                if term.match_expressions.is_empty() {
                    return Err(self.invalid(
                        &format!("{tpath}.matchExpressions"),
                        "the term has no expression, so it matches no node",
                        "expected at least one expression",
                    ));
                }
                out.required.push(self.term(&tpath, term)?);
            }
        }
        for (i, preferred) in na
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .enumerate()
        {
            let ppath = format!("{npath}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            let weight = self.whole_u32(
                &format!("{ppath}.weight"),
                &preferred.weight,
                "weight",
                1,
                100,
            )?;
            let preference = self.term(&format!("{ppath}.preference"), &preferred.preference)?;
            out.preferred.push(PreferredTerm { weight, preference });
        }
        Ok(out)
    }

    /// A node selector term.
    fn term(&self, path: &str, t: &TermFile) -> Result<NodeSelectorTerm, Error> {
        let match_expressions = t
            .match_expressions
            .iter()
            .enumerate()
            .map(|(i, r)| self.requirement(&format!("{path}.matchExpressions[{i}]"), r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NodeSelectorTerm { match_expressions })
    }

    /// One `matchExpressions` entry, with the number of values its operator takes.
    fn requirement(
        &self,
        path: &str,
        r: &RequirementFile,
    ) -> Result<NodeSelectorRequirement, Error> {
        if r.key.is_empty() {
            return Err(self.invalid(
                &format!("{path}.key"),
                "the key is empty",
                "expected a label key",
            ));
        }
        let operator = match r.operator.as_str() {
            "In" => SelectorOperator::In,
            "NotIn" => SelectorOperator::NotIn,
            "Exists" => SelectorOperator::Exists,
            "DoesNotExist" => SelectorOperator::DoesNotExist,
            "Gt" => SelectorOperator::Gt,
            "Lt" => SelectorOperator::Lt,
            other => {
                return Err(self.unknown(
                    &format!("{path}.operator"),
                    "node selector operator",
                    other,
                    &SELECTOR_OPERATORS,
                ));
            }
        };
        let values: Vec<String> = r.values.iter().map(|v| v.text().to_string()).collect();
        let vpath = format!("{path}.values");
        let count = values.len();
        match operator {
            SelectorOperator::In | SelectorOperator::NotIn if count == 0 => {
                return Err(self.invalid(
                    &vpath,
                    format!("operator {} is given no value", r.operator),
                    "expected at least one value",
                ));
            }
            SelectorOperator::Exists | SelectorOperator::DoesNotExist if count > 0 => {
                return Err(self.invalid(
                    &vpath,
                    format!("operator {} is given {count} value(s)", r.operator),
                    "expected no values",
                ));
            }
            SelectorOperator::Gt | SelectorOperator::Lt => {
                if count != 1 {
                    return Err(self.invalid(
                        &vpath,
                        format!("operator {} is given {count} values", r.operator),
                        "expected exactly one integer value",
                    ));
                }
                if values[0].parse::<i64>().is_err() {
                    return Err(self.invalid(
                        &format!("{vpath}[0]"),
                        format!("\"{}\" is not an integer", values[0]),
                        format!(
                            "expected exactly one integer value for operator {}",
                            r.operator
                        ),
                    ));
                }
            }
            _ => {}
        }
        Ok(NodeSelectorRequirement {
            key: r.key.clone(),
            operator,
            values,
        })
    }

    /// A pod toleration.
    fn toleration(&self, path: &str, t: &TolerationFile) -> Result<Toleration, Error> {
        let operator = match t.operator.as_deref() {
            None | Some("Equal") => TolerationOperator::Equal,
            Some("Exists") => TolerationOperator::Exists,
            Some(other) => {
                return Err(self.unknown(
                    &format!("{path}.operator"),
                    "toleration operator",
                    other,
                    &TOLERATION_OPERATORS,
                ));
            }
        };
        let key = t.key.clone().unwrap_or_default();
        let value = t
            .value
            .as_ref()
            .map(|v| v.text().to_string())
            .unwrap_or_default();
        if operator == TolerationOperator::Exists && !value.is_empty() {
            return Err(self.invalid(
                &format!("{path}.value"),
                format!("\"{value}\" is given with operator Exists"),
                "expected no value with Exists (it matches any value), or operator Equal",
            ));
        }
        if key.is_empty() && operator != TolerationOperator::Exists {
            return Err(self.invalid(
                &format!("{path}.key"),
                "the key is empty with operator Equal",
                "expected a key, or operator Exists to tolerate every taint",
            ));
        }
        let effect = match t.effect.as_deref() {
            None | Some("") => None,
            Some(name) => Some(taint_effect(name).ok_or_else(|| {
                self.unknown(
                    &format!("{path}.effect"),
                    "taint effect",
                    name,
                    &TAINT_EFFECTS,
                )
            })?),
        };
        Ok(Toleration {
            key,
            operator,
            value,
            effect,
        })
    }

    /// Checks that an empty node of at least one pool accepts the pod.
    fn fits_some_pool(&self, path: &str, pod: &PodSpec, pools: &[NodePool]) -> Result<(), Error> {
        let mut rejections = Vec::with_capacity(pools.len());
        for (i, pool) in pools.iter().enumerate() {
            let id = PoolId(u16::try_from(i).unwrap_or(u16::MAX));
            let node = Node::from_pool(NodeId(0), id, pool, 0, SimTime::ZERO);
            let reasons = scheduler::filter(pod, &node);
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
            if pod.requests.cpu > free.cpu || pod.requests.memory > free.memory {
                texts.push(format!(
                    "allocatable cpu {}, memory {}",
                    show_cpu(free.cpu),
                    show_bytes(free.memory)
                ));
            }
            rejections.push((pool.name.clone(), texts));
        }
        Err(Error::Unschedulable {
            origin: self.origin.to_string(),
            path: path.to_string(),
            requests: format!(
                "cpu {}, memory {}",
                show_cpu(pod.requests.cpu),
                show_bytes(pod.requests.memory)
            ),
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
        let queue_limit = server
            .queue_limit
            .as_ref()
            .map(|q| self.whole_u32(&format!("{spath}.queue_limit"), q, "count", 0, u32::MAX))
            .transpose()?;
        let timeout = server
            .timeout
            .as_ref()
            .map(|t| self.positive_duration(&format!("{spath}.timeout"), t))
            .transpose()?;
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
            value
                .as_ref()
                .map(|m| self.memory(&format!("{spath}.{field}"), m))
                .transpose()
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
