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
mod cluster_autoscaler;
mod hpa;
mod lifecycle;
mod metrics;
mod nodes;
mod sampling;
mod serving;
mod state;
#[cfg(test)]
mod tests;

use crate::cluster::node::{Node, NodeId};
use crate::cluster::scheduler::{Scheduler, SchedulerConfig};
use crate::cluster::spec::PodSpec;
use crate::controllers::cluster_autoscaler::ClusterAutoscaler;
use crate::controllers::hpa::spec::SyncOffset;
use crate::controllers::hpa::{Hpa, HpaTimings};
use crate::engine::Clock;
use crate::engine::rng::{SimRng, stream};
use crate::monitoring::alerts::AlertState;
use crate::report::stats::{Gauge, Latency};
use crate::report::{ClusterEvent, Observer, Summary};
use crate::scenario::Scenario;
use crate::units::DurationDist;
use crate::units::{Millicores, SimDuration, SimTime};
use crate::workload::arrivals::ArrivalProcess;
use crate::workload::balancer::Balancer;
use crate::workload::cost::ServiceTimeSampler;
use crate::workload::server::ServerLimits;
use rand::RngExt;
use state::{
    Counts, HpaRuntime, IntervalStats, LoadState, NamespaceState, NodeExtra, PodRef, PodTable,
    PoolState, ScalingStats, ServiceState,
};

/// Everything that happens in the model. Small and `Copy`, so the event queue stores it inline.
/// A 64-bit tag keeps every field at a word boundary, so moving an event is three whole-word
/// copies: with Rust's default layout the compiler copies it in overlapping pieces that defeat
/// store-to-load forwarding, which cost about a third of the event loop's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Event {
    /// A request arrives at a service.
    Arrival { service: u16 },
    /// A worker of a pod finishes the request that arrived at `arrived`.
    Completion { pod: PodRef, arrived: SimTime },
    /// A starting pod passes its readiness probe.
    PodReady { pod: PodRef },
    /// A terminating pod's grace period is over.
    PodKilled { pod: PodRef },
    /// The ReplicaSet controller retries reaching its desired replicas.
    DeploymentSync { service: u16 },
    /// The end of the warm-up: measured statistics start.
    WarmupEnd,
    /// metrics-server samples every pod.
    MetricsSample,
    /// A node asked of the cloud has booted and registers.
    NodeProvisioned { node: NodeId },
    /// The Cluster Autoscaler retries the evictions a drain's disruption budgets refused.
    EvictionRetry { node: NodeId },
    /// The cloud preempts a Spot VM.
    NodePreempted { node: NodeId },
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
    pods: PodTable,
    /// Registered nodes, ordered by id.
    nodes: Vec<Node>,
    /// Parallel to `nodes`.
    node_extras: Vec<NodeExtra>,
    next_node_id: u32,
    /// Pods not bound to a node, oldest first (the scheduler's unschedulable queue).
    pending: Vec<PodRef>,
    /// Scratch for the scheduler: the scheduled pod's workload's pods on each node.
    workload_pods: Vec<u32>,
    /// Per alert rule of the scenario's monitoring: its state between evaluations.
    alerts: Vec<AlertState>,
    services: Vec<ServiceState>,
    pools: Vec<PoolState>,
    namespaces: Vec<NamespaceState>,
    /// Index into `namespaces` of each service's namespace.
    service_namespace: Vec<usize>,
    scheduler: Scheduler,
    rng_scheduler: SimRng,
    /// The HPAs, in scenario order.
    hpas: Vec<HpaRuntime>,
    /// The Cluster Autoscaler, when the scenario enables it.
    cluster_autoscaler: Option<ClusterAutoscaler>,
    rng_autoscaler: SimRng,
    /// Each service's pod spec, by service index, as the Cluster Autoscaler reads them.
    pod_specs: Vec<PodSpec>,
    last_row: SimTime,
    /// Cluster events not yet handed to the observer.
    log: Vec<ClusterEvent>,
}

impl<'s> Simulation<'s> {
    /// Prepares a run of `scenario`; nothing happens until `run`.
    pub fn new(scenario: &'s Scenario) -> Simulation<'s> {
        let seed = scenario.seed;
        let end = SimTime::ZERO + scenario.duration;
        let services = scenario
            .services
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let name = &s.name;
                let cpu_cap = if s.pod.limits.cpu > Millicores::ZERO {
                    s.pod.limits.cpu
                } else {
                    Millicores(u64::MAX)
                };
                ServiceState {
                    limits: ServerLimits {
                        concurrency: s.server.concurrency,
                        queue_limit: s.server.queue_limit.unwrap_or(u32::MAX),
                        timeout: s.server.timeout,
                        cpu_per_worker: s.server.cpu_per_worker,
                        cpu_cap,
                    },
                    load: s.load.as_ref().map(|load| LoadState {
                        arrivals: ArrivalProcess::new(&load.arrivals),
                        service_time: ServiceTimeSampler::new(&load.cost, s.server.cpu_per_worker),
                    }),
                    balancer: Balancer::new(s.load_balancer),
                    image_pull: ServiceTimeSampler::from_duration(&s.startup.image_pull),
                    readiness: ServiceTimeSampler::from_duration(&s.startup.ready),
                    rng_arrivals: stream(seed, &format!("arrivals/{name}")),
                    rng_service: stream(seed, &format!("service-time/{name}")),
                    rng_balancer: stream(seed, &format!("balancer/{name}")),
                    rng_startup: stream(seed, &format!("startup/{name}")),
                    ready: Vec::new(),
                    active: Vec::new(),
                    terminating: Vec::new(),
                    desired: s.replicas,
                    next_serial: 0,
                    create_failures: 0,
                    sync_scheduled: false,
                    counts: Counts::default(),
                    latency: Latency::new(),
                    wait: Latency::new(),
                    interval: IntervalStats {
                        arrivals: 0,
                        rejected: 0,
                        timed_out: 0,
                        latency: Latency::new(),
                        cpu_area: 0,
                    },
                    ready_gauge: Gauge::new(SimTime::ZERO, 0),
                    pending_gauge: Gauge::new(SimTime::ZERO, 0),
                    cpu_requested_gauge: Gauge::new(SimTime::ZERO, 0),
                    cpu_used_area: 0,
                    in_flight_measured: 0,
                    scaling: ScalingStats::default(),
                    at_max_gauge: Gauge::new(SimTime::ZERO, 0),
                    hpa_metrics: scenario
                        .autoscaling
                        .hpa
                        .iter()
                        .filter(|h| h.service == index)
                        .flat_map(|h| h.metrics.iter().map(|_| f64::NAN))
                        .collect(),
                }
            })
            .collect();
        let pools = scenario
            .node_pools
            .iter()
            .map(|pool| PoolState {
                nodes_measured: Gauge::new(SimTime::ZERO, 0),
                nodes_total: Gauge::new(SimTime::ZERO, 0),
                nodes_ready: Gauge::new(SimTime::ZERO, 0),
                next_serial: 0,
                upcoming: Vec::new(),
                provisioning_delay: ServiceTimeSampler::from_duration(&pool.provisioning_delay),
                rng_provisioning: stream(seed, &format!("provisioning/{}", pool.name)),
                preemption_lifetime: pool.preemption_mean_lifetime.map(|mean| {
                    ServiceTimeSampler::from_duration(&DurationDist::Exponential { mean })
                }),
                rng_preemption: stream(seed, &format!("preemption/{}", pool.name)),
                preempted: 0,
                nodes_added: 0,
                nodes_removed: 0,
                cpu_requested: Gauge::new(SimTime::ZERO, 0),
                cpu_allocatable: Gauge::new(SimTime::ZERO, 0),
                memory_requested: Gauge::new(SimTime::ZERO, 0),
                memory_allocatable: Gauge::new(SimTime::ZERO, 0),
            })
            .collect();
        let namespaces = scenario
            .namespaces
            .iter()
            .map(|ns| NamespaceState {
                quota: scenario.quotas.iter().position(|q| &q.namespace == ns),
                ..NamespaceState::default()
            })
            .collect();
        let service_namespace = scenario
            .services
            .iter()
            .map(|s| {
                scenario
                    .namespaces
                    .iter()
                    .position(|ns| ns == &s.namespace)
                    .expect("validation lists every service namespace")
            })
            .collect();
        Simulation {
            scenario,
            clock: Clock::new(),
            end,
            warmup_end: SimTime::ZERO + scenario.warmup,
            arrival_horizon: SimTime(end.0.saturating_sub(1)),
            pods: PodTable::default(),
            nodes: Vec::new(),
            node_extras: Vec::new(),
            next_node_id: 0,
            pending: Vec::new(),
            workload_pods: Vec::new(),
            alerts: vec![AlertState::default(); scenario.monitoring.alerts.len()],
            services,
            pools,
            namespaces,
            service_namespace,
            scheduler: Scheduler::new(SchedulerConfig::default()),
            rng_scheduler: stream(seed, "scheduler"),
            hpas: scenario
                .autoscaling
                .hpa
                .iter()
                .map(|spec| HpaRuntime {
                    service: spec.service,
                    hpa: Hpa::new(spec.clone(), HpaTimings::default()),
                    sync_offset: match spec.sync_offset {
                        SyncOffset::Fixed(offset) => offset,
                        SyncOffset::Random => {
                            let name = &scenario.services[spec.service].name;
                            let mut rng = stream(seed, &format!("hpa-sync-offset/{name}"));
                            SimDuration(rng.random_range(0..spec.sync_period.0))
                        }
                    },
                    last_conditions: String::new(),
                })
                .collect(),
            cluster_autoscaler: scenario
                .autoscaling
                .cluster_autoscaler
                .as_ref()
                .map(|spec| ClusterAutoscaler::new(spec, &scenario.node_pools)),
            rng_autoscaler: stream(seed, "cluster-autoscaler"),
            pod_specs: scenario.services.iter().map(|s| s.pod.clone()).collect(),
            last_row: SimTime::ZERO,
            log: Vec::new(),
        }
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

    /// Simulates the whole scenario, handing rows and cluster events to `observer` as they
    /// happen, and returns the summary.
    pub fn run<O: Observer>(mut self, observer: &mut O) -> Outcome {
        self.start();
        self.flush_log(observer);
        while let Some(event) = self.clock.next_until(self.end) {
            match event {
                Event::Arrival { service } => self.on_arrival(usize::from(service)),
                Event::Completion { pod, arrived } => self.on_completion(pod, arrived),
                Event::PodReady { pod } => self.on_pod_ready(pod),
                Event::PodKilled { pod } => self.kill_pod(pod),
                Event::DeploymentSync { service } => self.sync_deployment(usize::from(service)),
                Event::WarmupEnd => self.on_warmup_end(),
                Event::MetricsSample => self.on_metrics_sample(),
                Event::NodeProvisioned { node } => self.on_node_provisioned(node),
                Event::HpaSync { hpa } => self.on_hpa_sync(usize::from(hpa)),
                Event::EvictionRetry { node } => self.evict_drained_pods(node),
                Event::NodePreempted { node } => self.on_node_preempted(node),
                Event::CaScan => self.on_ca_scan(),
                Event::Tick => self.on_tick(observer),
                #[cfg(test)]
                Event::SetReplicas { service, replicas } => {
                    self.services[usize::from(service)].desired = replicas;
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
    fn start(&mut self) {
        for (pool, spec) in self.scenario.node_pools.iter().enumerate() {
            for _ in 0..spec.initial_size {
                self.add_initial_node(pool);
            }
        }
        for service in 0..self.services.len() {
            self.sync_deployment_initial(service);
        }
        for (s, svc) in self.services.iter_mut().enumerate() {
            if let Some(load) = svc.load.as_mut()
                && let Some(t) = load
                    .arrivals
                    .next_after(&mut svc.rng_arrivals, self.arrival_horizon)
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

    fn node_index(&self, id: NodeId) -> Option<usize> {
        self.nodes.binary_search_by_key(&id, |n| n.id).ok()
    }

    fn pod_name(&self, service: usize, serial: u32) -> String {
        format!("{}-{serial}", self.scenario.services[service].name)
    }
}
