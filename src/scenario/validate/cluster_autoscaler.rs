//! `autoscaling.cluster_autoscaler`: the Cluster Autoscaler's flags, with cluster-autoscaler's
//! own defaults.

use crate::cluster::pool::NodePool;
use crate::controllers::cluster_autoscaler::expander;
use crate::controllers::cluster_autoscaler::spec::{ClusterAutoscalerSpec, Expander};
use crate::scenario::error::Error;
use crate::scenario::schema::{ClusterAutoscalerFile, NamedMap, Scalar};
use crate::units::SimDuration;

use super::Cx;

const EXPANDERS: [(&str, Expander); 5] =
    spelled!(expander::name, Expander: Random, MostPods, LeastWaste, Price, Priority);

/// The expanders in the order they break ties, and the priority expander's table.
type ExpanderChain = (Vec<Expander>, Vec<(String, i32)>);

impl Cx<'_> {
    /// `autoscaling.cluster_autoscaler`; `None` when it is disabled.
    pub(super) fn cluster_autoscaler(
        &self,
        ca: &ClusterAutoscalerFile,
        pools: &[NodePool],
    ) -> Result<Option<ClusterAutoscalerSpec>, Error> {
        let path = "autoscaling.cluster_autoscaler";
        let p = |field: &str| format!("{path}.{field}");
        let d = default_cluster_autoscaler();
        let scan_interval = self.period_at_least(
            &p("scan_interval"),
            ca.scan_interval.as_ref(),
            d.scan_interval,
            SimDuration::from_secs(1),
            "upstream's default is 10s; each scan lists every pod and node and simulates the \
             cluster, and a shorter period only costs the run its time",
        )?;
        let (expanders, priorities) = self.expander_chain(path, ca, pools)?;
        let count = |field: &str, s: Option<&Scalar>, least: u32, default: u32| {
            s.map_or(Ok(default), |s| {
                self.whole_u32(&p(field), s, "count", least, u32::MAX)
            })
        };
        let max_nodes_total = count(
            "max_nodes_total",
            ca.max_nodes_total.as_ref(),
            0,
            d.max_nodes_total,
        )?;
        let scale_down_utilization_threshold = self.fraction(
            &p("scale_down_utilization_threshold"),
            ca.scale_down_utilization_threshold.as_ref(),
            d.scale_down_utilization_threshold,
        )?;
        let scale_down_gpu_utilization_threshold = self.fraction(
            &p("scale_down_gpu_utilization_threshold"),
            ca.scale_down_gpu_utilization_threshold.as_ref(),
            d.scale_down_gpu_utilization_threshold,
        )?;
        let [unneeded, after_add, after_delete, after_failure] =
            self.scale_down_delays(path, ca)?;
        let spec = ClusterAutoscalerSpec {
            scan_interval,
            expanders,
            priorities,
            max_nodes_total,
            scale_down_enabled: ca.scale_down_enabled.unwrap_or(d.scale_down_enabled),
            scale_down_utilization_threshold,
            scale_down_gpu_utilization_threshold,
            scale_down_unneeded_time: unneeded,
            scale_down_delay_after_add: after_add,
            scale_down_delay_after_delete: after_delete,
            scale_down_delay_after_failure: after_failure,
            max_node_provision_time: self.optional_positive_duration(
                &p("max_node_provision_time"),
                ca.max_node_provision_time.as_ref(),
                d.max_node_provision_time,
            )?,
            balance_similar_node_groups: ca
                .balance_similar_node_groups
                .unwrap_or(d.balance_similar_node_groups),
            max_scale_down_parallelism: count(
                "max_scale_down_parallelism",
                ca.max_scale_down_parallelism.as_ref(),
                1,
                d.max_scale_down_parallelism,
            )?,
            max_bulk_soft_taint_count: count(
                "max_bulk_soft_taint_count",
                ca.max_bulk_soft_taint_count.as_ref(),
                0,
                d.max_bulk_soft_taint_count,
            )?,
        };
        Ok((ca.enabled != Some(false)).then_some(spec))
    }

    /// `scale_down_unneeded_time` and the three `scale_down_delay_after_*` settings, in that
    /// order, each its default when absent.
    fn scale_down_delays(
        &self,
        path: &str,
        ca: &ClusterAutoscalerFile,
    ) -> Result<[SimDuration; 4], Error> {
        let d = default_cluster_autoscaler();
        let settings = [
            (
                "scale_down_unneeded_time",
                &ca.scale_down_unneeded_time,
                d.scale_down_unneeded_time,
            ),
            (
                "scale_down_delay_after_add",
                &ca.scale_down_delay_after_add,
                d.scale_down_delay_after_add,
            ),
            (
                "scale_down_delay_after_delete",
                &ca.scale_down_delay_after_delete,
                d.scale_down_delay_after_delete,
            ),
            (
                "scale_down_delay_after_failure",
                &ca.scale_down_delay_after_failure,
                d.scale_down_delay_after_failure,
            ),
        ];
        let mut out = [SimDuration::ZERO; 4];
        for (slot, (field, s, default)) in out.iter_mut().zip(settings) {
            *slot = self.optional_duration(&format!("{path}.{field}"), s.as_ref(), default)?;
        }
        Ok(out)
    }

    /// The expanders and the priority expander's table; the priority expander needs one.
    fn expander_chain(
        &self,
        path: &str,
        ca: &ClusterAutoscalerFile,
        pools: &[NodePool],
    ) -> Result<ExpanderChain, Error> {
        let p = |field: &str| format!("{path}.{field}");
        let expanders = match &ca.expander {
            None => default_cluster_autoscaler().expanders,
            Some(list) => self.expanders(&p("expander"), &list.0)?,
        };
        let priorities = self.priorities(&p("priorities"), &ca.priorities, pools)?;
        if expanders.contains(&Expander::Priority) && priorities.is_empty() {
            return Err(self.invalid(
                &p("expander"),
                "the priority expander is chosen, but no priorities are given",
                format!("expected {path}.priorities, such as {{pool-name: 10}}"),
            ));
        }
        Ok((expanders, priorities))
    }

    /// A utilization threshold given as a fraction in (0, 1], or `default` when absent.
    fn fraction(&self, path: &str, s: Option<&Scalar>, default: f64) -> Result<f64, Error> {
        s.map_or(Ok(default), |s| {
            self.real(
                path,
                s,
                |v| v > 0.0 && v <= 1.0,
                "expected a fraction in (0, 1], such as 0.5",
            )
        })
    }

    /// `expander`: one name or a list of names, each at most once, tried in order.
    fn expanders(&self, path: &str, names: &[String]) -> Result<Vec<Expander>, Error> {
        let mut out = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let epath = if names.len() == 1 {
                path.to_string()
            } else {
                format!("{path}[{i}]")
            };
            let e = self.one_of(&epath, "expander", name, &EXPANDERS)?;
            if out.contains(&e) {
                return Err(self.invalid(
                    &epath,
                    format!("\"{name}\" is listed twice"),
                    "expected each expander once",
                ));
            }
            out.push(e);
        }
        Ok(out)
    }

    /// `priorities`: the priority expander's whole-number priority of each named pool (a
    /// pool's own name, which every zone's node group of a pool with zones takes).
    fn priorities(
        &self,
        path: &str,
        priorities: &NamedMap<Scalar>,
        pools: &[NodePool],
    ) -> Result<Vec<(String, i32)>, Error> {
        let mut out = Vec::with_capacity(priorities.0.len());
        for (pool, value) in &priorities.0 {
            let ppath = format!("{path}.{pool}");
            if !pools.iter().any(|np| &np.group_of == pool) {
                let mut names: Vec<&str> = pools.iter().map(|np| np.group_of.as_str()).collect();
                names.dedup();
                return Err(self.unknown(&ppath, "node pool", pool, &names));
            }
            let v = value.text().parse::<i32>().map_err(|_| {
                self.invalid(
                    &ppath,
                    format!("\"{}\" is not a valid priority", value.text()),
                    "expected a whole number (higher wins)",
                )
            })?;
            out.push((pool.clone(), v));
        }
        Ok(out)
    }
}

/// cluster-autoscaler's own flag defaults.
pub(super) fn default_cluster_autoscaler() -> ClusterAutoscalerSpec {
    ClusterAutoscalerSpec {
        scan_interval: SimDuration::from_secs(10),
        expanders: vec![Expander::LeastWaste],
        priorities: Vec::new(),
        max_nodes_total: 0,
        scale_down_enabled: true,
        scale_down_utilization_threshold: 0.5,
        scale_down_gpu_utilization_threshold: 0.5,
        scale_down_unneeded_time: SimDuration::from_secs(600),
        scale_down_delay_after_add: SimDuration::from_secs(600),
        // 0 in 1.37 (`config/flags/flags.go`), whatever the scan interval.
        scale_down_delay_after_delete: SimDuration::ZERO,
        scale_down_delay_after_failure: SimDuration::from_secs(180),
        max_node_provision_time: SimDuration::from_secs(900),
        // Upstream's flag defaults to false; GKE balances a regional pool's zones.
        balance_similar_node_groups: true,
        max_scale_down_parallelism: 10,
        max_bulk_soft_taint_count: 10,
    }
}
