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
//!   pods that fit there, pods of nodes being deleted), as upstream's snapshot holds them.
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
//! - **Unneeded time**: a node stays unneeded from the first scan it is found removable until a
//!   scan finds it not; it may go once `since + unneeded time < now`.
//! - **Deletion**: the pool must stay above its minimum counting deletions in progress; empty
//!   nodes first, up to `MAX_SCALE_DOWN_PARALLELISM` deletions in flight, and at most
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

use std::collections::{BTreeMap, BTreeSet};

use crate::cluster::node::{Node, NodeId};
use crate::cluster::pool::NodePool;
use crate::cluster::spec::{NVIDIA_GPU, PodSpec};
use crate::controllers::cluster_autoscaler::snapshot::Snapshot;
use crate::units::{Resources, SimDuration, SimTime};

/// `--unremovable-node-recheck-timeout`: how long a node whose pods could not be moved is left
/// out of the scale-down simulation.
pub const UNREMOVABLE_NODE_RECHECK_TIMEOUT: SimDuration = SimDuration::from_secs(5 * 60);

/// `--max-scale-down-parallelism` (which `--max-empty-bulk-delete` sets): most node deletions,
/// empty or not, in flight at once.
pub const MAX_SCALE_DOWN_PARALLELISM: usize = 10;

/// `--max-drain-parallelism`: most nodes with pods being drained at once.
pub const MAX_DRAIN_PARALLELISM: usize = 1;

/// A pool's scale-down utilization thresholds, as fractions of allocatable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// CPU requests must be below this fraction of allocatable CPU.
    pub cpu: f64,
    /// Memory requests must be below this fraction of allocatable memory.
    pub memory: f64,
    /// On a node with a GPU, GPU requests must be at or below this fraction of its GPUs.
    pub gpu: f64,
}

impl Thresholds {
    /// The thresholds of `pool`: its `cpu_threshold_percent` and `memory_threshold_percent` as
    /// fractions, each defaulting to `global` (`--scale-down-utilization-threshold`), and its
    /// `gpu_threshold_percent`, defaulting to `global_gpu`
    /// (`--scale-down-gpu-utilization-threshold`); `None` for a pool that is not autoscaled.
    pub fn for_pool(pool: &NodePool, global: f64, global_gpu: f64) -> Option<Thresholds> {
        let a = pool.autoscaling.as_ref()?;
        Some(Thresholds {
            cpu: a.cpu_threshold_percent.map_or(global, |p| p / 100.0),
            memory: a.memory_threshold_percent.map_or(global, |p| p / 100.0),
            gpu: a.gpu_threshold_percent.map_or(global_gpu, |p| p / 100.0),
        })
    }

    /// Whether a node with this utilization may be removed. A node with a GPU: its GPU
    /// utilization at or below the GPU threshold (upstream 1.37's
    /// `isNodeAtOrBelowUtilizationThreshold`: `utilization > threshold` is not underutilized),
    /// CPU and memory not counted. Any other node: both resources strictly below their
    /// thresholds.
    pub fn is_underutilized(&self, u: Utilization) -> bool {
        match u.gpu {
            Some(gpu) => gpu <= self.gpu,
            None => u.cpu < self.cpu && u.memory < self.memory,
        }
    }
}

/// Requests over allocatable, per resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Utilization {
    /// CPU requested / CPU allocatable.
    pub cpu: f64,
    /// Memory requested / memory allocatable.
    pub memory: f64,
    /// GPUs requested / GPUs allocatable; `None` on a node without a GPU.
    pub gpu: Option<f64>,
}

/// The utilization of a node whose pods request `requested`; 0 for a resource the node has
/// none of (upstream then fails to compute it and the node counts as unused). `gpu` is the
/// index of `nvidia.com/gpu` among the scenario's extended resources, if it names it; the node
/// has a GPU when its allocatable amount there is nonzero (upstream's `NodeHasGpuAllocatable`).
pub fn utilization(
    requested: Resources,
    allocatable: Resources,
    gpu: Option<usize>,
) -> Utilization {
    let ratio = |r: u64, a: u64| if a == 0 { 0.0 } else { r as f64 / a as f64 };
    let amount = |r: &Resources, i: usize| u64::from(r.extended.0.get(i).copied().unwrap_or(0));
    Utilization {
        cpu: ratio(requested.cpu.0, allocatable.cpu.0),
        memory: ratio(requested.memory.0, allocatable.memory.0),
        gpu: gpu
            .filter(|&i| amount(&allocatable, i) > 0)
            .map(|i| ratio(amount(&requested, i), amount(&allocatable, i))),
    }
}

/// What the planner sees at one scan.
pub(super) struct PlannerInput<'a> {
    pub(super) now: SimTime,
    pub(super) pools: &'a [NodePool],
    pub(super) pod_specs: &'a [PodSpec],
    /// Registered nodes.
    pub(super) nodes: &'a [Node],
    /// Service index of each pod on each node (terminating pods excluded).
    pub(super) pods_on_node: &'a [Vec<usize>],
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
}

impl PlannerInput<'_> {
    fn pods(&self, i: usize) -> &[usize] {
        self.pods_on_node.get(i).map_or(&[], Vec::as_slice)
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
    recheck_after: BTreeMap<NodeId, SimTime>,
}

impl Planner {
    /// Since when `node` has been unneeded, if it is.
    pub(super) fn unneeded_since(&self, node: NodeId) -> Option<SimTime> {
        self.unneeded.get(&node).map(|u| u.since)
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
        let mut removable = BTreeMap::new();
        for i in candidates {
            if let Some(unneeded) = self.removable(input, snapshot, &mut removal, i) {
                removable.insert(input.nodes[i].id, unneeded);
            }
        }
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
            let empty = input.pods(i).is_empty() && snapshot.assigned[i].is_empty();
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
        // The node's pods: those bound to it and those this scan expects there.
        let pods: Vec<usize> = input
            .pods(i)
            .iter()
            .chain(&snapshot.assigned[i])
            .copied()
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
        let mut parallelism =
            MAX_SCALE_DOWN_PARALLELISM.saturating_sub(in_progress.empty + in_progress.drain);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::cluster_autoscaler::testing::pool;
    use crate::units::Bytes;

    #[test]
    fn pool_thresholds_fall_back_to_the_global_one() {
        let mut p = pool("p", 4, 16, 0, 10);
        let set = |p: &mut NodePool, cpu, memory, gpu| {
            if let Some(a) = p.autoscaling.as_mut() {
                a.cpu_threshold_percent = cpu;
                a.memory_threshold_percent = memory;
                a.gpu_threshold_percent = gpu;
            }
        };
        let cases = [
            // (cpu %, memory %, gpu %, want cpu, want memory, want gpu) with a global 0.5 and
            // a global GPU 0.4.
            (Some(70.0), Some(75.0), None, 0.7, 0.75, 0.4),
            (None, None, None, 0.5, 0.5, 0.4),
            (Some(80.0), None, Some(60.0), 0.8, 0.5, 0.6),
            (None, Some(30.0), Some(100.0), 0.5, 0.3, 1.0),
        ];
        for (cpu, memory, gpu, want_cpu, want_memory, want_gpu) in cases {
            set(&mut p, cpu, memory, gpu);
            let t = Thresholds::for_pool(&p, 0.5, 0.4).expect("autoscaled");
            assert_eq!(
                (t.cpu, t.memory, t.gpu),
                (want_cpu, want_memory, want_gpu),
                "{cpu:?} {memory:?} {gpu:?}"
            );
        }
        p.autoscaling = None;
        assert_eq!(Thresholds::for_pool(&p, 0.5, 0.4), None);
    }

    #[test]
    fn underutilized_means_strictly_below_both_thresholds() {
        let t = Thresholds {
            cpu: 0.7,
            memory: 0.75,
            gpu: 0.5,
        };
        let u = |cpu, memory| Utilization {
            cpu,
            memory,
            gpu: None,
        };
        assert!(t.is_underutilized(u(0.69, 0.74)));
        assert!(!t.is_underutilized(u(0.7, 0.1)), "at the cpu threshold");
        assert!(!t.is_underutilized(u(0.1, 0.75)), "at the memory threshold");
        assert!(!t.is_underutilized(u(0.9, 0.1)));
    }

    #[test]
    fn utilization_is_requests_over_allocatable() {
        // 3 of 4 CPU, 4 of 16 GiB: 0.75 and 0.25.
        let alloc = Resources::new(4_000, 16 * Bytes::GIB);
        let u = utilization(Resources::new(3_000, 4 * Bytes::GIB), alloc, None);
        assert_eq!((u.cpu, u.memory), (0.75, 0.25));
        // A resource the node has none of counts as unused.
        let u = utilization(
            Resources::new(3_000, 4 * Bytes::GIB),
            Resources::new(0, 16 * Bytes::GIB),
            None,
        );
        assert_eq!((u.cpu, u.memory), (0.0, 0.25));
    }

    #[test]
    fn a_gpu_node_is_judged_by_its_gpus_alone_at_or_below_the_threshold() {
        let u = |cpu, memory, gpu| Utilization { cpu, memory, gpu };
        let cases = [
            // (GPU threshold, cpu, memory, GPU utilization, underutilized)
            // One GPU pod of a small CPU request on a 1-GPU node: 100% of its GPUs.
            (0.5, 0.05, 0.03, Some(1.0), false),
            // One 1-GPU pod on a 2-GPU node: 50%, at the threshold, is underutilized.
            (0.5, 0.05, 0.03, Some(0.5), true),
            (0.6, 0.05, 0.03, Some(0.5), true),
            (0.4, 0.05, 0.03, Some(0.5), false),
            // No GPU requested: underutilized however busy its CPU and memory.
            (0.5, 0.9, 0.95, Some(0.0), true),
            // Without a GPU the CPU and memory rule holds, strictly below.
            (0.5, 0.5, 0.1, None, false),
            (0.5, 0.49, 0.1, None, true),
        ];
        for (gpu_threshold, cpu, memory, gpu, want) in cases {
            let t = Thresholds {
                cpu: 0.5,
                memory: 0.5,
                gpu: gpu_threshold,
            };
            assert_eq!(
                t.is_underutilized(u(cpu, memory, gpu)),
                want,
                "threshold {gpu_threshold}, cpu {cpu}, memory {memory}, gpu {gpu:?}"
            );
        }
    }

    #[test]
    fn gpu_utilization_is_gpu_requests_over_allocatable_gpus() {
        // nvidia.com/gpu at index 1, another device at index 0.
        let with = |fpga: u16, gpus: u16| {
            let mut r = Resources::new(8_000, 32 * Bytes::GIB);
            r.extended.0[0] = fpga;
            r.extended.0[1] = gpus;
            r
        };
        let cases = [
            // (requested fpga, gpus; allocatable fpga, gpus; GPU index; want)
            ((0, 1), (0, 2), Some(1), Some(0.5)),
            ((0, 2), (0, 2), Some(1), Some(1.0)),
            ((0, 0), (0, 2), Some(1), Some(0.0)),
            // No GPU allocatable at the GPU's index: not a GPU node.
            ((1, 0), (2, 0), Some(1), None),
            // The scenario names no GPU.
            ((0, 1), (0, 2), None, None),
        ];
        for ((rf, rg), (af, ag), index, want) in cases {
            let u = utilization(with(rf, rg), with(af, ag), index);
            assert_eq!(u.gpu, want, "{rf}/{rg} of {af}/{ag} at {index:?}");
        }
    }
}
