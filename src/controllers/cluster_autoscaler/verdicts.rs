//! What one scan found for each pod the scheduler could not place: whether a node on its way
//! is expected to take it, or why the autoscaler asked for none (upstream's `TriggeredScaleUp`
//! and `NotTriggerScaleUp` pod events).
//!
//! Use `pod_verdicts` at the end of a scan's scale-up, with where `Snapshot` placed each
//! pending pod and the pods the scale-up (if any) is for. A pod absorbed by an upcoming node, or
//! one the scale-up's nodes are for, waits for a node to provision. A pod no node can take and
//! no scale-up is for gets the reason the autoscaler's pools give, judged on the pools' sizes
//! and backoff as the scale-up saw them: no autoscaled pool's template node fits it, every pool
//! that fits it is at its maximum size, or every such pool below its maximum is backing off.
//! Any other pod (one that fits a registered node's room, one another option could take, one
//! held back by `--max-nodes-total`, or any pod when no pool is autoscaled) gets no verdict.

use crate::cluster::node::Node;
use crate::cluster::pool::NodePool;
use crate::cluster::scheduler::fits;
use crate::cluster::spec::PodSpec;
use crate::controllers::cluster_autoscaler::backoff::Backoff;
use crate::controllers::cluster_autoscaler::estimator::template_node;
use crate::units::SimTime;

/// The reason of a pod a node on its way is expected to take.
pub const WAITING_FOR_NODE: &str = "waiting for a node to provision";
/// The reason of a pod every pool that fits it is at its maximum size (upstream's
/// `NotTriggerScaleUp` message for `MaxLimitReachedReason`).
pub const MAX_NODE_GROUP_SIZE: &str = "pod didn't trigger scale-up: max node group size reached";
/// The reason of a pod every pool that fits it and has room is backing off after a failed
/// scale-up (upstream's `BackoffReason`).
pub const IN_BACKOFF: &str = "pod didn't trigger scale-up: in backoff after failed scale-up";
/// The reason of a pod no autoscaled pool's template node fits.
pub const NO_NODE_GROUP_FITS: &str = "pod didn't trigger scale-up: no node group fits the pod";

/// What one scan found for one pod the scheduler could not place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodVerdict {
    /// A node of pool `pool` on its way (asked for at an earlier scan or at this one) is
    /// expected to take the pod.
    Provisioning {
        /// Pool index.
        pool: usize,
    },
    /// No scale-up: every autoscaled pool whose template node fits the pod is at its maximum.
    MaxNodeGroupSize,
    /// No scale-up: every autoscaled pool that fits the pod is at its maximum or backing off
    /// after a failed scale-up (or unhealthy: too many of its nodes unready), and one is
    /// backing off or unhealthy.
    Backoff,
    /// No scale-up: no autoscaled pool's template node fits the pod.
    NoNodeGroupFits,
    /// None of the above (the autoscaler has no reason of its own for this pod).
    Undecided,
}

impl PodVerdict {
    /// The reason a pod with this verdict waits for, in `summary.json`'s words; `None` when
    /// the scheduler's reason stands.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            PodVerdict::Provisioning { .. } => Some(WAITING_FOR_NODE),
            PodVerdict::MaxNodeGroupSize => Some(MAX_NODE_GROUP_SIZE),
            PodVerdict::Backoff => Some(IN_BACKOFF),
            PodVerdict::NoNodeGroupFits => Some(NO_NODE_GROUP_FITS),
            PodVerdict::Undecided => None,
        }
    }
}

/// The pools as the scale-up saw them.
pub(super) struct PoolView<'a> {
    pub(super) now: SimTime,
    pub(super) pools: &'a [NodePool],
    /// Registered plus upcoming nodes of each pool, before this scan's scale-up.
    pub(super) target_sizes: &'a [u32],
    pub(super) backoff: &'a Backoff,
    /// Per pool: whether its group is healthy; an unhealthy one waits as a backed-off one.
    pub(super) healthy: &'a [bool],
}

/// The verdict of every pending pod (`pending`, service indices, oldest first): `placed` is the
/// snapshot node each was placed on, `upcoming_pool` the pool of a node that is upcoming, and
/// `scale_up` the pools this scan grows with the service index of each pod it is for. A pod
/// the scale-up is for waits for one of its pools, taken in turn when it grows several (a
/// balanced scale-up: the estimate does not say which group's node a pod will get).
pub(super) fn pod_verdicts(
    pending: &[usize],
    pod_specs: &[PodSpec],
    placed: &[Option<usize>],
    upcoming_pool: impl Fn(usize) -> Option<usize>,
    scale_up: Option<(&[usize], &[usize])>,
    view: &PoolView<'_>,
) -> Vec<PodVerdict> {
    // Pods of one service are alike: the scale-up's pods are the oldest of each service.
    let mut helped = vec![0u32; pod_specs.len()];
    if let Some((_, pods)) = scale_up {
        for &s in pods {
            if let Some(count) = helped.get_mut(s) {
                *count += 1;
            }
        }
    }
    let templates = templates(view.pools);
    let mut why_not: Vec<Option<PodVerdict>> = vec![None; pod_specs.len()];
    let mut verdicts = Vec::with_capacity(pending.len());
    let mut turn = 0usize;
    for (k, &s) in pending.iter().enumerate() {
        let verdict = if let Some(i) = placed.get(k).copied().flatten() {
            upcoming_pool(i).map_or(PodVerdict::Undecided, |pool| PodVerdict::Provisioning {
                pool,
            })
        } else if let (Some((pools @ [_, ..], _)), Some(count @ 1..)) =
            (scale_up, helped.get_mut(s))
        {
            *count -= 1;
            let pool = pools[turn % pools.len()];
            turn += 1;
            PodVerdict::Provisioning { pool }
        } else if let Some(spec) = pod_specs.get(s) {
            *why_not[s].get_or_insert_with(|| no_scale_up(spec, &templates, view))
        } else {
            PodVerdict::Undecided
        };
        verdicts.push(verdict);
    }
    verdicts
}

/// A template node of every autoscaled pool, with the pool's index.
fn templates(pools: &[NodePool]) -> Vec<(usize, Node)> {
    (pools.iter().enumerate())
        .filter(|(_, pool)| pool.autoscaling.is_some())
        .map(|(p, pool)| {
            (
                p,
                template_node(p, pool, format!("template-node-for-{}", pool.name)),
            )
        })
        .collect()
}

/// Why no scale-up is for a pod of `spec` that no node can take.
fn no_scale_up(spec: &PodSpec, templates: &[(usize, Node)], view: &PoolView<'_>) -> PodVerdict {
    if templates.is_empty() {
        return PodVerdict::Undecided;
    }
    let (mut fitting, mut backed_off) = (false, false);
    for (p, template) in templates {
        if !fits(spec, template) {
            continue;
        }
        fitting = true;
        let target = view.target_sizes.get(*p).copied().unwrap_or(0);
        if target >= view.pools[*p].max_nodes {
            continue;
        }
        let unhealthy = !view.healthy.get(*p).copied().unwrap_or(true);
        if unhealthy || view.backoff.is_backed_off(*p, view.now) {
            backed_off = true;
            continue;
        }
        return PodVerdict::Undecided;
    }
    match (fitting, backed_off) {
        (false, _) => PodVerdict::NoNodeGroupFits,
        (true, true) => PodVerdict::Backoff,
        (true, false) => PodVerdict::MaxNodeGroupSize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::cluster_autoscaler::backoff::Backoff;
    use crate::controllers::cluster_autoscaler::testing::{pod, pool};

    #[test]
    fn each_pending_pod_gets_the_autoscalers_reason() {
        // small: 4 CPUs, at 2 of max 2; big: 16 CPUs, at 1 of max 5, backed off.
        let pools = [pool("small", 4, 16, 0, 2), pool("big", 16, 64, 0, 5)];
        let mut backoff = Backoff::new(2);
        backoff.backoff(1, SimTime::ZERO);
        let view = PoolView {
            now: SimTime::ZERO,
            pools: &pools,
            target_sizes: &[2, 1],
            backoff: &backoff,
            healthy: &[],
        };
        // 2-CPU pods fit both pools, 8-CPU only big, 32-CPU neither.
        let specs = [pod(2_000, 1), pod(8_000, 1), pod(32_000, 1)];
        // Pending: a 2-CPU pod placed on registered node 0, one on upcoming node 3, two more
        // 2-CPU pods, an 8-CPU and a 32-CPU one.
        let pending = [0, 0, 0, 0, 1, 2];
        let placed = [Some(0), Some(3), None, None, None, None];
        let upcoming = |i: usize| (i >= 2).then_some(0);
        let got = pod_verdicts(&pending, &specs, &placed, upcoming, None, &view);
        use PodVerdict::{
            Backoff as BackedOff, MaxNodeGroupSize, NoNodeGroupFits, Provisioning, Undecided,
        };
        // The 2-CPU pods: small at its max, big backed off. The 8-CPU pod: big backed off.
        assert_eq!(
            got,
            [
                Undecided,
                Provisioning { pool: 0 },
                BackedOff,
                BackedOff,
                BackedOff,
                NoNodeGroupFits
            ]
        );
        // A scale-up of big for one 2-CPU pod: the older of the two; big no longer backed off,
        // so the other could have gone there too and gets no verdict.
        let free = Backoff::new(2);
        let view = PoolView {
            backoff: &free,
            healthy: &[],
            ..view
        };
        let got = pod_verdicts(
            &pending,
            &specs,
            &placed,
            upcoming,
            Some((&[1], &[0])),
            &view,
        );
        assert_eq!(
            got[2..],
            [
                Provisioning { pool: 1 },
                Undecided,
                Undecided,
                NoNodeGroupFits
            ]
        );
        // big at its max too: the pods that fit a pool wait for max sizes.
        let view = PoolView {
            target_sizes: &[2, 5],
            ..view
        };
        let got = pod_verdicts(&pending, &specs, &placed, upcoming, None, &view);
        let max = MaxNodeGroupSize;
        assert_eq!(got[2..], [max, max, max, NoNodeGroupFits]);
    }

    #[test]
    fn without_autoscaled_pools_there_is_no_verdict() {
        let mut fixed = pool("fixed", 4, 16, 0, 2);
        fixed.autoscaling = None;
        let pools = [fixed];
        let backoff = Backoff::new(1);
        let view = PoolView {
            now: SimTime::ZERO,
            pools: &pools,
            target_sizes: &[2],
            backoff: &backoff,
            healthy: &[],
        };
        let specs = [pod(32_000, 1)];
        let got = pod_verdicts(&[0], &specs, &[None], |_| None, None, &view);
        assert_eq!(got, [PodVerdict::Undecided]);
        assert_eq!(PodVerdict::Undecided.reason(), None);
        assert_eq!(
            PodVerdict::Provisioning { pool: 0 }.reason(),
            Some(WAITING_FOR_NODE)
        );
    }
}
