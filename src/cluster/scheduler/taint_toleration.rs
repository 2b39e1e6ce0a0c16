//! TaintToleration: keeps pods off nodes whose NoSchedule or NoExecute taints they do not
//! tolerate (filter), and steers them away from nodes whose PreferNoSchedule taints they do not
//! tolerate (score, weight 3 in the default profile).
//!
//! The raw score is the number of untolerated PreferNoSchedule taints; the scheduler normalizes
//! it with `default_normalize_score(.., reverse = true)`, so the node with the most such taints
//! scores 0 and a node with none scores 100. Eviction by NoExecute taints of pods already running
//! is the taint manager's job, not the scheduler's, and is not done here.

use crate::cluster::node::Node;
use crate::cluster::scheduler::Reason;
use crate::cluster::spec::{PodSpec, Taint, TaintEffect, Toleration};

/// The plugin's name in kube-scheduler's configuration.
pub const NAME: &str = "TaintToleration";

/// Rejects the node when it has a NoSchedule or NoExecute taint the pod does not tolerate.
///
/// # Errors
/// `[Reason::UntoleratedTaint]` carrying the first such taint, as
/// `FindMatchingUntoleratedTaint` finds it.
pub fn filter(pod: &PodSpec, node: &Node) -> Result<(), Vec<Reason>> {
    match first_untolerated(pod, node) {
        None => Ok(()),
        Some(taint) => Err(vec![Reason::UntoleratedTaint {
            key: taint.key.clone(),
            value: taint.value.clone(),
        }]),
    }
}

/// The raw TaintToleration score of a node: how many of its PreferNoSchedule taints none of
/// `tolerations` tolerates. Normalize over the candidate nodes with
/// `default_normalize_score(.., true)` to get the plugin's 0..=100 score.
pub fn taint_toleration_raw_score(tolerations: &[Toleration], node: &Node) -> u64 {
    count_intolerable_prefer_no_schedule(&node.taints, tolerations.iter())
}

/// The filter's verdict without building a reason.
pub(crate) fn passes(pod: &PodSpec, node: &Node) -> bool {
    first_untolerated(pod, node).is_none()
}

/// The tolerations that can matter for scoring: those for PreferNoSchedule or for every effect.
/// kube-scheduler computes this once per pod in PreScore.
pub(crate) fn prefer_no_schedule_tolerations(tolerations: &[Toleration]) -> Vec<&Toleration> {
    tolerations
        .iter()
        .filter(|t| matches!(t.effect, None | Some(TaintEffect::PreferNoSchedule)))
        .collect()
}

/// Counts the PreferNoSchedule taints that none of `tolerations` tolerates.
pub(crate) fn count_intolerable_prefer_no_schedule<'a, I>(taints: &[Taint], tolerations: I) -> u64
where
    I: Iterator<Item = &'a Toleration> + Clone,
{
    let intolerable = taints
        .iter()
        .filter(|taint| taint.effect == TaintEffect::PreferNoSchedule)
        .filter(|taint| !tolerations.clone().any(|t| t.tolerates(taint)))
        .count();
    // A node has far fewer than u64::MAX taints.
    intolerable as u64
}

fn first_untolerated<'n>(pod: &PodSpec, node: &'n Node) -> Option<&'n Taint> {
    node.taints.iter().find(|taint| {
        matches!(
            taint.effect,
            TaintEffect::NoSchedule | TaintEffect::NoExecute
        ) && !pod.tolerations.iter().any(|t| t.tolerates(taint))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::scheduler::default_normalize_score;
    use crate::cluster::spec::TaintEffect::{NoExecute, NoSchedule, PreferNoSchedule};
    use crate::cluster::spec::TolerationOperator::{Equal, Exists};
    use crate::cluster::testing::{NodeBuilder, PodBuilder};

    #[test]
    fn filter_reports_the_first_untolerated_hard_taint() {
        let node = NodeBuilder::new("n")
            .taint("soft", "x", PreferNoSchedule)
            .taint("a", "1", NoSchedule)
            .taint("b", "2", NoExecute)
            .build();
        let cases = [
            // (pod, expected first untolerated taint key)
            (PodBuilder::new().build(), Some("a")),
            // Tolerating `a` leaves `b` (NoExecute also blocks scheduling).
            (
                PodBuilder::new().toleration("a", Equal, "1", None).build(),
                Some("b"),
            ),
            (
                PodBuilder::new()
                    .toleration("a", Exists, "", Some(NoSchedule))
                    .toleration("b", Equal, "2", Some(NoExecute))
                    .build(),
                None,
            ),
            // The PreferNoSchedule taint never blocks.
            (
                PodBuilder::new().toleration("", Exists, "", None).build(),
                None,
            ),
            // A wrong value does not tolerate.
            (
                PodBuilder::new()
                    .toleration("a", Equal, "other", None)
                    .toleration("b", Exists, "", None)
                    .build(),
                Some("a"),
            ),
        ];
        for (pod, want) in cases {
            let got = filter(&pod, &node);
            match want {
                None => assert_eq!(got, Ok(()), "{:?}", pod.tolerations),
                Some(key) => {
                    let value = if key == "a" { "1" } else { "2" };
                    assert_eq!(
                        got,
                        Err(vec![Reason::UntoleratedTaint {
                            key: key.into(),
                            value: value.into()
                        }]),
                        "{:?}",
                        pod.tolerations
                    );
                }
            }
            assert_eq!(passes(&pod, &node), want.is_none());
        }
    }

    #[test]
    fn raw_score_counts_untolerated_prefer_no_schedule_taints() {
        let node = NodeBuilder::new("n")
            .taint("cpu-type", "arm64", PreferNoSchedule)
            .taint("disk-type", "ssd", PreferNoSchedule)
            .taint("hard", "x", NoSchedule)
            .build();
        let cases = [
            // (tolerations, raw): hard taints never count.
            (PodBuilder::new().build(), 2),
            (
                PodBuilder::new()
                    .toleration("cpu-type", Equal, "arm64", Some(PreferNoSchedule))
                    .build(),
                1,
            ),
            // A toleration without effect covers PreferNoSchedule too.
            (
                PodBuilder::new()
                    .toleration("disk-type", Exists, "", None)
                    .build(),
                1,
            ),
            // A NoSchedule toleration does not cover a PreferNoSchedule taint.
            (
                PodBuilder::new()
                    .toleration("cpu-type", Exists, "", Some(NoSchedule))
                    .build(),
                2,
            ),
            (
                PodBuilder::new().toleration("", Exists, "", None).build(),
                0,
            ),
        ];
        for (pod, raw) in cases {
            assert_eq!(
                taint_toleration_raw_score(&pod.tolerations, &node),
                raw,
                "{:?}",
                pod.tolerations
            );
            // The pre-filtered tolerations give the same count.
            let pre = prefer_no_schedule_tolerations(&pod.tolerations);
            assert_eq!(
                count_intolerable_prefer_no_schedule(&node.taints, pre.iter().copied()),
                raw
            );
        }
    }

    #[test]
    fn score_is_reversed_and_normalized_over_candidates() {
        // Kubernetes' TestTaintTolerationScore: 0, 1 and 2 intolerable taints.
        // max = 2; 100 - 0*100/2 = 100, 100 - 1*100/2 = 50, 100 - 2*100/2 = 0.
        let mut scores = [0, 1, 2];
        default_normalize_score(&mut scores, true);
        assert_eq!(scores, [100, 50, 0]);
        // No node has an intolerable taint: all score 100.
        let mut scores = [0, 0];
        default_normalize_score(&mut scores, true);
        assert_eq!(scores, [100, 100]);
    }
}
