//! One pod's request handling: a FIFO queue in front of `concurrency` workers, with a queue
//! limit and a waiting timeout, and the requests in service sharing the CPU the pod gets.
//!
//! Use `PodServer` for the state of one pod and `ServerLimits` for the service-wide settings.
//! A request's cost is work: the microseconds it would take one worker running at
//! `cpu_per_worker` on a reference machine. The workers in service share the pod's CPU
//! equally (processor sharing; each at most `cpu_per_worker`), so they all progress at one
//! rate, and a per-pod virtual clock — the work each of them has received — turns "which
//! request finishes next, and when" into the smallest finishing tag among them. A change of
//! the pod's CPU changes only the rate: nothing per request is touched.
//!
//! Timeouts need no events: with one timeout per service the oldest waiting request always
//! expires first, so expired requests are removed from the head of the queue whenever the queue
//! is looked at. This module decides nothing about which pod gets a request, nor how much CPU
//! a pod gets: the caller tells it (`set_cpu`).

use std::collections::VecDeque;

use crate::engine::queue::{pop_key, push_key};
use crate::units::{Millicores, SimDuration, SimTime};

/// The service-wide serving settings every pod of the service shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Workers per pod.
    pub concurrency: u32,
    /// Most requests waiting in one pod's queue; `u32::MAX` for unbounded.
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

/// Work units per microsecond of work: the virtual clock counts work in 1/1024 µs, in whole
/// units, so that at full speed it advances by exact integers and between rate changes by
/// fractions far below the engine's microsecond.
const WORK_UNITS_PER_US: u64 = 1 << WORK_UNIT_SHIFT;
const WORK_UNIT_SHIFT: u32 = 10;

/// A request in service as a packed heap key: its finishing tag (virtual time in work units) in
/// the high half and its arrival time in the low half, so that a `u128` heap orders requests by
/// finishing time, then by arrival.
#[inline(always)]
fn in_service_key(finish_tag: u64, arrived: SimTime) -> u128 {
    (u128::from(finish_tag) << 64) | u128::from(arrived.0)
}

/// The serving state of one pod.
#[derive(Debug, Clone)]
pub struct PodServer {
    /// Arrival times of waiting requests, oldest first.
    queue: VecDeque<SimTime>,
    /// Requests in service: a binary min-heap of `in_service_key`s.
    in_service: Vec<u128>,
    /// The virtual clock at `virtual_since`: the work each request in service has received
    /// since the pod was last idle, in work units (reset to zero whenever the pod starts from
    /// idle, so it stays small). It runs at `rate` from then on.
    virtual_units: u64,
    /// When `virtual_units` was read.
    virtual_since: SimTime,
    /// Whether `rate` is exactly 1: the virtual clock then runs in step with time.
    full_rate: bool,
    /// Work-microseconds per microsecond each request in service receives.
    rate: f64,
    /// The node's per-vCPU speed relative to the reference machine.
    speed: f64,
    /// CPU the pod gets now, in millicores.
    cpu_millicores: f64,
    /// Whether the pod's workers want more CPU than its limit now.
    throttled: bool,
    /// Whether a request is in service now (as of the last `set_cpu`).
    active: bool,
    /// Integral of the CPU the pod got over time, in millicore-microseconds.
    cpu_usage_area: f64,
    /// Microseconds during which the workers wanted more than the limit.
    throttled_us: u64,
    /// Microseconds during which at least one request was in service.
    active_us: u64,
    /// When the integrals were last brought up to date (they change only at `set_cpu`).
    last_change: SimTime,
    /// The completion the caller has scheduled for this pod, if any.
    scheduled_completion: Option<SimTime>,
}

impl PodServer {
    /// An idle pod whose accounting starts at `now`, with room for `queue_capacity` waiting
    /// requests and `concurrency` requests in service reserved up front.
    pub fn new(now: SimTime, queue_capacity: usize, concurrency: u32) -> PodServer {
        PodServer {
            queue: VecDeque::with_capacity(queue_capacity),
            in_service: Vec::with_capacity(concurrency.min(4_096) as usize),
            virtual_units: 0,
            virtual_since: now,
            full_rate: false,
            rate: 0.0,
            speed: 1.0,
            cpu_millicores: 0.0,
            throttled: false,
            active: false,
            cpu_usage_area: 0.0,
            throttled_us: 0,
            active_us: 0,
            last_change: now,
            scheduled_completion: None,
        }
    }

    /// Sets the per-vCPU speed of the pod's node (once, when it is bound).
    pub fn set_speed(&mut self, speed: f64) {
        self.speed = speed;
    }

    /// Requests waiting or in service.
    #[inline]
    pub fn in_flight(&self) -> u32 {
        self.busy() + self.queue.len() as u32
    }

    /// Workers serving a request.
    #[inline]
    pub fn busy(&self) -> u32 {
        self.in_service.len() as u32
    }

    /// Requests waiting.
    #[inline]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// CPU the pod gets now, in millicores.
    #[inline]
    pub fn cpu_millicores(&self) -> f64 {
        self.cpu_millicores
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
        while let Some(&arrived) = self.queue.front() {
            if arrived + timeout > now {
                break;
            }
            self.queue.pop_front();
            on_expired(arrived);
        }
    }

    /// Offers a request that arrived at `now`. Call `expire` first so the queue length is true.
    /// On `Started` the caller draws the request's work and calls `begin`.
    #[inline]
    pub fn offer(&mut self, now: SimTime, limits: &ServerLimits) -> Admission {
        if self.busy() < limits.concurrency {
            Admission::Started
        } else if (self.queue.len() as u32) < limits.queue_limit {
            self.queue.push_back(now);
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// A free worker starts, at `now`, the request that arrived at `arrived` and costs `work`.
    /// The pod's busy workers change: the caller tells it its new CPU with `set_cpu`.
    #[inline]
    pub fn begin(&mut self, now: SimTime, arrived: SimTime, work: SimDuration) {
        let start = if self.in_service.is_empty() {
            self.virtual_units = 0;
            self.virtual_since = now;
            0
        } else {
            self.virtual_at(now)
        };
        push_key(
            &mut self.in_service,
            in_service_key(start + (work.0 << WORK_UNIT_SHIFT), arrived),
        );
    }

    /// The request whose completion was scheduled finishes at `now`; returns its arrival time.
    /// Then the caller takes the next waiting request (`take_next`) or, if there is none, tells
    /// the pod its new CPU.
    ///
    /// # Panics
    /// If no request is in service: a completion is scheduled only for a busy pod.
    #[inline]
    pub fn complete(&mut self, now: SimTime) -> SimTime {
        debug_assert!(
            self.in_service
                .first()
                .is_some_and(|&k| (k >> 64) as u64 <= self.virtual_at(now) + 2 * WORK_UNITS_PER_US),
            "a completion before the request's work is done"
        );
        self.scheduled_completion = None;
        let done = pop_key(&mut self.in_service).expect("a completion for a busy pod");
        SimTime(done as u64)
    }

    /// The arrival time of the oldest waiting request, which leaves the queue for a worker.
    /// Call `expire` first so that expired requests are not served.
    #[inline]
    pub fn take_next(&mut self) -> Option<SimTime> {
        self.queue.pop_front()
    }

    /// The pod gets `cpu_millicores` from `now` on, while its workers want `wanted_millicores`
    /// (more than `limits.cpu_limit` means CFS throttles it).
    #[inline]
    pub fn set_cpu(&mut self, now: SimTime, cpu_millicores: f64, limits: &ServerLimits) {
        self.advance(now);
        self.virtual_units = self.virtual_at(now);
        self.virtual_since = now;
        self.active = !self.in_service.is_empty();
        let wanted = limits.wanted_millicores(self.busy());
        self.cpu_millicores = cpu_millicores;
        self.throttled = wanted > limits.cpu_limit.0;
        self.rate = if wanted == 0 {
            0.0
        } else if cpu_millicores >= wanted as f64 {
            // Every worker gets all it wants: exact, whatever the number of workers.
            self.speed
        } else {
            cpu_millicores / wanted as f64 * self.speed
        };
        self.full_rate = self.rate == 1.0;
    }

    /// When the next request in service will finish at the current rate, if any is in service
    /// and the pod gets CPU. Call right after a change (`begin`, `complete`, `set_cpu`) at `now`.
    #[inline]
    pub fn next_completion(&self, now: SimTime) -> Option<SimTime> {
        let &first = self.in_service.first()?;
        if self.rate <= 0.0 {
            return None;
        }
        let remaining = ((first >> 64) as u64).saturating_sub(self.virtual_units);
        if self.full_rate {
            // Whole work units at one unit per unit: exact integer arithmetic.
            let delay = remaining.div_ceil(WORK_UNITS_PER_US);
            return Some(now.max(self.virtual_since + SimDuration(delay)));
        }
        // Whole microseconds, rounded up; a hair of tolerance keeps exact results exact.
        let delay = remaining as f64 / (self.rate * WORK_UNITS_PER_US as f64) - 1e-6;
        let whole = delay.max(0.0) as u64;
        let up = u64::from((whole as f64) < delay);
        Some(now.max(self.virtual_since + SimDuration(whole + up)))
    }

    /// The completion the caller has scheduled, if any.
    #[inline]
    pub fn scheduled_completion(&self) -> Option<SimTime> {
        self.scheduled_completion
    }

    /// Records the completion the caller has scheduled (or cancelled).
    #[inline]
    pub fn set_scheduled_completion(&mut self, at: Option<SimTime>) {
        self.scheduled_completion = at;
    }

    /// Drops every waiting request (the pod is being killed), returning their arrival times.
    pub fn drain_queue(&mut self) -> impl Iterator<Item = SimTime> + '_ {
        self.queue.drain(..)
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

    /// The virtual clock at `now`, in work units.
    #[inline(always)]
    fn virtual_at(&self, now: SimTime) -> u64 {
        let elapsed = now.since(self.virtual_since).0;
        if self.full_rate {
            self.virtual_units + (elapsed << WORK_UNIT_SHIFT)
        } else {
            self.virtual_units + (self.rate * (elapsed << WORK_UNIT_SHIFT) as f64) as u64
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
        let admission = pod.offer(SimTime(now), l);
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
        assert_eq!(pod.complete(SimTime(20)), SimTime(0));
        assert_eq!(pod.take_next(), Some(SimTime(2)));
        assert_eq!(pod.busy(), 1);
        assert_eq!(pod.take_next(), None);
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
        assert_eq!(pod.take_next(), Some(SimTime(120)));
    }

    #[test]
    fn an_uncontended_request_takes_exactly_its_work() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 0, 2);
        arrive(&mut pod, 7, 12_345, &l);
        assert_eq!(pod.next_completion(SimTime(7)), Some(SimTime(12_352)));
    }

    #[test]
    fn requests_in_service_share_the_limit() {
        // Limit 1000m, 1000m per worker: two requests in service progress at half speed each.
        let l = ServerLimits {
            cpu_limit: Millicores(1_000),
            ..limits()
        };
        let mut pod = PodServer::new(SimTime(0), 0, 2);
        arrive(&mut pod, 0, 100, &l);
        arrive(&mut pod, 0, 300, &l);
        // The short one needs 100 us of work at rate 1/2: done at 200.
        assert_eq!(pod.next_completion(SimTime(0)), Some(SimTime(200)));
        assert_eq!(pod.complete(SimTime(200)), SimTime(0));
        give_wanted(&mut pod, 200, &l);
        // The long one got 100 us of work and has 200 left, now at full speed.
        assert_eq!(pod.next_completion(SimTime(200)), Some(SimTime(400)));
        // Two workers wanted 2000m against a 1000m limit for 200 us.
        assert_eq!(pod.throttled_us(SimTime(400)), 200);
    }

    #[test]
    fn a_faster_machine_divides_the_time() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 0, 2);
        pod.set_speed(2.0);
        arrive(&mut pod, 0, 1_000, &l);
        assert_eq!(pod.next_completion(SimTime(0)), Some(SimTime(500)));
    }

    #[test]
    fn a_rate_change_moves_the_next_completion() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 0, 2);
        arrive(&mut pod, 0, 1_000, &l);
        // At 400 the node gives it only 250m: 600 us of work left at a quarter of the speed.
        pod.set_cpu(SimTime(400), 250.0, &l);
        assert_eq!(pod.next_completion(SimTime(400)), Some(SimTime(2_800)));
    }

    #[test]
    fn cpu_usage_is_integrated_and_capped_at_the_limit() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 0, 2);
        arrive(&mut pod, 0, 25, &l); // 1000m from 0
        arrive(&mut pod, 10, 100, &l); // 2000m wanted, capped to 1500m from 10: rate 3/4
        // The first got 10 us alone and needs 15 more at 3/4: done at 30.
        assert_eq!(pod.next_completion(SimTime(10)), Some(SimTime(30)));
        assert_eq!(pod.complete(SimTime(30)), SimTime(0));
        give_wanted(&mut pod, 30, &l); // back to 1000m
        // The second got 15 us of work in those 20 us and needs 85 more.
        assert_eq!(pod.next_completion(SimTime(30)), Some(SimTime(115)));
        assert_eq!(pod.complete(SimTime(115)), SimTime(10));
        give_wanted(&mut pod, 115, &l); // idle
        // 1000*10 + 1500*20 + 1000*85 millicore-us
        assert_eq!(pod.cpu_usage_area(SimTime(120)), 125_000.0);
        assert_eq!(pod.throttled_us(SimTime(120)), 20);
        assert_eq!(pod.active_us(SimTime(120)), 115);
    }
}
