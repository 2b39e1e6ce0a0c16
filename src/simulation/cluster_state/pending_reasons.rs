//! Why each Pending pod waits, integrated per workload: pod-seconds by reason.
//!
//! Every unbound pod has one primary reason at a time, set at its scheduling attempts only
//! (never per request); a workload keeps one time-weighted count of its pods per reason, so the
//! pod-seconds by reason sum to its `pending_gauge`'s integral. A reason is one of
//! kube-scheduler's `FitError` parts without its node count (`Insufficient cpu`), chosen by
//! `primary_reason`, or the Cluster Autoscaler's (`PodVerdict::reason`).
//!
//! The reason changes only at scheduling attempts and Cluster Autoscaler scans. A pod a node
//! on its way is counted on for (as the last scan found) waits for that node while its pool
//! still has a node on its way, whatever its scheduling attempts find; otherwise the later of
//! the last failed attempt and the last scan decides: the scheduler's reason at an attempt, the
//! autoscaler's at a scan when it has one of its own (else the scheduler's last reason).

use crate::controllers::cluster_autoscaler::verdicts::PodVerdict;
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

/// What the Cluster Autoscaler's last scan found for a Pending pod whose wait counts under the
/// autoscaler's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CaWait {
    /// A node of this pool on its way is expected to take the pod.
    Provisioning(usize),
    /// The autoscaler adds no node for it, for a reason of its own.
    NoScaleUp,
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

    /// A scheduling attempt found no node for Pending pod `pod_ref` at `now`, kube-scheduler's
    /// primary reason being `reason`: its wait counts under it from now on, unless the pod
    /// waits for a node the Cluster Autoscaler counted on for it and its pool still has a node
    /// on its way.
    pub(crate) fn scheduler_verdict(&mut self, pod_ref: PodRef, reason: &str, now: SimTime) {
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        if let Some(CaWait::Provisioning(p)) = pod.ca_wait
            && self
                .pools
                .get(p)
                .is_some_and(|pool| !pool.upcoming.is_empty())
        {
            return;
        }
        pod.ca_wait = None;
        self.set_pending_reason(pod_ref, reason, now);
    }

    /// Whether the wait of pod `pod_ref` counts under a Cluster Autoscaler reason.
    pub(crate) fn has_ca_wait(&self, pod_ref: PodRef) -> bool {
        self.pods.get(pod_ref).is_some_and(|p| p.ca_wait.is_some())
    }

    /// The Cluster Autoscaler's scan at `now` found `verdict` for Pending pod `pod_ref`: its
    /// wait counts under the verdict's reason from now on, or, when the verdict has none, under
    /// the scheduler's reason of its last attempt.
    pub(crate) fn ca_verdict(&mut self, pod_ref: PodRef, verdict: PodVerdict, now: SimTime) {
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        if pod.node.is_some() {
            return;
        }
        if let Some(reason) = verdict.reason() {
            pod.ca_wait = Some(match verdict {
                PodVerdict::Provisioning { pool } => CaWait::Provisioning(pool),
                _ => CaWait::NoScaleUp,
            });
            self.set_pending_reason(pod_ref, reason, now);
        } else if pod.ca_wait.take().is_some() {
            let message = pod.last_unschedulable.clone();
            let reason = message.as_deref().map_or(NOT_YET_TRIED, primary_reason);
            self.set_pending_reason(pod_ref, reason, now);
        }
    }

    /// Pending pod `pod_ref` stops waiting (bound or deleted) at `now`.
    pub(super) fn stop_waiting(&mut self, pod_ref: PodRef, now: SimTime) {
        let Some(pod) = self.pods.get_mut(pod_ref) else {
            return;
        };
        pod.ca_wait = None;
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
