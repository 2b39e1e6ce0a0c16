//! Random node failures: a node's kubelet stops reporting, the node goes NotReady and is
//! tainted unreachable, its pods stop serving and are evicted by the taint manager once their
//! toleration runs out, and the cloud's auto-repair replaces the VM.
//!
//! Upstream, the node lifecycle controller notices the missing heartbeats after
//! `--node-monitor-grace-period` (40s, 50s from 1.32) and then taints the node and marks its
//! pods not Ready; capsim does all of it at the failure. A pod tolerates
//! `node.kubernetes.io/unreachable:NoExecute` for its matching tolerations' smallest
//! `tolerationSeconds`, or the 300s the DefaultTolerationSeconds admission plugin gives a pod
//! without one (`eviction_delay`); the taint manager then deletes the pods directly (no eviction API,
//! so no PodDisruptionBudget holds them back). GKE's auto-repair deletes and re-creates the
//! VM: here the node is removed and a new one of its group asked for, with the pool's
//! provisioning delay.

use crate::cluster::node::NodeId;
use crate::cluster::spec::Toleration;
use crate::cluster::spec::{Taint, TaintEffect};
use crate::report::EventKind;
use crate::simulation::cluster_state::{PodPhase, PodRef};
use crate::simulation::{Event, Simulation};
use crate::units::SimDuration;

/// The taint the node lifecycle controller puts on a node whose kubelet stopped reporting.
pub(crate) const UNREACHABLE_TAINT_KEY: &str = "node.kubernetes.io/unreachable";

/// How long a pod stays bound to an unreachable node before the taint manager evicts it: the
/// `tolerationSeconds` the DefaultTolerationSeconds admission plugin gives every pod.
pub(crate) const NOT_READY_TOLERATION: SimDuration = SimDuration::from_secs(300);

impl Simulation<'_> {
    /// Node `id` fails: it is tainted unreachable, the requests its pods hold are lost, its
    /// pods leave their Services' endpoints, and their eviction and the repair are scheduled.
    /// A node already leaving (drained, preempted) or failed is left alone.
    pub(super) fn on_node_failed(&mut self, id: NodeId) {
        let Some(index) = self.cluster.node_index(id) else {
            return;
        };
        if self.cluster.node_extra(index).draining() {
            return;
        }
        let now = self.clock.now();
        for pod in self.cluster.pods_on(id) {
            if let Some((s, lost)) = self.drop_requests(pod) {
                self.services[s].counts.lost_node_failure += lost.measured;
            }
        }
        let taint = Taint {
            key: UNREACHABLE_TAINT_KEY.to_string(),
            value: String::new(),
            effect: TaintEffect::NoExecute,
        };
        for pod in self.cluster.active_pods_on(id) {
            let Some(spec) = self.cluster.pod(pod).map(|p| p.spec as usize) else {
                continue;
            };
            let tolerations = &self.cluster.pod_specs()[spec].tolerations;
            if let Some(delay) = eviction_delay(tolerations, &taint) {
                self.clock.schedule_in(delay, Event::TaintEviction { pod });
            }
        }
        self.cluster.mark_failed(index, taint, now);
        let node = &self.cluster.nodes()[index];
        let pool = usize::from(node.pool.0);
        let mut event = self.pool_event(EventKind::NodeNotReady, pool);
        event.node = Some(node.name.clone());
        event.reason = Some("the node's kubelet stopped reporting (random failure)".to_string());
        self.log.push(event);
        let repair = self.scenario.node_pools[pool]
            .failures
            .map_or(SimDuration::ZERO, |f| f.repair_delay);
        self.clock
            .schedule_in(repair, Event::NodeRepair { node: id });
    }

    /// A pod of a failed node has outstayed its toleration: the taint manager deletes it, and
    /// its ReplicaSet replaces it elsewhere.
    pub(super) fn on_taint_eviction(&mut self, pod: PodRef) {
        let terminating = self.cluster.pod(pod).map(|p| p.phase()) == Some(PodPhase::Terminating);
        if self.on_failed_node(pod) && !terminating {
            self.evict_pod(pod, "taint-based eviction: node.kubernetes.io/unreachable");
        }
    }

    /// The cloud's auto-repair replaces failed node `id`: what is left on it goes with the VM,
    /// the node is removed, and a new VM of its group is asked for.
    pub(super) fn on_node_repair(&mut self, id: NodeId) {
        let Some(index) = self.cluster.node_index(id) else {
            return;
        };
        if !self.cluster.node_extra(index).failed() {
            return;
        }
        self.cluster.end_failure(index);
        let node = &self.cluster.nodes()[index];
        let (pool, name) = (usize::from(node.pool.0), node.name.clone());
        let mut event = self.pool_event(EventKind::NodeRepaired, pool);
        event.node = Some(name.clone());
        event.reason = Some("auto-repair re-creates the VM of a NotReady node".to_string());
        self.log.push(event);
        for pod in self.cluster.pods_on(id) {
            if let Some((s, lost)) = self.drop_requests(pod) {
                self.services[s].counts.lost_node_failure += lost.measured;
            }
            self.remove_pod(pod, "its node's VM was re-created by auto-repair");
        }
        self.request_node(
            pool,
            &format!("replaces {name}: auto-repair re-creates the VM"),
        );
        self.remove_node_if_drained(id);
    }

    /// Whether `pod_ref` is bound to a node that failed.
    pub(super) fn on_failed_node(&self, pod_ref: PodRef) -> bool {
        self.cluster
            .pod(pod_ref)
            .and_then(|p| p.node())
            .and_then(|id| self.cluster.node_index(id))
            .is_some_and(|i| self.cluster.node_extra(i).failed())
    }
}

/// How long the taint manager leaves a pod with `tolerations` on a node with `taint` (NoExecute):
/// the smallest `tolerationSeconds` of the tolerations that match it, for ever (`None`) when
/// they match it with none, and `NOT_READY_TOLERATION` when none match, as the
/// DefaultTolerationSeconds admission plugin then adds one (upstream `getMinTolerationTime`).
pub(crate) fn eviction_delay(tolerations: &[Toleration], taint: &Taint) -> Option<SimDuration> {
    let mut matching = tolerations.iter().filter(|t| t.tolerates(taint)).peekable();
    if matching.peek().is_none() {
        return Some(NOT_READY_TOLERATION);
    }
    matching
        .filter_map(|t| t.toleration_seconds)
        .min()
        .map(SimDuration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::spec::TolerationOperator;

    /// Cases after upstream's `TestGetMinTolerationTime`
    /// (pkg/controller/tainteviction/taint_eviction_test.go) and the DefaultTolerationSeconds
    /// admission plugin (plugin/pkg/admission/defaulttolerationseconds).
    #[test]
    fn the_eviction_delay_is_the_smallest_matching_toleration() {
        let taint = Taint {
            key: UNREACHABLE_TAINT_KEY.to_string(),
            value: String::new(),
            effect: TaintEffect::NoExecute,
        };
        let tol = |key: &str, seconds: Option<u64>| Toleration {
            key: key.to_string(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(TaintEffect::NoExecute),
            toleration_seconds: seconds,
        };
        let secs = |s| Some(SimDuration::from_secs(s));
        assert_eq!(eviction_delay(&[], &taint), secs(300));
        assert_eq!(eviction_delay(&[tol("other", Some(5))], &taint), secs(300));
        let unreachable = UNREACHABLE_TAINT_KEY;
        assert_eq!(
            eviction_delay(&[tol(unreachable, Some(30))], &taint),
            secs(30)
        );
        let both = [tol(unreachable, Some(60)), tol("", Some(20))];
        assert_eq!(eviction_delay(&both, &taint), secs(20));
        assert_eq!(eviction_delay(&[tol(unreachable, None)], &taint), None);
        let mixed = [tol(unreachable, None), tol("", Some(10))];
        assert_eq!(eviction_delay(&mixed, &taint), secs(10));
        assert_eq!(
            eviction_delay(&[tol(unreachable, Some(0))], &taint),
            secs(0)
        );
    }
}
