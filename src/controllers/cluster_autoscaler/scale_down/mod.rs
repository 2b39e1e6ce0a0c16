//! Scale-down: which registered nodes are unneeded, for how long, and which to delete now, as
//! cluster-autoscaler's `core/scaledown` (planner, eligibility, unneeded, budgets) decides it.
//!
//! Use `Planner::update` every scan, in cooldown or not, so unneeded times keep running; use
//! `Planner::nodes_to_delete` when scale-down is not in cooldown.
//!
//! - **Candidates** are registered nodes of autoscaled pools whose size (registered + upcoming)
//!   is above the pool's minimum, not being deleted and not found unremovable in the last
//!   `UNREMOVABLE_NODE_RECHECK_TIMEOUT`. Empty nodes are considered first, then the nodes
//!   unneeded at the previous scan, then the rest, each in observation order.
//! - **A node's pods** are those bound to it plus those this scan expects to land on it (pending
//!   pods that fit there, pods of nodes being deleted), as upstream's snapshot holds them, and
//!   its terminating pods until they are long terminating (`utilization::is_long_terminating`:
//!   deleted more than their grace period + 30s ago). They count towards its utilization and
//!   must fit elsewhere.
//! - **Eligibility**: a node is underutilized when its pods' CPU requests are *below* the
//!   pool's CPU threshold of allocatable and their memory requests below its memory threshold
//!   (`Thresholds`); with equal thresholds this is `max(cpu, memory) < threshold`. A node with a
//!   GPU (a nonzero allocatable `nvidia.com/gpu`) is judged by its GPUs alone, as upstream's
//!   `utilization.Calculate` does: underutilized when its pods' GPU requests are *at or below*
//!   the pool's GPU threshold of its allocatable GPUs (upstream's
//!   `isNodeAtOrBelowUtilizationThreshold`), whatever their CPU and memory; a GPU node whose
//!   pods request no GPU is at 0.
//! - **Removal simulation**: every pod of the node must fit, scheduler filters and all, on
//!   another registered node that is not being deleted and not itself found removable earlier
//!   in this scan; pods placed for one node are taken off again before the next node is tried
//!   (upstream simulates each node on a forked snapshot). A node whose pods do not all fit is
//!   not rechecked for 5 minutes.
//! - **Unneeded limit**: once a scan has found `unneeded_nodes_limit` nodes removable
//!   (the previous scan's count + 2 × `--max-scale-down-parallelism`, at most N × unneeded
//!   time / scan interval + N), the remaining candidates are not simulated and are not
//!   unneeded (upstream's `unneededNodesLimit`).
//! - **Unneeded time**: a node stays unneeded from the first scan it is found removable until a
//!   scan finds it not; it may go once `since + unneeded time < now`.
//! - **Soft taints** (`soft_taint`): unneeded nodes get `DeletionCandidateOfClusterAutoscaler`
//!   (PreferNoSchedule), at most `--max-bulk-soft-taint-count` changes per scan, and lose it
//!   when they are needed again.
//! - **Deletion**: the pool must stay above its minimum counting deletions in progress; empty
//!   nodes first, up to `--max-scale-down-parallelism` deletions in flight, and at most
//!   `MAX_DRAIN_PARALLELISM` node with pods being drained at a time.
//!
//! - **Disruption budgets**: a node is not removable while one of its pods belongs to a
//!   budget with no disruption left, counting what the nodes found removable earlier in this
//!   scan take from it (`RemainingPdbTracker`); one with more pods of a budget than it allows
//!   at once is removable but risky, and drains after the others.
//!
//! Not modelled: pods that block a drain (local storage, kube-system,
//! no controller), unready nodes' own timeout, per-pool unneeded times, resource minimums
//! (`--cores-total`), atomic node groups.

mod soft_taint;
#[cfg(test)]
mod tests;
mod utilization;

use std::collections::{BTreeMap, BTreeSet};

use crate::cluster::node::{Node, NodeId};
use crate::cluster::pool::NodePool;
use crate::cluster::spec::{NVIDIA_GPU, PodSpec};
use crate::controllers::cluster_autoscaler::snapshot::Snapshot;
use crate::units::{Resources, SimDuration, SimTime};

pub(super) use soft_taint::soft_taint_actions;
pub use soft_taint::{DELETION_CANDIDATE_TAINT_KEY, deletion_candidate_taint};
pub use utilization::{
    POD_LONG_TERMINATING_EXTRA_THRESHOLD, TerminatingPod, Thresholds, Utilization,
    is_long_terminating, utilization,
};

/// `--unremovable-node-recheck-timeout`: how long a node whose pods could not be moved is left
/// out of the scale-down simulation.
pub const UNREMOVABLE_NODE_RECHECK_TIMEOUT: SimDuration = SimDuration::from_secs(5 * 60);

/// `--max-scale-down-parallelism`'s default: most node deletions, empty or not, in flight at
/// once.
pub const MAX_SCALE_DOWN_PARALLELISM: usize = 10;

/// `--max-drain-parallelism`: most nodes with pods being drained at once.
pub const MAX_DRAIN_PARALLELISM: usize = 1;

/// What the planner sees at one scan.
pub(super) struct PlannerInput<'a> {
    pub(super) now: SimTime,
    pub(super) pools: &'a [NodePool],
    pub(super) pod_specs: &'a [PodSpec],
    /// Registered nodes.
    pub(super) nodes: &'a [Node],
    /// Service index of each pod on each node (terminating pods excluded).
    pub(super) pods_on_node: &'a [Vec<usize>],
    /// The terminating pods still bound to each node.
    pub(super) terminating_on_node: &'a [Vec<TerminatingPod>],
    /// Nodes being deleted.
    pub(super) deleting: &'a [bool],
    /// Registered plus upcoming nodes of each pool.
    pub(super) target_sizes: &'a [u32],
    /// Thresholds of each pool; `None` where the pool is not autoscaled.
    pub(super) thresholds: &'a [Option<Thresholds>],
    /// Index of `nvidia.com/gpu` among the scenario's extended resources, if it names it.
    pub(super) gpu: Option<usize>,
    /// Per service: disruptions its PodDisruptionBudget allows (`None`: no budget).
    pub(super) disruptions_allowed: &'a [Option<u32>],
    /// `--max-scale-down-parallelism`.
    pub(super) max_scale_down_parallelism: usize,
    /// `--scale-down-unneeded-time` and `--scan-interval`, which bound how many nodes may be
    /// unneeded at once (`unneeded_nodes_limit`).
    pub(super) unneeded_time: SimDuration,
    pub(super) scan_interval: SimDuration,
}

impl PlannerInput<'_> {
    fn pods(&self, i: usize) -> &[usize] {
        self.pods_on_node.get(i).map_or(&[], Vec::as_slice)
    }

    /// The spec of each terminating pod on node `i` that still counts (not long terminating).
    fn terminating(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let now = self.now;
        (self
            .terminating_on_node
            .get(i)
            .map_or(&[][..], Vec::as_slice))
        .iter()
        .filter(move |t| t.counts_at(now))
        .map(|t| t.spec)
    }

    fn pool_of(&self, i: usize) -> usize {
        usize::from(self.nodes[i].pool.0)
    }
}

/// A node found removable, and since when.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Unneeded {
    since: SimTime,
    pods_to_move: usize,
    utilization: Utilization,
    thresholds: Thresholds,
    /// More of its pods belong to one disruption budget than the budget allowed at once, so
    /// the drain must wait for replacements between evictions (upstream's `IsRisky`).
    risky: bool,
}

/// A node to delete now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Deletion {
    /// Index in the observation's nodes.
    pub(super) index: usize,
    /// Whether it has pods to drain.
    pub(super) drain: bool,
    pub(super) reason: String,
}

/// Deletions in flight, for the budgets and the minimum sizes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct InProgress {
    pub(super) empty: usize,
    pub(super) drain: usize,
    /// Per pool.
    pub(super) by_pool: Vec<u32>,
}

/// The scale-down planner's memory between scans.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Planner {
    unneeded: BTreeMap<NodeId, Unneeded>,
    /// How many nodes the last update found unneeded (those deleted since included, as
    /// upstream's list keeps them until the next update).
    unneeded_at_last_update: usize,
    recheck_after: BTreeMap<NodeId, SimTime>,
}

impl Planner {
    /// Forgets every unneeded node (`CleanUpUnneededNodes`), as when the cluster is unhealthy.
    pub(super) fn clean_up_unneeded(&mut self) {
        self.unneeded.clear();
    }

    /// Since when `node` has been unneeded, if it is.
    pub(super) fn unneeded_since(&self, node: NodeId) -> Option<SimTime> {
        self.unneeded.get(&node).map(|u| u.since)
    }

    /// Whether `node` is unneeded now.
    pub(super) fn is_unneeded(&self, node: NodeId) -> bool {
        self.unneeded.contains_key(&node)
    }

    /// Recomputes the unneeded nodes (`UpdateClusterState`). Pods of nodes being deleted are
    /// first placed on the snapshot where they fit (they will be recreated somewhere).
    pub(super) fn update(&mut self, input: &PlannerInput<'_>, snapshot: &mut Snapshot) {
        let now = input.now;
        let registered = input.nodes.len().min(snapshot.registered);
        let present: BTreeSet<NodeId> = input.nodes[..registered].iter().map(|n| n.id).collect();
        self.recheck_after
            .retain(|id, until| present.contains(id) && *until > now);
        place_pods_of_deleting_nodes(input, snapshot, registered);
        let candidates = self.candidates(input, snapshot, registered);
        let mut removal = Removal {
            registered,
            destination: (0..registered)
                .map(|i| input.deleting.get(i) != Some(&true))
                .collect(),
            placed: Vec::new(),
            budget_left: input
                .disruptions_allowed
                .iter()
                .map(|d| d.map(i64::from))
                .collect(),
        };
        let limit = unneeded_nodes_limit(
            self.unneeded_at_last_update,
            input.max_scale_down_parallelism,
            input.unneeded_time,
            input.scan_interval,
        );
        let mut removable = BTreeMap::new();
        for i in candidates {
            // The rest are skipped: not simulated, so no longer unneeded.
            if removable.len() >= limit {
                break;
            }
            if let Some(unneeded) = self.removable(input, snapshot, &mut removal, i) {
                removable.insert(input.nodes[i].id, unneeded);
            }
        }
        self.unneeded_at_last_update = removable.len();
        self.unneeded = removable;
    }

    /// The scale-down candidates among the `registered` nodes: of an autoscaled pool above its
    /// minimum, not being deleted, not waiting for a recheck. Empty nodes come first, then the
    /// nodes unneeded at the previous scan, then the rest, each in observation order.
    fn candidates(
        &self,
        input: &PlannerInput<'_>,
        snapshot: &Snapshot,
        registered: usize,
    ) -> Vec<usize> {
        let mut candidates: Vec<usize> = (0..registered)
            .filter(|&i| {
                let p = input.pool_of(i);
                input.deleting.get(i) != Some(&true)
                    && input.thresholds.get(p).copied().flatten().is_some()
                    && input.target_sizes.get(p).copied().unwrap_or(0)
                        > input.pools.get(p).map_or(u32::MAX, |pool| pool.min_nodes)
                    && !self.recheck_after.contains_key(&input.nodes[i].id)
            })
            .collect();
        candidates.sort_by_key(|&i| {
            let previous = self.unneeded.contains_key(&input.nodes[i].id);
            let empty = input.pods(i).is_empty()
                && snapshot.assigned[i].is_empty()
                && input.terminating(i).next().is_none();
            (!empty, !previous, i)
        });
        candidates
    }

    /// Whether candidate `i` is unneeded now: underutilized, no pod in a budget with nothing
    /// left, and every pod fits on another node. A node that fails the last two is not
    /// rechecked for `UNREMOVABLE_NODE_RECHECK_TIMEOUT`; one that passes is no destination for
    /// the next candidates' pods, and its pods count against their budgets.
    fn removable(
        &mut self,
        input: &PlannerInput<'_>,
        snapshot: &mut Snapshot,
        removal: &mut Removal,
        i: usize,
    ) -> Option<Unneeded> {
        let thresholds = input.thresholds.get(input.pool_of(i)).copied().flatten()?;
        // The node's pods: those bound to it, those this scan expects there, and those
        // terminating there that are not long terminating (`utilization.Calculate` counts
        // them, and the removal simulation must place them: only the `LongTerminating` rule
        // skips a terminating pod).
        let pods: Vec<usize> = (input.pods(i).iter().chain(&snapshot.assigned[i]).copied())
            .chain(input.terminating(i))
            .collect();
        let requested = pods
            .iter()
            .filter_map(|&s| input.pod_specs.get(s))
            .fold(Resources::ZERO, |sum, pod| sum + pod.requests);
        let u = utilization(requested, input.nodes[i].allocatable, input.gpu);
        if !thresholds.is_underutilized(u) {
            return None;
        }
        let id = input.nodes[i].id;
        // The PDB drainability rule: no pod may belong to a budget with nothing left.
        let drainable = !pods.iter().any(|&s| removal.left(s).is_some_and(|l| l < 1));
        if !drainable || !removal.pods_fit_elsewhere(input, snapshot, i, &pods) {
            self.recheck_after
                .insert(id, input.now + UNREMOVABLE_NODE_RECHECK_TIMEOUT);
            return None;
        }
        removal.destination[i] = false;
        let risky = removal.take_from_budgets(&pods);
        let since = self.unneeded.get(&id).map_or(input.now, |u| u.since);
        Some(Unneeded {
            since,
            pods_to_move: pods.len(),
            utilization: u,
            thresholds,
            risky,
        })
    }

    /// The unneeded nodes to delete now (`NodesToDelete`, then the budgets' `CropNodes`):
    /// unneeded for longer than `unneeded_time`, keeping each pool above its minimum (counting
    /// `in_progress` deletions), empty nodes first, within the parallelism budgets. They are
    /// forgotten as unneeded.
    pub(super) fn nodes_to_delete(
        &mut self,
        input: &PlannerInput<'_>,
        unneeded_time: SimDuration,
        in_progress: &InProgress,
    ) -> Vec<Deletion> {
        let now = input.now;
        let mut sizes: Vec<i64> = input.target_sizes.iter().map(|&s| i64::from(s)).collect();
        let mut empty = Vec::new();
        let mut drain = Vec::new();
        for want_empty in [true, false] {
            for (i, node) in input.nodes.iter().enumerate() {
                let Some(u) = self.unneeded.get(&node.id) else {
                    continue;
                };
                if (u.pods_to_move == 0) != want_empty || u.since + unneeded_time >= now {
                    continue;
                }
                let p = input.pool_of(i);
                let (Some(size), Some(pool)) = (sizes.get_mut(p), input.pools.get(p)) else {
                    continue;
                };
                let deleting = i64::from(in_progress.by_pool.get(p).copied().unwrap_or(0));
                if *size - deleting <= i64::from(pool.min_nodes) {
                    continue;
                }
                *size -= 1;
                if want_empty { &mut empty } else { &mut drain }.push(i);
            }
        }

        // `sortByRisk`: drains that must wait on disruption budgets go last.
        drain.sort_by_key(|&i| {
            self.unneeded
                .get(&input.nodes[i].id)
                .is_some_and(|u| u.risky)
        });
        let mut parallelism = (input.max_scale_down_parallelism)
            .saturating_sub(in_progress.empty + in_progress.drain);
        let drain_budget = MAX_DRAIN_PARALLELISM.saturating_sub(in_progress.drain);
        let empty = crop_individual(input, &empty, parallelism);
        parallelism -= empty.len();
        let drain = crop_individual(input, &drain, parallelism.min(drain_budget));

        let mut deletions = Vec::with_capacity(empty.len() + drain.len());
        for (i, is_drain) in empty
            .into_iter()
            .map(|i| (i, false))
            .chain(drain.into_iter().map(|i| (i, true)))
        {
            let node = &input.nodes[i];
            let Some(u) = self.unneeded.remove(&node.id) else {
                continue;
            };
            deletions.push(Deletion {
                index: i,
                drain: is_drain,
                reason: reason(node, &u, now),
            });
        }
        deletions
    }
}

/// `unneededNodesLimit` (`core/scaledown/planner/planner.go`): how many nodes one update may
/// find unneeded before it stops simulating the rest. With parallelism N, N deletions at most
/// start per scan, so the previous update's unneeded nodes plus N, plus a buffer of N, are
/// enough; and with unneeded time U and scan interval I a node waits U/I scans, so more than
/// N × U/I + N (U taken as at least I) could never be deleted in time.
pub fn unneeded_nodes_limit(
    previously_unneeded: usize,
    parallelism: usize,
    unneeded_time: SimDuration,
    scan_interval: SimDuration,
) -> usize {
    let n = parallelism;
    let limit = previously_unneeded.saturating_add(2 * n);
    let interval = scan_interval.0.max(1);
    let loops = unneeded_time.0.max(interval) / interval;
    let upper_bound = n
        .saturating_mul(usize::try_from(loops).unwrap_or(usize::MAX))
        .saturating_add(n);
    limit.min(upper_bound)
}

/// `cropIndividualNodes`: the nodes grouped by pool (pools in order of first appearance), each
/// group cut to the budget left.
fn crop_individual(input: &PlannerInput<'_>, nodes: &[usize], budget: usize) -> Vec<usize> {
    let mut pools: Vec<usize> = Vec::new();
    for &i in nodes {
        let p = input.pool_of(i);
        if !pools.contains(&p) {
            pools.push(p);
        }
    }
    let mut out = Vec::new();
    for p in pools {
        for &i in nodes.iter().filter(|&&i| input.pool_of(i) == p) {
            if out.len() >= budget {
                return out;
            }
            out.push(i);
        }
    }
    out
}

/// Why a node goes: the utilization it was judged by against its threshold(s), since when it
/// has been unneeded, and what it holds.
fn reason(node: &Node, u: &Unneeded, now: SimTime) -> String {
    let what = match u.pods_to_move {
        0 => "empty".to_string(),
        n => format!("{n} pod(s) to move elsewhere"),
    };
    let judged = match u.utilization.gpu {
        Some(gpu) => format!(
            "{NVIDIA_GPU} {:.1}% of allocatable requested (GPU threshold {:.1}%; a GPU node's \
             cpu and memory do not count)",
            gpu * 100.0,
            u.thresholds.gpu * 100.0,
        ),
        None => format!(
            "cpu {:.1}% and memory {:.1}% of allocatable requested (thresholds {:.1}% and \
             {:.1}%)",
            u.utilization.cpu * 100.0,
            u.utilization.memory * 100.0,
            u.thresholds.cpu * 100.0,
            u.thresholds.memory * 100.0,
        ),
    };
    format!(
        "{}: {judged}; unneeded since {} ({} ago); {what}",
        node.name,
        u.since,
        now.since(u.since),
    )
}

/// Places the pods of the `registered` nodes being deleted on the snapshot, each on the first
/// other node it fits: they will be recreated somewhere.
fn place_pods_of_deleting_nodes(
    input: &PlannerInput<'_>,
    snapshot: &mut Snapshot,
    registered: usize,
) {
    for i in (0..registered).filter(|&i| input.deleting.get(i) == Some(&true)) {
        for &s in input.pods(i) {
            let Some(pod) = input.pod_specs.get(s) else {
                continue;
            };
            if let Some(j) = snapshot.first_fit(pod, input.pod_specs, |j| j != i) {
                snapshot.assign(j, s, pod);
            }
        }
    }
}

/// One scan's removal simulation: which nodes may still take pods, and what each disruption
/// budget has left after the nodes found removable so far (`RemainingPdbTracker`).
struct Removal {
    registered: usize,
    /// Per registered node: whether pods may be moved there (not being deleted, not found
    /// removable earlier in this scan).
    destination: Vec<bool>,
    /// Pods placed while one node is simulated, taken off again after it.
    placed: Vec<(usize, usize)>,
    /// Per service: the disruptions its budget has left (`None`: no budget).
    budget_left: Vec<Option<i64>>,
}

impl Removal {
    /// What the budget of service `s` has left, if it has one.
    fn left(&self, s: usize) -> Option<i64> {
        self.budget_left.get(s).copied().flatten()
    }

    /// `findPlaceFor`: whether every pod of node `i`, in order, fits on the first destination
    /// with room. The snapshot is left as it was.
    fn pods_fit_elsewhere(
        &mut self,
        input: &PlannerInput<'_>,
        snapshot: &mut Snapshot,
        i: usize,
        pods: &[usize],
    ) -> bool {
        let mut all_fit = true;
        for &s in pods {
            let target = input.pod_specs.get(s).and_then(|pod| {
                snapshot
                    .first_fit(pod, input.pod_specs, |j| {
                        j < self.registered && j != i && self.destination[j]
                    })
                    .map(|j| (j, pod))
            });
            match target {
                Some((j, pod)) => {
                    snapshot.place(j, pod);
                    self.placed.push((j, s));
                }
                None => {
                    all_fit = false;
                    break;
                }
            }
        }
        for (j, s) in self.placed.drain(..) {
            snapshot.unplace(j, &input.pod_specs[s]);
        }
        all_fit
    }

    /// `CanRemovePods` then `RemovePods`: counts a removable node's pods off their budgets.
    /// Returns whether the node is risky: more of its pods belong to one budget than the
    /// budget had left.
    fn take_from_budgets(&mut self, pods: &[usize]) -> bool {
        let risky = pods.iter().any(|&s| {
            let on_node = pods.iter().filter(|&&t| t == s).count() as i64;
            self.left(s).is_some_and(|l| on_node > l)
        });
        for &s in pods {
            if let Some(Some(l)) = self.budget_left.get_mut(s) {
                *l -= 1;
            }
        }
        risky
    }
}
