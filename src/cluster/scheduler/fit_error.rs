//! `FitError`: why a pod fits on no node, worded and counted as kube-scheduler's `FitError` is,
//! so that a simulated FailedScheduling event reads like a real one.
//!
//! It only formats; deciding which reasons a node has is the filter plugins' job.

use std::collections::BTreeMap;
use std::fmt;

use crate::cluster::scheduler::Reason;

/// No node can run the pod: how many nodes there were and how many gave each reason.
///
/// Reasons are counted by their message, as kube-scheduler counts them, so distinct values that
/// print alike (two untolerated taints) count together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitError {
    num_all_nodes: usize,
    reason_counts: BTreeMap<String, usize>,
}

impl FitError {
    /// A fit error over `num_all_nodes` nodes, counting `reasons`: one entry per (node, reason),
    /// as `first_failing_plugin` gives them for each node.
    pub fn from_reasons<'a>(
        num_all_nodes: usize,
        reasons: impl IntoIterator<Item = &'a Reason>,
    ) -> FitError {
        let mut error = FitError {
            num_all_nodes,
            reason_counts: BTreeMap::new(),
        };
        for reason in reasons {
            error.record(reason);
        }
        error
    }

    /// The error for a cluster without nodes (kube-scheduler's `ErrNoNodesAvailable`).
    pub fn no_nodes() -> FitError {
        FitError::from_reasons(0, [])
    }

    /// How many nodes the scheduler considered.
    pub fn num_all_nodes(&self) -> usize {
        self.num_all_nodes
    }

    /// Each distinct reason message with the number of nodes that gave it, ordered by message.
    pub fn reason_counts(&self) -> impl Iterator<Item = (&str, usize)> {
        self.reason_counts.iter().map(|(r, &n)| (r.as_str(), n))
    }

    pub(crate) fn record(&mut self, reason: &Reason) {
        *self.reason_counts.entry(reason.to_string()).or_insert(0) += 1;
    }
}

impl fmt::Display for FitError {
    /// `0/N nodes are available: 2 Insufficient cpu, 3 node(s) didn't match Pod's node
    /// affinity/selector.`: the `count reason` strings sorted as strings (so `10 …` sorts before
    /// `2 …`, as in Kubernetes), joined by `, `. With no nodes, kube-scheduler's
    /// `no nodes available to schedule pods`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.num_all_nodes == 0 {
            return f.write_str("no nodes available to schedule pods");
        }
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        let mut histogram: Vec<String> = self
            .reason_counts
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect();
        if histogram.is_empty() {
            return Ok(());
        }
        histogram.sort();
        write!(f, " {}.", histogram.join(", "))
    }
}

impl std::error::Error for FitError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str) -> Reason {
        Reason::UntoleratedTaint {
            key: key.into(),
            value: String::new(),
        }
    }

    #[test]
    fn prints_kube_schedulers_message() {
        let affinity = Reason::NodeAffinityMismatch;
        let cpu = Reason::InsufficientCpu;
        let cases = [
            (
                FitError::from_reasons(5, [&cpu, &affinity, &cpu, &affinity, &affinity]),
                "0/5 nodes are available: 2 Insufficient cpu, \
                 3 node(s) didn't match Pod's node affinity/selector.",
            ),
            // Sorted as strings: "10 …" before "2 …".
            (
                FitError::from_reasons(12, std::iter::repeat_n(&affinity, 10).chain([&cpu, &cpu])),
                "0/12 nodes are available: 10 node(s) didn't match Pod's node affinity/selector, \
                 2 Insufficient cpu.",
            ),
            // Two different taints print alike and count together.
            (
                FitError::from_reasons(2, [&taint("a"), &taint("b")]),
                "0/2 nodes are available: 2 node(s) had untolerated taint(s).",
            ),
            // One node can give several reasons (NodeResourcesFit).
            (
                FitError::from_reasons(1, [&cpu, &Reason::InsufficientMemory]),
                "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.",
            ),
            (
                FitError::from_reasons(
                    2,
                    [
                        &Reason::InsufficientExtended {
                            name: "nvidia.com/gpu".into(),
                        },
                        &Reason::InsufficientExtended {
                            name: "nvidia.com/gpu".into(),
                        },
                    ],
                ),
                "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.",
            ),
            (FitError::no_nodes(), "no nodes available to schedule pods"),
            // Nodes but no recorded reason: kube-scheduler's bare prefix.
            (FitError::from_reasons(3, []), "0/3 nodes are available:"),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn exposes_counts() {
        let error = FitError::from_reasons(3, [&Reason::TooManyPods, &Reason::TooManyPods]);
        assert_eq!(error.num_all_nodes(), 3);
        assert_eq!(
            error.reason_counts().collect::<Vec<_>>(),
            vec![("Too many pods", 2)]
        );
    }
}
