//! One pod's request handling: a FIFO queue in front of `concurrency` workers, with a queue
//! limit and a waiting timeout, and the requests in service sharing the CPU the pod gets.
//!
//! Use `PodServer` for the state of one pod and `ServerLimits` for the service-wide settings.
//! A request's cost is work: the microseconds it would take one worker running at
//! `cpu_per_worker` on a reference machine. The workers in service share the pod's CPU
//! equally (processor sharing; each at most `cpu_per_worker`); `workload::in_service` keeps
//! when each will be done. The pod's CPU, throttling and activity are integrated here for
//! metrics-server and the summaries.
//!
//! Timeouts need no events: with one timeout per service the oldest waiting request always
//! expires first, so expired requests are removed from the head of the queue whenever the queue
//! is looked at. This module decides nothing about which pod gets a request, nor how much CPU
//! a pod gets: the caller tells it (`set_cpu`).

use std::collections::VecDeque;

use crate::units::{Millicores, SimDuration, SimTime};
use crate::workload::in_service::{FreeCompletion, InService};

/// The service-wide serving settings every pod of the service shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Workers per pod.
    pub concurrency: u32,
    /// Most requests waiting in one pod's queue (`DEFAULT_QUEUE_LIMIT` when the scenario gives none).
    pub queue_limit: u32,
    /// Longest wait before a request is dropped; `None` waits forever.
    pub timeout: Option<SimDuration>,
    /// CPU one busy worker uses when it gets all it wants.
    pub cpu_per_worker: Millicores,
    /// The pod's CPU limit (its CFS quota); `u64::MAX` millicores when it has none.
    pub cpu_limit: Millicores,
}

impl ServerLimits {
    /// CPU `busy` workers want, in millicores, before the limit.
    #[inline]
    pub fn wanted_millicores(&self, busy: u32) -> u64 {
        u64::from(busy).saturating_mul(self.cpu_per_worker.0)
    }

    /// What the pod can get of `wanted_millicores` under its CFS quota.
    #[inline]
    pub fn within_limit(&self, wanted_millicores: u64) -> u64 {
        wanted_millicores.min(self.cpu_limit.0)
    }
}

/// What happened to a request offered to a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A worker is free: the caller starts the request with `PodServer::begin`.
    Started,
    /// All workers busy: the request waits.
    Queued,
    /// The queue is full: the request is refused.
    Rejected,
}

/// A request waiting in a pod's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// When it arrived.
    pub arrived: SimTime,
    /// Its work in microseconds when its arrival fixed it (a trace row), `DRAW_AT_START`
    /// when the cost model draws it as a worker takes the request.
    work_us: u64,
}

/// `Waiting::work_us` of a request whose work is drawn when a worker takes it.
const DRAW_AT_START: u64 = u64::MAX;

impl Waiting {
    /// The request's own work, if its arrival fixed it; `None` when it is drawn at start.
    #[inline]
    pub fn work(self) -> Option<SimDuration> {
        (self.work_us != DRAW_AT_START).then_some(SimDuration(self.work_us))
    }
}

/// The serving state of one pod.
#[derive(Debug, Clone)]
pub struct PodServer {
    /// Waiting requests, oldest first.
    queue: VecDeque<Waiting>,
    /// Requests in service and when they will be done.
    in_service: InService,
    /// CPU the pod gets now, in millicores.
    cpu_millicores: f64,
    /// Whether the pod's workers want more CPU than its limit now.
    throttled: bool,
    /// Whether a request is in service now (as of the last `set_cpu`).
    active: bool,
    /// The node's per-vCPU speed relative to the reference machine.
    speed: f64,
    /// Integral of the CPU the pod got over time, in millicore-microseconds.
    cpu_usage_area: f64,
    /// Microseconds during which the workers wanted more than the limit.
    throttled_us: u64,
    /// Microseconds during which at least one request was in service.
    active_us: u64,
    /// When the integrals were last brought up to date (they change only at `set_cpu`).
    last_change: SimTime,
}

impl PodServer {
    /// An idle pod whose accounting starts at `now`, with room for `queue_capacity` waiting
    /// requests and `concurrency` requests in service reserved up front.
    pub fn new(now: SimTime, queue_capacity: usize, concurrency: u32) -> PodServer {
        PodServer {
            queue: VecDeque::with_capacity(queue_capacity),
            in_service: InService::new(concurrency),
            cpu_millicores: 0.0,
            throttled: false,
            active: false,
            speed: 1.0,
            cpu_usage_area: 0.0,
            throttled_us: 0,
            active_us: 0,
            last_change: now,
        }
    }

    /// Sets the per-vCPU speed of the pod's node (once, when it is bound).
    pub fn set_speed(&mut self, speed: f64) {
        self.speed = speed;
        self.in_service.set_speed(speed);
    }

    /// Requests waiting or in service.
    #[inline]
    pub fn in_flight(&self) -> u32 {
        self.busy() + self.queue.len() as u32
    }

    /// Workers serving a request.
    #[inline]
    pub fn busy(&self) -> u32 {
        self.in_service.len()
    }

    /// Requests waiting.
    #[inline]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The per-vCPU speed of the pod's node.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// CPU the pod gets now, in millicores.
    #[inline]
    pub fn cpu_millicores(&self) -> f64 {
        self.cpu_millicores
    }

    /// The requests in service, to read.
    #[inline(always)]
    pub fn requests(&self) -> &InService {
        &self.in_service
    }

    /// The requests in service, for their completion events.
    #[inline(always)]
    pub fn in_service(&mut self) -> &mut InService {
        &mut self.in_service
    }

    /// Removes requests that have waited past the timeout by `now`, calling `on_expired` with each
    /// one's arrival time (oldest first).
    #[inline]
    pub fn expire(
        &mut self,
        now: SimTime,
        limits: &ServerLimits,
        mut on_expired: impl FnMut(SimTime),
    ) {
        let Some(timeout) = limits.timeout else {
            return;
        };
        while let Some(&Waiting { arrived, .. }) = self.queue.front() {
            if arrived + timeout > now {
                break;
            }
            self.queue.pop_front();
            on_expired(arrived);
        }
    }

    /// Offers a request that arrived at `now`, whose work is `work` when its arrival fixed it
    /// (a queued request keeps it). Call `expire` first so the queue length is true. On
    /// `Started` the caller uses that work or draws one, and calls `begin`.
    #[inline]
    pub fn offer(
        &mut self,
        now: SimTime,
        work: Option<SimDuration>,
        limits: &ServerLimits,
    ) -> Admission {
        if self.busy() < limits.concurrency {
            Admission::Started
        } else if (self.queue.len() as u32) < limits.queue_limit {
            self.queue.push_back(Waiting {
                arrived: now,
                work_us: work.map_or(DRAW_AT_START, |w| w.0.min(DRAW_AT_START - 1)),
            });
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// A free worker starts, at `now`, the request that arrived at `arrived` and costs `work`;
    /// returns its completion event when the pod gets all the CPU it wants. A change of the
    /// busy workers is followed by `set_cpu` at the same instant.
    #[inline]
    pub fn begin(
        &mut self,
        now: SimTime,
        arrived: SimTime,
        work: SimDuration,
    ) -> Option<FreeCompletion> {
        self.in_service.start(now, arrived, work)
    }

    /// The oldest waiting request, which leaves the queue for a worker. Call `expire` first so
    /// that expired requests are not served.
    #[inline]
    pub fn take_next(&mut self) -> Option<Waiting> {
        self.queue.pop_front()
    }

    /// The pod gets `cpu_millicores` from `now` on (more than its busy workers want is never
    /// given; wanting more than `limits.cpu_limit` means CFS throttles it).
    #[inline]
    pub fn set_cpu(&mut self, now: SimTime, cpu_millicores: f64, limits: &ServerLimits) {
        let wanted = limits.wanted_millicores(self.busy());
        self.record_cpu(now, cpu_millicores, wanted > limits.cpu_limit.0);
        // Every worker gets all it wants: each runs at the node's speed, however many there are.
        let free = cpu_millicores >= wanted as f64;
        let rate = if free {
            self.speed
        } else {
            cpu_millicores / wanted as f64 * self.speed
        };
        self.in_service.set_rate(now, rate, free);
    }

    /// The pod gets what its busy workers want, `wanted_millicores`, from `now` on: the call for
    /// a pod whose limit never binds on a node that is never short, which stays free.
    #[inline(always)]
    pub fn set_cpu_wanted(&mut self, now: SimTime, wanted_millicores: u64) {
        debug_assert!(
            !self.in_service.is_shared(),
            "a pod that always gets its CPU runs free"
        );
        self.record_cpu(now, wanted_millicores as f64, false);
    }

    /// From `now` on the pod gets `cpu_millicores`, and is throttled or not: the integrals are
    /// brought up to `now` under what held until then.
    #[inline(always)]
    fn record_cpu(&mut self, now: SimTime, cpu_millicores: f64, throttled: bool) {
        self.advance(now);
        self.active = !self.in_service.is_empty();
        self.cpu_millicores = cpu_millicores;
        self.throttled = throttled;
    }

    /// Drops every waiting request (the pod is being killed), returning their arrival times.
    pub fn drain_queue(&mut self) -> impl Iterator<Item = SimTime> + '_ {
        self.queue.drain(..).map(|w| w.arrived)
    }

    /// Stops all workers at `now` (the pod is killed), returning how many were busy. The caller
    /// then takes the pod's CPU away with `set_cpu`.
    pub fn stop_workers(&mut self, now: SimTime) -> u32 {
        self.advance(now);
        let busy = self.busy();
        self.in_service.clear();
        busy
    }

    /// The CPU usage integral up to `now`, in millicore-microseconds. Differences of two readings
    /// divided by the time between them give the average usage in millicores.
    pub fn cpu_usage_area(&self, now: SimTime) -> f64 {
        self.cpu_usage_area + self.cpu_millicores * now.since(self.last_change).0 as f64
    }

    /// Microseconds up to `now` during which the workers wanted more CPU than the limit (what
    /// `container_cpu_cfs_throttled_periods_total` counts, in time rather than periods).
    pub fn throttled_us(&self, now: SimTime) -> u64 {
        self.throttled_us
            + if self.throttled {
                now.since(self.last_change).0
            } else {
                0
            }
    }

    /// Microseconds up to `now` during which at least one request was in service (what
    /// `container_cpu_cfs_periods_total` counts: periods in which the pod ran).
    pub fn active_us(&self, now: SimTime) -> u64 {
        self.active_us
            + if self.active {
                now.since(self.last_change).0
            } else {
                0
            }
    }

    /// Brings the integrals up to `now`. They change only when the CPU does, and every change
    /// of the busy workers is followed by `set_cpu` at the same instant, so the state since the
    /// last call held throughout.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        let elapsed = now.since(self.last_change).0;
        if elapsed == 0 {
            return;
        }
        self.cpu_usage_area += self.cpu_millicores * elapsed as f64;
        if self.throttled {
            self.throttled_us += elapsed;
        }
        if self.active {
            self.active_us += elapsed;
        }
        self.last_change = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ServerLimits {
        ServerLimits {
            concurrency: 2,
            queue_limit: 1,
            timeout: Some(SimDuration(100)),
            cpu_per_worker: Millicores(1_000),
            cpu_limit: Millicores(1_500),
        }
    }

    /// Offers a request at `now` and starts it with `work` if a worker is free, giving the pod
    /// what it wants up to its limit.
    fn arrive(pod: &mut PodServer, now: u64, work: u64, l: &ServerLimits) -> Admission {
        let admission = pod.offer(SimTime(now), None, l);
        if admission == Admission::Started {
            pod.begin(SimTime(now), SimTime(now), SimDuration(work));
            give_wanted(pod, now, l);
        }
        admission
    }

    fn give_wanted(pod: &mut PodServer, now: u64, l: &ServerLimits) {
        let cpu = l.wanted_millicores(pod.busy()).min(l.cpu_limit.0);
        pod.set_cpu(SimTime(now), cpu as f64, l);
    }

    #[test]
    fn workers_then_queue_then_rejection() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 4, 2);
        assert_eq!(arrive(&mut pod, 0, 10, &l), Admission::Started);
        assert_eq!(arrive(&mut pod, 1, 10, &l), Admission::Started);
        assert_eq!(arrive(&mut pod, 2, 10, &l), Admission::Queued);
        assert_eq!(arrive(&mut pod, 3, 10, &l), Admission::Rejected);
        assert_eq!(pod.in_flight(), 3);
        assert_eq!(pod.busy(), 2);
        assert_eq!(pod.take_next().map(|w| w.arrived), Some(SimTime(2)));
        assert_eq!(pod.take_next(), None);
    }

    #[test]
    fn a_queued_request_keeps_the_work_its_arrival_fixed() {
        let l = ServerLimits {
            concurrency: 1,
            queue_limit: 10,
            timeout: None,
            ..limits()
        };
        let mut pod = PodServer::new(SimTime(0), 4, 1);
        arrive(&mut pod, 0, 1_000, &l);
        pod.offer(SimTime(1), Some(SimDuration(777)), &l);
        pod.offer(SimTime(2), None, &l);
        let first = pod.take_next().expect("a waiting request");
        assert_eq!(first.arrived, SimTime(1));
        assert_eq!(first.work(), Some(SimDuration(777)));
        let second = pod.take_next().expect("a waiting request");
        assert_eq!((second.arrived, second.work()), (SimTime(2), None));
    }

    #[test]
    fn expired_requests_leave_from_the_head() {
        let l = ServerLimits {
            concurrency: 1,
            queue_limit: 10,
            ..limits()
        };
        let mut pod = PodServer::new(SimTime(0), 0, 1);
        arrive(&mut pod, 0, 1_000, &l);
        for t in [5, 50, 120] {
            arrive(&mut pod, t, 1_000, &l);
        }
        let mut expired = Vec::new();
        // At 150, requests from 5 and 50 have waited >= 100 us; the one from 120 has not.
        pod.expire(SimTime(150), &l, |a| expired.push(a.0));
        assert_eq!(expired, vec![5, 50]);
        assert_eq!(pod.take_next().map(|w| w.arrived), Some(SimTime(120)));
    }

    #[test]
    fn a_pod_under_its_limit_runs_free_and_one_over_it_shares() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 0, 2);
        let c = pod.begin(SimTime(7), SimTime(7), SimDuration(12_345));
        give_wanted(&mut pod, 7, &l);
        assert_eq!(c.map(|c| c.at), Some(SimTime(12_352)));
        assert!(!pod.in_service().is_shared());
        // A second worker: 2000m wanted against a 1500m limit.
        pod.begin(SimTime(10), SimTime(10), SimDuration(100));
        give_wanted(&mut pod, 10, &l);
        assert!(pod.in_service().is_shared());
        // Each gets 750m of the 1000m it wants: the short one needs 100/0.75 us.
        assert_eq!(
            pod.in_service().next_shared_completion(SimTime(10)),
            Some(SimTime(144))
        );
    }

    #[test]
    fn a_faster_machine_divides_the_time() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 0, 2);
        pod.set_speed(2.0);
        let c = pod.begin(SimTime(0), SimTime(0), SimDuration(1_000));
        give_wanted(&mut pod, 0, &l);
        assert_eq!(c.map(|c| c.at), Some(SimTime(500)));
    }

    #[test]
    fn cpu_usage_throttling_and_activity_are_integrated() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 0, 2);
        arrive(&mut pod, 0, 25, &l); // 1000m from 0
        arrive(&mut pod, 10, 100, &l); // 2000m wanted, capped to 1500m from 10: rate 3/4
        // The first got 10 us alone and needs 15 more at 3/4: done at 30.
        assert_eq!(
            pod.in_service().next_shared_completion(SimTime(10)),
            Some(SimTime(30))
        );
        assert_eq!(pod.in_service().finish_shared(), SimTime(0));
        give_wanted(&mut pod, 30, &l); // back to 1000m, at full speed
        // The second got 15 us of work in those 20 us and needs 85 more.
        assert_eq!(
            pod.in_service().next_shared_completion(SimTime(30)),
            Some(SimTime(115))
        );
        assert_eq!(pod.in_service().finish_shared(), SimTime(10));
        give_wanted(&mut pod, 115, &l); // idle, free again
        assert!(!pod.in_service().is_shared());
        // 1000*10 + 1500*20 + 1000*85 millicore-us
        assert_eq!(pod.cpu_usage_area(SimTime(120)), 125_000.0);
        assert_eq!(pod.throttled_us(SimTime(120)), 20);
        assert_eq!(pod.active_us(SimTime(120)), 115);
    }
}
