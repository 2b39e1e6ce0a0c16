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

/// Everything the two scores read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Inputs {
    allocatable: Resources,
    requested: Resources,
    non_zero_requested: Resources,
    pod_requests: Resources,
    pod_non_zero_requests: Resources,
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
            allocatable: node.allocatable,
            requested: node.requested,
            non_zero_requested: node.non_zero_requested,
            pod_requests,
            pod_non_zero_requests,
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
