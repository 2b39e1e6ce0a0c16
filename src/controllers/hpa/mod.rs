//! The Horizontal Pod Autoscaler (autoscaling/v2) as Kubernetes' controller-manager implements
//! it: `pkg/controller/podautoscaler/horizontal.go` (`reconcileAutoscaler`,
//! `computeReplicasForMetrics`, `normalizeDesiredReplicas[WithBehaviors]`) over the replica
//! calculator, the stabilization windows and the behavior rate limits.
//!
//! Use one `Hpa` per HorizontalPodAutoscaler and call `Hpa::reconcile` every sync period with
//! the target's `spec.replicas` and what the HPA observes of its pods; apply the returned
//! `HpaDecision::desired_replicas`. The `Hpa` keeps the controller's memory between syncs: the
//! recommendation history, the scale events the rate limits count, and the status conditions.
//! It does no I/O, reads no clock and emits no events.
//!
//! Files: `observation` (what the HPA sees of a pod), `replica_calculator` (one metric's
//! proposal), `metrics` (every metric's proposal combined), `stabilization` (recommendation windows), `behavior` (defaults and rate limits),
//! `legacy` (the `2 × current` limit without `behavior`), `status` (decision and conditions).
//!
//! Where upstream versions differ, capsim follows Kubernetes 1.33+ with the
//! `HPAConfigurableTolerance` feature gate (alpha in 1.33) taken as enabled:
//! `behavior.scaleUp.tolerance` and `behavior.scaleDown.tolerance` override the HPA's tolerance
//! per direction, and the band test is `(1 - down) <= ratio <= (1 + up)` (see
//! `replica_calculator` for the one ratio where that differs from `|1 - ratio| <= tolerance`). Scale-to-zero (`HPAScaleToZero`, alpha) is off: a
//! target at zero replicas disables scaling, as upstream without the gate.
//!
//! Not modelled: Object, External and ContainerResource metrics (the scenario cannot express
//! them), failures to read or update the scale subresource, and selector conflicts between HPAs.

pub mod behavior;
pub mod legacy;
mod metrics;
pub mod observation;
pub mod replica_calculator;
pub mod spec;
pub mod stabilization;
pub mod status;

pub use behavior::{
    NormalizationArgs, Normalized, ScaleEvent, ScalingRules,
    calculate_scale_down_limit_with_behaviors, calculate_scale_up_limit_with_scaling_rules,
    convert_desired_replicas_with_behavior_rate, generate_hpa_scale_down_rules,
    generate_hpa_scale_up_rules,
};
pub use legacy::{calculate_scale_up_limit, convert_desired_replicas_with_rules};
pub use observation::{ObservedPhase, PodObservation, ResourceSample};
pub use replica_calculator::{CalcError, ReplicaCalculator, Tolerances};
pub use stabilization::{
    TimestampedRecommendation, stabilize_recommendation, stabilize_recommendation_with_behaviors,
};
pub use status::{
    ConditionStatus, ConditionType, HpaCondition, HpaDecision, MetricStatus, MetricValue,
};

use crate::controllers::hpa::spec::HpaSpec;
use crate::units::{SimDuration, SimTime};

use status::set_condition;

/// Controller-manager flags of the HPA controller (the tolerance comes from `HpaSpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HpaTimings {
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5m): how long after a pod
    /// starts its CPU samples are checked against its readiness.
    pub cpu_initialization_period: SimDuration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30s): after start, how long a
    /// readiness flip still counts as the pod's initial readiness.
    pub delay_of_initial_readiness_status: SimDuration,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5m): the legacy scale-down window,
    /// and the default of `behavior.scaleDown.stabilizationWindowSeconds`.
    pub downscale_stabilization_window: SimDuration,
}

impl Default for HpaTimings {
    fn default() -> HpaTimings {
        HpaTimings {
            cpu_initialization_period: SimDuration::from_secs(300),
            delay_of_initial_readiness_status: SimDuration::from_secs(30),
            downscale_stabilization_window: SimDuration::from_secs(300),
        }
    }
}

/// Scaling rules of both directions, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
struct Behavior {
    scale_up: ScalingRules,
    scale_down: ScalingRules,
}

/// One HPA object with its controller-side memory (recommendation history, scale-up and
/// scale-down event history for rate limits, status conditions).
#[derive(Debug, Clone, PartialEq)]
pub struct Hpa {
    spec: HpaSpec,
    timings: HpaTimings,
    behavior: Option<Behavior>,
    tolerances: Tolerances,
    recommendations: Vec<TimestampedRecommendation>,
    scale_up_events: Vec<ScaleEvent>,
    scale_down_events: Vec<ScaleEvent>,
    conditions: Vec<HpaCondition>,
    last_scale_time: Option<SimTime>,
}

impl Hpa {
    /// An HPA as the API server would hold it: `behavior`, when given, completed with
    /// Kubernetes' defaults (`SetDefaults_HorizontalPodAutoscalerBehavior`).
    pub fn new(spec: HpaSpec, timings: HpaTimings) -> Hpa {
        let behavior = spec.behavior.as_ref().map(|b| Behavior {
            scale_up: generate_hpa_scale_up_rules(b.scale_up.as_ref()),
            scale_down: generate_hpa_scale_down_rules(
                b.scale_down.as_ref(),
                timings.downscale_stabilization_window,
            ),
        });
        // tolerancesForHpa: the HPA's tolerance both ways, unless behavior overrides a direction.
        let mut tolerances = Tolerances::symmetric(spec.tolerance);
        if let Some(b) = &spec.behavior {
            if let Some(t) = b.scale_down.as_ref().and_then(|r| r.tolerance) {
                tolerances.scale_down = t;
            }
            if let Some(t) = b.scale_up.as_ref().and_then(|r| r.tolerance) {
                tolerances.scale_up = t;
            }
        }
        Hpa {
            spec,
            timings,
            behavior,
            tolerances,
            recommendations: Vec::new(),
            scale_up_events: Vec::new(),
            scale_down_events: Vec::new(),
            conditions: Vec::new(),
            last_scale_time: None,
        }
    }

    /// The spec this HPA was built from.
    pub fn spec(&self) -> &HpaSpec {
        &self.spec
    }

    /// The tolerances the replica calculator applies.
    pub fn tolerances(&self) -> Tolerances {
        self.tolerances
    }

    /// Recommendations remembered for stabilization.
    pub fn recommendations(&self) -> &[TimestampedRecommendation] {
        &self.recommendations
    }

    /// Past scale-ups the rate limits count (recorded only with `behavior`).
    pub fn scale_up_events(&self) -> &[ScaleEvent] {
        &self.scale_up_events
    }

    /// Past scale-downs the rate limits count (recorded only with `behavior`).
    pub fn scale_down_events(&self) -> &[ScaleEvent] {
        &self.scale_down_events
    }

    /// The status conditions as the last sync left them.
    pub fn conditions(&self) -> &[HpaCondition] {
        &self.conditions
    }

    /// `status.lastScaleTime`.
    pub fn last_scale_time(&self) -> Option<SimTime> {
        self.last_scale_time
    }

    /// One sync, as `reconcileAutoscaler`: `current_replicas` is the target's
    /// `scale.spec.replicas`, `pods` what the HPA observes of the pods its selector matches.
    pub fn reconcile(
        &mut self,
        now: SimTime,
        current_replicas: u32,
        pods: &[PodObservation],
    ) -> HpaDecision {
        self.condition(
            now,
            ConditionType::AbleToScale,
            ConditionStatus::True,
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale".into(),
        );
        // recordInitialRecommendation: the history starts with the current count.
        if self.recommendations.is_empty() {
            self.recommendations.push(TimestampedRecommendation {
                recommendation: current_replicas,
                timestamp: now,
            });
        }
        let mut decision = HpaDecision {
            current_replicas,
            desired_replicas: current_replicas,
            rescale: false,
            reason: String::new(),
            metrics: Vec::new(),
            conditions: Vec::new(),
            error: None,
        };
        let desired = self.desired_replicas(now, current_replicas, pods, &mut decision);
        if let Some(desired) = desired.filter(|&d| d != current_replicas) {
            self.condition(
                now,
                ConditionType::AbleToScale,
                ConditionStatus::True,
                "SucceededRescale",
                format!("the HPA controller was able to update the target scale to {desired}"),
            );
            self.store_scale_event(now, current_replicas, desired);
            self.last_scale_time = Some(now);
            decision.desired_replicas = desired;
            decision.rescale = true;
        }
        decision.conditions = self.conditions.clone();
        decision
    }

    /// The replica count this sync wants, and the decision's reason, metrics and error: none
    /// when the target is at zero (scaling disabled) or no metric can be used; min or max when
    /// the target is outside them; otherwise what the metrics propose, normalized.
    fn desired_replicas(
        &mut self,
        now: SimTime,
        current_replicas: u32,
        pods: &[PodObservation],
        decision: &mut HpaDecision,
    ) -> Option<u32> {
        let min_replicas = self.spec.min_replicas;
        let max_replicas = self.spec.max_replicas;
        if current_replicas == 0 {
            self.condition(
                now,
                ConditionType::ScalingActive,
                ConditionStatus::False,
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero".into(),
            );
            None
        } else if current_replicas > max_replicas {
            decision.reason = "Current number of replicas above Spec.MaxReplicas".into();
            Some(max_replicas)
        } else if current_replicas < min_replicas {
            decision.reason = "Current number of replicas below Spec.MinReplicas".into();
            Some(min_replicas)
        } else {
            let (proposal, statuses, error) =
                self.compute_replicas_for_metrics(now, current_replicas, pods);
            decision.metrics = statuses;
            decision.error = error;
            proposal.map(|(metric_desired, metric_name)| {
                let mut desired = 0;
                let mut rescale_metric = String::new();
                if metric_desired > desired {
                    desired = metric_desired;
                    rescale_metric = metric_name;
                }
                if desired > current_replicas {
                    decision.reason = format!("{rescale_metric} above target");
                }
                if desired < current_replicas {
                    decision.reason = "All metrics below target".into();
                }
                self.normalize(now, current_replicas, desired, min_replicas)
            })
        }
    }

    /// `normalizeDesiredReplicas` (no behavior) or `normalizeDesiredReplicasWithBehaviors`:
    /// stabilization, then limits, setting AbleToScale and ScalingLimited.
    fn normalize(&mut self, now: SimTime, current: u32, prenormalized: u32, min: u32) -> u32 {
        let max = self.spec.max_replicas;
        let ready = ("ReadyForNewScale", "recommended size matches current size");
        let (stabilized, (reason, message), normalized) = match &self.behavior {
            None => {
                let stabilized = stabilize_recommendation(
                    &mut self.recommendations,
                    now,
                    self.timings.downscale_stabilization_window,
                    prenormalized,
                );
                let able = if stabilized != prenormalized {
                    (
                        "ScaleDownStabilized",
                        "recent recommendations were higher than current one, applying the highest recent recommendation",
                    )
                } else {
                    ready
                };
                let normalized = convert_desired_replicas_with_rules(current, stabilized, min, max);
                (stabilized, able, normalized)
            }
            Some(behavior) => {
                let mut args = NormalizationArgs {
                    scale_up: &behavior.scale_up,
                    scale_down: &behavior.scale_down,
                    min_replicas: min,
                    max_replicas: max,
                    current_replicas: current,
                    desired_replicas: prenormalized,
                };
                let stabilized =
                    stabilize_recommendation_with_behaviors(&mut self.recommendations, now, &args);
                let able = if stabilized.replicas != prenormalized {
                    (stabilized.reason, stabilized.message)
                } else {
                    ready
                };
                args.desired_replicas = stabilized.replicas;
                let normalized = convert_desired_replicas_with_behavior_rate(
                    &args,
                    &self.scale_up_events,
                    &self.scale_down_events,
                    now,
                );
                (stabilized.replicas, able, normalized)
            }
        };
        // The limits are pure, so AbleToScale is set once for both paths, after them.
        self.condition(
            now,
            ConditionType::AbleToScale,
            ConditionStatus::True,
            reason,
            message.into(),
        );
        let limited = if normalized.replicas == stabilized {
            ConditionStatus::False
        } else {
            ConditionStatus::True
        };
        self.condition(
            now,
            ConditionType::ScalingLimited,
            limited,
            normalized.reason,
            normalized.message.into(),
        );
        normalized.replicas
    }

    /// `storeScaleEvent`: only an HPA with `behavior` keeps scale events.
    fn store_scale_event(&mut self, now: SimTime, previous: u32, new: u32) {
        let Some(behavior) = &self.behavior else {
            return;
        };
        if new > previous {
            behavior::store_scale_event(
                &mut self.scale_up_events,
                &behavior.scale_up,
                new - previous,
                now,
            );
        } else {
            behavior::store_scale_event(
                &mut self.scale_down_events,
                &behavior.scale_down,
                previous - new,
                now,
            );
        }
    }

    fn condition(
        &mut self,
        now: SimTime,
        kind: ConditionType,
        status: ConditionStatus,
        reason: &'static str,
        message: String,
    ) {
        set_condition(&mut self.conditions, now, kind, status, reason, message);
    }
}

#[cfg(test)]
mod tests;
