//! A service's rules about other pods: `topologySpreadConstraints` and
//! `affinity.podAffinity` / `affinity.podAntiAffinity`, checked as the API server's validation
//! does (label selectors, topology keys, `maxSkew`, `minDomains`, weights), into the
//! `PodPlacement` its pod spec carries with the pods' labels and namespace.

use crate::cluster::placement::{
    InclusionPolicy, LabelSelector, LabelSelectorOperator, LabelSelectorRequirement,
    PodAffinityTerm, PodPlacement, TopologySpreadConstraint, WeightedPodAffinityTerm,
    WhenUnsatisfiable,
};
use crate::cluster::spec::Labels;
use crate::scenario::error::Error;
use crate::scenario::schema::{
    AffinityFile, LabelSelectorFile, PodAffinityFile, PodAffinityTermFile, RequirementFile,
    SpreadConstraintFile,
};

use super::{Cx, each, keep, none_of, optional};

const LABEL_OPERATORS: [(&str, LabelSelectorOperator); 4] =
    variant_names!(LabelSelectorOperator: In, NotIn, Exists, DoesNotExist);
const WHEN_UNSATISFIABLE: [(&str, WhenUnsatisfiable); 2] =
    variant_names!(WhenUnsatisfiable: DoNotSchedule, ScheduleAnyway);
const INCLUSION_POLICIES: [(&str, InclusionPolicy); 2] =
    variant_names!(InclusionPolicy: Honor, Ignore);

/// What a term without a `labelSelector` matches: no pod, as a nil selector does in Kubernetes
/// (`In` over no values holds for no label).
fn selects_nothing() -> LabelSelector {
    LabelSelector {
        match_labels: Labels::new(),
        match_expressions: vec![LabelSelectorRequirement {
            key: "app".into(),
            operator: LabelSelectorOperator::In,
            values: Vec::new(),
        }],
    }
}

/// The labels a service's pods carry: `app: <service>`, then the service's own `labels`
/// (which may set `app` to something else).
pub(super) fn service_pod_labels(service: &str, labels: &Labels) -> Labels {
    let mut out = Labels::new();
    out.insert("app".into(), service.to_string());
    out.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

impl Cx<'_> {
    /// The placement of the pods of the service at `path`: `namespace` and `labels` as given,
    /// and the rules of `spread` and `affinity`, every problem reported at once.
    pub(super) fn pod_rules(
        &self,
        path: &str,
        namespace: &str,
        labels: Labels,
        spread: &[SpreadConstraintFile],
        affinity: Option<&AffinityFile>,
    ) -> Result<PodPlacement, Error> {
        let mut errors = Vec::new();
        let spath = format!("{path}.topologySpreadConstraints");
        let constraints = each(&spath, spread, |p, c| self.spread_constraint(p, c, &labels));
        let constraints = keep(&mut errors, constraints).unwrap_or_default();
        keep(&mut errors, self.distinct_pairs(&spath, &constraints));
        let terms = |field: &str, file: Option<&PodAffinityFile>| match file {
            Some(f) => self.pod_affinity(&format!("{path}.affinity.{field}"), f, namespace),
            None => Ok(Default::default()),
        };
        let (required_affinity, preferred_affinity) = keep(
            &mut errors,
            terms(
                "podAffinity",
                affinity.and_then(|a| a.pod_affinity.as_ref()),
            ),
        )
        .unwrap_or_default();
        let (required_anti_affinity, preferred_anti_affinity) = keep(
            &mut errors,
            terms(
                "podAntiAffinity",
                affinity.and_then(|a| a.pod_anti_affinity.as_ref()),
            ),
        )
        .unwrap_or_default();
        none_of(errors)?;
        Ok(PodPlacement {
            namespace: namespace.to_string(),
            labels,
            spread: constraints,
            required_affinity,
            preferred_affinity,
            required_anti_affinity,
            preferred_anti_affinity,
        })
    }

    /// The pod rules of a workload that does not model them (a DaemonSet, a Job): an error
    /// when `affinity` gives any.
    pub(super) fn no_pod_rules(
        &self,
        path: &str,
        affinity: Option<&AffinityFile>,
    ) -> Result<(), Error> {
        let Some(a) = affinity else {
            return Ok(());
        };
        for (field, given) in [
            ("podAffinity", a.pod_affinity.is_some()),
            ("podAntiAffinity", a.pod_anti_affinity.is_some()),
        ] {
            if given {
                return Err(self.invalid(
                    &format!("{path}.affinity.{field}"),
                    "inter-pod affinity is not modelled for this kind of workload",
                    "expected it on services only",
                ));
            }
        }
        Ok(())
    }

    /// Upstream's rule: no two constraints share a `topologyKey` and `whenUnsatisfiable`.
    fn distinct_pairs(
        &self,
        path: &str,
        constraints: &[TopologySpreadConstraint],
    ) -> Result<(), Error> {
        for (i, c) in constraints.iter().enumerate() {
            let earlier = constraints[..i].iter().position(|d| {
                d.topology_key == c.topology_key && d.when_unsatisfiable == c.when_unsatisfiable
            });
            if let Some(j) = earlier {
                return Err(self.invalid(
                    &format!("{path}[{i}]"),
                    format!(
                        "it repeats the topologyKey {} and whenUnsatisfiable of entry {j}",
                        c.topology_key
                    ),
                    "expected each pair of topologyKey and whenUnsatisfiable once",
                ));
            }
        }
        Ok(())
    }

    /// One spread constraint; `matchLabelKeys` merged into its selector from `own` labels.
    fn spread_constraint(
        &self,
        path: &str,
        c: &SpreadConstraintFile,
        own: &Labels,
    ) -> Result<TopologySpreadConstraint, Error> {
        let max_skew = match &c.max_skew {
            Some(s) => self.whole_u32(&format!("{path}.maxSkew"), s, "maxSkew", 1, u32::MAX)?,
            None => return Err(self.missing(path, "maxSkew", "a whole number of at least 1")),
        };
        let topology_key = self.topology_key(path, c.topology_key.as_deref())?;
        let when = c.when_unsatisfiable.as_deref().ok_or_else(|| {
            self.missing(path, "whenUnsatisfiable", "DoNotSchedule or ScheduleAnyway")
        })?;
        let wpath = format!("{path}.whenUnsatisfiable");
        let when_unsatisfiable =
            self.one_of(&wpath, "whenUnsatisfiable", when, &WHEN_UNSATISFIABLE)?;
        let mut selector = match &c.label_selector {
            Some(s) => self.label_selector(&format!("{path}.labelSelector"), s)?,
            None => selects_nothing(),
        };
        for (i, key) in c.match_label_keys.iter().enumerate() {
            let kpath = format!("{path}.matchLabelKeys[{i}]");
            let in_selector = selector.match_labels.contains_key(key)
                || selector.match_expressions.iter().any(|r| &r.key == key);
            if key.is_empty() || in_selector {
                return Err(self.invalid(
                    &kpath,
                    format!("the key {key:?} is empty or also in labelSelector"),
                    "expected a label key that labelSelector does not name",
                ));
            }
            if let Some(value) = own.get(key) {
                selector.match_labels.insert(key.clone(), value.clone());
            }
        }
        let min_domains = optional(path, "minDomains", c.min_domains.as_ref(), |p, s| {
            self.whole_u32(p, s, "minDomains", 1, u32::MAX)
        })?;
        if min_domains.is_some() && when_unsatisfiable != WhenUnsatisfiable::DoNotSchedule {
            return Err(self.invalid(
                &format!("{path}.minDomains"),
                "minDomains is given with whenUnsatisfiable ScheduleAnyway",
                "expected minDomains only with DoNotSchedule",
            ));
        }
        let policy = |field: &str, value: Option<&String>, default| {
            optional(path, field, value, |p, v: &String| {
                self.one_of(p, field, v, &INCLUSION_POLICIES)
            })
            .map(|v| v.unwrap_or(default))
        };
        Ok(TopologySpreadConstraint {
            max_skew,
            topology_key,
            when_unsatisfiable,
            selector,
            min_domains,
            node_affinity_policy: policy(
                "nodeAffinityPolicy",
                c.node_affinity_policy.as_ref(),
                InclusionPolicy::Honor,
            )?,
            node_taints_policy: policy(
                "nodeTaintsPolicy",
                c.node_taints_policy.as_ref(),
                InclusionPolicy::Ignore,
            )?,
        })
    }

    /// The error for a required field left out.
    fn missing(&self, path: &str, field: &str, expected: &str) -> Error {
        self.invalid(
            &format!("{path}.{field}"),
            format!("{field} is missing"),
            format!("expected {expected}"),
        )
    }

    /// A `topologyKey`: present and non-empty.
    fn topology_key(&self, path: &str, key: Option<&str>) -> Result<String, Error> {
        match key {
            Some(k) if !k.is_empty() => Ok(k.to_string()),
            _ => Err(self.missing(
                path,
                "topologyKey",
                "a node label key such as kubernetes.io/hostname or topology.kubernetes.io/zone",
            )),
        }
    }

    /// A label selector: non-empty keys, and as many values as each operator takes.
    fn label_selector(&self, path: &str, s: &LabelSelectorFile) -> Result<LabelSelector, Error> {
        let mut match_labels = Labels::new();
        for (key, value) in &s.match_labels.0 {
            if key.is_empty() {
                return Err(self.invalid(
                    &format!("{path}.matchLabels"),
                    "a label key is empty",
                    "expected non-empty label keys",
                ));
            }
            match_labels.insert(key.clone(), value.text().to_string());
        }
        let match_expressions = each(
            &format!("{path}.matchExpressions"),
            &s.match_expressions,
            |p, r| self.label_requirement(p, r),
        )?;
        Ok(LabelSelector {
            match_labels,
            match_expressions,
        })
    }

    /// One `matchExpressions` entry of a label selector.
    fn label_requirement(
        &self,
        path: &str,
        r: &RequirementFile,
    ) -> Result<LabelSelectorRequirement, Error> {
        if r.key.is_empty() {
            return Err(self.missing(path, "key", "a label key"));
        }
        let opath = format!("{path}.operator");
        let operator = self.one_of(
            &opath,
            "label selector operator",
            &r.operator,
            &LABEL_OPERATORS,
        )?;
        let values: Vec<String> = r.values.iter().map(|v| v.text().to_string()).collect();
        let wants_values = matches!(
            operator,
            LabelSelectorOperator::In | LabelSelectorOperator::NotIn
        );
        if wants_values == values.is_empty() {
            let expected = if wants_values {
                "expected at least one value for In and NotIn"
            } else {
                "expected no values for Exists and DoesNotExist"
            };
            return Err(self.invalid(
                &format!("{path}.values"),
                format!("operator {} is given {} value(s)", r.operator, values.len()),
                expected,
            ));
        }
        Ok(LabelSelectorRequirement {
            key: r.key.clone(),
            operator,
            values,
        })
    }

    /// `podAffinity` or `podAntiAffinity` at `path`: its required and preferred terms.
    fn pod_affinity(
        &self,
        path: &str,
        f: &PodAffinityFile,
        namespace: &str,
    ) -> Result<(Vec<PodAffinityTerm>, Vec<WeightedPodAffinityTerm>), Error> {
        let rpath = format!("{path}.requiredDuringSchedulingIgnoredDuringExecution");
        let required = each(
            &rpath,
            &f.required_during_scheduling_ignored_during_execution,
            |p, t| self.pod_affinity_term(p, t, namespace),
        );
        let ppath = format!("{path}.preferredDuringSchedulingIgnoredDuringExecution");
        let preferred = each(
            &ppath,
            &f.preferred_during_scheduling_ignored_during_execution,
            |p, w| {
                let weight = self.whole_u32(&format!("{p}.weight"), &w.weight, "weight", 1, 100)?;
                let term = self.pod_affinity_term(
                    &format!("{p}.podAffinityTerm"),
                    &w.pod_affinity_term,
                    namespace,
                )?;
                Ok(WeightedPodAffinityTerm { weight, term })
            },
        );
        let mut errors = Vec::new();
        let required = keep(&mut errors, required);
        let preferred = keep(&mut errors, preferred);
        none_of(errors)?;
        Ok((required.unwrap_or_default(), preferred.unwrap_or_default()))
    }

    /// A `PodAffinityTerm`; without `namespaces`, the pod's own.
    fn pod_affinity_term(
        &self,
        path: &str,
        t: &PodAffinityTermFile,
        namespace: &str,
    ) -> Result<PodAffinityTerm, Error> {
        let topology_key = self.topology_key(path, t.topology_key.as_deref())?;
        let selector = match &t.label_selector {
            Some(s) => self.label_selector(&format!("{path}.labelSelector"), s)?,
            None => selects_nothing(),
        };
        for (i, n) in t.namespaces.iter().enumerate() {
            self.dns_label(&format!("{path}.namespaces[{i}]"), "namespace", n)?;
        }
        let namespaces = if t.namespaces.is_empty() {
            vec![namespace.to_string()]
        } else {
            t.namespaces.clone()
        };
        Ok(PodAffinityTerm {
            selector,
            namespaces,
            topology_key,
        })
    }
}
