//! The top level of the file: the run's own values, then each section in turn, every error of
//! each reported, and the scenario assembled from the sections once none has an error.

use indexmap::IndexSet;

use std::cell::{Cell, RefCell};
use std::path::PathBuf;

use crate::cluster::pool::{NodePool, ZoneOutage};
use crate::cluster::quota::Quota;
use crate::cluster::scheduler::KubernetesVersion;
use crate::controllers::job::JobSpec;
use crate::monitoring::rules::Monitoring;
use crate::scenario::error::Error;
use crate::scenario::model::{Autoscaling, Expectation, Scenario, Service, SweepSpec};
use crate::scenario::schema::File;
use crate::units::SimDuration;

use super::{Cx, NODE_POOLS, check_run_length, each, keep, none_of, optional};

/// Validates a parsed file into a `Scenario`, with what validation found worth telling the
/// user (one line each); `origin` names the file in messages. A relative file path in it (a
/// trace) is resolved against the first of `dirs` (the file's folder, then its bases') that
/// holds it, else the first.
///
/// Every problem of the file is reported at once (an `Error::Many` when there are several), in
/// the file's order. A check that compares sections runs only when what it compares is free
/// of errors, so that one mistake is reported once: a pod is fitted to the pools only when
/// every pool (and DaemonSet) is valid, `autoscaling` is checked only when the services and
/// pools are, `monitoring` only when the services are, and the run's length rules only when
/// `duration`, `warmup` and `resolution` are each valid.
pub(crate) fn scenario(
    origin: &str,
    dirs: &[PathBuf],
    file: File,
) -> Result<(Scenario, Vec<String>), Error> {
    let cx = Cx {
        origin,
        dirs,
        extended: RefCell::new(Vec::new()),
        warnings: RefCell::new(Vec::new()),
        pools_incomplete: Cell::new(false),
    };
    let mut errors = Vec::new();
    let run = keep(&mut errors, cx.run(&file));
    let duration = run.as_ref().map_or(SimDuration(u64::MAX), |r| r.duration);
    let node_pools = keep(&mut errors, cx.node_pools(&file));
    if let (Some(pools), Some(run)) = (&node_pools, &run) {
        keep(&mut errors, cx.run_cost(pools, run.duration));
    }
    let run_duration = run.as_ref().map(|r| r.duration);
    let outages = cx.outages(&file.outages, node_pools.as_deref(), run_duration);
    let outages = keep(&mut errors, outages);
    let (services, jobs, quotas) =
        cx.workloads(&file, node_pools.as_deref(), duration, &mut errors);
    let (autoscaling, monitoring) = cx.controls(
        &file,
        services.as_deref(),
        node_pools.as_deref(),
        &mut errors,
    );
    let sweep = file.sweep.as_ref().map(|s| cx.sweep(s)).transpose();
    let sweep = keep(&mut errors, sweep);
    let expect = each("expect", &file.expect, |p, text| cx.expectation(p, text));
    let expectations = keep(&mut errors, expect);
    none_of(errors)?;
    let (
        Some(run),
        Some(node_pools),
        Some(outages),
        Some(services),
        Some(jobs),
        Some(quotas),
        Some(autoscaling),
        Some(monitoring),
        Some(sweep),
        Some(expectations),
    ) = (
        run,
        node_pools,
        outages,
        services,
        jobs,
        quotas,
        autoscaling,
        monitoring,
        sweep,
        expectations,
    )
    else {
        unreachable!("a section is missing without an error");
    };
    let sections = Sections {
        node_pools,
        outages,
        services,
        jobs,
        quotas,
    };
    let scenario = cx.assemble(
        file,
        run,
        sections,
        autoscaling,
        monitoring,
        sweep,
        expectations,
    );
    Ok((scenario, cx.warnings.into_inner()))
}

/// The validated `services`, `jobs` and `quotas`, each `None` when bad.
type Workloads = (
    Option<Vec<Service>>,
    Option<Vec<JobSpec>>,
    Option<Vec<Quota>>,
);

/// The top-level values of the run itself.
struct Run {
    name: String,
    seed: u64,
    duration: SimDuration,
    warmup: SimDuration,
    resolution: SimDuration,
    kubernetes_version: KubernetesVersion,
}

/// The modelled Kubernetes versions as a file spells them, oldest first.
const KUBERNETES_VERSIONS: [(&str, KubernetesVersion); 2] = spelled!(
    KubernetesVersion::as_str,
    KubernetesVersion: V1_35,
    V1_36
);

/// The validated sections: the pools and their zones' outages, and those whose pods share
/// the scenario's table of extended resource names.
struct Sections {
    node_pools: Vec<NodePool>,
    outages: Vec<ZoneOutage>,
    services: Vec<Service>,
    jobs: Vec<JobSpec>,
    quotas: Vec<Quota>,
}

impl Cx<'_> {
    /// `name`, `seed`, `duration`, `warmup`, `resolution` and `kubernetes_version`, every bad
    /// one reported; the rules that tie `duration`, `warmup` and `resolution` together are
    /// checked only when each is valid.
    fn run(&self, file: &File) -> Result<Run, Error> {
        let mut errors = Vec::new();
        let name = keep(&mut errors, self.name(&file.name));
        let seed = optional("", "seed", file.seed.as_ref(), |_, s| {
            self.whole("seed", s, "seed", 0, u64::MAX)
        });
        let seed = keep(&mut errors, seed).map(|s| s.unwrap_or(1));
        let duration = keep(
            &mut errors,
            self.positive_duration("duration", &file.duration),
        );
        let warmup = self.optional_duration("warmup", file.warmup.as_ref(), SimDuration::ZERO);
        let warmup = keep(&mut errors, warmup);
        let resolution = file
            .resolution
            .as_ref()
            .map_or(Ok(SimDuration::from_secs(60)), |s| {
                self.positive_duration("resolution", s)
            });
        let resolution = keep(&mut errors, resolution);
        let kubernetes_version = optional(
            "",
            "kubernetes_version",
            file.kubernetes_version.as_ref(),
            |_, v| {
                self.one_of(
                    "kubernetes_version",
                    "Kubernetes version",
                    v.text(),
                    &KUBERNETES_VERSIONS,
                )
            },
        );
        let kubernetes_version =
            keep(&mut errors, kubernetes_version).map(|v| v.unwrap_or(KubernetesVersion::NEWEST));
        if let (Some(duration), Some(warmup), Some(resolution)) = (duration, warmup, resolution) {
            keep(
                &mut errors,
                check_run_length(self.origin, duration, warmup, resolution),
            );
        }
        none_of(errors)?;
        match (name, seed, duration, warmup, resolution, kubernetes_version) {
            (
                Some(name),
                Some(seed),
                Some(duration),
                Some(warmup),
                Some(resolution),
                Some(kubernetes_version),
            ) => Ok(Run {
                name,
                seed,
                duration,
                warmup,
                resolution,
                kubernetes_version,
            }),
            _ => unreachable!("a run value is missing without an error"),
        }
    }

    /// `services`, `jobs` and `quotas`, each `None` when bad (its errors kept in `errors`).
    fn workloads(
        &self,
        file: &File,
        pools: Option<&[NodePool]>,
        duration: SimDuration,
        errors: &mut Vec<Error>,
    ) -> Workloads {
        let services = keep(errors, self.services(file, pools));
        let jobs = keep(
            errors,
            self.jobs(&file.jobs, pools.unwrap_or(&[]), duration),
        );
        let quotas = self.quotas(
            &file.quotas,
            services.as_deref().unwrap_or(&[]),
            jobs.as_deref().unwrap_or(&[]),
        );
        (services, jobs, keep(errors, quotas))
    }

    /// `autoscaling`, checked when the services and pools are valid (and warning of pools
    /// that never have a node), and `monitoring`, when the services are; each `None` when bad
    /// or unchecked (its errors kept in `errors`).
    fn controls(
        &self,
        file: &File,
        services: Option<&[Service]>,
        pools: Option<&[NodePool]>,
        errors: &mut Vec<Error>,
    ) -> (Option<Autoscaling>, Option<Monitoring>) {
        let autoscaling = match (services, pools) {
            (Some(services), Some(pools)) => keep(
                errors,
                self.autoscaling(file.autoscaling.as_ref(), services, pools),
            ),
            _ => None,
        };
        if let (Some(services), Some(pools), Some(autoscaling)) = (services, pools, &autoscaling) {
            self.warn_of_pools_never_up(services, pools, autoscaling);
        }
        let monitoring =
            services.and_then(|s| keep(errors, self.monitoring(file.monitoring.as_ref(), s)));
        (autoscaling, monitoring)
    }

    /// The node pools with the DaemonSets' shares taken. When any pool or DaemonSet is bad,
    /// the pools are incomplete and no pod is fitted to them.
    fn node_pools(&self, file: &File) -> Result<Vec<NodePool>, Error> {
        let pools = self.entries(&NODE_POOLS, &file.node_pools, |name, pool| {
            self.pool(name, pool)
        });
        let pools = pools.map(|groups| groups.into_iter().flatten().collect::<Vec<_>>());
        let pools = pools.and_then(|groups| self.distinct_groups(&groups).map(|()| groups));
        let mut errors = Vec::new();
        let mut pools = keep(&mut errors, pools);
        if let Some(pools) = &mut pools {
            keep(&mut errors, self.daemonsets(&file.daemonsets, pools));
        }
        if !errors.is_empty() {
            self.pools_incomplete.set(true);
        }
        none_of(errors)?;
        Ok(pools.unwrap_or_default())
    }

    /// Every service, each with every problem it has; at least one service or one job.
    fn services(&self, file: &File, pools: Option<&[NodePool]>) -> Result<Vec<Service>, Error> {
        if file.services.0.is_empty() && file.jobs.0.is_empty() {
            return Err(self.invalid(
                "services",
                "no service and no job is given",
                "expected at least one service, as `services: {name: {replicas: 1}}`, or one \
                 batch job, as `jobs: {name: {run_time: 10m}}`",
            ));
        }
        let mut errors = Vec::new();
        let services: Vec<Option<Service>> = file
            .services
            .0
            .iter()
            .map(|(name, s)| keep(&mut errors, self.service(name, s, pools.unwrap_or(&[]))))
            .collect();
        none_of(errors)?;
        Ok(services.into_iter().flatten().collect())
    }

    /// The scenario from its validated parts, every pod given the complete table of extended
    /// resource names (quotas may name resources no pod or pool names: the table is complete
    /// only once everything is read).
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per validated section"
    )]
    fn assemble(
        &self,
        file: File,
        run: Run,
        sections: Sections,
        autoscaling: Autoscaling,
        monitoring: Monitoring,
        sweep: Option<SweepSpec>,
        expectations: Vec<Expectation>,
    ) -> Scenario {
        let Sections {
            node_pools,
            outages,
            mut services,
            mut jobs,
            mut quotas,
        } = sections;
        let extended_names = self.extended_names();
        for service in &mut services {
            service.pod.extended_names = extended_names.clone();
        }
        for job in &mut jobs {
            job.pod.extended_names = extended_names.clone();
        }
        for quota in &mut quotas {
            quota.extended_names = extended_names.clone();
        }
        // Each namespace where the scenario first names it: services, then jobs, then quotas.
        let mut namespaces: IndexSet<String> =
            services.iter().map(|s| s.namespace.clone()).collect();
        namespaces.extend(jobs.iter().map(|j| j.namespace.clone()));
        namespaces.extend(quotas.iter().map(|q| q.namespace.clone()));
        Scenario {
            name: run.name,
            description: file.description.unwrap_or_default(),
            seed: run.seed,
            duration: run.duration,
            warmup: run.warmup,
            resolution: run.resolution,
            kubernetes_version: run.kubernetes_version,
            node_pools,
            outages,
            services,
            jobs,
            namespaces: namespaces.into_iter().collect(),
            quotas,
            autoscaling,
            monitoring,
            sweep,
            expectations,
        }
    }
}
