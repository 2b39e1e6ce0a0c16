//! The hot path: a request arrives, is routed to a Ready pod, waits, is served, completes.
//!
//! A pod's requests in service share the CPU the pod gets (`workload::server`), so the pod has
//! one pending completion, in its own engine lane, which moves when the pod's CPU changes.
//! Nothing here allocates or logs; every figure goes to preallocated counters and histograms.

use crate::engine::Clock;
use crate::report::stats::Latency;
use crate::simulation::cluster_state::{Pod, PodPhase, PodRef};
use crate::simulation::{Event, Simulation};
use crate::units::{SimDuration, SimTime};
use crate::workload::server::Admission;

/// Makes pod `r`'s completion lane (`lane_base + slot`) hold the pod's next completion at its
/// current rate, or nothing when no request is in service; a completion already scheduled at
/// that time stays as it is.
#[inline(always)]
pub(super) fn reschedule_completion(
    clock: &mut Clock<Event>,
    lane_base: u32,
    r: PodRef,
    pod: &mut Pod,
    now: SimTime,
) {
    let next = pod.server.next_completion(now);
    if next == pod.server.scheduled_completion() {
        return;
    }
    let lane = lane_base + r.slot;
    match next {
        Some(at) => clock.reschedule_lane_at(lane, at, Event::Completion { pod: r }),
        None => clock.cancel_lane(lane),
    }
    pod.server.set_scheduled_completion(next);
}

impl Simulation<'_> {
    /// The engine lane that holds pod `r`'s next completion.
    #[inline]
    pub(super) fn completion_lane(&self, r: PodRef) -> u32 {
        self.pod_lane_base + r.slot
    }

    /// A request arrives at service `s`.
    #[inline]
    pub(super) fn on_arrival(&mut self, s: usize) {
        let now = self.clock.now();
        let measured = self.measured(now);
        let warmup_end = self.warmup_end;
        let svc = &mut self.services[s];
        let Some(load) = svc.load.as_mut() else {
            return;
        };
        if let Some(t) = load
            .arrivals
            .next_after(&mut svc.rng_arrivals, self.arrival_horizon)
        {
            self.clock
                .schedule_lane_at(s as u32, t, Event::Arrival { service: s as u16 });
        }
        svc.interval.counts.arrived += 1;
        if measured {
            svc.counts.arrived += 1;
        }
        let (ready, pods) = self.cluster.endpoints(s);
        let picked = svc.balancer.pick(ready, &mut svc.rng_balancer, |r| {
            pods.get(*r).map_or(u32::MAX, |p| p.server.in_flight())
        });
        let Some(i) = picked else {
            svc.interval.counts.rejected_no_ready_pod += 1;
            if measured {
                svc.counts.rejected_no_ready_pod += 1;
            }
            return;
        };
        let pod_ref = ready[i];
        let Some(pod) = pods.get_mut(pod_ref) else {
            unreachable!("a Ready pod is in the pod table");
        };
        pod.arrivals_since_sample += 1;
        svc.expire_queue(&mut pod.server, now, warmup_end);
        match pod.server.offer(now, &svc.limits) {
            Admission::Started => {
                if measured {
                    svc.in_flight_measured += 1;
                    pod.in_service_measured += 1;
                    svc.wait.record(SimDuration::ZERO);
                }
                let work = svc.sample_service_time();
                pod.server.begin(now, now, work);
                let lane_base = self.pod_lane_base;
                let clock = &mut self.clock;
                self.cluster.cpu_demand_changed(pod_ref, now, |r, pod| {
                    reschedule_completion(clock, lane_base, r, pod, now);
                });
            }
            Admission::Queued => {
                if measured {
                    svc.in_flight_measured += 1;
                }
            }
            Admission::Rejected => {
                svc.interval.counts.rejected_queue_full += 1;
                if measured {
                    svc.counts.rejected_queue_full += 1;
                }
            }
        }
        if svc.tracks_memory {
            self.pod_memory_changed(pod_ref);
        }
    }

    /// The request of `pod_ref` that was due first finishes.
    #[inline]
    pub(super) fn on_completion(&mut self, pod_ref: PodRef) {
        let now = self.clock.now();
        let warmup_end = self.warmup_end;
        let Some(pod) = self.cluster.pod_mut(pod_ref) else {
            unreachable!("a deleted pod's completion lane is cancelled");
        };
        let svc = &mut self.services[usize::from(pod.service)];
        let arrived = pod.server.complete(now);
        let latency = now.since(arrived);
        if arrived >= warmup_end {
            svc.counts.completed += 1;
            Latency::record_both(&mut svc.interval.latency, &mut svc.latency, latency);
            svc.in_flight_measured -= 1;
            pod.in_service_measured -= 1;
        } else {
            svc.interval.latency.record(latency);
        }
        svc.expire_queue(&mut pod.server, now, warmup_end);
        let lane_base = self.pod_lane_base;
        if let Some(next) = pod.server.take_next() {
            if next >= warmup_end {
                svc.wait.record(now.since(next));
                pod.in_service_measured += 1;
            }
            // A waiting request takes the worker: the pod's CPU is unchanged.
            let work = svc.sample_service_time();
            pod.server.begin(now, next, work);
            reschedule_completion(&mut self.clock, lane_base, pod_ref, pod, now);
            if svc.tracks_memory {
                self.cluster.pod_memory_changed(pod_ref);
            }
            return;
        }
        let drained = pod.phase() == PodPhase::Terminating && pod.server.in_flight() == 0;
        let clock = &mut self.clock;
        self.cluster.cpu_demand_changed(pod_ref, now, |r, pod| {
            reschedule_completion(clock, lane_base, r, pod, now);
        });
        if svc.tracks_memory {
            // Memory only falls here: nothing to check.
            self.cluster.pod_memory_changed(pod_ref);
        }
        if drained {
            self.remove_pod(pod_ref, "drained");
        }
    }
}
