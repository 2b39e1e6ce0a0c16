//! NodeResourcesFit's and BalancedAllocation's scores of the feasible nodes, remembered per
//! node between cycles.
//!
//! Both are pure functions of the node's allocatable and requests and of the pod's requests.
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
            balanced_allocation::balanced_allocation_score(pod_requests, node)
        };
        self.entries[index] = Some(Entry {
            inputs,
            fit,
            balanced,
        });
        (fit, balanced)
    }
}
