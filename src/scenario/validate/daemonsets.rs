//! DaemonSets: the pod each runs on every node it selects. capsim does not simulate those pods
//! one by one; each selected pool's nodes lose the pod's requests from their allocatable and one
//! slot from their pod limit, which is what they take from the scheduler and from the Cluster
//! Autoscaler's node templates.

use crate::cluster::pool::NodePool;
use crate::cluster::spec::{PodSpec, TaintEffect, taint_tolerated};
use crate::scenario::error::Error;
use crate::scenario::schema::{DaemonSetFile, NamedMap};

use super::{Cx, keep, none_of};

impl Cx<'_> {
    /// Validates every DaemonSet, reporting every problem, and takes its pod's share from each pool it selects.
    pub(super) fn daemonsets(
        &self,
        daemonsets: &NamedMap<DaemonSetFile>,
        pools: &mut [NodePool],
    ) -> Result<(), Error> {
        let mut errors = Vec::new();
        for (name, d) in &daemonsets.0 {
            let path = format!("daemonsets.{name}");
            keep(&mut errors, self.dns_label(&path, "daemonset", name));
            if let Some(namespace) = &d.namespace {
                let namespace =
                    self.dns_label(&format!("{path}.namespace"), "namespace", namespace);
                keep(&mut errors, namespace);
            }
            keep(&mut errors, self.no_pod_rules(&path, d.affinity.as_ref()));
            let template = pod_template_of!(d);
            if let Some(pod) = keep(&mut errors, self.pod_template(&path, &template, pools)) {
                for pool in pools.iter_mut() {
                    take_share(&pod, pool);
                }
            }
        }
        none_of(errors)
    }
}

/// Whether the DaemonSet of `pod` runs a pod on `pool`'s nodes: its node selector and required
/// node affinity match the pool's labels and it tolerates every NoSchedule and NoExecute taint.
pub(super) fn selects(pod: &PodSpec, pool: &NodePool) -> bool {
    pod.affinity.required_matches(&pool.labels)
        && pool
            .taints
            .iter()
            .filter(|t| t.effect != TaintEffect::PreferNoSchedule)
            .all(|t| taint_tolerated(t, &pod.tolerations))
}

/// Takes the DaemonSet pod's requests and one pod slot from every node of `pool` when the
/// DaemonSet selects it and its pod fits an empty node (else the pod would stay Pending there
/// and take nothing).
fn take_share(pod: &PodSpec, pool: &mut NodePool) {
    let free = pool.allocatable;
    if !selects(pod, pool) || !pod.requests.fits_within(&free) || pool.max_pods < 2 {
        return;
    }
    pool.allocatable = free.saturating_sub(&pod.requests);
    pool.max_pods -= 1;
}
