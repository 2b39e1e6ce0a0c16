//! The Cluster Autoscaler, as kubernetes/autoscaler's `cluster-autoscaler` (release 1.37)
//! implements it: grows node pools for pods the scheduler cannot place, and removes nodes whose
//! pods fit elsewhere.
//!
//! Use `ClusterAutoscaler::scan` every `--scan-interval` with what the autoscaler observes
//! (`ClusterObservation`); apply the `CaAction`s it returns. The controller keeps only its own
//! memory between scans (unneeded-since times, last scale-up / delete / failure, per-pool
//! backoff, scale-ups in flight, deletions it started); it does no I/O, reads no clock, emits no
//! events, and draws randomness only from the generator passed in.
//!
//! One scan, in upstream's `RunOnce` order:
//! 1. **Scale-ups in flight** (`provisioning`): a pool whose requested nodes have all registered
//!    has completed its scale-up; one still waiting past `--max-node-provision-time` after its
//!    latest scale-up has failed and is backed off (`backoff`: 5m, doubling to 30m). Every node
//!    asked for longer ago than that is given up (`CaAction::CancelUpcoming`). When too many
//!    nodes are unready (`health`) the scan ends here; otherwise VMs whose creation failed are
//!    deleted (`CaAction::DeleteFailedCreations`) and their scale-up's pool backed off.
//! 2. **Upcoming nodes absorb pending pods** (`snapshot`): pending pods that fit on a node still
//!    on its way (or on a registered node with room) need no new node.
//! 3. **Scale-up** (`scale_up`, `estimator`, `expander`) for the pods still pending, and each
//!    pending pod's `verdicts::PodVerdict`: a node on its way is counted on for it, or why no
//!    scale-up is for it (the scan's `Scan::pods`).
//! 4. **Scale-down** (`scale_down`): unneeded nodes are recomputed every scan; deletions are
//!    only started when scale-down is not in cooldown: not within `--scale-down-delay-after-add`
//!    of the last scale-up, `--scale-down-delay-after-failure` of the last failed scale-down, or
//!    `--scale-down-delay-after-delete` of the last deletion (`now < last + delay`; 0 by
//!    default). As upstream starts those clocks when the autoscaler starts, they all start at
//!    time zero. Then, in cooldown or not, the unneeded nodes' soft taints are put on and the
//!    needed nodes' taken off (`CaAction::MarkDeletionCandidate`, `CleanDeletionCandidate`).
//!
//! **Scale-down thresholds.** A pool may set `cpu_threshold_percent` and
//! `memory_threshold_percent` (the reference configuration: 70 and 75), capsim's extension of
//! upstream's single threshold. They are per-node-group
//! scale-down utilization thresholds, as upstream supports per node group
//! (`NodeGroupAutoscalingOptions.ScaleDownUtilizationThreshold`), one per resource: a node is a
//! scale-down candidate when its pods' CPU requests are below `cpu_threshold_percent` % of its
//! allocatable CPU *and* their memory requests below `memory_threshold_percent` % of its
//! allocatable memory. With equal thresholds this is `max(cpu, memory) < threshold`, upstream's
//! rule up to 1.34.2, which kept a node whose utilization is *at* the threshold (1.34.3 and 1.35
//! on count it as a candidate). A pool that sets neither uses
//! `--scale-down-utilization-threshold` (default 0.5) for both; one that sets one uses the
//! global threshold for the other.
//!
//! A node with a GPU (a nonzero allocatable `nvidia.com/gpu`) is judged by its GPUs alone, as
//! upstream's `utilization.Calculate` judges a node for which the cloud provider reports a GPU:
//! its pods' GPU requests over its allocatable GPUs, CPU and memory not counted (a GPU node
//! whose pods request no GPU is at 0). It is a candidate when that is *at or below* the pool's
//! `gpu_threshold_percent`, else `--scale-down-gpu-utilization-threshold` (default 0.5), as
//! 1.37's `isNodeAtOrBelowUtilizationThreshold` decides.
//!
//! **Node counts.** A pool's size is its registered plus upcoming nodes (upstream's target
//! size); `--max-nodes-total` caps a scale-up at the registered plus upcoming nodes of every
//! pool, as the orchestrator's `GetCappedNewNodeCount(count, len(nodes)+len(upcomingNodes))`
//! does. Pools without `autoscaling` are neither grown nor shrunk.
//!
//! Simplifications, beyond those each module names: a registered node is ready unless it
//! is tainted unreachable (no node is ever NotStarted); pods are not held back for being very new (upstream waits 2s for more pods); placement in
//! simulations is first-fit in node order where upstream rotates its starting node.

pub mod backoff;
pub mod balance;
pub mod estimator;
pub mod expander;
pub mod health;
mod in_flight;
mod provisioning;
pub mod scale_down;
mod scale_up;
mod snapshot;
pub mod spec;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_balance;
#[cfg(test)]
mod tests_outage;
pub mod verdicts;

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;

use crate::cluster::node::{Node, NodeId};
use crate::cluster::pool::NodePool;
use crate::cluster::scheduler::PodGroups;
use crate::cluster::spec::{NVIDIA_GPU, PodSpec, Taint, TaintEffect, extended_index};
use crate::controllers::cluster_autoscaler::backoff::Backoff;
use crate::controllers::cluster_autoscaler::balance::{NodeShape, find_similar, similar};
use crate::controllers::cluster_autoscaler::provisioning::Provisioning;
use crate::controllers::cluster_autoscaler::scale_down::{
    InProgress, Planner, PlannerInput, TerminatingPod, Thresholds, soft_taint_actions,
};
use crate::controllers::cluster_autoscaler::scale_up::ScaleUpInput;
use crate::controllers::cluster_autoscaler::snapshot::Snapshot;
use crate::controllers::cluster_autoscaler::spec::ClusterAutoscalerSpec;
use crate::controllers::cluster_autoscaler::verdicts::{PodVerdict, PoolView, pod_verdicts};
use crate::units::{SimDuration, SimTime};

/// The taint the autoscaler puts on a node it deletes (`ToBeDeletedByClusterAutoscaler`,
/// NoSchedule): new pods stay off it while it is drained.
pub const TO_BE_DELETED_TAINT_KEY: &str = "ToBeDeletedByClusterAutoscaler";

/// `--max-pod-eviction-time`: how long a drain keeps retrying refused evictions.
pub const MAX_POD_EVICTION_TIME: SimDuration = SimDuration::from_secs(2 * 60);

/// `DefaultEvictionRetryTime`: the wait between attempts to evict a refused pod.
pub const EVICTION_RETRY_TIME: SimDuration = SimDuration::from_secs(10);

/// The taint to put on a node being deleted by the autoscaler. Upstream's value is the Unix time
/// of the deletion; only the key matters to the scheduler and the autoscaler.
pub fn to_be_deleted_taint() -> Taint {
    Taint {
        key: TO_BE_DELETED_TAINT_KEY.to_string(),
        value: String::new(),
        effect: TaintEffect::NoSchedule,
    }
}

/// What the Cluster Autoscaler sees at one scan.
#[derive(Debug, Clone, Copy)]
pub struct ClusterObservation<'a> {
    /// The scan's time.
    pub now: SimTime,
    /// Scenario pools, index = `PoolId.0`.
    pub pools: &'a [NodePool],
    /// The pod specs pods are indexed by (the simulation's table: each service's, then jobs').
    pub pod_specs: &'a [PodSpec],
    /// Registered nodes (cordoned and tainted ones included).
    pub nodes: &'a [Node],
    /// Parallel to `nodes`: the spec index of each pod bound there (terminating pods
    /// excluded).
    pub pods_on_node: &'a [Vec<usize>],
    /// Parallel to `nodes`: the terminating pods still bound there.
    pub terminating_on_node: &'a [Vec<TerminatingPod>],
    /// Spec index of each pod the scheduler could not place, oldest first.
    pub unschedulable: &'a [usize],
    /// Per pool: request times of nodes asked for and not yet registered, whose VMs are
    /// being created.
    pub upcoming: &'a [Vec<SimTime>],
    /// Per pool: VMs whose creation failed (their zone is out), not in `upcoming`.
    pub creation_errors: &'a [u32],
    /// Per spec: the disruptions its pods' PodDisruptionBudget allows now (`None`: no budget).
    pub disruptions_allowed: &'a [Option<u32>],
}

/// A change the autoscaler wants; the simulation applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaAction {
    /// Ask the cloud for `count` more nodes in `pool`. A scale-up balanced over similar node
    /// groups is one `ScaleUp` per group, each with the whole scale-up's pods and reason.
    ScaleUp {
        /// Pool index.
        pool: usize,
        /// Nodes to add.
        count: u32,
        /// Pending pods the scale-up's new nodes (in every group it grows) are expected to take.
        pods_helped: u32,
        /// Why this pool and this count: the estimate and each expander's scores.
        reason: String,
    },
    /// Delete a registered node (the simulation taints it with `to_be_deleted_taint`, evicts
    /// its pods, and removes it).
    ScaleDown {
        /// The node.
        node: NodeId,
        /// Its utilization against the thresholds and since when it has been unneeded.
        reason: String,
    },
    /// Put the soft taint `scale_down::deletion_candidate_taint` on a node found unneeded
    /// (`MarkDeletionCandidate`), so that the scheduler prefers other nodes.
    MarkDeletionCandidate {
        /// The node.
        node: NodeId,
    },
    /// Take the soft taint off a node that is needed again (`CleanDeletionCandidate`).
    CleanDeletionCandidate {
        /// The node.
        node: NodeId,
    },
    /// Delete `count` VMs of `pool` whose creation failed (`deleteCreatedNodesWithErrors`),
    /// the oldest first.
    DeleteFailedCreations {
        /// Pool index.
        pool: usize,
        /// VMs to delete.
        count: u32,
        /// The failure and the pool's backoff.
        reason: String,
    },
    /// Give up on `count` nodes of `pool` that did not register within
    /// max-node-provision-time (the oldest requests; the pool is backed off when its latest
    /// scale-up timed out).
    CancelUpcoming {
        /// Pool index.
        pool: usize,
        /// Upcoming nodes to forget, the oldest requests first.
        count: u32,
        /// How long they waited and the pool's backoff.
        reason: String,
    },
}

/// What a scan's scale-up is for: the pods still pending, with the node groups it may grow
/// and the cluster the estimator's filters see.
#[derive(Clone, Copy)]
struct Need<'a> {
    /// Spec index of each pending pod no node on its way takes, oldest first.
    pending: &'a [usize],
    /// Per pool: whether its group is healthy (`health::healthy_groups`).
    healthy: &'a [bool],
    /// The snapshot's nodes, registered and upcoming, with their pods.
    cluster: &'a [Node],
    /// The specs that declare inter-pod (anti-)affinity.
    affinity_groups: &'a [u32],
}

/// What one scan decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The changes to apply: cancellations first, then at most one scale-up (one `ScaleUp` per
    /// node group it grows, in pool order), then deletions, then soft taints.
    pub actions: Vec<CaAction>,
    /// Parallel to the observation's `unschedulable`: what the scan found for each pod.
    pub pods: Vec<PodVerdict>,
}

/// The Cluster Autoscaler's state between scans.
#[derive(Debug, Clone)]
pub struct ClusterAutoscaler {
    spec: ClusterAutoscalerSpec,
    last_scale_up: SimTime,
    last_scale_down_delete: SimTime,
    last_scale_down_failure: SimTime,
    backoff: Backoff,
    provisioning: Provisioning,
    planner: Planner,
    /// Nodes this autoscaler started deleting, with whether they had pods to drain.
    deletions: BTreeMap<NodeId, bool>,
    /// Per pool, the pools similar to it (`balance::find_similar` over their template
    /// nodes, which do not change during a run); empty lists when balancing is off.
    similar_pools: Vec<Vec<usize>>,
}

impl ClusterAutoscaler {
    /// An autoscaler with `spec`'s flags for `pools`, started at time zero.
    pub fn new(spec: &ClusterAutoscalerSpec, pools: &[NodePool]) -> ClusterAutoscaler {
        ClusterAutoscaler {
            spec: spec.clone(),
            last_scale_up: SimTime::ZERO,
            last_scale_down_delete: SimTime::ZERO,
            last_scale_down_failure: SimTime::ZERO,
            backoff: Backoff::new(pools.len()),
            provisioning: Provisioning::new(pools.len()),
            planner: Planner::default(),
            deletions: BTreeMap::new(),
            similar_pools: similar_pools(spec, pools),
        }
    }

    /// Since when `node` has been found unneeded, if it currently is.
    pub fn unneeded_since(&self, node: NodeId) -> Option<SimTime> {
        self.planner.unneeded_since(node)
    }

    /// The per-pool scale-up backoff.
    pub fn backoff(&self) -> &Backoff {
        &self.backoff
    }

    /// Records that the `ScaleDown` of `node` could not be carried out at `now`: the node no
    /// longer counts as being deleted, and scale-down waits `--scale-down-delay-after-failure`.
    pub fn note_scale_down_failure(&mut self, node: NodeId, now: SimTime) {
        self.last_scale_down_failure = now;
        self.deletions.remove(&node);
    }

    /// Whether starting deletions is held back at `now` by the scale-down delays.
    pub fn scale_down_in_cooldown(&self, now: SimTime) -> bool {
        let s = &self.spec;
        now < self.last_scale_up + s.scale_down_delay_after_add
            || now < self.last_scale_down_failure + s.scale_down_delay_after_failure
            || now < self.last_scale_down_delete + s.scale_down_delay_after_delete
    }

    /// One scan: the actions to apply, and what it found for each pod the scheduler could not
    /// place.
    pub fn scan<R: Rng + ?Sized>(&mut self, obs: &ClusterObservation<'_>, rng: &mut R) -> Scan {
        let mut actions = Vec::new();
        // 1. Scale-ups in flight and nodes that never registered.
        let upcoming = self.cancel_overdue(obs, &mut actions);
        if !health::cluster_healthy(obs.nodes) {
            // "Cluster is not ready for autoscaling": nothing more this scan.
            self.planner.clean_up_unneeded();
            let pods = vec![PodVerdict::Undecided; obs.unschedulable.len()];
            return Scan { actions, pods };
        }
        self.delete_failed_creations(obs, &mut actions);
        // 2. Deletions in progress and pool sizes.
        let deleting = self.deleting(obs);
        let (in_progress, mut target_sizes) = self.pool_sizes(obs, &deleting, &upcoming);
        // 3. Pending pods that nodes on their way (or room on registered ones) will take.
        let mut snapshot = Snapshot::new(obs.nodes, &deleting, obs.pools, &upcoming);
        snapshot.affinity_groups = PodGroups::with_pod_affinity(obs.pod_specs);
        let placed = snapshot.filter_out_schedulable(obs.unschedulable, obs.pod_specs);
        let pending: Vec<usize> = (obs.unschedulable.iter().zip(&placed))
            .filter(|(_, node)| node.is_none())
            .map(|(&s, _)| s)
            .collect();
        // 4. Scale-up, and each pending pod's verdict.
        let sizes_before = target_sizes.clone();
        let healthy = health::healthy_groups(obs.pools.len(), obs.nodes, &upcoming, |p| {
            self.provisioning.in_flight(p)
        });
        let need = Need {
            pending: &pending,
            healthy: &healthy,
            cluster: &snapshot.nodes,
            affinity_groups: &snapshot.affinity_groups,
        };
        let grown = self.scale_up(obs, need, &mut target_sizes, rng, &mut actions);
        let view = PoolView {
            now: obs.now,
            pools: obs.pools,
            target_sizes: &sizes_before,
            backoff: &self.backoff,
            healthy: &healthy,
        };
        let scale_up = grown
            .as_ref()
            .map(|(groups, pods)| (groups.as_slice(), pods.as_slice()));
        let pods = pod_verdicts(
            obs.unschedulable,
            obs.pod_specs,
            &placed,
            |i| snapshot.upcoming_pool(i),
            scale_up,
            &view,
        );
        // 5. Scale-down.
        if self.spec.scale_down_enabled {
            self.scale_down(
                obs,
                &deleting,
                &target_sizes,
                &in_progress,
                &mut snapshot,
                &mut actions,
            );
        }
        Scan { actions, pods }
    }

    /// Forgets deletions of nodes that are gone; returns, per observed node, whether it is
    /// being deleted (by this autoscaler, or tainted for deletion).
    fn deleting(&mut self, obs: &ClusterObservation<'_>) -> Vec<bool> {
        let present: BTreeSet<NodeId> = obs.nodes.iter().map(|n| n.id).collect();
        self.deletions.retain(|id, _| present.contains(id));
        obs.nodes
            .iter()
            .map(|n| {
                self.deletions.contains_key(&n.id)
                    || n.taints.iter().any(|t| t.key == TO_BE_DELETED_TAINT_KEY)
            })
            .collect()
    }

    /// The deletions in flight (empty or draining, and per pool) and each pool's target size:
    /// its registered nodes plus `upcoming`.
    fn pool_sizes(
        &self,
        obs: &ClusterObservation<'_>,
        deleting: &[bool],
        upcoming: &[u32],
    ) -> (InProgress, Vec<u32>) {
        let mut in_progress = InProgress {
            by_pool: vec![0; obs.pools.len()],
            ..InProgress::default()
        };
        let mut target_sizes = upcoming.to_vec();
        for (i, node) in obs.nodes.iter().enumerate() {
            let p = usize::from(node.pool.0);
            if let Some(size) = target_sizes.get_mut(p) {
                *size = size.saturating_add(1);
            }
            if deleting[i] {
                if let Some(count) = in_progress.by_pool.get_mut(p) {
                    *count = count.saturating_add(1);
                }
                let has_pods = obs.pods_on_node.get(i).is_some_and(|pods| !pods.is_empty());
                if self.deletions.get(&node.id).copied().unwrap_or(has_pods) {
                    in_progress.drain += 1;
                } else {
                    in_progress.empty += 1;
                }
            }
        }
        (in_progress, target_sizes)
    }

    /// Plans this scan's scale-up for the `pending` pods of `need`; when there is one, records
    /// it (one `ScaleUp` per node group it grows), counts its nodes into `target_sizes` and
    /// returns those groups with the service index of each pod it is for.
    fn scale_up<R: Rng + ?Sized>(
        &mut self,
        obs: &ClusterObservation<'_>,
        need: Need<'_>,
        target_sizes: &mut [u32],
        rng: &mut R,
        actions: &mut Vec<CaAction>,
    ) -> Option<(Vec<usize>, Vec<usize>)> {
        let now = obs.now;
        let input = ScaleUpInput {
            now,
            spec: &self.spec,
            pools: obs.pools,
            pod_specs: obs.pod_specs,
            pending: need.pending,
            target_sizes,
            registered_nodes: obs.nodes.len(),
            backoff: &self.backoff,
            healthy: need.healthy,
            cluster: need.cluster,
            affinity_groups: need.affinity_groups,
            similar_pools: &self.similar_pools,
        };
        let plan = scale_up::plan(&input, rng)?;
        self.last_scale_up = now;
        for &(pool, count) in &plan.groups {
            self.provisioning
                .register_scale_up(pool, now, self.spec.max_node_provision_time);
            if let Some(size) = target_sizes.get_mut(pool) {
                *size = size.saturating_add(count);
            }
            actions.push(CaAction::ScaleUp {
                pool,
                count,
                pods_helped: plan.pods_helped,
                reason: plan.reason.clone(),
            });
        }
        let groups = plan.groups.iter().map(|&(pool, _)| pool).collect();
        Some((groups, plan.pods))
    }

    /// Recomputes the unneeded nodes and, out of cooldown, starts deleting those due.
    fn scale_down(
        &mut self,
        obs: &ClusterObservation<'_>,
        deleting: &[bool],
        target_sizes: &[u32],
        in_progress: &InProgress,
        snapshot: &mut Snapshot,
        actions: &mut Vec<CaAction>,
    ) {
        let now = obs.now;
        let thresholds: Vec<Option<Thresholds>> = obs
            .pools
            .iter()
            .map(|p| {
                Thresholds::for_pool(
                    p,
                    self.spec.scale_down_utilization_threshold,
                    self.spec.scale_down_gpu_utilization_threshold,
                )
            })
            .collect();
        // Every pod spec carries the scenario's one table of extended resource names.
        let gpu = obs
            .pod_specs
            .first()
            .and_then(|s| extended_index(&s.extended_names, NVIDIA_GPU));
        let input = PlannerInput {
            now,
            pools: obs.pools,
            pod_specs: obs.pod_specs,
            nodes: obs.nodes,
            pods_on_node: obs.pods_on_node,
            terminating_on_node: obs.terminating_on_node,
            deleting,
            target_sizes,
            thresholds: &thresholds,
            gpu,
            disruptions_allowed: obs.disruptions_allowed,
            max_scale_down_parallelism: self.spec.max_scale_down_parallelism as usize,
            unneeded_time: self.spec.scale_down_unneeded_time,
            scan_interval: self.spec.scan_interval,
        };
        self.planner.update(&input, snapshot);
        // Upstream updates the soft taints after starting deletions, from the unneeded nodes
        // of this update (the deleted ones included) and the nodes as listed at the start.
        let soft_taints = self.soft_taints(obs, &thresholds);
        if !self.scale_down_in_cooldown(now) {
            let unneeded_time = self.spec.scale_down_unneeded_time;
            let deletions = self
                .planner
                .nodes_to_delete(&input, unneeded_time, in_progress);
            if !deletions.is_empty() {
                self.last_scale_down_delete = now;
            }
            for d in deletions {
                let node = obs.nodes[d.index].id;
                self.deletions.insert(node, d.drain);
                actions.push(CaAction::ScaleDown {
                    node,
                    reason: d.reason,
                });
            }
        }
        actions.extend(soft_taints);
    }

    /// The soft-taint changes of this scan (`scale_down::soft_taint_actions`): nodes of
    /// autoscaled pools (`thresholds` set) the planner found unneeded are marked, the others
    /// cleaned, at most `--max-bulk-soft-taint-count` in all.
    fn soft_taints(
        &self,
        obs: &ClusterObservation<'_>,
        thresholds: &[Option<Thresholds>],
    ) -> Vec<CaAction> {
        let changes = soft_taint_actions(
            obs.nodes,
            |i| {
                let p = usize::from(obs.nodes[i].pool.0);
                thresholds.get(p).is_some_and(Option::is_some)
            },
            |i| self.planner.is_unneeded(obs.nodes[i].id),
            self.spec.max_bulk_soft_taint_count as usize,
        );
        (changes.into_iter())
            .map(|(i, mark)| {
                let node = obs.nodes[i].id;
                if mark {
                    CaAction::MarkDeletionCandidate { node }
                } else {
                    CaAction::CleanDeletionCandidate { node }
                }
            })
            .collect()
    }
}

/// Per autoscaled pool, the other autoscaled pools similar to it when `spec` balances similar
/// node groups (pools without autoscaling are no node group of the autoscaler's).
fn similar_pools(spec: &ClusterAutoscalerSpec, pools: &[NodePool]) -> Vec<Vec<usize>> {
    if !spec.balance_similar_node_groups {
        return vec![Vec::new(); pools.len()];
    }
    let shapes: Vec<NodeShape> = pools.iter().map(NodeShape::of_pool).collect();
    (0..pools.len())
        .map(|p| {
            if pools[p].autoscaling.is_none() {
                return Vec::new();
            }
            find_similar(p, &shapes, similar)
                .into_iter()
                .filter(|&q| pools[q].autoscaling.is_some())
                .collect()
        })
        .collect()
}
