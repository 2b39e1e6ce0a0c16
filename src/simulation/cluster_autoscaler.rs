//! The Cluster Autoscaler at work: at each scan it sees the nodes, the pods on them, the pods
//! the scheduler could not place and the nodes on their way, and asks for nodes or removes them.
//!
//! The controller is a plain function of what it observes (`controllers::cluster_autoscaler`);
//! this file builds its observation from the simulation's state, applies its actions, and
//! hands what it found for each pod the scheduler could not place to the pod's pending reason.

use crate::controllers::cluster_autoscaler::scale_down::{
    DELETION_CANDIDATE_TAINT_KEY, TerminatingPod, deletion_candidate_taint,
};
use crate::controllers::cluster_autoscaler::{CaAction, ClusterObservation, Scan};
use crate::simulation::cluster_state::PodRef;
use crate::simulation::{Event, Simulation};
use crate::units::SimTime;

impl Simulation<'_> {
    /// The Cluster Autoscaler scans the cluster and acts.
    pub(super) fn on_ca_scan(&mut self) {
        let Some((scan, unschedulable, jobs_pending)) = self.ca_decide() else {
            return;
        };
        for action in scan.actions {
            match action {
                CaAction::ScaleUp {
                    pool,
                    count,
                    reason,
                    ..
                } => {
                    for _ in 0..count {
                        self.request_node(pool, &reason);
                    }
                    self.count_nodes_for_jobs(&jobs_pending, count);
                }
                CaAction::ScaleDown { node, reason } => self.drain_node(node, &reason),
                CaAction::CancelUpcoming {
                    pool,
                    count,
                    reason,
                } => self.cancel_upcoming(pool, count, &reason),
                CaAction::DeleteFailedCreations {
                    pool,
                    count,
                    reason,
                } => self.delete_failed_creations(pool, count, &reason),
                CaAction::MarkDeletionCandidate { node } => {
                    if let Some(i) = self.cluster.node_index(node) {
                        let taint = deletion_candidate_taint(self.clock.now());
                        self.cluster.put_soft_taint(i, taint);
                    }
                }
                CaAction::CleanDeletionCandidate { node } => {
                    if let Some(i) = self.cluster.node_index(node) {
                        self.cluster
                            .remove_soft_taint(i, DELETION_CANDIDATE_TAINT_KEY);
                    }
                }
            }
        }
        let now = self.clock.now();
        for (pod_ref, verdict) in unschedulable.into_iter().zip(scan.pods) {
            self.cluster.ca_verdict(pod_ref, verdict, now);
        }
        if let Some(spec) = &self.scenario.autoscaling.cluster_autoscaler {
            self.clock.schedule_in(spec.scan_interval, Event::CaScan);
        }
    }

    /// Per pool: the request times of the nodes on their way, and how many VMs' creation
    /// failed.
    fn upcoming_by_pool(&self) -> (Vec<Vec<SimTime>>, Vec<u32>) {
        (0..self.pools.len())
            .map(|p| {
                let upcoming = &self.cluster.pool(p).upcoming;
                let coming = (upcoming.iter())
                    .filter(|u| !u.creation_failed)
                    .map(|u| u.requested_at)
                    .collect();
                let failed = upcoming.iter().filter(|u| u.creation_failed).count();
                (coming, u32::try_from(failed).unwrap_or(u32::MAX))
            })
            .unzip()
    }

    /// What the Cluster Autoscaler decides from what it observes now, with the pods the
    /// scheduler could not place (in the order observed) and which jobs had such pods (for the
    /// nodes they drive); `None` without one.
    fn ca_decide(&mut self) -> Option<(Scan, Vec<PodRef>, Vec<bool>)> {
        let now = self.clock.now();
        let services = self.services.len();
        let mut jobs_pending = vec![false; self.jobs.len()];
        // Spec index of every active (not terminating) pod, grouped by node: one pass over the
        // pods, in workload order (services, then jobs) then creation order.
        let cluster = &self.cluster;
        let mut pods_on_node: Vec<Vec<usize>> = vec![Vec::new(); cluster.nodes().len()];
        let mut terminating_on_node: Vec<Vec<TerminatingPod>> =
            vec![Vec::new(); cluster.nodes().len()];
        for w in 0..services + self.jobs.len() {
            for (_, pod) in cluster.active_pods(w) {
                if let Some(i) = pod.node().and_then(|id| cluster.node_index(id)) {
                    pods_on_node[i].push(pod.spec as usize);
                }
            }
            let grace = match self.job_of(w) {
                Some(j) => self.scenario.jobs[j].termination_grace,
                None => self.scenario.services[w].termination_grace,
            };
            for pod in cluster.terminating_pods(w) {
                let node = pod.node().and_then(|id| cluster.node_index(id));
                if let (Some(i), Some(deleted_at)) = (node, pod.terminating_since) {
                    terminating_on_node[i].push(TerminatingPod {
                        spec: pod.spec as usize,
                        deleted_at,
                        grace,
                    });
                }
            }
        }
        let mut unschedulable = Vec::new();
        let mut refs = Vec::new();
        for (pod_ref, pod) in cluster.unschedulable() {
            unschedulable.push(pod.spec as usize);
            refs.push(pod_ref);
            if let Some(j) = usize::from(pod.service).checked_sub(services) {
                jobs_pending[j] = true;
            }
        }
        let (upcoming, creation_errors) = self.upcoming_by_pool();
        // Per spec: a service's budget. A job's pods have none; those not safe to evict block
        // their node as a budget with nothing left does (upstream's drainability rules treat
        // both alike: the node is unremovable and rechecked later).
        let disruptions_allowed: Vec<Option<u32>> = (0..cluster.pod_specs().len())
            .map(|s| {
                if s < services {
                    self.budget_status(s).map(|b| b.disruptions_allowed)
                } else {
                    (!self.spec_safe_to_evict(s)).then_some(0)
                }
            })
            .collect();
        let observation = ClusterObservation {
            now,
            pools: &self.scenario.node_pools,
            pod_specs: cluster.pod_specs(),
            nodes: cluster.nodes(),
            pods_on_node: &pods_on_node,
            terminating_on_node: &terminating_on_node,
            unschedulable: &unschedulable,
            upcoming: &upcoming,
            creation_errors: &creation_errors,
            disruptions_allowed: &disruptions_allowed,
        };
        let ca = self.cluster_autoscaler.as_mut()?;
        Some((
            ca.scan(&observation, &mut self.rng_autoscaler),
            refs,
            jobs_pending,
        ))
    }
}
