//! Parts of a service read apart from its pod: its load balancer, its service-level
//! objective, and its labels with the placement rules that select by them.

use crate::cluster::placement::PodPlacement;
use crate::cluster::spec::Labels;
use crate::scenario::error::Error;
use crate::scenario::model::DEFAULT_SLO_MAX_FAILED;
use crate::scenario::schema::ServiceFile;
use crate::units::SimDuration;
use crate::workload::spec::LoadBalancerPolicy;

use super::pod_rules::service_pod_labels;
use super::{Cx, keep, optional};

/// The load balancer policies as the file spells them.
const LOAD_BALANCERS: [(&str, LoadBalancerPolicy); 3] = spelled!(
    LoadBalancerPolicy::as_str,
    LoadBalancerPolicy: RoundRobin, Random, LeastRequests
);

impl Cx<'_> {
    /// The service's `load_balancer`, `random` (kube-proxy's) when absent.
    pub(super) fn load_balancer(
        &self,
        path: &str,
        s: &ServiceFile,
    ) -> Result<LoadBalancerPolicy, Error> {
        let balancer = s.load_balancer.as_deref();
        let policy = optional(path, "load_balancer", balancer, |p, name| {
            self.one_of(p, "load balancer", name, &LOAD_BALANCERS)
        })?;
        Ok(policy.unwrap_or(LoadBalancerPolicy::Random))
    }

    /// The service's `slo`: its p99 latency objective, if any, and its failed fraction
    /// (`DEFAULT_SLO_MAX_FAILED` when absent); each `None` when bad (its error kept in
    /// `errors`).
    pub(super) fn slo(
        &self,
        path: &str,
        s: &ServiceFile,
        errors: &mut Vec<Error>,
    ) -> (Option<Option<SimDuration>>, Option<f64>) {
        let slo = s.slo.as_ref().and_then(|slo| slo.latency_p99.as_ref());
        let slo_p99 = optional(path, "slo.latency_p99", slo, |p, d| {
            self.positive_duration(p, d)
        });
        let max_failed = s.slo.as_ref().and_then(|slo| slo.max_failed.as_ref());
        let slo_max_failed = optional(path, "slo.max_failed", max_failed, |p, f| {
            self.failed_fraction(p, f)
        });
        (
            keep(errors, slo_p99),
            keep(errors, slo_max_failed).map(|f| f.unwrap_or(DEFAULT_SLO_MAX_FAILED)),
        )
    }

    /// The service's `labels` and its pods' placement rules (`topologySpreadConstraints`,
    /// pod affinity and anti-affinity), whose selectors see the pods' labels; each `None`
    /// when bad (its errors kept in `errors`).
    pub(super) fn labels_and_rules(
        &self,
        path: &str,
        name: &str,
        s: &ServiceFile,
        errors: &mut Vec<Error>,
    ) -> (Option<Labels>, Option<PodPlacement>) {
        let labels = keep(errors, self.labels(&format!("{path}.labels"), &s.labels));
        let placement = self.pod_rules(
            path,
            s.namespace.as_deref().unwrap_or("default"),
            service_pod_labels(name, labels.as_ref().unwrap_or(&Labels::new())),
            &s.topology_spread_constraints,
            s.affinity.as_ref(),
        );
        (labels, keep(errors, placement))
    }
}
