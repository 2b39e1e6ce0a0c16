//! The ReplicaSet controller: how many pods to create, or which to delete, to reach the desired
//! replica count.
//!
//! Use `reconcile` with the service's live (not terminating) pods. Deletion follows
//! ReplicaSet's `ActivePodsWithRanks` order (`pkg/controller/controller_utils.go`): unscheduled
//! before scheduled, pending before running, not ready before ready, pods doubled up on a node
//! before lone ones, then the most recently Ready, then the newest.

use std::cmp::Reverse;

use crate::units::SimTime;

/// What the controller knows about one of its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodView<Id> {
    /// The pod.
    pub id: Id,
    /// Bound to a node.
    pub scheduled: bool,
    /// Containers started (phase Running).
    pub running: bool,
    /// When it became Ready, if it is.
    pub ready_since: Option<SimTime>,
    /// Pods of the same ReplicaSet on the same node, this one included (0 if unscheduled).
    pub colocated: u32,
    /// Creation time.
    pub created_at: SimTime,
}

/// The change that brings the replica count to the desired value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scale<Id> {
    /// Nothing to do.
    Steady,
    /// Create this many pods.
    Create(u32),
    /// Delete these pods, in this order.
    Delete(Vec<Id>),
}

/// Compares the active pods with `desired`.
pub fn reconcile<Id: Copy>(desired: u32, pods: &[PodView<Id>]) -> Scale<Id> {
    let active = pods.len() as u32;
    if active < desired {
        return Scale::Create(desired - active);
    }
    if active == desired {
        return Scale::Steady;
    }
    let mut ranked: Vec<&PodView<Id>> = pods.iter().collect();
    ranked.sort_by_key(|p| {
        (
            p.scheduled,
            p.running,
            p.ready_since.is_some(),
            Reverse(p.colocated),
            Reverse(p.ready_since),
            Reverse(p.created_at),
        )
    });
    Scale::Delete(
        ranked
            .into_iter()
            .take((active - desired) as usize)
            .map(|p| p.id)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(
        id: u32,
        scheduled: bool,
        running: bool,
        ready_at: Option<u64>,
        created: u64,
    ) -> PodView<u32> {
        PodView {
            id,
            scheduled,
            running,
            ready_since: ready_at.map(SimTime),
            colocated: u32::from(scheduled),
            created_at: SimTime(created),
        }
    }

    #[test]
    fn creates_or_holds() {
        let pods = [pod(1, true, true, Some(5), 0)];
        assert_eq!(reconcile(3, &pods), Scale::Create(2));
        assert_eq!(reconcile(1, &pods), Scale::Steady);
    }

    #[test]
    fn deletes_in_replicaset_order() {
        let pods = [
            pod(1, true, true, Some(10), 0),  // ready long ago
            pod(2, true, true, Some(50), 40), // ready recently
            pod(3, true, false, None, 30),    // starting
            pod(4, false, false, None, 20),   // unscheduled
            pod(5, true, true, None, 35),     // running, not ready
        ];
        assert_eq!(reconcile(0, &pods), Scale::Delete(vec![4, 3, 5, 2, 1]));
        assert_eq!(reconcile(3, &pods), Scale::Delete(vec![4, 3]));
    }

    #[test]
    fn doubled_up_pods_go_first_then_newest() {
        let mut a = pod(1, true, true, Some(10), 0);
        let mut b = pod(2, true, true, Some(10), 1);
        a.colocated = 2;
        b.colocated = 1;
        assert_eq!(reconcile(1, &[b, a]), Scale::Delete(vec![1]));
        a.colocated = 1;
        assert_eq!(reconcile(1, &[a, b]), Scale::Delete(vec![2]));
    }
}
