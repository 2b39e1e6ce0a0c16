//! An HPA's `metrics`: autoscaling/v2 `MetricSpec`s of type `Resource` (cpu or memory, a
//! utilization or an average value) and `Pods` (a per-pod metric the simulation measures), each
//! checked against what the scaled service requests and models.

use crate::controllers::hpa::observation::{pod_metric_name, resource_name};
use crate::controllers::hpa::spec::{HpaMetric, PodMetricName, ResourceName};
use crate::scenario::error::Error;
use crate::scenario::model::Service;
use crate::scenario::schema::{MetricFile, PodsMetricFile, ResourceMetricFile, TargetFile};
use crate::units::Bytes;

use super::{Cx, each};

const METRIC_TYPES: [&str; 2] = ["Resource", "Pods"];
const RESOURCE_NAMES: [(&str, ResourceName); 2] =
    spelled!(resource_name, ResourceName: Cpu, Memory);
const RESOURCE_TARGETS: [&str; 2] = ["Utilization", "AverageValue"];
const POD_METRICS: [(&str, PodMetricName); 2] =
    spelled!(pod_metric_name, PodMetricName: RequestsPerSecond, InFlightRequests);

/// The block a metric type reads its source from, for the messages when it is missing or
/// another type's block is given: the metric type (`kind`), the field that holds its source,
/// the other type's field and an example of the source.
struct Source {
    kind: &'static str,
    field: &'static str,
    other: &'static str,
    example: &'static str,
}

const RESOURCE: Source = Source {
    kind: "Resource",
    field: "resource",
    other: "pods",
    example: "{name: cpu, target: {type: Utilization, averageUtilization: 70}}",
};

/// A Pods metric's source, for the messages.
const PODS_EXAMPLE: &str =
    "{metric: {name: requests_per_second}, target: {type: AverageValue, averageValue: \"100\"}}";

const PODS: Source = Source {
    kind: "Pods",
    field: "pods",
    other: "resource",
    example: PODS_EXAMPLE,
};

/// The CPU utilization target of an HPA that names no metric, as the API server defaults it
/// (autoscaling/v2 `SetDefaults_HorizontalPodAutoscaler`).
pub(crate) const DEFAULT_CPU_UTILIZATION_PERCENT: u32 = 80;

impl Cx<'_> {
    /// The HPA's `metrics`, each valid for `service`; none given is the API server's default
    /// (`SetDefaults_HorizontalPodAutoscaler`): CPU at `DEFAULT_CPU_UTILIZATION_PERCENT` of
    /// requests, which needs the service to request CPU.
    pub(super) fn hpa_metrics(
        &self,
        path: &str,
        metrics: &[MetricFile],
        service: &Service,
    ) -> Result<Vec<HpaMetric>, Error> {
        if metrics.is_empty() {
            if !service.pod.has_cpu_request {
                return Err(self.invalid(
                    path,
                    format!(
                        "no metric is given, so Kubernetes' default applies ({DEFAULT_CPU_UTILIZATION_PERCENT}% \
                         cpu utilization), but service {} requests no cpu",
                        service.name
                    ),
                    format!(
                        "expected services.{}.resources.requests.cpu, or a metric such as \
                         {{type: Pods, pods: {PODS_EXAMPLE}}}",
                        service.name
                    ),
                ));
            }
            return Ok(vec![HpaMetric::ResourceUtilization {
                resource: ResourceName::Cpu,
                average_utilization_percent: DEFAULT_CPU_UTILIZATION_PERCENT,
            }]);
        }
        each(path, metrics, |p, m| self.metric(p, m, service))
    }

    /// One `MetricSpec`.
    fn metric(&self, path: &str, m: &MetricFile, service: &Service) -> Result<HpaMetric, Error> {
        match m.kind.as_str() {
            "Resource" => {
                let resource =
                    self.source(path, &RESOURCE, m.resource.as_ref(), m.pods.is_some())?;
                self.resource_metric(&format!("{path}.resource"), resource, service)
            }
            "Pods" => {
                let pods = self.source(path, &PODS, m.pods.as_ref(), m.resource.is_some())?;
                self.pods_metric(&format!("{path}.pods"), pods)
            }
            other => {
                Err(self.unknown(&format!("{path}.type"), "metric type", other, &METRIC_TYPES))
            }
        }
    }

    /// The source block of a metric of `source.kind`: `given` must be there, and the other
    /// type's block must not (`other_given`).
    fn source<'m, T>(
        &self,
        path: &str,
        source: &Source,
        given: Option<&'m T>,
        other_given: bool,
    ) -> Result<&'m T, Error> {
        let Source {
            kind,
            field,
            other,
            example,
        } = source;
        let Some(given) = given else {
            return Err(self.invalid(
                &format!("{path}.{field}"),
                format!("type {kind} needs \"{field}\""),
                format!("expected {field}: {example}"),
            ));
        };
        if other_given {
            return Err(self.invalid(
                &format!("{path}.{other}"),
                format!("\"{other}\" does not apply to type {kind}"),
                format!("expected only {field}"),
            ));
        }
        Ok(given)
    }

    /// A `Resource` metric: cpu or memory, its target, and for memory a service that models
    /// memory use (else the HPA would measure nothing).
    fn resource_metric(
        &self,
        path: &str,
        resource: &ResourceMetricFile,
        service: &Service,
    ) -> Result<HpaMetric, Error> {
        let name = self.one_of(
            &format!("{path}.name"),
            "resource",
            &resource.name,
            &RESOURCE_NAMES,
        )?;
        let target =
            self.resource_target(&format!("{path}.target"), &resource.target, name, service)?;
        if name == ResourceName::Memory
            && service.server.memory_base == Bytes::ZERO
            && service.server.memory_per_request == Bytes::ZERO
        {
            return Err(self.invalid(
                &format!("{path}.name"),
                format!("a memory metric, but service {} models no memory use", service.name),
                format!("expected services.{}.server.memory_base and/or memory_per_request, the memory the HPA would measure", service.name),
            ));
        }
        Ok(target)
    }

    /// A `Pods` metric: a metric the simulation measures per pod, with an `AverageValue`
    /// target above zero.
    fn pods_metric(&self, path: &str, pods: &PodsMetricFile) -> Result<HpaMetric, Error> {
        let metric = self.one_of(
            &format!("{path}.metric.name"),
            "pod metric",
            &pods.metric.name,
            &POD_METRICS,
        )?;
        let tpath = format!("{path}.target");
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
            return Err(self.missing_target(&tpath, "AverageValue", "averageValue", "\"100\""));
        };
        let average_value = self.positive_count(&format!("{tpath}.averageValue"), value)?;
        Ok(HpaMetric::Pods {
            metric,
            average_value,
        })
    }

    /// The target of a `Resource` metric: a `Utilization` (a whole percentage of a request the
    /// service makes) or an `AverageValue` (a cpu or memory quantity per pod, above zero).
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

    /// The error for a target of type `kind` without its value `field`.
    fn missing_target(&self, path: &str, kind: &str, field: &str, example: &str) -> Error {
        self.invalid(
            &format!("{path}.{field}"),
            format!("target type {kind} needs \"{field}\""),
            format!("expected {field}, such as {example}"),
        )
    }
}
