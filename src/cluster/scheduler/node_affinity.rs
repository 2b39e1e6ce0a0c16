//! NodeAffinity: keeps pods on nodes matching their node selector and required node affinity
//! (filter), and prefers nodes matching their preferred terms (score, weight 2 in the default
//! profile).
//!
//! The raw score is the sum of the weights of the preferred terms a node matches; the scheduler
//! normalizes it with `default_normalize_score(.., reverse = false)`, so the best-matching node
//! scores 100. A pod without preferred terms is skipped at PreScore, as in kube-scheduler: the
//! plugin then adds nothing to any node. The matching rules themselves live in `cluster::spec`.
//! Not modelled: `matchFields` (affinity to a node by name) and the plugin's `addedAffinity`
//! arguments.

use crate::cluster::node::Node;
use crate::cluster::scheduler::Reason;
use crate::cluster::spec::{NodeAffinity, PodSpec};

/// The plugin's name in kube-scheduler's configuration.
pub const NAME: &str = "NodeAffinity";

/// Rejects the node when the pod's node selector or required terms do not match its labels.
///
/// # Errors
/// `[Reason::NodeAffinityMismatch]`.
pub fn filter(pod: &PodSpec, node: &Node) -> Result<(), Vec<Reason>> {
    if passes(pod, node) {
        Ok(())
    } else {
        Err(vec![Reason::NodeAffinityMismatch])
    }
}

/// The raw NodeAffinity score of a node: the sum of the weights of the preferred terms it
/// matches. Normalize over the candidate nodes with `default_normalize_score(.., false)` to get
/// the plugin's 0..=100 score.
pub fn node_affinity_raw_score(affinity: &NodeAffinity, node: &Node) -> u64 {
    affinity.preferred_score(&node.labels)
}

/// The filter's verdict without building a reason.
pub(crate) fn passes(pod: &PodSpec, node: &Node) -> bool {
    pod.affinity.required_matches(&node.labels)
}

/// Whether kube-scheduler skips the score for this pod (no preferred terms): PreScore's `Skip`.
pub(crate) fn skips_score(affinity: &NodeAffinity) -> bool {
    affinity.preferred.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::scheduler::default_normalize_score;
    use crate::cluster::testing::{NodeBuilder, PodBuilder};

    #[test]
    fn filter_needs_selector_and_one_required_term() {
        let memory = NodeBuilder::new("m")
            .label("node-type", "memory-optimized")
            .label("zone", "a")
            .build();
        let compute = NodeBuilder::new("c")
            .label("node-type", "compute-optimized")
            .build();
        let cases = [
            // (pod, fits memory, fits compute)
            (PodBuilder::new().build(), true, true),
            (
                PodBuilder::new().node_selector("zone", "a").build(),
                true,
                false,
            ),
            (
                PodBuilder::new()
                    .required_in("node-type", "compute-optimized")
                    .build(),
                false,
                true,
            ),
            // Required terms are ORed.
            (
                PodBuilder::new()
                    .required_in("node-type", "compute-optimized")
                    .required_in("zone", "a")
                    .build(),
                true,
                true,
            ),
            // Selector and terms are ANDed.
            (
                PodBuilder::new()
                    .node_selector("zone", "a")
                    .required_in("node-type", "compute-optimized")
                    .build(),
                false,
                false,
            ),
            // Preferred terms never filter.
            (
                PodBuilder::new().preferred_in(100, "zone", "b").build(),
                true,
                true,
            ),
        ];
        for (pod, fits_memory, fits_compute) in cases {
            for (node, fits) in [(&memory, fits_memory), (&compute, fits_compute)] {
                let want = if fits {
                    Ok(())
                } else {
                    Err(vec![Reason::NodeAffinityMismatch])
                };
                assert_eq!(
                    filter(&pod, node),
                    want,
                    "{:?} on {}",
                    pod.affinity,
                    node.name
                );
                assert_eq!(passes(&pod, node), fits);
            }
        }
    }

    #[test]
    fn raw_score_sums_matching_weights_then_normalizes_to_the_best() {
        // The reference scenario's vector store prefers memory-optimized nodes with weight 100;
        // a second term of weight 20 prefers zone a.
        let pod = PodBuilder::new()
            .preferred_in(100, "node-type", "memory-optimized")
            .preferred_in(20, "zone", "a")
            .build();
        let nodes = [
            NodeBuilder::new("both")
                .label("node-type", "memory-optimized")
                .label("zone", "a")
                .build(),
            NodeBuilder::new("type")
                .label("node-type", "memory-optimized")
                .build(),
            NodeBuilder::new("zone").label("zone", "a").build(),
            NodeBuilder::new("none").build(),
        ];
        let mut scores: Vec<u64> = nodes
            .iter()
            .map(|n| node_affinity_raw_score(&pod.affinity, n))
            .collect();
        assert_eq!(scores, [120, 100, 20, 0]);
        // max = 120: 120*100/120 = 100, 100*100/120 = 83, 20*100/120 = 16, 0.
        default_normalize_score(&mut scores, false);
        assert_eq!(scores, [100, 83, 16, 0]);
        assert!(!skips_score(&pod.affinity));
        assert!(skips_score(&PodBuilder::new().build().affinity));
    }
}
