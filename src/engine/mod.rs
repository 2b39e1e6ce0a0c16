//! The discrete-event core: simulated time, the pending-event set, and seeded random streams.
//!
//! Use `Clock` to own "now" and the events still to happen; a model pops events in order and
//! schedules new ones. Events are a closed, `Copy` enum of the model's choosing, so dispatch is a
//! `match` the compiler checks, with no boxing.
//!
//! **Invariant:** this module knows nothing about Kubernetes. No wall clock, no global RNG, no
//! `HashMap` iteration on the event path; events at equal times run in the order they were
//! scheduled.

pub mod queue;
pub mod rng;

use crate::units::{SimDuration, SimTime};
use queue::EventQueue;

/// Simulated time and the events scheduled to happen.
#[derive(Debug)]
pub struct Clock<E> {
    now: SimTime,
    queue: EventQueue<E>,
    processed: u64,
}

impl<E: Copy> Default for Clock<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Clock<E> {
    /// A clock at time zero with nothing scheduled.
    pub fn new() -> Self {
        Clock {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            processed: 0,
        }
    }

    /// The current simulated time: the time of the event being handled.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    /// If `time` is in the past: an event scheduled backwards is a bug in the model.
    #[inline(always)]
    pub fn schedule_at(&mut self, time: SimTime, event: E) {
        self.assert_not_past(time);
        self.queue.push(time.0, event);
    }

    /// Schedules `event` at `time` as the one pending event of `lane`: the next event of a
    /// recurring source, such as the next arrival of a Poisson stream. The order of events is
    /// the same as with `schedule_at`; lanes only make it cheaper.
    ///
    /// # Panics
    /// If `time` is in the past, or the lane still holds an event.
    #[inline(always)]
    pub fn schedule_lane_at(&mut self, lane: u32, time: SimTime, event: E) {
        self.assert_not_past(time);
        self.queue.push_lane(lane, time.0, event);
    }

    /// Makes `event` at `time` the one pending event of `lane`, replacing the event the lane
    /// holds, if any: the replaced event never happens. Use it for a source whose next event
    /// moves, such as a pod's next completion when the CPU it gets changes.
    ///
    /// # Panics
    /// If `time` is in the past.
    #[inline(always)]
    pub fn reschedule_lane_at(&mut self, lane: u32, time: SimTime, event: E) {
        self.assert_not_past(time);
        self.queue.set_lane(lane, time.0, event);
    }

    /// Drops the pending event of `lane`, if any, so that it never happens.
    #[inline]
    pub fn cancel_lane(&mut self, lane: u32) {
        self.queue.cancel_lane(lane);
    }

    /// Panics if `time` is before the clock: an event scheduled backwards is a bug in the
    /// model.
    #[inline(always)]
    #[track_caller]
    fn assert_not_past(&self, time: SimTime) {
        assert!(
            time >= self.now,
            "event scheduled at {time} while the clock is at {}",
            self.now
        );
    }

    /// Schedules `event` after `delay`.
    #[inline(always)]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now.0 + delay.0, event);
    }

    /// Pops the next event if it happens no later than `horizon`, advancing the clock to it;
    /// otherwise leaves it pending and returns `None`.
    #[inline]
    pub fn next_until(&mut self, horizon: SimTime) -> Option<E> {
        let (time, event) = self.queue.pop_until(horizon.0)?;
        self.now = SimTime(time);
        self.processed += 1;
        Some(event)
    }

    /// Moves the clock forward to `time` without an event (the end of a run).
    ///
    /// # Panics
    /// If an event earlier than `time` is still pending, or `time` is in the past.
    pub fn advance_to(&mut self, time: SimTime) {
        assert!(time >= self.now, "clock moved backwards to {time}");
        if let Some(next) = self.queue.peek_time() {
            assert!(next >= time.0, "advancing past a pending event at {next}us");
        }
        self.now = time;
    }

    /// Events handled so far.
    pub fn events_processed(&self) -> u64 {
        self.processed
    }

    /// Events still pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_events_in_order_up_to_the_horizon() {
        let mut clock = Clock::new();
        clock.schedule_at(SimTime(30), 3);
        clock.schedule_at(SimTime(10), 1);
        clock.schedule_in(SimDuration(20), 2);
        let mut seen = Vec::new();
        while let Some(e) = clock.next_until(SimTime(25)) {
            seen.push((clock.now().0, e));
        }
        assert_eq!(seen, vec![(10, 1), (20, 2)]);
        assert_eq!(clock.events_processed(), 2);
        assert_eq!(clock.pending(), 1);
        clock.advance_to(SimTime(25));
        assert_eq!(clock.now(), SimTime(25));
        assert_eq!(clock.next_until(SimTime(100)), Some(3));
    }

    #[test]
    #[allow(clippy::panic)]
    fn scheduling_into_the_past_is_refused() {
        let result = std::panic::catch_unwind(|| {
            let mut clock = Clock::new();
            clock.schedule_at(SimTime(10), ());
            clock.next_until(SimTime(10));
            clock.schedule_at(SimTime(5), ());
        });
        assert!(result.is_err());
    }
}
