//! The model: a validated scenario driven event by event on the engine's clock, tying the
//! cluster, the controllers and the workload together.
//!
//! Use `Simulation::new(&scenario).run(&mut observer)` to simulate a scenario; the observer
//! receives time-series rows and cluster events as they happen and the returned `Outcome` holds
//! the summary.
//!
//! **Invariant:** the simulation does no I/O itself (results go to the observer) and draws every
//! random number from a named stream, so a run is a pure function of the scenario and seed.

mod alerts;
#[cfg(test)]
mod availability_tests;
mod cluster_autoscaler;
mod cluster_state;
mod drains;
mod failures;
mod hpa;
mod job_state;
#[cfg(test)]
mod job_tests;
mod jobs;
mod lifecycle;
mod memory;
mod metrics;
mod nodes;
mod outages;
mod pending;
mod pool_state;
mod sampling;
mod service_state;
mod serving;
mod summary;
#[cfg(test)]
mod tests;

use crate::cluster::node::NodeId;
use crate::cluster::placement::WhenUnsatisfiable;
use crate::cluster::scheduler::{Scheduler, SchedulerConfig};
use crate::controllers::cluster_autoscaler::ClusterAutoscaler;
use crate::engine::Clock;
use crate::engine::rng::{SimRng, stream};
use crate::monitoring::alerts::AlertState;
use crate::report::{ClusterEvent, Observer, Summary};
use crate::scenario::Scenario;
use crate::units::SimTime;
use cluster_state::{ClusterState, PodRef};
use hpa::HpaRuntime;
use job_state::JobState;
use lifecycle::PodStart;
use pool_state::PoolState;
use service_state::ServiceState;

/// Everything that happens in the model. Small and `Copy`, so the event queue stores it inline.
/// A 64-bit tag keeps every field at a word boundary, so moving an event is three whole-word
/// copies: with Rust's default layout the compiler copies it in overlapping pieces that defeat
/// store-to-load forwarding, which cost about a third of the event loop's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Event {
    /// A request arrives at a service.
    Arrival { service: u16 },
    /// A request of a pod that gets all the CPU it wants finishes: the one in slot `index`
    /// with `stamp` (see `workload::in_service`).
    Completion { pod: PodRef, index: u32, stamp: u32 },
    /// The request due first of a pod whose requests share less CPU than they want finishes
    /// (the one pending event of the pod's completion lane).
    SharedCompletion { pod: PodRef },
    /// A bound pod's containers start: its image has been pulled, or the restart backoff of
    /// its OOM-killed container is over.
    ContainerStart { pod: PodRef },
    /// A starting pod passes its readiness probe.
    PodReady { pod: PodRef },
    /// A terminating pod's grace period is over.
    PodKilled { pod: PodRef },
    /// The ReplicaSet controller retries reaching its desired replicas.
    DeploymentSync { service: u16 },
    /// A template Job is created, or a pod trace's next rows are due.
    JobCreate { job: u16 },
    /// The Job controller retries creating pods its namespace's quota refused.
    JobSync { job: u16 },
    /// A job's pod's containers ran to the end of their run time.
    JobPodDone { pod: PodRef },
    /// The end of the warm-up: measured statistics start.
    WarmupEnd,
    /// metrics-server samples every pod.
    MetricsSample,
    /// A node asked of the cloud has booted and registers.
    NodeProvisioned { request: u32 },
    /// The Cluster Autoscaler retries the evictions a drain's disruption budgets refused.
    EvictionRetry { node: NodeId },
    /// The cloud preempts a Spot VM.
    NodePreempted { node: NodeId },
    /// A node fails: its kubelet stops reporting.
    NodeFailed { node: NodeId },
    /// The node lifecycle controller finds a silent node NotReady (`rank`: its place in the
    /// controller's rate limit).
    NodeNotReady { node: NodeId, rank: u32 },
    /// The taint manager evicts a pod of a NotReady node: its toleration has run out.
    TaintEviction { pod: PodRef },
    /// The cloud's auto-repair replaces a NotReady node's VM.
    NodeRepair { node: NodeId },
    /// A zone outage begins (`begins`) or ends.
    ZoneOutage { outage: u32, begins: bool },
    /// A node's kubelet checks for memory pressure, evicting one pod if its pods use more than
    /// they may.
    EvictionSync { node: NodeId },
    /// An HPA syncs.
    HpaSync { hpa: u16 },
    /// The Cluster Autoscaler scans the cluster.
    CaScan,
    /// The end of a time-series interval.
    Tick,
    /// A test sets a Deployment's replicas, as the HPA will.
    #[cfg(test)]
    SetReplicas { service: u16, replicas: u32 },
}

/// What a finished run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The simulated results.
    pub summary: Summary,
    /// Events the engine handled.
    pub events_processed: u64,
}

/// One run of a scenario.
#[derive(Debug)]
pub struct Simulation<'s> {
    scenario: &'s Scenario,
    clock: Clock<Event>,
    end: SimTime,
    warmup_end: SimTime,
    /// Arrivals are drawn strictly before the end, so the last row sees all of them.
    arrival_horizon: SimTime,
    /// Pods, nodes, the scheduler's queue and quota usage, kept consistent together.
    cluster: ClusterState,
    /// Per alert rule of the scenario's monitoring: its state between evaluations.
    alerts: Vec<AlertState>,
    services: Vec<ServiceState>,
    /// The Jobs, in scenario order.
    jobs: Vec<JobState>,
    /// Per spec of a job's pods, once one found no node: the cluster's loosen count then and
    /// kube-scheduler's message.
    job_spec_failures: Vec<Option<(u64, String)>>,
    /// The cluster's loosen count at the last retry of the Pending pods.
    last_retry_loosen_count: u64,
    /// Whether a job's pod that cannot have found a node since its last attempt skips the full
    /// scheduling cycle (always, but in the test that holds the two paths together).
    skip_hopeless_cycles: bool,
    /// Whether binding a pod can make a node feasible for a waiting one: some service's pods
    /// declare required pod affinity or a hard spread constraint (kube-scheduler requeues
    /// such pods when a pod is added).
    binds_loosen: bool,
    /// A pod was bound since the retry round began (with `binds_loosen`, the round repeats).
    bound_in_round: bool,
    /// A retry round is running: a bind inside it does not start another.
    in_retry_round: bool,
    pools: Vec<PoolState>,
    scheduler: Scheduler,
    rng_scheduler: SimRng,
    /// The HPAs, in scenario order.
    hpas: Vec<HpaRuntime>,
    /// The Cluster Autoscaler, when the scenario enables it.
    cluster_autoscaler: Option<ClusterAutoscaler>,
    rng_autoscaler: SimRng,
    last_row: SimTime,
    /// What every node had cost at `last_row`, USD: the start of the next row's cost rate.
    last_row_cost_usd: f64,
    /// Cluster events not yet handed to the observer.
    log: Vec<ClusterEvent>,
    /// The engine lane of the pod in slot 0's next completion; lanes below it are the
    /// services' arrival streams.
    pod_lane_base: u32,
}

impl<'s> Simulation<'s> {
    /// Prepares a run of `scenario`; nothing happens until `run`.
    pub fn new(scenario: &'s Scenario) -> Simulation<'s> {
        let seed = scenario.seed;
        let end = SimTime::ZERO + scenario.duration;
        let hpa_specs = &scenario.autoscaling.hpa;
        let hpa_metrics = |s: usize| -> usize {
            hpa_specs
                .iter()
                .filter(|h| h.service == s)
                .map(|h| h.columns().len())
                .sum()
        };
        Simulation {
            scenario,
            clock: Clock::new(),
            end,
            warmup_end: SimTime::ZERO + scenario.warmup,
            arrival_horizon: SimTime(end.0.saturating_sub(1)),
            cluster: ClusterState::new(scenario),
            alerts: vec![AlertState::default(); scenario.monitoring.alerts.len()],
            services: (scenario.services.iter().enumerate())
                .map(|(s, spec)| ServiceState::new(spec, seed, hpa_metrics(s)))
                .collect(),
            jobs: (scenario.jobs.iter().enumerate())
                .map(|(j, spec)| JobState::new(spec, scenario.services.len() + j, seed))
                .collect(),
            job_spec_failures: Vec::new(),
            last_retry_loosen_count: 0,
            // A pod leaving a node loosens a whole domain for required anti-affinity over a
            // topology wider than a node: the shortcut's nodes that loosened would miss it.
            skip_hopeless_cycles: !(scenario.services.iter())
                .any(|s| !s.pod.placement.required_anti_affinity.is_empty()),
            binds_loosen: (scenario.services.iter()).any(|s| {
                let p = &s.pod.placement;
                !p.required_affinity.is_empty()
                    || (p.spread.iter())
                        .any(|c| c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule)
            }),
            bound_in_round: false,
            in_retry_round: false,
            pools: (scenario.node_pools.iter())
                .map(|pool| PoolState::new(pool, seed))
                .collect(),
            scheduler: Scheduler::new(SchedulerConfig {
                kubernetes_version: scenario.kubernetes_version,
                ..SchedulerConfig::default()
            }),
            rng_scheduler: stream(seed, "scheduler"),
            hpas: (hpa_specs.iter())
                .map(|spec| HpaRuntime::new(spec, &scenario.services[spec.service].name, seed))
                .collect(),
            cluster_autoscaler: (scenario.autoscaling.cluster_autoscaler.as_ref())
                .map(|spec| ClusterAutoscaler::new(spec, &scenario.node_pools)),
            rng_autoscaler: stream(seed, "cluster-autoscaler"),
            last_row: SimTime::ZERO,
            last_row_cost_usd: 0.0,
            log: Vec::new(),
            pod_lane_base: scenario.services.len() as u32,
        }
    }

    /// Runs every retry of a Pending job pod through the full scheduling cycle, for the test
    /// that holds the shortcuts to it.
    #[cfg(test)]
    pub(crate) fn without_retry_shortcuts(mut self) -> Self {
        self.skip_hopeless_cycles = false;
        self
    }

    /// Schedules a change of a Deployment's replicas at `at`, for tests of scaling.
    #[cfg(test)]
    pub(crate) fn set_replicas_at(&mut self, at: SimTime, service: usize, replicas: u32) {
        self.clock.schedule_at(
            at,
            Event::SetReplicas {
                service: service as u16,
                replicas,
            },
        );
    }

    /// Schedules the failure of node `NodeId(node)` at `at`, for tests of what a failure costs
    /// at a known time.
    #[cfg(test)]
    pub(crate) fn fail_node_at(&mut self, at: SimTime, node: u32) {
        let node = NodeId(node);
        self.clock.schedule_at(at, Event::NodeFailed { node });
    }

    /// Simulates the whole scenario, handing rows and cluster events to `observer` as they
    /// happen, and returns the summary.
    ///
    /// Inlined into its caller, where the simulation lives on the caller's own frame: measured
    /// with callgrind, ten simulated minutes of the reference scenario execute 0.5% more
    /// instructions when `run` is a call of its own.
    #[inline]
    pub fn run<O: Observer>(mut self, observer: &mut O) -> Outcome {
        self.start(observer);
        self.flush_log(observer);
        while let Some(event) = self.clock.next_until(self.end) {
            match event {
                Event::Arrival { service } => self.on_arrival(usize::from(service)),
                Event::Completion { pod, index, stamp } => self.on_completion(pod, index, stamp),
                Event::SharedCompletion { pod } => self.on_shared_completion(pod),
                Event::ContainerStart { pod } => self.start_containers(pod, PodStart::Cold),
                Event::PodReady { pod } => self.make_ready(pod),
                Event::PodKilled { pod } => self.kill_pod(pod),
                Event::DeploymentSync { service } => self.sync_deployment(usize::from(service)),
                Event::JobCreate { job } => self.on_job_create(usize::from(job)),
                Event::JobSync { job } => self.sync_job(usize::from(job)),
                Event::JobPodDone { pod } => self.on_job_pod_done(pod),
                Event::WarmupEnd => self.on_warmup_end(),
                Event::MetricsSample => self.on_metrics_sample(),
                Event::NodeProvisioned { request } => {
                    if self.register_provisioned(request) {
                        self.retry_pending();
                    }
                }
                Event::HpaSync { hpa } => self.on_hpa_sync(usize::from(hpa)),
                Event::EvictionRetry { node } => self.evict_drained_pods(node),
                Event::NodePreempted { node } => self.on_node_preempted(node),
                Event::NodeFailed { node } => self.on_node_failed(node),
                Event::NodeNotReady { node, rank } => self.on_node_not_ready(node, rank),
                Event::TaintEviction { pod } => self.on_taint_eviction(pod),
                Event::NodeRepair { node } => self.on_node_repair(node),
                Event::ZoneOutage { outage, begins } => {
                    self.on_zone_outage(outage as usize, begins);
                }
                Event::EvictionSync { node } => self.on_eviction_sync(node),
                Event::CaScan => self.on_ca_scan(),
                Event::Tick => self.on_tick(observer),
                #[cfg(test)]
                Event::SetReplicas { service, replicas } => {
                    self.set_desired_replicas(usize::from(service), replicas);
                    self.sync_deployment(usize::from(service));
                }
            }
            if !self.log.is_empty() {
                self.flush_log(observer);
            }
        }
        self.clock.advance_to(self.end);
        self.on_tick(observer);
        self.flush_log(observer);
        let summary = self.summary();
        Outcome {
            summary,
            events_processed: self.clock.events_processed(),
        }
    }

    /// Builds the initial cluster and schedules the first events.
    fn start<O: Observer>(&mut self, observer: &mut O) {
        for (pool, spec) in self.scenario.node_pools.iter().enumerate() {
            for _ in 0..spec.initial_size {
                self.add_initial_node(pool);
            }
        }
        for service in 0..self.services.len() {
            self.set_desired_replicas(service, self.services[service].desired);
            self.sync_deployment_initial(service, observer);
        }
        self.start_jobs();
        for (s, svc) in self.services.iter_mut().enumerate() {
            if let Some(load) = svc.load.as_mut()
                && let (Some(t), _) = load.next_arrival(&mut svc.rng_arrivals, self.arrival_horizon)
            {
                self.clock
                    .schedule_lane_at(s as u32, t, Event::Arrival { service: s as u16 });
            }
        }
        if self.warmup_end > SimTime::ZERO {
            self.clock.schedule_at(self.warmup_end, Event::WarmupEnd);
        }
        if !self.hpas.is_empty() {
            // Scheduled first, so a sample taken at the instant of a sync is seen by it.
            let resolution = self.scenario.autoscaling.metric_resolution;
            self.clock.schedule_in(resolution, Event::MetricsSample);
        }
        for (h, spec) in self.scenario.autoscaling.hpa.iter().enumerate() {
            self.clock.schedule_in(
                spec.sync_period + self.hpas[h].sync_offset,
                Event::HpaSync { hpa: h as u16 },
            );
        }
        if let Some(spec) = &self.scenario.autoscaling.cluster_autoscaler {
            self.clock.schedule_in(spec.scan_interval, Event::CaScan);
        }
        self.schedule_outages();
        self.schedule_next_tick();
    }

    fn schedule_next_tick(&mut self) {
        let next = self.last_row + self.scenario.resolution;
        if next < self.end {
            self.clock.schedule_at(next, Event::Tick);
        }
    }

    fn flush_log<O: Observer>(&mut self, observer: &mut O) {
        for event in self.log.drain(..) {
            observer.cluster_event(&event);
        }
    }

    fn now_s(&self) -> f64 {
        self.clock.now().as_secs_f64()
    }

    /// Whether `t` falls in the measured window.
    #[inline]
    fn measured(&self, t: SimTime) -> bool {
        t >= self.warmup_end
    }

    /// The name of workload `w`: a service's, or a job's.
    fn workload_name(&self, w: usize) -> &'s str {
        let scenario = self.scenario;
        match self.job_of(w) {
            Some(j) => &scenario.jobs[j].name,
            None => &scenario.services[w].name,
        }
    }

    fn pod_name(&self, w: usize, serial: u32) -> String {
        format!("{}-{serial}", self.workload_name(w))
    }
}
