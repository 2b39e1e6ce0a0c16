//! Alert rules as Prometheus evaluates them: a rule whose condition holds goes pending, fires
//! once it has held for its `for` duration, and resolves at the first evaluation where it no
//! longer holds (`rules/alerting.go`, `AlertingRule.Eval`).
//!
//! Use `AlertState::evaluate` once per evaluation with whether the condition holds; it returns
//! the transition, if any, and keeps the time spent firing inside the measured window.

use crate::monitoring::rules::Comparison;
use crate::units::{SimDuration, SimTime};

/// A change of an alert's state at an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertTransition {
    /// The condition started to hold; the alert waits out its `for` duration.
    Pending,
    /// The alert fires.
    Firing,
    /// A firing alert's condition no longer holds.
    Resolved,
}

/// One alert rule's state between evaluations, and what it has done in the measured window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertState {
    /// When the condition started to hold (`ActiveAt`), while it holds.
    active_since: Option<SimTime>,
    /// When the alert started firing, while it fires.
    firing_since: Option<SimTime>,
    /// Times the alert started firing inside the measured window.
    pub fired: u64,
    /// Time spent firing inside the measured window, closed intervals only.
    firing_time: SimDuration,
}

impl AlertState {
    /// One evaluation at `now`: `holds` is whether the rule's condition is true. Statistics
    /// count only what happens from `measured_from` on.
    pub fn evaluate(
        &mut self,
        holds: bool,
        now: SimTime,
        for_duration: SimDuration,
        measured_from: SimTime,
    ) -> Option<AlertTransition> {
        if !holds {
            self.active_since = None;
            let since = self.firing_since.take()?;
            self.firing_time = self.firing_time + now.since(since.max(measured_from).min(now));
            return Some(AlertTransition::Resolved);
        }
        let Some(active_since) = self.active_since else {
            self.active_since = Some(now);
            if for_duration == SimDuration::ZERO {
                self.start_firing(now, measured_from);
                return Some(AlertTransition::Firing);
            }
            return Some(AlertTransition::Pending);
        };
        if self.firing_since.is_none() && now.since(active_since) >= for_duration {
            self.start_firing(now, measured_from);
            return Some(AlertTransition::Firing);
        }
        None
    }

    fn start_firing(&mut self, now: SimTime, measured_from: SimTime) {
        self.firing_since = Some(now);
        if now >= measured_from {
            self.fired += 1;
        }
    }

    /// Whether the alert is firing.
    pub fn is_firing(&self) -> bool {
        self.firing_since.is_some()
    }

    /// Time spent firing inside the measured window up to `now`, counting a firing that has
    /// not resolved yet.
    pub fn firing_time(&self, now: SimTime, measured_from: SimTime) -> SimDuration {
        let open = self.firing_since.map_or(SimDuration::ZERO, |since| {
            now.since(since.max(measured_from).min(now))
        });
        self.firing_time + open
    }
}

/// Whether `value` satisfies `value OP threshold`; a missing value (no data, or a ratio over
/// nothing) never does, as a Prometheus comparison with an empty vector or NaN yields nothing.
pub fn condition_holds(comparison: Comparison, value: Option<f64>, threshold: f64) -> bool {
    match value.filter(|v| v.is_finite()) {
        None => false,
        Some(v) => match comparison {
            Comparison::Greater => v > threshold,
            Comparison::Less => v < threshold,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn an_alert_fires_after_holding_for_its_duration_and_resolves() {
        let mut a = AlertState::default();
        let five_min = SimDuration::from_secs(300);
        let from = SimTime::ZERO;
        // Evaluated every minute; the condition holds from 60 s to 420 s.
        let holds = |s: u64| (60..=420).contains(&s);
        let mut seen = Vec::new();
        for s in (0..=600).step_by(60) {
            if let Some(t) = a.evaluate(holds(s), at(s), five_min, from) {
                seen.push((s, t));
            }
        }
        assert_eq!(
            seen,
            [
                (60, AlertTransition::Pending),
                (360, AlertTransition::Firing),
                (480, AlertTransition::Resolved),
            ]
        );
        assert_eq!((a.fired, a.is_firing()), (1, false));
        assert_eq!(a.firing_time(at(600), from), SimDuration::from_secs(120));
    }

    #[test]
    fn a_condition_that_breaks_off_restarts_the_wait() {
        let mut a = AlertState::default();
        let two_min = SimDuration::from_secs(120);
        let from = SimTime::ZERO;
        assert_eq!(
            a.evaluate(true, at(0), two_min, from),
            Some(AlertTransition::Pending)
        );
        assert_eq!(a.evaluate(true, at(60), two_min, from), None);
        // Broken off before 120 s: pending is dropped silently.
        assert_eq!(a.evaluate(false, at(90), two_min, from), None);
        assert_eq!(
            a.evaluate(true, at(120), two_min, from),
            Some(AlertTransition::Pending)
        );
        assert_eq!(
            a.evaluate(true, at(240), two_min, from),
            Some(AlertTransition::Firing)
        );
        assert_eq!(a.evaluate(true, at(300), two_min, from), None, "fires once");
        assert_eq!(a.fired, 1);
        assert_eq!(a.firing_time(at(300), from), SimDuration::from_secs(60));
    }

    #[test]
    fn without_a_duration_an_alert_fires_at_once_and_the_warmup_does_not_count() {
        let mut a = AlertState::default();
        let from = at(100);
        assert_eq!(
            a.evaluate(true, at(60), SimDuration::ZERO, from),
            Some(AlertTransition::Firing)
        );
        // Fired in the warm-up: not counted, and only its time after 100 s is.
        assert_eq!(a.fired, 0);
        assert_eq!(a.firing_time(at(160), from), SimDuration::from_secs(60));
        a.evaluate(false, at(200), SimDuration::ZERO, from);
        a.evaluate(true, at(260), SimDuration::ZERO, from);
        assert_eq!(a.fired, 1);
        assert_eq!(a.firing_time(at(300), from), SimDuration::from_secs(140));
    }

    #[test]
    fn missing_values_never_satisfy_a_condition() {
        assert!(condition_holds(Comparison::Greater, Some(0.9), 0.8));
        assert!(!condition_holds(Comparison::Greater, Some(0.8), 0.8));
        assert!(condition_holds(Comparison::Less, Some(0.1), 0.8));
        assert!(!condition_holds(Comparison::Greater, None, 0.8));
        assert!(!condition_holds(Comparison::Less, Some(f64::NAN), 0.8));
        assert!(!condition_holds(
            Comparison::Greater,
            Some(f64::INFINITY),
            0.8
        ));
    }
}
