//! The first step of a scan, in upstream's `RunOnce` order: the scale-ups in flight
//! (`provisioning`), the nodes that never registered, given up after
//! `--max-node-provision-time` (`removeOldUnregisteredNodes`), and the VMs whose creation
//! failed, deleted with their scale-up's pool backed off (`handleInstanceCreationErrors`,
//! `deleteCreatedNodesWithErrors`).

use crate::controllers::cluster_autoscaler::provisioning::overdue;
use crate::controllers::cluster_autoscaler::{CaAction, ClusterAutoscaler, ClusterObservation};
use crate::units::{SimDuration, SimTime};

impl ClusterAutoscaler {
    /// Updates the scale-ups in flight (backing off pools whose latest one timed out) and gives
    /// up the nodes asked for longer than max-node-provision-time ago, one `CancelUpcoming` per
    /// pool. Returns each pool's upcoming nodes still awaited.
    pub(super) fn cancel_overdue(
        &mut self,
        obs: &ClusterObservation<'_>,
        actions: &mut Vec<CaAction>,
    ) -> Vec<u32> {
        let now = obs.now;
        let mpt = self.spec.max_node_provision_time;
        let failed =
            self.provisioning
                .update(now, obs.upcoming, obs.creation_errors, &mut self.backoff);
        let mut upcoming = vec![0u32; obs.pools.len()];
        for (p, slot) in upcoming.iter_mut().enumerate() {
            let requested = obs.upcoming.get(p).map_or(&[][..], Vec::as_slice);
            let given_up = overdue(requested, now, mpt);
            *slot = u32::try_from(requested.len()).unwrap_or(u32::MAX) - given_up;
            if given_up > 0 {
                let waited = failed.iter().find(|(f, _)| *f == p).map(|&(_, w)| w);
                actions.push(CaAction::CancelUpcoming {
                    pool: p,
                    count: given_up,
                    reason: self.cancel_reason(p, given_up, waited, now, mpt),
                });
            }
        }
        upcoming
    }

    /// Deletes the VMs whose creation failed, one `DeleteFailedCreations` per pool, backing
    /// off each pool whose scale-up they were (`handleInstanceCreationErrors`).
    pub(super) fn delete_failed_creations(
        &mut self,
        obs: &ClusterObservation<'_>,
        actions: &mut Vec<CaAction>,
    ) {
        for (pool, &count) in obs.creation_errors.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let coming = obs.upcoming.get(pool).map_or(0, Vec::len);
            let until =
                (self.provisioning).creation_failed(pool, coming, obs.now, &mut self.backoff);
            let mut reason = format!("the creation of {count} VM(s) failed");
            match (until, self.backoff.duration(pool)) {
                (Some(until), Some(d)) => reason.push_str(&format!(
                    "; the scale-up failed, pool backed off for {d} (until {until})"
                )),
                _ => reason.push_str("; no scale-up of the pool was in flight"),
            }
            actions.push(CaAction::DeleteFailedCreations {
                pool,
                count,
                reason,
            });
        }
    }

    /// The reason of a `CancelUpcoming`: how many nodes were given up, and the pool's backoff.
    fn cancel_reason(
        &self,
        pool: usize,
        count: u32,
        waited: Option<SimDuration>,
        now: SimTime,
        mpt: SimDuration,
    ) -> String {
        let mut reason =
            format!("{count} node(s) did not register within max-node-provision-time {mpt}");
        match (
            waited,
            self.backoff.until(pool),
            self.backoff.duration(pool),
        ) {
            (Some(w), Some(until), Some(d)) => reason.push_str(&format!(
                "; the scale-up timed out after {w}, pool backed off for {d} (until {until})"
            )),
            (None, Some(until), _) if until > now => {
                reason.push_str(&format!("; pool backed off until {until}"))
            }
            _ => reason.push_str("; a later scale-up of the pool is still within its deadline"),
        }
        reason
    }
}
