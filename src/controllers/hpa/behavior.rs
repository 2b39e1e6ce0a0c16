//! `behavior` of an autoscaling/v2 HPA: Kubernetes' default scaling rules, the history of scale
//! events, and the rate limits the policies put on each change. A port of
//! `pkg/apis/autoscaling/v2/defaults.go` (`GenerateHPAScaleUpRules`, `GenerateHPAScaleDownRules`)
//! and of `horizontal.go`'s `convertDesiredReplicasWithBehaviorRate`,
//! `calculateScaleUpLimitWithScalingRules`, `calculateScaleDownLimitWithBehaviors`,
//! `getReplicasChangePerPeriod`, `storeScaleEvent` and `markScaleEventsOutdated`.
//!
//! Use these when the HPA has a `behavior`; the legacy path (no `behavior`) is in `legacy`, and
//! the stabilization windows are in `stabilization`. Nothing here reads a clock: every function
//! takes `now`.
//!
//! Time comparisons keep upstream's strictness: a scale event counts towards a policy when it is
//! strictly newer than `now - periodSeconds` (`timestamp.After(cutoff)`), and is outdated when
//! strictly older than `now - longest period` (`Before`).

use crate::controllers::hpa::spec::{
    HpaScalingPolicy, HpaScalingRules, ScalingPolicyKind, SelectPolicy,
};
use crate::units::{MICROS_PER_SECOND, SimDuration, SimTime};

/// Scaling rules for one direction with every default filled in (upstream's `HPAScalingRules`
/// after `GenerateHPAScale{Up,Down}Rules` and `maybeInitScaleDownStabilizationWindow`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window_seconds: u32,
    /// `selectPolicy`.
    pub select_policy: SelectPolicy,
    /// `policies`.
    pub policies: Vec<HpaScalingPolicy>,
    /// `tolerance` (Kubernetes 1.33+), when given.
    pub tolerance: Option<f64>,
}

/// Kubernetes' default scale-up policies: 4 pods or 100% per 15 s, whichever is more.
pub const DEFAULT_SCALE_UP_POLICIES: [HpaScalingPolicy; 2] = [
    HpaScalingPolicy {
        kind: ScalingPolicyKind::Pods,
        value: 4,
        period_seconds: 15,
    },
    HpaScalingPolicy {
        kind: ScalingPolicyKind::Percent,
        value: 100,
        period_seconds: 15,
    },
];

/// Kubernetes' default scale-down policy: 100% per 15 s.
pub const DEFAULT_SCALE_DOWN_POLICIES: [HpaScalingPolicy; 1] = [HpaScalingPolicy {
    kind: ScalingPolicyKind::Percent,
    value: 100,
    period_seconds: 15,
}];

/// `GenerateHPAScaleUpRules`: the user's scale-up rules over the defaults (policies above,
/// selectPolicy Max, no stabilization), field by field.
pub fn generate_hpa_scale_up_rules(rules: Option<&HpaScalingRules>) -> ScalingRules {
    copy_rules(
        rules,
        ScalingRules {
            stabilization_window_seconds: 0,
            select_policy: SelectPolicy::Max,
            policies: DEFAULT_SCALE_UP_POLICIES.to_vec(),
            tolerance: None,
        },
    )
}

/// `GenerateHPAScaleDownRules` then `maybeInitScaleDownStabilizationWindow`: the user's
/// scale-down rules over the defaults (100% per 15 s, selectPolicy Max); an unset window takes
/// the controller's `--horizontal-pod-autoscaler-downscale-stabilization` (whole seconds).
pub fn generate_hpa_scale_down_rules(
    rules: Option<&HpaScalingRules>,
    downscale_stabilization_window: SimDuration,
) -> ScalingRules {
    let window_seconds = downscale_stabilization_window.as_micros() / MICROS_PER_SECOND;
    copy_rules(
        rules,
        ScalingRules {
            stabilization_window_seconds: u32::try_from(window_seconds).unwrap_or(u32::MAX),
            select_policy: SelectPolicy::Max,
            policies: DEFAULT_SCALE_DOWN_POLICIES.to_vec(),
            tolerance: None,
        },
    )
}

/// `copyHPAScalingRules`: every field the user set replaces the default.
fn copy_rules(from: Option<&HpaScalingRules>, mut to: ScalingRules) -> ScalingRules {
    let Some(from) = from else {
        return to;
    };
    if let Some(policy) = from.select_policy {
        to.select_policy = policy;
    }
    if let Some(window) = from.stabilization_window_seconds {
        to.stabilization_window_seconds = window;
    }
    if let Some(policies) = &from.policies {
        to.policies = policies.clone();
    }
    if from.tolerance.is_some() {
        to.tolerance = from.tolerance;
    }
    to
}

/// One past rescale in one direction (`timestampedScaleEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    /// Pods added (scale-up history) or removed (scale-down history).
    pub replica_change: u32,
    /// When the rescale happened.
    pub timestamp: SimTime,
    /// Older than every policy period; the slot is reused by the next event.
    pub outdated: bool,
}

/// What the HPA is normalizing (`NormalizationArg`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalizationArgs<'a> {
    /// Scale-up rules, defaults filled in.
    pub scale_up: &'a ScalingRules,
    /// Scale-down rules, defaults filled in.
    pub scale_down: &'a ScalingRules,
    /// `minReplicas`.
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// The target's current `spec.replicas`.
    pub current_replicas: u32,
    /// The replica count proposed so far.
    pub desired_replicas: u32,
}

/// A replica count with the condition reason and message that explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    /// The replica count.
    pub replicas: u32,
    /// Condition reason (`ScaleUpLimit`, `TooFewReplicas`, `DesiredWithinRange`, ...).
    pub reason: &'static str,
    /// Condition message, as upstream words it.
    pub message: &'static str,
}

/// `convertDesiredReplicasWithBehaviorRate`: the desired count limited by the policies' rates
/// and by min/max (stabilization is applied before, separately).
pub fn convert_desired_replicas_with_behavior_rate(
    args: &NormalizationArgs<'_>,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    now: SimTime,
) -> Normalized {
    let current = i64::from(args.current_replicas);
    let desired = i64::from(args.desired_replicas);
    if desired > current {
        let mut scale_up_limit = calculate_scale_up_limit_with_scaling_rules(
            args.current_replicas,
            scale_up_events,
            scale_down_events,
            args.scale_up,
            now,
        );
        if scale_up_limit < current {
            // No further scale-up until the recent scale-up events leave the period.
            scale_up_limit = current;
        }
        let mut maximum_allowed = i64::from(args.max_replicas);
        let (reason, message) = if maximum_allowed > scale_up_limit {
            maximum_allowed = scale_up_limit;
            (
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        } else {
            (
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        };
        if desired > maximum_allowed {
            return normalized(maximum_allowed, reason, message);
        }
    } else if desired < current {
        let mut scale_down_limit = calculate_scale_down_limit_with_behaviors(
            args.current_replicas,
            scale_up_events,
            scale_down_events,
            args.scale_down,
            now,
        );
        if scale_down_limit > current {
            // No further scale-down until the recent scale-down events leave the period.
            scale_down_limit = current;
        }
        let mut minimum_allowed = i64::from(args.min_replicas);
        let (reason, message) = if minimum_allowed < scale_down_limit {
            minimum_allowed = scale_down_limit;
            (
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        } else {
            (
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        };
        if desired < minimum_allowed {
            return normalized(minimum_allowed, reason, message);
        }
    }
    Normalized {
        replicas: args.desired_replicas,
        reason: "DesiredWithinRange",
        message: "the desired count is within the acceptable range",
    }
}

fn normalized(replicas: i64, reason: &'static str, message: &'static str) -> Normalized {
    Normalized {
        replicas: u32::try_from(replicas.max(0)).unwrap_or(u32::MAX),
        reason,
        message,
    }
}

/// `calculateScaleUpLimitWithScalingRules`: the most replicas the scale-up policies allow now.
///
/// Each policy starts from the count at the beginning of its period (current, minus pods added,
/// plus pods removed in it): Pods adds `value`, Percent multiplies by `1 + value/100` rounded
/// up; selectPolicy Max takes the largest proposal, Min the smallest, Disabled allows none.
pub fn calculate_scale_up_limit_with_scaling_rules(
    current_replicas: u32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
) -> i64 {
    let history = History {
        current_replicas,
        scale_up_events,
        scale_down_events,
        now,
    };
    policy_limit(Direction::Up, &history, rules)
}

/// `calculateScaleDownLimitWithBehaviors`: the fewest replicas the scale-down policies allow
/// now. Pods subtracts `value` from the count at the start of the period, Percent multiplies
/// it by `1 - value/100` truncated; selectPolicy Max takes the smallest count (the largest
/// change), Min the largest, Disabled allows none.
pub fn calculate_scale_down_limit_with_behaviors(
    current_replicas: u32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now: SimTime,
) -> i64 {
    let history = History {
        current_replicas,
        scale_up_events,
        scale_down_events,
        now,
    };
    policy_limit(Direction::Down, &history, rules)
}

/// Which way a rate limit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// The current count and the recent scale events a rate limit starts from.
struct History<'a> {
    current_replicas: u32,
    scale_up_events: &'a [ScaleEvent],
    scale_down_events: &'a [ScaleEvent],
    now: SimTime,
}

/// The loop both limit calculations run, upstream writing it out once per direction: every
/// policy proposes a count from the count at the start of its period, and selectPolicy picks
/// among the proposals, starting from the `int32` bound that never wins.
fn policy_limit(direction: Direction, history: &History<'_>, rules: &ScalingRules) -> i64 {
    let (mut result, pick): (i64, fn(i64, i64) -> i64) = match (rules.select_policy, direction) {
        (SelectPolicy::Disabled, _) => return i64::from(history.current_replicas),
        // For scaling up, the smallest change gives the smallest count.
        (SelectPolicy::Min, Direction::Up) => (i64::from(i32::MAX), i64::min),
        (SelectPolicy::Max, Direction::Up) => (i64::from(i32::MIN), i64::max),
        // For scaling down, the smallest change gives the largest count.
        (SelectPolicy::Min, Direction::Down) => (i64::from(i32::MIN), i64::max),
        (SelectPolicy::Max, Direction::Down) => (i64::from(i32::MAX), i64::min),
    };
    for policy in &rules.policies {
        let start = period_start_replicas(
            history.current_replicas,
            policy.period_seconds,
            history.scale_up_events,
            history.scale_down_events,
            history.now,
        );
        let value = i64::from(policy.value);
        let fraction = f64::from(policy.value) / 100.0;
        let proposed = match (policy.kind, direction) {
            (ScalingPolicyKind::Pods, Direction::Up) => start + value,
            // Rounded up, or a small percentage of a small count would never add a pod.
            (ScalingPolicyKind::Percent, Direction::Up) => {
                (start as f64 * (1.0 + fraction)).ceil() as i64
            }
            (ScalingPolicyKind::Pods, Direction::Down) => start - value,
            (ScalingPolicyKind::Percent, Direction::Down) => {
                (start as f64 * (1.0 - fraction)) as i64
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// The replica count at the start of a policy's period: current, minus what was added and plus
/// what was removed within it.
fn period_start_replicas(
    current_replicas: u32,
    period_seconds: u32,
    scale_up_events: &[ScaleEvent],
    scale_down_events: &[ScaleEvent],
    now: SimTime,
) -> i64 {
    i64::from(current_replicas)
        - get_replicas_change_per_period(period_seconds, scale_up_events, now)
        + get_replicas_change_per_period(period_seconds, scale_down_events, now)
}

/// `getReplicasChangePerPeriod`: the replicas changed by events strictly newer than
/// `now - period_seconds`.
pub fn get_replicas_change_per_period(
    period_seconds: u32,
    events: &[ScaleEvent],
    now: SimTime,
) -> i64 {
    let period = SimDuration::from_secs(u64::from(period_seconds));
    events
        .iter()
        .filter(|e| newer_than(e.timestamp, now, period))
        .map(|e| i64::from(e.replica_change))
        .sum()
}

/// `storeScaleEvent` for one direction: marks events older than the direction's longest policy
/// period as outdated, then records the new event in the last outdated slot, or appends it.
pub fn store_scale_event(
    events: &mut Vec<ScaleEvent>,
    rules: &ScalingRules,
    replica_change: u32,
    now: SimTime,
) {
    let longest = SimDuration::from_secs(u64::from(get_longest_policy_period(rules)));
    for event in events.iter_mut() {
        if older_than(event.timestamp, now, longest) {
            event.outdated = true;
        }
    }
    let new_event = ScaleEvent {
        replica_change,
        timestamp: now,
        outdated: false,
    };
    match events.iter().rposition(|e| e.outdated) {
        Some(slot) => events[slot] = new_event,
        None => events.push(new_event),
    }
}

/// `getLongestPolicyPeriod`: the longest `periodSeconds` of the rules' policies (0 if none).
pub fn get_longest_policy_period(rules: &ScalingRules) -> u32 {
    rules
        .policies
        .iter()
        .map(|p| p.period_seconds)
        .max()
        .unwrap_or(0)
}

/// `timestamp.After(now - window)`, without going below time zero.
pub(super) fn newer_than(timestamp: SimTime, now: SimTime, window: SimDuration) -> bool {
    timestamp.0.saturating_add(window.0) > now.0
}

/// `timestamp.Before(now - window)`, without going below time zero.
pub(super) fn older_than(timestamp: SimTime, now: SimTime, window: SimDuration) -> bool {
    timestamp.0.saturating_add(window.0) < now.0
}

#[cfg(test)]
mod tests;
