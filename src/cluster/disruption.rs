//! PodDisruptionBudgets: how many of a service's pods may be disrupted now, as Kubernetes'
//! disruption controller computes it (`pkg/controller/disruption`), and whether the eviction
//! API lets one pod go (`pkg/registry/core/pod/storage/eviction.go`).
//!
//! Use `BudgetStatus::compute` with the live counts of one service's pods, then
//! `BudgetStatus::allows_eviction` for each pod a drain wants to evict. Voluntary disruptions
//! (the Cluster Autoscaler's drains) go through these; a Deployment scaling down does not.

/// A whole number of pods, or a percentage of the controller's replicas (`IntOrString`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodCount {
    /// That many pods.
    Count(u32),
    /// That percentage of the Deployment's replicas, rounded up.
    Percent(u32),
}

impl PodCount {
    /// `GetScaledValueFromIntOrPercent(value, total, roundUp=true)`.
    fn scaled(self, total: u32) -> u32 {
        match self {
            PodCount::Count(n) => n,
            PodCount::Percent(p) => (u64::from(p) * u64::from(total)).div_ceil(100) as u32,
        }
    }
}

/// A PodDisruptionBudget's spec: exactly one of `minAvailable` and `maxUnavailable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisruptionBudget {
    /// At least this many pods must stay healthy.
    MinAvailable(PodCount),
    /// At most this many of the Deployment's replicas may be unhealthy.
    MaxUnavailable(PodCount),
}

/// A budget's status, as the disruption controller writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetStatus {
    /// Ready pods not being deleted.
    pub current_healthy: u32,
    /// Healthy pods the budget asks to keep.
    pub desired_healthy: u32,
    /// Pods the budget expects: the Deployment's replicas, or the pods that exist for an
    /// integer `minAvailable`.
    pub expected_pods: u32,
    /// How many healthy pods may be evicted now.
    pub disruptions_allowed: u32,
}

impl BudgetStatus {
    /// The status of `budget` over a service whose Deployment asks for `replicas`, with
    /// `pods` pods in existence and `healthy` of them Ready and not terminating
    /// (`getExpectedPodCount`, `countHealthyPods`, `updatePdbStatus`).
    pub fn compute(budget: DisruptionBudget, replicas: u32, pods: u32, healthy: u32) -> Self {
        let (expected_pods, desired_healthy) = match budget {
            DisruptionBudget::MaxUnavailable(max) => {
                (replicas, replicas.saturating_sub(max.scaled(replicas)))
            }
            DisruptionBudget::MinAvailable(PodCount::Count(n)) => (pods, n),
            DisruptionBudget::MinAvailable(min) => (replicas, min.scaled(replicas)),
        };
        // A budget that expects no pods allows nothing: its first pods may appear before the
        // controller has looked at them.
        let disruptions_allowed = if expected_pods == 0 {
            0
        } else {
            healthy.saturating_sub(desired_healthy)
        };
        BudgetStatus {
            current_healthy: healthy,
            desired_healthy,
            expected_pods,
            disruptions_allowed,
        }
    }

    /// Whether the eviction API lets a pod go: one not yet running (`Pending`) or already
    /// being deleted always; a Ready one only while disruptions are allowed; an unready
    /// running one also while the budget is otherwise met (the default
    /// `unhealthyPodEvictionPolicy: IfHealthyBudget`).
    pub fn allows_eviction(&self, running: bool, ready: bool, terminating: bool) -> bool {
        if !running || terminating {
            return true;
        }
        if !ready && self.desired_healthy > 0 && self.current_healthy >= self.desired_healthy {
            return true;
        }
        self.disruptions_allowed > 0
    }
}

/// The message the API server refuses an eviction with (HTTP 429).
pub const EVICTION_REFUSED: &str =
    "Cannot evict pod as it would violate the pod's disruption budget.";

#[cfg(test)]
mod tests {
    use super::*;

    fn status(budget: DisruptionBudget, replicas: u32, pods: u32, healthy: u32) -> (u32, u32) {
        let s = BudgetStatus::compute(budget, replicas, pods, healthy);
        (s.desired_healthy, s.disruptions_allowed)
    }

    #[test]
    fn min_available_as_a_count_keeps_that_many() {
        let min = |n| DisruptionBudget::MinAvailable(PodCount::Count(n));
        // (replicas, pods, healthy) -> (desired healthy, disruptions allowed)
        assert_eq!(status(min(1), 2, 2, 2), (1, 1));
        assert_eq!(status(min(2), 2, 2, 2), (2, 0));
        assert_eq!(status(min(1), 3, 3, 1), (1, 0));
        assert_eq!(status(min(3), 5, 5, 5), (3, 2));
        // No pods at all: nothing may go, whatever the arithmetic says.
        assert_eq!(status(min(0), 0, 0, 0), (0, 0));
    }

    #[test]
    fn percentages_scale_the_deployment_replicas_rounding_up() {
        let min = |p| DisruptionBudget::MinAvailable(PodCount::Percent(p));
        let max = |p| DisruptionBudget::MaxUnavailable(PodCount::Percent(p));
        // minAvailable 50% of 3 is 2 (1.5 rounded up).
        assert_eq!(status(min(50), 3, 3, 3), (2, 1));
        // maxUnavailable 25% of 3 is 1 (0.75 rounded up): 2 must stay.
        assert_eq!(status(max(25), 3, 3, 3), (2, 1));
        // maxUnavailable 100%: nothing needs to stay.
        assert_eq!(status(max(100), 4, 4, 4), (0, 4));
        // A surge pod above the replicas counts as healthy, the expectation does not move.
        assert_eq!(status(max(25), 4, 5, 5), (3, 2));
    }

    #[test]
    fn max_unavailable_as_a_count_counts_against_the_replicas() {
        let max = |n| DisruptionBudget::MaxUnavailable(PodCount::Count(n));
        assert_eq!(status(max(1), 3, 3, 3), (2, 1));
        // One pod already down uses the budget up.
        assert_eq!(status(max(1), 3, 3, 2), (2, 0));
        // More unavailable allowed than replicas: none need stay.
        assert_eq!(status(max(5), 2, 2, 2), (0, 2));
    }

    #[test]
    fn evictions_follow_the_api_servers_rules() {
        let min = DisruptionBudget::MinAvailable(PodCount::Count(2));
        let met = BudgetStatus::compute(min, 3, 3, 2);
        assert_eq!(met.disruptions_allowed, 0);
        // A Ready pod would take the service below its budget.
        assert!(!met.allows_eviction(true, true, false));
        // Pods that are not serving may go: pending, terminating, or unready while the
        // budget is met by the others.
        assert!(met.allows_eviction(false, false, false));
        assert!(met.allows_eviction(true, true, true));
        assert!(met.allows_eviction(true, false, false));
        // An unready pod while the budget is not met: refused.
        let short = BudgetStatus::compute(min, 3, 3, 1);
        assert!(!short.allows_eviction(true, false, false));
        // With room in the budget a Ready pod may go.
        let room = BudgetStatus::compute(min, 3, 3, 3);
        assert!(room.allows_eviction(true, true, false));
    }
}
