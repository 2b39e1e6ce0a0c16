//! The hot path: a request arrives, is routed to a Ready pod, waits, is served, completes.
//!
//! A pod that gets all the CPU its busy workers want gives each request its own completion
//! event; one whose requests share less (throttled by its limit, or on a contended node) has
//! one completion in its own engine lane, which moves when its CPU changes
//! (`workload::in_service`). Nothing here allocates or logs; every figure goes to
//! preallocated counters and histograms.

use crate::engine::Clock;
use crate::simulation::cluster_state::{ClusterState, Pod, PodPhase, PodRef};
use crate::simulation::service_state::ServiceState;
use crate::simulation::{Event, Simulation};
use crate::units::{SimDuration, SimTime};
use crate::workload::in_service::{FreeCompletion, InService};
use crate::workload::server::Admission;

/// Schedules the completion event of a request of pod `r` that runs free.
#[inline(always)]
fn schedule_free(clock: &mut Clock<Event>, r: PodRef, c: FreeCompletion) {
    clock.schedule_at(
        c.at,
        Event::Completion {
            pod: r,
            index: c.index,
            stamp: c.stamp,
        },
    );
}

/// Brings pod `r`'s completion lane in line with the CPU it gets now: it holds the next shared
/// completion while the pod shares, nothing otherwise. Called for every pod whose CPU may have
/// changed.
#[inline(always)]
pub(super) fn reschedule_completion(
    clock: &mut Clock<Event>,
    lane_base: u32,
    r: PodRef,
    pod: &mut Pod,
    now: SimTime,
) {
    let requests = pod.server.in_service();
    let next = if requests.is_shared() {
        requests.next_shared_completion(now)
    } else {
        None
    };
    if next == requests.scheduled() {
        return;
    }
    let lane = lane_base + r.slot;
    match next {
        Some(at) => clock.reschedule_lane_at(lane, at, Event::SharedCompletion { pod: r }),
        None => clock.cancel_lane(lane),
    }
    requests.set_scheduled(next);
}

/// Pod `r`'s busy workers changed at `now`: its node gives it (and, when short, its neighbours)
/// the CPU they get now, and every pod whose CPU moved has its completion lane brought in line.
#[inline(always)]
fn busy_changed(
    cluster: &mut ClusterState,
    clock: &mut Clock<Event>,
    lane_base: u32,
    r: PodRef,
    now: SimTime,
) {
    cluster.cpu_demand_changed(r, now, |moved, pod| {
        reschedule_completion(clock, lane_base, moved, pod, now);
    });
}

impl Simulation<'_> {
    /// Pod `r`'s busy workers changed at the clock's time (see `busy_changed`).
    #[inline(always)]
    pub(super) fn pod_busy_changed(&mut self, r: PodRef) {
        let now = self.clock.now();
        busy_changed(
            &mut self.cluster,
            &mut self.clock,
            self.pod_lane_base,
            r,
            now,
        );
    }

    /// The engine lane that holds pod `r`'s next shared completion.
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
        let (next, work) = load.next_arrival(&mut svc.rng_arrivals, self.arrival_horizon);
        if let Some(t) = next {
            self.clock
                .schedule_lane_at(s as u32, t, Event::Arrival { service: s as u16 });
        }
        svc.interval.counts.arrived += 1;
        if measured {
            svc.counts.arrived += 1;
        }
        let (ready, pods) = self.cluster.endpoints(s);
        // An unreachable pod looks busiest: least-requests avoids it when it can.
        let picked = svc.balancer.pick(ready, &mut svc.rng_balancer, |r| {
            pods.get(*r).map_or(u32::MAX, |p| {
                if p.unreachable {
                    u32::MAX
                } else {
                    p.server.in_flight()
                }
            })
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
        if pod.unreachable {
            // Its node is down and still in the endpoints: the request is lost.
            if measured {
                svc.counts.lost_node_failure += 1;
            }
            return;
        }
        pod.arrivals_since_sample += 1;
        let tracks_memory = pod.memory_tracked();
        svc.expire_queue(&mut pod.server, now, warmup_end);
        match pod.server.offer(now, work, &svc.limits) {
            Admission::Started => {
                if measured {
                    svc.in_flight_measured += 1;
                    pod.in_service_measured += 1;
                    svc.wait.record(SimDuration::ZERO);
                }
                let work = work.unwrap_or_else(|| svc.sample_service_time());
                if let Some(c) = pod.server.begin(now, now, work) {
                    schedule_free(&mut self.clock, pod_ref, c);
                }
                let lane_base = self.pod_lane_base;
                busy_changed(&mut self.cluster, &mut self.clock, lane_base, pod_ref, now);
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
        if tracks_memory {
            self.pod_memory_changed(pod_ref);
        }
    }

    /// A request of `pod_ref` that ran free, in slot `index` with `stamp`, finishes; an event
    /// made obsolete by the pod's switch to sharing, or by its death, is ignored.
    #[inline]
    pub(super) fn on_completion(&mut self, pod_ref: PodRef, index: u32, stamp: u32) {
        self.complete(pod_ref, |requests| requests.finish_free(index, stamp));
    }

    /// The shared request of `pod_ref` that was due first finishes (a deleted pod's lane is
    /// cancelled, so the pod is there).
    #[inline]
    pub(super) fn on_shared_completion(&mut self, pod_ref: PodRef) {
        self.complete(pod_ref, |requests| Some(requests.finish_shared()));
    }

    /// A request of `pod_ref` finishes, the one `finish` takes out of its requests in service
    /// (none when the event is obsolete): its latency is recorded, and its worker moves on.
    #[inline(always)]
    fn complete(
        &mut self,
        pod_ref: PodRef,
        finish: impl FnOnce(&mut InService) -> Option<SimTime>,
    ) {
        let Some(pod) = self.cluster.pod_mut(pod_ref) else {
            return;
        };
        let Some(arrived) = finish(pod.server.in_service()) else {
            return;
        };
        let svc = &mut self.services[usize::from(pod.service)];
        let lanes_and_warmup = (self.pod_lane_base, self.warmup_end);
        let worker = finish_request(
            &mut self.clock,
            lanes_and_warmup,
            svc,
            pod_ref,
            pod,
            arrived,
        );
        self.worker_freed(worker, pod_ref);
    }

    /// After a request finished: the pod's memory falls, a worker that took no waiting request
    /// changes the pod's CPU, and a terminating pod that has drained goes.
    #[inline(always)]
    fn worker_freed(&mut self, worker: Worker, pod_ref: PodRef) {
        if worker.tracks_memory {
            // Memory only falls here: nothing to check.
            self.cluster.pod_memory_changed(pod_ref);
        }
        if worker.next == Next::Serves {
            return;
        }
        self.pod_busy_changed(pod_ref);
        if worker.next == Next::Drained {
            self.remove_pod(pod_ref, "drained");
        }
    }
}

/// What follows a finished request in its pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Worker {
    /// What the worker does next.
    next: Next,
    /// Whether the pod's memory is counted per request (`Pod::memory_tracked`).
    tracks_memory: bool,
}

/// What the worker that finished a request does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// It serves the next waiting request: the pod's CPU is unchanged.
    Serves,
    /// It idles.
    Idle,
    /// It idles, and its terminating pod has nothing left: the pod goes.
    Drained,
}

/// A request of `pod_ref` that arrived at `arrived` is done at the clock's time: its latency
/// is recorded and the worker takes the next waiting request, if any.
#[inline(always)]
fn finish_request(
    clock: &mut Clock<Event>,
    (lane_base, warmup_end): (u32, SimTime),
    svc: &mut ServiceState,
    pod_ref: PodRef,
    pod: &mut Pod,
    arrived: SimTime,
) -> Worker {
    let now = clock.now();
    let latency = now.since(arrived);
    if arrived >= warmup_end {
        svc.counts.completed += 1;
        svc.interval.latency.record(latency);
        svc.in_flight_measured -= 1;
        pod.in_service_measured -= 1;
    } else {
        svc.interval.latency_warmup.record(latency);
    }
    svc.expire_queue(&mut pod.server, now, warmup_end);
    let tracks_memory = pod.memory_tracked();
    let Some(next) = pod.server.take_next() else {
        let drained = pod.phase() == PodPhase::Terminating && pod.server.in_flight() == 0;
        let next = if drained { Next::Drained } else { Next::Idle };
        return Worker {
            next,
            tracks_memory,
        };
    };
    if next.arrived >= warmup_end {
        svc.wait.record(now.since(next.arrived));
        pod.in_service_measured += 1;
    }
    let work = next.work().unwrap_or_else(|| svc.sample_service_time());
    match pod.server.begin(now, next.arrived, work) {
        Some(c) => schedule_free(clock, pod_ref, c),
        None => reschedule_completion(clock, lane_base, pod_ref, pod, now),
    }
    Worker {
        next: Next::Serves,
        tracks_memory,
    }
}
