//! Table tests of the behavior rules, each with the arithmetic it expects.

use super::*;

const NOW: SimTime = SimTime(10_000_000_000);

fn pods(value: u32, period_seconds: u32) -> HpaScalingPolicy {
    HpaScalingPolicy {
        kind: ScalingPolicyKind::Pods,
        value,
        period_seconds,
    }
}

fn percent(value: u32, period_seconds: u32) -> HpaScalingPolicy {
    HpaScalingPolicy {
        kind: ScalingPolicyKind::Percent,
        value,
        period_seconds,
    }
}

fn rules(select_policy: SelectPolicy, policies: Vec<HpaScalingPolicy>) -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: 0,
        select_policy,
        policies,
        tolerance: None,
    }
}

/// An event `seconds` before `NOW`.
fn event(replica_change: u32, seconds: u64) -> ScaleEvent {
    ScaleEvent {
        replica_change,
        timestamp: SimTime(NOW.0 - seconds * 1_000_000),
        outdated: false,
    }
}

#[test]
fn defaults_fill_only_what_the_user_left_out() {
    let up = generate_hpa_scale_up_rules(None);
    assert_eq!(up.policies, DEFAULT_SCALE_UP_POLICIES.to_vec());
    assert_eq!(
        (up.select_policy, up.stabilization_window_seconds),
        (SelectPolicy::Max, 0)
    );
    // The scale-down window comes from the controller flag when unset.
    let down = generate_hpa_scale_down_rules(None, SimDuration::from_secs(300));
    assert_eq!(down.policies, DEFAULT_SCALE_DOWN_POLICIES.to_vec());
    assert_eq!(
        (down.select_policy, down.stabilization_window_seconds),
        (SelectPolicy::Max, 300)
    );
    // Only selectPolicy given: the default policies stay.
    let min_only = HpaScalingRules {
        select_policy: Some(SelectPolicy::Min),
        tolerance: Some(0.05),
        ..HpaScalingRules::default()
    };
    let up = generate_hpa_scale_up_rules(Some(&min_only));
    assert_eq!(up.select_policy, SelectPolicy::Min);
    assert_eq!(up.policies, DEFAULT_SCALE_UP_POLICIES.to_vec());
    assert_eq!(up.tolerance, Some(0.05));
    // Only a window given: it overrides the flag; policies given replace the defaults.
    let user = HpaScalingRules {
        stabilization_window_seconds: Some(60),
        policies: Some(vec![pods(1, 30)]),
        ..HpaScalingRules::default()
    };
    let down = generate_hpa_scale_down_rules(Some(&user), SimDuration::from_secs(300));
    assert_eq!(down.stabilization_window_seconds, 60);
    assert_eq!(down.policies, vec![pods(1, 30)]);
    assert_eq!(down.select_policy, SelectPolicy::Max);
}

#[test]
fn select_policy_picks_among_proposals() {
    let both = vec![pods(4, 60), percent(50, 60)];
    // (select, up limit from 10, down limit from 10)
    let cases = [
        // Up: Pods 10 + 4 = 14, Percent ceil(10 × 1.5) = 15; Max takes 15.
        // Down: Pods 10 - 4 = 6, Percent trunc(10 × 0.5) = 5; Max (largest change) takes 5.
        (SelectPolicy::Max, 15, 5),
        // Min: the smallest change, 14 up and 6 down.
        (SelectPolicy::Min, 14, 6),
        // Disabled: the current count both ways.
        (SelectPolicy::Disabled, 10, 10),
    ];
    for (select, up, down) in cases {
        let r = rules(select, both.clone());
        assert_eq!(
            calculate_scale_up_limit_with_scaling_rules(10, &[], &[], &r, NOW),
            up,
            "{select:?}"
        );
        assert_eq!(
            calculate_scale_down_limit_with_behaviors(10, &[], &[], &r, NOW),
            down,
            "{select:?}"
        );
    }
    // Kubernetes' own Min cases: up from 1 with Pods 2 / Percent 50: min(3, ceil(1.5) = 2) = 2;
    // down from 5: max(5 - 2 = 3, trunc(2.5) = 2) = 3.
    let r = rules(SelectPolicy::Min, vec![pods(2, 60), percent(50, 60)]);
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(1, &[], &[], &r, NOW),
        2
    );
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(5, &[], &[], &r, NOW),
        3
    );
}

#[test]
fn percent_rounds_up_on_scale_up_and_truncates_on_scale_down() {
    // Up from 3 by 10%: ceil(3.3) = 4, so a small percentage still adds a pod.
    let up = rules(SelectPolicy::Max, vec![percent(10, 60)]);
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(3, &[], &[], &up, NOW),
        4
    );
    // Down from 7 by 50%: trunc(3.5) = 3.
    let down = rules(SelectPolicy::Max, vec![percent(50, 60)]);
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(7, &[], &[], &down, NOW),
        3
    );
    // Down by 1000% goes below zero: trunc(10 × -9) = -90; the caller clamps.
    let down = rules(SelectPolicy::Max, vec![percent(1000, 60)]);
    assert_eq!(
        calculate_scale_down_limit_with_behaviors(10, &[], &[], &down, NOW),
        -90
    );
}

#[test]
fn events_count_within_their_policy_period() {
    let ups = [event(5, 30), event(3, 90), event(7, 60)];
    // Strictly newer than 60 s ago: only the 5 (the 7 is exactly 60 s old).
    assert_eq!(get_replicas_change_per_period(60, &ups, NOW), 5);
    assert_eq!(get_replicas_change_per_period(120, &ups, NOW), 15);
    // Pods 4 per 60 s from 20: the period started at 20 - 5 = 15, so the limit is 19.
    let r = rules(SelectPolicy::Max, vec![pods(4, 60)]);
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(20, &ups, &[], &r, NOW),
        19
    );
    // Per 120 s: 20 - 15 + 4 = 9.
    let r = rules(SelectPolicy::Max, vec![pods(4, 120)]);
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(20, &ups, &[], &r, NOW),
        9
    );
    // A recent scale-down raises the period's starting point: 10 + 3 + 4 = 17.
    let r = rules(SelectPolicy::Max, vec![pods(4, 60)]);
    let downs = [event(3, 10)];
    assert_eq!(
        calculate_scale_up_limit_with_scaling_rules(10, &[], &downs, &r, NOW),
        17
    );
    // Events at time zero still count early in the run (no cutoff below zero).
    let early = [ScaleEvent {
        replica_change: 2,
        timestamp: SimTime::ZERO,
        outdated: false,
    }];
    assert_eq!(
        get_replicas_change_per_period(60, &early, SimTime(1_000_000)),
        2
    );
}

/// One case of `convert_desired_replicas_with_behavior_rate`.
struct RateCase<'a> {
    current: u32,
    desired: u32,
    min: u32,
    max: u32,
    up: &'a ScalingRules,
    down: &'a ScalingRules,
    down_events: Vec<ScaleEvent>,
    want: (u32, &'static str),
}

#[test]
fn rate_conversion_and_the_condition_each_sets() {
    let default_up = generate_hpa_scale_up_rules(None);
    let default_down = generate_hpa_scale_down_rules(None, SimDuration::from_secs(300));
    let disabled = rules(SelectPolicy::Disabled, vec![pods(1, 60)]);
    let pods_5_per_min = rules(SelectPolicy::Max, vec![pods(5, 60)]);
    let case = |current, desired, min, max, up, down, want| RateCase {
        current,
        desired,
        min,
        max,
        up,
        down,
        down_events: vec![],
        want,
    };
    let cases = [
        // Defaults from 10: max(10 + 4, 10 × 2) = 20 < 50.
        case(
            10,
            50,
            1,
            1000,
            &default_up,
            &default_down,
            (20, "ScaleUpLimit"),
        ),
        // Limit 20 above max 15: max wins.
        case(
            10,
            50,
            1,
            15,
            &default_up,
            &default_down,
            (15, "TooManyReplicas"),
        ),
        // Within the limit and the range.
        case(
            10,
            12,
            1,
            1000,
            &default_up,
            &default_down,
            (12, "DesiredWithinRange"),
        ),
        // Default scale-down (100% per 15 s) allows 0; min 3 holds.
        case(
            10,
            1,
            3,
            1000,
            &default_up,
            &default_down,
            (3, "TooFewReplicas"),
        ),
        // 5 pods per minute from 10: 5.
        case(
            10,
            1,
            1,
            1000,
            &default_up,
            &pods_5_per_min,
            (5, "ScaleDownLimit"),
        ),
        // 5 already removed this minute: limit 10 + 5 - 5 = 10, no further scale-down.
        RateCase {
            down_events: vec![event(5, 20)],
            ..case(
                10,
                1,
                1,
                1000,
                &default_up,
                &pods_5_per_min,
                (10, "ScaleDownLimit"),
            )
        },
        // More removed than allowed (limit 12 > 10): held at the current count.
        RateCase {
            down_events: vec![event(7, 20)],
            ..case(
                10,
                1,
                1,
                1000,
                &default_up,
                &pods_5_per_min,
                (10, "ScaleDownLimit"),
            )
        },
        // Scale-up disabled: stays at 10.
        case(
            10,
            50,
            1,
            1000,
            &disabled,
            &default_down,
            (10, "ScaleUpLimit"),
        ),
        // Scale-down disabled: stays at 10.
        case(
            10,
            2,
            1,
            1000,
            &default_up,
            &disabled,
            (10, "ScaleDownLimit"),
        ),
    ];
    for (i, c) in cases.into_iter().enumerate() {
        let args = NormalizationArgs {
            scale_up: c.up,
            scale_down: c.down,
            min_replicas: c.min,
            max_replicas: c.max,
            current_replicas: c.current,
            desired_replicas: c.desired,
        };
        let got = convert_desired_replicas_with_behavior_rate(&args, &[], &c.down_events, NOW);
        assert_eq!((got.replicas, got.reason), c.want, "case {i}");
    }
}

#[test]
fn stored_events_reuse_outdated_slots() {
    // Kubernetes' TestStoreScaleEvents "replace one entry, use policies with different periods":
    // longest period 60 s, so the two 61 s old events are outdated and the last one is reused.
    let r = rules(SelectPolicy::Max, vec![pods(10, 60), percent(100, 30)]);
    let mut events = vec![event(8, 29), event(6, 59), event(7, 61), event(9, 61)];
    assert_eq!(get_replicas_change_per_period(60, &events, NOW), 14);
    store_scale_event(&mut events, &r, 5, NOW);
    let summary: Vec<(u32, bool)> = events
        .iter()
        .map(|e| (e.replica_change, e.outdated))
        .collect();
    assert_eq!(summary, [(8, false), (6, false), (7, true), (5, false)]);
    assert_eq!(events[3].timestamp, NOW);
    // "two entries, both actual": longest period 120 s, nothing outdated, appended.
    let r = rules(SelectPolicy::Max, vec![pods(10, 120), percent(100, 30)]);
    let mut events = vec![event(7, 58), event(6, 59)];
    assert_eq!(get_replicas_change_per_period(60, &events, NOW), 13);
    store_scale_event(&mut events, &r, 5, NOW);
    assert_eq!(events.len(), 3);
    assert_eq!(get_longest_policy_period(&r), 120);
}
