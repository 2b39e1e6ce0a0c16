//! ResourceQuotas: their values, and the checks that Kubernetes' quota admission would not
//! reject every pod of a service or a template job (a missing request or limit the quota needs,
//! or one pod larger than the whole quota).

use crate::cluster::quota::Quota;
use crate::cluster::spec::{ExtendedNames, PodSpec, extended_name};
use crate::controllers::job::{JobPods, JobSpec};
use crate::scenario::error::Error;
use crate::scenario::model::Service;
use crate::scenario::schema::{NamedMap, QuotaFile, Scalar};
use crate::units::MAX_EXTENDED_RESOURCES;

use super::services::{show_bytes, show_cpu};
use super::{Cx, keep, none_of, optional};

impl Cx<'_> {
    /// Validates `quotas` and checks them against the services, returning them in file order.
    pub(super) fn quotas(
        &self,
        quotas: &NamedMap<QuotaFile>,
        services: &[Service],
        jobs: &[JobSpec],
    ) -> Result<Vec<Quota>, Error> {
        let mut out = Vec::with_capacity(quotas.0.len());
        let mut errors = Vec::new();
        for (namespace, q) in &quotas.0 {
            let Some(quota) = keep(&mut errors, self.quota(namespace, q)) else {
                continue;
            };
            for service in services.iter().filter(|s| &s.namespace == namespace) {
                let path = format!("services.{}", service.name);
                let wanted = format!(
                    "service {} wants {} replicas",
                    service.name, service.replicas
                );
                let pods = (service.replicas > 0).then_some(wanted);
                keep(
                    &mut errors,
                    self.admissible(&quota, &path, &service.pod, pods),
                );
            }
            // A trace's pods bring their own requests; a template job's are its pod's.
            let template_jobs = jobs
                .iter()
                .filter(|j| &j.namespace == namespace && matches!(j.pods, JobPods::Template(_)));
            for job in template_jobs {
                let wanted = format!("job {} wants at least one pod", job.name);
                let path = format!("jobs.{}", job.name);
                keep(
                    &mut errors,
                    self.admissible(&quota, &path, &job.pod, Some(wanted)),
                );
            }
            out.push(quota);
        }
        none_of(errors)?;
        Ok(out)
    }

    /// Reads one namespace's quota (`quotas.<namespace>`). Its extended resources' names join
    /// the scenario's table; the pods' copy of the table is taken after every quota is read.
    fn quota(&self, namespace: &str, q: &QuotaFile) -> Result<Quota, Error> {
        let path = format!("quotas.{namespace}");
        self.dns_label(&path, "namespace", namespace)?;
        let alias =
            |long: &str, long_v: &Option<Scalar>, short: &str, short_v: &Option<Scalar>| match (
                long_v, short_v,
            ) {
                (Some(_), Some(_)) => Err(self.invalid(
                    &format!("{path}.{short}"),
                    format!("both {long} and its alias {short} are given"),
                    format!("expected only one of {long} and {short}"),
                )),
                (Some(v), None) => Ok(Some((format!("{path}.{long}"), v.clone()))),
                (None, Some(v)) => Ok(Some((format!("{path}.{short}"), v.clone()))),
                (None, None) => Ok(None),
            };
        let requests_cpu = alias("requests.cpu", &q.requests_cpu, "cpu", &q.cpu)?
            .map(|(p, v)| self.cpu(&p, &v))
            .transpose()?;
        let requests_memory = alias("requests.memory", &q.requests_memory, "memory", &q.memory)?
            .map(|(p, v)| self.memory(&p, &v))
            .transpose()?;
        let limits_cpu = optional(&path, "limits.cpu", q.limits_cpu.as_ref(), |p, v| {
            self.cpu(p, v)
        })?;
        let limits_memory = optional(&path, "limits.memory", q.limits_memory.as_ref(), |p, v| {
            self.memory(p, v)
        })?;
        let pods = optional(&path, "pods", q.pods.as_ref(), |p, v| {
            self.whole_u32(p, v, "count", 0, u32::MAX)
        })?;
        Ok(Quota {
            namespace: namespace.to_string(),
            requests_cpu,
            requests_memory,
            limits_cpu,
            limits_memory,
            pods,
            requests_extended: self.quota_extended(&path, &q.extended)?,
            extended_names: ExtendedNames::default(),
        })
    }

    /// Reads a quota's extended resources. Kubernetes' pod evaluator counts an extended resource
    /// only as `requests.<name>` (`isExtendedResourceNameForQuota`); the API server accepts
    /// `<name>` and `limits.<name>` but no pod is ever counted against them, so here they are an
    /// error rather than a limit that silently limits nothing.
    fn quota_extended(
        &self,
        path: &str,
        keys: &[(String, Scalar)],
    ) -> Result<[Option<u32>; MAX_EXTENDED_RESOURCES], Error> {
        let mut out = [None; MAX_EXTENDED_RESOURCES];
        for (key, amount) in keys {
            let field = format!("{path}.{key}");
            let Some(name) = key.strip_prefix("requests.") else {
                let name = key.strip_prefix("limits.").unwrap_or(key);
                return Err(self.invalid(
                    &field,
                    format!(
                        "\"{key}\" limits nothing: Kubernetes counts an extended resource in a \
                         quota only by its request"
                    ),
                    format!(
                        "expected requests.{name}, the only quota key for an extended resource"
                    ),
                ));
            };
            let i = self.extended_index(&field, name)?;
            out[i] = Some(self.whole_u32(&field, amount, "whole number of units", 0, u32::MAX)?);
        }
        Ok(out)
    }

    /// Checks that the quota admits at least one `pod` of the workload at `workload` (a
    /// service or a job); `wanted` says how many pods it wants, when it wants any.
    fn admissible(
        &self,
        quota: &Quota,
        workload: &str,
        pod: &PodSpec,
        wanted: Option<String>,
    ) -> Result<(), Error> {
        let ns = &quota.namespace;
        let path = |field: &str| format!("{workload}.resources.{field}");
        let checks = quota_checks(quota, pod, &self.extended_names());
        for (field, limit, set, too_big, value) in checks {
            let field = field.as_str();
            let Some(limit) = limit else { continue };
            if !set {
                let (kind, resource) = field.split_once('.').unwrap_or((field, field));
                return Err(self.invalid(
                    &path(field),
                    format!(
                        "no {resource} {} is set, but the ResourceQuota of namespace \"{ns}\" \
                         limits {field}",
                        if kind == "requests" {
                            "request"
                        } else {
                            "limit"
                        }
                    ),
                    format!(
                        "expected resources.{field} here: Kubernetes rejects every pod without \
                         it in a namespace whose quota limits {field} (quotas.{ns}.{field})"
                    ),
                ));
            }
            if too_big {
                return Err(self.invalid(
                    &path(field),
                    format!("{value} per pod is more than the whole quota {field} {limit} of namespace \"{ns}\""),
                    format!("expected at most {limit}, or a larger quotas.{ns}.{field}: Kubernetes rejects every pod otherwise"),
                ));
            }
        }
        if let (Some(0), Some(wanted)) = (quota.pods, wanted) {
            return Err(self.invalid(
                &format!("quotas.{ns}.pods"),
                format!("\"0\" admits no pod, but {wanted}"),
                "expected pods >= 1, or no pods entry",
            ));
        }
        Ok(())
    }
}

/// What the quota limits of `pod`, one entry a limited resource: (quota field, the quota's
/// limit for messages, whether the pod sets the resource, whether one pod exceeds the whole
/// limit, the pod's amount for messages). `names` is the scenario's extended-resource table.
fn quota_checks(
    quota: &Quota,
    pod: &PodSpec,
    names: &[String],
) -> Vec<(String, Option<String>, bool, bool, String)> {
    let mut checks = vec![
        (
            "requests.cpu".to_string(),
            quota.requests_cpu.map(show_cpu),
            pod.has_cpu_request,
            quota.requests_cpu.is_some_and(|q| pod.requests.cpu > q),
            show_cpu(pod.requests.cpu),
        ),
        (
            "requests.memory".to_string(),
            quota.requests_memory.map(show_bytes),
            pod.has_memory_request,
            quota
                .requests_memory
                .is_some_and(|q| pod.requests.memory > q),
            show_bytes(pod.requests.memory),
        ),
        (
            "limits.cpu".to_string(),
            quota.limits_cpu.map(show_cpu),
            pod.limits.cpu.0 > 0,
            quota.limits_cpu.is_some_and(|q| pod.limits.cpu > q),
            show_cpu(pod.limits.cpu),
        ),
        (
            "limits.memory".to_string(),
            quota.limits_memory.map(show_bytes),
            pod.limits.memory.0 > 0,
            quota.limits_memory.is_some_and(|q| pod.limits.memory > q),
            show_bytes(pod.limits.memory),
        ),
    ];
    // Extended resources: no request is required of a pod (Kubernetes' `validationSet` holds
    // only cpu and memory), so a pod without one is never refused on their account.
    for (i, limit) in quota.requests_extended.iter().enumerate() {
        let wants = pod.requests.extended.0[i];
        checks.push((
            format!("requests.{}", extended_name(names, i)),
            limit.map(|l| l.to_string()),
            true,
            limit.is_some_and(|l| u32::from(wants) > l),
            wants.to_string(),
        ));
    }
    checks
}
