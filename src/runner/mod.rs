//! Running a scenario into an output folder, with the wall-clock facts of the run.
//!
//! Use `run_to_dir` for what `capsim run` does (`run_to_dir_watched` to follow it while it runs,
//! with `progress::RunProgress` as `capsim run` shows it); use `simulation::Simulation` directly
//! to keep results in memory.

pub mod progress;

use std::io;
use std::path::Path;
use std::time::Instant;

use crate::report::setup::{HpaSetup, PoolSetup, RunSetup, ServiceSetup};
use crate::report::timeseries::Layout;
use crate::report::writers::{RunInfo, peak_memory_bytes};
use crate::report::{ClusterEvent, IntervalRow, Observer, OutputDir};
use crate::scenario::Scenario;
use crate::simulation::{Outcome, Simulation};

/// The time-series columns of `scenario`.
pub fn layout(scenario: &Scenario) -> Layout {
    Layout {
        services: scenario
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let metrics = scenario
                    .autoscaling
                    .hpa
                    .iter()
                    .filter(|h| h.service == i)
                    .flat_map(|h| h.columns().into_iter().map(str::to_string))
                    .collect();
                (s.name.clone(), metrics)
            })
            .collect(),
        jobs: scenario.jobs.iter().map(|j| j.name.clone()).collect(),
        pools: scenario.node_pools.iter().map(|p| p.name.clone()).collect(),
    }
}

/// What a finished run produced and how it was computed.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The simulated results.
    pub outcome: Outcome,
    /// Wall time, events per second, memory.
    pub info: RunInfo,
}

/// Simulates `scenario` and writes `summary.json`, `run.json`, `timeseries.csv` and
/// `events.jsonl` to `out`.
///
/// # Errors
/// An I/O error creating or writing the folder; the folder then holds no `summary.json`.
pub fn run_to_dir(scenario: &Scenario, out: &Path) -> io::Result<RunReport> {
    run_to_dir_watched(scenario, out, |_, _| {})
}

/// `run_to_dir`, calling `on_progress(simulated_s, events_processed)` after each time-series
/// row while the run goes on (for a progress display; the results do not depend on it).
///
/// # Errors
/// As `run_to_dir`.
pub fn run_to_dir_watched(
    scenario: &Scenario,
    out: &Path,
    on_progress: impl FnMut(f64, u64),
) -> io::Result<RunReport> {
    let mut dir = OutputDir::create(out, &layout(scenario))?;
    let started = Instant::now();
    let mut watched = Watched {
        dir: &mut dir,
        on_progress,
    };
    let outcome = Simulation::new(scenario).run(&mut watched);
    let wall_s = started.elapsed().as_secs_f64();
    let info = RunInfo {
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        simulated_s: scenario.duration.as_secs_f64(),
        events_processed: outcome.events_processed,
        wall_s,
        events_per_s: if wall_s > 0.0 {
            outcome.events_processed as f64 / wall_s
        } else {
            0.0
        },
        peak_memory_bytes: peak_memory_bytes(),
        setup: Some(setup(scenario)),
    };
    dir.finish(&outcome.summary, &info)?;
    Ok(RunReport { outcome, info })
}

/// What `run.json` records of `scenario` for readers of the results: the Kubernetes version,
/// pools, services, HPAs.
pub fn setup(scenario: &Scenario) -> RunSetup {
    let node_pools = scenario
        .node_pools
        .iter()
        .map(|p| {
            let pool = PoolSetup {
                machine_type: p.machine.name.clone(),
                cpu_cores: p.machine.capacity.cpu.as_cores_f64(),
                memory_gib: p.machine.capacity.memory.as_gib_f64(),
                spot: p.spot,
                price_usd_per_hour: p.price_usd_per_hour,
                initial_nodes: p.initial_size,
                min_nodes: p.min_nodes,
                max_nodes: p.max_nodes,
                autoscaled: p.autoscaling.is_some(),
                pool: p.zone.as_ref().map(|_| p.group_of.clone()),
                zone: p.zone.clone(),
            };
            (p.name.clone(), pool)
        })
        .collect();
    let services = scenario
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let hpa = scenario.autoscaling.hpa.iter().find(|h| h.service == i);
            let service = ServiceSetup {
                namespace: s.namespace.clone(),
                replicas: s.replicas,
                cpu_request_cores: s.pod.requests.cpu.as_cores_f64(),
                memory_request_gib: s.pod.requests.memory.as_gib_f64(),
                hpa: hpa.map(|h| HpaSetup {
                    min_replicas: h.min_replicas,
                    max_replicas: h.max_replicas,
                    metrics: h
                        .metrics
                        .iter()
                        .map(|m| format!("{} {}", m.column_name(), m.target_value()))
                        .collect(),
                }),
            };
            (s.name.clone(), service)
        })
        .collect();
    RunSetup {
        description: scenario.description.trim().to_string(),
        duration_s: scenario.duration.as_secs_f64(),
        warmup_s: scenario.warmup.as_secs_f64(),
        resolution_s: scenario.resolution.as_secs_f64(),
        kubernetes_version: scenario.kubernetes_version.as_str().to_string(),
        cluster_autoscaler: scenario.autoscaling.cluster_autoscaler.is_some(),
        node_pools,
        services,
        jobs: scenario.jobs.iter().map(|j| j.name.clone()).collect(),
    }
}

/// The output folder as the run's observer, with a progress callback beside it.
struct Watched<'a, P> {
    dir: &'a mut OutputDir,
    on_progress: P,
}

impl<P: FnMut(f64, u64)> Observer for Watched<'_, P> {
    fn interval(&mut self, row: &IntervalRow) {
        self.dir.interval(row);
    }

    fn cluster_event(&mut self, event: &ClusterEvent) {
        self.dir.cluster_event(event);
    }

    fn progress(&mut self, simulated_s: f64, events_processed: u64) {
        (self.on_progress)(simulated_s, events_processed);
    }
}
