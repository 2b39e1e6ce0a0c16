//! Nodes in `ClusterState`: asked of the cloud (billed from then on), registered, drained or
//! preempted, and removed, with their pool's gauges kept in step.
//!
//! Billing follows the cloud: a node costs from the moment it is asked for until it is removed,
//! whether or not it ever registered, except while its VM's creation has failed (a zone
//! outage): a pool's billed nodes are always its upcoming ones still being created plus its
//! registered ones.

use crate::cluster::node::{Node, NodeId, PoolId};
use crate::cluster::pool::NodePool;
use crate::cluster::scheduler::ClassifiedNodes;
use crate::cluster::spec::{Taint, TaintEffect};
use crate::simulation::cluster_state::{ClusterState, PodPhase, node_index};
use crate::units::SimTime;

/// A node asked of the cloud that has not registered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Upcoming {
    /// The request's number, unique in the run: what the event of its boot names. The node's
    /// `NodeId` is given when it registers, so that ids follow registration order (nodes
    /// requested together may boot in any order when the provisioning delay is random).
    pub(crate) request: u32,
    /// Its serial in the pool, for its name.
    pub(crate) serial: u32,
    /// When it was asked for (billing starts here).
    pub(crate) requested_at: SimTime,
    /// Its VM's creation failed (its zone is out): it is not billed, will not boot, and waits
    /// for the Cluster Autoscaler to delete it or for the zone to come back.
    pub(crate) creation_failed: bool,
}

/// What the simulation keeps about a node beyond what the scheduler sees.
#[derive(Debug, Clone)]
pub(crate) struct NodeExtra {
    /// Per service: when its image is (or will be) on the node.
    image_ready_at: Vec<Option<SimTime>>,
    /// Whether the node is being drained for removal (by the Cluster Autoscaler, or because
    /// its Spot VM is preempted).
    draining: bool,
    /// While draining: when the Cluster Autoscaler stops retrying refused evictions.
    evict_until: SimTime,
    /// The cloud preempted the node (a Spot VM): it goes once its pods are gone.
    preempted: bool,
    /// The node failed (NotReady, unreachable): it stays, serving nothing, until repaired.
    failed: bool,
    /// The node's failure is its zone's outage: it comes back when the outage ends.
    out_with_zone: bool,
    /// Its own random failure fell due while its zone was out (and was ignored then).
    failure_missed: bool,
    /// The node's slot in the CPU table.
    pub(super) cpu_slot: u32,
    /// The node's slot in the memory table.
    pub(super) memory_slot: u32,
}

impl NodeExtra {
    /// Whether the node is being drained for removal.
    pub(crate) fn draining(&self) -> bool {
        self.draining
    }

    /// While draining: when refused evictions stop being retried.
    pub(crate) fn evict_until(&self) -> SimTime {
        self.evict_until
    }

    /// Whether the cloud preempted the node.
    pub(crate) fn preempted(&self) -> bool {
        self.preempted
    }

    /// Whether the node failed and waits for its repair.
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    /// Whether the node is unreachable because its zone is out.
    pub(crate) fn out_with_zone(&self) -> bool {
        self.out_with_zone
    }

    /// Whether its own random failure fell due while its zone was out.
    pub(crate) fn failure_missed(&self) -> bool {
        self.failure_missed
    }
}

impl ClusterState {
    /// Registered nodes, ordered by id.
    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The registered nodes' label classes, parallel to `nodes()`, for the scheduler.
    pub(crate) fn classified_nodes(&self) -> ClassifiedNodes<'_> {
        ClassifiedNodes {
            classes: &self.label_classes,
            class_of_node: &self.node_classes,
        }
    }

    /// The index in `nodes()` of node `id`, if it is registered.
    pub(crate) fn node_index(&self, id: NodeId) -> Option<usize> {
        node_index(&self.nodes, id)
    }

    /// What the simulation keeps about `nodes()[index]`.
    pub(crate) fn node_extra(&self, index: usize) -> &NodeExtra {
        &self.node_extras[index]
    }

    /// When service `s`'s image is (or will be) on `nodes()[index]`, to be set by the first
    /// pod that pulls it.
    pub(crate) fn image_ready_at_mut(&mut self, index: usize, s: usize) -> &mut Option<SimTime> {
        &mut self.node_extras[index].image_ready_at[s]
    }

    /// Asks the cloud for a node of pool `p` at `now`: billed from now, upcoming until it
    /// registers.
    pub(crate) fn request_node(&mut self, p: usize, now: SimTime) -> Upcoming {
        let request = self.next_request;
        self.next_request += 1;
        let pool = &mut self.pools[p];
        let serial = pool.next_serial;
        pool.next_serial += 1;
        pool.billed_measured.add(now, 1);
        pool.billed_total.add(now, 1);
        let upcoming = Upcoming {
            request,
            serial,
            requested_at: now,
            creation_failed: false,
        };
        pool.upcoming.push(upcoming);
        upcoming
    }

    /// The node of `request` has booted: it is no longer upcoming. Returns its pool and
    /// request, or `None` when it was given up on.
    /// A node whose creation failed never boots.
    pub(crate) fn take_upcoming(&mut self, request: u32) -> Option<(usize, Upcoming)> {
        self.pools.iter_mut().enumerate().find_map(|(p, pool)| {
            let i =
                (pool.upcoming.iter()).position(|u| u.request == request && !u.creation_failed)?;
            Some((p, pool.upcoming.remove(i)))
        })
    }

    /// Gives up on the most recently asked-for node of pool `p` that has not registered and
    /// is still being created, and stops billing it. Returns it, or `None` when there is none.
    pub(crate) fn cancel_upcoming(&mut self, p: usize, now: SimTime) -> Option<Upcoming> {
        let pool = &mut self.pools[p];
        let i = pool.upcoming.iter().rposition(|u| !u.creation_failed)?;
        let upcoming = pool.upcoming.remove(i);
        pool.billed_measured.add(now, -1);
        pool.billed_total.add(now, -1);
        Some(upcoming)
    }

    /// The creation of every VM of pool `p` on its way fails (its zone is out): billing
    /// stops. Returns how many failed.
    pub(crate) fn fail_creations(&mut self, p: usize, now: SimTime) -> u32 {
        let pool = &mut self.pools[p];
        let mut failed = 0;
        for u in pool.upcoming.iter_mut().filter(|u| !u.creation_failed) {
            u.creation_failed = true;
            failed += 1;
        }
        pool.billed_measured.add(now, -i64::from(failed));
        pool.billed_total.add(now, -i64::from(failed));
        failed
    }

    /// Deletes the `count` oldest nodes of pool `p` whose creation failed (the Cluster
    /// Autoscaler's `deleteCreatedNodesWithErrors`). Returns them.
    pub(crate) fn delete_failed_creations(&mut self, p: usize, count: u32) -> Vec<Upcoming> {
        let pool = &mut self.pools[p];
        let mut deleted = Vec::new();
        pool.upcoming.retain(|u| {
            let delete = u.creation_failed && deleted.len() < count as usize;
            if delete {
                deleted.push(*u);
            }
            !delete
        });
        deleted
    }

    /// The cloud creates again, at `now`, every VM of pool `p` whose creation failed (the
    /// managed instance group retries once the zone is back): each is billed again and gets
    /// a new request number, so that a boot scheduled before the failure finds nothing.
    /// Returns them.
    pub(crate) fn retry_creations(&mut self, p: usize, now: SimTime) -> Vec<Upcoming> {
        let mut retried = Vec::new();
        for i in 0..self.pools[p].upcoming.len() {
            if !self.pools[p].upcoming[i].creation_failed {
                continue;
            }
            let request = self.next_request;
            self.next_request += 1;
            let u = &mut self.pools[p].upcoming[i];
            u.creation_failed = false;
            u.request = request;
            retried.push(*u);
        }
        let pool = &mut self.pools[p];
        let count = i64::try_from(retried.len()).unwrap_or(i64::MAX);
        pool.billed_measured.add(now, count);
        pool.billed_total.add(now, count);
        retried
    }

    /// A node asked for earlier joins the cluster, Ready and empty. Returns it.
    pub(crate) fn register_node(
        &mut self,
        p: usize,
        spec: &NodePool,
        upcoming: Upcoming,
        now: SimTime,
    ) -> &Node {
        let id = NodeId(self.next_node_id);
        self.next_node_id += 1;
        let node = Node::from_pool(
            id,
            PoolId(p as u16),
            spec,
            upcoming.serial,
            upcoming.requested_at,
        );
        self.account_registered(p, &node, now, 1);
        // Node ids only grow, so pushing keeps `nodes` ordered by id.
        assert!(
            self.nodes.last().is_none_or(|last| last.id < node.id),
            "nodes register in id order"
        );
        self.note_loosened(node.id);
        let cpu_slot = self.cpu.add(node.allocatable.cpu.0, spec.machine.speed, p);
        let memory_slot = self.memory.add(node.id, node.allocatable.memory);
        self.node_classes
            .push(self.label_classes.classify(&node.labels));
        for counts in &mut self.active_pods {
            counts.push(0);
        }
        self.nodes.push(node);
        let services = self.workloads.len();
        self.node_extras.push(NodeExtra {
            image_ready_at: vec![None; services],
            draining: false,
            evict_until: SimTime::ZERO,
            preempted: false,
            failed: false,
            out_with_zone: false,
            failure_missed: false,
            cpu_slot,
            memory_slot,
        });
        &self.nodes[self.nodes.len() - 1]
    }

    /// Starts draining `nodes()[index]`: it gets `taint`, so nothing new lands there, and its
    /// refused evictions are retried until `evict_until`.
    ///
    /// # Panics
    /// If the node is draining already.
    pub(crate) fn start_drain(&mut self, index: usize, taint: Taint, evict_until: SimTime) {
        let extra = &mut self.node_extras[index];
        assert!(!extra.draining, "a node is drained once at a time");
        extra.draining = true;
        extra.evict_until = evict_until;
        self.nodes[index].taints.push(taint);
    }

    /// A drain failed: the node stays, and loses the taint with key `taint_key`.
    pub(crate) fn cancel_drain(&mut self, index: usize, taint_key: &str) {
        self.node_extras[index].draining = false;
        self.nodes[index].taints.retain(|t| t.key != taint_key);
        self.note_loosened(self.nodes[index].id);
    }

    /// Puts the PreferNoSchedule `taint` on `nodes()[index]`, replacing any with its key. It
    /// only changes scores, never what fits where, so no node loosens and the Pending pods are
    /// not retried (none of them could fit anywhere more than before).
    ///
    /// # Panics
    /// If the taint is not PreferNoSchedule.
    pub(crate) fn put_soft_taint(&mut self, index: usize, taint: Taint) {
        assert_eq!(taint.effect, TaintEffect::PreferNoSchedule, "a soft taint");
        let taints = &mut self.nodes[index].taints;
        taints.retain(|t| t.key != taint.key);
        taints.push(taint);
    }

    /// Takes the PreferNoSchedule taints with `key` off `nodes()[index]`; as for
    /// `put_soft_taint`, no node loosens.
    pub(crate) fn remove_soft_taint(&mut self, index: usize, key: &str) {
        self.nodes[index]
            .taints
            .retain(|t| t.key != key || t.effect != TaintEffect::PreferNoSchedule);
    }

    /// The cloud preempts `nodes()[index]`: it gets `taint` and goes once its pods are gone.
    pub(crate) fn mark_preempted(&mut self, index: usize, taint: Taint) {
        let extra = &mut self.node_extras[index];
        extra.preempted = true;
        extra.draining = true;
        self.nodes[index].taints.push(taint);
    }

    /// `nodes()[index]` fails: it gets `taint` (nothing new lands there) and is marked so its
    /// removal waits for the repair; its pods are unreachable (`Pod::unreachable`) but stay
    /// in their Services' endpoints until `mark_not_ready`. Their requests must have been
    /// dropped.
    pub(crate) fn mark_failed(&mut self, index: usize, taint: Taint) {
        let extra = &mut self.node_extras[index];
        extra.failed = true;
        extra.draining = true;
        self.nodes[index].taints.push(taint);
        let id = self.nodes[index].id;
        for r in self.active_pods_on(id) {
            if let Some(pod) = self.pods.get_mut(r) {
                pod.unreachable = true;
            }
        }
    }

    /// The node lifecycle controller notices that `nodes()[index]` stopped reporting: its
    /// Ready pods leave their Services' endpoints.
    pub(crate) fn mark_not_ready(&mut self, index: usize, now: SimTime) {
        let id = self.nodes[index].id;
        for r in self.active_pods_on(id) {
            let Some(pod) = self.pods.get_mut(r) else {
                continue;
            };
            if pod.phase == PodPhase::Ready {
                pod.phase = PodPhase::Starting;
                pod.ready_since = None;
                pod.unready_since = Some(now);
                self.workloads[usize::from(pod.service)].remove_ready(r, now);
            }
        }
    }

    /// The repair of `nodes()[index]` begins: it is no longer held back from removal.
    pub(crate) fn end_failure(&mut self, index: usize) {
        self.node_extras[index].failed = false;
    }

    /// `nodes()[index]`, which failed, is unreachable because its zone is out.
    pub(crate) fn mark_out_with_zone(&mut self, index: usize) {
        self.node_extras[index].out_with_zone = true;
    }

    /// `nodes()[index]`'s own random failure fell due while its zone was out.
    pub(crate) fn note_missed_failure(&mut self, index: usize) {
        self.node_extras[index].failure_missed = true;
    }

    /// `nodes()[index]`'s zone is back: its kubelet reports again, the taint with `taint_key`
    /// goes, and it takes pods again. Its pods' readiness is the caller's.
    pub(crate) fn recover_from_outage(&mut self, index: usize, taint_key: &str) {
        let extra = &mut self.node_extras[index];
        extra.failed = false;
        extra.draining = false;
        extra.out_with_zone = false;
        extra.failure_missed = false;
        self.nodes[index].taints.retain(|t| t.key != taint_key);
        let id = self.nodes[index].id;
        for r in self.active_pods_on(id) {
            if let Some(pod) = self.pods.get_mut(r) {
                pod.unreachable = false;
            }
        }
        self.note_loosened(id);
    }

    /// Removes `nodes()[index]`, which holds no pod any more, and stops billing it.
    ///
    /// # Panics
    /// If a pod is still bound to it.
    pub(crate) fn remove_node(&mut self, index: usize, now: SimTime) -> (Node, NodeExtra) {
        assert_eq!(self.nodes[index].pod_count, 0, "removing a node with pods");
        let node = self.nodes.remove(index);
        let extra = self.node_extras.remove(index);
        self.node_classes.remove(index);
        for counts in &mut self.active_pods {
            counts.remove(index);
        }
        let p = usize::from(node.pool.0);
        if self.cpu.remove(extra.cpu_slot) {
            self.pools[p].contended.add(now, -1);
        }
        self.memory.remove(extra.memory_slot);
        self.account_registered(p, &node, now, -1);
        let pool = &mut self.pools[p];
        pool.billed_measured.add(now, -1);
        pool.billed_total.add(now, -1);
        (node, extra)
    }

    /// Adds (`sign` 1) or removes (-1) a registered node's allocatable and requests from its
    /// pool's figures.
    fn account_registered(&mut self, p: usize, node: &Node, now: SimTime, sign: i64) {
        let pool = &mut self.pools[p];
        pool.ready.add(now, sign);
        pool.cpu
            .allocatable
            .add(now, sign * node.allocatable.cpu.0 as i64);
        pool.memory
            .allocatable
            .add(now, sign * node.allocatable.memory.0 as i64);
        pool.account_requests(now, node.requested, sign);
    }
}
