//! The `autoscaling` section: HorizontalPodAutoscalers (Kubernetes' autoscaling/v2 form, with
//! its validation rules); the Cluster Autoscaler's flags are in `cluster_autoscaler`.

use crate::cluster::pool::NodePool;
use crate::controllers::hpa::spec::{
    HpaBehavior, HpaMetric, HpaScalingPolicy, HpaScalingRules, HpaSpec, PodMetricName,
    ResourceName, ScalingPolicyKind, SelectPolicy, SyncOffset,
};
use crate::scenario::error::Error;
use crate::scenario::model::{Autoscaling, DEFAULT_METRIC_RESOLUTION, Service};
use crate::scenario::schema::{AutoscalingFile, HpaFile, MetricFile, ScalingRulesFile, TargetFile};
use crate::units::{Bytes, SimDuration};

use super::cluster_autoscaler::default_cluster_autoscaler;
use super::{Cx, MAX_REPLICAS};

const METRIC_TYPES: [&str; 2] = ["Resource", "Pods"];
const RESOURCE_NAMES: [&str; 2] = ["cpu", "memory"];
const RESOURCE_TARGETS: [&str; 2] = ["Utilization", "AverageValue"];
const POD_METRICS: [&str; 2] = ["requests_per_second", "in_flight_requests"];
const SELECT_POLICIES: [&str; 3] = ["Max", "Min", "Disabled"];
const POLICY_TYPES: [&str; 2] = ["Pods", "Percent"];

impl Cx<'_> {
    /// Validates the `autoscaling` section against the services and pools.
    pub(super) fn autoscaling(
        &self,
        a: Option<&AutoscalingFile>,
        services: &[Service],
        pools: &[NodePool],
    ) -> Result<Autoscaling, Error> {
        let mut hpa = Vec::new();
        if let Some(a) = a {
            for (name, h) in &a.hpa.0 {
                hpa.push(self.hpa(name, h, services)?);
            }
        }
        let any_pool_autoscales = pools.iter().any(|p| p.autoscaling.is_some());
        let cluster_autoscaler = match a.and_then(|a| a.cluster_autoscaler.as_ref()) {
            Some(ca) => self.cluster_autoscaler(ca, pools)?,
            // As on GKE, giving a pool autoscaling bounds turns the autoscaler on.
            None if any_pool_autoscales => Some(default_cluster_autoscaler()),
            None => None,
        };
        let metric_resolution = match a.and_then(|a| a.metric_resolution.as_ref()) {
            Some(r) => self.positive_duration("autoscaling.metric_resolution", r)?,
            None => DEFAULT_METRIC_RESOLUTION,
        };
        Ok(Autoscaling {
            metric_resolution,
            hpa,
            cluster_autoscaler,
        })
    }

    /// One HPA, keyed by the name of the service it scales.
    fn hpa(&self, name: &str, h: &HpaFile, services: &[Service]) -> Result<HpaSpec, Error> {
        let path = format!("autoscaling.hpa.{name}");
        let Some(service) = services.iter().position(|s| s.name == name) else {
            let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
            return Err(self.unknown(&path, "service", name, &names));
        };
        if let Some(target) = &h.scale_target_ref {
            let tpath = format!("{path}.scaleTargetRef");
            if target.name != name {
                return Err(self.invalid(
                    &format!("{tpath}.name"),
                    format!(
                        "\"{}\" is not the service this HPA is listed under",
                        target.name
                    ),
                    format!("expected \"{name}\" (or omit scaleTargetRef)"),
                ));
            }
            if let Some(kind) = target.kind.as_deref()
                && kind != "Deployment"
            {
                return Err(self.unknown(
                    &format!("{tpath}.kind"),
                    "target kind",
                    kind,
                    &["Deployment"],
                ));
            }
            if let Some(api) = target.api_version.as_deref()
                && api != "apps/v1"
            {
                return Err(self.unknown(
                    &format!("{tpath}.apiVersion"),
                    "apiVersion",
                    api,
                    &["apps/v1"],
                ));
            }
        }
        let min_replicas = match &h.min_replicas {
            Some(s) => {
                self.whole_u32(&format!("{path}.minReplicas"), s, "count", 1, MAX_REPLICAS)?
            }
            None => 1,
        };
        let max_replicas = self.whole_u32(
            &format!("{path}.maxReplicas"),
            &h.max_replicas,
            "count",
            1,
            MAX_REPLICAS,
        )?;
        if max_replicas < min_replicas {
            return Err(self.invalid(
                &format!("{path}.maxReplicas"),
                format!(
                    "\"{}\" is below minReplicas {min_replicas}",
                    h.max_replicas.text()
                ),
                "expected maxReplicas >= minReplicas",
            ));
        }
        if h.metrics.is_empty() {
            return Err(self.invalid(
                &format!("{path}.metrics"),
                "no metric is given",
                "expected at least one metric, such as {type: Resource, resource: {name: cpu, \
                 target: {type: Utilization, averageUtilization: 70}}}",
            ));
        }
        let metrics = h
            .metrics
            .iter()
            .enumerate()
            .map(|(i, m)| self.metric(&format!("{path}.metrics[{i}]"), m, &services[service]))
            .collect::<Result<Vec<_>, _>>()?;
        let behavior = h
            .behavior
            .as_ref()
            .map(|b| -> Result<HpaBehavior, Error> {
                let bpath = format!("{path}.behavior");
                Ok(HpaBehavior {
                    scale_up: b
                        .scale_up
                        .as_ref()
                        .map(|r| self.rules(&format!("{bpath}.scaleUp"), r))
                        .transpose()?,
                    scale_down: b
                        .scale_down
                        .as_ref()
                        .map(|r| self.rules(&format!("{bpath}.scaleDown"), r))
                        .transpose()?,
                })
            })
            .transpose()?;
        let sync_period = self.optional_positive_duration(
            &format!("{path}.sync_period"),
            h.sync_period.as_ref(),
            SimDuration::from_secs(15),
        )?;
        let sync_offset = match &h.sync_offset {
            None => SyncOffset::Random,
            Some(s) if s.text() == "random" => SyncOffset::Random,
            Some(s) => {
                let opath = format!("{path}.sync_offset");
                let offset = self.duration(&opath, s)?;
                if offset >= sync_period {
                    return Err(self.invalid(
                        &opath,
                        format!(
                            "\"{}\" is not shorter than the sync period {sync_period}",
                            s.text()
                        ),
                        "expected \"random\" or a duration from 0s to below sync_period",
                    ));
                }
                SyncOffset::Fixed(offset)
            }
        };
        let tolerance = match &h.tolerance {
            Some(s) => self.real(
                &format!("{path}.tolerance"),
                s,
                |v| (0.0..1.0).contains(&v),
                "expected a tolerance in [0, 1), such as 0.1",
            )?,
            None => 0.1,
        };
        Ok(HpaSpec {
            service,
            min_replicas,
            max_replicas,
            metrics,
            behavior,
            sync_period,
            sync_offset,
            tolerance,
        })
    }

    /// One `MetricSpec`.
    fn metric(&self, path: &str, m: &MetricFile, service: &Service) -> Result<HpaMetric, Error> {
        match m.kind.as_str() {
            "Resource" => {
                let Some(resource) = &m.resource else {
                    return Err(self.invalid(
                        &format!("{path}.resource"),
                        "type Resource needs \"resource\"",
                        "expected resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}",
                    ));
                };
                if m.pods.is_some() {
                    return Err(self.invalid(
                        &format!("{path}.pods"),
                        "\"pods\" does not apply to type Resource",
                        "expected only resource",
                    ));
                }
                let rpath = format!("{path}.resource");
                let name = match resource.name.as_str() {
                    "cpu" => ResourceName::Cpu,
                    "memory" => ResourceName::Memory,
                    other => {
                        return Err(self.unknown(
                            &format!("{rpath}.name"),
                            "resource",
                            other,
                            &RESOURCE_NAMES,
                        ));
                    }
                };
                let target = self.resource_target(
                    &format!("{rpath}.target"),
                    &resource.target,
                    name,
                    service,
                )?;
                if name == ResourceName::Memory
                    && service.server.memory_base == Bytes::ZERO
                    && service.server.memory_per_request == Bytes::ZERO
                {
                    return Err(self.invalid(
                        &format!("{rpath}.name"),
                        format!("a memory metric, but service {} models no memory use", service.name),
                        format!("expected services.{}.server.memory_base and/or memory_per_request, the memory the HPA would measure", service.name),
                    ));
                }
                Ok(target)
            }
            "Pods" => {
                let Some(pods) = &m.pods else {
                    return Err(self.invalid(
                        &format!("{path}.pods"),
                        "type Pods needs \"pods\"",
                        "expected pods: {metric: {name: requests_per_second}, target: {type: AverageValue, averageValue: \"100\"}}",
                    ));
                };
                if m.resource.is_some() {
                    return Err(self.invalid(
                        &format!("{path}.resource"),
                        "\"resource\" does not apply to type Pods",
                        "expected only pods",
                    ));
                }
                let ppath = format!("{path}.pods");
                let metric = match pods.metric.name.as_str() {
                    "requests_per_second" => PodMetricName::RequestsPerSecond,
                    "in_flight_requests" => PodMetricName::InFlightRequests,
                    other => {
                        return Err(self.unknown(
                            &format!("{ppath}.metric.name"),
                            "pod metric",
                            other,
                            &POD_METRICS,
                        ));
                    }
                };
                let tpath = format!("{ppath}.target");
                let t = &pods.target;
                if t.kind != "AverageValue" {
                    return Err(self.unknown(
                        &format!("{tpath}.type"),
                        "target type for Pods metrics",
                        &t.kind,
                        &["AverageValue"],
                    ));
                }
                self.target_fields(&tpath, t, "averageValue")?;
                let Some(value) = &t.average_value else {
                    return Err(self.missing_target(
                        &tpath,
                        "AverageValue",
                        "averageValue",
                        "\"100\"",
                    ));
                };
                let average_value = self.positive_count(&format!("{tpath}.averageValue"), value)?;
                Ok(HpaMetric::Pods {
                    metric,
                    average_value,
                })
            }
            other => {
                Err(self.unknown(&format!("{path}.type"), "metric type", other, &METRIC_TYPES))
            }
        }
    }

    /// The target of a `Resource` metric.
    fn resource_target(
        &self,
        path: &str,
        t: &TargetFile,
        resource: ResourceName,
        service: &Service,
    ) -> Result<HpaMetric, Error> {
        match t.kind.as_str() {
            "Utilization" => {
                self.target_fields(path, t, "averageUtilization")?;
                let Some(value) = &t.average_utilization else {
                    return Err(self.missing_target(
                        path,
                        "Utilization",
                        "averageUtilization",
                        "70",
                    ));
                };
                let percent = self.whole_u32(
                    &format!("{path}.averageUtilization"),
                    value,
                    "percentage",
                    1,
                    u32::MAX,
                )?;
                let (requested, name) = match resource {
                    ResourceName::Cpu => (service.pod.has_cpu_request, "cpu"),
                    ResourceName::Memory => (service.pod.has_memory_request, "memory"),
                };
                if !requested {
                    return Err(self.invalid(
                        path,
                        format!("a {name} utilization target, but service {} requests no {name}", service.name),
                        format!("expected services.{}.resources.requests.{name} (utilization is a percentage of the request; Kubernetes' HPA fails without it)", service.name),
                    ));
                }
                Ok(HpaMetric::ResourceUtilization {
                    resource,
                    average_utilization_percent: percent,
                })
            }
            "AverageValue" => {
                self.target_fields(path, t, "averageValue")?;
                let example = match resource {
                    ResourceName::Cpu => "\"500m\"",
                    ResourceName::Memory => "\"12Gi\"",
                };
                let Some(value) = &t.average_value else {
                    return Err(self.missing_target(path, "AverageValue", "averageValue", example));
                };
                let vpath = format!("{path}.averageValue");
                let average_value = match resource {
                    ResourceName::Cpu => self.cpu(&vpath, value)?.0,
                    ResourceName::Memory => self.memory(&vpath, value)?.0,
                };
                if average_value == 0 {
                    return Err(self.invalid(
                        &vpath,
                        format!("\"{}\" is zero", value.text()),
                        format!("expected a value > 0, such as {example}"),
                    ));
                }
                Ok(HpaMetric::ResourceAverageValue {
                    resource,
                    average_value,
                })
            }
            other => Err(self.unknown(
                &format!("{path}.type"),
                "target type for Resource metrics",
                other,
                &RESOURCE_TARGETS,
            )),
        }
    }

    /// Rejects target fields other than `wanted`.
    fn target_fields(&self, path: &str, t: &TargetFile, wanted: &str) -> Result<(), Error> {
        let given = [
            ("averageUtilization", t.average_utilization.is_some()),
            ("averageValue", t.average_value.is_some()),
            ("value", t.value.is_some()),
        ];
        for (field, present) in given {
            if present && field != wanted {
                return Err(self.invalid(
                    &format!("{path}.{field}"),
                    format!("\"{field}\" does not apply to target type {}", t.kind),
                    format!("expected {wanted}"),
                ));
            }
        }
        Ok(())
    }

    fn missing_target(&self, path: &str, kind: &str, field: &str, example: &str) -> Error {
        self.invalid(
            &format!("{path}.{field}"),
            format!("target type {kind} needs \"{field}\""),
            format!("expected {field}, such as {example}"),
        )
    }

    /// `scaleUp` or `scaleDown`.
    fn rules(&self, path: &str, r: &ScalingRulesFile) -> Result<HpaScalingRules, Error> {
        let stabilization_window_seconds = r
            .stabilization_window_seconds
            .as_ref()
            .map(|s| {
                self.whole_u32(
                    &format!("{path}.stabilizationWindowSeconds"),
                    s,
                    "number of seconds",
                    0,
                    3600,
                )
            })
            .transpose()?;
        let select_policy = r
            .select_policy
            .as_deref()
            .map(|p| match p {
                "Max" => Ok(SelectPolicy::Max),
                "Min" => Ok(SelectPolicy::Min),
                "Disabled" => Ok(SelectPolicy::Disabled),
                other => Err(self.unknown(
                    &format!("{path}.selectPolicy"),
                    "select policy",
                    other,
                    &SELECT_POLICIES,
                )),
            })
            .transpose()?;
        let policies = match &r.policies {
            None => None,
            Some(list) if list.is_empty() => {
                return Err(self.invalid(
                    &format!("{path}.policies"),
                    "the list of policies is empty",
                    "expected at least one policy, or no policies field (Kubernetes' defaults)",
                ));
            }
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let ppath = format!("{path}.policies[{i}]");
                        let kind = match p.kind.as_str() {
                            "Pods" => ScalingPolicyKind::Pods,
                            "Percent" => ScalingPolicyKind::Percent,
                            other => {
                                return Err(self.unknown(
                                    &format!("{ppath}.type"),
                                    "policy type",
                                    other,
                                    &POLICY_TYPES,
                                ));
                            }
                        };
                        Ok(HpaScalingPolicy {
                            kind,
                            value: self.whole_u32(
                                &format!("{ppath}.value"),
                                &p.value,
                                "count",
                                1,
                                u32::MAX,
                            )?,
                            period_seconds: self.whole_u32(
                                &format!("{ppath}.periodSeconds"),
                                &p.period_seconds,
                                "number of seconds",
                                1,
                                1800,
                            )?,
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()?,
            ),
        };
        let tolerance = r
            .tolerance
            .as_ref()
            .map(|s| {
                self.real(
                    &format!("{path}.tolerance"),
                    s,
                    |v| (0.0..1.0).contains(&v),
                    "expected a tolerance in [0, 1), such as 0.05",
                )
            })
            .transpose()?;
        Ok(HpaScalingRules {
            stabilization_window_seconds,
            select_policy,
            policies,
            tolerance,
        })
    }
}
