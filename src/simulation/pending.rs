//! Retry rounds of the Pending pods: after a node registers, a pod leaves a node or a drain is
//! called off, every pod waiting for a node is tried again, oldest first.
//!
//! A round runs the scheduler's full cycle for each pod, with two shortcuts that change no
//! decision: pods of a spec that found no node in this round fail alike until something is
//! bound (a bind only takes room), and a job's pod that no node loosened since its last
//! attempt can take is not tried at all (`fits_any`).

use crate::cluster::scheduler::fits;
use crate::simulation::Simulation;
use crate::simulation::lifecycle::{Attempt, PodStart};

impl Simulation<'_> {
    /// Retries every Pending pod, oldest first, after the cluster changed. When binding a pod
    /// can make a node feasible for a waiting one (required pod affinity, hard spread
    /// constraints), a round that bound a pod is run again, as kube-scheduler requeues such
    /// pods when a pod is added.
    pub(super) fn retry_pending(&mut self) {
        if self.in_retry_round {
            return;
        }
        self.in_retry_round = true;
        loop {
            self.bound_in_round = false;
            self.retry_round();
            if !(self.binds_loosen && self.bound_in_round) {
                break;
            }
        }
        self.in_retry_round = false;
    }

    /// After a pod was bound outside a retry round: retries the waiting pods when the bind may
    /// have made room for them.
    pub(super) fn bound_outside_round(&mut self) {
        if self.binds_loosen && !self.in_retry_round && self.cluster.has_pending() {
            self.retry_pending();
        }
    }

    /// One retry round over the Pending pods.
    fn retry_round(&mut self) {
        let previous_round = self.last_retry_loosen_count;
        let this_round = self.cluster.loosen_count();
        self.last_retry_loosen_count = this_round;
        let loosened = self.cluster.take_loosened();
        if !self.cluster.has_pending() {
            return;
        }
        let loosened: Vec<usize> = (loosened.iter())
            .filter_map(|id| self.cluster.node_index(*id))
            .collect();
        if self.no_pending_pod_can_fit(&loosened, previous_round, this_round) {
            return;
        }
        // Pods of one spec and workload are alike, and binding a pod only takes room from its
        // node: once one finds no node in this round, the others fail too, with the same
        // message until something is bound. They are not run through the scheduler again.
        let specs = self.cluster.pod_specs().len();
        let mut failed: Vec<Option<String>> = vec![None; specs];
        // Per spec of a job's pods: whether a node that loosened since the last round can take
        // one now; forgotten when a pod is bound, which takes room.
        let mut loosened_fits: Vec<Option<bool>> = vec![None; specs];
        for (pod_ref, spec) in self.cluster.take_pending() {
            let s = spec as usize;
            if self.skip_hopeless_cycles && self.job_of(self.cluster.spec_workload(s)).is_some() {
                let fits_now = *loosened_fits[s].get_or_insert_with(|| self.fits_any(s, &loosened));
                if !fits_now {
                    self.still_fits_nowhere(s, previous_round, this_round);
                    self.cluster.repark_pending(pod_ref, spec);
                    continue;
                }
            }
            if let Some(message) = failed[s].take() {
                self.record_unschedulable(pod_ref, &message);
                self.cluster.park_pending(pod_ref);
                failed[s] = Some(message);
                continue;
            }
            match self.try_schedule(pod_ref, PodStart::Cold) {
                Attempt::Bound => {
                    failed.fill(None);
                    loosened_fits.fill(None);
                }
                Attempt::Unschedulable(message) => {
                    self.cluster.park_pending(pod_ref);
                    failed[s] = Some(message);
                }
                Attempt::Gone => {}
            }
        }
    }

    /// Whether the round can be skipped: every waiting pod is a job's, and no spec of theirs
    /// fits a node that loosened since the last round (`loosened`, indices into the registered
    /// nodes).
    fn no_pending_pod_can_fit(
        &mut self,
        loosened: &[usize],
        previous_round: u64,
        this_round: u64,
    ) -> bool {
        let services = self.services.len();
        if !self.skip_hopeless_cycles || (0..services).any(|s| self.cluster.pending_of_spec(s) > 0)
        {
            return false;
        }
        let waiting: Vec<usize> = (services..self.cluster.pod_specs().len())
            .filter(|&s| self.cluster.pending_of_spec(s) > 0)
            .collect();
        if waiting.iter().any(|&s| self.fits_any(s, loosened)) {
            return false;
        }
        for s in waiting {
            self.still_fits_nowhere(s, previous_round, this_round);
        }
        true
    }

    /// A job's pods of spec `s` fit none of the nodes that loosened since the last round: if
    /// the spec was known to find no node as of that round (`previous_round`), it is known to
    /// find none as of this one, so that a new pod of it skips its cycle.
    fn still_fits_nowhere(&mut self, s: usize, previous_round: u64, this_round: u64) {
        if let Some(Some((at, _))) = self.job_spec_failures.get_mut(s)
            && *at >= previous_round
        {
            *at = this_round;
        }
    }

    /// Whether a pod of spec `spec` fits one of the registered nodes `loosened`. A job's pod
    /// that found no node at its last attempt and fits none of the nodes that loosened since
    /// still finds none: every other node has only lost room or stayed as it was. That is the
    /// full scheduling cycle's decision (which processes every node when none is feasible, so
    /// it moves kube-scheduler's rotating start by nothing and draws no random number); the
    /// pod's message stays the one of its last full attempt. A service's pods always get the
    /// full cycle, so that their messages follow the cluster.
    fn fits_any(&self, spec: usize, loosened: &[usize]) -> bool {
        let spec = &self.cluster.pod_specs()[spec];
        let nodes = self.cluster.nodes();
        loosened.iter().any(|&i| fits(spec, &nodes[i]))
    }
}
