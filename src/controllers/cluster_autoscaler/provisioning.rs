//! Scale-ups in flight and `--max-node-provision-time`, as cluster-autoscaler's
//! `clusterstate` tracks them.
//!
//! Use `Provisioning::update` at the start of a scan: a pool whose requested nodes have all
//! registered has its scale-up completed (and its backoff forgotten); a pool whose latest
//! scale-up is older than max-node-provision-time with nodes still missing has failed and is
//! backed off. `overdue` counts the nodes to give up on, as `removeOldUnregisteredNodes` does
//! for each node on its own. This module does not ask for or cancel nodes itself.

use crate::controllers::cluster_autoscaler::backoff::Backoff;
use crate::units::{SimDuration, SimTime};

/// A pool's scale-up in flight (`clusterstate.ScaleUpRequest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScaleUpRequest {
    /// When the latest scale-up of the pool was asked for.
    time: SimTime,
    /// When its nodes should have registered by.
    expected_add: SimTime,
}

/// Scale-ups in flight, one slot per pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Provisioning {
    requests: Vec<Option<ScaleUpRequest>>,
}

impl Provisioning {
    /// No scale-up in flight.
    pub(super) fn new(pool_count: usize) -> Provisioning {
        Provisioning {
            requests: vec![None; pool_count],
        }
    }

    /// Records a scale-up of `pool` at `now` (`registerOrUpdateScaleUpNoLock` with a positive
    /// delta): a new request, or the existing one with its time and deadline moved to now.
    pub(super) fn register_scale_up(
        &mut self,
        pool: usize,
        now: SimTime,
        max_node_provision_time: SimDuration,
    ) {
        if pool >= self.requests.len() {
            self.requests.resize(pool + 1, None);
        }
        self.requests[pool] = Some(ScaleUpRequest {
            time: now,
            expected_add: now + max_node_provision_time,
        });
    }

    /// Whether `pool` has a scale-up in flight (`IsNodeGroupScalingUp`).
    pub(super) fn in_flight(&self, pool: usize) -> bool {
        self.requests.get(pool).is_some_and(Option::is_some)
    }

    /// VMs of `pool`'s scale-up failed to be created, `still_coming` of its nodes are still on
    /// their way: the pool is backed off and the request shrinks by the failed VMs
    /// (`handleInstanceCreationErrorsForNodeGroup`), forgotten when nothing of it is left.
    /// Returns when the backoff ends; `None` when the pool had no scale-up in flight, which
    /// upstream does not back off.
    pub(super) fn creation_failed(
        &mut self,
        pool: usize,
        still_coming: usize,
        now: SimTime,
        backoff: &mut Backoff,
    ) -> Option<SimTime> {
        if !self.in_flight(pool) {
            return None;
        }
        if still_coming == 0 {
            self.requests[pool] = None;
        }
        Some(backoff.backoff(pool, now))
    }

    /// `updateScaleRequests`: forgets stale backoffs; completes the scale-up of every pool with
    /// no node on its way and no VM whose creation failed (`creation_errors`), and forgets
    /// that pool's backoff; fails, backs off and forgets the scale-up of every pool still
    /// waiting after its deadline (`expected_add < now`). Returns the pools that failed, each
    /// with how long its scale-up waited.
    pub(super) fn update(
        &mut self,
        now: SimTime,
        upcoming: &[Vec<SimTime>],
        creation_errors: &[u32],
        backoff: &mut Backoff,
    ) -> Vec<(usize, SimDuration)> {
        backoff.remove_stale(now);
        let mut failed = Vec::new();
        for (pool, slot) in self.requests.iter_mut().enumerate() {
            let Some(request) = *slot else { continue };
            let errors = creation_errors.get(pool).copied().unwrap_or(0);
            if upcoming.get(pool).is_none_or(Vec::is_empty) && errors == 0 {
                *slot = None;
                backoff.remove(pool);
            } else if request.expected_add < now {
                backoff.backoff(pool, now);
                failed.push((pool, now.since(request.time)));
                *slot = None;
            }
        }
        failed
    }
}

/// How many of a pool's upcoming nodes, by request time, have waited longer than
/// `max_node_provision_time` (`requested + max < now`) and are given up.
pub(super) fn overdue(
    requested: &[SimTime],
    now: SimTime,
    max_node_provision_time: SimDuration,
) -> u32 {
    let count = requested
        .iter()
        .filter(|&&t| t + max_node_provision_time < now)
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MPT: SimDuration = SimDuration::from_secs(15 * 60);

    fn at(m: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(m * 60)
    }

    #[test]
    fn registered_nodes_complete_the_scale_up_and_reset_backoff() {
        let mut p = Provisioning::new(2);
        let mut b = Backoff::new(2);
        b.backoff(0, at(0));
        p.register_scale_up(0, at(1), MPT);
        assert!(p.in_flight(0));
        // Still one node upcoming at 10m: nothing happens.
        assert!(
            p.update(at(10), &[vec![at(1)], vec![]], &[], &mut b)
                .is_empty()
        );
        assert!(p.in_flight(0));
        assert!(b.until(0).is_some());
        // All registered at 12m: completed, backoff forgotten.
        assert!(p.update(at(12), &[vec![], vec![]], &[], &mut b).is_empty());
        assert!(!p.in_flight(0));
        assert_eq!(b.until(0), None);
    }

    #[test]
    fn a_scale_up_past_its_deadline_fails_and_backs_off() {
        let mut p = Provisioning::new(1);
        let mut b = Backoff::new(1);
        p.register_scale_up(0, at(0), MPT);
        // Deadline 15m: at exactly 15m it has not passed.
        assert!(p.update(at(15), &[vec![at(0)]], &[], &mut b).is_empty());
        let failed = p.update(at(16), &[vec![at(0)]], &[], &mut b);
        assert_eq!(failed, vec![(0, SimDuration::from_secs(16 * 60))]);
        assert!(!p.in_flight(0));
        assert_eq!(b.until(0), Some(at(21)), "backed off 5m from 16m");
    }

    #[test]
    fn another_scale_up_moves_the_deadline() {
        let mut p = Provisioning::new(1);
        let mut b = Backoff::new(1);
        p.register_scale_up(0, at(0), MPT);
        p.register_scale_up(0, at(10), MPT); // deadline now 25m
        assert!(
            p.update(at(20), &[vec![at(0), at(10)]], &[], &mut b)
                .is_empty()
        );
        assert_eq!(p.update(at(26), &[vec![at(10)]], &[], &mut b).len(), 1);
    }

    /// After `handleInstanceCreationErrorsForNodeGroup`: failed VMs back a scaling-up pool
    /// off at once, a pool without a scale-up in flight is not backed off, and a scale-up
    /// whose VMs failed is not complete while they are there.
    #[test]
    fn failed_creations_back_off_a_scaling_up_pool() {
        let mut p = Provisioning::new(2);
        let mut b = Backoff::new(2);
        p.register_scale_up(0, at(0), MPT);
        // 1m: both nodes' VMs failed (no node still coming): not complete, not timed out.
        assert!(
            p.update(at(1), &[vec![], vec![]], &[2, 0], &mut b)
                .is_empty()
        );
        assert!(
            p.in_flight(0),
            "failed VMs keep the scale-up from completing"
        );
        assert_eq!(p.creation_failed(0, 0, at(1), &mut b), Some(at(6)));
        assert!(!p.in_flight(0), "nothing of the scale-up is left");
        assert_eq!(
            p.creation_failed(1, 0, at(1), &mut b),
            None,
            "not scaling up"
        );
        assert_eq!(b.until(1), None);
        // A scale-up with a node still coming keeps its request.
        p.register_scale_up(1, at(2), MPT);
        assert_eq!(p.creation_failed(1, 1, at(2), &mut b), Some(at(7)));
        assert!(p.in_flight(1));
    }

    #[test]
    fn overdue_counts_nodes_older_than_the_provision_time() {
        let requested = [at(0), at(1), at(5)];
        // At 16m: 0+15 < 16 and 1+15 = 16 is not; 5+15 is not.
        assert_eq!(overdue(&requested, at(16), MPT), 1);
        assert_eq!(overdue(&requested, at(21), MPT), 3);
        assert_eq!(overdue(&[], at(21), MPT), 0);
    }
}
