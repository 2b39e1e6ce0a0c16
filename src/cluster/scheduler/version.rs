//! Which Kubernetes minor version's kube-scheduler the model follows where versions differ.
//!
//! Use `KubernetesVersion` to pick the behaviour of one release when upstream changed it: the
//! scenario names a version, the simulation passes it to the scheduler in `SchedulerConfig`.
//! Only the behaviours that differ between the modelled versions depend on it (for now,
//! NodeResourcesBalancedAllocation's score, kubernetes/kubernetes#135573 in 1.36); everything
//! else follows the newest.

/// A Kubernetes minor version capsim models, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum KubernetesVersion {
    /// 1.35: BalancedAllocation scores the node's balance with the pod alone.
    V1_35,
    /// 1.36: BalancedAllocation scores the change the pod makes to the node's balance
    /// (kubernetes/kubernetes#135573, first in v1.36.0-alpha.1).
    #[default]
    V1_36,
}

impl KubernetesVersion {
    /// Every modelled version, oldest first.
    pub const ALL: [KubernetesVersion; 2] = [KubernetesVersion::V1_35, KubernetesVersion::V1_36];

    /// The newest modelled version, what a scenario that names none runs.
    pub const NEWEST: KubernetesVersion = KubernetesVersion::V1_36;

    /// The version as Kubernetes writes a minor version (`1.36`).
    pub const fn as_str(self) -> &'static str {
        match self {
            KubernetesVersion::V1_35 => "1.35",
            KubernetesVersion::V1_36 => "1.36",
        }
    }

    /// Whether BalancedAllocation scores the change the pod makes to the node's balance
    /// (1.36 on) rather than the balance with the pod alone (up to 1.35).
    pub const fn balanced_allocation_scores_change(self) -> bool {
        matches!(self, KubernetesVersion::V1_36)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_ordered_spelled_and_the_default_is_the_newest() {
        let names: Vec<&str> = KubernetesVersion::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(names, ["1.35", "1.36"]);
        assert!(KubernetesVersion::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(KubernetesVersion::default(), KubernetesVersion::NEWEST);
        assert_eq!(
            KubernetesVersion::ALL.last(),
            Some(&KubernetesVersion::NEWEST)
        );
        assert!(!KubernetesVersion::V1_35.balanced_allocation_scores_change());
        assert!(KubernetesVersion::V1_36.balanced_allocation_scores_change());
    }
}
