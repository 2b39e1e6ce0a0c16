//! Stabilization windows: the HPA remembers its recent unstabilized recommendations and, within
//! a window, will not move past them. A port of `horizontal.go`'s `stabilizeRecommendation`
//! (the legacy path: scale-down only, over `--horizontal-pod-autoscaler-downscale-stabilization`)
//! and `stabilizeRecommendationWithBehaviors` (both directions, windows from `behavior`).
//!
//! Use one history per HPA for both functions; each call records the new recommendation,
//! reusing the slot of one that has aged out of every window. Rate limits are in `behavior`.
//!
//! Upstream's strictness is kept: the legacy window counts a recommendation unless it is
//! strictly older than `now - window` (so one exactly at the edge counts), while the behavior
//! windows count one only when strictly newer than `now - window`.

use super::behavior::{NormalizationArgs, Normalized, newer_than, older_than};
use crate::units::{SimDuration, SimTime};

/// One recommendation the metrics made, before stabilization (`timestampedRecommendation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampedRecommendation {
    /// Replicas the metrics proposed.
    pub recommendation: u32,
    /// When.
    pub timestamp: SimTime,
}

/// `stabilizeRecommendation` (no `behavior`): the largest recommendation within the downscale
/// stabilization window, the new one included; then records the new one in the slot of the
/// last recommendation older than the window, or appends it.
pub fn stabilize_recommendation(
    history: &mut Vec<TimestampedRecommendation>,
    now: SimTime,
    downscale_stabilization_window: SimDuration,
    prenormalized_desired_replicas: u32,
) -> u32 {
    let mut max_recommendation = prenormalized_desired_replicas;
    let mut old_sample = None;
    for (i, rec) in history.iter().enumerate() {
        if older_than(rec.timestamp, now, downscale_stabilization_window) {
            old_sample = Some(i);
        } else if rec.recommendation > max_recommendation {
            max_recommendation = rec.recommendation;
        }
    }
    record(history, old_sample, prenormalized_desired_replicas, now);
    max_recommendation
}

/// `stabilizeRecommendationWithBehaviors`: the desired count held between the smallest
/// recommendation within the scale-up window and the largest within the scale-down window
/// (starting from the current count, so it never moves against the recommendation); records
/// the new recommendation. The reason is `ScaleUpStabilized` when the recommendation is at or
/// above the current count, else `ScaleDownStabilized`.
pub fn stabilize_recommendation_with_behaviors(
    history: &mut Vec<TimestampedRecommendation>,
    now: SimTime,
    args: &NormalizationArgs<'_>,
) -> Normalized {
    let up_window = SimDuration::from_secs(u64::from(args.scale_up.stabilization_window_seconds));
    let down_window =
        SimDuration::from_secs(u64::from(args.scale_down.stabilization_window_seconds));
    let mut up_recommendation = args.desired_replicas;
    let mut down_recommendation = args.desired_replicas;
    let mut old_sample = None;
    for (i, rec) in history.iter().enumerate() {
        if newer_than(rec.timestamp, now, up_window) {
            up_recommendation = up_recommendation.min(rec.recommendation);
        }
        if newer_than(rec.timestamp, now, down_window) {
            down_recommendation = down_recommendation.max(rec.recommendation);
        }
        if older_than(rec.timestamp, now, up_window) && older_than(rec.timestamp, now, down_window)
        {
            old_sample = Some(i);
        }
    }

    let mut recommendation = args.current_replicas;
    if recommendation < up_recommendation {
        recommendation = up_recommendation;
    }
    if recommendation > down_recommendation {
        recommendation = down_recommendation;
    }
    record(history, old_sample, args.desired_replicas, now);

    let (reason, message) = if args.desired_replicas >= args.current_replicas {
        (
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent recommendation",
        )
    } else {
        (
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
    };
    Normalized {
        replicas: recommendation,
        reason,
        message,
    }
}

/// Writes the new recommendation over the old sample, or appends it.
fn record(
    history: &mut Vec<TimestampedRecommendation>,
    old_sample: Option<usize>,
    recommendation: u32,
    now: SimTime,
) {
    let new = TimestampedRecommendation {
        recommendation,
        timestamp: now,
    };
    match old_sample.and_then(|i| history.get_mut(i)) {
        Some(slot) => *slot = new,
        None => history.push(new),
    }
}

#[cfg(test)]
mod tests {
    use super::super::behavior::{
        ScalingRules, generate_hpa_scale_down_rules, generate_hpa_scale_up_rules,
    };
    use super::*;
    use crate::controllers::hpa::spec::HpaScalingRules;

    const NOW: SimTime = SimTime(10_000_000_000);

    fn ago(recommendation: u32, seconds: u64) -> TimestampedRecommendation {
        TimestampedRecommendation {
            recommendation,
            timestamp: SimTime(NOW.0 - seconds * 1_000_000),
        }
    }

    #[test]
    fn legacy_window_holds_scale_down_only() {
        let five_minutes = SimDuration::from_secs(300);
        // (history, prenormalized, stabilized, history length after)
        let cases = [
            // Max of {4, 5, 3} within 5 minutes: 5; the new one is appended.
            (vec![ago(4, 120), ago(5, 60)], 3, 5, 3),
            // Scale-up passes: max of {1, 2, 3} is the new one.
            (vec![ago(1, 120), ago(2, 60)], 3, 3, 3),
            // Older than the window: ignored, and the last old slot is reused.
            (vec![ago(10, 600), ago(9, 540)], 3, 3, 2),
            // Exactly at the window's edge (not strictly older): still counted.
            (vec![ago(7, 300)], 3, 7, 2),
            // One second past the edge: ignored and replaced.
            (vec![ago(7, 301)], 3, 3, 1),
        ];
        for (i, (mut history, pre, want, len)) in cases.into_iter().enumerate() {
            let got = stabilize_recommendation(&mut history, NOW, five_minutes, pre);
            assert_eq!(got, want, "case {i}");
            assert_eq!(history.len(), len, "case {i}");
            assert!(history.contains(&ago(pre, 0)), "case {i}: new one recorded");
        }
    }

    fn rules(up_window: u32, down_window: u32) -> (ScalingRules, ScalingRules) {
        let with = |w| HpaScalingRules {
            stabilization_window_seconds: Some(w),
            ..HpaScalingRules::default()
        };
        (
            generate_hpa_scale_up_rules(Some(&with(up_window))),
            generate_hpa_scale_down_rules(Some(&with(down_window)), SimDuration::from_secs(300)),
        )
    }

    #[test]
    fn behavior_windows_in_both_directions() {
        const UP: &str = "ScaleUpStabilized";
        const DOWN: &str = "ScaleDownStabilized";
        // (current, desired, (up window, down window), history as (recommendation, seconds
        // ago), stabilized, reason)
        let cases = [
            // Scale-up stabilized to the lowest recent recommendation: min(7, 4, 5) = 4.
            (1, 7, (300, 0), &[(4, 120), (5, 60)], 4, UP),
            // Scale-down stabilized to the highest: max(3, 4, 5) = 5.
            (100, 3, (0, 180), &[(4, 120), (5, 60)], 5, DOWN),
            // A recommendation exactly at the window's edge is outside (strictly newer only).
            (100, 3, (0, 120), &[(4, 120), (5, 121)], 3, DOWN),
            // The desired count went down but the current count is inside [min up, max down]:
            // stays at the current 2, never scales up on a falling recommendation.
            (2, 1, (300, 300), &[(2, 6000), (3, 180)], 2, DOWN),
        ];
        for (i, (current, desired, (up, down), history, want, reason)) in
            cases.into_iter().enumerate()
        {
            let (scale_up, scale_down) = rules(up, down);
            let args = NormalizationArgs {
                scale_up: &scale_up,
                scale_down: &scale_down,
                min_replicas: 1,
                max_replicas: 1000,
                current_replicas: current,
                desired_replicas: desired,
            };
            let mut history: Vec<_> = history.iter().map(|&(r, s)| ago(r, s)).collect();
            let got = stabilize_recommendation_with_behaviors(&mut history, NOW, &args);
            assert_eq!((got.replicas, got.reason), (want, reason), "case {i}");
        }
    }

    #[test]
    fn behavior_history_reuses_a_slot_outside_both_windows() {
        let (scale_up, scale_down) = rules(60, 120);
        let args = NormalizationArgs {
            scale_up: &scale_up,
            scale_down: &scale_down,
            min_replicas: 1,
            max_replicas: 10,
            current_replicas: 3,
            desired_replicas: 3,
        };
        // 90 s old: outside the 60 s window but inside 120 s, so kept; 200 s old: replaced.
        let mut history = vec![ago(8, 200), ago(9, 90)];
        stabilize_recommendation_with_behaviors(&mut history, NOW, &args);
        assert_eq!(history, vec![ago(3, 0), ago(9, 90)]);
    }
}
