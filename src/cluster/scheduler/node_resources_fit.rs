//! NodeResourcesFit: keeps pods off nodes without room for their requests (filter: cpu, memory,
//! extended resources such as `nvidia.com/gpu`, pod count), and ranks the rest by how allocated they would be (score, weight 1 in the default
//! profile) with the LeastAllocated (default, spreads pods) or MostAllocated (bin-packs) strategy.
//!
//! Both strategies score against `Node::non_zero_requested` plus the pod's non-zero requests, so a
//! pod that requests nothing still counts as 100m CPU and 200MB, as in kube-scheduler. Integer
//! arithmetic is Kubernetes': per resource `(allocatable - requested) * 100 / allocatable` or
//! `requested * 100 / allocatable`, then the weighted average `Σ score×w / Σ w`, both truncated.
//! Extended resources are filtered on but not scored: kube-scheduler's default scoring resources
//! are cpu and memory (weight 1 each), so a GPU changes where a pod may go, never how a node
//! ranks. Not modelled: ephemeral storage, scoring weights for extended resources, the
//! RequestedToCapacityRatio strategy.

use crate::cluster::node::Node;
use crate::cluster::scheduler::{MAX_NODE_SCORE, Reason};
use crate::cluster::spec::{PodSpec, extended_name};
use crate::units::Resources;

/// The plugin's name in kube-scheduler's configuration.
pub const NAME: &str = "NodeResourcesFit";

/// How NodeResourcesFit scores a node (`scoringStrategy.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ScoringStrategy {
    /// Favors the node with the most room left: spreads pods (kube-scheduler's default).
    #[default]
    LeastAllocated,
    /// Favors the node with the least room left: bin-packs pods, leaving whole nodes free for the
    /// Cluster Autoscaler to remove.
    MostAllocated,
}

/// Weights of cpu and memory in the strategy's average (`scoringStrategy.resources`). Kubernetes
/// allows 1..=100 and defaults both to 1; a weight of 0 leaves the resource out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceWeights {
    /// Weight of cpu.
    pub cpu: u64,
    /// Weight of memory.
    pub memory: u64,
}

impl Default for ResourceWeights {
    /// Kubernetes' default: cpu 1, memory 1.
    fn default() -> ResourceWeights {
        ResourceWeights { cpu: 1, memory: 1 }
    }
}

impl ScoringStrategy {
    /// The strategy's name in kube-scheduler's configuration (`LeastAllocated`, `MostAllocated`).
    pub fn name(self) -> &'static str {
        match self {
            ScoringStrategy::LeastAllocated => "LeastAllocated",
            ScoringStrategy::MostAllocated => "MostAllocated",
        }
    }

    /// The node's NodeResourcesFit score (0..=100) under this strategy.
    pub fn score(
        self,
        pod_non_zero_requests: Resources,
        node: &Node,
        weights: &ResourceWeights,
    ) -> u64 {
        match self {
            ScoringStrategy::LeastAllocated => {
                least_allocated_score(pod_non_zero_requests, node, weights)
            }
            ScoringStrategy::MostAllocated => {
                most_allocated_score(pod_non_zero_requests, node, weights)
            }
        }
    }
}

/// Rejects the node when it already runs `max_pods` pods, or when the pod's cpu, memory or
/// extended-resource request exceeds what is left (allocatable minus the requests of the pods
/// bound to it). Returns every shortfall, in kube-scheduler's order: pods, cpu, memory, then the
/// extended resources (in the scenario's order of their names). A request of zero always fits.
///
/// # Errors
/// Some of `Reason::TooManyPods`, `Reason::InsufficientCpu`, `Reason::InsufficientMemory`,
/// `Reason::InsufficientExtended`.
pub fn filter(pod: &PodSpec, node: &Node) -> Result<(), Vec<Reason>> {
    if passes(pod, node) {
        return Ok(());
    }
    let mut reasons = Vec::with_capacity(3);
    if too_many_pods(node) {
        reasons.push(Reason::TooManyPods);
    }
    let free = node.free();
    if pod.requests.cpu > free.cpu {
        reasons.push(Reason::InsufficientCpu);
    }
    if pod.requests.memory > free.memory {
        reasons.push(Reason::InsufficientMemory);
    }
    let wanted = pod.requests.extended.0.iter().zip(free.extended.0);
    for (i, (&want, left)) in wanted.enumerate() {
        if want > left {
            reasons.push(Reason::InsufficientExtended {
                name: extended_name(&pod.extended_names, i),
            });
        }
    }
    Err(reasons)
}

/// Whether kube-scheduler would mark this node's NodeResourcesFit rejection
/// `UnschedulableAndUnresolvable`: the request exceeds the node's whole allocatable, so no amount
/// of preemption makes room.
pub fn is_unresolvable(pod: &PodSpec, node: &Node) -> bool {
    !pod.requests.fits_within(&node.allocatable)
}

/// The LeastAllocated score (0..=100): per resource `(allocatable - requested) * 100 /
/// allocatable`, 0 when `requested > allocatable`, where `requested` is the node's
/// `non_zero_requested` plus `pod_non_zero_requests`; then the `weights`-weighted average, with
/// integer division throughout. Resources the node has none of are left out.
pub fn least_allocated_score(
    pod_non_zero_requests: Resources,
    node: &Node,
    weights: &ResourceWeights,
) -> u64 {
    weighted_score(pod_non_zero_requests, node, weights, least_requested_score)
}

/// The MostAllocated score (0..=100): per resource `requested * 100 / allocatable` with
/// `requested` capped at `allocatable` (pods without requests count their non-zero defaults and
/// can overshoot), then the weighted average as in `least_allocated_score`.
pub fn most_allocated_score(
    pod_non_zero_requests: Resources,
    node: &Node,
    weights: &ResourceWeights,
) -> u64 {
    weighted_score(pod_non_zero_requests, node, weights, most_requested_score)
}

/// The filter's verdict without building reasons (`filter(pod, node).is_ok()`, written out so
/// that the extended resources are looked at only for a pod that requests some).
#[inline]
pub(crate) fn passes(pod: &PodSpec, node: &Node) -> bool {
    let (want, has, used) = (&pod.requests, &node.allocatable, &node.requested);
    !too_many_pods(node)
        && want.cpu <= has.cpu.saturating_sub(used.cpu)
        && want.memory <= has.memory.saturating_sub(used.memory)
        && (want.extended.is_zero()
            || want
                .extended
                .fits_within(&has.extended.saturating_sub(&used.extended)))
}

fn too_many_pods(node: &Node) -> bool {
    // `pods + 1 > allowed`, written so that it cannot overflow.
    node.pod_count >= node.max_pods
}

fn weighted_score(
    pod_non_zero_requests: Resources,
    node: &Node,
    weights: &ResourceWeights,
    resource_score: fn(u64, u64) -> u64,
) -> u64 {
    let requested = [
        node.non_zero_requested
            .cpu
            .0
            .saturating_add(pod_non_zero_requests.cpu.0),
        node.non_zero_requested
            .memory
            .0
            .saturating_add(pod_non_zero_requests.memory.0),
    ];
    let allocatable = [node.allocatable.cpu.0, node.allocatable.memory.0];
    let weight = [weights.cpu, weights.memory];
    let (mut total, mut weight_sum) = (0u64, 0u64);
    for i in 0..2 {
        if allocatable[i] == 0 {
            continue;
        }
        total = total
            .saturating_add(resource_score(requested[i], allocatable[i]).saturating_mul(weight[i]));
        weight_sum = weight_sum.saturating_add(weight[i]);
    }
    // Kubernetes returns 0 when no resource carries weight.
    total.checked_div(weight_sum).unwrap_or(0)
}

/// `leastRequestedScore`: the share of `capacity` left free, in 0..=100.
fn least_requested_score(requested: u64, capacity: u64) -> u64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    percent_of(capacity - requested, capacity)
}

/// `mostRequestedScore`: the share of `capacity` requested, capped at 100.
fn most_requested_score(requested: u64, capacity: u64) -> u64 {
    if capacity == 0 {
        return 0;
    }
    percent_of(requested.min(capacity), capacity)
}

/// `part * 100 / whole`, truncated, for `part <= whole`; in u128 when the product would
/// overflow u64 (byte counts past 184 PB), else in the cheaper u64 with the same result.
fn percent_of(part: u64, whole: u64) -> u64 {
    match part.checked_mul(MAX_NODE_SCORE) {
        Some(product) => product / whole,
        None => (u128::from(part) * u128::from(MAX_NODE_SCORE) / u128::from(whole)) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::spec::{DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST};
    use crate::cluster::testing::{NodeBuilder, PodBuilder};
    use crate::units::Bytes;

    const GIB: u64 = Bytes::GIB;

    #[test]
    fn filter_lists_every_shortfall_and_zero_requests_always_fit() {
        let busy = PodBuilder::new().cpu_m(3_000).memory(12 * GIB).build();
        // 4 CPUs / 16Gi with 3 CPUs / 12Gi taken: 1 CPU and 4Gi left.
        let node = NodeBuilder::new("n").with_pod(&busy).build();
        let full = NodeBuilder::new("full").max_pods(1).with_pod(&busy).build();
        let cases = [
            (
                PodBuilder::new().cpu_m(1_000).memory(4 * GIB).build(),
                &node,
                vec![],
            ),
            (
                PodBuilder::new().cpu_m(1_001).build(),
                &node,
                vec![Reason::InsufficientCpu],
            ),
            (
                PodBuilder::new().memory(4 * GIB + 1).build(),
                &node,
                vec![Reason::InsufficientMemory],
            ),
            (
                PodBuilder::new().cpu_m(2_000).memory(8 * GIB).build(),
                &node,
                vec![Reason::InsufficientCpu, Reason::InsufficientMemory],
            ),
            // Requests nothing: only the pod count can reject it.
            (PodBuilder::new().build(), &node, vec![]),
            (PodBuilder::new().build(), &full, vec![Reason::TooManyPods]),
            (
                PodBuilder::new().cpu_m(2_000).build(),
                &full,
                vec![Reason::TooManyPods, Reason::InsufficientCpu],
            ),
        ];
        for (pod, node, want) in cases {
            let got = filter(&pod, node);
            if want.is_empty() {
                assert_eq!(got, Ok(()), "{:?} on {}", pod.requests, node.name);
            } else {
                assert_eq!(got, Err(want), "{:?} on {}", pod.requests, node.name);
            }
            assert_eq!(passes(&pod, node), got.is_ok());
        }
    }

    #[test]
    fn extended_resources_are_filtered_by_name_and_never_scored() {
        let names: crate::cluster::spec::ExtendedNames =
            vec!["example.com/fpga".to_string(), "nvidia.com/gpu".to_string()].into();
        let mut pod = PodBuilder::new().cpu_m(1_000).build();
        pod.requests.extended.0[1] = 1;
        pod.extended_names = names;
        let cpu_only = NodeBuilder::new("cpu").build();
        let mut gpu = NodeBuilder::new("gpu").build();
        gpu.allocatable.extended.0[1] = 1;
        let reason = Reason::InsufficientExtended {
            name: "nvidia.com/gpu".into(),
        };
        assert_eq!(filter(&pod, &cpu_only), Err(vec![reason.clone()]));
        assert!(is_unresolvable(&pod, &cpu_only));
        assert_eq!(filter(&pod, &gpu), Ok(()));
        // Its one GPU taken, the node rejects the next GPU pod but has room for the CPU alone.
        let mut full = NodeBuilder::new("gpu").with_pod(&pod).build();
        full.allocatable.extended.0[1] = 1;
        assert_eq!(filter(&pod, &full), Err(vec![reason]));
        assert!(!is_unresolvable(&pod, &full));
        assert!(passes(&PodBuilder::new().cpu_m(1_000).build(), &full));
        // LeastAllocated weighs cpu and memory only: a GPU changes no score.
        let w = ResourceWeights::default();
        assert_eq!(
            least_allocated_score(pod.non_zero_requests(), &gpu, &w),
            least_allocated_score(pod.non_zero_requests(), &cpu_only, &w)
        );
        // Without a name table the message still names the resource by its index.
        pod.extended_names = Default::default();
        assert_eq!(
            filter(&pod, &cpu_only).map_err(|r| r[0].to_string()),
            Err("Insufficient extended-resource-1".to_string())
        );
    }

    #[test]
    fn overcommitted_node_rejects_any_request() {
        // A node whose pods request more than it has (allocatable shrank): free is 0, and
        // Kubernetes' `request > allocatable - requested` is true for any request > 0.
        let mut node = NodeBuilder::new("n").allocatable(1_000, GIB).build();
        node.requested = Resources::new(2_000, 2 * GIB);
        assert_eq!(
            filter(&PodBuilder::new().cpu_m(1).build(), &node),
            Err(vec![Reason::InsufficientCpu])
        );
        assert_eq!(filter(&PodBuilder::new().build(), &node), Ok(()));
    }

    #[test]
    fn unresolvable_only_when_the_request_exceeds_the_whole_node() {
        let node = NodeBuilder::new("n").allocatable(4_000, 16 * GIB).build();
        assert!(!is_unresolvable(
            &PodBuilder::new().cpu_m(4_000).build(),
            &node
        ));
        assert!(is_unresolvable(
            &PodBuilder::new().cpu_m(4_001).build(),
            &node
        ));
        assert!(is_unresolvable(
            &PodBuilder::new().memory(17 * GIB).build(),
            &node
        ));
    }

    /// A scoring case: (allocatable cpu m, memory, node non-zero requested cpu, memory, pod
    /// cpu, memory, score).
    type Case = (u64, u64, u64, u64, u64, u64, u64);

    /// Checks each case against `score` and against `strategy`, which must agree.
    fn assert_scores(
        strategy: ScoringStrategy,
        score: fn(Resources, &Node, &ResourceWeights) -> u64,
        cases: &[Case],
    ) {
        let w = ResourceWeights::default();
        for &(cpu, mem, used_cpu, used_mem, pod_cpu, pod_mem, want) in cases {
            let mut node = NodeBuilder::new("n").allocatable(cpu, mem).build();
            node.non_zero_requested = Resources::new(used_cpu, used_mem);
            let pod = Resources::new(pod_cpu, pod_mem);
            assert_eq!(score(pod, &node, &w), want, "{cpu}/{mem}");
            assert_eq!(strategy.score(pod, &node, &w), want);
        }
    }

    #[test]
    fn least_allocated_matches_kubernetes_arithmetic() {
        let cases = [
            // cpu (4000-3000)*100/4000 = 25, memory (10000-5000)*100/10000 = 50 -> (25+50)/2 = 37.
            (4_000, 10_000, 0, 0, 3_000, 5_000, 37),
            // cpu 3000*100/6000 = 50, memory 50 -> 50.
            (6_000, 10_000, 0, 0, 3_000, 5_000, 50),
            // cpu (10000-6000)*100/10000 = 40, memory 20000*100/20000 = 100 -> 70.
            (10_000, 20_000, 6_000, 0, 0, 0, 70),
            // cpu 40, memory (20000-5000)*100/20000 = 75 -> 115/2 = 57.
            (10_000, 20_000, 6_000, 5_000, 0, 0, 57),
            // cpu requested 6000 > 4000 -> 0, memory 100 -> 50.
            (4_000, 10_000, 3_000, 0, 3_000, 0, 50),
            // Everything free: 100.
            (4_000, 16 * GIB, 0, 0, 0, 0, 100),
        ];
        assert_scores(
            ScoringStrategy::LeastAllocated,
            least_allocated_score,
            &cases,
        );
    }

    #[test]
    fn most_allocated_matches_kubernetes_arithmetic() {
        let cases = [
            // cpu 3000*100/4000 = 75, memory 5000*100/10000 = 50 -> 125/2 = 62.
            (4_000, 10_000, 0, 0, 3_000, 5_000, 62),
            // cpu 50, memory 50 -> 50.
            (6_000, 10_000, 0, 0, 3_000, 5_000, 50),
            // requested over capacity is capped: cpu 100, memory 0 -> 50.
            (4_000, 10_000, 3_000, 0, 3_000, 0, 50),
            // Nothing requested: 0.
            (4_000, 16 * GIB, 0, 0, 0, 0, 0),
        ];
        assert_scores(ScoringStrategy::MostAllocated, most_allocated_score, &cases);
    }

    #[test]
    fn weights_shape_the_average_and_empty_resources_drop_out() {
        let node = NodeBuilder::new("n").allocatable(4_000, 10_000).build();
        let pod = Resources::new(3_000, 5_000);
        // Least: cpu 25, memory 50. Weights 3:1 -> (75+50)/4 = 31.
        let w = ResourceWeights { cpu: 3, memory: 1 };
        assert_eq!(least_allocated_score(pod, &node, &w), 31);
        // Memory weight 0: cpu alone -> 25.
        let w = ResourceWeights { cpu: 1, memory: 0 };
        assert_eq!(least_allocated_score(pod, &node, &w), 25);
        // No weight at all: 0, as Kubernetes returns for an empty weight sum.
        let w = ResourceWeights { cpu: 0, memory: 0 };
        assert_eq!(least_allocated_score(pod, &node, &w), 0);
        // A node with no memory: only cpu counts (weight sum 1) -> 25.
        let cpu_only = NodeBuilder::new("c").allocatable(4_000, 0).build();
        assert_eq!(
            least_allocated_score(pod, &cpu_only, &ResourceWeights::default()),
            25
        );
    }

    #[test]
    fn pods_without_requests_count_their_non_zero_defaults() {
        // A best-effort pod counts 100m / 200MB in scoring: on a 1 CPU / 1000MB node,
        // cpu (1000-100)*100/1000 = 90, memory (1000MB-200MB)*100/1000MB = 80 -> 85.
        let mb = 1024 * 1024;
        let node = NodeBuilder::new("n").allocatable(1_000, 1_000 * mb).build();
        let pod = PodBuilder::new().build();
        assert_eq!(
            pod.non_zero_requests(),
            Resources::new(DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST)
        );
        let w = ResourceWeights::default();
        assert_eq!(
            least_allocated_score(pod.non_zero_requests(), &node, &w),
            85
        );
        // Bound to the node, it keeps counting in non_zero_requested but not in requested.
        let node = NodeBuilder::new("n")
            .allocatable(1_000, 1_000 * mb)
            .with_pod(&pod)
            .build();
        assert_eq!(node.requested, Resources::ZERO);
        // Next best-effort pod: cpu (1000-200)*100/1000 = 80, memory 60 -> 70.
        assert_eq!(
            least_allocated_score(pod.non_zero_requests(), &node, &w),
            70
        );
    }

    #[test]
    fn strategy_names_follow_kubernetes() {
        assert_eq!(ScoringStrategy::default(), ScoringStrategy::LeastAllocated);
        assert_eq!(ScoringStrategy::LeastAllocated.name(), "LeastAllocated");
        assert_eq!(ScoringStrategy::MostAllocated.name(), "MostAllocated");
    }
}
