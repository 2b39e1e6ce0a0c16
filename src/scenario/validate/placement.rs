//! Pod templates, as services, DaemonSets and Jobs share them: requests and limits (read in
//! `services`), and where the pods may go: `node_selector`, `affinity.nodeAffinity` (required
//! terms and weighted preferences, with Kubernetes' rules for each operator's values) and
//! tolerations of node taints.

use crate::cluster::pool::NodePool;
use crate::cluster::spec::{
    NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PreferredTerm,
    SelectorOperator, TaintEffect, Toleration, TolerationOperator,
};
use crate::scenario::admission::add_extended_resource_tolerations;
use crate::scenario::error::Error;
use crate::scenario::model::{Autoscaling, Service};
use crate::scenario::schema::{
    AffinityFile, NamedMap, RequirementFile, ResourceRequirementsFile, Scalar, TermFile,
    TolerationFile,
};

use super::pools::TAINT_EFFECTS;
use super::services::fitting_pools;
use super::{Cx, each, optional};

const SELECTOR_OPERATORS: [(&str, SelectorOperator); 6] =
    variant_names!(SelectorOperator: In, NotIn, Exists, DoesNotExist, Gt, Lt);
const TOLERATION_OPERATORS: [(&str, TolerationOperator); 2] =
    variant_names!(TolerationOperator: Equal, Exists);

impl Cx<'_> {
    /// Warns of each service with pods whose pod fits only pools that never have a node: no
    /// node at the start (`initial_size: 0`) and none to come (no autoscaling, or the Cluster
    /// Autoscaler disabled). Its pods would stay Pending all run long, as the run then says.
    pub(super) fn warn_of_pools_never_up(
        &self,
        services: &[Service],
        pools: &[NodePool],
        autoscaling: &Autoscaling,
    ) {
        if self.pools_incomplete.get() {
            return;
        }
        let autoscaled = autoscaling.cluster_autoscaler.is_some();
        let ever_up = |p: &NodePool| {
            p.initial_size > 0 || (autoscaled && p.autoscaling.is_some() && p.max_nodes > 0)
        };
        for (i, service) in services.iter().enumerate() {
            let has_pods = service.replicas > 0 || autoscaling.hpa.iter().any(|h| h.service == i);
            let fitting = fitting_pools(&service.pod, pools);
            if !has_pods || fitting.is_empty() || fitting.iter().any(|p| ever_up(p)) {
                continue;
            }
            let names: Vec<&str> = fitting.iter().map(|p| p.name.as_str()).collect();
            let why = if fitting.iter().any(|p| p.autoscaling.is_some()) {
                "the Cluster Autoscaler is disabled"
            } else {
                "the pool does not autoscale"
            };
            let (pool, has) = if names.len() == 1 {
                ("pool", "has")
            } else {
                ("pools", "have")
            };
            self.warn(format!(
                "{}: services.{}: its pods fit only node {pool} {}, which never {has} a node \
                 (initial_size 0, and {why}); they will stay Pending",
                self.origin,
                service.name,
                names.join(", "),
            ));
        }
    }
}

/// The keys of a pod template that every workload (service, DaemonSet, Job) writes alike.
pub(super) struct PodTemplateFile<'a> {
    /// `resources`: requests and limits.
    pub(super) resources: Option<&'a ResourceRequirementsFile>,
    /// `node_selector`.
    pub(super) node_selector: &'a NamedMap<Scalar>,
    /// `affinity`.
    pub(super) affinity: Option<&'a AffinityFile>,
    /// `tolerations`.
    pub(super) tolerations: &'a [TolerationFile],
}

impl Cx<'_> {
    /// The pod template of the workload at `path`: its requests and limits, node selector and
    /// affinity, and tolerations, with those GKE's ExtendedResourceToleration admission adds
    /// when `pools` include tainted GPU pools. Whether some pool fits it is the caller's check.
    pub(super) fn pod_template(
        &self,
        path: &str,
        t: &PodTemplateFile<'_>,
        pools: &[NodePool],
    ) -> Result<PodSpec, Error> {
        let mut pod = self.resources(path, t.resources)?;
        pod.affinity = self.affinity(path, t.node_selector, t.affinity)?;
        pod.tolerations = each(&format!("{path}.tolerations"), t.tolerations, |p, t| {
            self.toleration(p, t)
        })?;
        add_extended_resource_tolerations(&mut pod, pools);
        Ok(pod)
    }

    /// A workload's namespace: `default` when not given, else a Kubernetes name.
    pub(super) fn namespace(
        &self,
        path: &str,
        namespace: Option<&String>,
    ) -> Result<String, Error> {
        let namespace = namespace.map_or("default", String::as_str);
        self.dns_label(&format!("{path}.namespace"), "namespace", namespace)?;
        Ok(namespace.to_string())
    }

    /// `node_selector` and `affinity.nodeAffinity`.
    pub(super) fn affinity(
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
        let match_expressions = each(
            &format!("{path}.matchExpressions"),
            &t.match_expressions,
            |p, r| self.requirement(p, r),
        )?;
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
        let operator = self.one_of(
            &format!("{path}.operator"),
            "node selector operator",
            &r.operator,
            &SELECTOR_OPERATORS,
        )?;
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
    pub(super) fn toleration(&self, path: &str, t: &TolerationFile) -> Result<Toleration, Error> {
        let operator = optional(path, "operator", t.operator.as_deref(), |p, name| {
            self.one_of(p, "toleration operator", name, &TOLERATION_OPERATORS)
        })?
        .unwrap_or(TolerationOperator::Equal);
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
            Some(name) => Some(self.one_of(
                &format!("{path}.effect"),
                "taint effect",
                name,
                &TAINT_EFFECTS,
            )?),
        };
        let toleration_seconds = match &t.toleration_seconds {
            None => None,
            Some(_) if effect != Some(TaintEffect::NoExecute) => {
                return Err(self.invalid(
                    &format!("{path}.tolerationSeconds"),
                    "tolerationSeconds is given without effect NoExecute",
                    "expected effect: NoExecute with it, as Kubernetes validation requires",
                ));
            }
            Some(s) => Some(self.whole(
                &format!("{path}.tolerationSeconds"),
                s,
                "number of seconds",
                0,
                u64::from(u32::MAX),
            )?),
        };
        Ok(Toleration {
            key,
            operator,
            value,
            effect,
            toleration_seconds,
        })
    }
}
