//! The `autoscaling` section: HorizontalPodAutoscalers (Kubernetes' autoscaling/v2 form, with
//! its validation rules); their metrics are in `hpa_metrics`, the Cluster Autoscaler's flags in
//! `cluster_autoscaler`.

use crate::cluster::pool::NodePool;
use crate::controllers::hpa::spec::{
    HpaBehavior, HpaScalingPolicy, HpaScalingRules, HpaSpec, ScalingPolicyKind, SelectPolicy,
    SyncOffset,
};
use crate::scenario::error::Error;
use crate::scenario::model::{Autoscaling, DEFAULT_METRIC_RESOLUTION, Service};
use crate::scenario::schema::{
    AutoscalingFile, BehaviorFile, HpaFile, Scalar, ScalingPolicyFile, ScalingRulesFile,
    TargetRefFile,
};
use crate::units::SimDuration;

use super::cluster_autoscaler::default_cluster_autoscaler;
use super::{Cx, MAX_REPLICAS, each, optional};

const SELECT_POLICIES: [(&str, SelectPolicy); 3] = variant_names!(SelectPolicy: Max, Min, Disabled);
const POLICY_TYPES: [(&str, ScalingPolicyKind); 2] =
    variant_names!(ScalingPolicyKind: Pods, Percent);

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
        let metric_resolution = self.period_at_least(
            "autoscaling.metric_resolution",
            a.and_then(|a| a.metric_resolution.as_ref()),
            DEFAULT_METRIC_RESOLUTION,
            SimDuration::from_secs(10),
            "metrics-server refuses a shorter --metric-resolution",
        )?;
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
            self.scale_target_ref(&format!("{path}.scaleTargetRef"), name, target)?;
        }
        let (min_replicas, max_replicas) = self.replica_range(&path, h)?;
        let metrics =
            self.hpa_metrics(&format!("{path}.metrics"), &h.metrics, &services[service])?;
        let behavior = optional(&path, "behavior", h.behavior.as_ref(), |p, b| {
            self.behavior(p, b)
        })?;
        let sync_period = self.period_at_least(
            &format!("{path}.sync_period"),
            h.sync_period.as_ref(),
            SimDuration::from_secs(15),
            SimDuration::from_secs(1),
            "the HPA reads metrics-server's samples, one each 10s at the most, so a shorter \
             period only costs the run its time",
        )?;
        let sync_offset = self.sync_offset(&path, h.sync_offset.as_ref(), sync_period)?;
        let tolerance = match &h.tolerance {
            Some(s) => self.tolerance(&format!("{path}.tolerance"), s, "0.1")?,
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

    /// `scaleTargetRef`, which may only restate what the HPA scales: the Deployment of the
    /// service `name` it is listed under.
    fn scale_target_ref(
        &self,
        path: &str,
        name: &str,
        target: &TargetRefFile,
    ) -> Result<(), Error> {
        if target.name != name {
            return Err(self.invalid(
                &format!("{path}.name"),
                format!(
                    "\"{}\" is not the service this HPA is listed under",
                    target.name
                ),
                format!("expected \"{name}\" (or omit scaleTargetRef)"),
            ));
        }
        optional(path, "kind", target.kind.as_deref(), |p, kind| {
            self.one_of(p, "target kind", kind, &[("Deployment", ())])
        })?;
        optional(
            path,
            "apiVersion",
            target.api_version.as_deref(),
            |p, api| self.one_of(p, "apiVersion", api, &[("apps/v1", ())]),
        )?;
        Ok(())
    }

    /// `(minReplicas, maxReplicas)`: minReplicas defaults to 1, and maxReplicas may not be
    /// below it.
    fn replica_range(&self, path: &str, h: &HpaFile) -> Result<(u32, u32), Error> {
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
        Ok((min_replicas, max_replicas))
    }

    /// `behavior`: the rules of each direction that is given.
    fn behavior(&self, path: &str, b: &BehaviorFile) -> Result<HpaBehavior, Error> {
        let rules = |p: &str, r: &ScalingRulesFile| self.rules(p, r);
        Ok(HpaBehavior {
            scale_up: optional(path, "scaleUp", b.scale_up.as_ref(), rules)?,
            scale_down: optional(path, "scaleDown", b.scale_down.as_ref(), rules)?,
        })
    }

    /// `sync_offset`: `random` (the default) or a fixed offset below the sync period.
    fn sync_offset(
        &self,
        path: &str,
        offset: Option<&Scalar>,
        sync_period: SimDuration,
    ) -> Result<SyncOffset, Error> {
        match offset {
            None => Ok(SyncOffset::Random),
            Some(s) if s.text() == "random" => Ok(SyncOffset::Random),
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
                Ok(SyncOffset::Fixed(offset))
            }
        }
    }

    /// A tolerance: a fraction in `[0, 1)`; `example` is the value the message suggests.
    fn tolerance(&self, path: &str, s: &Scalar, example: &str) -> Result<f64, Error> {
        self.real(
            path,
            s,
            |v| (0.0..1.0).contains(&v),
            &format!("expected a tolerance in [0, 1), such as {example}"),
        )
    }

    /// `scaleUp` or `scaleDown`.
    fn rules(&self, path: &str, r: &ScalingRulesFile) -> Result<HpaScalingRules, Error> {
        let window = r.stabilization_window_seconds.as_ref();
        let stabilization_window_seconds =
            optional(path, "stabilizationWindowSeconds", window, |p, s| {
                self.whole_u32(p, s, "number of seconds", 0, 3600)
            })?;
        let select_policy = optional(
            path,
            "selectPolicy",
            r.select_policy.as_deref(),
            |p, name| self.one_of(p, "select policy", name, &SELECT_POLICIES),
        )?;
        let policies = optional(path, "policies", r.policies.as_deref(), |p, list| {
            self.scaling_policies(p, list)
        })?;
        let tolerance = optional(path, "tolerance", r.tolerance.as_ref(), |p, s| {
            self.tolerance(p, s, "0.05")
        })?;
        Ok(HpaScalingRules {
            stabilization_window_seconds,
            select_policy,
            policies,
            tolerance,
        })
    }

    /// `policies`: when the field is given, at least one policy.
    fn scaling_policies(
        &self,
        path: &str,
        list: &[ScalingPolicyFile],
    ) -> Result<Vec<HpaScalingPolicy>, Error> {
        if list.is_empty() {
            return Err(self.invalid(
                path,
                "the list of policies is empty",
                "expected at least one policy, or no policies field (Kubernetes' defaults)",
            ));
        }
        each(path, list, |p, policy| self.scaling_policy(p, policy))
    }

    /// One `HPAScalingPolicy`: a type, a value of at least 1 and a period of 1s to 30m.
    fn scaling_policy(&self, path: &str, p: &ScalingPolicyFile) -> Result<HpaScalingPolicy, Error> {
        let kind = self.one_of(
            &format!("{path}.type"),
            "policy type",
            &p.kind,
            &POLICY_TYPES,
        )?;
        Ok(HpaScalingPolicy {
            kind,
            value: self.whole_u32(&format!("{path}.value"), &p.value, "count", 1, u32::MAX)?,
            period_seconds: self.whole_u32(
                &format!("{path}.periodSeconds"),
                &p.period_seconds,
                "number of seconds",
                1,
                1800,
            )?,
        })
    }
}
