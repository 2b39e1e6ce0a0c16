//! Nodes leaving the cluster with pods on them: the Cluster Autoscaler's drains, which evict
//! through the eviction API and so respect PodDisruptionBudgets, and Spot preemptions, which
//! respect nothing.
//!
//! This is the one place where node and pod changes meet: it evicts pods (`lifecycle`) and
//! removes nodes (`nodes`), and neither of those calls back here.

use crate::cluster::disruption::{BudgetStatus, EVICTION_REFUSED};
use crate::cluster::node::NodeId;
use crate::cluster::spec::{Taint, TaintEffect};
use crate::controllers::cluster_autoscaler::{
    EVICTION_RETRY_TIME, MAX_POD_EVICTION_TIME, TO_BE_DELETED_TAINT_KEY, to_be_deleted_taint,
};
use crate::report::EventKind;
use crate::simulation::cluster_state::{PodPhase, PodRef};
use crate::simulation::{Event, Simulation};

/// The taint GKE puts on a node whose Spot VM is about to be terminated.
const IMPENDING_TERMINATION_TAINT_KEY: &str = "cloud.google.com/impending-node-termination";

impl Simulation<'_> {
    /// Starts removing a registered node: taints it so nothing new lands there, evicts its pods
    /// (their ReplicaSets replace them elsewhere), and removes it once they are gone.
    pub(super) fn drain_node(&mut self, id: NodeId, reason: &str) {
        let now = self.clock.now();
        let index = (self.cluster.node_index(id)).filter(|i| {
            let extra = self.cluster.node_extra(*i);
            !extra.draining() && !extra.failed()
        });
        let Some(index) = index else {
            // Gone already, or being removed: tell the autoscaler its deletion did not happen.
            if let Some(ca) = self.cluster_autoscaler.as_mut() {
                ca.note_scale_down_failure(id, now);
            }
            return;
        };
        self.cluster
            .start_drain(index, to_be_deleted_taint(), now + MAX_POD_EVICTION_TIME);
        let node = &self.cluster.nodes()[index];
        let mut event = self.pool_event(EventKind::NodeDraining, usize::from(node.pool.0));
        event.node = Some(node.name.clone());
        event.reason = Some(reason.to_string());
        self.log.push(event);
        self.evict_drained_pods(id);
    }

    /// Evicts the pods left on a draining node through the eviction API: those their
    /// disruption budgets refuse are retried every `EVICTION_RETRY_TIME` until the node's
    /// eviction deadline, when the drain fails and the node is kept.
    pub(super) fn evict_drained_pods(&mut self, id: NodeId) {
        let now = self.clock.now();
        let Some(index) = self.cluster.node_index(id) else {
            return;
        };
        let extra = self.cluster.node_extra(index);
        if !extra.draining() {
            return;
        }
        let evict_until = extra.evict_until();
        let victims = self.cluster.active_pods_on(id);
        let mut refused = 0;
        if now < evict_until {
            for pod in victims {
                if self.eviction_allowed(pod) {
                    self.evict_pod(pod, "node is being removed by the Cluster Autoscaler");
                } else {
                    refused += 1;
                }
            }
        } else {
            refused = victims.len();
        }
        if refused == 0 {
            self.remove_node_if_drained(id);
        } else if now < evict_until {
            self.clock
                .schedule_in(EVICTION_RETRY_TIME, Event::EvictionRetry { node: id });
        } else {
            self.fail_drain(index, refused);
        }
    }

    /// Whether the eviction API lets `pod` go now: always without a disruption budget,
    /// otherwise as the budget's live status says.
    fn eviction_allowed(&self, pod_ref: PodRef) -> bool {
        let Some(pod) = self.cluster.pod(pod_ref) else {
            return true;
        };
        self.budget_status(usize::from(pod.service))
            .is_none_or(|status| {
                status.allows_eviction(
                    pod.running(self.clock.now()),
                    pod.phase() == PodPhase::Ready,
                    pod.phase() == PodPhase::Terminating,
                )
            })
    }

    /// The live status of workload `s`'s disruption budget, if it is a service with one: the disruption
    /// controller's view with no lag.
    pub(super) fn budget_status(&self, s: usize) -> Option<BudgetStatus> {
        let budget = self.scenario.services.get(s)?.disruption_budget?;
        let (pods, healthy) = self.cluster.budget_counts(s);
        Some(BudgetStatus::compute(
            budget,
            self.services[s].desired,
            pods,
            healthy,
        ))
    }

    /// Service `s`'s Deployment asks for `replicas` pods from now (the HPA rescaled it); its
    /// disruption budget's `desiredHealthy`, which follows them, is the floor its healthy pods
    /// are held to in the summary.
    pub(super) fn set_desired_replicas(&mut self, s: usize, replicas: u32) {
        self.services[s].desired = replicas;
        let min_available = self.budget_status(s).map(|b| b.desired_healthy);
        self.cluster
            .set_min_available(s, min_available, self.clock.now());
    }

    /// A drain ran out of time with `refused` pods still on the node: the node stays, loses
    /// its taint, and the Cluster Autoscaler counts a failed scale-down.
    fn fail_drain(&mut self, index: usize, refused: usize) {
        let now = self.clock.now();
        self.cluster.cancel_drain(index, TO_BE_DELETED_TAINT_KEY);
        let node = &self.cluster.nodes()[index];
        if let Some(ca) = self.cluster_autoscaler.as_mut() {
            ca.note_scale_down_failure(node.id, now);
        }
        let mut event = self.pool_event(EventKind::NodeDrainFailed, usize::from(node.pool.0));
        event.node = Some(node.name.clone());
        event.reason = Some(format!(
            "{refused} pod(s) not evicted within {MAX_POD_EVICTION_TIME}: {EVICTION_REFUSED}"
        ));
        self.log.push(event);
        self.retry_pending();
    }

    /// The cloud preempts a Spot VM: the node is tainted, its pods are terminated (no
    /// disruption budget holds a preemption back) and replaced by their ReplicaSets, the node
    /// goes once they are gone, and the pool's managed instance group asks for a new VM to keep
    /// its size.
    pub(super) fn on_node_preempted(&mut self, id: NodeId) {
        let Some(index) = self.cluster.node_index(id) else {
            return;
        };
        if self.cluster.node_extra(index).preempted() {
            return;
        }
        let now = self.clock.now();
        let pool = usize::from(self.cluster.nodes()[index].pool.0);
        if self.measured(now) {
            self.pools[pool].preempted += 1;
        }
        self.cluster.mark_preempted(
            index,
            Taint {
                key: IMPENDING_TERMINATION_TAINT_KEY.to_string(),
                value: String::new(),
                effect: TaintEffect::NoSchedule,
            },
        );
        let name = self.cluster.nodes()[index].name.clone();
        let mut event = self.pool_event(EventKind::NodePreempted, pool);
        event.node = Some(name.clone());
        event.reason = Some("Spot VM preempted by the cloud".to_string());
        self.log.push(event);
        for pod in self.cluster.active_pods_on(id) {
            self.evict_pod(pod, "node preempted");
        }
        self.request_node(
            pool,
            &format!("replaces preempted {name}: the managed instance group keeps its size"),
        );
        self.remove_node_if_drained(id);
    }
}
