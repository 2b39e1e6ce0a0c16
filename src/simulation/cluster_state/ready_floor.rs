//! How long a service had fewer Ready pods than it should keep: below its minimum replicas
//! (its HPA's `minReplicas`, or its fixed `replicas`), and below what its PodDisruptionBudget
//! asks to keep healthy (the disruption controller's `desiredHealthy`).
//!
//! Use `ReadyFloor::ready_changed` wherever a workload's Ready count changes (its pods join or
//! leave the Service's endpoints, which is rare next to requests), and
//! `ReadyFloor::set_min_available` when the budget's `desiredHealthy` changes (with the
//! Deployment's replicas). The times are integrals of 0/1 gauges, so nothing is sampled.

use crate::report::stats::Gauge;
use crate::scenario::Scenario;
use crate::units::SimTime;

/// A workload's floors of Ready pods and the time spent below each.
#[derive(Debug)]
pub(crate) struct ReadyFloor {
    /// The fewest Ready pods the service should have (0 for a Job: never below).
    min_replicas: u32,
    /// 1 while fewer pods are Ready than `min_replicas`.
    pub(crate) below_min_replicas: Gauge,
    /// The healthy pods its disruption budget asks to keep, for a service with one.
    min_available: Option<u32>,
    /// 1 while fewer pods are healthy than `min_available`.
    pub(crate) below_min_available: Gauge,
}

impl ReadyFloor {
    /// The floor of a workload that must keep `min_replicas` Ready pods, none Ready yet.
    pub(super) fn new(min_replicas: u32) -> ReadyFloor {
        ReadyFloor {
            min_replicas,
            below_min_replicas: Gauge::new(SimTime::ZERO, u64::from(min_replicas > 0)),
            min_available: None,
            below_min_available: Gauge::new(SimTime::ZERO, 0),
        }
    }

    /// The workload has `ready` Ready pods from `now`. Its healthy pods, as its disruption
    /// budget counts them (Ready and not terminating), are the same pods: a pod leaves the
    /// Ready list when it starts terminating.
    #[inline]
    pub(super) fn ready_changed(&mut self, now: SimTime, ready: u32) {
        self.below_min_replicas
            .set(now, u64::from(ready < self.min_replicas));
        let below = self.min_available.is_some_and(|min| ready < min);
        self.below_min_available.set(now, u64::from(below));
    }

    /// From `now` its disruption budget asks to keep `min_available` healthy pods (`None`
    /// without a budget); `ready` pods are Ready.
    pub(super) fn set_min_available(
        &mut self,
        now: SimTime,
        min_available: Option<u32>,
        ready: u32,
    ) {
        self.min_available = min_available;
        self.ready_changed(now, ready);
    }

    /// Whether the workload has a disruption budget.
    pub(crate) fn has_budget(&self) -> bool {
        self.min_available.is_some()
    }

    /// The measured window starts at `now`: the times below forget the warm-up.
    pub(super) fn restart(&mut self, now: SimTime) {
        self.below_min_replicas.restart(now);
        self.below_min_available.restart(now);
    }
}

/// The fewest Ready pods workload `w` of `scenario` should keep: a service's HPA's
/// `minReplicas`, or its `replicas` without an HPA; none for a Job.
pub(super) fn min_replicas(scenario: &Scenario, w: usize) -> u32 {
    let Some(service) = scenario.services.get(w) else {
        return 0;
    };
    (scenario.autoscaling.hpa.iter())
        .find(|h| h.service == w)
        .map_or(service.replicas, |h| h.min_replicas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::SimDuration;

    fn at(secs: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(secs)
    }

    #[test]
    fn time_below_each_floor_is_integrated_between_changes() {
        // Ready pods over time: 0 until 10 s, 3, then 2 from 100 s, 1 from 130 s, 2 from
        // 160 s and 3 from 200 s; the floors are 3 replicas and 2 healthy pods.
        let steps = [(10, 3), (100, 2), (130, 1), (160, 2), (200, 3)];
        let run = |mut restart_at: Option<u64>| {
            let mut floor = ReadyFloor::new(3);
            floor.set_min_available(at(0), Some(2), 0);
            for (t, ready) in steps {
                if let Some(r) = restart_at.take_if(|r| *r <= t) {
                    floor.restart(at(r));
                }
                floor.ready_changed(at(t), ready);
            }
            let end = at(300);
            (
                floor.below_min_replicas.integral_secs(end),
                floor.below_min_available.integral_secs(end),
            )
        };
        // Below 3 from 0 to 10 s and from 100 to 200 s; below 2 from 0 to 10 s and from 130
        // to 160 s.
        assert_eq!(run(None), (10.0 + 100.0, 10.0 + 30.0));
        // The measured window starting at 115 s keeps what follows it only.
        assert_eq!(run(Some(115)), (85.0, 30.0));
        assert_eq!(run(Some(150)), (50.0, 10.0));
    }

    #[test]
    fn a_workload_without_a_floor_is_never_below_it() {
        let mut floor = ReadyFloor::new(0);
        floor.ready_changed(at(50), 0);
        assert!(!floor.has_budget());
        assert_eq!(floor.below_min_replicas.integral_secs(at(100)), 0.0);
        assert_eq!(floor.below_min_available.integral_secs(at(100)), 0.0);
        // A budget that asks for nothing is never short either.
        floor.set_min_available(at(60), Some(0), 0);
        assert!(floor.has_budget());
        assert_eq!(floor.below_min_available.integral_secs(at(100)), 0.0);
    }
}
