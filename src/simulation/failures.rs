//! Random node failures: a node's kubelet stops reporting, the node goes NotReady and is
//! tainted unreachable, its pods stop serving and are evicted by the taint manager once their
//! toleration runs out, and the cloud's auto-repair replaces the VM.
//!
//! The node lifecycle controller notices the missing heartbeats after
//! `--node-monitor-grace-period` (50s since 1.32) and then marks the node NotReady, its pods
//! not Ready (they leave their Services' endpoints) and taints it
//! `node.kubernetes.io/unreachable:NoExecute`. Until then the pods stay in the endpoints and
//! what is routed to them is lost (counted as `lost_node_failure`; the least-requests balancer avoids
//! them, as an L7 balancer's health checks would, when it can). capsim puts the taint on at the
//! failure so that the scheduler places nothing there meanwhile. A pod tolerates
//! `node.kubernetes.io/unreachable:NoExecute` for its matching tolerations' smallest
//! `tolerationSeconds`, or the 300s the DefaultTolerationSeconds admission plugin gives a pod
//! without one (`eviction_delay`); the taint manager then deletes the pods directly (no eviction API,
//! so no PodDisruptionBudget holds them back). GKE's auto-repair deletes and re-creates the
//! VM: here the node is removed and a new one of its group asked for, with the pool's
//! provisioning delay.

use crate::cluster::node::NodeId;
pub(crate) use crate::cluster::pool::UNREACHABLE_TAINT_KEY;
use crate::cluster::spec::Toleration;
use crate::cluster::spec::{Taint, TaintEffect};
use crate::report::EventKind;
use crate::simulation::cluster_state::{PodPhase, PodRef};
use crate::simulation::{Event, Simulation};
use crate::units::SimDuration;

/// How long a pod stays bound to an unreachable node before the taint manager evicts it: the
/// `tolerationSeconds` the DefaultTolerationSeconds admission plugin gives every pod.
pub(crate) const NOT_READY_TOLERATION: SimDuration = SimDuration::from_secs(300);

/// `--node-monitor-grace-period`: how long the node lifecycle controller waits for a silent
/// kubelet before it marks the node NotReady (50s since Kubernetes 1.32).
pub(crate) const NODE_MONITOR_GRACE_PERIOD: SimDuration = SimDuration::from_secs(50);

/// The node lifecycle controller's pace of tainting the nodes of a disrupted zone:
/// `--node-eviction-rate` 0.1 nodes per second.
pub(crate) const NODE_EVICTION_INTERVAL: SimDuration = SimDuration::from_secs(10);

/// A rank in the controller's rate limit that means it evicts nothing.
pub(crate) const NO_EVICTION: u32 = u32::MAX;

/// The taint of an unreachable node, `node.kubernetes.io/unreachable:NoExecute`.
fn unreachable_taint() -> Taint {
    Taint {
        key: UNREACHABLE_TAINT_KEY.to_string(),
        value: String::new(),
        effect: TaintEffect::NoExecute,
    }
}

impl Simulation<'_> {
    /// Node `id` fails: it goes unreachable (`make_unreachable`); its repair follows its
    /// NotReady. A node already leaving (drained, preempted) or failed is left alone; one out
    /// with its zone notes the failure, to draw its next one when the zone is back.
    pub(super) fn on_node_failed(&mut self, id: NodeId) {
        let Some(index) = self.cluster.node_index(id) else {
            return;
        };
        let extra = self.cluster.node_extra(index);
        if extra.out_with_zone() {
            self.cluster.note_missed_failure(index);
            return;
        }
        if extra.draining() {
            return;
        }
        self.make_unreachable(index, 0);
    }

    /// `nodes()[index]`'s kubelet stops reporting: the requests its pods hold are lost, it is
    /// tainted unreachable (nothing new lands there), and its pods stay in their Services'
    /// endpoints, losing what is routed to them, until the node lifecycle controller notices
    /// after `NODE_MONITOR_GRACE_PERIOD`; the controller's tainting then comes `rank` nodes
    /// into its rate limit (`NO_EVICTION`: it evicts nothing).
    pub(super) fn make_unreachable(&mut self, index: usize, rank: u32) {
        let id = self.cluster.nodes()[index].id;
        for pod in self.cluster.pods_on(id) {
            if let Some((s, lost)) = self.drop_requests(pod) {
                self.services[s].counts.lost_node_failure += lost.measured;
            }
        }
        self.cluster.mark_failed(index, unreachable_taint());
        self.clock.schedule_in(
            NODE_MONITOR_GRACE_PERIOD,
            Event::NodeNotReady { node: id, rank },
        );
    }

    /// The node lifecycle controller finds node `id` NotReady: its pods leave their Services'
    /// endpoints, each is evicted after its toleration of the unreachable taint (the node's
    /// `rank` in the controller's rate limit later), and a node failed on its own is repaired
    /// after its pool's repair delay.
    pub(super) fn on_node_not_ready(&mut self, id: NodeId, rank: u32) {
        let Some(index) = self.cluster.node_index(id) else {
            return;
        };
        if !self.cluster.node_extra(index).failed() {
            return;
        }
        let now = self.clock.now();
        self.cluster.mark_not_ready(index, now);
        let taint = unreachable_taint();
        if rank != NO_EVICTION {
            let offset = SimDuration(NODE_EVICTION_INTERVAL.0.saturating_mul(u64::from(rank)));
            for pod in self.cluster.active_pods_on(id) {
                let Some(spec) = self.cluster.pod(pod).map(|p| p.spec as usize) else {
                    continue;
                };
                let tolerations = &self.cluster.pod_specs()[spec].tolerations;
                if let Some(delay) = eviction_delay(tolerations, &taint) {
                    self.clock
                        .schedule_in(offset + delay, Event::TaintEviction { pod });
                }
            }
        }
        let node = &self.cluster.nodes()[index];
        let pool = usize::from(node.pool.0);
        let out_with_zone = self.cluster.node_extra(index).out_with_zone();
        let mut event = self.pool_event(EventKind::NodeNotReady, pool);
        event.node = Some(node.name.clone());
        event.reason = Some(if out_with_zone {
            let zone = self.scenario.node_pools[pool]
                .zone_name()
                .unwrap_or_default();
            format!("its zone {zone} is out")
        } else {
            "the node's kubelet stopped reporting (random failure)".to_string()
        });
        self.log.push(event);
        if !out_with_zone {
            let repair = self.scenario.node_pools[pool]
                .failures
                .map_or(SimDuration::ZERO, |f| f.repair_delay);
            self.clock
                .schedule_in(repair, Event::NodeRepair { node: id });
        }
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
        let pool = usize::from(self.cluster.nodes()[index].pool.0);
        if let Some(back) = self.pools[pool].zone_out_until {
            // No VM can be created in a zone that is out: the repair waits for it.
            self.clock.schedule_at(back, Event::NodeRepair { node: id });
            return;
        }
        self.cluster.end_failure(index);
        let name = self.cluster.nodes()[index].name.clone();
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
