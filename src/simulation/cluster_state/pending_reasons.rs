//! Why each Pending pod waits, integrated per workload: pod-seconds by reason.
//!
//! Every unbound pod has one primary reason at a time, set at its scheduling attempts only
//! (never per request); a workload keeps one time-weighted count of its pods per reason, so the
//! pod-seconds by reason sum to its `pending_gauge`'s integral. A reason is one of
//! kube-scheduler's `FitError` parts without its node count (`Insufficient cpu`), chosen by
//! `primary_reason`.

use crate::report::stats::Gauge;
use crate::simulation::cluster_state::{ClusterState, PodRef};
use crate::units::SimTime;

/// The reason a pod's wait is counted under from its creation to its first attempt's verdict
/// (the same instant, as a pod is tried the moment it is created).
pub(crate) const NOT_YET_TRIED: &str = "not yet tried by the scheduler";

/// The one reason a wait is counted under, from kube-scheduler's message `message`
/// (`0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {a: b}.`):
/// the part that covers the most nodes, without its count; between parts that cover as many,
/// the first in the message (FitError's order, by reason text). A message of no such parts
/// (`no nodes available to schedule pods`) is its own reason.
pub(crate) fn primary_reason(message: &str) -> &str {
    let Some((_, parts)) = message.split_once(": ") else {
        return message;
    };
    let parts = parts.strip_suffix('.').unwrap_or(parts);
    let mut best: Option<(usize, &str)> = None;
    for part in parts.split(", ") {
        let Some((count, reason)) = part.split_once(' ') else {
            continue;
        };
        let Ok(count) = count.parse::<usize>() else {
            continue;
        };
        // Ties keep the earlier part: the message lists parts sorted as strings.
        if best.is_none_or(|(n, _)| count > n) {
            best = Some((count, reason));
        }
    }
    best.map_or(message, |(_, reason)| reason)
}

/// A workload's Pending pods counted by reason, over time.
#[derive(Debug, Default)]
pub(crate) struct ReasonGauges {
    /// Per reason index (`ClusterState::reason_names`), its pods over time.
    by_reason: Vec<Gauge>,
}

impl ReasonGauges {
    fn add(&mut self, reason: u16, now: SimTime, delta: i64) {
        let r = usize::from(reason);
        if self.by_reason.len() <= r {
            self.by_reason
                .resize_with(r + 1, || Gauge::new(SimTime::ZERO, 0));
        }
        self.by_reason[r].add(now, delta);
    }

    /// The measured window starts.
    pub(super) fn restart(&mut self, now: SimTime) {
        self.by_reason.iter_mut().for_each(|g| g.restart(now));
    }

    /// Pods waiting now, all reasons together (what `check_invariants` holds equal to the
    /// workload's Pending pods).
    #[cfg(test)]
    pub(super) fn waiting(&self) -> u64 {
        self.by_reason.iter().map(Gauge::value).sum()
    }
}

impl ClusterState {
    /// The index of `reason`, interned on first use.
    fn reason_index(&mut self, reason: &str) -> u16 {
        if let Some(i) = self.reason_names.iter().position(|r| r == reason) {
            return i as u16;
        }
        self.reason_names.push(reason.to_string());
        u16::try_from(self.reason_names.len() - 1).expect("fewer than 65,536 reasons")
    }

    /// A Pending pod starts waiting (it was just created), under `NOT_YET_TRIED`.
    pub(super) fn start_waiting(&mut self, pod_ref: PodRef, now: SimTime) {
        self.set_pending_reason(pod_ref, NOT_YET_TRIED, now);
    }

    /// From `now` on, Pending pod `pod_ref` waits for `reason`.
    pub(crate) fn set_pending_reason(&mut self, pod_ref: PodRef, reason: &str, now: SimTime) {
        let index = self.reason_index(reason);
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        if pod.node.is_some() || pod.pending_reason == Some(index) {
            return;
        }
        let gauges = &mut self.workloads[usize::from(pod.service)].pending_reasons;
        if let Some(old) = pod.pending_reason.replace(index) {
            gauges.add(old, now, -1);
        }
        gauges.add(index, now, 1);
    }

    /// Pending pod `pod_ref` stops waiting (bound or deleted) at `now`.
    pub(super) fn stop_waiting(&mut self, pod_ref: PodRef, now: SimTime) {
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        if let Some(old) = pod.pending_reason.take() {
            let gauges = &mut self.workloads[usize::from(pod.service)].pending_reasons;
            gauges.add(old, now, -1);
        }
    }

    /// Workload `w`'s pod-seconds of waiting by reason over the measured window up to `now`,
    /// for each reason it waited for: the most first, ties by name.
    pub(crate) fn pending_seconds_by_reason(&self, w: usize, now: SimTime) -> Vec<(&str, f64)> {
        let gauges = &self.workloads[w].pending_reasons.by_reason;
        let mut out: Vec<(&str, f64)> = (gauges.iter().enumerate())
            .map(|(r, g)| (self.reason_names[r].as_str(), g.integral_secs(now)))
            .filter(|&(_, seconds)| seconds > 0.0)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_reason_covers_the_most_nodes_and_ties_go_to_the_first() {
        let cases = [
            (
                "0/5 nodes are available: 2 Insufficient cpu, 3 Insufficient memory.",
                "Insufficient memory",
            ),
            (
                "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {a: b}.",
                "Insufficient cpu",
            ),
            (
                "0/4 nodes are available: 2 Insufficient cpu, 2 Insufficient memory.",
                "Insufficient cpu",
            ),
            (
                "0/12 nodes are available: 10 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.",
                "node(s) didn't match Pod's node affinity/selector",
            ),
            ("0/1 nodes are available: 1 Too many pods.", "Too many pods"),
            (
                "no nodes available to schedule pods",
                "no nodes available to schedule pods",
            ),
        ];
        for (message, reason) in cases {
            assert_eq!(primary_reason(message), reason, "{message}");
        }
    }
}
