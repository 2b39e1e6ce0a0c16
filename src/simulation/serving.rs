//! The hot path: a request arrives, is routed to a Ready pod, waits, is served, completes.
//!
//! Nothing here allocates or logs; every figure goes to preallocated counters and histograms.

use crate::report::stats::Latency;
use crate::simulation::cluster_state::{PodPhase, PodRef};
use crate::simulation::{Event, Simulation};
use crate::units::{SimDuration, SimTime};
use crate::workload::server::Admission;

impl Simulation<'_> {
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
                let service_time = svc.sample_service_time();
                self.clock.schedule_in(
                    service_time,
                    Event::Completion {
                        pod: pod_ref,
                        arrived: now,
                    },
                );
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
    }

    /// A worker of `pod_ref` finishes the request that arrived at `arrived`.
    #[inline]
    pub(super) fn on_completion(&mut self, pod_ref: PodRef, arrived: SimTime) {
        let now = self.clock.now();
        let warmup_end = self.warmup_end;
        let Some(pod) = self.cluster.pod_mut(pod_ref) else {
            // The pod was killed; its requests were counted then.
            return;
        };
        let svc = &mut self.services[usize::from(pod.service)];
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
        if let Some(next) = pod.server.finish(now, &svc.limits) {
            if next >= warmup_end {
                svc.wait.record(now.since(next));
                pod.in_service_measured += 1;
            }
            let service_time = svc.sample_service_time();
            self.clock.schedule_in(
                service_time,
                Event::Completion {
                    pod: pod_ref,
                    arrived: next,
                },
            );
        } else if pod.phase() == PodPhase::Terminating && pod.server.in_flight() == 0 {
            self.remove_pod(pod_ref, "drained");
        }
    }
}
