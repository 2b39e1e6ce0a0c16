//! Scale-up: which pool to grow and by how many nodes, as cluster-autoscaler's
//! `core/scaleup/orchestrator` decides it for the pods still pending once upcoming nodes have
//! taken theirs.
//!
//! Use `plan` once per scan. Pools that are not autoscaled, are backed off, are unhealthy
//! (too many of their nodes unready, `health`), or are at their maximum size are skipped; for each other pool the pending pods whose service fits an empty
//! node of the pool are bin-packed onto new nodes (`estimator`), capped by
//! `--max-nodes-per-scaleup`, the pool's room to its maximum and the cluster's
//! `--max-nodes-total`; the expander chain picks one option; its count is capped again by
//! `--max-nodes-total`, then spread over the chosen pool and the node groups similar to it
//! (`--balance-similar-node-groups`, `balance`), at most to their maximums. A similar group
//! counts only when it may grow (autoscaled, not backed off, below its maximum) and every pod
//! group the chosen one can take fits it too (`ComputeSimilarNodeGroups`); the estimator's room
//! is then that of all of them (`sngCapacityThreshold`). Node group auto-provisioning, resource
//! limits (`--cores-total`, `--memory-total`) and the all-or-nothing mode are not modelled.

use rand::Rng;

use crate::cluster::node::Node;
use crate::cluster::pool::NodePool;
use crate::cluster::scheduler::{PodGroups, fits_among};
use crate::cluster::spec::PodSpec;
use crate::controllers::cluster_autoscaler::backoff::Backoff;
use crate::controllers::cluster_autoscaler::balance::{ScaleUpInfo, balance_scale_up};
use crate::controllers::cluster_autoscaler::estimator::{
    MAX_NODES_PER_SCALE_UP, PodGroup, combine_node_limits, estimate, pod_groups, template_node,
};
use crate::controllers::cluster_autoscaler::expander::{
    ExpanderContext, ExpansionOption, best_option,
};
use crate::controllers::cluster_autoscaler::spec::ClusterAutoscalerSpec;
use crate::units::SimTime;

/// What the scale-up sees.
pub(super) struct ScaleUpInput<'a> {
    pub(super) now: SimTime,
    pub(super) spec: &'a ClusterAutoscalerSpec,
    pub(super) pools: &'a [NodePool],
    pub(super) pod_specs: &'a [PodSpec],
    /// Pending pods (service indices) no registered or upcoming node can take, oldest first.
    pub(super) pending: &'a [usize],
    /// Registered plus upcoming nodes of each pool (upstream's target size).
    pub(super) target_sizes: &'a [u32],
    /// Registered nodes in the cluster.
    pub(super) registered_nodes: usize,
    /// The autoscaler's snapshot of the cluster's nodes with their pods (registered and
    /// upcoming), which the estimator's filters count pods across.
    pub(super) cluster: &'a [Node],
    /// The specs that declare inter-pod (anti-)affinity (the snapshot's
    /// `PodGroups::with_pod_affinity`, computed once a scan).
    pub(super) affinity_groups: &'a [u32],
    pub(super) backoff: &'a Backoff,
    /// Per pool: whether its group is healthy (`health::healthy_groups`); an unhealthy one is
    /// not grown.
    pub(super) healthy: &'a [bool],
    /// Per pool, the other pools whose template nodes are similar to its
    /// (`FindSimilarNodeGroups`; empty when balancing is off).
    pub(super) similar_pools: &'a [Vec<usize>],
}

/// The scale-up decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ScaleUpPlan {
    /// Each pool that grows with its new nodes, in pool order: the expander's choice and the
    /// similar node groups it was balanced with.
    pub(super) groups: Vec<(usize, u32)>,
    pub(super) pods_helped: u32,
    /// Service index of every pending pod the new nodes are expected to take.
    pub(super) pods: Vec<usize>,
    pub(super) reason: String,
}

/// The cluster-wide node limit for the estimator (`clusterCapacityThreshold`): 0 for none, -1
/// when the cluster is full, else the nodes left.
fn cluster_capacity_limit(max_nodes_total: u32, current: u64) -> i64 {
    match u64::from(max_nodes_total) {
        0 => 0,
        max if max <= current => -1,
        max => i64::try_from(max - current).unwrap_or(i64::MAX),
    }
}

/// The node limit of a pool and its similar groups for the estimator
/// (`sngCapacityThreshold`): their room to their maximums, -1 when there is none.
fn pools_capacity_limit(rooms: impl Iterator<Item = u32>) -> i64 {
    match rooms.map(i64::from).sum::<i64>() {
        0 => -1,
        room => room,
    }
}

impl<'a> ScaleUpInput<'a> {
    /// The pod specs as the scheduler's placement groups.
    fn placement(&self) -> PodGroups<'a> {
        PodGroups {
            specs: self.pod_specs,
            with_pod_affinity: self.affinity_groups,
        }
    }

    /// The target size of pool `p`.
    fn target(&self, p: usize) -> u32 {
        self.target_sizes.get(p).copied().unwrap_or(0)
    }

    /// The room of pool `p` to its maximum.
    fn room(&self, p: usize) -> u32 {
        self.pools[p].max_nodes.saturating_sub(self.target(p))
    }
}

/// Decides this scan's scale-up, if any.
pub(super) fn plan<R: Rng + ?Sized>(input: &ScaleUpInput<'_>, rng: &mut R) -> Option<ScaleUpPlan> {
    if input.pending.is_empty() {
        return None;
    }
    let groups = pod_groups(input.pending);
    let current: u64 = (0..input.pools.len())
        .map(|p| u64::from(input.target(p)))
        .sum();
    let schedulable = schedulable_pod_groups(input, &groups);
    let (options, mut helped) = expansion_options(input, &schedulable, current);
    if options.is_empty() {
        return None;
    }
    let ctx = ExpanderContext {
        priorities: &input.spec.priorities,
        cluster_node_count: input.registered_nodes,
    };
    let choice = best_option(&input.spec.expanders, &options, &ctx, rng)?;
    let best = &options[choice.index];
    let pool = &input.pools[best.pool];
    let similar = similar_groups(input, best.pool, &schedulable);
    let (mut infos, caps) = capped_counts(input, best, &similar, current);
    infos.sort_by_key(|i| i.group);
    if infos.is_empty() {
        return None;
    }
    let pods_helped = u32::try_from(best.pod_requests.len()).unwrap_or(u32::MAX);
    let mut reason = format!(
        "{pods_helped} pending pod(s) fit on {} new node(s) of {}",
        best.node_count, pool.name
    );
    for cap in caps {
        reason.push_str(&format!(" ({cap})"));
    }
    reason.push_str("; ");
    reason.push_str(&choice.notes.join("; "));
    let grown: Vec<(usize, u32)> = infos
        .iter()
        .map(|i| (i.group, i.new_size - i.current_size))
        .collect();
    if !similar.is_empty() {
        let split: Vec<String> = (infos.iter())
            .map(|i| {
                let name = &input.pools[i.group].name;
                format!("{name} {}->{}", i.current_size, i.new_size)
            })
            .collect();
        reason.push_str(&format!(
            "; balanced with {} similar node group(s): {}",
            similar.len(),
            split.join(", ")
        ));
    }
    Some(ScaleUpPlan {
        groups: grown,
        pods_helped,
        pods: std::mem::take(&mut helped[choice.index]),
        reason,
    })
}

/// Per pool, the pod groups its template node can take when the pool may grow (autoscaled,
/// not backed off, healthy, below its maximum: upstream's valid node groups), else `None`.
/// A template node takes a group when the scheduler's filters pass with the template added to
/// the cluster snapshot, as upstream's `SchedulablePodGroups` checks them (so a zone spread
/// constraint can rule a zone's template out).
fn schedulable_pod_groups(
    input: &ScaleUpInput<'_>,
    groups: &[PodGroup],
) -> Vec<Option<Vec<PodGroup>>> {
    let placement = input.placement();
    // The snapshot is copied only when the filters that count pods matter for a pending pod.
    let matters = (groups.iter())
        .any(|g| (input.pod_specs.get(g.service)).is_some_and(|s| placement.matter_for(s)));
    let mut snapshot: Vec<Node> = if matters {
        input.cluster.to_vec()
    } else {
        Vec::new()
    };
    let last = snapshot.len();
    (input.pools.iter().enumerate())
        .map(|(p, pool)| {
            if pool.autoscaling.is_none()
                || input.backoff.is_backed_off(p, input.now)
                || !input.healthy.get(p).copied().unwrap_or(true)
                || input.target(p) >= pool.max_nodes
            {
                return None;
            }
            let template = template_node(p, pool, format!("template-node-for-{}", pool.name));
            snapshot.truncate(last);
            snapshot.push(template);
            let fitting = (groups.iter())
                .filter(|g| {
                    (input.pod_specs.get(g.service))
                        .is_some_and(|s| fits_among(s, &snapshot, last, &placement))
                })
                .copied()
                .collect();
            Some(fitting)
        })
        .collect()
}

/// `ComputeSimilarNodeGroups`: the pools similar to `p` that may grow and take every pod group
/// `p` takes, in pool order; none when `p` takes none.
fn similar_groups(
    input: &ScaleUpInput<'_>,
    p: usize,
    schedulable: &[Option<Vec<PodGroup>>],
) -> Vec<usize> {
    let Some(Some(own)) = schedulable
        .get(p)
        .filter(|g| g.as_ref().is_some_and(|g| !g.is_empty()))
    else {
        return Vec::new();
    };
    let Some(candidates) = input.similar_pools.get(p) else {
        return Vec::new();
    };
    (candidates.iter().copied())
        .filter(|&q| {
            schedulable
                .get(q)
                .and_then(Option::as_ref)
                .is_some_and(|theirs| {
                    own.iter()
                        .all(|g| theirs.iter().any(|h| h.service == g.service))
                })
        })
        .collect()
}

/// One option per pool that can grow and whose new nodes would take some of the pending pods,
/// as the estimator bin-packs them within the node limits (the pool's room and that of its
/// similar groups, the cluster's); `current` is the cluster's registered plus upcoming nodes.
/// With each option, the service index of every pod it places.
fn expansion_options<'a>(
    input: &ScaleUpInput<'a>,
    schedulable: &[Option<Vec<PodGroup>>],
    current: u64,
) -> (Vec<ExpansionOption<'a>>, Vec<Vec<usize>>) {
    let mut options = Vec::new();
    let mut helped = Vec::new();
    for (p, pool) in input.pools.iter().enumerate() {
        let Some(fitting) = schedulable[p].as_ref().filter(|g| !g.is_empty()) else {
            continue;
        };
        let template = template_node(p, pool, format!("template-node-for-{}", pool.name));
        let similar = similar_groups(input, p, schedulable);
        let rooms = std::iter::once(p).chain(similar).map(|q| input.room(q));
        let limit = combine_node_limits(&[
            MAX_NODES_PER_SCALE_UP,
            pools_capacity_limit(rooms),
            cluster_capacity_limit(input.spec.max_nodes_total, current),
        ]);
        let e = estimate(fitting, &input.placement(), &template, limit, input.cluster);
        if e.pods.is_empty() || e.node_count == 0 {
            continue;
        }
        options.push(ExpansionOption {
            pool: p,
            pool_name: &pool.name,
            group_of: &pool.group_of,
            node_count: e.node_count,
            node_capacity: pool.machine.capacity,
            node_price_usd_per_hour: pool.price_usd_per_hour,
            pod_requests: e
                .pods
                .iter()
                .map(|&s| input.pod_specs[s].requests)
                .collect(),
        });
        helped.push(e.pods);
    }
    (options, helped)
}

/// `GetCappedNewNodeCount`, then `balanceScaleUps`: the chosen option's node count capped by
/// `--max-nodes-total`, spread over its pool and `similar` (smallest first, each to its
/// maximum); each pool's share, and the caps that lowered the total.
fn capped_counts(
    input: &ScaleUpInput<'_>,
    best: &ExpansionOption<'_>,
    similar: &[usize],
    current: u64,
) -> (Vec<ScaleUpInfo>, Vec<String>) {
    let mut count = u64::from(best.node_count);
    let mut caps = Vec::new();
    let max_total = u64::from(input.spec.max_nodes_total);
    if max_total > 0 && count + current > max_total {
        count = max_total.saturating_sub(current);
        caps.push(format!("capped by max-nodes-total {max_total}"));
    }
    let targets: Vec<(usize, u32, u32)> = (std::iter::once(best.pool)
        .chain(similar.iter().copied()))
    .map(|p| (p, input.target(p), input.pools[p].max_nodes))
    .collect();
    let room: u64 = targets
        .iter()
        .map(|&(p, _, _)| u64::from(input.room(p)))
        .sum();
    if count > room {
        if similar.is_empty() {
            caps.push(format!(
                "capped by the pool's max {}",
                input.pools[best.pool].max_nodes
            ));
        } else {
            caps.push(format!("capped by the similar node groups' room {room}"));
        }
    }
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    (balance_scale_up(&targets, count), caps)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::controllers::cluster_autoscaler::spec::Expander;
    use crate::controllers::cluster_autoscaler::testing::{pod, pool, spec};

    fn run(
        spec: &ClusterAutoscalerSpec,
        pools: &[NodePool],
        specs: &[PodSpec],
        pending: &[usize],
        targets: &[u32],
        backoff: &Backoff,
    ) -> Option<ScaleUpPlan> {
        let input = ScaleUpInput {
            now: SimTime::ZERO,
            spec,
            pools,
            pod_specs: specs,
            pending,
            target_sizes: targets,
            registered_nodes: targets.iter().map(|&t| t as usize).sum(),
            backoff,
            healthy: &[],
            cluster: &[],
            affinity_groups: &[],
            similar_pools: &[],
        };
        plan(&input, &mut Xoshiro256PlusPlus::seed_from_u64(3))
    }

    #[test]
    fn least_waste_picks_the_pool_that_fits_the_pods_best() {
        // 6 pods of 2 CPU / 4 GiB. small (4 CPU / 16 GiB): 2 pods a node, 3 nodes, waste
        // (12-12)/12 + (48-24)/48 = 0 + 0.5 = 0.5; big (16 CPU / 64 GiB): 1 node,
        // (16-12)/16 + (64-24)/64 = 0.25 + 0.625 = 0.875. small wins with 3 nodes.
        let pools = [pool("small", 4, 16, 0, 10), pool("big", 16, 64, 0, 10)];
        let specs = [pod(2_000, 4)];
        let s = spec(vec![Expander::LeastWaste], 0);
        let plan = run(&s, &pools, &specs, &[0; 6], &[1, 1], &Backoff::new(2)).expect("a scale-up");
        assert_eq!((plan.groups, plan.pods_helped), (vec![(0, 3)], 6));
        assert!(
            plan.reason.contains("small 0.5000, big 0.8750"),
            "{}",
            plan.reason
        );
    }

    #[test]
    fn pools_that_cannot_grow_or_host_the_pods_are_skipped() {
        let pools = [pool("small", 4, 16, 0, 10), pool("big", 16, 64, 0, 10)];
        let specs = [pod(2_000, 4), pod(8_000, 8)];
        let s = spec(vec![Expander::LeastWaste], 0);
        let none = Backoff::new(2);
        // An 8-CPU pod fits only big.
        assert_eq!(
            run(&s, &pools, &specs, &[1], &[1, 1], &none).map(|p| p.groups[0].0),
            Some(1)
        );
        // big at its max: nothing can host it.
        assert_eq!(run(&s, &pools, &specs, &[1], &[1, 10], &none), None);
        // big backed off: the same.
        let mut backed_off = Backoff::new(2);
        backed_off.backoff(1, SimTime::ZERO);
        assert_eq!(run(&s, &pools, &specs, &[1], &[1, 1], &backed_off), None);
        // small not autoscaled: the 2-CPU pods go to big.
        let mut fixed = pools.clone();
        fixed[0].autoscaling = None;
        assert_eq!(
            run(&s, &fixed, &specs, &[0; 6], &[1, 1], &none).map(|p| p.groups[0].0),
            Some(1)
        );
        assert_eq!(run(&s, &pools, &specs, &[], &[1, 1], &none), None);
    }

    #[test]
    fn counts_are_capped_by_pool_and_cluster_limits() {
        // 10 pods of 4 CPU need 10 nodes of small.
        let pools = [pool("small", 4, 16, 0, 6)];
        let specs = [pod(4_000, 1)];
        let none = Backoff::new(1);
        // Pool max 6, 2 nodes there: room for 4 (the estimator stops there).
        let s = spec(vec![Expander::MostPods], 0);
        let p = run(&s, &pools, &specs, &[0; 10], &[2], &none).expect("a scale-up");
        assert_eq!((p.groups, p.pods_helped), (vec![(0, 4)], 4));
        // max-nodes-total 5 with 2 nodes: 3 more.
        let s = spec(vec![Expander::MostPods], 5);
        let p = run(&s, &pools, &specs, &[0; 10], &[2], &none).expect("a scale-up");
        assert_eq!(p.groups, [(0, 3)]);
        // Cluster full: none.
        let s = spec(vec![Expander::MostPods], 2);
        assert_eq!(run(&s, &pools, &specs, &[0; 10], &[2], &none), None);
    }

    #[test]
    fn capacity_limits_follow_upstream_thresholds() {
        assert_eq!(cluster_capacity_limit(0, 50), 0);
        assert_eq!(cluster_capacity_limit(10, 10), -1);
        assert_eq!(cluster_capacity_limit(10, 7), 3);
        assert_eq!(pools_capacity_limit([0].into_iter()), -1);
        assert_eq!(pools_capacity_limit([3].into_iter()), 3);
        assert_eq!(pools_capacity_limit([0, 2, 1].into_iter()), 3);
    }
}
