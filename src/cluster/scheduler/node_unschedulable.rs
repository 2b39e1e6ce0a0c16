//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes no new pods, unless the pod
//! tolerates the `node.kubernetes.io/unschedulable:NoSchedule` taint.
//!
//! A filter only; the plugin has no score. Like kube-scheduler's plugin it reads the node's flag,
//! not a taint on the node: the simulation cordons a node by setting `Node::unschedulable`.

use crate::cluster::node::Node;
use crate::cluster::scheduler::Reason;
use crate::cluster::spec::{PodSpec, Taint, TaintEffect, taint_tolerated};

/// The plugin's name in kube-scheduler's configuration.
pub const NAME: &str = "NodeUnschedulable";

/// The taint key a pod's toleration must match to be placed on a cordoned node.
pub const UNSCHEDULABLE_TAINT_KEY: &str = "node.kubernetes.io/unschedulable";

/// Rejects a cordoned node unless the pod tolerates the unschedulable taint.
///
/// # Errors
/// `[Reason::Unschedulable]` when the node is cordoned and the pod does not tolerate it.
pub fn filter(pod: &PodSpec, node: &Node) -> Result<(), Vec<Reason>> {
    // The toleration only matters on cordoned nodes, so it is checked lazily here; the scheduler
    // computes it once per pod instead (see `passes`).
    if node.unschedulable && !tolerates_unschedulable(pod) {
        Err(vec![Reason::Unschedulable])
    } else {
        Ok(())
    }
}

/// Whether the pod tolerates `node.kubernetes.io/unschedulable:NoSchedule`, and so may run on a
/// cordoned node. Computed once per pod by the scheduler (kube-scheduler computes it per node).
pub fn tolerates_unschedulable(pod: &PodSpec) -> bool {
    let taint = Taint {
        key: UNSCHEDULABLE_TAINT_KEY.to_string(),
        value: String::new(),
        effect: TaintEffect::NoSchedule,
    };
    taint_tolerated(&taint, &pod.tolerations)
}

/// The filter's verdict without building a reason: `rejects_cordoned` is whether the pod is kept
/// off cordoned nodes (it does not tolerate the unschedulable taint).
pub(crate) fn passes(rejects_cordoned: bool, node: &Node) -> bool {
    !(node.unschedulable && rejects_cordoned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::spec::TolerationOperator::{Equal, Exists};
    use crate::cluster::testing::{NodeBuilder, PodBuilder};

    #[test]
    fn cordoned_nodes_reject_pods_without_the_unschedulable_toleration() {
        let key = UNSCHEDULABLE_TAINT_KEY;
        let cordoned = NodeBuilder::new("n").unschedulable().build();
        let open = NodeBuilder::new("n").build();
        let cases = [
            // (pod, node, fits)
            (PodBuilder::new().build(), &open, true),
            (PodBuilder::new().build(), &cordoned, false),
            // Exists on the key, any effect: tolerated.
            (
                PodBuilder::new().toleration(key, Exists, "", None).build(),
                &cordoned,
                true,
            ),
            // Equal with the empty value the taint has: tolerated.
            (
                PodBuilder::new()
                    .toleration(key, Equal, "", Some(TaintEffect::NoSchedule))
                    .build(),
                &cordoned,
                true,
            ),
            // Wrong effect: not tolerated.
            (
                PodBuilder::new()
                    .toleration(key, Exists, "", Some(TaintEffect::NoExecute))
                    .build(),
                &cordoned,
                false,
            ),
            // Empty key with Exists tolerates everything.
            (
                PodBuilder::new().toleration("", Exists, "", None).build(),
                &cordoned,
                true,
            ),
            // Another key: not tolerated.
            (
                PodBuilder::new()
                    .toleration("other", Exists, "", None)
                    .build(),
                &cordoned,
                false,
            ),
        ];
        for (pod, node, fits) in cases {
            let got = filter(&pod, node);
            assert_eq!(
                got.is_ok(),
                fits,
                "{:?} on {}",
                pod.tolerations,
                node.unschedulable
            );
            if !fits {
                assert_eq!(got, Err(vec![Reason::Unschedulable]));
            }
            assert_eq!(passes(!tolerates_unschedulable(&pod), node), fits);
        }
    }
}
