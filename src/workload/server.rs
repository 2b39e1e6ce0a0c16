//! One pod's request handling: a FIFO queue in front of `concurrency` workers, with a queue
//! limit, a waiting timeout, and the CPU the busy workers use.
//!
//! Use `PodServer` for the state of one pod and `ServerLimits` for the service-wide settings.
//! Timeouts need no events: with one timeout per service the oldest waiting request always
//! expires first, so expired requests are removed from the head of the queue whenever the queue
//! is looked at. This module decides nothing about which pod gets a request.

use std::collections::VecDeque;

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
    /// CPU one busy worker uses.
    pub cpu_per_worker: Millicores,
    /// CPU a pod may use at most (its limit, or the node's allocatable when it has none).
    pub cpu_cap: Millicores,
}

/// What happened to a request offered to a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A worker was free: service starts now.
    Started,
    /// All workers busy: the request waits.
    Queued,
    /// The queue is full: the request is refused.
    Rejected,
}

/// The serving state of one pod.
#[derive(Debug, Clone, Default)]
pub struct PodServer {
    /// Arrival times of waiting requests, oldest first.
    queue: VecDeque<SimTime>,
    /// Workers serving a request.
    busy: u32,
    /// Integral of CPU usage over time, in millicore-microseconds.
    cpu_usage_area: u64,
    /// CPU in use since `last_change`, in millicores.
    cpu_in_use: u64,
    last_change: SimTime,
}

impl PodServer {
    /// An idle pod whose usage accounting starts at `now`, with room for `queue_capacity`
    /// waiting requests reserved up front.
    pub fn new(now: SimTime, queue_capacity: usize) -> PodServer {
        PodServer {
            queue: VecDeque::with_capacity(queue_capacity),
            last_change: now,
            ..PodServer::default()
        }
    }

    /// Requests waiting or in service.
    #[inline]
    pub fn in_flight(&self) -> u32 {
        self.busy + self.queue.len() as u32
    }

    /// Workers serving a request.
    #[inline]
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Requests waiting.
    #[inline]
    pub fn queued(&self) -> usize {
        self.queue.len()
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
    #[inline]
    pub fn offer(&mut self, now: SimTime, limits: &ServerLimits) -> Admission {
        if self.busy < limits.concurrency {
            self.set_busy(now, self.busy + 1, limits);
            Admission::Started
        } else if (self.queue.len() as u32) < limits.queue_limit {
            self.queue.push_back(now);
            Admission::Queued
        } else {
            Admission::Rejected
        }
    }

    /// A worker finished at `now`. Returns the arrival time of the waiting request it takes next,
    /// if any. Call `expire` first so that expired requests are not served.
    #[inline]
    pub fn finish(&mut self, now: SimTime, limits: &ServerLimits) -> Option<SimTime> {
        debug_assert!(self.busy > 0, "finish on an idle pod");
        match self.queue.pop_front() {
            Some(arrived) => Some(arrived),
            None => {
                self.set_busy(now, self.busy - 1, limits);
                None
            }
        }
    }

    /// Drops every waiting request (the pod is being killed), returning their arrival times.
    pub fn drain_queue(&mut self) -> impl Iterator<Item = SimTime> + '_ {
        self.queue.drain(..)
    }

    /// Stops all workers at `now` (the pod is killed), returning how many were busy.
    pub fn stop_workers(&mut self, now: SimTime, limits: &ServerLimits) -> u32 {
        let busy = self.busy;
        self.set_busy(now, 0, limits);
        busy
    }

    /// The CPU usage integral up to `now`, in millicore-microseconds. Differences of two readings
    /// divided by the time between them give the average usage in millicores.
    pub fn cpu_usage_area(&self, now: SimTime) -> u64 {
        self.cpu_usage_area + self.cpu_in_use * now.since(self.last_change).0
    }

    #[inline]
    fn set_busy(&mut self, now: SimTime, busy: u32, limits: &ServerLimits) {
        self.cpu_usage_area += self.cpu_in_use * now.since(self.last_change).0;
        self.last_change = now;
        self.busy = busy;
        self.cpu_in_use = (u64::from(busy) * limits.cpu_per_worker.0).min(limits.cpu_cap.0);
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
            cpu_cap: Millicores(1_500),
        }
    }

    #[test]
    fn workers_then_queue_then_rejection() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 4);
        assert_eq!(pod.offer(SimTime(0), &l), Admission::Started);
        assert_eq!(pod.offer(SimTime(1), &l), Admission::Started);
        assert_eq!(pod.offer(SimTime(2), &l), Admission::Queued);
        assert_eq!(pod.offer(SimTime(3), &l), Admission::Rejected);
        assert_eq!(pod.in_flight(), 3);
        assert_eq!(pod.finish(SimTime(10), &l), Some(SimTime(2)));
        assert_eq!(pod.busy(), 2);
        assert_eq!(pod.finish(SimTime(11), &l), None);
        assert_eq!(pod.busy(), 1);
    }

    #[test]
    fn expired_requests_leave_from_the_head() {
        let l = ServerLimits {
            concurrency: 1,
            queue_limit: 10,
            ..limits()
        };
        let mut pod = PodServer::new(SimTime(0), 0);
        pod.offer(SimTime(0), &l);
        for t in [5, 50, 120] {
            pod.offer(SimTime(t), &l);
        }
        let mut expired = Vec::new();
        // At 150, requests from 5 and 50 have waited >= 100 us; the one from 120 has not.
        pod.expire(SimTime(150), &l, |a| expired.push(a.0));
        assert_eq!(expired, vec![5, 50]);
        assert_eq!(pod.finish(SimTime(150), &l), Some(SimTime(120)));
    }

    #[test]
    fn cpu_usage_is_integrated_and_capped_at_the_limit() {
        let l = limits();
        let mut pod = PodServer::new(SimTime(0), 0);
        pod.offer(SimTime(0), &l); // 1000m from 0
        pod.offer(SimTime(10), &l); // 2000m capped to 1500m from 10
        pod.finish(SimTime(20), &l); // back to 1000m
        pod.finish(SimTime(30), &l); // idle
        // 1000*10 + 1500*10 + 1000*10 = 35000 millicore-us
        assert_eq!(pod.cpu_usage_area(SimTime(40)), 35_000);
    }
}
