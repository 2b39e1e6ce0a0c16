//! The requests one pod has in service, and when each will be done at the CPU the pod gets.
//!
//! Use `InService` inside `PodServer`. The workers in service share the pod's CPU equally, so
//! they all progress at one rate. Two representations keep that exact and cheap:
//!
//! - **Free** (the pod gets all the CPU its busy workers want): every request runs at the node's
//!   speed whatever the others do, so its completion time is fixed when it starts. Each request
//!   has its own completion event in the engine's main heap, as in a plain multi-server queue;
//!   nothing here orders them.
//! - **Shared** (the pod gets less: its limit or its node's contention binds): the requests
//!   share what it gets, and a virtual clock (the work each has received) turns "which finishes
//!   next, and when" into the smallest finishing tag among them. The pod then has one pending
//!   completion, in its own engine lane, which moves when its CPU changes.
//!
//! Switching to shared converts each request's remaining work into a tag, so no work is lost
//! or gained, and the free completion events it made obsolete are recognised by their stamps
//! and ignored. A pod stays shared (at full speed, if it gets all it wants again) until it is
//! idle, when switching back costs nothing: a pod at the edge of its limit or of its node's
//! capacity does not convert its requests back and forth at every change.

use crate::engine::queue::{pop_key, push_key};
use crate::units::{SimDuration, SimTime};

/// Work units per microsecond of work: the virtual clock counts work in 1/1024 µs, in whole
/// units, so that at full speed it advances by exact integers and between rate changes by
/// fractions far below the engine's microsecond.
const WORK_UNIT_SHIFT: u32 = 10;
const WORK_UNITS_PER_US: u64 = 1 << WORK_UNIT_SHIFT;

/// The completion event of a request in free mode, for the caller to schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeCompletion {
    /// When the request is done.
    pub at: SimTime,
    /// Its slot among the pod's requests.
    pub index: u32,
    /// The stamp that identifies it in its slot.
    pub stamp: u32,
}

/// A request in service in free mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Running {
    arrived: SimTime,
    completes_at: SimTime,
    /// Identifies the request in its slot; 0 while the slot is vacant.
    stamp: u32,
}

const VACANT: Running = Running {
    arrived: SimTime::ZERO,
    completes_at: SimTime::ZERO,
    stamp: 0,
};

/// One pod's requests in service; see the module documentation.
#[derive(Debug, Clone)]
pub struct InService {
    busy: u32,
    shared: bool,
    /// The node's per-vCPU speed relative to the reference machine.
    speed: f64,
    /// Free mode: requests by slot, with the vacant slots.
    running: Vec<Running>,
    vacant: Vec<u32>,
    next_stamp: u32,
    /// Shared mode: a min-heap of (finishing tag << 64 | arrival) keys.
    heap: Vec<u128>,
    /// The virtual clock at `virtual_since`, in work units.
    virtual_units: u64,
    virtual_since: SimTime,
    /// Work-microseconds per microsecond each request receives in shared mode.
    rate: f64,
    /// The completion the caller has scheduled in the pod's lane, in shared mode.
    scheduled: Option<SimTime>,
}

impl InService {
    /// No request in service, room for `concurrency` reserved up front.
    pub fn new(concurrency: u32) -> InService {
        let reserve = concurrency.min(4_096) as usize;
        InService {
            busy: 0,
            shared: false,
            speed: 1.0,
            running: Vec::with_capacity(reserve),
            vacant: Vec::with_capacity(reserve),
            next_stamp: 1,
            heap: Vec::with_capacity(reserve),
            virtual_units: 0,
            virtual_since: SimTime::ZERO,
            rate: 0.0,
            scheduled: None,
        }
    }

    /// Sets the node's per-vCPU speed (once, when the pod is bound, before any request).
    pub fn set_speed(&mut self, speed: f64) {
        self.speed = speed;
    }

    /// Requests in service.
    #[inline(always)]
    pub fn len(&self) -> u32 {
        self.busy
    }

    /// Whether no request is in service.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.busy == 0
    }

    /// Whether the requests share less CPU than they want (one completion lane for the pod).
    #[inline(always)]
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Starts the request that arrived at `arrived` and costs `work`, at `now`. In free mode,
    /// returns its completion event for the caller to schedule.
    #[inline(always)]
    pub fn start(
        &mut self,
        now: SimTime,
        arrived: SimTime,
        work: SimDuration,
    ) -> Option<FreeCompletion> {
        self.busy += 1;
        if self.shared {
            let start = if self.heap.is_empty() {
                self.virtual_units = 0;
                self.virtual_since = now;
                0
            } else {
                self.virtual_at(now)
            };
            push_key(
                &mut self.heap,
                key(start + (work.0 << WORK_UNIT_SHIFT), arrived),
            );
            None
        } else {
            let at = now + self.duration_at_speed(work.0 << WORK_UNIT_SHIFT);
            Some(self.run(arrived, at))
        }
    }

    /// The free-mode request in slot `index` with `stamp` is done; returns its arrival time, or
    /// `None` when the event is obsolete (a switch to shared mode took the request over).
    #[inline(always)]
    pub fn finish_free(&mut self, index: u32, stamp: u32) -> Option<SimTime> {
        let slot = self.running.get_mut(index as usize)?;
        if slot.stamp != stamp {
            return None;
        }
        let arrived = slot.arrived;
        *slot = VACANT;
        self.vacant.push(index);
        self.busy -= 1;
        Some(arrived)
    }

    /// The shared-mode request that was due first is done; returns its arrival time.
    ///
    /// # Panics
    /// If no request is in service in shared mode: the lane fires only then.
    #[inline]
    pub fn finish_shared(&mut self) -> SimTime {
        assert!(self.shared, "a shared completion in free mode");
        self.scheduled = None;
        let done = pop_key(&mut self.heap).expect("a completion for a busy pod");
        self.busy -= 1;
        SimTime(done as u64)
    }

    /// From `now` on each request receives `rate` work-microseconds per microsecond; `free`
    /// says whether the pod gets all its busy workers want (then `rate` is the speed).
    #[inline(always)]
    pub fn set_rate(&mut self, now: SimTime, rate: f64, free: bool) {
        if !self.shared {
            if !free {
                self.switch_to_shared(now);
                self.rate = rate;
            }
            return;
        }
        if free && self.busy == 0 {
            self.shared = false;
            return;
        }
        self.virtual_units = self.virtual_at(now);
        self.virtual_since = now;
        self.rate = rate;
    }

    /// In shared mode, when the request due first will be done at the current rate, if any
    /// is in service and the pod gets CPU.
    #[inline]
    pub fn next_shared_completion(&self, now: SimTime) -> Option<SimTime> {
        let &first = self.heap.first()?;
        if self.rate <= 0.0 {
            return None;
        }
        let remaining = ((first >> 64) as u64).saturating_sub(self.virtual_units);
        let delay = ceil_us(remaining as f64 / (self.rate * WORK_UNITS_PER_US as f64));
        Some(now.max(self.virtual_since + SimDuration(delay)))
    }

    /// In shared mode, the work-microseconds per microsecond each request receives.
    pub fn shared_rate(&self) -> Option<f64> {
        self.shared.then_some(self.rate)
    }

    /// The completion scheduled in the pod's lane, if any.
    #[inline(always)]
    pub fn scheduled(&self) -> Option<SimTime> {
        self.scheduled
    }

    /// Records the completion scheduled in (or cancelled from) the pod's lane.
    #[inline(always)]
    pub fn set_scheduled(&mut self, at: Option<SimTime>) {
        self.scheduled = at;
    }

    /// Drops every request in service (the pod is killed); pending events become obsolete.
    pub fn clear(&mut self) {
        for (i, r) in self.running.iter_mut().enumerate() {
            if r.stamp != 0 {
                *r = VACANT;
                self.vacant.push(i as u32);
            }
        }
        self.heap.clear();
        self.busy = 0;
    }

    /// Records a free-mode request in a vacant slot.
    #[inline(always)]
    fn run(&mut self, arrived: SimTime, completes_at: SimTime) -> FreeCompletion {
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.wrapping_add(1).max(1);
        let entry = Running {
            arrived,
            completes_at,
            stamp,
        };
        let index = match self.vacant.pop() {
            Some(i) => {
                self.running[i as usize] = entry;
                i
            }
            None => {
                self.running.push(entry);
                (self.running.len() - 1) as u32
            }
        };
        FreeCompletion {
            at: completes_at,
            index,
            stamp,
        }
    }

    /// How long `units` of work take at the node's speed, rounded up to whole microseconds.
    #[inline(always)]
    fn duration_at_speed(&self, units: u64) -> SimDuration {
        if self.speed == 1.0 {
            SimDuration(units >> WORK_UNIT_SHIFT)
        } else {
            SimDuration(ceil_us(
                units as f64 / (self.speed * WORK_UNITS_PER_US as f64),
            ))
        }
    }

    /// Free to shared at `now`: each request's remaining work becomes its tag.
    fn switch_to_shared(&mut self, now: SimTime) {
        self.shared = true;
        self.virtual_units = 0;
        self.virtual_since = now;
        let units_per_us = self.speed * WORK_UNITS_PER_US as f64;
        for (i, r) in self.running.iter_mut().enumerate() {
            if r.stamp == 0 {
                continue;
            }
            let remaining = (r.completes_at.since(now).0 as f64 * units_per_us) as u64;
            push_key(&mut self.heap, key(remaining, r.arrived));
            *r = VACANT;
            self.vacant.push(i as u32);
        }
    }

    /// The virtual clock at `now`, in work units.
    #[inline(always)]
    fn virtual_at(&self, now: SimTime) -> u64 {
        let elapsed = now.since(self.virtual_since).0;
        self.virtual_units + (self.rate * (elapsed << WORK_UNIT_SHIFT) as f64) as u64
    }
}

/// A shared-mode heap key: the finishing tag (work units) high, the arrival time low, so that
/// requests finish in tag order, then arrival order.
#[inline(always)]
fn key(finish_tag: u64, arrived: SimTime) -> u128 {
    (u128::from(finish_tag) << 64) | u128::from(arrived.0)
}

/// `x` microseconds rounded up to a whole number, with a hair of tolerance so that results
/// that are whole up to rounding stay whole.
#[inline(always)]
fn ceil_us(x: f64) -> u64 {
    let x = x - 1e-6;
    let whole = x.max(0.0) as u64;
    whole + u64::from((whole as f64) < x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(us: u64) -> SimTime {
        SimTime(us)
    }

    #[test]
    fn free_requests_finish_after_their_work_at_the_nodes_speed() {
        let mut s = InService::new(4);
        let c = s.start(t(5), t(5), SimDuration(100)).expect("free mode");
        assert_eq!(c.at, t(105));
        s.set_speed(2.0);
        let d = s.start(t(5), t(3), SimDuration(100)).expect("free mode");
        assert_eq!(d.at, t(55));
        assert_eq!(s.finish_free(d.index, d.stamp), Some(t(3)));
        assert_eq!(
            s.finish_free(d.index, d.stamp),
            None,
            "an event counts once"
        );
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn switching_keeps_the_remaining_work() {
        let mut s = InService::new(4);
        let a = s.start(t(0), t(0), SimDuration(100)).expect("free");
        let _b = s.start(t(0), t(0), SimDuration(300)).expect("free");
        // At 40 both have 60 and 260 us left; they now share at half speed each.
        s.set_rate(t(40), 0.5, false);
        assert!(s.is_shared());
        assert_eq!(
            s.finish_free(a.index, a.stamp),
            None,
            "the free event is obsolete"
        );
        assert_eq!(s.next_shared_completion(t(40)), Some(t(160)));
        assert_eq!(s.finish_shared(), t(0));
        // At 160 the other has 200 left; back to full speed, still shared until it is idle.
        s.set_rate(t(160), 1.0, true);
        assert!(s.is_shared());
        assert_eq!(s.next_shared_completion(t(160)), Some(t(360)));
        assert_eq!(s.finish_shared(), t(0));
        s.set_rate(t(360), 1.0, true);
        assert!(!s.is_shared(), "an idle pod runs free again");
    }

    #[test]
    fn shared_requests_finish_in_order_of_remaining_work() {
        let mut s = InService::new(4);
        s.set_rate(t(0), 0.25, false);
        assert!(s.start(t(0), t(0), SimDuration(30)).is_none());
        assert!(s.start(t(0), t(1), SimDuration(10)).is_none());
        assert_eq!(s.next_shared_completion(t(0)), Some(t(40)));
        assert_eq!(s.finish_shared(), t(1));
        assert_eq!(s.next_shared_completion(t(40)), Some(t(120)));
    }

    #[test]
    fn clearing_makes_every_event_obsolete() {
        let mut s = InService::new(2);
        let a = s.start(t(0), t(0), SimDuration(10)).expect("free");
        s.clear();
        assert_eq!(s.finish_free(a.index, a.stamp), None);
        assert!(s.is_empty());
        let b = s.start(t(1), t(1), SimDuration(10)).expect("free");
        assert_ne!((a.index, a.stamp), (b.index, b.stamp));
    }
}
