//! The scheduler's unschedulable queue in `ClusterState`: the Pending pods no node could take,
//! oldest first, each with its spec, how many wait of each spec, and the nodes that loosened
//! (could take a pod they could not before) since the last retry round, so that a retry can
//! skip pods no loosened node can take.

use crate::cluster::node::NodeId;
use crate::simulation::cluster_state::{ClusterState, Pod, PodRef};

impl ClusterState {
    /// The Pending pods the scheduler found no node for, oldest first.
    pub(crate) fn unschedulable(&self) -> impl Iterator<Item = (PodRef, &Pod)> {
        self.pending
            .iter()
            .filter_map(|(r, _)| Some((*r, self.pods.get(*r)?)))
            .filter(|(_, p)| p.last_unschedulable.is_some())
    }

    /// Puts a pod the scheduler could not place in the unschedulable queue.
    ///
    /// # Panics
    /// If the pod is bound: only Pending pods wait for a node.
    pub(crate) fn park_pending(&mut self, pod: PodRef) {
        let Some(p) = self.pods.get(pod) else {
            return;
        };
        assert!(p.node.is_none(), "a bound pod cannot wait for a node");
        self.pending.push((pod, p.spec));
        self.pending_by_spec[p.spec as usize] += 1;
    }

    /// Puts back a pod of spec `spec` that `take_pending` handed out in this retry round and
    /// that is still unbound.
    pub(crate) fn repark_pending(&mut self, pod: PodRef, spec: u32) {
        self.pending.push((pod, spec));
        self.pending_by_spec[spec as usize] += 1;
    }

    /// How many pods of spec `spec` wait for a node.
    pub(crate) fn pending_of_spec(&self, spec: usize) -> u32 {
        self.pending_by_spec[spec]
    }

    /// Empties the unschedulable queue, oldest first, for a retry; pods still unplaced are
    /// parked again.
    pub(crate) fn take_pending(&mut self) -> Vec<(PodRef, u32)> {
        self.pending_by_spec.fill(0);
        std::mem::take(&mut self.pending)
    }

    /// Node `id` may now take a pod it could not take before; a retry round needs to know,
    /// when a pod waits.
    pub(super) fn note_loosened(&mut self, id: NodeId) {
        self.loosen_count += 1;
        self.loosened.push(id);
    }

    /// The nodes that loosened since the last retry round, which this round now sees.
    pub(crate) fn take_loosened(&mut self) -> Vec<NodeId> {
        std::mem::take(&mut self.loosened)
    }

    /// How many times a registered node loosened (a pod left it, it registered, a drain's taint
    /// was lifted) since the start: while it stays the same, the nodes have only lost room, so
    /// a pod that found no node still finds none.
    pub(crate) fn loosen_count(&self) -> u64 {
        self.loosen_count
    }

    /// Whether any pod waits for a node.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}
