//! NodeResourcesBalancedAllocation: prefers nodes where the pod would leave cpu and memory
//! equally used, so that neither runs out while the other idles (score only, weight 1 in the
//! default profile).
//!
//! Both formulas of kube-scheduler are modelled, chosen by `KubernetesVersion`. Each starts from
//! the balance of a set of requests: per resource the fraction `requests / allocatable`, capped
//! at 1, and `int((1 - std) * 100)` where `std` is the population standard deviation of the
//! fractions (for two resources `|f_cpu - f_mem| / 2`), so a balance lies in 50..=100.
//! - Up to 1.35 the score is the balance with the pod (node requested + pod requests).
//! - From 1.36 (kubernetes/kubernetes#135573, first shipped in v1.36.0-alpha.1) it is the change
//!   the pod makes: `50 + (50 + with - without) / 2` in integers, where `without` is the
//!   balance of the node's requests alone; 75 when the pod leaves the balance as it was, 100
//!   from perfectly imbalanced to perfectly balanced, 50 the other way.
//!
//! Unlike NodeResourcesFit it uses the actual requests, not the non-zero defaults, and
//! kube-scheduler skips the plugin for a pod that requests nothing (kubernetes/kubernetes#129138);
//! the scheduler does too. The floating-point steps are Go's, in Go's order, so scores truncate
//! identically. The reference vectors (`k8s-vectors.json`) pin the 1.35 formula.

use crate::cluster::node::Node;
use crate::cluster::scheduler::{KubernetesVersion, MAX_NODE_SCORE};
use crate::units::Resources;

/// The plugin's name in kube-scheduler's configuration.
pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// The node's BalancedAllocation score (0..=100) under `version`'s formula for a pod requesting
/// `pod_requests` (its actual requests, without non-zero defaults), computed over cpu and
/// memory.
pub fn balanced_allocation_score(
    version: KubernetesVersion,
    pod_requests: Resources,
    node: &Node,
) -> u64 {
    let allocated = [node.requested.cpu.0, node.requested.memory.0];
    let requested = [
        allocated[0].saturating_add(pod_requests.cpu.0),
        allocated[1].saturating_add(pod_requests.memory.0),
    ];
    let allocatable = [node.allocatable.cpu.0, node.allocatable.memory.0];
    if version.balanced_allocation_scores_change() {
        balance_change_score(&requested, &allocated, &allocatable)
    } else {
        balanced_resource_score(&requested, &allocatable)
    }
}

/// 1.36's `balancedResourceScorer`: the change in balance from `allocated` (the node's requests
/// without the pod) to `requested` (with it), each one resource's total, over `allocatable`;
/// resources with zero allocatable are left out of both balances.
pub fn balance_change_score(requested: &[u64], allocated: &[u64], allocatable: &[u64]) -> u64 {
    // Both balances are in 50..=100, so the difference is in -50..=50 and the score in
    // 50..=100. Go's integer division truncates toward zero, as Rust's does.
    let half = (MAX_NODE_SCORE / 2) as i64;
    let with_pod = balanced_resource_score(requested, allocatable) as i64;
    let without_pod = balanced_resource_score(allocated, allocatable) as i64;
    let score = half + (half + with_pod - without_pod) / 2;
    u64::try_from(score).unwrap_or(0)
}

/// The balance of `requested` over `allocatable` (1.35's `balancedResourceScorer`, 1.36's
/// `balancedResourceScore`) for any number of resources: `requested[i]` and `allocatable[i]` are
/// one resource's totals. Resources with zero allocatable are left out; with fewer than two
/// resources left the deviation is 0 and the score 100. Extra entries of the longer slice are
/// ignored.
pub fn balanced_resource_score(requested: &[u64], allocatable: &[u64]) -> u64 {
    let fractions = || {
        requested
            .iter()
            .zip(allocatable)
            .filter(|&(_, &alloc)| alloc != 0)
            .map(|(&req, &alloc)| (req as f64 / alloc as f64).min(1.0))
    };
    let mut count = 0usize;
    let mut total = 0.0;
    let mut first_two = [0.0; 2];
    for fraction in fractions() {
        if count < 2 {
            first_two[count] = fraction;
        }
        count += 1;
        total += fraction;
    }
    let std = match count {
        0 | 1 => 0.0,
        // Kubernetes' shortcut for two resources. It can differ from the general formula in the
        // last bits, and those bits can decide the truncation, so it is kept.
        2 => ((first_two[0] - first_two[1]) / 2.0).abs(),
        n => {
            let mean = total / n as f64;
            let sum: f64 = fractions().map(|f| (f - mean) * (f - mean)).sum();
            (sum / n as f64).sqrt()
        }
    };
    // Truncation toward zero, as Go's int64(); 1 - std is in [0, 1] since fractions are.
    ((1.0 - std) * MAX_NODE_SCORE as f64) as u64
}

/// Whether kube-scheduler skips the plugin for a pod with these requests: a pod that requests
/// nothing (best-effort) would otherwise pile onto one node. A skipped plugin adds 0 everywhere.
pub fn skips_score(pod_requests: Resources) -> bool {
    // Only the scored resources, cpu and memory, count: a pod that requests nothing but a GPU
    // is skipped too, as upstream's PreScore looks at the configured resources alone.
    pod_requests.cpu.0 == 0 && pod_requests.memory.0 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::{NodeBuilder, PodBuilder};

    /// The score of a pod of `[.., .., .., .., pod cpu m, pod memory]` on a node of
    /// `[allocatable cpu m, memory, requested cpu m, memory, ..]`.
    fn score_on_node(version: KubernetesVersion, case: [u64; 6]) -> u64 {
        let [cpu, mem, used_cpu, used_mem, pod_cpu, pod_mem] = case;
        let used = PodBuilder::new().cpu_m(used_cpu).memory(used_mem).build();
        let node = NodeBuilder::new("n")
            .allocatable(cpu, mem)
            .with_pod(&used)
            .build();
        balanced_allocation_score(version, Resources::new(pod_cpu, pod_mem), &node)
    }

    #[test]
    fn two_resources_use_half_the_difference() {
        let cases = [
            // (allocatable cpu m, memory, node requested cpu, memory, pod cpu, memory, score)
            // f_cpu 3000/4000 = 0.75, f_mem 5000/10000 = 0.5, std 0.125 -> 87.5 -> 87.
            (4_000, 10_000, 0, 0, 3_000, 5_000, 87),
            // 0.5 and 0.5: std 0 -> 100.
            (6_000, 10_000, 0, 0, 3_000, 5_000, 100),
            // f_cpu 6000/10000 = 0.6, f_mem 5000/20000 = 0.25, std 0.175 -> 82.5 -> 82.
            (10_000, 20_000, 3_000, 0, 3_000, 5_000, 82),
            // 0.6 and 0.5: std 0.05 -> 95 (Go's float steps give 95.00000000000001).
            (10_000, 20_000, 3_000, 5_000, 3_000, 5_000, 95),
            // Fractions cap at 1: cpu 8000/4000 -> 1, memory 0 -> std 0.5 -> 50.
            (4_000, 10_000, 5_000, 0, 3_000, 0, 50),
            // A node with no memory leaves one fraction: std 0 -> 100.
            (4_000, 0, 0, 0, 3_000, 5_000, 100),
        ];
        for (cpu, mem, used_cpu, used_mem, pod_cpu, pod_mem, want) in cases {
            let score = score_on_node(
                KubernetesVersion::V1_35,
                [cpu, mem, used_cpu, used_mem, pod_cpu, pod_mem],
            );
            assert_eq!(score, want, "{cpu}/{mem} used {used_cpu}/{used_mem}");
        }
    }

    #[test]
    fn uses_requested_not_the_non_zero_defaults() {
        // A pod bound without requests adds nothing to `requested` (but 100m/200MB to
        // `non_zero_requested`): the node still looks empty to this plugin.
        let best_effort = PodBuilder::new().build();
        let node = NodeBuilder::new("n")
            .allocatable(4_000, 10_000)
            .with_pod(&best_effort)
            .build();
        // f_cpu 0.75, f_mem 0.5 as on an empty node -> 87; from 1.36 the empty node's balance
        // of 100 is the one before: 50 + (50 + 87 - 100) / 2 = 68.
        let pod = Resources::new(3_000, 5_000);
        assert_eq!(
            balanced_allocation_score(KubernetesVersion::V1_35, pod, &node),
            87
        );
        assert_eq!(
            balanced_allocation_score(KubernetesVersion::V1_36, pod, &node),
            68
        );
        assert!(skips_score(best_effort.requests));
        assert!(!skips_score(Resources::new(1, 0)));
        // A pod that requests only a GPU is skipped too: cpu and memory are what is scored.
        let mut gpu_only = Resources::ZERO;
        gpu_only.extended.0[0] = 1;
        assert!(skips_score(gpu_only));
    }

    #[test]
    fn more_resources_use_the_population_deviation() {
        // Fractions 0.2, 0.5, 0.8: mean 0.5, variance (0.09+0+0.09)/3 = 0.06, std 0.2449
        // -> 75.5 -> 75.
        assert_eq!(balanced_resource_score(&[2, 5, 8], &[10, 10, 10]), 75);
        // Equal fractions: 100; the zero-allocatable resource is left out.
        assert_eq!(
            balanced_resource_score(&[3, 3, 9, 3], &[10, 10, 0, 10]),
            100
        );
        assert_eq!(balanced_resource_score(&[], &[]), 100);
        assert_eq!(balanced_resource_score(&[7], &[10]), 100);
    }

    #[test]
    fn from_1_36_the_change_in_balance_is_scored() {
        let cases = [
            // (allocatable cpu m, memory, node requested cpu, memory, pod cpu, memory, score)
            // Before: 0.5 and 0 -> 75; after: 0.5 and 0.5 -> 100; 50 + (50 + 25) / 2 = 87.
            (4_000, 10_000, 2_000, 0, 0, 5_000, 87),
            // Before: 0.25 and 0.25 -> 100; after: 0.5 and 0.25 -> 87; 50 + 37 / 2 = 68.
            (4_000, 8_000, 1_000, 2_000, 1_000, 0, 68),
            // A pod that keeps the balance: 0.2/0.2 -> 0.4/0.4, both 100: 75.
            (5_000, 10_000, 1_000, 2_000, 1_000, 2_000, 75),
            // Perfectly imbalanced to perfectly balanced: 1/0 (50) -> 1/1 (100): 100.
            (3_000, 5_000, 3_000, 0, 0, 5_000, 100),
            // The other way: 0/0 (100) -> 0/1 (50): 50.
            (3_000, 5_000, 0, 0, 0, 5_000, 50),
            // Capped at 1 on both sides: cpu 8000/4000 and 5000/4000 -> 1, memory 0 both
            // times: 50 -> 50, 75.
            (4_000, 10_000, 5_000, 0, 3_000, 0, 75),
        ];
        for (cpu, mem, used_cpu, used_mem, pod_cpu, pod_mem, want) in cases {
            let score = score_on_node(
                KubernetesVersion::V1_36,
                [cpu, mem, used_cpu, used_mem, pod_cpu, pod_mem],
            );
            assert_eq!(score, want, "{cpu}/{mem} used {used_cpu}/{used_mem}");
            // The slice form gives the same score from the same totals.
            let requested = [used_cpu + pod_cpu, used_mem + pod_mem];
            let allocated = [used_cpu, used_mem];
            assert_eq!(
                balance_change_score(&requested, &allocated, &[cpu, mem]),
                want
            );
        }
    }
}
