//! NodeResourcesFit's and BalancedAllocation's scores of the feasible nodes, remembered per
//! node between cycles.
//!
//! Both are pure functions of the node's allocatable and requests and of the pod's requests
//! (and of the scheduler's configuration, which is fixed: BalancedAllocation's version too).
//! Between two cycles only the node a pod was bound to changes, and consecutive pods are often
//! replicas of one workload with the same requests, so most nodes' scores are those of the
//! previous cycle: they are recomputed only when an input differs.

use crate::cluster::node::Node;
use crate::cluster::scheduler::{SchedulerConfig, balanced_allocation};
use crate::units::Resources;

/// Everything the two scores read: the cpu and memory of each amount (neither score weighs
/// extended resources, and leaving them out keeps the comparison as cheap as it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Inputs {
    allocatable: CpuMemory,
    requested: CpuMemory,
    non_zero_requested: CpuMemory,
    pod_requests: CpuMemory,
    pod_non_zero_requests: CpuMemory,
}

/// Millicores and bytes of a `Resources`.
type CpuMemory = [u64; 2];

fn cpu_memory(r: Resources) -> CpuMemory {
    [r.cpu.0, r.memory.0]
}

/// The scores of one node and what they were computed from.
#[derive(Debug, Clone, Copy)]
struct Entry {
    inputs: Inputs,
    fit: u64,
    balanced: u64,
}

/// Per node index, the scores of the last cycle that scored the node.
#[derive(Debug, Clone, Default)]
pub(super) struct ResourceScores {
    entries: Vec<Option<Entry>>,
}

impl ResourceScores {
    /// NodeResourcesFit's and BalancedAllocation's scores of `node` (at `index` in the node
    /// list) for a pod requesting `pod_requests` (`pod_non_zero_requests` with the non-zero
    /// defaults); BalancedAllocation is 0 when `skip_balanced`, as its PreScore skips the pod.
    #[inline]
    pub(super) fn get(
        &mut self,
        config: &SchedulerConfig,
        index: usize,
        node: &Node,
        pod_requests: Resources,
        pod_non_zero_requests: Resources,
        skip_balanced: bool,
    ) -> (u64, u64) {
        let inputs = Inputs {
            allocatable: cpu_memory(node.allocatable),
            requested: cpu_memory(node.requested),
            non_zero_requested: cpu_memory(node.non_zero_requested),
            pod_requests: cpu_memory(pod_requests),
            pod_non_zero_requests: cpu_memory(pod_non_zero_requests),
        };
        if index >= self.entries.len() {
            self.entries.resize(index + 1, None);
        }
        if let Some(entry) = self.entries[index].filter(|e| e.inputs == inputs) {
            return (entry.fit, entry.balanced);
        }
        let fit =
            config
                .scoring_strategy
                .score(pod_non_zero_requests, node, &config.resource_weights);
        // A pod that requests nothing is the only one BalancedAllocation skips, and its
        // requests are part of the inputs.
        let balanced = if skip_balanced {
            0
        } else {
            balanced_allocation::balanced_allocation_score(
                config.kubernetes_version,
                pod_requests,
                node,
            )
        };
        self.entries[index] = Some(Entry {
            inputs,
            fit,
            balanced,
        });
        (fit, balanced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::scheduler::KubernetesVersion;
    use crate::cluster::spec::PodSpec;
    use crate::cluster::testing::{NodeBuilder, PodBuilder};

    /// The remembered scores are the ones computed afresh, under either BalancedAllocation
    /// formula, while nodes fill and empty and pods' requests change between cycles.
    #[test]
    fn remembered_scores_equal_fresh_ones_for_every_version() {
        const GIB: u64 = 1 << 30;
        let pods = [
            PodBuilder::new().cpu_m(500).memory(GIB).build(),
            PodBuilder::new().cpu_m(2_000).build(),
            PodBuilder::new().memory(3 * GIB).build(),
            PodBuilder::new().build(),
        ];
        for version in KubernetesVersion::ALL {
            let config = SchedulerConfig {
                kubernetes_version: version,
                ..SchedulerConfig::default()
            };
            let mut nodes: Vec<Node> = (0..4u64)
                .map(|k| {
                    let name = format!("n{k}");
                    NodeBuilder::new(&name)
                        .allocatable(4_000 + 1_000 * k, (8 + 4 * k) * GIB)
                        .build()
                })
                .collect();
            let mut on_node: Vec<Vec<&PodSpec>> = vec![Vec::new(); nodes.len()];
            let mut scores = ResourceScores::default();
            for cycle in 0..40usize {
                let pod = &pods[cycle * 7 % pods.len()];
                let skip = balanced_allocation::skips_score(pod.requests);
                for (index, node) in nodes.iter().enumerate() {
                    let non_zero = pod.non_zero_requests();
                    let got = scores.get(&config, index, node, pod.requests, non_zero, skip);
                    let fit =
                        config
                            .scoring_strategy
                            .score(non_zero, node, &config.resource_weights);
                    let balanced = if skip {
                        0
                    } else {
                        balanced_allocation::balanced_allocation_score(version, pod.requests, node)
                    };
                    assert_eq!(
                        got,
                        (fit, balanced),
                        "{version:?} cycle {cycle} node {index}"
                    );
                }
                // Bind the pod to one node, and every fifth cycle take a pod off the next.
                let bound = cycle % nodes.len();
                nodes[bound].add_pod(pod);
                on_node[bound].push(pod);
                let next = (bound + 1) % nodes.len();
                if cycle % 5 == 4
                    && let Some(leaving) = on_node[next].pop()
                {
                    nodes[next].remove_pod(leaving);
                }
            }
        }
    }
}
