//! The limits of an HPA without `behavior`: at most `max(2 × current, 4)` replicas in one step
//! (`calculateScaleUpLimit`), then min/max (`convertDesiredReplicasWithRules`). A port of those
//! two `horizontal.go` functions; the downscale stabilization that comes before them is in
//! `stabilization`.
//!
//! Use these only when the HPA has no `behavior`; with one, `behavior` applies the policies.

use super::behavior::Normalized;

/// `scaleUpLimitFactor` of `horizontal.go`.
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// `scaleUpLimitMinimum` of `horizontal.go`.
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

/// `calculateScaleUpLimit`: `max(2 × current, 4)`.
pub fn calculate_scale_up_limit(current_replicas: u32) -> u32 {
    (SCALE_UP_LIMIT_FACTOR * f64::from(current_replicas)).max(SCALE_UP_LIMIT_MINIMUM) as u32
}

/// `convertDesiredReplicasWithRules`: the desired count clamped to `[min, min(max, scale-up
/// limit)]`, with the reason for the ScalingLimited condition.
pub fn convert_desired_replicas_with_rules(
    current_replicas: u32,
    desired_replicas: u32,
    min_replicas: u32,
    max_replicas: u32,
) -> Normalized {
    // Do not scale up too much at once: a bogus usage report must not multiply the count.
    let scale_up_limit = calculate_scale_up_limit(current_replicas);
    let (maximum_allowed, reason, message) = if max_replicas > scale_up_limit {
        (
            scale_up_limit,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    } else {
        (
            max_replicas,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    };
    if desired_replicas < min_replicas {
        return Normalized {
            replicas: min_replicas,
            reason: "TooFewReplicas",
            message: "the desired replica count is less than the minimum replica count",
        };
    }
    if desired_replicas > maximum_allowed {
        return Normalized {
            replicas: maximum_allowed,
            reason,
            message,
        };
    }
    Normalized {
        replicas: desired_replicas,
        reason: "DesiredWithinRange",
        message: "the desired count is within the acceptable range",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_up_limit_is_twice_current_but_at_least_four() {
        // (current, limit): max(2 × current, 4).
        for (current, limit) in [
            (0, 4),
            (1, 4),
            (2, 4),
            (3, 6),
            (10, 20),
            (u32::MAX, u32::MAX),
        ] {
            assert_eq!(
                calculate_scale_up_limit(current),
                limit,
                "current {current}"
            );
        }
    }

    #[test]
    fn clamps_and_the_condition_each_sets() {
        // (current, desired, min, max, replicas, reason)
        let cases = [
            // Inside [3, min(8, 10)].
            (5, 7, 3, 8, 7, "DesiredWithinRange"),
            // Below min: min wins, even when the limit is also exceeded elsewhere.
            (3, 1, 2, 8, 2, "TooFewReplicas"),
            // max 10 below the limit 40: max wins.
            (20, 1000, 1, 10, 10, "TooManyReplicas"),
            // Limit max(2 × 3, 4) = 6 below max 2000.
            (3, 1000, 1, 2000, 6, "ScaleUpLimit"),
            // From 1 the limit is the minimum 4.
            (1, 9, 1, 100, 4, "ScaleUpLimit"),
            // Max equal to the limit: TooManyReplicas (the limit must be strictly smaller).
            (4, 9, 1, 8, 8, "TooManyReplicas"),
            // Scale to zero is allowed when min is 0.
            (1, 0, 0, 10, 0, "DesiredWithinRange"),
        ];
        for (current, desired, min, max, want, reason) in cases {
            let got = convert_desired_replicas_with_rules(current, desired, min, max);
            assert_eq!(
                (got.replicas, got.reason),
                (want, reason),
                "{current}->{desired}"
            );
        }
    }
}
