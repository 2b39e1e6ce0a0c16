//! Random node failures: a node's kubelet stops reporting, the node goes NotReady and is
//! tainted unreachable, its pods stop serving and are evicted by the taint manager once their
//! toleration runs out, and the cloud's auto-repair replaces the VM.
//!
//! Upstream, the node lifecycle controller notices the missing heartbeats after
//! `--node-monitor-grace-period` (40s, 50s from 1.32) and then taints the node and marks its
//! pods not Ready; capsim does all of it at the failure. Every pod tolerates
//! `node.kubernetes.io/unreachable:NoExecute` for the 300s the DefaultTolerationSeconds
//! admission plugin gives; the taint manager then deletes the pods directly (no eviction API,
//! so no PodDisruptionBudget holds them back). GKE's auto-repair deletes and re-creates the
//! VM: here the node is removed and a new one of its group asked for, with the pool's
//! provisioning delay.

use crate::cluster::node::NodeId;
use crate::cluster::spec::{Taint, TaintEffect};
use crate::report::EventKind;
use crate::simulation::cluster_state::PodRef;
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
                self.services[s].counts.killed += lost.measured;
            }
        }
        let taint = Taint {
            key: UNREACHABLE_TAINT_KEY.to_string(),
            value: String::new(),
            effect: TaintEffect::NoExecute,
        };
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
            .schedule_in(NOT_READY_TOLERATION, Event::TaintEviction { node: id });
        self.clock
            .schedule_in(repair, Event::NodeRepair { node: id });
    }

    /// The pods of failed node `id` have outstayed their toleration: the taint manager deletes
    /// them, and their ReplicaSets replace them elsewhere.
    pub(super) fn on_taint_eviction(&mut self, id: NodeId) {
        let Some(index) = self.cluster.node_index(id) else {
            return;
        };
        if !self.cluster.node_extra(index).failed() {
            return;
        }
        for pod in self.cluster.active_pods_on(id) {
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
                self.services[s].counts.killed += lost.measured;
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
