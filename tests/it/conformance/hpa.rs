//! `hpa_*` sections: the HPA controller against the cases transcribed from Kubernetes'
//! `replica_calculator_test.go` and `horizontal_test.go`.
//!
//! Each runner calls one of capsim's own HPA functions per case, the one the upstream test
//! calls. The data's conventions are read by the small parsing functions at the end, each
//! saying which `meta` note it follows.

use std::fmt::Display;

use serde_json::Value;

use capsim::controllers::hpa::spec::{
    HpaMetric, HpaScalingPolicy, HpaScalingRules, HpaSpec, ResourceName, ScalingPolicyKind,
    SelectPolicy, SyncOffset,
};
use capsim::controllers::hpa::{
    self, Hpa, HpaTimings, NormalizationArgs, ObservedPhase, PodObservation, ReplicaCalculator,
    ResourceSample, ScaleEvent, ScalingRules, TimestampedRecommendation, Tolerances,
};
use capsim::units::{Bytes, Millicores, Resources, SimDuration, SimTime};

use super::{Mismatch, SectionReport, field, list, string};

/// `hpa_replica_calculator`: `GetResourceReplicas` (CPU utilization) with the harness of
/// `meta.hpa_replica_calculator_harness`; checks replicas, utilization and the raw average.
pub(super) fn hpa_replica_calculator(cases: &[Value], meta: &Value) -> SectionReport {
    let harness = match Harness::from_meta(meta) {
        Ok(harness) => harness,
        Err(problem) => return bad_section("hpa_replica_calculator", cases, &problem),
    };
    run("hpa_replica_calculator", cases, |case| {
        let pods = list(case, "pods")?
            .iter()
            .map(|p| harness.pod(p))
            .collect::<Result<Vec<_>, _>>()?;
        let got = harness
            .calculator
            .get_resource_replicas(
                harness_now(),
                whole(case, "currentReplicas")?,
                whole(case, "targetUtilization")?,
                ResourceName::Cpu,
                Tolerances::symmetric(harness.tolerance),
                &pods,
            )
            .map_err(|e| format!("GetResourceReplicas failed: {e}"))?;
        Ok(vec![
            check("replicas", integer(case, "expectedReplicas")?, got.replicas),
            check(
                "utilization",
                integer(case, "expectedUtilization")?,
                got.utilization_percent,
            ),
            check(
                "raw value (milli per pod)",
                integer(case, "expectedRawValue_milli_per_pod")?,
                got.raw_average_milli,
            ),
        ])
    })
}

/// `hpa_behavior_rate_limits`: `convertDesiredReplicasWithBehaviorRate` (`TestScalingWithRules`)
/// with the case's rules and past scale events; checks replicas and the condition reason, and
/// that Kubernetes' defaults, where the case names them, are the ones capsim generates.
pub(super) fn hpa_behavior_rate_limits(cases: &[Value], _meta: &Value) -> SectionReport {
    run("hpa_behavior_rate_limits", cases, |case| {
        let now = harness_now();
        let mut checks = Vec::new();
        let scale_up = rules(field(case, "scaleUpRules")?, Direction::Up, &mut checks)?;
        let scale_down = rules(field(case, "scaleDownRules")?, Direction::Down, &mut checks)?;
        let up_events = events(case, "scaleUpEvents", now)?;
        let down_events = events(case, "scaleDownEvents", now)?;
        let args = NormalizationArgs {
            scale_up: &scale_up,
            scale_down: &scale_down,
            min_replicas: whole(case, "minReplicas")?,
            max_replicas: whole(case, "maxReplicas")?,
            current_replicas: whole(case, "currentReplicas")?,
            desired_replicas: whole(case, "prenormalizedDesiredReplicas")?,
        };
        let got =
            hpa::convert_desired_replicas_with_behavior_rate(&args, &up_events, &down_events, now);
        checks.push(check(
            "replicas",
            integer(case, "expectedReplicas")?,
            got.replicas,
        ));
        checks.push(check(
            "condition",
            text(case, "expectedCondition")?,
            got.reason,
        ));
        Ok(checks)
    })
}

/// `hpa_behavior_stabilization`: `stabilizeRecommendationWithBehaviors`
/// (`TestNormalizeDesiredReplicasWithBehavior`) over the case's recommendation history.
pub(super) fn hpa_behavior_stabilization(cases: &[Value], _meta: &Value) -> SectionReport {
    run("hpa_behavior_stabilization", cases, |case| {
        let now = harness_now();
        let mut history = recommendations(case, now)?;
        let window = |key| -> Result<HpaScalingRules, String> {
            Ok(HpaScalingRules {
                stabilization_window_seconds: Some(whole(case, key)?),
                ..HpaScalingRules::default()
            })
        };
        let scale_up =
            hpa::generate_hpa_scale_up_rules(Some(&window("scaleUpStabilizationWindowSeconds")?));
        let scale_down = hpa::generate_hpa_scale_down_rules(
            Some(&window("scaleDownStabilizationWindowSeconds")?),
            HpaTimings::default().downscale_stabilization_window,
        );
        let args = NormalizationArgs {
            scale_up: &scale_up,
            scale_down: &scale_down,
            // Stabilization does not look at the bounds.
            min_replicas: 0,
            max_replicas: u32::MAX,
            current_replicas: whole(case, "currentReplicas")?,
            desired_replicas: whole(case, "prenormalizedDesiredReplicas")?,
        };
        let got = hpa::stabilize_recommendation_with_behaviors(&mut history, now, &args);
        Ok(vec![check(
            "stabilized replicas",
            integer(case, "expectedStabilizedReplicas")?,
            got.replicas,
        )])
    })
}

/// `hpa_legacy_stabilization`: `stabilizeRecommendation` (`TestNormalizeDesiredReplicas`, no
/// `behavior`); checks the stabilized count and the history's length afterwards.
pub(super) fn hpa_legacy_stabilization(cases: &[Value], _meta: &Value) -> SectionReport {
    run("hpa_legacy_stabilization", cases, |case| {
        let now = harness_now();
        let mut history = recommendations(case, now)?;
        let window = SimDuration::from_secs(integer(case, "downscaleStabilisationWindowSeconds")?);
        let got = hpa::stabilize_recommendation(
            &mut history,
            now,
            window,
            whole(case, "prenormalizedDesiredReplicas")?,
        );
        Ok(vec![
            check(
                "stabilized replicas",
                integer(case, "expectedStabilizedReplicas")?,
                got,
            ),
            check(
                "log length",
                integer(case, "expectedLogLength")?,
                history.len(),
            ),
        ])
    })
}

/// `hpa_legacy_convert_rules`: `convertDesiredReplicasWithRules`
/// (`TestConvertDesiredReplicasWithRules`); checks replicas and the condition reason.
pub(super) fn hpa_legacy_convert_rules(cases: &[Value], _meta: &Value) -> SectionReport {
    run("hpa_legacy_convert_rules", cases, |case| {
        // The data's 6 for "scaleUpLimit < maxReplicas" is the production factor 2
        // (max(2 × 3, 4)); Kubernetes' test file computes its expectation with
        // calculateScaleUpLimit under an init() that sets the factor to 8, so there it is 24.
        let got = hpa::convert_desired_replicas_with_rules(
            whole(case, "currentReplicas")?,
            whole(case, "desiredReplicas")?,
            whole(case, "minReplicas")?,
            whole(case, "maxReplicas")?,
        );
        Ok(vec![
            check("replicas", integer(case, "expectedReplicas")?, got.replicas),
            check("condition", text(case, "expectedCondition")?, got.reason),
        ])
    })
}

/// `hpa_policy_limit_functions`: the limit function each case's test names, with its policies.
pub(super) fn hpa_policy_limit_functions(cases: &[Value], _meta: &Value) -> SectionReport {
    run("hpa_policy_limit_functions", cases, |case| {
        let now = harness_now();
        let rules = ScalingRules {
            stabilization_window_seconds: 0,
            select_policy: select_policy(&text(case, "selectPolicy")?)?,
            policies: policies(case)?,
            tolerance: None,
        };
        // The case's events are the history of the direction its function limits.
        let history = events(case, "events", now)?;
        let current = whole(case, "currentReplicas")?;
        let got = match text(case, "test")?.as_str() {
            "TestCalculateScaleUpLimitWithScalingRules" => {
                hpa::calculate_scale_up_limit_with_scaling_rules(
                    current,
                    &history,
                    &[],
                    &rules,
                    now,
                )
            }
            "TestCalculateScaleDownLimitWithBehaviors" => {
                hpa::calculate_scale_down_limit_with_behaviors(current, &[], &history, &rules, now)
            }
            other => return Err(format!("no runner for test {other}")),
        };
        Ok(vec![check("limit", signed(case, "expected")?, got)])
    })
}

/// `hpa_controller_clamp`: a whole `reconcileAutoscaler` sync of a target outside
/// `[minReplicas, maxReplicas]` (`TestScaleUpRCImmediately`, `TestScaleDownRCImmediately`);
/// checks the desired count and, as the notes say, that no metric was read.
pub(super) fn hpa_controller_clamp(cases: &[Value], _meta: &Value) -> SectionReport {
    run("hpa_controller_clamp", cases, |case| {
        let spec = HpaSpec {
            service: 0,
            min_replicas: whole(case, "minReplicas")?,
            max_replicas: whole(case, "maxReplicas")?,
            // Any metric: the bound decides before metrics are read.
            metrics: vec![HpaMetric::ResourceUtilization {
                resource: ResourceName::Cpu,
                average_utilization_percent: 50,
            }],
            behavior: None,
            sync_period: SimDuration::from_secs(15),
            sync_offset: SyncOffset::Fixed(SimDuration::ZERO),
            tolerance: 0.1,
        };
        let mut hpa = Hpa::new(spec, HpaTimings::default());
        let decision = hpa.reconcile(harness_now(), whole(case, "specReplicas")?, &[]);
        Ok(vec![
            check(
                "desired replicas",
                integer(case, "expectedDesiredReplicas")?,
                decision.desired_replicas,
            ),
            check("metrics read", 0, decision.metrics.len()),
        ])
    })
}

/// One compared value of a case.
struct Check {
    place: String,
    expected: String,
    actual: String,
}

fn check(place: &str, expected: impl Display, actual: impl Display) -> Check {
    Check {
        place: place.to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

/// Runs `case_checks` on every case, labelled `section / test`, and compares what it returns.
fn run(
    section: &str,
    cases: &[Value],
    case_checks: impl Fn(&Value) -> Result<Vec<Check>, String>,
) -> SectionReport {
    let mut report = SectionReport::default();
    for (i, case) in cases.iter().enumerate() {
        let label = format!("{section} / {}", case_title(case, i));
        match case_checks(case) {
            Err(problem) => report.mismatches.push(Mismatch::bad_data(&label, &problem)),
            Ok(checks) => {
                for c in checks {
                    report.checked += 1;
                    if c.expected != c.actual {
                        report.mismatches.push(Mismatch {
                            case: label.clone(),
                            place: c.place,
                            expected: c.expected,
                            actual: c.actual,
                        });
                    }
                }
            }
        }
    }
    report
}

/// Every case reported as unreadable, when the section cannot be run at all.
fn bad_section(section: &str, cases: &[Value], problem: &str) -> SectionReport {
    let mut report = SectionReport::default();
    for (i, case) in cases.iter().enumerate() {
        let label = format!("{section} / {}", case_title(case, i));
        report.mismatches.push(Mismatch::bad_data(&label, problem));
    }
    report
}

fn case_title(case: &Value, index: usize) -> String {
    case.get("test")
        .and_then(Value::as_str)
        .map_or_else(|| format!("case {index}"), str::to_string)
}

/// The instant every case is evaluated at. Upstream's tests run at `time.Now()` with pods
/// started at Go's zero time (year 1); capsim's time starts at 0, so its zero time is
/// `SimTime::ZERO` and "now" is a day later: past any initialization period, and far enough
/// for every `secondsAgo` in the data.
fn harness_now() -> SimTime {
    SimTime(86_400 * 1_000_000)
}

/// `meta.hpa_replica_calculator_harness`: how `replica_calculator_test.go` builds its pods.
struct Harness {
    calculator: ReplicaCalculator,
    tolerance: f64,
    /// `containersPerPod`: each container requests and uses the case's per-container numbers.
    containers: u64,
}

impl Harness {
    fn from_meta(meta: &Value) -> Result<Harness, String> {
        let h = field(meta, "hpa_replica_calculator_harness").map_err(|e| format!("meta: {e}"))?;
        let seconds =
            |key| -> Result<SimDuration, String> { Ok(SimDuration::from_secs(integer(h, key)?)) };
        Ok(Harness {
            calculator: ReplicaCalculator {
                cpu_initialization_period: seconds("cpuInitializationPeriod_s")?,
                delay_of_initial_readiness_status: seconds("delayOfInitialReadinessStatus_s")?,
            },
            tolerance: field(h, "tolerance")?
                .as_f64()
                .ok_or("meta tolerance is not a number")?,
            containers: integer(h, "containersPerPod")?,
        })
    }

    /// One pod of a case. Per the harness notes: the pod requests and uses `containersPerPod`
    /// times the per-container numbers; a `null` usage is a pod beyond the levels list, with
    /// no metric; the PodReady condition last changed at zero time; the sample is stamped at
    /// zero time with a one-minute window (so 'hot' pods read as unready).
    fn pod(&self, p: &Value) -> Result<PodObservation, String> {
        let request = cores_to_millicores(&text(p, "container_request_cores")?)?;
        let usage = match field(p, "container_usage_milli")? {
            Value::Null => None,
            v => Some(
                v.as_u64()
                    .ok_or(format!("usage is not a whole number: {v}"))?,
            ),
        };
        Ok(PodObservation {
            phase: phase(&text(p, "phase")?)?,
            deleting: field(p, "deletionTimestamp")?
                .as_bool()
                .ok_or("deletionTimestamp is not a boolean")?,
            start_time: Some(start_time(&text(p, "startTime")?)?),
            ready: readiness(&text(p, "readiness")?)?,
            ready_transition: SimTime::ZERO,
            requests: Resources::new(request * self.containers, 0),
            has_cpu_request: true,
            has_memory_request: false,
            usage: usage.map(|u| ResourceSample {
                timestamp: SimTime::ZERO,
                window: SimDuration::from_secs(60),
                cpu: Millicores(u * self.containers),
                memory: Bytes(0),
            }),
            requests_per_second: None,
            in_flight_requests: None,
        })
    }
}

/// `startTime`: "zero (long ago)" is Go's zero time; "hot" is now and "cool" three minutes ago
/// (`hotCPUCreationTime`, `coolCPUCreationTime` of the upstream test).
fn start_time(label: &str) -> Result<SimTime, String> {
    let now = harness_now();
    match label {
        "hot" => Ok(now),
        "cool" => Ok(SimTime(now.0 - 180 * 1_000_000)),
        zero if zero.starts_with("zero") => Ok(SimTime::ZERO),
        other => Err(format!("unknown startTime {other:?}")),
    }
}

fn readiness(status: &str) -> Result<bool, String> {
    match status {
        "True" => Ok(true),
        "False" => Ok(false),
        other => Err(format!("unknown readiness {other:?}")),
    }
}

fn phase(name: &str) -> Result<ObservedPhase, String> {
    match name {
        "Running" => Ok(ObservedPhase::Running),
        "Pending" => Ok(ObservedPhase::Pending),
        "Failed" => Ok(ObservedPhase::Failed),
        other => Err(format!("unknown phase {other:?}")),
    }
}

/// A decimal core count ("0.9", "1.0", "2") in millicores, exactly.
fn cores_to_millicores(cores: &str) -> Result<u64, String> {
    let bad = || format!("{cores:?} is not a core count");
    let (whole_part, fraction) = cores.split_once('.').unwrap_or((cores, ""));
    if fraction.len() > 3 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole_cores: u64 = whole_part.parse().map_err(|_| bad())?;
    let milli: u64 = format!("{fraction:0<3}").parse().map_err(|_| bad())?;
    Ok(whole_cores * 1000 + milli)
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

/// Scaling rules as a case gives them: an object with every field, or a text naming
/// Kubernetes' generated defaults, such as "default (GenerateHPAScaleUpRules(nil): Pods 4/15s,
/// Percent 100/15s, Max, stab 0)". Either way the rules go through capsim's own generator;
/// for a text, what it claims about the defaults is added to `checks`.
fn rules(
    value: &Value,
    direction: Direction,
    checks: &mut Vec<Check>,
) -> Result<ScalingRules, String> {
    let generate = |user: Option<&HpaScalingRules>| match direction {
        Direction::Up => hpa::generate_hpa_scale_up_rules(user),
        Direction::Down => hpa::generate_hpa_scale_down_rules(
            user,
            HpaTimings::default().downscale_stabilization_window,
        ),
    };
    if let Some(description) = value.as_str() {
        let generated = generate(None);
        checks.extend(default_claims(description, &generated)?);
        return Ok(generated);
    }
    // An object is the user's rules: a field it leaves out takes Kubernetes' default.
    let user = HpaScalingRules {
        stabilization_window_seconds: optional(value, "stabilizationWindowSeconds", whole)?,
        select_policy: optional(value, "selectPolicy", |v, k| select_policy(&text(v, k)?))?,
        policies: optional(value, "policies", |v, _| policies(v))?,
        tolerance: None,
    };
    Ok(generate(Some(&user)))
}

/// Compares each claim of a "default (Generate...(nil): claim, claim, ...)" text with the
/// rules capsim generated: `Pods 4/15s` and `Percent 100/15s` are policies (and the count of
/// them must match), `Max`/`Min`/`Disabled` the select policy, `stab N` the window.
fn default_claims(description: &str, generated: &ScalingRules) -> Result<Vec<Check>, String> {
    let claims = description
        .strip_prefix("default (")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|inner| inner.split_once(": "))
        .map(|(_, claims)| claims)
        .ok_or_else(|| format!("unreadable default rules {description:?}"))?;
    let mut checks = Vec::new();
    let mut policy_claims = 0;
    for claim in claims.split(", ") {
        if let Some(seconds) = claim.strip_prefix("stab ") {
            checks.push(check(
                "default stabilization window",
                seconds,
                generated.stabilization_window_seconds,
            ));
        } else if let Some((kind, rate)) = claim.split_once(' ') {
            let (value, period) = rate
                .strip_suffix('s')
                .and_then(|r| r.split_once('/'))
                .ok_or_else(|| format!("unreadable default policy {claim:?}"))?;
            let policy = HpaScalingPolicy {
                kind: policy_kind(kind)?,
                value: value
                    .parse()
                    .map_err(|_| format!("bad value in {claim:?}"))?,
                period_seconds: period
                    .parse()
                    .map_err(|_| format!("bad period in {claim:?}"))?,
            };
            policy_claims += 1;
            let present = generated.policies.contains(&policy);
            checks.push(check(
                &format!("default policy {claim}"),
                "present",
                if present { "present" } else { "absent" },
            ));
        } else {
            let select = select_policy(claim)?;
            checks.push(check(
                "default select policy",
                format!("{select:?}"),
                format!("{:?}", generated.select_policy),
            ));
        }
    }
    checks.push(check(
        "default policy count",
        policy_claims,
        generated.policies.len(),
    ));
    Ok(checks)
}

fn policies(value: &Value) -> Result<Vec<HpaScalingPolicy>, String> {
    list(value, "policies")?
        .iter()
        .map(|p| {
            Ok(HpaScalingPolicy {
                kind: policy_kind(&text(p, "type")?)?,
                value: whole(p, "value")?,
                period_seconds: whole(p, "periodSeconds")?,
            })
        })
        .collect()
}

fn policy_kind(name: &str) -> Result<ScalingPolicyKind, String> {
    match name {
        "Pods" => Ok(ScalingPolicyKind::Pods),
        "Percent" => Ok(ScalingPolicyKind::Percent),
        other => Err(format!("unknown policy type {other:?}")),
    }
}

fn select_policy(name: &str) -> Result<SelectPolicy, String> {
    match name {
        "Max" => Ok(SelectPolicy::Max),
        "Min" => Ok(SelectPolicy::Min),
        "Disabled" => Ok(SelectPolicy::Disabled),
        other => Err(format!("unknown select policy {other:?}")),
    }
}

/// Scale events `{replicaChange, secondsAgo}`. `meta.event_timing`: the data already holds
/// each event's `secondsAgo` as `generateEventsUniformDistribution` placed it (whole seconds).
fn events(case: &Value, key: &str, now: SimTime) -> Result<Vec<ScaleEvent>, String> {
    list(case, key)?
        .iter()
        .map(|e| {
            Ok(ScaleEvent {
                replica_change: whole(e, "replicaChange")?,
                timestamp: seconds_ago(now, integer(e, "secondsAgo")?)?,
                outdated: false,
            })
        })
        .collect()
}

/// The recommendation history `{recommendation, secondsAgo}` of a stabilization case.
fn recommendations(case: &Value, now: SimTime) -> Result<Vec<TimestampedRecommendation>, String> {
    list(case, "recommendations")?
        .iter()
        .map(|r| {
            Ok(TimestampedRecommendation {
                recommendation: whole(r, "recommendation")?,
                timestamp: seconds_ago(now, integer(r, "secondsAgo")?)?,
            })
        })
        .collect()
}

fn seconds_ago(now: SimTime, seconds: u64) -> Result<SimTime, String> {
    seconds
        .checked_mul(1_000_000)
        .and_then(|us| now.0.checked_sub(us))
        .map(SimTime)
        .ok_or_else(|| format!("{seconds} s ago is before the harness's time zero"))
}

fn integer(object: &Value, key: &str) -> Result<u64, String> {
    let v = field(object, key)?;
    v.as_u64()
        .ok_or_else(|| format!("{key} is not a whole number: {v}"))
}

fn whole(object: &Value, key: &str) -> Result<u32, String> {
    u32::try_from(integer(object, key)?).map_err(|_| format!("{key} does not fit a replica count"))
}

fn signed(object: &Value, key: &str) -> Result<i64, String> {
    let v = field(object, key)?;
    v.as_i64()
        .ok_or_else(|| format!("{key} is not an integer: {v}"))
}

/// `read(object, key)` when the key is present.
fn optional<T>(
    object: &Value,
    key: &str,
    read: impl Fn(&Value, &str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    object.get(key).map(|_| read(object, key)).transpose()
}

fn text(object: &Value, key: &str) -> Result<String, String> {
    string(object, key)?.ok_or_else(|| format!("{key} is missing"))
}

#[test]
fn every_mismatching_hpa_value_is_reported() {
    // Both expectations of the first case are wrong, the second case cannot be read, and the
    // third names Kubernetes' defaults wrongly: four mismatches, each with its place.
    let cases: Value = serde_json::from_str(
        r#"[
          {"test": "tampered", "currentReplicas": 3, "desiredReplicas": 1000,
           "minReplicas": 1, "maxReplicas": 2000,
           "expectedReplicas": 24, "expectedCondition": "TooManyReplicas"},
          {"test": "unreadable", "currentReplicas": -1}
        ]"#,
    )
    .expect("valid JSON");
    let report = hpa_legacy_convert_rules(cases.as_array().expect("a list"), &Value::Null);
    let rates: Value = serde_json::from_str(
        r#"[{"test": "wrong default", "currentReplicas": 10, "prenormalizedDesiredReplicas": 50,
             "minReplicas": 1, "maxReplicas": 1000,
             "scaleUpRules": "default (GenerateHPAScaleUpRules(nil): Pods 5/15s, Percent 100/15s, Max, stab 0)",
             "scaleDownRules": "default (GenerateHPAScaleDownRules(nil): Percent 100/15s, Max)",
             "scaleUpEvents": [], "scaleDownEvents": [],
             "expectedReplicas": 20, "expectedCondition": "ScaleUpLimit"}]"#,
    )
    .expect("valid JSON");
    let rate_report = hpa_behavior_rate_limits(rates.as_array().expect("a list"), &Value::Null);
    let lines: Vec<String> = report
        .mismatches
        .iter()
        .chain(&rate_report.mismatches)
        .map(|m| m.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "hpa_legacy_convert_rules / tampered: replicas: expected 24, got 6",
            "hpa_legacy_convert_rules / tampered: condition: expected TooManyReplicas, got \
             ScaleUpLimit",
            "hpa_legacy_convert_rules / unreadable: case data: expected a case capsim can read, \
             got currentReplicas is not a whole number: -1",
            "hpa_behavior_rate_limits / wrong default: default policy Pods 5/15s: expected \
             present, got absent",
        ]
    );
}
