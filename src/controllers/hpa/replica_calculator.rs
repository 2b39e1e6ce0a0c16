//! The HPA's replica calculator: from the pods' samples and a metric target, the replica count
//! one metric proposes. A port of Kubernetes' `pkg/controller/podautoscaler/replica_calculator.go`
//! (`GetResourceReplicas`, `GetRawResourceReplicas` and `GetMetricReplicas` (both
//! `calcPlainMetricReplicas`), `groupPods`, `calculateRequests`, `removeMetricsForPods`) and
//! `metrics/utilization.go` (`GetResourceUtilizationRatio`, `GetMetricUsageRatio`).
//!
//! Use `ReplicaCalculator` once per metric per sync. It does not combine metrics, stabilize,
//! rate-limit or clamp to min/max: that is the controller's and `behavior`'s work.
//!
//! Arithmetic follows upstream step by step: values in milli-units as integers, utilization
//! `int32(total*100/requests)`, averages by integer division, `ceil(ratio * pods)` in floating
//! point. Totals are summed in `i128` so no input overflows; a utilization beyond `i32` is
//! clamped, as the newest upstream does.
//!
//! Two upstream versions differ here and capsim follows the newer:
//! - The tolerance test is `Tolerances::is_within`, `(1 - down) <= ratio <= (1 + up)`
//!   (Kubernetes 1.33+, per-direction tolerances), not `|1 - ratio| <= tolerance` (1.32 and
//!   earlier). With a single tolerance they differ only where floating point rounds the bound:
//!   a ratio of exactly 1.1 with tolerance 0.1 is within in 1.33+ (`1.1 <= 1 + 0.1`) and outside
//!   before (`|1 - 1.1| = 0.10000000000000009`).
//! - Missing pods on a scale-down count as `max(100%, target)` of their request (since 1.26), not
//!   100%: the two agree for targets up to 100%.

use std::fmt;

use super::observation::{ObservedPhase, PodObservation, pod_metric_name, resource_name};
use crate::controllers::hpa::spec::{PodMetricName, ResourceName};
use crate::units::{SimDuration, SimTime};

/// The usage-ratio band inside which the HPA does not scale (`Tolerances` upstream).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Relative drop below the target that is tolerated.
    pub scale_down: f64,
    /// Relative rise above the target that is tolerated.
    pub scale_up: f64,
}

impl Tolerances {
    /// The same tolerance in both directions (the controller-wide `--horizontal-pod-autoscaler-tolerance`).
    pub fn symmetric(tolerance: f64) -> Tolerances {
        Tolerances {
            scale_down: tolerance,
            scale_up: tolerance,
        }
    }

    /// Whether `usage_ratio` is close enough to 1 to leave the replica count alone.
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// Why a metric could not propose a replica count; `Display` gives upstream's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalcError {
    /// metrics-server returned no sample for any pod.
    NoResourceMetrics(ResourceName),
    /// The custom metrics API returned no sample for any pod.
    NoPodMetrics(PodMetricName),
    /// The target has no pods.
    NoPods,
    /// Every sample belonged to a pod that is ignored or not ready.
    NoMetricsForTargetedPods,
    /// A container of the pod at this index (in the slice given) requests none of the resource.
    MissingRequest {
        /// The resource.
        resource: ResourceName,
        /// Index of the pod.
        pod: usize,
    },
    /// The pods with samples request nothing in total.
    NoMetricsMatchedKnownPods,
}

impl fmt::Display for CalcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalcError::NoResourceMetrics(r) => write!(
                f,
                "unable to get metrics for resource {}: no metrics returned from resource metrics API",
                resource_name(*r)
            ),
            CalcError::NoPodMetrics(m) => write!(
                f,
                "unable to get metric {}: no metrics returned from custom metrics API",
                pod_metric_name(*m)
            ),
            CalcError::NoPods => {
                f.write_str("no pods returned by selector while calculating replica count")
            }
            CalcError::NoMetricsForTargetedPods => {
                f.write_str("did not receive metrics for targeted pods (pods might be unready)")
            }
            CalcError::MissingRequest { resource, pod } => write!(
                f,
                "missing request for {} in a container of pod {pod}",
                resource_name(*resource)
            ),
            CalcError::NoMetricsMatchedKnownPods => {
                f.write_str("no metrics returned matched known pods")
            }
        }
    }
}

impl std::error::Error for CalcError {}

/// What a utilization target proposes (`GetResourceReplicas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceReplicas {
    /// Proposed replica count.
    pub replicas: u32,
    /// Current utilization in percent of requests, over the pods counted.
    pub utilization_percent: i32,
    /// Average usage per counted pod in milli-units (millicores, or thousandths of a byte).
    pub raw_average_milli: i64,
}

/// What an average-value target proposes (`get_average_value_replicas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainReplicas {
    /// Proposed replica count.
    pub replicas: u32,
    /// Average value per counted pod in milli-units.
    pub average_milli: i64,
}

/// The samples an `AverageValue` target is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AverageValueMetric {
    /// A resource's usage, from metrics-server.
    Resource(ResourceName),
    /// A per-pod custom metric (`type: Pods`), from the custom metrics API.
    Pods(PodMetricName),
}

/// The replica calculator with the controller-manager flags it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaCalculator {
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`.
    pub cpu_initialization_period: SimDuration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`.
    pub delay_of_initial_readiness_status: SimDuration,
}

/// How the pods of a target fall for one metric (`groupPods`), as indices into the pod slice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodGroups {
    /// Pods whose sample counts as is.
    pub ready_count: usize,
    /// Pending pods, and (for CPU) pods not ready or still warming up.
    pub unready: Vec<usize>,
    /// Pods with no sample.
    pub missing: Vec<usize>,
    /// Failed or terminating pods.
    pub ignored: Vec<usize>,
}

impl ReplicaCalculator {
    /// Replicas for a `Utilization` target on `resource` (`GetResourceReplicas`).
    ///
    /// # Errors
    /// A `CalcError` when no sample can be used or a pod lacks a request.
    pub fn get_resource_replicas(
        &self,
        now: SimTime,
        current_replicas: u32,
        target_utilization: u32,
        resource: ResourceName,
        tolerances: Tolerances,
        pods: &[PodObservation],
    ) -> Result<ResourceReplicas, CalcError> {
        let metrics = samples(pods, |p| p.usage_milli(resource))
            .ok_or(CalcError::NoResourceMetrics(resource))?;
        let samples = self.usable_samples(now, pods, metrics, Some(resource))?;
        let requests = calculate_requests(pods, resource)?;

        let (usage_ratio, utilization, raw) =
            get_resource_utilization_ratio(&samples.metrics, &requests, target_utilization)?;
        // On a scale-down, a pod without a sample is taken to use 100% of its request, or the
        // target where the target is above 100%.
        let fallback = i128::from(target_utilization.max(100));
        let replicas = replicas_for_ratio(
            samples,
            current_replicas,
            usage_ratio,
            tolerances,
            |i| requests[i] * fallback / 100,
            |filled| {
                get_resource_utilization_ratio(filled, &requests, target_utilization)
                    .map(|(ratio, _, _)| ratio)
            },
        )?;
        Ok(ResourceReplicas {
            replicas,
            utilization_percent: utilization,
            raw_average_milli: raw,
        })
    }

    /// Replicas for an `AverageValue` target in milli-units on `metric`: `GetRawResourceReplicas`
    /// for a resource, `GetMetricReplicas` for a `type: Pods` metric. Both read the metric's
    /// samples, then run `calcPlainMetricReplicas`.
    ///
    /// # Errors
    /// A `CalcError` when no sample can be used.
    pub fn get_average_value_replicas(
        &self,
        now: SimTime,
        current_replicas: u32,
        target_milli: i128,
        metric: AverageValueMetric,
        tolerances: Tolerances,
        pods: &[PodObservation],
    ) -> Result<PlainReplicas, CalcError> {
        let (metrics, resource) = match metric {
            AverageValueMetric::Resource(resource) => (
                samples(pods, |p| p.usage_milli(resource))
                    .ok_or(CalcError::NoResourceMetrics(resource))?,
                Some(resource),
            ),
            AverageValueMetric::Pods(m) => (
                samples(pods, |p| p.pod_metric_milli(m)).ok_or(CalcError::NoPodMetrics(m))?,
                None,
            ),
        };
        // `calcPlainMetricReplicas`; only resource samples are readiness-checked (CPU ones).
        if pods.is_empty() {
            return Err(CalcError::NoPods);
        }
        let samples = self.usable_samples(now, pods, metrics, resource)?;

        let (usage_ratio, usage) = get_metric_usage_ratio(&samples.metrics, target_milli);
        let replicas = replicas_for_ratio(
            samples,
            current_replicas,
            usage_ratio,
            tolerances,
            // On a scale-down, a pod without a sample is taken to be exactly at the target.
            |_| target_milli,
            |filled| Ok(get_metric_usage_ratio(filled, target_milli).0),
        )?;
        Ok(PlainReplicas {
            replicas,
            average_milli: usage,
        })
    }

    /// `groupPods`, then `removeMetricsForPods` for the ignored and the unready pods: the
    /// groups, with `metrics` left holding only the samples that count.
    ///
    /// # Errors
    /// `CalcError::NoMetricsForTargetedPods` when no sample is left.
    fn usable_samples(
        &self,
        now: SimTime,
        pods: &[PodObservation],
        mut metrics: Vec<Option<i128>>,
        resource: Option<ResourceName>,
    ) -> Result<Samples, CalcError> {
        let groups = self.group_pods(now, pods, &metrics, resource);
        remove_metrics_for_pods(&mut metrics, &groups.ignored);
        remove_metrics_for_pods(&mut metrics, &groups.unready);
        if metrics.iter().all(Option::is_none) {
            return Err(CalcError::NoMetricsForTargetedPods);
        }
        Ok(Samples { metrics, groups })
    }

    /// `groupPods`: which pods count, which are unready, missing or ignored. `metrics[i]` is
    /// pod `i`'s sample; `resource` is the resource metric being computed (`None` for pod
    /// metrics). Only CPU samples are checked for readiness, as upstream.
    pub fn group_pods(
        &self,
        now: SimTime,
        pods: &[PodObservation],
        metrics: &[Option<i128>],
        resource: Option<ResourceName>,
    ) -> PodGroups {
        let mut groups = PodGroups::default();
        for (i, pod) in pods.iter().enumerate() {
            if pod.deleting || pod.phase == ObservedPhase::Failed {
                groups.ignored.push(i);
                continue;
            }
            if pod.phase == ObservedPhase::Pending {
                groups.unready.push(i);
                continue;
            }
            if metrics.get(i).copied().flatten().is_none() {
                groups.missing.push(i);
                continue;
            }
            if resource == Some(ResourceName::Cpu) && self.cpu_sample_unready(now, pod) {
                groups.unready.push(i);
                continue;
            }
            groups.ready_count += 1;
        }
        groups
    }

    /// Whether a running pod's CPU sample must be set aside. The `PodReady` condition always
    /// exists in capsim (upstream also sets the sample aside when it is absent).
    fn cpu_sample_unready(&self, now: SimTime, pod: &PodObservation) -> bool {
        let Some(start) = pod.start_time else {
            return true;
        };
        if later(start, self.cpu_initialization_period) > now {
            // Still initializing: set aside if unready, or if no whole sample window has passed
            // since the readiness transition.
            let window = pod.usage.map_or(SimDuration::ZERO, |s| s.window);
            let sampled_at = pod.usage.map_or(SimTime::ZERO, |s| s.timestamp);
            !pod.ready || sampled_at < later(pod.ready_transition, window)
        } else {
            // Past initialization: set aside only a pod that has never been ready.
            !pod.ready
                && later(start, self.delay_of_initial_readiness_status) > pod.ready_transition
        }
    }
}

/// Every pod's sample as `sample` reads it; `None` when no pod has one (metrics-server or the
/// custom metrics API returned nothing).
fn samples(
    pods: &[PodObservation],
    sample: impl Fn(&PodObservation) -> Option<i128>,
) -> Option<Vec<Option<i128>>> {
    let metrics: Vec<Option<i128>> = pods.iter().map(sample).collect();
    if metrics.iter().all(Option::is_none) {
        return None;
    }
    Some(metrics)
}

/// One metric's samples that count (`metrics[i]` is pod `i`'s), with the groups the pods fell
/// into.
struct Samples {
    /// The samples, `None` for a pod without one or set aside.
    metrics: Vec<Option<i128>>,
    /// How `groupPods` sorted the pods.
    groups: PodGroups,
}

/// The replica count from the usage ratio over the pods that count, as both calculations
/// finish (upstream writes this out in each). Without unready pods on a scale-up or missing
/// samples: the current count within the tolerance, else `ceil(ratio * ready pods)`. Otherwise
/// the samples are filled in (a missing pod at `missing_on_scale_down(i)` on a scale-down and at
/// 0 on a scale-up, an unready pod at 0 on a scale-up) and `new_ratio` of them decides, through
/// `hold_direction`.
fn replicas_for_ratio(
    samples: Samples,
    current_replicas: u32,
    usage_ratio: f64,
    tolerances: Tolerances,
    missing_on_scale_down: impl Fn(usize) -> i128,
    new_ratio: impl FnOnce(&[Option<i128>]) -> Result<f64, CalcError>,
) -> Result<u32, CalcError> {
    let Samples {
        mut metrics,
        groups,
    } = samples;
    let scale_up_with_unready = !groups.unready.is_empty() && usage_ratio > 1.0;
    if !scale_up_with_unready && groups.missing.is_empty() {
        if tolerances.is_within(usage_ratio) {
            return Ok(current_replicas);
        }
        return Ok(ceil_replicas(usage_ratio * groups.ready_count as f64));
    }

    if !groups.missing.is_empty() {
        if usage_ratio < 1.0 {
            for &i in &groups.missing {
                metrics[i] = Some(missing_on_scale_down(i));
            }
        } else if usage_ratio > 1.0 {
            // Scale-up: a pod without a sample is taken to use nothing.
            for &i in &groups.missing {
                metrics[i] = Some(0);
            }
        }
    }
    if scale_up_with_unready {
        for &i in &groups.unready {
            metrics[i] = Some(0);
        }
    }

    let new_usage_ratio = new_ratio(&metrics)?;
    let counted = metrics.iter().flatten().count();
    Ok(hold_direction(
        current_replicas,
        usage_ratio,
        new_usage_ratio,
        counted,
        tolerances,
    ))
}

/// The shared tail of both calculations, after missing and unready pods were filled in: keep
/// the current count inside the tolerance band or when the fill-in flipped the direction,
/// otherwise `ceil(new ratio * pods counted)` unless that count itself points the other way.
fn hold_direction(
    current_replicas: u32,
    usage_ratio: f64,
    new_usage_ratio: f64,
    counted: usize,
    tolerances: Tolerances,
) -> u32 {
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        return current_replicas;
    }
    let new_replicas = ceil_replicas(new_usage_ratio * counted as f64);
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        return current_replicas;
    }
    new_replicas
}

/// `removeMetricsForPods`.
fn remove_metrics_for_pods(metrics: &mut [Option<i128>], pods: &[usize]) {
    for &i in pods {
        if let Some(m) = metrics.get_mut(i) {
            *m = None;
        }
    }
}

/// `calculateRequests` (container sum): every pod's request in milli-units, failed and
/// terminating pods included.
///
/// # Errors
/// `CalcError::MissingRequest` for the first pod with a container that requests none.
pub fn calculate_requests(
    pods: &[PodObservation],
    resource: ResourceName,
) -> Result<Vec<i128>, CalcError> {
    pods.iter()
        .enumerate()
        .map(|(pod, p)| {
            p.request_milli(resource)
                .ok_or(CalcError::MissingRequest { resource, pod })
        })
        .collect()
}

/// `GetResourceUtilizationRatio`: (usage ratio, utilization in percent, raw average) over the
/// pods that have a sample.
///
/// # Errors
/// `CalcError::NoMetricsMatchedKnownPods` when those pods request nothing in total.
pub fn get_resource_utilization_ratio(
    metrics: &[Option<i128>],
    requests: &[i128],
    target_utilization: u32,
) -> Result<(f64, i32, i64), CalcError> {
    let mut metrics_total: i128 = 0;
    let mut requests_total: i128 = 0;
    let mut entries: i128 = 0;
    for (metric, request) in metrics.iter().zip(requests) {
        if let Some(value) = metric {
            metrics_total += value;
            requests_total += request;
            entries += 1;
        }
    }
    if requests_total == 0 {
        return Err(CalcError::NoMetricsMatchedKnownPods);
    }
    let utilization = clamp_i32(metrics_total * 100 / requests_total);
    let raw = clamp_i64(metrics_total / entries);
    let ratio = f64::from(utilization) / f64::from(target_utilization);
    Ok((ratio, utilization, raw))
}

/// `GetMetricUsageRatio`: (usage ratio, average value) over the pods that have a sample; the
/// average is an integer division, as upstream.
pub fn get_metric_usage_ratio(metrics: &[Option<i128>], target_milli: i128) -> (f64, i64) {
    let mut total: i128 = 0;
    let mut count: i128 = 0;
    for value in metrics.iter().flatten() {
        total += value;
        count += 1;
    }
    let usage = if count == 0 {
        0
    } else {
        clamp_i64(total / count)
    };
    (usage as f64 / target_milli as f64, usage)
}

/// `int32(math.Ceil(x))`, saturating (NaN is 0).
fn ceil_replicas(x: f64) -> u32 {
    x.ceil() as u32
}

fn clamp_i32(x: i128) -> i32 {
    i32::try_from(x).unwrap_or(if x < 0 { i32::MIN } else { i32::MAX })
}

fn clamp_i64(x: i128) -> i64 {
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}

/// `t + d`, saturating.
fn later(t: SimTime, d: SimDuration) -> SimTime {
    SimTime(t.0.saturating_add(d.0))
}

#[cfg(test)]
mod tests;
