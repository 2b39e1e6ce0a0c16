//! A workload's list of pods (its Ready, active or terminating pods).
//!
//! A service's lists keep the order pods joined them: the Ready list is the Service's
//! endpoints, which the load balancer indexes, and the others are in creation order as the
//! ReplicaSet sees them. A Job's lists need no order, and a pod trace can keep tens of
//! thousands of pods alive: there a pod leaves by swapping the last pod into its place, found
//! through a map of positions, so that a removal costs the same however long the list.

use std::collections::HashMap;
use std::ops::Deref;

use crate::simulation::cluster_state::PodRef;

/// A list of pods; see the module documentation.
#[derive(Debug, Clone, Default)]
pub(crate) struct PodList {
    refs: Vec<PodRef>,
    /// Where each pod is in `refs`, for a list whose order does not matter. Looked up, never
    /// iterated.
    positions: Option<HashMap<PodRef, u32>>,
}

impl PodList {
    /// A list that keeps the order pods joined it.
    pub(crate) fn ordered() -> PodList {
        PodList::default()
    }

    /// A list whose order does not matter: removal takes the same time however long it is.
    pub(crate) fn unordered() -> PodList {
        PodList {
            refs: Vec::new(),
            positions: Some(HashMap::new()),
        }
    }

    /// Adds `r` at the end.
    pub(crate) fn push(&mut self, r: PodRef) {
        if let Some(positions) = &mut self.positions {
            positions.insert(r, self.refs.len() as u32);
        }
        self.refs.push(r);
    }

    /// Takes `r` out; returns whether it was there.
    pub(crate) fn remove(&mut self, r: PodRef) -> bool {
        match &mut self.positions {
            None => {
                let before = self.refs.len();
                self.refs.retain(|p| *p != r);
                self.refs.len() != before
            }
            Some(positions) => {
                let Some(at) = positions.remove(&r) else {
                    return false;
                };
                self.refs.swap_remove(at as usize);
                if let Some(moved) = self.refs.get(at as usize) {
                    positions.insert(*moved, at);
                }
                true
            }
        }
    }
}

impl Deref for PodList {
    type Target = [PodRef];

    fn deref(&self) -> &[PodRef] {
        &self.refs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(slot: u32) -> PodRef {
        PodRef {
            slot,
            generation: 0,
        }
    }

    #[test]
    fn an_ordered_list_keeps_the_order_pods_joined() {
        let mut list = PodList::ordered();
        for slot in 0..5 {
            list.push(pod(slot));
        }
        assert!(list.remove(pod(1)));
        assert!(!list.remove(pod(1)));
        assert_eq!(&*list, &[pod(0), pod(2), pod(3), pod(4)]);
    }

    #[test]
    fn an_unordered_list_holds_the_same_pods_through_any_removals() {
        let mut list = PodList::unordered();
        for slot in 0..6 {
            list.push(pod(slot));
        }
        for slot in [1, 5, 0, 9] {
            assert_eq!(list.remove(pod(slot)), slot != 9);
        }
        list.push(pod(7));
        assert!(list.remove(pod(3)));
        let mut left: Vec<u32> = list.iter().map(|p| p.slot).collect();
        left.sort_unstable();
        assert_eq!(left, [2, 4, 7]);
        let all: Vec<PodRef> = list.iter().copied().collect();
        for r in all {
            assert!(list.remove(r), "every pod listed can be removed");
        }
        assert!(list.is_empty());
    }
}
