//! What the kubelet decides about the pods on its node when memory runs out: how long it waits
//! before restarting a container the kernel OOM-killed (CrashLoopBackOff), and which pod it
//! evicts first when the node is under memory pressure.
//!
//! Use `CrashLoopBackOff` per pod (one container per pod here) and `memory_eviction_victim` for a
//! node over its eviction threshold. Like the rest of `cluster`, these are plain functions of
//! the state passed in: the simulation decides when a container exits or a node runs short.

use std::cmp::Ordering;

use crate::units::{Bytes, SimDuration, SimTime};

/// The first restart delay of a crashed container: `containerBackOffPeriod` (10 s,
/// `pkg/kubelet/kubelet.go`; `backOffPeriod` in releases before it was split out).
pub const CONTAINER_BACK_OFF: SimDuration = SimDuration::from_secs(10);

/// The longest restart delay: `MaxContainerBackOff` (300 s, `pkg/kubelet/kubelet.go`, from the
/// kubelet config's `v1beta1.MaxContainerBackOff`).
pub const MAX_CONTAINER_BACK_OFF: SimDuration = SimDuration::from_secs(300);

/// How long a container must run after its last restart for its next crash to start the delays
/// over: twice the longest delay (`hasExpired` in client-go `util/flowcontrol/backoff.go`:
/// "consider stable if it's ok for twice the maxDuration").
pub const BACK_OFF_RESET: SimDuration = SimDuration(2 * MAX_CONTAINER_BACK_OFF.0);

/// How often the kubelet's eviction manager runs `synchronize`, evicting at most one pod each
/// time (`evictionMonitoringPeriod`, `pkg/kubelet/kubelet.go`).
pub const EVICTION_MONITORING_PERIOD: SimDuration = SimDuration::from_secs(10);

/// The kubelet's restart backoff of one container: 10 s after its first crash, doubling with
/// each crash that follows its last restart by at most ten minutes, up to 5 minutes.
///
/// Upstream keeps a `flowcontrol.Backoff` entry per container; `doBackOff`
/// (`pkg/kubelet/kuberuntime/kuberuntime_manager.go`) holds the container back while the time
/// since it exited is below the entry's delay, then calls `Next`, which doubles the delay or,
/// when the exit came more than `BACK_OFF_RESET` after the previous `Next` (the last restart),
/// starts it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CrashLoopBackOff {
    /// The delay before the last restart, if the container has crashed before.
    delay: Option<SimDuration>,
    /// When the container was last restarted.
    restarted_at: SimTime,
}

impl CrashLoopBackOff {
    /// The container exited at `at`: how long the kubelet waits before starting it again.
    /// Call `restarted` when it does.
    pub fn exited(&mut self, at: SimTime) -> SimDuration {
        let delay = match self.delay {
            Some(previous) if at.since(self.restarted_at) <= BACK_OFF_RESET => {
                SimDuration(previous.0.saturating_mul(2).min(MAX_CONTAINER_BACK_OFF.0))
            }
            _ => CONTAINER_BACK_OFF,
        };
        self.delay = Some(delay);
        delay
    }

    /// The kubelet started the container again at `at`.
    pub fn restarted(&mut self, at: SimTime) {
        self.restarted_at = at;
    }
}

/// One pod as the eviction manager ranks it under memory pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    /// Working set of the pod's containers.
    pub usage: Bytes,
    /// The pod's memory request (0 for a BestEffort pod).
    pub request: Bytes,
}

/// The order in which the kubelet evicts pods under memory pressure (`rankMemoryPressure`,
/// `pkg/kubelet/eviction/helpers.go`: `orderedBy(exceedMemoryRequests, priority, memory)`):
/// pods using more than they request first, then lower priority first (every pod has the
/// default priority here), then the pod using the most above its request first. A BestEffort
/// pod requests nothing, so any usage puts it first.
pub fn memory_pressure_order(a: &MemoryUse, b: &MemoryUse) -> Ordering {
    let exceeds = |p: &MemoryUse| p.usage > p.request;
    let above = |p: &MemoryUse| i128::from(p.usage.0) - i128::from(p.request.0);
    exceeds(b)
        .cmp(&exceeds(a))
        .then_with(|| above(b).cmp(&above(a)))
}

/// The index of the pod the kubelet evicts first among `pods` (`memory_pressure_order`); of
/// pods it ranks equal, the first. `None` when there is no pod.
pub fn memory_eviction_victim(pods: &[MemoryUse]) -> Option<usize> {
    (0..pods.len()).reduce(|best, i| {
        if memory_pressure_order(&pods[i], &pods[best]) == Ordering::Less {
            i
        } else {
            best
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    /// Crashes `backoff` at each of `exits` (seconds), restarting it after each delay, and
    /// returns the delays.
    fn delays(backoff: &mut CrashLoopBackOff, exits_after_restart: &[u64]) -> Vec<u64> {
        let mut now = SimTime::ZERO + secs(100);
        exits_after_restart
            .iter()
            .map(|&ran| {
                now += secs(ran);
                let delay = backoff.exited(now);
                now += delay;
                backoff.restarted(now);
                delay.0 / 1_000_000
            })
            .collect()
    }

    #[test]
    fn restart_delays_double_from_10s_to_5_minutes() {
        let mut backoff = CrashLoopBackOff::default();
        // Each restart crashes again a second later.
        assert_eq!(
            delays(&mut backoff, &[1; 9]),
            [10, 20, 40, 80, 160, 300, 300, 300, 300]
        );
    }

    #[test]
    fn ten_minutes_of_running_start_the_delays_over() {
        let mut backoff = CrashLoopBackOff::default();
        // Three quick crashes; then the container runs exactly 10 minutes (not more: the delay
        // keeps doubling), then 10 minutes and a second (the delay starts over).
        assert_eq!(
            delays(&mut backoff, &[1, 1, 1, 600, 601, 1]),
            [10, 20, 40, 80, 10, 20]
        );
    }

    #[test]
    fn the_first_crash_waits_10s_however_long_the_container_ran() {
        let mut backoff = CrashLoopBackOff::default();
        assert_eq!(delays(&mut backoff, &[5_000]), [10]);
    }

    #[test]
    fn pods_above_their_request_go_first_then_the_largest_excess() {
        let mib = |m: u64| Bytes(m * Bytes::MIB);
        let pod = |usage, request| MemoryUse {
            usage: mib(usage),
            request: mib(request),
        };
        let cases: [(&[MemoryUse], Option<usize>); 6] = [
            (&[], None),
            // A BestEffort pod (request 0) using 100Mi before a Burstable one 50Mi above its
            // request.
            (&[pod(550, 500), pod(100, 0)], Some(1)),
            // Both above their request: the larger excess (300Mi) first, whatever the usage.
            (&[pod(400, 0), pod(2_300, 2_000), pod(700, 0)], Some(2)),
            // A pod within its request goes after any pod above it, however large.
            (&[pod(4_000, 4_000), pod(10, 0)], Some(1)),
            // None above: the one closest to its request (-100Mi beats -900Mi).
            (&[pod(100, 1_000), pod(900, 1_000)], Some(1)),
            // Equal ranks: the first.
            (&[pod(300, 0), pod(300, 0)], Some(0)),
        ];
        for (pods, victim) in cases {
            assert_eq!(memory_eviction_victim(pods), victim, "{pods:?}");
        }
    }
}
