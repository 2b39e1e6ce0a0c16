//! Scale-up: which pool to grow and by how many nodes, as cluster-autoscaler's
//! `core/scaleup/orchestrator` decides it for the pods still pending once upcoming nodes have
//! taken theirs.
//!
//! Use `plan` once per scan. Pools that are not autoscaled, are backed off, or are at their
//! maximum size are skipped; for each other pool the pending pods whose service fits an empty
//! node of the pool are bin-packed onto new nodes (`estimator`), capped by
//! `--max-nodes-per-scaleup`, the pool's room to its maximum and the cluster's
//! `--max-nodes-total`; the expander chain picks one option; its count is capped again by
//! `--max-nodes-total` and the pool's maximum. It asks for nodes in one pool only: balancing
//! similar node groups, node group auto-provisioning, resource limits (`--cores-total`,
//! `--memory-total`) and the all-or-nothing mode are not modelled.

use rand::Rng;

use crate::cluster::pool::NodePool;
use crate::cluster::scheduler::fits;
use crate::cluster::spec::PodSpec;
use crate::controllers::cluster_autoscaler::backoff::Backoff;
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
    pub(super) backoff: &'a Backoff,
}

/// The scale-up decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ScaleUpPlan {
    pub(super) pool: usize,
    pub(super) count: u32,
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

/// The pool's node limit for the estimator (`sngCapacityThreshold`): the room to its maximum,
/// -1 when there is none.
fn pool_capacity_limit(pool: &NodePool, target: u32) -> i64 {
    match pool.max_nodes.saturating_sub(target) {
        0 => -1,
        room => i64::from(room),
    }
}

impl ScaleUpInput<'_> {
    /// The target size of pool `p`.
    fn target(&self, p: usize) -> u32 {
        self.target_sizes.get(p).copied().unwrap_or(0)
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
    let (options, mut helped) = expansion_options(input, &groups, current);
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
    let (count, caps) = capped_count(input, best, current);
    if count == 0 {
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
    Some(ScaleUpPlan {
        pool: best.pool,
        count: u32::try_from(count).unwrap_or(u32::MAX),
        pods_helped,
        pods: std::mem::take(&mut helped[choice.index]),
        reason,
    })
}

/// One option per pool that can grow (autoscaled, not backed off, below its maximum) and whose
/// new nodes would take some of the pending pods, as the estimator bin-packs them within the
/// node limits; `current` is the cluster's registered plus upcoming nodes. With each option,
/// the service index of every pod it places.
fn expansion_options<'a>(
    input: &ScaleUpInput<'a>,
    groups: &[PodGroup],
    current: u64,
) -> (Vec<ExpansionOption<'a>>, Vec<Vec<usize>>) {
    let mut options = Vec::new();
    let mut helped = Vec::new();
    for (p, pool) in input.pools.iter().enumerate() {
        if pool.autoscaling.is_none()
            || input.backoff.is_backed_off(p, input.now)
            || input.target(p) >= pool.max_nodes
        {
            continue;
        }
        let template = template_node(p, pool, format!("template-node-for-{}", pool.name));
        let schedulable: Vec<PodGroup> = groups
            .iter()
            .filter(|g| {
                input
                    .pod_specs
                    .get(g.service)
                    .is_some_and(|s| fits(s, &template))
            })
            .copied()
            .collect();
        if schedulable.is_empty() {
            continue;
        }
        let limit = combine_node_limits(&[
            MAX_NODES_PER_SCALE_UP,
            pool_capacity_limit(pool, input.target(p)),
            cluster_capacity_limit(input.spec.max_nodes_total, current),
        ]);
        let e = estimate(&schedulable, input.pod_specs, &template, limit);
        if e.pods.is_empty() || e.node_count == 0 {
            continue;
        }
        options.push(ExpansionOption {
            pool: p,
            pool_name: &pool.name,
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

/// `GetCappedNewNodeCount`, then the pool's maximum (as `balanceScaleUps` caps a single
/// group): the chosen option's node count, and the caps that lowered it.
fn capped_count(
    input: &ScaleUpInput<'_>,
    best: &ExpansionOption<'_>,
    current: u64,
) -> (u64, Vec<String>) {
    let pool = &input.pools[best.pool];
    let mut count = u64::from(best.node_count);
    let mut caps = Vec::new();
    let max_total = u64::from(input.spec.max_nodes_total);
    if max_total > 0 && count + current > max_total {
        count = max_total.saturating_sub(current);
        caps.push(format!("capped by max-nodes-total {max_total}"));
    }
    let room = u64::from(pool.max_nodes.saturating_sub(input.target(best.pool)));
    if count > room {
        count = room;
        caps.push(format!("capped by the pool's max {}", pool.max_nodes));
    }
    (count, caps)
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
        assert_eq!((plan.pool, plan.count, plan.pods_helped), (0, 3, 6));
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
            run(&s, &pools, &specs, &[1], &[1, 1], &none).map(|p| p.pool),
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
            run(&s, &fixed, &specs, &[0; 6], &[1, 1], &none).map(|p| p.pool),
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
        assert_eq!((p.count, p.pods_helped), (4, 4));
        // max-nodes-total 5 with 2 nodes: 3 more.
        let s = spec(vec![Expander::MostPods], 5);
        let p = run(&s, &pools, &specs, &[0; 10], &[2], &none).expect("a scale-up");
        assert_eq!(p.count, 3);
        // Cluster full: none.
        let s = spec(vec![Expander::MostPods], 2);
        assert_eq!(run(&s, &pools, &specs, &[0; 10], &[2], &none), None);
    }

    #[test]
    fn capacity_limits_follow_upstream_thresholds() {
        assert_eq!(cluster_capacity_limit(0, 50), 0);
        assert_eq!(cluster_capacity_limit(10, 10), -1);
        assert_eq!(cluster_capacity_limit(10, 7), 3);
        let p = pool("p", 4, 16, 0, 5);
        assert_eq!(pool_capacity_limit(&p, 5), -1);
        assert_eq!(pool_capacity_limit(&p, 2), 3);
    }
}
